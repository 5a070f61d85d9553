/*
 * Xen x86-64 PV guest ABI: HYPERVISOR_memory_op(cmd, arg) (mirrors Xen
 * 4.17's xen/include/public/memory.h). cmd is XENMEM_*, arg points at the
 * structure named beside it.
 */
#ifndef VIREO_PUBLIC_MEMORY_H
#define VIREO_PUBLIC_MEMORY_H

#include <stdint.h>

#include <public/xen.h>

#define XENMEM_increase_reservation          0   /* struct xen_memory_reservation */
#define XENMEM_decrease_reservation          1   /* struct xen_memory_reservation */
#define XENMEM_maximum_ram_page              2   /* NULL; returns the highest RAM MFN */
#define XENMEM_current_reservation           3   /* domid_t *; returns pages */
#define XENMEM_maximum_reservation           4   /* domid_t *; returns pages */
#define XENMEM_machphys_mfn_list             5   /* struct xen_machphys_mfn_list */
#define XENMEM_populate_physmap              6   /* struct xen_memory_reservation */
#define XENMEM_add_to_physmap                7   /* struct xen_add_to_physmap (translated guests) */
/* 8 was XENMEM_translate_gpfn_list, removed */
#define XENMEM_memory_map                    9   /* struct xen_memory_map: the domain's E820 */
#define XENMEM_machine_memory_map           10   /* struct xen_memory_map: the host's E820 (privileged) */
#define XENMEM_exchange                     11   /* struct xen_memory_exchange */
#define XENMEM_machphys_mapping             12   /* struct xen_machphys_mapping */
#define XENMEM_set_memory_map               13   /* struct xen_foreign_memory_map (tools) */
#define XENMEM_maximum_gpfn                 14   /* domid_t *; returns the highest GPFN */
#define XENMEM_remove_from_physmap          15   /* struct xen_remove_from_physmap */
#define XENMEM_set_pod_target               16
#define XENMEM_get_pod_target               17
#define XENMEM_get_sharing_freed_pages      18
#define XENMEM_get_sharing_shared_pages     19
#define XENMEM_paging_op                    20
#define XENMEM_access_op                    21
#define XENMEM_sharing_op                   22
#define XENMEM_add_to_physmap_batch         23
#define XENMEM_claim_pages                  24   /* struct xen_memory_reservation (privileged) */
#define XENMEM_machphys_compat_mfn_list     25
#define XENMEM_get_vnumainfo                26
#define XENMEM_reserved_device_memory_map   27
#define XENMEM_acquire_resource             28

/*
 * xen_memory_reservation.mem_flags: bits 7:0 the address width the extents
 * must fit (0: any), bits 15:8 NUMA node + 1, and the flags below.
 */
#define XENMEMF_address_bits(x)     (x)
#define XENMEMF_get_address_bits(x) ((x) & 0xffu)
#define XENMEMF_node(x)             (((x) + 1) << 8)
#define XENMEMF_get_node(x)         ((((x) >> 8) - 1) & 0xffu)
#define XENMEMF_populate_on_demand  (1 << 16)
#define XENMEMF_exact_node_request  (1 << 17)
#define XENMEMF_exact_node(n)       (XENMEMF_node(n) | XENMEMF_exact_node_request)
#define XENMEMF_vnode               (1 << 18)

/*
 * Argument of XENMEM_{increase,decrease}_reservation and populate_physmap
 * (mirrors memory.h struct xen_memory_reservation): nr_extents extents of
 * 2^extent_order pages each, listed at extent_start (increase: OUT MFNs;
 * decrease: IN GMFNs; populate: IN GPFNs, OUT GMFNs). Returns the number of
 * extents done.
 */
struct xen_memory_reservation {
	uint64_t extent_start;  /* guest handle: xen_pfn_t[nr_extents] */
	xen_ulong_t nr_extents;
	uint32_t extent_order;
	uint32_t mem_flags;     /* XENMEMF_* */
	domid_t domid;          /* DOMID_SELF unless privileged */
	uint8_t pad0[6];
};

_Static_assert(sizeof(struct xen_memory_reservation) == 32, "xen_memory_reservation is 32 bytes");
_Static_assert(__builtin_offsetof(struct xen_memory_reservation, nr_extents) == 8,
	       "xen_memory_reservation.nr_extents");
_Static_assert(__builtin_offsetof(struct xen_memory_reservation, extent_order) == 16,
	       "xen_memory_reservation.extent_order");
_Static_assert(__builtin_offsetof(struct xen_memory_reservation, mem_flags) == 20,
	       "xen_memory_reservation.mem_flags");
_Static_assert(__builtin_offsetof(struct xen_memory_reservation, domid) == 24,
	       "xen_memory_reservation.domid");

/*
 * XENMEM_exchange: atomically trade the extents of in for new ones described
 * by out (same domid, same total size). nr_exchanged must be 0 on entry and
 * says how many input extents were traded.
 */
struct xen_memory_exchange {
	struct xen_memory_reservation in;
	struct xen_memory_reservation out;
	xen_ulong_t nr_exchanged;
};

_Static_assert(sizeof(struct xen_memory_exchange) == 72, "xen_memory_exchange is 72 bytes");
_Static_assert(__builtin_offsetof(struct xen_memory_exchange, out) == 32,
	       "xen_memory_exchange.out");
_Static_assert(__builtin_offsetof(struct xen_memory_exchange, nr_exchanged) == 64,
	       "xen_memory_exchange.nr_exchanged");

