/*
 * libFuzzer target: the validated PV MMU (mm/frame_table.c, fastpath/mmu.c,
 * mm/ptwr.c) against two or three real domains (4 or 5 MiB) made by the
 * domain builder on the hosted machine, one of them privileged.
 *
 * Each input is a sequence of operations by hostile domains: mmu_update
 * batches (requests aimed at their own page tables, their other frames,
 * other domains' frames, frames past the end; values mapping their own
 * frames with any flags, their page tables writable, other domains' frames,
 * noise), mmuext_op batches (pins, unpins, new roots, flushes, invlpg,
 * clear/copy page, LDTs, unknown commands), update_va_mapping, multicalls
 * of those, vcpu_info registration (a frame the hypervisor holds writable),
 * writable page tables (vm_assist, then emulated direct writes to an L1),
 * plain writes through the guest's own writable mappings, foreign mappings
 * (foreigndom naming another domain, update_va_mapping_otherdomain), and a
 * domain ending mid-input (what another still maps of it becomes an orphan). Requests are
 * written into the acting domain's memory through its own page tables, as a
 * guest would. Sometimes every batch is preempted at each chunk
 * (hypercall_preempt_tsc = 1, the continuations followed as a guest
 * re-executing its call), sometimes frame_count_limit is lowered to reach
 * count overflow.
 *
 * After every hypercall (and emulated write):
 *   - mm_audit() of all domains: every count recomputed from scratch, no
 *     writable mapping of a page table, no mapping of another's frame but
 *     the privileged domain's of an unprivileged one's, LDT frames and
 *     their copies (run again only when what it reads changed since the
 *     last one);
 *   - every validated L4 has its hypervisor slots (256..271) empty;
 *   - no domain owes a TLB flush (the batch performs it before returning);
 *   - a model of each domain's CPU's TLB that only a full flush (the
 *     domain's flush clock moving) empties: no frame becomes a page table
 *     while a writable translation of it may still be cached on any CPU,
 *     nor writable while it may still be cached as a page table;
 *   - when the input's first byte asks (0x40), each domain also runs a
 *     second vCPU on a CPU of its own (REMOTE_CPU(i), in mm->cpus), whose
 *     TLB only a remote flush naming that CPU empties (the hosted flush
 *     hook, at the moment of the flush, refills it from the tables as they
 *     are then): the same two checks hold for those CPUs;
 *   - a single request that was refused left the frame table, the M2P, the
 *     roots and the contents of every validated page table as they were;
 *   - a single request that was applied did what it asked (the entry holds
 *     the adjusted value, the page is cleared or copied, the frame pinned,
 *     the root loaded, the M2P entry set, the LDT set);
 *   - *pdone of a batch never exceeds its count, and equals it on success.
 * After each input every domain is destroyed and every frame must be back
 * in the allocator; the two tunables are back to what they were.
 *
 * "As they were" allows one difference, which mm/frame_table.c documents:
 * a table below the refused one that validated and was released again
 * keeps its new type and stamp, and a flush that change owed stays owed. So
 * a frame nothing holds a type reference on may have changed type and
 * stamp, and if its old type was still possibly cached (stamp equal to the
 * flush clock) the domain must have flushed. FUZZ_MMU_STRICT=1 makes the
 * check byte-exact (the letter of include/mm/frame_table.h, "on error the
 * frame table is exactly as before"). FUZZ_MMU_TRACE=1 prints every call.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <arch/hosted.h>
#include <core/domain.h>
#include <core/hypercall.h>
#include <mm/frame_alloc.h>
#include <mm/frame_table.h>
#include <mm/memmap.h>
#include <mm/ptwr.h>
#include <public/vcpu.h>
#include <public/xen.h>
#include <vireo/errno.h>
#include <vireo/pte.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The checkers are not what is fuzzed: no coverage feedback from their loops. */
#define NO_COVERAGE __attribute__((no_sanitize("coverage")))

#define KERNEL_PATH "out/guests/hello.elf"     /* built with everything else */
#define MACHINE_MEM (16u << 20)               /* small: mm_audit walks every frame */
#define MAX_DOMS 3
#define MAX_OPS 32
#define MAX_BATCH 64
#define BIG_BATCH 2048
#define POOL 16                                /* frames the fuzzer builds tables from */
#define SCRATCH_PAGES 48                       /* request area, at the top of the mapping */
#define IO_START 0xA0                          /* frames marked I/O (below the RAM given out) */
#define IO_END 0x100
#define COUNT_LIMIT_DEFAULT 0x7FFFFFFFu

static jmp_buf bail;
static uint8_t *kernel;
static size_t kernel_len;
static uint64_t free_at_start;
static bool strict;                            /* FUZZ_MMU_STRICT=1: see the top of the file */
static bool trace;                             /* FUZZ_MMU_TRACE=1: print every call */

static void on_enter(const struct guest_entry *e)
{
	(void)e;
	longjmp(bail, 1);                         /* a domain shut down: the next one "entered" */
}

static void on_halt(int status)
{
	printf("fuzz_mmu: the machine halted (%d): a panic?\n", status);
	fflush(stdout);
	abort();
}

static void setup_once(void)
{
	struct memmap m;
	FILE *f = fopen(KERNEL_PATH, "rb");
	if (!f) {
		fprintf(stderr, "fuzz_mmu: run from the repository root (%s)\n", KERNEL_PATH);
		abort();
	}
	kernel = malloc(1 << 20);
	kernel_len = fread(kernel, 1, 1 << 20, f);
	fclose(f);
	if (hosted_machine_init(MACHINE_MEM, 2) != 0)
		abort();
	memmap_init(&m);
	memmap_add(&m, 1u << 20, MACHINE_MEM);
	if (frame_alloc_init(&m) != 0 || frame_table_init(machine_nr_frames()) != 0)
		abort();
	frame_table_mark_io(IO_START, IO_END);
	hosted_set_guest_hooks(on_enter, on_halt);
	free_at_start = frame_nr_free();
	strict = getenv("FUZZ_MMU_STRICT") && getenv("FUZZ_MMU_STRICT")[0] == '1';
	trace = getenv("FUZZ_MMU_TRACE") && getenv("FUZZ_MMU_TRACE")[0] == '1';
}

/* A domain's end: its CPUs load the hypervisor's root first. */
static void mm_cpus_leave_all(struct domain_mm *mm)
{
	for (unsigned c = 0; c < MAX_CPUS; c++)
		if (mm->cpus >> c & 1)
			mm_cpu_leave(mm, c);
}

/* ---- the input ------------------------------------------------------------- */

/*
 * The input's bytes, then (when its first byte asks for it) a tail of
 * pseudo-random bytes seeded from the whole input, so that a short input
 * can still reach states that take many operations to build.
 */
struct in {
	const uint8_t *p, *end;
	bool tail;
	uint64_t rng;
};

static unsigned next_byte(struct in *in)
{
	if (in->p < in->end)
		return *in->p++;
	if (!in->tail)
		return 0;
	in->rng ^= in->rng << 13;                 /* xorshift64 */
	in->rng ^= in->rng >> 7;
	in->rng ^= in->rng << 17;
	return (unsigned)(in->rng >> 56);
}

static bool more(const struct in *in)
{
	return in->p < in->end || in->tail;
}

static uint64_t take(struct in *in, unsigned n)
{
	uint64_t v = 0;
	for (unsigned i = 0; i < n; i++)
		v |= (uint64_t)next_byte(in) << (8 * i);
	return v;
}

static unsigned take1(struct in *in) { return (unsigned)take(in, 1); }
static unsigned take2(struct in *in) { return (unsigned)take(in, 2); }

/* ---- the domains ------------------------------------------------------------- */

#define MAX_PAGES ((5u << 20) >> 12)

struct dom {
	struct domain *d;
	/* Copies: they stay (as hostile values) when the domain ends mid-input. */
	unsigned domid;
	uint64_t nr_pages;
	mfn_t p2m[MAX_PAGES];
	mfn_t shared_info;
	bool ended;                    /* its memory given back: it acts no more */
	uint64_t mapped_pfns;          /* pfns [0, mapped_pfns) are mapped at start of day */
	uint64_t pt_pfn0, nr_pt;       /* the bootstrap page tables */
	uint64_t pool[POOL];           /* pfns: 8 mapped writable, 8 unmapped where there are */
	uint64_t scratch_va;           /* SCRATCH_PAGES pages mapped writable at start of day */
};

