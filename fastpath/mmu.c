/*
 * The PV MMU batch executors: mmu_update, mmuext_op, update_va_mapping and
 * multicall (Xen's semantics; the rules themselves are mm/frame_table.c).
 *
 * A batch takes its domain's MMU lock once, reads the guest's requests in
 * chunks (one guest copy per 16 entries), applies them in order and stops
 * at the first refusal: the entries before it stay applied, the rest are
 * untouched, and *pdone says how many were done. TLB flushes the rules owe
 * and those the guest asks for are merged into one per batch, done before
 * the guest runs again or any guest memory is read or written (a stale
 * translation must never reach a frame whose type changed); when another
 * CPU runs the domain, the rules' flushes are done at once instead, on
 * every CPU of the domain (mm/frame_table.c, "TLB coherence").
 *
 * Long batches are preemptible: past the time budget a batch returns
 * -VIREO_ERESTART with its arguments advanced (count | MMU_UPDATE_PREEMPTED,
 * done so far in *pdone), and the guest's re-executed hypercall continues it.
 */
#include <core/domain.h>
#include <core/hypercall.h>
#include <fastpath/mmu.h>
#include <mm/frame_table.h>
#include <public/xen.h>
#include <vireo/errno.h>
#include <vireo/pte.h>

#define CHUNK 16            /* requests read from the guest at a time */

uint64_t hypercall_preempt_tsc;

bool hypercall_preempt_due(uint64_t start)
{
	uint64_t budget = hypercall_preempt_tsc;
	if (!budget) {
		budget = machine_tsc_khz() / 2;            /* 500 us */
		hypercall_preempt_tsc = budget ? budget : 1;
	}
	return machine_tsc() - start >= budget;
}


/*
 * The owner of the frames a request maps (Xen's get_pg_owner, then its
 * privilege check): DOMID_SELF is the caller's own (*pg = NULL); DOMID_IO
 * the I/O frames the privileged domain maps anyway (*pg = NULL); any other
 * id names a domain: -VIREO_ESRCH when there is none or it is the caller
 * itself (as Xen), else domain_foreign() (-VIREO_EPERM unless the caller
 * is privileged and the other is not).
 */
static long pg_owner(const struct domain *d, uint16_t domid, struct domain_mm **pg)
{
	*pg = NULL;
	if (domid == DOMID_SELF)
		return 0;
	if (domid == d->domid)
		return -VIREO_ESRCH;
	if (domid == DOMID_IO)
		return d->privileged ? 0 : -VIREO_EPERM;
	return domain_foreign(d, domid, pg);
}

/*
 * foreigndom of mmu_update/mmuext_op: the owner of the frames mapped
 * (bits 15:0, pg_owner()) and of the page tables (bits 31:16, plus one).
 * The tables are always the caller's own (another domain's:
 * -VIREO_EOPNOTSUPP for the privileged domain). mmu_update's L1 entries may
 * map another domain's frames (the "Foreign mappings" rules,
 * mm/frame_table.c; *foreign names it); mmuext_op on another domain's
 * frames is not there (-VIREO_EOPNOTSUPP).
 */
static long check_foreigndom(const struct domain *d, uint64_t fd, bool map_ok, struct domain_mm **foreign)
{
	uint16_t pt = (uint16_t)(fd >> 16);

	*foreign = NULL;
	if (pt != 0 && pt != d->domid + 1)
		return d->privileged ? -VIREO_EOPNOTSUPP : -VIREO_EPERM;
	long rc = pg_owner(d, (uint16_t)fd, foreign);
	if (rc == 0 && *foreign && !map_ok) {
		*foreign = NULL;
		rc = -VIREO_EOPNOTSUPP;
	}
	return rc;
}

