/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Things the parts of the lguest host module share with each other.
 *
 * Each guest is one struct lguest, which lives exactly as long as the open
 * file of /dev/lguest that created it: lguest_user.c allocates it on open()
 * and frees it on the final close().
 */
#ifndef _DRIVERS_LGUEST_LG_H
#define _DRIVERS_LGUEST_LG_H

#include <linux/bitops.h>
#include <linux/compiler_types.h>
#include <linux/hrtimer.h>
#include <linux/list.h>
#include <linux/init.h>
#include <linux/lguest.h>
#include <linux/mutex.h>
#include <linux/types.h>
#include <linux/wait.h>
#include <asm/desc_defs.h>
#include <asm/fpu/types.h>
#include <asm/ldt.h>
#include <asm/lguest_para.h>
#include <linux/pgtable.h>
#include <asm/pgtable_areas.h>
#include <asm/trapnr.h>
#include <asm/segment.h>

struct dentry;
struct mm_struct;
struct page;
struct task_struct;

/* The page-directory slot of the switcher, and everything above it. */
#define SWITCHER_PGD_INDEX	(LGUEST_SWITCHER_ADDR >> PGDIR_SHIFT)

/* An LDT of LDT_ENTRIES descriptors takes this many pages. */
#define LG_LDT_ENTRIES_PER_PAGE	(PAGE_SIZE / LDT_ENTRY_SIZE)
#define LG_LDT_PAGES		(LDT_ENTRIES / LG_LDT_ENTRIES_PER_PAGE)

/**
 * struct lg_pgdir - a shadow page directory
 * @gpgdir:	the guest-physical address of the guest's page directory
 * @tlb_gen:	the generation of the guest's address space that the entries
 *		below the kernel agree with, 0 if unknown (page_tables.c)
 * @last_used:	when it was last loaded, for the choice of a victim
 * @pgdir:	our page directory, which the CPU really uses; its entries
 *		point at our page-table pages, whose entries map the pages
 *		of guest memory the guest's tables map (pinned)
 */
struct lg_pgdir {
	u32 gpgdir;
	u32 tlb_gen;
	unsigned long last_used;
	pgd_t *pgdir;
};

/**
 * struct lg_kshadow - the shadow of a kernel page table, one for all
 * @gpgd:	the guest's page-directory entry it shadows (frame and rights)
 * @ptes:	the shadow table, linked into every directory whose guest
 *		entry is @gpgd; NULL until first used
 * @filled:	every entry the guest's table lets us map is mapped
 */
struct lg_kshadow {
	u32 gpgd;
	pte_t *ptes;
	bool filled;
};

/* Devices (mmio.c): how many windows and eventfd bindings a guest may have. */
#define LG_MAX_MMIO_WINDOWS	32
#define LG_MAX_IOEVENTFDS	256

/* A device window: guest-physical [@start, @end), beyond guest memory. */
struct lg_mmio_window {
	u64 start, end;
};

/**
 * struct lg_mmio_read - an MMIO read the launcher has yet to answer
 * @pending:	the last exit was an MMIO read
 * @reg:	the register the instruction loads (x86 numbering)
 * @size:	how many of its low bytes the value replaces
 * @byte_high:	the register is %ah, %ch, %dh or %bh (@reg 4-7, one byte)
 */
struct lg_mmio_read {
	bool pending;
	u8 reg, size;
	bool byte_high;
};

/*
 * Exit reasons counted per guest, shown in debugfs as
 * lguest/<launcher pid>-<guest id>/exits: what benchmarks divide by.
 */
enum lg_exit {
	LG_EXIT_HYPERCALL,
	LG_EXIT_PAGE_FAULT,
	LG_EXIT_TRAP,
	LG_EXIT_HOST_IRQ,
	LG_EXIT_HALT,
	LG_EXIT_MMIO,
	LG_EXIT_IOEVENTFD,
	LG_EXIT_NR
};

/**
 * struct lg_audit - the shadow audit of a guest (CONFIG_LGUEST_AUDIT)
 * @pinned:	the host pfns the frame table pinned, hashed (audit.c)
 * @pinned_bits: log2 of the size of @pinned
 * @runs:	audits made
 * @tables:	shadow tables checked, in all
 * @failures:	violations found: the first kills the guest, and ends
 *		its audits
 */
struct lg_audit {
	u32 *pinned;
	unsigned int pinned_bits;
	unsigned long runs, tables, failures;
};

/*
 * Hypercalls counted by number (the launcher's all in the last), made
 * and queued, shown in debugfs as lguest/<pid>-<id>/hypercalls.
 */
#define LG_HCALLS_COUNTED	32

