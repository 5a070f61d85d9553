/* State of the image's machine, filled in by boot_main(). */
#ifndef ARCH_X86_64_MACHINE_IMAGE_H
#define ARCH_X86_64_MACHINE_IMAGE_H

#include <stdbool.h>
#include <stdint.h>

#include <vireo/machine.h>

struct machine_image {
	mfn_t nr_frames;              /* one past the highest RAM frame */
	uint64_t tsc_khz;
	uint64_t tsc_at_boot;
	uint64_t wallclock_base_ns;   /* Unix time at machine_now_ns() 0, from the RTC; 0: unknown */
	uint16_t debug_exit_port;     /* QEMU isa-debug-exit, 0 when not under QEMU */
	uint16_t pm1a_cnt, pm1b_cnt;  /* ACPI S5 power-off, from the FADT */
	uint16_t slp_typa, slp_typb;
	bool has_s5;
};

extern struct machine_image machine;

/* Unix seconds from the CMOS RTC now, or 0 when it reads as nonsense. */
uint64_t rtc_unix_seconds(void);

/* Exit statuses (machine_halt), also the QEMU exit code as ./vireo run reports it. */
#define EXIT_OK            0      /* every domain ended normally */
#define EXIT_DOMAIN_CRASH  1      /* a domain crashed */
#define EXIT_PANIC         2      /* the hypervisor stopped on an error */
#define EXIT_NOT_STARTED   4      /* a domain was refused; the others ended normally (3: the host's "no status") */

#endif
