/*
 * Guests on this CPU: SYSCALL set-up, the hypercall and guest-fault hand-off
 * to core/, copies to and from guest memory, and the first entry into a guest.
 *
 * A guest kernel runs in ring 3 (Xen's x86-64 PV model). SYSCALL from it is
 * a hypercall: RAX the number, RDI RSI RDX R10 R8 the arguments, the result
 * back in RAX; RCX and R11 are the CPU's (return RIP and RFLAGS).
 */
#include <arch/cpu.h>
#include <arch/layout.h>
#include <arch/paging.h>
#include <arch/percpu.h>
#include <arch/traps.h>
#include <core/domain.h>
#include <core/hypercall.h>
#include <mm/ptwr.h>
#include <public/arch-x86_64.h>
#include <public/callback.h>
#include <public/sched.h>
#include <public/xen.h>
#include <vireo/errno.h>
#include <vireo/pte.h>
#include <vireo/printk.h>

#define MSR_STAR   0xC0000081
#define MSR_LSTAR  0xC0000082
#define MSR_CSTAR  0xC0000083
#define MSR_SFMASK 0xC0000084

/* RFLAGS bits SYSCALL clears: TF, IF, DF, NT, AC. */
#define SYSCALL_MASK ((1u << 8) | (1u << 9) | (1u << 10) | (1u << 14) | (1u << 18))

extern char syscall_entry[], syscall32_entry[];
extern char guest_copy_insn[], guest_copy_fixup[], guest_copy_insn_q[], guest_copy_fixup_q[];
size_t guest_copy_raw(void *dst, const void *src, size_t n);
NORETURN void guest_enter_frame(struct cpu_regs *frame);
void syscall_dispatch(struct cpu_regs *regs);

void syscall_init_cpu(void)
{
	wrmsr(MSR_EFER, rdmsr(MSR_EFER) | 1);         /* SCE */
	/* SYSCALL: CS = HV_CS, SS = HV_CS + 8. SYSRET: CS = base + 16, SS = base + 8, RPL 3. */
	wrmsr(MSR_STAR, ((uint64_t)FLAT_RING3_CS32 << 48) | ((uint64_t)HV_CS << 32));
	wrmsr(MSR_LSTAR, (uint64_t)syscall_entry);
	wrmsr(MSR_CSTAR, (uint64_t)syscall32_entry);
	wrmsr(MSR_SFMASK, SYSCALL_MASK);
	/* SYSENTER is not a way in: a zero CS makes it #GP (firmware may have left one). */
	wrmsr(0x174, 0);                              /* IA32_SYSENTER_CS */
}

compile_assert(FLAT_RING3_CS32 + 16 == FLAT_RING3_CS64, "SYSRET's CS arithmetic");
compile_assert(FLAT_RING3_CS32 + 8 == FLAT_RING3_SS64, "SYSRET's SS arithmetic");
compile_assert(HV_CS + 8 == HV_DS, "SYSCALL's SS arithmetic");

#define RFLAGS_IF  (1ull << 9)
#define RFLAGS_TF  (1ull << 8)
#define RFLAGS_IOPL (3ull << 12)
#define RFLAGS_NT  (1ull << 14)
#define RFLAGS_RF  (1ull << 16)
#define RFLAGS_VM  (1ull << 17)
#define RFLAGS_AC  (1ull << 18)


/*
 * Guest kernel and guest user mode (Xen's x86-64 PV): both run in ring 3;
 * the hypervisor tells them apart and switches the page-table root (the
 * kernel's, or the one from MMUEXT_NEW_USER_BASEPTR) and the GS base (the
 * kernel's, or SEGBASE_GS_USER's). In the hypervisor the guest's live GS
 * base waits in KERNEL_GS_BASE (swapgs), so that is the one swapped.
 */
static void toggle_guest_mode(struct vcpu *v)
{
	struct vcpu_arch *a = &v->arch;
	struct domain_mm *mm = &v->d->mm;
	if (a->user_mode) {
		a->gs_user_base = rdmsr(MSR_KERNEL_GS_BASE);
		wrmsr(MSR_KERNEL_GS_BASE, a->gs_kernel_base);
		mm_load_root(mm, mm->vcpu[v->id].root);
	} else {
		a->gs_kernel_base = rdmsr(MSR_KERNEL_GS_BASE);
		wrmsr(MSR_KERNEL_GS_BASE, a->gs_user_base);
		mm_load_root(mm, mm->vcpu[v->id].user_root);
	}
	a->user_mode = !a->user_mode;
	a->mode_switches++;
}

/*
 * A selector (RPL 3) the iret hypercall may return to: the flat guest ones,
 * or one of the guest's own GDT or LDT that the CPU, asked with LAR, sees as
 * a present DPL-3 code segment (CS) or writable data segment (SS). A limit
 * the return RIP is past is guest_rip_ok's; whatever else the CPU refuses
 * at the IRETQ crashes the domain (guest_iretq in entry.S).
 */
