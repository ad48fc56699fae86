// SPDX-License-Identifier: GPL-2.0
/*
 * Asynchronous events while a guest runs: the host's NMIs, and the host's
 * own hardware breakpoints.
 *
 * An NMI can arrive at any instruction, including the few in the middle of
 * the switcher where neither the host's nor the guest's world is whole.
 * It must neither crash the host nor be lost: every NMI reaches the host's
 * handler (which counts it in /proc/interrupts) and the guest runs on.
 * The storm comes from outside: scripts/qemu-run.sh sends QEMU's "nmi"
 * monitor command, which raises one on every CPU, every 5-20 ms between
 * the kernel log lines this test writes (scripts/rig/nmi-storm), and sets
 * LGUEST_NMI_STORM in the environment; without it the test is skipped.
 *
 * A host watchpoint (here the launcher's, through perf) must not fire in
 * the guest, which runs at the launcher's own addresses (the tiny-guest
 * library loads it at the program's link addresses), and must still count
 * the launcher's writes afterwards; nor inside the switcher, on its pages.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <linux/hw_breakpoint.h>
#include <linux/perf_event.h>
#include <sys/syscall.h>

#include "../kselftest_harness.h"
#include "lguest_util.h"
#include "lguest_host_ok.h"

#define STORM_SECONDS	10
#define MAX_CPUS	64

static uint32_t hcalls GUEST_DATA;

/* Cheap hypercalls, forever, reporting every thousand. */
static GUEST_CODE void guest_hypercall_loop(void)
{
	unsigned int i;

	guest_lguest_init();
	for (;;) {
		for (i = 0; i < 1000; i++)
			lg_hcall(LHCALL_SEND_INTERRUPTS, 0, 0, 0, 0);
		hcalls += 1000;
		GUEST_SYNC(hcalls);
	}
}

/* The "NMI:" line of /proc/interrupts: NMIs handled by each CPU. */
static int read_nmi_counts(unsigned long *counts, int max)
{
	char line[4096], *p, *end;
	int n = -1;
	FILE *f;

	f = fopen("/proc/interrupts", "r");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		p = line + strspn(line, " ");
		if (strncmp(p, "NMI:", 4))
			continue;
		p += 4;
		for (n = 0; n < max; n++) {
			counts[n] = strtoul(p, &end, 10);
			if (end == p)
				break;
			p = end;
		}
		break;
	}
	fclose(f);
	return n;
}

static void log_to_kernel(const char *msg)
{
	int fd = open("/dev/kmsg", O_WRONLY | O_CLOEXEC);

	if (fd < 0)
		return;
	if (write(fd, msg, strlen(msg)) < 0)
		perror("/dev/kmsg");
	close(fd);
}

/* Seconds, for a program that must not use floating point. */
static time_t now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec;
}

/*
 * The guest loops on hypercalls on the last CPU while NMIs rain on every
 * CPU.  That CPU must have handled as many as CPU 0, which ran no guest:
 * the switcher hands those it catches to the host instead of dropping
 * them.  (QEMU may merge NMIs that come faster than a CPU takes them, on
 * either CPU: hence the small allowance.)
 */
TEST(nmi_storm)
{
	unsigned long before[MAX_CPUS], after[MAX_CPUS], mine, other;
	struct lg_vm *vm;
	cpu_set_t set;
	time_t start;
	int cpus, cpu;

	if (!lg_dev_present())
		SKIP(return, LG_NO_DEV_MSG);
	if (!getenv("LGUEST_NMI_STORM"))
		SKIP(return, "no NMI source (scripts/qemu-run.sh test has one)");
	cpus = read_nmi_counts(before, MAX_CPUS);
	ASSERT_LE(2, cpus);
	cpu = cpus - 1;
	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	ASSERT_EQ(0, sched_setaffinity(0, sizeof(set), &set));

	vm = lg_vm_create(0, guest_hypercall_loop);
	log_to_kernel("lguest-nmi-storm: start\n");
	start = now();
	do {
		ASSERT_UCALL(vm, UCALL_SYNC);
	} while (now() - start < STORM_SECONDS);
	log_to_kernel("lguest-nmi-storm: stop\n");
	ASSERT_EQ(cpus, read_nmi_counts(after, MAX_CPUS));

	mine = after[cpu] - before[cpu];
	other = after[0] - before[0];
	TH_LOG("%u hypercalls; NMIs: CPU %d (guest) %lu, CPU 0 %lu",
	       vm->uc.args[0], cpu, mine, other);
	EXPECT_LE(100, other);
	EXPECT_LE(other * 9 / 10, mine);
	EXPECT_LE(100000, vm->uc.args[0]);
	lg_vm_free(vm);
	lg_assert_host_ok(_metadata);
}

