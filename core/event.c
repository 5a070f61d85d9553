/*
 * Event channels (include/core/event.h): Xen's EVTCHNOP_* on the 2-level
 * ABI, the one-shot timer (set_timer_op, VIRQ_TIMER) and SCHEDOP_block.
 *
 * Errnos follow Xen 4.17's common/event_channel.c: a port out of range or
 * closed is -EINVAL, a vCPU the domain does not have -ENOENT (a global
 * VIRQ on a vCPU other than 0 -EINVAL), a VIRQ bound twice -EEXIST, no
 * free port -ENOSPC, an unknown domain -ESRCH, a peer port that is not
 * unbound for us -EINVAL. FIFO event channels are
 * not offered (-ENOSYS: guests fall back to 2-level), nor physical IRQs.
 */
#include <core/domain.h>
#include <core/event.h>
#include <core/hypercall.h>
#include <mm/heap.h>
#include <public/event_channel.h>
#include <public/sched.h>
#include <public/vcpu.h>
#include <public/xen.h>
#include <vireo/errno.h>
#include <vireo/machine.h>

/* ---- the 2-level pending state (shared with the guest: atomics only) ----------- */

static bool test_and_set(xen_ulong_t *words, unsigned bit)
{
	xen_ulong_t m = 1ull << (bit % 64);
	return __atomic_fetch_or(&words[bit / 64], m, __ATOMIC_SEQ_CST) & m;
}

static bool test(const xen_ulong_t *words, unsigned bit)
{
	return __atomic_load_n(&words[bit / 64], __ATOMIC_SEQ_CST) & (1ull << (bit % 64));
}

static void clear(xen_ulong_t *words, unsigned bit)
{
	__atomic_fetch_and(&words[bit / 64], ~(1ull << (bit % 64)), __ATOMIC_SEQ_CST);
}

static struct shared_info *shared(struct domain *d)
{
	return mfn_to_virt(d->shared_info_mfn);
}

/*
 * The vCPU a port notifies. Its notify_vcpu is read without the owner's
 * lock (a send holds the sender's): bind_vcpu may move it meanwhile, and
 * then either vCPU is told, as on Xen. A port out of range or closed
 * tells vCPU 0 (EVTCHNOP_unmask of any port is allowed).
 */
static struct vcpu *notify_vcpu(struct domain *d, unsigned port)
{
	struct evtchn *ports = __atomic_load_n(&d->ev.port, __ATOMIC_ACQUIRE);
	unsigned v = ports && port < EVTCHN_PORTS ? __atomic_load_n(&ports[port].notify_vcpu, __ATOMIC_RELAXED) : 0;
	return v < d->nr_vcpus ? d->vcpu[v] : d->vcpu[0];
}

/* The word's selector bit and the upcall flag of the port's vCPU, and a kick when the upcall is new. */
static void mark_pending(struct domain *d, unsigned port)
{
	struct vcpu *v = notify_vcpu(d, port);
	struct vcpu_info *vi = vcpu_info_of(v);
	if (test_and_set(&vi->evtchn_pending_sel, port / 64))
		return;
	if (!__atomic_exchange_n(&vi->evtchn_upcall_pending, 1, __ATOMIC_SEQ_CST))
		vcpu_kick(v);
}

/*
 * Wake d's vCPUs in SCHEDOP_poll: a port became pending, or an upcall
 * became due (whichever: they look again). Callers test d->ev.pollers
 * first, so the send path pays one load when nobody polls.
 */
static void wake_pollers(struct domain *d)
{
	for (unsigned i = 0; i < d->nr_vcpus; i++) {
		struct vcpu *v = d->vcpu[i];
		if (__atomic_load_n(&v->ev.polling, __ATOMIC_SEQ_CST)) {
			__atomic_store_n(&v->ev.poll_wake, 1, __ATOMIC_SEQ_CST);
			vcpu_kick(v);
		}
	}
}

