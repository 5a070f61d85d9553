/*
 * The validated PV MMU on the hosted machine: every rule of mm/frame_table.c
 * and every refusal, through the hypercalls a guest would make
 * (fastpath/mmu.c, and set_gdt/update_descriptor in core/hypercall.c),
 * the guest's LDT (MMUEXT_SET_LDT),
 * against real domains made by the domain builder. After each step the
 * frame table is audited from scratch (mm_audit), and a
 * refused request must leave the frame table and the page tables exactly
 * as they were.
 */
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "hosted_machine.h"

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

#define DOM_MEM (16u << 20)

static uint8_t kernel[1 << 20];
static size_t kernel_len;
static uint64_t free_at_start;
static struct domain *A, *B;          /* A unprivileged (domid 1), B privileged (domid 0) */

static void machine_once(void)
{
	hosted_machine_once("test_mmu", 96u << 20, kernel, sizeof(kernel), &kernel_len, &free_at_start);
}

static int audit(void)
{
	struct domain_mm *mms[2] = { &A->mm, &B->mm };
	char why[256];
	int rc = mm_audit(mms, 2, why, sizeof(why));
	if (rc)
		fprintf(stderr, "    audit: %s\n", why);
	return rc;
}

static bool setup(void)
{
	machine_once();
	if (!hosted_build_pair(kernel, kernel_len, DOM_MEM, &B, &A))
		return false;
	hypercall_preempt_tsc = 1000000000000ull;     /* no preemption unless a test asks */
	return audit() == 0;
}

static void teardown(void)
{
	CHECK_EQ(audit(), 0);
	hosted_switch_to(NULL);
	domain_destroy(A);
	domain_destroy(B);
	frame_count_limit = 0x7FFFFFFFu;
	CHECK_EQ(frame_nr_free(), free_at_start);
}

/* ---- guest memory and frames ------------------------------------------------ */

static mfn_t mfn_of(struct domain *d, uint64_t pfn) { return d->p2m[pfn]; }
static uint64_t *page(mfn_t mfn) { return mfn_to_virt(mfn); }
static uint64_t pte(mfn_t mfn, uint64_t flags) { return ((uint64_t)mfn << PAGE_SHIFT) | flags; }

/* Frames past the start-of-day mapping: owned, unmapped, untyped. */
static mfn_t spare(struct domain *d, unsigned k)
{
	uint64_t pfn = ((d->layout.v_end - d->layout.v_start) >> PAGE_SHIFT) + k;
	return pfn < d->nr_pages ? d->p2m[pfn] : INVALID_MFN;
}

/* Guest scratch memory for request lists: the slack after the boot stack (mapped writable). */
static uint64_t scratch_va(struct domain *d) { return d->layout.vstack_end; }

static void put_guest(struct domain *d, uint64_t va, const void *src, size_t len)
{
	struct domain *was = current_domain;
	hosted_switch_to(d);
	if (copy_to_guest(va, src, len) != 0) {
		fprintf(stderr, "test_mmu: scratch copy to 0x%llx failed\n", (unsigned long long)va);
		abort();
	}
	hosted_switch_to(was);
}

static long mmu_update(struct domain *d, const struct mmu_update *r, unsigned n, uint32_t *done)
{
	uint64_t va = scratch_va(d), done_va = va + 0x10000;
	uint32_t zero = 0;
	put_guest(d, va, r, n * sizeof(*r));
	put_guest(d, done_va, &zero, sizeof(zero));
	hosted_switch_to(d);
	long rc = hosted_hypercall(__HYPERVISOR_mmu_update, va, n, done_va, DOMID_SELF, 0, NULL);
	if (done)
		copy_from_guest(done, done_va, sizeof(*done));
	return rc;
}

/* One update by d with foreigndom fd (mmu_update's fourth argument). */
static long foreign_update(struct domain *d, uint64_t ptr, uint64_t val, uint64_t fd)
{
	struct mmu_update r = { ptr, val };
	uint64_t va = scratch_va(d);
	put_guest(d, va, &r, sizeof(r));
	hosted_switch_to(d);
	return hosted_hypercall(__HYPERVISOR_mmu_update, va, 1, 0, fd, 0, NULL);
}

static long one_update(struct domain *d, uint64_t ptr, uint64_t val)
{
	struct mmu_update r = { ptr, val };
	return mmu_update(d, &r, 1, NULL);
}

static uint64_t slot_ptr(mfn_t table, unsigned slot) { return ((uint64_t)table << PAGE_SHIFT) + slot * 8; }

static long ext(struct domain *d, uint32_t cmd, uint64_t arg1, uint64_t arg2)
{
	struct mmuext_op op = { .cmd = cmd };
	op.arg1.mfn = arg1;
	op.arg2.src_mfn = arg2;
	uint64_t va = scratch_va(d) + 0x20000;
	put_guest(d, va, &op, sizeof(op));
	hosted_switch_to(d);
	return hosted_hypercall(__HYPERVISOR_mmuext_op, va, 1, 0, DOMID_SELF, 0, NULL);
}

/* A snapshot of everything a refused request must leave alone: A's and B's frame-table entries and tables. */
struct snap {
	struct page_info ft[2][4096];
	uint64_t sum;
};

static uint64_t tables_sum(void)
{
	uint64_t sum = 0;
	for (mfn_t m = 0; m < frame_table_frames; m++) {
		const struct page_info *pg = &frame_table[m];
		if (pg->owner == OWNER_NONE || !(pg->flags & PGF_validated))
			continue;
		for (int i = 0; i < 512; i++)
			sum = sum * 1000003u + page(m)[i];
	}
	return sum;
}

static void snap_take(struct snap *s)
{
	for (unsigned d = 0; d < 2; d++) {
		struct domain *dom = d ? B : A;
		for (uint64_t pfn = 0; pfn < dom->nr_pages && pfn < 4096; pfn++)
			s->ft[d][pfn] = frame_table[dom->p2m[pfn]];
	}
	s->sum = tables_sum();
}

/* Equal, but for the type and stamp of frames nothing references (see mm/frame_table.c). */
static bool page_same(struct page_info a, struct page_info b)
{
	if (a.type_count == 0 && b.type_count == 0) {
		a.type = b.type = 0;
		a.stamp = b.stamp = 0;
	}
	return !memcmp(&a, &b, sizeof(a));
}

static bool snap_same(const struct snap *s)
{
	static struct snap now;
	snap_take(&now);
	for (unsigned d = 0; d < 2; d++)
		for (unsigned i = 0; i < 4096; i++)
			if (!page_same(now.ft[d][i], s->ft[d][i])) {
				fprintf(stderr, "    frame table changed: domain %u pfn %u\n", d, i);
				return false;
			}
	return now.sum == s->sum;
}

static struct snap before;

#define REFUSED(call, err) \
	do { \
		snap_take(&before); \
		CHECK_EQ((call), -(err)); \
		CHECK(snap_same(&before)); \
		CHECK_EQ(audit(), 0); \
	} while (0)

/* An empty pinned L1 in a spare frame, and an L2/L3 path to map it at guest va (user half). */
static mfn_t new_l1(struct domain *d, unsigned k)
{
	mfn_t l1 = spare(d, k);
	if (ext(d, MMUEXT_CLEAR_PAGE, l1, 0) || ext(d, MMUEXT_PIN_L1_TABLE, l1, 0))
		return INVALID_MFN;
	return l1;
}

/* ---- tests ---------------------------------------------------------------- */

static void builder_tables_validate(void)
{
	REQUIRE(setup());
	mfn_t root = A->mm.vcpu[0].root;
	CHECK_EQ(frame_table[root].type, PGT_l4);
	CHECK(frame_table[root].flags & PGF_pinned);
	CHECK_EQ(frame_table[root].count, 3);           /* the pin, the root, its read-only mapping */
	CHECK_EQ(frame_table[root].type_count, 2);
	/* A page-table frame of the bootstrap tables is mapped, read-only. */
	CHECK_EQ(frame_table[mfn_of(A, (A->layout.vpt_start - A->layout.v_start) >> 12) + 0].type, PGT_l4);
	teardown();
}

static void l1_maps_own_frames(void)
{
	REQUIRE(setup());
	mfn_t l1 = new_l1(A, 0), data = spare(A, 1);
	REQUIRE(l1 != INVALID_MFN);
	CHECK_EQ(one_update(A, slot_ptr(l1, 0), pte(data, PTE_P | PTE_W)), 0);
	CHECK_EQ(frame_table[data].type, PGT_writable);
	CHECK_EQ(frame_table[data].type_count, 1);
	CHECK_EQ(frame_table[data].count, 1);
	CHECK_EQ(page(l1)[0], (int64_t)pte(data, PTE_P | PTE_W | PTE_U));   /* U forced on */
	CHECK_EQ(one_update(A, slot_ptr(l1, 1), pte(data, PTE_P | PTE_G)), 0);
	CHECK_EQ(page(l1)[1] & PTE_G, 0);                                     /* G cleared */
	CHECK_EQ(frame_table[data].count, 2);
	CHECK_EQ(one_update(A, slot_ptr(l1, 0), pte(data, PTE_P)), 0);       /* W dropped */
	CHECK_EQ(frame_table[data].type_count, 0);
	CHECK_EQ(audit(), 0);
	teardown();
}

static void foreign_frames_refused(void)
{
	REQUIRE(setup());
	mfn_t l1 = new_l1(A, 0);
	REQUIRE(l1 != INVALID_MFN);
	REFUSED(one_update(A, slot_ptr(l1, 0), pte(spare(B, 0), PTE_P)), VIREO_EPERM);
	REFUSED(one_update(A, slot_ptr(l1, 0), pte(B->shared_info_mfn, PTE_P | PTE_W)), VIREO_EPERM);
	REFUSED(one_update(A, slot_ptr(l1, 0), pte(0x100, PTE_P)), VIREO_EPERM);          /* nobody's */
	REFUSED(one_update(A, slot_ptr(l1, 0), pte(frame_table_frames + 5, PTE_P)), VIREO_EPERM);
	/* Nor may it write another domain's table, pin it, or make it its root. */
	REFUSED(one_update(A, slot_ptr(B->mm.vcpu[0].root, 0), 0), VIREO_EPERM);
	REFUSED(ext(A, MMUEXT_PIN_L1_TABLE, spare(B, 0), 0), VIREO_EPERM);
	REFUSED(ext(A, MMUEXT_NEW_BASEPTR, B->mm.vcpu[0].root, 0), VIREO_EPERM);
	teardown();
}

static void io_frames_only_for_the_privileged(void)
{
	REQUIRE(setup());
	mfn_t l1 = new_l1(B, 0);
	REQUIRE(l1 != INVALID_MFN);
	mfn_t io = frame_table_frames + 16;               /* not RAM */
	CHECK_EQ(one_update(B, slot_ptr(l1, 0), pte(io, PTE_P | PTE_W | PTE_PCD)), 0);
	CHECK_EQ(audit(), 0);
	mfn_t al1 = new_l1(A, 0);
	REFUSED(one_update(A, slot_ptr(al1, 0), pte(io, PTE_P)), VIREO_EPERM);
	/* Devices the hypervisor drives (its interrupt controllers) are nobody's to map. */
	mfn_t apic = frame_table_frames + 0x1000;
	CHECK_EQ(frame_table_deny_io(apic, apic + 1), 0);
	REFUSED(one_update(B, slot_ptr(l1, 1), pte(apic, PTE_P | PTE_W | PTE_PCD)), VIREO_EPERM);
	CHECK_EQ(one_update(B, slot_ptr(l1, 1), pte(apic + 1, PTE_P | PTE_W | PTE_PCD)), 0);
	teardown();
}

static void page_tables_never_writable(void)
{
	REQUIRE(setup());
	mfn_t l1 = new_l1(A, 0), other = new_l1(A, 1);
	REQUIRE(l1 != INVALID_MFN && other != INVALID_MFN);
	REFUSED(one_update(A, slot_ptr(l1, 0), pte(other, PTE_P | PTE_W)), VIREO_EBUSY);
	REFUSED(one_update(A, slot_ptr(l1, 0), pte(A->mm.vcpu[0].root, PTE_P | PTE_W)), VIREO_EBUSY);
	REFUSED(one_update(A, slot_ptr(l1, 0), pte(l1, PTE_P | PTE_W)), VIREO_EBUSY);    /* itself */
	CHECK_EQ(one_update(A, slot_ptr(l1, 0), pte(other, PTE_P)), 0);                 /* read-only is fine */
	/* And the other way: a writably mapped frame cannot become a table. */
	mfn_t data = spare(A, 2);
	CHECK_EQ(one_update(A, slot_ptr(l1, 1), pte(data, PTE_P | PTE_W)), 0);
	REFUSED(ext(A, MMUEXT_PIN_L1_TABLE, data, 0), VIREO_EBUSY);
	REFUSED(ext(A, MMUEXT_CLEAR_PAGE, l1, 0), VIREO_EBUSY);
	REFUSED(ext(A, MMUEXT_COPY_PAGE, other, data), VIREO_EBUSY);
	CHECK_EQ(ext(A, MMUEXT_COPY_PAGE, data, other), 0);                              /* table to data: fine */
	teardown();
}

