// SPDX-License-Identifier: GPL-2.0
/*
 * Traps of a tiny guest: exceptions at CPL 1 reach the guest's own IDT
 * entries with the right vector, error code and eip, and the guest can
 * return from them with iret; privileged instructions in the guest kernel
 * (cli, hlt, lgdt, mov to cr3, in, ...) fault instead of acting on the
 * real CPU, except rdmsr and wrmsr, which the host gives the meaning of
 * the guest's paravirt MSR operations (reads 0, writes vanish) so that
 * Linux's few raw ones work; guest user space (CPL 3) is entered with
 * iret, its traps come to the guest kernel on the stack it set with
 * LHCALL_SET_STACK, and it cannot make hypercalls.
 *
 * See include/lguest_util.h for how the guest code in this file runs.
 * All tests are skipped when /dev/lguest does not exist.
 */
#include <stdint.h>
#include <string.h>

#include "../kselftest_harness.h"
#include "lguest_util.h"

/* What the guest's handler saw of the last trap. */
struct trap_record {
	uint32_t count;
	uint32_t vector;
	uint32_t error_code;
	uint32_t eip;
	uint32_t cs;
	uint32_t user_esp;
	uint32_t user_ss;
	uint32_t cr2;
};

static struct trap_record rec GUEST_DATA;

/* Where the instruction under test is, and where to resume after it. */
static uint32_t fault_ip GUEST_DATA;
static uint32_t resume_ip GUEST_DATA;

static GUEST_CODE void record_trap(struct lg_trap_frame *frame)
{
	rec.count++;
	rec.vector = frame->vector;
	rec.error_code = frame->error_code;
	rec.eip = frame->eip;
	/* A pushed selector's upper 16 bits are not defined. */
	rec.cs = frame->cs & 0xffff;

	/*
	 * A fault leaves eip at the instruction: skip it, by its length
	 * as the assembler knew it.  A trap (int3) already points past it.
	 */
	if (frame->eip == fault_ip)
		frame->eip = resume_ip;
}

/*
 * Run @insn after @setup, telling record_trap() where it is and how long.
 * Clobbers eax, ecx and edx, which is all the instructions below need.
 */
#define GUEST_TRY(setup, insn)						\
	({								\
		asm volatile("movl $1f, %[fip]\n\t"			\
			     "movl $2f, %[rip]\n\t"			\
			     setup "\n"					\
			     "1:\t" insn "\n"				\
			     "2:"					\
			     : [fip] "=m" (fault_ip), [rip] "=m" (resume_ip) \
			     : : "eax", "ecx", "edx", "memory");	\
	})

enum {
	INSN_DIV0,
	INSN_UD2,
	INSN_INT3,
	INSN_CLI,
	INSN_STI,
	INSN_HLT,
	INSN_LGDT,
	INSN_LIDT,
	INSN_MOV_TO_CR3,
	INSN_MOV_FROM_CR0,
	INSN_CLTS,
	INSN_INVLPG,
	INSN_WBINVD,
	INSN_INB,
	INSN_OUTB,
	INSN_INT80,
};

static uint32_t insn GUEST_DATA;

static GUEST_CODE void do_insn(void)
{
	switch (insn) {
	case INSN_DIV0:
		GUEST_TRY("xorl %%edx, %%edx; movl $1, %%eax; xorl %%ecx, %%ecx",
			  "divl %%ecx");
		break;
	case INSN_UD2:
		GUEST_TRY("", "ud2");
		break;
	case INSN_INT3:
		GUEST_TRY("", "int3");
		break;
	case INSN_CLI:
		GUEST_TRY("", "cli");
		break;
	case INSN_STI:
		GUEST_TRY("", "sti");
		break;
	case INSN_HLT:
		GUEST_TRY("", "hlt");
		break;
	case INSN_LGDT:
		GUEST_TRY("", "lgdt (%%esp)");
		break;
	case INSN_LIDT:
		GUEST_TRY("", "lidt (%%esp)");
		break;
	case INSN_MOV_TO_CR3:
		GUEST_TRY("movl $0x1000, %%eax", "movl %%eax, %%cr3");
		break;
	case INSN_MOV_FROM_CR0:
		GUEST_TRY("", "movl %%cr0, %%eax");
		break;
	case INSN_CLTS:
		GUEST_TRY("", "clts");
		break;
	case INSN_INVLPG:
		GUEST_TRY("", "invlpg (%%esp)");
		break;
	case INSN_WBINVD:
		GUEST_TRY("", "wbinvd");
		break;
	case INSN_INB:
		GUEST_TRY("", "inb $0x80, %%al");
		break;
	case INSN_OUTB:
		GUEST_TRY("xorl %%eax, %%eax", "outb %%al, $0x80");
		break;
	case INSN_INT80:
		GUEST_TRY("", "int $0x80");
		break;
	default:
		GUEST_FAIL("unknown instruction %u", insn);
	}
}

