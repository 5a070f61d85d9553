/*
 * Unit tests of the range lists (mm/memmap.c, include/mm/memmap.h): merging,
 * splitting, hostile firmware entries (unsorted, overlapping, zero-length,
 * wrapping), a full map, and a random differential run against a bitmap.
 */
#include <stdlib.h>
#include <string.h>

#include <mm/memmap.h>
#include <vireo/compiler.h>
#include <vireo/errno.h>

#include "harness.h"

/* The struct memmap invariant: sorted, non-empty, neither overlapping nor touching. */
static int memmap_ok(const struct memmap *m)
{
	if (m->n > MEMMAP_MAX)
		return 0;
	for (unsigned i = 0; i < m->n; i++) {
		if (m->r[i].start >= m->r[i].end)
			return 0;
		if (i && m->r[i - 1].end >= m->r[i].start)
			return 0;
	}
	return 1;
}

/* m is exactly the ranges given as start, end pairs. */
static int memmap_is(const struct memmap *m, unsigned n, const uint64_t *se)
{
	if (m->n != n)
		return 0;
	for (unsigned i = 0; i < n; i++)
		if (m->r[i].start != se[2 * i] || m->r[i].end != se[2 * i + 1])
			return 0;
	return 1;
}

#define IS(m, ...) memmap_is((m), sizeof((uint64_t[]){ __VA_ARGS__ }) / 16, (uint64_t[]){ __VA_ARGS__ })

static void memmap_empty(void)
{
	struct memmap m;
	memset(&m, 0xAA, sizeof(m));
	memmap_init(&m);
	CHECK_EQ(m.n, 0);
	CHECK_EQ(memmap_total(&m), 0);
	CHECK(memmap_contains(&m, 5, 5));
	CHECK(!memmap_contains(&m, 5, 6));
	CHECK_EQ(memmap_remove(&m, 0, 100), 0);
	CHECK_EQ(m.n, 0);

	struct memmap z = { 0 };	/* zero-filled is empty too */
	CHECK_EQ(memmap_add(&z, 10, 20), 0);
	CHECK(IS(&z, 10, 20));
}

static void memmap_add_merges(void)
{
	struct memmap m;
	memmap_init(&m);

	CHECK_EQ(memmap_add(&m, 100, 200), 0);
	CHECK_EQ(memmap_add(&m, 300, 400), 0);
	CHECK(IS(&m, 100, 200, 300, 400));
	/* Adjacent on the right and on the left: merged. */
	CHECK_EQ(memmap_add(&m, 200, 250), 0);
	CHECK_EQ(memmap_add(&m, 50, 100), 0);
	CHECK(IS(&m, 50, 250, 300, 400));
	/* Bridging the gap exactly: one range. */
	CHECK_EQ(memmap_add(&m, 250, 300), 0);
	CHECK(IS(&m, 50, 400));
	/* Inside: nothing changes. */
	CHECK_EQ(memmap_add(&m, 60, 70), 0);
	CHECK(IS(&m, 50, 400));
	/* Overlapping several, sticking out both sides. */
	CHECK_EQ(memmap_add(&m, 500, 600), 0);
	CHECK_EQ(memmap_add(&m, 700, 800), 0);
	CHECK_EQ(memmap_add(&m, 900, 1000), 0);
	CHECK(IS(&m, 50, 400, 500, 600, 700, 800, 900, 1000));
	CHECK_EQ(memmap_add(&m, 450, 850), 0);
	CHECK(IS(&m, 50, 400, 450, 850, 900, 1000));
	CHECK_EQ(memmap_add(&m, 0, 2000), 0);
	CHECK(IS(&m, 0, 2000));
	CHECK_EQ(memmap_total(&m), 2000);
	CHECK(memmap_ok(&m));
}

static void memmap_add_unsorted_overlapping(void)
{
	struct memmap m;
	memmap_init(&m);

	/* A firmware map in a bad order, with duplicates and overlaps. */
	static const uint64_t e[][2] = {
		{ 0x100000, 0x7fe0000 }, { 0, 0x9fc00 }, { 0x200000, 0x300000 },
		{ 0, 0x9fc00 }, { 0x7fe0000, 0x8000000 }, { 0x9f000, 0xa0000 },
		{ 0x100000000, 0x180000000 }, { 0x7000000, 0x7800000 },
	};
	for (unsigned i = 0; i < ARRAY_SIZE(e); i++)
		CHECK_EQ(memmap_add(&m, e[i][0], e[i][1]), 0);
	CHECK(IS(&m, 0, 0xa0000, 0x100000, 0x8000000, 0x100000000, 0x180000000));
	CHECK_EQ(memmap_total(&m), 0xa0000 + 0x7f00000 + 0x80000000);
	CHECK(memmap_ok(&m));
}

