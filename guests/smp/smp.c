/*
 * smp: a domain with two vCPUs (config `vcpus = 2`). vCPU 0 checks the
 * refusals of vcpu_op, starts vCPU 1 with VCPUOP_initialise and VCPUOP_up,
 * then both run at once on two CPUs:
 *   - an IPI port bound to vCPU 1: events sent by vCPU 0 arrive at vCPU 1's
 *     callback (its own vcpu_info) and wake it from SCHEDOP_block;
 *   - a shared counter both add to with atomics;
 *   - a page-table change by vCPU 0 with UVMF_ALL that vCPU 1 must see at
 *     once (its CPU's TLB is flushed remotely), then one with UVMF_MULTI
 *     naming vCPU 1;
 *   - vCPU 1's own GDT (from its context): update_descriptor by vCPU 0
 *     reaches the GDT of the CPU vCPU 1 runs on (LSL there sees it);
 *   - VIRQ_TIMER bound on vCPU 1 and its single-shot timer wake it;
 *   - VCPUOP_down of vCPU 1 by vCPU 0 (it stops running), VCPUOP_up (it goes
 *     on where it was), and vCPU 1 taking itself down;
 *   - the domain shuts down while vCPU 1 still runs, or (`end=down` on its
 *     command line) vCPU 0 takes vCPU 1 down and then itself, the last vCPU
 *     up, which powers the domain off as on Xen.
 * With `crash=secondary` on its command line, vCPU 1 takes an exception it
 * has no handler for: the whole domain is crashed, vCPU 0 with it.
 *
 * Each vCPU finds its own state through its GS base (vCPU 0 sets it with
 * set_segment_base, vCPU 1 gets it from VCPUOP_initialise).
 */
#include "evtchn.h"
#include "guest.h"
#include "hypercall.h"
#include "pt.h"

#include <public/callback.h>
#include <public/event_channel.h>
#include <public/sched.h>
#include <public/vcpu.h>

#define XEN_ENOENT 2
#define XEN_EEXIST 17
#define MAGIC 0x5eed0001c0ffee11ull

struct pcpu {
	struct pcpu *self;              /* %gs:0 */
	unsigned id;
	struct vcpu_info *vi;
	volatile unsigned long seen[64], upcalls;
};

static struct pcpu pcpu[2];
static unsigned failures;
static char cmdline[MAX_GUEST_CMDLINE + 1];
static struct shared_info *sh;
static struct vcpu_guest_context ctxt;
static uint8_t stack1[16384] __attribute__((aligned(16)));

/* What the two vCPUs tell each other (vCPU 0 writes the commands, vCPU 1 the answers). */
static volatile unsigned long started, arg_seen, ready, acked, go, counter, spin;
static volatile unsigned long tlb_phase, tlb_answer, down_self, back_from_down, crash_go;
static volatile unsigned long batch_go, batches;
static volatile unsigned long gdt_phase, gdt_limit, timer_us;
static uint64_t gdt1[512] __attribute__((aligned(4096)));   /* vCPU 1's GDT (VCPUOP_initialise) */
#define GDT1_SEL ((14 << 3) | 3)
#define DESC_LIMIT(l) (0x0040F20000000000ull | (l))               /* DPL-3 data, byte granular */
#define BATCH 4096
static struct mmu_update batch[BATCH];
static volatile uint64_t probe_va;
static uint32_t ipi_port;

void smp_event_entry(void);
void secondary_start(void);
void smp_event(void);
NORETURN void secondary_main(uint64_t arg);

static inline struct pcpu *me(void)
{
	struct pcpu *p;
	__asm__ volatile("mov %%gs:0, %0" : "=r"(p));
	return p;
}

static void expect(const char *what, long got, long want)
{
	bool ok = got == want;
	console_printf("smp: %s: %ld%s%s %s\n", what, got, got < 0 ? " " : "", got < 0 ? pt_errname(got) : "",
		       ok ? "ok" : "FAIL");
	failures += !ok;
}

static void check(const char *what, bool ok)
{
	console_printf("smp: %s: %s\n", what, ok ? "ok" : "FAIL");
	failures += !ok;
}

