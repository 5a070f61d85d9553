/*
 * The guest-kernel image parser (include/core/elf.h): x86-64 ELF plus Xen's
 * ELF notes, with libelf's semantics (xen/common/libelf/libelf-dominfo.c,
 * libelf-loader.c, libelf-tools.c).
 *
 * The image is hostile, so every field is read through rd() (bounds known,
 * any alignment, little-endian whatever the host), every offset + length is
 * checked with in_image() (no sum that can wrap), and note sizes, 32-bit in
 * the file, are summed in 64 bits where they cannot overflow.
 *
 * elf_parse works in four steps, none of which writes *out:
 *   1. ehdr_decode: the ELF header and the two header tables;
 *   2. notes_scan:  the Xen notes, from PT_NOTE segments or else SHT_NOTE
 *                   sections, decoded into struct notes (pointers into the
 *                   image, numbers);
 *   3. guest_addrs, segs_collect: a local struct elf_guest with the address
 *                   rules applied and the load plan filled in;
 *   4. layout_check: overlap, span, entry, hypercall page, P2M.
 * Only then is the local result copied to *out.
 */
#include <stdarg.h>

#include <core/elf.h>
#include <vireo/compiler.h>
#include <vireo/errno.h>
#include <vireo/printk.h>

#define EHDR_SIZE    64
#define PHDR_SIZE    56
#define SHDR_SIZE    64
#define NHDR_SIZE    12          /* namesz, descsz, type: 32 bits each */

#define ELFCLASS64   2
#define ELFDATA2LSB  1
#define ET_EXEC      2
#define EM_X86_64    62
#define PT_LOAD      1
#define PT_NOTE      4
#define PN_XNUM      0xffff      /* extended program header numbering */
#define SHT_NOTE     7
#define SHN_LORESERVE 0xff00

#define GUEST_PAGE   4096ull
#define MAX_NOTES    4096        /* of any name, over all note areas */
#define CANON_LOW_END    (1ull << 47)
#define CANON_HIGH_START 0xffff800000000000ull

#define U(v) ((unsigned long long)(v))

COLD PRINTF_LIKE(2, 3) static int elf_refuse(int err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vprintk(fmt, ap);
	va_end(ap);
	return err;
}

/* A malformed image, and an image over a limit (see elf.h). */
#define BAD(fmt, ...)     elf_refuse(-VIREO_EINVAL, "elf: " fmt "\n", ##__VA_ARGS__)
#define TOO_BIG(fmt, ...) elf_refuse(-VIREO_E2BIG, "elf: " fmt "\n", ##__VA_ARGS__)

struct image {
	const uint8_t *p;
	uint64_t size;
};

struct ehdr {
	uint64_t entry, phoff, shoff;
	unsigned phnum, shnum, shstrndx;
};

struct phdr {
	uint32_t type, flags;
	uint64_t offset, vaddr, paddr, filesz, memsz, align;
};

struct shdr {
	uint32_t name, type;
	uint64_t offset, size, align;
};

/* A string note: its bytes up to the first NUL, bounded by its descsz. */
struct note_str {
	const uint8_t *s;
	size_t len;
};

/* The Xen notes as found: decoded, not yet applied. */
struct notes {
	uint32_t seen;                /* bit n: a Xen note of type n */
	unsigned count;               /* notes of any name */
	unsigned nr_xen;
	uint64_t num[ELFNOTE_XEN_NR];
	struct note_str str[ELFNOTE_XEN_NR];
	uint32_t feat_supported, feat_required;
};

/* An area that holds notes: a PT_NOTE segment or an SHT_NOTE section. */
struct note_area {
	uint64_t off, len, align;
	const char *what;
	unsigned index;
};

/* ---- reading the image ---------------------------------------------------- */

/* n (<= 8) bytes at p, little-endian. */
static uint64_t rd(const uint8_t *p, unsigned n)
{
	uint64_t v = 0;

	while (n--)
		v = v << 8 | p[n];
	return v;
}

static bool in_image(const struct image *im, uint64_t off, uint64_t len)
{
	return off <= im->size && len <= im->size - off;
}

static uint64_t align_up(uint64_t v, uint64_t a)
{
	return (v + a - 1) & ~(a - 1);
}

