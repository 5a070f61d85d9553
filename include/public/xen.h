/*
 * Xen x86-64 PV guest ABI: hypercall numbers, page-table update requests,
 * multicalls, and the start-of-day structures (start_info, shared_info,
 * vcpu_info). Mirrors Xen 4.17's xen/include/public/xen.h for x86-64 guests
 * (DESIGN.md decision 1): Xen's numbers and layouts, Vireo's definitions,
 * every size and offset asserted. See arch-x86_64.h for the conventions on
 * guest handles and word sizes.
 */
#ifndef VIREO_PUBLIC_XEN_H
#define VIREO_PUBLIC_XEN_H

#include <stdint.h>

#include <public/arch-x86_64.h>

typedef uint16_t domid_t;

/* ---- Hypercall numbers (RAX; hypercall page offset = nr * 32) ---- */

#define __HYPERVISOR_set_trap_table                 0
#define __HYPERVISOR_mmu_update                     1
#define __HYPERVISOR_set_gdt                        2
#define __HYPERVISOR_stack_switch                   3
#define __HYPERVISOR_set_callbacks                  4
#define __HYPERVISOR_fpu_taskswitch                 5
#define __HYPERVISOR_sched_op_compat                6   /* compat since 0x00030101 */
#define __HYPERVISOR_platform_op                    7
#define __HYPERVISOR_set_debugreg                   8
#define __HYPERVISOR_get_debugreg                   9
#define __HYPERVISOR_update_descriptor             10
/* 11 is unused */
#define __HYPERVISOR_memory_op                     12
#define __HYPERVISOR_multicall                     13
#define __HYPERVISOR_update_va_mapping             14
#define __HYPERVISOR_set_timer_op                  15
#define __HYPERVISOR_event_channel_op_compat       16   /* compat since 0x00030202 */
#define __HYPERVISOR_xen_version                   17
#define __HYPERVISOR_console_io                    18
#define __HYPERVISOR_physdev_op_compat             19   /* compat since 0x00030202 */
#define __HYPERVISOR_grant_table_op                20
#define __HYPERVISOR_vm_assist                     21
#define __HYPERVISOR_update_va_mapping_otherdomain 22
#define __HYPERVISOR_iret                          23   /* x86 only */
#define __HYPERVISOR_vcpu_op                       24
#define __HYPERVISOR_set_segment_base              25   /* x86-64 only */
#define __HYPERVISOR_mmuext_op                     26
#define __HYPERVISOR_xsm_op                        27
#define __HYPERVISOR_nmi_op                        28
#define __HYPERVISOR_sched_op                      29
#define __HYPERVISOR_callback_op                   30
#define __HYPERVISOR_xenoprof_op                   31
#define __HYPERVISOR_event_channel_op              32
#define __HYPERVISOR_physdev_op                    33
#define __HYPERVISOR_hvm_op                        34
#define __HYPERVISOR_sysctl                        35
#define __HYPERVISOR_domctl                        36
#define __HYPERVISOR_kexec_op                      37
#define __HYPERVISOR_tmem_op                       38   /* tmem removed in 4.13; number kept */
#define __HYPERVISOR_argo_op                       39
#define __HYPERVISOR_xenpmu_op                     40
#define __HYPERVISOR_dm_op                         41
#define __HYPERVISOR_hypfs_op                      42

/* Architecture-specific hypercalls. */
#define __HYPERVISOR_arch_0                        48
#define __HYPERVISOR_arch_1                        49
#define __HYPERVISOR_arch_2                        50
#define __HYPERVISOR_arch_3                        51
#define __HYPERVISOR_arch_4                        52
#define __HYPERVISOR_arch_5                        53
#define __HYPERVISOR_arch_6                        54
#define __HYPERVISOR_arch_7                        55
#define __HYPERVISOR_mca                           __HYPERVISOR_arch_0  /* arch-x86/xen-mca.h */

/* ---- Domain ids ---- */

#define DOMID_FIRST_RESERVED 0x7FF0U  /* ids from here on are never real domains */
#define DOMID_SELF           0x7FF0U
#define DOMID_IO             0x7FF1U  /* foreigndom for I/O-only mappings */
#define DOMID_XEN            0x7FF2U  /* owner of Xen's own pages (e.g. the M2P) */
#define DOMID_COW            0x7FF3U  /* owner of sharable pages */
#define DOMID_INVALID        0x7FF4U  /* pages with unknown owner */
#define DOMID_IDLE           0x7FFFU
#define DOMID_MASK           0x7FFFU