static struct dom doms[MAX_DOMS];
static struct domain_mm *mms[MAX_DOMS];
static unsigned ndoms;
static mfn_t lo, hi;                   /* every domain's frame lies in [lo, hi) */

static uint64_t va_of(const struct dom *x, uint64_t pfn)
{
	return x->d->layout.v_start + pfn * PAGE_SIZE;
}

static void dom_init(struct dom *x, struct domain *d)
{
	const struct dom_layout *l = &d->layout;
	uint64_t stack_pfn = (l->vstack_start - l->v_start) >> PAGE_SHIFT;

	x->d = d;
	x->domid = d->domid;
	x->nr_pages = d->nr_pages;
	x->shared_info = d->shared_info_mfn;
	x->ended = false;
	if (d->nr_pages > MAX_PAGES)
		abort();
	memcpy(x->p2m, d->p2m, d->nr_pages * sizeof(mfn_t));
	x->mapped_pfns = (l->v_end - l->v_start) >> PAGE_SHIFT;
	x->pt_pfn0 = (l->vpt_start - l->v_start) >> PAGE_SHIFT;
	x->nr_pt = (l->vpt_end - l->vpt_start) >> PAGE_SHIFT;
	x->scratch_va = l->v_end - SCRATCH_PAGES * PAGE_SIZE;
	for (unsigned i = 0; i < POOL / 2; i++)
		x->pool[i] = stack_pfn + 1 + i;
	for (unsigned i = POOL / 2; i < POOL; i++)
		x->pool[i] = d->nr_pages >= x->mapped_pfns + POOL ? x->mapped_pfns + i : stack_pfn + 1 + i;
	if (x->scratch_va < l->vstack_end + (POOL + 1) * PAGE_SIZE)
		abort();                          /* the builder's slack is smaller than assumed */
	for (uint64_t pfn = 0; pfn < d->nr_pages; pfn++) {
		lo = d->p2m[pfn] < lo ? d->p2m[pfn] : lo;
		hi = d->p2m[pfn] + 1 > hi ? d->p2m[pfn] + 1 : hi;
	}
	lo = d->shared_info_mfn < lo ? d->shared_info_mfn : lo;
	hi = d->shared_info_mfn + 1 > hi ? d->shared_info_mfn + 1 : hi;
}

NO_COVERAGE static int owner_index(uint16_t owner)
{
	for (unsigned i = 0; i < ndoms; i++)
		if (mms[i]->owner == owner)
			return (int)i;
	return -1;
}

/* ---- choosing frames, addresses and entries ------------------------------- */

/* A pfn of the domain: pool, bootstrap page table, any, or a low one (kernel, P2M). */
static uint64_t own_pfn(const struct dom *x, unsigned kind, unsigned idx)
{
	switch (kind % 4) {
	case 0: return x->pool[idx % POOL];
	case 1: return x->pt_pfn0 + idx % x->nr_pt;
	case 2: return idx % x->nr_pages;
	default: return idx % 8;
	}
}

static mfn_t own_frame(const struct dom *x, unsigned kind, unsigned idx)
{
	if (kind % 4 == 3 && (idx & 8))
		return x->shared_info;
	return x->p2m[own_pfn(x, kind, idx)];
}

static const struct dom *other(unsigned actor, unsigned idx)
{
	return &doms[(actor + 1 + idx % (ndoms - 1)) % ndoms];
}

/* Any frame: mostly the actor's own, else another domain's, I/O, past the end, noise. */
static mfn_t any_frame(unsigned actor, unsigned kind, unsigned idx)
{
	switch (kind % 8) {
	case 0: case 1: case 2: case 3:
		return own_frame(&doms[actor], kind, idx);
	case 4: case 5:
		return own_frame(other(actor, idx >> 8), kind & 1, idx);
	case 6:
		switch (idx % 4) {
		case 0: return IO_START + (idx >> 2) % (IO_END - IO_START);
		case 1: return frame_table_frames + (idx >> 2) % 8;
		case 2: return (idx >> 2) % 4;                    /* low frames: the hypervisor's */
		default: return (PTE_ADDR >> PAGE_SHIFT) - (idx >> 2) % 4;
		}
	default:
		return ((uint64_t)idx * 2654435761u) % (frame_table_frames + 64);
	}
}

static uint64_t pte_flags(unsigned f)
{
	uint64_t fl = PTE_P | PTE_U | PTE_A;
	if (f & 0x01) fl |= PTE_W;
	if (f & 0x02) fl |= PTE_D;
	if (f & 0x04) fl |= PTE_PS;
	if (f & 0x08) fl |= PTE_PCD;
	if (f & 0x10) fl |= PTE_PWT;
	if (f & 0x20) fl |= PTE_G;
	if (f & 0x40) fl |= PTE_NX;
	if (f & 0x80) fl |= 1ull << (52 + (f & 0x0F) % 11);   /* software bits 52..62 */
	return fl;
}

/* The table frame and slot mapping va at `level` in the domain's kernel root. */
static bool slot_of(const struct domain *d, uint64_t va, unsigned level, mfn_t *table,
		    unsigned *slot)
{
	mfn_t mfn = d->mm.vcpu[0].root;
	if (mfn == INVALID_MFN)
		return false;
	for (unsigned lv = 4; ; lv--) {
		unsigned idx = (va >> (12 + 9 * (lv - 1))) & 511;
		const uint64_t *t = mfn_to_virt(mfn);
		if (!t)
			return false;
		if (lv == level) {
			*table = mfn;
			*slot = idx;
			return true;
		}
		if (!(t[idx] & PTE_P))
			return false;
		mfn = (t[idx] & PTE_ADDR) >> PAGE_SHIFT;
	}
}

/* The frame mapped at va in the domain's kernel tables, or INVALID_MFN. */
static mfn_t va_to_mfn(const struct domain *d, uint64_t va)
{
	mfn_t t;
	unsigned slot;
	if (!slot_of(d, va, 1, &t, &slot))
		return INVALID_MFN;
	uint64_t e = ((const uint64_t *)mfn_to_virt(t))[slot];
	return e & PTE_P ? (e & PTE_ADDR) >> PAGE_SHIFT : INVALID_MFN;
}

/* The entry at machine address ptr, when it is in machine memory. */
static bool entry_at(uint64_t ptr, uint64_t *e)
{
	const uint64_t *t = mfn_to_virt(ptr >> PAGE_SHIFT);
	if (!t)
		return false;
	*e = t[(ptr & (PAGE_SIZE - 1)) >> 3];
	return true;
}

static uint64_t pick_va(unsigned actor, struct in *in)
{
	const struct dom *x = &doms[actor];
	unsigned k = take1(in), idx = take2(in);
	const struct dom_layout *l = &x->d->layout;
	uint64_t off = (k & 0x80) ? (idx >> 4) & 0xFF8 : 0;

	switch (k % 8) {
	case 0: case 1: case 2:
		return va_of(x, own_pfn(x, k >> 3, idx)) + off;
	case 3: return l->v_end + (idx % 64) * PAGE_SIZE + off;       /* just past the mapping */
	case 4: return l->v_start - (1 + idx % 4) * PAGE_SIZE;        /* just below it */
	case 5: return HYPERVISOR_VIRT_START + ((uint64_t)idx << 12);
	case 6: return 0x0000800000000000ull + ((uint64_t)idx << 12); /* not canonical */
	default: return take(in, 8);
	}
}

/* ---- the request area ---------------------------------------------------- */

static uint8_t sbuf[SCRATCH_PAGES * PAGE_SIZE];
static size_t sused;

static void scratch_reset(void)
{
	memset(sbuf, 0, sused);
	sused = 0;
}

/* n bytes of the request area (8-byte aligned): guest address, host copy at *host. */
static uint64_t scratch_alloc(unsigned actor, size_t n, void **host)
{
	size_t at = (sused + 7) & ~(size_t)7;
	if (at + n > sizeof(sbuf))
		return 0;
	sused = at + n;
	*host = sbuf + at;
	return doms[actor].scratch_va + at;
}

/*
 * Put the request area into the guest through its own tables, where they
 * still allow it: true when all of it got there.
 */
static bool scratch_write(unsigned actor)
{
	bool all = true;
	for (size_t off = 0; off < sused; off += PAGE_SIZE) {
		size_t n = sused - off < PAGE_SIZE ? sused - off : PAGE_SIZE;
		all &= copy_to_guest(doms[actor].scratch_va + off, sbuf + off, n) == 0;
	}
	return all;
}

