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
