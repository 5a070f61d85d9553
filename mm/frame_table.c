/*
 * The frame table and the PV page-table rules (include/mm/frame_table.h).
 *
 * The rule set, in one place (Xen's x86-64 PV rules where not said otherwise):
 *
 *  Entries of every level
 *   - not present: always allowed, holds nothing;
 *   - bits 52..62 are the guest's (Linux keeps software bits there; Vireo
 *     does not enable protection keys, so the CPU ignores them), as Xen;
 *   - the U bit is forced on (the guest kernel runs in ring 3) and G is
 *     cleared (guest kernel and user tables are switched without a global
 *     flush), as Xen adjusts guest entries.
 *  L1 entries
 *   - the frame must be the domain's own (-VIREO_EPERM otherwise); the
 *     privileged domain may map I/O frames (not RAM), which hold nothing,
 *     but not those the hypervisor drives (frame_table_deny_io: the local
 *     APIC, the I/O APICs), and foreign frames (below);
 *   - a writable mapping takes a writable type reference: refused
 *     (-VIREO_EBUSY) while the frame is a page table or descriptor page;
 *   - cache attributes (PWT, PCD, PAT) are the guest's, as on Xen (Linux
 *     uses them on RAM; an uncached alias of its own page harms only it).
 *  L2 and L3 entries
 *   - PS (superpages) refused: XENFEAT_superpages is not offered;
 *   - no cache attributes on a table (-VIREO_EINVAL);
 *   - the target takes an L1 (L2) type reference; refused (-VIREO_EBUSY) if
 *     the frame has another type in use.
 *  L4 entries
 *   - slots 256..271 are the hypervisor's: a guest's value is replaced when
 *     the table is validated, and updating one is -VIREO_EINVAL;
 *   - the target takes an L3 type reference.
 *  Linear (self-referencing) page tables
 *   - refused, by the type rules themselves: an Ln entry needs an L(n-1)
 *     typed target, and a frame has one type, so no table can map a table
 *     of its own level or itself (Xen allows some read-only cases; Linux
 *     does not use them).
 *  Segment descriptors (descriptor_ok(): set_gdt, MMUEXT_SET_LDT,
 *  update_descriptor)
 *   - a GDT or LDT frame is typed PGT_seg_desc: it cannot be mapped
 *     writable nor be a page table while the GDT or LDT holds it; its first
 *     type reference checks all 512 descriptors, and update_descriptor
 *     checks the one;
 *   - not present (P clear): allowed, whatever else it holds (any use
 *     faults), as Xen;
 *   - a code or data segment (S set): allowed, its DPL raised to 3 when
 *     lower (descriptor_fixup, as Xen's check_descriptor does for a 64-bit
 *     PV guest: Linux's GDT holds DPL-0 kernel segments); written back so
 *     in the frame, in update_descriptor's value and in the CPU's copies.
 *     The one exception to "a refused request changes nothing": a frame
 *     that passed keeps its raised DPLs when a later frame of the same
 *     set_gdt or SET_LDT is refused (as on Xen; the guest could have
 *     written those descriptors itself).
 *     Base and limit are not checked (64-bit mode ignores them,
 *     compatibility mode stays in the low 4 GiB, which paging guards);
 *   - refused (-VIREO_EINVAL): every present system descriptor (S clear:
 *     LDT, TSS, call, interrupt and trap gates; Xen allows checked call
 *     gates). A guest kernel runs in ring 3: nothing in its GDT or LDT may
 *     lead below ring 3 (the same rule for both: the CPU accepts call gates
 *     in an LDT, only this check keeps them out).
 *
 *  Foreign mappings (mmu_update with foreigndom, update_va_mapping_
 *  otherdomain: domain_mm.foreign is the domain named for the batch)
 *   - only a privileged domain, only frames of an unprivileged one, only
 *     through an update of an L1 entry in use: a table being validated
 *     may map only its own domain's frames, and an L1 update of a batch
 *     that names another domain only that domain's, as on Xen (and I/O
 *     frames, by the caller's own right to them: Xen asks the named
 *     domain's);
 *     (Nothing privileged
 *     is ever mapped by another domain, so a privileged domain's lock may
 *     be held while an unprivileged one's is taken, never the reverse.)
 *   - the entry holds a general reference on the frame, and a writable
 *     one a writable type reference, as for the domain's own frames: the
 *     owner cannot make a frame a page table while another domain maps it
 *     writable, and the frame is not freed while any entry maps it;
 *   - a writable foreign mapping of a frame that was a page table of its
 *     owner with no full flush by the owner since is refused
 *     (-VIREO_EBUSY): the owner's CPUs may still cache it as a table (the
 *     mapper holds no right to flush them on the owner's behalf);
 *   - a frame's counts change only under its owner's lock (or the orphan
 *     lock, below): a domain taking or dropping a foreign reference takes
 *     that lock for the moment it does;
 *   - when a domain ends, its own references are dropped (mm_relinquish)
 *     and a frame still mapped by another domain becomes an *orphan*
 *     (OWNER_ORPHAN, never mapped anew), freed by its last reference.
 *   - dropping a foreign mapping owes a flush by the domain that held it
 *     (its CPUs may cache it), by the rule below: its other CPUs at once,
 *     before the counts drop, this one before the domain runs again; the
 *     frame may be freed, or become a page table of its owner (whose clock
 *     knows nothing of the mapper's TLBs), as soon as the counts drop.
 *
 * Counts never pass frame_count_limit (-VIREO_EOVERFLOW).
 *
 * A refused request leaves every count, owner, pin, validated flag, root and
 * page-table entry as it was. Not part of that state: the type and stamp of
 * a frame nothing references (type count 0), which only say whether a TLB
 * flush is owed before its next use; a refused validation may leave them
 * changed on frames below the refused one, and then owes a flush.
 *
 * TLB coherence: a frame whose type changes (writable -> page table, page
 * table -> writable) may still be reachable through stale TLB or paging-
 * structure cache entries of any CPU on which one of the domain's vCPUs
 * runs (domain_mm.cpus: a CPU enters it before it loads one of the
 * domain's roots, and leaves it only after it loaded the hypervisor's own;
 * guest entries are never global, so a root load flushes them all). Each
 * domain has a flush clock: full flushes of every CPU in cpus so far. A
 * frame records the clock when its type count last fell to 0, and a type
 * change when no full flush has happened since then (stamp == clock) needs
 * one before the new type is taken:
 *   - when another CPU is in cpus, its vCPU could write through a stale
 *     writable translation into the table being validated (or walk a
 *     stale table that is now writable): every CPU in cpus is flushed
 *     right there, synchronously (machine_tlb_flush_cpus returns when each
 *     has), and the clock advances (Xen's _get_page_type with its
 *     tlbflush_timestamp);
 *   - when this CPU alone runs the domain, its vCPU is in this hypercall
 *     and nothing uses its TLB until the call ends: the flush is made
 *     pending (domain_mm.pending), and the batch executor performs it
 *     before the guest runs again or guest memory is read or written: one
 *     flush per batch, and none when the guest flushed in between. A CPU
 *     that enters meanwhile loads a root after the type change, so holds
 *     nothing stale.
 * The clock also advances at a root load (mm_load_root: guest mode
 * switches, NEW_BASEPTR) when the loading CPU is the only one in cpus.
 * Guest-requested flushes of other vCPUs (MMUEXT_TLB_FLUSH_ALL and _MULTI,
 * INVLPG_ALL and _MULTI, UVMF_ALL and UVMF_MULTI) flush every CPU in cpus
 * at the end of the batch (MM_FLUSH_ALL). A CPU waiting for another's
 * flush, or spinning on a lock with interrupts off, serves flush requests
 * aimed at it (the machine's spin-wait does), so two CPUs flushing each
 * other, or one flushing while holding a lock the other waits for, make
 * progress.
 */
