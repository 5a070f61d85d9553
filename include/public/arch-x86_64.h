/*
 * Xen x86-64 PV guest ABI: the architecture part. Mirrors Xen 4.17's
 * xen/include/public/arch-x86/xen-x86_64.h and arch-x86/xen.h (DESIGN.md
 * decision 1). Numbers and layouts are Xen's; the definitions are Vireo's:
 * fixed-width types, explicit padding, every size and offset asserted.
 *
 * Guest handles (Xen's XEN_GUEST_HANDLE(T), a struct holding one T * on
 * x86-64) appear here and in the other public headers as uint64_t guest
 * virtual addresses: the hypervisor never dereferences them, it copies
 * through them with its guest-copy helpers. Xen's "unsigned long",
 * xen_ulong_t and xen_pfn_t are all 64 bits on x86-64.
 */
#ifndef VIREO_PUBLIC_ARCH_X86_64_H
#define VIREO_PUBLIC_ARCH_X86_64_H

#include <stdint.h>

typedef uint64_t xen_pfn_t;      /* a frame number: MFN, GFN or PFN by context */
typedef uint64_t xen_ulong_t;    /* Xen's natural register-sized word */
typedef uint64_t xen_callback_t; /* x86-64: a callback is a plain virtual address */

/* Maximum number of vCPUs whose vcpu_info lives in shared_info. */
#define XEN_LEGACY_MAX_VCPUS 32

/*
 * Hypercall ABI (xen-x86_64.h): RAX = hypercall number; RDI, RSI, RDX, R10,
 * R8, R9 = arguments 1-6; RAX = result. The hypercall page holds one 32-byte
 * stub per hypercall: "call hypercall_page + nr * 32".
 */

/*
 * GDT entries reserved by Xen: the last pages of a 16-page GDT, from entry
 * 7168 on. The flat selectors below live there (all RPL 3: on x86-64 the
 * guest kernel and its user space both run in ring 3).
 */
#define FIRST_RESERVED_GDT_PAGE  14
#define FIRST_RESERVED_GDT_BYTE  (FIRST_RESERVED_GDT_PAGE * 4096)
#define FIRST_RESERVED_GDT_ENTRY (FIRST_RESERVED_GDT_BYTE / 8)

#define FLAT_RING3_CS32 0xe023  /* entry FIRST_RESERVED_GDT_ENTRY + 4 */
#define FLAT_RING3_CS64 0xe033  /* entry FIRST_RESERVED_GDT_ENTRY + 6 */
#define FLAT_RING3_DS32 0xe02b  /* entry FIRST_RESERVED_GDT_ENTRY + 5 */
#define FLAT_RING3_DS64 0x0000  /* NULL selector */
#define FLAT_RING3_SS32 0xe02b
#define FLAT_RING3_SS64 0xe02b

#define FLAT_KERNEL_DS64 FLAT_RING3_DS64
#define FLAT_KERNEL_DS32 FLAT_RING3_DS32
#define FLAT_KERNEL_DS   FLAT_KERNEL_DS64
#define FLAT_KERNEL_CS64 FLAT_RING3_CS64
#define FLAT_KERNEL_CS32 FLAT_RING3_CS32
#define FLAT_KERNEL_CS   FLAT_KERNEL_CS64
#define FLAT_KERNEL_SS64 FLAT_RING3_SS64
#define FLAT_KERNEL_SS32 FLAT_RING3_SS32
#define FLAT_KERNEL_SS   FLAT_KERNEL_SS64

#define FLAT_USER_DS64 FLAT_RING3_DS64
#define FLAT_USER_DS32 FLAT_RING3_DS32
#define FLAT_USER_DS   FLAT_USER_DS64
#define FLAT_USER_CS64 FLAT_RING3_CS64
#define FLAT_USER_CS32 FLAT_RING3_CS32
#define FLAT_USER_CS   FLAT_USER_CS64
#define FLAT_USER_SS64 FLAT_RING3_SS64
#define FLAT_USER_SS32 FLAT_RING3_SS32
#define FLAT_USER_SS   FLAT_USER_SS64

_Static_assert((FLAT_RING3_CS32 >> 3) == FIRST_RESERVED_GDT_ENTRY + 4, "CS32 slot");
_Static_assert((FLAT_RING3_DS32 >> 3) == FIRST_RESERVED_GDT_ENTRY + 5, "DS32 slot");
_Static_assert((FLAT_RING3_CS64 >> 3) == FIRST_RESERVED_GDT_ENTRY + 6, "CS64 slot");

/*
 * The hypervisor's hole in every guest address space, and the read-only
 * machine-to-phys table at its start (one 8-byte entry per MFN).
 */