/**
 * struct lguest - one guest, that is one open file of /dev/lguest
 * @lock:	serialises LGUEST_INIT, LGUEST_RUN, LGUEST_GET_REGS and
 *		LGUEST_SET_REGS.  LGUEST_IRQ deliberately does not take it.
 * @mm:		the launcher's address space, recorded (and pinned with
 *		mmgrab()) by LGUEST_INIT.  NULL until then.  It is written
 *		once, under @lock, with smp_store_release(), so it can be
 *		read without @lock through smp_load_acquire(): once it is
 *		seen, everything LGUEST_INIT set up is visible too.
 * @mem_base:	launcher address of guest-physical address 0
 * @mem_size:	bytes of guest memory; guest-physical addresses at or
 *		above it are not memory (that is where devices live)
 * @regs:	the guest's registers, as LGUEST_GET_REGS reports them; they
 *		must always pass LGUEST_SET_REGS's checks too, so that a
 *		launcher can save and restore them (e.g. eflags never shows
 *		the host's IF or IOPL)
 * @irqs_pending: interrupts raised by LGUEST_IRQ (or the timer) and not yet
 *		delivered; changed only with atomic bit operations
 * @irq_wait:	where a halted guest waits for @irqs_pending
 * @timer:	the guest's clock event (LHCALL_SET_CLOCKEVENT), which
 *		raises interrupt line 0
 * @timer_period: and raises it again every so many ns after that; 0 for
 *		once.  Changed only with @timer cancelled.
 * @vcpu_task:	the task in LGUEST_RUN, NULL when there is none: what
 *		lguest_raise_irq() kicks out of the guest
 * @irq_raised:	an interrupt was raised since the run loop last delivered
 *		(see lguest_arch_run_guest())
 * @id:		a number no other guest of this module's life has
 * @mmio_lock:	protects @windows, @nr_windows, @ioeventfds and
 *		@nr_ioeventfds, which LGUEST_ADD_MMIO_WINDOW and
 *		LGUEST_IOEVENTFD change without @lock (a device thread may
 *		bind an eventfd while the guest runs)
 * @windows:	the device windows (LGUEST_ADD_MMIO_WINDOW)
 * @nr_windows:	how many of @windows are in use
 * @ioeventfds:	the writes bound to eventfds (struct lg_ioeventfd)
 * @nr_ioeventfds: how many there are
 *
 * The rest is only touched by the run loop and the hypercalls, under @lock:
 * @lguest_data: guest-physical address of the guest's struct lguest_data,
 *		0 until LHCALL_LGUEST_INIT
 * @async_next:	next slot of the asynchronous hypercall ring to look at
 * @frames:	the frame table: for each page of guest memory, the page
 *		pinned for it, or NULL before a shadow entry first maps it
 * @locked_mm:	the address space charged for guest memory (RLIMIT_MEMLOCK)
 * @pgdirs:	the shadow page directories
 * @nr_pgdirs:	how many (the shadow_pgdirs module parameter at creation)
 * @cur_pgdir:	index in @pgdirs of the one for the guest's cr3
 * @pgdir_clock: counts cr3 loads, for &lg_pgdir.last_used
 * @kshadows:	the shared shadows of the kernel's page tables, by
 *		page-directory slot (those from @user_pgds up)
 * @shadow_simple: no sharing, no keeping: the shadow_simple module
 *		parameter at creation
 * @user_pgds:	page-directory slots below the guest's kernel_address: their
 *		shadows go when the guest loads another cr3 whose address
 *		space changed since; 0 if none given
 * @gdt:	the guest's GDT, as sanitized by segments.c
 * @idt:	the guest's IDT entries, as checked by interrupts_and_traps.c
 * @ldt_pages:	the guest's LDT, as sanitized by segments.c: pages allocated
 *		on first use, kept until the guest goes
 * @ldt_entries: how many descriptors of @ldt_pages are the LDT; 0 for none
 * @ss1:	the guest kernel's stack segment, from LHCALL_SET_STACK
 * @esp1:	and stack pointer: where traps from guest user mode go
 * @stack_pages: how many pages below @esp1 are the guest kernel's stack,
 *		which page_tables.c keeps mapped in the current shadow; 0
 *		if there is none, or none the CPU may use (see
 *		lguest_set_stack()): the system call vector then always
 *		exits instead of going straight to the guest kernel
 * @io_bitmap:	guest-physical address of the I/O bitmap of the guest's
 *		current user process (LHCALL_SET_IO_BITMAP)
 * @io_bitmap_bytes: its size; 0 for no ports, LGUEST_IO_ALL for all
 * @dr6:	the processor's DR6 at the guest's last #DB
 * @dr:		the guest's breakpoint addresses (DR0-DR3), checked
 * @dr7:	and its DR7, checked: 0 when it has no breakpoints
 * @fpu:	the guest's FPU and SSE registers while it is not running
 * @dead:	the guest was killed, for @dead_reason
 * @exit:	a pending exit to the launcher, if @exit.exit_reason is set
 * @hcall_pending: the guest waits for a launcher hypercall's result
 * @mmio_read:	the guest waits for the value of an MMIO read
 * @halted:	the guest is waiting for an interrupt (LHCALL_HALT)
 * @exits:	exit counters, by enum lg_exit (read without locking)
 * @hcalls:	hypercalls by number, made [0] and queued [1] (likewise)
 * @faults_reflected: page faults that were the guest's own (likewise)
 * @debugfs:	this guest's debugfs directory
 * @audit:	what audit.c knows and found, with CONFIG_LGUEST_AUDIT
 */
