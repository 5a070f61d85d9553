/*
 * Deterministic driver for the perf gate (ci/perfgate): the machine-
 * independent part of the hypercall path (hypercall_dispatch and a handler)
 * on the hosted build, against a real domain made by the domain builder, so
 * that a change that makes a common hypercall cost more instructions fails
 * CI. Each operation runs CALLS times in its own NOINLINE op_<name>
 * function; one manifest line per operation: "op <name> <calls> 1".
 *
 * The architecture's entry and exit (SYSCALL, swapgs, the register frame,
 * IRETQ) are not counted here: callgrind cannot run them. They are timed by
 * the benchmark guest instead (./vireo bench).
 */
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>

#include <arch/hosted.h>
#include <core/domain.h>
#include <core/hypercall.h>
#include <mm/frame_table.h>
#include <mm/frame_alloc.h>
#include <mm/memmap.h>
#include <public/event_channel.h>
#include <public/sched.h>
#include <public/version.h>
#include <public/xen.h>

#define CALLS 4096
#define KERNEL_PATH "out/guests/hello.elf"

static jmp_buf back;
static uint64_t scratch_va;

static void on_enter(const struct guest_entry *e) { longjmp(back, 1); }

static inline long hc(uint64_t nr, uint64_t a0, uint64_t a1)
{
	struct hypercall_args a = { { a0, a1, 0, 0, 0, 0 } };
	return hypercall_dispatch(nr, &a);
}

static NOINLINE void op_hypercall_xen_version(void)
{
	(void)hc(__HYPERVISOR_xen_version, XENVER_version, 0);
}

static NOINLINE void op_hypercall_sched_yield(void)
{
	(void)hc(__HYPERVISOR_sched_op, SCHEDOP_yield, 0);
}

static NOINLINE void op_hypercall_unknown(void)
{
	(void)hc(60, 0, 0);
}

static NOINLINE void op_hypercall_copy_16(void)
{
	/* extraversion: a 16-byte copy to the guest through its page tables */
	(void)hc(__HYPERVISOR_xen_version, XENVER_extraversion, scratch_va);
}

/*
 * The MMU batch path: an L1 entry moved between two frames (writable), so
 * every entry takes and drops references; lists of 64 in guest memory.
 */
static uint64_t mmu_list[2];
static unsigned mmu_k;

static NOINLINE void op_mmu_update_1(void)
{
	struct hypercall_args a = { { mmu_list[mmu_k ^= 1], 1, 0, DOMID_SELF, 0, 0 } };
	(void)hypercall_dispatch(__HYPERVISOR_mmu_update, &a);
}

static NOINLINE void op_mmu_update_64(void)
{
	struct hypercall_args a = { { mmu_list[mmu_k ^= 1], 64, 0, DOMID_SELF, 0, 0 } };
	(void)hypercall_dispatch(__HYPERVISOR_mmu_update, &a);
}

static uint64_t mc_list[2];

static NOINLINE void op_multicall_uvm_16(void)
{
	struct hypercall_args a = { { mc_list[mmu_k ^= 1], 16, 0, 0, 0, 0 } };
	(void)hypercall_dispatch(__HYPERVISOR_multicall, &a);
}

/*
 * Event send (core/event.c): domain 0 notifies domain 1 over an
 * interdomain channel; the peer's pending state is cleared first each time
 * (three stores), so every call takes the whole path: pending bit,
 * selector, upcall flag and the kick.
 */
static uint64_t evt_arg;
static struct shared_info *evt_peer_sh;
static uint32_t evt_peer_port;

static NOINLINE void op_evtchn_send(void)
{
	evt_peer_sh->evtchn_pending[evt_peer_port / 64] = 0;
	evt_peer_sh->vcpu_info[0].evtchn_pending_sel = 0;
	evt_peer_sh->vcpu_info[0].evtchn_upcall_pending = 0;
	(void)hc(__HYPERVISOR_event_channel_op, EVTCHNOP_send, evt_arg);
}

static int evt_setup(struct domain *d0, struct domain *d1)
{
	struct evtchn_alloc_unbound au = { .dom = DOMID_SELF, .remote_dom = 1 };
	uint64_t va = d0->layout.vstack_end + 0x8000, va1 = d1->layout.vstack_end;
	if (copy_to_guest(va, &au, sizeof(au)) || hc(__HYPERVISOR_event_channel_op, EVTCHNOP_alloc_unbound, va) ||
	    copy_from_guest(&au, va, sizeof(au)))
		return -1;
	struct evtchn_bind_interdomain bi = { .remote_dom = 0, .remote_port = au.port };
	hosted_switch_to(d1);
	if (copy_to_guest(va1, &bi, sizeof(bi)) || hc(__HYPERVISOR_event_channel_op, EVTCHNOP_bind_interdomain, va1) ||
	    copy_from_guest(&bi, va1, sizeof(bi)))
		return -1;
	hosted_switch_to(d0);
	struct evtchn_send snd = { au.port };
	evt_arg = va + 0x100;
	evt_peer_sh = mfn_to_virt(d1->shared_info_mfn);
	evt_peer_port = bi.local_port;
	evt_peer_sh->vcpu_info[0].evtchn_upcall_mask = 0;
	hosted_place(d1, 1);                       /* the peer "runs" on CPU 1: each send kicks it */
	return copy_to_guest(evt_arg, &snd, sizeof(snd)) ? -1 : 0;
}

