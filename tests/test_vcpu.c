/*
 * Several vCPUs per domain on the hosted machine (core/domain.c,
 * core/hypercall.c vcpu_op, core/event.c): the builder's vCPUs, vcpu_op's
 * refusals and what they leave unchanged, VCPUOP_initialise's page-table
 * and GDT references (the frame audit counts them), up/down states and
 * runstates, events routed to the vCPU a port names, and a domain's end
 * giving every reference back. Nothing runs a guest here: a "running"
 * vCPU is one placed on a CPU by the test.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "hosted_machine.h"

#include <arch/hosted.h>
#include <core/domain.h>
#include <core/event.h>
#include <core/hypercall.h>
#include <mm/frame_alloc.h>
#include <mm/frame_table.h>
#include <public/event_channel.h>
#include <public/vcpu.h>
#include <public/xen.h>
#include <vireo/errno.h>

#define DOM_MEM (16u << 20)

static uint8_t kernel[1 << 20];
static size_t kernel_len;
static uint64_t free_at_start;
static struct domain *D;              /* domain 0, privileged, NR vCPUs */
#define NR 3

static bool setup(void)
{
	hosted_machine_once("test_vcpu", 64u << 20, kernel, sizeof(kernel), &kernel_len, &free_at_start);
	hosted_switch_to(NULL);
	if (domain_by_id(0)->state != DOMAIN_EMPTY)        /* a failed test's, left by REQUIRE */
		domain_destroy(domain_by_id(0));
	if (domain_build(0, "smp", kernel, kernel_len, NULL, 0, "", DOM_MEM, true, NR) != 0)
		return false;
	D = domain_by_id(0);
	hosted_switch_to(D);
	return true;
}

static void audit(void)
{
	struct domain_mm *mms[1] = { &D->mm };
	char why[256] = "";
	int rc = mm_audit(mms, 1, why, sizeof(why));
	if (rc)
		fprintf(stderr, "audit: %s\n", why);
	CHECK_EQ(rc, 0);
}

static void teardown(void)
{
	audit();
	hosted_switch_to(NULL);
	domain_destroy(D);
	CHECK_EQ(frame_nr_free(), free_at_start);
}

static uint64_t scratch_va(void) { return D->layout.vstack_end; }

static void put(uint64_t va, const void *src, size_t len)
{
	if (copy_to_guest(va, src, len) != 0)
		abort();
}

static long vcpu_op(unsigned cmd, uint64_t vcpu, const void *arg, size_t len)
{
	uint64_t va = scratch_va();
	if (arg)
		put(va, arg, len);
	return hosted_hypercall(__HYPERVISOR_vcpu_op, cmd, vcpu, arg ? va : 0, 0, 0, NULL);
}

static long evtchn(unsigned cmd, void *arg, size_t len)
{
	uint64_t va = scratch_va() + 0x2000;
	put(va, arg, len);
	long rc = hosted_hypercall(__HYPERVISOR_event_channel_op, cmd, va, 0, 0, 0, NULL);
	if (copy_from_guest(arg, va, len) != 0)
		abort();
	return rc;
}

/* A context vCPU n may start from: the start-of-day root, a stack, flat selectors. */
static void good_context(struct vcpu_guest_context *c)
{
	memset(c, 0, sizeof(*c));
	c->flags = VGCF_in_kernel;
	c->user_regs.rip = D->vcpu[0]->entry.rip;
	c->user_regs.rsp = D->layout.vstack_end;
	c->user_regs.rdi = 0x1234;
	c->user_regs.cs = FLAT_RING3_CS64;
	c->user_regs.ss = FLAT_RING3_SS64;
	c->kernel_ss = FLAT_RING3_SS64;
	c->ctrlreg[3] = D->vcpu[0]->entry.root_maddr;          /* xen_pfn_to_cr3(root mfn) */
	c->gs_base_kernel = 0xffff880000001000ull;
}

