/*
 * Event channels on the hosted machine (core/event.c): Xen's EVTCHNOP_*
 * through the hypercall as a guest would make it, between a privileged
 * domain 0 (B) and an unprivileged domain 1 (A) made by the domain
 * builder; set_timer_op and VIRQ_TIMER; SCHEDOP_block; a domain's end.
 * Every step checks the errno and what the guests see: the pending and
 * mask bitmaps of shared_info, vcpu_info's selector and upcall flags, and
 * EVTCHNOP_status. A refused request must leave all of that, and the
 * hypervisor's port tables, exactly as they were.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "harness.h"
#include "hosted_machine.h"

#include <arch/hosted.h>
#include <core/domain.h>
#include <core/event.h>
#include <core/hypercall.h>
#include <mm/frame_alloc.h>
#include <mm/frame_table.h>
#include <mm/memmap.h>
#include <public/event_channel.h>
#include <public/sched.h>
#include <public/xen.h>
#include <vireo/errno.h>
#include <vireo/machine.h>

#define DOM_MEM (16u << 20)
#define NOWHERE 7                     /* a domain id with no domain */

static uint8_t kernel[1 << 20];
static size_t kernel_len;
static uint64_t free_at_start;
static struct domain *A, *B;          /* A unprivileged (domid 1), B privileged (domid 0) */

static void machine_once(void)
{
	hosted_machine_once("test_event", 96u << 20, kernel, sizeof(kernel), &kernel_len, &free_at_start);
}

static bool setup(void)
{
	machine_once();
	hosted_switch_to(NULL);
	for (unsigned id = 0; id < 2; id++)                 /* a failed test's, left by REQUIRE */
		if (domain_by_id(id)->state != DOMAIN_EMPTY)
			domain_destroy(domain_by_id(id));
	cpu_vcpu[1] = NULL;
	if (!hosted_build_pair(kernel, kernel_len, DOM_MEM, &B, &A))
		return false;
	return true;
}

/* Both domains destroyed: every frame back, the port tables (heap frames) too. */
static void teardown(void)
{
	hosted_switch_to(NULL);
	domain_destroy(A);
	domain_destroy(B);
	CHECK_EQ(frame_nr_free(), free_at_start);
}

/* ---- the hypercalls, as the guest makes them ----------------------------------- */

/* Guest scratch memory for arguments: the slack after the boot stack (mapped writable). */
static uint64_t scratch_va(struct domain *d) { return d->layout.vstack_end; }

static void put_guest(struct domain *d, uint64_t va, const void *src, size_t len)
{
	struct domain *was = current_domain;
	hosted_switch_to(d);
	if (copy_to_guest(va, src, len) != 0) {
		fprintf(stderr, "test_event: scratch copy to 0x%llx failed\n", (unsigned long long)va);
		abort();
	}
	hosted_switch_to(was);
}

/* EVTCHNOP cmd by d with its argument at guest address va. */
static long evtchn_raw(struct domain *d, uint64_t cmd, uint64_t va)
{
	hosted_switch_to(d);
	return hosted_hypercall(__HYPERVISOR_event_channel_op, cmd, va, 0, 0, 0, NULL);
}

/* EVTCHNOP cmd by d on *arg (len bytes) in its scratch memory; the OUT fields come back in *arg. */
static long evtchn_op(struct domain *d, uint64_t cmd, void *arg, size_t len)
{
	uint64_t va = scratch_va(d);
	put_guest(d, va, arg, len);
	long rc = evtchn_raw(d, cmd, va);
	if (copy_from_guest(arg, va, len) != 0)
		abort();
	return rc;
}

/* The allocating commands: the new port (never 0), or the negative errno. */
static long alloc_unbound_as(struct domain *d, uint16_t dom, uint16_t remote_dom)
{
	struct evtchn_alloc_unbound a = { .dom = dom, .remote_dom = remote_dom, .port = 0xdead };
	long rc = evtchn_op(d, EVTCHNOP_alloc_unbound, &a, sizeof(a));
	return rc ? rc : a.port;
}

static long alloc_unbound(struct domain *d, uint16_t remote_dom)
{
	return alloc_unbound_as(d, DOMID_SELF, remote_dom);
}

static long bind_interdomain(struct domain *d, uint16_t remote_dom, uint32_t remote_port)
{
	struct evtchn_bind_interdomain b = { .remote_dom = remote_dom, .remote_port = remote_port,
					     .local_port = 0xdead };
	long rc = evtchn_op(d, EVTCHNOP_bind_interdomain, &b, sizeof(b));
	return rc ? rc : b.local_port;
}

static long bind_virq(struct domain *d, uint32_t virq, uint32_t vcpu)
{
	struct evtchn_bind_virq b = { .virq = virq, .vcpu = vcpu, .port = 0xdead };
	long rc = evtchn_op(d, EVTCHNOP_bind_virq, &b, sizeof(b));
	return rc ? rc : b.port;
}

static long bind_ipi(struct domain *d, uint32_t vcpu)
{
	struct evtchn_bind_ipi b = { .vcpu = vcpu, .port = 0xdead };
	long rc = evtchn_op(d, EVTCHNOP_bind_ipi, &b, sizeof(b));
	return rc ? rc : b.port;
}

/* send, close and unmask take only a port (struct evtchn_send, _close, _unmask). */
static long send(struct domain *d, uint32_t port)
{
	struct evtchn_send s = { port };
	return evtchn_op(d, EVTCHNOP_send, &s, sizeof(s));
}

static long evclose(struct domain *d, uint32_t port)
{
	struct evtchn_close c = { port };
	return evtchn_op(d, EVTCHNOP_close, &c, sizeof(c));
}

static long unmask(struct domain *d, uint32_t port)
{
	struct evtchn_unmask u = { port };
	return evtchn_op(d, EVTCHNOP_unmask, &u, sizeof(u));
}

static long bind_vcpu(struct domain *d, uint32_t port, uint32_t vcpu)
{
	struct evtchn_bind_vcpu b = { .port = port, .vcpu = vcpu };
	return evtchn_op(d, EVTCHNOP_bind_vcpu, &b, sizeof(b));
}

static long status_as(struct domain *d, uint16_t dom, uint32_t port, struct evtchn_status *st)
{
	*st = (struct evtchn_status){ .dom = dom, .port = port, .status = 0xdead };
	return evtchn_op(d, EVTCHNOP_status, st, sizeof(*st));
}

static long reset(struct domain *d, uint16_t dom)
{
	struct evtchn_reset r = { dom };
	return evtchn_op(d, EVTCHNOP_reset, &r, sizeof(r));
}

