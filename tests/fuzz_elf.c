/*
 * libFuzzer target: guest kernel images (core/elf.c) come from boot modules
 * and from the toolstack, so any bytes must be refused or accepted without a
 * fault, and an accepted image must keep every promise of include/core/elf.h:
 *
 *   - segments: 1..ELF_MAX_SEGS, file bytes inside the image, filesz <= memsz,
 *     no address wrap, pairwise disjoint, virt_kstart/virt_kend their bounds;
 *   - the entry inside a segment, the span within max_span, the hypercall
 *     page (when named) a page inside the range, strings NUL-terminated,
 *     required features a subset of supported ones;
 *   - max_span only decides E2BIG: an image accepted under a small span is
 *     accepted, identically, under a larger one, and one refused under a
 *     large span is refused under a smaller one;
 *   - elf_load asks only for page-bounded pieces inside [virt_kstart,
 *     virt_kend) (anything else aborts: a finding, not a refusal), and
 *     leaves each segment's file bytes followed by zeroes.
 * The input is copied to an exact-size buffer so that AddressSanitizer sees
 * any read past its end. Seeds in tests/fuzz_corpus/elf/: a Linux-like PV
 * kernel (8-byte notes, VIRT_BASE 0xffffffff80000000, placement by p_paddr),
 * a Mini-OS-like one (4-byte notes), a plain ELF without notes, and one
 * whose notes are in an SHT_NOTE section.
 */
#include <stdlib.h>
#include <string.h>

#include <core/elf.h>
#include <vireo/errno.h>

#define SCRATCH_BYTES (1u << 20)
#define PAGE 4096u

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uint8_t scratch[SCRATCH_BYTES];

struct load_ctx {
	uint64_t lo, hi;              /* virt_kstart, virt_kend */
	unsigned refuse_after;        /* pieces granted before refusing; ~0u: none */
	unsigned calls;
};

static void check(int ok)
{
	if (!ok)
		abort();
}

static bool str_ok(const char *s, size_t cap)
{
	return memchr(s, 0, cap) != NULL;
}

static void check_segments(const struct elf_guest *g, size_t size)
{
	uint64_t lo = UINT64_MAX, hi = 0;

	check(g->nr_segs >= 1 && g->nr_segs <= ELF_MAX_SEGS);
	for (unsigned i = 0; i < g->nr_segs; i++) {
		const struct elf_segment *s = &g->segs[i];

		check(s->offset <= size && s->filesz <= size - s->offset);
		check(s->memsz > 0 && s->filesz <= s->memsz);
		check(s->memsz <= UINT64_MAX - s->vaddr);
		lo = s->vaddr < lo ? s->vaddr : lo;
		hi = s->vaddr + s->memsz > hi ? s->vaddr + s->memsz : hi;
		for (unsigned j = 0; j < i; j++) {
			const struct elf_segment *t = &g->segs[j];
			check(s->vaddr >= t->vaddr + t->memsz || t->vaddr >= s->vaddr + s->memsz);
		}
	}
	check(lo == g->virt_kstart && hi == g->virt_kend);
}

static void check_guest(const struct elf_guest *g, size_t size, uint64_t max_span)
{
	bool entry_in = false;

	check_segments(g, size);
	check(g->virt_kend - g->virt_kstart <= max_span);
	for (unsigned i = 0; i < g->nr_segs; i++)
		if (g->entry >= g->segs[i].vaddr && g->entry - g->segs[i].vaddr < g->segs[i].memsz)
			entry_in = true;
	check(entry_in);
	if (elf_has_note(g, ELFNOTE_XEN_HYPERCALL_PAGE))
		check(g->hypercall_page % PAGE == 0 && g->hypercall_page >= g->virt_kstart &&
		      g->hypercall_page < g->virt_kend);
	else
		check(g->hypercall_page == 0);
	check(g->has_notes || g->notes_seen == 0);
	check(!g->has_notes ? g->virt_base == 0 && g->paddr_offset == 0 : g->virt_base <= g->virt_kstart);
	check((g->features_required & ~g->features_supported) == 0);
	check(str_ok(g->features, sizeof(g->features)) && str_ok(g->guest_os, sizeof(g->guest_os)) &&
	      str_ok(g->guest_version, sizeof(g->guest_version)) &&
	      str_ok(g->xen_version, sizeof(g->xen_version)) &&
	      str_ok(g->loader, sizeof(g->loader)) && str_ok(g->pae_mode, sizeof(g->pae_mode)));
}

