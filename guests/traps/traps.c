/*
 * The traps guest: registers a trap table and takes, in guest kernel mode,
 * the exceptions a PV kernel must handle, checking that each arrives at its
 * handler with the right vector and error code and that iret brings it back:
 * #UD (ud2), #BP (int3), INT 0x80 through a DPL-3 entry, #GP (mov to CR3),
 * #PF (a read of the hypervisor's range), #DE (divide by zero). Then the
 * refused cases of set_trap_table: a handler in the hypervisor's range
 * (-EPERM, and the old table still works) and a bad table pointer (-EFAULT).
 * A GDT of its own (set_gdt, update_descriptor): a DPL-3 data descriptor
 * loaded into %ds and used; a DPL-0 one and a call gate refused (-EINVAL);
 * after set_gdt(0) the selector is gone (#GP). An LDT of its own
 * (MMUEXT_SET_LDT): a DPL-3 data descriptor checked with lar and loaded into
 * %ds, made not present by update_descriptor, a DPL-0 one refused
 * (-EINVAL), and the page writable only once the LDT is gone.
 * "attack=bad-iret" on the command line makes an iret with a forged CS,
 * which must crash only this domain.
 */
#include "guest.h"
#include "hypercall.h"
#include "pt.h"

#include <public/arch-x86_64.h>
#include <public/xen.h>

struct trap_frame {
	uint64_t vector, error, rip, cs, rflags, rsp, ss;
};

void trap_0(void), trap_1(void), trap_3(void), trap_6(void), trap_7(void), trap_13(void), trap_14(void),
	trap_128(void);
void guest_trap(struct trap_frame *f);

static volatile uint64_t resume_rip, last_vector, last_error, traps_taken;
static unsigned failures;

void guest_trap(struct trap_frame *f)
{
	last_vector = f->vector;
	last_error = f->error;
	traps_taken++;
	if (f->vector == 7)                      /* lazy FPU: give the guest its FPU back */
		hypercall1(__HYPERVISOR_fpu_taskswitch, 0);
	f->rip = resume_rip;
}

#define TRIGGER(insn, ...) \
	__asm__ volatile("lea 1f(%%rip), %%rax\n\tmov %%rax, %0\n\t" insn "\n1:" \
			 : "=m"(resume_rip) : __VA_ARGS__ : "rax", "rcx", "rdx", "memory")

static void expect(const char *what, uint64_t vector, long error_mask, long error_want)
{
	bool ok = last_vector == vector && (error_mask == 0 || (long)(last_error & error_mask) == error_want);
	console_printf("traps: %-28s vector %lu error 0x%lx %s\n", what, (unsigned long)last_vector,
		       (unsigned long)last_error, ok ? "ok" : "FAIL");
	failures += !ok;
	last_vector = ~0ull;
}

static struct trap_info table[] = {
	{ 0, 0, FLAT_KERNEL_CS, { 0 }, (uint64_t)trap_0 },
	{ 1, 0, FLAT_KERNEL_CS, { 0 }, (uint64_t)trap_1 },
	{ 3, 3, FLAT_KERNEL_CS, { 0 }, (uint64_t)trap_3 },
	{ 6, 0, FLAT_KERNEL_CS, { 0 }, (uint64_t)trap_6 },
	{ 7, 0, FLAT_KERNEL_CS, { 0 }, (uint64_t)trap_7 },
	{ 13, 0, FLAT_KERNEL_CS, { 0 }, (uint64_t)trap_13 },
	{ 14, 0, FLAT_KERNEL_CS, { 0 }, (uint64_t)trap_14 },
	{ 0x80, 3, FLAT_KERNEL_CS, { 0 }, (uint64_t)trap_128 },
	{ 0, 0, 0, { 0 }, 0 },
};

static void check_rc(const char *what, long rc, long want)
{
	console_printf("traps: %-28s %ld %s\n", what, rc, rc == want ? "ok" : "FAIL");
	failures += rc != want;
}

/*
 * The GDT checks. Descriptor frames must have no writable mapping (a frame
 * has one type), so each page is made read-only before set_gdt.
 */
#define DESC_DATA3 0x00CFF3000000FFFFull      /* data, read/write, accessed, DPL 3 */
#define DESC_CODE0 0x00AF9B000000FFFFull      /* 64-bit code, DPL 0 */
#define DESC_CALL_GATE 0x0000EC000000E008ull  /* 64-bit call gate, DPL 3, to the hypervisor's CS */
#define LAR_CODE3 0x00A0FB00l                 /* lar of DESC_CODE0 raised to DPL 3 (under LAR_MASK) */
static long lar(uint16_t sel);

