/*
 * Xen x86-64 PV guest ABI: grant tables, version 1 (mirrors Xen 4.17's
 * xen/include/public/grant_table.h). A domain shares a frame by writing a
 * grant entry; the grantee names it by (domain, grant reference) in
 * HYPERVISOR_grant_table_op(cmd, args, count), where args is an array of
 * count structures of the command's type.
 *
 * Writing a valid entry: domid, then frame, then a write barrier, then
 * flags. Revoking an unused GTF_permit_access entry: read flags, check that
 * neither GTF_reading nor GTF_writing is set, then cmpxchg flags to 0.
 */
#ifndef VIREO_PUBLIC_GRANT_TABLE_H
#define VIREO_PUBLIC_GRANT_TABLE_H

#include <stdint.h>

#include <public/xen.h>

typedef uint32_t grant_ref_t;
typedef uint32_t grant_handle_t;    /* tracks one mapping made through a grant */

/* One entry of a v1 grant table (mirrors grant_table.h struct grant_entry_v1). */
struct grant_entry_v1 {
	uint16_t flags;     /* GTF_*; written by guest and Xen */
	domid_t domid;      /* the grantee; written by the guest */
	uint32_t frame;     /* GFN granted (or the transfer target); guest or Xen */
};

_Static_assert(sizeof(struct grant_entry_v1) == 8, "grant_entry_v1 is 8 bytes");
_Static_assert(__builtin_offsetof(struct grant_entry_v1, domid) == 2, "grant_entry_v1.domid");
_Static_assert(__builtin_offsetof(struct grant_entry_v1, frame) == 4, "grant_entry_v1.frame");

/* Entries kept across version changes, possibly filled by the tools. */
#define GNTTAB_NR_RESERVED_ENTRIES 8
#define GNTTAB_RESERVED_CONSOLE    0
#define GNTTAB_RESERVED_XENSTORE   1

/* Entry type, flags[1:0]. */
#define GTF_invalid         (0U << 0)
#define GTF_permit_access   (1U << 0)
#define GTF_accept_transfer (2U << 0)
#define GTF_transitive      (3U << 0)
#define GTF_type_mask       (3U << 0)

/* Subflags of GTF_permit_access. [GST]: guest writes, [XEN]: Xen writes. */
#define _GTF_readonly (2)
#define GTF_readonly  (1U << _GTF_readonly)   /* [GST] read-only access */
#define _GTF_reading  (3)
#define GTF_reading   (1U << _GTF_reading)    /* [XEN] mapped for reading */
#define _GTF_writing  (4)
#define GTF_writing   (1U << _GTF_writing)    /* [XEN] mapped for writing */
#define _GTF_PWT      (5)
#define GTF_PWT       (1U << _GTF_PWT)        /* [GST] x86 cache attributes */
#define _GTF_PCD      (6)
#define GTF_PCD       (1U << _GTF_PCD)
#define _GTF_PAT      (7)
#define GTF_PAT       (1U << _GTF_PAT)
#define _GTF_sub_page (8)
#define GTF_sub_page  (1U << _GTF_sub_page)   /* [GST] v2 only: copy a subrange */

/* Subflags of GTF_accept_transfer. */
#define _GTF_transfer_committed (2)
#define GTF_transfer_committed  (1U << _GTF_transfer_committed)
#define _GTF_transfer_completed (3)
#define GTF_transfer_completed  (1U << _GTF_transfer_completed)

#define GNTTABOP_map_grant_ref     0   /* struct gnttab_map_grant_ref */
#define GNTTABOP_unmap_grant_ref   1   /* struct gnttab_unmap_grant_ref */
#define GNTTABOP_setup_table       2   /* struct gnttab_setup_table */
#define GNTTABOP_dump_table        3   /* struct gnttab_dump_table */
#define GNTTABOP_transfer          4   /* struct gnttab_transfer */
#define GNTTABOP_copy              5   /* struct gnttab_copy */
#define GNTTABOP_query_size        6   /* struct gnttab_query_size */
#define GNTTABOP_unmap_and_replace 7   /* struct gnttab_unmap_and_replace */
#define GNTTABOP_set_version       8   /* struct gnttab_set_version */
#define GNTTABOP_get_status_frames 9   /* struct gnttab_get_status_frames */
#define GNTTABOP_get_version      10   /* struct gnttab_get_version */
#define GNTTABOP_swap_grant_ref   11
#define GNTTABOP_cache_flush      12

