// SPDX-License-Identifier: GPL-2.0
/*
 * Tests of the /dev/lguest control interface: device node, ioctl argument
 * validation and the errno of every rejected request, initial and
 * round-tripped register state, ownership by the initialising process and
 * independence of guests on separate file descriptors.
 *
 * Running guests is not covered here.  All tests are skipped when
 * /dev/lguest does not exist.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/types.h>
#include <sys/wait.h>

#include <linux/lguest.h>

#include "../kselftest_harness.h"

#ifndef LG_DEV
#define LG_DEV		"/dev/lguest"
#endif
#define MISC_MAJOR	10

#define PAGE		0x1000u
#define MEM_SIZE	0x100000u	/* 1 MiB of guest memory */
#define ENTRY		0x1000u
#define CR3		0x2000u

/* The standard i386 Linux user segments: RPL 3. */
#define USER_CS		((14 * 8) | 3)
#define USER_DS		((15 * 8) | 3)

#define NR_THREADS	8
#define NR_REOPEN	200

/*
 * Issue an ioctl and return 0 if it succeeded, else the errno it failed
 * with, so that tests can write EXPECT_EQ(EINVAL, lg_err(...)).
 */
static int lg_err(int fd, unsigned long req, void *arg)
{
	errno = 0;
	if (ioctl(fd, req, arg) >= 0)
		return 0;
	return errno;
}

