/*
 * Page-table helpers for Vireo's PV guests (pt.c): what a guest kernel needs
 * to build and change its own address spaces under Xen's x86-64 PV MMU rules.
 *
 * The rules a guest lives by (Xen's, and Vireo's mm/frame_table.c):
 *   - page-table entries name MACHINE frames: mfn = p2m[pfn], the P2M list
 *     start_info.mfn_list points at;
 *   - a guest never writes a live page table: its tables are mapped
 *     read-only and every change goes through a hypercall (mmu_update,
 *     update_va_mapping, mmuext_op), which validates it;
 *   - a frame that is to become a page table must first lose every writable
 *     mapping (pt_set_readonly), then be pinned (MMUEXT_PIN_Ln_TABLE) or
 *     hooked into a table above it, which validates it and everything below;
 *   - L4 slots 256..271 are the hypervisor's.
 *
 * Start of day (Xen's layout, core/domain.c): pseudo-physical frame n is
 * mapped at virt_base + n * 4096 from frame 0 up to a 4 MiB boundary at
 * least 512 KiB past the bootstrap stack, with the bootstrap page-table
 * frames (pt_base, nr_pt_frames of them, the L4 first) mapped read-only.
 * The frames past that boundary are the domain's but unmapped: a guest can
 * still name them by mfn in its page tables and clear them with
 * MMUEXT_CLEAR_PAGE. pt_init() finds where the mapping ends by walking the
 * tables rather than trusting the arithmetic.
 *
 * Free frames (pt_alloc_*): the guest runtime itself uses only its image
 * (with its stack in .bss) and the start-of-day region up to the boot stack
 * (P2M list, start_info, bootstrap tables, boot stack page). So
 *   - mapped free frames: from the page after the boot stack to the end of
 *     the mapping (the >= 512 KiB slack): writable, usable for new tables
 *     that the guest fills in place and then makes read-only;
 *   - unmapped free frames: from the end of the mapping to nr_pages.
 * Both are bump allocators with no free: test guests only.
 *
 * Single vCPU, events masked (guest.h): no locking anywhere.
 */
#ifndef GUEST_PT_H
#define GUEST_PT_H

#include "guest.h"
#include "hypercall.h"

#define PT_PAGE_SHIFT 12
#define PT_PAGE_SIZE  4096ul
#define PT_ENTRIES    512

/* x86-64 page-table entry bits (the guest's own names; the hypervisor's are private). */
#define PTE_P    (1ull << 0)
#define PTE_W    (1ull << 1)
#define PTE_U    (1ull << 2)
#define PTE_PWT  (1ull << 3)
#define PTE_PCD  (1ull << 4)
#define PTE_A    (1ull << 5)
#define PTE_D    (1ull << 6)
#define PTE_PS   (1ull << 7)   /* L2/L3: superpage; L1: PAT */
#define PTE_G    (1ull << 8)
#define PTE_NX   (1ull << 63)
#define PTE_ADDR 0x000ffffffffff000ull
#define PTE_AVAIL_HIGH 0x7ff0000000000000ull   /* bits 52..62: the hypervisor refuses them */

/* Index of va in the table of a level (4 = L4 ... 1 = L1). */
#define PT_INDEX(va, level) ((unsigned)(((uint64_t)(va) >> (12 + 9 * ((level) - 1))) & 511))

/* An entry naming machine frame mfn with flags. */
static inline uint64_t pte_make(uint64_t mfn, uint64_t flags)
{
	return (mfn << PT_PAGE_SHIFT) | flags;
}

static inline uint64_t pte_mfn(uint64_t e)
{
	return (e & PTE_ADDR) >> PT_PAGE_SHIFT;
}

#define PT_NO_FRAME (~0ull)

/* What pt_init() learned from start_info and the tables (read it, don't write it). */
struct pt_env {
	uint64_t virt_base;      /* where pfn 0 is mapped */
	const xen_pfn_t *p2m;    /* pfn -> mfn, nr_pages entries */
	uint64_t nr_pages;
	uint64_t pt_pfn;         /* first bootstrap page-table frame (the start-of-day L4) */
	uint64_t nr_pt_frames;
	uint64_t boot_l4_mfn;    /* the start-of-day L4 (pinned by the builder) */
	uint64_t root_mfn;       /* the current kernel root, as set through pt_new_baseptr() */
	uint64_t mapped_pages;   /* pfns [0, mapped_pages) are at virt_base + pfn * 4096 */
	uint64_t free_mapped;    /* first free mapped pfn (the page after the boot stack) */
	uint64_t next_mapped;    /* pt_alloc_mapped_pfn's next */
	uint64_t next_unmapped;  /* pt_alloc_unmapped_pfn's next */
	bool privileged;         /* SIF_PRIVILEGED */
};

extern struct pt_env pt;

/*
 * Learn the layout from start_info and check it against the tables: the
 * L1 entry mapping pt_base must name p2m[pt_base's pfn]. 0 or a negative
 * errno, with the reason on the console.
 */
int pt_init(const struct start_info *si);

/* ---- frames and addresses ---- */

