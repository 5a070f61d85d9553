/*
 * The machine frame allocator: a binary buddy allocator over the usable RAM
 * that boot found (a struct memmap).
 *
 * Blocks are 2^order frames, order 0 .. FRAME_MAX_ORDER (4 KiB .. 1 GiB), and
 * always naturally aligned: the first MFN of a block of order k is a multiple
 * of 2^k. The buddy of the block at mfn is the block at mfn ^ 2^k; two free
 * buddies merge into one block of order k+1.
 *
 * Metadata: one byte per frame, from frame 0 to the highest usable frame,
 * carved at init from the first usable frames big enough (1 MiB of metadata
 * per 4 GiB of address space). The byte says whether the frame is the head of
 * a free block (and its order), the head of an allocated block (and its
 * order), or neither. frame_free() checks its argument against it, so freeing
 * a block twice, with another order, or from its middle is caught by ASSERT.
 * Free-list links live inside the free frames themselves.
 *
 * Every operation on an allocator takes its one spinlock (struct
 * frame_allocator.lock); all fields are guarded by it. The allocator takes no
 * other lock while holding it (it only calls the lock-free machine frame
 * helpers), so any lock may be taken before it (the heap's is, mm/heap.c).
 *
 * There is one allocator for the machine, used through the frame_alloc_*
 * functions; the frame_allocator_* functions take an instance, so tests can
 * build fresh allocators over parts of the hosted machine.
 */
#ifndef MM_FRAME_ALLOC_H
#define MM_FRAME_ALLOC_H

#include <stdbool.h>
#include <stdint.h>

#include <mm/memmap.h>
#include <vireo/machine.h>
#include <vireo/spinlock.h>

#define FRAME_MAX_ORDER 18
#define FRAME_NR_ORDERS (FRAME_MAX_ORDER + 1)

/* A free block's list link, stored in its first frame. */
struct frame_free_block;

/*
 * A zero-filled struct frame_allocator (static storage, or FRAME_ALLOCATOR_INIT)
 * is an allocator before init: allocations fail, frees are bugs.
 */
struct frame_allocator {
	spinlock_t lock;

	/* All below guarded by lock. */
	bool ready;                 /* init has succeeded (never goes back) */
	uint8_t *meta;              /* meta[mfn] for mfn < nr_frames, see frame_alloc.c */
	mfn_t nr_frames;            /* frames described by meta: highest usable + 1 */
	mfn_t meta_mfn;             /* where meta lives: meta_frames frames from here */
	mfn_t meta_frames;
	uint64_t nr_managed;        /* usable frames handed out or free (not the metadata) */
	uint64_t nr_free;           /* frames in free blocks, all orders */
	struct frame_free_block *free_list[FRAME_NR_ORDERS];
	uint64_t nr_free_blocks[FRAME_NR_ORDERS];
};

#define FRAME_ALLOCATOR_INIT { .lock = SPINLOCK_INIT }

/**
 * Take over the frames of usable (byte ranges, rounded inward to whole
 * frames; frames at or above machine_nr_frames() are ignored). usable must
 * satisfy the struct memmap invariant (built with memmap_add/remove).
 * @return 0; -VIREO_EBUSY if fa is already initialised; -VIREO_EINVAL if
 *         usable is malformed; -VIREO_ENOMEM if no usable range can hold the
 *         metadata (in particular when there are no usable frames). On error
 *         fa is unchanged.
 */
int frame_allocator_init(struct frame_allocator *fa, const struct memmap *usable);

/**
 * Allocate 2^order contiguous frames, naturally aligned.
 * @return the first frame, or INVALID_MFN when no block is free (or order >
 *         FRAME_MAX_ORDER, or fa is not initialised). The frames' contents
 *         are undefined.
 */
mfn_t frame_allocator_alloc(struct frame_allocator *fa, unsigned order);

/**
 * Give back a block: mfn and order exactly as frame_allocator_alloc() returned
 * them. Anything else (a misaligned or out-of-range mfn, a block not
 * allocated, a different order) is a bug and stops in ASSERT.
 */
void frame_allocator_free(struct frame_allocator *fa, mfn_t mfn, unsigned order);

/* Frames currently free. */
uint64_t frame_allocator_nr_free(struct frame_allocator *fa);

/* Free blocks of exactly this order (0 for order > FRAME_MAX_ORDER). */
uint64_t frame_allocator_nr_free_blocks(struct frame_allocator *fa, unsigned order);

/**
 * Walk every free list and the whole metadata and check they agree: each
 * free block is aligned, inside the usable frames, marked as a free head of
 * its order with unmarked interior frames, not mergeable with its buddy, and
 * the counters match. O(frames); for tests and debugging.
 * @return 0, or -VIREO_EINVAL at the first inconsistency.
 */
int frame_allocator_audit(struct frame_allocator *fa);

/*
 * The machine's allocator. Exported only so other modules' global instances
 * can name it in a static initialiser (the global heap does); everything else
 * uses the wrappers below.
 */
extern struct frame_allocator frame_allocator_global;

int frame_alloc_init(const struct memmap *usable);
mfn_t frame_alloc(unsigned order);
void frame_free(mfn_t mfn, unsigned order);
uint64_t frame_nr_free(void);

#endif