/* What the CPU says of a selector in the current GDT/LDT: LAR's access rights, LSL's limit. */
static bool selector_lar(uint16_t sel, uint32_t *ar)
{
	bool ok;
	__asm__("lar %2, %0; setz %1" : "=r"(*ar), "=qm"(ok) : "rm"((uint32_t)sel) : "cc");
	return ok;
}

static bool selector_lsl(uint16_t sel, uint32_t *limit)
{
	bool ok;
	__asm__("lsl %2, %0; setz %1" : "=r"(*limit), "=qm"(ok) : "rm"((uint32_t)sel) : "cc");
	return ok;
}

static bool iret_selector_ok(uint16_t sel, bool code)
{
	if (code ? sel == FLAT_RING3_CS64 || sel == FLAT_RING3_CS32 : sel == FLAT_RING3_SS64)
		return true;
	uint32_t ar;
	if (!selector_lar(sel, &ar) || !(ar & (1u << 15)) || ((ar >> 13) & 3) != 3 || !(ar & (1u << 12)))
		return false;                      /* not present, not DPL 3, a system descriptor */
	bool is_code = ar & (1u << 11);
	return code ? is_code : !is_code && (ar & (1u << 9));
}

/*
 * The iret hypercall (Xen's x86-64 PV): the guest's RSP points at a struct
 * iret_context. Everything in it is the guest's to choose, so it is checked
 * before the frame is touched: selectors of RPL 3 the CPU would take
 * (iret_selector_ok), canonical RIP and RSP, no IOPL, VM or NT. A frame that
 * fails crashes the domain, as a hardware iretq would fault.
 */
static void do_iret(struct cpu_regs *regs)
{
	struct iret_context ic;
	struct vcpu *v = current_vcpu;
	struct vcpu_info *vi = vcpu_info_of(v);

	if (copy_from_guest(&ic, regs->rsp, sizeof(ic))) {
		guest_fault(13, regs->rip, 0, 0);
		return;
	}
	/* Only the low 16 bits of CS and SS count (a bounce frame keeps the event mask above). */
	uint16_t cs = (uint16_t)(ic.cs | 3), ss = (uint16_t)(ic.ss | 3);
	if (!iret_selector_ok(cs, true) || !iret_selector_ok(ss, false) ||
	    !canonical_va(ic.rip) || !canonical_va(ic.rsp) || (cs == FLAT_RING3_CS32 && ic.rip > 0xFFFFFFFFull)) {
		guest_fault(13, regs->rip, 0, 0);
		return;
	}
	/* RPL 3 in the frame's CS: back to guest user mode (a kernel frame has RPL 0). */
	if ((ic.cs & 3) == 3) {
		if (v->d->mm.vcpu[v->id].user_root == INVALID_MFN) {
			printk("domain %u: iret to user mode with no user page tables\n", v->d->domid);
			guest_fault(13, regs->rip, 0, 0);
			return;
		}
		if (!v->arch.user_mode)
			toggle_guest_mode(v);
	}
	regs->rip = ic.rip;
	regs->cs = cs;
	regs->rflags = (ic.rflags & ~(RFLAGS_IOPL | RFLAGS_VM | RFLAGS_NT)) | RFLAGS_IF;
	regs->rsp = ic.rsp;
	regs->ss = ss;
	if (!(ic.flags & VGCF_in_syscall)) {
		regs->r11 = ic.r11;
		regs->rcx = ic.rcx;
	}
	vi->evtchn_upcall_mask = !(ic.rflags & RFLAGS_IF);
	regs->rax = ic.rax;
}

/*
 * The x86 state hypercalls. Every value is checked before it reaches a
 * register: a non-canonical base in WRMSR would fault in the hypervisor.
 */
static long do_set_segment_base(uint64_t which, uint64_t base)
{
	if (which != SEGBASE_GS_USER_SEL && !canonical_va(base))
		return -VIREO_EINVAL;
	switch (which) {
	case SEGBASE_FS:
		wrmsr(MSR_FS_BASE, base);
		return 0;
	case SEGBASE_GS_KERNEL:
		/* In the hypervisor the guest's GS base waits in KERNEL_GS_BASE (swapgs). */
		wrmsr(MSR_KERNEL_GS_BASE, base);
		return 0;
	case SEGBASE_GS_USER:
		current_vcpu->arch.gs_user_base = base;  /* live from the next switch to user mode */
		return 0;
	case SEGBASE_GS_USER_SEL:
		/*
		 * Load user GS with a selector: only the null selector and the
		 * flat data selectors, each giving base 0 (a selector of the
		 * guest's own GDT, set_gdt, is not taken here yet).
		 */
		if ((base & 0xFFFF & ~3ull) != 0 && ((base & 0xFFFF) | 3) != FLAT_RING3_SS64)
			return -VIREO_EINVAL;
		current_vcpu->arch.gs_user_base = 0;
		return 0;
	default:
		return -VIREO_EINVAL;
	}
}