#define __HYPERVISOR_VIRT_START 0xFFFF800000000000ULL
#define __HYPERVISOR_VIRT_END   0xFFFF880000000000ULL
#define __MACH2PHYS_VIRT_START  0xFFFF800000000000ULL
#define __MACH2PHYS_VIRT_END    0xFFFF804000000000ULL
#define HYPERVISOR_VIRT_START   __HYPERVISOR_VIRT_START
#define HYPERVISOR_VIRT_END     __HYPERVISOR_VIRT_END
#define MACH2PHYS_VIRT_START    __MACH2PHYS_VIRT_START
#define MACH2PHYS_VIRT_END      __MACH2PHYS_VIRT_END
#define MACH2PHYS_NR_ENTRIES    ((MACH2PHYS_VIRT_END - MACH2PHYS_VIRT_START) >> 3)

/* HYPERVISOR_set_segment_base(which, base): values of which. */
#define SEGBASE_FS          0
#define SEGBASE_GS_USER     1
#define SEGBASE_GS_KERNEL   2
#define SEGBASE_GS_USER_SEL 3   /* load user %gs with the selector in base[15:0] */

/*
 * CR3 <-> frame number of a top-level page table (Xen's xen_pfn_to_cr3 and
 * xen_cr3_to_pfn macros). Marked unused so a translation unit that includes
 * this header without calling them still builds with -Werror.
 */
static inline __attribute__((unused)) uint64_t xen_pfn_to_cr3(xen_pfn_t pfn)
{
	return pfn << 12;
}

static inline __attribute__((unused)) xen_pfn_t xen_cr3_to_pfn(uint64_t cr3)
{
	return cr3 >> 12;
}

/*
 * Prefix that forces emulation of the instruction after it (ud2a; "xen").
 * PV guests use it for CPUID so that the hypervisor can filter the result.
 */
#define XEN_EMULATE_PREFIX ".byte 0x0f,0x0b,0x78,0x65,0x6e ; "
#define XEN_CPUID          XEN_EMULATE_PREFIX "cpuid"

/*
 * One entry of the virtual IDT given to HYPERVISOR_set_trap_table (mirrors
 * arch-x86/xen.h struct trap_info). The array ends with an entry whose
 * address is 0. flags[1:0] is the DPL that may raise the vector with INT n
 * (0: nobody; 1, 2: the kernel; 3: everyone); flags[2] set means "mask event
 * delivery on entry" (an interrupt gate rather than a trap gate).
 */
struct trap_info {
	uint8_t vector;
	uint8_t flags;
	uint16_t cs;
	uint8_t pad0[4];
	uint64_t address;
};

#define TI_GET_DPL(ti)      ((ti)->flags & 3)
#define TI_GET_IF(ti)       ((ti)->flags & 4)
#define TI_SET_DPL(ti, dpl) ((ti)->flags |= (dpl))
#define TI_SET_IF(ti, i)    ((ti)->flags |= ((!!(i)) << 2))

_Static_assert(sizeof(struct trap_info) == 16, "trap_info is 16 bytes");
_Static_assert(__builtin_offsetof(struct trap_info, flags) == 1, "trap_info.flags");
_Static_assert(__builtin_offsetof(struct trap_info, cs) == 2, "trap_info.cs");
_Static_assert(__builtin_offsetof(struct trap_info, address) == 8, "trap_info.address");

/*
 * Stack frame that the guest kernel builds before HYPERVISOR_iret (mirrors
 * xen-x86_64.h struct iret_context), lowest address first: RSP at the
 * hypercall points at rax. With VGCF_in_syscall in flags, Xen restores RAX,
 * RIP, RFLAGS and RSP only (a SYSRET-style return); otherwise RAX, R11, RCX,
 * CS:RIP, RFLAGS and SS:RSP. A CS with RPL 0-2 means guest kernel mode, RPL 3
 * guest user mode.
 */
struct iret_context {
	uint64_t rax;
	uint64_t r11;
	uint64_t rcx;
	uint64_t flags;
	uint64_t rip;
	uint64_t cs;
	uint64_t rflags;
	uint64_t rsp;
	uint64_t ss;
};

_Static_assert(sizeof(struct iret_context) == 72, "iret_context is 9 words");
_Static_assert(__builtin_offsetof(struct iret_context, flags) == 24, "iret_context.flags");
_Static_assert(__builtin_offsetof(struct iret_context, rip) == 32, "iret_context.rip");
_Static_assert(__builtin_offsetof(struct iret_context, ss) == 64, "iret_context.ss");

/*
 * Flags of vcpu_guest_context.flags and of iret_context.flags. The lower-case
 * names are Xen's current spelling, the upper-case ones its older aliases.
 */
