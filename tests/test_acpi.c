/*
 * Unit tests of the ACPI table reader (core/acpi.c, include/core/acpi.h).
 *
 * The tests build firmware tables by hand in hosted machine memory (low
 * 2 MiB, through maddr_to_virt), with correct checksums unless a test breaks
 * them on purpose, and check what acpi_find_rsdp / acpi_parse make of them:
 * the good paths (RSDT and XSDT, every MADT entry type we read, FADT ports,
 * PM timer width, reset register, _S5_ decoding) and every hostile case the
 * reader promises to survive (bad checksums, lengths too small, too large,
 * not whole entries, running off the end of machine memory, MADT entries
 * of length 0/1 or running past the table, too many CPUs, and random
 * mutations).
 *
 * Under AddressSanitizer the firmware area is poisoned around the tables
 * while acpi_parse runs (fw_guard_on), so a read of even one byte outside
 * the tables the test wrote, though still inside machine memory, is a
 * reported error rather than a silent pass.
 */
#define _GNU_SOURCE
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <arch/hosted.h>
#include <core/acpi.h>
#include <vireo/errno.h>
#include <vireo/machine.h>

#include "harness.h"

#if defined(__has_feature)
#if __has_feature(address_sanitizer)
#include <sanitizer/asan_interface.h>
#include <sanitizer/common_interface_defs.h>
#define FW_POISON(p, n)   __asan_poison_memory_region((p), (n))
#define FW_UNPOISON(p, n) __asan_unpoison_memory_region((p), (n))
/* Reports must reach the terminal, not the captured fd 2 of parse(). */
#define FW_REPORT_TO(fd)  __sanitizer_set_report_fd((void *)(intptr_t)(fd))
#endif
#endif
#ifndef FW_POISON
#define FW_POISON(p, n)   ((void)(p), (void)(n))
#define FW_UNPOISON(p, n) ((void)(p), (void)(n))
#define FW_REPORT_TO(fd)  ((void)(fd))
#endif

/* ---- firmware memory ----------------------------------------------------- */

#define FW_LO     0xe0000u      /* tables live in [FW_LO, FW_HI) */
#define FW_HI     0x110000u
#define BIOS_LO   0xe0000u
#define BIOS_HI   0x100000u
#define RSDP_AT   0xe0040u
#define RSDT_AT   0x100000u
#define XSDT_AT   0x101000u
#define MADT_AT   0x102000u
#define FADT_AT   0x103000u
#define DSDT_AT   0x104000u
#define SPARE_AT  0x105000u
#define SPARE2_AT 0x106000u

#define LAPIC_DEFAULT 0xfee00000u
#define IOAPIC_BASE   0xfec00000u

/* Byte ranges the reader may touch while guarded: the tables as written. */
struct fw_region {
	uint64_t at;
	size_t len;
};
static struct fw_region fw_regions[64];
static unsigned fw_nr_regions;

static uint8_t *at(uint64_t maddr, size_t len)
{
	uint8_t *p = maddr_to_virt(maddr, len);
	if (!p) {
		fprintf(stderr, "test bug: 0x%llx+%zu not in machine memory\n",
			(unsigned long long)maddr, len);
		abort();
	}
	return p;
}

static void fw_note(uint64_t maddr, size_t len)
{
	if (fw_nr_regions < 64)
		fw_regions[fw_nr_regions++] = (struct fw_region){ maddr, len };
}

static uint64_t mem_end(void)
{
	return machine_nr_frames() << PAGE_SHIFT;
}

/* A 16 MiB machine (once), with the firmware area cleared. */
static void fw_clear(void)
{
	int rc = hosted_machine_init(16u << 20, 2);
	if (rc != 0 && rc != -VIREO_EBUSY)
		abort();
	if (rc == 0)
		FW_REPORT_TO(dup(2));
	FW_UNPOISON(at(FW_LO, FW_HI - FW_LO), FW_HI - FW_LO);
	memset(at(FW_LO, FW_HI - FW_LO), 0, FW_HI - FW_LO);
	fw_nr_regions = 0;
}

/* Poison the firmware area except the noted tables. */
static void fw_guard_on(void)
{
	FW_POISON(at(FW_LO, FW_HI - FW_LO), FW_HI - FW_LO);
	for (unsigned i = 0; i < fw_nr_regions; i++)
		if (fw_regions[i].at >= FW_LO && fw_regions[i].at + fw_regions[i].len <= FW_HI)
			FW_UNPOISON(at(fw_regions[i].at, fw_regions[i].len), fw_regions[i].len);
}

static void fw_guard_off(void)
{
	FW_UNPOISON(at(FW_LO, FW_HI - FW_LO), FW_HI - FW_LO);
}

static void put32(uint64_t maddr, uint32_t v)
{
	memcpy(at(maddr, 4), &v, 4);
}

static void put64(uint64_t maddr, uint64_t v)
{
	memcpy(at(maddr, 8), &v, 8);
}

static uint32_t get32(uint64_t maddr)
{
	uint32_t v;
	memcpy(&v, at(maddr, 4), 4);
	return v;
}

static uint8_t sum8(const uint8_t *p, size_t n)
{
	uint8_t s = 0;
	for (size_t i = 0; i < n; i++)
		s = (uint8_t)(s + p[i]);
	return s;
}

/* Make the n bytes at maddr sum to zero by setting the byte at maddr + csum. */
static void seal_at(uint64_t maddr, size_t n, size_t csum)
{
	uint8_t *p = at(maddr, n);
	p[csum] = 0;
	p[csum] = (uint8_t)-sum8(p, n);
}

/* Fix a table's checksum over the length its header claims. */
static void seal_table(uint64_t maddr)
{
	seal_at(maddr, get32(maddr + 4), 9);
}

static void put_header(uint64_t maddr, const char *sig, uint32_t len, uint8_t rev)
{
	uint8_t *p = at(maddr, 36);
	memset(p, 0, 36);
	memcpy(p, sig, 4);
	memcpy(p + 4, &len, 4);
	p[8] = rev;
	memcpy(p + 10, "VIREO ", 6);
	memcpy(p + 16, "TESTTBL ", 8);
}

/* A table of len bytes: header, then body (len - 36 bytes), sealed and noted. */
static void put_table(uint64_t maddr, const char *sig, uint8_t rev, const void *body, size_t blen)
{
	put_header(maddr, sig, (uint32_t)(36 + blen), rev);
	memcpy(at(maddr + 36, blen ? blen : 1), body, blen);
	seal_table(maddr);
	fw_note(maddr, 36 + blen);
}

static void put_rsdp(uint64_t maddr, uint8_t rev, uint32_t rsdt, uint64_t xsdt)
{
	uint8_t *p = at(maddr, 36);
	memset(p, 0, 36);
	memcpy(p, "RSD PTR ", 8);
	memcpy(p + 9, "VIREO ", 6);
	p[15] = rev;
	memcpy(p + 16, &rsdt, 4);
	if (rev >= 2) {
		uint32_t len = 36;
		memcpy(p + 20, &len, 4);
		memcpy(p + 24, &xsdt, 8);
	}
	seal_at(maddr, 20, 8);          /* the 1.0 checksum first: the extended one covers it */
	if (rev >= 2)
		seal_at(maddr, 36, 32);
	fw_note(maddr, rev >= 2 ? 36 : 20);
}

static void put_root(uint64_t maddr, bool xsdt, const uint64_t *e, size_t n)
{
	size_t es = xsdt ? 8 : 4;
	put_header(maddr, xsdt ? "XSDT" : "RSDT", (uint32_t)(36 + n * es), 1);
	for (size_t i = 0; i < n; i++) {
		if (xsdt)
			put64(maddr + 36 + i * 8, e[i]);
		else
			put32(maddr + 36 + i * 4, (uint32_t)e[i]);
	}
	seal_table(maddr);
	fw_note(maddr, 36 + n * es);
}

/* ---- MADT builder -------------------------------------------------------- */

struct madt {
	uint8_t b[4096];
	size_t len;
};