/* stack_switch(ss, sp): the guest kernel stack for entries from guest user mode. */
static long do_stack_switch(uint64_t ss, uint64_t sp)
{
	if ((ss | 3) != FLAT_RING3_SS64 || !canonical_va(sp))
		return -VIREO_EINVAL;
	current_vcpu->arch.kernel_sp = sp;
	return 0;
}

/* fpu_taskswitch(set): CR0.TS for the guest, so its next x87 instruction raises #NM. */
static long do_fpu_taskswitch(uint64_t set)
{
	uint64_t cr0 = read_cr0();
	__asm__ volatile("mov %0, %%cr0" :: "r"(set ? cr0 | (1u << 3) : cr0 & ~(1ull << 3)));
	return 0;
}

/*
 * Debug registers (set_debugreg / get_debugreg): live on this CPU while the
 * domain runs (one domain per CPU). Breakpoint addresses must be the
 * guest's; DR7 may not set GD (the guest could not reach its own handler)
 * or I/O breakpoints, nor its reserved bits. A breakpoint a hypervisor
 * access trips is ignored there (traps.c).
 */
#define DR7_RESERVED_ZERO 0xFFFFFFFF0000F800ull   /* 63:32, GD (13), 15:14, 12:11 */
#define DR6_DEFAULT       0xFFFF0FF0ull

static void load_dr(unsigned reg, uint64_t v)
{
	switch (reg) {
	case 0: __asm__ volatile("mov %0, %%dr0" :: "r"(v)); break;
	case 1: __asm__ volatile("mov %0, %%dr1" :: "r"(v)); break;
	case 2: __asm__ volatile("mov %0, %%dr2" :: "r"(v)); break;
	case 3: __asm__ volatile("mov %0, %%dr3" :: "r"(v)); break;
	case 6: __asm__ volatile("mov %0, %%dr6" :: "r"(v)); break;
	case 7: __asm__ volatile("mov %0, %%dr7" :: "r"(v)); break;
	}
}

static long do_set_debugreg(uint64_t reg, uint64_t v)
{
	struct vcpu_arch *a = &current_vcpu->arch;
	switch (reg) {
	case 0: case 1: case 2: case 3:
		if (!canonical_va(v) || !domain_range_is_guest(v, v + 8))
			return -VIREO_EPERM;
		break;
	case 6:
		v = (v & 0xE00F) | DR6_DEFAULT;       /* B0-3, BD, BS, BT; the rest reads as set */
		break;
	case 7:
		if (v & DR7_RESERVED_ZERO)
			return -VIREO_EINVAL;
		for (unsigned i = 0; i < 4; i++)
			if ((v & (3ull << (2 * i))) && ((v >> (16 + 4 * i)) & 3) == 2)
				return -VIREO_EPERM;  /* an I/O breakpoint */
		v |= 1ull << 10;                      /* reads as one */
		break;
	default:
		return -VIREO_EINVAL;
	}
	a->dr[reg] = v;
	load_dr((unsigned)reg, v);
	return 0;
}

static long do_get_debugreg(uint64_t reg)
{
	const struct vcpu_arch *a = &current_vcpu->arch;
	if (reg > 7 || reg == 4 || reg == 5)
		return -VIREO_EINVAL;
	if (reg == 6)
		return (long)(a->dr[6] ? a->dr[6] : DR6_DEFAULT);
	if (reg == 7)
		return (long)(a->dr[7] ? a->dr[7] : 0x400);
	return (long)a->dr[reg];
}

long arch_hypercall(uint64_t nr, struct hypercall_args *a)
{
	switch (nr) {
	case __HYPERVISOR_set_debugreg:     return do_set_debugreg(a->a[0], a->a[1]);
	case __HYPERVISOR_get_debugreg:     return do_get_debugreg(a->a[0]);
	case __HYPERVISOR_set_segment_base: return do_set_segment_base(a->a[0], a->a[1]);
	case __HYPERVISOR_stack_switch:     return do_stack_switch(a->a[0], a->a[1]);
	case __HYPERVISOR_fpu_taskswitch:   return do_fpu_taskswitch(a->a[0]);
	default:                            return -VIREO_ENOSYS;   /* iret too: not in a multicall */
	}
}

/*
 * A hypercall from the guest kernel. A continuation (-VIREO_ERESTART) puts
 * the updated arguments in the guest's registers and backs RIP up over its
 * SYSCALL (0F 05), with RAX still the hypercall number: the guest re-issues
 * the call where it stopped, after any interrupt that was waiting.
 */
static void guest_user_syscall(struct cpu_regs *regs);

