/*
 * The SPSC descriptor ring (layout: include/public/vireo_ring.h).
 *
 * Each side keeps a private handle. The handle holds this side's index (the
 * shared copy is only ever written, never read back, so the other side cannot
 * move it under us) and the other side's index as last seen and validated. A
 * side reads the other's shared index only when its cached view says it has
 * run out (no free slot for the producer, no entry for the consumer), so in
 * steady state a whole batch costs one shared read and one shared write.
 *
 * Contracts, as the _spsc suffix says: exactly one producer handle and one
 * consumer handle per ring, each used by one thread at a time.
 *
 * Ordering:
 *   producer: write slots ... store_release(prod)   pairs with
 *   consumer: load_acquire(prod) ... read slots
 * and in the other direction
 *   consumer: read slots ... store_release(cons)    pairs with
 *   producer: load_acquire(cons) ... overwrite slots
 * (the consumer's cons store licenses the producer to overwrite, so the slot
 * loads must be finished first: hence release, not relaxed).
 * Notification hold-off is a Dekker handshake (store my index, then load your
 * event; store my event, then load your index); it needs store->load order,
 * which only sequentially consistent accesses give (ring_*_notify_spsc,
 * ring_arm_*_spsc). The plain publish/consume never pay for it.
 *
 * Hostile peers: the other side's index is validated every time it is read.
 * An index claiming more than nr_slots outstanding entries (or a consumer
 * ahead of the producer) is refused: the handle is marked broken and every
 * later call returns -VIREO_EIO; no slot outside the ring is ever addressed,
 * since slot addresses come from this side's own index masked by nr_slots.
 * Entry contents are the caller's to validate; consumers of untrusted rings
 * copy entries out once (ring_copy_out) before looking at them.
 */
#ifndef FASTPATH_RING_H
#define FASTPATH_RING_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <public/vireo_ring.h>
#include <vireo/atomic.h>
#include <vireo/compiler.h>
#include <vireo/errno.h>

struct ring_side {
	struct vireo_ring_shared *sh;
	uint8_t *slots;
	uint32_t mask;          /* nr_slots - 1 */
	uint32_t slot_size;
	uint32_t mine;          /* this side's index: the authority, shared copy is write-only */
	uint32_t peer;          /* other side's index, last validated value */
	int err;                /* 0, or -VIREO_EIO once the peer broke the protocol */
	uint64_t nr_refresh;    /* reads of the shared peer index (cache ran out) */
	uint64_t nr_stall;      /* calls that found the ring full (producer) / empty (consumer) */
};

struct ring_producer { struct ring_side s; };
struct ring_consumer { struct ring_side s; };

/*
 * Set up a fresh shared area: both indices 0, both events 1 (the first entry
 * and the first freed slot notify, as Xen's SHARED_RING_INIT does). Done once
 * by whoever creates the ring, before either side attaches.
 */
void ring_shared_init(void *area);

/*
 * Attach a handle to a ring in area (64-byte aligned, area_bytes long) whose
 * entries are slot_size bytes. The indices found in the area are taken as
 * they are and checked. Returns nr_slots, or -VIREO_EINVAL (bad geometry or
 * alignment) or -VIREO_EIO (indices that cannot both be right).
 */
int ring_producer_attach(struct ring_producer *p, void *area, size_t area_bytes, uint32_t slot_size);
int ring_consumer_attach(struct ring_consumer *c, void *area, size_t area_bytes, uint32_t slot_size);

/* Slow paths: refuse the peer's index; mark the handle broken, return -VIREO_EIO. */
COLD int ring_refuse_producer(struct ring_side *s);
COLD int ring_refuse_consumer(struct ring_side *s);

static inline uint32_t ring_nr_slots(const struct ring_side *s)
{
	return s->mask + 1;
}

/* ---- producer ------------------------------------------------------------- */

/*
 * Slots handed out by one reserve or peek are contiguous in memory: a run
 * stops at the end of the slot array, and the next call goes on from slot 0.
 * So callers index the run as an array (ring_prod_slot(p, first) is the base)
 * and the compiler can keep the pointer in a register and vectorise.
 */
static ALWAYS_INLINE uint32_t ring_until_end(const struct ring_side *s, uint32_t want)
{
	uint32_t to_end = ring_nr_slots(s) - (s->mine & s->mask);
	return want < to_end ? want : to_end;
}

/*
 * Reserve up to want slots. Returns how many (0 when full), or -VIREO_EIO.
 * *first is the index of the first reserved slot; fill the slots through
 * ring_prod_slot(p, *first) (an array of that many entries), then
 * ring_publish_spsc(n). Reserving again before publishing returns the same
 * slots.
 */
static ALWAYS_INLINE int ring_reserve_spsc(struct ring_producer *p, uint32_t want, uint32_t *first)
{
	struct ring_side *s = &p->s;
	uint32_t nr_free = ring_nr_slots(s) - (s->mine - s->peer);

	want = ring_until_end(s, want);
	if (unlikely(nr_free < want)) {
		if (unlikely(s->err))
			return s->err;
		uint32_t cons = load_acquire(&s->sh->cons);
		if (unlikely(s->mine - cons > ring_nr_slots(s)))
			return ring_refuse_producer(s);
		s->peer = cons;
		s->nr_refresh++;
		nr_free = ring_nr_slots(s) - (s->mine - cons);
		if (nr_free < want) {
			want = nr_free;
			s->nr_stall += nr_free == 0;
		}
	}
	*first = s->mine;
	return (int)want;
}

