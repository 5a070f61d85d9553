/*
 * mm_audit(): the frame table's invariants, recomputed from scratch (see
 * include/mm/frame_table.h). Used by the hosted tests and the MMU fuzzer
 * after every batch; it walks every frame of the given domains, so it is a
 * test tool, not a hot path.
 */
#include <mm/frame_table.h>
#include <mm/heap.h>
#include <vireo/errno.h>
#include <vireo/printk.h>
#include <vireo/pte.h>

#define FAIL(...) do { vireo_snprintf(why, why_len, __VA_ARGS__); rc = -VIREO_EIO; goto out; } while (0)

static int owner_index(struct domain_mm *const *mms, unsigned n, uint16_t owner)
{
	for (unsigned i = 0; i < n; i++)
		if (mms[i]->owner == owner)
			return (int)i;
	return -1;
}

/* May mm's L1 map this frame of another domain (a foreign mapping)? */
static bool foreign_ok(struct domain_mm *const *mms, unsigned n, const struct domain_mm *mm, mfn_t target)
{
	if (!mm->privileged || target >= frame_table_frames)
		return false;
	if (frame_table[target].owner == OWNER_ORPHAN)
		return true;
	int o = owner_index(mms, n, frame_table[target].owner);
	return o >= 0 && !mms[o]->privileged;
}

/* One vCPU's references (roots, GDT and LDT frames) counted, and its LDT copy checked. */
static int audit_vcpu(const struct domain_mm *mm, unsigned v, uint32_t *cnt, uint32_t *tcnt, char *why,
		      unsigned why_len)
{
	const struct mm_vcpu *mv = &mm->vcpu[v];
	int rc = 0;

	if (mv->gdt_entries > MM_GDT_ENTRIES)
		FAIL("domain %u vCPU %u: %u GDT entries", mm->owner - 1, v, mv->gdt_entries);
	for (unsigned g = 0; g < (mv->gdt_entries + 511) / 512; g++) {
		mfn_t m = mv->gdt_frames[g];
		if (!mm_owns(mm, m) || frame_table[m].type != PGT_seg_desc)
			FAIL("domain %u vCPU %u: GDT frame %llu is not a descriptor page of its own",
			     mm->owner - 1, v, (unsigned long long)m);
		cnt[m]++;
		tcnt[m]++;
	}
	if (mv->ldt_entries > MM_LDT_ENTRIES || !mv->ldt_copy != !mv->ldt_entries)
		FAIL("domain %u vCPU %u: %u LDT entries, copy %p", mm->owner - 1, v, mv->ldt_entries,
		     (void *)mv->ldt_copy);
	for (unsigned g = 0; g < (mv->ldt_entries + 511) / 512; g++) {
		mfn_t m = mv->ldt_frames[g];
		if (!mm_owns(mm, m) || frame_table[m].type != PGT_seg_desc)
			FAIL("domain %u vCPU %u: LDT frame %llu is not a descriptor page of its own",
			     mm->owner - 1, v, (unsigned long long)m);
		cnt[m]++;
		tcnt[m]++;
	}
	/*
	 * The CPU's LDT is the copy: it must say what the frames say (but
	 * for the accessed bit, which the CPU sets in the copy only).
	 */
	for (unsigned e = 0; e < mv->ldt_entries; e++) {
		uint64_t want = ((const uint64_t *)mfn_to_virt(mv->ldt_frames[e / 512]))[e % 512];
		if ((mv->ldt_copy[e] ^ want) & ~(1ull << 40))
			FAIL("domain %u vCPU %u: LDT entry %u: the copy holds 0x%llx, its frame 0x%llx",
			     mm->owner - 1, v, e, (unsigned long long)mv->ldt_copy[e], (unsigned long long)want);
	}
	const mfn_t roots[2] = { mv->root, mv->user_root };
	for (unsigned r = 0; r < 2; r++) {
		if (roots[r] == INVALID_MFN)
			continue;
		if (!mm_owns(mm, roots[r]) || frame_table[roots[r]].type != PGT_l4)
			FAIL("domain %u vCPU %u: root %llu is not an L4 of its own", mm->owner - 1, v,
			     (unsigned long long)roots[r]);
		cnt[roots[r]]++;
		tcnt[roots[r]]++;
	}
out:
	return rc;
}

