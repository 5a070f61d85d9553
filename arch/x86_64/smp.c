/*
 * CPUs: per-CPU tables (GDT with a TSS and IST stacks, IDT, GS base), AP
 * start-up by INIT-SIPI-SIPI from the MADT's list, and machine_run_on_cpus().
 *
 * An AP that is up waits in hlt with interrupts on; work arrives in its
 * mailbox and a VEC_IPI_WAKE interrupt wakes it. The check-then-hlt is done
 * with interrupts off and "sti; hlt" (sti holds interrupts off for one more
 * instruction), so a wake-up between the check and the hlt is not lost.
 */
#include <arch/apic.h>
#include <arch/cpu.h>
#include <arch/layout.h>
#include <arch/machine_image.h>
#include <arch/paging.h>
#include <arch/percpu.h>
#include <arch/traps.h>
#include <core/acpi.h>
#include <mm/frame_alloc.h>
#include <public/arch-x86_64.h>
#include <vireo/atomic.h>
#include <vireo/errno.h>
#include <vireo/printk.h>
#include <vireo/spinlock.h>

struct percpu percpu[MAX_CPUS];
unsigned nr_cpus_online = 1;

static uint8_t cpu_stacks[MAX_CPUS][CPU_STACK_SIZE] ALIGNED(4096);
/* The boot CPU's GDT: it is loaded before there is a frame allocator. */
static uint64_t boot_cpu_gdt[GDT_PAGES * 512] ALIGNED(4096);
extern uint8_t boot_stack[];
static uint8_t ist_stacks[MAX_CPUS][4][IST_STACK_SIZE] ALIGNED(4096);

extern char trampoline_start[], trampoline_end[], tr_cr3[], tr_stack[], tr_percpu[];
extern char tr_gdt[], tr_gdt_desc_base[], tr_jmp32[], tr_jmp64[], tr_start32_sym[], tr_start64_sym[];
static uint32_t trampoline_page;          /* physical address, chosen by smp_boot's caller */

void cpu_init_tables(struct percpu *pc)
{
	unsigned c = pc->cpu_id;

	uint64_t *gdt = pc->gdt;

	pc->self = pc;
	pc->stack_top = c == 0 ? (uint64_t)&boot_stack[BOOT_STACK_SIZE]
			       : (uint64_t)&cpu_stacks[c][CPU_STACK_SIZE];
	/*
	 * IST stacks (NMI, #DF, #MC, #DB). The top word of each holds this
	 * CPU's struct percpu: the paranoid entry (entry.S) compares the GS
	 * base with it, because those four can arrive in ring 0 with the
	 * guest's GS base still loaded (right after SYSCALL, before swapgs).
	 */
	for (int i = 0; i < 4; i++) {
		uint64_t *top = (uint64_t *)&ist_stacks[c][i][IST_STACK_SIZE];
		top[-1] = (uint64_t)pc;
		pc->tss.ist[i] = (uint64_t)&top[-2];
	}
	pc->tss.rsp[0] = pc->stack_top;               /* ring 3 -> 0 lands here */
	pc->tss.iomap_base = sizeof(pc->tss);         /* no I/O bitmap */

	gdt[HV_CS >> 3]   = 0x00AF9A000000FFFFull;    /* 64-bit code, DPL 0 */
	gdt[HV_DS >> 3]   = 0x00CF92000000FFFFull;    /* data, DPL 0 */
	gdt[HV_CS32 >> 3] = 0x00CF9A000000FFFFull;    /* 32-bit code, DPL 0 */
	gdt[FLAT_RING3_CS32 >> 3] = 0x00CFFA000000FFFFull;   /* 32-bit code, DPL 3 */
	gdt[FLAT_RING3_DS32 >> 3] = 0x00CFF2000000FFFFull;   /* data, DPL 3 */
	gdt[FLAT_RING3_CS64 >> 3] = 0x00AFFA000000FFFFull;   /* 64-bit code, DPL 3 */
	uint64_t base = (uint64_t)&pc->tss, limit = sizeof(pc->tss) - 1;
	gdt[HV_TSS >> 3] = (limit & 0xFFFF) | ((base & 0xFFFFFF) << 16) | (0x89ull << 40) |
			   (((base >> 24) & 0xFF) << 56);     /* available 64-bit TSS */
	gdt[(HV_TSS >> 3) + 1] = base >> 32;

	struct { uint16_t limit; uint64_t base; } PACKED gdtr = {
		GDT_LIMIT_ENTRIES * 8 - 1, (uint64_t)gdt };
	__asm__ volatile(
		"lgdt %0\n\t"
		"pushq %1\n\t"
		"leaq 1f(%%rip), %%rax\n\t"
		"pushq %%rax\n\t"
		"lretq\n"
		"1:\n\t"
		"movl %2, %%eax\n\t"
		"movl %%eax, %%ds\n\t"
		"movl %%eax, %%es\n\t"
		"movl %%eax, %%ss\n\t"
		:: "m"(gdtr), "i"(HV_CS), "i"(HV_DS) : "rax", "memory");
	__asm__ volatile("ltr %w0" :: "r"(HV_TSS));
	wrmsr(MSR_GS_BASE, (uint64_t)pc);
	traps_load();
	syscall_init_cpu();
}

