// SPDX-License-Identifier: GPL-2.0
/*
 * Guests and their launcher processes: a launcher killed (SIGKILL) while
 * its guest runs in LGUEST_RUN, busy, halted in LHCALL_HALT, or halted
 * while another of its threads raises interrupts, takes the
 * guest with it: the module's reference count drops back and a fresh
 * guest runs.  Several guests in separate processes run at once, each
 * making many hypercall round trips, and all of them get the right
 * answers.  A guest's memory is pinned once per page and charged to its
 * launcher's locked memory.
 *
 * See include/lguest_util.h for how the guest code in this file runs.
 * All tests are skipped when /dev/lguest does not exist.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/wait.h>

#include <linux/capability.h>

#include "../kselftest_harness.h"
#include "lguest_util.h"
#include "lguest_host_ok.h"

#define WAIT_MS		5000
#define POLL_MS		10

/* Child exit codes, besides 0. */
#define CHILD_FAILED	1
#define CHILD_NO_HALT	2	/* LHCALL_HALT killed the guest */

/* The state letter of /proc/@pid/stat, or 0. */
static char proc_state(pid_t pid)
{
	char path[64], comm[64];
	char state = 0;
	FILE *f;
	int p;

	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	f = fopen(path, "r");
	if (!f)
		return 0;
	if (fscanf(f, "%d %63s %c", &p, comm, &state) != 3)
		state = 0;
	fclose(f);
	return state;
}

static void sleep_ms(unsigned int ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

/*
 * The lg.ko references of the guests this test made are gone once their
 * files are closed; none should be left (nothing else runs guests while
 * the selftests do).
 */
static void assert_no_guests_left(struct __test_metadata *_metadata)
{
	int n = lg_wait_module_refcnt(0);

	if (n < 0) {
		TH_LOG("no %s: not checking the module reference count",
		       LG_MODULE_REFCNT);
		return;
	}
	ASSERT_EQ(0, n);
}

enum {
	STOP_BUSY,
	STOP_HALT,
	STOP_IRQ,	/* halt while another thread raises interrupts */
};

static uint32_t how GUEST_DATA;
static uint32_t spins GUEST_DATA;

/* Say hello, then spin or halt forever. */
static GUEST_CODE void guest_forever(void)
{
	lg_hcall(LG_HCALL_TEST, 0, 0, 0, 0);
	for (;;) {
		if (how == STOP_HALT)
			lg_hcall(LHCALL_HALT, 0, 0, 0, 0);
		else
			WRITE_ONCE(spins, spins + 1);
	}
}

/* STOP_IRQ's second thread: raise a line, again and again. */
static void *raise_irqs(void *arg)
{
	struct lg_vm *vm = arg;
	struct lguest_irq irq = { .irq = 5 };

	for (;;)
		if (ioctl(vm->fd, LGUEST_IRQ, &irq))
			_exit(CHILD_FAILED);
	return NULL;
}

/*
 * In the child: run the guest to its hello, tell the parent through
 * @fd, and run it again, which only a signal ends.
 */
static void __noreturn child_run_forever(uint32_t stop, int fd)
{
	struct lg_vm *vm = lg_vm_create(0, guest_forever);
	pthread_t thread;

	how = stop == STOP_IRQ ? STOP_HALT : stop;
	lg_sync_global_to_guest(vm, how);
	if (stop == STOP_IRQ && pthread_create(&thread, NULL, raise_irqs, vm))
		_exit(CHILD_FAILED);
	if (lg_vcpu_run(vm) || vm->run.exit_reason != LGUEST_EXIT_HYPERCALL ||
	    vm->run.hypercall.nr != LG_HCALL_TEST)
		_exit(CHILD_FAILED);
	if (write(fd, "r", 1) != 1)
		_exit(CHILD_FAILED);
	lg_vcpu_run(vm);
	printf("# child: %s\n", lg_exit_str(vm));
	fflush(stdout);
	if (stop != STOP_BUSY && vm->run.exit_reason == LGUEST_EXIT_DEAD)
		_exit(CHILD_NO_HALT);
	_exit(CHILD_FAILED);
}

FIXTURE(sigkill) {
};

FIXTURE_VARIANT(sigkill) {
	uint32_t stop;
};

/* Spinning: the run loop sees the signal at the next host interrupt. */
FIXTURE_VARIANT_ADD(sigkill, busy) {
	.stop = STOP_BUSY,
};

/*
 * Halted: the run loop sleeps (interruptibly, so the process shows 'S')
 * until an interrupt or a signal.  Skipped if LHCALL_HALT is unknown.
 */
FIXTURE_VARIANT_ADD(sigkill, halted) {
	.stop = STOP_HALT,
};

/*
 * Halted, while a second launcher thread keeps raising a line the guest
 * has no handler for: the signal lands in the middle of LGUEST_IRQ calls
 * and of wake-ups that find nothing to deliver.
 */
FIXTURE_VARIANT_ADD(sigkill, raising_irq) {
	.stop = STOP_IRQ,
};

FIXTURE_SETUP(sigkill)
{
	if (!lg_dev_present())
		SKIP(return, LG_NO_DEV_MSG);
}

FIXTURE_TEARDOWN(sigkill)
{
}

TEST_F(sigkill, in_run)
{
	int pipefd[2], status, ms;
	bool no_halt = false;
	char c, state = 0;
	pid_t pid;

	ASSERT_EQ(0, pipe(pipefd));
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		close(pipefd[0]);
		child_run_forever(variant->stop, pipefd[1]);
	}
	close(pipefd[1]);
	ASSERT_EQ(1, read(pipefd[0], &c, 1)) {
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
	}
	close(pipefd[0]);

	/*
	 * Give it time to get into LGUEST_RUN; a halted guest's launcher
	 * sleeps there ('S'), a busy one runs ('R').
	 */
	for (ms = 0; ms < WAIT_MS; ms += POLL_MS) {
		sleep_ms(POLL_MS);
		state = proc_state(pid);
		if (variant->stop != STOP_HALT && ms >= 200)
			break;
		if (variant->stop == STOP_HALT && state != 'R')
			break;
	}
	TH_LOG("child %d is in state %c", pid, state ? state : '?');

	ASSERT_EQ(0, kill(pid, SIGKILL));
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	if (variant->stop != STOP_BUSY && WIFEXITED(status) &&
	    WEXITSTATUS(status) == CHILD_NO_HALT) {
		no_halt = true;
	} else {
		ASSERT_TRUE(WIFSIGNALED(status)) {
			TH_LOG("child exit status %#x", status);
		}
		EXPECT_EQ(SIGKILL, WTERMSIG(status));
		if (variant->stop != STOP_IRQ)
			EXPECT_EQ(variant->stop == STOP_HALT ? 'S' : 'R',
				  state);
	}

	assert_no_guests_left(_metadata);
	lg_assert_host_ok(_metadata);
	assert_no_guests_left(_metadata);
	if (no_halt)
		SKIP(return, "LHCALL_HALT is not implemented (guest killed)");
}

