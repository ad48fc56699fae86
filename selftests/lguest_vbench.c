// SPDX-License-Identifier: GPL-2.0
/*
 * lguest_vbench: the operations whose cost a paravirtualized guest
 * changes, after Rusty Russell's virtbench.  Run natively and inside an
 * lguest guest in the same machine, it gives the guest/native ratios.
 *
 * Each benchmark prints "BEGIN name", waits a second, runs, prints
 * "END name <ns per op> <ops>" and waits a second again, so that a host
 * watching the guest's console can read its exit counters while the
 * guest is idle, on either side of the run.  The "idle" benchmark does
 * nothing between its markers: it measures what the markers and the
 * waits cost in exits, for the host to subtract.
 *
 * This is a benchmark, not a test: it checks nothing about the results.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include "../kselftest.h"

static unsigned int scale = 1;

static long long now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static void die(const char *what)
{
	perror(what);
	exit(1);
}

static void bench_idle(unsigned int n)
{
}

static void bench_getpid(unsigned int n)
{
	while (n--)
		syscall(SYS_getpid);
}

static void bench_fork(unsigned int n)
{
	pid_t pid;

	while (n--) {
		pid = fork();
		if (pid < 0)
			die("fork");
		if (!pid)
			_exit(0);
		waitpid(pid, NULL, 0);
	}
}

static void bench_exec(unsigned int n)
{
	pid_t pid;

	while (n--) {
		pid = fork();
		if (pid < 0)
			die("fork");
		if (!pid) {
			execl("/bin/true", "true", NULL);
			_exit(127);
		}
		waitpid(pid, NULL, 0);
	}
}

/* A byte back and forth over two pipes: two context switches a round. */
static void bench_pipe(unsigned int n)
{
	int ping[2], pong[2];
	pid_t pid;
	char c = 0;

	if (pipe(ping) || pipe(pong))
		die("pipe");
	pid = fork();
	if (pid < 0)
		die("fork");
	if (!pid) {
		/* Only the parent may hold the write end: EOF ends the loop. */
		close(ping[1]);
		close(pong[0]);
		while (read(ping[0], &c, 1) == 1 && write(pong[1], &c, 1) == 1)
			;
		_exit(0);
	}
	close(ping[0]);
	close(pong[1]);
	while (n--)
		if (write(ping[1], &c, 1) != 1 || read(pong[0], &c, 1) != 1)
			die("pipe round trip");
	close(ping[1]);
	waitpid(pid, NULL, 0);
	close(pong[0]);
}

/* First touch of fresh anonymous pages: one page fault each. */
static void bench_fault(unsigned int n)
{
	long page = sysconf(_SC_PAGESIZE);
	char *p = mmap(NULL, n * page, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	unsigned int i;

	if (p == MAP_FAILED)
		die("mmap");
	for (i = 0; i < n; i++)
		p[i * page] = 1;
	munmap(p, n * page);
}

/*
 * A process-heavy shell workload, like a configure script: each op is a
 * short-lived process that does a little file I/O (n / 2 loops of two
 * commands, "cat" and "rm", each a fork and exec of busybox or coreutils).
 */
static void bench_shell(unsigned int n)
{
	char cmd[256];
	int status;

	snprintf(cmd, sizeof(cmd),
		 "i=0; while [ $i -lt %u ]; do echo $i > /tmp/vbench.$i; "
		 "cat /tmp/vbench.$i > /dev/null; rm /tmp/vbench.$i; "
		 "i=$((i + 1)); done", n / 2);
	status = system(cmd);
	if (status == -1 || !WIFEXITED(status) || WEXITSTATUS(status))
		die("shell workload");
}

static const struct {
	const char *name;
	void (*run)(unsigned int n);
	unsigned int n;
} benches[] = {
	{ "idle",	bench_idle,	1 },
	{ "getpid",	bench_getpid,	100000 },
	{ "fork",	bench_fork,	200 },
	{ "exec",	bench_exec,	100 },
	{ "pipe",	bench_pipe,	5000 },
	{ "fault",	bench_fault,	5000 },
	{ "shell",	bench_shell,	400 },
};

int main(int argc, char **argv)
{
	unsigned int i, n;
	long long t;

	if (argc > 1)
		scale = atoi(argv[1]) ?: 1;
	setvbuf(stdout, NULL, _IOLBF, 0);
	for (i = 0; i < ARRAY_SIZE(benches); i++) {
		n = benches[i].n > 1 ? benches[i].n / scale : 1;
		printf("BEGIN %s\n", benches[i].name);
		sleep(1);
		t = now_ns();
		benches[i].run(n);
		t = now_ns() - t;
		printf("END %s %lld %u\n", benches[i].name, t / n, n);
		sleep(1);
	}
	return 0;
}