static void madt_begin(struct madt *m, uint8_t rev, uint32_t lapic, uint32_t flags)
{
	memset(m, 0, sizeof(*m));
	memcpy(m->b, "APIC", 4);
	m->b[8] = rev;
	memcpy(m->b + 36, &lapic, 4);
	memcpy(m->b + 40, &flags, 4);
	m->len = 44;
}

static void madt_raw(struct madt *m, const void *e, size_t n)
{
	if (m->len + n > sizeof(m->b))
		abort();
	memcpy(m->b + m->len, e, n);
	m->len += n;
}

static void madt_lapic(struct madt *m, uint8_t uid, uint8_t id, uint32_t flags)
{
	uint8_t e[8] = { 0, 8, uid, id };
	memcpy(e + 4, &flags, 4);
	madt_raw(m, e, sizeof(e));
}

static void madt_x2apic(struct madt *m, uint32_t id, uint32_t uid, uint32_t flags)
{
	uint8_t e[16] = { 9, 16 };
	memcpy(e + 4, &id, 4);
	memcpy(e + 8, &flags, 4);
	memcpy(e + 12, &uid, 4);
	madt_raw(m, e, sizeof(e));
}

static void madt_ioapic(struct madt *m, uint8_t id, uint32_t addr, uint32_t gsi_base)
{
	uint8_t e[12] = { 1, 12, id, 0 };
	memcpy(e + 4, &addr, 4);
	memcpy(e + 8, &gsi_base, 4);
	madt_raw(m, e, sizeof(e));
}

static void madt_override(struct madt *m, uint8_t bus, uint8_t src, uint32_t gsi, uint16_t flags)
{
	uint8_t e[10] = { 2, 10, bus, src };
	memcpy(e + 4, &gsi, 4);
	memcpy(e + 8, &flags, 2);
	madt_raw(m, e, sizeof(e));
}

static void madt_lapic_addr(struct madt *m, uint64_t addr)
{
	uint8_t e[12] = { 5, 12 };
	memcpy(e + 4, &addr, 8);
	madt_raw(m, e, sizeof(e));
}

static void madt_place(struct madt *m, uint64_t maddr)
{
	uint32_t len = (uint32_t)m->len;
	memcpy(m->b + 4, &len, 4);
	memcpy(at(maddr, m->len), m->b, m->len);
	seal_table(maddr);
	fw_note(maddr, m->len);
}

/* ---- FADT builder -------------------------------------------------------- */

struct gas_opt {
	uint8_t space, width, offset, access;
	uint64_t addr;
};

struct fadt_opts {
	uint32_t len;                   /* 276 (ACPI 6.5) or 116 (ACPI 1.0) */
	uint32_t dsdt;
	uint64_t x_dsdt;
	uint32_t pm1a_cnt, pm1b_cnt, pm_tmr;
	struct gas_opt x_pm1a_cnt, x_pm1b_cnt, x_pm_tmr;
	uint32_t flags;
	struct gas_opt reset;
	uint8_t reset_value;
};

#define FADT_TMR_VAL_EXT   (1u << 8)
#define FADT_RESET_REG_SUP (1u << 10)

static void put_gas(uint8_t *p, const struct gas_opt *g)
{
	p[0] = g->space;
	p[1] = g->width;
	p[2] = g->offset;
	p[3] = g->access;
	memcpy(p + 4, &g->addr, 8);
}

/* Writes all 276 bytes (so a short FADT has bytes after its end), seals over len. */
static void put_fadt(uint64_t maddr, const struct fadt_opts *o)
{
	uint8_t b[276];

	memset(b, 0, sizeof(b));
	memcpy(b, "FACP", 4);
	memcpy(b + 4, &o->len, 4);
	b[8] = o->len >= 244 ? 6 : 1;
	memcpy(b + 40, &o->dsdt, 4);
	memcpy(b + 64, &o->pm1a_cnt, 4);
	memcpy(b + 68, &o->pm1b_cnt, 4);
	memcpy(b + 76, &o->pm_tmr, 4);
	b[91] = o->pm_tmr ? 4 : 0;
	memcpy(b + 112, &o->flags, 4);
	put_gas(b + 116, &o->reset);
	b[128] = o->reset_value;
	memcpy(b + 140, &o->x_dsdt, 8);
	put_gas(b + 172, &o->x_pm1a_cnt);
	put_gas(b + 184, &o->x_pm1b_cnt);
	put_gas(b + 208, &o->x_pm_tmr);
	memcpy(at(maddr, sizeof(b)), b, sizeof(b));
	seal_table(maddr);
	fw_note(maddr, o->len);
}

static const struct fadt_opts std_fadt = {
	.len = 276,
	.dsdt = DSDT_AT,
	.pm1a_cnt = 0x604, .pm1b_cnt = 0, .pm_tmr = 0x608,
	.x_pm1a_cnt = { ACPI_SPACE_IO, 16, 0, 2, 0x604 },
	.x_pm_tmr = { ACPI_SPACE_IO, 32, 0, 3, 0x608 },
	.flags = FADT_TMR_VAL_EXT | FADT_RESET_REG_SUP,
	.reset = { ACPI_SPACE_IO, 8, 0, 1, 0xcf9 },
	.reset_value = 0x06,
};

/* ---- DSDT ---------------------------------------------------------------- */

/* Scope(\_SB) { ... } junk, a decoy "_S5_" (not followed by PackageOp), then
 * Name(_S5_, Package(4) { 5, 6, 0, 0 }) as iasl writes it. */
static const uint8_t aml_std[] = {
	0x10, 0x09, '\\', '_', 'S', 'B', '_', 0x5b, 0x82, 0x02, 0x00,
	0x14, 0x0a, '_', 'S', '5', '_', 0x00, 0xa4, 0x00,
	0x08, '_', 'S', '5', '_', 0x12, 0x08, 0x04, 0x0a, 0x05, 0x0a, 0x06, 0x00, 0x00,
	0xa4, 0x00,
};

static void put_dsdt(uint64_t maddr, const uint8_t *aml, size_t n)
{
	put_table(maddr, "DSDT", 2, aml, n);
}

/* ---- the standard machine ------------------------------------------------ */

/*
 * Four xAPIC CPUs (ids 0, 2 enabled; 4 disabled; 6 online capable), one
 * x2APIC CPU (id 0x100, enabled), one I/O APIC, two overrides; a 6.5 FADT;
 * a DSDT with _S5_ = {5, 6}; RSDT and XSDT both listing an HPET, the MADT
 * and the FADT; an RSDP of revision rev.
 */
static void build_madt_std(struct madt *m)
{
	madt_begin(m, 5, LAPIC_DEFAULT, 1);
	madt_lapic(m, 0, 0, 1);
	madt_lapic(m, 1, 2, 1);
	madt_lapic(m, 2, 4, 0);
	madt_lapic(m, 3, 6, 2);
	madt_ioapic(m, 8, IOAPIC_BASE, 0);
	madt_override(m, 0, 0, 2, 0);
	madt_override(m, 0, 9, 9, 0xd);
	madt_x2apic(m, 0x100, 10, 1);
}

static void build_world(uint8_t rev)
{
	struct madt m;
	uint8_t hpet[20] = { 0 };
	uint64_t e[] = { SPARE_AT, MADT_AT, FADT_AT };

	fw_clear();
	build_madt_std(&m);
	madt_place(&m, MADT_AT);
	put_fadt(FADT_AT, &std_fadt);
	put_dsdt(DSDT_AT, aml_std, sizeof(aml_std));
	put_table(SPARE_AT, "HPET", 1, hpet, sizeof(hpet));
	put_root(RSDT_AT, false, e, 3);
	put_root(XSDT_AT, true, e, 3);
	put_rsdp(RSDP_AT, rev, RSDT_AT, rev >= 2 ? XSDT_AT : 0);
}

/* ---- running the reader -------------------------------------------------- */

static char parse_log[16384];

static int log_begin(void)
{
	return test_capture_begin();
}

static void log_end(int saved)
{
	snprintf(parse_log, sizeof(parse_log), "%s", test_capture_end(saved, NULL));
}