/* gnttab_map_grant_ref.flags */
#define _GNTMAP_device_map      (0)
#define GNTMAP_device_map       (1 << _GNTMAP_device_map)       /* map for device DMA */
#define _GNTMAP_host_map        (1)
#define GNTMAP_host_map         (1 << _GNTMAP_host_map)         /* map for the CPU */
#define _GNTMAP_readonly        (2)
#define GNTMAP_readonly         (1 << _GNTMAP_readonly)
#define _GNTMAP_application_map (3)
#define GNTMAP_application_map  (1 << _GNTMAP_application_map)  /* user space may use it too */
#define _GNTMAP_contains_pte    (4)
#define GNTMAP_contains_pte     (1 << _GNTMAP_contains_pte)     /* host_addr is a PTE's machine address */
#define _GNTMAP_can_fail        (5)
#define GNTMAP_can_fail         (1 << _GNTMAP_can_fail)
#define _GNTMAP_guest_avail0    (16)
#define GNTMAP_guest_avail_mask ((uint32_t)~0 << _GNTMAP_guest_avail0)

/* Status codes (all errors negative). */
#define GNTST_okay               (0)
#define GNTST_general_error     (-1)
#define GNTST_bad_domain        (-2)
#define GNTST_bad_gntref        (-3)
#define GNTST_bad_handle        (-4)
#define GNTST_bad_virt_addr     (-5)
#define GNTST_bad_dev_addr      (-6)
#define GNTST_no_device_space   (-7)
#define GNTST_permission_denied (-8)
#define GNTST_bad_page          (-9)
#define GNTST_bad_copy_arg     (-10)   /* copy crosses a page boundary */
#define GNTST_address_too_big  (-11)
#define GNTST_eagain           (-12)
#define GNTST_no_space         (-13)   /* out of space (handles etc.) */

/*
 * GNTTABOP_map_grant_ref: map grant (dom, ref) at host_addr (a virtual
 * address, or with GNTMAP_contains_pte the machine address of a PTE) and/or
 * for devices (dev_bus_addr out). handle identifies the mapping for unmap.
 */
struct gnttab_map_grant_ref {
	uint64_t host_addr;         /* IN */
	uint32_t flags;             /* IN: GNTMAP_* */
	grant_ref_t ref;            /* IN */
	domid_t dom;                /* IN */
	int16_t status;             /* OUT: GNTST_* */
	grant_handle_t handle;      /* OUT */
	uint64_t dev_bus_addr;      /* OUT */
};

_Static_assert(sizeof(struct gnttab_map_grant_ref) == 32, "gnttab_map_grant_ref is 32 bytes");
_Static_assert(__builtin_offsetof(struct gnttab_map_grant_ref, flags) == 8,
	       "gnttab_map_grant_ref.flags");
_Static_assert(__builtin_offsetof(struct gnttab_map_grant_ref, ref) == 12,
	       "gnttab_map_grant_ref.ref");
_Static_assert(__builtin_offsetof(struct gnttab_map_grant_ref, dom) == 16,
	       "gnttab_map_grant_ref.dom");
_Static_assert(__builtin_offsetof(struct gnttab_map_grant_ref, status) == 18,
	       "gnttab_map_grant_ref.status");
_Static_assert(__builtin_offsetof(struct gnttab_map_grant_ref, handle) == 20,
	       "gnttab_map_grant_ref.handle");
_Static_assert(__builtin_offsetof(struct gnttab_map_grant_ref, dev_bus_addr) == 24,
	       "gnttab_map_grant_ref.dev_bus_addr");

/*
 * GNTTABOP_unmap_grant_ref: destroy the mapping(s) tracked by handle; a zero
 * host_addr or dev_bus_addr is ignored. No stale TLB entries survive the batch.
 */