#include <mm/frame_alloc.h>
#include <mm/frame_table.h>
#include <mm/heap.h>
#include <public/xen.h>
#include <vireo/errno.h>
#include <vireo/pte.h>

struct page_info *frame_table;
uint64_t *machine_to_phys;
mfn_t frame_table_frames;
uint32_t frame_count_limit = 0x7FFFFFFFu;

#define M2P_INVALID (~0ull)

/* Each domain's MMU state by owner (domid + 1), to find the lock of a frame's owner. */
static struct domain_mm *mm_by_owner[MM_MAX_DOMAINS + 1];

/* Guards the counts of orphans (frames of ended domains that others still map). */
static spinlock_t orphan_lock = SPINLOCK_INIT;

/*
 * The M2P comes straight from the frame allocator, page aligned and
 * contiguous, because the image maps exactly its frames read-only into
 * every guest (XENMEM_machphys_mapping): nothing else may share them.
 */
static uint64_t *m2p_alloc(mfn_t nr, unsigned *order_out)
{
	unsigned order = 0;
	while ((PAGE_SIZE << order) < nr * sizeof(uint64_t))
		order++;
	mfn_t m = frame_alloc(order);
	*order_out = order;
	if (m == INVALID_MFN)
		return NULL;
	/* All of it, not just nr entries: guests see the whole last page. */
	uint64_t *p = mfn_to_virt(m);
	for (uint64_t i = 0; i < (PAGE_SIZE << order) / sizeof(uint64_t); i++)
		p[i] = M2P_INVALID;
	return p;
}

int frame_table_init(mfn_t nr)
{
	unsigned m2p_order;
	struct page_info *ft = xmalloc(nr * sizeof(*ft));
	uint64_t *m2p = m2p_alloc(nr, &m2p_order);
	if (!ft || !m2p) {
		xfree(ft);
		if (m2p)
			frame_free(virt_to_mfn(m2p), m2p_order);
		return -VIREO_ENOMEM;
	}
	for (mfn_t i = 0; i < nr; i++) {
		ft[i] = (struct page_info){ 0 };
		m2p[i] = M2P_INVALID;
	}
	frame_table = ft;
	machine_to_phys = m2p;
	frame_table_frames = nr;
	return 0;
}

void frame_table_mark_io(mfn_t start, mfn_t end)
{
	for (mfn_t m = start; m < end && m < frame_table_frames; m++)
		if (frame_table[m].owner == OWNER_NONE)
			frame_table[m].owner = OWNER_IO;
}

void mm_domain_init(struct domain_mm *mm, unsigned domid, bool privileged)
{
	*mm = (struct domain_mm){
		.lock = SPINLOCK_INIT, .owner = (uint16_t)(domid + 1), .privileged = privileged,
		.clock_word = 1, .map_owner = (uint16_t)(domid + 1),
	};
	for (unsigned i = 0; i < MM_HELD_MAX; i++)
		mm->held[i] = INVALID_MFN;
	for (unsigned v = 0; v < MM_MAX_VCPUS; v++) {
		struct mm_vcpu *mv = &mm->vcpu[v];
		mv->root = mv->user_root = INVALID_MFN;
		for (unsigned i = 0; i < MM_GDT_FRAMES; i++)
			mv->gdt_frames[i] = INVALID_MFN;
		for (unsigned i = 0; i < MM_LDT_FRAMES; i++)
			mv->ldt_frames[i] = INVALID_MFN;
	}
	if (domid < MM_MAX_DOMAINS)
		mm_by_owner[domid + 1] = mm;
}

