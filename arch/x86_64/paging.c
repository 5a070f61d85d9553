/*
 * The hypervisor's own page tables (see arch/layout.h for the layout).
 *
 * Page-table pages come from a pool in .bss, not from the frame allocator:
 * the allocator keeps its metadata in RAM that must already be in the direct
 * map, so the direct map has to exist first. With 1 GiB pages (CPUID pdpe1gb)
 * the pool maps any amount of RAM; with only 2 MiB pages it maps 120 GiB and
 * says so if the machine has more.
 */
#include <stdbool.h>

#include <arch/cpu.h>
#include <arch/layout.h>
#include <arch/paging.h>
#include <mm/frame_alloc.h>
#include <vireo/machine.h>
#include <vireo/printk.h>

#define PT_POOL_PAGES 128

static uint64_t pt_pool[PT_POOL_PAGES][512] ALIGNED(4096);
static unsigned pt_used;
static uint64_t *root;
static uint64_t directmap_limit;   /* machine addresses below this are in the direct map */
static uint64_t pte_nx;            /* PTE_NX when EFER.NXE is on (boot.S sets it iff CPUID has NX) */

extern char __text_start[], __text_end[], __rodata_start[], __rodata_end[];
extern char __data_start[], __image_end[];

static uint64_t *pt_alloc(void)
{
	if (pt_used == PT_POOL_PAGES)
		panic("paging: page-table pool exhausted");
	return pt_pool[pt_used++];   /* .bss: already zero */
}

static uint64_t *next_level(uint64_t *table, unsigned idx)
{
	if (!(table[idx] & PTE_P))
		table[idx] = image_virt_to_maddr(pt_alloc()) | PTE_P | PTE_W;
	return (uint64_t *)((table[idx] & PTE_ADDR) + IMAGE_VIRT_OFFSET);
}

static unsigned idx(uint64_t va, int level)
{
	return (unsigned)(va >> (12 + 9 * level)) & 511;
}

/* Map one 4 KiB page of the image. */
static void map_image_page(uint64_t va, uint64_t flags)
{
	uint64_t *pdpt = next_level(root, idx(va, 3));
	uint64_t *pd = next_level(pdpt, idx(va, 2));
	uint64_t *pt = next_level(pd, idx(va, 1));
	pt[idx(va, 0)] = (va - IMAGE_VIRT_OFFSET) | flags;
}

static bool range_has_ram(const struct boot_info *bi, uint64_t start, uint64_t end)
{
	for (unsigned i = 0; i < bi->nr_mmap; i++) {
		const struct boot_mmap_entry *e = &bi->mmap[i];
		if (e->type == E820_RAM && e->addr < end && e->addr + e->len > start)
			return true;
	}
	return false;
}

static void map_direct(const struct boot_info *bi, uint64_t top, bool gb_pages)
{
	uint64_t base_flags = PTE_P | PTE_W | PTE_G | pte_nx;
	uint64_t at = 0;

	while (at < top) {
		uint64_t va = DIRECTMAP_BASE + at;
		uint64_t *pdpt = next_level(root, idx(va, 3));
		bool whole_gb = (at & ((1ull << 30) - 1)) == 0 && at + (1ull << 30) <= top;
		if (gb_pages && whole_gb && at >= (4ull << 30)) {
			uint64_t cache = range_has_ram(bi, at, at + (1ull << 30)) ? 0 : PTE_PCD | PTE_PWT;
			pdpt[idx(va, 2)] = at | base_flags | PTE_PS | cache;
			at += 1ull << 30;
			continue;
		}
		if (pt_used >= PT_POOL_PAGES) {
			printk("paging: only %llu MiB of %llu MiB mapped (no 1 GiB pages)\n",
			       (unsigned long long)(at >> 20), (unsigned long long)(top >> 20));
			break;
		}
		uint64_t *pd = next_level(pdpt, idx(va, 2));
		uint64_t cache = range_has_ram(bi, at, at + (2ull << 20)) ? 0 : PTE_PCD | PTE_PWT;
		pd[idx(va, 1)] = at | base_flags | PTE_PS | cache;
		at += 2ull << 20;
	}
	directmap_limit = at;
}

