// SPDX-License-Identifier: GPL-2.0
/*
 * Device accesses of a tiny guest: MMIO windows (LGUEST_ADD_MMIO_WINDOW),
 * the LGUEST_EXIT_MMIO exits the host decodes from the guest's "mov"
 * instructions, eventfd kicks (LGUEST_IOEVENTFD) and the capability query
 * (LGUEST_CHECK_EXTENSION); and what a guest gets for device accesses the
 * host cannot or will not decode: killed, with a reason.
 *
 * The guest maps a two-page window at WIN_GPA (beyond its 4 MiB of memory)
 * at the same virtual address, and a page beyond memory that is in no
 * window at NOWIN.  See include/lguest_util.h for how guest code runs.
 * All tests are skipped when /dev/lguest does not exist.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "../kselftest_harness.h"
#include "lguest_host_ok.h"
#include "lguest_util.h"

#define WIN_GPA		0x10000000u
#define WIN_SIZE	(2 * LG_PAGE_SIZE)
#define NOWIN		0x20000000u
#define KICK		(WIN_GPA + 0x50)	/* virtio-mmio QueueNotify */
#define KICKS		1000

static int add_window(int fd, uint64_t addr, uint64_t size)
{
	struct lguest_mmio_window win = { .addr = addr, .size = size };

	return ioctl(fd, LGUEST_ADD_MMIO_WINDOW, &win) ? -errno : 0;
}

static int ioeventfd(int fd, uint64_t addr, uint32_t len, int efd,
		     uint32_t datamatch, uint32_t flags)
{
	struct lguest_ioeventfd e = {
		.addr = addr, .len = len, .fd = efd,
		.datamatch = datamatch, .flags = flags,
	};

	return ioctl(fd, LGUEST_IOEVENTFD, &e) ? -errno : 0;
}

/*
 * Map a page beyond guest memory at the same virtual address, as a guest
 * kernel's ioremap() would (lg_vm_map() only maps memory).
 */
static void map_device(struct lg_vm *vm, uint32_t gpa)
{
	*lg_vm_pte(vm, gpa, true) = gpa | LG_PTE_P | LG_PTE_RW | LG_PTE_A |
				    LG_PTE_D;
}

/* A guest with the window mapped, not yet run. */
static struct lg_vm *mmio_vm(void (*guest_code)(void))
{
	struct lg_vm *vm = lg_vm_create(0, guest_code);

	if (add_window(vm->fd, WIN_GPA, WIN_SIZE))
		lg_fatal("LGUEST_ADD_MMIO_WINDOW: %s", strerror(errno));
	map_device(vm, WIN_GPA);
	map_device(vm, WIN_GPA + LG_PAGE_SIZE);
	map_device(vm, NOWIN);
	return vm;
}

static GUEST_CODE void guest_nothing(void)
{
	GUEST_DONE();
}

TEST(check_extension)
{
	int fd;

	if (!lg_dev_present())
		SKIP(return, LG_NO_DEV_MSG);
	fd = open(LG_DEV, O_RDWR);
	ASSERT_LE(0, fd);
	/* No LGUEST_INIT needed to ask. */
	EXPECT_LE(1, ioctl(fd, LGUEST_CHECK_EXTENSION, LGUEST_CAP_MMIO));
	EXPECT_LE(1, ioctl(fd, LGUEST_CHECK_EXTENSION, LGUEST_CAP_IOEVENTFD));
	EXPECT_EQ(0, ioctl(fd, LGUEST_CHECK_EXTENSION, 0));
	EXPECT_EQ(0, ioctl(fd, LGUEST_CHECK_EXTENSION, 1000));
	/* Windows come after LGUEST_INIT, which says where memory ends. */
	EXPECT_EQ(-EBADFD, add_window(fd, WIN_GPA, WIN_SIZE));
	close(fd);
}

