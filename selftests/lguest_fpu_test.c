// SPDX-License-Identifier: GPL-2.0
/*
 * The guest's FPU and SSE registers are its own: a new guest starts with
 * reset state (not the launcher's), what the guest leaves in x87, SSE and
 * their control registers survives a trip to the launcher that loads
 * other values into its own, and two guests interleaved do not see each
 * other's.
 *
 * The test programs are built with -mgeneral-regs-only (for the guest
 * code), so every FPU or SSE access here is inline asm, launcher side
 * included.
 *
 * See include/lguest_util.h for how the guest code in this file runs.
 * All tests are skipped when /dev/lguest does not exist.
 */
#include <stdint.h>
#include <string.h>

#include "../kselftest_harness.h"
#include "lguest_util.h"
#include "lguest_host_ok.h"

#define NR_ROUNDS	100

#define FCW_DEFAULT	0x037f
#define MXCSR_DEFAULT	0x1f80

/*
 * Register contents: xmm0-7 (4 words each), the eight x87 registers as
 * 32-bit integers (fild/fistp are exact for them), MXCSR and the x87
 * control word.  The offsets are used in the asm below.
 */
struct fpu_regs {
	uint32_t xmm[32];	/* offset 0 */
	uint32_t st[8];		/* offset 128 */
	uint32_t mxcsr;		/* offset 160 */
	uint32_t fcw;		/* offset 164 */
};

/* Load struct fpu_regs at %ecx. */
#define FPU_LOAD							\
	"ldmxcsr 160(%%ecx)\n\t"					\
	"fldcw 164(%%ecx)\n\t"						\
	"movdqu 0(%%ecx), %%xmm0\n\t"					\
	"movdqu 16(%%ecx), %%xmm1\n\t"					\
	"movdqu 32(%%ecx), %%xmm2\n\t"					\
	"movdqu 48(%%ecx), %%xmm3\n\t"					\
	"movdqu 64(%%ecx), %%xmm4\n\t"					\
	"movdqu 80(%%ecx), %%xmm5\n\t"					\
	"movdqu 96(%%ecx), %%xmm6\n\t"					\
	"movdqu 112(%%ecx), %%xmm7\n\t"					\
	"fildl 128(%%ecx)\n\t"						\
	"fildl 132(%%ecx)\n\t"						\
	"fildl 136(%%ecx)\n\t"						\
	"fildl 140(%%ecx)\n\t"						\
	"fildl 144(%%ecx)\n\t"						\
	"fildl 148(%%ecx)\n\t"						\
	"fildl 152(%%ecx)\n\t"						\
	"fildl 156(%%ecx)\n\t"

/*
 * Store into struct fpu_regs at %edx.  The x87 stack comes back in
 * reverse order, and ends up empty.
 */
#define FPU_STORE							\
	"movdqu %%xmm0, 0(%%edx)\n\t"					\
	"movdqu %%xmm1, 16(%%edx)\n\t"					\
	"movdqu %%xmm2, 32(%%edx)\n\t"					\
	"movdqu %%xmm3, 48(%%edx)\n\t"					\
	"movdqu %%xmm4, 64(%%edx)\n\t"					\
	"movdqu %%xmm5, 80(%%edx)\n\t"					\
	"movdqu %%xmm6, 96(%%edx)\n\t"					\
	"movdqu %%xmm7, 112(%%edx)\n\t"					\
	"fistpl 156(%%edx)\n\t"						\
	"fistpl 152(%%edx)\n\t"						\
	"fistpl 148(%%edx)\n\t"						\
	"fistpl 144(%%edx)\n\t"						\
	"fistpl 140(%%edx)\n\t"						\
	"fistpl 136(%%edx)\n\t"						\
	"fistpl 132(%%edx)\n\t"						\
	"fistpl 128(%%edx)\n\t"						\
	"stmxcsr 160(%%edx)\n\t"					\
	"fnstcw 164(%%edx)\n\t"

/* Distinct values for each seed, round and register word. */
static inline uint32_t fpu_word(uint32_t seed, uint32_t round, uint32_t i)
{
	return (seed * 0x01000193u) ^ (round * 0x9e3779b9u) ^ (i * 0x85ebca6bu);
}

/*
 * Guest code, used by the launcher too.  Rounding control varies (bits
 * 10-11 of the control word, 13-14 of MXCSR); precision and the
 * exception masks stay at their defaults.
 */
static GUEST_CODE void fpu_fill(struct fpu_regs *r, uint32_t seed,
				uint32_t round)
{
	uint32_t i;

	for (i = 0; i < 32; i++)
		r->xmm[i] = fpu_word(seed, round, i);
	for (i = 0; i < 8; i++)
		r->st[i] = fpu_word(seed, round, 32 + i) & 0x7fffffff;
	r->mxcsr = MXCSR_DEFAULT | ((seed + round) & 3) << 13;
	r->fcw = FCW_DEFAULT | ((seed + round + 1) & 3) << 10;
}

/*
 * Compare word by word (no memcmp in guest code); the index of the first
 * difference, or -1.  Guest code, used by the launcher too.
 */
static GUEST_CODE int fpu_diff(const struct fpu_regs *a, const struct fpu_regs *b)
{
	const uint32_t *x = (const uint32_t *)a, *y = (const uint32_t *)b;
	int i;

	for (i = 0; i < (int)(sizeof(*a) / 4); i++)
		if (x[i] != y[i])
			return i;
	return -1;
}

static uint32_t guest_seed GUEST_DATA;
static struct fpu_regs guest_in GUEST_DATA, guest_out GUEST_DATA;

/*
 * One round: load the guest's values, hypercall to the launcher, store.
 * All in one asm statement so nothing in between can touch the registers.
 */
