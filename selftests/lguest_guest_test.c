// SPDX-License-Identifier: GPL-2.0
/*
 * First tiny-guest tests: a guest runs at CPL 1 under lg.ko and talks to
 * the launcher.  Hypercalls to the launcher carry four arguments and a
 * result and preserve the guest's registers, guest memory is the
 * launcher's memory, the ucall reporting works (including a failing
 * guest assertion's file, line and values), LHCALL_SHUTDOWN ends the run,
 * and a trap the guest has no handler for kills the guest for good.
 *
 * See include/lguest_util.h for how the guest code in this file runs.
 * All tests are skipped when /dev/lguest does not exist.
 */
#include <stdint.h>
#include <string.h>

#include "../kselftest_harness.h"
#include "lguest_util.h"

#define NR_ROUND_TRIPS	1000

/* Arguments and result of hypercall round trip @i: distinct, all bits. */
static inline uint32_t rt_arg(uint32_t i, unsigned int n)
{
	switch (n) {
	case 0:
		return i;
	case 1:
		return ~i;
	case 2:
		return i * 0x9e3779b9u;
	default:
		return 0x80000000u | (i << 12) | (i ^ 0x5a5);
	}
}

static inline uint32_t rt_ret(uint32_t i)
{
	return (i * 0x01000193u) ^ 0xdeadbeefu;
}

static GUEST_CODE void guest_round_trips(void)
{
	uint32_t i, ret;

	for (i = 0; i < NR_ROUND_TRIPS; i++) {
		ret = lg_hcall(LG_HCALL_TEST, rt_arg(i, 0), rt_arg(i, 1),
			       rt_arg(i, 2), rt_arg(i, 3));
		GUEST_ASSERT_EQ(ret, rt_ret(i));
	}
	GUEST_DONE();
}

TEST(hcall_round_trip)
{
	struct lg_vm *vm;
	uint32_t i;

	if (!lg_dev_present())
		SKIP(return, LG_NO_DEV_MSG);
	vm = lg_vm_create(0, guest_round_trips);

	for (i = 0; i < NR_ROUND_TRIPS; i++) {
		ASSERT_EXIT(vm, LGUEST_EXIT_HYPERCALL);
		ASSERT_EQ(LG_HCALL_TEST, vm->run.hypercall.nr);
		ASSERT_EQ(rt_arg(i, 0), vm->run.hypercall.args[0]);
		ASSERT_EQ(rt_arg(i, 1), vm->run.hypercall.args[1]);
		ASSERT_EQ(rt_arg(i, 2), vm->run.hypercall.args[2]);
		ASSERT_EQ(rt_arg(i, 3), vm->run.hypercall.args[3]);
		vm->run.hypercall.ret = rt_ret(i);
	}
	ASSERT_UCALL(vm, UCALL_DONE);
	lg_vm_free(vm);
}

/*
 * A hypercall changes eax only: every other register the guest had is
 * still there afterwards (guest kernels keep values in them across calls).
 */
static GUEST_CODE void guest_regs_preserved(void)
{
	uint32_t a = LG_HCALL_TEST, b = 0x11111111, c = 0x22222222;
	uint32_t d = 0x33333333, s = 0x44444444, di = 0x55555555;

	asm volatile("push %%ebp\n\t"
		     "mov $0x66666666, %%ebp\n\t"
		     "int $0x1f\n\t"
		     "xor $0x66666666, %%ebp\n\t"
		     "xor $0x11111111, %%ebx\n\t"
		     "xor $0x22222222, %%ecx\n\t"
		     "xor $0x33333333, %%edx\n\t"
		     "xor $0x44444444, %%esi\n\t"
		     "xor $0x55555555, %%edi\n\t"
		     "or %%ebp, %%edi\n\t"
		     "or %%ebx, %%edi\n\t"
		     "or %%ecx, %%edi\n\t"
		     "or %%edx, %%edi\n\t"
		     "or %%esi, %%edi\n\t"
		     "pop %%ebp"
		     : "+a" (a), "+b" (b), "+c" (c), "+d" (d), "+S" (s),
		       "+D" (di)
		     : : "memory");
	GUEST_ASSERT_EQ(a, 0xfeedface);
	__GUEST_ASSERT(!di, "registers changed by the hypercall: %#x", di);
	GUEST_DONE();
}