static long timer_op(struct domain *d, uint64_t timeout)
{
	hosted_switch_to(d);
	return hosted_hypercall(__HYPERVISOR_set_timer_op, timeout, 0, 0, 0, 0, NULL);
}

/*
 * EVTCHNOP_status of d's port says state, with peer (the unbound port's
 * remote domain, the interdomain peer; the VIRQ for a VIRQ port) and
 * rport (the interdomain peer's port). Mismatches are printed.
 */
static bool status_is(struct domain *d, uint32_t port, uint32_t state, uint32_t peer, uint32_t rport)
{
	struct evtchn_status st;
	long rc = status_as(d, DOMID_SELF, port, &st);
	bool ok = rc == 0 && st.status == state && st.vcpu == 0;
	if (ok && state == EVTCHNSTAT_unbound)
		ok = st.u.unbound.dom == peer;
	if (ok && state == EVTCHNSTAT_interdomain)
		ok = st.u.interdomain.dom == peer && st.u.interdomain.port == rport;
	if (ok && state == EVTCHNSTAT_virq)
		ok = st.u.virq == peer;
	if (!ok)
		fprintf(stderr, "    status of d%u port %u: rc %ld status %u vcpu %u u %u/%u (want %u %u/%u)\n",
			d->domid, port, rc, st.status, st.vcpu, st.u.raw._output1, st.u.raw._output2,
			state, peer, rport);
	return ok;
}

/* ---- what the guest sees ---------------------------------------------------------- */

static struct shared_info *sh(struct domain *d) { return mfn_to_virt(d->shared_info_mfn); }
static struct vcpu_info *vi(struct domain *d) { return vcpu_info_of(d->vcpu[0]); }

static bool pending(struct domain *d, unsigned p) { return sh(d)->evtchn_pending[p / 64] >> (p % 64) & 1; }
static bool masked(struct domain *d, unsigned p) { return sh(d)->evtchn_mask[p / 64] >> (p % 64) & 1; }
static bool sel(struct domain *d, unsigned p) { return vi(d)->evtchn_pending_sel >> (p / 64) & 1; }
static bool upcall(struct domain *d) { return vi(d)->evtchn_upcall_pending; }

static unsigned nr_pending(struct domain *d)
{
	unsigned n = 0;
	for (unsigned w = 0; w < XEN_EVTCHN_2L_WORDS; w++)
		n += (unsigned)__builtin_popcountll(sh(d)->evtchn_pending[w]);
	return n;
}

/* The guest masks (or unmasks) a port itself, in shared_info. */
static void set_mask(struct domain *d, unsigned p, bool on)
{
	if (on)
		sh(d)->evtchn_mask[p / 64] |= 1ull << (p % 64);
	else
		sh(d)->evtchn_mask[p / 64] &= ~(1ull << (p % 64));
}

/* What the guest's upcall handler does: flags cleared, every pending port handled. */
static void guest_ack_all(struct domain *d)
{
	vi(d)->evtchn_upcall_pending = 0;
	vi(d)->evtchn_pending_sel = 0;
	memset(sh(d)->evtchn_pending, 0, sizeof(sh(d)->evtchn_pending));
}

/* Exactly port p of d pending, with its selector bit and the upcall. */
static bool only_pending(struct domain *d, unsigned p)
{
	return nr_pending(d) == 1 && pending(d, p) && vi(d)->evtchn_pending_sel == 1ull << (p / 64) &&
	       upcall(d);
}

static bool quiet(struct domain *d)
{
	return nr_pending(d) == 0 && vi(d)->evtchn_pending_sel == 0 && !upcall(d);
}

/*
 * Everything a refused request must leave alone, in both domains: the
 * guest-visible bitmaps and flags, and the hypervisor's ports, VIRQ
 * bindings and timer.
 */
struct evsnap {
	xen_ulong_t pending[2][XEN_EVTCHN_2L_WORDS], mask[2][XEN_EVTCHN_2L_WORDS];
	xen_ulong_t sel[2];
	uint8_t upcall[2], upcall_mask[2];
	bool table[2];
	struct evtchn port[2][EVTCHN_PORTS];
	uint32_t virq_port[2][NR_VIRQS];
	uint64_t timer_ns[2];
};

static void snap_take(struct evsnap *s)
{
	memset(s, 0, sizeof(*s));
	for (unsigned i = 0; i < 2; i++) {
		struct domain *d = i ? B : A;
		memcpy(s->pending[i], sh(d)->evtchn_pending, sizeof(s->pending[i]));
		memcpy(s->mask[i], sh(d)->evtchn_mask, sizeof(s->mask[i]));
		s->sel[i] = vi(d)->evtchn_pending_sel;
		s->upcall[i] = vi(d)->evtchn_upcall_pending;
		s->upcall_mask[i] = vi(d)->evtchn_upcall_mask;
		s->table[i] = d->ev.port != NULL;
		if (d->ev.port)
			memcpy(s->port[i], d->ev.port, sizeof(s->port[i]));
		memcpy(s->virq_port[i], d->vcpu[0]->ev.virq_port, sizeof(s->virq_port[i]));
		s->timer_ns[i] = d->vcpu[0]->ev.timer_ns;
	}
}

static bool snap_same(const struct evsnap *a, const struct evsnap *b)
{
	return !memcmp(a, b, sizeof(*a));
}

/* A refusal: the errno, and nothing changed. */
static struct evsnap before, after;
#define REFUSED(call, err) \
	do { \
		snap_take(&before); \
		CHECK_EQ((call), -(long)(err)); \
		snap_take(&after); \
		CHECK(snap_same(&before, &after)); \
	} while (0)

/* ---- interdomain channels ------------------------------------------------------------ */

