/*
 * Unit tests of the guest-kernel image parser (core/elf.c, include/core/elf.h).
 *
 * A small builder writes ELF images into one buffer with a fixed layout:
 *
 *     0x0000  ELF header
 *     0x0040  program headers (up to PH_MAX)
 *     0x0600  notes, covered by one PT_NOTE when notes_seal() is called
 *     0x1000  file bytes of PT_LOAD k at DATA_OFF + k * 0x1000 (a pattern)
 *     0x7f00  section names, 0x8000 section headers (only when sections_set())
 *
 * The good cases are shaped like real guests (Linux PV: VIRT_BASE
 * 0xffffffff80000000, PADDR_OFFSET 0, segments placed by p_paddr; Mini-OS:
 * 4-byte notes, VIRT_BASE 0; a plain ELF without notes). Every refusal has
 * its own case that checks the errno, that the console line names the
 * problem (fd 2, where hosted printk writes, is captured into a file) and
 * that *out was zeroed. A last case loads an image into a buffer.
 */
#define _GNU_SOURCE
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <core/elf.h>
#include <vireo/errno.h>

#include "harness.h"


/* ---- the image builder ----------------------------------------------------- */

#define IMG_MAX    0x10000
#define PH_OFF     0x40
#define PH_MAX     20
#define NOTES_OFF  0x600
#define NOTES_MAX  0xa00
#define DATA_OFF   0x1000
#define STR_OFF    0x7f00
#define SH_OFF     0x8000

#define PT_LOAD  1
#define PT_NOTE  4
#define SHT_NOTE 7
#define SHT_STRTAB 3
#define SHT_PROGBITS 1
#define RX (ELF_PF_R | ELF_PF_X)
#define RW (ELF_PF_R | ELF_PF_W)

#define KBASE  0xffffffff80000000ull   /* Linux's __START_KERNEL_map */
#define GIB    (1ull << 30)

static struct {
	uint8_t b[IMG_MAX];
	size_t size;                  /* bytes handed to elf_parse */
	unsigned nloads;
	size_t notes_len;
} M;

static void w16(size_t off, uint16_t v) { memcpy(M.b + off, &v, 2); }
static void w32(size_t off, uint32_t v) { memcpy(M.b + off, &v, 4); }
static void w64(size_t off, uint64_t v) { memcpy(M.b + off, &v, 8); }
static uint16_t r16(size_t off) { uint16_t v; memcpy(&v, M.b + off, 2); return v; }

static void grow(size_t end)
{
	if (M.size < end)
		M.size = end;
}

/* An x86-64 ET_EXEC header with no program headers yet. */
static void img_reset(void)
{
	memset(&M, 0, sizeof(M));
	memcpy(M.b, "\177ELF", 4);
	M.b[4] = 2;                   /* ELFCLASS64 */
	M.b[5] = 1;                   /* ELFDATA2LSB */
	M.b[6] = 1;                   /* EV_CURRENT */
	w16(16, 2);                   /* ET_EXEC */
	w16(18, 62);                  /* EM_X86_64 */
	w32(20, 1);
	w64(32, PH_OFF);
	w16(52, 64);
	w16(54, 56);
	w16(58, 64);
	M.size = DATA_OFF;
}

static void entry_set(uint64_t e) { w64(24, e); }

static void ph_add(uint32_t type, uint32_t flags, uint64_t off, uint64_t vaddr,
		   uint64_t paddr, uint64_t filesz, uint64_t memsz, uint64_t align)
{
	unsigned n = r16(56);
	size_t p = PH_OFF + (size_t)n * 56;

	if (n >= PH_MAX)
		abort();
	w32(p, type);
	w32(p + 4, flags);
	w64(p + 8, off);
	w64(p + 16, vaddr);
	w64(p + 24, paddr);
	w64(p + 32, filesz);
	w64(p + 40, memsz);
	w64(p + 48, align);
	w16(56, (uint16_t)(n + 1));
}

/* Offset of the program header n, to break a field after the fact. */
static size_t ph_at(unsigned n) { return PH_OFF + (size_t)n * 56; }

/* A PT_LOAD whose file bytes (filesz <= 0x1000) are a pattern of its own. */
static void load_add(uint64_t vaddr, uint64_t paddr, uint64_t filesz, uint64_t memsz,
		     uint32_t flags)
{
	size_t off = DATA_OFF + (size_t)M.nloads * 0x1000;

	if (filesz > 0x1000 || off + 0x1000 > STR_OFF)
		abort();
	for (size_t i = 0; i < filesz; i++)
		M.b[off + i] = (uint8_t)(0x11 * (M.nloads + 1) + i);
	M.nloads++;
	grow(off + 0x1000);
	ph_add(PT_LOAD, flags, off, vaddr, paddr, filesz, memsz, 0x1000);
}

static void note_add(const char *name, uint32_t type, const void *desc, size_t descsz)
{
	size_t namesz = strlen(name) + 1;
	size_t p = NOTES_OFF + M.notes_len;
	size_t need = 12 + ((namesz + 3) & ~3ul) + ((descsz + 3) & ~3ul);

	if (M.notes_len + need > NOTES_MAX)
		abort();
	w32(p, (uint32_t)namesz);
	w32(p + 4, (uint32_t)descsz);
	w32(p + 8, type);
	memcpy(M.b + p + 12, name, namesz);
	memcpy(M.b + p + 12 + ((namesz + 3) & ~3ul), desc, descsz);
	M.notes_len += need;
}

