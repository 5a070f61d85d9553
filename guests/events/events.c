/*
 * events: event channels in QEMU (core/event.c). Modes, by command line:
 *
 *   timer     VIRQ_TIMER with set_timer_op and SCHEDOP_block (which must
 *             really block), a cancelled timer, the upcall mask, a masked
 *             port and EVTCHNOP_unmask, an IPI port, and refusals;
 *   ping=N    an interdomain channel with the domain running pong=N: this
 *             side allocates the port (the first, so 1), the other binds it;
 *             N round trips, each a send and a block for the answer, timed
 *             with the TSC;
 *   pong=N    the other side: binds domain 0's port 1, then answers N times;
 *   attack=no-callback  an upcall with no event callback registered.
 *
 * No xenstore: the two sides agree on domain 0, port 1 by convention.
 * Events arrive through the event callback (entry.S, guest_event), as on
 * Xen, where an upcall with no callback crashes the domain.
 */
#include "evtchn.h"
#include "guest.h"
#include "hypercall.h"
#include "pt.h"

#include <public/callback.h>
#include <public/event_channel.h>
#include <public/sched.h>
#include <public/vcpu.h>

#define XEN_EEXIST 17

static unsigned failures;
static char cmdline[MAX_GUEST_CMDLINE + 1];
static struct shared_info *sh;
static struct vcpu_info *vi;
static volatile unsigned long upcalls, seen[64], blocks, masked_in_callback;

void guest_event(void);
extern char event_entry[];

static void expect(const char *what, long got, long want)
{
	bool ok = got == want;
	console_printf("events: %s: %ld%s%s %s\n", what, got, got < 0 ? " " : "", got < 0 ? pt_errname(got) : "",
		       ok ? "ok" : "FAIL");
	failures += !ok;
}

static void check(const char *what, bool ok)
{
	console_printf("events: %s: %s\n", what, ok ? "ok" : "FAIL");
	failures += !ok;
}

static unsigned long option(const char *name)
{
	const char *p = strstr(cmdline, name);
	unsigned long v = 0;
	if (!p)
		return 0;
	for (p += strlen(name); *p >= '0' && *p <= '9'; p++)
		v = v * 10 + (unsigned long)(*p - '0');
	return v;
}

static uint64_t now_ns(void)
{
	return pvclock_ns(&vi->time);
}

static long evtchn_op(unsigned cmd, void *arg)
{
	return hypercall2(__HYPERVISOR_event_channel_op, cmd, (unsigned long)arg);
}

static long send(uint32_t port)
{
	struct evtchn_send s = { port };
	return evtchn_op(EVTCHNOP_send, &s);
}

static void wait_seen(uint32_t port, unsigned long target)
{
	blocks += evtchn_wait_seen(vi, seen, port, target);
}

/* Events on: the callback registered, upcalls unmasked (the guest's virtual IF). */
static void events_on(void)
{
	struct callback_register cb = { .type = CALLBACKTYPE_event, .address = (uint64_t)event_entry };
	expect("callback_op(register event)", hypercall2(__HYPERVISOR_callback_op, CALLBACKOP_register,
							 (unsigned long)&cb), 0);
	__atomic_store_n(&vi->evtchn_upcall_mask, 0, __ATOMIC_SEQ_CST);
}

/* The upcall (entry.S): what is pending and not masked, taken and counted. */
void guest_event(void)
{
	upcalls++;
	masked_in_callback += vi->evtchn_upcall_mask != 0;     /* Xen masks upcalls on delivery */
	evtchn_take_pending(sh, vi, seen);
}

