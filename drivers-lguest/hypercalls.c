// SPDX-License-Identifier: GPL-2.0-only
/*
 * Hypercalls: the guest kernel asking the host to do what ring 1 may not.
 *
 * The guest executes "int $LGUEST_TRAP_ENTRY" with the call number in %eax
 * and arguments in %ebx, %ecx, %edx and %esi; the switcher brings us here
 * with those registers in lg->regs, and the result goes back in %eax.
 *
 * Some calls come in bursts (page-table updates while the guest's MMU is in
 * lazy mode), and trapping for each would be slow: those the guest queues
 * in a ring in struct lguest_data, and we run them in order at its next
 * exit, whatever the exit is.  Every argument is the guest's, which means
 * hostile: a bad one kills the guest, never the host.
 */
#include <linux/delay.h>
#include <linux/ktime.h>
#include <linux/timekeeping.h>
#include <linux/uaccess.h>
#include <asm/tsc.h>

#include "lg.h"

/*
 * LHCALL_LGUEST_INIT: the guest tells us where its struct lguest_data is,
 * and we fill in what it needs to know about its host.
 */
/* The TSC rate guests are told; see lguest_init_tsc_khz(). */
static u32 lg_tsc_khz;

/*
 * A guest's clocksource is the TSC at the rate we hand it.  A host whose
 * own calibration failed (it happens under emulators, where there is no
 * good reference timer) still has a TSC and a clock: measure one against
 * the other, once, at load time.
 */
void __init lguest_init_tsc_khz(void)
{
	u64 t0, t1, c0, c1;

	lg_tsc_khz = tsc_khz;
	if (lg_tsc_khz || !boot_cpu_has(X86_FEATURE_TSC))
		return;
	t0 = ktime_get_ns();
	c0 = rdtsc_ordered();
	msleep(100);
	t1 = ktime_get_ns();
	c1 = rdtsc_ordered();
	lg_tsc_khz = div64_u64((c1 - c0) * NSEC_PER_MSEC, t1 - t0);
	pr_info("lguest: host TSC not calibrated; measured %u kHz\n",
		lg_tsc_khz);
}

static void lg_register_data(struct lguest *lg, u32 gpa)
{
	u8 done[LHCALL_RING_SIZE];
	struct timespec64 now;
	u32 reserve_mem = -(u32)LGUEST_SWITCHER_ADDR;
	u32 khz = lg_tsc_khz;
	u32 kernel_address;
	u64 tsc;
	s64 sec;
	u32 nsec;

	if (lg->lguest_data) {
		kill_guest(lg, "lguest_data registered twice");
		return;
	}
	/* 0 is "none yet": a structure there could be registered again. */
	if (!gpa || !IS_ALIGNED(gpa, 4) ||
	    (u64)gpa + sizeof(struct lguest_data) > lg->mem_size) {
		kill_guest(lg, "bad lguest_data address %#x", gpa);
		return;
	}

	ktime_get_real_ts64(&now);
	tsc = rdtsc();
	sec = now.tv_sec;
	nsec = now.tv_nsec;
	memset(done, LHCALL_STATUS_DONE, sizeof(done));
	if (!lg_read(lg, gpa + LG_DATA_OFF(kernel_address), &kernel_address, 4))
		return;
	lguest_set_kernel_address(lg, kernel_address);
	if (lg_write(lg, gpa + LG_DATA_OFF(reserve_mem), &reserve_mem, 4) &&
	    lg_write(lg, gpa + LG_DATA_OFF(tsc_khz), &khz, 4) &&
	    lg_write(lg, gpa + LG_DATA_OFF(wallclock_sec), &sec, 8) &&
	    lg_write(lg, gpa + LG_DATA_OFF(wallclock_nsec), &nsec, 4) &&
	    lg_write(lg, gpa + LG_DATA_OFF(wallclock_tsc), &tsc, 8) &&
	    lg_write(lg, gpa + LG_DATA_OFF(hcall_status), done, sizeof(done)))
		lg->lguest_data = gpa;
}

static void lg_shutdown(struct lguest *lg, u32 type)
{
	if (type != LGUEST_SHUTDOWN_POWEROFF &&
	    type != LGUEST_SHUTDOWN_RESTART &&
	    type != LGUEST_SHUTDOWN_CRASH) {
		kill_guest(lg, "bad shutdown type %u", type);
		return;
	}
	lg->exit.exit_reason = LGUEST_EXIT_SHUTDOWN;
	lg->exit.shutdown.type = type;
}

/* Calls for the launcher: it answers in the next LGUEST_RUN. */
static void lg_to_launcher(struct lguest *lg, const struct lguest_hcall *h)
{
	lg->exit.exit_reason = LGUEST_EXIT_HYPERCALL;
	lg->exit.hypercall.nr = h->nr;
	lg->exit.hypercall.args[0] = h->arg1;
	lg->exit.hypercall.args[1] = h->arg2;
	lg->exit.hypercall.args[2] = h->arg3;
	lg->exit.hypercall.args[3] = h->arg4;
	lg->exit.hypercall.ret = 0;
	lg->hcall_pending = true;
}

