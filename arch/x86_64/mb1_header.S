/*
 * The Multiboot 1 header, in an object of its own so that the PVH-only image
 * (out/image/vireo-pvh.elf) can leave it out: QEMU's -kernel tries Multiboot
 * 1 before PVH. Flag bit 16 gives the load addresses in the header (the
 * "a.out kludge"), which is how QEMU and GRUB accept an x86-64 ELF as a
 * Multiboot 1 kernel: they load the file's bytes from the header's file
 * offset minus (header_addr - load_addr) to load_addr, so the linker script
 * keeps file offsets and physical addresses in step (checked by mk/check-image).
 */
#define MB1_MAGIC 0x1BADB002
#define MB1_FLAGS ((1 << 0) | (1 << 1) | (1 << 16))   /* align modules, memory map, addresses */

	.section .multiboot1, "a"
	.align 4
mb1_header:
	.long MB1_MAGIC
	.long MB1_FLAGS
	.long -(MB1_MAGIC + MB1_FLAGS)
	.long mb1_header                 /* header_addr */
	.long __image_phys_start         /* load_addr */
	.long __load_end_phys            /* load_end_addr */
	.long __bss_end_phys             /* bss_end_addr */
	.long start32                    /* entry_addr */
