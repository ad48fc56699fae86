// SPDX-License-Identifier: GPL-2.0
/*
 * More shadow paging: the host keeps the accessed and dirty bits of the
 * guest's PTEs, follows the guest across more page directories than it
 * caches shadows for (lg.shadow_pgdirs, 16 by default), and runs
 * page-table hypercalls the guest queued in the asynchronous ring of
 * struct lguest_data in order, marking each done, at the guest's next
 * exit; it shadows a new address space ahead (LHCALL_NEW_MM), and the
 * pages around a user fault.
 *
 * See include/lguest_util.h for how the guest code in this file runs.
 * All tests are skipped when /dev/lguest does not exist.
 */
#include <stdint.h>
#include <string.h>

#include "../kselftest_harness.h"
#include "lguest_util.h"
#include "lguest_host_ok.h"

/* Far from the identity map and the program image. */
#define TEST_PAGE	0x40000000u
#define TEST_ADDR	(TEST_PAGE + 0x124)
#define PGDIR_SHIFT	22

static struct lguest_data *lgd GUEST_DATA;
static uint32_t data_gpa GUEST_DATA;	/* set by the launcher */

/*
 * Accessed and dirty bits: the launcher maps TEST_PAGE with neither.  A
 * read makes the guest's PTE accessed, not dirty (the shadow is
 * read-only until the first write); the first write makes it dirty.
 */
static GUEST_CODE void guest_accessed_dirty(void)
{
	uint32_t *pte = guest_pte(TEST_PAGE);
	uint32_t *p = (uint32_t *)TEST_ADDR;
	uint32_t before, after_read, after_write;

	before = READ_ONCE(*pte);
	GUEST_ASSERT_EQ(READ_ONCE(*p), 0x5eed);
	after_read = READ_ONCE(*pte);
	WRITE_ONCE(*p, 0xd1d);
	after_write = READ_ONCE(*pte);
	GUEST_SYNC_ARGS(before, after_read, after_write, 0);

	/* Clear them again (and tell the host): they come back. */
	WRITE_ONCE(*pte, before);
	lg_hcall(LHCALL_SET_PTE, lg_guest_info.pgdir, TEST_PAGE, before, 0);
	GUEST_ASSERT_EQ(READ_ONCE(*p), 0xd1d);
	after_read = READ_ONCE(*pte);
	WRITE_ONCE(*p, 0x5eed);
	after_write = READ_ONCE(*pte);
	GUEST_SYNC_ARGS(before, after_read, after_write, 1);
	GUEST_DONE();
}

TEST(accessed_dirty)
{
	struct lg_vm *vm;
	uint32_t i;

	if (!lg_dev_present())
		SKIP(return, LG_NO_DEV_MSG);
	vm = lg_vm_create(0, guest_accessed_dirty);
	data_gpa = lg_vm_alloc_page(vm);
	*(uint32_t *)lg_gpa2hva(vm, data_gpa + (TEST_ADDR & ~LG_PAGE_MASK)) =
		0x5eed;
	lg_vm_map(vm, TEST_PAGE, data_gpa, LG_PTE_RW);

	for (i = 0; i < 2; i++) {
		ASSERT_UCALL(vm, UCALL_SYNC);
		ASSERT_EQ(i, vm->uc.args[3]);
		EXPECT_EQ(0, vm->uc.args[0] & (LG_PTE_A | LG_PTE_D));
		EXPECT_EQ(LG_PTE_A, vm->uc.args[1] & (LG_PTE_A | LG_PTE_D));
		EXPECT_EQ(LG_PTE_A | LG_PTE_D,
			  vm->uc.args[2] & (LG_PTE_A | LG_PTE_D));
		/* And nothing else changed. */
		EXPECT_EQ(vm->uc.args[0], vm->uc.args[2] & ~(LG_PTE_A | LG_PTE_D));
	}
	ASSERT_UCALL(vm, UCALL_DONE);
	lg_vm_free(vm);
	lg_assert_host_ok(_metadata);
}

/*
 * NR_CR3 page directories, each a copy of the guest's with TEST_PAGE
 * mapped to a page of its own, switched among with LHCALL_NEW_PGTABLE in
 * an order that defeats the default 16-entry cache.  Each visit reads the
 * value the last visit to the same directory wrote, then writes the next.
 */
