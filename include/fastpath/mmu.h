/*
 * The PV MMU batch executors (fastpath/mmu.c), called by the hypercall
 * dispatcher with the guest's argument registers (include/core/hypercall.h).
 */
#ifndef FASTPATH_MMU_H
#define FASTPATH_MMU_H

#include <core/hypercall.h>

long do_mmu_update(struct hypercall_args *a);
long do_mmuext_op(struct hypercall_args *a);
long do_update_va_mapping(struct hypercall_args *a);
long do_update_va_mapping_otherdomain(struct hypercall_args *a);
long do_multicall(struct hypercall_args *a);

#endif