/* acpi_parse with the firmware area guarded and fd 2 captured into parse_log. */
static int parse(uint64_t rsdp, struct acpi_info *info)
{
	int saved = log_begin();

	fw_guard_on();
	int rc = acpi_parse(rsdp, info);
	fw_guard_off();
	log_end(saved);
	return rc;
}

/* Is there a line in parse_log containing a, and b too unless it is NULL? */
static bool logged(const char *a, const char *b)
{
	const char *l = parse_log;

	while (*l) {
		const char *end = strchr(l, '\n');
		size_t n = end ? (size_t)(end - l) : strlen(l);
		char line[512];
		snprintf(line, sizeof(line), "%.*s", (int)n, l);
		if (strstr(line, a) && (!b || strstr(line, b)))
			return true;
		l += n + (end ? 1 : 0);
	}
	return false;
}

static void check_logged_at(const char *file, int line, const char *a, const char *b)
{
	char what[256];

	if (logged(a, b))
		return;
	snprintf(what, sizeof(what), "a log line with \"%s\"%s%s%s", a, b ? " and \"" : "",
		 b ? b : "", b ? "\"" : "");
	test_fail(file, line, what);
	printf("  the log was:\n%s", parse_log);
}

/* Both on one line of the log: the message names the table and the problem. */
#define CHECK_LOGGED(a, b) check_logged_at(__FILE__, __LINE__, (a), (b))

static const struct acpi_cpu *cpu_by_id(const struct acpi_info *info, uint32_t id)
{
	for (unsigned i = 0; i < info->nr_cpus; i++)
		if (info->cpus[i].apic_id == id)
			return &info->cpus[i];
	return NULL;
}

/* ---- RSDP ---------------------------------------------------------------- */

static void acpi_rsdp_found(void)
{
	build_world(2);
	CHECK_EQ(acpi_find_rsdp(BIOS_LO, BIOS_HI), RSDP_AT);
	CHECK_EQ(acpi_find_rsdp(BIOS_LO + 1, BIOS_HI), RSDP_AT);         /* start rounds up */
	CHECK_EQ(acpi_find_rsdp(RSDP_AT, RSDP_AT + 20), RSDP_AT);        /* exactly fits */
	CHECK_EQ(acpi_find_rsdp(RSDP_AT, RSDP_AT + 19), 0);
	CHECK_EQ(acpi_find_rsdp(RSDP_AT + 1, BIOS_HI), 0);
	build_world(0);
	CHECK_EQ(acpi_find_rsdp(BIOS_LO, BIOS_HI), RSDP_AT);
}

static void acpi_rsdp_not_found(void)
{
	fw_clear();
	CHECK_EQ(acpi_find_rsdp(BIOS_LO, BIOS_HI), 0);
	/* The signature must be 16-byte aligned. */
	put_rsdp(RSDP_AT + 8, 0, RSDT_AT, 0);
	CHECK_EQ(acpi_find_rsdp(BIOS_LO, BIOS_HI), 0);
	CHECK_EQ(acpi_find_rsdp(BIOS_HI, BIOS_LO), 0);
	CHECK_EQ(acpi_find_rsdp(BIOS_LO, BIOS_LO), 0);
}

static void acpi_rsdp_bad_checksum_skipped(void)
{
	fw_clear();
	put_rsdp(RSDP_AT, 0, RSDT_AT, 0);
	at(RSDP_AT, 20)[8] ^= 1;
	CHECK_EQ(acpi_find_rsdp(BIOS_LO, BIOS_HI), 0);
	put_rsdp(RSDP_AT + 0x100, 0, RSDT_AT, 0);
	CHECK_EQ(acpi_find_rsdp(BIOS_LO, BIOS_HI), RSDP_AT + 0x100);
}

static void acpi_rsdp_v2_checks(void)
{
	fw_clear();
	put_rsdp(RSDP_AT, 2, RSDT_AT, XSDT_AT);
	CHECK_EQ(acpi_find_rsdp(BIOS_LO, BIOS_HI), RSDP_AT);

	/* Extended checksum wrong (the 1.0 one still right). */
	at(RSDP_AT, 36)[33] ^= 0x40;
	CHECK_EQ(acpi_find_rsdp(BIOS_LO, BIOS_HI), 0);

	/* Length below 36, and absurdly large; both checksums made right. */
	static const uint32_t bad_lengths[] = { 0, 20, 35, 4097, 0x10000000, 0xffffffffu };
	for (size_t i = 0; i < ARRAY_SIZE(bad_lengths); i++) {
		put_rsdp(RSDP_AT, 2, RSDT_AT, XSDT_AT);
		put32(RSDP_AT + 20, bad_lengths[i]);
		seal_at(RSDP_AT, 36, 32);
		CHECK_EQ(acpi_find_rsdp(BIOS_LO, BIOS_HI), 0);
	}
	/* A longer RSDP is fine if its checksum covers it. */
	put_rsdp(RSDP_AT, 2, RSDT_AT, XSDT_AT);
	put32(RSDP_AT + 20, 64);
	at(RSDP_AT + 40, 1)[0] = 0x77;
	seal_at(RSDP_AT, 64, 32);
	CHECK_EQ(acpi_find_rsdp(BIOS_LO, BIOS_HI), RSDP_AT);
}

static void acpi_rsdp_at_memory_end(void)
{
	fw_clear();
	uint64_t end = mem_end();
	uint8_t *last = at(end - 16, 16);

	memcpy(last, "RSD PTR ", 8);
	CHECK_EQ(acpi_find_rsdp(end - 64, end + 4096), 0);
	CHECK_EQ(acpi_find_rsdp(UINT64_MAX - 10, UINT64_MAX), 0);
	CHECK_EQ(acpi_find_rsdp(UINT64_MAX - 40, UINT64_MAX), 0);

	struct acpi_info info;
	CHECK_EQ(acpi_parse(end - 16, &info), -VIREO_EINVAL);
	CHECK_EQ(acpi_parse(UINT64_MAX - 5, &info), -VIREO_EINVAL);

	/* Revision 2 whose 1.0 part fits but whose 36 bytes do not. */
	uint8_t *v2 = at(end - 32, 32);
	memset(v2, 0, 32);
	memcpy(v2, "RSD PTR ", 8);
	v2[15] = 2;
	seal_at(end - 32, 20, 8);
	CHECK_EQ(acpi_find_rsdp(end - 64, end), 0);
	CHECK_EQ(acpi_parse(end - 32, &info), -VIREO_EINVAL);
	memset(at(end - 32, 32), 0, 32);
}

/* ---- good tables --------------------------------------------------------- */

static void check_std_madt(const struct acpi_info *info)
{
	CHECK(info->has_madt);
	CHECK_EQ(info->lapic_maddr, LAPIC_DEFAULT);
	CHECK(info->pcat_compat);
	CHECK_EQ(info->nr_cpus, 4);                     /* id 4 is disabled, not capable */
	CHECK_EQ(info->nr_cpus_enabled, 3);
	CHECK_EQ(info->nr_cpus_dropped, 0);
	CHECK(cpu_by_id(info, 4) == NULL);
	const struct acpi_cpu *c0 = cpu_by_id(info, 0), *c2 = cpu_by_id(info, 2);
	const struct acpi_cpu *c6 = cpu_by_id(info, 6), *cx = cpu_by_id(info, 0x100);
	REQUIRE(c0 && c2 && c6 && cx);
	CHECK(c0->enabled && !c0->x2apic && c0->uid == 0);
	CHECK(c2->enabled && c2->uid == 1);
	CHECK(!c6->enabled && c6->uid == 3);            /* online capable */
	CHECK(cx->enabled && cx->x2apic && cx->uid == 10);
	CHECK_EQ(info->nr_ioapics, 1);
	CHECK_EQ(info->ioapics[0].id, 8);
	CHECK_EQ(info->ioapics[0].maddr, IOAPIC_BASE);
	CHECK_EQ(info->ioapics[0].gsi_base, 0);
	REQUIRE(info->nr_overrides == 2);
	CHECK_EQ(info->overrides[0].source, 0);
	CHECK_EQ(info->overrides[0].gsi, 2);
	CHECK_EQ(info->overrides[1].bus, 0);
	CHECK_EQ(info->overrides[1].source, 9);
	CHECK_EQ(info->overrides[1].gsi, 9);
	CHECK_EQ(info->overrides[1].flags, 0xd);
}