/* Xen's evtchn_2l_set_pending (and its poll_mask wake-up). */
static void set_pending(struct domain *d, unsigned port)
{
	struct shared_info *sh = shared(d);
	if (test_and_set(sh->evtchn_pending, port))
		return;
	if (!test(sh->evtchn_mask, port))
		mark_pending(d, port);
	if (unlikely(__atomic_load_n(&d->ev.pollers, __ATOMIC_SEQ_CST)))
		wake_pollers(d);
}

/* ---- ports --------------------------------------------------------------------------- */

static void lock_two(struct domain *a, struct domain *b)
{
	if (a == b) {
		spin_lock(&a->ev.lock);
		return;
	}
	struct domain *first = a->domid < b->domid ? a : b;
	spin_lock(&first->ev.lock);
	spin_lock(&(first == a ? b : a)->ev.lock);
}

static void unlock_two(struct domain *a, struct domain *b)
{
	spin_unlock(&a->ev.lock);
	if (a != b)
		spin_unlock(&b->ev.lock);
}

/* The domain's port table, made on first use: 0 or -VIREO_ENOMEM (lock held). */
static int ports_ready(struct domain *d)
{
	if (d->ev.port)
		return 0;
	struct evtchn *ports = xmalloc(EVTCHN_PORTS * sizeof(struct evtchn));
	if (!ports)
		return -VIREO_ENOMEM;
	__builtin_memset(ports, 0, EVTCHN_PORTS * sizeof(struct evtchn));
	__atomic_store_n(&d->ev.port, ports, __ATOMIC_RELEASE);     /* notify_vcpu reads it unlocked */
	return 0;
}

/* A port in use, or NULL (lock held). */
static struct evtchn *port_of(struct domain *d, uint32_t port)
{
	if (!d->ev.port || port == 0 || port >= EVTCHN_PORTS || d->ev.port[port].state == EVTCHNSTAT_closed)
		return NULL;
	return &d->ev.port[port];
}

/* The lowest free port, or -VIREO_ENOSPC / -VIREO_ENOMEM (lock held). */
static long port_alloc(struct domain *d)
{
	int rc = ports_ready(d);
	if (rc)
		return rc;
	for (uint32_t p = 1; p < EVTCHN_PORTS; p++)
		if (d->ev.port[p].state == EVTCHNSTAT_closed) {
			clear(shared(d)->evtchn_pending, p);     /* a fresh port starts quiet */
			return p;
		}
	return -VIREO_ENOSPC;
}

/*
 * The domain a request names (alloc_unbound's remote_dom, bind_interdomain's
 * remote_dom): DOMID_SELF or an id; NULL when there is none running.
 */
static struct domain *named_domain(struct domain *self, uint16_t domid)
{
	if (domid == DOMID_SELF || domid == self->domid)
		return self;
	struct domain *d = domain_by_id(domid);
	return d && domain_is_live(d) ? d : NULL;
}

/* Close port p of d, both locks (d's and an interdomain peer's) held. */
static void close_locked(struct domain *d, uint32_t p)
{
	struct evtchn *c = &d->ev.port[p];
	if (c->state == EVTCHNSTAT_virq) {
		/* Bound on notify_vcpu, or on vCPU 0 for a global VIRQ moved by bind_vcpu. */
		for (unsigned v = 0; v < d->nr_vcpus; v++)
			if (d->vcpu[v]->ev.virq_port[c->virq] == p)
				d->vcpu[v]->ev.virq_port[c->virq] = 0;
	}
	if (c->state == EVTCHNSTAT_interdomain) {
		struct domain *peer = domain_by_id(c->remote_dom);
		struct evtchn *r = &peer->ev.port[c->remote_port];
		/* The peer's end waits for us again, as Xen's. */
		r->state = EVTCHNSTAT_unbound;
		r->remote_dom = (uint16_t)d->domid;
		r->remote_port = 0;
	}
	*c = (struct evtchn){ 0 };
	clear(shared(d)->evtchn_pending, p);
}

/*
 * Close a port: an interdomain one needs the peer's lock too, taken in
 * order; the port may change while ours is dropped, so look again.
 */
