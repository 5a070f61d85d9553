/*
 * boot_main: from the 64-bit entry to a running machine.
 *
 *   console -> boot information -> command line -> page tables -> CPU tables
 *   -> TSC -> ACPI -> memory (frame allocator, heap) -> local APIC and timer
 *   -> the other CPUs -> banner -> self-tests, benchmarks -> domains.
 *
 * The domains come from a configuration module, or else the first module is
 * the initial domain (start_domains). With no module at all, the machine
 * stops with EXIT_OK once the self-tests and benchmarks asked for are done;
 * a domain (or configuration) that is refused makes the status
 * EXIT_NOT_STARTED unless one that ran crashed.
 */
#include <arch/apic.h>
#include <arch/bootinfo.h>
#include <arch/cpu.h>
#include <arch/image_bench.h>
#include <arch/layout.h>
#include <arch/machine_image.h>
#include <arch/paging.h>
#include <arch/percpu.h>
#include <arch/serial.h>
#include <arch/traps.h>
#include <core/acpi.h>
#include <core/cmdline.h>
#include <core/config.h>
#include <core/domain.h>
#include <mm/frame_alloc.h>
#include <mm/frame_table.h>
#include <mm/memmap.h>
#include <vireo/printk.h>

#define VIREO_VERSION "0.1"

static struct boot_info bootinfo;
static struct boot_options opts;
static struct acpi_info acpi;
static struct memmap usable;
static uint64_t ram_bytes;        /* RAM the memory map reports */

extern const uint64_t image_phys_range[2];   /* boot.S: [start, end) of the image in RAM */

NORETURN void boot_main(uint32_t magic, uint32_t info);

/* QEMU's -kernel and GRUB put the image's file name first on a Multiboot command line. */
static const char *skip_image_name(const char *s)
{
	const char *p = s;
	bool path = false;
	while (*p && *p != ' ') {
		if (*p == '/' || *p == '=')
			path = *p == '/';
		p++;
	}
	if (!path && !(p - s > 4 && __builtin_memcmp(p - 4, ".elf", 4) == 0))
		return s;
	while (*p == ' ')
		p++;
	return p;
}

static bool under_qemu(void)
{
	struct cpuid_regs r = cpuid(0x40000000, 0);
	char sig[13];
	__builtin_memcpy(sig, &r.b, 4);
	__builtin_memcpy(sig + 4, &r.c, 4);
	__builtin_memcpy(sig + 8, &r.d, 4);
	sig[12] = 0;
	return !__builtin_memcmp(sig, "TCGTCGTCGTCG", 12) || !__builtin_memcmp(sig, "KVMKVMKVM\0\0\0", 12);
}

/*
 * The legacy 8259 PICs: the BIOS leaves IRQ 0 on vector 8, where it would
 * look like a double fault. Move them to vectors 0x20-0x2F, then mask them
 * all; Vireo takes interrupts through the local APIC only.
 */
static void pic_disable(void)
{
	outb(0x20, 0x11); outb(0xA0, 0x11);       /* ICW1: init, ICW4 follows */
	outb(0x21, 0x20); outb(0xA1, 0x28);       /* ICW2: vector bases */
	outb(0x21, 0x04); outb(0xA1, 0x02);       /* ICW3: cascade on IRQ 2 */
	outb(0x21, 0x01); outb(0xA1, 0x01);       /* ICW4: 8086 mode */
	outb(0x21, 0xFF); outb(0xA1, 0xFF);       /* mask everything */
}

