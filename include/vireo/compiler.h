/*
 * Compiler helpers shared by every part of Vireo (hypervisor, hosted build,
 * guests). Freestanding: no libc.
 */
#ifndef VIREO_COMPILER_H
#define VIREO_COMPILER_H

#define likely(x)   __builtin_expect(!!(x), 1)
#define unlikely(x) __builtin_expect(!!(x), 0)

/* Upper case so they never collide with libc's or the C library's spellings. */
#define ALWAYS_INLINE inline __attribute__((always_inline))
#define NOINLINE      __attribute__((noinline))
#define NORETURN      __attribute__((noreturn))
#define COLD          __attribute__((cold))
#define ALIGNED(n)    __attribute__((aligned(n)))
#define PACKED        __attribute__((packed))
#define UNUSED        __attribute__((unused))

#define CACHE_LINE 64

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* Always checked, whatever the build (seL4's compile_assert). */
#define compile_assert(cond, msg) _Static_assert(cond, msg)

#endif
