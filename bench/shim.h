/*
 * Benchmarks in C over Google Benchmark (bench/shim.cc holds the C++ side).
 *
 *     static void bench_thing(struct bench_state *s)
 *     {
 *         uint32_t batch = (uint32_t)bench_arg(s, 0);
 *         ... set-up, not timed ...
 *         while (bench_keep_running_batch(s, batch))
 *             do_batch(batch);            // timed: one call = batch items
 *         bench_set_items(s, bench_iterations(s));
 *     }
 *     BENCH_REGISTER(bench_thing, "ring/thing", 1, 8, 32, 256);
 *
 * With bench_keep_running_batch() an iteration is an item, so Google
 * Benchmark's time per iteration is the time per item. Every benchmark is
 * timed in real (wall-clock) time: several of them use a second thread.
 * The program takes Google Benchmark's own options (--benchmark_filter,
 * --benchmark_out=FILE --benchmark_out_format=json, ...).
 */
#ifndef BENCH_SHIM_H
#define BENCH_SHIM_H

#include <stdbool.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

struct bench_state;
typedef void (*bench_fn)(struct bench_state *s);

/* Register fn as name, run once for each of the nr_args arguments (none: once, bench_arg() = 0). */
void bench_register(const char *name, bench_fn fn, const int64_t *args, int nr_args);

/* The loop condition: true while the benchmark wants more; counts one iteration. */
bool bench_keep_running(struct bench_state *s);
/* The same, counting n iterations per call (n items per timed batch). */
bool bench_keep_running_batch(struct bench_state *s, int64_t n);

int64_t bench_arg(struct bench_state *s, int i);
int64_t bench_iterations(struct bench_state *s);
/* Iterations the timed loop will run (at least; a last batch may go past it). */
int64_t bench_max_iterations(struct bench_state *s);

/* Total items processed: Google Benchmark reports items_per_second from it. */
void bench_set_items(struct bench_state *s, int64_t items);

enum bench_counter_kind {
	BENCH_COUNTER_VALUE,         /* reported as given */
	BENCH_COUNTER_PER_ITERATION, /* divided by the number of iterations */
	BENCH_COUNTER_RATE,          /* divided by the elapsed time (per second) */
};
void bench_counter(struct bench_state *s, const char *name, double value, enum bench_counter_kind kind);

/* Stop the run and report msg as its error (a failed self-check, say). */
void bench_error(struct bench_state *s, const char *msg);

void bench_pause_timing(struct bench_state *s);
void bench_resume_timing(struct bench_state *s);

/* Parse Google Benchmark's options and run the registered benchmarks; returns the exit status. */
int bench_main(int argc, char **argv);

#define BENCH_REGISTER(fn, name, ...) \
	__attribute__((constructor)) static void fn##_register(void) \
	{ \
		static const int64_t args_[] = { __VA_ARGS__ }; \
		bench_register(name, fn, args_, (int)(sizeof(args_) / sizeof(args_[0]))); \
	}

#ifdef __cplusplus
}
#endif

#endif
