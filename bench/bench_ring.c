/*
 * Descriptor-ring throughput between two CPUs, against the physical limits.
 *
 *   ring/vireo/B         Vireo's SPSC ring (include/fastpath/ring.h), batches of B
 *   ring/vireo_notify/B  the same, publishing with the notification check
 *   ring/reference/B     the minimal SPSC ring of bench/ref_ring.h
 *   ring/pingpong        one cache line bounced between the two cores (a round trip)
 *
 * The benchmark thread (pinned to CPU 0) produces B 8-byte items per timed
 * batch; a consumer thread pinned to CPU 1 takes up to B at a time and sums
 * them. Time per iteration is time per item, measured until the consumer has
 * taken the last item (the ring's slack must not count as throughput).
 * After the run the consumer's
 * count and checksum must equal what was produced, or the run is an error:
 * the loop cannot be optimised into nothing.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include <arch/hosted.h>
#include <fastpath/ring.h>
#include <vireo/machine.h>

#include "ref_ring.h"
#include "shim.h"

#define RING_ITEMS 1024u
#define AREA_BYTES (VIREO_RING_SLOTS_OFFSET + RING_ITEMS * sizeof(uint64_t))

enum kind { VIREO, VIREO_NOTIFY, REFERENCE };

struct run {
	enum kind kind;
	uint32_t batch;
	_Alignas(64) _Atomic uint64_t stop;    /* 0 while running, then items produced + 1 */
	_Alignas(64) uint64_t consumed;
	uint64_t sum;
	uint64_t empty_polls;
	struct ring_consumer cons;
	struct ref_ring *ref;
};

static uint8_t area[AREA_BYTES] ALIGNED(4096);
static struct ref_ring ref;

static void *consumer_thread(void *arg)
{
	struct run *r = arg;
	uint64_t sum = 0, consumed = 0;

	hosted_pin_to_cpu(1);
	for (;;) {
		uint32_t n;
		if (r->kind == REFERENCE) {
			n = ref_ring_pop(r->ref, r->batch, &sum);
		} else {
			uint32_t first;
			int got = ring_peek_spsc(&r->cons, r->batch, &first);
			if (got < 0)
				break;
			n = (uint32_t)got;
			const uint64_t *run = ring_cons_slot(&r->cons, first);
			for (uint32_t k = 0; k < n; k++)
				sum += run[k];
			if (n)
				ring_consume_spsc(&r->cons, n);
		}
		consumed += n;
		if (n == 0) {
			r->empty_polls++;
			uint64_t stop = atomic_load_explicit(&r->stop, memory_order_acquire);
			if (stop && consumed == stop - 1)
				break;
			cpu_relax();
		}
	}
	r->consumed = consumed;
	r->sum = sum;
	return NULL;
}

/* Last batch: wait, still timed, until the consumer has freed every slot. */
static void wait_drained(enum kind kind, struct ring_producer *prod)
{
	if (kind == REFERENCE) {
		while (atomic_load_explicit(&ref.head, memory_order_acquire) !=
		       atomic_load_explicit(&ref.tail, memory_order_relaxed))
			cpu_relax();
	} else {
		while (load_acquire(&prod->s.sh->cons) != prod->s.mine)
			cpu_relax();
	}
}

