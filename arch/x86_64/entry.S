/*
 * Interrupt and exception entry: one stub per vector pushes a zero error
 * code where the CPU pushes none, then the vector, then jumps to the common
 * path, which saves the registers as struct cpu_regs (arch/traps.h) and calls
 * trap_dispatch(regs). The stubs' addresses form trap_stubs[256] for the IDT.
 */
	.text

/* Vectors for which the CPU pushes an error code. */
#define HAS_ERR(v) ((v) == 8 || ((v) >= 10 && (v) <= 14) || (v) == 17 || (v) == 21 || (v) == 29 || (v) == 30)

	.macro stub v
	.align 16
trap_stub_\v:
	.if HAS_ERR(\v) == 0
	pushq $0
	.endif
	pushq $\v
	jmp trap_common
	.endm

	.altmacro
	.macro stubs16 base
	.irp i, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15
	stub %(\base+\i)
	.endr
	.endm

	.irp b, 0,16,32,48,64,80,96,112,128,144,160,176,192,208,224,240
	stubs16 \b
	.endr

trap_common:
	cld
	pushq %rax
	pushq %rbx
	pushq %rcx
	pushq %rdx
	pushq %rsi
	pushq %rdi
	pushq %rbp
	pushq %r8
	pushq %r9
	pushq %r10
	pushq %r11
	pushq %r12
	pushq %r13
	pushq %r14
	pushq %r15
	mov %rsp, %rdi
	/* Frame pointer chain for backtraces: the interrupted rbp, then its rip. */
	pushq 17*8(%rsp)                 /* rip */
	pushq %rbp
	mov %rsp, %rbp
	call trap_dispatch
	add $16, %rsp
	popq %r15
	popq %r14
	popq %r13
	popq %r12
	popq %r11
	popq %r10
	popq %r9
	popq %r8
	popq %rbp
	popq %rdi
	popq %rsi
	popq %rdx
	popq %rcx
	popq %rbx
	popq %rax
	add $16, %rsp                    /* vector, error code */
	iretq

	.section .rodata
	.align 8
	.globl trap_stubs
trap_stubs:
	.macro stubaddr v
	.quad trap_stub_\v
	.endm
	.macro stubaddrs16 base
	.irp i, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15
	stubaddr %(\base+\i)
	.endr
	.endm
	.irp b, 0,16,32,48,64,80,96,112,128,144,160,176,192,208,224,240
	stubaddrs16 \b
	.endr
