/*
 * The PV domain builder and domain lifetime (include/core/domain.h).
 *
 * Start-of-day layout, as Xen's PV builder makes it (xen/arch/x86/pv/dom0_build.c),
 * in the guest's virtual address space from v_start = VIRT_BASE, where guest
 * pfn n is at v_start + n pages:
 *
 *   [vkern_start, vkern_end)       the kernel's loaded segments
 *   [vinitrd_start, vinitrd_end)   the initrd, if any (start_info mod_start/mod_len)
 *   [vphysmap_start, ..)           the P2M list: nr_pages machine frame numbers
 *   [vstartinfo_start, ..)         start_info (one page)
 *   [vpt_start, vpt_end)           bootstrap page tables: L4, then L3s, L2s, L1s
 *   [vstack_start, vstack_end)     the boot stack (RSP starts at its end)
 *   ... up to v_end                slack: a 4 MiB boundary, at least 512 KiB away
 *
 * The bootstrap tables map [v_start, v_end) to the domain's own frames,
 * user-accessible (the guest kernel runs in ring 3), and map their own
 * frames read-only: a PV guest never writes a live page table directly.
 */
#include <core/domain.h>
#include <mm/frame_alloc.h>
#include <mm/heap.h>
#include <public/sched.h>
#include <public/version.h>
#include <public/xen.h>
#include <vireo/errno.h>
#include <vireo/pte.h>
#include <vireo/printk.h>
#include <vireo/spinlock.h>



static struct domain domains[MAX_DOMAINS];
_Static_assert(MAX_DOMAINS <= MM_MAX_DOMAINS, "the frame table knows every domain");

/* ---- building ------------------------------------------------------------- */

struct builder {
	struct domain *d;
	const struct dom_layout *l;
	uint64_t next_pt;            /* next free page-table page (guest virtual) */
};

static void *guest_page(struct domain *d, uint64_t va, uint64_t v_start)
{
	uint64_t pfn = (va - v_start) >> PAGE_SHIFT;
	if (va < v_start || pfn >= d->nr_pages)
		return NULL;
	return mfn_to_virt(d->p2m[pfn]);
}

static void *elf_dest(uint64_t vaddr, size_t len, void *ctx)
{
	struct domain *d = ctx;
	uint8_t *page = guest_page(d, vaddr, d->layout.v_start);
	if (!page || (vaddr & (PAGE_SIZE - 1)) + len > PAGE_SIZE)
		return NULL;
	return page + (vaddr & (PAGE_SIZE - 1));
}

/*
 * The initrd's bytes at vinitrd_start, a page at a time (the domain's frames
 * need not be contiguous). domain_layout made room for all of it, and the
 * rest of its last page stays zero, as the frames were cleared.
 */
static void initrd_load(struct domain *d, const uint8_t *initrd, size_t len)
{
	const struct dom_layout *l = &d->layout;
	for (size_t done = 0; done < len; done += PAGE_SIZE) {
		size_t n = len - done < PAGE_SIZE ? len - done : PAGE_SIZE;
		__builtin_memcpy(guest_page(d, l->vinitrd_start + done, l->v_start), initrd + done, n);
	}
}

static uint64_t pte_for(struct builder *b, uint64_t va, uint64_t flags)
{
	uint64_t pfn = (va - b->l->v_start) >> PAGE_SHIFT;
	return ((uint64_t)b->d->p2m[pfn] << PAGE_SHIFT) | flags;
}

/*
 * The table below `table` slot idx, made from the next page-table page if
 * absent. Only tables the builder made itself are ever descended into:
 * domain_layout keeps the whole mapping clear of the hypervisor's L4 slots,
 * which are the only entries present in a fresh root.
 */
static uint64_t *pt_next(struct builder *b, uint64_t *table, unsigned idx)
{
	if (!(table[idx] & PTE_P)) {
		uint64_t va = b->next_pt;
		b->next_pt += PAGE_SIZE;
		table[idx] = pte_for(b, va, PTE_P | PTE_W | PTE_U | PTE_A);
	}
	return mfn_to_virt((table[idx] & PTE_ADDR) >> PAGE_SHIFT);
}

static void build_page_tables(struct builder *b)
{
	const struct dom_layout *l = b->l;
	uint64_t *l4 = guest_page(b->d, l->vpt_start, l->v_start);

	b->next_pt = l->vpt_start + PAGE_SIZE;
	machine_guest_root_init(l4);
	for (uint64_t va = l->v_start; va != l->v_end; va += PAGE_SIZE) {
		unsigned slot = (va >> 39) & 511;
		if (slot >= 256 && slot < 272)
			panic("domain %u: builder reached the hypervisor's L4 slot %u", b->d->domid, slot);
		uint64_t *l3 = pt_next(b, l4, (va >> 39) & 511);
		uint64_t *l2 = pt_next(b, l3, (va >> 30) & 511);
		uint64_t *l1 = pt_next(b, l2, (va >> 21) & 511);
		bool is_pt = va >= l->vpt_start && va < l->vpt_end;
		l1[(va >> 12) & 511] = pte_for(b, va, PTE_P | PTE_U | PTE_A | (is_pt ? 0 : PTE_W));
	}
}

