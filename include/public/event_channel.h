/*
 * Xen x86-64 PV guest ABI: event channels, 2-level ABI (mirrors Xen 4.17's
 * xen/include/public/event_channel.h; the VIRQ numbers mirror its xen.h).
 * HYPERVISOR_event_channel_op(cmd, arg): cmd is EVTCHNOP_*, arg points at
 * the matching struct evtchn_*. The pending and mask bitmaps are in
 * struct shared_info (xen.h).
 */
#ifndef VIREO_PUBLIC_EVENT_CHANNEL_H
#define VIREO_PUBLIC_EVENT_CHANNEL_H

#include <stdint.h>

#include <public/xen.h>

typedef uint32_t evtchn_port_t;

#define EVTCHNOP_bind_interdomain  0
#define EVTCHNOP_bind_virq         1
#define EVTCHNOP_bind_pirq         2
#define EVTCHNOP_close             3
#define EVTCHNOP_send              4
#define EVTCHNOP_status            5
#define EVTCHNOP_alloc_unbound     6
#define EVTCHNOP_bind_ipi          7
#define EVTCHNOP_bind_vcpu         8
#define EVTCHNOP_unmask            9
#define EVTCHNOP_reset            10
#define EVTCHNOP_init_control     11   /* FIFO ABI */
#define EVTCHNOP_expand_array     12   /* FIFO ABI */
#define EVTCHNOP_set_priority     13   /* FIFO ABI */

/* Ports of the 2-level ABI: 64 words of 64 bits. */
#define EVTCHN_2L_NR_CHANNELS 4096
_Static_assert(EVTCHN_2L_NR_CHANNELS == XEN_EVTCHN_2L_WORDS * 64, "2-level port count");

/*
 * Virtual interrupts. V: per vCPU, bound once per vCPU and never rebound.
 * G: global, bound once per domain on vCPU 0, may be rebound.
 */
#define VIRQ_TIMER        0   /* V. timebase update or requested timeout */
#define VIRQ_DEBUG        1   /* V. request to dump debug info */
#define VIRQ_CONSOLE      2   /* G. (DOM0) bytes received on the emergency console */
#define VIRQ_DOM_EXC      3   /* G. (DOM0) exceptional event for some domain */
#define VIRQ_TBUF         4   /* G. (DOM0) trace buffer has records */
#define VIRQ_DEBUGGER     6   /* G. (DOM0) a domain paused for debugging */
#define VIRQ_XENOPROF     7   /* V. XenOprofile sample available */
#define VIRQ_CON_RING     8   /* G. (DOM0) bytes received on the console */
#define VIRQ_PCPU_STATE   9   /* G. (DOM0) physical CPU state changed */
#define VIRQ_MEM_EVENT   10   /* G. (DOM0) a memory event occurred */
#define VIRQ_ARGO        11   /* G. Argo interdomain message */
#define VIRQ_ENOMEM      12   /* G. (DOM0) low on heap memory */
#define VIRQ_XENPMU      13   /* V. PMC interrupt */
#define VIRQ_ARCH_0      16
#define VIRQ_ARCH_1      17
#define VIRQ_ARCH_2      18
#define VIRQ_ARCH_3      19
#define VIRQ_ARCH_4      20
#define VIRQ_ARCH_5      21
#define VIRQ_ARCH_6      22
#define VIRQ_ARCH_7      23
#define NR_VIRQS         24

/*
 * EVTCHNOP_alloc_unbound: allocate a port in dom that remote_dom may bind
 * to. An unprivileged caller must pass DOMID_SELF as dom.
 */
struct evtchn_alloc_unbound {
	domid_t dom;            /* IN */
	domid_t remote_dom;     /* IN */
	evtchn_port_t port;     /* OUT */
};

_Static_assert(sizeof(struct evtchn_alloc_unbound) == 8, "evtchn_alloc_unbound is 8 bytes");
_Static_assert(__builtin_offsetof(struct evtchn_alloc_unbound, remote_dom) == 2,
	       "evtchn_alloc_unbound.remote_dom");
_Static_assert(__builtin_offsetof(struct evtchn_alloc_unbound, port) == 4,
	       "evtchn_alloc_unbound.port");

/*
 * EVTCHNOP_bind_interdomain: connect a fresh local port to the unbound
 * <remote_dom, remote_port>; the local port is set pending.
 */
struct evtchn_bind_interdomain {
	domid_t remote_dom;         /* IN */
	uint16_t pad0;
	evtchn_port_t remote_port;  /* IN */
	evtchn_port_t local_port;   /* OUT */
};

_Static_assert(sizeof(struct evtchn_bind_interdomain) == 12, "evtchn_bind_interdomain is 12 bytes");
_Static_assert(__builtin_offsetof(struct evtchn_bind_interdomain, remote_port) == 4,
	       "evtchn_bind_interdomain.remote_port");
_Static_assert(__builtin_offsetof(struct evtchn_bind_interdomain, local_port) == 8,
	       "evtchn_bind_interdomain.local_port");

/* EVTCHNOP_bind_virq: bind a fresh port to VIRQ virq on vCPU vcpu. */
struct evtchn_bind_virq {
	uint32_t virq;          /* IN: VIRQ_* */
	uint32_t vcpu;          /* IN */
	evtchn_port_t port;     /* OUT */
};