#define NR_TRIES	3

static GUEST_CODE void guest_exception(void)
{
	uint32_t i;

	guest_set_idt(0, record_trap, 0);	/* #DE */
	guest_set_idt(3, record_trap, 3);	/* #BP: int3 is allowed */
	guest_set_idt(6, record_trap, 0);	/* #UD */
	guest_set_idt(13, record_trap, 0);	/* #GP */

	/* More than once: the first delivery must not be the last. */
	for (i = 1; i <= NR_TRIES; i++) {
		do_insn();
		GUEST_ASSERT_EQ(rec.count, i);
		GUEST_ASSERT_EQ(rec.cs, LG_KERNEL_CS);
		GUEST_SYNC_ARGS(rec.vector, rec.error_code, rec.eip, i);
	}
	GUEST_DONE();
}

FIXTURE(exception) {
	struct lg_vm *vm;
};

FIXTURE_VARIANT(exception) {
	uint32_t insn;
	uint32_t vector;
	uint32_t error_code;
	bool is_trap;		/* eip after the instruction, not at it */
};

FIXTURE_VARIANT_ADD(exception, divide_error) {
	.insn = INSN_DIV0, .vector = 0,
};

FIXTURE_VARIANT_ADD(exception, ud2) {
	.insn = INSN_UD2, .vector = 6,
};

FIXTURE_VARIANT_ADD(exception, int3) {
	.insn = INSN_INT3, .vector = 3, .is_trap = true,
};

/* Privileged instructions at CPL 1: #GP(0), not emulated. */
FIXTURE_VARIANT_ADD(exception, cli) {
	.insn = INSN_CLI, .vector = 13,
};

FIXTURE_VARIANT_ADD(exception, sti) {
	.insn = INSN_STI, .vector = 13,
};

FIXTURE_VARIANT_ADD(exception, hlt) {
	.insn = INSN_HLT, .vector = 13,
};

FIXTURE_VARIANT_ADD(exception, lgdt) {
	.insn = INSN_LGDT, .vector = 13,
};

FIXTURE_VARIANT_ADD(exception, lidt) {
	.insn = INSN_LIDT, .vector = 13,
};

FIXTURE_VARIANT_ADD(exception, mov_to_cr3) {
	.insn = INSN_MOV_TO_CR3, .vector = 13,
};

FIXTURE_VARIANT_ADD(exception, mov_from_cr0) {
	.insn = INSN_MOV_FROM_CR0, .vector = 13,
};

FIXTURE_VARIANT_ADD(exception, clts) {
	.insn = INSN_CLTS, .vector = 13,
};

FIXTURE_VARIANT_ADD(exception, invlpg) {
	.insn = INSN_INVLPG, .vector = 13,
};

FIXTURE_VARIANT_ADD(exception, wbinvd) {
	.insn = INSN_WBINVD, .vector = 13,
};

FIXTURE_VARIANT_ADD(exception, inb) {
	.insn = INSN_INB, .vector = 13,
};

FIXTURE_VARIANT_ADD(exception, outb) {
	.insn = INSN_OUTB, .vector = 13,
};

/*
 * int $0x80 with no IDT entry from the guest: the host's gate for 0x80
 * is not open to the guest, so the CPU raises #GP with the vector in the
 * error code (IDT flag set), and that #GP is the guest's.
 */
FIXTURE_VARIANT_ADD(exception, int80_no_entry) {
	.insn = INSN_INT80, .vector = 13, .error_code = (0x80 << 3) | 2,
};

FIXTURE_SETUP(exception)
{
	if (!lg_dev_present())
		SKIP(return, LG_NO_DEV_MSG);
	self->vm = lg_vm_create(0, guest_exception);
}

FIXTURE_TEARDOWN(exception)
{
	lg_vm_free(self->vm);
}

TEST_F(exception, reflected)
{
	struct lg_vm *vm = self->vm;
	uint32_t i;

	insn = variant->insn;
	lg_sync_global_to_guest(vm, insn);

	for (i = 1; i <= NR_TRIES; i++) {
		ASSERT_UCALL(vm, UCALL_SYNC);
		ASSERT_EQ(i, vm->uc.args[3]);
		lg_sync_global_from_guest(vm, fault_ip);
		lg_sync_global_from_guest(vm, resume_ip);
		EXPECT_EQ(variant->vector, vm->uc.args[0]);
		EXPECT_EQ(variant->error_code, vm->uc.args[1]);
		EXPECT_EQ(variant->is_trap ? resume_ip : fault_ip,
			  vm->uc.args[2]);
	}
	ASSERT_UCALL(vm, UCALL_DONE);
}

