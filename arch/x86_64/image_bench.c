/*
 * In-image microbenchmarks, timed with the TSC, printed as JSON lines that
 * ./vireo bench collects beside the hosted figures:
 *
 *   {"vireo_bench":1,"name":"ring/vireo/32","machine":"emu","ns_per_item":..,"cycles_per_item":..,"items":..}
 *
 *   ring/vireo/B, ring/reference/B  the hosted ring benchmark's protocol between
 *                                   CPU 0 (producer) and CPU 1 (consumer), in ring 0
 *   ipi/round_trip                  CPU 0 -> CPU 1 -> CPU 0 by IPIs
 *   timer/latency                   one-shot timer: arrival minus programmed deadline
 */
#include <stdatomic.h>

#include <arch/apic.h>
#include <core/event.h>
#include <arch/cpu.h>
#include <arch/image_bench.h>
#include <arch/machine_image.h>
#include <arch/percpu.h>
#include <arch/traps.h>
#include <fastpath/ring.h>
#include <vireo/printk.h>

#include "../../bench/ref_ring.h"

#define RING_SLOTS 1024u
#define AREA_BYTES (VIREO_RING_SLOTS_OFFSET + RING_SLOTS * 8)
#define RING_ITEMS 200000ull

static uint8_t area[AREA_BYTES] ALIGNED(4096);
static struct ref_ring ref;
static const char *machine_name;

/* Print one result; x1000 fixed point, since the hypervisor uses no floating point. */
static void report(const char *name, uint64_t cycles, uint64_t items)
{
	uint64_t cyc_milli = cycles * 1000 / items;
	uint64_t ns_milli = cycles * 1000000 / machine.tsc_khz * 1000 / items;
	printk("{\"vireo_bench\":1,\"name\":\"%s\",\"machine\":\"%s\",\"ns_per_item\":%llu.%03llu,"
	       "\"cycles_per_item\":%llu.%03llu,\"items\":%llu}\n", name, machine_name,
	       (unsigned long long)(ns_milli / 1000), (unsigned long long)(ns_milli % 1000),
	       (unsigned long long)(cyc_milli / 1000), (unsigned long long)(cyc_milli % 1000),
	       (unsigned long long)items);
}

/* ---- ring ----------------------------------------------------------------- */

struct ring_run {
	int reference;
	uint32_t batch;
	struct ring_producer prod;
	struct ring_consumer cons;
	uint64_t cycles;
	uint64_t sum;
	_Atomic int consumer_ready;
};

static void ring_producer_side(struct ring_run *r)
{
	uint64_t seq = 0;
	while (!atomic_load_explicit(&r->consumer_ready, memory_order_acquire))
		cpu_relax();
	uint64_t t0 = machine_tsc();
	while (seq < RING_ITEMS) {
		uint32_t n, first, want = r->batch;
		if (want > RING_ITEMS - seq)
			want = (uint32_t)(RING_ITEMS - seq);
		if (r->reference) {
			n = ref_ring_push(&ref, want, seq);
		} else {
			int got = ring_reserve_spsc(&r->prod, want, &first);
			if (got < 0)
				break;                    /* cannot happen with a sane peer */
			n = (uint32_t)got;
			if (n) {
				uint64_t *run = ring_prod_slot(&r->prod, first);
				for (uint32_t k = 0; k < n; k++)
					run[k] = seq + k;
				ring_publish_spsc(&r->prod, n);
			}
		}
		if (!n)
			cpu_relax();
		seq += n;
	}
	/* Until the consumer has taken everything: the ring's slack is not throughput. */
	if (r->reference)
		while (atomic_load_explicit(&ref.head, memory_order_acquire) != (uint32_t)seq)
			cpu_relax();
	else
		while (load_acquire(&r->prod.s.sh->cons) != r->prod.s.mine)
			cpu_relax();
	r->cycles = machine_tsc() - t0;
}

static void ring_consumer_side(struct ring_run *r)
{
	uint64_t got_total = 0, sum = 0;
	atomic_store_explicit(&r->consumer_ready, 1, memory_order_release);
	while (got_total < RING_ITEMS) {
		uint32_t n, first;
		if (r->reference) {
			n = ref_ring_pop(&ref, r->batch, &sum);
		} else {
			int got = ring_peek_spsc(&r->cons, r->batch, &first);
			if (got < 0)
				break;
			n = (uint32_t)got;
			if (n) {
				const uint64_t *run = ring_cons_slot(&r->cons, first);
				for (uint32_t k = 0; k < n; k++)
					sum += run[k];
				ring_consume_spsc(&r->cons, n);
			}
		}
		if (!n)
			cpu_relax();
		got_total += n;
	}
	r->sum = sum;
}

