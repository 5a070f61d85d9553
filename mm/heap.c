/*
 * The hypervisor heap (include/mm/heap.h).
 *
 * Every frame the heap holds starts with a 64-byte header whose first word is
 * a magic number saying what the frame is:
 *
 *   small page (HEAP_PAGE_MAGIC): struct heap_page, then capacity objects of
 *       one size class packed after it. A free object holds the free-list
 *       link and a tag (its address scrambled with HEAP_FREE_TAG), so freeing
 *       it again is caught; an allocated object never carries its tag (it is
 *       cleared on allocation).
 *   large block (HEAP_BIG_MAGIC): struct heap_big, then the object; the
 *       block is 2^order frames from the frame allocator.
 *
 * So heap_free() finds the header from the pointer alone: round down to the
 * frame (an object never straddles a small page; a large object starts 64
 * bytes into its first frame).
 *
 * Page lists: h->partial[c] holds the pages of class c with a free object. A
 * page that becomes full leaves the list; one that becomes all free goes back
 * to the frame allocator unless it is the only page on its list (keeping one
 * avoids taking and returning a frame on every alloc/free pair).
 */
#include <mm/heap.h>
#include <vireo/assert.h>
#include <vireo/compiler.h>

#define HEAP_PAGE_MAGIC 0x31504856u   /* "VHP1" */
#define HEAP_BIG_MAGIC  0x31424856u   /* "VHB1" */
#define HEAP_HDR_SIZE   64
#define HEAP_FREE_TAG   0x9e3779b97f4a7c15ull

/*
 * The classes: multiples of 16 up to 128, then sizes chosen so that the
 * objects fill the 4032 bytes after the header with little left over (496 x 8,
 * 576 x 7, ..., 2016 x 2); 2048 fits once.
 */
static const uint16_t heap_class_size[] = {
	16, 32, 48, 64, 80, 96, 112, 128, 160, 192, 224, 256,
	320, 384, 448, 496, 576, 672, 800, 1008, 1344, 2016, 2048,
};

compile_assert(ARRAY_SIZE(heap_class_size) == HEAP_NR_CLASSES, "class table size");

/* Header of a small-object page; guarded by the owning heap's lock. */
struct heap_page {
	uint32_t magic;
	uint16_t class;                 /* index into heap_class_size[] */
	uint16_t nr_free;
	struct heap *heap;              /* owner; read-only while the page lives */
	struct heap_object *free;       /* free objects of this page */
	struct heap_page *next, *prev;  /* on heap->partial[class] while nr_free > 0 */
};

/* Header of a large allocation; owned by whoever holds the object. */
struct heap_big {
	uint32_t magic;
	uint32_t order;
	struct heap *heap;
};

/* A free small object. Classes are at least 16 bytes, so both words fit. */
struct heap_object {
	struct heap_object *next;
	uint64_t tag;
};

compile_assert(sizeof(struct heap_page) <= HEAP_HDR_SIZE, "small page header fits");
compile_assert(sizeof(struct heap_big) <= HEAP_HDR_SIZE, "large block header fits");
compile_assert(HEAP_HDR_SIZE % HEAP_ALIGN == 0, "objects stay aligned");

static struct heap heap_global = HEAP_INIT(&frame_allocator_global);

static inline uint64_t heap_free_tag(const struct heap_object *o)
{
	return HEAP_FREE_TAG ^ (uint64_t)(uintptr_t)o;
}

static inline unsigned heap_capacity(unsigned class)
{
	return (PAGE_SIZE - HEAP_HDR_SIZE) / heap_class_size[class];
}

/* Smallest class holding size bytes (size <= HEAP_SMALL_MAX). */
static unsigned heap_class_of(size_t size)
{
	unsigned c = 0;

	while (heap_class_size[c] < size)
		c++;
	return c;
}

void heap_init(struct heap *h, struct frame_allocator *fa)
{
	spin_lock_init(&h->lock);
	h->frames = fa;
	for (unsigned c = 0; c < HEAP_NR_CLASSES; c++)
		h->partial[c] = NULL;
	h->nr_pages = 0;
}