/* A hypercall number the host does not know kills the guest. */
static GUEST_CODE void guest_bad_hcall(void)
{
	lg_hcall(LHCALL_LAUNCHER_BASE - 1, 0, 0, 0, 0);
	GUEST_FAIL("survived an unknown hypercall");
}

TEST(unknown_hcall_kills)
{
	struct lg_vm *vm;

	if (!lg_dev_present())
		SKIP(return, LG_NO_DEV_MSG);
	vm = lg_vm_create(0, guest_bad_hcall);
	ASSERT_EXIT(vm, LGUEST_EXIT_DEAD);
	EXPECT_LT(0, strlen(vm->run.dead.reason));
	TH_LOG("%s", lg_exit_str(vm));
	lg_vm_free(vm);
}

/*
 * Guest user space.  The launcher copies one of the snippets below to a
 * user page at USER_CODE; it runs at CPL 3 until it traps.  They are
 * machine code, as the assembler would emit it, because they run at an
 * address other than their own; @trap_at is the offset of the
 * instruction that traps (of the one after it for int n, a trap).
 */
#define USER_CODE	0x50000000u
#define USER_STACK	0x50010000u	/* one page; esp starts at its top */

static const uint8_t user_ud2[] = {
	0x0f, 0x0b,			/* ud2 */
};

/* With eax a launcher call, reaching the launcher would be plain. */
static const uint8_t user_hcall[] = {
	0xb8,				/* mov $LG_HCALL_TEST, %eax */
	LG_HCALL_TEST & 0xff, (LG_HCALL_TEST >> 8) & 0xff,
	(LG_HCALL_TEST >> 16) & 0xff, LG_HCALL_TEST >> 24,
	0xcd, LG_TRAP_ENTRY,		/* int $0x1f */
	0x0f, 0x0b,			/* ud2 */
};

static const uint8_t user_int80[] = {
	0xb8, 0x11, 0xca, 0x05, 0x00,	/* mov $0x5ca11, %eax */
	0xcd, 0x80,			/* int $0x80 */
	0x0f, 0x0b,			/* ud2 */
};

static const uint8_t user_cli[] = {
	0xfa,				/* cli */
	0x0f, 0x0b,			/* ud2 */
};

/* Guest-kernel memory: supervisor pages, not for CPL 3. */
static const uint8_t user_read_kernel[] = {
	0xa1, 0x00, 0x10, 0x00, 0x00,	/* mov 0x1000, %eax */
	0x0f, 0x0b,			/* ud2 */
};

static struct lguest_data *lgd GUEST_DATA;
/* Set by the launcher when the test needs cr2, i.e. lguest_data. */
static uint32_t want_cr2 GUEST_DATA;

static GUEST_CODE void user_trap(struct lg_trap_frame *frame)
{
	rec.count++;
	rec.vector = frame->vector;
	rec.error_code = frame->error_code;
	rec.eip = frame->eip;
	rec.cs = frame->cs & 0xffff;
	if ((rec.cs & 3) != 3) {
		/* A guest kernel bug: do not go back into it. */
		GUEST_FAIL("trap %u from CPL %u at %#x", frame->vector,
			   rec.cs & 3, frame->eip);
	}
	rec.user_esp = frame->user_esp;
	rec.user_ss = frame->user_ss & 0xffff;
	if (frame->vector == 14 && lgd)
		rec.cr2 = lgd->cr2;
	if (frame->vector == 0x80)
		rec.cr2 = frame->eax;	/* to check it arrived */
	guest_return_from_user(frame, frame->vector);
}

static GUEST_CODE void guest_user(void)
{
	uint32_t ret;

	if (want_cr2)
		lgd = guest_lguest_init();
	guest_set_trap_stack();
	guest_set_idt(6, user_trap, 0);
	guest_set_idt(13, user_trap, 0);
	guest_set_idt(14, user_trap, 0);
	guest_set_idt(0x80, user_trap, 3);

	ret = guest_enter_user(USER_CODE, USER_STACK + LG_PAGE_SIZE);
	GUEST_ASSERT_EQ(ret, rec.vector);
	GUEST_ASSERT_EQ(rec.count, 1);
	GUEST_ASSERT_EQ(rec.cs, LG_USER_CS);
	GUEST_ASSERT_EQ(rec.user_ss, LG_USER_DS);
	GUEST_ASSERT_EQ(rec.user_esp, USER_STACK + LG_PAGE_SIZE);
	GUEST_SYNC_ARGS(rec.vector, rec.error_code, rec.eip, rec.cr2);
	GUEST_DONE();
}

