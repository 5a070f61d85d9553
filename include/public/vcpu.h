/*
 * Xen x86-64 PV guest ABI: HYPERVISOR_vcpu_op(cmd, vcpuid, arg) (mirrors
 * Xen 4.17's xen/include/public/vcpu.h). cmd is VCPUOP_*, arg points at the
 * structure named beside it (or is NULL).
 */
#ifndef VIREO_PUBLIC_VCPU_H
#define VIREO_PUBLIC_VCPU_H

#include <stdint.h>

#include <public/xen.h>

#define VCPUOP_initialise                     0   /* struct vcpu_guest_context; once per vCPU */
#define VCPUOP_up                             1   /* make an initialised vCPU runnable */
#define VCPUOP_down                           2   /* make it non-runnable (async unless on itself) */
#define VCPUOP_is_up                          3   /* returns 1 if up */
#define VCPUOP_get_runstate_info              4   /* struct vcpu_runstate_info */
#define VCPUOP_register_runstate_memory_area  5   /* struct vcpu_register_runstate_memory_area */
#define VCPUOP_set_periodic_timer             6   /* struct vcpu_set_periodic_timer */
#define VCPUOP_stop_periodic_timer            7   /* NULL */
#define VCPUOP_set_singleshot_timer           8   /* struct vcpu_set_singleshot_timer */
#define VCPUOP_stop_singleshot_timer          9   /* NULL */
#define VCPUOP_register_vcpu_info            10   /* struct vcpu_register_vcpu_info; once per vCPU */
#define VCPUOP_send_nmi                      11   /* NULL */
#define VCPUOP_get_physid                    12   /* struct vcpu_get_physid */
#define VCPUOP_register_vcpu_time_memory_area 13  /* struct vcpu_register_time_memory_area */

/* Run states. */
#define RUNSTATE_running  0     /* running on a physical CPU */
#define RUNSTATE_runnable 1     /* runnable, not running */
#define RUNSTATE_blocked  2     /* blocked (idle) */
#define RUNSTATE_offline  3     /* neither runnable nor blocked (down, paused) */

/*
 * Where a vCPU's time went (mirrors vcpu.h struct vcpu_runstate_info).
 * time[RUNSTATE_*] in ns; their sum tracks system time. With
 * VMASST_TYPE_runstate_update_flag, Xen sets XEN_RUNSTATE_UPDATE in
 * state_entry_time while it rewrites a registered area.
 */
#define XEN_RUNSTATE_UPDATE (1ULL << 63)

struct vcpu_runstate_info {
	int32_t state;              /* RUNSTATE_* */
	uint32_t pad0;
	uint64_t state_entry_time;  /* system time (ns) the state was entered */
	uint64_t time[4];
};

_Static_assert(sizeof(struct vcpu_runstate_info) == 48, "vcpu_runstate_info is 48 bytes");
_Static_assert(__builtin_offsetof(struct vcpu_runstate_info, state_entry_time) == 8,
	       "vcpu_runstate_info.state_entry_time");
_Static_assert(__builtin_offsetof(struct vcpu_runstate_info, time) == 16,
	       "vcpu_runstate_info.time");

/*
 * VCPUOP_register_runstate_memory_area: a guest virtual address that Xen
 * keeps updated with the vCPU's vcpu_runstate_info (one area per vCPU).
 */
struct vcpu_register_runstate_memory_area {
	uint64_t addr;              /* guest handle: struct vcpu_runstate_info * */
};

_Static_assert(sizeof(struct vcpu_register_runstate_memory_area) == 8, "vcpu_register_runstate_memory_area is 8 bytes");

/* VCPUOP_set_periodic_timer: periods below 1 ms may be refused. */
struct vcpu_set_periodic_timer {
	uint64_t period_ns;
};

_Static_assert(sizeof(struct vcpu_set_periodic_timer) == 8, "vcpu_set_periodic_timer is 8 bytes");

/* VCPUOP_set_singleshot_timer: fire VIRQ_TIMER at timeout_abs_ns. */
#define _VCPU_SSHOTTMR_future 0
#define VCPU_SSHOTTMR_future  (1U << _VCPU_SSHOTTMR_future)  /* -ETIME if already past (may be ignored) */

struct vcpu_set_singleshot_timer {
	uint64_t timeout_abs_ns;    /* absolute system time */
	uint32_t flags;             /* VCPU_SSHOTTMR_* */
	uint32_t pad0;
};

_Static_assert(sizeof(struct vcpu_set_singleshot_timer) == 16, "vcpu_set_singleshot_timer is 16 bytes");
_Static_assert(__builtin_offsetof(struct vcpu_set_singleshot_timer, flags) == 8,
	       "vcpu_set_singleshot_timer.flags");

/*
 * VCPUOP_register_vcpu_info: move this vCPU's struct vcpu_info to
 * mfn:offset. The structure must not cross a page boundary.
 */
struct vcpu_register_vcpu_info {
	uint64_t mfn;       /* frame holding the vcpu_info */
	uint32_t offset;    /* offset in that frame */
	uint32_t rsvd;      /* unused */
};

_Static_assert(sizeof(struct vcpu_register_vcpu_info) == 16, "vcpu_register_vcpu_info is 16 bytes");
_Static_assert(__builtin_offsetof(struct vcpu_register_vcpu_info, offset) == 8,
	       "vcpu_register_vcpu_info.offset");

/* VCPUOP_get_physid: x86: phys_id[31:0] = APIC id, [63:32] = ACPI id. */
struct vcpu_get_physid {
	uint64_t phys_id;
};

_Static_assert(sizeof(struct vcpu_get_physid) == 8, "vcpu_get_physid is 8 bytes");

/*
 * VCPUOP_register_vcpu_time_memory_area: a second copy of the vCPU's
 * vcpu_time_info that Xen updates with the first (for user-mode clocks).
 */
struct vcpu_register_time_memory_area {
	uint64_t addr;      /* guest handle: struct vcpu_time_info * */
};

_Static_assert(sizeof(struct vcpu_register_time_memory_area) == 8, "vcpu_register_time_memory_area is 8 bytes");

#endif
