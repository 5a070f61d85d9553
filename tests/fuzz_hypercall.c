/*
 * libFuzzer target: the machine-independent hypercall handlers
 * (core/hypercall.c, core/event.c) against real domains made by the domain
 * builder on the hosted machine, whose guest memory is reached through a
 * software walk of the guest's own page tables (arch/hosted/guest.c).
 *
 * Two domains: the privileged domain 0 (two vCPUs), which runs and makes
 * every kind of call, and the unprivileged domain 1 (built, never entered), which makes
 * only the event steps, so that interdomain channels connect and close
 * from either side. Each input is a sequence of steps with hostile
 * arguments: raw values, pointers into a page of the guest filled from the
 * input, pointers into the hypervisor's range, into the guest's read-only
 * page tables, or just past the end of the guest's mappings. Event-channel
 * steps mostly pass a well-formed argument (a command 0..15, domain ids
 * near the real ones, small ports and ports near EVTCHN_PORTS); besides
 * set_timer_op, SCHEDOP_block and SCHEDOP_poll there are steps that are not hypercalls:
 * the timer interrupt, a guest masking a port or handling its events, and
 * domain 1's end (domain_release_memory) with its channels still open,
 * and vcpu_op steps on domain 0's vCPUs (VCPUOP_initialise with one field
 * of a good context set by the input, up, down, register_vcpu_info...).
 * After every step:
 *   - the guests' bootstrap page tables are unchanged (no hypercall here may
 *     write them, and copy_to_guest must refuse their read-only mappings);
 *   - every trap-table entry (of every vCPU) is empty or a canonical guest
 *     address; a secondary vCPU has page tables exactly when it has a
 *     context, and without one it has no GDT, no user root and is down;
 *   - the event state is consistent: an interdomain port's peer port points
 *     back to it, each VIRQ's port is a VIRQ port of that VIRQ and every
 *     VIRQ port is its VIRQ's, only open ports below EVTCHN_PORTS are
 *     pending, an ended domain has no port table;
 *   - domain 0 is running, or it shut down through sched_op.
 * After each input the frame table must pass mm_audit (counts, GDT frames
 * and their descriptors), then both domains are destroyed and every frame
 * must be back in the allocator: that covers the port tables too, which are
 * heap blocks of whole frames (EVTCHN_PORTS * 12 bytes > HEAP_SMALL_MAX).
 *
 * Seeds in tests/fuzz_corpus/hypercall/: evtchn_connect (both directions
 * of an interdomain channel, masked and unmasked, closed from each side),
 * evtchn_loopback, evtchn_virq_timer (VIRQ_TIMER, set_timer_op, the
 * interrupt, SCHEDOP_block, bind_vcpu) and evtchn_peer_end (domain 1 ends
 * connected both ways), vcpu_start (vCPU 1 initialised, up, down,
 * its vcpu_info moved).
 */
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <arch/hosted.h>
#include <core/domain.h>
#include <core/event.h>
#include <core/hypercall.h>
#include <mm/frame_table.h>
#include <mm/frame_alloc.h>
#include <mm/heap.h>
#include <mm/memmap.h>
#include <public/event_channel.h>
#include <public/sched.h>
#include <public/xen.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define KERNEL_PATH "out/guests/hello.elf"     /* built with everything else */
#define DOM_MEM (8u << 20)
#define PEER_MEM (4u << 20)                    /* small: two builds per input */

static jmp_buf back;
static uint8_t *kernel;
static size_t kernel_len;
static uint64_t free_at_start;

static void on_enter(const struct guest_entry *e) { longjmp(back, 1); }
static void on_halt(int status) { longjmp(back, 2); }

