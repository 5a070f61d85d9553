#ifndef ARCH_X86_64_TRAPS_H
#define ARCH_X86_64_TRAPS_H

#include <stdint.h>

/* Registers as entry.S saves them; offsets are used by entry.S. */
struct cpu_regs {
	uint64_t r15, r14, r13, r12, r11, r10, r9, r8;
	uint64_t rbp, rdi, rsi, rdx, rcx, rbx, rax;
	uint64_t vector, error_code;
	uint64_t rip, cs, rflags, rsp, ss;   /* the hardware frame */
};

#define VEC_TIMER    0xF0
#define VEC_IPI_WAKE 0xF1
#define VEC_IPI_PING 0xF2
#define VEC_IPI_PONG 0xF3
#define VEC_IPI_FLUSH 0xF4   /* machine_tlb_flush_cpus (arch/x86_64/smp.c) */
#define VEC_SPURIOUS 0xFF

typedef void (*irq_handler_t)(struct cpu_regs *regs);

void traps_init(void);                           /* build the IDT (once, on the boot CPU) */
void traps_load(void);                           /* load it on this CPU */
void irq_register(unsigned vector, irq_handler_t fn);

/* A page fault on a guest copy: move to the copy's fixup and return true. */
#include <stdbool.h>
bool guest_copy_fault_fixup(struct cpu_regs *regs);

/*
 * Deliver a guest's exception to its trap-table handler; false when it has
 * none. cr2: read at entry for a #PF (a guest copy on the way may fault).
 */
bool guest_exception(struct cpu_regs *regs, uint64_t cr2);
bool guest_rip_ok(const struct cpu_regs *regs);
/* Before returning to the guest: a pending, unmasked event upcall to its callback. */
void guest_deliver_events(struct cpu_regs *regs);

#endif
