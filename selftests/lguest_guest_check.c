// SPDX-License-Identifier: GPL-2.0
/*
 * The guest half of lguest_linux_test: a static i386 program that runs
 * inside an lguest guest (it is /bin/lguest_guest_check in the rig's guest
 * initramfs) and checks the guest from its own user space.
 *
 *	lguest_guest_check [boot] [time] [getpid]	(no argument: all three)
 *
 * Everything the host test looks at is a line starting with "LGTEST ":
 *
 *	LGTEST check NAME ok: DETAILS		one per boot check
 *	LGTEST check NAME FAIL: DETAILS
 *	LGTEST verdict ok: N checks		or "FAIL: M of N checks failed"
 *	LGTEST wallclock=SEC.NSEC		first: CLOCK_REALTIME
 *	LGTEST time start			then a 2 s sleep
 *	LGTEST time end guest_ns=NS		what the guest measured
 *	LGTEST getpid ready			then a line is read from stdin
 *	LGTEST getpid done calls=N ns_per_call=NS wrong=N
 *						then another line
 *
 * The boot checks compare the guest with what the host passed on the
 * kernel command line (lgtest_release=, the kernel release it booted;
 * lgtest_mem_kb=, the memory it gave), look for warnings in the kernel
 * log and exercise the basics of a Linux system: fork, exec, pipes,
 * signals, threads, the FPU and many short processes.  For "getpid" the
 * host reads the guest's exit counters while the guest waits on stdin,
 * before and after the system calls.
 *
 * It exits with 0 if every check passed.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>
#include <sys/io.h>
#include <sys/klog.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <linux/compiler.h>
#include <asm/ldt.h>

#include "../kselftest.h"

#define SELF			"/proc/self/exe"
#define PARAVIRT_BANNER		"Booting paravirtualized kernel on lguest"
#define SYSLOG_READ_ALL		3	/* klogctl() actions, see syslog(2) */
#define SYSLOG_SIZE_BUFFER	10

#define COW_BYTES		(1024 * 1024)
#define PIPE_BYTES		(4 * 1024 * 1024)
#define THREADS			4
#define THREAD_LOOPS		100000
#define FPU_TERMS		200000
#define FPU_TOLERANCE		0.00002	/* the sums vs. pi^2/6 */
#define NR_PROCS		200
#define EXEC_EVERY		10	/* one in 10 execs */
#define SLEEP_SECONDS		2
#define GETPID_CALLS		1000000
#define HOST_WAIT_MS		120000	/* for the host's go-ahead */

#define MSG_LEN			256

/* Addresses in the page at 0, which nothing maps. */
#define NULL_ADDR		0x10
#define BAD_ADDR		0x20

/* Fail the current check, saying why in @msg. */
static __printf(2, 3) bool fail(char *msg, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, MSG_LEN, fmt, ap);
	va_end(ap);
	return false;
}

