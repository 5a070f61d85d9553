/*
 * The mmu guest's #GP and #PF entries (Xen x86-64 PV bounce frame, as in
 * guests/traps/stubs.S): the hypervisor enters with
 *     { RCX, R11, error code, RIP, CS, RFLAGS, RSP, SS }
 * on the kernel stack. The stubs push the vector below the error code and
 * call
 *     void mmu_page_fault(uint64_t *frame)
 * with frame[-1] the vector, frame[0] the error code, frame[1] RIP, ...;
 * it may change the saved RIP. They return through the iret hypercall.
 */
#include "pvasm.h"
	.text
	.globl mmu_pf_entry, mmu_gp_entry
mmu_gp_entry:
	pop %rcx
	pop %r11
	pushq $13
	jmp fault_common
mmu_pf_entry:
	pop %rcx
	pop %r11
	pushq $14
fault_common:
	pv_save_caller_saved
	lea 80(%rsp), %rdi               /* the error code, then RIP, CS, RFLAGS, RSP, SS */
	call mmu_page_fault
	pv_restore_caller_saved
	add $16, %rsp                    /* the vector, the error code */
	pv_iret 0

	.section .note.GNU-stack, "", @progbits