static void interdomain_connect_send_close(void)
{
	REQUIRE(setup());
	long pa = alloc_unbound(A, 0);                     /* A's port, for B to connect */
	REQUIRE(pa > 0);
	CHECK(status_is(A, (uint32_t)pa, EVTCHNSTAT_unbound, 0, 0));
	CHECK(quiet(A));
	CHECK(quiet(B));

	/* B connects: its new port is pending at once (Xen does so); A's is not. */
	long pb = bind_interdomain(B, 1, (uint32_t)pa);
	REQUIRE(pb > 0);
	CHECK(only_pending(B, (unsigned)pb));
	CHECK(quiet(A));
	CHECK(status_is(A, (uint32_t)pa, EVTCHNSTAT_interdomain, 0, (uint32_t)pb));
	CHECK(status_is(B, (uint32_t)pb, EVTCHNSTAT_interdomain, 1, (uint32_t)pa));
	guest_ack_all(B);

	/* A sends: B's port; twice: still one bit. */
	CHECK_EQ(send(A, (uint32_t)pa), 0);
	CHECK(only_pending(B, (unsigned)pb));
	CHECK(quiet(A));
	CHECK_EQ(send(A, (uint32_t)pa), 0);
	CHECK(only_pending(B, (unsigned)pb));
	CHECK(quiet(A));
	guest_ack_all(B);

	/* B sends: A's port. */
	CHECK_EQ(send(B, (uint32_t)pb), 0);
	CHECK(only_pending(A, (unsigned)pa));
	CHECK(quiet(B));
	guest_ack_all(A);

	/* Masked: the pending bit, no selector bit, no upcall; the unmask raises them. */
	set_mask(B, (unsigned)pb, true);
	CHECK_EQ(send(A, (uint32_t)pa), 0);
	CHECK(pending(B, (unsigned)pb));
	CHECK(!sel(B, (unsigned)pb));
	CHECK(!upcall(B));
	CHECK_EQ(unmask(B, (uint32_t)pb), 0);
	CHECK(!masked(B, (unsigned)pb));
	CHECK(only_pending(B, (unsigned)pb));
	guest_ack_all(B);
	/* Unmasking a port that is not pending raises nothing. */
	set_mask(B, (unsigned)pb, true);
	CHECK_EQ(unmask(B, (uint32_t)pb), 0);
	CHECK(!masked(B, (unsigned)pb));
	CHECK(quiet(B));

	/* A closes: B's port waits for A again; B's send is dropped. */
	CHECK_EQ(evclose(A, (uint32_t)pa), 0);
	CHECK(status_is(A, (uint32_t)pa, EVTCHNSTAT_closed, 0, 0));
	CHECK(status_is(B, (uint32_t)pb, EVTCHNSTAT_unbound, 1, 0));
	CHECK_EQ(send(B, (uint32_t)pb), 0);
	CHECK(quiet(A));
	CHECK(quiet(B));
	CHECK_EQ(send(A, (uint32_t)pa), -VIREO_EINVAL);

	/* A connects to B's waiting port: a fresh port of A, pending. */
	long pa2 = bind_interdomain(A, 0, (uint32_t)pb);
	REQUIRE(pa2 > 0);
	CHECK(only_pending(A, (unsigned)pa2));
	CHECK(status_is(B, (uint32_t)pb, EVTCHNSTAT_interdomain, 1, (uint32_t)pa2));
	CHECK(status_is(A, (uint32_t)pa2, EVTCHNSTAT_interdomain, 0, (uint32_t)pb));
	teardown();
}

/* A new upcall kicks the CPU the domain runs on (another one); one already pending does not. */
static void send_kicks_the_peers_cpu_once(void)
{
	REQUIRE(setup());
	long pa = alloc_unbound(A, 0);
	long pb = bind_interdomain(B, 1, (uint32_t)pa);
	REQUIRE(pa > 0 && pb > 0);
	guest_ack_all(B);
	hosted_place(B, 1);                               /* B "runs" on CPU 1 */
	uint64_t kicks = hosted_kicks;
	CHECK_EQ(send(A, (uint32_t)pa), 0);
	CHECK_EQ(hosted_kicks, kicks + 1);
	CHECK_EQ(send(A, (uint32_t)pa), 0);
	CHECK_EQ(hosted_kicks, kicks + 1);
	/* Another port in the same word, while the upcall is still pending: no kick either. */
	long pb2 = bind_ipi(B, 0);
	REQUIRE(pb2 > 0);
	CHECK_EQ(send(B, (uint32_t)pb2), 0);
	CHECK(pending(B, (unsigned)pb2));
	CHECK_EQ(hosted_kicks, kicks + 1);
	/* Masked: no upcall, no kick. */
	guest_ack_all(B);
	set_mask(B, (unsigned)pb, true);
	CHECK_EQ(send(A, (uint32_t)pa), 0);
	CHECK_EQ(hosted_kicks, kicks + 1);
	hosted_place(B, -1);
	teardown();
}

static void loopback(void)
{
	REQUIRE(setup());
	long p1 = alloc_unbound(A, DOMID_SELF);
	REQUIRE(p1 > 0);
	CHECK(status_is(A, (uint32_t)p1, EVTCHNSTAT_unbound, 1, 0));
	long p2 = bind_interdomain(A, DOMID_SELF, (uint32_t)p1);
	REQUIRE(p2 > 0);
	CHECK(p2 != p1);
	CHECK(only_pending(A, (unsigned)p2));
	CHECK(status_is(A, (uint32_t)p1, EVTCHNSTAT_interdomain, 1, (uint32_t)p2));
	CHECK(status_is(A, (uint32_t)p2, EVTCHNSTAT_interdomain, 1, (uint32_t)p1));
	guest_ack_all(A);
	CHECK_EQ(send(A, (uint32_t)p1), 0);
	CHECK(only_pending(A, (unsigned)p2));
	guest_ack_all(A);
	CHECK_EQ(send(A, (uint32_t)p2), 0);
	CHECK(only_pending(A, (unsigned)p1));
	guest_ack_all(A);
	CHECK(quiet(B));
	/* Closing one end: the other waits for A itself. */
	CHECK_EQ(evclose(A, (uint32_t)p1), 0);
	CHECK(status_is(A, (uint32_t)p2, EVTCHNSTAT_unbound, 1, 0));
	CHECK_EQ(send(A, (uint32_t)p2), 0);
	CHECK(quiet(A));
	/* Its own id works as DOMID_SELF does. */
	long p3 = alloc_unbound(A, 1);
	REQUIRE(p3 > 0);
	long p4 = bind_interdomain(A, 1, (uint32_t)p3);
	REQUIRE(p4 > 0);
	CHECK(status_is(A, (uint32_t)p3, EVTCHNSTAT_interdomain, 1, (uint32_t)p4));
	CHECK_EQ(evclose(A, (uint32_t)p4), 0);
	CHECK(status_is(A, (uint32_t)p3, EVTCHNSTAT_unbound, 1, 0));
	teardown();
}