static bool has_note(const struct notes *n, unsigned type)
{
	return (n->seen >> type) & 1;
}

static void phdr_read(const struct image *im, const struct ehdr *eh, unsigned i,
		      struct phdr *ph)
{
	const uint8_t *p = im->p + eh->phoff + (uint64_t)i * PHDR_SIZE;

	ph->type = (uint32_t)rd(p, 4);
	ph->flags = (uint32_t)rd(p + 4, 4);
	ph->offset = rd(p + 8, 8);
	ph->vaddr = rd(p + 16, 8);
	ph->paddr = rd(p + 24, 8);
	ph->filesz = rd(p + 32, 8);
	ph->memsz = rd(p + 40, 8);
	ph->align = rd(p + 48, 8);
}

static void shdr_read(const struct image *im, const struct ehdr *eh, unsigned i,
		      struct shdr *sh)
{
	const uint8_t *p = im->p + eh->shoff + (uint64_t)i * SHDR_SIZE;

	sh->name = (uint32_t)rd(p, 4);
	sh->type = (uint32_t)rd(p + 4, 4);
	sh->offset = rd(p + 24, 8);
	sh->size = rd(p + 32, 8);
	sh->align = rd(p + 48, 8);
}

/* ---- step 1: the ELF header ----------------------------------------------- */

static int ident_check(const struct image *im)
{
	const uint8_t *p = im->p;

	if (im->size < 4 || p[0] != 0x7f || p[1] != 'E' || p[2] != 'L' || p[3] != 'F')
		return BAD("not an ELF image (bad magic)");
	if (im->size < EHDR_SIZE)
		return BAD("truncated: %llu bytes is less than an ELF header", U(im->size));
	if (p[4] != ELFCLASS64)
		return BAD("not a 64-bit ELF image (ELFCLASS %u, want ELFCLASS64)", p[4]);
	if (p[5] != ELFDATA2LSB)
		return BAD("not a little-endian ELF image (EI_DATA %u)", p[5]);
	if (rd(p + 18, 2) != EM_X86_64)
		return BAD("not an x86-64 image (e_machine %u, want EM_X86_64 62)",
			   (unsigned)rd(p + 18, 2));
	if (rd(p + 16, 2) != ET_EXEC)
		return BAD("not an executable (e_type %u, want ET_EXEC)", (unsigned)rd(p + 16, 2));
	return 0;
}

static int ehdr_decode(const struct image *im, struct ehdr *eh)
{
	const uint8_t *p = im->p;
	int rc = ident_check(im);

	if (rc)
		return rc;
	eh->entry = rd(p + 24, 8);
	eh->phoff = rd(p + 32, 8);
	eh->shoff = rd(p + 40, 8);
	eh->phnum = (unsigned)rd(p + 56, 2);
	eh->shnum = (unsigned)rd(p + 60, 2);
	eh->shstrndx = (unsigned)rd(p + 62, 2);
	if (rd(p + 54, 2) != PHDR_SIZE)
		return BAD("bad e_phentsize %u (want %u)", (unsigned)rd(p + 54, 2), PHDR_SIZE);
	if (eh->shnum && rd(p + 58, 2) != SHDR_SIZE)
		return BAD("bad e_shentsize %u (want %u)", (unsigned)rd(p + 58, 2), SHDR_SIZE);
	if (eh->phnum == PN_XNUM)
		return BAD("extended program header numbering is not supported");
	if (!in_image(im, eh->phoff, (uint64_t)eh->phnum * PHDR_SIZE))
		return BAD("program header table (offset 0x%llx, %u entries) is outside the image",
			   U(eh->phoff), eh->phnum);
	if (!in_image(im, eh->shoff, (uint64_t)eh->shnum * SHDR_SIZE))
		return BAD("section header table (offset 0x%llx, %u entries) is outside the image",
			   U(eh->shoff), eh->shnum);
	return 0;
}

/* ---- step 2: the Xen notes ------------------------------------------------- */

enum note_kind { NOTE_IGNORED, NOTE_NUM, NOTE_STR, NOTE_FEATURE_MAP };

