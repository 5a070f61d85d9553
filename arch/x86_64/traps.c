/*
 * The IDT and what happens on an interrupt or exception.
 *
 * Interrupt vectors go to the handler registered for them. An exception in
 * the hypervisor is fatal: the dump (vector, error code, CR2, registers,
 * backtrace) goes to the console and the machine stops with the panic status.
 * NMI, #DF and #MC run on IST stacks of their own, so they are reported even
 * when the stack is what broke.
 */
#include <arch/apic.h>
#include <arch/cpu.h>
#include <arch/layout.h>
#include <arch/machine.h>
#include <arch/percpu.h>
#include <arch/traps.h>
#include <core/domain.h>
#include <vireo/printk.h>

struct idt_gate {
	uint16_t off_lo, sel;
	uint8_t ist, type;
	uint16_t off_mid;
	uint32_t off_hi, reserved;
} PACKED;
compile_assert(sizeof(struct idt_gate) == 16, "IDT gate is 16 bytes");

static struct idt_gate idt[256] ALIGNED(16);
static irq_handler_t handlers[256];
extern const uint64_t trap_stubs[256];
extern char __text_start[], __text_end[], __data_start[], __image_end[];

static const char *const exc_names[32] = {
	"#DE divide error", "#DB debug", "NMI", "#BP breakpoint", "#OF overflow",
	"#BR bound range", "#UD invalid opcode", "#NM device not available",
	"#DF double fault", "coprocessor overrun", "#TS invalid TSS",
	"#NP segment not present", "#SS stack fault", "#GP general protection",
	"#PF page fault", "reserved 15", "#MF x87 error", "#AC alignment check",
	"#MC machine check", "#XM SIMD error", "#VE virtualization",
	"#CP control protection", "reserved 22", "reserved 23", "reserved 24",
	"reserved 25", "reserved 26", "reserved 27", "#HV hypervisor injection",
	"#VC VMM communication", "#SX security", "reserved 31",
};

static void set_gate(unsigned v, uint64_t addr, unsigned ist)
{
	idt[v] = (struct idt_gate){
		.off_lo = (uint16_t)addr, .sel = HV_CS, .ist = (uint8_t)ist,
		.type = 0x8E,                  /* present, DPL 0, 64-bit interrupt gate */
		.off_mid = (uint16_t)(addr >> 16), .off_hi = (uint32_t)(addr >> 32),
	};
}

void traps_init(void)
{
	for (unsigned v = 0; v < 256; v++)
		set_gate(v, trap_stubs[v], 0);
	set_gate(2, trap_stubs[2], 1);         /* NMI on IST1 */
	idt[3].type = 0xEE;                    /* int3 and into from a guest arrive as #BP/#OF */
	idt[4].type = 0xEE;
	set_gate(8, trap_stubs[8], 2);         /* #DF on IST2 */
	set_gate(18, trap_stubs[18], 3);       /* #MC on IST3 */
	/*
	 * #DB on IST4: a guest that sets TF and executes SYSCALL takes #DB on
	 * the first instruction of the SYSCALL entry, in ring 0 but still on
	 * its own RSP; without a stack switch the CPU would push the frame
	 * wherever the guest pointed RSP.
	 */
	set_gate(1, trap_stubs[1], 4);
}

void traps_load(void)
{
	struct { uint16_t limit; uint64_t base; } PACKED desc = { sizeof(idt) - 1, (uint64_t)idt };
	__asm__ volatile("lidt %0" :: "m"(desc));
}

void irq_register(unsigned vector, irq_handler_t fn)
{
	if (vector < 256)
		handlers[vector] = fn;
}

static int in_image_data(uint64_t p)
{
	return p >= (uint64_t)__data_start && p + 16 <= (uint64_t)__image_end && !(p & 7);
}

static void backtrace(uint64_t rip, uint64_t rbp)
{
	printk("  backtrace (addr2line -e out/image/vireo.elf):\n    %016llx\n", (unsigned long long)rip);
	for (int depth = 0; depth < 16 && in_image_data(rbp); depth++) {
		const uint64_t *frame = (const uint64_t *)rbp;
		uint64_t ret = frame[1];
		if (ret < (uint64_t)__text_start || ret >= (uint64_t)__text_end)
			break;
		printk("    %016llx\n", (unsigned long long)ret);
		rbp = frame[0];
	}
}