void mm_assign(struct domain_mm *mm, mfn_t mfn, uint64_t pfn)
{
	frame_table[mfn] = (struct page_info){ .owner = mm->owner };
	machine_to_phys[mfn] = pfn;
}

bool mm_owns(const struct domain_mm *mm, mfn_t mfn)
{
	return mfn < frame_table_frames && frame_table[mfn].owner == mm->owner;
}

/* I/O frames the hypervisor drives itself (local APIC, I/O APICs): nobody else's. */
#define IO_DENY_MAX 16
static struct { mfn_t start, end; } io_deny[IO_DENY_MAX];
static unsigned nr_io_deny;

int frame_table_deny_io(mfn_t start, mfn_t end)
{
	if (nr_io_deny == IO_DENY_MAX)
		return -VIREO_ENOSPC;
	io_deny[nr_io_deny].start = start;
	io_deny[nr_io_deny].end = end;
	nr_io_deny++;
	return 0;
}

bool mm_io_ok(const struct domain_mm *mm, mfn_t mfn)
{
	if (!mm->privileged || (mfn < frame_table_frames && frame_table[mfn].owner != OWNER_IO))
		return false;
	for (unsigned i = 0; i < nr_io_deny; i++)
		if (mfn >= io_deny[i].start && mfn < io_deny[i].end)
			return false;
	return true;
}


static uint64_t *table_of(mfn_t mfn)
{
	return mfn_to_virt(mfn);
}

static bool is_pt_type(unsigned type)
{
	return type >= PGT_l1 && type <= PGT_l4;
}

/* Hypervisor slots of an L4 (Xen's 64-bit PV layout: 256..271). */
static bool hv_l4_slot(unsigned slot)
{
	return slot >= 256 && slot < 272;
}

/* ---- segment descriptors ------------------------------------------------ */

#define DESC_S   (1ull << 44)          /* code or data segment (else a system descriptor) */
#define DESC_DPL (3ull << 45)
#define DESC_P   (1ull << 47)

/* The rule is at the top of this file ("Segment descriptors"). */
bool descriptor_ok(uint64_t desc)
{
	if (!(desc & DESC_P))
		return true;
	return (desc & DESC_S) && (desc & DESC_DPL) == DESC_DPL;
}

uint64_t descriptor_fixup(uint64_t desc)
{
	return (desc & DESC_P) && (desc & DESC_S) ? desc | DESC_DPL : desc;
}

/* Every descriptor of the frame allowed once fixed up; then the fix-ups written (nothing before). */
static bool desc_page_ok(uint64_t *descs)
{
	for (unsigned i = 0; i < 512; i++)
		if (!descriptor_ok(descriptor_fixup(descs[i])))
			return false;
	for (unsigned i = 0; i < 512; i++)
		if (descs[i] != descriptor_fixup(descs[i]))
			descs[i] = descriptor_fixup(descs[i]);
	return true;
}

/* ---- TLB coherence (the rule is at the top of this file) -------------------- */

/* The flush clock; a CPU of the domain may advance it outside the lock (mm_load_root). */
static inline uint32_t clock_of(const struct domain_mm *mm)
{
	return __atomic_load_n(&mm->clock, __ATOMIC_RELAXED);
}

/*
 * A frame's old incarnation may still be cached (its stamp is the clock):
 * with other CPUs running the domain, all are flushed now, before the
 * change goes on; with this CPU alone, the flush is owed before the guest
 * runs again or guest memory is touched (one per batch).
 */
static void flush_owed(struct domain_mm *mm)
{
	if (unlikely(mm_other_cpus(mm)))
		mm_flush_tlb(mm);
	else
		mm->pending |= MM_FLUSH_TLB;
}

void mm_flush_tlb(struct domain_mm *mm)
{
	uint64_t others = mm_other_cpus(mm);
	machine_tlb_flush_local();
	if (others) {
		machine_tlb_flush_cpus(others);     /* returns when each has flushed */
		mm->stats.remote_flushes++;
	}
	/* Every CPU that may hold an entry older than this is flushed (the low half: a wrap carries harmlessly). */
	__atomic_fetch_add(&mm->clock_word, 1, __ATOMIC_SEQ_CST);
	mm->pending = 0;
	mm->stats.flushes++;
}

void mm_flush_pending(struct domain_mm *mm)
{
	if ((mm->pending & MM_FLUSH_OTHERS) || !mm_other_cpus(mm)) {
		mm_flush_tlb(mm);
		return;
	}
	/* This CPU only: the others may hold what it flushed, so the clock stays. */
	machine_tlb_flush_local();
	mm->pending = 0;
	mm->stats.flushes++;
}

void mm_cpu_enter(struct domain_mm *mm, unsigned cpu)
{
	__atomic_fetch_or(&mm->cpus, 1ull << cpu, __ATOMIC_SEQ_CST);
	/* After the bit: a root load that read the word before this sees the bit, or its CAS fails. */
	__atomic_fetch_add(&mm->clock_word, 1ull << 32, __ATOMIC_SEQ_CST);
}

void mm_cpu_leave(struct domain_mm *mm, unsigned cpu)
{
	__atomic_fetch_and(&mm->cpus, ~(1ull << cpu), __ATOMIC_SEQ_CST);
}

/*
 * A root load flushes this CPU's guest entries. It is a flush of every CPU
 * that may hold one when this is the only CPU in cpus from before the load
 * until the clock advances: cpus is read after the load (a CR3 write
 * serialises), and the compare-and-swap fails if a CPU entered since the
 * word was read (mm_cpu_enter bumps its high half after setting its bit).
 */
