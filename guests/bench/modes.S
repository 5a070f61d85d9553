/*
 * The benchmark guest's entry points for the exception and user-mode
 * round trips (bench.c). Xen x86-64 PV frames: the hypervisor bounces
 *     { RCX, R11, [error], RIP, CS, RFLAGS, RSP, SS }
 * onto the kernel stack; the way back is the iret hypercall with
 *     { RAX, R11, RCX, flags } below RIP..SS.
 */
#include "pvasm.h"
	.text

/* int3 handler: straight back (RIP already points past the int3). */
	.globl bench_int3
bench_int3:
	pop %rcx
	pop %r11
	pv_iret 0

/*
 * Syscall callback: SYSCALL 0 from user mode goes straight back (iret with
 * VGCF_in_syscall); SYSCALL 60 ends the run: RDI holds the cycles the user
 * program measured, and bench_user_run returns it in kernel mode.
 */
	.globl bench_syscall
bench_syscall:
	cmp $60, %eax
	je 1f
	pop %rcx
	pop %r11
	pv_iret 0x100
1:	mov %rdi, %rax
	mov saved_rsp(%rip), %rsp
	pop %r15
	pop %r14
	pop %r13
	pop %r12
	pop %rbp
	pop %rbx
	ret

/* uint64_t bench_user_run(uint64_t user_rip, uint64_t user_rsp, uint64_t iterations) */
	.globl bench_user_run
bench_user_run:
	push %rbx
	push %rbp
	push %r12
	push %r13
	push %r14
	push %r15
	mov %rsp, saved_rsp(%rip)
	mov %rdx, %rbx                   /* the iterations, for the user program */
	pushq $0xe02b                    /* SS */
	push %rsi                        /* RSP */
	pushq $0x202                     /* RFLAGS */
	pushq $0xe033                    /* CS, RPL 3: user mode */
	push %rdi                        /* RIP */
	pv_iret 0

	.data
	.align 8
saved_rsp:
	.quad 0

/*
 * The user program (copied to the user code page): RBX SYSCALLs of number
 * 0, timed with RDTSC, then SYSCALL 60 with the cycles in RDI.
 */
	.section .rodata
	.globl bench_user_prog, bench_user_prog_end
bench_user_prog:
	rdtsc
	shl $32, %rdx
	or %rax, %rdx
	mov %rdx, %r12
2:	xor %eax, %eax
	syscall
	dec %rbx
	jnz 2b
	rdtsc
	shl $32, %rdx
	or %rax, %rdx
	sub %r12, %rdx
	mov %rdx, %rdi
	mov $60, %eax
	syscall
	jmp .
bench_user_prog_end:

/* Event callback: bench_event_clear() takes the pending event, then back by iret (unmasking). */
	.globl bench_event
bench_event:
	pop %rcx
	pop %r11
	pv_save_caller_saved
	call bench_event_clear
	pv_restore_caller_saved
	pv_iret 0
