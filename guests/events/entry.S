/*
 * The event callback (Xen x86-64 PV upcall): the hypervisor bounces it onto
 * the kernel stack as { RCX, R11, RIP, CS, RFLAGS, RSP, SS } with upcalls
 * masked; guest_event() takes what is pending, and the iret hypercall goes
 * back, unmasking upcalls again (the frame's RFLAGS.IF).
 */
#include "pvasm.h"
	.text
	.globl event_entry
event_entry:
	pop %rcx
	pop %r11
	pv_save_caller_saved
	call guest_event
	pv_restore_caller_saved
	pv_iret 0
