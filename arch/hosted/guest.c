/*
 * Guests on the hosted machine: what the domain builder and the hypercall
 * handlers need of the machine, so that core/domain.c and core/hypercall.c
 * run (and are fuzzed) in a Linux process.
 *
 * A "guest" never executes here. Entering one records its page-table root
 * and calls a hook the test installed (typically a longjmp back into the
 * test); copies to and from guest memory walk the guest's own 4-level page
 * tables in software, with the checks the MMU would make for a supervisor
 * access to a user page (present and user at every level, writable at every
 * level for a write), so a hosted test sees exactly the memory a guest could
 * hand the hypervisor.
 */
#include <stdlib.h>
#include <string.h>

#include <arch/hosted.h>
#include <core/domain.h>
#include <core/hypercall.h>
#include <vireo/errno.h>
#include <vireo/pte.h>
#include <vireo/machine.h>


static void (*enter_hook)(const struct guest_entry *e);
static void (*halt_hook)(int status);
static _Thread_local maddr_t guest_root;     /* the "CR3" of this CPU */

void hosted_set_guest_hooks(void (*enter)(const struct guest_entry *e), void (*halt)(int status))
{
	enter_hook = enter;
	halt_hook = halt;
}

void hosted_halt_hook(int status)
{
	if (halt_hook)
		halt_hook(status);
}

void machine_guest_root_init(uint64_t *root)
{
	/* No hypervisor mappings to share in a process: its slots stay empty. */
	memset(root + 256, 0, 16 * sizeof(*root));
}

/* Each CPU's guest part of the GDT: only memory here, for the tests to read. */
static uint64_t guest_gdt[MAX_CPUS][GUEST_GDT_ENTRIES];

void machine_guest_gdt_write(unsigned cpu, unsigned first, const uint64_t *desc, unsigned n)
{
	for (unsigned i = 0; i < n; i++) {
		unsigned e = first + i;
		if (e == 0)
			continue;
		if (e >= GUEST_GDT_ENTRIES)
			break;
		guest_gdt[cpu][e] = desc ? desc[i] : 0;
	}
}

const uint64_t *hosted_guest_gdt(void)
{
	return guest_gdt[cpu_id()];
}

/* Each CPU's loaded LDT: only recorded here, for the tests to read through. */
static const uint64_t *guest_ldt_base[MAX_CPUS];
static unsigned guest_ldt_entries[MAX_CPUS];

void machine_guest_ldt_load(const uint64_t *base, unsigned entries)
{
	guest_ldt_base[cpu_id()] = entries ? base : NULL;
	guest_ldt_entries[cpu_id()] = entries;
}

const uint64_t *hosted_guest_ldt(unsigned *entries)
{
	*entries = guest_ldt_entries[cpu_id()];
	return guest_ldt_base[cpu_id()];
}

void machine_enter_guest(const struct guest_entry *e)
{
	guest_root = e->root_maddr;
	if (enter_hook)
		enter_hook(e);
	abort();                                  /* nowhere to go: a test bug */
}

/* The hosted "MMU" walks the tables on every access: there is no TLB to flush. */
void machine_guest_load_root(maddr_t root)
{
	guest_root = root;
}

void machine_tlb_flush_local(void)
{
}

void machine_guest_unload(void)
{
	guest_root = 0;
	machine_guest_ldt_load(NULL, 0);
	memset(guest_gdt[cpu_id()], 0, sizeof(guest_gdt[0]));
}

void machine_invlpg(uint64_t va)
{
	(void)va;
}

/* Nothing to flush (no TLB): counted, and shown to a test's hook while the caller waits. */
uint64_t hosted_remote_flushes, hosted_remote_flush_mask;
static void (*remote_flush_hook)(uint64_t mask);

void hosted_set_tlb_flush_hook(void (*fn)(uint64_t mask))
{
	remote_flush_hook = fn;
}

void machine_tlb_flush_cpus(uint64_t mask)
{
	mask &= ~(1ull << cpu_id());
	if (!mask)
		return;
	__atomic_fetch_add(&hosted_remote_flushes, 1, __ATOMIC_RELAXED);
	__atomic_store_n(&hosted_remote_flush_mask, mask, __ATOMIC_RELAXED);
	if (remote_flush_hook)
		remote_flush_hook(mask);
}

