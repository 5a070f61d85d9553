/*
 * Xen x86-64 PV guest ABI: HYPERVISOR_physdev_op(cmd, arg) (mirrors Xen
 * 4.17's xen/include/public/physdev.h). All the command numbers, and the
 * argument structures a PV kernel uses without device pass-through.
 */
#ifndef VIREO_PUBLIC_PHYSDEV_H
#define VIREO_PUBLIC_PHYSDEV_H

#include <stdint.h>

#include <public/xen.h>

#define PHYSDEVOP_IRQ_UNMASK_NOTIFY      4   /* obsolete since 0x00030202 */
#define PHYSDEVOP_irq_status_query       5   /* struct physdev_irq_status_query */
#define PHYSDEVOP_set_iopl               6   /* struct physdev_set_iopl */
#define PHYSDEVOP_set_iobitmap           7   /* struct physdev_set_iobitmap */
#define PHYSDEVOP_apic_read              8
#define PHYSDEVOP_apic_write             9
#define PHYSDEVOP_alloc_irq_vector      10
#define PHYSDEVOP_free_irq_vector       11
#define PHYSDEVOP_eoi                   12   /* struct physdev_eoi */
#define PHYSDEVOP_map_pirq              13
#define PHYSDEVOP_unmap_pirq            14
#define PHYSDEVOP_manage_pci_add        15
#define PHYSDEVOP_manage_pci_remove     16
#define PHYSDEVOP_pirq_eoi_gmfn_v1      17   /* struct physdev_pirq_eoi_gmfn */
#define PHYSDEVOP_restore_msi           19
#define PHYSDEVOP_manage_pci_add_ext    20
#define PHYSDEVOP_setup_gsi             21
/* 22 is left free */
#define PHYSDEVOP_get_free_pirq         23
#define PHYSDEVOP_pci_mmcfg_reserved    24
#define PHYSDEVOP_pci_device_add        25
#define PHYSDEVOP_pci_device_remove     26
#define PHYSDEVOP_restore_msi_ext       27
#define PHYSDEVOP_pirq_eoi_gmfn_v2      28   /* struct physdev_pirq_eoi_gmfn */
#define PHYSDEVOP_dbgp_op               29
#define PHYSDEVOP_prepare_msix          30
#define PHYSDEVOP_release_msix          31
#define PHYSDEVOP_pirq_eoi_gmfn         PHYSDEVOP_pirq_eoi_gmfn_v2  /* interface >= 0x00040200 */

/* PHYSDEVOP_eoi: end of interrupt for physical IRQ irq. */
struct physdev_eoi {
	uint32_t irq;           /* IN */
};

_Static_assert(sizeof(struct physdev_eoi) == 4, "physdev_eoi is 4 bytes");

/*
 * PHYSDEVOP_pirq_eoi_gmfn_v{1,2}: register a page that Xen uses as a bitmap
 * indexed by PIRQ, set when the guest must issue PHYSDEVOP_eoi.
 */
struct physdev_pirq_eoi_gmfn {
	xen_pfn_t gmfn;         /* IN */
};

_Static_assert(sizeof(struct physdev_pirq_eoi_gmfn) == 8, "physdev_pirq_eoi_gmfn is 8 bytes");

/* PHYSDEVOP_irq_status_query. */
#define _XENIRQSTAT_needs_eoi 0
#define XENIRQSTAT_needs_eoi  (1U << _XENIRQSTAT_needs_eoi)  /* PHYSDEVOP_eoi needed */
#define _XENIRQSTAT_shared    1
#define XENIRQSTAT_shared     (1U << _XENIRQSTAT_shared)     /* shared by several guests */

struct physdev_irq_status_query {
	uint32_t irq;           /* IN */
	uint32_t flags;         /* OUT: XENIRQSTAT_* */
};

_Static_assert(sizeof(struct physdev_irq_status_query) == 8, "physdev_irq_status_query is 8 bytes");
_Static_assert(__builtin_offsetof(struct physdev_irq_status_query, flags) == 4,
	       "physdev_irq_status_query.flags");

/* PHYSDEVOP_set_iopl: the calling vCPU's virtual I/O privilege level (0-3). */
struct physdev_set_iopl {
	uint32_t iopl;          /* IN */
};

_Static_assert(sizeof(struct physdev_set_iopl) == 4, "physdev_set_iopl is 4 bytes");

/* PHYSDEVOP_set_iobitmap: the calling vCPU's I/O port permission bitmap. */
struct physdev_set_iobitmap {
	uint64_t bitmap;        /* guest handle: uint8_t[(nr_ports + 7) / 8] */
	uint32_t nr_ports;
	uint32_t pad0;
};

_Static_assert(sizeof(struct physdev_set_iobitmap) == 16, "physdev_set_iobitmap is 16 bytes");
_Static_assert(__builtin_offsetof(struct physdev_set_iobitmap, nr_ports) == 8,
	       "physdev_set_iobitmap.nr_ports");

#endif
