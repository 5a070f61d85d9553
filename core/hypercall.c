/*
 * Hypercall dispatch and the machine-independent hypercalls (Xen's numbers
 * and argument layouts, include/public/). Every argument is the guest's:
 * pointers go through copy_from_guest/copy_to_guest, and a refused call
 * returns a negative errno having changed nothing.
 */
#include <core/domain.h>
#include <core/event.h>
#include <core/hypercall.h>
#include <fastpath/mmu.h>
#include <mm/frame_alloc.h>
#include <mm/heap.h>
#include <public/arch-x86_64.h>
#include <public/callback.h>
#include <public/features.h>
#include <public/memory.h>
#include <public/physdev.h>
#include <public/sched.h>
#include <public/vcpu.h>
#include <public/version.h>
#include <public/xen.h>
#include <vireo/compiler.h>
#include <vireo/errno.h>
#include <vireo/printk.h>
#include <vireo/pte.h>

/*
 * The serial console is shared and slow (about 11 KB/s at 115200 baud): a
 * domain may print CONSOLE_BURST bytes at once and CONSOLE_RATE bytes a
 * second after that. What goes over is dropped and counted, and the count
 * is printed when the domain may print again; the call still succeeds, as
 * Xen's rate-limited console does.
 */
#define CONSOLE_BURST 16384u
#define CONSOLE_RATE  4096u

static uint64_t console_allowance(struct domain *d, uint64_t want)
{
	const uint64_t ns_per_byte = 1000000000u / CONSOLE_RATE;
	uint64_t now = machine_now_ns();
	if (d->con_refill_ns == 0) {
		d->con_tokens = CONSOLE_BURST;
		d->con_refill_ns = now;
	} else {
		/* Whole bytes earned since the last refill; the remainder carries over. */
		uint64_t earned = (now - d->con_refill_ns) / ns_per_byte;
		d->con_tokens += earned;
		d->con_refill_ns += earned * ns_per_byte;
	}
	if (d->con_tokens >= CONSOLE_BURST) {
		d->con_tokens = CONSOLE_BURST;
		d->con_refill_ns = now;
	}
	uint64_t ok = want < d->con_tokens ? want : d->con_tokens;
	d->con_tokens -= ok;
	return ok;
}

/*
 * CONSOLEIO_read: the console's input for the privileged domain (the one
 * with the serial console, as Xen's dom0), what has arrived, without
 * waiting; the count read (-E2BIG past INT_MAX, as Xen: it could not be
 * told from an errno). At most 16 KiB a call: that much of the buffer is
 * checked writable first, so no byte taken from the UART is lost to a bad
 * pointer.
 */
static long console_read(struct domain *d, uint64_t count, uint64_t buf)
{
	static const char zero[128];
	char chunk[128];
	uint64_t done = 0;

	if (!d->privileged)
		return -VIREO_EPERM;
	if (count > 0x7FFFFFFFu)
		return -VIREO_E2BIG;
	if (count > 16384)
		count = 16384;
	for (uint64_t at = 0; at < count; at += sizeof(zero))
		if (copy_to_guest(buf + at, zero, count - at < sizeof(zero) ? count - at : sizeof(zero)))
			return -VIREO_EFAULT;
	while (done < count) {
		size_t n = machine_console_read(chunk, count - done < sizeof(chunk) ? count - done : sizeof(chunk));
		if (!n || copy_to_guest(buf + done, chunk, n))
			break;
		done += n;
	}
	return (long)done;
}

static long do_console_io(uint64_t cmd, uint64_t count, uint64_t buf)
{
	struct domain *d = current_domain;
	char chunk[128];
	cmd = (uint32_t)cmd;                           /* Xen's int cmd, unsigned int count */
	count = (uint32_t)count;
	if (cmd == CONSOLEIO_read)
		return console_read(d, count, buf);
	if (cmd != CONSOLEIO_write)
		return -VIREO_ENOSYS;
	if (count > 16384)
		return -VIREO_EINVAL;
	spin_lock(&d->con_lock);                       /* its vCPUs print at once */
	uint64_t allowed = console_allowance(d, count);
	if (allowed && d->con_dropped) {
		printk("(d%u) [%llu bytes of console output dropped]\n", d->domid,
		       (unsigned long long)d->con_dropped);
		d->con_dropped = 0;
	}
	d->con_dropped += count - allowed;
	for (uint64_t done = 0; done < allowed; ) {
		size_t n = allowed - done < sizeof(chunk) ? (size_t)(allowed - done) : sizeof(chunk);
		if (copy_from_guest(chunk, buf + done, n)) {
			spin_unlock(&d->con_lock);
			return -VIREO_EFAULT;
		}
		for (size_t i = 0; i < n; i++)
			domain_console_put(d, chunk[i]);
		done += n;
	}
	spin_unlock(&d->con_lock);
	return 0;
}

