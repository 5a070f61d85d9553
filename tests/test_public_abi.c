/*
 * Unit tests of the Xen x86-64 PV guest ABI definitions in include/public/.
 *
 * The headers assert every size and offset at compile time; this program
 * looks again at run time (sizes, offsets, and where a field lands in the
 * raw bytes of a page) and checks the constant values, which no static
 * assert can cross-check. Every expected number below was copied from Xen
 * 4.17's xen/include/public/ headers, not from ours.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <public/xen.h>
#include <public/arch-x86_64.h>
#include <public/event_channel.h>
#include <public/sched.h>
#include <public/vcpu.h>
#include <public/memory.h>
#include <public/version.h>
#include <public/features.h>
#include <public/elfnote.h>
#include <public/callback.h>
#include <public/physdev.h>
#include <public/grant_table.h>
#include <public/io/ring_xen.h>
#include <public/io/console.h>

#include "harness.h"

static void abi_hypercall_numbers(void)
{
	CHECK_EQ(__HYPERVISOR_set_trap_table, 0);
	CHECK_EQ(__HYPERVISOR_mmu_update, 1);
	CHECK_EQ(__HYPERVISOR_set_gdt, 2);
	CHECK_EQ(__HYPERVISOR_stack_switch, 3);
	CHECK_EQ(__HYPERVISOR_set_callbacks, 4);
	CHECK_EQ(__HYPERVISOR_fpu_taskswitch, 5);
	CHECK_EQ(__HYPERVISOR_sched_op_compat, 6);
	CHECK_EQ(__HYPERVISOR_platform_op, 7);
	CHECK_EQ(__HYPERVISOR_set_debugreg, 8);
	CHECK_EQ(__HYPERVISOR_get_debugreg, 9);
	CHECK_EQ(__HYPERVISOR_update_descriptor, 10);
	CHECK_EQ(__HYPERVISOR_memory_op, 12);
	CHECK_EQ(__HYPERVISOR_multicall, 13);
	CHECK_EQ(__HYPERVISOR_update_va_mapping, 14);
	CHECK_EQ(__HYPERVISOR_set_timer_op, 15);
	CHECK_EQ(__HYPERVISOR_event_channel_op_compat, 16);
	CHECK_EQ(__HYPERVISOR_xen_version, 17);
	CHECK_EQ(__HYPERVISOR_console_io, 18);
	CHECK_EQ(__HYPERVISOR_physdev_op_compat, 19);
	CHECK_EQ(__HYPERVISOR_grant_table_op, 20);
	CHECK_EQ(__HYPERVISOR_vm_assist, 21);
	CHECK_EQ(__HYPERVISOR_update_va_mapping_otherdomain, 22);
	CHECK_EQ(__HYPERVISOR_iret, 23);
	CHECK_EQ(__HYPERVISOR_vcpu_op, 24);
	CHECK_EQ(__HYPERVISOR_set_segment_base, 25);
	CHECK_EQ(__HYPERVISOR_mmuext_op, 26);
	CHECK_EQ(__HYPERVISOR_xsm_op, 27);
	CHECK_EQ(__HYPERVISOR_nmi_op, 28);
	CHECK_EQ(__HYPERVISOR_sched_op, 29);
	CHECK_EQ(__HYPERVISOR_callback_op, 30);
	CHECK_EQ(__HYPERVISOR_xenoprof_op, 31);
	CHECK_EQ(__HYPERVISOR_event_channel_op, 32);
	CHECK_EQ(__HYPERVISOR_physdev_op, 33);
	CHECK_EQ(__HYPERVISOR_hvm_op, 34);
	CHECK_EQ(__HYPERVISOR_sysctl, 35);
	CHECK_EQ(__HYPERVISOR_domctl, 36);
	CHECK_EQ(__HYPERVISOR_kexec_op, 37);
	CHECK_EQ(__HYPERVISOR_tmem_op, 38);
	CHECK_EQ(__HYPERVISOR_argo_op, 39);
	CHECK_EQ(__HYPERVISOR_xenpmu_op, 40);
	CHECK_EQ(__HYPERVISOR_dm_op, 41);
	CHECK_EQ(__HYPERVISOR_hypfs_op, 42);
	CHECK_EQ(__HYPERVISOR_arch_0, 48);
	CHECK_EQ(__HYPERVISOR_arch_7, 55);
	CHECK_EQ(__HYPERVISOR_mca, 48);
}

static void abi_domids_and_mmu(void)
{
	CHECK_EQ(sizeof(domid_t), 2);
	CHECK_EQ(DOMID_FIRST_RESERVED, 0x7FF0);
	CHECK_EQ(DOMID_SELF, 0x7FF0);
	CHECK_EQ(DOMID_IO, 0x7FF1);
	CHECK_EQ(DOMID_XEN, 0x7FF2);
	CHECK_EQ(DOMID_COW, 0x7FF3);
	CHECK_EQ(DOMID_INVALID, 0x7FF4);
	CHECK_EQ(DOMID_IDLE, 0x7FFF);
	CHECK_EQ(DOMID_MASK, 0x7FFF);

	CHECK_EQ(MMU_NORMAL_PT_UPDATE, 0);
	CHECK_EQ(MMU_MACHPHYS_UPDATE, 1);
	CHECK_EQ(MMU_PT_UPDATE_PRESERVE_AD, 2);
	CHECK_EQ(MMU_PT_UPDATE_NO_TRANSLATE, 3);
	CHECK_EQ(sizeof(struct mmu_update), 16);
	CHECK_EQ(offsetof(struct mmu_update, val), 8);

	CHECK_EQ(MMUEXT_PIN_L1_TABLE, 0);
	CHECK_EQ(MMUEXT_PIN_L2_TABLE, 1);
	CHECK_EQ(MMUEXT_PIN_L3_TABLE, 2);
	CHECK_EQ(MMUEXT_PIN_L4_TABLE, 3);
	CHECK_EQ(MMUEXT_UNPIN_TABLE, 4);
	CHECK_EQ(MMUEXT_NEW_BASEPTR, 5);
	CHECK_EQ(MMUEXT_TLB_FLUSH_LOCAL, 6);
	CHECK_EQ(MMUEXT_INVLPG_LOCAL, 7);
	CHECK_EQ(MMUEXT_TLB_FLUSH_MULTI, 8);
	CHECK_EQ(MMUEXT_INVLPG_MULTI, 9);
	CHECK_EQ(MMUEXT_TLB_FLUSH_ALL, 10);
	CHECK_EQ(MMUEXT_INVLPG_ALL, 11);
	CHECK_EQ(MMUEXT_FLUSH_CACHE, 12);
	CHECK_EQ(MMUEXT_SET_LDT, 13);
	CHECK_EQ(MMUEXT_NEW_USER_BASEPTR, 15);
	CHECK_EQ(MMUEXT_CLEAR_PAGE, 16);
	CHECK_EQ(MMUEXT_COPY_PAGE, 17);
	CHECK_EQ(MMUEXT_FLUSH_CACHE_GLOBAL, 18);
	CHECK_EQ(MMUEXT_MARK_SUPER, 19);
	CHECK_EQ(MMUEXT_UNMARK_SUPER, 20);
	CHECK_EQ(sizeof(struct mmuext_op), 24);
	CHECK_EQ(offsetof(struct mmuext_op, arg1), 8);
	CHECK_EQ(offsetof(struct mmuext_op, arg2), 16);

	/* arg2.nr_ents shares the low half of the word with vcpumask (little endian). */
	struct mmuext_op op;
	memset(&op, 0, sizeof(op));
	op.arg2.nr_ents = 0x1234;
	CHECK_EQ(op.arg2.vcpumask, 0x1234);

	CHECK_EQ(UVMF_NONE, 0);
	CHECK_EQ(UVMF_TLB_FLUSH, 1);
	CHECK_EQ(UVMF_INVLPG, 2);
	CHECK_EQ(UVMF_FLUSHTYPE_MASK, 3);
	CHECK_EQ(UVMF_MULTI, 0);
	CHECK_EQ(UVMF_LOCAL, 0);
	CHECK_EQ(UVMF_ALL, 4);
	CHECK_EQ(sizeof(UVMF_ALL), 8);

	CHECK_EQ(sizeof(struct multicall_entry), 64);
	CHECK_EQ(offsetof(struct multicall_entry, result), 8);
	CHECK_EQ(offsetof(struct multicall_entry, args[5]), 56);
}