static void *map_mem(size_t size)
{
	return mmap(NULL, size, PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
}

static void fill_init(struct lguest_init *init, void *mem)
{
	memset(init, 0, sizeof(*init));
	init->mem_addr = (uintptr_t)mem;
	init->mem_size = MEM_SIZE;
	init->entry = ENTRY;
	init->cr3 = CR3;
}

/* Register state that LGUEST_SET_REGS must accept and return unchanged. */
static void fill_regs(struct lguest_regs *regs, const struct lguest_regs *old)
{
	*regs = *old;
	regs->eax = 0x11111111;
	regs->ebx = 0x22222222;
	regs->ecx = 0x33333333;
	regs->edx = 0x44444444;
	regs->esi = 0x55555555;
	regs->edi = 0x66666666;
	regs->ebp = 0x77777777;
	regs->esp = 0x0007fff0;
	regs->eip = 0x00003456;
	regs->eflags = LGUEST_EFLAGS_SETTABLE | LGUEST_EFLAGS_FIXED;
	regs->cr3 = 0x00005000;
}

static void expect_regs_eq(struct __test_metadata *_metadata,
			   const struct lguest_regs *a,
			   const struct lguest_regs *b)
{
	EXPECT_EQ(a->eax, b->eax);
	EXPECT_EQ(a->ebx, b->ebx);
	EXPECT_EQ(a->ecx, b->ecx);
	EXPECT_EQ(a->edx, b->edx);
	EXPECT_EQ(a->esi, b->esi);
	EXPECT_EQ(a->edi, b->edi);
	EXPECT_EQ(a->ebp, b->ebp);
	EXPECT_EQ(a->esp, b->esp);
	EXPECT_EQ(a->eip, b->eip);
	EXPECT_EQ(a->eflags, b->eflags);
	EXPECT_EQ(a->cs, b->cs);
	EXPECT_EQ(a->ss, b->ss);
	EXPECT_EQ(a->ds, b->ds);
	EXPECT_EQ(a->es, b->es);
	EXPECT_EQ(a->fs, b->fs);
	EXPECT_EQ(a->gs, b->gs);
	EXPECT_EQ(a->cr2, b->cr2);
	EXPECT_EQ(a->cr3, b->cr3);
	EXPECT_EQ(a->trapnum, b->trapnum);
	EXPECT_EQ(a->errcode, b->errcode);
}

/*
 * A rejected LGUEST_INIT must leave the file uninitialised: a valid
 * LGUEST_INIT still succeeds afterwards and the guest starts from it.
 */
static void expect_init_still_possible(struct __test_metadata *_metadata,
				       int fd, void *mem)
{
	struct lguest_init init;
	struct lguest_regs regs;

	fill_init(&init, mem);
	ASSERT_EQ(0, lg_err(fd, LGUEST_INIT, &init));
	ASSERT_EQ(0, lg_err(fd, LGUEST_GET_REGS, &regs));
	EXPECT_EQ(ENTRY, regs.eip);
	EXPECT_EQ(CR3, regs.cr3);
}

/* Open /dev/lguest, or return -1 with errno set. */
static int lg_open(void)
{
	return open(LG_DEV, O_RDWR | O_CLOEXEC);
}

/* An open, not yet initialised /dev/lguest and 1 MiB of guest memory. */
FIXTURE(lg_dev) {
	int fd;
	void *mem;
};

FIXTURE_SETUP(lg_dev)
{
	self->fd = -1;
	self->mem = map_mem(MEM_SIZE);
	ASSERT_TRUE(self->mem != MAP_FAILED);

	self->fd = lg_open();
	if (self->fd < 0 && errno == ENOENT)
		SKIP(return, LG_DEV " does not exist (lg.ko not loaded?)");
	ASSERT_LE(0, self->fd) {
		TH_LOG("open %s: %s", LG_DEV, strerror(errno));
	}
}

FIXTURE_TEARDOWN(lg_dev)
{
	if (self->fd >= 0)
		close(self->fd);
	munmap(self->mem, MEM_SIZE);
}

/* Like lg_dev, but LGUEST_INIT has been done with ENTRY and CR3. */
FIXTURE(lg_guest) {
	int fd;
	void *mem;
	struct lguest_regs regs;	/* state right after LGUEST_INIT */
};

FIXTURE_SETUP(lg_guest)
{
	struct lguest_init init;

	self->fd = -1;
	self->mem = map_mem(MEM_SIZE);
	ASSERT_TRUE(self->mem != MAP_FAILED);

	self->fd = lg_open();
	if (self->fd < 0 && errno == ENOENT)
		SKIP(return, LG_DEV " does not exist (lg.ko not loaded?)");
	ASSERT_LE(0, self->fd) {
		TH_LOG("open %s: %s", LG_DEV, strerror(errno));
	}

	fill_init(&init, self->mem);
	ASSERT_EQ(0, lg_err(self->fd, LGUEST_INIT, &init));
	ASSERT_EQ(0, lg_err(self->fd, LGUEST_GET_REGS, &self->regs));
}

FIXTURE_TEARDOWN(lg_guest)
{
	if (self->fd >= 0)
		close(self->fd);
	munmap(self->mem, MEM_SIZE);
}

/* /dev/lguest is a character device of the misc major. */
TEST(dev_is_char_device)
{
	struct stat st;

	if (stat(LG_DEV, &st) && errno == ENOENT)
		SKIP(return, LG_DEV " does not exist (lg.ko not loaded?)");
	ASSERT_EQ(0, stat(LG_DEV, &st));
	EXPECT_TRUE(S_ISCHR(st.st_mode));
	EXPECT_EQ(MISC_MAJOR, major(st.st_rdev));
}

TEST_F(lg_dev, api_version)
{
	errno = 0;
	EXPECT_EQ(LGUEST_API_VERSION,
		  ioctl(self->fd, LGUEST_GET_API_VERSION, 0UL)) {
		TH_LOG("errno %d (%s)", errno, strerror(errno));
	}
}

TEST_F(lg_dev, api_version_nonzero_arg)
{
	EXPECT_EQ(EINVAL, lg_err(self->fd, LGUEST_GET_API_VERSION, (void *)1));
	EXPECT_EQ(EINVAL, lg_err(self->fd, LGUEST_GET_API_VERSION, self->mem));
}

TEST_F(lg_guest, api_version_after_init)
{
	EXPECT_EQ(LGUEST_API_VERSION,
		  ioctl(self->fd, LGUEST_GET_API_VERSION, 0UL));
}

/* Everything but LGUEST_GET_API_VERSION needs LGUEST_INIT first. */
TEST_F(lg_dev, ioctls_before_init_ebadfd)
{
	struct lguest_regs regs;
	struct lguest_irq irq = { .irq = 0 };
	struct lguest_run run;

	memset(&regs, 0, sizeof(regs));
	memset(&run, 0, sizeof(run));
	EXPECT_EQ(EBADFD, lg_err(self->fd, LGUEST_GET_REGS, &regs));

	regs.eip = ENTRY;
	regs.eflags = LGUEST_EFLAGS_FIXED;
	regs.cs = LGUEST_KERNEL_CS;
	regs.ss = LGUEST_KERNEL_DS;
	regs.ds = LGUEST_KERNEL_DS;
	regs.es = LGUEST_KERNEL_DS;
	regs.cr3 = CR3;
	EXPECT_EQ(EBADFD, lg_err(self->fd, LGUEST_SET_REGS, &regs));
	EXPECT_EQ(EBADFD, lg_err(self->fd, LGUEST_IRQ, &irq));
	EXPECT_EQ(EBADFD, lg_err(self->fd, LGUEST_RUN, &run));
}

/* The register state right after LGUEST_INIT. */
TEST_F(lg_dev, init_sets_initial_regs)
{
	struct lguest_init init;
	struct lguest_regs regs;

	fill_init(&init, self->mem);
	init.entry = 0x12345;
	init.cr3 = 0x7000;
	ASSERT_EQ(0, lg_err(self->fd, LGUEST_INIT, &init));

	memset(&regs, 0xa5, sizeof(regs));
	ASSERT_EQ(0, lg_err(self->fd, LGUEST_GET_REGS, &regs));
	EXPECT_EQ(0x12345, regs.eip);
	EXPECT_EQ(LGUEST_KERNEL_CS, regs.cs);
	EXPECT_EQ(LGUEST_KERNEL_DS, regs.ds);
	EXPECT_EQ(LGUEST_KERNEL_DS, regs.es);
	EXPECT_EQ(LGUEST_KERNEL_DS, regs.ss);
	EXPECT_EQ(LGUEST_EFLAGS_FIXED, regs.eflags);
	EXPECT_EQ(0x7000, regs.cr3);
}

/* The last byte and the last page of guest memory are valid. */
TEST_F(lg_dev, init_boundaries)
{
	struct lguest_init init;
	struct lguest_regs regs;

	fill_init(&init, self->mem);
	init.entry = MEM_SIZE - 1;
	init.cr3 = MEM_SIZE - PAGE;
	ASSERT_EQ(0, lg_err(self->fd, LGUEST_INIT, &init));
	ASSERT_EQ(0, lg_err(self->fd, LGUEST_GET_REGS, &regs));
	EXPECT_EQ(MEM_SIZE - 1, regs.eip);
	EXPECT_EQ(MEM_SIZE - PAGE, regs.cr3);
}

/* Exactly LGUEST_MAX_MEM_SIZE is allowed (the E2BIG limit is inclusive). */
TEST_F(lg_dev, init_max_mem_size)
{
	struct lguest_init init;
	void *big;

	big = map_mem(LGUEST_MAX_MEM_SIZE);
	if (big == MAP_FAILED)
		SKIP(return, "cannot reserve %llu bytes of address space",
		     (unsigned long long)LGUEST_MAX_MEM_SIZE);

	fill_init(&init, big);
	init.mem_size = LGUEST_MAX_MEM_SIZE;
	EXPECT_EQ(0, lg_err(self->fd, LGUEST_INIT, &init));
	close(self->fd);
	self->fd = -1;
	munmap(big, LGUEST_MAX_MEM_SIZE);
}

TEST_F(lg_dev, init_flags_nonzero)
{
	struct lguest_init init;

	fill_init(&init, self->mem);
	init.flags = 1;
	EXPECT_EQ(EINVAL, lg_err(self->fd, LGUEST_INIT, &init));
	init.flags = 0x80000000;
	EXPECT_EQ(EINVAL, lg_err(self->fd, LGUEST_INIT, &init));

	expect_init_still_possible(_metadata, self->fd, self->mem);
}

TEST_F(lg_dev, init_reserved_nonzero)
{
	struct lguest_init init;
	int i;

	for (i = 0; i < ARRAY_SIZE(init.reserved); i++) {
		fill_init(&init, self->mem);
		init.reserved[i] = 1;
		EXPECT_EQ(EINVAL, lg_err(self->fd, LGUEST_INIT, &init)) {
			TH_LOG("reserved[%d] = 1", i);
		}
	}

	expect_init_still_possible(_metadata, self->fd, self->mem);
}

TEST_F(lg_dev, init_misaligned_mem)
{
	static const unsigned int offsets[] = { 1, 8, PAGE / 2, PAGE - 1 };
	struct lguest_init init;
	int i;

	for (i = 0; i < ARRAY_SIZE(offsets); i++) {
		fill_init(&init, self->mem);
		init.mem_addr += offsets[i];
		init.mem_size = MEM_SIZE / 2;
		EXPECT_EQ(EINVAL, lg_err(self->fd, LGUEST_INIT, &init)) {
			TH_LOG("mem_addr offset %#x", offsets[i]);
		}
	}

	expect_init_still_possible(_metadata, self->fd, self->mem);
}

TEST_F(lg_dev, init_zero_size)
{
	struct lguest_init init;

	fill_init(&init, self->mem);
	init.mem_size = 0;
	init.entry = 0;
	init.cr3 = 0;
	EXPECT_EQ(EINVAL, lg_err(self->fd, LGUEST_INIT, &init));

	expect_init_still_possible(_metadata, self->fd, self->mem);
}

TEST_F(lg_dev, init_size_not_page_multiple)
{
	static const unsigned int sizes[] = {
		1, PAGE - 1, PAGE + 1, 3 * PAGE / 2, MEM_SIZE - 1,
	};
	struct lguest_init init;
	int i;

	for (i = 0; i < ARRAY_SIZE(sizes); i++) {
		fill_init(&init, self->mem);
		init.mem_size = sizes[i];
		init.entry = 0;
		init.cr3 = 0;
		EXPECT_EQ(EINVAL, lg_err(self->fd, LGUEST_INIT, &init)) {
			TH_LOG("mem_size %#x", sizes[i]);
		}
	}

	expect_init_still_possible(_metadata, self->fd, self->mem);
}

/*
 * Sizes above LGUEST_MAX_MEM_SIZE.  The region is placed low (at 16 MiB)
 * so that it stays inside the user address space and E2BIG is the only
 * applicable error.
 */
TEST_F(lg_dev, init_too_big)
{
	static const unsigned long long sizes[] = {
		LGUEST_MAX_MEM_SIZE + PAGE, 2 * LGUEST_MAX_MEM_SIZE,
	};
	struct lguest_init init;
	int i;

	for (i = 0; i < ARRAY_SIZE(sizes); i++) {
		fill_init(&init, self->mem);
		init.mem_addr = 0x01000000;
		init.mem_size = sizes[i];
		EXPECT_EQ(E2BIG, lg_err(self->fd, LGUEST_INIT, &init)) {
			TH_LOG("mem_size %#llx", sizes[i]);
		}
	}

	expect_init_still_possible(_metadata, self->fd, self->mem);
}

/* Regions that wrap around or leave the (32-bit) user address space. */
TEST_F(lg_dev, init_overflowing_region)
{
	static const struct {
		unsigned long long addr, size;
	} bad[] = {
		{ 0xfffff000ULL, 2 * PAGE },		/* wraps 32 bits */
		{ 0xfffff000ULL, PAGE },		/* ends at 4 GiB */
		{ 0x100000000ULL, PAGE },		/* above 4 GiB */
		{ 0xfffffffffffff000ULL, 2 * PAGE },	/* wraps 64 bits */
		{ 0xfffffffffffff000ULL, PAGE },	/* ends at 2^64 */
	};
	struct lguest_init init;
	int i;

	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		fill_init(&init, self->mem);
		init.mem_addr = bad[i].addr;
		init.mem_size = bad[i].size;
		init.entry = 0;
		init.cr3 = 0;
		EXPECT_EQ(EOVERFLOW, lg_err(self->fd, LGUEST_INIT, &init)) {
			TH_LOG("mem_addr %#llx mem_size %#llx",
			       bad[i].addr, bad[i].size);
		}
	}

	expect_init_still_possible(_metadata, self->fd, self->mem);
}