/* RAM from the memory map, minus low memory, the image, the modules and firmware. */
static void memory_init(void)
{
	uint64_t top = 0;
	for (unsigned i = 0; i < bootinfo.nr_mmap; i++) {
		const struct boot_mmap_entry *e = &bootinfo.mmap[i];
		if (e->type == E820_RAM && e->addr + e->len > e->addr) {
			memmap_add(&usable, e->addr, e->addr + e->len);
			ram_bytes += e->len;
			if (e->addr + e->len > top)
				top = e->addr + e->len;
		}
	}
	for (unsigned i = 0; i < bootinfo.nr_mmap; i++) {
		const struct boot_mmap_entry *e = &bootinfo.mmap[i];
		if (e->type != E820_RAM && e->addr + e->len > e->addr)
			memmap_remove(&usable, e->addr, e->addr + e->len);
	}
	memmap_remove(&usable, 0, 1ull << 20);                /* BIOS, trampoline */
	memmap_remove(&usable, image_phys_range[0], image_phys_range[1]);
	for (unsigned i = 0; i < bootinfo.nr_modules; i++)
		if (memmap_remove(&usable, bootinfo.modules[i].start & PAGE_MASK,
				  (bootinfo.modules[i].end + PAGE_SIZE - 1) & PAGE_MASK) != 0)
			panic("memory: cannot keep boot module %u out of the allocator", i);
	uint64_t mapped = paging_directmap_limit();
	if (top > mapped) {
		printk("memory: RAM above %llu MiB is not in the direct map; not used\n",
		       (unsigned long long)(mapped >> 20));
		memmap_remove(&usable, mapped, UINT64_MAX);
		top = mapped;
	}
	machine.nr_frames = top >> PAGE_SHIFT;
	int rc = frame_alloc_init(&usable);
	if (rc)
		panic("memory: frame allocator refused the memory map (%d)", rc);
	/* The frame table and M2P: 24 bytes a frame. Firmware ranges are I/O to the rules. */
	rc = frame_table_init(machine.nr_frames);
	if (rc)
		panic("memory: no room for the frame table of %llu frames (%d)",
		      (unsigned long long)machine.nr_frames, rc);
	paging_map_m2p(machine_to_phys, frame_table_frames);
	for (unsigned i = 0; i < bootinfo.nr_mmap; i++) {
		const struct boot_mmap_entry *e = &bootinfo.mmap[i];
		if (e->type != E820_RAM && e->addr + e->len > e->addr)
			frame_table_mark_io(e->addr >> PAGE_SHIFT, (e->addr + e->len + PAGE_SIZE - 1) >> PAGE_SHIFT);
	}
}

/*
 * A page for the AP start-up code: below 1 MiB (a start-up IPI names a page
 * there), RAM in the memory map, and clear of every module (GRUB on UEFI puts
 * modules in low memory). 0 when there is none: then only CPU 0 runs.
 */
static uint32_t trampoline_page_find(void)
{
	for (uint32_t page = 0x1000; page < 0x9F000; page += PAGE_SIZE) {
		bool ram = false, taken = false;
		for (unsigned i = 0; i < bootinfo.nr_mmap; i++) {
			const struct boot_mmap_entry *e = &bootinfo.mmap[i];
			if (e->type == E820_RAM && e->addr <= page && e->addr + e->len >= page + PAGE_SIZE)
				ram = true;
			else if (e->type != E820_RAM && e->addr < page + PAGE_SIZE && e->addr + e->len > page)
				taken = true;
		}
		for (unsigned i = 0; i < bootinfo.nr_modules; i++) {
			const struct boot_module *m = &bootinfo.modules[i];
			if (m->start < page + PAGE_SIZE && m->end > page)
				taken = true;
		}
		if (ram && !taken)
			return page;
	}
	printk("smp: no free RAM page below 1 MiB for the AP start-up code; running on CPU 0 only\n");
	return 0;
}

/*
 * Guests run with the hypervisor's mappings present (supervisor-only), as on
 * Xen before XPTI. A CPU that may leak supervisor data to user mode
 * (Meltdown; not RDCL_NO) lets a guest read other domains: say so.
 */
