/*
 * For the hosted tests that build real domains (test_mmu, test_event,
 * test_domain_build): the hosted machine with mem bytes of RAM and the
 * frame table, made once per test program, and the hello guest's image
 * (built with everything else) read into kernel. Exits on failure.
 */
#ifndef TESTS_HOSTED_MACHINE_H
#define TESTS_HOSTED_MACHINE_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include <arch/hosted.h>
#include <core/domain.h>
#include <mm/frame_alloc.h>
#include <mm/frame_table.h>
#include <mm/memmap.h>

#define HOSTED_KERNEL_PATH "out/guests/hello.elf"

/* *len: the image's length; *free_at_start: free frames once the machine is up. */
static inline void hosted_machine_once(const char *prog, uint64_t mem, uint8_t *kernel, size_t cap,
				       size_t *len, uint64_t *free_at_start)
{
	static int done;
	struct memmap m;
	if (done)
		return;
	done = 1;
	FILE *f = fopen(HOSTED_KERNEL_PATH, "rb");
	if (!f) {
		fprintf(stderr, "%s: %s missing (run from the repository root after ninja)\n", prog,
			HOSTED_KERNEL_PATH);
		exit(1);
	}
	*len = fread(kernel, 1, cap, f);
	fclose(f);
	if (hosted_machine_init(mem, 2) != 0)
		exit(1);
	memmap_init(&m);
	memmap_add(&m, 1u << 20, mem);
	if (frame_alloc_init(&m) != 0 || frame_table_init(machine_nr_frames()) != 0)
		exit(1);
	*free_at_start = frame_nr_free();
}

/*
 * The two domains test_mmu and test_event work on, from the image: B,
 * domain 0, privileged, and A, domain 1, each of mem bytes with one vCPU;
 * A is then the current domain. false if either cannot be built.
 */
static inline bool hosted_build_pair(const uint8_t *kernel, size_t len, uint64_t mem, struct domain **b,
				     struct domain **a)
{
	if (domain_build(0, "B", kernel, len, NULL, 0, "", mem, true, 1) != 0 ||
	    domain_build(1, "A", kernel, len, NULL, 0, "", mem, false, 1) != 0)
		return false;
	*b = domain_by_id(0);
	*a = domain_by_id(1);
	hosted_switch_to(*a);
	return true;
}

#endif