static void note_u64(uint32_t type, uint64_t v) { note_add("Xen", type, &v, 8); }
static void note_u32(uint32_t type, uint32_t v) { note_add("Xen", type, &v, 4); }
static void note_s(uint32_t type, const char *s) { note_add("Xen", type, s, strlen(s) + 1); }

/* One PT_NOTE over all the notes added so far. */
static void notes_seal(void)
{
	ph_add(PT_NOTE, ELF_PF_R, NOTES_OFF, 0, 0, M.notes_len, M.notes_len, 4);
}

/* Sections: [0] null, [1] .shstrtab, [2] name (type, offset, size). */
static void sections_set(const char *name, uint32_t type, uint64_t off, uint64_t size)
{
	static const char first[] = "\0.shstrtab";
	size_t name_at = sizeof(first);

	memcpy(M.b + STR_OFF, first, sizeof(first));
	strcpy((char *)M.b + STR_OFF + name_at, name);
	w32(SH_OFF + 64 + 0, 1);
	w32(SH_OFF + 64 + 4, SHT_STRTAB);
	w64(SH_OFF + 64 + 24, STR_OFF);
	w64(SH_OFF + 64 + 32, name_at + strlen(name) + 1);
	w32(SH_OFF + 128 + 0, (uint32_t)name_at);
	w32(SH_OFF + 128 + 4, type);
	w64(SH_OFF + 128 + 24, off);
	w64(SH_OFF + 128 + 32, size);
	w64(SH_OFF + 128 + 48, 4);
	w64(40, SH_OFF);
	w16(60, 3);
	w16(62, 1);
	grow(SH_OFF + 3 * 64);
}

/*
 * Like Linux's arch/x86/xen/xen-head.S: text at physical 16 MiB (virtual
 * 0xffffffff81000000) with the hypercall page in it, data above, a percpu-
 * like segment whose p_vaddr is 0 (placement must use p_paddr), FEATURES
 * written with .ascii (no NUL), L1_MFN_VALID as two quads (ignored).
 */
static void build_linux(void)
{
	uint64_t l1[2] = { 1, 1 };

	img_reset();
	entry_set(0x1000000);                         /* vmlinux: physical */
	load_add(KBASE + 0x1000000, 0x1000000, 0x1000, 0x3000, RX);
	load_add(KBASE + 0x1200000, 0x1200000, 0x800, 0x2000, RW);
	load_add(0, 0x1400000, 0x100, 0x1000, RW);
	note_s(ELFNOTE_XEN_GUEST_OS, "linux");
	note_s(ELFNOTE_XEN_GUEST_VERSION, "2.6");
	note_s(ELFNOTE_XEN_XEN_VERSION, "xen-3.0");
	note_u64(ELFNOTE_XEN_VIRT_BASE, KBASE);
	note_u64(ELFNOTE_XEN_PADDR_OFFSET, 0);
	note_u64(ELFNOTE_XEN_INIT_P2M, 0x8000000000ull);
	note_u64(ELFNOTE_XEN_ENTRY, KBASE + 0x1000040);
	note_add("Xen", ELFNOTE_XEN_FEATURES, "!writable_page_tables|pae_pgdir_above_4gb", 41);
	note_s(ELFNOTE_XEN_PAE_MODE, "yes");
	note_add("Xen", ELFNOTE_XEN_L1_MFN_VALID, l1, sizeof(l1));
	note_u64(ELFNOTE_XEN_HYPERCALL_PAGE, KBASE + 0x1001000);
	note_u32(ELFNOTE_XEN_SUPPORTED_FEATURES, (1u << ELF_FEAT_WRITABLE_PAGE_TABLES) |
		 (1u << ELF_FEAT_DOM0));
	note_s(ELFNOTE_XEN_LOADER, "generic");
	note_add("GNU", 3, "buildid!", 8);            /* a note of another name */
	notes_seal();
}

/* A plain ELF without notes: one segment at 0x100000, entry inside it. */
static void build_plain(void)
{
	img_reset();
	load_add(0x100000, 0x100000, 0x1000, 0x1000, RX);
	entry_set(0x100010);
}

/* ---- running the parser with fd 2 captured ------------------------------- */

static char parse_log[8192];

static int log_begin(void)
{
	return test_capture_begin();
}

static void log_end(int saved)
{
	snprintf(parse_log, sizeof(parse_log), "%s", test_capture_end(saved, NULL));
}

/* elf_parse on an exact-size copy of M, so that AddressSanitizer catches a
 * read past the image's end; fd 2 captured into parse_log. */
static int parse_span(uint64_t max_span, struct elf_guest *g)
{
	uint8_t *copy = malloc(M.size ? M.size : 1);
	int saved, rc;

	if (!copy)
		abort();
	memcpy(copy, M.b, M.size);
	saved = log_begin();
	rc = elf_parse(copy, M.size, max_span, g);
	log_end(saved);
	free(copy);
	return rc;
}

static int parse(struct elf_guest *g) { return parse_span(GIB, g); }


/* elf_parse must refuse M with err, print a line containing what, zero *out. */
static void expect_refusal_span(uint64_t max_span, int err, const char *what, int line)
{
	static struct elf_guest g;
	int rc;

	memset(&g, 0xA5, sizeof(g));
	rc = parse_span(max_span, &g);
	if (rc != err || !strstr(parse_log, what) || !strstr(parse_log, "elf: ") ||
	    !test_all_zero(&g, sizeof(g))) {
		printf("  line %d: rc %d (want %d), log: %s", line, rc, err, parse_log);
		test_fail(__FILE__, line, what);
	}
}