static GUEST_CODE uint32_t guest_fpu_round(uint32_t round)
{
	uint32_t eax = LG_HCALL_TEST;

	fpu_fill(&guest_in, guest_seed, round);
	asm volatile(FPU_LOAD
		     "int $0x1f\n\t"
		     FPU_STORE
		     : "+a" (eax)
		     : "c" (&guest_in), "d" (&guest_out),
		       "b" (round), "S" (guest_seed)
		     : "memory", "cc");
	return eax;
}

/* A new guest's FPU is in reset state, with zero SSE registers. */
static GUEST_CODE void guest_fpu_fresh(void)
{
	uint32_t env[7];
	int i;

	/* The tag word first: the stores below pop the x87 stack. */
	asm volatile("fnstenv %[env]" : [env] "=m" (env));
	asm volatile(FPU_STORE : : "d" (&guest_out) : "memory");
	/*
	 * The x87 registers are empty: the tag word, checked by the
	 * launcher, says so.  (What fistp stores from an empty register is
	 * not checked: QEMU's emulation does not raise the stack fault.)
	 */
	for (i = 0; i < 32; i++)
		GUEST_ASSERT_EQ(guest_out.xmm[i], 0);
	GUEST_ASSERT_EQ(guest_out.mxcsr & 0xffff, MXCSR_DEFAULT);
	GUEST_SYNC_ARGS(guest_out.fcw & 0xffff, env[2] & 0xffff, 0, 0);
	GUEST_DONE();
}

/* Launcher side: the same, with the launcher's own registers. */
static void launcher_fpu_load(const struct fpu_regs *in, struct fpu_regs *out)
{
	asm volatile(FPU_LOAD
		     FPU_STORE
		     : : "c" (in), "d" (out) : "memory", "cc");
}

static void launcher_fpu_reset(void)
{
	struct fpu_regs r;

	memset(&r, 0, sizeof(r));
	r.mxcsr = MXCSR_DEFAULT;
	r.fcw = FCW_DEFAULT;
	launcher_fpu_load(&r, &r);
}

TEST(fresh_guest_state)
{
	struct fpu_regs junk, out;
	struct lg_vm *vm;

	if (!lg_dev_present())
		SKIP(return, LG_NO_DEV_MSG);
	/* Junk in the launcher's registers; it must not reach the guest. */
	fpu_fill(&junk, 0xbad, 1);
	launcher_fpu_load(&junk, &out);
	vm = lg_vm_create(0, guest_fpu_fresh);
	ASSERT_UCALL(vm, UCALL_SYNC);
	EXPECT_EQ(FCW_DEFAULT, vm->uc.args[0]);
	EXPECT_EQ(0xffff, vm->uc.args[1]);	/* tag word: all empty */
	ASSERT_UCALL(vm, UCALL_DONE);
	lg_vm_free(vm);
	launcher_fpu_reset();
	lg_assert_host_ok(_metadata);
}

static GUEST_CODE void guest_fpu_rounds(void)
{
	uint32_t round;
	int diff;

	for (round = 0; round < NR_ROUNDS; round++) {
		GUEST_ASSERT_EQ(guest_fpu_round(round), round + 1);
		diff = fpu_diff(&guest_in, &guest_out);
		__GUEST_ASSERT(diff < 0,
			       "round %u: word %d is %#x, not %#x", round, diff,
			       ((uint32_t *)&guest_out)[diff],
			       ((uint32_t *)&guest_in)[diff]);
	}
	GUEST_DONE();
}

/*
 * The launcher answers each of the guest's hypercalls after loading its
 * own values (another seed) and checking they read back.
 */
static void launcher_answer(struct __test_metadata *_metadata,
			    struct lg_vm *vm, uint32_t seed, uint32_t round)
{
	struct fpu_regs in, out;

	ASSERT_EXIT(vm, LGUEST_EXIT_HYPERCALL);
	ASSERT_EQ(LG_HCALL_TEST, vm->run.hypercall.nr);
	ASSERT_EQ(round, vm->run.hypercall.args[0]);
	fpu_fill(&in, seed, round);
	launcher_fpu_load(&in, &out);
	ASSERT_EQ(-1, fpu_diff(&in, &out));
	vm->run.hypercall.ret = round + 1;
}

TEST(guest_and_launcher)
{
	struct lg_vm *vm;
	uint32_t round;

	if (!lg_dev_present())
		SKIP(return, LG_NO_DEV_MSG);
	vm = lg_vm_create(0, guest_fpu_rounds);
	guest_seed = 1;
	lg_sync_global_to_guest(vm, guest_seed);
	for (round = 0; round < NR_ROUNDS; round++)
		launcher_answer(_metadata, vm, 2, round);
	launcher_fpu_reset();
	ASSERT_UCALL(vm, UCALL_DONE);
	lg_vm_free(vm);
	lg_assert_host_ok(_metadata);
}

/* Two guests, each stopped in a hypercall while the other runs. */
TEST(two_guests)
{
	struct lg_vm *vm[2];
	uint32_t round, i;

	if (!lg_dev_present())
		SKIP(return, LG_NO_DEV_MSG);
	for (i = 0; i < 2; i++) {
		vm[i] = lg_vm_create(0, guest_fpu_rounds);
		guest_seed = 10 + i;
		lg_sync_global_to_guest(vm[i], guest_seed);
	}
	for (round = 0; round < NR_ROUNDS; round++)
		for (i = 0; i < 2; i++)
			launcher_answer(_metadata, vm[i], 20 + i, round);
	launcher_fpu_reset();
	for (i = 0; i < 2; i++) {
		ASSERT_UCALL(vm[i], UCALL_DONE);
		lg_vm_free(vm[i]);
	}
	lg_assert_host_ok(_metadata);
}

TEST_HARNESS_MAIN
