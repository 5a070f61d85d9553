/*
 * The frame table and the PV page-table rules (issue 6, the paper's central
 * mechanism): guests own their page tables, mapped read-only to them, and
 * every change to one is validated here.
 *
 * Per machine frame, a struct page_info: its owner, a *type* (none, L1..L4
 * page table, segment descriptors, writable) with a type count, a general
 * reference count, and validated/pinned flags. The rules, all in
 * mm/frame_table.c and stated once there:
 *
 *   - a frame has one type at a time; it can change type only when its type
 *     count is 0. Taking the first reference of a page-table type validates
 *     the frame (each present entry takes the references its target needs,
 *     recursively); dropping the last one releases them again;
 *   - a present L1 entry takes a general reference on the frame it maps, and
 *     a writable one also a "writable" type reference, so a frame is never
 *     at once a page table (or descriptor page) and writably mapped;
 *   - an L2/L3/L4 entry takes a general and an L1/L2/L3 type reference;
 *   - a frame of the guest's GDT (set_gdt) or LDT (MMUEXT_SET_LDT) takes a
 *     general and a segment-descriptor type reference; the first one checks
 *     its 512 descriptors (descriptor_ok());
 *   - only frames the domain owns may be mapped (the privileged domain may
 *     also map I/O frames, which hold no references, and by an L1 update
 *     frames of unprivileged domains: foreign mappings);
 *   - the hypervisor's L4 slots are the hypervisor's.
 *
 * Counts (invariants, checked from scratch by mm_audit()):
 *   count      = present entries in validated tables that map the frame
 *                + pins + page-table roots of every vCPU loaded from it
 *                + the times it is a frame of a vCPU's GDT or LDT
 *   type_count = the typed ones among them (writable L1 entries, L2..L4
 *                entries, pins, roots, GDT and LDT frames)
 *
 * Locking: a frame's counts change only under its owner's domain_mm.lock,
 * which a batch takes once, or, for an orphan (a frame of an ended domain
 * that another domain still maps), under the orphan lock. A privileged
 * domain mapping another domain's frame (foreign mappings) takes that
 * domain's lock just for the moment it takes or drops the reference; only
 * unprivileged domains' frames may be mapped so, which keeps the lock order
 * (privileged, then unprivileged, then orphans) free of cycles.
 * Under it, mm_set_ldt takes the frame allocator's lock (for the LDT's copy;
 * the allocator takes no other lock).
 */
#ifndef MM_FRAME_TABLE_H
#define MM_FRAME_TABLE_H

#include <stdbool.h>
#include <stdint.h>

#include <vireo/machine.h>
#include <vireo/spinlock.h>

enum page_type {
	PGT_none = 0,
	PGT_l1, PGT_l2, PGT_l3, PGT_l4,  /* PGT_l1 + level - 1 */
	PGT_seg_desc,                    /* GDT and LDT frames: checked, never writable */
	PGT_writable,
};

#define PGF_validated 0x01    /* a page-table type whose entries hold their references */
#define PGF_pinned    0x02    /* MMUEXT_PIN_*: one typed reference held by the pin */

#define OWNER_NONE 0          /* free, or the hypervisor's */
#define OWNER_IO   0xFFFF     /* not RAM: the privileged domain may map it */
#define OWNER_ORPHAN 0xFFFE   /* its domain ended while another still mapped it */
#define OWNER_NOBODY 0xFFFD   /* no frame's: domain_mm.map_owner in a foreign batch */

/* Domain ids the frame table knows (owner = domid + 1). */
#define MM_MAX_DOMAINS 64

struct page_info {
	uint32_t count;           /* general references */
	uint32_t type_count;      /* references of the current type */
	uint16_t owner;           /* domid + 1, OWNER_NONE, OWNER_IO or OWNER_ORPHAN */
	uint8_t type;             /* enum page_type */
	uint8_t flags;            /* PGF_* */
	uint32_t stamp;           /* owner's flush clock when type_count last became 0 */
};

