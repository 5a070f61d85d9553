/*
 * Local APIC: x2APIC through MSRs when the CPU has it, else xAPIC through
 * its MMIO page (uncached in the direct map); IPIs; the one-shot timer, in
 * TSC-deadline mode when offered, else in one-shot count mode calibrated
 * against the TSC. And the TSC frequency itself.
 */
#include <arch/apic.h>
#include <arch/cpu.h>
#include <arch/traps.h>
#include <vireo/machine.h>
#include <vireo/printk.h>

#define APIC_ID      0x020
#define APIC_EOI     0x0B0
#define APIC_SVR     0x0F0
#define APIC_ICR_LO  0x300
#define APIC_ICR_HI  0x310
#define APIC_LVT_TMR 0x320
#define APIC_TMR_INIT 0x380
#define APIC_TMR_CUR 0x390
#define APIC_TMR_DIV 0x3E0

static bool x2apic, tsc_deadline;
static volatile uint32_t *xapic_mmio;
static uint64_t tsc_khz;
static uint64_t apic_ticks_per_ms;     /* count mode: APIC timer ticks per millisecond */

static uint32_t apic_read(uint32_t reg)
{
	if (x2apic)
		return (uint32_t)rdmsr(0x800 + (reg >> 4));
	return xapic_mmio[reg / 4];
}

static void apic_write(uint32_t reg, uint32_t v)
{
	if (x2apic)
		wrmsr(0x800 + (reg >> 4), v);
	else
		xapic_mmio[reg / 4] = v;
}

bool apic_is_x2apic(void) { return x2apic; }
bool apic_tsc_deadline(void) { return tsc_deadline; }

void apic_init_cpu(void)
{
	struct cpuid_regs r = cpuid(1, 0);
	uint64_t base = rdmsr(MSR_APIC_BASE);

	x2apic = r.c & (1u << 21);
	tsc_deadline = r.c & (1u << 24);
	base |= 1u << 11;                          /* global enable */
	if (x2apic)
		base |= 1u << 10;
	wrmsr(MSR_APIC_BASE, base);
	if (!x2apic) {
		xapic_mmio = maddr_to_virt(base & 0xFFFFFF000ull, 4096);
		if (!xapic_mmio)
			panic("apic: local APIC at 0x%llx is not mapped", (unsigned long long)(base & ~0xFFFull));
	}
	apic_write(APIC_SVR, 0x100 | VEC_SPURIOUS);
	apic_write(APIC_LVT_TMR, 1u << 16);        /* masked until armed */
}

uint32_t apic_id(void)
{
	return x2apic ? apic_read(APIC_ID) : apic_read(APIC_ID) >> 24;
}

void apic_eoi(void)
{
	apic_write(APIC_EOI, 0);
}

/*
 * Send through the ICR with interrupts off: in xAPIC mode it is two writes,
 * and a handler that sends an IPI in between would retarget ours. The x2APIC
 * ICR write is not serialising, so a fence first makes the stores the IPI
 * announces (a mailbox, say) visible before it arrives (Intel SDM 10.12.3).
 */
static void apic_icr(uint32_t dest, uint32_t low)
{
	uint64_t flags = read_rflags();
	irq_disable();
	if (x2apic) {
		__asm__ volatile("mfence; lfence" ::: "memory");
		wrmsr(0x830, ((uint64_t)dest << 32) | low);
	} else {
		apic_write(APIC_ICR_HI, dest << 24);
		apic_write(APIC_ICR_LO, low);
		for (int i = 0; i < 1000000 && (apic_read(APIC_ICR_LO) & (1u << 12)); i++)
			cpu_relax();
	}
	if (flags & (1u << 9))
		irq_enable();
}

void apic_send_ipi(uint32_t dest, unsigned vector)
{
	apic_icr(dest, vector | (1u << 14));                    /* fixed, assert */
}

void apic_send_init(uint32_t dest)
{
	apic_icr(dest, (5u << 8) | (1u << 14));                  /* INIT, assert */
}

void apic_send_sipi(uint32_t dest, unsigned page)
{
	apic_icr(dest, (6u << 8) | (1u << 14) | (page & 0xFF));  /* start-up */
}

