/*
 * Unit tests of the formatter (core/format.c) and of printk/panic
 * (core/printk.c).
 *
 * vireo_snprintf is checked two ways: against glibc's snprintf for every
 * combination of flags, width, precision, length modifier and conversion
 * where C defines the result (or glibc's choice is the documented one), and
 * against fixed expectations where Vireo chose differently (see the top of
 * core/format.c). Truncation is checked at every buffer size, with a canary
 * to catch writes past the size. printk's output is captured by pointing
 * fd 2 (the hosted console) at a temporary file; panic runs in a child
 * process.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <vireo/machine.h>
#include <vireo/printk.h>

#include "harness.h"

/* ---- helpers ------------------------------------------------------------- */

#define BUF 256
#define CANARY 0x5c

static unsigned diff_checked;

/*
 * Format with both implementations into canaried buffers and compare the
 * text and the return value. fmt is not a literal here, so the compiler does
 * not check it; the callers pass matching arguments.
 */
static int diff_v(const char *file, int line, const char *fmt, ...)
{
	char want[BUF], got[BUF + 16];
	va_list ap, ap2;

	memset(got, CANARY, sizeof(got));
	va_start(ap, fmt);
	va_copy(ap2, ap);
	int n_want = vsnprintf(want, BUF, fmt, ap);
	int n_got = vireo_vsnprintf(got, BUF, fmt, ap2);
	va_end(ap2);
	va_end(ap);
	diff_checked++;

	int ok = n_want == n_got && strcmp(want, got) == 0 && (unsigned char)got[BUF] == CANARY;
	if (!ok) {
		char what[BUF * 3];
		snprintf(what, sizeof(what), "format \"%s\": libc \"%s\" (%d), vireo \"%s\" (%d)",
			 fmt, want, n_want, got, n_got);
		test_fail(file, line, what);
	}
	return ok;
}
#define DIFF(...) diff_v(__FILE__, __LINE__, __VA_ARGS__)

/* vireo_snprintf must give exactly want (and return its length). */
static void expect_v(const char *file, int line, const char *want, const char *fmt, ...)
{
	char got[BUF];
	va_list ap;

	va_start(ap, fmt);
	int n = vireo_vsnprintf(got, sizeof(got), fmt, ap);
	va_end(ap);
	if (n != (int)strlen(want) || strcmp(got, want) != 0) {
		char what[BUF * 3];
		snprintf(what, sizeof(what), "format \"%s\": want \"%s\", got \"%s\" (%d)", fmt,
			 want, got, n);
		test_fail(file, line, what);
	}
}
#define EXPECT(...) expect_v(__FILE__, __LINE__, __VA_ARGS__)

/* Every flags/width/precision prefix; "" entries mean "none". */
static const char *const flag_set[] = { "", "-", "0", "-0", "0-", "--" };
static const char *const width_set[] = { "", "1", "2", "5", "12", "25" };
static const char *const prec_set[] = { "", ".", ".0", ".1", ".3", ".12", ".30" };

#define FOR_EACH_SPEC(f, w, p) \
	for (size_t f = 0; f < ARRAY_SIZE(flag_set); f++) \
		for (size_t w = 0; w < ARRAY_SIZE(width_set); w++) \
			for (size_t p = 0; p < ARRAY_SIZE(prec_set); p++)

static void spec(char *out, size_t f, size_t w, size_t p, const char *len_conv)
{
	snprintf(out, 64, "[%%%s%s%s%s]", flag_set[f], width_set[w], prec_set[p], len_conv);
}

/* ---- differential tests against libc ------------------------------------- */

static const int int_values[] = { 0, 1, -1, 7, -42, 255, 4096, INT_MAX, INT_MIN, 300, -129 };
static const long long ll_values[] = {
	0, 1, -1, INT64_MAX, INT64_MIN, 1234567890123LL, -987654321098LL, 0x7f, -0x80,
};
static const unsigned long long ull_values[] = {
	0, 1, 8, 15, 16, 255, 0xdeadbeef, UINT64_MAX, 0x8000000000000000ull, 01234567,
};