int machine_start_on_cpu(unsigned cpu, void (*fn)(void *arg, unsigned cpu), void *arg)
{
	return -VIREO_EINVAL;                     /* domains run on the calling thread only */
}

/* Events on the hosted machine: one thread runs every domain, nothing to wake or wait for. */
uint64_t hosted_kicks, hosted_waits, hosted_timer_ns;

void machine_irq_disable(void)
{
}

void machine_kick_cpu(unsigned cpu)
{
	hosted_kicks++;
}

void machine_wait_event(const volatile uint8_t *flag, const volatile uint8_t *stop)
{
	hosted_waits++;                           /* a guest's block returns at once (a spurious wake-up) */
}

void machine_timer_at_ns(uint64_t ns)
{
	hosted_timer_ns = ns;
}

/* The host address of guest virtual address va, or NULL where the guest's tables say no. */
static uint8_t *guest_walk(uint64_t va, bool write)
{
	uint64_t entry = guest_root | PTE_P | PTE_U | PTE_W;
	for (int level = 3; level >= 0; level--) {
		const uint64_t *table = mfn_to_virt((entry & PTE_ADDR) >> PAGE_SHIFT);
		if (!table)
			return NULL;
		entry = table[(va >> (12 + 9 * level)) & 511];
		if (!(entry & PTE_P) || !(entry & PTE_U) || (write && !(entry & PTE_W)))
			return NULL;
		if (level && (entry & PTE_PS))
			return NULL;                  /* the builder makes no superpages */
	}
	uint8_t *page = mfn_to_virt((entry & PTE_ADDR) >> PAGE_SHIFT);
	return page ? page + (va & (PAGE_SIZE - 1)) : NULL;
}

static int guest_copy(uint64_t va, void *host, size_t len, bool to_guest)
{
	if (!domain_range_is_guest(va, va + len))
		return -VIREO_EFAULT;
	uint8_t *h = host;
	while (len) {
		size_t chunk = PAGE_SIZE - (va & (PAGE_SIZE - 1));
		if (chunk > len)
			chunk = len;
		uint8_t *g = guest_walk(va, to_guest);
		if (!g)
			return -VIREO_EFAULT;
		if (to_guest)
			memcpy(g, h, chunk);
		else
			memcpy(h, g, chunk);
		va += chunk;
		h += chunk;
		len -= chunk;
	}
	return 0;
}

int copy_from_guest(void *dst, uint64_t guest_va, size_t len)
{
	return guest_copy(guest_va, dst, len, false);
}

int copy_to_guest(uint64_t guest_va, const void *src, size_t len)
{
	return guest_copy(guest_va, (void *)src, len, true);
}

long arch_hypercall(uint64_t nr, struct hypercall_args *a)
{
	(void)nr;
	(void)a;
	return -VIREO_ENOSYS;                     /* the x86 register hypercalls are the image's */
}

void hosted_switch_to(struct domain *d)
{
	cpu_vcpu[cpu_id()] = d ? d->vcpu[0] : NULL;
	const struct mm_vcpu *mv = d ? &d->mm.vcpu[0] : NULL;          /* hosted tests run vCPU 0 */
	guest_root = mv && mv->root != INVALID_MFN ? (maddr_t)mv->root << PAGE_SHIFT : 0;
}

void hosted_place(struct domain *d, int cpu)
{
	struct vcpu *v = d->vcpu[0];
	if (cpu < 0) {
		if (v->on_cpu && cpu_vcpu[v->cpu] == v)
			cpu_vcpu[v->cpu] = NULL;
		v->on_cpu = 0;
		__atomic_store_n(&v->state, VCPU_READY, __ATOMIC_RELEASE);
		return;
	}
	v->cpu = (unsigned)cpu;
	v->on_cpu = 1;
	cpu_vcpu[cpu] = v;
	__atomic_store_n(&v->state, VCPU_RUNNING, __ATOMIC_RELEASE);
}

long hosted_hypercall(uint64_t nr, uint64_t a0, uint64_t a1, uint64_t a2, uint64_t a3,
		      uint64_t a4, unsigned *restarts)
{
	struct hypercall_args a = { { a0, a1, a2, a3, a4, 0 } };
	unsigned n = 0;
	long rc;
	while ((rc = hypercall_dispatch(nr, &a)) == -VIREO_ERESTART)
		n++;
	if (restarts)
		*restarts = n;
	return rc;
}
