/*
 * The benchmark guest: costs of crossing into the hypervisor, measured with
 * the TSC from inside a PV guest, so the same binary can be timed on Vireo
 * and on Xen. Each result is one JSON line on the console:
 *
 *   {"vireo_bench":1,"name":"guest/hypercall_null","cycles_per_op":123.4,"ops":N}
 *
 * (the host converts cycles to time with the TSC frequency the hypervisor
 * reports). What it measures:
 *   guest/hypercall_null   xen_version(XENVER_version): syscall in, dispatch, back
 *   guest/sched_yield      sched_op(SCHEDOP_yield): the same plus the scheduler's say
 *   guest/hypercall_copy   xen_version(XENVER_extraversion): a 16-byte copy to the guest
 * Each is the best of 5 runs of N operations (the least disturbed), after a warm-up.
 *
 * The PV MMU, over a scratch tree the guest hooks into its L4 (slot 1: an
 * L3, an L2 and one L1 covering 2 MiB, all pages of its own .bss made
 * read-only). Every update rewrites an L1 entry from one data frame to the
 * other (two .bss pages, mapped writable), as a kernel remapping pages does
 * (a copy-on-write break, a migration): each one takes the new frame's
 * general and writable-type references and drops the old frame's. Batched
 * figures are per ENTRY ("per":"entry" and "batch" in the line):
 *   guest/mmu_update_bN       mmu_update of N entries (slots 0..N-1), N = 1, 8, 64, 512
 *   guest/update_va_mapping   one update_va_mapping per entry, UVMF_NONE (no flush, like
 *                             mmu_update), walking the 512 slots
 *   guest/update_va_mapping_invlpg   the same with UVMF_INVLPG (what a kernel asks when
 *                             it changes a live mapping)
 *   guest/multicall_uvm_bN    a multicall of N update_va_mapping (UVMF_NONE), N = 8, 64
 *   guest/pin_unpin_l4        MMUEXT_PIN_L4_TABLE then MMUEXT_UNPIN_TABLE (two hypercalls)
 *                             of a small process address space: an L4 with the kernel's
 *                             entries copied, an L3, an L2 and 4 full L1s (2048 writable
 *                             mappings of 16 data pages): validation and release of the tree
 *
 * Exceptions and guest user mode:
 *   guest/exception_int3      int3 bounced to the guest's handler (trap table), back by iret
 *   guest/set_segment_base    set_segment_base(SEGBASE_FS)
 *   guest/user_syscall        SYSCALL from guest user mode to the kernel's syscall callback
 *                             and back (iret, VGCF_in_syscall): two root switches, timed
 *                             by the user program
 *   guest/event_upcall        EVTCHNOP_send on an IPI port of its own: the event raised,
 *                             the upcall to the event callback on the way back, which
 *                             takes it, and iret (an event's whole delivery)
 * Only standard Xen hypercalls, so the same guest measures Xen 4.17.
 */
#include "guest.h"
#include "hypercall.h"
#include "pt.h"

#include <public/arch-x86_64.h>
#include <public/callback.h>
#include <public/event_channel.h>
#include <public/sched.h>
#include <public/version.h>

#define OPS  20000
#define RUNS 5

static inline uint64_t rdtsc(void)
{
	uint32_t lo, hi;
	__asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
	return ((uint64_t)hi << 32) | lo;
}

static char extraversion[16];

static long op_null(void) { return hyp_xen_version(XENVER_version, 0); }
static long op_yield(void) { return hyp_sched_yield(); }
static long op_copy(void) { return hyp_xen_version(XENVER_extraversion, extraversion); }

static void measure(const char *name, long (*op)(void))
{
	uint64_t best = ~0ull;
	for (int run = 0; run <= RUNS; run++) {
		uint64_t t0 = rdtsc();
		for (int i = 0; i < OPS; i++)
			if (op() < 0) {
				console_printf("bench: %s failed\n", name);
				return;
			}
		uint64_t t = rdtsc() - t0;
		if (run > 0 && t < best)             /* run 0 warms up */
			best = t;
	}
	uint64_t milli = best * 1000 / OPS;
	console_printf("{\"vireo_bench\":1,\"name\":\"%s\",\"cycles_per_op\":%lu.%03lu,\"ops\":%d}\n",
		       name, (unsigned long)(milli / 1000), (unsigned long)(milli % 1000), OPS);
}

/* ---- the PV MMU ---------------------------------------------------------------- */

