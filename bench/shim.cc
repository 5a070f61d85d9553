// The C++ side of bench/shim.h: a C API over Google Benchmark.
#include <benchmark/benchmark.h>

#include <string>

#include "shim.h"

struct bench_state {
	benchmark::State *st;
};

static bool had_error;

extern "C" {

void bench_register(const char *name, bench_fn fn, const int64_t *args, int nr_args)
{
	auto *b = benchmark::RegisterBenchmark(name, [fn](benchmark::State &st) {
		bench_state s{ &st };
		fn(&s);
	});
	for (int i = 0; i < nr_args; i++)
		b->Arg(args[i]);
	b->UseRealTime();
}

bool bench_keep_running(struct bench_state *s)
{
	return s->st->KeepRunning();
}

bool bench_keep_running_batch(struct bench_state *s, int64_t n)
{
	return s->st->KeepRunningBatch(n);
}

int64_t bench_arg(struct bench_state *s, int i)
{
	return s->st->range(i);
}

int64_t bench_iterations(struct bench_state *s)
{
	return (int64_t)s->st->iterations();
}

int64_t bench_max_iterations(struct bench_state *s)
{
	return (int64_t)s->st->max_iterations;
}

void bench_set_items(struct bench_state *s, int64_t items)
{
	s->st->SetItemsProcessed(items);
}

void bench_counter(struct bench_state *s, const char *name, double value, enum bench_counter_kind kind)
{
	benchmark::Counter::Flags flags = benchmark::Counter::kDefaults;
	if (kind == BENCH_COUNTER_PER_ITERATION)
		flags = benchmark::Counter::kAvgIterations;
	else if (kind == BENCH_COUNTER_RATE)
		flags = benchmark::Counter::kIsRate;
	s->st->counters[name] = benchmark::Counter(value, flags);
}

void bench_error(struct bench_state *s, const char *msg)
{
	had_error = true;
	s->st->SkipWithError(msg);
}

void bench_pause_timing(struct bench_state *s)
{
	s->st->PauseTiming();
}

void bench_resume_timing(struct bench_state *s)
{
	s->st->ResumeTiming();
}

int bench_main(int argc, char **argv)
{
	benchmark::Initialize(&argc, argv);
	if (benchmark::ReportUnrecognizedArguments(argc, argv))
		return 1;
	benchmark::RunSpecifiedBenchmarks();
	benchmark::Shutdown();
	return had_error ? 1 : 0;
}

} // extern "C"
