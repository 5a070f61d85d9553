/*
 * Assembly helpers for a PV guest's entry points (Xen x86-64 PV frames).
 * The hypervisor bounces an exception or a callback onto the guest kernel
 * stack as { RCX, R11, [error code], RIP, CS, RFLAGS, RSP, SS }; the way
 * back is the iret hypercall with { RAX, R11, RCX, flags } pushed below
 * the RIP .. SS part.
 */
#ifndef GUEST_PVASM_H
#define GUEST_PVASM_H

#ifdef __ASSEMBLY__

/* The registers a C function may clobber, around a call from an entry stub. */
	.macro pv_save_caller_saved
	push %rax
	push %rcx
	push %rdx
	push %rsi
	push %rdi
	push %r8
	push %r9
	push %r10
	push %r11
	.endm

	.macro pv_restore_caller_saved
	pop %r11
	pop %r10
	pop %r9
	pop %r8
	pop %rdi
	pop %rsi
	pop %rdx
	pop %rcx
	pop %rax
	.endm

/*
 * Back through the iret hypercall, %rsp at the RIP .. SS frame; flags 0, or
 * VGCF_in_syscall (0x100) to return from the syscall callback.
 */
	.macro pv_iret flags
	pushq $\flags
	push %rcx
	push %r11
	push %rax
	mov $23, %eax                    /* __HYPERVISOR_iret */
	syscall
	ud2
	.endm

#endif
#endif
