/*
 * The user guest: a guest kernel that runs a user process in guest user
 * mode with page tables of its own (Xen's x86-64 PV model, issue 5).
 *
 * The kernel builds a user address space (L4 -> L3 -> L2 -> L1: code page
 * read-only at 0x400000, a data page at 0x401000 that the user GS base
 * points at, a stack page at 0x402000), pins it, makes it the user root
 * (MMUEXT_NEW_USER_BASEPTR), registers a syscall callback, a trap table and
 * a kernel stack (stack_switch), and irets to the user program with RPL 3.
 * The program (entry.S) makes SYSCALLs (bounced to the kernel's callback
 * and back with VGCF_in_syscall), INT 0x80 (a DPL-3 entry), INT 0x81 (a
 * DPL-0 entry: #GP), reads the kernel's memory (#PF: not in the user
 * tables), ud2, and exits with syscall 60. The kernel checks each arrival:
 * vector, error code, CS with RPL 3, its own GS base back in kernel mode,
 * the user's in user mode.
 *
 * "attack=no-user-tables" irets to user mode without user page tables,
 * which must crash only this domain.
 */
#include "guest.h"
#include "hypercall.h"
#include "pt.h"

#include <public/arch-x86_64.h>
#include <public/callback.h>
#include <public/memory.h>
#include <public/xen.h>

struct kregs {
	uint64_t r11, r10, r9, r8, rdi, rsi, rdx, rcx, rax;
	uint64_t vector, error, rip, cs, rflags, rsp, ss;
};

void ktrap_3(void), ktrap_6(void), ktrap_13(void), ktrap_14(void), ktrap_128(void), ksyscall(void);
void user_trap(struct kregs *r);
NORETURN void enter_user(uint64_t rip, uint64_t rsp);
extern const char user_prog[], user_prog_end[];

#define USER_CODE  0x400000ul
#define USER_DATA  0x401000ul
#define USER_STACK 0x403000ul        /* top of the stack page at 0x402000 */
#define USER_MAGIC 0x75736572ul      /* "user" */
#define KERNEL_MAGIC 0x6b65726eul    /* "kern" */

static uint64_t kernel_gs_area[2] = { KERNEL_MAGIC, 0 };
static uint8_t kernel_stack[16384] __attribute__((aligned(16)));
static const struct vcpu_info *vcpu0;
static unsigned failures, arrivals;

static void check(const char *what, bool ok, uint64_t got)
{
	console_printf("user: %-40s 0x%lx %s\n", what, (unsigned long)got, ok ? "ok" : "FAIL");
	failures += !ok;
}

static uint64_t gs0(void)
{
	uint64_t v;
	__asm__ volatile("mov %%gs:0, %0" : "=r"(v));
	return v;
}

void user_trap(struct kregs *r)
{
	arrivals++;
	/* Every arrival from the user program: CS with RPL 3, and the kernel's GS base is back. */
	if ((r->cs & 3) != 3 || gs0() != KERNEL_MAGIC) {
		check("arrival from user mode (CS RPL 3, kernel GS)", false, r->cs);
		guest_exit(1);
	}
	switch (r->vector) {
	case 0x1000:
		if (r->rax == 1) {
			check("syscall 1: user GS base reads its magic", r->rdi == USER_MAGIC, r->rdi);
			check("syscall 1: RCX is the user's return RIP", r->rcx == r->rip && r->rip > USER_CODE &&
			      r->rip < USER_CODE + 0x1000, r->rcx);
			r->rax = 100;
		} else if (r->rax == 2) {
			check("syscall 2: the result came back in RAX", r->rdi == 100, r->rdi);
		} else if (r->rax == 3) {
			check("syscall 3: user stack write read back", r->rdi == 0x5a5a, r->rdi);
		} else if (r->rax == 60) {
			check("syscall 60: exit, arrivals so far", arrivals == 8, arrivals);
			console_printf("user: %s\n", failures ? "FAILED" : "all checks passed");
			guest_exit(failures ? 1 : 0);
		} else {
			check("unexpected syscall number", false, r->rax);
		}
		return;
	case 0x80:
		check("int $0x80 from user mode (DPL 3)", r->rip > USER_CODE, r->rip);
		return;
	case 13:
		/* INT 0x81 through a DPL-0 entry: #GP with the IDT error code; skip "CD 81". */
		check("int $0x81 (DPL 0) -> #GP", r->rip > USER_CODE && r->rip < USER_CODE + 0x1000, r->error);
		r->rip += 2;
		return;
	case 14:
		check("read of kernel memory -> #PF (user, not present)",
		      (r->error & 5) == 4 && vcpu0->arch.cr2 == 0xffffffff80000000ul, r->error);
		r->rip += 3;                     /* mov (%rbx), %rax */
		return;
	case 6:
		check("ud2 -> #UD", true, r->rip);
		r->rip += 2;
		return;
	default:
		check("unexpected vector", false, r->vector);
		guest_exit(1);
	}
}

static const struct trap_info table[] = {
	{ 3, 3, FLAT_KERNEL_CS, { 0 }, (uint64_t)ktrap_3 },
	{ 6, 0, FLAT_KERNEL_CS, { 0 }, (uint64_t)ktrap_6 },
	{ 13, 0, FLAT_KERNEL_CS, { 0 }, (uint64_t)ktrap_13 },
	{ 14, 0, FLAT_KERNEL_CS, { 0 }, (uint64_t)ktrap_14 },
	{ 0x80, 3, FLAT_KERNEL_CS, { 0 }, (uint64_t)ktrap_128 },
	{ 0x81, 0, FLAT_KERNEL_CS, { 0 }, (uint64_t)ktrap_128 },
	{ 0, 0, 0, { 0 }, 0 },
};

