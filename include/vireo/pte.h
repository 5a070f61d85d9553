/*
 * x86-64 page-table entry bits, for the hypervisor's own tables (arch/x86_64)
 * and for the guest tables the PV domain builder writes and the hosted
 * machine walks (core/, arch/hosted/). Usable from assembly.
 */
#ifndef VIREO_PTE_H
#define VIREO_PTE_H

#ifdef __ASSEMBLER__
#define PTE_BIT(x) (x)
#else
#define PTE_BIT(x) (x##ull)
#endif

#define PTE_P    PTE_BIT(0x001)   /* present */
#define PTE_W    PTE_BIT(0x002)   /* writable */
#define PTE_U    PTE_BIT(0x004)   /* user (ring 3) may use it */
#define PTE_PWT  PTE_BIT(0x008)
#define PTE_PCD  PTE_BIT(0x010)
#define PTE_A    PTE_BIT(0x020)   /* accessed */
#define PTE_D    PTE_BIT(0x040)   /* dirty */
#define PTE_PS   PTE_BIT(0x080)   /* a large page (L2/L3) */
#define PTE_G    PTE_BIT(0x100)   /* global */

#ifndef __ASSEMBLER__
#define PTE_NX   (1ull << 63)
#define PTE_ADDR 0x000FFFFFFFFFF000ull

#include <stdbool.h>
#include <stdint.h>

/* A canonical x86-64 address (bits 63:47 all equal): any other faults where the CPU uses it. */
static inline bool canonical_va(uint64_t va)
{
	return (uint64_t)((int64_t)(va << 16) >> 16) == va;
}
#endif

#endif
