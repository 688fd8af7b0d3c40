/* policy_vmem.c - which mechanism carries a guest's move: virtio-mem
 * blocks or the balloon.
 *
 * The rest of the policy decides one number per guest, the memory it
 * should have (target_kib), whatever the mechanism. For a guest with
 * virtio-mem devices this file turns that number into device requests
 * and a balloon call:
 *
 *   - a shrink unplugs whole blocks, from the device with the most
 *     plugged first; the balloon takes only what whole blocks cannot
 *     (a remainder of at least a block once the devices are empty);
 *   - a grow first deflates the balloon (its pages are the guest's
 *     already: nothing to plug), then plugs blocks, into the device with
 *     the most room first, rounded up to a block unless that would pass
 *     the ceiling.
 *
 * Unplugged memory is gone from the guest: no driver can ignore it or
 * lie about it, and the host gets it back in whole blocks (QEMU discards
 * them), where a 4 KiB balloon splits the host's huge pages.
 *
 * The balloon of such a guest works on its boot memory alone (measured
 * on QEMU 7.2 and libvirt 9.0, docs/policy.md): QEMU's balloon `actual`
 * leaves the plugged memory out, libvirt refuses a balloon target above
 * the boot memory, and libvirt's balloon.current, the guest's actual
 * here, is the balloon's actual plus what the devices hold (their
 * <current>, which follows the guest's (un)plugging once a second). So
 *     actual = boot - balloon pages + plugged,
 * and the balloon is sent its own size, boot - pages, not a total. A
 * guest whose devices cannot be driven is moved by that balloon alone,
 * its target translated the same way. Where the guest ends up,
 * target_kib, is counted from what the devices were asked (requested),
 * not from what they hold yet: a move still on its way is not asked
 * twice.
 *
 * No I/O, no clock: from (config, guest, plan) to plan.
 */
#include <stdio.h>
#include <string.h>

#include "policy_internal.h"
#include "util.h"


static int64_t
round_down(int64_t v, int64_t unit)
{
	return v / unit * unit;
}

static int64_t
round_up(int64_t v, int64_t unit)
{
	return (v + unit - 1) / unit * unit;
}

/* The guest's boot memory (what no device plugs): its max memory less
 * the devices' sizes; MT_ABSENT when the devices cannot be driven. */
int64_t
policy_vmem_boot_kib(const struct guest_snapshot *g)
{
	const struct guest_vmem *vm = &g->backing.vmem;
	int n = vm->count;

	if (n < 1 || n > MT_VMEM_MAX || !MT_PRESENT(g->max_kib) ||
	    !MT_PRESENT(vm->size_kib) || !MT_PRESENT(vm->requested_kib) ||
	    !MT_PRESENT(vm->current_kib) || g->max_kib <= vm->size_kib)
		return MT_ABSENT;
	for (int d = 0; d < n; d++) {
		const struct vmem_dev *dev = &vm->dev[d];

		/* the live XML names each device: libvirt finds it by its
		 * alias; a block is a power of two of at least 4 KiB */
		if (dev->alias[0] == '\0' || !MT_PRESENT(dev->block_kib) ||
		    dev->block_kib < 4 ||
		    (dev->block_kib & (dev->block_kib - 1)) != 0 ||
		    !MT_PRESENT(dev->size_kib) ||
		    !MT_PRESENT(dev->requested_kib) ||
		    !MT_PRESENT(dev->current_kib) ||
		    dev->requested_kib < 0 || dev->requested_kib > dev->size_kib)
			return MT_ABSENT;
	}
	return g->max_kib - vm->size_kib;
}

/* The device that gives (dir < 0: the most asked of it) or takes (dir >
 * 0: the most room) next, among those not used yet; -1 none. A host node
 * short of memory (short_nodes) is unplugged first and plugged last:
 * a shrink asks the devices on it, a grow the others. */
static int
vmem_pick(const struct guest_vmem *vm, const int64_t *req, int dir,
    const bool *used, uint64_t short_nodes)
{
	int best = -1, best_on = 0;
	int64_t best_v = 0;

	for (int d = 0; d < vm->count; d++) {
		int64_t v = dir < 0 ? req[d] : vm->dev[d].size_kib - req[d];
		/* 1: preferred by the nodes; 0: as any */
		int on = (vm->dev[d].host_nodes & short_nodes) != 0 ?
		    dir < 0 : dir > 0 && short_nodes != 0;

		if (used[d] || v < vm->dev[d].block_kib)
			continue;
		if (best >= 0 && on != best_on) {
			if (on < best_on)
				continue;
			best = d;
			best_v = v;
			best_on = on;
			continue;
		}
		if (best < 0 || v > best_v) {
			best = d;
			best_v = v;
			best_on = on;
		}
	}
	return best;
}

/* Unplug up to want_kib in whole blocks; returns what was unplugged. */
static int64_t
vmem_unplug(const struct guest_vmem *vm, int64_t *req, int64_t want_kib,
    uint64_t short_nodes)
{
	bool used[MT_VMEM_MAX] = { false };
	int64_t done = 0;
	int d;

	while ((d = vmem_pick(vm, req, -1, used, short_nodes)) >= 0) {
		int64_t u = MIN(round_down(want_kib - done,
		    vm->dev[d].block_kib), round_down(req[d],
		    vm->dev[d].block_kib));

		used[d] = true;
		req[d] -= u;
		done += u;
	}
	return done;
}

