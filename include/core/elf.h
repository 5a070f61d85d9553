/*
 * The guest-kernel image parser of the domain builder: an x86-64 ELF loader
 * that reads Xen's ELF notes, as Xen's libelf does (xen/common/libelf/).
 *
 * The image is hostile. elf_parse validates all of it before it writes its
 * result (decode, then apply): on any refusal it prints one line naming the
 * problem, zeroes *out and returns a negative errno:
 *
 *   -VIREO_EINVAL  the image is malformed or inconsistent: not an x86-64
 *                  little-endian ET_EXEC ELF, tables or notes outside the
 *                  image, bad segments, entry or hypercall page outside
 *                  what is loaded, a required feature nobody knows, the
 *                  legacy "__xen_guest" section (not supported);
 *   -VIREO_E2BIG   the image is well formed but exceeds a limit: its
 *                  virtual span is larger than max_span (too large for the
 *                  domain's memory), or it has more than ELF_MAX_SEGS
 *                  loadable segments.
 *
 * Placement follows libelf (libelf-dominfo.c, elf_xen_addr_calc_check):
 *
 *   - "notes present" means at least one note named "Xen" was found, in the
 *     PT_NOTE segments or, when they hold none, in the SHT_NOTE sections;
 *   - with notes, VIRT_BASE defaults to 0 and PADDR_OFFSET to 0 (the
 *     elfnote.h rule; only the legacy __xen_guest section defaulted it to
 *     VIRT_BASE), and a PADDR_OFFSET without VIRT_BASE is refused; each
 *     segment is placed at p_paddr + (virt_base - paddr_offset), modulo
 *     2^64 as in libelf, and virt_base must not be above virt_kstart;
 *   - without notes (a Vireo extension: Xen refuses such x86 images),
 *     virt_base = paddr_offset = 0 and segments go at p_vaddr;
 *   - the ENTRY note overrides e_entry;
 *   - a segment is loadable when it is PT_LOAD with any of R/W/X set (libelf's
 *     elf_phdr_is_loadable); empty ones (p_memsz 0) are skipped.
 *
 * Vireo is stricter than libelf where libelf is silent: loadable segments
 * must not overlap, must lie in canonical x86-64 addresses, the entry must
 * be inside one of them, and a numeric note we use must be 1, 2, 4 or 8
 * bytes long (libelf reads other sizes as 0).
 */
#ifndef CORE_ELF_H
#define CORE_ELF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Xen ELF note types (Xen's public elfnote.h, XEN_ELFNOTE_*): name "Xen". */
#define ELFNOTE_XEN_INFO                0
#define ELFNOTE_XEN_ENTRY               1
#define ELFNOTE_XEN_HYPERCALL_PAGE      2
#define ELFNOTE_XEN_VIRT_BASE           3
#define ELFNOTE_XEN_PADDR_OFFSET        4
#define ELFNOTE_XEN_XEN_VERSION         5
#define ELFNOTE_XEN_GUEST_OS            6
#define ELFNOTE_XEN_GUEST_VERSION       7
#define ELFNOTE_XEN_LOADER              8
#define ELFNOTE_XEN_PAE_MODE            9
#define ELFNOTE_XEN_FEATURES           10
#define ELFNOTE_XEN_BSD_SYMTAB         11
#define ELFNOTE_XEN_HV_START_LOW       12
#define ELFNOTE_XEN_L1_MFN_VALID       13
#define ELFNOTE_XEN_SUSPEND_CANCEL     14
#define ELFNOTE_XEN_INIT_P2M           15
#define ELFNOTE_XEN_MOD_START_PFN      16
#define ELFNOTE_XEN_SUPPORTED_FEATURES 17
#define ELFNOTE_XEN_PHYS32_ENTRY       18
#define ELFNOTE_XEN_NR                 19

/*
 * Feature bits of the FEATURES note, numbered as Xen's XENFEAT_* (public
 * features.h). A name with a leading '!' is required: its bit is set in both
 * features_required and features_supported. libelf knows only 7 of these
 * names; Vireo knows 0-11. An unknown required name refuses the image (as in
 * libelf); an unknown supported name is ignored. What the domain builder
 * does with the bits is its policy (Xen's PV builder checks only that a dom0
 * kernel with SUPPORTED_FEATURES supports ELF_FEAT_DOM0).
 */