static long evtchn_close(struct domain *d, uint32_t p)
{
	for (;;) {
		spin_lock(&d->ev.lock);
		struct evtchn *c = port_of(d, p);
		if (!c) {
			spin_unlock(&d->ev.lock);
			return -VIREO_EINVAL;
		}
		if (c->state != EVTCHNSTAT_interdomain || c->remote_dom == d->domid) {
			close_locked(d, p);
			spin_unlock(&d->ev.lock);
			return 0;
		}
		struct domain *peer = domain_by_id(c->remote_dom);
		uint32_t rport = c->remote_port;
		spin_unlock(&d->ev.lock);
		lock_two(d, peer);
		c = port_of(d, p);
		bool same = c && c->state == EVTCHNSTAT_interdomain && c->remote_dom == peer->domid &&
			    c->remote_port == rport;
		if (same)
			close_locked(d, p);
		unlock_two(d, peer);
		if (same)
			return 0;
	}
}

static long alloc_unbound(struct domain *d, struct evtchn_alloc_unbound *a)
{
	if (a->dom != DOMID_SELF && a->dom != d->domid)
		return -VIREO_EPERM;              /* ports in another domain: the toolstack's, not here */
	/* remote_dom is not looked up (as Xen): the binding side is checked against it. */
	spin_lock(&d->ev.lock);
	long p = port_alloc(d);
	if (p > 0) {
		d->ev.port[p] = (struct evtchn){ .state = EVTCHNSTAT_unbound,
			.remote_dom = a->remote_dom == DOMID_SELF ? (uint16_t)d->domid : a->remote_dom };
		a->port = (uint32_t)p;
	}
	spin_unlock(&d->ev.lock);
	return p < 0 ? p : 0;
}

static long bind_interdomain(struct domain *d, struct evtchn_bind_interdomain *b)
{
	struct domain *peer = named_domain(d, b->remote_dom);
	long rc = -VIREO_EINVAL;

	if (!peer)
		return -VIREO_ESRCH;
	lock_two(d, peer);
	struct evtchn *r = port_of(peer, b->remote_port);
	if (r && r->state == EVTCHNSTAT_unbound && r->remote_dom == d->domid) {
		rc = port_alloc(d);
		if (rc > 0) {
			uint32_t p = (uint32_t)rc;
			r = &peer->ev.port[b->remote_port];       /* port_alloc may have made d's table */
			d->ev.port[p] = (struct evtchn){ .state = EVTCHNSTAT_interdomain,
				.remote_dom = (uint16_t)peer->domid, .remote_port = b->remote_port };
			r->state = EVTCHNSTAT_interdomain;
			r->remote_dom = (uint16_t)d->domid;
			r->remote_port = p;
			b->local_port = p;
			set_pending(d, p);                        /* as Xen: the new port starts pending */
			rc = 0;
		}
	}
	unlock_two(d, peer);
	return rc;
}

/* Xen's virq_is_global (x86: every VIRQ_ARCH_* too): bound once, on vCPU 0, and movable. */
static bool virq_is_global(uint32_t virq)
{
	return virq != VIRQ_TIMER && virq != VIRQ_DEBUG && virq != VIRQ_XENOPROF && virq != VIRQ_XENPMU;
}

static long bind_virq(struct domain *d, struct evtchn_bind_virq *b)
{
	if (b->virq >= NR_VIRQS)
		return -VIREO_EINVAL;
	if (virq_is_global(b->virq) && b->vcpu != 0)
		return -VIREO_EINVAL;
	if (b->vcpu >= d->nr_vcpus)
		return -VIREO_ENOENT;
	struct vcpu *v = d->vcpu[b->vcpu];
	spin_lock(&d->ev.lock);
	long p = v->ev.virq_port[b->virq] ? -VIREO_EEXIST : port_alloc(d);
	if (p > 0) {
		d->ev.port[p] = (struct evtchn){ .state = EVTCHNSTAT_virq, .virq = b->virq,
						 .notify_vcpu = (uint8_t)b->vcpu };
		v->ev.virq_port[b->virq] = (uint32_t)p;
		b->port = (uint32_t)p;
	}
	spin_unlock(&d->ev.lock);
	return p < 0 ? p : 0;
}

