/*
 * The Vireo guest runtime: what a PV guest kernel written here links
 * against (guests/lib/). It is a separate program from the hypervisor and
 * shares only the ABI headers (include/public/) with it.
 *
 * Start of day (entry.S): the runtime switches to its own stack, zeroes
 * .bss and calls guest_main() with the start_info page that the domain
 * builder passed in RSI. When guest_main returns, guest_exit() reports its
 * value and shuts the domain down.
 *
 * The runtime runs with event delivery masked (it registers no
 * callbacks) and is single-vCPU but for the console, which takes a lock
 * (guests/smp prints from two vCPUs); the page-table helpers (pt.c) are
 * one vCPU's.
 */
#ifndef GUEST_GUEST_H
#define GUEST_GUEST_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <public/xen.h>

#define NORETURN __attribute__((noreturn))
#define PRINTF_LIKE(f, a) __attribute__((format(printf, f, a)))
#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* The guest's own code: called once on the runtime's stack. Its return
 * value goes to guest_exit(). */
int guest_main(struct start_info *si);

/* ---- console (console.c): output through console_io(CONSOLEIO_write) ---- */

/*
 * printf to the hypervisor console. Conversions: %d %i %u %x %X %p %s %c
 * %%, with the length modifiers l, ll, z, the flags '-' and '0' and a
 * decimal field width. Output is formatted into a buffer that is written
 * with one hypercall when full and at the end of each call, so a line
 * printed with one call reaches the console in one piece.
 */
PRINTF_LIKE(1, 2) void console_printf(const char *fmt, ...);
void console_vprintf(const char *fmt, va_list ap);

/* Write len bytes as they are. */
void console_write(const char *s, size_t len);

/* ---- leaving (lib.c) ---- */

/* Print "exit code N", then shut down: SHUTDOWN_poweroff for 0,
 * SHUTDOWN_crash otherwise. */
NORETURN void guest_exit(int code);

/* sched_op(SCHEDOP_shutdown, reason); if the hypervisor refuses, say so
 * and keep trying to crash the domain. */
NORETURN void guest_shutdown(unsigned int reason);

/* ---- freestanding C library (lib.c); the compiler may call the first four ---- */

void *memcpy(void *dst, const void *src, size_t n);
void *memmove(void *dst, const void *src, size_t n);
void *memset(void *dst, int c, size_t n);
int memcmp(const void *a, const void *b, size_t n);
size_t strlen(const char *s);
size_t strnlen(const char *s, size_t max);
int strcmp(const char *a, const char *b);
int strncmp(const char *a, const char *b, size_t n);
char *strstr(const char *haystack, const char *needle);

#endif