static void format_ints_match_libc(void)
{
	static const char *const convs[] = { "d", "i", "hhd", "hd", "ld", "lld", "zd", "td" };
	char fmt[64];

	FOR_EACH_SPEC(f, w, p) {
		for (size_t c = 0; c < ARRAY_SIZE(convs); c++) {
			spec(fmt, f, w, p, convs[c]);
			for (size_t v = 0; v < ARRAY_SIZE(int_values); v++) {
				int x = int_values[v];
				if (c <= 3)
					DIFF(fmt, x);
				else if (c == 4 || c == 6 || c == 7)
					DIFF(fmt, (long)x);
				else
					DIFF(fmt, (long long)x);
			}
		}
		for (size_t v = 0; v < ARRAY_SIZE(ll_values); v++) {
			spec(fmt, f, w, p, "lld");
			DIFF(fmt, ll_values[v]);
			spec(fmt, f, w, p, "ld");
			DIFF(fmt, (long)ll_values[v]);
			spec(fmt, f, w, p, "zd");
			DIFF(fmt, (ptrdiff_t)ll_values[v]);
		}
	}
}

static void format_unsigned_match_libc(void)
{
	static const char *const convs[] = { "u", "x", "X", "o" };
	static const char *const lens[] = { "", "hh", "h", "l", "ll", "z", "t" };
	char lc[8], fmt[64];

	FOR_EACH_SPEC(f, w, p) {
		for (size_t c = 0; c < ARRAY_SIZE(convs); c++) {
			for (size_t l = 0; l < ARRAY_SIZE(lens); l++) {
				snprintf(lc, sizeof(lc), "%s%s", lens[l], convs[c]);
				spec(fmt, f, w, p, lc);
				for (size_t v = 0; v < ARRAY_SIZE(ull_values); v++) {
					unsigned long long x = ull_values[v];
					if (l <= 2)
						DIFF(fmt, (unsigned)x);
					else if (l == 4)
						DIFF(fmt, x);
					else
						DIFF(fmt, (unsigned long)x);
				}
			}
		}
	}
}

static void format_strings_match_libc(void)
{
	static const char *const strs[] = {
		"", "a", "hello", "hello, world", "0123456789abcdef0123456789",
	};
	static const char *const flags[] = { "", "-", "--" };
	char fmt[64];

	for (size_t f = 0; f < ARRAY_SIZE(flags); f++)
		for (size_t w = 0; w < ARRAY_SIZE(width_set); w++)
			for (size_t p = 0; p < ARRAY_SIZE(prec_set); p++) {
				snprintf(fmt, sizeof(fmt), "<%%%s%s%ss>", flags[f], width_set[w], prec_set[p]);
				for (size_t s = 0; s < ARRAY_SIZE(strs); s++)
					DIFF(fmt, strs[s]);
				/* %c ignores a precision in glibc; C leaves it undefined, so no precision. */
				snprintf(fmt, sizeof(fmt), "<%%%s%sc>", flags[f], width_set[w]);
				DIFF(fmt, 'x');
				DIFF(fmt, 'A' + (int)w);
			}
}

static void format_pointers_match_libc(void)
{
	static const char *const flags[] = { "", "-" };
	const void *ptrs[] = { (void *)1, (void *)0xdeadbeef, (void *)UINTPTR_MAX, &diff_checked };
	void *volatile null = NULL;
	char fmt[64];

	for (size_t f = 0; f < ARRAY_SIZE(flags); f++)
		for (size_t w = 0; w < ARRAY_SIZE(width_set); w++) {
			snprintf(fmt, sizeof(fmt), "(%%%s%sp)", flags[f], width_set[w]);
			for (size_t i = 0; i < ARRAY_SIZE(ptrs); i++)
				DIFF(fmt, ptrs[i]);
			DIFF(fmt, null);         /* glibc: "(nil)" */
		}
}