#define NR_CR3		20
#define NR_SWITCHES	200
#define CR3_MAGIC	0xc3000000u

/* A new page directory, a copy of the guest's first one. */
static GUEST_CODE uint32_t guest_dir_copy(void)
{
	uint32_t *pgd = (uint32_t *)(uintptr_t)lg_guest_info.pgdir;
	uint32_t *new = (uint32_t *)(uintptr_t)guest_alloc_page();
	uint32_t j;

	for (j = 0; j < 1024; j++)
		new[j] = pgd[j];
	return (uint32_t)(uintptr_t)new;
}

static GUEST_CODE void guest_many_cr3(void)
{
	uint32_t *pgd = (uint32_t *)(uintptr_t)lg_guest_info.pgdir;
	uint32_t pd[NR_CR3], expect[NR_CR3];
	uint32_t *p = (uint32_t *)TEST_ADDR;
	uint32_t i, k, pt, data;

	for (k = 0; k < NR_CR3; k++) {
		uint32_t *new = (uint32_t *)(uintptr_t)guest_dir_copy();

		pt = guest_alloc_page();
		data = guest_alloc_page();
		new[TEST_PAGE >> PGDIR_SHIFT] = pt | LG_PTE_P | LG_PTE_RW;
		((uint32_t *)(uintptr_t)pt)[(TEST_PAGE >> 12) & 1023] =
			data | LG_PTE_P | LG_PTE_RW;
		expect[k] = CR3_MAGIC + (k << 16);
		((uint32_t *)(uintptr_t)data)[(TEST_ADDR & ~LG_PAGE_MASK) / 4] =
			expect[k];
		pd[k] = (uint32_t)(uintptr_t)new;
	}

	for (i = 0; i < NR_SWITCHES; i++) {
		k = (i * 7 + i / NR_CR3) % NR_CR3;
		lg_hcall(LHCALL_NEW_PGTABLE, pd[k], 0, 0, 0);
		__GUEST_ASSERT(READ_ONCE(*p) == expect[k],
			       "switch %u to %u: read %#x, want %#x", i, k,
			       READ_ONCE(*p), expect[k]);
		expect[k]++;
		WRITE_ONCE(*p, expect[k]);
	}
	lg_hcall(LHCALL_NEW_PGTABLE, lg_guest_info.pgdir, 0, 0, 0);
	/* The original directory has nothing at TEST_PAGE. */
	GUEST_ASSERT_EQ(pgd[TEST_PAGE >> PGDIR_SHIFT], 0);
	GUEST_DONE();
}

TEST(many_cr3)
{
	struct lg_vm *vm;

	if (!lg_dev_present())
		SKIP(return, LG_NO_DEV_MSG);
	vm = lg_vm_create(0, guest_many_cr3);
	ASSERT_UCALL(vm, UCALL_DONE);
	lg_vm_free(vm);
	lg_assert_host_ok(_metadata);
}

/*
 * The asynchronous ring.  NR_VPAGES pages at TEST_PAGE are remapped in
 * every batch to other pages among NR_DPAGES (each holding its number);
 * the guest changes its PTEs and queues an LHCALL_SET_PTE for each (and
 * an LHCALL_FLUSH_TLB every other batch) at the next ring slots, where
 * the host left off, and then calls LHCALL_FLUSH_ASYNC (or, every third
 * batch, a launcher hypercall, before which the host must run the ring
 * too).  Every queued slot must read back LHCALL_STATUS_DONE, and every
 * page the new contents: the guest read each page before, so a shadow the
 * host failed to drop would still show the old one.  NR_BATCHES batches
 * go round the 64-slot ring several times.
 *
 * In-order execution: two LHCALL_LOAD_GDT_ENTRY calls for the same entry,
 * queued one after the other, leave the second (lsl reads its limit).
 */
#define NR_VPAGES	4
#define NR_DPAGES	8
#define NR_BATCHES	40
#define GDT_TEST	20
/* Data segments, present, DPL 1, byte granular: limits 0x1234, 0x5678. */
#define DESC_HI_DPL1	0x0040b200u

