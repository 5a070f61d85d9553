/*
 * Exception entry for the traps guest, Xen x86-64 PV style. The hypervisor
 * bounces an exception onto the kernel stack as
 *     { RCX, R11, [error code], RIP, CS, RFLAGS, RSP, SS }
 * Each stub restores RCX and R11, makes the frame uniform (a zero error code
 * where the CPU gives none), and the common path calls
 *     void guest_trap(struct trap_frame *f)
 * which may change f->rip, then returns through the iret hypercall with
 *     { RAX, R11, RCX, flags } pushed below the RIP..SS frame.
 */
#include "pvasm.h"
	.text

	.macro trap_noerr vec
	.globl trap_\vec
trap_\vec:
	pop %rcx
	pop %r11
	pushq $0
	pushq $\vec
	jmp trap_common
	.endm

	.macro trap_err vec
	.globl trap_\vec
trap_\vec:
	pop %rcx
	pop %r11
	pushq $\vec
	jmp trap_common
	.endm

	trap_noerr 0
	trap_noerr 1
	trap_noerr 3
	trap_noerr 6
	trap_noerr 7
	trap_err 13
	trap_err 14
	trap_noerr 128

trap_common:
	pv_save_caller_saved
	lea 72(%rsp), %rdi               /* struct trap_frame: vector, error, rip, cs, rflags, rsp, ss */
	call guest_trap
	pv_restore_caller_saved
	add $16, %rsp                    /* vector, error code */
	pv_iret 0