static void syscall_dispatch_one(struct cpu_regs *regs)
{
	if (current_vcpu->arch.user_mode) {
		guest_user_syscall(regs);
		return;
	}
	if (regs->vector != 0x100) {
		guest_fault(6, regs->rip, 0, 0);           /* 32-bit SYSCALL: as #UD */
		return;
	}
	if (regs->rax == __HYPERVISOR_iret) {
		do_iret(regs);
		return;
	}
	struct hypercall_args a = { { regs->rdi, regs->rsi, regs->rdx, regs->r10, regs->r8, regs->r9 } };
	long rc = hypercall_dispatch(regs->rax, &a);
	if (rc == -VIREO_ERESTART) {
		regs->rdi = a.a[0];
		regs->rsi = a.a[1];
		regs->rdx = a.a[2];
		regs->r10 = a.a[3];
		regs->r8 = a.a[4];
		regs->r9 = a.a[5];
		regs->rip -= 2;
		return;
	}
	regs->rax = (uint64_t)rc;
}

/*
 * Whether the guest may be resumed at regs->rip: an emulated instruction
 * (WRMSR, forced CPUID, a page-table write) that ends at the top of the
 * lower half would leave a non-canonical RIP, and IRETQ to it faults in
 * ring 0 with the guest's GS loaded. A 32-bit code segment must stay
 * under 4 GiB for the same reason.
 */
bool guest_rip_ok(const struct cpu_regs *regs)
{
	uint16_t cs = (uint16_t)regs->cs;
	if ((cs | 3) == FLAT_RING3_CS64)
		return canonical_va(regs->rip);
	if ((cs | 3) == FLAT_RING3_CS32)
		return regs->rip <= 0xFFFFFFFFull;
	/* A code segment of the guest's own GDT or LDT: its L bit and limit, as the CPU sees them. */
	uint32_t access, limit;
	if (!selector_lar(cs, &access) || !selector_lsl(cs, &limit))
		return false;
	if (access & (1u << 21))
		return canonical_va(regs->rip);              /* 64-bit code: no limit */
	return regs->rip <= limit;
}

void syscall_dispatch(struct cpu_regs *regs)
{
	syscall_dispatch_one(regs);
	/* SYSCALL as the last instruction of the lower half returns to a non-canonical RIP. */
	if (!guest_rip_ok(regs))
		guest_fault(13, regs->rip, 0, 0);
	guest_deliver_events(regs);
}

static bool vector_has_error_code(unsigned v)
{
	return v == 8 || (v >= 10 && v <= 14) || v == 17 || v == 21 || v == 29 || v == 30;
}

/*
 * Build Xen's x86-64 bounce frame on the guest kernel stack and point the
 * guest at its handler:  { RCX, R11, [error code], RIP, CS, RFLAGS, RSP, SS }
 * from the lowest address, 16-byte aligned below the interrupted RSP. The
 * saved CS carries the event mask in bits 32-39 and the saved RFLAGS.IF the
 * virtual interrupt flag (!evtchn_upcall_mask). An interrupt-gate entry
 * (TI_GET_IF) masks events on entry.
 */
static bool bounce_frame(struct cpu_regs *regs, uint64_t handler, bool mask_events, bool error,
			 uint64_t error_code, uint64_t resume_rip)
{
	struct vcpu *v = current_vcpu;
	struct vcpu_info *vi = vcpu_info_of(v);
	uint64_t frame[8], sp;
	unsigned n = 0;
	bool from_user = v->arch.user_mode;

	/* From guest user mode: to the kernel's page tables, frame on its stack_switch stack. */
	if (from_user) {
		if (!v->arch.kernel_sp)
			return false;
		toggle_guest_mode(v);
		sp = v->arch.kernel_sp;
	} else {
		sp = regs->rsp;
	}
	frame[n++] = regs->rcx;
	frame[n++] = regs->r11;
	if (error)
		frame[n++] = error_code;
	frame[n++] = resume_rip;
	/* CS with RPL 0 tells the guest it interrupted its kernel, RPL 3 its user space (Xen). */
	frame[n++] = (from_user ? regs->cs : regs->cs & ~3ull) | ((uint64_t)vi->evtchn_upcall_mask << 32);
	frame[n++] = (regs->rflags & ~RFLAGS_IF) | (vi->evtchn_upcall_mask ? 0 : RFLAGS_IF);
	frame[n++] = regs->rsp;
	frame[n++] = regs->ss;
	sp = ((sp & ~15ull) - n * 8) & ~15ull;
	if (copy_to_guest(sp, frame, n * 8))
		return false;                  /* no usable kernel stack: the caller crashes the domain */
	if (mask_events)
		vi->evtchn_upcall_mask = 1;
	regs->rip = handler;
	regs->cs = FLAT_RING3_CS64;
	regs->ss = FLAT_RING3_SS64;
	regs->rsp = sp;
	regs->rflags &= ~(RFLAGS_TF | RFLAGS_NT | RFLAGS_RF | RFLAGS_VM | RFLAGS_AC);
	return true;
}

