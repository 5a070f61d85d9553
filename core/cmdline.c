/*
 * Command-line parsing (include/core/cmdline.h). The line comes from the
 * boot loader, so nothing in it is trusted: every option is bounded, and one
 * bad option never stops the others from being read.
 */
#include <core/cmdline.h>
#include <vireo/printk.h>

struct token {
	const char *key, *key_end;    /* key_end: '=' or end of token */
	const char *val, *val_end;    /* NULL when there is no '=' */
};

static bool tok_is(const struct token *t, const char *key)
{
	size_t n = (size_t)(t->key_end - t->key);
	size_t i = 0;
	for (; i < n && key[i]; i++)
		if (t->key[i] != key[i])
			return false;
	return i == n && key[i] == 0;
}

/* Decimal or 0x-hex unsigned number filling exactly [s, end); -1 if not one. */
static int64_t parse_uint(const char *s, const char *end)
{
	uint64_t v = 0;
	int base = 10;
	if (end - s > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
		base = 16;
		s += 2;
	}
	if (s == end)
		return -1;
	for (; s < end; s++) {
		int d;
		if (*s >= '0' && *s <= '9')
			d = *s - '0';
		else if (base == 16 && *s >= 'a' && *s <= 'f')
			d = *s - 'a' + 10;
		else if (base == 16 && *s >= 'A' && *s <= 'F')
			d = *s - 'A' + 10;
		else
			return -1;
		if (v > (UINT64_C(1) << 59))
			return -1;
		v = v * (uint64_t)base + (uint64_t)d;
	}
	return (int64_t)v;
}

int64_t cmdline_parse_size(const char *s, const char *end)
{
	int shift = 0;
	if (end > s) {
		switch (end[-1]) {
		case 'K': case 'k': shift = 10; end--; break;
		case 'M': case 'm': shift = 20; end--; break;
		case 'G': case 'g': shift = 30; end--; break;
		case 'T': case 't': shift = 40; end--; break;
		}
	}
	int64_t v = parse_uint(s, end);
	if (v < 0 || (shift && v > (INT64_MAX >> shift)))
		return -1;
	return v << shift;
}

#define MAX_REPORTED 16   /* a hostile line must not flood the console */

static void bad(struct boot_options *o, const struct token *t, const char *why)
{
	if (++o->nr_bad > MAX_REPORTED)
		return;
	printk("cmdline: option '%.*s' ignored: %s\n",
	       (int)((t->val ? t->val_end : t->key_end) - t->key), t->key, why);
}

/* com1=<baud>[,<data><parity><stop>][,<io-port>] (Xen's form, the subset that applies). */
static void parse_com1(struct boot_options *o, const struct token *t)
{
	const char *p = t->val, *end = t->val_end, *comma = p;
	while (comma < end && *comma != ',')
		comma++;
	int64_t baud = parse_uint(p, comma);
	if (baud <= 0 || baud > 115200 || 115200 % baud) {
		bad(o, t, "baud rate must divide 115200");
		return;
	}
	if (comma < end) {
		p = comma + 1;
		for (comma = p; comma < end && *comma != ','; comma++)
			;
		if (comma - p != 3 || p[0] != '8' || p[1] != 'n' || p[2] != '1') {
			bad(o, t, "only 8n1 is supported");
			return;
		}
		if (comma < end) {
			int64_t port = parse_uint(comma + 1, end);
			if (port <= 0 || port > 0xFFF8) {
				bad(o, t, "bad I/O port");
				return;
			}
			o->com1_port = (uint16_t)port;
		}
	}
	o->com1_baud = (uint32_t)baud;
}

static void parse_one(struct boot_options *o, const struct token *t)
{
	int64_t v;

	if (tok_is(t, "console")) {
		if (!t->val || t->val_end - t->val != 4 || __builtin_memcmp(t->val, "com1", 4))
			bad(o, t, "only console=com1 is supported");
		else
			o->console_com1 = true;
	} else if (tok_is(t, "com1")) {
		if (!t->val)
			bad(o, t, "needs a value");
		else
			parse_com1(o, t);
	} else if (tok_is(t, "dom0_mem")) {
		if (!t->val || (v = cmdline_parse_size(t->val, t->val_end)) <= 0)
			bad(o, t, "expected a size such as 512M");
		else
			o->dom0_mem_bytes = (uint64_t)v;
	} else if (tok_is(t, "dom0_max_vcpus") || tok_is(t, "maxcpus")) {
		if (!t->val || (v = parse_uint(t->val, t->val_end)) <= 0 || v > 4096)
			bad(o, t, "expected a number of CPUs");
		else if (tok_is(t, "maxcpus"))
			o->max_cpus = (unsigned)v;
		else
			o->dom0_max_vcpus = (unsigned)v;
	} else if (tok_is(t, "vireo.selftest")) {
		size_t n = t->val ? (size_t)(t->val_end - t->val) : 0;
		if (!n || n >= sizeof(o->selftest))
			bad(o, t, "expected a self-test name");
		else {
			__builtin_memcpy(o->selftest, t->val, n);
			o->selftest[n] = 0;
		}
	} else if (tok_is(t, "vireo.mm_count_limit")) {
		if (!t->val || (v = parse_uint(t->val, t->val_end)) < 2 || v > 0x7FFFFFFF)
			bad(o, t, "expected a count from 2 to 2147483647");
		else
			o->mm_count_limit = (uint32_t)v;
	} else if (tok_is(t, "vireo.bench")) {
		if (t->val)
			bad(o, t, "takes no value");
		else
			o->bench = true;
	} else {
		bad(o, t, "unknown option");
	}
}

void cmdline_parse(const char *s, struct boot_options *o)
{
	*o = (struct boot_options){ .console_com1 = true, .com1_port = 0x3F8, .com1_baud = 115200 };
	if (!s)
		return;
	for (unsigned guard = 0; *s && guard < 1024; guard++) {
		while (*s == ' ' || *s == '\t')
			s++;
		if (!*s)
			break;
		struct token t = { .key = s };
		while (*s && *s != ' ' && *s != '\t' && *s != '=')
			s++;
		t.key_end = s;
		if (*s == '=') {
			t.val = ++s;
			while (*s && *s != ' ' && *s != '\t')
				s++;
			t.val_end = s;
		}
		parse_one(o, &t);
	}
	if (o->nr_bad > MAX_REPORTED)
		printk("cmdline: %u more bad options ignored\n", o->nr_bad - MAX_REPORTED);
}