/* ---- HYPERVISOR_mmu_update(reqs, count, pdone, foreigndom) ---- */

/*
 * The command is in ptr[1:0]; ptr[:2] is the machine address of the PTE
 * (or, for MMU_MACHPHYS_UPDATE, of the frame whose M2P entry becomes val).
 * foreigndom[15:0] is the owner of mapped data pages (DOMID_SELF for none),
 * foreigndom[31:16] is 0 or (owner of the page-table pages + 1).
 */
#define MMU_NORMAL_PT_UPDATE       0  /* checked *ptr = val */
#define MMU_MACHPHYS_UPDATE        1  /* M2P[ptr >> PAGE_SHIFT] = val */
#define MMU_PT_UPDATE_PRESERVE_AD  2  /* *ptr = val | (*ptr & (A|D)), atomically */
#define MMU_PT_UPDATE_NO_TRANSLATE 3  /* as NORMAL, val never translated through FD */

/*
 * Set in count when a preempted batch continues (Xen's MMU_UPDATE_PREEMPTED):
 * the count is what is left, and *pdone already holds what was done.
 */
#define MMU_UPDATE_PREEMPTED (~(~0U >> 1))

/* One request of HYPERVISOR_mmu_update (mirrors xen.h struct mmu_update). */
struct mmu_update {
	uint64_t ptr;   /* machine address of the PTE, command in bits 1:0 */
	uint64_t val;   /* new contents of the PTE */
};

_Static_assert(sizeof(struct mmu_update) == 16, "mmu_update is 16 bytes");
_Static_assert(__builtin_offsetof(struct mmu_update, val) == 8, "mmu_update.val");

/* ---- HYPERVISOR_mmuext_op(ops, count, pdone, foreigndom) ---- */

#define MMUEXT_PIN_L1_TABLE        0
#define MMUEXT_PIN_L2_TABLE        1
#define MMUEXT_PIN_L3_TABLE        2
#define MMUEXT_PIN_L4_TABLE        3
#define MMUEXT_UNPIN_TABLE         4
#define MMUEXT_NEW_BASEPTR         5
#define MMUEXT_TLB_FLUSH_LOCAL     6
#define MMUEXT_INVLPG_LOCAL        7
#define MMUEXT_TLB_FLUSH_MULTI     8
#define MMUEXT_INVLPG_MULTI        9
#define MMUEXT_TLB_FLUSH_ALL      10
#define MMUEXT_INVLPG_ALL         11
#define MMUEXT_FLUSH_CACHE        12
#define MMUEXT_SET_LDT            13
/* 14 is unused */
#define MMUEXT_NEW_USER_BASEPTR   15
#define MMUEXT_CLEAR_PAGE         16
#define MMUEXT_COPY_PAGE          17
#define MMUEXT_FLUSH_CACHE_GLOBAL 18
#define MMUEXT_MARK_SUPER         19
#define MMUEXT_UNMARK_SUPER       20

/*
 * One extended MMU operation (mirrors xen.h struct mmuext_op). arg1 is the
 * MFN for [UN]PIN_*, NEW_[USER_]BASEPTR, CLEAR_PAGE, COPY_PAGE and
 * [UN]MARK_SUPER, the linear address for INVLPG_* and SET_LDT. arg2 is the
 * entry count for SET_LDT, a guest pointer to a vCPU bitmap for
 * TLB_FLUSH_MULTI and INVLPG_MULTI, and the source MFN for COPY_PAGE.
 */
struct mmuext_op {
	uint32_t cmd;           /* MMUEXT_* */
	uint32_t pad0;
	union {
		xen_pfn_t mfn;
		uint64_t linear_addr;
	} arg1;
	union {
		uint32_t nr_ents;
		uint64_t vcpumask;      /* guest handle: const void * */
		xen_pfn_t src_mfn;
	} arg2;
};

_Static_assert(sizeof(struct mmuext_op) == 24, "mmuext_op is 24 bytes");
_Static_assert(__builtin_offsetof(struct mmuext_op, arg1) == 8, "mmuext_op.arg1");
_Static_assert(__builtin_offsetof(struct mmuext_op, arg2) == 16, "mmuext_op.arg2");
_Static_assert(sizeof(((struct mmuext_op *)0)->arg2) == 8, "mmuext_op.arg2 is one word");

