/* Unit tests of the PV start-of-day layout (core/domain_layout.c). */
#include <core/domain.h>
#include <vireo/errno.h>

#include "harness.h"

#define VBASE 0xffffffff80000000ull

static struct elf_guest kernel(uint64_t kstart, uint64_t kend)
{
	struct elf_guest g = { .virt_base = VBASE, .virt_kstart = kstart, .virt_kend = kend };
	return g;
}

/* Every region follows the previous one, page aligned, inside [v_start, v_end). */
static void layout_is_ordered(const struct dom_layout *l)
{
	const uint64_t edges[] = { l->v_start, l->vkern_start, l->vkern_end, l->vinitrd_start,
				   l->vinitrd_end, l->vphysmap_start, l->vphysmap_end, l->vstartinfo_start, l->vstartinfo_end,
				   l->vpt_start, l->vpt_end, l->vstack_start, l->vstack_end, l->v_end };
	for (size_t i = 0; i < sizeof(edges) / sizeof(edges[0]); i++) {
		CHECK_EQ(edges[i] & 0xFFF, 0);
		if (i)
			CHECK(edges[i] >= edges[i - 1]);
	}
	CHECK_EQ(l->vkern_end, l->vinitrd_start);
	CHECK_EQ(l->vinitrd_end, l->vphysmap_start);
	CHECK_EQ(l->vphysmap_end, l->vstartinfo_start);
	CHECK_EQ(l->vstartinfo_end, l->vpt_start);
	CHECK_EQ(l->vpt_end, l->vstack_start);
	CHECK_EQ(l->vstack_end - l->vstack_start, 4096);
	CHECK_EQ(l->v_end % (4 << 20), 0);
	CHECK(l->v_end - l->vstack_end >= 512 << 10);
	CHECK_EQ(l->vpt_end - l->vpt_start, l->nr_pt_frames * 4096);
}

static void layout_small_kernel(void)
{
	struct elf_guest g = kernel(VBASE + 0x2000, VBASE + 0x9920);
	struct dom_layout l;
	REQUIRE(domain_layout(&g, 8192, 0, &l) == 0);        /* 32 MiB */
	layout_is_ordered(&l);
	CHECK_EQ(l.v_start, VBASE);
	CHECK_EQ(l.vkern_end, VBASE + 0xA000);
	CHECK_EQ(l.vinitrd_start, l.vinitrd_end);          /* no initrd: nothing between */
	CHECK_EQ(l.vphysmap_end - l.vphysmap_start, 8192 * 8);
	/* 4 MiB mapped from VBASE: one L4, L3, L2 and two L1s. */
	CHECK_EQ(l.v_end, VBASE + (4 << 20));
	CHECK_EQ(l.nr_pt_frames, 5);
}

static void layout_grows_tables_with_the_mapping(void)
{
	/* A 20 MiB kernel: the mapping passes 20 MiB, so more L1 tables. */
	struct elf_guest g = kernel(VBASE + 0x200000, VBASE + (20 << 20));
	struct dom_layout l;
	REQUIRE(domain_layout(&g, 65536, 0, &l) == 0);       /* 256 MiB */
	layout_is_ordered(&l);
	uint64_t l1s = (l.v_end - l.v_start + (2 << 20) - 1) / (2 << 20);
	CHECK_EQ(l.nr_pt_frames, 3 + l1s);
}

static void layout_refuses_what_does_not_fit(void)
{
	struct elf_guest g = kernel(VBASE + 0x2000, VBASE + (31 << 20) + (512 << 10));
	struct dom_layout l;
	CHECK_EQ(domain_layout(&g, 4096, 0, &l), -VIREO_ENOMEM);   /* 16 MiB for a 31.5 MiB kernel */
	CHECK_EQ(domain_layout(&g, 8192, 0, &l), -VIREO_ENOMEM);   /* 32 MiB: no room for tables and slack */
	CHECK_EQ(domain_layout(&g, 9216, 0, &l), 0);               /* 36 MiB: the mapping ends at 36 */
	CHECK_EQ(l.v_end, VBASE + (36 << 20));
}

static void layout_without_notes_at_zero(void)
{
	struct elf_guest g = { .virt_base = 0, .virt_kstart = 0x100000, .virt_kend = 0x180000 };
	struct dom_layout l;
	REQUIRE(domain_layout(&g, 4096, 0, &l) == 0);
	layout_is_ordered(&l);
	CHECK_EQ(l.v_start, 0);
}

