// SPDX-License-Identifier: GPL-2.0-only
/*
 * Batching hypercalls.
 *
 * Every hypercall is an exit to the host, and exits are what a guest pays
 * for.  A context switch or an munmap() makes a burst of page-table, TLB,
 * TLS and stack updates, and Linux brackets such bursts with "lazy" modes
 * meant for exactly this.  While in one, we queue the calls in the ring in
 * lguest_data instead of making them; the host runs the queue, in order,
 * before the next synchronous hypercall, which we make when the lazy mode
 * ends.
 */
#include <linux/irqflags.h>
#include <linux/percpu.h>
#include <linux/sched.h>
#include <linux/thread_info.h>
#include <asm/paravirt.h>
#include "lguest.h"

enum lguest_lazy_mode {
	LGUEST_LAZY_NONE,
	LGUEST_LAZY_MMU,
	LGUEST_LAZY_CPU,
};

static DEFINE_PER_CPU(enum lguest_lazy_mode, lazy_mode);
static unsigned int next_call;

/*
 * Queue a call for the host, which runs the queue at the next exit of any
 * kind.  Besides the lazy modes, this is for what may wait that long: a
 * change that a TLB flush always follows, or that matters only when the
 * host next loads a page directory, which is an exit.
 */
void async_hcall(unsigned long call, unsigned long arg1, unsigned long arg2,
		 unsigned long arg3)
{
	struct lguest_hcall *h;
	unsigned long flags;

	local_irq_save(flags);
	if (lguest_data.hcall_status[next_call] != LHCALL_STATUS_DONE) {
		/* The ring is full: a real call makes the host empty it. */
		hcall(call, arg1, arg2, arg3, 0);
	} else {
		h = &lguest_data.hcalls[next_call];
		h->nr = call;
		h->arg1 = arg1;
		h->arg2 = arg2;
		h->arg3 = arg3;
		h->arg4 = 0;
		/* The host must not see the status before the call. */
		wmb();
		lguest_data.hcall_status[next_call] = 0;
		next_call = (next_call + 1) % LHCALL_RING_SIZE;
	}
	local_irq_restore(flags);
}

/* A hypercall that can wait until the current lazy mode ends. */
void lazy_hcall(unsigned long call, unsigned long arg1, unsigned long arg2,
		unsigned long arg3)
{
	if (this_cpu_read(lazy_mode) == LGUEST_LAZY_NONE)
		hcall(call, arg1, arg2, arg3, 0);
	else
		async_hcall(call, arg1, arg2, arg3);
}

/*
 * Run whatever is queued: one exit for the whole batch, and none if an
 * exit since (an interrupt, a page fault) ran it already.  The host runs
 * the ring in order, so the last call queued tells.
 */
static void flush_queued(void)
{
	unsigned int last = (next_call + LHCALL_RING_SIZE - 1) %
			    LHCALL_RING_SIZE;

	if (READ_ONCE(lguest_data.hcall_status[last]) != LHCALL_STATUS_DONE)
		hcall(LHCALL_FLUSH_ASYNC, 0, 0, 0, 0);
}

static void enter_lazy(enum lguest_lazy_mode mode)
{
	WARN_ON_ONCE(this_cpu_read(lazy_mode) != LGUEST_LAZY_NONE);
	this_cpu_write(lazy_mode, mode);
}

static void leave_lazy(enum lguest_lazy_mode mode)
{
	WARN_ON_ONCE(this_cpu_read(lazy_mode) != mode);
	flush_queued();
	this_cpu_write(lazy_mode, LGUEST_LAZY_NONE);
}

void lguest_enter_lazy_mmu(void)
{
	enter_lazy(LGUEST_LAZY_MMU);
}

void lguest_leave_lazy_mmu(void)
{
	leave_lazy(LGUEST_LAZY_MMU);
}

void lguest_flush_lazy_mmu(void)
{
	preempt_disable();
	if (this_cpu_read(lazy_mode) == LGUEST_LAZY_MMU)
		flush_queued();
	preempt_enable();
}

/*
 * A context switch: a lazy MMU section of the task going to sleep is put
 * on hold and taken up again when the task next runs, as Xen does.
 */
void lguest_start_context_switch(struct task_struct *prev)
{
	if (this_cpu_read(lazy_mode) == LGUEST_LAZY_MMU) {
		leave_lazy(LGUEST_LAZY_MMU);
		set_ti_thread_flag(task_thread_info(prev), TIF_LAZY_MMU_UPDATES);
	}
	enter_lazy(LGUEST_LAZY_CPU);
}

/* The stack the host has for traps from user mode. */
static DEFINE_PER_CPU(unsigned long, host_sp0);

void lguest_end_context_switch(struct task_struct *next)
{
	/*
	 * Traps from user mode land on the kernel stack the host holds for
	 * us (the ring-1 stack of its TSS): make it this task's.  A kernel
	 * thread never runs in user mode, so it can leave the stack of the
	 * process it interrupted there; and when that process runs again,
	 * there is nothing to tell the host.  Each switch that queues
	 * nothing saves the exit that runs the queue.
	 */
	if (!(next->flags & PF_KTHREAD) &&
	    this_cpu_read(host_sp0) != next->thread.sp0) {
		this_cpu_write(host_sp0, next->thread.sp0);
		lazy_hcall(LHCALL_SET_STACK, __KERNEL_DS | 1, next->thread.sp0,
			   THREAD_SIZE / PAGE_SIZE);
	}
	leave_lazy(LGUEST_LAZY_CPU);
	if (test_and_clear_ti_thread_flag(task_thread_info(next),
					  TIF_LAZY_MMU_UPDATES))
		enter_lazy(LGUEST_LAZY_MMU);
}