static void setup_once(void)
{
	struct memmap m;
	FILE *f = fopen(KERNEL_PATH, "rb");
	if (!f) {
		fprintf(stderr, "fuzz_hypercall: run from the repository root (%s)\n", KERNEL_PATH);
		abort();
	}
	kernel = malloc(1 << 20);
	kernel_len = fread(kernel, 1, 1 << 20, f);
	fclose(f);
	if (hosted_machine_init(64u << 20, 2) != 0)
		abort();
	memmap_init(&m);
	memmap_add(&m, 1u << 20, 64u << 20);
	if (frame_alloc_init(&m) != 0 || frame_table_init(machine_nr_frames()) != 0)
		abort();
	hosted_set_guest_hooks(on_enter, on_halt);
	free_at_start = frame_nr_free();
}

static uint64_t pt_checksum(const struct domain *d)
{
	uint64_t sum = 0;
	const struct dom_layout *l = &d->layout;
	for (uint64_t va = l->vpt_start; va < l->vpt_end; va += 4096) {
		const uint64_t *page = mfn_to_virt(d->p2m[(va - l->v_start) >> 12]);
		for (int i = 0; i < 512; i++)
			sum = sum * 1000003u + page[i];
	}
	return sum;
}

static uint64_t take(const uint8_t **p, const uint8_t *end, unsigned n)
{
	uint64_t v = 0;
	for (unsigned i = 0; i < n && *p < end; i++, (*p)++)
		v |= (uint64_t)**p << (8 * i);
	return v;
}

/* An argument: its kind byte picks a raw value or a kind of pointer. */
static uint64_t argument(const struct domain *d, const uint8_t **p, const uint8_t *end)
{
	unsigned kind = (unsigned)take(p, end, 1);
	uint64_t v = take(p, end, 8);
	const struct dom_layout *l = &d->layout;
	switch (kind % 8) {
	case 0: return v;
	case 1: return v & 0xFF;
	case 2: return l->vstack_start + (v & 4095);                 /* guest scratch, writable */
	case 3: return l->vpt_start + (v % (l->vpt_end - l->vpt_start)); /* read-only tables */
	case 4: return 0xFFFF830000000000ull + (v & 0xFFFFFF);       /* the hypervisor */
	case 5: return l->v_end - (v & 63);                          /* the edge of the mapping */
	case 6: return DOMID_SELF;
	default: return (uint64_t)(int64_t)(int8_t)v;                /* small negatives */
	}
}

/* ---- event channels: arguments that are often valid ------------------------------- */

_Static_assert(EVTCHN_PORTS * sizeof(struct evtchn) > HEAP_SMALL_MAX,
	       "port tables are whole frames: the frame count sees a leaked one");

/* A domain id: mostly DOMID_SELF or one of the two domains, sometimes none. */
static uint16_t ev_domid(const uint8_t **p, const uint8_t *end)
{
	unsigned k = (unsigned)take(p, end, 1) % 8;
	if (k < 2)
		return DOMID_SELF;
	if (k < 5)
		return k & 1;                              /* 0 or 1 */
	if (k == 5)
		return 7;                                  /* no such domain */
	if (k == 6)
		return DOMID_IO;
	return (uint16_t)take(p, end, 2);
}

/*
 * A port: mostly a small one (those in use), sometimes at the table's end
 * or past it. Here and below a byte past the input's end (0) picks a
 * well-formed value, so that short inputs reach the handlers' bodies.
 */
static uint32_t ev_port(const uint8_t **p, const uint8_t *end)
{
	unsigned k = (unsigned)take(p, end, 1);
	if (k % 8 < 5)
		return (k / 8 + 1) % 8;                    /* 0..7, 1 for a missing byte */
	if (k % 8 == 5)
		return EVTCHN_PORTS - 2 + k / 8 % 4;       /* 1022..1025 */
	if (k % 8 == 6)
		return EVTCHN_2L_NR_CHANNELS - 1 + k / 8 % 2;
	return (uint32_t)take(p, end, 4);
}

static uint32_t ev_vcpu(const uint8_t **p, const uint8_t *end)
{
	unsigned k = (unsigned)take(p, end, 1);
	return k % 8 ? 0 : k / 8 % 3;                     /* mostly 0, sometimes 1 or 2 */
}

