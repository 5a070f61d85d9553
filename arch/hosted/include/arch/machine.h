/*
 * Inline machine hooks for the hosted build (a Linux process on x86-64).
 * Included only by <vireo/machine.h>.
 */
#ifndef ARCH_HOSTED_MACHINE_H
#define ARCH_HOSTED_MACHINE_H

#include <stdint.h>

/* Which "CPU" this thread is; set by machine_run_on_cpus(), 0 for the main thread. */
extern _Thread_local unsigned hosted_cpu_id;

static inline unsigned cpu_id(void)
{
	return hosted_cpu_id;
}

static inline uint64_t machine_tsc(void)
{
	return __builtin_ia32_rdtsc();
}

static inline void cpu_relax(void)
{
	__builtin_ia32_pause();
}

#endif
