// SPDX-License-Identifier: GPL-2.0
/*
 * Fuzzers for both ways into lguest, the /dev/lguest ioctls of a launcher
 * and the hypercalls and instructions of a guest, to find what the other
 * tests' chosen cases miss: an errno outside the API, a crash, a hang, a
 * leak.  Results are checked only for sanity.
 *
 * dev_ioctl_fuzz: four threads make random and structure-aware requests
 * on two guest files they share: other drivers' request numbers, ours
 * with any number, size or direction, random contents, flags and reserved
 * fields, and arguments that are NULL, unmapped, read-only or run into a
 * PROT_NONE page.  Valid LGUEST_INITs point at random bytes, which
 * LGUEST_RUN runs at CPL 1.  Meanwhile the shared files are replaced by
 * new ones, and forked children use the inherited files (from another
 * process: EIO).  Every result must be a documented success value or an
 * errno of the API.
 *
 * tiny_guest_fuzz: tiny guests make random hypercalls, load random GDT
 * and IDT entries, kernel stacks and page table entries, then jump into
 * random bytes at CPL 1 or CPL 3.  Whatever they do, LGUEST_RUN must
 * report a documented exit, and a killed guest must stay dead.
 *
 * After each, a fresh guest must run and lg.ko's reference count must be
 * back where it was.
 *
 * Environment: LGUEST_FUZZ_SEED, the master seed (default from the clock,
 * always logged); LGUEST_FUZZ_ITERS, dev_ioctl_fuzz's requests (default
 * 20000); LGUEST_FUZZ_GUESTS, tiny_guest_fuzz's guests (default 50);
 * LGUEST_FUZZ_SECONDS, each test's time budget (default 240, at most 540).
 * Threads and guests draw from xorshift generators seeded from the master
 * seed: a seed replays the same requests, not the threads' interleaving.
 * Guest g's seed is the master seed plus g, so LGUEST_FUZZ_SEED=<its
 * seed> LGUEST_FUZZ_GUESTS=1 replays it alone.
 *
 * See include/lguest_util.h for how the guest code in this file runs.
 * All tests are skipped when /dev/lguest does not exist.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/time.h>
#include <sys/wait.h>

#include "../kselftest_harness.h"
#include "lguest_util.h"
#include "lguest_host_ok.h"

#define FUZZ_TIMEOUT	600	/* the harness's limit per test, in s */
#define MAX_SECONDS	540
#define TICK_MS		50	/* signal period that ends LGUEST_RUN */
#define PAGE		LG_PAGE_SIZE

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000ull + ts.tv_nsec / 1000000;
}

static uint64_t env_u64(const char *name, uint64_t def)
{
	const char *s = getenv(name);

	return s && *s ? strtoull(s, NULL, 0) : def;
}

/* splitmix64: a seed (the master seed plus a number) to a state. */
static uint64_t mix64(uint64_t x)
{
	x += 0x9e3779b97f4a7c15ull;
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
	return (x ^ (x >> 31)) | 1;	/* xorshift needs a non-zero state */
}

static uint32_t rnd(uint64_t *s)
{
	uint64_t x = *s;

	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	*s = x;
	return x >> 32;
}

static void fill_random(uint64_t *rng, void *p, size_t bytes)
{
	uint32_t *w = p;
	size_t i;

	for (i = 0; i < bytes / 4; i++)
		w[i] = rnd(rng);
}

static void assert_refcnt(struct __test_metadata *_metadata, int before)
{
	if (before < 0) {
		TH_LOG("no %s: not checking the module reference count",
		       LG_MODULE_REFCNT);
		return;
	}
	ASSERT_EQ(before, lg_wait_module_refcnt(before));
}

/* SIGUSR1 and SIGALRM only have to interrupt LGUEST_RUN. */
static void on_signal(int sig)
{
}

/*
 * A fixture for TEST_F_TIMEOUT: TEST() gets the harness's 30 s, too short
 * for a million requests under QEMU.  LGUEST_FUZZ_SECONDS keeps each test
 * well inside FUZZ_TIMEOUT, and both inside the 1200 s of "settings".
 */
FIXTURE(fuzz) {
	uint64_t seed;
	uint64_t deadline_ms;
};

FIXTURE_SETUP(fuzz)
{
	struct timespec ts;
	uint64_t secs;

	if (!lg_dev_present())
		SKIP(return, LG_NO_DEV_MSG);
	clock_gettime(CLOCK_REALTIME, &ts);
	self->seed = env_u64("LGUEST_FUZZ_SEED",
			     ts.tv_sec * 1000000000ull + ts.tv_nsec);
	secs = env_u64("LGUEST_FUZZ_SECONDS", 240);
	if (secs > MAX_SECONDS)
		secs = MAX_SECONDS;
	self->deadline_ms = now_ms() + secs * 1000;
	TH_LOG("LGUEST_FUZZ_SEED=%#llx, time budget %llu s",
	       (unsigned long long)self->seed, (unsigned long long)secs);
}

FIXTURE_TEARDOWN(fuzz)
{
}

/* ---- dev_ioctl_fuzz ---- */

#define NR_THREADS	4
#define NR_FDS		2		/* guest files for all threads */
#define NR_ARENAS	2
#define ARENA_SIZE	(16u << 20)	/* PROT_NONE but for the region: */
#define REGION_PAGES	32		/* read-write guest memory */
#define KERNEL_ADDR	0xc0000000u	/* no i386 user space above */
#define CHILD_REQUESTS	8

static const int fz_errnos[] = {
	EINVAL, EFAULT, ENOTTY, EBADFD, EIO, EEXIST, E2BIG, EOVERFLOW,
	ENOMEM, EINTR,
};