static void format_star_match_libc(void)
{
	static const int stars[] = { -30, -5, -1, 0, 1, 3, 8, 20 };
	static const char *const fmts[] = { "|%*d|", "|%-*d|", "|%0*d|", "|%*x|" };

	for (size_t i = 0; i < ARRAY_SIZE(stars); i++) {
		for (size_t f = 0; f < ARRAY_SIZE(fmts); f++) {
			DIFF(fmts[f], stars[i], -1234);
			DIFF(fmts[f], stars[i], 0);
		}
		DIFF("|%.*d|", stars[i], 42);
		DIFF("|%.*d|", stars[i], 0);
		DIFF("|%.*s|", stars[i], "abcdefghij");
		DIFF("|%*.*d|", stars[i], stars[i], -7);
		DIFF("|%0*.*u|", stars[i], 3, 5u);
		DIFF("|%*s|%-*s|", stars[i], "ab", stars[i], "cd");
		DIFF("|%*c|", stars[i], 'q');
	}
}

static void format_mixed_match_libc(void)
{
	DIFF("");
	DIFF("plain text, no conversions");
	DIFF("100%% sure");
	DIFF("%%%%");
	DIFF("%d%s%c%x", 1, "two", '3', 4u);
	DIFF("a=%d b=%u c=%s d=%c e=%p f=%%", -5, 5u, "str", 'z', (void *)0x1000);
	DIFF("%lld %lld %llu", (long long)INT64_MIN, (long long)INT64_MAX, (unsigned long long)UINT64_MAX);
	DIFF("%ld %lx %lo", LONG_MIN, ULONG_MAX, ULONG_MAX);
	DIFF("%hhd %hhu %hhx %hd %hu %hx", 300, 300, 511, 70000, 70000, 70000);
	DIFF("%zu %zx %td %tx", (size_t)SIZE_MAX, (size_t)0xabc, (ptrdiff_t)-5, (ptrdiff_t)0x10);
	DIFF("%i|%5i|%-5i|%05i", -3, -3, -3, -3);
	DIFF("%08.3d|%-08d|%.0d|%5.0d|", 7, 7, 0, 0);
	DIFF("%08X|%X", 0xabcdefu, 0u);
	DIFF("%s=%d,%s=%d", "x", 1, "y", 2);
	DIFF("%c%c%c", 'a', 0x100 + 'b', 'c');
	CHECK(diff_checked > 0);
}

/* ---- Vireo-specific expectations ----------------------------------------- */

static void format_extremes(void)
{
	EXPECT("-9223372036854775808", "%lld", (long long)INT64_MIN);
	EXPECT("-9223372036854775808", "%ld", (long)INT64_MIN);
	EXPECT("9223372036854775807", "%lld", (long long)INT64_MAX);
	EXPECT("18446744073709551615", "%llu", (unsigned long long)UINT64_MAX);
	EXPECT("1777777777777777777777", "%llo", (unsigned long long)UINT64_MAX);
	EXPECT("ffffffffffffffff", "%llx", (unsigned long long)UINT64_MAX);
	EXPECT("-2147483648", "%d", INT_MIN);
	EXPECT("-000000000000009223372036854775808", "%034lld", (long long)INT64_MIN);
	EXPECT("-128|127|255", "%hhd|%hhd|%hhu", 128, 127, -1);
	EXPECT("-32768", "%hd", 32768);
	EXPECT("0", "%d", 0);
	EXPECT("", "%.0d", 0);
	EXPECT("   ", "%3.0x", 0u);
	EXPECT("00042", "%.5d", 42);
	EXPECT("-00042", "%.5d", -42);
	EXPECT("  -00042", "%8.5d", -42);
	EXPECT("-00042  ", "%-8.5d", -42);
	EXPECT("-0000042", "%08d", -42);
	EXPECT("-42     ", "%-08d", -42);
	EXPECT("     -42", "%08.2d", -42);
}

