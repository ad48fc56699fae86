// SPDX-License-Identifier: GPL-2.0
/*
 * Interrupts of a tiny guest: the clock event (LHCALL_SET_CLOCKEVENT)
 * raises line 0, which arrives at vector 0x20 only while the guest's
 * virtual interrupt flag (lguest_data.irq_enabled) is set; a pending one
 * arrives right after the guest sets it and calls LHCALL_SEND_INTERRUPTS;
 * LHCALL_HALT sleeps until it fires; a masked line waits; and a line raised
 * by another launcher thread reaches a guest that never stops on its own,
 * at once when the guest runs on another CPU.  A clock event with a
 * period repeats until the next LHCALL_SET_CLOCKEVENT.
 *
 * See include/lguest_util.h for how the guest code in this file runs.
 * All tests are skipped when /dev/lguest does not exist.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <sched.h>
#include <time.h>
#include <stdint.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "../kselftest_harness.h"
#include "lguest_util.h"

#define IRQ_VECTOR(n)	(0x20 + (n))
#define IF_FLAG		0x200
#define HCALL_SLEEP	(LG_HCALL_TEST + 1)	/* launcher sleeps arg ms */
#define OTHER_IRQ	5

static uint32_t irq_count[8] GUEST_DATA;
static struct lguest_data *lgd GUEST_DATA;

static GUEST_CODE void count_irq(struct lg_trap_frame *frame)
{
	irq_count[frame->vector - IRQ_VECTOR(0)]++;
}

static GUEST_CODE void guest_irq_setup(void)
{
	unsigned int i;

	lgd = guest_lguest_init();
	guest_set_trap_stack();
	/* Interrupt gates: taking one turns the virtual flag off. */
	for (i = 0; i < 8; i++) {
		guest_set_idt(IRQ_VECTOR(i), count_irq, 0);
		guest_set_idt_gate(IRQ_VECTOR(i), (uintptr_t)lg_trap_stubs +
				   IRQ_VECTOR(i) * LG_TRAP_STUB_SIZE, 0,
				   LG_GATE_INTR);
	}
}

static GUEST_CODE void irq_on(void)
{
	WRITE_ONCE(lgd->irq_enabled, IF_FLAG);
	lg_hcall(LHCALL_SEND_INTERRUPTS, 0, 0, 0, 0);
}

/* The timer fires while interrupts are off: nothing until they are on. */
static GUEST_CODE void guest_timer_waits_for_sti(void)
{
	guest_irq_setup();
	WRITE_ONCE(lgd->irq_enabled, 0);
	lg_hcall(LHCALL_SET_CLOCKEVENT, 1000000, 0, 0, 0);	/* 1 ms */
	lg_hcall(HCALL_SLEEP, 50, 0, 0, 0);
	GUEST_ASSERT_EQ(READ_ONCE(irq_count[0]), 0);
	GUEST_ASSERT_EQ(READ_ONCE(lgd->irq_pending), 1);
	irq_on();
	GUEST_ASSERT_EQ(READ_ONCE(irq_count[0]), 1);
	/* The handler is an interrupt gate: it turned the flag off. */
	GUEST_ASSERT_EQ(READ_ONCE(lgd->irq_enabled), 0);
	GUEST_DONE();
}

/* Halt sleeps until the timer fires, and the interrupt is then taken. */
static GUEST_CODE void guest_halt_wakes(void)
{
	unsigned int i;

	guest_irq_setup();
	for (i = 0; i < 3; i++) {
		lg_hcall(LHCALL_SET_CLOCKEVENT, 20000000, 0, 0, 0); /* 20 ms */
		WRITE_ONCE(lgd->irq_enabled, IF_FLAG);
		lg_hcall(LHCALL_HALT, 0, 0, 0, 0);
		GUEST_ASSERT_EQ(READ_ONCE(irq_count[0]), i + 1);
	}
	GUEST_DONE();
}

