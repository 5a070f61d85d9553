/*
 * The physical reference for the descriptor ring: the least an SPSC ring can
 * do. A plain array, a head and a tail index on their own cache lines,
 * release stores and acquire loads, no caching of the other index, no
 * validation, no notification. Benchmarks report Vireo's ring as a ratio of
 * this one, measured in the same run.
 */
#ifndef BENCH_REF_RING_H
#define BENCH_REF_RING_H

#include <stdatomic.h>
#include <stdint.h>

#define REF_RING_SLOTS 1024u

struct ref_ring {
	_Alignas(64) _Atomic uint32_t tail;    /* producer writes */
	_Alignas(64) _Atomic uint32_t head;    /* consumer writes */
	_Alignas(64) uint64_t slots[REF_RING_SLOTS];
};

/* Push up to n values from seq on; returns how many went in. */
static inline uint32_t ref_ring_push(struct ref_ring *r, uint32_t n, uint64_t seq)
{
	uint32_t tail = atomic_load_explicit(&r->tail, memory_order_relaxed);
	uint32_t head = atomic_load_explicit(&r->head, memory_order_acquire);
	uint32_t room = REF_RING_SLOTS - (tail - head);
	if (n > room)
		n = room;
	if (n == 0)
		return 0;
	for (uint32_t k = 0; k < n; k++)
		r->slots[(tail + k) & (REF_RING_SLOTS - 1)] = seq + k;
	atomic_store_explicit(&r->tail, tail + n, memory_order_release);
	return n;
}

/* Pop up to n values, adding them to *sum; returns how many came out. */
static inline uint32_t ref_ring_pop(struct ref_ring *r, uint32_t n, uint64_t *sum)
{
	uint32_t head = atomic_load_explicit(&r->head, memory_order_relaxed);
	uint32_t tail = atomic_load_explicit(&r->tail, memory_order_acquire);
	uint32_t avail = tail - head;
	if (n > avail)
		n = avail;
	if (n == 0)
		return 0;
	for (uint32_t k = 0; k < n; k++)
		*sum += r->slots[(head + k) & (REF_RING_SLOTS - 1)];
	atomic_store_explicit(&r->head, head + n, memory_order_release);
	return n;
}

#endif
