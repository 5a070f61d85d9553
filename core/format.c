/*
 * vireo_vsnprintf: the hypervisor's printf formatter (freestanding, no libc).
 *
 * The contract is in <vireo/printk.h>. How it works:
 *
 *   The format is read once, left to right. Ordinary bytes are copied out; a
 *   '%' starts a conversion specification, parsed into struct fmt_spec
 *   (flags, width, precision, length modifier, conversion) and then printed
 *   by one emitter per kind (integer, string, character, pointer).
 *
 *   Output goes through fmt_putc, which counts every byte the full output
 *   would have but stores only the first size - 1, so the NUL always fits
 *   and the return value is the untruncated length (C99 snprintf).
 *
 * Where C leaves a choice, this follows glibc so the tests can compare the two:
 *   - '0' is ignored with '-', and for integers when a precision is given;
 *   - a precision of 0 prints no digits for the value 0;
 *   - a negative '*' width means '-' plus that width; a negative '*'
 *     precision means none;
 *   - %p prints 0x and lowercase hex digits, and "(nil)" for NULL.
 * Differences from glibc, all for inputs the hypervisor never uses on purpose:
 *   - width and precision are capped at FMT_MAX_WIDTH (glibc would fail with
 *     EOVERFLOW or print gigabytes of padding);
 *   - %s of NULL prints "(null)" cut to the precision (glibc prints nothing
 *     when the precision is below 6);
 *   - an unknown conversion (also one using the unsupported flags ' ' '+'
 *     '#', or the modifiers j L q) is printed as written, from the '%' to the
 *     offending character, and any '*' in it has consumed its argument.
 */
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <vireo/compiler.h>
#include <vireo/printk.h>

#define FMT_MAX_WIDTH 4096

compile_assert(sizeof(size_t) == sizeof(ptrdiff_t), "%zd and %tu read the other's type");

enum fmt_length {
	FMT_LEN_NONE, FMT_LEN_HH, FMT_LEN_H, FMT_LEN_L, FMT_LEN_LL, FMT_LEN_Z, FMT_LEN_T,
};

struct fmt_out {
	char *buf;
	size_t size;
	size_t len;     /* bytes of the whole output so far; can exceed size */
};

struct fmt_spec {
	bool left;      /* '-': pad on the right */
	bool zero;      /* '0': pad numbers with zeros */
	int width;      /* minimum field width, 0 for none */
	int prec;       /* precision, -1 for none */
	enum fmt_length length;
	char conv;      /* conversion character, '\0' if the format ended */
};

/* Store c if it fits with room left for the NUL; count it either way. */
static void fmt_putc(struct fmt_out *o, char c)
{
	if (o->len + 1 < o->size)
		o->buf[o->len] = c;
	o->len++;
}

static void fmt_put(struct fmt_out *o, const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		fmt_putc(o, s[i]);
}

static void fmt_pad(struct fmt_out *o, char c, int n)
{
	for (int i = 0; i < n; i++)
		fmt_putc(o, c);
}

/* ---- parsing a conversion specification ---------------------------------- */

static const char *fmt_parse_number(const char *p, int *out)
{
	int v = 0;

	while (*p >= '0' && *p <= '9') {
		if (v <= FMT_MAX_WIDTH)
			v = v * 10 + (*p - '0');
		p++;
	}
	*out = v > FMT_MAX_WIDTH ? FMT_MAX_WIDTH : v;
	return p;
}

static const char *fmt_parse_width(const char *p, struct fmt_spec *s, va_list *ap)
{
	if (*p != '*')
		return fmt_parse_number(p, &s->width);

	int w = va_arg(*ap, int);
	if (w < 0) {
		s->left = true;
		s->width = w < -FMT_MAX_WIDTH ? FMT_MAX_WIDTH : -w;
	} else {
		s->width = w > FMT_MAX_WIDTH ? FMT_MAX_WIDTH : w;
	}
	return p + 1;
}

static const char *fmt_parse_precision(const char *p, struct fmt_spec *s, va_list *ap)
{
	if (*p != '.')
		return p;
	p++;
	if (*p != '*')
		return fmt_parse_number(p, &s->prec);

	int pr = va_arg(*ap, int);
	s->prec = pr < 0 ? -1 : (pr > FMT_MAX_WIDTH ? FMT_MAX_WIDTH : pr);
	return p + 1;
}