static long mmu_one(struct domain_mm *mm, const struct mmu_update *req)
{
	switch (req->ptr & 3) {
	case MMU_NORMAL_PT_UPDATE:
	case MMU_PT_UPDATE_PRESERVE_AD:
		return mm_update(mm, req->ptr & ~7ull, req->val, (req->ptr & 3) == MMU_PT_UPDATE_PRESERVE_AD);
	case MMU_MACHPHYS_UPDATE:
		return mm_machphys_update(mm, req->ptr >> PAGE_SHIFT, req->val);
	default:
		return -VIREO_ENOSYS;             /* NO_TRANSLATE: for translated guests */
	}
}

/* The common shape of mmu_update and mmuext_op: (list, count, pdone, foreigndom). */
struct batch {
	struct domain *d;
	uint64_t list, count, pdone;
	uint32_t done;                        /* done by earlier parts of a continued batch */
};

static long batch_begin(struct batch *b, struct hypercall_args *a, bool map_ok)
{
	struct domain_mm *foreign;

	b->d = current_domain;
	b->list = a->a[0];
	b->count = (uint32_t)a->a[1];          /* unsigned int in Xen's ABI */
	b->pdone = a->a[2];
	b->done = 0;
	long rc = check_foreigndom(b->d, a->a[3], map_ok, &foreign);
	if (rc)
		return rc;
	bool continued = b->count & MMU_UPDATE_PREEMPTED;
	if (continued) {
		b->count &= ~(uint64_t)MMU_UPDATE_PREEMPTED;
		if (b->pdone && copy_from_guest(&b->done, b->pdone, sizeof(b->done)))
			return -VIREO_EFAULT;
	}
	spin_lock(&b->d->mm.lock);
	if (foreign)                          /* outside a batch it is always NULL */
		mm_set_foreign(&b->d->mm, foreign);
	if (!continued)
		b->d->mm.stats.batches++;        /* a continued batch is the same batch */
	return 0;
}

/*
 * End a batch after i entries: flushes owed, lock dropped, *pdone written.
 * With more to do (preempted), the arguments become the continuation's.
 */
static long batch_end(struct batch *b, struct hypercall_args *a, uint64_t i, size_t entry_size,
		      long rc, bool preempted)
{
	struct domain_mm *mm = &b->d->mm;
	mm_sync(mm);
	if (rc)
		mm->stats.refused++;
	if (mm->foreign)
		mm_set_foreign(mm, NULL);
	spin_unlock(&mm->lock);
	b->done += (uint32_t)i;
	if (b->pdone)
		(void)copy_to_guest(b->pdone, &b->done, sizeof(b->done));   /* unwritable: ignored, as Xen */
	if (preempted && !rc) {
		mm->stats.continuations++;
		a->a[0] = b->list + i * entry_size;
		a->a[1] = (b->count - i) | MMU_UPDATE_PREEMPTED;
		return -VIREO_ERESTART;
	}
	return rc;
}

/*
 * The loop both batch hypercalls share: read up to CHUNK entries of
 * entry_size, apply each with fn until one is refused, count them in
 * *counter, preempt past the time budget. Always inlined, so each caller
 * gets its own copy with fn called directly (no indirect call per entry).
 */
static inline __attribute__((always_inline)) long
batch_run(struct hypercall_args *a, void *buf, size_t entry_size,
	  long (*fn)(struct domain_mm *mm, const void *entry), size_t counter_offset, bool map_ok)
{
	struct batch b;
	uint64_t i = 0, start = machine_tsc();
	long rc = batch_begin(&b, a, map_ok);
	bool preempted = false;

	if (rc)
		return rc;
	struct domain_mm *mm = &b.d->mm;
	uint64_t *counter = (uint64_t *)((uint8_t *)&mm->stats + counter_offset);
	while (i < b.count) {
		if (i && hypercall_preempt_due(start)) {
			preempted = true;
			break;
		}
		unsigned n = b.count - i < CHUNK ? (unsigned)(b.count - i) : CHUNK, j;
		mm_sync(mm);                       /* no stale translation reads the guest's list */
		if (copy_from_guest(buf, b.list + i * entry_size, n * entry_size)) {
			rc = -VIREO_EFAULT;
			break;
		}
		for (j = 0; j < n && (rc = fn(mm, (const uint8_t *)buf + j * entry_size)) == 0; j++)
			;
		i += j;
		*counter += j;
		if (rc)
			break;
	}
	return batch_end(&b, a, i, entry_size, rc, preempted);
}