static long long now_ns(clockid_t clk)
{
	struct timespec ts;

	clock_gettime(clk, &ts);
	return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* The value of NAME= on the kernel command line, or false. */
static bool cmdline_param(const char *name, char *val, size_t len)
{
	char buf[4096], *word, *save;
	size_t nlen = strlen(name);
	FILE *f = fopen("/proc/cmdline", "r");
	bool found = false;

	if (!f)
		return false;
	if (!fgets(buf, sizeof(buf), f))
		buf[0] = '\0';
	fclose(f);
	for (word = strtok_r(buf, "\n ", &save); word;
	     word = strtok_r(NULL, "\n ", &save)) {
		if (!strncmp(word, name, nlen) && word[nlen] == '=') {
			snprintf(val, len, "%s", word + nlen + 1);
			found = true;
		}
	}
	return found;
}

/* Wait for a child; its wait status, or -1. */
static int wait_child(pid_t pid)
{
	int status;

	while (waitpid(pid, &status, 0) < 0) {
		if (errno != EINTR)
			return -1;
	}
	return status;
}

static bool exited_with(int status, int code)
{
	return status != -1 && WIFEXITED(status) &&
	       WEXITSTATUS(status) == code;
}

static bool killed_by(int status, int sig)
{
	return status != -1 && WIFSIGNALED(status) && WTERMSIG(status) == sig;
}

static bool check_uname(char *msg)
{
	struct utsname u;
	char want[256];

	if (!cmdline_param("lgtest_release", want, sizeof(want)))
		return fail(msg,
			    "no lgtest_release= on the kernel command line");
	if (uname(&u))
		return fail(msg, "uname: %s", strerror(errno));
	if (strcmp(u.release, want))
		return fail(msg, "uname -r is %.64s, the host booted %.64s",
			    u.release, want);
	snprintf(msg, MSG_LEN, "%s %s %s", u.sysname, u.release, u.machine);
	return true;
}

/* The kernel log, NUL-terminated, to free(); or NULL and why in @msg. */
static char *read_klog(char *msg)
{
	int size = klogctl(SYSLOG_SIZE_BUFFER, NULL, 0), n;
	char *buf;

	if (size <= 0) {
		snprintf(msg, MSG_LEN, "klogctl: %s", strerror(errno));
		return NULL;
	}
	buf = malloc(size + 1);
	if (!buf) {
		snprintf(msg, MSG_LEN, "out of memory");
		return NULL;
	}
	n = klogctl(SYSLOG_READ_ALL, buf, size);
	if (n < 0) {
		snprintf(msg, MSG_LEN, "klogctl: %s", strerror(errno));
		free(buf);
		return NULL;
	}
	buf[n] = '\0';
	return buf;
}

/* The kernel log must say that the paravirt ops are lguest's. */
static bool check_paravirt(char *msg)
{
	char *buf = read_klog(msg), *line;
	bool found;

	if (!buf)
		return false;
	found = strstr(buf, PARAVIRT_BANNER);
	line = strstr(buf, "Booting paravirtualized kernel");
	if (line)
		line[strcspn(line, "\n")] = '\0';
	snprintf(msg, MSG_LEN, "kernel log: %s",
		 line ? line : "no \"Booting paravirtualized kernel\" line");
	free(buf);
	return found;
}

/* What the debug options say when the kernel went wrong. */
static const char * const klog_bad[] = {
	"[ cut here ]", "WARNING: CPU:", "BUG:", "Oops", "general protection",
	"Call Trace", "UBSAN:", "possible circular", "possible recursive",
	"inconsistent lock", "list_add corruption", "list_del corruption",
	"sleeping function called",
};

/* The guest kernel has nothing to complain about. */
static bool check_kernel_log(char *msg)
{
	char *buf = read_klog(msg), *bad = NULL, *p;
	size_t i;

	if (!buf)
		return false;
	for (i = 0; i < ARRAY_SIZE(klog_bad); i++) {
		p = strstr(buf, klog_bad[i]);
		if (p && (!bad || p < bad))
			bad = p;
	}
	if (bad) {
		while (bad > buf && bad[-1] != '\n')
			bad--;
		bad[strcspn(bad, "\n")] = '\0';
		snprintf(msg, MSG_LEN, "%.200s", bad);
	} else {
		snprintf(msg, MSG_LEN, "no warnings");
	}
	free(buf);
	return !bad;
}

static bool check_memtotal(char *msg)
{
	unsigned long total = 0, want;
	char val[64], line[256];
	FILE *f;

	if (!cmdline_param("lgtest_mem_kb", val, sizeof(val)))
		return fail(msg,
			    "no lgtest_mem_kb= on the kernel command line");
	want = strtoul(val, NULL, 10);
	f = fopen("/proc/meminfo", "r");
	if (!f)
		return fail(msg, "/proc/meminfo: %s", strerror(errno));
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "MemTotal: %lu kB", &total) == 1)
			break;
	fclose(f);
	/* The kernel keeps its image and early allocations out of it. */
	if (total > want || total < want / 10 * 8)
		return fail(msg, "MemTotal %lu kB, the host gave %lu kB", total,
			    want);
	snprintf(msg, MSG_LEN, "MemTotal %lu kB of %lu kB", total, want);
	return true;
}

/* fork(): the child gets a copy of memory (copy on write) and its parent. */
static bool check_fork(char *msg)
{
	unsigned char *buf = malloc(COW_BYTES);
	pid_t parent = getpid(), pid;
	int status;
	size_t i;

	if (!buf)
		return fail(msg, "out of memory");
	memset(buf, 0x5a, COW_BYTES);
	fflush(stdout);
	pid = fork();
	if (pid < 0)
		return fail(msg, "fork: %s", strerror(errno));
	if (!pid) {
		for (i = 0; i < COW_BYTES; i++)
			if (buf[i] != 0x5a)
				_exit(1);
		memset(buf, 0xa5, COW_BYTES);
		_exit(getppid() == parent ? 42 : 2);
	}
	status = wait_child(pid);
	for (i = 0; i < COW_BYTES; i++)
		if (buf[i] != 0x5a)
			break;
	free(buf);
	if (!exited_with(status, 42))
		return fail(msg,
			    "child ended with wait status %#x, expected exit 42",
			    status);
	if (i != COW_BYTES)
		return fail(msg,
			    "the child's writes showed in the parent at byte %zu",
			    i);
	snprintf(msg, MSG_LEN, "child exited with 42, %d KiB copied on write",
		 COW_BYTES >> 10);
	return true;
}