/* How libelf reads each note (elf_xen_parse_note); the ignored ones Vireo
 * does not use (INFO is unknown to libelf too). */
static const struct {
	const char *name;
	uint8_t kind;
} note_desc[ELFNOTE_XEN_NR] = {
	[ELFNOTE_XEN_INFO]               = { "INFO", NOTE_IGNORED },
	[ELFNOTE_XEN_ENTRY]              = { "ENTRY", NOTE_NUM },
	[ELFNOTE_XEN_HYPERCALL_PAGE]     = { "HYPERCALL_PAGE", NOTE_NUM },
	[ELFNOTE_XEN_VIRT_BASE]          = { "VIRT_BASE", NOTE_NUM },
	[ELFNOTE_XEN_PADDR_OFFSET]       = { "PADDR_OFFSET", NOTE_NUM },
	[ELFNOTE_XEN_XEN_VERSION]        = { "XEN_VERSION", NOTE_STR },
	[ELFNOTE_XEN_GUEST_OS]           = { "GUEST_OS", NOTE_STR },
	[ELFNOTE_XEN_GUEST_VERSION]      = { "GUEST_VERSION", NOTE_STR },
	[ELFNOTE_XEN_LOADER]             = { "LOADER", NOTE_STR },
	[ELFNOTE_XEN_PAE_MODE]           = { "PAE_MODE", NOTE_STR },
	[ELFNOTE_XEN_FEATURES]           = { "FEATURES", NOTE_STR },
	[ELFNOTE_XEN_BSD_SYMTAB]         = { "BSD_SYMTAB", NOTE_IGNORED },
	[ELFNOTE_XEN_HV_START_LOW]       = { "HV_START_LOW", NOTE_NUM },
	[ELFNOTE_XEN_L1_MFN_VALID]       = { "L1_MFN_VALID", NOTE_IGNORED },
	[ELFNOTE_XEN_SUSPEND_CANCEL]     = { "SUSPEND_CANCEL", NOTE_IGNORED },
	[ELFNOTE_XEN_INIT_P2M]           = { "INIT_P2M", NOTE_NUM },
	[ELFNOTE_XEN_MOD_START_PFN]      = { "MOD_START_PFN", NOTE_NUM },
	[ELFNOTE_XEN_SUPPORTED_FEATURES] = { "SUPPORTED_FEATURES", NOTE_FEATURE_MAP },
	[ELFNOTE_XEN_PHYS32_ENTRY]       = { "PHYS32_ENTRY", NOTE_NUM },
};

/* Xen's XENFEAT_* names (public features.h), indexed by bit. */
static const char *const feature_names[] = {
	"writable_page_tables", "writable_descriptor_tables", "auto_translated_physmap",
	"supervisor_mode_kernel", "pae_pgdir_above_4gb", "mmu_pt_update_preserve_ad",
	"highmem_assist", "gnttab_map_avail_bits", "hvm_callback_vector",
	"hvm_safe_pvclock", "hvm_pirqs", "dom0",
};
compile_assert(ARRAY_SIZE(feature_names) == ELF_FEAT_DOM0 + 1, "one name per feature bit");

static int feature_lookup(const uint8_t *t, size_t n)
{
	for (unsigned i = 0; i < ARRAY_SIZE(feature_names); i++) {
		const char *name = feature_names[i];
		size_t len = 0;

		while (name[len])
			len++;
		if (len == n && !__builtin_memcmp(t, name, n))
			return (int)i;
	}
	return -1;
}

/* One name of a FEATURES string: "name" (supported) or "!name" (required). */
static int feature_one(const uint8_t *t, size_t n, struct notes *notes)
{
	bool required = n && t[0] == '!';
	int bit;

	if (required) {
		t++;
		n--;
	}
	if (n == 0)
		return 0;
	bit = feature_lookup(t, n);
	if (bit < 0 && required)
		return BAD("the kernel requires the unknown feature '%.*s'",
			   (int)(n < 64 ? n : 64), (const char *)t);
	if (bit < 0)
		return 0;
	notes->feat_supported |= 1u << bit;
	if (required)
		notes->feat_required |= 1u << bit;
	return 0;
}

