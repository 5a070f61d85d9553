/*
 * Unit tests of the hypervisor heap (mm/heap.c, include/mm/heap.h): every
 * size class, large sizes and the frames they take, zeroing, exhaustion,
 * the empty-page policy and trim, a random run with a pattern in every
 * object, the ASSERTs on pointers that are not the heap's, and xmalloc/xfree
 * from two CPUs.
 *
 * Each test builds a fresh frame allocator and heap over LOCAL_*; the
 * machine's allocator and heap (xmalloc) use GLOBAL_*, which nothing else
 * touches.
 */
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <arch/hosted.h>
#include <mm/heap.h>
#include <vireo/errno.h>

#include "harness.h"

#define MiB (1ull << 20)
#define MACHINE_BYTES (256 * MiB)
#define LOCAL_START   (0)
#define LOCAL_END     (128 * MiB)
#define GLOBAL_START  (128 * MiB)
#define GLOBAL_END    (256 * MiB)

static struct frame_allocator fa;
static struct heap heap;

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

/* A fresh frame allocator over [start, end) and a fresh heap on it. */
static void heap_fresh(uint64_t start, uint64_t end)
{
	struct memmap m;
	machine_up();
	memmap_init(&m);
	memmap_add(&m, start, end);
	memset(&fa, 0, sizeof(fa));
	if (frame_allocator_init(&fa, &m) != 0) {
		printf("frame_allocator_init failed\n");
		exit(1);
	}
	heap_init(&heap, &fa);
}

static uint64_t rng_state = 0xD1B54A32D192ED03ull;

static uint64_t rnd(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return rng_state;
}

static uint8_t pat(uint64_t seed, size_t i)
{
	return (uint8_t)(seed * 31 + i * 7 + (i >> 8));
}

static void fill(void *p, size_t n, uint64_t seed)
{
	uint8_t *b = p;
	for (size_t i = 0; i < n; i++)
		b[i] = pat(seed, i);
}

static int intact(const void *p, size_t n, uint64_t seed)
{
	const uint8_t *b = p;
	for (size_t i = 0; i < n; i++)
		if (b[i] != pat(seed, i))
			return 0;
	return 1;
}

static int cmp_ptr(const void *a, const void *b)
{
	uintptr_t x = *(const uintptr_t *)a, y = *(const uintptr_t *)b;
	return x < y ? -1 : x > y;
}

/* ---- size classes -------------------------------------------------------- */

static void heap_every_small_size(void)
{
	enum { N = HEAP_SMALL_MAX + 1 };
	void **p = malloc(N * sizeof(*p));
	size_t last_u = 16;
	unsigned nr_classes = 1;
	heap_fresh(LOCAL_START, LOCAL_END);
	uint64_t free0 = frame_allocator_nr_free(&fa);

	/* Sizes 0 .. 2048, all live at once, each filled to its size. */
	for (size_t s = 0; s < N; s++) {
		p[s] = heap_alloc(&heap, s);
		REQUIRE(p[s]);
		CHECK_EQ((uintptr_t)p[s] % HEAP_ALIGN, 0);
		size_t u = heap_usable_size(&heap, p[s]);
		CHECK(u >= s && u >= 16 && u <= HEAP_SMALL_MAX);
		/* The smallest class that fits: a bigger class starts just past the last. */
		if (s > 0 && u != last_u) {
			CHECK(u > last_u);
			CHECK_EQ(last_u, s - 1);
			nr_classes++;
		}
		last_u = u;
		CHECK_EQ(virt_to_mfn(p[s]), virt_to_mfn((uint8_t *)p[s] + u - 1));
		if (u % 64 == 0)
			CHECK_EQ((uintptr_t)p[s] % 64, 0);
		fill(p[s], u, s);
	}
	CHECK_EQ(nr_classes, HEAP_NR_CLASSES);
	CHECK_EQ(last_u, HEAP_SMALL_MAX);
	CHECK(heap.nr_pages > 0);
	CHECK_EQ(frame_allocator_nr_free(&fa), free0 - heap.nr_pages);

	/* No two objects overlap. */
	void **sorted = malloc(N * sizeof(*sorted));
	memcpy(sorted, p, N * sizeof(*p));
	qsort(sorted, N, sizeof(*sorted), cmp_ptr);
	for (size_t i = 1; i < N; i++)
		CHECK((uint8_t *)sorted[i - 1] + heap_usable_size(&heap, sorted[i - 1]) <=
		      (uint8_t *)sorted[i]);

	for (size_t s = 0; s < N; s++) {
		CHECK(intact(p[s], heap_usable_size(&heap, p[s]), s));
		heap_free(&heap, p[s]);
	}
	/* At most one all-free page is kept per class; trim gives those back. */
	CHECK(heap.nr_pages <= HEAP_NR_CLASSES);
	heap_trim(&heap);
	CHECK_EQ(heap.nr_pages, 0);
	CHECK_EQ(frame_allocator_nr_free(&fa), free0);
	CHECK_EQ(frame_allocator_audit(&fa), 0);
	free(sorted);
	free(p);
}

