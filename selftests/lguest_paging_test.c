// SPDX-License-Identifier: GPL-2.0
/*
 * Guest page faults and page table updates: an access to a guest-virtual
 * page the guest has not mapped (or mapped read-only) reaches the guest's
 * #PF handler with the right error code and the address in
 * lguest_data.cr2; the handler maps the page in its own page tables,
 * tells the host with LHCALL_SET_PTE, LHCALL_SET_PGD or LHCALL_FLUSH_TLB,
 * and the retried access then succeeds.  And the other way round: after
 * the guest unmaps or remaps a page and tells the host, the host's shadow
 * page tables no longer give the old page.
 *
 * See include/lguest_util.h for how the guest code in this file runs.
 * All tests are skipped when /dev/lguest does not exist.
 */
#include <stdint.h>
#include <string.h>

#include "../kselftest_harness.h"
#include "lguest_util.h"

/* Far from the identity map and the program image; offset checks cr2. */
#define TEST_PAGE	0x40000000u
#define TEST_ADDR	(TEST_PAGE + 0x124)

#define OLD_VALUE	0x5eed5eedu
#define NEW_VALUE	0xc0ffee11u

enum {
	NOTIFY_SET_PTE,
	NOTIFY_SET_PGD,
	NOTIFY_FLUSH_TLB,
};

/* Set by the launcher. */
static uint32_t notify GUEST_DATA;
static uint32_t is_write GUEST_DATA;
static uint32_t data_gpa GUEST_DATA;	/* the page to map on a fault */
static uint32_t other_gpa GUEST_DATA;	/* for remapping */

static struct lguest_data *lgd GUEST_DATA;

static struct {
	uint32_t count;
	uint32_t error_code;
	uint32_t cr2;
	uint32_t eip;
} pf GUEST_DATA;

/* Tell the host that the guest changed the mapping of @vaddr. */
static GUEST_CODE void guest_notify(uint32_t vaddr)
{
	switch (notify) {
	case NOTIFY_SET_PTE:
		lg_hcall(LHCALL_SET_PTE, lg_guest_info.pgdir, vaddr,
			 *guest_pte(vaddr), 0);
		break;
	case NOTIFY_SET_PGD:
		lg_hcall(LHCALL_SET_PGD, lg_guest_info.pgdir, vaddr >> 22, 0, 0);
		break;
	case NOTIFY_FLUSH_TLB:
		lg_hcall(LHCALL_FLUSH_TLB, 1, 0, 0, 0);
		break;
	}
}

static GUEST_CODE void pf_handler(struct lg_trap_frame *frame)
{
	uint32_t cr2 = lgd->cr2;

	pf.count++;
	pf.error_code = frame->error_code;
	pf.cr2 = cr2;
	pf.eip = frame->eip;
	/* The fix below did not take: stop rather than fault forever. */
	__GUEST_ASSERT(pf.count < 3, "fault %u at %#x, error %#x, eip %#x",
		       pf.count, cr2, frame->error_code, frame->eip);

	guest_map_page(cr2 & LG_PAGE_MASK, data_gpa, LG_PTE_RW);
	guest_notify(cr2 & LG_PAGE_MASK);
}

static GUEST_CODE void guest_fault_in(void)
{
	uint32_t *p = (uint32_t *)TEST_ADDR;

	lgd = guest_lguest_init();
	guest_set_idt(14, pf_handler, 0);

	/* *ONCE: the accesses are the test, the compiler must not merge them. */
	if (is_write) {
		WRITE_ONCE(*p, NEW_VALUE);
		GUEST_ASSERT_EQ(READ_ONCE(*p), NEW_VALUE);
	} else {
		GUEST_ASSERT_EQ(READ_ONCE(*p), OLD_VALUE);
	}
	GUEST_ASSERT_EQ(pf.count, 1);
	GUEST_SYNC_ARGS(pf.error_code, pf.cr2, pf.eip, 0);
	GUEST_DONE();
}

FIXTURE(fault_in) {
	struct lg_vm *vm;
};

FIXTURE_VARIANT(fault_in) {
	uint32_t notify;
	bool is_write;
	bool have_pt;		/* the page table exists, the PTE is empty */
	bool read_only;		/* the PTE is present but read-only */
	uint32_t error_code;
};

