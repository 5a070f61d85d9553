/*
 * libFuzzer target: the configuration file (core/config.c) comes from
 * whoever built the boot media. Any bytes must parse without a fault and
 * without a read past the input (libFuzzer's buffer is exactly size bytes,
 * not NUL-terminated); a refusal leaves the result zeroed, and an accepted
 * file leaves every domain complete, unique and within its documented ranges
 * (a ramdisk of 0 to 255 characters: none, or a path).
 */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"

#include <core/config.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static bool name_ok(const char *s)
{
	size_t n = strnlen(s, 32);

	if (n == 0 || n > 31)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') ||
		      (s[i] >= '0' && s[i] <= '9') || s[i] == '_' || s[i] == '.' || s[i] == '-'))
			return false;
	return true;
}

static bool domain_ok(const struct config *c, unsigned i)
{
	const struct config_domain *d = &c->domains[i];
	size_t k = strnlen(d->kernel, sizeof(d->kernel));

	if (!name_ok(d->name) || k == 0 || k == sizeof(d->kernel) ||
	    strnlen(d->ramdisk, sizeof(d->ramdisk)) == sizeof(d->ramdisk) ||
	    strnlen(d->cmdline, sizeof(d->cmdline)) == sizeof(d->cmdline) ||
	    d->memory_mib < 4 || d->memory_mib > 1048576 || d->vcpus < 1 || d->vcpus > 64 ||
	    d->weight < 1 || d->weight > 65535 || d->warp_us > 1000000 || d->line == 0 ||
	    (i && d->line <= c->domains[i - 1].line))
		return false;
	for (unsigned j = 0; j < i; j++)
		if (!strcmp(c->domains[j].name, d->name))
			return false;
	return true;
}


int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct config c;
	int rc;

	memset(&c, 0xA5, sizeof(c));
	rc = config_parse((const char *)data, size, "fuzz.cfg", &c);
	if (rc > 0)
		abort();
	if (rc < 0) {
		if (!test_all_zero(&c, sizeof(c)))
			abort();
		return 0;
	}
	if (c.nr_domains > CONFIG_MAX_DOMAINS)
		abort();
	for (unsigned i = 0; i < c.nr_domains; i++)
		if (!domain_ok(&c, i))
			abort();
	if (!test_all_zero(&c.domains[c.nr_domains],
		      (CONFIG_MAX_DOMAINS - c.nr_domains) * sizeof(c.domains[0])))
		abort();
	return 0;
}
