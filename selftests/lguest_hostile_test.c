// SPDX-License-Identifier: GPL-2.0
/*
 * A hostile tiny guest tries every way out: touching the switcher's pages,
 * page-table and descriptor hypercalls aimed at the switcher or at what
 * would give it ring 0, hypercalls with wild arguments, SYSENTER, "int $n"
 * on every vector, a kernel stack in the wrong place, a page directory
 * that maps itself, and the launcher's LDT.  Each test states the precise
 * outcome (the fault reflected to the guest with its vector and error
 * code, or the guest killed with a reason) and then checks that the host
 * still runs a fresh guest.
 *
 * The switcher occupies one page-directory slot at the address the host
 * reports after LHCALL_LGUEST_INIT: 0 - lguest_data.reserve_mem.  Its
 * first page is the switcher's code (read-only for the guest), then each
 * host CPU has a page the guest may write (the trap frame) and a read-only
 * page; see drivers/lguest/x86/switcher.h.
 *
 * See include/lguest_util.h for how the guest code in this file runs.
 * All tests are skipped when /dev/lguest does not exist.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <asm/ldt.h>

#include "../kselftest_harness.h"
#include "lguest_util.h"
#include "lguest_host_ok.h"

/* Far from the identity map and the program image. */
#define TEST_PAGE	0x40000000u
#define USER_CODE	0x50000000u
#define USER_STACK	0x50010000u	/* one page; esp starts at its top */
#define RO_STACK	0x50020000u	/* a read-only kernel stack page */

#define PGDIR_SHIFT	22
#define SLOT_SIZE	0x400000u	/* one page-directory slot */

/* A free GDT entry (Linux's PNPBIOS range) for the descriptor tests. */
#define GDT_TEST	20
#define GDT_TEST2	21
/* The entries the switcher owns; see drivers/lguest/segments.c. */
#define GDT_LGUEST_CS	10
#define GDT_LGUEST_DS	11
#define GDT_TSS		16
#define GDT_DF_TSS	31

/* Flat 4 GiB, 32-bit descriptors: the high words (the low is 0x0000ffff). */
#define DESC_LO_FLAT	0x0000ffffu
#define DESC_DATA_DPL0	0x00cf9200u	/* data, read/write, not accessed */
#define DESC_CODE_DPL0	0x00cf9a00u	/* code, execute/read, not accessed */
#define DESC_DATA_DPL3	0x00cff200u
/* System descriptors (S clear), present, DPL 3. */
#define DESC_CALL_GATE	0x0000ec00u
#define DESC_TSS32	0x0000e900u
#define DESC_LDT	0x0000e200u

/* Access rights as lar reports them (bits 8-15 of the descriptor's high). */
#define AR_ACCESSED	0x100
#define AR_S		0x1000
#define AR_DPL(ar)	(((ar) >> 13) & 3)

/* #GP error code of "int $n" through a gate the caller may not use. */
#define GP_IDT(n)	(((n) << 3) | 2)

static struct lguest_data *lgd GUEST_DATA;
/* Set by the launcher. */
static uint32_t action GUEST_DATA;
static uint32_t arg GUEST_DATA;
static uint32_t value GUEST_DATA;
static uint32_t user_code_gpa GUEST_DATA;

/* What the guest's handler saw of the last trap. */
static struct {
	uint32_t count;
	uint32_t vector;
	uint32_t error_code;
	uint32_t eip;
	uint32_t cs;
	uint32_t cr2;
	uint32_t dr6;
} rec GUEST_DATA;

/*
 * The probes below access something that may fault, in asm: they save esp
 * and where to resume, and record_trap() sends the guest there, which
 * also puts esp back (jumping into the switcher pushes on the stack).
 */
static uint32_t saved_esp GUEST_DATA;
static uint32_t resume_ip GUEST_DATA;
static uint32_t probe_addr GUEST_DATA;
static uint32_t probe_eax GUEST_DATA;
static uint32_t probe_val GUEST_DATA;
static uint32_t probe_buf[16] GUEST_DATA;

static GUEST_CODE void record_trap(struct lg_trap_frame *frame)
{
	rec.count++;
	rec.vector = frame->vector;
	rec.error_code = frame->error_code;
	rec.eip = frame->eip;
	rec.cs = frame->cs & 0xffff;
	rec.cr2 = frame->vector == 14 && lgd ? lgd->cr2 : 0;
	rec.dr6 = frame->vector == 1 && lgd ? lgd->dr6 : 0;
	__GUEST_ASSERT(resume_ip, "trap %u, error %#x at %#x outside a probe",
		       frame->vector, frame->error_code, frame->eip);
	frame->eip = resume_ip;
	resume_ip = 0;
}

/* A trap from CPL 3: back to guest_enter_user()'s caller. */
static GUEST_CODE void user_trap(struct lg_trap_frame *frame)
{
	rec.count++;
	rec.vector = frame->vector;
	rec.error_code = frame->error_code;
	rec.eip = frame->eip;
	rec.cs = frame->cs & 0xffff;
	if ((rec.cs & 3) != 3)
		GUEST_FAIL("trap %u from CPL %u at %#x", frame->vector,
			   rec.cs & 3, frame->eip);
	guest_return_from_user(frame, frame->vector);
}

#define PROBE_BEGIN							\
	"movl %%esp, %[sesp]\n\t"					\
	"movl $1f, %[rip]\n\t"
#define PROBE_END							\
	"1:\tmovl %[sesp], %%esp\n\t"					\
	"movl $0, %[rip]"

static GUEST_CODE void probe_read(uint32_t addr)
{
	probe_addr = addr;
	asm volatile(PROBE_BEGIN
		     "movl %[addr], %%eax\n\t"
		     "movl (%%eax), %%eax\n\t"
		     "movl %%eax, %[val]\n"
		     PROBE_END
		     : [sesp] "+m" (saved_esp), [rip] "+m" (resume_ip),
		       [val] "+m" (probe_val)
		     : [addr] "m" (probe_addr)
		     : "eax", "memory");
}

static GUEST_CODE void probe_write(uint32_t addr)
{
	probe_addr = addr;
	asm volatile(PROBE_BEGIN
		     "movl %[addr], %%eax\n\t"
		     "movl $0xbad, (%%eax)\n"
		     PROBE_END
		     : [sesp] "+m" (saved_esp), [rip] "+m" (resume_ip)
		     : [addr] "m" (probe_addr)
		     : "eax", "memory");
}

/*
 * Jump to @addr with eax = @eax.  Anything but esp that code changes
 * before it faults is declared clobbered.
 */
static GUEST_CODE void probe_exec(uint32_t addr, uint32_t eax)
{
	probe_addr = addr;
	probe_eax = eax;
	asm volatile(PROBE_BEGIN
		     "movl %[eax], %%eax\n\t"
		     "jmp *%[addr]\n"
		     PROBE_END
		     : [sesp] "+m" (saved_esp), [rip] "+m" (resume_ip)
		     : [addr] "m" (probe_addr), [eax] "m" (probe_eax)
		     : "eax", "ebx", "ecx", "edx", "esi", "edi", "memory");
}

/*
 * Load @sel into %ds and read the word at offset @off through it into
 * probe_val.  The flat %ds comes back before anything else touches memory,
 * on the way out of a fault too.
 */
static GUEST_CODE void probe_ds_read(uint32_t sel, uint32_t off)
{
	probe_eax = sel;
	probe_addr = off;
	asm volatile(PROBE_BEGIN
		     "movl %[off], %%ecx\n\t"
		     "movl %[sel], %%eax\n\t"
		     "movl %%eax, %%ds\n\t"
		     "movl %%ds:(%%ecx), %%eax\n\t"
		     "movl %[kds], %%ecx\n\t"
		     "movl %%ecx, %%ds\n\t"
		     "movl %%eax, %[val]\n"
		     "1:\tmovl %[kds], %%ecx\n\t"
		     "movl %%ecx, %%ds\n\t"
		     "movl %[sesp], %%esp\n\t"
		     "movl $0, %[rip]"
		     : [sesp] "+m" (saved_esp), [rip] "+m" (resume_ip),
		       [val] "+m" (probe_val)
		     : [sel] "m" (probe_eax), [off] "m" (probe_addr),
		       [kds] "i" (LG_KERNEL_DS)
		     : "eax", "ecx", "memory");
}

/* Load @sel into %ds and read probe_buf[0] through it (a flat segment). */
static GUEST_CODE void probe_load_ds(uint32_t sel)
{
	probe_ds_read(sel, (uint32_t)(uintptr_t)&probe_buf[0]);
}

/* The far pointer of probe_lcall(): offset, then selector. */
static uint32_t far_ptr[2] GUEST_DATA;

/* Far call to selector @sel; probe_val gets the %cs seen there. */
static GUEST_CODE void probe_lcall(uint32_t sel)
{
	far_ptr[1] = sel;
	asm volatile(PROBE_BEGIN
		     "movl $2f, %[ptr]\n\t"
		     "lcall *%[ptr]\n\t"
		     "jmp 1f\n"
		     "2:\tmovl %%cs, %%eax\n\t"
		     "movl %%eax, %[val]\n\t"
		     "lret\n"
		     PROBE_END
		     : [sesp] "+m" (saved_esp), [rip] "+m" (resume_ip),
		       [val] "+m" (probe_val), [ptr] "+m" (far_ptr[0])
		     :
		     : "eax", "memory");
}

static GUEST_CODE void probe_insn_ud2(void)
{
	asm volatile(PROBE_BEGIN "ud2\n" PROBE_END
		     : [sesp] "+m" (saved_esp), [rip] "+m" (resume_ip)
		     :
		     : "memory");
}

static GUEST_CODE void probe_sysenter(void)
{
	asm volatile(PROBE_BEGIN "sysenter\n" PROBE_END
		     : [sesp] "+m" (saved_esp), [rip] "+m" (resume_ip)
		     :
		     : "eax", "ecx", "edx", "memory");
}

static GUEST_CODE void probe_syscall(void)
{
	asm volatile(PROBE_BEGIN "syscall\n" PROBE_END
		     : [sesp] "+m" (saved_esp), [rip] "+m" (resume_ip)
		     :
		     : "eax", "ecx", "edx", "memory");
}

/* lsl: the byte limit of @sel, or LG_BAD_ADDR if lsl refuses. */
static GUEST_CODE uint32_t guest_lsl(uint32_t sel)
{
	uint32_t limit = 0;
	uint8_t ok;

	asm volatile("lsll %[sel], %[limit]\n\tsetz %[ok]"
		     : [limit] "+r" (limit), [ok] "=q" (ok) : [sel] "r" (sel)
		     : "cc");
	return ok ? limit : LG_BAD_ADDR;
}

/* lar: the access rights of @sel, or LG_BAD_ADDR if lar refuses. */
static GUEST_CODE uint32_t guest_lar(uint32_t sel)
{
	uint32_t ar = 0;
	uint8_t ok;

	asm volatile("larl %[sel], %[ar]\n\tsetz %[ok]"
		     : [ar] "+r" (ar), [ok] "=q" (ok) : [sel] "r" (sel) : "cc");
	return ok ? ar & 0x00f0ff00 : LG_BAD_ADDR;
}

static GUEST_CODE void guest_load_gdt(uint32_t index, uint32_t lo, uint32_t hi)
{
	lg_hcall(LHCALL_LOAD_GDT_ENTRY, index, lo, hi, 0);
}