static void bad_flags_refused(void)
{
	REQUIRE(setup());
	mfn_t l1 = new_l1(A, 0), data = spare(A, 1);
	REQUIRE(l1 != INVALID_MFN);
	/* L1: software bits 52..62 and cache attributes are the guest's, as on Xen (Linux uses them). */
	CHECK_EQ(one_update(A, slot_ptr(l1, 0), pte(data, PTE_P) | (1ull << 52) | (1ull << 58)), 0);
	CHECK_EQ(one_update(A, slot_ptr(l1, 0), pte(data, PTE_P | PTE_PCD | PTE_PS)), 0);   /* PS = PAT */
	CHECK_EQ(one_update(A, slot_ptr(l1, 0), pte(data, PTE_P) | PTE_NX), 0);
	CHECK_EQ(frame_table[data].count, 1);
	/* A superpage in an L2 entry. */
	mfn_t l2 = spare(A, 2);
	CHECK_EQ(ext(A, MMUEXT_CLEAR_PAGE, l2, 0), 0);
	CHECK_EQ(ext(A, MMUEXT_PIN_L2_TABLE, l2, 0), 0);
	REFUSED(one_update(A, slot_ptr(l2, 0), pte(data, PTE_P | PTE_PS)), VIREO_EINVAL);
	REFUSED(one_update(A, slot_ptr(l2, 0), pte(l1, PTE_P | PTE_PCD)), VIREO_EINVAL);
	CHECK_EQ(one_update(A, slot_ptr(l2, 0), pte(l1, PTE_P)), 0);
	teardown();
}

static void hypervisor_l4_slots_refused(void)
{
	REQUIRE(setup());
	for (unsigned s = 256; s < 272; s += 5)
		REFUSED(one_update(A, slot_ptr(A->mm.vcpu[0].root, s), 0), VIREO_EINVAL);
	teardown();
}

static void linear_page_tables_refused(void)
{
	REQUIRE(setup());
	mfn_t root = A->mm.vcpu[0].root;
	REFUSED(one_update(A, slot_ptr(root, 5), pte(root, PTE_P)), VIREO_EBUSY);
	mfn_t l2 = spare(A, 0);
	CHECK_EQ(ext(A, MMUEXT_CLEAR_PAGE, l2, 0), 0);
	CHECK_EQ(ext(A, MMUEXT_PIN_L2_TABLE, l2, 0), 0);
	REFUSED(one_update(A, slot_ptr(l2, 3), pte(l2, PTE_P)), VIREO_EBUSY);
	/* An L3 entry pointing at an L3 (the root's first L3). */
	mfn_t l3 = (page(root)[(A->layout.v_start >> 39) & 511] & PTE_ADDR) >> 12;
	REFUSED(one_update(A, slot_ptr(l3, 500), pte(l3, PTE_P)), VIREO_EBUSY);
	teardown();
}

/* A table whose validation fails part-way gives back what it took. */
static void failed_validation_rolls_back(void)
{
	REQUIRE(setup());
	mfn_t l2 = spare(A, 0), l1a = spare(A, 1), l1b = spare(A, 2), data = spare(A, 3);
	CHECK_EQ(ext(A, MMUEXT_CLEAR_PAGE, l2, 0), 0);
	CHECK_EQ(ext(A, MMUEXT_CLEAR_PAGE, l1a, 0), 0);
	CHECK_EQ(ext(A, MMUEXT_CLEAR_PAGE, l1b, 0), 0);
	/* Plain writes while they are not tables: l1a maps data, l1b maps a foreign frame. */
	CHECK_EQ(one_update(A, slot_ptr(l1a, 0), pte(data, PTE_P | PTE_W)), 0);
	CHECK_EQ(one_update(A, slot_ptr(l1b, 7), pte(spare(B, 0), PTE_P)), 0);
	CHECK_EQ(one_update(A, slot_ptr(l2, 0), pte(l1a, PTE_P)), 0);
	CHECK_EQ(one_update(A, slot_ptr(l2, 1), pte(l1b, PTE_P)), 0);
	REFUSED(ext(A, MMUEXT_PIN_L2_TABLE, l2, 0), VIREO_EPERM);
	CHECK_EQ(frame_table[l1a].type_count, 0);
	CHECK_EQ(frame_table[data].type_count, 0);
	/* Garbage as a root: refused, nothing kept. */
	REFUSED(ext(A, MMUEXT_NEW_BASEPTR, l1b, 0), VIREO_EPERM);
	teardown();
}

static void pins_and_roots(void)
{
	REQUIRE(setup());
	mfn_t root = A->mm.vcpu[0].root, l1 = new_l1(A, 0);
	REFUSED(ext(A, MMUEXT_UNPIN_TABLE, spare(A, 5), 0), VIREO_EINVAL);      /* not pinned */
	REFUSED(ext(A, MMUEXT_PIN_L1_TABLE, l1, 0), VIREO_EINVAL);             /* already pinned */
	REFUSED(ext(A, MMUEXT_PIN_L2_TABLE, l1, 0), VIREO_EINVAL);             /* pinned already, other type */
	REFUSED(ext(A, MMUEXT_NEW_BASEPTR, l1, 0), VIREO_EBUSY);               /* an L1 as CR3 */
	REFUSED(ext(A, MMUEXT_NEW_USER_BASEPTR, l1, 0), VIREO_EBUSY);
	/* Unpinning the root in use keeps it typed: the root holds it. */
	CHECK_EQ(ext(A, MMUEXT_UNPIN_TABLE, root, 0), 0);
	CHECK_EQ(frame_table[root].type, PGT_l4);
	CHECK_EQ(frame_table[root].type_count, 1);
	CHECK(frame_table[root].flags & PGF_validated);
	CHECK_EQ(ext(A, MMUEXT_PIN_L4_TABLE, root, 0), 0);
	/* A user root, then none. */
	CHECK_EQ(ext(A, MMUEXT_NEW_USER_BASEPTR, root, 0), 0);
	CHECK_EQ(frame_table[root].type_count, 3);
	CHECK_EQ(ext(A, MMUEXT_NEW_USER_BASEPTR, 0, 0), 0);
	CHECK_EQ(frame_table[root].type_count, 2);
	teardown();
}

/*
 * A fork-like address space: a new L4 sharing the kernel's mappings, with
 * its own L3/L2/L1 mapping fresh frames; pinned, switched to, used (the
 * hosted MMU walks it), switched away from, unpinned: every type dropped.
 */
static void build_switch_teardown(void)
{
	REQUIRE(setup());
	mfn_t root = A->mm.vcpu[0].root, l4 = spare(A, 0), l3 = spare(A, 1), l2 = spare(A, 2), l1 = spare(A, 3);
	mfn_t data[8];
	for (int i = 0; i < 4; i++)
		CHECK_EQ(ext(A, MMUEXT_CLEAR_PAGE, spare(A, i), 0), 0);
	for (int i = 0; i < 8; i++)
		data[i] = spare(A, 10 + i);
	struct mmu_update r[600];
	unsigned n = 0;
	for (unsigned s = 0; s < 512; s++)                 /* the kernel's mappings, shared */
		if ((s < 256 || s >= 272) && s != 200 && (page(root)[s] & PTE_P))
			r[n++] = (struct mmu_update){ slot_ptr(l4, s), page(root)[s] };
	r[n++] = (struct mmu_update){ slot_ptr(l4, 200), pte(l3, PTE_P | PTE_W) };
	r[n++] = (struct mmu_update){ slot_ptr(l3, 0), pte(l2, PTE_P | PTE_W) };
	r[n++] = (struct mmu_update){ slot_ptr(l2, 0), pte(l1, PTE_P | PTE_W) };
	for (int i = 0; i < 8; i++)
		r[n++] = (struct mmu_update){ slot_ptr(l1, i), pte(data[i], PTE_P | PTE_W) };
	uint32_t done = 0;
	CHECK_EQ(mmu_update(A, r, n, &done), 0);        /* plain writes: nothing is a table yet */
	CHECK_EQ(done, n);
	CHECK_EQ(ext(A, MMUEXT_PIN_L4_TABLE, l4, 0), 0);
	CHECK_EQ(frame_table[l1].type, PGT_l1);
	CHECK_EQ(frame_table[data[3]].type, PGT_writable);
	CHECK_EQ(audit(), 0);
	CHECK_EQ(ext(A, MMUEXT_NEW_BASEPTR, l4, 0), 0);
	CHECK_EQ(A->mm.vcpu[0].root, l4);
	uint64_t va = 200ull << 39 | 3 << 12, v = 0x1234567890ull, got = 0;
	CHECK_EQ(copy_to_guest(va, &v, 8), 0);
	CHECK_EQ(page(data[3])[0], (int64_t)v);
	CHECK_EQ(copy_from_guest(&got, A->layout.vstack_start, 8), 0);     /* the kernel still mapped */
	CHECK_EQ(ext(A, MMUEXT_NEW_BASEPTR, root, 0), 0);
	CHECK_EQ(ext(A, MMUEXT_UNPIN_TABLE, l4, 0), 0);
	for (int i = 0; i < 4; i++)
		CHECK_EQ(frame_table[spare(A, i)].type_count, 0);
	CHECK_EQ(frame_table[data[3]].count, 0);
	/* The old tables are plain memory again: writable mappings are fine. */
	mfn_t m = new_l1(A, 30);
	CHECK_EQ(one_update(A, slot_ptr(m, 0), pte(l1, PTE_P | PTE_W)), 0);
	teardown();
}

static void batch_stops_at_first_refusal(void)
{
	REQUIRE(setup());
	mfn_t l1 = new_l1(A, 0);
	struct mmu_update r[5];
	for (int i = 0; i < 5; i++)
		r[i] = (struct mmu_update){ slot_ptr(l1, i), pte(spare(A, 1 + i), PTE_P | PTE_W) };
	r[2].val = pte(spare(B, 0), PTE_P);
	uint32_t done = 99;
	CHECK_EQ(mmu_update(A, r, 5, &done), -VIREO_EPERM);
	CHECK_EQ(done, 2);
	CHECK(page(l1)[0] & PTE_P);
	CHECK(page(l1)[1] & PTE_P);
	CHECK_EQ(page(l1)[2], 0);
	CHECK_EQ(page(l1)[3], 0);
	CHECK_EQ(A->mm.stats.refused, 1);
	/* An unknown command and a bad list pointer. */
	r[0].ptr = slot_ptr(l1, 0) | 3;
	CHECK_EQ(mmu_update(A, r, 1, &done), -VIREO_ENOSYS);
	hosted_switch_to(A);
	CHECK_EQ(hosted_hypercall(__HYPERVISOR_mmu_update, 0xFFFF830000000000ull, 1, 0, DOMID_SELF, 0, NULL),
		 -VIREO_EFAULT);
	/* Another domain: none such (-ESRCH, as Xen), itself by id (-ESRCH), one that is there (-EPERM). */
	CHECK_EQ(hosted_hypercall(__HYPERVISOR_mmu_update, scratch_va(A), 1, 0, 3, 0, NULL), -VIREO_ESRCH);
	CHECK_EQ(hosted_hypercall(__HYPERVISOR_mmu_update, scratch_va(A), 1, 0, A->domid, 0, NULL), -VIREO_ESRCH);
	CHECK_EQ(hosted_hypercall(__HYPERVISOR_mmu_update, scratch_va(A), 1, 0, B->domid, 0, NULL), -VIREO_EPERM);
	teardown();
}

static void preserve_ad_and_machphys(void)
{
	REQUIRE(setup());
	mfn_t l1 = new_l1(A, 0), data = spare(A, 1);
	page(l1)[0] = 0;
	CHECK_EQ(one_update(A, slot_ptr(l1, 0), pte(data, PTE_P | PTE_A | PTE_D)), 0);
	CHECK_EQ(one_update(A, slot_ptr(l1, 0) | MMU_PT_UPDATE_PRESERVE_AD, pte(data, PTE_P | PTE_W)), 0);
	CHECK_EQ(page(l1)[0] & (PTE_A | PTE_D), PTE_A | PTE_D);
	CHECK_EQ(one_update(A, ((uint64_t)data << PAGE_SHIFT) | MMU_MACHPHYS_UPDATE, 77), 0);
	CHECK_EQ(machine_to_phys[data], 77);
	REFUSED(one_update(A, ((uint64_t)spare(B, 0) << PAGE_SHIFT) | MMU_MACHPHYS_UPDATE, 77), VIREO_EPERM);
	teardown();
}

static void long_batches_continue(void)
{
	REQUIRE(setup());
	mfn_t l1 = new_l1(A, 0);
	enum { N = 2000 };
	static struct mmu_update r[N];
	for (int i = 0; i < N; i++)
		r[i] = (struct mmu_update){ slot_ptr(l1, i % 512), pte(spare(A, 1 + (i % 7)), (i & 1) ? PTE_P : PTE_P | PTE_W) };
	uint64_t va = scratch_va(A), done_va = va + 0x10000 - 8;
	put_guest(A, va, r, sizeof(r));
	REQUIRE(sizeof(r) <= 0x10000 - 8);
	uint32_t done = 0;
	put_guest(A, done_va, &done, 4);
	hypercall_preempt_tsc = 1;
	unsigned restarts = 0;
	hosted_switch_to(A);
	CHECK_EQ(hosted_hypercall(__HYPERVISOR_mmu_update, va, N, done_va, DOMID_SELF, 0, &restarts), 0);
	CHECK_EQ(restarts, N / 16 - 1);
	CHECK_EQ(copy_from_guest(&done, done_va, 4), 0);
	CHECK_EQ(done, N);
	CHECK_EQ(A->mm.stats.continuations, restarts);
	CHECK_EQ(audit(), 0);
	/* A multicall holding a preempted batch: its arguments are written back and it completes. */
	struct multicall_entry mc[3] = {
		{ .op = __HYPERVISOR_xen_version },
		{ .op = __HYPERVISOR_mmu_update, .args = { va, 100, done_va, DOMID_SELF } },
		{ .op = __HYPERVISOR_multicall },
	};
	uint64_t mc_va = va + 0x10000 + 0x1000;
	put_guest(A, mc_va, mc, sizeof(mc));
	hosted_switch_to(A);
	CHECK_EQ(hosted_hypercall(__HYPERVISOR_multicall, mc_va, 3, 0, 0, 0, &restarts), 0);
	CHECK(restarts > 0);
	CHECK_EQ(copy_from_guest(mc, mc_va, sizeof(mc)), 0);
	CHECK_EQ(mc[0].result, (4 << 16) | 17);
	CHECK_EQ(mc[1].result, 0);
	CHECK_EQ(mc[2].result, (uint64_t)-VIREO_EINVAL);                /* no nesting */
	CHECK_EQ(copy_from_guest(&done, done_va, 4), 0);
	CHECK_EQ(done, 100);
	teardown();
}