void mm_load_root(struct domain_mm *mm, mfn_t root)
{
	uint64_t before = __atomic_load_n(&mm->clock_word, __ATOMIC_SEQ_CST);
	machine_guest_load_root((maddr_t)root << PAGE_SHIFT);
	if (mm_other_cpus(mm))
		return;
	__atomic_compare_exchange_n(&mm->clock_word, &before, before + 1, false, __ATOMIC_SEQ_CST,
				    __ATOMIC_RELAXED);
}

/* ---- general and typed references ---------------------------------------- */

static int get_page(struct domain_mm *mm, mfn_t mfn)
{
	struct page_info *pg = mfn_to_page(mfn);
	if (!pg || pg->owner != mm->owner)
		return -VIREO_EPERM;
	if (pg->count >= frame_count_limit)
		return -VIREO_EOVERFLOW;
	pg->count++;
	return 0;
}

static void put_page(mfn_t mfn)
{
	frame_table[mfn].count--;
}

static int validate_table(struct domain_mm *mm, mfn_t mfn, unsigned level);
static void release_table(struct domain_mm *mm, mfn_t mfn, unsigned level);

/*
 * The writable type never validates or releases anything, so its get and
 * put are small and not recursive: they are the L1 fast path's.
 */
static inline int get_writable(struct domain_mm *mm, struct page_info *pg)
{
	if (likely(pg->type_count)) {
		if (pg->type != PGT_writable)
			return -VIREO_EBUSY;
		if (pg->type_count >= frame_count_limit)
			return -VIREO_EOVERFLOW;
		pg->type_count++;
		return 0;
	}
	if (pg->type != PGT_writable) {
		/* The old incarnation may still be cached unless a full flush came since. */
		if (pg->type != PGT_none && pg->stamp == clock_of(mm))
			flush_owed(mm);
		pg->type = PGT_writable;
		pg->flags &= (uint8_t)~PGF_validated;
	}
	pg->type_count = 1;
	return 0;
}

static inline void put_writable(struct domain_mm *mm, struct page_info *pg)
{
	if (--pg->type_count == 0)
		pg->stamp = clock_of(mm);
}

/* ---- foreign references (the rule is at the top of this file) -------------- */

static struct domain_mm *mm_of(uint16_t owner)
{
	return owner != OWNER_NONE && owner <= MM_MAX_DOMAINS ? mm_by_owner[owner] : NULL;
}

/*
 * Take and return the lock that guards the counts of a frame another
 * domain maps: its owner's, or the orphans'; NULL for a frame no domain has
 * (I/O). The owner is read again under the lock, because an ending domain
 * orphans its frames under its own lock.
 */
static spinlock_t *lock_frame_owner(const struct page_info *pg)
{
	for (;;) {
		uint16_t o = __atomic_load_n(&pg->owner, __ATOMIC_ACQUIRE);
		struct domain_mm *owner = mm_of(o);
		spinlock_t *l = o == OWNER_ORPHAN ? &orphan_lock : owner ? &owner->lock : NULL;
		if (!l)
			return NULL;
		spin_lock(l);
		if (__atomic_load_n(&pg->owner, __ATOMIC_RELAXED) == o)
			return l;
		spin_unlock(l);
	}
}

/*
 * A present L1 entry of mm's mapping a frame of mm->foreign (the domain the
 * batch names): the references taken under that domain's lock, or nothing
 * and -VIREO_EPERM (not that domain's frame, or no foreign domain named;
 * in a foreign batch the domain's own frames are refused too, as Xen).
 */
static int get_foreign_l1e(struct domain_mm *mm, struct page_info *pg, bool writable)
{
	struct domain_mm *f = mm->foreign;
	int rc = -VIREO_EPERM;

	if (!f || !pg)
		return rc;
	spin_lock(&f->lock);
	if (pg->owner == f->owner) {
		rc = pg->count < frame_count_limit ? 0 : -VIREO_EOVERFLOW;
		/* Its owner's CPUs may still cache its last page-table incarnation. */
		if (rc == 0 && writable && !pg->type_count && is_pt_type(pg->type) &&
		    pg->stamp == clock_of(f))
			rc = -VIREO_EBUSY;
		if (rc == 0 && writable)
			rc = get_writable(f, pg);       /* owes the owner no flush: ruled out above */
		if (rc == 0)
			pg->count++;
	}
	spin_unlock(&f->lock);
	return rc;
}

static void free_orphan(mfn_t mfn)
{
	frame_table[mfn] = (struct page_info){ 0 };
	frame_free(mfn, 0);
}

/* Drop what a present L1 entry of mm's holds on another domain's frame (or an orphan). */
static void put_foreign_l1e(struct domain_mm *mm, mfn_t mfn, struct page_info *pg, bool writable)
{
	/*
	 * This domain's CPUs may still cache the mapping, and the frame may be
	 * freed (or become a table of its owner, whose clock knows nothing of
	 * this domain's TLBs) as soon as the counts drop: its other CPUs are
	 * flushed now, this one before it runs again.
	 */
	flush_owed(mm);
	spinlock_t *l = lock_frame_owner(pg);
	if (!l)
		return;                            /* I/O frames held nothing */
	struct domain_mm *owner = mm_of(pg->owner);
	if (writable && --pg->type_count == 0)
		pg->stamp = owner ? clock_of(owner) : 0;
	if (--pg->count == 0 && !owner)
		free_orphan(mfn);                  /* its domain ended; this was the last mapping */
	spin_unlock(l);
}

/*
 * A reference of type `type` on a frame the caller holds a general
 * reference on. The first reference of a page-table type validates it.
 */