#define REFUSED(err, what) expect_refusal_span(GIB, (err), (what), __LINE__)

/* ---- good images ----------------------------------------------------------- */

static void elf_linux_pv_guest(void)
{
	struct elf_guest g;

	build_linux();
	REQUIRE(parse(&g) == 0);
	CHECK(g.has_notes);
	CHECK_EQ(g.virt_base, KBASE);
	CHECK_EQ(g.paddr_offset, 0);
	CHECK_EQ(g.entry, KBASE + 0x1000040);         /* ENTRY overrides e_entry */
	CHECK_EQ(g.hypercall_page, KBASE + 0x1001000);
	CHECK_EQ(g.init_p2m, 0x8000000000ull);
	REQUIRE(g.nr_segs == 3);
	CHECK_EQ(g.segs[0].vaddr, KBASE + 0x1000000);
	CHECK_EQ(g.segs[0].offset, DATA_OFF);
	CHECK_EQ(g.segs[0].filesz, 0x1000);
	CHECK_EQ(g.segs[0].memsz, 0x3000);
	CHECK_EQ(g.segs[0].flags, RX);
	CHECK_EQ(g.segs[1].vaddr, KBASE + 0x1200000);
	CHECK_EQ(g.segs[2].vaddr, KBASE + 0x1400000); /* by p_paddr, not p_vaddr 0 */
	CHECK_EQ(g.virt_kstart, KBASE + 0x1000000);
	CHECK_EQ(g.virt_kend, KBASE + 0x1401000);
	CHECK(!strcmp(g.guest_os, "linux"));
	CHECK(!strcmp(g.guest_version, "2.6"));
	CHECK(!strcmp(g.xen_version, "xen-3.0"));
	CHECK(!strcmp(g.loader, "generic"));
	CHECK(!strcmp(g.pae_mode, "yes"));
	CHECK(!strcmp(g.features, "!writable_page_tables|pae_pgdir_above_4gb"));
	CHECK_EQ(g.features_required, 1u << ELF_FEAT_WRITABLE_PAGE_TABLES);
	CHECK_EQ(g.features_supported, (1u << ELF_FEAT_WRITABLE_PAGE_TABLES) |
		 (1u << ELF_FEAT_PAE_PGDIR_ABOVE_4GB) | (1u << ELF_FEAT_DOM0));
	CHECK(elf_has_note(&g, ELFNOTE_XEN_L1_MFN_VALID));
	CHECK(elf_has_note(&g, ELFNOTE_XEN_ENTRY));
	CHECK(!elf_has_note(&g, ELFNOTE_XEN_MOD_START_PFN));
	CHECK(!elf_has_note(&g, ELFNOTE_XEN_PHYS32_ENTRY));
	CHECK_EQ(parse_log[0], 0);                    /* a good image prints nothing */
}

/* Mini-OS style: 4-byte numeric notes, VIRT_BASE 0, no PADDR_OFFSET. */
static void elf_minios_guest(void)
{
	struct elf_guest g;

	img_reset();
	entry_set(0);
	load_add(0, 0, 0x1000, 0x4000, RX | ELF_PF_W);
	note_s(ELFNOTE_XEN_GUEST_OS, "Mini-OS");
	note_s(ELFNOTE_XEN_LOADER, "generic");
	note_s(ELFNOTE_XEN_XEN_VERSION, "xen-3.0");
	note_u32(ELFNOTE_XEN_VIRT_BASE, 0);
	note_u32(ELFNOTE_XEN_HYPERCALL_PAGE, 0x2000);
	note_s(ELFNOTE_XEN_FEATURES, "!writable_page_tables");
	notes_seal();
	REQUIRE(parse(&g) == 0);
	CHECK(g.has_notes);
	CHECK_EQ(g.virt_base, 0);
	CHECK_EQ(g.paddr_offset, 0);
	CHECK_EQ(g.entry, 0);
	CHECK_EQ(g.hypercall_page, 0x2000);
	CHECK_EQ(g.virt_kstart, 0);
	CHECK_EQ(g.virt_kend, 0x4000);
	CHECK(!strcmp(g.guest_os, "Mini-OS"));
	CHECK_EQ(g.features_required, 1);
	CHECK_EQ(g.features_supported, 1);
}

/* No notes: virt_base 0, segments at p_vaddr, entry from e_entry. */
static void elf_guest_without_notes(void)
{
	struct elf_guest g;

	img_reset();
	load_add(0x400000, 0x1000, 0x800, 0x1000, RX);
	load_add(0x401000, 0x2000, 0x10, 0x5000, RW);
	entry_set(0x400100);
	REQUIRE(parse(&g) == 0);
	CHECK(!g.has_notes);
	CHECK_EQ(g.notes_seen, 0);
	CHECK_EQ(g.virt_base, 0);
	CHECK_EQ(g.paddr_offset, 0);
	CHECK_EQ(g.entry, 0x400100);
	CHECK_EQ(g.hypercall_page, 0);
	CHECK_EQ(g.segs[0].vaddr, 0x400000);
	CHECK_EQ(g.segs[1].vaddr, 0x401000);
	CHECK_EQ(g.virt_kstart, 0x400000);
	CHECK_EQ(g.virt_kend, 0x406000);
	CHECK_EQ(g.guest_os[0], 0);
}