static void meltdown_warning(void)
{
	struct cpuid_regs v = cpuid(0, 0);
	bool intel = v.b == 0x756e6547;                 /* "Genu" */
	bool has_caps = v.a >= 7 && (cpuid(7, 0).d & (1u << 29));
	bool rdcl_no = has_caps && (rdmsr(0x10A) & 1);
	if (intel && !rdcl_no)
		printk("WARNING: this CPU may be affected by Meltdown (no RDCL_NO), and Vireo has no "
		       "page-table isolation yet: a guest could read other domains' memory\n");
}

static void banner(const char *tsc_how)
{
	printk("Vireo %s: paravirtualizing x86-64 hypervisor\n", VIREO_VERSION);
	printk("  loader      %s\n", bootinfo.loader);
	printk("  command     %s\n", bootinfo.cmdline[0] ? bootinfo.cmdline : "(none)");
	printk("  CPUs        %u up (%u in the MADT), local APIC in %s mode, timer %s\n",
	       nr_cpus_online, acpi.nr_cpus, apic_is_x2apic() ? "x2APIC" : "xAPIC",
	       apic_tsc_deadline() ? "TSC-deadline" : "one-shot");
	printk("  memory      %llu MiB RAM, %llu MiB free for the hypervisor and domains\n",
	       (unsigned long long)(ram_bytes >> 20),
	       (unsigned long long)((frame_nr_free() << PAGE_SHIFT) >> 20));
	printk("  TSC         %llu.%03llu MHz (%s)\n", (unsigned long long)(machine.tsc_khz / 1000),
	       (unsigned long long)(machine.tsc_khz % 1000), tsc_how);
	if (machine.wallclock_base_ns)
		printk("  wall clock  %llu s since 1970 at boot (RTC, taken as UTC)\n",
		       (unsigned long long)(machine.wallclock_base_ns / 1000000000ull));
	printk("  modules     %u\n", bootinfo.nr_modules);
	for (unsigned i = 0; i < bootinfo.nr_modules; i++)
		printk("    [%u] 0x%llx-0x%llx %llu KiB  args: %s\n", i,
		       (unsigned long long)bootinfo.modules[i].start, (unsigned long long)bootinfo.modules[i].end,
		       (unsigned long long)((bootinfo.modules[i].end - bootinfo.modules[i].start) >> 10),
		       bootinfo.modules[i].cmdline[0] ? bootinfo.modules[i].cmdline : "(none)");
	if (bootinfo.nr_modules_dropped)
		printk("    %u more modules ignored (at most %u)\n", bootinfo.nr_modules_dropped, BOOT_MAX_MODULES);
}

static bool is_config_module(const struct boot_module *m)
{
	return !__builtin_memcmp(m->cmdline, "vireo-config", 12);
}

static const void *module_bytes(unsigned i)
{
	const struct boot_module *m = &bootinfo.modules[i];
	return maddr_to_virt(m->start, m->end - m->start);
}

/* A module's tag (the first word of its arguments: vireo-kernel, vireo-ramdisk), or NULL. */
static const char *module_tag(const struct boot_module *m)
{
	if (!__builtin_memcmp(m->cmdline, "vireo-kernel", 12) && (m->cmdline[12] == ' ' || !m->cmdline[12]))
		return "kernel";
	if (!__builtin_memcmp(m->cmdline, "vireo-ramdisk", 13) && (m->cmdline[13] == ' ' || !m->cmdline[13]))
		return "ramdisk";
	return NULL;
}

/*
 * The next boot module that is not a configuration, from *next on, for a
 * domain's `kind` (kernel or ramdisk): its index (and *next moves past
 * it), or -1 when none is left. Modules are taken in order, but a tagged
 * one (./vireo run and ./vireo image tag them) must be of that kind: a
 * kernel where a ramdisk is due is left for the next domain (-1), and a
 * ramdisk where a kernel is due is taken and -2 returned (this domain's
 * kernel line is missing: the domain is refused, not given the next
 * domain's kernel), so one missing line of a boot loader's entry does not
 * shift every later domain.
 */
