#ifndef ARCH_X86_64_PAGING_H
#define ARCH_X86_64_PAGING_H

#include <stdint.h>

#include <arch/bootinfo.h>
#include <arch/layout.h>
#include <vireo/pte.h>


/*
 * Build the hypervisor's page tables and switch to them: the image with
 * W^X (text read-only + executable, the rest non-executable), every machine
 * address up to max(4 GiB, top of RAM) at DIRECTMAP_BASE (write-back where
 * the memory map says RAM, uncached elsewhere), and, until paging_drop_identity(),
 * the first 2 MiB identity-mapped (executable) for the AP trampoline.
 */
void paging_init(const struct boot_info *bi);
void paging_drop_identity(void);

/* Machine addresses below this are in the direct map (RAM above it cannot be used). */
uint64_t paging_directmap_limit(void);

/* Machine address of the current top-level table (for APs). */
uint64_t paging_root_maddr(void);

/* Map the M2P (nr entries at m2p, page aligned) read-only for guests at M2P_VIRT_START. */
void paging_map_m2p(const uint64_t *m2p, uint64_t nr);

/* Physical address of something in the image (text, data or bss). */
static inline uint64_t image_virt_to_maddr(const void *p)
{
	return (uint64_t)p - IMAGE_VIRT_OFFSET;
}

#endif