static int get_page_type(struct domain_mm *mm, mfn_t mfn, unsigned type)
{
	struct page_info *pg = &frame_table[mfn];

	if (type == PGT_writable)
		return get_writable(mm, pg);
	if (pg->type_count) {
		if (pg->type != type)
			return -VIREO_EBUSY;
		if (pg->type_count >= frame_count_limit)
			return -VIREO_EOVERFLOW;
		pg->type_count++;
		return 0;
	}
	/*
	 * The old incarnation may still be cached unless a full flush came
	 * since: flushed before the frame is read, so that no other CPU of the
	 * domain can write it through a stale writable entry after the check
	 * (flush_owed flushes other CPUs at once). A flush is no state: a
	 * refusal below may leave one owed.
	 */
	if (pg->type != type && pg->type != PGT_none && pg->stamp == clock_of(mm))
		flush_owed(mm);
	/* A descriptor page holds no references: checking it is all (nothing changed yet). */
	if (type == PGT_seg_desc && !desc_page_ok(table_of(mfn)))
		return -VIREO_EINVAL;
	struct page_info before = *pg;
	if (pg->type != type) {
		pg->type = (uint8_t)type;
		pg->flags &= (uint8_t)~PGF_validated;
	}
	pg->type_count = 1;
	if (is_pt_type(type) && !(pg->flags & PGF_validated)) {
		struct domain_mm *foreign = mm->foreign;
		if (foreign)
			mm_set_foreign(mm, NULL);  /* a table being validated maps its own frames */
		int rc = validate_table(mm, mfn, type - PGT_l1 + 1);
		if (foreign)
			mm_set_foreign(mm, foreign);
		if (rc) {
			/*
			 * The frame is as it was. Tables below it that validated before
			 * the refusal were released again but keep their new type and
			 * stamp, and a flush they owed stays owed: the type of an
			 * unreferenced frame only decides whether a flush is owed.
			 */
			*pg = before;
			return rc;
		}
		pg->flags |= PGF_validated;
	}
	return 0;
}

static void put_page_type(struct domain_mm *mm, mfn_t mfn)
{
	struct page_info *pg = &frame_table[mfn];
	if (--pg->type_count)
		return;
	pg->stamp = clock_of(mm);
	if (is_pt_type(pg->type) && (pg->flags & PGF_validated)) {
		pg->flags &= (uint8_t)~PGF_validated;
		release_table(mm, mfn, pg->type - PGT_l1 + 1);
	}
}

static int get_page_and_type(struct domain_mm *mm, mfn_t mfn, unsigned type)
{
	int rc = get_page(mm, mfn);
	if (rc)
		return rc;
	rc = get_page_type(mm, mfn, type);
	if (rc)
		put_page(mfn);
	return rc;
}

static void put_page_and_type(struct domain_mm *mm, mfn_t mfn)
{
	put_page_type(mm, mfn);
	put_page(mfn);
}

/* ---- entries ------------------------------------------------------------- */

#define PTE_CACHE      (PTE_PWT | PTE_PCD)

/* The entry as it is stored: U forced on, G cleared (a present entry). */
static uint64_t adjust(uint64_t e)
{
	return (e & PTE_P) ? (e | PTE_U) & ~PTE_G : e;
}

/* The references a present L1 entry needs, taken; nothing on error. */
static inline int get_l1e(struct domain_mm *mm, uint64_t e)
{
	mfn_t mfn = (e & PTE_ADDR) >> PAGE_SHIFT;
	struct page_info *pg = mfn_to_page(mfn);

	if (!(e & PTE_P))
		return 0;
	/* map_owner: the domain's own frames, except in a foreign batch (then only the other's). */
	if (unlikely(!pg || pg->owner != mm->map_owner))
		return mm_io_ok(mm, mfn) ? 0 : get_foreign_l1e(mm, pg, e & PTE_W);   /* I/O frames hold nothing */
	if (pg->count >= frame_count_limit)
		return -VIREO_EOVERFLOW;
	if (e & PTE_W) {
		int rc = get_writable(mm, pg);
		if (rc)
			return rc;
	}
	pg->count++;
	return 0;
}

static inline void put_l1e(struct domain_mm *mm, uint64_t e)
{
	mfn_t mfn = (e & PTE_ADDR) >> PAGE_SHIFT;
	struct page_info *pg = mfn_to_page(mfn);

	if (!(e & PTE_P) || !pg)
		return;                                    /* I/O frames held nothing */
	if (unlikely(pg->owner != mm->owner)) {
		put_foreign_l1e(mm, mfn, pg, e & PTE_W);
		return;
	}
	if (e & PTE_W)
		put_writable(mm, pg);
	pg->count--;
}

/* The references a present entry of `level` needs, taken; nothing on error. */
static int get_entry(struct domain_mm *mm, unsigned level, uint64_t e)
{
	if (level == 1)
		return get_l1e(mm, e);
	if (!(e & PTE_P))
		return 0;
	if (e & (PTE_PS | PTE_CACHE))
		return -VIREO_EINVAL;      /* no superpages; no cache attributes on tables */
	return get_page_and_type(mm, (e & PTE_ADDR) >> PAGE_SHIFT, PGT_l1 + level - 2);
}

static void put_entry(struct domain_mm *mm, unsigned level, uint64_t e)
{
	if (level == 1)
		put_l1e(mm, e);
	else if (e & PTE_P)
		put_page_and_type(mm, (e & PTE_ADDR) >> PAGE_SHIFT);
}

