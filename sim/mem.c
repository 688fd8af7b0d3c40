/* mem.c - a guest's RAM as the host sees it: what is resident, what a
 * balloon gets back, what touching more memory costs.
 *
 * Measured on the testbed (docs/simulator.md, calibration): memory a
 * guest never touched is not resident and a balloon over it returns
 * nothing; memory it freed stays resident until a balloon takes it; the
 * guest's allocator and its balloon driver take free pages without
 * regard to whether the host has them, so both land on the resident
 * share of free memory in proportion to it; QEMU backs guest RAM with
 * transparent huge pages, so newly touched memory brings the untouched
 * rest of its huge pages with it (thp_fill). */
#include "sim.h"
#include "util.h"

/* what the guest keeps free beyond reserve and kernel: its OOM killer
 * fires, and its balloon stops inflating, when free memory falls to it */
static double
margin_kib(const struct sim_workload *w)
{
	return (double)MAX(0, w->guest_min_kib - w->guest_reserve_kib -
	    w->guest_kernel_kib);
}

double
sim_mem_free_kib(const struct sim_workload *w, const struct sim_mem *m)
{
	return m->actual_kib - (double)(w->guest_reserve_kib +
	    w->guest_kernel_kib) - m->ws_kib - m->cache_kib;
}

double
sim_mem_resident_kib(const struct sim_workload *w, const struct sim_mem *m)
{
	return (double)(w->guest_reserve_kib + w->guest_kernel_kib) +
	    m->ws_kib + m->cache_kib + m->idle_kib;
}

/* kib of idle memory goes (reused, or to the balloon), freed pages
 * first: its alike pages go with it */
static void
idle_take(struct sim_mem *m, double kib)
{
	double first = MIN(kib, m->freed_kib), rest = kib - first;
	double other = m->idle_kib - m->freed_kib;

	kib = MIN(kib, m->idle_kib);
	if (m->freed_kib > 0) {
		double a = m->freed_alike_kib * first / m->freed_kib;

		m->freed_alike_kib -= a;
		m->idle_alike_kib -= a;
	}
	if (rest > 0 && other > 0)
		m->idle_alike_kib -= MAX(0, m->idle_alike_kib -
		    m->freed_alike_kib) * MIN(1.0, rest / other);
	m->idle_kib = MAX(0, m->idle_kib - kib);
	m->freed_kib = MAX(0, m->freed_kib - first);
	m->idle_alike_kib = MAX(0, m->idle_alike_kib);
}

/* of kib taken from free memory, how much was resident: what the guest
 * freed last first, then at random */
static double
resident_share(const struct sim_mem *m, double free, double kib)
{
	double first = MIN(kib, m->freed_kib), rest = kib - first;
	double left = free - first;

	return first + (left > 0 ? rest * MIN(1.0, (m->idle_kib - first) /
	    left) : 0);
}

double
sim_mem_touch(const struct sim_workload *w, struct sim_mem *m, double kib,
    bool cache, int64_t dup_idle_pmy)
{
	double free = sim_mem_free_kib(w, m), reuse, fresh, extra, room;

	kib = MIN(kib, MAX(0, free));
	if (kib <= 0)
		return 0;
	/* the pages it freed last, then anywhere in free memory: the
	 * resident ones cost the host nothing, and the guest writes over
	 * what was there */
	reuse = MIN(kib, resident_share(m, free, kib));
	fresh = kib - reuse;
	idle_take(m, reuse);
	if (cache)
		m->cache_kib += kib;
	else
		m->ws_kib += kib;
	/* the huge pages around fresh pages come in whole: the rest of
	 * them is resident, free and zero, as far as untouched free memory
	 * goes */
	room = free - kib - m->idle_kib;
	extra = fresh * (double)w->thp_extra_pmy / 10000.0;
	extra = MAX(0, MIN(extra, room));
	m->idle_kib += extra;
	m->idle_alike_kib += extra * (double)dup_idle_pmy / 10000.0;
	return fresh + extra;
}

void
sim_mem_release(struct sim_mem *m, double kib, bool cache, double alike_pmy)
{
	double *from = cache ? &m->cache_kib : &m->ws_kib, part;

	kib = MIN(kib, *from);
	if (kib <= 0)
		return;
	/* a freed page stays resident on the host, with its content */
	part = kib * alike_pmy / 10000.0;
	*from -= kib;
	m->idle_kib += kib;
	m->freed_kib += kib;
	m->freed_alike_kib += part;
	m->idle_alike_kib += part;
	m->released_alike_kib += part;
}

/* Inflating takes free pages first, those the guest freed last first;
 * then page cache, which the guest drops for it; then,
 * in a guest with swap, its working set goes out to swap. A guest
 * without swap keeps its working set and margin: the balloon driver's
 * allocations fail and the balloon stops there. Deflating gives the
 * guest pages the host never backed. */
double
sim_mem_balloon(const struct sim_workload *w, struct sim_mem *m,
    double actual_kib)
{
	double y = m->actual_kib - actual_kib, free, t, back = 0;

	if (y <= 0) {
		m->actual_kib = actual_kib;
		return 0;
	}
	free = sim_mem_free_kib(w, m);
	t = MAX(0, MIN(y, free - margin_kib(w)));
	if (t > 0) {
		double r = MIN(m->idle_kib, resident_share(m, free, t));

		idle_take(m, r);
		back += r;
		m->actual_kib -= t;
		y -= t;
	}
	if (y > 0 && m->cache_kib > 0) {
		t = MIN(y, m->cache_kib);
		m->cache_kib -= t;
		m->actual_kib -= t;
		back += t;
		y -= t;
	}
	if (y > 0 && w->guest_swap) {
		/* the guest swaps its working set out to keep its margin
		 * free: those pages leave the host */
		t = MIN(y, m->ws_kib);
		m->ws_kib -= t;
		m->actual_kib -= t;
		back += t;
	}
	return back;
}
