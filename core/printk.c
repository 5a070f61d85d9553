/*
 * printk and panic: whole lines to the machine console.
 *
 * A message is formatted into a PRINTK_LINE_MAX byte buffer on the stack
 * first, outside any lock, and then written with one machine_console_write
 * call under console_lock, so lines from different CPUs never interleave.
 * Every message ends in a newline (one is added when the text has none); a
 * message too long for the buffer is cut and ends in "...\n", which makes
 * exactly PRINTK_LINE_MAX bytes. A message may hold several lines: they are
 * written together.
 *
 * Two ways the lock could hang a CPU, and what is done about them:
 *   - the CPU already holds console_lock (a fault or NMI handler prints
 *     while the CPU was inside machine_console_write): console_owner names
 *     the holder, so the CPU sees it is its own lock and prints without it;
 *   - another CPU holds it and never lets go (it faulted, or is stuck):
 *     printk waits, as it must to keep lines whole, but panic waits only
 *     PANIC_LOCK_SPINS tries, then prints anyway. A garbled last line is
 *     better than a silent hang.
 *
 * On hosted, cpu_id() is 0 for every thread that machine_run_on_cpus did not
 * start, so threads made otherwise look like the holder to each other and
 * may interleave; tests that print from several threads use
 * machine_run_on_cpus.
 */
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>

#include <vireo/atomic.h>
#include <vireo/machine.h>
#include <vireo/printk.h>
#include <vireo/spinlock.h>

#define PRINTK_LINE_MAX   512
#define PANIC_LOCK_SPINS  (1u << 20)
#define CONSOLE_NO_OWNER  (~0u)

static spinlock_t console_lock = SPINLOCK_INIT;

/*
 * The CPU holding console_lock, or CONSOLE_NO_OWNER. Written only by the
 * holder (set after taking the lock, cleared before releasing it), read
 * without the lock. Relaxed is enough: a CPU only asks "is it me?", and a
 * CPU always sees its own latest write, so it reads its own id exactly when
 * it holds the lock; any other value means "not me", stale or not.
 */
static _Atomic unsigned console_owner = CONSOLE_NO_OWNER;

static bool console_held_by_me(void)
{
	return atomic_load_explicit(&console_owner, memory_order_relaxed) == cpu_id();
}

/*
 * Take console_lock, waiting at most max_spins tries (0: no limit). Returns
 * true when taken; false means print without it (the caller holds it
 * already, or it timed out).
 */
static bool console_lock_take(unsigned max_spins)
{
	if (console_held_by_me())
		return false;
	if (max_spins == 0) {
		spin_lock(&console_lock);
	} else {
		unsigned spins = 0;
		while (!spin_trylock(&console_lock)) {
			if (++spins >= max_spins)
				return false;
			cpu_relax();
		}
	}
	atomic_store_explicit(&console_owner, cpu_id(), memory_order_relaxed);
	return true;
}

static void console_lock_drop(void)
{
	atomic_store_explicit(&console_owner, CONSOLE_NO_OWNER, memory_order_relaxed);
	spin_unlock(&console_lock);
}

/*
 * Format prefix + message into line. Returns the bytes to write, newline
 * included: at most PRINTK_LINE_MAX (the text's NUL slot takes the newline).
 */
static size_t printk_format(char line[PRINTK_LINE_MAX], const char *prefix,
			    const char *fmt, va_list ap)
{
	size_t len = 0;

	while (prefix[len] && len < PRINTK_LINE_MAX / 2) {
		line[len] = prefix[len];
		len++;
	}

	int n = vireo_vsnprintf(line + len, PRINTK_LINE_MAX - len, fmt, ap);
	bool cut = n > 0 && (size_t)n >= PRINTK_LINE_MAX - len;

	if (cut) {
		len = PRINTK_LINE_MAX - 1;
		__builtin_memcpy(line + len - 3, "...", 3);
	} else if (n > 0) {
		len += (size_t)n;
	}
	if (len == 0 || line[len - 1] != '\n')
		line[len++] = '\n';
	return len;
}

static void console_emit(const char *line, size_t len, unsigned max_spins)
{
	bool locked = console_lock_take(max_spins);

	machine_console_write(line, len);
	if (locked)
		console_lock_drop();
}

void vprintk(const char *fmt, va_list ap)
{
	char line[PRINTK_LINE_MAX];
	size_t len = printk_format(line, "", fmt, ap);

	console_emit(line, len, 0);
}

void printk(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vprintk(fmt, ap);
	va_end(ap);
}

void panic(const char *fmt, ...)
{
	char line[PRINTK_LINE_MAX];
	va_list ap;
	size_t len;

	va_start(ap, fmt);
	len = printk_format(line, "PANIC: ", fmt, ap);
	va_end(ap);
	console_emit(line, len, PANIC_LOCK_SPINS);
	machine_halt(2);
}