static void count_hcall(struct lguest *lg, u32 nr, bool queued)
{
	lg->hcalls[min_t(u32, nr, LG_HCALLS_COUNTED - 1)][queued]++;
}

/* Returns the value for the guest's %eax. */
static u32 lg_do_hcall(struct lguest *lg, const struct lguest_hcall *h)
{
	switch (h->nr) {
	case LHCALL_FLUSH_ASYNC:
		/* Already done: the ring is emptied before every call. */
		break;
	case LHCALL_LGUEST_INIT:
		lg_register_data(lg, h->arg1);
		break;
	case LHCALL_SHUTDOWN:
		lg_shutdown(lg, h->arg1);
		break;
	case LHCALL_NEW_PGTABLE:
		lguest_new_pagetable(lg, h->arg1, h->arg2);
		break;
	case LHCALL_NEW_MM:
		lguest_new_mm(lg, h->arg1, h->arg2);
		break;
	case LHCALL_FLUSH_TLB:
		lguest_flush_tlb(lg, h->arg1, h->arg2);
		break;
	case LHCALL_FREE_PGTABLE:
		lguest_free_pagetable(lg, h->arg1);
		break;
	case LHCALL_LOAD_IDT_ENTRY:
		lguest_load_idt_entry(lg, h->arg1, h->arg2, h->arg3);
		break;
	case LHCALL_SET_STACK:
		lguest_set_stack(lg, h->arg1, h->arg2, h->arg3);
		break;
	case LHCALL_SET_PTE:
		lguest_set_pte(lg, h->arg1, h->arg2, h->arg3);
		break;
	case LHCALL_SET_PGD:
		lguest_set_pgd(lg, h->arg1, h->arg2);
		break;
	case LHCALL_LOAD_TLS:
		lguest_load_tls(lg, h->arg1);
		break;
	case LHCALL_SET_IO_BITMAP:
		lguest_set_io_bitmap(lg, h->arg1, h->arg2);
		break;
	case LHCALL_SET_LDT:
		lguest_set_ldt(lg, h->arg1, h->arg2);
		break;
	case LHCALL_LOAD_GDT_ENTRY:
		lguest_load_gdt_entry(lg, h->arg1, h->arg2, h->arg3);
		break;
	case LHCALL_SET_DEBUGREG:
		lguest_arch_set_debugreg(lg, h->arg1, h->arg2);
		break;
	case LHCALL_SET_CLOCKEVENT:
		lguest_set_clockevent(lg, h->arg1, h->arg2);
		break;
	case LHCALL_HALT:
		lg->halted = true;
		break;
	case LHCALL_SEND_INTERRUPTS:
		/* Pending interrupts are delivered before the guest runs. */
		break;
	default:
		if (h->nr >= LHCALL_LAUNCHER_BASE) {
			lg_to_launcher(lg, h);
			break;
		}
		kill_guest(lg, "bad hypercall %u", h->nr);
	}
	return 0;
}

/*
 * Run the calls the guest queued, in order.  A queued call must be one we
 * can finish here: one for the launcher has no %eax to answer into.
 */
void lguest_flush_async(struct lguest *lg)
{
	u32 base = lg->lguest_data;
	unsigned int n;
	u8 status;

	if (!base)
		return;
	for (n = 0; n < LHCALL_RING_SIZE && !lg->dead; n++) {
		unsigned int i = lg->async_next;
		u32 st = base + LG_DATA_OFF(hcall_status[i]);
		struct lguest_hcall h;

		if (!lg_read(lg, st, &status, 1) || status == LHCALL_STATUS_DONE)
			return;
		if (!lg_read(lg, base + LG_DATA_OFF(hcalls[i]), &h, sizeof(h)))
			return;
		if (h.nr >= LHCALL_LAUNCHER_BASE || h.nr == LHCALL_SHUTDOWN ||
		    h.nr == LHCALL_HALT) {
			kill_guest(lg, "hypercall %u cannot be queued", h.nr);
			return;
		}
		count_hcall(lg, h.nr, true);
		lg_do_hcall(lg, &h);
		status = LHCALL_STATUS_DONE;
		if (!lg_write(lg, st, &status, 1))
			return;
		lg->async_next = (i + 1) % LHCALL_RING_SIZE;
	}
}

/* The guest trapped with LGUEST_TRAP_ENTRY; its queue has run. */
void lguest_do_hypercall(struct lguest *lg)
{
	struct lguest_hcall h = {
		.nr = lg->regs.eax,
		.arg1 = lg->regs.ebx,
		.arg2 = lg->regs.ecx,
		.arg3 = lg->regs.edx,
		.arg4 = lg->regs.esi,
	};

	/* The gate is closed to ring 3; make sure of it. */
	if ((lg->regs.cs & SEGMENT_RPL_MASK) != 1) {
		kill_guest(lg, "hypercall from ring %u", lg->regs.cs & 3);
		return;
	}
	count_hcall(lg, h.nr, false);
	lg->regs.eax = lg_do_hcall(lg, &h);
}