static void fill_start_info(struct domain *d, const char *cmdline, size_t initrd_len)
{
	const struct dom_layout *l = &d->layout;
	struct start_info *si = guest_page(d, l->vstartinfo_start, l->v_start);
	uint64_t *p2m_list;

	__builtin_memcpy(si->magic, XEN_START_INFO_MAGIC, sizeof(XEN_START_INFO_MAGIC));
	si->nr_pages = d->nr_pages;
	si->shared_info = d->shared_info_mfn << PAGE_SHIFT;
	si->flags = d->privileged ? (SIF_PRIVILEGED | SIF_INITDOMAIN) : 0;
	si->pt_base = l->vpt_start;
	si->nr_pt_frames = l->nr_pt_frames;
	si->mfn_list = l->vphysmap_start;
	if (initrd_len) {                 /* else 0 and 0, as Xen leaves them */
		si->mod_start = l->vinitrd_start;
		si->mod_len = initrd_len;
	}
	for (size_t i = 0; cmdline && cmdline[i] && i < MAX_GUEST_CMDLINE - 1; i++)
		si->cmd_line[i] = (int8_t)cmdline[i];
	/* The P2M list, one page at a time (its pages need not be contiguous in RAM). */
	for (uint64_t pfn = 0; pfn < d->nr_pages; pfn++) {
		uint64_t va = l->vphysmap_start + pfn * 8;
		p2m_list = guest_page(d, va & ~(PAGE_SIZE - 1), l->v_start);
		p2m_list[(va & (PAGE_SIZE - 1)) / 8] = d->p2m[pfn];
	}
}

/*
 * Xen's x86-64 hypercall page for a guest kernel: 128 stubs of 32 bytes,
 * stub n being "push %rcx; push %r11; mov $n, %eax; syscall; pop %r11;
 * pop %rcx; ret", except iret's, which does not return and pushes the
 * registers its frame needs: "push %rcx; push %r11; push %rax; mov $23,
 * %eax; syscall". The rest is int3.
 */
static void fill_hypercall_page(uint8_t *p)
{
	static const uint8_t stub[14] = { 0x51, 0x41, 0x53, 0xb8, 0, 0, 0, 0, 0x0f, 0x05,
					  0x41, 0x5b, 0x59, 0xc3 };
	static const uint8_t iret[11] = { 0x51, 0x41, 0x53, 0x50, 0xb8, __HYPERVISOR_iret, 0, 0, 0,
					  0x0f, 0x05 };
	__builtin_memset(p, 0xCC, PAGE_SIZE);
	for (unsigned n = 0; n < PAGE_SIZE / 32; n++) {
		uint8_t *e = p + n * 32;
		if (n == __HYPERVISOR_iret) {
			__builtin_memcpy(e, iret, sizeof(iret));
			continue;
		}
		__builtin_memcpy(e, stub, sizeof(stub));
		e[4] = (uint8_t)n;
	}
}

int domain_fill_hypercall_page(uint64_t pfn)
{
	struct domain *d = current_domain;
	if (!d || pfn >= d->nr_pages)
		return -VIREO_EINVAL;
	spin_lock(&d->mm.lock);
	int rc = mm_get_writable(&d->mm, d->p2m[pfn]);    /* never over a page table */
	if (rc == 0) {
		fill_hypercall_page(mfn_to_virt(d->p2m[pfn]));
		mm_put_writable(&d->mm, d->p2m[pfn]);
		mm_sync(&d->mm);
	}
	spin_unlock(&d->mm.lock);
	return rc;
}

struct domain *domain_by_id(unsigned domid)
{
	return domid < MAX_DOMAINS ? &domains[domid] : NULL;
}

/*
 * Give back a domain's memory (its state stays: ended or never started).
 * Nothing may still run on its page tables. Its own references go first;
 * a frame the privileged domain still maps (a foreign mapping) stays
 * allocated, an orphan, until that mapping goes. Returns how many did.
 */
static uint64_t domain_free_memory(struct domain *d)
{
	uint64_t kept = 0;

	spin_lock(&d->mm.lock);
	if (d->p2m)
		mm_relinquish(&d->mm, d->p2m, d->nr_pages);
	for (uint64_t pfn = 0; d->p2m && pfn < d->nr_pages; pfn++)
		if (d->p2m[pfn] != INVALID_MFN)
			kept += !mm_give_back(&d->mm, d->p2m[pfn]);
	/* 0 too: a slot never built is all zero, and MFN 0 is never a domain's (low 1 MiB). */
	if (d->shared_info_mfn != INVALID_MFN && d->shared_info_mfn)
		kept += !mm_give_back(&d->mm, d->shared_info_mfn);
	spin_unlock(&d->mm.lock);
	xfree(d->p2m);
	d->p2m = NULL;
	d->shared_info_mfn = INVALID_MFN;
	for (unsigned i = 0; i < d->nr_vcpus; i++) {
		d->vcpu[i]->vcpu_info_mfn = INVALID_MFN;
		d->vcpu[i]->vcpu_info = NULL;
	}
	return kept;
}

