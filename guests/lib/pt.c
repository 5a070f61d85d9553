/*
 * Page-table helpers (pt.h): layout from start_info, frame conversions,
 * walks through the read-only mappings of the guest's own tables, thin
 * hypercall wrappers and a batched mmu_update queue.
 */
#include "pt.h"

struct pt_env pt;

/* The link-time VIRT_BASE (guest.ld; the same value as the ELF note in entry.S). */
extern char __virt_base[];

/* ---- frames and addresses ------------------------------------------------- */

uint64_t pt_pfn_to_mfn(uint64_t pfn)
{
	return pfn < pt.nr_pages ? pt.p2m[pfn] : PT_NO_FRAME;
}

/* A few recent answers of the P2M search; tables are looked up over and over. */
#define MFN_CACHE 8
static struct { uint64_t mfn, pfn; } mfn_cache[MFN_CACHE];
static unsigned mfn_cache_next;

uint64_t pt_mfn_to_pfn(uint64_t mfn)
{
	for (unsigned i = 0; i < MFN_CACHE; i++)
		if (mfn_cache[i].mfn == mfn && mfn_cache[i].pfn < pt.nr_pages)
			return mfn_cache[i].pfn;
	for (uint64_t p = 0; p < pt.nr_pages; p++) {
		if (pt.p2m[p] == mfn) {
			mfn_cache[mfn_cache_next].mfn = mfn;
			mfn_cache[mfn_cache_next].pfn = p;
			mfn_cache_next = (mfn_cache_next + 1) % MFN_CACHE;
			return p;
		}
	}
	return PT_NO_FRAME;
}

void *pt_pfn_to_va(uint64_t pfn)
{
	if (pfn >= pt.mapped_pages)
		return NULL;
	return (void *)(pt.virt_base + (pfn << PT_PAGE_SHIFT));
}

uint64_t pt_va_to_pfn(const void *va)
{
	return ((uint64_t)va - pt.virt_base) >> PT_PAGE_SHIFT;
}

uint64_t pt_va_to_mfn(const void *va)
{
	return pt_pfn_to_mfn(pt_va_to_pfn(va));
}

const uint64_t *pt_table(uint64_t mfn)
{
	uint64_t pfn;

	/* The bootstrap tables first: no search. */
	if (mfn == pt.boot_l4_mfn)
		return pt_pfn_to_va(pt.pt_pfn);
	pfn = pt_mfn_to_pfn(mfn);
	return pfn == PT_NO_FRAME ? NULL : pt_pfn_to_va(pfn);
}

/* ---- walks -------------------------------------------------------------------- */

unsigned pt_walk_from(uint64_t root_mfn, uint64_t va, struct pt_walk *w)
{
	uint64_t mfn = root_mfn;

	memset(w, 0, sizeof(*w));
	for (unsigned level = 4; level >= 1; level--) {
		const uint64_t *t = pt_table(mfn);

		w->table[level] = mfn;
		if (!t)
			return w->level = level;
		w->entry[level] = t[PT_INDEX(va, level)];
		if (!(w->entry[level] & PTE_P))
			return w->level = level;
		if (level > 1 && (w->entry[level] & PTE_PS))
			return w->level = level;   /* a superpage: never granted, so a stop */
		mfn = pte_mfn(w->entry[level]);
	}
	return w->level = 0;
}

unsigned pt_walk(uint64_t va, struct pt_walk *w)
{
	return pt_walk_from(pt.root_mfn, va, w);
}

uint64_t pt_lookup(uint64_t va)
{
	struct pt_walk w;

	return pt_walk(va, &w) == 0 ? w.entry[1] : 0;
}

uint64_t pt_l1e_ptr(uint64_t va)
{
	struct pt_walk w;

	if (pt_walk(va, &w) != 0)
		return 0;
	return pt_slot_ptr(w.table[1], PT_INDEX(va, 1));
}