/* A fresh frame of ours mapped writable in the kernel's start-of-day region, zeroed. */
static uint64_t *new_page(uint64_t *mfn)
{
	uint64_t pfn = pt_alloc_mapped_pfn();
	if (pfn == PT_NO_FRAME) {
		console_printf("user: out of free frames FAIL\n");
		guest_exit(1);
	}
	uint64_t *p = pt_pfn_to_va(pfn);
	memset(p, 0, PT_PAGE_SIZE);
	*mfn = pt_pfn_to_mfn(pfn);
	return p;
}

static void expect_rc(const char *what, long rc)
{
	console_printf("user: %-40s %ld %s\n", what, rc, rc == 0 ? "ok" : "FAIL");
	if (rc)
		guest_exit(1);
}

int guest_main(struct start_info *si)
{
	static char cmdline[MAX_GUEST_CMDLINE + 1];
	memcpy(cmdline, si->cmd_line, MAX_GUEST_CMDLINE);
	expect_rc("pt_init", pt_init(si));

	/* The read-only M2P every PV guest sees: our frames map back to our pfns. */
	struct xen_machphys_mapping mp;
	expect_rc("XENMEM_machphys_mapping", hypercall2(__HYPERVISOR_memory_op, XENMEM_machphys_mapping,
						       (unsigned long)&mp));
	const uint64_t *m2p = (const uint64_t *)mp.v_start;
	bool m2p_ok = mp.v_start == MACH2PHYS_VIRT_START && mp.max_mfn >= pt_pfn_to_mfn(7);
	for (uint64_t pfn = 0; m2p_ok && pfn < si->nr_pages; pfn += 97)
		m2p_ok = m2p[pt_pfn_to_mfn(pfn)] == pfn;
	check("M2P at 0xffff800000000000 maps our frames back", m2p_ok, mp.max_mfn);

	/* shared_info, for CR2 of a user page fault: mapped over a free page of ours. */
	uint64_t shared_va = (uint64_t)pt_pfn_to_va(pt_alloc_mapped_pfn());
	expect_rc("map shared_info", hyp_update_va_mapping(shared_va, si->shared_info | PTE_P | PTE_W, UVMF_INVLPG));
	vcpu0 = &((const struct shared_info *)shared_va)->vcpu_info[0];

	/* The user address space. */
	uint64_t l4m, l3m, l2m, l1m, codem, datam, stackm;
	uint64_t *l4 = new_page(&l4m), *l3 = new_page(&l3m), *l2 = new_page(&l2m), *l1 = new_page(&l1m);
	uint8_t *code = (uint8_t *)new_page(&codem);
	uint64_t *data = new_page(&datam);
	(void)new_page(&stackm);
	memcpy(code, user_prog, (size_t)(user_prog_end - user_prog));
	data[0] = USER_MAGIC;
	l4[PT_INDEX(USER_CODE, 4)] = pte_make(l3m, PTE_P | PTE_W | PTE_U);
	l3[PT_INDEX(USER_CODE, 3)] = pte_make(l2m, PTE_P | PTE_W | PTE_U);
	l2[PT_INDEX(USER_CODE, 2)] = pte_make(l1m, PTE_P | PTE_W | PTE_U);
	l1[PT_INDEX(USER_CODE, 1)] = pte_make(codem, PTE_P | PTE_U);
	l1[PT_INDEX(USER_DATA, 1)] = pte_make(datam, PTE_P | PTE_W | PTE_U | PTE_NX);
	l1[PT_INDEX(USER_STACK - 1, 1)] = pte_make(stackm, PTE_P | PTE_W | PTE_U | PTE_NX);
	expect_rc("user tables read-only", pt_set_readonly(l4) | pt_set_readonly(l3) |
					   pt_set_readonly(l2) | pt_set_readonly(l1));
	expect_rc("pin the user L4", pt_pin(4, l4m));
	bool attack = strstr(cmdline, "attack=no-user-tables") != NULL;
	if (!attack)
		expect_rc("NEW_USER_BASEPTR", pt_mmuext(MMUEXT_NEW_USER_BASEPTR, l4m, 0));

	/* Kernel entry points: trap table, syscall callback, kernel stack, GS bases. */
	expect_rc("set_trap_table", hypercall1(__HYPERVISOR_set_trap_table, (unsigned long)table));
	struct callback_register cb = { .type = CALLBACKTYPE_syscall, .flags = CALLBACKF_mask_events,
					 .address = (uint64_t)ksyscall };
	expect_rc("callback_op(register syscall)", hypercall2(__HYPERVISOR_callback_op, CALLBACKOP_register,
							       (unsigned long)&cb));
	expect_rc("stack_switch", hypercall2(__HYPERVISOR_stack_switch, FLAT_KERNEL_SS,
					     (unsigned long)(kernel_stack + sizeof(kernel_stack))));
	expect_rc("kernel GS base", hypercall2(__HYPERVISOR_set_segment_base, SEGBASE_GS_KERNEL,
					       (unsigned long)kernel_gs_area));
	expect_rc("user GS base", hypercall2(__HYPERVISOR_set_segment_base, SEGBASE_GS_USER, USER_DATA));
	console_printf("user: entering user mode at 0x%lx%s\n", USER_CODE,
		       attack ? " WITHOUT user page tables (attack)" : "");
	enter_user(USER_CODE, USER_STACK);
}
