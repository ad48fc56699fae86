// SPDX-License-Identifier: GPL-2.0-only
/*
 * lguest: the host side.
 *
 * lguest is a hypervisor small enough to read in an afternoon.  It runs
 * 32-bit Linux guests on a 32-bit x86 host without any help from hardware
 * virtualization: the guest kernel is built to run in ring 1 instead of
 * ring 0, and asks the host (by hypercall) for everything ring 1 may not do
 * itself.
 *
 * The host is this module, lg.ko, plus a user-space "launcher" (in
 * tools/lguest/).  The launcher is an ordinary process: it allocates the
 * guest's memory from its own address space, loads the guest kernel into
 * it, and then drives the guest through /dev/lguest (lguest_user.c).  When
 * the guest touches a device, the launcher plays the device.
 *
 * This file holds the module's start and end, the run loop the launcher's
 * LGUEST_RUN ends up in, and access to guest memory.
 */
#include <linux/atomic.h>
#include <linux/debugfs.h>
#include <linux/init.h>
#include <linux/module.h>
#include <linux/seq_file.h>
#include <linux/sched.h>
#include <linux/sched/signal.h>
#include <linux/string.h>
#include <linux/uaccess.h>

#include "lg.h"
#include "x86/switcher.h"

#define CREATE_TRACE_POINTS
#include "trace.h"

static struct dentry *lg_debugfs;

/*
 * Guest-physical addresses are offsets into the launcher's mapping of guest
 * memory; we are always in the launcher's context when we use them.  A bad
 * address, or memory the launcher has unmapped, kills the guest.
 */
static bool lg_range_ok(struct lguest *lg, u32 gpa, size_t len)
{
	return (u64)gpa + len <= lg->mem_size;
}

bool lg_read(struct lguest *lg, u32 gpa, void *buf, size_t len)
{
	if (!lg_range_ok(lg, gpa, len) ||
	    copy_from_user(buf, lg->mem_base + gpa, len)) {
		kill_guest(lg, "bad read of guest memory at %#x", gpa);
		return false;
	}
	return true;
}

bool lg_write(struct lguest *lg, u32 gpa, const void *buf, size_t len)
{
	if (!lg_range_ok(lg, gpa, len) ||
	    copy_to_user(lg->mem_base + gpa, buf, len)) {
		kill_guest(lg, "bad write of guest memory at %#x", gpa);
		return false;
	}
	return true;
}

/*
 * A guest that misbehaves is not the host's problem: it just stops, and
 * the launcher gets the (first) reason.
 */
void kill_guest(struct lguest *lg, const char *fmt, ...)
{
	va_list args;

	if (lg->dead)
		return;
	va_start(args, fmt);
	vsnprintf(lg->dead_reason, sizeof(lg->dead_reason), fmt, args);
	va_end(args);
	lg->dead = true;
}

static const char * const lg_exit_names[LG_EXIT_NR] = {
	[LG_EXIT_HYPERCALL]	= "hypercall",
	[LG_EXIT_PAGE_FAULT]	= "page_fault",
	[LG_EXIT_TRAP]		= "trap",
	[LG_EXIT_HOST_IRQ]	= "host_irq",
	[LG_EXIT_HALT]		= "halt",
	[LG_EXIT_MMIO]		= "mmio",
	[LG_EXIT_IOEVENTFD]	= "ioeventfd",
};