static long do_xen_version(uint64_t cmd, uint64_t arg)
{
	switch (cmd) {
	case XENVER_version:
		return (4 << 16) | 17;                /* the ABI Vireo implements: Xen 4.17's */
	case XENVER_extraversion: {
		static const char extra[16] = "-vireo";
		return copy_to_guest(arg, extra, sizeof(extra));
	}
	case XENVER_capabilities: {
		static const char caps[1024] = "xen-3.0-x86_64";
		return copy_to_guest(arg, caps, sizeof(caps));
	}
	case XENVER_pagesize:
		return PAGE_SIZE;
	case XENVER_platform_parameters: {
		struct xen_platform_parameters pp = { .virt_start = HYPERVISOR_VIRT_START };
		return copy_to_guest(arg, &pp, sizeof(pp));
	}
	case XENVER_get_features: {
		/*
		 * Only what really works: page directories anywhere (always true
		 * for 64-bit PV), for the initial domain dom0, and writable page
		 * tables once the guest enabled them with vm_assist (as Xen).
		 */
		struct xen_feature_info fi;
		if (copy_from_guest(&fi, arg, sizeof(fi)))
			return -VIREO_EFAULT;
		fi.submap = 0;
		if (fi.submap_idx == 0)
			fi.submap = (1u << XENFEAT_pae_pgdir_above_4gb) |
				    (current_domain->privileged ? 1u << XENFEAT_dom0 : 0) |
				    ((current_domain->mm.vm_assist & (1u << VMASST_TYPE_writable_pagetables))
				     ? 1u << XENFEAT_writable_page_tables : 0);
		return copy_to_guest(arg, &fi, sizeof(fi));
	}
	default:
		return -VIREO_ENOSYS;
	}
}

static long do_sched_op(uint64_t cmd, uint64_t arg)
{
	struct sched_shutdown s;
	/*
	 * One vCPU per CPU today: yield does nothing. Marked likely so the
	 * compiler tests it before the switch, which (with block) is a jump
	 * table: five more instructions for the commonest call (ci/perfgate).
	 */
	if (likely(cmd == SCHEDOP_yield))
		return 0;
	switch (cmd) {
	case SCHEDOP_block:
		return evtchn_block(current_vcpu);
	case SCHEDOP_poll:
		return evtchn_poll(arg);
	case SCHEDOP_shutdown_code:
		if (copy_from_guest(&s, arg, sizeof(s)))
			return -VIREO_EFAULT;
		if (s.reason > SHUTDOWN_MAX)
			return -VIREO_EINVAL;
		current_domain->shutdown_code = (int)s.reason;
		return 0;
	case SCHEDOP_shutdown:
		if (copy_from_guest(&s, arg, sizeof(s)))
			return -VIREO_EFAULT;
		if (s.reason > SHUTDOWN_MAX)
			return -VIREO_EINVAL;
		domain_shutdown(current_domain, s.reason);
	default:
		return -VIREO_ENOSYS;
	}
}

/*
 * set_trap_table(struct trap_info *table): entries up to one whose address
 * is 0 (at most 256); NULL clears the table. The whole table is read and
 * checked before any of it takes effect: a bad entry changes nothing.
 */
static long do_set_trap_table(uint64_t table)
{
	struct vcpu *v = current_vcpu;
	struct trap_info *fresh = v->traps_new;
	struct trap_info ti;
	unsigned n;

	__builtin_memset(fresh, 0, sizeof(v->traps_new));
	for (n = 0; table && n < 256; n++) {
		if (copy_from_guest(&ti, table + n * sizeof(ti), sizeof(ti)))
			return -VIREO_EFAULT;
		if (ti.address == 0)
			break;
		if (!canonical_va(ti.address))
			return -VIREO_EINVAL;              /* iretq to it would fault in the hypervisor */
		if (ti.address >= HYPERVISOR_VIRT_START && ti.address < HYPERVISOR_VIRT_END)
			return -VIREO_EPERM;
		fresh[ti.vector] = ti;
	}
	__builtin_memcpy(v->traps, fresh, sizeof(v->traps));
	return 0;
}