/* The start of the switcher's page-directory slot, as the host says. */
static GUEST_CODE uint32_t guest_switcher_base(void)
{
	uint32_t base = 0 - lgd->reserve_mem;

	__GUEST_ASSERT(lgd->reserve_mem && !(base & (SLOT_SIZE - 1)),
		       "reserve_mem %#x", lgd->reserve_mem);
	return base;
}

static GUEST_CODE void guest_handlers(void)
{
	guest_set_idt(6, record_trap, 0);	/* #UD */
	guest_set_idt(13, record_trap, 0);	/* #GP */
	guest_set_idt(14, record_trap, 0);	/* #PF */
}

/*
 * The switcher's pages from ring 1.  Its code page is mapped read-only
 * (supervisor, so ring 1 may read and, without NX, execute it); its other
 * pages are this CPU's trap-frame page (writable) and read-only state
 * page; the rest of the slot is not mapped.  The host never demand-pages
 * anything in the slot (guest_walk() refuses it, whatever the guest's own
 * tables say), so every fault there is the guest's, reflected with the
 * "present" bit cleared.
 */
enum {
	SW_READ_TEXT,
	SW_WRITE_TEXT,
	SW_WRITE_PAGE2,
	SW_WRITE_SLOT_END,
	SW_WRITE_TOP,
	SW_EXEC_TEXT,
	SW_EXEC_TOP,
	SW_GUEST_MAPS_SLOT,
};

static GUEST_CODE void guest_switcher(void)
{
	uint32_t base, addr = 0, *pgd, pt, data;

	lgd = guest_lguest_init();
	guest_handlers();
	base = guest_switcher_base();

	switch (action) {
	case SW_READ_TEXT:
		addr = base;
		probe_read(addr);
		break;
	case SW_WRITE_TEXT:
		addr = base + 0x10;
		probe_write(addr);
		break;
	case SW_WRITE_PAGE2:
		/* CPU 0's read-only page, or another CPU's page: not ours. */
		addr = base + 2 * LG_PAGE_SIZE;
		probe_write(addr);
		break;
	case SW_WRITE_SLOT_END:
		addr = base + SLOT_SIZE - LG_PAGE_SIZE;
		probe_write(addr);
		break;
	case SW_WRITE_TOP:
		addr = 0xfffff000;
		probe_write(addr);
		break;
	case SW_EXEC_TEXT:
		/*
		 * switch_to_guest is the first byte of the code page.  At
		 * CPL 1 it pushes the segments, stores esp at eax + 0x1004
		 * (pointed at probe_buf), may store the GDT and IDT
		 * descriptors after it (sgdt/sidt, or #GP(0) with UMIP), and
		 * then "mov %cr3, %edx" is a #GP(0) at CPL 1 for sure.
		 */
		addr = base;
		probe_exec(addr, (uint32_t)(uintptr_t)probe_buf - 0x1004);
		break;
	case SW_EXEC_TOP:
		addr = 0xfffff000;
		probe_exec(addr, 0);
		break;
	case SW_GUEST_MAPS_SLOT:
		/*
		 * The guest's own page directory maps the last page of the
		 * slot to its memory, without telling the host (a hypercall
		 * for the slot kills, see kill below).  The host ignores it.
		 */
		pgd = (uint32_t *)(uintptr_t)lg_guest_info.pgdir;
		pt = guest_alloc_page();
		data = guest_alloc_page();
		((uint32_t *)(uintptr_t)pt)[1023] = data | LG_PTE_P | LG_PTE_RW;
		pgd[base >> PGDIR_SHIFT] = pt | LG_PTE_P | LG_PTE_RW | LG_PTE_U;
		addr = base + SLOT_SIZE - LG_PAGE_SIZE;
		probe_read(addr);
		break;
	}
	GUEST_SYNC_ARGS(rec.count, rec.vector, rec.error_code, rec.cr2);
	GUEST_SYNC_ARGS(addr, rec.eip, probe_val, base);
	GUEST_DONE();
}

FIXTURE(switcher) {
	struct lg_vm *vm;
};

FIXTURE_VARIANT(switcher) {
	uint32_t action;
	uint32_t count;		/* traps seen: 0 or 1 */
	uint32_t vector;
	uint32_t error_code;
	bool cr2_is_addr;
	bool eip_in_text;	/* the trap was at an instruction there */
};

/* Readable: it is only code, and documents what a guest can see. */
FIXTURE_VARIANT_ADD(switcher, read_text) {
	.action = SW_READ_TEXT, .count = 0,
};

/* A write from ring 1: #PF, write, "not present" for the guest. */
FIXTURE_VARIANT_ADD(switcher, write_text) {
	.action = SW_WRITE_TEXT, .count = 1, .vector = 14,
	.error_code = LG_PF_W, .cr2_is_addr = true,
};

FIXTURE_VARIANT_ADD(switcher, write_ro_page) {
	.action = SW_WRITE_PAGE2, .count = 1, .vector = 14,
	.error_code = LG_PF_W, .cr2_is_addr = true,
};

FIXTURE_VARIANT_ADD(switcher, write_slot_end) {
	.action = SW_WRITE_SLOT_END, .count = 1, .vector = 14,
	.error_code = LG_PF_W, .cr2_is_addr = true,
};

/* Above the slot (fixmap and friends in the host): nothing either. */
FIXTURE_VARIANT_ADD(switcher, write_top) {
	.action = SW_WRITE_TOP, .count = 1, .vector = 14,
	.error_code = LG_PF_W, .cr2_is_addr = true,
};

/* The code runs at CPL 1 until its first privileged instruction. */
FIXTURE_VARIANT_ADD(switcher, exec_text) {
	.action = SW_EXEC_TEXT, .count = 1, .vector = 13, .error_code = 0,
	.eip_in_text = true,
};

/* An instruction fetch (no I/D bit without NX): #PF, read, at eip. */
FIXTURE_VARIANT_ADD(switcher, exec_top) {
	.action = SW_EXEC_TOP, .count = 1, .vector = 14, .error_code = 0,
	.cr2_is_addr = true,
};

FIXTURE_VARIANT_ADD(switcher, guest_maps_slot) {
	.action = SW_GUEST_MAPS_SLOT, .count = 1, .vector = 14,
	.error_code = 0, .cr2_is_addr = true,
};

FIXTURE_SETUP(switcher)
{
	if (!lg_dev_present())
		SKIP(return, LG_NO_DEV_MSG);
	self->vm = lg_vm_create(0, guest_switcher);
	action = variant->action;
	lg_sync_global_to_guest(self->vm, action);
}

FIXTURE_TEARDOWN(switcher)
{
	lg_vm_free(self->vm);
}

TEST_F(switcher, out_of_reach)
{
	struct lg_vm *vm = self->vm;
	uint32_t addr, eip, val, base;

	ASSERT_UCALL(vm, UCALL_SYNC);
	EXPECT_EQ(variant->count, vm->uc.args[0]);
	if (variant->count) {
		EXPECT_EQ(variant->vector, vm->uc.args[1]);
		EXPECT_EQ(variant->error_code, vm->uc.args[2]);
	}
	ASSERT_UCALL(vm, UCALL_SYNC);
	addr = vm->uc.args[0];
	eip = vm->uc.args[1];
	val = vm->uc.args[2];
	base = vm->uc.args[3];
	TH_LOG("switcher at %#x, access at %#x, trap eip %#x", base, addr, eip);
	if (variant->cr2_is_addr) {
		lg_sync_global_from_guest(vm, rec);
		EXPECT_EQ(addr, rec.cr2);
	}
	if (variant->eip_in_text) {
		EXPECT_LE(base, eip);
		EXPECT_GT(base + LG_PAGE_SIZE, eip);
	}
	if (variant->action == SW_EXEC_TOP)
		EXPECT_EQ(addr, eip);
	/* The first instruction of switch_to_guest: pushl %ss. */
	if (variant->action == SW_READ_TEXT)
		EXPECT_EQ(0x16, val & 0xff);
	ASSERT_UCALL(vm, UCALL_DONE);
	lg_assert_host_ok(_metadata);
}

/*
 * What kills the guest.  Each action is a hypercall or access the host
 * must refuse; the reason must name it (a substring of the host's text).
 */
enum {
	KILL_SET_PTE_SWITCHER,
	KILL_SET_PTE_TOP,
	KILL_SET_PGD_SWITCHER,
	KILL_SET_PGD_TOP,
	KILL_PTE_BEYOND_MEM,
	KILL_PTE_FAR_BEYOND,
	KILL_PDE_BEYOND_MEM,
	KILL_LARGE_PAGE,
	KILL_GDT_CALL_GATE,
	KILL_GDT_TSS,
	KILL_GDT_LDT,
	KILL_GDT_INDEX,
	KILL_IDT_SELECTOR,
	KILL_IDT_TYPE,
	KILL_IDT_VECTOR,
	KILL_HCALL,
	KILL_NEW_PGTABLE,
	KILL_NEW_MM,
	KILL_TIMER_PERIOD,
	KILL_INIT_TWICE,
	KILL_INIT_BEYOND,
	KILL_INIT_ZERO,
	KILL_LOAD_TLS,
	KILL_STACK_SS,
	KILL_SHUTDOWN_TYPE,
	KILL_ASYNC_QUEUED,
	KILL_USER_TRAP_STACK,
	KILL_USER_TRAP_NO_STACK,
	KILL_LDT_DESC,
	KILL_LDT_ENTRIES,
	KILL_LDT_ADDR,
	KILL_DEBUGREG,
};

/* A local descriptor table of four entries, for the LDT tests. */
static uint32_t ldt[2 * 4] GUEST_DATA;

static GUEST_CODE void guest_set_ldt(uint32_t gva, uint32_t entries)
{
	lg_hcall(LHCALL_SET_LDT, gva, entries, 0, 0);
}

/* Map TEST_PAGE to guest-physical @gpa and tell the host. */
static GUEST_CODE void guest_map_test_page(uint32_t gpa)
{
	uint32_t *pte;

	guest_map_page(TEST_PAGE, 0, LG_PTE_RW);
	pte = guest_pte(TEST_PAGE);
	*pte = gpa | LG_PTE_P | LG_PTE_RW;
	lg_hcall(LHCALL_SET_PGD, lg_guest_info.pgdir, TEST_PAGE >> PGDIR_SHIFT,
		 0, 0);
}