/* Numeric notes of 4 and 8 bytes (and libelf's 1 and 2) read alike. */
static void elf_numeric_note_sizes(void)
{
	static const unsigned sizes[] = { 1, 2, 4, 8 };
	struct elf_guest g;

	for (unsigned i = 0; i < 4; i++) {
		uint64_t v = 0x2000;

		img_reset();
		entry_set(0x1000);
		load_add(0, 0, 0x1000, 0x10000, RX);
		if (sizes[i] == 1)
			v = 0x40;                         /* fits one byte */
		note_add("Xen", ELFNOTE_XEN_ENTRY, &v, sizes[i]);
		notes_seal();
		REQUIRE(parse(&g) == 0);
		CHECK_EQ(g.entry, v);
	}
	/* The high half of an 8-byte value counts. */
	build_linux();
	REQUIRE(parse(&g) == 0);
	CHECK_EQ(g.virt_base >> 32, 0xffffffffu);
}

/* FreeBSD style: PADDR_OFFSET = VIRT_BASE, so p_paddr is the virtual address. */
static void elf_paddr_offset_rule(void)
{
	struct elf_guest g;

	img_reset();
	load_add(0, KBASE + 0x200000, 0x100, 0x1000, RX);
	note_u64(ELFNOTE_XEN_VIRT_BASE, KBASE);
	note_u64(ELFNOTE_XEN_PADDR_OFFSET, KBASE);
	note_u64(ELFNOTE_XEN_ENTRY, KBASE + 0x200000);
	notes_seal();
	REQUIRE(parse(&g) == 0);
	CHECK_EQ(g.segs[0].vaddr, KBASE + 0x200000);
	CHECK_EQ(g.paddr_offset, KBASE);

	/* Notes without PADDR_OFFSET: it is 0 (not VIRT_BASE), as in libelf. */
	img_reset();
	load_add(0, 0x200000, 0x100, 0x1000, RX);
	note_u64(ELFNOTE_XEN_VIRT_BASE, KBASE);
	note_u64(ELFNOTE_XEN_ENTRY, KBASE + 0x200000);
	notes_seal();
	REQUIRE(parse(&g) == 0);
	CHECK_EQ(g.paddr_offset, 0);
	CHECK_EQ(g.segs[0].vaddr, KBASE + 0x200000);
}

/* No PT_NOTE: the notes are read from an SHT_NOTE section. */
static void elf_notes_from_section(void)
{
	struct elf_guest g;

	img_reset();
	load_add(0x100000, 0x100000, 0x1000, 0x1000, RX);
	entry_set(0x100000);
	note_u64(ELFNOTE_XEN_ENTRY, 0x100800);
	note_s(ELFNOTE_XEN_GUEST_OS, "linux");
	sections_set(".note.Xen", SHT_NOTE, NOTES_OFF, M.notes_len);
	REQUIRE(parse(&g) == 0);
	CHECK(g.has_notes);
	CHECK_EQ(g.entry, 0x100800);
	CHECK(!strcmp(g.guest_os, "linux"));

	/* A PT_NOTE with no Xen note in it does not hide the section. */
	ph_add(PT_NOTE, ELF_PF_R, NOTES_OFF + M.notes_len, 0, 0, 20, 20, 4);
	note_add("GNU", 1, "abcd", 4);
	REQUIRE(parse(&g) == 0);
	CHECK_EQ(g.entry, 0x100800);
}

static void elf_feature_names(void)
{
	struct elf_guest g;

	img_reset();
	load_add(0x100000, 0x100000, 0x1000, 0x1000, RX);
	note_u64(ELFNOTE_XEN_ENTRY, 0x100000);
	note_s(ELFNOTE_XEN_FEATURES, "writable_descriptor_tables|auto_translated_physmap|"
	       "supervisor_mode_kernel|hvm_callback_vector|!dom0||no_such_feature|"
	       "mmu_pt_update_preserve_ad|highmem_assist|gnttab_map_avail_bits|"
	       "hvm_safe_pvclock|!hvm_pirqs|pae_pgdir_above_4gb|!");
	notes_seal();
	REQUIRE(parse(&g) == 0);
	CHECK_EQ(g.features_required, (1u << ELF_FEAT_DOM0) | (1u << ELF_FEAT_HVM_PIRQS));
	CHECK_EQ(g.features_supported, 0xffeu);      /* bits 1..11 */
}

/* String notes: bounded by descsz when the NUL is missing, cut to fit. */
static void elf_string_notes_bounded(void)
{
	char long_str[600];
	struct elf_guest g;

	memset(long_str, 'f', sizeof(long_str));
	long_str[sizeof(long_str) - 1] = 0;
	img_reset();
	load_add(0x100000, 0x100000, 0x1000, 0x1000, RX);
	note_u64(ELFNOTE_XEN_ENTRY, 0x100000);
	note_add("Xen", ELFNOTE_XEN_GUEST_OS, "linuxXXX", 5);     /* no NUL */
	note_add("Xen", ELFNOTE_XEN_GUEST_VERSION, "6.1\0junk", 8);
	note_s(ELFNOTE_XEN_FEATURES, long_str);
	note_s(ELFNOTE_XEN_LOADER, long_str);
	notes_seal();
	REQUIRE(parse(&g) == 0);
	CHECK(!strcmp(g.guest_os, "linux"));
	CHECK(!strcmp(g.guest_version, "6.1"));
	CHECK_EQ(strlen(g.features), ELF_FEATURES_MAX - 1);
	CHECK_EQ(strlen(g.loader), ELF_STRING_MAX - 1);
}