/* ---- start of day ------------------------------------------------------------- */

int pt_init(const struct start_info *si)
{
	uint64_t pt_end;

	memset(&pt, 0, sizeof(pt));
	for (unsigned i = 0; i < MFN_CACHE; i++)
		mfn_cache[i].mfn = PT_NO_FRAME;
	pt.virt_base = (uint64_t)__virt_base;
	pt.p2m = (const xen_pfn_t *)si->mfn_list;
	pt.nr_pages = si->nr_pages;
	pt.nr_pt_frames = si->nr_pt_frames;
	pt.privileged = si->flags & SIF_PRIVILEGED;
	if ((si->pt_base & (PT_PAGE_SIZE - 1)) || si->pt_base < pt.virt_base) {
		console_printf("pt: pt_base 0x%lx is not a page at or above 0x%lx\n", si->pt_base,
			       pt.virt_base);
		return -XEN_EINVAL;
	}
	pt.pt_pfn = pt_va_to_pfn((const void *)si->pt_base);
	pt_end = pt.pt_pfn + pt.nr_pt_frames;
	if (!pt.nr_pt_frames || pt_end + 1 > pt.nr_pages) {
		console_printf("pt: bootstrap tables at pfn %lu (+%lu) past nr_pages %lu\n", pt.pt_pfn,
			       pt.nr_pt_frames, pt.nr_pages);
		return -XEN_EINVAL;
	}
	pt.boot_l4_mfn = pt.root_mfn = pt.p2m[pt.pt_pfn];
	/* The tables themselves are mapped (read-only): enough to walk with. */
	pt.mapped_pages = pt_end;

	/* Check: the L1 entry mapping pt_base names the L4's frame, read-only. */
	uint64_t e = pt_lookup(si->pt_base);
	if (!(e & PTE_P) || pte_mfn(e) != pt.boot_l4_mfn || (e & PTE_W)) {
		console_printf("pt: the mapping of pt_base is 0x%lx, want mfn 0x%lx read-only\n", e,
			       pt.boot_l4_mfn);
		return -XEN_EINVAL;
	}

	/*
	 * Where the linear start-of-day mapping ends: the first pfn past the
	 * tables whose page is not mapped at virt_base + pfn * 4096 (or not
	 * to p2m[pfn]).
	 */
	uint64_t pfn = pt_end;
	while (pfn < pt.nr_pages) {
		e = pt_lookup(pt.virt_base + (pfn << PT_PAGE_SHIFT));
		if (!(e & PTE_P) || pte_mfn(e) != pt.p2m[pfn])
			break;
		pfn++;
	}
	pt.mapped_pages = pfn;
	pt.free_mapped = pt.next_mapped = pt_end + 1;    /* past the boot stack page */
	if (pt.free_mapped > pt.mapped_pages)
		pt.free_mapped = pt.next_mapped = pt.mapped_pages;
	pt.next_unmapped = pt.mapped_pages;
	return 0;
}

/* ---- hypercalls ---------------------------------------------------------------- */

long pt_update(uint64_t ptr, uint64_t val)
{
	struct mmu_update req = { .ptr = ptr, .val = val };

	return hyp_mmu_update(&req, 1, NULL, DOMID_SELF);
}

long pt_mmuext(unsigned cmd, uint64_t arg1, uint64_t arg2)
{
	struct mmuext_op op = { .cmd = cmd };

	op.arg1.mfn = arg1;
	op.arg2.src_mfn = arg2;
	return hyp_mmuext_op(&op, 1, NULL, DOMID_SELF);
}

long pt_pin(unsigned level, uint64_t mfn)
{
	if (level < 1 || level > 4)
		return -XEN_EINVAL;
	return pt_mmuext(MMUEXT_PIN_L1_TABLE + level - 1, mfn, 0);
}

long pt_unpin(uint64_t mfn)
{
	return pt_mmuext(MMUEXT_UNPIN_TABLE, mfn, 0);
}

