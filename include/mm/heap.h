/*
 * The hypervisor heap: variable-sized allocations on top of the frame
 * allocator.
 *
 *   size <= HEAP_SMALL_MAX  an object of the smallest size class that fits,
 *                           from a one-frame "page" that holds only objects
 *                           of that class (a header at the frame start says
 *                           which);
 *   larger                  a block of 2^k frames straight from the frame
 *                           allocator, the smallest that holds a header and
 *                           the object.
 *
 * Every object is aligned to HEAP_ALIGN (16) bytes at least; large ones and
 * small ones whose class is a multiple of 64 bytes are cache-line aligned.
 * heap_free() recognises its own objects by a magic number in the header of
 * the frame that holds them, and stops in ASSERT on anything else (a foreign
 * or interior pointer, a double free of a small object, another heap's object).
 *
 * Each heap has one spinlock guarding its page lists and page headers. Lock
 * order: heap.lock, then the frame allocator's lock (a heap takes and gives
 * back pages while holding its own).
 *
 * The machine's heap is used through xmalloc/xzalloc/xfree and draws on the
 * machine's frame allocator (frame_alloc_init() must have run). The heap_*
 * functions take an instance, so tests can use fresh heaps over fresh frame
 * allocators.
 */
#ifndef MM_HEAP_H
#define MM_HEAP_H

#include <stddef.h>
#include <stdint.h>

#include <mm/frame_alloc.h>
#include <vireo/spinlock.h>

#define HEAP_ALIGN      16
#define HEAP_SMALL_MAX  2048
#define HEAP_NR_CLASSES 23

struct heap_page;

struct heap {
	spinlock_t lock;
	struct frame_allocator *frames;  /* set by heap_init, read-only after */

	/* All below guarded by lock. */
	/* Pages of each class with at least one free object (some may be all free). */
	struct heap_page *partial[HEAP_NR_CLASSES];
	uint64_t nr_pages;               /* small-object pages held */
	uint64_t nr_big_frames;          /* frames held by large allocations */
};

#define HEAP_INIT(frame_allocator) { .lock = SPINLOCK_INIT, .frames = (frame_allocator) }

/* Make h an empty heap drawing frames from fa. */
void heap_init(struct heap *h, struct frame_allocator *fa);

/**
 * Allocate size bytes (size 0 gives a minimal object, not NULL).
 * @return the object, or NULL when the frame allocator has nothing big
 *         enough (or size is beyond its largest block).
 */
void *heap_alloc(struct heap *h, size_t size);

/* heap_alloc, then the object is zero-filled. */
void *heap_zalloc(struct heap *h, size_t size);

/* Give back p, which heap_alloc(h, ...) returned; NULL does nothing. */
void heap_free(struct heap *h, void *p);

/* Bytes that may be used at p (at least what was asked for). */
size_t heap_usable_size(struct heap *h, const void *p);

/* Give back to the frame allocator the pages that hold no object. */
void heap_trim(struct heap *h);

/* The machine's heap. */
void *xmalloc(size_t size);
void *xzalloc(size_t size);
void xfree(void *p);

#endif
