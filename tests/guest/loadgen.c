/* loadgen - the memory load of a testbed guest.
 *
 * Runs inside the guest's initramfs (static, no libc beyond what the static
 * link brings). It allocates and touches memory following a schedule given
 * on the kernel command line, keeps part of what it holds hot (touched again
 * every second) and the rest idle, accepts the same commands on the serial
 * console at run time, and reports once a second on the console what the
 * guest has and holds, and whether an allocation failed or the OOM killer
 * struck.
 *
 * Schedule (kernel command line):
 *   mt.load=STEP[,STEP...]   STEP is TIME:OP:SIZE[:ARG]
 *     10s:alloc:300M:25      at 10 s allocate 300 MiB, 25 % of it hot
 *     40s:free:300M          at 40 s free 300 MiB (newest first)
 *     20s:ramp:400M:30s      from 20 s grow by 400 MiB over 30 s
 *   mt.fill=same|unique|half page contents: identical across guests (KSM
 *                            can merge them), unique to this guest, or
 *                            every other MiB of each (half can merge)
 *   mt.report=N              report every N seconds (default 1)
 * Console commands: "alloc 300M 25", "free 300M", "ramp 400M 30", "status".
 *
 * Report line (one per period, parsed by the tests):
 *   MTR t=12 total=524288 avail=300000 free=250000 held=307200 hot=76800
 *       allocfail=0 oom=0 worker=123
 * All sizes in KiB. "oom" counts worker deaths by SIGKILL plus the kernel's
 * oom_kill counter; the supervisor restarts the worker, holding nothing.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define CHUNK_KIB 1024L			/* allocation unit: 1 MiB */
#define MAX_CHUNKS (64L * 1024)		/* 64 GiB: more than any test guest */
#define MAX_STEPS 64

enum op { OP_ALLOC, OP_FREE, OP_RAMP };

struct step {
	long at_s;
	enum op op;
	long kib;
	long arg;			/* hot percent, or ramp seconds */
	int done;
};

struct chunk {
	unsigned char *p;
	int hot;
};

static struct step steps[MAX_STEPS];
static int nr_steps;
static struct chunk chunks[MAX_CHUNKS];
static long nr_chunks;
static int fill_unique;		/* 1: all unique, 2: odd chunks unique */
static long report_s = 1;
static long alloc_failures;
static long page_size;

/* an active ramp: grow by ramp_kib over ramp_s starting at ramp_start */
static long ramp_left_kib, ramp_rate_kib_s;

static long
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec;
}

static long
parse_size_kib(const char *s)
{
	char *end;
	long v = strtol(s, &end, 10);

	switch (toupper((unsigned char)*end)) {
	case 'G':
		return v * 1024 * 1024;
	case 'M':
		return v * 1024;
	case 'K':
		return v;
	case '\0':
	default:
		return v * 1024;	/* bare numbers are MiB */
	}
}

static long
parse_seconds(const char *s)
{
	return strtol(s, NULL, 10);
}

static int
parse_step(char *s, struct step *st)
{
	char *f[4] = { 0 };
	int n = 0;
	char *save = NULL, *tok;

	for (tok = strtok_r(s, ":", &save); tok && n < 4;
	    tok = strtok_r(NULL, ":", &save))
		f[n++] = tok;
	if (n < 3)
		return -1;
	st->at_s = parse_seconds(f[0]);
	if (strcmp(f[1], "alloc") == 0) {
		st->op = OP_ALLOC;
		st->arg = n > 3 ? strtol(f[3], NULL, 10) : 0;
	} else if (strcmp(f[1], "free") == 0) {
		st->op = OP_FREE;
	} else if (strcmp(f[1], "ramp") == 0) {
		st->op = OP_RAMP;
		st->arg = n > 3 ? parse_seconds(f[3]) : 10;
	} else {
		return -1;
	}
	st->kib = parse_size_kib(f[2]);
	return 0;
}

static void
parse_cmdline(void)
{
	/* the kernel command line is at most a few KiB */
	char buf[4096], *save = NULL, *tok;
	ssize_t n;
	int fd = open("/proc/cmdline", O_RDONLY);

	if (fd < 0)
		return;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return;
	buf[n] = '\0';
	for (tok = strtok_r(buf, " \n", &save); tok;
	    tok = strtok_r(NULL, " \n", &save)) {
		if (strncmp(tok, "mt.load=", 8) == 0) {
			char *s2 = NULL, *st;

			for (st = strtok_r(tok + 8, ",", &s2); st && nr_steps < MAX_STEPS;
			    st = strtok_r(NULL, ",", &s2)) {
				if (parse_step(st, &steps[nr_steps]) == 0)
					nr_steps++;
				else
					printf("MTE bad step '%s'\n", st);
			}
		} else if (strcmp(tok, "mt.fill=unique") == 0) {
			fill_unique = 1;
		} else if (strcmp(tok, "mt.fill=half") == 0) {
			fill_unique = 2;
		} else if (strncmp(tok, "mt.report=", 10) == 0) {
			report_s = strtol(tok + 10, NULL, 10);
			if (report_s < 1)
				report_s = 1;
		}
	}
}

