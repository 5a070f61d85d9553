/*
 * Unit tests of the SPSC descriptor ring (fastpath/ring.c, include/fastpath/ring.h):
 * geometry, empty/full, wrap-around of the 32-bit indices, notification
 * hold-off decisions, hostile indices, and a differential run against a
 * plain FIFO model.
 */
#include <stdlib.h>
#include <string.h>

#include <fastpath/ring.h>

#include "harness.h"

/* 128-byte header + 16 slots of 8 bytes: 256 bytes. */
#define SMALL_AREA (VIREO_RING_SLOTS_OFFSET + 16 * 8)

static uint8_t area[4096] ALIGNED(4096);

struct pair {
	struct ring_producer p;
	struct ring_consumer c;
};

static void setup(struct pair *r, size_t bytes, uint32_t slot_size)
{
	memset(area, 0xAB, sizeof(area));
	ring_shared_init(area);
	int np = ring_producer_attach(&r->p, area, bytes, slot_size);
	int nc = ring_consumer_attach(&r->c, area, bytes, slot_size);
	CHECK(np > 0);
	CHECK_EQ(np, nc);
}

static int push_u64(struct pair *r, uint64_t v)
{
	uint32_t first;
	int n = ring_reserve_spsc(&r->p, 1, &first);
	if (n != 1)
		return n;
	memcpy(ring_prod_slot(&r->p, first), &v, 8);
	ring_publish_spsc(&r->p, 1);
	return 1;
}

static int pop_u64(struct pair *r, uint64_t *v)
{
	uint32_t first;
	int n = ring_peek_spsc(&r->c, 1, &first);
	if (n != 1)
		return n;
	memcpy(v, ring_cons_slot(&r->c, first), 8);
	ring_consume_spsc(&r->c, 1);
	return 1;
}

static void ring_geometry(void)
{
	struct ring_producer p;
	struct ring_consumer c;

	CHECK_EQ(vireo_ring_nr_slots(4096, 8), 256);     /* 3968/8 = 496 -> 256 */
	CHECK_EQ(vireo_ring_nr_slots(4096, 112), 32);    /* Xen's blkif request size */
	CHECK_EQ(vireo_ring_nr_slots(SMALL_AREA, 8), 16);
	CHECK_EQ(vireo_ring_nr_slots(128, 8), 0);
	CHECK_EQ(vireo_ring_nr_slots(4096, 0), 0);
	CHECK_EQ(vireo_ring_nr_slots(1ull << 40, 1), VIREO_RING_MAX_SLOTS);

	ring_shared_init(area);
	CHECK_EQ(ring_producer_attach(&p, area, 4096, 8), 256);
	CHECK_EQ(ring_consumer_attach(&c, area, 4096, 8), 256);
	CHECK_EQ(ring_producer_attach(&p, area + 8, 4000, 8), -VIREO_EINVAL);   /* misaligned */
	CHECK_EQ(ring_producer_attach(&p, area, 4096, 0), -VIREO_EINVAL);      /* no slot size */
	CHECK_EQ(ring_consumer_attach(&c, area, 100, 8), -VIREO_EINVAL);       /* no room */
	CHECK_EQ(ring_consumer_attach(&c, NULL, 4096, 8), -VIREO_EINVAL);
}

static void ring_empty_and_full(void)
{
	struct pair r;
	uint32_t first;
	uint64_t v;

	setup(&r, SMALL_AREA, 8);
	CHECK_EQ(ring_peek_spsc(&r.c, 1, &first), 0);
	CHECK_EQ(pop_u64(&r, &v), 0);

	for (uint64_t i = 0; i < 16; i++)
		CHECK_EQ(push_u64(&r, i * 3), 1);
	CHECK_EQ(push_u64(&r, 99), 0);                     /* full */
	CHECK_EQ(ring_reserve_spsc(&r.p, 4, &first), 0);
	CHECK(r.p.s.nr_stall >= 1);

	for (uint64_t i = 0; i < 16; i++) {
		CHECK_EQ(pop_u64(&r, &v), 1);
		CHECK_EQ(v, i * 3);
	}
	CHECK_EQ(pop_u64(&r, &v), 0);                      /* empty again */
	CHECK_EQ(push_u64(&r, 7), 1);
	CHECK_EQ(pop_u64(&r, &v), 1);
	CHECK_EQ(v, 7);
}