static void builder_makes_every_vcpu(void)
{
	REQUIRE(setup());
	CHECK_EQ(D->nr_vcpus, NR);
	struct shared_info *sh = mfn_to_virt(D->shared_info_mfn);
	for (unsigned i = 0; i < NR; i++) {
		CHECK(D->vcpu[i] && D->vcpu[i]->id == i && D->vcpu[i]->d == D);
		CHECK(vcpu_info_of(D->vcpu[i]) == &sh->vcpu_info[i]);
		CHECK_EQ(sh->vcpu_info[i].evtchn_upcall_mask, 1);      /* masked until the guest says */
		CHECK(sh->vcpu_info[i].time.tsc_to_system_mul != 0);
	}
	CHECK_EQ(D->vcpu[0]->state, VCPU_READY);
	CHECK_EQ(D->vcpu[1]->state, VCPU_DOWN);
	CHECK(!D->vcpu[1]->initialised);
	CHECK_EQ(D->mm.vcpu[1].root, INVALID_MFN);
	teardown();
	/* 0 and more than MAX_VCPUS are refused, with nothing left allocated. */
	CHECK_EQ(domain_build(0, "x", kernel, kernel_len, NULL, 0, "", DOM_MEM, true, 0), -VIREO_EINVAL);
	CHECK_EQ(domain_build(0, "x", kernel, kernel_len, NULL, 0, "", DOM_MEM, true, MAX_VCPUS + 1),
		 -VIREO_EINVAL);
	CHECK_EQ(domain_by_id(0)->state, DOMAIN_EMPTY);
	CHECK_EQ(frame_nr_free(), free_at_start);
}

static void is_up_and_unknown_vcpus(void)
{
	REQUIRE(setup());
	CHECK_EQ(vcpu_op(VCPUOP_is_up, 0, NULL, 0), 1);
	CHECK_EQ(vcpu_op(VCPUOP_is_up, 1, NULL, 0), 0);
	CHECK_EQ(vcpu_op(VCPUOP_is_up, NR, NULL, 0), -VIREO_ENOENT);
	CHECK_EQ(vcpu_op(VCPUOP_is_up, 1ull << 32, NULL, 0), -VIREO_ENOENT);
	CHECK_EQ(vcpu_op(VCPUOP_up, 1, NULL, 0), -VIREO_EINVAL);          /* no context yet */
	CHECK_EQ(D->vcpu[1]->state, VCPU_DOWN);
	struct vcpu_runstate_info r;
	CHECK_EQ(vcpu_op(VCPUOP_get_runstate_info, 1, NULL, 0), -VIREO_EFAULT);
	CHECK_EQ(vcpu_op(VCPUOP_get_runstate_info, 1, &r, sizeof(r)), 0);
	CHECK_EQ(copy_from_guest(&r, scratch_va(), sizeof(r)), 0);
	CHECK_EQ(r.state, RUNSTATE_offline);
	teardown();
}

/* Each refusal: its errno, and vCPU 1 still down, uninitialised, with no references. */
static void initialise_refusals_change_nothing(void)
{
	REQUIRE(setup());
	static struct vcpu_guest_context c;
	uint64_t free_before = frame_nr_free();
#define REFUSE(mutate, err) do {                                                        \
		good_context(&c);                                                       \
		mutate;                                                                 \
		CHECK_EQ(vcpu_op(VCPUOP_initialise, 1, &c, sizeof(c)), -(err));         \
		CHECK(!D->vcpu[1]->initialised);                                        \
		CHECK_EQ(D->mm.vcpu[1].root, INVALID_MFN);                              \
		CHECK_EQ(D->mm.vcpu[1].user_root, INVALID_MFN);                         \
		CHECK_EQ(D->mm.vcpu[1].gdt_entries, 0);                                 \
	} while (0)
	REFUSE(c.flags = 0, VIREO_EINVAL);                                  /* guest user mode */
	REFUSE(c.user_regs.rip = 0xffff830000000000ull, VIREO_EINVAL);      /* the hypervisor's */
	REFUSE(c.user_regs.rip = 0x0000800000000000ull, VIREO_EINVAL);      /* not canonical */
	REFUSE(c.user_regs.rsp = 0x8000000000000000ull, VIREO_EINVAL);
	REFUSE(c.user_regs.cs = 0x08, VIREO_EINVAL);                        /* the hypervisor's CS */
	REFUSE(c.user_regs.ss = 0, VIREO_EINVAL);
	REFUSE(c.kernel_ss = 0x10, VIREO_EINVAL);
	REFUSE(c.ldt_ents = 1, VIREO_EINVAL);
	REFUSE(c.gdt_ents = MM_GDT_ENTRIES + 1, VIREO_EINVAL);
	REFUSE(c.debugreg[7] = 0x1, VIREO_EINVAL);
	REFUSE(c.fs_base = 0x0000900000000000ull, VIREO_EINVAL);
	REFUSE(c.event_callback_eip = 0xffff830000000000ull, VIREO_EINVAL);
	REFUSE(c.trap_ctxt[14].address = 0xffff830000000000ull, VIREO_EINVAL);
	REFUSE(c.ctrlreg[3] = 0, VIREO_EINVAL);
	/* A root that is not the domain's, or not an L4: refused by the MMU's rules. */
	good_context(&c);
	c.ctrlreg[3] = (uint64_t)D->shared_info_mfn << 12;      /* held writable: never a table */
	CHECK(vcpu_op(VCPUOP_initialise, 1, &c, sizeof(c)) < 0);
	good_context(&c);
	c.ctrlreg[3] = 0x10ull << 12;                           /* not the domain's */
	CHECK(vcpu_op(VCPUOP_initialise, 1, &c, sizeof(c)) < 0);
	/* A good root with a bad user root, or a bad GDT frame: the good one's reference is dropped too. */
	good_context(&c);
	c.ctrlreg[1] = (uint64_t)D->shared_info_mfn << 12;
	CHECK(vcpu_op(VCPUOP_initialise, 1, &c, sizeof(c)) < 0);
	CHECK_EQ(D->mm.vcpu[1].root, INVALID_MFN);
	good_context(&c);
	c.gdt_ents = 16;
	c.gdt_frames[0] = D->shared_info_mfn;                   /* writable: not a descriptor page */
	CHECK(vcpu_op(VCPUOP_initialise, 1, &c, sizeof(c)) < 0);
	CHECK_EQ(D->mm.vcpu[1].gdt_entries, 0);
	CHECK_EQ(hosted_hypercall(__HYPERVISOR_vcpu_op, VCPUOP_initialise, 1, 0xffff830000000000ull, 0, 0, NULL),
		 -VIREO_EFAULT);
	CHECK(!D->vcpu[1]->initialised);
	CHECK_EQ(frame_nr_free(), free_before);
	audit();
	teardown();
