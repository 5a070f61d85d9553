/*
 * Domains: the PV domain builder (Xen's start-of-day layout), shutdown and
 * crash, and the hypercall dispatcher's entry point.
 *
 * A domain has 1 to MAX_VCPUS vCPUs, and each CPU runs one vCPU until its
 * domain ends (no scheduler yet). A domain runs its kernel and user mode in ring 3 and
 * uses the hypercalls of core/hypercall.c, fastpath/mmu.c and
 * core/event.c (README lists them); any other is -ENOSYS, and an exception
 * it has no handler for crashes it.
 */
#ifndef CORE_DOMAIN_H
#define CORE_DOMAIN_H

#include <stdbool.h>
#include <stdint.h>

#include <core/elf.h>
#include <core/event.h>
#include <mm/frame_table.h>
#include <public/arch-x86_64.h>
#include <public/vcpu.h>
#include <vireo/machine.h>

#define MAX_DOMAINS 8

/* Where the builder puts things in the guest's virtual address space (all page aligned). */
struct dom_layout {
	uint64_t v_start;            /* = virt_base: guest pfn 0 */
	uint64_t vkern_start, vkern_end;
	uint64_t vinitrd_start, vinitrd_end;     /* the initrd, whole pages; empty without one */
	uint64_t vphysmap_start, vphysmap_end;   /* the P2M list: nr_pages * 8 bytes */
	uint64_t vstartinfo_start, vstartinfo_end;
	uint64_t vpt_start, vpt_end;             /* bootstrap page tables */
	uint64_t vstack_start, vstack_end;       /* boot stack */
	uint64_t v_end;                          /* end of what the bootstrap tables map */
	uint64_t nr_pt_frames;
};

/* x86 PV state the hypervisor keeps for a vCPU. */
struct vcpu_arch {
	bool user_mode;              /* guest user mode (user root, user GS), else guest kernel */
	uint64_t kernel_sp;          /* stack_switch: the kernel stack for user -> kernel */
	uint64_t gs_user_base;       /* set_segment_base(SEGBASE_GS_USER), live in user mode */
	uint64_t gs_kernel_base;     /* the kernel's GS base while in user mode */
	uint64_t event_cb, failsafe_cb, syscall_cb;   /* set_callbacks / callback_op */
	uint16_t event_flags, failsafe_flags, syscall_flags;   /* CALLBACKF_* */
	uint64_t user_syscalls;      /* guest-user SYSCALLs bounced to the kernel */
	uint64_t mode_switches;
	unsigned iopl;               /* physdev_op set_iopl (port I/O is still refused) */
	uint64_t dr[8];              /* set_debugreg: DR0-3, DR6, DR7 (4, 5 unused) */
};

#define MAX_VCPUS MM_MAX_VCPUS

/*
 * A vCPU is DOWN (offline: not started, or VCPUOP_down), READY (up, waiting
 * for a CPU) or RUNNING (on cpu). No scheduler yet: a CPU takes a READY
 * vCPU and runs it until it goes down or its domain ends. state, stop and
 * cpu are guarded by domains_lock (core/domain.c); the rest is touched by
 * the CPU the vCPU runs on, or by VCPUOP_initialise while it is DOWN.
 */
enum vcpu_state { VCPU_DOWN, VCPU_READY, VCPU_RUNNING };

struct vcpu {
	unsigned id;
	struct domain *d;
	enum vcpu_state state;
	bool initialised;            /* has a context to start from (vCPU 0: the builder's) */
	/*
	 * Requests, set under domains_lock and read on its way back to the
	 * guest (vcpu_check_stop): stop says "look" (down or end is set),
	 * down parks it on its CPU until VCPUOP_up sets resume, end makes it
	 * leave for good (its domain ends).
	 */
	uint8_t stop, down, resume, end;
	uint8_t on_cpu;              /* entered on cpu and not left yet (parked included) */
	unsigned cpu;                /* where it runs, while on_cpu */
	bool descs_loaded;           /* its GDT entries are in cpu's GDT (the domain's mm.lock) */
	int runstate;                /* RUNSTATE_*, since runstate_entry_ns */
	uint64_t runstate_entry_ns;
	uint64_t runstate_time[4];
	uint64_t runstate_area;      /* VCPUOP_register_runstate_memory_area, 0 for none */
	mfn_t vcpu_info_mfn;         /* VCPUOP_register_vcpu_info, INVALID_MFN: in shared_info */
	unsigned vcpu_info_offset;
	/*
	 * Where vcpu_info is now (shared_info's, or the registered one):
	 * other CPUs read it to raise events (__atomic, one pointer).
	 */
	struct vcpu_info *vcpu_info;
	struct guest_entry entry;    /* where it starts (the builder's, or VCPUOP_initialise's) */
	struct vcpu_arch arch;
	struct vcpu_events ev;       /* its per-vCPU VIRQs, single-shot and periodic timers */
	struct trap_info traps[256]; /* set_trap_table: handler per vector, address 0 = none */
	struct trap_info traps_new[256]; /* set_trap_table's scratch: checked before it applies */
};

