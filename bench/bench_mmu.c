/*
 * The PV MMU hypercalls on the hosted build: a real domain from the domain
 * builder, its requests in its own memory, through hypercall_dispatch as a
 * guest's SYSCALL would reach it (the entry/exit itself is the image's; see
 * the benchmark guest).
 *
 *   mmu/update/B            mmu_update, batches of B entries; time per entry
 *   mmu/update_va_mapping   the same updates one hypercall each
 *   mmu/multicall_uvm/B     B update_va_mapping calls in one multicall; per entry
 *   mmu/pin_unpin_l4        pin then unpin an address space (L4, L3, L2, 4 L1s
 *                           mapping 2048 frames): validation and release
 *
 * Every update moves an L1 entry between two frames (writable), so each one
 * takes the new frame's references and drops the old one's: the reference
 * path, not the flags-only fast path. Guest copies go through the hosted
 * software page walk, which is slower than a hardware walk: compare ratios
 * (batch 512 against batch 1), not absolute times, with the image.
 * After each run the frame table is audited, so a broken executor is an error.
 */
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>

#include <arch/hosted.h>
#include <core/domain.h>
#include <core/hypercall.h>
#include <mm/frame_alloc.h>
#include <mm/frame_table.h>
#include <mm/memmap.h>
#include <public/xen.h>
#include <vireo/pte.h>

#include "shim.h"

#define KERNEL_PATH "out/guests/hello.elf"

static struct domain *dom;
static mfn_t l1, frame_x, frame_y;
static uint64_t list_va[2];       /* two request lists: to X, to Y */

static mfn_t spare(unsigned k)
{
	return dom->p2m[((dom->layout.v_end - dom->layout.v_start) >> PAGE_SHIFT) + k];
}

static long hc(uint64_t nr, uint64_t a0, uint64_t a1, uint64_t a2, uint64_t a3)
{
	struct hypercall_args a = { { a0, a1, a2, a3, 0, 0 } };
	return hypercall_dispatch(nr, &a);
}

static long ext1(uint32_t cmd, mfn_t mfn)
{
	struct mmuext_op op = { .cmd = cmd };
	op.arg1.mfn = mfn;
	uint64_t va = dom->layout.vstack_end + 0x3F000;
	copy_to_guest(va, &op, sizeof(op));
	return hc(__HYPERVISOR_mmuext_op, va, 1, 0, DOMID_SELF);
}

static bool setup_once(void)
{
	static bool ready;
	static uint8_t kernel[1 << 20];
	struct memmap m;
	if (ready)
		return dom != NULL;
	ready = true;
	FILE *f = fopen(KERNEL_PATH, "rb");
	if (!f)
		return false;
	size_t len = fread(kernel, 1, sizeof(kernel), f);
	fclose(f);
	/* The ring benchmarks may have made the (default, 64 MiB) machine already. */
	(void)hosted_machine_init(64u << 20, 2);
	memmap_init(&m);
	memmap_add(&m, 1u << 20, machine_nr_frames() << PAGE_SHIFT);
	if (frame_alloc_init(&m) != 0 || frame_table_init(machine_nr_frames()) != 0)
		return false;
	if (domain_build(0, "bench", kernel, len, NULL, 0, "", 24u << 20, false, 1) != 0)
		return false;
	dom = domain_by_id(0);
	hosted_switch_to(dom);
	hypercall_preempt_tsc = ~0ull >> 1;               /* no continuations in the timings */
	l1 = spare(0);
	frame_x = spare(1);
	frame_y = spare(2);
	if (ext1(MMUEXT_CLEAR_PAGE, l1) || ext1(MMUEXT_PIN_L1_TABLE, l1)) {
		dom = NULL;
		return false;
	}
	/* The lists live in the slack after the boot stack: 512 entries = 8 KiB each. */
	static struct mmu_update r[512];
	for (int k = 0; k < 2; k++) {
		for (int i = 0; i < 512; i++)
			r[i] = (struct mmu_update){ ((uint64_t)l1 << PAGE_SHIFT) + i * 8,
						    ((uint64_t)(k ? frame_y : frame_x) << PAGE_SHIFT) | PTE_P | PTE_W };
		list_va[k] = dom->layout.vstack_end + k * 0x2000;
		copy_to_guest(list_va[k], r, sizeof(r));
	}
	return true;
}

static void check(struct bench_state *s)
{
	struct domain_mm *mms[1] = { &dom->mm };
	char why[200];
	if (mm_audit(mms, 1, why, sizeof(why)) != 0)
		bench_error(s, why);
}

static void bench_mmu_update(struct bench_state *s)
{
	int64_t batch = bench_arg(s, 0);
	unsigned k = 0;
	if (!setup_once()) {
		bench_error(s, "set-up failed (is out/guests/hello.elf built?)");
		return;
	}
	while (bench_keep_running_batch(s, batch)) {
		if (hc(__HYPERVISOR_mmu_update, list_va[k], (uint64_t)batch, 0, DOMID_SELF) != 0) {
			bench_error(s, "mmu_update failed");
			break;
		}
		k ^= 1;
	}
	bench_set_items(s, bench_iterations(s));
	check(s);
}
BENCH_REGISTER(bench_mmu_update, "mmu/update", 1, 8, 64, 512);

