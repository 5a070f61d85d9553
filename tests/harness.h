/*
 * A very small unit-test harness for the hosted tests.
 *
 * A test program lists its cases in a table and hands it to test_main():
 *
 *     static const struct test_case cases[] = {
 *         TEST(ring_empty),
 *         ...
 *     };
 *     TEST_MAIN(cases)
 *
 * CHECK() and CHECK_EQ() record a failure and go on (gtest's EXPECT); a test
 * that cannot go on after a failed check uses REQUIRE(), which returns.
 * Output: one line per case ("ok" / "FAIL"), then "N passed, N failed";
 * the exit status is 1 when a case failed. Arguments are substrings: only
 * the cases whose name contains one of them run.
 */
#ifndef TESTS_HARNESS_H
#define TESTS_HARNESS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

struct test_case {
	const char *name;
	void (*fn)(void);
};

#define TEST(fn) { #fn, fn }

void test_fail(const char *file, int line, const char *what);
void test_fail_eq(const char *file, int line, const char *a, const char *b,
		  long long va, long long vb);
int test_failed_now(void);
int test_main(const struct test_case *cases, size_t n, int argc, char **argv);

/*
 * Capture what is written to fd 2 (where hosted printk writes) between
 * begin and end: end returns it NUL-terminated (a buffer the next capture
 * reuses; at most 1 MiB) and its length in *len when len is not NULL.
 * Sanitizer reports keep going to the real stderr.
 */
int test_capture_begin(void);
const char *test_capture_end(int saved, size_t *len);

/*
 * Run fn in a child process: 1 when it stopped in a failed ASSERT (panic,
 * exit status 2, "assertion failed" printed), 0 otherwise, -1 if it could
 * not run. For invariants that are meant to stop the machine.
 */
int test_dies_asserting(void (*fn)(void));

/* Whether n bytes at p are all zero (also usable by fuzz targets: header only). */
static inline bool test_all_zero(const void *p, size_t n)
{
	const uint8_t *b = p;
	for (size_t i = 0; i < n; i++)
		if (b[i])
			return false;
	return true;
}

#define CHECK(cond) \
	do { if (!(cond)) test_fail(__FILE__, __LINE__, #cond); } while (0)

#define CHECK_EQ(a, b) \
	do { \
		long long va_ = (long long)(a), vb_ = (long long)(b); \
		if (va_ != vb_) test_fail_eq(__FILE__, __LINE__, #a, #b, va_, vb_); \
	} while (0)

#define REQUIRE(cond) \
	do { if (!(cond)) { test_fail(__FILE__, __LINE__, #cond); return; } } while (0)

#define TEST_MAIN(cases) \
	int main(int argc, char **argv) \
	{ \
		return test_main(cases, sizeof(cases) / sizeof(cases[0]), argc, argv); \
	}

#endif
