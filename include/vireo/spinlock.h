/*
 * Ticket spinlock: FIFO-fair, two 16-bit counters in one word.
 *
 *   lock:   take a ticket (fetch_add on next, relaxed: the ticket itself
 *           orders nothing), then wait until owner == ticket with acquire
 *           loads, so the critical section cannot move before the wait ends.
 *   unlock: owner + 1 with a release store, so the critical section's
 *           accesses are visible before the next holder sees its turn.
 *
 * No interrupt masking here; the image wraps these where handlers share data.
 */
#ifndef VIREO_SPINLOCK_H
#define VIREO_SPINLOCK_H

#include <stdbool.h>
#include <stdint.h>

#include <vireo/atomic.h>
#include <vireo/machine.h>

typedef struct {
	_Atomic uint16_t next;
	_Atomic uint16_t owner;
} spinlock_t;

#define SPINLOCK_INIT { 0, 0 }

static inline void spin_lock_init(spinlock_t *l)
{
	atomic_store_explicit(&l->next, 0, memory_order_relaxed);
	atomic_store_explicit(&l->owner, 0, memory_order_relaxed);
}

static inline void spin_lock(spinlock_t *l)
{
	uint16_t ticket = atomic_fetch_add_explicit(&l->next, 1, memory_order_relaxed);
	while (atomic_load_explicit(&l->owner, memory_order_acquire) != ticket)
		cpu_relax();
}

static inline bool spin_trylock(spinlock_t *l)
{
	uint16_t owner = atomic_load_explicit(&l->owner, memory_order_relaxed);
	uint16_t expect = owner;
	/* Take a ticket only if it would be served at once. */
	return atomic_compare_exchange_strong_explicit(&l->next, &expect, (uint16_t)(owner + 1),
						       memory_order_acquire, memory_order_relaxed);
}

static inline void spin_unlock(spinlock_t *l)
{
	uint16_t owner = atomic_load_explicit(&l->owner, memory_order_relaxed);
	atomic_store_explicit(&l->owner, (uint16_t)(owner + 1), memory_order_release);
}

#endif