/* Unknown note types, empty PT_LOADs and permission-less PT_LOADs are skipped. */
static void elf_skipped_things(void)
{
	struct elf_guest g;

	build_plain();
	ph_add(PT_LOAD, RW, DATA_OFF, 0x900000, 0x900000, 0, 0, 0x1000);   /* empty */
	ph_add(PT_LOAD, 0, DATA_OFF, 0x100000, 0x100000, 0x10, 0x10, 0);   /* no R/W/X */
	note_u32(25, 7);
	note_u32(200, 7);
	notes_seal();
	REQUIRE(parse(&g) == 0);
	CHECK_EQ(g.nr_segs, 1);
	CHECK(g.has_notes);
	CHECK(elf_has_note(&g, 25));
	CHECK_EQ(g.virt_kend, 0x101000);
}

/* ---- refusals: one per problem ---------------------------------------------- */

static void refuse_bad_magic(void)
{
	build_plain();
	M.b[1] = 'X';
	REFUSED(-VIREO_EINVAL, "bad magic");
	M.size = 2;
	REFUSED(-VIREO_EINVAL, "bad magic");
}

static void refuse_truncated_header(void)
{
	build_plain();
	M.size = 40;
	REFUSED(-VIREO_EINVAL, "less than an ELF header");
}

static void refuse_not_elf64(void)
{
	build_plain();
	M.b[4] = 1;
	REFUSED(-VIREO_EINVAL, "not a 64-bit ELF");
}

static void refuse_big_endian(void)
{
	build_plain();
	M.b[5] = 2;
	REFUSED(-VIREO_EINVAL, "not a little-endian");
}

static void refuse_not_x86_64(void)
{
	build_plain();
	w16(18, 3);                                   /* EM_386 */
	REFUSED(-VIREO_EINVAL, "not an x86-64 image");
}

static void refuse_not_exec(void)
{
	build_plain();
	w16(16, 3);                                   /* ET_DYN */
	REFUSED(-VIREO_EINVAL, "ET_EXEC");
}

static void refuse_bad_phentsize(void)
{
	build_plain();
	w16(54, 32);
	REFUSED(-VIREO_EINVAL, "e_phentsize");
}

static void refuse_bad_shentsize(void)
{
	build_plain();
	sections_set(".text", SHT_PROGBITS, DATA_OFF, 0x100);
	w16(58, 40);
	REFUSED(-VIREO_EINVAL, "e_shentsize");
}

static void refuse_phdrs_outside_image(void)
{
	build_plain();
	w64(32, M.size - 30);
	REFUSED(-VIREO_EINVAL, "program header table");
	w64(32, UINT64_MAX - 10);                     /* offset + size would wrap */
	REFUSED(-VIREO_EINVAL, "program header table");
	w64(32, PH_OFF);
	w16(56, PH_MAX + 1000);                        /* too many entries to fit */
	REFUSED(-VIREO_EINVAL, "program header table");
}

static void refuse_shdrs_outside_image(void)
{
	build_plain();
	sections_set(".text", SHT_PROGBITS, DATA_OFF, 0x100);
	w64(40, M.size - 64);
	REFUSED(-VIREO_EINVAL, "section header table");
	w64(40, UINT64_MAX - 63);
	REFUSED(-VIREO_EINVAL, "section header table");
}

static void refuse_load_outside_image(void)
{
	build_plain();
	w64(ph_at(0) + 8, M.size - 0x10);             /* p_offset near the end */
	REFUSED(-VIREO_EINVAL, "outside the");
	w64(ph_at(0) + 8, UINT64_MAX - 0x800);        /* offset + filesz wraps */
	REFUSED(-VIREO_EINVAL, "outside the");
}

static void refuse_filesz_over_memsz(void)
{
	build_plain();
	w64(ph_at(0) + 40, 0x800);                    /* p_memsz < p_filesz */
	REFUSED(-VIREO_EINVAL, "p_filesz 0x1000 is larger than p_memsz 0x800");
}

static void refuse_address_wraps(void)
{
	img_reset();
	load_add(0xfffffffffffff000ull, 0, 0x100, 0x2000, RX);
	entry_set(0xfffffffffffff000ull);
	REFUSED(-VIREO_EINVAL, "wraps");

	/* With notes, paddr + (virt_base - paddr_offset) can wrap too. */
	img_reset();
	load_add(0, 0x7ffff000ull, 0x100, 0x2000, RX);
	note_u64(ELFNOTE_XEN_VIRT_BASE, 0xffffffff80000000ull);
	note_u64(ELFNOTE_XEN_ENTRY, 0xfffffffffffff000ull);
	notes_seal();
	REFUSED(-VIREO_EINVAL, "wraps");
}

static void refuse_non_canonical(void)
{
	img_reset();
	load_add(0x00007ffffffff000ull, 0, 0x100, 0x2000, RX);     /* runs into the hole */
	entry_set(0x00007ffffffff000ull);
	REFUSED(-VIREO_EINVAL, "not canonical");
	img_reset();
	load_add(0x0000900000000000ull, 0, 0x100, 0x1000, RX);     /* inside it */
	entry_set(0x0000900000000000ull);
	REFUSED(-VIREO_EINVAL, "not canonical");
}

