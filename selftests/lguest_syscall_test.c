// SPDX-License-Identifier: GPL-2.0
/*
 * System calls that go straight from guest user space to the guest kernel.
 *
 * When the guest's IDT entry for "int $0x80" is open to ring 3 and the
 * guest has told the host its kernel stack (LHCALL_SET_STACK), the host
 * puts a trap gate for 0x80 into the switcher's IDT that leads into the
 * guest kernel itself: the CPU switches to the guest kernel's stack (the
 * TSS's ss1:esp1) and runs its handler in ring 1, without an exit.  Here:
 *
 *  - such system calls all reach the guest's handler with the frame the
 *    CPU would push, on the right stack, and cost (almost) no exits;
 *  - without those conditions (a DPL 0 entry, no kernel stack yet, the
 *    entry closed again) 0x80 exits as before, and is reflected or refused;
 *  - the host keeps the kernel stack mapped, and copes with one it cannot
 *    map: mapped late by the guest, the system call goes through; never
 *    mapped (or read-only, or in the switcher), or with a stack segment
 *    ring 1 cannot use, the guest is killed with a reason, without a
 *    hang; a bad LHCALL_SET_STACK kills the guest;
 *  - two guests, one with the direct gate and one without, on one CPU in
 *    turn or on several at once, never see each other's gate.
 *
 * See include/lguest_util.h for how the guest code in this file runs.
 * All tests are skipped when /dev/lguest does not exist.
 */
#define _GNU_SOURCE		/* sched_getcpu(), CPU_SET() */
#include <glob.h>
#include <pthread.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "../kselftest_harness.h"
#include "lguest_util.h"
#include "lguest_host_ok.h"

#define USER_CODE	0x50000000u
#define USER_STACK	0x50010000u	/* one page; esp starts at its top */
#define LATE_STACK	0x60000000u	/* a kernel stack page mapped late */

#define SYSCALL_VECTOR	0x80
#define SYSCALL_NR	0x5ca11
#define NR_CALLS	1000
#define IF_FLAG		0x200
#define GP_IDT(n)	(((n) << 3) | 2)

/*
 * For a broken kernel stack segment: the guest's GDT entry for
 * LG_KERNEL_DS becomes a DPL 3 data segment (which the CPU refuses as a
 * ring 1 stack), and the guest kernel moves to another stack segment.
 */
#define KERNEL_DS_INDEX	13
#define OTHER_DS_INDEX	20
#define DESC_FLAT_LO	0x0000ffffu
#define DESC_DATA_DPL1	0x00cfb300u	/* flat, read/write, accessed */
#define DESC_DATA_DPL3	0x00cff300u

/*
 * Guest user space: ncalls system calls, adding up what they return in
 * ebx, then ud2 to go back to the guest kernel.  Machine code, because it
 * runs at USER_CODE rather than at its own address; the launcher patches
 * the count in.
 */
#define INT80_AT	12	/* offset of the int $0x80 */
#define UD2_AT		19	/* and of the ud2 */

static const uint8_t user_loop[] = {
	0xb9, 0, 0, 0, 0,		/* mov $ncalls, %ecx */
	0x31, 0xdb,			/* xor %ebx, %ebx */
	0xb8, 0x11, 0xca, 0x05, 0x00,	/* 1: mov $SYSCALL_NR, %eax */
	0xcd, SYSCALL_VECTOR,		/* int $0x80 */
	0x01, 0xc3,			/* add %eax, %ebx */
	0x49,				/* dec %ecx */
	0x75, 0xf4,			/* jnz 1b */
	0x0f, 0x0b,			/* ud2 */
};

/* The guest kernel's stack for LHCALL_SET_STACK. */
enum {
	STACK_LIB,		/* the library's trap stack page */
	STACK_POOL,		/* pages from the guest's pool */
	STACK_LATE,		/* LATE_STACK, mapped after LHCALL_SET_STACK */
	STACK_UNMAPPED,		/* LATE_STACK, never mapped */
	STACK_READ_ONLY,	/* LATE_STACK, mapped read-only */
	STACK_SWITCHER,		/* in the switcher's page-directory slot */
	STACK_BAD_SS,		/* LG_KERNEL_DS made unusable as a stack */
};

