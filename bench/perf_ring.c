/*
 * Deterministic driver for the perf gate (ci/perfgate): runs each ring
 * operation a fixed number of times, single-threaded, in its own NOINLINE
 * function named op_<name>, so that callgrind run with
 * --toggle-collect='op_*' counts exactly the instructions of each operation.
 * Prints a manifest line per op: "op <name> <calls> <items per call>".
 *
 * Steady state is a ring of 256 slots filled and drained in step, so the
 * cached peer index runs out now and then and the refresh path is counted in
 * its true proportion.
 */
#include <stdio.h>
#include <string.h>

#include <fastpath/ring.h>

#define CALLS 4096
#define AREA_BYTES (VIREO_RING_SLOTS_OFFSET + 256 * 8)

static uint8_t area[AREA_BYTES] ALIGNED(4096);
static struct ring_producer prod;
static struct ring_consumer cons;
static uint64_t seq, sum;

static ALWAYS_INLINE void produce(uint32_t batch)
{
	uint32_t first;
	int n = ring_reserve_spsc(&prod, batch, &first);
	uint64_t *run = ring_prod_slot(&prod, first);
	for (int k = 0; k < n; k++)
		run[k] = seq++;
	ring_publish_spsc(&prod, (uint32_t)(n > 0 ? n : 0));
}

static ALWAYS_INLINE void consume(uint32_t batch)
{
	uint32_t first;
	int n = ring_peek_spsc(&cons, batch, &first);
	const uint64_t *run = ring_cons_slot(&cons, first);
	for (int k = 0; k < n; k++)
		sum += run[k];
	ring_consume_spsc(&cons, (uint32_t)(n > 0 ? n : 0));
}

static NOINLINE void op_ring_produce_1(void) { produce(1); }
static NOINLINE void op_ring_produce_32(void) { produce(32); }
static NOINLINE void op_ring_consume_1(void) { consume(1); }
static NOINLINE void op_ring_consume_32(void) { consume(32); }

static NOINLINE void op_ring_publish_notify_32(void)
{
	uint32_t first;
	int n = ring_reserve_spsc(&prod, 32, &first);
	uint64_t *run = ring_prod_slot(&prod, first);
	for (int k = 0; k < n; k++)
		run[k] = seq++;
	(void)ring_publish_notify_spsc(&prod, (uint32_t)(n > 0 ? n : 0));
}

static NOINLINE void op_ring_consume_notify_32(void)
{
	uint32_t first;
	int n = ring_peek_spsc(&cons, 32, &first);
	const uint64_t *run = ring_cons_slot(&cons, first);
	for (int k = 0; k < n; k++)
		sum += run[k];
	(void)ring_consume_notify_spsc(&cons, (uint32_t)(n > 0 ? n : 0));
}

static NOINLINE void op_ring_arm_consumer(void)
{
	(void)ring_arm_consumer_spsc(&cons);
}

typedef void (*op_fn)(void);

static void pair(const char *prod_name, op_fn p, const char *cons_name, op_fn c, int items)
{
	for (int i = 0; i < CALLS; i++) {
		p();
		c();
	}
	printf("op %s %d %d\n", prod_name, CALLS, items);
	printf("op %s %d %d\n", cons_name, CALLS, items);
}

int main(void)
{
	ring_shared_init(area);
	if (ring_producer_attach(&prod, area, AREA_BYTES, 8) != 256 ||
	    ring_consumer_attach(&cons, area, AREA_BYTES, 8) != 256) {
		fprintf(stderr, "perf-ring: attach failed\n");
		return 1;
	}
	/* Keep the ring half full so produce and consume never meet an empty or full ring. */
	for (int i = 0; i < 4; i++)
		produce(32);

	pair("ring_produce_1", op_ring_produce_1, "ring_consume_1", op_ring_consume_1, 1);
	pair("ring_produce_32", op_ring_produce_32, "ring_consume_32", op_ring_consume_32, 32);
	pair("ring_publish_notify_32", op_ring_publish_notify_32,
	     "ring_consume_notify_32", op_ring_consume_notify_32, 32);

	/* Drain, then arm on an empty ring: the consumer's way to sleep. */
	while (ring_peek_spsc(&cons, 256, &(uint32_t){ 0 }) > 0)
		consume(256);
	for (int i = 0; i < CALLS; i++)
		op_ring_arm_consumer();
	printf("op ring_arm_consumer %d 1\n", CALLS);

	if (sum != seq * (seq - 1) / 2 || prod.s.err || cons.s.err) {
		fprintf(stderr, "perf-ring: ring lost or corrupted entries\n");
		return 1;
	}
	return 0;
}