static GUEST_CODE void guest_kill(void)
{
	uint32_t base = 0, *pgd = (uint32_t *)(uintptr_t)lg_guest_info.pgdir;
	uint32_t mem = lg_guest_info.mem_size;

	if (action != KILL_INIT_BEYOND && action != KILL_INIT_ZERO) {
		lgd = guest_lguest_init();
		base = guest_switcher_base();
	}
	guest_handlers();
	guest_set_idt(6, user_trap, 0);

	switch (action) {
	case KILL_SET_PTE_SWITCHER:
		lg_hcall(LHCALL_SET_PTE, lg_guest_info.pgdir, base,
			 LG_PAGE_SIZE | LG_PTE_P | LG_PTE_RW, 0);
		break;
	case KILL_SET_PTE_TOP:
		lg_hcall(LHCALL_SET_PTE, lg_guest_info.pgdir, 0xfffff000,
			 LG_PAGE_SIZE | LG_PTE_P | LG_PTE_RW, 0);
		break;
	case KILL_SET_PGD_SWITCHER:
		lg_hcall(LHCALL_SET_PGD, lg_guest_info.pgdir,
			 base >> PGDIR_SHIFT, 0, 0);
		break;
	case KILL_SET_PGD_TOP:
		lg_hcall(LHCALL_SET_PGD, lg_guest_info.pgdir, 1023, 0, 0);
		break;
	case KILL_PTE_BEYOND_MEM:
		guest_map_test_page(mem);
		probe_read(TEST_PAGE);
		break;
	case KILL_PTE_FAR_BEYOND:
		guest_map_test_page(0xfffff000);
		probe_read(TEST_PAGE);
		break;
	case KILL_PDE_BEYOND_MEM:
		pgd[TEST_PAGE >> PGDIR_SHIFT] = mem | LG_PTE_P | LG_PTE_RW;
		lg_hcall(LHCALL_SET_PGD, lg_guest_info.pgdir,
			 TEST_PAGE >> PGDIR_SHIFT, 0, 0);
		probe_read(TEST_PAGE);
		break;
	case KILL_LARGE_PAGE:
		pgd[TEST_PAGE >> PGDIR_SHIFT] = LG_PTE_P | LG_PTE_RW | 0x80;
		lg_hcall(LHCALL_SET_PGD, lg_guest_info.pgdir,
			 TEST_PAGE >> PGDIR_SHIFT, 0, 0);
		probe_read(TEST_PAGE);
		break;
	case KILL_GDT_CALL_GATE:
		/* To guest_kill, at CPL 0 were it accepted. */
		guest_load_gdt(GDT_TEST, (LG_KERNEL_CS << 16) | 0x1000,
			       DESC_CALL_GATE);
		break;
	case KILL_GDT_TSS:
		guest_load_gdt(GDT_TEST, 0x67, DESC_TSS32);
		break;
	case KILL_GDT_LDT:
		guest_load_gdt(GDT_TEST, 0xfff, DESC_LDT);
		break;
	case KILL_GDT_INDEX:
		guest_load_gdt(arg, DESC_LO_FLAT, DESC_DATA_DPL3);
		break;
	case KILL_IDT_SELECTOR:
		lg_hcall(LHCALL_LOAD_IDT_ENTRY, 0x40, (arg << 16) | 0x1000,
			 0x8000 | (LG_GATE_TRAP << 8), 0);
		break;
	case KILL_IDT_TYPE:
		lg_hcall(LHCALL_LOAD_IDT_ENTRY, 0x40, (LG_KERNEL_CS << 16) | 0x1000,
			 0xe000 | (arg << 8), 0);
		break;
	case KILL_IDT_VECTOR:
		guest_set_idt_gate(arg, 0x1000, 0, LG_GATE_TRAP);
		break;
	case KILL_HCALL:
		lg_hcall(arg, 0, 0, 0, 0);
		break;
	case KILL_NEW_PGTABLE:
		lg_hcall(LHCALL_NEW_PGTABLE, arg ? arg : mem, 0, 0, 0);
		break;
	case KILL_NEW_MM:
		lg_hcall(LHCALL_NEW_MM, arg ? arg : mem, 0, 0, 0);
		break;
	case KILL_TIMER_PERIOD:
		lg_hcall(LHCALL_SET_CLOCKEVENT, 1000000, arg, 0, 0);
		break;
	case KILL_INIT_TWICE:
		lg_hcall(LHCALL_LGUEST_INIT, lg_guest_info.lguest_data, 0, 0, 0);
		break;
	case KILL_INIT_BEYOND:
		lg_hcall(LHCALL_LGUEST_INIT, mem - 8, 0, 0, 0);
		break;
	case KILL_INIT_ZERO:
		lg_hcall(LHCALL_LGUEST_INIT, 0, 0, 0, 0);
		break;
	case KILL_LOAD_TLS:
		/* Three descriptors, 24 bytes, from @arg (0: the last 8). */
		lg_hcall(LHCALL_LOAD_TLS, arg ? arg : mem - 8, 0, 0, 0);
		break;
	case KILL_STACK_SS:
		lg_hcall(LHCALL_SET_STACK, LG_USER_DS, lg_guest_info.trap_stack_top,
			 1, 0);
		break;
	case KILL_SHUTDOWN_TYPE:
		lg_hcall(LHCALL_SHUTDOWN, 7, 0, 0, 0);
		break;
	case KILL_ASYNC_QUEUED:
		/* Slot 0 is where the host looks first. */
		lgd->hcalls[0].nr = arg;
		lgd->hcalls[0].arg1 = 0;
		lgd->hcalls[0].arg2 = 0;
		lgd->hcalls[0].arg3 = 0;
		lgd->hcalls[0].arg4 = 0;
		WRITE_ONCE(lgd->hcall_status[0], 0);
		lg_hcall(LHCALL_FLUSH_ASYNC, 0, 0, 0, 0);
		break;
	case KILL_USER_TRAP_STACK:
		/* @arg: 0 the switcher, 1 unmapped, 2 read-only. */
		if (arg == 0)
			lg_hcall(LHCALL_SET_STACK, LG_KERNEL_DS,
				 base + LG_PAGE_SIZE, 1, 0);
		else if (arg == 1)
			lg_hcall(LHCALL_SET_STACK, LG_KERNEL_DS, TEST_PAGE, 1, 0);
		else
			lg_hcall(LHCALL_SET_STACK, LG_KERNEL_DS,
				 RO_STACK + LG_PAGE_SIZE, 1, 0);
		guest_enter_user(USER_CODE, USER_STACK + LG_PAGE_SIZE);
		break;
	case KILL_USER_TRAP_NO_STACK:
		guest_enter_user(USER_CODE, USER_STACK + LG_PAGE_SIZE);
		break;
	case KILL_LDT_DESC:
		/* Entry 1 is a system descriptor, @arg its high word. */
		ldt[2] = (LG_KERNEL_CS << 16) | 0x1000;
		ldt[3] = arg;
		guest_set_ldt((uint32_t)(uintptr_t)ldt, 2);
		break;
	case KILL_LDT_ENTRIES:
		guest_set_ldt((uint32_t)(uintptr_t)ldt, arg);
		break;
	case KILL_DEBUGREG:
		/* Register @arg, @value (0: the switcher's address). */
		lg_hcall(LHCALL_SET_DEBUGREG, arg, value ? value : base, 0, 0);
		break;
	case KILL_LDT_ADDR:
		/*
		 * @arg: 0 in the switcher's slot, 1 unmapped, 2 two entries
		 * whose second is on the unmapped page after the user stack.
		 */
		if (arg == 0)
			guest_set_ldt(base, 1);
		else if (arg == 1)
			guest_set_ldt(TEST_PAGE, 1);
		else
			guest_set_ldt(USER_STACK + LG_PAGE_SIZE - 8, 2);
		break;
	}
	GUEST_FAIL("survived action %u (%#x): trap count %u", action, arg,
		   rec.count);
}

FIXTURE(kill) {
	struct lg_vm *vm;
};

FIXTURE_VARIANT(kill) {
	uint32_t action;
	uint32_t arg;
	uint32_t value;
	const char *reason;	/* part of the host's reason */
};

/* LHCALL_SET_PTE / LHCALL_SET_PGD for the switcher's slot or above. */
FIXTURE_VARIANT_ADD(kill, set_pte_switcher) {
	.action = KILL_SET_PTE_SWITCHER, .reason = "in the switcher",
};

FIXTURE_VARIANT_ADD(kill, set_pte_top) {
	.action = KILL_SET_PTE_TOP, .reason = "in the switcher",
};

FIXTURE_VARIANT_ADD(kill, set_pgd_switcher) {
	.action = KILL_SET_PGD_SWITCHER, .reason = "the switcher's",
};

FIXTURE_VARIANT_ADD(kill, set_pgd_top) {
	.action = KILL_SET_PGD_TOP, .reason = "the switcher's",
};

/*
 * A guest PTE naming a frame past guest memory kills on access: no device
 * window is registered there (lguest_mmio_test has the ones that are).
 */
FIXTURE_VARIANT_ADD(kill, pte_beyond_memory) {
	.action = KILL_PTE_BEYOND_MEM, .reason = "beyond guest memory",
};

FIXTURE_VARIANT_ADD(kill, pte_far_beyond_memory) {
	.action = KILL_PTE_FAR_BEYOND, .reason = "beyond guest memory",
};

/* A page table past guest memory: reading the PTE fails. */
FIXTURE_VARIANT_ADD(kill, pde_beyond_memory) {
	.action = KILL_PDE_BEYOND_MEM, .reason = "bad read of guest memory",
};

FIXTURE_VARIANT_ADD(kill, large_page) {
	.action = KILL_LARGE_PAGE, .reason = "large pages",
};

/* System descriptors in the GDT: a way to ring 0 or to a TSS. */
FIXTURE_VARIANT_ADD(kill, gdt_call_gate) {
	.action = KILL_GDT_CALL_GATE, .reason = "system descriptor",
};

FIXTURE_VARIANT_ADD(kill, gdt_tss) {
	.action = KILL_GDT_TSS, .reason = "system descriptor",
};

FIXTURE_VARIANT_ADD(kill, gdt_ldt) {
	.action = KILL_GDT_LDT, .reason = "system descriptor",
};

FIXTURE_VARIANT_ADD(kill, gdt_index_32) {
	.action = KILL_GDT_INDEX, .arg = 32, .reason = "bad GDT index",
};

FIXTURE_VARIANT_ADD(kill, gdt_index_huge) {
	.action = KILL_GDT_INDEX, .arg = 0x80000000u, .reason = "bad GDT index",
};

/* IDT gates: only interrupt/trap gates into LGUEST_KERNEL_CS. */
FIXTURE_VARIANT_ADD(kill, idt_user_cs) {
	.action = KILL_IDT_SELECTOR, .arg = LG_USER_CS, .reason = "bad IDT entry",
};

FIXTURE_VARIANT_ADD(kill, idt_switcher_cs) {
	.action = KILL_IDT_SELECTOR, .arg = GDT_LGUEST_CS * 8,
	.reason = "bad IDT entry",
};

FIXTURE_VARIANT_ADD(kill, idt_kernel_cs_rpl0) {
	.action = KILL_IDT_SELECTOR, .arg = LG_KERNEL_CS & ~3,
	.reason = "bad IDT entry",
};

FIXTURE_VARIANT_ADD(kill, idt_task_gate) {
	.action = KILL_IDT_TYPE, .arg = 0x5, .reason = "bad IDT entry",
};

FIXTURE_VARIANT_ADD(kill, idt_call_gate) {
	.action = KILL_IDT_TYPE, .arg = 0xc, .reason = "bad IDT entry",
};

FIXTURE_VARIANT_ADD(kill, idt_gate16) {
	.action = KILL_IDT_TYPE, .arg = 0x6, .reason = "bad IDT entry",
};

FIXTURE_VARIANT_ADD(kill, idt_vector_256) {
	.action = KILL_IDT_VECTOR, .arg = 256, .reason = "bad IDT vector",
};

FIXTURE_VARIANT_ADD(kill, idt_vector_huge) {
	.action = KILL_IDT_VECTOR, .arg = 0xffffffffu, .reason = "bad IDT vector",
};

/*
 * Hypercall numbers below LHCALL_LAUNCHER_BASE that asm/lguest_para.h
 * leaves unassigned (adjust if one gets a meaning).
 */
FIXTURE_VARIANT_ADD(kill, hcall_8) {
	.action = KILL_HCALL, .arg = 8, .reason = "bad hypercall",
};

FIXTURE_VARIANT_ADD(kill, hcall_11) {
	.action = KILL_HCALL, .arg = 11, .reason = "bad hypercall",
};

FIXTURE_VARIANT_ADD(kill, hcall_21) {
	.action = KILL_HCALL, .arg = 21, .reason = "bad hypercall",
};

FIXTURE_VARIANT_ADD(kill, hcall_fff) {
	.action = KILL_HCALL, .arg = 0xfff, .reason = "bad hypercall",
};

/* LHCALL_NEW_PGTABLE: not page aligned, or not a whole page of memory. */
FIXTURE_VARIANT_ADD(kill, new_pgtable_misaligned) {
	.action = KILL_NEW_PGTABLE, .arg = 0x5004, .reason = "bad page directory",
};

FIXTURE_VARIANT_ADD(kill, new_pgtable_beyond) {
	.action = KILL_NEW_PGTABLE, .arg = 0, .reason = "bad page directory",
};

FIXTURE_VARIANT_ADD(kill, new_pgtable_top) {
	.action = KILL_NEW_PGTABLE, .arg = 0xfffff000u,
	.reason = "bad page directory",
};

/* LHCALL_NEW_MM checks the new directory as a cr3 load does. */
FIXTURE_VARIANT_ADD(kill, new_mm_misaligned) {
	.action = KILL_NEW_MM, .arg = 0x5004, .reason = "bad page directory",
};

FIXTURE_VARIANT_ADD(kill, new_mm_beyond) {
	.action = KILL_NEW_MM, .arg = 0, .reason = "bad page directory",
};

FIXTURE_VARIANT_ADD(kill, new_mm_top) {
	.action = KILL_NEW_MM, .arg = 0xfffff000u, .reason = "bad page directory",
};

/* A period short enough to flood the host with timer interrupts. */
FIXTURE_VARIANT_ADD(kill, timer_period_1ns) {
	.action = KILL_TIMER_PERIOD, .arg = 1, .reason = "bad timer period",
};

FIXTURE_VARIANT_ADD(kill, timer_period_short) {
	.action = KILL_TIMER_PERIOD, .arg = LGUEST_MIN_TIMER_PERIOD_NS - 1,
	.reason = "bad timer period",
};

FIXTURE_VARIANT_ADD(kill, lguest_init_twice) {
	.action = KILL_INIT_TWICE, .reason = "registered twice",
};

/* struct lguest_data would end past guest memory. */
FIXTURE_VARIANT_ADD(kill, lguest_init_beyond) {
	.action = KILL_INIT_BEYOND, .reason = "bad lguest_data address",
};

/* 0 means "not registered": registering there could be done twice. */
FIXTURE_VARIANT_ADD(kill, lguest_init_at_zero) {
	.action = KILL_INIT_ZERO, .reason = "bad lguest_data address 0",
};

FIXTURE_VARIANT_ADD(kill, load_tls_beyond) {
	.action = KILL_LOAD_TLS, .arg = 0, .reason = "bad read of guest memory",
};

FIXTURE_VARIANT_ADD(kill, load_tls_wrap) {
	.action = KILL_LOAD_TLS, .arg = 0xfffffff8u,
	.reason = "bad read of guest memory",
};

FIXTURE_VARIANT_ADD(kill, set_stack_user_ss) {
	.action = KILL_STACK_SS, .reason = "bad stack segment",
};

FIXTURE_VARIANT_ADD(kill, shutdown_bad_type) {
	.action = KILL_SHUTDOWN_TYPE, .reason = "bad shutdown type",
};

/* The async ring only takes calls the host can finish itself. */
FIXTURE_VARIANT_ADD(kill, async_launcher_call) {
	.action = KILL_ASYNC_QUEUED, .arg = LG_HCALL_TEST,
	.reason = "cannot be queued",
};

FIXTURE_VARIANT_ADD(kill, async_shutdown) {
	.action = KILL_ASYNC_QUEUED, .arg = LHCALL_SHUTDOWN,
	.reason = "cannot be queued",
};

FIXTURE_VARIANT_ADD(kill, async_unknown) {
	.action = KILL_ASYNC_QUEUED, .arg = 8, .reason = "bad hypercall",
};

/*
 * A trap from CPL 3 (ud2) with the kernel stack of LHCALL_SET_STACK in
 * the switcher's slot, unmapped, or read-only: the host cannot push the
 * trap frame there.
 */
FIXTURE_VARIANT_ADD(kill, user_trap_stack_in_switcher) {
	.action = KILL_USER_TRAP_STACK, .arg = 0, .reason = "stack not mapped",
};

FIXTURE_VARIANT_ADD(kill, user_trap_stack_unmapped) {
	.action = KILL_USER_TRAP_STACK, .arg = 1, .reason = "stack not mapped",
};

FIXTURE_VARIANT_ADD(kill, user_trap_stack_read_only) {
	.action = KILL_USER_TRAP_STACK, .arg = 2, .reason = "stack not mapped",
};

FIXTURE_VARIANT_ADD(kill, user_trap_no_stack) {
	.action = KILL_USER_TRAP_NO_STACK, .reason = "no kernel stack",
};

/*
 * LHCALL_SET_LDT: the LDT is checked by the GDT's rules, so no gates and
 * no system segments; at most 8192 entries; every byte of it must be
 * mapped guest memory outside the switcher's slot.
 */
FIXTURE_VARIANT_ADD(kill, ldt_call_gate) {
	.action = KILL_LDT_DESC, .arg = DESC_CALL_GATE,
	.reason = "system descriptor (type 12) in LDT",
};

FIXTURE_VARIANT_ADD(kill, ldt_task_gate) {
	.action = KILL_LDT_DESC, .arg = 0x0000e500u,
	.reason = "system descriptor (type 5) in LDT",
};

FIXTURE_VARIANT_ADD(kill, ldt_tss) {
	.action = KILL_LDT_DESC, .arg = DESC_TSS32,
	.reason = "system descriptor (type 9) in LDT",
};

FIXTURE_VARIANT_ADD(kill, ldt_in_ldt) {
	.action = KILL_LDT_DESC, .arg = DESC_LDT,
	.reason = "system descriptor (type 2) in LDT",
};

FIXTURE_VARIANT_ADD(kill, ldt_8193_entries) {
	.action = KILL_LDT_ENTRIES, .arg = 8193, .reason = "LDT of 8193 entries",
};

/* 0x20000001 entries would be 8 bytes, were the size computed first. */
FIXTURE_VARIANT_ADD(kill, ldt_entries_wrap) {
	.action = KILL_LDT_ENTRIES, .arg = 0x20000001u,
	.reason = "LDT of 536870913 entries",
};

FIXTURE_VARIANT_ADD(kill, ldt_in_switcher) {
	.action = KILL_LDT_ADDR, .arg = 0, .reason = "not mapped",
};

FIXTURE_VARIANT_ADD(kill, ldt_unmapped) {
	.action = KILL_LDT_ADDR, .arg = 1, .reason = "not mapped",
};

FIXTURE_VARIANT_ADD(kill, ldt_straddles_unmapped) {
	.action = KILL_LDT_ADDR, .arg = 2, .reason = "not mapped",
};

/*
 * LHCALL_SET_DEBUGREG: no breakpoint on the switcher's slot (the switcher
 * runs with the guest's DR7 loaded), no general detect, no I/O
 * breakpoints, and only DR0-DR3 and DR7 (DR6 is in lguest_data).
 */
FIXTURE_VARIANT_ADD(kill, breakpoint_on_switcher) {
	.action = KILL_DEBUGREG, .arg = 0, .value = 0, .reason = "the switcher's",
};

FIXTURE_VARIANT_ADD(kill, breakpoint_at_top) {
	.action = KILL_DEBUGREG, .arg = 3, .value = 0xfffffffcu,
	.reason = "the switcher's",
};

FIXTURE_VARIANT_ADD(kill, debugreg_5) {
	.action = KILL_DEBUGREG, .arg = 5, .value = 1,
	.reason = "bad debug register 5",
};

FIXTURE_VARIANT_ADD(kill, debugreg_6) {
	.action = KILL_DEBUGREG, .arg = 6, .value = 1,
	.reason = "bad debug register 6",
};

FIXTURE_VARIANT_ADD(kill, dr7_general_detect) {
	.action = KILL_DEBUGREG, .arg = 7, .value = 0x2000, .reason = "bad DR7",
};

FIXTURE_VARIANT_ADD(kill, dr7_io_breakpoint) {
	.action = KILL_DEBUGREG, .arg = 7, .value = 0x00020001,
	.reason = "I/O breakpoint",
};

/* User code for the CPL 3 variants: ud2. */
static void map_user(struct lg_vm *vm, const uint8_t *code, size_t size)
{
	uint32_t gpa = lg_vm_alloc_page(vm);

	memcpy(lg_gpa2hva(vm, gpa), code, size);
	lg_vm_map(vm, USER_CODE, gpa, LG_PTE_U);
	lg_vm_map(vm, USER_STACK, lg_vm_alloc_page(vm), LG_PTE_U | LG_PTE_RW);
	user_code_gpa = gpa;
	lg_sync_global_to_guest(vm, user_code_gpa);
}

FIXTURE_SETUP(kill)
{
	static const uint8_t ud2[] = { 0x0f, 0x0b };

	if (!lg_dev_present())
		SKIP(return, LG_NO_DEV_MSG);
	self->vm = lg_vm_create(0, guest_kill);
	map_user(self->vm, ud2, sizeof(ud2));
	lg_vm_map(self->vm, RO_STACK, lg_vm_alloc_page(self->vm), 0);
	action = variant->action;
	arg = variant->arg;
	value = variant->value;
	lg_sync_global_to_guest(self->vm, action);
	lg_sync_global_to_guest(self->vm, arg);
	lg_sync_global_to_guest(self->vm, value);
}

FIXTURE_TEARDOWN(kill)
{
	lg_vm_free(self->vm);
}

TEST_F(kill, guest_killed)
{
	struct lg_vm *vm = self->vm;
	bool named;

	ASSERT_EXIT(vm, LGUEST_EXIT_DEAD);
	TH_LOG("%s", lg_exit_str(vm));
	EXPECT_LT(0, strlen(vm->run.dead.reason));
	named = strstr(vm->run.dead.reason, variant->reason);
	EXPECT_TRUE(named);
	/* Dead is dead: running again gives the same answer. */
	ASSERT_EXIT(vm, LGUEST_EXIT_DEAD);
	named = strstr(vm->run.dead.reason, variant->reason);
	EXPECT_TRUE(named);
	lg_assert_host_ok(_metadata);
}

/*
 * Descriptors the host accepts, sanitized: DPL 0 becomes DPL 1 and the
 * accessed bit is preset, so a DPL 0 segment gives nothing but ring 1.
 * Writes to the switcher's own entries (10, 11, 16, 31) are ignored: lar
 * still refuses them (they are the switcher's DPL 0 segments, its TSS and
 * an empty entry), loading one into %ds is a #GP with its selector, and
 * the switcher still works (hypercalls, a reflected #UD).
 */
enum {
	GDT_DPL0_DATA,
	GDT_DPL0_CODE,
	GDT_IGNORED,
};

