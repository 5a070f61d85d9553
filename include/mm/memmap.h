/*
 * Sets of machine byte ranges, kept as a short sorted list: how boot turns
 * the firmware memory map into the RAM Vireo may use.
 *
 *     struct memmap ram;
 *     memmap_init(&ram);
 *     for each firmware RAM entry:        memmap_add(&ram, start, end);
 *     for the image, modules, ACPI, reserved entries:
 *                                         memmap_remove(&ram, start, end);
 *
 * Firmware maps are hostile input: entries may overlap, come in any order,
 * have zero length or run past the top of the address space. The operations
 * accept all of these; see each function for the contract.
 *
 * Invariant of a struct memmap (kept by every operation, relied on by the
 * frame allocator): r[0 .. n-1] are sorted, each is non-empty (start < end),
 * and any two are disjoint and not adjacent (r[i].end < r[i+1].start), so a
 * set of bytes has exactly one representation.
 *
 * No lock: a memmap belongs to its caller (boot builds one on one CPU).
 */
#ifndef MM_MEMMAP_H
#define MM_MEMMAP_H

#include <stdbool.h>
#include <stdint.h>

#define MEMMAP_MAX 128

/* Bytes [start, end): end is exclusive. */
struct mem_range {
	uint64_t start, end;
};

struct memmap {
	struct mem_range r[MEMMAP_MAX];
	unsigned n;
};

/* Make m the empty set. (A zero-filled struct memmap is also empty.) */
void memmap_init(struct memmap *m);

/**
 * Add bytes [start, end) to the set, merging with every range it overlaps or
 * touches.
 * @return 0 (also for start == end, which adds nothing); -VIREO_EINVAL when
 *         start > end (an entry that wrapped past 2^64); -VIREO_ENOSPC when
 *         the result would need more than MEMMAP_MAX ranges. On error the map
 *         is unchanged.
 */
int memmap_add(struct memmap *m, uint64_t start, uint64_t end);

/**
 * Remove bytes [start, end) from the set; a range that contains it in its
 * middle is split in two.
 * @return 0 (also for start == end); -VIREO_EINVAL when start > end;
 *         -VIREO_ENOSPC when a split would need more than MEMMAP_MAX ranges.
 *         On error the map is unchanged.
 * @note A failed remove leaves bytes in the set that must not be used:
 *       boot must treat it as fatal.
 */
int memmap_remove(struct memmap *m, uint64_t start, uint64_t end);

/**
 * The firmware's (base, length) form of the two above. A base + len that
 * wraps past 2^64 (an end that overflows) is -VIREO_EINVAL, map unchanged.
 */
int memmap_add_len(struct memmap *m, uint64_t base, uint64_t len);
int memmap_remove_len(struct memmap *m, uint64_t base, uint64_t len);

/* Total bytes in the set. */
uint64_t memmap_total(const struct memmap *m);

/* Whether every byte of [start, end) is in the set (true for start == end). */
bool memmap_contains(const struct memmap *m, uint64_t start, uint64_t end);

#endif
