/*
 * Xen x86-64 PV guest ABI: the PV console ring page (mirrors Xen 4.17's
 * xen/include/public/io/console.h struct xencons_interface). Its MFN and
 * event channel are start_info.console.domU.
 *
 * Two byte rings: in (backend to guest) and out (guest to backend). Indices
 * are free-running 32-bit counters, byte i is at i mod the ring size (both
 * sizes are powers of two, so MASK_XENCONS_IDX is a mask). The producer
 * writes bytes, then (after a write barrier) its prod index; the consumer
 * reads prod, then the bytes, then (after a barrier) writes its cons index.
 * Then each side notifies the other through the event channel.
 */
#ifndef VIREO_PUBLIC_IO_CONSOLE_H
#define VIREO_PUBLIC_IO_CONSOLE_H

#include <stdint.h>

typedef uint32_t XENCONS_RING_IDX;

#define XENCONS_IN_SIZE  1024u
#define XENCONS_OUT_SIZE 2048u

/* Xen's macro: idx masked to the size of ring (an array member). */
#define MASK_XENCONS_IDX(idx, ring) ((idx) & (sizeof(ring) - 1))

struct xencons_interface {
	char in[XENCONS_IN_SIZE];       /* backend -> guest */
	char out[XENCONS_OUT_SIZE];     /* guest -> backend */
	XENCONS_RING_IDX in_cons;       /* guest writes */
	XENCONS_RING_IDX in_prod;       /* backend writes */
	XENCONS_RING_IDX out_cons;      /* backend writes */
	XENCONS_RING_IDX out_prod;      /* guest writes */
};

_Static_assert((XENCONS_IN_SIZE & (XENCONS_IN_SIZE - 1)) == 0, "in ring size is a power of two");
_Static_assert((XENCONS_OUT_SIZE & (XENCONS_OUT_SIZE - 1)) == 0, "out ring size is a power of two");
_Static_assert(sizeof(struct xencons_interface) == 3088, "xencons_interface is 3088 bytes");
_Static_assert(sizeof(struct xencons_interface) <= 4096, "xencons_interface fits in a page");
_Static_assert(__builtin_offsetof(struct xencons_interface, out) == 1024, "xencons_interface.out");
_Static_assert(__builtin_offsetof(struct xencons_interface, in_cons) == 3072,
	       "xencons_interface.in_cons");
_Static_assert(__builtin_offsetof(struct xencons_interface, in_prod) == 3076,
	       "xencons_interface.in_prod");
_Static_assert(__builtin_offsetof(struct xencons_interface, out_cons) == 3080,
	       "xencons_interface.out_cons");
_Static_assert(__builtin_offsetof(struct xencons_interface, out_prod) == 3084,
	       "xencons_interface.out_prod");

#endif