static void dump(const struct cpu_regs *r)
{
	const char *name = r->vector < 32 ? exc_names[r->vector] : "interrupt";
	printk("\n*** hypervisor exception: vector %llu (%s), error code 0x%llx, on CPU %u\n",
	       (unsigned long long)r->vector, name, (unsigned long long)r->error_code, cpu_id());
	printk("  rip %016llx  cs %04llx  rflags %08llx  rsp %016llx  ss %04llx\n",
	       (unsigned long long)r->rip, (unsigned long long)r->cs, (unsigned long long)r->rflags,
	       (unsigned long long)r->rsp, (unsigned long long)r->ss);
	if (r->vector == 14)
		printk("  cr2 %016llx (faulting address: %s, %s, %s)\n", (unsigned long long)read_cr2(),
		       r->error_code & 1 ? "protection" : "not present",
		       r->error_code & 2 ? "write" : "read",
		       r->error_code & 16 ? "instruction fetch" : "data");
	printk("  rax %016llx  rbx %016llx  rcx %016llx  rdx %016llx\n",
	       (unsigned long long)r->rax, (unsigned long long)r->rbx, (unsigned long long)r->rcx, (unsigned long long)r->rdx);
	printk("  rsi %016llx  rdi %016llx  rbp %016llx  r8  %016llx\n",
	       (unsigned long long)r->rsi, (unsigned long long)r->rdi, (unsigned long long)r->rbp, (unsigned long long)r->r8);
	printk("  r9  %016llx  r10 %016llx  r11 %016llx  r12 %016llx\n",
	       (unsigned long long)r->r9, (unsigned long long)r->r10, (unsigned long long)r->r11, (unsigned long long)r->r12);
	printk("  r13 %016llx  r14 %016llx  r15 %016llx  cr3 %016llx\n",
	       (unsigned long long)r->r13, (unsigned long long)r->r14, (unsigned long long)r->r15, (unsigned long long)read_cr3());
	backtrace(r->rip, r->rbp);
}

extern char guest_iretq[];          /* entry.S: the IRETQ back to a guest */

void trap_dispatch(struct cpu_regs *regs);
static void trap_dispatch_one(struct cpu_regs *regs);

void trap_dispatch(struct cpu_regs *regs)
{
	unsigned v = (unsigned)regs->vector;
	trap_dispatch_one(regs);
	/* Back to the guest: its pending events first (not from the IST vectors' stacks). */
	if ((regs->cs & 3) && v != 1 && v != 2 && v != 8 && v != 18)
		guest_deliver_events(regs);
}

static void trap_dispatch_one(struct cpu_regs *regs)
{
	unsigned v = (unsigned)regs->vector;

	if (v >= 32 && handlers[v]) {
		percpu[cpu_id()].nr_interrupts++;
		handlers[v](regs);
		return;
	}
	if (v == 1 && !(regs->cs & 3)) {
		/*
		 * #DB in the hypervisor: the single-step trap after a guest's
		 * SYSCALL with TF set (SFMASK has cleared TF by now), or a
		 * guest's data breakpoint met by a copy on its behalf. Ignored,
		 * as Xen does; the paranoid entry already made GS ours.
		 */
		__asm__ volatile("mov %0, %%dr6" :: "r"(0xFFFF0FF0ull));
		return;
	}
	if (v == 2) {
		printk("traps: NMI on CPU %u (%s), ignored\n", cpu_id(), (regs->cs & 3) ? "guest" : "hypervisor");
		return;                    /* nothing here sends NMIs; never a guest's fault */
	}
	if (!(regs->cs & 3) && regs->rip == (uint64_t)guest_iretq && (((const uint64_t *)regs->rsp)[1] & 3)) {
		/*
		 * Returning to the guest faulted: the frame at regs->rsp is the
		 * guest's RIP, CS, RFLAGS, RSP, SS, which the CPU refused (a
		 * guest-defined code segment's limit, a descriptor changed under
		 * it). Its domain is crashed, as the hardware would fault it.
		 */
		const uint64_t *f = (const uint64_t *)regs->rsp;
		printk("domain %u: the CPU refused its return frame (exception %u, error 0x%llx, "
		       "cs 0x%llx rip 0x%llx)\n", current_domain ? current_domain->domid : 0, v,
		       (unsigned long long)regs->error_code, (unsigned long long)f[1], (unsigned long long)f[0]);
		guest_fault(v, f[0], regs->error_code, 0);
		return;
	}
	if (v < 32 && (regs->cs & 3)) {
		/* A guest's exception: to its trap table, or the domain crashes. */
		/* CR2 now: reading the guest's instruction or stack may fault and change it. */
		uint64_t cr2 = v == 14 ? read_cr2() : 0;
		if (guest_exception(regs, cr2) && guest_rip_ok(regs))
			return;
		guest_fault(v, regs->rip, regs->error_code, cr2);
		return;
	}
	if (v == 14 && guest_copy_fault_fixup(regs))
		return;                    /* a copy to or from guest memory hit an unmapped page */
	if (v >= 32) {
		printk("traps: unexpected interrupt vector %u on CPU %u, ignored\n", v, cpu_id());
		/* Acknowledge it, or its in-service bit blocks every lower-priority vector. */
		if (v != VEC_SPURIOUS)
			apic_eoi();
		return;
	}
	dump(regs);
	panic("exception %u in the hypervisor", v);
}