void paging_init(const struct boot_info *bi)
{
	uint64_t top = 4ull << 30;
	for (unsigned i = 0; i < bi->nr_mmap; i++) {
		const struct boot_mmap_entry *e = &bi->mmap[i];
		if (e->type == E820_RAM && e->addr + e->len > top && e->addr + e->len > e->addr)
			top = e->addr + e->len;
	}
	top = (top + (1ull << 30) - 1) & ~((1ull << 30) - 1);
	if (top > DIRECTMAP_END - DIRECTMAP_BASE)
		top = DIRECTMAP_END - DIRECTMAP_BASE;
	struct cpuid_regs ext = cpuid(0x80000001, 0);
	bool gb_pages = ext.d & (1u << 26);
	pte_nx = (ext.d & (1u << 20)) ? PTE_NX : 0;

	root = pt_alloc();

	/*
	 * Identity map of the first 2 MiB, executable, for the AP trampoline
	 * (it turns paging on while running at its physical address). Built
	 * first, so the direct map cannot use up the pool before it.
	 */
	uint64_t *pdpt = next_level(root, 0);
	uint64_t *pd = next_level(pdpt, 0);
	pd[0] = 0 | PTE_P | PTE_W | PTE_PS;

	/* The image, W^X, 4 KiB pages. */
	for (uint64_t va = (uint64_t)__text_start; va < (uint64_t)__text_end; va += PAGE_SIZE)
		map_image_page(va, PTE_P | PTE_G);
	for (uint64_t va = (uint64_t)__rodata_start; va < (uint64_t)__rodata_end; va += PAGE_SIZE)
		map_image_page(va, PTE_P | PTE_G | pte_nx);
	for (uint64_t va = (uint64_t)__data_start; va < (uint64_t)__image_end; va += PAGE_SIZE)
		map_image_page(va, PTE_P | PTE_W | PTE_G | pte_nx);

	map_direct(bi, top, gb_pages);

	write_cr3(image_virt_to_maddr(root));
}

void paging_drop_identity(void)
{
	root[0] = 0;
	write_cr3(read_cr3());
}

uint64_t paging_directmap_limit(void)
{
	return directmap_limit;
}

uint64_t paging_root_maddr(void)
{
	return image_virt_to_maddr(root);
}

void *maddr_to_virt(maddr_t maddr, size_t len)
{
	if (maddr >= directmap_limit || len > directmap_limit - maddr)
		return NULL;
	return (void *)(DIRECTMAP_BASE + maddr);
}

/*
 * The M2P, read-only to guests at M2P_VIRT_START (Xen's RO_MPT_VIRT_START,
 * L4 slot 256, copied into every guest L4): nr entries from m2p, 4 KiB
 * pages, user-readable, never writable, not executable. Its tables come
 * from the frame allocator (the pool is for the boot mappings).
 */
static uint64_t *m2p_next(uint64_t *table, unsigned i)
{
	if (!(table[i] & PTE_P)) {
		mfn_t m = frame_alloc(0);
		if (m == INVALID_MFN)
			panic("paging: no frame for the M2P mapping's tables");
		__builtin_memset(mfn_to_virt(m), 0, PAGE_SIZE);
		table[i] = ((uint64_t)m << PAGE_SHIFT) | PTE_P | PTE_U;
	}
	return mfn_to_virt((table[i] & PTE_ADDR) >> PAGE_SHIFT);
}

void paging_map_m2p(const uint64_t *m2p, uint64_t nr)
{
	uint64_t bytes = (nr * sizeof(uint64_t) + PAGE_SIZE - 1) & PAGE_MASK;
	if (bytes > M2P_VIRT_END - M2P_VIRT_START)
		panic("paging: the M2P of %llu frames does not fit its window", (unsigned long long)nr);
	for (uint64_t off = 0; off < bytes; off += PAGE_SIZE) {
		uint64_t va = M2P_VIRT_START + off;
		uint64_t *l3 = m2p_next(root, idx(va, 3));
		uint64_t *l2 = m2p_next(l3, idx(va, 2));
		uint64_t *l1 = m2p_next(l2, idx(va, 1));
		l1[idx(va, 0)] = (virt_to_mfn((const uint8_t *)m2p + off) << PAGE_SHIFT) | PTE_P | PTE_U | pte_nx;
	}
	write_cr3(read_cr3());
}