/*
 * Flags of HYPERVISOR_update_va_mapping(va, val, flags): a flush type in
 * bits 1:0 and a target in bit 2; for UVMF_MULTI the caller ORs in a pointer
 * to a vCPU bitmap (UVMF_LOCAL is UVMF_MULTI with a NULL bitmap).
 */
#define UVMF_NONE           (0UL << 0)  /* no flushing at all */
#define UVMF_TLB_FLUSH      (1UL << 0)  /* flush entire TLB(s) */
#define UVMF_INVLPG         (2UL << 0)  /* flush only one entry */
#define UVMF_FLUSHTYPE_MASK (3UL << 0)
#define UVMF_MULTI          (0UL << 2)  /* flush a subset of TLBs */
#define UVMF_LOCAL          (0UL << 2)  /* flush the local TLB */
#define UVMF_ALL            (1UL << 2)  /* flush all TLBs */

/* ---- HYPERVISOR_console_io(cmd, count, buffer) ---- */

#define CONSOLEIO_write 0
#define CONSOLEIO_read  1

/* ---- HYPERVISOR_vm_assist(cmd, type) ---- */

#define VMASST_CMD_enable                0
#define VMASST_CMD_disable               1
#define VMASST_TYPE_4gb_segments         0   /* x86-32 only */
#define VMASST_TYPE_4gb_segments_notify  1   /* x86-32 only */
#define VMASST_TYPE_writable_pagetables  2   /* emulate writes to L1 entries */
#define VMASST_TYPE_pae_extended_cr3     3   /* x86-32 PAE only */
#define VMASST_TYPE_architectural_iopl   4   /* iret sets virtual IOPL, kernel counts as ring 0 */
#define VMASST_TYPE_runstate_update_flag 5   /* XEN_RUNSTATE_UPDATE in runstate areas */
#define VMASST_TYPE_m2p_strict          32   /* hide the M2P from guest user mode */

/* ---- HYPERVISOR_multicall(calls, nr_calls) ---- */

/*
 * One call of a multicall batch (mirrors xen.h struct multicall_entry). Xen
 * writes each call's return value into result.
 */
struct multicall_entry {
	xen_ulong_t op;
	xen_ulong_t result;
	xen_ulong_t args[6];
};

_Static_assert(sizeof(struct multicall_entry) == 64, "multicall_entry is 64 bytes");
_Static_assert(__builtin_offsetof(struct multicall_entry, result) == 8, "multicall_entry.result");
_Static_assert(__builtin_offsetof(struct multicall_entry, args) == 16, "multicall_entry.args");

/* ---- Time ---- */

/*
 * Per-vCPU time base (mirrors xen.h struct vcpu_time_info; Xen documents
 * "32 bytes"). Xen makes version odd before an update and even after it;
 * a reader retries until it sees the same even version on both sides.
 *   system time (ns) = system_time +
 *       ((((tsc - tsc_timestamp) << tsc_shift) * tsc_to_system_mul) >> 32)
 * (a negative tsc_shift shifts right).
 */
struct vcpu_time_info {
	uint32_t version;
	uint32_t pad0;
	uint64_t tsc_timestamp;     /* TSC at the last update */
	uint64_t system_time;       /* ns since boot at tsc_timestamp */
	uint32_t tsc_to_system_mul;
	int8_t tsc_shift;
	uint8_t flags;              /* XEN_PVCLOCK_* (interface > 0x040600) */
	uint8_t pad1[2];
};

#define XEN_PVCLOCK_TSC_STABLE_BIT (1 << 0)
#define XEN_PVCLOCK_GUEST_STOPPED  (1 << 1)

_Static_assert(sizeof(struct vcpu_time_info) == 32, "vcpu_time_info is 32 bytes");
_Static_assert(__builtin_offsetof(struct vcpu_time_info, tsc_timestamp) == 8,
	       "vcpu_time_info.tsc_timestamp");
_Static_assert(__builtin_offsetof(struct vcpu_time_info, system_time) == 16,
	       "vcpu_time_info.system_time");
_Static_assert(__builtin_offsetof(struct vcpu_time_info, tsc_to_system_mul) == 24,
	       "vcpu_time_info.tsc_to_system_mul");