/* exec() this program again; it writes a token back through a pipe. */
static bool check_exec(char *msg)
{
	char token[64], got[64];
	size_t len = 0;
	ssize_t n;
	int p[2], status;
	pid_t pid;

	snprintf(token, sizeof(token), "exec-token-%d", getpid());
	if (pipe(p))
		return fail(msg, "pipe: %s", strerror(errno));
	fflush(stdout);
	pid = fork();
	if (pid < 0)
		return fail(msg, "fork: %s", strerror(errno));
	if (!pid) {
		close(p[0]);
		dup2(p[1], STDOUT_FILENO);
		execl(SELF, "lguest_guest_check", "--echo", token, NULL);
		_exit(127);
	}
	close(p[1]);
	while (len < sizeof(got) - 1 &&
	       (n = read(p[0], got + len, sizeof(got) - 1 - len)) > 0)
		len += n;
	got[len] = '\0';
	close(p[0]);
	status = wait_child(pid);
	if (!exited_with(status, 0))
		return fail(msg, "exec'd child ended with wait status %#x",
			    status);
	if (strcmp(got, token))
		return fail(msg, "exec'd child wrote '%s', not '%s'", got,
			    token);
	snprintf(msg, MSG_LEN, "exec'd %s, it wrote back '%s'", SELF, got);
	return true;
}

static unsigned char pipe_byte(size_t i)
{
	return (i * 7 + i / 4093) & 0xff;
}

/* Push PIPE_BYTES through a pipe in odd-sized pieces and check them. */
static bool check_pipe(char *msg)
{
	static unsigned char buf[65536];
	size_t done = 0, bad = SIZE_MAX, i, len;
	int p[2], status;
	ssize_t n;
	pid_t pid;

	if (pipe(p))
		return fail(msg, "pipe: %s", strerror(errno));
	fflush(stdout);
	pid = fork();
	if (pid < 0)
		return fail(msg, "fork: %s", strerror(errno));
	if (!pid) {
		close(p[0]);
		while (done < PIPE_BYTES) {
			len = 1 + (done * 13) % sizeof(buf);
			if (len > PIPE_BYTES - done)
				len = PIPE_BYTES - done;
			for (i = 0; i < len; i++)
				buf[i] = pipe_byte(done + i);
			n = write(p[1], buf, len);
			if (n <= 0)
				_exit(1);
			done += n;
		}
		_exit(0);
	}
	close(p[1]);
	while ((n = read(p[0], buf, sizeof(buf))) > 0) {
		for (i = 0; i < (size_t)n && bad == SIZE_MAX; i++)
			if (buf[i] != pipe_byte(done + i))
				bad = done + i;
		done += n;
	}
	close(p[0]);
	status = wait_child(pid);
	if (!exited_with(status, 0))
		return fail(msg, "writer ended with wait status %#x", status);
	if (bad != SIZE_MAX)
		return fail(msg, "wrong byte at offset %zu", bad);
	if (done != PIPE_BYTES)
		return fail(msg, "read %zu bytes of %d", done, PIPE_BYTES);
	snprintf(msg, MSG_LEN, "%d KiB through a pipe", PIPE_BYTES >> 10);
	return true;
}

/* Set by signal handlers: lock-free atomics are safe there. */
static atomic_int got_usr1, got_alarm;
static atomic_uintptr_t segv_addr;
static sigjmp_buf segv_env;

/* @x, which the compiler cannot see through: for faults it must not elide. */
static unsigned long opaque(unsigned long x)
{
	asm("" : "+r" (x));
	return x;
}

static void on_usr1(int sig)
{
	atomic_fetch_add(&got_usr1, 1);
}

static void on_alarm(int sig)
{
	atomic_fetch_add(&got_alarm, 1);
}

static void on_segv(int sig, siginfo_t *si, void *uc)
{
	atomic_store(&segv_addr, (uintptr_t)si->si_addr);
	siglongjmp(segv_env, 1);
}

/* A child that dies of a fault: a NULL write or a division by zero. */
static int child_fault(int sig)
{
	pid_t pid;

	fflush(stdout);
	pid = fork();
	if (pid < 0)
		return -1;
	if (!pid) {
		if (sig == SIGSEGV)
			*(int *)opaque(NULL_ADDR) = 1;
		else
			_exit(100 / (int)opaque(0));
		_exit(0);
	}
	return wait_child(pid);
}