static long mmu_entry(struct domain_mm *mm, const void *e)
{
	return mmu_one(mm, e);
}

long do_mmu_update(struct hypercall_args *a)
{
	struct mmu_update req[CHUNK];
	return batch_run(a, req, sizeof(req[0]), mmu_entry, __builtin_offsetof(struct mm_stats, updates), true);
}

/* The vCPU the hypercall runs for, and its MMU state. */
static inline unsigned cur_vcpu_id(void)
{
	return current_vcpu->id;
}

static inline struct mm_vcpu *cur_mv(struct domain_mm *mm)
{
	return &mm->vcpu[cur_vcpu_id()];
}

/* The words of a guest vCPU bitmap (xen_ulong_t) that can name one of MM_MAX_VCPUS. */
#define VCPU_MASK_WORDS ((MM_MAX_VCPUS + 63) / 64)

/*
 * Which vCPUs a flush names: the current one (MM_FLUSH_TLB), others
 * (MM_FLUSH_OTHERS). From a *_MULTI bitmap in guest memory, read after the
 * flushes owed so far (no stale translation reads it); bits past
 * MM_MAX_VCPUS name no vCPU. 0 or -VIREO_EFAULT.
 */
static long vcpu_mask_read(struct domain_mm *mm, uint64_t mask_ptr, unsigned *which)
{
	uint64_t w[VCPU_MASK_WORDS];
	unsigned self = cur_vcpu_id();

	mm_sync(mm);
	if (copy_from_guest(w, mask_ptr, sizeof(w)))
		return -VIREO_EFAULT;
	*which = (w[self / 64] >> (self % 64)) & 1 ? MM_FLUSH_TLB : 0;
	w[self / 64] &= ~(1ull << (self % 64));
	if (MM_MAX_VCPUS % 64)
		w[VCPU_MASK_WORDS - 1] &= (1ull << (MM_MAX_VCPUS % 64)) - 1;
	for (unsigned i = 0; i < VCPU_MASK_WORDS; i++)
		if (w[i])
			*which |= MM_FLUSH_OTHERS;
	return 0;
}

static void invlpg(struct domain_mm *mm, uint64_t va)
{
	if (mm->pending & MM_FLUSH_TLB)
		return;                           /* the batch's full flush covers it */
	machine_invlpg(va);
	mm->stats.invlpgs++;
}

/*
 * The flush the guest asked for, of the vCPUs in which (MM_FLUSH_*): this
 * CPU's at once (invlpg) or at the batch's end, the domain's other CPUs at
 * the batch's end (a full flush there, also for an invlpg), and only when
 * another CPU runs the domain (single-vCPU domains pay nothing for it).
 */
static void guest_flush(struct domain_mm *mm, unsigned which, bool one_va, uint64_t va)
{
	if (which & MM_FLUSH_TLB) {
		if (!one_va)
			mm->pending |= MM_FLUSH_TLB;
		else if (canonical_va(va))
			invlpg(mm, va);
	}
	if ((which & MM_FLUSH_OTHERS) && mm_other_cpus(mm))
		mm->pending |= MM_FLUSH_OTHERS;
}