static void update_va_mapping_and_flushes(void)
{
	REQUIRE(setup());
	uint64_t va = A->layout.vstack_end + 0x40000;        /* slack: mapped, writable */
	mfn_t l1;
	unsigned slot;
	REQUIRE(mm_l1_slot(&A->mm, &A->mm.vcpu[0], va, &l1, &slot) == 0);
	mfn_t data = spare(A, 0);
	uint64_t f0 = A->mm.stats.flushes, i0 = A->mm.stats.invlpgs;
	hosted_switch_to(A);
	CHECK_EQ(hosted_hypercall(__HYPERVISOR_update_va_mapping, va, pte(data, PTE_P | PTE_W), UVMF_INVLPG, 0, 0, NULL), 0);
	CHECK_EQ(A->mm.stats.invlpgs, i0 + 1);
	CHECK_EQ(page(l1)[slot], (int64_t)pte(data, PTE_P | PTE_W | PTE_U));
	uint64_t v = 42;
	CHECK_EQ(copy_to_guest(va, &v, 8), 0);
	CHECK_EQ(page(data)[0], 42);
	CHECK_EQ(hosted_hypercall(__HYPERVISOR_update_va_mapping, va, 0, UVMF_TLB_FLUSH | UVMF_ALL, 0, 0, NULL), 0);
	CHECK_EQ(A->mm.stats.flushes, f0 + 1);
	CHECK_EQ(copy_to_guest(va, &v, 8), -VIREO_EFAULT);   /* unmapped now */
	/* Outside its mappings, in the hypervisor's range, non-canonical. */
	REFUSED(hosted_hypercall(__HYPERVISOR_update_va_mapping, 0x7F0000000000ull, 0, 0, 0, 0, NULL), VIREO_EINVAL);
	REFUSED(hosted_hypercall(__HYPERVISOR_update_va_mapping, 0xFFFF830000000000ull, 0, 0, 0, 0, NULL), VIREO_EINVAL);
	REFUSED(hosted_hypercall(__HYPERVISOR_update_va_mapping, 0x0000900000000000ull, 0, 0, 0, 0, NULL), VIREO_EINVAL);
	/* Making a page-table frame writable through it. */
	REFUSED(hosted_hypercall(__HYPERVISOR_update_va_mapping, va, pte(A->mm.vcpu[0].root, PTE_P | PTE_W), 0, 0, 0, NULL), VIREO_EBUSY);
	/* A bad vCPU-mask pointer: the update is done, the flush request faults. */
	CHECK_EQ(hosted_hypercall(__HYPERVISOR_update_va_mapping, va, pte(data, PTE_P), UVMF_INVLPG | 0x10000, 0, 0, NULL),
		 -VIREO_EFAULT);
	teardown();
}

/* A type change owes a flush only when no full flush came since the frame was last mapped. */
static void type_change_flushes_once(void)
{
	REQUIRE(setup());
	mfn_t l1 = new_l1(A, 0), x = spare(A, 1), y = spare(A, 2);
	CHECK_EQ(ext(A, MMUEXT_CLEAR_PAGE, y, 0), 0);
	CHECK_EQ(one_update(A, slot_ptr(l1, 0), pte(x, PTE_P | PTE_W)), 0);
	CHECK_EQ(one_update(A, slot_ptr(l1, 1), pte(y, PTE_P | PTE_W)), 0);
	CHECK_EQ(one_update(A, slot_ptr(l1, 0), 0), 0);
	CHECK_EQ(one_update(A, slot_ptr(l1, 1), 0), 0);
	uint64_t f = A->mm.stats.flushes;
	CHECK_EQ(ext(A, MMUEXT_PIN_L1_TABLE, x, 0), 0);       /* writable -> L1 with no flush since: flush */
	CHECK_EQ(A->mm.stats.flushes, f + 1);
	CHECK_EQ(ext(A, MMUEXT_PIN_L1_TABLE, y, 0), 0);       /* that flush covered y too */
	CHECK_EQ(A->mm.stats.flushes, f + 1);
	CHECK_EQ(ext(A, MMUEXT_UNPIN_TABLE, y, 0), 0);
	CHECK_EQ(one_update(A, slot_ptr(l1, 1), pte(y, PTE_P | PTE_W)), 0);   /* L1 -> writable: flush */
	CHECK_EQ(A->mm.stats.flushes, f + 2);
	teardown();
}

static void count_overflow_refused(void)
{
	REQUIRE(setup());
	mfn_t l1 = new_l1(A, 0), data = spare(A, 1);
	frame_count_limit = 5;
	for (int i = 0; i < 5; i++)
		CHECK_EQ(one_update(A, slot_ptr(l1, i), pte(data, PTE_P)), 0);
	REFUSED(one_update(A, slot_ptr(l1, 5), pte(data, PTE_P)), VIREO_EOVERFLOW);
	/* Type counts: five L2 entries on one L1 (the pin holds one). */
	mfn_t l2 = spare(A, 2);
	CHECK_EQ(ext(A, MMUEXT_CLEAR_PAGE, l2, 0), 0);
	CHECK_EQ(ext(A, MMUEXT_PIN_L2_TABLE, l2, 0), 0);
	for (int i = 0; i < 4; i++)
		CHECK_EQ(one_update(A, slot_ptr(l2, i), pte(l1, PTE_P)), 0);
	REFUSED(one_update(A, slot_ptr(l2, 4), pte(l1, PTE_P)), VIREO_EOVERFLOW);
	frame_count_limit = 0x7FFFFFFFu;
	teardown();
}

static void mmuext_misc(void)
{
	REQUIRE(setup());
	CHECK_EQ(ext(A, MMUEXT_TLB_FLUSH_LOCAL, 0, 0), 0);
	CHECK_EQ(ext(A, MMUEXT_INVLPG_LOCAL, A->layout.vstack_start, 0), 0);
	CHECK_EQ(ext(A, MMUEXT_SET_LDT, 0, 0), 0);
	REFUSED(ext(A, MMUEXT_SET_LDT, A->layout.vstack_start, 16), VIREO_EBUSY);   /* mapped writable */
	CHECK_EQ(ext(A, MMUEXT_SET_LDT, A->layout.vstack_start + 8, 0), 0);   /* no entries: address ignored */
	REFUSED(ext(A, MMUEXT_SET_LDT, A->layout.vstack_start + 8, 1), VIREO_EINVAL);
	REFUSED(ext(A, MMUEXT_SET_LDT, 0, 8193), VIREO_EINVAL);
	REFUSED(ext(A, MMUEXT_FLUSH_CACHE, 0, 0), VIREO_EPERM);
	REFUSED(ext(A, MMUEXT_MARK_SUPER, spare(A, 0), 0), VIREO_EOPNOTSUPP);
	REFUSED(ext(A, 99, 0, 0), VIREO_ENOSYS);
	/* The vCPU mask of a *_MULTI flush is read from the guest. */
	REFUSED(ext(A, MMUEXT_TLB_FLUSH_MULTI, 0, 0x10), VIREO_EFAULT);
	REFUSED(hosted_hypercall(__HYPERVISOR_update_va_mapping_otherdomain, 0, 0, 0, 0, 0, NULL), VIREO_EPERM);
	teardown();
}

/* The hypercall-page MSR never writes over a page table. */
static void hypercall_page_not_over_a_table(void)
{
	REQUIRE(setup());
	uint64_t pt_pfn = (A->layout.vpt_start - A->layout.v_start) >> 12;
	hosted_switch_to(A);
	REFUSED(domain_fill_hypercall_page(pt_pfn), VIREO_EBUSY);
	CHECK_EQ(domain_fill_hypercall_page(((A->layout.v_end - A->layout.v_start) >> 12) + 3), 0);
	teardown();
}

static void ptwr_decodes_the_kernel_forms(void)
{
	struct ptwr_insn d;
	/* mov %rax,(%rdi) */
	CHECK_EQ(ptwr_decode((const uint8_t[]){ 0x48, 0x89, 0x07 }, 3, &d), 0);
	CHECK(d.op == PTWR_MOV && d.len == 3 && d.reg == 0);
	/* mov %r9,0x10(%rsp) (SIB, disp8, REX.R) */
	CHECK_EQ(ptwr_decode((const uint8_t[]){ 0x4c, 0x89, 0x4c, 0x24, 0x10 }, 5, &d), 0);
	CHECK(d.op == PTWR_MOV && d.len == 5 && d.reg == 9);
	/* movq $-1,0x1000(%rbx): C7 /0, disp32, imm32 sign-extended */
	CHECK_EQ(ptwr_decode((const uint8_t[]){ 0x48, 0xc7, 0x83, 0, 0x10, 0, 0, 0xff, 0xff, 0xff, 0xff }, 11, &d), 0);
	CHECK(d.op == PTWR_MOV && d.len == 11 && d.reg == ~0u && d.imm == ~0ull);
	/* lock xchg %rdx,(%rcx); lock cmpxchg %rsi,(%rdi); a %gs: override */
	CHECK_EQ(ptwr_decode((const uint8_t[]){ 0xf0, 0x48, 0x87, 0x11 }, 4, &d), 0);
	CHECK(d.op == PTWR_XCHG && d.len == 4 && d.reg == 2);
	CHECK_EQ(ptwr_decode((const uint8_t[]){ 0xf0, 0x48, 0x0f, 0xb1, 0x37 }, 5, &d), 0);
	CHECK(d.op == PTWR_CMPXCHG && d.len == 5 && d.reg == 6);
	CHECK_EQ(ptwr_decode((const uint8_t[]){ 0x65, 0x48, 0x89, 0x04, 0x25, 0, 0, 0, 0 }, 9, &d), 0);
	CHECK_EQ(d.len, 9);
	/* Not emulated: 32-bit mov, register destination, C7 /1, truncated bytes, other opcodes. */
	CHECK_EQ(ptwr_decode((const uint8_t[]){ 0x89, 0x07 }, 2, &d), -VIREO_EINVAL);
	CHECK_EQ(ptwr_decode((const uint8_t[]){ 0x48, 0x89, 0xc7 }, 3, &d), -VIREO_EINVAL);
	CHECK_EQ(ptwr_decode((const uint8_t[]){ 0x48, 0xc7, 0x08, 0, 0, 0, 0 }, 7, &d), -VIREO_EINVAL);
	CHECK_EQ(ptwr_decode((const uint8_t[]){ 0x48, 0xc7, 0x83, 0, 0x10 }, 5, &d), -VIREO_EINVAL);
	CHECK_EQ(ptwr_decode((const uint8_t[]){ 0x48, 0x01, 0x07 }, 3, &d), -VIREO_EINVAL);
	CHECK_EQ(ptwr_decode((const uint8_t[]){ 0x48 }, 1, &d), -VIREO_EINVAL);
}

static void ptwr_emulates_validated_writes(void)
{
	REQUIRE(setup());
	mfn_t l1 = new_l1(A, 0), data = spare(A, 1);
	uint64_t va = A->layout.vstack_end + 0x50000;       /* the L1, mapped read-only here */
	hosted_switch_to(A);
	REQUIRE(hosted_hypercall(__HYPERVISOR_update_va_mapping, va, pte(l1, PTE_P), UVMF_INVLPG, 0, 0, NULL) == 0);
	static const uint8_t mov_rax[] = { 0x48, 0x89, 0x07 }, xchg_rdx[] = { 0x48, 0x87, 0x17 },
			     cmpxchg_rsi[] = { 0xf0, 0x48, 0x0f, 0xb1, 0x37 };
	struct ptwr_regs r = { .rflags = 0x202 };
	unsigned adv = 0;
	r.gpr[0] = pte(data, PTE_P | PTE_W);
	/* Not enabled: a real fault. */
	REFUSED(ptwr_emulate(&A->mm, &A->mm.vcpu[0], va + 8, mov_rax, 3, &r, &adv), VIREO_EPERM);
	CHECK_EQ(hosted_hypercall(__HYPERVISOR_vm_assist, VMASST_CMD_enable, VMASST_TYPE_writable_pagetables, 0, 0, 0, NULL), 0);
	CHECK_EQ(hosted_hypercall(__HYPERVISOR_vm_assist, VMASST_CMD_enable, VMASST_TYPE_m2p_strict, 0, 0, 0, NULL), -VIREO_EINVAL);
	CHECK_EQ(ptwr_emulate(&A->mm, &A->mm.vcpu[0], va + 8, mov_rax, 3, &r, &adv), 0);
	CHECK_EQ(adv, 3);
	CHECK_EQ(page(l1)[1], (int64_t)pte(data, PTE_P | PTE_W | PTE_U));
	CHECK_EQ(frame_table[data].type_count, 1);
	/* xchg returns the old entry. */
	r.gpr[2] = pte(data, PTE_P);
	CHECK_EQ(ptwr_emulate(&A->mm, &A->mm.vcpu[0], va + 8, xchg_rdx, 3, &r, &adv), 0);
	CHECK_EQ(r.gpr[2], (int64_t)pte(data, PTE_P | PTE_W | PTE_U));
	CHECK_EQ(frame_table[data].type_count, 0);
	/* cmpxchg: a mismatch loads RAX and clears ZF; a match writes and sets ZF. */
	r.gpr[0] = 12345;
	r.gpr[6] = 0;
	CHECK_EQ(ptwr_emulate(&A->mm, &A->mm.vcpu[0], va + 8, cmpxchg_rsi, 5, &r, &adv), 0);
	CHECK_EQ(r.gpr[0], (int64_t)pte(data, PTE_P | PTE_U));
	CHECK_EQ(r.rflags & 0x40, 0);
	CHECK_EQ(ptwr_emulate(&A->mm, &A->mm.vcpu[0], va + 8, cmpxchg_rsi, 5, &r, &adv), 0);
	CHECK_EQ(r.rflags & 0x40, 0x40);
	CHECK_EQ(page(l1)[1], 0);
	/* The rules hold: a foreign frame, the L1 itself writable, a misaligned write. */
	r.gpr[0] = pte(spare(B, 0), PTE_P);
	REFUSED(ptwr_emulate(&A->mm, &A->mm.vcpu[0], va + 16, mov_rax, 3, &r, &adv), VIREO_EPERM);
	r.gpr[0] = pte(l1, PTE_P | PTE_W);
	REFUSED(ptwr_emulate(&A->mm, &A->mm.vcpu[0], va + 16, mov_rax, 3, &r, &adv), VIREO_EBUSY);
	REFUSED(ptwr_emulate(&A->mm, &A->mm.vcpu[0], va + 4, mov_rax, 3, &r, &adv), VIREO_EINVAL);
	/* Only L1s: a write to the root through its read-only mapping is a real fault. */
	uint64_t root_va = A->layout.vpt_start;
	r.gpr[0] = 0;
	REFUSED(ptwr_emulate(&A->mm, &A->mm.vcpu[0], root_va, mov_rax, 3, &r, &adv), VIREO_EINVAL);
	CHECK_EQ(A->mm.stats.emulated, 3);
	teardown();
}