static void abi_vmassist_and_console(void)
{
	CHECK_EQ(CONSOLEIO_write, 0);
	CHECK_EQ(CONSOLEIO_read, 1);
	CHECK_EQ(VMASST_CMD_enable, 0);
	CHECK_EQ(VMASST_CMD_disable, 1);
	CHECK_EQ(VMASST_TYPE_4gb_segments, 0);
	CHECK_EQ(VMASST_TYPE_4gb_segments_notify, 1);
	CHECK_EQ(VMASST_TYPE_writable_pagetables, 2);
	CHECK_EQ(VMASST_TYPE_pae_extended_cr3, 3);
	CHECK_EQ(VMASST_TYPE_architectural_iopl, 4);
	CHECK_EQ(VMASST_TYPE_runstate_update_flag, 5);
	CHECK_EQ(VMASST_TYPE_m2p_strict, 32);
}

static void abi_vcpu_info_layout(void)
{
	CHECK_EQ(sizeof(struct vcpu_time_info), 32);
	CHECK_EQ(offsetof(struct vcpu_time_info, version), 0);
	CHECK_EQ(offsetof(struct vcpu_time_info, tsc_timestamp), 8);
	CHECK_EQ(offsetof(struct vcpu_time_info, system_time), 16);
	CHECK_EQ(offsetof(struct vcpu_time_info, tsc_to_system_mul), 24);
	CHECK_EQ(offsetof(struct vcpu_time_info, tsc_shift), 28);
	CHECK_EQ(offsetof(struct vcpu_time_info, flags), 29);
	CHECK_EQ(XEN_PVCLOCK_TSC_STABLE_BIT, 1);
	CHECK_EQ(XEN_PVCLOCK_GUEST_STOPPED, 2);

	CHECK_EQ(sizeof(struct arch_vcpu_info), 16);
	CHECK_EQ(sizeof(struct vcpu_info), 64);
	CHECK_EQ(offsetof(struct vcpu_info, evtchn_upcall_pending), 0);
	CHECK_EQ(offsetof(struct vcpu_info, evtchn_upcall_mask), 1);
	CHECK_EQ(offsetof(struct vcpu_info, evtchn_pending_sel), 8);
	CHECK_EQ(offsetof(struct vcpu_info, arch.cr2), 16);
	CHECK_EQ(offsetof(struct vcpu_info, time), 32);
	CHECK_EQ(offsetof(struct vcpu_info, time.system_time), 48);
}

static void abi_shared_info_layout(void)
{
	static struct shared_info si;
	const uint8_t *raw = (const uint8_t *)&si;

	CHECK_EQ(XEN_LEGACY_MAX_VCPUS, 32);
	CHECK_EQ(sizeof(struct arch_shared_info), 48);
	CHECK_EQ(sizeof(struct shared_info), 3136);
	CHECK_EQ(offsetof(struct shared_info, vcpu_info[31]), 31 * 64);
	CHECK_EQ(offsetof(struct shared_info, evtchn_pending), 2048);
	CHECK_EQ(offsetof(struct shared_info, evtchn_mask), 2560);
	CHECK_EQ(offsetof(struct shared_info, wc_version), 3072);
	CHECK_EQ(offsetof(struct shared_info, wc_sec), 3076);
	CHECK_EQ(offsetof(struct shared_info, wc_nsec), 3080);
	CHECK_EQ(offsetof(struct shared_info, wc_sec_hi), 3084);
	CHECK_EQ(offsetof(struct shared_info, arch.max_pfn), 3088);
	CHECK_EQ(offsetof(struct shared_info, arch.pfn_to_mfn_frame_list_list), 3096);
	CHECK_EQ(offsetof(struct shared_info, arch.nmi_reason), 3104);
	CHECK_EQ(offsetof(struct shared_info, arch.p2m_cr3), 3112);
	CHECK_EQ(offsetof(struct shared_info, arch.p2m_vaddr), 3120);
	CHECK_EQ(offsetof(struct shared_info, arch.p2m_generation), 3128);

	/* 2-level ABI: port p is bit p % 64 of word p / 64, 4096 ports. */
	CHECK_EQ(EVTCHN_2L_NR_CHANNELS, 4096);
	CHECK_EQ(sizeof(si.evtchn_pending) * 8, EVTCHN_2L_NR_CHANNELS);
	CHECK_EQ(sizeof(si.evtchn_mask) * 8, EVTCHN_2L_NR_CHANNELS);
	memset(&si, 0, sizeof(si));
	si.evtchn_pending[4095 / 64] |= 1ULL << (4095 % 64);
	CHECK_EQ(raw[2048 + 4095 / 8], 0x80);
	si.evtchn_mask[9 / 64] |= 1ULL << (9 % 64);
	CHECK_EQ(raw[2560 + 1], 0x02);
	si.vcpu_info[3].evtchn_upcall_mask = 1;
	CHECK_EQ(raw[3 * 64 + 1], 1);
}