static uint64_t gdt_page[512] __attribute__((aligned(4096)));
static uint64_t evil_gdt_page[512] __attribute__((aligned(4096))) = { [1] = DESC_CALL_GATE };

/* Load %ds with sel and read *p through it; a #GP on the load resumes with v = 0. */
static uint64_t read_through_ds(uint16_t sel, const volatile uint64_t *p)
{
	uint64_t v = 0;
	__asm__ volatile("lea 1f(%%rip), %%rax\n\tmov %%rax, %[resume]\n\t"
			 "mov %%ds, %%ecx\n\tmov %w[sel], %%ds\n\tmov (%[p]), %[v]\n"
			 "1:\tmov %%ecx, %%ds"
			 : [resume] "=m"(resume_rip), [v] "+r"(v)
			 : [sel] "r"((uint32_t)sel), [p] "r"(p)
			 : "rax", "rcx", "memory");
	return v;
}

static void gdt_checks(struct start_info *si)
{
	static volatile uint64_t magic = 0x6764745f6f6bull;
	check_rc("pt_init", pt_init(si), 0);
	gdt_page[2] = DESC_DATA3;
	xen_pfn_t frame = pt_va_to_mfn(gdt_page), evil = pt_va_to_mfn(evil_gdt_page);
	check_rc("gdt page made read-only", pt_set_readonly(gdt_page), 0);
	check_rc("set_gdt(1 frame, 3 entries)", hypercall2(__HYPERVISOR_set_gdt, (unsigned long)&frame, 3), 0);
	last_vector = ~0ull;
	check_rc("read through %ds = 0x13", read_through_ds(0x13, &magic) == magic, 1);
	expect("load of 0x13: no fault", ~0ull, 0, 0);
	check_rc("gdt page cannot be writable", pt_set_writable(gdt_page), -XEN_EBUSY);
	uint64_t ma = (frame << 12) + 1 * 8;
	check_rc("update_descriptor DPL 0 code (made DPL 3)", hypercall2(__HYPERVISOR_update_descriptor, ma, DESC_CODE0),
		 0);
	check_rc("lar of 0x0b: DPL 3 code", lar(0x0b) == LAR_CODE3, 1);
	check_rc("update_descriptor DPL 3 data", hypercall2(__HYPERVISOR_update_descriptor, ma, DESC_DATA3), 0);
	check_rc("read through %ds = 0x0b", read_through_ds(0x0b, &magic) == magic, 1);
	expect("load of 0x0b: no fault", ~0ull, 0, 0);
	check_rc("update_descriptor misaligned", hypercall2(__HYPERVISOR_update_descriptor, ma + 4, DESC_DATA3),
		 -XEN_EINVAL);
	/* The attack: a call gate to the hypervisor's code segment. */
	check_rc("evil gdt page made read-only", pt_set_readonly(evil_gdt_page), 0);
	check_rc("set_gdt with a call gate", hypercall2(__HYPERVISOR_set_gdt, (unsigned long)&evil, 2),
		 -XEN_EINVAL);
	check_rc("GDT in force after the refusal", read_through_ds(0x13, &magic) == magic, 1);
	check_rc("set_gdt with 7169 entries", hypercall2(__HYPERVISOR_set_gdt, (unsigned long)&frame, 7169),
		 -XEN_EINVAL);
	/* None again: the selector is gone, the page is ours to write. */
	check_rc("set_gdt(0 entries)", hypercall2(__HYPERVISOR_set_gdt, 0, 0), 0);
	read_through_ds(0x13, &magic);
	expect("load of 0x13 after set_gdt(0) -> #GP", 13, -1, 0x10);
	check_rc("gdt page writable again", pt_set_writable(gdt_page), 0);
}

/*
 * The LDT checks. An LDT page, like a GDT page, must have no writable
 * mapping while in use. lar tests a selector without loading it (no fault,
 * and FS/GS bases stay as they are): the access rights, or -1 when the CPU
 * says the selector is not usable (ZF clear).
 */