static void format_null_and_pointers(void)
{
	const char *volatile nul = NULL;
	void *volatile nullp = NULL;

	EXPECT("(null)", "%s", nul);
	EXPECT("  (null)", "%8s", nul);
	EXPECT("(null)  |", "%-8s|", nul);
	EXPECT("(nu", "%.3s", nul);       /* glibc prints "" here; Vireo cuts "(null)" */
	EXPECT("(nil)", "%p", nullp);
	EXPECT("   (nil)", "%8p", nullp);
	EXPECT("0x1234", "%p", (void *)0x1234);
	EXPECT("0xffffffffffffffff", "%p", (void *)UINTPTR_MAX);
	EXPECT("0x1234    |", "%-10p|", (void *)0x1234);
}

/* Strings are read no further than the precision: this one has no NUL. */
static void format_precision_bounds_string(void)
{
	char *p = malloc(4);
	REQUIRE(p);
	memcpy(p, "abcd", 4);
	EXPECT("abcd", "%.4s", p);
	EXPECT("ab", "%.*s", 2, p);
	free(p);
}

static void format_unknown_conversions(void)
{
	EXPECT("%y", "%y");
	EXPECT("a%yb", "a%yb");
	EXPECT("%5y|", "%5y|");
	EXPECT("%-08.3y", "%-08.3y");
	EXPECT("%hy", "%hy");
	EXPECT("%jd", "%jd", 5);           /* j is not supported: printed as written */
	EXPECT("%+d 7", "%+d %d", 7);      /* nor the '+' flag: the 7 goes to the next %d */
	EXPECT("%#x", "%#x");
	EXPECT("%f", "%f", 1.0);
	EXPECT("%Lf", "%Lf");
	EXPECT("end%", "end%");
	EXPECT("end%-5", "end%-5");
	EXPECT("end%ll", "end%ll");
	EXPECT("%", "%");
	EXPECT("%*q|3", "%*q|%d", 9, 3);   /* '*' consumed its argument */
}

static void format_huge_width_is_capped(void)
{
	char big[8192];
	int n = vireo_snprintf(big, sizeof(big), "%999999999d", 1);
	CHECK_EQ(n, 4096);
	CHECK_EQ(strlen(big), 4096);
	CHECK_EQ(big[4095], '1');
	n = vireo_snprintf(big, sizeof(big), "%.99999999999999999999d", 1);
	CHECK_EQ(n, 4096);
	n = vireo_snprintf(NULL, 0, "%*d", INT_MIN, 1);
	CHECK_EQ(n, 4096);
	n = vireo_snprintf(NULL, 0, "%*d", INT_MAX, 1);
	CHECK_EQ(n, 4096);
}

/* ---- truncation and the return value ------------------------------------- */

static void format_truncation_every_size(void)
{
	static const char *const fmt = "id=%d name=%-8s|%08x|%p|%c";
	char want[BUF], got[BUF], lib[BUF];
	int full = snprintf(want, sizeof(want), fmt, -1234, "vcpu", 0xbeefu, (void *)0x77, 'Z');

	for (size_t size = 0; size <= (size_t)full + 2; size++) {
		memset(got, CANARY, sizeof(got));
		memset(lib, CANARY, sizeof(lib));
		int n = vireo_snprintf(got, size, fmt, -1234, "vcpu", 0xbeefu, (void *)0x77, 'Z');
		snprintf(lib, size, fmt, -1234, "vcpu", 0xbeefu, (void *)0x77, 'Z');
		CHECK_EQ(n, full);
		CHECK(memcmp(got, lib, size) == 0);
		if (size > 0) {
			size_t kept = size - 1 < (size_t)full ? size - 1 : (size_t)full;
			CHECK_EQ(got[kept], '\0');
			CHECK(memcmp(got, want, kept) == 0);
		}
		for (size_t i = size; i < sizeof(got); i++)
			if ((unsigned char)got[i] != CANARY) {
				CHECK(!"write past size");
				break;
			}
	}
}