#define VGCF_I387_VALID                (1 << 0)
#define VGCF_IN_KERNEL                 (1 << 2)
#define _VGCF_i387_valid               0
#define VGCF_i387_valid                (1 << _VGCF_i387_valid)
#define _VGCF_in_kernel                2
#define VGCF_in_kernel                 (1 << _VGCF_in_kernel)
#define _VGCF_failsafe_disables_events 3
#define VGCF_failsafe_disables_events  (1 << _VGCF_failsafe_disables_events)
#define _VGCF_syscall_disables_events  4
#define VGCF_syscall_disables_events   (1 << _VGCF_syscall_disables_events)
#define _VGCF_online                   5
#define VGCF_online                    (1 << _VGCF_online)
#define _VGCF_in_syscall               8
#define VGCF_in_syscall                (1 << _VGCF_in_syscall)
#define VGCF_IN_SYSCALL                VGCF_in_syscall

/*
 * Guest register file as the public interface sees it (mirrors
 * xen-x86_64.h struct cpu_user_regs; Xen spells the legacy registers as
 * unions of rax/eax, here they are the 64-bit names only). error_code and
 * entry_vector are hypervisor-private. rflags.IF reads as !saved_upcall_mask.
 * A non-zero fs or gs selector takes precedence over the segment base.
 */
struct cpu_user_regs {
	uint64_t r15;
	uint64_t r14;
	uint64_t r13;
	uint64_t r12;
	uint64_t rbp;
	uint64_t rbx;
	uint64_t r11;
	uint64_t r10;
	uint64_t r9;
	uint64_t r8;
	uint64_t rax;
	uint64_t rcx;
	uint64_t rdx;
	uint64_t rsi;
	uint64_t rdi;
	uint32_t error_code;
	uint32_t entry_vector;
	uint64_t rip;
	uint16_t cs;
	uint16_t _pad0[1];
	uint8_t saved_upcall_mask;
	uint8_t _pad1[3];
	uint64_t rflags;
	uint64_t rsp;
	uint16_t ss, _pad2[3];
	uint16_t es, _pad3[3];
	uint16_t ds, _pad4[3];
	uint16_t fs, _pad5[3];
	uint16_t gs, _pad6[3];
};

_Static_assert(sizeof(struct cpu_user_regs) == 200, "cpu_user_regs is 200 bytes");
_Static_assert(__builtin_offsetof(struct cpu_user_regs, rbp) == 32, "cpu_user_regs.rbp");
_Static_assert(__builtin_offsetof(struct cpu_user_regs, r8) == 72, "cpu_user_regs.r8");
_Static_assert(__builtin_offsetof(struct cpu_user_regs, rax) == 80, "cpu_user_regs.rax");
_Static_assert(__builtin_offsetof(struct cpu_user_regs, rdi) == 112, "cpu_user_regs.rdi");
_Static_assert(__builtin_offsetof(struct cpu_user_regs, error_code) == 120,
	       "cpu_user_regs.error_code");
_Static_assert(__builtin_offsetof(struct cpu_user_regs, entry_vector) == 124,
	       "cpu_user_regs.entry_vector");
_Static_assert(__builtin_offsetof(struct cpu_user_regs, rip) == 128, "cpu_user_regs.rip");
_Static_assert(__builtin_offsetof(struct cpu_user_regs, cs) == 136, "cpu_user_regs.cs");
_Static_assert(__builtin_offsetof(struct cpu_user_regs, saved_upcall_mask) == 140,
	       "cpu_user_regs.saved_upcall_mask");
_Static_assert(__builtin_offsetof(struct cpu_user_regs, rflags) == 144, "cpu_user_regs.rflags");
_Static_assert(__builtin_offsetof(struct cpu_user_regs, rsp) == 152, "cpu_user_regs.rsp");
_Static_assert(__builtin_offsetof(struct cpu_user_regs, ss) == 160, "cpu_user_regs.ss");
_Static_assert(__builtin_offsetof(struct cpu_user_regs, es) == 168, "cpu_user_regs.es");
_Static_assert(__builtin_offsetof(struct cpu_user_regs, ds) == 176, "cpu_user_regs.ds");
_Static_assert(__builtin_offsetof(struct cpu_user_regs, fs) == 184, "cpu_user_regs.fs");
_Static_assert(__builtin_offsetof(struct cpu_user_regs, gs) == 192, "cpu_user_regs.gs");

/*
 * Initial state of a vCPU, for VCPUOP_initialise (mirrors arch-x86/xen.h
 * struct vcpu_guest_context, x86-64 guest view). The user page table goes
 * in ctrlreg[1]; CR3 values hold xen_pfn_to_cr3(mfn).
 */
