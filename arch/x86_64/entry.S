/*
 * Interrupt and exception entry: one stub per vector pushes a zero error
 * code where the CPU pushes none, then the vector, then jumps to the common
 * path, which saves the registers as struct cpu_regs (arch/traps.h) and calls
 * trap_dispatch(regs). Each stub also puts its address in trap_stubs[256],
 * in vector order, for the IDT.
 */
	.text

/* The general registers in struct cpu_regs order (arch/traps.h): r15 at the lowest address. */
	.macro push_gprs
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
	.endm

	.macro pop_gprs
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
	.endm

/*
 * Save the registers as struct cpu_regs and call trap_dispatch(regs), with a
 * frame-pointer record (the interrupted rbp, then its rip) for backtraces.
 */
	.macro save_and_dispatch
	push_gprs
	mov %rsp, %rdi
	pushq 17*8(%rsp)                 /* rip */
	pushq %rbp
	mov %rsp, %rbp
	call trap_dispatch
	add $16, %rsp
	.endm

/* Vectors for which the CPU pushes an error code. */
#define HAS_ERR(v) ((v) == 8 || ((v) >= 10 && (v) <= 14) || (v) == 17 || (v) == 21 || (v) == 29 || (v) == 30)

/* NMI, #DB and #MC can interrupt ring 0 before its swapgs: their GS is checked, not assumed. */
#define PARANOID(v) ((v) == 1 || (v) == 2 || (v) == 18)

	.macro stub v
	.pushsection .rodata.trap_stubs, "a"
	.quad trap_stub_\v                     /* trap_stubs[v] */
	.popsection
	.align 16
trap_stub_\v:
	.if HAS_ERR(\v) == 0
	pushq $0
	.endif
	pushq $\v
	.if PARANOID(\v)
	jmp paranoid_common
	.else
	jmp trap_common
	.endif
	.endm

	.pushsection .rodata.trap_stubs, "a"
	.align 8
	.globl trap_stubs
trap_stubs:                                  /* the stubs' addresses, in vector order */
	.popsection

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
	testb $3, 24(%rsp)               /* the interrupted CS: from a guest (ring 3)? */
	jnz 2f
	/*
	 * Ring 0, but the guest's IRETQ itself faulted (its CS:RIP or SS:RSP
	 * is not good to the CPU, e.g. past a guest code segment's limit):
	 * GS is already the guest's again. trap_dispatch crashes the domain.
	 */
	pushq %rax
	leaq guest_iretq(%rip), %rax
	cmpq %rax, 24(%rsp)              /* the interrupted RIP (16, above the pushed rax) */
	popq %rax
	jne 1f
2:	swapgs                           /* GS base: the guest's -> this CPU's struct percpu */
1:	save_and_dispatch
	/* falls through into trap_return: keep them together */

/*
 * Return to the context whose struct cpu_regs is at %rsp: the hypervisor
 * itself, or a guest (CS with RPL 3, then GS is swapped back to the guest's).
 */
	.globl trap_return
trap_return:
	pop_gprs
	add $16, %rsp                    /* vector, error code */
	testb $3, 8(%rsp)                /* returning to a guest? */
	jz 1f
	swapgs
	.globl guest_iretq
guest_iretq:                             /* a fault here is the guest's (trap_common) */
	iretq
1:	iretq

/*
 * The paranoid entry of NMI, #DB and #MC (IST stacks, no error code of
 * their own): whether GS holds this CPU's struct percpu is decided by
 * reading GS_BASE and comparing it with the percpu pointer smp.c keeps in
 * the top word of the IST stack, not by the interrupted CS (ring 0 right
 * after SYSCALL still has the guest's). The error-code slot remembers
 * whether to swap back.
 */
paranoid_common:
	cld
	push %rax
	push %rcx
	push %rdx
	mov $0xC0000101, %ecx            /* MSR_GS_BASE */
	rdmsr
	shl $32, %rdx
	or %rdx, %rax
	cmp 88(%rsp), %rax               /* IST top word: rdx rcx rax vector error + 5-word frame + pad */
	je 1f
	swapgs
	movq $1, 32(%rsp)
1:	pop %rdx
	pop %rcx
	pop %rax
	save_and_dispatch
	pop_gprs
	cmpq $0, 8(%rsp)                 /* swapped on entry? */
	je 2f
	add $16, %rsp                    /* vector, error code */
	swapgs
	jmp guest_iretq                  /* the guest's GS again: a refused frame is the guest's */
2:	add $16, %rsp
	iretq

/*
 * SYSCALL from a guest: a hypercall when the guest kernel makes it. The CPU
 * put the guest's RIP in RCX and RFLAGS in R11 and masked IF (SFMASK); build
 * the same struct cpu_regs an interrupt from ring 3 would, on this CPU's
 * hypervisor stack, with "vector" 256 (64-bit SYSCALL) or 257 (from 32-bit
 * compatibility mode: no 32-bit guests, the C side crashes the domain), and
 * leave through trap_return.
 */
	.macro syscall_entry_frame guest_cs, vector
	swapgs
	movq %rsp, %gs:24                /* percpu.guest_rsp */
	movq %gs:16, %rsp                /* percpu.stack_top */
	pushq $0xe02b                    /* FLAT_RING3_SS64 */
	pushq %gs:24
	pushq %r11
	pushq $\guest_cs
	pushq %rcx
	pushq $0                         /* error code */
	pushq $\vector
	push_gprs
	cld
	mov %rsp, %rdi
	xor %ebp, %ebp
	call syscall_dispatch
	jmp trap_return
	.endm

	.globl syscall_entry
syscall_entry:
	syscall_entry_frame 0xe033, 0x100     /* FLAT_RING3_CS64 */

	.globl syscall32_entry
syscall32_entry:
	syscall_entry_frame 0xe023, 0x101     /* FLAT_RING3_CS32 */

/*
 * Enter a guest for the first time: %rdi points at a struct cpu_regs placed
 * at the top of this CPU's stack.
 */
	.globl guest_enter_frame
guest_enter_frame:
	mov %rdi, %rsp
	jmp trap_return

/*
 * size_t guest_copy_raw(void *dst, const void *src, size_t n): copy n bytes
 * where one side is guest memory; returns how many were NOT copied. Eight
 * bytes at a time, then the rest (a byte loop is slow on older CPUs and
 * under emulation). A fault on either copy instruction resumes at its fixup
 * (see guest_copy_fault_fixup in syscall.c), which counts what is left.
 */
	.globl guest_copy_raw, guest_copy_insn_q, guest_copy_fixup_q, guest_copy_insn, guest_copy_fixup
guest_copy_raw:
	mov %rdx, %rcx
	shr $3, %rcx
guest_copy_insn_q:
	rep movsq
	mov %rdx, %rcx
	and $7, %rcx
guest_copy_insn:
	rep movsb
	xor %eax, %eax
	ret
guest_copy_fixup_q:
	mov %rdx, %rax                   /* left: the quadwords not moved, and the tail */
	and $7, %rax
	lea (%rax, %rcx, 8), %rax
	ret
guest_copy_fixup:
	mov %rcx, %rax
	ret