static void ring_throughput(struct bench_state *s, enum kind kind)
{
	struct run *r = aligned_alloc(64, sizeof(*r));
	memset(r, 0, sizeof(*r));
	struct ring_producer prod;
	pthread_t t;
	uint64_t seq = 0, full_polls = 0;

	r->kind = kind;
	r->batch = (uint32_t)bench_arg(s, 0);
	r->ref = &ref;
	memset(&ref, 0, sizeof(ref));
	ring_shared_init(area);
	if (ring_producer_attach(&prod, area, AREA_BYTES, 8) != (int)RING_ITEMS ||
	    ring_consumer_attach(&r->cons, area, AREA_BYTES, 8) != (int)RING_ITEMS) {
		bench_error(s, "ring attach failed");
		free(r);
		return;
	}
	hosted_pin_to_cpu(0);
	pthread_create(&t, NULL, consumer_thread, r);

	while (bench_keep_running_batch(s, r->batch)) {
		uint32_t left = r->batch;
		while (left) {
			uint32_t n, first;
			if (kind == REFERENCE) {
				n = ref_ring_push(&ref, left, seq);
			} else {
				int got = ring_reserve_spsc(&prod, left, &first);
				if (got < 0)
					break;
				n = (uint32_t)got;
				uint64_t *run = ring_prod_slot(&prod, first);
				for (uint32_t k = 0; k < n; k++)
					run[k] = seq + k;
				if (kind == VIREO_NOTIFY)
					(void)ring_publish_notify_spsc(&prod, n);
				else if (n)
					ring_publish_spsc(&prod, n);
			}
			if (n == 0) {
				full_polls++;
				cpu_relax();
			}
			seq += n;
			left -= n;
		}
		if (seq >= (uint64_t)bench_max_iterations(s))
			wait_drained(kind, &prod);
	}
	/* The timed loop is over. stop = produced + 1 tells the consumer how much to expect. */
	atomic_store_explicit(&r->stop, seq + 1, memory_order_release);
	pthread_join(t, NULL);

	uint64_t want_sum = seq ? seq * (seq - 1) / 2 : 0;
	if (r->consumed != seq || r->sum != want_sum)
		bench_error(s, "consumer did not receive exactly what was produced");
	bench_set_items(s, (int64_t)seq);
	bench_counter(s, "empty_polls", (double)r->empty_polls, BENCH_COUNTER_PER_ITERATION);
	bench_counter(s, "full_polls", (double)full_polls, BENCH_COUNTER_PER_ITERATION);
	if (kind != REFERENCE) {
		bench_counter(s, "prod_reads", (double)prod.s.nr_refresh, BENCH_COUNTER_PER_ITERATION);
		bench_counter(s, "cons_reads", (double)r->cons.s.nr_refresh, BENCH_COUNTER_PER_ITERATION);
	}
	free(r);
}

static void bench_ring_vireo(struct bench_state *s) { ring_throughput(s, VIREO); }
static void bench_ring_vireo_notify(struct bench_state *s) { ring_throughput(s, VIREO_NOTIFY); }
static void bench_ring_reference(struct bench_state *s) { ring_throughput(s, REFERENCE); }

BENCH_REGISTER(bench_ring_vireo, "ring/vireo", 1, 8, 32, 256)
BENCH_REGISTER(bench_ring_vireo_notify, "ring/vireo_notify", 1, 8, 32, 256)
BENCH_REGISTER(bench_ring_reference, "ring/reference", 1, 8, 32, 256)

/* ---- cache-line ping-pong ------------------------------------------------- */

static struct {
	_Alignas(64) _Atomic uint64_t ball;
} court;

#define PINGPONG_STOP UINT64_MAX

static void *pong_thread(void *arg)
{
	hosted_pin_to_cpu(1);
	for (;;) {
		uint64_t v = atomic_load_explicit(&court.ball, memory_order_acquire);
		if (v == PINGPONG_STOP)
			break;
		if (v & 1)
			atomic_store_explicit(&court.ball, v + 1, memory_order_release);
		else
			cpu_relax();
	}
	return NULL;
}

static void bench_ring_pingpong(struct bench_state *s)
{
	pthread_t t;
	uint64_t v = 0;

	atomic_store(&court.ball, 0);
	hosted_pin_to_cpu(0);
	pthread_create(&t, NULL, pong_thread, NULL);
	while (bench_keep_running(s)) {
		atomic_store_explicit(&court.ball, v + 1, memory_order_release);
		while (atomic_load_explicit(&court.ball, memory_order_acquire) != v + 2)
			cpu_relax();
		v += 2;
	}
	atomic_store_explicit(&court.ball, PINGPONG_STOP, memory_order_release);
	pthread_join(t, NULL);
	if (v != 2 * (uint64_t)bench_iterations(s))
		bench_error(s, "ping-pong lost a round");
	bench_set_items(s, bench_iterations(s));
}

BENCH_REGISTER(bench_ring_pingpong, "ring/pingpong", 0)
