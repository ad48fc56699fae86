// SPDX-License-Identifier: GPL-2.0-only
/*
 * Page tables of an lguest guest.
 *
 * The guest keeps ordinary 2-level page tables, and writes them as a native
 * kernel does.  The CPU never uses them: the host runs us on shadow copies
 * it fills in lazily, on faults.  So a shadow is a big TLB, and we keep it
 * coherent exactly where Linux keeps a TLB coherent: on the TLB flushes,
 * which become hypercalls.  New mappings need nothing at all (the host
 * fills them in on the first fault); changed or removed ones are always
 * followed by a flush.  The exceptions are the page-directory entries,
 * whose shadows the host must drop (and free) when they change or go, and a
 * page directory that is freed, whose shadow must not be reused for the
 * next process that gets the same page.  Flushes and cr3 loads carry the
 * address space's TLB generation, so that the host can keep the shadow of
 * a process that is switched out (see tlb_gen_of()).
 */
#include <linux/mm.h>
#include <linux/pgtable.h>
#include <asm/paravirt.h>
#include <asm/tlbflush.h>
#include "lguest.h"

/* The host has no cr3 to read back: we remember the one we loaded. */
static unsigned long current_cr3;

__visible unsigned long lguest_read_cr2(void)
{
	return lguest_data.cr2;
}

PV_CALLEE_SAVE_REGS_THUNK(lguest_read_cr2);

static void lguest_write_cr2(unsigned long cr2)
{
	lguest_data.cr2 = cr2;
}

static unsigned long lguest_read_cr3(void)
{
	return current_cr3;
}

/*
 * The host keeps the shadow of a process's mappings while the process is
 * switched out, and needs to know whether its page tables changed in the
 * meantime.  Linux counts the changes that need a TLB flush, running or
 * not, in mm->context.tlb_gen; we pass it (plus one, as 0 means "unknown"
 * to the host) with every cr3 load and flush.  The kernel's own page
 * directory has no mm behind it.
 */
static u32 tlb_gen_of(struct mm_struct *mm)
{
	if (!mm || mm == LOADED_MM_SWITCHING)
		return 0;
	return (u32)atomic64_read(&mm->context.tlb_gen) + 1;
}

static u32 loaded_tlb_gen(void)
{
	return tlb_gen_of(this_cpu_read(cpu_tlbstate.loaded_mm));
}

/* switch_mm() marks the switch in progress: the mm is the pgd's owner. */
static u32 cr3_tlb_gen(unsigned long cr3)
{
	if (cr3 == __pa_symbol(swapper_pg_dir) ||
	    cr3 == __pa_symbol(initial_page_table))
		return tlb_gen_of(&init_mm);
	return tlb_gen_of(pgd_page_get_mm(virt_to_page(__va(cr3))));
}

static void lguest_write_cr3(unsigned long cr3)
{
	current_cr3 = cr3;
	lazy_hcall(LHCALL_NEW_PGTABLE, cr3, cr3_tlb_gen(cr3), 0);
}

static void lguest_flush_tlb_user(void)
{
	lazy_hcall(LHCALL_FLUSH_TLB, 0, loaded_tlb_gen(), 0);
}

/* Kernel mappings are shared by every page directory: flush them all. */
static void lguest_flush_tlb_kernel(void)
{
	lazy_hcall(LHCALL_FLUSH_TLB, 1, loaded_tlb_gen(), 0);
}

/* One page: the host drops its shadows of it, in every directory. */
static void lguest_flush_tlb_one_user(unsigned long addr)
{
	lazy_hcall(LHCALL_SET_PTE, current_cr3, addr, loaded_tlb_gen());
}

/*
 * A page-directory entry (the pmd, in 2-level paging) changed: its page
 * table may be gone.  The directory is the page the entry lives in.  An
 * entry that was not present has no shadow to drop (the host only makes
 * one for an entry it found present, and hears of every change after),
 * so a new page table, as every fork and fault into a fresh 4 MiB makes,
 * costs no hypercall.
 *
 * A user page table is only ever unlinked on its way out (munmap, exit,
 * mremap moving it whole), and Linux flushes the TLB before the table
 * can be freed or the range used again, as paging-structure caches
 * demand.  The flush is an exit, and the host runs the queue before it:
 * until then the old shadow serves as a stale TLB entry would.  So the
 * call is queued, and an exiting process no longer pays an exit for each
 * 4 MiB it used.
 */
static void lguest_set_pmd(pmd_t *pmdp, pmd_t pmd)
{
	unsigned long pa = __pa(pmdp);
	unsigned int index = (pa & ~PAGE_MASK) / sizeof(pmd_t);
	bool was_present = native_pmd_val(*pmdp) & _PAGE_PRESENT;

	native_set_pmd(pmdp, pmd);
	if (!was_present)
		return;
	if (index < KERNEL_PGD_BOUNDARY)
		async_hcall(LHCALL_SET_PGD, pa & PAGE_MASK, index, 0);
	else
		lazy_hcall(LHCALL_SET_PGD, pa & PAGE_MASK, index, 0);
}

/*
 * A new address space, made while the current one is loaded: at fork,
 * with the child's page tables filled in; at exec, the new program's.
 * The host can shadow the child's tables where it shadows its parent's,
 * and save the child a fault for each page it touches that its parent
 * was using.  The queue runs at the parent's next exit, at the latest
 * the TLB flush that ends the fork.
 */
static void lguest_enter_mmap(struct mm_struct *mm)
{
	async_hcall(LHCALL_NEW_MM, __pa(mm->pgd), tlb_gen_of(mm), 0);
}

/*
 * The host must forget a freed directory before the page is loaded as
 * another: loading one is an exit, and the queue runs first.
 */
static void lguest_pgd_free(struct mm_struct *mm, pgd_t *pgd)
{
	async_hcall(LHCALL_FREE_PGTABLE, __pa(pgd), 0, 0);
}

void __init lguest_init_mmu_ops(void)
{
	current_cr3 = __pa_symbol(initial_page_table);

	pv_ops.mmu.read_cr2 = PV_CALLEE_SAVE(lguest_read_cr2);
	pv_ops.mmu.write_cr2 = lguest_write_cr2;
	pv_ops.mmu.read_cr3 = lguest_read_cr3;
	pv_ops.mmu.write_cr3 = lguest_write_cr3;
	pv_ops.mmu.flush_tlb_user = lguest_flush_tlb_user;
	pv_ops.mmu.flush_tlb_kernel = lguest_flush_tlb_kernel;
	pv_ops.mmu.flush_tlb_one_user = lguest_flush_tlb_one_user;
	pv_ops.mmu.set_pmd = lguest_set_pmd;
	pv_ops.mmu.pgd_free = lguest_pgd_free;
	pv_ops.mmu.enter_mmap = lguest_enter_mmap;
	pv_ops.mmu.lazy_mode.enter = lguest_enter_lazy_mmu;
	pv_ops.mmu.lazy_mode.leave = lguest_leave_lazy_mmu;
	pv_ops.mmu.lazy_mode.flush = lguest_flush_lazy_mmu;
}