static void check_std_fadt(const struct acpi_info *info)
{
	CHECK(info->has_fadt);
	CHECK_EQ(info->pm1a_cnt_port, 0x604);
	CHECK_EQ(info->pm1b_cnt_port, 0);
	CHECK_EQ(info->pm_timer_port, 0x608);
	CHECK(info->pm_timer_32bit);
	CHECK_EQ(info->dsdt_maddr, DSDT_AT);
	CHECK(info->has_reset);
	CHECK_EQ(info->reset_reg.space_id, ACPI_SPACE_IO);
	CHECK_EQ(info->reset_reg.address, 0xcf9);
	CHECK_EQ(info->reset_reg.bit_width, 8);
	CHECK_EQ(info->reset_value, 6);
	CHECK(info->has_s5);
	CHECK_EQ(info->slp_typa, 5);
	CHECK_EQ(info->slp_typb, 6);
}

static void acpi_parse_rsdt_path(void)
{
	struct acpi_info info;

	build_world(0);
	CHECK_EQ(parse(RSDP_AT, &info), 0);
	CHECK_EQ(info.revision, 0);
	CHECK(!info.used_xsdt);
	check_std_madt(&info);
	check_std_fadt(&info);
	CHECK_EQ(parse_log[0], '\0');                   /* a good machine prints nothing */
}

static void acpi_parse_xsdt_path(void)
{
	struct acpi_info info;
	uint64_t only_hpet[] = { SPARE_AT };

	build_world(2);
	/* The RSDT lists no MADT: success proves the XSDT was followed. */
	put_root(RSDT_AT, false, only_hpet, 1);
	CHECK_EQ(parse(RSDP_AT, &info), 0);
	CHECK_EQ(info.revision, 2);
	CHECK(info.used_xsdt);
	check_std_madt(&info);
	check_std_fadt(&info);

	/* Revision 2 with no XSDT address falls back to the RSDT. */
	build_world(2);
	put_rsdp(RSDP_AT, 2, RSDT_AT, 0);
	CHECK_EQ(parse(RSDP_AT, &info), 0);
	CHECK(!info.used_xsdt);
	check_std_madt(&info);

	/* XSDT entries above 4 GiB are followed too (and refused when unmapped). */
	uint64_t far[] = { (1ull << 40) + MADT_AT, MADT_AT };
	put_root(XSDT_AT, true, far, 2);
	put_rsdp(RSDP_AT, 2, RSDT_AT, XSDT_AT);
	CHECK_EQ(parse(RSDP_AT, &info), 0);
	CHECK(info.used_xsdt);
	CHECK_LOGGED("0x10000102000", "not in mapped memory");
}

static void acpi_madt_online_capable_needs_rev5(void)
{
	struct acpi_info info;
	struct madt m;

	build_world(0);
	madt_begin(&m, 4, LAPIC_DEFAULT, 0);
	madt_lapic(&m, 0, 0, 1);
	madt_lapic(&m, 1, 1, 2);        /* bit 1 reserved before MADT revision 5 */
	madt_x2apic(&m, 0x200, 2, 2);
	madt_place(&m, MADT_AT);
	CHECK_EQ(parse(RSDP_AT, &info), 0);
	CHECK_EQ(info.nr_cpus, 1);
	CHECK_EQ(info.nr_cpus_enabled, 1);
	CHECK(!info.pcat_compat);

	m.b[8] = 5;
	madt_place(&m, MADT_AT);
	CHECK_EQ(parse(RSDP_AT, &info), 0);
	CHECK_EQ(info.nr_cpus, 3);
	CHECK_EQ(info.nr_cpus_enabled, 1);
	REQUIRE(cpu_by_id(&info, 0x200));
	CHECK(!cpu_by_id(&info, 0x200)->enabled);
	CHECK(cpu_by_id(&info, 0x200)->x2apic);
}

static void acpi_madt_lapic_address_override(void)
{
	struct acpi_info info;
	struct madt m;

	build_world(2);
	build_madt_std(&m);
	madt_lapic_addr(&m, 0x123456789000ull);
	madt_place(&m, MADT_AT);
	CHECK_EQ(parse(RSDP_AT, &info), 0);
	CHECK_EQ(info.lapic_maddr, 0x123456789000ull);

	/* Order does not matter: the override may come before the CPUs. */
	madt_begin(&m, 5, LAPIC_DEFAULT, 0);
	madt_lapic_addr(&m, 0xfee10000ull);
	madt_lapic(&m, 0, 0, 1);
	madt_place(&m, MADT_AT);
	CHECK_EQ(parse(RSDP_AT, &info), 0);
	CHECK_EQ(info.lapic_maddr, 0xfee10000ull);
	CHECK_EQ(info.nr_cpus, 1);
}

static void acpi_madt_limits(void)
{
	struct acpi_info info;
	struct madt m;

	build_world(2);
	madt_begin(&m, 5, LAPIC_DEFAULT, 0);
	for (unsigned i = 0; i < 60; i++)
		madt_lapic(&m, (uint8_t)i, (uint8_t)i, 1);
	for (unsigned i = 0; i < 10; i++)
		madt_x2apic(&m, 1000 + i, 100 + i, i & 1 ? 1 : 2);
	for (unsigned i = 0; i < 10; i++)
		madt_ioapic(&m, (uint8_t)(100 + i), IOAPIC_BASE + i * 0x1000, i * 24);
	for (unsigned i = 0; i < 20; i++)
		madt_override(&m, 0, (uint8_t)i, i + 100, 0);
	madt_place(&m, MADT_AT);
	CHECK_EQ(parse(RSDP_AT, &info), 0);
	CHECK_EQ(info.nr_cpus, MAX_CPUS);
	CHECK_EQ(info.nr_cpus_dropped, 70 - MAX_CPUS);
	CHECK_EQ(info.nr_cpus_enabled, 60 + 2);         /* x2APIC 1001, 1003 fit */
	CHECK_EQ(info.cpus[MAX_CPUS - 1].apic_id, 1003);
	CHECK_EQ(info.nr_ioapics, ACPI_MAX_IOAPICS);
	CHECK_EQ(info.nr_ioapics_dropped, 2);
	CHECK_EQ(info.ioapics[7].id, 107);
	CHECK_EQ(info.ioapics[7].gsi_base, 7 * 24);
	CHECK_EQ(info.nr_overrides, ACPI_MAX_OVERRIDES);
	CHECK_EQ(info.nr_overrides_dropped, 4);
	CHECK_EQ(info.overrides[15].gsi, 115);
}

static void acpi_madt_invalid_and_duplicate_ids(void)
{
	struct acpi_info info;
	struct madt m;

	build_world(2);
	madt_begin(&m, 5, LAPIC_DEFAULT, 0);
	madt_lapic(&m, 0, 0, 1);
	madt_lapic(&m, 1, 0xff, 1);             /* invalid xAPIC id */
	madt_x2apic(&m, 0xffffffffu, 2, 1);     /* invalid x2APIC id */
	madt_x2apic(&m, 0, 3, 1);               /* CPU 0 again, as x2APIC */
	madt_lapic(&m, 4, 0, 1);                /* and again */
	madt_lapic(&m, 5, 1, 0);                /* unusable: neither flag */
	madt_lapic(&m, 6, 1, 1);                /* so id 1 is still free */
	madt_place(&m, MADT_AT);
	CHECK_EQ(parse(RSDP_AT, &info), 0);
	CHECK_EQ(info.nr_cpus, 2);
	CHECK_EQ(info.cpus[0].apic_id, 0);
	CHECK(!info.cpus[0].x2apic);
	CHECK_EQ(info.cpus[1].apic_id, 1);
	CHECK_EQ(info.cpus[1].uid, 6);
	CHECK_LOGGED("APIC", "invalid id 0xff ");
	CHECK_LOGGED("APIC", "invalid id 0xffffffff");
	CHECK_LOGGED("APIC", "duplicate");
}