struct lguest {
	struct mutex lock;		/* see the kernel-doc above */
	struct mm_struct *mm;
	void __user *mem_base;
	unsigned long mem_size;
	struct lguest_regs regs;
	DECLARE_BITMAP(irqs_pending, LGUEST_NR_IRQS);
	wait_queue_head_t irq_wait;
	struct hrtimer timer;
	u32 timer_period;
	struct task_struct *vcpu_task;
	bool irq_raised;
	u64 id;
	struct mutex mmio_lock;		/* see the kernel-doc above */
	struct lg_mmio_window windows[LG_MAX_MMIO_WINDOWS];
	unsigned int nr_windows;
	struct list_head ioeventfds;
	unsigned int nr_ioeventfds;

	u32 lguest_data;
	unsigned int async_next;
	struct page **frames;
	struct mm_struct *locked_mm;
	struct lg_pgdir *pgdirs;
	unsigned int nr_pgdirs;
	unsigned int cur_pgdir;
	unsigned long pgdir_clock;
	struct lg_kshadow *kshadows;
	bool shadow_simple;
	unsigned int user_pgds;
	struct desc_struct gdt[GDT_ENTRIES];
	gate_desc idt[IDT_ENTRIES];
	struct page *ldt_pages[LG_LDT_PAGES];
	u32 ldt_entries;
	u32 ss1, esp1;
	u32 stack_pages;
	u32 io_bitmap, io_bitmap_bytes;
	u32 dr6;
	u32 dr[4], dr7;
	struct fxregs_state fpu;
	bool dead;
	char dead_reason[LGUEST_REASON_LEN];
	struct lguest_run exit;
	bool hcall_pending;
	struct lg_mmio_read mmio_read;
	bool halted;
	unsigned long exits[LG_EXIT_NR];
	unsigned long hcalls[LG_HCALLS_COUNTED][2];
	unsigned long faults_reflected;
	struct dentry *debugfs;
#ifdef CONFIG_LGUEST_AUDIT
	struct lg_audit audit;
#endif
};

/* Where a field of the guest's struct lguest_data is, guest-physical. */
#define LG_DATA_OFF(field)	offsetof(struct lguest_data, field)
#define lg_data_addr(lg, field)	((lg)->lguest_data + LG_DATA_OFF(field))

/* lguest_user.c: the /dev/lguest control device. */
int __init lguest_device_init(void);
void lguest_device_remove(void);

/* core.c: the run loop and guest memory. */
int lguest_setup(struct lguest *lg);
void lguest_teardown(struct lguest *lg);
int lguest_run(struct lguest *lg, struct lguest_run *run);
__printf(2, 3) void kill_guest(struct lguest *lg, const char *fmt, ...);
bool lg_read(struct lguest *lg, u32 gpa, void *buf, size_t len);
bool lg_write(struct lguest *lg, u32 gpa, const void *buf, size_t len);

/* hypercalls.c */
void __init lguest_init_tsc_khz(void);
void lguest_do_hypercall(struct lguest *lg);
void lguest_flush_async(struct lguest *lg);

/* interrupts_and_traps.c */
void lguest_reflect_trap(struct lguest *lg, unsigned int vector);
void lguest_load_idt_entry(struct lguest *lg, u32 vector, u32 lo, u32 hi);
void lguest_set_stack(struct lguest *lg, u32 ss, u32 esp, u32 pages);
void lguest_set_io_bitmap(struct lguest *lg, u32 gpa, u32 bytes);
bool lguest_emulate_port_io(struct lguest *lg);
bool lguest_emulate_msr(struct lguest *lg);
void lguest_raise_irq(struct lguest *lg, unsigned int irq);
bool lguest_irqs_blocked(struct lguest *lg, unsigned long *blocked);
void lguest_halt_done(struct lguest *lg);
void lguest_deliver_irq(struct lguest *lg);
void lguest_init_timer(struct lguest *lg);
void lguest_set_clockevent(struct lguest *lg, u32 delta_ns, u32 period_ns);

