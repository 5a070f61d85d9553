/*
 * Memory-ordering vocabulary for Vireo, mapped onto C11 <stdatomic.h> the way
 * liburing's barrier.h does it. Shared-memory fields that another agent (CPU,
 * guest, frontend) reads or writes concurrently are declared _Atomic in
 * internal structures, or accessed through these helpers when the layout is a
 * public ABI struct of plain integers.
 *
 *  load_acquire / store_release  - publish data, or consume published data:
 *      everything written before a store_release is visible to whoever sees
 *      the stored value through load_acquire.
 *  read_once / write_once        - a single untorn access with no ordering;
 *      the value is copied once (no double fetch), use it for hints and for
 *      values whose ordering is settled by a later acquire/release.
 *  store_seq_cst / load_seq_cst  - sequentially consistent accesses: a
 *      store_seq_cst followed by a load_seq_cst cannot be reordered (x86: XCHG
 *      then a plain load): the store->load order acquire/release never give.
 *      Use the pair for Dekker-style "publish my index, then read your
 *      event" handshakes; both sides must use them.
 */
#ifndef VIREO_ATOMIC_H
#define VIREO_ATOMIC_H

#include <stdatomic.h>
#include <stdint.h>

#define load_acquire(p)     atomic_load_explicit((_Atomic __typeof__(*(p)) *)(p), memory_order_acquire)
#define store_release(p, v) atomic_store_explicit((_Atomic __typeof__(*(p)) *)(p), (v), memory_order_release)
#define read_once(p)        atomic_load_explicit((_Atomic __typeof__(*(p)) *)(p), memory_order_relaxed)
#define store_seq_cst(p, v) atomic_store_explicit((_Atomic __typeof__(*(p)) *)(p), (v), memory_order_seq_cst)
#define load_seq_cst(p)     atomic_load_explicit((_Atomic __typeof__(*(p)) *)(p), memory_order_seq_cst)
#define write_once(p, v)    atomic_store_explicit((_Atomic __typeof__(*(p)) *)(p), (v), memory_order_relaxed)

#endif