/* What the guest does; the launcher sets it before the guest runs. */
struct guest_cfg {
	uint32_t ncalls;	/* system calls per round */
	uint32_t rounds;
	uint32_t gate_dpl;	/* of the guest's 0x80 entry */
	uint32_t gate_type;	/* LG_GATE_TRAP or LG_GATE_INTR */
	uint32_t irq_on;	/* register lguest_data, virtual IF on */
	uint32_t kernel_mode;	/* the calls come from CPL 1, not CPL 3 */
	uint32_t stack;		/* STACK_* */
	uint32_t stack_pages;	/* for LHCALL_SET_STACK */
	uint32_t stack_alloc;	/* STACK_POOL: pages to take from the pool */
	uint32_t stack_off;	/* STACK_POOL: esp1 - the first page */
	uint32_t stack_round;	/* LHCALL_SET_STACK before this round */
	uint32_t close_round;	/* if not 0: entry DPL 0 from this round */
};

static struct guest_cfg cfg GUEST_DATA;

/* What the guest's handlers saw in this round. */
static struct {
	uint32_t calls;		/* int $0x80 that reached syscall_trap() */
	uint32_t gps;		/* int $0x80 refused with a #GP */
	uint32_t irq_off;	/* syscall_trap() found the virtual IF off */
	uint32_t bad;		/* frames other than expected */
	uint32_t bad_eip, bad_cs, bad_frame;	/* the first one */
} res GUEST_DATA;

static struct lguest_data *lgd GUEST_DATA;
static uint32_t stack_top GUEST_DATA;
static uint32_t kernel_int80 GUEST_DATA;	/* int $0x80 at CPL 1 */

/*
 * The frame of system call number n of the round: from the loop in
 * user_loop[] or kernel_syscalls(), at the instruction (a #GP) or after
 * it, and from CPL 3 on top of the kernel stack the guest set.
 */
static GUEST_CODE void check_frame(struct lg_trap_frame *frame, uint32_t n,
				   bool fault)
{
	uint32_t cs = frame->cs & 0xffff;
	uint32_t at = fault ? 0 : 2;
	bool ok;

	if (cfg.kernel_mode) {
		ok = cs == LG_KERNEL_CS && frame->eip == kernel_int80 + at;
	} else {
		ok = cs == LG_USER_CS &&
		     frame->eip == USER_CODE + INT80_AT + at &&
		     (frame->user_ss & 0xffff) == LG_USER_DS &&
		     frame->user_esp == USER_STACK + LG_PAGE_SIZE &&
		     (uint32_t)(uintptr_t)(frame + 1) == stack_top;
	}
	ok = ok && frame->eax == SYSCALL_NR && frame->ecx == cfg.ncalls + 1 - n;
	if (!ok && !res.bad++) {
		res.bad_eip = frame->eip;
		res.bad_cs = cs;
		res.bad_frame = (uint32_t)(uintptr_t)frame;
	}
}

/* The system call handler: it returns the call's number in the round. */
static GUEST_CODE void syscall_trap(struct lg_trap_frame *frame)
{
	uint32_t n = ++res.calls + res.gps;

	check_frame(frame, n, false);
	if (lgd && READ_ONCE(lgd->irq_enabled) != IF_FLAG)
		res.irq_off++;
	frame->eax = n;
}

/* A refused system call: the same result, as if it had gone through. */
static GUEST_CODE void gp_trap(struct lg_trap_frame *frame)
{
	uint32_t n = res.calls + ++res.gps;

	__GUEST_ASSERT(frame->error_code == GP_IDT(SYSCALL_VECTOR),
		       "#GP %#x at %#x", frame->error_code, frame->eip);
	check_frame(frame, n, true);
	frame->eip += 2;
	frame->eax = n;
}

/* The end of user_loop[]: back to the guest kernel with the sum. */
static GUEST_CODE void ud_trap(struct lg_trap_frame *frame)
{
	__GUEST_ASSERT((frame->cs & 0xffff) == LG_USER_CS &&
		       frame->eip == USER_CODE + UD2_AT,
		       "#UD at %#x, cs %#x", frame->eip, frame->cs & 0xffff);
	guest_return_from_user(frame, frame->ebx);
}

/*
 * No page fault, #TS, #NP or #SS is the guest's here: those about the
 * kernel stack the host must handle, or kill the guest for when it cannot
 * (it cannot run this handler on that stack either).  Their handlers must
 * exist all the same, or the host kills the guest for not having one
 * before it gets that far.
 */
static GUEST_CODE void stack_fault_trap(struct lg_trap_frame *frame)
{
	GUEST_FAIL("trap %u, error %#x at %#x, cs %#x", frame->vector,
		   frame->error_code, frame->eip, frame->cs & 0xffff);
}