/* Give back a domain's memory and its slot. Nothing may still run on its page tables. */
void domain_destroy(struct domain *d)
{
	if (d->state != DOMAIN_EMPTY)
		evtchn_domain_end(d);
	domain_free_memory(d);
	for (unsigned i = 0; i < d->nr_vcpus; i++)
		xfree(d->vcpu[i]);
	*d = (struct domain){ .state = DOMAIN_EMPTY };
}

/*
 * The guest's system time (ns since boot, machine_now_ns(), which
 * set_timer_op deadlines are in): Xen's vcpu_time_info scale from the TSC
 * rate (Xen's compute_time_scale). The TSC is invariant, so one fill is
 * good for the domain's life; the version stays even.
 */
static void time_fill(struct vcpu_time_info *t)
{
	uint64_t tps = machine_tsc_khz() * 1000;
	int shift = 0;

	if (!tps)
		return;                                /* no TSC rate known: no time (all zero) */
	while (tps > 2000000000ull) {
		tps >>= 1;
		shift--;
	}
	uint32_t tps32 = (uint32_t)tps;
	while (tps32 <= 1000000000u) {
		tps32 <<= 1;
		shift++;
	}
	t->tsc_to_system_mul = (uint32_t)((1000000000ull << 32) / tps32);
	t->tsc_shift = (int8_t)shift;
	t->tsc_timestamp = machine_tsc();
	t->system_time = machine_now_ns();
	t->flags = XEN_PVCLOCK_TSC_STABLE_BIT;
	t->version = 2;
}

static int domain_alloc_memory(struct domain *d, uint64_t nr_pages)
{
	d->nr_pages = nr_pages;
	d->p2m = xmalloc(nr_pages * sizeof(mfn_t));
	if (!d->p2m)
		return -VIREO_ENOMEM;
	for (uint64_t pfn = 0; pfn < nr_pages; pfn++)
		d->p2m[pfn] = INVALID_MFN;
	for (uint64_t pfn = 0; pfn < nr_pages; pfn++) {
		mfn_t mfn = frame_alloc(0);
		if (mfn == INVALID_MFN)
			return -VIREO_ENOMEM;
		__builtin_memset(mfn_to_virt(mfn), 0, PAGE_SIZE);
		d->p2m[pfn] = mfn;
		mm_assign(&d->mm, mfn, pfn);
	}
	d->shared_info_mfn = frame_alloc(0);
	if (d->shared_info_mfn == INVALID_MFN)
		return -VIREO_ENOMEM;
	mm_assign(&d->mm, d->shared_info_mfn, ~0ull);     /* no pfn: Xen's M2P says invalid too */
	/* The hypervisor writes it (event mask, CR2): writable for good, never a page table. */
	if (mm_hold_writable(&d->mm, d->shared_info_mfn) != 0)
		return -VIREO_ENOMEM;
	struct shared_info *sh = mfn_to_virt(d->shared_info_mfn);
	__builtin_memset(sh, 0, PAGE_SIZE);
	/* The wall clock at system time 0 (Xen's wc_*; even version: written before the guest runs). */
	uint64_t wc = machine_wallclock_base_ns();
	if (wc) {
		sh->wc_sec = (uint32_t)(wc / 1000000000ull);
		sh->wc_sec_hi = (uint32_t)(wc / 1000000000ull >> 32);
		sh->wc_nsec = (uint32_t)(wc % 1000000000ull);
		sh->wc_version = 2;
	}
	for (unsigned i = 0; i < d->nr_vcpus; i++) {
		sh->vcpu_info[i].evtchn_upcall_mask = 1;      /* events masked until the guest says */
		time_fill(&sh->vcpu_info[i].time);
		d->vcpu[i]->vcpu_info = &sh->vcpu_info[i];
	}
	return 0;
}

/* The domain's vCPUs, all down (the builder starts vCPU 0): 0 or -VIREO_ENOMEM. */
static int domain_alloc_vcpus(struct domain *d, unsigned nr)
{
	for (unsigned i = 0; i < nr; i++) {
		struct vcpu *v = xmalloc(sizeof(*v));
		if (!v)
			return -VIREO_ENOMEM;
		__builtin_memset(v, 0, sizeof(*v));
		v->id = i;
		v->d = d;
		v->state = VCPU_DOWN;
		v->runstate = RUNSTATE_offline;
		v->vcpu_info_mfn = INVALID_MFN;
		d->vcpu[i] = v;
		d->nr_vcpus = i + 1;
	}
	return 0;
}