uint64_t *boot_cpu_gdt_pages(void)
{
	return boot_cpu_gdt;
}

/* GDT pages for CPU c: static for the boot CPU, from the frame allocator for the others. */
static uint64_t *gdt_for_cpu(unsigned c)
{
	if (c == 0)
		return boot_cpu_gdt;
	mfn_t mfn = frame_alloc(4);                   /* 16 pages */
	if (mfn == INVALID_MFN)
		return NULL;
	uint64_t *gdt = mfn_to_virt(mfn);
	__builtin_memset(gdt, 0, GDT_PAGES * PAGE_SIZE);
	return gdt;
}

static void wake_handler(struct cpu_regs *regs)
{
	apic_eoi();
}

/* Run whatever the mailbox holds; called with interrupts off. */
static void mailbox_run(struct percpu *pc)
{
	uint64_t posted = atomic_load_explicit(&pc->mailbox.posted, memory_order_acquire);
	if (posted == atomic_load_explicit(&pc->mailbox.done, memory_order_relaxed))
		return;
	irq_enable();
	pc->mailbox.fn(pc->mailbox.arg, pc->cpu_id);
	irq_disable();
	atomic_store_explicit(&pc->mailbox.done, posted, memory_order_release);
}

NORETURN void ap_entry64(struct percpu *pc);

NORETURN void ap_entry64(struct percpu *pc)
{
	if (cpuid(7, 0).b & (1u << 7))
		write_cr4(read_cr4() | (1u << 20));      /* SMEP, as on the boot CPU */
	cpu_init_tables(pc);
	apic_init_cpu();
	pc->apic_id = apic_id();
	atomic_store_explicit(&pc->online, 1, memory_order_release);
	for (;;) {
		irq_disable();
		mailbox_run(pc);
		if (atomic_load_explicit(&pc->mailbox.posted, memory_order_acquire) ==
		    atomic_load_explicit(&pc->mailbox.done, memory_order_relaxed))
			__asm__ volatile("sti; hlt" ::: "memory");
	}
}

static bool start_ap(unsigned c, uint32_t apic)
{
	struct percpu *pc = &percpu[c];
	uint8_t *tr = maddr_to_virt(trampoline_page, PAGE_SIZE);
#define TR_FIELD(type, sym) (*(type *)(tr + ((sym) - trampoline_start)))
#define TR_ADDR(sym) (trampoline_page + (uint32_t)((sym) - trampoline_start))

	pc->cpu_id = c;
	pc->apic_id = apic;
	if (!pc->gdt && !(pc->gdt = gdt_for_cpu(c))) {
		printk("smp: no memory for CPU %u's GDT\n", c);
		return false;
	}
	__builtin_memcpy(tr, trampoline_start, (size_t)(trampoline_end - trampoline_start));
	TR_FIELD(uint32_t, tr_gdt_desc_base) = TR_ADDR(tr_gdt);
	TR_FIELD(uint32_t, tr_jmp32) = TR_ADDR(tr_start32_sym);
	TR_FIELD(uint32_t, tr_jmp64) = TR_ADDR(tr_start64_sym);
	*(uint64_t *)(tr + (tr_cr3 - trampoline_start)) = paging_root_maddr();
	/* The AP enters ap_entry64 by jmp: leave the slot a call would have pushed. */
	*(uint64_t *)&cpu_stacks[c][CPU_STACK_SIZE - 8] = 0;
	*(uint64_t *)(tr + (tr_stack - trampoline_start)) = (uint64_t)&cpu_stacks[c][CPU_STACK_SIZE - 8];
	*(uint64_t *)(tr + (tr_percpu - trampoline_start)) = (uint64_t)pc;
	__asm__ volatile("mfence" ::: "memory");

	apic_send_init(apic);
	tsc_delay_us(10000);
	for (int sipi = 0; sipi < 2; sipi++) {
		apic_send_sipi(apic, trampoline_page >> 12);
		/* Emulators can be slow to start a CPU: wait up to 1 s per SIPI. */
		for (int i = 0; i < 10000; i++) {
			if (atomic_load_explicit(&pc->online, memory_order_acquire))
				return true;
			tsc_delay_us(100);
		}
	}
	/*
	 * Too slow: park it with INIT (back to wait-for-SIPI) so it can never
	 * run on this slot's stack later, then forget a late "online".
	 */
	apic_send_init(apic);
	tsc_delay_us(10000);
	atomic_store_explicit(&pc->online, 0, memory_order_relaxed);
	return false;
}