enum { ARG_BUF, ARG_NULL, ARG_HOLE, ARG_RO, ARG_STRADDLE, ARG_KERNEL };
static const char * const fz_arg_names[] = {
	"buffer", "NULL", "unmapped", "read-only", "straddling", "kernel",
};

struct fz_worker {
	pthread_t tid;
	uint64_t rng;
	uint8_t *straddle;	/* a read-write page, then a PROT_NONE one */
	int *report;		/* shared with forked children */
	struct lguest_regs regs;	/* from the last LGUEST_GET_REGS */
	union {			/* room for any size a request says */
		struct lguest_init init;
		struct lguest_run run;
		struct lguest_regs regs;
		struct lguest_irq irq;
		uint32_t words[4096];
	} buf;
};

struct fz_req {
	unsigned int cmd, kind;
	unsigned long arg;
	long want;		/* what success returns; -1: must fail */
	int ret, err;
	const char *why;	/* what is wrong with the result, or NULL */
};

static struct {
	int fd[NR_FDS];
	uint8_t *arena[NR_ARENAS], *ro, *hole;
	uint64_t iters, deadline_ms;
	unsigned long n, reqs, ok, forks, reopens;
	unsigned long errs[256], exits[LGUEST_EXIT_INTR + 1];
	unsigned int stop, done;
	pthread_mutex_t lock;
	char fail[768];
} fz = { .lock = PTHREAD_MUTEX_INITIALIZER };

static struct fz_worker fz_w[NR_THREADS];

#define fz_inc(x)	__atomic_add_fetch(&(x), 1, __ATOMIC_RELAXED)

/* Keep the first failure for the main thread to log, and stop. */
static void __printf(1, 2) fz_fail(const char *fmt, ...)
{
	va_list ap;

	pthread_mutex_lock(&fz.lock);
	if (!fz.fail[0]) {
		va_start(ap, fmt);
		vsnprintf(fz.fail, sizeof(fz.fail), fmt, ap);
		va_end(ap);
	}
	__atomic_store_n(&fz.stop, 1, __ATOMIC_RELAXED);
	pthread_mutex_unlock(&fz.lock);
}

/* Code at the start of some arena pages, for exits of every kind. */
static const struct {
	uint8_t len, code[11];
} snippets[] = {
	/* 1: mov $LHCALL_HALT, %eax; int $0x1f; jmp 1b: sleeps in the host */
	{ 9, { 0xb8, LHCALL_HALT, 0, 0, 0, 0xcd, 0x1f, 0xeb, 0xf7 } },
	/* mov $LG_HCALL_TEST, %eax; int $0x1f: an exit to the launcher */
	{ 7, { 0xb8, 0x01, 0x10, 0, 0, 0xcd, 0x1f } },
	/* mov $LHCALL_SHUTDOWN, %eax; xor %ebx, %ebx; int $0x1f */
	{ 9, { 0xb8, LHCALL_SHUTDOWN, 0, 0, 0, 0x31, 0xdb, 0xcd, 0x1f } },
	/* 1: jmp 1b: only a signal brings the launcher back */
	{ 2, { 0xeb, 0xfe } },
};

/*
 * An arena's region as guest memory: page 0 the page directory, page 1
 * its page table (both read-only to the guest) mapping the region at its
 * guest-physical address, the rest random bytes and snippets.  Guests
 * may be running on it.
 */
static void fz_fill_arena(uint64_t *rng, uint8_t *a)
{
	uint32_t *w = (uint32_t *)a;
	unsigned int i, s;

	fill_random(rng, a + 2 * PAGE, (REGION_PAGES - 2) * PAGE);
	for (i = 2; i < REGION_PAGES; i++) {
		s = rnd(rng) % (2 * ARRAY_SIZE(snippets));
		if (s < ARRAY_SIZE(snippets))
			memcpy(a + i * PAGE, snippets[s].code, snippets[s].len);
	}
	memset(a, 0, 2 * PAGE);
	w[0] = PAGE | LG_PTE_P | LG_PTE_RW | LG_PTE_U;
	for (i = 0; i < REGION_PAGES; i++)
		w[1024 + i] = i * PAGE | LG_PTE_P | (i >= 2 ? LG_PTE_RW : 0) |
			      (rnd(rng) & LG_PTE_U);
}

/* A size: mostly valid up to @max, else zero, unaligned or too big. */
static uint64_t fz_size(uint64_t *rng, uint32_t max)
{
	switch (rnd(rng) % 8) {
	case 0:
		return 0;
	case 1:
		return (rnd(rng) % max) | 1;
	case 2:
		return LGUEST_MAX_MEM_SIZE + (1 + rnd(rng) % 1024) * PAGE;
	case 3:
		return ~0ull - rnd(rng);
	}
	return (1 + rnd(rng) % (max / PAGE)) * (uint64_t)PAGE;
}

/*
 * LGUEST_INIT's argument.  A guest running random code writes anywhere
 * in its memory, so a range the kernel may accept never covers memory of
 * this process but an arena: it is in an arena, or at 0 (nothing is
 * mapped below the program), or one to refuse: unaligned, or reaching
 * KERNEL_ADDR or beyond 4 GiB.
 */
static void fz_gen_init(uint64_t *rng, struct lguest_init *in)
{
	uint8_t *a = fz.arena[rnd(rng) % NR_ARENAS];
	uint32_t off = rnd(rng) % (ARENA_SIZE / PAGE) * PAGE;
	unsigned int r = rnd(rng) % 8;

	memset(in, 0, sizeof(*in));
	in->entry = rnd(rng);
	in->cr3 = rnd(rng) & LG_PAGE_MASK;
	if (r < 4) {		/* the region: guests that run */
		in->mem_addr = (uintptr_t)a;
		in->mem_size = REGION_PAGES * PAGE;
		in->entry = 2 * PAGE + in->entry % ((REGION_PAGES - 2) * PAGE);
		if (r & 1)
			in->entry &= LG_PAGE_MASK;	/* maybe a snippet */
		in->cr3 = 0;
	} else if (r == 4) {	/* anywhere in an arena */
		in->mem_addr = (uintptr_t)a + off;
		in->mem_size = fz_size(rng, ARENA_SIZE - off);
	} else if (r == 5) {	/* at 0 */
		in->mem_size = fz_size(rng, 1u << 20);
	} else if (r == 6) {	/* in kernel space, or running into it */
		off %= 64 * PAGE;
		in->mem_addr = KERNEL_ADDR - off;
		if (rnd(rng) & 1)
			in->mem_addr += rnd(rng) % 0x3ff00 * PAGE;
		in->mem_size = off + (1 + rnd(rng) % 64) * PAGE;
	} else {		/* unaligned, or beyond 4 GiB */
		in->mem_addr = (uint64_t)rnd(rng) << 32 | rnd(rng);
		if (!(in->mem_addr >> 32))
			in->mem_addr |= 1;
		in->mem_size = fz_size(rng, ARENA_SIZE);
	}
	if (r >= 4 && (rnd(rng) & 3) && in->mem_size &&
	    in->mem_size <= ARENA_SIZE) {
		in->entry %= in->mem_size;
		in->cr3 = in->cr3 % in->mem_size & LG_PAGE_MASK;
	}
	if (!(rnd(rng) % 8))
		in->flags = rnd(rng) | 1;
	else if (!(rnd(rng) % 8))
		in->reserved[rnd(rng) % 5] = rnd(rng) | 1;
}

/* Registers: random, or the last ones read with a few fields changed. */
static void fz_gen_regs(struct fz_worker *w, struct lguest_regs *regs)
{
	static const uint32_t vals[] = {
		0, LG_KERNEL_CS, LG_USER_CS, LG_USER_DS, 2, 2 * PAGE, PAGE + 1,
	};
	unsigned int i, r = rnd(&w->rng);

	*regs = w->regs;
	if (!(r % 4))
		fill_random(&w->rng, regs, sizeof(*regs));
	for (i = r / 4 % 4; i; i--, r = rnd(&w->rng))
		((uint32_t *)regs)[r % (sizeof(*regs) / 4)] = r & 0x100 ?
			rnd(&w->rng) : vals[(r >> 9) % ARRAY_SIZE(vals)];
}

/* ioctl types the VFS handles itself, before the driver sees them. */
static bool fz_vfs_type(unsigned int type)
{
	return !type || type == 0x15 || type == 'T' || type == 'X' ||
	       type == 'f' || type == 0x94;
}

static unsigned int fz_pick_cmd(uint64_t *rng)
{
	static const unsigned int cmds[] = {
		LGUEST_GET_API_VERSION, LGUEST_INIT, LGUEST_RUN,
		LGUEST_GET_REGS, LGUEST_SET_REGS, LGUEST_IRQ,
	};
	unsigned int cmd = cmds[rnd(rng) % ARRAY_SIZE(cmds)], type;

	switch (rnd(rng) % 16) {
	case 0:		/* another driver's */
		do
			type = rnd(rng) & 0xff;
		while (type == LGUEST_IOC_MAGIC || fz_vfs_type(type));
		return _IOC(rnd(rng) & 3, type, rnd(rng) & 0xff,
			    rnd(rng) & 0x3fff);
	case 1:		/* ours, any number, size and direction */
		return _IOC(rnd(rng) & 3, LGUEST_IOC_MAGIC, rnd(rng) & 0xff,
			    rnd(rng) & 0x3fff);
	case 2:		/* one of ours with another size or direction */
		return _IOC(rnd(rng) & 1 ? _IOC_DIR(cmd) : rnd(rng) & 3,
			    LGUEST_IOC_MAGIC, _IOC_NR(cmd),
			    rnd(rng) & 1 ? _IOC_SIZE(cmd) : rnd(rng) % 1024);
	}
	return cmd;
}

/* The argument: mostly the worker's buffer, sometimes a bad pointer. */
static unsigned long fz_pick_arg(struct fz_worker *w, size_t size,
				 unsigned int *kind)
{
	size_t n;

	*kind = rnd(&w->rng) % 16;
	switch (*kind) {
	case ARG_NULL:
		return 0;
	case ARG_HOLE:
		return (uintptr_t)fz.hole + rnd(&w->rng) % PAGE;
	case ARG_RO:		/* zeroes */
		return (uintptr_t)fz.ro;
	case ARG_STRADDLE:	/* n bytes before the PROT_NONE page */
		n = size > 1 ? 1 + rnd(&w->rng) % (size - 1) : 1;
		n = n > PAGE ? PAGE : n;
		memcpy(w->straddle + PAGE - n, &w->buf, n);
		return (uintptr_t)w->straddle + PAGE - n;
	case ARG_KERNEL:
		return KERNEL_ADDR + rnd(&w->rng) % (1u << 30);
	}
	*kind = ARG_BUF;
	return (uintptr_t)&w->buf;
}

/* Make request @r; r->why says what is wrong with the result, if any. */
static void fz_ioctl(struct fz_worker *w, int fd, struct fz_req *r)
{
	static const uint32_t zero[ARRAY_SIZE(w->regs.reserved)];
	struct lguest_run *run = &w->buf.run;
	bool own = r->kind == ARG_BUF;
	unsigned int i;

	errno = 0;
	r->ret = ioctl(fd, r->cmd, r->arg);
	r->err = r->ret < 0 ? errno : 0;
	r->why = NULL;
	if (r->ret < 0) {
		fz_inc(fz.errs[r->err & 255]);
		r->why = "an errno outside the API";
		for (i = 0; i < ARRAY_SIZE(fz_errnos); i++)
			if (r->err == fz_errnos[i])
				r->why = NULL;
		if (r->cmd == LGUEST_RUN && own && r->err == EINTR &&
		    run->exit_reason != LGUEST_EXIT_INTR)
			r->why = "EINTR without LGUEST_EXIT_INTR";
		return;
	}
	fz_inc(fz.ok);
	if (r->ret != r->want)
		r->why = "an unexpected success or return value";
	else if (!own)
		return;
	else if (r->cmd == LGUEST_RUN && (run->exit_reason < LGUEST_EXIT_MMIO ||
					  run->exit_reason > LGUEST_EXIT_DEAD))
		r->why = "an exit_reason LGUEST_RUN does not return";
	else if (r->cmd == LGUEST_RUN &&
		 run->exit_reason == LGUEST_EXIT_DEAD &&
		 !memchr(run->dead.reason, 0, LGUEST_REASON_LEN))
		r->why = "a dead.reason without its NUL";
	else if (r->cmd == LGUEST_RUN)
		fz_inc(fz.exits[run->exit_reason]);
	else if (r->cmd == LGUEST_GET_REGS &&
		 memcmp(w->buf.regs.reserved, zero, sizeof(zero)))
		r->why = "LGUEST_GET_REGS: reserved not zero";
	else if (r->cmd == LGUEST_GET_REGS)
		w->regs = w->buf.regs;
}

/* One random request on @fd; false if its result is not sane. */
static bool fz_request(struct fz_worker *w, int fd, bool child,
		       struct fz_req *r)
{
	uint64_t *rng = &w->rng;
	int pinned = -1;

	memset(r, 0, sizeof(*r));
	r->cmd = fz_pick_cmd(rng);
	if (r->cmd == LGUEST_GET_API_VERSION) {
		r->want = LGUEST_API_VERSION;
		r->arg = rnd(rng) % 8 ? 0 : rnd(rng);
	} else if (r->cmd == LGUEST_INIT) {
		fz_gen_init(rng, &w->buf.init);
	} else if (r->cmd == LGUEST_RUN) {
		if (child)	/* it could sleep in the guest for good */
			return true;
		memset(&w->buf.run, 0, sizeof(w->buf.run));
		w->buf.run.hypercall.ret = rnd(rng);
		if (!(rnd(rng) % 16))
			w->buf.run.flags = rnd(rng) | 1;
		else if (!(rnd(rng) % 16))
			w->buf.run.reserved[rnd(rng) % 6] = rnd(rng) | 1;
	} else if (r->cmd == LGUEST_SET_REGS) {
		fz_gen_regs(w, &w->buf.regs);
	} else if (r->cmd == LGUEST_IRQ) {
		w->buf.irq.irq = rnd(rng) % 4 ? rnd(rng) % LGUEST_NR_IRQS :
						rnd(rng);
		w->buf.irq.flags = rnd(rng) % 8 ? 0 : rnd(rng) | 1;
	} else if (r->cmd != LGUEST_GET_REGS) {
		r->want = -1;
		if (!(rnd(rng) % 8))
			fill_random(rng, &w->buf, 256);
	}
	if (r->cmd != LGUEST_GET_API_VERSION)
		r->arg = fz_pick_arg(w, _IOC_SIZE(r->cmd), &r->kind);
	/*
	 * What LGUEST_GET_REGS gives, LGUEST_SET_REGS must take: on the
	 * same guest, which fz_reopen() must not replace in between.
	 */
	if (r->cmd == LGUEST_GET_REGS && r->kind == ARG_BUF && rnd(rng) & 1)
		pinned = dup(fd);
	fz_ioctl(w, pinned >= 0 ? pinned : fd, r);
	if (pinned >= 0 && !r->why && !r->ret) {
		r->cmd = LGUEST_SET_REGS;
		fz_ioctl(w, pinned, r);
		if (r->ret < 0 && r->err == EINVAL)
			r->why = "LGUEST_SET_REGS refused LGUEST_GET_REGS's";
	}
	if (pinned >= 0)
		close(pinned);
	return !r->why;
}

static void fz_log_req(struct fz_worker *w, struct fz_req *r)
{
	struct lguest_init *in = &w->buf.init;
	char init[128] = "";

	if (r->cmd == LGUEST_INIT && r->kind == ARG_BUF)
		snprintf(init, sizeof(init), " {%#llx, %#llx, %#x, %#x, %#x}",
			 (unsigned long long)in->mem_addr,
			 (unsigned long long)in->mem_size, in->entry, in->cr3,
			 in->flags);
	fz_fail("ioctl %#x, %s arg %#lx%s = %d, errno %d (%s): %s",
		r->cmd, fz_arg_names[r->kind], r->arg, init, r->ret, r->err,
		strerror(r->err), r->why);
}

static int fz_child_fail(int *report, int check, unsigned int cmd, int ret)
{
	report[0] = cmd;
	report[1] = ret;
	report[2] = errno;
	return check;
}

/*
 * In a forked child: @fd is a guest of the parent, initialised if
 * @inited, and @shared one of the shared files.  Returns 0 or the number
 * of the check that failed.  No locks, no stdio: the parent has threads.
 */
static int fz_child(struct fz_worker *w, int fd, bool inited, int shared)
{
	static const unsigned int cmds[] = {
		LGUEST_GET_REGS, LGUEST_SET_REGS, LGUEST_IRQ, LGUEST_RUN,
		LGUEST_INIT,	/* last: uninitialised, it would be ours */
	};
	unsigned int i, n = ARRAY_SIZE(cmds) - !inited;
	struct fz_req r;
	int ret;

	w->rng = mix64(w->rng);		/* not the parent's next requests */
	ret = ioctl(fd, LGUEST_GET_API_VERSION, 0);
	if (ret != LGUEST_API_VERSION)
		return fz_child_fail(w->report, 1, LGUEST_GET_API_VERSION, ret);
	for (i = 0; i < n; i++) {
		memset(&w->buf, 0, sizeof(w->buf));
		ret = ioctl(fd, cmds[i], &w->buf);
		if (ret != -1 || errno != (inited ? EIO : EBADFD))
			return fz_child_fail(w->report, 2 + i, cmds[i], ret);
	}
	for (i = 0; i < CHILD_REQUESTS; i++) {
		if (!fz_request(w, shared, true, &r)) {
			errno = r.err;
			return fz_child_fail(w->report, 10, r.cmd, r.ret);
		}
	}
	return 0;
}

static void fz_fork(struct fz_worker *w, int shared)
{
	struct lguest_init init = {
		.mem_addr = (uintptr_t)fz.arena[0],
		.mem_size = REGION_PAGES * PAGE,
		.entry = 2 * PAGE,
	};
	int fd = open(LG_DEV, O_RDWR | O_CLOEXEC), status = 0;
	uint64_t end = now_ms() + 5000;
	bool inited;
	pid_t pid;

	if (fd < 0) {
		if (errno != ENOMEM)
			fz_fail("open %s: errno %d", LG_DEV, errno);
		return;
	}
	inited = !ioctl(fd, LGUEST_INIT, &init);
	if (!inited && errno != ENOMEM)
		fz_fail("a valid LGUEST_INIT: errno %d", errno);
	pid = fork();
	if (!pid)
		_exit(fz_child(w, fd, inited, shared));
	if (pid < 0)
		fz_fail("fork: errno %d", errno);
	while (pid > 0 && waitpid(pid, &status, WNOHANG) != pid) {
		if (now_ms() > end) {
			fz_fail("a forked child still ran after 5 s");
			kill(pid, SIGKILL);
			while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
				;
			break;
		}
		usleep(1000);
	}
	if (pid > 0 && !(WIFEXITED(status) && !WEXITSTATUS(status)))
		fz_fail("child%s: status %#x, check %d: %#x = %d, errno %d",
			inited ? "" : " (no guest)", status,
			WEXITSTATUS(status), w->report[0], w->report[1],
			w->report[2]);
	fz_inc(fz.forks);
	close(fd);
}

/* Put a new guest in place of a shared one, which threads may be using. */
static void fz_reopen(unsigned int slot)
{
	int fd = open(LG_DEV, O_RDWR | O_CLOEXEC);

	if (fd < 0) {
		if (errno != ENOMEM)
			fz_fail("open %s: errno %d", LG_DEV, errno);
		return;
	}
	if (dup3(fd, fz.fd[slot], O_CLOEXEC) < 0)
		fz_fail("dup3: errno %d", errno);
	close(fd);
	fz_inc(fz.reopens);
}

static void *fz_worker(void *arg)
{
	struct fz_worker *w = arg;
	unsigned int op, slot;
	struct fz_req r;
	unsigned long n;

	while (!__atomic_load_n(&fz.stop, __ATOMIC_RELAXED)) {
		n = fz_inc(fz.n);
		if (n > fz.iters || (!(n % 256) && now_ms() > fz.deadline_ms))
			break;
		fz_inc(fz.reqs);
		op = rnd(&w->rng) % 1024;
		slot = rnd(&w->rng) % NR_FDS;
		if (op < 2)
			fz_reopen(slot);
		else if (op < 4)	/* new code under running guests */
			fz_fill_arena(&w->rng, fz.arena[op & 1]);
		else if (op < 5)
			fz_fork(w, fz.fd[slot]);
		else if (!fz_request(w, fz.fd[slot], false, &r))
			fz_log_req(w, &r);
	}
	__atomic_store_n(&fz.stop, 1, __ATOMIC_RELAXED);
	fz_inc(fz.done);
	return NULL;
}

static void *fz_map(size_t size, int prot, int flags)
{
	return mmap(NULL, size, prot, MAP_ANONYMOUS | MAP_NORESERVE | flags,
		    -1, 0);
}

TEST_F_TIMEOUT(fuzz, dev_ioctl_fuzz, FUZZ_TIMEOUT)
{
	struct sigaction sa = { .sa_handler = on_signal };  /* no SA_RESTART */
	uint64_t rng = mix64(self->seed), start = now_ms();
	unsigned int i, started = 0;
	int before = lg_module_refcnt();
	char errs[256] = "";
	size_t len = 0;

	ASSERT_EQ(0, sigaction(SIGUSR1, &sa, NULL));
	fz.iters = env_u64("LGUEST_FUZZ_ITERS", 20000);
	fz.deadline_ms = self->deadline_ms;
	fz.ro = fz_map(PAGE, PROT_READ, MAP_PRIVATE);
	fz.hole = fz_map(3 * PAGE, PROT_READ, MAP_PRIVATE);
	ASSERT_TRUE(fz.ro != MAP_FAILED && fz.hole != MAP_FAILED);
	fz.hole += PAGE;	/* a hole between two mapped pages */
	ASSERT_EQ(0, munmap(fz.hole, PAGE));
	for (i = 0; i < NR_ARENAS; i++) {
		fz.arena[i] = fz_map(ARENA_SIZE, PROT_NONE, MAP_PRIVATE);
		ASSERT_TRUE(fz.arena[i] != MAP_FAILED);
		ASSERT_EQ(0, mprotect(fz.arena[i], REGION_PAGES * PAGE,
				      PROT_READ | PROT_WRITE));
		fz_fill_arena(&rng, fz.arena[i]);
	}
	for (i = 0; i < NR_FDS; i++) {
		fz.fd[i] = open(LG_DEV, O_RDWR | O_CLOEXEC);
		ASSERT_LE(0, fz.fd[i]);
	}
	for (i = 0; i < NR_THREADS; i++) {
		fz_w[i].rng = mix64(self->seed + 1 + i);
		fz_w[i].straddle = fz_map(2 * PAGE, PROT_READ | PROT_WRITE,
					  MAP_PRIVATE);
		fz_w[i].report = fz_map(PAGE, PROT_READ | PROT_WRITE,
					MAP_SHARED);
		ASSERT_TRUE(fz_w[i].straddle != MAP_FAILED &&
			    fz_w[i].report != MAP_FAILED);
		ASSERT_EQ(0, mprotect(fz_w[i].straddle + PAGE, PAGE,
				      PROT_NONE));
	}
	for (i = 0; i < NR_THREADS; i++, started++)
		if (pthread_create(&fz_w[i].tid, NULL, fz_worker, &fz_w[i]))
			break;
	if (started < NR_THREADS)
		__atomic_store_n(&fz.stop, 1, __ATOMIC_RELAXED);

	/* A thread in a halted or spinning guest comes back with EINTR. */
	while (__atomic_load_n(&fz.done, __ATOMIC_RELAXED) < started) {
		usleep(TICK_MS * 1000);
		for (i = 0; i < started; i++)
			pthread_kill(fz_w[i].tid, SIGUSR1);
	}
	for (i = 0; i < started; i++)
		pthread_join(fz_w[i].tid, NULL);
	for (i = 0; i < NR_FDS; i++)
		close(fz.fd[i]);

	for (i = 0; i < ARRAY_SIZE(fz.errs); i++)
		if (fz.errs[i] && len < sizeof(errs))
			len += snprintf(errs + len, sizeof(errs) - len,
					" %s %lu", strerrorname_np(i),
					fz.errs[i]);
	TH_LOG("%lu of %llu requests in %llu ms: %lu forks, %lu reopens",
	       fz.reqs, (unsigned long long)fz.iters,
	       (unsigned long long)(now_ms() - start), fz.forks, fz.reopens);
	TH_LOG("ioctls: %lu succeeded; failed:%s", fz.ok, errs);
	TH_LOG("LGUEST_RUN exits: hypercall %lu, shutdown %lu, dead %lu",
	       fz.exits[LGUEST_EXIT_HYPERCALL], fz.exits[LGUEST_EXIT_SHUTDOWN],
	       fz.exits[LGUEST_EXIT_DEAD]);
	ASSERT_EQ(NR_THREADS, started);
	ASSERT_EQ(0, fz.fail[0]) {
		TH_LOG("%s", fz.fail);
	}
	lg_assert_host_ok(_metadata);
	assert_refcnt(_metadata, before);
}

/* ---- tiny_guest_fuzz ---- */

#define USER_CODE	0x50000000u	/* random bytes, for CPL 3 */
#define USER_STACK	0x50010000u
#define RING1_CODE	0x50020000u	/* random bytes, for CPL 1 */
#define SCRATCH		0x60000000u	/* page tables to play with */
#define SCRATCH_PAGES	4096		/* at most 4 of them */
#define USER_ROUNDS	8
#define GUEST_MS	300		/* each guest's wall-clock budget */
#define MAX_EXITS	1000
#define EFLAGS_BAD	0x44500u	/* TF, DF, NT, AC */

static uint32_t fz_seed GUEST_DATA;	/* set before lg_vm_create() */
static uint32_t fz_user_gpa GUEST_DATA;	/* USER_CODE's page */
static uint32_t fz_state GUEST_DATA;
static struct lguest_data *fz_lgd GUEST_DATA;

static GUEST_CODE uint32_t g_rnd(void)
{
	uint32_t x = fz_state;

	x ^= x << 13;
	x ^= x >> 17;
	x ^= x << 5;
	fz_state = x;
	return x;
}

/* An argument: often one that means something to the host. */
static GUEST_CODE uint32_t g_arg(void)
{
	switch (g_rnd() % 8) {
	case 0:
		return g_rnd();
	case 1:
		return g_rnd() % lg_guest_info.mem_size;
	case 2:
		return (g_rnd() % lg_guest_info.mem_size) & LG_PAGE_MASK;
	case 3:
		return lg_guest_info.pgdir;
	case 4:
		return lg_guest_info.lguest_data;
	case 5:
		return USER_CODE + g_rnd() % (RING1_CODE + PAGE - USER_CODE);
	case 6:
		return 0 - g_rnd() % 0x800000;	/* the switcher's end */
	}
	return g_rnd() % 64;
}

/* A page whose mapping to change: mostly scratch, sometimes a used one. */
static GUEST_CODE uint32_t g_vaddr(void)
{
	switch (g_rnd() % 8) {
	case 0:
		return USER_CODE + g_rnd() % 3 * 0x10000;
	case 1:
		return g_arg() & LG_PAGE_MASK;
	}
	return SCRATCH + g_rnd() % SCRATCH_PAGES * PAGE;
}

static GUEST_CODE uint32_t g_pte(void)
{
	if (g_rnd() & 1)
		return g_rnd();
	return ((g_rnd() % lg_guest_info.mem_size) & LG_PAGE_MASK) |
	       (g_rnd() & 0x67);	/* P, RW, U, A, D */
}

static GUEST_CODE void g_fuzz_one(void)
{
	uint32_t va = g_arg(), x = g_rnd(), *pte;

	switch (g_rnd() % 9) {
	case 0:
		x = x % 4 ? x % 26 : LG_HCALL_TEST + x % 16;
		lg_hcall(x, va, g_arg(), g_arg(), g_arg());
		break;
	case 1:		/* a flat segment of any type, or anything */
		lg_hcall(LHCALL_LOAD_GDT_ENTRY, x % 4 ? x % 32 : g_rnd(),
			 x & 4 ? 0xffff : g_rnd(),
			 x & 8 ? g_rnd() : 0x00cf0000u | (g_rnd() & 0xff00), 0);
		break;
	case 2:		/* a gate to anywhere, of any type and DPL */
		lg_hcall(LHCALL_LOAD_IDT_ENTRY, x % 4 ? x >> 8 & 0xff : g_rnd(),
			 (x & 4 ? LG_KERNEL_CS : g_rnd()) << 16 | (va & 0xffff),
			 (va & 0xffff0000) | (g_rnd() & 0xef00), 0);
		break;
	case 3:
		lg_hcall(LHCALL_SET_PTE, x % 4 ? lg_guest_info.pgdir : va,
			 g_vaddr(), g_pte(), 0);
		break;
	case 4:
		lg_hcall(LHCALL_SET_PGD, x % 4 ? lg_guest_info.pgdir : va,
			 x & 4 ? x >> 8 & 1023 : g_rnd(), 0, 0);
		break;
	case 5:
		lg_hcall(LHCALL_SET_STACK, x % 4 ? LG_KERNEL_DS : x >> 16,
			 x & 4 ? lg_guest_info.trap_stack_top : va,
			 1 + (x >> 8) % 17, 0);	/* 17: too many */
		break;
	case 6:
	case 7:		/* change a mapping, then tell the host */
		va = g_vaddr();
		pte = guest_pte(va);
		if (!pte && va - SCRATCH < SCRATCH_PAGES * PAGE) {
			guest_map_page(va, PAGE, 0);
			pte = guest_pte(va);
		}
		if (pte)
			*pte = g_pte();
		lg_hcall(LHCALL_FLUSH_TLB, x & 1, 0, 0, 0);
		break;
	default:	/* through the asynchronous ring */
		if (!fz_lgd)
			break;
		x %= LHCALL_RING_SIZE;
		fz_lgd->hcalls[x].nr = g_rnd() % 26;
		fz_lgd->hcalls[x].arg1 = va;
		fz_lgd->hcalls[x].arg2 = g_arg();
		fz_lgd->hcalls[x].arg3 = g_arg();
		WRITE_ONCE(fz_lgd->hcall_status[x], 0);
		lg_hcall(LHCALL_FLUSH_ASYNC, 0, 0, 0, 0);
	}
}

/* From CPL 3: back to guest_fuzz(); from CPL 1: the guest is done. */
static GUEST_CODE void g_trap(struct lg_trap_frame *frame)
{
	if ((frame->cs & 3) != 3)
		GUEST_DONE();
	frame->eflags &= ~EFLAGS_BAD;	/* not for guest_fuzz() */
	guest_return_from_user(frame, frame->vector);
}

static GUEST_CODE void guest_fuzz(void)
{
	uint32_t *user = (uint32_t *)(uintptr_t)fz_user_gpa;
	uint32_t i, n;

	fz_state = fz_seed ? fz_seed : 1;
	if (g_rnd() & 1)
		fz_lgd = guest_lguest_init();
	guest_set_trap_stack();
	for (i = 0; i < 32; i++)
		guest_set_idt(i, g_trap, 0);
	guest_set_idt(0x80, g_trap, 3);

	n = g_rnd() % 64;
	for (i = 0; i < n; i++)
		g_fuzz_one();

	if (g_rnd() & 1) {
		GUEST_SYNC(1);
		i = RING1_CODE + (g_rnd() & 0xfff);
		asm volatile("jmp *%0" : : "r" (i));
	}
	GUEST_SYNC(3);
	guest_set_trap_stack();
	for (i = 0; i < USER_ROUNDS; i++) {
		guest_enter_user(USER_CODE + (g_rnd() & 0xfff),
				 USER_STACK + PAGE);
		for (n = 0; n < PAGE / 4; n++)	/* new code, written */
			user[n] = g_rnd();	/* through the identity map */
	}
}

enum { G_RING1, G_RING3, G_LAUNCHER, G_DEAD, G_DONE, G_ABORT, NR_G };

static void fz_timer(unsigned int ms)
{
	struct itimerval it = {
		.it_interval = { .tv_usec = ms * 1000 },
		.it_value = { .tv_usec = ms * 1000 },
	};

	setitimer(ITIMER_REAL, &it, NULL);
}