static void acpi_madt_longer_entries_accepted(void)
{
	struct acpi_info info;
	struct madt m;
	uint8_t long_lapic[12] = { 0, 12, 7, 9, 1, 0, 0, 0, 0xaa, 0xbb, 0xcc, 0xdd };
	uint8_t unknown[6] = { 0x7f, 6, 1, 2, 3, 4 };

	build_world(2);
	madt_begin(&m, 5, LAPIC_DEFAULT, 0);
	madt_raw(&m, unknown, sizeof(unknown));
	madt_raw(&m, long_lapic, sizeof(long_lapic));
	madt_lapic(&m, 8, 10, 1);
	madt_place(&m, MADT_AT);
	CHECK_EQ(parse(RSDP_AT, &info), 0);
	CHECK_EQ(info.nr_cpus, 2);
	CHECK_EQ(info.cpus[0].apic_id, 9);
	CHECK_EQ(info.cpus[0].uid, 7);
	CHECK_EQ(info.cpus[1].apic_id, 10);
}

/* ---- FADT ---------------------------------------------------------------- */

static void acpi_fadt_v1_reads_no_further(void)
{
	struct acpi_info info;
	struct fadt_opts o = std_fadt;

	build_world(0);
	/* An ACPI 1.0 FADT: 116 bytes. The X_ fields written after its end
	 * (other ports, another DSDT, a reset register) must not be seen. */
	o.len = 116;
	o.pm1a_cnt = 0x404;
	o.pm1b_cnt = 0x408;
	o.pm_tmr = 0x40c;
	o.flags = 0;
	o.x_dsdt = SPARE2_AT;
	put_fadt(FADT_AT, &o);
	CHECK_EQ(parse(RSDP_AT, &info), 0);
	CHECK(info.has_fadt);
	CHECK_EQ(info.pm1a_cnt_port, 0x404);
	CHECK_EQ(info.pm1b_cnt_port, 0x408);
	CHECK_EQ(info.pm_timer_port, 0x40c);
	CHECK(!info.pm_timer_32bit);
	CHECK_EQ(info.dsdt_maddr, DSDT_AT);
	CHECK(!info.has_reset);
	CHECK(info.has_s5);

	/* Shorter than an ACPI 1.0 FADT: refused, the rest still parsed. */
	o.len = 115;
	put_fadt(FADT_AT, &o);
	CHECK_EQ(parse(RSDP_AT, &info), 0);
	CHECK(!info.has_fadt);
	CHECK(!info.has_s5);
	CHECK_LOGGED("FACP", "length 115");
}

static void acpi_fadt_x_fields(void)
{
	struct acpi_info info;
	struct fadt_opts o = std_fadt;

	build_world(2);
	/* X_ in I/O space wins over the legacy field. */
	o.pm1a_cnt = 0x1004;
	o.x_pm1a_cnt = (struct gas_opt){ ACPI_SPACE_IO, 16, 0, 2, 0x2004 };
	o.pm1b_cnt = 0x1008;
	o.x_pm1b_cnt = (struct gas_opt){ ACPI_SPACE_IO, 16, 0, 2, 0x2008 };
	o.pm_tmr = 0x100c;
	o.x_pm_tmr = (struct gas_opt){ ACPI_SPACE_IO, 32, 0, 3, 0x200c };
	put_fadt(FADT_AT, &o);
	CHECK_EQ(parse(RSDP_AT, &info), 0);
	CHECK_EQ(info.pm1a_cnt_port, 0x2004);
	CHECK_EQ(info.pm1b_cnt_port, 0x2008);
	CHECK_EQ(info.pm_timer_port, 0x200c);

	/* X_ in memory space, X_ beyond 16 bits, or X_ absent: the legacy field. */
	o.x_pm1a_cnt = (struct gas_opt){ ACPI_SPACE_MEMORY, 16, 0, 2, 0xfed00000 };
	o.x_pm1b_cnt = (struct gas_opt){ ACPI_SPACE_IO, 16, 0, 2, 0x12345 };
	o.x_pm_tmr = (struct gas_opt){ 0 };
	put_fadt(FADT_AT, &o);
	CHECK_EQ(parse(RSDP_AT, &info), 0);
	CHECK_EQ(info.pm1a_cnt_port, 0x1004);
	CHECK_EQ(info.pm1b_cnt_port, 0x1008);
	CHECK_EQ(info.pm_timer_port, 0x100c);

	/* A legacy "port" that is no port. */
	o.pm_tmr = 0x10000;
	put_fadt(FADT_AT, &o);
	CHECK_EQ(parse(RSDP_AT, &info), 0);
	CHECK_EQ(info.pm_timer_port, 0);
	CHECK(!info.pm_timer_32bit);
	CHECK_LOGGED("FACP", "PM_TMR_BLK");
}

static void acpi_fadt_pm_timer_width(void)
{
	struct acpi_info info;
	struct fadt_opts o = std_fadt;

	build_world(2);
	CHECK_EQ(parse(RSDP_AT, &info), 0);
	CHECK(info.pm_timer_32bit);
	o.flags &= ~FADT_TMR_VAL_EXT;
	put_fadt(FADT_AT, &o);
	CHECK_EQ(parse(RSDP_AT, &info), 0);
	CHECK_EQ(info.pm_timer_port, 0x608);
	CHECK(!info.pm_timer_32bit);
	/* No timer at all: the flag alone means nothing. */
	o = std_fadt;
	o.pm_tmr = 0;
	o.x_pm_tmr = (struct gas_opt){ 0 };
	put_fadt(FADT_AT, &o);
	CHECK_EQ(parse(RSDP_AT, &info), 0);
	CHECK_EQ(info.pm_timer_port, 0);
	CHECK(!info.pm_timer_32bit);
}

static void acpi_fadt_reset_and_dsdt(void)
{
	struct acpi_info info;
	struct fadt_opts o = std_fadt;

	build_world(2);
	o.flags &= ~FADT_RESET_REG_SUP;         /* register present but not supported */
	put_fadt(FADT_AT, &o);
	CHECK_EQ(parse(RSDP_AT, &info), 0);
	CHECK(!info.has_reset);

	o = std_fadt;
	o.reset = (struct gas_opt){ ACPI_SPACE_MEMORY, 8, 0, 1, 0xfee00f00 };
	o.reset_value = 0xaa;
	put_fadt(FADT_AT, &o);
	CHECK_EQ(parse(RSDP_AT, &info), 0);
	CHECK(info.has_reset);
	CHECK_EQ(info.reset_reg.space_id, ACPI_SPACE_MEMORY);
	CHECK_EQ(info.reset_reg.address, 0xfee00f00);
	CHECK_EQ(info.reset_value, 0xaa);

	/* X_DSDT wins over DSDT: put another DSDT (S5 = 1, 0) at SPARE2_AT. */
	static const uint8_t aml[] = {
		0x08, '_', 'S', '5', '_', 0x12, 0x06, 0x04, 0x01, 0x00, 0x00, 0x00,
	};
	put_dsdt(SPARE2_AT, aml, sizeof(aml));
	o = std_fadt;
	o.x_dsdt = SPARE2_AT;
	put_fadt(FADT_AT, &o);
	CHECK_EQ(parse(RSDP_AT, &info), 0);
	CHECK_EQ(info.dsdt_maddr, SPARE2_AT);
	CHECK(info.has_s5);
	CHECK_EQ(info.slp_typa, 1);
	CHECK_EQ(info.slp_typb, 0);
}

static void acpi_fadt_optional(void)
{
	struct acpi_info info;
	uint64_t e[] = { MADT_AT };

	build_world(2);
	put_root(XSDT_AT, true, e, 1);
	CHECK_EQ(parse(RSDP_AT, &info), 0);
	CHECK(info.has_madt);
	CHECK(!info.has_fadt);
	CHECK(!info.has_s5);
	CHECK_EQ(info.pm_timer_port, 0);
}