TEST(window_rules)
{
	struct lguest_mmio_window win = { .addr = WIN_GPA, .size = 4096 };
	struct lg_vm *vm;
	int i, max;

	if (!lg_dev_present())
		SKIP(return, LG_NO_DEV_MSG);
	vm = lg_vm_create(0, guest_nothing);
	max = ioctl(vm->fd, LGUEST_CHECK_EXTENSION, LGUEST_CAP_MMIO);
	EXPECT_EQ(-EINVAL, add_window(vm->fd, WIN_GPA + 1, 4096));
	EXPECT_EQ(-EINVAL, add_window(vm->fd, WIN_GPA, 0));
	EXPECT_EQ(-EINVAL, add_window(vm->fd, WIN_GPA, 100));
	/* Not over guest memory, not past 4 GiB. */
	EXPECT_EQ(-EINVAL, add_window(vm->fd, vm->mem_size - 4096, 8192));
	EXPECT_EQ(-EINVAL, add_window(vm->fd, 0xfffff000, 8192));
	EXPECT_EQ(-EINVAL, add_window(vm->fd, 0x100000000ull, 4096));
	EXPECT_EQ(-EINVAL, add_window(vm->fd, WIN_GPA, 0x100001000ull));
	win.flags = 1;
	EXPECT_EQ(-1, ioctl(vm->fd, LGUEST_ADD_MMIO_WINDOW, &win));
	EXPECT_EQ(EINVAL, errno);
	win.flags = 0;
	win.reserved[2] = 1;
	EXPECT_EQ(-1, ioctl(vm->fd, LGUEST_ADD_MMIO_WINDOW, &win));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(-1, ioctl(vm->fd, LGUEST_ADD_MMIO_WINDOW, 8));
	EXPECT_EQ(EFAULT, errno);

	EXPECT_EQ(0, add_window(vm->fd, vm->mem_size, 4096));
	EXPECT_EQ(0, add_window(vm->fd, 0xfffff000, 4096));
	EXPECT_EQ(-EEXIST, add_window(vm->fd, vm->mem_size, 8192));
	EXPECT_EQ(-EEXIST, add_window(vm->fd, 0xffffe000, 8192));
	for (i = 2; i < max; i++)
		ASSERT_EQ(0, add_window(vm->fd, WIN_GPA + i * 8192, 4096));
	EXPECT_EQ(-ENOSPC, add_window(vm->fd, WIN_GPA, 4096));
	lg_vm_free(vm);
}

TEST(ioeventfd_rules)
{
	struct lguest_ioeventfd e = { .addr = KICK, .len = 4 };
	int efd, pipefd[2], i, max, err;
	struct lg_vm *vm;

	if (!lg_dev_present())
		SKIP(return, LG_NO_DEV_MSG);
	vm = mmio_vm(guest_nothing);
	efd = eventfd(0, EFD_CLOEXEC);
	ASSERT_LE(0, efd);
	ASSERT_EQ(0, pipe(pipefd));
	max = ioctl(vm->fd, LGUEST_CHECK_EXTENSION, LGUEST_CAP_IOEVENTFD);
	ASSERT_LE(2, max);

	/* Outside every window, bad sizes, misaligned, bad values. */
	EXPECT_EQ(-EINVAL, ioeventfd(vm->fd, NOWIN, 4, efd, 0, 0));
	EXPECT_EQ(-EINVAL, ioeventfd(vm->fd, WIN_GPA + WIN_SIZE, 4, efd, 0, 0));
	EXPECT_EQ(-EINVAL, ioeventfd(vm->fd, KICK, 3, efd, 0, 0));
	EXPECT_EQ(-EINVAL, ioeventfd(vm->fd, KICK, 8, efd, 0, 0));
	EXPECT_EQ(-EINVAL, ioeventfd(vm->fd, KICK + 2, 4, efd, 0, 0));
	EXPECT_EQ(-EINVAL, ioeventfd(vm->fd, KICK, 1, efd, 0x100,
				     LGUEST_IOEVENTFD_DATAMATCH));
	EXPECT_EQ(-EINVAL, ioeventfd(vm->fd, KICK, 4, efd, 7, 0));
	EXPECT_EQ(-EINVAL, ioeventfd(vm->fd, KICK, 4, efd, 0, 4));
	e.fd = efd;
	e.reserved[1] = 1;
	EXPECT_EQ(-1, ioctl(vm->fd, LGUEST_IOEVENTFD, &e));
	EXPECT_EQ(EINVAL, errno);
	/* Not an eventfd. */
	EXPECT_EQ(-EBADF, ioeventfd(vm->fd, KICK, 4, -1, 0, 0));
	EXPECT_EQ(-EINVAL, ioeventfd(vm->fd, KICK, 4, pipefd[0], 0, 0));

	/* Data matches may share an address; a catch-all may not. */
	EXPECT_EQ(0, ioeventfd(vm->fd, KICK, 4, efd, 0,
			       LGUEST_IOEVENTFD_DATAMATCH));
	EXPECT_EQ(0, ioeventfd(vm->fd, KICK, 4, efd, 1,
			       LGUEST_IOEVENTFD_DATAMATCH));
	EXPECT_EQ(-EEXIST, ioeventfd(vm->fd, KICK, 4, efd, 1,
				     LGUEST_IOEVENTFD_DATAMATCH));
	EXPECT_EQ(-EEXIST, ioeventfd(vm->fd, KICK, 4, efd, 0, 0));
	EXPECT_EQ(0, ioeventfd(vm->fd, KICK, 2, efd, 0, 0));
	EXPECT_EQ(-EEXIST, ioeventfd(vm->fd, KICK, 2, efd, 5,
				     LGUEST_IOEVENTFD_DATAMATCH));
	/* Deassign exactly what was assigned. */
	EXPECT_EQ(-ENOENT, ioeventfd(vm->fd, KICK, 4, efd, 2,
				     LGUEST_IOEVENTFD_DATAMATCH |
				     LGUEST_IOEVENTFD_DEASSIGN));
	EXPECT_EQ(-ENOENT, ioeventfd(vm->fd, KICK, 2, efd, 0,
				     LGUEST_IOEVENTFD_DATAMATCH |
				     LGUEST_IOEVENTFD_DEASSIGN));
	EXPECT_EQ(0, ioeventfd(vm->fd, KICK, 4, efd, 1,
			       LGUEST_IOEVENTFD_DATAMATCH |
			       LGUEST_IOEVENTFD_DEASSIGN));
	EXPECT_EQ(0, ioeventfd(vm->fd, KICK, 4, efd, 1,
			       LGUEST_IOEVENTFD_DATAMATCH));

	/* The limit: three bindings so far. */
	for (i = 3, err = 0; i < max && !err; i++)
		err = ioeventfd(vm->fd, WIN_GPA + LG_PAGE_SIZE + 4 * i, 4, efd,
				0, 0);
	EXPECT_EQ(0, err);
	EXPECT_EQ(-ENOSPC, ioeventfd(vm->fd, WIN_GPA + LG_PAGE_SIZE + 4 * i,
				     4, efd, 0, 0));
	lg_vm_free(vm);
	close(efd);
	close(pipefd[0]);
	close(pipefd[1]);
}

/* Every form of store the host decodes, in the order the test expects. */
static GUEST_CODE void guest_stores(void)
{
	uint32_t base = WIN_GPA;

	asm volatile("movb %%al, (%%ebx)" : : "a" (0x11), "b" (base) : "memory");
	asm volatile("movb %%ah, 1(%%ebx)" : : "a" (0x2200), "b" (base) : "memory");
	asm volatile("movw %%cx, 2(%%ebx)" : : "c" (0xffff3333), "b" (base) : "memory");
	asm volatile("movl %%edx, 4(%%ebx)" : : "d" (0x44444444), "b" (base) : "memory");
	asm volatile("movl %%esi, (%%ebx,%%ecx,4)"
		     : : "S" (0x55555555), "b" (base), "c" (2) : "memory");
	asm volatile("movl %%edi, 0x100(%%ebx)" : : "D" (0x66666666), "b" (base) : "memory");
	asm volatile("movb $0x77, 0x10(%%ebx)" : : "b" (base) : "memory");
	asm volatile("movw $0x8888, 0x12(%%ebx)" : : "b" (base) : "memory");
	asm volatile("movl $0x99999999, 0x14(%%ebx)" : : "b" (base) : "memory");
	asm volatile("movl %%eax, 0x10000018" : : "a" (0xaaaaaaaa) : "memory");
	asm volatile("movb %%al, 0x1000001c" : : "a" (0xbb) : "memory");
	/* The second page of the window, to its last byte. */
	asm volatile("movl %%eax, 0x1ffc(%%ebx)" : : "a" (0xcccccccc), "b" (base) : "memory");
	GUEST_DONE();
}

