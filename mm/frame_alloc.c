/*
 * Binary buddy allocator of machine frames (include/mm/frame_alloc.h).
 *
 * State of a frame, in its metadata byte meta[mfn]:
 *
 *   META_FREE  | k   mfn is the head of a free block of order k, and that
 *                    block is on free_list[k];
 *   META_ALLOC | k   mfn is the head of a block of order k handed out by
 *                    frame_allocator_alloc() and not yet given back;
 *   META_NONE        anything else: the inside of a block, a hole in RAM,
 *                    a frame the firmware reserved, the metadata itself.
 *
 * Invariants (checked by frame_allocator_audit()):
 *   - a block of order k starts at a multiple of 2^k and lies below nr_frames;
 *   - blocks never overlap, and frames inside a block are META_NONE;
 *   - free buddies are always merged: a free block of order k < MAX never has
 *     a free buddy of order k (so the free lists are the unique, coarsest
 *     split of the free frames into aligned blocks);
 *   - nr_free and nr_free_blocks[] count exactly what the lists hold.
 *
 * A merge only looks at the buddy's head byte: a frame that is not usable
 * RAM is META_NONE forever, so no block ever grows over a hole.
 */
#include <mm/frame_alloc.h>
#include <vireo/assert.h>
#include <vireo/errno.h>

#define META_NONE  0x00
#define META_FREE  0x40
#define META_ALLOC 0x80
#define META_ORDER 0x3f

compile_assert(FRAME_MAX_ORDER <= META_ORDER, "an order must fit in the metadata byte");

/* Lives in the first bytes of the head frame of each free block. */
struct frame_free_block {
	struct frame_free_block *next, *prev;
};

struct frame_allocator frame_allocator_global = FRAME_ALLOCATOR_INIT;

static inline uint64_t order_frames(unsigned order)
{
	return (uint64_t)1 << order;
}

/* ---- free lists (caller holds fa->lock) ---------------------------------- */

static void free_list_push_locked(struct frame_allocator *fa, mfn_t mfn, unsigned order)
{
	struct frame_free_block *b = mfn_to_virt(mfn);
	struct frame_free_block *head = fa->free_list[order];

	b->prev = NULL;
	b->next = head;
	if (head)
		head->prev = b;
	fa->free_list[order] = b;
	fa->meta[mfn] = META_FREE | order;
	fa->nr_free_blocks[order]++;
	fa->nr_free += order_frames(order);
}

static void free_list_unlink_locked(struct frame_allocator *fa, mfn_t mfn, unsigned order)
{
	struct frame_free_block *b = mfn_to_virt(mfn);

	if (b->prev)
		b->prev->next = b->next;
	else
		fa->free_list[order] = b->next;
	if (b->next)
		b->next->prev = b->prev;
	fa->meta[mfn] = META_NONE;
	fa->nr_free_blocks[order]--;
	fa->nr_free -= order_frames(order);
}

/* Cut frames [s, e) into the fewest aligned blocks and free them all. */
static void free_range_locked(struct frame_allocator *fa, mfn_t s, mfn_t e)
{
	while (s < e) {
		unsigned order = s ? (unsigned)__builtin_ctzll(s) : FRAME_MAX_ORDER;
		if (order > FRAME_MAX_ORDER)
			order = FRAME_MAX_ORDER;
		while (order_frames(order) > e - s)
			order--;
		free_list_push_locked(fa, s, order);
		s += order_frames(order);
	}
}

/* ---- init ---------------------------------------------------------------- */

/* The whole frames inside r, below limit: [*fs, *fe). False when there are none. */
static bool frame_span_of(const struct mem_range *r, mfn_t limit, mfn_t *fs, mfn_t *fe)
{
	/* Round start up without computing start + PAGE_SIZE - 1, which may wrap. */
	mfn_t s = (r->start >> PAGE_SHIFT) + ((r->start & (PAGE_SIZE - 1)) != 0);
	mfn_t e = r->end >> PAGE_SHIFT;

	if (e > limit)
		e = limit;
	*fs = s;
	*fe = e;
	return s < e;
}

static bool memmap_well_formed(const struct memmap *m)
{
	if (m->n > MEMMAP_MAX)
		return false;
	for (unsigned i = 0; i < m->n; i++) {
		if (m->r[i].start >= m->r[i].end)
			return false;
		if (i > 0 && m->r[i - 1].end >= m->r[i].start)
			return false;
	}
	return true;
}

