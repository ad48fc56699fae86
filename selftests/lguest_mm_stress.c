// SPDX-License-Identifier: GPL-2.0
/*
 * lguest_mm_stress: is what a process sees always what its page tables
 * say?  Under lguest the CPU runs on the host's shadow copies of the
 * guest's page tables, which the host keeps across context switches and
 * shares between processes (Documentation/virt/lguest/switcher.rst,
 * "Shadow paging"); a shadow that missed a change shows a process stale
 * data, another process's data, or lets through an access that should
 * fault.  This program changes mappings by every path Linux has and
 * checks each change after the other workers ran, so that it is checked
 * through a shadow that was switched out and back in.
 *
 * Every page holds a stamp: (pid, address, generation).  Each of
 * WORKERS processes runs ROUNDS rounds of the steps in steps[] on its own
 * pages; after each change it passes a token around a ring of pipes
 * through all other workers (each of which makes a change of its own in
 * between) before it checks.  One worker thread changes protections while
 * another checks, for threads sharing a shadow.
 *
 * It runs natively (a kselftest like any other: it must pass there) and
 * in an lguest guest (lguest_mm_stress_test.sh).  Output is TAP; the exit
 * status is 0 if every check passed.
 *
 * usage: lguest_mm_stress [ROUNDS [WORKERS]]
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/uio.h>
#include <sys/wait.h>

#define NPAGES		32
#ifndef ARRAY_SIZE
#define ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))
#endif
#define MAX_WORKERS	16

static long page_size;
static unsigned int rounds = 10, workers = 4;
static unsigned int me;			/* this worker's index */
static int ring[MAX_WORKERS][2];	/* worker i reads ring[i][0] */
static const char *self_exe;

struct stamp {
	uint32_t pid;
	uint32_t addr;
	uint32_t gen;
	uint32_t check;
};

static void fail(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	printf("# worker %u (pid %d): ", me, getpid());
	vprintf(fmt, ap);
	printf("\n");
	va_end(ap);
	fflush(stdout);
	_exit(1);
}

/* ---- stamps ---- */

static void stamp(char *p, uint32_t gen)
{
	struct stamp *s = (struct stamp *)p;

	s->pid = getpid();
	s->addr = (uint32_t)(uintptr_t)p;
	s->gen = gen;
	s->check = s->pid ^ s->addr ^ gen ^ 0x5a5a5a5a;
	/* And the page's last word, so both ends of it are checked. */
	*(uint32_t *)(p + page_size - 4) = s->check;
}

static void expect_stamp(const char *what, char *p, uint32_t pid, uint32_t gen)
{
	struct stamp *s = (struct stamp *)p;
	uint32_t check = pid ^ (uint32_t)(uintptr_t)p ^ gen ^ 0x5a5a5a5a;

	if (s->pid != pid || s->addr != (uint32_t)(uintptr_t)p ||
	    s->gen != gen || s->check != check ||
	    *(uint32_t *)(p + page_size - 4) != check)
		fail("%s: page %p holds (pid %u, addr %#x, gen %u), want (%u, %p, %u)",
		     what, p, s->pid, s->addr, s->gen, pid, p, gen);
}

static void stamp_range(char *p, unsigned int n, uint32_t gen)
{
	while (n--) {
		stamp(p, gen);
		p += page_size;
	}
}

static void expect_range(const char *what, char *p, unsigned int n,
			 uint32_t pid, uint32_t gen)
{
	while (n--) {
		expect_stamp(what, p, pid, gen);
		p += page_size;
	}
}

/* Fresh memory, or memory given back, must never show anyone's data. */
static void expect_zero(const char *what, char *p, unsigned int n)
{
	unsigned int i;

	for (i = 0; i < n * page_size / 4; i++)
		if (((uint32_t *)p)[i])
			fail("%s: %p holds %#x, want 0 (pid %u gen %u there?)",
			     what, p + i * 4, ((uint32_t *)p)[i],
			     ((struct stamp *)(p + (i * 4 & ~(page_size - 1))))->pid,
			     ((struct stamp *)(p + (i * 4 & ~(page_size - 1))))->gen);
}

/* ---- faults that must happen ---- */

static __thread sigjmp_buf probe_jmp;
static __thread int probing;

static void on_fault(int sig, siginfo_t *si, void *uc)
{
	if (!__atomic_load_n(&probing, __ATOMIC_SEQ_CST))
		fail("unexpected signal %d at %p", sig, si->si_addr);
	siglongjmp(probe_jmp, sig);
}

/* The signal an access raises: 0 for none. */
static int probe(char *p, int write)
{
	int sig;

	__atomic_store_n(&probing, 1, __ATOMIC_SEQ_CST);
	sig = sigsetjmp(probe_jmp, 1);
	if (!sig) {
		if (write)
			__atomic_store_n(p, 1, __ATOMIC_RELAXED);
		else
			(void)__atomic_load_n(p, __ATOMIC_RELAXED);
	}
	__atomic_store_n(&probing, 0, __ATOMIC_SEQ_CST);
	return sig;
}

static void expect_fault(const char *what, char *p, int write, int want)
{
	int sig = probe(p, write);

	if (sig != want)
		fail("%s: %s of %p raised signal %d, want %d", what,
		     write ? "write" : "read", p, sig, want);
}

/* ---- the token ring: a switch through every other worker ---- */

static void pass_token(void)
{
	char c = 0;

	if (workers < 2) {
		sched_yield();
		return;
	}
	if (write(ring[(me + 1) % workers][1], &c, 1) != 1 ||
	    read(ring[me][0], &c, 1) != 1)
		fail("token ring: %s", strerror(errno));
}

/* ---- the steps; gen counts this worker's changes ---- */

static uint32_t gen;
static char *region;		/* NPAGES pages, stamped with gen */

static char *map_anon(size_t pages, int prot)
{
	char *p = mmap(NULL, pages * page_size, prot,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED)
		fail("mmap: %s", strerror(errno));
	return p;
}

static void step_mmap(void)
{
	region = map_anon(NPAGES, PROT_READ | PROT_WRITE);
	expect_zero("fresh mmap", region, NPAGES);
	stamp_range(region, NPAGES, ++gen);
	pass_token();
	expect_range("mmap", region, NPAGES, getpid(), gen);
}

static void step_mprotect(void)
{
	if (mprotect(region, NPAGES * page_size, PROT_READ))
		fail("mprotect: %s", strerror(errno));
	pass_token();
	expect_range("read-only", region, NPAGES, getpid(), gen);
	expect_fault("read-only", region + 3 * page_size, 1, SIGSEGV);
	if (mprotect(region, NPAGES * page_size, PROT_NONE))
		fail("mprotect: %s", strerror(errno));
	pass_token();
	expect_fault("PROT_NONE", region + 5 * page_size, 0, SIGSEGV);
	if (mprotect(region, NPAGES * page_size, PROT_READ | PROT_WRITE))
		fail("mprotect: %s", strerror(errno));
	pass_token();
	stamp_range(region, NPAGES, ++gen);
	pass_token();
	expect_range("writable again", region, NPAGES, getpid(), gen);
}

/*
 * Copy-on-write: parent and child each write half the pages, and each
 * must see its own writes in its half and the old stamps in the other.
 */
static void step_fork(void)
{
	unsigned int half = NPAGES / 2;
	uint32_t old = gen, parent = getpid();
	int go[2], status;
	pid_t pid;
	char c;

	if (pipe(go))
		fail("pipe: %s", strerror(errno));
	pid = fork();
	if (pid < 0)
		fail("fork: %s", strerror(errno));
	if (!pid) {
		expect_range("child before writes", region, NPAGES, parent, old);
		stamp_range(region, half, old + 1000);
		if (read(go[0], &c, 1) != 1)
			_exit(1);
		expect_range("child's half", region, half, getpid(), old + 1000);
		expect_range("parent's half, in the child", region +
			     half * page_size, half, parent, old);
		_exit(0);
	}
	stamp_range(region + half * page_size, half, ++gen);
	pass_token();
	if (write(go[1], &c, 1) != 1)
		fail("pipe: %s", strerror(errno));
	if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status) ||
	    WEXITSTATUS(status))
		fail("copy-on-write child failed (status %#x)", status);
	close(go[0]);
	close(go[1]);
	expect_range("child's half, in the parent", region, half, parent, old);
	expect_range("parent's half", region + half * page_size, half,
		     parent, gen);
	stamp_range(region, NPAGES, ++gen);
}

static void step_dontneed(void)
{
	if (madvise(region + 4 * page_size, 8 * page_size, MADV_DONTNEED))
		fail("madvise: %s", strerror(errno));
	pass_token();
	expect_range("before DONTNEED", region, 4, getpid(), gen);
	expect_zero("MADV_DONTNEED", region + 4 * page_size, 8);
	expect_range("after DONTNEED", region + 12 * page_size, NPAGES - 12,
		     getpid(), gen);
	stamp_range(region, NPAGES, ++gen);
}

static void step_mremap(void)
{
	char *to = map_anon(NPAGES, PROT_NONE), *p;

	p = mremap(region, NPAGES * page_size, NPAGES * page_size,
		   MREMAP_MAYMOVE | MREMAP_FIXED, to);
	if (p != to)
		fail("mremap: %s", strerror(errno));
	pass_token();
	expect_fault("old place after mremap", region, 0, SIGSEGV);
	/* The stamps name the old addresses: check them by hand. */
	for (p = to; p < to + NPAGES * page_size; p += page_size)
		if (((struct stamp *)p)->gen != gen ||
		    ((struct stamp *)p)->pid != (uint32_t)getpid() ||
		    ((struct stamp *)p)->addr !=
		    (uint32_t)(uintptr_t)(region + (p - to)))
			fail("mremap: %p holds gen %u of %#x", p,
			     ((struct stamp *)p)->gen,
			     ((struct stamp *)p)->addr);
	region = to;
	stamp_range(region, NPAGES, ++gen);
	pass_token();
	expect_range("after mremap", region, NPAGES, getpid(), gen);
}

/*
 * A shared file mapping, truncated by another process while we are
 * switched out: the pages must read back as the file now is (zeros once
 * it is extended again), never as the stamps we wrote.
 */
static void step_truncate(void)
{
	char path[64];
	int fd, status;
	char *p;
	pid_t pid;

	snprintf(path, sizeof(path), "/tmp/lguest_mm_stress.%d", getpid());
	fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
	if (fd < 0 || ftruncate(fd, NPAGES * page_size))
		fail("%s: %s", path, strerror(errno));
	p = mmap(NULL, NPAGES * page_size, PROT_READ | PROT_WRITE,
		 MAP_SHARED, fd, 0);
	if (p == MAP_FAILED)
		fail("mmap %s: %s", path, strerror(errno));
	stamp_range(p, NPAGES, gen + 1);
	pid = fork();
	if (pid < 0)
		fail("fork: %s", strerror(errno));
	if (!pid) {
		if (ftruncate(fd, 0) || ftruncate(fd, NPAGES * page_size))
			_exit(1);
		_exit(0);
	}
	pass_token();
	if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status) ||
	    WEXITSTATUS(status))
		fail("truncating child failed");
	expect_zero("truncated file", p, NPAGES);
	munmap(p, NPAGES * page_size);
	close(fd);
	unlink(path);
}

