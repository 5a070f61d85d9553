/*
 * Two-CPU stress test of the SPSC ring: a producer and a consumer on two
 * hosted CPUs (threads pinned to two cores) move a sequence of numbers in
 * random batch sizes; the consumer checks the order and both sides compute a
 * checksum. Both sides really sleep through the hold-off protocol: when the
 * ring is empty the consumer arms prod_event and waits for a doorbell the
 * producer rings only when ring_publish_notify_spsc() says so, and the
 * producer does the same on a full ring. A lost wakeup hangs one side, which
 * the watchdog reports as a failure. Built plain, with ASan+UBSan and with TSan.
 *
 * Usage: test_ring_stress [ITEMS]   (default 10,000,000)
 */
#include <sched.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include <arch/hosted.h>
#include <fastpath/ring.h>
#include <vireo/machine.h>

#include "harness.h"

#define AREA_BYTES (VIREO_RING_SLOTS_OFFSET + 512 * 16)
#define WATCHDOG_NS (20ull * 1000 * 1000 * 1000)

struct item {
	uint64_t seq;
	uint64_t mix;            /* a function of seq, checked on arrival */
};

static uint64_t nr_items = 10 * 1000 * 1000;

static struct {
	uint8_t area[AREA_BYTES] ALIGNED(4096);
	_Atomic uint64_t data_bell;    /* rung by the producer: entries arrived */
	_Atomic uint64_t space_bell;   /* rung by the consumer: space freed */
	_Atomic int stuck;             /* a side waited longer than the watchdog */
	uint64_t sum_in, sum_out, bad_order, received, sleeps_c, sleeps_p;
} st;

static uint64_t mix(uint64_t x)
{
	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdull;
	x ^= x >> 33;
	return x;
}

/* Wait until *bell moves from seen; returns 0, or -1 if the watchdog fired. */
static int wait_bell(_Atomic uint64_t *bell, uint64_t seen)
{
	uint64_t t0 = machine_now_ns();
	for (unsigned spins = 0; atomic_load_explicit(bell, memory_order_acquire) == seen; spins++) {
		if (atomic_load_explicit(&st.stuck, memory_order_relaxed))
			return -1;
		if (spins < 200) {
			cpu_relax();
			continue;
		}
		sched_yield();
		if ((spins & 1023) == 0 && machine_now_ns() - t0 > WATCHDOG_NS) {
			atomic_store(&st.stuck, 1);
			return -1;
		}
	}
	return 0;
}

static void producer(struct ring_producer *p)
{
	uint64_t seq = 0, rng = 0x9e3779b97f4a7c15ull;

	while (seq < nr_items) {
		rng = rng * 6364136223846793005ull + 1442695040888963407ull;
		uint32_t want = 1 + (uint32_t)(rng >> 58), first;   /* 1 .. 64 */
		if (want > nr_items - seq)
			want = (uint32_t)(nr_items - seq);
		int n = ring_reserve_spsc(p, want, &first);
		if (n < 0)
			return;
		if (n == 0) {
			uint64_t seen = atomic_load_explicit(&st.space_bell, memory_order_acquire);
			int nr_free = ring_arm_producer_spsc(p, 16);
			if (nr_free < 0)
				return;
			if (nr_free < 16) {
				st.sleeps_p++;
				if (wait_bell(&st.space_bell, seen))
					return;
			}
			continue;
		}
		for (int k = 0; k < n; k++, seq++) {
			struct item *it = ring_prod_slot(p, first + (uint32_t)k);
			it->seq = seq;
			it->mix = mix(seq);
			st.sum_in += it->mix;
		}
		if (ring_publish_notify_spsc(p, (uint32_t)n))
			atomic_fetch_add_explicit(&st.data_bell, 1, memory_order_release);
	}
}

static void consumer(struct ring_consumer *c)
{
	uint64_t expect = 0, rng = 12345;

	while (expect < nr_items) {
		rng = rng * 6364136223846793005ull + 1442695040888963407ull;
		uint32_t want = 1 + (uint32_t)(rng >> 57), first;   /* 1 .. 128 */
		int n = ring_peek_spsc(c, want, &first);
		if (n < 0)
			return;
		if (n == 0) {
			uint64_t seen = atomic_load_explicit(&st.data_bell, memory_order_acquire);
			int ready = ring_arm_consumer_spsc(c);
			if (ready < 0)
				return;
			if (ready == 0) {
				st.sleeps_c++;
				if (wait_bell(&st.data_bell, seen))
					return;
			}
			continue;
		}
		struct item batch[128];
		ring_copy_out(c, first, (uint32_t)n, batch);
		for (int k = 0; k < n; k++, expect++) {
			if (batch[k].seq != expect || batch[k].mix != mix(expect))
				st.bad_order++;
			st.sum_out += batch[k].mix;
		}
		if (ring_consume_notify_spsc(c, (uint32_t)n))
			atomic_fetch_add_explicit(&st.space_bell, 1, memory_order_release);
	}
	st.received = expect;
}

static struct ring_producer prod_handle;
static struct ring_consumer cons_handle;

static void on_cpu(void *arg, unsigned cpu)
{
	if (cpu == 0)
		producer(&prod_handle);
	else
		consumer(&cons_handle);
}

static void ring_two_cpus_move_all_items(void)
{
	ring_shared_init(st.area);
	REQUIRE(ring_producer_attach(&prod_handle, st.area, AREA_BYTES, sizeof(struct item)) == 512);
	REQUIRE(ring_consumer_attach(&cons_handle, st.area, AREA_BYTES, sizeof(struct item)) == 512);

	REQUIRE(machine_run_on_cpus(2, on_cpu, NULL) == 0);

	CHECK_EQ(st.stuck, 0);
	CHECK_EQ(prod_handle.s.err, 0);
	CHECK_EQ(cons_handle.s.err, 0);
	CHECK_EQ(st.received, nr_items);
	CHECK_EQ(st.bad_order, 0);
	CHECK(st.sum_in == st.sum_out);
	printf("  %llu items, checksum %016llx, consumer slept %llu times, producer %llu times, "
	       "peer-index reads %llu/%llu\n",
	       (unsigned long long)st.received, (unsigned long long)st.sum_out,
	       (unsigned long long)st.sleeps_c, (unsigned long long)st.sleeps_p,
	       (unsigned long long)prod_handle.s.nr_refresh,
	       (unsigned long long)cons_handle.s.nr_refresh);
}

static const struct test_case cases[] = {
	TEST(ring_two_cpus_move_all_items),
};

int main(int argc, char **argv)
{
	if (argc > 1 && strspn(argv[1], "0123456789") == strlen(argv[1])) {
		nr_items = strtoull(argv[1], NULL, 10);
		argv[1] = argv[0];
		argc--, argv++;
	}
	return test_main(cases, ARRAY_SIZE(cases), argc, argv);
}