_Static_assert(__builtin_offsetof(struct vcpu_time_info, tsc_shift) == 28,
	       "vcpu_time_info.tsc_shift");
_Static_assert(__builtin_offsetof(struct vcpu_time_info, flags) == 29, "vcpu_time_info.flags");

/* ---- Shared info page ---- */

/*
 * Per-vCPU event and time state shared with the guest (mirrors xen.h struct
 * vcpu_info; Xen documents "64 bytes (x86)"). Xen sets evtchn_upcall_pending
 * and a bit of evtchn_pending_sel per pending word of shared_info; the guest
 * clears them before it scans. evtchn_upcall_mask is the guest's virtual
 * interrupt flag: non-zero blocks upcalls.
 */
struct vcpu_info {
	uint8_t evtchn_upcall_pending;
	uint8_t evtchn_upcall_mask;
	uint8_t pad0[6];
	xen_ulong_t evtchn_pending_sel;
	struct arch_vcpu_info arch;
	struct vcpu_time_info time;
};

_Static_assert(sizeof(struct vcpu_info) == 64, "vcpu_info is 64 bytes");
_Static_assert(__builtin_offsetof(struct vcpu_info, evtchn_upcall_mask) == 1,
	       "vcpu_info.evtchn_upcall_mask");
_Static_assert(__builtin_offsetof(struct vcpu_info, evtchn_pending_sel) == 8,
	       "vcpu_info.evtchn_pending_sel");
_Static_assert(__builtin_offsetof(struct vcpu_info, arch) == 16, "vcpu_info.arch");
_Static_assert(__builtin_offsetof(struct vcpu_info, arch.cr2) == 16, "vcpu_info.arch.cr2");
_Static_assert(__builtin_offsetof(struct vcpu_info, time) == 32, "vcpu_info.time");

/* Words in each 2-level event bitmap: one per bit of evtchn_pending_sel. */
#define XEN_EVTCHN_2L_WORDS (sizeof(xen_ulong_t) * 8)

/*
 * The shared info page (mirrors xen.h struct shared_info with the x86-64
 * arch part), addressed by start_info.shared_info. The 2-level event
 * channel ABI lives here: port p is pending when bit p of evtchn_pending is
 * set (word p / 64, bit p % 64) and masked when the same bit of evtchn_mask
 * is set. The wallclock (wc_*) follows vcpu_time_info's version protocol;
 * seconds are wc_sec | (wc_sec_hi << 32). Less than a page; Xen says guests
 * must not rely on its size.
 */
struct shared_info {
	struct vcpu_info vcpu_info[XEN_LEGACY_MAX_VCPUS];
	xen_ulong_t evtchn_pending[XEN_EVTCHN_2L_WORDS];
	xen_ulong_t evtchn_mask[XEN_EVTCHN_2L_WORDS];
	uint32_t wc_version;
	uint32_t wc_sec;
	uint32_t wc_nsec;
	uint32_t wc_sec_hi;     /* x86-64: here; x86-32 keeps it in arch */
	struct arch_shared_info arch;
};

_Static_assert(sizeof(struct shared_info) == 3136, "shared_info is 3136 bytes on x86-64");
_Static_assert(sizeof(struct shared_info) <= 4096, "shared_info fits in a page");
_Static_assert(__builtin_offsetof(struct shared_info, vcpu_info[1]) == 64,
	       "shared_info.vcpu_info[1]");
_Static_assert(__builtin_offsetof(struct shared_info, evtchn_pending) == 2048,
	       "shared_info.evtchn_pending");
_Static_assert(__builtin_offsetof(struct shared_info, evtchn_mask) == 2560,
	       "shared_info.evtchn_mask");
_Static_assert(__builtin_offsetof(struct shared_info, wc_version) == 3072,
	       "shared_info.wc_version");
_Static_assert(__builtin_offsetof(struct shared_info, wc_sec) == 3076, "shared_info.wc_sec");
_Static_assert(__builtin_offsetof(struct shared_info, wc_nsec) == 3080, "shared_info.wc_nsec");
_Static_assert(__builtin_offsetof(struct shared_info, wc_sec_hi) == 3084, "shared_info.wc_sec_hi");
_Static_assert(__builtin_offsetof(struct shared_info, arch) == 3088, "shared_info.arch");
_Static_assert(__builtin_offsetof(struct shared_info, arch.max_pfn) == 3088,
	       "shared_info.arch.max_pfn");
