/*
 * The domain builder's initrd (core/domain.c, domain_build) on the hosted
 * machine, with the hello guest as the kernel: the initrd's bytes are where
 * start_info says (mod_start, a virtual address the bootstrap tables map,
 * and mod_len, its exact length), read through the guest's own page tables;
 * without one both are 0; one that does not fit is refused with a message
 * that names the domain, before a byte of it is read, and with every frame
 * given back.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "hosted_machine.h"

#include <arch/hosted.h>
#include <core/domain.h>
#include <mm/frame_alloc.h>
#include <mm/frame_table.h>
#include <mm/memmap.h>
#include <public/xen.h>
#include <vireo/errno.h>

#define DOM_MEM (16u << 20)

static uint8_t kernel[1 << 20];
static size_t kernel_len;
static uint64_t free_at_start;

static void machine_once(void)
{
	hosted_machine_once("test_domain_build", 64u << 20, kernel, sizeof(kernel), &kernel_len, &free_at_start);
}

/* A pattern no two pages share, so a page copied to the wrong place shows. */
static uint8_t *pattern(size_t len)
{
	uint8_t *p = malloc(len ? len : 1);
	for (size_t i = 0; i < len; i++)
		p[i] = (uint8_t)(i * 7 + (i >> 12) * 13 + 1);
	return p;
}

/* Build domain 0 (printing captured into *log), return its start_info as the guest sees it. */
static int build(const void *initrd, size_t len, uint64_t mem, struct start_info *si, char *log,
		 size_t log_size)
{
	machine_once();
	int saved = test_capture_begin();
	int rc = domain_build(0, "rd", kernel, kernel_len, initrd, len, "", mem, true, 1);
	snprintf(log, log_size, "%s", test_capture_end(saved, NULL));
	if (rc == 0 && si) {
		struct domain *d = domain_by_id(0);
		hosted_switch_to(d);
		if (copy_from_guest(si, d->layout.vstartinfo_start, sizeof(*si)) != 0)
			rc = -1000;
	}
	return rc;
}

static void destroy(void)
{
	hosted_switch_to(NULL);
	domain_destroy(domain_by_id(0));
	CHECK_EQ(frame_nr_free(), free_at_start);
}

static void initrd_readable_at_mod_start(void)
{
	const size_t len = 3 * 4096 + 123;              /* three pages and a bit */
	uint8_t *rd = pattern(len), *got = calloc(1, 4 * 4096);
	struct start_info si;
	char log[512];
	REQUIRE(build(rd, len, DOM_MEM, &si, log, sizeof(log)) == 0);
	struct domain *d = domain_by_id(0);
	CHECK_EQ(si.mod_start, d->layout.vinitrd_start);
	CHECK_EQ(si.mod_len, len);
	CHECK_EQ(si.flags & SIF_MOD_START_PFN, 0);
	CHECK_EQ(d->layout.vinitrd_end - d->layout.vinitrd_start, 4 * 4096);
	/* Through the guest's bootstrap tables, as the guest reads it; the rest of the page is zero. */
	CHECK_EQ(copy_from_guest(got, si.mod_start, 4 * 4096), 0);
	CHECK(memcmp(got, rd, len) == 0);
	CHECK(test_all_zero(got + len, 4 * 4096 - len));
	/* The kernel is still whole before it and the P2M list right after it. */
	uint64_t first_mfn = 0;
	CHECK_EQ(copy_from_guest(&first_mfn, si.mfn_list, 8), 0);
	CHECK_EQ(first_mfn, d->p2m[0]);
	CHECK_EQ(si.mfn_list, d->layout.vinitrd_end);
	char want[128];
	snprintf(want, sizeof(want), ", initrd %zu bytes at 0x%llx, privileged", len,
		 (unsigned long long)si.mod_start);
	CHECK(strstr(log, "domain 0 (rd): ") && strstr(log, want));
	destroy();
	free(rd);
	free(got);
}

