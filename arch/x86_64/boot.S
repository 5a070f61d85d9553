/*
 * First instructions: from a 32-bit loader (Multiboot 1, Multiboot 2 or PVH)
 * to 64-bit C in boot_main().
 *
 * All three loaders enter in 32-bit protected mode with paging off, flat
 * segments and EBX pointing at their boot information:
 *   Multiboot 1  EAX = 0x2BADB002, entry start32 (from the header)
 *   Multiboot 2  EAX = 0x36D76289, entry start32 (entry-address tag)
 *   PVH          EAX undefined,    entry pvh_start32 (XEN_ELFNOTE_PHYS32_ENTRY),
 *                which sets EAX to the PVH magic 0x336EC578 itself.
 *
 * The code here runs at its physical address (section .boot: VMA = LMA).
 * It zeroes .bss, builds boot page tables (2 MiB pages: identity for the
 * first 4 GiB, the image at IMAGE_VIRT_OFFSET, the direct map's first 4 GiB),
 * enters long mode and jumps to the image's virtual address. boot_main()
 * then builds the real page tables.
 */
#include <arch/layout.h>
#include <vireo/pte.h>

#define PHYS(x) ((x) - IMAGE_VIRT_OFFSET)

#define MB2_MAGIC 0xE85250D6
#define PVH_MAGIC 0x336EC578
#define COM1      0x3F8


/* ---- Multiboot 2 header (GRUB: multiboot2) ---------------------------------- */
	.section .multiboot2, "a"
	.align 8
mb2_header:
	.long MB2_MAGIC
	.long 0                                  /* architecture: i386 (32-bit protected mode) */
	.long mb2_header_end - mb2_header
	.long -(MB2_MAGIC + 0 + (mb2_header_end - mb2_header))
	/* address tag: load the file's bytes like the a.out kludge */
	.align 8
	.short 2, 0
	.long 24
	.long mb2_header                         /* header_addr */
	.long __image_phys_start                 /* load_addr */
	.long __load_end_phys                    /* load_end_addr */
	.long __bss_end_phys                     /* bss_end_addr */
	/* entry-address tag */
	.align 8
	.short 3, 0
	.long 12
	.long start32
	/* module-alignment tag: modules on page boundaries */
	.align 8
	.short 6, 0
	.long 8
	/* end tag */
	.align 8
	.short 0, 0
	.long 8
mb2_header_end:

/* ---- PVH entry note (QEMU -kernel without Multiboot, and other PVH loaders) -- */
	.section .note.Xen, "a", @note
	.align 4
	.long 4                                  /* name size: "Xen\0" */
	.long 4                                  /* descriptor size */
	.long 18                                 /* XEN_ELFNOTE_PHYS32_ENTRY */
	.asciz "Xen"
	.long pvh_start32

/* ---- 32-bit entry ------------------------------------------------------------ */
	.section .boot.text, "ax"
	.code32
	.globl pvh_start32
pvh_start32:
	mov $PVH_MAGIC, %eax
	/* fall through */

	.globl start32
start32:
	cli
	cld
	mov %eax, boot_magic
	mov %ebx, boot_info

	/* Zero .bss (a loader need not have done it). */
	mov $PHYS(__bss_start), %edi
	mov $PHYS(__bss_end), %ecx
	sub %edi, %ecx
	shr $2, %ecx
	xor %eax, %eax
	rep stosl

	mov $PHYS(boot_stack + BOOT_STACK_SIZE), %esp

	/* Long mode is all we need from the CPU; say so if it is missing. */
	mov $0x80000000, %eax
	cpuid
	cmp $0x80000001, %eax
	jb no_long_mode
	mov $0x80000001, %eax
	cpuid
	bt $29, %edx
	jnc no_long_mode
	mov %edx, %ebp                           /* keep: bit 20 is NX */

	/* PML4: identity (slot 0), image, direct map (same PDs as identity). */
	mov $PHYS(boot_pml4), %edi
	movl $(PHYS(boot_pdpt_id) + PTE_P + PTE_W), (%edi)
	movl $(PHYS(boot_pdpt_img) + PTE_P + PTE_W), IMAGE_PML4_SLOT * 8(%edi)
	movl $(PHYS(boot_pdpt_id) + PTE_P + PTE_W), DIRECTMAP_PML4_SLOT * 8(%edi)

	/* Identity PDPT: four PDs of 2 MiB pages, 0 .. 4 GiB. */
	mov $PHYS(boot_pdpt_id), %edi
	mov $(PHYS(boot_pd_id) + PTE_P + PTE_W), %eax
	mov $4, %ecx
