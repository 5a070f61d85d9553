#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "harness.h"

static int failures_in_case;

void test_fail(const char *file, int line, const char *what)
{
	failures_in_case++;
	printf("  %s:%d: check failed: %s\n", file, line, what);
}

void test_fail_eq(const char *file, int line, const char *a, const char *b,
		  long long va, long long vb)
{
	failures_in_case++;
	printf("  %s:%d: check failed: %s == %s (%lld vs %lld, 0x%llx vs 0x%llx)\n",
	       file, line, a, b, va, vb, (unsigned long long)va, (unsigned long long)vb);
}

int test_failed_now(void)
{
	return failures_in_case != 0;
}

static int selected(const char *name, int argc, char **argv)
{
	if (argc <= 1)
		return 1;
	for (int i = 1; i < argc; i++)
		if (strstr(name, argv[i]))
			return 1;
	return 0;
}

int test_main(const struct test_case *cases, size_t n, int argc, char **argv)
{
	int passed = 0, failed = 0;

	setvbuf(stdout, NULL, _IOLBF, 0);
	for (size_t i = 0; i < n; i++) {
		if (!selected(cases[i].name, argc, argv))
			continue;
		struct timespec t0, t1;
		clock_gettime(CLOCK_MONOTONIC, &t0);
		failures_in_case = 0;
		cases[i].fn();
		clock_gettime(CLOCK_MONOTONIC, &t1);
		double secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
		if (failures_in_case) {
			failed++;
			printf("FAIL %s (%.2fs)\n", cases[i].name, secs);
		} else {
			passed++;
			printf("ok   %s (%.2fs)\n", cases[i].name, secs);
		}
	}
	printf("%d passed, %d failed\n", passed, failed);
	if (passed + failed == 0) {
		printf("no test case matched\n");
		return 1;
	}
	return failed ? 1 : 0;
}