/* shared_info and a registered vcpu_info page are written by the hypervisor: never tables. */
static void hypervisor_written_pages_never_tables(void)
{
	REQUIRE(setup());
	REFUSED(ext(A, MMUEXT_PIN_L1_TABLE, A->shared_info_mfn, 0), VIREO_EBUSY);
	mfn_t l2 = spare(A, 0), page_of_vi = spare(A, 1);
	CHECK_EQ(ext(A, MMUEXT_CLEAR_PAGE, l2, 0), 0);
	CHECK_EQ(ext(A, MMUEXT_PIN_L2_TABLE, l2, 0), 0);
	REFUSED(one_update(A, slot_ptr(l2, 0), pte(A->shared_info_mfn, PTE_P)), VIREO_EBUSY);
	struct vcpu_register_vcpu_info vi = { .mfn = page_of_vi, .offset = 64 };
	uint64_t va = scratch_va(A) + 0x30000;
	put_guest(A, va, &vi, sizeof(vi));
	hosted_switch_to(A);
	CHECK_EQ(hosted_hypercall(__HYPERVISOR_vcpu_op, VCPUOP_register_vcpu_info, 0, va, 0, 0, NULL), 0);
	CHECK_EQ(hosted_hypercall(__HYPERVISOR_vcpu_op, VCPUOP_register_vcpu_info, 0, va, 0, 0, NULL), -VIREO_EINVAL);
	CHECK(vcpu_info_of(current_vcpu) == (struct vcpu_info *)((uint8_t *)page(page_of_vi) + 64));
	REFUSED(ext(A, MMUEXT_PIN_L1_TABLE, page_of_vi, 0), VIREO_EBUSY);
	teardown();
}

/* ---- foreign mappings (the privileged domain maps another's frames) ---------- */

static long uvm_other(struct domain *d, uint64_t va, uint64_t val, uint64_t flags, uint64_t domid)
{
	hosted_switch_to(d);
	return hosted_hypercall(__HYPERVISOR_update_va_mapping_otherdomain, va, val, flags, domid, 0, NULL);
}

static void foreign_mappings_for_the_privileged(void)
{
	REQUIRE(setup());
	mfn_t bl1 = new_l1(B, 0), x = spare(A, 0);
	REQUIRE(bl1 != INVALID_MFN);
	/* Only with the owner named as foreigndom. */
	REFUSED(one_update(B, slot_ptr(bl1, 0), pte(x, PTE_P)), VIREO_EPERM);
	CHECK_EQ(foreign_update(B, slot_ptr(bl1, 0), pte(x, PTE_P), A->domid), 0);
	CHECK_EQ(frame_table[x].count, 1);
	CHECK_EQ(frame_table[x].owner, A->mm.owner);
	CHECK_EQ(foreign_update(B, slot_ptr(bl1, 1), pte(x, PTE_P | PTE_W), A->domid), 0);
	CHECK_EQ(frame_table[x].count, 2);
	CHECK_EQ(frame_table[x].type, PGT_writable);
	CHECK_EQ(frame_table[x].type_count, 1);
	CHECK_EQ(audit(), 0);
	/* The owner cannot make it a page table while B maps it writable. */
	REFUSED(ext(A, MMUEXT_PIN_L1_TABLE, x, 0), VIREO_EBUSY);
	/* A batch that names A maps A's frames only, not B's own (as Xen). */
	REFUSED(foreign_update(B, slot_ptr(bl1, 2), pte(spare(B, 1), PTE_P), A->domid), VIREO_EPERM);
	CHECK_EQ(foreign_update(B, slot_ptr(bl1, 2), pte(spare(A, 2), PTE_P), A->domid), 0);
	/* Not for the unprivileged, not of a privileged domain, not a missing one. */
	mfn_t al1 = new_l1(A, 1);
	REQUIRE(al1 != INVALID_MFN);
	REFUSED(foreign_update(A, slot_ptr(al1, 0), pte(spare(B, 2), PTE_P), B->domid), VIREO_EPERM);
	REFUSED(foreign_update(A, slot_ptr(al1, 0), pte(spare(B, 2), PTE_P), DOMID_IO), VIREO_EPERM);
	REFUSED(foreign_update(B, slot_ptr(bl1, 3), pte(x, PTE_P), 5), VIREO_ESRCH);
	REFUSED(foreign_update(B, slot_ptr(bl1, 3), pte(x, PTE_P), DOMID_XEN), VIREO_ESRCH);
	/* Another domain's page tables, or mmuext_op on another's frames: not there. */
	REFUSED(foreign_update(B, slot_ptr(bl1, 3), pte(x, PTE_P), ((A->domid + 1u) << 16) | DOMID_SELF),
		VIREO_EOPNOTSUPP);
	uint64_t op_va = scratch_va(B) + 0x20000;
	struct mmuext_op op = { .cmd = MMUEXT_PIN_L1_TABLE };
	op.arg1.mfn = spare(A, 3);
	put_guest(B, op_va, &op, sizeof(op));
	hosted_switch_to(B);
	REFUSED(hosted_hypercall(__HYPERVISOR_mmuext_op, op_va, 1, 0, A->domid, 0, NULL), VIREO_EOPNOTSUPP);
	/* A frame of A's whose table role may still be cached by A's CPU: not writable yet. */
	mfn_t t = spare(A, 4);
	CHECK_EQ(ext(A, MMUEXT_CLEAR_PAGE, t, 0), 0);
	CHECK_EQ(ext(A, MMUEXT_PIN_L1_TABLE, t, 0), 0);
	CHECK_EQ(ext(A, MMUEXT_UNPIN_TABLE, t, 0), 0);
	REFUSED(foreign_update(B, slot_ptr(bl1, 4), pte(t, PTE_P | PTE_W), A->domid), VIREO_EBUSY);
	CHECK_EQ(foreign_update(B, slot_ptr(bl1, 4), pte(t, PTE_P), A->domid), 0);   /* read-only is fine */
	CHECK_EQ(ext(A, MMUEXT_TLB_FLUSH_LOCAL, 0, 0), 0);
	CHECK_EQ(foreign_update(B, slot_ptr(bl1, 5), pte(t, PTE_P | PTE_W), A->domid), 0);
	/* Dropping a writable foreign mapping flushes B's TLB before B runs again. */
	uint32_t clock = B->mm.clock;
	CHECK_EQ(one_update(B, slot_ptr(bl1, 1), 0), 0);
	CHECK_EQ(B->mm.clock, clock + 1);
	CHECK_EQ(B->mm.pending, 0);
	CHECK_EQ(frame_table[x].count, 1);
	CHECK_EQ(frame_table[x].type_count, 0);
	CHECK_EQ(ext(A, MMUEXT_TLB_FLUSH_LOCAL, 0, 0), 0);
	CHECK_EQ(ext(A, MMUEXT_PIN_L1_TABLE, x, 0), 0);     /* read-only mapped by B: may be a table */
	CHECK_EQ(audit(), 0);
	REFUSED(foreign_update(B, slot_ptr(bl1, 1), pte(x, PTE_P | PTE_W), A->domid), VIREO_EBUSY);
	CHECK_EQ(ext(A, MMUEXT_UNPIN_TABLE, x, 0), 0);
	teardown();
}

/* A table validated during a foreign batch still maps only its own domain's frames. */
static void foreign_frames_never_validated(void)
{
	REQUIRE(setup());
	mfn_t l2 = spare(B, 0), l1 = spare(B, 1), x = spare(A, 0);
	CHECK_EQ(ext(B, MMUEXT_CLEAR_PAGE, l2, 0), 0);
	CHECK_EQ(ext(B, MMUEXT_PIN_L2_TABLE, l2, 0), 0);
	CHECK_EQ(ext(B, MMUEXT_CLEAR_PAGE, l1, 0), 0);
	page(l1)[0] = pte(x, PTE_P);                      /* B's own writable frame, not yet a table */
	REFUSED(foreign_update(B, slot_ptr(l2, 0), pte(l1, PTE_P), A->domid), VIREO_EPERM);
	teardown();
}

static void update_va_mapping_otherdomain(void)
{
	REQUIRE(setup());
	uint64_t va = B->layout.vstack_end + 0x40000;        /* B's slack: mapped, writable */
	mfn_t x = spare(A, 0), old_l1;
	unsigned slot;
	REQUIRE(mm_l1_slot(&B->mm, &B->mm.vcpu[0], va, &old_l1, &slot) == 0);
	uint64_t old = page(old_l1)[slot];
	page(x)[0] = 0x5EC2E7;
	CHECK_EQ(uvm_other(B, va, pte(x, PTE_P | PTE_W), UVMF_INVLPG, A->domid), 0);
	uint64_t v = 0;
	CHECK_EQ(copy_from_guest(&v, va, 8), 0);           /* B reads A's page */
	CHECK_EQ(v, 0x5EC2E7);
	v = 7;
	CHECK_EQ(copy_to_guest(va, &v, 8), 0);
	CHECK_EQ(page(x)[0], 7);
	CHECK_EQ(audit(), 0);
	/* DOMID_SELF is plain update_va_mapping; A may not; nobody maps B's frames so. */
	REFUSED(uvm_other(B, va, pte(x, PTE_P), 0, DOMID_SELF), VIREO_EPERM);
	REFUSED(uvm_other(A, A->layout.vstack_end + 0x40000, pte(spare(B, 0), PTE_P), 0, B->domid), VIREO_EPERM);
	REFUSED(uvm_other(B, va, pte(x, PTE_P), 0, 6), VIREO_ESRCH);
	CHECK_EQ(uvm_other(B, va, old, UVMF_TLB_FLUSH, DOMID_SELF), 0);
	CHECK_EQ(frame_table[x].count, 0);
	teardown();
}

static int audit_one(struct domain *d)
{
	struct domain_mm *mms[1] = { &d->mm };
	char why[256];
	int rc = mm_audit(mms, 1, why, sizeof(why));
	if (rc)
		fprintf(stderr, "    audit: %s\n", why);
	return rc;
}

/* A domain that ends while B maps its frames: those become orphans, freed by B's last unmap. */
static void ended_domain_frames_orphaned(void)
{
	REQUIRE(setup());
	mfn_t bl1 = new_l1(B, 0), x = spare(A, 0), y = spare(A, 1);
	REQUIRE(bl1 != INVALID_MFN);
	CHECK_EQ(foreign_update(B, slot_ptr(bl1, 0), pte(x, PTE_P | PTE_W), A->domid), 0);
	CHECK_EQ(foreign_update(B, slot_ptr(bl1, 1), pte(x, PTE_P), A->domid), 0);
	CHECK_EQ(foreign_update(B, slot_ptr(bl1, 2), pte(y, PTE_P), A->domid), 0);
	hosted_switch_to(NULL);
	domain_destroy(A);
	CHECK_EQ(frame_table[x].owner, OWNER_ORPHAN);
	CHECK_EQ(frame_table[x].count, 2);
	CHECK_EQ(frame_table[x].type_count, 1);
	CHECK_EQ(frame_table[y].owner, OWNER_ORPHAN);
	CHECK_EQ(machine_to_phys[x], ~0ull);
	CHECK_EQ(audit_one(B), 0);
	/* Orphans are never mapped anew: not by naming the domain that is gone, nor as B's own. */
	CHECK_EQ(foreign_update(B, slot_ptr(bl1, 3), pte(x, PTE_P), 1), -VIREO_ESRCH);
	CHECK_EQ(one_update(B, slot_ptr(bl1, 3), pte(x, PTE_P)), -VIREO_EPERM);
	CHECK_EQ(one_update(B, slot_ptr(bl1, 0), 0), 0);
	CHECK_EQ(frame_table[x].count, 1);
	uint64_t free_before = frame_nr_free();
	CHECK_EQ(one_update(B, slot_ptr(bl1, 1), 0), 0);
	CHECK_EQ(frame_table[x].owner, OWNER_NONE);          /* the last mapping: freed */
	CHECK_EQ(frame_nr_free(), free_before + 1);
	CHECK_EQ(audit_one(B), 0);
	/* y goes with B's own end. */
	domain_destroy(B);
	CHECK_EQ(frame_table[y].owner, OWNER_NONE);
	CHECK_EQ(frame_nr_free(), free_at_start);
}