/* FEATURES: '|'-separated names (libelf's elf_xen_parse_features). */
static int features_parse(const uint8_t *s, size_t len, struct notes *notes)
{
	size_t i = 0;

	while (i < len) {
		size_t j = i;
		int rc;

		while (j < len && s[j] != '|')
			j++;
		rc = feature_one(s + i, j - i, notes);
		if (rc)
			return rc;
		i = j + 1;
	}
	return 0;
}

static int note_num(struct notes *n, unsigned type, const uint8_t *desc, uint64_t descsz)
{
	if (descsz != 1 && descsz != 2 && descsz != 4 && descsz != 8)
		return BAD("note %s has a %llu-byte value (want 4 or 8 bytes)",
			   note_desc[type].name, U(descsz));
	n->num[type] = rd(desc, (unsigned)descsz);
	return 0;
}

static int note_str(struct notes *n, unsigned type, const uint8_t *desc, uint64_t descsz)
{
	size_t len = 0;

	while (len < descsz && desc[len])
		len++;
	n->str[type].s = desc;
	n->str[type].len = len;
	if (type == ELFNOTE_XEN_FEATURES)
		return features_parse(desc, len, n);
	return 0;
}

/* SUPPORTED_FEATURES: an array of 32-bit maps; Xen has one (XENFEAT_NR_SUBMAPS). */
static int note_feature_map(struct notes *n, const uint8_t *desc, uint64_t descsz)
{
	if (descsz == 0 || descsz % 4)
		return BAD("note SUPPORTED_FEATURES has %llu bytes (want a multiple of 4)",
			   U(descsz));
	n->feat_supported |= (uint32_t)rd(desc, 4);
	return 0;
}

static int note_decode(struct notes *n, uint32_t type, const uint8_t *desc, uint64_t descsz)
{
	if (type < 32)
		n->seen |= 1u << type;
	if (type >= ELFNOTE_XEN_NR)
		return 0;                      /* unknown: ignored, as libelf does */
	switch (note_desc[type].kind) {
	case NOTE_NUM:
		return note_num(n, type, desc, descsz);
	case NOTE_STR:
		return note_str(n, type, desc, descsz);
	case NOTE_FEATURE_MAP:
		return note_feature_map(n, desc, descsz);
	default:
		return 0;
	}
}

/* "Xen" NUL-terminated, as libelf's strcmp(name, "Xen") sees it. */
static bool is_xen_name(const uint8_t *name, uint64_t namesz)
{
	return (namesz == 3 || (namesz == 4 && name[3] == 0)) &&
	       name[0] == 'X' && name[1] == 'e' && name[2] == 'n';
}

/*
 * The note at h, with room bytes left in its area. The layout is binutils'
 * (ELF_NOTE_DESC_OFFSET/ELF_NOTE_NEXT_OFFSET): the name follows the 12-byte
 * header, the descriptor and the next note start at the area's alignment.
 * The padding after the last descriptor may be cut off by the area's end.
 */
static int note_one(const uint8_t *h, uint64_t room, const struct note_area *a,
		    uint64_t pos, struct notes *n, uint64_t *used)
{
	uint64_t namesz, descsz, desc_off, next;

	if (room < NHDR_SIZE)
		return BAD("%s %u: truncated note header at offset 0x%llx", a->what, a->index,
			   U(a->off + pos));
	namesz = rd(h, 4);
	descsz = rd(h + 4, 4);
	desc_off = align_up(NHDR_SIZE + namesz, a->align);
	if (desc_off > room || descsz > room - desc_off)
		return BAD("%s %u: note at offset 0x%llx (namesz %llu, descsz %llu) runs past its end",
			   a->what, a->index, U(a->off + pos), U(namesz), U(descsz));
	if (++n->count > MAX_NOTES)
		return BAD("more than %u notes", MAX_NOTES);
	next = align_up(desc_off + descsz, a->align);
	*used = next < room ? next : room;
	if (!is_xen_name(h + NHDR_SIZE, namesz))
		return 0;
	n->nr_xen++;
	return note_decode(n, (uint32_t)rd(h + 8, 4), h + desc_off, descsz);
}