static void format_size_zero(void)
{
	char c = CANARY;

	CHECK_EQ(vireo_snprintf(NULL, 0, "hello %s", "world"), 11);
	CHECK_EQ(vireo_snprintf(&c, 0, "%d", 12345), 5);
	CHECK_EQ((unsigned char)c, CANARY);
	CHECK_EQ(vireo_snprintf(&c, 1, "%d", 12345), 5);
	CHECK_EQ(c, '\0');
	CHECK_EQ(vireo_snprintf(NULL, 0, ""), 0);
}

/* ---- printk and panic ---------------------------------------------------- */

/* Capture fd 2 (the hosted console); the text comes back malloc'd, with its length. */
static int capture_begin(void)
{
	return test_capture_begin();
}

static char *capture_end(int saved, size_t *len)
{
	return strdup(test_capture_end(saved, len));
}

static void printk_whole_lines(void)
{
	size_t len;
	int saved = capture_begin();
	REQUIRE(saved >= 0);

	printk("hello %d", 5);
	printk("with newline %s\n", "x");
	printk("%s", "");
	printk("two\nlines");
	char *out = capture_end(saved, &len);
	REQUIRE(out);
	CHECK(strcmp(out, "hello 5\nwith newline x\n\ntwo\nlines\n") == 0);
	free(out);
}

static void printk_truncates_long_lines(void)
{
	char msg[1001];
	size_t len;

	memset(msg, 'm', 1000);
	msg[1000] = '\0';
	int saved = capture_begin();
	REQUIRE(saved >= 0);
	printk("%s", msg);
	printk("%.510s", msg);      /* 510 + newline: fits, not cut */
	printk("%.511s", msg);      /* 511 + newline = 512: fits, not cut */
	printk("%.512s", msg);      /* cut */
	char *out = capture_end(saved, &len);
	REQUIRE(out);
	REQUIRE(len == 512 + 511 + 512 + 512);
	CHECK(memcmp(out + 508, "...\n", 4) == 0);
	for (int i = 0; i < 508; i++)
		if (out[i] != 'm') {
			CHECK(!"cut line keeps its start");
			break;
		}
	CHECK_EQ(out[512 + 509], 'm');
	CHECK_EQ(out[512 + 510], '\n');
	CHECK_EQ(out[1023 + 510], 'm');
	CHECK_EQ(out[1023 + 511], '\n');
	CHECK(memcmp(out + 1535 + 508, "...\n", 4) == 0);
	free(out);
}

#define STORM_LINES 300
#define STORM_WIDTH 200

static void printk_storm(void *arg, unsigned cpu)
{
	char body[STORM_WIDTH + 1];

	memset(body, 'A' + (char)cpu, STORM_WIDTH);
	body[STORM_WIDTH] = '\0';
	for (int i = 0; i < STORM_LINES; i++)
		printk("%02u %s", cpu, body);
}

/* Lines printed from several CPUs at once come out whole. */
static void printk_lines_do_not_interleave(void)
{
	unsigned cpus = machine_nr_cpus() < 4 ? machine_nr_cpus() : 4;
	size_t line_len = 3 + STORM_WIDTH + 1;
	size_t len;
	int saved = capture_begin();
	REQUIRE(saved >= 0);

	int rc = machine_run_on_cpus(cpus, printk_storm, NULL);
	char *out = capture_end(saved, &len);
	REQUIRE(out);
	CHECK_EQ(rc, 0);
	CHECK_EQ(len, cpus * STORM_LINES * line_len);
	unsigned per_cpu[4] = { 0 };
	for (size_t off = 0; off + line_len <= len; off += line_len) {
		char *l = out + off;
		unsigned cpu = (unsigned)(l[1] - '0');
		int whole = l[0] == '0' && cpu < cpus && l[2] == ' ' && l[line_len - 1] == '\n';
		for (size_t i = 3; whole && i < line_len - 1; i++)
			whole = l[i] == (char)('A' + cpu);
		if (!whole) {
			CHECK(!"a line was interleaved");
			break;
		}
		per_cpu[cpu]++;
	}
	for (unsigned c = 0; c < cpus; c++)
		CHECK_EQ(per_cpu[c], STORM_LINES);
	free(out);
}