/* The argument of EVTCHNOP cmd, from the input, in buf (24 bytes, the largest). */
static void ev_argument(uint64_t cmd, uint8_t *buf, const uint8_t **p, const uint8_t *end)
{
	union {
		struct evtchn_bind_interdomain bi;
		struct evtchn_bind_virq bv;
		struct evtchn_alloc_unbound au;
		struct evtchn_status st;
		struct evtchn_bind_ipi ip;
		struct evtchn_bind_vcpu bc;
		struct evtchn_send se;               /* send, close, unmask: one port */
		struct evtchn_reset rs;
		uint8_t raw[24];
	} u;
	_Static_assert(sizeof(u) == 24, "evtchn_status is the largest argument");
	memset(&u, 0, sizeof(u));
	switch (cmd) {
	case EVTCHNOP_bind_interdomain:
		u.bi.remote_dom = ev_domid(p, end);
		u.bi.remote_port = ev_port(p, end);
		break;
	case EVTCHNOP_bind_virq:
		u.bv.virq = (uint32_t)take(p, end, 1) % (NR_VIRQS + 2);
		u.bv.vcpu = ev_vcpu(p, end);
		break;
	case EVTCHNOP_alloc_unbound:
		u.au.dom = take(p, end, 1) % 8 ? DOMID_SELF : ev_domid(p, end);
		u.au.remote_dom = ev_domid(p, end);
		break;
	case EVTCHNOP_status:
		u.st.dom = take(p, end, 1) % 8 ? DOMID_SELF : ev_domid(p, end);
		u.st.port = ev_port(p, end);
		break;
	case EVTCHNOP_bind_ipi:
		u.ip.vcpu = ev_vcpu(p, end);
		break;
	case EVTCHNOP_bind_vcpu:
		u.bc.port = ev_port(p, end);
		u.bc.vcpu = ev_vcpu(p, end);
		break;
	case EVTCHNOP_close:
	case EVTCHNOP_send:
	case EVTCHNOP_unmask:
		u.se.port = ev_port(p, end);
		break;
	case EVTCHNOP_reset:
		u.rs.dom = take(p, end, 1) % 4 ? DOMID_SELF : ev_domid(p, end);
		break;
	default:                                             /* bind_pirq, FIFO, unknown */
		for (unsigned i = 0; i < sizeof(u.raw); i++)
			u.raw[i] = (uint8_t)take(p, end, 1);
		break;
	}
	memcpy(buf, &u, sizeof(u));
}

/* set_timer_op's deadline: none, past, soon (it may come during the input), far, or raw. */
static uint64_t ev_timeout(const uint8_t **p, const uint8_t *end)
{
	unsigned k = (unsigned)take(p, end, 1) % 5;
	uint64_t v = take(p, end, 4);
	switch (k) {
	case 0: return 0;
	case 1: return 1 + v % (machine_now_ns() + 1);
	case 2: return machine_now_ns() + v % 200000;        /* within 0.2 ms */
	case 3: return machine_now_ns() + 1000000000ull + v;
	default: return v | take(p, end, 4) << 32;
	}
}

/* ---- the steps ------------------------------------------------------------------------- */

/*
 * RAW: a hypercall with raw arguments, by domain 0 only. The others may be
 * taken by either domain: EVTCHN_OP an event_channel_op with an argument
 * made by ev_argument (mostly), TIMER_OP a set_timer_op, BLOCK
 * SCHEDOP_block, TIMER_IRQ the CPU's timer interrupt, GUEST_MASK and
 * GUEST_ACK what a guest does in its shared_info, PEER_END domain 1's end.
 */
enum step { RAW, EVTCHN_OP, TIMER_OP, BLOCK, TIMER_IRQ, GUEST_MASK, GUEST_ACK, PEER_END, VCPU_OP, POLL };

