/*
 * Per-CPU data of the image. GS base points at the CPU's struct percpu;
 * the first two fields are at fixed offsets that arch/machine.h reads with
 * %gs-relative loads (cpu_id()).
 */
#ifndef ARCH_X86_64_PERCPU_H
#define ARCH_X86_64_PERCPU_H

#include <stdbool.h>
#include <stdint.h>

#include <arch/layout.h>
#include <vireo/machine.h>

struct tss64 {
	uint32_t reserved0;
	uint64_t rsp[3];
	uint64_t reserved1;
	uint64_t ist[7];
	uint64_t reserved2;
	uint16_t reserved3;
	uint16_t iomap_base;
} PACKED;
compile_assert(sizeof(struct tss64) == 104, "64-bit TSS is 104 bytes");

/* Work handed to a CPU by machine_run_on_cpus(). */
struct cpu_mailbox {
	void (*fn)(void *arg, unsigned cpu);
	void *arg;
	_Atomic uint64_t posted;      /* bumped by the poster after fn/arg are written */
	_Atomic uint64_t done;        /* set to posted by the CPU when fn returned */
};

struct percpu {
	struct percpu *self;          /* offset 0: PERCPU_OFF_SELF */
	unsigned cpu_id;              /* offset 8: PERCPU_OFF_CPU_ID */
	uint32_t apic_id;
	uint64_t stack_top;           /* offset 16: this CPU's hypervisor stack (syscall entry) */
	uint64_t guest_rsp;           /* offset 24: scratch for the guest's RSP at syscall entry */
	_Atomic int online;
	uint64_t *gdt;                /* GDT_PAGES pages, Xen's layout (arch/layout.h) */
	struct tss64 tss ALIGNED(16);
	struct cpu_mailbox mailbox ALIGNED(64);
	uint64_t nr_interrupts;
	uint64_t nr_timer;
	uint64_t timer_arrival_tsc;   /* written by the timer handler */
	uint64_t ipi_count;
	/*
	 * Remote TLB flushes (machine_tlb_flush_cpus): requesters bump
	 * flush_req; the CPU reloads CR3 and raises flush_ack to the request
	 * it saw (never lowers it: an IPI may serve between a spin-wait's
	 * load and store). A requester waits until flush_ack reaches its own.
	 */
	uint64_t flush_req ALIGNED(64);
	uint64_t flush_ack;
	uint64_t flushes_served;
};

compile_assert(__builtin_offsetof(struct percpu, cpu_id) == 8, "cpu_id() reads %gs:8");
compile_assert(__builtin_offsetof(struct percpu, stack_top) == 16, "entry.S reads %gs:16");
compile_assert(__builtin_offsetof(struct percpu, guest_rsp) == 24, "entry.S uses %gs:24");

extern struct percpu percpu[MAX_CPUS];
extern unsigned nr_cpus_online;

struct acpi_info;

/*
 * Start the CPUs the MADT lists (at most max_cpus in all), through the AP
 * start-up code copied to start_page (a free RAM page below 1 MiB); returns
 * how many are up.
 */
unsigned smp_boot(const struct acpi_info *ai, unsigned max_cpus, uint32_t start_page);

/* vireo.selftest=tlb-flush (machine_tlb_flush_cpus): true when it passed. */
bool smp_tlb_flush_selftest(void);

/* Reload CR3 on every CPU (after a change to the hypervisor's own mappings). */
void smp_flush_all_tlbs(void);

/* Load this CPU's GDT, TSS and IDT, and point GS at its struct percpu. */
void cpu_init_tables(struct percpu *pc);
uint64_t *boot_cpu_gdt_pages(void);

/* SYSCALL/SYSRET set-up for this CPU (arch/x86_64/syscall.c). */
void syscall_init_cpu(void);

#endif
