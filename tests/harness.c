#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/wait.h>
#include <unistd.h>

#if defined(__has_feature)
#if __has_feature(address_sanitizer)
#include <sanitizer/common_interface_defs.h>
#define REPORT_TO(fd) __sanitizer_set_report_fd((void *)(intptr_t)(fd))
#endif
#endif
#ifndef REPORT_TO
#define REPORT_TO(fd) ((void)(fd))
#endif

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

static FILE *capture_file;
static char capture_text[1 << 20];

int test_capture_begin(void)
{
	if (!capture_file) {
		if (!(capture_file = tmpfile()))
			abort();
		REPORT_TO(dup(2));                  /* reports must reach the terminal */
	}
	fflush(stderr);
	if (ftruncate(fileno(capture_file), 0) != 0 || lseek(fileno(capture_file), 0, SEEK_SET) != 0)
		abort();
	int saved = dup(2);
	dup2(fileno(capture_file), 2);
	return saved;
}

const char *test_capture_end(int saved, size_t *len)
{
	ssize_t n = pread(2, capture_text, sizeof(capture_text) - 1, 0);
	capture_text[n > 0 ? n : 0] = '\0';
	dup2(saved, 2);
	close(saved);
	if (len)
		*len = n > 0 ? (size_t)n : 0;
	return capture_text;
}

int test_dies_asserting(void (*fn)(void))
{
	int fds[2];
	char buf[4096];
	size_t len = 0;

	fflush(NULL);
	if (pipe(fds) != 0)
		return -1;
	pid_t pid = fork();
	if (pid == 0) {
		dup2(fds[1], STDERR_FILENO);
		dup2(fds[1], STDOUT_FILENO);
		close(fds[0]);
		fn();
		_exit(0);
	}
	close(fds[1]);
	for (ssize_t r; (r = read(fds[0], buf + len, sizeof(buf) - 1 - len)) > 0;)
		len += (size_t)r;
	buf[len] = 0;
	close(fds[0]);
	int st;
	waitpid(pid, &st, 0);
	return WIFEXITED(st) && WEXITSTATUS(st) == 2 && strstr(buf, "assertion failed") != NULL;
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