/* A page of random bytes at @va in the guest; returns its address. */
static uint32_t fz_random_page(struct lg_vm *vm, uint64_t *rng, uint32_t va,
			       uint32_t flags)
{
	uint32_t gpa = lg_vm_alloc_page(vm);

	fill_random(rng, lg_gpa2hva(vm, gpa), PAGE);
	lg_vm_map(vm, va, gpa, flags);
	return gpa;
}

/* Handle an exit; true when the guest is over, or @msg says what's bad. */
static bool fz_guest_exit(struct lg_vm *vm, uint64_t *rng, unsigned long *st,
			  char *msg, size_t size)
{
	char reason[LGUEST_REASON_LEN];

	if (vm->uc.cmd == UCALL_SYNC) {
		st[vm->uc.args[0] == 3 ? G_RING3 : G_RING1]++;
		return false;
	}
	if (vm->uc.cmd != UCALL_NONE) {	/* abort: say, an unwanted trap */
		st[vm->uc.cmd == UCALL_DONE ? G_DONE : G_ABORT]++;
		return true;
	}
	switch (vm->run.exit_reason) {
	case LGUEST_EXIT_MMIO:		/* not produced yet; a read's value */
		vm->run.mmio.data = rnd(rng);
		st[G_LAUNCHER]++;
		return false;
	case LGUEST_EXIT_HYPERCALL:
		vm->run.hypercall.ret = rnd(rng);
		fallthrough;
	case LGUEST_EXIT_SHUTDOWN:	/* the next run resumes it */
		st[G_LAUNCHER]++;
		return false;
	case LGUEST_EXIT_DEAD:
		break;
	default:
		snprintf(msg, size, "unexpected exit: %s", lg_exit_str(vm));
		return true;
	}
	st[G_DEAD]++;
	memcpy(reason, vm->run.dead.reason, sizeof(reason));
	if (!reason[0] || !memchr(reason, 0, sizeof(reason))) {
		snprintf(msg, size, "killed without a proper reason");
		return true;
	}
	/* Dead for good: the same exit again, with the same reason. */
	fz_timer(0);
	if (lg_vcpu_run(vm) || vm->run.exit_reason != LGUEST_EXIT_DEAD ||
	    strcmp(reason, vm->run.dead.reason))
		snprintf(msg, size, "killed (%s), then: %s", reason,
			 lg_exit_str(vm));
	return true;
}

/* Run one guest; false, with @msg saying why, if it was not sane. */
static bool fz_guest(uint64_t seed, unsigned long *st, char *msg, size_t size)
{
	uint64_t rng = mix64(seed), end;
	struct lguest_irq irq = { 0 };
	unsigned int exits;
	struct lg_vm *vm;
	int r;

	fz_seed = rnd(&rng);
	vm = lg_vm_create(0, guest_fuzz);
	fz_user_gpa = fz_random_page(vm, &rng, USER_CODE, LG_PTE_U);
	lg_sync_global_to_guest(vm, fz_user_gpa);
	fz_random_page(vm, &rng, RING1_CODE, LG_PTE_RW);
	lg_vm_map(vm, USER_STACK, lg_vm_alloc_page(vm), LG_PTE_U | LG_PTE_RW);

	msg[0] = '\0';
	end = now_ms() + GUEST_MS;
	fz_timer(TICK_MS);	/* SIGALRM: LGUEST_RUN returns EINTR */
	for (exits = 0; exits < MAX_EXITS && now_ms() < end; exits++) {
		irq.irq = rnd(&rng) % (4 * LGUEST_NR_IRQS);	/* 1 in 4 */
		if (irq.irq < LGUEST_NR_IRQS &&
		    ioctl(vm->fd, LGUEST_IRQ, &irq)) {
			snprintf(msg, size, "LGUEST_IRQ %u: %s", irq.irq,
				 strerror(errno));
			break;
		}
		r = lg_vcpu_run(vm);
		if (r == -EINTR && vm->run.exit_reason == LGUEST_EXIT_INTR)
			continue;
		if (r) {
			snprintf(msg, size, "LGUEST_RUN: %s (%s)",
				 strerror(-r), lg_exit_str(vm));
			break;
		}
		if (fz_guest_exit(vm, &rng, st, msg, size))
			break;
	}
	fz_timer(0);
	lg_vm_free(vm);
	return !msg[0];
}

TEST_F_TIMEOUT(fuzz, tiny_guest_fuzz, FUZZ_TIMEOUT)
{
	struct sigaction sa = { .sa_handler = on_signal };  /* no SA_RESTART */
	unsigned int g, n = env_u64("LGUEST_FUZZ_GUESTS", 50);
	unsigned long st[NR_G] = { 0 };
	int before = lg_module_refcnt();
	uint64_t seed;
	char msg[512];

	ASSERT_EQ(0, sigaction(SIGALRM, &sa, NULL));
	for (g = 0; g < n && now_ms() < self->deadline_ms; g++) {
		seed = self->seed + g;
		ASSERT_TRUE(fz_guest(seed, st, msg, sizeof(msg))) {
			TH_LOG("guest %u, LGUEST_FUZZ_SEED=%#llx: %s", g,
			       (unsigned long long)seed, msg);
		}
	}
	TH_LOG("%u of %u guests, %lu exits to the launcher", g, n,
	       st[G_LAUNCHER]);
	TH_LOG("reached random code at CPL 1: %lu, at CPL 3: %lu",
	       st[G_RING1], st[G_RING3]);
	TH_LOG("killed: %lu, done: %lu, guest assertion: %lu, others timed out",
	       st[G_DEAD], st[G_DONE], st[G_ABORT]);
	lg_assert_host_ok(_metadata);
	assert_refcnt(_metadata, before);
}

TEST_HARNESS_MAIN