_Static_assert(sizeof(struct page_info) == 16, "page_info is 16 bytes");

extern struct page_info *frame_table;
extern uint64_t *machine_to_phys;     /* the M2P: guest pfn of each machine frame */
extern mfn_t frame_table_frames;      /* entries in both */

/*
 * Largest general or type count; a reference past it is refused
 * (-VIREO_EOVERFLOW). Tests lower it to reach the limit.
 */
extern uint32_t frame_count_limit;

/* Make the frame table for frames 0 .. nr-1, all unowned: 0 or -VIREO_ENOMEM. */
int frame_table_init(mfn_t nr);

/* Frames [start, end) are not RAM: the privileged domain may map them. */
void frame_table_mark_io(mfn_t start, mfn_t end);

/*
 * Frames [start, end) are devices the hypervisor keeps (local APIC, I/O
 * APICs): never I/O frames a domain may map. 0, or -VIREO_ENOSPC when the
 * (small) list is full.
 */
int frame_table_deny_io(mfn_t start, mfn_t end);


static inline struct page_info *mfn_to_page(mfn_t mfn)
{
	return mfn < frame_table_frames ? &frame_table[mfn] : 0;
}

/* domain_mm.pending: flushes owed before the guest runs or is written. */
#define MM_FLUSH_TLB    1u    /* this CPU's guest TLB */
#define MM_FLUSH_OTHERS 2u    /* the other CPUs' of the domain (the guest asked) */
#define MM_FLUSH_ALL    3u
#define MM_HELD_MAX  (1 + MM_MAX_VCPUS)   /* shared_info, a vcpu_info page per vCPU */

/* The guest's GDT: at most Xen's FIRST_RESERVED_GDT_PAGE frames of 512 descriptors. */
#define MM_GDT_FRAMES  14
#define MM_GDT_ENTRIES (MM_GDT_FRAMES * 512)

/* The guest's LDT: at most 8192 descriptors (MMUEXT_SET_LDT), 16 frames. */
#define MM_LDT_ENTRIES 8192
#define MM_LDT_FRAMES  (MM_LDT_ENTRIES / 512)

/* Counters of the MMU hypercalls, per domain. */
struct mm_stats {
	uint64_t batches;         /* mmu_update / mmuext_op calls */
	uint64_t multicalls;
	uint64_t updates;         /* page-table entries written */
	uint64_t ops;             /* mmuext_op operations done */
	uint64_t flushes;         /* full TLB flushes */
	uint64_t remote_flushes;  /* of those, ones that flushed other CPUs too (machine_tlb_flush_cpus) */
	uint64_t invlpgs;
	uint64_t continuations;   /* batches preempted and resumed */
	uint64_t refused;         /* entries refused */
	uint64_t emulated;        /* direct page-table writes emulated (mm/ptwr.c) */
};

/*
 * One vCPU's MMU state (Xen keeps these per vCPU): its page-table roots,
 * GDT and LDT. Guarded by the domain's domain_mm.lock like the rest; the
 * vCPU's own CPU also reads root and user_root at guest mode switches.
 *
 * root: the guest kernel's L4 (CR3), INVALID_MFN before start; user_root:
 * NEW_USER_BASEPTR, INVALID_MFN for none. Each holds a general and an L4
 * type reference.
 *
 * The GDT (set_gdt): descriptors 0 .. gdt_entries-1 live in gdt_frames[0 ..
 * ceil(gdt_entries / 512) - 1], each holding one general and one
 * PGT_seg_desc type reference (a frame listed twice holds two). The CPU's
 * GDT holds a copy (core/hypercall.c).
 *
 * The LDT (MMUEXT_SET_LDT at guest address ldt_base): descriptors 0 ..
 * ldt_entries-1 live in ldt_frames[0 .. ceil(ldt_entries / 512) - 1], the
 * frames its pages mapped when it was set, each holding one general and
 * one PGT_seg_desc type reference. ldt_copy is the CPU's LDT: a copy of
 * those descriptors in hypervisor memory (2^ldt_copy_order frames, NULL
 * when there is no LDT), kept coherent by update_descriptor
 * (mm_ldt_update, for every vCPU whose LDT lists the frame).
 */