static long vcpu_op(unsigned cmd, unsigned vcpu, void *arg)
{
	return hypercall3(__HYPERVISOR_vcpu_op, cmd, vcpu, (unsigned long)arg);
}

static long evtchn_op(unsigned cmd, void *arg)
{
	return hypercall2(__HYPERVISOR_event_channel_op, cmd, (unsigned long)arg);
}

/* Wait (spinning: the other vCPU runs on another CPU) until *v >= want, at most ~2 s of TSC. */
static bool wait_for(volatile unsigned long *v, unsigned long want)
{
	for (uint64_t t0 = rdtsc(); rdtsc() - t0 < 20000000000ull;)
		if (*v >= want)
			return true;
	return *v >= want;
}

/* TSC ticks per microsecond, from system time. */
static unsigned long tsc_per_us;

static uint64_t now_ns(void)
{
	return pvclock_ns(&me()->vi->time);
}

/* The event callback, on whichever vCPU it was delivered: what is pending there. */
void smp_event(void)
{
	struct pcpu *p = me();
	p->upcalls++;
	evtchn_take_pending(sh, p->vi, p->seen);
}

/* Block this vCPU until its callback has seen port `target` times. */
static void wait_seen(uint32_t port, unsigned long target)
{
	evtchn_wait_seen(me()->vi, me()->seen, port, target);
}

static void events_on(void)
{
	struct callback_register cb = { .type = CALLBACKTYPE_event, .address = (uint64_t)smp_event_entry };
	long rc = hypercall2(__HYPERVISOR_callback_op, CALLBACKOP_register, (unsigned long)&cb);
	if (rc)
		console_printf("smp: vcpu %u: callback_op: %ld FAIL\n", me()->id, rc);
	failures += rc != 0;
	__atomic_store_n(&me()->vi->evtchn_upcall_mask, 0, __ATOMIC_SEQ_CST);
}

NORETURN void secondary_main(uint64_t arg)
{
	struct pcpu *p = me();
	arg_seen = arg;
	__atomic_store_n(&started, 1, __ATOMIC_SEQ_CST);
	if (strstr(cmdline, "crash=secondary")) {
		wait_for(&crash_go, 1);                  /* vCPU 0 has said what it saw */
		console_printf("smp: vcpu 1: an exception with no handler follows\n");
		__asm__ volatile("ud2");
	}
	console_printf("smp: vcpu %u: up, its own vcpu_info at %p\n", p->id, (void *)p->vi);
	events_on();
	__atomic_store_n(&ready, 1, __ATOMIC_SEQ_CST);
	for (unsigned long k = 1; k <= 100; k++) {
		wait_seen(ipi_port, k);
		__atomic_store_n(&acked, k, __ATOMIC_SEQ_CST);
	}
	/* Its GDT: LSL of a selector in it, before and after vCPU 0 changes the descriptor. */
	for (unsigned phase = 1; phase <= 2; phase++) {
		wait_for(&gdt_phase, phase * 2 - 1);
		uint32_t limit = 0;
		__asm__ volatile("lsl %1, %0" : "=r"(limit) : "r"((uint32_t)GDT1_SEL) : "cc");
		__atomic_store_n(&gdt_limit, limit, __ATOMIC_SEQ_CST);
		__atomic_store_n(&gdt_phase, phase * 2, __ATOMIC_SEQ_CST);
	}
	/* Its own timer: VIRQ_TIMER bound on it, a single-shot in 5 ms, blocked until it fires. */
	struct evtchn_bind_virq bv = { .virq = VIRQ_TIMER, .vcpu = 1 };
	if (evtchn_op(EVTCHNOP_bind_virq, &bv) == 0 && bv.port < 64) {
		uint64_t t0 = rdtsc();
		struct vcpu_set_singleshot_timer ss = { .timeout_abs_ns = now_ns() + 5000000 };
		if (vcpu_op(VCPUOP_set_singleshot_timer, 1, &ss) == 0) {
			wait_seen(bv.port, 1);
			__atomic_store_n(&timer_us, 1 + (rdtsc() - t0) / (tsc_per_us ? tsc_per_us : 1), __ATOMIC_SEQ_CST);
		}
	}
	if (!timer_us)
		__atomic_store_n(&timer_us, ~0ul, __ATOMIC_SEQ_CST);
	/* The shared counter. */
	wait_for(&go, 1);
	for (unsigned i = 0; i < 200000; i++)
		__atomic_fetch_add(&counter, 1, __ATOMIC_RELAXED);
	/* The TLB: read probe_va (so this CPU caches it), say what it holds, read again when told. */
	for (unsigned phase = 1; phase <= 2; phase++) {
		wait_for(&tlb_phase, phase * 2 - 1);
		unsigned long before = *(volatile unsigned long *)probe_va;
		__atomic_store_n(&tlb_answer, before, __ATOMIC_SEQ_CST);
		wait_for(&tlb_phase, phase * 2);
		__atomic_store_n(&tlb_answer, *(volatile unsigned long *)probe_va, __ATOMIC_SEQ_CST);
	}
	/* Spin until told to take itself down; vCPU 0 takes it down and up meanwhile. */
	while (!down_self)
		__atomic_fetch_add(&spin, 1, __ATOMIC_RELAXED);
	long rc = vcpu_op(VCPUOP_down, 1, NULL);
	__atomic_store_n(&back_from_down, 1, __ATOMIC_SEQ_CST);
	console_printf("smp: vcpu 1: back from VCPUOP_down on itself: %ld\n", rc);
	/*
	 * Until the domain ends under it: long page-table batches once vCPU 0
	 * says, so that the end finds it inside one (the end must wait for it
	 * to leave before the domain's memory goes).
	 */
	for (;;) {
		if (batch_go) {
			hyp_mmu_update(batch, BATCH, NULL, DOMID_SELF);
			__atomic_fetch_add(&batches, 1, __ATOMIC_RELAXED);
		}
		__atomic_fetch_add(&spin, 1, __ATOMIC_RELAXED);
	}
}