_Static_assert(__builtin_offsetof(struct shared_info, arch.p2m_generation) == 3128,
	       "shared_info.arch.p2m_generation");

/* ---- Start of day ---- */

/*
 * The start info page (mirrors xen.h struct start_info), at the virtual
 * address in RSI when a PV guest starts. The start-of-day virtual region
 * holds, in order and 4 KiB aligned: the kernel, the initrd (mod_start,
 * mod_len, unless SIF_MOD_START_PFN), the P2M list (mfn_list), this page,
 * for a domU the xenstore and console rings, the bootstrap page tables
 * (pt_base) and the stack; at least 512 KiB free follow. The first part is
 * refilled on resume, the rest only on initial boot.
 */
#define MAX_GUEST_CMDLINE 1024

/* Vireo's name for the magic Xen writes: "xen-<version>-<platform>". */
#define XEN_START_INFO_MAGIC "xen-3.0-x86_64"

struct start_info {
	/* Filled on initial boot and on resume. */
	char magic[32];             /* "xen-3.0-x86_64" */
	uint64_t nr_pages;          /* pages allocated to the domain */
	uint64_t shared_info;       /* machine address of the shared info page */
	uint32_t flags;             /* SIF_* */
	uint32_t pad0;
	xen_pfn_t store_mfn;        /* MFN of the xenstore ring */
	uint32_t store_evtchn;      /* event channel of the xenstore ring */
	uint32_t pad1;
	union {
		struct {
			xen_pfn_t mfn;      /* MFN of the console ring */
			uint32_t evtchn;    /* event channel of the console ring */
			uint32_t pad;
		} domU;
		struct {
			uint32_t info_off;  /* offset of dom0_vga_console_info in this page */
			uint32_t info_size; /* its size */
		} dom0;
	} console;
	/* Filled on initial boot only. */
	uint64_t pt_base;           /* virtual address of the top-level page table */
	uint64_t nr_pt_frames;      /* bootstrap page-table frames */
	uint64_t mfn_list;          /* virtual address of the P2M list */
	uint64_t mod_start;         /* virtual address (or PFN, SIF_MOD_START_PFN) of the initrd */
	uint64_t mod_len;           /* its size in bytes */
	int8_t cmd_line[MAX_GUEST_CMDLINE];
	uint64_t first_p2m_pfn;     /* first PFN of the initial P2M (XEN_ELFNOTE_INIT_P2M) */
	uint64_t nr_p2m_frames;     /* number of those PFNs */
};

_Static_assert(sizeof(XEN_START_INFO_MAGIC) <= 32, "magic fits");
_Static_assert(sizeof(struct start_info) == 1168, "start_info is 1168 bytes on x86-64");
_Static_assert(__builtin_offsetof(struct start_info, nr_pages) == 32, "start_info.nr_pages");
_Static_assert(__builtin_offsetof(struct start_info, shared_info) == 40, "start_info.shared_info");
_Static_assert(__builtin_offsetof(struct start_info, flags) == 48, "start_info.flags");
_Static_assert(__builtin_offsetof(struct start_info, store_mfn) == 56, "start_info.store_mfn");
_Static_assert(__builtin_offsetof(struct start_info, store_evtchn) == 64,
	       "start_info.store_evtchn");
_Static_assert(__builtin_offsetof(struct start_info, console) == 72, "start_info.console");
_Static_assert(__builtin_offsetof(struct start_info, console.domU.evtchn) == 80,
	       "start_info.console.domU.evtchn");
_Static_assert(__builtin_offsetof(struct start_info, console.dom0.info_size) == 76,
	       "start_info.console.dom0.info_size");
_Static_assert(sizeof(((struct start_info *)0)->console) == 16, "start_info.console is 16 bytes");
_Static_assert(__builtin_offsetof(struct start_info, pt_base) == 88, "start_info.pt_base");
_Static_assert(__builtin_offsetof(struct start_info, nr_pt_frames) == 96,
	       "start_info.nr_pt_frames");
