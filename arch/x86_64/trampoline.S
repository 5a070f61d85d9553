/*
 * AP start-up trampoline, copied to AP_TRAMPOLINE_PHYS (a page below 1 MiB)
 * before each start-up IPI. An AP starts here in real mode at CS:IP =
 * (AP_TRAMPOLINE_PHYS >> 4):0, goes through protected mode to long mode with
 * the boot CPU's page tables (which identity-map the first 2 MiB, executable),
 * and jumps to ap_entry64 in the image with the stack the boot CPU left in
 * tr_stack. All addresses are physical: TR(x) is x's address in the copy.
 */
#include <arch/layout.h>

#define TR(x) ((x) - trampoline_start + AP_TRAMPOLINE_PHYS)

	.section .trampoline, "aw"
	.globl trampoline_start, trampoline_end, tr_cr3, tr_stack, tr_percpu
	.code16
trampoline_start:
	cli
	cld
	mov %cs, %ax
	mov %ax, %ds
	lgdtl tr_gdt_desc - trampoline_start
	mov %cr0, %eax
	or $1, %eax
	mov %eax, %cr0
	ljmpl $0x08, $TR(tr_start32)

	.code32
tr_start32:
	mov $0x10, %eax
	mov %eax, %ds
	mov %eax, %es
	mov %eax, %ss
	mov %cr4, %eax
	or $((1 << 5) | (1 << 7)), %eax          /* PAE, PGE */
	mov %eax, %cr4
	mov TR(tr_cr3), %eax
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
	ljmp $0x18, $TR(tr_start64)

	.code64
tr_start64:
	mov $0x10, %eax
	mov %eax, %ds
	mov %eax, %es
	mov %eax, %ss
	mov TR(tr_stack), %rsp                   /* top - 8: as if called */
	mov TR(tr_percpu), %rdi
	movabs $ap_entry64, %rax
	jmp *%rax

	.align 16
tr_gdt:
	.quad 0
	.quad 0x00CF9A000000FFFF                 /* 0x08: 32-bit code */
	.quad 0x00CF92000000FFFF                 /* 0x10: data */
	.quad 0x00AF9A000000FFFF                 /* 0x18: 64-bit code */
tr_gdt_end:
tr_gdt_desc:
	.short tr_gdt_end - tr_gdt - 1
	.long TR(tr_gdt)

	.align 8
tr_cr3:		.quad 0
tr_stack:	.quad 0
tr_percpu:	.quad 0
trampoline_end:
