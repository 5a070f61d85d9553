/*
 * Inline machine hooks for the bootable image. Included only by
 * <vireo/machine.h>. Per-CPU data is reached through GS: GS base points at
 * the CPU's struct percpu, whose first fields are fixed (see arch/percpu.h).
 */
#ifndef ARCH_X86_64_MACHINE_H
#define ARCH_X86_64_MACHINE_H

#include <stdint.h>

#define PERCPU_OFF_SELF   0
#define PERCPU_OFF_CPU_ID 8

static inline unsigned cpu_id(void)
{
	unsigned id;
	__asm__ volatile("movl %%gs:8, %0" : "=r"(id));
	return id;
}

static inline uint64_t machine_tsc(void)
{
	uint32_t lo, hi;
	__asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
	return ((uint64_t)hi << 32) | lo;
}

static inline void cpu_relax(void)
{
	__asm__ volatile("pause" ::: "memory");
}

#endif