/*
 * Decide where the metadata goes without changing anything: it needs one
 * byte for each frame below the highest usable one, and sits at the start of
 * the first usable span long enough.
 */
static int frame_allocator_plan(const struct memmap *usable, mfn_t *nr_frames,
				mfn_t *meta_mfn, mfn_t *meta_frames)
{
	mfn_t limit = machine_nr_frames(), top = 0, fs, fe;

	for (unsigned i = 0; i < usable->n; i++)
		if (frame_span_of(&usable->r[i], limit, &fs, &fe))
			top = fe;	/* spans are sorted: the last one wins */
	if (top == 0)
		return -VIREO_ENOMEM;

	mfn_t need = (top + PAGE_SIZE - 1) >> PAGE_SHIFT;
	for (unsigned i = 0; i < usable->n; i++) {
		if (frame_span_of(&usable->r[i], limit, &fs, &fe) && fe - fs >= need) {
			*nr_frames = top;
			*meta_mfn = fs;
			*meta_frames = need;
			return 0;
		}
	}
	return -VIREO_ENOMEM;
}

int frame_allocator_init(struct frame_allocator *fa, const struct memmap *usable)
{
	mfn_t nr_frames, meta_mfn, meta_frames, limit = machine_nr_frames();
	int rc;

	spin_lock(&fa->lock);
	if (fa->ready) {
		rc = -VIREO_EBUSY;
		goto out;
	}
	if (!memmap_well_formed(usable)) {
		rc = -VIREO_EINVAL;
		goto out;
	}
	rc = frame_allocator_plan(usable, &nr_frames, &meta_mfn, &meta_frames);
	if (rc)
		goto out;

	/* Nothing can fail from here on. Every frame starts as META_NONE. */
	fa->meta = mfn_to_virt(meta_mfn);
	fa->nr_frames = nr_frames;
	fa->meta_mfn = meta_mfn;
	fa->meta_frames = meta_frames;
	fa->nr_free = 0;
	fa->nr_managed = 0;
	for (unsigned k = 0; k < FRAME_NR_ORDERS; k++) {
		fa->free_list[k] = NULL;
		fa->nr_free_blocks[k] = 0;
	}
	__builtin_memset(fa->meta, META_NONE, nr_frames);

	for (unsigned i = 0; i < usable->n; i++) {
		mfn_t fs, fe;
		if (!frame_span_of(&usable->r[i], limit, &fs, &fe))
			continue;
		if (fs == meta_mfn)
			fs += meta_frames;
		free_range_locked(fa, fs, fe);
	}
	fa->nr_managed = fa->nr_free;
	fa->ready = true;
out:
	spin_unlock(&fa->lock);
	return rc;
}

/* ---- alloc and free ------------------------------------------------------ */

mfn_t frame_allocator_alloc(struct frame_allocator *fa, unsigned order)
{
	mfn_t mfn = INVALID_MFN;
	unsigned k;

	if (order > FRAME_MAX_ORDER)
		return INVALID_MFN;

	spin_lock(&fa->lock);
	for (k = order; k <= FRAME_MAX_ORDER && !fa->free_list[k]; k++)
		;
	if (k <= FRAME_MAX_ORDER) {
		mfn = virt_to_mfn(fa->free_list[k]);
		free_list_unlink_locked(fa, mfn, k);
		/* Split: keep the lower half, free the upper half, until small enough. */
		while (k > order) {
			k--;
			free_list_push_locked(fa, mfn + order_frames(k), k);
		}
		fa->meta[mfn] = META_ALLOC | order;
	}
	spin_unlock(&fa->lock);
	return mfn;
}

void frame_allocator_free(struct frame_allocator *fa, mfn_t mfn, unsigned order)
{
	spin_lock(&fa->lock);
	ASSERT(order <= FRAME_MAX_ORDER);
	ASSERT((mfn & (order_frames(order) - 1)) == 0);
	ASSERT(mfn < fa->nr_frames && fa->nr_frames - mfn >= order_frames(order));
	/* Catches a double free, a wrong order, and a block that was never ours. */
	ASSERT(fa->meta[mfn] == (META_ALLOC | order));

	fa->meta[mfn] = META_NONE;
	while (order < FRAME_MAX_ORDER) {
		mfn_t buddy = mfn ^ order_frames(order);
		if (buddy >= fa->nr_frames || fa->meta[buddy] != (META_FREE | order))
			break;
		free_list_unlink_locked(fa, buddy, order);
		mfn &= ~order_frames(order);
		order++;
	}
	free_list_push_locked(fa, mfn, order);
	spin_unlock(&fa->lock);
}