/* EVTCHNOP_reset: every port closed; a peer's end waits again. */
static void reset_closes_every_port(void)
{
	REQUIRE(setup());
	long pa = alloc_unbound(A, 0);
	long pb = bind_interdomain(B, 1, (uint32_t)pa);
	long pv = bind_virq(A, VIRQ_TIMER, 0);
	long pi = bind_ipi(A, 0);
	REQUIRE(pa > 0 && pb > 0 && pv > 0 && pi > 0);
	REFUSED(reset(A, 0), VIREO_EPERM);
	REFUSED(reset(B, 1), VIREO_EOPNOTSUPP);
	CHECK_EQ(reset(A, DOMID_SELF), 0);
	CHECK(status_is(A, (uint32_t)pa, EVTCHNSTAT_closed, 0, 0));
	CHECK(status_is(A, (uint32_t)pv, EVTCHNSTAT_closed, 0, 0));
	CHECK(status_is(A, (uint32_t)pi, EVTCHNSTAT_closed, 0, 0));
	CHECK(status_is(B, (uint32_t)pb, EVTCHNSTAT_unbound, 1, 0));
	CHECK_EQ(A->vcpu[0]->ev.virq_port[VIRQ_TIMER], 0);
	/* The VIRQ can be bound again; the lowest port comes back. */
	CHECK_EQ(bind_virq(A, VIRQ_TIMER, 0), 1);
	teardown();
}

/* ---- VIRQs and the timer ----------------------------------------------------------- */

static void virq_timer(void)
{
	REQUIRE(setup());
	long pt = bind_virq(A, VIRQ_TIMER, 0);
	REQUIRE(pt > 0);
	CHECK(status_is(A, (uint32_t)pt, EVTCHNSTAT_virq, VIRQ_TIMER, 0));
	CHECK_EQ(A->vcpu[0]->ev.virq_port[VIRQ_TIMER], pt);
	REFUSED(bind_virq(A, VIRQ_TIMER, 0), VIREO_EEXIST);
	REFUSED(bind_virq(A, VIRQ_TIMER, 1), VIREO_ENOENT);
	REFUSED(bind_virq(A, VIRQ_DEBUG, 1), VIREO_ENOENT);
	REFUSED(bind_virq(A, NR_VIRQS, 0), VIREO_EINVAL);
	REFUSED(bind_virq(A, 0xFFFFFFFFu, 0), VIREO_EINVAL);
	REFUSED(send(A, (uint32_t)pt), VIREO_EINVAL);       /* the hypervisor's to raise */
	CHECK(quiet(A));

	/* A deadline already past: at once, and no timer left armed. */
	hosted_timer_ns = 12345;
	CHECK_EQ(timer_op(A, 1), 0);
	CHECK(only_pending(A, (unsigned)pt));
	CHECK_EQ(A->vcpu[0]->ev.timer_ns, 0);
	CHECK_EQ(hosted_timer_ns, 0);
	CHECK(quiet(B));
	guest_ack_all(A);

	/* Far ahead: armed; an early interrupt (the APIC's rounding) re-arms, raises nothing. */
	uint64_t far = machine_now_ns() + 1000000000ull;
	CHECK_EQ(timer_op(A, far), 0);
	CHECK_EQ(hosted_timer_ns, far);
	CHECK_EQ(A->vcpu[0]->ev.timer_ns, far);
	hosted_timer_ns = 0;
	hosted_switch_to(A);
	evtchn_timer_interrupt();
	CHECK_EQ(hosted_timer_ns, far);
	CHECK(quiet(A));

	/* 2 ms ahead: armed, nothing yet; once it has passed, the interrupt raises VIRQ_TIMER. */
	uint64_t when = machine_now_ns() + 2000000;
	CHECK_EQ(timer_op(A, when), 0);
	if (machine_now_ns() < when) {                      /* else this thread slept past it */
		CHECK_EQ(hosted_timer_ns, when);
		CHECK_EQ(A->vcpu[0]->ev.timer_ns, when);
		CHECK(quiet(A));
	}
	while (machine_now_ns() < when) {
		struct timespec ts = { 0, 500000 };
		nanosleep(&ts, NULL);
	}
	hosted_switch_to(A);
	evtchn_timer_interrupt();
	CHECK(only_pending(A, (unsigned)pt));
	CHECK_EQ(A->vcpu[0]->ev.timer_ns, 0);
	CHECK_EQ(A->ev.raised, 2);
	guest_ack_all(A);
	evtchn_timer_interrupt();                           /* one shot */
	CHECK(quiet(A));

	/* 0 cancels. */
	CHECK_EQ(timer_op(A, machine_now_ns() + 1000000000ull), 0);
	CHECK(hosted_timer_ns != 0);
	CHECK_EQ(timer_op(A, 0), 0);
	CHECK_EQ(hosted_timer_ns, 0);
	CHECK_EQ(A->vcpu[0]->ev.timer_ns, 0);
	hosted_switch_to(A);
	evtchn_timer_interrupt();
	CHECK(quiet(A));

	/* Another domain's timer interrupt: not A's deadline. */
	when = machine_now_ns() + 1000000;
	CHECK_EQ(timer_op(A, when), 0);
	bool armed = A->vcpu[0]->ev.timer_ns != 0;
	while (machine_now_ns() < when) {
		struct timespec ts = { 0, 500000 };
		nanosleep(&ts, NULL);
	}
	hosted_switch_to(B);
	evtchn_timer_interrupt();
	if (armed)
		CHECK(quiet(A));
	CHECK(quiet(B));
	hosted_switch_to(A);
	evtchn_timer_interrupt();
	CHECK(only_pending(A, (unsigned)pt));
	guest_ack_all(A);

	/* Closed: the VIRQ is unbound (a timer raises nothing), and can be bound again. */
	CHECK_EQ(evclose(A, (uint32_t)pt), 0);
	CHECK_EQ(A->vcpu[0]->ev.virq_port[VIRQ_TIMER], 0);
	CHECK_EQ(timer_op(A, 1), 0);
	CHECK(quiet(A));
	long pt2 = bind_virq(A, VIRQ_TIMER, 0);
	CHECK_EQ(pt2, pt);
	CHECK(quiet(A));                                    /* a fresh port starts quiet */
	/* A global VIRQ binds alongside. */
	long pc = bind_virq(A, VIRQ_CONSOLE, 0);
	CHECK(pc > 0 && pc != pt2);
	CHECK(status_is(A, (uint32_t)pc, EVTCHNSTAT_virq, VIRQ_CONSOLE, 0));
	teardown();
}

/* Xen's formula over vcpu_info.time gives machine_now_ns() (the clock set_timer_op uses). */
static uint64_t guest_system_time(const struct vcpu_time_info *t, uint64_t tsc)
{
	uint64_t delta = tsc - t->tsc_timestamp;
	delta = t->tsc_shift >= 0 ? delta << t->tsc_shift : delta >> -t->tsc_shift;
	return t->system_time + (uint64_t)(((unsigned __int128)delta * t->tsc_to_system_mul) >> 32);
}