1:	mov %eax, (%edi)
	add $4096, %eax
	add $8, %edi
	loop 1b

	mov $PHYS(boot_pd_id), %edi
	mov $(PTE_P + PTE_W + PTE_PS), %eax
	mov $2048, %ecx
1:	mov %eax, (%edi)
	add $0x200000, %eax
	add $8, %edi
	loop 1b

	/* Image PDPT and PD: IMAGE_VIRT_OFFSET + x -> x for x in 0 .. 1 GiB. */
	mov $PHYS(boot_pdpt_img), %edi
	movl $(PHYS(boot_pd_img) + PTE_P + PTE_W), IMAGE_PDPT_SLOT * 8(%edi)
	mov $(PHYS(boot_pd_img) + IMAGE_PD_SLOT * 8), %edi
	mov $(PTE_P + PTE_W + PTE_PS), %eax
	mov $(512 - IMAGE_PD_SLOT), %ecx
1:	mov %eax, (%edi)
	add $0x200000, %eax
	add $8, %edi
	loop 1b

	/* PAE + global pages, the tables, EFER.LME (+NXE when there is NX), paging. */
	mov %cr4, %eax
	or $((1 << 5) | (1 << 7)), %eax
	mov %eax, %cr4
	mov $PHYS(boot_pml4), %eax
	mov %eax, %cr3
	mov $0xC0000080, %ecx
	rdmsr
	or $(1 << 8), %eax
	bt $20, %ebp
	jnc 1f
	or $(1 << 11), %eax
1:	wrmsr
	/* CR0 whole (a loader leaves the other bits undefined): PG WP NE ET MP PE, caches on. */
	mov $0x80010033, %eax
	mov %eax, %cr0

	lgdt boot_gdt_desc
	ljmp $BOOT_CS, $start64_low

no_long_mode:
	mov $no_lm_msg, %esi
1:	lodsb
	test %al, %al
	jz 2f
	mov $COM1, %dx
	out %al, %dx
	jmp 1b
2:	hlt
	jmp 2b

	.code64
start64_low:
	mov $BOOT_DS, %eax
	mov %eax, %ds
	mov %eax, %es
	mov %eax, %ss
	xor %eax, %eax
	mov %eax, %fs
	mov %eax, %gs
	movabs $start64, %rax
	jmp *%rax

/* ---- data the 32-bit code writes (physical addresses) ------------------------- */
	.section .boot.data, "aw"
	.align 16
	.globl boot_magic, boot_info
boot_magic:	.long 0
boot_info:	.long 0
no_lm_msg:	.asciz "vireo: this CPU has no long mode (x86-64); stopping\r\n"

	.align 16
boot_gdt:
	.quad 0
	.quad 0x00AF9A000000FFFF                 /* BOOT_CS: 64-bit code, DPL 0 */
	.quad 0x00CF92000000FFFF                 /* BOOT_DS: data, DPL 0 */
boot_gdt_end:
	.align 4
	.short 0
boot_gdt_desc:
	.short boot_gdt_end - boot_gdt - 1
	.long boot_gdt
	.long 0

/* ---- 64-bit, at the image's virtual address ----------------------------------- */
	.text
	.globl start64
start64:
	movabs $(boot_stack + BOOT_STACK_SIZE), %rsp
	xor %ebp, %ebp
	/*
	 * Reload the GDT through its image alias: valid until paging_init()
	 * switches tables (no segment is loaded in between), after which
	 * cpu_init_tables() installs the per-CPU GDT.
	 */
	movabs $boot_gdt_desc_high, %rax
	lgdt (%rax)
	movabs $boot_magic, %rax
	mov (%rax), %edi
	movabs $boot_info, %rax
	mov (%rax), %esi
	call boot_main
1:	cli
	hlt
	jmp 1b

	.section .rodata
	/* The image's physical extent, as data: C cannot reach physical symbols RIP-relative. */
	.align 8
	.globl image_phys_range
image_phys_range:
	.quad __image_phys_start, __bss_end_phys

	.align 16
boot_gdt_desc_high:
	.short boot_gdt_end - boot_gdt - 1
	.quad boot_gdt + IMAGE_VIRT_OFFSET

	.bss
	.align 4096
	.globl boot_pml4
boot_pml4:	.skip 4096
boot_pdpt_id:	.skip 4096
boot_pdpt_img:	.skip 4096
boot_pd_img:	.skip 4096
boot_pd_id:	.skip 4 * 4096
	.globl boot_stack
boot_stack:	.skip BOOT_STACK_SIZE