static void refuse_overlapping_segments(void)
{
	img_reset();
	load_add(0x100000, 0x100000, 0x1000, 0x3000, RX);
	load_add(0x102fff, 0x102fff, 0x10, 0x10, RW);  /* one byte in common */
	entry_set(0x100000);
	REFUSED(-VIREO_EINVAL, "overlap");

	/* Overlap after placement by p_paddr, though the p_vaddrs differ. */
	build_linux();
	w64(ph_at(2) + 24, 0x1201000);
	REFUSED(-VIREO_EINVAL, "overlap");
}

static void refuse_too_many_segments(void)
{
	img_reset();
	grow(DATA_OFF + 0x1000);
	for (unsigned i = 0; i < ELF_MAX_SEGS + 1; i++)
		ph_add(PT_LOAD, RX, DATA_OFF, 0x100000 + i * 0x1000ull, 0, 0x100, 0x1000, 0x1000);
	entry_set(0x100000);
	REFUSED(-VIREO_E2BIG, "more than 16 PT_LOAD segments");

	/* Exactly 16 is fine. */
	struct elf_guest g;
	w16(56, ELF_MAX_SEGS);
	REQUIRE(parse(&g) == 0);
	CHECK_EQ(g.nr_segs, ELF_MAX_SEGS);
}

static void refuse_no_load_segment(void)
{
	img_reset();
	entry_set(0x100000);
	note_u64(ELFNOTE_XEN_ENTRY, 0x100000);
	notes_seal();
	REFUSED(-VIREO_EINVAL, "no loadable (PT_LOAD) segment");
	w16(56, 0);                                   /* no program headers at all */
	REFUSED(-VIREO_EINVAL, "no loadable (PT_LOAD) segment");
}

static void refuse_entry_outside(void)
{
	build_plain();
	entry_set(0x101000);                          /* one past the end */
	REFUSED(-VIREO_EINVAL, "entry point 0x101000 is not inside a loaded segment");

	/* In the gap between two segments. */
	img_reset();
	load_add(0x100000, 0, 0x100, 0x1000, RX);
	load_add(0x200000, 0, 0x100, 0x1000, RW);
	entry_set(0x180000);
	REFUSED(-VIREO_EINVAL, "entry point");

	/* The ENTRY note is what counts, not e_entry. */
	build_linux();
	entry_set(KBASE + 0x1000000);
	note_u64(ELFNOTE_XEN_ENTRY, 0x1000000);        /* a physical address */
	w64(ph_at(3) + 32, M.notes_len);
	w64(ph_at(3) + 40, M.notes_len);
	REFUSED(-VIREO_EINVAL, "entry point 0x1000000");
}

static void refuse_too_large(void)
{
	struct elf_guest g;

	build_linux();                                /* spans 0x401000 bytes */
	expect_refusal_span(0x400000, -VIREO_E2BIG, "too large for the domain's memory", __LINE__);
	REQUIRE(parse_span(0x401000, &g) == 0);

	img_reset();
	load_add(0x100000, 0, 0x100, 0x1000, RX);
	load_add(0xffffffff80000000ull, 0, 0x100, 0x1000, RX);     /* huge span */
	entry_set(0x100000);
	REFUSED(-VIREO_E2BIG, "too large");
}

static void refuse_note_past_segment(void)
{
	build_linux();
	w64(ph_at(3) + 32, M.notes_len - 2);         /* PT_NOTE cut inside a descriptor */
	REFUSED(-VIREO_EINVAL, "runs past its end");

	build_linux();
	w64(ph_at(3) + 32, M.notes_len + 5);          /* 5 stray bytes: half a header */
	REFUSED(-VIREO_EINVAL, "truncated note header");
}

static void refuse_note_sizes_overflow(void)
{
	build_linux();
	w32(NOTES_OFF, 0xffffffffu);                   /* namesz */
	REFUSED(-VIREO_EINVAL, "runs past its end");
	build_linux();
	w32(NOTES_OFF + 4, 0xfffffffdu);               /* descsz */
	REFUSED(-VIREO_EINVAL, "runs past its end");
	build_linux();
	w32(NOTES_OFF, 0xfffffffcu);                   /* namesz + 12 rounds to 2^32 */
	w32(NOTES_OFF + 4, 0xfffffff4u);
	REFUSED(-VIREO_EINVAL, "runs past its end");
}

static void refuse_note_area_outside_image(void)
{
	build_linux();
	w64(ph_at(3) + 8, M.size - 8);                /* PT_NOTE offset */
	REFUSED(-VIREO_EINVAL, "PT_NOTE 3");
	build_linux();
	w64(ph_at(3) + 32, UINT64_MAX);               /* PT_NOTE size */
	REFUSED(-VIREO_EINVAL, "is outside the image");

	img_reset();
	load_add(0x100000, 0x100000, 0x1000, 0x1000, RX);
	entry_set(0x100000);
	note_s(ELFNOTE_XEN_GUEST_OS, "linux");
	sections_set(".note.Xen", SHT_NOTE, NOTES_OFF, 0x100000);
	REFUSED(-VIREO_EINVAL, "SHT_NOTE section 2");
}

static void refuse_hypercall_page_outside(void)
{
	build_linux();
	note_u64(ELFNOTE_XEN_HYPERCALL_PAGE, KBASE + 0x2000000);    /* a later note wins */
	w64(ph_at(3) + 32, M.notes_len);
	REFUSED(-VIREO_EINVAL, "hypercall page");

	build_linux();
	note_u64(ELFNOTE_XEN_HYPERCALL_PAGE, KBASE + 0x1401000);    /* == virt_kend */
	w64(ph_at(3) + 32, M.notes_len);
	REFUSED(-VIREO_EINVAL, "hypercall page");

	build_linux();
	note_u64(ELFNOTE_XEN_HYPERCALL_PAGE, KBASE + 0x1001008);    /* not a page */
	w64(ph_at(3) + 32, M.notes_len);
	REFUSED(-VIREO_EINVAL, "hypercall page");
}

