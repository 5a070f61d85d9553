/*
 * Unit tests of the buddy frame allocator (mm/frame_alloc.c,
 * include/mm/frame_alloc.h): placement of the metadata, the initial block
 * structure, every order, natural alignment, exhaustion, merging back to the
 * initial structure, ranges with holes and beyond the machine, a random run
 * checked against a model (ownership map and a pattern in every frame), the
 * ASSERTs on bad frees, and two CPUs sharing the machine's allocator.
 *
 * The hosted machine: MFN k is bytes k * 4096 .. of one mapping. Each test
 * builds its own struct frame_allocator over part of it; only
 * fa_global_two_cpus uses the machine's allocator, over a region no other
 * test touches (GLOBAL_*).
 */
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <arch/hosted.h>
#include <mm/frame_alloc.h>
#include <vireo/errno.h>

#include "harness.h"

#define MiB (1ull << 20)
#define GiB (1ull << 30)
/* 2 GiB + 32 MiB: room for a naturally aligned 1 GiB block at 1 GiB. */
#define MACHINE_BYTES (2 * GiB + 32 * MiB)
#define GLOBAL_START  (2 * GiB)
#define GLOBAL_END    (2 * GiB + 16 * MiB)

static void machine_up(void)
{
	static int done;
	if (!done) {
		int rc = hosted_machine_init(MACHINE_BYTES, 2);
		if (rc != 0) {
			printf("hosted_machine_init: %d\n", rc);
			exit(1);
		}
		done = 1;
	}
}

static uint64_t rng_state = 0x9E3779B97F4A7C15ull;

static uint64_t rnd(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return rng_state;
}

/* A fresh allocator over the given byte ranges (start, end pairs). */
static int fa_make(struct frame_allocator *fa, struct memmap *m, unsigned n, const uint64_t *se)
{
	memset(fa, 0, sizeof(*fa));
	memmap_init(m);
	for (unsigned i = 0; i < n; i++)
		if (memmap_add(m, se[2 * i], se[2 * i + 1]) != 0)
			return -1;
	return frame_allocator_init(fa, m);
}

#define FA_MAKE(fa, m, ...) \
	fa_make((fa), (m), sizeof((uint64_t[]){ __VA_ARGS__ }) / 16, (uint64_t[]){ __VA_ARGS__ })

static void blocks_of(struct frame_allocator *fa, uint64_t *b)
{
	for (unsigned k = 0; k < FRAME_NR_ORDERS; k++)
		b[k] = frame_allocator_nr_free_blocks(fa, k);
}

static int same_blocks(const uint64_t *a, const uint64_t *b)
{
	return memcmp(a, b, FRAME_NR_ORDERS * sizeof(*a)) == 0;
}

/* ---- init ---------------------------------------------------------------- */

static void fa_init_basic(void)
{
	struct frame_allocator fa;
	struct memmap m;
	machine_up();

	/* 16 MiB from 0: 4096 frames, one frame of metadata at MFN 0. */
	REQUIRE(FA_MAKE(&fa, &m, 0, 16 * MiB) == 0);
	CHECK_EQ(fa.nr_frames, 4096);
	CHECK_EQ(fa.meta_mfn, 0);
	CHECK_EQ(fa.meta_frames, 1);
	CHECK_EQ(frame_allocator_nr_free(&fa), 4095);
	/* Frames 1 .. 4095: one block of each order 0 .. 11 (1 + 2 + ... + 2048). */
	for (unsigned k = 0; k < FRAME_NR_ORDERS; k++)
		CHECK_EQ(frame_allocator_nr_free_blocks(&fa, k), k <= 11);
	CHECK_EQ(frame_allocator_nr_free_blocks(&fa, FRAME_MAX_ORDER + 1), 0);
	CHECK_EQ(frame_allocator_audit(&fa), 0);
	CHECK_EQ(frame_allocator_init(&fa, &m), -VIREO_EBUSY);
	CHECK_EQ(frame_allocator_nr_free(&fa), 4095);

	/* Ranges are rounded inward: [0x1234, 0x5000) is frames 2, 3, 4. */
	REQUIRE(FA_MAKE(&fa, &m, 0x1234, 0x5000) == 0);
	CHECK_EQ(fa.meta_mfn, 2);
	CHECK_EQ(fa.nr_frames, 5);
	CHECK_EQ(frame_allocator_nr_free(&fa), 2);
	CHECK_EQ(frame_allocator_nr_free_blocks(&fa, 0), 2);
	CHECK_EQ(frame_allocator_alloc(&fa, 1), INVALID_MFN);	/* 3 and 4 are not buddies */
	mfn_t a = frame_allocator_alloc(&fa, 0), b = frame_allocator_alloc(&fa, 0);
	CHECK((a == 3 && b == 4) || (a == 4 && b == 3));
	CHECK_EQ(frame_allocator_alloc(&fa, 0), INVALID_MFN);
	frame_allocator_free(&fa, a, 0);
	frame_allocator_free(&fa, b, 0);
	CHECK_EQ(frame_allocator_audit(&fa), 0);
}