static void ring_partial_batches(void)
{
	struct pair r;
	uint32_t first;

	setup(&r, SMALL_AREA, 8);
	CHECK_EQ(ring_reserve_spsc(&r.p, 10, &first), 10);
	CHECK_EQ(first, 0);
	CHECK_EQ(ring_reserve_spsc(&r.p, 10, &first), 10);  /* same slots until published */
	ring_publish_spsc(&r.p, 10);
	CHECK_EQ(ring_reserve_spsc(&r.p, 10, &first), 6);   /* only 6 left */
	CHECK_EQ(first, 10);
	CHECK_EQ(ring_peek_spsc(&r.c, 32, &first), 10);     /* all that is there */
	ring_consume_spsc(&r.c, 4);
	CHECK_EQ(ring_reserve_spsc(&r.p, 10, &first), 6);   /* runs stop at the array's end */
	ring_publish_spsc(&r.p, 6);
	CHECK_EQ(ring_reserve_spsc(&r.p, 10, &first), 4);   /* then go on from slot 0: the 4 freed */
	CHECK_EQ(first, 16);
	CHECK_EQ((uint8_t *)ring_prod_slot(&r.p, first) - area, VIREO_RING_SLOTS_OFFSET);
	CHECK_EQ(ring_peek_spsc(&r.c, 32, &first), 12);
	CHECK_EQ(first, 4);
}

static void ring_index_wraparound(void)
{
	struct pair r;
	struct vireo_ring_shared *sh = (void *)area;
	uint64_t next_in = 0, next_out = 0, v;

	memset(area, 0, sizeof(area));
	ring_shared_init(area);
	sh->prod = sh->cons = 0xFFFFFFF5u;                 /* 11 entries before the counters wrap */
	CHECK_EQ(ring_producer_attach(&r.p, area, SMALL_AREA, 8), 16);
	CHECK_EQ(ring_consumer_attach(&r.c, area, SMALL_AREA, 8), 16);

	for (int round = 0; round < 20; round++) {
		for (int k = 0; k < 5 + round % 9; k++)
			if (push_u64(&r, next_in) == 1)
				next_in++;
		for (int k = 0; k < 4 + round % 7; k++)
			if (pop_u64(&r, &v) == 1) {
				CHECK_EQ(v, next_out);
				next_out++;
			}
	}
	while (pop_u64(&r, &v) == 1) {
		CHECK_EQ(v, next_out);
		next_out++;
	}
	CHECK_EQ(next_in, next_out);
	CHECK(next_in > 20);
	CHECK(r.p.s.mine < 0x100u);                        /* the counters really wrapped */
	CHECK_EQ(r.p.s.mine, sh->prod);
	CHECK_EQ(r.c.s.mine, sh->cons);
}

static void ring_runs_are_contiguous(void)
{
	struct pair r;
	uint32_t first;
	uint64_t out[16];

	setup(&r, SMALL_AREA, 8);
	for (uint64_t i = 0; i < 12; i++)
		push_u64(&r, i);
	CHECK_EQ(ring_peek_spsc(&r.c, 12, &first), 12);
	ring_consume_spsc(&r.c, 12);
	for (uint64_t i = 100; i < 110; i++)               /* slots 12..15, then 0..5 */
		push_u64(&r, i);
	CHECK_EQ(ring_peek_spsc(&r.c, 16, &first), 4);     /* 12..15: up to the end */
	CHECK_EQ(first & 15, 12);
	ring_copy_out(&r.c, first, 4, out);
	ring_consume_spsc(&r.c, 4);
	CHECK_EQ(ring_peek_spsc(&r.c, 16, &first), 6);     /* 0..5 */
	CHECK_EQ(first & 15, 0);
	ring_copy_out(&r.c, first, 6, out + 4);
	for (int i = 0; i < 10; i++)
		CHECK_EQ(out[i], 100 + i);
}