static uint32_t dpages[NR_DPAGES] GUEST_DATA;

static GUEST_CODE void guest_queue(uint32_t *slot, uint32_t nr, uint32_t a1,
				   uint32_t a2, uint32_t a3)
{
	struct lguest_hcall *h = &lgd->hcalls[*slot];

	GUEST_ASSERT_EQ(lgd->hcall_status[*slot], LHCALL_STATUS_DONE);
	h->nr = nr;
	h->arg1 = a1;
	h->arg2 = a2;
	h->arg3 = a3;
	h->arg4 = 0;
	/* The call before its status: the host may look at any hypercall. */
	asm volatile("" : : : "memory");
	WRITE_ONCE(lgd->hcall_status[*slot], 0);
	*slot = (*slot + 1) % LHCALL_RING_SIZE;
}

static GUEST_CODE uint32_t guest_lsl(uint32_t sel)
{
	uint32_t limit = 0;

	asm volatile("lsll %[sel], %[limit]" : [limit] "+r" (limit)
		     : [sel] "r" (sel) : "cc");
	return limit;
}

static GUEST_CODE void guest_async(void)
{
	uint32_t slot = 0, queued, b, v, i, s;

	lgd = guest_lguest_init();
	for (i = 0; i < LHCALL_RING_SIZE; i++)
		GUEST_ASSERT_EQ(lgd->hcall_status[i], LHCALL_STATUS_DONE);
	for (v = 0; v < NR_VPAGES; v++) {
		dpages[v] = guest_alloc_page();
		guest_map_page(TEST_PAGE + v * LG_PAGE_SIZE, dpages[v],
			       LG_PTE_RW);
	}
	for (; v < NR_DPAGES; v++)
		dpages[v] = guest_alloc_page();
	for (v = 0; v < NR_DPAGES; v++)
		*(uint32_t *)(uintptr_t)dpages[v] = v;
	lg_hcall(LHCALL_SET_PGD, lg_guest_info.pgdir, TEST_PAGE >> PGDIR_SHIFT,
		 0, 0);
	for (v = 0; v < NR_VPAGES; v++)
		GUEST_ASSERT_EQ(READ_ONCE(*(uint32_t *)(uintptr_t)(TEST_PAGE +
					  v * LG_PAGE_SIZE)), v);

	for (b = 1; b <= NR_BATCHES; b++) {
		uint32_t first = slot;

		for (v = 0; v < NR_VPAGES; v++) {
			uint32_t va = TEST_PAGE + v * LG_PAGE_SIZE;
			uint32_t pte = dpages[(v + b) % NR_DPAGES] | LG_PTE_P |
				       LG_PTE_RW;

			WRITE_ONCE(*guest_pte(va), pte);
			guest_queue(&slot, LHCALL_SET_PTE, lg_guest_info.pgdir,
				    va, pte);
		}
		if (b % 2)
			guest_queue(&slot, LHCALL_FLUSH_TLB, 1, 0, 0);
		queued = (slot + LHCALL_RING_SIZE - first) % LHCALL_RING_SIZE;
		if (b % 3)
			lg_hcall(LHCALL_FLUSH_ASYNC, 0, 0, 0, 0);
		else
			GUEST_SYNC_ARGS(b, first, queued, 0);
		for (i = 0; i < queued; i++) {
			s = (first + i) % LHCALL_RING_SIZE;
			__GUEST_ASSERT(lgd->hcall_status[s] == LHCALL_STATUS_DONE,
				       "batch %u: slot %u status %#x", b, s,
				       lgd->hcall_status[s]);
		}
		for (v = 0; v < NR_VPAGES; v++) {
			uint32_t got = READ_ONCE(*(uint32_t *)(uintptr_t)
						 (TEST_PAGE + v * LG_PAGE_SIZE));

			__GUEST_ASSERT(got == (v + b) % NR_DPAGES,
				       "batch %u: page %u shows %u", b, v, got);
		}
	}

	guest_queue(&slot, LHCALL_LOAD_GDT_ENTRY, GDT_TEST, 0x1234,
		    DESC_HI_DPL1);
	guest_queue(&slot, LHCALL_LOAD_GDT_ENTRY, GDT_TEST, 0x5678,
		    DESC_HI_DPL1);
	lg_hcall(LHCALL_FLUSH_ASYNC, 0, 0, 0, 0);
	GUEST_ASSERT_EQ(guest_lsl(GDT_TEST * 8 + 1), 0x5678);
	GUEST_DONE();
}