int domain_build(unsigned domid, const char *name, const void *image, size_t size,
		 const void *initrd, size_t initrd_len, const char *cmdline, uint64_t mem_bytes,
		 bool privileged, unsigned nr_vcpus)
{
	struct elf_guest g;
	struct domain *d;
	int rc;

	if (domid >= MAX_DOMAINS || domains[domid].state != DOMAIN_EMPTY)
		return -VIREO_EINVAL;
	d = &domains[domid];
	if (!initrd)
		initrd_len = 0;
	if (nr_vcpus < 1 || nr_vcpus > MAX_VCPUS) {
		printk("domain %u (%s): %u vCPUs asked, a domain has 1 to %u; not started\n", domid,
		       name ? name : "-", nr_vcpus, MAX_VCPUS);
		return -VIREO_EINVAL;
	}
	uint64_t nr_pages = mem_bytes >> PAGE_SHIFT;
	rc = elf_parse(image, size, mem_bytes / 2, &g);
	if (rc) {
		printk("domain %u (%s): kernel image refused (%d); not started\n", domid,
		       name ? name : "-", rc);
		return rc;
	}
	if (!frame_table)
		panic("domain_build before frame_table_init");
	*d = (struct domain){ .domid = domid, .privileged = privileged, .shared_info_mfn = INVALID_MFN,
			      .shutdown_code = -1 };
	mm_domain_init(&d->mm, domid, privileged);
	for (size_t i = 0; name && name[i] && i < sizeof(d->name) - 1; i++)
		d->name[i] = name[i];
	const char *why = "its addresses are outside the guest's part of the address space";
	rc = domain_layout(&g, nr_pages, initrd_len, &d->layout);
	if (rc == -VIREO_ENOMEM)
		why = "its start-of-day layout does not fit its memory";
	/* Say so when it is the initrd that does not fit: the kernel alone would. */
	struct dom_layout without;
	if (rc == -VIREO_ENOMEM && initrd_len && domain_layout(&g, nr_pages, 0, &without) == 0)
		why = "its initrd does not fit its memory with the kernel and the start-of-day layout";
	if (rc == 0 && (rc = domain_alloc_vcpus(d, nr_vcpus)) != 0)
		why = "not enough free memory for its vCPUs";
	if (rc == 0 && (rc = domain_alloc_memory(d, nr_pages)) != 0)
		why = "not enough free memory";
	if (rc == 0 && (rc = elf_load(&g, image, size, elf_dest, d)) != 0)
		why = "its segments do not fit the layout";
	char initrd_note[80] = "";          /* printk makes a line of each call: one call */
	if (initrd_len)
		vireo_snprintf(initrd_note, sizeof(initrd_note), " (initrd %llu bytes, memory %llu MiB)",
			       (unsigned long long)initrd_len, (unsigned long long)(mem_bytes >> 20));
	if (rc) {
		printk("domain %u (%s): cannot build (%d): %s%s; not started\n", domid,
		       name ? name : "-", rc, why, initrd_note);
		domain_destroy(d);
		return rc;
	}
	struct builder b = { .d = d, .l = &d->layout };
	build_page_tables(&b);
	if (g.hypercall_page)                  /* elf_parse checked it lies in the image */
		fill_hypercall_page(guest_page(d, g.hypercall_page, d->layout.v_start));
	initrd_load(d, initrd, initrd_len);
	fill_start_info(d, cmdline, initrd_len);
	/*
	 * The start-of-day L4 is pinned, as Xen's builders leave it, and is the
	 * vCPU's root: both validate the whole tree by the guest rules, which
	 * checks the builder too (its tables must map themselves read-only).
	 */
	mfn_t root = d->p2m[(d->layout.vpt_start - d->layout.v_start) >> PAGE_SHIFT];
	spin_lock(&d->mm.lock);
	rc = mm_pin(&d->mm, root, 4);
	if (rc == 0)
		rc = mm_set_root(&d->mm, &d->mm.vcpu[0], root, false);   /* vCPU 0 starts on it */
	spin_unlock(&d->mm.lock);
	if (rc) {
		printk("domain %u (%s): its start-of-day page tables fail validation (%d)\n", domid,
		       name ? name : "-", rc);
		domain_destroy(d);
		return rc;
	}
	struct vcpu *v0 = d->vcpu[0];
	v0->entry = (struct guest_entry){
		.rip = g.entry, .rsp = d->layout.vstack_end, .rsi = d->layout.vstartinfo_start,
		.root_maddr = (maddr_t)root << PAGE_SHIFT,
	};
	v0->initialised = true;
	v0->state = VCPU_READY;
	v0->runstate = RUNSTATE_runnable;
	v0->runstate_entry_ns = machine_now_ns();
	d->state = DOMAIN_READY;
	if (initrd_len)
		vireo_snprintf(initrd_note, sizeof(initrd_note), ", initrd %llu bytes at 0x%llx",
			       (unsigned long long)initrd_len, (unsigned long long)d->layout.vinitrd_start);
	char vcpus_note[24] = "";
	if (nr_vcpus > 1)
		vireo_snprintf(vcpus_note, sizeof(vcpus_note), ", %u vCPUs", nr_vcpus);
	printk("domain %u (%s): %s, %llu MiB, entry 0x%llx, %llu page-table frames%s%s%s\n", domid,
	       d->name[0] ? d->name : "-", g.guest_os[0] ? g.guest_os : "(no GUEST_OS note)", (unsigned long long)(mem_bytes >> 20),
	       (unsigned long long)g.entry, (unsigned long long)d->layout.nr_pt_frames, initrd_note,
	       vcpus_note, privileged ? ", privileged" : "");
	return 0;
}