static bool bounce_to_guest(struct cpu_regs *regs, unsigned vector, bool error, uint64_t error_code,
			    uint64_t resume_rip)
{
	const struct trap_info *ti = domain_trap(vector);
	return ti && bounce_frame(regs, ti->address, TI_GET_IF(ti), error, error_code, resume_rip);
}

/*
 * Before the guest runs again (the end of every hypercall, exception and
 * interrupt that came from it): an upcall pending and not masked goes to
 * its event callback, on a bounce frame like an exception's, with upcalls
 * masked (Xen's); the guest's iret unmasks them. An upcall due with no
 * callback registered crashes the domain, as on Xen.
 */
void guest_deliver_events(struct cpu_regs *regs)
{
	struct vcpu *v = current_vcpu;
	if (!v)
		return;
	if (unlikely(__atomic_load_n(&v->stop, __ATOMIC_ACQUIRE)))
		vcpu_check_stop();                 /* told to go down, or its domain ends */
	struct domain *d = v->d;
	struct vcpu_info *vi = vcpu_info_of(v);
	if (!__atomic_load_n(&vi->evtchn_upcall_pending, __ATOMIC_ACQUIRE) || vi->evtchn_upcall_mask)
		return;
	if (!v->arch.event_cb) {
		printk("domain %u: an event upcall is due, and it registered no event callback\n", d->domid);
		domain_shutdown(d, SHUTDOWN_crash);
	}
	__atomic_fetch_add(&d->ev.upcalls, 1, __ATOMIC_RELAXED);     /* its vCPUs count at once */
	if (!bounce_frame(regs, v->arch.event_cb, true, false, 0, regs->rip)) {
		printk("domain %u: no stack to deliver an event upcall on\n", d->domid);
		guest_fault(14, regs->rip, 0, regs->rsp);
	}
}

/*
 * SYSCALL from guest user mode: the guest kernel's syscall callback, on
 * its kernel stack, with the user's RCX (return RIP) and R11 (RFLAGS) at
 * the bottom of the frame, as on Xen; it returns with the iret hypercall
 * and VGCF_in_syscall. No callback: the domain is crashed, as Xen does.
 */
static void guest_user_syscall(struct cpu_regs *regs)
{
	struct vcpu *v = current_vcpu;
	struct domain *d = v->d;
	if (regs->vector != 0x100 || !v->arch.syscall_cb) {
		printk("domain %u: %s from guest user mode with no callback for it\n", d->domid,
		       regs->vector != 0x100 ? "32-bit SYSCALL" : "SYSCALL");
		guest_fault(6, regs->rip, 0, 0);
		return;
	}
	v->arch.user_syscalls++;
	if (!bounce_frame(regs, v->arch.syscall_cb, v->arch.syscall_flags & CALLBACKF_mask_events,
			  false, 0, regs->rip)) {
		guest_fault(6, regs->rip, 0, 0);
		return;
	}
	regs->rflags &= ~(1ull << 10);             /* DF */
}

/*
 * INT n through one of our DPL-0 gates arrives as #GP. The error code would
 * say which vector, but QEMU 7.2's TCG pushes a wrong one (DESIGN.md,
 * decision 4): decode "CD nn" at the guest's RIP instead, on any CPU.
 */
static bool guest_int_n(struct cpu_regs *regs)
{
	uint8_t insn[2];
	if (copy_from_guest(insn, regs->rip, 2) || insn[0] != 0xCD)
		return false;
	const struct trap_info *ti = domain_trap(insn[1]);
	/* Guest kernel mode counts as ring 1 (Xen's permit_softint), user mode as ring 3. */
	if (!ti || TI_GET_DPL(ti) < (current_vcpu->arch.user_mode ? 3 : 1))
		return false;
	return bounce_to_guest(regs, insn[1], false, 0, regs->rip + 2);
}

/*
 * CPUID as a PV guest sees it, through Xen's forced-emulation prefix
 * ("ud2a; .ascii \"xen\"; cpuid", a #UD we decode). Leaves 0x40000000 on
 * are Xen's: the "XenVMMXenVMM" signature, the version, and the hypercall
 * page MSR; the rest are the CPU's, with what a PV guest must not use
 * hidden (VMX, SMX, MONITOR, x2APIC, TSC-deadline) and "hypervisor" set.
 */
#define HYPERCALL_PAGE_MSR 0x40000000u

static struct cpuid_regs pv_cpuid(uint32_t leaf, uint32_t subleaf)
{
	switch (leaf) {
	case 0x40000000:
		return (struct cpuid_regs){ 0x40000002, 0x566e6558, 0x65584d4d, 0x4d4d566e };
	case 0x40000001:
		return (struct cpuid_regs){ (4u << 16) | 17, 0, 0, 0 };
	case 0x40000002:
		return (struct cpuid_regs){ 1, HYPERCALL_PAGE_MSR, 0, 0 };
	}
	if (leaf >= 0x40000000 && leaf < 0x40010000)
		return (struct cpuid_regs){ 0, 0, 0, 0 };
	struct cpuid_regs r = cpuid(leaf, subleaf);
	if (leaf == 1) {
		r.c &= ~((1u << 3) | (1u << 5) | (1u << 6) | (1u << 21) | (1u << 24));
		r.c |= 1u << 31;
	}
	return r;
}

