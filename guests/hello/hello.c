/*
 * hello: the first Vireo PV guest. It prints what the domain builder handed
 * it (start_info), asks the hypervisor its version, checks two refusals
 * every hypervisor of the Xen PV ABI must make, and shuts down.
 *
 *   - an unknown hypercall number returns -ENOSYS (Xen: an empty slot of
 *     the hypercall table);
 *   - console_io with a buffer inside the hypervisor's part of the address
 *     space (Xen's directmap, 0xffff830000000000) returns -EFAULT: a guest
 *     must never make the hypervisor read its own memory on its behalf.
 *
 * With an initrd (start_info mod_len != 0) it reads all of it at mod_start,
 * where the builder mapped it, and prints its length, its FNV-1a checksum
 * and, when it starts with text, its first line, for a test to compare with
 * the file it passed.
 *
 * It shuts down with SHUTDOWN_crash when its command line contains "crash"
 * (to test the crash path) or when a check failed, and with
 * SHUTDOWN_poweroff otherwise.
 */
#include "guest.h"
#include "hypercall.h"

#define UNKNOWN_HYPERCALL 60
#define HYPERVISOR_ADDR   0xffff830000000000ul

static unsigned failures;

static void check(const char *what, long got, long want, const char *name)
{
	if (got == want) {
		console_printf("%s: %ld (%s) ok\n", what, got, name);
	} else {
		console_printf("%s: %ld FAIL (want %ld, %s)\n", what, got, want, name);
		failures++;
	}
}

static void print_start_info(const struct start_info *si, const char *cmdline)
{
	char magic[sizeof(si->magic) + 1];

	memcpy(magic, si->magic, sizeof(si->magic));
	magic[sizeof(si->magic)] = '\0';

	console_printf("start_info at %p:\n", (const void *)si);
	console_printf("  magic        \"%s\"\n", magic);
	console_printf("  nr_pages     %lu (%lu KiB)\n", si->nr_pages, si->nr_pages * 4);
	console_printf("  shared_info  0x%lx (machine address)\n", si->shared_info);
	console_printf("  flags        0x%x\n", si->flags);
	console_printf("  pt_base      0x%lx\n", si->pt_base);
	console_printf("  nr_pt_frames %lu\n", si->nr_pt_frames);
	console_printf("  mfn_list     0x%lx\n", si->mfn_list);
	console_printf("  mod_start    0x%lx mod_len %lu\n", si->mod_start, si->mod_len);
	console_printf("  cmd_line     \"%s\"\n", cmdline);

	if (strcmp(magic, XEN_START_INFO_MAGIC)) {
		console_printf("start_info magic: FAIL (want \"%s\")\n", XEN_START_INFO_MAGIC);
		failures++;
	}
}

/*
 * The initrd: length, 32-bit FNV-1a of every byte (offset basis 2166136261,
 * prime 16777619; ci/vireolib/suites.py computes the same from the file),
 * and its first line when that is printable text of at most INITRD_LINE_MAX
 * characters, so that a test sees the right bytes arrived at mod_start.
 */
#define INITRD_LINE_MAX 100

static void print_initrd(const struct start_info *si)
{
	const uint8_t *rd = (const uint8_t *)si->mod_start;
	uint32_t fnv = 2166136261u;
	char line[INITRD_LINE_MAX + 1];
	size_t n = 0;
	bool text = true;

	if (si->mod_len == 0) {
		console_printf("initrd: none\n");
		return;
	}
	for (uint64_t i = 0; i < si->mod_len; i++)
		fnv = (fnv ^ rd[i]) * 16777619u;
	console_printf("initrd: %lu bytes at 0x%lx, fnv1a 0x%08x\n", si->mod_len, si->mod_start, fnv);
	for (; n < si->mod_len && rd[n] != '\n' && rd[n] != '\r' && text; n++) {
		if (n == INITRD_LINE_MAX || rd[n] < 0x20 || rd[n] >= 0x7F)
			text = false;
		else
			line[n] = (char)rd[n];
	}
	if (!text || n == 0) {
		console_printf("initrd: does not start with a line of text\n");
		return;
	}
	line[n] = '\0';
	console_printf("initrd: first line \"%s\"\n", line);
}

