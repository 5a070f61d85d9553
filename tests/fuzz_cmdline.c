/*
 * libFuzzer target: the hypervisor command line (core/cmdline.c) comes from
 * the boot loader. Any bytes must parse without a fault, within bounds, and
 * leave the options in their documented ranges.
 */
#include <stdlib.h>
#include <string.h>

#include <core/cmdline.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *line = malloc(size + 1);
	struct boot_options o;

	memcpy(line, data, size);
	line[size] = 0;
	cmdline_parse(line, &o);
	if (o.com1_baud == 0 || 115200 % o.com1_baud || o.com1_port == 0 ||
	    o.dom0_max_vcpus > 4096 || o.max_cpus > 4096 ||
	    strnlen(o.selftest, sizeof(o.selftest)) == sizeof(o.selftest))
		abort();
	free(line);
	return 0;
}