static const struct { uint32_t off, len, data; } store_exits[] = {
	{ 0x0, 1, 0x11 }, { 0x1, 1, 0x22 }, { 0x2, 2, 0x3333 },
	{ 0x4, 4, 0x44444444 }, { 0x8, 4, 0x55555555 },
	{ 0x100, 4, 0x66666666 }, { 0x10, 1, 0x77 }, { 0x12, 2, 0x8888 },
	{ 0x14, 4, 0x99999999 }, { 0x18, 4, 0xaaaaaaaa }, { 0x1c, 1, 0xbb },
	{ 0x1ffc, 4, 0xcccccccc },
};

TEST(stores)
{
	struct lg_vm *vm;
	unsigned int i;

	if (!lg_dev_present())
		SKIP(return, LG_NO_DEV_MSG);
	vm = mmio_vm(guest_stores);
	for (i = 0; i < ARRAY_SIZE(store_exits); i++) {
		ASSERT_EXIT(vm, LGUEST_EXIT_MMIO);
		EXPECT_EQ(WIN_GPA + store_exits[i].off, vm->run.mmio.phys_addr);
		EXPECT_EQ(store_exits[i].len, vm->run.mmio.len);
		EXPECT_EQ(1, vm->run.mmio.is_write);
		EXPECT_EQ(store_exits[i].data, vm->run.mmio.data);
	}
	ASSERT_UCALL(vm, UCALL_DONE);
	lg_vm_free(vm);
}

/*
 * Every form of load: the launcher answers 0xa5a5a5a5 + the offset, and
 * the guest checks what landed in the register, with the bytes a narrow
 * load does not touch kept and movzx's zero-extended.
 */
static GUEST_CODE void guest_loads(void)
{
	uint32_t base = WIN_GPA, r;

	asm volatile("movl (%%ebx), %0" : "=a" (r) : "b" (base));
	GUEST_ASSERT_EQ(r, 0xa5a5a5a5);
	r = 0x11223344;
	asm volatile("movb 1(%%ebx), %%ah" : "+a" (r) : "b" (base));
	GUEST_ASSERT_EQ(r, 0x1122a644);
	r = 0x11223344;
	asm volatile("movb 2(%%ebx), %%dl" : "+d" (r) : "b" (base));
	GUEST_ASSERT_EQ(r, 0x112233a7);
	r = 0x11223344;
	asm volatile("movw 4(%%ebx), %%cx" : "+c" (r) : "b" (base));
	GUEST_ASSERT_EQ(r, 0x1122a5a9);
	r = 0x11223344;
	asm volatile("movzbl 8(%%ebx), %%esi" : "+S" (r) : "b" (base));
	GUEST_ASSERT_EQ(r, 0xad);
	r = 0x11223344;
	asm volatile("movzwl 0xc(%%ebx), %%edi" : "+D" (r) : "b" (base));
	GUEST_ASSERT_EQ(r, 0xa5b1);
	r = 0x11223344;
	asm volatile("movzbw 0x10(%%ebx), %%dx" : "+d" (r) : "b" (base));
	GUEST_ASSERT_EQ(r, 0x112200b5);
	asm volatile("movl 0x10000014, %0" : "=a" (r));
	GUEST_ASSERT_EQ(r, 0xa5a5a5b9);
	GUEST_DONE();
}

static const struct { uint32_t off, len; } load_exits[] = {
	{ 0x0, 4 }, { 0x1, 1 }, { 0x2, 1 }, { 0x4, 2 }, { 0x8, 1 },
	{ 0xc, 2 }, { 0x10, 1 }, { 0x14, 4 },
};

