/*
 * The machine interface (include/vireo/machine.h) for the bootable image:
 * frames through the direct map, time from the TSC, the serial console, and
 * stopping: QEMU's isa-debug-exit when running under QEMU, else ACPI S5
 * power-off, else halt and say so.
 */
#include <stdbool.h>

#include <arch/apic.h>
#include <arch/cpu.h>
#include <arch/layout.h>
#include <arch/machine_image.h>
#include <arch/serial.h>
#include <vireo/machine.h>
#include <vireo/printk.h>
#include <vireo/time.h>

struct machine_image machine;

mfn_t machine_nr_frames(void)
{
	return machine.nr_frames;
}

void *mfn_to_virt(mfn_t mfn)
{
	if (mfn >= machine.nr_frames)
		return NULL;
	return maddr_to_virt(mfn << PAGE_SHIFT, PAGE_SIZE);
}

mfn_t virt_to_mfn(const void *va)
{
	uint64_t v = (uint64_t)va;
	if (v < DIRECTMAP_BASE || v >= DIRECTMAP_BASE + (machine.nr_frames << PAGE_SHIFT))
		return INVALID_MFN;
	return (v - DIRECTMAP_BASE) >> PAGE_SHIFT;
}

uint64_t machine_now_ns(void)
{
	uint64_t d = machine_tsc() - machine.tsc_at_boot;
	/* d * 1e6 / khz without overflow for centuries: split whole seconds. */
	uint64_t per_s = machine.tsc_khz * 1000;
	return d / per_s * 1000000000ull + (d % per_s) * 1000000ull / machine.tsc_khz;
}

uint64_t machine_tsc_khz(void)
{
	return machine.tsc_khz;
}

uint64_t machine_wallclock_base_ns(void)
{
	return machine.wallclock_base_ns;
}

/* ---- the CMOS real-time clock (MC146818, as PCs and QEMU have it) ---------------- */

static uint8_t cmos(uint8_t reg)
{
	outb(0x70, reg);
	return inb(0x71);
}

struct rtc_time { unsigned sec, min, hour, day, mon, year; };

static struct rtc_time rtc_raw(void)
{
	while (cmos(0x0A) & 0x80)                 /* an update in progress: about 2 ms at most */
		cpu_relax();
	return (struct rtc_time){ cmos(0x00), cmos(0x02), cmos(0x04), cmos(0x07), cmos(0x08), cmos(0x09) };
}

static unsigned from_bcd(unsigned v)
{
	return (v >> 4) * 10 + (v & 15);
}

/*
 * Unix seconds from the RTC, or 0 when it reads as nonsense (no RTC):
 * read until two reads agree, BCD or binary, 12- or 24-hour, years taken
 * as 2000-2099 (the century register is not standard).
 */
uint64_t rtc_unix_seconds(void)
{
	struct rtc_time a, b = rtc_raw();
	for (int tries = 0; tries < 10; tries++) {
		a = b;
		b = rtc_raw();
		if (!__builtin_memcmp(&a, &b, sizeof(a)))
			break;
	}
	uint8_t status_b = cmos(0x0B);
	bool pm = b.hour & 0x80;
	b.hour &= 0x7F;
	if (!(status_b & 0x04)) {                 /* BCD */
		b.sec = from_bcd(b.sec);
		b.min = from_bcd(b.min);
		b.hour = from_bcd(b.hour);
		b.day = from_bcd(b.day);
		b.mon = from_bcd(b.mon);
		b.year = from_bcd(b.year);
	}
	if (!(status_b & 0x02))                   /* 12-hour: 12 AM is 0, 12 PM is 12 */
		b.hour = b.hour % 12 + (pm ? 12 : 0);
	if (b.sec > 59 || b.min > 59 || b.hour > 23 || b.day < 1 || b.day > 31 || b.mon < 1 ||
	    b.mon > 12 || b.year > 99)
		return 0;
	return (uint64_t)unix_seconds(2000 + b.year, b.mon, b.day, b.hour, b.min, b.sec);
}

void machine_console_write(const char *buf, size_t len)
{
	serial_write(buf, len);
}

size_t machine_console_read(char *buf, size_t len)
{
	return serial_read(buf, len);
}

/* QEMU's isa-debug-exit makes QEMU exit with (value << 1) | 1. */
static void debug_exit(int status)
{
	outl(machine.debug_exit_port, (uint32_t)status);
}

static void acpi_poweroff(void)
{
	if (!machine.has_s5 || !machine.pm1a_cnt)
		return;
	/* Keep the other PM1 control bits (SCI_EN among them); set SLP_TYP and SLP_EN. */
	uint16_t a = inw(machine.pm1a_cnt) & ~(7u << 10);
	outw(machine.pm1a_cnt, (uint16_t)(a | ((machine.slp_typa & 7u) << 10) | (1u << 13)));
	if (machine.pm1b_cnt) {
		uint16_t b = inw(machine.pm1b_cnt) & ~(7u << 10);
		outw(machine.pm1b_cnt, (uint16_t)(b | ((machine.slp_typb & 7u) << 10) | (1u << 13)));
	}
	tsc_delay_us(100000);
}

void machine_halt(int status)
{
	irq_disable();
	if (machine.debug_exit_port)
		debug_exit(status);
	acpi_poweroff();
	printk("vireo: stopped with status %d; halting (no way to power off found)\n", status);
	for (;;)
		cpu_halt();
}