static void memmap_remove_splits(void)
{
	struct memmap m;
	memmap_init(&m);

	CHECK_EQ(memmap_add(&m, 0, 1000), 0);
	/* Middle: split. */
	CHECK_EQ(memmap_remove(&m, 400, 500), 0);
	CHECK(IS(&m, 0, 400, 500, 1000));
	/* Edges: trims. */
	CHECK_EQ(memmap_remove(&m, 0, 10), 0);
	CHECK_EQ(memmap_remove(&m, 990, 1000), 0);
	CHECK(IS(&m, 10, 400, 500, 990));
	/* Only touching: nothing. */
	CHECK_EQ(memmap_remove(&m, 400, 500), 0);
	CHECK_EQ(memmap_remove(&m, 0, 10), 0);
	CHECK_EQ(memmap_remove(&m, 990, 5000), 0);
	CHECK(IS(&m, 10, 400, 500, 990));
	/* Across a gap: trims both sides. */
	CHECK_EQ(memmap_remove(&m, 300, 600), 0);
	CHECK(IS(&m, 10, 300, 600, 990));
	/* Over several whole ranges and part of another. */
	CHECK_EQ(memmap_add(&m, 1000, 1100), 0);
	CHECK_EQ(memmap_add(&m, 1200, 1300), 0);
	CHECK_EQ(memmap_remove(&m, 5, 1250), 0);
	CHECK(IS(&m, 1250, 1300));
	/* Exactly a whole range. */
	CHECK_EQ(memmap_remove(&m, 1250, 1300), 0);
	CHECK_EQ(m.n, 0);
	CHECK(memmap_ok(&m));
}

static void memmap_zero_length(void)
{
	struct memmap m;
	memmap_init(&m);

	CHECK_EQ(memmap_add(&m, 100, 100), 0);
	CHECK_EQ(m.n, 0);
	CHECK_EQ(memmap_add(&m, 0, 200), 0);
	/* A zero-length removal inside a range must not split it. */
	CHECK_EQ(memmap_remove(&m, 50, 50), 0);
	CHECK(IS(&m, 0, 200));
	CHECK_EQ(memmap_add_len(&m, 500, 0), 0);
	CHECK_EQ(memmap_remove_len(&m, 100, 0), 0);
	CHECK(IS(&m, 0, 200));
	/* A zero-length add at the end of a range: still nothing added. */
	CHECK_EQ(memmap_add(&m, 200, 200), 0);
	CHECK(IS(&m, 0, 200));
}

static void memmap_wrapping_and_top(void)
{
	struct memmap m, before;
	memmap_init(&m);
	CHECK_EQ(memmap_add(&m, 0x1000, 0x2000), 0);
	before = m;

	CHECK_EQ(memmap_add(&m, 0x3000, 0x2000), -VIREO_EINVAL);
	CHECK_EQ(memmap_remove(&m, 0x1800, 0x1000), -VIREO_EINVAL);
	/* base + len past 2^64, and exactly 2^64 (the end cannot be written). */
	CHECK_EQ(memmap_add_len(&m, UINT64_MAX - 0xfff, 0x2000), -VIREO_EINVAL);
	CHECK_EQ(memmap_add_len(&m, UINT64_MAX - 0xfff, 0x1000), -VIREO_EINVAL);
	CHECK_EQ(memmap_remove_len(&m, 0x1000, UINT64_MAX), -VIREO_EINVAL);
	CHECK_EQ(memmap_add_len(&m, UINT64_MAX, UINT64_MAX), -VIREO_EINVAL);
	CHECK(memcmp(&m, &before, sizeof(m)) == 0);

	/* The very top of the address space works. */
	CHECK_EQ(memmap_add_len(&m, UINT64_MAX - 0xfff, 0xfff), 0);
	CHECK_EQ(memmap_add(&m, 0, UINT64_MAX), 0);
	CHECK(IS(&m, 0, UINT64_MAX));
	CHECK_EQ(memmap_total(&m), UINT64_MAX);
	CHECK_EQ(memmap_remove(&m, UINT64_MAX - 1, UINT64_MAX), 0);
	CHECK_EQ(memmap_remove_len(&m, 0, 1), 0);
	CHECK(IS(&m, 1, UINT64_MAX - 1));
	CHECK(memmap_contains(&m, 1, UINT64_MAX - 1));
	CHECK(!memmap_contains(&m, 0, 2));
}