static void fa_init_errors(void)
{
	struct frame_allocator fa;
	struct memmap m;
	machine_up();
	mfn_t top = machine_nr_frames();

	memset(&fa, 0, sizeof(fa));
	memmap_init(&m);
	CHECK_EQ(frame_allocator_init(&fa, &m), -VIREO_ENOMEM);	/* nothing usable */
	CHECK_EQ(FA_MAKE(&fa, &m, 100, 4000, 4097, 8191), -VIREO_ENOMEM);	/* no whole frame */
	CHECK_EQ(FA_MAKE(&fa, &m, top * PAGE_SIZE, (top + 100) * PAGE_SIZE), -VIREO_ENOMEM);

	/* Single frames up to MFN 20000: the metadata (5 frames) fits nowhere. */
	memset(&fa, 0, sizeof(fa));
	memmap_init(&m);
	for (uint64_t f = 0; f <= 20000; f += 20000 / 100)
		CHECK_EQ(memmap_add(&m, f * PAGE_SIZE, (f + 1) * PAGE_SIZE), 0);
	CHECK_EQ(frame_allocator_init(&fa, &m), -VIREO_ENOMEM);

	/* Maps that break the struct memmap invariant. */
	struct memmap bad;
	memmap_init(&bad);
	bad.n = 2;
	bad.r[0] = (struct mem_range){ 8 * MiB, 9 * MiB };
	bad.r[1] = (struct mem_range){ 1 * MiB, 2 * MiB };		/* unsorted */
	CHECK_EQ(frame_allocator_init(&fa, &bad), -VIREO_EINVAL);
	bad.r[1] = (struct mem_range){ 8 * MiB + 4096, 10 * MiB };	/* overlapping */
	CHECK_EQ(frame_allocator_init(&fa, &bad), -VIREO_EINVAL);
	bad.r[1] = (struct mem_range){ 9 * MiB, 10 * MiB };		/* touching */
	CHECK_EQ(frame_allocator_init(&fa, &bad), -VIREO_EINVAL);
	bad.r[1] = (struct mem_range){ 12 * MiB, 12 * MiB };		/* empty */
	CHECK_EQ(frame_allocator_init(&fa, &bad), -VIREO_EINVAL);
	bad.n = MEMMAP_MAX + 1;
	CHECK_EQ(frame_allocator_init(&fa, &bad), -VIREO_EINVAL);

	/* A refused init changes nothing: the allocator is still usable later. */
	CHECK(!fa.ready);
	CHECK_EQ(frame_allocator_nr_free(&fa), 0);
	CHECK_EQ(frame_allocator_alloc(&fa, 0), INVALID_MFN);
	memmap_init(&m);
	CHECK_EQ(memmap_add(&m, 0, 1 * MiB), 0);
	CHECK_EQ(frame_allocator_init(&fa, &m), 0);
	CHECK_EQ(frame_allocator_nr_free(&fa), 255);
}

/* ---- metadata, holes, beyond the machine --------------------------------- */

/* Allocate order 0 until exhausted; each frame once, marked in seen[]. */
static uint64_t drain_order0(struct frame_allocator *fa, uint8_t *seen, mfn_t nr, mfn_t **out)
{
	uint64_t n = 0, cap = frame_allocator_nr_free(fa) + 1;
	mfn_t *list = malloc(cap * sizeof(*list));
	mfn_t mfn;

	while ((mfn = frame_allocator_alloc(fa, 0)) != INVALID_MFN) {
		if (mfn >= nr || seen[mfn] || n == cap) {
			CHECK(!"frame out of range, twice, or too many");
			break;
		}
		seen[mfn] = 1;
		list[n++] = mfn;
	}
	*out = list;
	return n;
}