TEST_F(lg_dev, init_entry_outside_memory)
{
	static const unsigned int entries[] = {
		MEM_SIZE, MEM_SIZE + 1, MEM_SIZE + PAGE, 0xffffffff,
	};
	struct lguest_init init;
	int i;

	for (i = 0; i < ARRAY_SIZE(entries); i++) {
		fill_init(&init, self->mem);
		init.entry = entries[i];
		EXPECT_EQ(EINVAL, lg_err(self->fd, LGUEST_INIT, &init)) {
			TH_LOG("entry %#x", entries[i]);
		}
	}

	expect_init_still_possible(_metadata, self->fd, self->mem);
}

TEST_F(lg_dev, init_cr3_misaligned)
{
	static const unsigned int cr3s[] = { CR3 + 1, CR3 + 4, CR3 + PAGE / 2 };
	struct lguest_init init;
	int i;

	for (i = 0; i < ARRAY_SIZE(cr3s); i++) {
		fill_init(&init, self->mem);
		init.cr3 = cr3s[i];
		EXPECT_EQ(EINVAL, lg_err(self->fd, LGUEST_INIT, &init)) {
			TH_LOG("cr3 %#x", cr3s[i]);
		}
	}

	expect_init_still_possible(_metadata, self->fd, self->mem);
}

TEST_F(lg_dev, init_cr3_outside_memory)
{
	static const unsigned int cr3s[] = {
		MEM_SIZE, MEM_SIZE + PAGE, 0xfffff000,
	};
	struct lguest_init init;
	int i;

	for (i = 0; i < ARRAY_SIZE(cr3s); i++) {
		fill_init(&init, self->mem);
		init.cr3 = cr3s[i];
		EXPECT_EQ(EINVAL, lg_err(self->fd, LGUEST_INIT, &init)) {
			TH_LOG("cr3 %#x", cr3s[i]);
		}
	}

	expect_init_still_possible(_metadata, self->fd, self->mem);
}

/* A second LGUEST_INIT fails and leaves the first guest untouched. */
TEST_F(lg_guest, init_twice)
{
	struct lguest_init init;
	struct lguest_regs regs;

	fill_init(&init, self->mem);
	EXPECT_EQ(EEXIST, lg_err(self->fd, LGUEST_INIT, &init));

	init.entry = 0x4000;
	init.cr3 = 0x8000;
	EXPECT_EQ(EEXIST, lg_err(self->fd, LGUEST_INIT, &init));

	ASSERT_EQ(0, lg_err(self->fd, LGUEST_GET_REGS, &regs));
	EXPECT_EQ(ENTRY, regs.eip);
	EXPECT_EQ(CR3, regs.cr3);
}