static int next_domain_module(unsigned *next, const char *kind)
{
	for (;;) {
		while (*next < bootinfo.nr_modules && is_config_module(&bootinfo.modules[*next]))
			(*next)++;
		if (*next >= bootinfo.nr_modules)
			return -1;
		const char *tag = module_tag(&bootinfo.modules[*next]);
		if (!tag || !__builtin_strcmp(tag, kind))
			return (int)(*next)++;
		if (!__builtin_strcmp(kind, "ramdisk"))
			return -1;                         /* the next domain's kernel: leave it */
		(*next)++;
		return -2;                                 /* this domain's ramdisk: its kernel is missing */
	}
}

static size_t module_len(int i)
{
	return bootinfo.modules[i].end - bootinfo.modules[i].start;
}

/*
 * With a configuration (a module whose command line says vireo-config), its
 * [domain] entries become domains 0, 1, ...: the modules that are not a
 * configuration, in boot-loader order, are each domain's kernel and then,
 * when the entry has a 'ramdisk', its ramdisk (what ./vireo run and ./vireo
 * image pass). A domain that cannot be built is reported and the others
 * still start. The first domain is the privileged, initial one.
 */
static struct config boot_config;
compile_assert(BOOT_MAX_MODULES >= 1 + 2 * CONFIG_MAX_DOMAINS,
	       "a module for the configuration, a kernel and a ramdisk for every domain");

static unsigned start_configured_domains(const struct boot_module *cfg_mod, const void *text,
					 unsigned *refused)
{
	unsigned built = 0, next = 0;
	*refused = 1;
	if (config_parse(text, cfg_mod->end - cfg_mod->start, "vireo.cfg", &boot_config) != 0) {
		printk("config: the configuration is refused; no domain started\n");
		return 0;
	}
	*refused = boot_config.nr_domains;
	for (unsigned i = 0; i < boot_config.nr_domains; i++) {
		const struct config_domain *cd = &boot_config.domains[i];
		if (i >= MAX_DOMAINS) {
			printk("domain %u (%s): more than %u domains; not started\n", i, cd->name, MAX_DOMAINS);
			continue;
		}
		int kernel = next_domain_module(&next, "kernel");
		int ramdisk = kernel >= 0 && cd->ramdisk[0] ? next_domain_module(&next, "ramdisk") : -1;
		if (kernel == -2) {
			printk("domain %u (%s): a module tagged vireo-ramdisk is where its kernel %s is due "
			       "(its kernel line is missing?); not started\n", i, cd->name, cd->kernel);
			continue;                          /* that module was its ramdisk: taken */
		}
		if (kernel < 0) {
			printk("domain %u (%s): no boot module carries its kernel %s; not started\n",
			       i, cd->name, cd->kernel);
			continue;
		}
		if (cd->ramdisk[0] && ramdisk < 0) {
			printk("domain %u (%s): no boot module carries its ramdisk %s; not started\n",
			       i, cd->name, cd->ramdisk);
			continue;
		}
		const void *image = module_bytes(kernel);
		const void *initrd = ramdisk >= 0 ? module_bytes(ramdisk) : NULL;
		if (!image) {
			printk("domain %u (%s): its kernel module lies outside the memory the hypervisor "
			       "maps; not started\n", i, cd->name);
			continue;
		}
		if (ramdisk >= 0 && !initrd) {
			printk("domain %u (%s): its ramdisk module lies outside the memory the hypervisor "
			       "maps; not started\n", i, cd->name);
			continue;
		}
		/* Read and checked, but not there yet: said, not ignored. */
		if (cd->weight != 256 || cd->warp_us)
			printk("domain %u (%s): weight and warp have no effect yet (no scheduler: a "
			       "domain keeps its CPU until it ends)\n", i, cd->name);
		if (image && domain_build(i, cd->name, image, module_len(kernel), initrd,
					  initrd ? module_len(ramdisk) : 0, cd->cmdline,
					  cd->memory_mib << 20, i == 0, cd->vcpus) == 0)
			built++;
	}
	*refused -= built;
	return built;
}