static int note_area_scan(const struct image *im, const struct note_area *a, struct notes *n)
{
	uint64_t pos = 0;

	if (!in_image(im, a->off, a->len))
		return BAD("%s %u (offset 0x%llx, 0x%llx bytes) is outside the image",
			   a->what, a->index, U(a->off), U(a->len));
	while (pos < a->len) {
		uint64_t used = 0;
		int rc = note_one(im->p + a->off + pos, a->len - pos, a, pos, n, &used);

		if (rc)
			return rc;
		pos += used;
	}
	return 0;
}

static int notes_from_segments(const struct image *im, const struct ehdr *eh, struct notes *n)
{
	for (unsigned i = 0; i < eh->phnum; i++) {
		struct phdr ph;
		struct note_area a;
		int rc;

		phdr_read(im, eh, i, &ph);
		/* libelf skips p_offset 0: some binutils left it unset in PT_NOTE. */
		if (ph.type != PT_NOTE || ph.offset == 0)
			continue;
		a = (struct note_area){ ph.offset, ph.filesz, ph.align == 8 ? 8 : 4, "PT_NOTE", i };
		rc = note_area_scan(im, &a, n);
		if (rc)
			return rc;
	}
	return 0;
}

static int notes_from_sections(const struct image *im, const struct ehdr *eh, struct notes *n)
{
	for (unsigned i = 1; i < eh->shnum; i++) {
		struct shdr sh;
		struct note_area a;
		int rc;

		shdr_read(im, eh, i, &sh);
		if (sh.type != SHT_NOTE)
			continue;
		a = (struct note_area){ sh.offset, sh.size, sh.align == 8 ? 8 : 4, "SHT_NOTE section", i };
		rc = note_area_scan(im, &a, n);
		if (rc)
			return rc;
	}
	return 0;
}

/* Is section i named name (NUL included in len)? Unreadable names are not. */
static bool section_named(const struct image *im, const struct ehdr *eh, unsigned i,
			  const char *name, size_t len)
{
	struct shdr strtab, sh;

	if (eh->shstrndx == 0 || eh->shstrndx >= SHN_LORESERVE || eh->shstrndx >= eh->shnum)
		return false;
	shdr_read(im, eh, eh->shstrndx, &strtab);
	shdr_read(im, eh, i, &sh);
	if (!in_image(im, strtab.offset, strtab.size) || sh.name > strtab.size ||
	    len > strtab.size - sh.name)
		return false;
	return !__builtin_memcmp(im->p + strtab.offset + sh.name, name, len);
}

/* The pre-note interface (a "__xen_guest" string section): refused. */
static int legacy_check(const struct image *im, const struct ehdr *eh)
{
	for (unsigned i = 1; i < eh->shnum; i++)
		if (section_named(im, eh, i, "__xen_guest", sizeof("__xen_guest")))
			return BAD("legacy '__xen_guest' section instead of Xen ELF notes: not supported");
	return 0;
}

/* Notes from PT_NOTE segments, or else from SHT_NOTE sections (libelf's order). */
static int notes_scan(const struct image *im, const struct ehdr *eh, struct notes *n)
{
	int rc = notes_from_segments(im, eh, n);

	if (!rc && n->nr_xen == 0)
		rc = notes_from_sections(im, eh, n);
	if (!rc && n->nr_xen == 0)
		rc = legacy_check(im, eh);
	return rc;
}

/* ---- step 3: addresses and the load plan ----------------------------------- */

static int guest_addrs(const struct ehdr *eh, const struct notes *n, struct elf_guest *g)
{
	if (has_note(n, ELFNOTE_XEN_PADDR_OFFSET) && !has_note(n, ELFNOTE_XEN_VIRT_BASE))
		return BAD("PADDR_OFFSET note without a VIRT_BASE note");
	g->has_notes = n->nr_xen > 0;
	g->notes_seen = n->seen;
	g->virt_base = n->num[ELFNOTE_XEN_VIRT_BASE];        /* absent notes read 0 */
	g->paddr_offset = n->num[ELFNOTE_XEN_PADDR_OFFSET];
	g->entry = has_note(n, ELFNOTE_XEN_ENTRY) ? n->num[ELFNOTE_XEN_ENTRY] : eh->entry;
	g->hypercall_page = n->num[ELFNOTE_XEN_HYPERCALL_PAGE];
	g->hv_start_low = n->num[ELFNOTE_XEN_HV_START_LOW];
	g->init_p2m = n->num[ELFNOTE_XEN_INIT_P2M];
	g->mod_start_pfn = n->num[ELFNOTE_XEN_MOD_START_PFN];
	g->phys32_entry = n->num[ELFNOTE_XEN_PHYS32_ENTRY];
	g->features_supported = n->feat_supported;
	g->features_required = n->feat_required;
	return 0;
}