/* A masked line stays pending until it is unmasked. */
static GUEST_CODE void guest_masked_line(void)
{
	guest_irq_setup();
	lgd->blocked_interrupts[0] = 1;
	WRITE_ONCE(lgd->irq_enabled, IF_FLAG);
	lg_hcall(LHCALL_SET_CLOCKEVENT, 1000000, 0, 0, 0);
	lg_hcall(HCALL_SLEEP, 50, 0, 0, 0);
	lg_hcall(LHCALL_SEND_INTERRUPTS, 0, 0, 0, 0);
	GUEST_ASSERT_EQ(READ_ONCE(irq_count[0]), 0);
	lgd->blocked_interrupts[0] = 0;
	irq_on();
	GUEST_ASSERT_EQ(READ_ONCE(irq_count[0]), 1);
	GUEST_DONE();
}

/* Spin, with interrupts on, until another thread's interrupt arrives. */
static GUEST_CODE void guest_busy_loop(void)
{
	guest_irq_setup();
	irq_on();
	GUEST_SYNC(1);
	while (!READ_ONCE(irq_count[OTHER_IRQ]))
		;
	GUEST_ASSERT_EQ(READ_ONCE(irq_count[OTHER_IRQ]), 1);
	GUEST_DONE();
}

/*
 * A periodic clock event: one call, then an interrupt every period, each
 * waking a halt, until a call with no period; the last one-shot fires
 * once, and a cancelled timer not at all (the launcher's 50 ms sleep is
 * many periods).
 */
static GUEST_CODE void guest_periodic_timer(void)
{
	uint32_t i;

	guest_irq_setup();
	lg_hcall(LHCALL_SET_CLOCKEVENT, LGUEST_MIN_TIMER_PERIOD_NS,
		 LGUEST_MIN_TIMER_PERIOD_NS, 0, 0);
	for (i = 0; i < 5; i++) {
		WRITE_ONCE(lgd->irq_enabled, IF_FLAG);
		lg_hcall(LHCALL_HALT, 0, 0, 0, 0);
		GUEST_ASSERT_EQ(READ_ONCE(irq_count[0]), i + 1);
	}
	lg_hcall(LHCALL_SET_CLOCKEVENT, 2000000, 0, 0, 0);	/* once */
	lg_hcall(HCALL_SLEEP, 50, 0, 0, 0);
	irq_on();
	GUEST_ASSERT_EQ(READ_ONCE(irq_count[0]), 6);
	lg_hcall(HCALL_SLEEP, 50, 0, 0, 0);
	irq_on();
	GUEST_ASSERT_EQ(READ_ONCE(irq_count[0]), 6);
	lg_hcall(LHCALL_SET_CLOCKEVENT, LGUEST_MIN_TIMER_PERIOD_NS,
		 LGUEST_MIN_TIMER_PERIOD_NS, 0, 0);
	lg_hcall(LHCALL_SET_CLOCKEVENT, 0, 0, 0, 0);		/* cancel */
	lg_hcall(HCALL_SLEEP, 50, 0, 0, 0);
	irq_on();
	GUEST_ASSERT_EQ(READ_ONCE(irq_count[0]), 6);
	GUEST_DONE();
}

/* Run, serving HCALL_SLEEP, until a ucall. */
static int run_serving_sleep(struct lg_vm *vm)
{
	int ret;

	for (;;) {
		ret = lg_vcpu_run(vm);
		if (ret || vm->uc.cmd != UCALL_NONE ||
		    vm->run.exit_reason != LGUEST_EXIT_HYPERCALL ||
		    vm->run.hypercall.nr != HCALL_SLEEP)
			return ret;
		usleep(vm->run.hypercall.args[0] * 1000);
	}
}

static void run_to_done(struct __test_metadata *_metadata,
			void (*guest)(void))
{
	struct lg_vm *vm;

	if (!lg_dev_present())
		SKIP(return, LG_NO_DEV_MSG);
	vm = lg_vm_create(0, guest);
	ASSERT_EQ(0, run_serving_sleep(vm));
	ASSERT_EQ(UCALL_DONE, vm->uc.cmd) {
		TH_LOG("%s", lg_exit_str(vm));
	}
	lg_vm_free(vm);
}

TEST(timer_waits_for_sti)
{
	run_to_done(_metadata, guest_timer_waits_for_sti);
}

TEST(halt_wakes_on_timer)
{
	run_to_done(_metadata, guest_halt_wakes);
}

