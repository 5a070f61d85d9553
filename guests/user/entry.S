/*
 * The user guest's kernel entry points and its user program.
 *
 * Kernel side (Xen x86-64 PV): exceptions and the syscall callback arrive
 * on the kernel stack (stack_switch) as { RCX, R11, [error], RIP, CS,
 * RFLAGS, RSP, SS }. Each entry restores RCX/R11, makes the frame uniform,
 * saves the caller-saved registers and calls
 *     void user_trap(struct kregs *r)
 * then goes back with the iret hypercall: plain for exceptions, with
 * VGCF_in_syscall for the syscall callback.
 *
 * User side: user_prog .. user_prog_end is copied to the user code page
 * (0x400000) and runs in guest user mode with the user page tables. It is
 * position independent and uses only what a user process may: SYSCALL,
 * INT n, memory accesses, and it ends with the exit syscall (60).
 */
#include "pvasm.h"
	.text

	.macro entry name, vec, err
	.globl \name
\name:
	pop %rcx
	pop %r11
	.if \err == 0
	pushq $0
	.endif
	pushq $\vec
	jmp kernel_common
	.endm

	entry ktrap_3, 3, 0
	entry ktrap_6, 6, 0
	entry ktrap_13, 13, 1
	entry ktrap_14, 14, 1
	entry ktrap_128, 128, 0
	entry ksyscall, 0x1000, 0

kernel_common:
	pv_save_caller_saved
	mov %rsp, %rdi                   /* struct kregs */
	call user_trap
	pv_restore_caller_saved
	cmpq $0x1000, (%rsp)
	lea 16(%rsp), %rsp               /* vector, error code (flags untouched) */
	je 1f
	pv_iret 0
1:	pv_iret 0x100                    /* from the syscall callback: VGCF_in_syscall */

/* void enter_user(uint64_t rip, uint64_t rsp): iret to guest user mode, RPL 3. */
	.globl enter_user
enter_user:
	pushq $0xe02b                    /* SS */
	push %rsi                        /* RSP */
	pushq $0x202                     /* RFLAGS: IF */
	pushq $0xe033                    /* CS, RPL 3: user mode */
	push %rdi                        /* RIP */
	pv_iret 0

	.section .rodata
	.globl user_prog, user_prog_end
user_prog:
	mov %gs:0, %rdi                  /* the user GS base's page: its magic */
	mov $1, %eax
	syscall                          /* 1: report (rdi); returns 100 in rax */
	mov %rax, %rdi
	mov $2, %eax
	syscall                          /* 2: check rdi == 100 */
	int $0x80                        /* DPL 3: the kernel's handler */
	int $0x81                        /* DPL 0: #GP, the kernel skips it */
	movabs $0xffffffff80000000, %rbx
	mov (%rbx), %rax                 /* the kernel's memory: #PF, skipped */
	ud2                              /* #UD, skipped */
	mov $0x402ff8, %rbx
	movq $0x5a5a, (%rbx)             /* its own stack page: fine */
	mov (%rbx), %rdi
	mov $3, %eax
	syscall                          /* 3: check rdi == 0x5a5a */
	mov $60, %eax
	syscall                          /* exit */
	jmp .
user_prog_end:
