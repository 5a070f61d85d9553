/*
 * Event channels, Xen's 2-level ABI (core/event.c): the paper's cheap
 * asynchronous notifications. A port of a domain is closed, unbound
 * (waiting for a named domain to connect), interdomain (connected to a
 * port of another domain, or of itself), bound to a virtual IRQ, or to an
 * IPI. Notifying a port sets its bit in the domain's shared_info pending
 * bitmap; unless the port is masked, that sets the word's bit in
 * vcpu_info.evtchn_pending_sel and evtchn_upcall_pending of the port's
 * notify vCPU, and that vCPU's CPU is kicked: before the guest runs again it is sent to its event
 * callback (arch code), unless it masks upcalls (evtchn_upcall_mask).
 *
 * Locking: each domain's ports under its domain_events.lock. Connecting
 * and closing an interdomain channel take both domains' locks, the lower
 * domid first; a send holds only the sender's lock, which is enough: the
 * peer's port cannot be closed (nor the peer's memory freed) without it.
 * Pending bits are set with atomic operations on the guest-shared page.
 */
#ifndef CORE_EVENT_H
#define CORE_EVENT_H

#include <stdbool.h>
#include <stdint.h>

#include <public/event_channel.h>
#include <vireo/spinlock.h>

/* Ports a domain may use (of the 2-level ABI's 4096): port 0 is never allocated. */
#define EVTCHN_PORTS 1024

struct evtchn {
	uint8_t state;            /* EVTCHNSTAT_* */
	uint8_t notify_vcpu;      /* whose vcpu_info learns of it (bind_vcpu; an IPI's or VIRQ's own) */
	uint16_t remote_dom;      /* unbound: the domain that may connect; interdomain: the peer */
	uint32_t remote_port;     /* interdomain: the peer's port */
	uint32_t virq;            /* virq: which VIRQ_* */
};

struct domain_events {
	spinlock_t lock;
	struct evtchn *port;               /* EVTCHN_PORTS of them, or NULL before the first use */
	uint64_t sent, raised, upcalls, blocks;   /* counters (sent, raised: under lock) */
	uint64_t polls_waited;             /* SCHEDOP_poll waits (a counter, not atomic) */
	uint32_t pollers;                  /* its vCPUs in SCHEDOP_poll (atomic) */
};

/*
 * A vCPU's (Xen's v->virq_to_evtchn and timers): the port bound to each
 * virtual IRQ on it (global VIRQs are bound on vCPU 0; 0 for none; under
 * the domain's ev.lock), its single-shot and periodic timers (touched only
 * on the CPU it runs on: its APIC timer).
 */
struct vcpu_events {
	uint32_t virq_port[NR_VIRQS];
	/*
	 * SCHEDOP_poll: polling says a port of the domain becoming pending must
	 * wake it (set_pending sets poll_wake and kicks), poll_ns its deadline
	 * (0: none), which the CPU's timer also serves.
	 */
	uint8_t polling, poll_wake;
	uint64_t poll_ns;
	uint64_t timer_ns;                 /* single-shot: system time (ns) of VIRQ_TIMER, 0 for none */
	uint64_t period_ns;                /* periodic VIRQ_TIMER every period_ns, 0 for none */
	uint64_t periodic_next_ns;         /* its next tick */
};

struct domain;
struct vcpu;
struct hypercall_args;

/* HYPERVISOR_event_channel_op(cmd, arg) for the current domain. */
long do_event_channel_op(uint64_t cmd, uint64_t arg);

/* HYPERVISOR_set_timer_op(timeout): VIRQ_TIMER at system time timeout (ns); 0 cancels. */
long do_set_timer_op(uint64_t timeout);

/*
 * VCPUOP_{set,stop}_{singleshot,periodic}_timer of the current vCPU (Xen
 * lets a vCPU set only its own: the caller checks): value is the absolute timeout (single-shot; flags
 * VCPU_SSHOTTMR_future: -VIREO_ETIME if past) or the period (at least
 * 1 ms) in ns.
 */
long evtchn_vcpu_timer_op(unsigned cmd, uint64_t value, uint32_t flags);

/*
 * SCHEDOP_block: upcalls unmasked, then wait on this CPU until one is
 * pending for v (at once if one is) or v is told to stop. May return with
 * none pending (a spurious wake-up, as Xen allows).
 */
long evtchn_block(struct vcpu *v);

/*
 * SCHEDOP_poll (struct sched_poll at guest address arg) for the current
 * vCPU: 0 at once when an upcall is due or one of the ports is pending,
 * else when one becomes pending (masked or not), an upcall is due, the
 * timeout (system time, 0 for none) passes, or the vCPU is told to stop.
 * -EINVAL for more than 128 ports or a port past the ABI's, -EFAULT for
 * a bad pointer (Xen 4.17's do_poll).
 */
long evtchn_poll(uint64_t arg);

/* Raise global virtual IRQ virq of domain d (nothing if no port is bound to it). */
void evtchn_send_virq(struct domain *d, unsigned virq);

/* This CPU's timer interrupt: the current vCPU's timers (single-shot, periodic), if due. */
void evtchn_timer_interrupt(void);

/* A domain that ends: every port closed (interdomain peers become unbound), the table freed. */
void evtchn_domain_end(struct domain *d);

#endif