uint64_t frame_allocator_nr_free(struct frame_allocator *fa)
{
	spin_lock(&fa->lock);
	uint64_t n = fa->nr_free;
	spin_unlock(&fa->lock);
	return n;
}

uint64_t frame_allocator_nr_free_blocks(struct frame_allocator *fa, unsigned order)
{
	if (order > FRAME_MAX_ORDER)
		return 0;
	spin_lock(&fa->lock);
	uint64_t n = fa->nr_free_blocks[order];
	spin_unlock(&fa->lock);
	return n;
}

/* ---- audit --------------------------------------------------------------- */

/* One free list: links, heads, alignment, merging. Adds up what it holds. */
static bool audit_free_list_locked(struct frame_allocator *fa, unsigned order,
				   uint64_t *frames)
{
	struct frame_free_block *prev = NULL;
	uint64_t blocks = 0;

	for (struct frame_free_block *b = fa->free_list[order]; b; prev = b, b = b->next) {
		mfn_t mfn = virt_to_mfn(b);
		if (mfn == INVALID_MFN || b->prev != prev || blocks++ > fa->nr_frames)
			return false;
		if ((mfn & (order_frames(order) - 1)) || mfn >= fa->nr_frames ||
		    fa->nr_frames - mfn < order_frames(order))
			return false;
		if (fa->meta[mfn] != (META_FREE | order))
			return false;
		mfn_t buddy = mfn ^ order_frames(order);
		if (order < FRAME_MAX_ORDER && buddy < fa->nr_frames &&
		    fa->meta[buddy] == (META_FREE | order))
			return false;
	}
	*frames += blocks << order;
	return blocks == fa->nr_free_blocks[order];
}

/* The metadata: valid bytes, unmarked interiors, free heads counted per order. */
static bool audit_meta_locked(struct frame_allocator *fa)
{
	uint64_t heads[FRAME_NR_ORDERS] = { 0 };
	mfn_t mfn = 0;

	while (mfn < fa->nr_frames) {
		uint8_t m = fa->meta[mfn];
		unsigned order = m & META_ORDER;
		if (m == META_NONE) {
			mfn++;
			continue;
		}
		if ((m & ~META_ORDER) != META_FREE && (m & ~META_ORDER) != META_ALLOC)
			return false;
		if (order > FRAME_MAX_ORDER || (mfn & (order_frames(order) - 1)) ||
		    fa->nr_frames - mfn < order_frames(order))
			return false;
		for (mfn_t i = 1; i < order_frames(order); i++)
			if (fa->meta[mfn + i] != META_NONE)
				return false;
		if ((m & ~META_ORDER) == META_FREE)
			heads[order]++;
		mfn += order_frames(order);
	}
	for (unsigned k = 0; k < FRAME_NR_ORDERS; k++)
		if (heads[k] != fa->nr_free_blocks[k])
			return false;
	for (mfn_t i = 0; i < fa->meta_frames; i++)
		if (fa->meta[fa->meta_mfn + i] != META_NONE)
			return false;
	return true;
}

int frame_allocator_audit(struct frame_allocator *fa)
{
	uint64_t frames = 0;
	bool ok = true;

	spin_lock(&fa->lock);
	for (unsigned k = 0; ok && k < FRAME_NR_ORDERS; k++)
		ok = audit_free_list_locked(fa, k, &frames);
	ok = ok && frames == fa->nr_free && fa->nr_free <= fa->nr_managed;
	ok = ok && audit_meta_locked(fa);
	spin_unlock(&fa->lock);
	return ok ? 0 : -VIREO_EINVAL;
}

/* ---- the machine's allocator --------------------------------------------- */

int frame_alloc_init(const struct memmap *usable)
{
	return frame_allocator_init(&frame_allocator_global, usable);
}

mfn_t frame_alloc(unsigned order)
{
	return frame_allocator_alloc(&frame_allocator_global, order);
}

void frame_free(mfn_t mfn, unsigned order)
{
	frame_allocator_free(&frame_allocator_global, mfn, order);
}

uint64_t frame_nr_free(void)
{
	return frame_allocator_nr_free(&frame_allocator_global);
}