static long bind_ipi(struct domain *d, struct evtchn_bind_ipi *b)
{
	if (b->vcpu >= d->nr_vcpus)
		return -VIREO_ENOENT;
	spin_lock(&d->ev.lock);
	long p = port_alloc(d);
	if (p > 0) {
		d->ev.port[p] = (struct evtchn){ .state = EVTCHNSTAT_ipi, .notify_vcpu = (uint8_t)b->vcpu };
		b->port = (uint32_t)p;
	}
	spin_unlock(&d->ev.lock);
	return p < 0 ? p : 0;
}

/*
 * Xen's evtchn_bind_vcpu: the vCPU is looked at first (-ENOENT), then the
 * port; an IPI or per-vCPU VIRQ port stays on its vCPU (-EINVAL). What is
 * pending on it now stays with the old vCPU's selector (Xen's 2-level ABI
 * does the same); new events go to the new one.
 */
static long bind_vcpu(struct domain *d, const struct evtchn_bind_vcpu *b)
{
	if (b->vcpu >= d->nr_vcpus)
		return -VIREO_ENOENT;
	spin_lock(&d->ev.lock);
	struct evtchn *c = port_of(d, b->port);
	long rc = 0;
	if (!c || c->state == EVTCHNSTAT_ipi || (c->state == EVTCHNSTAT_virq && !virq_is_global(c->virq)))
		rc = -VIREO_EINVAL;
	else
		__atomic_store_n(&c->notify_vcpu, (uint8_t)b->vcpu, __ATOMIC_RELAXED);
	spin_unlock(&d->ev.lock);
	return rc;
}

/*
 * The fast path: notify the other end. The peer's port stays connected
 * while we hold our lock (closing it takes ours), so its domain is alive.
 */
static long evtchn_send(struct domain *d, uint32_t p)
{
	long rc = 0;
	spin_lock(&d->ev.lock);
	struct evtchn *c = port_of(d, p);
	if (!c)
		rc = -VIREO_EINVAL;
	else if (c->state == EVTCHNSTAT_interdomain)
		set_pending(domain_by_id(c->remote_dom), c->remote_port);
	else if (c->state == EVTCHNSTAT_ipi)
		set_pending(d, p);
	else if (c->state != EVTCHNSTAT_unbound)
		rc = -VIREO_EINVAL;               /* a VIRQ port is the hypervisor's to raise */
	/* unbound: nobody to tell, dropped as on Xen */
	if (rc == 0)
		d->ev.sent++;
	spin_unlock(&d->ev.lock);
	return rc;
}

static long evtchn_status(struct domain *d, struct evtchn_status *s)
{
	if (s->dom != DOMID_SELF && s->dom != d->domid)
		return d->privileged ? -VIREO_EOPNOTSUPP : -VIREO_EPERM;
	if (s->port >= EVTCHN_PORTS)
		return -VIREO_EINVAL;                 /* port 0 is valid, and closed (Xen) */
	spin_lock(&d->ev.lock);
	static const struct evtchn closed;
	const struct evtchn *c = d->ev.port ? &d->ev.port[s->port] : &closed;
	long rc = 0;
	{
		s->status = c->state;
		s->vcpu = c->notify_vcpu;
		s->u.raw._output1 = s->u.raw._output2 = 0;
		if (c->state == EVTCHNSTAT_unbound)
			s->u.unbound.dom = c->remote_dom;
		else if (c->state == EVTCHNSTAT_interdomain) {
			s->u.interdomain.dom = c->remote_dom;
			s->u.interdomain.port = c->remote_port;
		} else if (c->state == EVTCHNSTAT_virq)
			s->u.virq = c->virq;
	}
	spin_unlock(&d->ev.lock);
	return rc;
}

/* Xen's evtchn_2l_unmask: a port pending under its mask raises the upcall now. */
static long evtchn_unmask(struct domain *d, uint32_t p)
{
	if (p >= EVTCHN_PORTS)
		return -VIREO_EINVAL;
	struct shared_info *sh = shared(d);
	xen_ulong_t m = 1ull << (p % 64);
	bool was_masked = __atomic_fetch_and(&sh->evtchn_mask[p / 64], ~m, __ATOMIC_SEQ_CST) & m;
	if (was_masked && test(sh->evtchn_pending, p)) {
		mark_pending(d, p);
		if (unlikely(__atomic_load_n(&d->ev.pollers, __ATOMIC_SEQ_CST)))
			wake_pollers(d);                   /* an upcall due ends a poll, as on Xen */
	}
	return 0;
}