#undef REFUSE
}

static void initialise_up_down(void)
{
	REQUIRE(setup());
	static struct vcpu_guest_context c;
	good_context(&c);
	c.trap_ctxt[3].address = c.user_regs.rip;
	CHECK_EQ(vcpu_op(VCPUOP_initialise, 1, &c, sizeof(c)), 0);
	struct vcpu *v = D->vcpu[1];
	CHECK(v->initialised);
	CHECK_EQ(D->mm.vcpu[1].root, D->mm.vcpu[0].root);             /* a second reference on one L4 */
	CHECK_EQ(v->entry.rdi, 0x1234);
	CHECK_EQ(v->entry.gs_base, 0xffff880000001000ull);
	CHECK_EQ(v->traps[3].address, c.user_regs.rip);
	audit();
	CHECK_EQ(vcpu_op(VCPUOP_initialise, 1, &c, sizeof(c)), -VIREO_EEXIST);
	/* Up (ready for a CPU), or parked on one, its vcpu_info may not be moved by another: Xen's -EINVAL. */
	mfn_t page = D->p2m[(D->layout.v_end - D->layout.v_start) / 4096 + 3];
	struct vcpu_register_vcpu_info info = { .mfn = page, .offset = 0 };
	struct vcpu_info *before = vcpu_info_of(v);
	CHECK_EQ(vcpu_op(VCPUOP_up, 1, NULL, 0), 0);
	CHECK_EQ(vcpu_op(VCPUOP_register_vcpu_info, 1, &info, sizeof(info)), -VIREO_EINVAL);
	CHECK_EQ(vcpu_op(VCPUOP_down, 1, NULL, 0), 0);
	v->on_cpu = 1;
	CHECK_EQ(vcpu_op(VCPUOP_register_vcpu_info, 1, &info, sizeof(info)), -VIREO_EINVAL);
	v->on_cpu = 0;
	CHECK(vcpu_info_of(v) == before && v->vcpu_info_mfn == INVALID_MFN);
	/* Down with a context, on no CPU: moved (Xen's "other offline vCPUs"). */
	CHECK_EQ(vcpu_op(VCPUOP_register_vcpu_info, 1, &info, sizeof(info)), 0);
	CHECK(vcpu_info_of(v) == (struct vcpu_info *)mfn_to_virt(page));
	CHECK_EQ(vcpu_op(VCPUOP_up, 1, NULL, 0), 0);
	CHECK_EQ(v->state, VCPU_READY);
	CHECK_EQ(vcpu_op(VCPUOP_is_up, 1, NULL, 0), 1);
	CHECK_EQ(vcpu_op(VCPUOP_up, 1, NULL, 0), 0);                  /* up already: 0, as Xen */
	CHECK_EQ(vcpu_op(VCPUOP_initialise, 1, &c, sizeof(c)), -VIREO_EEXIST);
	struct vcpu_runstate_info r;
	CHECK_EQ(vcpu_op(VCPUOP_get_runstate_info, 1, &r, sizeof(r)), 0);
	CHECK_EQ(copy_from_guest(&r, scratch_va(), sizeof(r)), 0);
	CHECK_EQ(r.state, RUNSTATE_runnable);
	CHECK_EQ(vcpu_op(VCPUOP_down, 1, NULL, 0), 0);
	CHECK_EQ(v->state, VCPU_DOWN);
	CHECK_EQ(vcpu_op(VCPUOP_is_up, 1, NULL, 0), 0);
	CHECK_EQ(vcpu_op(VCPUOP_down, 1, NULL, 0), 0);                /* down already */
	CHECK_EQ(vcpu_down(D->vcpu[0]), 1);                           /* the last one up: nothing changes */
	CHECK_EQ(D->vcpu[0]->state, VCPU_READY);
	/* A running one goes down "nosync": down at once, told to stop, its CPU kicked. */
	CHECK_EQ(vcpu_op(VCPUOP_up, 1, NULL, 0), 0);
	v->cpu = 1;
	v->on_cpu = 1;
	v->state = VCPU_RUNNING;
	uint64_t kicks = hosted_kicks;
	CHECK_EQ(vcpu_op(VCPUOP_down, 1, NULL, 0), 0);
	CHECK_EQ(v->state, VCPU_DOWN);
	CHECK(v->stop && v->down && !v->end);
	CHECK_EQ(hosted_kicks, kicks + 1);
	/* Up again while still on its CPU (parked): running again where it was, its CPU kicked. */
	CHECK_EQ(vcpu_op(VCPUOP_up, 1, NULL, 0), 0);
	CHECK_EQ(v->state, VCPU_RUNNING);
	CHECK(!v->down && v->resume);
	CHECK_EQ(hosted_kicks, kicks + 2);
	v->on_cpu = 0;
	v->state = VCPU_DOWN;
	teardown();                                               /* vCPU 1's root reference goes too */
}

