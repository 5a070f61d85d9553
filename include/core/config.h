/*
 * Vireo's configuration file, read by the hypervisor from a boot module.
 *
 * The syntax is xl-like, one setting per line:
 *
 *     # machine settings, before the first [domain] (for the host tool;
 *     # the hypervisor accepts any value for them and ignores them)
 *     hypervisor_cmdline = "vireo.bench"
 *     cpus = 2
 *     machine_memory = "1G"
 *
 *     [domain]
 *     name = "hello"                   # 1..31 of [A-Za-z0-9_.-], unique
 *     kernel = "out/guests/hello.elf"  # 1..255 chars
 *     ramdisk = "initrd.img"           # 1..255 chars; optional (default: none)
 *     cmdline = "args"                 # 0..1023 chars
 *     memory = 32                      # MiB, 4..1048576 (default 32)
 *     vcpus = 1                        # 1..64 (default 1)
 *     weight = 256                     # BVT weight, 1..65535 (default 256)
 *     warp = 0                         # BVT warp in us, 0..1000000 (default 0)
 *
 * The hypervisor does not read files: the kernel and ramdisk paths are for
 * the host tool, which hands the files over as boot modules after the
 * configuration, in the order of the domains: each domain's kernel, then
 * its ramdisk if it has one (arch/x86_64/setup.c takes them in that order).
 *
 * '#' starts a comment except inside a quoted string. Numbers are decimal or
 * 0x-hex; strings are double-quoted, without escapes and without a '"'
 * inside. Spaces and tabs around '=' and at either end of a line are
 * ignored; a line ends with "\n" or "\r\n". A line is at most
 * CONFIG_MAX_LINE bytes, not counting its "\r\n"/"\n". Section headers may
 * be written "[domain]" or "[ domain ]".
 *
 * The text is hostile (whoever built the boot media wrote it): it is not
 * NUL-terminated, and no byte past len is read. Control bytes other than
 * tab (and the '\r' of a "\r\n") are refused, so that nothing taken from the
 * file can drive the console or a guest's command line with escape codes.
 */
#ifndef CORE_CONFIG_H
#define CORE_CONFIG_H

#include <stddef.h>
#include <stdint.h>

#define CONFIG_MAX_DOMAINS 16
#define CONFIG_MAX_LINE    4096

struct config_domain {
	char name[32];                /* NUL-terminated, 1..31 chars */
	char kernel[256];             /* NUL-terminated, 1..255 chars */
	char ramdisk[256];            /* NUL-terminated, 1..255 chars; "" for none */
	char cmdline[1024];           /* NUL-terminated, 0..1023 chars */
	uint64_t memory_mib;
	unsigned vcpus, weight, warp_us;
	unsigned line;                /* line of its [domain] header, for messages */
};

struct config {
	unsigned nr_domains;
	struct config_domain domains[CONFIG_MAX_DOMAINS];
};

/**
 * Parse a configuration file.
 *
 * @param text    len bytes of text, not NUL-terminated (NULL if len is 0)
 * @param len     its length
 * @param source  the file's name for messages, e.g. "vireo.cfg"
 * @param out     the result
 * @return 0, or a negative errno after printing one line of the form
 *         "config: <source>:<line>: <problem>":
 *   -VIREO_EINVAL  a syntax error, an unknown section or key, a key in the
 *                  wrong section, a bad value (quoted, at most 40 chars of
 *                  it), an unterminated string, a NUL or control byte, a
 *                  [domain] without 'name' or 'kernel' (reported at the
 *                  line of its header);
 *   -VIREO_EEXIST  a key given twice in one [domain], or two domains with
 *                  the same name;
 *   -VIREO_E2BIG   more than CONFIG_MAX_DOMAINS domains, or a line longer
 *                  than CONFIG_MAX_LINE bytes.
 * @note The parser decodes into *out as it goes and zeroes all of *out on
 *       failure, so a refused file leaves *out zeroed; *out must not be
 *       read by anyone else while the call runs. A file with no [domain]
 *       (even an empty one) is valid and gives nr_domains == 0.
 *       Machine keys may repeat (the host tool takes the last one).
 */
int config_parse(const char *text, size_t len, const char *source, struct config *out);

#endif