/* Consumer-side hold-off: the producer notifies only when asked, once per arming. */
static void ring_notify_consumer_holdoff(void)
{
	struct pair r;
	uint32_t first;

	setup(&r, SMALL_AREA, 8);
	/* Fresh ring: prod_event = 1, so the first entry notifies (as Xen). */
	CHECK_EQ(ring_reserve_spsc(&r.p, 1, &first), 1);
	CHECK(ring_publish_notify_spsc(&r.p, 1));
	CHECK_EQ(ring_reserve_spsc(&r.p, 3, &first), 3);
	CHECK(!ring_publish_notify_spsc(&r.p, 3));         /* nobody asked */

	/* Consumer drains, arms, finds nothing new: it may sleep. */
	CHECK_EQ(ring_peek_spsc(&r.c, 16, &first), 4);
	ring_consume_spsc(&r.c, 4);
	CHECK_EQ(ring_arm_consumer_spsc(&r.c), 0);
	CHECK_EQ(((struct vireo_ring_shared *)area)->prod_event, 5);

	/* A batch whose range covers the event notifies once; the next does not. */
	CHECK_EQ(ring_reserve_spsc(&r.p, 2, &first), 2);
	CHECK(ring_publish_notify_spsc(&r.p, 2));
	CHECK_EQ(ring_reserve_spsc(&r.p, 2, &first), 2);
	CHECK(!ring_publish_notify_spsc(&r.p, 2));

	/* Arming while entries are waiting says so instead of sleeping. */
	CHECK_EQ(ring_arm_consumer_spsc(&r.c), 4);
	/* An empty publish never notifies. */
	CHECK(!ring_publish_notify_spsc(&r.p, 0));
}

/* Producer-side hold-off: the consumer notifies when the requested space is free. */
static void ring_notify_producer_holdoff(void)
{
	struct pair r;
	uint32_t first;

	setup(&r, SMALL_AREA, 8);
	CHECK_EQ(ring_reserve_spsc(&r.p, 16, &first), 16);
	ring_publish_spsc(&r.p, 16);
	CHECK_EQ(ring_reserve_spsc(&r.p, 1, &first), 0);
	CHECK_EQ(ring_arm_producer_spsc(&r.p, 8), 0);      /* full: wait for 8 free */

	CHECK_EQ(ring_peek_spsc(&r.c, 16, &first), 16);
	CHECK(!ring_consume_notify_spsc(&r.c, 7));         /* 7 free: not yet */
	CHECK(ring_consume_notify_spsc(&r.c, 1));          /* 8 free: notify */
	CHECK(!ring_consume_notify_spsc(&r.c, 4));         /* already told */
	CHECK_EQ(ring_arm_producer_spsc(&r.p, 1), 12);     /* space is there: do not wait */
	CHECK_EQ(ring_arm_producer_spsc(&r.p, 0), -VIREO_EINVAL);   /* an event that never fires */
	CHECK_EQ(ring_arm_producer_spsc(&r.p, 17), -VIREO_EINVAL);  /* more than the ring holds */
	CHECK_EQ(r.p.s.err, 0);                            /* a bad argument does not break the ring */
}

/* A consumer facing hostile producer indices refuses them and stays refused. */
static void ring_hostile_prod_index(void)
{
	struct vireo_ring_shared *sh = (void *)area;
	static const uint32_t bad[] = { 17, 0xFFFFFFFFu, 0x80000000u, 1000 };

	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		struct pair r;
		uint32_t first = 12345;
		uint64_t v;

		setup(&r, SMALL_AREA, 8);
		push_u64(&r, 1);
		CHECK_EQ(pop_u64(&r, &v), 1);                 /* cons = 1 */
		write_once(&sh->prod, 1 + bad[i]);             /* claims bad[i] entries (>16, or behind) */
		if (bad[i] == 0xFFFFFFFFu)
			write_once(&sh->prod, 0);              /* producer behind the consumer */
		CHECK_EQ(ring_peek_spsc(&r.c, 1, &first), -VIREO_EIO);
		CHECK_EQ(first, 12345);                        /* nothing handed out */
		CHECK_EQ(r.c.s.mine, 1);                       /* own index untouched */
		CHECK_EQ(sh->cons, 1);
		write_once(&sh->prod, 2);                      /* even a sane index now: the ring stays dead */
		CHECK_EQ(ring_peek_spsc(&r.c, 1, &first), -VIREO_EIO);
		CHECK_EQ(ring_peek_spsc(&r.c, 0, &first) , 0); /* asking for nothing gets nothing */
		CHECK_EQ(ring_arm_consumer_spsc(&r.c), -VIREO_EIO);
		CHECK_EQ(r.c.s.err, -VIREO_EIO);
	}
}