/*
 * set_gdt(frame_list, entries) (Xen's x86-64 PV): the guest's GDT becomes
 * `entries` descriptors (at most FIRST_RESERVED_GDT_ENTRY) in the
 * ceil(entries / 512) frames of its own listed at frame_list. Each frame
 * takes a segment-descriptor type reference, which checks its descriptors
 * (mm/frame_table.c, descriptor_ok) and keeps it read-only and out of the
 * page tables while the GDT holds it.
 *
 * The CPU's GDT gets a copy of the descriptors (entry 0 stays null), and
 * update_descriptor keeps the copy coherent: the guest has no other way to
 * change a frame of its GDT. All or nothing: the new frames' references are
 * taken before the old ones are dropped, and a refused frame changes nothing.
 */
_Static_assert(MM_GDT_ENTRIES == FIRST_RESERVED_GDT_ENTRY, "the guest's GDT is Xen's");
_Static_assert(MM_GDT_ENTRIES == GUEST_GDT_ENTRIES, "the machine holds the whole guest GDT");

/* Copy a vCPU's GDT entries from its frames into CPU cpu's GDT (the domain's mm.lock held). */
static void gdt_copy(struct mm_vcpu *mv, unsigned cpu)
{
	/* Entry 0 is the CPU's null descriptor, whatever the guest's frame holds there. */
	for (unsigned i = 0; i < (mv->gdt_entries + 511) / 512; i++) {
		unsigned first = i ? i * 512 : 1;
		unsigned end = (i + 1) * 512 < mv->gdt_entries ? (i + 1) * 512 : mv->gdt_entries;
		if (first < end)
			machine_guest_gdt_write(cpu, first, (const uint64_t *)mfn_to_virt(mv->gdt_frames[i]) + first % 512,
						end - first);
	}
}

void vcpu_load_descriptors(struct vcpu *v, unsigned cpu)
{
	struct mm_vcpu *mv = &v->d->mm.vcpu[v->id];
	gdt_copy(mv, cpu);
	machine_guest_ldt_load(mv->ldt_copy, mv->ldt_entries);
}

/*
 * v's GDT becomes the `entries` descriptors in frames list[0 .. ] (mm.lock
 * held; entries checked <= MM_GDT_ENTRIES): the new frames' references are
 * taken before the old ones are dropped, and a refused frame changes
 * nothing. The CPU's copy is the caller's.
 */
static int gdt_set(struct domain_mm *mm, struct mm_vcpu *mv, const xen_pfn_t *list, unsigned entries)
{
	unsigned i, nr = (entries + 511) / 512;
	mfn_t old[MM_GDT_FRAMES];
	int rc = 0;

	for (i = 0; i < nr; i++)
		if ((rc = mm_get_desc_page(mm, list[i])) != 0)
			break;
	if (rc) {
		while (i--)
			mm_put_desc_page(mm, list[i]);
		return rc;
	}
	unsigned old_nr = (mv->gdt_entries + 511) / 512;
	for (i = 0; i < MM_GDT_FRAMES; i++) {
		old[i] = mv->gdt_frames[i];
		mv->gdt_frames[i] = i < nr ? list[i] : INVALID_MFN;
	}
	mv->gdt_entries = entries;
	for (i = 0; i < old_nr; i++)
		mm_put_desc_page(mm, old[i]);
	return 0;
}

static long do_set_gdt(uint64_t frame_list, uint64_t nr_entries)
{
	struct vcpu *v = current_vcpu;
	struct domain_mm *mm = &v->d->mm;
	struct mm_vcpu *mv = &mm->vcpu[v->id];
	unsigned entries = (unsigned)nr_entries;          /* the ABI's unsigned int */
	xen_pfn_t list[MM_GDT_FRAMES];
	unsigned nr = (entries + 511) / 512;

	if (entries > MM_GDT_ENTRIES)
		return -VIREO_EINVAL;
	if (nr && copy_from_guest(list, frame_list, nr * sizeof(list[0])))
		return -VIREO_EFAULT;
	spin_lock(&mm->lock);
	unsigned old_entries = mv->gdt_entries;
	int rc = gdt_set(mm, mv, list, entries);
	if (rc == 0) {
		gdt_copy(mv, cpu_id());
		if (old_entries > entries)
			machine_guest_gdt_write(cpu_id(), entries, NULL, old_entries - entries);
	}
	mm_sync(mm);
	spin_unlock(&mm->lock);
	return rc;
}