int mm_audit(struct domain_mm *const *mms, unsigned n, char *why, unsigned why_len)
{
	uint32_t *cnt = xmalloc(frame_table_frames * sizeof(uint32_t));
	uint32_t *tcnt = xmalloc(frame_table_frames * sizeof(uint32_t));
	int rc = 0;

	if (!cnt || !tcnt) {
		vireo_snprintf(why, why_len, "audit: out of memory");
		rc = -VIREO_ENOMEM;
		goto out;
	}
	for (mfn_t m = 0; m < frame_table_frames; m++)
		cnt[m] = tcnt[m] = 0;

	for (unsigned i = 0; i < n; i++) {
		for (unsigned h = 0; h < MM_HELD_MAX; h++) {
			mfn_t m = mms[i]->held[h];
			if (m == INVALID_MFN)
				continue;
			if (!mm_owns(mms[i], m) || frame_table[m].type != PGT_writable)
				FAIL("domain %u: held frame %llu is not writable of its own", mms[i]->owner - 1,
				     (unsigned long long)m);
			cnt[m]++;
			tcnt[m]++;
		}
		for (unsigned v = 0; v < MM_MAX_VCPUS; v++) {
			rc = audit_vcpu(mms[i], v, cnt, tcnt, why, why_len);
			if (rc)
				goto out;
		}
	}

	for (mfn_t m = 0; m < frame_table_frames; m++) {
		const struct page_info *pg = &frame_table[m];
		int d = owner_index(mms, n, pg->owner);
		if (d < 0)
			continue;
		const struct domain_mm *mm = mms[d];
		bool pt = pg->type >= PGT_l1 && pg->type <= PGT_l4;
		if ((pg->flags & PGF_validated) != ((pt && pg->type_count) ? PGF_validated : 0))
			FAIL("frame %llu: validated flag 0x%x with type %u count %u", (unsigned long long)m,
			     pg->flags, pg->type, pg->type_count);
		if (pg->flags & PGF_pinned) {
			if (!pt)
				FAIL("frame %llu: pinned but of type %u", (unsigned long long)m, pg->type);
			cnt[m]++;
			tcnt[m]++;
		}
		if (pg->type == PGT_seg_desc && pg->type_count) {
			const uint64_t *descs = mfn_to_virt(m);
			for (unsigned s = 0; s < 512; s++)
				if (!descriptor_ok(descs[s]))
					FAIL("frame %llu (descriptors) slot %u: descriptor 0x%llx is not allowed",
					     (unsigned long long)m, s, (unsigned long long)descs[s]);
		}
		if (!(pg->flags & PGF_validated))
			continue;
		unsigned level = pg->type - PGT_l1 + 1;
		const uint64_t *t = mfn_to_virt(m);
		for (unsigned s = 0; s < 512; s++) {
			uint64_t e = t[s];
			if (level == 4 && s >= 256 && s < 272)
				continue;
			if (!(e & PTE_P))
				continue;
			mfn_t target = (e & PTE_ADDR) >> PAGE_SHIFT;
			if (!(e & PTE_U) || (e & PTE_G) || (level > 1 && (e & (PTE_PWT | PTE_PCD))))
				FAIL("frame %llu (L%u) slot %u: entry 0x%llx has bad flags", (unsigned long long)m,
				     level, s, (unsigned long long)e);
			if (level == 1 && mm_io_ok(mm, target))
				continue;
			if (!mm_owns(mm, target) && !(level == 1 && foreign_ok(mms, n, mm, target)))
				FAIL("frame %llu (L%u) slot %u maps frame %llu, not its domain's",
				     (unsigned long long)m, level, s, (unsigned long long)target);
			cnt[target]++;
			if (level == 1 && !(e & PTE_W))
				continue;
			unsigned want = level == 1 ? PGT_writable : PGT_l1 + level - 2;
			if (frame_table[target].type != want)
				FAIL("frame %llu (L%u) slot %u: target %llu has type %u, not %u%s",
				     (unsigned long long)m, level, s, (unsigned long long)target,
				     frame_table[target].type, want,
				     level == 1 ? " (a writable mapping of a typed frame)" : "");
			if (level > 1 && (e & PTE_PS))
				FAIL("frame %llu (L%u) slot %u: a superpage", (unsigned long long)m, level, s);
			tcnt[target]++;
		}
	}

	for (mfn_t m = 0; m < frame_table_frames; m++) {
		const struct page_info *pg = &frame_table[m];
		if (pg->owner == OWNER_ORPHAN) {
			/* Only the mappings of others hold it: of the audited domains, when all are given. */
			if (!pg->count || pg->flags || (pg->type_count && pg->type != PGT_writable))
				FAIL("orphan frame %llu: count %u type %u type_count %u flags 0x%x",
				     (unsigned long long)m, pg->count, pg->type, pg->type_count, pg->flags);
		} else if (owner_index(mms, n, pg->owner) < 0) {
			continue;
		}
		if (pg->count != cnt[m] || pg->type_count != tcnt[m])
			FAIL("frame %llu (type %u): count %u type_count %u, but %u and %u references exist",
			     (unsigned long long)m, pg->type, pg->count, pg->type_count, cnt[m], tcnt[m]);
	}
out:
	xfree(cnt);
	xfree(tcnt);
	return rc;
}