/* One line per reason; the counts move while the guest runs. */
static int lg_exits_show(struct seq_file *m, void *unused)
{
	struct lguest *lg = m->private;
	unsigned int i;

	for (i = 0; i < LG_EXIT_NR; i++)
		seq_printf(m, "%s %lu\n", lg_exit_names[i],
			   READ_ONCE(lg->exits[i]));
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(lg_exits);

/*
 * Where the exits go: each hypercall number that was used, made (an exit
 * each) and queued (run at the next exit); and the page faults that were
 * the guest's own, reflected to it, rather than filled in by us.
 */
static int lg_hcalls_show(struct seq_file *m, void *unused)
{
	struct lguest *lg = m->private;
	unsigned int i;

	for (i = 0; i < LG_HCALLS_COUNTED; i++)
		if (READ_ONCE(lg->hcalls[i][0]) || READ_ONCE(lg->hcalls[i][1]))
			seq_printf(m, "%u %lu %lu\n", i,
				   READ_ONCE(lg->hcalls[i][0]),
				   READ_ONCE(lg->hcalls[i][1]));
	seq_printf(m, "page_faults_reflected %lu\n",
		   READ_ONCE(lg->faults_reflected));
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(lg_hcalls);

static void lg_debugfs_add(struct lguest *lg)
{
	char name[32];

	snprintf(name, sizeof(name), "%d-%llu", task_tgid_nr(current), lg->id);
	lg->debugfs = debugfs_create_dir(name, lg_debugfs);
	debugfs_create_file("exits", 0444, lg->debugfs, lg, &lg_exits_fops);
	debugfs_create_file("hypercalls", 0444, lg->debugfs, lg,
			    &lg_hcalls_fops);
	lguest_audit_init(lg);
}

/* Called by LGUEST_INIT once the memory and registers are known. */
int lguest_setup(struct lguest *lg)
{
	static atomic64_t next_id = ATOMIC64_INIT(0);

	lg->id = atomic64_inc_return(&next_id);
	init_waitqueue_head(&lg->irq_wait);
	lguest_init_timer(lg);
	lguest_init_mmio(lg);
	lg_debugfs_add(lg);
	lguest_init_gdt(lg);
	lguest_arch_setup(lg);
	return lguest_init_pagetables(lg);
}

void lguest_teardown(struct lguest *lg)
{
	debugfs_remove_recursive(lg->debugfs);
	hrtimer_cancel(&lg->timer);
	lguest_free_pagetables(lg);
	lguest_free_ldt(lg);
	lguest_free_mmio(lg);
}

/* The guest trapped: deal with it, or give it back to the guest. */
static void lg_handle_trap(struct lguest *lg)
{
	unsigned int trap = lg->regs.trapnum;
	enum lg_fault fault;
	u32 gpa;

	if (trap >= LGUEST_TRAP_IN_SWITCHER) {
		/* The error code holds the faulting switcher address. */
		kill_guest(lg, "trap %u at %#x entering the guest (bad registers?)",
			   trap - LGUEST_TRAP_IN_SWITCHER, lg->regs.errcode);
		return;
	}
	/*
	 * The guest queues calls that may wait for its next exit (see
	 * hypercalls.c): this is it, whatever brought it here.  A page
	 * fault is then handled on the tables the guest has now.
	 */
	lguest_flush_async(lg);
	if (lg->dead)
		return;
	if (lguest_arch_is_host_vector(trap)) {
		lg->exits[LG_EXIT_HOST_IRQ]++;
		return;
	}
	switch (trap) {
	case LGUEST_TRAP_ENTRY:
		lg->exits[LG_EXIT_HYPERCALL]++;
		lguest_do_hypercall(lg);
		return;
	case X86_TRAP_PF:
		fault = lguest_demand_page(lg, lg->regs.cr2, &lg->regs.errcode,
					   &gpa);
		if (fault == LG_FAULT_DEVICE) {
			lguest_mmio_access(lg, gpa, lg->regs.errcode);
			return;
		}
		lg->exits[LG_EXIT_PAGE_FAULT]++;
		if (fault == LG_FAULT_FIXED)
			return;
		lg->faults_reflected++;
		break;
	default:
		lg->exits[LG_EXIT_TRAP]++;
		if (trap == X86_TRAP_GP && (lguest_emulate_port_io(lg) ||
					    lguest_emulate_msr(lg)))
			return;
	}
	if (!lg->dead)
		lguest_reflect_trap(lg, trap);
}

/*
 * LHCALL_HALT: sleep until a line the guest has not masked is raised (or a
 * signal comes, which the loop then sees), then turn the guest's interrupt
 * flag on, so the interrupt is delivered at once.  The mask cannot change
 * while the guest sleeps.  Returns true if the guest is still halted.
 */
static bool lg_halt(struct lguest *lg)
{
	DECLARE_BITMAP(blocked, LGUEST_NR_IRQS);

	lg->exits[LG_EXIT_HALT]++;
	if (!lguest_irqs_blocked(lg, blocked))
		return false;
	if (wait_event_interruptible(lg->irq_wait,
				     !bitmap_subset(lg->irqs_pending, blocked,
						    LGUEST_NR_IRQS)))
		return true;
	lg->halted = false;
	lguest_halt_done(lg);
	return false;
}

/* The answer to the exit the launcher has just handled, if any. */
static void lg_complete_exit(struct lguest *lg, const struct lguest_run *run)
{
	if (lg->hcall_pending) {
		lg->regs.eax = run->hypercall.ret;
		lg->hcall_pending = false;
	}
	lguest_mmio_complete(lg, run->mmio.data);
}

static int lg_run_loop(struct lguest *lg, struct lguest_run *run)
{
	while (!lg->dead) {
		if (signal_pending(current)) {
			run->exit_reason = LGUEST_EXIT_INTR;
			return -EINTR;
		}
		cond_resched();
		if (lg->halted && lg_halt(lg))
			continue;
		/* Interrupts raised from now on kick us out of the guest. */
		WRITE_ONCE(lg->irq_raised, false);
		lguest_deliver_irq(lg);
		if (!lguest_prepare_pagetables(lg))
			break;
		if (!lguest_arch_run_guest(lg))
			continue;
		trace_lguest_exit(lg->regs.trapnum, lg->regs.errcode,
				  lg->regs.eip);
		lg_handle_trap(lg);
		if (lg->exit.exit_reason) {
			*run = lg->exit;
			return 0;
		}
	}

	memset(run, 0, sizeof(*run));
	run->exit_reason = LGUEST_EXIT_DEAD;
	strscpy(run->dead.reason, lg->dead_reason, sizeof(run->dead.reason));
	return 0;
}

/*
 * LGUEST_RUN: run the guest until the launcher has something to do.  A
 * signal stops us too (the launcher may have a timer, or be dying); the
 * guest is left exactly where it was, so running again just continues.
 * While we run, lguest_raise_irq() may kick this task.
 */
int lguest_run(struct lguest *lg, struct lguest_run *run)
{
	int ret;

	lg_complete_exit(lg, run);
	memset(&lg->exit, 0, sizeof(lg->exit));
	WRITE_ONCE(lg->vcpu_task, current);
	ret = lg_run_loop(lg, run);
	WRITE_ONCE(lg->vcpu_task, NULL);
	return ret;
}

/*
 * The switcher needs ring 0.  A kernel that runs in another ring is itself
 * a paravirtualized guest (of lguest, say): it cannot host guests, and
 * must not try (lguest does not nest).
 */
static bool lg_in_ring0(void)
{
	u16 cs;

	asm("mov %%cs, %0" : "=rm" (cs));
	return (cs & SEGMENT_RPL_MASK) == 0;
}

static int __init lg_module_init(void)
{
	int err;

	if (!lg_in_ring0()) {
		pr_err("lguest: this kernel does not run in ring 0: no guests\n");
		return -ENODEV;
	}
	err = lguest_arch_host_init();
	if (err)
		return err;
	lguest_init_tsc_khz();
	lg_debugfs = debugfs_create_dir("lguest", NULL);
	err = lguest_device_init();
	if (err) {
		debugfs_remove_recursive(lg_debugfs);
		lguest_arch_host_fini();
	}
	return err;
}

/*
 * Every open file of /dev/lguest holds a reference to this module (the
 * device's file_operations have .owner set), so by the time we get here
 * every guest is gone and all that is left is the device and the switcher.
 */
static void __exit lg_module_exit(void)
{
	lguest_device_remove();
	debugfs_remove_recursive(lg_debugfs);
	lguest_arch_host_fini();
}

module_init(lg_module_init);
module_exit(lg_module_exit);

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("lguest hypervisor host support");
MODULE_AUTHOR("lguest developers");