_Static_assert(sizeof(struct evtchn_bind_virq) == 12, "evtchn_bind_virq is 12 bytes");
_Static_assert(__builtin_offsetof(struct evtchn_bind_virq, vcpu) == 4, "evtchn_bind_virq.vcpu");
_Static_assert(__builtin_offsetof(struct evtchn_bind_virq, port) == 8, "evtchn_bind_virq.port");

/* EVTCHNOP_bind_pirq: bind a fresh port to physical IRQ pirq (privileged). */
#define BIND_PIRQ__WILL_SHARE 1

struct evtchn_bind_pirq {
	uint32_t pirq;          /* IN */
	uint32_t flags;         /* IN: BIND_PIRQ__* */
	evtchn_port_t port;     /* OUT */
};

_Static_assert(sizeof(struct evtchn_bind_pirq) == 12, "evtchn_bind_pirq is 12 bytes");
_Static_assert(__builtin_offsetof(struct evtchn_bind_pirq, port) == 8, "evtchn_bind_pirq.port");

/* EVTCHNOP_bind_ipi: bind a fresh port for IPIs to vCPU vcpu. */
struct evtchn_bind_ipi {
	uint32_t vcpu;          /* IN */
	evtchn_port_t port;     /* OUT */
};

_Static_assert(sizeof(struct evtchn_bind_ipi) == 8, "evtchn_bind_ipi is 8 bytes");
_Static_assert(__builtin_offsetof(struct evtchn_bind_ipi, port) == 4, "evtchn_bind_ipi.port");

/* EVTCHNOP_close: close a local port; an interdomain peer becomes unbound. */
struct evtchn_close {
	evtchn_port_t port;     /* IN */
};

_Static_assert(sizeof(struct evtchn_close) == 4, "evtchn_close is 4 bytes");

/* EVTCHNOP_send: notify the remote end of the channel at local port. */
struct evtchn_send {
	evtchn_port_t port;     /* IN */
};

_Static_assert(sizeof(struct evtchn_send) == 4, "evtchn_send is 4 bytes");

/* EVTCHNOP_status: state of <dom, port> (dom other than DOMID_SELF is privileged). */
#define EVTCHNSTAT_closed      0   /* not in use */
#define EVTCHNSTAT_unbound     1   /* waiting for an interdomain connection */
#define EVTCHNSTAT_interdomain 2   /* connected to a remote domain */
#define EVTCHNSTAT_pirq        3   /* bound to a physical IRQ */
#define EVTCHNSTAT_virq        4   /* bound to a virtual IRQ */
#define EVTCHNSTAT_ipi         5   /* bound to a virtual IPI */

struct evtchn_status {
	domid_t dom;            /* IN */
	uint16_t pad0;
	evtchn_port_t port;     /* IN */
	uint32_t status;        /* OUT: EVTCHNSTAT_* */
	uint32_t vcpu;          /* OUT: vCPU the channel notifies */
	union {
		struct {
			domid_t dom;
		} unbound;                  /* EVTCHNSTAT_unbound */
		struct {
			domid_t dom;
			uint16_t _pad;
			evtchn_port_t port;
		} interdomain;              /* EVTCHNSTAT_interdomain */
		uint32_t pirq;              /* EVTCHNSTAT_pirq */
		uint32_t virq;              /* EVTCHNSTAT_virq */
		struct {
			uint32_t _output1;
			uint32_t _output2;
		} raw;                      /* Xen: an anonymous struct */
	} u;
};

_Static_assert(sizeof(struct evtchn_status) == 24, "evtchn_status is 24 bytes");
_Static_assert(__builtin_offsetof(struct evtchn_status, port) == 4, "evtchn_status.port");
_Static_assert(__builtin_offsetof(struct evtchn_status, status) == 8, "evtchn_status.status");
_Static_assert(__builtin_offsetof(struct evtchn_status, vcpu) == 12, "evtchn_status.vcpu");
_Static_assert(__builtin_offsetof(struct evtchn_status, u) == 16, "evtchn_status.u");
_Static_assert(__builtin_offsetof(struct evtchn_status, u.interdomain.port) == 20,
	       "evtchn_status.u.interdomain.port");

/* EVTCHNOP_bind_vcpu: make port notify vCPU vcpu (not for IPI or per-vCPU VIRQ ports). */
struct evtchn_bind_vcpu {
	evtchn_port_t port;     /* IN */
	uint32_t vcpu;          /* IN */
};

_Static_assert(sizeof(struct evtchn_bind_vcpu) == 8, "evtchn_bind_vcpu is 8 bytes");
_Static_assert(__builtin_offsetof(struct evtchn_bind_vcpu, vcpu) == 4, "evtchn_bind_vcpu.vcpu");

/* EVTCHNOP_unmask: clear the mask bit of port and deliver it if pending. */
struct evtchn_unmask {
	evtchn_port_t port;     /* IN */
};

_Static_assert(sizeof(struct evtchn_unmask) == 4, "evtchn_unmask is 4 bytes");

/* EVTCHNOP_reset: close every channel of dom (DOMID_SELF unless privileged). */
struct evtchn_reset {
	domid_t dom;            /* IN */
};

_Static_assert(sizeof(struct evtchn_reset) == 2, "evtchn_reset is 2 bytes");

#endif