/* segments.c */
void lguest_init_gdt(struct lguest *lg);
void lguest_load_gdt_entry(struct lguest *lg, u32 index, u32 lo, u32 hi);
void lguest_load_tls(struct lguest *lg, u32 gpa);
void lguest_set_ldt(struct lguest *lg, u32 gva, u32 entries);
void lguest_free_ldt(struct lguest *lg);
bool lguest_segment_is_16bit(struct lguest *lg, u32 sel);

/* mmio.c: device windows and eventfd kicks. */
void lguest_init_mmio(struct lguest *lg);
void lguest_free_mmio(struct lguest *lg);
void lguest_mmio_access(struct lguest *lg, u32 gpa, u32 errcode);
void lguest_mmio_complete(struct lguest *lg, u32 data);
long lguest_check_extension(unsigned long cap);
long lguest_add_mmio_window(struct lguest *lg,
			    const struct lguest_mmio_window __user *uwin);
long lguest_ioeventfd(struct lguest *lg,
		      const struct lguest_ioeventfd __user *ue);

/* page_tables.c: shadow paging. */
int lguest_init_pagetables(struct lguest *lg);
void lguest_free_pagetables(struct lguest *lg);
bool lguest_prepare_pagetables(struct lguest *lg);
unsigned long lguest_shadow_cr3(struct lguest *lg, pte_t *switcher_pte);
/* What lguest_demand_page() made of a page fault. */
enum lg_fault {
	LG_FAULT_FIXED,		/* the shadow now maps it: run the guest on */
	LG_FAULT_GUEST,		/* the guest's tables forbid it: reflect it */
	LG_FAULT_DEVICE,	/* beyond guest memory: see mmio.c */
};

enum lg_fault lguest_demand_page(struct lguest *lg, u32 vaddr, u32 *errcode,
				 u32 *gpa);
void lguest_set_kernel_address(struct lguest *lg, u32 kernel_address);
void lguest_new_pagetable(struct lguest *lg, u32 gpgdir, u32 tlb_gen);
void lguest_new_mm(struct lguest *lg, u32 gpgdir, u32 tlb_gen);
void lguest_flush_tlb(struct lguest *lg, u32 kernel, u32 tlb_gen);
void lguest_free_pagetable(struct lguest *lg, u32 gpgdir);
void lguest_set_pte(struct lguest *lg, u32 gpgdir, u32 vaddr, u32 tlb_gen);
void lguest_set_pgd(struct lguest *lg, u32 gpgdir, u32 index);
bool lguest_gva_to_gpa(struct lguest *lg, u32 vaddr, bool write, u32 *gpa);
void lguest_map_stack(struct lguest *lg);

/* audit.c: page_tables.c's invariants checked (CONFIG_LGUEST_AUDIT). */
#ifdef CONFIG_LGUEST_AUDIT
void lguest_audit_init(struct lguest *lg);
void lguest_audit_free(struct lguest *lg);
void lguest_audit_pin(struct lguest *lg, struct page *page);
void lguest_audit_dir(struct lguest *lg, unsigned int dir, const char *event);
void lguest_audit_slot(struct lguest *lg, unsigned int slot,
		       const char *event);
void lguest_audit_entry(struct lguest *lg, u32 vaddr, const char *event);
void lguest_audit_flush(struct lguest *lg, const char *event);
void lguest_audit_all(struct lguest *lg, const char *event);
#else
static inline void lguest_audit_init(struct lguest *lg) {}
static inline void lguest_audit_free(struct lguest *lg) {}
static inline void lguest_audit_pin(struct lguest *lg, struct page *page) {}
static inline void lguest_audit_dir(struct lguest *lg, unsigned int dir,
				    const char *event) {}
static inline void lguest_audit_slot(struct lguest *lg, unsigned int slot,
				     const char *event) {}
static inline void lguest_audit_entry(struct lguest *lg, u32 vaddr,
				      const char *event) {}
static inline void lguest_audit_flush(struct lguest *lg, const char *event) {}
static inline void lguest_audit_all(struct lguest *lg, const char *event) {}
#endif

/* x86/core.c: the switcher. */
int __init lguest_arch_host_init(void);
void lguest_arch_host_fini(void);
void lguest_arch_setup(struct lguest *lg);
bool lguest_arch_run_guest(struct lguest *lg);
void lguest_arch_set_debugreg(struct lguest *lg, u32 regno, u32 value);
bool lguest_arch_idt_present(struct lguest *lg, unsigned int vector);
bool lguest_arch_is_host_vector(unsigned int vector);
bool lguest_arch_is_switcher_table(unsigned long pa);

#endif /* _DRIVERS_LGUEST_LG_H */