static void refuse_paddr_offset_without_virt_base(void)
{
	img_reset();
	load_add(0, 0x200000, 0x100, 0x1000, RX);
	note_u64(ELFNOTE_XEN_PADDR_OFFSET, 0);
	note_u64(ELFNOTE_XEN_ENTRY, 0x200000);
	notes_seal();
	REFUSED(-VIREO_EINVAL, "PADDR_OFFSET note without a VIRT_BASE");
}

static void refuse_virt_base_above_kstart(void)
{
	img_reset();
	load_add(0, 0x200000, 0x100, 0x1000, RX);
	note_u64(ELFNOTE_XEN_VIRT_BASE, KBASE);
	note_u64(ELFNOTE_XEN_PADDR_OFFSET, 0x300000);   /* places it below virt_base */
	note_u64(ELFNOTE_XEN_ENTRY, KBASE - 0x100000);
	notes_seal();
	REFUSED(-VIREO_EINVAL, "VIRT_BASE 0xffffffff80000000 is above");
}

static void refuse_init_p2m_inside(void)
{
	build_linux();
	note_u64(ELFNOTE_XEN_INIT_P2M, KBASE + 0x1200000);
	w64(ph_at(3) + 32, M.notes_len);
	REFUSED(-VIREO_EINVAL, "INIT_P2M");
}

static void refuse_legacy_xen_guest_section(void)
{
	static const char legacy[] = "GUEST_OS=linux,XEN_VER=xen-3.0,VIRT_BASE=0x0";

	build_plain();
	memcpy(M.b + NOTES_OFF, legacy, sizeof(legacy));
	sections_set("__xen_guest", SHT_PROGBITS, NOTES_OFF, sizeof(legacy));
	REFUSED(-VIREO_EINVAL, "__xen_guest");
}

static void refuse_unknown_required_feature(void)
{
	build_plain();
	note_s(ELFNOTE_XEN_FEATURES, "writable_page_tables|!warp_drive|dom0");
	notes_seal();
	REFUSED(-VIREO_EINVAL, "requires the unknown feature 'warp_drive'");
}

static void refuse_bad_numeric_note(void)
{
	build_plain();
	note_add("Xen", ELFNOTE_XEN_VIRT_BASE, "\0\0\0", 3);
	notes_seal();
	REFUSED(-VIREO_EINVAL, "note VIRT_BASE has a 3-byte value");

	build_plain();
	note_add("Xen", ELFNOTE_XEN_SUPPORTED_FEATURES, "\1\0", 2);
	notes_seal();
	REFUSED(-VIREO_EINVAL, "SUPPORTED_FEATURES");
}

static void refuse_too_many_notes(void)
{
	build_plain();
	/* One 12-byte empty note, covered 5000 times by overlapping PT_NOTEs
	 * would take too many headers; 4 PT_NOTEs of 1200 notes each instead. */
	memset(M.b + 0x2000, 0, 0x4000);
	grow(0x6000);
	for (unsigned i = 0; i < 4; i++)
		ph_add(PT_NOTE, ELF_PF_R, 0x2000, 0, 0, 1200 * 12, 1200 * 12, 4);
	REFUSED(-VIREO_EINVAL, "more than 4096 notes");
}

/* Random mutations of a good image: refused or accepted, never a fault
 * (under AddressSanitizer, never an out-of-bounds read). */
static void elf_random_mutations(void)
{
	static uint8_t good[IMG_MAX];
	size_t good_size;
	struct elf_guest g;
	unsigned accepted = 0;

	build_linux();
	memcpy(good, M.b, sizeof(good));
	good_size = M.size;
	srand(12345);
	for (unsigned iter = 0; iter < 3000; iter++) {
		memcpy(M.b, good, sizeof(good));
		M.size = good_size;
		for (int k = rand() % 8; k >= 0; k--) {
			size_t at = (size_t)rand() % (NOTES_OFF + M.notes_len + 0x200);
			M.b[at] = (uint8_t)rand();
		}
		if (rand() % 8 == 0)
			M.size = (size_t)rand() % good_size;
		if (parse(&g) == 0) {
			accepted++;
			CHECK(g.nr_segs >= 1 && g.nr_segs <= ELF_MAX_SEGS);
			CHECK(g.virt_kend - g.virt_kstart <= GIB);
		} else {
			CHECK(test_all_zero(&g, sizeof(g)));
			CHECK(strstr(parse_log, "elf: ") != NULL);
		}
	}
	CHECK(accepted > 0);
}

/* ---- loading ---------------------------------------------------------------- */

struct load_ctx {
	uint8_t mem[0x402000];        /* guest memory for [base, base + size) */
	uint64_t base;
	unsigned calls;
	bool crossed_page;
	uint64_t refuse_at;           /* a vaddr to refuse, or 0 */
};

static void *load_dest(uint64_t vaddr, size_t len, void *opaque)
{
	struct load_ctx *c = opaque;

	c->calls++;
	if ((vaddr & ~0xfffull) != ((vaddr + len - 1) & ~0xfffull))
		c->crossed_page = true;
	if (vaddr < c->base || vaddr - c->base > sizeof(c->mem) ||
	    len > sizeof(c->mem) - (vaddr - c->base) || vaddr == c->refuse_at)
		return NULL;
	return c->mem + (vaddr - c->base);
}

