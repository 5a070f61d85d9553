/*
 * Unit tests of the configuration-file parser (core/config.c,
 * include/core/config.h): a full file with defaults, CRLF, comments, every
 * refusal with its message and errno, the limits (16 domains, 4096-byte
 * lines, string lengths, number ranges) and every prefix of a good file.
 *
 * The parser always gets an exact-size malloc'd copy of the text, so that
 * AddressSanitizer catches a read past len (the text is not NUL-terminated);
 * fd 2, where hosted printk writes, is captured into parse_log.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <core/config.h>
#include <vireo/errno.h>

#include "harness.h"


/* ---- running the parser with fd 2 captured ------------------------------- */

static char parse_log[8192];
static struct config cfg;

static int log_begin(void)
{
	return test_capture_begin();
}

static void log_end(int saved)
{
	snprintf(parse_log, sizeof(parse_log), "%s", test_capture_end(saved, NULL));
}

/* config_parse on an exact-size copy of n bytes of s, into cfg (first filled with junk). */
static int parse_n(const char *s, size_t n)
{
	char *copy = malloc(n ? n : 1);
	int saved, rc;

	if (!copy)
		abort();
	memcpy(copy, s, n);
	memset(&cfg, 0xA5, sizeof(cfg));
	saved = log_begin();
	rc = config_parse(n ? copy : NULL, n, "test.cfg", &cfg);
	log_end(saved);
	free(copy);
	return rc;
}

static int parse(const char *s) { return parse_n(s, strlen(s)); }


static unsigned count_lines(const char *s)
{
	unsigned n = 0;

	for (; *s; s++)
		n += *s == '\n';
	return n;
}

/* The text must be refused with err and exactly one line containing what; cfg zeroed. */
static void expect_refusal_n(const char *text, size_t n, int err, const char *what, int line)
{
	int rc = parse_n(text, n);

	if (rc != err || !strstr(parse_log, what) || strncmp(parse_log, "config: test.cfg:", 17) ||
	    count_lines(parse_log) != 1 || !test_all_zero(&cfg, sizeof(cfg))) {
		printf("  line %d: rc %d (want %d), want \"%s\", log: %s\n", line, rc, err, what,
		       parse_log);
		test_fail(__FILE__, line, what);
	}
}

#define REFUSED(text, err, what) expect_refusal_n((text), strlen(text), (err), (what), __LINE__)
#define REFUSED_N(text, n, err, what) expect_refusal_n((text), (n), (err), (what), __LINE__)

/* The text must parse with no output. */
#define ACCEPTED(text) \
	do { \
		int rc_ = parse(text); \
		if (rc_ || parse_log[0]) \
			printf("  log: %s\n", parse_log); \
		CHECK_EQ(rc_, 0); \
		CHECK(!parse_log[0]); \
	} while (0)

/* A domain with the required keys, then extra (one or more "key = value\n"). */
static char *one_domain(const char *extra)
{
	static char buf[8192];

	snprintf(buf, sizeof(buf), "[domain]\nname = \"d\"\nkernel = \"k.elf\"\n%s", extra);
	return buf;
}

/* ---- good files ------------------------------------------------------------ */

static const char good_file[] =
	"# machine-level settings\n"
	"hypervisor_cmdline = \"vireo.bench\"\n"
	"cpus = 2\n"
	"machine_memory = \"1G\"\n"
	"\n"
	"[domain]\n"
	"name = \"hello\"                 # a comment\n"
	"kernel = \"out/guests/hello.elf\"\n"
	"ramdisk = \"tests/data/initrd.txt\"\n"
	"cmdline = \"hello-args\"\n"
	"memory = 64\n"
	"vcpus = 4\n"
	"weight = 512\n"
	"warp = 1000\n"
	"\n"
	"[domain]\n"
	"name = \"traps\"\n"
	"kernel = \"out/guests/traps.elf\"\n";