TEST(async_ring)
{
	struct lg_vm *vm;
	struct lguest_data *data;
	uint32_t b, i;

	if (!lg_dev_present())
		SKIP(return, LG_NO_DEV_MSG);
	vm = lg_vm_create(0, guest_async);
	data = lg_gpa2hva(vm, vm->info.lguest_data);
	for (b = 3; b <= NR_BATCHES; b += 3) {
		ASSERT_UCALL(vm, UCALL_SYNC);
		ASSERT_EQ(b, vm->uc.args[0]);
		/* The ring ran before the launcher got the hypercall. */
		for (i = 0; i < vm->uc.args[2]; i++)
			EXPECT_EQ(LHCALL_STATUS_DONE,
				  data->hcall_status[(vm->uc.args[1] + i) %
						     LHCALL_RING_SIZE]);
	}
	ASSERT_UCALL(vm, UCALL_DONE);
	lg_vm_free(vm);
	lg_assert_host_ok(_metadata);
}

/*
 * Shared kernel shadows.  A guest that sets lguest_data.kernel_address
 * gets one shadow table per kernel slot, shared by every directory whose
 * guest entry for the slot is the same.  Here KSLOT is a kernel slot, and
 * three directories differ there: A and C name page table PT1 (which
 * maps KSLOT_ADDR to a page holding 0x111), B names PT2 (0x222).  Each
 * switch must show each directory its own table, however the host shares
 * and retargets its shadows; a change to PT1 flushed with LHCALL_SET_PTE
 * must reach A and C; a full kernel flush must leave everything right.
 */
#define KERNEL_ADDR	0x80000000u
#define KSLOT_ADDR	0x90000000u

/* A page table mapping KSLOT_ADDR to a new page holding value. */
static GUEST_CODE uint32_t guest_kslot_table(uint32_t value, uint32_t *data)
{
	uint32_t pt = guest_alloc_page();

	*data = guest_alloc_page();
	*(uint32_t *)(uintptr_t)*data = value;
	((uint32_t *)(uintptr_t)pt)[(KSLOT_ADDR >> 12) & 1023] =
		*data | LG_PTE_P | LG_PTE_RW | LG_PTE_A | LG_PTE_D;
	return pt;
}

static GUEST_CODE void guest_check_dir(uint32_t dir, uint32_t want)
{
	lg_hcall(LHCALL_NEW_PGTABLE, dir, 0, 0, 0);
	__GUEST_ASSERT(READ_ONCE(*(uint32_t *)KSLOT_ADDR) == want,
		       "directory %#x: read %#x, want %#x", dir,
		       READ_ONCE(*(uint32_t *)KSLOT_ADDR), want);
}