static void fa_metadata_carving(void)
{
	struct frame_allocator fa;
	struct memmap m;
	machine_up();

	/* Usable: frames 10-11, 100-109, 200-19999 (top 20000: 5 frames of metadata). */
	REQUIRE(FA_MAKE(&fa, &m, 10 * PAGE_SIZE, 12 * PAGE_SIZE,
			100 * PAGE_SIZE, 110 * PAGE_SIZE,
			200 * PAGE_SIZE, 20000 * PAGE_SIZE) == 0);
	CHECK_EQ(fa.nr_frames, 20000);
	CHECK_EQ(fa.meta_frames, 5);
	CHECK_EQ(fa.meta_mfn, 100);	/* the first range big enough, not 10-11 */
	CHECK(fa.meta == mfn_to_virt(100));
	CHECK_EQ(frame_allocator_nr_free(&fa), 2 + 5 + 19800);
	CHECK_EQ(frame_allocator_audit(&fa), 0);

	uint8_t *seen = calloc(20000, 1);
	mfn_t *list;
	uint64_t n = drain_order0(&fa, seen, 20000, &list);
	CHECK_EQ(n, 2 + 5 + 19800);
	for (mfn_t f = 0; f < 20000; f++) {
		int usable = (f >= 10 && f < 12) || (f >= 105 && f < 110) || f >= 200;
		if (seen[f] != usable) {
			CHECK_EQ(f, -1);
			break;
		}
	}
	CHECK_EQ(frame_allocator_audit(&fa), 0);
	for (uint64_t i = 0; i < n; i++)
		frame_allocator_free(&fa, list[n - 1 - i], 0);
	CHECK_EQ(frame_allocator_nr_free(&fa), n);
	CHECK_EQ(frame_allocator_audit(&fa), 0);
	free(list);
	free(seen);
}

static void fa_beyond_machine(void)
{
	struct frame_allocator fa;
	struct memmap m;
	machine_up();
	uint64_t end = machine_nr_frames() * PAGE_SIZE;

	/* 64 MiB at 0, the machine's last 4 MiB and past its end, far past its end. */
	REQUIRE(FA_MAKE(&fa, &m, 0, 64 * MiB, end - 4 * MiB, end + GiB,
			end + 2 * GiB, end + 3 * GiB) == 0);
	CHECK_EQ(fa.nr_frames, machine_nr_frames());
	CHECK_EQ(fa.meta_mfn, 0);
	CHECK_EQ(fa.meta_frames, (machine_nr_frames() + PAGE_SIZE - 1) / PAGE_SIZE);
	uint64_t want = 64 * MiB / PAGE_SIZE - fa.meta_frames + 4 * MiB / PAGE_SIZE;
	CHECK_EQ(frame_allocator_nr_free(&fa), want);
	CHECK_EQ(frame_allocator_audit(&fa), 0);

	uint8_t *seen = calloc(machine_nr_frames(), 1);
	mfn_t *list;
	uint64_t n = drain_order0(&fa, seen, machine_nr_frames(), &list);
	CHECK_EQ(n, want);
	for (uint64_t i = 0; i < n; i++)
		frame_allocator_free(&fa, list[i], 0);
	CHECK_EQ(frame_allocator_audit(&fa), 0);
	free(list);
	free(seen);

	/*
	 * A range ending inside the machine's last frame: that frame is not
	 * whole, so it is left out, and so is the partial frame at the start.
	 */
	mfn_t s = (end - GiB - 100) / PAGE_SIZE + 1, e = machine_nr_frames() - 1;
	REQUIRE(FA_MAKE(&fa, &m, end - GiB - 100, end - 5) == 0);
	CHECK_EQ(fa.nr_frames, e);
	CHECK_EQ(fa.meta_mfn, s);
	CHECK_EQ(frame_allocator_nr_free(&fa), e - s - fa.meta_frames);
	CHECK_EQ(frame_allocator_audit(&fa), 0);

	/* The metadata for frames up to the top must fit in one usable range. */
	CHECK_EQ(FA_MAKE(&fa, &m, end - 3 * PAGE_SIZE, end), -VIREO_ENOMEM);
}

