/*
 * The guest runtime's freestanding C library and its way out.
 *
 * clang may turn struct copies and zeroing into calls to memcpy, memmove,
 * memset and memcmp even under -ffreestanding, so those four must exist;
 * they are byte loops, which is all a test guest needs.
 */
#include "guest.h"
#include "hypercall.h"

#include <public/sched.h>

/* ---- leaving ---------------------------------------------------------------- */

void guest_shutdown(unsigned int reason)
{
	long rc = hyp_sched_shutdown(reason);

	/* Only reached when the hypervisor refused the shutdown. */
	console_printf("guest: sched_op(SCHEDOP_shutdown, %u) returned %ld\n", reason, rc);
	for (;;) {
		hyp_sched_shutdown(SHUTDOWN_crash);
		hyp_sched_yield();
	}
}

/* Called by entry.S with guest_main's return value. */
void guest_exit(int code)
{
	console_printf("exit code %d\n", code);
	guest_shutdown(code == 0 ? SHUTDOWN_poweroff : SHUTDOWN_crash);
}

/* ---- memory and strings ---------------------------------------------------- */

void *memcpy(void *dst, const void *src, size_t n)
{
	unsigned char *d = dst;
	const unsigned char *s = src;

	while (n--)
		*d++ = *s++;
	return dst;
}

void *memmove(void *dst, const void *src, size_t n)
{
	unsigned char *d = dst;
	const unsigned char *s = src;

	if (d <= s || d >= s + n)
		return memcpy(dst, src, n);
	while (n--)             /* overlapping, destination above: copy backwards */
		d[n] = s[n];
	return dst;
}

void *memset(void *dst, int c, size_t n)
{
	unsigned char *d = dst;

	while (n--)
		*d++ = (unsigned char)c;
	return dst;
}

int memcmp(const void *a, const void *b, size_t n)
{
	const unsigned char *p = a, *q = b;

	for (; n; n--, p++, q++)
		if (*p != *q)
			return *p - *q;
	return 0;
}

size_t strlen(const char *s)
{
	size_t n = 0;

	while (s[n])
		n++;
	return n;
}

size_t strnlen(const char *s, size_t max)
{
	size_t n = 0;

	while (n < max && s[n])
		n++;
	return n;
}

int strcmp(const char *a, const char *b)
{
	while (*a && *a == *b) {
		a++;
		b++;
	}
	return (unsigned char)*a - (unsigned char)*b;
}

int strncmp(const char *a, const char *b, size_t n)
{
	for (; n; n--, a++, b++) {
		if (*a != *b)
			return (unsigned char)*a - (unsigned char)*b;
		if (!*a)
			return 0;
	}
	return 0;
}

char *strstr(const char *haystack, const char *needle)
{
	size_t n = strlen(needle);

	for (; *haystack; haystack++)
		if (!strncmp(haystack, needle, n))
			return (char *)haystack;
	return n ? NULL : (char *)haystack;
}
