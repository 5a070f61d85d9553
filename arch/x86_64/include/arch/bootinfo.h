/*
 * What the boot loader told us, in one form whatever the loader was
 * (Multiboot 1, Multiboot 2, PVH). Strings are copied into the image, so the
 * loader's memory can be reused; module contents stay where they were loaded
 * and are kept out of the frame allocator.
 */
#ifndef ARCH_X86_64_BOOTINFO_H
#define ARCH_X86_64_BOOTINFO_H

#include <stdint.h>

/* A configuration, then a kernel and a ramdisk for each of its 16 domains (checked in setup.c). */
#define BOOT_MAX_MODULES 33
#define BOOT_MAX_MMAP    128

/* Memory-map types as e820 numbers them (Multiboot and PVH use the same). */
#define E820_RAM      1
#define E820_RESERVED 2
#define E820_ACPI     3
#define E820_NVS      4

struct boot_module {
	uint64_t start, end;          /* machine addresses, end exclusive */
	const char *cmdline;          /* after the file name: that domain's command line */
};

struct boot_mmap_entry {
	uint64_t addr, len;
	uint32_t type;
};

struct boot_info {
	const char *loader;           /* "multiboot1", "multiboot2" or "pvh" */
	const char *cmdline;          /* the hypervisor's command line, "" when none */
	unsigned nr_modules;
	unsigned nr_modules_dropped;  /* more than BOOT_MAX_MODULES */
	struct boot_module modules[BOOT_MAX_MODULES];
	unsigned nr_mmap;
	unsigned nr_mmap_dropped;     /* more than BOOT_MAX_MMAP */
	struct boot_mmap_entry mmap[BOOT_MAX_MMAP];
	uint64_t rsdp;                /* ACPI RSDP from the loader, 0 when not given */
};

/* Parse the loader's information; returns 0, or -1 with a message printed. */
int bootinfo_parse(uint32_t magic, uint32_t info_maddr, struct boot_info *bi);

#endif