static void check_good(void)
{
	REQUIRE(cfg.nr_domains == 2);
	const struct config_domain *h = &cfg.domains[0], *t = &cfg.domains[1];
	CHECK(!strcmp(h->name, "hello"));
	CHECK(!strcmp(h->kernel, "out/guests/hello.elf"));
	CHECK(!strcmp(h->ramdisk, "tests/data/initrd.txt"));
	CHECK(!strcmp(h->cmdline, "hello-args"));
	CHECK_EQ(h->memory_mib, 64);
	CHECK_EQ(h->vcpus, 4);
	CHECK_EQ(h->weight, 512);
	CHECK_EQ(h->warp_us, 1000);
	CHECK_EQ(h->line, 6);
	CHECK(!strcmp(t->name, "traps"));
	CHECK(!strcmp(t->kernel, "out/guests/traps.elf"));
	CHECK(!strcmp(t->cmdline, ""));
	CHECK(!strcmp(t->ramdisk, ""));    /* optional: none */
	CHECK_EQ(t->memory_mib, 32);       /* the defaults */
	CHECK_EQ(t->vcpus, 1);
	CHECK_EQ(t->weight, 256);
	CHECK_EQ(t->warp_us, 0);
	CHECK_EQ(t->line, 16);
	CHECK(test_all_zero(&cfg.domains[2], sizeof(cfg.domains) - 2 * sizeof(cfg.domains[0])));
}

static void config_good_file(void)
{
	ACCEPTED(good_file);
	check_good();
}

static void config_crlf(void)
{
	char crlf[sizeof(good_file) * 2];
	size_t n = 0;

	for (const char *p = good_file; *p; p++) {
		if (*p == '\n')
			crlf[n++] = '\r';
		crlf[n++] = *p;
	}
	crlf[n] = 0;
	ACCEPTED(crlf);
	check_good();
	/* The last line may end without "\n", after a '\r' or not. */
	ACCEPTED(one_domain("memory = 48\r"));
	CHECK_EQ(cfg.domains[0].memory_mib, 48);
	ACCEPTED(one_domain("memory = 48"));
	CHECK_EQ(cfg.domains[0].memory_mib, 48);
	/* A '\r' anywhere else is a control byte. */
	REFUSED(one_domain("memory = 48\r\r\n"), -VIREO_EINVAL, "test.cfg:4: control byte 0x0d");
	REFUSED(one_domain("memory\r= 48\n"), -VIREO_EINVAL, "control byte 0x0d");
}

static void config_comments_and_spacing(void)
{
	ACCEPTED("# only a comment\n"
		 "   # indented comment\n"
		 "\t\n"
		 "   \n"
		 "[domain]   # header comment\n"
		 "\tname\t=\t\"a\"\t\n"
		 "  kernel=\"k\"#no space before the comment\n"
		 "memory=0x20 # hex, then a comment\n"
		 "#\n");
	REQUIRE(cfg.nr_domains == 1);
	CHECK(!strcmp(cfg.domains[0].name, "a"));
	CHECK(!strcmp(cfg.domains[0].kernel, "k"));
	CHECK_EQ(cfg.domains[0].memory_mib, 32);
	CHECK_EQ(cfg.domains[0].line, 5);
	/* '#' inside a string belongs to the string, so this name is refused as a whole. */
	REFUSED("[domain]\nname = \"a#b\" # c\n", -VIREO_EINVAL, "got \"a#b\"");
}

static void config_hash_in_strings(void)
{
	ACCEPTED("[domain]\n"
		 "name = \"a.b-c_9\"  # comment\n"
		 "kernel=\"k#1.elf\"#no space before the comment\n"
		 "   cmdline   =   \"x # y  # z \"   # and a comment with \"quotes\n");
	REQUIRE(cfg.nr_domains == 1);
	CHECK(!strcmp(cfg.domains[0].name, "a.b-c_9"));
	CHECK(!strcmp(cfg.domains[0].kernel, "k#1.elf"));
	CHECK(!strcmp(cfg.domains[0].cmdline, "x # y  # z "));
	ACCEPTED("[ domain ]\n\tname\t=\t\"t\"\t\nkernel = \"k\"\n");
	CHECK_EQ(cfg.nr_domains, 1);
}