/*
 * VCPUOP_initialise's page tables and GDT for vCPU v, which is down and
 * has none (mm.lock held): the GDT frames, the user root (0: none), then
 * the kernel root, each validated as set_gdt, NEW_USER_BASEPTR and
 * NEW_BASEPTR do; all or nothing.
 */
static int vcpu_set_mmu(struct vcpu *v, mfn_t root, mfn_t user_root, const xen_pfn_t *gdt_frames,
			unsigned gdt_entries)
{
	struct domain_mm *mm = &v->d->mm;
	struct mm_vcpu *mv = &mm->vcpu[v->id];
	int rc = gdt_set(mm, mv, gdt_frames, gdt_entries);
	if (rc)
		return rc;
	if ((rc = mm_set_root(mm, mv, user_root, true)) == 0) {
		if ((rc = mm_set_root(mm, mv, root, false)) == 0)
			return 0;
		(void)mm_set_root(mm, mv, 0, true);
	}
	(void)gdt_set(mm, mv, gdt_frames, 0);
	return rc;
}

/*
 * update_descriptor(ma, desc): the 8-byte descriptor at machine address ma
 * (8-aligned, in a frame of the guest's own) becomes desc (a segment's DPL
 * raised to 3, as Xen), if descriptor_ok allows it; written where the frame is a GDT or LDT frame (and then in the
 * copies of every vCPU's GDT and LDT that holds it: a GDT copy is the GDT of
 * the CPU the vCPU runs on, which it cannot leave while we hold mm.lock),
 * or where it may be writable.
 */
static long do_update_descriptor(uint64_t ma, uint64_t desc)
{
	struct domain *d = current_domain;
	struct domain_mm *mm = &d->mm;
	desc = descriptor_fixup(desc);                 /* DPL 0-2 segments become DPL 3, as Xen */
	spin_lock(&mm->lock);
	long rc = mm_update_desc(mm, ma, desc);
	if (rc == 0) {
		mfn_t mfn = ma >> PAGE_SHIFT;
		unsigned slot = (unsigned)((ma & (PAGE_SIZE - 1)) >> 3);
		for (unsigned k = 0; k < d->nr_vcpus; k++) {
			struct vcpu *v = d->vcpu[k];
			struct mm_vcpu *mv = &mm->vcpu[k];
			if (v != current_vcpu && !v->descs_loaded)
				continue;                  /* loaded from its frames when it starts */
			unsigned cpu = v == current_vcpu ? cpu_id() : v->cpu;
			for (unsigned i = 0; i < (mv->gdt_entries + 511) / 512; i++) {
				unsigned e = i * 512 + slot;
				if (mv->gdt_frames[i] == mfn && e > 0 && e < mv->gdt_entries)
					machine_guest_gdt_write(cpu, e, &desc, 1);
			}
		}
		mm_ldt_update(mm, mfn, slot, desc);
	}
	mm_sync(mm);
	spin_unlock(&mm->lock);
	return rc;
}

/* memory_op: what a guest asks about its own memory at start of day. */
static long do_memory_op(uint64_t cmd, uint64_t arg)
{
	switch (cmd) {
	case XENMEM_maximum_ram_page:
		return (long)(machine_nr_frames() - 1);
	case XENMEM_current_reservation:
	case XENMEM_maximum_reservation: {
		domid_t dom;
		if (copy_from_guest(&dom, arg, sizeof(dom)))
			return -VIREO_EFAULT;
		if (dom != DOMID_SELF && dom != current_domain->domid)
			return current_domain->privileged ? -VIREO_ESRCH : -VIREO_EPERM;
		return (long)current_domain->nr_pages;
	}
	case XENMEM_machphys_mapping: {
		/* The read-only M2P every guest sees (the image maps it; see arch/x86_64/paging.c). */
		struct xen_machphys_mapping mm = {
			.v_start = MACH2PHYS_VIRT_START,
			.v_end = MACH2PHYS_VIRT_START + ((frame_table_frames * 8 + PAGE_SIZE - 1) & PAGE_MASK),
			.max_mfn = frame_table_frames - 1,
		};
		return copy_to_guest(arg, &mm, sizeof(mm));
	}
	case XENMEM_memory_map: {
		/* The domain's pseudo-physical map: one RAM range, pfn 0 .. nr_pages. */
		struct xen_memory_map map;
		struct xen_e820_entry ram = { 0, current_domain->nr_pages << PAGE_SHIFT, XEN_E820_RAM };
		if (copy_from_guest(&map, arg, sizeof(map)))
			return -VIREO_EFAULT;
		if (map.nr_entries < 1)
			return -VIREO_EINVAL;
		if (copy_to_guest(map.buffer, &ram, sizeof(ram)))
			return -VIREO_EFAULT;
		map.nr_entries = 1;
		return copy_to_guest(arg, &map, sizeof(map));
	}
	default:
		return -VIREO_ENOSYS;
	}
}