static GUEST_CODE void guest_gdt(void)
{
	uint32_t ar, sel, cs, rpl;

	guest_handlers();

	switch (action) {
	case GDT_DPL0_DATA:
		guest_load_gdt(GDT_TEST, DESC_LO_FLAT, DESC_DATA_DPL0);
		ar = guest_lar(GDT_TEST * 8 + 1);
		GUEST_ASSERT_NE(ar, LG_BAD_ADDR);
		GUEST_ASSERT_EQ(AR_DPL(ar), 1);
		GUEST_ASSERT(ar & AR_ACCESSED);
		GUEST_ASSERT(ar & AR_S);
		/* RPL 1 and RPL 0 both load, at DPL 1, and read memory. */
		probe_buf[0] = 0xda7a;
		probe_load_ds(GDT_TEST * 8 + 1);
		GUEST_ASSERT_EQ(rec.count, 0);
		GUEST_ASSERT_EQ(probe_val, 0xda7a);
		probe_load_ds(GDT_TEST * 8);
		GUEST_ASSERT_EQ(rec.count, 0);
		GUEST_ASSERT_EQ(probe_val, 0xda7a);
		GUEST_SYNC_ARGS(ar, 0, 0, 0);
		break;
	case GDT_DPL0_CODE:
		guest_load_gdt(GDT_TEST2, DESC_LO_FLAT, DESC_CODE_DPL0);
		ar = guest_lar(GDT_TEST2 * 8 + 1);
		GUEST_ASSERT_NE(ar, LG_BAD_ADDR);
		GUEST_ASSERT_EQ(AR_DPL(ar), 1);
		GUEST_ASSERT(ar & AR_ACCESSED);
		/*
		 * A far call through it, even with RPL 0, runs at CPL 1:
		 * the CPU puts CPL in the RPL of the loaded %cs.
		 */
		for (rpl = 0; rpl < 2; rpl++) {
			probe_val = 0;
			probe_lcall(GDT_TEST2 * 8 + rpl);
			GUEST_ASSERT_EQ(rec.count, 0);
			cs = READ_ONCE(probe_val) & 0xffff;
			GUEST_ASSERT_EQ(cs, GDT_TEST2 * 8 + 1);
		}
		GUEST_SYNC_ARGS(ar, 0, 0, 0);
		break;
	case GDT_IGNORED:
		/* A DPL 3 flat data segment, which lar would accept. */
		guest_load_gdt(arg, DESC_LO_FLAT, DESC_DATA_DPL3);
		GUEST_SYNC_ARGS(1, 0, 0, 0);	/* a hypercall round trip */
		sel = (arg << 3) | 3;
		GUEST_ASSERT_EQ(guest_lar(sel), LG_BAD_ADDR);
		probe_load_ds(sel);
		GUEST_ASSERT_EQ(rec.count, 1);
		GUEST_ASSERT_EQ(rec.vector, 13);
		GUEST_ASSERT_EQ(rec.error_code, arg << 3);
		probe_insn_ud2();
		GUEST_ASSERT_EQ(rec.count, 2);
		GUEST_ASSERT_EQ(rec.vector, 6);
		GUEST_SYNC_ARGS(2, 0, 0, 0);
		break;
	}
	GUEST_DONE();
}

FIXTURE(gdt) {
	struct lg_vm *vm;
};

FIXTURE_VARIANT(gdt) {
	uint32_t action;
	uint32_t index;
};

FIXTURE_VARIANT_ADD(gdt, dpl0_data_gets_dpl1) {
	.action = GDT_DPL0_DATA,
};

FIXTURE_VARIANT_ADD(gdt, dpl0_code_gets_dpl1) {
	.action = GDT_DPL0_CODE,
};

FIXTURE_VARIANT_ADD(gdt, ignored_10) {
	.action = GDT_IGNORED, .index = GDT_LGUEST_CS,
};

FIXTURE_VARIANT_ADD(gdt, ignored_11) {
	.action = GDT_IGNORED, .index = GDT_LGUEST_DS,
};

FIXTURE_VARIANT_ADD(gdt, ignored_16) {
	.action = GDT_IGNORED, .index = GDT_TSS,
};

FIXTURE_VARIANT_ADD(gdt, ignored_31) {
	.action = GDT_IGNORED, .index = GDT_DF_TSS,
};

FIXTURE_SETUP(gdt)
{
	if (!lg_dev_present())
		SKIP(return, LG_NO_DEV_MSG);
	self->vm = lg_vm_create(0, guest_gdt);
	action = variant->action;
	arg = variant->index;
	lg_sync_global_to_guest(self->vm, action);
	lg_sync_global_to_guest(self->vm, arg);
}

FIXTURE_TEARDOWN(gdt)
{
	lg_vm_free(self->vm);
}

TEST_F(gdt, sanitized)
{
	struct lg_vm *vm = self->vm;

	ASSERT_UCALL(vm, UCALL_SYNC);
	if (variant->action == GDT_IGNORED) {
		ASSERT_EQ(1, vm->uc.args[0]);
		ASSERT_UCALL(vm, UCALL_SYNC);
		ASSERT_EQ(2, vm->uc.args[0]);
	} else {
		TH_LOG("access rights %#x", vm->uc.args[0]);
	}
	ASSERT_UCALL(vm, UCALL_DONE);
	lg_assert_host_ok(_metadata);
}

/*
 * The LDT works as a native one does, with the GDT's sanitizing: a DPL 0
 * entry gives DPL 1, a far call through an LDT code segment runs at CPL 1,
 * a 16-bit data segment has its base and byte limit (as Wine-style
 * programs use them), nothing past the declared size loads, an LDT the
 * guest removes is gone, and the CPU reads the host's checked copy, which
 * the guest sees read-only in the last pages of the switcher's slot.
 */
#define LDT_SEL1	((1 << 3) | 4 | 1)	/* LDT entry 1, RPL 1 */
#define LDT_SEL2	((2 << 3) | 4 | 1)
#define LDT_WINDOW_PAGES 16

enum {
	LDT_DPL0_DATA,
	LDT_DPL0_CODE,
	LDT_16BIT_DATA,
	LDT_BEYOND_SIZE,
	LDT_REMOVED,
	LDT_WINDOW,
};

/* Entry @i: 16 bytes at probe_buf, byte granular, 16-bit, DPL 3. */
static GUEST_CODE void ldt_small_data(unsigned int i)
{
	uint32_t base = (uint32_t)(uintptr_t)&probe_buf[0];

	ldt[2 * i] = (base << 16) | 15;
	ldt[2 * i + 1] = (base & 0xff000000) | ((base >> 16) & 0xff) | 0xf200;
}

static GUEST_CODE void guest_expect_gp(uint32_t count, uint32_t error_code)
{
	GUEST_ASSERT_EQ(rec.count, count);
	GUEST_ASSERT_EQ(rec.vector, 13);
	GUEST_ASSERT_EQ(rec.error_code, error_code);
}

static GUEST_CODE void guest_ldt_works(void)
{
	uint32_t ldt_gva = (uint32_t)(uintptr_t)ldt, ar, window;

	lgd = guest_lguest_init();
	guest_handlers();
	ldt[2] = DESC_LO_FLAT;
	ldt[3] = DESC_DATA_DPL0;
	ldt[4] = DESC_LO_FLAT;
	ldt[5] = DESC_DATA_DPL0;
	probe_buf[0] = 0x1d7;
	probe_buf[1] = 0x16b;

	switch (action) {
	case LDT_DPL0_DATA:
		guest_set_ldt(ldt_gva, 2);
		ar = guest_lar(LDT_SEL1);
		GUEST_ASSERT_NE(ar, LG_BAD_ADDR);
		GUEST_ASSERT_EQ(AR_DPL(ar), 1);
		GUEST_ASSERT(ar & AR_ACCESSED);
		probe_load_ds(LDT_SEL1);
		GUEST_ASSERT_EQ(rec.count, 0);
		GUEST_ASSERT_EQ(probe_val, 0x1d7);
		break;
	case LDT_DPL0_CODE:
		ldt[3] = DESC_CODE_DPL0;
		guest_set_ldt(ldt_gva, 2);
		probe_lcall(LDT_SEL1 & ~3);
		GUEST_ASSERT_EQ(rec.count, 0);
		GUEST_ASSERT_EQ(READ_ONCE(probe_val) & 0xffff, LDT_SEL1);
		break;
	case LDT_16BIT_DATA:
		ldt_small_data(1);
		guest_set_ldt(ldt_gva, 2);
		probe_ds_read(LDT_SEL1, 4);
		GUEST_ASSERT_EQ(rec.count, 0);
		GUEST_ASSERT_EQ(probe_val, 0x16b);
		probe_ds_read(LDT_SEL1, 0);
		GUEST_ASSERT_EQ(rec.count, 0);
		GUEST_ASSERT_EQ(probe_val, 0x1d7);
		/*
		 * The limit is the CPU's to enforce (QEMU's TCG, which runs
		 * our tests, does not check data segment limits): what the
		 * host controls is that the descriptor the CPU reads has it.
		 */
		GUEST_ASSERT_EQ(guest_lsl(LDT_SEL1), 15);
		break;
	case LDT_BEYOND_SIZE:
		/* Entry 2 is valid in memory, but the LDT is 2 entries. */
		guest_set_ldt(ldt_gva, 2);
		GUEST_ASSERT_NE(guest_lar(LDT_SEL1), LG_BAD_ADDR);
		GUEST_ASSERT_EQ(guest_lar(LDT_SEL2), LG_BAD_ADDR);
		probe_load_ds(LDT_SEL2);
		guest_expect_gp(1, LDT_SEL2 & ~3);
		break;
	case LDT_REMOVED:
		guest_set_ldt(ldt_gva, 2);
		probe_load_ds(LDT_SEL1);
		GUEST_ASSERT_EQ(rec.count, 0);
		guest_set_ldt(0, 0);
		GUEST_ASSERT_EQ(guest_lar(LDT_SEL1), LG_BAD_ADDR);
		probe_load_ds(LDT_SEL1);
		guest_expect_gp(1, LDT_SEL1 & ~3);
		break;
	case LDT_WINDOW:
		guest_set_ldt(ldt_gva, 2);
		window = guest_switcher_base() + SLOT_SIZE -
			 LDT_WINDOW_PAGES * LG_PAGE_SIZE;
		/* Entry 1's high word, as checked: DPL 1, accessed. */
		probe_read(window + 12);
		GUEST_ASSERT_EQ(rec.count, 0);
		GUEST_ASSERT_EQ(probe_val, DESC_DATA_DPL0 | 0x2000 | AR_ACCESSED);
		/*
		 * Read-only: a write faults, reflected as a write to a page
		 * that is not there, like every fault in the switcher's slot.
		 */
		probe_write(window + 8);
		GUEST_ASSERT_EQ(rec.count, 1);
		GUEST_ASSERT_EQ(rec.vector, 14);
		GUEST_ASSERT_EQ(rec.error_code, 2);
		/* One page of LDT, one page mapped. */
		probe_read(window + LG_PAGE_SIZE);
		GUEST_ASSERT_EQ(rec.count, 2);
		GUEST_ASSERT_EQ(rec.vector, 14);
		GUEST_ASSERT_EQ(rec.error_code, 0);
		break;
	}
	GUEST_DONE();
}

FIXTURE(ldt) {
	struct lg_vm *vm;
};

FIXTURE_VARIANT(ldt) {
	uint32_t action;
};

