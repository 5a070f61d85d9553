/*
 * The configuration-file parser (include/core/config.h).
 *
 * The text is hostile, so the parser is a flat loop over lines with every
 * length bounded: next_line() hands out one line of at most CONFIG_MAX_LINE
 * bytes and always advances by at least one byte, so the loop ends after at
 * most len lines; nothing recurses, and every scan stops at the line's end.
 * Each line is checked (bytes, quotes) before it is split, then a header
 * opens a domain and a setting goes through the key table, which says in
 * which section a key belongs, how its value is decoded, and where it goes.
 *
 * Results are decoded straight into *out; the first refusal prints one line
 * and config_parse() zeroes *out before it returns the error.
 */
#include <stdbool.h>

#include <core/config.h>
#include <vireo/compiler.h>
#include <vireo/errno.h>
#include <vireo/printk.h>

#define SHOW_MAX   40   /* bytes of a bad value or key quoted in a message */
#define SOURCE_MAX 64   /* bytes of the file's name printed */

struct span {
	const char *p;
	size_t n;
};

struct parser {
	const char *text;
	size_t len, pos;              /* pos: start of the next line */
	const char *source;
	unsigned line;                /* the current line, from 1 */
	struct config *cfg;
	struct config_domain *dom;    /* the open [domain]; NULL before the first */
	uint32_t seen;                /* bit i: keys[i] given in the open [domain] */
};

/* ---- the key table ------------------------------------------------------- */

enum key_kind {
	KEY_MACHINE,    /* before any [domain]; any value, ignored */
	KEY_NAME,       /* quoted, [A-Za-z0-9_.-], unique among domains */
	KEY_STRING,     /* quoted, min .. field size - 1 bytes */
	KEY_NUMBER,     /* decimal or 0x-hex, min .. max; a 4- or 8-byte field */
};

struct key {
	const char *name;
	enum key_kind kind;
	uint16_t offset, size;        /* the field in struct config_domain */
	uint32_t min, max;
	const char *expect;           /* for "expected <expect>, got ..." */
};

#define FIELD(m) __builtin_offsetof(struct config_domain, m), \
		 sizeof(((struct config_domain *)0)->m)

static const struct key keys[] = {
	{ "hypervisor_cmdline", KEY_MACHINE, 0, 0, 0, 0, NULL },
	{ "cpus", KEY_MACHINE, 0, 0, 0, 0, NULL },
	{ "machine_memory", KEY_MACHINE, 0, 0, 0, 0, NULL },
	{ "name", KEY_NAME, FIELD(name), 1, 0,
	  "a quoted name of 1 to 31 characters from [A-Za-z0-9_.-]" },
	{ "kernel", KEY_STRING, FIELD(kernel), 1, 0, "a quoted path of 1 to 255 characters" },
	{ "ramdisk", KEY_STRING, FIELD(ramdisk), 1, 0, "a quoted path of 1 to 255 characters" },
	{ "cmdline", KEY_STRING, FIELD(cmdline), 0, 0,
	  "a quoted string of at most 1023 characters" },
	{ "memory", KEY_NUMBER, FIELD(memory_mib), 4, 1048576,
	  "a number of MiB from 4 to 1048576" },
	{ "vcpus", KEY_NUMBER, FIELD(vcpus), 1, 64, "a number of vCPUs from 1 to 64" },
	{ "weight", KEY_NUMBER, FIELD(weight), 1, 65535, "a BVT weight from 1 to 65535" },
	{ "warp", KEY_NUMBER, FIELD(warp_us), 0, 1000000,
	  "a warp in microseconds from 0 to 1000000" },
};

compile_assert(ARRAY_SIZE(keys) <= 32, "struct parser.seen has one bit per key");
compile_assert(sizeof(((struct config_domain *)0)->name) == 32, "'name' message says 31");
compile_assert(sizeof(((struct config_domain *)0)->kernel) == 256, "'kernel' message says 255");
compile_assert(sizeof(((struct config_domain *)0)->ramdisk) == 256, "'ramdisk' message says 255");
compile_assert(sizeof(((struct config_domain *)0)->cmdline) == 1024, "'cmdline' message says 1023");