/* The mapping of a slack page of the guest, moved between X and Y one call at a time. */
static void bench_update_va_mapping(struct bench_state *s)
{
	if (!setup_once()) {
		bench_error(s, "set-up failed");
		return;
	}
	uint64_t va = dom->layout.vstack_end + 0x40000;
	uint64_t val[2] = { ((uint64_t)frame_x << PAGE_SHIFT) | PTE_P | PTE_W,
			    ((uint64_t)frame_y << PAGE_SHIFT) | PTE_P | PTE_W };
	unsigned k = 0;
	while (bench_keep_running(s)) {
		if (hc(__HYPERVISOR_update_va_mapping, va, val[k], UVMF_NONE, 0) != 0) {
			bench_error(s, "update_va_mapping failed");
			break;
		}
		k ^= 1;
	}
	bench_set_items(s, bench_iterations(s));
	check(s);
}
BENCH_REGISTER(bench_update_va_mapping, "mmu/update_va_mapping", 0);

static void bench_multicall_uvm(struct bench_state *s)
{
	int64_t batch = bench_arg(s, 0);
	if (!setup_once()) {
		bench_error(s, "set-up failed");
		return;
	}
	/* batch update_va_mapping entries over batch slack pages, for X then for Y. */
	static struct multicall_entry mc[2][64];
	uint64_t mc_va[2];
	for (int k = 0; k < 2; k++) {
		for (int i = 0; i < batch; i++)
			mc[k][i] = (struct multicall_entry){ .op = __HYPERVISOR_update_va_mapping, .args = {
				dom->layout.vstack_end + 0x40000 + i * PAGE_SIZE,
				((uint64_t)(k ? frame_y : frame_x) << PAGE_SHIFT) | PTE_P | PTE_W, UVMF_NONE } };
		mc_va[k] = dom->layout.vstack_end + 0x8000 + k * 0x1000;
		copy_to_guest(mc_va[k], mc[k], sizeof(mc[k]));
	}
	unsigned k = 0;
	while (bench_keep_running_batch(s, batch)) {
		if (hc(__HYPERVISOR_multicall, mc_va[k], (uint64_t)batch, 0, 0) != 0) {
			bench_error(s, "multicall failed");
			break;
		}
		k ^= 1;
	}
	bench_set_items(s, bench_iterations(s));
	check(s);
}
BENCH_REGISTER(bench_multicall_uvm, "mmu/multicall_uvm", 64);

static void bench_pin_unpin_l4(struct bench_state *s)
{
	if (!setup_once()) {
		bench_error(s, "set-up failed");
		return;
	}
	/* L4 (spare 10) -> L3 (11) -> L2 (12) -> L1s (13..16) -> 2048 data frames read-only. */
	mfn_t l4 = spare(10), l3 = spare(11), l2 = spare(12);
	static struct mmu_update r[3 + 4 + 2048];
	unsigned n = 0;
	for (unsigned i = 10; i < 17; i++)
		ext1(MMUEXT_CLEAR_PAGE, spare(i));
	r[n++] = (struct mmu_update){ ((uint64_t)l4 << PAGE_SHIFT) + 8 * 8, ((uint64_t)l3 << PAGE_SHIFT) | PTE_P | PTE_W };
	r[n++] = (struct mmu_update){ ((uint64_t)l3 << PAGE_SHIFT), ((uint64_t)l2 << PAGE_SHIFT) | PTE_P | PTE_W };
	for (unsigned j = 0; j < 4; j++) {
		mfn_t t = spare(13 + j);
		r[n++] = (struct mmu_update){ ((uint64_t)l2 << PAGE_SHIFT) + j * 8, ((uint64_t)t << PAGE_SHIFT) | PTE_P | PTE_W };
		for (unsigned i = 0; i < 512; i++)
			r[n++] = (struct mmu_update){ ((uint64_t)t << PAGE_SHIFT) + i * 8,
						      ((uint64_t)spare(100 + j * 512 + i) << PAGE_SHIFT) | PTE_P };
	}
	uint64_t va = dom->layout.vstack_end + 0x10000;
	copy_to_guest(va, r, n * sizeof(r[0]));
	if (hc(__HYPERVISOR_mmu_update, va, n, 0, DOMID_SELF) != 0) {
		bench_error(s, "building the address space failed");
		return;
	}
	while (bench_keep_running(s)) {
		if (ext1(MMUEXT_PIN_L4_TABLE, l4) != 0 || ext1(MMUEXT_UNPIN_TABLE, l4) != 0) {
			bench_error(s, "pin/unpin failed");
			break;
		}
	}
	bench_set_items(s, bench_iterations(s));
	check(s);
}
BENCH_REGISTER(bench_pin_unpin_l4, "mmu/pin_unpin_l4", 0);