static void abi_start_info_layout(void)
{
	static struct start_info si;
	const uint8_t *raw = (const uint8_t *)&si;

	CHECK_EQ(sizeof(struct start_info), 1168);
	CHECK_EQ(MAX_GUEST_CMDLINE, 1024);
	CHECK_EQ(offsetof(struct start_info, magic), 0);
	CHECK_EQ(offsetof(struct start_info, nr_pages), 32);
	CHECK_EQ(offsetof(struct start_info, shared_info), 40);
	CHECK_EQ(offsetof(struct start_info, flags), 48);
	CHECK_EQ(offsetof(struct start_info, store_mfn), 56);
	CHECK_EQ(offsetof(struct start_info, store_evtchn), 64);
	CHECK_EQ(offsetof(struct start_info, console.domU.mfn), 72);
	CHECK_EQ(offsetof(struct start_info, console.domU.evtchn), 80);
	CHECK_EQ(offsetof(struct start_info, console.dom0.info_off), 72);
	CHECK_EQ(offsetof(struct start_info, console.dom0.info_size), 76);
	CHECK_EQ(offsetof(struct start_info, pt_base), 88);
	CHECK_EQ(offsetof(struct start_info, nr_pt_frames), 96);
	CHECK_EQ(offsetof(struct start_info, mfn_list), 104);
	CHECK_EQ(offsetof(struct start_info, mod_start), 112);
	CHECK_EQ(offsetof(struct start_info, mod_len), 120);
	CHECK_EQ(offsetof(struct start_info, cmd_line), 128);
	CHECK_EQ(offsetof(struct start_info, first_p2m_pfn), 1152);
	CHECK_EQ(offsetof(struct start_info, nr_p2m_frames), 1160);

	memset(&si, 0, sizeof(si));
	memcpy(si.magic, XEN_START_INFO_MAGIC, sizeof(XEN_START_INFO_MAGIC));
	CHECK(memcmp(raw, "xen-3.0-x86_64", 15) == 0);
	si.cmd_line[0] = 'q';
	CHECK_EQ(raw[128], 'q');
	si.flags = SIF_INITDOMAIN;
	CHECK_EQ(raw[48], 2);

	CHECK_EQ(SIF_PRIVILEGED, 1);
	CHECK_EQ(SIF_INITDOMAIN, 2);
	CHECK_EQ(SIF_MULTIBOOT_MOD, 4);
	CHECK_EQ(SIF_MOD_START_PFN, 8);
	CHECK_EQ(SIF_VIRT_P2M_4TOOLS, 16);
	CHECK_EQ(SIF_PM_MASK, 0xFF00);

	CHECK_EQ(sizeof(struct xen_multiboot_mod_list), 16);
	CHECK_EQ(sizeof(struct dom0_vga_console_info), 40);
	CHECK_EQ(offsetof(struct dom0_vga_console_info, u.vesa_lfb.lfb_base), 12);
	CHECK_EQ(XEN_VGATYPE_TEXT_MODE_3, 0x03);
	CHECK_EQ(XEN_VGATYPE_VESA_LFB, 0x23);
	CHECK_EQ(XEN_VGATYPE_EFI_LFB, 0x70);
}

static void abi_arch_x86_64(void)
{
	CHECK_EQ(sizeof(xen_pfn_t), 8);
	CHECK_EQ(sizeof(xen_ulong_t), 8);
	CHECK_EQ(sizeof(xen_callback_t), 8);

	CHECK_EQ(FLAT_RING3_CS32, 0xe023);
	CHECK_EQ(FLAT_RING3_CS64, 0xe033);
	CHECK_EQ(FLAT_RING3_DS32, 0xe02b);
	CHECK_EQ(FLAT_RING3_DS64, 0x0000);
	CHECK_EQ(FLAT_RING3_SS32, 0xe02b);
	CHECK_EQ(FLAT_RING3_SS64, 0xe02b);
	CHECK_EQ(FLAT_KERNEL_CS, 0xe033);
	CHECK_EQ(FLAT_KERNEL_DS, 0x0000);
	CHECK_EQ(FLAT_KERNEL_SS, 0xe02b);
	CHECK_EQ(FLAT_USER_CS, 0xe033);
	CHECK_EQ(FLAT_USER_CS32, 0xe023);
	CHECK_EQ(FLAT_USER_SS, 0xe02b);
	CHECK_EQ(FIRST_RESERVED_GDT_PAGE, 14);
	CHECK_EQ(FIRST_RESERVED_GDT_ENTRY, 7168);

	CHECK(HYPERVISOR_VIRT_START == 0xFFFF800000000000ULL);
	CHECK(HYPERVISOR_VIRT_END == 0xFFFF880000000000ULL);
	CHECK(MACH2PHYS_VIRT_START == 0xFFFF800000000000ULL);
	CHECK(MACH2PHYS_VIRT_END == 0xFFFF804000000000ULL);
	CHECK_EQ(MACH2PHYS_NR_ENTRIES, 1ULL << 35);

	CHECK_EQ(SEGBASE_FS, 0);
	CHECK_EQ(SEGBASE_GS_USER, 1);
	CHECK_EQ(SEGBASE_GS_KERNEL, 2);
	CHECK_EQ(SEGBASE_GS_USER_SEL, 3);

	CHECK_EQ(VGCF_I387_VALID, 1);
	CHECK_EQ(VGCF_IN_KERNEL, 4);
	CHECK_EQ(VGCF_i387_valid, 1);
	CHECK_EQ(VGCF_in_kernel, 4);
	CHECK_EQ(VGCF_failsafe_disables_events, 8);
	CHECK_EQ(VGCF_syscall_disables_events, 16);
	CHECK_EQ(VGCF_online, 32);
	CHECK_EQ(VGCF_in_syscall, 256);
	CHECK_EQ(VGCF_IN_SYSCALL, 256);

	CHECK_EQ(xen_pfn_to_cr3(0x12345), 0x12345000);
	CHECK_EQ(xen_cr3_to_pfn(0x12345000), 0x12345);

	struct trap_info ti = { .vector = 0x80, .flags = 0 };
	TI_SET_DPL(&ti, 3);
	TI_SET_IF(&ti, 1);
	CHECK_EQ(TI_GET_DPL(&ti), 3);
	CHECK_EQ(TI_GET_IF(&ti), 4);
	CHECK_EQ(ti.flags, 7);
	CHECK_EQ(sizeof(struct trap_info), 16);
	CHECK_EQ(offsetof(struct trap_info, cs), 2);
	CHECK_EQ(offsetof(struct trap_info, address), 8);

	CHECK_EQ(sizeof(struct iret_context), 72);
	CHECK_EQ(offsetof(struct iret_context, r11), 8);
	CHECK_EQ(offsetof(struct iret_context, rcx), 16);
	CHECK_EQ(offsetof(struct iret_context, flags), 24);
	CHECK_EQ(offsetof(struct iret_context, rip), 32);
	CHECK_EQ(offsetof(struct iret_context, cs), 40);
	CHECK_EQ(offsetof(struct iret_context, rflags), 48);
	CHECK_EQ(offsetof(struct iret_context, rsp), 56);
	CHECK_EQ(offsetof(struct iret_context, ss), 64);

	CHECK_EQ(sizeof(struct cpu_user_regs), 200);
	CHECK_EQ(offsetof(struct cpu_user_regs, r15), 0);
	CHECK_EQ(offsetof(struct cpu_user_regs, rbx), 40);
	CHECK_EQ(offsetof(struct cpu_user_regs, r11), 48);
	CHECK_EQ(offsetof(struct cpu_user_regs, rax), 80);
	CHECK_EQ(offsetof(struct cpu_user_regs, rsi), 104);
	CHECK_EQ(offsetof(struct cpu_user_regs, error_code), 120);
	CHECK_EQ(offsetof(struct cpu_user_regs, rip), 128);
	CHECK_EQ(offsetof(struct cpu_user_regs, cs), 136);
	CHECK_EQ(offsetof(struct cpu_user_regs, saved_upcall_mask), 140);
	CHECK_EQ(offsetof(struct cpu_user_regs, rflags), 144);
	CHECK_EQ(offsetof(struct cpu_user_regs, rsp), 152);
	CHECK_EQ(offsetof(struct cpu_user_regs, ss), 160);
	CHECK_EQ(offsetof(struct cpu_user_regs, gs), 192);

	CHECK_EQ(sizeof(struct vcpu_guest_context), 5168);
	CHECK_EQ(offsetof(struct vcpu_guest_context, user_regs), 520);
	CHECK_EQ(offsetof(struct vcpu_guest_context, trap_ctxt), 720);
	CHECK_EQ(offsetof(struct vcpu_guest_context, ctrlreg[3]), 5008);
	CHECK_EQ(offsetof(struct vcpu_guest_context, syscall_callback_eip), 5128);
	CHECK_EQ(offsetof(struct vcpu_guest_context, gs_base_user), 5160);
}