static int timer_mode(void)
{
	struct evtchn_bind_virq bv = { .virq = VIRQ_TIMER, .vcpu = 0 };
	expect("bind_virq(VIRQ_TIMER)", evtchn_op(EVTCHNOP_bind_virq, &bv), 0);
	uint32_t t = bv.port;
	check("  ... a port below 64", t > 0 && t < 64);
	struct evtchn_status st = { .dom = DOMID_SELF, .port = t };
	expect("status of it", evtchn_op(EVTCHNOP_status, &st), 0);
	check("  ... virq, VIRQ_TIMER", st.status == EVTCHNSTAT_virq && st.u.virq == VIRQ_TIMER);
	uint64_t a = now_ns(), b = now_ns();
	check("system time runs", a > 0 && b >= a);
	/* The wall clock (Xen's wc_*: Unix time at system time 0), from the RTC. */
	uint64_t wc = (uint64_t)sh->wc_sec | (uint64_t)sh->wc_sec_hi << 32;
	console_printf("events: wall clock at boot %lu s since 1970, version %u\n", wc, sh->wc_version);
	check("  ... even version, after November 2023", sh->wc_version && !(sh->wc_version & 1) &&
	      wc > 1700000000ul && sh->wc_nsec < 1000000000u);
	events_on();

	/* Block until the timer: a couple of blocks at most, not a busy loop. */
	unsigned long before = seen[t], b0 = blocks;
	uint64_t t0 = now_ns();
	expect("set_timer_op(+10 ms)", hypercall1(__HYPERVISOR_set_timer_op, t0 + 10000000), 0);
	wait_seen(t, before + 1);
	uint64_t slept = now_ns() - t0;
	console_printf("events: timer woke the blocked domain after %lu us, %lu blocks\n", slept / 1000,
		       blocks - b0);
	check("  ... not before its time, not a second late", slept >= 10000000 && slept < 1000000000);
	check("  ... it blocked (at most 3 SCHEDOP_block)", blocks - b0 >= 1 && blocks - b0 <= 3);
	check("  ... through the callback, upcalls masked in it", upcalls > 0 && masked_in_callback == upcalls);
	before = seen[t];
	expect("set_timer_op(in the past): at once", hypercall1(__HYPERVISOR_set_timer_op, 1), 0);
	check("  ... delivered on the way back", seen[t] == before + 1);
	expect("set_timer_op(+2 ms), then cancelled", hypercall1(__HYPERVISOR_set_timer_op, now_ns() + 2000000), 0);
	expect("  ... set_timer_op(0)", hypercall1(__HYPERVISOR_set_timer_op, 0), 0);
	before = seen[t];
	for (uint64_t s0 = now_ns(); now_ns() - s0 < 10000000;)
		hypercall2(__HYPERVISOR_xen_version, 0, 0);       /* returns to the guest, where upcalls land */
	check("  ... no timer event after the cancel", seen[t] == before);

	/* Linux's timers: VCPUOP single-shot (with VCPU_SSHOTTMR_future) and periodic. */
	struct vcpu_set_singleshot_timer ss = { .timeout_abs_ns = now_ns() - 1000000, .flags = VCPU_SSHOTTMR_future };
	expect("VCPUOP_set_singleshot_timer, past, future flag",
	       hypercall3(__HYPERVISOR_vcpu_op, VCPUOP_set_singleshot_timer, 0, (unsigned long)&ss), -62);
	before = seen[t];
	ss = (struct vcpu_set_singleshot_timer){ .timeout_abs_ns = 0 };
	expect("VCPUOP_set_singleshot_timer(0): past, fires at once",
	       hypercall3(__HYPERVISOR_vcpu_op, VCPUOP_set_singleshot_timer, 0, (unsigned long)&ss), 0);
	check("  ... delivered on the way back", seen[t] == before + 1);
	before = seen[t];
	ss = (struct vcpu_set_singleshot_timer){ .timeout_abs_ns = now_ns() + 3000000, .flags = VCPU_SSHOTTMR_future };
	expect("VCPUOP_set_singleshot_timer(+3 ms)",
	       hypercall3(__HYPERVISOR_vcpu_op, VCPUOP_set_singleshot_timer, 0, (unsigned long)&ss), 0);
	wait_seen(t, before + 1);
	check("  ... fired", seen[t] == before + 1);
	struct vcpu_set_periodic_timer per = { .period_ns = 100000 };
	expect("VCPUOP_set_periodic_timer(100 us)",
	       hypercall3(__HYPERVISOR_vcpu_op, VCPUOP_set_periodic_timer, 0, (unsigned long)&per), -XEN_EINVAL);
	per.period_ns = 5000000;
	before = seen[t];
	t0 = now_ns();
	expect("VCPUOP_set_periodic_timer(5 ms)",
	       hypercall3(__HYPERVISOR_vcpu_op, VCPUOP_set_periodic_timer, 0, (unsigned long)&per), 0);
	wait_seen(t, before + 3);
	uint64_t took = now_ns() - t0;
	console_printf("events: 3 periodic ticks in %lu us\n", took / 1000);
	check("  ... not before 15 ms", took >= 15000000);
	expect("VCPUOP_stop_periodic_timer", hypercall3(__HYPERVISOR_vcpu_op, VCPUOP_stop_periodic_timer, 0, 0), 0);
	before = seen[t];
	for (uint64_t s0 = now_ns(); now_ns() - s0 < 20000000;)
		hypercall2(__HYPERVISOR_xen_version, 0, 0);
	check("  ... no tick after the stop", seen[t] == before);

	/* A masked port: pending, no upcall, until it is unmasked. */
	__atomic_fetch_or(&sh->evtchn_mask[0], 1ull << t, __ATOMIC_SEQ_CST);
	before = seen[t];
	unsigned long up = upcalls;
	expect("set_timer_op(+1 ms), port masked", hypercall1(__HYPERVISOR_set_timer_op, now_ns() + 1000000), 0);
	for (uint64_t s0 = now_ns(); now_ns() - s0 < 20000000;)
		;
	check("  ... pending, no upcall", (sh->evtchn_pending[0] & (1ull << t)) && upcalls == up);
	struct evtchn_unmask um = { t };
	expect("unmask: the upcall comes", evtchn_op(EVTCHNOP_unmask, &um), 0);
	check("  ... delivered", seen[t] == before + 1);

	/* SCHEDOP_poll: Linux's wait on a masked port (its PV spinlocks). */
	struct sched_poll poll = { .ports = (uint64_t)&t, .nr_ports = 1, .timeout = now_ns() + 5000000 };
	__atomic_fetch_or(&sh->evtchn_mask[0], 1ull << t, __ATOMIC_SEQ_CST);
	uint64_t p0 = now_ns();
	expect("SCHEDOP_poll, nothing pending, 5 ms timeout", hypercall2(__HYPERVISOR_sched_op, SCHEDOP_poll,
	       (unsigned long)&poll), 0);
	uint64_t waited = now_ns() - p0;
	check("  ... it waited for the timeout", waited >= 5000000 && waited < 1000000000);
	expect("set_timer_op(+3 ms), its port masked", hypercall1(__HYPERVISOR_set_timer_op, now_ns() + 3000000), 0);
	poll.timeout = now_ns() + 2000000000ull;
	p0 = now_ns();
	expect("SCHEDOP_poll on the masked port, 2 s timeout", hypercall2(__HYPERVISOR_sched_op, SCHEDOP_poll,
	       (unsigned long)&poll), 0);
	waited = now_ns() - p0;
	console_printf("events: the masked timer port ended the poll after %lu us\n", waited / 1000);
	check("  ... pending, and long before the timeout", (sh->evtchn_pending[0] & (1ull << t)) &&
	      waited < 1000000000);
	expect("SCHEDOP_poll on it again: at once", hypercall2(__HYPERVISOR_sched_op, SCHEDOP_poll,
	       (unsigned long)&poll), 0);
	evtchn_test_and_clear(sh->evtchn_pending, t);
	__atomic_fetch_and(&sh->evtchn_mask[0], ~(1ull << t), __ATOMIC_SEQ_CST);
	poll.nr_ports = 129;
	expect("SCHEDOP_poll, 129 ports", hypercall2(__HYPERVISOR_sched_op, SCHEDOP_poll, (unsigned long)&poll),
	       -XEN_EINVAL);
	uint32_t far_port = 5000;
	poll = (struct sched_poll){ .ports = (uint64_t)&far_port, .nr_ports = 1 };
	expect("SCHEDOP_poll, port 5000", hypercall2(__HYPERVISOR_sched_op, SCHEDOP_poll, (unsigned long)&poll),
	       -XEN_EINVAL);

	/* An IPI port: a send to ourselves. */
	struct evtchn_bind_ipi bi = { .vcpu = 0 };
	expect("bind_ipi", evtchn_op(EVTCHNOP_bind_ipi, &bi), 0);
	before = bi.port < 64 ? seen[bi.port] : 0;
	expect("send on it", send(bi.port), 0);
	check("  ... delivered", bi.port < 64 && seen[bi.port] == before + 1);

	/* The upcall mask (the guest's virtual IF): held back while set, delivered once cleared. */
	__atomic_store_n(&vi->evtchn_upcall_mask, 1, __ATOMIC_SEQ_CST);
	before = bi.port < 64 ? seen[bi.port] : 0;
	expect("send with upcalls masked", send(bi.port), 0);
	check("  ... held back, the upcall pending", bi.port < 64 && seen[bi.port] == before &&
						    vi->evtchn_upcall_pending);
	__atomic_store_n(&vi->evtchn_upcall_mask, 0, __ATOMIC_SEQ_CST);
	expect("unmasked, then any hypercall", hypercall2(__HYPERVISOR_xen_version, 0, 0) > 0, 1);
	check("  ... delivered on its way back", bi.port < 64 && seen[bi.port] == before + 1);

	/* Refusals. */
	expect("bind_virq(VIRQ_TIMER) again", evtchn_op(EVTCHNOP_bind_virq, &bv), -XEN_EEXIST);
	expect("send on the VIRQ port", send(t), -XEN_EINVAL);
	expect("send on port 999 (closed)", send(999), -XEN_EINVAL);
	expect("send on port 5000 (past the ABI)", send(5000), -XEN_EINVAL);
	struct evtchn_bind_interdomain bd = { .remote_dom = 7, .remote_port = 1 };
	expect("bind_interdomain to domain 7", evtchn_op(EVTCHNOP_bind_interdomain, &bd), -XEN_ESRCH);
	expect("EVTCHNOP_init_control (FIFO)", evtchn_op(EVTCHNOP_init_control, &bd), -XEN_ENOSYS);
	expect("event_channel_op, hypervisor pointer",
	       hypercall2(__HYPERVISOR_event_channel_op, EVTCHNOP_send, 0xffff830000000000ul), -XEN_EFAULT);
	struct evtchn_close cl = { t };
	expect("close the VIRQ port", evtchn_op(EVTCHNOP_close, &cl), 0);
	expect("  ... closed twice", evtchn_op(EVTCHNOP_close, &cl), -XEN_EINVAL);
	console_printf("events: %lu upcalls\n", upcalls);
	return failures ? 1 : 0;
}