static bool check_signals(char *msg)
{
	struct sigaction sa = { 0 };
	struct itimerval it = { .it_value = { 0, 20000 } };
	long long deadline;
	int status;
	pid_t pid;

	/* A handler, on a signal sent to ourselves. */
	sa.sa_handler = on_usr1;
	sigaction(SIGUSR1, &sa, NULL);
	raise(SIGUSR1);
	if (atomic_load(&got_usr1) != 1)
		return fail(msg, "SIGUSR1 handler ran %d times",
			    atomic_load(&got_usr1));

	/* A timer signal, delivered while we spin in user mode. */
	sa.sa_handler = on_alarm;
	sigaction(SIGALRM, &sa, NULL);
	if (setitimer(ITIMER_REAL, &it, NULL))
		return fail(msg, "setitimer: %s", strerror(errno));
	deadline = now_ns(CLOCK_MONOTONIC) + 5000000000LL;
	while (!atomic_load(&got_alarm) && now_ns(CLOCK_MONOTONIC) < deadline)
		;
	if (!atomic_load(&got_alarm))
		return fail(msg, "no SIGALRM within 5 s of a 20 ms timer");

	/* A page fault in user mode: the handler sees the right address. */
	sa.sa_handler = NULL;
	sa.sa_sigaction = on_segv;
	sa.sa_flags = SA_SIGINFO;
	sigaction(SIGSEGV, &sa, NULL);
	if (!sigsetjmp(segv_env, 1))
		*(int *)opaque(BAD_ADDR) = 1;
	signal(SIGSEGV, SIG_DFL);
	if (atomic_load(&segv_addr) != BAD_ADDR)
		return fail(msg,
			    "SIGSEGV handler saw address %#lx, expected %#x",
			    (unsigned long)atomic_load(&segv_addr), BAD_ADDR);

	/* Faults that kill, and a kill() from another process. */
	status = child_fault(SIGSEGV);
	if (!killed_by(status, SIGSEGV))
		return fail(msg,
			    "NULL write: wait status %#x, expected SIGSEGV",
			    status);
	status = child_fault(SIGFPE);
	if (!killed_by(status, SIGFPE))
		return fail(msg,
			    "division by zero: wait status %#x, expected SIGFPE",
			    status);
	fflush(stdout);
	pid = fork();
	if (pid < 0)
		return fail(msg, "fork: %s", strerror(errno));
	if (!pid) {
		for (;;)
			pause();
	}
	kill(pid, SIGTERM);
	status = wait_child(pid);
	if (!killed_by(status, SIGTERM))
		return fail(msg, "kill(SIGTERM): wait status %#x", status);
	snprintf(msg, MSG_LEN,
		 "SIGUSR1 handled, SIGALRM from a timer, SIGSEGV at %#x handled, SIGSEGV, SIGFPE and SIGTERM killed children",
		 BAD_ADDR);
	return true;
}

/*
 * The LDT, the way Wine-style programs use it: modify_ldt() writes a
 * 32-bit code segment and a 16-bit data segment over a small buffer, reads
 * them back, calls through the code segment, and reads through the data
 * segment, whose byte limit must hold.
 */
#define LDT_CODE_SEL	((0 << 3) | 7)	/* entry 0, LDT, RPL 3 */
#define LDT_DATA_SEL	((1 << 3) | 7)

static uint32_t ldt_buf[4] = { 0x1d7da7a, 0x16b17, 0xcafe, 0xf00d };

static int ldt_write(unsigned int entry, uint32_t base, uint32_t limit,
		     bool code, bool big)
{
	struct user_desc d = {
		.entry_number = entry,
		.base_addr = base,
		.limit = limit,
		.seg_32bit = big,
		.contents = code ? MODIFY_LDT_CONTENTS_CODE :
				   MODIFY_LDT_CONTENTS_DATA,
		.limit_in_pages = big,
	};

	return syscall(SYS_modify_ldt, 0x11, &d, sizeof(d));
}

/* The "empty" descriptor modify_ldt() takes as a removal. */
static int ldt_clear(unsigned int entry)
{
	struct user_desc d = {
		.entry_number = entry,
		.read_exec_only = 1,
		.seg_not_present = 1,
	};

	return syscall(SYS_modify_ldt, 0x11, &d, sizeof(d));
}

/* A far call to LDT_CODE_SEL; returns the %cs seen there. */
static uint32_t ldt_far_call(void)
{
	uint32_t far[2] = { 0, LDT_CODE_SEL }, cs;

	asm volatile("movl $1f, %[off]\n\t"
		     "lcall *%[far]\n\t"
		     "jmp 2f\n"
		     "1:\tmovl %%cs, %%eax\n\t"
		     "lret\n"
		     "2:"
		     : "=a" (cs), [off] "=m" (far[0])
		     : [far] "m" (far[0])
		     : "memory");
	return cs & 0xffff;
}

/* Read the word at @off of segment @sel through %fs. */
static uint32_t ldt_read(uint32_t sel, uint32_t off)
{
	uint32_t v, old;

	asm volatile("movl %%fs, %[old]\n\t"
		     "movl %[sel], %%fs\n\t"
		     "movl %%fs:(%[off]), %[v]\n\t"
		     "movl %[old], %%fs"
		     : [v] "=&r" (v), [old] "=&r" (old)
		     : [sel] "r" (sel), [off] "r" (off)
		     : "memory");
	return v;
}