static void abi_event_channels(void)
{
	CHECK_EQ(EVTCHNOP_bind_interdomain, 0);
	CHECK_EQ(EVTCHNOP_bind_virq, 1);
	CHECK_EQ(EVTCHNOP_bind_pirq, 2);
	CHECK_EQ(EVTCHNOP_close, 3);
	CHECK_EQ(EVTCHNOP_send, 4);
	CHECK_EQ(EVTCHNOP_status, 5);
	CHECK_EQ(EVTCHNOP_alloc_unbound, 6);
	CHECK_EQ(EVTCHNOP_bind_ipi, 7);
	CHECK_EQ(EVTCHNOP_bind_vcpu, 8);
	CHECK_EQ(EVTCHNOP_unmask, 9);
	CHECK_EQ(EVTCHNOP_reset, 10);
	CHECK_EQ(EVTCHNOP_init_control, 11);
	CHECK_EQ(EVTCHNOP_expand_array, 12);
	CHECK_EQ(EVTCHNOP_set_priority, 13);

	CHECK_EQ(VIRQ_TIMER, 0);
	CHECK_EQ(VIRQ_DEBUG, 1);
	CHECK_EQ(VIRQ_CONSOLE, 2);
	CHECK_EQ(VIRQ_DOM_EXC, 3);
	CHECK_EQ(VIRQ_TBUF, 4);
	CHECK_EQ(VIRQ_DEBUGGER, 6);
	CHECK_EQ(VIRQ_XENOPROF, 7);
	CHECK_EQ(VIRQ_CON_RING, 8);
	CHECK_EQ(VIRQ_PCPU_STATE, 9);
	CHECK_EQ(VIRQ_MEM_EVENT, 10);
	CHECK_EQ(VIRQ_ARGO, 11);
	CHECK_EQ(VIRQ_ENOMEM, 12);
	CHECK_EQ(VIRQ_XENPMU, 13);
	CHECK_EQ(VIRQ_ARCH_0, 16);
	CHECK_EQ(NR_VIRQS, 24);

	CHECK_EQ(EVTCHNSTAT_closed, 0);
	CHECK_EQ(EVTCHNSTAT_unbound, 1);
	CHECK_EQ(EVTCHNSTAT_interdomain, 2);
	CHECK_EQ(EVTCHNSTAT_pirq, 3);
	CHECK_EQ(EVTCHNSTAT_virq, 4);
	CHECK_EQ(EVTCHNSTAT_ipi, 5);

	CHECK_EQ(sizeof(evtchn_port_t), 4);
	CHECK_EQ(sizeof(struct evtchn_alloc_unbound), 8);
	CHECK_EQ(offsetof(struct evtchn_alloc_unbound, port), 4);
	CHECK_EQ(sizeof(struct evtchn_bind_interdomain), 12);
	CHECK_EQ(offsetof(struct evtchn_bind_interdomain, remote_port), 4);
	CHECK_EQ(offsetof(struct evtchn_bind_interdomain, local_port), 8);
	CHECK_EQ(sizeof(struct evtchn_bind_virq), 12);
	CHECK_EQ(offsetof(struct evtchn_bind_virq, port), 8);
	CHECK_EQ(sizeof(struct evtchn_bind_pirq), 12);
	CHECK_EQ(sizeof(struct evtchn_bind_ipi), 8);
	CHECK_EQ(sizeof(struct evtchn_close), 4);
	CHECK_EQ(sizeof(struct evtchn_send), 4);
	CHECK_EQ(sizeof(struct evtchn_status), 24);
	CHECK_EQ(offsetof(struct evtchn_status, status), 8);
	CHECK_EQ(offsetof(struct evtchn_status, u), 16);
	CHECK_EQ(offsetof(struct evtchn_status, u.interdomain.port), 20);
	CHECK_EQ(sizeof(struct evtchn_bind_vcpu), 8);
	CHECK_EQ(sizeof(struct evtchn_unmask), 4);
	CHECK_EQ(sizeof(struct evtchn_reset), 2);
}