static void events_go_to_the_ports_vcpu(void)
{
	REQUIRE(setup());
	struct shared_info *sh = mfn_to_virt(D->shared_info_mfn);
	struct evtchn_bind_ipi bi = { .vcpu = 2 };
	CHECK_EQ(evtchn(EVTCHNOP_bind_ipi, &bi, sizeof(bi)), 0);
	struct evtchn_bind_ipi bad = { .vcpu = NR };
	CHECK_EQ(evtchn(EVTCHNOP_bind_ipi, &bad, sizeof(bad)), -VIREO_ENOENT);
	struct evtchn_status st = { .dom = DOMID_SELF, .port = bi.port };
	CHECK_EQ(evtchn(EVTCHNOP_status, &st, sizeof(st)), 0);
	CHECK_EQ(st.vcpu, 2);
	struct evtchn_send snd = { bi.port };
	CHECK_EQ(evtchn(EVTCHNOP_send, &snd, sizeof(snd)), 0);
	CHECK_EQ(sh->vcpu_info[2].evtchn_upcall_pending, 1);
	CHECK(sh->vcpu_info[2].evtchn_pending_sel & 1);
	CHECK_EQ(sh->vcpu_info[0].evtchn_upcall_pending, 0);
	CHECK_EQ(sh->vcpu_info[0].evtchn_pending_sel, 0);
	/* An IPI port stays on its vCPU; an unbound one moves; a vCPU the domain lacks: -ENOENT. */
	struct evtchn_bind_vcpu bv = { .port = bi.port, .vcpu = 1 };
	CHECK_EQ(evtchn(EVTCHNOP_bind_vcpu, &bv, sizeof(bv)), -VIREO_EINVAL);
	struct evtchn_alloc_unbound au = { .dom = DOMID_SELF, .remote_dom = DOMID_SELF };
	CHECK_EQ(evtchn(EVTCHNOP_alloc_unbound, &au, sizeof(au)), 0);
	struct evtchn_bind_interdomain bd = { .remote_dom = DOMID_SELF, .remote_port = au.port };
	CHECK_EQ(evtchn(EVTCHNOP_bind_interdomain, &bd, sizeof(bd)), 0);
	bv = (struct evtchn_bind_vcpu){ .port = au.port, .vcpu = NR };
	CHECK_EQ(evtchn(EVTCHNOP_bind_vcpu, &bv, sizeof(bv)), -VIREO_ENOENT);
	bv.vcpu = 1;
	CHECK_EQ(evtchn(EVTCHNOP_bind_vcpu, &bv, sizeof(bv)), 0);
	/* bd.local_port sends to au.port, now notifying vCPU 1 (the new port's own pending bit, as Xen, went to vCPU 0). */
	sh->evtchn_pending[0] = 0;
	for (unsigned i = 0; i < NR; i++)
		sh->vcpu_info[i].evtchn_upcall_pending = (uint8_t)(sh->vcpu_info[i].evtchn_pending_sel = 0);
	snd.port = bd.local_port;
	CHECK_EQ(evtchn(EVTCHNOP_send, &snd, sizeof(snd)), 0);
	CHECK(sh->evtchn_pending[0] & (1ull << au.port));
	CHECK_EQ(sh->vcpu_info[1].evtchn_upcall_pending, 1);
	CHECK_EQ(sh->vcpu_info[0].evtchn_upcall_pending, 0);
	/* VIRQ_TIMER is per vCPU: bound once on each; a global VIRQ only on vCPU 0. */
	struct evtchn_bind_virq t0 = { .virq = VIRQ_TIMER, .vcpu = 0 }, t1 = { .virq = VIRQ_TIMER, .vcpu = 1 };
	CHECK_EQ(evtchn(EVTCHNOP_bind_virq, &t0, sizeof(t0)), 0);
	CHECK_EQ(evtchn(EVTCHNOP_bind_virq, &t1, sizeof(t1)), 0);
	CHECK(t0.port != t1.port);
	CHECK_EQ(evtchn(EVTCHNOP_bind_virq, &t1, sizeof(t1)), -VIREO_EEXIST);
	CHECK_EQ(D->vcpu[1]->ev.virq_port[VIRQ_TIMER], t1.port);
	struct evtchn_bind_virq g = { .virq = VIRQ_CONSOLE, .vcpu = 1 };
	CHECK_EQ(evtchn(EVTCHNOP_bind_virq, &g, sizeof(g)), -VIREO_EINVAL);
	struct evtchn_close cl = { t1.port };
	CHECK_EQ(evtchn(EVTCHNOP_close, &cl, sizeof(cl)), 0);
	CHECK_EQ(D->vcpu[1]->ev.virq_port[VIRQ_TIMER], 0);
	CHECK_EQ(D->vcpu[0]->ev.virq_port[VIRQ_TIMER], t0.port);
	teardown();
}