static bool check_ldt(char *msg)
{
	struct sigaction sa = { .sa_sigaction = on_segv, .sa_flags = SA_SIGINFO };
	uint32_t raw[4], cs, v, limit;
	bool faulted = false;
	uint32_t fs;
	long n;

	if (ldt_write(0, 0, 0xfffff, true, true) ||
	    ldt_write(1, (uint32_t)(uintptr_t)ldt_buf, sizeof(ldt_buf) - 1,
		      false, false))
		return fail(msg, "modify_ldt write: %s", strerror(errno));
	n = syscall(SYS_modify_ldt, 0, raw, sizeof(raw));
	if (n != sizeof(raw))
		return fail(msg, "modify_ldt read: %ld bytes", n);
	/* Entry 1: 16-bit (D/B clear), byte granular, DPL 3 data, limit 15. */
	if ((raw[2] & 0xffff) != 15 || (raw[3] & 0x00c0f000) != 0x0000f000)
		return fail(msg, "entry 1 reads back as %#x %#x", raw[2], raw[3]);
	cs = ldt_far_call();
	if (cs != LDT_CODE_SEL)
		return fail(msg, "far call through the LDT ran with %%cs %#x",
			    cs);
	v = ldt_read(LDT_DATA_SEL, 4);
	if (v != ldt_buf[1])
		return fail(msg, "16-bit segment offset 4: %#x, expected %#x",
			    v, ldt_buf[1]);
	/* QEMU's TCG does not enforce data segment limits: ask lsl. */
	asm("lsll %1, %0" : "=r" (limit) : "r" (LDT_DATA_SEL));
	if (limit != sizeof(ldt_buf) - 1)
		return fail(msg, "16-bit segment limit %u", limit);
	/* Entry 1 removed under a loaded %fs: the next use is SIGSEGV. */
	sigaction(SIGSEGV, &sa, NULL);
	asm volatile("movl %%fs, %0" : "=r" (fs));
	if (!sigsetjmp(segv_env, 1)) {
		ldt_clear(1);
		ldt_read(LDT_DATA_SEL, 0);
	} else {
		faulted = true;
	}
	asm volatile("movl %0, %%fs" : : "r" (fs));
	signal(SIGSEGV, SIG_DFL);
	if (!faulted)
		return fail(msg, "a removed LDT entry still loads");
	snprintf(msg, MSG_LEN,
		 "modify_ldt read/write, far call via %#x, 16-bit data via %#x, limit %u, removed entry SIGSEGV",
		 LDT_CODE_SEL, LDT_DATA_SEL, limit);
	return true;
}

/*
 * Ports given to a process (ioperm) behave as on a PC with nothing there:
 * reads give all ones, writes vanish; a port not given is SIGSEGV.
 */
static uint8_t inb_port(uint16_t port)
{
	uint8_t v;

	asm volatile("inb %1, %0" : "=a" (v) : "Nd" (port));
	return v;
}

static bool check_ports(char *msg)
{
	struct sigaction sa = { .sa_sigaction = on_segv, .sa_flags = SA_SIGINFO };
	bool faulted = false;
	uint8_t v;

	if (ioperm(0x80, 1, 1))
		return fail(msg, "ioperm(0x80): %s", strerror(errno));
	asm volatile("outb %b0, $0x80" : : "a" (0x5a));
	v = inb_port(0x80);
	if (v != 0xff)
		return fail(msg, "inb 0x80 gave %#x, expected 0xff", v);
	sigaction(SIGSEGV, &sa, NULL);
	if (!sigsetjmp(segv_env, 1))
		inb_port(0x81);
	else
		faulted = true;
	signal(SIGSEGV, SIG_DFL);
	if (!faulted)
		return fail(msg, "inb from port 0x81, not given, worked");
	snprintf(msg, MSG_LEN,
		 "port 0x80: out ignored, in 0xff; port 0x81 not given: SIGSEGV");
	return true;
}

/*
 * lguest does not nest: the host module, which the rig puts in the guest's
 * initramfs as /lib/lg.ko, refuses to load in a guest, and there is no
 * /dev/lguest.
 */
#define LG_MODULE_PATH	"/lib/lg.ko"

