/*
 * ACPI table reader for boot (interface and result in <core/acpi.h>).
 *
 * Trust model: every byte below comes from firmware and may be wrong by
 * accident or on purpose. The rules that follow from that:
 *
 *   - A table is used only after acpi_table_map() has checked it: its header
 *     is mapped, its length covers at least the fixed part we read and at most
 *     ACPI_TABLE_MAX_LEN, all `length` bytes are mapped (maddr_to_virt), and
 *     its bytes sum to zero. From then on every read is an index below that
 *     length, checked before the read.
 *   - Fixed-size parts are copied out (__builtin_memcpy into a local, zeroed
 *     first when the table may be shorter than our struct) before their
 *     fields are looked at: no unaligned access, no field read twice, and an
 *     older, shorter FADT reads as zeros past its end, as the spec says.
 *   - Every loop advances by at least one byte (MADT entry lengths are >= 2,
 *     root table entries 4 or 8) and stops at the table's length, so a table
 *     can make the walk slow but never endless.
 *   - A bad table is skipped, or the walk of a bad MADT stops, with a printk
 *     that names the table and the problem. Only a bad RSDP or RSDT/XSDT, or
 *     the lack of any usable MADT, makes acpi_parse fail.
 *
 * Layouts and offsets are from ACPI 6.5, chapter 5.2.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <core/acpi.h>
#include <vireo/compiler.h>
#include <vireo/errno.h>
#include <vireo/machine.h>
#include <vireo/printk.h>

/* Sanity bounds: no real table comes near them, and they keep sums in range. */
#define ACPI_TABLE_MAX_LEN (16u << 20)
#define ACPI_RSDP_MAX_LEN  4096u

/* ---- table layouts ------------------------------------------------------- */

struct acpi_rsdp {
	char signature[8];              /* "RSD PTR " */
	uint8_t checksum;               /* over the first 20 bytes (ACPI 1.0 part) */
	char oem_id[6];
	uint8_t revision;               /* 0: ACPI 1.0, 2: ACPI 2.0 and later */
	uint32_t rsdt_address;
	uint32_t length;                /* revision >= 2 from here on */
	uint64_t xsdt_address;
	uint8_t ext_checksum;           /* over `length` bytes */
	uint8_t reserved[3];
} PACKED;
compile_assert(sizeof(struct acpi_rsdp) == 36, "RSDP is 36 bytes");
#define ACPI_RSDP_V1_LEN 20u

struct acpi_header {
	char signature[4];
	uint32_t length;                /* of the whole table, header included */
	uint8_t revision;
	uint8_t checksum;
	char oem_id[6];
	char oem_table_id[8];
	uint32_t oem_revision;
	uint32_t creator_id;
	uint32_t creator_revision;
} PACKED;
compile_assert(sizeof(struct acpi_header) == 36, "SDT header is 36 bytes");

struct acpi_madt {
	struct acpi_header h;
	uint32_t lapic_address;
	uint32_t flags;                 /* bit 0: PCAT_COMPAT */
} PACKED;
compile_assert(sizeof(struct acpi_madt) == 44, "MADT fixed part is 44 bytes");

/* MADT entries (interrupt controller structures): type, length, body. */
enum acpi_madt_type {
	ACPI_MADT_LAPIC = 0,
	ACPI_MADT_IOAPIC = 1,
	ACPI_MADT_OVERRIDE = 2,
	ACPI_MADT_LAPIC_ADDR = 5,
	ACPI_MADT_X2APIC = 9,
};

#define ACPI_MADT_ENABLED        (1u << 0)
#define ACPI_MADT_ONLINE_CAPABLE (1u << 1)      /* defined from MADT revision 5 */
#define ACPI_MADT_REV_ONLINE_CAP 5
#define ACPI_MADT_PCAT_COMPAT    (1u << 0)

struct acpi_madt_lapic {
	uint8_t type, length;
	uint8_t uid;
	uint8_t apic_id;
	uint32_t flags;
} PACKED;
compile_assert(sizeof(struct acpi_madt_lapic) == 8, "MADT type 0 is 8 bytes");

