# memtuned - memory overcommit controller for KVM hosts
#
#   make            build memtuned and memtunectl (build/)
#   make check      unit tests under ASan+UBSan, then real-guest integration tests
#   make unit       unit tests only
#   make demo       the testbed with real guests, and memtuned running on it
#   make bench      benchmarks, results under docs/bench/
#   make man        man pages from docs/man/*.scd (build/man/)
#   make install    PREFIX=/usr/local DESTDIR=
#   make deb        the Debian package (build/deb/), checked by lintian

VERSION := 0.1.0
PREFIX ?= /usr/local
SBINDIR ?= $(PREFIX)/sbin
SYSCONFDIR ?= /etc
MANDIR ?= $(PREFIX)/share/man
# where bash-completion looks on demand (pkg-config bash-completion)
BASHCOMPDIR ?= $(PREFIX)/share/bash-completion/completions
# systemd's unit directory for packages; the unit's paths follow SBINDIR
UNITDIR ?= /lib/systemd/system
DESTDIR ?=

CC ?= cc
O ?= build
PKGS := libvirt libnl-3.0 libnl-genl-3.0 libcgroup inih libxml-2.0 json-c libsystemd

WARN := -Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
	-Wformat=2 -Wformat-truncation -Wnull-dereference -Wvla -Wundef
ifeq ($(CI),true)
WARN += -Werror
endif
ifeq ($(WERROR),1)
WARN += -Werror
endif

OPT ?= -O2 -g
ifeq ($(SAN),1)
OPT := -O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined \
	-fno-sanitize-recover=undefined
SANLD := -fsanitize=address,undefined
endif

PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS := $(shell pkg-config --libs $(PKGS) 2>/dev/null)

# CPPFLAGS, CFLAGS and LDFLAGS belong to the caller (dpkg-buildflags passes
# them in the environment, `make CFLAGS=...` on the command line, which
# replaces whatever this file would add to them). What the build needs
# lives in MT_* and always applies; the caller's flags come after it, so
# theirs win where both set the same thing (-O, -g).
# One folder per stage, lowest first (docs/architecture.md); each is on
# the include path so a header is named by its file name alone, and
# scripts/check-layout holds every include to the stage order.
STAGES := common sense policy act engine report daemon ctl
MT_CPPFLAGS := $(addprefix -Isrc/,$(STAGES)) -DMEMTUNED_VERSION='"$(VERSION)"' -D_GNU_SOURCE \
	-DSYSCONFDIR='"$(SYSCONFDIR)"'
MT_CFLAGS := -std=gnu11 $(OPT) $(WARN) $(PKG_CFLAGS) -MMD -MP
MT_LDFLAGS := $(SANLD)
LDLIBS += $(PKG_LIBS) -lm

# Hardening of the normal build (memtuned runs as root and parses what
# guests write): stack protector, PIE, full RELRO with BIND_NOW, and
# _FORTIFY_SOURCE. Not under SAN=1: ASan does not see through the
# __*_chk functions fortify substitutes, and checks more anyway.
# _FORTIFY_SOURCE needs optimisation (glibc warns, and checks nothing, at
# -O0) and is left to the caller when they set it (Debian passes =2,
# Ubuntu's compiler and Fedora =3; a second definition is a warning).
ifneq ($(SAN),1)
HARDEN_CFLAGS := -fstack-protector-strong -fPIE
HARDEN_LDFLAGS := -pie -Wl,-z,relro,-z,now
MT_OPTLEVEL := $(lastword $(filter -O%,$(OPT) $(CFLAGS)))
ifeq ($(filter -D_FORTIFY_SOURCE% -U_FORTIFY_SOURCE,$(CPPFLAGS) $(CFLAGS)),)
ifneq ($(filter-out -O0,$(MT_OPTLEVEL)),)
HARDEN_CPPFLAGS := -U_FORTIFY_SOURCE -D_FORTIFY_SOURCE=2
endif
endif
endif

ALL_CPPFLAGS = $(MT_CPPFLAGS) $(HARDEN_CPPFLAGS) $(CPPFLAGS)
ALL_CFLAGS = $(MT_CFLAGS) $(HARDEN_CFLAGS) $(CFLAGS)
ALL_LDFLAGS = $(MT_LDFLAGS) $(HARDEN_LDFLAGS) $(LDFLAGS)