/* ---- console ---------------------------------------------------------------- */

/*
 * A guest's console output is collected per domain and printed a line at a
 * time behind "(dN) ", as Xen does, with control characters made harmless:
 * a guest must not drive the serial terminal.
 */
static void console_flush(struct domain *d)
{
	if (d->con_len)
		printk("(d%u) %.*s\n", d->domid, (int)d->con_len, d->con_buf);
	d->con_len = 0;
}

/* At the end: the last line, and what the rate limit dropped since it last said so. */
static void console_final(struct domain *d)
{
	console_flush(d);
	if (d->con_dropped)
		printk("(d%u) [%llu bytes of console output dropped]\n", d->domid,
		       (unsigned long long)d->con_dropped);
	d->con_dropped = 0;
}

void domain_console_put(struct domain *d, char c)
{
	if (c == '\n') {
		console_flush(d);
		return;
	}
	if (c == '\r')
		return;
	d->con_buf[d->con_len++] = (c == '\t' || (c >= 0x20 && c < 0x7F)) ? c : '?';
	if (d->con_len == sizeof(d->con_buf))
		console_flush(d);
}

/* ---- running and ending ----------------------------------------------------- */

struct vcpu *cpu_vcpu[MAX_CPUS];        /* written only by its own CPU */
static spinlock_t domains_lock = SPINLOCK_INIT;   /* guards every domain's and vCPU's state */
static uint8_t cpu_idle[MAX_CPUS];      /* under domains_lock: waiting for a vCPU to run */
static uint8_t cpu_wake[MAX_CPUS];      /* set under domains_lock: look for work again */
static const uint8_t never;
static unsigned not_started;            /* domains refused before the run (the exit status) */

uint64_t domain_release_memory(struct domain *d)
{
	/* domain_claim_end waited for every other vCPU: none may run on these page tables now. */
	for (unsigned i = 0; i < d->nr_vcpus; i++)
		if (__atomic_load_n(&d->vcpu[i]->on_cpu, __ATOMIC_ACQUIRE))
			panic("domain %u: memory given back while its vCPU %u is still on CPU %u", d->domid, i,
			      d->vcpu[i]->cpu);
	if (__atomic_load_n(&d->mm.cpus, __ATOMIC_ACQUIRE))
		panic("domain %u: memory given back while CPUs 0x%llx may still cache its tables", d->domid,
		      (unsigned long long)d->mm.cpus);
	spin_lock(&domains_lock);
	d->dying = true;                           /* no new foreign mappings or channels to it */
	spin_unlock(&domains_lock);
	evtchn_domain_end(d);                      /* its peers' ports wait again, unbound */
	return domain_free_memory(d);
}

bool domain_is_live(const struct domain *d)
{
	spin_lock(&domains_lock);
	bool live = !d->dying && (d->state == DOMAIN_READY || d->state == DOMAIN_RUNNING);
	spin_unlock(&domains_lock);
	return live;
}

int domain_foreign(const struct domain *d, unsigned domid, struct domain_mm **out)
{
	struct domain *f = domain_by_id(domid);

	if (!f || !domain_is_live(f))
		return -VIREO_ESRCH;
	if (!d->privileged || f->privileged || f == d)
		return -VIREO_EPERM;
	*out = &f->mm;
	return 0;
}

/*
 * v->cpu is set before v->state becomes RUNNING (release): a kick that
 * reads RUNNING reaches the right CPU. A vCPU not running yet looks at its
 * pending upcall when it gets there (SCHEDOP_block checks with interrupts
 * off), so it needs none.
 */
void vcpu_kick(struct vcpu *v)
{
	if (__atomic_load_n(&v->state, __ATOMIC_ACQUIRE) != VCPU_RUNNING)
		return;
	unsigned c = __atomic_load_n(&v->cpu, __ATOMIC_RELAXED);
	if (c != cpu_id())
		machine_kick_cpu(c);
}

/* Its runstate becomes state at now (domains_lock held). */
static void runstate_set(struct vcpu *v, int state, uint64_t now)
{
	v->runstate_time[v->runstate] += now - v->runstate_entry_ns;
	v->runstate = state;
	v->runstate_entry_ns = now;
}