static int seg_file_check(const struct image *im, const struct phdr *ph, unsigned i)
{
	if (!in_image(im, ph->offset, ph->filesz))
		return BAD("PT_LOAD %u: file bytes 0x%llx+0x%llx are outside the %llu-byte image",
			   i, U(ph->offset), U(ph->filesz), U(im->size));
	if (ph->filesz > ph->memsz)
		return BAD("PT_LOAD %u: p_filesz 0x%llx is larger than p_memsz 0x%llx",
			   i, U(ph->filesz), U(ph->memsz));
	return 0;
}

/* [va, va + memsz) must not wrap (its end must be a 64-bit number) and must
 * lie in one canonical half of the x86-64 address space. memsz > 0. */
static int seg_range_check(uint64_t va, uint64_t memsz, unsigned i)
{
	uint64_t last;

	if (memsz > UINT64_MAX - va)
		return BAD("PT_LOAD %u: address range 0x%llx+0x%llx wraps around", i, U(va), U(memsz));
	last = va + memsz - 1;
	if (last >= CANON_LOW_END && va < CANON_HIGH_START)
		return BAD("PT_LOAD %u: address range 0x%llx+0x%llx is not canonical", i, U(va), U(memsz));
	return 0;
}

static int seg_add(struct elf_guest *g, const struct phdr *ph, unsigned i)
{
	/* libelf's rule: virt = paddr + (virt_base - paddr_offset), modulo 2^64. */
	uint64_t va = g->has_notes ? ph->paddr + (g->virt_base - g->paddr_offset) : ph->vaddr;
	int rc;

	if (g->nr_segs == ELF_MAX_SEGS)
		return TOO_BIG("more than %u PT_LOAD segments", ELF_MAX_SEGS);
	rc = seg_range_check(va, ph->memsz, i);
	if (rc)
		return rc;
	g->segs[g->nr_segs++] = (struct elf_segment){
		.offset = ph->offset, .filesz = ph->filesz, .memsz = ph->memsz,
		.vaddr = va, .flags = ph->flags & (ELF_PF_R | ELF_PF_W | ELF_PF_X),
	};
	return 0;
}

static int segs_collect(const struct image *im, const struct ehdr *eh, struct elf_guest *g)
{
	for (unsigned i = 0; i < eh->phnum; i++) {
		struct phdr ph;
		int rc;

		phdr_read(im, eh, i, &ph);
		/* libelf's elf_phdr_is_loadable: PT_LOAD with some permission. */
		if (ph.type != PT_LOAD || !(ph.flags & (ELF_PF_R | ELF_PF_W | ELF_PF_X)))
			continue;
		rc = seg_file_check(im, &ph, i);
		if (!rc && ph.memsz)
			rc = seg_add(g, &ph, i);
		if (rc)
			return rc;
	}
	if (g->nr_segs == 0)
		return BAD("no loadable (PT_LOAD) segment");
	return 0;
}

/* ---- step 4: the layout as a whole ----------------------------------------- */

static uint64_t seg_end(const struct elf_segment *s)
{
	return s->vaddr + s->memsz;            /* no wrap: seg_range_check */
}

static int overlap_check(const struct elf_guest *g)
{
	for (unsigned i = 0; i < g->nr_segs; i++)
		for (unsigned j = i + 1; j < g->nr_segs; j++) {
			const struct elf_segment *a = &g->segs[i], *b = &g->segs[j];

			if (a->vaddr < seg_end(b) && b->vaddr < seg_end(a))
				return BAD("loadable segments overlap: 0x%llx-0x%llx and 0x%llx-0x%llx",
					   U(a->vaddr), U(seg_end(a)), U(b->vaddr), U(seg_end(b)));
		}
	return 0;
}