static bool check_no_nested_host(char *msg)
{
	int fd, ret, err;

	fd = open(LG_MODULE_PATH, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return fail(msg, "%s: %s", LG_MODULE_PATH, strerror(errno));
	ret = syscall(__NR_finit_module, fd, "", 0);
	err = errno;
	close(fd);
	if (!ret)
		return fail(msg, "lg.ko loaded in a guest");
	if (err != ENODEV)
		return fail(msg, "loading lg.ko: %s, expected ENODEV",
			    strerror(err));
	if (!access("/dev/lguest", F_OK))
		return fail(msg, "/dev/lguest exists in a guest");
	snprintf(msg, MSG_LEN, "lg.ko refuses to load: %s", strerror(err));
	return true;
}

/*
 * What the guest kernel thinks of its CPU's vulnerabilities, one line
 * each, for the host to compare with its own (lguest_linux_test).
 */
#define VULN_DIR	"/sys/devices/system/cpu/vulnerabilities"

static bool check_vulnerabilities(char *msg)
{
	char path[PATH_MAX], state[256];
	struct dirent *e;
	int n = 0;
	DIR *d;
	FILE *f;

	d = opendir(VULN_DIR);
	if (!d)
		return fail(msg, VULN_DIR ": %s", strerror(errno));
	while ((e = readdir(d))) {
		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), VULN_DIR "/%s", e->d_name);
		f = fopen(path, "r");
		if (!f || !fgets(state, sizeof(state), f))
			snprintf(state, sizeof(state), "(unreadable)\n");
		if (f)
			fclose(f);
		printf("LGTEST vuln %s: %s", e->d_name, state);
		n++;
	}
	closedir(d);
	snprintf(msg, MSG_LEN, "%d vulnerabilities reported", n);
	return n > 0;
}

static pthread_mutex_t count_lock = PTHREAD_MUTEX_INITIALIZER;
static long thread_count;
static __thread long tls_value;

/* Each thread counts under the lock; its TLS variable must stay its own. */
static void *thread_fn(void *arg)
{
	long id = (long)arg, i;

	tls_value = id * 1000;
	for (i = 0; i < THREAD_LOOPS; i++) {
		pthread_mutex_lock(&count_lock);
		thread_count++;
		pthread_mutex_unlock(&count_lock);
		if (!(i % 1000))
			sched_yield();
	}
	return tls_value == id * 1000 ? (void *)&tls_value : NULL;
}

static bool check_threads(char *msg)
{
	pthread_t t[THREADS];
	void *ret[THREADS];
	long i, j;
	int err;

	tls_value = -1;
	for (i = 0; i < THREADS; i++) {
		err = pthread_create(&t[i], NULL, thread_fn, (void *)(i + 1));
		if (err)
			return fail(msg, "pthread_create: %s", strerror(err));
	}
	for (i = 0; i < THREADS; i++)
		pthread_join(t[i], &ret[i]);
	for (i = 0; i < THREADS; i++) {
		if (!ret[i])
			return fail(msg, "thread %ld: its TLS variable changed",
				    i);
		for (j = 0; j < i; j++)
			if (ret[i] == ret[j])
				return fail(msg,
					    "threads %ld and %ld share a TLS variable",
					    i, j);
	}
	if (tls_value != -1)
		return fail(msg, "main thread's TLS variable changed");
	if (thread_count != THREADS * THREAD_LOOPS)
		return fail(msg, "count is %ld, expected %d", thread_count,
			    THREADS * THREAD_LOOPS);
	snprintf(msg, MSG_LEN, "%d threads counted to %ld, TLS separate",
		 THREADS, thread_count);
	return true;
}

/*
 * Sum 1/k^2 + sin^2(k) + cos^2(k) for k = 1..n: the first terms tend to
 * pi^2/6, the others add exactly n (within rounding).  Yielding every so
 * often switches to the other tasks computing at the same time, so their
 * FPU states must be kept apart.
 */
static noinline double fpu_sum(long n)
{
	double sum = 0, k;
	long i;

	for (i = 1; i <= n; i++) {
		k = i;
		sum += 1.0 / (k * k) + sin(k) * sin(k) + cos(k) * cos(k);
		if (!(i % 1000))
			sched_yield();
	}
	return sum - n;
}

/*
 * Much the same with SSE2 arithmetic (the default for -m32 is the x87).
 * The result goes through memory: it would be returned in an x87 register.
 */
static noinline __attribute__((target("sse2,fpmath=sse")))
void sse_sum(long n, double *res)
{
	double sum = 0, k;
	long i;

	for (i = 1; i <= n; i++) {
		k = i;
		sum += 1.0 / (k * k) + sqrt(k) * sqrt(k) / k;
		if (!(i % 1000))
			sched_yield();
	}
	*res = sum - n;
}

static void *fpu_thread(void *arg)
{
	double *res = arg;

	res[0] = fpu_sum(FPU_TERMS + 1);
	return NULL;
}