static bool time_close(struct domain *d)
{
	struct vcpu_time_info t = vi(d)->time;
	uint64_t sys = guest_system_time(&t, machine_tsc());
	uint64_t now = machine_now_ns();
	uint64_t diff = sys > now ? sys - now : now - sys;
	if (diff > 3000000)
		fprintf(stderr, "    d%u: guest time %llu, machine %llu\n", d->domid, (unsigned long long)sys,
			(unsigned long long)now);
	return diff <= 3000000;                             /* 3 ms */
}

static void vcpu_time(void)
{
	REQUIRE(setup());
	REQUIRE(machine_tsc_khz() != 0);
	for (unsigned i = 0; i < 2; i++) {
		struct domain *d = i ? B : A;
		struct vcpu_time_info t = vi(d)->time;
		CHECK(t.version != 0);
		CHECK_EQ(t.version % 2, 0);
		CHECK(t.tsc_to_system_mul != 0);
		CHECK(t.flags & XEN_PVCLOCK_TSC_STABLE_BIT);
		CHECK(t.system_time <= machine_now_ns());
		CHECK(time_close(d));
	}
	/* Still so 100 ms later (the scale, not only the start). */
	struct timespec ts = { 0, 100000000 };
	nanosleep(&ts, NULL);
	CHECK(time_close(A));
	CHECK(time_close(B));
	teardown();
}

/* ---- IPIs, blocking ------------------------------------------------------------------ */

static void ipi(void)
{
	REQUIRE(setup());
	long pi = bind_ipi(A, 0);
	REQUIRE(pi > 0);
	CHECK(status_is(A, (uint32_t)pi, EVTCHNSTAT_ipi, 0, 0));
	CHECK(quiet(A));
	CHECK_EQ(send(A, (uint32_t)pi), 0);
	CHECK(only_pending(A, (unsigned)pi));
	CHECK(quiet(B));
	CHECK_EQ(A->ev.sent, 1);
	REFUSED(bind_ipi(A, 1), VIREO_ENOENT);
	CHECK_EQ(evclose(A, (uint32_t)pi), 0);
	CHECK(!pending(A, (unsigned)pi));                   /* closing clears its pending bit */
	CHECK(status_is(A, (uint32_t)pi, EVTCHNSTAT_closed, 0, 0));
	teardown();
}

static void sched_block(void)
{
	REQUIRE(setup());
	CHECK_EQ(vi(A)->evtchn_upcall_mask, 1);             /* masked from the start */
	uint64_t waits = hosted_waits;
	hosted_switch_to(A);
	CHECK_EQ(hosted_hypercall(__HYPERVISOR_sched_op, SCHEDOP_block, 0, 0, 0, 0, NULL), 0);
	CHECK_EQ(vi(A)->evtchn_upcall_mask, 0);
	CHECK_EQ(hosted_waits, waits + 1);
	CHECK_EQ(A->ev.blocks, 1);
	CHECK_EQ(vi(B)->evtchn_upcall_mask, 1);             /* only the caller's */
	/* With an event pending: unmasked, returns at once, the event still there. */
	long pi = bind_ipi(A, 0);
	REQUIRE(pi > 0);
	CHECK_EQ(send(A, (uint32_t)pi), 0);
	vi(A)->evtchn_upcall_mask = 1;
	hosted_switch_to(A);
	CHECK_EQ(hosted_hypercall(__HYPERVISOR_sched_op, SCHEDOP_block, 0, 0, 0, 0, NULL), 0);
	CHECK_EQ(vi(A)->evtchn_upcall_mask, 0);
	CHECK_EQ(hosted_waits, waits + 2);
	CHECK(only_pending(A, (unsigned)pi));
	teardown();
}

/* SCHEDOP_poll: its refusals, at once when a port is pending (masked too) or an upcall is due, else one wait. */
static long poll_as(struct domain *d, const uint32_t *ports, uint32_t n, uint64_t timeout, uint64_t nr_override)
{
	uint64_t va = scratch_va(d) + 0x1000;
	struct sched_poll p = { .ports = va + 64, .nr_ports = nr_override ? (uint32_t)nr_override : n, .timeout = timeout };
	put_guest(d, va, &p, sizeof(p));
	if (n)
		put_guest(d, va + 64, ports, n * sizeof(*ports));
	hosted_switch_to(d);
	return hosted_hypercall(__HYPERVISOR_sched_op, SCHEDOP_poll, va, 0, 0, 0, NULL);
}

static void sched_poll(void)
{
	REQUIRE(setup());
	long pi = bind_ipi(A, 0);
	REQUIRE(pi > 0);
	uint32_t ports[2] = { (uint32_t)pi, 5 };
	uint64_t waits = hosted_waits;
	REFUSED(poll_as(A, ports, 1, 0, 129), VIREO_EINVAL);
	uint32_t far[1] = { EVTCHN_PORTS };
	REFUSED(poll_as(A, far, 1, 0, 0), VIREO_EINVAL);
	hosted_switch_to(A);
	REFUSED(hosted_hypercall(__HYPERVISOR_sched_op, SCHEDOP_poll, 0xFFFF830000000000ull, 0, 0, 0, NULL), VIREO_EFAULT);
	struct sched_poll bad = { .ports = 0xFFFF830000000000ull, .nr_ports = 1 };
	put_guest(A, scratch_va(A) + 0x1000, &bad, sizeof(bad));
	hosted_switch_to(A);
	REFUSED(hosted_hypercall(__HYPERVISOR_sched_op, SCHEDOP_poll, scratch_va(A) + 0x1000, 0, 0, 0, NULL),
		VIREO_EFAULT);
	CHECK_EQ(hosted_waits, waits);
	/* Nothing pending, no timeout: one wait (the hosted machine's returns at once), then 0. */
	CHECK_EQ(poll_as(A, ports, 2, 0, 0), 0);
	CHECK_EQ(hosted_waits, waits + 1);
	CHECK_EQ(A->vcpu[0]->ev.polling, 0);
	CHECK_EQ(A->ev.pollers, 0);
	/* A timeout already past: no wait. */
	CHECK_EQ(poll_as(A, ports, 2, 1, 0), 0);
	CHECK_EQ(hosted_waits, waits + 1);
	/* A masked port pending (upcalls masked, so no upcall is due): at once. */
	set_mask(A, (unsigned)pi, true);
	CHECK_EQ(send(A, (uint32_t)pi), 0);
	CHECK(pending(A, (unsigned)pi));
	CHECK_EQ(poll_as(A, ports, 2, 0, 0), 0);
	CHECK_EQ(hosted_waits, waits + 1);
	CHECK_EQ(A->vcpu[0]->ev.poll_ns, 0);
	teardown();
}