#define MMU_ENTRIES 16384          /* entries per run of the per-entry benchmarks */
#define PIN_OPS     100            /* pin+unpin pairs per run */
#define SCR_L4SLOT  1
#define SCR_VA      0x0000008000000000ul
#define PIN_L1S     4
#define PIN_DATA    16
#define RW          (PTE_P | PTE_W | PTE_U | PTE_A)

typedef uint8_t page_t[4096] __attribute__((aligned(4096)));

static page_t scr_l3, scr_l2, scr_l1, data_x, data_y;
static page_t pin_l4, pin_l3, pin_l2, pin_l1[PIN_L1S], pin_data[PIN_DATA];
static uint64_t mfn_x, mfn_y, mfn_scr_l1, mfn_pin_l4;
static struct mmu_update upd[2][512];
static struct multicall_entry mc[2][64];
static bool mmu_broken;

static void result(const char *name, uint64_t cycles, unsigned ops, unsigned batch)
{
	uint64_t milli = cycles * 1000 / ops;

	if (batch)
		console_printf("{\"vireo_bench\":1,\"name\":\"%s\",\"cycles_per_op\":%lu.%03lu,\"ops\":%u,"
			       "\"per\":\"entry\",\"batch\":%u}\n", name, (unsigned long)(milli / 1000),
			       (unsigned long)(milli % 1000), ops, batch);
	else
		console_printf("{\"vireo_bench\":1,\"name\":\"%s\",\"cycles_per_op\":%lu.%03lu,\"ops\":%u}\n",
			       name, (unsigned long)(milli / 1000), (unsigned long)(milli % 1000), ops);
}

static void fail(const char *name, long rc)
{
	console_printf("bench: %s failed (%ld)\n", name, rc);
	mmu_broken = true;
}

/* An op runs `ops` entries in its own way; 0 or the first error. */
static long run_best(long (*op)(unsigned batch, unsigned ops), unsigned batch, unsigned ops, uint64_t *best)
{
	*best = ~0ull;
	for (int run = 0; run <= RUNS; run++) {
		uint64_t t0 = rdtsc();
		long rc = op(batch, ops);
		uint64_t t = rdtsc() - t0;
		if (rc)
			return rc;
		if (run > 0 && t < *best)
			*best = t;
	}
	return 0;
}

/* mmu_update of `batch` entries at a time, alternating the two request lists. */
static long op_mmu_update(unsigned batch, unsigned ops)
{
	for (unsigned i = 0, phase = 0; i < ops; i += batch, phase ^= 1) {
		unsigned done = 0;
		long rc = hyp_mmu_update(upd[phase], batch, &done, DOMID_SELF);
		if (rc || done != batch)
			return rc ? rc : -XEN_EINVAL;
	}
	return 0;
}

static unsigned uvm_flags;

static long op_uvm(unsigned batch, unsigned ops)
{
	for (unsigned i = 0; i < ops; i++) {
		unsigned slot = i & 511;
		uint64_t mfn = (i >> 9) & 1 ? mfn_x : mfn_y;
		long rc = hyp_update_va_mapping(SCR_VA + slot * PT_PAGE_SIZE, pte_make(mfn, RW), uvm_flags);
		if (rc)
			return rc;
	}
	return 0;
}

static long op_multicall(unsigned batch, unsigned ops)
{
	for (unsigned i = 0, phase = 0; i < ops; i += batch, phase ^= 1) {
		long rc = hyp_multicall(mc[phase], batch);
		if (rc)
			return rc;
		for (unsigned j = 0; j < batch; j++)
			if (mc[phase][j].result)
				return (long)mc[phase][j].result;
	}
	return 0;
}

static long op_pin_unpin(unsigned batch, unsigned ops)
{
	for (unsigned i = 0; i < ops; i++) {
		long rc = pt_pin(4, mfn_pin_l4);
		if (rc)
			return rc;
		if ((rc = pt_unpin(mfn_pin_l4)) != 0)
			return rc;
	}
	return 0;
}