/*
 * Run child() in a child process whose fd 2 is a pipe; the parent starts
 * reading only after delay_ms (so console writes can block on a full pipe),
 * gives up after 20 s. Returns the wait status (-1 on timeout) and the output.
 */
static int run_child(void (*child)(void), int delay_ms, char *out, size_t cap, size_t *len)
{
	int p[2];

	*len = 0;
	if (pipe(p) != 0)
		return -1;
	fflush(NULL);
	pid_t pid = fork();
	if (pid == 0) {
		close(p[0]);
		dup2(p[1], 2);
		close(p[1]);
		child();
		_exit(99);
	}
	close(p[1]);
	usleep((useconds_t)delay_ms * 1000);
	struct timespec t0, now;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (;;) {
		struct pollfd pfd = { p[0], POLLIN, 0 };
		clock_gettime(CLOCK_MONOTONIC, &now);
		if (now.tv_sec - t0.tv_sec > 20) {
			kill(pid, SIGKILL);
			waitpid(pid, NULL, 0);
			close(p[0]);
			return -1;
		}
		if (poll(&pfd, 1, 100) <= 0)
			continue;
		char chunk[4096];
		ssize_t n = read(p[0], chunk, sizeof(chunk));
		if (n <= 0)
			break;
		size_t keep = (size_t)n < cap - 1 - *len ? (size_t)n : cap - 1 - *len;
		memcpy(out + *len, chunk, keep);
		*len += keep;
	}
	out[*len] = '\0';
	close(p[0]);
	int status;
	waitpid(pid, &status, 0);
	return status;
}

static void child_panics(void)
{
	printk("before");
	panic("boom %d", 7);
}

static void panic_prints_and_halts(void)
{
	static char out[4096];
	size_t len;
	int status = run_child(child_panics, 0, out, sizeof(out), &len);

	REQUIRE(status != -1);
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 2);
	CHECK(strcmp(out, "before\nPANIC: boom 7\n") == 0);
}

static void panic_from_signal(int sig)
{
	panic("from handler, signal %d", sig);
}

/*
 * A "fault" while this CPU holds the console lock: the console (a pipe
 * nobody reads yet) is full, so printk blocks inside machine_console_write
 * with the lock held, and a timer signal's handler panics. panic must not
 * wait for the lock forever; the parent reads the pipe after a while and
 * must then see the panic line and exit status 2.
 */
static void child_panics_under_lock(void)
{
	struct sigaction sa;
	struct itimerval it = { { 0, 0 }, { 0, 100 * 1000 } };
	char line[400];

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = panic_from_signal;    /* no SA_RESTART: the write is interrupted */
	sigaction(SIGALRM, &sa, NULL);
	setitimer(ITIMER_REAL, &it, NULL);
	memset(line, 'f', sizeof(line) - 1);
	line[sizeof(line) - 1] = '\0';
	for (;;)
		printk("%s", line);
}

static void panic_with_console_lock_held(void)
{
	static char out[1 << 20];
	size_t len;
	int status = run_child(child_panics_under_lock, 600, out, sizeof(out), &len);

	REQUIRE(status != -1);
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 2);
	CHECK(strstr(out, "PANIC: from handler, signal 14\n") != NULL);
}

static const struct test_case cases[] = {
	TEST(format_ints_match_libc),
	TEST(format_unsigned_match_libc),
	TEST(format_strings_match_libc),
	TEST(format_pointers_match_libc),
	TEST(format_star_match_libc),
	TEST(format_mixed_match_libc),
	TEST(format_extremes),
	TEST(format_null_and_pointers),
	TEST(format_precision_bounds_string),
	TEST(format_unknown_conversions),
	TEST(format_huge_width_is_capped),
	TEST(format_truncation_every_size),
	TEST(format_size_zero),
	TEST(printk_whole_lines),
	TEST(printk_truncates_long_lines),
	TEST(printk_lines_do_not_interleave),
	TEST(panic_prints_and_halts),
	TEST(panic_with_console_lock_held),
};
TEST_MAIN(cases)
