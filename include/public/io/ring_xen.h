/*
 * Xen x86-64 PV guest ABI: the fixed header of Xen's shared request/response
 * ring, the layout that DEFINE_RING_TYPES in Xen 4.17's
 * xen/include/public/io/ring.h gives struct <name>_sring. Block, network,
 * and the other split drivers put such a ring in one or more granted pages.
 *
 * Layout of the shared area (offsets in bytes):
 *
 *     0  req_prod    frontend writes: requests [.., req_prod) are published
 *     4  req_event   backend writes: "notify me when req_prod passes this"
 *     8  rsp_prod    backend writes: responses [.., rsp_prod) are published
 *    12  rsp_event   frontend writes: "notify me when rsp_prod passes this"
 *    16  pvt         4 bytes private to a driver (netif's smartpoll_active)
 *    20  pad         zero
 *    64  ring        entries, each a union of the request and response types
 *
 * Requests and responses share the slots: the backend writes the response
 * for a request into the slot of a request it has consumed. Indices are
 * free-running 32-bit counters; slot i is i mod nr_entries, nr_entries being
 * the largest power of two that fits (xen_sring_nr_entries()). Both sides
 * derive it from the area size and entry size, never from shared memory.
 *
 * Only the layout and two pure helpers are here; operating on a ring is the
 * job of typed functions elsewhere, which copy each request out once before
 * they validate it (STYLE.md: hostile shared memory).
 */
#ifndef VIREO_PUBLIC_IO_RING_XEN_H
#define VIREO_PUBLIC_IO_RING_XEN_H

#include <stdint.h>

struct xen_sring_header {
	uint32_t req_prod;
	uint32_t req_event;
	uint32_t rsp_prod;
	uint32_t rsp_event;
	uint8_t pvt[4];
	uint8_t pad[44];
	/* entries follow at XEN_SRING_ENTRIES_OFFSET */
};

#define XEN_SRING_ENTRIES_OFFSET 64u

_Static_assert(sizeof(struct xen_sring_header) == 64, "sring header is 64 bytes");
_Static_assert(__builtin_offsetof(struct xen_sring_header, req_prod) == 0, "sring.req_prod");
_Static_assert(__builtin_offsetof(struct xen_sring_header, req_event) == 4, "sring.req_event");
_Static_assert(__builtin_offsetof(struct xen_sring_header, rsp_prod) == 8, "sring.rsp_prod");
_Static_assert(__builtin_offsetof(struct xen_sring_header, rsp_event) == 12, "sring.rsp_event");
_Static_assert(__builtin_offsetof(struct xen_sring_header, pvt) == 16, "sring.pvt");
_Static_assert(__builtin_offsetof(struct xen_sring_header, pad) == 20, "sring.pad");

/*
 * Entries of entry_size bytes that a ring of area_bytes holds: what Xen's
 * __CONST_RING_SIZE computes, the quotient rounded down to a power of two.
 * 0 when none fits. A one-page blkif ring (112-byte entries) holds 32.
 */
static inline __attribute__((unused))
uint32_t xen_sring_nr_entries(uint64_t area_bytes, uint32_t entry_size)
{
	if (entry_size == 0 || area_bytes < XEN_SRING_ENTRIES_OFFSET + (uint64_t)entry_size)
		return 0;
	uint64_t fit = (area_bytes - XEN_SRING_ENTRIES_OFFSET) / entry_size;
	if (fit > 0x80000000u)
		fit = 0x80000000u;
	uint32_t n = 1;
	while ((uint64_t)n * 2 <= fit)
		n *= 2;
	return n;
}

/*
 * Notification hold-off (Xen's RING_PUSH_*_AND_CHECK_NOTIFY): after moving a
 * producer index from old to new, notify the other side only if its event
 * index lies in (old, new], compared by unsigned difference so that
 * wrap-around needs no special case. A side about to sleep sets its event
 * to (its consumer index + 1) and checks the ring once more.
 */
static inline __attribute__((unused))
int xen_sring_need_notify(uint32_t old_prod, uint32_t new_prod, uint32_t event)
{
	return (uint32_t)(new_prod - event) < (uint32_t)(new_prod - old_prod);
}

#endif