static int validate_table(struct domain_mm *mm, mfn_t mfn, unsigned level)
{
	uint64_t *t = table_of(mfn);
	unsigned i;
	int rc = 0;

	for (i = 0; i < 512; i++) {
		if (level == 4 && hv_l4_slot(i))
			continue;
		rc = get_entry(mm, level, t[i]);
		if (rc)
			break;
	}
	if (rc) {
		while (i--)
			if (!(level == 4 && hv_l4_slot(i)))
				put_entry(mm, level, t[i]);
		return rc;
	}
	for (i = 0; i < 512; i++)
		t[i] = adjust(t[i]);
	if (level == 4)
		machine_guest_root_init(t);
	return 0;
}

static void release_table(struct domain_mm *mm, mfn_t mfn, unsigned level)
{
	const uint64_t *t = table_of(mfn);
	for (unsigned i = 0; i < 512; i++)
		if (!(level == 4 && hv_l4_slot(i)))
			put_entry(mm, level, t[i]);
}

/* mod_entry for an L1: the hot path of every batch, with nothing recursive in it. */
static inline int mod_l1_entry(struct domain_mm *mm, mfn_t table, unsigned slot, uint64_t val,
			       bool preserve_ad)
{
	uint64_t *t = table_of(table);
	uint64_t old = t[slot];

	if (preserve_ad)
		val |= old & (PTE_A | PTE_D);
	val = adjust(val);
	if ((val & PTE_P) && !((old ^ val) & (PTE_ADDR | PTE_P | PTE_W))) {
		t[slot] = val;                     /* same frame and rights: every L1 flag is the guest's */
		return 0;
	}
	int rc = get_l1e(mm, val);
	if (rc)
		return rc;
	t[slot] = val;
	put_l1e(mm, old);
	return 0;
}

/*
 * Change entry `slot` of a validated table of `level` to val: the new
 * references are taken before the old ones are dropped, so a table that
 * maps the same frame again never sees its count touch 0.
 */
static int mod_entry(struct domain_mm *mm, mfn_t table, unsigned level, unsigned slot,
		     uint64_t val, bool preserve_ad)
{
	uint64_t *t = table_of(table);
	uint64_t old = t[slot];

	if (level == 1)
		return mod_l1_entry(mm, table, slot, val, preserve_ad);
	if (level == 4 && hv_l4_slot(slot))
		return -VIREO_EINVAL;
	if (preserve_ad)
		val |= old & (PTE_A | PTE_D);
	val = adjust(val);
	/* Same frame, same presence and writability: only flags change, no references. */
	if ((val & PTE_P) && !((old ^ val) & (PTE_ADDR | PTE_P | PTE_W))) {
		if (val & (PTE_PS | PTE_CACHE))
			return -VIREO_EINVAL;      /* as get_entry: no superpages, no cache attributes */
		t[slot] = val;
		return 0;
	}
	int rc = get_entry(mm, level, val);
	if (rc)
		return rc;
	t[slot] = val;
	put_entry(mm, level, old);
	return 0;
}

int mm_update(struct domain_mm *mm, uint64_t ptr, uint64_t val, bool preserve_ad)
{
	mfn_t mfn = ptr >> PAGE_SHIFT;
	unsigned slot = (ptr & (PAGE_SIZE - 1)) >> 3;
	struct page_info *pg = mfn_to_page(mfn);

	if (!pg || pg->owner != mm->owner)
		return -VIREO_EPERM;
	if (likely(pg->type == PGT_l1 && pg->type_count))
		return mod_l1_entry(mm, mfn, slot, val, preserve_ad);
	if (pg->type_count && is_pt_type(pg->type))
		return mod_entry(mm, mfn, pg->type - PGT_l1 + 1, slot, val, preserve_ad);
	/* Not a page table in use: a plain write, if the frame may be writable. */
	int rc = get_page_and_type(mm, mfn, PGT_writable);
	if (rc)
		return rc;
	table_of(mfn)[slot] = val;
	put_page_and_type(mm, mfn);
	return 0;
}

int mm_update_l1(struct domain_mm *mm, mfn_t l1, unsigned slot, uint64_t val)
{
	return mod_l1_entry(mm, l1, slot, val, false);
}

/* ---- pins, roots, whole pages ---------------------------------------------- */

int mm_pin(struct domain_mm *mm, mfn_t mfn, unsigned level)
{
	if (level < 1 || level > 4)
		return -VIREO_EINVAL;
	if (!mm_owns(mm, mfn))
		return -VIREO_EPERM;
	if (frame_table[mfn].flags & PGF_pinned)
		return -VIREO_EINVAL;              /* Xen: already pinned */
	int rc = get_page_and_type(mm, mfn, PGT_l1 + level - 1);
	if (rc)
		return rc;
	frame_table[mfn].flags |= PGF_pinned;
	return 0;
}

int mm_unpin(struct domain_mm *mm, mfn_t mfn)
{
	if (!mm_owns(mm, mfn))
		return -VIREO_EPERM;
	if (!(frame_table[mfn].flags & PGF_pinned))
		return -VIREO_EINVAL;
	frame_table[mfn].flags &= (uint8_t)~PGF_pinned;
	put_page_and_type(mm, mfn);
	return 0;
}

int mm_set_root(struct domain_mm *mm, struct mm_vcpu *mv, mfn_t mfn, bool user)
{
	mfn_t *slot = user ? &mv->user_root : &mv->root;
	if (user && mfn == 0)
		mfn = INVALID_MFN;                 /* NEW_USER_BASEPTR 0: no user tables */
	else {
		if (!mm_owns(mm, mfn))
			return -VIREO_EPERM;
		int rc = get_page_and_type(mm, mfn, PGT_l4);
		if (rc)
			return rc;
	}
	mfn_t old = *slot;
	*slot = mfn;
	if (old != INVALID_MFN)
		put_page_and_type(mm, old);
	return 0;
}