/*
 * EMPTY -> READY (built) -> RUNNING (a vCPU on a CPU) -> SHUTDOWN or CRASHED.
 * Guarded by domains_lock in core/domain.c; a domain's other fields are
 * only touched by its vCPUs, but for its MMU state (mm: under mm.lock,
 * which the privileged domain's foreign mappings take too) and its events
 * (ev.lock).
 */
enum domain_state { DOMAIN_EMPTY, DOMAIN_READY, DOMAIN_RUNNING, DOMAIN_SHUTDOWN, DOMAIN_CRASHED };

struct domain {
	unsigned domid;
	char name[32];
	bool privileged;
	enum domain_state state;
	bool ending;                 /* a vCPU is ending it: the others leave their CPUs */
	bool dying;                  /* ending: its memory is being given back */
	unsigned shutdown_reason;
	int shutdown_code;           /* SCHEDOP_shutdown_code, -1 for none: used by a later end */
	unsigned nr_vcpus;           /* vcpu[0 .. nr_vcpus-1] exist */
	struct vcpu *vcpu[MAX_VCPUS];
	uint64_t nr_pages;
	mfn_t *p2m;                  /* pfn -> mfn, the hypervisor's copy */
	mfn_t shared_info_mfn;
	struct dom_layout layout;
	spinlock_t con_lock;         /* its vCPUs print at once */
	unsigned con_len;            /* console output waiting for its newline */
	char con_buf[160];
	uint64_t con_tokens;         /* bytes it may print now (rate limit) */
	uint64_t con_refill_ns;      /* when con_tokens was last topped up */
	uint64_t con_dropped;        /* bytes dropped since the last report */
	struct domain_mm mm;         /* page tables (per vCPU: mm.vcpu[]), flush clock, MMU counters */
	struct domain_events ev;     /* event channels */
};

/*
 * Compute the start-of-day layout for an image of nr_pages pages: kernel,
 * initrd (initrd_len bytes, rounded up to whole pages; 0 for none), P2M
 * list, start_info, page tables, stack, mapped up to a 4 MiB boundary with
 * at least 512 KiB of slack (Xen's PV builder). -VIREO_ENOMEM when it does
 * not fit in nr_pages (whatever initrd_len is), -VIREO_EINVAL when any of it
 * would lie outside the guest's part of the address space.
 */
int domain_layout(const struct elf_guest *g, uint64_t nr_pages, uint64_t initrd_len,
		  struct dom_layout *out);

/* [start, end) lies where a guest may map (not the hypervisor's range, not the hole); empty: true. */
bool domain_range_is_guest(uint64_t start, uint64_t end);

/*
 * Build domain `domid` from an ELF image and an optional initrd (initrd_len
 * bytes at initrd; NULL and 0 for none, and a length of 0 is none, as on
 * Xen): memory, P2M, page tables, start_info, shared_info, and nr_vcpus
 * vCPUs (1 .. MAX_VCPUS), vCPU 0 up at the image's entry, the others down
 * until the guest starts them (VCPUOP_initialise, VCPUOP_up). The initrd is
 * copied to vinitrd_start and start_info says where (mod_start, a virtual
 * address, mapped: no SIF_MOD_START_PFN) and how long (mod_len, in bytes).
 * On error nothing is left allocated and the message names the domain and
 * the problem (an initrd that does not fit its memory among them).
 */