struct acpi_madt_ioapic {
	uint8_t type, length;
	uint8_t id;
	uint8_t reserved;
	uint32_t address;
	uint32_t gsi_base;
} PACKED;
compile_assert(sizeof(struct acpi_madt_ioapic) == 12, "MADT type 1 is 12 bytes");

struct acpi_madt_override {
	uint8_t type, length;
	uint8_t bus;
	uint8_t source;
	uint32_t gsi;
	uint16_t flags;
} PACKED;
compile_assert(sizeof(struct acpi_madt_override) == 10, "MADT type 2 is 10 bytes");

struct acpi_madt_lapic_addr {
	uint8_t type, length;
	uint16_t reserved;
	uint64_t address;
} PACKED;
compile_assert(sizeof(struct acpi_madt_lapic_addr) == 12, "MADT type 5 is 12 bytes");

struct acpi_madt_x2apic {
	uint8_t type, length;
	uint16_t reserved;
	uint32_t x2apic_id;
	uint32_t flags;
	uint32_t uid;
} PACKED;
compile_assert(sizeof(struct acpi_madt_x2apic) == 16, "MADT type 9 is 16 bytes");

struct acpi_gas {
	uint8_t space_id;
	uint8_t bit_width;
	uint8_t bit_offset;
	uint8_t access_size;
	uint64_t address;
} PACKED;
compile_assert(sizeof(struct acpi_gas) == 12, "GAS is 12 bytes");

/* FADT up to ACPI 6.5; revision 1 tables end after `flags` (116 bytes). */
struct acpi_fadt {
	struct acpi_header h;
	uint32_t firmware_ctrl;
	uint32_t dsdt;
	uint8_t reserved0;
	uint8_t preferred_pm_profile;
	uint16_t sci_int;
	uint32_t smi_cmd;
	uint8_t acpi_enable, acpi_disable, s4bios_req, pstate_cnt;
	uint32_t pm1a_evt_blk, pm1b_evt_blk;
	uint32_t pm1a_cnt_blk, pm1b_cnt_blk;
	uint32_t pm2_cnt_blk;
	uint32_t pm_tmr_blk;
	uint32_t gpe0_blk, gpe1_blk;
	uint8_t pm1_evt_len, pm1_cnt_len, pm2_cnt_len, pm_tmr_len;
	uint8_t gpe0_blk_len, gpe1_blk_len, gpe1_base, cst_cnt;
	uint16_t p_lvl2_lat, p_lvl3_lat;
	uint16_t flush_size, flush_stride;
	uint8_t duty_offset, duty_width, day_alrm, mon_alrm, century;
	uint16_t iapc_boot_arch;
	uint8_t reserved1;
	uint32_t flags;
	struct acpi_gas reset_reg;
	uint8_t reset_value;
	uint16_t arm_boot_arch;
	uint8_t minor_version;
	uint64_t x_firmware_ctrl;
	uint64_t x_dsdt;
	struct acpi_gas x_pm1a_evt_blk, x_pm1b_evt_blk;
	struct acpi_gas x_pm1a_cnt_blk, x_pm1b_cnt_blk;
	struct acpi_gas x_pm2_cnt_blk;
	struct acpi_gas x_pm_tmr_blk;
	struct acpi_gas x_gpe0_blk, x_gpe1_blk;
	struct acpi_gas sleep_control_reg, sleep_status_reg;
	uint64_t hypervisor_vendor_id;
} PACKED;
compile_assert(sizeof(struct acpi_fadt) == 276, "FADT (6.5) is 276 bytes");
compile_assert(offsetof(struct acpi_fadt, pm_tmr_blk) == 76, "FADT PM_TMR_BLK offset");
compile_assert(offsetof(struct acpi_fadt, flags) == 112, "FADT Flags offset");
compile_assert(offsetof(struct acpi_fadt, reset_reg) == 116, "FADT RESET_REG offset");
compile_assert(offsetof(struct acpi_fadt, x_dsdt) == 140, "FADT X_DSDT offset");
compile_assert(offsetof(struct acpi_fadt, x_pm1a_cnt_blk) == 172, "FADT X_PM1a_CNT_BLK offset");
compile_assert(offsetof(struct acpi_fadt, x_pm_tmr_blk) == 208, "FADT X_PM_TMR_BLK offset");

