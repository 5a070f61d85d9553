/*
 * Boot information from Multiboot 1, Multiboot 2 and PVH loaders, turned
 * into struct boot_info. Runs on the boot page tables, which map the first
 * 4 GiB of machine memory at DIRECTMAP_BASE; loaders put their structures
 * below 4 GiB. Every count and length is bounded: a loader's mistake costs a
 * message, not a wild read.
 */
#include <stdbool.h>

#include <arch/bootinfo.h>
#include <arch/layout.h>
#include <vireo/printk.h>

#define MB1_MAGIC 0x2BADB002u
#define MB2_MAGIC 0x36D76289u
#define PVH_MAGIC 0x336EC578u

#define LOW_LIMIT (4ull << 30)

/* Copies of the loader's strings: they must survive the loader's memory. */
static char strpool[8192];
static size_t strpool_used;

static const void *low_ptr(uint64_t maddr, uint64_t len)
{
	if (maddr >= LOW_LIMIT || len > LOW_LIMIT - maddr)
		return 0;
	return (const void *)(DIRECTMAP_BASE + maddr);
}

/* Copy a NUL-terminated string at maddr (at most 2 KiB) into the pool. */
static const char *copy_str(uint64_t maddr)
{
	const char *src = low_ptr(maddr, 1);
	if (!maddr || !src)
		return "";
	char *dst = strpool + strpool_used;
	size_t room = sizeof(strpool) - strpool_used, n = 0;
	if (room < 2)
		return "";
	while (n < room - 1 && n < 2048 && low_ptr(maddr + n, 1) && src[n]) {
		dst[n] = src[n];
		n++;
	}
	dst[n] = 0;
	strpool_used += n + 1;
	return dst;
}

/* A module's string is "file args": its command line is what follows the first word. */
static const char *module_args(const char *s)
{
	while (*s && *s != ' ')
		s++;
	while (*s == ' ')
		s++;
	return s;
}

static void add_module(struct boot_info *bi, uint64_t start, uint64_t end, const char *str)
{
	if (bi->nr_modules == BOOT_MAX_MODULES) {
		bi->nr_modules_dropped++;
		return;
	}
	struct boot_module *m = &bi->modules[bi->nr_modules++];
	m->start = start;
	m->end = end < start ? start : end;
	m->cmdline = module_args(str);
}

static void add_mmap(struct boot_info *bi, uint64_t addr, uint64_t len, uint32_t type)
{
	if (!len)
		return;
	if (bi->nr_mmap == BOOT_MAX_MMAP) {
		if (bi->nr_mmap_dropped++ == 0)
			printk("boot: more than %u memory-map entries; the rest are ignored\n", BOOT_MAX_MMAP);
		return;
	}
	bi->mmap[bi->nr_mmap++] = (struct boot_mmap_entry){ addr, len, type };
}

/* ---- Multiboot 1 ---------------------------------------------------------- */

struct mb1_info {
	uint32_t flags, mem_lower, mem_upper, boot_device, cmdline;
	uint32_t mods_count, mods_addr;
	uint32_t syms[4];
	uint32_t mmap_length, mmap_addr;
} PACKED;

struct mb1_module { uint32_t start, end, string, reserved; } PACKED;

static int parse_mb1(uint32_t info_maddr, struct boot_info *bi)
{
	const struct mb1_info *mi = low_ptr(info_maddr, sizeof(*mi));
	if (!mi)
		return -1;
	bi->loader = "multiboot1";
	if (mi->flags & (1u << 2))
		bi->cmdline = copy_str(mi->cmdline);
	if (mi->flags & (1u << 3)) {
		const struct mb1_module *mods = low_ptr(mi->mods_addr, (uint64_t)mi->mods_count * sizeof(*mods));
		for (uint32_t i = 0; mods && i < mi->mods_count; i++)
			add_module(bi, mods[i].start, mods[i].end, copy_str(mods[i].string));
	}
	if (mi->flags & (1u << 6)) {
		uint64_t at = mi->mmap_addr, end = at + mi->mmap_length;
		while (at + 24 <= end) {
			const uint8_t *e = low_ptr(at, 24);
			if (!e)
				break;
			uint32_t size;
			uint64_t addr, len;
			uint32_t type;
			__builtin_memcpy(&size, e, 4);
			__builtin_memcpy(&addr, e + 4, 8);
			__builtin_memcpy(&len, e + 12, 8);
			__builtin_memcpy(&type, e + 20, 4);
			add_mmap(bi, addr, len, type);
			if (size < 20)
				break;
			at += (uint64_t)size + 4;
		}
	} else if (mi->flags & 1u) {
		add_mmap(bi, 0, (uint64_t)mi->mem_lower << 10, E820_RAM);
		add_mmap(bi, 1ull << 20, (uint64_t)mi->mem_upper << 10, E820_RAM);
	}
	return 0;
}

/* ---- Multiboot 2 ---------------------------------------------------------- */

