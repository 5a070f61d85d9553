/* Unit tests of the hypervisor command line (core/cmdline.c). */
#include <string.h>

#include <core/cmdline.h>

#include "harness.h"

static void cmdline_defaults(void)
{
	struct boot_options o;
	cmdline_parse("", &o);
	CHECK(o.console_com1);
	CHECK_EQ(o.com1_port, 0x3F8);
	CHECK_EQ(o.com1_baud, 115200);
	CHECK_EQ(o.dom0_mem_bytes, 0);
	CHECK_EQ(o.nr_bad, 0);
	cmdline_parse(NULL, &o);
	CHECK_EQ(o.nr_bad, 0);
}

static void cmdline_xen_options(void)
{
	struct boot_options o;
	cmdline_parse("console=com1 com1=9600,8n1,0x2f8  dom0_mem=512M dom0_max_vcpus=2 maxcpus=3 vireo.bench", &o);
	CHECK_EQ(o.nr_bad, 0);
	CHECK_EQ(o.com1_baud, 9600);
	CHECK_EQ(o.com1_port, 0x2F8);
	CHECK_EQ(o.dom0_mem_bytes, 512ull << 20);
	CHECK_EQ(o.dom0_max_vcpus, 2);
	CHECK_EQ(o.max_cpus, 3);
	CHECK(o.bench);
	cmdline_parse("vireo.selftest=exception\tdom0_mem=2G vireo.mm_count_limit=64", &o);
	CHECK(!strcmp(o.selftest, "exception"));
	CHECK_EQ(o.dom0_mem_bytes, 2ull << 30);
	CHECK_EQ(o.mm_count_limit, 64);
	cmdline_parse("vireo.mm_count_limit=1 vireo.mm_count_limit=x vireo.mm_count_limit", &o);
	CHECK_EQ(o.nr_bad, 3);
	CHECK_EQ(o.mm_count_limit, 0);
}

static void cmdline_bad_options_are_named_and_ignored(void)
{
	struct boot_options o;
	cmdline_parse("frobnicate dom0_mem=lots dom0_mem= com1=7 com1=9600,7e1 console=vga "
		      "maxcpus=0 vireo.bench=1 vireo.selftest=this-name-is-far-too-long-to-fit dom0_max_vcpus=2", &o);
	CHECK_EQ(o.nr_bad, 9);
	CHECK_EQ(o.dom0_mem_bytes, 0);
	CHECK_EQ(o.com1_baud, 115200);     /* untouched by the bad com1= */
	CHECK(!o.bench);
	CHECK_EQ(o.selftest[0], 0);
	CHECK_EQ(o.dom0_max_vcpus, 2);     /* the good option after the bad ones still counts */
}

static void cmdline_sizes(void)
{
	const char *s;
	s = "4096";  CHECK_EQ(cmdline_parse_size(s, s + strlen(s)), 4096);
	s = "64k";   CHECK_EQ(cmdline_parse_size(s, s + strlen(s)), 65536);
	s = "0x10M"; CHECK_EQ(cmdline_parse_size(s, s + strlen(s)), 16ll << 20);
	s = "1T";    CHECK_EQ(cmdline_parse_size(s, s + strlen(s)), 1ll << 40);
	s = "";      CHECK_EQ(cmdline_parse_size(s, s), -1);
	s = "M";     CHECK_EQ(cmdline_parse_size(s, s + 1), -1);
	s = "12x";   CHECK_EQ(cmdline_parse_size(s, s + 3), -1);
	s = "99999999999999999999G"; CHECK_EQ(cmdline_parse_size(s, s + strlen(s)), -1);
	s = "9000000000T"; CHECK_EQ(cmdline_parse_size(s, s + strlen(s)), -1);
}

static void cmdline_hostile_lengths(void)
{
	static char big[1 << 16];
	struct boot_options o;
	for (size_t i = 0; i + 1 < sizeof(big); i++)
		big[i] = (i % 7 == 6) ? ' ' : '=';
	cmdline_parse(big, &o);             /* bounded: stops after 1024 options */
	CHECK(o.nr_bad > 0);
	CHECK(o.nr_bad <= 1024);
}

static const struct test_case cases[] = {
	TEST(cmdline_defaults),
	TEST(cmdline_xen_options),
	TEST(cmdline_bad_options_are_named_and_ignored),
	TEST(cmdline_sizes),
	TEST(cmdline_hostile_lengths),
};

TEST_MAIN(cases)