/* n system calls from CPL 1; the sum of what they return. */
static GUEST_CODE uint32_t kernel_syscalls(uint32_t n)
{
	uint32_t sum = 0;

	asm volatile("movl $1f, %[at]\n"
		     "2:\tmovl %[nr], %%eax\n"
		     "1:\tint %[vec]\n\t"
		     "addl %%eax, %[sum]\n\t"
		     "decl %%ecx\n\t"
		     "jnz 2b"
		     : [sum] "+r" (sum), "+c" (n), [at] "=m" (kernel_int80)
		     : [nr] "i" (SYSCALL_NR), [vec] "i" (SYSCALL_VECTOR)
		     : "eax", "memory", "cc");
	return sum;
}

static GUEST_CODE void set_syscall_gate(uint32_t dpl, uint32_t type)
{
	guest_set_idt_gate(SYSCALL_VECTOR, (uint32_t)(uintptr_t)lg_trap_stubs +
			   SYSCALL_VECTOR * LG_TRAP_STUB_SIZE, dpl, type);
}

static GUEST_CODE void guest_set_stack(void)
{
	uint32_t base = 0, page, i;

	switch (cfg.stack) {
	case STACK_LIB:
		stack_top = lg_guest_info.trap_stack_top;
		break;
	case STACK_POOL:
		/* Pool pages are consecutive; the first is the lowest. */
		for (i = 0; i < cfg.stack_alloc; i++) {
			page = guest_alloc_page();
			if (!i)
				base = page;
		}
		stack_top = base + cfg.stack_off;
		break;
	case STACK_READ_ONLY:
		guest_map_page(LATE_STACK, guest_alloc_page(), 0);
		stack_top = LATE_STACK + LG_PAGE_SIZE;
		break;
	case STACK_SWITCHER:
		if (!lgd)
			lgd = guest_lguest_init();
		stack_top = 0 - lgd->reserve_mem + LG_PAGE_SIZE;
		break;
	case STACK_BAD_SS:
		lg_hcall(LHCALL_LOAD_GDT_ENTRY, OTHER_DS_INDEX, DESC_FLAT_LO,
			 DESC_DATA_DPL1, 0);
		asm volatile("movl %0, %%ss" : : "r" (OTHER_DS_INDEX * 8 + 1));
		lg_hcall(LHCALL_LOAD_GDT_ENTRY, KERNEL_DS_INDEX, DESC_FLAT_LO,
			 DESC_DATA_DPL3, 0);
		stack_top = lg_guest_info.trap_stack_top;
		break;
	default:
		stack_top = LATE_STACK + LG_PAGE_SIZE;
	}
	lg_hcall(LHCALL_SET_STACK, LG_KERNEL_DS, stack_top, cfg.stack_pages, 0);
	/* The host could not map it: it will when it is first used. */
	if (cfg.stack == STACK_LATE)
		guest_map_page(LATE_STACK, guest_alloc_page(), LG_PTE_RW);
}

/*
 * Rounds of system calls.  Each round starts with GUEST_SYNC_ARGS(round),
 * where the launcher reads the exit counters, and ends with
 * GUEST_SYNC_ARGS(round, calls, refused, irq_off) once the guest has
 * checked every frame and the sum of the results.
 */
static GUEST_CODE void guest_syscalls(void)
{
	uint32_t round, sum;

	if (cfg.irq_on) {
		lgd = guest_lguest_init();
		WRITE_ONCE(lgd->irq_enabled, IF_FLAG);
	}
	guest_set_idt(6, ud_trap, 0);
	guest_set_idt(10, stack_fault_trap, 0);
	guest_set_idt(11, stack_fault_trap, 0);
	guest_set_idt(12, stack_fault_trap, 0);
	guest_set_idt(13, gp_trap, 0);
	guest_set_idt(14, stack_fault_trap, 0);
	guest_set_idt(SYSCALL_VECTOR, syscall_trap, cfg.gate_dpl);
	set_syscall_gate(cfg.gate_dpl, cfg.gate_type);

	for (round = 0; round < cfg.rounds; round++) {
		if (round == cfg.stack_round)
			guest_set_stack();
		if (cfg.close_round && round == cfg.close_round)
			set_syscall_gate(0, cfg.gate_type);
		GUEST_SYNC_ARGS(round, 0, 0, 0);
		res.calls = 0;
		res.gps = 0;
		res.irq_off = 0;
		if (cfg.kernel_mode)
			sum = kernel_syscalls(cfg.ncalls);
		else
			sum = guest_enter_user(USER_CODE,
					       USER_STACK + LG_PAGE_SIZE);
		__GUEST_ASSERT(!res.bad,
			       "%u bad frames, first: eip %#x cs %#x at %#x",
			       res.bad, res.bad_eip, res.bad_cs, res.bad_frame);
		GUEST_ASSERT_EQ(sum, cfg.ncalls * (cfg.ncalls + 1) / 2);
		GUEST_SYNC_ARGS(round, res.calls, res.gps, res.irq_off);
	}
	GUEST_DONE();
}