static void reload_cr3(void *arg, unsigned cpu)
{
	write_cr3(read_cr3());
}

/*
 * Remote TLB flushes. A requester bumps each target's flush_req, sends it
 * VEC_IPI_FLUSH, and waits until each flush_ack has reached the request it
 * made. A target serves in the IPI handler, or, with interrupts off, in any
 * spin-wait (cpu_relax, while tlb_flush_waiters is not 0): the requester's
 * own wait is one, so two CPUs flushing each other both progress. Reloading
 * CR3 drops every guest entry (guest entries are never global). Served
 * requests coalesce: one reload after the last request seen covers all
 * before it.
 */
uint32_t tlb_flush_waiters;

void tlb_flush_serve(void)
{
	struct percpu *pc = &percpu[cpu_id()];
	uint64_t req = __atomic_load_n(&pc->flush_req, __ATOMIC_ACQUIRE);
	uint64_t ack = __atomic_load_n(&pc->flush_ack, __ATOMIC_RELAXED);

	if (req == ack)
		return;
	write_cr3(read_cr3());                        /* serialising: the flush is done before the ack */
	pc->flushes_served++;
	while (ack < req &&
	       !__atomic_compare_exchange_n(&pc->flush_ack, &ack, req, false, __ATOMIC_RELEASE, __ATOMIC_RELAXED))
		;
}

static void flush_handler(struct cpu_regs *regs)
{
	tlb_flush_serve();
	apic_eoi();
}

void machine_tlb_flush_cpus(uint64_t mask)
{
	uint64_t want[MAX_CPUS];
	unsigned self = cpu_id();

	mask &= ~(1ull << self);
	if (nr_cpus_online < 64)
		mask &= (1ull << nr_cpus_online) - 1;
	if (!mask)
		return;
	/* Before the requests: a target spinning with interrupts off looks once this is set. */
	__atomic_fetch_add(&tlb_flush_waiters, 1, __ATOMIC_SEQ_CST);
	for (uint64_t m = mask; m; m &= m - 1) {
		unsigned c = (unsigned)__builtin_ctzll(m);
		want[c] = __atomic_add_fetch(&percpu[c].flush_req, 1, __ATOMIC_SEQ_CST);
		apic_send_ipi(percpu[c].apic_id, VEC_IPI_FLUSH);
	}
	for (uint64_t m = mask; m; m &= m - 1) {
		unsigned c = (unsigned)__builtin_ctzll(m);
		while (__atomic_load_n(&percpu[c].flush_ack, __ATOMIC_ACQUIRE) < want[c])
			cpu_relax();                      /* serves requests aimed at this CPU meanwhile */
	}
	__atomic_fetch_sub(&tlb_flush_waiters, 1, __ATOMIC_RELEASE);
}

unsigned smp_boot(const struct acpi_info *ai, unsigned max_cpus, uint32_t start_page)
{
	trampoline_page = start_page;
	uint32_t self = apic_id();
	unsigned next = 1;

	if (max_cpus > MAX_CPUS)
		max_cpus = MAX_CPUS;
	irq_register(VEC_IPI_WAKE, wake_handler);
	irq_register(VEC_IPI_FLUSH, flush_handler);
	for (unsigned i = 0; ai && i < ai->nr_cpus && next < max_cpus; i++) {
		if (!ai->cpus[i].enabled || ai->cpus[i].apic_id == self)
			continue;
		if (start_ap(next, ai->cpus[i].apic_id))
			next++;
		else
			printk("smp: CPU with APIC id %u did not come up\n", ai->cpus[i].apic_id);
	}
	nr_cpus_online = next;
	return next;
}

/*
 * vireo.selftest=tlb-flush: machine_tlb_flush_cpus reaches idle CPUs (the
 * IPI), CPUs spinning with interrupts off on a lock the flusher holds (the
 * spin-wait serves), and two CPUs flushing each other at once. A deadlock
 * shows as a boot that never ends.
 */
static spinlock_t st_lock = SPINLOCK_INIT;
static uint32_t st_spinning;

static uint64_t st_served(unsigned c)
{
	return __atomic_load_n(&percpu[c].flushes_served, __ATOMIC_RELAXED);
}