/* Another process writes into a switched-out one's memory. */
static void step_vm_writev(void)
{
	int go[2], done[2], status;
	struct iovec local, remote;
	struct stamp s;
	pid_t pid;
	char c;

	if (pipe(go) || pipe(done))
		fail("pipe: %s", strerror(errno));
	pid = fork();
	if (pid < 0)
		fail("fork: %s", strerror(errno));
	if (!pid) {
		/* Map the page read-write first, then wait, switched out. */
		stamp(region, gen + 7);
		if (write(done[1], &c, 1) != 1 || read(go[0], &c, 1) != 1)
			_exit(1);
		if (((struct stamp *)region)->gen != 0xfeedu ||
		    ((struct stamp *)region)->pid != (uint32_t)getppid())
			_exit(2);
		_exit(0);
	}
	if (read(done[0], &c, 1) != 1)
		fail("pipe: %s", strerror(errno));
	s.pid = getpid();
	s.addr = 0;
	s.gen = 0xfeed;
	s.check = 0;
	local.iov_base = &s;
	local.iov_len = sizeof(s);
	remote.iov_base = region;
	remote.iov_len = sizeof(s);
	if (process_vm_writev(pid, &local, 1, &remote, 1, 0) != sizeof(s))
		fail("process_vm_writev: %s", strerror(errno));
	pass_token();
	if (write(go[1], &c, 1) != 1)
		fail("pipe: %s", strerror(errno));
	if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status) ||
	    WEXITSTATUS(status))
		fail("process_vm_writev: the child saw %s",
		     WIFEXITED(status) && WEXITSTATUS(status) == 2 ?
		     "its old stamp" : "something else go wrong");
	close(go[0]);
	close(go[1]);
	close(done[0]);
	close(done[1]);
	expect_range("after process_vm_writev", region, NPAGES, getpid(), gen);
}

/* exec: a new image, fresh memory, its own checks. */
static void step_exec(void)
{
	int status;
	pid_t pid = fork();

	if (pid < 0)
		fail("fork: %s", strerror(errno));
	if (!pid) {
		execl(self_exe, self_exe, "--exec-check", NULL);
		_exit(127);
	}
	pass_token();
	if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status) ||
	    WEXITSTATUS(status))
		fail("exec'd check failed (status %#x)", status);
	expect_range("after exec", region, NPAGES, getpid(), gen);
}

static int exec_check(void)
{
	char *p = map_anon(NPAGES, PROT_READ | PROT_WRITE);

	expect_zero("fresh mmap after exec", p, NPAGES);
	stamp_range(p, NPAGES, 42);
	sched_yield();
	expect_range("exec'd", p, NPAGES, getpid(), 42);
	return 0;
}

/*
 * Two threads, one shadow: one takes a page away, the other must fault
 * on it at once, then sees it back after the first restores it.
 */
static char *thread_page;
static int thread_pipe[2], main_pipe[2];

static void *thread_fn(void *arg)
{
	char c;

	if (read(thread_pipe[0], &c, 1) != 1)
		return NULL;
	expect_fault("PROT_NONE in the other thread", thread_page, 0, SIGSEGV);
	if (write(main_pipe[1], &c, 1) != 1 || read(thread_pipe[0], &c, 1) != 1)
		return NULL;
	expect_stamp("page back, in the other thread", thread_page, getpid(),
		     gen);
	stamp(thread_page, gen + 1);
	if (write(main_pipe[1], &c, 1) != 1)
		return NULL;
	return arg;
}

static void step_threads(void)
{
	pthread_t t;
	void *ret;
	char c = 0;

	thread_page = region + 9 * page_size;
	if (pipe(thread_pipe) || pipe(main_pipe) ||
	    pthread_create(&t, NULL, thread_fn, &c))
		fail("thread: %s", strerror(errno));
	expect_stamp("before threads", thread_page, getpid(), gen);
	if (mprotect(thread_page, page_size, PROT_NONE))
		fail("mprotect: %s", strerror(errno));
	if (write(thread_pipe[1], &c, 1) != 1 || read(main_pipe[0], &c, 1) != 1)
		fail("thread pipe");
	if (mprotect(thread_page, page_size, PROT_READ | PROT_WRITE))
		fail("mprotect: %s", strerror(errno));
	if (write(thread_pipe[1], &c, 1) != 1 || read(main_pipe[0], &c, 1) != 1)
		fail("thread pipe");
	if (pthread_join(t, &ret) || ret != &c)
		fail("thread failed");
	gen++;
	expect_stamp("written by the other thread", thread_page, getpid(), gen);
	stamp_range(region, NPAGES, gen);
	close(thread_pipe[0]);
	close(thread_pipe[1]);
	close(main_pipe[0]);
	close(main_pipe[1]);
}

static void step_munmap(void)
{
	char *old = region;

	if (munmap(region, NPAGES * page_size))
		fail("munmap: %s", strerror(errno));
	pass_token();
	expect_fault("munmap", old, 0, SIGSEGV);
	expect_fault("munmap", old + (NPAGES - 1) * page_size, 1, SIGSEGV);
	region = NULL;
}

static const struct {
	const char *name;
	void (*run)(void);
} steps[] = {
	{ "mmap", step_mmap },
	{ "mprotect", step_mprotect },
	{ "fork_cow", step_fork },
	{ "madv_dontneed", step_dontneed },
	{ "mremap", step_mremap },
	{ "truncate_shared_file", step_truncate },
	{ "process_vm_writev", step_vm_writev },
	{ "exec", step_exec },
	{ "threads", step_threads },
	{ "munmap_and_exit", step_munmap },
};

static int done_pipe[2];

/*
 * A worker that is done keeps the token going round for the others, until
 * the parent has heard from every worker and stops them all.
 */
static void worker(void)
{
	unsigned int r, i;
	char c = 'o';

	for (r = 0; r < rounds; r++)
		for (i = 0; i < ARRAY_SIZE(steps); i++)
			steps[i].run();
	if (write(done_pipe[1], &c, 1) != 1)
		fail("done pipe: %s", strerror(errno));
	for (;;)
		pass_token();
}

/* Wait for every worker's "done"; a worker that exits instead failed. */
static unsigned int wait_workers(pid_t *pids)
{
	unsigned int i, ok = 0, failed = 0;
	struct pollfd pfd = { .fd = done_pipe[0], .events = POLLIN };
	int status;
	pid_t pid;
	char c;

	while (ok + failed < workers) {
		if (poll(&pfd, 1, 1000) > 0 && read(done_pipe[0], &c, 1) == 1) {
			ok++;
			continue;
		}
		pid = waitpid(-1, &status, WNOHANG);
		for (i = 0; pid > 0 && i < workers; i++) {
			if (pids[i] != pid)
				continue;
			printf("not ok %u worker %u (status %#x)\n", i + 1, i,
			       status);
			pids[i] = 0;
			failed++;
		}
		/* One failed: the ring is broken, stop the others. */
		if (failed)
			break;
	}
	for (i = 0; i < workers; i++) {
		if (!pids[i])
			continue;
		kill(pids[i], SIGKILL);
		waitpid(pids[i], &status, 0);
		if (failed)
			printf("not ok %u worker %u # stopped\n", i + 1, i);
		else
			printf("ok %u worker %u: %u rounds of %zu steps\n",
			       i + 1, i, rounds,
			       ARRAY_SIZE(steps));
	}
	return failed;
}

int main(int argc, char **argv)
{
	struct sigaction sa = { .sa_sigaction = on_fault,
				.sa_flags = SA_SIGINFO | SA_NODEFER };
	pid_t pids[MAX_WORKERS];
	unsigned int i;

	page_size = sysconf(_SC_PAGESIZE);
	self_exe = "/proc/self/exe";
	sigaction(SIGSEGV, &sa, NULL);
	sigaction(SIGBUS, &sa, NULL);
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc > 1 && !strcmp(argv[1], "--exec-check"))
		return exec_check();
	if (argc > 1)
		rounds = atoi(argv[1]);
	if (argc > 2)
		workers = atoi(argv[2]);
	if (!rounds || !workers || workers > MAX_WORKERS) {
		fprintf(stderr, "usage: %s [ROUNDS [WORKERS (1-%d)]]\n",
			argv[0], MAX_WORKERS);
		return 2;
	}
	printf("TAP version 13\n1..%u\n", workers);
	if (pipe(done_pipe))
		fail("pipe: %s", strerror(errno));
	for (i = 0; i < workers; i++)
		if (pipe(ring[i]))
			fail("pipe: %s", strerror(errno));
	for (i = 0; i < workers; i++) {
		pids[i] = fork();
		if (!pids[i]) {
			me = i;
			worker();
		}
		if (pids[i] < 0)
			fail("fork: %s", strerror(errno));
	}
	if (wait_workers(pids)) {
		printf("# FAIL: a worker saw its memory wrong\n");
		return 1;
	}
	printf("# PASS: %u workers, %u rounds each\n", workers, rounds);
	return 0;
}