MAINS := src/daemon/memtuned.c src/ctl/memtunectl.c
LIB_SRCS := $(filter-out $(MAINS),$(foreach s,$(STAGES),$(wildcard src/$(s)/*.c)))
LIB_OBJS := $(LIB_SRCS:%.c=$(O)/%.o)
LIB := $(O)/libmemtuned.a

UNIT_SRCS := $(wildcard tests/unit/test_*.c)
UNIT_OBJS := $(UNIT_SRCS:%.c=$(O)/%.o) $(O)/tests/unit/run.o
# one suite per module, and a second one where a module's long runs are
# better side by side: every "Suite *NAME_suite(void)" a test file defines
UNIT_SUITES := $(sort $(shell sed -n 's/^\([a-z0-9_]*\)_suite(void)$$/\1/p' $(UNIT_SRCS)))

BINS := $(O)/memtuned $(O)/memtunectl

.PHONY: all check unit integration demo bench install uninstall clean deps \
	testbed-up testbed-down fuzz sim long man deb
all: $(BINS)

$(O)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CPPFLAGS) $(ALL_CFLAGS) -c -o $@ $<

$(LIB): $(LIB_OBJS)
	@rm -f $@
	$(AR) rcs $@ $^

$(O)/memtuned: $(O)/src/daemon/memtuned.o $(LIB)
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(LDLIBS)

$(O)/memtunectl: $(O)/src/ctl/memtunectl.o $(LIB)
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(LDLIBS)

# The unit runner calls the Check suites the test files define:
# tests/unit/test_foo.c defines "Suite *foo_suite(void)" (and may define
# more, each on a line of its own as the house style puts it).
$(O)/tests/unit/suites.h: $(UNIT_SRCS) Makefile
	@mkdir -p $(dir $@)
	@printf '%s\n' $(foreach s,$(UNIT_SUITES),'SUITE($(s))') > $@.tmp
	@if ! cmp -s $@.tmp $@; then mv $@.tmp $@; else rm -f $@.tmp; fi

$(O)/tests/unit/run.o: tests/unit/run.c $(O)/tests/unit/suites.h
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CPPFLAGS) -I$(O)/tests/unit $(ALL_CFLAGS) -c -o $@ $<

$(O)/unit-tests: $(UNIT_OBJS) $(LIB)
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(LDLIBS) $(shell pkg-config --libs check)

# The guest load generator runs as PID 1 in the guest initramfs: static.
$(O)/guest/loadgen: tests/guest/loadgen.c
	@mkdir -p $(dir $@)
	$(CC) -std=gnu11 -O2 -Wall -Wextra -static -o $@ $<

# Integration tests link the library too (real libvirt, real guests).
INTEG_SRCS := $(wildcard tests/integration/*.c)
INTEG_BINS := $(INTEG_SRCS:tests/integration/%.c=$(O)/integration/%)
$(O)/integration/%: tests/integration/%.c $(LIB)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CPPFLAGS) $(ALL_CFLAGS) $(ALL_LDFLAGS) -o $@ $< $(LIB) $(LDLIBS)

# The simulator runs the library's policy over modelled hosts (make bench).
SIM_SRCS := $(wildcard sim/*.c)
$(O)/memtuned-sim: $(SIM_SRCS) sim/sim.h $(LIB)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CPPFLAGS) -Isim $(ALL_CFLAGS) $(ALL_LDFLAGS) -o $@ $(SIM_SRCS) $(LIB) $(LDLIBS)

sim: $(O)/memtuned-sim

# Fuzzing: libFuzzer targets (tests/fuzz/fuzz_*.c) built with clang against
# the library compiled again with clang into build/fuzz/, so the parsers
# carry the fuzzer's coverage hooks and ASan+UBSan. scripts/fuzz-smoke runs
# them; tests/long/long_run.c is the 10,000-tick soak (make long, or
# SAN=1 O=build/asan build/asan/long_run).
FUZZ_CC ?= clang
FUZZ_O := build/fuzz
FUZZ_SAN := -fsanitize=address,undefined -fno-sanitize-recover=undefined
FUZZ_CFLAGS := -std=gnu11 -O1 -g -fno-omit-frame-pointer $(FUZZ_SAN) \
	$(filter-out -Wformat-truncation,$(WARN)) -Wno-format-nonliteral \
	$(PKG_CFLAGS) -MMD -MP
FUZZ_SRCS := $(wildcard tests/fuzz/fuzz_*.c)
FUZZ_BINS := $(FUZZ_SRCS:tests/fuzz/%.c=$(FUZZ_O)/%)
FUZZ_LIB_OBJS := $(LIB_SRCS:%.c=$(FUZZ_O)/%.o)

$(FUZZ_O)/src/%.o: src/%.c
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(MT_CPPFLAGS) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link -c -o $@ $<

$(FUZZ_O)/libmemtuned.a: $(FUZZ_LIB_OBJS)
	@rm -f $@
	$(AR) rcs $@ $^

$(FUZZ_O)/fuzz_%: tests/fuzz/fuzz_%.c $(FUZZ_O)/libmemtuned.a
	$(FUZZ_CC) $(MT_CPPFLAGS) $(FUZZ_CFLAGS) -fsanitize=fuzzer -o $@ $< \
		$(FUZZ_O)/libmemtuned.a $(PKG_LIBS) -lm

fuzz: $(FUZZ_BINS)

$(O)/long_run: tests/long/long_run.c $(LIB)
	$(CC) $(ALL_CPPFLAGS) $(ALL_CFLAGS) $(ALL_LDFLAGS) -o $@ $< $(LIB) $(LDLIBS)

long: $(O)/long_run

deps:
	@scripts/deps.sh

unit: deps
	@$(MAKE) --no-print-directory SAN=1 O=build/asan build/asan/unit-tests
	build/asan/unit-tests

# Targets that need the libraries install them first, then build in a
# fresh make so pkg-config sees them.
integration: deps
	@$(MAKE) --no-print-directory all $(O)/guest/loadgen $(INTEG_BINS)
	scripts/run-integration $(O)

# check builds on every CPU (the two builds and the tests' own are
# independent); the tests themselves run one real-guest scenario at a time
JOBS := $(shell nproc 2>/dev/null || echo 1)
check: deps
	@$(MAKE) --no-print-directory -j$(JOBS) all $(O)/guest/loadgen \
		$(INTEG_BINS) $(O)/memtuned-sim
	@$(MAKE) --no-print-directory -j$(JOBS) SAN=1 O=build/asan \
		build/asan/unit-tests build/asan/memtuned build/asan/memtunectl
	@scripts/run-checks

demo: deps
	@$(MAKE) --no-print-directory all $(O)/guest/loadgen $(INTEG_BINS)
	scripts/demo $(O)

bench: deps
	@$(MAKE) --no-print-directory all
	scripts/bench $(O)

# Man pages: scdoc sources in docs/man/NAME.SECTION.scd. Not part of all:
# without scdoc they are skipped with a message.
MAN_SRCS := $(wildcard docs/man/*.scd)
MAN_PAGES := $(MAN_SRCS:docs/man/%.scd=$(O)/man/%)

$(O)/man/%: docs/man/%.scd
	@mkdir -p $(dir $@)
	scdoc < $< > $@.tmp && mv $@.tmp $@

man:
	@if command -v scdoc >/dev/null 2>&1; then \
		$(MAKE) --no-print-directory $(MAN_PAGES); \
	else echo "scdoc not found: man pages skipped (apt-get install scdoc)"; fi

install: all man
	install -d $(DESTDIR)$(SBINDIR) $(DESTDIR)$(SYSCONFDIR)/memtuned
	install -m 0755 $(O)/memtuned $(O)/memtunectl $(DESTDIR)$(SBINDIR)/
	install -m 0644 conf/memtuned.conf $(DESTDIR)$(SYSCONFDIR)/memtuned/memtuned.conf.example
	install -d $(DESTDIR)$(UNITDIR)
	sed 's|/usr/local/sbin/|$(SBINDIR)/|g' conf/memtuned.service \
		>$(DESTDIR)$(UNITDIR)/memtuned.service
	chmod 0644 $(DESTDIR)$(UNITDIR)/memtuned.service
	install -d $(DESTDIR)$(BASHCOMPDIR)
	install -m 0644 contrib/bash-completion/memtunectl $(DESTDIR)$(BASHCOMPDIR)/memtunectl
	@if ls $(O)/man/*.[0-9] >/dev/null 2>&1; then \
		for m in $(O)/man/*.[0-9]; do s=$${m##*.}; \
		install -d $(DESTDIR)$(MANDIR)/man$$s; \
		install -m 0644 $$m $(DESTDIR)$(MANDIR)/man$$s/; done; fi

# The Debian package, built by dpkg-buildpackage in a copy of the tree
# under build/deb/ (scripts/build-deb), so debian/'s leftovers and
# dh_auto_clean stay out of this one. make check builds and checks it too
# (scripts/check-deb, lintian included).
deb: deps
	@deb=$$(scripts/build-deb build/deb | tail -n 1) && \
	echo "$$deb" && lintian --fail-on error "$$deb"

uninstall:
	rm -f $(DESTDIR)$(SBINDIR)/memtuned $(DESTDIR)$(SBINDIR)/memtunectl
	rm -f $(DESTDIR)$(UNITDIR)/memtuned.service
	rm -f $(DESTDIR)$(BASHCOMPDIR)/memtunectl
	rm -f $(DESTDIR)$(MANDIR)/man8/memtuned.8 $(DESTDIR)$(MANDIR)/man8/memtunectl.8 \
		$(DESTDIR)$(MANDIR)/man5/memtuned.conf.5

clean:
	rm -rf build

# header dependencies of every build tree, the one named by O= too (a
# build outside build/ would otherwise keep objects of an old header)
-include $(shell find $(sort build $(O)) -name '*.d' 2>/dev/null)
