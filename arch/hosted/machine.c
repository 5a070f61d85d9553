/*
 * The hosted machine: Vireo's machine interface for a Linux process.
 *
 * Machine memory is one anonymous mapping; MFN n is the n-th page of it, so
 * mfn_to_virt() and virt_to_mfn() are an add and a shift, like the image's
 * direct map. CPUs are threads: machine_run_on_cpus() starts one thread per
 * extra CPU and pins it to a host CPU, so benchmarks that pass data between
 * two "CPUs" really cross between cores.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include <arch/hosted.h>
#include <vireo/errno.h>
#include <vireo/machine.h>

_Thread_local unsigned hosted_cpu_id;

/* Written once by hosted_setup() under setup_once, read-only afterwards. */
static struct {
	uint8_t *mem;
	mfn_t nr_frames;
	unsigned nr_cpus;
	unsigned host_cpus;
	uint64_t start_ns;
	uint64_t tsc_khz;
	int initialised;
} hm;

static pthread_once_t setup_once = PTHREAD_ONCE_INIT;
static size_t want_mem_bytes;
static unsigned want_cpus;

static uint64_t host_mono_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* Measure the TSC against CLOCK_MONOTONIC over about 20 ms. */
static uint64_t calibrate_tsc_khz(void)
{
	uint64_t ns0 = host_mono_ns(), tsc0 = machine_tsc();
	struct timespec d = { 0, 20 * 1000 * 1000 };
	while (nanosleep(&d, &d) != 0 && errno == EINTR)
		;
	uint64_t ns1 = host_mono_ns(), tsc1 = machine_tsc();
	return (tsc1 - tsc0) * 1000000ull / (ns1 - ns0);
}

static void hosted_setup(void)
{
	size_t bytes = want_mem_bytes;
	if (!bytes) {
		const char *env = getenv("VIREO_HOSTED_MEM_MB");
		unsigned long mb = env ? strtoul(env, NULL, 10) : 0;
		bytes = (mb ? mb : 64) << 20;
	}
	long host = sysconf(_SC_NPROCESSORS_ONLN);
	hm.host_cpus = host > 0 ? (unsigned)host : 1;
	unsigned cpus = want_cpus ? want_cpus : hm.host_cpus;
	if (cpus < 2)
		cpus = 2;
	if (cpus > MAX_CPUS)
		cpus = MAX_CPUS;

	hm.nr_frames = bytes >> PAGE_SHIFT;
	hm.mem = mmap(NULL, hm.nr_frames << PAGE_SHIFT, PROT_READ | PROT_WRITE,
		      MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (hm.mem == MAP_FAILED) {
		fprintf(stderr, "hosted: cannot map %zu bytes of machine memory\n", bytes);
		exit(2);
	}
	hm.nr_cpus = cpus;
	hm.start_ns = host_mono_ns();
	hm.tsc_khz = calibrate_tsc_khz();
	__atomic_store_n(&hm.initialised, 1, __ATOMIC_RELEASE);
}

static inline void ensure_setup(void)
{
	/* Once set up, skip pthread_once: mfn_to_virt is on every page-table update's path. */
	if (__builtin_expect(!__atomic_load_n(&hm.initialised, __ATOMIC_ACQUIRE), 0))
		pthread_once(&setup_once, hosted_setup);
}

int hosted_machine_init(size_t mem_bytes, unsigned nr_cpus)
{
	if (hm.initialised)
		return -VIREO_EBUSY;
	if (mem_bytes < PAGE_SIZE || nr_cpus == 0 || nr_cpus > MAX_CPUS)
		return -VIREO_EINVAL;
	want_mem_bytes = mem_bytes;
	want_cpus = nr_cpus;
	ensure_setup();
	return 0;
}

mfn_t machine_nr_frames(void)
{
	ensure_setup();
	return hm.nr_frames;
}

void *mfn_to_virt(mfn_t mfn)
{
	ensure_setup();
	if (mfn >= hm.nr_frames)
		return NULL;
	return hm.mem + (mfn << PAGE_SHIFT);
}

mfn_t virt_to_mfn(const void *va)
{
	ensure_setup();
	uintptr_t off = (uintptr_t)va - (uintptr_t)hm.mem;
	if ((uintptr_t)va < (uintptr_t)hm.mem || (off >> PAGE_SHIFT) >= hm.nr_frames)
		return INVALID_MFN;
	return off >> PAGE_SHIFT;
}

void *maddr_to_virt(maddr_t maddr, size_t len)
{
	ensure_setup();
	maddr_t size = hm.nr_frames << PAGE_SHIFT;
	if (maddr >= size || len > size - maddr)
		return NULL;
	return hm.mem + maddr;
}

unsigned machine_nr_cpus(void)
{
	ensure_setup();
	return hm.nr_cpus;
}

void hosted_pin_to_cpu(unsigned cpu)
{
	ensure_setup();
	cpu_set_t set;
	CPU_ZERO(&set);
	CPU_SET(cpu % hm.host_cpus, &set);
	pthread_setaffinity_np(pthread_self(), sizeof(set), &set);
}

struct cpu_start {
	void (*fn)(void *arg, unsigned cpu);
	void *arg;
	unsigned cpu;
};

static void *cpu_thread(void *p)
{
	struct cpu_start *s = p;
	hosted_cpu_id = s->cpu;
	hosted_pin_to_cpu(s->cpu);
	s->fn(s->arg, s->cpu);
	return NULL;
}

int machine_run_on_cpus(unsigned n, void (*fn)(void *arg, unsigned cpu), void *arg)
{
	ensure_setup();
	if (n == 0 || n > hm.nr_cpus)
		return -VIREO_EINVAL;

	pthread_t threads[MAX_CPUS];
	struct cpu_start starts[MAX_CPUS];
	cpu_set_t saved;
	int have_saved = pthread_getaffinity_np(pthread_self(), sizeof(saved), &saved) == 0;
	unsigned started;

	for (started = 1; started < n; started++) {
		starts[started] = (struct cpu_start){ fn, arg, started };
		if (pthread_create(&threads[started], NULL, cpu_thread, &starts[started]) != 0) {
			fprintf(stderr, "hosted: cannot start CPU %u\n", started);
			exit(2);
		}
	}
	unsigned saved_id = hosted_cpu_id;
	hosted_cpu_id = 0;
	hosted_pin_to_cpu(0);
	fn(arg, 0);
	hosted_cpu_id = saved_id;
	for (unsigned i = 1; i < started; i++)
		pthread_join(threads[i], NULL);
	if (have_saved)
		pthread_setaffinity_np(pthread_self(), sizeof(saved), &saved);
	return 0;
}

uint64_t machine_now_ns(void)
{
	ensure_setup();
	return host_mono_ns() - hm.start_ns;
}

uint64_t machine_wallclock_base_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec - machine_now_ns();
}

uint64_t machine_tsc_khz(void)
{
	ensure_setup();
	return hm.tsc_khz;
}

/* Console input for the hosted tests: they put bytes here. */
const char *hosted_console_input;

size_t machine_console_read(char *buf, size_t len)
{
	size_t n = 0;
	while (n < len && hosted_console_input && *hosted_console_input)
		buf[n++] = *hosted_console_input++;
	return n;
}

void machine_console_write(const char *buf, size_t len)
{
	while (len) {
		ssize_t w = write(STDERR_FILENO, buf, len);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			return;
		}
		buf += w;
		len -= (size_t)w;
	}
}

void machine_halt(int status)
{
	hosted_halt_hook(status);
	fflush(NULL);
	_exit(status);
}
