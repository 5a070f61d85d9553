/*
 * Event-channel helpers for the test guests (guests/events, guests/smp):
 * the TSC, system time from vcpu_info, an upcall's work and a block that
 * loses no wake-up. Header-only: the guests that use events include it.
 */
#ifndef GUEST_EVTCHN_H
#define GUEST_EVTCHN_H

#include <stdbool.h>
#include <stdint.h>

#include <public/sched.h>
#include <public/xen.h>

#include "hypercall.h"

static inline uint64_t rdtsc(void)
{
	uint32_t lo, hi;
	__asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
	return ((uint64_t)hi << 32) | lo;
}

/* System time (ns since the hypervisor booted), from vcpu_time_info as Xen documents it. */
static inline uint64_t pvclock_ns(const volatile struct vcpu_time_info *t)
{
	uint32_t v;
	uint64_t ns;
	do {
		v = t->version;
		__asm__ volatile("" ::: "memory");
		uint64_t delta = rdtsc() - t->tsc_timestamp;
		delta = t->tsc_shift < 0 ? delta >> -t->tsc_shift : delta << t->tsc_shift;
		ns = t->system_time + (uint64_t)(((unsigned __int128)delta * t->tsc_to_system_mul) >> 32);
		__asm__ volatile("" ::: "memory");
	} while ((v & 1) || v != t->version);
	return ns;
}

static inline bool evtchn_test_and_clear(volatile xen_ulong_t *w, unsigned bit)
{
	return __atomic_fetch_and(&w[bit / 64], ~(1ull << (bit % 64)), __ATOMIC_SEQ_CST) & (1ull << (bit % 64));
}

/*
 * An upcall's work on vcpu_info vi: the upcall flag cleared, the selector
 * taken, each pending port it names that is not masked cleared and, below
 * 64, counted in seen[port]. Every such port of the word, whichever vCPU it
 * is bound to: a guest that takes upcalls on several vCPUs would need to
 * filter by vCPU (guests/smp takes them on vCPU 1 only).
 */
static inline void evtchn_take_pending(struct shared_info *sh, struct vcpu_info *vi, volatile unsigned long *seen)
{
	__atomic_store_n(&vi->evtchn_upcall_pending, 0, __ATOMIC_SEQ_CST);
	xen_ulong_t sel = __atomic_exchange_n(&vi->evtchn_pending_sel, 0, __ATOMIC_SEQ_CST);
	while (sel) {
		unsigned w = (unsigned)__builtin_ctzll(sel);
		sel &= sel - 1;
		xen_ulong_t bits = sh->evtchn_pending[w] & ~sh->evtchn_mask[w];
		while (bits) {
			unsigned b = (unsigned)__builtin_ctzll(bits);
			bits &= bits - 1;
			if (evtchn_test_and_clear(sh->evtchn_pending, w * 64 + b) && w * 64 + b < 64)
				seen[w * 64 + b]++;
		}
	}
}

/*
 * Block (this vCPU, vcpu_info vi) until seen[port] >= target; returns the
 * SCHEDOP_block calls made. Upcalls are masked while seen[] is checked and
 * SCHEDOP_block unmasks them as it blocks (Xen's do_block; Linux's
 * xen_safe_halt runs with them off too): an upcall landing between an
 * unmasked check and the block would be taken and counted before the
 * block, which would then wait for an event that never comes. The block
 * returns with upcalls on, delivering what woke it.
 */
static inline unsigned long evtchn_wait_seen(struct vcpu_info *vi, volatile unsigned long *seen, uint32_t port,
					     unsigned long target)
{
	unsigned long blocks = 0;
	for (;;) {
		__atomic_store_n(&vi->evtchn_upcall_mask, 1, __ATOMIC_SEQ_CST);
		if (seen[port] >= target)
			break;
		blocks++;
		hypercall2(__HYPERVISOR_sched_op, SCHEDOP_block, 0);
	}
	/* Upcalls on again; what came while they were off is delivered by any hypercall's return. */
	__atomic_store_n(&vi->evtchn_upcall_mask, 0, __ATOMIC_SEQ_CST);
	if (__atomic_load_n(&vi->evtchn_upcall_pending, __ATOMIC_SEQ_CST))
		hypercall2(__HYPERVISOR_xen_version, 0, 0);
	return blocks;
}

#endif