/* ---- refusals ------------------------------------------------------------------------- */

static void refusals_change_nothing(void)
{
	REQUIRE(setup());
	/*
	 * Some of everything: A's port waiting for B, a connected pair, a VIRQ
	 * and an IPI port of A, B's port waiting for B itself, a port closed
	 * again; some pending, one masked.
	 */
	long pu = alloc_unbound(A, 0);
	long pa = alloc_unbound(A, 0);
	long pb = bind_interdomain(B, 1, (uint32_t)pa);
	long pv = bind_virq(A, VIRQ_TIMER, 0);
	long pi = bind_ipi(A, 0);
	long pself = alloc_unbound(B, DOMID_SELF);
	long pc = bind_ipi(A, 0);
	REQUIRE(pu > 0 && pa > 0 && pb > 0 && pv > 0 && pi > 0 && pself > 0 && pc > 0);
	REQUIRE(evclose(A, (uint32_t)pc) == 0);
	CHECK_EQ(send(A, (uint32_t)pi), 0);
	set_mask(B, (unsigned)pb, true);
	CHECK_EQ(send(A, (uint32_t)pa), 0);
	CHECK(pending(B, (unsigned)pb));

	/* Ports that are not in use: 0, closed, never allocated, out of range. */
	const uint32_t bad[] = { 0, (uint32_t)pc, 100, EVTCHN_PORTS - 1, EVTCHN_PORTS, EVTCHN_PORTS + 1,
				 EVTCHN_2L_NR_CHANNELS, 0xFFFFFFFFu };
	for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		REFUSED(send(A, bad[i]), VIREO_EINVAL);
		REFUSED(evclose(A, bad[i]), VIREO_EINVAL);
		REFUSED(bind_vcpu(A, bad[i], 0), VIREO_EINVAL);
		REFUSED(bind_interdomain(A, 0, bad[i]), VIREO_EINVAL);
		REFUSED(bind_interdomain(A, DOMID_SELF, bad[i]), VIREO_EINVAL);
	}
	REFUSED(unmask(A, 0), 0);                                /* port 0: valid, nothing pending */
	REFUSED(unmask(A, EVTCHN_PORTS), VIREO_EINVAL);
	REFUSED(unmask(A, 0xFFFFFFFFu), VIREO_EINVAL);
	REFUSED(unmask(B, EVTCHN_PORTS), VIREO_EINVAL);

	/* Ports in use that refuse the request. */
	REFUSED(send(A, (uint32_t)pv), VIREO_EINVAL);                  /* VIRQs are the hypervisor's */
	REFUSED(bind_vcpu(A, (uint32_t)pa, 1), VIREO_ENOENT);
	REFUSED(bind_vcpu(A, (uint32_t)pv, 0), VIREO_EINVAL);          /* a per-vCPU VIRQ */
	REFUSED(bind_vcpu(A, (uint32_t)pi, 0), VIREO_EINVAL);          /* an IPI */
	REFUSED(bind_vcpu(A, 0, 1), VIREO_ENOENT);                     /* the vCPU first, as Xen */
	REFUSED(bind_ipi(A, 1), VIREO_ENOENT);
	REFUSED(bind_virq(A, VIRQ_TIMER, 0), VIREO_EEXIST);
	REFUSED(bind_virq(A, VIRQ_CONSOLE, 1), VIREO_EINVAL);          /* a global VIRQ: vCPU 0 only */

	/* bind_interdomain to a port not waiting for A. */
	REFUSED(bind_interdomain(A, 0, (uint32_t)pb), VIREO_EINVAL);   /* connected */
	REFUSED(bind_interdomain(A, 0, (uint32_t)pself), VIREO_EINVAL);/* waiting for B */
	REFUSED(bind_interdomain(B, 1, (uint32_t)pa), VIREO_EINVAL);   /* connected already */
	REFUSED(bind_interdomain(A, DOMID_SELF, (uint32_t)pu), VIREO_EINVAL); /* waiting for B */
	REFUSED(bind_interdomain(A, DOMID_SELF, (uint32_t)pi), VIREO_EINVAL);
	REFUSED(bind_interdomain(A, 0, (uint32_t)pi), VIREO_EINVAL);   /* B has no such port */
	REFUSED(bind_interdomain(A, NOWHERE, 1), VIREO_ESRCH);
	REFUSED(bind_interdomain(A, DOMID_IO, 1), VIREO_ESRCH);
	REFUSED(bind_interdomain(A, MAX_DOMAINS, 1), VIREO_ESRCH);

	/* alloc_unbound: ports in another domain (the remote domain is not looked up, as Xen). */
	REFUSED(alloc_unbound_as(A, 0, 1), VIREO_EPERM);
	REFUSED(alloc_unbound_as(A, NOWHERE, 0), VIREO_EPERM);
	REFUSED(alloc_unbound_as(B, 1, 0), VIREO_EPERM);

	/* status: other domains' ports, port 0 or out of range. */
	struct evtchn_status st;
	REFUSED(status_as(A, 0, (uint32_t)pb, &st), VIREO_EPERM);
	REFUSED(status_as(B, 1, (uint32_t)pa, &st), VIREO_EOPNOTSUPP);
	CHECK_EQ(status_as(A, DOMID_SELF, 0, &st), 0);           /* port 0: valid, closed (Xen) */
	CHECK_EQ(st.status, EVTCHNSTAT_closed);
	REFUSED(status_as(A, DOMID_SELF, EVTCHN_PORTS, &st), VIREO_EINVAL);

	/* Commands not offered. */
	uint8_t zero[64] = { 0 };
	REFUSED(evtchn_op(A, EVTCHNOP_init_control, zero, sizeof(zero)), VIREO_ENOSYS);
	REFUSED(evtchn_op(A, EVTCHNOP_expand_array, zero, sizeof(zero)), VIREO_ENOSYS);
	REFUSED(evtchn_op(A, EVTCHNOP_set_priority, zero, sizeof(zero)), VIREO_ENOSYS);
	REFUSED(evtchn_op(A, 14, zero, sizeof(zero)), VIREO_ENOSYS);
	REFUSED(evtchn_op(A, 1u << 31, zero, sizeof(zero)), VIREO_ENOSYS);
	REFUSED(evtchn_op(A, ~0ull, zero, sizeof(zero)), VIREO_ENOSYS);
	REFUSED(evtchn_op(A, EVTCHNOP_bind_pirq, zero, sizeof(zero)), VIREO_EPERM);
	REFUSED(evtchn_op(B, EVTCHNOP_bind_pirq, zero, sizeof(zero)), VIREO_EOPNOTSUPP);

	/* Arguments the hypervisor cannot read: nothing done. */
	const uint64_t unreadable[] = { 0, 0xFFFF830000000000ull, 0x0000800000000000ull, A->layout.v_end,
					A->layout.v_end - 1 };
	for (unsigned i = 0; i < sizeof(unreadable) / sizeof(unreadable[0]); i++)
		for (uint64_t cmd = 0; cmd <= EVTCHNOP_reset; cmd++)
			if (cmd != EVTCHNOP_bind_pirq)
				REFUSED(evtchn_raw(A, cmd, unreadable[i]), VIREO_EFAULT);

	/* Every port still as it was. */
	CHECK(status_is(A, (uint32_t)pu, EVTCHNSTAT_unbound, 0, 0));
	CHECK(status_is(A, (uint32_t)pa, EVTCHNSTAT_interdomain, 0, (uint32_t)pb));
	CHECK(status_is(B, (uint32_t)pb, EVTCHNSTAT_interdomain, 1, (uint32_t)pa));
	CHECK(status_is(A, (uint32_t)pv, EVTCHNSTAT_virq, VIRQ_TIMER, 0));
	CHECK(status_is(A, (uint32_t)pi, EVTCHNSTAT_ipi, 0, 0));
	CHECK(status_is(B, (uint32_t)pself, EVTCHNSTAT_unbound, 0, 0));
	CHECK(status_is(A, (uint32_t)pc, EVTCHNSTAT_closed, 0, 0));
	teardown();
}