#define LDT_SEL1 0x0f                         /* LDT entry 1 (TI set), RPL 3 */
#define LDT_SEL2 0x17                         /* LDT entry 2: past a 2-entry LDT */
#define LAR_DATA3 0x00C0F300l                 /* lar of DESC_DATA3, under LAR_MASK */
#define LAR_MASK  0x00F0FF00l                 /* bits 19:16 (limit) are undefined */

static uint64_t ldt_page[512] __attribute__((aligned(4096)));
static uint64_t evil_ldt_page[512] __attribute__((aligned(4096))) = { [1] = DESC_CALL_GATE };

static long lar(uint16_t sel)
{
	uint32_t rights;
	uint8_t ok;
	__asm__ volatile("lar %[sel], %[r]\n\tsetz %[ok]" : [r] "=r"(rights), [ok] "=q"(ok)
			 : [sel] "r"((uint32_t)sel) : "cc");
	return ok ? (long)(rights & LAR_MASK) : -1;
}

static long set_ldt(const void *va, unsigned entries)
{
	return pt_mmuext(MMUEXT_SET_LDT, (uint64_t)va, entries);
}

static void ldt_checks(void)
{
	static volatile uint64_t magic = 0x6c64745f6f6bull;
	ldt_page[1] = DESC_DATA3;
	ldt_page[2] = DESC_DATA3;                 /* valid: only the LDT's limit hides it */
	ldt_page[511] = DESC_DATA3;
	xen_pfn_t frame = pt_va_to_mfn(ldt_page);
	check_rc("set_ldt on a writable page", set_ldt(ldt_page, 2), -XEN_EBUSY);
	check_rc("ldt page made read-only", pt_set_readonly(ldt_page), 0);
	check_rc("set_ldt(page, 2 entries)", set_ldt(ldt_page, 2), 0);
	check_rc("lar of 0x0f: DPL 3 data", lar(LDT_SEL1) == LAR_DATA3, 1);
	last_vector = ~0ull;
	check_rc("read through %ds = 0x0f", read_through_ds(LDT_SEL1, &magic) == magic, 1);
	expect("load of 0x0f: no fault", ~0ull, 0, 0);
	check_rc("lar of 0x17 (past the limit)", lar(LDT_SEL2), -1);
	check_rc("ldt page cannot be writable", pt_set_writable(ldt_page), -XEN_EBUSY);
	uint64_t ma = (frame << 12) + 1 * 8;
	check_rc("ldt update_descriptor call gate", hypercall2(__HYPERVISOR_update_descriptor, ma, DESC_CALL_GATE),
		 -XEN_EINVAL);
	check_rc("ldt update_descriptor to 0", hypercall2(__HYPERVISOR_update_descriptor, ma, 0), 0);
	check_rc("lar of 0x0f after it", lar(LDT_SEL1), -1);
	/* A call gate: refused, and the LDT in force stays. */
	check_rc("evil ldt page made read-only", pt_set_readonly(evil_ldt_page), 0);
	check_rc("set_ldt with a call gate", set_ldt(evil_ldt_page, 2), -XEN_EINVAL);
	check_rc("ldt update_descriptor DPL 3 data", hypercall2(__HYPERVISOR_update_descriptor, ma, DESC_DATA3),
		 0);
	check_rc("LDT in force after the refusal", lar(LDT_SEL1) == LAR_DATA3, 1);
	/* None again: the selector is gone, the page is ours to write. */
	check_rc("set_ldt(0 entries)", set_ldt(0, 0), 0);
	check_rc("lar of 0x0f after set_ldt(0)", lar(LDT_SEL1), -1);
	check_rc("ldt page writable again", pt_set_writable(ldt_page), 0);
}