static void config_numbers(void)
{
	ACCEPTED(one_domain("memory = 0x40\nvcpus = 0X10\nweight = 0xffff\nwarp = 00012\n"));
	CHECK_EQ(cfg.domains[0].memory_mib, 64);
	CHECK_EQ(cfg.domains[0].vcpus, 16);
	CHECK_EQ(cfg.domains[0].weight, 65535);
	CHECK_EQ(cfg.domains[0].warp_us, 12);
	/* The bounds themselves. */
	ACCEPTED(one_domain("memory = 4\nvcpus = 1\nweight = 1\nwarp = 0\n"));
	CHECK_EQ(cfg.domains[0].memory_mib, 4);
	CHECK_EQ(cfg.domains[0].weight, 1);
	ACCEPTED(one_domain("memory = 1048576\nvcpus = 64\nweight = 65535\nwarp = 1000000\n"));
	CHECK_EQ(cfg.domains[0].memory_mib, 1048576);
	CHECK_EQ(cfg.domains[0].vcpus, 64);
	CHECK_EQ(cfg.domains[0].warp_us, 1000000);
}

static void config_empty(void)
{
	ACCEPTED("");
	CHECK_EQ(cfg.nr_domains, 0);
	CHECK(test_all_zero(&cfg, sizeof(cfg)));
	ACCEPTED("\n\n   \n# nothing\n");
	CHECK_EQ(cfg.nr_domains, 0);
	ACCEPTED("hypervisor_cmdline = \"vireo.bench\"\ncpus = 2\nmachine_memory = \"1G\"\n");
	CHECK_EQ(cfg.nr_domains, 0);
	CHECK(test_all_zero(&cfg, sizeof(cfg)));
}

/* Machine keys are the host tool's: any value, repeats allowed (it keeps the last). */
static void config_machine_keys(void)
{
	ACCEPTED("hypervisor_cmdline = \"\"\n"
		 "hypervisor_cmdline = vireo.bench console=com1\n"
		 "cpus = lots\n"
		 "machine_memory = '512M'\n"
		 "machine_memory =\n");
	CHECK_EQ(cfg.nr_domains, 0);
}

/* ---- refusals -------------------------------------------------------------- */

static void config_bad_value_message(void)
{
	parse("hypervisor_cmdline = \"x\"\n[domain]\nname = \"a\"\nkernel = \"k\"\n\n\n"
	      "memory = lots\n");
	CHECK(!strcmp(parse_log, "config: test.cfg:7: 'memory': expected a number of MiB "
				 "from 4 to 1048576, got \"lots\"\n"));
	CHECK(test_all_zero(&cfg, sizeof(cfg)));
	/* A long value is cut at 40 characters. */
	REFUSED(one_domain("memory = 1234567890123456789012345678901234567890123\n"),
		-VIREO_EINVAL, "got \"1234567890123456789012345678901234567890\"...\n");
	REFUSED(one_domain("cmdline = 1234567890123456789012345678901234567890\n"),
		-VIREO_EINVAL, "got \"1234567890123456789012345678901234567890\"\n");
}

static void config_bad_numbers(void)
{
	REFUSED(one_domain("memory = 3\n"), -VIREO_EINVAL,
		"test.cfg:4: 'memory': expected a number of MiB from 4 to 1048576, got \"3\"");
	REFUSED(one_domain("memory = 1048577\n"), -VIREO_EINVAL, "got \"1048577\"");
	REFUSED(one_domain("memory = 99999999999999999999999\n"), -VIREO_EINVAL, "'memory'");
	REFUSED(one_domain("memory = 0x100000000000000000\n"), -VIREO_EINVAL, "'memory'");
	REFUSED(one_domain("memory = \"32\"\n"), -VIREO_EINVAL, "got \"\"32\"\"");
	REFUSED(one_domain("memory = 32M\n"), -VIREO_EINVAL, "got \"32M\"");
	REFUSED(one_domain("memory = -4\n"), -VIREO_EINVAL, "'memory'");
	REFUSED(one_domain("memory = 3 2\n"), -VIREO_EINVAL, "got \"3 2\"");
	REFUSED(one_domain("memory = 0x\n"), -VIREO_EINVAL, "got \"0x\"");
	REFUSED(one_domain("memory =\n"), -VIREO_EINVAL, "got \"\"");
	REFUSED(one_domain("vcpus = 0\n"), -VIREO_EINVAL,
		"'vcpus': expected a number of vCPUs from 1 to 64, got \"0\"");
	REFUSED(one_domain("vcpus = 65\n"), -VIREO_EINVAL, "'vcpus'");
	REFUSED(one_domain("weight = 0\n"), -VIREO_EINVAL,
		"'weight': expected a BVT weight from 1 to 65535, got \"0\"");
	REFUSED(one_domain("weight = 0x10000\n"), -VIREO_EINVAL, "got \"0x10000\"");
	REFUSED(one_domain("warp = 1000001\n"), -VIREO_EINVAL,
		"'warp': expected a warp in microseconds from 0 to 1000000, got \"1000001\"");
}