/*
 * Guests in separate processes at once: each makes NR_ROUND_TRIPS
 * hypercalls to its launcher with arguments derived from its number and
 * the round, and checks every answer; each launcher checks every call.
 * They start together (all wait until the parent closes a pipe).
 */
#define NR_ROUND_TRIPS	10000

static uint32_t guest_id GUEST_DATA;

static inline uint32_t rt_arg(uint32_t id, uint32_t i, uint32_t n)
{
	return (id << 24) ^ (i * 0x9e3779b9u) ^ (n * 0x85ebca6bu);
}

static inline uint32_t rt_ret(uint32_t id, uint32_t i)
{
	return ~rt_arg(id, i, 7);
}

static GUEST_CODE void guest_round_trips(void)
{
	uint32_t i, id = guest_id, ret;

	for (i = 0; i < NR_ROUND_TRIPS; i++) {
		ret = lg_hcall(LG_HCALL_TEST, rt_arg(id, i, 0), rt_arg(id, i, 1),
			       rt_arg(id, i, 2), rt_arg(id, i, 3));
		__GUEST_ASSERT(ret == rt_ret(id, i), "guest %u, call %u: %#x",
			       id, i, ret);
	}
	GUEST_DONE();
}

static void __noreturn child_round_trips(uint32_t id, int ready, int go)
{
	struct lg_vm *vm = lg_vm_create(0, guest_round_trips);
	uint32_t i, n;
	char c;

	guest_id = id;
	lg_sync_global_to_guest(vm, guest_id);
	if (write(ready, "r", 1) != 1 || read(go, &c, 1) != 0)
		_exit(CHILD_FAILED);

	for (i = 0; i < NR_ROUND_TRIPS; i++) {
		if (lg_vcpu_run(vm) ||
		    vm->run.exit_reason != LGUEST_EXIT_HYPERCALL ||
		    vm->run.hypercall.nr != LG_HCALL_TEST)
			break;
		for (n = 0; n < 4; n++)
			if (vm->run.hypercall.args[n] != rt_arg(id, i, n))
				break;
		if (n < 4)
			break;
		vm->run.hypercall.ret = rt_ret(id, i);
	}
	if (i == NR_ROUND_TRIPS && !lg_vcpu_run(vm) &&
	    vm->uc.cmd == UCALL_DONE)
		_exit(0);
	printf("# guest %u, call %u: %s\n", id, i, lg_exit_str(vm));
	fflush(stdout);
	_exit(CHILD_FAILED);
}