static bool check_fpu(char *msg)
{
	const double basel = M_PI * M_PI / 6;
	double ref[2], got[2], child[2] = { 0, 0 }, sse_ref = 0, sse_got = 0;
	bool sse = __builtin_cpu_supports("sse2");
	pthread_t t;
	int p[2], status;
	pid_t pid;

	/*
	 * First alone, then in two processes at once, one of them with a
	 * second thread at it too.
	 */
	ref[0] = fpu_sum(FPU_TERMS);
	ref[1] = fpu_sum(FPU_TERMS + 1);
	if (sse)
		sse_sum(FPU_TERMS, &sse_ref);
	if (pipe(p))
		return fail(msg, "pipe: %s", strerror(errno));
	fflush(stdout);
	pid = fork();
	if (pid < 0)
		return fail(msg, "fork: %s", strerror(errno));
	if (!pid) {
		child[0] = fpu_sum(FPU_TERMS);
		if (sse)
			sse_sum(FPU_TERMS, &child[1]);
		_exit(write(p[1], child, sizeof(child)) == sizeof(child) ?
		      0 : 1);
	}
	close(p[1]);
	pthread_create(&t, NULL, fpu_thread, &got[1]);
	got[0] = fpu_sum(FPU_TERMS);
	if (sse)
		sse_sum(FPU_TERMS, &sse_got);
	pthread_join(t, NULL);
	if (read(p[0], child, sizeof(child)) != sizeof(child))
		child[0] = NAN;
	close(p[0]);
	status = wait_child(pid);
	if (!exited_with(status, 0))
		return fail(msg, "child: wait status %#x", status);
	if (fabs(ref[0] - basel) >= FPU_TOLERANCE)
		return fail(msg, "sum is %.15g, expected about %.15g", ref[0],
			    basel);
	if (got[0] != ref[0] || got[1] != ref[1] || child[0] != ref[0])
		return fail(msg,
			    "sums differ when run together: %.17g %.17g %.17g, alone %.17g %.17g",
			    got[0], got[1], child[0], ref[0], ref[1]);
	if (sse && fabs(sse_ref - basel) >= FPU_TOLERANCE)
		return fail(msg, "SSE sum is %.15g, expected about %.15g",
			    sse_ref, basel);
	if (sse_got != sse_ref || child[1] != sse_ref)
		return fail(msg,
			    "SSE sums differ: %.17g %.17g together, %.17g alone",
			    sse_got, child[1], sse_ref);
	snprintf(msg, MSG_LEN,
		 "x87%s: sum %.12f (pi^2/6 = %.12f) in 2 processes and 2 threads",
		 sse ? " and SSE2" : "", ref[0], basel);
	return true;
}

/*
 * Many short processes, one after the other: each exits with its own code.
 * Every EXEC_EVERY-th execs this program to do that, the others just exit.
 */
static bool check_procs(char *msg)
{
	long long t, ns[2] = { 0, 0 };
	int i, n[2] = { 0, 0 }, status, code, ex;
	char arg[16];
	pid_t pid;

	fflush(stdout);
	for (i = 0; i < NR_PROCS; i++) {
		code = i % 128;
		ex = !(i % EXEC_EVERY);
		snprintf(arg, sizeof(arg), "%d", code);
		t = now_ns(CLOCK_MONOTONIC);
		pid = fork();
		if (pid < 0)
			return fail(msg, "process %d: fork: %s", i,
				    strerror(errno));
		if (!pid) {
			if (ex)
				execl(SELF, "lguest_guest_check", "--exit",
				      arg, NULL);
			_exit(ex ? 255 : code);
		}
		status = wait_child(pid);
		if (!exited_with(status, code))
			return fail(msg,
				    "process %d: wait status %#x, expected exit %d",
				    i, status, code);
		ns[ex] += now_ns(CLOCK_MONOTONIC) - t;
		n[ex]++;
	}
	snprintf(msg, MSG_LEN,
		 "%d processes: %d fork+exit, %lld ms each; %d fork+exec+exit, %lld ms each",
		 NR_PROCS, n[0], n[0] ? ns[0] / n[0] / 1000000 : 0, n[1],
		 n[1] ? ns[1] / n[1] / 1000000 : 0);
	return true;
}

static const struct {
	const char *name;
	bool (*fn)(char *msg);
} boot_checks[] = {
	{ "uname",	check_uname },
	{ "paravirt",	check_paravirt },
	{ "memtotal",	check_memtotal },
	{ "kernel_log",	check_kernel_log },
	{ "fork",	check_fork },
	{ "exec",	check_exec },
	{ "pipe",	check_pipe },
	{ "signals",	check_signals },
	{ "threads",	check_threads },
	{ "fpu",	check_fpu },
	{ "procs",	check_procs },
	{ "ldt",	check_ldt },
	{ "ports",	check_ports },
	{ "no_nested_host", check_no_nested_host },
	{ "vulnerabilities", check_vulnerabilities },
};