static const struct {
	uint64_t nr;
	enum step how;
} steps[] = {
	{ __HYPERVISOR_set_trap_table, RAW }, { __HYPERVISOR_console_io, RAW },
	{ __HYPERVISOR_xen_version, RAW }, { __HYPERVISOR_sched_op, RAW },
	{ __HYPERVISOR_memory_op, RAW }, { __HYPERVISOR_vcpu_op, RAW }, { 60, RAW }, { 1000, RAW },
	{ __HYPERVISOR_set_gdt, RAW }, { __HYPERVISOR_update_descriptor, RAW },
	{ __HYPERVISOR_event_channel_op, RAW }, { __HYPERVISOR_set_timer_op, RAW },
	{ __HYPERVISOR_event_channel_op, EVTCHN_OP }, { __HYPERVISOR_event_channel_op, EVTCHN_OP },
	{ __HYPERVISOR_event_channel_op, EVTCHN_OP }, { __HYPERVISOR_event_channel_op, EVTCHN_OP },
	{ __HYPERVISOR_event_channel_op, EVTCHN_OP }, { __HYPERVISOR_event_channel_op, EVTCHN_OP },
	{ __HYPERVISOR_set_timer_op, TIMER_OP }, { __HYPERVISOR_sched_op, BLOCK },
	{ 0, TIMER_IRQ }, { 0, GUEST_MASK }, { 0, GUEST_ACK }, { 0, PEER_END },
	{ __HYPERVISOR_vcpu_op, VCPU_OP }, { __HYPERVISOR_vcpu_op, VCPU_OP },
	{ __HYPERVISOR_sched_op, POLL },
};

static struct shared_info *shared_of(const struct domain *d)
{
	return mfn_to_virt(d->shared_info_mfn);
}

/*
 * The event state of d (built, not destroyed) is consistent with itself
 * and with its peer's; abort() otherwise.
 */
static void check_events(const struct domain *d)
{
	const struct domain_events *ev = &d->ev;
	if (d->dying) {
		if (ev->port)
			abort();                          /* an ended domain keeps no ports */
		for (unsigned k = 0; k < d->nr_vcpus; k++) {
			if (d->vcpu[k]->ev.timer_ns)
				abort();
			for (unsigned v = 0; v < NR_VIRQS; v++)
				if (d->vcpu[k]->ev.virq_port[v])
					abort();
		}
		return;
	}
	const xen_ulong_t *pending = shared_of(d)->evtchn_pending;
	for (unsigned w = EVTCHN_PORTS / 64; w < XEN_EVTCHN_2L_WORDS; w++)
		if (pending[w])
			abort();                          /* a port past the table pending */
	for (unsigned k = 0; k < d->nr_vcpus; k++)
		for (unsigned v = 0; v < NR_VIRQS; v++) {
			uint32_t p = d->vcpu[k]->ev.virq_port[v];
			if (p && (!ev->port || p >= EVTCHN_PORTS || ev->port[p].state != EVTCHNSTAT_virq ||
				  ev->port[p].virq != v))
				abort();                  /* a VIRQ bound to a port that is not its */
			/* A per-vCPU VIRQ notifies its vCPU; a global one is bound on vCPU 0. */
			if (p && (v == VIRQ_TIMER || v == VIRQ_DEBUG || v == VIRQ_XENOPROF || v == VIRQ_XENPMU
				  ? ev->port[p].notify_vcpu != k : k != 0))
				abort();
		}
	if (!ev->port) {
		for (unsigned w = 0; w < EVTCHN_PORTS / 64; w++)
			if (pending[w])
				abort();                  /* pending with no port ever made */
		return;
	}
	for (uint32_t p = 0; p < EVTCHN_PORTS; p++) {
		const struct evtchn *c = &ev->port[p];
		bool is_pending = pending[p / 64] >> (p % 64) & 1;
		switch (c->state) {
		case EVTCHNSTAT_closed:
			if (is_pending || c->remote_dom || c->remote_port || c->virq)
				abort();                  /* closed ports are quiet and clear */
			break;
		case EVTCHNSTAT_unbound:
		case EVTCHNSTAT_ipi:
			if (p == 0 || c->notify_vcpu >= d->nr_vcpus)
				abort();                  /* port 0 is never used; a vCPU it does not have */
			break;
		case EVTCHNSTAT_interdomain: {
			const struct domain *peer = domain_by_id(c->remote_dom);
			if (p == 0 || !peer || peer->dying || !peer->ev.port || c->remote_port == 0 ||
			    c->remote_port >= EVTCHN_PORTS)
				abort();                  /* connected to nothing */
			const struct evtchn *r = &peer->ev.port[c->remote_port];
			if (r->state != EVTCHNSTAT_interdomain || r->remote_dom != d->domid || r->remote_port != p)
				abort();                  /* the peer's port does not point back */
			break;
		}
		case EVTCHNSTAT_virq: {
			bool known = false;
			for (unsigned k = 0; c->virq < NR_VIRQS && k < d->nr_vcpus; k++)
				known |= d->vcpu[k]->ev.virq_port[c->virq] == p;
			if (p == 0 || !known)
				abort();                  /* a VIRQ port its VIRQ does not know */
			break;
		}
		default:
			abort();                          /* no PIRQs, nothing else */
		}
	}
}