static long evtchn_reset(struct domain *d, uint16_t dom)
{
	if (dom != DOMID_SELF && dom != d->domid)
		return d->privileged ? -VIREO_EOPNOTSUPP : -VIREO_EPERM;
	for (uint32_t p = 1; p < EVTCHN_PORTS && d->ev.port; p++)
		(void)evtchn_close(d, p);
	return 0;
}

/* Each command's argument size (0: none known). */
static unsigned arg_size(uint64_t cmd)
{
	switch (cmd) {
	case EVTCHNOP_bind_interdomain: return sizeof(struct evtchn_bind_interdomain);
	case EVTCHNOP_bind_virq:        return sizeof(struct evtchn_bind_virq);
	case EVTCHNOP_close:            return sizeof(struct evtchn_close);
	case EVTCHNOP_send:             return sizeof(struct evtchn_send);
	case EVTCHNOP_status:           return sizeof(struct evtchn_status);
	case EVTCHNOP_alloc_unbound:    return sizeof(struct evtchn_alloc_unbound);
	case EVTCHNOP_bind_ipi:         return sizeof(struct evtchn_bind_ipi);
	case EVTCHNOP_bind_vcpu:        return sizeof(struct evtchn_bind_vcpu);
	case EVTCHNOP_unmask:           return sizeof(struct evtchn_unmask);
	case EVTCHNOP_reset:            return sizeof(struct evtchn_reset);
	default:                        return 0;
	}
}

long do_event_channel_op(uint64_t cmd, uint64_t arg)
{
	struct domain *d = current_domain;
	union {
		struct evtchn_bind_interdomain bi;
		struct evtchn_bind_virq bv;
		struct evtchn_close cl;
		struct evtchn_send se;
		struct evtchn_status st;
		struct evtchn_alloc_unbound au;
		struct evtchn_bind_ipi ip;
		struct evtchn_bind_vcpu bc;
		struct evtchn_unmask um;
		struct evtchn_reset rs;
	} u;
	unsigned size = arg_size(cmd);
	long rc;

	if (cmd == EVTCHNOP_bind_pirq)
		return d->privileged ? -VIREO_EOPNOTSUPP : -VIREO_EPERM;   /* no physical IRQs */
	if (!size)
		return -VIREO_ENOSYS;              /* FIFO (init_control...) and unknown commands */
	if (copy_from_guest(&u, arg, size))
		return -VIREO_EFAULT;
	switch (cmd) {
	case EVTCHNOP_bind_interdomain: rc = bind_interdomain(d, &u.bi); break;
	case EVTCHNOP_bind_virq:        rc = bind_virq(d, &u.bv); break;
	case EVTCHNOP_close:            return evtchn_close(d, u.cl.port);
	case EVTCHNOP_send:             return evtchn_send(d, u.se.port);
	case EVTCHNOP_status:           rc = evtchn_status(d, &u.st); break;
	case EVTCHNOP_alloc_unbound:    rc = alloc_unbound(d, &u.au); break;
	case EVTCHNOP_bind_ipi:         rc = bind_ipi(d, &u.ip); break;
	case EVTCHNOP_bind_vcpu:        return bind_vcpu(d, &u.bc);
	case EVTCHNOP_unmask:           return evtchn_unmask(d, u.um.port);
	default:                        return evtchn_reset(d, u.rs.dom);
	}
	/*
	 * The OUT fields. A port was allocated: if the guest cannot take the
	 * answer, Xen leaves the port allocated too (the guest can find it with
	 * status); so do we.
	 */
	if (rc == 0 && copy_to_guest(arg, &u, size))
		return -VIREO_EFAULT;
	return rc;
}

/* ---- virtual IRQs, the timer, blocking ----------------------------------------------- */