int domain_build(unsigned domid, const char *name, const void *image, size_t size,
		 const void *initrd, size_t initrd_len, const char *cmdline, uint64_t mem_bytes,
		 bool privileged, unsigned nr_vcpus);

struct domain *domain_by_id(unsigned domid);

/*
 * The MMU state of domain domid, whose frames d may map (foreigndom of
 * mmu_update, update_va_mapping_otherdomain): -VIREO_ESRCH when no such
 * domain is built and not ending, else -VIREO_EPERM unless d is privileged
 * and domid is another, unprivileged domain. The domain may still end after:
 * the frame table checks each frame's owner under that domain's lock.
 */
int domain_foreign(const struct domain *d, unsigned domid, struct domain_mm **out);

/*
 * Free a domain's memory and make its slot empty (the hosted tests; a
 * domain that ends in the hypervisor gives its memory back by itself and
 * keeps its slot, with its end state). Nothing may still run on its page
 * tables.
 */
void domain_destroy(struct domain *d);

/*
 * A domain that no longer runs gives its memory back: it is dying (no new
 * foreign mappings of it), its references are dropped, its frames freed
 * but those another domain still maps (orphans, freed at the last unmap;
 * how many is returned). Its slot and end state stay.
 */
uint64_t domain_release_memory(struct domain *d);

/*
 * Run the domains that were built, one vCPU per CPU at a time: each CPU
 * takes the next ready vCPU (domains in order, a domain's vCPUs as they
 * come up) and runs it until it goes down or its domain ends, then takes
 * another. Called on the boot CPU; returns never (the machine stops when
 * all have ended, with status 1 if one crashed, else 4 if not_started
 * domains were refused before, else 0).
 */
NORETURN void domains_run(unsigned not_started);

/*
 * The handler the current vCPU registered for vector, or NULL; the
 * vcpu_info of a vCPU (event mask, pending flags, CR2).
 */
const struct trap_info *domain_trap(unsigned vector);
static inline struct vcpu_info *vcpu_info_of(struct vcpu *v)
{
	return __atomic_load_n(&v->vcpu_info, __ATOMIC_ACQUIRE);
}

/* Built and not ended (nor ending): may be named by another domain. */
bool domain_is_live(const struct domain *d);

/* An upcall became pending for v: the CPU it runs on (another one) is woken to deliver it. */
void vcpu_kick(struct vcpu *v);

/*
 * VCPUOP_up / VCPUOP_down of vCPU v of the current domain (core/hypercall.c
 * checks the vCPU exists): up makes an initialised, down vCPU ready for the
 * next free CPU, or resumes a parked one (-VIREO_EINVAL if it has no
 * context yet; 0 if it is up); down is Xen's "nosync" (see core/domain.c)
 * and returns 1, changing nothing, when no other vCPU is up (the caller
 * powers the domain off, as Xen).
 */
int vcpu_up(struct vcpu *v);
int vcpu_down(struct vcpu *v);
bool vcpu_is_up(struct vcpu *v);

/* core/hypercall.c, the domain's mm.lock held: load v's GDT entries and LDT into CPU cpu's. */
void vcpu_load_descriptors(struct vcpu *v, unsigned cpu);

/*
 * On every return to the guest (arch code): has this vCPU been told to
 * leave its CPU (its domain ends, or another vCPU took it down)? Then it
 * leaves, and this does not return.
 */
void vcpu_check_stop(void);

/* For core/hypercall.c: the vCPU running on this CPU, its domain, its console, its end. */
extern struct vcpu *cpu_vcpu[MAX_CPUS];
#define current_vcpu (cpu_vcpu[cpu_id()])
#define current_domain (current_vcpu ? current_vcpu->d : (struct domain *)0)
void domain_console_put(struct domain *d, char c);

/* The runstate of v now (VCPUOP_get_runstate_info), with the time of its current state. */
void vcpu_runstate(struct vcpu *v, struct vcpu_runstate_info *r);

/* Xen's hypercall-page MSR: fill guest page pfn of the current domain with the stubs. */
int domain_fill_hypercall_page(uint64_t pfn);
NORETURN void domain_shutdown(struct domain *d, unsigned reason);

/* Called from arch code. */
void guest_fault(unsigned vector, uint64_t rip, uint64_t error_code, uint64_t cr2);

#endif