FIXTURE_VARIANT_ADD(fault_in, read_set_pte) {
	.notify = NOTIFY_SET_PTE, .have_pt = true,
	.error_code = 0,
};

FIXTURE_VARIANT_ADD(fault_in, write_set_pte) {
	.notify = NOTIFY_SET_PTE, .have_pt = true, .is_write = true,
	.error_code = LG_PF_W,
};

FIXTURE_VARIANT_ADD(fault_in, read_flush_tlb) {
	.notify = NOTIFY_FLUSH_TLB, .have_pt = true,
	.error_code = 0,
};

FIXTURE_VARIANT_ADD(fault_in, write_flush_tlb) {
	.notify = NOTIFY_FLUSH_TLB, .have_pt = true, .is_write = true,
	.error_code = LG_PF_W,
};

/* No page table at all: the handler makes one and sets the PDE. */
FIXTURE_VARIANT_ADD(fault_in, write_new_pgd) {
	.notify = NOTIFY_SET_PGD, .is_write = true,
	.error_code = LG_PF_W,
};

FIXTURE_VARIANT_ADD(fault_in, read_new_pgd) {
	.notify = NOTIFY_SET_PGD,
	.error_code = 0,
};

/* Present but read-only: a protection fault, then made writable. */
FIXTURE_VARIANT_ADD(fault_in, write_read_only_set_pte) {
	.notify = NOTIFY_SET_PTE, .have_pt = true, .read_only = true,
	.is_write = true, .error_code = LG_PF_P | LG_PF_W,
};

FIXTURE_VARIANT_ADD(fault_in, write_read_only_flush_tlb) {
	.notify = NOTIFY_FLUSH_TLB, .have_pt = true, .read_only = true,
	.is_write = true, .error_code = LG_PF_P | LG_PF_W,
};

FIXTURE_SETUP(fault_in)
{
	struct lg_vm *vm;

	if (!lg_dev_present())
		SKIP(return, LG_NO_DEV_MSG);
	vm = lg_vm_create(0, guest_fault_in);
	self->vm = vm;

	data_gpa = lg_vm_alloc_page(vm);
	*(uint32_t *)lg_gpa2hva(vm, data_gpa + (TEST_ADDR & ~LG_PAGE_MASK)) =
		OLD_VALUE;
	if (variant->read_only)
		lg_vm_map(vm, TEST_PAGE, data_gpa, 0);
	else if (variant->have_pt)
		lg_vm_pte(vm, TEST_PAGE, true);

	notify = variant->notify;
	is_write = variant->is_write;
	lg_sync_global_to_guest(vm, data_gpa);
	lg_sync_global_to_guest(vm, notify);
	lg_sync_global_to_guest(vm, is_write);
}

FIXTURE_TEARDOWN(fault_in)
{
	lg_vm_free(self->vm);
}

TEST_F(fault_in, handled)
{
	struct lg_vm *vm = self->vm;
	uint32_t *data = lg_gpa2hva(vm, data_gpa + (TEST_ADDR & ~LG_PAGE_MASK));

	ASSERT_UCALL(vm, UCALL_SYNC);
	/* Not present (or present), read (or write), from CPL 1. */
	EXPECT_EQ(variant->error_code, vm->uc.args[0]);
	EXPECT_EQ(TEST_ADDR, vm->uc.args[1]);
	ASSERT_UCALL(vm, UCALL_DONE);
	EXPECT_EQ(variant->is_write ? NEW_VALUE : OLD_VALUE, *data);
}

/*
 * The guest maps TEST_PAGE to one page and reads it, then changes the
 * mapping in its page tables, tells the host, and reads again: it must see
 * the new page, or fault if it unmapped it.
 */
enum {
	CHANGE_REMAP,
	CHANGE_UNMAP,
	CHANGE_READ_ONLY,
};

static uint32_t change GUEST_DATA;