void vcpu_runstate(struct vcpu *v, struct vcpu_runstate_info *r)
{
	spin_lock(&domains_lock);
	uint64_t now = machine_now_ns();
	*r = (struct vcpu_runstate_info){ .state = v->runstate, .state_entry_time = v->runstate_entry_ns };
	for (unsigned i = 0; i < 4; i++)
		r->time[i] = v->runstate_time[i];
	r->time[v->runstate] += now - v->runstate_entry_ns;
	spin_unlock(&domains_lock);
}

/* The idle CPUs look for work again (domains_lock held); the caller kicks the returned ones. */
static uint64_t wake_idle_locked(void)
{
	uint64_t kick = 0;
	for (unsigned c = 0; c < machine_nr_cpus() && c < MAX_CPUS; c++)
		if (cpu_idle[c]) {
			cpu_wake[c] = 1;
			kick |= 1ull << c;
		}
	return kick;
}

static void kick_cpus(uint64_t mask)
{
	for (unsigned c = 0; mask; c++, mask >>= 1)
		if ((mask & 1) && c != cpu_id())
			machine_kick_cpu(c);
}

bool vcpu_is_up(struct vcpu *v)
{
	return __atomic_load_n(&v->state, __ATOMIC_ACQUIRE) != VCPU_DOWN;
}

int vcpu_up(struct vcpu *v)
{
	uint64_t kick = 0;
	int rc = 0;

	spin_lock(&domains_lock);
	if (v->state != VCPU_DOWN || v->d->ending) {
		/* up already (Xen: 0); or ending, and its vCPUs with it */
	} else if (v->on_cpu) {
		/* Down but still on its CPU (parked, vcpu_check_stop): it goes on where it was. */
		v->down = 0;
		v->resume = 1;
		__atomic_store_n(&v->state, VCPU_RUNNING, __ATOMIC_RELEASE);
		runstate_set(v, RUNSTATE_running, machine_now_ns());
		kick = 1ull << v->cpu;
	} else if (!v->initialised) {
		rc = -VIREO_EINVAL;                    /* nothing to start from: VCPUOP_initialise first */
	} else {
		__atomic_store_n(&v->state, VCPU_READY, __ATOMIC_RELEASE);
		runstate_set(v, RUNSTATE_runnable, machine_now_ns());
		kick = wake_idle_locked();
	}
	spin_unlock(&domains_lock);
	kick_cpus(kick);
	return rc;
}

/*
 * Xen's VCPUOP_down is "nosync": the vCPU is down when this returns (is_up
 * says 0) and stops at its next way back to the guest; it keeps its CPU,
 * parked, so VCPUOP_up resumes it where it was (no scheduler yet to give
 * the CPU to another). When no other vCPU of the domain is up, nothing is
 * changed and 1 is returned: Xen powers the domain off instead.
 */
int vcpu_down(struct vcpu *v)
{
	uint64_t kick = 0;
	bool others_up = false;

	spin_lock(&domains_lock);
	for (unsigned i = 0; i < v->d->nr_vcpus; i++)
		others_up |= v->d->vcpu[i] != v && v->d->vcpu[i]->state != VCPU_DOWN;
	if (!others_up) {
		spin_unlock(&domains_lock);
		return 1;                              /* the last one: the caller ends the domain */
	}
	if (v->state == VCPU_READY) {
		__atomic_store_n(&v->state, VCPU_DOWN, __ATOMIC_RELEASE);
		runstate_set(v, RUNSTATE_offline, machine_now_ns());
	} else if (v->state == VCPU_RUNNING) {
		v->down = 1;
		__atomic_store_n(&v->stop, 1, __ATOMIC_RELEASE);
		__atomic_store_n(&v->state, VCPU_DOWN, __ATOMIC_RELEASE);
		runstate_set(v, RUNSTATE_offline, machine_now_ns());
		kick = 1ull << v->cpu;
	}
	spin_unlock(&domains_lock);
	kick_cpus(kick);
	return 0;
}

/*
 * v leaves this CPU for good (its domain ends): off its timers, page
 * tables, GDT entries and LDT (under the domain's MMU lock, which also
 * guards another vCPU's writes into this CPU's GDT), then down.
 */
static void vcpu_off_cpu(struct vcpu *v)
{
	struct domain *d = v->d;
	machine_timer_at_ns(0);                    /* its timers were this CPU's */
	spin_lock(&d->mm.lock);
	machine_guest_unload();
	v->descs_loaded = false;
	mm_cpu_leave(&d->mm, cpu_id());
	spin_unlock(&d->mm.lock);
	cpu_vcpu[cpu_id()] = NULL;
	spin_lock(&domains_lock);
	if (v->state != VCPU_DOWN)
		runstate_set(v, RUNSTATE_offline, machine_now_ns());
	__atomic_store_n(&v->state, VCPU_DOWN, __ATOMIC_RELEASE);
	__atomic_store_n(&v->on_cpu, 0, __ATOMIC_RELEASE);   /* domain_claim_end waits for this */
	spin_unlock(&domains_lock);
}