_Static_assert(__builtin_offsetof(struct start_info, mfn_list) == 104, "start_info.mfn_list");
_Static_assert(__builtin_offsetof(struct start_info, mod_start) == 112, "start_info.mod_start");
_Static_assert(__builtin_offsetof(struct start_info, mod_len) == 120, "start_info.mod_len");
_Static_assert(__builtin_offsetof(struct start_info, cmd_line) == 128, "start_info.cmd_line");
_Static_assert(__builtin_offsetof(struct start_info, first_p2m_pfn) == 1152,
	       "start_info.first_p2m_pfn");
_Static_assert(__builtin_offsetof(struct start_info, nr_p2m_frames) == 1160,
	       "start_info.nr_p2m_frames");

/* start_info.flags */
#define SIF_PRIVILEGED      (1 << 0)    /* the domain is privileged */
#define SIF_INITDOMAIN      (1 << 1)    /* the initial control domain */
#define SIF_MULTIBOOT_MOD   (1 << 2)    /* mod_start is a multiboot module package */
#define SIF_MOD_START_PFN   (1 << 3)    /* mod_start is a PFN, not a virtual address */
#define SIF_VIRT_P2M_4TOOLS (1 << 4)    /* tools understand the virtually mapped P2M */
#define SIF_PM_MASK         (0xFF << 8) /* reserved for xen-pm options */

/*
 * One module descriptor of a SIF_MULTIBOOT_MOD package (mirrors xen.h
 * struct xen_multiboot_mod_list). Descriptors sit at the start of the
 * package, addresses are relative to it, and one with mod_start == 0 ends
 * the list.
 */
struct xen_multiboot_mod_list {
	uint32_t mod_start;     /* first byte */
	uint32_t mod_end;       /* last byte, inclusive */
	uint32_t cmdline;       /* zero-terminated command line */
	uint32_t pad;           /* must be zero */
};

_Static_assert(sizeof(struct xen_multiboot_mod_list) == 16, "xen_multiboot_mod_list is 16 bytes");
_Static_assert(__builtin_offsetof(struct xen_multiboot_mod_list, cmdline) == 8,
	       "xen_multiboot_mod_list.cmdline");

/*
 * The initial domain's VGA/VESA console description, found in the start
 * info page at console.dom0.info_off (mirrors xen.h struct
 * dom0_vga_console_info).
 */
#define XEN_VGATYPE_TEXT_MODE_3 0x03
#define XEN_VGATYPE_VESA_LFB    0x23
#define XEN_VGATYPE_EFI_LFB     0x70

struct dom0_vga_console_info {
	uint8_t video_type;     /* XEN_VGATYPE_* */
	uint8_t pad0[3];
	union {
		struct {
			uint16_t font_height;
			uint16_t cursor_x, cursor_y;
			uint16_t rows, columns;
		} text_mode_3;
		struct {
			uint16_t width, height;
			uint16_t bytes_per_line;
			uint16_t bits_per_pixel;
			uint32_t lfb_base;      /* low 32 bits of the LFB physical address */
			uint32_t lfb_size;      /* in 64 KiB units */
			uint8_t red_pos, red_size;
			uint8_t green_pos, green_size;
			uint8_t blue_pos, blue_size;
			uint8_t rsvd_pos, rsvd_size;
			uint32_t gbl_caps;
			uint16_t mode_attrs;
			uint16_t pad;
			uint32_t ext_lfb_base;  /* high 32 bits of the LFB address */
		} vesa_lfb;
	} u;
};

_Static_assert(sizeof(struct dom0_vga_console_info) == 40, "dom0_vga_console_info is 40 bytes");
_Static_assert(__builtin_offsetof(struct dom0_vga_console_info, u) == 4, "dom0_vga_console_info.u");
_Static_assert(__builtin_offsetof(struct dom0_vga_console_info, u.vesa_lfb.lfb_base) == 12,
	       "dom0_vga_console_info.u.vesa_lfb.lfb_base");
_Static_assert(__builtin_offsetof(struct dom0_vga_console_info, u.vesa_lfb.red_pos) == 20,
	       "dom0_vga_console_info.u.vesa_lfb.red_pos");
_Static_assert(__builtin_offsetof(struct dom0_vga_console_info, u.vesa_lfb.gbl_caps) == 28,
	       "dom0_vga_console_info.u.vesa_lfb.gbl_caps");
_Static_assert(__builtin_offsetof(struct dom0_vga_console_info, u.vesa_lfb.ext_lfb_base) == 36,
	       "dom0_vga_console_info.u.vesa_lfb.ext_lfb_base");

#endif