/* A word of the request area, for *pdone or a vCPU bitmap. */
static uint64_t scratch_word(unsigned actor, uint64_t value)
{
	void *h;
	uint64_t va = scratch_alloc(actor, 8, &h);
	if (va)
		memcpy(h, &value, 8);
	return va;
}

/* ---- building requests --------------------------------------------------- */

static uint64_t pick_ptr(unsigned actor, struct in *in)
{
	const struct dom *x = &doms[actor];
	unsigned k = take1(in), idx = take2(in), slot = 0;
	uint64_t mfn, ptr;
	mfn_t t;

	if (k % 8 != 0 && k % 8 != 6)
		slot = take2(in) % 512;
	switch (k % 8) {
	case 0: {                                 /* the real entry mapping one of its pfns */
		uint64_t pfn = own_pfn(x, k >> 5, idx);
		unsigned level = 1 + (k >> 3) % 4;
		if (slot_of(x->d, va_of(x, pfn), level, &t, &slot))
			mfn = t;
		else
			mfn = x->p2m[x->pt_pfn0 + x->nr_pt - 1];
		break;
	}
	case 1: mfn = x->p2m[x->pt_pfn0 + idx % x->nr_pt]; break;
	case 2: mfn = x->p2m[x->pool[idx % POOL]]; break;
	case 3: mfn = x->p2m[idx % x->nr_pages]; break;
	case 4: mfn = own_frame(other(actor, idx >> 8), k >> 3, idx); break;
	case 5:                                   /* past the end of RAM, or of what a PTE holds */
		mfn = idx & 1 ? frame_table_frames + (idx >> 1) % 16 : (PTE_ADDR >> PAGE_SHIFT) + (idx >> 1);
		break;
	case 6: return take(in, 8);
	default: mfn = idx & 1 ? x->shared_info : IO_START + idx % (IO_END - IO_START); break;
	}
	ptr = (mfn << PAGE_SHIFT) | (slot << 3);
	unsigned c = take1(in);
	/* Mostly NORMAL_PT_UPDATE, else MACHPHYS_UPDATE, PT_UPDATE_PRESERVE_AD or NO_TRANSLATE. */
	return ptr | (c % 8 < 5 ? MMU_NORMAL_PT_UPDATE : c % 8 - 4);
}

static uint64_t pick_val(unsigned actor, struct in *in, uint64_t ptr)
{
	unsigned k = take1(in), idx = take2(in), f = take1(in), sub = k >> 3;
	uint64_t cur = 0;
	bool have = entry_at(ptr & ~7ull, &cur);

	switch (k % 8) {
	case 0: return idx & 1 ? ((uint64_t)idx << 11) & ~PTE_P : 0;        /* not present */
	case 1: return (own_frame(&doms[actor], sub, idx) << PAGE_SHIFT) | pte_flags(f);
	case 2: {                                                           /* a table, writable */
		const struct dom *x = &doms[actor];
		mfn_t m = x->p2m[sub & 1 ? x->pt_pfn0 + idx % x->nr_pt : x->pool[idx % POOL]];
		return (m << PAGE_SHIFT) | pte_flags(f) | PTE_W;
	}
	case 3: return (own_frame(other(actor, idx >> 8), sub, idx) << PAGE_SHIFT) | pte_flags(f);
	case 4: return take(in, 8);
	case 5: return (any_frame(actor, sub, idx) << PAGE_SHIFT) | pte_flags(f);
	case 6: return have ? cur ^ (1ull << (f % 64)) : take(in, 8);   /* one bit of the present entry */
	default: return have ? (cur & PTE_ADDR) | pte_flags(f) : take(in, 8);
	}
}

static void make_mmuext(unsigned actor, struct in *in, struct mmuext_op *op)
{
	unsigned c = take1(in);
	unsigned k = take1(in), idx = take2(in);

	memset(op, 0, sizeof(*op));
	op->cmd = c % 24 < 21 ? c % 24 : (uint32_t)take(in, 4);
	if (c & 0x80)
		op->pad0 = (uint32_t)take(in, 4);
	switch (op->cmd) {
	case MMUEXT_PIN_L1_TABLE: case MMUEXT_PIN_L2_TABLE: case MMUEXT_PIN_L3_TABLE:
	case MMUEXT_PIN_L4_TABLE: case MMUEXT_UNPIN_TABLE: case MMUEXT_NEW_BASEPTR:
	case MMUEXT_CLEAR_PAGE: case MMUEXT_MARK_SUPER: case MMUEXT_UNMARK_SUPER:
		op->arg1.mfn = any_frame(actor, k, idx);
		break;
	case MMUEXT_NEW_USER_BASEPTR:
		op->arg1.mfn = (k & 0x40) ? 0 : any_frame(actor, k, idx);
		break;
	case MMUEXT_COPY_PAGE:
		op->arg1.mfn = any_frame(actor, k, idx);
		op->arg2.src_mfn = any_frame(actor, take1(in), take2(in));
		break;
	case MMUEXT_INVLPG_LOCAL: case MMUEXT_INVLPG_ALL:
		op->arg1.linear_addr = pick_va(actor, in);
		break;
	case MMUEXT_TLB_FLUSH_MULTI: case MMUEXT_INVLPG_MULTI:
		op->arg1.linear_addr = pick_va(actor, in);
		switch (k % 4) {
		case 0: case 1: op->arg2.vcpumask = scratch_word(actor, k % 2 ? 1 : (uint64_t)idx << 1); break;
		case 2: op->arg2.vcpumask = va_of(&doms[actor], doms[actor].pt_pfn0); break;
		default: op->arg2.vcpumask = pick_va(actor, in); break;
		}
		break;
	case MMUEXT_SET_LDT:
		/*
		 * Mostly a page of its own with a small LDT (which works once the
		 * domain made the page read-only, its descriptors being zero), else
		 * any address and count.
		 */
		if (k & 2) {
			op->arg1.linear_addr = pick_va(actor, in);
			op->arg2.nr_ents = k & 1 ? 0 : idx % 10000;
		} else {
			op->arg1.linear_addr = va_of(&doms[actor], own_pfn(&doms[actor], k >> 3, idx));
			op->arg2.nr_ents = k & 1 ? 0 : 1 + (idx >> 4) % 1100;
		}
		break;
	case MMUEXT_TLB_FLUSH_LOCAL: case MMUEXT_TLB_FLUSH_ALL:
	case MMUEXT_FLUSH_CACHE: case MMUEXT_FLUSH_CACHE_GLOBAL:
		op->arg1.mfn = (uint64_t)k << 16 | idx;   /* ignored */
		break;
	default:
		op->arg1.mfn = take(in, 8);
		op->arg2.src_mfn = take(in, 8);
		break;
	}
}

/* One prepared hypercall (or PTWR_CALL: an emulated page-table write). */
#define PTWR_CALL (~0ull)
struct call {
	uint64_t nr, a[5];
	unsigned count;            /* entries, for a batch */
	bool pdone_checked;        /* a[2] is a word of ours that started at 0, no PREEMPTED given */
};

/*
 * The list, pdone and foreigndom of a batch: a header byte whose top bit
 * clear means all valid, else which of them to spoil.
 */
static void batch_args(unsigned actor, struct in *in, struct call *c, uint64_t list)
{
	const struct dom *x = &doms[actor];
	unsigned h = take1(in);
	uint64_t pdone = scratch_word(actor, 0);

	c->a[0] = list;
	c->a[1] = c->count;
	c->a[2] = pdone;
	c->a[3] = DOMID_SELF;
	c->pdone_checked = pdone != 0;
	if (!(h & 0x80))
		return;
	switch (h & 3) {
	case 1: c->a[0] = va_of(x, x->pt_pfn0 + take1(in) % x->nr_pt); break;  /* read-only: readable */
	case 2: c->a[0] = x->d->layout.v_end - 16 * (1 + take1(in) % 4); break; /* runs off the end */
	case 3: c->a[0] = pick_va(actor, in); break;
	}
	switch ((h >> 2) & 3) {
	case 1: c->a[2] = 0; break;
	case 2: c->a[2] = va_of(x, x->pt_pfn0); break;                       /* not writable */
	case 3: c->a[2] = x->d->layout.v_end + 8; break;                     /* not mapped */
	}
	switch ((h >> 4) & 3) {
	case 1: c->a[3] = take1(in) & 1 ? x->d->domid : ((x->d->domid + 1u) << 16) | DOMID_SELF; break;
	case 2: c->a[3] = other(actor, take1(in))->domid; break;
	case 3: c->a[3] = take(in, 4); break;
	}
	if (h & 0x40)
		c->a[1] |= MMU_UPDATE_PREEMPTED;          /* a guest claiming a continuation */
	c->pdone_checked = c->a[2] == pdone && pdone && !(h & 0x40);
}