/* p2m[pfn], or PT_NO_FRAME past nr_pages. */
uint64_t pt_pfn_to_mfn(uint64_t pfn);
/* The pfn of one of our own mfns (a search of the P2M list), or PT_NO_FRAME. */
uint64_t pt_mfn_to_pfn(uint64_t mfn);
/* Where pfn is mapped at start of day, or NULL past the mapped region. */
void *pt_pfn_to_va(uint64_t pfn);
/* The pfn of an address in the start-of-day mapping (the image, .bss...). */
uint64_t pt_va_to_pfn(const void *va);
/* Its machine frame: p2m[pt_va_to_pfn(va)]. */
uint64_t pt_va_to_mfn(const void *va);
/* A table frame's contents through its (read-only) start-of-day mapping, or NULL. */
const uint64_t *pt_table(uint64_t mfn);
/* Its machine address for mmu_update: table slot `slot`, MMU_NORMAL_PT_UPDATE. */
static inline uint64_t pt_slot_ptr(uint64_t table_mfn, unsigned slot)
{
	return (table_mfn << PT_PAGE_SHIFT) | ((uint64_t)slot << 3) | MMU_NORMAL_PT_UPDATE;
}

/* ---- walking the guest's own tables (through their read-only mappings) ---- */

struct pt_walk {
	uint64_t table[5];      /* table[n]: mfn of the level-n table used (0 when not reached) */
	uint64_t entry[5];      /* entry[n]: the level-n entry for va */
	unsigned level;         /* 0: complete, entry[1] is the L1 entry; else the level whose
	                           entry was not present, or whose table is not mapped for us */
};

/* Walk va from the L4 at root_mfn. Returns w->level. */
unsigned pt_walk_from(uint64_t root_mfn, uint64_t va, struct pt_walk *w);
/* The same from pt.root_mfn. */
unsigned pt_walk(uint64_t va, struct pt_walk *w);
/* The L1 entry mapping va in the current tables, or 0 when there is none. */
uint64_t pt_lookup(uint64_t va);
/* mmu_update ptr of the L1 entry mapping va (current tables), or 0 when none. */
uint64_t pt_l1e_ptr(uint64_t va);

/* ---- hypercalls ---- */

/* mmu_update(req, count, &done, foreigndom). *done (may be NULL) = entries applied. */
static inline long hyp_mmu_update(struct mmu_update *req, unsigned count, unsigned *done,
				  unsigned foreigndom)
{
	return hypercall4(__HYPERVISOR_mmu_update, (unsigned long)req, count, (unsigned long)done,
			  foreigndom);
}

/* mmuext_op(op, count, &done, foreigndom). */
static inline long hyp_mmuext_op(struct mmuext_op *op, unsigned count, unsigned *done,
				 unsigned foreigndom)
{
	return hypercall4(__HYPERVISOR_mmuext_op, (unsigned long)op, count, (unsigned long)done,
			  foreigndom);
}

/* update_va_mapping(va, val, flags): the L1 entry mapping va becomes val. */
static inline long hyp_update_va_mapping(uint64_t va, uint64_t val, unsigned long flags)
{
	return hypercall3(__HYPERVISOR_update_va_mapping, va, val, flags);
}

/* multicall(calls, nr): each entry's result lands in its .result. */
static inline long hyp_multicall(struct multicall_entry *calls, unsigned nr)
{
	return hypercall2(__HYPERVISOR_multicall, (unsigned long)calls, nr);
}

/* One mmu_update / mmuext_op of its own (DOMID_SELF). */
long pt_update(uint64_t ptr, uint64_t val);
long pt_mmuext(unsigned cmd, uint64_t arg1, uint64_t arg2);

/* MMUEXT_PIN_L<level>_TABLE of mfn. */
long pt_pin(unsigned level, uint64_t mfn);
long pt_unpin(uint64_t mfn);
/* MMUEXT_NEW_BASEPTR; on success pt.root_mfn follows. */
long pt_new_baseptr(uint64_t mfn);
long pt_clear_page(uint64_t mfn);
long pt_copy_page(uint64_t dst_mfn, uint64_t src_mfn);
long pt_flush_tlb(void);
long pt_invlpg(uint64_t va);

/* A multicall entry for op with up to 4 arguments. */
void pt_mc_set(struct multicall_entry *e, unsigned long op, unsigned long a0, unsigned long a1,
	       unsigned long a2, unsigned long a3);

/* ---- protection of one page of ours (current tables; INVLPG'd) ---- */

/* Drop W from the mapping of the page at va: required before it becomes a table. */
long pt_set_readonly(const void *va);
/* Give it W back (refused with -EBUSY while the frame is a page table). */
long pt_set_writable(const void *va);

/* ---- a batched mmu_update queue ---- */

struct mmu_queue {
	struct mmu_update *req;  /* the caller's buffer */
	unsigned cap, n;         /* capacity, entries queued */
	unsigned done;           /* entries the last flush applied */
	long rc;                 /* the last flush's result (0, or the first refusal) */
	uint64_t flushes;        /* hypercalls made */
	uint64_t applied;        /* entries applied over all flushes */
};

void mmuq_init(struct mmu_queue *q, struct mmu_update *buf, unsigned cap);
/* Queue one update; a full queue is flushed first (its result returned, else 0). */
long mmuq_add(struct mmu_queue *q, uint64_t ptr, uint64_t val);
/*
 * Send what is queued in one hypercall. Returns its result; q->done is how
 * many entries it applied (a refusal stops the batch there: the entries
 * before it are applied, those after it are dropped with the queue).
 */
long mmuq_flush(struct mmu_queue *q);

/* ---- free frames (see the top of this file) ---- */

/* The next free mapped pfn (writable at pt_pfn_to_va()), or PT_NO_FRAME. */
uint64_t pt_alloc_mapped_pfn(void);
/* The next free unmapped pfn, or PT_NO_FRAME. */
uint64_t pt_alloc_unmapped_pfn(void);

/* An errno's name for messages ("EPERM"; "0" for 0). */
const char *pt_errname(long rc);

#endif