static uint32_t watched GUEST_DATA;

static GUEST_CODE void guest_write_watched(void)
{
	unsigned int i;

	for (i = 1; i <= 1000; i++)
		WRITE_ONCE(watched, i);
	GUEST_SYNC(READ_ONCE(watched));
	GUEST_DONE();
}

static int watch_writes(void *addr)
{
	struct perf_event_attr attr = {
		.type		= PERF_TYPE_BREAKPOINT,
		.size		= sizeof(attr),
		.bp_type	= HW_BREAKPOINT_W,
		.bp_addr	= (uintptr_t)addr,
		.bp_len		= HW_BREAKPOINT_LEN_4,
		.exclude_kernel	= 1,
		.exclude_hv	= 1,
	};

	return syscall(__NR_perf_event_open, &attr, 0, -1, -1,
		       PERF_FLAG_FD_CLOEXEC);
}

/*
 * The launcher watches writes to "watched", at an address the guest uses
 * too.  The guest's thousand writes must neither trap nor count; the
 * launcher's own five afterwards must.
 */
TEST(host_watchpoint_on_guest_address)
{
	uint64_t count;
	struct lg_vm *vm;
	int fd, i;

	if (!lg_dev_present())
		SKIP(return, LG_NO_DEV_MSG);
	fd = watch_writes(&watched);
	if (fd < 0)
		SKIP(return, "no hardware breakpoints: %s", strerror(errno));
	vm = lg_vm_create(0, guest_write_watched);
	ASSERT_UCALL(vm, UCALL_SYNC);
	EXPECT_EQ(1000, vm->uc.args[0]);
	ASSERT_UCALL(vm, UCALL_DONE);
	for (i = 0; i < 5; i++)
		WRITE_ONCE(watched, i);
	ASSERT_EQ(sizeof(count), read(fd, &count, sizeof(count)));
	EXPECT_EQ(5, count);
	close(fd);
	lg_vm_free(vm);
	lg_assert_host_ok(_metadata);
}

/*
 * A host watchpoint on this CPU's switcher register page, where the
 * switcher pops and pushes the guest's registers on every trip: it may
 * fire in the host's own accesses (lg.ko fills and reads the page), never
 * inside the switcher, whose loads and stores would otherwise take a #DB
 * at ring 0 halfway between the worlds.  The guest is told the switcher's
 * address (lguest_data.reserve_mem) and reports it.
 */
static struct lguest_data *wp_lgd GUEST_DATA;

static GUEST_CODE void guest_report_switcher(void)
{
	unsigned int i;

	wp_lgd = guest_lguest_init();
	GUEST_SYNC(0 - wp_lgd->reserve_mem);
	for (i = 0; i < 1000; i++)
		lg_hcall(LHCALL_SEND_INTERRUPTS, 0, 0, 0, 0);
	GUEST_DONE();
}

TEST(host_watchpoint_on_switcher_page)
{
	struct perf_event_attr attr = {
		.type		= PERF_TYPE_BREAKPOINT,
		.size		= sizeof(attr),
		.bp_type	= HW_BREAKPOINT_RW,
		.bp_len		= HW_BREAKPOINT_LEN_4,
		.exclude_user	= 1,
		.exclude_hv	= 1,
	};
	struct lg_vm *vm;
	uint64_t count;
	cpu_set_t set;
	int cpu, fd;

	if (!lg_dev_present())
		SKIP(return, LG_NO_DEV_MSG);
	cpu = sched_getcpu();
	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	ASSERT_EQ(0, sched_setaffinity(0, sizeof(set), &set));
	vm = lg_vm_create(0, guest_report_switcher);
	ASSERT_UCALL(vm, UCALL_SYNC);
	/* The eax slot of the frame at the end of this CPU's register page. */
	attr.bp_addr = vm->uc.args[0] + LG_PAGE_SIZE * (1 + 2 * cpu) +
		       LG_PAGE_SIZE - 18 * 4;
	fd = syscall(__NR_perf_event_open, &attr, 0, -1, -1,
		     PERF_FLAG_FD_CLOEXEC);
	if (fd < 0)
		SKIP(return, "no kernel hardware breakpoint: %s",
		     strerror(errno));
	ASSERT_UCALL(vm, UCALL_DONE);
	ASSERT_EQ(sizeof(count), read(fd, &count, sizeof(count)));
	TH_LOG("%llu host accesses to the watched frame",
	       (unsigned long long)count);
	EXPECT_LT(0, count);
	close(fd);
	lg_vm_free(vm);
	lg_assert_host_ok(_metadata);
}

TEST_HARNESS_MAIN