static void config_bad_strings(void)
{
	char buf[2048], val[1100];

	REFUSED("[domain]\nname = hello\n", -VIREO_EINVAL,
		"test.cfg:2: 'name': expected a quoted name of 1 to 31 characters from "
		"[A-Za-z0-9_.-], got \"hello\"");
	REFUSED("[domain]\nname = \"\"\n", -VIREO_EINVAL, "'name': expected");
	REFUSED("[domain]\nname = \"has space\"\n", -VIREO_EINVAL, "got \"has space\"");
	REFUSED("[domain]\nname = \"slash/\"\n", -VIREO_EINVAL, "got \"slash/\"");
	REFUSED("[domain]\nname = \"a\" \"b\"\n", -VIREO_EINVAL, "got \"\"a\" \"b\"\"");
	REFUSED("[domain]\nname = \"a\"b\n", -VIREO_EINVAL, "'name': expected");
	REFUSED("[domain]\nname = \"0123456789012345678901234567890a\"\n", -VIREO_EINVAL,
		"'name'");                                  /* 32 characters */
	ACCEPTED("[domain]\nname = \"0123456789012345678901234567890\"\nkernel = \"k\"\n");
	CHECK(!strcmp(cfg.domains[0].name, "0123456789012345678901234567890"));

	REFUSED("[domain]\nname = \"a\"\nkernel = \"\"\n", -VIREO_EINVAL,
		"'kernel': expected a quoted path of 1 to 255 characters, got \"\"");
	REFUSED("[domain]\nname = \"a\"\nkernel = k.elf\n", -VIREO_EINVAL, "'kernel'");
	memset(val, 'k', 256);
	val[256] = 0;
	snprintf(buf, sizeof(buf), "[domain]\nname = \"a\"\nkernel = \"%s\"\n", val);
	REFUSED(buf, -VIREO_EINVAL, "'kernel'");
	val[255] = 0;
	snprintf(buf, sizeof(buf), "[domain]\nname = \"a\"\nkernel = \"%s\"\n", val);
	ACCEPTED(buf);
	CHECK_EQ(strlen(cfg.domains[0].kernel), 255);

	/* ramdisk: optional, but when given a path of 1 to 255 characters, given once. */
	ACCEPTED(one_domain("ramdisk = \"initrd.img\"\n"));
	CHECK(!strcmp(cfg.domains[0].ramdisk, "initrd.img"));
	ACCEPTED(one_domain(""));
	CHECK_EQ(cfg.domains[0].ramdisk[0], 0);
	REFUSED(one_domain("ramdisk = \"\"\n"), -VIREO_EINVAL,
		"test.cfg:4: 'ramdisk': expected a quoted path of 1 to 255 characters, got \"\"");
	REFUSED(one_domain("ramdisk = initrd.img\n"), -VIREO_EINVAL,
		"'ramdisk': expected a quoted path of 1 to 255 characters, got \"initrd.img\"");
	REFUSED(one_domain("ramdisk = 42\n"), -VIREO_EINVAL, "'ramdisk'");
	REFUSED(one_domain("ramdisk = \"a\"\nramdisk = \"b\"\n"), -VIREO_EEXIST,
		"test.cfg:5: duplicate key 'ramdisk'");
	REFUSED("ramdisk = \"r\"\n[domain]\n", -VIREO_EINVAL,
		"test.cfg:1: 'ramdisk' is a domain setting");
	memset(val, 'r', 256);
	val[256] = 0;
	snprintf(buf, sizeof(buf), "ramdisk = \"%s\"\n", val);
	REFUSED(one_domain(buf), -VIREO_EINVAL, "'ramdisk'");
	val[255] = 0;
	snprintf(buf, sizeof(buf), "ramdisk = \"%s\"\n", val);
	ACCEPTED(one_domain(buf));
	CHECK_EQ(strlen(cfg.domains[0].ramdisk), 255);

	memset(val, 'c', 1024);
	val[1024] = 0;
	snprintf(buf, sizeof(buf), "cmdline = \"%s\"\n", val);
	REFUSED(one_domain(buf), -VIREO_EINVAL,
		"'cmdline': expected a quoted string of at most 1023 characters, got \"cccc");
	val[1023] = 0;
	snprintf(buf, sizeof(buf), "cmdline = \"%s\"\n", val);
	ACCEPTED(one_domain(buf));
	CHECK_EQ(strlen(cfg.domains[0].cmdline), 1023);
	ACCEPTED(one_domain("cmdline = \"\"\n"));
	CHECK_EQ(cfg.domains[0].cmdline[0], 0);
	REFUSED(one_domain("cmdline = plain\n"), -VIREO_EINVAL, "'cmdline'");
}