TEST(loads)
{
	struct lg_vm *vm;
	unsigned int i;

	if (!lg_dev_present())
		SKIP(return, LG_NO_DEV_MSG);
	vm = mmio_vm(guest_loads);
	for (i = 0; i < ARRAY_SIZE(load_exits); i++) {
		ASSERT_EXIT(vm, LGUEST_EXIT_MMIO);
		EXPECT_EQ(WIN_GPA + load_exits[i].off, vm->run.mmio.phys_addr);
		EXPECT_EQ(load_exits[i].len, vm->run.mmio.len);
		EXPECT_EQ(0, vm->run.mmio.is_write);
		/* More bits than the load takes: the host drops them. */
		vm->run.mmio.data = 0xa5a5a5a5 + load_exits[i].off;
	}
	ASSERT_UCALL(vm, UCALL_DONE);
	lg_vm_free(vm);
}

/*
 * Kicks: KICKS writes of 1 to the notify register signal the eventfd with
 * no exit at all; a write of another value exits as usual.
 */
static GUEST_CODE void guest_kicks(void)
{
	uint32_t *kick = (uint32_t *)KICK;
	unsigned int i;

	for (i = 0; i < KICKS; i++)
		asm volatile("movl %0, (%1)" : : "r" (1), "r" (kick) : "memory");
	asm volatile("movl %0, (%1)" : : "r" (2), "r" (kick) : "memory");
	asm volatile("movw %w0, (%1)" : : "r" (1), "r" (kick) : "memory");
	GUEST_DONE();
}

TEST(ioeventfd_kicks)
{
	struct lg_vm *vm;
	uint64_t count;
	int efd;

	if (!lg_dev_present())
		SKIP(return, LG_NO_DEV_MSG);
	vm = mmio_vm(guest_kicks);
	efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	ASSERT_LE(0, efd);
	ASSERT_EQ(0, ioeventfd(vm->fd, KICK, 4, efd, 1,
			       LGUEST_IOEVENTFD_DATAMATCH));
	/* The first exit is the write of 2: all kicks went to the eventfd. */
	ASSERT_EXIT(vm, LGUEST_EXIT_MMIO);
	EXPECT_EQ(KICK, vm->run.mmio.phys_addr);
	EXPECT_EQ(2, vm->run.mmio.data);
	ASSERT_EQ(sizeof(count), read(efd, &count, sizeof(count)));
	EXPECT_EQ(KICKS, count);
	/* A 2-byte write of the value does not match a 4-byte binding. */
	ASSERT_EXIT(vm, LGUEST_EXIT_MMIO);
	EXPECT_EQ(2, vm->run.mmio.len);
	ASSERT_UCALL(vm, UCALL_DONE);
	EXPECT_EQ(-1, read(efd, &count, sizeof(count)));
	EXPECT_EQ(EAGAIN, errno);
	lg_vm_free(vm);
	close(efd);
}

/* An eventfd deassigned while the guest is not running exits again. */
TEST(ioeventfd_deassign)
{
	struct lg_vm *vm;
	int efd;

	if (!lg_dev_present())
		SKIP(return, LG_NO_DEV_MSG);
	vm = mmio_vm(guest_kicks);
	efd = eventfd(0, EFD_CLOEXEC);
	ASSERT_LE(0, efd);
	ASSERT_EQ(0, ioeventfd(vm->fd, KICK, 4, efd, 0, 0));
	ASSERT_EQ(0, ioeventfd(vm->fd, KICK, 4, efd, 0,
			       LGUEST_IOEVENTFD_DEASSIGN));
	ASSERT_EXIT(vm, LGUEST_EXIT_MMIO);
	EXPECT_EQ(1, vm->run.mmio.data);
	close(efd);
	lg_vm_free(vm);
}

/* Device accesses that end the guest, and the reason it is given. */
enum bad_access {
	BAD_OUTSIDE_WINDOW,
	BAD_ADD,
	BAD_REP_MOVS,
	BAD_SEGMENT_PREFIX,
	BAD_LOCK,
	BAD_ACROSS_PAGE_END,
	BAD_FETCH,
	BAD_PUSH,
};