/* A producer facing hostile consumer indices refuses them and stays refused. */
static void ring_hostile_cons_index(void)
{
	struct vireo_ring_shared *sh = (void *)area;
	static const uint32_t bad_cons[] = { 4, 100, 0x7FFFFFFFu, (uint32_t)-20 };

	for (size_t i = 0; i < ARRAY_SIZE(bad_cons); i++) {
		struct pair r;
		uint32_t first = 777;

		setup(&r, SMALL_AREA, 8);
		for (int k = 0; k < 16; k++)
			push_u64(&r, (uint64_t)k);             /* prod = 16, full */
		/* 4..: the consumer "took" more than was produced, or is too far behind. */
		write_once(&sh->cons, 16 + bad_cons[i]);
		CHECK_EQ(ring_reserve_spsc(&r.p, 1, &first), -VIREO_EIO);
		CHECK_EQ(first, 777);
		CHECK_EQ(r.p.s.mine, 16);
		CHECK_EQ(sh->prod, 16);
		write_once(&sh->cons, 16);                     /* sane again: still refused */
		CHECK_EQ(ring_reserve_spsc(&r.p, 1, &first), -VIREO_EIO);
		CHECK_EQ(ring_arm_producer_spsc(&r.p, 1), -VIREO_EIO);
	}

	/* Attaching to a ring whose indices cannot both be right is refused. */
	struct ring_producer p;
	struct ring_consumer c;
	ring_shared_init(area);
	write_once(&sh->prod, 40);
	write_once(&sh->cons, 2);
	CHECK_EQ(ring_producer_attach(&p, area, SMALL_AREA, 8), -VIREO_EIO);
	CHECK_EQ(ring_consumer_attach(&c, area, SMALL_AREA, 8), -VIREO_EIO);
}

/* Random single-thread run against a FIFO model: same items, same order. */
static void ring_matches_fifo_model(void)
{
	struct pair r;
	static uint64_t model[1 << 16];
	uint32_t m_head = 0, m_tail = 0;
	uint64_t next = 1;

	setup(&r, 4096, 8);
	srand(42);
	for (int step = 0; step < 200000 && !test_failed_now(); step++) {
		uint32_t first, want = (uint32_t)(rand() % 40);
		if (rand() & 1) {
			int n = ring_reserve_spsc(&r.p, want, &first);
			uint32_t in_model = m_tail - m_head, to_end = 256 - (m_tail & 255);
			uint32_t expect = want < 256 - in_model ? want : 256 - in_model;
			CHECK_EQ(n, expect < to_end ? expect : to_end);
			uint64_t *run = ring_prod_slot(&r.p, first);
			for (int k = 0; k < n; k++) {
				CHECK(ring_prod_slot(&r.p, first + (uint32_t)k) == &run[k]);
				run[k] = next;
				model[m_tail++ & 0xFFFF] = next++;
			}
			ring_publish_spsc(&r.p, (uint32_t)n);
		} else {
			int n = ring_peek_spsc(&r.c, want, &first);
			uint32_t in_model = m_tail - m_head, to_end = 256 - (m_head & 255);
			uint32_t expect = want < in_model ? want : in_model;
			CHECK_EQ(n, expect < to_end ? expect : to_end);
			for (int k = 0; k < n; k++) {
				uint64_t v;
				memcpy(&v, ring_cons_slot(&r.c, first + (uint32_t)k), 8);
				CHECK_EQ(v, model[m_head++ & 0xFFFF]);
			}
			ring_consume_spsc(&r.c, (uint32_t)n);
		}
	}
	CHECK(next > 100000);
}

static const struct test_case cases[] = {
	TEST(ring_geometry),
	TEST(ring_empty_and_full),
	TEST(ring_partial_batches),
	TEST(ring_index_wraparound),
	TEST(ring_runs_are_contiguous),
	TEST(ring_notify_consumer_holdoff),
	TEST(ring_notify_producer_holdoff),
	TEST(ring_hostile_prod_index),
	TEST(ring_hostile_cons_index),
	TEST(ring_matches_fifo_model),
};

TEST_MAIN(cases)