static void st_cpu(void *arg, unsigned cpu)
{
	unsigned n = nr_cpus_online;
	uint64_t others = (n < 64 ? (1ull << n) - 1 : ~0ull) & ~1ull;

	irq_disable();
	if (cpu == 0) {
		/* The lock is held: wait until the others spin on it with interrupts off, then flush them. */
		while (__atomic_load_n(&st_spinning, __ATOMIC_ACQUIRE) < n - 1)
			cpu_relax();
		tsc_delay_us(1000);
		machine_tlb_flush_cpus(others);
		spin_unlock(&st_lock);
	} else {
		__atomic_fetch_add(&st_spinning, 1, __ATOMIC_RELEASE);
		spin_lock(&st_lock);
		spin_unlock(&st_lock);
		/* CPUs 1 and 2 flush each other at once, interrupts still off. */
		if (n >= 3 && cpu <= 2)
			machine_tlb_flush_cpus(1ull << (3 - cpu));
	}
	irq_enable();
}

bool smp_tlb_flush_selftest(void)
{
	unsigned n = nr_cpus_online;
	uint64_t before[MAX_CPUS];
	bool ok = true;

	if (n < 2) {
		printk("selftest: remote TLB flushes need two CPUs\n");
		return false;
	}
	for (unsigned c = 0; c < n; c++)
		before[c] = st_served(c);
	machine_tlb_flush_cpus(~0ull);                    /* idle CPUs: by the IPI */
	for (unsigned c = 1; c < n; c++)
		ok &= st_served(c) > before[c];
	ok &= st_served(0) == before[0];                  /* never the caller */
	for (unsigned c = 0; c < n; c++)
		before[c] = st_served(c);
	spin_lock(&st_lock);
	machine_run_on_cpus(n, st_cpu, NULL);
	for (unsigned c = 1; c < n; c++)
		ok &= st_served(c) > before[c];
	ok &= __atomic_load_n(&tlb_flush_waiters, __ATOMIC_RELAXED) == 0;
	printk("selftest: remote TLB flushes on %u CPUs: %s\n", n, ok ? "ok" : "FAILED");
	return ok;
}

void smp_flush_all_tlbs(void)
{
	machine_run_on_cpus(nr_cpus_online, reload_cr3, NULL);
}

unsigned machine_nr_cpus(void)
{
	return nr_cpus_online;
}

int machine_start_on_cpu(unsigned cpu, void (*fn)(void *arg, unsigned cpu), void *arg)
{
	if (cpu == 0 || cpu >= nr_cpus_online || cpu == cpu_id())
		return -VIREO_EINVAL;
	struct cpu_mailbox *mb = &percpu[cpu].mailbox;
	mb->fn = fn;
	mb->arg = arg;
	atomic_fetch_add_explicit(&mb->posted, 1, memory_order_release);
	apic_send_ipi(percpu[cpu].apic_id, VEC_IPI_WAKE);
	return 0;
}

void machine_irq_disable(void)
{
	irq_disable();
}

void machine_kick_cpu(unsigned cpu)
{
	if (cpu < nr_cpus_online && cpu != cpu_id())
		apic_send_ipi(percpu[cpu].apic_id, VEC_IPI_WAKE);   /* its return to the guest looks */
}

/* STI's one-instruction shadow covers HLT: a wake-up between the check and HLT is not lost. */
void machine_wait_event(const volatile uint8_t *flag, const volatile uint8_t *stop)
{
	irq_disable();
	while (!*flag && !*stop)
		__asm__ volatile("sti; hlt; cli" ::: "memory");
}

void machine_timer_at_ns(uint64_t ns)
{
	if (!ns) {
		apic_timer_at(0);
		return;
	}
	uint64_t khz = machine_tsc_khz(), secs = ns / 1000000000ull;
	/* ns * khz / 1e6 without overflow: whole seconds apart; centuries ahead saturate. */
	if (!khz || secs > (UINT64_MAX / 4) / (khz * 1000)) {
		apic_timer_at(UINT64_MAX / 2);
		return;
	}
	uint64_t tsc = secs * khz * 1000 + ns % 1000000000ull * khz / 1000000ull;
	apic_timer_at(machine.tsc_at_boot + tsc);
}

int machine_run_on_cpus(unsigned n, void (*fn)(void *arg, unsigned cpu), void *arg)
{
	if (n == 0 || n > nr_cpus_online || cpu_id() != 0)
		return -VIREO_EINVAL;
	for (unsigned c = 1; c < n; c++) {
		struct cpu_mailbox *mb = &percpu[c].mailbox;
		mb->fn = fn;
		mb->arg = arg;
		atomic_fetch_add_explicit(&mb->posted, 1, memory_order_release);
		apic_send_ipi(percpu[c].apic_id, VEC_IPI_WAKE);
	}
	fn(arg, 0);
	for (unsigned c = 1; c < n; c++) {
		struct cpu_mailbox *mb = &percpu[c].mailbox;
		while (atomic_load_explicit(&mb->done, memory_order_acquire) !=
		       atomic_load_explicit(&mb->posted, memory_order_relaxed))
			cpu_relax();
	}
	return 0;
}