FIXTURE_VARIANT_ADD(ldt, dpl0_data_gets_dpl1) {
	.action = LDT_DPL0_DATA,
};

FIXTURE_VARIANT_ADD(ldt, far_call_dpl0_code_runs_at_cpl1) {
	.action = LDT_DPL0_CODE,
};

FIXTURE_VARIANT_ADD(ldt, data16_base_and_limit) {
	.action = LDT_16BIT_DATA,
};

FIXTURE_VARIANT_ADD(ldt, nothing_beyond_size) {
	.action = LDT_BEYOND_SIZE,
};

FIXTURE_VARIANT_ADD(ldt, removed) {
	.action = LDT_REMOVED,
};

FIXTURE_VARIANT_ADD(ldt, window_read_only) {
	.action = LDT_WINDOW,
};

FIXTURE_SETUP(ldt)
{
	if (!lg_dev_present())
		SKIP(return, LG_NO_DEV_MSG);
	self->vm = lg_vm_create(0, guest_ldt_works);
	action = variant->action;
	lg_sync_global_to_guest(self->vm, action);
}

FIXTURE_TEARDOWN(ldt)
{
	lg_vm_free(self->vm);
}

TEST_F(ldt, works)
{
	ASSERT_UCALL(self->vm, UCALL_DONE);
	lg_assert_host_ok(_metadata);
}

/*
 * SYSENTER and SYSCALL, from CPL 1 and CPL 3.  While a guest runs the host
 * zeroes MSR_IA32_SYSENTER_CS, so the CPU raises #GP(0) instead of
 * entering ring 0 with the guest's page tables (#UD if the CPU has no
 * SEP), and clears EFER.SCE, so SYSCALL (which AMD CPUs have in 32-bit
 * mode) raises #UD.  Either way the fault is the guest's; it must not
 * reach the host kernel.
 */
static GUEST_CODE void guest_sysenter(void)
{
	guest_handlers();
	if (action == 3) {
		guest_set_trap_stack();
		guest_set_idt(6, user_trap, 0);
		guest_set_idt(13, user_trap, 0);
		guest_enter_user(USER_CODE, USER_STACK + LG_PAGE_SIZE);
	} else if (arg) {
		probe_syscall();
	} else {
		probe_sysenter();
	}
	GUEST_SYNC_ARGS(rec.count, rec.vector, rec.error_code, rec.cs);
	GUEST_SYNC_ARGS(rec.eip, 0, 0, 0);
	GUEST_DONE();
}

FIXTURE(sysenter) {
	struct lg_vm *vm;
};

FIXTURE_VARIANT(sysenter) {
	uint32_t cpl;
	bool syscall;
	bool rdmsr;		/* CPL 3 only: the host emulates CPL 1's */
};

FIXTURE_VARIANT_ADD(sysenter, cpl1) {
	.cpl = 1,
};

FIXTURE_VARIANT_ADD(sysenter, cpl3) {
	.cpl = 3,
};

FIXTURE_VARIANT_ADD(sysenter, syscall_cpl1) {
	.cpl = 1, .syscall = true,
};

FIXTURE_VARIANT_ADD(sysenter, syscall_cpl3) {
	.cpl = 3, .syscall = true,
};

FIXTURE_VARIANT_ADD(sysenter, rdmsr_cpl3) {
	.cpl = 3, .rdmsr = true,
};

FIXTURE_SETUP(sysenter)
{
	/* sysenter (or syscall); ud2 (never reached) */
	uint8_t code[] = { 0x0f, 0x34, 0x0f, 0x0b };

	if (!lg_dev_present())
		SKIP(return, LG_NO_DEV_MSG);
	if (variant->syscall)
		code[1] = 0x05;
	if (variant->rdmsr)
		code[1] = 0x32;
	self->vm = lg_vm_create(0, guest_sysenter);
	map_user(self->vm, code, sizeof(code));
	action = variant->cpl;
	arg = variant->syscall;
	lg_sync_global_to_guest(self->vm, action);
	lg_sync_global_to_guest(self->vm, arg);
}

FIXTURE_TEARDOWN(sysenter)
{
	lg_vm_free(self->vm);
}

TEST_F(sysenter, faults_in_guest)
{
	struct lg_vm *vm = self->vm;
	uint32_t vector;

	ASSERT_UCALL(vm, UCALL_SYNC);
	ASSERT_EQ(1, vm->uc.args[0]);
	vector = vm->uc.args[1];
	TH_LOG("vector %u, error code %#x", vector, vm->uc.args[2]);
	/* SYSCALL: #UD; RDMSR: #GP; SYSENTER: #GP, or #UD without SEP. */
	EXPECT_TRUE(variant->syscall ? vector == 6 :
		    variant->rdmsr ? vector == 13 :
		    vector == 13 || vector == 6);
	EXPECT_EQ(0, vm->uc.args[2]);
	EXPECT_EQ(variant->cpl == 3 ? LG_USER_CS : LG_KERNEL_CS, vm->uc.args[3]);
	ASSERT_UCALL(vm, UCALL_SYNC);
	if (variant->cpl == 3)
		EXPECT_EQ(USER_CODE, vm->uc.args[0]);
	ASSERT_UCALL(vm, UCALL_DONE);
	lg_assert_host_ok(_metadata);
}

/*
 * "int $n" for every n, from CPL 1 and from CPL 3, with a guest handler
 * (interrupt gate) on every vector.  The switcher's gates are DPL 0
 * except the hypercall (DPL 1) and 3, 4 and 0x80 when the guest opened
 * them (here DPL 3), so:
 *   CPL 1: 0x1F is a hypercall (eax = LG_HCALL_TEST: the launcher sees
 *          it); 3, 4, 0x80 reach their handler after the instruction;
 *          anything else is a #GP with error code (n << 3) | 2 at it.
 *   CPL 3: 3, 4, 0x80 reach their handler; all others, 0x1F included,
 *          #GP (n << 3) | 2.
 * Opening other vectors with DPL 3 in the guest's IDT changes nothing.
 * A software "int" on a host interrupt vector must never get as far as
 * the host's interrupt handlers.
 */
#define SWEEP_STUB	4	/* int $n; ret; int3 */

static GUEST_CODE __naked void lg_sweep_table(void)
{
	asm("lg_sweep_n = 0\n\t"
	    ".rept 256\n\t"
	    ".byte 0xcd, lg_sweep_n\n\t"
	    "ret\n\t"
	    "int3\n\t"
	    "lg_sweep_n = lg_sweep_n + 1\n\t"
	    ".endr");
}

static struct {
	uint32_t count;
	uint32_t vector;
	uint32_t error_code;
	uint32_t eip_off;	/* eip - address of the int instruction */
	uint32_t hcall_ret;
} sweep[LG_NR_VECTORS] GUEST_DATA;

static uint32_t sweep_n GUEST_DATA;

static GUEST_CODE void sweep_trap(struct lg_trap_frame *frame)
{
	uint32_t n = sweep_n;
	uint32_t insn;

	sweep[n].count++;
	sweep[n].vector = frame->vector;
	sweep[n].error_code = frame->error_code;
	if ((frame->cs & 3) == 3) {
		insn = USER_CODE + 5;
		sweep[n].eip_off = frame->eip - insn;
		guest_return_from_user(frame, 0);
		return;
	}
	insn = (uint32_t)(uintptr_t)lg_sweep_table + n * SWEEP_STUB;
	sweep[n].eip_off = frame->eip - insn;
	frame->eip = insn + 2;		/* the ret */
}

static GUEST_CODE void guest_sweep(void)
{
	uint32_t n, dpl, stub;
	uint8_t *code;

	guest_set_trap_stack();
	for (n = 0; n < LG_NR_VECTORS; n++) {
		dpl = n == 3 || n == 4 || n == 0x80 || arg ? 3 : 0;
		stub = (uint32_t)(uintptr_t)lg_trap_stubs + n * LG_TRAP_STUB_SIZE;
		guest_set_idt(n, sweep_trap, dpl);
		guest_set_idt_gate(n, stub, dpl, LG_GATE_INTR);
	}

	for (n = 0; n < LG_NR_VECTORS; n++) {
		uint32_t eax = LG_HCALL_TEST;
		uintptr_t fn = (uintptr_t)lg_sweep_table + n * SWEEP_STUB;

		sweep_n = n;
		if (action == 3) {
			/* mov $LG_HCALL_TEST, %eax; int $n; ud2 */
			code = (uint8_t *)(uintptr_t)user_code_gpa;
			code[6] = n;
			guest_enter_user(USER_CODE, USER_STACK + LG_PAGE_SIZE);
		} else {
			asm volatile("call *%[fn]"
				     : "+a" (eax)
				     : [fn] "c" (fn), "b" (n), "d" (0), "S" (0)
				     : "memory", "cc");
			sweep[n].hcall_ret = eax;
		}
	}
	GUEST_DONE();
}

FIXTURE(int_n) {
	struct lg_vm *vm;
};

FIXTURE_VARIANT(int_n) {
	uint32_t cpl;
	bool all_dpl3;
};

FIXTURE_VARIANT_ADD(int_n, cpl1) {
	.cpl = 1,
};

FIXTURE_VARIANT_ADD(int_n, cpl3) {
	.cpl = 3,
};

FIXTURE_VARIANT_ADD(int_n, cpl1_all_dpl3) {
	.cpl = 1, .all_dpl3 = true,
};

FIXTURE_VARIANT_ADD(int_n, cpl3_all_dpl3) {
	.cpl = 3, .all_dpl3 = true,
};

FIXTURE_SETUP(int_n)
{
	static const uint8_t code[] = {
		0xb8,				/* mov $LG_HCALL_TEST, %eax */
		LG_HCALL_TEST & 0xff, (LG_HCALL_TEST >> 8) & 0xff,
		(LG_HCALL_TEST >> 16) & 0xff, LG_HCALL_TEST >> 24,
		0xcd, 0x00,			/* int $n: the guest sets n */
		0x0f, 0x0b,			/* ud2 */
	};

	if (!lg_dev_present())
		SKIP(return, LG_NO_DEV_MSG);
	self->vm = lg_vm_create(0, guest_sweep);
	map_user(self->vm, code, sizeof(code));
	action = variant->cpl;
	arg = variant->all_dpl3;
	lg_sync_global_to_guest(self->vm, action);
	lg_sync_global_to_guest(self->vm, arg);
}

FIXTURE_TEARDOWN(int_n)
{
	lg_vm_free(self->vm);
}

#define HCALL_RET(n)	(0xc0de0000u | (n))