/* ---- launcher side ---- */

/* The exit counters of this process's guests, summed, from debugfs. */
struct exits {
	unsigned long total, hypercall, page_fault, trap, host_irq;
};

static bool read_exits(struct exits *e)
{
	char pattern[64], name[32];
	unsigned long n;
	glob_t g;
	size_t i;
	FILE *f;

	memset(e, 0, sizeof(*e));
	snprintf(pattern, sizeof(pattern),
		 "/sys/kernel/debug/lguest/%d-*/exits", getpid());
	if (glob(pattern, 0, NULL, &g))
		return false;
	for (i = 0; i < g.gl_pathc; i++) {
		f = fopen(g.gl_pathv[i], "r");
		if (!f)
			break;
		while (fscanf(f, "%31s %lu", name, &n) == 2) {
			e->total += n;
			if (!strcmp(name, "hypercall"))
				e->hypercall += n;
			else if (!strcmp(name, "page_fault"))
				e->page_fault += n;
			else if (!strcmp(name, "trap"))
				e->trap += n;
			else if (!strcmp(name, "host_irq"))
				e->host_irq += n;
		}
		fclose(f);
	}
	globfree(&g);
	return i == g.gl_pathc;
}

static void exits_since(struct exits *e, const struct exits *before)
{
	e->total -= before->total;
	e->hypercall -= before->hypercall;
	e->page_fault -= before->page_fault;
	e->trap -= before->trap;
	e->host_irq -= before->host_irq;
}

static struct lg_vm *syscall_vm_create(const struct guest_cfg *c)
{
	struct lg_vm *vm = lg_vm_create(0, guest_syscalls);
	uint32_t code = lg_vm_alloc_page(vm);
	uint8_t *p = lg_gpa2hva(vm, code);

	memcpy(p, user_loop, sizeof(user_loop));
	memcpy(p + 1, &c->ncalls, 4);
	lg_vm_map(vm, USER_CODE, code, LG_PTE_U);
	lg_vm_map(vm, USER_STACK, lg_vm_alloc_page(vm), LG_PTE_U | LG_PTE_RW);
	lg_copy_to_guest(vm, (uint32_t)(uintptr_t)&cfg, c, sizeof(*c));
	return vm;
}

/* How a round of system calls is expected to go. */
enum {
	DIRECT,		/* to the handler, without exits */
	REFLECTED,	/* to the handler, through the host */
	REFUSED,	/* #GP, through the host */
};

static const char *round_str(uint32_t how)
{
	return how == DIRECT ? "direct" : how == REFLECTED ? "reflected" :
	       "refused";
}

/*
 * Run one round; check the guest's counts and, if @e is not NULL, the
 * exits it took.  Returns NULL or what went wrong, in @buf: this also runs
 * in threads, where the harness's assertions must not be used.
 */
static const char *run_round(struct lg_vm *vm, const struct guest_cfg *c,
			     uint32_t round, uint32_t how, struct exits *e,
			     char *buf, size_t size)
{
	uint32_t calls = how == REFUSED ? 0 : c->ncalls;
	struct exits before;

	if (lg_vcpu_run(vm) || vm->uc.cmd != UCALL_SYNC ||
	    vm->uc.args[0] != round) {
		snprintf(buf, size, "round %u start: %s", round,
			 lg_exit_str(vm));
		return buf;
	}
	if (e && !read_exits(&before)) {
		snprintf(buf, size, "no exit counters in debugfs");
		return buf;
	}
	if (lg_vcpu_run(vm) || vm->uc.cmd != UCALL_SYNC ||
	    vm->uc.args[0] != round) {
		snprintf(buf, size, "round %u: %s", round, lg_exit_str(vm));
		return buf;
	}
	if (vm->uc.args[1] != calls || vm->uc.args[2] != c->ncalls - calls) {
		snprintf(buf, size,
			 "round %u, %s: %u system calls handled, %u refused",
			 round, round_str(how), vm->uc.args[1], vm->uc.args[2]);
		return buf;
	}
	if (vm->uc.args[3]) {
		snprintf(buf, size, "round %u: virtual IF off in %u calls",
			 round, vm->uc.args[3]);
		return buf;
	}
	if (!e)
		return NULL;
	if (!read_exits(e)) {
		snprintf(buf, size, "no exit counters in debugfs");
		return buf;
	}
	exits_since(e, &before);
	/* Timer and other host interrupts, first touches of pages... */
	if (how == DIRECT && e->total >= c->ncalls / 10) {
		snprintf(buf, size, "round %u: %lu exits for %u direct calls",
			 round, e->total, c->ncalls);
		return buf;
	}
	if (how != DIRECT && e->total < c->ncalls) {
		snprintf(buf, size, "round %u: only %lu exits for %u %s calls",
			 round, e->total, c->ncalls, round_str(how));
		return buf;
	}
	return NULL;
}

static bool have_exit_counters(void)
{
	return access("/sys/kernel/debug/lguest", R_OK) == 0;
}

FIXTURE(syscalls) {
	struct lg_vm *vm;
	struct guest_cfg cfg;
};

FIXTURE_VARIANT(syscalls) {
	uint32_t gate_dpl;
	uint32_t gate_type;
	bool irq_on;
	bool kernel_mode;
	uint32_t stack;
	uint32_t stack_pages;
	uint32_t stack_alloc;
	uint32_t stack_off;
	uint32_t stack_round;
	uint32_t close_round;
	uint32_t how[2];	/* round 0, round 1 */
};

/* The library's trap stack, a trap gate open to ring 3: no exits. */
FIXTURE_VARIANT_ADD(syscalls, trap_gate) {
	.gate_dpl = 3, .gate_type = LG_GATE_TRAP, .stack = STACK_LIB,
	.stack_pages = 1, .how = { DIRECT, DIRECT },
};

/*
 * Linux's entry is an interrupt gate; the host's is a trap gate anyway,
 * and it leaves the virtual interrupt flag alone: the guest's handler
 * clears it if it wants.
 */
FIXTURE_VARIANT_ADD(syscalls, interrupt_gate) {
	.gate_dpl = 3, .gate_type = LG_GATE_INTR, .irq_on = true,
	.stack = STACK_LIB, .stack_pages = 1, .how = { DIRECT, DIRECT },
};

/* esp1 8 bytes into its second page: the frame straddles two pages. */
FIXTURE_VARIANT_ADD(syscalls, stack_two_pages) {
	.gate_dpl = 3, .gate_type = LG_GATE_TRAP, .stack = STACK_POOL,
	.stack_pages = 2, .stack_alloc = 3, .stack_off = LG_PAGE_SIZE + 8,
	.how = { DIRECT, DIRECT },
};

/* As many stack pages as a guest may have. */
FIXTURE_VARIANT_ADD(syscalls, stack_max_pages) {
	.gate_dpl = 3, .gate_type = LG_GATE_TRAP, .stack = STACK_POOL,
	.stack_pages = LGUEST_STACK_MAX_PAGES,
	.stack_alloc = LGUEST_STACK_MAX_PAGES,
	.stack_off = LGUEST_STACK_MAX_PAGES * LG_PAGE_SIZE,
	.how = { DIRECT, DIRECT },
};

/*
 * A stack the guest maps only after LHCALL_SET_STACK: the first call
 * faults on the CPU's push of its frame, the host maps the page, and the
 * call runs again, directly.
 */
FIXTURE_VARIANT_ADD(syscalls, stack_mapped_late) {
	.gate_dpl = 3, .gate_type = LG_GATE_TRAP, .stack = STACK_LATE,
	.stack_pages = 1, .how = { DIRECT, DIRECT },
};

/* A DPL 0 entry: int $0x80 from ring 3 is a #GP, as before. */
FIXTURE_VARIANT_ADD(syscalls, dpl0_gate) {
	.gate_dpl = 0, .gate_type = LG_GATE_TRAP, .stack = STACK_LIB,
	.stack_pages = 1, .how = { REFUSED, REFUSED },
};