/* ---- helpers ------------------------------------------------------------- */

static int report(const struct parser *ps, unsigned line, int err, const char *fmt, ...)
	PRINTF_LIKE(4, 5);

/* Print "config: <source>:<line>: <message>" and return err. */
static int report(const struct parser *ps, unsigned line, int err, const char *fmt, ...)
{
	char msg[256];
	va_list ap;

	va_start(ap, fmt);
	vireo_vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	printk("config: %.*s:%u: %s\n", SOURCE_MAX, ps->source, line, msg);
	return err;
}

static bool is_space(char c) { return c == ' ' || c == '\t'; }

static bool is_key_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '_';
}

static bool is_name_char(char c) { return is_key_char(c) || c == '.' || c == '-'; }

static struct span trim(struct span s)
{
	while (s.n && is_space(s.p[0])) {
		s.p++;
		s.n--;
	}
	while (s.n && is_space(s.p[s.n - 1]))
		s.n--;
	return s;
}

static bool span_is(struct span s, const char *word)
{
	size_t i = 0;

	for (; i < s.n && word[i]; i++)
		if (s.p[i] != word[i])
			return false;
	return i == s.n && word[i] == 0;
}

/* How much of s a message quotes, and the mark that says it was cut. */
static int show_n(struct span s) { return (int)(s.n > SHOW_MAX ? SHOW_MAX : s.n); }
static const char *show_cut(struct span s) { return s.n > SHOW_MAX ? "..." : ""; }

/* Decimal or 0x-hex number filling all of s. */
static bool parse_number(struct span s, uint64_t *v)
{
	unsigned base = 10;
	size_t i = 0;

	if (s.n > 2 && s.p[0] == '0' && (s.p[1] == 'x' || s.p[1] == 'X')) {
		base = 16;
		i = 2;
	}
	if (i == s.n)
		return false;
	for (*v = 0; i < s.n; i++) {
		char c = s.p[i];
		unsigned d;

		if (c >= '0' && c <= '9')
			d = (unsigned)(c - '0');
		else if (base == 16 && c >= 'a' && c <= 'f')
			d = (unsigned)(c - 'a' + 10);
		else if (base == 16 && c >= 'A' && c <= 'F')
			d = (unsigned)(c - 'A' + 10);
		else
			return false;
		if (*v > UINT32_MAX)   /* above every maximum; and *v * 16 cannot wrap */
			return false;
		*v = *v * base + d;
	}
	return true;
}

/* ---- lines --------------------------------------------------------------- */

/*
 * The next line, without its "\n" or "\r\n". At most CONFIG_MAX_LINE + 2
 * bytes are scanned for the '\n', and pos advances by at least one byte.
 */
static int next_line(struct parser *ps, struct span *l)
{
	const char *p = ps->text + ps->pos;
	size_t rest = ps->len - ps->pos;
	size_t scan = rest < CONFIG_MAX_LINE + 2 ? rest : CONFIG_MAX_LINE + 2;
	size_t n = 0;

	ps->line++;
	while (n < scan && p[n] != '\n')
		n++;
	ps->pos += n < rest ? n + 1 : n;
	if (n && p[n - 1] == '\r')
		n--;
	if (n > CONFIG_MAX_LINE)
		return report(ps, ps->line, -VIREO_E2BIG, "line longer than %u bytes",
			      CONFIG_MAX_LINE);
	*l = (struct span){ p, n };
	return 0;
}

/* Refuse NUL and control bytes (tab is fine) anywhere in the line. */
static int check_bytes(const struct parser *ps, struct span l)
{
	for (size_t i = 0; i < l.n; i++) {
		unsigned char c = (unsigned char)l.p[i];

		if (c == 0)
			return report(ps, ps->line, -VIREO_EINVAL,
				      "NUL byte in the text (column %zu)", i + 1);
		if ((c < 0x20 && c != '\t') || c == 0x7f)
			return report(ps, ps->line, -VIREO_EINVAL,
				      "control byte 0x%02x in the text (column %zu)", c, i + 1);
	}
	return 0;
}

