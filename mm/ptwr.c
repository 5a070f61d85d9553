/*
 * Writable page tables: decode and emulate a guest kernel's direct write to
 * one of its L1 page tables (include/mm/ptwr.h). The write becomes an
 * mmu_update of that entry, with every rule of mm/frame_table.c.
 */
#include <mm/ptwr.h>
#include <public/xen.h>
#include <vireo/errno.h>
#include <vireo/pte.h>

int ptwr_decode(const uint8_t *b, unsigned n, struct ptwr_insn *out)
{
	unsigned i = 0, disp = 0;
	uint8_t rex = 0;

	/* LOCK and segment overrides (CR2 is the linear address anyway), then REX. */
	while (i < n && (b[i] == 0xF0 || b[i] == 0x64 || b[i] == 0x65) && i < 4)
		i++;
	if (i < n && (b[i] & 0xF0) == 0x40)
		rex = b[i++];
	if (!(rex & 0x08) || i >= n)
		return -VIREO_EINVAL;                  /* 64-bit operands only */
	bool imm = false;
	switch (b[i++]) {
	case 0x89:
		out->op = PTWR_MOV;
		break;
	case 0xC7:
		out->op = PTWR_MOV;
		imm = true;
		break;
	case 0x87:
		out->op = PTWR_XCHG;
		break;
	case 0x0F:
		if (i >= n || b[i++] != 0xB1)
			return -VIREO_EINVAL;
		out->op = PTWR_CMPXCHG;
		break;
	default:
		return -VIREO_EINVAL;
	}
	if (i >= n)
		return -VIREO_EINVAL;
	uint8_t modrm = b[i++];
	unsigned mod = modrm >> 6, reg = (modrm >> 3) & 7, rm = modrm & 7;
	if (mod == 3 || (imm && reg != 0))
		return -VIREO_EINVAL;                  /* a register operand, or not C7 /0 */
	if (rm == 4) {
		if (i >= n)
			return -VIREO_EINVAL;
		if (mod == 0 && (b[i] & 7) == 5)
			disp = 4;                      /* SIB without a base: disp32 */
		i++;
	}
	if (mod == 0 && rm == 5)
		disp = 4;                              /* RIP-relative */
	else if (mod == 1)
		disp = 1;
	else if (mod == 2)
		disp = 4;
	i += disp;
	if (imm) {
		if (i + 4 > n)
			return -VIREO_EINVAL;
		int32_t v = (int32_t)((uint32_t)b[i] | (uint32_t)b[i + 1] << 8 | (uint32_t)b[i + 2] << 16 |
				      (uint32_t)b[i + 3] << 24);
		out->imm = (uint64_t)(int64_t)v;
		i += 4;
	}
	if (i > n)
		return -VIREO_EINVAL;
	out->reg = imm ? ~0u : reg | ((rex & 0x04) ? 8u : 0u);
	out->len = i;
	return 0;
}

/* RFLAGS after CMP a, b (what CMPXCHG leaves): CF PF AF ZF SF OF. */
static uint64_t cmp_flags(uint64_t rflags, uint64_t a, uint64_t b)
{
	uint64_t r = a - b, f = rflags & ~0x8D5ull;
	if (a < b)
		f |= 0x001;                                            /* CF */
	if (!(__builtin_popcount((unsigned)(r & 0xFF)) & 1))
		f |= 0x004;                                            /* PF */
	if ((a ^ b ^ r) & 0x10)
		f |= 0x010;                                            /* AF */
	if (r == 0)
		f |= 0x040;                                            /* ZF */
	if (r >> 63)
		f |= 0x080;                                            /* SF */
	if (((a ^ b) & (a ^ r)) >> 63)
		f |= 0x800;                                            /* OF */
	return f;
}

int ptwr_emulate(struct domain_mm *mm, const struct mm_vcpu *mv, uint64_t va, const uint8_t *insn,
		 unsigned n, struct ptwr_regs *regs, unsigned *advance)
{
	struct ptwr_insn d;
	mfn_t l1;
	unsigned slot;
	int rc;

	if (!(mm->vm_assist & (1u << VMASST_TYPE_writable_pagetables)))
		return -VIREO_EPERM;
	if ((va & 7) || ptwr_decode(insn, n, &d) != 0)
		return -VIREO_EINVAL;
	spin_lock(&mm->lock);
	rc = mm_l1_slot(mm, mv, va, &l1, &slot);
	uint64_t e = rc ? 0 : ((const uint64_t *)mfn_to_virt(l1))[slot];
	mfn_t target = (e & PTE_ADDR) >> PAGE_SHIFT;
	const struct page_info *pg = mfn_to_page(target);
	/* A read-only mapping of an L1 in use of the domain's own: anything else is a real fault. */
	if (rc || !(e & PTE_P) || (e & PTE_W) || !mm_owns(mm, target) || pg->type != PGT_l1 ||
	    !pg->type_count) {
		spin_unlock(&mm->lock);
		return -VIREO_EINVAL;
	}
	uint64_t ptr = ((uint64_t)target << PAGE_SHIFT) | (va & (PAGE_SIZE - 1));
	uint64_t old = ((const uint64_t *)mfn_to_virt(target))[(va & (PAGE_SIZE - 1)) / 8];
	uint64_t val = d.reg == ~0u ? d.imm : regs->gpr[d.reg];
	bool write = true;
	if (d.op == PTWR_CMPXCHG) {
		regs->rflags = cmp_flags(regs->rflags, regs->gpr[0], old);
		write = regs->gpr[0] == old;
		if (!write)
			regs->gpr[0] = old;
	}
	if (write) {
		rc = mm_update(mm, ptr, val, false);
		if (rc == 0) {
			mm->stats.updates++;
			mm->stats.emulated++;
			if (d.op == PTWR_XCHG)
				regs->gpr[d.reg] = old;
		}
	}
	mm_sync(mm);
	spin_unlock(&mm->lock);
	if (rc == 0)
		*advance = d.len;
	return rc;
}
