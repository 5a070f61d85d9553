/*
 * Hypercall dispatch (core/hypercall.c) and continuations.
 *
 * A handler gets the guest's six argument registers and may rewrite them:
 * returning -VIREO_ERESTART means "not finished, call me again with these
 * arguments" (Xen's hypercall continuation). The arch makes the guest
 * re-execute its SYSCALL with the updated registers, so a long batch gives
 * the CPU back (interrupts, later the scheduler) and resumes where it
 * stopped; multicall writes the arguments back into the guest's entry.
 */
#ifndef CORE_HYPERCALL_H
#define CORE_HYPERCALL_H

#include <stdbool.h>
#include <stdint.h>

struct hypercall_args {
	uint64_t a[6];
};

long hypercall_dispatch(uint64_t nr, struct hypercall_args *args);

/* The arch's own hypercalls (x86 segment bases, stacks, FPU): -VIREO_ENOSYS for others. */
long arch_hypercall(uint64_t nr, struct hypercall_args *args);

/*
 * Preemption of long batches: a batch that started at TSC `start` should
 * continue later once hypercall_preempt_tsc cycles have gone by (0 means
 * the default, 500 us; tests set 1 to preempt at every check).
 */
extern uint64_t hypercall_preempt_tsc;
bool hypercall_preempt_due(uint64_t start);

#endif