static void abi_sched(void)
{
	CHECK_EQ(SCHEDOP_yield, 0);
	CHECK_EQ(SCHEDOP_block, 1);
	CHECK_EQ(SCHEDOP_shutdown, 2);
	CHECK_EQ(SCHEDOP_poll, 3);
	CHECK_EQ(SCHEDOP_remote_shutdown, 4);
	CHECK_EQ(SCHEDOP_shutdown_code, 5);
	CHECK_EQ(SCHEDOP_watchdog, 6);
	CHECK_EQ(SCHEDOP_pin_override, 7);
	CHECK_EQ(SHUTDOWN_poweroff, 0);
	CHECK_EQ(SHUTDOWN_reboot, 1);
	CHECK_EQ(SHUTDOWN_suspend, 2);
	CHECK_EQ(SHUTDOWN_crash, 3);
	CHECK_EQ(SHUTDOWN_watchdog, 4);
	CHECK_EQ(SHUTDOWN_soft_reset, 5);
	CHECK_EQ(SHUTDOWN_MAX, 5);

	CHECK_EQ(sizeof(struct sched_shutdown), 4);
	CHECK_EQ(sizeof(struct sched_poll), 24);
	CHECK_EQ(offsetof(struct sched_poll, nr_ports), 8);
	CHECK_EQ(offsetof(struct sched_poll, timeout), 16);
	CHECK_EQ(sizeof(struct sched_remote_shutdown), 8);
	CHECK_EQ(offsetof(struct sched_remote_shutdown, reason), 4);
	CHECK_EQ(sizeof(struct sched_watchdog), 8);
	CHECK_EQ(sizeof(struct sched_pin_override), 4);
}

static void abi_vcpu_op(void)
{
	CHECK_EQ(VCPUOP_initialise, 0);
	CHECK_EQ(VCPUOP_up, 1);
	CHECK_EQ(VCPUOP_down, 2);
	CHECK_EQ(VCPUOP_is_up, 3);
	CHECK_EQ(VCPUOP_get_runstate_info, 4);
	CHECK_EQ(VCPUOP_register_runstate_memory_area, 5);
	CHECK_EQ(VCPUOP_set_periodic_timer, 6);
	CHECK_EQ(VCPUOP_stop_periodic_timer, 7);
	CHECK_EQ(VCPUOP_set_singleshot_timer, 8);
	CHECK_EQ(VCPUOP_stop_singleshot_timer, 9);
	CHECK_EQ(VCPUOP_register_vcpu_info, 10);
	CHECK_EQ(VCPUOP_send_nmi, 11);
	CHECK_EQ(VCPUOP_get_physid, 12);
	CHECK_EQ(VCPUOP_register_vcpu_time_memory_area, 13);
	CHECK_EQ(RUNSTATE_running, 0);
	CHECK_EQ(RUNSTATE_runnable, 1);
	CHECK_EQ(RUNSTATE_blocked, 2);
	CHECK_EQ(RUNSTATE_offline, 3);
	CHECK_EQ(VCPU_SSHOTTMR_future, 1);
	CHECK(XEN_RUNSTATE_UPDATE == 0x8000000000000000ULL);

	CHECK_EQ(sizeof(struct vcpu_runstate_info), 48);
	CHECK_EQ(offsetof(struct vcpu_runstate_info, state_entry_time), 8);
	CHECK_EQ(offsetof(struct vcpu_runstate_info, time[3]), 40);
	CHECK_EQ(sizeof(struct vcpu_register_runstate_memory_area), 8);
	CHECK_EQ(sizeof(struct vcpu_set_periodic_timer), 8);
	CHECK_EQ(sizeof(struct vcpu_set_singleshot_timer), 16);
	CHECK_EQ(offsetof(struct vcpu_set_singleshot_timer, flags), 8);
	CHECK_EQ(sizeof(struct vcpu_register_vcpu_info), 16);
	CHECK_EQ(offsetof(struct vcpu_register_vcpu_info, offset), 8);
	CHECK_EQ(sizeof(struct vcpu_get_physid), 8);
	CHECK_EQ(sizeof(struct vcpu_register_time_memory_area), 8);
}

static void abi_memory_op(void)
{
	CHECK_EQ(XENMEM_increase_reservation, 0);
	CHECK_EQ(XENMEM_decrease_reservation, 1);
	CHECK_EQ(XENMEM_maximum_ram_page, 2);
	CHECK_EQ(XENMEM_current_reservation, 3);
	CHECK_EQ(XENMEM_maximum_reservation, 4);
	CHECK_EQ(XENMEM_machphys_mfn_list, 5);
	CHECK_EQ(XENMEM_populate_physmap, 6);
	CHECK_EQ(XENMEM_add_to_physmap, 7);
	CHECK_EQ(XENMEM_memory_map, 9);
	CHECK_EQ(XENMEM_machine_memory_map, 10);
	CHECK_EQ(XENMEM_exchange, 11);
	CHECK_EQ(XENMEM_machphys_mapping, 12);
	CHECK_EQ(XENMEM_set_memory_map, 13);
	CHECK_EQ(XENMEM_maximum_gpfn, 14);
	CHECK_EQ(XENMEM_remove_from_physmap, 15);
	CHECK_EQ(XENMEM_add_to_physmap_batch, 23);
	CHECK_EQ(XENMEM_claim_pages, 24);
	CHECK_EQ(XENMEM_machphys_compat_mfn_list, 25);
	CHECK_EQ(XENMEM_get_vnumainfo, 26);
	CHECK_EQ(XENMEM_reserved_device_memory_map, 27);
	CHECK_EQ(XENMEM_acquire_resource, 28);
	CHECK_EQ(XENMEMF_node(0), 0x100);
	CHECK_EQ(XENMEMF_get_node(XENMEMF_node(3)), 3);
	CHECK_EQ(XENMEMF_populate_on_demand, 1 << 16);
	CHECK_EQ(XENMEMF_exact_node_request, 1 << 17);
	CHECK_EQ(XENMEMF_vnode, 1 << 18);
	CHECK_EQ(XENMAPSPACE_shared_info, 0);
	CHECK_EQ(XENMAPSPACE_grant_table, 1);
	CHECK_EQ(XENMAPSPACE_gmfn, 2);
	CHECK_EQ(XENMAPSPACE_gmfn_range, 3);
	CHECK_EQ(XENMAPSPACE_gmfn_foreign, 4);
	CHECK_EQ(XENMAPSPACE_dev_mmio, 5);

	CHECK_EQ(sizeof(struct xen_memory_reservation), 32);
	CHECK_EQ(offsetof(struct xen_memory_reservation, nr_extents), 8);
	CHECK_EQ(offsetof(struct xen_memory_reservation, extent_order), 16);
	CHECK_EQ(offsetof(struct xen_memory_reservation, mem_flags), 20);
	CHECK_EQ(offsetof(struct xen_memory_reservation, domid), 24);
	CHECK_EQ(sizeof(struct xen_memory_exchange), 72);
	CHECK_EQ(sizeof(struct xen_machphys_mfn_list), 24);
	CHECK_EQ(sizeof(struct xen_machphys_mapping), 24);
	CHECK_EQ(offsetof(struct xen_machphys_mapping, max_mfn), 16);
	CHECK_EQ(sizeof(struct xen_add_to_physmap), 24);
	CHECK_EQ(offsetof(struct xen_add_to_physmap, space), 4);
	CHECK_EQ(offsetof(struct xen_add_to_physmap, idx), 8);
	CHECK_EQ(offsetof(struct xen_add_to_physmap, gpfn), 16);
	CHECK_EQ(sizeof(struct xen_remove_from_physmap), 16);
	CHECK_EQ(sizeof(struct xen_memory_map), 16);
	CHECK_EQ(offsetof(struct xen_memory_map, buffer), 8);
	CHECK_EQ(sizeof(struct xen_foreign_memory_map), 24);

	/* E820 entries are packed: the second one starts at byte 20. */
	struct xen_e820_entry map[2];
	CHECK_EQ(sizeof(struct xen_e820_entry), 20);
	CHECK_EQ((const char *)&map[1] - (const char *)&map[0], 20);
	CHECK_EQ(XEN_E820_RAM, 1);
	CHECK_EQ(XEN_E820_RESERVED, 2);
	CHECK_EQ(XEN_E820_ACPI, 3);
	CHECK_EQ(XEN_E820_NVS, 4);
	CHECK_EQ(XEN_E820_UNUSABLE, 5);
}