static bool in_some_seg(const struct elf_guest *g, uint64_t va)
{
	for (unsigned i = 0; i < g->nr_segs; i++)
		if (va >= g->segs[i].vaddr && va - g->segs[i].vaddr < g->segs[i].memsz)
			return true;
	return false;
}

static void span_compute(struct elf_guest *g)
{
	g->virt_kstart = UINT64_MAX;
	g->virt_kend = 0;
	for (unsigned i = 0; i < g->nr_segs; i++) {
		if (g->segs[i].vaddr < g->virt_kstart)
			g->virt_kstart = g->segs[i].vaddr;
		if (seg_end(&g->segs[i]) > g->virt_kend)
			g->virt_kend = seg_end(&g->segs[i]);
	}
}

/* The notes' addresses against the loaded range (libelf's
 * elf_xen_addr_calc_check; the hypercall page as Xen's dom0 builder). */
static int notes_addr_check(const struct elf_guest *g)
{
	uint64_t hp = g->hypercall_page;

	if (g->has_notes && g->virt_base > g->virt_kstart)
		return BAD("VIRT_BASE 0x%llx is above the lowest loaded address 0x%llx",
			   U(g->virt_base), U(g->virt_kstart));
	if (elf_has_note(g, ELFNOTE_XEN_HYPERCALL_PAGE) &&
	    (hp < g->virt_kstart || hp >= g->virt_kend || hp % GUEST_PAGE))
		return BAD("hypercall page 0x%llx is not a page inside the loaded range 0x%llx-0x%llx",
			   U(hp), U(g->virt_kstart), U(g->virt_kend));
	if (elf_has_note(g, ELFNOTE_XEN_INIT_P2M) &&
	    g->init_p2m >= g->virt_kstart && g->init_p2m < g->virt_kend)
		return BAD("INIT_P2M 0x%llx is inside the loaded range 0x%llx-0x%llx",
			   U(g->init_p2m), U(g->virt_kstart), U(g->virt_kend));
	return 0;
}

static int layout_check(struct elf_guest *g, uint64_t max_span)
{
	int rc = overlap_check(g);

	if (rc)
		return rc;
	span_compute(g);
	if (g->virt_kend - g->virt_kstart > max_span)
		return TOO_BIG("image spans 0x%llx bytes (0x%llx-0x%llx): too large for the "
			       "domain's memory (0x%llx bytes)", U(g->virt_kend - g->virt_kstart),
			       U(g->virt_kstart), U(g->virt_kend), U(max_span));
	if (!in_some_seg(g, g->entry))
		return BAD("entry point 0x%llx is not inside a loaded segment", U(g->entry));
	return notes_addr_check(g);
}

/* ---- applying -------------------------------------------------------------- */

static void str_copy(char *dst, size_t cap, const struct note_str *src)
{
	size_t n = src->len < cap - 1 ? src->len : cap - 1;

	if (n)
		__builtin_memcpy(dst, src->s, n);
	dst[n] = 0;
}

static void strings_copy(const struct notes *n, struct elf_guest *g)
{
	str_copy(g->features, sizeof(g->features), &n->str[ELFNOTE_XEN_FEATURES]);
	str_copy(g->guest_os, sizeof(g->guest_os), &n->str[ELFNOTE_XEN_GUEST_OS]);
	str_copy(g->guest_version, sizeof(g->guest_version), &n->str[ELFNOTE_XEN_GUEST_VERSION]);
	str_copy(g->xen_version, sizeof(g->xen_version), &n->str[ELFNOTE_XEN_XEN_VERSION]);
	str_copy(g->loader, sizeof(g->loader), &n->str[ELFNOTE_XEN_LOADER]);
	str_copy(g->pae_mode, sizeof(g->pae_mode), &n->str[ELFNOTE_XEN_PAE_MODE]);
}