/* The per-entry benchmarks' tree, hooked at L4 slot 1; false if the hypervisor refused it. */
static bool mmu_setup(void)
{
	uint64_t *l3 = (uint64_t *)scr_l3, *l2 = (uint64_t *)scr_l2;
	long rc;

	mfn_x = pt_va_to_mfn(data_x);
	mfn_y = pt_va_to_mfn(data_y);
	mfn_scr_l1 = pt_va_to_mfn(scr_l1);
	memset(scr_l1, 0, sizeof(scr_l1));
	memset(l2, 0, sizeof(scr_l2));
	memset(l3, 0, sizeof(scr_l3));
	l2[0] = pte_make(mfn_scr_l1, RW);
	l3[0] = pte_make(pt_va_to_mfn(scr_l2), RW);
	rc = pt_set_readonly(scr_l1);
	if (!rc)
		rc = pt_set_readonly(scr_l2);
	if (!rc)
		rc = pt_set_readonly(scr_l3);
	if (!rc)
		rc = pt_update(pt_slot_ptr(pt.root_mfn, SCR_L4SLOT), pte_make(pt_va_to_mfn(scr_l3), RW));
	if (rc) {
		fail("mmu setup", rc);
		return false;
	}
	/* Every entry starts mapping x, so that the first pass of each benchmark moves them all to y. */
	for (unsigned j = 0; j < 512; j++) {
		upd[0][j].ptr = pt_slot_ptr(mfn_scr_l1, j);
		upd[0][j].val = pte_make(mfn_y, RW);
		upd[1][j].ptr = pt_slot_ptr(mfn_scr_l1, j);
		upd[1][j].val = pte_make(mfn_x, RW);
	}
	unsigned done = 0;
	rc = hyp_mmu_update(upd[1], 512, &done, DOMID_SELF);
	if (rc) {
		fail("mmu setup", rc);
		return false;
	}

	/* The pin/unpin tree: written in place, then read-only, never hooked in. */
	uint64_t *p4 = (uint64_t *)pin_l4, *p3 = (uint64_t *)pin_l3, *p2 = (uint64_t *)pin_l2;
	const uint64_t *cur = pt_table(pt.root_mfn);
	for (unsigned s = 0; s < 512; s++)
		p4[s] = (s >= 256 && s < 272) || s == SCR_L4SLOT ? 0 : cur[s];
	p4[0] = pte_make(pt_va_to_mfn(pin_l3), RW);
	memset(p3, 0, sizeof(pin_l3));
	p3[0] = pte_make(pt_va_to_mfn(pin_l2), RW);
	memset(p2, 0, sizeof(pin_l2));
	for (unsigned i = 0; i < PIN_L1S; i++) {
		uint64_t *p1 = (uint64_t *)pin_l1[i];
		p2[i] = pte_make(pt_va_to_mfn(pin_l1[i]), RW);
		for (unsigned j = 0; j < 512; j++)
			p1[j] = pte_make(pt_va_to_mfn(pin_data[j % PIN_DATA]), RW);
	}
	/* Data pages first: a table may not be mapped writable, data pages may. */
	rc = 0;
	for (unsigned i = 0; i < PIN_L1S && !rc; i++)
		rc = pt_set_readonly(pin_l1[i]);
	if (!rc)
		rc = pt_set_readonly(pin_l2);
	if (!rc)
		rc = pt_set_readonly(pin_l3);
	if (!rc)
		rc = pt_set_readonly(pin_l4);
	mfn_pin_l4 = pt_va_to_mfn(pin_l4);
	if (rc) {
		fail("mmu setup (pin tree)", rc);
		return false;
	}
	return true;
}

static void mmu_teardown(void)
{
	long rc = pt_update(pt_slot_ptr(pt.root_mfn, SCR_L4SLOT), 0);

	if (!rc)
		rc = pt_flush_tlb();
	if (rc)
		fail("mmu teardown", rc);
}