/* Fill one page of a class exactly: all objects share a frame, the next one does not. */
static void heap_class_pages(void)
{
	static const size_t sizes[] = { 16, 64, 100, 496, 1000, 1344, 2016, 2048 };
	heap_fresh(LOCAL_START, LOCAL_END);

	for (unsigned i = 0; i < ARRAY_SIZE(sizes); i++) {
		void *first = heap_alloc(&heap, sizes[i]);
		REQUIRE(first);
		size_t u = heap_usable_size(&heap, first);
		unsigned per_page = (unsigned)((PAGE_SIZE - 64) / u), n = 1;
		CHECK_EQ(((uintptr_t)first & (PAGE_SIZE - 1)), 64);	/* right after the header */
		void *q[256];
		q[0] = first;
		while (n < per_page) {
			q[n] = heap_alloc(&heap, sizes[i]);
			CHECK_EQ(virt_to_mfn(q[n]), virt_to_mfn(first));
			CHECK_EQ((uint8_t *)q[n] - (uint8_t *)q[n - 1], u);
			n++;
		}
		void *next = heap_alloc(&heap, sizes[i]);
		CHECK(virt_to_mfn(next) != virt_to_mfn(first));
		heap_free(&heap, next);
		for (unsigned j = 0; j < n; j++)
			heap_free(&heap, q[j]);
	}
	heap_trim(&heap);
	CHECK_EQ(heap.nr_pages, 0);
}

/* ---- large sizes --------------------------------------------------------- */

static void heap_big_sizes(void)
{
	static const struct { size_t size; unsigned order; } cases[] = {
		{ 2049, 0 }, { 4032, 0 }, { 4033, 1 }, { 8192 - 64, 1 }, { 8192 - 63, 2 },
		{ 16384, 3 }, { 1 << 20, 9 }, { (3 << 20) + 1, 10 }, { (4 << 20) - 64, 10 },
	};
	heap_fresh(LOCAL_START, LOCAL_END);
	uint64_t free0 = frame_allocator_nr_free(&fa);

	for (unsigned i = 0; i < ARRAY_SIZE(cases); i++) {
		uint8_t *p = heap_alloc(&heap, cases[i].size);
		REQUIRE(p);
		CHECK_EQ((uintptr_t)p % 64, 0);
		CHECK_EQ(frame_allocator_nr_free(&fa), free0 - (1ull << cases[i].order));
		CHECK_EQ(heap_usable_size(&heap, p), (PAGE_SIZE << cases[i].order) - 64);
		fill(p, cases[i].size, i);
		CHECK(intact(p, cases[i].size, i));
		heap_free(&heap, p);
		CHECK_EQ(frame_allocator_nr_free(&fa), free0);
	}
	/* Bigger than anything free, than the largest block, than the address space. */
	CHECK(heap_alloc(&heap, 200 * MiB) == NULL);
	CHECK(heap_alloc(&heap, (PAGE_SIZE << FRAME_MAX_ORDER) - 63) == NULL);
	CHECK(heap_alloc(&heap, SIZE_MAX) == NULL);
	CHECK(heap_alloc(&heap, SIZE_MAX - 32) == NULL);
	CHECK(heap_zalloc(&heap, SIZE_MAX) == NULL);
	CHECK_EQ(frame_allocator_nr_free(&fa), free0);
	heap_free(&heap, NULL);
	CHECK_EQ(frame_allocator_audit(&fa), 0);
}