#define ELF_FEAT_WRITABLE_PAGE_TABLES       0
#define ELF_FEAT_WRITABLE_DESCRIPTOR_TABLES 1
#define ELF_FEAT_AUTO_TRANSLATED_PHYSMAP    2
#define ELF_FEAT_SUPERVISOR_MODE_KERNEL     3
#define ELF_FEAT_PAE_PGDIR_ABOVE_4GB        4
#define ELF_FEAT_MMU_PT_UPDATE_PRESERVE_AD  5
#define ELF_FEAT_HIGHMEM_ASSIST             6
#define ELF_FEAT_GNTTAB_MAP_AVAIL_BITS      7
#define ELF_FEAT_HVM_CALLBACK_VECTOR        8
#define ELF_FEAT_HVM_SAFE_PVCLOCK           9
#define ELF_FEAT_HVM_PIRQS                 10
#define ELF_FEAT_DOM0                      11

/* Segment permissions (ELF p_flags). */
#define ELF_PF_X 1u
#define ELF_PF_W 2u
#define ELF_PF_R 4u

#define ELF_MAX_SEGS     16
#define ELF_FEATURES_MAX 256   /* bytes kept of the FEATURES string, NUL included */
#define ELF_STRING_MAX   64    /* of GUEST_OS, GUEST_VERSION, XEN_VERSION, LOADER */
#define ELF_PAE_MODE_MAX 16

/* One loadable segment: file bytes [offset, offset + filesz) go to vaddr,
 * and [vaddr + filesz, vaddr + memsz) is zeroed. 0 < memsz, filesz <= memsz. */
struct elf_segment {
	uint64_t offset;              /* in the image */
	uint64_t filesz;
	uint64_t memsz;
	uint64_t vaddr;               /* guest virtual destination */
	uint32_t flags;               /* ELF_PF_* */
};

/* What elf_parse makes of a valid image. Addresses are guest virtual, except
 * phys32_entry (a PVH physical entry) and mod_start_pfn (a flag to Xen). */
struct elf_guest {
	uint64_t entry;               /* ENTRY note, else e_entry */
	uint64_t virt_base;
	uint64_t paddr_offset;
	uint64_t virt_kstart;         /* lowest loaded address */
	uint64_t virt_kend;           /* one past the highest loaded address */
	uint64_t hypercall_page;      /* 0 when the image names none */
	uint64_t hv_start_low;        /* the numeric notes below: 0 when absent */
	uint64_t init_p2m;
	uint64_t mod_start_pfn;
	uint64_t phys32_entry;
	uint32_t notes_seen;          /* bit n: a Xen note of type n was read */
	uint32_t features_supported;  /* bit n: feature n (ELF_FEAT_*) */
	uint32_t features_required;
	bool has_notes;
	unsigned nr_segs;             /* 1..ELF_MAX_SEGS, in program-header order */
	struct elf_segment segs[ELF_MAX_SEGS];
	char features[ELF_FEATURES_MAX];   /* strings: NUL-terminated, cut to fit */
	char guest_os[ELF_STRING_MAX];
	char guest_version[ELF_STRING_MAX];
	char xen_version[ELF_STRING_MAX];
	char loader[ELF_STRING_MAX];
	char pae_mode[ELF_PAE_MODE_MAX];
};

/* Did the image carry a Xen note of this type (ELFNOTE_XEN_*)? Tells a note
 * whose value is 0 from an absent one. */
static inline bool elf_has_note(const struct elf_guest *g, unsigned type)
{
	return type < 32 && (g->notes_seen >> type) & 1;
}

/**
 * Validate an untrusted kernel image and describe how to load it.
 * @param image     the image bytes (any alignment)
 * @param size      their number
 * @param max_span  the largest virt_kend - virt_kstart accepted, in bytes
 * @param out       filled on success, zeroed on failure
 * @return 0, -VIREO_EINVAL (malformed) or -VIREO_E2BIG (too large); a
 *         refusal prints one line starting "elf: " that names the problem.
 */
int elf_parse(const void *image, size_t size, uint64_t max_span, struct elf_guest *out);

/* Print a short summary of g (entry, range, notes, segments). */
void elf_print(const struct elf_guest *g);

/**
 * Copy the segments that elf_parse found in image into guest memory.
 * @param dest  maps len bytes of guest memory at vaddr and returns a pointer
 *              to them, or NULL to refuse; it is called for pieces that
 *              never cross a 4 KiB boundary of guest virtual address, so a
 *              destination made of separate frames works
 * @return 0, -VIREO_EINVAL when g does not fit image (not from it), or
 *         -VIREO_EFAULT when dest refused; memory already written stays so.
 */
int elf_load(const struct elf_guest *g, const void *image, size_t size,
	     void *(*dest)(uint64_t vaddr, size_t len, void *ctx), void *ctx);

#endif