static GUEST_CODE void guest_shared_kernel(void)
{
	struct lguest_data *d = (void *)(uintptr_t)lg_guest_info.lguest_data;
	uint32_t a, b, c, pt1, pt2, data1, data2, data3, i;
	uint32_t slot = KSLOT_ADDR >> PGDIR_SHIFT;

	d->kernel_address = KERNEL_ADDR;
	lgd = guest_lguest_init();
	pt1 = guest_kslot_table(0x111, &data1);
	pt2 = guest_kslot_table(0x222, &data2);
	a = guest_dir_copy();
	b = guest_dir_copy();
	c = guest_dir_copy();
	((uint32_t *)(uintptr_t)a)[slot] = pt1 | LG_PTE_P | LG_PTE_RW;
	((uint32_t *)(uintptr_t)b)[slot] = pt2 | LG_PTE_P | LG_PTE_RW;
	((uint32_t *)(uintptr_t)c)[slot] = pt1 | LG_PTE_P | LG_PTE_RW;
	for (i = 0; i < 20; i++) {
		guest_check_dir(a, 0x111);
		guest_check_dir(b, 0x222);
		guest_check_dir(c, 0x111);
	}

	/* Written through A's (shared) mapping: C sees it, B does not. */
	lg_hcall(LHCALL_NEW_PGTABLE, a, 0, 0, 0);
	WRITE_ONCE(*(uint32_t *)KSLOT_ADDR, 0x333);
	guest_check_dir(c, 0x333);
	guest_check_dir(b, 0x222);

	/* PT1 remapped, and the host told: A and C see the new page. */
	data3 = guest_alloc_page();
	*(uint32_t *)(uintptr_t)data3 = 0x444;
	((uint32_t *)(uintptr_t)pt1)[(KSLOT_ADDR >> 12) & 1023] =
		data3 | LG_PTE_P | LG_PTE_RW | LG_PTE_A | LG_PTE_D;
	lg_hcall(LHCALL_SET_PTE, a, KSLOT_ADDR, 0, 0);
	guest_check_dir(a, 0x444);
	guest_check_dir(b, 0x222);
	guest_check_dir(c, 0x444);

	/* B's directory entry changed to PT1, and the host told. */
	((uint32_t *)(uintptr_t)b)[slot] = pt1 | LG_PTE_P | LG_PTE_RW;
	lg_hcall(LHCALL_SET_PGD, b, slot, 0, 0);
	guest_check_dir(b, 0x444);

	/* Everything flushed: still right everywhere. */
	lg_hcall(LHCALL_FLUSH_TLB, 1, 0, 0, 0);
	guest_check_dir(a, 0x444);
	guest_check_dir(b, 0x444);
	((uint32_t *)(uintptr_t)c)[slot] = pt2 | LG_PTE_P | LG_PTE_RW;
	lg_hcall(LHCALL_SET_PGD, c, slot, 0, 0);
	guest_check_dir(c, 0x222);
	guest_check_dir(a, 0x444);
	GUEST_DONE();
}

TEST(shared_kernel_shadows)
{
	struct lg_vm *vm;

	if (!lg_dev_present())
		SKIP(return, LG_NO_DEV_MSG);
	vm = lg_vm_create(0, guest_shared_kernel);
	ASSERT_UCALL(vm, UCALL_DONE);
	lg_vm_free(vm);
	lg_assert_host_ok(_metadata);
}

/*
 * LHCALL_NEW_MM: a new address space gets its shadow at once, filled where
 * the current directory's shadow has entries, from the new directory's own
 * guest entries, which the host marks accessed.  The parent maps four
 * pages at FORK_ADDR and reads them; the child's table maps page 0 to the
 * same page read-only (as fork leaves a copy-on-write page), page 1 to a
 * page of its own, page 2 beyond guest memory, page 3 not at all, and page
 * 4 (which the parent does not use) to a page: only pages 0 and 1 are
 * shadowed ahead, so only their entries come back accessed.  The child
 * then sees its own pages, and the parent its.
 */
#define FORK_ADDR	0x50000000u
#define FORK_GEN	7