int elf_parse(const void *image, size_t size, uint64_t max_span, struct elf_guest *out)
{
	struct image im = { image, size };
	struct ehdr eh;
	struct notes notes;
	struct elf_guest g;
	int rc;

	__builtin_memset(&notes, 0, sizeof(notes));
	__builtin_memset(&g, 0, sizeof(g));
	rc = ehdr_decode(&im, &eh);
	if (!rc)
		rc = notes_scan(&im, &eh, &notes);
	if (!rc)
		rc = guest_addrs(&eh, &notes, &g);
	if (!rc)
		rc = segs_collect(&im, &eh, &g);
	if (!rc)
		rc = layout_check(&g, max_span);
	if (rc) {
		__builtin_memset(out, 0, sizeof(*out));
		return rc;
	}
	/* ---- validated: from here on, only commit. ---- */
	strings_copy(&notes, &g);
	*out = g;
	return 0;
}

/* ---- summary and loading ---------------------------------------------------- */

void elf_print(const struct elf_guest *g)
{
	printk("elf: entry 0x%llx, image 0x%llx-0x%llx, %u segments, %s\n",
	       U(g->entry), U(g->virt_kstart), U(g->virt_kend), g->nr_segs,
	       g->has_notes ? "Xen notes" : "no Xen notes");
	if (g->has_notes)
		printk("elf: guest '%s' '%s' for '%s', loader '%s', virt_base 0x%llx, "
		       "paddr_offset 0x%llx, hypercall page 0x%llx, features '%s' "
		       "(supported 0x%x, required 0x%x)\n",
		       g->guest_os, g->guest_version, g->xen_version, g->loader,
		       U(g->virt_base), U(g->paddr_offset), U(g->hypercall_page),
		       g->features, g->features_supported, g->features_required);
	for (unsigned i = 0; i < g->nr_segs && i < ELF_MAX_SEGS; i++) {
		const struct elf_segment *s = &g->segs[i];

		printk("elf:   0x%llx-0x%llx %c%c%c from file 0x%llx+0x%llx\n",
		       U(s->vaddr), U(s->vaddr + s->memsz),
		       s->flags & ELF_PF_R ? 'r' : '-', s->flags & ELF_PF_W ? 'w' : '-',
		       s->flags & ELF_PF_X ? 'x' : '-', U(s->offset), U(s->filesz));
	}
}

/* Fill one piece of segment s, at offset done within it, through p. */
static void piece_fill(uint8_t *p, const uint8_t *img, const struct elf_segment *s,
		       uint64_t done, uint64_t len)
{
	uint64_t from_file = done < s->filesz ? s->filesz - done : 0;

	if (from_file > len)
		from_file = len;
	if (from_file)
		__builtin_memcpy(p, img + s->offset + done, from_file);
	if (len > from_file)
		__builtin_memset(p + from_file, 0, len - from_file);
}

static int seg_load(const struct elf_segment *s, unsigned i, const uint8_t *img,
		    void *(*dest)(uint64_t vaddr, size_t len, void *ctx), void *ctx)
{
	uint64_t done = 0;

	while (done < s->memsz) {
		uint64_t va = s->vaddr + done;
		uint64_t len = GUEST_PAGE - (va & (GUEST_PAGE - 1));
		uint8_t *p;

		if (len > s->memsz - done)
			len = s->memsz - done;
		p = dest(va, (size_t)len, ctx);
		if (!p)
			return elf_refuse(-VIREO_EFAULT, "elf: segment %u: guest memory at 0x%llx "
					  "(0x%llx bytes) refused\n", i, U(va), U(len));
		piece_fill(p, img, s, done, len);
		done += len;
	}
	return 0;
}

int elf_load(const struct elf_guest *g, const void *image, size_t size,
	     void *(*dest)(uint64_t vaddr, size_t len, void *ctx), void *ctx)
{
	struct image im = { image, size };

	if (g->nr_segs > ELF_MAX_SEGS)
		return BAD("load: %u segments", g->nr_segs);
	for (unsigned i = 0; i < g->nr_segs; i++) {
		const struct elf_segment *s = &g->segs[i];

		if (!in_image(&im, s->offset, s->filesz) || s->filesz > s->memsz ||
		    s->memsz > UINT64_MAX - s->vaddr)
			return BAD("load: segment %u does not fit the image", i);
	}
	for (unsigned i = 0; i < g->nr_segs; i++) {
		int rc = seg_load(&g->segs[i], i, image, dest, ctx);

		if (rc)
			return rc;
	}
	return 0;
}