static GUEST_CODE void guest_change_mapping(void)
{
	uint32_t *p = (uint32_t *)TEST_ADDR;
	uint32_t *pte;

	lgd = guest_lguest_init();
	guest_set_idt(14, pf_handler, 0);

	/* Mapped by the launcher to other_gpa. */
	GUEST_ASSERT_EQ(READ_ONCE(*p), NEW_VALUE);
	/* A write, so that the host's shadow PTE is writable too. */
	WRITE_ONCE(*p, NEW_VALUE);
	GUEST_ASSERT_EQ(pf.count, 0);

	pte = guest_pte(TEST_PAGE);
	switch (change) {
	case CHANGE_REMAP:
		*pte = data_gpa | LG_PTE_P | LG_PTE_RW;
		guest_notify(TEST_PAGE);
		GUEST_ASSERT_EQ(READ_ONCE(*p), OLD_VALUE);
		GUEST_ASSERT_EQ(pf.count, 0);
		break;
	case CHANGE_UNMAP:
		*pte = 0;
		guest_notify(TEST_PAGE);
		/* pf_handler maps data_gpa. */
		GUEST_ASSERT_EQ(READ_ONCE(*p), OLD_VALUE);
		GUEST_ASSERT_EQ(pf.count, 1);
		GUEST_ASSERT_EQ(pf.error_code, 0);
		GUEST_ASSERT_EQ(pf.cr2, TEST_ADDR);
		break;
	case CHANGE_READ_ONLY:
		*pte &= ~LG_PTE_RW;
		guest_notify(TEST_PAGE);
		/* Reading is fine, writing faults; pf_handler maps data_gpa. */
		GUEST_ASSERT_EQ(READ_ONCE(*p), NEW_VALUE);
		GUEST_ASSERT_EQ(pf.count, 0);
		WRITE_ONCE(*p, 0x12345678);
		GUEST_ASSERT_EQ(pf.count, 1);
		GUEST_ASSERT_EQ(pf.error_code, LG_PF_P | LG_PF_W);
		GUEST_ASSERT_EQ(pf.cr2, TEST_ADDR);
		GUEST_ASSERT_EQ(READ_ONCE(*p), 0x12345678);
		break;
	}
	GUEST_DONE();
}

FIXTURE(change_mapping) {
	struct lg_vm *vm;
};

FIXTURE_VARIANT(change_mapping) {
	uint32_t change;
	uint32_t notify;
};

FIXTURE_VARIANT_ADD(change_mapping, remap_set_pte) {
	.change = CHANGE_REMAP, .notify = NOTIFY_SET_PTE,
};

FIXTURE_VARIANT_ADD(change_mapping, remap_flush_tlb) {
	.change = CHANGE_REMAP, .notify = NOTIFY_FLUSH_TLB,
};

FIXTURE_VARIANT_ADD(change_mapping, unmap_set_pte) {
	.change = CHANGE_UNMAP, .notify = NOTIFY_SET_PTE,
};

FIXTURE_VARIANT_ADD(change_mapping, unmap_flush_tlb) {
	.change = CHANGE_UNMAP, .notify = NOTIFY_FLUSH_TLB,
};

FIXTURE_VARIANT_ADD(change_mapping, read_only_set_pte) {
	.change = CHANGE_READ_ONLY, .notify = NOTIFY_SET_PTE,
};

FIXTURE_VARIANT_ADD(change_mapping, read_only_flush_tlb) {
	.change = CHANGE_READ_ONLY, .notify = NOTIFY_FLUSH_TLB,
};

FIXTURE_SETUP(change_mapping)
{
	struct lg_vm *vm;
	uint32_t off = TEST_ADDR & ~LG_PAGE_MASK;

	if (!lg_dev_present())
		SKIP(return, LG_NO_DEV_MSG);
	vm = lg_vm_create(0, guest_change_mapping);
	self->vm = vm;

	data_gpa = lg_vm_alloc_page(vm);
	*(uint32_t *)lg_gpa2hva(vm, data_gpa + off) = OLD_VALUE;
	other_gpa = lg_vm_alloc_page(vm);
	*(uint32_t *)lg_gpa2hva(vm, other_gpa + off) = NEW_VALUE;
	lg_vm_map(vm, TEST_PAGE, other_gpa, LG_PTE_RW);

	change = variant->change;
	notify = variant->notify;
	lg_sync_global_to_guest(vm, data_gpa);
	lg_sync_global_to_guest(vm, other_gpa);
	lg_sync_global_to_guest(vm, change);
	lg_sync_global_to_guest(vm, notify);
}

FIXTURE_TEARDOWN(change_mapping)
{
	lg_vm_free(self->vm);
}

TEST_F(change_mapping, host_follows)
{
	ASSERT_UCALL(self->vm, UCALL_DONE);
}

TEST_HARNESS_MAIN
