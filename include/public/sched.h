/*
 * Xen x86-64 PV guest ABI: HYPERVISOR_sched_op(cmd, arg) (mirrors Xen 4.17's
 * xen/include/public/sched.h). cmd is SCHEDOP_*, arg points at the matching
 * struct sched_* (or is NULL). The legacy HYPERVISOR_sched_op_compat takes
 * the shutdown reason itself as arg.
 */
#ifndef VIREO_PUBLIC_SCHED_H
#define VIREO_PUBLIC_SCHED_H

#include <stdint.h>

#include <public/xen.h>

#define SCHEDOP_yield           0   /* arg NULL */
#define SCHEDOP_block           1   /* arg NULL; unmasks events, then blocks unless one is pending */
#define SCHEDOP_shutdown        2   /* struct sched_shutdown; for SHUTDOWN_suspend RDX = start_info MFN */
#define SCHEDOP_poll            3   /* struct sched_poll */
#define SCHEDOP_remote_shutdown 4   /* struct sched_remote_shutdown */
#define SCHEDOP_shutdown_code   5   /* struct sched_shutdown: latch the code for a later shutdown */
#define SCHEDOP_watchdog        6   /* struct sched_watchdog */
#define SCHEDOP_pin_override    7   /* struct sched_pin_override (hardware domain) */

/* Shutdown reasons. */
#define SHUTDOWN_poweroff   0   /* exited normally: clean up and kill */
#define SHUTDOWN_reboot     1   /* clean up, kill, restart */
#define SHUTDOWN_suspend    2   /* clean up, save suspend info, kill */
#define SHUTDOWN_crash      3   /* the domain crashed */
#define SHUTDOWN_watchdog   4   /* restart: the watchdog expired */
#define SHUTDOWN_soft_reset 5   /* reset Xen state, keep memory and vCPU contexts */
#define SHUTDOWN_MAX        5

/* SCHEDOP_shutdown, SCHEDOP_shutdown_code. */
struct sched_shutdown {
	uint32_t reason;        /* SHUTDOWN_* */
};

_Static_assert(sizeof(struct sched_shutdown) == 4, "sched_shutdown is 4 bytes");

/*
 * SCHEDOP_poll: block until one of nr_ports ports is pending, or until the
 * absolute system time timeout (ns; 0 means none).
 */
struct sched_poll {
	uint64_t ports;         /* guest handle: evtchn_port_t[nr_ports] */
	uint32_t nr_ports;
	uint32_t pad0;
	uint64_t timeout;
};

_Static_assert(sizeof(struct sched_poll) == 24, "sched_poll is 24 bytes");
_Static_assert(__builtin_offsetof(struct sched_poll, nr_ports) == 8, "sched_poll.nr_ports");
_Static_assert(__builtin_offsetof(struct sched_poll, timeout) == 16, "sched_poll.timeout");

/* SCHEDOP_remote_shutdown: shut down another domain (privileged). */
struct sched_remote_shutdown {
	domid_t domain_id;
	uint16_t pad0;
	uint32_t reason;        /* SHUTDOWN_* */
};

_Static_assert(sizeof(struct sched_remote_shutdown) == 8, "sched_remote_shutdown is 8 bytes");
_Static_assert(__builtin_offsetof(struct sched_remote_shutdown, reason) == 4,
	       "sched_remote_shutdown.reason");

/*
 * SCHEDOP_watchdog: id 0 with a timeout creates a watchdog and returns its
 * id; id 0 with no timeout destroys all; id != 0 pokes (timeout != 0) or
 * destroys (timeout == 0) that watchdog. Timeout in seconds.
 */
struct sched_watchdog {
	uint32_t id;
	uint32_t timeout;
};

_Static_assert(sizeof(struct sched_watchdog) == 8, "sched_watchdog is 8 bytes");

/* SCHEDOP_pin_override: pin the calling vCPU to pcpu; negative undoes it. */
struct sched_pin_override {
	int32_t pcpu;
};

_Static_assert(sizeof(struct sched_pin_override) == 4, "sched_pin_override is 4 bytes");

#endif