/* Refresh v's registered runstate area, if any (v current: its page tables are loaded). */
static void runstate_update(struct vcpu *v)
{
	if (v->runstate_area && v == current_vcpu) {
		struct vcpu_runstate_info r;
		vcpu_runstate(v, &r);
		(void)copy_to_guest(v->runstate_area, &r, sizeof(r));
	}
}

/*
 * VCPUOP_register_vcpu_info: the vCPU's vcpu_info moves to a page of the
 * guest's own (Linux does this for every vCPU). The frame must be the
 * domain's and may be writable (a writable reference is held for good),
 * the structure must fit in it; once per vCPU, as on Xen. Only for the
 * caller itself or a vCPU that is down and on no CPU (Xen: "on yourself or
 * on other offline vCPUs"; -EINVAL): one that runs, waits for a CPU, or was
 * parked while running may be using the old place (its upcall mask, a
 * block waiting on its pending flag).
 */
static long register_vcpu_info(struct vcpu *v, uint64_t arg)
{
	struct domain *d = v->d;
	struct vcpu_register_vcpu_info info;
	if (copy_from_guest(&info, arg, sizeof(info)))
		return -VIREO_EFAULT;
	if (info.offset > PAGE_SIZE - sizeof(struct vcpu_info) || (info.offset & 7))
		return -VIREO_EINVAL;
	/* Not on a CPU and down: vcpu_enter needs this lock, so it stays off one until we are done. */
	spin_lock(&d->mm.lock);
	long rc = -VIREO_EINVAL;
	bool offline = __atomic_load_n(&v->state, __ATOMIC_ACQUIRE) == VCPU_DOWN &&
		       !__atomic_load_n(&v->on_cpu, __ATOMIC_ACQUIRE);
	if (v->vcpu_info_mfn == INVALID_MFN && (v == current_vcpu || offline))
		rc = mm_hold_writable(&d->mm, info.mfn);
	if (rc == 0) {
		struct vcpu_info *old = vcpu_info_of(v);
		struct vcpu_info *fresh = (struct vcpu_info *)((uint8_t *)mfn_to_virt(info.mfn) + info.offset);
		struct vcpu_info copy = *old;           /* the new place may overlap the old one */
		*fresh = copy;
		v->vcpu_info_mfn = info.mfn;
		v->vcpu_info_offset = info.offset;
		__atomic_store_n(&v->vcpu_info, fresh, __ATOMIC_RELEASE);
		/*
		 * Another CPU raising an event may have written the old place
		 * after the copy: everything is marked pending (Xen's
		 * map_vcpu_info), a spurious upcall the guest copes with,
		 * nothing lost (the pending bits themselves stay in shared_info).
		 */
		__atomic_store_n(&fresh->evtchn_pending_sel, ~(xen_ulong_t)0, __ATOMIC_SEQ_CST);
		__atomic_store_n(&fresh->evtchn_upcall_pending, 1, __ATOMIC_SEQ_CST);
	}
	mm_sync(&d->mm);
	spin_unlock(&d->mm.lock);
	return rc;
}

static bool callback_ok(uint64_t addr);