static void
fill_chunk(unsigned char *p, long idx)
{
	/* identical guests get identical pages (KSM can merge them); unique
	 * guests mix in their pid and time so nothing merges */
	uint64_t seed = (uint64_t)idx * 0x9E3779B97F4A7C15ULL;

	if (fill_unique == 1 || (fill_unique == 2 && idx % 2 == 1))
		seed ^= ((uint64_t)getpid() << 32) ^ (uint64_t)time(NULL) ^
		    (uint64_t)(uintptr_t)p;
	for (long off = 0; off < CHUNK_KIB * 1024; off += page_size) {
		uint64_t *w = (uint64_t *)(void *)(p + off);

		seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
		/* a few distinct words per page are enough to make it unique
		 * (or equal) as a whole; the rest stays as written */
		w[0] = seed;
		w[1] = seed ^ (uint64_t)off;
		w[page_size / 16] = ~seed;
	}
}

static void
alloc_kib(long kib, long hot_pct)
{
	long want = (kib + CHUNK_KIB - 1) / CHUNK_KIB;

	for (long i = 0; i < want; i++) {
		unsigned char *p;

		if (nr_chunks >= MAX_CHUNKS) {
			alloc_failures++;
			printf("MTE alloc failed: chunk table full\n");
			return;
		}
		p = mmap(NULL, CHUNK_KIB * 1024, PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (p == MAP_FAILED) {
			alloc_failures++;
			printf("MTE alloc failed after %ld of %ld MiB: %s\n", i,
			    want, strerror(errno));
			return;
		}
		fill_chunk(p, nr_chunks);
		chunks[nr_chunks].p = p;
		/* spread hot chunks evenly: chunk i is hot when its share of
		 * the run crosses a whole percent step */
		chunks[nr_chunks].hot = hot_pct > 0 &&
		    ((i * hot_pct) / 100 != ((i + 1) * hot_pct) / 100);
		nr_chunks++;
	}
}

static void
free_kib(long kib)
{
	long n = (kib + CHUNK_KIB - 1) / CHUNK_KIB;

	while (n-- > 0 && nr_chunks > 0) {
		nr_chunks--;
		munmap(chunks[nr_chunks].p, CHUNK_KIB * 1024);
		chunks[nr_chunks].p = NULL;
	}
}

static void
touch_hot(void)
{
	for (long i = 0; i < nr_chunks; i++) {
		if (!chunks[i].hot)
			continue;
		for (long off = 0; off < CHUNK_KIB * 1024; off += page_size)
			chunks[i].p[off + 8 + (off / page_size) % 8]++;
	}
}

static long
held_kib(int hot_only)
{
	long n = 0;

	for (long i = 0; i < nr_chunks; i++)
		if (!hot_only || chunks[i].hot)
			n++;
	return n * CHUNK_KIB;
}

static long
meminfo_kib(const char *key)
{
	/* /proc/meminfo is about 1.5 KiB */
	char buf[8192], *p;
	size_t klen = strlen(key);
	ssize_t n;
	int fd = open("/proc/meminfo", O_RDONLY);

	if (fd < 0)
		return -1;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return -1;
	buf[n] = '\0';
	for (p = buf; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL)
		if (strncmp(p, key, klen) == 0 && p[klen] == ':')
			return strtol(p + klen + 1, NULL, 10);
	return -1;
}

static long
vmstat_value(const char *key)
{
	/* /proc/vmstat is a few KiB */
	static char buf[16384];
	size_t klen = strlen(key);
	ssize_t n;
	char *p;
	int fd = open("/proc/vmstat", O_RDONLY);

	if (fd < 0)
		return 0;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return 0;
	buf[n] = '\0';
	for (p = buf; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL)
		if (strncmp(p, key, klen) == 0 && p[klen] == ' ')
			return strtol(p + klen + 1, NULL, 10);
	return 0;
}

static void
run_command(char *line)
{
	char op[16];
	char size[32];
	long arg = 0;
	int n = sscanf(line, "%15s %31s %ld", op, size, &arg);

	if (n < 1)
		return;
	if (strcmp(op, "status") == 0) {
		printf("MTS held=%ld hot=%ld allocfail=%ld\n", held_kib(0),
		    held_kib(1), alloc_failures);
		return;
	}
	if (n < 2) {
		printf("MTE bad command '%s'\n", line);
		return;
	}
	if (strcmp(op, "alloc") == 0) {
		alloc_kib(parse_size_kib(size), arg);
	} else if (strcmp(op, "free") == 0) {
		free_kib(parse_size_kib(size));
	} else if (strcmp(op, "ramp") == 0) {
		long secs = arg > 0 ? arg : 10;

		ramp_left_kib += parse_size_kib(size);
		ramp_rate_kib_s = ramp_left_kib / secs;
	} else {
		printf("MTE bad command '%s'\n", line);
		return;
	}
	printf("MTC ok %s\n", line);
}

/* The worker holds the memory; the supervisor (pid 1) watches it so an OOM
 * kill is seen and reported instead of panicking the guest. Reports go
 * through the report pipe so the supervisor can add its own counters. */
static void
worker(long start_s, int cmd_fd)
{
	char cmdbuf[256];
	size_t cmdlen = 0;
	long last_report = -1;

	for (;;) {
		long t = now_s() - start_s;
		struct pollfd pfd = { .fd = cmd_fd, .events = POLLIN };

		for (int i = 0; i < nr_steps; i++) {
			struct step *st = &steps[i];

			if (st->done || t < st->at_s)
				continue;
			st->done = 1;
			switch (st->op) {
			case OP_ALLOC:
				alloc_kib(st->kib, st->arg);
				break;
			case OP_FREE:
				free_kib(st->kib);
				break;
			case OP_RAMP:
				ramp_left_kib += st->kib;
				ramp_rate_kib_s = ramp_left_kib /
				    (st->arg > 0 ? st->arg : 1);
				break;
			}
		}
		if (ramp_left_kib > 0) {
			long step = ramp_rate_kib_s < ramp_left_kib ?
			    ramp_rate_kib_s : ramp_left_kib;

			if (step < CHUNK_KIB)
				step = CHUNK_KIB;

			alloc_kib(step, 25);
			ramp_left_kib -= step;
		}
		touch_hot();
		if (t / report_s != last_report) {
			last_report = t / report_s;
			printf("MTR t=%ld total=%ld avail=%ld free=%ld held=%ld "
			    "hot=%ld allocfail=%ld oom=%ld worker=%d\n", t,
			    meminfo_kib("MemTotal"), meminfo_kib("MemAvailable"),
			    meminfo_kib("MemFree"), held_kib(0), held_kib(1),
			    alloc_failures, vmstat_value("oom_kill"),
			    (int)getpid());
			fflush(stdout);
		}
		if (poll(&pfd, 1, 1000) > 0 && (pfd.revents & POLLIN)) {
			ssize_t n = read(cmd_fd, cmdbuf + cmdlen,
			    sizeof(cmdbuf) - 1 - cmdlen);

			if (n > 0) {
				char *nl;

				cmdlen += (size_t)n;
				cmdbuf[cmdlen] = '\0';
				while ((nl = strpbrk(cmdbuf, "\r\n")) != NULL) {
					*nl = '\0';
					run_command(cmdbuf);
					memmove(cmdbuf, nl + 1,
					    cmdlen - (size_t)(nl + 1 - cmdbuf) + 1);
					cmdlen = strlen(cmdbuf);
				}
				if (cmdlen == sizeof(cmdbuf) - 1)
					cmdlen = 0;	/* garbage line */
			}
			fflush(stdout);
		}
	}
}

int
main(void)
{
	long start_s = now_s();
	int cmd_fd;

	page_size = sysconf(_SC_PAGESIZE);
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (getpid() == 1) {
		/* run as init: the initramfs script normally mounts these */
		mount("proc", "/proc", "proc", 0, NULL);
		mount("sysfs", "/sys", "sysfs", 0, NULL);
	}
	parse_cmdline();
	cmd_fd = open("/dev/console", O_RDONLY | O_NONBLOCK);
	if (cmd_fd < 0)
		cmd_fd = STDIN_FILENO;
	printf("MTI loadgen ready steps=%d fill=%s report=%lds\n", nr_steps,
	    fill_unique == 2 ? "half" :
	    fill_unique ? "unique" : "same", report_s);

	for (;;) {
		pid_t pid = fork();
		int status;

		if (pid == 0) {
			/* the kernel should pick the worker, never pid 1 */
			int fd = open("/proc/self/oom_score_adj", O_WRONLY);

			if (fd >= 0) {
				if (write(fd, "500", 3) < 0)
					perror("oom_score_adj");
				close(fd);
			}
			worker(start_s, cmd_fd);
			_exit(0);
		}
		if (pid < 0) {
			printf("MTE fork failed: %s\n", strerror(errno));
			sleep(1);
			continue;
		}
		while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
			;
		if (WIFSIGNALED(status))
			printf("MTK worker killed by signal %d (oom_kill=%ld)\n",
			    WTERMSIG(status), vmstat_value("oom_kill"));
		else
			printf("MTK worker exited %d\n", WEXITSTATUS(status));
		/* steps already due ran in the dead worker: the restarted
		 * worker starts empty and runs only the steps still ahead */
		for (int i = 0; i < nr_steps; i++)
			if (steps[i].at_s <= now_s() - start_s)
				steps[i].done = 1;
		nr_chunks = 0;
		sleep(1);
	}
}