static long mmuext_one(struct domain_mm *mm, const struct mmuext_op *op)
{
	unsigned which;
	long rc;

	switch (op->cmd) {
	case MMUEXT_PIN_L1_TABLE:
	case MMUEXT_PIN_L2_TABLE:
	case MMUEXT_PIN_L3_TABLE:
	case MMUEXT_PIN_L4_TABLE:
		return mm_pin(mm, op->arg1.mfn, op->cmd - MMUEXT_PIN_L1_TABLE + 1);
	case MMUEXT_UNPIN_TABLE:
		return mm_unpin(mm, op->arg1.mfn);
	case MMUEXT_NEW_BASEPTR:
		rc = mm_set_root(mm, cur_mv(mm), op->arg1.mfn, false);
		if (rc == 0) {
			mm_load_root(mm, cur_mv(mm)->root);          /* flushes this CPU too */
			mm->pending &= ~MM_FLUSH_TLB;
		}
		return rc;
	case MMUEXT_NEW_USER_BASEPTR:
		return mm_set_root(mm, cur_mv(mm), op->arg1.mfn, true);
	case MMUEXT_TLB_FLUSH_LOCAL:
	case MMUEXT_TLB_FLUSH_ALL:
		guest_flush(mm, op->cmd == MMUEXT_TLB_FLUSH_ALL ? MM_FLUSH_ALL : MM_FLUSH_TLB, false, 0);
		return 0;
	case MMUEXT_TLB_FLUSH_MULTI:
		if ((rc = vcpu_mask_read(mm, op->arg2.vcpumask, &which)) == 0)
			guest_flush(mm, which, false, 0);
		return rc;
	case MMUEXT_INVLPG_LOCAL:
	case MMUEXT_INVLPG_ALL:
		guest_flush(mm, op->cmd == MMUEXT_INVLPG_ALL ? MM_FLUSH_ALL : MM_FLUSH_TLB, true,
			    op->arg1.linear_addr);
		return 0;
	case MMUEXT_INVLPG_MULTI:
		if ((rc = vcpu_mask_read(mm, op->arg2.vcpumask, &which)) == 0)
			guest_flush(mm, which, true, op->arg1.linear_addr);
		return rc;
	case MMUEXT_SET_LDT:
		/* No entries: no LDT, whatever the address (Xen ignores it then). */
		if (op->arg2.nr_ents && (op->arg2.nr_ents > MM_LDT_ENTRIES || (op->arg1.linear_addr & (PAGE_SIZE - 1)) ||
		    !domain_range_is_guest(op->arg1.linear_addr, op->arg1.linear_addr + op->arg2.nr_ents * 8ull)))
			return -VIREO_EINVAL;
		return mm_set_ldt(mm, cur_mv(mm), op->arg2.nr_ents ? op->arg1.linear_addr : 0, op->arg2.nr_ents);
	case MMUEXT_CLEAR_PAGE:
		return mm_clear_page(mm, op->arg1.mfn);
	case MMUEXT_COPY_PAGE:
		return mm_copy_page(mm, op->arg1.mfn, op->arg2.src_mfn);
	case MMUEXT_FLUSH_CACHE:
	case MMUEXT_FLUSH_CACHE_GLOBAL:
		return mm->privileged ? -VIREO_EOPNOTSUPP : -VIREO_EPERM;
	case MMUEXT_MARK_SUPER:
	case MMUEXT_UNMARK_SUPER:
		return -VIREO_EOPNOTSUPP;           /* no superpages (as Xen since 4.10) */
	default:
		return -VIREO_ENOSYS;
	}
}

static long mmuext_entry(struct domain_mm *mm, const void *e)
{
	return mmuext_one(mm, e);
}

long do_mmuext_op(struct hypercall_args *a)
{
	struct mmuext_op op[CHUNK];
	return batch_run(a, op, sizeof(op[0]), mmuext_entry, __builtin_offsetof(struct mm_stats, ops), false);
}

/*
 * update_va_mapping(va, val, flags): the L1 entry that maps va in the
 * current kernel page tables becomes val, validated as by mmu_update; then
 * the flush the flags ask for: of this vCPU (UVMF_LOCAL), of all of the
 * domain's (UVMF_ALL), or of those a vCPU bitmap names (UVMF_MULTI, its
 * pointer in flags' upper bits).
 * foreign: the domain whose frames val maps instead of the caller's own.
 */
