/*
 * The descriptor ring's slow paths: attaching a handle and refusing a broken
 * peer. The hot operations are static inline in include/fastpath/ring.h.
 */
#include <fastpath/ring.h>

void ring_shared_init(void *area)
{
	struct vireo_ring_shared *sh = area;

	write_once(&sh->prod, 0);
	write_once(&sh->cons, 0);
	write_once(&sh->prod_event, 1);
	write_once(&sh->cons_event, 1);
	/* The area is handed to the other side afterwards; make the stores visible first. */
	atomic_thread_fence(memory_order_release);
}

/* Common attach: geometry check, then this side's and the other side's index. */
static int ring_attach(struct ring_side *s, void *area, size_t area_bytes, uint32_t slot_size,
		       const uint32_t *mine, const uint32_t *peer, int mine_is_prod)
{
	if (!area || ((uintptr_t)area & (CACHE_LINE - 1)))
		return -VIREO_EINVAL;
	uint32_t nr = vireo_ring_nr_slots(area_bytes, slot_size);
	if (nr == 0)
		return -VIREO_EINVAL;

	uint32_t my_index = read_once(mine);
	uint32_t peer_index = load_acquire(peer);
	uint32_t prod = mine_is_prod ? my_index : peer_index;
	uint32_t cons = mine_is_prod ? peer_index : my_index;
	if (prod - cons > nr)
		return -VIREO_EIO;

	*s = (struct ring_side){
		.sh = area,
		.slots = (uint8_t *)area + VIREO_RING_SLOTS_OFFSET,
		.mask = nr - 1,
		.slot_size = slot_size,
		.mine = my_index,
		.peer = peer_index,
	};
	return (int)nr;
}

int ring_producer_attach(struct ring_producer *p, void *area, size_t area_bytes, uint32_t slot_size)
{
	struct vireo_ring_shared *sh = area;
	if (!area)
		return -VIREO_EINVAL;
	return ring_attach(&p->s, area, area_bytes, slot_size, &sh->prod, &sh->cons, 1);
}

int ring_consumer_attach(struct ring_consumer *c, void *area, size_t area_bytes, uint32_t slot_size)
{
	struct vireo_ring_shared *sh = area;
	if (!area)
		return -VIREO_EINVAL;
	return ring_attach(&c->s, area, area_bytes, slot_size, &sh->cons, &sh->prod, 0);
}

/*
 * The peer published an index that cannot be right. From now on the cached
 * view says "no free slot" (producer) or "no entry" (consumer), so every
 * hot-path call falls through to its refresh branch, which sees err and
 * returns it: the fast path never tests err itself.
 */
static int ring_refuse(struct ring_side *s, uint32_t dead_peer)
{
	s->err = -VIREO_EIO;
	s->peer = dead_peer;
	return s->err;
}

int ring_refuse_producer(struct ring_side *s)
{
	return ring_refuse(s, s->mine - ring_nr_slots(s));
}

int ring_refuse_consumer(struct ring_side *s)
{
	return ring_refuse(s, s->mine);
}