static int ping_mode(unsigned long rounds)
{
	struct evtchn_alloc_unbound au = { .dom = DOMID_SELF, .remote_dom = 1 };
	expect("alloc_unbound for domain 1", evtchn_op(EVTCHNOP_alloc_unbound, &au), 0);
	check("  ... port 1 (the convention)", au.port == 1);
	if (au.port != 1)
		return 1;
	events_on();
	wait_seen(1, 1);                              /* pong's hello: it is bound */
	console_printf("events: domain 1 bound our port\n");
	uint64_t best = ~0ull, total = 0;
	for (unsigned long i = 0; i < rounds; i++) {
		uint64_t t0 = rdtsc();
		send(au.port);
		wait_seen(1, i + 2);
		uint64_t d = rdtsc() - t0;
		total += d;
		best = d < best ? d : best;
	}
	console_printf("events: %lu round trips to domain 1, %lu cycles each on average, %lu at best\n",
		       rounds, rounds ? total / rounds : 0, best);
	check("round trips done", true);
	return failures ? 1 : 0;
}

static int pong_mode(unsigned long rounds)
{
	struct evtchn_bind_interdomain bd = { .remote_dom = 0, .remote_port = 1 };
	long rc = -1;
	/* Domain 0 may not have allocated its port yet: try for a while. */
	for (uint64_t t0 = now_ns(); rc != 0 && now_ns() - t0 < 10000000000ull;) {
		rc = evtchn_op(EVTCHNOP_bind_interdomain, &bd);
		if (rc)
			hypercall2(__HYPERVISOR_sched_op, SCHEDOP_yield, 0);
	}
	expect("bind_interdomain to domain 0 port 1", rc, 0);
	if (rc)
		return 1;
	uint32_t p = bd.local_port;
	check("  ... our new port starts pending (as Xen)", p < 64 && evtchn_test_and_clear(sh->evtchn_pending, p));
	if (p >= 64)
		return 1;
	events_on();
	send(p);                                      /* hello */
	for (unsigned long i = 0; i < rounds; i++) {
		wait_seen(p, i + 1);
		send(p);
	}
	console_printf("events: answered %lu times\n", rounds);
	check("answers done", true);
	return failures ? 1 : 0;
}

