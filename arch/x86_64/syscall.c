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
#include <public/arch-x86_64.h>
#include <vireo/errno.h>
#include <vireo/printk.h>

#define MSR_STAR   0xC0000081
#define MSR_LSTAR  0xC0000082
#define MSR_CSTAR  0xC0000083
#define MSR_SFMASK 0xC0000084

/* RFLAGS bits SYSCALL clears: TF, IF, DF, NT, AC. */
#define SYSCALL_MASK ((1u << 8) | (1u << 9) | (1u << 10) | (1u << 14) | (1u << 18))

extern char syscall_entry[], syscall32_entry[];
extern char guest_copy_insn[], guest_copy_fixup[];
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
}

compile_assert(FLAT_RING3_CS32 + 16 == FLAT_RING3_CS64, "SYSRET's CS arithmetic");
compile_assert(FLAT_RING3_CS32 + 8 == FLAT_RING3_SS64, "SYSRET's SS arithmetic");
compile_assert(HV_CS + 8 == HV_DS, "SYSCALL's SS arithmetic");

void syscall_dispatch(struct cpu_regs *regs)
{
	if (regs->vector != 0x100) {
		guest_fault(6, regs->rip, 0, 0);           /* 32-bit SYSCALL: as #UD */
		return;
	}
	regs->rax = (uint64_t)hypercall_dispatch(regs->rax, regs->rdi, regs->rsi, regs->rdx,
						 regs->r10, regs->r8);
}

/* A guest address range: canonical, not wrapping, and clear of the hypervisor's range. */
static bool guest_range_ok(uint64_t va, size_t len)
{
	uint64_t end = va + len;
	if (end < va)
		return false;
	if (len == 0)
		return true;
	bool low = end <= 0x0000800000000000ull;
	bool high = va >= HYPERVISOR_VIRT_END;
	return low || high;
}

int copy_from_guest(void *dst, uint64_t guest_va, size_t len)
{
	if (!guest_range_ok(guest_va, len))
		return -VIREO_EFAULT;
	return guest_copy_raw(dst, (const void *)guest_va, len) ? -VIREO_EFAULT : 0;
}

int copy_to_guest(uint64_t guest_va, const void *src, size_t len)
{
	if (!guest_range_ok(guest_va, len))
		return -VIREO_EFAULT;
	return guest_copy_raw((void *)guest_va, src, len) ? -VIREO_EFAULT : 0;
}

/* Called by trap_dispatch for a fault in the hypervisor: resume a guest copy's fixup? */
bool guest_copy_fault_fixup(struct cpu_regs *regs)
{
	if (regs->rip != (uint64_t)guest_copy_insn)
		return false;
	regs->rip = (uint64_t)guest_copy_fixup;
	return true;
}

void machine_guest_root_init(uint64_t *root)
{
	const uint64_t *hv = maddr_to_virt(paging_root_maddr(), PAGE_SIZE);
	/* Slots 256..271 are the hypervisor's 8 TiB, as on Xen; guests get the rest. */
	for (unsigned i = 256; i < 272; i++)
		root[i] = hv[i];
}

void machine_enter_guest(const struct guest_entry *e)
{
	struct percpu *pc = &percpu[cpu_id()];
	struct cpu_regs *frame = (struct cpu_regs *)(pc->stack_top - sizeof(struct cpu_regs));

	irq_disable();
	*frame = (struct cpu_regs){
		.rip = e->rip, .cs = FLAT_RING3_CS64, .rflags = 0x202,   /* IF on, as on Xen */
		.rsp = e->rsp, .ss = FLAT_RING3_SS64, .rsi = e->rsi,
	};
	/* The guest starts with a null GS base of its own; ours goes to KERNEL_GS_BASE at the swap. */
	wrmsr(MSR_KERNEL_GS_BASE, 0);
	write_cr3(e->root_maddr);
	guest_enter_frame(frame);
}