static void context_for_vcpu1(uint64_t rip)
{
	memset(&ctxt, 0, sizeof(ctxt));
	ctxt.flags = VGCF_in_kernel;
	ctxt.user_regs.rip = rip;
	ctxt.user_regs.rsp = (uint64_t)&stack1[sizeof(stack1)];
	ctxt.user_regs.rdi = MAGIC;
	ctxt.user_regs.cs = FLAT_RING3_CS64;
	ctxt.user_regs.ss = FLAT_RING3_SS64;
	ctxt.user_regs.rflags = 0x1000;              /* Linux asks IOPL 1; Vireo gives IF on, IOPL 0 */
	ctxt.kernel_ss = FLAT_RING3_SS64;
	ctxt.ctrlreg[3] = pt.root_mfn << 12;
	ctxt.gs_base_kernel = (uint64_t)&pcpu[1];
	ctxt.gdt_frames[0] = pt_va_to_mfn(gdt1);
	ctxt.gdt_ents = 16;
}

/*
 * One remap of probe_va to the page at to_va, flushed as `flags` says:
 * vCPU 1 reads it before (so its CPU caches the old translation) and
 * after; each answer is awaited from 0, so none is taken for the other.
 */
static void tlb_round(unsigned phase, uint64_t to_va, unsigned long want_before, unsigned long want_after,
		     unsigned long flags, const char *what)
{
	tlb_answer = 0;
	__atomic_store_n(&tlb_phase, phase * 2 - 1, __ATOMIC_SEQ_CST);
	bool cached = wait_for(&tlb_answer, 1) && tlb_answer == want_before;
	expect(what, hyp_update_va_mapping(probe_va, pte_make(pt_va_to_mfn((void *)to_va), PTE_P | PTE_W | PTE_U | PTE_A),
					   flags), 0);
	tlb_answer = 0;
	__atomic_store_n(&tlb_phase, phase * 2, __ATOMIC_SEQ_CST);
	bool fresh = wait_for(&tlb_answer, 1) && tlb_answer == want_after;
	console_printf("smp: vcpu 1 read 0x%lx before the remap, 0x%lx after\n", want_before, tlb_answer);
	check("  ... vcpu 1 sees the new page at once (its TLB flushed)", cached && fresh);
}