/* No initrd, or one of length 0 (Xen's rule): mod_start and mod_len are 0, nothing between. */
static void no_initrd_is_zero(void)
{
	static const uint8_t one[1] = { 0x55 };
	const struct { const void *p; size_t len; } cases[] = {
		{ NULL, 0 }, { one, 0 }, { NULL, 4096 },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct start_info si;
		char log[512];
		REQUIRE(build(cases[i].p, cases[i].len, DOM_MEM, &si, log, sizeof(log)) == 0);
		struct domain *d = domain_by_id(0);
		CHECK_EQ(si.mod_start, 0);
		CHECK_EQ(si.mod_len, 0);
		CHECK_EQ(d->layout.vinitrd_start, d->layout.vinitrd_end);
		CHECK_EQ(si.mfn_list, d->layout.vkern_end);
		CHECK(!strstr(log, "initrd"));
		destroy();
	}
}

/* A one-byte initrd: one page, mod_len 1. */
static void one_byte_initrd(void)
{
	static const uint8_t one[1] = { 0xA7 };
	struct start_info si;
	char log[512];
	uint8_t got[4096];
	REQUIRE(build(one, 1, DOM_MEM, &si, log, sizeof(log)) == 0);
	CHECK_EQ(si.mod_len, 1);
	CHECK_EQ(copy_from_guest(got, si.mod_start, sizeof(got)), 0);
	CHECK_EQ(got[0], 0xA7);
	CHECK(test_all_zero(got + 1, sizeof(got) - 1));
	destroy();
}

/*
 * An initrd too big for the domain's memory is refused before any of it is
 * read: the lengths here are far past the 16-byte buffer, so under ASan a
 * single read would be caught. Nothing stays allocated, the slot is empty
 * again, and a domain can be built in it after.
 */
static void too_big_initrd_refused(void)
{
	static const uint8_t small[16];
	const size_t lens[] = { DOM_MEM, DOM_MEM + 1, (size_t)1 << 40, ~(size_t)0, ~(size_t)0 - 4095 };
	for (size_t i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
		char log[512];
		CHECK_EQ(build(small, lens[i], DOM_MEM, NULL, log, sizeof(log)), -VIREO_ENOMEM);
		CHECK(strstr(log, "domain 0 (rd): cannot build (-12): its initrd does not fit its memory"));
		CHECK(strstr(log, "not started"));
		CHECK_EQ(domain_by_id(0)->state, DOMAIN_EMPTY);
		CHECK_EQ(frame_nr_free(), free_at_start);
	}
	struct start_info si;
	char log[512];
	CHECK_EQ(build(small, sizeof(small), DOM_MEM, &si, log, sizeof(log)), 0);
	CHECK_EQ(si.mod_len, sizeof(small));
	destroy();
}

/* The largest initrd that fits is taken whole, to its last byte; one page more is refused. */
static void largest_initrd_fits(void)
{
	const uint64_t mem = 8u << 20;
	size_t fits = 0;
	char log[512];
	struct dom_layout l;
	struct elf_guest g;
	machine_once();
	REQUIRE(elf_parse(kernel, kernel_len, mem / 2, &g) == 0);
	for (size_t len = 4u << 20; len <= mem; len += 4096)
		if (domain_layout(&g, mem >> 12, len, &l) == 0)
			fits = len;
	REQUIRE(fits != 0);
	uint8_t *rd = pattern(fits), *got = malloc(fits);
	struct start_info si;
	REQUIRE(build(rd, fits, mem, &si, log, sizeof(log)) == 0);
	CHECK_EQ(si.mod_len, fits);
	CHECK_EQ(copy_from_guest(got, si.mod_start, fits), 0);
	CHECK(memcmp(got, rd, fits) == 0);
	destroy();
	CHECK_EQ(build(rd, fits + 1, mem, NULL, log, sizeof(log)), -VIREO_ENOMEM);
	CHECK(strstr(log, "its initrd does not fit"));
	CHECK_EQ(frame_nr_free(), free_at_start);
	free(rd);
	free(got);
}

static const struct test_case cases[] = {
	TEST(initrd_readable_at_mod_start),
	TEST(no_initrd_is_zero),
	TEST(one_byte_initrd),
	TEST(too_big_initrd_refused),
	TEST(largest_initrd_fits),
};

TEST_MAIN(cases)
