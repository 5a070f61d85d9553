/*
 * The image's address-space layout (usable from C, assembly and the linker
 * script). The hypervisor lives where Xen's x86-64 PV ABI reserves room for
 * it, [0xFFFF800000000000, 0xFFFF880000000000): guests own everything else,
 * the lower half for their user space and the top for their kernel.
 *
 *   0xFFFF800000000000  M2P table, read-only to guests (XENMEM_machphys_mapping)
 *   0xFFFF82D080000000  IMAGE_VIRT_OFFSET: virtual = physical + this, for the image
 *                       (loaded at IMAGE_PHYS_START = 2 MiB, so it runs at
 *                       0xFFFF82D080200000, Xen's XEN_VIRT_START neighbourhood)
 *   0xFFFF830000000000  DIRECTMAP_BASE: every machine address up to the top of
 *                       RAM (and at least 4 GiB, for firmware tables and MMIO)
 *   0xFFFF880000000000  end of the hypervisor's range
 *
 * The first megabytes of machine memory stay identity-mapped only until the
 * APs are up: the AP trampoline needs it.
 */
#ifndef ARCH_X86_64_LAYOUT_H
#define ARCH_X86_64_LAYOUT_H

#ifdef __ASSEMBLER__
#define _UL(x) x
#else
#define _UL(x) x##UL
#endif

#define IMAGE_PHYS_START   _UL(0x200000)
#define IMAGE_VIRT_OFFSET  _UL(0xFFFF82D080000000)
#define DIRECTMAP_BASE     _UL(0xFFFF830000000000)
#define DIRECTMAP_END      _UL(0xFFFF880000000000)
#define HYPERVISOR_VIRT_START _UL(0xFFFF800000000000)
#define HYPERVISOR_VIRT_END   _UL(0xFFFF880000000000)

/* Boot page tables: PML4 slots of the image and the direct map. */
#define IMAGE_PML4_SLOT    261   /* (IMAGE_VIRT_OFFSET >> 39) & 511 */
#define IMAGE_PDPT_SLOT    322   /* (IMAGE_VIRT_OFFSET >> 30) & 511 */
#define IMAGE_PD_SLOT      0     /* (IMAGE_VIRT_OFFSET >> 21) & 511 */
#define DIRECTMAP_PML4_SLOT 262  /* (DIRECTMAP_BASE >> 39) & 511 */

/* Hypervisor selectors in the boot and per-CPU GDTs. */
#define HV_CS   0x08
#define HV_DS   0x10
#define HV_TSS  0x18             /* 16-byte system descriptor: slots 3 and 4 */
#define GDT_ENTRIES 5

#define BOOT_STACK_SIZE 16384
#define CPU_STACK_SIZE  16384
#define IST_STACK_SIZE  8192

/* Where the AP start-up trampoline is copied (below 1 MiB, page aligned). */
#define AP_TRAMPOLINE_PHYS 0x8000

#endif