long pt_new_baseptr(uint64_t mfn)
{
	long rc = pt_mmuext(MMUEXT_NEW_BASEPTR, mfn, 0);

	if (rc == 0)
		pt.root_mfn = mfn;
	return rc;
}

long pt_clear_page(uint64_t mfn)
{
	return pt_mmuext(MMUEXT_CLEAR_PAGE, mfn, 0);
}

long pt_copy_page(uint64_t dst_mfn, uint64_t src_mfn)
{
	return pt_mmuext(MMUEXT_COPY_PAGE, dst_mfn, src_mfn);
}

long pt_flush_tlb(void)
{
	return pt_mmuext(MMUEXT_TLB_FLUSH_LOCAL, 0, 0);
}

long pt_invlpg(uint64_t va)
{
	return pt_mmuext(MMUEXT_INVLPG_LOCAL, va, 0);
}

void pt_mc_set(struct multicall_entry *e, unsigned long op, unsigned long a0, unsigned long a1,
	       unsigned long a2, unsigned long a3)
{
	memset(e, 0, sizeof(*e));
	e->op = op;
	e->args[0] = a0;
	e->args[1] = a1;
	e->args[2] = a2;
	e->args[3] = a3;
}

/* ---- protection ----------------------------------------------------------------- */

static long set_w(const void *va, bool writable)
{
	uint64_t e = pt_lookup((uint64_t)va);

	if (!(e & PTE_P))
		return -XEN_EINVAL;
	e = writable ? e | PTE_W : e & ~PTE_W;
	return hyp_update_va_mapping((uint64_t)va & ~(PT_PAGE_SIZE - 1), e, UVMF_INVLPG);
}

long pt_set_readonly(const void *va)
{
	return set_w(va, false);
}

long pt_set_writable(const void *va)
{
	return set_w(va, true);
}

/* ---- the mmu_update queue ---------------------------------------------------------- */

void mmuq_init(struct mmu_queue *q, struct mmu_update *buf, unsigned cap)
{
	memset(q, 0, sizeof(*q));
	q->req = buf;
	q->cap = cap;
}

long mmuq_flush(struct mmu_queue *q)
{
	unsigned done = 0;

	q->done = 0;
	q->rc = 0;
	if (!q->n)
		return 0;
	q->rc = hyp_mmu_update(q->req, q->n, &done, DOMID_SELF);
	q->done = done;
	q->applied += done;
	q->flushes++;
	q->n = 0;
	return q->rc;
}

long mmuq_add(struct mmu_queue *q, uint64_t ptr, uint64_t val)
{
	long rc = 0;

	if (q->n == q->cap)
		rc = mmuq_flush(q);
	q->req[q->n].ptr = ptr;
	q->req[q->n].val = val;
	q->n++;
	return rc;
}

/* ---- free frames ------------------------------------------------------------------- */

uint64_t pt_alloc_mapped_pfn(void)
{
	return pt.next_mapped < pt.mapped_pages ? pt.next_mapped++ : PT_NO_FRAME;
}

uint64_t pt_alloc_unmapped_pfn(void)
{
	return pt.next_unmapped < pt.nr_pages ? pt.next_unmapped++ : PT_NO_FRAME;
}

const char *pt_errname(long rc)
{
	switch (-rc) {
	case 0: return "0";
	case 1: return "EPERM";
	case 2: return "ENOENT";
	case 3: return "ESRCH";
	case 7: return "E2BIG";
	case 11: return "EAGAIN";
	case 12: return "ENOMEM";
	case 14: return "EFAULT";
	case 16: return "EBUSY";
	case 17: return "EEXIST";
	case 22: return "EINVAL";
	case 38: return "ENOSYS";
	case 62: return "ETIME";
	case 75: return "EOVERFLOW";
	case 95: return "EOPNOTSUPP";
	default: return rc > 0 ? "positive" : "errno";
	}
}