static NORETURN void cpu_run_next(void);

void vcpu_check_stop(void)
{
	struct vcpu *v = current_vcpu;
	if (!v || likely(!__atomic_load_n(&v->stop, __ATOMIC_ACQUIRE)))
		return;
	for (;;) {
		spin_lock(&domains_lock);
		v->resume = 0;
		bool end = v->end, down = v->down;
		if (!end && !down)
			__atomic_store_n(&v->stop, 0, __ATOMIC_RELEASE);
		spin_unlock(&domains_lock);
		if (end) {
			vcpu_off_cpu(v);
			cpu_run_next();
		}
		if (!down)
			return;                        /* up again: back to the guest where it was */
		machine_wait_event(&v->resume, &v->end);
	}
}

/*
 * This vCPU ends its domain: false when another vCPU already does (this
 * one is told to leave, as the others). Else the others are told, the
 * ready ones go down, and this waits until every other has left its CPU:
 * after it, the domain runs nowhere else.
 */
static bool domain_claim_end(struct domain *d)
{
	struct vcpu *self = current_vcpu;
	uint64_t kick = 0;

	spin_lock(&domains_lock);
	if (d->ending) {
		spin_unlock(&domains_lock);
		return false;
	}
	d->ending = true;
	for (unsigned i = 0; i < d->nr_vcpus; i++) {
		struct vcpu *v = d->vcpu[i];
		if (v == self)
			continue;
		if (v->state == VCPU_READY) {
			__atomic_store_n(&v->state, VCPU_DOWN, __ATOMIC_RELEASE);
			runstate_set(v, RUNSTATE_offline, machine_now_ns());
		}
		if (v->on_cpu) {
			__atomic_store_n(&v->end, 1, __ATOMIC_RELEASE);
			__atomic_store_n(&v->stop, 1, __ATOMIC_RELEASE);
			kick |= 1ull << v->cpu;
		}
	}
	spin_unlock(&domains_lock);
	kick_cpus(kick);
	for (unsigned i = 0; i < d->nr_vcpus; i++)
		while (d->vcpu[i] != self && __atomic_load_n(&d->vcpu[i]->on_cpu, __ATOMIC_ACQUIRE))
			cpu_relax();
	return true;
}

/* Another vCPU ends this one's domain: this one leaves quietly. */
static NORETURN void vcpu_exit(void)
{
	vcpu_off_cpu(current_vcpu);
	cpu_run_next();
}

/*
 * v starts on this CPU at its entry: its GDT entries (and LDT) loaded here
 * under the domain's MMU lock (update_descriptor writes into the GDT of
 * the CPU a vCPU runs on, under that lock), then the guest.
 */
static NORETURN void vcpu_enter(struct vcpu *v)
{
	struct domain *d = v->d;
	cpu_vcpu[cpu_id()] = v;
	spin_lock(&d->mm.lock);
	mm_cpu_enter(&d->mm, cpu_id());
	vcpu_load_descriptors(v, cpu_id());
	v->descs_loaded = true;
	spin_unlock(&d->mm.lock);
	machine_enter_guest(&v->entry);
}

/*
 * This CPU takes the next ready vCPU (domains in order, every domain's
 * vCPU 0 before any other) and enters it;
 * with none it stops the machine if every domain has ended, or waits
 * until a vCPU comes up (wake_idle_locked) and looks again.
 */
static NORETURN void cpu_run_next(void)
{
	unsigned self = cpu_id();

	for (;;) {
		struct vcpu *next = NULL;
		bool active = false, crashed = false;

		/*
		 * A domain's first vCPU before any secondary one: a domain that
		 * brings up many vCPUs must not keep the others from starting.
		 */
		spin_lock(&domains_lock);
		for (unsigned pass = 0; pass < 2 && !next; pass++)
			for (unsigned i = 0; i < MAX_DOMAINS; i++) {
				struct domain *d = &domains[i];
				bool live = d->state == DOMAIN_READY || d->state == DOMAIN_RUNNING;
				for (unsigned k = 0; live && !next && !d->ending && k < (pass ? d->nr_vcpus : 1); k++)
					if (d->vcpu[k]->state == VCPU_READY)
						next = d->vcpu[k];
				active |= live;
				crashed |= d->state == DOMAIN_CRASHED;
			}
		cpu_idle[self] = !next && active;
		cpu_wake[self] = 0;
		if (next) {
			next->cpu = self;
			next->on_cpu = 1;
			__atomic_store_n(&next->state, VCPU_RUNNING, __ATOMIC_RELEASE);
			runstate_set(next, RUNSTATE_running, machine_now_ns());
			next->d->state = DOMAIN_RUNNING;
		}
		spin_unlock(&domains_lock);
		if (next)
			vcpu_enter(next);
		if (!active) {
			printk("vireo: every domain has ended%s%s; stopping\n", crashed ? " (one crashed)" : "",
			       not_started ? " (and one or more was not started)" : "");
			machine_halt(crashed ? 1 : not_started ? 4 : 0);   /* arch/x86_64 machine_image.h EXIT_* */
		}
		machine_wait_event(&cpu_wake[self], &never);
	}
}