TEST_F(int_n, all_vectors)
{
	struct lg_vm *vm = self->vm;
	unsigned int n, bad = 0, hcalls = 0;

	for (;;) {
		ASSERT_EQ(0, lg_vcpu_run(vm));
		if (vm->uc.cmd != UCALL_NONE)
			break;
		/* Only "int $0x1f" from CPL 1 may get to the launcher. */
		ASSERT_EQ(LGUEST_EXIT_HYPERCALL, vm->run.exit_reason) {
			TH_LOG("%s", lg_exit_str(vm));
		}
		ASSERT_EQ(LG_HCALL_TEST, vm->run.hypercall.nr);
		ASSERT_EQ(1, variant->cpl);
		ASSERT_EQ(LG_TRAP_ENTRY, vm->run.hypercall.args[0]);
		vm->run.hypercall.ret = HCALL_RET(vm->run.hypercall.args[0]);
		hcalls++;
	}
	ASSERT_EQ(UCALL_DONE, vm->uc.cmd) {
		TH_LOG("%s", lg_exit_str(vm));
	}
	EXPECT_EQ(variant->cpl == 1 ? 1 : 0, hcalls);

	lg_sync_global_from_guest(vm, sweep);
	for (n = 0; n < LG_NR_VECTORS; n++) {
		bool open = n == 3 || n == 4 || n == 0x80;
		uint32_t count = 1, vector = 13, error = GP_IDT(n), eip_off = 0;
		bool ok;

		if (variant->cpl == 1 && n == LG_TRAP_ENTRY) {
			count = 0;
		} else if (open) {
			vector = n;
			error = 0;
			eip_off = 2;
		}
		ok = sweep[n].count == count;
		if (count)
			ok = ok && sweep[n].vector == vector &&
			     sweep[n].error_code == error &&
			     sweep[n].eip_off == eip_off;
		else
			ok = ok && sweep[n].hcall_ret == HCALL_RET(n);
		if (!ok && bad++ < 16)
			TH_LOG("int $%#x: %u traps, vector %u, error %#x, eip +%d",
			       n, sweep[n].count, sweep[n].vector,
			       sweep[n].error_code, (int)sweep[n].eip_off);
	}
	EXPECT_EQ(0, bad);
	lg_assert_host_ok(_metadata);
}

/*
 * A page directory entry that points at the page directory itself: the
 * walk has two levels, so the page directory just serves as a page table
 * too.  Slot 0x100 (0x40000000) maps the pages the PDEs name; its entry
 * 0x100 maps the page directory itself.  The host is fine, and the guest
 * reads its own PDEs.
 */
#define SELF_SLOT	(TEST_PAGE >> PGDIR_SHIFT)

static GUEST_CODE void guest_pgdir_loop(void)
{
	uint32_t pgdir = lg_guest_info.pgdir;
	uint32_t *pgd = (uint32_t *)(uintptr_t)pgdir;
	uint32_t *self_map = (uint32_t *)(uintptr_t)(TEST_PAGE +
						     SELF_SLOT * LG_PAGE_SIZE);
	uint32_t *pt0 = (uint32_t *)(uintptr_t)TEST_PAGE;
	uint32_t v;

	lgd = guest_lguest_init();
	guest_handlers();
	pgd[SELF_SLOT] = pgdir | LG_PTE_P | LG_PTE_RW;
	lg_hcall(LHCALL_SET_PGD, pgdir, SELF_SLOT, 0, 0);

	/* The page directory, through itself. */
	v = READ_ONCE(self_map[SELF_SLOT]);
	GUEST_ASSERT_EQ(v & LG_PAGE_MASK, pgdir);
	GUEST_ASSERT_EQ(READ_ONCE(self_map[0]), pgd[0]);
	/* The page table of slot 0 (the identity map): page 1 is there. */
	GUEST_ASSERT_EQ(READ_ONCE(pt0[1]) & LG_PAGE_MASK, LG_PAGE_SIZE);
	GUEST_ASSERT_EQ(rec.count, 0);

	/* Undo it through the self map, tell the host, and it is gone. */
	WRITE_ONCE(self_map[SELF_SLOT], 0);
	lg_hcall(LHCALL_SET_PGD, pgdir, SELF_SLOT, 0, 0);
	GUEST_ASSERT_EQ(pgd[SELF_SLOT], 0);
	probe_read(TEST_PAGE);
	GUEST_ASSERT_EQ(rec.count, 1);
	GUEST_ASSERT_EQ(rec.vector, 14);
	GUEST_ASSERT_EQ(rec.cr2, TEST_PAGE);
	GUEST_DONE();
}

TEST(pgdir_maps_itself)
{
	struct lg_vm *vm;

	if (!lg_dev_present())
		SKIP(return, LG_NO_DEV_MSG);
	vm = lg_vm_create(0, guest_pgdir_loop);
	ASSERT_UCALL(vm, UCALL_DONE);
	lg_vm_free(vm);
	lg_assert_host_ok(_metadata);
}

/*
 * The launcher's LDT is not the guest's: the switcher runs the guest with
 * a null LDT, so selector 0x05 (LDT entry 0, RPL 1) does not load: #GP
 * with the selector (TI set, RPL dropped) as error code.
 */
#define LDT_SEL		0x05
#define LDT_SEL_USER	0x07

static GUEST_CODE void guest_ldt(void)
{
	guest_handlers();
	GUEST_ASSERT_EQ(guest_lar(LDT_SEL), LG_BAD_ADDR);
	probe_load_ds(LDT_SEL);
	GUEST_SYNC_ARGS(rec.count, rec.vector, rec.error_code, 0);
	GUEST_DONE();
}

TEST(launcher_ldt_not_visible)
{
	struct user_desc desc = {
		.entry_number = 0,
		.base_addr = 0,
		.limit = 0xfffff,
		.seg_32bit = 1,
		.contents = 0,		/* data */
		.limit_in_pages = 1,
	};
	uint32_t fs, probe;
	struct lg_vm *vm;

	if (!lg_dev_present())
		SKIP(return, LG_NO_DEV_MSG);
	if (syscall(SYS_modify_ldt, 1, &desc, sizeof(desc)) != 0)
		SKIP(return, "modify_ldt: %s", strerror(errno));
	/* The entry works here, in the launcher: load it into %fs. */
	asm volatile("movl %%fs, %[fs]\n\t"
		     "movl %[sel], %%fs\n\t"
		     "movl %%fs:(%[p]), %[probe]\n\t"
		     "movl %[fs], %%fs"
		     : [fs] "=&r" (fs), [probe] "=&r" (probe)
		     : [sel] "r" (LDT_SEL_USER), [p] "r" (&desc.limit)
		     : "memory");
	ASSERT_EQ(0xfffff, probe);

	vm = lg_vm_create(0, guest_ldt);
	ASSERT_UCALL(vm, UCALL_SYNC);
	EXPECT_EQ(1, vm->uc.args[0]);
	EXPECT_EQ(13, vm->uc.args[1]);
	EXPECT_EQ(LDT_SEL & ~3, vm->uc.args[2]);
	ASSERT_UCALL(vm, UCALL_DONE);
	lg_vm_free(vm);
	lg_assert_host_ok(_metadata);
}

/*
 * One guest's LDT is not another's: the switcher maps the LDT of the guest
 * it runs, and none for a guest without one.  The first guest installs
 * entries 0 and 1 and stops; the second finds selector 0x05 refused (see
 * guest_ldt()); the first, run again, still has its own.
 */
static GUEST_CODE void guest_ldt_owner(void)
{
	guest_handlers();
	ldt[0] = DESC_LO_FLAT;
	ldt[1] = DESC_DATA_DPL3;
	ldt[2] = DESC_LO_FLAT;
	ldt[3] = DESC_DATA_DPL3;
	probe_buf[0] = 0x0ea;
	guest_set_ldt((uint32_t)(uintptr_t)ldt, 2);
	probe_load_ds(LDT_SEL);
	GUEST_SYNC_ARGS(rec.count, probe_val, 0, 0);
	probe_val = 0;
	probe_load_ds(LDT_SEL);
	GUEST_SYNC_ARGS(rec.count, probe_val, 0, 0);
	GUEST_DONE();
}

/*
 * The guest's own breakpoints work: a write watchpoint on probe_buf[4]
 * (DR0; DR7: L0, RW 01, LEN 11) turns a write there into a #DB just
 * after it, with B0 set in the DR6 the host passes on; a write next to
 * it does not trap, through hypercalls that leave and re-enter the guest
 * the watchpoint stays, and once DR7 is cleared the write is quiet.
 */
#define DR7_L0_WRITE4	0x000d0001u

static GUEST_CODE void guest_watchpoint(void)
{
	uint32_t target = (uint32_t)(uintptr_t)&probe_buf[4];

	lgd = guest_lguest_init();
	guest_handlers();
	guest_set_idt(1, record_trap, 0);
	lg_hcall(LHCALL_SET_DEBUGREG, 0, target, 0, 0);
	lg_hcall(LHCALL_SET_DEBUGREG, 7, DR7_L0_WRITE4, 0, 0);
	probe_write(target + 4);
	GUEST_ASSERT_EQ(rec.count, 0);
	probe_write(target);
	GUEST_ASSERT_EQ(rec.count, 1);
	GUEST_ASSERT_EQ(rec.vector, 1);
	GUEST_SYNC_ARGS(rec.dr6, probe_buf[4], 0, 0);
	probe_write(target);
	GUEST_ASSERT_EQ(rec.count, 2);
	lg_hcall(LHCALL_SET_DEBUGREG, 7, 0, 0, 0);
	probe_write(target);
	GUEST_ASSERT_EQ(rec.count, 2);
	GUEST_DONE();
}

TEST(watchpoint_fires_in_guest)
{
	struct lg_vm *vm;

	if (!lg_dev_present())
		SKIP(return, LG_NO_DEV_MSG);
	vm = lg_vm_create(0, guest_watchpoint);
	ASSERT_UCALL(vm, UCALL_SYNC);
	EXPECT_EQ(1, vm->uc.args[0] & 0xf);	/* B0 only */
	EXPECT_EQ(0xbad, vm->uc.args[1]);
	ASSERT_UCALL(vm, UCALL_DONE);
	lg_vm_free(vm);
	lg_assert_host_ok(_metadata);
}

/*
 * "mov ss" holds a debug trap back for one instruction, so a watchpoint on
 * the selector loaded into %ss, followed by a hypercall, delivers the #DB
 * at the first instruction of the switcher's stub, at ring 0 (the trick of
 * CVE-2018-8897).  The switcher must carry on: the hypercall completes
 * and the guest lives (at most it sees the #DB, as a native kernel's user
 * space would).  DR7: L0, RW 11 (read or write), LEN 11.
 */
#define DR7_L0_RW4	0x000f0001u

/* A debug trap: count it and go on after the instruction. */
static GUEST_CODE void count_debug_trap(struct lg_trap_frame *frame)
{
	rec.count++;
	rec.vector = frame->vector;
}

static GUEST_CODE void guest_mov_ss_watchpoint(void)
{
	uint32_t target = (uint32_t)(uintptr_t)&probe_buf[4];
	uint32_t ret = LHCALL_SEND_INTERRUPTS;

	lgd = guest_lguest_init();
	guest_handlers();
	guest_set_idt(1, count_debug_trap, 0);
	probe_buf[4] = LG_KERNEL_DS;
	lg_hcall(LHCALL_SET_DEBUGREG, 0, target, 0, 0);
	lg_hcall(LHCALL_SET_DEBUGREG, 7, DR7_L0_RW4, 0, 0);
	asm volatile("movw %[sel], %%ss\n\t"
		     "int $0x1f"
		     : "+a" (ret)
		     : [sel] "m" (probe_buf[4]), "b" (0), "c" (0), "d" (0),
		       "S" (0)
		     : "memory");
	lg_hcall(LHCALL_SET_DEBUGREG, 7, 0, 0, 0);
	GUEST_SYNC_ARGS(rec.count, rec.vector, 0, 0);
	GUEST_DONE();
}