static void heap_zalloc_zeroes(void)
{
	static const size_t sizes[] = { 0, 1, 15, 16, 17, 100, 1000, 2048, 2049, 10000, 100000 };
	heap_fresh(LOCAL_START, LOCAL_END);

	for (unsigned i = 0; i < ARRAY_SIZE(sizes); i++) {
		size_t s = sizes[i];
		/* Dirty the memory the next allocation will most likely reuse. */
		uint8_t *d = heap_alloc(&heap, s);
		REQUIRE(d);
		memset(d, 0xFF, heap_usable_size(&heap, d));
		heap_free(&heap, d);
		uint8_t *z = heap_zalloc(&heap, s);
		REQUIRE(z);
		CHECK(z == d);
		size_t nonzero = 0;
		for (size_t j = 0; j < s; j++)
			nonzero += z[j] != 0;
		CHECK_EQ(nonzero, 0);
		heap_free(&heap, z);
	}
}

/* ---- exhaustion and page policy ------------------------------------------ */

static void heap_exhaustion(void)
{
	/* 64 frames: 1 of metadata, 63 for the heap. */
	heap_fresh(LOCAL_START, LOCAL_START + 64 * PAGE_SIZE);
	uint64_t free0 = frame_allocator_nr_free(&fa);
	CHECK_EQ(free0, 63);

	void *p[64];
	unsigned n = 0;
	while (n < 64 && (p[n] = heap_alloc(&heap, 2048)) != NULL)
		n++;
	CHECK_EQ(n, 63);	/* one 2048-byte object per page */
	CHECK_EQ(frame_allocator_nr_free(&fa), 0);
	CHECK(heap_alloc(&heap, 16) == NULL);
	CHECK(heap_alloc(&heap, 5000) == NULL);
	heap_free(&heap, p[--n]);
	/* That page stayed (the only one with room), so a small class cannot have it... */
	CHECK(heap_alloc(&heap, 16) == NULL);
	/* ...but its own class can. */
	p[n] = heap_alloc(&heap, 2047);
	CHECK(p[n] != NULL);
	n++;
	while (n)
		heap_free(&heap, p[--n]);
	heap_trim(&heap);
	CHECK_EQ(frame_allocator_nr_free(&fa), free0);
	CHECK_EQ(heap.nr_pages, 0);
}

static void heap_empty_page_policy(void)
{
	heap_fresh(LOCAL_START, LOCAL_END);
	uint64_t free0 = frame_allocator_nr_free(&fa);

	/* Alloc/free of one object keeps its page: no frame traffic each time. */
	for (int i = 0; i < 10; i++) {
		void *p = heap_alloc(&heap, 64);
		REQUIRE(p);
		heap_free(&heap, p);
		CHECK_EQ(heap.nr_pages, 1);
		CHECK_EQ(frame_allocator_nr_free(&fa), free0 - 1);
	}
	/*
	 * Two pages of a class. A page that empties stays only while it is the
	 * only one with room, so a class never keeps two empty pages.
	 */
	unsigned per_page = (PAGE_SIZE - 64) / 64;
	void *q[2 * 64];
	for (unsigned i = 0; i < per_page + 1; i++)
		q[i] = heap_alloc(&heap, 64);
	CHECK_EQ(heap.nr_pages, 2);
	CHECK(virt_to_mfn(q[0]) != virt_to_mfn(q[per_page]));
	heap_free(&heap, q[per_page]);		/* the second page empties, the first is full */
	CHECK_EQ(heap.nr_pages, 2);
	heap_free(&heap, q[0]);			/* the first has room: both on the list */
	CHECK_EQ(heap.nr_pages, 2);
	void *again = heap_alloc(&heap, 64);	/* taken from the used page, not the empty one */
	CHECK_EQ(virt_to_mfn(again), virt_to_mfn(q[1]));
	heap_free(&heap, again);
	for (unsigned i = 1; i < per_page; i++)
		heap_free(&heap, q[i]);		/* the first empties too: it goes back */
	CHECK_EQ(heap.nr_pages, 1);
	heap_trim(&heap);
	CHECK_EQ(heap.nr_pages, 0);
	CHECK_EQ(frame_allocator_nr_free(&fa), free0);
}

/* ---- random run ---------------------------------------------------------- */

struct live_obj {
	uint8_t *p;
	size_t size;
	uint64_t seed;
};

static size_t random_size(void)
{
	switch (rnd() % 16) {
	case 0:
		return HEAP_SMALL_MAX + rnd() % (20 * 1024);
	case 1:
	case 2:
		return rnd() % (HEAP_SMALL_MAX + 1);
	default:
		return rnd() % 200;
	}
}