/* What is not a refusal. */
static void accepted_edge_cases(void)
{
	REQUIRE(setup());
	/* A port of a domain that has no port table yet: closed. */
	CHECK(B->ev.port == NULL);
	CHECK(status_is(B, 300, EVTCHNSTAT_closed, 0, 0));
	CHECK(B->ev.port == NULL);
	long pa = alloc_unbound(A, 0);
	long pb = bind_interdomain(B, 1, (uint32_t)pa);
	long pu = alloc_unbound(A, 0);
	REQUIRE(pa > 0 && pb > 0 && pu > 0);
	guest_ack_all(B);
	/* bind_vcpu to vCPU 0 of an interdomain or unbound port, or a global VIRQ's: done (nothing to move). */
	CHECK_EQ(bind_vcpu(A, (uint32_t)pa, 0), 0);
	CHECK_EQ(bind_vcpu(A, (uint32_t)pu, 0), 0);
	long pc = bind_virq(A, VIRQ_CONSOLE, 0);
	REQUIRE(pc > 0);
	CHECK_EQ(bind_vcpu(A, (uint32_t)pc, 0), 0);
	CHECK(status_is(A, (uint32_t)pc, EVTCHNSTAT_virq, VIRQ_CONSOLE, 0));
	/* A send on an unbound port: nobody to tell, dropped (Xen's). */
	CHECK_EQ(send(A, (uint32_t)pu), 0);
	CHECK(quiet(A));
	CHECK(quiet(B));
	/*
	 * Unmask of a closed port below EVTCHN_PORTS: as Xen's (which checks
	 * that the port is in its table, not its state), the mask bit is cleared.
	 */
	set_mask(A, 200, true);
	CHECK_EQ(unmask(A, 200), 0);
	CHECK(!masked(A, 200));
	CHECK(quiet(A));
	/* A domain's own status through its id instead of DOMID_SELF. */
	struct evtchn_status st;
	CHECK_EQ(status_as(A, 1, (uint32_t)pa, &st), 0);
	CHECK_EQ(st.status, EVTCHNSTAT_interdomain);
	teardown();
}

/*
 * An answer the guest cannot take: -EFAULT, and the port stays allocated,
 * as on Xen (status finds it). The argument is an all-zero slot of B's
 * read-only page tables: dom 0 and remote_dom 0 are B itself.
 */
static void answer_not_writable_keeps_the_port(void)
{
	REQUIRE(setup());
	const struct dom_layout *l = &B->layout;
	uint64_t va = 0;
	hosted_switch_to(B);
	for (uint64_t at = l->vpt_start; at < l->vpt_end && !va; at += 8) {
		uint64_t v;
		REQUIRE(copy_from_guest(&v, at, sizeof(v)) == 0);
		if (v == 0)
			va = at;
	}
	REQUIRE(va != 0);
	uint8_t was[sizeof(struct evtchn_alloc_unbound)];
	REQUIRE(copy_from_guest(was, va, sizeof(was)) == 0);
	CHECK_EQ(evtchn_raw(B, EVTCHNOP_alloc_unbound, va), -VIREO_EFAULT);
	CHECK(status_is(B, 1, EVTCHNSTAT_unbound, 0, 0));
	uint8_t now[sizeof(was)];
	hosted_switch_to(B);
	REQUIRE(copy_from_guest(now, va, sizeof(now)) == 0);
	CHECK(!memcmp(was, now, sizeof(now)));             /* the page table as it was */
	CHECK(quiet(B));
	teardown();
}

/* ---- limits and ends ---------------------------------------------------------------- */

static void ports_run_out(void)
{
	REQUIRE(setup());
	long pb = alloc_unbound(B, 1);                     /* B's port for A, to connect to when full */
	REQUIRE(pb > 0);
	unsigned ok = 0;
	long rc = 0;
	for (unsigned i = 0; i < EVTCHN_PORTS + 4; i++) {
		rc = alloc_unbound(A, 0);
		if (rc < 0)
			break;
		CHECK_EQ(rc, i + 1);                           /* the lowest free port, from 1 */
		ok++;
	}
	CHECK_EQ(rc, -VIREO_ENOSPC);
	CHECK_EQ(ok, EVTCHN_PORTS - 1);
	/* Every way of allocating is refused, changing nothing. */
	REFUSED(alloc_unbound(A, 0), VIREO_ENOSPC);
	REFUSED(bind_ipi(A, 0), VIREO_ENOSPC);
	REFUSED(bind_virq(A, VIRQ_TIMER, 0), VIREO_ENOSPC);
	REFUSED(bind_interdomain(A, 0, (uint32_t)pb), VIREO_ENOSPC);
	CHECK(status_is(B, (uint32_t)pb, EVTCHNSTAT_unbound, 1, 0));
	/* One closed: that one comes back, connected and pending. */
	CHECK_EQ(evclose(A, 500), 0);
	CHECK_EQ(bind_interdomain(A, 0, (uint32_t)pb), 500);
	CHECK(only_pending(A, 500));
	CHECK(status_is(B, (uint32_t)pb, EVTCHNSTAT_interdomain, 1, 500));
	REFUSED(bind_ipi(A, 0), VIREO_ENOSPC);
	CHECK_EQ(evclose(A, EVTCHN_PORTS - 1), 0);
	CHECK_EQ(bind_ipi(A, 0), EVTCHN_PORTS - 1);
	teardown();
}