/* ---- orders, alignment, exhaustion, merging ------------------------------ */

static void fa_every_order(void)
{
	struct frame_allocator fa;
	struct memmap m;
	uint64_t before[FRAME_NR_ORDERS], after[FRAME_NR_ORDERS];
	machine_up();

	/* 4 MiB at 0 (metadata: 128 frames) and the 1 GiB block at 1 GiB. */
	REQUIRE(FA_MAKE(&fa, &m, 0, 4 * MiB, 1 * GiB, 2 * GiB) == 0);
	CHECK_EQ(fa.meta_frames, 128);
	CHECK_EQ(frame_allocator_nr_free_blocks(&fa, FRAME_MAX_ORDER), 1);
	blocks_of(&fa, before);
	uint64_t free0 = frame_allocator_nr_free(&fa);

	for (unsigned k = 0; k <= FRAME_MAX_ORDER; k++) {
		mfn_t mfn = frame_allocator_alloc(&fa, k);
		REQUIRE(mfn != INVALID_MFN);
		CHECK_EQ(mfn & ((1ull << k) - 1), 0);	/* naturally aligned */
		CHECK(mfn >= 128);
		CHECK(mfn + (1ull << k) <= 1024 || (mfn >= 262144 && mfn + (1ull << k) <= 524288));
		CHECK_EQ(frame_allocator_nr_free(&fa), free0 - (1ull << k));
		CHECK_EQ(frame_allocator_audit(&fa), 0);
		/* The block is real memory: touch its first and last frames. */
		memset(mfn_to_virt(mfn), 0x5A, PAGE_SIZE);
		memset(mfn_to_virt(mfn + (1ull << k) - 1), 0xA5, PAGE_SIZE);
		frame_allocator_free(&fa, mfn, k);
		blocks_of(&fa, after);
		CHECK(same_blocks(before, after));
	}
	CHECK_EQ(frame_allocator_alloc(&fa, FRAME_MAX_ORDER + 1), INVALID_MFN);
	CHECK_EQ(frame_allocator_alloc(&fa, 1000), INVALID_MFN);

	/* The only 1 GiB block: a second one cannot be had. */
	mfn_t g = frame_allocator_alloc(&fa, FRAME_MAX_ORDER);
	CHECK_EQ(g, 262144);
	CHECK_EQ(frame_allocator_alloc(&fa, FRAME_MAX_ORDER), INVALID_MFN);
	CHECK_EQ(frame_allocator_alloc(&fa, 10), INVALID_MFN);	/* the 4 MiB range has 896 frames */
	CHECK(frame_allocator_alloc(&fa, 9) != INVALID_MFN);
	frame_allocator_free(&fa, g, FRAME_MAX_ORDER);
	CHECK_EQ(frame_allocator_audit(&fa), 0);
}

/* Every order k: exhaust with blocks of order k, then free in random order. */
static void fa_exhaustion_and_merge(void)
{
	struct frame_allocator fa;
	struct memmap m;
	uint64_t before[FRAME_NR_ORDERS], after[FRAME_NR_ORDERS];
	machine_up();

	/* Holes, odd sizes, unaligned edges. */
	REQUIRE(FA_MAKE(&fa, &m, 0x3000, 0x21000, 0x40000 + 5, 0x1000000 - 7,
			0x1400000, 0x1400000 + 777 * PAGE_SIZE, 0x2000000, 0x2800000) == 0);
	CHECK_EQ(frame_allocator_audit(&fa), 0);
	blocks_of(&fa, before);
	uint64_t free0 = frame_allocator_nr_free(&fa);
	mfn_t *list = malloc(free0 * sizeof(*list));

	for (unsigned k = 0; k <= 12; k++) {
		uint64_t n = 0, below = 0;
		mfn_t mfn;
		for (unsigned j = 0; j < k; j++)
			below += before[j] << j;
		while ((mfn = frame_allocator_alloc(&fa, k)) != INVALID_MFN) {
			CHECK_EQ(mfn & ((1ull << k) - 1), 0);
			list[n++] = mfn;
		}
		/* Every block of order >= k was used up; the smaller ones are untouched. */
		CHECK_EQ(frame_allocator_nr_free(&fa), below);
		CHECK_EQ(n << k, free0 - below);
		for (unsigned j = 0; j <= FRAME_MAX_ORDER; j++)
			CHECK_EQ(frame_allocator_nr_free_blocks(&fa, j), j < k ? before[j] : 0);
		CHECK_EQ(frame_allocator_audit(&fa), 0);

		for (uint64_t i = n; i > 1; i--) {	/* shuffle */
			uint64_t j = rnd() % i;
			mfn_t t = list[i - 1];
			list[i - 1] = list[j];
			list[j] = t;
		}
		for (uint64_t i = 0; i < n; i++)
			frame_allocator_free(&fa, list[i], k);
		CHECK_EQ(frame_allocator_nr_free(&fa), free0);
		blocks_of(&fa, after);
		CHECK(same_blocks(before, after));
		CHECK_EQ(frame_allocator_audit(&fa), 0);
	}
	free(list);
}

