/*
 * The guest's console output: a small printf that formats into a buffer
 * and writes it to the hypervisor console with console_io(CONSOLEIO_write).
 *
 * One static buffer serves every call, under a spinlock: a guest's vCPUs
 * may print at once (guests/smp). Not from an event callback that may
 * interrupt a print on the same vCPU. A call flushes when the buffer fills
 * and once at its end, so output never waits for a later call (the domain
 * may shut down right after it).
 */
#include "guest.h"
#include "hypercall.h"

#define CONSOLE_BUF 256

static char console_buf[CONSOLE_BUF];
static size_t console_len;
static volatile int console_lock;

static void lock(void)
{
	while (__atomic_exchange_n(&console_lock, 1, __ATOMIC_ACQUIRE))
		__asm__ volatile("pause");
}

static void unlock(void)
{
	__atomic_store_n(&console_lock, 0, __ATOMIC_RELEASE);
}

__attribute__((noinline)) static void console_flush(void)
{
	if (console_len)
		hyp_console_write(console_buf, (unsigned int)console_len);
	console_len = 0;
}

static void console_putc(char c)
{
	if (console_len == CONSOLE_BUF)
		console_flush();
	console_buf[console_len++] = c;
}

void console_write(const char *s, size_t len)
{
	lock();
	while (len--)
		console_putc(*s++);
	console_flush();
	unlock();
}

/* A conversion's flags and field width. */
struct spec {
	bool left;              /* '-': pad on the right */
	bool zero;              /* '0': pad numbers with zeros */
	unsigned width;
};

static void put_padded(const struct spec *sp, const char *s, size_t len, bool number)
{
	size_t pad = sp->width > len ? sp->width - len : 0;
	char fill = sp->zero && number && !sp->left ? '0' : ' ';

	/* A zero-padded negative number keeps its sign in front of the zeros. */
	if (fill == '0' && len && *s == '-') {
		console_putc('-');
		s++;
		len--;
	}
	if (!sp->left)
		while (pad--)
			console_putc(fill);
	while (len--)
		console_putc(*s++);
	if (sp->left)
		while (pad--)
			console_putc(' ');
}

static void put_number(const struct spec *sp, uint64_t v, unsigned base, bool negative,
		       bool upper)
{
	const char *digits = upper ? "0123456789ABCDEF" : "0123456789abcdef";
	char tmp[24];           /* 20 decimal digits of 2^64 - 1, a sign */
	char *p = tmp + sizeof(tmp);

	do {
		*--p = digits[v % base];
		v /= base;
	} while (v);
	if (negative)
		*--p = '-';
	put_padded(sp, p, (size_t)(tmp + sizeof(tmp) - p), true);
}

/* Fetch an integer argument of the given length modifier (0 int, 1 long, 2 long long). */
static uint64_t arg_unsigned(va_list *ap, int len)
{
	if (len >= 2)
		return va_arg(*ap, unsigned long long);
	if (len == 1)
		return va_arg(*ap, unsigned long);
	return va_arg(*ap, unsigned int);
}

static int64_t arg_signed(va_list *ap, int len)
{
	if (len >= 2)
		return va_arg(*ap, long long);
	if (len == 1)
		return va_arg(*ap, long);
	return va_arg(*ap, int);
}

void console_vprintf(const char *fmt, va_list ap_in)
{
	va_list ap;

	lock();
	va_copy(ap, ap_in);
	while (*fmt) {
		struct spec sp = { false, false, 0 };
		int len = 0;
		char c = *fmt++;

		if (c != '%') {
			console_putc(c);
			continue;
		}
		for (;; fmt++) {
			if (*fmt == '-')
				sp.left = true;
			else if (*fmt == '0')
				sp.zero = true;
			else
				break;
		}
		while (*fmt >= '0' && *fmt <= '9')
			sp.width = sp.width * 10 + (unsigned)(*fmt++ - '0');
		for (; *fmt == 'l'; fmt++)
			len++;
		if (*fmt == 'z') {      /* size_t is unsigned long */
			len = 1;
			fmt++;
		}

		switch (c = *fmt) {
		case 'd':
		case 'i': {
			int64_t v = arg_signed(&ap, len);
			uint64_t mag = v < 0 ? 0 - (uint64_t)v : (uint64_t)v;

			put_number(&sp, mag, 10, v < 0, false);
			break;
		}
		case 'u':
			put_number(&sp, arg_unsigned(&ap, len), 10, false, false);
			break;
		case 'x':
		case 'X':
			put_number(&sp, arg_unsigned(&ap, len), 16, false, c == 'X');
			break;
		case 'p':
			console_putc('0');
			console_putc('x');
			put_number(&sp, (uintptr_t)va_arg(ap, void *), 16, false, false);
			break;
		case 'c': {
			char ch = (char)va_arg(ap, int);

			put_padded(&sp, &ch, 1, false);
			break;
		}
		case 's': {
			const char *s = va_arg(ap, const char *);

			if (!s)
				s = "(null)";
			put_padded(&sp, s, strlen(s), false);
			break;
		}
		case '%':
			console_putc('%');
			break;
		case '\0':              /* a lone '%' at the end */
			console_putc('%');
			fmt--;
			break;
		default:                /* unknown: print it as written */
			console_putc('%');
			console_putc(c);
			break;
		}
		fmt++;
	}
	va_end(ap);
	console_flush();
	unlock();
}

void console_printf(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	console_vprintf(fmt, ap);
	va_end(ap);
}