/* The entry closed again (DPL 0) after a round of direct calls. */
FIXTURE_VARIANT_ADD(syscalls, gate_closed) {
	.gate_dpl = 3, .gate_type = LG_GATE_TRAP, .stack = STACK_LIB,
	.stack_pages = 1, .close_round = 1, .how = { DIRECT, REFUSED },
};

/*
 * From the guest kernel (CPL 1): before LHCALL_SET_STACK every call exits
 * and is reflected; after it, they go straight to the handler too.
 */
FIXTURE_VARIANT_ADD(syscalls, kernel_before_and_after_set_stack) {
	.gate_dpl = 3, .gate_type = LG_GATE_TRAP, .kernel_mode = true,
	.stack = STACK_LIB, .stack_pages = 1, .stack_round = 1,
	.how = { REFLECTED, DIRECT },
};

FIXTURE_SETUP(syscalls)
{
	struct guest_cfg *c = &self->cfg;

	if (!lg_dev_present())
		SKIP(return, LG_NO_DEV_MSG);
	if (!have_exit_counters())
		SKIP(return, "no lguest exit counters in debugfs");
	memset(c, 0, sizeof(*c));
	c->ncalls = NR_CALLS;
	c->rounds = 2;
	c->gate_dpl = variant->gate_dpl;
	c->gate_type = variant->gate_type;
	c->irq_on = variant->irq_on;
	c->kernel_mode = variant->kernel_mode;
	c->stack = variant->stack;
	c->stack_pages = variant->stack_pages;
	c->stack_alloc = variant->stack_alloc;
	c->stack_off = variant->stack_off;
	c->stack_round = variant->stack_round;
	c->close_round = variant->close_round;
	self->vm = syscall_vm_create(c);
}

FIXTURE_TEARDOWN(syscalls)
{
	lg_vm_free(self->vm);
}

/* Logs the exits of each round: hypercall, page fault, trap, host irq. */
TEST_F(syscalls, exits)
{
	const char *fail;
	struct exits e;
	char buf[256];
	uint32_t round;

	for (round = 0; round < self->cfg.rounds; round++) {
		fail = run_round(self->vm, &self->cfg, round,
				 variant->how[round], &e, buf, sizeof(buf));
		ASSERT_TRUE(!fail) {
			TH_LOG("%s", fail);
		}
		TH_LOG("round %u, %s: %lu exits in %u calls (%lu %lu %lu %lu)",
		       round, round_str(variant->how[round]), e.total,
		       self->cfg.ncalls, e.hypercall, e.page_fault, e.trap,
		       e.host_irq);
	}
	ASSERT_UCALL(self->vm, UCALL_DONE);
}

/*
 * A kernel stack the host cannot push a frame on, or a bad LHCALL_SET_STACK:
 * the guest is killed, with a reason, and does not hang on a fault it
 * takes again and again.
 */
FIXTURE(bad_stack) {
	struct lg_vm *vm;
};

FIXTURE_VARIANT(bad_stack) {
	uint32_t stack;
	uint32_t pages;
	bool at_set_stack;	/* killed by LHCALL_SET_STACK itself */
	const char *reason;	/* part of the host's reason */
};

FIXTURE_VARIANT_ADD(bad_stack, unmapped) {
	.stack = STACK_UNMAPPED, .pages = 1, .reason = "stack not mapped",
};

FIXTURE_VARIANT_ADD(bad_stack, read_only) {
	.stack = STACK_READ_ONLY, .pages = 1, .reason = "stack not mapped",
};

FIXTURE_VARIANT_ADD(bad_stack, in_switcher) {
	.stack = STACK_SWITCHER, .pages = 1, .reason = "stack not mapped",
};

/*
 * A fault while the CPU delivers the direct call: the stack segment is
 * not one ring 1 may use, a #TS.  The host gets it as a trap from user
 * mode at the int and reflects it, and the switcher's iret into the
 * guest's handler, on that same stack segment, faults in turn.
 */
FIXTURE_VARIANT_ADD(bad_stack, stack_segment) {
	.stack = STACK_BAD_SS, .pages = 1, .reason = "entering the guest",
};

FIXTURE_VARIANT_ADD(bad_stack, no_pages) {
	.stack = STACK_LIB, .pages = 0, .at_set_stack = true,
	.reason = "stack pages",
};

FIXTURE_VARIANT_ADD(bad_stack, too_many_pages) {
	.stack = STACK_LIB, .pages = LGUEST_STACK_MAX_PAGES + 1,
	.at_set_stack = true, .reason = "stack pages",
};