static const char *fmt_parse_length(const char *p, struct fmt_spec *s)
{
	switch (*p) {
	case 'h':
		if (p[1] == 'h') {
			s->length = FMT_LEN_HH;
			return p + 2;
		}
		s->length = FMT_LEN_H;
		return p + 1;
	case 'l':
		if (p[1] == 'l') {
			s->length = FMT_LEN_LL;
			return p + 2;
		}
		s->length = FMT_LEN_L;
		return p + 1;
	case 'z':
		s->length = FMT_LEN_Z;
		return p + 1;
	case 't':
		s->length = FMT_LEN_T;
		return p + 1;
	default:
		return p;
	}
}

/*
 * Parse the specification after a '%'. Returns a pointer to the conversion
 * character (s->conv), which is the terminating NUL if the format ends early.
 */
static const char *fmt_parse_spec(const char *p, struct fmt_spec *s, va_list *ap)
{
	*s = (struct fmt_spec){ .prec = -1, .length = FMT_LEN_NONE };
	for (;; p++) {
		if (*p == '-')
			s->left = true;
		else if (*p == '0')
			s->zero = true;
		else
			break;
	}
	p = fmt_parse_width(p, s, ap);
	p = fmt_parse_precision(p, s, ap);
	p = fmt_parse_length(p, s);
	s->conv = *p;
	return p;
}

/* ---- fetching arguments -------------------------------------------------- */

static long long fmt_arg_signed(const struct fmt_spec *s, va_list *ap)
{
	switch (s->length) {
	case FMT_LEN_HH: return (signed char)va_arg(*ap, int);
	case FMT_LEN_H:  return (short)va_arg(*ap, int);
	case FMT_LEN_L:  return va_arg(*ap, long);
	case FMT_LEN_LL: return va_arg(*ap, long long);
	case FMT_LEN_Z:  return va_arg(*ap, ptrdiff_t);  /* the signed size_t */
	case FMT_LEN_T:  return va_arg(*ap, ptrdiff_t);
	default:         return va_arg(*ap, int);
	}
}

static unsigned long long fmt_arg_unsigned(const struct fmt_spec *s, va_list *ap)
{
	switch (s->length) {
	case FMT_LEN_HH: return (unsigned char)va_arg(*ap, unsigned int);
	case FMT_LEN_H:  return (unsigned short)va_arg(*ap, unsigned int);
	case FMT_LEN_L:  return va_arg(*ap, unsigned long);
	case FMT_LEN_LL: return va_arg(*ap, unsigned long long);
	case FMT_LEN_Z:  return va_arg(*ap, size_t);
	case FMT_LEN_T:  return va_arg(*ap, size_t);     /* the unsigned ptrdiff_t */
	default:         return va_arg(*ap, unsigned int);
	}
}

/* ---- emitters ------------------------------------------------------------ */

/* Digits of v in base, least significant first; none for 0 with precision 0. */
static int fmt_digits(char out[24], unsigned long long v, unsigned base, bool upper, int prec)
{
	const char *set = upper ? "0123456789ABCDEF" : "0123456789abcdef";
	int n = 0;

	if (v == 0 && prec == 0)
		return 0;
	do {
		out[n++] = set[v % base];
		v /= base;
	} while (v);
	return n;
}

/*
 * A number: [spaces] prefix zeros digits [spaces]. prefix is "-", "0x" or "".
 * The zeros come from the precision, or from the '0' flag filling the width.
 */
static void fmt_number(struct fmt_out *o, const struct fmt_spec *s, const char *prefix,
		       unsigned long long v, unsigned base, bool upper)
{
	char digits[24];        /* 22 octal digits hold 64 bits */
	int nd = fmt_digits(digits, v, base, upper, s->prec);
	int plen = 0;
	while (prefix[plen])
		plen++;
	int zeros = s->prec > nd ? s->prec - nd : 0;
	int body = plen + zeros + nd;

	if (s->zero && !s->left && s->prec < 0 && s->width > body) {
		zeros += s->width - body;
		body = s->width;
	}
	int pad = s->width > body ? s->width - body : 0;

	if (!s->left)
		fmt_pad(o, ' ', pad);
	fmt_put(o, prefix, (size_t)plen);
	fmt_pad(o, '0', zeros);
	while (nd > 0)
		fmt_putc(o, digits[--nd]);
	if (s->left)
		fmt_pad(o, ' ', pad);
}

