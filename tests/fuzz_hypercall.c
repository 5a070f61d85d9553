/*
 * libFuzzer target: the machine-independent hypercall handlers
 * (core/hypercall.c) against a real domain made by the domain builder on the
 * hosted machine, whose guest memory is reached through a software walk of
 * the guest's own page tables (arch/hosted/guest.c).
 *
 * Each input is a sequence of hypercalls with hostile arguments: raw
 * values, pointers into a page of the guest filled from the input, pointers
 * into the hypervisor's range, into the guest's read-only page tables, or
 * just past the end of the guest's mappings. After every call:
 *   - the guest's bootstrap page tables are unchanged (no hypercall here may
 *     write them, and copy_to_guest must refuse their read-only mappings);
 *   - every trap-table entry is empty or a canonical guest address;
 *   - the domain is running, or it shut down through sched_op.
 * After each input the frame table must pass mm_audit (counts, GDT frames
 * and their descriptors), then the domain is destroyed and every frame must
 * be back in the allocator.
 */
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <arch/hosted.h>
#include <core/domain.h>
#include <core/hypercall.h>
#include <mm/frame_table.h>
#include <mm/frame_alloc.h>
#include <mm/memmap.h>
#include <public/xen.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define KERNEL_PATH "out/guests/hello.elf"     /* built with everything else */
#define DOM_MEM (8u << 20)

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

static const uint64_t calls[] = {
	__HYPERVISOR_set_trap_table, __HYPERVISOR_console_io, __HYPERVISOR_xen_version,
	__HYPERVISOR_sched_op, __HYPERVISOR_memory_op, __HYPERVISOR_vcpu_op, 60, 1000,
	__HYPERVISOR_set_gdt, __HYPERVISOR_update_descriptor,
};

static void check_invariants(const struct domain *d, uint64_t pt_sum)
{
	if (pt_checksum(d) != pt_sum)
		abort();                                  /* a hypercall wrote a page table */
	for (int v = 0; v < 256; v++) {
		uint64_t a = d->traps[v].address;
		if (a && (!domain_range_is_guest(a, a + 1)))
			abort();                          /* a handler outside the guest */
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int ready;
	const uint8_t *p = data, *end = data + size;

	if (!ready) {
		setup_once();
		ready = 1;
	}
	if (domain_build(0, "fuzz", kernel, kernel_len, NULL, 0, "fuzz", DOM_MEM, true) != 0)
		abort();
	if (setjmp(back) == 0)
		domains_run();                            /* "enters" it: back here by on_enter */
	struct domain *d = domain_by_id(0);
	uint64_t pt_sum = pt_checksum(d);

	/* The guest's scratch page holds the first 4 KiB of the input. */
	uint8_t scratch[4096] = { 0 };
	memcpy(scratch, data, size < sizeof(scratch) ? size : sizeof(scratch));
	if (copy_to_guest(d->layout.vstack_start, scratch, sizeof(scratch)) != 0)
		abort();

	for (int n = 0; n < 64 && p < end; n++) {
		uint64_t nr = calls[take(&p, end, 1) % (sizeof(calls) / sizeof(calls[0]))];
		uint64_t a[5];
		for (int i = 0; i < 5; i++)
			a[i] = argument(d, &p, end);
		if (setjmp(back) != 0)
			break;                            /* it shut down: the machine "halted" */
		struct hypercall_args args = { { a[0], a[1], a[2], a[3], a[4], 0 } };
		(void)hypercall_dispatch(nr, &args);
		check_invariants(d, pt_sum);
	}
	if (d->state != DOMAIN_RUNNING && d->state != DOMAIN_SHUTDOWN && d->state != DOMAIN_CRASHED)
		abort();
	struct domain_mm *mm = &d->mm;
	char why[256];
	if (mm_audit(&mm, 1, why, sizeof(why)) != 0) {
		fprintf(stderr, "fuzz_hypercall: audit: %s\n", why);
		abort();                                  /* counts, GDT frames or descriptors wrong */
	}
	domain_destroy(d);
	cpu_current[0] = NULL;
	if (frame_nr_free() != free_at_start)
		abort();                                  /* a frame leaked */
	return 0;
}