/* ---- random run against a model ------------------------------------------ */

struct live_block {
	mfn_t mfn;
	unsigned order;
	uint64_t tag;
};

static uint64_t frame_tag(uint64_t tag, mfn_t mfn)
{
	return tag * 0x100000001B3ull ^ mfn;
}

/* First and last word of every frame of the block carry the tag. */
static void pattern_write(const struct live_block *b)
{
	for (mfn_t f = b->mfn; f < b->mfn + (1ull << b->order); f++) {
		uint64_t *w = mfn_to_virt(f);
		w[0] = frame_tag(b->tag, f);
		w[PAGE_SIZE / 8 - 1] = ~frame_tag(b->tag, f);
	}
}

static int pattern_ok(const struct live_block *b)
{
	for (mfn_t f = b->mfn; f < b->mfn + (1ull << b->order); f++) {
		uint64_t *w = mfn_to_virt(f);
		if (w[0] != frame_tag(b->tag, f) || w[PAGE_SIZE / 8 - 1] != ~frame_tag(b->tag, f))
			return 0;
	}
	return 1;
}

static void fa_random_vs_model(void)
{
	struct frame_allocator fa;
	struct memmap m;
	uint64_t before[FRAME_NR_ORDERS], after[FRAME_NR_ORDERS];
	machine_up();

	/* About 40 MiB in pieces below 128 MiB. */
	REQUIRE(FA_MAKE(&fa, &m, 0x5000, 0x300000, 0x301000, 0x400000,
			0x800123, 0x1800000, 0x2000000, 0x2000000 + 12345 * PAGE_SIZE,
			0x5000000, 0x6000000, 0x7ff0000, 0x8000000) == 0);
	mfn_t nr = fa.nr_frames;
	uint8_t *usable = calloc(nr, 1), *owned = calloc(nr, 1);
	for (unsigned i = 0; i < m.n; i++) {
		mfn_t s = (m.r[i].start + PAGE_SIZE - 1) / PAGE_SIZE, e = m.r[i].end / PAGE_SIZE;
		for (mfn_t f = s; f < e; f++)
			usable[f] = f < fa.meta_mfn || f >= fa.meta_mfn + fa.meta_frames;
	}
	blocks_of(&fa, before);
	uint64_t free0 = frame_allocator_nr_free(&fa), held = 0, failures = 0;

	enum { MAX_LIVE = 4096 };
	struct live_block *live = malloc(MAX_LIVE * sizeof(*live));
	unsigned nlive = 0;

	for (uint64_t step = 0; step < 100000 && !test_failed_now(); step++) {
		int do_alloc = nlive == 0 || (nlive < MAX_LIVE && rnd() % 100 < 55);
		if (do_alloc) {
			/* Mostly small orders, sometimes up to 2^12 frames. */
			unsigned order = rnd() % 4 == 0 ? rnd() % 13 : rnd() % 4;
			mfn_t mfn = frame_allocator_alloc(&fa, order);
			if (mfn == INVALID_MFN) {
				failures++;
				continue;
			}
			REQUIRE((mfn & ((1ull << order) - 1)) == 0 && mfn + (1ull << order) <= nr);
			for (mfn_t f = mfn; f < mfn + (1ull << order); f++) {
				REQUIRE(usable[f]);	/* never a hole or the metadata */
				REQUIRE(!owned[f]);	/* never overlaps a live block */
				owned[f] = 1;
			}
			live[nlive] = (struct live_block){ mfn, order, step };
			pattern_write(&live[nlive]);
			nlive++;
			held += 1ull << order;
		} else {
			unsigned i = rnd() % nlive;
			struct live_block b = live[i];
			live[i] = live[--nlive];
			CHECK(pattern_ok(&b));
			for (mfn_t f = b.mfn; f < b.mfn + (1ull << b.order); f++)
				owned[f] = 0;
			frame_allocator_free(&fa, b.mfn, b.order);
			held -= 1ull << b.order;
		}
		CHECK_EQ(frame_allocator_nr_free(&fa), free0 - held);
		if (step % 5000 == 0)
			CHECK_EQ(frame_allocator_audit(&fa), 0);
	}
	while (nlive) {
		struct live_block b = live[--nlive];
		CHECK(pattern_ok(&b));
		frame_allocator_free(&fa, b.mfn, b.order);
	}
	CHECK_EQ(frame_allocator_nr_free(&fa), free0);
	blocks_of(&fa, after);
	CHECK(same_blocks(before, after));
	CHECK_EQ(frame_allocator_audit(&fa), 0);
	printf("  %llu allocations refused for want of a block\n", (unsigned long long)failures);
	free(live);
	free(owned);
	free(usable);
}