#define MM_MAX_VCPUS 8
struct mm_vcpu {
	mfn_t root, user_root;
	mfn_t gdt_frames[MM_GDT_FRAMES];
	unsigned gdt_entries;
	mfn_t ldt_frames[MM_LDT_FRAMES];
	unsigned ldt_entries;
	uint64_t ldt_base;
	uint64_t *ldt_copy;
	unsigned ldt_copy_order;
};

/* A domain's MMU state: shared by its vCPUs, with each vCPU's own in vcpu[]. */
struct domain_mm {
	spinlock_t lock;
	uint16_t owner;           /* domid + 1 */
	bool privileged;
	/*
	 * The physical CPUs on which one of the domain's vCPUs runs or may
	 * still hold guest TLB entries (bit n: CPU n): set by mm_cpu_enter
	 * before a CPU loads one of the domain's roots, cleared by
	 * mm_cpu_leave after it loaded the hypervisor's own. Atomic; read by
	 * type changes to decide whether other CPUs must be flushed at once.
	 */
	uint64_t cpus;
	/*
	 * The flush clock: full flushes of every CPU in cpus so far, from 1
	 * (low half, `clock`), and a count of mm_cpu_enter calls (high half,
	 * `enters`), in one atomic word. It advances under the lock (a flush
	 * of every CPU, mm_flush_tlb) or outside it on a CPU of the domain, at a
	 * guest mode switch or root load, when that CPU is the only one in
	 * cpus (mm_load_root): a compare-and-swap with the word read before
	 * the flush, which fails if another CPU entered meanwhile. Another
	 * domain reads it under this domain's lock (foreign mappings).
	 */
	union {
		uint64_t clock_word;
		struct {
			uint32_t clock;
			uint32_t enters;
		};
	};
	uint32_t pending;         /* MM_FLUSH_*: owed by this CPU before the guest runs or is written */
	uint32_t vm_assist;       /* 1 << VMASST_TYPE_* the guest enabled */
	/*
	 * The domain whose frames the current batch may map besides the
	 * domain's own (foreigndom, update_va_mapping_otherdomain), or NULL:
	 * set under the lock by the batch executor, for the batch only.
	 */
	struct domain_mm *foreign;
	uint16_t map_owner;       /* owner, or OWNER_NOBODY in a foreign batch: the L1 fast path's */
	/*
	 * Frames the hypervisor itself writes (shared_info, a registered
	 * vcpu_info page): each holds a writable reference for the domain's
	 * life, so it can never become a page table under the hypervisor's
	 * writes. INVALID_MFN when unused.
	 */
	mfn_t held[MM_HELD_MAX];
	struct mm_vcpu vcpu[MM_MAX_VCPUS];
	struct mm_stats stats;
};

/* A domain's MMU state, known by owner for the domain's life (domid < MM_MAX_DOMAINS). */
void mm_domain_init(struct domain_mm *mm, unsigned domid, bool privileged);

/*
 * The domain whose frames new L1 entries map in this batch (foreigndom):
 * NULL for the domain's own; with another, only that one's (mm->lock held).
 */
static inline void mm_set_foreign(struct domain_mm *mm, struct domain_mm *foreign)
{
	mm->foreign = foreign;
	mm->map_owner = foreign ? OWNER_NOBODY : mm->owner;
}

/* Give frame mfn to the domain as its pfn (the builder); M2P updated. */
void mm_assign(struct domain_mm *mm, mfn_t mfn, uint64_t pfn);

/*
 * The end of a domain, under its lock, after nothing runs on its tables:
 * mm_relinquish drops every reference the domain holds (roots, pins, GDT,
 * LDT and its copy, which no CPU may still have loaded, held frames, and
 * with them every validated table's entries, including its mappings of
 * other domains' frames), given the list of its frames.
 * Then mm_give_back(frame) for each: freed if nothing maps it (true), else
 * it becomes an orphan, freed when the last other domain's mapping goes.
 */