#define ACPI_FADT_V1_LEN        offsetof(struct acpi_fadt, reset_reg)
#define ACPI_FADT_RESET_END     (offsetof(struct acpi_fadt, reset_value) + 1)
#define ACPI_FADT_TMR_VAL_EXT   (1u << 8)
#define ACPI_FADT_RESET_REG_SUP (1u << 10)

/* AML opcodes the _S5_ decoder understands (ACPI 6.5, 20.2). */
#define AML_ZERO_OP    0x00
#define AML_ONE_OP     0x01
#define AML_BYTE_PREFIX 0x0a
#define AML_PACKAGE_OP 0x12
#define AML_ONES_OP    0xff

/* ---- checks shared by all tables ----------------------------------------- */

static uint8_t acpi_sum(const uint8_t *p, size_t len)
{
	uint8_t sum = 0;

	for (size_t i = 0; i < len; i++)
		sum = (uint8_t)(sum + p[i]);
	return sum;
}

/* A printable copy of a 4-byte signature, for messages (firmware bytes may be anything). */
struct acpi_sig_text {
	char s[5];
};

static struct acpi_sig_text acpi_sig_text(const char sig[4])
{
	struct acpi_sig_text t;

	for (int i = 0; i < 4; i++)
		t.s[i] = (sig[i] >= 0x20 && sig[i] < 0x7f) ? sig[i] : '?';
	t.s[4] = '\0';
	return t;
}

static unsigned long long acpi_ull(uint64_t v)
{
	return (unsigned long long)v;
}

/*
 * Map the table at maddr whole and check it (see the top of the file):
 * signature sig, min_len <= length <= ACPI_TABLE_MAX_LEN, every byte mapped,
 * checksum zero. Returns the mapping and sets *len, or prints why and returns NULL.
 */
static const uint8_t *acpi_table_map(maddr_t maddr, const char *sig, size_t min_len,
				     uint32_t *len)
{
	const struct acpi_header *mapped = maddr_to_virt(maddr, sizeof(*mapped));
	struct acpi_header h;

	if (!mapped) {
		printk("ACPI: %s at 0x%llx: header not in mapped memory", sig, acpi_ull(maddr));
		return NULL;
	}
	__builtin_memcpy(&h, mapped, sizeof(h));
	if (__builtin_memcmp(h.signature, sig, 4) != 0) {
		printk("ACPI: %s at 0x%llx: signature is \"%s\"", sig, acpi_ull(maddr),
		       acpi_sig_text(h.signature).s);
		return NULL;
	}
	if (h.length < min_len || h.length > ACPI_TABLE_MAX_LEN) {
		printk("ACPI: %s at 0x%llx: length %u outside %zu..%u", sig, acpi_ull(maddr),
		       h.length, min_len, ACPI_TABLE_MAX_LEN);
		return NULL;
	}
	const uint8_t *t = maddr_to_virt(maddr, h.length);
	if (!t) {
		printk("ACPI: %s at 0x%llx: length %u runs outside mapped memory", sig,
		       acpi_ull(maddr), h.length);
		return NULL;
	}
	if (acpi_sum(t, h.length) != 0) {
		printk("ACPI: %s at 0x%llx: bad checksum", sig, acpi_ull(maddr));
		return NULL;
	}
	*len = h.length;
	return t;
}

/* ---- RSDP ---------------------------------------------------------------- */

/*
 * Check the RSDP at maddr and copy it to *out (zeros past 20 bytes for
 * revision < 2). Returns NULL when valid, else what is wrong with it.
 */