int guest_main(struct start_info *si)
{
	memcpy(cmdline, si->cmd_line, MAX_GUEST_CMDLINE);
	cmdline[MAX_GUEST_CMDLINE] = '\0';
	if (pt_init(si)) {
		console_printf("smp: start-of-day layout not understood FAIL\n");
		return 1;
	}
	uint64_t va = (uint64_t)pt_pfn_to_va(pt_alloc_mapped_pfn());
	if (hyp_update_va_mapping(va, si->shared_info | PTE_P | PTE_W, UVMF_INVLPG)) {
		console_printf("smp: shared_info not mapped FAIL\n");
		return 1;
	}
	sh = (struct shared_info *)va;
	for (unsigned i = 0; i < 2; i++)
		pcpu[i] = (struct pcpu){ .self = &pcpu[i], .id = i, .vi = &sh->vcpu_info[i] };
	expect("set_segment_base(GS_KERNEL) for vcpu 0",
	       hypercall2(__HYPERVISOR_set_segment_base, SEGBASE_GS_KERNEL, (unsigned long)&pcpu[0]), 0);
	uint64_t n0 = now_ns(), c0 = rdtsc();
	while (now_ns() - n0 < 1000000)
		;
	tsc_per_us = (rdtsc() - c0) / ((now_ns() - n0) / 1000);

	expect("is_up(0)", vcpu_op(VCPUOP_is_up, 0, NULL), 1);
	expect("is_up(1), not started", vcpu_op(VCPUOP_is_up, 1, NULL), 0);
	expect("is_up(2), no such vCPU", vcpu_op(VCPUOP_is_up, 2, NULL), -XEN_ENOENT);
	expect("up(1) before initialise", vcpu_op(VCPUOP_up, 1, NULL), -XEN_EINVAL);
	struct vcpu_runstate_info rs;
	expect("get_runstate_info(1)", vcpu_op(VCPUOP_get_runstate_info, 1, &rs), 0);
	check("  ... offline", rs.state == RUNSTATE_offline);
	context_for_vcpu1(0xffff830000001000ull);
	expect("initialise(1), RIP in the hypervisor", vcpu_op(VCPUOP_initialise, 1, &ctxt), -XEN_EINVAL);
	context_for_vcpu1((uint64_t)secondary_start);
	ctxt.ldt_ents = 4;
	expect("initialise(1) with an LDT", vcpu_op(VCPUOP_initialise, 1, &ctxt), -XEN_EINVAL);
	expect("initialise(1), context at a hypervisor address",
	       hypercall3(__HYPERVISOR_vcpu_op, VCPUOP_initialise, 1, 0xffff830000000000ul), -XEN_EFAULT);
	context_for_vcpu1((uint64_t)secondary_start);
	ctxt.ctrlreg[3] = pt_va_to_mfn(stack1) << 12;        /* a data page, mapped writable: not an L4 */
	long rc = vcpu_op(VCPUOP_initialise, 1, &ctxt);
	console_printf("smp: initialise(1), CR3 a writable data page: %ld %s\n", rc, rc < 0 ? "refused ok" : "FAIL");
	failures += rc >= 0;
	gdt1[14] = DESC_LIMIT(0x1234);
	expect("vcpu 1's GDT page made read-only", pt_set_readonly(gdt1), 0);
	context_for_vcpu1((uint64_t)secondary_start);
	expect("initialise(1)", vcpu_op(VCPUOP_initialise, 1, &ctxt), 0);
	expect("initialise(1) again", vcpu_op(VCPUOP_initialise, 1, &ctxt), -XEN_EEXIST);
	struct evtchn_bind_ipi bi = { .vcpu = 2 };
	expect("bind_ipi(vcpu 2)", evtchn_op(EVTCHNOP_bind_ipi, &bi), -XEN_ENOENT);
	bi.vcpu = 1;
	expect("bind_ipi(vcpu 1)", evtchn_op(EVTCHNOP_bind_ipi, &bi), 0);
	ipi_port = bi.port;
	struct vcpu_set_singleshot_timer ss = { .timeout_abs_ns = 1 };
	expect("set_singleshot_timer of vcpu 1 from vcpu 0", vcpu_op(VCPUOP_set_singleshot_timer, 1, &ss), -XEN_EINVAL);

	expect("up(1)", vcpu_op(VCPUOP_up, 1, NULL), 0);
	expect("is_up(1)", vcpu_op(VCPUOP_is_up, 1, NULL), 1);
	check("vcpu 1 started, with RDI from its context", wait_for(&started, 1) && arg_seen == MAGIC);
	if (!started || strstr(cmdline, "crash=secondary")) {
		__atomic_store_n(&crash_go, 1, __ATOMIC_SEQ_CST);
		for (;;)
			__atomic_fetch_add(&spin, 1, __ATOMIC_RELAXED);     /* crashed with vCPU 1 */
	}
	expect("up(1) while up", vcpu_op(VCPUOP_up, 1, NULL), 0);
	expect("get_runstate_info(1)", vcpu_op(VCPUOP_get_runstate_info, 1, &rs), 0);
	check("  ... running", rs.state == RUNSTATE_running);

	/* IPIs to vCPU 1: each wakes it from SCHEDOP_block on its CPU and reaches its callback. */
	wait_for(&ready, 1);
	uint64_t t0 = rdtsc(), best = ~0ull;
	for (unsigned long k = 1; k <= 100; k++) {
		uint64_t s = rdtsc();
		struct evtchn_send snd = { ipi_port };
		evtchn_op(EVTCHNOP_send, &snd);
		if (!wait_for(&acked, k))
			break;
		best = rdtsc() - s < best ? rdtsc() - s : best;
	}
	console_printf("smp: 100 IPIs to vcpu 1, %lu cycles each on average, %lu at best\n",
		       (rdtsc() - t0) / 100, best);
	check("  ... each seen by vcpu 1's callback, none by vcpu 0's", acked == 100 &&
	      pcpu[1].seen[ipi_port] == 100 && pcpu[0].seen[ipi_port] == 0);

	/* vCPU 1's GDT, changed by vCPU 0 while vCPU 1 runs on another CPU. */
	__atomic_store_n(&gdt_phase, 1, __ATOMIC_SEQ_CST);
	bool seen_old = wait_for(&gdt_phase, 2) && gdt_limit == 0x1234;
	expect("update_descriptor in vcpu 1's GDT", hypercall2(__HYPERVISOR_update_descriptor,
	       (pt_va_to_mfn(gdt1) << 12) + 14 * 8, DESC_LIMIT(0x5678)), 0);
	__atomic_store_n(&gdt_phase, 3, __ATOMIC_SEQ_CST);
	bool seen_new = wait_for(&gdt_phase, 4) && gdt_limit == 0x5678;
	console_printf("smp: vcpu 1's LSL: 0x1234 %s, then 0x%lx\n", seen_old ? "seen" : "NOT seen", gdt_limit);
	check("  ... the change reached vcpu 1's CPU", seen_old && seen_new);
	check("vcpu 1's own VIRQ_TIMER woke it", wait_for(&timer_us, 1) && timer_us != ~0ul && timer_us >= 5000);
	console_printf("smp: vcpu 1's 5 ms timer woke it after %lu us\n", timer_us);

	/* Both at once on one counter. */
	__atomic_store_n(&go, 1, __ATOMIC_SEQ_CST);
	for (unsigned i = 0; i < 200000; i++)
		__atomic_fetch_add(&counter, 1, __ATOMIC_RELAXED);
	wait_for(&counter, 400000);
	check("400000 atomic adds from two vCPUs", counter == 400000);

	/* The TLB: probe_va maps page A, then B (UVMF_ALL), then A again (UVMF_MULTI naming vCPU 1). */
	uint64_t a = (uint64_t)pt_pfn_to_va(pt_alloc_mapped_pfn()), b = (uint64_t)pt_pfn_to_va(pt_alloc_mapped_pfn());
	probe_va = (uint64_t)pt_pfn_to_va(pt_alloc_mapped_pfn());
	*(volatile unsigned long *)a = 0xA;
	*(volatile unsigned long *)b = 0xB;
	expect("probe page maps A", hyp_update_va_mapping(probe_va, pte_make(pt_va_to_mfn((void *)a),
			PTE_P | PTE_W | PTE_U | PTE_A), UVMF_INVLPG), 0);
	tlb_round(1, b, 0xA, 0xB, UVMF_INVLPG | UVMF_ALL, "remap to B, UVMF_INVLPG|UVMF_ALL");
	static xen_ulong_t only_vcpu1 = 2;
	tlb_round(2, a, 0xB, 0xA, UVMF_INVLPG | UVMF_MULTI | (unsigned long)&only_vcpu1,
		  "remap to A, UVMF_INVLPG|UVMF_MULTI {vcpu 1}");

	/* Down by vCPU 0: it stops; up: it goes on where it was. */
	expect("down(1)", vcpu_op(VCPUOP_down, 1, NULL), 0);
	expect("is_up(1)", vcpu_op(VCPUOP_is_up, 1, NULL), 0);
	/*
	 * Stopped: spin stays put over three 50M-cycle windows in a row (one
	 * could be the host descheduling QEMU's thread), within ~7 s.
	 */
	unsigned long s1 = spin;
	unsigned quiet = 0;
	for (uint64_t w = rdtsc(); quiet < 3 && rdtsc() - w < 20000000000ull;) {
		s1 = spin;
		for (uint64_t t = rdtsc(); rdtsc() - t < 50000000ull;)
			;
		quiet = spin == s1 ? quiet + 1 : 0;
	}
	bool stopped = quiet == 3;
	check("  ... it stopped running", stopped);
	expect("get_runstate_info(1)", vcpu_op(VCPUOP_get_runstate_info, 1, &rs), 0);
	check("  ... offline", rs.state == RUNSTATE_offline);
	expect("up(1)", vcpu_op(VCPUOP_up, 1, NULL), 0);
	check("  ... it runs again", wait_for(&spin, s1 + 1000));
	/* It takes itself down; up brings it back from its hypercall. */
	__atomic_store_n(&down_self, 1, __ATOMIC_SEQ_CST);
	bool went_down = false;
	for (uint64_t w = rdtsc(); !went_down && rdtsc() - w < 20000000000ull;)
		went_down = vcpu_op(VCPUOP_is_up, 1, NULL) == 0;
	check("vcpu 1 took itself down", went_down && !back_from_down);
	expect("up(1)", vcpu_op(VCPUOP_up, 1, NULL), 0);
	check("  ... back from its VCPUOP_down", wait_for(&back_from_down, 1));
	unsigned long s2 = spin;
	check("  ... and running", wait_for(&spin, s2 + 1000));
	if (strstr(cmdline, "end=down")) {
		/* The last vCPU up going down powers the domain off (Xen): no exit code is printed. */
		expect("down(1), the end", vcpu_op(VCPUOP_down, 1, NULL), 0);
		console_printf("smp: vcpu 0 takes itself down, the last one up%s\n", failures ? " FAIL" : "");
		vcpu_op(VCPUOP_down, 0, NULL);
		console_printf("smp: still running after the last VCPUOP_down FAIL\n");
		return 1;
	}
	/* BATCH rewrites of probe_va's entry (to what it holds) a call, on vCPU 1 from now on. */
	uint64_t ptr = pt_l1e_ptr(probe_va);
	for (unsigned i = 0; i < BATCH; i++)
		batch[i] = (struct mmu_update){ .ptr = ptr | MMU_NORMAL_PT_UPDATE, .val = pt_lookup(probe_va) };
	__atomic_store_n(&batch_go, 1, __ATOMIC_SEQ_CST);
	check("vcpu 1 runs page-table batches", wait_for(&batches, 3));
	console_printf("smp: vcpu 0 shuts the domain down with vcpu 1 running\n");
	return failures ? 1 : 0;
}