/* MEMMAP_MAX separate ranges: 10 + 100 * i, 10 bytes each. */
static void fill(struct memmap *m)
{
	memmap_init(m);
	for (unsigned i = 0; i < MEMMAP_MAX; i++)
		CHECK_EQ(memmap_add(m, 100 * i + 10, 100 * i + 20), 0);
	CHECK_EQ(m->n, MEMMAP_MAX);
}

static void memmap_full(void)
{
	struct memmap m, before;
	fill(&m);
	before = m;

	/* A new separate range and a split both need a slot: refused, unchanged. */
	CHECK_EQ(memmap_add(&m, 0, 5), -VIREO_ENOSPC);
	CHECK_EQ(memmap_add(&m, 100 * MEMMAP_MAX + 50, 100 * MEMMAP_MAX + 60), -VIREO_ENOSPC);
	CHECK_EQ(memmap_add(&m, 50, 60), -VIREO_ENOSPC);
	CHECK_EQ(memmap_remove(&m, 112, 114), -VIREO_ENOSPC);
	CHECK(memcmp(&m, &before, sizeof(m)) == 0);

	/* What needs no new slot still works on a full map. */
	CHECK_EQ(memmap_add(&m, 5, 10), 0);		/* touches range 0 */
	CHECK_EQ(memmap_add(&m, 115, 125), 0);		/* extends range 1 */
	CHECK_EQ(memmap_remove(&m, 210, 212), 0);	/* trims range 2 */
	CHECK_EQ(m.n, MEMMAP_MAX);
	CHECK_EQ(memmap_remove(&m, 310, 320), 0);	/* drops range 3 */
	CHECK_EQ(m.n, MEMMAP_MAX - 1);
	/* Now one split fits, and then the map is full again. */
	CHECK_EQ(memmap_remove(&m, 412, 414), 0);
	CHECK_EQ(m.n, MEMMAP_MAX);
	CHECK_EQ(memmap_remove(&m, 516, 517), -VIREO_ENOSPC);
	/* A merge of everything frees all slots. */
	CHECK_EQ(memmap_add(&m, 0, 100 * MEMMAP_MAX), 0);
	CHECK(IS(&m, 0, 100 * MEMMAP_MAX));
	CHECK(memmap_ok(&m));
}

/* The boot sequence on a realistic, messy firmware map. */
static void memmap_boot_example(void)
{
	struct memmap m;
	memmap_init(&m);

	CHECK_EQ(memmap_add_len(&m, 0x100000, 0x3ff00000), 0);	/* 1 MiB .. 1 GiB */
	CHECK_EQ(memmap_add_len(&m, 0, 0x9fc00), 0);
	CHECK_EQ(memmap_add_len(&m, 0x100000000, 0x40000000), 0);
	CHECK_EQ(memmap_add_len(&m, 0x3ff00000, 0x100000), 0);	/* adjacent: merges */
	CHECK_EQ(memmap_add_len(&m, 0xfffff000, 0x2000), 0);		/* bridges 4 GiB */
	CHECK_EQ(memmap_add_len(&m, 0x800000000000, UINT64_MAX), -VIREO_EINVAL);
	CHECK(IS(&m, 0, 0x9fc00, 0x100000, 0x40000000, 0xfffff000, 0x140000000));

	CHECK_EQ(memmap_remove_len(&m, 0x200000, 0x600000), 0);	/* the image */
	CHECK_EQ(memmap_remove_len(&m, 0x3fff0000, 0x10000), 0);	/* ACPI */
	CHECK_EQ(memmap_remove_len(&m, 0x9f000, 0x1000), 0);		/* EBDA */
	CHECK_EQ(memmap_remove_len(&m, 0xfec00000, 0x01400000), 0);	/* reserved, overlaps RAM */
	CHECK(IS(&m, 0, 0x9f000, 0x100000, 0x200000, 0x800000, 0x3fff0000,
		 0x100000000, 0x140000000));
	CHECK(memmap_contains(&m, 0x800000, 0x3fff0000));
	CHECK(!memmap_contains(&m, 0x1ff000, 0x201000));
	CHECK(memmap_ok(&m));
}