FIXTURE(user) {
	struct lg_vm *vm;
};

FIXTURE_VARIANT(user) {
	const uint8_t *code;
	size_t size;
	uint32_t trap_at;
	uint32_t vector;
	uint32_t error_code;
	uint32_t cr2;		/* #PF: the address; int $0x80: eax */
};

/* The user mode machinery itself: CPL 3 runs and its #UD comes back. */
FIXTURE_VARIANT_ADD(user, ud2) {
	.code = user_ud2, .size = sizeof(user_ud2), .trap_at = 0,
	.vector = 6,
};

/*
 * The hypercall gate is DPL 1: int $0x1F from CPL 3 is a #GP with the
 * vector in the error code, for the guest kernel, not a hypercall.
 */
FIXTURE_VARIANT_ADD(user, hcall_refused) {
	.code = user_hcall, .size = sizeof(user_hcall), .trap_at = 5,
	.vector = 13, .error_code = (LG_TRAP_ENTRY << 3) | 2,
};

/* A system call gate the guest opened to CPL 3 works from there. */
FIXTURE_VARIANT_ADD(user, int80_syscall) {
	.code = user_int80, .size = sizeof(user_int80), .trap_at = 7,
	.vector = 0x80, .cr2 = 0x5ca11,
};

FIXTURE_VARIANT_ADD(user, cli) {
	.code = user_cli, .size = sizeof(user_cli), .trap_at = 0,
	.vector = 13,
};

FIXTURE_VARIANT_ADD(user, reads_kernel_page) {
	.code = user_read_kernel, .size = sizeof(user_read_kernel),
	.trap_at = 0, .vector = 14, .error_code = LG_PF_U | LG_PF_P, .cr2 = 0x1000,
};

FIXTURE_SETUP(user)
{
	uint32_t code, stack;

	if (!lg_dev_present())
		SKIP(return, LG_NO_DEV_MSG);
	self->vm = lg_vm_create(0, guest_user);

	code = lg_vm_alloc_page(self->vm);
	memcpy(lg_gpa2hva(self->vm, code), variant->code, variant->size);
	lg_vm_map(self->vm, USER_CODE, code, LG_PTE_U);
	stack = lg_vm_alloc_page(self->vm);
	lg_vm_map(self->vm, USER_STACK, stack, LG_PTE_U | LG_PTE_RW);

	want_cr2 = variant->vector == 14;
	lg_sync_global_to_guest(self->vm, want_cr2);
}

FIXTURE_TEARDOWN(user)
{
	lg_vm_free(self->vm);
}

TEST_F(user, trap_to_guest_kernel)
{
	struct lg_vm *vm = self->vm;

	ASSERT_EQ(0, lg_vcpu_run(vm));
	ASSERT_FALSE(vm->run.exit_reason == LGUEST_EXIT_HYPERCALL &&
		     vm->run.hypercall.nr == LG_HCALL_TEST) {
		TH_LOG("guest user space made a hypercall");
	}
	ASSERT_EQ(UCALL_SYNC, vm->uc.cmd) {
		TH_LOG("%s", lg_exit_str(vm));
	}
	EXPECT_EQ(variant->vector, vm->uc.args[0]);
	EXPECT_EQ(variant->error_code, vm->uc.args[1]);
	EXPECT_EQ(USER_CODE + variant->trap_at, vm->uc.args[2]);
	EXPECT_EQ(variant->cr2, vm->uc.args[3]);
	ASSERT_UCALL(vm, UCALL_DONE);
}

/*
 * A raw rdmsr in the guest kernel reads 0 (whatever the registers held),
 * a raw wrmsr does nothing: neither traps, neither reaches the CPU.
 */
static GUEST_CODE void guest_raw_msr(void)
{
	uint32_t lo = 0xdead, hi = 0xbeef;

	asm volatile("rdmsr" : "+a" (lo), "+d" (hi) : "c" (0x8b));
	GUEST_SYNC_ARGS(lo, hi, 0, 0);
	asm volatile("wrmsr" : : "c" (0x10), "a" (0), "d" (0));
	GUEST_DONE();
}

TEST(raw_msr_emulated_at_cpl1)
{
	struct lg_vm *vm;

	if (!lg_dev_present())
		SKIP(return, LG_NO_DEV_MSG);
	vm = lg_vm_create(0, guest_raw_msr);
	ASSERT_UCALL(vm, UCALL_SYNC);
	EXPECT_EQ(0, vm->uc.args[0]);
	EXPECT_EQ(0, vm->uc.args[1]);
	ASSERT_UCALL(vm, UCALL_DONE);
	lg_vm_free(vm);
}

TEST_HARNESS_MAIN