/* Cut the line at a '#' outside a string; refuse an unterminated string. */
static int strip_comment(const struct parser *ps, struct span *l)
{
	bool quoted = false;

	for (size_t i = 0; i < l->n; i++) {
		if (l->p[i] == '"') {
			quoted = !quoted;
		} else if (l->p[i] == '#' && !quoted) {
			l->n = i;
			break;
		}
	}
	if (quoted)
		return report(ps, ps->line, -VIREO_EINVAL, "unterminated string");
	return 0;
}

/* ---- domains ------------------------------------------------------------- */

/* The open [domain] is complete: it must have a name and a kernel. */
static int domain_close(const struct parser *ps)
{
	const struct config_domain *d = ps->dom;

	if (!d)
		return 0;
	if (!d->name[0])
		return report(ps, d->line, -VIREO_EINVAL, "[domain] has no 'name'");
	if (!d->kernel[0])
		return report(ps, d->line, -VIREO_EINVAL, "[domain] \"%s\" has no 'kernel'",
			      d->name);
	return 0;
}

static int parse_header(struct parser *ps, struct span l)
{
	struct span inner = { l.p + 1, l.n - 1 };
	struct config_domain *d;
	int rc;

	if (l.p[l.n - 1] != ']')
		return report(ps, ps->line, -VIREO_EINVAL, "malformed section header \"%.*s\"%s",
			      show_n(l), l.p, show_cut(l));
	inner.n--;
	inner = trim(inner);
	if (!span_is(inner, "domain"))
		return report(ps, ps->line, -VIREO_EINVAL, "unknown section [%.*s]%s",
			      show_n(inner), inner.p, show_cut(inner));
	rc = domain_close(ps);
	if (rc)
		return rc;
	if (ps->cfg->nr_domains == CONFIG_MAX_DOMAINS)
		return report(ps, ps->line, -VIREO_E2BIG, "more than %u domains",
			      CONFIG_MAX_DOMAINS);
	d = &ps->cfg->domains[ps->cfg->nr_domains++];
	*d = (struct config_domain){
		.memory_mib = 32, .vcpus = 1, .weight = 256, .warp_us = 0, .line = ps->line,
	};
	ps->dom = d;
	ps->seen = 0;
	return 0;
}

/* ---- values -------------------------------------------------------------- */

static int bad_value(const struct parser *ps, const struct key *k, struct span shown)
{
	return report(ps, ps->line, -VIREO_EINVAL, "'%s': expected %s, got \"%.*s\"%s",
		      k->name, k->expect, show_n(shown), shown.p, show_cut(shown));
}

/* The inside of a "..." value without a '"' in it, or false. */
static bool unquote(struct span v, struct span *in)
{
	if (v.n < 2 || v.p[0] != '"' || v.p[v.n - 1] != '"')
		return false;
	*in = (struct span){ v.p + 1, v.n - 2 };
	for (size_t i = 0; i < in->n; i++)
		if (in->p[i] == '"')
			return false;
	return true;
}

static bool name_chars_ok(struct span s)
{
	for (size_t i = 0; i < s.n; i++)
		if (!is_name_char(s.p[i]))
			return false;
	return true;
}

/* No domain before the open one (the last) has this name. */
static int name_unique(const struct parser *ps, struct span s)
{
	const struct config *cfg = ps->cfg;

	for (unsigned i = 0; i + 1 < cfg->nr_domains; i++)
		if (span_is(s, cfg->domains[i].name))
			return report(ps, ps->line, -VIREO_EEXIST,
				      "duplicate domain name \"%s\" (first at line %u)",
				      cfg->domains[i].name, cfg->domains[i].line);
	return 0;
}

static int set_string(struct parser *ps, const struct key *k, struct span v)
{
	char *field = (char *)ps->dom + k->offset;
	struct span in;
	int rc;

	if (!unquote(v, &in))
		return bad_value(ps, k, v);
	if (in.n < k->min || in.n >= k->size)
		return bad_value(ps, k, in);
	if (k->kind == KEY_NAME && !name_chars_ok(in))
		return bad_value(ps, k, in);
	if (k->kind == KEY_NAME && (rc = name_unique(ps, in)) != 0)
		return rc;
	__builtin_memcpy(field, in.p, in.n);
	field[in.n] = 0;
	return 0;
}