static const char *acpi_rsdp_check(maddr_t maddr, struct acpi_rsdp *out)
{
	const uint8_t *v1 = maddr_to_virt(maddr, ACPI_RSDP_V1_LEN);

	__builtin_memset(out, 0, sizeof(*out));
	if (!v1)
		return "not in mapped memory";
	if (__builtin_memcmp(v1, "RSD PTR ", 8) != 0)
		return "no \"RSD PTR \" signature";
	if (acpi_sum(v1, ACPI_RSDP_V1_LEN) != 0)
		return "bad checksum";
	__builtin_memcpy(out, v1, ACPI_RSDP_V1_LEN);
	if (out->revision < 2)
		return NULL;

	const uint8_t *v2 = maddr_to_virt(maddr, sizeof(*out));
	if (!v2)
		return "revision 2 part not in mapped memory";
	__builtin_memcpy(out, v2, sizeof(*out));
	if (out->length < sizeof(*out) || out->length > ACPI_RSDP_MAX_LEN)
		return "bad extended length";
	const uint8_t *all = maddr_to_virt(maddr, out->length);
	if (!all)
		return "extended length runs outside mapped memory";
	if (acpi_sum(all, out->length) != 0)
		return "bad extended checksum";
	return NULL;
}

uint64_t acpi_find_rsdp(uint64_t start_maddr, uint64_t end_maddr)
{
	struct acpi_rsdp rsdp;

	if (start_maddr > UINT64_MAX - 15)
		return 0;
	/* a < end and end - a >= 20 also keep a += 16 from wrapping. */
	for (maddr_t a = (start_maddr + 15) & ~(maddr_t)15;
	     a < end_maddr && end_maddr - a >= ACPI_RSDP_V1_LEN; a += 16) {
		const void *sig = maddr_to_virt(a, 8);
		if (!sig || __builtin_memcmp(sig, "RSD PTR ", 8) != 0)
			continue;
		const char *why = acpi_rsdp_check(a, &rsdp);
		if (!why)
			return a;
		printk("ACPI: RSDP candidate at 0x%llx skipped: %s", acpi_ull(a), why);
	}
	return 0;
}

/* ---- MADT ---------------------------------------------------------------- */

static bool acpi_cpu_known(const struct acpi_info *out, uint32_t apic_id)
{
	for (unsigned i = 0; i < out->nr_cpus; i++)
		if (out->cpus[i].apic_id == apic_id)
			return true;
	return false;
}

/*
 * Record a CPU. Usable means enabled, or online capable (MADT revision >= 5;
 * the bit is reserved before that); an unusable entry is ignored, as the spec
 * asks. Duplicate APIC ids (firmware that lists a CPU as both xAPIC and
 * x2APIC, or a hostile table) keep the first entry.
 */
static void acpi_add_cpu(struct acpi_info *out, uint32_t apic_id, uint32_t uid,
			 uint32_t flags, bool x2apic, uint8_t madt_rev)
{
	bool enabled = flags & ACPI_MADT_ENABLED;
	bool capable = madt_rev >= ACPI_MADT_REV_ONLINE_CAP && (flags & ACPI_MADT_ONLINE_CAPABLE);

	if (!enabled && !capable)
		return;
	if (acpi_cpu_known(out, apic_id)) {
		printk("ACPI: APIC: duplicate CPU with APIC id %u skipped", apic_id);
		return;
	}
	if (out->nr_cpus == MAX_CPUS) {
		out->nr_cpus_dropped++;
		return;
	}
	out->cpus[out->nr_cpus++] = (struct acpi_cpu){
		.apic_id = apic_id, .uid = uid, .enabled = enabled, .x2apic = x2apic,
	};
	if (enabled)
		out->nr_cpus_enabled++;
}

static void acpi_madt_lapic(const struct acpi_madt_lapic *e, struct acpi_info *out, uint8_t rev)
{
	if (e->apic_id == 0xff) {
		printk("ACPI: APIC: local APIC entry with invalid id 0xff skipped");
		return;
	}
	acpi_add_cpu(out, e->apic_id, e->uid, e->flags, false, rev);
}