/* A's end (domain_release_memory): its peers' ports wait again, and A can no longer be named. */
static void domain_end_unbinds_peers(void)
{
	REQUIRE(setup());
	long pa = alloc_unbound(A, 0);                     /* A's for B: B connects */
	long pb = bind_interdomain(B, 1, (uint32_t)pa);
	long pb2 = alloc_unbound(B, 1);                    /* B's for A: A connects */
	long pa2 = bind_interdomain(A, 0, (uint32_t)pb2);
	long pb3 = alloc_unbound(B, 1);                    /* B's for A: never connected */
	long pv = bind_virq(A, VIRQ_TIMER, 0);
	long pu = alloc_unbound(A, 0);                     /* A's for B: never connected */
	REQUIRE(pa > 0 && pb > 0 && pb2 > 0 && pa2 > 0 && pb3 > 0 && pv > 0 && pu > 0);
	CHECK_EQ(timer_op(A, machine_now_ns() + 1000000000ull), 0);
	guest_ack_all(B);

	hosted_switch_to(B);
	CHECK_EQ(domain_release_memory(A), 0);
	CHECK(A->ev.port == NULL);
	CHECK_EQ(A->vcpu[0]->ev.timer_ns, 0);
	for (unsigned v = 0; v < NR_VIRQS; v++)
		CHECK_EQ(A->vcpu[0]->ev.virq_port[v], 0);
	CHECK(status_is(B, (uint32_t)pb, EVTCHNSTAT_unbound, 1, 0));
	CHECK(status_is(B, (uint32_t)pb2, EVTCHNSTAT_unbound, 1, 0));
	CHECK(status_is(B, (uint32_t)pb3, EVTCHNSTAT_unbound, 1, 0));
	CHECK_EQ(send(B, (uint32_t)pb), 0);
	CHECK_EQ(send(B, (uint32_t)pb2), 0);
	CHECK(quiet(B));
	/* A can no longer be named. */
	CHECK_EQ(bind_interdomain(B, 1, (uint32_t)pa), -VIREO_ESRCH);
	CHECK_EQ(bind_interdomain(B, 1, (uint32_t)pu), -VIREO_ESRCH);
	/* A port for it may still be made (Xen does not look the remote up); nothing can bind it. */
	long pdead = alloc_unbound(B, 1);
	CHECK(pdead > 0);
	CHECK(status_is(B, (uint32_t)pdead, EVTCHNSTAT_unbound, 1, 0));
	CHECK_EQ(evclose(B, (uint32_t)pdead), 0);
	CHECK(quiet(B));
	/* B's ports close as unbound ones. */
	CHECK_EQ(evclose(B, (uint32_t)pb), 0);
	CHECK(status_is(B, (uint32_t)pb, EVTCHNSTAT_closed, 0, 0));
	teardown();                                         /* A destroyed after its end: nothing twice */
}

/* Both ends of a pair destroyed in either order: every frame (and both port tables) back. */
static void destroy_connected_domains(void)
{
	for (int order = 0; order < 2; order++) {
		REQUIRE(setup());
		long pa = alloc_unbound(A, 0);
		long pb = bind_interdomain(B, 1, (uint32_t)pa);
		long pl = alloc_unbound(B, DOMID_SELF);
		long pl2 = bind_interdomain(B, DOMID_SELF, (uint32_t)pl);
		REQUIRE(pa > 0 && pb > 0 && pl > 0 && pl2 > 0);
		hosted_switch_to(NULL);
		domain_destroy(order ? B : A);
		struct domain *left = order ? A : B;
		CHECK(status_is(left, order ? (uint32_t)pa : (uint32_t)pb, EVTCHNSTAT_unbound, order ? 0 : 1, 0));
		hosted_switch_to(NULL);
		domain_destroy(left);
		CHECK_EQ(frame_nr_free(), free_at_start);
	}
}

/* ---- console input (console_io CONSOLEIO_read), here for its two domains -------------- */

static long console_read(struct domain *d, uint64_t count, uint64_t va)
{
	hosted_switch_to(d);
	return hosted_hypercall(__HYPERVISOR_console_io, CONSOLEIO_read, count, va, 0, 0, NULL);
}

static void console_read_privileged_only(void)
{
	REQUIRE(setup());
	char got[16] = { 0 };
	hosted_console_input = "rx 42\nmore";
	CHECK_EQ(console_read(A, 8, scratch_va(A)), -VIREO_EPERM);            /* not the console's domain */
	CHECK_EQ(console_read(B, 8, 0xFFFF830000000000ull), -VIREO_EFAULT);   /* nothing taken from the UART */
	CHECK_EQ(console_read(B, 0x80000000ull, scratch_va(B)), -VIREO_E2BIG);
	CHECK_EQ(console_read(B, 6, scratch_va(B)), 6);
	hosted_switch_to(B);
	CHECK_EQ(copy_from_guest(got, scratch_va(B), 6), 0);
	CHECK(!memcmp(got, "rx 42\n", 6));
	CHECK_EQ(console_read(B, 16, scratch_va(B)), 4);                      /* what is left: "more" */
	CHECK_EQ(console_read(B, 16, scratch_va(B)), 0);                      /* nothing waits */
	CHECK_EQ(console_read(B, 0x7FFFFFFFull, scratch_va(B)), 0);          /* Xen's largest: 16 KiB checked */
	CHECK_EQ(console_read(B, 0x100000000ull, scratch_va(B)), 0);         /* Xen's count is 32 bits: 0 */
	hosted_console_input = NULL;
	teardown();
}

static const struct test_case cases[] = {
	TEST(console_read_privileged_only),
	TEST(interdomain_connect_send_close),
	TEST(send_kicks_the_peers_cpu_once),
	TEST(loopback),
	TEST(reset_closes_every_port),
	TEST(virq_timer),
	TEST(vcpu_time),
	TEST(ipi),
	TEST(sched_block),
	TEST(sched_poll),
	TEST(refusals_change_nothing),
	TEST(accepted_edge_cases),
	TEST(answer_not_writable_keeps_the_port),
	TEST(ports_run_out),
	TEST(domain_end_unbinds_peers),
	TEST(destroy_connected_domains),
};

TEST_MAIN(cases)
