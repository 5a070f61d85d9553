/*
 * The hypervisor's command line: Xen's spelling where an option means the
 * same (console=com1, com1=115200,8n1, dom0_mem=, dom0_max_vcpus=, maxcpus=),
 * Vireo's own under "vireo." (vireo.selftest=, vireo.bench). Options are
 * separated by spaces; an unknown option or a bad value is reported by name
 * and ignored, and boot goes on.
 */
#ifndef CORE_CMDLINE_H
#define CORE_CMDLINE_H

#include <stdbool.h>
#include <stdint.h>

struct boot_options {
	bool console_com1;            /* console=com1 (the default too) */
	uint16_t com1_port;           /* com1=<baud>[,8n1][,0x3f8] */
	uint32_t com1_baud;
	uint64_t dom0_mem_bytes;      /* dom0_mem=512M; 0: not given */
	unsigned dom0_max_vcpus;      /* 0: not given */
	unsigned max_cpus;            /* maxcpus=N; 0: all */
	char selftest[32];            /* vireo.selftest=<name>: run a boot self-test, "" none */
	bool bench;                   /* vireo.bench: run the in-image benchmarks */
	uint32_t mm_count_limit;      /* vireo.mm_count_limit=N: lower the frame counts' limit
	                                 (a test knob for the overflow refusals); 0: default */
	unsigned nr_bad;              /* options reported and ignored */
};

/* Parse s into *o (defaults first). Messages go to printk. */
void cmdline_parse(const char *s, struct boot_options *o);

/* "512M", "2G", "1048576K", "4096": bytes, or -1 on a malformed size. */
int64_t cmdline_parse_size(const char *s, const char *end);

#endif