static void heap_random_vs_model(void)
{
	enum { MAX_LIVE = 2000 };
	struct live_obj *live = malloc(MAX_LIVE * sizeof(*live));
	unsigned nlive = 0;
	heap_fresh(LOCAL_START, LOCAL_END);
	uint64_t free0 = frame_allocator_nr_free(&fa);

	for (uint64_t step = 0; step < 100000 && !test_failed_now(); step++) {
		if (nlive == 0 || (nlive < MAX_LIVE && rnd() % 100 < 52)) {
			size_t s = random_size();
			uint8_t *p = rnd() % 8 ? heap_alloc(&heap, s) : heap_zalloc(&heap, s);
			REQUIRE(p);
			CHECK_EQ((uintptr_t)p % HEAP_ALIGN, 0);
			CHECK(heap_usable_size(&heap, p) >= s);
			fill(p, s, step);
			live[nlive++] = (struct live_obj){ p, s, step };
		} else {
			unsigned i = rnd() % nlive;
			struct live_obj o = live[i];
			live[i] = live[--nlive];
			CHECK(intact(o.p, o.size, o.seed));
			heap_free(&heap, o.p);
		}
		if (step % 20000 == 0) {
			for (unsigned i = 0; i < nlive; i++)
				CHECK(intact(live[i].p, live[i].size, live[i].seed));
			CHECK_EQ(frame_allocator_audit(&fa), 0);
		}
	}
	while (nlive) {
		struct live_obj o = live[--nlive];
		CHECK(intact(o.p, o.size, o.seed));
		heap_free(&heap, o.p);
	}
	heap_trim(&heap);
	CHECK_EQ(heap.nr_pages, 0);
	CHECK_EQ(frame_allocator_nr_free(&fa), free0);
	CHECK_EQ(frame_allocator_audit(&fa), 0);
	free(live);
}

/* ---- the machine's heap -------------------------------------------------- */

static void global_up(void)
{
	static int done;
	if (!done) {
		struct memmap m;
		machine_up();
		memmap_init(&m);
		memmap_add(&m, GLOBAL_START, GLOBAL_END);
		if (frame_alloc_init(&m) != 0) {
			printf("frame_alloc_init failed\n");
			exit(1);
		}
		done = 1;
	}
}

static void heap_xmalloc(void)
{
	global_up();
	uint64_t free0 = frame_nr_free();

	char *s = xmalloc(32);
	REQUIRE(s);
	CHECK(virt_to_mfn(s) >= GLOBAL_START / PAGE_SIZE);
	strcpy(s, "vireo");
	uint32_t *z = xzalloc(100 * sizeof(*z));
	REQUIRE(z);
	for (int i = 0; i < 100; i++)
		CHECK_EQ(z[i], 0);
	void *big = xzalloc(3 * PAGE_SIZE);
	REQUIRE(big);
	CHECK_EQ(((uint8_t *)big)[3 * PAGE_SIZE - 1], 0);
	CHECK(strcmp(s, "vireo") == 0);
	xfree(big);
	xfree(z);
	xfree(s);
	xfree(NULL);
	/* Pages kept for the classes used: at most two frames. */
	CHECK(frame_nr_free() >= free0 - 2);
}

#define CPU_STEPS 50000
#define CPU_LIVE  64
#define SLOTS     8

/* Objects passed between the CPUs; each starts with its size and seed. */
static _Atomic(uint64_t *) handoff[SLOTS];
static _Atomic int cpu_bad;

static uint64_t *obj_new(uint64_t seed, uint64_t r)
{
	size_t size = 16 + (r % 8 == 0 ? r % 20000 : r % 512);
	uint64_t *p = xmalloc(size);
	if (!p)
		return NULL;
	p[0] = size;
	p[1] = seed;
	fill(p + 2, size - 16, seed);
	return p;
}

static void obj_free(uint64_t *p)
{
	if (!intact(p + 2, p[0] - 16, p[1]))
		atomic_store(&cpu_bad, 1);
	xfree(p);
}

static void cpu_worker(void *arg, unsigned cpu)
{
	uint64_t *live[CPU_LIVE];
	unsigned nlive = 0;
	uint64_t r = 0xABCDEF12345ull + cpu * 0x9E3779B97F4A7C15ull;

	for (unsigned step = 0; step < CPU_STEPS; step++) {
		r ^= r << 13, r ^= r >> 7, r ^= r << 17;
		if (nlive < CPU_LIVE && (nlive == 0 || r % 2)) {
			uint64_t *p = obj_new(r ^ step, r >> 8);
			if (p)
				live[nlive++] = p;
			else
				atomic_store(&cpu_bad, 1);
			continue;
		}
		unsigned i = (unsigned)((r >> 16) % nlive);
		uint64_t *p = live[i];
		live[i] = live[--nlive];
		/* Every fourth object is freed by whichever CPU takes it from a slot. */
		if ((r >> 24) % 4 == 0) {
			p = atomic_exchange_explicit(&handoff[(r >> 32) % SLOTS], p,
						     memory_order_acq_rel);
			if (!p)
				continue;
		}
		obj_free(p);
	}
	while (nlive)
		obj_free(live[--nlive]);
}