TEST_F(lg_dev, init_bad_pointer)
{
	struct lguest_init init;
	char *pages, *p;

	EXPECT_EQ(EFAULT, lg_err(self->fd, LGUEST_INIT, NULL));

	/* Two pages; the second is inaccessible. */
	pages = mmap(NULL, 2 * PAGE, PROT_READ | PROT_WRITE,
		     MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_TRUE(pages != MAP_FAILED);
	ASSERT_EQ(0, mprotect(pages + PAGE, PAGE, PROT_NONE));

	EXPECT_EQ(EFAULT, lg_err(self->fd, LGUEST_INIT, pages + PAGE));

	/* A valid structure whose tail lies in the inaccessible page. */
	fill_init(&init, self->mem);
	p = pages + PAGE - sizeof(init) / 2;
	memcpy(p, &init, sizeof(init) / 2);
	EXPECT_EQ(EFAULT, lg_err(self->fd, LGUEST_INIT, p));

	munmap(pages, 2 * PAGE);

	expect_init_still_possible(_metadata, self->fd, self->mem);
}

/*
 * LGUEST_INIT's number with the wrong size or direction.  The buffer holds
 * a valid struct lguest_init (followed by zeroes), so only the encoded
 * size/direction makes the request invalid.
 */
TEST_F(lg_dev, init_wrong_size_or_direction)
{
	const unsigned long reqs[] = {
		_IOC(_IOC_WRITE, LGUEST_IOC_MAGIC, 0x01,
		     sizeof(struct lguest_init) - 4),
		_IOC(_IOC_WRITE, LGUEST_IOC_MAGIC, 0x01,
		     sizeof(struct lguest_init) + 4),
		_IOC(_IOC_READ | _IOC_WRITE, LGUEST_IOC_MAGIC, 0x01,
		     sizeof(struct lguest_init)),
		_IOC(_IOC_NONE, LGUEST_IOC_MAGIC, 0x01, 0),
	};
	union {
		struct lguest_init init;
		char buf[512];
	} arg;
	int i;

	for (i = 0; i < ARRAY_SIZE(reqs); i++) {
		memset(&arg, 0, sizeof(arg));
		fill_init(&arg.init, self->mem);
		EXPECT_EQ(EINVAL, lg_err(self->fd, reqs[i], &arg)) {
			TH_LOG("request %#lx", reqs[i]);
		}
	}

	expect_init_still_possible(_metadata, self->fd, self->mem);
}

/*
 * Every other known request number with the wrong size or direction, on
 * an initialised guest, with valid contents in a large enough buffer.
 */
TEST_F(lg_guest, wrong_size_or_direction)
{
	const unsigned long reqs[] = {
		_IOR(LGUEST_IOC_MAGIC, 0x00, __u32),
		_IOW(LGUEST_IOC_MAGIC, 0x00, __u32),
		_IOC(_IOC_READ, LGUEST_IOC_MAGIC, 0x03,
		     sizeof(struct lguest_regs) - 4),
		_IOC(_IOC_READ, LGUEST_IOC_MAGIC, 0x03,
		     sizeof(struct lguest_regs) + 4),
		_IOC(_IOC_WRITE, LGUEST_IOC_MAGIC, 0x03,
		     sizeof(struct lguest_regs)),
		_IOC(_IOC_WRITE, LGUEST_IOC_MAGIC, 0x04,
		     sizeof(struct lguest_regs) - 4),
		_IOC(_IOC_WRITE, LGUEST_IOC_MAGIC, 0x04,
		     sizeof(struct lguest_regs) + 4),
		_IOC(_IOC_READ, LGUEST_IOC_MAGIC, 0x04,
		     sizeof(struct lguest_regs)),
		_IOC(_IOC_WRITE, LGUEST_IOC_MAGIC, 0x05,
		     sizeof(struct lguest_irq) - 4),
		_IOC(_IOC_WRITE, LGUEST_IOC_MAGIC, 0x05,
		     sizeof(struct lguest_irq) + 4),
		_IOC(_IOC_READ | _IOC_WRITE, LGUEST_IOC_MAGIC, 0x05,
		     sizeof(struct lguest_irq)),
		_IOC(_IOC_READ | _IOC_WRITE, LGUEST_IOC_MAGIC, 0x02,
		     sizeof(struct lguest_run) - 4),
		_IOC(_IOC_READ | _IOC_WRITE, LGUEST_IOC_MAGIC, 0x02,
		     sizeof(struct lguest_run) + 4),
		_IOC(_IOC_WRITE, LGUEST_IOC_MAGIC, 0x02,
		     sizeof(struct lguest_run)),
	};
	union {
		struct lguest_regs regs;
		struct lguest_irq irq;
		struct lguest_run run;
		char buf[1024];
	} arg;
	struct lguest_regs regs;
	int i;

	for (i = 0; i < ARRAY_SIZE(reqs); i++) {
		memset(&arg, 0, sizeof(arg));
		switch (_IOC_NR(reqs[i])) {
		case 0x03:
		case 0x04:
			arg.regs = self->regs;
			break;
		case 0x05:
			arg.irq.irq = 1;
			break;
		}
		/* LGUEST_GET_API_VERSION's argument must be 0. */
		EXPECT_EQ(EINVAL, lg_err(self->fd, reqs[i],
					 _IOC_NR(reqs[i]) ? &arg : NULL)) {
			TH_LOG("request %#lx", reqs[i]);
		}
	}

	/* The guest is still usable and unchanged. */
	ASSERT_EQ(0, lg_err(self->fd, LGUEST_GET_REGS, &regs));
	expect_regs_eq(_metadata, &self->regs, &regs);
}

TEST_F(lg_guest, unknown_ioctl)
{
	const unsigned long reqs[] = {
		_IO(LGUEST_IOC_MAGIC, 0x09),
		_IOWR(LGUEST_IOC_MAGIC, 0x09, struct lguest_run),
		_IO(LGUEST_IOC_MAGIC, 0x7f),
		_IOR(LGUEST_IOC_MAGIC, 0xff, __u32),
		/* Known numbers and sizes, but the wrong magic. */
		_IO(LGUEST_IOC_MAGIC + 1, 0x00),
		_IOR(LGUEST_IOC_MAGIC + 1, 0x03, struct lguest_regs),
		_IOW(LGUEST_IOC_MAGIC - 1, 0x05, struct lguest_irq),
		_IO(0, 0),
		TCGETS,
	};
	char buf[1024];
	int i;

	for (i = 0; i < ARRAY_SIZE(reqs); i++) {
		memset(buf, 0, sizeof(buf));
		EXPECT_EQ(ENOTTY, lg_err(self->fd, reqs[i], buf)) {
			TH_LOG("request %#lx", reqs[i]);
		}
	}
	EXPECT_FALSE(isatty(self->fd));
}

TEST_F(lg_guest, get_regs_bad_pointer)
{
	void *ro;

	EXPECT_EQ(EFAULT, lg_err(self->fd, LGUEST_GET_REGS, NULL));

	ro = mmap(NULL, PAGE, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_TRUE(ro != MAP_FAILED);
	EXPECT_EQ(EFAULT, lg_err(self->fd, LGUEST_GET_REGS, ro));
	munmap(ro, PAGE);
	EXPECT_EQ(EFAULT, lg_err(self->fd, LGUEST_GET_REGS, ro));
}

/* Valid register values come back unchanged from LGUEST_GET_REGS. */
TEST_F(lg_guest, set_regs_roundtrip)
{
	struct lguest_regs set, get;

	fill_regs(&set, &self->regs);
	ASSERT_EQ(0, lg_err(self->fd, LGUEST_SET_REGS, &set));
	memset(&get, 0, sizeof(get));
	ASSERT_EQ(0, lg_err(self->fd, LGUEST_GET_REGS, &get));
	expect_regs_eq(_metadata, &set, &get);

	/* And back: all settable flags clear, another page directory. */
	set.eflags = LGUEST_EFLAGS_FIXED;
	set.cr3 = 0;
	set.eax = 0;
	set.eip = 0;
	ASSERT_EQ(0, lg_err(self->fd, LGUEST_SET_REGS, &set));
	ASSERT_EQ(0, lg_err(self->fd, LGUEST_GET_REGS, &get));
	expect_regs_eq(_metadata, &set, &get);
}

/* cr2, trapnum and errcode are output only. */
TEST_F(lg_guest, set_regs_ignores_cr2_trapnum_errcode)
{
	struct lguest_regs set, get;

	fill_regs(&set, &self->regs);
	set.cr2 = self->regs.cr2 ^ 0xdead0000;
	set.trapnum = self->regs.trapnum ^ 0x0e;
	set.errcode = self->regs.errcode ^ 0x7;
	ASSERT_EQ(0, lg_err(self->fd, LGUEST_SET_REGS, &set));
	ASSERT_EQ(0, lg_err(self->fd, LGUEST_GET_REGS, &get));
	EXPECT_EQ(self->regs.cr2, get.cr2);
	EXPECT_EQ(self->regs.trapnum, get.trapnum);
	EXPECT_EQ(self->regs.errcode, get.errcode);
	/* The rest was applied. */
	EXPECT_EQ(set.eax, get.eax);
	EXPECT_EQ(set.eip, get.eip);
	EXPECT_EQ(set.cr3, get.cr3);
}

/* A user-mode (RPL 3) code segment is accepted. */
TEST_F(lg_guest, set_regs_user_cs)
{
	struct lguest_regs set, get;

	fill_regs(&set, &self->regs);
	set.cs = USER_CS;
	set.ss = USER_DS;
	set.ds = USER_DS;
	set.es = USER_DS;
	ASSERT_EQ(0, lg_err(self->fd, LGUEST_SET_REGS, &set));
	ASSERT_EQ(0, lg_err(self->fd, LGUEST_GET_REGS, &get));
	EXPECT_EQ(USER_CS, get.cs);
	EXPECT_EQ(USER_DS, get.ss);
}

TEST_F(lg_guest, set_regs_reserved_nonzero)
{
	struct lguest_regs set, get;
	int i;

	for (i = 0; i < ARRAY_SIZE(set.reserved); i++) {
		fill_regs(&set, &self->regs);
		set.reserved[i] = 1;
		EXPECT_EQ(EINVAL, lg_err(self->fd, LGUEST_SET_REGS, &set)) {
			TH_LOG("reserved[%d] = 1", i);
		}
	}
	ASSERT_EQ(0, lg_err(self->fd, LGUEST_GET_REGS, &get));
	expect_regs_eq(_metadata, &self->regs, &get);
}

TEST_F(lg_guest, set_regs_bad_eflags)
{
	static const unsigned int bad[] = {
		0,						/* no bit 1 */
		LGUEST_EFLAGS_SETTABLE,				/* no bit 1 */
		LGUEST_EFLAGS_FIXED | 0x00000200,		/* IF */
		LGUEST_EFLAGS_FIXED | 0x00001000,		/* IOPL 1 */
		LGUEST_EFLAGS_FIXED | 0x00003000,		/* IOPL 3 */
		LGUEST_EFLAGS_FIXED | 0x00010000,		/* RF */
		LGUEST_EFLAGS_FIXED | 0x00020000,		/* VM */
		LGUEST_EFLAGS_FIXED | 0x00080000,		/* VIF */
		LGUEST_EFLAGS_FIXED | 0x00100000,		/* VIP */
		LGUEST_EFLAGS_FIXED | 0x00000008,		/* reserved */
		LGUEST_EFLAGS_FIXED | 0x80000000,		/* reserved */
		0xffffffff,
	};
	struct lguest_regs set, get;
	int i;

	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		fill_regs(&set, &self->regs);
		set.eflags = bad[i];
		EXPECT_EQ(EINVAL, lg_err(self->fd, LGUEST_SET_REGS, &set)) {
			TH_LOG("eflags %#x", bad[i]);
		}
	}
	ASSERT_EQ(0, lg_err(self->fd, LGUEST_GET_REGS, &get));
	expect_regs_eq(_metadata, &self->regs, &get);
}

/*
 * Every single eflags bit on top of bit 1: accepted and read back iff it
 * is in LGUEST_EFLAGS_SETTABLE.
 */
TEST_F(lg_guest, set_regs_eflags_bits)
{
	struct lguest_regs set, get;
	unsigned int bit, flags;

	for (bit = 0; bit < 32; bit++) {
		flags = LGUEST_EFLAGS_FIXED | (1u << bit);
		fill_regs(&set, &self->regs);
		set.eflags = flags;
		if (flags & ~(LGUEST_EFLAGS_SETTABLE | LGUEST_EFLAGS_FIXED)) {
			EXPECT_EQ(EINVAL,
				  lg_err(self->fd, LGUEST_SET_REGS, &set)) {
				TH_LOG("eflags %#x", flags);
			}
			continue;
		}
		ASSERT_EQ(0, lg_err(self->fd, LGUEST_SET_REGS, &set)) {
			TH_LOG("eflags %#x", flags);
		}
		ASSERT_EQ(0, lg_err(self->fd, LGUEST_GET_REGS, &get));
		EXPECT_EQ(flags, get.eflags);
	}
}

/* cs must be a non-null selector of ss's ring, and never ring 0. */
TEST_F(lg_guest, set_regs_bad_cs)
{
	static const unsigned int bad[] = {
		0,				/* null selector */
		1,				/* null selector, RPL 1 */
		3,				/* null selector, RPL 3 */
		LGUEST_KERNEL_CS & ~3,		/* RPL 0: host privilege */
		(LGUEST_KERNEL_CS & ~3) | 2,	/* RPL 2, ss at RPL 1 */
		USER_CS & ~3,			/* user descriptor at RPL 0 */
		USER_CS,			/* RPL 3, ss at RPL 1 */
		0x10000 | LGUEST_KERNEL_CS,	/* not a 16-bit selector */
	};
	struct lguest_regs set, get;
	int i;

	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		fill_regs(&set, &self->regs);
		set.cs = bad[i];
		EXPECT_EQ(EINVAL, lg_err(self->fd, LGUEST_SET_REGS, &set)) {
			TH_LOG("cs %#x", bad[i]);
		}
	}
	ASSERT_EQ(0, lg_err(self->fd, LGUEST_GET_REGS, &get));
	expect_regs_eq(_metadata, &self->regs, &get);
}