/* How many entries: 1..64, or (rarely) a long batch of a few repeated entries. */
static void batch_size(struct in *in, unsigned *n, unsigned *distinct, bool big_ok)
{
	unsigned c = take1(in);
	if (big_ok && c >= 0xF8) {
		*n = 100 + take2(in) % (BIG_BATCH - 100 + 1);
		*distinct = 1 + take1(in) % 4;
		return;
	}
	*n = 1 + c % MAX_BATCH;
	*distinct = *n <= 16 ? *n : 1 + take1(in) % 16;
}

static bool make_mmu_update(unsigned actor, struct in *in, struct call *c, bool big)
{
	unsigned n, m;
	struct mmu_update *req, uniq[16];
	if (big) {
		n = 100 + take2(in) % (BIG_BATCH - 100 + 1);
		m = 1 + take1(in) % 4;
	} else {
		batch_size(in, &n, &m, true);
	}
	uint64_t list = scratch_alloc(actor, n * sizeof(*req), (void **)&req);
	if (!list)
		return false;
	for (unsigned i = 0; i < m; i++) {
		uniq[i].ptr = pick_ptr(actor, in);
		uniq[i].val = pick_val(actor, in, uniq[i].ptr);
	}
	for (unsigned i = 0; i < n; i++)
		req[i] = uniq[i % m];
	*c = (struct call){ .nr = __HYPERVISOR_mmu_update, .count = n };
	batch_args(actor, in, c, list);
	return true;
}

static bool make_mmuext_op(unsigned actor, struct in *in, struct call *c)
{
	unsigned n, m;
	struct mmuext_op *op, uniq[16];
	batch_size(in, &n, &m, true);
	uint64_t list = scratch_alloc(actor, n * sizeof(*op), (void **)&op);
	if (!list)
		return false;
	for (unsigned i = 0; i < m; i++)
		make_mmuext(actor, in, &uniq[i]);
	for (unsigned i = 0; i < n; i++)
		op[i] = uniq[i % m];
	*c = (struct call){ .nr = __HYPERVISOR_mmuext_op, .count = n };
	batch_args(actor, in, c, list);
	return true;
}

/* update_va_mapping, or its _otherdomain form (the other domain's frames, for the privileged). */
static bool is_uvm(const struct call *c)
{
	return c->nr == __HYPERVISOR_update_va_mapping || c->nr == __HYPERVISOR_update_va_mapping_otherdomain;
}

static void make_update_va_mapping(unsigned actor, struct in *in, struct call *c)
{
	uint64_t va = pick_va(actor, in), ptr = 0;
	mfn_t t;
	unsigned slot, f = take1(in);
	if (slot_of(doms[actor].d, va, 1, &t, &slot))
		ptr = (t << PAGE_SHIFT) | (slot << 3);
	*c = (struct call){ .nr = __HYPERVISOR_update_va_mapping, .count = 1 };
	c->a[0] = va;
	c->a[1] = pick_val(actor, in, ptr);
	c->a[2] = f & 7;                                  /* flush type, UVMF_ALL */
	switch ((f >> 3) & 3) {
	case 1: c->a[2] |= scratch_word(actor, f >> 5 & 1); break;        /* a vCPU bitmap */
	case 2: c->a[2] |= va_of(&doms[actor], doms[actor].pt_pfn0); break;
	case 3: c->a[2] |= (take(in, 8) & ~7ull); break;
	}
	if (f & 0x40) {
		unsigned k = take1(in);
		c->nr = __HYPERVISOR_update_va_mapping_otherdomain;
		switch (k % 4) {
		case 0: c->a[3] = other(actor, k >> 2)->domid; break;
		case 1: c->a[3] = DOMID_SELF; break;
		case 2: c->a[3] = doms[actor].d->domid; break;
		default: c->a[3] = take2(in); break;
		}
	}
}

/*
 * Hypercalls beside the MMU family that touch it: a vcpu_info page the
 * hypervisor holds a writable reference on, writable page tables switched
 * on and off; and a few strays.
 */
static void make_other(unsigned actor, struct in *in, struct call *c, unsigned k)
{
	switch (k % 8) {
	case 0: case 1: {
		struct vcpu_register_vcpu_info *info;
		uint64_t va = scratch_alloc(actor, sizeof(*info), (void **)&info);
		unsigned kind = take1(in), idx = take2(in);
		*c = (struct call){ .nr = __HYPERVISOR_vcpu_op, .a = { VCPUOP_register_vcpu_info, 0, va } };
		if (va) {
			info->mfn = any_frame(actor, kind, idx);
			info->offset = kind & 0x80 ? take2(in) : (idx >> 4) % 8 * 64;
		}
		return;
	}
	case 2: case 3:
		*c = (struct call){ .nr = __HYPERVISOR_vm_assist,
				    .a = { k & 4 ? VMASST_CMD_disable : VMASST_CMD_enable,
					   VMASST_TYPE_writable_pagetables } };
		return;
	default: {
		static const uint64_t strays[] = {
			__HYPERVISOR_xen_version, __HYPERVISOR_update_va_mapping_otherdomain,
			__HYPERVISOR_vcpu_op, __HYPERVISOR_multicall, 999,
		};
		*c = (struct call){ .nr = strays[take1(in) % 5] };
		c->a[0] = take1(in);
		c->a[1] = take1(in) & 1 ? 0 : scratch_word(actor, 0);
		/* VCPUOP_down of the only vCPU powers the domain off (Xen): domains end by their own step here. */
		if (c->nr == __HYPERVISOR_vcpu_op && c->a[0] == VCPUOP_down)
			c->a[0] = VCPUOP_is_up;
		return;
	}
	}
}

static bool make_call(unsigned actor, struct in *in, struct call *c, unsigned depth);

static bool make_multicall(unsigned actor, struct in *in, struct call *c, unsigned depth)
{
	unsigned n = 1 + take1(in) % 8;
	struct multicall_entry *e;
	uint64_t list = scratch_alloc(actor, n * sizeof(*e), (void **)&e);
	if (!list)
		return false;
	for (unsigned i = 0; i < n; i++) {
		struct call sub;
		if (!make_call(actor, in, &sub, depth + 1))
			return false;
		e[i].op = sub.nr;
		e[i].result = 0x5A5A5A5A;
		memcpy(e[i].args, sub.a, sizeof(sub.a));
	}
	*c = (struct call){ .nr = __HYPERVISOR_multicall, .count = n };
	c->a[0] = list;
	c->a[1] = n;
	unsigned h = take1(in);
	if ((h & 0xC0) == 0xC0) {
		/* A count far past the list, which runs into the end of the mapping. */
		c->a[0] = doms[actor].d->layout.v_end - 64 * (1 + h % 8);
		c->a[1] = ~0u;
	} else if (h & 0x80) {
		c->a[0] = pick_va(actor, in);
	} else if (h & 0x40) {
		c->a[1] = n + 1 + h % 8;              /* past the entries written: zeroes */
	}
	return true;
}

/* A hypercall of the MMU family (or, inside a multicall, a stray other one). */
static bool make_call(unsigned actor, struct in *in, struct call *c, unsigned depth)
{
	unsigned k = take1(in);
	switch (k % 8) {
	case 0: case 1: case 2:
		return make_mmu_update(actor, in, c, false);
	case 3: case 4:
		return make_mmuext_op(actor, in, c);
	case 5:
		make_update_va_mapping(actor, in, c);
		return true;
	case 6:
		if (depth < 2)
			return make_multicall(actor, in, c, depth);
		/* fall through */
	default:
		make_other(actor, in, c, k >> 3);
		return true;
	}
}

/* ---- checks ------------------------------------------------------------------ */

static char why[256];
static unsigned op_no;
static const struct call *cur_call;
static long cur_rc;

