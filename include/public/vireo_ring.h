/*
 * Vireo extension: a one-direction, single-producer/single-consumer descriptor
 * ring in shared memory. A guest detects it through Vireo's feature flags and
 * falls back to the Xen mechanism when absent (DESIGN.md decision 1). The Xen
 * request/response rings of io/ring.h keep their own layout; this one exists
 * because its layout may keep the two sides' indices apart.
 *
 * Layout of the shared area (offsets in bytes):
 *
 *     0  prod        producer writes: slots [cons, prod) hold entries
 *     4  prod_event  consumer writes: "notify me when prod passes this"
 *     8  (padding to the end of the first cache line)
 *    64  cons        consumer writes: slots before cons are free again
 *    68  cons_event  producer writes: "notify me when cons passes this"
 *    72  (padding to the end of the second cache line)
 *   128  slots       nr_slots entries of slot_size bytes
 *
 * Each cache line holds one frequently written index and the rarely written
 * event of the other side, so in steady state each line has one writer.
 *
 * Indices are free-running 32-bit counters; slot i lives at i mod nr_slots,
 * nr_slots is a power of two, and distances are compared only by unsigned
 * difference, so wrap-around of the counters needs no special case.
 *
 * The geometry (nr_slots, slot_size) is never read from shared memory: both
 * sides derive it from the size of the area and the entry type, agreed out of
 * band (vireo_ring_nr_slots()).
 *
 * Notification hold-off follows Xen's req_event/rsp_event: after advancing its
 * index from old to new, a side notifies the other only when the other's event
 * lies in (old, new]. A side about to sleep sets the event and looks once more.
 */
#ifndef VIREO_PUBLIC_RING_H
#define VIREO_PUBLIC_RING_H

#include <stdint.h>

struct vireo_ring_shared {
	uint32_t prod;
	uint32_t prod_event;
	uint8_t pad0[56];
	uint32_t cons;
	uint32_t cons_event;
	uint8_t pad1[56];
	/* slots follow at VIREO_RING_SLOTS_OFFSET */
};

#define VIREO_RING_SLOTS_OFFSET 128u
#define VIREO_RING_MAX_SLOTS    (1u << 30)

_Static_assert(sizeof(struct vireo_ring_shared) == 128, "ring header is two cache lines");
_Static_assert(__builtin_offsetof(struct vireo_ring_shared, prod) == 0, "prod at 0");
_Static_assert(__builtin_offsetof(struct vireo_ring_shared, prod_event) == 4, "prod_event at 4");
_Static_assert(__builtin_offsetof(struct vireo_ring_shared, cons) == 64, "cons at 64");
_Static_assert(__builtin_offsetof(struct vireo_ring_shared, cons_event) == 68, "cons_event at 68");

/*
 * Number of slots of slot_size bytes that an area of area_bytes holds: the
 * largest power of two that fits after the header; 0 when none fits.
 */
static inline __attribute__((unused)) uint32_t vireo_ring_nr_slots(uint64_t area_bytes, uint32_t slot_size)
{
	if (slot_size == 0 || area_bytes < VIREO_RING_SLOTS_OFFSET + (uint64_t)slot_size)
		return 0;
	uint64_t fit = (area_bytes - VIREO_RING_SLOTS_OFFSET) / slot_size;
	if (fit > VIREO_RING_MAX_SLOTS)
		fit = VIREO_RING_MAX_SLOTS;
	uint32_t n = 1;
	while ((uint64_t)n * 2 <= fit)
		n *= 2;
	return n;
}

#endif
