/*
 * The smp guest's entry points: where a secondary vCPU starts (its RSP and
 * RDI from VCPUOP_initialise), and the event callback (Xen x86-64 PV
 * upcall frame { RCX, R11, RIP, CS, RFLAGS, RSP, SS }, upcalls masked; back
 * through the iret hypercall, which unmasks them).
 */
#include "pvasm.h"
	.text
	.globl secondary_start
secondary_start:
	call secondary_main
	ud2

	.globl smp_event_entry
smp_event_entry:
	pop %rcx
	pop %r11
	pv_save_caller_saved
	call smp_event
	pv_restore_caller_saved
	pv_iret 0
