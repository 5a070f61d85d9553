/*
 * The PV start-of-day layout (include/core/domain.h, domain_layout): pure
 * arithmetic over the kernel's extent and the domain's size, kept apart
 * from the builder so the hosted tests can check it.
 */
#include <core/domain.h>
#include <vireo/errno.h>

#define MB(x) ((uint64_t)(x) << 20)

#define LOWER_HALF_END 0x0000800000000000ull

/*
 * [start, end) is the guest's to have: all in the lower canonical half, or
 * all above the hypervisor's range (Xen's rule for PV guests). The image
 * chooses VIRT_BASE; without this, a kernel placed in the hypervisor's range
 * would have the builder write into the hypervisor's own page tables.
 */
bool domain_range_is_guest(uint64_t start, uint64_t end)
{
	if (end == start)
		return true;                         /* empty: touches nothing */
	if (end < start && end != 0)
		return false;                        /* wraps (end 0: the top of the space) */
	if (end != 0 && end <= LOWER_HALF_END)
		return true;
	return start >= HYPERVISOR_VIRT_END;
}

static uint64_t round_up(uint64_t x, uint64_t a)
{
	return (x + a - 1) & ~(a - 1);
}

/* Page-table pages needed to map [start, end): one L4, and L3/L2/L1 per 512G/1G/2M touched. */
static uint64_t pt_pages_for(uint64_t start, uint64_t end)
{
	uint64_t n = 1;
	for (int shift = 39; shift >= 21; shift -= 9)
		n += ((end - 1) >> shift) - (start >> shift) + 1;
	return n;
}

int domain_layout(const struct elf_guest *g, uint64_t nr_pages, uint64_t initrd_len,
		  struct dom_layout *l)
{
	*l = (struct dom_layout){ .v_start = g->virt_base };
	/*
	 * The initrd is hostile (any length): one longer than the domain's
	 * memory cannot fit, and refusing it here keeps every sum below from
	 * wrapping on its account (nr_pages << PAGE_SHIFT is mem_bytes, no wrap).
	 */
	if (initrd_len > nr_pages << PAGE_SHIFT)
		return -VIREO_ENOMEM;
	l->vkern_start = g->virt_kstart & ~(PAGE_SIZE - 1);
	l->vkern_end = round_up(g->virt_kend, PAGE_SIZE);
	l->vinitrd_start = l->vkern_end;
	l->vinitrd_end = l->vinitrd_start + round_up(initrd_len, PAGE_SIZE);
	l->vphysmap_start = l->vinitrd_end;
	l->vphysmap_end = l->vphysmap_start + round_up(nr_pages * 8, PAGE_SIZE);
	l->vstartinfo_start = l->vphysmap_end;
	l->vstartinfo_end = l->vstartinfo_start + PAGE_SIZE;
	l->vpt_start = l->vstartinfo_end;
	/* Past the top of the address space: the regions would wrap round to 0. */
	if (l->vinitrd_end < l->vinitrd_start || l->vphysmap_end < l->vphysmap_start ||
	    l->vpt_start < l->vphysmap_end)
		return -VIREO_ENOMEM;

	/* The tables must map themselves too: grow until the count is stable. */
	for (uint64_t nr_pt = 1; ; nr_pt++) {
		l->vpt_end = l->vpt_start + nr_pt * PAGE_SIZE;
		l->vstack_start = l->vpt_end;
		l->vstack_end = l->vstack_start + PAGE_SIZE;
		l->v_end = round_up(l->vstack_end + (512u << 10), MB(4));
		if (l->v_end < l->vstack_end || nr_pt > 4096)
			return -VIREO_ENOMEM;
		if (pt_pages_for(l->v_start, l->v_end) <= nr_pt) {
			l->nr_pt_frames = nr_pt;
			break;
		}
	}
	if ((l->v_end - l->v_start) >> PAGE_SHIFT > nr_pages)
		return -VIREO_ENOMEM;
	if (!domain_range_is_guest(l->v_start, l->v_end))
		return -VIREO_EINVAL;
	return 0;
}