FIXTURE(parallel) {
};

FIXTURE_VARIANT(parallel) {
	unsigned int nr_guests;
};

FIXTURE_VARIANT_ADD(parallel, two) {
	.nr_guests = 2,
};

FIXTURE_VARIANT_ADD(parallel, four) {
	.nr_guests = 4,
};

FIXTURE_SETUP(parallel)
{
	if (!lg_dev_present())
		SKIP(return, LG_NO_DEV_MSG);
}

FIXTURE_TEARDOWN(parallel)
{
}

#define MAX_GUESTS	4

TEST_F_TIMEOUT(parallel, round_trips, 100)
{
	int ready[2], go[2], status;
	pid_t pids[MAX_GUESTS];
	unsigned int i, failed = 0;
	char c;

	ASSERT_EQ(0, pipe(ready));
	ASSERT_EQ(0, pipe(go));
	for (i = 0; i < variant->nr_guests; i++) {
		pids[i] = fork();
		ASSERT_LE(0, pids[i]);
		if (!pids[i]) {
			close(ready[0]);
			close(go[1]);
			child_round_trips(i + 1, ready[1], go[0]);
		}
	}
	close(ready[1]);
	close(go[0]);
	for (i = 0; i < variant->nr_guests; i++)
		EXPECT_EQ(1, read(ready[0], &c, 1));
	close(go[1]);		/* go */
	close(ready[0]);

	for (i = 0; i < variant->nr_guests; i++) {
		ASSERT_EQ(pids[i], waitpid(pids[i], &status, 0));
		if (!WIFEXITED(status) || WEXITSTATUS(status)) {
			TH_LOG("guest %u: exit status %#x", i + 1, status);
			failed++;
		}
	}
	EXPECT_EQ(0, failed);
	assert_no_guests_left(_metadata);
	lg_assert_host_ok(_metadata);
}

/*
 * Kill stress: launchers SIGKILLed at random moments, many times over:
 * while creating their guest, spinning in LGUEST_RUN, halted there, halted
 * while another thread raises interrupts, or looping on other ioctls.
 * Every one must die, and afterwards no guest is left and a fresh one
 * runs.  (The rig then unloads lg.ko and has kmemleak scan.)  The count
 * comes from LGUEST_KILLS (default 200); the seed is printed, and
 * LGUEST_KILL_SEED replays it.
 */
#define STOP_IOCTLS	(STOP_IRQ + 1)

static void __noreturn child_until_killed(uint32_t stop)
{
	struct lg_vm *vm = lg_vm_create(0, guest_forever);
	struct lguest_irq irq = { .irq = 3 };
	struct lguest_regs regs;
	pthread_t thread;

	how = stop == STOP_IRQ ? STOP_HALT : stop;
	lg_sync_global_to_guest(vm, how);
	if (stop == STOP_IRQ && pthread_create(&thread, NULL, raise_irqs, vm))
		_exit(CHILD_FAILED);
	for (;;) {
		if (stop == STOP_IOCTLS) {
			lg_get_regs(vm, &regs);
			lg_set_regs(vm, &regs);
			ioctl(vm->fd, LGUEST_IRQ, &irq);
		} else if (lg_vcpu_run(vm)) {
			_exit(CHILD_FAILED);
		}
	}
}

static unsigned int env_uint(const char *name, unsigned int def)
{
	const char *v = getenv(name);

	return v ? strtoul(v, NULL, 0) : def;
}

FIXTURE(stress) {
};

FIXTURE_SETUP(stress)
{
}

FIXTURE_TEARDOWN(stress)
{
}

