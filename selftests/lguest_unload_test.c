// SPDX-License-Identifier: GPL-2.0
/*
 * Module lifetime of lg.ko: every open /dev/lguest file pins the module,
 * unloading fails while a guest's file is open anywhere, and succeeds once
 * the last reference is gone, after which /dev/lguest disappears; loading
 * the module again brings the device back.
 *
 * This unloads lg.ko, so it must run after the other lguest tests.  It is
 * skipped unless lg is a loaded, unloadable module and modprobe can load
 * it again.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <sched.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/wait.h>

#include <linux/lguest.h>

#include "../kselftest_harness.h"

#define LG_DEV		"/dev/lguest"
#define LG_MODULE	"lg"
#define LG_SYSFS	"/sys/module/" LG_MODULE
#define LG_REFCNT	LG_SYSFS "/refcnt"
#define LG_MISC_SYSFS	"/sys/class/misc/lguest"

#define MEM_SIZE	0x100000u
#define ENTRY		0x1000u
#define CR3		0x2000u
#define PT		0x3000u
#define CPU_ONLINE	"/sys/devices/system/cpu/cpu%d/online"
/* LHCALL_LAUNCHER_BASE: <asm/lguest_para.h> comes with the run loop. */
#define LAUNCHER_HCALL	0x1000

/* How long to wait for device nodes to come and go. */
#define WAIT_MS		5000
#define POLL_MS		10

static int delete_module(const char *name, unsigned int flags)
{
	return syscall(__NR_delete_module, name, flags);
}

static bool exists(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0;
}

/* Wait until @path exists (@present) or not; true if it got there. */
static bool wait_path(const char *path, bool present)
{
	int ms;

	for (ms = 0; ms < WAIT_MS; ms += POLL_MS) {
		if (exists(path) == present)
			return true;
		usleep(POLL_MS * 1000);
	}
	return exists(path) == present;
}

/* The module's reference count, or -1 if it cannot be read. */
static int read_refcnt(void)
{
	FILE *f;
	int n;

	f = fopen(LG_REFCNT, "r");
	if (!f)
		return -1;
	if (fscanf(f, "%d", &n) != 1)
		n = -1;
	fclose(f);
	return n;
}

/* Whether /dev is a devtmpfs, where the kernel itself removes nodes. */
static bool dev_is_devtmpfs(void)
{
	char dev[256], dir[256], type[64];
	bool ret = false;
	FILE *f;

	f = fopen("/proc/mounts", "r");
	if (!f)
		return false;
	while (fscanf(f, "%255s %255s %63s %*[^\n]", dev, dir, type) == 3) {
		if (!strcmp(dir, "/dev"))
			ret = !strcmp(type, "devtmpfs");
	}
	fclose(f);
	return ret;
}

static bool have_modprobe(void)
{
	char *path, *dir, *save = NULL;
	char file[4096];
	bool found = false;

	path = strdup(getenv("PATH") ?: "/sbin:/bin:/usr/sbin:/usr/bin");
	if (!path)
		return false;
	for (dir = strtok_r(path, ":", &save); dir && !found;
	     dir = strtok_r(NULL, ":", &save)) {
		snprintf(file, sizeof(file), "%s/modprobe", dir);
		found = access(file, X_OK) == 0;
	}
	free(path);
	return found;
}

static int modprobe_lg(void)
{
	int status = system("modprobe " LG_MODULE);

	if (status == -1 || !WIFEXITED(status))
		return -1;
	return WEXITSTATUS(status);
}