struct vcpu_guest_context {
	uint8_t fpu_ctxt[512];          /* FXSAVE image of the user FPU state */
	uint64_t flags;                 /* VGCF_* */
	struct cpu_user_regs user_regs;
	struct trap_info trap_ctxt[256];
	uint64_t ldt_base, ldt_ents;    /* LDT linear address, number of entries */
	uint64_t gdt_frames[16], gdt_ents;
	uint64_t kernel_ss, kernel_sp;  /* the virtual TSS: ring-1 stack */
	uint64_t ctrlreg[8];
	uint64_t debugreg[8];
	uint64_t event_callback_eip;
	uint64_t failsafe_callback_eip;
	uint64_t syscall_callback_eip;
	uint64_t vm_assist;             /* bitmap of VMASST_TYPE_* */
	uint64_t fs_base;
	uint64_t gs_base_kernel;
	uint64_t gs_base_user;
};

_Static_assert(sizeof(struct vcpu_guest_context) == 5168, "vcpu_guest_context is 5168 bytes");
_Static_assert(__builtin_offsetof(struct vcpu_guest_context, flags) == 512,
	       "vcpu_guest_context.flags");
_Static_assert(__builtin_offsetof(struct vcpu_guest_context, user_regs) == 520,
	       "vcpu_guest_context.user_regs");
_Static_assert(__builtin_offsetof(struct vcpu_guest_context, trap_ctxt) == 720,
	       "vcpu_guest_context.trap_ctxt");
_Static_assert(__builtin_offsetof(struct vcpu_guest_context, ldt_base) == 4816,
	       "vcpu_guest_context.ldt_base");
_Static_assert(__builtin_offsetof(struct vcpu_guest_context, gdt_frames) == 4832,
	       "vcpu_guest_context.gdt_frames");
_Static_assert(__builtin_offsetof(struct vcpu_guest_context, kernel_ss) == 4968,
	       "vcpu_guest_context.kernel_ss");
_Static_assert(__builtin_offsetof(struct vcpu_guest_context, ctrlreg) == 4984,
	       "vcpu_guest_context.ctrlreg");
_Static_assert(__builtin_offsetof(struct vcpu_guest_context, debugreg) == 5048,
	       "vcpu_guest_context.debugreg");
_Static_assert(__builtin_offsetof(struct vcpu_guest_context, event_callback_eip) == 5112,
	       "vcpu_guest_context.event_callback_eip");
_Static_assert(__builtin_offsetof(struct vcpu_guest_context, vm_assist) == 5136,
	       "vcpu_guest_context.vm_assist");
_Static_assert(__builtin_offsetof(struct vcpu_guest_context, fs_base) == 5144,
	       "vcpu_guest_context.fs_base");

/*
 * Architecture part of vcpu_info (mirrors xen-x86_64.h struct
 * arch_vcpu_info): the guest's virtual CR2, written by Xen before it
 * delivers a page fault. pad keeps vcpu_info at 64 bytes.
 */
struct arch_vcpu_info {
	uint64_t cr2;
	uint64_t pad;
};

_Static_assert(sizeof(struct arch_vcpu_info) == 16, "arch_vcpu_info is 16 bytes");
_Static_assert(__builtin_offsetof(struct arch_vcpu_info, cr2) == 0, "arch_vcpu_info.cr2");

/*
 * Architecture part of shared_info (mirrors arch-x86/xen.h struct
 * arch_shared_info): where the guest publishes its P2M for tools and
 * dump code. pfn_to_mfn_frame_list_list is the 3-level list root (0: not
 * set up, ~0: invalid, use p2m_vaddr); p2m_cr3/p2m_vaddr locate the linear
 * P2M list when p2m_cr3 != 0; p2m_generation is odd while the guest changes
 * that mapping. nmi_reason is written by Xen.
 */
struct arch_shared_info {
	uint64_t max_pfn;
	xen_pfn_t pfn_to_mfn_frame_list_list;
	uint64_t nmi_reason;
	uint64_t p2m_cr3;
	uint64_t p2m_vaddr;
	uint64_t p2m_generation;
};

_Static_assert(sizeof(struct arch_shared_info) == 48, "arch_shared_info is 48 bytes");
_Static_assert(__builtin_offsetof(struct arch_shared_info, pfn_to_mfn_frame_list_list) == 8,
	       "arch_shared_info.pfn_to_mfn_frame_list_list");
_Static_assert(__builtin_offsetof(struct arch_shared_info, nmi_reason) == 16,
	       "arch_shared_info.nmi_reason");
_Static_assert(__builtin_offsetof(struct arch_shared_info, p2m_cr3) == 24,
	       "arch_shared_info.p2m_cr3");
_Static_assert(__builtin_offsetof(struct arch_shared_info, p2m_vaddr) == 32,
	       "arch_shared_info.p2m_vaddr");
_Static_assert(__builtin_offsetof(struct arch_shared_info, p2m_generation) == 40,
	       "arch_shared_info.p2m_generation");

#endif