/* A kernel image chooses VIRT_BASE: it must never put the layout in the hypervisor's range. */
static void layout_refuses_the_hypervisor_range(void)
{
	static const uint64_t bases[] = {
		0xFFFF82D080000000ull,              /* the hypervisor's image */
		0xFFFF830000000000ull,              /* the direct map */
		0xFFFF800000000000ull,              /* the M2P */
		0x00007FFFFFF00000ull,              /* a 2 MiB kernel: runs past the lower half */
	};
	struct dom_layout l;
	for (size_t i = 0; i < sizeof(bases) / sizeof(bases[0]); i++) {
		struct elf_guest g = { .virt_base = bases[i], .virt_kstart = bases[i] + 0x2000,
				       .virt_kend = bases[i] + 0x200000 };
		CHECK_EQ(domain_layout(&g, 8192, 0, &l), -VIREO_EINVAL);
	}
	CHECK(domain_range_is_guest(0, 0x0000800000000000ull));
	CHECK(!domain_range_is_guest(0x00007FFFFFFFF000ull, 0x0000800000001000ull));
	CHECK(domain_range_is_guest(0xFFFF880000000000ull, 0xFFFF880000400000ull));
	CHECK(!domain_range_is_guest(0xFFFF87FFFFFFF000ull, 0xFFFF880000001000ull));
	CHECK(domain_range_is_guest(0xFFFFFFFFFFC00000ull, 0));     /* up to the very top */
	CHECK(!domain_range_is_guest(0xFFFFFFFFFFC00000ull, 0x1000)); /* wraps */
}

/* The initrd goes between the kernel and the P2M list, in whole pages (Xen's vinitrd_start). */
static void layout_with_an_initrd(void)
{
	struct elf_guest g = kernel(VBASE + 0x2000, VBASE + 0x9920);
	struct dom_layout l;
	REQUIRE(domain_layout(&g, 8192, 5000, &l) == 0);   /* 32 MiB; 5000 bytes: two pages */
	layout_is_ordered(&l);
	CHECK_EQ(l.vinitrd_start, VBASE + 0xA000);
	CHECK_EQ(l.vinitrd_end, VBASE + 0xC000);
	CHECK_EQ(l.vphysmap_start, VBASE + 0xC000);
	REQUIRE(domain_layout(&g, 8192, 4096, &l) == 0);   /* exactly a page: one page */
	CHECK_EQ(l.vinitrd_end - l.vinitrd_start, 4096);
	REQUIRE(domain_layout(&g, 8192, 1, &l) == 0);
	CHECK_EQ(l.vinitrd_end - l.vinitrd_start, 4096);
	/* A 10 MiB initrd: the mapping grows past it, with its tables. */
	REQUIRE(domain_layout(&g, 8192, 10 << 20, &l) == 0);
	layout_is_ordered(&l);
	CHECK_EQ(l.vinitrd_end - l.vinitrd_start, 10 << 20);
	CHECK(l.v_end >= VBASE + (12 << 20));
	CHECK_EQ(l.v_end % (4 << 20), 0);
	uint64_t l1s = (l.v_end - l.v_start + (2 << 20) - 1) / (2 << 20);
	CHECK_EQ(l.nr_pt_frames, 3 + l1s);
}

/* An initrd is hostile: any length must give a layout that fits or -ENOMEM, never a wrap. */
static void layout_refuses_an_initrd_that_does_not_fit(void)
{
	struct elf_guest g = kernel(VBASE + 0x2000, VBASE + 0x9920);
	struct dom_layout l;
	CHECK_EQ(domain_layout(&g, 8192, 32u << 20, &l), -VIREO_ENOMEM);   /* all of its memory */
	CHECK_EQ(domain_layout(&g, 8192, (31u << 20) + (512u << 10), &l), -VIREO_ENOMEM); /* no room left */
	CHECK_EQ(domain_layout(&g, 8192, (32u << 20) + 1, &l), -VIREO_ENOMEM);
	CHECK_EQ(domain_layout(&g, 8192, ~0ull, &l), -VIREO_ENOMEM);
	CHECK_EQ(domain_layout(&g, 8192, ~0ull - 4095, &l), -VIREO_ENOMEM);
	CHECK_EQ(domain_layout(&g, 8192, 1ull << 63, &l), -VIREO_ENOMEM);
	/* The largest that fits: 32 MiB less the kernel, P2M, start_info, tables, stack, slack. */
	uint64_t fits = 0;
	for (uint64_t len = 20u << 20; len <= 32u << 20; len += 4096)
		if (domain_layout(&g, 8192, len, &l) == 0)
			fits = len;
	REQUIRE(fits != 0);
	REQUIRE(domain_layout(&g, 8192, fits, &l) == 0);
	layout_is_ordered(&l);
	CHECK_EQ(l.v_end, VBASE + (32 << 20));
	CHECK_EQ(domain_layout(&g, 8192, fits + 1, &l), -VIREO_ENOMEM);
	/* A kernel at the very top of the space: an initrd past it would wrap round to 0. */
	struct elf_guest top = { .virt_base = 0xFFFFFFFFFFC00000ull, .virt_kstart = 0xFFFFFFFFFFC00000ull,
				 .virt_kend = 0xFFFFFFFFFFC10000ull };
	CHECK_EQ(domain_layout(&top, 1u << 20, 8u << 20, &l), -VIREO_ENOMEM);
	CHECK_EQ(domain_layout(&top, 1u << 20, (4u << 20) - 0x10000, &l), -VIREO_ENOMEM);
}

static const struct test_case cases[] = {
	TEST(layout_refuses_the_hypervisor_range),
	TEST(layout_small_kernel),
	TEST(layout_grows_tables_with_the_mapping),
	TEST(layout_refuses_what_does_not_fit),
	TEST(layout_without_notes_at_zero),
	TEST(layout_with_an_initrd),
	TEST(layout_refuses_an_initrd_that_does_not_fit),
};

TEST_MAIN(cases)