/*
 * A batch that named A before A began to end (domain_foreign passed) meets
 * A's frames already orphaned: the owner, checked under A's lock, refuses.
 */
static void batch_racing_an_end_refused(void)
{
	REQUIRE(setup());
	mfn_t bl1 = new_l1(B, 0), x = spare(A, 0), y = spare(A, 1);
	REQUIRE(bl1 != INVALID_MFN);
	CHECK_EQ(foreign_update(B, slot_ptr(bl1, 0), pte(x, PTE_P), A->domid), 0);
	hosted_switch_to(NULL);
	domain_release_memory(A);                        /* A ends; its slot (and lock) stay */
	CHECK_EQ(frame_table[x].owner, OWNER_ORPHAN);
	hosted_switch_to(B);
	spin_lock(&B->mm.lock);
	mm_set_foreign(&B->mm, &A->mm);                  /* as the batch had resolved it */
	CHECK_EQ(mm_update(&B->mm, slot_ptr(bl1, 1), pte(x, PTE_P), false), -VIREO_EPERM);
	CHECK_EQ(mm_update(&B->mm, slot_ptr(bl1, 1), pte(y, PTE_P), false), -VIREO_EPERM);   /* freed */
	mm_set_foreign(&B->mm, NULL);
	spin_unlock(&B->mm.lock);
	CHECK_EQ(frame_table[x].count, 1);
	CHECK_EQ(page(bl1)[1], 0);
	CHECK_EQ(one_update(B, slot_ptr(bl1, 0), 0), 0);
	CHECK_EQ(frame_table[x].owner, OWNER_NONE);
	CHECK_EQ(audit_one(B), 0);
	hosted_switch_to(NULL);
	domain_destroy(A);
	domain_destroy(B);
	CHECK_EQ(frame_nr_free(), free_at_start);
}

/* The privileged domain's end drops its foreign mappings; the other domain keeps running. */
static void privileged_end_drops_foreign_mappings(void)
{
	REQUIRE(setup());
	mfn_t bl1 = new_l1(B, 0), x = spare(A, 0);
	REQUIRE(bl1 != INVALID_MFN);
	CHECK_EQ(foreign_update(B, slot_ptr(bl1, 0), pte(x, PTE_P | PTE_W), A->domid), 0);
	hosted_switch_to(NULL);
	domain_destroy(B);
	CHECK_EQ(frame_table[x].count, 0);
	CHECK_EQ(frame_table[x].type_count, 0);
	CHECK_EQ(audit_one(A), 0);
	CHECK_EQ(ext(A, MMUEXT_TLB_FLUSH_LOCAL, 0, 0), 0);
	CHECK_EQ(ext(A, MMUEXT_CLEAR_PAGE, x, 0), 0);
	CHECK_EQ(ext(A, MMUEXT_PIN_L1_TABLE, x, 0), 0);       /* A's own again, whole */
	CHECK_EQ(audit_one(A), 0);
	hosted_switch_to(NULL);
	domain_destroy(A);
	CHECK_EQ(frame_nr_free(), free_at_start);
}

/* ---- the guest's GDT: set_gdt and update_descriptor -------------------------- */

#define DESC_DATA3  0x00CFF2000000FFFFull     /* data, DPL 3 */
#define DESC_CODE3  0x00AFFA000000FFFFull     /* 64-bit code, DPL 3 */
#define DESC_CODE0  0x00AF9A000000FFFFull     /* 64-bit code, DPL 0 */
#define DESC_DATA1  0x00CFB2000000FFFFull     /* data, DPL 1 */
#define DESC_NP     0x00CF7A000000FFFFull     /* code, DPL 3, not present: allowed whatever it says */
#define DESC_NP_GATE 0x00006C0000081000ull    /* a call gate, not present: allowed too */
#define DESC_CALL_GATE 0x0000EC0000081000ull  /* 64-bit call gate, DPL 3, to selector 8 */
#define DESC_INT_GATE  0x0000EE0000081000ull  /* interrupt gate, DPL 3 */
#define DESC_TSS    0x0000890000000067ull     /* available 64-bit TSS, DPL 0 */
#define DESC_TSS3   0x0000E90000000067ull     /* the same, DPL 3 */
#define DESC_LDT    0x0000E20000000067ull     /* LDT, DPL 3 */

static long set_gdt(struct domain *d, const mfn_t *frames, unsigned nr, uint64_t entries)
{
	uint64_t va = scratch_va(d) + 0x38000;
	if (nr)
		put_guest(d, va, frames, nr * sizeof(*frames));
	hosted_switch_to(d);
	return hosted_hypercall(__HYPERVISOR_set_gdt, va, entries, 0, 0, 0, NULL);
}

static long update_desc(struct domain *d, uint64_t ma, uint64_t desc)
{
	hosted_switch_to(d);
	return hosted_hypercall(__HYPERVISOR_update_descriptor, ma, desc, 0, 0, 0, NULL);
}

static uint64_t desc_ma(mfn_t frame, unsigned slot) { return ((uint64_t)frame << PAGE_SHIFT) + slot * 8; }

static void gdt_good_descriptors(void)
{
	REQUIRE(setup());
	mfn_t g = spare(A, 0), l1 = new_l1(A, 1);
	REQUIRE(l1 != INVALID_MFN);
	page(g)[0] = DESC_DATA3;                      /* entry 0: the CPU's null descriptor all the same */
	page(g)[1] = DESC_CODE3;
	page(g)[2] = DESC_DATA3;
	page(g)[3] = DESC_NP;
	page(g)[4] = DESC_NP_GATE;
	page(g)[5] = DESC_DATA3;                      /* past `entries`: checked, not copied */
	CHECK_EQ(set_gdt(A, &g, 1, 5), 0);
	CHECK_EQ(frame_table[g].type, PGT_seg_desc);
	CHECK_EQ(frame_table[g].count, 1);
	CHECK_EQ(frame_table[g].type_count, 1);
	CHECK_EQ(A->mm.vcpu[0].gdt_entries, 5);
	CHECK_EQ(A->mm.vcpu[0].gdt_frames[0], g);
	const uint64_t *cpu = hosted_guest_gdt();
	CHECK_EQ(cpu[0], 0);
	CHECK_EQ(cpu[1], DESC_CODE3);
	CHECK_EQ(cpu[2], DESC_DATA3);
	CHECK_EQ(cpu[3], DESC_NP);
	CHECK_EQ(cpu[4], DESC_NP_GATE);
	CHECK_EQ(cpu[5], 0);
	CHECK_EQ(audit(), 0);
	/* While it is a GDT frame: never writable, never a page table; read-only mappings are fine. */
	REFUSED(one_update(A, slot_ptr(l1, 0), pte(g, PTE_P | PTE_W)), VIREO_EBUSY);
	REFUSED(ext(A, MMUEXT_PIN_L1_TABLE, g, 0), VIREO_EBUSY);
	REFUSED(ext(A, MMUEXT_NEW_BASEPTR, g, 0), VIREO_EBUSY);
	REFUSED(ext(A, MMUEXT_CLEAR_PAGE, g, 0), VIREO_EBUSY);
	REFUSED(ext(A, MMUEXT_COPY_PAGE, g, spare(A, 2)), VIREO_EBUSY);
	REFUSED(one_update(A, slot_ptr(g, 1), 0), VIREO_EBUSY);          /* a plain write into it */
	hosted_switch_to(A);
	REFUSED(domain_fill_hypercall_page(((A->layout.v_end - A->layout.v_start) >> 12)), VIREO_EBUSY);
	CHECK_EQ(one_update(A, slot_ptr(l1, 0), pte(g, PTE_P)), 0);
	/* The largest GDT: 14 frames, 7168 entries (one more is refused). */
	mfn_t all[MM_GDT_FRAMES];
	for (unsigned i = 0; i < MM_GDT_FRAMES; i++)
		all[i] = i ? spare(A, 10 + i) : g;
	page(all[13])[511] = DESC_DATA3;
	CHECK_EQ(set_gdt(A, all, MM_GDT_FRAMES, 7168), 0);
	CHECK_EQ(cpu[7167], DESC_DATA3);
	CHECK_EQ(cpu[1], DESC_CODE3);
	CHECK_EQ(audit(), 0);
	REFUSED(set_gdt(A, all, MM_GDT_FRAMES, 7169), VIREO_EINVAL);
	/* Back to none: every reference dropped, the CPU's copy cleared. */
	CHECK_EQ(set_gdt(A, NULL, 0, 0), 0);
	CHECK_EQ(A->mm.vcpu[0].gdt_entries, 0);
	CHECK_EQ(frame_table[g].type_count, 0);
	CHECK_EQ(frame_table[g].count, 1);                /* the read-only mapping */
	CHECK_EQ(cpu[1], 0);
	CHECK_EQ(cpu[7167], 0);
	CHECK_EQ(one_update(A, slot_ptr(l1, 1), pte(g, PTE_P | PTE_W)), 0);   /* plain memory again */
	teardown();
}

static void gdt_bad_descriptors_refused(void)
{
	REQUIRE(setup());
	mfn_t g = spare(A, 0);
	static const uint64_t bad[] = { DESC_CALL_GATE, DESC_INT_GATE, DESC_TSS, DESC_TSS3, DESC_LDT };
	page(g)[1] = DESC_DATA3;
	for (unsigned i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		page(g)[2] = bad[i];
		REFUSED(set_gdt(A, &g, 1, 3), VIREO_EINVAL);
		CHECK_EQ(frame_table[g].type_count, 0);
		CHECK_EQ(frame_table[g].count, 0);
		CHECK(!descriptor_ok(bad[i]));
	}
	/* A segment of DPL 0-2: taken, its DPL raised to 3 in the frame and the CPU's copy (Xen's fix-up). */
	page(g)[2] = DESC_CODE0;
	page(g)[3] = DESC_DATA1;
	CHECK_EQ(set_gdt(A, &g, 1, 4), 0);
	CHECK_EQ(page(g)[2], DESC_CODE3);
	CHECK_EQ(page(g)[3], DESC_DATA3);
	CHECK_EQ(hosted_guest_gdt()[2], DESC_CODE3);
	CHECK_EQ(set_gdt(A, NULL, 0, 0), 0);
	page(g)[3] = 0;
	/* The whole frame is checked, not only the first `entries`. */
	page(g)[2] = DESC_DATA3;
	page(g)[400] = DESC_CALL_GATE;
	REFUSED(set_gdt(A, &g, 1, 3), VIREO_EINVAL);
	page(g)[400] = 0;
	/* All or nothing: a good frame and a bad one change nothing; the GDT in force stays. */
	mfn_t good = spare(A, 1), worse = spare(A, 2);
	page(good)[1] = DESC_CODE3;
	page(worse)[7] = DESC_TSS;
	CHECK_EQ(set_gdt(A, &g, 1, 3), 0);
	mfn_t two[2] = { good, worse };
	REFUSED(set_gdt(A, two, 2, 600), VIREO_EINVAL);
	CHECK_EQ(frame_table[good].type_count, 0);
	CHECK_EQ(A->mm.vcpu[0].gdt_entries, 3);
	CHECK_EQ(A->mm.vcpu[0].gdt_frames[0], g);
	CHECK_EQ(hosted_guest_gdt()[2], DESC_DATA3);
	CHECK_EQ(hosted_guest_gdt()[513], 0);
	teardown();
}

static void gdt_frames_refused(void)
{
	REQUIRE(setup());
	mfn_t l1 = new_l1(A, 0), g = spare(A, 1);
	REQUIRE(l1 != INVALID_MFN);
	mfn_t foreign = spare(B, 0), nobody = 0x100, past = frame_table_frames + 3;
	REFUSED(set_gdt(A, &foreign, 1, 1), VIREO_EPERM);
	REFUSED(set_gdt(A, &nobody, 1, 1), VIREO_EPERM);
	REFUSED(set_gdt(A, &past, 1, 1), VIREO_EPERM);
	/* Mapped writable (by the guest, or held by the hypervisor), a page table in use, the root. */
	REFUSED(set_gdt(A, &A->shared_info_mfn, 1, 1), VIREO_EBUSY);
	CHECK_EQ(one_update(A, slot_ptr(l1, 0), pte(g, PTE_P | PTE_W)), 0);
	REFUSED(set_gdt(A, &g, 1, 1), VIREO_EBUSY);
	REFUSED(set_gdt(A, &l1, 1, 1), VIREO_EBUSY);
	REFUSED(set_gdt(A, &A->mm.vcpu[0].root, 1, 1), VIREO_EBUSY);
	/* Too many entries; a frame list it cannot read. */
	REFUSED(set_gdt(A, &g, 1, 7169), VIREO_EINVAL);
	REFUSED(set_gdt(A, &g, 1, 0xFFFFFFFFu), VIREO_EINVAL);
	hosted_switch_to(A);
	REFUSED(hosted_hypercall(__HYPERVISOR_set_gdt, 0xFFFF830000000000ull, 1, 0, 0, 0, NULL), VIREO_EFAULT);
	REFUSED(hosted_hypercall(__HYPERVISOR_set_gdt, A->layout.v_end + 0x100000, 1, 0, 0, 0, NULL), VIREO_EFAULT);
	/* The writable mapping gone, the same frame is fine. */
	CHECK_EQ(one_update(A, slot_ptr(l1, 0), 0), 0);
	CHECK_EQ(set_gdt(A, &g, 1, 1), 0);
	teardown();
}