TEST(hcall_preserves_regs)
{
	struct lg_vm *vm;

	if (!lg_dev_present())
		SKIP(return, LG_NO_DEV_MSG);
	vm = lg_vm_create(0, guest_regs_preserved);

	ASSERT_EXIT(vm, LGUEST_EXIT_HYPERCALL);
	ASSERT_EQ(LG_HCALL_TEST, vm->run.hypercall.nr);
	EXPECT_EQ(0x11111111, vm->run.hypercall.args[0]);
	EXPECT_EQ(0x22222222, vm->run.hypercall.args[1]);
	EXPECT_EQ(0x33333333, vm->run.hypercall.args[2]);
	EXPECT_EQ(0x44444444, vm->run.hypercall.args[3]);
	vm->run.hypercall.ret = 0xfeedface;
	ASSERT_UCALL(vm, UCALL_DONE);
	lg_vm_free(vm);
}

#define PATTERN_PAGES	4
#define PATTERN_WORDS	(PATTERN_PAGES * LG_PAGE_SIZE / 4)

static inline uint32_t pattern(uint32_t i, uint32_t seed)
{
	return (i * 0x01000193u) ^ seed;
}

/* Set by the launcher before the run: guest-physical, identity mapped. */
static uint32_t pattern_gpa GUEST_DATA;
/* A guest global that the guest and the launcher each have a copy of. */
static uint32_t guest_counter GUEST_DATA;

static GUEST_CODE void guest_memory(void)
{
	uint32_t *p = (uint32_t *)(uintptr_t)pattern_gpa;
	uint32_t i;

	/* The ucalls' hypercalls are compiler barriers: no volatile needed. */
	for (i = 0; i < PATTERN_WORDS; i++)
		p[i] = pattern(i, 0xa5a5a5a5);
	guest_counter = 0x600d;
	GUEST_SYNC(1);

	/* The launcher rewrote both. */
	for (i = 0; i < PATTERN_WORDS; i++)
		GUEST_ASSERT_EQ(p[i], pattern(i, 0x5a5a5a5a));
	GUEST_ASSERT_EQ(guest_counter, 0x600e);
	GUEST_SYNC(2);
	GUEST_DONE();
}

TEST(guest_memory_is_launcher_memory)
{
	struct lg_vm *vm;
	uint32_t *p, i;

	if (!lg_dev_present())
		SKIP(return, LG_NO_DEV_MSG);
	vm = lg_vm_create(0, guest_memory);

	pattern_gpa = lg_vm_alloc_page(vm);
	for (i = 1; i < PATTERN_PAGES; i++)
		ASSERT_EQ(pattern_gpa + i * LG_PAGE_SIZE, lg_vm_alloc_page(vm));
	lg_sync_global_to_guest(vm, pattern_gpa);

	ASSERT_UCALL(vm, UCALL_SYNC);
	ASSERT_EQ(1, vm->uc.args[0]);
	p = lg_gpa2hva(vm, pattern_gpa);
	for (i = 0; i < PATTERN_WORDS; i++) {
		ASSERT_EQ(pattern(i, 0xa5a5a5a5), p[i]) {
			TH_LOG("word %u of the guest's pattern", i);
		}
		p[i] = pattern(i, 0x5a5a5a5a);
	}

	/* The guest wrote its copy of guest_counter, not ours. */
	ASSERT_EQ(0, guest_counter);
	lg_sync_global_from_guest(vm, guest_counter);
	ASSERT_EQ(0x600d, guest_counter);
	guest_counter = 0x600e;
	lg_sync_global_to_guest(vm, guest_counter);

	ASSERT_UCALL(vm, UCALL_SYNC);
	ASSERT_EQ(2, vm->uc.args[0]);
	ASSERT_UCALL(vm, UCALL_DONE);
	lg_vm_free(vm);
}