/* ---- _S5_ ---------------------------------------------------------------- */

struct s5_case {
	const char *name;
	uint8_t aml[40];
	size_t len;
	bool found;
	uint8_t a, b;
};

static const struct s5_case s5_cases[] = {
	{ "byte prefix", { 0x08, '_', 'S', '5', '_', 0x12, 0x08, 0x04, 0x0a, 0x07, 0x0a, 0x03,
			   0x00, 0x00 },
	  14, true, 7, 3 },
	{ "root-prefixed name", { 0x08, '\\', '_', 'S', '5', '_', 0x12, 0x05, 0x02, 0x0a, 0x05, 0x00 },
	  12, true, 5, 0 },
	{ "zero and one ops", { 0x08, '_', 'S', '5', '_', 0x12, 0x06, 0x04, 0x00, 0x01, 0x00, 0x00 },
	  12, true, 0, 1 },
	{ "ones op", { 0x08, '_', 'S', '5', '_', 0x12, 0x05, 0x02, 0xff, 0x0a, 0x02 },
	  11, true, 0xff, 2 },
	{ "two-byte pkglength", { 0x08, '_', 'S', '5', '_', 0x12, 0x49, 0x00, 0x04, 0x0a, 0x05, 0x0a,
				  0x05, 0x00, 0x00 }, 15, true, 5, 5 },
	{ "two-byte pkglength past the end", { 0x08, '_', 'S', '5', '_', 0x12, 0x41, 0x01, 0x04, 0x0a,
					       0x05, 0x0a, 0x05, 0x00, 0x00 }, 15, false, 0, 0 },
	{ "decoy then real", { '_', 'S', '5', '_', 0x11, 0x08, '_', 'S', '5', '_', 0x12, 0x04, 0x02, 0x01,
			       0x01 }, 15, true, 1, 1 },
	{ "no _S5_", { 0x08, '_', 'S', '4', '_', 0x12, 0x05, 0x02, 0x01, 0x01 }, 10, false, 0, 0 },
	{ "one element", { 0x08, '_', 'S', '5', '_', 0x12, 0x04, 0x01, 0x0a, 0x05 }, 10, false, 0, 0 },
	{ "word prefix", { 0x08, '_', 'S', '5', '_', 0x12, 0x07, 0x02, 0x0b, 0x05, 0x00, 0x00, 0x00 },
	  13, false, 0, 0 },
	{ "cut at the table end", { 0x08, '_', 'S', '5', '_', 0x12, 0x06, 0x02, 0x0a, 0x05, 0x0a },
	  11, false, 0, 0 },
	{ "pkglength past the end", { 0x08, '_', 'S', '5', '_', 0x12, 0x3f, 0x02, 0x0a, 0x05, 0x0a, 0x06 },
	  12, false, 0, 0 },
	{ "elements past pkglength", { 0x08, '_', 'S', '5', '_', 0x12, 0x04, 0x02, 0x0a, 0x05, 0x0a,
				       0x06 },
	  12, false, 0, 0 },
	{ "pkglength below its own size", { 0x08, '_', 'S', '5', '_', 0x12, 0x40, 0x00, 0x02, 0x00, 0x00 },
	  11, false, 0, 0 },
	{ "package op is the last byte", { 0x08, '_', 'S', '5', '_', 0x12 }, 6, false, 0, 0 },
	{ "name is the last bytes", { '_', 'S', '5' }, 3, false, 0, 0 },
	{ "empty", { 0 }, 0, false, 0, 0 },
};

static void acpi_s5_decoding(void)
{
	struct acpi_info info;

	for (size_t i = 0; i < ARRAY_SIZE(s5_cases); i++) {
		const struct s5_case *c = &s5_cases[i];
		build_world(2);
		memset(at(DSDT_AT, 4096), 0, 4096);
		put_dsdt(DSDT_AT, c->aml, c->len);
		int rc = parse(RSDP_AT, &info);
		bool ok = rc == 0 && info.has_s5 == c->found &&
			  (!c->found || (info.slp_typa == c->a && info.slp_typb == c->b));
		if (!ok) {
			printf("  case \"%s\": rc %d has_s5 %d a %u b %u\n", c->name, rc, info.has_s5,
			       info.slp_typa, info.slp_typb);
			CHECK(!"S5 case");
		}
		if (!c->found)
			CHECK_LOGGED("DSDT", "no usable _S5_");
	}
}

/* ---- hostile root tables ------------------------------------------------- */

static void acpi_bad_rsdp_refused(void)
{
	struct acpi_info info;

	build_world(2);
	at(RSDP_AT, 1)[0] = 'X';
	CHECK_EQ(parse(RSDP_AT, &info), -VIREO_EINVAL);
	CHECK_LOGGED("RSDP", "signature");

	build_world(0);
	at(RSDP_AT + 16, 1)[0] ^= 0x10;         /* RSDT address changed, checksum stale */
	CHECK_EQ(parse(RSDP_AT, &info), -VIREO_EINVAL);
	CHECK_LOGGED("RSDP", "bad checksum");

	build_world(2);
	at(RSDP_AT + 24, 1)[0] ^= 0x10;         /* XSDT address changed */
	CHECK_EQ(parse(RSDP_AT, &info), -VIREO_EINVAL);
	CHECK_LOGGED("RSDP", "bad extended checksum");

	build_world(0);
	put_rsdp(RSDP_AT, 0, 0, 0);             /* no RSDT at all */
	CHECK_EQ(parse(RSDP_AT, &info), -VIREO_EINVAL);
	CHECK_LOGGED("RSDP", "RSDT");
}

static void acpi_bad_root_refused(void)
{
	struct acpi_info info;
	static const uint8_t revs[] = { 0, 2 };

	for (size_t r = 0; r < ARRAY_SIZE(revs); r++) {
		uint64_t root = revs[r] ? XSDT_AT : RSDT_AT;
		const char *sig = revs[r] ? "XSDT" : "RSDT";
		size_t es = revs[r] ? 8 : 4;

		build_world(revs[r]);
		at(root + 36, 1)[0] ^= 1;
		CHECK_EQ(parse(RSDP_AT, &info), -VIREO_EINVAL);
		CHECK_LOGGED(sig, "bad checksum");

		/* Not a whole number of entries (checksum right). */
		for (size_t extra = 1; extra < es; extra++) {
			build_world(revs[r]);
			put32(root + 4, (uint32_t)(36 + 3 * es + extra));
			seal_table(root);
			fw_note(root, 36 + 3 * es + extra);
			CHECK_EQ(parse(RSDP_AT, &info), -VIREO_EINVAL);
			CHECK_LOGGED(sig, "whole number");
		}

		static const uint32_t bad_len[] = { 0, 1, 35, 0x7fffffff, 0xffffffffu };
		for (size_t i = 0; i < ARRAY_SIZE(bad_len); i++) {
			build_world(revs[r]);
			put32(root + 4, bad_len[i]);
			CHECK_EQ(parse(RSDP_AT, &info), -VIREO_EINVAL);
			CHECK_LOGGED(sig, "length");
		}

		/* Length that runs past machine memory, within the sanity bound. */
		build_world(revs[r]);
		put32(root + 4, (16u << 20) - 1);
		CHECK_EQ(parse(RSDP_AT, &info), -VIREO_EINVAL);
		CHECK_LOGGED(sig, "outside mapped memory");

		build_world(revs[r]);
		memcpy(at(root, 4), "SSDT", 4);
		seal_table(root);
		CHECK_EQ(parse(RSDP_AT, &info), -VIREO_EINVAL);
		CHECK_LOGGED(sig, "signature is \"SSDT\"");

		/* An empty root table is valid, but has no MADT. */
		build_world(revs[r]);
		put_root(root, es == 8, NULL, 0);
		CHECK_EQ(parse(RSDP_AT, &info), -VIREO_ENOENT);
		CHECK_LOGGED("no usable APIC", NULL);
	}

	/* A root table address outside machine memory. */
	build_world(0);
	put_rsdp(RSDP_AT, 0, 0xfffff000u, 0);
	CHECK_EQ(parse(RSDP_AT, &info), -VIREO_EINVAL);
	CHECK_LOGGED("RSDT", "not in mapped memory");
	build_world(2);
	put_rsdp(RSDP_AT, 2, RSDT_AT, 1ull << 52);
	CHECK_EQ(parse(RSDP_AT, &info), -VIREO_EINVAL);
	CHECK_LOGGED("XSDT", "not in mapped memory");
}