static void mmu_benchmarks(void)
{
	static const unsigned batches[] = { 1, 8, 64, 512 };
	static const char *const names[] = { "guest/mmu_update_b1", "guest/mmu_update_b8",
					     "guest/mmu_update_b64", "guest/mmu_update_b512" };
	uint64_t best;
	long rc;

	if (!mmu_setup())
		return;
	for (unsigned k = 0; k < ARRAY_SIZE(batches); k++) {
		if ((rc = run_best(op_mmu_update, batches[k], MMU_ENTRIES, &best)) != 0)
			return fail(names[k], rc);
		result(names[k], best, MMU_ENTRIES, batches[k]);
	}

	uvm_flags = UVMF_NONE;
	if ((rc = run_best(op_uvm, 1, MMU_ENTRIES, &best)) != 0)
		return fail("guest/update_va_mapping", rc);
	result("guest/update_va_mapping", best, MMU_ENTRIES, 1);
	uvm_flags = UVMF_INVLPG;
	if ((rc = run_best(op_uvm, 1, MMU_ENTRIES, &best)) != 0)
		return fail("guest/update_va_mapping_invlpg", rc);
	result("guest/update_va_mapping_invlpg", best, MMU_ENTRIES, 1);

	static const unsigned mbatches[] = { 8, 64 };
	static const char *const mnames[] = { "guest/multicall_uvm_b8", "guest/multicall_uvm_b64" };
	for (unsigned k = 0; k < ARRAY_SIZE(mbatches); k++) {
		for (unsigned ph = 0; ph < 2; ph++)
			for (unsigned j = 0; j < mbatches[k]; j++)
				pt_mc_set(&mc[ph][j], __HYPERVISOR_update_va_mapping, SCR_VA + j * PT_PAGE_SIZE,
					  pte_make(ph ? mfn_x : mfn_y, RW), UVMF_NONE, 0);
		if ((rc = run_best(op_multicall, mbatches[k], MMU_ENTRIES, &best)) != 0)
			return fail(mnames[k], rc);
		result(mnames[k], best, MMU_ENTRIES, mbatches[k]);
	}

	if ((rc = run_best(op_pin_unpin, 1, PIN_OPS, &best)) != 0)
		return fail("guest/pin_unpin_l4", rc);
	result("guest/pin_unpin_l4", best, PIN_OPS, 0);
	mmu_teardown();
}

/* ---- exceptions, segment bases and guest user mode (issue 5's round trips) ---- */

void bench_int3(void), bench_syscall(void);
uint64_t bench_user_run(uint64_t rip, uint64_t rsp, uint64_t iterations);
extern const char bench_user_prog[], bench_user_prog_end[];

static long op_int3(void)
{
	__asm__ volatile("int3" ::: "rcx", "r11", "memory");
	return 0;
}

static long op_segbase(void)
{
	return hypercall2(__HYPERVISOR_set_segment_base, SEGBASE_FS, 0);
}

#define UB_CODE  0x400000ul
#define UB_STACK 0x402000ul             /* top of the stack page at 0x401000 */

static uint8_t kstack[16384] __attribute__((aligned(16)));

/* A fresh mapped frame of ours, zeroed; PT_NO_FRAME when there is none. */
static uint64_t *fresh_page(uint64_t *mfn)
{
	uint64_t pfn = pt_alloc_mapped_pfn();
	if (pfn == PT_NO_FRAME)
		return NULL;
	uint64_t *p = pt_pfn_to_va(pfn);
	memset(p, 0, PT_PAGE_SIZE);
	*mfn = pt_pfn_to_mfn(pfn);
	return p;
}

/*
 * guest/user_syscall: a SYSCALL from guest user mode to the guest kernel's
 * syscall callback and back (iret with VGCF_in_syscall), timed by the user
 * program itself: two page-table root switches per round trip, as on Xen.
 * The user address space is an L4 of its own mapping a code page and a
 * stack page (no kernel mappings), made with the MMU hypercalls.
 */
static void user_mode_benchmark(void)
{
	uint64_t l4m, l3m, l2m, l1m, codem, stackm;
	uint64_t *l4 = fresh_page(&l4m), *l3 = fresh_page(&l3m), *l2 = fresh_page(&l2m);
	uint64_t *l1 = fresh_page(&l1m), *code = fresh_page(&codem), *stack = fresh_page(&stackm);
	long rc;

	if (!l4 || !l3 || !l2 || !l1 || !code || !stack)
		return fail("guest/user_syscall (no free frames)", -12);             /* ENOMEM */
	memcpy(code, bench_user_prog, (size_t)(bench_user_prog_end - bench_user_prog));
	l4[PT_INDEX(UB_CODE, 4)] = pte_make(l3m, PTE_P | PTE_W | PTE_U);
	l3[PT_INDEX(UB_CODE, 3)] = pte_make(l2m, PTE_P | PTE_W | PTE_U);
	l2[PT_INDEX(UB_CODE, 2)] = pte_make(l1m, PTE_P | PTE_W | PTE_U);
	l1[PT_INDEX(UB_CODE, 1)] = pte_make(codem, PTE_P | PTE_U);
	l1[PT_INDEX(UB_STACK - 1, 1)] = pte_make(stackm, PTE_P | PTE_W | PTE_U | PTE_NX);
	if ((rc = pt_set_readonly(l4)) || (rc = pt_set_readonly(l3)) || (rc = pt_set_readonly(l2)) ||
	    (rc = pt_set_readonly(l1)) || (rc = pt_pin(4, l4m)) ||
	    (rc = pt_mmuext(MMUEXT_NEW_USER_BASEPTR, l4m, 0)) ||
	    (rc = hypercall3(__HYPERVISOR_set_callbacks, 0, 0, (unsigned long)bench_syscall)) ||
	    (rc = hypercall2(__HYPERVISOR_stack_switch, FLAT_KERNEL_SS, (unsigned long)(kstack + sizeof(kstack)))))
		return fail("guest/user_syscall (set-up)", rc);
	uint64_t best = ~0ull;
	for (int run = 0; run <= RUNS; run++) {
		uint64_t c = bench_user_run(UB_CODE, UB_STACK, OPS);
		if (run && c < best)
			best = c;                      /* run 0 warms up */
	}
	result("guest/user_syscall", best, OPS, 0);
}