static GUEST_CODE void guest_new_mm(void)
{
	struct lguest_data *d = (void *)(uintptr_t)lg_guest_info.lguest_data;
	uint32_t slot = FORK_ADDR >> PGDIR_SHIFT, first = (FORK_ADDR >> 12) & 1023;
	uint32_t child, *ct, own, page[4], i;

	d->kernel_address = KERNEL_ADDR;
	lgd = guest_lguest_init();
	for (i = 0; i < 4; i++) {
		page[i] = guest_alloc_page();
		*(uint32_t *)(uintptr_t)page[i] = 0x100 + i;
		guest_map_page(FORK_ADDR + i * LG_PAGE_SIZE, page[i],
			       LG_PTE_RW | LG_PTE_A | LG_PTE_D);
		GUEST_ASSERT_EQ(READ_ONCE(*(uint32_t *)(FORK_ADDR +
						      i * LG_PAGE_SIZE)),
				0x100 + i);
	}
	own = guest_alloc_page();
	*(uint32_t *)(uintptr_t)own = 0x200;
	child = guest_dir_copy();
	ct = (uint32_t *)(uintptr_t)guest_alloc_page();
	((uint32_t *)(uintptr_t)child)[slot] = (uint32_t)(uintptr_t)ct |
					       LG_PTE_P | LG_PTE_RW | LG_PTE_U;
	ct[first] = page[0] | LG_PTE_P;
	ct[first + 1] = own | LG_PTE_P | LG_PTE_RW;
	ct[first + 2] = lg_guest_info.mem_size | LG_PTE_P;
	ct[first + 4] = page[3] | LG_PTE_P;

	lg_hcall(LHCALL_NEW_MM, child, FORK_GEN, 0, 0);
	GUEST_ASSERT_EQ(ct[first], page[0] | LG_PTE_P | LG_PTE_A);
	GUEST_ASSERT_EQ(ct[first + 1], own | LG_PTE_P | LG_PTE_RW | LG_PTE_A);
	GUEST_ASSERT_EQ(ct[first + 2], lg_guest_info.mem_size | LG_PTE_P);
	GUEST_ASSERT_EQ(ct[first + 3], 0);
	GUEST_ASSERT_EQ(ct[first + 4], page[3] | LG_PTE_P);

	lg_hcall(LHCALL_NEW_PGTABLE, child, FORK_GEN, 0, 0);
	GUEST_ASSERT_EQ(READ_ONCE(*(uint32_t *)FORK_ADDR), 0x100);
	GUEST_ASSERT_EQ(READ_ONCE(*(uint32_t *)(FORK_ADDR + LG_PAGE_SIZE)),
			0x200);
	WRITE_ONCE(*(uint32_t *)(FORK_ADDR + LG_PAGE_SIZE), 0x201);
	GUEST_ASSERT_EQ(READ_ONCE(*(uint32_t *)(FORK_ADDR + 4 * LG_PAGE_SIZE)),
			0x103);
	lg_hcall(LHCALL_NEW_PGTABLE, lg_guest_info.pgdir, 0, 0, 0);
	for (i = 0; i < 4; i++)
		GUEST_ASSERT_EQ(READ_ONCE(*(uint32_t *)(FORK_ADDR +
						      i * LG_PAGE_SIZE)),
				0x100 + i);
	GUEST_ASSERT_EQ(*(uint32_t *)(uintptr_t)own, 0x201);
	GUEST_DONE();
}

TEST(new_mm_prefault)
{
	struct lg_vm *vm;

	if (!lg_dev_present())
		SKIP(return, LG_NO_DEV_MSG);
	vm = lg_vm_create(0, guest_new_mm);
	ASSERT_UCALL(vm, UCALL_DONE);
	lg_vm_free(vm);
	lg_assert_host_ok(_metadata);
}

/*
 * LHCALL_NEW_MM is a hint the host must survive whatever it names.
 * NR_GARBAGE directories, more than the host caches, each map FORK_ADDR
 * to a page of their own, but the rest of that page table is random
 * words (their frames folded into guest memory: a page table beyond it
 * kills the guest, as a fault there would), the next slot names a table
 * of random words too (the same for all), and the one after is a large
 * page.  The parent
 * uses all three slots, so the host looks at all of them.  The calls are
 * queued, round the ring several times; then each directory, loaded,
 * must read its own page at FORK_ADDR.
 */
#define NR_GARBAGE	18
#define FORK_PAGES	64
#define PDE_PSE		0x080

static uint32_t rng GUEST_DATA;

static GUEST_CODE uint32_t guest_random(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 17;
	rng ^= rng << 5;
	return rng;
}

/* A page of random entries, frames within guest memory. */
static GUEST_CODE uint32_t guest_garbage_table(void)
{
	uint32_t *t = (uint32_t *)(uintptr_t)guest_alloc_page();
	uint32_t frames = lg_guest_info.mem_size >> 12, i, w;

	for (i = 0; i < 1024; i++) {
		w = guest_random();
		t[i] = ((w >> 12) % frames) << 12 | (w & 0xfff);
	}
	return (uint32_t)(uintptr_t)t;
}