/*
 * A guest can run on code segments of its own making, in ring 1, 2 or 3,
 * and the launcher must be able to restore it there: any pair of non-null
 * selectors of one ring but 0 is accepted (whether the descriptors load
 * is the switcher's business; a guest with bad ones is killed).
 */
TEST_F(lg_guest, set_regs_cs_ss_any_ring_but_0)
{
	static const struct {
		unsigned int cs, ss;
	} good[] = {
		{ LGUEST_KERNEL_DS, LGUEST_KERNEL_DS },	/* data as code */
		{ (1 * 8) | 1, (2 * 8) | 1 },		/* other descriptors */
		{ (20 * 8) | 2, (21 * 8) | 2 },		/* ring 2 */
		{ (20 * 8) | 2 | 4, (21 * 8) | 2 | 4 },	/* LDT, ring 2 */
	};
	struct lguest_regs set, get;
	int i;

	for (i = 0; i < ARRAY_SIZE(good); i++) {
		fill_regs(&set, &self->regs);
		set.cs = good[i].cs;
		set.ss = good[i].ss;
		EXPECT_EQ(0, lg_err(self->fd, LGUEST_SET_REGS, &set)) {
			TH_LOG("cs %#x ss %#x", good[i].cs, good[i].ss);
		}
		ASSERT_EQ(0, lg_err(self->fd, LGUEST_GET_REGS, &get));
		EXPECT_EQ(good[i].cs, get.cs);
		EXPECT_EQ(good[i].ss, get.ss);
	}
}