TEST_F_TIMEOUT(stress, sigkill_many_launchers, 300)
{
	unsigned int kills = env_uint("LGUEST_KILLS", 200);
	unsigned int seed = env_uint("LGUEST_KILL_SEED", time(NULL));
	unsigned int i, unkilled = 0;
	int status;
	pid_t pid;

	if (!lg_dev_present())
		SKIP(return, LG_NO_DEV_MSG);
	TH_LOG("%u launchers, seed %u", kills, seed);
	srand(seed);
	for (i = 0; i < kills; i++) {
		uint32_t stop = rand() % (STOP_IOCTLS + 1);
		unsigned int delay_us = rand() % 30000;

		pid = fork();
		ASSERT_LE(0, pid);
		if (!pid)
			child_until_killed(stop);
		usleep(delay_us);
		ASSERT_EQ(0, kill(pid, SIGKILL));
		ASSERT_EQ(pid, waitpid(pid, &status, 0));
		if (!WIFSIGNALED(status) || WTERMSIG(status) != SIGKILL) {
			TH_LOG("launcher %u (stop %u, %u us) ended %#x", i,
			       stop, delay_us, status);
			unkilled++;
		}
	}
	EXPECT_EQ(0, unkilled);
	assert_no_guests_left(_metadata);
	lg_assert_host_ok(_metadata);
}

/*
 * Guest memory is pinned, so it is locked memory: LGUEST_INIT charges all
 * of it to the launcher (VmLck), and closing the guest gives it back.
 */
static long vmlck_kb(void)
{
	char line[256];
	long kb = -1;
	FILE *f;

	f = fopen("/proc/self/status", "r");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "VmLck: %ld kB", &kb) == 1)
			break;
	fclose(f);
	return kb;
}

static GUEST_CODE void guest_done(void)
{
	GUEST_DONE();
}

TEST(guest_memory_is_charged)
{
	struct lg_vm *vm;
	long before;

	if (!lg_dev_present())
		SKIP(return, LG_NO_DEV_MSG);
	before = vmlck_kb();
	ASSERT_LE(0, before);
	vm = lg_vm_create(LG_DEFAULT_MEM_SIZE, guest_done);
	EXPECT_EQ(before + LG_DEFAULT_MEM_SIZE / 1024, vmlck_kb());
	ASSERT_UCALL(vm, UCALL_DONE);
	lg_vm_free(vm);
	EXPECT_EQ(before, vmlck_kb());
}

/* Drop CAP_IPC_LOCK, which would let us lock any amount. */
static int drop_ipc_lock(void)
{
	struct __user_cap_header_struct hdr = {
		.version = _LINUX_CAPABILITY_VERSION_3,
	};
	struct __user_cap_data_struct data[2];

	if (syscall(__NR_capget, &hdr, data))
		return -1;
	data[0].effective &= ~(1u << CAP_IPC_LOCK);
	data[0].permitted &= ~(1u << CAP_IPC_LOCK);
	return syscall(__NR_capset, &hdr, data);
}