static bool guest_forced_cpuid(struct cpu_regs *regs)
{
	static const uint8_t prefix[7] = { 0x0f, 0x0b, 0x78, 0x65, 0x6e, 0x0f, 0xa2 };
	uint8_t insn[7];
	if (copy_from_guest(insn, regs->rip, sizeof(insn)) || __builtin_memcmp(insn, prefix, 7))
		return false;
	struct cpuid_regs r = pv_cpuid((uint32_t)regs->rax, (uint32_t)regs->rcx);
	regs->rax = r.a;
	regs->rbx = r.b;
	regs->rcx = r.c;
	regs->rdx = r.d;
	regs->rip += sizeof(insn);
	return true;
}

/*
 * RDMSR and WRMSR from the guest kernel fault (#GP) and are emulated for a
 * small list, as Xen does for PV guests: the segment bases (FS, the
 * kernel's GS, the user's GS, checked canonical on write), EFER and the TSC
 * read-only, and Xen's hypercall-page MSR (EDX:EAX = guest-physical address
 * of a page of its own; low 12 bits: page index, only 0). Anything else,
 * and anything from guest user mode, stays the guest's #GP.
 */
#define MSR_TSC 0x10

static bool guest_msr(struct cpu_regs *regs)
{
	uint8_t insn[2];
	if (current_vcpu->arch.user_mode || copy_from_guest(insn, regs->rip, 2) || insn[0] != 0x0f ||
	    (insn[1] != 0x30 && insn[1] != 0x32))
		return false;
	uint32_t msr = (uint32_t)regs->rcx;
	if (insn[1] == 0x32) {                              /* RDMSR */
		uint64_t v;
		switch (msr) {
		case MSR_FS_BASE:        v = rdmsr(MSR_FS_BASE); break;
		case MSR_GS_BASE:        v = rdmsr(MSR_KERNEL_GS_BASE); break;   /* swapped in here */
		case MSR_KERNEL_GS_BASE: v = current_vcpu->arch.gs_user_base; break;
		case MSR_EFER:           v = rdmsr(MSR_EFER); break;
		case MSR_TSC:            v = machine_tsc(); break;
		default:                 return false;
		}
		regs->rax = (uint32_t)v;
		regs->rdx = v >> 32;
		regs->rip += 2;
		return true;
	}
	uint64_t v = ((regs->rdx & 0xFFFFFFFFull) << 32) | (regs->rax & 0xFFFFFFFFull);
	switch (msr) {
	case MSR_FS_BASE:
	case MSR_GS_BASE:
	case MSR_KERNEL_GS_BASE:
		if (!canonical_va(v))
			return false;
		if (msr == MSR_FS_BASE)
			wrmsr(MSR_FS_BASE, v);
		else if (msr == MSR_GS_BASE)
			wrmsr(MSR_KERNEL_GS_BASE, v);
		else
			current_vcpu->arch.gs_user_base = v;
		break;
	case HYPERCALL_PAGE_MSR:
		if ((v & (PAGE_SIZE - 1)) != 0 || domain_fill_hypercall_page(v >> PAGE_SHIFT) != 0)
			return false;
		break;
	default:
		return false;
	}
	regs->rip += 2;
	return true;
}

/*
 * A write by the guest kernel to a read-only page (#PF with P, W and U): a
 * page-table write to emulate, when the guest enabled writable page tables
 * (mm/ptwr.c decides). The instruction is read from the guest, up to 15
 * bytes but not past what is mapped.
 */