TEST(mov_ss_watchpoint_before_hypercall)
{
	struct lg_vm *vm;

	if (!lg_dev_present())
		SKIP(return, LG_NO_DEV_MSG);
	vm = lg_vm_create(0, guest_mov_ss_watchpoint);
	ASSERT_UCALL(vm, UCALL_SYNC);
	EXPECT_GE(1, vm->uc.args[0]);
	EXPECT_TRUE(!vm->uc.args[0] || vm->uc.args[1] == 1);
	TH_LOG("#DB seen by the guest: %u", vm->uc.args[0]);
	ASSERT_UCALL(vm, UCALL_DONE);
	lg_vm_free(vm);
	lg_assert_host_ok(_metadata);
}

TEST(ldt_not_shared_between_guests)
{
	struct lg_vm *owner, *other;

	if (!lg_dev_present())
		SKIP(return, LG_NO_DEV_MSG);
	owner = lg_vm_create(0, guest_ldt_owner);
	other = lg_vm_create(0, guest_ldt);
	ASSERT_UCALL(owner, UCALL_SYNC);
	EXPECT_EQ(0, owner->uc.args[0]);
	EXPECT_EQ(0x0ea, owner->uc.args[1]);
	ASSERT_UCALL(other, UCALL_SYNC);
	EXPECT_EQ(1, other->uc.args[0]);
	EXPECT_EQ(13, other->uc.args[1]);
	EXPECT_EQ(LDT_SEL & ~3, other->uc.args[2]);
	ASSERT_UCALL(other, UCALL_DONE);
	ASSERT_UCALL(owner, UCALL_SYNC);
	EXPECT_EQ(0, owner->uc.args[0]);
	EXPECT_EQ(0x0ea, owner->uc.args[1]);
	ASSERT_UCALL(owner, UCALL_DONE);
	lg_vm_free(other);
	lg_vm_free(owner);
	lg_assert_host_ok(_metadata);
}

/*
 * The launcher may load any 16-bit value into a data segment register, and
 * the guest can change its GDT or LDT under a loaded selector.  A data
 * segment register the CPU refuses on the way into the guest is loaded
 * with 0 instead, as Linux's own return to user mode does; the guest
 * finds %ds null.  A stack segment that does not load cannot be fixed up
 * that way: that ends the guest, not the host.
 */
/* Not static: guest_ds_on_entry() calls it by name. */
GUEST_CODE void guest_saw_ds(uint32_t ds)
{
	GUEST_SYNC_ARGS(ds, 0, 0, 0);
	GUEST_DONE();
}

/* Reads %ds before anything uses it, then makes it flat again. */
static GUEST_CODE __naked void guest_ds_on_entry(void)
{
	asm("movl %ds, %eax\n\t"
	    "movl %ss, %ecx\n\t"
	    "movl %ecx, %ds\n\t"
	    "movl %ecx, %es\n\t"
	    "pushl %eax\n\t"
	    "call guest_saw_ds\n\t"
	    "ud2");
}

TEST(stale_data_segment_on_entry)
{
	struct lguest_regs regs;
	struct lg_vm *vm;

	if (!lg_dev_present())
		SKIP(return, LG_NO_DEV_MSG);
	vm = lg_vm_create(0, guest_ds_on_entry);
	lg_get_regs(vm, &regs);
	regs.ds = 0xfff8;	/* far beyond the GDT's 32 entries */
	lg_set_regs(vm, &regs);
	ASSERT_UCALL(vm, UCALL_SYNC);
	EXPECT_EQ(0, vm->uc.args[0]);
	ASSERT_UCALL(vm, UCALL_DONE);
	lg_vm_free(vm);
	lg_assert_host_ok(_metadata);
}

/* The guest empties the GDT entry of its own stack segment. */
static GUEST_CODE void guest_kills_own_ss(void)
{
	guest_load_gdt(LG_KERNEL_DS >> 3, 0, 0);
	GUEST_FAIL("the guest ran with a bad %%ss");
}

TEST(bad_stack_segment_on_entry)
{
	struct lg_vm *vm;

	if (!lg_dev_present())
		SKIP(return, LG_NO_DEV_MSG);
	vm = lg_vm_create(0, guest_kills_own_ss);
	ASSERT_EXIT(vm, LGUEST_EXIT_DEAD);
	ASSERT_TRUE(!!strstr(vm->run.dead.reason, "entering the guest")) {
		TH_LOG("reason: %s", vm->run.dead.reason);
	}
	lg_vm_free(vm);
	lg_assert_host_ok(_metadata);
}

/*
 * A guest can give itself ring 2 (a DPL 2 code segment of its own, and an
 * iret): wherever it is stopped, what LGUEST_GET_REGS reports must pass
 * LGUEST_SET_REGS, so a launcher can save and restore it.  This guest
 * spins at CPL 2 until a signal stops LGUEST_RUN.
 */
#define DESC_CODE_DPL2	0x00cfda00u
#define DESC_DATA_DPL2	0x00cfd200u
#define CPL2_CS		((GDT_TEST << 3) | 2)
#define CPL2_SS		((GDT_TEST2 << 3) | 2)

static GUEST_CODE void guest_spin_at_cpl2(void)
{
	guest_load_gdt(GDT_TEST, DESC_LO_FLAT, DESC_CODE_DPL2);
	guest_load_gdt(GDT_TEST2, DESC_LO_FLAT, DESC_DATA_DPL2);
	asm volatile("pushl %[ss]\n\t"
		     "pushl %%esp\n\t"
		     "pushfl\n\t"
		     "pushl %[cs]\n\t"
		     "pushl $1f\n\t"
		     "iret\n"
		     "1:\tjmp 1b"
		     : : [ss] "i" (CPL2_SS), [cs] "i" (CPL2_CS) : "memory");
}

static void on_alarm(int sig)
{
}

TEST(stopped_at_cpl2_regs_round_trip)
{
	struct sigaction sa = { .sa_handler = on_alarm };
	struct lguest_regs regs;
	struct lg_vm *vm;

	if (!lg_dev_present())
		SKIP(return, LG_NO_DEV_MSG);
	ASSERT_EQ(0, sigaction(SIGALRM, &sa, NULL));	/* no SA_RESTART */
	vm = lg_vm_create(0, guest_spin_at_cpl2);
	alarm(1);
	ASSERT_EQ(-EINTR, lg_vcpu_run(vm));
	EXPECT_EQ(LGUEST_EXIT_INTR, vm->run.exit_reason);
	lg_get_regs(vm, &regs);
	EXPECT_EQ(CPL2_CS, regs.cs);
	EXPECT_EQ(CPL2_SS, regs.ss);
	EXPECT_EQ(0, ioctl(vm->fd, LGUEST_SET_REGS, &regs)) {
		TH_LOG("LGUEST_SET_REGS: %s", strerror(errno));
	}
	lg_vm_free(vm);
	lg_assert_host_ok(_metadata);
}

/*
 * The register page of a CPU's switcher is the guest's to write while it
 * runs, beyond its trap frame too.  One guest fills the start of it with
 * a pattern; the next guest on that CPU must find none of it.
 */
#define SPARE_WORDS	256

static GUEST_CODE void guest_register_page(void)
{
	uint32_t *page, i, seen = 0;

	lgd = guest_lguest_init();
	page = (uint32_t *)(uintptr_t)(guest_switcher_base() +
				       LG_PAGE_SIZE * (1 + 2 * arg));
	for (i = 0; i < SPARE_WORDS; i++) {
		if (page[i] == 0x5a5a5a5a)
			seen++;
		page[i] = 0x5a5a5a5a;
	}
	GUEST_SYNC(seen);
	GUEST_DONE();
}

TEST(register_page_not_shared_between_guests)
{
	struct lg_vm *first, *second;
	cpu_set_t set;
	int cpu;

	if (!lg_dev_present())
		SKIP(return, LG_NO_DEV_MSG);
	cpu = sched_getcpu();
	ASSERT_LE(0, cpu);
	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	ASSERT_EQ(0, sched_setaffinity(0, sizeof(set), &set));
	arg = cpu;
	first = lg_vm_create(0, guest_register_page);
	second = lg_vm_create(0, guest_register_page);
	ASSERT_UCALL(first, UCALL_SYNC);
	EXPECT_EQ(0, first->uc.args[0]);
	ASSERT_UCALL(second, UCALL_SYNC);
	EXPECT_EQ(0, second->uc.args[0]);
	ASSERT_UCALL(first, UCALL_DONE);
	ASSERT_UCALL(second, UCALL_DONE);
	lg_vm_free(first);
	lg_vm_free(second);
	lg_assert_host_ok(_metadata);
}

/*
 * A guest program on a 16-bit stack segment keeps the high half of %esp
 * as it set it, however often the host stops and resumes it: an iret to a
 * 16-bit %ss loads only the low half, so without the switcher's espfix
 * the high half would become the switcher's own, an address of the host.
 * The program, on a 16-bit segment, sets %esp to 0x12340ff0 itself (the
 * guest kernel's own iret to it keeps the guest kernel's high half, as
 * natively without espfix), spins through many host interrupts, and
 * traps; the guest kernel looks at its %esp.
 */
#define ESP16_HIGH	0x12340000u
#define ESP16		(ESP16_HIGH | 0xff0)
#define SS16		((GDT_TEST2 << 3) | 3)
/* 16-bit data, read/write, DPL 3, byte granular, base USER_STACK. */
#define DESC16_LO	((USER_STACK << 16) | 0xffff)
#define DESC16_HI	((USER_STACK & 0xff000000) | \
			 ((USER_STACK >> 16) & 0xff) | 0xf200)

static GUEST_CODE void record_user_esp(struct lg_trap_frame *frame)
{
	rec.count++;
	rec.vector = frame->vector;
	probe_val = frame->user_esp;
	guest_return_from_user(frame, frame->vector);
}

static GUEST_CODE void guest_esp_on_16bit_ss(void)
{
	lgd = guest_lguest_init();
	guest_set_trap_stack();
	guest_set_idt(6, record_user_esp, 0);
	guest_set_idt(13, user_trap, 0);
	guest_load_gdt(GDT_TEST2, DESC16_LO, DESC16_HI);
	guest_enter_user_ss(USER_CODE, ESP16, SS16);
	GUEST_SYNC_ARGS(rec.count, rec.vector, probe_val, 0);
	GUEST_DONE();
}

TEST(esp_high_half_on_16bit_stack)
{
	/* movl $ESP16, %esp; movl $0x4000000, %ecx; 1: decl %ecx; jnz 1b; ud2 */
	static const uint8_t code[] = {
		0xbc, ESP16 & 0xff, (ESP16 >> 8) & 0xff, (ESP16 >> 16) & 0xff,
		ESP16 >> 24, 0xb9, 0x00, 0x00, 0x00, 0x04, 0x49, 0x75, 0xfd,
		0x0f, 0x0b,
	};
	struct lg_vm *vm;

	if (!lg_dev_present())
		SKIP(return, LG_NO_DEV_MSG);
	vm = lg_vm_create(0, guest_esp_on_16bit_ss);
	map_user(vm, code, sizeof(code));
	ASSERT_UCALL(vm, UCALL_SYNC);
	EXPECT_EQ(1, vm->uc.args[0]);
	EXPECT_EQ(6, vm->uc.args[1]);
	EXPECT_EQ(ESP16, vm->uc.args[2]);
	ASSERT_UCALL(vm, UCALL_DONE);
	lg_vm_free(vm);
	lg_assert_host_ok(_metadata);
}

TEST_HARNESS_MAIN
