/*
 * Hypercalls from a Vireo PV guest, by Xen's x86-64 PV ABI (DESIGN.md
 * decision 1; Xen's docs/guest-guide/x86/hypercall-abi.rst):
 *
 *   RAX = hypercall number; RDI, RSI, RDX, R10, R8 = arguments 1-5
 *   (R10, not RCX, holds the 4th: SYSCALL overwrites RCX with the return
 *   address and R11 with RFLAGS); RAX = result, a negative errno on failure.
 *
 * The wrappers issue SYSCALL directly from guest kernel mode, as Xen's own
 * hypercall-page stubs do (and Linux since 6.1.123), so the guest needs no
 * hypercall page. Xen documents that a hypercall may clobber every
 * parameter register it uses, and a debug build of Xen poisons them on
 * return: every argument is therefore an in/out operand whose value after
 * the call is thrown away. "memory" because the hypervisor reads and writes
 * guest memory through pointer arguments.
 *
 * Only for guest kernel mode, and single-vCPU use needs nothing more: a
 * hypercall that Xen preempts is resumed by Xen itself (a continuation) and
 * looks to the guest like one long SYSCALL.
 */
#ifndef GUEST_HYPERCALL_H
#define GUEST_HYPERCALL_H

#include <stdint.h>

#include <public/xen.h>
#include <public/sched.h>
#include <public/version.h>

/* Xen's errno values (Xen's public errno.h), the negatives of which hypercalls return. */
#define XEN_EPERM   1
#define XEN_ENOENT  2
#define XEN_ESRCH   3
#define XEN_EFAULT 14
#define XEN_EBUSY  16
#define XEN_EINVAL 22
#define XEN_ENOSYS 38
#define XEN_EOVERFLOW  75
#define XEN_EOPNOTSUPP 95

static inline long hypercall0(unsigned long nr)
{
	long ret;

	asm volatile("syscall"
		     : "=a"(ret)
		     : "0"(nr)
		     : "rcx", "r11", "cc", "memory");
	return ret;
}

static inline long hypercall1(unsigned long nr, unsigned long a1)
{
	long ret;

	asm volatile("syscall"
		     : "=a"(ret), "+D"(a1)
		     : "0"(nr)
		     : "rcx", "r11", "cc", "memory");
	return ret;
}

static inline long hypercall2(unsigned long nr, unsigned long a1, unsigned long a2)
{
	long ret;

	asm volatile("syscall"
		     : "=a"(ret), "+D"(a1), "+S"(a2)
		     : "0"(nr)
		     : "rcx", "r11", "cc", "memory");
	return ret;
}

static inline long hypercall3(unsigned long nr, unsigned long a1, unsigned long a2,
			      unsigned long a3)
{
	long ret;

	asm volatile("syscall"
		     : "=a"(ret), "+D"(a1), "+S"(a2), "+d"(a3)
		     : "0"(nr)
		     : "rcx", "r11", "cc", "memory");
	return ret;
}

static inline long hypercall4(unsigned long nr, unsigned long a1, unsigned long a2,
			      unsigned long a3, unsigned long a4)
{
	long ret;
	register unsigned long r10 asm("r10") = a4;

	asm volatile("syscall"
		     : "=a"(ret), "+D"(a1), "+S"(a2), "+d"(a3), "+r"(r10)
		     : "0"(nr)
		     : "rcx", "r11", "cc", "memory");
	return ret;
}

static inline long hypercall5(unsigned long nr, unsigned long a1, unsigned long a2,
			      unsigned long a3, unsigned long a4, unsigned long a5)
{
	long ret;
	register unsigned long r10 asm("r10") = a4;
	register unsigned long r8 asm("r8") = a5;

	asm volatile("syscall"
		     : "=a"(ret), "+D"(a1), "+S"(a2), "+d"(a3), "+r"(r10), "+r"(r8)
		     : "0"(nr)
		     : "rcx", "r11", "cc", "memory");
	return ret;
}

/*
 * console_io(CONSOLEIO_write, count, buf): len bytes of buf to the
 * hypervisor console. 0 on success. On Xen only the initial domain may
 * use it (others get -EPERM) unless Xen is a debug build.
 */
static inline long hyp_console_write(const char *buf, unsigned int len)
{
	return hypercall3(__HYPERVISOR_console_io, CONSOLEIO_write, len, (unsigned long)buf);
}

/*
 * sched_op(SCHEDOP_shutdown, &{reason}): SHUTDOWN_poweroff, _reboot,
 * _crash... Does not return when it succeeds (the domain stops running);
 * a return value is an error.
 */
static inline long hyp_sched_shutdown(unsigned int reason)
{
	struct sched_shutdown arg = { .reason = reason };

	return hypercall2(__HYPERVISOR_sched_op, SCHEDOP_shutdown, (unsigned long)&arg);
}

/* sched_op(SCHEDOP_yield, NULL): give up the CPU for a moment. */
static inline long hyp_sched_yield(void)
{
	return hypercall2(__HYPERVISOR_sched_op, SCHEDOP_yield, 0);
}

/*
 * xen_version(cmd, arg): for XENVER_version (arg NULL) the version as
 * major << 16 | minor; for the string commands (XENVER_extraversion,
 * XENVER_capabilities, ...) 0 after filling *arg.
 */
static inline long hyp_xen_version(int cmd, void *arg)
{
	return hypercall2(__HYPERVISOR_xen_version, (unsigned long)(long)cmd, (unsigned long)arg);
}

#endif