static bool guest_ptwr(struct cpu_regs *regs, uint64_t cr2)
{
	uint8_t insn[15];
	unsigned n = sizeof(insn), advance;
	struct domain *d = current_domain;

	if ((regs->error_code & 0x1F) != 0x7 || current_vcpu->arch.user_mode ||
	    !(d->mm.vm_assist & (1u << VMASST_TYPE_writable_pagetables)))
		return false;
	uint64_t to_page_end = PAGE_SIZE - (regs->rip & (PAGE_SIZE - 1));
	if (copy_from_guest(insn, regs->rip, n) != 0) {
		n = to_page_end < n ? (unsigned)to_page_end : n;
		if (copy_from_guest(insn, regs->rip, n) != 0)
			return false;
	}
	struct ptwr_regs r = { { regs->rax, regs->rcx, regs->rdx, regs->rbx, regs->rsp, regs->rbp,
				 regs->rsi, regs->rdi, regs->r8, regs->r9, regs->r10, regs->r11,
				 regs->r12, regs->r13, regs->r14, regs->r15 }, regs->rflags };
	if (ptwr_emulate(&d->mm, &d->mm.vcpu[current_vcpu->id], cr2, insn, n, &r, &advance) != 0)
		return false;
	regs->rax = r.gpr[0]; regs->rcx = r.gpr[1]; regs->rdx = r.gpr[2]; regs->rbx = r.gpr[3];
	regs->rsp = r.gpr[4]; regs->rbp = r.gpr[5]; regs->rsi = r.gpr[6]; regs->rdi = r.gpr[7];
	regs->r8 = r.gpr[8]; regs->r9 = r.gpr[9]; regs->r10 = r.gpr[10]; regs->r11 = r.gpr[11];
	regs->r12 = r.gpr[12]; regs->r13 = r.gpr[13]; regs->r14 = r.gpr[14]; regs->r15 = r.gpr[15];
	regs->rflags = (regs->rflags & ~0x8D5ull) | (r.rflags & 0x8D5ull);
	regs->rip += advance;
	return true;
}

bool guest_exception(struct cpu_regs *regs, uint64_t cr2)
{
	unsigned v = (unsigned)regs->vector;
	if (v == 6 && guest_forced_cpuid(regs))
		return true;
	if (v == 13 && guest_msr(regs))
		return true;
	if (v == 13 && guest_int_n(regs))
		return true;
	if (v == 2 || v == 8 || v == 18)
		return false;                  /* NMI, #DF, #MC are the hypervisor's */
	if (v == 14 && guest_ptwr(regs, cr2))
		return true;
	if (v == 1) {                          /* the guest reads DR6 with get_debugreg */
		uint64_t dr6;
		__asm__ volatile("mov %%dr6, %0" : "=r"(dr6));
		struct vcpu_arch *a = &current_vcpu->arch;
		a->dr[6] = dr6;
		load_dr(6, DR6_DEFAULT);
		/*
		 * Bounce with the guest's breakpoints off: a watchpoint on the
		 * bounce frame would raise a nested #DB on this same IST stack,
		 * over the live frame of this one.
		 */
		load_dr(7, 0x400);
		bool ok = bounce_to_guest(regs, 1, false, 0, regs->rip);
		load_dr(7, a->dr[7] ? a->dr[7] : 0x400);
		return ok;
	}
	if (v == 14)
		vcpu_info_of(current_vcpu)->arch.cr2 = cr2;
	return bounce_to_guest(regs, v, vector_has_error_code(v), regs->error_code, regs->rip);
}


int copy_from_guest(void *dst, uint64_t guest_va, size_t len)
{
	if (!domain_range_is_guest(guest_va, guest_va + len))
		return -VIREO_EFAULT;
	return guest_copy_raw(dst, (const void *)guest_va, len) ? -VIREO_EFAULT : 0;
}

int copy_to_guest(uint64_t guest_va, const void *src, size_t len)
{
	if (!domain_range_is_guest(guest_va, guest_va + len))
		return -VIREO_EFAULT;
	return guest_copy_raw((void *)guest_va, src, len) ? -VIREO_EFAULT : 0;
}

/* Called by trap_dispatch for a fault in the hypervisor: resume a guest copy's fixup? */
bool guest_copy_fault_fixup(struct cpu_regs *regs)
{
	if (regs->rip == (uint64_t)guest_copy_insn_q)
		regs->rip = (uint64_t)guest_copy_fixup_q;
	else if (regs->rip == (uint64_t)guest_copy_insn)
		regs->rip = (uint64_t)guest_copy_fixup;
	else
		return false;
	return true;
}

void machine_guest_root_init(uint64_t *root)
{
	const uint64_t *hv = maddr_to_virt(paging_root_maddr(), PAGE_SIZE);
	/* Slots 256..271 are the hypervisor's 8 TiB, as on Xen; guests get the rest. */
	for (unsigned i = 256; i < 272; i++)
		root[i] = hv[i];
}

void machine_guest_load_root(maddr_t root)
{
	write_cr3(root);
}

void machine_guest_unload(void)
{
	write_cr3(paging_root_maddr());
	machine_guest_ldt_load(NULL, 0);   /* its copy is about to be freed */
	/* The next vCPU on this CPU sees none of this one's descriptors. */
	__builtin_memset(percpu[cpu_id()].gdt, 0, GUEST_GDT_ENTRIES * sizeof(uint64_t));
}

/* Guest entries are never global (mm/frame_table.c clears G): a CR3 reload drops them all. */
void machine_tlb_flush_local(void)
{
	write_cr3(read_cr3());
}

void machine_invlpg(uint64_t va)
{
	__asm__ volatile("invlpg (%0)" :: "r"(va) : "memory");
}