static void fail(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

static void fail(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	printf("fuzz_mmu: op %u", op_no);
	if (cur_call && cur_call->nr == PTWR_CALL)
		printf(" (ptwr write at 0x%llx, rc %ld)", (unsigned long long)cur_call->a[0], cur_rc);
	else if (cur_call)
		printf(" (hypercall %llu: 0x%llx 0x%llx 0x%llx 0x%llx, rc %ld)",
		       (unsigned long long)cur_call->nr, (unsigned long long)cur_call->a[0],
		       (unsigned long long)cur_call->a[1], (unsigned long long)cur_call->a[2],
		       (unsigned long long)cur_call->a[3], cur_rc);
	printf(": ");
	vprintf(fmt, ap);
	printf("\n");
	va_end(ap);
	fflush(stdout);
	abort();
}

/* What a refused call must leave as it was. */
static struct page_info *ft_before;
static uint64_t *m2p_before;
static mfn_t roots_before[MAX_DOMS][2];
static uint32_t clock_before[MAX_DOMS];
static unsigned ldt_entries_before[MAX_DOMS];
static uint64_t ldt_base_before[MAX_DOMS];
static uint64_t pt_sum_before;

NO_COVERAGE static uint64_t pt_contents_sum(void)
{
	uint64_t sum = 0;
	for (mfn_t m = lo; m < hi; m++) {
		if (!(frame_table[m].flags & PGF_validated))
			continue;
		const uint64_t *t = mfn_to_virt(m);
		sum = sum * 1000003u + m;
		for (unsigned i = 0; i < 512; i++)
			sum = sum * 1000003u + t[i];
	}
	return sum;
}

NO_COVERAGE static void snapshot(void)
{
	memcpy(ft_before + lo, frame_table + lo, (hi - lo) * sizeof(*frame_table));
	memcpy(m2p_before + lo, machine_to_phys + lo, (hi - lo) * sizeof(*machine_to_phys));
	for (unsigned i = 0; i < ndoms; i++) {
		roots_before[i][0] = mms[i]->vcpu[0].root;
		roots_before[i][1] = mms[i]->vcpu[0].user_root;
		clock_before[i] = mms[i]->clock;
		ldt_entries_before[i] = mms[i]->vcpu[0].ldt_entries;
		ldt_base_before[i] = mms[i]->vcpu[0].ldt_base;
	}
	pt_sum_before = pt_contents_sum();
}

/* Frame a before a refused call, b after: may they differ so? (See the top of the file.) */
NO_COVERAGE static bool page_info_same(const struct page_info *a, const struct page_info *b)
{
	bool same = !memcmp(a, b, sizeof(*a));
	if (same || strict)
		return same;
	if (a->count != b->count || a->type_count != b->type_count || a->owner != b->owner ||
	    a->flags != b->flags || a->type_count != 0)
		return false;
	if (a->type != b->type && a->type != PGT_none) {
		int o = owner_index(a->owner);
		if (o >= 0 && a->stamp == clock_before[o] && mms[o]->clock == clock_before[o])
			return false;             /* the flush the type change owed was not done */
	}
	return true;
}

NO_COVERAGE static void check_unchanged(void)
{
	for (mfn_t m = lo; m < hi; m++) {
		const struct page_info *a = &ft_before[m], *b = &frame_table[m];
		if (!page_info_same(a, b))
			fail("refused, yet frame %llu changed: count %u->%u type_count %u->%u type %u->%u "
			     "flags 0x%x->0x%x stamp %u->%u owner %u->%u", (unsigned long long)m,
			     a->count, b->count, a->type_count, b->type_count, a->type, b->type,
			     a->flags, b->flags, a->stamp, b->stamp, a->owner, b->owner);
		if (m2p_before[m] != machine_to_phys[m])
			fail("refused, yet the M2P entry of frame %llu changed", (unsigned long long)m);
	}
	for (unsigned i = 0; i < ndoms; i++) {
		if (roots_before[i][0] != mms[i]->vcpu[0].root || roots_before[i][1] != mms[i]->vcpu[0].user_root)
			fail("refused, yet domain %u's roots changed", i);
		if (ldt_entries_before[i] != mms[i]->vcpu[0].ldt_entries || ldt_base_before[i] != mms[i]->vcpu[0].ldt_base)
			fail("refused, yet domain %u's LDT changed", i);
	}
	if (pt_contents_sum() != pt_sum_before)
		fail("refused, yet a validated page table's contents changed");
}

/*
 * A TLB per domain (each runs on a CPU of its own) that only a full flush
 * (the domain's flush clock moving) empties: frames its tables map
 * writable (its own, or another domain's by a foreign mapping), and its
 * frames in use as page tables, since its last one.
 */
static uint8_t *was_w[MAX_DOMS], *was_pt[MAX_DOMS], *now_w[MAX_DOMS], *now_pt[MAX_DOMS];
static uint32_t clock_seen[MAX_DOMS];

/*
 * The remote CPUs (cfg 0x40): domain i's second vCPU runs on REMOTE_CPU(i);
 * rem_w / rem_pt: what that CPU's TLB may hold since its last flush.
 */
#define REMOTE_CPU(i) (8u + (i))
static bool remote;
static uint8_t *rem_w[MAX_DOMS], *rem_pt[MAX_DOMS];
static uint64_t remote_flush_calls;

/* now_w / now_pt: each domain's writable mappings and page tables in use, as the tables are now. */
NO_COVERAGE static void tables_now(void)
{
	for (unsigned i = 0; i < ndoms; i++) {
		memset(now_w[i] + lo, 0, hi - lo);
		memset(now_pt[i] + lo, 0, hi - lo);
	}
	for (mfn_t m = lo; m < hi; m++) {
		const struct page_info *pg = &frame_table[m];
		int o = owner_index(pg->owner);
		if (!(pg->flags & PGF_validated) || o < 0)
			continue;
		now_pt[o][m] = 1;
		if (pg->type != PGT_l1)
			continue;
		const uint64_t *t = mfn_to_virt(m);
		for (unsigned s = 0; s < 512; s++) {
			mfn_t target = (t[s] & PTE_ADDR) >> PAGE_SHIFT;
			if ((t[s] & (PTE_P | PTE_W)) == (PTE_P | PTE_W) && target >= lo && target < hi)
				now_w[o][target] = 1;
		}
	}
}

/* machine_tlb_flush_cpus, mid-call: the remote CPUs named start again from the tables as they are. */
NO_COVERAGE static void on_remote_flush(uint64_t mask)
{
	remote_flush_calls++;
	if (!remote)
		fail("a remote flush (CPUs 0x%llx) with no other CPU running a domain", (unsigned long long)mask);
	tables_now();
	for (unsigned i = 0; i < ndoms; i++)
		if (mask >> REMOTE_CPU(i) & 1) {
			memcpy(rem_w[i] + lo, now_w[i] + lo, hi - lo);
			memcpy(rem_pt[i] + lo, now_pt[i] + lo, hi - lo);
		}
}

NO_COVERAGE static void remote_observe(bool first)
{
	for (unsigned i = 0; i < ndoms; i++) {
		if (doms[i].ended)
			continue;                 /* it left its CPUs: nothing cached */
		for (mfn_t m = lo; m < hi; m++) {
			rem_w[i][m] = (first ? 0 : rem_w[i][m]) | now_w[i][m];
			rem_pt[i][m] = (first ? 0 : rem_pt[i][m]) | now_pt[i][m];
		}
		for (unsigned j = 0; j < ndoms; j++)
			for (mfn_t m = lo; m < hi; m++) {
				if (now_pt[j][m] && rem_w[i][m])
					fail("frame %llu is a page table of domain %u, but CPU %u (domain %u's) may still "
					     "cache a writable translation of it: no remote flush since",
					     (unsigned long long)m, j, REMOTE_CPU(i), i);
				if (now_w[j][m] && rem_pt[i][m])
					fail("frame %llu is mapped writable by domain %u, but CPU %u (domain %u's) may still "
					     "cache it as a page table: no remote flush since",
					     (unsigned long long)m, j, REMOTE_CPU(i), i);
			}
	}
}

NO_COVERAGE static void tlb_observe(bool first)
{
	tables_now();
	if (remote)
		remote_observe(first);
	for (unsigned i = 0; i < ndoms; i++) {
		bool flushed = first || mms[i]->clock != clock_seen[i];
		clock_seen[i] = mms[i]->clock;
		for (mfn_t m = lo; m < hi; m++) {
			if (flushed) {
				was_w[i][m] = now_w[i][m];
				was_pt[i][m] = now_pt[i][m];
			} else {
				was_w[i][m] |= now_w[i][m];
				was_pt[i][m] |= now_pt[i][m];
			}
		}
	}
	/* A frame one CPU may see as a page table and another (or the same) as writable. */
	for (unsigned i = 0; i < ndoms; i++)
		for (unsigned j = 0; j < ndoms; j++)
			for (mfn_t m = lo; m < hi; m++) {
				if (now_pt[j][m] && was_w[i][m])
					fail("frame %llu is a page table of domain %u, but domain %u mapped it writable "
					     "with no TLB flush since: a stale writable translation may remain",
					     (unsigned long long)m, j, i);
				if (now_w[i][m] && was_pt[j][m])
					fail("frame %llu is mapped writable by domain %u, but was a page table of domain "
					     "%u with no TLB flush since: a stale paging-structure entry may remain",
					     (unsigned long long)m, i, j);
			}
}

/*
 * mm_audit() reads only the frame table of the domains' frames, their roots
 * and the contents of their validated tables: when none of that changed
 * since the last audit (many calls are refused), its answer cannot have
 * changed either, and it is not run again (it is most of the cost).
 */
static struct page_info *ft_audited;
static uint8_t *pt_audited;                    /* contents of validated frames, from lo */
static mfn_t roots_audited[MAX_DOMS][2];
static unsigned ldt_audited[MAX_DOMS];         /* LDT entries: the copy's size */

NO_COVERAGE static bool changed_since_audit(bool first)
{
	bool changed = first ||
		       memcmp(ft_audited + lo, frame_table + lo, (hi - lo) * sizeof(*frame_table));
	for (unsigned i = 0; i < ndoms && !changed; i++)
		changed = roots_audited[i][0] != mms[i]->vcpu[0].root || roots_audited[i][1] != mms[i]->vcpu[0].user_root ||
			  ldt_audited[i] != mms[i]->vcpu[0].ldt_entries;
	for (mfn_t m = lo; m < hi && !changed; m++)
		if (frame_table[m].flags & PGF_validated)
			changed = memcmp(pt_audited + (m - lo) * PAGE_SIZE, mfn_to_virt(m), PAGE_SIZE);
	if (!changed)
		return false;
	memcpy(ft_audited + lo, frame_table + lo, (hi - lo) * sizeof(*frame_table));
	for (unsigned i = 0; i < ndoms; i++) {
		roots_audited[i][0] = mms[i]->vcpu[0].root;
		roots_audited[i][1] = mms[i]->vcpu[0].user_root;
		ldt_audited[i] = mms[i]->vcpu[0].ldt_entries;
	}
	for (mfn_t m = lo; m < hi; m++)
		if (frame_table[m].flags & PGF_validated)
			memcpy(pt_audited + (m - lo) * PAGE_SIZE, mfn_to_virt(m), PAGE_SIZE);
	return true;
}

NO_COVERAGE static void check_all(bool first)
{
	if (changed_since_audit(first) && mm_audit(mms, ndoms, why, sizeof(why)) != 0)
		fail("mm_audit: %s", why);
	for (unsigned i = 0; i < ndoms; i++)
		if (mms[i]->pending)
			fail("domain %u still owes a TLB flush (0x%x) after the call", i, mms[i]->pending);
	for (mfn_t m = lo; m < hi; m++) {
		if (!(frame_table[m].flags & PGF_validated) || frame_table[m].type != PGT_l4)
			continue;
		const uint64_t *t = mfn_to_virt(m);
		for (unsigned s = 256; s < 272; s++)
			if (t[s])
				fail("L4 frame %llu: hypervisor slot %u holds 0x%llx", (unsigned long long)m, s,
				     (unsigned long long)t[s]);
	}
	tlb_observe(first);
}

/* ---- running ------------------------------------------------------------------ */

/* The first entries of a call whose list lies in the request area (as written, not as read). */
static void trace_entries(unsigned actor, const struct call *c, const char *indent)
{
	uint64_t off = c->a[0] - doms[actor].scratch_va;
	unsigned n = c->count < 4 ? c->count : 4;
	if (off >= sused)
		return;
	for (unsigned i = 0; i < n; i++) {
		if (c->nr == __HYPERVISOR_mmu_update && off + (i + 1) * 16 <= sused) {
			const struct mmu_update *r = (const void *)(sbuf + off) + i * 16;
			printf("%sptr 0x%llx val 0x%llx\n", indent, (unsigned long long)r->ptr,
			       (unsigned long long)r->val);
		} else if (c->nr == __HYPERVISOR_mmuext_op && off + (i + 1) * 24 <= sused) {
			const struct mmuext_op *o = (const void *)(sbuf + off) + i * 24;
			printf("%scmd %u arg1 0x%llx arg2 0x%llx\n", indent, o->cmd,
			       (unsigned long long)o->arg1.mfn, (unsigned long long)o->arg2.src_mfn);
		} else if (c->nr == __HYPERVISOR_multicall && off + (i + 1) * 64 <= sused) {
			const struct multicall_entry *e = (const void *)(sbuf + off) + i * 64;
			struct call sub = { .nr = e->op, .count = (uint32_t)e->args[1] };
			memcpy(sub.a, e->args, sizeof(sub.a));
			printf("%s[%u] hypercall %llu (0x%llx, 0x%llx, 0x%llx, 0x%llx)\n", indent, i,
			       (unsigned long long)e->op, (unsigned long long)e->args[0],
			       (unsigned long long)e->args[1], (unsigned long long)e->args[2],
			       (unsigned long long)e->args[3]);
			trace_entries(actor, &sub, "      ");
		}
	}
}

/*
 * A single request that was applied did what it asked. Known only when the
 * list the hypervisor read is the copy we wrote; the frame *pdone lands in
 * is left out (the batch writes it after the request).
 */
static struct {
	bool known;
	struct mmu_update u;
	struct mmuext_op x;
	uint64_t old;                  /* mmu_update: the entry before */
	uint8_t src[PAGE_SIZE];        /* COPY_PAGE: the source before */
	mfn_t pdone_mfn;
} req;

static uint64_t adjusted(uint64_t e)
{
	return e & PTE_P ? (e | PTE_U) & ~PTE_G : e;
}

NO_COVERAGE static void applied_before(unsigned actor, const struct call *c, bool written)
{
	uint64_t off = c->a[0] - doms[actor].scratch_va;
	const void *mem;

	req.known = false;
	if (is_uvm(c)) {
		req.known = true;
		return;
	}
	if (!written || off >= sused ||
	    (c->nr != __HYPERVISOR_mmu_update && c->nr != __HYPERVISOR_mmuext_op))
		return;
	req.known = true;
	req.pdone_mfn = c->a[2] ? va_to_mfn(doms[actor].d, c->a[2]) : INVALID_MFN;
	if (c->nr == __HYPERVISOR_mmu_update) {
		memcpy(&req.u, sbuf + off, sizeof(req.u));
		if (!entry_at(req.u.ptr & ~7ull, &req.old))
			req.known = false;
		return;
	}
	memcpy(&req.x, sbuf + off, sizeof(req.x));
	if (req.x.cmd == MMUEXT_COPY_PAGE && (mem = mfn_to_virt(req.x.arg2.src_mfn)) != NULL)
		memcpy(req.src, mem, PAGE_SIZE);
}

NO_COVERAGE static void applied_check(unsigned actor, const struct call *c)
{
	const struct domain_mm *mm = mms[actor];
	uint64_t now = 0;

	if (!req.known)
		return;
	if (is_uvm(c)) {
		mfn_t t;
		unsigned slot;
		if (!slot_of(doms[actor].d, c->a[0], 1, &t, &slot) ||
		    !entry_at(t << PAGE_SHIFT | slot << 3, &now) || now != adjusted(c->a[1]))
			fail("update_va_mapping done, yet the entry is 0x%llx", (unsigned long long)now);
		return;
	}
	if (c->nr == __HYPERVISOR_mmu_update) {
		uint64_t ptr = req.u.ptr & ~7ull, val = req.u.val;
		mfn_t m = ptr >> PAGE_SHIFT;
		switch (req.u.ptr & 3) {
		case MMU_MACHPHYS_UPDATE:
			if (machine_to_phys[m] != val)
				fail("MACHPHYS_UPDATE done, yet M2P[%llu] is 0x%llx", (unsigned long long)m,
				     (unsigned long long)machine_to_phys[m]);
			return;
		case MMU_NORMAL_PT_UPDATE: case MMU_PT_UPDATE_PRESERVE_AD: {
			const struct page_info *was = &ft_before[m];
			bool table = was->type_count && was->type >= PGT_l1 && was->type <= PGT_l4;
			uint64_t want = !table ? val
				: adjusted(val | ((req.u.ptr & 3) == MMU_PT_UPDATE_PRESERVE_AD
						  ? req.old & (PTE_A | PTE_D) : 0));
			if (m != req.pdone_mfn && (!entry_at(ptr, &now) || now != want))
				fail("mmu_update of 0x%llx done, yet it holds 0x%llx, not 0x%llx",
				     (unsigned long long)ptr, (unsigned long long)now, (unsigned long long)want);
			return;
		}
		}
		return;
	}
	mfn_t m = req.x.arg1.mfn;
	const struct page_info *pg = mfn_to_page(m);
	const uint8_t *mem = mfn_to_virt(m);
	switch (req.x.cmd) {
	case MMUEXT_PIN_L1_TABLE: case MMUEXT_PIN_L2_TABLE: case MMUEXT_PIN_L3_TABLE:
	case MMUEXT_PIN_L4_TABLE:
		if (!pg || pg->type != PGT_l1 + req.x.cmd - MMUEXT_PIN_L1_TABLE ||
		    (pg->flags & (PGF_pinned | PGF_validated)) != (PGF_pinned | PGF_validated))
			fail("pinned, yet frame %llu is not a pinned table of that level", (unsigned long long)m);
		return;
	case MMUEXT_UNPIN_TABLE:
		if (!pg || (pg->flags & PGF_pinned))
			fail("unpinned, yet frame %llu is pinned", (unsigned long long)m);
		return;
	case MMUEXT_NEW_BASEPTR:
		if (mm->vcpu[0].root != m)
			fail("NEW_BASEPTR %llu done, yet the root is %llu", (unsigned long long)m,
			     (unsigned long long)mm->vcpu[0].root);
		return;
	case MMUEXT_NEW_USER_BASEPTR:
		if (mm->vcpu[0].user_root != (m ? m : INVALID_MFN))
			fail("NEW_USER_BASEPTR %llu done, yet the user root is %llu", (unsigned long long)m,
			     (unsigned long long)mm->vcpu[0].user_root);
		return;
	case MMUEXT_CLEAR_PAGE:
		for (unsigned i = 0; m != req.pdone_mfn && i < PAGE_SIZE; i++)
			if (mem[i])
				fail("CLEAR_PAGE of %llu done, yet byte %u is 0x%x", (unsigned long long)m, i, mem[i]);
		return;
	case MMUEXT_COPY_PAGE:
		if (m != req.pdone_mfn && memcmp(mem, req.src, PAGE_SIZE))
			fail("COPY_PAGE to %llu done, yet it differs from the source", (unsigned long long)m);
		return;
	case MMUEXT_SET_LDT:
		if (mm->vcpu[0].ldt_entries != req.x.arg2.nr_ents ||
		    (mm->vcpu[0].ldt_entries && mm->vcpu[0].ldt_base != req.x.arg1.linear_addr))
			fail("SET_LDT(0x%llx, %u) done, yet the LDT is %u entries at 0x%llx",
			     (unsigned long long)req.x.arg1.linear_addr, req.x.arg2.nr_ents, mm->vcpu[0].ldt_entries,
			     (unsigned long long)mm->vcpu[0].ldt_base);
		return;
	}
}

static void run_call(unsigned actor, const struct call *c)
{
	bool single = c->count == 1 && c->nr != __HYPERVISOR_multicall &&
		      !(!is_uvm(c) && (c->a[1] & MMU_UPDATE_PREEMPTED));
	cur_call = c;
	bool written = scratch_write(actor);
	if (single) {
		snapshot();
		applied_before(actor, c, written);
	}
	unsigned restarts;
	long rc = hosted_hypercall(c->nr, c->a[0], c->a[1], c->a[2], c->a[3], c->a[4], &restarts);
	cur_rc = rc;
	if (trace) {
		printf("op %u: d%u hypercall %llu (0x%llx, 0x%llx, 0x%llx, 0x%llx) = %ld, %u restarts;"
		       " flush clocks", op_no, actor, (unsigned long long)c->nr,
		       (unsigned long long)c->a[0], (unsigned long long)c->a[1],
		       (unsigned long long)c->a[2], (unsigned long long)c->a[3], rc, restarts);
		for (unsigned i = 0; i < ndoms; i++)
			printf(" %u", mms[i]->clock);
		printf("\n");
		trace_entries(actor, c, "  ");
		fflush(stdout);
	}
	if (rc == -VIREO_ERESTART)
		fail("a continuation reached the guest");
	check_all(false);

	uint32_t done = 0;
	bool pdone_ok = false;
	if (c->nr == __HYPERVISOR_mmu_update || c->nr == __HYPERVISOR_mmuext_op) {
		/* Is *pdone where the batch could write it (then its value is the batch's)? */
		if (c->a[2] && copy_from_guest(&done, c->a[2], sizeof(done)) == 0 &&
		    copy_to_guest(c->a[2], &done, sizeof(done)) == 0)
			pdone_ok = true;
		/*
		 * Across continuations the count lives in the guest's *pdone, which
		 * the batch itself may have remapped in between: checked without.
		 */
		if (c->pdone_checked && pdone_ok && restarts == 0) {
			if (done > c->count || (rc == 0 && done != c->count))
				fail("*pdone is %u after a batch of %u", done, c->count);
		}
	}
	if (single && rc >= 0)
		applied_check(actor, c);
	if (!single || rc >= 0)
		return;
	/* Refused: nothing changed (unless only the vCPU bitmap was unreadable, as on Xen). */
	if (is_uvm(c)) {
		if (rc == -VIREO_EFAULT && !(c->a[2] & UVMF_ALL) && (c->a[2] & ~7ull))
			return;                   /* applied, then the vCPU bitmap was unreadable */
	} else if (c->pdone_checked && pdone_ok && done != 0) {
		fail("refused (%ld) yet *pdone says %u done", rc, done);
	}
	check_unchanged();
}

/*
 * Writable page tables: the guest writes one of its L1 tables directly, the
 * write faults, and the fault handler has mm/ptwr.c emulate it (the arch
 * part, decoding CR2 and the guest's registers, is not here). The
 * instruction is one of the forms emulated, or noise.
 */
static void emulate_pt_write(unsigned actor, struct in *in)
{
	const struct dom *x = &doms[actor];
	struct domain_mm *mm = mms[actor];
	unsigned k = take1(in), idx = take2(in);
	uint64_t va;
	uint8_t insn[16];
	unsigned n = 0;
	struct ptwr_regs regs;

	if (!(k & 0x80)) {
		struct call on = { .nr = __HYPERVISOR_vm_assist,
				   .a = { VMASST_CMD_enable, VMASST_TYPE_writable_pagetables } };
		run_call(actor, &on);
	}
	/* Mostly an entry of a bootstrap table (the last ones are its L1s) or of a pool frame. */
	switch (k % 4) {
	case 0: case 1:
		va = va_of(x, x->pt_pfn0 + x->nr_pt - 1 - idx % x->nr_pt) + (take2(in) % 512) * 8;
		break;
	case 2:
		va = va_of(x, x->pool[idx % POOL]) + (take2(in) % 512) * 8;
		break;
	default:
		va = pick_va(actor, in);
		break;
	}
	unsigned form = take1(in), modrm = take1(in);
	if (form & 0x80) {
		n = 1 + form % 15;
		for (unsigned i = 0; i < n; i++)
			insn[i] = (uint8_t)take1(in);
	} else {
		if (form & 0x10)
			insn[n++] = 0xF0;                          /* LOCK */
		insn[n++] = form & 0x20 ? 0x40 | (form & 7) : 0x48 | (form & 4);   /* REX: W, R */
		switch (form % 4) {
		case 0: insn[n++] = 0x89; break;
		case 1: insn[n++] = 0xC7; modrm &= ~0x38u; break;
		case 2: insn[n++] = 0x87; break;
		default: insn[n++] = 0x0F; insn[n++] = 0xB1; break;
		}
		insn[n++] = (uint8_t)modrm;
		for (unsigned i = 0; i < 9; i++)               /* SIB, displacement, immediate */
			insn[n++] = (uint8_t)take1(in);
		if (form & 0x40)
			n -= 1 + take1(in) % n;                    /* cut short */
	}
	uint64_t ptr = 0, l1e, v;
	mfn_t t;
	unsigned slot;
	if (slot_of(x->d, va, 1, &t, &slot) && entry_at(t << PAGE_SHIFT | slot << 3, &l1e) &&
	    (l1e & PTE_P))
		ptr = (l1e & PTE_ADDR) | (va & (PAGE_SIZE - 1));   /* the entry the write is aimed at */
	v = pick_val(actor, in, ptr);
	for (unsigned i = 0; i < 16; i++)
		regs.gpr[i] = v;
	regs.rflags = 0x202;
	if (form & 8)
		regs.gpr[0] = take(in, 8);                     /* cmpxchg: another old value */
	else if (ptr)
		entry_at(ptr, &regs.gpr[0]);                   /* cmpxchg: the old value, so it writes */
	struct ptwr_insn d;
	bool decoded = ptwr_decode(insn, n, &d) == 0;
	uint64_t want = !decoded ? 0 : d.reg == ~0u ? d.imm : regs.gpr[d.reg], old = 0;
	bool writes = decoded && ptr && entry_at(ptr, &old) &&
		      (d.op != PTWR_CMPXCHG || regs.gpr[0] == old);   /* cmpxchg writes when equal */

	struct call c = { .nr = PTWR_CALL, .count = 1, .a = { va, n } };
	unsigned advance = 0;
	cur_call = &c;
	snapshot();
	int rc = ptwr_emulate(mm, &mm->vcpu[0], va, insn, n, &regs, &advance);
	cur_rc = rc;
	if (trace) {
		printf("op %u: d%u ptwr at 0x%llx, %u bytes:", op_no, actor, (unsigned long long)va, n);
		for (unsigned i = 0; i < n; i++)
			printf(" %02x", insn[i]);
		printf(" = %d\n", rc);
		fflush(stdout);
	}
	check_all(false);
	if (rc < 0) {
		check_unchanged();
		return;
	}
	if (!decoded || advance != d.len)
		fail("ptwr: emulated %u bytes of %u, the instruction is %u", advance, n, decoded ? d.len : 0);
	uint64_t now = 0;
	if (writes && (!entry_at(ptr, &now) || now != adjusted(want)))
		fail("ptwr: the entry at 0x%llx is 0x%llx after writing 0x%llx", (unsigned long long)ptr,
		     (unsigned long long)now, (unsigned long long)want);
	if (!writes && ptr && entry_at(ptr, &now) && now != old)
		fail("ptwr: a cmpxchg that compared unequal changed 0x%llx", (unsigned long long)ptr);
	if (d.op != PTWR_MOV && d.reg < 16 && regs.gpr[d.op == PTWR_XCHG ? d.reg : 0] != old)
		fail("ptwr: the register did not get the old entry 0x%llx", (unsigned long long)old);
}

/*
 * The input: a configuration byte (bits 0-1: three domains when both set;
 * bits 2-3: domains 0 and 1 of 5 MiB; bits 4-5: which is privileged; bit 7:
 * a pseudo-random tail after the input), then operations, each a byte (low
 * four bits: what; next two: which domain acts) and its arguments.
 */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int ready;
	struct in in = { data, data + size, false, 0x9E3779B97F4A7C15ull };

	if (!ready) {
		setup_once();
		ft_before = calloc(frame_table_frames, sizeof(*ft_before));
		m2p_before = calloc(frame_table_frames, sizeof(*m2p_before));
		for (unsigned i = 0; i < MAX_DOMS; i++) {
			was_w[i] = calloc(frame_table_frames, 1);
			was_pt[i] = calloc(frame_table_frames, 1);
			now_w[i] = calloc(frame_table_frames, 1);
			now_pt[i] = calloc(frame_table_frames, 1);
			rem_w[i] = calloc(frame_table_frames, 1);
			rem_pt[i] = calloc(frame_table_frames, 1);
		}
		hosted_set_tlb_flush_hook(on_remote_flush);
		ft_audited = calloc(frame_table_frames, sizeof(*ft_audited));
		pt_audited = malloc(MACHINE_MEM);
		ready = 1;
	}
	const uint64_t preempt_saved = hypercall_preempt_tsc;
	if (frame_count_limit != COUNT_LIMIT_DEFAULT)
		abort();

	/*
	 * Two or three domains, one privileged, of 4 MiB (all mapped at start of
	 * day) or 5 MiB (the last 256 pfns not mapped).
	 */
	unsigned cfg = take1(&in);
	for (size_t i = 0; i < size; i++)
		in.rng = (in.rng ^ data[i]) * 0x100000001B3ull;
	in.rng |= 1;
	ndoms = 2 + ((cfg & 3) == 3);
	lo = ~(mfn_t)0;
	hi = 0;
	for (unsigned i = 0; i < ndoms; i++) {
		uint64_t mib = i < 2 && ((cfg >> (2 + i)) & 1) ? 5 : 4;
		bool priv = i == ((cfg >> 4) & 3) % ndoms;
		if (domain_build(i, "fuzz", kernel, kernel_len, NULL, 0, "fuzz", mib << 20, priv, 1) != 0)
			abort();
		dom_init(&doms[i], domain_by_id(i));
		mms[i] = &doms[i].d->mm;
	}
	remote = cfg & 0x40;
	for (unsigned i = 0; remote && i < ndoms; i++) {
		mm_cpu_enter(mms[i], cpu_id());
		mm_cpu_enter(mms[i], REMOTE_CPU(i));
	}
	op_no = 0;
	cur_call = NULL;
	check_all(true);

	in.tail = cfg & 0x80;
	if (setjmp(bail) == 0) {
		for (op_no = 1; op_no <= MAX_OPS && more(&in); op_no++) {
			unsigned o = take1(&in), actor = (o >> 4) % ndoms;
			struct call c;
			bool ok = true;

			if (doms[actor].ended)
				continue;
			hosted_switch_to(doms[actor].d);
			scratch_reset();
			cur_call = NULL;
			switch (o % 16) {
			case 0: case 1: case 2: case 3: case 4:
				ok = make_mmu_update(actor, &in, &c, false);
				break;
			case 5: case 6: case 7:
				ok = make_mmuext_op(actor, &in, &c);
				break;
			case 8: case 9:
				make_update_va_mapping(actor, &in, &c);
				break;
			case 10: case 11:
				ok = make_multicall(actor, &in, &c, 0);
				break;
			case 12:
				hypercall_preempt_tsc = hypercall_preempt_tsc == 1 ? preempt_saved : 1;
				continue;
			case 13: {
				unsigned l = take1(&in);
				frame_count_limit = l & 0x80 ? COUNT_LIMIT_DEFAULT : 3 + l % 18;
				continue;
			}
			case 14:
				ok = make_mmu_update(actor, &in, &c, true);
				break;
			default: {
				unsigned k = take1(&in);
				if (k % 4 == 2) {
					emulate_pt_write(actor, &in);
					continue;
				}
				if (k % 4 == 3) {
					make_other(actor, &in, &c, k >> 2);
					break;
				}
				if (k % 32 == 1) {
					/* The domain ends: what others map of it stays, orphaned. */
					hosted_switch_to(NULL);
					mm_cpus_leave_all(mms[actor]);
					domain_release_memory(doms[actor].d);
					doms[actor].ended = true;
					check_all(false);
					continue;
				}
				/* The guest writes entries into its own memory, where it may. */
				uint64_t va = pick_va(actor, &in) & ~7ull;
				unsigned n = 1 + take1(&in) % 8;
				for (unsigned i = 0; i < n; i++) {
					uint64_t e = (any_frame(actor, take1(&in), take2(&in)) << PAGE_SHIFT) |
						     pte_flags(take1(&in));
					(void)copy_to_guest(va + 8 * i, &e, sizeof(e));
				}
				continue;         /* only writable frames: nothing to audit */
			}
			}
			if (ok)
				run_call(actor, &c);
		}
	}
	cur_call = NULL;

	hypercall_preempt_tsc = preempt_saved;
	frame_count_limit = COUNT_LIMIT_DEFAULT;
	for (unsigned i = 0; i < ndoms; i++)
		mm_cpus_leave_all(mms[i]);
	for (unsigned i = 0; i < ndoms; i++)
		domain_destroy(doms[i].d);
	hosted_switch_to(NULL);
	if (frame_nr_free() != free_at_start)
		fail("%llu frames leaked", (unsigned long long)(free_at_start - frame_nr_free()));
	if (hypercall_preempt_tsc != preempt_saved || frame_count_limit != COUNT_LIMIT_DEFAULT)
		abort();
	return 0;
}