static void check_invariants(struct domain *const *doms, const uint64_t *pt_sum)
{
	for (unsigned i = 0; i < 2; i++) {
		const struct domain *d = doms[i];
		if (!d->dying && pt_checksum(d) != pt_sum[i])
			abort();                          /* a hypercall wrote a page table */
		for (unsigned k = 0; k < d->nr_vcpus; k++) {
			const struct vcpu *v = d->vcpu[k];
			for (int t = 0; t < 256; t++) {
				uint64_t a = v->traps[t].address;
				if (a && (!domain_range_is_guest(a, a + 1)))
					abort();          /* a handler outside the guest */
			}
			/* A vCPU has page tables exactly when it has a context; only then is it up. */
			if (!d->dying && k && (v->initialised != (d->mm.vcpu[k].root != INVALID_MFN) ||
					       (!v->initialised && (d->mm.vcpu[k].gdt_entries ||
								   d->mm.vcpu[k].user_root != INVALID_MFN ||
								   v->state != VCPU_DOWN))))
				abort();
		}
		check_events(d);
	}
}

/*
 * A vcpu_op with a mostly well-formed argument: initialise with a context
 * that would start (domain 0's root, flat selectors, its entry) but for
 * one field the input picks and sets, up, down, is_up, the runstate,
 * register_vcpu_info and a timer, on vCPU 0 to 3 (domain 0 has two).
 */