static long uvm(uint64_t va, uint64_t val, uint64_t flags, struct domain_mm *foreign)
{
	const struct vcpu *v = current_vcpu;              /* read once: its domain and its roots */
	struct domain_mm *mm = &v->d->mm;
	mfn_t l1;
	unsigned slot;
	long rc;

	if (!canonical_va(va) || !domain_range_is_guest(va, va + 1))
		return -VIREO_EINVAL;
	spin_lock(&mm->lock);
	if (foreign)
		mm_set_foreign(mm, foreign);
	rc = mm_l1_slot(mm, &mm->vcpu[v->id], va, &l1, &slot);
	if (rc == 0)
		rc = mm_update_l1(mm, l1, slot, val);
	if (rc == 0) {
		unsigned which = flags & UVMF_ALL ? MM_FLUSH_ALL : MM_FLUSH_TLB;
		mm->stats.updates++;
		if (!(flags & UVMF_ALL) && (flags & ~7ull))
			rc = vcpu_mask_read(mm, flags & ~7ull, &which);
		if (rc == 0 && (flags & UVMF_FLUSHTYPE_MASK) == UVMF_TLB_FLUSH)
			guest_flush(mm, which, false, 0);
		else if (rc == 0 && (flags & UVMF_FLUSHTYPE_MASK) == UVMF_INVLPG)
			guest_flush(mm, which, true, va);
	} else {
		mm->stats.refused++;
	}
	mm_sync(mm);
	if (foreign)
		mm_set_foreign(mm, NULL);
	spin_unlock(&mm->lock);
	return rc;
}

long do_update_va_mapping(struct hypercall_args *a)
{
	return uvm(a->a[0], a->a[1], a->a[2], NULL);
}

/*
 * update_va_mapping_otherdomain(va, val, flags, domid): the same, val
 * mapping a frame of domain domid (pg_owner(): the privileged domain, an
 * unprivileged domid, mm/frame_table.c's "Foreign mappings").
 */
long do_update_va_mapping_otherdomain(struct hypercall_args *a)
{
	struct domain_mm *foreign;
	long rc = pg_owner(current_domain, (uint16_t)a->a[3], &foreign);
	return rc ? rc : uvm(a->a[0], a->a[1], a->a[2], foreign);
}

/*
 * multicall(calls, nr_calls): each entry's hypercall with its arguments, its
 * result written back to the entry; 0 unless the list itself cannot be read
 * or written. A call that wants to continue has its updated arguments
 * written back into its entry and the multicall continues from there.
 * No multicall inside a multicall (-VIREO_EINVAL in that entry).
 */
long do_multicall(struct hypercall_args *a)
{
	uint64_t list = a->a[0], nr = (uint32_t)a->a[1], start = machine_tsc();
	struct domain_mm *mm = &current_domain->mm;

	mm->stats.multicalls++;
	for (uint64_t i = 0; i < nr; i++) {
		uint64_t at = list + i * sizeof(struct multicall_entry);
		struct multicall_entry e;
		struct hypercall_args ca;

		if (i && hypercall_preempt_due(start)) {
			a->a[0] = at;
			a->a[1] = nr - i;
			mm->stats.continuations++;
			return -VIREO_ERESTART;
		}
		if (copy_from_guest(&e, at, sizeof(e)))
			return -VIREO_EFAULT;
		__builtin_memcpy(ca.a, e.args, sizeof(ca.a));
		long r = e.op == __HYPERVISOR_multicall ? -VIREO_EINVAL : hypercall_dispatch(e.op, &ca);
		if (r == -VIREO_ERESTART) {
			if (copy_to_guest(at + __builtin_offsetof(struct multicall_entry, args), ca.a, sizeof(ca.a)))
				return -VIREO_EFAULT;
			a->a[0] = at;
			a->a[1] = nr - i;
			mm->stats.continuations++;
			return -VIREO_ERESTART;
		}
		if (copy_to_guest(at + __builtin_offsetof(struct multicall_entry, result), &r, sizeof(r)))
			return -VIREO_EFAULT;
	}
	return 0;
}