static void gdt_update_descriptor(void)
{
	REQUIRE(setup());
	mfn_t g = spare(A, 0), data = spare(A, 1);
	const uint64_t *cpu = hosted_guest_gdt();
	page(g)[1] = DESC_DATA3;
	CHECK_EQ(set_gdt(A, &g, 1, 3), 0);
	/* In the GDT: the frame and the CPU's copy. */
	CHECK_EQ(update_desc(A, desc_ma(g, 2), DESC_CODE3), 0);
	CHECK_EQ(page(g)[2], DESC_CODE3);
	CHECK_EQ(cpu[2], DESC_CODE3);
	CHECK_EQ(update_desc(A, desc_ma(g, 1), 0), 0);
	CHECK_EQ(cpu[1], 0);
	CHECK_EQ(update_desc(A, desc_ma(g, 1), DESC_NP_GATE), 0);      /* not present: allowed */
	CHECK_EQ(cpu[1], DESC_NP_GATE);
	/* Past `entries` in the same frame, and entry 0: the frame only. */
	CHECK_EQ(update_desc(A, desc_ma(g, 10), DESC_DATA3), 0);
	CHECK_EQ(page(g)[10], DESC_DATA3);
	CHECK_EQ(cpu[10], 0);
	CHECK_EQ(update_desc(A, desc_ma(g, 0), DESC_DATA3), 0);
	CHECK_EQ(cpu[0], 0);
	CHECK_EQ(audit(), 0);
	/* A DPL 0 segment: taken as DPL 3, in the frame and the CPU's copy. */
	CHECK_EQ(update_desc(A, desc_ma(g, 2), DESC_CODE0), 0);
	CHECK_EQ(page(g)[2], DESC_CODE3);
	CHECK_EQ(cpu[2], DESC_CODE3);
	/* Refused: a gate, a TSS; misaligned; not its frame. */
	REFUSED(update_desc(A, desc_ma(g, 2), DESC_CALL_GATE), VIREO_EINVAL);
	REFUSED(update_desc(A, desc_ma(g, 2), DESC_TSS), VIREO_EINVAL);
	CHECK_EQ(page(g)[2], DESC_CODE3);
	CHECK_EQ(cpu[2], DESC_CODE3);
	REFUSED(update_desc(A, desc_ma(g, 2) + 4, DESC_DATA3), VIREO_EINVAL);
	REFUSED(update_desc(A, desc_ma(spare(B, 0), 2), DESC_DATA3), VIREO_EPERM);
	REFUSED(update_desc(A, desc_ma(B->mm.vcpu[0].root, 0), 0), VIREO_EPERM);
	REFUSED(update_desc(A, desc_ma(frame_table_frames + 1, 0), DESC_DATA3), VIREO_EPERM);
	/* A frame that is not a GDT frame: a plain write where it may be writable, never into a table. */
	CHECK_EQ(update_desc(A, desc_ma(data, 1), DESC_DATA3), 0);
	CHECK_EQ(page(data)[1], DESC_DATA3);
	CHECK_EQ(frame_table[data].type_count, 0);
	CHECK_EQ(cpu[1], DESC_NP_GATE);
	REFUSED(update_desc(A, desc_ma(A->mm.vcpu[0].root, 1), DESC_DATA3), VIREO_EBUSY);
	/* Batched in a multicall, as Linux does for its TLS entries. */
	struct multicall_entry mc[2] = {
		{ .op = __HYPERVISOR_update_descriptor, .args = { desc_ma(g, 2), DESC_DATA3 } },
		{ .op = __HYPERVISOR_update_descriptor, .args = { desc_ma(g, 1), DESC_CALL_GATE } },
	};
	uint64_t mc_va = scratch_va(A) + 0x3c000;
	put_guest(A, mc_va, mc, sizeof(mc));
	hosted_switch_to(A);
	CHECK_EQ(hosted_hypercall(__HYPERVISOR_multicall, mc_va, 2, 0, 0, 0, NULL), 0);
	CHECK_EQ(copy_from_guest(mc, mc_va, sizeof(mc)), 0);
	CHECK_EQ(mc[0].result, 0);
	CHECK_EQ(mc[1].result, (uint64_t)-VIREO_EINVAL);
	CHECK_EQ(cpu[2], DESC_DATA3);
	CHECK_EQ(cpu[1], DESC_NP_GATE);
	teardown();
}

static void gdt_second_set_releases_the_first(void)
{
	REQUIRE(setup());
	mfn_t g1 = spare(A, 0), g2 = spare(A, 1), l1 = new_l1(A, 2);
	REQUIRE(l1 != INVALID_MFN);
	const uint64_t *cpu = hosted_guest_gdt();
	page(g1)[1] = DESC_DATA3;
	page(g2)[1] = DESC_CODE3;
	page(g2)[2] = DESC_DATA3;
	CHECK_EQ(set_gdt(A, &g1, 1, 2), 0);
	CHECK_EQ(cpu[1], DESC_DATA3);
	CHECK_EQ(set_gdt(A, &g2, 1, 3), 0);
	CHECK_EQ(frame_table[g1].type_count, 0);
	CHECK_EQ(frame_table[g1].count, 0);
	CHECK_EQ(frame_table[g2].type_count, 1);
	CHECK_EQ(cpu[1], DESC_CODE3);
	CHECK_EQ(cpu[2], DESC_DATA3);
	CHECK_EQ(audit(), 0);
	CHECK_EQ(one_update(A, slot_ptr(l1, 0), pte(g1, PTE_P | PTE_W)), 0);     /* writable again */
	REFUSED(one_update(A, slot_ptr(l1, 1), pte(g2, PTE_P | PTE_W)), VIREO_EBUSY);
	/* The frame in force again, and twice in one list: a reference per listing. */
	mfn_t twice[2] = { g2, g2 };
	CHECK_EQ(set_gdt(A, twice, 2, 1024), 0);
	CHECK_EQ(frame_table[g2].type_count, 2);
	CHECK_EQ(frame_table[g2].count, 2);
	CHECK_EQ(cpu[513], DESC_CODE3);
	CHECK_EQ(audit(), 0);
	CHECK_EQ(update_desc(A, desc_ma(g2, 5), DESC_DATA3), 0);                   /* both copies */
	CHECK_EQ(cpu[5], DESC_DATA3);
	CHECK_EQ(cpu[517], DESC_DATA3);
	/* Fewer entries: the ones past the new end are cleared. */
	CHECK_EQ(set_gdt(A, &g2, 1, 2), 0);
	CHECK_EQ(frame_table[g2].type_count, 1);
	CHECK_EQ(cpu[1], DESC_CODE3);
	CHECK_EQ(cpu[2], 0);
	CHECK_EQ(cpu[513], 0);
	CHECK_EQ(audit(), 0);
	teardown();
}

/* ---- the guest's LDT: MMUEXT_SET_LDT ------------------------------------------ */

/* Page k from the top of a domain's start-of-day mapping: mapped writable, unused. */
static uint64_t top_va(struct domain *d, unsigned k) { return d->layout.v_end - (k + 1) * (uint64_t)PAGE_SIZE; }
static mfn_t frame_at(struct domain *d, uint64_t va) { return mfn_of(d, (va - d->layout.v_start) >> PAGE_SHIFT); }

/* The kernel mapping of va becomes mfn with flags (0: not present), by update_va_mapping. */
static long map_at(struct domain *d, uint64_t va, mfn_t mfn, uint64_t flags)
{
	hosted_switch_to(d);
	return hosted_hypercall(__HYPERVISOR_update_va_mapping, va, flags ? pte(mfn, flags) : 0, UVMF_INVLPG,
				0, 0, NULL);
}

static long set_ldt(struct domain *d, uint64_t va, unsigned entries)
{
	return ext(d, MMUEXT_SET_LDT, va, entries);
}

static void ldt_good_descriptors(void)
{
	REQUIRE(setup());
	uint64_t va = top_va(A, 0);
	mfn_t f = frame_at(A, va);
	unsigned n;
	page(f)[0] = DESC_CODE3;                      /* entry 0 of an LDT is an ordinary one */
	page(f)[1] = DESC_DATA3;
	page(f)[2] = DESC_NP_GATE;
	page(f)[3] = DESC_DATA3;                      /* past `entries`: checked, not copied */
	/* Mapped writable, as the builder left it: refused; read-only: fine. */
	REFUSED(set_ldt(A, va, 3), VIREO_EBUSY);
	CHECK_EQ(map_at(A, va, f, PTE_P), 0);
	CHECK_EQ(set_ldt(A, va, 3), 0);
	CHECK_EQ(frame_table[f].type, PGT_seg_desc);
	CHECK_EQ(frame_table[f].count, 2);            /* the read-only mapping, the LDT */
	CHECK_EQ(frame_table[f].type_count, 1);
	CHECK_EQ(A->mm.vcpu[0].ldt_entries, 3);
	CHECK_EQ(A->mm.vcpu[0].ldt_base, va);
	CHECK_EQ(A->mm.vcpu[0].ldt_frames[0], f);
	const uint64_t *cpu = hosted_guest_ldt(&n);
	REQUIRE(cpu != NULL);
	CHECK(cpu == A->mm.vcpu[0].ldt_copy);                 /* loaded: the hypervisor's copy, not the frame */
	CHECK(cpu != (const uint64_t *)page(f));
	CHECK_EQ(n, 3);
	CHECK_EQ(cpu[0], DESC_CODE3);
	CHECK_EQ(cpu[1], DESC_DATA3);
	CHECK_EQ(cpu[2], DESC_NP_GATE);
	CHECK_EQ(audit(), 0);
	/* update_descriptor: the frame and the copy; past the entries, the frame only. */
	CHECK_EQ(update_desc(A, desc_ma(f, 1), DESC_NP), 0);
	CHECK_EQ(page(f)[1], DESC_NP);
	CHECK_EQ(cpu[1], DESC_NP);
	CHECK_EQ(update_desc(A, desc_ma(f, 0), 0), 0);
	CHECK_EQ(cpu[0], 0);
	CHECK_EQ(update_desc(A, desc_ma(f, 3), DESC_CODE3), 0);
	CHECK_EQ(page(f)[3], DESC_CODE3);
	REFUSED(update_desc(A, desc_ma(f, 1), DESC_INT_GATE), VIREO_EINVAL);
	REFUSED(update_desc(A, desc_ma(f, 2), DESC_CALL_GATE), VIREO_EINVAL);
	CHECK_EQ(cpu[1], DESC_NP);
	CHECK_EQ(cpu[2], DESC_NP_GATE);
	CHECK_EQ(audit(), 0);
	/* While the LDT holds it: never writable, never a page table. */
	REFUSED(map_at(A, va, f, PTE_P | PTE_W), VIREO_EBUSY);
	REFUSED(ext(A, MMUEXT_PIN_L1_TABLE, f, 0), VIREO_EBUSY);
	REFUSED(ext(A, MMUEXT_CLEAR_PAGE, f, 0), VIREO_EBUSY);
	REFUSED(one_update(A, slot_ptr(f, 1), 0), VIREO_EBUSY);          /* a plain write into it */
	/* Back to none: the references dropped, the copy gone, nothing loaded. */
	CHECK_EQ(set_ldt(A, 0, 0), 0);
	CHECK_EQ(frame_table[f].type_count, 0);
	CHECK_EQ(frame_table[f].count, 1);            /* the read-only mapping */
	CHECK_EQ(A->mm.vcpu[0].ldt_entries, 0);
	CHECK(A->mm.vcpu[0].ldt_copy == NULL);
	CHECK(hosted_guest_ldt(&n) == NULL);
	CHECK_EQ(n, 0);
	CHECK_EQ(map_at(A, va, f, PTE_P | PTE_W), 0);  /* plain memory again */
	teardown();
}