static void heap_xmalloc_two_cpus(void)
{
	global_up();
	REQUIRE(machine_run_on_cpus(2, cpu_worker, NULL) == 0);
	for (unsigned i = 0; i < SLOTS; i++) {
		uint64_t *p = atomic_exchange(&handoff[i], NULL);
		if (p)
			obj_free(p);
	}
	CHECK(!atomic_load(&cpu_bad));
	CHECK_EQ(frame_allocator_audit(&frame_allocator_global), 0);
}

/* ---- ASSERTs on pointers that are not ours (in a child process) ---------- */

static int dies_asserting(void (*fn)(void))
{
	return test_dies_asserting(fn);
}

static void free_libc_pointer(void)
{
	static char not_machine_memory[64];
	heap_free(&heap, not_machine_memory);
}

static void free_plain_frame(void)
{
	mfn_t mfn = frame_allocator_alloc(&fa, 0);
	memset(mfn_to_virt(mfn), 0, PAGE_SIZE);
	heap_free(&heap, (uint8_t *)mfn_to_virt(mfn) + 64);
}

static void free_interior_small(void)
{
	uint8_t *p = heap_alloc(&heap, 64);
	heap_free(&heap, p + 16);
}

static void free_header(void)
{
	uint8_t *p = heap_alloc(&heap, 64);
	heap_free(&heap, (void *)((uintptr_t)p & ~(uintptr_t)(PAGE_SIZE - 1)));
}

static void free_twice_small(void)
{
	void *keep = heap_alloc(&heap, 64);	/* keeps the page alive */
	void *p = heap_alloc(&heap, 64);
	heap_free(&heap, p);
	heap_free(&heap, p);
	heap_free(&heap, keep);
}

static void free_twice_big(void)
{
	void *p = heap_alloc(&heap, 10000);
	heap_free(&heap, p);
	heap_free(&heap, p);
}

static void free_interior_big(void)
{
	uint8_t *p = heap_alloc(&heap, 10000);
	heap_free(&heap, p + PAGE_SIZE);
}

static void free_other_heap(void)
{
	static struct heap other;
	heap_init(&other, &fa);
	void *p = heap_alloc(&other, 64);
	heap_free(&heap, p);
}

static void free_other_heap_big(void)
{
	static struct heap other;
	heap_init(&other, &fa);
	void *p = heap_alloc(&other, 10000);
	heap_free(&heap, p);
}

static void use_after_free_small(void)
{
	uint64_t *p = heap_alloc(&heap, 64);
	heap_free(&heap, p);
	p[1] = 42;	/* breaks the free tag */
	heap_alloc(&heap, 64);
}

static void free_good(void)
{
	heap_free(&heap, heap_alloc(&heap, 64));
	heap_free(&heap, heap_alloc(&heap, 10000));
}

static void heap_bad_free_asserts(void)
{
	heap_fresh(LOCAL_START, LOCAL_END);
	CHECK(dies_asserting(free_libc_pointer));
	CHECK(dies_asserting(free_plain_frame));
	CHECK(dies_asserting(free_interior_small));
	CHECK(dies_asserting(free_header));
	CHECK(dies_asserting(free_twice_small));
	CHECK(dies_asserting(free_twice_big));
	CHECK(dies_asserting(free_interior_big));
	CHECK(dies_asserting(free_other_heap));
	CHECK(dies_asserting(free_other_heap_big));
	CHECK(dies_asserting(use_after_free_small));
	CHECK(!dies_asserting(free_good));
}

static const struct test_case cases[] = {
	TEST(heap_every_small_size),
	TEST(heap_class_pages),
	TEST(heap_big_sizes),
	TEST(heap_zalloc_zeroes),
	TEST(heap_exhaustion),
	TEST(heap_empty_page_policy),
	TEST(heap_random_vs_model),
	TEST(heap_xmalloc),
	TEST(heap_xmalloc_two_cpus),
	TEST(heap_bad_free_asserts),
};

TEST_MAIN(cases)