FIXTURE_SETUP(bad_stack)
{
	struct guest_cfg c = {
		.ncalls = 1, .rounds = 1, .gate_dpl = 3,
		.gate_type = LG_GATE_TRAP, .stack = variant->stack,
		.stack_pages = variant->pages,
	};

	if (!lg_dev_present())
		SKIP(return, LG_NO_DEV_MSG);
	self->vm = syscall_vm_create(&c);
}

FIXTURE_TEARDOWN(bad_stack)
{
	lg_vm_free(self->vm);
}

TEST_F(bad_stack, guest_killed)
{
	struct lg_vm *vm = self->vm;
	bool named;

	/* Round 0 starts, unless LHCALL_SET_STACK killed the guest. */
	ASSERT_EQ(0, lg_vcpu_run(vm));
	if (!variant->at_set_stack) {
		ASSERT_EQ(UCALL_SYNC, vm->uc.cmd) {
			TH_LOG("%s", lg_exit_str(vm));
		}
		ASSERT_EQ(0, lg_vcpu_run(vm));
	}
	ASSERT_EQ(LGUEST_EXIT_DEAD, vm->run.exit_reason) {
		TH_LOG("%s", lg_exit_str(vm));
	}
	TH_LOG("%s", lg_exit_str(vm));
	named = strstr(vm->run.dead.reason, variant->reason);
	EXPECT_TRUE(named);
	lg_assert_host_ok(_metadata);
}

/*
 * The host keeps the kernel stack mapped: it faults the page in for
 * writing, as the guest's own write would, which sets the accessed and
 * dirty bits in the guest's entry.  So the guest can see it happen: at
 * LHCALL_SET_STACK, and again after each hypercall that drops the shadow
 * of the stack page (with the guest's bits cleared in between).
 */
static GUEST_CODE uint32_t stack_pte_bits(void)
{
	return *guest_pte(lg_guest_info.trap_stack_top - 1) &
	       (LG_PTE_A | LG_PTE_D);
}

static GUEST_CODE void stack_pte_clear(void)
{
	*guest_pte(lg_guest_info.trap_stack_top - 1) &= ~(LG_PTE_A | LG_PTE_D);
}

static GUEST_CODE void guest_stack_mapped(void)
{
	uint32_t stack_page = lg_guest_info.trap_stack_top - LG_PAGE_SIZE;
	uint32_t pgdir = lg_guest_info.pgdir;
	uint32_t *copy, i;

	/* Nothing touched the page yet. */
	GUEST_ASSERT_EQ(stack_pte_bits(), 0);
	guest_set_trap_stack();
	GUEST_ASSERT_EQ(stack_pte_bits(), LG_PTE_A | LG_PTE_D);

	stack_pte_clear();
	lg_hcall(LHCALL_FLUSH_TLB, 1, 0, 0, 0);
	GUEST_ASSERT_EQ(stack_pte_bits(), LG_PTE_A | LG_PTE_D);

	stack_pte_clear();
	lg_hcall(LHCALL_FLUSH_TLB, 0, 0, 0, 0);
	GUEST_ASSERT_EQ(stack_pte_bits(), LG_PTE_A | LG_PTE_D);

	stack_pte_clear();
	lg_hcall(LHCALL_SET_PTE, pgdir, stack_page, *guest_pte(stack_page), 0);
	GUEST_ASSERT_EQ(stack_pte_bits(), LG_PTE_A | LG_PTE_D);

	stack_pte_clear();
	lg_hcall(LHCALL_SET_PGD, pgdir, stack_page >> 22, 0, 0);
	GUEST_ASSERT_EQ(stack_pte_bits(), LG_PTE_A | LG_PTE_D);

	/* A new page directory (sharing the page tables): a new shadow. */
	copy = (uint32_t *)(uintptr_t)guest_alloc_page();
	for (i = 0; i < 1024; i++)
		copy[i] = ((uint32_t *)(uintptr_t)pgdir)[i];
	stack_pte_clear();
	lg_hcall(LHCALL_NEW_PGTABLE, (uint32_t)(uintptr_t)copy, 0, 0, 0);
	GUEST_ASSERT_EQ(stack_pte_bits(), LG_PTE_A | LG_PTE_D);
	lg_hcall(LHCALL_NEW_PGTABLE, pgdir, 0, 0, 0);

	/* And a stack the guest does not map is no reason to die. */
	lg_hcall(LHCALL_SET_STACK, LG_KERNEL_DS, LATE_STACK + LG_PAGE_SIZE,
		 1, 0);
	GUEST_DONE();
}