/*
 * Without a configuration, the first module is the initial, privileged
 * domain, as on Xen, with dom0_mem= (default 64 MiB) of memory, and the
 * second, if there is one, its initrd (Xen's dom0 convention too). Runs
 * them (no return) when any could be built; else returns how many were
 * refused (0: none was asked for).
 */
static unsigned start_domains(void)
{
	uint64_t mem = opts.dom0_mem_bytes ? opts.dom0_mem_bytes : (64ull << 20);
	unsigned built = 0, refused = 1;

	for (unsigned i = 0; i < bootinfo.nr_modules; i++) {
		if (!is_config_module(&bootinfo.modules[i]))
			continue;
		const void *text = module_bytes(i);
		if (text)
			built = start_configured_domains(&bootinfo.modules[i], text, &refused);
		else
			printk("config: the configuration module lies outside the memory the hypervisor "
			       "maps; no domain started\n");
		if (built)
			domains_run(refused);
		return refused;                            /* a configuration with no domain: 0 */
	}
	if (bootinfo.nr_modules == 0)
		return 0;
	const struct boot_module *m = &bootinfo.modules[0];
	const void *image = module_bytes(0);
	const void *initrd = bootinfo.nr_modules > 1 ? module_bytes(1) : NULL;
	if (bootinfo.nr_modules > 1 && !initrd) {
		printk("domain 0 (dom0): its initrd module lies outside the memory the hypervisor "
		       "maps; not started\n");
		return 1;
	}
	/* Xen gives dom0 a vCPU per CPU by default; here it is one unless dom0_max_vcpus says (no scheduler yet). */
	unsigned vcpus = opts.dom0_max_vcpus ? opts.dom0_max_vcpus : 1;
	if (vcpus > MAX_VCPUS) {
		printk("domain 0: dom0_max_vcpus = %u is more than a domain may have; %u\n", vcpus, MAX_VCPUS);
		vcpus = MAX_VCPUS;
	}
	if (!image)
		printk("domain 0 (dom0): its kernel module lies outside the memory the hypervisor maps; "
		       "not started\n");
	if (image && domain_build(0, "dom0", image, module_len(0), initrd, initrd ? module_len(1) : 0,
				  m->cmdline, mem, true, vcpus) == 0)
		domains_run(0);
	return 1;
}

static void selftest(const char *name)
{
	if (!__builtin_strcmp(name, "exception")) {
		printk("selftest: a deliberate page fault in the hypervisor follows\n");
		*(volatile uint64_t *)0x10 = 1;           /* unmapped: #PF, dump, panic */
	} else if (!__builtin_strcmp(name, "write-text")) {
		printk("selftest: writing to the hypervisor's own code (W^X) follows\n");
		*(volatile uint8_t *)(uintptr_t)selftest = 0xC3;
	} else if (!__builtin_strcmp(name, "exec-data")) {
		static uint8_t data_ret = 0xC3;           /* "ret", in a non-executable page */
		printk("selftest: executing the hypervisor's data (W^X) follows\n");
		((void (*)(void))(uintptr_t)&data_ret)();
	} else if (!__builtin_strcmp(name, "panic")) {
		panic("selftest: deliberate panic");
	} else if (!__builtin_strcmp(name, "tlb-flush")) {
		if (!smp_tlb_flush_selftest())
			panic("selftest: remote TLB flushes failed");
	} else {
		printk("selftest: unknown self-test '%s' (known: exception, write-text, exec-data, panic, "
		       "tlb-flush)\n", name);
	}
}