TEST(periodic_timer)
{
	run_to_done(_metadata, guest_periodic_timer);
}

TEST(masked_line_waits)
{
	run_to_done(_metadata, guest_masked_line);
}

static void *raise_later(void *arg)
{
	struct lg_vm *vm = arg;
	struct lguest_irq irq = { .irq = OTHER_IRQ };

	usleep(100 * 1000);
	return (void *)(long)ioctl(vm->fd, LGUEST_IRQ, &irq);
}

TEST(irq_from_other_thread)
{
	struct lg_vm *vm;
	pthread_t thread;
	void *ret;

	if (!lg_dev_present())
		SKIP(return, LG_NO_DEV_MSG);
	vm = lg_vm_create(0, guest_busy_loop);
	ASSERT_UCALL(vm, UCALL_SYNC);
	ASSERT_EQ(0, pthread_create(&thread, NULL, raise_later, vm));
	ASSERT_UCALL(vm, UCALL_DONE);
	ASSERT_EQ(0, pthread_join(thread, &ret));
	ASSERT_EQ(0, (long)ret);
	lg_vm_free(vm);
}

/*
 * An interrupt raised by another thread while the guest runs on another
 * CPU reaches it at once: the host kicks the guest's CPU (an IPI) rather
 * than waiting for that CPU's next tick (4 ms at HZ=250; without the kick,
 * a quarter of the deliveries would be under 1 ms).  The guest spins with
 * interrupts on and reports each one; the other thread timestamps each
 * raise and the launcher each report.
 */
#define KICKS		20
#define KICK_FAST_NS	1000000

static uint32_t acked GUEST_DATA;

static GUEST_CODE void guest_ack_irqs(void)
{
	guest_irq_setup();
	irq_on();
	for (;;) {
		while (READ_ONCE(irq_count[OTHER_IRQ]) == acked)
			;
		acked++;
		irq_on();
		GUEST_SYNC(acked);
	}
}

struct kicker {
	struct lg_vm *vm;
	int cpu;
	uint64_t raised_ns[KICKS + 1];
	int next;		/* raise number next, once it is this */
};

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

static void pin_to(int cpu)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	sched_setaffinity(0, sizeof(set), &set);
}

static void *kick_thread(void *arg)
{
	struct lguest_irq irq = { .irq = OTHER_IRQ };
	struct kicker *k = arg;
	int i;

	pin_to(k->cpu);
	for (i = 1; i <= KICKS; i++) {
		while (__atomic_load_n(&k->next, __ATOMIC_ACQUIRE) != i)
			usleep(1000);
		usleep(20 * 1000);	/* the guest is spinning by now */
		k->raised_ns[i] = now_ns();
		if (ioctl(k->vm->fd, LGUEST_IRQ, &irq))
			return (void *)-1L;
	}
	return NULL;
}

TEST(irq_kicks_running_guest)
{
	struct kicker k = { .next = 1 };
	uint64_t latency;
	pthread_t thread;
	int i, fast = 0;
	void *ret;

	if (!lg_dev_present())
		SKIP(return, LG_NO_DEV_MSG);
	if (sysconf(_SC_NPROCESSORS_ONLN) < 2)
		SKIP(return, "needs two CPUs");
	pin_to(1);
	k.cpu = 0;
	k.vm = lg_vm_create(0, guest_ack_irqs);
	ASSERT_EQ(0, pthread_create(&thread, NULL, kick_thread, &k));
	for (i = 1; i <= KICKS; i++) {
		ASSERT_UCALL(k.vm, UCALL_SYNC);
		latency = now_ns() - k.raised_ns[i];
		ASSERT_EQ(i, k.vm->uc.args[0]);
		if (latency < KICK_FAST_NS)
			fast++;
		TH_LOG("interrupt %d: %llu us", i,
		       (unsigned long long)latency / 1000);
		__atomic_store_n(&k.next, i + 1, __ATOMIC_RELEASE);
	}
	ASSERT_EQ(0, pthread_join(thread, &ret));
	ASSERT_TRUE(!ret);
	EXPECT_LE(KICKS * 3 / 4, fast);
	lg_vm_free(k.vm);
}

TEST_HARNESS_MAIN