/* ---- ASSERTs on bad frees (in a child process: panic stops the machine) -- */

static int dies_asserting(void (*fn)(void))
{
	return test_dies_asserting(fn);
}

static struct frame_allocator death_fa;

static void death_setup(void)
{
	struct memmap m;
	memmap_init(&m);
	memmap_add(&m, 0, 8 * MiB);
	memset(&death_fa, 0, sizeof(death_fa));
	frame_allocator_init(&death_fa, &m);
}

static void free_twice(void)
{
	death_setup();
	mfn_t a = frame_allocator_alloc(&death_fa, 0);
	frame_allocator_free(&death_fa, a, 0);
	frame_allocator_free(&death_fa, a, 0);
}

static void free_twice_after_merge(void)
{
	death_setup();
	mfn_t a = frame_allocator_alloc(&death_fa, 2);
	mfn_t b = frame_allocator_alloc(&death_fa, 2);
	frame_allocator_free(&death_fa, a, 2);
	frame_allocator_free(&death_fa, b, 2);	/* may merge with a */
	frame_allocator_free(&death_fa, b, 2);
}

static void free_misaligned(void)
{
	death_setup();
	mfn_t a = frame_allocator_alloc(&death_fa, 3);
	frame_allocator_free(&death_fa, a + 1, 3);
}

static void free_interior(void)
{
	death_setup();
	mfn_t a = frame_allocator_alloc(&death_fa, 3);
	frame_allocator_free(&death_fa, a + 4, 2);
}

static void free_wrong_order(void)
{
	death_setup();
	mfn_t a = frame_allocator_alloc(&death_fa, 3);
	frame_allocator_free(&death_fa, a, 2);
}

static void free_out_of_range(void)
{
	death_setup();
	frame_allocator_free(&death_fa, 8 * MiB / PAGE_SIZE + 16, 0);
}

static void free_metadata(void)
{
	death_setup();
	frame_allocator_free(&death_fa, death_fa.meta_mfn, 0);
}

static void free_bad_order(void)
{
	death_setup();
	frame_allocator_free(&death_fa, 0, FRAME_MAX_ORDER + 1);
}

static void free_before_init(void)
{
	memset(&death_fa, 0, sizeof(death_fa));
	frame_allocator_free(&death_fa, 0, 0);
}

static void free_good(void)
{
	death_setup();
	mfn_t a = frame_allocator_alloc(&death_fa, 3);
	frame_allocator_free(&death_fa, a, 3);
}

static void fa_bad_free_asserts(void)
{
	machine_up();
	CHECK(dies_asserting(free_twice));
	CHECK(dies_asserting(free_twice_after_merge));
	CHECK(dies_asserting(free_misaligned));
	CHECK(dies_asserting(free_interior));
	CHECK(dies_asserting(free_wrong_order));
	CHECK(dies_asserting(free_out_of_range));
	CHECK(dies_asserting(free_metadata));
	CHECK(dies_asserting(free_bad_order));
	CHECK(dies_asserting(free_before_init));
	CHECK(!dies_asserting(free_good));	/* the harness itself works */
}

/* ---- the machine's allocator on two CPUs --------------------------------- */