static void abi_version_and_features(void)
{
	CHECK_EQ(XENVER_version, 0);
	CHECK_EQ(XENVER_extraversion, 1);
	CHECK_EQ(XENVER_compile_info, 2);
	CHECK_EQ(XENVER_capabilities, 3);
	CHECK_EQ(XENVER_changeset, 4);
	CHECK_EQ(XENVER_platform_parameters, 5);
	CHECK_EQ(XENVER_get_features, 6);
	CHECK_EQ(XENVER_pagesize, 7);
	CHECK_EQ(XENVER_guest_handle, 8);
	CHECK_EQ(XENVER_commandline, 9);
	CHECK_EQ(XENVER_build_id, 10);
	CHECK_EQ(sizeof(struct xen_extraversion), 16);
	CHECK_EQ(sizeof(struct xen_compile_info), 144);
	CHECK_EQ(sizeof(struct xen_capabilities_info), 1024);
	CHECK_EQ(sizeof(struct xen_changeset_info), 64);
	CHECK_EQ(sizeof(struct xen_platform_parameters), 8);
	CHECK_EQ(sizeof(struct xen_feature_info), 8);
	CHECK_EQ(offsetof(struct xen_feature_info, submap), 4);
	CHECK_EQ(sizeof(struct xen_commandline), 1024);
	CHECK_EQ(offsetof(struct xen_build_id, buf), 4);

	CHECK_EQ(XENFEAT_writable_page_tables, 0);
	CHECK_EQ(XENFEAT_writable_descriptor_tables, 1);
	CHECK_EQ(XENFEAT_auto_translated_physmap, 2);
	CHECK_EQ(XENFEAT_supervisor_mode_kernel, 3);
	CHECK_EQ(XENFEAT_pae_pgdir_above_4gb, 4);
	CHECK_EQ(XENFEAT_mmu_pt_update_preserve_ad, 5);
	CHECK_EQ(XENFEAT_highmem_assist, 6);
	CHECK_EQ(XENFEAT_gnttab_map_avail_bits, 7);
	CHECK_EQ(XENFEAT_hvm_callback_vector, 8);
	CHECK_EQ(XENFEAT_hvm_safe_pvclock, 9);
	CHECK_EQ(XENFEAT_hvm_pirqs, 10);
	CHECK_EQ(XENFEAT_dom0, 11);
	CHECK_EQ(XENFEAT_memory_op_vnode_supported, 13);
	CHECK_EQ(XENFEAT_ARM_SMCCC_supported, 14);
	CHECK_EQ(XENFEAT_linux_rsdp_unrestricted, 15);
	CHECK_EQ(XENFEAT_not_direct_mapped, 16);
	CHECK_EQ(XENFEAT_direct_mapped, 17);
	CHECK_EQ(XENFEAT_NR_SUBMAPS, 1);
}

static void abi_elfnotes(void)
{
	CHECK_EQ(XEN_ELFNOTE_INFO, 0);
	CHECK_EQ(XEN_ELFNOTE_ENTRY, 1);
	CHECK_EQ(XEN_ELFNOTE_HYPERCALL_PAGE, 2);
	CHECK_EQ(XEN_ELFNOTE_VIRT_BASE, 3);
	CHECK_EQ(XEN_ELFNOTE_PADDR_OFFSET, 4);
	CHECK_EQ(XEN_ELFNOTE_XEN_VERSION, 5);
	CHECK_EQ(XEN_ELFNOTE_GUEST_OS, 6);
	CHECK_EQ(XEN_ELFNOTE_GUEST_VERSION, 7);
	CHECK_EQ(XEN_ELFNOTE_LOADER, 8);
	CHECK_EQ(XEN_ELFNOTE_PAE_MODE, 9);
	CHECK_EQ(XEN_ELFNOTE_FEATURES, 10);
	CHECK_EQ(XEN_ELFNOTE_BSD_SYMTAB, 11);
	CHECK_EQ(XEN_ELFNOTE_HV_START_LOW, 12);
	CHECK_EQ(XEN_ELFNOTE_L1_MFN_VALID, 13);
	CHECK_EQ(XEN_ELFNOTE_SUSPEND_CANCEL, 14);
	CHECK_EQ(XEN_ELFNOTE_INIT_P2M, 15);
	CHECK_EQ(XEN_ELFNOTE_MOD_START_PFN, 16);
	CHECK_EQ(XEN_ELFNOTE_SUPPORTED_FEATURES, 17);
	CHECK_EQ(XEN_ELFNOTE_PHYS32_ENTRY, 18);
	CHECK_EQ(XEN_ELFNOTE_MAX, 18);
	CHECK_EQ(XEN_ELFNOTE_CRASH_INFO, 0x1000001);
	CHECK_EQ(XEN_ELFNOTE_CRASH_REGS, 0x1000002);
	CHECK_EQ(XEN_ELFNOTE_DUMPCORE_NONE, 0x2000000);
	CHECK_EQ(XEN_ELFNOTE_DUMPCORE_HEADER, 0x2000001);
	CHECK_EQ(XEN_ELFNOTE_DUMPCORE_XEN_VERSION, 0x2000002);
	CHECK_EQ(XEN_ELFNOTE_DUMPCORE_FORMAT_VERSION, 0x2000003);
}