/* Plug want_kib, a block's rounding up included unless that passes
 * room_kib (what the ceiling leaves); returns what was plugged. */
static int64_t
vmem_plug(const struct guest_vmem *vm, int64_t *req, int64_t want_kib,
    int64_t room_kib, uint64_t short_nodes)
{
	bool used[MT_VMEM_MAX] = { false };
	int64_t done = 0;
	int d;

	while (done < want_kib &&
	    (d = vmem_pick(vm, req, 1, used, short_nodes)) >= 0) {
		int64_t blk = vm->dev[d].block_kib;
		int64_t free_kib = round_down(vm->dev[d].size_kib - req[d], blk);
		int64_t p = MIN(round_up(want_kib - done, blk), free_kib);

		if (done + p > room_kib)
			p = round_down(room_kib - done, blk);
		used[d] = true;
		if (p <= 0)
			continue;
		req[d] += p;
		done += p;
	}
	return done;
}

/* The reason's tail: what the move does beyond the balloon. */
static void
vmem_note(struct guest_plan *gp, const char *text)
{
	size_t len = strnlen(gp->reason, sizeof(gp->reason));

	if (len + 1 < sizeof(gp->reason))
		policy_reasonf(gp->reason + len, sizeof(gp->reason) - len,
		    "%s%s", len > 0 ? "; " : "", text);
}

static int64_t
vm_size(const struct guest_snapshot *g)
{
	return g->backing.vmem.size_kib;
}

/* A guest with devices memtuned does not drive: the balloon alone, its
 * target the total less what the devices hold; nothing when that is
 * unknown or leaves the balloon nothing. */
static void
vmem_balloon_only(const struct guest_snapshot *g, struct guest_plan *gp)
{
	int64_t plugged = g->backing.vmem.current_kib;

	gp->vmem = true;
	gp->vmem_moved_kib = 0;
	for (int d = 0; d < MT_VMEM_MAX; d++)
		gp->vmem_req_kib[d] = MT_ABSENT;
	int64_t boot = MT_PRESENT(g->max_kib) && MT_PRESENT(vm_size(g)) ?
	    g->max_kib - vm_size(g) : MT_ABSENT;

	if (MT_PRESENT(plugged) && MT_PRESENT(boot) && boot > 0 &&
	    gp->target_kib - plugged > 0) {
		gp->balloon_kib = MIN(gp->target_kib - plugged, boot);
		gp->target_kib = gp->balloon_kib + plugged;
		return;
	}
	gp->balloon_kib = MT_ABSENT;
	gp->target_kib = g->actual_kib;
	vmem_note(gp, "held: what its virtio-mem devices hold is unknown, "
	    "or more than the target");
}

bool
policy_vmem_route(const struct policy_config *c,
    const struct guest_snapshot *g, uint64_t short_nodes,
    struct guest_plan *gp)
{
	const struct guest_vmem *vm = &g->backing.vmem;
	int64_t boot = policy_vmem_boot_kib(g);
	int64_t req[MT_VMEM_MAX], asked = 0, plugged = 0;
	int64_t pages, from, move, bal = 0, dev_moved;

	if (vm->count < 1 || !MT_PRESENT(g->actual_kib) ||
	    !MT_PRESENT(gp->target_kib))
		return false;
	if (!c->manage_virtio_mem || !MT_PRESENT(boot)) {
		vmem_balloon_only(g, gp);
		return true;
	}
	for (int d = 0; d < vm->count; d++) {
		req[d] = vm->dev[d].requested_kib;
		asked += req[d];
		plugged += vm->dev[d].current_kib;
	}
	/* the balloon's pages now, and where the guest's memory goes with
	 * the devices' last requests met */
	pages = MAX(0, boot + plugged - g->actual_kib);
	from = boot + asked - pages;
	move = gp->target_kib - from;
	if (move < 0) {
		int64_t want = -move;
		int64_t u = vmem_unplug(vm, req, want, short_nodes);
		int64_t rest = want - u;

		/* devices empty, or blocks bigger than what is left: the
		 * balloon takes it when that is worth a change (a small
		 * block's rounding is not), as far as the boot memory
		 * goes */
		if (rest >= MAX(c->min_change_kib, 1))
			bal = -MIN(rest, MAX(0, boot - pages - 1));
		dev_moved = -u;
	} else {
		int64_t deflate = MIN(move, pages);
		int64_t room = MT_PRESENT(gp->ceiling_kib) ?
		    gp->ceiling_kib - from - deflate : move - deflate;

		bal = deflate;
		dev_moved = move > deflate ? vmem_plug(vm, req,
		    move - deflate, room, short_nodes) : 0;
	}
	gp->vmem = true;
	gp->vmem_moved_kib = dev_moved;
	gp->balloon_kib = bal != 0 ? boot - pages + bal : MT_ABSENT;
	for (int d = 0; d < MT_VMEM_MAX; d++)
		gp->vmem_req_kib[d] = d < vm->count &&
		    req[d] != vm->dev[d].requested_kib ? req[d] : MT_ABSENT;
	gp->target_kib = from + bal + dev_moved;
	if (dev_moved != 0) {
		char text[64];

		snprintf(text, sizeof(text), "virtio-mem %s %lld MiB",
		    dev_moved < 0 ? "unplugs" : "plugs",
		    MIB(dev_moved < 0 ? -dev_moved : dev_moved));
		vmem_note(gp, text);
	}
	return true;
}
