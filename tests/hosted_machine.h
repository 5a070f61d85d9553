/*
 * For the hosted tests that build real domains (test_mmu, test_event,
 * test_domain_build): the hosted machine with mem bytes of RAM and the
 * frame table, made once per test program, and the hello guest's image
 * (built with everything else) read into kernel. Exits on failure.
 */
#ifndef TESTS_HOSTED_MACHINE_H
#define TESTS_HOSTED_MACHINE_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include <arch/hosted.h>
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

#endif