static void abi_callbacks_and_physdev(void)
{
	CHECK_EQ(CALLBACKTYPE_event, 0);
	CHECK_EQ(CALLBACKTYPE_failsafe, 1);
	CHECK_EQ(CALLBACKTYPE_syscall, 2);
	CHECK_EQ(CALLBACKTYPE_sysenter_deprecated, 3);
	CHECK_EQ(CALLBACKTYPE_nmi, 4);
	CHECK_EQ(CALLBACKTYPE_sysenter, 5);
	CHECK_EQ(CALLBACKTYPE_syscall32, 7);
	CHECK_EQ(CALLBACKF_mask_events, 1);
	CHECK_EQ(CALLBACKOP_register, 0);
	CHECK_EQ(CALLBACKOP_unregister, 1);
	CHECK_EQ(sizeof(struct callback_register), 16);
	CHECK_EQ(offsetof(struct callback_register, flags), 2);
	CHECK_EQ(offsetof(struct callback_register, address), 8);
	CHECK_EQ(sizeof(struct callback_unregister), 4);

	CHECK_EQ(PHYSDEVOP_IRQ_UNMASK_NOTIFY, 4);
	CHECK_EQ(PHYSDEVOP_irq_status_query, 5);
	CHECK_EQ(PHYSDEVOP_set_iopl, 6);
	CHECK_EQ(PHYSDEVOP_set_iobitmap, 7);
	CHECK_EQ(PHYSDEVOP_apic_read, 8);
	CHECK_EQ(PHYSDEVOP_apic_write, 9);
	CHECK_EQ(PHYSDEVOP_alloc_irq_vector, 10);
	CHECK_EQ(PHYSDEVOP_free_irq_vector, 11);
	CHECK_EQ(PHYSDEVOP_eoi, 12);
	CHECK_EQ(PHYSDEVOP_map_pirq, 13);
	CHECK_EQ(PHYSDEVOP_unmap_pirq, 14);
	CHECK_EQ(PHYSDEVOP_manage_pci_add, 15);
	CHECK_EQ(PHYSDEVOP_manage_pci_remove, 16);
	CHECK_EQ(PHYSDEVOP_pirq_eoi_gmfn_v1, 17);
	CHECK_EQ(PHYSDEVOP_restore_msi, 19);
	CHECK_EQ(PHYSDEVOP_manage_pci_add_ext, 20);
	CHECK_EQ(PHYSDEVOP_setup_gsi, 21);
	CHECK_EQ(PHYSDEVOP_get_free_pirq, 23);
	CHECK_EQ(PHYSDEVOP_pci_mmcfg_reserved, 24);
	CHECK_EQ(PHYSDEVOP_pci_device_add, 25);
	CHECK_EQ(PHYSDEVOP_pci_device_remove, 26);
	CHECK_EQ(PHYSDEVOP_restore_msi_ext, 27);
	CHECK_EQ(PHYSDEVOP_pirq_eoi_gmfn_v2, 28);
	CHECK_EQ(PHYSDEVOP_dbgp_op, 29);
	CHECK_EQ(PHYSDEVOP_prepare_msix, 30);
	CHECK_EQ(PHYSDEVOP_release_msix, 31);
	CHECK_EQ(PHYSDEVOP_pirq_eoi_gmfn, 28);
	CHECK_EQ(XENIRQSTAT_needs_eoi, 1);
	CHECK_EQ(XENIRQSTAT_shared, 2);
	CHECK_EQ(sizeof(struct physdev_set_iopl), 4);
	CHECK_EQ(sizeof(struct physdev_eoi), 4);
	CHECK_EQ(sizeof(struct physdev_irq_status_query), 8);
	CHECK_EQ(sizeof(struct physdev_set_iobitmap), 16);
	CHECK_EQ(sizeof(struct physdev_pirq_eoi_gmfn), 8);
}

static void abi_grant_tables(void)
{
	CHECK_EQ(GNTTABOP_map_grant_ref, 0);
	CHECK_EQ(GNTTABOP_unmap_grant_ref, 1);
	CHECK_EQ(GNTTABOP_setup_table, 2);
	CHECK_EQ(GNTTABOP_dump_table, 3);
	CHECK_EQ(GNTTABOP_transfer, 4);
	CHECK_EQ(GNTTABOP_copy, 5);
	CHECK_EQ(GNTTABOP_query_size, 6);
	CHECK_EQ(GNTTABOP_unmap_and_replace, 7);
	CHECK_EQ(GNTTABOP_set_version, 8);
	CHECK_EQ(GNTTABOP_get_status_frames, 9);
	CHECK_EQ(GNTTABOP_get_version, 10);
	CHECK_EQ(GNTTABOP_swap_grant_ref, 11);
	CHECK_EQ(GNTTABOP_cache_flush, 12);

	CHECK_EQ(GTF_invalid, 0);
	CHECK_EQ(GTF_permit_access, 1);
	CHECK_EQ(GTF_accept_transfer, 2);
	CHECK_EQ(GTF_transitive, 3);
	CHECK_EQ(GTF_type_mask, 3);
	CHECK_EQ(GTF_readonly, 0x4);
	CHECK_EQ(GTF_reading, 0x8);
	CHECK_EQ(GTF_writing, 0x10);
	CHECK_EQ(GTF_PWT, 0x20);
	CHECK_EQ(GTF_PCD, 0x40);
	CHECK_EQ(GTF_PAT, 0x80);
	CHECK_EQ(GTF_sub_page, 0x100);
	CHECK_EQ(GTF_transfer_committed, 0x4);
	CHECK_EQ(GTF_transfer_completed, 0x8);

	CHECK_EQ(GNTMAP_device_map, 1);
	CHECK_EQ(GNTMAP_host_map, 2);
	CHECK_EQ(GNTMAP_readonly, 4);
	CHECK_EQ(GNTMAP_application_map, 8);
	CHECK_EQ(GNTMAP_contains_pte, 16);
	CHECK_EQ(GNTMAP_can_fail, 32);
	CHECK_EQ(GNTMAP_guest_avail_mask, 0xFFFF0000u);
	CHECK_EQ(GNTCOPY_source_gref, 1);
	CHECK_EQ(GNTCOPY_dest_gref, 2);

	CHECK_EQ(GNTST_okay, 0);
	CHECK_EQ(GNTST_general_error, -1);
	CHECK_EQ(GNTST_bad_domain, -2);
	CHECK_EQ(GNTST_bad_gntref, -3);
	CHECK_EQ(GNTST_bad_handle, -4);
	CHECK_EQ(GNTST_bad_virt_addr, -5);
	CHECK_EQ(GNTST_bad_dev_addr, -6);
	CHECK_EQ(GNTST_no_device_space, -7);
	CHECK_EQ(GNTST_permission_denied, -8);
	CHECK_EQ(GNTST_bad_page, -9);
	CHECK_EQ(GNTST_bad_copy_arg, -10);
	CHECK_EQ(GNTST_address_too_big, -11);
	CHECK_EQ(GNTST_eagain, -12);
	CHECK_EQ(GNTST_no_space, -13);
	CHECK_EQ(GNTTAB_NR_RESERVED_ENTRIES, 8);
	CHECK_EQ(GNTTAB_RESERVED_CONSOLE, 0);
	CHECK_EQ(GNTTAB_RESERVED_XENSTORE, 1);

	CHECK_EQ(sizeof(struct grant_entry_v1), 8);
	CHECK_EQ(offsetof(struct grant_entry_v1, domid), 2);
	CHECK_EQ(offsetof(struct grant_entry_v1, frame), 4);
	CHECK_EQ(4096 / sizeof(struct grant_entry_v1), 512);
	CHECK_EQ(sizeof(struct gnttab_map_grant_ref), 32);
	CHECK_EQ(offsetof(struct gnttab_map_grant_ref, ref), 12);
	CHECK_EQ(offsetof(struct gnttab_map_grant_ref, dom), 16);
	CHECK_EQ(offsetof(struct gnttab_map_grant_ref, status), 18);
	CHECK_EQ(offsetof(struct gnttab_map_grant_ref, handle), 20);
	CHECK_EQ(offsetof(struct gnttab_map_grant_ref, dev_bus_addr), 24);
	CHECK_EQ(sizeof(struct gnttab_unmap_grant_ref), 24);
	CHECK_EQ(offsetof(struct gnttab_unmap_grant_ref, handle), 16);
	CHECK_EQ(offsetof(struct gnttab_unmap_grant_ref, status), 20);
	CHECK_EQ(sizeof(struct gnttab_setup_table), 24);
	CHECK_EQ(offsetof(struct gnttab_setup_table, nr_frames), 4);
	CHECK_EQ(offsetof(struct gnttab_setup_table, status), 8);
	CHECK_EQ(offsetof(struct gnttab_setup_table, frame_list), 16);
	CHECK_EQ(sizeof(struct gnttab_query_size), 16);
	CHECK_EQ(offsetof(struct gnttab_query_size, max_nr_frames), 8);
	CHECK_EQ(offsetof(struct gnttab_query_size, status), 12);
	CHECK_EQ(sizeof(struct gnttab_copy), 40);
	CHECK_EQ(offsetof(struct gnttab_copy, source.domid), 8);
	CHECK_EQ(offsetof(struct gnttab_copy, source.offset), 10);
	CHECK_EQ(offsetof(struct gnttab_copy, dest.u.gmfn), 16);
	CHECK_EQ(offsetof(struct gnttab_copy, len), 32);
	CHECK_EQ(offsetof(struct gnttab_copy, flags), 34);
	CHECK_EQ(offsetof(struct gnttab_copy, status), 36);
	CHECK_EQ(sizeof(struct gnttab_transfer), 24);
	CHECK_EQ(sizeof(struct gnttab_dump_table), 4);
	CHECK_EQ(sizeof(struct gnttab_unmap_and_replace), 24);
	CHECK_EQ(sizeof(struct gnttab_set_version), 4);
	CHECK_EQ(sizeof(struct gnttab_get_status_frames), 16);
	CHECK_EQ(sizeof(struct gnttab_get_version), 8);
}

