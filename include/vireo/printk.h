/*
 * Formatted output for the hypervisor (freestanding: no libc in the image).
 *
 * vireo_vsnprintf understands: %d %i %u %x %X %o %c %s %p %%, the flags '-'
 * and '0', a field width and a precision (digits or '*'), and the length
 * modifiers hh h l ll z t. It always NUL-terminates when size > 0 and returns
 * the length the whole output would have had (C99 semantics). %s of NULL
 * prints "(null)". Unknown conversions are printed as they are.
 *
 * printk writes whole lines to the machine console; lines printed by
 * different CPUs never interleave inside a line. panic prints "PANIC: " and
 * the message, then stops the machine with status 2 (machine_halt); it must
 * work from any context, even when the console lock is held by a CPU that
 * faulted.
 */
#ifndef VIREO_PRINTK_H
#define VIREO_PRINTK_H

#include <stdarg.h>
#include <stddef.h>

#include <vireo/compiler.h>

#define PRINTF_LIKE(f, a) __attribute__((format(printf, f, a)))

int vireo_vsnprintf(char *buf, size_t size, const char *fmt, va_list ap);
int vireo_snprintf(char *buf, size_t size, const char *fmt, ...) PRINTF_LIKE(3, 4);

void printk(const char *fmt, ...) PRINTF_LIKE(1, 2);
void vprintk(const char *fmt, va_list ap);
NORETURN void panic(const char *fmt, ...) PRINTF_LIKE(1, 2);

#endif