static void vcpu_step(struct domain *caller, struct hypercall_args *args, const uint8_t **p, const uint8_t *end)
{
	static const unsigned cmds[] = { VCPUOP_initialise, VCPUOP_initialise, VCPUOP_up, VCPUOP_down,
					 VCPUOP_is_up, VCPUOP_get_runstate_info, VCPUOP_register_vcpu_info,
					 VCPUOP_stop_singleshot_timer };
	static struct vcpu_guest_context c;
	unsigned cmd = cmds[take(p, end, 1) % (sizeof(cmds) / sizeof(cmds[0]))];
	uint64_t va = caller->layout.vstack_end;            /* the slack: mapped writable, two pages free */
	args->a[0] = cmd;
	args->a[1] = (take(p, end, 1) + 1) % 4;              /* mostly 1; 3 is no vCPU */
	args->a[2] = va;
	if (cmd == VCPUOP_register_vcpu_info) {
		struct vcpu_register_vcpu_info info = {
			.mfn = caller->p2m[take(p, end, 2) % caller->nr_pages], .offset = (uint32_t)take(p, end, 2) };
		if (copy_to_guest(va, &info, sizeof(info)) != 0)
			abort();
		return;
	}
	if (cmd != VCPUOP_initialise)
		return;
	memset(&c, 0, sizeof(c));
	c.flags = VGCF_in_kernel;
	c.user_regs.rip = caller->vcpu[0]->entry.rip;
	c.user_regs.rsp = caller->layout.vstack_end;
	c.user_regs.cs = FLAT_RING3_CS64;
	c.user_regs.ss = c.kernel_ss = FLAT_RING3_SS64;
	c.ctrlreg[3] = caller->vcpu[0]->entry.root_maddr;
	uint64_t v = take(p, end, 8);
	mfn_t some = take(p, end, 1) % 4 ? caller->p2m[v % caller->nr_pages] : (mfn_t)v;
	switch (take(p, end, 1) % 14) {
	case 0: break;                                      /* as it is: it starts */
	case 1: c.ctrlreg[3] = (uint64_t)some << 12; break;
	case 2: c.ctrlreg[1] = (uint64_t)some << 12; break;
	case 3: c.gdt_ents = v % 1024; c.gdt_frames[0] = some; c.gdt_frames[1] = caller->p2m[0]; break;
	case 4: c.user_regs.rip = v; break;
	case 5: c.user_regs.rsp = v; break;
	case 6: c.user_regs.cs = (uint16_t)v; break;
	case 7: c.kernel_ss = (uint16_t)v; break;
	case 8: c.ldt_ents = v % 3; c.ldt_base = caller->layout.v_start; break;
	case 9: c.trap_ctxt[v % 256].address = take(p, end, 8); break;
	case 10: c.debugreg[v % 8] = take(p, end, 8); break;
	case 11: c.event_callback_eip = v; break;
	case 12: c.gs_base_kernel = v; break;
	default: c.flags = v; break;
	}
	if (copy_to_guest(va, &c, sizeof(c)) != 0)
		abort();
}