/* Open /dev/lguest and create a guest in @mem; returns the fd or -errno. */
static int open_guest(void *mem)
{
	struct lguest_init init = {
		.mem_addr = (uintptr_t)mem,
		.mem_size = MEM_SIZE,
		.entry = ENTRY,
		.cr3 = CR3,
	};
	int fd, err;

	fd = open(LG_DEV, O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (ioctl(fd, LGUEST_INIT, &init)) {
		err = errno;
		close(fd);
		return -err;
	}
	return fd;
}

/* Why lg.ko cannot be unloaded and reloaded here, or NULL if it can. */
static const char *unload_skip_reason(void)
{
	if (!exists(LG_REFCNT))
		return LG_REFCNT " missing: lg not loaded, built in, or no CONFIG_MODULE_UNLOAD";
	if (!exists(LG_DEV))
		return LG_DEV " does not exist";
	if (!have_modprobe())
		return "modprobe not found";
	/* lg is loaded, so this only checks that modprobe can find it. */
	if (modprobe_lg())
		return "modprobe " LG_MODULE " fails";
	return NULL;
}

FIXTURE(lg_module) {
	void *mem;
};

FIXTURE_SETUP(lg_module)
{
	const char *reason = unload_skip_reason();

	if (reason)
		SKIP(return, "%s", reason);
	self->mem = mmap(NULL, MEM_SIZE, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_TRUE(self->mem != MAP_FAILED);
}

/* Whatever happened, leave lg.ko loaded for whatever runs next. */
FIXTURE_TEARDOWN(lg_module)
{
	if (!exists(LG_SYSFS) && modprobe_lg())
		TH_LOG("could not reload " LG_MODULE);
	munmap(self->mem, MEM_SIZE);
}

/* Each open file holds one reference to the module (fops.owner). */
TEST_F(lg_module, open_file_holds_module_ref)
{
	int before, fd;

	before = read_refcnt();
	ASSERT_LE(0, before);

	fd = open(LG_DEV, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, fd);
	EXPECT_EQ(before + 1, read_refcnt());
	close(fd);

	fd = open_guest(self->mem);
	ASSERT_LE(0, fd) {
		TH_LOG("creating a guest: %s", strerror(-fd));
	}
	EXPECT_LE(before + 1, read_refcnt());
	close(fd);

	/* Closing the guest's file gives back every reference. */
	EXPECT_EQ(before, read_refcnt());
}

/*
 * While a guest's file is open, delete_module() fails.  The count check in
 * kernel/module/main.c (try_stop_module()) returns -EWOULDBLOCK, which is
 * EAGAIN, whatever the flags; rmmod passes O_NONBLOCK, so do the same.
 */
TEST_F(lg_module, unload_busy_while_open)
{
	struct lguest_regs regs;
	int fd, ret, err;

	fd = open_guest(self->mem);
	ASSERT_LE(0, fd) {
		TH_LOG("creating a guest: %s", strerror(-fd));
	}

	ret = delete_module(LG_MODULE, O_NONBLOCK);
	err = errno;
	if (ret && err == EPERM) {
		close(fd);
		SKIP(return, "no permission to unload modules");
	}
	EXPECT_EQ(-1, ret);
	EXPECT_EQ(EWOULDBLOCK, err) {
		TH_LOG("delete_module: %s", strerror(err));
	}

	/* Module, device and guest are all still there. */
	EXPECT_TRUE(exists(LG_SYSFS));
	EXPECT_TRUE(exists(LG_DEV));
	EXPECT_EQ(0, ioctl(fd, LGUEST_GET_REGS, &regs));
	EXPECT_EQ(ENTRY, regs.eip);
	close(fd);
}

/*
 * The guest lives as long as any process holds its file: with the owner's
 * fd closed but a child still holding an inherited copy, the module stays
 * busy.  When the last reference goes, unloading works and the device
 * disappears; modprobe brings it back, ready to create guests again.
 */
TEST_F(lg_module, unload_after_last_close_and_reload)
{
	int pipefd[2], status, fd, ret, err, ms;
	char c = 0;
	pid_t pid;

	if (read_refcnt() != 0)
		SKIP(return, LG_MODULE " is in use (refcnt %d)", read_refcnt());

	fd = open_guest(self->mem);
	ASSERT_LE(0, fd) {
		TH_LOG("creating a guest: %s", strerror(-fd));
	}

	ASSERT_EQ(0, pipe(pipefd));
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		/* Hold the inherited fd until the parent says so. */
		close(pipefd[1]);
		_exit(read(pipefd[0], &c, 1) < 0);
	}
	close(pipefd[0]);
	close(fd);

	ret = delete_module(LG_MODULE, O_NONBLOCK);
	err = errno;
	if (ret && err == EPERM) {
		close(pipefd[1]);
		waitpid(pid, &status, 0);
		SKIP(return, "no permission to unload modules");
	}
	EXPECT_EQ(-1, ret);
	EXPECT_EQ(EWOULDBLOCK, err) {
		TH_LOG("delete_module with the fd open in a child: %s",
		       strerror(err));
	}
	ASSERT_TRUE(exists(LG_SYSFS));

	/* Let the child exit; that drops the last reference to the file. */
	close(pipefd[1]);
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_TRUE(WIFEXITED(status));
	ASSERT_EQ(0, WEXITSTATUS(status));

	for (ms = 0; ms < WAIT_MS; ms += POLL_MS) {
		ret = delete_module(LG_MODULE, O_NONBLOCK);
		err = errno;
		if (!ret || err != EWOULDBLOCK)
			break;
		usleep(POLL_MS * 1000);
	}
	ASSERT_EQ(0, ret) {
		TH_LOG("delete_module after the last close: %s",
		       strerror(err));
	}

	EXPECT_TRUE(wait_path(LG_SYSFS, false));
	EXPECT_TRUE(wait_path(LG_MISC_SYSFS, false));
	if (dev_is_devtmpfs()) {
		EXPECT_TRUE(wait_path(LG_DEV, false)) {
			TH_LOG(LG_DEV " still present after unload");
		}
	} else {
		/* A static node may remain, but it must lead nowhere. */
		fd = open(LG_DEV, O_RDWR | O_CLOEXEC);
		err = errno;
		EXPECT_EQ(-1, fd);
		EXPECT_TRUE(err == ENODEV || err == ENXIO || err == ENOENT) {
			TH_LOG("open after unload: %s", strerror(err));
		}
		if (fd >= 0)
			close(fd);
	}

	/* Load it again: the device comes back and works. */
	ASSERT_EQ(0, modprobe_lg());
	ASSERT_TRUE(wait_path(LG_DEV, true));
	EXPECT_EQ(0, read_refcnt());

	fd = open(LG_DEV, O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, fd) {
		TH_LOG("open after reload: %s", strerror(errno));
	}
	EXPECT_EQ(LGUEST_API_VERSION,
		  ioctl(fd, LGUEST_GET_API_VERSION, 0UL));
	close(fd);

	fd = open_guest(self->mem);
	EXPECT_LE(0, fd) {
		TH_LOG("creating a guest after reload: %s", strerror(-fd));
	}
	if (fd >= 0)
		close(fd);
}

/* Write "0" or "1" to a CPU's online file; 0 or -errno. */
static int set_cpu_online(int cpu, bool online)
{
	char path[64];
	int fd, ret = 0;

	snprintf(path, sizeof(path), CPU_ONLINE, cpu);
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (write(fd, online ? "1" : "0", 1) != 1)
		ret = -errno;
	close(fd);
	return ret;
}

/* The highest-numbered CPU that can go offline, or -1. */
static int hotpluggable_cpu(void)
{
	char path[64];
	int cpu;

	for (cpu = sysconf(_SC_NPROCESSORS_ONLN) - 1; cpu > 0; cpu--) {
		snprintf(path, sizeof(path), CPU_ONLINE, cpu);
		if (!access(path, W_OK))
			return cpu;
	}
	return -1;
}

/* Unload lg.ko, waiting for references that are going away. */
static int unload_lg(void)
{
	int ms, ret = 0;

	for (ms = 0; ms < WAIT_MS; ms += POLL_MS) {
		ret = delete_module(LG_MODULE, O_NONBLOCK);
		if (!ret || errno != EWOULDBLOCK)
			break;
		usleep(POLL_MS * 1000);
	}
	return ret ? -errno : 0;
}

/*
 * The smallest guest: page tables mapping its one page of code, which
 * makes the launcher's first hypercall.
 */
static void write_tiny_guest(uint8_t *mem)
{
	static const uint8_t code[] = {
		0xb8, 0x00, 0x10, 0x00, 0x00,	/* mov $0x1000, %eax */
		0xcd, 0x1f,			/* int $0x1f */
	};
	uint32_t *pgdir = (uint32_t *)(mem + CR3);
	uint32_t *pt = (uint32_t *)(mem + PT);

	pgdir[0] = PT | 0x67;			/* P, RW, U, A, D */
	pt[ENTRY >> 12] = ENTRY | 0x63;		/* P, RW, A, D */
	memcpy(mem + ENTRY, code, sizeof(code));
}

/*
 * The switcher needs its segments in the GDT of every CPU that runs a
 * guest, including one that comes online after lg.ko was loaded: offline
 * a CPU, reload lg.ko, online the CPU and run a guest there.
 */
TEST_F(lg_module, cpu_onlined_after_load_runs_guests)
{
	struct lguest_run run = { 0 };
	int cpu, fd, err;
	cpu_set_t set;

	cpu = hotpluggable_cpu();
	if (cpu < 0)
		SKIP(return, "no CPU can go offline");
	if (read_refcnt() != 0)
		SKIP(return, LG_MODULE " is in use (refcnt %d)", read_refcnt());

	err = unload_lg();
	if (err == -EPERM)
		SKIP(return, "no permission to unload modules");
	ASSERT_EQ(0, err);
	ASSERT_EQ(0, set_cpu_online(cpu, false));
	err = modprobe_lg();
	EXPECT_EQ(0, set_cpu_online(cpu, true));
	ASSERT_EQ(0, err);
	ASSERT_TRUE(wait_path(LG_DEV, true));

	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	ASSERT_EQ(0, sched_setaffinity(0, sizeof(set), &set));
	write_tiny_guest(self->mem);
	fd = open_guest(self->mem);
	ASSERT_LE(0, fd) {
		TH_LOG("creating a guest: %s", strerror(-fd));
	}
	ASSERT_EQ(0, ioctl(fd, LGUEST_RUN, &run));
	EXPECT_EQ(LGUEST_EXIT_HYPERCALL, run.exit_reason) {
		if (run.exit_reason == LGUEST_EXIT_DEAD)
			TH_LOG("guest died: %s", run.dead.reason);
	}
	EXPECT_EQ(LAUNCHER_HCALL, run.hypercall.nr);
	EXPECT_EQ(cpu, sched_getcpu());
	close(fd);
}

int main(int argc, char **argv)
{
	/* Without the device there is nothing to test: report a skip. */
	if (access(LG_DEV, F_OK) && errno == ENOENT)
		ksft_exit_skip(LG_DEV " does not exist (lg.ko not loaded?)\n");
	return test_harness_run(argc, argv);
}