/* XENMEM_machphys_mfn_list: MFNs of the 2 MiB extents that hold the M2P. */
struct xen_machphys_mfn_list {
	uint32_t max_extents;   /* IN: size of extent_start */
	uint32_t pad0;
	uint64_t extent_start;  /* guest handle: xen_pfn_t[max_extents] */
	uint32_t nr_extents;    /* OUT */
	uint32_t pad1;
};

_Static_assert(sizeof(struct xen_machphys_mfn_list) == 24, "xen_machphys_mfn_list is 24 bytes");
_Static_assert(__builtin_offsetof(struct xen_machphys_mfn_list, extent_start) == 8,
	       "xen_machphys_mfn_list.extent_start");
_Static_assert(__builtin_offsetof(struct xen_machphys_mfn_list, nr_extents) == 16,
	       "xen_machphys_mfn_list.nr_extents");

/*
 * XENMEM_machphys_mapping: where the read-only M2P table is mapped in the
 * guest's address space, and the largest MFN it covers.
 */
struct xen_machphys_mapping {
	xen_ulong_t v_start;
	xen_ulong_t v_end;
	xen_ulong_t max_mfn;
};

_Static_assert(sizeof(struct xen_machphys_mapping) == 24, "xen_machphys_mapping is 24 bytes");
_Static_assert(__builtin_offsetof(struct xen_machphys_mapping, v_end) == 8,
	       "xen_machphys_mapping.v_end");
_Static_assert(__builtin_offsetof(struct xen_machphys_mapping, max_mfn) == 16,
	       "xen_machphys_mapping.max_mfn");

/* Source spaces of XENMEM_add_to_physmap. */
#define XENMAPSPACE_shared_info  0
#define XENMAPSPACE_grant_table  1
#define XENMAPSPACE_gmfn         2
#define XENMAPSPACE_gmfn_range   3
#define XENMAPSPACE_gmfn_foreign 4
#define XENMAPSPACE_dev_mmio     5   /* Arm only */

#define XENMAPIDX_grant_table_status 0x80000000U

/* XENMEM_add_to_physmap: map page idx of space at gpfn (translated guests). */
struct xen_add_to_physmap {
	domid_t domid;
	uint16_t size;          /* pages, for XENMAPSPACE_gmfn_range */
	uint32_t space;         /* XENMAPSPACE_* */
	xen_ulong_t idx;
	xen_pfn_t gpfn;
};

_Static_assert(sizeof(struct xen_add_to_physmap) == 24, "xen_add_to_physmap is 24 bytes");
_Static_assert(__builtin_offsetof(struct xen_add_to_physmap, size) == 2, "xen_add_to_physmap.size");
_Static_assert(__builtin_offsetof(struct xen_add_to_physmap, space) == 4,
	       "xen_add_to_physmap.space");
_Static_assert(__builtin_offsetof(struct xen_add_to_physmap, idx) == 8, "xen_add_to_physmap.idx");
_Static_assert(__builtin_offsetof(struct xen_add_to_physmap, gpfn) == 16,
	       "xen_add_to_physmap.gpfn");

/* XENMEM_remove_from_physmap: unmap the page at gpfn (translated guests). */
struct xen_remove_from_physmap {
	domid_t domid;
	uint8_t pad0[6];
	xen_pfn_t gpfn;
};

_Static_assert(sizeof(struct xen_remove_from_physmap) == 16, "xen_remove_from_physmap is 16 bytes");
_Static_assert(__builtin_offsetof(struct xen_remove_from_physmap, gpfn) == 8,
	       "xen_remove_from_physmap.gpfn");

/*
 * XENMEM_memory_map, XENMEM_machine_memory_map: nr_entries is IN the
 * capacity of buffer, OUT the number of entries written; buffer holds
 * struct xen_e820_entry records.
 */
struct xen_memory_map {
	uint32_t nr_entries;
	uint32_t pad0;
	uint64_t buffer;        /* guest handle: struct xen_e820_entry[] */
};

_Static_assert(sizeof(struct xen_memory_map) == 16, "xen_memory_map is 16 bytes");
_Static_assert(__builtin_offsetof(struct xen_memory_map, buffer) == 8, "xen_memory_map.buffer");

/* XENMEM_set_memory_map: set the map of another domain (tools). */
struct xen_foreign_memory_map {
	domid_t domid;
	uint8_t pad0[6];
	struct xen_memory_map map;
};

_Static_assert(sizeof(struct xen_foreign_memory_map) == 24, "xen_foreign_memory_map is 24 bytes");
_Static_assert(__builtin_offsetof(struct xen_foreign_memory_map, map) == 8,
	       "xen_foreign_memory_map.map");

/*
 * One memory-map entry of XENMEM_memory_map: memory.h says only "the same
 * format as returned by the BIOS INT 0x15 EAX=0xE820 call", i.e. 20 bytes,
 * packed (Xen's internal asm/e820.h struct e820entry; public/hvm/e820.h
 * carried the same struct until Xen 4.4). Types are the ACPI address-range
 * types. Prefixed names, because the image has its own E820_* for the
 * host's map.
 */
#define XEN_E820_RAM      1
#define XEN_E820_RESERVED 2
#define XEN_E820_ACPI     3
#define XEN_E820_NVS      4
#define XEN_E820_UNUSABLE 5

struct xen_e820_entry {
	uint64_t addr;
	uint64_t size;
	uint32_t type;          /* XEN_E820_* */
} __attribute__((packed));

_Static_assert(sizeof(struct xen_e820_entry) == 20, "E820 entries are 20 bytes");
_Static_assert(__builtin_offsetof(struct xen_e820_entry, size) == 8, "xen_e820_entry.size");
_Static_assert(__builtin_offsetof(struct xen_e820_entry, type) == 16, "xen_e820_entry.type");

#endif