static void *load_dest(uint64_t vaddr, size_t len, void *opaque)
{
	struct load_ctx *c = opaque;

	/* elf_load must stay inside the image and within one page per piece. */
	check(len > 0 && len <= PAGE && (vaddr % PAGE) + len <= PAGE);
	check(vaddr >= c->lo && vaddr < c->hi && len <= c->hi - vaddr);
	if (c->calls++ >= c->refuse_after)
		return NULL;
	return scratch + (vaddr - c->lo);
}

static void check_loaded(const struct elf_guest *g, const uint8_t *img)
{
	for (unsigned i = 0; i < g->nr_segs; i++) {
		const struct elf_segment *s = &g->segs[i];
		const uint8_t *at = scratch + (s->vaddr - g->virt_kstart);

		check(!memcmp(at, img + s->offset, s->filesz));
		for (uint64_t k = s->filesz; k < s->memsz; k++)
			check(at[k] == 0);
	}
}

static void load(const struct elf_guest *g, const uint8_t *img, size_t size, unsigned seed)
{
	struct load_ctx c = { g->virt_kstart, g->virt_kend, ~0u, 0 };
	int rc;

	if (g->virt_kend - g->virt_kstart > SCRATCH_BYTES)
		return;
	memset(scratch, 0xCC, (size_t)(g->virt_kend - g->virt_kstart));
	rc = elf_load(g, img, size, load_dest, &c);
	check(rc == 0);
	check_loaded(g, img);
	/* Once more, with the callback refusing part-way: -EFAULT, no fault. */
	c.refuse_after = seed % (c.calls ? c.calls : 1);
	c.calls = 0;
	rc = elf_load(g, img, size, load_dest, &c);
	check(rc == -VIREO_EFAULT);
}

/* Field by field: struct padding is not part of the result. */
static bool same_guest(const struct elf_guest *a, const struct elf_guest *b)
{
	if (a->entry != b->entry || a->virt_base != b->virt_base ||
	    a->paddr_offset != b->paddr_offset || a->virt_kstart != b->virt_kstart ||
	    a->virt_kend != b->virt_kend || a->hypercall_page != b->hypercall_page ||
	    a->init_p2m != b->init_p2m || a->notes_seen != b->notes_seen ||
	    a->features_supported != b->features_supported ||
	    a->features_required != b->features_required || a->has_notes != b->has_notes ||
	    a->nr_segs != b->nr_segs || strcmp(a->features, b->features) ||
	    strcmp(a->guest_os, b->guest_os))
		return false;
	for (unsigned i = 0; i < a->nr_segs; i++) {
		const struct elf_segment *s = &a->segs[i], *t = &b->segs[i];
		if (s->offset != t->offset || s->filesz != t->filesz || s->memsz != t->memsz ||
		    s->vaddr != t->vaddr || s->flags != t->flags)
			return false;
	}
	return true;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint64_t spans[] = { PAGE, SCRATCH_BYTES, UINT64_MAX };
	static struct elf_guest g[3];
	uint8_t *img = malloc(size ? size : 1);
	int rc[3];

	memcpy(img, data, size);
	for (unsigned i = 0; i < 3; i++) {
		rc[i] = elf_parse(img, size, spans[i], &g[i]);
		check(rc[i] == 0 || rc[i] == -VIREO_EINVAL || rc[i] == -VIREO_E2BIG);
		if (rc[i] == 0)
			check_guest(&g[i], size, spans[i]);
		else
			check(g[i].nr_segs == 0 && g[i].entry == 0 && !g[i].has_notes);
	}
	for (unsigned i = 0; i < 2; i++) {
		if (rc[i] == 0)
			check(rc[i + 1] == 0 && same_guest(&g[i], &g[i + 1]));
		if (rc[i + 1] != 0)
			check(rc[i] != 0);
	}
	if (rc[2] == 0)
		load(&g[2], img, size, size > 0 ? data[size - 1] : 0);
	free(img);
	return 0;
}
