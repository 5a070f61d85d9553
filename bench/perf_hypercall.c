/*
 * Deterministic driver for the perf gate (ci/perfgate): the machine-
 * independent part of the hypercall path (hypercall_dispatch and a handler)
 * on the hosted build, against a real domain made by the domain builder, so
 * that a change that makes a common hypercall cost more instructions fails
 * CI. Each operation runs CALLS times in its own NOINLINE op_<name>
 * function; one manifest line per operation: "op <name> <calls> 1".
 *
 * The architecture's entry and exit (SYSCALL, swapgs, the register frame,
 * IRETQ) are not counted here: callgrind cannot run them. They are timed by
 * the benchmark guest instead (./vireo bench).
 */
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>

#include <arch/hosted.h>
#include <core/domain.h>
#include <mm/frame_alloc.h>
#include <mm/memmap.h>
#include <public/sched.h>
#include <public/version.h>
#include <public/xen.h>

#define CALLS 4096
#define KERNEL_PATH "out/guests/hello.elf"

static jmp_buf back;
static uint64_t scratch_va;

static void on_enter(const struct guest_entry *e) { longjmp(back, 1); }

static NOINLINE void op_hypercall_xen_version(void)
{
	(void)hypercall_dispatch(__HYPERVISOR_xen_version, XENVER_version, 0, 0, 0, 0);
}

static NOINLINE void op_hypercall_sched_yield(void)
{
	(void)hypercall_dispatch(__HYPERVISOR_sched_op, SCHEDOP_yield, 0, 0, 0, 0);
}

static NOINLINE void op_hypercall_unknown(void)
{
	(void)hypercall_dispatch(60, 0, 0, 0, 0, 0);
}

static NOINLINE void op_hypercall_copy_16(void)
{
	/* extraversion: a 16-byte copy to the guest through its page tables */
	(void)hypercall_dispatch(__HYPERVISOR_xen_version, XENVER_extraversion, scratch_va, 0, 0, 0);
}

static void run(const char *name, void (*op)(void))
{
	for (int i = 0; i < CALLS; i++)
		op();
	printf("op %s %d 1\n", name, CALLS);
}

int main(void)
{
	static uint8_t kernel[1 << 20];
	struct memmap m;
	FILE *f = fopen(KERNEL_PATH, "rb");
	if (!f) {
		fprintf(stderr, "perf-hypercall: %s missing (run ninja from the repository root)\n", KERNEL_PATH);
		return 1;
	}
	size_t len = fread(kernel, 1, sizeof(kernel), f);
	fclose(f);
	if (hosted_machine_init(32u << 20, 2) != 0)
		return 1;
	memmap_init(&m);
	memmap_add(&m, 1u << 20, 32u << 20);
	if (frame_alloc_init(&m) != 0)
		return 1;
	hosted_set_guest_hooks(on_enter, NULL);
	if (domain_build(0, "perf", kernel, len, "", 8u << 20, true) != 0)
		return 1;
	if (setjmp(back) == 0)
		domains_run();                            /* back here through on_enter */
	scratch_va = domain_by_id(0)->layout.vstack_start;

	run("hypercall_xen_version", op_hypercall_xen_version);
	run("hypercall_sched_yield", op_hypercall_sched_yield);
	run("hypercall_unknown", op_hypercall_unknown);
	run("hypercall_copy_16", op_hypercall_copy_16);
	return 0;
}