static void config_unknown_key(void)
{
	REFUSED("cpus = 2\ncolour = \"blue\"\n", -VIREO_EINVAL, "test.cfg:2: unknown key 'colour'");
	REFUSED(one_domain("bootloader = \"pygrub\"\n"), -VIREO_EINVAL,
		"test.cfg:4: unknown key 'bootloader'");
	REFUSED(one_domain("Name = \"x\"\n"), -VIREO_EINVAL, "unknown key 'Name'");
	REFUSED(one_domain("k0123456789012345678901234567890123456789xyz = 1\n"), -VIREO_EINVAL,
		"unknown key 'k012345678901234567890123456789012345678'...");
}

static void config_key_in_wrong_section(void)
{
	REFUSED("name = \"x\"\n[domain]\n", -VIREO_EINVAL,
		"test.cfg:1: 'name' is a domain setting: it must follow a [domain] header");
	REFUSED("memory = 32\n", -VIREO_EINVAL, "'memory' is a domain setting");
	REFUSED(one_domain("cpus = 2\n"), -VIREO_EINVAL,
		"test.cfg:4: 'cpus' is a machine setting: it must come before the first [domain]");
	REFUSED(one_domain("hypervisor_cmdline = \"x\"\n"), -VIREO_EINVAL,
		"'hypervisor_cmdline' is a machine setting");
}

static void config_syntax(void)
{
	REFUSED("cpus 2\n", -VIREO_EINVAL,
		"test.cfg:1: expected 'key = value' or '[domain]', got \"cpus 2\"");
	REFUSED("= 2\n", -VIREO_EINVAL, "expected 'key = value'");
	REFUSED("cpus\n", -VIREO_EINVAL, "expected 'key = value'");
	REFUSED("cp-us = 2\n", -VIREO_EINVAL, "got \"cp-us = 2\"");
	REFUSED("\"cpus\" = 2\n", -VIREO_EINVAL, "expected 'key = value'");
}

static void config_sections(void)
{
	REFUSED("[dom0]\n", -VIREO_EINVAL, "test.cfg:1: unknown section [dom0]");
	REFUSED("\n[]\n", -VIREO_EINVAL, "test.cfg:2: unknown section []");
	REFUSED("[domain\n", -VIREO_EINVAL, "malformed section header \"[domain\"");
	REFUSED("[\n", -VIREO_EINVAL, "malformed section header \"[\"");
	REFUSED("[domain] x\n", -VIREO_EINVAL, "malformed section header");
	REFUSED("[domain]]\n", -VIREO_EINVAL, "unknown section [domain]]");
}

