/*
 * AP start-up trampoline. The boot CPU copies it to a free page below 1 MiB
 * (chosen at boot: a loader may have put modules anywhere in low memory)
 * and fills its data fields, then sends INIT-SIPI-SIPI. An AP starts here in
 * real mode at CS:IP = (page >> 4):0, goes through protected mode to long
 * mode with the boot CPU's page tables (which identity-map the first 2 MiB,
 * executable), and jumps to ap_entry64 with the stack the boot CPU left.
 *
 * The code is position-independent: EBP holds the page's physical address
 * (CS << 4, computed in real mode), data is reached as OFF(x)(%ebp), and the
 * two far jumps go through pointers the boot CPU fills (tr_jmp32, tr_jmp64),
 * as is the GDT descriptor's base.
 */
#define OFF(x) ((x) - trampoline_start)

	.section .trampoline, "aw"
	.globl trampoline_start, trampoline_end
	.globl tr_cr3, tr_stack, tr_percpu, tr_gdt_desc_base, tr_jmp32, tr_jmp64, tr_gdt
	.code16
trampoline_start:
	cli
	cld
	mov %cs, %ax
	mov %ax, %ds
	xor %ebp, %ebp
	mov %ax, %bp
	shl $4, %ebp                             /* EBP = this page's physical address */
	lgdtl OFF(tr_gdt_desc)
	mov %cr0, %eax
	or $1, %eax
	mov %eax, %cr0
	ljmpl *OFF(tr_jmp32)                     /* -> tr_start32, with CS = 0x08 */

	.code32
tr_start32:
	mov $0x10, %eax
	mov %eax, %ds
	mov %eax, %es
	mov %eax, %ss
	mov %cr4, %eax
	or $((1 << 5) | (1 << 7)), %eax          /* PAE, PGE */
	mov %eax, %cr4
	mov OFF(tr_cr3)(%ebp), %eax
	mov %eax, %cr3
	mov $0x80000001, %eax
	cpuid
	mov %edx, %ebx
	mov $0xC0000080, %ecx
	rdmsr
	or $(1 << 8), %eax                       /* LME */
	bt $20, %ebx
	jnc 1f
	or $(1 << 11), %eax                      /* NXE: the tables use NX */
1:	wrmsr
	/* CR0 whole: after INIT it has CD and NW set (caches off). PG WP NE ET MP PE. */
	mov $0x80010033, %eax
	mov %eax, %cr0
	ljmp *OFF(tr_jmp64)(%ebp)                /* -> tr_start64, with CS = 0x18 */

	.code64
tr_start64:
	mov %ebp, %ebp                           /* zero-extend: the upper half is undefined here */
	mov $0x10, %eax
	mov %eax, %ds
	mov %eax, %es
	mov %eax, %ss
	mov OFF(tr_stack)(%rbp), %rsp            /* top - 8: as if called */
	mov OFF(tr_percpu)(%rbp), %rdi
	movabs $ap_entry64, %rax
	jmp *%rax

	.align 16
tr_gdt:
	.quad 0
	.quad 0x00CF9A000000FFFF                 /* 0x08: 32-bit code */
	.quad 0x00CF92000000FFFF                 /* 0x10: data */
	.quad 0x00AF9A000000FFFF                 /* 0x18: 64-bit code */
tr_gdt_end:
	.align 4
tr_gdt_desc:
	.short tr_gdt_end - tr_gdt - 1
tr_gdt_desc_base:
	.long 0                                  /* page + OFF(tr_gdt) */

	.align 8
tr_jmp32:	.long 0                          /* page + OFF(tr_start32) */
		.short 0x08
	.align 8
tr_jmp64:	.long 0                          /* page + OFF(tr_start64) */
		.short 0x18
	.align 8
tr_cr3:		.quad 0
tr_stack:	.quad 0
tr_percpu:	.quad 0
	.globl tr_start32_sym, tr_start64_sym
	.set tr_start32_sym, tr_start32
	.set tr_start64_sym, tr_start64
trampoline_end:
