/*
 * Xen x86-64 PV guest ABI: HYPERVISOR_callback_op(cmd, arg) (mirrors Xen
 * 4.17's xen/include/public/callback.h). Registers the guest's entry points:
 * event upcall, failsafe (Xen could not restore guest state), SYSCALL from
 * guest user space, NMI.
 */
#ifndef VIREO_PUBLIC_CALLBACK_H
#define VIREO_PUBLIC_CALLBACK_H

#include <stdint.h>

#include <public/xen.h>

#define CALLBACKTYPE_event               0
#define CALLBACKTYPE_failsafe            1
#define CALLBACKTYPE_syscall             2   /* x86-64: SYSCALL by 64-bit guest user space */
#define CALLBACKTYPE_sysenter_deprecated 3
#define CALLBACKTYPE_nmi                 4
#define CALLBACKTYPE_sysenter            5   /* SYSENTER by 32-bit guest user space (Intel) */
/* 6 is unused */
#define CALLBACKTYPE_syscall32           7   /* SYSCALL by 32-bit guest user space (AMD) */

/*
 * Mask events (set evtchn_upcall_mask) on entry to the callback. Ignored for
 * the event and NMI callbacks, which always mask.
 */
#define _CALLBACKF_mask_events 0
#define CALLBACKF_mask_events  (1U << _CALLBACKF_mask_events)

#define CALLBACKOP_register   0   /* struct callback_register */
#define CALLBACKOP_unregister 1   /* struct callback_unregister */

/* CALLBACKOP_register (mirrors callback.h struct callback_register). */
struct callback_register {
	uint16_t type;              /* CALLBACKTYPE_* */
	uint16_t flags;             /* CALLBACKF_* */
	uint32_t pad0;
	xen_callback_t address;     /* x86-64: a virtual address */
};

_Static_assert(sizeof(struct callback_register) == 16, "callback_register is 16 bytes");
_Static_assert(__builtin_offsetof(struct callback_register, flags) == 2, "callback_register.flags");
_Static_assert(__builtin_offsetof(struct callback_register, address) == 8,
	       "callback_register.address");

/* CALLBACKOP_unregister: -EINVAL for callbacks that cannot be unregistered. */
struct callback_unregister {
	uint16_t type;              /* CALLBACKTYPE_* */
	uint16_t _unused;
};

_Static_assert(sizeof(struct callback_unregister) == 4, "callback_unregister is 4 bytes");

#endif