/*
 * VCPUOP_initialise (Xen's arch_set_info_guest for a 64-bit PV vCPU): the
 * first state of a vCPU that is down and has none yet (-EEXIST if it has
 * one, as Xen). Taken: the registers (RIP/RSP and every other; RFLAGS
 * becomes IF on, IOPL 0), CS/SS (the flat guest selectors only), the trap
 * table, the GDT (validated as set_gdt does), the kernel stack
 * (kernel_ss/sp), CR3 (ctrlreg[3], a frame of the domain that validates
 * as an L4, as NEW_BASEPTR) and the user root (ctrlreg[1], as
 * NEW_USER_BASEPTR), the callbacks, FS and both GS bases. Refused
 * (-EINVAL): a start in guest user mode (no VGCF_in_kernel), an LDT (set
 * it with MMUEXT_SET_LDT from the vCPU), debug registers other than zero.
 * Not taken: the FPU image (the vCPU starts with a fresh FPU) and
 * vm_assist (the domain's, set by vm_assist). All or nothing.
 */
static long vcpu_initialise(struct vcpu *v, uint64_t arg)
{
	struct domain *d = v->d;
	struct vcpu_guest_context *c = xmalloc(sizeof(*c));
	long rc = 0;

	if (!c)
		return -VIREO_ENOMEM;
	if (copy_from_guest(c, arg, sizeof(*c))) {
		xfree(c);
		return -VIREO_EFAULT;
	}
	const struct cpu_user_regs *r = &c->user_regs;
	if (!(c->flags & VGCF_in_kernel) || c->ldt_ents || c->gdt_ents > MM_GDT_ENTRIES ||
	    (r->cs | 3) != FLAT_RING3_CS64 || (r->ss | 3) != FLAT_RING3_SS64 ||
	    (c->kernel_ss | 3) != FLAT_RING3_SS64 || !canonical_va(c->kernel_sp) ||
	    !callback_ok(r->rip) || !canonical_va(r->rsp) || !canonical_va(c->fs_base) ||
	    !canonical_va(c->gs_base_kernel) || !canonical_va(c->gs_base_user) ||
	    !callback_ok(c->event_callback_eip) || !callback_ok(c->failsafe_callback_eip) ||
	    !callback_ok(c->syscall_callback_eip) || c->ctrlreg[3] == 0)
		rc = -VIREO_EINVAL;
	for (unsigned i = 0; rc == 0 && i < 8; i++)
		if (i != 6 && c->debugreg[i])
			rc = -VIREO_EINVAL;
	for (unsigned i = 0; rc == 0 && i < 256; i++)
		if (!callback_ok(c->trap_ctxt[i].address))
			rc = -VIREO_EINVAL;
	if (rc) {
		xfree(c);
		return rc;
	}
	/* Under the domain's MMU lock: no two initialise one vCPU, and the references are all or nothing. */
	spin_lock(&d->mm.lock);
	if (v->initialised || vcpu_is_up(v))
		rc = -VIREO_EEXIST;
	else
		rc = vcpu_set_mmu(v, xen_cr3_to_pfn(c->ctrlreg[3]), xen_cr3_to_pfn(c->ctrlreg[1]),
				  c->gdt_frames, (unsigned)c->gdt_ents);
	if (rc == 0) {
		__builtin_memcpy(v->traps, c->trap_ctxt, sizeof(v->traps));
		v->arch = (struct vcpu_arch){
			.kernel_sp = c->kernel_sp, .gs_user_base = c->gs_base_user,
			.event_cb = c->event_callback_eip, .failsafe_cb = c->failsafe_callback_eip,
			.syscall_cb = c->syscall_callback_eip,
			.failsafe_flags = c->flags & VGCF_failsafe_disables_events ? CALLBACKF_mask_events : 0,
			.syscall_flags = c->flags & VGCF_syscall_disables_events ? CALLBACKF_mask_events : 0,
		};
		v->entry = (struct guest_entry){
			.rip = r->rip, .rsp = r->rsp, .rsi = r->rsi,
			.root_maddr = (maddr_t)xen_cr3_to_pfn(c->ctrlreg[3]) << PAGE_SHIFT,
			.rax = r->rax, .rbx = r->rbx, .rcx = r->rcx, .rdx = r->rdx, .rdi = r->rdi,
			.rbp = r->rbp, .r8 = r->r8, .r9 = r->r9, .r10 = r->r10, .r11 = r->r11,
			.r12 = r->r12, .r13 = r->r13, .r14 = r->r14, .r15 = r->r15,
			.fs_base = c->fs_base, .gs_base = c->gs_base_kernel,
		};
		__atomic_store_n(&v->initialised, true, __ATOMIC_RELEASE);
	}
	mm_sync(&d->mm);
	spin_unlock(&d->mm.lock);
	xfree(c);
	return rc;
}

