/*
 * The machine interface: everything core/, mm/, fastpath/ and io/ may ask of
 * the machine they run on. Two implementations exist, chosen by the build:
 *
 *   arch/hosted/  - a Linux process: machine frames live in one big mapping,
 *                   threads act as CPUs (unit tests, fuzzing, sanitizers and
 *                   microbenchmarks);
 *   arch/x86_64/  - the bootable image on a real or emulated x86-64 machine.
 *
 * Machine-independent code includes this header only, never an arch header;
 * the static inline hot helpers come from <arch/machine.h>, which each arch
 * provides with the same names (Bao's core/inc/cpu.h + arch/cpu.h pattern).
 *
 * Units are in the names: mfn (machine frame number), maddr (machine
 * address), _ns (nanoseconds), _tsc (time-stamp-counter cycles).
 */
#ifndef VIREO_MACHINE_H
#define VIREO_MACHINE_H

#include <stddef.h>
#include <stdint.h>
#include <vireo/compiler.h>

#define PAGE_SHIFT 12
#define PAGE_SIZE  (1UL << PAGE_SHIFT)
#define PAGE_MASK  (~(PAGE_SIZE - 1))

#define MAX_CPUS 64

typedef uint64_t mfn_t;
typedef uint64_t maddr_t;

#define INVALID_MFN (~(mfn_t)0)

/*
 * Arch inline hooks, with these contracts:
 *   unsigned cpu_id(void)           this CPU's number, 0 .. machine_nr_cpus()-1
 *   uint64_t machine_tsc(void)      the time-stamp counter (cycles, not serialising)
 *   void     cpu_relax(void)        spin-wait hint (PAUSE)
 */
#include <arch/machine.h>

/* ---- machine frames ------------------------------------------------------ */

/* Number of machine frames the machine has: valid MFNs are 0 .. nr-1. */
mfn_t machine_nr_frames(void);

/*
 * The hypervisor's view of a machine frame: every frame of RAM is mapped at a
 * fixed place (the direct map), so the conversions are arithmetic. Both return
 * NULL / INVALID_MFN for a frame or address outside RAM.
 */
void *mfn_to_virt(mfn_t mfn);
mfn_t virt_to_mfn(const void *va);

/*
 * Any machine address the hypervisor may need to read (RAM, and firmware
 * tables such as ACPI's), or NULL when it is outside what the machine maps.
 * len bytes from maddr must all be mapped for a non-NULL answer.
 */
void *maddr_to_virt(maddr_t maddr, size_t len);

/* ---- CPUs ---------------------------------------------------------------- */

/* Number of CPUs that can run code (threads on hosted, APs brought up on metal). */
unsigned machine_nr_cpus(void);

/*
 * Run fn(arg, cpu) on CPUs 0 .. n-1 at once; CPU 0 is the caller. Returns when
 * every call has returned: 0, or a negative errno (nothing was run) when n is
 * 0 or larger than machine_nr_cpus().
 */
int machine_run_on_cpus(unsigned n, void (*fn)(void *arg, unsigned cpu), void *arg);

/*
 * Start fn(arg, cpu) on one other CPU and return at once; fn never returns
 * (it is how a CPU is handed a domain). -VIREO_EINVAL for CPU 0, the
 * caller's own, or one that is not up.
 */
int machine_start_on_cpu(unsigned cpu, void (*fn)(void *arg, unsigned cpu), void *arg);

/*
 * Interrupts off on this CPU (core/domain.c runs its CPUs' loop with them
 * off: a kick then waits for the guest, where it makes the vCPU look at
 * its requests, instead of landing in the hypervisor before the entry).
 */
void machine_irq_disable(void);

/*
 * Events (core/event.c): wake CPU cpu (an IPI) so it looks at its domain's
 * pending upcall; wait on this CPU, interrupts on, until *flag or *stop is
 * non-zero (or an interrupt came: callers look again); this CPU's one-shot timer
 * at system time ns (machine_now_ns), 0 for none.
 */
void machine_kick_cpu(unsigned cpu);
void machine_wait_event(const volatile uint8_t *flag, const volatile uint8_t *stop);
void machine_timer_at_ns(uint64_t ns);

/* ---- time ---------------------------------------------------------------- */

/* Monotonic time since the machine started, in nanoseconds. */
uint64_t machine_now_ns(void);

/*
 * The wall clock: Unix time in ns when machine_now_ns() was 0 (read from
 * the real-time clock at boot); 0 when unknown.
 */