/* n bytes of s, padded with spaces to the width. */
static void fmt_padded(struct fmt_out *o, const struct fmt_spec *s, const char *str, size_t n)
{
	int pad = (size_t)s->width > n ? s->width - (int)n : 0;

	if (!s->left)
		fmt_pad(o, ' ', pad);
	fmt_put(o, str, n);
	if (s->left)
		fmt_pad(o, ' ', pad);
}

/* At most prec bytes of str: never reads past them, so str need not be terminated. */
static void fmt_string(struct fmt_out *o, const struct fmt_spec *s, const char *str)
{
	size_t max = s->prec < 0 ? SIZE_MAX : (size_t)s->prec;
	size_t n = 0;

	if (!str)
		str = "(null)";
	while (n < max && str[n])
		n++;
	fmt_padded(o, s, str, n);
}

static void fmt_signed(struct fmt_out *o, const struct fmt_spec *s, long long v)
{
	/* 0 - (unsigned)v is the magnitude, also for LLONG_MIN. */
	unsigned long long mag = v < 0 ? 0 - (unsigned long long)v : (unsigned long long)v;

	fmt_number(o, s, v < 0 ? "-" : "", mag, 10, false);
}

static void fmt_pointer(struct fmt_out *o, const struct fmt_spec *s, const void *p)
{
	struct fmt_spec plain = *s;

	if (!p) {
		plain.prec = -1;
		fmt_string(o, &plain, "(nil)");
		return;
	}
	fmt_number(o, s, "0x", (uintptr_t)p, 16, false);
}

/* Print one conversion; false if s->conv is not one we know (nothing printed). */
static bool fmt_convert(struct fmt_out *o, const struct fmt_spec *s, va_list *ap)
{
	char c;

	switch (s->conv) {
	case 'd':
	case 'i':
		fmt_signed(o, s, fmt_arg_signed(s, ap));
		return true;
	case 'u':
		fmt_number(o, s, "", fmt_arg_unsigned(s, ap), 10, false);
		return true;
	case 'x':
	case 'X':
		fmt_number(o, s, "", fmt_arg_unsigned(s, ap), 16, s->conv == 'X');
		return true;
	case 'o':
		fmt_number(o, s, "", fmt_arg_unsigned(s, ap), 8, false);
		return true;
	case 'c':
		c = (char)va_arg(*ap, int);
		fmt_padded(o, s, &c, 1);
		return true;
	case 's':
		fmt_string(o, s, va_arg(*ap, const char *));
		return true;
	case 'p':
		fmt_pointer(o, s, va_arg(*ap, const void *));
		return true;
	case '%':
		fmt_putc(o, '%');
		return true;
	default:
		return false;
	}
}

/* Handle the specification at pct (a '%'); returns where the format goes on. */
static const char *fmt_one(struct fmt_out *o, const char *pct, va_list *ap)
{
	struct fmt_spec s;
	const char *conv = fmt_parse_spec(pct + 1, &s, ap);

	if (s.conv == '\0') {
		fmt_put(o, pct, (size_t)(conv - pct));
		return conv;
	}
	if (!fmt_convert(o, &s, ap))
		fmt_put(o, pct, (size_t)(conv - pct) + 1);
	return conv + 1;
}

int vireo_vsnprintf(char *buf, size_t size, const char *fmt, va_list ap)
{
	struct fmt_out o = { buf, size, 0 };
	va_list args;

	/* A local copy, so the helpers can share it through a pointer. */
	va_copy(args, ap);
	while (*fmt) {
		if (*fmt == '%')
			fmt = fmt_one(&o, fmt, &args);
		else
			fmt_putc(&o, *fmt++);
	}
	va_end(args);

	if (size)
		buf[o.len < size ? o.len : size - 1] = '\0';
	return o.len > (size_t)__INT_MAX__ ? __INT_MAX__ : (int)o.len;
}

int vireo_snprintf(char *buf, size_t size, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vireo_vsnprintf(buf, size, fmt, ap);
	va_end(ap);
	return n;
}