static void abi_shared_ring_header(void)
{
	CHECK_EQ(sizeof(struct xen_sring_header), 64);
	CHECK_EQ(XEN_SRING_ENTRIES_OFFSET, 64);
	CHECK_EQ(offsetof(struct xen_sring_header, req_event), 4);
	CHECK_EQ(offsetof(struct xen_sring_header, rsp_prod), 8);
	CHECK_EQ(offsetof(struct xen_sring_header, rsp_event), 12);
	CHECK_EQ(offsetof(struct xen_sring_header, pvt), 16);

	/* What __CONST_RING_SIZE gives for Xen's one-page rings. */
	CHECK_EQ(xen_sring_nr_entries(4096, 112), 32);   /* blkif */
	CHECK_EQ(xen_sring_nr_entries(4096, 12), 256);   /* netif tx (union of 12 and 4) */
	CHECK_EQ(xen_sring_nr_entries(4096, 8), 256);    /* netif rx */
	CHECK_EQ(xen_sring_nr_entries(4096, 4032), 1);
	CHECK_EQ(xen_sring_nr_entries(4096, 4033), 0);
	CHECK_EQ(xen_sring_nr_entries(4096, 0), 0);
	CHECK_EQ(xen_sring_nr_entries(32, 1), 0);
	CHECK_EQ(xen_sring_nr_entries(1ull << 40, 1), 0x80000000u);

	/* Notify iff the event index lies in (old, new], across wrap-around. */
	CHECK(xen_sring_need_notify(0, 1, 1));
	CHECK(!xen_sring_need_notify(1, 2, 1));
	CHECK(xen_sring_need_notify(0, 5, 3));
	CHECK(!xen_sring_need_notify(0, 5, 6));
	CHECK(!xen_sring_need_notify(5, 5, 5));
	CHECK(xen_sring_need_notify(0xFFFFFFFEu, 2, 0xFFFFFFFFu));
	CHECK(xen_sring_need_notify(0xFFFFFFFEu, 2, 1));
	CHECK(!xen_sring_need_notify(0xFFFFFFFEu, 2, 3));
}

static void abi_console_ring(void)
{
	static struct xencons_interface c;

	CHECK_EQ(sizeof(struct xencons_interface), 3088);
	CHECK_EQ(sizeof(c.in), 1024);
	CHECK_EQ(sizeof(c.out), 2048);
	CHECK_EQ(offsetof(struct xencons_interface, out), 1024);
	CHECK_EQ(offsetof(struct xencons_interface, in_cons), 3072);
	CHECK_EQ(offsetof(struct xencons_interface, in_prod), 3076);
	CHECK_EQ(offsetof(struct xencons_interface, out_cons), 3080);
	CHECK_EQ(offsetof(struct xencons_interface, out_prod), 3084);
	CHECK_EQ(MASK_XENCONS_IDX(2049u, c.out), 1);
	CHECK_EQ(MASK_XENCONS_IDX(1025u, c.in), 1);
	CHECK_EQ(sizeof(XENCONS_RING_IDX), 4);
}

static const struct test_case cases[] = {
	TEST(abi_hypercall_numbers),
	TEST(abi_domids_and_mmu),
	TEST(abi_vmassist_and_console),
	TEST(abi_vcpu_info_layout),
	TEST(abi_shared_info_layout),
	TEST(abi_start_info_layout),
	TEST(abi_arch_x86_64),
	TEST(abi_event_channels),
	TEST(abi_sched),
	TEST(abi_vcpu_op),
	TEST(abi_memory_op),
	TEST(abi_version_and_features),
	TEST(abi_elfnotes),
	TEST(abi_callbacks_and_physdev),
	TEST(abi_grant_tables),
	TEST(abi_shared_ring_header),
	TEST(abi_console_ring),
};

TEST_MAIN(cases)