/* ---- random differential run against a bitmap ---------------------------- */

#define SPACE 1024	/* bytes modelled */

static uint64_t rng_state = 0x2545F4914F6CDD1Dull;

static uint64_t rnd(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return rng_state;
}

/* Ranges of the bitmap; returns how many (may exceed MEMMAP_MAX). */
static unsigned model_ranges(const uint8_t *bits, struct mem_range *out, unsigned max)
{
	unsigned n = 0;
	for (unsigned a = 0; a < SPACE;) {
		if (!bits[a]) {
			a++;
			continue;
		}
		unsigned b = a;
		while (b < SPACE && bits[b])
			b++;
		if (n < max)
			out[n] = (struct mem_range){ a, b };
		n++;
		a = b;
	}
	return n;
}

static void memmap_random_vs_model(void)
{
	static uint8_t bits[SPACE], next[SPACE];
	static struct mem_range want[SPACE];
	struct memmap m;
	memmap_init(&m);
	memset(bits, 0, sizeof(bits));
	unsigned nospc = 0;

	for (int step = 0; step < 200000 && !test_failed_now(); step++) {
		/* Mostly tiny ranges, so the map sometimes needs over MEMMAP_MAX. */
		uint64_t s = rnd() % (SPACE + 1), kind = rnd() % 256, len;
		if (kind < 248)
			len = rnd() % 4;
		else if (kind < 255)
			len = rnd() % 64;
		else
			len = rnd() % SPACE;
		uint64_t e = s + len > SPACE ? SPACE : s + len;
		int add = rnd() % 2;
		if (rnd() % 64 == 0) {	/* reversed: refused */
			struct memmap before = m;
			CHECK_EQ(add ? memmap_add(&m, e + 1, s) : memmap_remove(&m, e + 1, s), -VIREO_EINVAL);
			CHECK(memcmp(&m, &before, sizeof(m)) == 0);
			continue;
		}

		memcpy(next, bits, sizeof(bits));
		for (uint64_t a = s; a < e; a++)
			next[a] = (uint8_t)add;
		unsigned n = model_ranges(next, want, SPACE);

		struct memmap before = m;
		int rc = add ? memmap_add(&m, s, e) : memmap_remove(&m, s, e);
		if (n > MEMMAP_MAX) {
			CHECK_EQ(rc, -VIREO_ENOSPC);
			CHECK(memcmp(&m, &before, sizeof(m)) == 0);
			nospc++;
			continue;
		}
		CHECK_EQ(rc, 0);
		memcpy(bits, next, sizeof(bits));
		CHECK(memmap_ok(&m));
		REQUIRE(m.n == n);
		uint64_t total = 0;
		for (unsigned i = 0; i < n; i++) {
			CHECK_EQ(m.r[i].start, want[i].start);
			CHECK_EQ(m.r[i].end, want[i].end);
			total += want[i].end - want[i].start;
		}
		CHECK_EQ(memmap_total(&m), total);
		uint64_t cs = rnd() % SPACE, ce = cs + rnd() % 16;
		if (ce > SPACE)
			ce = SPACE;
		int in = 1;
		for (uint64_t a = cs; a < ce; a++)
			in &= bits[a];
		CHECK_EQ(memmap_contains(&m, cs, ce), in);
	}
	/* The run must have reached the ENOSPC cases too. */
	printf("  %u refused for want of room\n", nospc);
	CHECK(nospc > 0);
}

static const struct test_case cases[] = {
	TEST(memmap_empty),
	TEST(memmap_add_merges),
	TEST(memmap_add_unsorted_overlapping),
	TEST(memmap_remove_splits),
	TEST(memmap_zero_length),
	TEST(memmap_wrapping_and_top),
	TEST(memmap_full),
	TEST(memmap_boot_example),
	TEST(memmap_random_vs_model),
};

TEST_MAIN(cases)
