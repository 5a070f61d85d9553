/*
 * mmu: the PV MMU test guest. Two modes, chosen by its command line:
 *
 * "workload" (the default; "mib=N" sets the size, 4 MiB by default): what a
 * PV kernel does at fork and exit, a few rounds over the same frames:
 *   1. clear N MiB of data frames (MMUEXT_CLEAR_PAGE, batched: the frames
 *      are the domain's but past its start-of-day mapping, so unmapped);
 *   2. fill new tables in place (L4, L3, L2, N/2 L1s, from the mapped free
 *      frames past the boot stack): the L4 is a copy of the current L4's
 *      guest entries (so the kernel mapping carries on after the switch)
 *      plus slot 0 -> L3 -> L2 -> L1s for the user half; the L1s start empty;
 *   3. make the table pages read-only (update_va_mapping), pin the L4
 *      (PIN_L4_TABLE validates the whole tree);
 *   4. map the data frames through the queue (mmu_update batches), check
 *      the entries by walking the new tables through their read-only mappings;
 *   5. NEW_BASEPTR to the new L4; check every page reads as zero, write a
 *      pattern through all of them, read it back, check the CPU set the
 *      accessed and dirty bits, COPY_PAGE one frame onto another ("COW");
 *   6. NEW_BASEPTR back, check the user half is gone, unpin the L4;
 *   7. tear-down: every table page can be mapped writable again, and every
 *      data frame can become a page table (PIN_L1/UNPIN after a clear):
 *      all type references were dropped.
 *
 * "attack": each refusal of the rule set (mm/frame_table.c) tried once, one
 * line per case with the result and "ok" when it is the expected one, over
 * a scratch tree (L3 -> L2 -> L1) hooked into L4 slot 1:
 *   - foreign frames at every level and in every command (-EPERM); frames
 *     past RAM (I/O: allowed to the privileged domain only);
 *   - writable mappings of page tables, CLEAR/COPY_PAGE onto tables, pins of
 *     writable pages and of tables that map a table writable (-EBUSY);
 *   - pins, unpins and roots: double pin/unpin, unpin of what is not pinned
 *     (-EINVAL), NEW_BASEPTR / NEW_USER_BASEPTR at garbage (-EINVAL), at a
 *     table naming a foreign frame (-EPERM), at L1s and writable pages (-EBUSY);
 *   - superpages, bits 52..62, cache attributes (-EINVAL), the hypervisor's
 *     L4 slots (-EINVAL), linear and level-confused entries (-EBUSY), bad
 *     pointers (-EFAULT);
 *   - batches: 100,000 entries (preempted and continued, done == 100000),
 *     a bad 5th entry (done == 4, the first four applied), a bad entry after
 *     50,000 (done counted across continuations), a multicall of good and bad
 *     entries (one result each) and one holding a 100,000-entry batch;
 *   - stale translations: a frame whose writable mapping went away without a
 *     flush becomes a page table (by pin, in a multicall, by releasing a whole
 *     L1, by hooking it in a batch): writes through the old address must
 *     fault (a #PF handler catches them, pf.S), and the hypervisor's own
 *     *pdone write must not land in the new table either;
 *   - the start-of-day L4 unpinned while another L4 is the root: it may be
 *     mapped writable and scribbled on, and becoming a root again validates
 *     it afresh and restores the hypervisor's slots;
 *   - writable page tables (vm_assist): direct writes of each emulated form
 *     are applied, refused values, other forms and non-L1 targets fault;
 * and checks at the end that ordinary updates still work and that the
 * scratch tree comes apart with every type dropped.
 *
 * Every step prints "ok" or "FAIL"; the guest exits 0 only if all pass.
 * Lines are kept short: the hypervisor lets a domain print a 16 KiB burst
 * and then 4 KiB/s (core/hypercall.c), and the attack mode prints about
 * 11 KiB in well under a second; what goes over the budget is dropped.
 */
#include "guest.h"
#include "hypercall.h"
#include "pt.h"

#include <public/arch-x86_64.h>
#include <public/memory.h>
#include <public/vcpu.h>
#include <public/version.h>

#define MAX_MIB     16
#define MAX_DATA    (MAX_MIB * 256)
#define MAX_L1      (MAX_MIB / 2)
#define ROUNDS      3

/* The workload's user mapping: L4 slot 0, L3 slot 1, L2 slots 0.. */
#define USER_VA     0x0000000040000000ul

/* The attack scratch tree: L4 slot 1, L3 slot 0, L2 slot 0, L1 slots 0..511. */
#define SCR_L4SLOT  1
#define SCR_VA      0x0000008000000000ul

#define HV_ADDR     0xffff830000000000ul

#define FLAGS_RW    (PTE_P | PTE_W | PTE_U | PTE_A)
#define FLAGS_RO    (PTE_P | PTE_U | PTE_A)

static unsigned failures;
static char cmdline[MAX_GUEST_CMDLINE + 1];

static inline uint64_t rdtsc(void)
{
	uint32_t lo, hi;
	__asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
	return ((uint64_t)hi << 32) | lo;
}