static void cpu_start(void *arg, unsigned cpu)
{
	machine_irq_disable();                     /* the mailbox calls with them on */
	cpu_run_next();
}

NORETURN void domains_run(unsigned refused)
{
	not_started = refused;
	machine_irq_disable();
	/* Every CPU looks for a vCPU to run; those without one wait for one to come up. */
	for (unsigned c = 1; c < machine_nr_cpus(); c++)
		machine_start_on_cpu(c, cpu_start, NULL);
	cpu_run_next();
}

static const char *const shutdown_names[] = {
	"poweroff", "reboot", "suspend", "crash", "watchdog", "soft_reset",
};

/* What the domain's MMU hypercalls did, when it made any. */
static void report_mm(const struct domain *d)
{
	const struct mm_stats *st = &d->mm.stats;
	if (!st->batches && !st->updates && !st->multicalls)
		return;
	printk("domain %u: mmu: %llu batches, %llu multicalls, %llu entries, %llu ops, %llu refused, "
	       "%llu flushes, %llu invlpg, %llu continuations, %llu emulated writes\n", d->domid,
	       (unsigned long long)st->batches, (unsigned long long)st->multicalls,
	       (unsigned long long)st->updates, (unsigned long long)st->ops,
	       (unsigned long long)st->refused, (unsigned long long)st->flushes,
	       (unsigned long long)st->invlpgs, (unsigned long long)st->continuations,
	       (unsigned long long)st->emulated);
}

/*
 * A domain has ended on this CPU, the only one it still ran on
 * (domain_claim_end): this vCPU off the CPU, its memory back to the
 * allocator, its state (shut down or crashed) kept for the exit status.
 */
static NORETURN void domain_end(struct domain *d, enum domain_state state, unsigned reason)
{
	uint64_t pages = d->nr_pages + 1;          /* and shared_info */
	vcpu_off_cpu(current_vcpu);
	uint64_t kept = domain_release_memory(d);
	if (kept)
		printk("domain %u: %llu KiB returned, %llu KiB when another domain unmaps them\n", d->domid,
		       (unsigned long long)((pages - kept) * (PAGE_SIZE / 1024)),
		       (unsigned long long)(kept * (PAGE_SIZE / 1024)));
	else
		printk("domain %u: %llu KiB returned\n", d->domid, (unsigned long long)(pages * (PAGE_SIZE / 1024)));
	spin_lock(&domains_lock);
	d->shutdown_reason = reason;
	d->state = state;
	spin_unlock(&domains_lock);
	cpu_run_next();
}

NORETURN void domain_shutdown(struct domain *d, unsigned reason)
{
	if (!domain_claim_end(d))
		vcpu_exit();
	if (d->shutdown_code >= 0)
		reason = (unsigned)d->shutdown_code;   /* latched by SCHEDOP_shutdown_code, as Xen */
	console_final(d);
	report_mm(d);
	printk("domain %u: shut down (%s)\n", d->domid,
	       reason <= SHUTDOWN_MAX ? shutdown_names[reason] : "unknown reason");
	domain_end(d, reason == SHUTDOWN_crash ? DOMAIN_CRASHED : DOMAIN_SHUTDOWN, reason);
}

void guest_fault(unsigned vector, uint64_t rip, uint64_t error_code, uint64_t cr2)
{
	struct vcpu *v = current_vcpu;
	struct domain *d = current_domain;
	if (!d)
		panic("guest fault with no current domain (exception %u at rip 0x%llx)", vector,
		      (unsigned long long)rip);
	char on[16] = "";
	if (d->nr_vcpus > 1)
		vireo_snprintf(on, sizeof(on), " on vCPU %u", v->id);
	printk("domain %u: crashed: exception %u at rip 0x%llx, error code 0x%llx, cr2 0x%llx "
	       "(no handler for it, or nowhere to deliver it)%s\n", d->domid, vector,
	       (unsigned long long)rip, (unsigned long long)error_code, (unsigned long long)cr2, on);
	if (d->shutdown_code >= 0 && d->shutdown_code != SHUTDOWN_crash)
		domain_shutdown(d, SHUTDOWN_crash);      /* which takes the latched code */
	if (!domain_claim_end(d))
		vcpu_exit();
	console_final(d);
	report_mm(d);
	domain_end(d, DOMAIN_CRASHED, SHUTDOWN_crash);
}

const struct trap_info *domain_trap(unsigned vector)
{
	const struct trap_info *t = current_vcpu ? &current_vcpu->traps[vector & 255] : NULL;
	return t && t->address ? t : NULL;
}