/* ---- small objects (caller holds h->lock) -------------------------------- */

static void heap_partial_push_locked(struct heap *h, struct heap_page *pg)
{
	struct heap_page *head = h->partial[pg->class];

	pg->prev = NULL;
	pg->next = head;
	if (head)
		head->prev = pg;
	h->partial[pg->class] = pg;
}

static void heap_partial_unlink_locked(struct heap *h, struct heap_page *pg)
{
	if (pg->prev)
		pg->prev->next = pg->next;
	else
		h->partial[pg->class] = pg->next;
	if (pg->next)
		pg->next->prev = pg->prev;
	pg->next = pg->prev = NULL;
}

/* Take a frame and make it a page of free objects of class c, on its list. */
static struct heap_page *heap_page_new_locked(struct heap *h, unsigned c)
{
	mfn_t mfn = frame_allocator_alloc(h->frames, 0);
	if (mfn == INVALID_MFN)
		return NULL;

	struct heap_page *pg = mfn_to_virt(mfn);
	unsigned size = heap_class_size[c], cap = heap_capacity(c);
	uint8_t *objs = (uint8_t *)pg + HEAP_HDR_SIZE;

	pg->magic = HEAP_PAGE_MAGIC;
	pg->class = (uint16_t)c;
	pg->nr_free = (uint16_t)cap;
	pg->heap = h;
	pg->free = NULL;
	/* Build the list backwards so objects are handed out in address order. */
	for (unsigned i = cap; i-- > 0;) {
		struct heap_object *o = (struct heap_object *)(objs + i * size);
		o->next = pg->free;
		o->tag = heap_free_tag(o);
		pg->free = o;
	}
	heap_partial_push_locked(h, pg);
	h->nr_pages++;
	return pg;
}

/* pg holds no object: off its list and back to the frame allocator. */
static void heap_page_release_locked(struct heap *h, struct heap_page *pg)
{
	heap_partial_unlink_locked(h, pg);
	pg->magic = 0;
	h->nr_pages--;
	frame_allocator_free(h->frames, virt_to_mfn(pg), 0);
}

static void *heap_alloc_small(struct heap *h, size_t size)
{
	unsigned c = heap_class_of(size);

	spin_lock(&h->lock);
	struct heap_page *pg = h->partial[c];
	if (!pg)
		pg = heap_page_new_locked(h, c);
	if (!pg) {
		spin_unlock(&h->lock);
		return NULL;
	}
	struct heap_object *o = pg->free;
	ASSERT(o && pg->nr_free > 0);
	/* A broken tag means someone wrote to a free object. */
	ASSERT(o->tag == heap_free_tag(o));
	pg->free = o->next;
	o->tag = 0;
	if (--pg->nr_free == 0)
		heap_partial_unlink_locked(h, pg);
	spin_unlock(&h->lock);
	return o;
}

/* Check that p is an object boundary of pg (not a stray or interior pointer). */
static void heap_check_small(struct heap *h, struct heap_page *pg, const void *p)
{
	ASSERT(pg->heap == h);
	ASSERT(pg->class < HEAP_NR_CLASSES);
	size_t off = (size_t)((const uint8_t *)p - (const uint8_t *)pg) - HEAP_HDR_SIZE;
	size_t size = heap_class_size[pg->class];
	ASSERT((const uint8_t *)p >= (const uint8_t *)pg + HEAP_HDR_SIZE);
	ASSERT(off % size == 0 && off / size < heap_capacity(pg->class));
}

static void heap_free_small(struct heap *h, struct heap_page *pg, void *p)
{
	struct heap_object *o = p;

	spin_lock(&h->lock);
	heap_check_small(h, pg, p);
	ASSERT(o->tag != heap_free_tag(o));	/* double free */
	o->next = pg->free;
	o->tag = heap_free_tag(o);
	pg->free = o;
	pg->nr_free++;
	if (pg->nr_free == 1)
		heap_partial_push_locked(h, pg);
	if (pg->nr_free == heap_capacity(pg->class) &&
	    (h->partial[pg->class] != pg || pg->next))
		heap_page_release_locked(h, pg);
	spin_unlock(&h->lock);
}