static int parse_mb2(uint32_t info_maddr, struct boot_info *bi)
{
	const uint32_t *hdr = low_ptr(info_maddr, 8);
	if (!hdr || hdr[0] < 8 || !low_ptr(info_maddr, hdr[0]))
		return -1;
	bi->loader = "multiboot2";
	uint64_t at = info_maddr + 8, end = info_maddr + hdr[0];
	while (at + 8 <= end) {
		const uint8_t *t = low_ptr(at, 8);
		uint32_t type, size;
		__builtin_memcpy(&type, t, 4);
		__builtin_memcpy(&size, t + 4, 4);
		if (type == 0 || size < 8 || size > end - at)
			break;
		switch (type) {
		case 1:  /* command line */
			bi->cmdline = copy_str(at + 8);
			break;
		case 3: { /* module */
			uint32_t ms, me;
			if (size < 16)
				break;
			__builtin_memcpy(&ms, t + 8, 4);
			__builtin_memcpy(&me, t + 12, 4);
			add_module(bi, ms, me, size > 16 ? copy_str(at + 16) : "");
			break;
		}
		case 6: { /* memory map */
			uint32_t esize;
			__builtin_memcpy(&esize, t + 8, 4);
			if (esize < 24)
				break;
			for (uint64_t e = at + 16; e + esize <= at + size; e += esize) {
				const uint8_t *p = low_ptr(e, 24);
				uint64_t addr, len;
				uint32_t etype;
				__builtin_memcpy(&addr, p, 8);
				__builtin_memcpy(&len, p + 8, 8);
				__builtin_memcpy(&etype, p + 16, 4);
				add_mmap(bi, addr, len, etype);
			}
			break;
		}
		case 14: /* ACPI 1.0 RSDP copy */
		case 15: /* ACPI 2.0+ RSDP copy */
			if (!bi->rsdp || type == 15)
				bi->rsdp = at + 8;
			break;
		}
		at += (size + 7) & ~7u;
	}
	return 0;
}

/* ---- PVH (hvm_start_info, Xen's arch-x86/hvm/start_info.h) ------------------- */

struct pvh_start_info {
	uint32_t magic, version, flags, nr_modules;
	uint64_t modlist_paddr, cmdline_paddr, rsdp_paddr;
	uint64_t memmap_paddr;
	uint32_t memmap_entries, reserved;
} PACKED;

struct pvh_module { uint64_t paddr, size, cmdline_paddr, reserved; } PACKED;
struct pvh_memmap { uint64_t addr, size; uint32_t type, reserved; } PACKED;

static int parse_pvh(uint32_t info_maddr, struct boot_info *bi)
{
	const struct pvh_start_info *si = low_ptr(info_maddr, sizeof(*si));
	if (!si || si->magic != PVH_MAGIC) {
		printk("boot: PVH entry without a valid hvm_start_info\n");
		return -1;
	}
	bi->loader = "pvh";
	bi->cmdline = copy_str(si->cmdline_paddr);
	bi->rsdp = si->rsdp_paddr;
	const struct pvh_module *mods = low_ptr(si->modlist_paddr, (uint64_t)si->nr_modules * sizeof(*mods));
	if (si->nr_modules && !mods)
		printk("boot: PVH module list at 0x%llx is above 4 GiB; modules ignored\n",
		       (unsigned long long)si->modlist_paddr);
	for (uint32_t i = 0; mods && i < si->nr_modules; i++)
		add_module(bi, mods[i].paddr, mods[i].paddr + mods[i].size, copy_str(mods[i].cmdline_paddr));
	if (si->version >= 1) {
		const struct pvh_memmap *mm = low_ptr(si->memmap_paddr, (uint64_t)si->memmap_entries * sizeof(*mm));
		if (si->memmap_entries && !mm)
			printk("boot: PVH memory map at 0x%llx is above 4 GiB; ignored\n",
			       (unsigned long long)si->memmap_paddr);
		for (uint32_t i = 0; mm && i < si->memmap_entries; i++)
			add_mmap(bi, mm[i].addr, mm[i].size, mm[i].type);
	}
	return 0;
}

int bootinfo_parse(uint32_t magic, uint32_t info_maddr, struct boot_info *bi)
{
	int rc;

	*bi = (struct boot_info){ .loader = "?", .cmdline = "" };
	switch (magic) {
	case MB1_MAGIC: rc = parse_mb1(info_maddr, bi); break;
	case MB2_MAGIC: rc = parse_mb2(info_maddr, bi); break;
	case PVH_MAGIC: rc = parse_pvh(info_maddr, bi); break;
	default:
		printk("boot: unknown boot loader magic 0x%x; not Multiboot 1/2 or PVH\n", magic);
		return -1;
	}
	if (rc == 0 && bi->nr_mmap == 0) {
		printk("boot: the %s loader gave no memory map\n", bi->loader);
		return -1;
	}
	return rc;
}