/* Raise virq on vCPU v (a global one: on vCPU 0, where it is bound). */
static void send_vcpu_virq(struct vcpu *v, unsigned virq)
{
	struct domain *d = v->d;
	spin_lock(&d->ev.lock);
	uint32_t p = virq < NR_VIRQS ? v->ev.virq_port[virq] : 0;
	if (p) {
		set_pending(d, p);
		d->ev.raised++;
	}
	spin_unlock(&d->ev.lock);
}

void evtchn_send_virq(struct domain *d, unsigned virq)
{
	send_vcpu_virq(d->vcpu[0], virq);
}

/*
 * A vCPU's timers, both raising its VIRQ_TIMER: the single-shot one
 * (set_timer_op, VCPUOP_set_singleshot_timer) and a periodic one
 * (VCPUOP_set_periodic_timer; Xen starts PV vCPUs with one of 10 ms,
 * Vireo with none). The APIC timer of the CPU it runs on is armed for the
 * earlier; they are the current vCPU's, which is the only one on its CPU.
 */
static void timer_arm(struct vcpu *v)
{
	uint64_t next = v->ev.timer_ns;
	if (v->ev.period_ns && (!next || v->ev.periodic_next_ns < next))
		next = v->ev.periodic_next_ns;
	if (v->ev.poll_ns && (!next || v->ev.poll_ns < next))
		next = v->ev.poll_ns;
	machine_timer_at_ns(next);
}

/* A single-shot deadline: one already past fires at once. */
static void singleshot_set(struct vcpu *v, uint64_t timeout, uint64_t now)
{
	v->ev.timer_ns = timeout;
	if (timeout && timeout <= now) {
		v->ev.timer_ns = 0;
		send_vcpu_virq(v, VIRQ_TIMER);  /* already due: at once, as Xen */
	}
	timer_arm(v);
}

long do_set_timer_op(uint64_t timeout)
{
	uint64_t now = machine_now_ns();
	/* Negative, or more than 2^50 ns (13 days) ahead: in 100 ms instead, as Xen. */
	if ((int64_t)timeout < 0 || (timeout > now && (timeout - now) >> 50))
		timeout = now + 100000000ull;
	singleshot_set(current_vcpu, timeout, now);
	return 0;
}

long evtchn_vcpu_timer_op(unsigned cmd, uint64_t value, uint32_t flags)
{
	struct vcpu *v = current_vcpu;
	uint64_t now = machine_now_ns();

	switch (cmd) {
	case VCPUOP_set_singleshot_timer:
		/* As Xen 4.17: a time already past (0 and "negative" ones too) fires at once. */
		if ((int64_t)value <= (int64_t)now) {
			if (flags & VCPU_SSHOTTMR_future)
				return -VIREO_ETIME;
			v->ev.timer_ns = 0;
			send_vcpu_virq(v, VIRQ_TIMER);
			timer_arm(v);
			return 0;
		}
		singleshot_set(v, value, now);
		return 0;
	case VCPUOP_stop_singleshot_timer:
		v->ev.timer_ns = 0;
		timer_arm(v);
		return 0;
	case VCPUOP_set_periodic_timer:
		if (value < 1000000ull || value > (uint64_t)INT64_MAX >> 1)
			return -VIREO_EINVAL;         /* under 1 ms, or past Xen's STIME_DELTA_MAX */
		v->ev.period_ns = value;
		v->ev.periodic_next_ns = now + value;
		timer_arm(v);
		return 0;
	default:                                  /* VCPUOP_stop_periodic_timer */
		v->ev.period_ns = 0;
		timer_arm(v);
		return 0;
	}
}

void evtchn_timer_interrupt(void)
{
	struct vcpu *v = current_vcpu;
	if (!v || (!v->ev.timer_ns && !v->ev.period_ns && !v->ev.poll_ns))
		return;
	uint64_t now = machine_now_ns();
	bool fire = false;
	if (v->ev.poll_ns && now >= v->ev.poll_ns) {
		v->ev.poll_ns = 0;
		__atomic_store_n(&v->ev.poll_wake, 1, __ATOMIC_SEQ_CST);   /* its SCHEDOP_poll times out */
	}
	if (v->ev.timer_ns && now >= v->ev.timer_ns) {
		v->ev.timer_ns = 0;
		fire = true;
	}
	if (v->ev.period_ns && now >= v->ev.periodic_next_ns) {
		/* Ticks missed (the CPU was busy) are not owed: the next is a period from now. */
		v->ev.periodic_next_ns += v->ev.period_ns;
		if (v->ev.periodic_next_ns <= now)
			v->ev.periodic_next_ns = now + v->ev.period_ns;
		fire = true;
	}
	if (fire)
		send_vcpu_virq(v, VIRQ_TIMER);
	timer_arm(v);                             /* what is left (an early interrupt: the same) */
}