/* One step (not PEER_END) by caller. */
static void step(struct domain *caller, enum step how, uint64_t nr, const uint8_t **p, const uint8_t *end)
{
	struct hypercall_args args = { { 0 } };
	hosted_switch_to(caller);
	switch (how) {
	case RAW:
		for (int i = 0; i < 5; i++)
			args.a[i] = argument(caller, p, end);
		break;
	case EVTCHN_OP: {
		uint64_t cmd = take(p, end, 1) % 16;
		uint8_t buf[24];
		ev_argument(cmd, buf, p, end);
		uint64_t va = caller->layout.vstack_start + 3072;   /* in the scratch page */
		if (copy_to_guest(va, buf, sizeof(buf)) != 0)
			abort();
		args.a[0] = cmd;
		args.a[1] = take(p, end, 1) % 8 == 7 ? argument(caller, p, end) : va;
		break;
	}
	case TIMER_OP:
		args.a[0] = ev_timeout(p, end);
		break;
	case BLOCK:
		args.a[0] = SCHEDOP_block;
		break;
	case POLL: {                                        /* SCHEDOP_poll: a few ports, sometimes too many */
		uint64_t va = caller->layout.vstack_start + 3072;
		uint32_t ports[4];
		for (unsigned i = 0; i < 4; i++)
			ports[i] = ev_port(p, end);
		unsigned k = (unsigned)take(p, end, 1);
		struct sched_poll sp = { .ports = k % 16 == 15 ? argument(caller, p, end) : va + 64,
					 .nr_ports = k % 8 == 7 ? 129 : k % 5, .timeout = ev_timeout(p, end) };
		if (copy_to_guest(va, &sp, sizeof(sp)) != 0 || copy_to_guest(va + 64, ports, sizeof(ports)) != 0)
			abort();
		args.a[0] = SCHEDOP_poll;
		args.a[1] = take(p, end, 1) % 8 == 7 ? argument(caller, p, end) : va;
		break;
	}
	case TIMER_IRQ:
		evtchn_timer_interrupt();
		return;
	case GUEST_MASK: {                                  /* the guest masks or unmasks a port */
		uint32_t port = ev_port(p, end) % EVTCHN_2L_NR_CHANNELS;
		xen_ulong_t *w = &shared_of(caller)->evtchn_mask[port / 64];
		__atomic_fetch_xor(w, 1ull << (port % 64), __ATOMIC_SEQ_CST);
		return;
	}
	case GUEST_ACK: {                                   /* its upcall handler: every unmasked port */
		struct vcpu_info *vi = vcpu_info_of(caller->vcpu[0]);
		__atomic_store_n(&vi->evtchn_upcall_pending, 0, __ATOMIC_SEQ_CST);
		xen_ulong_t sel = __atomic_exchange_n(&vi->evtchn_pending_sel, 0, __ATOMIC_SEQ_CST);
		struct shared_info *sh = shared_of(caller);
		for (unsigned w = 0; w < XEN_EVTCHN_2L_WORDS; w++)
			if (sel >> w & 1)
				__atomic_fetch_and(&sh->evtchn_pending[w], sh->evtchn_mask[w], __ATOMIC_SEQ_CST);
		return;
	}
	case PEER_END:
		return;
	case VCPU_OP:
		vcpu_step(caller, &args, p, end);
		break;
	}
	(void)hypercall_dispatch(nr, &args);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int ready;
	const uint8_t *p = data, *end = data + size;

	if (!ready) {
		setup_once();
		ready = 1;
	}
	if (domain_build(0, "fuzz", kernel, kernel_len, NULL, 0, "fuzz", DOM_MEM, true, 2) != 0 ||
	    domain_build(1, "peer", kernel, kernel_len, NULL, 0, "peer", PEER_MEM, false, 1) != 0)
		abort();
	if (setjmp(back) == 0)
		domains_run(0);                           /* "enters" domain 0: back here by on_enter */
	struct domain *d = domain_by_id(0), *peer = domain_by_id(1);
	struct domain *const doms[2] = { d, peer };
	uint64_t pt_sum[2] = { pt_checksum(d), pt_checksum(peer) };

	/* Each guest's scratch page holds the first 4 KiB of the input. */
	uint8_t scratch[4096] = { 0 };
	memcpy(scratch, data, size < sizeof(scratch) ? size : sizeof(scratch));
	for (unsigned i = 0; i < 2; i++) {
		hosted_switch_to(doms[i]);
		if (copy_to_guest(doms[i]->layout.vstack_start, scratch, sizeof(scratch)) != 0)
			abort();
	}

	for (int n = 0; n < 64 && p < end; n++) {
		unsigned pick = (unsigned)take(&p, end, 1);
		unsigned k = pick % (sizeof(steps) / sizeof(steps[0]));
		enum step how = steps[k].how;
		/* Domain 1 takes the event steps too (the high bit), while it lives. */
		bool by_peer = (pick & 0x80) && how != RAW && how != VCPU_OP && !peer->dying;
		if (setjmp(back) != 0)
			break;                            /* it shut down: the machine "halted" */
		if (how == PEER_END) {
			if (!peer->dying) {
				hosted_switch_to(d);
				(void)domain_release_memory(peer);
				peer->state = DOMAIN_SHUTDOWN;    /* as domain_end leaves it */
			}
		} else {
			step(by_peer ? peer : d, how, steps[k].nr, &p, end);
		}
		hosted_switch_to(d);
		check_invariants(doms, pt_sum);
	}
	if (d->state != DOMAIN_RUNNING && d->state != DOMAIN_SHUTDOWN && d->state != DOMAIN_CRASHED)
		abort();
	struct domain_mm *mms[2] = { &d->mm, &peer->mm };
	char why[256];
	if (mm_audit(mms, peer->dying ? 1 : 2, why, sizeof(why)) != 0) {
		fprintf(stderr, "fuzz_hypercall: audit: %s\n", why);
		abort();                                  /* counts, GDT frames or descriptors wrong */
	}
	hosted_switch_to(NULL);
	domain_destroy(d);
	domain_destroy(peer);
	cpu_vcpu[0] = NULL;
	if (frame_nr_free() != free_at_start)
		abort();                                  /* a frame leaked (a port table too) */
	return 0;
}