static void config_duplicates(void)
{
	REFUSED(one_domain("memory = 32\nmemory = 64\n"), -VIREO_EEXIST,
		"test.cfg:5: duplicate key 'memory' in the [domain] of line 1");
	REFUSED("[domain]\nname = \"a\"\nkernel = \"k\"\nname = \"b\"\n", -VIREO_EEXIST,
		"duplicate key 'name'");
	REFUSED("[domain]\nname = \"a\"\nkernel = \"k\"\n[domain]\nkernel = \"k\"\nname = \"a\"\n",
		-VIREO_EEXIST, "test.cfg:6: duplicate domain name \"a\" (first at line 1)");
	/* The same key in two domains, and names differing only in case, are fine. */
	ACCEPTED("[domain]\nname = \"a\"\nkernel = \"k\"\nmemory = 8\n"
		 "[domain]\nname = \"A\"\nkernel = \"k\"\nmemory = 16\n");
	CHECK_EQ(cfg.nr_domains, 2);
	CHECK_EQ(cfg.domains[1].memory_mib, 16);
	/* A prefix is not a duplicate. */
	ACCEPTED("[domain]\nname = \"ab\"\nkernel = \"k\"\n"
		 "[domain]\nname = \"a\"\nkernel = \"k\"\n");
}

static void config_missing_name_or_kernel(void)
{
	REFUSED("cpus = 1\n[domain]\nkernel = \"k\"\n[domain]\nname = \"b\"\nkernel = \"k\"\n",
		-VIREO_EINVAL, "test.cfg:2: [domain] has no 'name'");
	REFUSED("[domain]\nname = \"a\"\nkernel = \"k\"\n\n[domain]\nname = \"b\"\n# end\n",
		-VIREO_EINVAL, "test.cfg:5: [domain] \"b\" has no 'kernel'");
	REFUSED("[domain]\n", -VIREO_EINVAL, "test.cfg:1: [domain] has no 'name'");
	REFUSED("[domain]\nname = \"a\"\n[domain]\nname = \"b\"\nkernel = \"k\"\n",
		-VIREO_EINVAL, "test.cfg:1: [domain] \"a\" has no 'kernel'");
}

static void config_max_domains(void)
{
	char buf[4096];
	size_t n = 0;

	for (unsigned i = 0; i < CONFIG_MAX_DOMAINS; i++)
		n += (size_t)snprintf(buf + n, sizeof(buf) - n,
				      "[domain]\nname = \"d%u\"\nkernel = \"k%u\"\nvcpus = %u\n",
				      i, i, i + 1);
	ACCEPTED(buf);
	REQUIRE(cfg.nr_domains == CONFIG_MAX_DOMAINS);
	CHECK(!strcmp(cfg.domains[15].name, "d15"));
	CHECK(!strcmp(cfg.domains[15].kernel, "k15"));
	CHECK_EQ(cfg.domains[15].vcpus, 16);
	CHECK_EQ(cfg.domains[15].line, 61);
	snprintf(buf + n, sizeof(buf) - n, "[domain]\nname = \"d16\"\nkernel = \"k\"\n");
	REFUSED(buf, -VIREO_E2BIG, "test.cfg:65: more than 16 domains");
}

static void config_long_lines(void)
{
	size_t big = 1 << 20;
	char *buf = malloc(big + 16);

	REQUIRE(buf);
	/* A comment line of exactly 4096 bytes, with "\n", "\r\n" or at the end. */
	memset(buf, '#', CONFIG_MAX_LINE);
	strcpy(buf + CONFIG_MAX_LINE, "\ncpus = 1\n");
	ACCEPTED(buf);
	strcpy(buf + CONFIG_MAX_LINE, "\r\ncpus = 1\n");
	ACCEPTED(buf);
	buf[CONFIG_MAX_LINE] = 0;
	ACCEPTED(buf);
	/* 4097 bytes. */
	strcpy(buf + CONFIG_MAX_LINE, "#\ncpus = 1\n");
	REFUSED(buf, -VIREO_E2BIG, "test.cfg:1: line longer than 4096 bytes");
	strcpy(buf + CONFIG_MAX_LINE, "#\r\n");
	REFUSED(buf, -VIREO_E2BIG, "line longer than 4096 bytes");
	strcpy(buf + CONFIG_MAX_LINE, "#");
	REFUSED(buf, -VIREO_E2BIG, "line longer than 4096 bytes");
	strcpy(buf + CONFIG_MAX_LINE, "\r\r\n");                     /* 4097 before "\r\n" */
	REFUSED(buf, -VIREO_E2BIG, "line longer than 4096 bytes");
	/* On the third line, and one of a megabyte without any newline. */
	strcpy(buf, "cpus = 1\n\n");
	memset(buf + 10, ' ', CONFIG_MAX_LINE + 1);
	buf[10 + CONFIG_MAX_LINE + 1] = 0;
	REFUSED(buf, -VIREO_E2BIG, "test.cfg:3: line longer");
	memset(buf, 'x', big);
	REFUSED_N(buf, big, -VIREO_E2BIG, "test.cfg:1: line longer");
	free(buf);
}

