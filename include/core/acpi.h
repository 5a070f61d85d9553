/*
 * ACPI table reader for boot: finds the RSDP, walks the RSDT or XSDT, and
 * takes from the MADT and the FADT (and the DSDT's _S5_ package) what the
 * hypervisor needs to start CPUs, route interrupts, keep time and power off.
 *
 * Every byte comes from firmware and is treated as hostile: each table is
 * checked (whole length mapped, at least its header, checksum) before any
 * field is used, and each MADT entry's length is checked against the table.
 * A bad table is skipped with a printk naming its signature and the problem.
 * The result is a plain struct acpi_info with fixed-size arrays; nothing in
 * it points into firmware memory.
 */
#ifndef CORE_ACPI_H
#define CORE_ACPI_H

#include <stdbool.h>
#include <stdint.h>

#include <vireo/machine.h>

#define ACPI_MAX_IOAPICS   8
#define ACPI_MAX_OVERRIDES 16

/* Generic Address Structure space ids (ACPI 6.5, 5.2.3.2). */
#define ACPI_SPACE_MEMORY  0
#define ACPI_SPACE_IO      1
#define ACPI_SPACE_PCI     2

/* MPS INTI flags of an interrupt source override (polarity bits 1:0, trigger 3:2). */
#define ACPI_IRQ_POLARITY_MASK 0x3
#define ACPI_IRQ_TRIGGER_MASK  0xc

/* A CPU from a MADT processor local APIC (type 0) or local x2APIC (type 9) entry. */
struct acpi_cpu {
	uint32_t apic_id;       /* xAPIC id (type 0, < 0xff) or x2APIC id (type 9) */
	uint32_t uid;           /* ACPI processor UID */
	bool enabled;           /* false: online capable, may be brought up later */
	bool x2apic;            /* listed by a type 9 entry */
};

struct acpi_ioapic {
	uint8_t id;
	uint32_t maddr;         /* register window */
	uint32_t gsi_base;      /* first global system interrupt it serves */
};

/* ISA IRQ `source` on `bus` (0 = ISA) is delivered as GSI `gsi` with MPS `flags`. */
struct acpi_irq_override {
	uint8_t bus;
	uint8_t source;
	uint32_t gsi;
	uint16_t flags;
};

/* A register named by a Generic Address Structure (a copy, not the packed layout). */
struct acpi_reg {
	uint8_t space_id;       /* ACPI_SPACE_* */
	uint8_t bit_width;
	uint8_t bit_offset;
	uint8_t access_size;
	uint64_t address;
};

struct acpi_info {
	uint8_t revision;               /* RSDP revision: 0 is ACPI 1.0, 2 is 2.0 and later */
	bool used_xsdt;                 /* walked the XSDT rather than the RSDT */

	/* MADT ("APIC") */
	bool has_madt;
	uint64_t lapic_maddr;           /* the type-5 override when present */
	bool pcat_compat;               /* dual 8259 PICs present (mask them) */
	unsigned nr_cpus;               /* entries used in cpus[] */
	unsigned nr_cpus_enabled;       /* of which enabled at boot */
	unsigned nr_cpus_dropped;       /* usable CPUs beyond MAX_CPUS, not recorded */
	struct acpi_cpu cpus[MAX_CPUS];
	unsigned nr_ioapics;
	unsigned nr_ioapics_dropped;
	struct acpi_ioapic ioapics[ACPI_MAX_IOAPICS];
	unsigned nr_overrides;
	unsigned nr_overrides_dropped;
	struct acpi_irq_override overrides[ACPI_MAX_OVERRIDES];

	/* FADT ("FACP"); I/O ports are 0 when absent */
	bool has_fadt;
	uint16_t pm1a_cnt_port;
	uint16_t pm1b_cnt_port;
	uint16_t pm_timer_port;
	bool pm_timer_32bit;            /* TMR_VAL_EXT: 32-bit counter, else 24-bit */
	uint64_t dsdt_maddr;
	bool has_reset;
	struct acpi_reg reset_reg;
	uint8_t reset_value;

	/* \_S5_ from the DSDT: write SLP_TYPx << 10 | SLP_EN to PM1x_CNT to power off */
	bool has_s5;
	uint8_t slp_typa;               /* as decoded; OnesOp gives 0xff, mask to 3 bits */
	uint8_t slp_typb;
};

/**
 * Scan [start_maddr, end_maddr) at 16-byte aligned addresses for a valid RSDP
 * ("RSD PTR ", ACPI 1.0 checksum over 20 bytes, and for revision >= 2 the
 * extended checksum over its length). Candidates that fail are reported and
 * skipped. The caller passes the BIOS areas (EBDA, 0xe0000-0xfffff).
 * @return the RSDP's machine address, or 0 when none was found.
 */
uint64_t acpi_find_rsdp(uint64_t start_maddr, uint64_t end_maddr);

/**
 * Read the tables reachable from the RSDP at rsdp_maddr into *out (which is
 * cleared first). Follows the XSDT when the revision is >= 2 and its address
 * is nonzero, else the RSDT. Uses the first valid MADT and FADT.
 * @return 0 when a MADT was found and parsed (the FADT is optional: see
 *         out->has_fadt), -VIREO_ENOENT when there is no usable MADT,
 *         -VIREO_EINVAL when the RSDP or the RSDT/XSDT is bad.
 */
int acpi_parse(uint64_t rsdp_maddr, struct acpi_info *out);

/** Print a short summary: CPUs, I/O APICs, PM timer, S5. */
void acpi_print(const struct acpi_info *info);

#endif