static void acpi_madt_x2apic(const struct acpi_madt_x2apic *e, struct acpi_info *out, uint8_t rev)
{
	if (e->x2apic_id == 0xffffffffu) {
		printk("ACPI: APIC: x2APIC entry with invalid id 0xffffffff skipped");
		return;
	}
	acpi_add_cpu(out, e->x2apic_id, e->uid, e->flags, true, rev);
}

static void acpi_madt_ioapic(const struct acpi_madt_ioapic *e, struct acpi_info *out)
{
	if (out->nr_ioapics == ACPI_MAX_IOAPICS) {
		printk("ACPI: APIC: I/O APIC id %u beyond the first %u skipped", e->id,
		       (unsigned)ACPI_MAX_IOAPICS);
		out->nr_ioapics_dropped++;
		return;
	}
	out->ioapics[out->nr_ioapics++] = (struct acpi_ioapic){
		.id = e->id, .maddr = e->address, .gsi_base = e->gsi_base,
	};
}

static void acpi_madt_override(const struct acpi_madt_override *e, struct acpi_info *out)
{
	if (out->nr_overrides == ACPI_MAX_OVERRIDES) {
		printk("ACPI: APIC: override of IRQ %u beyond the first %u skipped", e->source,
		       (unsigned)ACPI_MAX_OVERRIDES);
		out->nr_overrides_dropped++;
		return;
	}
	out->overrides[out->nr_overrides++] = (struct acpi_irq_override){
		.bus = e->bus, .source = e->source, .gsi = e->gsi, .flags = e->flags,
	};
}

/* The fixed size of the entry types we read, 0 for the types we ignore. */
static size_t acpi_madt_entry_size(uint8_t type)
{
	switch (type) {
	case ACPI_MADT_LAPIC:      return sizeof(struct acpi_madt_lapic);
	case ACPI_MADT_IOAPIC:     return sizeof(struct acpi_madt_ioapic);
	case ACPI_MADT_OVERRIDE:   return sizeof(struct acpi_madt_override);
	case ACPI_MADT_LAPIC_ADDR: return sizeof(struct acpi_madt_lapic_addr);
	case ACPI_MADT_X2APIC:     return sizeof(struct acpi_madt_x2apic);
	default:                   return 0;
	}
}

/*
 * One entry, elen bytes at e (already checked to lie inside the table).
 * Copied into a local union first: entries are not aligned, and one longer
 * than we know (a later revision) is read for its known part only.
 */
static void acpi_madt_entry(const uint8_t *e, uint8_t elen, struct acpi_info *out, uint8_t rev)
{
	union {
		struct acpi_madt_lapic lapic;
		struct acpi_madt_ioapic ioapic;
		struct acpi_madt_override ovr;
		struct acpi_madt_lapic_addr addr;
		struct acpi_madt_x2apic x2apic;
	} u;
	size_t need = acpi_madt_entry_size(e[0]);

	if (need == 0)
		return;
	if (elen < need) {
		printk("ACPI: APIC: entry type %u has length %u, needs %zu: skipped", e[0], elen, need);
		return;
	}
	__builtin_memcpy(&u, e, need);
	switch (e[0]) {
	case ACPI_MADT_LAPIC:      acpi_madt_lapic(&u.lapic, out, rev); break;
	case ACPI_MADT_IOAPIC:     acpi_madt_ioapic(&u.ioapic, out); break;
	case ACPI_MADT_OVERRIDE:   acpi_madt_override(&u.ovr, out); break;
	case ACPI_MADT_LAPIC_ADDR: out->lapic_maddr = u.addr.address; break;
	case ACPI_MADT_X2APIC:     acpi_madt_x2apic(&u.x2apic, out, rev); break;
	}
}

/*
 * Walk the entries after the fixed part. An entry whose length is below 2
 * (it would not advance) or runs past the table's end leaves no way to find
 * the next one: the walk stops there, keeping what came before.
 */