NORETURN void boot_main(uint32_t magic, uint32_t info)
{
	serial_init(0x3F8, 115200);
	if (bootinfo_parse(magic, info, &bootinfo) != 0)
		panic("boot: cannot continue without boot information");
	if (!__builtin_strcmp(bootinfo.loader, "multiboot1") || !__builtin_strcmp(bootinfo.loader, "multiboot2"))
		bootinfo.cmdline = skip_image_name(bootinfo.cmdline);
	cmdline_parse(bootinfo.cmdline, &opts);
	if (opts.com1_port != 0x3F8 || opts.com1_baud != 115200)
		serial_init(opts.com1_port, opts.com1_baud);
	if (under_qemu())
		machine.debug_exit_port = 0xF4;

	pic_disable();
	paging_init(&bootinfo);
	/* SMEP: the hypervisor never runs code from a page a guest can reach. */
	if (cpuid(7, 0).b & (1u << 7))
		write_cr4(read_cr4() | (1u << 20));
	traps_init();
	percpu[0].cpu_id = 0;
	percpu[0].gdt = boot_cpu_gdt_pages();
	cpu_init_tables(&percpu[0]);

	const char *tsc_how;
	machine.tsc_khz = tsc_calibrate_khz(&tsc_how);
	machine.tsc_at_boot = machine_tsc();
	uint64_t rtc = rtc_unix_seconds();
	if (rtc)
		machine.wallclock_base_ns = rtc * 1000000000ull - machine_now_ns();
	else
		printk("time: the RTC reads as nonsense; guests get no wall clock\n");

	uint64_t rsdp = bootinfo.rsdp ? bootinfo.rsdp : acpi_find_rsdp(0xE0000, 0x100000);
	if (!rsdp || acpi_parse(rsdp, &acpi) != 0)
		printk("acpi: no usable tables; running on the boot CPU only\n");
	else {
		machine.has_s5 = acpi.has_s5;
		machine.pm1a_cnt = (uint16_t)acpi.pm1a_cnt_port;
		machine.pm1b_cnt = (uint16_t)acpi.pm1b_cnt_port;
		machine.slp_typa = acpi.slp_typa;
		machine.slp_typb = acpi.slp_typb;
	}

	memory_init();
	/* The interrupt controllers are the hypervisor's: never I/O frames for a domain. */
	const uint64_t lapic[2] = { rdmsr(MSR_APIC_BASE) & 0xFFFFFF000ull, acpi.lapic_maddr };
	bool denied = true;
	for (unsigned i = 0; i < 2; i++)
		if (lapic[i])
			denied &= frame_table_deny_io(lapic[i] >> PAGE_SHIFT, (lapic[i] >> PAGE_SHIFT) + 1) == 0;
	for (unsigned i = 0; i < acpi.nr_ioapics; i++)
		denied &= frame_table_deny_io(acpi.ioapics[i].maddr >> PAGE_SHIFT,
					      (acpi.ioapics[i].maddr >> PAGE_SHIFT) + 1) == 0;
	if (!denied)
		panic("memory: the I/O deny list is too small for the interrupt controllers");
	if (acpi.nr_ioapics_dropped)
		printk("memory: warning: %u I/O APICs past the MADT parser's limit; the privileged "
		       "domain could map them\n", acpi.nr_ioapics_dropped);
	apic_init_cpu();
	percpu[0].apic_id = apic_id();
	apic_timer_calibrate();
	image_bench_init();
	irq_enable();
	uint32_t ap_page = trampoline_page_find();
	if (ap_page)
		smp_boot(&acpi, opts.max_cpus ? opts.max_cpus : MAX_CPUS, ap_page);
	paging_drop_identity();
	smp_flush_all_tlbs();

	banner(tsc_how);
	meltdown_warning();
	if (opts.mm_count_limit) {
		frame_count_limit = opts.mm_count_limit;
		printk("mm: frame reference counts limited to %u (vireo.mm_count_limit)\n", frame_count_limit);
	}
	if (opts.selftest[0])
		selftest(opts.selftest);
	if (opts.bench)
		image_bench_run();
	unsigned refused = start_domains();
	printk("vireo: no domain to run; stopping\n");
	machine_halt(refused ? EXIT_NOT_STARTED : EXIT_OK);
}