/* LGUEST_INIT of @size bytes: 0 or errno. */
static int try_init(uint32_t size)
{
	struct lguest_init init = {
		.mem_size = size, .entry = 0, .cr3 = 0,
	};
	void *mem;
	int fd, err = 0;

	mem = mmap(NULL, size, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (mem == MAP_FAILED)
		return errno;
	init.mem_addr = (uintptr_t)mem;
	fd = open(LG_DEV, O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return errno;
	if (ioctl(fd, LGUEST_INIT, &init))
		err = errno;
	close(fd);
	munmap(mem, size);
	return err;
}

/*
 * A launcher without CAP_IPC_LOCK gets a guest only as big as its
 * RLIMIT_MEMLOCK allows: beyond it, LGUEST_INIT fails with ENOMEM.
 */
TEST(memlock_limit)
{
	struct rlimit rl = { .rlim_cur = 1 << 20, .rlim_max = 1 << 20 };
	int status;
	pid_t pid;

	if (!lg_dev_present())
		SKIP(return, LG_NO_DEV_MSG);
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		if (drop_ipc_lock() || setrlimit(RLIMIT_MEMLOCK, &rl))
			_exit(10);
		if (try_init(2 << 20) != ENOMEM)
			_exit(11);
		if (try_init(512 << 10))
			_exit(12);
		_exit(0);
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_TRUE(WIFEXITED(status));
	EXPECT_EQ(0, WEXITSTATUS(status)) {
		TH_LOG("10: setup; 11: over the limit not ENOMEM; 12: under it failed");
	}
}

/* /proc/vmstat's count of pages pinned (FOLL_PIN) and unpinned. */
static void read_pins(unsigned long *acquired, unsigned long *released)
{
	char name[64];
	unsigned long v;
	FILE *f;

	*acquired = *released = 0;
	/* Fold the CPUs' pending counts in first (root only). */
	f = fopen("/proc/sys/vm/stat_refresh", "r");
	if (f) {
		fgetc(f);
		fclose(f);
	}
	f = fopen("/proc/vmstat", "r");
	if (!f)
		return;
	while (fscanf(f, "%63s %lu", name, &v) == 2) {
		if (!strcmp(name, "nr_foll_pin_acquired"))
			*acquired = v;
		else if (!strcmp(name, "nr_foll_pin_released"))
			*released = v;
	}
	fclose(f);
}

/*
 * One page of guest memory mapped at every address of several page
 * tables, all touched, then a full flush: the page is pinned once, not
 * once per mapping, and every pin is released when the guest goes.
 */
#define EVERYWHERE	0x40000000u
#define EVERYWHERE_PTS	8

static GUEST_CODE void guest_one_page_everywhere(void)
{
	uint32_t page = guest_alloc_page(), va, end, sum = 0;

	guest_lguest_init();
	end = EVERYWHERE + EVERYWHERE_PTS * 0x400000u;
	for (va = EVERYWHERE; va != end; va += LG_PAGE_SIZE)
		guest_map_page(va, page, 0);
	for (va = EVERYWHERE; va != end; va += LG_PAGE_SIZE)
		sum += READ_ONCE(*(uint32_t *)(uintptr_t)va);
	lg_hcall(LHCALL_FLUSH_TLB, 1, 0, 0, 0);
	for (va = EVERYWHERE; va != end; va += LG_PAGE_SIZE)
		sum += READ_ONCE(*(uint32_t *)(uintptr_t)va);
	GUEST_SYNC(sum);
	GUEST_DONE();
}

TEST(one_page_everywhere_pinned_once)
{
	unsigned long acq0, rel0, acq1, rel1, acq2, rel2;
	struct lg_vm *vm;

	if (!lg_dev_present())
		SKIP(return, LG_NO_DEV_MSG);
	read_pins(&acq0, &rel0);
	if (!acq0)
		SKIP(return, "no nr_foll_pin_acquired in /proc/vmstat");
	vm = lg_vm_create(0, guest_one_page_everywhere);
	ASSERT_UCALL(vm, UCALL_SYNC);
	EXPECT_EQ(0, vm->uc.args[0]);
	read_pins(&acq1, &rel1);
	TH_LOG("%lu pages pinned for %u mappings", acq1 - acq0,
	       2 * EVERYWHERE_PTS * 1024);
	EXPECT_GT(256, acq1 - acq0);
	ASSERT_UCALL(vm, UCALL_DONE);
	lg_vm_free(vm);
	read_pins(&acq2, &rel2);
	EXPECT_EQ(acq2 - acq0, rel2 - rel0);
	lg_assert_host_ok(_metadata);
}

/*
 * What happens when the launcher unmaps guest memory under its guest is
 * defined: the pages the guest uses stay pinned (its shadow mappings keep
 * working) until it goes, and whatever the host must read or write
 * through the launcher's mapping fails and kills the guest.  Nothing is
 * freed under the guest; no pin is lost.
 */
static GUEST_CODE void guest_keeps_going(void)
{
	uint32_t i = 0;

	guest_lguest_init();
	for (;;)
		GUEST_SYNC(i++);
}

TEST(launcher_unmaps_guest_memory)
{
	unsigned long acq0, rel0, acq1, rel1;
	struct lg_vm *vm;
	int i;

	if (!lg_dev_present())
		SKIP(return, LG_NO_DEV_MSG);
	read_pins(&acq0, &rel0);
	vm = lg_vm_create(0, guest_keeps_going);
	ASSERT_UCALL(vm, UCALL_SYNC);
	ASSERT_EQ(0, munmap(vm->mem, vm->mem_size));
	for (i = 0; i < 10; i++) {
		ASSERT_EQ(0, ioctl(vm->fd, LGUEST_RUN, &vm->run));
		if (vm->run.exit_reason != LGUEST_EXIT_HYPERCALL)
			break;
	}
	TH_LOG("after %d launcher hypercalls: exit %u %s", i,
	       vm->run.exit_reason, vm->run.exit_reason == LGUEST_EXIT_DEAD ?
	       vm->run.dead.reason : "");
	EXPECT_TRUE(vm->run.exit_reason == LGUEST_EXIT_HYPERCALL ||
		    vm->run.exit_reason == LGUEST_EXIT_DEAD);
	lg_vm_free(vm);
	read_pins(&acq1, &rel1);
	if (acq0)
		EXPECT_EQ(acq1 - acq0, rel1 - rel0);
	lg_assert_host_ok(_metadata);
}

TEST_HARNESS_MAIN
