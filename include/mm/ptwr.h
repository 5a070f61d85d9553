/*
 * Writable page tables (XENFEAT_writable_page_tables, enabled by the guest
 * with vm_assist(VMASST_TYPE_writable_pagetables)): a guest kernel's plain
 * write to one of its L1 page tables faults on the read-only mapping; the
 * write is decoded, validated as an mmu_update of that entry and emulated,
 * as Xen's "ptwr" does. Only whole, aligned 64-bit writes by the forms a
 * kernel uses are emulated:
 *
 *   mov r64 -> m64          REX.W 89 /r
 *   mov imm32 -> m64        REX.W C7 /0 (sign-extended)
 *   xchg r64, m64           REX.W 87 /r          (with or without LOCK)
 *   cmpxchg m64, r64        REX.W 0F B1 /r       (with or without LOCK)
 *
 * Anything else (other forms, partial writes, a write to an L2..L4, an
 * update the rules refuse) is not emulated: the page fault goes to the
 * guest as it came. Machine independent, so the decoder and the emulation
 * are tested on the hosted build; the arch supplies the bytes and registers.
 */
#ifndef MM_PTWR_H
#define MM_PTWR_H

#include <stdint.h>

#include <mm/frame_table.h>

enum ptwr_op { PTWR_MOV, PTWR_XCHG, PTWR_CMPXCHG };

struct ptwr_insn {
	enum ptwr_op op;
	unsigned len;          /* instruction length in bytes */
	unsigned reg;          /* source register (x86 encoding order: rax rcx rdx rbx rsp rbp rsi rdi r8..r15) */
	uint64_t imm;          /* PTWR_MOV from an immediate: the value; reg = ~0u */
};

/* Decode bytes[0 .. n) as one of the forms above: 0, or -VIREO_EINVAL when it is not one. */
int ptwr_decode(const uint8_t *bytes, unsigned n, struct ptwr_insn *out);

/* Registers the emulation reads and writes, in x86 encoding order. */
struct ptwr_regs {
	uint64_t gpr[16];
	uint64_t rflags;
};

/*
 * Emulate the faulting write at guest virtual address va (CR2) by vCPU mv
 * of the current domain (va is looked up in its kernel root), whose instruction bytes are insn[0 .. n): 0 with regs
 * updated (results of xchg/cmpxchg, ZF) and *advance the length to skip;
 * a negative errno when it is not to be emulated (nothing changed).
 * mm->lock must not be held; this takes it.
 */
int ptwr_emulate(struct domain_mm *mm, const struct mm_vcpu *mv, uint64_t va, const uint8_t *insn,
		 unsigned n, struct ptwr_regs *regs, unsigned *advance);

#endif