static void mode_benchmarks(void)
{
	static const struct trap_info table[] = {
		{ 3, 3, FLAT_KERNEL_CS, { 0 }, (uint64_t)bench_int3 },
		{ 0, 0, 0, { 0 }, 0 },
	};
	long rc = hypercall1(__HYPERVISOR_set_trap_table, (unsigned long)table);
	if (rc)
		return fail("guest/exception_int3 (set_trap_table)", rc);
	measure("guest/exception_int3", op_int3);
	measure("guest/set_segment_base", op_segbase);
	user_mode_benchmark();
}

/* ---- events: send to ourselves, upcall, iret -------------------------------------- */

void bench_event(void), bench_event_clear(void);
static struct shared_info *ev_sh;
static uint32_t ev_port;
static volatile uint64_t ev_upcalls;

void bench_event_clear(void)
{
	struct vcpu_info *vi = &ev_sh->vcpu_info[0];
	vi->evtchn_upcall_pending = 0;
	__atomic_and_fetch(&vi->evtchn_pending_sel, ~(1ull << (ev_port / 64)), __ATOMIC_SEQ_CST);
	__atomic_and_fetch(&ev_sh->evtchn_pending[ev_port / 64], ~(1ull << (ev_port % 64)), __ATOMIC_SEQ_CST);
	ev_upcalls++;
}

static long op_event(void)
{
	return hypercall2(__HYPERVISOR_event_channel_op, EVTCHNOP_send, (unsigned long)&ev_port);
}

static void event_benchmark(const struct start_info *si)
{
	uint64_t va = (uint64_t)pt_pfn_to_va(pt_alloc_mapped_pfn());
	struct evtchn_bind_ipi bi = { .vcpu = 0 };
	struct callback_register cb = { .type = CALLBACKTYPE_event, .address = (uint64_t)bench_event };
	long rc = hyp_update_va_mapping(va, si->shared_info | PTE_P | PTE_W, UVMF_INVLPG);
	if (!rc)
		rc = hypercall2(__HYPERVISOR_event_channel_op, EVTCHNOP_bind_ipi, (unsigned long)&bi);
	if (!rc)
		rc = hypercall2(__HYPERVISOR_callback_op, CALLBACKOP_register, (unsigned long)&cb);
	if (rc)
		return fail("guest/event_upcall (set-up)", rc);
	ev_sh = (struct shared_info *)va;
	ev_port = bi.port;
	ev_sh->vcpu_info[0].evtchn_upcall_mask = 0;
	measure("guest/event_upcall", op_event);
	ev_sh->vcpu_info[0].evtchn_upcall_mask = 1;
	if (ev_upcalls != (uint64_t)(RUNS + 1) * OPS)
		console_printf("bench: guest/event_upcall: %lu upcalls for %lu sends\n", (unsigned long)ev_upcalls,
			       (unsigned long)(RUNS + 1) * OPS);
}

int guest_main(struct start_info *si)
{
	long rc;

	console_printf("bench: guest benchmarks, best of %d runs of %d operations\n", RUNS, OPS);
	measure("guest/hypercall_null", op_null);
	measure("guest/sched_yield", op_yield);
	measure("guest/hypercall_copy", op_copy);
	if ((rc = pt_init(si)) != 0) {
		fail("mmu (start-of-day layout)", rc);
	} else {
		mmu_benchmarks();
		mode_benchmarks();
		event_benchmark(si);
	}
	console_printf("bench: done\n");
	return mmu_broken ? 1 : 0;
}
