/*
 * The benchmark guest: costs of crossing into the hypervisor, measured with
 * the TSC from inside a PV guest, so the same binary can be timed on Vireo
 * and on Xen. Each result is one JSON line on the console:
 *
 *   {"vireo_bench":1,"name":"guest/hypercall_null","cycles_per_op":123.4,"ops":N}
 *
 * (the host converts cycles to time with the TSC frequency the hypervisor
 * reports). What it measures:
 *   guest/hypercall_null   xen_version(XENVER_version): syscall in, dispatch, back
 *   guest/sched_yield      sched_op(SCHEDOP_yield): the same plus the scheduler's say
 *   guest/hypercall_copy   xen_version(XENVER_extraversion): a 16-byte copy to the guest
 * Each is the best of 5 runs of N operations (the least disturbed), after a warm-up.
 */
#include "guest.h"
#include "hypercall.h"

#include <public/sched.h>
#include <public/version.h>

#define OPS  20000
#define RUNS 5

static inline uint64_t rdtsc(void)
{
	uint32_t lo, hi;
	__asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
	return ((uint64_t)hi << 32) | lo;
}

static char extraversion[16];

static long op_null(void) { return hyp_xen_version(XENVER_version, 0); }
static long op_yield(void) { return hyp_sched_yield(); }
static long op_copy(void) { return hyp_xen_version(XENVER_extraversion, extraversion); }

static void measure(const char *name, long (*op)(void))
{
	uint64_t best = ~0ull;
	for (int run = 0; run <= RUNS; run++) {
		uint64_t t0 = rdtsc();
		for (int i = 0; i < OPS; i++)
			if (op() < 0) {
				console_printf("bench: %s failed\n", name);
				return;
			}
		uint64_t t = rdtsc() - t0;
		if (run > 0 && t < best)             /* run 0 warms up */
			best = t;
	}
	uint64_t milli = best * 1000 / OPS;
	console_printf("{\"vireo_bench\":1,\"name\":\"%s\",\"cycles_per_op\":%lu.%03lu,\"ops\":%d}\n",
		       name, (unsigned long)(milli / 1000), (unsigned long)(milli % 1000), OPS);
}

int guest_main(struct start_info *si)
{
	(void)si;
	console_printf("bench: guest benchmarks, best of %d runs of %d operations\n", RUNS, OPS);
	measure("guest/hypercall_null", op_null);
	measure("guest/sched_yield", op_yield);
	measure("guest/hypercall_copy", op_copy);
	console_printf("bench: done\n");
	return 0;
}
