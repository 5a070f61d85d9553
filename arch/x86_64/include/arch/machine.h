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

/*
 * Remote TLB flushes (arch/x86_64/smp.c): tlb_flush_waiters counts the
 * CPUs waiting in machine_tlb_flush_cpus for acknowledgements. Hypercalls
 * run with interrupts off, so a CPU spinning on a lock the flusher holds
 * would never take the flush IPI: every spin-wait serves a request aimed
 * at its CPU, after one load of this global word (no per-CPU data in the
 * check: it may run before GS is set up, when the word is still 0).
 */
extern uint32_t tlb_flush_waiters;
void tlb_flush_serve(void);

static inline void cpu_relax(void)
{
	__asm__ volatile("pause" ::: "memory");
	if (__builtin_expect(__atomic_load_n(&tlb_flush_waiters, __ATOMIC_RELAXED) != 0, 0))
		tlb_flush_serve();
}

#endif