static void ldt_refused(void)
{
	REQUIRE(setup());
	uint64_t va = top_va(A, 0), bad_va = top_va(A, 1);
	mfn_t f = frame_at(A, va), bad = frame_at(A, bad_va);
	unsigned n;
	page(f)[1] = DESC_DATA3;
	CHECK_EQ(map_at(A, va, f, PTE_P), 0);
	CHECK_EQ(set_ldt(A, va, 2), 0);
	const uint64_t *cpu = hosted_guest_ldt(&n);
	/* Every refused kind of descriptor, within the entries or anywhere else in the page. */
	static const uint64_t refused[] = { DESC_CALL_GATE, DESC_INT_GATE, DESC_TSS, DESC_TSS3, DESC_LDT };
	CHECK_EQ(map_at(A, bad_va, bad, PTE_P), 0);
	for (unsigned i = 0; i < sizeof(refused) / sizeof(refused[0]); i++) {
		unsigned slot = i & 1 ? 300 : 1;
		page(bad)[slot] = refused[i];
		REFUSED(set_ldt(A, bad_va, 2), VIREO_EINVAL);
		CHECK_EQ(frame_table[bad].type_count, 0);
		page(bad)[slot] = 0;
	}
	/* Not mapped: no L1 entry, or no L1 table at all. */
	CHECK_EQ(map_at(A, top_va(A, 2), 0, 0), 0);
	REFUSED(set_ldt(A, top_va(A, 2), 1), VIREO_EFAULT);
	REFUSED(set_ldt(A, A->layout.v_end + (1ull << 30), 1), VIREO_EFAULT);
	/* All or nothing: a good page, then an unmapped one or a writable one. */
	mfn_t good = frame_at(A, top_va(A, 3));
	CHECK_EQ(map_at(A, top_va(A, 3), good, PTE_P), 0);
	REFUSED(set_ldt(A, top_va(A, 3), 600), VIREO_EFAULT);
	CHECK_EQ(frame_table[good].type_count, 0);
	CHECK_EQ(map_at(A, top_va(A, 5), frame_at(A, top_va(A, 5)), PTE_P), 0);
	REFUSED(set_ldt(A, top_va(A, 5), 513), VIREO_EBUSY);                  /* top_va(A, 4) is writable */
	/* A page table (mapped read-only); a frame not the domain's (an I/O frame of the privileged B). */
	REFUSED(set_ldt(A, A->layout.vpt_start, 1), VIREO_EBUSY);
	CHECK_EQ(map_at(B, top_va(B, 0), frame_table_frames + 16, PTE_P), 0);
	REFUSED(set_ldt(B, top_va(B, 0), 1), VIREO_EPERM);
	/* The range: the hypervisor's, across the end of the lower half, misaligned, too long. */
	REFUSED(set_ldt(A, 0xFFFF830000000000ull, 1), VIREO_EINVAL);
	REFUSED(set_ldt(A, 0xFFFF87FFFFFFF000ull, 512), VIREO_EINVAL);
	REFUSED(set_ldt(A, 0x00007FFFFFFFF000ull, 513), VIREO_EINVAL);
	REFUSED(set_ldt(A, va + 8, 1), VIREO_EINVAL);
	REFUSED(set_ldt(A, va, 8193), VIREO_EINVAL);
	/* The LDT in force is as it was. */
	CHECK_EQ(A->mm.vcpu[0].ldt_entries, 2);
	CHECK_EQ(A->mm.vcpu[0].ldt_frames[0], f);
	CHECK(hosted_guest_ldt(&n) == cpu);
	CHECK_EQ(n, 2);
	CHECK_EQ(cpu[1], DESC_DATA3);
	teardown();
}

static void ldt_second_set_releases_the_first(void)
{
	REQUIRE(setup());
	uint64_t va1 = top_va(A, 0), va2 = top_va(A, 2);   /* va2 + PAGE_SIZE is top_va(A, 1) */
	mfn_t f1 = frame_at(A, va1), f2 = frame_at(A, va2), f3 = frame_at(A, va2 + PAGE_SIZE);
	unsigned n;
	page(f1)[1] = DESC_DATA3;
	page(f2)[1] = DESC_CODE3;
	page(f3)[1] = DESC_DATA3;
	CHECK_EQ(map_at(A, va1, f1, PTE_P), 0);
	CHECK_EQ(map_at(A, va2, f2, PTE_P), 0);
	CHECK_EQ(map_at(A, va2 + PAGE_SIZE, f3, PTE_P), 0);
	CHECK_EQ(set_ldt(A, va1, 2), 0);
	/* Two pages: the first LDT's frame is released, the new one loaded. */
	CHECK_EQ(set_ldt(A, va2, 600), 0);
	CHECK_EQ(frame_table[f1].type_count, 0);
	CHECK_EQ(frame_table[f1].count, 1);
	CHECK_EQ(frame_table[f2].type_count, 1);
	CHECK_EQ(frame_table[f3].type_count, 1);
	CHECK_EQ(A->mm.vcpu[0].ldt_frames[1], f3);
	const uint64_t *cpu = hosted_guest_ldt(&n);
	REQUIRE(cpu != NULL);
	CHECK_EQ(n, 600);
	CHECK_EQ(cpu[1], DESC_CODE3);
	CHECK_EQ(cpu[513], DESC_DATA3);
	CHECK_EQ(audit(), 0);
	CHECK_EQ(map_at(A, va1, f1, PTE_P | PTE_W), 0);                    /* writable again */
	/* One frame at both pages: a reference per listing; update_descriptor reaches both copies. */
	CHECK_EQ(map_at(A, va2 + PAGE_SIZE, f2, PTE_P), 0);
	CHECK_EQ(set_ldt(A, va2, 1024), 0);
	CHECK_EQ(frame_table[f2].type_count, 2);
	CHECK_EQ(frame_table[f2].count, 4);                                 /* two mappings, two listings */
	CHECK_EQ(frame_table[f3].count, 0);
	cpu = hosted_guest_ldt(&n);
	CHECK_EQ(n, 1024);
	CHECK_EQ(cpu[513], DESC_CODE3);
	CHECK_EQ(update_desc(A, desc_ma(f2, 5), DESC_DATA3), 0);
	CHECK_EQ(cpu[5], DESC_DATA3);
	CHECK_EQ(cpu[517], DESC_DATA3);
	CHECK_EQ(audit(), 0);
	/* Fewer entries: one listing, the same copy; the rest past the limit. */
	CHECK_EQ(set_ldt(A, va2, 3), 0);
	CHECK_EQ(frame_table[f2].type_count, 1);
	CHECK(hosted_guest_ldt(&n) == cpu);
	CHECK_EQ(n, 3);
	CHECK_EQ(audit(), 0);
	/* A domain ending on this CPU unloads it; its teardown drops the references and the copy. */
	machine_guest_unload();
	CHECK(hosted_guest_ldt(&n) == NULL);
	CHECK_EQ(n, 0);
	teardown();
}

/* ---- several vCPUs of one domain -------------------------------------------- */

/* vCPU 1's MMU operations, as its hypercalls would make them (they run as vCPU 0 here). */
static int v1_set_root(struct domain *d, mfn_t mfn, bool user)
{
	spin_lock(&d->mm.lock);
	int rc = mm_set_root(&d->mm, &d->mm.vcpu[1], mfn, user);
	mm_sync(&d->mm);
	spin_unlock(&d->mm.lock);
	return rc;
}

static void two_vcpus_roots(void)
{
	REQUIRE(setup());
	mfn_t root0 = A->mm.vcpu[0].root, l4 = spare(A, 0);
	CHECK_EQ(A->mm.vcpu[1].root, INVALID_MFN);
	CHECK_EQ(A->mm.vcpu[1].user_root, INVALID_MFN);
	CHECK_EQ(ext(A, MMUEXT_CLEAR_PAGE, l4, 0), 0);
	/* vCPU 1 on its own root, vCPU 0 keeps its: each holds its references. */
	CHECK_EQ(v1_set_root(A, l4, false), 0);
	CHECK_EQ(A->mm.vcpu[1].root, l4);
	CHECK_EQ(A->mm.vcpu[0].root, root0);
	CHECK_EQ(frame_table[l4].type, PGT_l4);
	CHECK_EQ(frame_table[l4].type_count, 1);
	CHECK_EQ(frame_table[l4].count, 1);
	CHECK_EQ(audit(), 0);
	/* A refused root for vCPU 1 leaves both as they were. */
	mfn_t l1_table = new_l1(A, 1);
	REQUIRE(l1_table != INVALID_MFN);
	REFUSED(v1_set_root(A, l1_table, false), VIREO_EBUSY);
	CHECK_EQ(A->mm.vcpu[1].root, l4);
	/* Unpinned, vCPU 0's root is typed by vCPU 0 alone; vCPU 1 takes it too (and as its user root). */
	CHECK_EQ(ext(A, MMUEXT_UNPIN_TABLE, root0, 0), 0);
	CHECK_EQ(frame_table[root0].type_count, 1);
	CHECK_EQ(v1_set_root(A, root0, false), 0);
	CHECK_EQ(v1_set_root(A, root0, true), 0);
	CHECK_EQ(frame_table[root0].type_count, 3);
	CHECK_EQ(frame_table[l4].type_count, 0);                 /* vCPU 1 left it */
	CHECK_EQ(audit(), 0);
	/* vCPU 0 moves to l4: vCPU 1's roots keep root0 typed and validated. */
	spin_lock(&A->mm.lock);
	CHECK_EQ(mm_set_root(&A->mm, &A->mm.vcpu[0], l4, false), 0);
	mm_sync(&A->mm);
	spin_unlock(&A->mm.lock);
	CHECK_EQ(frame_table[root0].type, PGT_l4);
	CHECK_EQ(frame_table[root0].type_count, 2);
	CHECK(frame_table[root0].flags & PGF_validated);
	CHECK_EQ(audit(), 0);
	/* The tables under root0 are still validated: vCPU 1's mappings hold. */
	mfn_t l1;
	unsigned slot;
	CHECK_EQ(mm_l1_slot(&A->mm, &A->mm.vcpu[1], A->layout.v_start, &l1, &slot), 0);
	CHECK_EQ(frame_table[l1].type, PGT_l1);
	CHECK(frame_table[l1].type_count > 0);
	CHECK(mm_l1_slot(&A->mm, &A->mm.vcpu[0], A->layout.v_start, &l1, &slot) != 0);   /* l4 is empty */
	spin_lock(&A->mm.lock);
	CHECK_EQ(mm_set_root(&A->mm, &A->mm.vcpu[0], root0, false), 0);    /* back, for the teardown's copies */
	spin_unlock(&A->mm.lock);
	/* vCPU 1 keeps both roots: the domain's end drops them with vCPU 0's (teardown: every frame back). */
	teardown();
}

static void two_vcpus_gdt_and_ldt(void)
{
	REQUIRE(setup());
	uint64_t va = top_va(A, 0);
	mfn_t f = frame_at(A, va), g = spare(A, 0);
	unsigned n;
	page(f)[1] = DESC_DATA3;
	page(f)[2] = DESC_CODE3;
	CHECK_EQ(map_at(A, va, f, PTE_P), 0);
	/* vCPU 1's LDT (looked up in vCPU 1's root: the same tables here). */
	spin_lock(&A->mm.lock);
	CHECK_EQ(mm_set_root(&A->mm, &A->mm.vcpu[1], A->mm.vcpu[0].root, false), 0);
	CHECK_EQ(mm_set_ldt(&A->mm, &A->mm.vcpu[1], va, 3), 0);
	spin_unlock(&A->mm.lock);
	CHECK_EQ(A->mm.vcpu[1].ldt_entries, 3);
	CHECK_EQ(A->mm.vcpu[1].ldt_frames[0], f);
	CHECK_EQ(A->mm.vcpu[0].ldt_entries, 0);
	CHECK(hosted_guest_ldt(&n) == A->mm.vcpu[1].ldt_copy);   /* loaded on this CPU, where vCPU 1 "runs" */
	CHECK_EQ(frame_table[f].type_count, 1);
	CHECK_EQ(audit(), 0);
	/* vCPU 0 takes the same frame as its LDT: two listings, two copies. */
	CHECK_EQ(set_ldt(A, va, 2), 0);
	CHECK_EQ(frame_table[f].type_count, 2);
	CHECK(A->mm.vcpu[0].ldt_copy != A->mm.vcpu[1].ldt_copy);
	CHECK_EQ(audit(), 0);
	/* update_descriptor reaches every vCPU's copy that lists the frame (within its entries). */
	CHECK_EQ(update_desc(A, desc_ma(f, 1), DESC_NP), 0);
	CHECK_EQ(A->mm.vcpu[0].ldt_copy[1], DESC_NP);
	CHECK_EQ(A->mm.vcpu[1].ldt_copy[1], DESC_NP);
	CHECK_EQ(update_desc(A, desc_ma(f, 2), DESC_DATA3), 0);
	CHECK_EQ(A->mm.vcpu[1].ldt_copy[2], DESC_DATA3);
	CHECK_EQ(A->mm.vcpu[0].ldt_copy[2], 0);                 /* past vCPU 0's 2 entries */
	CHECK_EQ(audit(), 0);
	/* Never writable while either holds it. */
	REFUSED(map_at(A, va, f, PTE_P | PTE_W), VIREO_EBUSY);
	CHECK_EQ(set_ldt(A, 0, 0), 0);
	CHECK_EQ(frame_table[f].type_count, 1);                  /* vCPU 1's */
	REFUSED(map_at(A, va, f, PTE_P | PTE_W), VIREO_EBUSY);
	/* vCPU 1's GDT frame (as set_gdt leaves it): the audit counts it, the end drops it. */
	CHECK_EQ(ext(A, MMUEXT_CLEAR_PAGE, g, 0), 0);
	spin_lock(&A->mm.lock);
	CHECK_EQ(mm_get_desc_page(&A->mm, g), 0);
	A->mm.vcpu[1].gdt_frames[0] = g;
	A->mm.vcpu[1].gdt_entries = 5;
	spin_unlock(&A->mm.lock);
	CHECK_EQ(frame_table[g].type, PGT_seg_desc);
	CHECK_EQ(audit(), 0);
	A->mm.vcpu[1].gdt_entries = 0;                           /* a reference the audit no longer finds */
	CHECK(audit() != 0);
	A->mm.vcpu[1].gdt_entries = 5;
	/* vCPU 1 keeps its LDT, GDT and root: the domain's end drops them all (teardown). */
	teardown();
}

/* The hosted remote flush hook: what the frame under test looked like when the other CPUs were flushed. */
static mfn_t hook_frame;
static uint8_t hook_type_seen;
static uint32_t hook_type_count_seen;
static unsigned hook_calls;
static uint64_t hook_mask;
static uint64_t hook_write;          /* non-zero: the other CPU's last write, landing as it is flushed */

static void flush_hook(uint64_t mask)
{
	hook_calls++;
	hook_mask = mask;
	if (hook_frame != INVALID_MFN) {
		hook_type_seen = frame_table[hook_frame].type;
		hook_type_count_seen = frame_table[hook_frame].type_count;
		if (hook_write)
			page(hook_frame)[5] = hook_write;
	}
}

