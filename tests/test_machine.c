/* Unit tests of the hosted machine interface (arch/hosted/machine.c). */
#include <stdatomic.h>
#include <string.h>

#include <arch/hosted.h>
#include <vireo/errno.h>
#include <vireo/machine.h>
#include <vireo/time.h>
#include <time.h>

#include "harness.h"

static void machine_frames_round_trip(void)
{
	REQUIRE(hosted_machine_init(16 << 20, 4) == 0);
	CHECK_EQ(hosted_machine_init(16 << 20, 4), -VIREO_EBUSY);
	CHECK_EQ(machine_nr_frames(), (16 << 20) / PAGE_SIZE);

	uint8_t *f0 = mfn_to_virt(0), *f5 = mfn_to_virt(5);
	REQUIRE(f0 && f5);
	CHECK_EQ((uintptr_t)f0 & (PAGE_SIZE - 1), 0);
	CHECK_EQ(f5 - f0, 5 * PAGE_SIZE);
	CHECK_EQ(virt_to_mfn(f5), 5);
	CHECK_EQ(virt_to_mfn(f5 + 4095), 5);
	mfn_t last = machine_nr_frames() - 1;
	CHECK_EQ(virt_to_mfn(mfn_to_virt(last)), last);
	CHECK(mfn_to_virt(last + 1) == NULL);
	CHECK_EQ(virt_to_mfn(f0 - 1), INVALID_MFN);
	CHECK_EQ(virt_to_mfn((uint8_t *)mfn_to_virt(last) + PAGE_SIZE), INVALID_MFN);

	/* Frames are real memory, writable, and distinct. */
	memset(f5, 0x5A, PAGE_SIZE);
	CHECK_EQ(f5[0], 0x5A);
	CHECK_EQ(f0[PAGE_SIZE * 4], 0);
}

static _Atomic unsigned seen_mask;
static _Atomic unsigned ids_ok;

static void record_cpu(void *arg, unsigned cpu)
{
	atomic_fetch_or(&seen_mask, 1u << cpu);
	if (cpu_id() == cpu)
		atomic_fetch_add(&ids_ok, 1);
}

static void machine_runs_cpus(void)
{
	CHECK_EQ(machine_nr_cpus(), 4);
	CHECK_EQ(machine_run_on_cpus(4, record_cpu, NULL), 0);
	CHECK_EQ(seen_mask, 0xF);
	CHECK_EQ(ids_ok, 4);
	CHECK_EQ(cpu_id(), 0);
	CHECK_EQ(machine_run_on_cpus(0, record_cpu, NULL), -VIREO_EINVAL);
	CHECK_EQ(machine_run_on_cpus(5, record_cpu, NULL), -VIREO_EINVAL);
}

static void machine_clock_moves(void)
{
	uint64_t t0 = machine_now_ns(), c0 = machine_tsc();
	volatile uint64_t spin = 0;
	while (machine_now_ns() - t0 < 2 * 1000 * 1000)
		spin++;
	uint64_t t1 = machine_now_ns(), c1 = machine_tsc();
	CHECK(t1 > t0);
	CHECK(c1 > c0);
	/* A plausible TSC: between 100 MHz and 10 GHz. */
	CHECK(machine_tsc_khz() > 100 * 1000);
	CHECK(machine_tsc_khz() < 10 * 1000 * 1000);
}

/* The RTC's calendar arithmetic against known days (python's datetime), and the hosted wall clock. */
static void calendar_and_wallclock(void)
{
	CHECK_EQ(days_from_civil(1970, 1, 1), 0);
	CHECK_EQ(days_from_civil(1969, 12, 31), -1);
	CHECK_EQ(days_from_civil(2000, 3, 1), 11017);
	CHECK_EQ(days_from_civil(2024, 2, 29), 19782);            /* a leap day */
	CHECK_EQ(days_from_civil(2026, 11, 26), 20783);
	CHECK_EQ(days_from_civil(2100, 3, 1), 47541);             /* 2100 is not a leap year */
	CHECK_EQ(days_from_civil(1600, 1, 1), -135140);
	CHECK_EQ(unix_seconds(2026, 11, 26, 4, 5, 6), 1795665906);
	uint64_t wc = machine_wallclock_base_ns() + machine_now_ns();
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	uint64_t host = (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
	CHECK(wc <= host && host - wc < 1000000000ull);          /* within a second of the host's */
}

static const struct test_case cases[] = {
	TEST(machine_frames_round_trip),
	TEST(machine_runs_cpus),
	TEST(machine_clock_moves),
	TEST(calendar_and_wallclock),
};

TEST_MAIN(cases)