int mm_l1_slot(struct domain_mm *mm, const struct mm_vcpu *mv, uint64_t va, mfn_t *l1, unsigned *slot)
{
	(void)mm;
	mfn_t mfn = mv->root;
	if (mfn == INVALID_MFN)
		return -VIREO_EINVAL;
	for (unsigned level = 4; level > 1; level--) {
		uint64_t e = table_of(mfn)[(va >> (12 + 9 * (level - 1))) & 511];
		if (!(e & PTE_P) || (level == 4 && hv_l4_slot((va >> 39) & 511)))
			return -VIREO_EINVAL;
		mfn = (e & PTE_ADDR) >> PAGE_SHIFT;
	}
	*l1 = mfn;
	*slot = (va >> 12) & 511;
	return 0;
}

int mm_machphys_update(struct domain_mm *mm, mfn_t mfn, uint64_t pfn)
{
	if (!mm_owns(mm, mfn))
		return -VIREO_EPERM;
	machine_to_phys[mfn] = pfn;
	return 0;
}

int mm_get_desc_page(struct domain_mm *mm, mfn_t mfn)
{
	return get_page_and_type(mm, mfn, PGT_seg_desc);
}

void mm_put_desc_page(struct domain_mm *mm, mfn_t mfn)
{
	put_page_and_type(mm, mfn);
}

int mm_update_desc(struct domain_mm *mm, uint64_t ma, uint64_t desc)
{
	mfn_t mfn = ma >> PAGE_SHIFT;
	struct page_info *pg = mfn_to_page(mfn);

	if (ma & 7)
		return -VIREO_EINVAL;
	if (!pg || pg->owner != mm->owner)
		return -VIREO_EPERM;
	if (!descriptor_ok(desc))
		return -VIREO_EINVAL;
	uint64_t *slot = &table_of(mfn)[(ma & (PAGE_SIZE - 1)) >> 3];
	if (pg->type == PGT_seg_desc && pg->type_count) {
		*slot = desc;                      /* checked, and nothing else may write it */
		return 0;
	}
	/* Not a descriptor page in use: a plain write, if the frame may be writable. */
	int rc = get_page_and_type(mm, mfn, PGT_writable);
	if (rc)
		return rc;
	*slot = desc;
	put_page_and_type(mm, mfn);
	return 0;
}

/* ---- the guest's LDT -------------------------------------------------------- */

/*
 * MMUEXT_SET_LDT, done eagerly: Xen maps LDT pages lazily, at the guest's
 * first use of a selector (a #PF in its LDT area); Vireo takes the frames
 * and checks them here, so a bad LDT is refused at SET_LDT and no fault
 * path needs to know about LDTs. The CPU's LDT is a copy in hypervisor
 * memory, filled from frames that passed descriptor_ok, so nothing the
 * guest can write is ever the live LDT. The copy's frames come straight
 * from the frame allocator (any lock may be taken before its own).
 */
static unsigned ldt_order(unsigned entries)
{
	unsigned order = 0;
	while ((512u << order) < entries)
		order++;
	return order;
}

static void ldt_put_frames(struct domain_mm *mm, const mfn_t *frames, unsigned nr)
{
	for (unsigned i = 0; i < nr; i++)
		mm_put_desc_page(mm, frames[i]);
}

int mm_set_ldt(struct domain_mm *mm, struct mm_vcpu *mv, uint64_t va, unsigned entries)
{
	mfn_t frames[MM_LDT_FRAMES];
	unsigned i, nr = (entries + 511) / 512;
	uint64_t *copy = mv->ldt_copy;
	unsigned order = mv->ldt_copy_order;
	int rc = 0;

	/* Check and take the new frames first: a refusal changes nothing. */
	for (i = 0; i < nr; i++) {
		mfn_t l1;
		unsigned slot;
		if (mm_l1_slot(mm, mv, va + (uint64_t)i * PAGE_SIZE, &l1, &slot) != 0 ||
		    !(table_of(l1)[slot] & PTE_P)) {
			rc = -VIREO_EFAULT;
			break;
		}
		frames[i] = (table_of(l1)[slot] & PTE_ADDR) >> PAGE_SHIFT;
		if ((rc = mm_get_desc_page(mm, frames[i])) != 0)
			break;
	}
	if (rc == 0 && nr && (!copy || ldt_order(entries) > order)) {
		order = ldt_order(entries);
		mfn_t m = frame_alloc(order);
		copy = m == INVALID_MFN ? NULL : mfn_to_virt(m);
		if (!copy)
			rc = -VIREO_ENOMEM;
	}
	if (rc) {
		ldt_put_frames(mm, frames, i);
		return rc;
	}

	/* The point of no return: the new LDT is loaded before the old one's frames go. */
	mfn_t old[MM_LDT_FRAMES];
	unsigned old_nr = (mv->ldt_entries + 511) / 512;
	uint64_t *old_copy = mv->ldt_copy;
	unsigned old_order = mv->ldt_copy_order;
	for (i = 0; i < MM_LDT_FRAMES; i++) {
		old[i] = mv->ldt_frames[i];
		mv->ldt_frames[i] = i < nr ? frames[i] : INVALID_MFN;
	}
	for (unsigned e = 0; e < entries; e++)
		copy[e] = table_of(frames[e / 512])[e % 512];
	/* Past the limit too: nothing unchecked in the buffer, whatever a limit bug would show. */
	for (unsigned e = entries; nr && e < (PAGE_SIZE << order) / 8; e++)
		copy[e] = 0;
	mv->ldt_entries = entries;
	mv->ldt_base = entries ? va : 0;
	mv->ldt_copy = nr ? copy : NULL;
	mv->ldt_copy_order = nr ? order : 0;
	machine_guest_ldt_load(mv->ldt_copy, entries);
	ldt_put_frames(mm, old, old_nr);
	if (old_copy && old_copy != mv->ldt_copy)
		frame_free(virt_to_mfn(old_copy), old_order);
	return 0;
}