static int run_boot_checks(void)
{
	int n = ARRAY_SIZE(boot_checks);
	char msg[MSG_LEN];
	int i, failed = 0;
	bool ok;

	for (i = 0; i < n; i++) {
		msg[0] = '\0';
		ok = boot_checks[i].fn(msg);
		printf("LGTEST check %s %s: %s\n", boot_checks[i].name,
		       ok ? "ok" : "FAIL", msg);
		failed += !ok;
	}
	if (failed)
		printf("LGTEST verdict FAIL: %d of %d checks failed\n",
		       failed, n);
	else
		printf("LGTEST verdict ok: %d checks\n", n);
	return failed ? 1 : 0;
}

/*
 * Sleep SLEEP_SECONDS between two lines, which the host timestamps as they
 * arrive.  In this process: the fork() and exec() of sleep(1) would add
 * seconds of their own in a guest under emulation.
 */
static int run_time(void)
{
	struct timespec left = { SLEEP_SECONDS, 0 };
	long long t0 = now_ns(CLOCK_MONOTONIC);

	printf("LGTEST time start\n");
	fflush(stdout);
	while (clock_nanosleep(CLOCK_MONOTONIC, 0, &left, &left) == EINTR)
		;
	printf("LGTEST time end guest_ns=%lld\n",
	       now_ns(CLOCK_MONOTONIC) - t0);
	return 0;
}

/* Wait for a line from the host on stdin (not echoed), or give up. */
static void wait_for_host(void)
{
	struct pollfd pfd = { .fd = STDIN_FILENO, .events = POLLIN };
	char c;

	if (poll(&pfd, 1, HOST_WAIT_MS) <= 0) {
		printf("LGTEST getpid: no word from the host, going on\n");
		return;
	}
	while (read(STDIN_FILENO, &c, 1) == 1 && c != '\n')
		;
}

/*
 * GETPID_CALLS system calls while the host holds its breath: it reads the
 * exit counters at "ready" and at "done", and we wait for it each time so
 * that nothing else we do is counted.
 */
static int run_getpid(void)
{
	struct termios saved, t;
	bool tty = !tcgetattr(STDIN_FILENO, &saved);
	pid_t pid = getpid();
	long long t0, t1;
	long i, bad = 0;

	if (tty) {
		t = saved;
		t.c_lflag &= ~(ECHO | ECHONL);
		tcsetattr(STDIN_FILENO, TCSANOW, &t);
	}
	printf("LGTEST getpid ready\n");
	fflush(stdout);
	wait_for_host();
	t0 = now_ns(CLOCK_MONOTONIC);
	for (i = 0; i < GETPID_CALLS; i++)
		bad += syscall(SYS_getpid) != pid;
	t1 = now_ns(CLOCK_MONOTONIC);
	printf("LGTEST getpid done calls=%d ns_per_call=%lld wrong=%ld\n",
	       GETPID_CALLS, (t1 - t0) / GETPID_CALLS, bad);
	fflush(stdout);
	wait_for_host();
	if (tty)
		tcsetattr(STDIN_FILENO, TCSANOW, &saved);
	return bad ? 1 : 0;
}

static int run_part(const char *what)
{
	if (!strcmp(what, "boot"))
		return run_boot_checks();
	if (!strcmp(what, "time"))
		return run_time();
	return run_getpid();
}

int main(int argc, char *argv[])
{
	static const char * const all[] = { "boot", "time", "getpid" };
	struct timespec wall;
	int i, j, ret = 0;

	/* What the checks run this program for. */
	if (argc == 3 && !strcmp(argv[1], "--echo"))
		return fputs(argv[2], stdout) == EOF;
	if (argc == 3 && !strcmp(argv[1], "--exit"))
		return atoi(argv[2]);

	for (i = 1; i < argc; i++) {
		for (j = 0; j < 3 && strcmp(argv[i], all[j]); j++)
			;
		if (j == 3) {
			fprintf(stderr, "usage: %s [boot] [time] [getpid]\n",
				argv[0]);
			return 2;
		}
	}
	/*
	 * The time of day first, for the host to compare with its own: the
	 * sooner after boot, the less the two clocks can have drifted apart
	 * (under an emulator, the host's own clock may not keep good time).
	 */
	clock_gettime(CLOCK_REALTIME, &wall);
	setvbuf(stdout, NULL, _IOLBF, 0);
	printf("LGTEST wallclock=%lld.%09ld\n", (long long)wall.tv_sec,
	       wall.tv_nsec);
	if (argc == 1) {
		for (i = 0; i < 3; i++)
			ret |= run_part(all[i]);
	}
	for (i = 1; i < argc; i++)
		ret |= run_part(argv[i]);
	return ret;
}