struct gnttab_unmap_grant_ref {
	uint64_t host_addr;         /* IN */
	uint64_t dev_bus_addr;      /* IN */
	grant_handle_t handle;      /* IN */
	int16_t status;             /* OUT: GNTST_* */
	uint16_t pad0;
};

_Static_assert(sizeof(struct gnttab_unmap_grant_ref) == 24, "gnttab_unmap_grant_ref is 24 bytes");
_Static_assert(__builtin_offsetof(struct gnttab_unmap_grant_ref, dev_bus_addr) == 8,
	       "gnttab_unmap_grant_ref.dev_bus_addr");
_Static_assert(__builtin_offsetof(struct gnttab_unmap_grant_ref, handle) == 16,
	       "gnttab_unmap_grant_ref.handle");
_Static_assert(__builtin_offsetof(struct gnttab_unmap_grant_ref, status) == 20,
	       "gnttab_unmap_grant_ref.status");

/*
 * GNTTABOP_setup_table: grow dom's table to at least nr_frames frames and
 * write their frame numbers to frame_list.
 */
struct gnttab_setup_table {
	domid_t dom;                /* IN: DOMID_SELF unless privileged */
	uint16_t pad0;
	uint32_t nr_frames;         /* IN */
	int16_t status;             /* OUT: GNTST_* */
	uint8_t pad1[6];
	uint64_t frame_list;        /* guest handle: xen_pfn_t[nr_frames], OUT */
};

_Static_assert(sizeof(struct gnttab_setup_table) == 24, "gnttab_setup_table is 24 bytes");
_Static_assert(__builtin_offsetof(struct gnttab_setup_table, nr_frames) == 4,
	       "gnttab_setup_table.nr_frames");
_Static_assert(__builtin_offsetof(struct gnttab_setup_table, status) == 8,
	       "gnttab_setup_table.status");
_Static_assert(__builtin_offsetof(struct gnttab_setup_table, frame_list) == 16,
	       "gnttab_setup_table.frame_list");

/* GNTTABOP_dump_table: print dom's table on the console (debugging). */
struct gnttab_dump_table {
	domid_t dom;                /* IN */
	int16_t status;             /* OUT */
};

_Static_assert(sizeof(struct gnttab_dump_table) == 4, "gnttab_dump_table is 4 bytes");

/*
 * GNTTABOP_transfer: give frame mfn to domid, which accepted it through
 * grant ref. The frame is gone from the caller even on failure, except
 * with GNTST_bad_page.
 */
struct gnttab_transfer {
	xen_pfn_t mfn;              /* IN */
	domid_t domid;              /* IN */
	uint16_t pad0;
	grant_ref_t ref;            /* IN */
	int16_t status;             /* OUT */
	uint8_t pad1[6];
};

_Static_assert(sizeof(struct gnttab_transfer) == 24, "gnttab_transfer is 24 bytes");
_Static_assert(__builtin_offsetof(struct gnttab_transfer, domid) == 8, "gnttab_transfer.domid");
_Static_assert(__builtin_offsetof(struct gnttab_transfer, ref) == 12, "gnttab_transfer.ref");
_Static_assert(__builtin_offsetof(struct gnttab_transfer, status) == 16, "gnttab_transfer.status");

/*
 * GNTTABOP_copy: copy len bytes from source to dest, each a grant reference
 * (GNTCOPY_*_gref) or a local GMFN, at an offset that keeps the copy inside
 * the page.
 */
#define _GNTCOPY_source_gref (0)
#define GNTCOPY_source_gref  (1 << _GNTCOPY_source_gref)
#define _GNTCOPY_dest_gref   (1)
#define GNTCOPY_dest_gref    (1 << _GNTCOPY_dest_gref)

struct gnttab_copy_ptr {
	union {
		grant_ref_t ref;
		xen_pfn_t gmfn;
	} u;
	domid_t domid;
	uint16_t offset;
	uint32_t pad0;
};