/*
 * vcpu_op(cmd, vcpu, arg): any vCPU of the domain for initialise, up,
 * down, is_up, the runstate and vcpu_info registration; the timers only
 * the caller's own (-EINVAL for another, as Xen). A vCPU the domain does
 * not have: -ENOENT.
 */
static long do_vcpu_op(uint64_t cmd, uint64_t vcpu, uint64_t arg)
{
	struct domain *d = current_domain;
	if (vcpu >= d->nr_vcpus)
		return -VIREO_ENOENT;
	struct vcpu *v = d->vcpu[vcpu];
	bool self = v == current_vcpu;

	switch (cmd) {
	case VCPUOP_initialise:
		return vcpu_initialise(v, arg);
	case VCPUOP_up:
		return vcpu_up(v);
	case VCPUOP_down:
		if (vcpu_down(v) > 0)
			domain_shutdown(d, SHUTDOWN_poweroff);   /* the last one up: as Xen */
		return 0;
	case VCPUOP_is_up:
		return vcpu_is_up(v);
	case VCPUOP_get_runstate_info: {
		struct vcpu_runstate_info r;
		vcpu_runstate(v, &r);
		runstate_update(v);
		return copy_to_guest(arg, &r, sizeof(r));
	}
	case VCPUOP_register_runstate_memory_area: {
		struct vcpu_register_runstate_memory_area area;
		if (copy_from_guest(&area, arg, sizeof(area)))
			return -VIREO_EFAULT;
		if (area.addr && !domain_range_is_guest(area.addr, area.addr + sizeof(struct vcpu_runstate_info)))
			return -VIREO_EFAULT;
		v->runstate_area = area.addr;
		runstate_update(v);
		return 0;
	}
	case VCPUOP_register_vcpu_info:
		return register_vcpu_info(v, arg);
	case VCPUOP_set_singleshot_timer: {
		struct vcpu_set_singleshot_timer t;
		if (!self)
			return -VIREO_EINVAL;
		if (copy_from_guest(&t, arg, sizeof(t)))
			return -VIREO_EFAULT;
		return evtchn_vcpu_timer_op(VCPUOP_set_singleshot_timer, t.timeout_abs_ns, t.flags);
	}
	case VCPUOP_set_periodic_timer: {
		struct vcpu_set_periodic_timer t;
		if (!self)
			return -VIREO_EINVAL;
		if (copy_from_guest(&t, arg, sizeof(t)))
			return -VIREO_EFAULT;
		return evtchn_vcpu_timer_op(VCPUOP_set_periodic_timer, t.period_ns, 0);
	}
	case VCPUOP_stop_singleshot_timer:
	case VCPUOP_stop_periodic_timer:
		if (!self)
			return -VIREO_EINVAL;
		return evtchn_vcpu_timer_op((unsigned)cmd, 0, 0);
	default:
		return -VIREO_ENOSYS;
	}
}

/* physdev_op: set_iopl is kept (virtual IOPL); port I/O itself is still refused. */
static long do_physdev_op(uint64_t cmd, uint64_t arg)
{
	switch (cmd) {
	case PHYSDEVOP_set_iopl: {
		struct physdev_set_iopl s;
		if (copy_from_guest(&s, arg, sizeof(s)))
			return -VIREO_EFAULT;
		if (s.iopl > 3)
			return -VIREO_EINVAL;
		current_vcpu->arch.iopl = s.iopl;
		return 0;
	}
	default:
		return -VIREO_ENOSYS;
	}
}

/*
 * vm_assist(cmd, type): of Xen's assists, writable page tables (mm/ptwr.c).
 * The others are refused (-VIREO_EINVAL), as Xen refuses what it does not
 * offer a guest.
 */
static long do_vm_assist(uint64_t cmd, uint64_t type)
{
	struct domain_mm *mm = &current_domain->mm;
	if (type != VMASST_TYPE_writable_pagetables)
		return -VIREO_EINVAL;
	switch (cmd) {
	case VMASST_CMD_enable:
		mm->vm_assist |= 1u << type;
		return 0;
	case VMASST_CMD_disable:
		mm->vm_assist &= ~(1u << type);
		return 0;
	default:
		return -VIREO_EINVAL;
	}
}