static int set_number(struct parser *ps, const struct key *k, struct span v)
{
	char *field = (char *)ps->dom + k->offset;
	uint64_t n;

	if (!parse_number(v, &n) || n < k->min || n > k->max)
		return bad_value(ps, k, v);
	if (k->size == sizeof(uint64_t)) {
		__builtin_memcpy(field, &n, sizeof(n));
	} else {
		unsigned u = (unsigned)n;

		__builtin_memcpy(field, &u, sizeof(u));
	}
	return 0;
}

/* ---- settings ------------------------------------------------------------ */

/* Is key k allowed here, and not given before in this [domain]? */
static int key_check(struct parser *ps, unsigned i)
{
	const struct key *k = &keys[i];

	if (k->kind == KEY_MACHINE && ps->dom)
		return report(ps, ps->line, -VIREO_EINVAL,
			      "'%s' is a machine setting: it must come before the first [domain]",
			      k->name);
	if (k->kind != KEY_MACHINE && !ps->dom)
		return report(ps, ps->line, -VIREO_EINVAL,
			      "'%s' is a domain setting: it must follow a [domain] header",
			      k->name);
	if (k->kind != KEY_MACHINE && (ps->seen & (1u << i)))
		return report(ps, ps->line, -VIREO_EEXIST,
			      "duplicate key '%s' in the [domain] of line %u", k->name,
			      ps->dom->line);
	ps->seen |= 1u << i;
	return 0;
}

static int parse_setting(struct parser *ps, struct span l)
{
	struct span key = { l.p, 0 }, val;
	unsigned i;
	int rc;

	while (key.n < l.n && is_key_char(l.p[key.n]))
		key.n++;
	val = trim((struct span){ l.p + key.n, l.n - key.n });
	if (!key.n || !val.n || val.p[0] != '=')
		return report(ps, ps->line, -VIREO_EINVAL,
			      "expected 'key = value' or '[domain]', got \"%.*s\"%s",
			      show_n(l), l.p, show_cut(l));
	val = trim((struct span){ val.p + 1, val.n - 1 });
	for (i = 0; i < ARRAY_SIZE(keys) && !span_is(key, keys[i].name); i++)
		;
	if (i == ARRAY_SIZE(keys))
		return report(ps, ps->line, -VIREO_EINVAL, "unknown key '%.*s'%s",
			      show_n(key), key.p, show_cut(key));
	rc = key_check(ps, i);
	if (rc)
		return rc;
	switch (keys[i].kind) {
	case KEY_MACHINE:
		return 0;
	case KEY_NAME:
	case KEY_STRING:
		return set_string(ps, &keys[i], val);
	case KEY_NUMBER:
		return set_number(ps, &keys[i], val);
	}
	return -VIREO_EINVAL;
}

static int parse_line(struct parser *ps, struct span l)
{
	int rc = check_bytes(ps, l);

	if (!rc)
		rc = strip_comment(ps, &l);
	if (rc)
		return rc;
	l = trim(l);
	if (!l.n)
		return 0;
	if (l.p[0] == '[')
		return parse_header(ps, l);
	return parse_setting(ps, l);
}

int config_parse(const char *text, size_t len, const char *source, struct config *out)
{
	struct parser ps = {
		.text = text, .len = len, .source = source ? source : "(config)", .cfg = out,
	};
	struct span l = { NULL, 0 };
	int rc = 0;

	__builtin_memset(out, 0, sizeof(*out));
	if (!text && len)
		rc = report(&ps, 0, -VIREO_EINVAL, "no text");
	while (!rc && ps.pos < ps.len) {
		rc = next_line(&ps, &l);
		if (!rc)
			rc = parse_line(&ps, l);
	}
	if (!rc)
		rc = domain_close(&ps);
	if (rc)
		__builtin_memset(out, 0, sizeof(*out));
	return rc;
}