static ALWAYS_INLINE void *ring_prod_slot(struct ring_producer *p, uint32_t idx)
{
	return p->s.slots + (size_t)(idx & p->s.mask) * p->s.slot_size;
}

/* Make n reserved slots visible to the consumer, without notification check. */
static ALWAYS_INLINE void ring_publish_spsc(struct ring_producer *p, uint32_t n)
{
	p->s.mine += n;
	store_release(&p->s.sh->prod, p->s.mine);
}

/*
 * Publish n reserved slots; returns true when the consumer asked to be
 * notified of one of them (its prod_event lies in the published range).
 */
static ALWAYS_INLINE bool ring_publish_notify_spsc(struct ring_producer *p, uint32_t n)
{
	struct ring_side *s = &p->s;
	uint32_t old = s->mine;

	s->mine += n;
	store_seq_cst(&s->sh->prod, s->mine);
	uint32_t event = load_seq_cst(&s->sh->prod_event);
	return s->mine - event < s->mine - old;
}

/*
 * Producer about to wait for space: ask to be notified once at least need
 * slots are free, then look once more. Returns the number of free slots
 * (>= need: do not wait), -VIREO_EINVAL for need outside 1 .. nr_slots, or
 * -VIREO_EIO.
 */
static inline int ring_arm_producer_spsc(struct ring_producer *p, uint32_t need)
{
	struct ring_side *s = &p->s;

	if (unlikely(s->err))
		return s->err;
	if (unlikely(need == 0 || need > ring_nr_slots(s)))
		return -VIREO_EINVAL;
	store_seq_cst(&s->sh->cons_event, s->mine - ring_nr_slots(s) + need);
	uint32_t cons = load_seq_cst(&s->sh->cons);
	if (unlikely(s->mine - cons > ring_nr_slots(s)))
		return ring_refuse_producer(s);
	s->peer = cons;
	return (int)(ring_nr_slots(s) - (s->mine - cons));
}

/* ---- consumer ------------------------------------------------------------- */

/*
 * Look at up to want filled slots. Returns how many (0 when empty), or
 * -VIREO_EIO. *first is the index of the first; they are contiguous, read
 * them through ring_cons_slot(c, *first) or ring_copy_out(), then
 * ring_consume_spsc(n).
 */
static ALWAYS_INLINE int ring_peek_spsc(struct ring_consumer *c, uint32_t want, uint32_t *first)
{
	struct ring_side *s = &c->s;
	uint32_t avail = s->peer - s->mine;

	want = ring_until_end(s, want);
	if (unlikely(avail < want)) {
		if (unlikely(s->err))
			return s->err;
		uint32_t prod = load_acquire(&s->sh->prod);
		if (unlikely(prod - s->mine > ring_nr_slots(s)))
			return ring_refuse_consumer(s);
		s->peer = prod;
		s->nr_refresh++;
		avail = prod - s->mine;
		if (avail < want) {
			want = avail;
			s->nr_stall += avail == 0;
		}
	}
	*first = s->mine;
	return (int)want;
}

static ALWAYS_INLINE const void *ring_cons_slot(const struct ring_consumer *c, uint32_t idx)
{
	return c->s.slots + (size_t)(idx & c->s.mask) * c->s.slot_size;
}

/* Copy n peeked entries, starting at index first, out of the ring into dst, once. */
static inline void ring_copy_out(const struct ring_consumer *c, uint32_t first, uint32_t n, void *dst)
{
	__builtin_memcpy(dst, ring_cons_slot(c, first), (size_t)n * c->s.slot_size);
}

/* Hand n peeked slots back to the producer, without notification check. */
static ALWAYS_INLINE void ring_consume_spsc(struct ring_consumer *c, uint32_t n)
{
	c->s.mine += n;
	store_release(&c->s.sh->cons, c->s.mine);
}

/*
 * Hand n slots back; returns true when the producer asked to be notified of
 * free space in that range (its cons_event lies in it).
 */
static ALWAYS_INLINE bool ring_consume_notify_spsc(struct ring_consumer *c, uint32_t n)
{
	struct ring_side *s = &c->s;
	uint32_t old = s->mine;

	s->mine += n;
	store_seq_cst(&s->sh->cons, s->mine);
	uint32_t event = load_seq_cst(&s->sh->cons_event);
	return s->mine - event < s->mine - old;
}

/*
 * Consumer about to sleep: ask to be notified of the next entry, then look
 * once more (Xen's RING_FINAL_CHECK_FOR_REQUESTS). Returns the number of
 * entries that arrived meanwhile (> 0: do not sleep), 0 (armed: sleep), or
 * -VIREO_EIO.
 */
static inline int ring_arm_consumer_spsc(struct ring_consumer *c)
{
	struct ring_side *s = &c->s;

	if (unlikely(s->err))
		return s->err;
	store_seq_cst(&s->sh->prod_event, s->mine + 1);
	uint32_t prod = load_seq_cst(&s->sh->prod);
	if (unlikely(prod - s->mine > ring_nr_slots(s)))
		return ring_refuse_consumer(s);
	s->peer = prod;
	return (int)(prod - s->mine);
}

#endif