TEST_F(lg_guest, set_regs_bad_cr3)
{
	static const unsigned int bad[] = {
		CR3 + 1, CR3 + 0x800, MEM_SIZE, MEM_SIZE + PAGE, 0xfffff000,
	};
	struct lguest_regs set, get;
	int i;

	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		fill_regs(&set, &self->regs);
		set.cr3 = bad[i];
		EXPECT_EQ(EINVAL, lg_err(self->fd, LGUEST_SET_REGS, &set)) {
			TH_LOG("cr3 %#x", bad[i]);
		}
	}
	ASSERT_EQ(0, lg_err(self->fd, LGUEST_GET_REGS, &get));
	expect_regs_eq(_metadata, &self->regs, &get);
}

TEST_F(lg_guest, set_regs_bad_pointer)
{
	struct lguest_regs regs;
	char *pages, *p;

	EXPECT_EQ(EFAULT, lg_err(self->fd, LGUEST_SET_REGS, NULL));

	pages = mmap(NULL, 2 * PAGE, PROT_READ | PROT_WRITE,
		     MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_TRUE(pages != MAP_FAILED);
	ASSERT_EQ(0, mprotect(pages + PAGE, PAGE, PROT_NONE));

	/* Valid registers whose tail lies in an inaccessible page. */
	fill_regs(&regs, &self->regs);
	p = pages + PAGE - offsetof(struct lguest_regs, cr2);
	memcpy(p, &regs, offsetof(struct lguest_regs, cr2));
	EXPECT_EQ(EFAULT, lg_err(self->fd, LGUEST_SET_REGS, p));
	munmap(pages, 2 * PAGE);

	ASSERT_EQ(0, lg_err(self->fd, LGUEST_GET_REGS, &regs));
	expect_regs_eq(_metadata, &self->regs, &regs);
}

TEST_F(lg_guest, irq_valid)
{
	static const unsigned int irqs[] = { 0, 1, LGUEST_NR_IRQS - 1, 1 };
	struct lguest_irq irq;
	int i;

	for (i = 0; i < ARRAY_SIZE(irqs); i++) {
		irq.irq = irqs[i];
		irq.flags = 0;
		EXPECT_EQ(0, lg_err(self->fd, LGUEST_IRQ, &irq)) {
			TH_LOG("irq %u", irqs[i]);
		}
	}
}

TEST_F(lg_guest, irq_out_of_range)
{
	static const unsigned int irqs[] = {
		LGUEST_NR_IRQS, LGUEST_NR_IRQS + 1, 0x7fffffff, 0xffffffff,
	};
	struct lguest_irq irq;
	int i;

	for (i = 0; i < ARRAY_SIZE(irqs); i++) {
		irq.irq = irqs[i];
		irq.flags = 0;
		EXPECT_EQ(EINVAL, lg_err(self->fd, LGUEST_IRQ, &irq)) {
			TH_LOG("irq %#x", irqs[i]);
		}
	}
}

TEST_F(lg_guest, irq_flags_nonzero)
{
	struct lguest_irq irq = { .irq = 0, .flags = 1 };

	EXPECT_EQ(EINVAL, lg_err(self->fd, LGUEST_IRQ, &irq));
	irq.flags = 0x80000000;
	EXPECT_EQ(EINVAL, lg_err(self->fd, LGUEST_IRQ, &irq));
}

TEST_F(lg_guest, irq_bad_pointer)
{
	EXPECT_EQ(EFAULT, lg_err(self->fd, LGUEST_IRQ, NULL));
}

TEST_F(lg_guest, run_flags_nonzero)
{
	struct lguest_run run;

	memset(&run, 0, sizeof(run));
	run.flags = 1;
	EXPECT_EQ(EINVAL, lg_err(self->fd, LGUEST_RUN, &run));
	run.flags = 0x80000000;
	EXPECT_EQ(EINVAL, lg_err(self->fd, LGUEST_RUN, &run));
}

TEST_F(lg_guest, run_reserved_nonzero)
{
	struct lguest_run run;
	int i;

	for (i = 0; i < ARRAY_SIZE(run.reserved); i++) {
		memset(&run, 0, sizeof(run));
		run.reserved[i] = 1;
		EXPECT_EQ(EINVAL, lg_err(self->fd, LGUEST_RUN, &run)) {
			TH_LOG("reserved[%d] = 1", i);
		}
	}
}

TEST_F(lg_guest, run_bad_pointer)
{
	EXPECT_EQ(EFAULT, lg_err(self->fd, LGUEST_RUN, NULL));
}

/*
 * A child that inherits the file after LGUEST_INIT may not use the guest:
 * the guest belongs to the address space that initialised it.  The
 * child's attempts and exit leave the parent's guest intact.
 */
TEST_F(lg_guest, other_process_eio)
{
	struct lguest_regs regs;
	int status;
	pid_t pid;

	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		struct lguest_regs r = self->regs;
		struct lguest_irq irq = { .irq = 0 };
		struct lguest_run run;
		int fails = 0;

		memset(&run, 0, sizeof(run));
		if (lg_err(self->fd, LGUEST_GET_REGS, &r) != EIO)
			fails |= 1;
		if (lg_err(self->fd, LGUEST_SET_REGS, &r) != EIO)
			fails |= 2;
		if (lg_err(self->fd, LGUEST_IRQ, &irq) != EIO)
			fails |= 4;
		if (lg_err(self->fd, LGUEST_RUN, &run) != EIO)
			fails |= 8;
		_exit(fails);
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_TRUE(WIFEXITED(status));
	EXPECT_EQ(0, WEXITSTATUS(status)) {
		TH_LOG("not EIO in child: %s%s%s%s",
		       WEXITSTATUS(status) & 1 ? "GET_REGS " : "",
		       WEXITSTATUS(status) & 2 ? "SET_REGS " : "",
		       WEXITSTATUS(status) & 4 ? "IRQ " : "",
		       WEXITSTATUS(status) & 8 ? "RUN" : "");
	}

	ASSERT_EQ(0, lg_err(self->fd, LGUEST_GET_REGS, &regs));
	expect_regs_eq(_metadata, &self->regs, &regs);
}

/*
 * The owner is whoever did LGUEST_INIT, not whoever opened the file: a
 * child initialises the guest on an inherited file; the parent then gets
 * EIO, both while the child lives and after its address space is gone.
 */
TEST_F(lg_dev, init_in_child_owns_guest)
{
	int to_child[2], to_parent[2];
	struct lguest_regs regs;
	int status, err;
	char c = 0;
	pid_t pid;

	ASSERT_EQ(0, pipe(to_child));
	ASSERT_EQ(0, pipe(to_parent));
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		struct lguest_init init;

		fill_init(&init, self->mem);
		err = lg_err(self->fd, LGUEST_INIT, &init);
		if (write(to_parent[1], &err, sizeof(err)) != sizeof(err))
			_exit(2);
		if (read(to_child[0], &c, 1) != 1)
			_exit(3);
		_exit(0);
	}
	ASSERT_EQ(sizeof(err), read(to_parent[0], &err, sizeof(err)));
	EXPECT_EQ(0, err) {
		TH_LOG("LGUEST_INIT in child: %s", strerror(err));
	}

	EXPECT_EQ(EIO, lg_err(self->fd, LGUEST_GET_REGS, &regs));

	ASSERT_EQ(1, write(to_child[1], &c, 1));
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_TRUE(WIFEXITED(status));
	EXPECT_EQ(0, WEXITSTATUS(status));

	EXPECT_EQ(EIO, lg_err(self->fd, LGUEST_GET_REGS, &regs));

	close(to_child[0]);
	close(to_child[1]);
	close(to_parent[0]);
	close(to_parent[1]);
}

