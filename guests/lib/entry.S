/*
 * Start of day of a Vireo PV guest kernel, and the Xen ELF notes that tell a
 * domain builder (Vireo's or Xen's) how to load it.
 *
 * What the guest may assume when _start runs (Xen's PV boot protocol for an
 * x86-64 guest; xen/arch/x86/pv/dom0_build.c, tools/libs/guest/xg_dom_x86.c):
 *   - ring 3 in 64-bit mode, CS = FLAT_KERNEL_CS (0xe033), SS =
 *     FLAT_KERNEL_SS (0xe02b), data segments null, FS/GS bases 0;
 *   - RIP = the ENTRY note, RSI = virtual address of start_info, RSP = the
 *     end of a boot stack page in the bootstrap region; RFLAGS has IF set
 *     and DF clear (event delivery is masked in vcpu_info instead, and no
 *     callback is registered anyway);
 *   - the image is mapped at VIRT_BASE + p_paddr, its .bss zeroed by the
 *     loader, followed by the bootstrap region (P2M list, start_info, the
 *     page tables, the boot stack).
 * The guest uses none of the boot stack (nothing is pushed before RSP moves)
 * and does not rely on the loader's zeroing: it clears .bss itself (cheap,
 * and it keeps a loader that forgets from showing up as odd guest bugs),
 * then moves to its own 16 KiB stack in .bss and calls C. RSI waits in RBX
 * meanwhile, since nothing may be stored in .bss before it is cleared.
 */
#include <public/elfnote.h>

/*
 * One ELF note named "Xen" (namesz 4, "Xen\0"), descriptor padded to 4
 * bytes, as libelf and core/elf.c read them from the PT_NOTE segment.
 */
#define XEN_NOTE(type, desc)					\
	.pushsection .note.Xen, "a", @note;			\
	.balign 4;						\
	.long 2f - 1f;		/* namesz */			\
	.long 4f - 3f;		/* descsz */			\
	.long type;						\
1:	.asciz "Xen";						\
2:	.balign 4;						\
3:	desc;							\
4:	.balign 4;						\
	.popsection

XEN_NOTE(XEN_ELFNOTE_GUEST_OS,      .asciz "Vireo-test")
XEN_NOTE(XEN_ELFNOTE_GUEST_VERSION, .asciz "0.1")
XEN_NOTE(XEN_ELFNOTE_XEN_VERSION,   .asciz "xen-3.0")
XEN_NOTE(XEN_ELFNOTE_LOADER,        .asciz "generic")
XEN_NOTE(XEN_ELFNOTE_VIRT_BASE,     .quad 0xffffffff80000000)
XEN_NOTE(XEN_ELFNOTE_PADDR_OFFSET,  .quad 0)
XEN_NOTE(XEN_ELFNOTE_ENTRY,         .quad _start)
XEN_NOTE(XEN_ELFNOTE_HYPERCALL_PAGE, .quad hypercall_page)

#define BOOT_STACK_SIZE (16 * 1024)

	.section .text.entry, "ax", @progbits
	.code64
	.globl _start
	.type _start, @function
_start:
	cld
	mov %rsi, %rbx                  /* start_info */

	lea __bss_start(%rip), %rdi     /* zero .bss (the stack is in it) */
	lea __bss_end(%rip), %rcx
	sub %rdi, %rcx
	xor %eax, %eax
	rep stosb

	lea boot_stack_top(%rip), %rsp  /* 16-byte aligned, as the SysV ABI wants at a call */
	xor %ebp, %ebp                  /* ends frame-pointer backtraces */
	mov %rbx, %rdi
	call guest_main

	mov %eax, %edi
	call guest_exit                 /* does not return */
	ud2
	.size _start, . - _start

/*
 * The hypercall page: the hypervisor fills it (XEN_ELFNOTE_HYPERCALL_PAGE)
 * with one 32-byte stub per hypercall. Guests here call syscall directly;
 * the page is for guests and tests that use Xen's older convention.
 */
	.section .text.hypercall_page, "ax", @progbits
	.balign 4096
	.globl hypercall_page
hypercall_page:
	.fill 4096, 1, 0xcc

	.section .bss.stack, "aw", @nobits
	.balign 4096
boot_stack:
	.skip BOOT_STACK_SIZE
boot_stack_top:

	.section .note.GNU-stack, "", @progbits