_Static_assert(sizeof(struct gnttab_copy_ptr) == 16, "gnttab_copy_ptr is 16 bytes");
_Static_assert(__builtin_offsetof(struct gnttab_copy_ptr, domid) == 8, "gnttab_copy_ptr.domid");
_Static_assert(__builtin_offsetof(struct gnttab_copy_ptr, offset) == 10, "gnttab_copy_ptr.offset");

struct gnttab_copy {
	struct gnttab_copy_ptr source;  /* IN */
	struct gnttab_copy_ptr dest;    /* IN */
	uint16_t len;                   /* IN */
	uint16_t flags;                 /* IN: GNTCOPY_* */
	int16_t status;                 /* OUT: GNTST_* */
	uint16_t pad0;
};

_Static_assert(sizeof(struct gnttab_copy) == 40, "gnttab_copy is 40 bytes");
_Static_assert(__builtin_offsetof(struct gnttab_copy, dest) == 16, "gnttab_copy.dest");
_Static_assert(__builtin_offsetof(struct gnttab_copy, len) == 32, "gnttab_copy.len");
_Static_assert(__builtin_offsetof(struct gnttab_copy, flags) == 34, "gnttab_copy.flags");
_Static_assert(__builtin_offsetof(struct gnttab_copy, status) == 36, "gnttab_copy.status");

/* GNTTABOP_query_size: current and maximum frames of dom's table. */
struct gnttab_query_size {
	domid_t dom;                /* IN */
	uint16_t pad0;
	uint32_t nr_frames;         /* OUT */
	uint32_t max_nr_frames;     /* OUT */
	int16_t status;             /* OUT: GNTST_* */
	uint16_t pad1;
};

_Static_assert(sizeof(struct gnttab_query_size) == 16, "gnttab_query_size is 16 bytes");
_Static_assert(__builtin_offsetof(struct gnttab_query_size, nr_frames) == 4,
	       "gnttab_query_size.nr_frames");
_Static_assert(__builtin_offsetof(struct gnttab_query_size, max_nr_frames) == 8,
	       "gnttab_query_size.max_nr_frames");
_Static_assert(__builtin_offsetof(struct gnttab_query_size, status) == 12,
	       "gnttab_query_size.status");

/*
 * GNTTABOP_unmap_and_replace: destroy the mapping at host_addr tracked by
 * handle and atomically put new_addr's mapping there instead.
 */
struct gnttab_unmap_and_replace {
	uint64_t host_addr;         /* IN */
	uint64_t new_addr;          /* IN */
	grant_handle_t handle;      /* IN */
	int16_t status;             /* OUT */
	uint16_t pad0;
};

_Static_assert(sizeof(struct gnttab_unmap_and_replace) == 24, "gnttab_unmap_and_replace is 24 bytes");
_Static_assert(__builtin_offsetof(struct gnttab_unmap_and_replace, handle) == 16,
	       "gnttab_unmap_and_replace.handle");

/* GNTTABOP_set_version: choose the table format (1 or 2) before any grant is active. */
struct gnttab_set_version {
	uint32_t version;           /* IN/OUT */
};

_Static_assert(sizeof(struct gnttab_set_version) == 4, "gnttab_set_version is 4 bytes");

/* GNTTABOP_get_status_frames: v2 status frames of dom. */
struct gnttab_get_status_frames {
	uint32_t nr_frames;         /* IN */
	domid_t dom;                /* IN */
	int16_t status;             /* OUT */
	uint64_t frame_list;        /* guest handle: uint64_t[nr_frames], OUT */
};

_Static_assert(sizeof(struct gnttab_get_status_frames) == 16, "gnttab_get_status_frames is 16 bytes");
_Static_assert(__builtin_offsetof(struct gnttab_get_status_frames, frame_list) == 8,
	       "gnttab_get_status_frames.frame_list");

/* GNTTABOP_get_version: the table format dom uses. */
struct gnttab_get_version {
	domid_t dom;                /* IN */
	uint16_t pad;
	uint32_t version;           /* OUT */
};

_Static_assert(sizeof(struct gnttab_get_version) == 8, "gnttab_get_version is 8 bytes");
_Static_assert(__builtin_offsetof(struct gnttab_get_version, version) == 4,
	       "gnttab_get_version.version");

#endif