static int mmu_setup(struct domain *d)
{
	static struct mmu_update r[64];
	static struct multicall_entry mc[16];
	uint64_t first_spare = (d->layout.v_end - d->layout.v_start) >> PAGE_SHIFT;
	mfn_t l1 = d->p2m[first_spare], x = d->p2m[first_spare + 1], y = d->p2m[first_spare + 2];
	struct mmuext_op op[2] = { { .cmd = MMUEXT_CLEAR_PAGE }, { .cmd = MMUEXT_PIN_L1_TABLE } };
	op[0].arg1.mfn = op[1].arg1.mfn = l1;
	uint64_t va = d->layout.vstack_end;
	if (copy_to_guest(va, op, sizeof(op)))
		return -1;
	struct hypercall_args a = { { va, 2, 0, DOMID_SELF, 0, 0 } };
	if (hypercall_dispatch(__HYPERVISOR_mmuext_op, &a) != 0)
		return -1;
	for (int k = 0; k < 2; k++) {
		for (int i = 0; i < 64; i++)
			r[i] = (struct mmu_update){ ((uint64_t)l1 << PAGE_SHIFT) + i * 8,
						    ((uint64_t)(k ? y : x) << PAGE_SHIFT) | 3 };
		mmu_list[k] = va + 0x1000 + k * 0x1000;
		if (copy_to_guest(mmu_list[k], r, sizeof(r)))
			return -1;
		for (int i = 0; i < 16; i++)
			mc[i] = (struct multicall_entry){ .op = __HYPERVISOR_update_va_mapping, .args = {
				va + 0x40000 + i * PAGE_SIZE, ((uint64_t)(k ? y : x) << PAGE_SHIFT) | 3, 0 } };
		mc_list[k] = va + 0x4000 + k * 0x1000;
		if (copy_to_guest(mc_list[k], mc, sizeof(mc)))
			return -1;
	}
	return 0;
}

static void run_items(const char *name, void (*op)(void), int items)
{
	for (int i = 0; i < CALLS; i++)
		op();
	printf("op %s %d %d\n", name, CALLS, items);
}

static void run(const char *name, void (*op)(void))
{
	run_items(name, op, 1);
}

int main(void)
{
	static uint8_t kernel[1 << 20];
	struct memmap m;
	FILE *f = fopen(KERNEL_PATH, "rb");
	if (!f) {
		fprintf(stderr, "perf-hypercall: %s missing (run ninja from the repository root)\n", KERNEL_PATH);
		return 1;
	}
	size_t len = fread(kernel, 1, sizeof(kernel), f);
	fclose(f);
	if (hosted_machine_init(32u << 20, 2) != 0)
		return 1;
	memmap_init(&m);
	memmap_add(&m, 1u << 20, 32u << 20);
	if (frame_alloc_init(&m) != 0 || frame_table_init(machine_nr_frames()) != 0)
		return 1;
	hosted_set_guest_hooks(on_enter, NULL);
	if (domain_build(0, "perf", kernel, len, NULL, 0, "", 8u << 20, true, 1) != 0 ||
	    domain_build(1, "peer", kernel, len, NULL, 0, "", 4u << 20, false, 1) != 0)
		return 1;
	if (setjmp(back) == 0)
		domains_run(0);                           /* back here through on_enter */
	scratch_va = domain_by_id(0)->layout.vstack_start;

	run("hypercall_xen_version", op_hypercall_xen_version);
	run("hypercall_sched_yield", op_hypercall_sched_yield);
	run("hypercall_unknown", op_hypercall_unknown);
	run("hypercall_copy_16", op_hypercall_copy_16);
	if (mmu_setup(domain_by_id(0)) != 0) {
		fprintf(stderr, "perf-hypercall: MMU set-up failed\n");
		return 1;
	}
	run_items("mmu_update_1", op_mmu_update_1, 1);
	run_items("mmu_update_64", op_mmu_update_64, 64);
	run_items("multicall_uvm_16", op_multicall_uvm_16, 16);
	if (evt_setup(domain_by_id(0), domain_by_id(1)) != 0) {
		fprintf(stderr, "perf-hypercall: event channel set-up failed\n");
		return 1;
	}
	run("evtchn_send", op_evtchn_send);
	return 0;
}