static void acpi_parse_madt(const uint8_t *t, uint32_t len, struct acpi_info *out)
{
	struct acpi_madt m;
	uint32_t off = sizeof(m);

	__builtin_memcpy(&m, t, sizeof(m));
	out->has_madt = true;
	out->lapic_maddr = m.lapic_address;
	out->pcat_compat = m.flags & ACPI_MADT_PCAT_COMPAT;
	while (off < len) {
		uint32_t left = len - off;
		if (left < 2) {
			printk("ACPI: APIC: stray byte at offset %u ignored", off);
			return;
		}
		uint8_t elen = t[off + 1];
		if (elen < 2 || elen > left) {
			printk("ACPI: APIC: entry type %u at offset %u has length %u (%u bytes left): "
			       "rest of table ignored", t[off], off, elen, left);
			return;
		}
		acpi_madt_entry(t + off, elen, out, m.h.revision);
		off += elen;
	}
}

/* ---- DSDT: \_S5_ --------------------------------------------------------- */

/*
 * AML PkgLength at p (avail bytes): the lead byte's bits 7:6 count the bytes
 * that follow (0-3). With none, bits 5:0 are the length; otherwise bits 3:0
 * are its low nibble and each following byte adds 8 more bits. The length
 * counts from the lead byte. Sets *hdr to the encoding's size.
 */
static bool acpi_aml_pkg_length(const uint8_t *p, size_t avail, size_t *hdr, size_t *len)
{
	if (avail < 1)
		return false;
	size_t follow = p[0] >> 6;
	if (avail < 1 + follow)
		return false;
	*len = follow ? (p[0] & 0x0fu) : (p[0] & 0x3fu);
	for (size_t i = 1; i <= follow; i++)
		*len |= (size_t)p[i] << (4 + 8 * (i - 1));
	*hdr = 1 + follow;
	return *len >= *hdr;
}

/* One package element that must be a byte-sized constant; advances *pos. */
static bool acpi_aml_byte(const uint8_t *p, size_t end, size_t *pos, uint8_t *val)
{
	if (*pos >= end)
		return false;
	switch (p[*pos]) {
	case AML_ZERO_OP:
	case AML_ONE_OP:
	case AML_ONES_OP:
		*val = p[(*pos)++];
		return true;
	case AML_BYTE_PREFIX:
		if (*pos + 1 >= end)
			return false;
		*val = p[*pos + 1];
		*pos += 2;
		return true;
	default:
		return false;
	}
}

/*
 * Decode the package whose PkgLength starts at p (avail bytes to the DSDT's
 * end): NumElements >= 2, then SLP_TYPa and SLP_TYPb. The package must fit in
 * the DSDT, and the elements in the package.
 */
static bool acpi_s5_decode(const uint8_t *p, size_t avail, struct acpi_info *out)
{
	size_t pos, end;
	uint8_t a, b;

	if (!acpi_aml_pkg_length(p, avail, &pos, &end) || end > avail)
		return false;
	if (pos >= end || p[pos] < 2)
		return false;
	pos++;
	if (!acpi_aml_byte(p, end, &pos, &a) || !acpi_aml_byte(p, end, &pos, &b))
		return false;
	out->slp_typa = a;
	out->slp_typb = b;
	return true;
}

/*
 * Find Name(_S5_, Package(){...}) by its bytes: "_S5_" then PackageOp. This
 * is a byte search, not an AML parse: it can be fooled by a table built to
 * fool it, which costs a wrong sleep type, never a read outside the DSDT.
 */