void apic_timer_at(uint64_t deadline)
{
	if (!deadline) {                                         /* none: stop it */
		if (tsc_deadline)
			wrmsr(MSR_TSC_DEADLINE, 0);
		else
			apic_write(APIC_TMR_INIT, 0);
		return;
	}
	if (tsc_deadline) {
		apic_write(APIC_LVT_TMR, VEC_TIMER | (2u << 17));
		/* The LVT write must land before the deadline MSR (Intel SDM 10.5.4.1). */
		__asm__ volatile("mfence" ::: "memory");
		wrmsr(MSR_TSC_DEADLINE, deadline);
		return;
	}
	uint64_t now = machine_tsc();
	uint64_t delta_tsc = deadline > now ? deadline - now : 1;
	uint64_t ticks = delta_tsc > UINT64_MAX / (apic_ticks_per_ms + 1)
		? UINT64_MAX : delta_tsc * apic_ticks_per_ms / tsc_khz;
	apic_write(APIC_TMR_DIV, 0x3);                           /* divide by 16 */
	apic_write(APIC_LVT_TMR, VEC_TIMER);                     /* one-shot */
	apic_write(APIC_TMR_INIT, ticks ? (uint32_t)(ticks > 0xFFFFFFFF ? 0xFFFFFFFF : ticks) : 1);
}

void apic_timer_calibrate(void)
{
	if (tsc_deadline)
		return;
	apic_write(APIC_TMR_DIV, 0x3);
	apic_write(APIC_LVT_TMR, 1u << 16);
	apic_write(APIC_TMR_INIT, 0xFFFFFFFF);
	tsc_delay_us(10000);
	uint32_t elapsed = 0xFFFFFFFF - apic_read(APIC_TMR_CUR);
	apic_write(APIC_TMR_INIT, 0);
	apic_ticks_per_ms = elapsed / 10;
	printk("apic: timer in one-shot mode, %llu ticks/ms (divide 16)\n",
	       (unsigned long long)apic_ticks_per_ms);
}

/* ---- TSC frequency -------------------------------------------------------- */

/* Count TSC cycles over 50 ms of PIT channel 2 (1.193182 MHz), gate via port 0x61. */
static uint64_t tsc_measure_pit_khz(void)
{
	const uint32_t pit_hz = 1193182, ms = 50;
	uint16_t count = (uint16_t)(pit_hz * ms / 1000);

	outb(0x61, (inb(0x61) & ~0x02) | 0x01);   /* gate on, speaker off */
	outb(0x43, 0xB0);                         /* channel 2, lobyte/hibyte, mode 0 */
	outb(0x42, count & 0xFF);
	outb(0x42, count >> 8);
	uint64_t t0 = machine_tsc();
	for (uint64_t spins = 0; !(inb(0x61) & 0x20); spins++)
		if (spins > 100000000ull)
			return 0;
	uint64_t t1 = machine_tsc();
	return (t1 - t0) / ms;
}

uint64_t tsc_calibrate_khz(const char **how)
{
	struct cpuid_regs max = cpuid(0, 0);
	if (max.a >= 0x15) {
		struct cpuid_regs r = cpuid(0x15, 0);
		if (r.a && r.b && r.c) {
			*how = "CPUID 0x15";
			return tsc_khz = (uint64_t)r.c * r.b / r.a / 1000;
		}
	}
	if (max.a >= 0x16) {
		struct cpuid_regs r = cpuid(0x16, 0);
		if (r.a & 0xFFFF) {
			*how = "CPUID 0x16";
			return tsc_khz = (uint64_t)(r.a & 0xFFFF) * 1000;
		}
	}
	*how = "measured against the PIT";
	tsc_khz = tsc_measure_pit_khz();
	if (!tsc_khz) {
		*how = "unknown (PIT did not count), assuming 1 GHz";
		tsc_khz = 1000000;
	}
	return tsc_khz;
}

void tsc_delay_us(uint64_t us)
{
	uint64_t end = machine_tsc() + us * tsc_khz / 1000;
	while (machine_tsc() < end)
		cpu_relax();
}