static void config_unterminated_string(void)
{
	REFUSED(one_domain("cmdline = \"abc\n"), -VIREO_EINVAL, "test.cfg:4: unterminated string");
	REFUSED(one_domain("cmdline = \"abc # \"\"\n"), -VIREO_EINVAL, "unterminated string");
	REFUSED(one_domain("cmdline = \"abc"), -VIREO_EINVAL, "unterminated string");
	REFUSED("[domain]\nname = \"a\nkernel = \"k\"\n", -VIREO_EINVAL,
		"test.cfg:2: unterminated string");
}

static void config_nul_and_control_bytes(void)
{
	static const char nul[] = "[domain]\nname = \"a\0b\"\nkernel = \"k\"\n";
	static const char nul_comment[] = "# a\0b\n";

	REFUSED_N(nul, sizeof(nul) - 1, -VIREO_EINVAL,
		  "test.cfg:2: NUL byte in the text (column 10)");
	REFUSED_N(nul_comment, sizeof(nul_comment) - 1, -VIREO_EINVAL, "NUL byte");
	REFUSED_N("\0", 1, -VIREO_EINVAL, "test.cfg:1: NUL byte");
	REFUSED(one_domain("cmdline = \"\x1b[2J\"\n"), -VIREO_EINVAL, "control byte 0x1b");
	REFUSED(one_domain("cmdline = \"\x7f\"\n"), -VIREO_EINVAL, "control byte 0x7f");
	/* Tabs are fine, and so are bytes above 0x7f. */
	ACCEPTED(one_domain("cmdline = \"a\tb \xc3\xa9\"\n"));
	CHECK(!strcmp(cfg.domains[0].cmdline, "a\tb \xc3\xa9"));
}

/* The first error is the one reported; nothing after it is parsed. */
static void config_first_error_wins(void)
{
	REFUSED("colour = 1\n[dom0]\n", -VIREO_EINVAL, "unknown key 'colour'");
	CHECK(!strstr(parse_log, "dom0"));
}

/* Every prefix of a good file, each in an exact-size buffer: no over-read, a clean answer. */
static void config_every_prefix(void)
{
	size_t n = strlen(good_file);

	for (size_t i = 0; i <= n; i++) {
		int rc = parse_n(good_file, i);

		CHECK(rc == 0 || rc == -VIREO_EINVAL);
		CHECK(rc == 0 ? !parse_log[0] : count_lines(parse_log) == 1);
		if (rc)
			CHECK(test_all_zero(&cfg, sizeof(cfg)));
	}
	CHECK_EQ(parse_n(good_file, n), 0);
	check_good();
}

static void config_null_source(void)
{
	char text[] = "[domain]\n";
	int saved = log_begin();
	int rc = config_parse(text, sizeof(text) - 1, NULL, &cfg);

	log_end(saved);
	CHECK_EQ(rc, -VIREO_EINVAL);
	CHECK(strstr(parse_log, "config: (config):1: [domain] has no 'name'"));
}

static const struct test_case cases[] = {
	TEST(config_good_file),
	TEST(config_crlf),
	TEST(config_comments_and_spacing),
	TEST(config_hash_in_strings),
	TEST(config_numbers),
	TEST(config_empty),
	TEST(config_machine_keys),
	TEST(config_bad_value_message),
	TEST(config_bad_numbers),
	TEST(config_bad_strings),
	TEST(config_unknown_key),
	TEST(config_key_in_wrong_section),
	TEST(config_syntax),
	TEST(config_sections),
	TEST(config_duplicates),
	TEST(config_missing_name_or_kernel),
	TEST(config_max_domains),
	TEST(config_long_lines),
	TEST(config_unterminated_string),
	TEST(config_nul_and_control_bytes),
	TEST(config_first_error_wins),
	TEST(config_every_prefix),
	TEST(config_null_source),
};

TEST_MAIN(cases)