/* ---- hostile MADT and friends -------------------------------------------- */

static void acpi_no_usable_madt(void)
{
	struct acpi_info info;

	build_world(2);
	at(MADT_AT + 50, 1)[0] ^= 0x80;
	CHECK_EQ(parse(RSDP_AT, &info), -VIREO_ENOENT);
	CHECK(!info.has_madt);
	CHECK_LOGGED("APIC", "bad checksum");
	CHECK(info.has_fadt);                   /* the others are still read */

	static const uint32_t bad_len[] = { 0, 2, 36, 43, 0x01000001, 0xffffffffu };
	for (size_t i = 0; i < ARRAY_SIZE(bad_len); i++) {
		build_world(2);
		put32(MADT_AT + 4, bad_len[i]);
		if (bad_len[i] >= 36 && bad_len[i] < 4096)
			seal_table(MADT_AT);
		CHECK_EQ(parse(RSDP_AT, &info), -VIREO_ENOENT);
		CHECK_LOGGED("APIC", "length");
	}
}

static void acpi_bad_entries_skipped(void)
{
	struct acpi_info info;
	struct madt m;
	uint64_t e[] = { 0, 1ull << 48, SPARE_AT, SPARE2_AT, MADT_AT, FADT_AT };

	build_world(2);
	/* SPARE2_AT: a second, valid MADT after a bad one at SPARE_AT. */
	madt_begin(&m, 5, LAPIC_DEFAULT, 0);
	madt_lapic(&m, 0, 42, 1);
	madt_place(&m, SPARE2_AT);
	build_madt_std(&m);
	madt_place(&m, SPARE_AT);
	at(SPARE_AT + 40, 1)[0] ^= 1;
	put_root(XSDT_AT, true, e, ARRAY_SIZE(e));
	CHECK_EQ(parse(RSDP_AT, &info), 0);
	CHECK_LOGGED("null table pointer", NULL);
	CHECK_LOGGED("0x1000000000000", "not in mapped memory");
	CHECK_LOGGED("APIC at 0x105000", "bad checksum");
	/* The first valid MADT is used; the standard one after it is not. */
	CHECK_EQ(info.nr_cpus, 1);
	CHECK_EQ(info.cpus[0].apic_id, 42);
	CHECK(info.has_fadt);
}

/* A MADT: one good CPU, then the bytes of `bad`, then another good CPU. */
static int parse_with_entry(const uint8_t *bad, size_t n, struct acpi_info *info)
{
	struct madt m;

	build_world(2);
	madt_begin(&m, 5, LAPIC_DEFAULT, 0);
	madt_lapic(&m, 0, 1, 1);
	madt_raw(&m, bad, n);
	madt_lapic(&m, 0, 2, 1);
	madt_place(&m, MADT_AT);
	return parse(RSDP_AT, info);
}

static void acpi_madt_bad_entry_lengths(void)
{
	struct acpi_info info;
	struct madt m;

	/* Length 0 and 1 cannot advance: the walk stops, CPU 1 is kept. */
	static const uint8_t len0[] = { 0, 0, 0, 9, 1, 0, 0, 0 };
	static const uint8_t len1[] = { 1, 1, 0, 9, 1, 0, 0, 0 };
	CHECK_EQ(parse_with_entry(len0, sizeof(len0), &info), 0);
	CHECK_EQ(info.nr_cpus, 1);
	CHECK_LOGGED("APIC", "length 0");
	CHECK_EQ(parse_with_entry(len1, sizeof(len1), &info), 0);
	CHECK_EQ(info.nr_cpus, 1);
	CHECK_LOGGED("APIC", "length 1");

	/* Too short for its type: skipped, the walk goes on. */
	static const uint8_t short_lapic[] = { 0, 6, 0, 9, 1, 0 };
	static const uint8_t short_x2apic[] = { 9, 12, 0, 0, 9, 0, 0, 0, 1, 0, 0, 0 };
	static const uint8_t short_ioapic[] = { 1, 8, 1, 0, 0, 0, 0xc0, 0xfe };
	static const uint8_t short_ovr[] = { 2, 8, 0, 0, 2, 0, 0, 0 };
	static const uint8_t short_addr[] = { 5, 10, 0, 0, 0, 0, 0, 0, 0, 0 };
	const struct { const uint8_t *e; size_t n; } shorts[] = {
		{ short_lapic, sizeof(short_lapic) }, { short_x2apic, sizeof(short_x2apic) },
		{ short_ioapic, sizeof(short_ioapic) }, { short_ovr, sizeof(short_ovr) },
		{ short_addr, sizeof(short_addr) },
	};
	for (size_t i = 0; i < ARRAY_SIZE(shorts); i++) {
		CHECK_EQ(parse_with_entry(shorts[i].e, shorts[i].n, &info), 0);
		CHECK_EQ(info.nr_cpus, 2);
		CHECK_EQ(info.nr_ioapics, 0);
		CHECK_EQ(info.nr_overrides, 0);
		CHECK_EQ(info.lapic_maddr, LAPIC_DEFAULT);
		CHECK_LOGGED("APIC", "needs");
	}

	/* An entry that runs past the table's end. */
	build_world(2);
	madt_begin(&m, 5, LAPIC_DEFAULT, 0);
	madt_lapic(&m, 0, 1, 1);
	static const uint8_t past[] = { 0, 200, 0, 9, 1, 0, 0, 0 };
	madt_raw(&m, past, sizeof(past));
	madt_place(&m, MADT_AT);
	CHECK_EQ(parse(RSDP_AT, &info), 0);
	CHECK_EQ(info.nr_cpus, 1);
	CHECK_LOGGED("APIC", "length 200");

	/* A stray last byte, and a last entry cut by the table length. */
	build_world(2);
	madt_begin(&m, 5, LAPIC_DEFAULT, 0);
	madt_lapic(&m, 0, 1, 1);
	madt_raw(&m, "\x00", 1);
	madt_place(&m, MADT_AT);
	CHECK_EQ(parse(RSDP_AT, &info), 0);
	CHECK_EQ(info.nr_cpus, 1);
	CHECK_LOGGED("APIC", "stray byte");

	build_world(2);
	madt_begin(&m, 5, LAPIC_DEFAULT, 0);
	madt_lapic(&m, 0, 1, 1);
	madt_lapic(&m, 0, 2, 1);
	m.len -= 3;
	madt_place(&m, MADT_AT);
	CHECK_EQ(parse(RSDP_AT, &info), 0);
	CHECK_EQ(info.nr_cpus, 1);
	CHECK_LOGGED("APIC", "5 bytes left");
}