int guest_main(struct start_info *si)
{
	static char cmdline[MAX_GUEST_CMDLINE + 1];
	memcpy(cmdline, si->cmd_line, MAX_GUEST_CMDLINE);

	check_rc("set_trap_table", hypercall1(__HYPERVISOR_set_trap_table, (unsigned long)table), 0);

	TRIGGER("ud2", "i"(0));
	expect("ud2 -> #UD", 6, 0, 0);
	TRIGGER("int3", "i"(0));
	expect("int3 -> #BP", 3, 0, 0);
	TRIGGER("int $0x80", "i"(0));
	expect("int $0x80 (DPL 3 entry)", 0x80, 0, 0);
	TRIGGER("xor %%eax, %%eax\n\tmov %%rax, %%cr3", "i"(0));
	expect("mov to cr3 -> #GP", 13, -1, 0);
	TRIGGER("movabs $0xffff830000000000, %%rcx\n\tmov (%%rcx), %%rcx", "i"(0));
	expect("hypervisor read -> #PF", 14, 0x5, 0x5);   /* present, user */
	TRIGGER("xor %%ecx, %%ecx\n\txor %%edx, %%edx\n\tmov $1, %%eax\n\tdiv %%rcx", "i"(0));
	expect("divide by zero -> #DE", 0, 0, 0);
	check_rc("fpu_taskswitch(1)", hypercall1(__HYPERVISOR_fpu_taskswitch, 1), 0);
	TRIGGER("fld1\n\tfstp %%st(0)", "i"(0));
	expect("x87 with TS set -> #NM", 7, 0, 0);
	TRIGGER("fld1\n\tfstp %%st(0)", "i"(0));
	expect("x87 after fpu_taskswitch(0)", ~0ull, 0, 0);    /* no trap: last_vector untouched */

	struct trap_info evil[2] = { { 6, 0, FLAT_KERNEL_CS, { 0 }, 0xffff82d080200000ull }, { 0 } };
	check_rc("handler in hypervisor range", hypercall1(__HYPERVISOR_set_trap_table, (unsigned long)evil),
		 -XEN_EPERM);
	TRIGGER("ud2", "i"(0));
	expect("old table still in force", 6, 0, 0);
	evil[0].address = 0x0000900000000000ull;           /* not canonical */
	check_rc("non-canonical handler", hypercall1(__HYPERVISOR_set_trap_table, (unsigned long)evil),
		 -XEN_EINVAL);
	check_rc("table at a bad pointer",
		 hypercall1(__HYPERVISOR_set_trap_table, 0xffff830000000000ul), -XEN_EFAULT);

	/* Debug registers: a write watchpoint on a variable of ours. */
	static volatile uint64_t watched;
	static char extra[16];
	check_rc("set_debugreg DR0 = &watched", hypercall2(__HYPERVISOR_set_debugreg, 0, (unsigned long)&watched), 0);
	/* L0, RW0 = 01 (writes), LEN0 = 10 (8 bytes) */
	check_rc("set_debugreg DR7 (write watch)", hypercall2(__HYPERVISOR_set_debugreg, 7, 0x1 | (0x1ul << 16) | (0x2ul << 18)), 0);
	TRIGGER("movq $5, %1", "m"(watched));
	expect("write to watched -> #DB", 1, 0, 0);
	long dr6 = hypercall1(__HYPERVISOR_get_debugreg, 6);
	check_rc("get_debugreg DR6 has B0", dr6 & 1, 1);
	/* The hypervisor writing there on our behalf trips it in ring 0: ignored, the call works. */
	check_rc("set_debugreg DR0 = extra", hypercall2(__HYPERVISOR_set_debugreg, 0, (unsigned long)extra), 0);
	check_rc("xen_version into a watched buffer", hypercall2(__HYPERVISOR_xen_version, 1, (unsigned long)extra), 0);
	check_rc("set_debugreg DR7 = 0", hypercall2(__HYPERVISOR_set_debugreg, 7, 0), 0);
	check_rc("DR0 in the hypervisor's range", hypercall2(__HYPERVISOR_set_debugreg, 0, 0xffff82d080200000ul), -XEN_EPERM);
	check_rc("DR7 with GD", hypercall2(__HYPERVISOR_set_debugreg, 7, 1ul << 13), -XEN_EINVAL);
	check_rc("DR7 with an I/O breakpoint", hypercall2(__HYPERVISOR_set_debugreg, 7, 0x1 | (0x2ul << 16)), -XEN_EPERM);
	check_rc("get_debugreg DR4", hypercall1(__HYPERVISOR_get_debugreg, 4), -XEN_EINVAL);

	/* MSRs: the FS base through WRMSR/RDMSR (emulated), an unknown MSR is #GP. */
	uint32_t lo, hi;
	__asm__ volatile("wrmsr" :: "c"(0xC0000100u), "a"(0x1000u), "d"(0u));
	__asm__ volatile("rdmsr" : "=a"(lo), "=d"(hi) : "c"(0xC0000100u));
	check_rc("wrmsr/rdmsr FS_BASE", ((uint64_t)hi << 32) | lo, 0x1000);
	__asm__ volatile("wrmsr" :: "c"(0xC0000100u), "a"(0u), "d"(0u));
	TRIGGER("mov $0x1234, %%ecx\n\trdmsr", "i"(0));
	expect("rdmsr of an unknown MSR -> #GP", 13, 0, 0);

	gdt_checks(si);
	ldt_checks();

	if (strstr(cmdline, "attack=syscall-tf")) {
		/*
		 * SYSCALL with TF set and RSP in the hypervisor's text: the #DB
		 * after SYSCALL arrives in ring 0 on the guest's RSP unless the
		 * hypervisor switches stacks for it. The iret hypercall sets TF
		 * and RSP for the SYSCALL instruction (xen_version, RAX 17).
		 */
		console_printf("traps: syscall with TF set and RSP in the hypervisor\n");
		__asm__ volatile("xor %%edi, %%edi\n\t"
				 "pushq $0xe02b\n\tpushq %0\n\tpushq $0x302\n\tpushq $0xe030\n\t"
				 "lea 1f(%%rip), %%rax\n\tpushq %%rax\n\t"
				 "pushq $0\n\tpushq %%rcx\n\tpushq %%r11\n\tpushq $17\n\t"
				 "mov $23, %%eax\n\tsyscall\n"
				 "1:\tsyscall\n\tnop\n\tud2"
				 :: "r"(0xffff82d080200000ul) : "rax", "rcx", "rdi", "r11", "memory");
	}
	if (strstr(cmdline, "attack=ldt-limit")) {
		/*
		 * An emulated instruction that ends at a code segment's limit:
		 * WRMSR ("0f 30") at 0x1ffe in a 32-bit LDT code segment, DPL 3,
		 * limit 0x1fff. Resuming at 0x2000 would make the hypervisor's
		 * IRETQ fault in ring 0: the domain is crashed instead.
		 */
		uint64_t p3 = pt_alloc_mapped_pfn(), p2 = pt_alloc_mapped_pfn(), p1 = pt_alloc_mapped_pfn();
		uint64_t pc = pt_alloc_mapped_pfn(), pl = pt_alloc_mapped_pfn();
		uint64_t *t3 = pt_pfn_to_va(p3), *t2 = pt_pfn_to_va(p2), *t1 = pt_pfn_to_va(p1);
		uint8_t *code = pt_pfn_to_va(pc);
		uint64_t *ldt = pt_pfn_to_va(pl);
		memset(t3, 0, 4096); memset(t2, 0, 4096); memset(t1, 0, 4096); memset(code, 0xcc, 4096); memset(ldt, 0, 4096);
		code[0xffe] = 0x0f; code[0xfff] = 0x30;
		ldt[0] = 0x0040FB0000001FFFull;
		t1[1] = pte_make(pt_pfn_to_mfn(pc), PTE_P | PTE_U);
		t2[0] = pte_make(pt_pfn_to_mfn(p1), PTE_P | PTE_W | PTE_U);
		t3[0] = pte_make(pt_pfn_to_mfn(p2), PTE_P | PTE_W | PTE_U);
		check_rc("ldt-limit: tables and LDT read-only", pt_set_readonly(t1) | pt_set_readonly(t2) | pt_set_readonly(t3) | pt_set_readonly(ldt), 0);
		check_rc("ldt-limit: L4 slot 0", pt_update(pt_slot_ptr(pt.root_mfn, 0), pte_make(pt_pfn_to_mfn(p3), PTE_P | PTE_W | PTE_U)), 0);
		check_rc("ldt-limit: set_ldt", set_ldt(ldt, 1), 0);
		console_printf("traps: lret to a 32-bit LDT code segment, WRMSR at its limit\n");
		__asm__ volatile("mov $0xC0000100, %%ecx\n\txor %%eax, %%eax\n\txor %%edx, %%edx\n\t"
				 "pushq $0x07\n\tpushq $0x1ffe\n\tlretq" ::: "rax", "rcx", "rdx", "memory");
	}
	if (strstr(cmdline, "attack=bad-iret")) {
		console_printf("traps: iret with a forged CS\n");
		__asm__ volatile("pushq $0xe02b; pushq %%rsp; pushq $0x202; pushq $0x0008; pushq $0; "
				 "pushq $0; pushq $0; pushq $0; pushq $0; mov $23, %%eax; syscall"
				 ::: "rax", "rcx", "r11", "memory");
	}
	console_printf("traps: %lu exceptions handled, %u failure(s)\n", (unsigned long)traps_taken, failures);
	return failures ? 1 : 0;
}