int guest_main(struct start_info *si)
{
	memcpy(cmdline, si->cmd_line, MAX_GUEST_CMDLINE);
	cmdline[MAX_GUEST_CMDLINE] = '\0';
	if (pt_init(si)) {
		console_printf("events: start-of-day layout not understood FAIL\n");
		return 1;
	}
	uint64_t va = (uint64_t)pt_pfn_to_va(pt_alloc_mapped_pfn());
	if (hyp_update_va_mapping(va, si->shared_info | PTE_P | PTE_W, UVMF_INVLPG)) {
		console_printf("events: shared_info not mapped FAIL\n");
		return 1;
	}
	sh = (struct shared_info *)va;
	vi = &sh->vcpu_info[0];
	int rc;
	if (strstr(cmdline, "attack=no-callback")) {
		/* An upcall due with no event callback: the domain is crashed, as on Xen. */
		struct evtchn_bind_ipi bi = { .vcpu = 0 };
		expect("bind_ipi", evtchn_op(EVTCHNOP_bind_ipi, &bi), 0);
		__atomic_store_n(&vi->evtchn_upcall_mask, 0, __ATOMIC_SEQ_CST);
		console_printf("events: sending with upcalls on and no callback\n");
		send(bi.port);
		console_printf("events: still running FAIL\n");
		return 1;
	}
	if (strstr(cmdline, "ping="))
		rc = ping_mode(option("ping="));
	else if (strstr(cmdline, "pong="))
		rc = pong_mode(option("pong="));
	else
		rc = timer_mode();
	console_printf("events: done, %s\n", rc ? "FAILED" : "all ok");
	return rc;
}
