/*
 * Xen x86-64 PV guest ABI: feature bits reported by XENVER_get_features and
 * named (without the prefix) in XEN_ELFNOTE_FEATURES (mirrors Xen 4.17's
 * xen/include/public/features.h). Values are bit numbers in submap 0.
 */
#ifndef VIREO_PUBLIC_FEATURES_H
#define VIREO_PUBLIC_FEATURES_H

#define XENFEAT_writable_page_tables        0   /* guest may write PTEs directly */
#define XENFEAT_writable_descriptor_tables  1   /* guest may write GDT/LDT directly */
#define XENFEAT_auto_translated_physmap     2   /* the hypervisor translates P2M */
#define XENFEAT_supervisor_mode_kernel      3   /* the guest kernel runs in ring 0 */
#define XENFEAT_pae_pgdir_above_4gb         4   /* PAE page directories may be above 4 GiB */
#define XENFEAT_mmu_pt_update_preserve_ad   5   /* MMU_PT_UPDATE_PRESERVE_AD supported */
#define XENFEAT_highmem_assist              6   /* MMUEXT_{CLEAR,COPY}_PAGE supported */
#define XENFEAT_gnttab_map_avail_bits       7   /* GNTTABOP_map_grant_ref honours avail bits */
#define XENFEAT_hvm_callback_vector         8   /* x86 HVM: callback vector type */
#define XENFEAT_hvm_safe_pvclock            9   /* x86 HVM: pvclock is safe */
#define XENFEAT_hvm_pirqs                  10   /* x86 HVM: PIRQs usable */
#define XENFEAT_dom0                       11   /* operation as dom0 is supported */
/* 12 was XENFEAT_grant_map_identity, deprecated */
#define XENFEAT_memory_op_vnode_supported  13   /* XENMEMF_vnode usable */
#define XENFEAT_ARM_SMCCC_supported        14   /* Arm: SMC calling convention */
#define XENFEAT_linux_rsdp_unrestricted    15   /* x86 PVH: RSDP may be anywhere */
#define XENFEAT_not_direct_mapped          16   /* gfn != mfn for this domain */
#define XENFEAT_direct_mapped              17   /* gfn == mfn for this domain */

#define XENFEAT_NR_SUBMAPS 1

#endif