static void acpi_bad_fadt_and_dsdt(void)
{
	struct acpi_info info;

	build_world(2);
	at(FADT_AT + 64, 1)[0] ^= 1;
	CHECK_EQ(parse(RSDP_AT, &info), 0);
	CHECK(!info.has_fadt);
	CHECK(!info.has_s5);
	CHECK_LOGGED("FACP", "bad checksum");
	check_std_madt(&info);

	build_world(2);
	at(DSDT_AT + 40, 1)[0] ^= 1;
	CHECK_EQ(parse(RSDP_AT, &info), 0);
	CHECK(info.has_fadt);
	CHECK(!info.has_s5);
	CHECK_LOGGED("DSDT", "bad checksum");

	/* A FADT pointing at no DSDT, or at one outside memory. */
	struct fadt_opts o = std_fadt;
	o.dsdt = 0;
	build_world(2);
	put_fadt(FADT_AT, &o);
	CHECK_EQ(parse(RSDP_AT, &info), 0);
	CHECK(!info.has_s5);
	CHECK_LOGGED("FACP", "no DSDT");
	o.x_dsdt = 1ull << 44;
	put_fadt(FADT_AT, &o);
	CHECK_EQ(parse(RSDP_AT, &info), 0);
	CHECK(!info.has_s5);
	CHECK_LOGGED("DSDT", "not in mapped memory");

	/* The DSDT pointer names some other table. */
	o = std_fadt;
	o.dsdt = MADT_AT;
	put_fadt(FADT_AT, &o);
	CHECK_EQ(parse(RSDP_AT, &info), 0);
	CHECK(!info.has_s5);
	CHECK_LOGGED("DSDT", "signature is \"APIC\"");
}

/* Tables placed so that they run past the end of machine memory are refused. */
static void acpi_table_past_memory_end(void)
{
	struct acpi_info info;
	uint64_t end = mem_end();

	/* MADT header mapped, its length is not. */
	build_world(2);
	put_header(end - 40, "APIC", 200, 5);
	uint64_t e1[] = { end - 40, FADT_AT };
	put_root(XSDT_AT, true, e1, 2);
	CHECK_EQ(parse(RSDP_AT, &info), -VIREO_ENOENT);
	CHECK_LOGGED("APIC", "outside mapped memory");

	/* Not even the header is mapped. */
	uint64_t e2[] = { end - 20, end - 1, end, MADT_AT };
	memcpy(at(end - 20, 4), "APIC", 4);
	put_root(XSDT_AT, true, e2, 4);
	CHECK_EQ(parse(RSDP_AT, &info), 0);
	CHECK_LOGGED("0x", "not in mapped memory");

	/* The root table itself. */
	build_world(0);
	put_header(end - 36, "RSDT", 44, 1);
	put_rsdp(RSDP_AT, 0, (uint32_t)(end - 36), 0);
	CHECK_EQ(parse(RSDP_AT, &info), -VIREO_EINVAL);
	CHECK_LOGGED("RSDT", "outside mapped memory");

	/* The DSDT. */
	build_world(2);
	struct fadt_opts o = std_fadt;
	put_header(end - 36, "DSDT", 100, 2);
	o.dsdt = (uint32_t)(end - 36);
	put_fadt(FADT_AT, &o);
	CHECK_EQ(parse(RSDP_AT, &info), 0);
	CHECK(!info.has_s5);
	CHECK_LOGGED("DSDT", "outside mapped memory");

	/* A table that ends exactly at the end of memory is fine. */
	build_world(2);
	struct madt m;
	build_madt_std(&m);
	madt_place(&m, end - m.len);
	uint64_t e3[] = { end - m.len };
	put_root(XSDT_AT, true, e3, 1);
	CHECK_EQ(parse(RSDP_AT, &info), 0);
	check_std_madt(&info);
	memset(at(end - 4096, 4096), 0, 4096);
}

/* ---- random mutations ---------------------------------------------------- */

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;

static uint64_t rng(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return rng_state;
}

/* Change a few bytes of the table at maddr (not its signature or length). */
static void mutate(uint64_t maddr, size_t len)
{
	uint8_t *p = at(maddr, len);
	unsigned flips = 1 + (unsigned)(rng() % 8);

	for (unsigned i = 0; i < flips; i++) {
		size_t off = 8 + (size_t)(rng() % (len - 8));
		switch (rng() % 4) {
		case 0: p[off] = 0; break;
		case 1: p[off] = 0xff; break;
		case 2: p[off] = (uint8_t)(rng() % 20); break;
		default: p[off] ^= (uint8_t)rng(); break;
		}
	}
}

/*
 * Thousands of mutated MADTs (entry types and lengths), FADTs (ports, DSDT
 * pointers) and DSDTs (_S5_ encodings), resealed so they get past the
 * checksum (7 times in 8). The properties: no crash, no read outside the
 * tables (ASan, guarded), a known return value, counts within their arrays.
 * The FADT's DSDT pointers are kept: following a pointer anywhere into
 * machine memory is allowed, but the guard would report it.
 */
static void acpi_fuzz_tables(void)
{
	struct acpi_info info;
	struct madt m;
	static const uint8_t s5[] = { 0x08, '_', 'S', '5', '_', 0x12, 0x0a, 0x04, 0x0a, 0x05,
				      0x0a, 0x06, 0x00, 0x00, '_', 'S', '5', '_', 0x12, 0x41, 0x00 };

	for (int iter = 0; iter < 3000; iter++) {
		build_world((uint8_t)(iter & 2));
		build_madt_std(&m);
		madt_lapic_addr(&m, 0xfee00000);
		madt_place(&m, MADT_AT);
		put_dsdt(DSDT_AT, s5, sizeof(s5));
		uint64_t victim = iter % 3 == 0 ? MADT_AT : iter % 3 == 1 ? FADT_AT : DSDT_AT;
		mutate(victim, get32(victim + 4));
		if (victim == FADT_AT) {
			put32(FADT_AT + 40, DSDT_AT);
			put64(FADT_AT + 140, 0);
		}
		if (rng() % 8)
			seal_table(victim);
		int rc = parse(RSDP_AT, &info);
		if (!(rc == 0 || rc == -VIREO_ENOENT)) {
			CHECK_EQ(rc, 0);
			break;
		}
		CHECK(info.nr_cpus <= MAX_CPUS);
		CHECK(info.nr_cpus_enabled <= info.nr_cpus);
		CHECK(info.nr_ioapics <= ACPI_MAX_IOAPICS);
		CHECK(info.nr_overrides <= ACPI_MAX_OVERRIDES);
		if (test_failed_now())
			break;
	}
}

/* ---- summary ------------------------------------------------------------- */

static void acpi_print_summary(void)
{
	struct acpi_info info;

	build_world(2);
	REQUIRE(parse(RSDP_AT, &info) == 0);
	int saved = log_begin();
	acpi_print(&info);
	info.has_s5 = false;
	info.pm_timer_port = 0;
	acpi_print(&info);
	log_end(saved);
	CHECK_LOGGED("4 CPUs", "3 enabled");
	CHECK_LOGGED("I/O APIC id 8", "0xfec00000");
	CHECK_LOGGED("PM timer", "0x608, 32-bit");
	CHECK_LOGGED("S5", "SLP_TYPa 5 SLP_TYPb 6");
	CHECK_LOGGED("no PM timer", NULL);
	CHECK_LOGGED("no S5", NULL);
}

static const struct test_case cases[] = {
	TEST(acpi_rsdp_found),
	TEST(acpi_rsdp_not_found),
	TEST(acpi_rsdp_bad_checksum_skipped),
	TEST(acpi_rsdp_v2_checks),
	TEST(acpi_rsdp_at_memory_end),
	TEST(acpi_parse_rsdt_path),
	TEST(acpi_parse_xsdt_path),
	TEST(acpi_madt_online_capable_needs_rev5),
	TEST(acpi_madt_lapic_address_override),
	TEST(acpi_madt_limits),
	TEST(acpi_madt_invalid_and_duplicate_ids),
	TEST(acpi_madt_longer_entries_accepted),
	TEST(acpi_fadt_v1_reads_no_further),
	TEST(acpi_fadt_x_fields),
	TEST(acpi_fadt_pm_timer_width),
	TEST(acpi_fadt_reset_and_dsdt),
	TEST(acpi_fadt_optional),
	TEST(acpi_s5_decoding),
	TEST(acpi_bad_rsdp_refused),
	TEST(acpi_bad_root_refused),
	TEST(acpi_no_usable_madt),
	TEST(acpi_bad_entries_skipped),
	TEST(acpi_madt_bad_entry_lengths),
	TEST(acpi_bad_fadt_and_dsdt),
	TEST(acpi_table_past_memory_end),
	TEST(acpi_fuzz_tables),
	TEST(acpi_print_summary),
};
TEST_MAIN(cases)