static GUEST_CODE void guest_new_mm_garbage(void)
{
	struct lguest_data *d = (void *)(uintptr_t)lg_guest_info.lguest_data;
	uint32_t slot = FORK_ADDR >> PGDIR_SHIFT, first = (FORK_ADDR >> 12) & 1023;
	uint32_t dir[NR_GARBAGE], own, shared = guest_alloc_page(), garbage;
	uint32_t *pd, *t, k, i, ring = 0;

	rng = 0x2545f491;
	d->kernel_address = KERNEL_ADDR;
	lgd = guest_lguest_init();
	for (i = 0; i < FORK_PAGES; i++)
		guest_map_page(FORK_ADDR + i * LG_PAGE_SIZE, shared,
			       LG_PTE_RW | LG_PTE_A | LG_PTE_D);
	for (i = 1; i < 3; i++)
		guest_map_page(FORK_ADDR + (i << PGDIR_SHIFT), shared,
			       LG_PTE_RW | LG_PTE_A | LG_PTE_D);
	for (i = 0; i < FORK_PAGES; i++)
		READ_ONCE(*(uint32_t *)(FORK_ADDR + i * LG_PAGE_SIZE));
	for (i = 1; i < 3; i++)
		READ_ONCE(*(uint32_t *)(FORK_ADDR + (i << PGDIR_SHIFT)));

	garbage = guest_garbage_table();
	for (k = 0; k < NR_GARBAGE; k++) {
		dir[k] = guest_dir_copy();
		pd = (uint32_t *)(uintptr_t)dir[k];
		t = (uint32_t *)(uintptr_t)guest_garbage_table();
		own = guest_alloc_page();
		*(uint32_t *)(uintptr_t)own = k;
		t[first] = own | LG_PTE_P | LG_PTE_RW | LG_PTE_A;
		pd[slot] = (uint32_t)(uintptr_t)t | LG_PTE_P | LG_PTE_RW |
			   LG_PTE_U;
		pd[slot + 1] = garbage | LG_PTE_P | LG_PTE_U;
		pd[slot + 2] = (guest_random() & ~0x3fffffu) | LG_PTE_P |
			       PDE_PSE;
	}
	for (i = 0; i < 3 * NR_GARBAGE; i++) {
		guest_queue(&ring, LHCALL_NEW_MM, dir[i % NR_GARBAGE], i, 0);
		if (ring % 32 == 0)
			lg_hcall(LHCALL_FLUSH_ASYNC, 0, 0, 0, 0);
	}
	lg_hcall(LHCALL_FLUSH_ASYNC, 0, 0, 0, 0);
	for (k = 0; k < NR_GARBAGE; k++) {
		lg_hcall(LHCALL_NEW_PGTABLE, dir[k], 0, 0, 0);
		GUEST_ASSERT_EQ(READ_ONCE(*(uint32_t *)FORK_ADDR), k);
	}
	lg_hcall(LHCALL_NEW_PGTABLE, lg_guest_info.pgdir, 0, 0, 0);
	GUEST_DONE();
}

TEST(new_mm_garbage)
{
	struct lg_vm *vm;

	if (!lg_dev_present())
		SKIP(return, LG_NO_DEV_MSG);
	vm = lg_vm_create(0, guest_new_mm_garbage);
	ASSERT_UCALL(vm, UCALL_DONE);
	lg_vm_free(vm);
	lg_assert_host_ok(_metadata);
}

/*
 * The asynchronous ring runs at every exit, not only at hypercalls.  The
 * guest reads TEST_PAGE through one page table, moves its directory entry
 * to another table (mapping another page) and queues LHCALL_SET_PGD; then
 * it reads a page the host has not shadowed yet, in another slot: a page
 * fault exit, which must run the ring first.  So the call is done, and
 * TEST_PAGE shows the new page.
 */
#define OTHER_ADDR	0x60000000u