#define CPU_STEPS 100000
#define CPU_LIVE  64
#define SLOTS     8

/* Blocks handed from one CPU to the other: (mfn << 8 | order) + 1, or 0. */
static _Atomic uint64_t handoff[SLOTS];
static _Atomic int cpu_bad;

static void check_block(mfn_t mfn, unsigned order)
{
	for (mfn_t f = mfn; f < mfn + (1ull << order); f++) {
		uint64_t *w = mfn_to_virt(f);
		if (w[0] != frame_tag(order, f) || mfn < GLOBAL_START / PAGE_SIZE ||
		    f >= GLOBAL_END / PAGE_SIZE)
			atomic_store(&cpu_bad, 1);
	}
}

static void fill_block(mfn_t mfn, unsigned order)
{
	for (mfn_t f = mfn; f < mfn + (1ull << order); f++)
		*(uint64_t *)mfn_to_virt(f) = frame_tag(order, f);
}

static void cpu_worker(void *arg, unsigned cpu)
{
	struct { mfn_t mfn; unsigned order; } live[CPU_LIVE];
	unsigned nlive = 0;
	uint64_t r = 0x1234567ull + cpu * 0x9E3779B97F4A7C15ull;

	for (unsigned step = 0; step < CPU_STEPS; step++) {
		r ^= r << 13, r ^= r >> 7, r ^= r << 17;
		if (nlive < CPU_LIVE && (nlive == 0 || r % 2)) {
			unsigned order = (r >> 8) % 5;
			mfn_t mfn = frame_alloc(order);
			if (mfn == INVALID_MFN)
				continue;
			fill_block(mfn, order);
			live[nlive].mfn = mfn;
			live[nlive].order = order;
			nlive++;
		} else {
			unsigned i = (unsigned)((r >> 16) % nlive);
			mfn_t mfn = live[i].mfn;
			unsigned order = live[i].order;
			live[i] = live[--nlive];
			/*
			 * Every fourth block goes through a hand-off slot, so
			 * the other CPU frees (and checks) it. acq_rel: the
			 * pattern written here is visible to whoever takes it.
			 */
			if ((r >> 24) % 4 == 0) {
				uint64_t v = atomic_exchange_explicit(&handoff[(r >> 32) % SLOTS],
						(mfn << 8 | order) + 1, memory_order_acq_rel);
				if (!v)
					continue;
				mfn = (v - 1) >> 8;
				order = (v - 1) & 0xff;
			}
			check_block(mfn, order);
			frame_free(mfn, order);
		}
	}
	while (nlive) {
		nlive--;
		check_block(live[nlive].mfn, live[nlive].order);
		frame_free(live[nlive].mfn, live[nlive].order);
	}
}

static void fa_global_two_cpus(void)
{
	struct memmap m;
	machine_up();

	memmap_init(&m);
	CHECK_EQ(memmap_add(&m, GLOBAL_START, GLOBAL_END), 0);
	REQUIRE(frame_alloc_init(&m) == 0);
	CHECK_EQ(frame_alloc_init(&m), -VIREO_EBUSY);
	uint64_t free0 = frame_nr_free();
	CHECK_EQ(free0, (GLOBAL_END - GLOBAL_START) / PAGE_SIZE - frame_allocator_global.meta_frames);

	REQUIRE(machine_run_on_cpus(2, cpu_worker, NULL) == 0);
	for (unsigned i = 0; i < SLOTS; i++) {
		uint64_t v = atomic_exchange(&handoff[i], 0);
		if (v) {
			check_block((v - 1) >> 8, (v - 1) & 0xff);
			frame_free((v - 1) >> 8, (v - 1) & 0xff);
		}
	}
	CHECK(!atomic_load(&cpu_bad));
	CHECK_EQ(frame_nr_free(), free0);
	CHECK_EQ(frame_allocator_audit(&frame_allocator_global), 0);
}

static const struct test_case cases[] = {
	TEST(fa_init_basic),
	TEST(fa_init_errors),
	TEST(fa_metadata_carving),
	TEST(fa_beyond_machine),
	TEST(fa_every_order),
	TEST(fa_exhaustion_and_merge),
	TEST(fa_random_vs_model),
	TEST(fa_bad_free_asserts),
	TEST(fa_global_two_cpus),
};

TEST_MAIN(cases)