static void elf_load_into_buffer(void)
{
	static struct load_ctx c;
	struct elf_guest g;
	int saved, rc;

	build_linux();
	REQUIRE(parse(&g) == 0);
	memset(&c, 0xEE, sizeof(c));
	c.base = g.virt_kstart;
	c.calls = 0;
	c.crossed_page = false;
	c.refuse_at = 0;
	saved = log_begin();
	rc = elf_load(&g, M.b, M.size, load_dest, &c);
	log_end(saved);
	REQUIRE(rc == 0);
	CHECK(!c.crossed_page);
	CHECK_EQ(c.calls, 3 + 2 + 1);                 /* one per page of memsz */
	/* text: 0x1000 file bytes, then 0x2000 zeroes */
	CHECK(!memcmp(c.mem, M.b + DATA_OFF, 0x1000));
	CHECK(test_all_zero(c.mem + 0x1000, 0x2000));
	/* data at +0x200000: 0x800 file bytes, zeroes to 0x2000 */
	CHECK(!memcmp(c.mem + 0x200000, M.b + DATA_OFF + 0x1000, 0x800));
	CHECK(test_all_zero(c.mem + 0x200800, 0x1800));
	/* percpu-like at +0x400000 */
	CHECK(!memcmp(c.mem + 0x400000, M.b + DATA_OFF + 0x2000, 0x100));
	CHECK(test_all_zero(c.mem + 0x400100, 0xf00));
	CHECK_EQ(c.mem[0x3000], 0xEE);                /* gaps untouched */

	/* A segment that starts mid-page is cut at page boundaries. */
	img_reset();
	load_add(0x100ff0, 0, 0x20, 0x1020, RX);
	entry_set(0x100ff0);
	REQUIRE(parse(&g) == 0);
	c.base = 0x100000;
	c.calls = 0;
	rc = elf_load(&g, M.b, M.size, load_dest, &c);
	CHECK_EQ(rc, 0);
	CHECK_EQ(c.calls, 3);                         /* 0x10, 0x1000, 0x10 bytes */
	CHECK(!c.crossed_page);
	CHECK(!memcmp(c.mem + 0xff0, M.b + DATA_OFF, 0x20));

	/* The callback refuses: -EFAULT, with a message. */
	build_linux();
	REQUIRE(parse(&g) == 0);
	c.base = g.virt_kstart;
	c.refuse_at = g.virt_kstart + 0x201000;
	saved = log_begin();
	rc = elf_load(&g, M.b, M.size, load_dest, &c);
	log_end(saved);
	CHECK_EQ(rc, -VIREO_EFAULT);
	CHECK(strstr(parse_log, "refused") != NULL);

	/* A plan that does not fit the image handed to elf_load. */
	c.refuse_at = 0;
	saved = log_begin();
	rc = elf_load(&g, M.b, DATA_OFF + 0x100, load_dest, &c);
	log_end(saved);
	CHECK_EQ(rc, -VIREO_EINVAL);
}

static void elf_print_summary(void)
{
	struct elf_guest g;
	int saved;

	build_linux();
	REQUIRE(parse(&g) == 0);
	saved = log_begin();
	elf_print(&g);
	log_end(saved);
	CHECK(strstr(parse_log, "entry 0xffffffff81000040") != NULL);
	CHECK(strstr(parse_log, "'linux'") != NULL);
	CHECK(strstr(parse_log, "0xffffffff81000000-0xffffffff81003000 r-x") != NULL);
}

static const struct test_case cases[] = {
	TEST(elf_linux_pv_guest),
	TEST(elf_minios_guest),
	TEST(elf_guest_without_notes),
	TEST(elf_numeric_note_sizes),
	TEST(elf_paddr_offset_rule),
	TEST(elf_notes_from_section),
	TEST(elf_feature_names),
	TEST(elf_string_notes_bounded),
	TEST(elf_skipped_things),
	TEST(refuse_bad_magic),
	TEST(refuse_truncated_header),
	TEST(refuse_not_elf64),
	TEST(refuse_big_endian),
	TEST(refuse_not_x86_64),
	TEST(refuse_not_exec),
	TEST(refuse_bad_phentsize),
	TEST(refuse_bad_shentsize),
	TEST(refuse_phdrs_outside_image),
	TEST(refuse_shdrs_outside_image),
	TEST(refuse_load_outside_image),
	TEST(refuse_filesz_over_memsz),
	TEST(refuse_address_wraps),
	TEST(refuse_non_canonical),
	TEST(refuse_overlapping_segments),
	TEST(refuse_too_many_segments),
	TEST(refuse_no_load_segment),
	TEST(refuse_entry_outside),
	TEST(refuse_too_large),
	TEST(refuse_note_past_segment),
	TEST(refuse_note_sizes_overflow),
	TEST(refuse_note_area_outside_image),
	TEST(refuse_hypercall_page_outside),
	TEST(refuse_paddr_offset_without_virt_base),
	TEST(refuse_virt_base_above_kstart),
	TEST(refuse_init_p2m_inside),
	TEST(refuse_legacy_xen_guest_section),
	TEST(refuse_unknown_required_feature),
	TEST(refuse_bad_numeric_note),
	TEST(refuse_too_many_notes),
	TEST(elf_random_mutations),
	TEST(elf_load_into_buffer),
	TEST(elf_print_summary),
};

TEST_MAIN(cases)
