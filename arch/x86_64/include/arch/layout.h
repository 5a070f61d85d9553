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
#define M2P_VIRT_START     _UL(0xFFFF800000000000)   /* MACH2PHYS_VIRT_START (ABI) */
#define M2P_VIRT_END       _UL(0xFFFF804000000000)   /* MACH2PHYS_VIRT_END: 256 GiB */
#define DIRECTMAP_END      _UL(0xFFFF880000000000)

/* Boot page tables: PML4 slots of the image and the direct map. */
#define IMAGE_PML4_SLOT    261   /* (IMAGE_VIRT_OFFSET >> 39) & 511 */
#define IMAGE_PDPT_SLOT    322   /* (IMAGE_VIRT_OFFSET >> 30) & 511 */
#define IMAGE_PD_SLOT      0     /* (IMAGE_VIRT_OFFSET >> 21) & 511 */
#define DIRECTMAP_PML4_SLOT 262  /* (DIRECTMAP_BASE >> 39) & 511 */

/* Selectors of the boot GDTs (boot.S, trampoline.S), used until cpu_init_tables(). */
#define BOOT_CS 0x08
#define BOOT_DS 0x10

/*
 * The per-CPU GDT has Xen's layout: 16 pages, the first 14 for a guest's
 * own descriptors (set_gdt), the last two for the hypervisor from
 * FIRST_RESERVED_GDT_ENTRY (7168, selector 0xe000) on. The guest selectors
 * there (FLAT_RING3_CS32 0xe023, DS 0xe02b, CS64 0xe033) are ABI facts; the
 * hypervisor's are Xen's too, so the SYSCALL/SYSRET selector arithmetic in
 * STAR works out as on Xen.
 */
#define GDT_PAGES          16
#define GDT_RESERVED_FIRST 7168
#define HV_CS   0xe008
#define HV_DS   0xe010
#define HV_CS32 0xe018
#define HV_TSS  0xe040           /* 16-byte system descriptor */
#define HV_LDT  0xe050           /* 16-byte system descriptor: the guest's LDT (a copy), as Xen */
#define GDT_LIMIT_ENTRIES 7180   /* through the LDT slot at 0xe050 */

#define BOOT_STACK_SIZE 16384
#define CPU_STACK_SIZE  16384
#define IST_STACK_SIZE  8192

#endif
