// SPDX-License-Identifier: GPL-2.0-only
/*
 * Time in an lguest guest.
 *
 * The TSC ticks in ring 1 as anywhere else, and the host told us its rate,
 * so it is our clocksource with nothing to calibrate against (there is no
 * PIT or HPET to calibrate with anyway).  The timer is one-shot: we ask
 * the host for an interrupt on line 0 so many nanoseconds from now, and it
 * arms an hrtimer; but it can repeat it too (see lguest_set_next_ktime()).
 * The time of day is what the host put in lguest_data when we registered
 * it.
 */
#include <linux/clockchips.h>
#include <linux/cpufeature.h>
#include <linux/init.h>
#include <linux/interrupt.h>
#include <linux/irq.h>
#include <linux/math64.h>
#include <linux/time64.h>
#include <asm/msr.h>
#include <asm/x86_init.h>
#include "lguest.h"

static unsigned long lguest_tsc_khz(void)
{
	return lguest_data.tsc_khz;
}

/*
 * The host read the time of day when we registered lguest_data, and the
 * TSC with it; boot has taken a while since (a long while, under an
 * emulator), so add what the TSC counted.
 */
static void lguest_get_wallclock(struct timespec64 *now)
{
	u64 ns = 0;

	if (lguest_data.tsc_khz)
		ns = mul_u64_u32_div(rdtsc() - lguest_data.wallclock_tsc,
				     USEC_PER_SEC, lguest_data.tsc_khz);
	*now = ns_to_timespec64(lguest_data.wallclock_sec * NSEC_PER_SEC +
				lguest_data.wallclock_nsec + ns);
}

static int lguest_set_wallclock(const struct timespec64 *now)
{
	return -ENODEV;
}

/*
 * While Linux is busy, its tick is periodic even in one-shot mode: each
 * tick asks for the next, TICK_NSEC on.  Each ask would be an exit, and
 * under an emulator an exit costs about as much as a page fault.  So when
 * we are asked for an expiry a tick after the last one, we ask the host
 * to repeat the interrupt every tick, and then keep track of when it will
 * fire next: an expiry we are asked for that is that one costs nothing.
 * Anything else (an earlier hrtimer, the tick stopped for idle) is a call
 * that replaces the host's timer, as before.
 */
static ktime_t host_expires;	/* the host's next interrupt, if periodic */
static ktime_t last_expires;	/* the last expiry we were asked for */
static u32 host_period;		/* 0: the host's timer is one-shot */

static int lguest_set_next_ktime(ktime_t expires,
				 struct clock_event_device *evt)
{
	s64 delta;

	if (host_period && expires == host_expires) {
		last_expires = expires;
		return 0;
	}
	host_period = expires - last_expires == TICK_NSEC ? TICK_NSEC : 0;
	last_expires = expires;
	host_expires = expires;
	delta = ktime_to_ns(ktime_sub(expires, ktime_get()));
	hcall(LHCALL_SET_CLOCKEVENT, clamp_t(s64, delta, NSEC_PER_USEC, U32_MAX),
	      host_period, 0, 0);
	return 0;
}

static int lguest_clockevent_shutdown(struct clock_event_device *evt)
{
	host_period = 0;
	hcall(LHCALL_SET_CLOCKEVENT, 0, 0, 0, 0);
	return 0;
}

/*
 * Given absolute expiries (in nanoseconds: mult 1, shift 0); the host
 * takes 32 bits of nanoseconds from now.
 */
static struct clock_event_device lguest_clockevent = {
	.name			= "lguest",
	.features		= CLOCK_EVT_FEAT_ONESHOT | CLOCK_EVT_FEAT_KTIME,
	.set_next_ktime		= lguest_set_next_ktime,
	.set_state_shutdown	= lguest_clockevent_shutdown,
	.set_state_oneshot_stopped = lguest_clockevent_shutdown,
	.rating			= INT_MAX,
	.mult			= 1,
	.shift			= 0,
	.min_delta_ns		= 1000,
	.min_delta_ticks	= 1000,
	.max_delta_ns		= U32_MAX,
	.max_delta_ticks	= U32_MAX,
};

/*
 * Line 0 has no irq_chip flow to speak of: it is just the tick.  A host
 * repeating it has armed the next one already.
 */
static void lguest_time_irq(struct irq_desc *desc)
{
	host_expires = ktime_add_ns(host_expires, host_period);
	lguest_clockevent.event_handler(&lguest_clockevent);
}

static void __init lguest_time_init(void)
{
	if (lguest_setup_irq(LGUEST_IRQ_TIMER))
		panic("lguest: cannot set up the timer interrupt\n");
	irq_set_handler(LGUEST_IRQ_TIMER, lguest_time_irq);

	lguest_clockevent.cpumask = cpumask_of(0);
	clockevents_register_device(&lguest_clockevent);

	clear_bit(LGUEST_IRQ_TIMER,
		  (unsigned long *)lguest_data.blocked_interrupts);
}

void __init lguest_init_time(void)
{
	/* The rate is exact and the TSC never stops: no refining, no watchdog. */
	setup_force_cpu_cap(X86_FEATURE_TSC_KNOWN_FREQ);
	setup_force_cpu_cap(X86_FEATURE_TSC_RELIABLE);

	x86_platform.calibrate_tsc = lguest_tsc_khz;
	x86_platform.calibrate_cpu = lguest_tsc_khz;
	x86_platform.get_wallclock = lguest_get_wallclock;
	x86_platform.set_wallclock = lguest_set_wallclock;
	x86_init.timers.timer_init = lguest_time_init;
	x86_init.timers.setup_percpu_clockev = x86_init_noop;
	x86_cpuinit.setup_percpu_clockev = x86_init_noop;
}