/* A workload step: "mmu: <what> ok" or "... FAIL", one console write per line. */
#define step(ok_expr, fmt, ...)                                                                 \
	do {                                                                                    \
		bool ok_ = (ok_expr);                                                           \
		console_printf("mmu: " fmt " %s\n", ##__VA_ARGS__, ok_ ? "ok" : "FAIL");        \
		failures += !ok_;                                                               \
	} while (0)

/* An attack case: the result and "ok" if it is the expected one. */
static unsigned cases;

static void expect(const char *what, long got, long want)
{
	cases++;
	if (got == want)
		console_printf("mmu: %s: %ld%s%s ok\n", what, got, got < 0 ? " " : "", got < 0 ? pt_errname(got) : "");
	else
		console_printf("mmu: %s: %ld%s%s FAIL (want %ld%s%s)\n", what, got, got < 0 ? " " : "",
			       got < 0 ? pt_errname(got) : "", want, want < 0 ? " " : "", want < 0 ? pt_errname(want) : "");
	failures += got != want;
}

static void check(const char *what, bool ok)
{
	cases++;
	console_printf("mmu: %s: %s\n", what, ok ? "ok" : "FAIL");
	failures += !ok;
}

static unsigned long option(const char *name, unsigned long dflt)
{
	const char *p = strstr(cmdline, name);
	unsigned long v = 0;

	if (!p)
		return dflt;
	p += strlen(name);
	if (*p < '0' || *p > '9')
		return dflt;
	while (*p >= '0' && *p <= '9')
		v = v * 10 + (unsigned long)(*p++ - '0');
	return v;
}

/* A frame that is not ours, near `from` (a search of our P2M list). */
static uint64_t foreign_mfn(uint64_t from)
{
	for (uint64_t m = from;; m++)
		if (pt_mfn_to_pfn(m) == PT_NO_FRAME)
			return m;
}

/* A mapped free page, its pfn and mfn; the guest exits when there is none. */
struct page {
	uint64_t *va;
	uint64_t pfn, mfn;
};

static bool alloc_mapped(struct page *p)
{
	p->pfn = pt_alloc_mapped_pfn();
	if (p->pfn == PT_NO_FRAME) {
		console_printf("mmu: out of mapped free frames FAIL\n");
		failures++;
		return false;
	}
	p->va = pt_pfn_to_va(p->pfn);
	p->mfn = pt_pfn_to_mfn(p->pfn);
	return true;
}

static bool alloc_unmapped(uint64_t *mfn)
{
	uint64_t pfn = pt_alloc_unmapped_pfn();

	if (pfn == PT_NO_FRAME) {
		console_printf("mmu: out of unmapped free frames FAIL\n");
		failures++;
		return false;
	}
	*mfn = pt_pfn_to_mfn(pfn);
	return true;
}

/* ---- the workload -------------------------------------------------------------- */

static uint64_t data_mfn[MAX_DATA];
static struct page l4, l3, l2, l1[MAX_L1];
static struct mmuext_op ops[512];
static struct mmu_update qbuf[512];

/* Batched mmuext_op of one command over mfns (in 512s). Returns the first error. */
static long ext_all(unsigned cmd, const uint64_t *mfn, unsigned n, unsigned *calls)
{
	for (unsigned i = 0; i < n;) {
		unsigned k = n - i < ARRAY_SIZE(ops) ? n - i : ARRAY_SIZE(ops), done = 0;

		for (unsigned j = 0; j < k; j++) {
			memset(&ops[j], 0, sizeof(ops[j]));
			ops[j].cmd = cmd;
			ops[j].arg1.mfn = mfn[i + j];
		}
		long rc = hyp_mmuext_op(ops, k, &done, DOMID_SELF);
		(*calls)++;
		if (rc || done != k)
			return rc ? rc : -XEN_EINVAL;
		i += k;
	}
	return 0;
}

static uint64_t pattern(unsigned page, unsigned word, unsigned round)
{
	return ((uint64_t)page << 32 | word) * 0x9e3779b97f4a7c15ull ^ round;
}

static bool workload_round(unsigned round, unsigned mib)
{
	unsigned ndata = mib * 256, nl1 = (mib + 1) / 2, calls = 0;
	unsigned bad = 0;
	long rc;

	console_printf("mmu: -- round %u: %u MiB, %u data frames, %u L1 tables\n", round, mib, ndata, nl1);

	/* 1. Fresh data frames. */
	rc = ext_all(MMUEXT_CLEAR_PAGE, data_mfn, ndata, &calls);
	step(rc == 0, "clear %u data frames: %ld in %u mmuext_op batches", ndata, rc, calls);

	/* 2. The tables, filled in place while they are still ordinary writable pages. */
	const uint64_t *cur = pt_table(pt.root_mfn);
	unsigned copied = 0;
	for (unsigned s = 0; s < PT_ENTRIES; s++) {
		l4.va[s] = (s >= 256 && s < 272) ? 0 : cur[s];
		copied += (s < 256 || s >= 272) && (cur[s] & PTE_P);
	}
	l4.va[0] = pte_make(l3.mfn, FLAGS_RW);
	memset(l3.va, 0, PT_PAGE_SIZE);
	l3.va[PT_INDEX(USER_VA, 3)] = pte_make(l2.mfn, FLAGS_RW);
	memset(l2.va, 0, PT_PAGE_SIZE);
	for (unsigned i = 0; i < nl1; i++) {
		memset(l1[i].va, 0, PT_PAGE_SIZE);
		l2.va[PT_INDEX(USER_VA, 2) + i] = pte_make(l1[i].mfn, FLAGS_RW);
	}
	step(copied > 0, "new L4: %u kernel entries copied from the current L4, slot 0 for the user half",
	     copied);

	/* 3. Read-only, then pinned: the hypervisor validates the whole tree. */
	rc = 0;
	unsigned ro = 0;
	for (unsigned i = 0; i < nl1 && !rc; i++, ro++)
		rc = pt_set_readonly(l1[i].va);
	if (!rc && !(rc = pt_set_readonly(l2.va)))
		ro++;
	if (!rc && !(rc = pt_set_readonly(l3.va)))
		ro++;
	if (!rc && !(rc = pt_set_readonly(l4.va)))
		ro++;
	step(rc == 0 && !(pt_lookup((uint64_t)l4.va) & PTE_W), "%u table pages made read-only: %ld", ro,
	     rc);
	/* While a page is writable it cannot be a table; now it can. */
	rc = pt_pin(4, l4.mfn);
	step(rc == 0, "pin the new L4 (mfn 0x%lx): %ld", l4.mfn, rc);
	if (rc)
		return false;

	/* 4. Map the data frames, 512 entries a batch. */
	struct mmu_queue q;
	mmuq_init(&q, qbuf, ARRAY_SIZE(qbuf));
	rc = 0;
	for (unsigned i = 0; i < ndata && !rc; i++)
		rc = mmuq_add(&q, pt_slot_ptr(l1[i / 512].mfn, i % 512), pte_make(data_mfn[i], PTE_P | PTE_W | PTE_U));
	if (!rc)
		rc = mmuq_flush(&q);
	step(rc == 0 && q.applied == ndata, "map %u pages: %ld, %lu entries applied in %lu mmu_update batches",
	     ndata, rc, (unsigned long)q.applied, (unsigned long)q.flushes);

	struct pt_walk w;
	bad = 0;
	for (unsigned i = 0; i < ndata; i++) {
		uint64_t va = USER_VA + (uint64_t)i * PT_PAGE_SIZE;
		if (pt_walk_from(l4.mfn, va, &w) != 0 || pte_mfn(w.entry[1]) != data_mfn[i] ||
		    (w.entry[1] & (PTE_P | PTE_W | PTE_U)) != (PTE_P | PTE_W | PTE_U) || w.table[1] != l1[i / 512].mfn)
			bad++;
	}
	step(bad == 0, "walk of the new tables: %u of %u entries wrong", bad, ndata);
	/* The kernel's own mapping is the same in both trees. */
	struct pt_walk w2;
	pt_walk_from(pt.root_mfn, (uint64_t)&cmdline, &w2);
	pt_walk_from(l4.mfn, (uint64_t)&cmdline, &w);
	step(w.level == 0 && w2.level == 0 && w.entry[1] == w2.entry[1],
	     "the kernel mapping is shared (L1 entry 0x%lx)", w.entry[1]);

	/* 5. Switch, touch, switch back. */
	uint64_t old_root = pt.root_mfn;
	rc = pt_new_baseptr(l4.mfn);
	step(rc == 0, "NEW_BASEPTR to the new L4: %ld (still running)", rc);
	if (rc) {
		pt_unpin(l4.mfn);
		return false;
	}
	unsigned nonzero = 0;
	for (unsigned i = 0; i < ndata; i++) {
		volatile uint64_t *p = (volatile uint64_t *)(USER_VA + (uint64_t)i * PT_PAGE_SIZE);
		for (unsigned j = 0; j < 512; j++)
			nonzero += p[j] != 0;
	}
	step(nonzero == 0, "%u pages read as cleared: %u non-zero words", ndata, nonzero);
	for (unsigned i = 0; i < ndata; i++) {
		volatile uint64_t *p = (volatile uint64_t *)(USER_VA + (uint64_t)i * PT_PAGE_SIZE);
		for (unsigned j = 0; j < 512; j++)
			p[j] = pattern(i, j, round);
	}
	bad = 0;
	for (unsigned i = 0; i < ndata; i++) {
		volatile uint64_t *p = (volatile uint64_t *)(USER_VA + (uint64_t)i * PT_PAGE_SIZE);
		for (unsigned j = 0; j < 512; j++)
			bad += p[j] != pattern(i, j, round);
	}
	step(bad == 0, "pattern written through %u pages and read back: %u bad words", ndata, bad);
	unsigned dirty = 0;
	for (unsigned i = 0; i < ndata; i++) {
		uint64_t e = pt_table(l1[i / 512].mfn)[i % 512];
		dirty += (e & (PTE_A | PTE_D)) == (PTE_A | PTE_D);
	}
	step(dirty == ndata, "accessed+dirty set by the CPU in %u of %u L1 entries", dirty, ndata);
	/* A copy-on-write break: frame 1 becomes a copy of frame 0. */
	rc = pt_copy_page(data_mfn[1], data_mfn[0]);
	volatile uint64_t *p1 = (volatile uint64_t *)(USER_VA + PT_PAGE_SIZE);
	bad = 0;
	for (unsigned j = 0; j < 512; j++)
		bad += p1[j] != pattern(0, j, round);
	step(rc == 0 && bad == 0, "COPY_PAGE data frame 0 -> 1: %ld, %u words differ", rc, bad);

	rc = pt_new_baseptr(old_root);
	step(rc == 0, "NEW_BASEPTR back to the previous L4: %ld", rc);
	if (rc)
		return false;
	step(pt_lookup(USER_VA) == 0, "the user half is not mapped in the previous L4");

	/* 6. Exit: unpin, which drops the whole tree. */
	rc = pt_unpin(l4.mfn);
	step(rc == 0, "unpin the new L4: %ld", rc);

	/* 7. Nothing holds a type any more. */
	unsigned rw = 0;
	rc = 0;
	for (unsigned i = 0; i < nl1 && !rc; i++, rw++)
		rc = pt_set_writable(l1[i].va);
	if (!rc && !(rc = pt_set_writable(l2.va)))
		rw++;
	if (!rc && !(rc = pt_set_writable(l3.va)))
		rw++;
	if (!rc && !(rc = pt_set_writable(l4.va)))
		rw++;
	step(rc == 0 && rw == nl1 + 3, "table pages writable again: %u of %u (%ld)", rw, nl1 + 3, rc);
	/* Writable again for real: the next round fills them in place. */
	l4.va[0] = 0;
	calls = 0;
	rc = ext_all(MMUEXT_CLEAR_PAGE, data_mfn, ndata, &calls);
	if (rc == 0) {
		for (unsigned i = 0; i < ndata && rc == 0; i++) {
			struct mmuext_op pu[2] = { { .cmd = MMUEXT_PIN_L1_TABLE }, { .cmd = MMUEXT_UNPIN_TABLE } };
			unsigned done = 0;
			pu[0].arg1.mfn = pu[1].arg1.mfn = data_mfn[i];
			rc = hyp_mmuext_op(pu, 2, &done, DOMID_SELF);
			if (rc == 0 && done != 2)
				rc = -XEN_EINVAL;
		}
	}
	step(rc == 0, "every data frame can be a page table again (clear, PIN_L1, UNPIN): %ld", rc);
	return true;
}

static int workload(void)
{
	unsigned mib = (unsigned)option("mib=", 4);

	if (mib < 1 || mib > MAX_MIB) {
		console_printf("mmu: mib=%u: from 1 to %u FAIL\n", mib, MAX_MIB);
		return 1;
	}
	unsigned ndata = mib * 256, nl1 = (mib + 1) / 2;
	for (unsigned i = 0; i < ndata; i++)
		if (!alloc_unmapped(&data_mfn[i]))
			return 1;
	if (!alloc_mapped(&l4) || !alloc_mapped(&l3) || !alloc_mapped(&l2))
		return 1;
	for (unsigned i = 0; i < nl1; i++)
		if (!alloc_mapped(&l1[i]))
			return 1;
	console_printf("mmu: workload: data frames from pfn %lu (unmapped), tables from pfn %lu (mapped)\n",
		       pt_mfn_to_pfn(data_mfn[0]), l4.pfn);
	for (unsigned r = 1; r <= ROUNDS; r++)
		if (!workload_round(r, mib))
			break;
	console_printf("mmu: workload: %u rounds, %u failure(s)\n", ROUNDS, failures);
	return failures ? 1 : 0;
}

/* ---- the attacks ----------------------------------------------------------------- */

/*
 * Page faults (pf.S): a write that faults resumes at pf_resume. A fault
 * nobody expected (pf_resume 0) ends the guest.
 */
void mmu_pf_entry(void);
void mmu_page_fault(uint64_t *frame);
void mmu_gp_entry(void);
static volatile uint64_t pf_resume, pf_count, pf_error, pf_vector;

void mmu_page_fault(uint64_t *frame)
{
	pf_error = frame[0];
	pf_vector = frame[-1];
	pf_count++;
	if (!pf_resume) {
		console_printf("mmu: unexpected fault %lu at rip 0x%lx, error 0x%lx FAIL\n", frame[-1], frame[1],
			       frame[0]);
		guest_exit(1);
	}
	frame[1] = pf_resume;
}

static struct trap_info pf_table[] = {
	{ 13, 0, FLAT_KERNEL_CS, { 0 }, (uint64_t)mmu_gp_entry },
	{ 14, 0, FLAT_KERNEL_CS, { 0 }, (uint64_t)mmu_pf_entry },
	{ 0, 0, 0, { 0 }, 0 },
};

/* Point the page-fault handler at the local label 1 (asm operand [res] is pf_resume). */
#define RESUME_AT_1 "lea 1f(%%rip), %%r11\n\tmov %%r11, %[res]\n\t"

/* Read va; true if the read faulted. */
static bool read_faults(uint64_t va)
{
	uint64_t before = pf_count;

	__asm__ volatile(RESUME_AT_1 "movq (%%rdi), %%rax\n1:"
			 : [res] "=m"(pf_resume) : "D"(va) : "rax", "r11", "memory");
	pf_resume = 0;
	return pf_count != before;
}

/* Write val at va; true if the write faulted (and so did not happen). */
static bool write_faults(uint64_t va, uint64_t val)
{
	uint64_t before = pf_count;

	__asm__ volatile("lea 1f(%%rip), %%rax\n\tmov %%rax, %0\n\tmovq %2, (%1)\n1:"
			 : "=m"(pf_resume) : "r"(va), "r"(val) : "rax", "memory");
	pf_resume = 0;
	return pf_count != before;
}

static struct page s3, s2, s1, s1b, junk, junk2, tbl;
static uint64_t d_a, d_b, d_c, d_t, d_u;
static struct mmu_update big[100000];
static char bss_page[4096] __attribute__((aligned(4096)));

static long upd(uint64_t table_mfn, unsigned slot, uint64_t val)
{
	return pt_update(pt_slot_ptr(table_mfn, slot), val);
}

/* Hook a fresh scratch tree (L3 -> L2 -> L1, all empty but the chain) into L4 slot 1. */
static bool scratch_setup(void)
{
	if (!alloc_mapped(&s3) || !alloc_mapped(&s2) || !alloc_mapped(&s1) || !alloc_mapped(&junk) ||
	    !alloc_mapped(&junk2) || !alloc_mapped(&tbl) || !alloc_unmapped(&d_a) ||
	    !alloc_unmapped(&d_b) || !alloc_unmapped(&d_c) || !alloc_unmapped(&d_t) ||
	    !alloc_unmapped(&d_u) || !alloc_mapped(&s1b))
		return false;
	memset(s3.va, 0, PT_PAGE_SIZE);
	memset(s2.va, 0, PT_PAGE_SIZE);
	memset(s1.va, 0, PT_PAGE_SIZE);
	s3.va[0] = pte_make(s2.mfn, FLAGS_RW);
	s2.va[0] = pte_make(s1.mfn, FLAGS_RW);
	long rc = pt_set_readonly(s1.va);
	if (!rc)
		rc = pt_set_readonly(s2.va);
	if (!rc)
		rc = pt_set_readonly(s3.va);
	if (!rc)
		rc = upd(pt.root_mfn, SCR_L4SLOT, pte_make(s3.mfn, FLAGS_RW));
	if (!rc)
		rc = pt_clear_page(d_a);
	if (!rc)
		rc = pt_clear_page(d_b);
	if (!rc)
		rc = pt_clear_page(d_c);
	check("scratch tree hooked into L4 slot 1 (L3, L2, L1 validated)", rc == 0);
	return rc == 0;
}

static const uint64_t *S1(void) { return pt_table(s1.mfn); }

static void attacks_foreign(uint64_t f)
{
	uint64_t hi = 0;

	for (uint64_t p = 0; p < pt.nr_pages; p++)
		if (pt.p2m[p] > hi)
			hi = pt.p2m[p];

	console_printf("mmu: -- foreign frames (mfn 0x%lx is not ours)\n", f);
	expect("L1 entry -> foreign frame, writable", upd(s1.mfn, 1, pte_make(f, FLAGS_RW)), -XEN_EPERM);
	expect("L1 entry -> foreign frame, read-only", upd(s1.mfn, 1, pte_make(f, FLAGS_RO)), -XEN_EPERM);
	check("  ... and the entry is still empty", S1()[1] == 0);
	expect("update_va_mapping -> foreign frame",
	       hyp_update_va_mapping(SCR_VA + 2 * PT_PAGE_SIZE, pte_make(f, FLAGS_RO), UVMF_INVLPG),
	       -XEN_EPERM);
	expect("L2 entry -> foreign frame", upd(s2.mfn, 1, pte_make(f, FLAGS_RW)), -XEN_EPERM);
	expect("L3 entry -> foreign frame", upd(s3.mfn, 1, pte_make(f, FLAGS_RW)), -XEN_EPERM);
	expect("L4 entry -> foreign frame", upd(pt.root_mfn, 2, pte_make(f, FLAGS_RW)), -XEN_EPERM);
	expect("mmu_update of an entry in a foreign frame", upd(f, 0, 0), -XEN_EPERM);
	expect("MMU_MACHPHYS_UPDATE of a foreign frame",
	       pt_update((f << PT_PAGE_SHIFT) | MMU_MACHPHYS_UPDATE, 0), -XEN_EPERM);
	expect("CLEAR_PAGE of a foreign frame", pt_clear_page(f), -XEN_EPERM);
	expect("COPY_PAGE from a foreign frame", pt_copy_page(d_a, f), -XEN_EPERM);
	expect("PIN_L1_TABLE of a foreign frame", pt_pin(1, f), -XEN_EPERM);
	expect("UNPIN_TABLE of a foreign frame", pt_unpin(f), -XEN_EPERM);
	expect("NEW_BASEPTR at a foreign frame", pt_new_baseptr(f), -XEN_EPERM);
	/* The frames right around ours belong to someone else, or nobody. */
	uint64_t above = foreign_mfn(hi + 1);
	console_printf("mmu:    (our highest mfn is 0x%lx)\n", hi);
	long rc_above = upd(s1.mfn, 1, pte_make(above, FLAGS_RW));
	if (pt.privileged) {
		/* It may be firmware-reserved (not RAM): an I/O frame the privileged domain may map. */
		check("L1 entry -> the frame above our highest (dom0: refused, or I/O)",
		      rc_above == -XEN_EPERM || rc_above == 0);
		if (rc_above == 0)
			upd(s1.mfn, 1, 0);
	} else {
		expect("L1 entry -> the frame above our highest", rc_above, -XEN_EPERM);
	}
	/*
	 * Far past RAM: for the privileged domain an I/O frame (it may map
	 * those, as Xen's dom0 may map MMIO), for anyone else -EPERM.
	 */
	uint64_t past = 1ull << 30;          /* 4 TiB */
	if (pt.privileged) {
		expect("L1 entry -> a frame past RAM (privileged: I/O, allowed)",
		       upd(s1.mfn, 1, pte_make(past, FLAGS_RO)), 0);
		expect("  ... and removed again", upd(s1.mfn, 1, 0), 0);
		expect("L1 entry -> the local APIC (the hypervisor's)",
		       upd(s1.mfn, 1, pte_make(0xFEE00, FLAGS_RW | PTE_PCD)), -XEN_EPERM);
		expect("L1 entry -> the I/O APIC (the hypervisor's)",
		       upd(s1.mfn, 1, pte_make(0xFEC00, FLAGS_RW | PTE_PCD)), -XEN_EPERM);
		expect("foreigndom = domain 5 (none such)",
		       ({ struct mmu_update r = { pt_slot_ptr(s1.mfn, 1), 0 }; hyp_mmu_update(&r, 1, NULL, 5); }),
		       -XEN_ESRCH);
		expect("foreigndom = page tables of domain 5 (not supported)",
		       ({ struct mmu_update r = { pt_slot_ptr(s1.mfn, 1), 0 };
			  hyp_mmu_update(&r, 1, NULL, (6u << 16) | DOMID_SELF); }),
		       -XEN_EOPNOTSUPP);
	} else {
		expect("L1 entry -> a frame past RAM", upd(s1.mfn, 1, pte_make(past, FLAGS_RO)), -XEN_EPERM);
		expect("foreigndom = DOMID_IO (unprivileged)",
		       ({ struct mmu_update r = { pt_slot_ptr(s1.mfn, 1), 0 }; hyp_mmu_update(&r, 1, NULL, DOMID_IO); }),
		       -XEN_EPERM);
	}
}

static void attacks_writable_tables(void)
{
	uint64_t e;

	console_printf("mmu: -- writable mappings of page tables\n");
	e = pt_lookup(pt.virt_base + (pt.pt_pfn << PT_PAGE_SHIFT));
	expect("update_va_mapping: the L4's own mapping + W",
	       hyp_update_va_mapping(pt.virt_base + (pt.pt_pfn << PT_PAGE_SHIFT), e | PTE_W, UVMF_INVLPG),
	       -XEN_EBUSY);
	check("  ... and it is still read-only", !(pt_lookup(pt.virt_base + (pt.pt_pfn << PT_PAGE_SHIFT)) & PTE_W));
	e = pt_lookup((uint64_t)s1.va);
	expect("mmu_update: the scratch L1's own mapping + W", pt_update(pt_l1e_ptr((uint64_t)s1.va), e | PTE_W),
	       -XEN_EBUSY);
	expect("L1 entry -> the L4, writable", upd(s1.mfn, 4, pte_make(pt.root_mfn, FLAGS_RW)), -XEN_EBUSY);
	expect("L1 entry -> the L4, read-only (allowed)", upd(s1.mfn, 4, pte_make(pt.root_mfn, FLAGS_RO)), 0);
	check("  ... reads the L4 through it",
	      *(volatile uint64_t *)(SCR_VA + 4 * PT_PAGE_SIZE + SCR_L4SLOT * 8) == pt_table(pt.root_mfn)[SCR_L4SLOT]);
	expect("  ... and now + W", upd(s1.mfn, 4, pte_make(pt.root_mfn, FLAGS_RW)), -XEN_EBUSY);
	expect("  ... removed", upd(s1.mfn, 4, 0), 0);
	expect("CLEAR_PAGE of the L4 in use", pt_clear_page(pt.root_mfn), -XEN_EBUSY);
	expect("COPY_PAGE onto the scratch L1", pt_copy_page(s1.mfn, d_a), -XEN_EBUSY);
	/* A table whose entry maps a table writable fails validation, and leaves no trace. */
	memset(tbl.va, 0, PT_PAGE_SIZE);
	tbl.va[7] = pte_make(pt.root_mfn, FLAGS_RW);
	expect("make a page read-only (for the next cases)", pt_set_readonly(tbl.va), 0);
	expect("PIN_L1 of a table mapping the L4 writable", pt_pin(1, tbl.mfn), -XEN_EBUSY);
	expect("  ... the page can be writable again", pt_set_writable(tbl.va), 0);
	expect("PIN_L1 of a writable-mapped page (.bss)", pt_pin(1, pt_va_to_mfn(bss_page)), -XEN_EBUSY);
	expect("PIN_L2 of the scratch L1 (type in use)", pt_pin(2, s1.mfn), -XEN_EBUSY);
	expect("L2 entry -> the scratch L2 itself", upd(s2.mfn, 3, pte_make(s2.mfn, FLAGS_RO)), -XEN_EBUSY);
}

static void attacks_pins_and_roots(void)
{
	console_printf("mmu: -- pins and roots\n");
	expect("UNPIN a data frame (never pinned)", pt_unpin(d_a), -XEN_EINVAL);
	expect("UNPIN the scratch L1 (in use, not pinned)", pt_unpin(s1.mfn), -XEN_EINVAL);
	memset(tbl.va, 0, PT_PAGE_SIZE);
	expect("make a page read-only", pt_set_readonly(tbl.va), 0);
	expect("PIN_L1 of a cleared page", pt_pin(1, tbl.mfn), 0);
	expect("PIN_L1 of it again (already pinned)", pt_pin(1, tbl.mfn), -XEN_EINVAL);
	expect("NEW_BASEPTR at the L1-pinned page", pt_new_baseptr(tbl.mfn), -XEN_EBUSY);
	expect("UNPIN it", pt_unpin(tbl.mfn), 0);
	expect("UNPIN it twice", pt_unpin(tbl.mfn), -XEN_EINVAL);
	expect("  ... the page can be writable again", pt_set_writable(tbl.va), 0);
	/*
	 * The current root is pinned and in use: unpinning it is allowed (as
	 * on Xen: the root holds its own reference), and it can be pinned again.
	 */
	expect("UNPIN the current root L4 (its root reference remains)", pt_unpin(pt.root_mfn), 0);
	expect("  ... PIN_L4 it again", pt_pin(4, pt.root_mfn), 0);

	/* Not an L4: garbage, a table naming a foreign frame, a writable page. */
	memset(junk.va, 0xff, PT_PAGE_SIZE);
	expect("make a page of all-ones read-only", pt_set_readonly(junk.va), 0);
	expect("NEW_BASEPTR at the all-ones page", pt_new_baseptr(junk.mfn), -XEN_EINVAL);
	expect("PIN_L4 of the all-ones page", pt_pin(4, junk.mfn), -XEN_EINVAL);
	memset(junk2.va, 0, PT_PAGE_SIZE);
	junk2.va[3] = pte_make(foreign_mfn(0x100), FLAGS_RO);
	expect("make a page naming a foreign frame read-only", pt_set_readonly(junk2.va), 0);
	expect("NEW_BASEPTR at a page whose entry names a foreign frame", pt_new_baseptr(junk2.mfn), -XEN_EPERM);
	expect("NEW_BASEPTR at a writable-mapped page (.bss)", pt_new_baseptr(pt_va_to_mfn(bss_page)), -XEN_EBUSY);
	expect("NEW_BASEPTR at the scratch L1 (in use as L1)", pt_new_baseptr(s1.mfn), -XEN_EBUSY);
	check("  ... still running on the start-of-day L4", pt.root_mfn == pt.boot_l4_mfn);
	expect("  ... the all-ones page can be writable again", pt_set_writable(junk.va), 0);
	expect("  ... the foreign-naming page too", pt_set_writable(junk2.va), 0);
}

static void attacks_flags(void)
{
	console_printf("mmu: -- flags, hypervisor slots, linear page tables\n");
	expect("L2 entry with PS (2 MiB superpage)", upd(s2.mfn, 1, pte_make(d_a, FLAGS_RW | PTE_PS)), -XEN_EINVAL);
	expect("L3 entry with PS (1 GiB superpage)", upd(s3.mfn, 1, pte_make(d_a, FLAGS_RW | PTE_PS)), -XEN_EINVAL);
	/* Software bits 52..62 and cache attributes of L1 entries are the guest's (as Xen; Linux uses them). */
	expect("L1 entry with bits 52 and 58 set (allowed)", upd(s1.mfn, 1, pte_make(d_a, FLAGS_RW) | 1ull << 52 | 1ull << 58), 0);
	expect("L1 entry with PCD on RAM (allowed)", upd(s1.mfn, 1, pte_make(d_a, FLAGS_RW | PTE_PCD)), 0);
	expect("L1 entry, plain again", upd(s1.mfn, 1, pte_make(d_a, FLAGS_RW)), 0);
	check("  ... entry as written", pte_mfn(S1()[1]) == d_a && !(S1()[1] & PTE_AVAIL_HIGH));
	expect("  ... removed", upd(s1.mfn, 1, 0), 0);
	expect("L2 entry -> L1 with PCD", upd(s2.mfn, 0, pte_make(s1.mfn, FLAGS_RW | PTE_PCD)), -XEN_EINVAL);

	expect("L4 slot 256 (hypervisor's) := 0", upd(pt.root_mfn, 256, 0), -XEN_EINVAL);
	expect("L4 slot 271 (hypervisor's) := the scratch L3",
	       upd(pt.root_mfn, 271, pte_make(s3.mfn, FLAGS_RW)), -XEN_EINVAL);
	expect("L4 slot 272 (the guest's) := 0", upd(pt.root_mfn, 272, 0), 0);
	expect("update_va_mapping of a hypervisor address",
	       hyp_update_va_mapping(HV_ADDR, pte_make(d_a, FLAGS_RW), UVMF_INVLPG), -XEN_EINVAL);
	expect("update_va_mapping of an unmapped address",
	       hyp_update_va_mapping(0x0000100000000000ul, pte_make(d_a, FLAGS_RW), UVMF_INVLPG), -XEN_EINVAL);

	expect("linear: L4 slot 3 -> the L4 itself, read-only", upd(pt.root_mfn, 3, pte_make(pt.root_mfn, FLAGS_RO)),
	       -XEN_EBUSY);
	expect("linear: L4 slot 3 -> the L4 itself, writable", upd(pt.root_mfn, 3, pte_make(pt.root_mfn, FLAGS_RW)),
	       -XEN_EBUSY);
	expect("linear: L3 entry -> the L4", upd(s3.mfn, 2, pte_make(pt.root_mfn, FLAGS_RO)), -XEN_EBUSY);
	expect("linear: L3 entry -> the scratch L3 itself", upd(s3.mfn, 2, pte_make(s3.mfn, FLAGS_RO)), -XEN_EBUSY);
	expect("L4 entry -> the scratch L2 (level confusion)", upd(pt.root_mfn, 3, pte_make(s2.mfn, FLAGS_RO)),
	       -XEN_EBUSY);
	check("  ... L4 slot 3 is still empty", pt_table(pt.root_mfn)[3] == 0);
	expect("SET_LDT over a writable-mapped page (.bss)",
	       ({ struct mmuext_op o = { .cmd = MMUEXT_SET_LDT }; o.arg1.linear_addr = (uint64_t)bss_page;
		  o.arg2.nr_ents = 8; hyp_mmuext_op(&o, 1, NULL, DOMID_SELF); }), -XEN_EBUSY);
	expect("mmu_update list in the hypervisor's memory",
	       hyp_mmu_update((struct mmu_update *)HV_ADDR, 1, NULL, DOMID_SELF), -XEN_EFAULT);
	unsigned done = 77;
	expect("mmu_update of 0 entries", hyp_mmu_update(NULL, 0, &done, DOMID_SELF), 0);
	check("  ... done == 0", done == 0);

	static uint64_t vcpu0 = 1;
	expect("TLB_FLUSH_MULTI, mask in the hypervisor's memory", ({
		struct mmuext_op o = { .cmd = MMUEXT_TLB_FLUSH_MULTI }; o.arg2.vcpumask = HV_ADDR;
		hyp_mmuext_op(&o, 1, NULL, DOMID_SELF); }), -XEN_EFAULT);
	expect("INVLPG_MULTI, mask {vCPU 0}", ({
		struct mmuext_op o = { .cmd = MMUEXT_INVLPG_MULTI }; o.arg1.linear_addr = SCR_VA;
		o.arg2.vcpumask = (uint64_t)&vcpu0; hyp_mmuext_op(&o, 1, NULL, DOMID_SELF); }), 0);
	expect("update_va_mapping, UVMF_MULTI mask {vCPU 0}",
	       hyp_update_va_mapping(SCR_VA + 30 * PT_PAGE_SIZE, pte_make(d_a, FLAGS_RO),
				     UVMF_TLB_FLUSH | UVMF_MULTI | (uint64_t)&vcpu0), 0);
	expect("update_va_mapping, UVMF_MULTI mask in the hypervisor's memory",
	       hyp_update_va_mapping(SCR_VA + 30 * PT_PAGE_SIZE, 0, UVMF_INVLPG | UVMF_MULTI | HV_ADDR),
	       -XEN_EFAULT);
	expect("  ... the entry, cleared", upd(s1.mfn, 30, 0), 0);
}

static void attacks_batches(void)
{
	unsigned done = 0;
	long rc;

	console_printf("mmu: -- batches\n");
	/* 100,000 updates of one entry, alternating between two frames: every one moves references. */
	for (unsigned i = 0; i < ARRAY_SIZE(big); i++) {
		big[i].ptr = pt_slot_ptr(s1.mfn, 0);
		big[i].val = pte_make(i & 1 ? d_b : d_a, FLAGS_RW);
	}
	uint64_t t0 = rdtsc();
	rc = hyp_mmu_update(big, ARRAY_SIZE(big), &done, DOMID_SELF);
	uint64_t t = rdtsc() - t0;
	expect("100000-entry mmu_update batch (preempted, continued)", rc, 0);
	console_printf("mmu:    done %u, %lu cycles, %lu per entry\n", done, (unsigned long)t,
		       (unsigned long)(t / ARRAY_SIZE(big)));
	check("  ... done == 100000", done == ARRAY_SIZE(big));
	check("  ... the entry holds the last value", S1()[0] == (pte_make(d_b, FLAGS_RW)) ||
	      (pte_mfn(S1()[0]) == d_b && (S1()[0] & FLAGS_RW) == FLAGS_RW));

	/* A batch whose 5th entry is bad: the first four stay, the rest is untouched. */
	struct mmu_update b[6];
	for (unsigned i = 0; i < 6; i++) {
		b[i].ptr = pt_slot_ptr(s1.mfn, 10 + i);
		b[i].val = pte_make(i & 1 ? d_b : d_c, FLAGS_RW);
	}
	b[4].val = pte_make(foreign_mfn(0x100), FLAGS_RW);
	done = 12345;
	expect("6-entry batch with a foreign frame in the 5th", hyp_mmu_update(b, 6, &done, DOMID_SELF), -XEN_EPERM);
	check("  ... done == 4", done == 4);
	bool four = true;
	for (unsigned i = 0; i < 4; i++)
		four &= pte_mfn(S1()[10 + i]) == (i & 1 ? d_b : d_c) && (S1()[10 + i] & PTE_P);
	check("  ... the first four are applied", four);
	check("  ... the 5th and 6th are not", S1()[14] == 0 && S1()[15] == 0);
	check("  ... the pages read through them", *(volatile uint64_t *)(SCR_VA + 11 * PT_PAGE_SIZE) == 0);

	/* The same for mmuext_op. */
	struct mmuext_op o[4];
	memset(o, 0, sizeof(o));
	o[0].cmd = MMUEXT_CLEAR_PAGE;
	o[0].arg1.mfn = d_c;
	o[1].cmd = MMUEXT_TLB_FLUSH_LOCAL;
	o[2].cmd = MMUEXT_PIN_L1_TABLE;
	o[2].arg1.mfn = foreign_mfn(0x100);
	o[3].cmd = MMUEXT_TLB_FLUSH_LOCAL;
	done = 12345;
	expect("4-op mmuext_op batch with a foreign pin in the 3rd", hyp_mmuext_op(o, 4, &done, DOMID_SELF),
	       -XEN_EPERM);
	check("  ... done == 2", done == 2);

	/* A multicall of good and bad entries: each gets its own result. */
	static struct mmu_update good = { 0, 0 }, bad = { 0, 0 };
	static struct mmuext_op badop = { .cmd = 99 };
	static struct multicall_entry mc[8];
	uint64_t l4va = pt.virt_base + (pt.pt_pfn << PT_PAGE_SHIFT);
	good.ptr = pt_slot_ptr(s1.mfn, 21);
	good.val = pte_make(d_a, FLAGS_RO);
	bad.ptr = pt_slot_ptr(s1.mfn, 22);
	bad.val = pte_make(foreign_mfn(0x100), FLAGS_RO);
	pt_mc_set(&mc[0], __HYPERVISOR_update_va_mapping, SCR_VA + 20 * PT_PAGE_SIZE, pte_make(d_a, FLAGS_RW),
		  UVMF_INVLPG, 0);
	pt_mc_set(&mc[1], __HYPERVISOR_update_va_mapping, l4va, pt_lookup(l4va) | PTE_W, UVMF_INVLPG, 0);
	pt_mc_set(&mc[2], __HYPERVISOR_mmu_update, (unsigned long)&good, 1, 0, DOMID_SELF);
	pt_mc_set(&mc[3], __HYPERVISOR_mmu_update, (unsigned long)&bad, 1, 0, DOMID_SELF);
	pt_mc_set(&mc[4], __HYPERVISOR_mmuext_op, (unsigned long)&badop, 1, 0, DOMID_SELF);
	pt_mc_set(&mc[5], __HYPERVISOR_multicall, (unsigned long)&mc[0], 1, 0, 0);
	pt_mc_set(&mc[6], __HYPERVISOR_xen_version, XENVER_version, 0, 0, 0);
	pt_mc_set(&mc[7], 60, 0, 0, 0, 0);
	for (unsigned i = 0; i < 8; i++)
		mc[i].result = 0x5a5a5a5a;
	expect("multicall of 8 good and bad entries", hyp_multicall(mc, 8), 0);
	expect("  [0] update_va_mapping, good", (long)mc[0].result, 0);
	expect("  [1] update_va_mapping, the L4 writable", (long)mc[1].result, -XEN_EBUSY);
	expect("  [2] mmu_update, good", (long)mc[2].result, 0);
	expect("  [3] mmu_update, foreign frame", (long)mc[3].result, -XEN_EPERM);
	expect("  [4] mmuext_op, unknown command", (long)mc[4].result, -XEN_ENOSYS);
	expect("  [5] multicall inside a multicall", (long)mc[5].result, -XEN_EINVAL);
	expect("  [6] xen_version", (long)mc[6].result, hyp_xen_version(XENVER_version, NULL));
	expect("  [7] an unknown hypercall", (long)mc[7].result, -XEN_ENOSYS);
	check("  ... [0] and [2] applied, [3] not",
	      pte_mfn(S1()[20]) == d_a && pte_mfn(S1()[21]) == d_a && S1()[22] == 0);
}

static bool page_is_zero(uint64_t va)
{
	const volatile uint64_t *p = (const volatile uint64_t *)va;

	for (unsigned j = 0; j < 512; j++)
		if (p[j])
			return false;
	return true;
}

/*
 * A frame whose writable mapping is gone (without a flush the guest asked
 * for) becomes a page table: the hypervisor owes a TLB flush before the
 * guest runs again or guest memory is written, or the stale writable
 * translation would let the guest (or the hypervisor on its behalf) write
 * into a live page table.
 */
static void attacks_stale(void)
{
	uint64_t f = foreign_mfn(0x100), va;
	struct pt_walk w;

	console_printf("mmu: -- stale translations (a frame that was writable becomes a page table)\n");
	va = SCR_VA + 50 * PT_PAGE_SIZE;
	expect("map a data frame writable", hyp_update_va_mapping(va, pte_make(d_t, FLAGS_RW), UVMF_INVLPG), 0);
	check("  ... written through", !write_faults(va, 1));
	expect("  ... unmapped by mmu_update, no flush asked", upd(s1.mfn, 50, 0), 0);
	bool stale = !write_faults(va + 8, 2);
	console_printf("mmu:    (control: with no type change the stale entry %s; the guest's business)\n",
		       stale ? "was still used" : "was gone");
	expect("  ... cleared", pt_clear_page(d_t), 0);
	expect("  ... pinned as an L1 (a flush is owed)", pt_pin(1, d_t), 0);
	check("  ... a write through the old address faults", write_faults(va, pte_make(f, FLAGS_RW)));
	expect("  ... a read-only view of the new L1", upd(s1.mfn, 51, pte_make(d_t, FLAGS_RO)), 0);
	check("  ... which is still all zero", page_is_zero(SCR_VA + 51 * PT_PAGE_SIZE));
	expect("  ... view removed", upd(s1.mfn, 51, 0), 0);
	expect("  ... unpinned", pt_unpin(d_t), 0);

	/* Unmap and pin in one multicall. */
	va = SCR_VA + 52 * PT_PAGE_SIZE;
	expect("map a cleared frame writable", pt_clear_page(d_u) ?:
	       hyp_update_va_mapping(va, pte_make(d_u, FLAGS_RW), UVMF_INVLPG), 0);
	check("  ... written through", !write_faults(va, 0));
	static struct multicall_entry mc[2];
	static struct mmuext_op pin;
	pin.cmd = MMUEXT_PIN_L1_TABLE;
	pin.arg1.mfn = d_u;
	pt_mc_set(&mc[0], __HYPERVISOR_update_va_mapping, va, 0, UVMF_NONE, 0);
	pt_mc_set(&mc[1], __HYPERVISOR_mmuext_op, (unsigned long)&pin, 1, 0, DOMID_SELF);
	expect("multicall: unmap (UVMF_NONE), PIN_L1 the frame", hyp_multicall(mc, 2), 0);
	expect("  [0]", (long)mc[0].result, 0);
	expect("  [1]", (long)mc[1].result, 0);
	check("  ... a write through the old address faults", write_faults(va, pte_make(f, FLAGS_RW)));
	expect("  ... unpinned", pt_unpin(d_u), 0);

	/* A whole L1 goes away: its writable entries' frames lose their type. */
	memset(s1b.va, 0, PT_PAGE_SIZE);
	s1b.va[0] = pte_make(d_t, FLAGS_RW);
	va = SCR_VA + (2ul << 20);
	expect("a second scratch L1 made read-only", pt_set_readonly(s1b.va), 0);
	expect("  ... hooked at L2 slot 1, mapping a frame writable", upd(s2.mfn, 1, pte_make(s1b.mfn, FLAGS_RW)), 0);
	check("  ... written through", !write_faults(va, 3));
	expect("  ... unhooked (L2 slot 1 := 0), no flush asked", upd(s2.mfn, 1, 0), 0);
	expect("  ... the frame cleared and pinned as an L1", pt_clear_page(d_t) ?: pt_pin(1, d_t), 0);
	check("  ... a write through the old address faults", write_faults(va, pte_make(f, FLAGS_RW)));
	expect("  ... unpinned", pt_unpin(d_t), 0);
	expect("  ... the second L1 writable again", pt_set_writable(s1b.va), 0);

	/* The hypervisor's own write (*pdone) must not go through the stale translation either. */
	va = SCR_VA + 54 * PT_PAGE_SIZE;
	expect("map a cleared frame writable", pt_clear_page(d_t) ?:
	       hyp_update_va_mapping(va, pte_make(d_t, FLAGS_RW), UVMF_INVLPG), 0);
	check("  ... written through", !write_faults(va + 8, 0));
	struct mmu_update b[2] = {
		{ pt_slot_ptr(s1.mfn, 54), 0 },
		{ pt_slot_ptr(s2.mfn, 2), pte_make(d_t, FLAGS_RW) },
	};
	long rc = hyp_mmu_update(b, 2, (unsigned *)(va + 8), DOMID_SELF);
	console_printf("mmu:    batch: unmap it, hook it as an L1, *pdone at the old address: %ld (%s)\n", rc,
		       pt_errname(rc));
	check("  ... both applied", pt_walk(SCR_VA + (4ul << 20), &w) == 1 && w.table[1] == d_t);
	expect("  ... a read-only view of it", upd(s1.mfn, 55, pte_make(d_t, FLAGS_RO)), 0);
	check("  ... *pdone did not land in the new L1", page_is_zero(SCR_VA + 55 * PT_PAGE_SIZE));
	expect("  ... view removed, unhooked", upd(s1.mfn, 55, 0) ?: upd(s2.mfn, 2, 0), 0);

	/* *pdone aimed at a read-only page table. */
	uint64_t l4va = pt.virt_base + (pt.pt_pfn << PT_PAGE_SHIFT);
	struct mmu_update one = { pt_slot_ptr(s1.mfn, 60), 0 };
	/* The update is done; an unwritable *pdone is ignored (Xen's semantics). */
	expect("mmu_update with *pdone in the (read-only) L4",
	       hyp_mmu_update(&one, 1, (unsigned *)(l4va + 5 * 8), DOMID_SELF), 0);
	check("  ... L4 slot 5 is still empty", pt_table(pt.root_mfn)[5] == 0);
	/* A multicall whose list is read-only: no result can be written. */
	memset(tbl.va, 0, PT_PAGE_SIZE);
	struct multicall_entry *rom = (struct multicall_entry *)tbl.va;
	pt_mc_set(rom, __HYPERVISOR_xen_version, XENVER_version, 0, 0, 0);
	rom->result = 0x5a5a;
	expect("multicall list in a read-only page", pt_set_readonly(tbl.va) ?: hyp_multicall(rom, 1), -XEN_EFAULT);
	check("  ... its result was not written", rom->result == 0x5a5a);
	expect("  ... the page writable again", pt_set_writable(tbl.va), 0);
}

static void attacks_roots_more(void)
{
	console_printf("mmu: -- user root\n");
	memset(junk.va, 0xff, PT_PAGE_SIZE);
	expect("NEW_USER_BASEPTR at a foreign frame", pt_mmuext(MMUEXT_NEW_USER_BASEPTR, foreign_mfn(0x100), 0),
	       -XEN_EPERM);
	expect("NEW_USER_BASEPTR at an all-ones page", pt_set_readonly(junk.va) ?:
	       pt_mmuext(MMUEXT_NEW_USER_BASEPTR, junk.mfn, 0), -XEN_EINVAL);
	expect("NEW_USER_BASEPTR at a writable page (.bss)", pt_mmuext(MMUEXT_NEW_USER_BASEPTR,
								      pt_va_to_mfn(bss_page), 0), -XEN_EBUSY);
	expect("NEW_USER_BASEPTR at the kernel L4", pt_mmuext(MMUEXT_NEW_USER_BASEPTR, pt.root_mfn, 0), 0);
	expect("NEW_USER_BASEPTR 0 (none)", pt_mmuext(MMUEXT_NEW_USER_BASEPTR, 0, 0), 0);
	expect("  ... the all-ones page writable again", pt_set_writable(junk.va), 0);
}

static void attacks_long_batches(void)
{
	unsigned done = 0;

	console_printf("mmu: -- long batches\n");
	for (unsigned i = 0; i < 50000; i++) {
		big[i].ptr = pt_slot_ptr(s1.mfn, 0);
		big[i].val = pte_make(i & 1 ? d_b : d_a, FLAGS_RW);
	}
	big[50000].ptr = pt_slot_ptr(s1.mfn, 0);
	big[50000].val = pte_make(foreign_mfn(0x100), FLAGS_RW);
	expect("50001-entry batch, the last one bad", hyp_mmu_update(big, 50001, &done, DOMID_SELF), -XEN_EPERM);
	check("  ... done == 50000 (counted across continuations)", done == 50000);
	check("  ... the entry holds the 50000th value", pte_mfn(S1()[0]) == d_b);

	for (unsigned i = 0; i < ARRAY_SIZE(big); i++) {
		big[i].ptr = pt_slot_ptr(s1.mfn, 0);
		big[i].val = pte_make(i & 1 ? d_a : d_b, FLAGS_RW);
	}
	static struct multicall_entry mc[2];
	static unsigned mc_done;
	mc_done = 0;
	pt_mc_set(&mc[0], __HYPERVISOR_mmu_update, (unsigned long)big, ARRAY_SIZE(big), (unsigned long)&mc_done,
		  DOMID_SELF);
	pt_mc_set(&mc[1], __HYPERVISOR_xen_version, XENVER_version, 0, 0, 0);
	expect("multicall: a 100000-entry mmu_update, then xen_version", hyp_multicall(mc, 2), 0);
	expect("  [0]", (long)mc[0].result, 0);
	check("  ... its done == 100000", mc_done == ARRAY_SIZE(big));
	expect("  [1]", (long)mc[1].result, hyp_xen_version(XENVER_version, NULL));
	check("  ... the entry holds the last value", pte_mfn(S1()[0]) == d_a);
}

/*
 * The start-of-day L4 stops being a table (unpinned while another L4 is the
 * root): the guest may then map it writable and scribble on it, including
 * the hypervisor's slots; making it a root again must validate it afresh
 * and put the hypervisor's slots back.
 */
static struct page n4;

static void attacks_revalidate(void)
{
	uint64_t boot = pt.root_mfn, l4va = pt.virt_base + (pt.pt_pfn << PT_PAGE_SHIFT);
	volatile uint64_t *w4 = (volatile uint64_t *)l4va;
	const uint64_t *cur = pt_table(boot);
	const uint64_t marker = pte_make(d_c, FLAGS_RW);

	console_printf("mmu: -- the start-of-day L4 loses its type, is scribbled on, comes back\n");
	if (!alloc_mapped(&n4))
		return;
	for (unsigned i = 0; i < PT_ENTRIES; i++)
		n4.va[i] = (i >= 256 && i < 272) ? 0 : cur[i];
	expect("a copy of the L4, read-only, pinned, made the root",
	       pt_set_readonly(n4.va) ?: pt_pin(4, n4.mfn) ?: pt_new_baseptr(n4.mfn), 0);
	unsigned hs = 256;                     /* the first hypervisor slot in use */
	while (hs < 271 && !(pt_table(n4.mfn)[hs] & PTE_P))
		hs++;
	uint64_t hv = pt_table(n4.mfn)[hs];
	console_printf("mmu:    (hypervisor slot %u: 0x%lx)\n", hs, hv);
	check("  ... its hypervisor slots were filled in", hv & PTE_P);
	expect("UNPIN the start-of-day L4 (no longer the root)", pt_unpin(boot), 0);
	expect("  ... now an ordinary page: map it writable",
	       hyp_update_va_mapping(l4va, pt_lookup(l4va) | PTE_W, UVMF_INVLPG), 0);
	w4[7] = pte_make(foreign_mfn(0x100), FLAGS_RO);
	w4[hs] = marker;
	w4[hs + 1] = marker;
	expect("  ... written: NEW_BASEPTR at it while writable", pt_new_baseptr(boot), -XEN_EBUSY);
	expect("  ... read-only again", pt_set_readonly((void *)l4va), 0);
	expect("  ... NEW_BASEPTR: slot 7 names a foreign frame", pt_new_baseptr(boot), -XEN_EPERM);
	expect("  ... writable, slot 7 cleared, read-only",
	       pt_set_writable((void *)l4va) ?: (w4[7] = 0, pt_set_readonly((void *)l4va)), 0);
	expect("  ... NEW_BASEPTR at it", pt_new_baseptr(boot), 0);
	check("  ... its hypervisor slots are the hypervisor's again",
	      w4[hs] == hv && w4[hs + 1] == pt_table(n4.mfn)[hs + 1] && w4[hs] != marker);
	expect("  ... PIN_L4 it again, UNPIN the copy", pt_pin(4, boot) ?: pt_unpin(n4.mfn), 0);
	expect("  ... the copy writable again", pt_set_writable(n4.va), 0);
}

/*
 * Writable page tables (vm_assist(VMASST_TYPE_writable_pagetables), Xen's
 * "ptwr"): a plain write to an L1 the guest maps read-only is decoded and
 * applied as an mmu_update of that entry; whatever the rules refuse, or is
 * not a whole aligned 64-bit write of the forms a kernel uses, or is not an
 * L1, stays a page fault for the guest. Each form is written out in asm, so
 * the emulator's decoding (and the length it skips) is what is tested.
 */
static bool ptwr_mov_imm0(volatile uint64_t *p)
{
	uint64_t before = pf_count;
	__asm__ volatile(RESUME_AT_1 "movq $0, (%%rdi)\n1:"
			 : [res] "=m"(pf_resume) : "D"(p) : "r11", "memory");
	pf_resume = 0;
	return pf_count != before;
}

static bool ptwr_mov_r9(volatile uint64_t *p, uint64_t v)
{
	uint64_t before = pf_count;
	register uint64_t r9 __asm__("r9") = v;
	__asm__ volatile(RESUME_AT_1 "movq %%r9, (%%rdi)\n1:"
			 : [res] "=m"(pf_resume) : "D"(p), "r"(r9) : "r11", "memory");
	pf_resume = 0;
	return pf_count != before;
}

static bool ptwr_mov_sib(volatile uint64_t *base, uint64_t idx, uint64_t v)
{
	uint64_t before = pf_count;
	__asm__ volatile(RESUME_AT_1 "movq %%rax, (%%rdi,%%rcx,8)\n1:"
			 : [res] "=m"(pf_resume) : "D"(base), "c"(idx), "a"(v) : "r11", "memory");
	pf_resume = 0;
	return pf_count != before;
}

static bool ptwr_mov_disp8(volatile uint64_t *p, uint64_t v)
{
	uint64_t before = pf_count;
	__asm__ volatile(RESUME_AT_1 "movq %%rax, 8(%%rdi)\n1:"
			 : [res] "=m"(pf_resume) : "D"(p - 1), "a"(v) : "r11", "memory");
	pf_resume = 0;
	return pf_count != before;
}

static bool ptwr_movl(volatile uint64_t *p, uint32_t v)
{
	uint64_t before = pf_count;
	__asm__ volatile(RESUME_AT_1 "movl %%eax, (%%rdi)\n1:"
			 : [res] "=m"(pf_resume) : "D"(p), "a"(v) : "r11", "memory");
	pf_resume = 0;
	return pf_count != before;
}

/* xchg: *v gets the old value. */
static bool ptwr_xchg(volatile uint64_t *p, uint64_t *v)
{
	uint64_t before = pf_count, r = *v;
	__asm__ volatile(RESUME_AT_1 "xchgq %%rsi, (%%rdi)\n1:"
			 : [res] "=m"(pf_resume), "+S"(r) : "D"(p) : "r11", "memory");
	pf_resume = 0;
	*v = r;
	return pf_count != before;
}

/* lock cmpxchg: *expect gets RAX after it, *zf the ZF. */
static bool ptwr_cmpxchg(volatile uint64_t *p, uint64_t *expect, uint64_t v, bool *zf)
{
	uint64_t before = pf_count, a = *expect;
	uint8_t z = 2;
	__asm__ volatile(RESUME_AT_1 "lock cmpxchgq %%rsi, (%%rdi)\n\tsetz %[z]\n1:"
			 : [res] "=m"(pf_resume), "+a"(a), [z] "+q"(z) : "S"(v), "D"(p) : "r11", "cc", "memory");
	pf_resume = 0;
	*expect = a;
	*zf = z == 1;
	return pf_count != before;
}

static void attacks_ptwr(void)
{
	volatile uint64_t *l1 = (volatile uint64_t *)s1.va;
	const uint64_t va = pte_make(d_a, FLAGS_RW), vb = pte_make(d_b, FLAGS_RW), vc = pte_make(d_c, FLAGS_RO);
	uint64_t f = foreign_mfn(0x100), x;
	bool zf;

	console_printf("mmu: -- writable page tables (direct writes to a read-only L1)\n");
	check("a direct write before vm_assist faults", write_faults((uint64_t)&l1[100], va) && l1[100] == 0);
	long rc = hypercall2(__HYPERVISOR_vm_assist, VMASST_CMD_enable, VMASST_TYPE_writable_pagetables);
	if (rc) {
		console_printf("mmu:    (vm_assist(writable_pagetables): %ld: not offered, skipped)\n", rc);
		return;
	}
	expect("vm_assist(enable, writable_pagetables)", rc, 0);
	check("mov r64 -> entry: emulated", !write_faults((uint64_t)&l1[100], va) && l1[100] == va);
	check("  ... the page reads through it", *(volatile uint64_t *)(SCR_VA + 100 * PT_PAGE_SIZE + 8) ==
	      *(volatile uint64_t *)(SCR_VA + 20 * PT_PAGE_SIZE + 8));
	check("mov r9 -> entry (REX.R): emulated", !ptwr_mov_r9(&l1[101], vb) && l1[101] == vb);
	check("mov rax -> (rdi,rcx,8) (SIB): emulated", !ptwr_mov_sib(l1, 102, vc) && l1[102] == vc);
	check("mov rax -> 8(rdi) (disp8): emulated", !ptwr_mov_disp8(&l1[103], va) && l1[103] == va);
	check("mov $0 -> entry (imm32): emulated", !ptwr_mov_imm0(&l1[103]) && l1[103] == 0);
	x = va;
	check("xchg: emulated, the old value returned", !ptwr_xchg(&l1[101], &x) && x == vb && l1[101] == va);
	x = va;
	check("lock cmpxchg, equal: written, ZF set", !ptwr_cmpxchg(&l1[101], &x, vc, &zf) && zf && x == va &&
	      l1[101] == vc);
	x = vb;
	check("lock cmpxchg, not equal: RAX = old, ZF clear", !ptwr_cmpxchg(&l1[101], &x, va, &zf) && !zf &&
	      x == vc && l1[101] == vc);
	check("mov of a foreign frame: refused, a fault", write_faults((uint64_t)&l1[104], pte_make(f, FLAGS_RO)) &&
	      l1[104] == 0);
	check("mov of the L4, writable: refused, a fault",
	      write_faults((uint64_t)&l1[104], pte_make(pt.root_mfn, FLAGS_RW)) && l1[104] == 0);
	check("mov with bit 52 (software bit): emulated", !write_faults((uint64_t)&l1[104], va | 1ull << 52) &&
	      (l1[104] & (1ull << 52)));
	check("  ... and cleared", !write_faults((uint64_t)&l1[104], 0) && l1[104] == 0);
	check("xchg of a foreign frame: refused, RSI kept", (x = pte_make(f, FLAGS_RW), ptwr_xchg(&l1[100], &x)) &&
	      x == pte_make(f, FLAGS_RW) && l1[100] == va);
	check("movl (32-bit): not emulated, a fault", ptwr_movl(&l1[104], (uint32_t)va) && l1[104] == 0);
	check("misaligned 64-bit write: not emulated, a fault",
	      write_faults((uint64_t)&l1[104] + 4, 0x1234) && l1[104] == 0 && l1[105] == 0);
	check("mov -> the scratch L2: not an L1, a fault",
	      write_faults((uint64_t)((volatile uint64_t *)s2.va + 7), pte_make(s1.mfn, FLAGS_RW)) &&
	      pt_table(s2.mfn)[7] == 0);
	check("mov -> the L4: not an L1, a fault",
	      write_faults(pt.virt_base + (pt.pt_pfn << PT_PAGE_SHIFT) + 9 * 8, pte_make(s3.mfn, FLAGS_RW)) &&
	      pt_table(pt.root_mfn)[9] == 0);
	memset(tbl.va, 0, PT_PAGE_SIZE);
	check("mov -> a read-only data page: not a table, a fault",
	      pt_set_readonly(tbl.va) == 0 && write_faults((uint64_t)&tbl.va[3], va) && tbl.va[3] == 0 &&
	      pt_set_writable(tbl.va) == 0);
	/* A read-only view of the L1 elsewhere (slot 110 of itself) is a way in like any other. */
	expect("the scratch L1 mapped read-only at slot 110", upd(s1.mfn, 110, pte_make(s1.mfn, FLAGS_RO)), 0);
	volatile uint64_t *view = (volatile uint64_t *)(SCR_VA + 110 * PT_PAGE_SIZE);
	check("  ... mov through it: emulated", !write_faults((uint64_t)&view[111], vb) && l1[111] == vb);
	check("  ... mov of the L1 itself, writable, through it: refused",
	      write_faults((uint64_t)&view[112], pte_make(s1.mfn, FLAGS_RW)) && l1[112] == 0);
	expect("vm_assist(disable, writable_pagetables)",
	       hypercall2(__HYPERVISOR_vm_assist, VMASST_CMD_disable, VMASST_TYPE_writable_pagetables), 0);
	check("  ... a direct write faults again", write_faults((uint64_t)&l1[104], va) && l1[104] == 0);
	struct mmu_update clr[6] = {
		{ pt_slot_ptr(s1.mfn, 100), 0 }, { pt_slot_ptr(s1.mfn, 101), 0 }, { pt_slot_ptr(s1.mfn, 102), 0 },
		{ pt_slot_ptr(s1.mfn, 110), 0 }, { pt_slot_ptr(s1.mfn, 111), 0 }, { pt_slot_ptr(s1.mfn, 112), 0 },
	};
	expect("  ... the entries cleared", hyp_mmu_update(clr, 6, NULL, DOMID_SELF), 0);
}

/*
 * Pages the hypervisor itself writes must never become page tables: it
 * writes vcpu_info.arch.cr2 (word 2 of the shared_info page) on every page
 * fault, with a value the guest chooses by where it faults. Xen gives such
 * pages a writable type reference for good; so must Vireo, or a guest that
 * hooks its shared_info page in as an L1 gets CR2 = (frame << 12) | P as a
 * live, never validated entry.
 */
static const struct start_info *start;
static struct page vinfo;

static void attacks_hypervisor_pages(void)
{
	uint64_t sh = start->shared_info >> PT_PAGE_SHIFT, f = foreign_mfn(0x100);
	volatile uint64_t *w = (volatile uint64_t *)(SCR_VA + 120 * PT_PAGE_SIZE);

	console_printf("mmu: -- pages the hypervisor writes (shared_info, vcpu_info)\n");
	expect("map shared_info writable", upd(s1.mfn, 120, pte_make(sh, FLAGS_RW)), 0);
	for (unsigned i = 1; i < PT_ENTRIES; i++)
		w[i] = 0;
	check("  ... all its words non-present (word 0: events masked)", !(w[0] & PTE_P));
	expect("  ... unmapped", upd(s1.mfn, 120, 0), 0);
	long rc = upd(s2.mfn, 5, pte_make(sh, FLAGS_RO));
	expect("shared_info hooked in as an L1", rc, -XEN_EBUSY);
	if (rc == 0) {
		/* Show what it allows: fault at an address that reads as an entry naming f. */
		uint64_t at = pte_make(f, PTE_P | PTE_U);
		expect("  ... a read-only view of it", upd(s1.mfn, 121, pte_make(sh, FLAGS_RO)), 0);
		check("  ... a page fault at that address", read_faults(at));
		uint64_t e = ((volatile uint64_t *)(SCR_VA + 121 * PT_PAGE_SIZE))[2];
		console_printf("mmu:    its entry 2 is now 0x%lx (foreign mfn 0x%lx)\n", e, f);
		check("  ... the foreign frame is not readable through it",
		      read_faults(SCR_VA + (5ul << 21) + 2 * PT_PAGE_SIZE));
		/* Make entry 2 non-present again (fault at an even address) before the L1 is released. */
		read_faults(0x2000);
		upd(s1.mfn, 121, 0);
		upd(s2.mfn, 5, 0);
		pt_flush_tlb();
	}

	/* The hypercall page by MSR: the hypervisor writes it, so never over a page table. */
	memset(tbl.va, 0, PT_PAGE_SIZE);
	expect("a cleared page pinned as an L1", pt_set_readonly(tbl.va) ?: pt_pin(1, tbl.mfn), 0);
	uint64_t gpa = tbl.pfn << PT_PAGE_SHIFT, before = pf_count;
	__asm__ volatile(RESUME_AT_1 "wrmsr\n1:"
			 : [res] "=m"(pf_resume) : "c"(0x40000000u), "a"((uint32_t)gpa), "d"((uint32_t)(gpa >> 32))
			 : "r11", "memory");
	pf_resume = 0;
	check("  ... hypercall page MSR aimed at it: #GP", pf_count != before && pf_vector == 13);
	check("  ... it is still all zero", pt_table(tbl.mfn) && page_is_zero((uint64_t)tbl.va));
	expect("  ... unpinned, writable again", pt_unpin(tbl.mfn) ?: pt_set_writable(tbl.va), 0);

	/* vcpu_info moved to a page of the guest's: the same holds for that page. */
	static struct vcpu_register_vcpu_info ri;
	if (!alloc_mapped(&vinfo))
		return;
	memset(vinfo.va, 0, PT_PAGE_SIZE);
	ri.mfn = vinfo.mfn;
	ri.offset = 0;
	rc = hypercall3(__HYPERVISOR_vcpu_op, VCPUOP_register_vcpu_info, 0, (unsigned long)&ri);
	if (rc) {
		console_printf("mmu:    (register_vcpu_info: %ld: not offered, skipped)\n", rc);
		return;
	}
	expect("register_vcpu_info in a page of ours", rc, 0);
	expect("  ... the page made read-only", pt_set_readonly(vinfo.va), 0);
	expect("  ... PIN_L1 of it", pt_pin(1, vinfo.mfn), -XEN_EBUSY);
	expect("  ... hooked in as an L1", upd(s2.mfn, 5, pte_make(vinfo.mfn, FLAGS_RO)), -XEN_EBUSY);
	expect("  ... writable again", pt_set_writable(vinfo.va), 0);
}

/* After all that, ordinary work still works, and the scratch tree comes apart cleanly. */
static void still_works(void)
{
	console_printf("mmu: -- still working\n");
	expect("update_va_mapping, good", hyp_update_va_mapping(SCR_VA + 40 * PT_PAGE_SIZE,
								pte_make(d_c, FLAGS_RW), UVMF_INVLPG), 0);
	volatile uint64_t *p = (volatile uint64_t *)(SCR_VA + 40 * PT_PAGE_SIZE);
	for (unsigned j = 0; j < 512; j++)
		p[j] = pattern(40, j, 7);
	unsigned bad = 0;
	for (unsigned j = 0; j < 512; j++)
		bad += p[j] != pattern(40, j, 7);
	check("  ... a page written and read through it", bad == 0);
	struct mmu_update b[4];
	for (unsigned i = 0; i < 4; i++) {
		b[i].ptr = pt_slot_ptr(s1.mfn, 41 + i);
		b[i].val = pte_make(d_c, FLAGS_RO);
	}
	unsigned done = 0;
	expect("a 4-entry batch, good", hyp_mmu_update(b, 4, &done, DOMID_SELF), 0);
	check("  ... done == 4, and the same page reads through all", done == 4 &&
	      *(volatile uint64_t *)(SCR_VA + 44 * PT_PAGE_SIZE + 8) == pattern(40, 1, 7));
	expect("unhook the scratch tree (L4 slot 1 := 0)", upd(pt.root_mfn, SCR_L4SLOT, 0), 0);
	expect("TLB flush", pt_flush_tlb(), 0);
	expect("  ... scratch L1 writable again", pt_set_writable(s1.va), 0);
	expect("  ... scratch L2 writable again", pt_set_writable(s2.va), 0);
	expect("  ... scratch L3 writable again", pt_set_writable(s3.va), 0);
	expect("  ... a data frame can be an L1 again", pt_clear_page(d_a) ?: pt_pin(1, d_a) ?: pt_unpin(d_a), 0);
}

static int attacks(void)
{
	long rc = hypercall1(__HYPERVISOR_set_trap_table, (unsigned long)pf_table);

	if (rc) {
		console_printf("mmu: set_trap_table: %ld FAIL\n", rc);
		return 1;
	}
	if (!scratch_setup())
		return 1;
	attacks_foreign(foreign_mfn(0x100));
	attacks_writable_tables();
	attacks_pins_and_roots();
	attacks_flags();
	attacks_batches();
	attacks_long_batches();
	attacks_roots_more();
	attacks_stale();
	attacks_revalidate();
	attacks_hypervisor_pages();
	attacks_ptwr();
	still_works();
	console_printf("mmu: attacks: %u cases, %u failure(s)\n", cases, failures);
	return failures ? 1 : 0;
}

/*
 * "overflow=N": the hypervisor was booted with vireo.mm_count_limit=N. One
 * frame mapped N times fills its general count; the next mapping must be
 * -EOVERFLOW, and a batch of N + 4 writable mappings (general and type
 * counts) must stop at N with *pdone == N. Then everything is unmapped and
 * the frame must be as new (pinnable as an L1: no count left behind).
 */
static int overflow_mode(unsigned limit)
{
	static struct mmu_update req[PT_ENTRIES];
	uint64_t l1pfn = pt_alloc_unmapped_pfn(), dpfn = pt_alloc_unmapped_pfn();
	unsigned done = 0;

	console_printf("mmu: -- reference counts limited to %u\n", limit);
	if (l1pfn == PT_NO_FRAME || dpfn == PT_NO_FRAME || limit + 4 > PT_ENTRIES) {
		check("overflow set-up (frames, limit <= 508)", false);
		return 1;
	}
	uint64_t l1 = pt_pfn_to_mfn(l1pfn), d = pt_pfn_to_mfn(dpfn);
	expect("clear the L1", pt_clear_page(l1), 0);
	expect("pin the L1", pt_pin(1, l1), 0);
	for (unsigned i = 0; i < limit; i++)
		req[i] = (struct mmu_update){ pt_slot_ptr(l1, i), pte_make(d, FLAGS_RO) };
	expect("map one frame read-only N times", hyp_mmu_update(req, limit, &done, DOMID_SELF), 0);
	expect("  ... one more", upd(l1, limit, pte_make(d, FLAGS_RO)), -XEN_EOVERFLOW);
	for (unsigned i = 0; i < limit; i++)
		req[i].val = 0;
	expect("unmap them", hyp_mmu_update(req, limit, &done, DOMID_SELF), 0);
	for (unsigned i = 0; i < limit + 4; i++)
		req[i] = (struct mmu_update){ pt_slot_ptr(l1, i), pte_make(d, FLAGS_RW) };
	done = 0;
	expect("map it writable N + 4 times in one batch", hyp_mmu_update(req, limit + 4, &done, DOMID_SELF),
	       -XEN_EOVERFLOW);
	check("  ... stopped at N (*pdone)", done == limit);
	for (unsigned i = 0; i < limit + 4; i++)
		req[i].val = 0;
	expect("unmap them", hyp_mmu_update(req, limit + 4, &done, DOMID_SELF), 0);
	expect("the frame can be a page table (no count left)", pt_pin(1, d), 0);
	expect("  ... and back", pt_unpin(d), 0);
	expect("unpin the L1", pt_unpin(l1), 0);
	console_printf("mmu: overflow: %u cases, %u failure(s)\n", cases, failures);
	return failures ? 1 : 0;
}

/* ---- foreign mappings: domain 0 maps a page of domain 1 ----------------------- */

#define FOREIGN_MAGIC0 0x4E474945524F46ull      /* "FOREIGN" */
#define FOREIGN_MAGIC1 0x45424F52504F4552ull    /* "REPROBE" */
#define FOREIGN_REPLY  0x59504552304D4F44ull    /* "DOM0REPY" */
#define FOREIGN_ACK    0x4B43413155504D4Full    /* "OMPU1ACK" */
#define FOREIGN_WAIT   (60ull * 1000 * 1000 * 1000)   /* TSC cycles: tens of seconds */

/*
 * The target's mailbox: a page of its image, so the builder has written the
 * magic before either domain runs. Domain 0 finds it by content, answers
 * in slot 2; the target acknowledges in slot 3.
 */
static volatile uint64_t mailbox[512] __attribute__((aligned(4096))) = { FOREIGN_MAGIC0, FOREIGN_MAGIC1 };

static bool wait_for(volatile uint64_t *word, uint64_t want)
{
	for (uint64_t t0 = rdtsc(); rdtsc() - t0 < FOREIGN_WAIT;)
		if (*word == want)
			return true;
	return false;
}

/* Domain 1: no foreign mapping for it; then wait for domain 0's answer. */
static int foreign_target(void)
{
	struct mmu_update req = { pt_l1e_ptr((uint64_t)mailbox), pt_lookup((uint64_t)mailbox) };
	expect("mmu_update, foreigndom 0 (unprivileged)", hyp_mmu_update(&req, 1, NULL, 0), -XEN_EPERM);
	expect("update_va_mapping_otherdomain (unprivileged)",
	       hypercall4(__HYPERVISOR_update_va_mapping_otherdomain, (uint64_t)mailbox,
			  pt_lookup((uint64_t)mailbox), UVMF_INVLPG, 0), -XEN_EPERM);
	check("foreign: domain 0 wrote into our page", wait_for(&mailbox[2], FOREIGN_REPLY));
	mailbox[3] = FOREIGN_ACK;
	return failures ? 1 : 0;
}

static long map_other(uint64_t va, uint64_t mfn, uint64_t flags, unsigned domid)
{
	return hypercall4(__HYPERVISOR_update_va_mapping_otherdomain, va, pte_make(mfn, flags), UVMF_INVLPG, domid);
}

/*
 * Domain 0: map every frame the M2P knows, read-only, as domain 1's: those
 * that are domain 1's map (the others are refused); find the mailbox by
 * its magic, answer it through a writable mapping, and keep that mapping
 * past domain 1's end (the frame stays, an orphan, until it is unmapped).
 */
static int foreign_probe(unsigned domid)
{
	struct xen_machphys_mapping mp;
	uint64_t va = (uint64_t)pt_pfn_to_va(pt_alloc_mapped_pfn());
	uint64_t old = pt_lookup(va), found = PT_NO_FRAME, mapped = 0, refused = 0;
	volatile uint64_t *page = (volatile uint64_t *)va;

	if (hypercall2(__HYPERVISOR_memory_op, XENMEM_machphys_mapping, (unsigned long)&mp) != 0 || !old) {
		check("foreign: machphys_mapping and a scratch page", false);
		return 1;
	}
	const uint64_t *m2p = (const uint64_t *)mp.v_start;
	for (uint64_t mfn = 0; mfn <= mp.max_mfn && found == PT_NO_FRAME; mfn++) {
		if (m2p[mfn] == ~0ull)
			continue;                          /* nobody's pfn: free, or the hypervisor's */
		long rc = map_other(va, mfn, FLAGS_RO, domid);
		if (rc == 0) {
			mapped++;
			if (page[0] == FOREIGN_MAGIC0 && page[1] == FOREIGN_MAGIC1)
				found = mfn;
		} else {
			refused += rc == -XEN_EPERM;
		}
	}
	console_printf("mmu: foreign: %lu frames of domain %u mapped read-only, %lu others refused\n",
		       mapped, domid, refused);
	check("foreign: domain 1's mailbox found by its content", found != PT_NO_FRAME);
	if (found == PT_NO_FRAME)
		return 1;
	expect("foreign: mailbox mapped writable", map_other(va, found, FLAGS_RW, domid), 0);
	/* Refusals, with the mapping in place and domain 1 waiting for our answer. */
	expect("foreign: a domain that does not exist", map_other(va, found, FLAGS_RO, 7), -XEN_ESRCH);
	expect("foreign: its own frame named as domain 1's", map_other(va, pt.boot_l4_mfn, FLAGS_RO, domid),
	       -XEN_EPERM);
	struct mmuext_op op = { .cmd = MMUEXT_PIN_L1_TABLE };
	op.arg1.mfn = found;
	expect("foreign: mmuext_op on domain 1's frame", hyp_mmuext_op(&op, 1, NULL, domid), -XEN_EOPNOTSUPP);
	page[2] = FOREIGN_REPLY;
	check("foreign: domain 1 acknowledged", wait_for(&page[3], FOREIGN_ACK));
	/* Domain 1 ends: its frame leaves the M2P but stays ours to read until we unmap it. */
	check("foreign: domain 1 ended, its page left the M2P", wait_for((volatile uint64_t *)&m2p[found], ~0ull));
	check("foreign: the page outlived its domain", page[0] == FOREIGN_MAGIC0 && page[3] == FOREIGN_ACK);
	expect("foreign: mapping dropped (the orphan freed)", hyp_update_va_mapping(va, old, UVMF_INVLPG), 0);
	expect("foreign: domain 1, ended", map_other(va, found, FLAGS_RO, domid), -XEN_ESRCH);
	return failures ? 1 : 0;
}

int guest_main(struct start_info *si)
{
	int rc;

	start = si;
	memcpy(cmdline, si->cmd_line, MAX_GUEST_CMDLINE);
	cmdline[MAX_GUEST_CMDLINE] = '\0';
	if (pt_init(si)) {
		console_printf("mmu: start-of-day layout not understood FAIL\n");
		return 1;
	}
	console_printf("mmu: %lu pages, L4 pfn %lu mfn 0x%lx, %lu pt frames, mapped pfns 0..%lu, "
		       "free mapped from pfn %lu%s\n", pt.nr_pages, pt.pt_pfn, pt.boot_l4_mfn, pt.nr_pt_frames,
		       pt.mapped_pages - 1, pt.free_mapped, pt.privileged ? ", privileged" : "");
	if (strstr(cmdline, "foreign=target"))
		rc = foreign_target();
	else if (strstr(cmdline, "foreign="))
		rc = foreign_probe((unsigned)option("foreign=", 1));
	else if (strstr(cmdline, "overflow="))
		rc = overflow_mode((unsigned)option("overflow=", 0));
	else if (strstr(cmdline, "attack"))
		rc = attacks();
	else
		rc = workload();
	console_printf("mmu: done, %s\n", rc ? "FAILED" : "all ok");
	return rc;
}