/* Another vCPU's vcpu_info may be moved; its timers are its own (-EINVAL from another). */
static void other_vcpus_info_and_timers(void)
{
	REQUIRE(setup());
	mfn_t page = D->p2m[(D->layout.v_end - D->layout.v_start) / 4096 + 3];
	struct vcpu_register_vcpu_info info = { .mfn = page, .offset = 128 };
	CHECK_EQ(vcpu_op(VCPUOP_register_vcpu_info, 1, &info, sizeof(info)), 0);
	CHECK(vcpu_info_of(D->vcpu[1]) == (struct vcpu_info *)((uint8_t *)mfn_to_virt(page) + 128));
	CHECK_EQ(vcpu_op(VCPUOP_register_vcpu_info, 1, &info, sizeof(info)), -VIREO_EINVAL);
	info.offset = 192;
	CHECK_EQ(vcpu_op(VCPUOP_register_vcpu_info, 2, &info, sizeof(info)), 0);   /* same page, another slot */
	struct vcpu_set_singleshot_timer ss = { .timeout_abs_ns = 1 };
	CHECK_EQ(vcpu_op(VCPUOP_set_singleshot_timer, 1, &ss, sizeof(ss)), -VIREO_EINVAL);
	CHECK_EQ(vcpu_op(VCPUOP_stop_periodic_timer, 2, NULL, 0), -VIREO_EINVAL);
	CHECK_EQ(D->vcpu[1]->ev.timer_ns, 0);
	audit();
	teardown();
}

static const struct test_case cases[] = {
	TEST(builder_makes_every_vcpu),
	TEST(is_up_and_unknown_vcpus),
	TEST(initialise_refusals_change_nothing),
	TEST(initialise_up_down),
	TEST(events_go_to_the_ports_vcpu),
	TEST(other_vcpus_info_and_timers),
};

TEST_MAIN(cases)