long evtchn_block(struct vcpu *v)
{
	struct vcpu_info *vi = vcpu_info_of(v);
	__atomic_store_n(&vi->evtchn_upcall_mask, 0, __ATOMIC_SEQ_CST);   /* Xen: events on, then block */
	__atomic_fetch_add(&v->d->ev.blocks, 1, __ATOMIC_RELAXED);    /* its vCPUs count at once */
	machine_wait_event(&vi->evtchn_upcall_pending, &v->stop);
	return 0;
}

/* Whether any of the ports is pending, or an upcall is due: the poll is over. */
static bool poll_done(struct vcpu *v, const uint32_t *ports, unsigned n)
{
	const struct shared_info *sh = shared(v->d);
	const struct vcpu_info *vi = vcpu_info_of(v);
	if (__atomic_load_n(&vi->evtchn_upcall_pending, __ATOMIC_SEQ_CST) && !vi->evtchn_upcall_mask)
		return true;
	for (unsigned i = 0; i < n; i++)
		if (test(sh->evtchn_pending, ports[i]))
			return true;
	return false;
}

long evtchn_poll(uint64_t arg)
{
	struct vcpu *v = current_vcpu;
	struct domain *d = v->d;
	struct sched_poll p;
	uint32_t ports[128];

	if (copy_from_guest(&p, arg, sizeof(p)))
		return -VIREO_EFAULT;
	if (p.nr_ports > 128)
		return -VIREO_EINVAL;              /* Xen's "fairly arbitrary limit" */
	if (p.nr_ports && copy_from_guest(ports, p.ports, p.nr_ports * sizeof(ports[0])))
		return -VIREO_EFAULT;
	for (unsigned i = 0; i < p.nr_ports; i++)
		if (ports[i] >= EVTCHN_PORTS)
			return -VIREO_EINVAL;
	/*
	 * Polling first, then the look: a port pending after it sets poll_wake,
	 * so none is lost. One wait, then 0, as Xen (a wake-up may be spurious:
	 * the guest looks again).
	 */
	__atomic_fetch_add(&d->ev.pollers, 1, __ATOMIC_SEQ_CST);
	__atomic_store_n(&v->ev.poll_wake, 0, __ATOMIC_SEQ_CST);
	__atomic_store_n(&v->ev.polling, 1, __ATOMIC_SEQ_CST);
	if (!poll_done(v, ports, p.nr_ports) && !(p.timeout && machine_now_ns() >= p.timeout)) {
		if (p.timeout) {
			v->ev.poll_ns = p.timeout;
			timer_arm(v);
		}
		d->ev.polls_waited++;
		machine_wait_event(&v->ev.poll_wake, &v->stop);
	}
	__atomic_store_n(&v->ev.polling, 0, __ATOMIC_SEQ_CST);
	__atomic_fetch_sub(&d->ev.pollers, 1, __ATOMIC_SEQ_CST);
	if (v->ev.poll_ns) {
		v->ev.poll_ns = 0;
		timer_arm(v);
	}
	return 0;
}

void evtchn_domain_end(struct domain *d)
{
	for (uint32_t p = 1; p < EVTCHN_PORTS && d->ev.port; p++)
		(void)evtchn_close(d, p);
	for (unsigned i = 0; i < d->nr_vcpus; i++) {
		d->vcpu[i]->ev.timer_ns = 0;
		d->vcpu[i]->ev.period_ns = 0;
	}
	spin_lock(&d->ev.lock);
	xfree(d->ev.port);
	d->ev.port = NULL;
	spin_unlock(&d->ev.lock);
}