static GUEST_CODE void guest_sync_args(void)
{
	GUEST_SYNC_ARGS(1, 0xffffffff, 0x80000000, 0x12345678);
	GUEST_PRINTF("hello %s %d %#x %c", "launcher", -5, 0xabc, 'z');
	GUEST_SYNC(2);
	/* Returning from the guest code is GUEST_DONE(). */
}

TEST(ucall_sync_printf_done)
{
	struct lg_vm *vm;

	if (!lg_dev_present())
		SKIP(return, LG_NO_DEV_MSG);
	vm = lg_vm_create(0, guest_sync_args);

	ASSERT_UCALL(vm, UCALL_SYNC);
	EXPECT_EQ(1, vm->uc.args[0]);
	EXPECT_EQ(0xffffffff, vm->uc.args[1]);
	EXPECT_EQ(0x80000000, vm->uc.args[2]);
	EXPECT_EQ(0x12345678, vm->uc.args[3]);

	/* GUEST_PRINTF is printed and resumed by lg_vcpu_run(). */
	ASSERT_UCALL(vm, UCALL_SYNC);
	EXPECT_EQ(2, vm->uc.args[0]);
	EXPECT_STREQ("hello launcher -5 0xabc z", vm->last_print);

	ASSERT_UCALL(vm, UCALL_DONE);
	/* A finished guest stays finished. */
	ASSERT_UCALL(vm, UCALL_DONE);
	lg_vm_free(vm);
}

static uint32_t answer GUEST_DATA = 42;
static uint32_t assert_line GUEST_DATA;

static GUEST_CODE void guest_failing_assert(void)
{
	GUEST_ASSERT(answer == 42);
	GUEST_ASSERT_EQ(answer, 42);
	GUEST_SYNC(1);
	assert_line = __LINE__ + 1;
	GUEST_ASSERT_EQ(answer, 41);
	GUEST_FAIL("went on after a failed assertion");
}

/* The report path of GUEST_ASSERT: what failed, where, with which values. */
TEST(guest_assert_report)
{
	struct lg_vm *vm;
	uint32_t line;

	if (!lg_dev_present())
		SKIP(return, LG_NO_DEV_MSG);
	vm = lg_vm_create(0, guest_failing_assert);

	/* Passing assertions report nothing. */
	ASSERT_UCALL(vm, UCALL_SYNC);
	ASSERT_EQ(1, vm->uc.args[0]);

	ASSERT_UCALL(vm, UCALL_ABORT);
	lg_sync_global_from_guest(vm, assert_line);
	EXPECT_EQ(assert_line, vm->uc.line);
	EXPECT_TRUE(!!strstr(vm->uc.file, "lguest_guest_test.c")) {
		TH_LOG("file \"%s\"", vm->uc.file);
	}
	EXPECT_STREQ("answer == 41", vm->uc.expr);
	EXPECT_STREQ("0x2a != 0x29", vm->uc.msg);
	TH_LOG("reported as: %s", lg_exit_str(vm));

	/* The guest does not get past a failed assertion. */
	line = vm->uc.line;
	ASSERT_UCALL(vm, UCALL_ABORT);
	EXPECT_EQ(line, vm->uc.line);
	lg_vm_free(vm);
}

/* Set by the launcher: the LHCALL_SHUTDOWN type. */
static uint32_t shutdown_type GUEST_DATA;

static GUEST_CODE void guest_shutdown(void)
{
	lg_hcall(LHCALL_SHUTDOWN, shutdown_type, 0, 0, 0);
	GUEST_FAIL("still running after LHCALL_SHUTDOWN");
}

FIXTURE(shutdown) {
	struct lg_vm *vm;
};

FIXTURE_VARIANT(shutdown) {
	uint32_t type;
};

FIXTURE_VARIANT_ADD(shutdown, poweroff) {
	.type = LGUEST_SHUTDOWN_POWEROFF,
};

FIXTURE_VARIANT_ADD(shutdown, restart) {
	.type = LGUEST_SHUTDOWN_RESTART,
};