compile_assert(GUEST_GDT_ENTRIES == GDT_RESERVED_FIRST, "the guest's part of the GDT");
compile_assert(GUEST_GDT_ENTRIES == FIRST_RESERVED_GDT_ENTRY, "the guest's part of the GDT (ABI)");

/*
 * The guest's descriptors are copies in this CPU's own GDT (core/hypercall.c
 * keeps them coherent with the guest's frames). The GDT limit already
 * covers them (GDT_LIMIT_ENTRIES), so no LGDT: a descriptor takes effect at
 * the next load of a selector naming it, as on hardware.
 */
void machine_guest_gdt_write(unsigned cpu, unsigned first, const uint64_t *desc, unsigned n)
{
	uint64_t *gdt = percpu[cpu].gdt;
	for (unsigned i = 0; i < n; i++) {
		unsigned e = first + i;
		if (e == 0)
			continue;                  /* the null descriptor */
		if (e >= GUEST_GDT_ENTRIES)
			break;                     /* the hypervisor's */
		__atomic_store_n(&gdt[e], desc ? desc[i] : 0, __ATOMIC_RELAXED);   /* the CPU may be another */
	}
}

compile_assert((HV_LDT >> 3) + 2 <= GDT_LIMIT_ENTRIES, "the GDT limit covers the LDT descriptor");
compile_assert((HV_LDT >> 3) >= GUEST_GDT_ENTRIES, "the LDT descriptor is the hypervisor's");

/*
 * The guest's LDT is a copy in hypervisor memory (mm/frame_table.c): a
 * 16-byte LDT descriptor for it in this CPU's GDT at HV_LDT, then LLDT. The
 * guest cannot load HV_LDT itself (a system descriptor), and the CPU reads
 * LDT descriptors with supervisor rights, so the copy needs no guest mapping.
 */
void machine_guest_ldt_load(const uint64_t *base, unsigned entries)
{
	uint64_t *gdt = percpu[cpu_id()].gdt;
	if (!entries) {
		__asm__ volatile("lldt %w0" :: "r"(0) : "memory");
		gdt[HV_LDT >> 3] = gdt[(HV_LDT >> 3) + 1] = 0;
		return;
	}
	uint64_t b = (uint64_t)base, limit = entries * 8ull - 1;   /* at most 0xFFFF: byte granular */
	gdt[HV_LDT >> 3] = (limit & 0xFFFF) | ((b & 0xFFFFFF) << 16) | (0x82ull << 40) |   /* P, LDT */
			   ((limit >> 16 & 0xF) << 48) | ((b >> 24 & 0xFF) << 56);
	gdt[(HV_LDT >> 3) + 1] = b >> 32;
	__asm__ volatile("lldt %w0" :: "r"(HV_LDT) : "memory");
}

void machine_enter_guest(const struct guest_entry *e)
{
	struct percpu *pc = &percpu[cpu_id()];
	struct cpu_regs *frame = (struct cpu_regs *)(pc->stack_top - sizeof(struct cpu_regs));

	irq_disable();
	*frame = (struct cpu_regs){
		.rip = e->rip, .cs = FLAT_RING3_CS64, .rflags = 0x202,   /* IF on, as on Xen */
		.rsp = e->rsp, .ss = FLAT_RING3_SS64, .rsi = e->rsi,
		.rax = e->rax, .rbx = e->rbx, .rcx = e->rcx, .rdx = e->rdx, .rdi = e->rdi, .rbp = e->rbp,
		.r8 = e->r8, .r9 = e->r9, .r10 = e->r10, .r11 = e->r11, .r12 = e->r12, .r13 = e->r13,
		.r14 = e->r14, .r15 = e->r15,
	};
	/*
	 * Nothing of the previous vCPU on this CPU may show: its GDT entries
	 * and LDT went at machine_guest_unload (the caller loaded this vCPU's
	 * own since), null data selectors (GS's under swapgs, with the
	 * guest's GS base in place: interrupts are off, and the paranoid
	 * entries tell the bases apart), fresh x87 state, FS base, TS.
	 */
	__asm__ volatile("mov %0, %%ds\n\tmov %0, %%es\n\tmov %0, %%fs\n\t"
			 "swapgs\n\tmov %0, %%gs\n\tswapgs" :: "r"(0) : "memory");
	/* The guest's GS base (null, or VCPUOP_initialise's); ours goes to KERNEL_GS_BASE at the swap. */
	wrmsr(MSR_KERNEL_GS_BASE, e->gs_base);
	__asm__ volatile("mov %0, %%cr0" :: "r"(read_cr0() & ~(1ull << 3)));
	__asm__ volatile("fninit");
	wrmsr(MSR_FS_BASE, e->fs_base);
	for (unsigned r = 0; r < 4; r++)
		load_dr(r, 0);                     /* no breakpoints of the previous domain */
	load_dr(7, 0x400);
	load_dr(6, DR6_DEFAULT);
	write_cr3(e->root_maddr);
	guest_enter_frame(frame);
}