struct thread_arg {
	int fd;
	int err;
	struct lguest_regs regs;
};

static void *get_regs_thread(void *p)
{
	struct thread_arg *arg = p;

	arg->err = lg_err(arg->fd, LGUEST_GET_REGS, &arg->regs);
	return NULL;
}

/* Another thread shares the address space, so it may use the guest. */
TEST_F(lg_guest, other_thread_same_mm)
{
	struct thread_arg arg = { .fd = self->fd, .err = -1 };
	pthread_t thread;

	ASSERT_EQ(0, pthread_create(&thread, NULL, get_regs_thread, &arg));
	ASSERT_EQ(0, pthread_join(thread, NULL));
	EXPECT_EQ(0, arg.err) {
		TH_LOG("GET_REGS from another thread: %s", strerror(arg.err));
	}
	EXPECT_EQ(ENTRY, arg.regs.eip);
	EXPECT_EQ(CR3, arg.regs.cr3);
}

/* Each open file is its own guest. */
TEST_F(lg_dev, two_fds_independent)
{
	struct lguest_regs regs_a, regs_b, set;
	struct lguest_init init;
	void *mem2;
	int fd2;

	fd2 = lg_open();
	ASSERT_LE(0, fd2);
	mem2 = map_mem(MEM_SIZE);
	ASSERT_TRUE(mem2 != MAP_FAILED);

	fill_init(&init, self->mem);
	ASSERT_EQ(0, lg_err(self->fd, LGUEST_INIT, &init));

	/* The second file is still uninitialised. */
	EXPECT_EQ(EBADFD, lg_err(fd2, LGUEST_GET_REGS, &regs_b));

	/* It can be initialised, with other memory and other values. */
	fill_init(&init, mem2);
	init.entry = 0x9abc;
	init.cr3 = 0x6000;
	ASSERT_EQ(0, lg_err(fd2, LGUEST_INIT, &init));

	ASSERT_EQ(0, lg_err(self->fd, LGUEST_GET_REGS, &regs_a));
	ASSERT_EQ(0, lg_err(fd2, LGUEST_GET_REGS, &regs_b));
	EXPECT_EQ(ENTRY, regs_a.eip);
	EXPECT_EQ(CR3, regs_a.cr3);
	EXPECT_EQ(0x9abc, regs_b.eip);
	EXPECT_EQ(0x6000, regs_b.cr3);

	/* Setting registers of one does not touch the other. */
	fill_regs(&set, &regs_a);
	ASSERT_EQ(0, lg_err(self->fd, LGUEST_SET_REGS, &set));
	ASSERT_EQ(0, lg_err(fd2, LGUEST_GET_REGS, &regs_a));
	expect_regs_eq(_metadata, &regs_b, &regs_a);

	/* Closing one leaves the other working. */
	close(self->fd);
	self->fd = -1;
	ASSERT_EQ(0, lg_err(fd2, LGUEST_GET_REGS, &regs_a));
	expect_regs_eq(_metadata, &regs_b, &regs_a);

	close(fd2);
	munmap(mem2, MEM_SIZE);
}