static void print_version(void)
{
	struct xen_extraversion extra;
	static struct xen_capabilities_info caps;   /* 1 KiB: not on the stack */
	long ver = hyp_xen_version(XENVER_version, NULL);
	long rc;

	if (ver < 0) {
		console_printf("xen_version: %ld\n", ver);
		return;
	}
	memset(&extra, 0, sizeof(extra));
	rc = hyp_xen_version(XENVER_extraversion, &extra);
	extra.extraversion[sizeof(extra.extraversion) - 1] = '\0';
	console_printf("xen_version: %ld.%ld%s (0x%lx)\n", ver >> 16, ver & 0xffff,
		       rc == 0 ? extra.extraversion : "", ver);

	memset(&caps, 0, sizeof(caps));
	rc = hyp_xen_version(XENVER_capabilities, &caps);
	caps.info[sizeof(caps.info) - 1] = '\0';
	if (rc == 0)
		console_printf("capabilities: \"%s\"\n", caps.info);
	else
		console_printf("capabilities: %ld\n", rc);
}

int guest_main(struct start_info *si)
{
	/* start_info is the builder's: take a bounded, terminated copy. */
	static char cmdline[MAX_GUEST_CMDLINE + 1];
	bool crash;

	memcpy(cmdline, si->cmd_line, MAX_GUEST_CMDLINE);
	cmdline[MAX_GUEST_CMDLINE] = '\0';
	crash = strstr(cmdline, "crash") != NULL;

	console_printf("hello from a Vireo PV guest\n");
	print_start_info(si, cmdline);
	print_initrd(si);
	print_version();

	check("unknown hypercall", hypercall0(UNKNOWN_HYPERCALL), -XEN_ENOSYS, "ENOSYS");
	check("bad pointer", hyp_console_write((const char *)HYPERVISOR_ADDR, 16), -XEN_EFAULT,
	      "EFAULT");

	/*
	 * Attacks the hypervisor must survive by crashing only this domain:
	 * read its memory, use an I/O port, execute a privileged instruction.
	 */
	if (strstr(cmdline, "attack=console-flood")) {
		static char line[101];
		memset(line, 'x', 99);
		line[99] = '\n';
		for (int i = 0; i < 2000; i++)            /* 200 KB at once */
			hyp_console_write(line, 100);
		console_printf("hello: flood sent\n");
	}
	if (strstr(cmdline, "attack=read-hypervisor")) {
		console_printf("hello: reading hypervisor memory\n");
		(void)*(volatile uint64_t *)HYPERVISOR_ADDR;
	}
	if (strstr(cmdline, "attack=port-io")) {
		console_printf("hello: writing I/O port 0xf4\n");
		__asm__ volatile("outb %%al, $0xf4" :: "a"(0));
	}
	if (strstr(cmdline, "attack=write-cr3")) {
		console_printf("hello: loading CR3\n");
		__asm__ volatile("mov %0, %%cr3" :: "r"(0ul));
	}
	/* Console input (CONSOLEIO_read): the privileged domain's; any other gets -EPERM. */
	static char in[64];
	if (!(si->flags & SIF_PRIVILEGED))
		check("console read (unprivileged)",
		      hypercall3(__HYPERVISOR_console_io, CONSOLEIO_read, 16, (unsigned long)in), -XEN_EPERM, "EPERM");
	if (strstr(cmdline, "console-read")) {
		long n = 0, got;
		console_printf("hello: waiting for console input\n");
		/* Polls: the first bytes may take a while, the rest of the line follows them. */
		for (long tries = 0; tries < 20000000 && (n == 0 || in[n - 1] != '\n') && n < 63; tries++) {
			got = hypercall3(__HYPERVISOR_console_io, CONSOLEIO_read, 63 - n, (unsigned long)(in + n));
			if (got < 0) {
				check("console read", got, 0, "bytes");
				break;
			}
			n += got;
		}
		while (n > 0 && (in[n - 1] == '\n' || in[n - 1] == '\r'))
			n--;
		in[n] = '\0';
		console_printf("hello: console read \"%s\"\n", in);
	}

	/* The same hypercall through the hypercall page the hypervisor filled in. */
	extern char hypercall_page[];
	long (*xen_version_stub)(long, void *) = (long (*)(long, void *))(hypercall_page + 17 * 32);
	check("hypercall page", xen_version_stub(0, 0), hyp_xen_version(0, 0), "same as syscall");

	/* The features the hypervisor offers, and where its range starts. */
	struct { uint32_t idx, map; } fi = { 0, 0 };
	check("get_features", hyp_xen_version(6, &fi), 0, "ok");
	console_printf("features: submap 0 = 0x%x\n", fi.map);
	unsigned long virt_start = 0;
	check("platform_parameters", hyp_xen_version(5, &virt_start), 0, "ok");
	console_printf("hypervisor range starts at 0x%lx\n", virt_start);

	/* set_segment_base: FS now points at a variable of ours. */
	static volatile uint64_t fs_target = 0x5eed5eed;
	check("set_segment_base FS", hypercall2(__HYPERVISOR_set_segment_base, 0, (unsigned long)&fs_target),
	      0, "ok");
	uint64_t via_fs;
	__asm__ volatile("mov %%fs:0, %0" : "=r"(via_fs));
	check("read through FS", (long)via_fs, 0x5eed5eed, "the variable");
	check("non-canonical FS base", hypercall2(__HYPERVISOR_set_segment_base, 0, 0x0000900000000000ul),
	      -XEN_EINVAL, "EINVAL");
	check("stack_switch", hypercall2(__HYPERVISOR_stack_switch, 0xe02b, 0xffffffff80100000ul), 0, "ok");
	check("stack_switch bad SS", hypercall2(__HYPERVISOR_stack_switch, 0xe033, 0xffffffff80100000ul),
	      -XEN_EINVAL, "EINVAL");

	/* Xen's CPUID leaves through the forced-emulation prefix. */
	uint32_t a = 0x40000000, b, c = 0, d;
	__asm__ volatile(XEN_CPUID : "+a"(a), "=b"(b), "+c"(c), "=d"(d));
	char sig[13];
	memcpy(sig, &b, 4);
	memcpy(sig + 4, &c, 4);
	memcpy(sig + 8, &d, 4);
	sig[12] = 0;
	check("cpuid 0x40000000 signature", strcmp(sig, "XenVMMXenVMM"), 0, sig);
	a = 0x40000002;
	c = 0;
	__asm__ volatile(XEN_CPUID : "+a"(a), "=b"(b), "+c"(c), "=d"(d));
	check("cpuid 0x40000002 hypercall MSR", b, 0x40000000, "MSR base");

	/* A second hypercall page, installed by writing that MSR. */
	static char page[4096] __attribute__((aligned(4096)));
	uint64_t gpa = (uint64_t)page - 0xffffffff80000000ull;
	__asm__ volatile("wrmsr" :: "c"(b), "a"((uint32_t)gpa), "d"((uint32_t)(gpa >> 32)) : "memory");
	long (*msr_stub)(long, void *) = (long (*)(long, void *))(page + 17 * 32);
	check("hypercall page by MSR", msr_stub(0, 0), hyp_xen_version(0, 0), "same as syscall");

	if (failures)
		console_printf("hello: %u check(s) failed\n", failures);
	console_printf("hello: done\n");
	guest_shutdown(crash || failures ? SHUTDOWN_crash : SHUTDOWN_poweroff);
}