static void ring_on_cpu(void *arg, unsigned cpu)
{
	if (cpu == 0)
		ring_producer_side(arg);
	else if (cpu == 1)
		ring_consumer_side(arg);
}

static void bench_ring(int reference, uint32_t batch)
{
	static struct ring_run r;
	char name[48];

	r = (struct ring_run){ .reference = reference, .batch = batch };
	__builtin_memset(&ref, 0, sizeof(ref));
	ring_shared_init(area);
	ring_producer_attach(&r.prod, area, AREA_BYTES, 8);
	ring_consumer_attach(&r.cons, area, AREA_BYTES, 8);
	machine_run_on_cpus(2, ring_on_cpu, &r);
	if (r.sum != RING_ITEMS * (RING_ITEMS - 1) / 2) {
		printk("bench: ring/%s/%u lost or corrupted entries\n", reference ? "reference" : "vireo", batch);
		return;
	}
	vireo_snprintf(name, sizeof(name), "ring/%s/%u", reference ? "reference" : "vireo", batch);
	report(name, r.cycles, RING_ITEMS);
}

/* ---- IPI round trip --------------------------------------------------------- */

static _Atomic uint64_t pongs;

static void ping_handler(struct cpu_regs *regs)
{
	apic_eoi();
	apic_send_ipi(percpu[0].apic_id, VEC_IPI_PONG);
}

static void pong_handler(struct cpu_regs *regs)
{
	apic_eoi();
	atomic_fetch_add_explicit(&pongs, 1, memory_order_release);
}

static void bench_ipi(void)
{
	const uint64_t rounds = 2000;
	uint64_t t0 = machine_tsc();
	for (uint64_t i = 0; i < rounds; i++) {
		uint64_t seen = atomic_load_explicit(&pongs, memory_order_acquire);
		apic_send_ipi(percpu[1].apic_id, VEC_IPI_PING);
		while (atomic_load_explicit(&pongs, memory_order_acquire) == seen)
			cpu_relax();
	}
	report("ipi/round_trip", machine_tsc() - t0, rounds);
}

/* ---- timer latency ---------------------------------------------------------- */

/* This CPU's APIC timer: the latency benchmark's, and the running domain's set_timer_op. */
static void timer_handler(struct cpu_regs *regs)
{
	struct percpu *pc = &percpu[cpu_id()];
	pc->timer_arrival_tsc = machine_tsc();
	pc->nr_timer++;
	apic_eoi();
	evtchn_timer_interrupt();
}

static void bench_timer(void)
{
	const unsigned rounds = 200;
	uint64_t total = 0, delay = machine.tsc_khz / 10;    /* 100 us ahead */
	struct percpu *pc = &percpu[0];
	for (unsigned i = 0; i < rounds; i++) {
		uint64_t seen = pc->nr_timer, deadline = machine_tsc() + delay;
		apic_timer_at(deadline);
		while (*(volatile uint64_t *)&pc->nr_timer == seen)
			cpu_relax();
		total += pc->timer_arrival_tsc > deadline ? pc->timer_arrival_tsc - deadline : 0;
	}
	report("timer/latency", total, rounds);
}

void image_bench_init(void)
{
	irq_register(VEC_TIMER, timer_handler);
	irq_register(VEC_IPI_PING, ping_handler);
	irq_register(VEC_IPI_PONG, pong_handler);
}

void image_bench_run(void)
{
	static const uint32_t batches[] = { 1, 8, 32, 256 };

	machine_name = machine.debug_exit_port ? "emu" : "metal";
	printk("bench: in-image microbenchmarks on %u CPUs, TSC %llu kHz\n", machine_nr_cpus(),
	       (unsigned long long)machine.tsc_khz);
	if (machine_nr_cpus() >= 2) {
		for (unsigned i = 0; i < ARRAY_SIZE(batches); i++) {
			bench_ring(0, batches[i]);
			bench_ring(1, batches[i]);
		}
		bench_ipi();
	} else {
		printk("bench: one CPU only: ring and IPI benchmarks need two, skipped\n");
	}
	bench_timer();
}