struct guest_thread {
	pthread_t thread;
	pthread_barrier_t *barrier;
	unsigned int id;
	unsigned int waits;
	const char *fail;
	int err;
};

#define NR_SYNC_POINTS	2

/* Every thread passes the barrier exactly NR_SYNC_POINTS times. */
static void guest_thread_sync(struct guest_thread *t)
{
	pthread_barrier_wait(t->barrier);
	t->waits++;
}

static const char *guest_thread_body(struct guest_thread *t, int fd,
				     void *mem)
{
	struct lguest_regs regs, set;
	struct lguest_init init;

	fill_init(&init, mem);
	init.entry = ENTRY + t->id * 0x10;
	init.cr3 = CR3 + t->id * PAGE;

	/* All threads create their guests at the same time. */
	guest_thread_sync(t);
	t->err = lg_err(fd, LGUEST_INIT, &init);
	if (t->err)
		return "LGUEST_INIT";
	t->err = lg_err(fd, LGUEST_GET_REGS, &regs);
	if (t->err)
		return "LGUEST_GET_REGS";
	if (regs.eip != init.entry || regs.cr3 != init.cr3)
		return "initial eip/cr3";

	fill_regs(&set, &regs);
	set.eax = t->id;
	t->err = lg_err(fd, LGUEST_SET_REGS, &set);
	if (t->err)
		return "LGUEST_SET_REGS";

	/* Every guest has its registers set before any reads them back. */
	guest_thread_sync(t);
	t->err = lg_err(fd, LGUEST_GET_REGS, &regs);
	if (t->err)
		return "LGUEST_GET_REGS after LGUEST_SET_REGS";
	if (regs.eax != t->id)
		return "eax changed by another guest";
	return NULL;
}

static const char *guest_thread_run(struct guest_thread *t)
{
	const char *fail;
	void *mem;
	int fd = -1;

	mem = map_mem(MEM_SIZE);
	if (mem == MAP_FAILED) {
		t->err = errno;
		fail = "mmap";
	} else {
		fd = lg_open();
		if (fd < 0) {
			t->err = errno;
			fail = "open";
		} else {
			fail = guest_thread_body(t, fd, mem);
			close(fd);
		}
		munmap(mem, MEM_SIZE);
	}
	while (t->waits < NR_SYNC_POINTS)
		guest_thread_sync(t);
	return fail;
}

static void *guest_thread_fn(void *p)
{
	struct guest_thread *t = p;

	t->fail = guest_thread_run(t);
	return NULL;
}

TEST_F(lg_dev, threads_init_concurrently)
{
	struct guest_thread threads[NR_THREADS];
	pthread_barrier_t barrier;
	int i;

	ASSERT_EQ(0, pthread_barrier_init(&barrier, NULL, NR_THREADS));
	for (i = 0; i < NR_THREADS; i++) {
		threads[i].barrier = &barrier;
		threads[i].id = i;
		threads[i].waits = 0;
		threads[i].fail = NULL;
		threads[i].err = 0;
		ASSERT_EQ(0, pthread_create(&threads[i].thread, NULL,
					    guest_thread_fn, &threads[i]));
	}
	for (i = 0; i < NR_THREADS; i++) {
		ASSERT_EQ(0, pthread_join(threads[i].thread, NULL));
		EXPECT_TRUE(!threads[i].fail) {
			TH_LOG("thread %d: %s failed: %s", i, threads[i].fail,
			       strerror(threads[i].err));
		}
	}
	pthread_barrier_destroy(&barrier);
}

/* Guests are freed on close, so creating them again and again works. */
TEST_F(lg_dev, init_close_repeatedly)
{
	struct lguest_init init;
	int i, fd, err;

	fill_init(&init, self->mem);
	for (i = 0; i < NR_REOPEN; i++) {
		fd = lg_open();
		ASSERT_LE(0, fd) {
			TH_LOG("open #%d: %s", i, strerror(errno));
		}
		err = lg_err(fd, LGUEST_INIT, &init);
		close(fd);
		ASSERT_EQ(0, err) {
			TH_LOG("LGUEST_INIT #%d: %s", i, strerror(err));
		}
	}
}

int main(int argc, char **argv)
{
	/* Without the device there is nothing to test: report a skip. */
	if (access(LG_DEV, F_OK) && errno == ENOENT)
		ksft_exit_skip(LG_DEV " does not exist (lg.ko not loaded?)\n");
	return test_harness_run(argc, argv);
}
