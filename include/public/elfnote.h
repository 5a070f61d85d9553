/*
 * Xen x86-64 PV guest ABI: ELF note types of a PV kernel image (mirrors Xen
 * 4.17's xen/include/public/elfnote.h). The notes live in a PT_NOTE segment
 * with name "Xen". Numeric descriptors are 4 or 8 bytes (by descsz);
 * strings are NUL-terminated ASCII.
 */
#ifndef VIREO_PUBLIC_ELFNOTE_H
#define VIREO_PUBLIC_ELFNOTE_H

#define XEN_ELFNOTE_INFO                0   /* string: NAME=VALUE pair */
#define XEN_ELFNOTE_ENTRY               1   /* numeric: virtual entry point */
#define XEN_ELFNOTE_HYPERCALL_PAGE      2   /* numeric: virtual address of the hypercall page */
#define XEN_ELFNOTE_VIRT_BASE           3   /* numeric: where the image is mapped (default 0) */
#define XEN_ELFNOTE_PADDR_OFFSET        4   /* numeric: ELF paddr minus pseudo-physical address */
#define XEN_ELFNOTE_XEN_VERSION         5   /* string: Xen version the kernel works with */
#define XEN_ELFNOTE_GUEST_OS            6   /* string: guest OS name */
#define XEN_ELFNOTE_GUEST_VERSION       7   /* string: guest OS version */
#define XEN_ELFNOTE_LOADER              8   /* string: loader type */
#define XEN_ELFNOTE_PAE_MODE            9   /* string: x86-32 PAE support */
#define XEN_ELFNOTE_FEATURES           10   /* string: "feat|!required_feat|..." (XENFEAT_ names) */
#define XEN_ELFNOTE_BSD_SYMTAB         11   /* string "yes"/"no": load the symbol table */
#define XEN_ELFNOTE_HV_START_LOW       12   /* numeric: lowest start of the hypervisor hole */
#define XEN_ELFNOTE_L1_MFN_VALID       13   /* numeric pairs: mask/value of non-present L1s with MFNs */
#define XEN_ELFNOTE_SUSPEND_CANCEL     14   /* numeric: cooperative suspend cancellation */
#define XEN_ELFNOTE_INIT_P2M           15   /* numeric: virtual address for the initial P2M */
#define XEN_ELFNOTE_MOD_START_PFN      16   /* numeric: initrd may be passed as a PFN */
#define XEN_ELFNOTE_SUPPORTED_FEATURES 17   /* numeric: bitmap of XENFEAT_* supported */
#define XEN_ELFNOTE_PHYS32_ENTRY       18   /* numeric: 32-bit PVH entry point */

#define XEN_ELFNOTE_MAX XEN_ELFNOTE_PHYS32_ENTRY

/* Notes in crash dumps (kexec) and in xl dump-core files. */
#define XEN_ELFNOTE_CRASH_INFO              0x1000001
#define XEN_ELFNOTE_CRASH_REGS              0x1000002
#define XEN_ELFNOTE_DUMPCORE_NONE           0x2000000
#define XEN_ELFNOTE_DUMPCORE_HEADER         0x2000001
#define XEN_ELFNOTE_DUMPCORE_XEN_VERSION    0x2000002
#define XEN_ELFNOTE_DUMPCORE_FORMAT_VERSION 0x2000003

#endif