uint64_t machine_wallclock_base_ns(void);

/* TSC frequency in kHz (measured or reported by CPUID). */
uint64_t machine_tsc_khz(void);

/* ---- guests ---------------------------------------------------------------- */

/*
 * Copy between the hypervisor and the address space of the guest running on
 * this CPU (during a hypercall). Only guest addresses are accepted (never the
 * hypervisor's range); a page that is not mapped ends the copy. 0, or
 * -VIREO_EFAULT with the destination possibly partly written.
 */
int copy_from_guest(void *dst, uint64_t guest_va, size_t len);
int copy_to_guest(uint64_t guest_va, const void *src, size_t len);

/* Fill the hypervisor's slots of a new guest top-level page table. */
void machine_guest_root_init(uint64_t *root);

/*
 * The guest page-table root of this CPU (CR3 on metal), and flushes of this
 * CPU's TLB for the guest's mappings: all of them, or one virtual address.
 * Guest mappings are never global, so a root load also flushes them.
 */
void machine_guest_load_root(maddr_t root);
/*
 * Leave guest page tables for the hypervisor's own, and unload the guest's
 * LDT and GDT entries (a vCPU has left this CPU).
 */
void machine_guest_unload(void);
void machine_tlb_flush_local(void);
void machine_invlpg(uint64_t va);

/*
 * Flush the guest TLB entries of every CPU in mask (bit n: CPU n) but this
 * one, and return when each has done so. May be called with interrupts off
 * and spinlocks held: a CPU spinning in cpu_relax() (spin_lock, and this
 * call's own wait) serves a request aimed at it, so CPUs flushing each
 * other, or waiting for a lock the caller holds, do not deadlock.
 */
void machine_tlb_flush_cpus(uint64_t mask);

/*
 * The guest's part of this CPU's GDT: entries 0 .. GUEST_GDT_ENTRIES-1 of
 * Xen's 16-page GDT (FIRST_RESERVED_GDT_ENTRY; the hypervisor's selectors
 * follow), of CPU cpu (this one, or one where a vCPU of the caller's
 * domain runs: the caller holds what keeps it there). Entries first ..
 * first+n-1 become desc[0 .. n-1], or not present (0) when desc is NULL.
 * The caller validated them (descriptor_ok() in mm/); entry 0, the CPU's
 * null descriptor, and entries past the guest's part are never written.
 * machine_guest_unload clears the whole part, so a vCPU never sees
 * another one's descriptors.
 */
#define GUEST_GDT_ENTRIES 7168
void machine_guest_gdt_write(unsigned cpu, unsigned first, const uint64_t *desc, unsigned n);

/*
 * The guest's LDT on this CPU: the `entries` descriptors at base (at most
 * 8192), or none when entries is 0. base is hypervisor memory holding
 * validated copies (mm/frame_table.c, mm_set_ldt), which the caller keeps
 * coherent and allocated while it is loaded; it is used in place, not
 * copied. machine_guest_unload unloads it.
 */
void machine_guest_ldt_load(const uint64_t *base, unsigned entries);

/*
 * The first entry into a guest vCPU: registers and page-table root, after
 * the caller loaded its GDT entries and LDT. Nothing of a previous vCPU on
 * this CPU stays visible (machine_guest_unload took its GDT entries and
 * LDT; segment, FPU and debug state are reset here).
 */
struct guest_entry {
	uint64_t rip, rsp, rsi;
	maddr_t root_maddr;
	/*
	 * The rest of a vCPU's first state (VCPUOP_initialise; zero from the
	 * builder): the other registers, the FS base and the guest kernel's
	 * GS base. RFLAGS is always 0x202 (IF on, as on Xen).
	 */
	uint64_t rax, rbx, rcx, rdx, rdi, rbp, r8, r9, r10, r11, r12, r13, r14, r15;
	uint64_t fs_base, gs_base;
};
NORETURN void machine_enter_guest(const struct guest_entry *e);

/* ---- console and stopping ------------------------------------------------ */

/* Write bytes to the machine console (serial line on metal, stderr on hosted). */
void machine_console_write(const char *buf, size_t len);
/* Console input that has arrived, without waiting: up to len bytes, how many. */
size_t machine_console_read(char *buf, size_t len);

/*
 * Stop the machine. status follows the exit statuses of the image (see
 * arch/x86_64): 0 all domains ended normally, 1 a domain crashed, 2 hypervisor
 * panic.
 */
NORETURN void machine_halt(int status);

#endif