/*
 * Every vCPU's copy, whichever CPU has it loaded: the copies are hypervisor
 * memory, so the store is all (an 8-byte store the CPU reads whole).
 */
void mm_ldt_update(struct domain_mm *mm, mfn_t mfn, unsigned slot, uint64_t desc)
{
	for (unsigned v = 0; v < MM_MAX_VCPUS; v++) {
		struct mm_vcpu *mv = &mm->vcpu[v];
		for (unsigned i = 0; i < (mv->ldt_entries + 511) / 512; i++) {
			unsigned e = i * 512 + slot;
			if (mv->ldt_frames[i] == mfn && e < mv->ldt_entries)
				__atomic_store_n(&mv->ldt_copy[e], desc, __ATOMIC_RELAXED);
		}
	}
}

/* A vCPU's LDT references dropped and its copy freed (mm_relinquish; no machine state touched). */
static void ldt_drop(struct domain_mm *mm, struct mm_vcpu *mv)
{
	ldt_put_frames(mm, mv->ldt_frames, (mv->ldt_entries + 511) / 512);
	for (unsigned i = 0; i < MM_LDT_FRAMES; i++)
		mv->ldt_frames[i] = INVALID_MFN;
	if (mv->ldt_copy)
		frame_free(virt_to_mfn(mv->ldt_copy), mv->ldt_copy_order);
	mv->ldt_copy = NULL;
	mv->ldt_copy_order = 0;
	mv->ldt_entries = 0;
	mv->ldt_base = 0;
}

int mm_get_writable(struct domain_mm *mm, mfn_t mfn)
{
	return get_page_and_type(mm, mfn, PGT_writable);
}

void mm_put_writable(struct domain_mm *mm, mfn_t mfn)
{
	put_page_and_type(mm, mfn);
}

int mm_hold_writable(struct domain_mm *mm, mfn_t mfn)
{
	for (unsigned i = 0; i < MM_HELD_MAX; i++) {
		if (mm->held[i] != INVALID_MFN)
			continue;
		int rc = get_page_and_type(mm, mfn, PGT_writable);
		if (rc == 0)
			mm->held[i] = mfn;
		return rc;
	}
	return -VIREO_ENOSPC;
}

int mm_clear_page(struct domain_mm *mm, mfn_t mfn)
{
	int rc = get_page_and_type(mm, mfn, PGT_writable);
	if (rc)
		return rc;
	__builtin_memset(table_of(mfn), 0, PAGE_SIZE);
	put_page_and_type(mm, mfn);
	return 0;
}

int mm_copy_page(struct domain_mm *mm, mfn_t dst, mfn_t src)
{
	int rc = get_page(mm, src);
	if (rc)
		return rc;
	rc = get_page_and_type(mm, dst, PGT_writable);
	if (rc == 0) {
		__builtin_memcpy(table_of(dst), table_of(src), PAGE_SIZE);
		put_page_and_type(mm, dst);
	}
	put_page(src);
	return rc;
}

/* ---- the end of a domain ---------------------------------------------------- */

void mm_relinquish(struct domain_mm *mm, const mfn_t *frames, uint64_t nr)
{
	for (unsigned v = 0; v < MM_MAX_VCPUS; v++) {
		struct mm_vcpu *mv = &mm->vcpu[v];
		const mfn_t roots[2] = { mv->root, mv->user_root };

		mv->root = mv->user_root = INVALID_MFN;
		for (unsigned r = 0; r < 2; r++)
			if (roots[r] != INVALID_MFN)
				put_page_and_type(mm, roots[r]);
		for (unsigned g = 0; g < (mv->gdt_entries + 511) / 512; g++)
			put_page_and_type(mm, mv->gdt_frames[g]);
		for (unsigned g = 0; g < MM_GDT_FRAMES; g++)
			mv->gdt_frames[g] = INVALID_MFN;
		mv->gdt_entries = 0;
		ldt_drop(mm, mv);
	}
	for (unsigned h = 0; h < MM_HELD_MAX; h++) {
		if (mm->held[h] != INVALID_MFN)
			put_page_and_type(mm, mm->held[h]);
		mm->held[h] = INVALID_MFN;
	}
	/* With the pins gone, nothing anchors a table: each one's last type reference drops. */
	for (uint64_t i = 0; i < nr; i++)
		if (frames[i] != INVALID_MFN && mm_owns(mm, frames[i]) && (frame_table[frames[i]].flags & PGF_pinned)) {
			frame_table[frames[i]].flags &= (uint8_t)~PGF_pinned;
			put_page_and_type(mm, frames[i]);
		}
	mm_set_foreign(mm, NULL);
	mm->pending = 0;                           /* nothing runs on its tables any more */
}

bool mm_give_back(struct domain_mm *mm, mfn_t mfn)
{
	struct page_info *pg = mfn_to_page(mfn);

	if (!pg || pg->owner != mm->owner)
		return true;
	machine_to_phys[mfn] = M2P_INVALID;
	if (pg->count == 0) {
		*pg = (struct page_info){ 0 };
		frame_free(mfn, 0);
		return true;
	}
	spin_lock(&orphan_lock);
	__atomic_store_n(&pg->owner, OWNER_ORPHAN, __ATOMIC_RELEASE);
	spin_unlock(&orphan_lock);
	return false;
}

