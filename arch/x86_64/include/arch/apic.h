#ifndef ARCH_X86_64_APIC_H
#define ARCH_X86_64_APIC_H

#include <stdbool.h>
#include <stdint.h>

void apic_init_cpu(void);                 /* enable this CPU's local APIC (x2APIC when present) */
bool apic_is_x2apic(void);
uint32_t apic_id(void);
void apic_eoi(void);
void apic_send_ipi(uint32_t dest_apic_id, unsigned vector);
void apic_send_init(uint32_t dest_apic_id);
void apic_send_sipi(uint32_t dest_apic_id, unsigned page);
bool apic_tsc_deadline(void);             /* the timer runs in TSC-deadline mode */
/* One-shot timer interrupt (VEC_TIMER) at TSC value deadline; 0 stops it. */
void apic_timer_at(uint64_t deadline_tsc);
void apic_timer_calibrate(void);          /* on the boot CPU, after the TSC is known */

/* TSC frequency: CPUID 0x15/0x16 where given, else measured against the PIT. */
uint64_t tsc_calibrate_khz(const char **how);
void tsc_delay_us(uint64_t us);

#endif