static void acpi_find_s5(maddr_t dsdt, struct acpi_info *out)
{
	uint32_t len;
	const uint8_t *t;

	if (!dsdt) {
		printk("ACPI: FACP: no DSDT address, no S5");
		return;
	}
	t = acpi_table_map(dsdt, "DSDT", sizeof(struct acpi_header), &len);
	if (!t)
		return;
	for (size_t i = sizeof(struct acpi_header); len - i >= 5; i++) {
		if (__builtin_memcmp(t + i, "_S5_", 4) != 0 || t[i + 4] != AML_PACKAGE_OP)
			continue;
		if (acpi_s5_decode(t + i + 5, len - i - 5, out)) {
			out->has_s5 = true;
			return;
		}
		printk("ACPI: DSDT: _S5_ package at offset %zu not understood", i);
	}
	printk("ACPI: DSDT: no usable _S5_ package, no S5");
}

/* ---- FADT ---------------------------------------------------------------- */

/*
 * An I/O port from the X_ GAS when it is present and in I/O space, else from
 * the 32-bit legacy field. 0 means none; a value above 0xffff is no port.
 */
static uint16_t acpi_fadt_port(const struct acpi_gas *x, uint32_t legacy, const char *what)
{
	if (x->address && x->space_id == ACPI_SPACE_IO && x->address <= 0xffff)
		return (uint16_t)x->address;
	if (legacy <= 0xffff)
		return (uint16_t)legacy;
	printk("ACPI: FACP: %s 0x%x is not an I/O port, ignored", what, legacy);
	return 0;
}

static void acpi_fadt_reset(const struct acpi_fadt *f, uint32_t len, struct acpi_info *out)
{
	if (len < ACPI_FADT_RESET_END || !(f->flags & ACPI_FADT_RESET_REG_SUP) ||
	    !f->reset_reg.address)
		return;
	out->has_reset = true;
	out->reset_reg = (struct acpi_reg){
		.space_id = f->reset_reg.space_id,
		.bit_width = f->reset_reg.bit_width,
		.bit_offset = f->reset_reg.bit_offset,
		.access_size = f->reset_reg.access_size,
		.address = f->reset_reg.address,
	};
	out->reset_value = f->reset_value;
}

static void acpi_parse_fadt(const uint8_t *t, uint32_t len, struct acpi_info *out)
{
	struct acpi_fadt f;

	/* Zero-extended copy: fields past an older FADT's end read as absent. */
	__builtin_memset(&f, 0, sizeof(f));
	__builtin_memcpy(&f, t, len < sizeof(f) ? len : sizeof(f));
	out->has_fadt = true;
	out->pm1a_cnt_port = acpi_fadt_port(&f.x_pm1a_cnt_blk, f.pm1a_cnt_blk, "PM1a_CNT_BLK");
	out->pm1b_cnt_port = acpi_fadt_port(&f.x_pm1b_cnt_blk, f.pm1b_cnt_blk, "PM1b_CNT_BLK");
	out->pm_timer_port = acpi_fadt_port(&f.x_pm_tmr_blk, f.pm_tmr_blk, "PM_TMR_BLK");
	out->pm_timer_32bit = out->pm_timer_port && (f.flags & ACPI_FADT_TMR_VAL_EXT);
	out->dsdt_maddr = f.x_dsdt ? f.x_dsdt : f.dsdt;
	acpi_fadt_reset(&f, len, out);
	acpi_find_s5(out->dsdt_maddr, out);
}

/* ---- RSDT / XSDT --------------------------------------------------------- */

/* Look at the table an RSDT/XSDT entry points to; parse the first good MADT and FADT. */
static void acpi_visit(maddr_t maddr, struct acpi_info *out)
{
	const struct acpi_header *h;
	uint32_t len;
	char sig[4];
	const uint8_t *t;

	if (!maddr) {
		printk("ACPI: null table pointer skipped");
		return;
	}
	h = maddr_to_virt(maddr, sizeof(*h));
	if (!h) {
		printk("ACPI: table pointer 0x%llx not in mapped memory, skipped", acpi_ull(maddr));
		return;
	}
	__builtin_memcpy(sig, h->signature, 4);
	if (!out->has_madt && __builtin_memcmp(sig, "APIC", 4) == 0) {
		t = acpi_table_map(maddr, "APIC", sizeof(struct acpi_madt), &len);
		if (t)
			acpi_parse_madt(t, len, out);
	} else if (!out->has_fadt && __builtin_memcmp(sig, "FACP", 4) == 0) {
		t = acpi_table_map(maddr, "FACP", ACPI_FADT_V1_LEN, &len);
		if (t)
			acpi_parse_fadt(t, len, out);
	}
}