static uint32_t bad GUEST_DATA;
static uint32_t scratch GUEST_DATA;

static GUEST_CODE void guest_bad(void)
{
	uint32_t base = WIN_GPA, dst = (uintptr_t)&scratch, n = 1, r = 0;

	switch (READ_ONCE(bad)) {
	case BAD_OUTSIDE_WINDOW:
		asm volatile("movl %%eax, (%%ebx)" : : "a" (1), "b" (NOWIN) : "memory");
		break;
	case BAD_ADD:
		asm volatile("addl %%eax, (%%ebx)" : : "a" (1), "b" (base) : "memory");
		break;
	case BAD_REP_MOVS:
		asm volatile("rep movsl" : "+S" (base), "+D" (dst), "+c" (n) : : "memory");
		break;
	case BAD_SEGMENT_PREFIX:
		asm volatile(".byte 0x3e; movl (%%ebx), %%eax" : "=a" (r) : "b" (base));
		break;
	case BAD_LOCK:
		asm volatile("lock; xchgl %%eax, (%%ebx)" : "+a" (r) : "b" (base) : "memory");
		break;
	case BAD_ACROSS_PAGE_END:
		asm volatile("movl %%eax, (%%ebx)" : : "a" (1), "b" (base + 0xffe) : "memory");
		break;
	case BAD_FETCH:
		((void (*)(void))base)();
		break;
	case BAD_PUSH:
		asm volatile("movl %%esp, %%ecx\n\tmovl %%ebx, %%esp\n\t"
			     "pushl %%eax\n\tmovl %%ecx, %%esp"
			     : : "a" (1), "b" (base + 0x100) : "ecx", "memory");
		break;
	}
	GUEST_DONE();
}

FIXTURE(bad) {
	struct lg_vm *vm;
};

FIXTURE_VARIANT(bad) {
	enum bad_access what;
	const char *reason;
};

FIXTURE_VARIANT_ADD(bad, outside_window) {
	.what = BAD_OUTSIDE_WINDOW,
	.reason = "beyond guest memory, outside every device window",
};

FIXTURE_VARIANT_ADD(bad, add_to_register) {
	.what = BAD_ADD,
	.reason = "undecodable instruction",
};

FIXTURE_VARIANT_ADD(bad, rep_movs) {
	.what = BAD_REP_MOVS,
	.reason = "undecodable instruction",
};

FIXTURE_VARIANT_ADD(bad, segment_prefix) {
	.what = BAD_SEGMENT_PREFIX,
	.reason = "undecodable instruction",
};

FIXTURE_VARIANT_ADD(bad, locked_xchg) {
	.what = BAD_LOCK,
	.reason = "undecodable instruction",
};

FIXTURE_VARIANT_ADD(bad, across_page_end) {
	.what = BAD_ACROSS_PAGE_END,
	.reason = "across a page boundary",
};

FIXTURE_VARIANT_ADD(bad, code_fetch) {
	.what = BAD_FETCH,
	.reason = "undecodable instruction",
};

FIXTURE_VARIANT_ADD(bad, push) {
	.what = BAD_PUSH,
	.reason = "undecodable instruction",
};

FIXTURE_SETUP(bad)
{
	if (!lg_dev_present())
		SKIP(return, LG_NO_DEV_MSG);
	self->vm = mmio_vm(guest_bad);
	bad = variant->what;
	lg_sync_global_to_guest(self->vm, bad);
}

FIXTURE_TEARDOWN(bad)
{
	lg_vm_free(self->vm);
}

TEST_F(bad, guest_killed)
{
	struct lg_vm *vm = self->vm;

	ASSERT_EXIT(vm, LGUEST_EXIT_DEAD);
	TH_LOG("%s", vm->run.dead.reason);
	EXPECT_TRUE(!!strstr(vm->run.dead.reason, variant->reason));
	lg_assert_host_ok(_metadata);
}

TEST_HARNESS_MAIN