/* A callback entry point: a canonical guest address, not the hypervisor's, or 0 for none. */
static bool callback_ok(uint64_t addr)
{
	return addr == 0 || (domain_range_is_guest(addr, addr + 1) && canonical_va(addr));
}

static long set_callback(unsigned type, uint16_t flags, uint64_t addr)
{
	struct vcpu_arch *a = &current_vcpu->arch;
	if (!callback_ok(addr) || (flags & ~CALLBACKF_mask_events))
		return -VIREO_EINVAL;
	switch (type) {
	case CALLBACKTYPE_event:
		a->event_cb = addr;
		a->event_flags = flags;
		return 0;
	case CALLBACKTYPE_failsafe:
		a->failsafe_cb = addr;
		a->failsafe_flags = flags;
		return 0;
	case CALLBACKTYPE_syscall:
		a->syscall_cb = addr;
		a->syscall_flags = flags;
		return 0;
	default:
		return -VIREO_EINVAL;   /* syscall32/sysenter: no 32-bit guest user space; nmi: no NMIs */
	}
}

/*
 * set_callbacks(event, failsafe, syscall) and callback_op: where events
 * (not delivered yet: no event channels), failed segment reloads and
 * SYSCALLs from guest user mode enter the guest kernel. All three checked
 * before any is set.
 */
static long do_set_callbacks(uint64_t event, uint64_t failsafe, uint64_t syscall)
{
	if (!callback_ok(event) || !callback_ok(failsafe) || !callback_ok(syscall))
		return -VIREO_EINVAL;
	set_callback(CALLBACKTYPE_event, 0, event);
	set_callback(CALLBACKTYPE_failsafe, 0, failsafe);
	return set_callback(CALLBACKTYPE_syscall, 0, syscall);
}

static long do_callback_op(uint64_t cmd, uint64_t arg)
{
	switch (cmd) {
	case CALLBACKOP_register: {
		struct callback_register cb;
		if (copy_from_guest(&cb, arg, sizeof(cb)))
			return -VIREO_EFAULT;
		return set_callback(cb.type, cb.flags, cb.address);
	}
	case CALLBACKOP_unregister: {
		struct callback_unregister cb;
		if (copy_from_guest(&cb, arg, sizeof(cb)))
			return -VIREO_EFAULT;
		return set_callback(cb.type, 0, 0);
	}
	default:
		return -VIREO_ENOSYS;
	}
}

long hypercall_dispatch(uint64_t nr, struct hypercall_args *a)
{
	switch (nr) {
	case __HYPERVISOR_mmu_update:     return do_mmu_update(a);
	case __HYPERVISOR_mmuext_op:      return do_mmuext_op(a);
	case __HYPERVISOR_update_va_mapping: return do_update_va_mapping(a);
	case __HYPERVISOR_update_va_mapping_otherdomain: return do_update_va_mapping_otherdomain(a);
	case __HYPERVISOR_multicall:      return do_multicall(a);
	case __HYPERVISOR_vm_assist:      return do_vm_assist(a->a[0], a->a[1]);
	case __HYPERVISOR_set_callbacks:  return do_set_callbacks(a->a[0], a->a[1], a->a[2]);
	case __HYPERVISOR_callback_op:    return do_callback_op(a->a[0], a->a[1]);
	case __HYPERVISOR_memory_op:      return do_memory_op(a->a[0], a->a[1]);
	case __HYPERVISOR_vcpu_op:        return do_vcpu_op(a->a[0], a->a[1], a->a[2]);
	case __HYPERVISOR_physdev_op:     return do_physdev_op(a->a[0], a->a[1]);
	case __HYPERVISOR_set_trap_table: return do_set_trap_table(a->a[0]);
	case __HYPERVISOR_set_gdt:        return do_set_gdt(a->a[0], a->a[1]);
	case __HYPERVISOR_update_descriptor: return do_update_descriptor(a->a[0], a->a[1]);
	case __HYPERVISOR_console_io:     return do_console_io(a->a[0], a->a[1], a->a[2]);
	case __HYPERVISOR_xen_version:    return do_xen_version(a->a[0], a->a[1]);
	case __HYPERVISOR_sched_op:       return do_sched_op(a->a[0], a->a[1]);
	case __HYPERVISOR_event_channel_op: return do_event_channel_op(a->a[0], a->a[1]);
	case __HYPERVISOR_set_timer_op:   return do_set_timer_op(a->a[0]);
	default:                          return arch_hypercall(nr, a);
	}
}