static void hook_on(mfn_t frame)
{
	hook_write = 0;
	hook_frame = frame;
	hook_type_seen = 0xFF;
	hook_calls = 0;
	hook_mask = 0;
	hosted_set_tlb_flush_hook(flush_hook);
}

static void type_change_flushes_other_cpus_first(void)
{
	REQUIRE(setup());
	mfn_t l1 = new_l1(A, 0), x = spare(A, 1), y = spare(A, 2);
	CHECK_EQ(ext(A, MMUEXT_CLEAR_PAGE, x, 0), 0);
	CHECK_EQ(ext(A, MMUEXT_CLEAR_PAGE, y, 0), 0);
	CHECK_EQ(one_update(A, slot_ptr(l1, 0), pte(x, PTE_P | PTE_W)), 0);
	CHECK_EQ(one_update(A, slot_ptr(l1, 1), pte(y, PTE_P | PTE_W)), 0);
	CHECK_EQ(one_update(A, slot_ptr(l1, 0), 0), 0);
	CHECK_EQ(one_update(A, slot_ptr(l1, 1), 0), 0);
	/* vCPUs of A run on this CPU and on CPU 3: CPU 3 may still cache x and y writable. */
	mm_cpu_enter(&A->mm, cpu_id());
	mm_cpu_enter(&A->mm, 3);
	CHECK_EQ(A->mm.cpus, (1ull << cpu_id()) | (1ull << 3));
	hook_on(x);
	uint64_t f = A->mm.stats.flushes, r = A->mm.stats.remote_flushes;
	uint32_t clock = A->mm.clock;
	CHECK_EQ(ext(A, MMUEXT_PIN_L1_TABLE, x, 0), 0);
	CHECK_EQ(hook_calls, 1);
	CHECK_EQ(hook_mask, 1ull << 3);                          /* the others, not this CPU */
	CHECK_EQ(hook_type_seen, PGT_writable);                  /* flushed before the new type, before validation */
	CHECK_EQ(A->mm.stats.remote_flushes, r + 1);
	CHECK_EQ(A->mm.stats.flushes, f + 1);
	CHECK_EQ(A->mm.clock, clock + 1);
	CHECK_EQ(A->mm.pending, 0);
	CHECK_EQ(ext(A, MMUEXT_PIN_L1_TABLE, y, 0), 0);          /* that flush covered y too */
	CHECK_EQ(hook_calls, 1);
	/* Back: L1 -> writable while CPU 3 may cache it as a table: flushed before it is writable. */
	CHECK_EQ(ext(A, MMUEXT_UNPIN_TABLE, y, 0), 0);
	hook_on(y);
	CHECK_EQ(one_update(A, slot_ptr(l1, 1), pte(y, PTE_P | PTE_W)), 0);
	CHECK_EQ(hook_calls, 1);
	CHECK_EQ(hook_type_seen, PGT_l1);
	CHECK_EQ(A->mm.stats.remote_flushes, r + 2);
	CHECK_EQ(audit(), 0);
	/* CPU 3 left: the deferred flush of the single CPU again, no remote one. */
	mm_cpu_leave(&A->mm, 3);
	CHECK_EQ(one_update(A, slot_ptr(l1, 1), 0), 0);
	hook_on(y);
	CHECK_EQ(ext(A, MMUEXT_PIN_L1_TABLE, y, 0), 0);
	CHECK_EQ(hook_calls, 0);
	CHECK_EQ(A->mm.stats.remote_flushes, r + 2);
	CHECK_EQ(A->mm.stats.flushes, f + 3);                    /* this CPU's, at the batch's end */
	mm_cpu_leave(&A->mm, cpu_id());
	CHECK_EQ(A->mm.cpus, 0);
	hosted_set_tlb_flush_hook(NULL);
	teardown();
}

/*
 * A frame becoming a GDT frame is checked after the other CPUs are flushed:
 * a write through another CPU's stale writable entry that lands before its
 * flush (the hook) is seen by the check, not copied into a GDT unchecked.
 */
static void gdt_frame_checked_after_other_cpus_flushed(void)
{
	REQUIRE(setup());
	mfn_t l1 = new_l1(A, 0), g = spare(A, 1);
	CHECK_EQ(ext(A, MMUEXT_CLEAR_PAGE, g, 0), 0);
	CHECK_EQ(one_update(A, slot_ptr(l1, 0), pte(g, PTE_P | PTE_W)), 0);
	CHECK_EQ(one_update(A, slot_ptr(l1, 0), 0), 0);          /* unmapped; CPU 3 may still cache it */
	mm_cpu_enter(&A->mm, cpu_id());
	mm_cpu_enter(&A->mm, 3);
	hook_on(g);
	hook_write = DESC_CALL_GATE;
	REFUSED(set_gdt(A, &g, 1, 3), VIREO_EINVAL);
	CHECK_EQ(hook_calls, 1);
	CHECK_EQ(hook_type_seen, PGT_writable);                  /* flushed before the check */
	CHECK_EQ(frame_table[g].type_count, 0);
	page(g)[5] = 0;
	CHECK_EQ(set_gdt(A, &g, 1, 3), 0);                       /* flushed already: no second flush */
	CHECK_EQ(hook_calls, 1);
	CHECK_EQ(set_gdt(A, NULL, 0, 0), 0);
	mm_cpu_leave(&A->mm, 3);
	mm_cpu_leave(&A->mm, cpu_id());
	hosted_set_tlb_flush_hook(NULL);
	teardown();
}

/* Guest-requested flushes reach the domain's other CPUs only when asked and when there are any. */
static long uvm_flags(struct domain *d, uint64_t va, mfn_t mfn, uint64_t flags)
{
	hosted_switch_to(d);
	return hosted_hypercall(__HYPERVISOR_update_va_mapping, va, pte(mfn, PTE_P), flags, 0, 0, NULL);
}

static void guest_flushes_reach_other_cpus(void)
{
	REQUIRE(setup());
	uint64_t va = top_va(A, 0), mask_va = scratch_va(A) + 0x30000;
	mfn_t f = frame_at(A, va);
	uint64_t r = A->mm.stats.remote_flushes, mask;
	hook_on(INVALID_MFN);
	/* Alone: nothing remote, whatever is asked. */
	mm_cpu_enter(&A->mm, cpu_id());
	CHECK_EQ(ext(A, MMUEXT_TLB_FLUSH_ALL, 0, 0), 0);
	CHECK_EQ(ext(A, MMUEXT_INVLPG_ALL, va, 0), 0);
	CHECK_EQ(uvm_flags(A, va, f, UVMF_TLB_FLUSH | UVMF_ALL), 0);
	CHECK_EQ(hook_calls, 0);
	/* With another CPU. */
	mm_cpu_enter(&A->mm, 5);
	CHECK_EQ(ext(A, MMUEXT_TLB_FLUSH_LOCAL, 0, 0), 0);
	CHECK_EQ(ext(A, MMUEXT_INVLPG_LOCAL, va, 0), 0);
	CHECK_EQ(uvm_flags(A, va, f, UVMF_INVLPG), 0);            /* UVMF_LOCAL */
	CHECK_EQ(hook_calls, 0);
	CHECK_EQ(ext(A, MMUEXT_TLB_FLUSH_ALL, 0, 0), 0);
	CHECK_EQ(hook_calls, 1);
	CHECK_EQ(hook_mask, 1ull << 5);
	CHECK_EQ(ext(A, MMUEXT_INVLPG_ALL, va, 0), 0);
	CHECK_EQ(hook_calls, 2);
	CHECK_EQ(uvm_flags(A, va, f, UVMF_INVLPG | UVMF_ALL), 0);
	CHECK_EQ(hook_calls, 3);
	/* *_MULTI: only a bitmap naming another vCPU (bit 0 is this one; past MM_MAX_VCPUS, nobody). */
	mask = 1;
	put_guest(A, mask_va, &mask, sizeof(mask));
	CHECK_EQ(ext(A, MMUEXT_TLB_FLUSH_MULTI, 0, mask_va), 0);
	CHECK_EQ(ext(A, MMUEXT_INVLPG_MULTI, va, mask_va), 0);
	CHECK_EQ(uvm_flags(A, va, f, UVMF_TLB_FLUSH | mask_va), 0);
	mask = 1ull << MM_MAX_VCPUS;
	put_guest(A, mask_va, &mask, sizeof(mask));
	CHECK_EQ(ext(A, MMUEXT_TLB_FLUSH_MULTI, 0, mask_va), 0);
	CHECK_EQ(hook_calls, 3);
	mask = 2;
	put_guest(A, mask_va, &mask, sizeof(mask));
	CHECK_EQ(ext(A, MMUEXT_TLB_FLUSH_MULTI, 0, mask_va), 0);
	CHECK_EQ(hook_calls, 4);
	CHECK_EQ(ext(A, MMUEXT_INVLPG_MULTI, va, mask_va), 0);
	CHECK_EQ(hook_calls, 5);
	CHECK_EQ(uvm_flags(A, va, f, UVMF_INVLPG | mask_va), 0);
	CHECK_EQ(hook_calls, 6);
	REFUSED(ext(A, MMUEXT_TLB_FLUSH_MULTI, 0, 0xFFFF830000000000ull), VIREO_EFAULT);
	CHECK_EQ(A->mm.stats.remote_flushes, r + 6);
	/* A root load does not advance the clock while another CPU may hold entries; alone it does. */
	uint32_t clock = A->mm.clock;
	CHECK_EQ(ext(A, MMUEXT_NEW_BASEPTR, A->mm.vcpu[0].root, 0), 0);
	CHECK_EQ(A->mm.clock, clock);
	mm_cpu_leave(&A->mm, 5);
	CHECK_EQ(ext(A, MMUEXT_NEW_BASEPTR, A->mm.vcpu[0].root, 0), 0);
	CHECK_EQ(A->mm.clock, clock + 1);
	mm_cpu_leave(&A->mm, cpu_id());
	CHECK_EQ(A->mm.cpus, 0);
	hosted_set_tlb_flush_hook(NULL);
	teardown();
}

/* The privileged domain's other CPUs are flushed before a foreign frame it unmaps drops its counts. */
static void foreign_unmap_flushes_mapper_cpus(void)
{
	REQUIRE(setup());
	mfn_t bl1 = new_l1(B, 0), x = spare(A, 0);
	REQUIRE(bl1 != INVALID_MFN);
	CHECK_EQ(foreign_update(B, slot_ptr(bl1, 0), pte(x, PTE_P | PTE_W), A->domid), 0);
	mm_cpu_enter(&B->mm, cpu_id());
	mm_cpu_enter(&B->mm, 7);
	hook_on(x);
	uint64_t r = B->mm.stats.remote_flushes;
	CHECK_EQ(one_update(B, slot_ptr(bl1, 0), 0), 0);
	CHECK_EQ(hook_calls, 1);
	CHECK_EQ(hook_mask, 1ull << 7);
	CHECK_EQ(hook_type_seen, PGT_writable);
	CHECK_EQ(hook_type_count_seen, 1);                       /* the mapping's reference still held */
	CHECK_EQ(B->mm.stats.remote_flushes, r + 1);
	CHECK_EQ(frame_table[x].type_count, 0);                  /* dropped after the flush */
	CHECK_EQ(ext(A, MMUEXT_CLEAR_PAGE, x, 0), 0);
	CHECK_EQ(ext(A, MMUEXT_PIN_L1_TABLE, x, 0), 0);          /* the owner may make it a table now */
	mm_cpu_leave(&B->mm, 7);
	mm_cpu_leave(&B->mm, cpu_id());
	hosted_set_tlb_flush_hook(NULL);
	teardown();
}

static const struct test_case cases[] = {
	TEST(builder_tables_validate),
	TEST(l1_maps_own_frames),
	TEST(foreign_frames_refused),
	TEST(io_frames_only_for_the_privileged),
	TEST(page_tables_never_writable),
	TEST(bad_flags_refused),
	TEST(hypervisor_l4_slots_refused),
	TEST(linear_page_tables_refused),
	TEST(failed_validation_rolls_back),
	TEST(pins_and_roots),
	TEST(build_switch_teardown),
	TEST(batch_stops_at_first_refusal),
	TEST(preserve_ad_and_machphys),
	TEST(long_batches_continue),
	TEST(update_va_mapping_and_flushes),
	TEST(type_change_flushes_once),
	TEST(count_overflow_refused),
	TEST(mmuext_misc),
	TEST(hypercall_page_not_over_a_table),
	TEST(ptwr_decodes_the_kernel_forms),
	TEST(ptwr_emulates_validated_writes),
	TEST(hypervisor_written_pages_never_tables),
	TEST(gdt_good_descriptors),
	TEST(gdt_bad_descriptors_refused),
	TEST(gdt_frames_refused),
	TEST(gdt_update_descriptor),
	TEST(gdt_second_set_releases_the_first),
	TEST(ldt_good_descriptors),
	TEST(ldt_refused),
	TEST(ldt_second_set_releases_the_first),
	TEST(foreign_mappings_for_the_privileged),
	TEST(foreign_frames_never_validated),
	TEST(update_va_mapping_otherdomain),
	TEST(ended_domain_frames_orphaned),
	TEST(batch_racing_an_end_refused),
	TEST(privileged_end_drops_foreign_mappings),
	TEST(two_vcpus_roots),
	TEST(two_vcpus_gdt_and_ldt),
	TEST(type_change_flushes_other_cpus_first),
	TEST(gdt_frame_checked_after_other_cpus_flushed),
	TEST(guest_flushes_reach_other_cpus),
	TEST(foreign_unmap_flushes_mapper_cpus),
};

TEST_MAIN(cases)
