/*
 * Hosted-only set-up, for the programs that run Vireo's core as a Linux
 * process (tests, benchmarks, fuzz targets). Machine-independent code never
 * includes this.
 */
#ifndef ARCH_HOSTED_HOSTED_H
#define ARCH_HOSTED_HOSTED_H

#include <stdint.h>
#include <stddef.h>

/*
 * Create the hosted machine: mem_bytes of machine memory (rounded down to
 * whole frames) and nr_cpus CPUs (threads). Called at most once, before any
 * other machine_* call; without it the first machine_* call sets up the
 * default machine (64 MiB, or $VIREO_HOSTED_MEM_MB; as many CPUs as the host
 * has, at least 2). Returns 0 or a negative errno.
 */
int hosted_machine_init(size_t mem_bytes, unsigned nr_cpus);

/*
 * Guests (arch/hosted/guest.c): entering a guest calls enter (which must not
 * return: a test longjmps out of it); machine_halt calls halt first when set.
 */
struct guest_entry;
void hosted_set_guest_hooks(void (*enter)(const struct guest_entry *e), void (*halt)(int status));
void hosted_halt_hook(int status);

/*
 * Be the guest of a domain on this thread: make it the current domain and
 * its kernel root the page tables copies walk (what entering it would do).
 */
struct domain;
void hosted_switch_to(struct domain *d);
/* d's vCPU 0 "runs" on CPU cpu (events to it kick that CPU), or on none when cpu < 0. */
void hosted_place(struct domain *d, int cpu);

/*
 * Issue hypercall nr as the current domain would: its continuations are
 * followed (the guest re-executing the call) until it returns. The number
 * of continuations taken goes to *restarts when that is not NULL.
 */
long hosted_hypercall(uint64_t nr, uint64_t a0, uint64_t a1, uint64_t a2, uint64_t a3,
		      uint64_t a4, unsigned *restarts);

/* This CPU's guest part of the GDT as machine_guest_gdt_write() left it (GUEST_GDT_ENTRIES). */
const uint64_t *hosted_guest_gdt(void);

/*
 * This CPU's LDT as machine_guest_ldt_load() last loaded it: its base (NULL
 * for none) and, in *entries, its number of descriptors.
 */
const uint64_t *hosted_guest_ldt(unsigned *entries);

/*
 * Events (arch/hosted/guest.c): one thread runs every domain, so nothing
 * is woken or waited for; these count what core/event.c asked for.
 * hosted_kicks: machine_kick_cpu calls; hosted_waits: machine_wait_event
 * calls (each returns at once); hosted_timer_ns: the last
 * machine_timer_at_ns deadline (0: none armed).
 */
extern uint64_t hosted_kicks, hosted_waits, hosted_timer_ns;

/*
 * Remote TLB flushes (machine_tlb_flush_cpus; the hosted machine has no
 * TLB): hosted_remote_flushes counts the calls that named another CPU,
 * hosted_remote_flush_mask is the last one's CPUs (this one left out); the
 * hook, when set, is called with that mask before the call returns (a
 * test's model of per-CPU TLBs empties those CPUs' there).
 */
extern uint64_t hosted_remote_flushes, hosted_remote_flush_mask;
void hosted_set_tlb_flush_hook(void (*fn)(uint64_t mask));

/* Console input the hosted machine's machine_console_read() hands out (NUL-terminated), or NULL. */
extern const char *hosted_console_input;

/* Bind the calling thread to the host CPU that backs hosted CPU `cpu` (best effort). */
void hosted_pin_to_cpu(unsigned cpu);

#endif