TEST(stack_kept_mapped)
{
	struct lg_vm *vm;

	if (!lg_dev_present())
		SKIP(return, LG_NO_DEV_MSG);
	vm = lg_vm_create(0, guest_stack_mapped);
	ASSERT_UCALL(vm, UCALL_DONE);
	lg_vm_free(vm);
}

/*
 * Two guests: A with the direct gate, B with a DPL 0 entry (its int $0x80
 * from ring 3 must be a #GP).  The switcher's pages are per CPU, not per
 * guest: whichever ran there last, each must get its own gate.
 */
#define TWO_ROUNDS	20
#define TWO_CALLS	50

static void two_guest_cfgs(struct guest_cfg *a, struct guest_cfg *b)
{
	memset(a, 0, sizeof(*a));
	a->ncalls = TWO_CALLS;
	a->rounds = TWO_ROUNDS;
	a->gate_dpl = 3;
	a->gate_type = LG_GATE_TRAP;
	a->stack = STACK_LIB;
	a->stack_pages = 1;
	*b = *a;
	b->gate_dpl = 0;
}

/* In turn, on one CPU: each entry follows the other guest's. */
TEST(two_guests_one_cpu)
{
	struct guest_cfg ca, cb;
	struct lg_vm *a, *b;
	const char *fail;
	char buf[256];
	cpu_set_t cpus;
	uint32_t round;

	if (!lg_dev_present())
		SKIP(return, LG_NO_DEV_MSG);
	CPU_ZERO(&cpus);
	CPU_SET(sched_getcpu(), &cpus);
	ASSERT_EQ(0, sched_setaffinity(0, sizeof(cpus), &cpus));

	two_guest_cfgs(&ca, &cb);
	a = syscall_vm_create(&ca);
	b = syscall_vm_create(&cb);
	for (round = 0; round < TWO_ROUNDS; round++) {
		fail = run_round(a, &ca, round, DIRECT, NULL, buf, sizeof(buf));
		ASSERT_TRUE(!fail) {
			TH_LOG("guest A: %s", fail);
		}
		fail = run_round(b, &cb, round, REFUSED, NULL, buf, sizeof(buf));
		ASSERT_TRUE(!fail) {
			TH_LOG("guest B: %s", fail);
		}
	}
	ASSERT_UCALL(a, UCALL_DONE);
	ASSERT_UCALL(b, UCALL_DONE);
	lg_vm_free(a);
	lg_vm_free(b);
}

struct syscall_thread {
	pthread_t thread;
	struct guest_cfg cfg;
	uint32_t how;
	const char *fail;
	char buf[256];
};

static void *syscall_thread_fn(void *p)
{
	struct syscall_thread *t = p;
	struct lg_vm *vm = syscall_vm_create(&t->cfg);
	uint32_t round;

	for (round = 0; round < t->cfg.rounds && !t->fail; round++)
		t->fail = run_round(vm, &t->cfg, round, t->how, NULL, t->buf,
				    sizeof(t->buf));
	if (!t->fail && (lg_vcpu_run(vm) || vm->uc.cmd != UCALL_DONE)) {
		snprintf(t->buf, sizeof(t->buf), "end: %s", lg_exit_str(vm));
		t->fail = t->buf;
	}
	lg_vm_free(vm);
	return NULL;
}

/* At the same time, wherever the scheduler puts them. */
TEST(two_guests_two_threads)
{
	struct syscall_thread t[2];
	int i;

	if (!lg_dev_present())
		SKIP(return, LG_NO_DEV_MSG);
	memset(t, 0, sizeof(t));
	two_guest_cfgs(&t[0].cfg, &t[1].cfg);
	t[0].how = DIRECT;
	t[1].how = REFUSED;
	for (i = 0; i < 2; i++)
		ASSERT_EQ(0, pthread_create(&t[i].thread, NULL,
					    syscall_thread_fn, &t[i]));
	for (i = 0; i < 2; i++) {
		ASSERT_EQ(0, pthread_join(t[i].thread, NULL));
		EXPECT_TRUE(!t[i].fail) {
			TH_LOG("guest %c: %s", 'A' + i, t[i].fail);
		}
	}
}

TEST_HARNESS_MAIN