FIXTURE_VARIANT_ADD(shutdown, crash) {
	.type = LGUEST_SHUTDOWN_CRASH,
};

FIXTURE_SETUP(shutdown)
{
	if (!lg_dev_present())
		SKIP(return, LG_NO_DEV_MSG);
	self->vm = lg_vm_create(0, guest_shutdown);
}

FIXTURE_TEARDOWN(shutdown)
{
	lg_vm_free(self->vm);
}

TEST_F(shutdown, exit_type)
{
	shutdown_type = variant->type;
	lg_sync_global_to_guest(self->vm, shutdown_type);
	ASSERT_EXIT(self->vm, LGUEST_EXIT_SHUTDOWN);
	EXPECT_EQ(variant->type, self->vm->run.shutdown.type);
}

/*
 * Traps the guest has no IDT entry for.  The guest cannot handle them, so
 * the host must kill it (and say why) rather than loop or reflect into
 * nothing.
 */
enum {
	BAD_UD2,
	BAD_DIV0,
	BAD_INT3,
	BAD_NULL_READ,
	BAD_NULL_WRITE,
	BAD_CLI,
};

static uint32_t bad_trap GUEST_DATA;

static GUEST_CODE void guest_unregistered_trap(void)
{
	switch (bad_trap) {
	case BAD_UD2:
		asm volatile("ud2");
		break;
	case BAD_DIV0:
		asm volatile("xorl %%edx, %%edx\n\t"
			     "movl $1, %%eax\n\t"
			     "xorl %%ecx, %%ecx\n\t"
			     "divl %%ecx" : : : "eax", "ecx", "edx");
		break;
	case BAD_INT3:
		asm volatile("int3");
		break;
	case BAD_NULL_READ:
		asm volatile("movl 0, %%eax" : : : "eax", "memory");
		break;
	case BAD_NULL_WRITE:
		asm volatile("movl $1, 0" : : : "memory");
		break;
	case BAD_CLI:
		asm volatile("cli");
		break;
	}
	GUEST_FAIL("survived unhandled trap %u", bad_trap);
}

FIXTURE(unregistered_trap) {
	struct lg_vm *vm;
};

FIXTURE_VARIANT(unregistered_trap) {
	uint32_t trap;
};

FIXTURE_VARIANT_ADD(unregistered_trap, ud2) { .trap = BAD_UD2 };
FIXTURE_VARIANT_ADD(unregistered_trap, divide_by_zero) { .trap = BAD_DIV0 };
FIXTURE_VARIANT_ADD(unregistered_trap, int3) { .trap = BAD_INT3 };
FIXTURE_VARIANT_ADD(unregistered_trap, null_read) { .trap = BAD_NULL_READ };
FIXTURE_VARIANT_ADD(unregistered_trap, null_write) { .trap = BAD_NULL_WRITE };
FIXTURE_VARIANT_ADD(unregistered_trap, cli) { .trap = BAD_CLI };

FIXTURE_SETUP(unregistered_trap)
{
	if (!lg_dev_present())
		SKIP(return, LG_NO_DEV_MSG);
	self->vm = lg_vm_create(0, guest_unregistered_trap);
}

FIXTURE_TEARDOWN(unregistered_trap)
{
	lg_vm_free(self->vm);
}

TEST_F(unregistered_trap, kills_guest)
{
	struct lg_vm *vm = self->vm;

	bad_trap = variant->trap;
	lg_sync_global_to_guest(vm, bad_trap);

	ASSERT_EXIT(vm, LGUEST_EXIT_DEAD);
	ASSERT_EQ('\0', vm->run.dead.reason[LGUEST_REASON_LEN - 1]);
	ASSERT_LT(0, strlen(vm->run.dead.reason));
	TH_LOG("%s", lg_exit_str(vm));

	/* Dead stays dead. */
	memset(&vm->run, 0, sizeof(vm->run));
	ASSERT_EXIT(vm, LGUEST_EXIT_DEAD);
	ASSERT_LT(0, strlen(vm->run.dead.reason));
}

TEST_HARNESS_MAIN