static uint64_t acpi_root_entry(const uint8_t *p, size_t size)
{
	uint32_t e32;
	uint64_t e64;

	if (size == 4) {
		__builtin_memcpy(&e32, p, 4);
		return e32;
	}
	__builtin_memcpy(&e64, p, 8);
	return e64;
}

static int acpi_walk_root(const struct acpi_rsdp *rsdp, struct acpi_info *out)
{
	bool x = rsdp->revision >= 2 && rsdp->xsdt_address != 0;
	const char *sig = x ? "XSDT" : "RSDT";
	maddr_t root = x ? rsdp->xsdt_address : rsdp->rsdt_address;
	size_t esize = x ? 8 : 4;
	uint32_t len;
	const uint8_t *t;

	out->used_xsdt = x;
	if (!root) {
		printk("ACPI: RSDP has no %s address", sig);
		return -VIREO_EINVAL;
	}
	t = acpi_table_map(root, sig, sizeof(struct acpi_header), &len);
	if (!t)
		return -VIREO_EINVAL;
	if ((len - sizeof(struct acpi_header)) % esize != 0) {
		printk("ACPI: %s: length %u is not a whole number of %zu-byte entries", sig, len, esize);
		return -VIREO_EINVAL;
	}
	for (size_t off = sizeof(struct acpi_header); off < len; off += esize)
		acpi_visit(acpi_root_entry(t + off, esize), out);
	if (!out->has_madt) {
		printk("ACPI: no usable APIC table (MADT)");
		return -VIREO_ENOENT;
	}
	return 0;
}

int acpi_parse(uint64_t rsdp_maddr, struct acpi_info *out)
{
	struct acpi_rsdp rsdp;
	const char *why;

	__builtin_memset(out, 0, sizeof(*out));
	why = acpi_rsdp_check(rsdp_maddr, &rsdp);
	if (why) {
		printk("ACPI: RSDP at 0x%llx: %s", acpi_ull(rsdp_maddr), why);
		return -VIREO_EINVAL;
	}
	out->revision = rsdp.revision;
	return acpi_walk_root(&rsdp, out);
}

/* ---- summary ------------------------------------------------------------- */

void acpi_print(const struct acpi_info *info)
{
	printk("ACPI: revision %u via %s; %u CPUs (%u enabled), local APIC at 0x%llx",
	       info->revision, info->used_xsdt ? "XSDT" : "RSDT", info->nr_cpus,
	       info->nr_cpus_enabled, acpi_ull(info->lapic_maddr));
	if (info->nr_cpus_dropped)
		printk("ACPI: %u more CPUs ignored (MAX_CPUS is %u)", info->nr_cpus_dropped,
		       (unsigned)MAX_CPUS);
	for (unsigned i = 0; i < info->nr_ioapics; i++)
		printk("ACPI: I/O APIC id %u at 0x%x, GSI base %u", info->ioapics[i].id,
		       info->ioapics[i].maddr, info->ioapics[i].gsi_base);
	printk("ACPI: %u interrupt source overrides", info->nr_overrides);
	if (info->pm_timer_port)
		printk("ACPI: PM timer at port 0x%x, %u-bit", info->pm_timer_port,
		       info->pm_timer_32bit ? 32 : 24);
	else
		printk("ACPI: no PM timer");
	if (info->has_s5)
		printk("ACPI: S5 SLP_TYPa %u SLP_TYPb %u, PM1a_CNT port 0x%x", info->slp_typa,
		       info->slp_typb, info->pm1a_cnt_port);
	else
		printk("ACPI: no S5 sleep type: cannot power off through ACPI");
}