/* ---- large objects (no heap lock: the header belongs to the object) ------ */

static void *heap_alloc_big(struct heap *h, size_t size)
{
	size_t max = (PAGE_SIZE << FRAME_MAX_ORDER) - HEAP_HDR_SIZE;
	unsigned order = 0;

	if (size > max)
		return NULL;
	while ((PAGE_SIZE << order) < size + HEAP_HDR_SIZE)
		order++;

	mfn_t mfn = frame_allocator_alloc(h->frames, order);
	if (mfn == INVALID_MFN)
		return NULL;
	struct heap_big *b = mfn_to_virt(mfn);
	b->magic = HEAP_BIG_MAGIC;
	b->order = order;
	b->heap = h;
	return (uint8_t *)b + HEAP_HDR_SIZE;
}

static void heap_free_big(struct heap *h, struct heap_big *b)
{
	ASSERT(b->heap == h);
	/* frame_allocator_free checks the order against its own metadata. */
	b->magic = 0;
	frame_allocator_free(h->frames, virt_to_mfn(b), b->order);
}

/* ---- entry points -------------------------------------------------------- */

void *heap_alloc(struct heap *h, size_t size)
{
	if (size <= HEAP_SMALL_MAX)
		return heap_alloc_small(h, size);
	return heap_alloc_big(h, size);
}

void *heap_zalloc(struct heap *h, size_t size)
{
	void *p = heap_alloc(h, size);

	if (p)
		__builtin_memset(p, 0, size);
	return p;
}

/*
 * The header of the frame holding p: a struct heap_big when p is a large
 * object (*big set), else a struct heap_page. Anything else stops here.
 */
static void *heap_header_of(const void *p, int *big)
{
	mfn_t mfn = virt_to_mfn(p);
	ASSERT(mfn != INVALID_MFN);	/* not even machine memory */

	uint8_t *frame = mfn_to_virt(mfn);
	uint32_t magic = *(uint32_t *)frame;
	*big = magic == HEAP_BIG_MAGIC;
	if (*big)
		ASSERT((const uint8_t *)p == frame + HEAP_HDR_SIZE);
	else
		ASSERT(magic == HEAP_PAGE_MAGIC);
	return frame;
}

void heap_free(struct heap *h, void *p)
{
	int big;

	if (!p)
		return;
	void *hdr = heap_header_of(p, &big);
	if (big)
		heap_free_big(h, hdr);
	else
		heap_free_small(h, hdr, p);
}

size_t heap_usable_size(struct heap *h, const void *p)
{
	int big;
	void *hdr = heap_header_of(p, &big);

	if (big) {
		struct heap_big *b = hdr;
		ASSERT(b->heap == h);
		return (PAGE_SIZE << b->order) - HEAP_HDR_SIZE;
	}
	/* The class of a page that holds a live object does not change. */
	spin_lock(&h->lock);
	heap_check_small(h, hdr, p);
	size_t size = heap_class_size[((struct heap_page *)hdr)->class];
	spin_unlock(&h->lock);
	return size;
}

void heap_trim(struct heap *h)
{
	spin_lock(&h->lock);
	for (unsigned c = 0; c < HEAP_NR_CLASSES; c++) {
		struct heap_page *pg = h->partial[c], *next;
		for (; pg; pg = next) {
			next = pg->next;
			if (pg->nr_free == heap_capacity(c))
				heap_page_release_locked(h, pg);
		}
	}
	spin_unlock(&h->lock);
}

/* ---- the machine's heap -------------------------------------------------- */

void *xmalloc(size_t size)
{
	return heap_alloc(&heap_global, size);
}

void *xzalloc(size_t size)
{
	return heap_zalloc(&heap_global, size);
}

void xfree(void *p)
{
	heap_free(&heap_global, p);
}