void mm_relinquish(struct domain_mm *mm, const mfn_t *frames, uint64_t nr);
bool mm_give_back(struct domain_mm *mm, mfn_t mfn);

/*
 * The rules. All return 0 or a negative errno, and on error every count,
 * owner, pin, root and entry is as before (the type and stamp of frames
 * nothing references may differ, see mm/frame_table.c). mm->lock must be held.
 *
 * mm_update: MMU_NORMAL_PT_UPDATE at machine address ptr (8-byte aligned)
 *   in a frame the domain owns: a validated entry change if the frame is a
 *   page table in use, a plain write if it may be writable.
 * mm_pin / mm_unpin: MMUEXT_PIN_Ln_TABLE / MMUEXT_UNPIN_TABLE.
 * mm_set_root: NEW_BASEPTR (user false) / NEW_USER_BASEPTR (user true; mfn
 *   0 clears it) of vCPU mv (one of mm->vcpu[]); the caller loads it.
 * mm_l1_slot: the L1 table and slot mapping va in vCPU mv's kernel root.
 */
int mm_update(struct domain_mm *mm, uint64_t ptr, uint64_t val, bool preserve_ad);
int mm_update_l1(struct domain_mm *mm, mfn_t l1, unsigned slot, uint64_t val);
int mm_pin(struct domain_mm *mm, mfn_t mfn, unsigned level);
int mm_unpin(struct domain_mm *mm, mfn_t mfn);
int mm_set_root(struct domain_mm *mm, struct mm_vcpu *mv, mfn_t mfn, bool user);
int mm_l1_slot(struct domain_mm *mm, const struct mm_vcpu *mv, uint64_t va, mfn_t *l1, unsigned *slot);
int mm_machphys_update(struct domain_mm *mm, mfn_t mfn, uint64_t pfn);
int mm_clear_page(struct domain_mm *mm, mfn_t mfn);
int mm_copy_page(struct domain_mm *mm, mfn_t dst, mfn_t src);

/*
 * For the hypervisor writing a frame of the domain on its behalf (hypercall
 * page, CLEAR_PAGE): a writable reference while it writes, so never into a
 * page table in use.
 */
int mm_get_writable(struct domain_mm *mm, mfn_t mfn);
void mm_put_writable(struct domain_mm *mm, mfn_t mfn);

/* Take a writable reference held for the domain's life (mm->held): 0 or a negative errno. */
int mm_hold_writable(struct domain_mm *mm, mfn_t mfn);

/*
 * Segment descriptors (set_gdt, MMUEXT_SET_LDT, update_descriptor); the
 * rule is stated in mm/frame_table.c. descriptor_ok: may this 8-byte
 * descriptor be in a guest's GDT or LDT?
 * mm_get_desc_page / mm_put_desc_page: a general and a PGT_seg_desc type
 *   reference on a frame of the domain; the first one checks all 512
 *   descriptors (-VIREO_EINVAL if one is refused), and none is taken while
 *   the frame has another type in use (-VIREO_EBUSY: a page table, or
 *   mapped writable).
 * mm_update_desc: update_descriptor, the descriptor at machine address ma
 *   (8-byte aligned, in a frame the domain owns) becomes desc, if allowed:
 *   written in place in a descriptor frame in use, else a plain write if
 *   the frame may be writable. The caller keeps the CPUs' copies coherent.
 */
bool descriptor_ok(uint64_t desc);
/* The descriptor as Xen keeps it: a present code or data segment's DPL raised to 3. */
uint64_t descriptor_fixup(uint64_t desc);
int mm_get_desc_page(struct domain_mm *mm, mfn_t mfn);
void mm_put_desc_page(struct domain_mm *mm, mfn_t mfn);
int mm_update_desc(struct domain_mm *mm, uint64_t ma, uint64_t desc);

/* May the domain map this frame as I/O (privileged, not RAM, not denied)? */
bool mm_io_ok(const struct domain_mm *mm, mfn_t mfn);