static GUEST_CODE void guest_ring_at_fault(void)
{
	uint32_t *pgd = (uint32_t *)(uintptr_t)lg_guest_info.pgdir;
	uint32_t a = guest_alloc_page(), b = guest_alloc_page();
	uint32_t other = guest_alloc_page(), pt = guest_alloc_page();
	uint32_t slot = 0;

	lgd = guest_lguest_init();
	*(uint32_t *)(uintptr_t)a = 0xa;
	*(uint32_t *)(uintptr_t)b = 0xb;
	*(uint32_t *)(uintptr_t)other = 0x07;
	guest_map_page(TEST_PAGE, a, LG_PTE_RW);
	GUEST_ASSERT_EQ(READ_ONCE(*(uint32_t *)TEST_PAGE), 0xa);
	((uint32_t *)(uintptr_t)pt)[(TEST_PAGE >> 12) & 1023] =
		b | LG_PTE_P | LG_PTE_RW | LG_PTE_A;
	guest_map_page(OTHER_ADDR, other, LG_PTE_RW);

	WRITE_ONCE(pgd[TEST_PAGE >> PGDIR_SHIFT],
		   pt | LG_PTE_P | LG_PTE_RW | LG_PTE_U);
	guest_queue(&slot, LHCALL_SET_PGD, lg_guest_info.pgdir,
		    TEST_PAGE >> PGDIR_SHIFT, 0);
	GUEST_ASSERT_EQ(READ_ONCE(*(uint32_t *)OTHER_ADDR), 0x07);
	GUEST_ASSERT_EQ(READ_ONCE(lgd->hcall_status[0]), LHCALL_STATUS_DONE);
	GUEST_ASSERT_EQ(READ_ONCE(*(uint32_t *)TEST_PAGE), 0xb);
	GUEST_DONE();
}

TEST(ring_runs_at_every_exit)
{
	struct lg_vm *vm;

	if (!lg_dev_present())
		SKIP(return, LG_NO_DEV_MSG);
	vm = lg_vm_create(0, guest_ring_at_fault);
	ASSERT_UCALL(vm, UCALL_DONE);
	lg_vm_free(vm);
	lg_assert_host_ok(_metadata);
}

/*
 * A user fault fills in the entries around it (its aligned group of 16)
 * that the guest maps and has used.  FILL_ADDR's 16 pages map pages
 * holding their number, the even ones accessed, the odd ones not.  After
 * one read of page 0, the guest points every entry at another page
 * without telling the host (a guest's own confusion, and the way to see
 * what the host shadowed): the even pages still show their number, the
 * odd ones, faulted in only now, the new page.  A flush shows it
 * everywhere.
 */
#define FILL_ADDR	0x70000000u
#define FILL_PAGES	16

static GUEST_CODE void guest_fill_around(void)
{
	struct lguest_data *d = (void *)(uintptr_t)lg_guest_info.lguest_data;
	uint32_t other = guest_alloc_page(), page, i, want;

	d->kernel_address = KERNEL_ADDR;
	lgd = guest_lguest_init();
	for (i = 0; i < FILL_PAGES; i++) {
		page = guest_alloc_page();
		*(uint32_t *)(uintptr_t)page = i;
		guest_map_page(FILL_ADDR + i * LG_PAGE_SIZE, page,
			       i % 2 ? 0 : LG_PTE_A);
	}
	*(uint32_t *)(uintptr_t)other = 0x77;
	GUEST_ASSERT_EQ(READ_ONCE(*(uint32_t *)FILL_ADDR), 0);
	for (i = 1; i < FILL_PAGES; i++)
		WRITE_ONCE(*guest_pte(FILL_ADDR + i * LG_PAGE_SIZE),
			   other | LG_PTE_P | LG_PTE_A);
	for (i = 1; i < FILL_PAGES; i++) {
		want = i % 2 ? 0x77 : i;
		__GUEST_ASSERT(READ_ONCE(*(uint32_t *)(FILL_ADDR +
						       i * LG_PAGE_SIZE)) == want,
			       "page %u: read %#x, want %#x", i,
			       READ_ONCE(*(uint32_t *)(FILL_ADDR +
						       i * LG_PAGE_SIZE)), want);
	}
	lg_hcall(LHCALL_FLUSH_TLB, 0, 0, 0, 0);
	for (i = 1; i < FILL_PAGES; i++)
		GUEST_ASSERT_EQ(READ_ONCE(*(uint32_t *)(FILL_ADDR +
						      i * LG_PAGE_SIZE)), 0x77);
	GUEST_DONE();
}

TEST(fill_around_user_fault)
{
	struct lg_vm *vm;

	if (!lg_dev_present())
		SKIP(return, LG_NO_DEV_MSG);
	vm = lg_vm_create(0, guest_fill_around);
	ASSERT_UCALL(vm, UCALL_DONE);
	lg_vm_free(vm);
	lg_assert_host_ok(_metadata);
}

TEST_HARNESS_MAIN