/*
 * The guest's LDT (mm->lock held); a domain's end drops it in mm_relinquish.
 * mm_set_ldt: MMUEXT_SET_LDT of vCPU mv, the vCPU running on this CPU
 *   (the caller checked va page aligned, entries <= MM_LDT_ENTRIES and the
 *   range in the guest's part of the address space): its LDT becomes the
 *   `entries` descriptors at guest address va, in the frames its kernel
 *   tables map there, and is loaded on this CPU (machine_guest_ldt_load);
 *   0 entries: none. All or nothing;
 *   -VIREO_EFAULT for an unmapped page, -VIREO_ENOMEM without memory for the
 *   copy, else mm_get_desc_page's errors.
 * mm_ldt_update: after update_descriptor wrote desc at slot `slot` of frame
 *   mfn, update the copy of every vCPU whose LDT lists that frame (the
 *   copies are hypervisor memory: a CPU that has one loaded sees the
 *   change, none needs telling).
 */
int mm_set_ldt(struct domain_mm *mm, struct mm_vcpu *mv, uint64_t va, unsigned entries);
void mm_ldt_update(struct domain_mm *mm, mfn_t mfn, unsigned slot, uint64_t desc);

/* A frame of its own the domain may take a general reference on. */
bool mm_owns(const struct domain_mm *mm, mfn_t mfn);

/*
 * TLB coherence with several CPUs (the rule is stated in mm/frame_table.c).
 * mm_cpu_enter: CPU cpu is about to load one of the domain's roots (a vCPU
 *   of it starts or resumes there); mm_cpu_leave: CPU cpu has loaded the
 *   hypervisor's own root and holds no guest entry of the domain any more.
 * mm_load_root: load root mfn on this CPU (one of the domain's vCPUs runs
 *   here; a root load flushes every guest entry of this CPU): the flush
 *   clock advances when this CPU is the only one in mm->cpus. Lock not
 *   needed (guest mode switches).
 * mm_flush_tlb: a full flush of every CPU in mm->cpus (this one included,
 *   the others synchronously, machine_tlb_flush_cpus); the clock advances.
 *   mm->lock held.
 * mm_sync: the flushes owed (mm->pending), before the guest runs again or
 *   guest memory is read or written: this CPU's (MM_FLUSH_TLB; the clock
 *   advances when it is the only CPU in mm->cpus), or, with
 *   MM_FLUSH_OTHERS, every CPU's (mm_flush_tlb). mm->lock held.
 */
void mm_cpu_enter(struct domain_mm *mm, unsigned cpu);
void mm_cpu_leave(struct domain_mm *mm, unsigned cpu);
void mm_load_root(struct domain_mm *mm, mfn_t root);
void mm_flush_tlb(struct domain_mm *mm);
void mm_flush_pending(struct domain_mm *mm);

/* The CPUs in mm->cpus other than this one: does a flush have to reach another CPU? */
static inline uint64_t mm_other_cpus(const struct domain_mm *mm)
{
	return __atomic_load_n(&mm->cpus, __ATOMIC_SEQ_CST) & ~(1ull << cpu_id());
}
static inline void mm_sync(struct domain_mm *mm)
{
	if (mm->pending)
		mm_flush_pending(mm);
}

/*
 * Recompute every count of the given domains' frames (and of orphans) from
 * their page tables, pins, roots, GDT and LDT frames, and compare with the
 * frame table; also check that no writable mapping of a page-table or
 * descriptor frame and no mapping of another domain's frame exists but a
 * privileged domain's foreign mapping of an unprivileged one's (or an
 * orphan), that every descriptor frame in use holds only allowed
 * descriptors, and that every vCPU's copy of its LDT matches its frames. 0,
 * or -VIREO_EIO with the first difference described in why (for tests and
 * the fuzzer; costs a walk of all memory).
 */
int mm_audit(struct domain_mm *const *mms, unsigned n, char *why, unsigned why_len);

#endif
