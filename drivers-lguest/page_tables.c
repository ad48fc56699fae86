// SPDX-License-Identifier: GPL-2.0-only
/*
 * Shadow paging.
 *
 * The guest keeps ordinary (2-level, non-PAE) page tables in its memory,
 * full of guest-physical addresses.  The CPU cannot use them: it needs
 * host-physical addresses, and must never see a mapping the guest was not
 * entitled to.  So the CPU runs on our "shadow" copies, which start empty
 * and are filled one entry at a time as the guest faults:
 *
 *   guest touches an address -> page fault -> lguest_demand_page() walks
 *   the guest's tables; if they allow the access, we pin the page of
 *   guest memory, point the shadow entry at it, and the guest retries.
 *   If they don't, the fault is the guest's own and is reflected to it.
 *
 * The guest tells us (by hypercall) when it changes its tables, and we
 * drop the shadow entries concerned.  Accessed and dirty bits are kept in
 * the guest's entries by mapping pages read-only until the first write.
 *
 * Each page of guest memory is pinned once, the first time a shadow entry
 * maps it, and stays pinned until the guest goes: shadow entries refer to
 * the frame table, they take no reference of their own, so a guest that
 * maps one page at every address it has pins it still once.  All of guest
 * memory may end up pinned, so all of it is charged to the launcher's
 * locked memory (RLIMIT_MEMLOCK) when the guest is created.
 *
 * The top page-directory slot holds the switcher: a guest can never map
 * anything there.
 */
#include <linux/gfp.h>
#include <linux/mm.h>
#include <linux/moduleparam.h>
#include <linux/nospec.h>
#include <linux/pgtable.h>
#include <linux/sched.h>
#include <linux/sched/mm.h>
#include <linux/slab.h>
#include <asm/trap_pf.h>

#include "lg.h"

#define GUEST_PTES	(PAGE_SIZE / sizeof(u32))

static u32 pgd_index_of(u32 vaddr)
{
	return vaddr >> PGDIR_SHIFT;
}

static u32 pte_index_of(u32 vaddr)
{
	return (vaddr >> PAGE_SHIFT) & (GUEST_PTES - 1);
}

static unsigned long guest_frames(struct lguest *lg)
{
	return lg->mem_size >> PAGE_SHIFT;
}

/*
 * The frame table, and the charge for all of guest memory.  Without
 * CAP_IPC_LOCK, a launcher whose RLIMIT_MEMLOCK is too small for its guest
 * gets -ENOMEM from LGUEST_INIT.
 */
static int init_frames(struct lguest *lg)
{
	int err;

	err = account_locked_vm(current->mm, guest_frames(lg), true);
	if (err)
		return err;
	lg->locked_mm = current->mm;
	lg->frames = kvcalloc(guest_frames(lg), sizeof(*lg->frames),
			      GFP_KERNEL_ACCOUNT);
	return lg->frames ? 0 : -ENOMEM;
}

/* The guest is gone: unpin everything, a page at a time, and uncharge. */
static void free_frames(struct lguest *lg)
{
	unsigned long i;

	for (i = 0; lg->frames && i < guest_frames(lg); i++) {
		if (lg->frames[i])
			unpin_user_pages_dirty_lock(&lg->frames[i], 1, true);
		if (!(i % 1024))
			cond_resched();
	}
	kvfree(lg->frames);
	lg->frames = NULL;
	if (lg->locked_mm)
		account_locked_vm(lg->locked_mm, guest_frames(lg), false);
	lg->locked_mm = NULL;
}

/* The page of guest memory at this guest-physical frame, pinned. */
static struct page *pin_guest_page(struct lguest *lg, u32 gpfn)
{
	unsigned long uaddr = (unsigned long)lg->mem_base +
			      ((unsigned long)gpfn << PAGE_SHIFT);
	struct page *page;

	if (lg->frames[gpfn])
		return lg->frames[gpfn];
	if (pin_user_pages_fast(uaddr, 1, FOLL_WRITE | FOLL_LONGTERM,
				&page) != 1) {
		kill_guest(lg, "guest memory at %#lx is gone",
			   (unsigned long)gpfn << PAGE_SHIFT);
		return NULL;
	}
	lg->frames[gpfn] = page;
	lguest_audit_pin(lg, page);
	return page;
}

/*
 * How many guest page directories (processes, to a Linux guest) a guest
 * keeps shadows of.  A directory that is loaded again finds its shadow
 * still filled in, as long as the guest did not change its tables since;
 * the one loaded longest ago makes room for a new one.  The value is read
 * when a guest is created.
 */
static unsigned int shadow_pgdirs = 16;
module_param(shadow_pgdirs, uint, 0644);
MODULE_PARM_DESC(shadow_pgdirs,
		 "shadow page directories per guest (2-256, default 16)");

/*
 * For debugging, and as a baseline for measurements: no shared kernel
 * shadows, and a guest's user mappings are forgotten on every cr3 load,
 * as a TLB without global entries would.  Read when a guest is created.
 */
static bool shadow_simple;
module_param(shadow_simple, bool, 0644);
MODULE_PARM_DESC(shadow_simple,
		 "no shared kernel shadows, forget user shadows on every switch");

static pte_t *pgd_table(pgd_t pgd)
{
	return __va(pgd_val(pgd) & PAGE_MASK);
}

static bool shadow_present(pgd_t pgd)
{
	return pgd_flags(pgd) & _PAGE_PRESENT;
}

/* Our directory entry for a page table of ours. */
static pgd_t link_table(pte_t *ptes)
{
	return __pgd(__pa(ptes) | _PAGE_PRESENT | _PAGE_RW | _PAGE_USER |
		     _PAGE_ACCESSED);
}

/*
 * Forget one slot of a shadow directory.  Its table holds no references
 * (the frame table does), so this is only memory, and a kernel table that
 * every directory shares is only unlinked.  There may be a thousand slots
 * in a directory, and the guest says when: let others run.
 */
static void release_pgd(struct lguest *lg, pgd_t *pgdir, unsigned int index)
{
	pgd_t *spgd = &pgdir[index];

	if (!shadow_present(*spgd))
		return;
	if (pgd_table(*spgd) != lg->kshadows[index].ptes)
		free_page((unsigned long)pgd_table(*spgd));
	*spgd = __pgd(0);
	cond_resched();
}

static void flush_pgdir_range(struct lguest *lg, pgd_t *pgdir,
			      unsigned int end)
{
	unsigned int i;

	for (i = 0; i < end; i++)
		release_pgd(lg, pgdir, i);
}

static void flush_pgdir(struct lguest *lg, pgd_t *pgdir)
{
	flush_pgdir_range(lg, pgdir, SWITCHER_PGD_INDEX);
}

/* What a TLB flush without the global entries forgets. */
static void flush_pgdir_user(struct lguest *lg, pgd_t *pgdir)
{
	flush_pgdir_range(lg, pgdir, lg->user_pgds ?: SWITCHER_PGD_INDEX);
}

static struct lg_pgdir *cur_pgdir(struct lguest *lg)
{
	return &lg->pgdirs[lg->cur_pgdir];
}

int lguest_init_pagetables(struct lguest *lg)
{
	unsigned int i;
	int err;

	err = init_frames(lg);
	if (err)
		return err;
	lg->shadow_simple = READ_ONCE(shadow_simple);
	lg->nr_pgdirs = clamp(READ_ONCE(shadow_pgdirs), 2U, 256U);
	lg->pgdirs = kcalloc(lg->nr_pgdirs, sizeof(*lg->pgdirs),
			     GFP_KERNEL_ACCOUNT);
	lg->kshadows = kcalloc(SWITCHER_PGD_INDEX, sizeof(*lg->kshadows),
			       GFP_KERNEL_ACCOUNT);
	if (!lg->pgdirs || !lg->kshadows)
		return -ENOMEM;
	for (i = 0; i < lg->nr_pgdirs; i++) {
		lg->pgdirs[i].pgdir = (pgd_t *)get_zeroed_page(GFP_KERNEL_ACCOUNT);
		if (!lg->pgdirs[i].pgdir)
			return -ENOMEM;
		lg->pgdirs[i].gpgdir = ~0U;	/* not page aligned: unused */
	}
	lg->pgdirs[0].gpgdir = lg->regs.cr3;
	lg->cur_pgdir = 0;
	return 0;
}

/* Called on failure of lguest_init_pagetables() too. */
void lguest_free_pagetables(struct lguest *lg)
{
	unsigned int i;

	lguest_audit_all(lg, "the guest's end");
	for (i = 0; lg->pgdirs && i < lg->nr_pgdirs; i++) {
		if (!lg->pgdirs[i].pgdir)
			continue;
		flush_pgdir(lg, lg->pgdirs[i].pgdir);
		free_page((unsigned long)lg->pgdirs[i].pgdir);
	}
	kfree(lg->pgdirs);
	lg->pgdirs = NULL;
	for (i = 0; lg->kshadows && i < SWITCHER_PGD_INDEX; i++)
		free_page((unsigned long)lg->kshadows[i].ptes);
	kfree(lg->kshadows);
	lg->kshadows = NULL;
	free_frames(lg);
	lguest_audit_free(lg);
}

static bool gpgdir_valid(struct lguest *lg, u32 gpgdir)
{
	return IS_ALIGNED(gpgdir, PAGE_SIZE) &&
	       (u64)gpgdir + PAGE_SIZE <= lg->mem_size;
}

static int find_pgdir(struct lguest *lg, u32 gpgdir)
{
	unsigned int i;

	for (i = 0; i < lg->nr_pgdirs; i++)
		if (lg->pgdirs[i].gpgdir == gpgdir)
			return i;
	return -1;
}

/* The directory loaded longest ago, never the current one. */
static unsigned int pgdir_victim(struct lguest *lg)
{
	unsigned int i, victim = lg->cur_pgdir ? 0 : 1;

	for (i = 0; i < lg->nr_pgdirs; i++)
		if (i != lg->cur_pgdir &&
		    lg->pgdirs[i].last_used < lg->pgdirs[victim].last_used)
			victim = i;
	return victim;
}

/* From lguest_data.kernel_address; a partly-user slot counts as user. */
void lguest_set_kernel_address(struct lguest *lg, u32 kernel_address)
{
	lg->user_pgds = min_t(u32, DIV_ROUND_UP(kernel_address, PGDIR_SIZE),
			      SWITCHER_PGD_INDEX);
}

/*
 * Kernel page tables.  Linux maps its kernel with the same page tables in
 * every page directory: pgd_alloc() copies the kernel's directory entries
 * into each new one.  So each kernel slot has one shadow table, shared by
 * every shadow directory whose guest entry for the slot is the same as
 * the one the shadow was made from (kshadow_key()); a directory whose
 * entry differs (the kernel syncs a new entry into one directory after
 * another) takes the shared table over for its own entry, and the others
 * link it again when theirs is the same (link_kernel_slots()).
 */
static bool shared_slot(struct lguest *lg, unsigned int index)
{
	return !lg->shadow_simple && lg->user_pgds &&
	       index >= lg->user_pgds && index < SWITCHER_PGD_INDEX;
}

/* What a shared shadow depends on: the page table and the rights. */
static u32 kshadow_key(u32 gpgd)
{
	return gpgd & ~(_PAGE_ACCESSED | _PAGE_DIRTY);
}

/*
 * The shadow of a guest entry.  It is writable only once the guest entry is
 * dirty, so the first write faults and lets us set the dirty bit.
 */
static pte_t make_shadow(struct page *page, u32 gpgd, u32 gpte)
{
	u32 flags = _PAGE_PRESENT | _PAGE_ACCESSED;

	if (gpgd & gpte & _PAGE_USER)
		flags |= _PAGE_USER;
	if ((gpgd & gpte & _PAGE_RW) && (gpte & _PAGE_DIRTY))
		flags |= _PAGE_RW | _PAGE_DIRTY;
	return pfn_pte(page_to_pfn(page), __pgprot(flags));
}

/*
 * A guest entry we may shadow ahead of a fault: present, used (accessed)
 * and mapping guest memory (device windows are left to fault, for mmio.c).
 */
static bool used_gpte(struct lguest *lg, u32 gpte)
{
	return (gpte & (_PAGE_PRESENT | _PAGE_ACCESSED)) ==
	       (_PAGE_PRESENT | _PAGE_ACCESSED) &&
	       (gpte >> PAGE_SHIFT) < guest_frames(lg);
}

/*
 * Map at once everything the guest kernel's table maps and has used (the
 * accessed bit is set, and the dirty bit for a writable mapping, as in
 * every kernel mapping Linux makes), rather than take a fault for each
 * page the first time the kernel touches it.  Entries beyond guest memory
 * (device windows) are left to fault, for mmio.c.
 */
static void fill_kshadow(struct lguest *lg, struct lg_kshadow *ks)
{
	u32 gptes[64], gpte, gpfn, i, j, frames = guest_frames(lg);
	struct page *page;

	for (i = 0; i < GUEST_PTES && !lg->dead; i += ARRAY_SIZE(gptes)) {
		if (!lg_read(lg, (ks->gpgd & PAGE_MASK) + i * 4, gptes,
			     sizeof(gptes)))
			return;
		for (j = 0; j < ARRAY_SIZE(gptes); j++) {
			gpte = gptes[j];
			gpfn = gpte >> PAGE_SHIFT;
			if (!used_gpte(lg, gpte))
				continue;
			page = pin_guest_page(lg, array_index_nospec(gpfn, frames));
			if (!page)
				return;
			ks->ptes[i + j] = make_shadow(page, ks->gpgd, gpte);
		}
		cond_resched();
	}
	ks->filled = true;
}

/* Make slot index's shared table the shadow of gpgd, for every directory. */
static void retarget_kshadow(struct lguest *lg, unsigned int index, u32 gpgd)
{
	struct lg_kshadow *ks = &lg->kshadows[index];
	unsigned int i;
	pgd_t *spgd;

	for (i = 0; i < lg->nr_pgdirs; i++) {
		spgd = &lg->pgdirs[i].pgdir[index];
		if (shadow_present(*spgd) && pgd_table(*spgd) == ks->ptes)
			*spgd = __pgd(0);
	}
	clear_page(ks->ptes);
	ks->gpgd = kshadow_key(gpgd);
	ks->filled = false;
}

/* The shared table of a kernel slot for a guest entry gpgd, or NULL. */
static pte_t *kshadow_for(struct lguest *lg, unsigned int index, u32 gpgd)
{
	struct lg_kshadow *ks = &lg->kshadows[index];

	if (!ks->ptes) {
		ks->ptes = (pte_t *)get_zeroed_page(GFP_KERNEL_ACCOUNT);
		if (!ks->ptes)
			return NULL;
		ks->gpgd = kshadow_key(gpgd);
	} else if (ks->gpgd != kshadow_key(gpgd)) {
		retarget_kshadow(lg, index, gpgd);
	}
	if (!ks->filled)
		fill_kshadow(lg, ks);
	return ks->ptes;
}

/*
 * Link the shared kernel tables into a directory being loaded, where its
 * guest entries are the ones they shadow: a new process then starts with
 * the whole kernel mapped.
 */
static void link_kernel_slots(struct lguest *lg, struct lg_pgdir *d)
{
	u32 gpgds[64], i, j, index;
	struct lg_kshadow *ks;

	if (!shared_slot(lg, lg->user_pgds))
		return;
	for (i = lg->user_pgds; i < SWITCHER_PGD_INDEX; i += j) {
		j = min_t(u32, ARRAY_SIZE(gpgds), SWITCHER_PGD_INDEX - i);
		if (!lg_read(lg, d->gpgdir + i * 4, gpgds, j * 4))
			return;
		for (index = i; index < i + j; index++) {
			ks = &lg->kshadows[index];
			if (ks->filled && !shadow_present(d->pgdir[index]) &&
			    (gpgds[index - i] & _PAGE_PRESENT) &&
			    ks->gpgd == kshadow_key(gpgds[index - i]))
				d->pgdir[index] = link_table(ks->ptes);
		}
	}
}

/*
 * Does a shadow entry still hold for the guest's entry gpte (under gpgd)?
 * Returns the entry to keep: the same, or with the rights the guest's
 * entry no longer gives taken away; or an empty entry if it maps another
 * page, or nothing.
 */
static pte_t shadow_resynced(struct lguest *lg, pte_t spte, u32 gpgd, u32 gpte)
{
	u32 gpfn = gpte >> PAGE_SHIFT, excess;
	struct page *page;
	pte_t want;

	if (!(gpte & _PAGE_PRESENT) || gpfn >= guest_frames(lg))
		return __pte(0);
	page = lg->frames[array_index_nospec(gpfn, guest_frames(lg))];
	if (!page || pte_pfn(spte) != page_to_pfn(page))
		return __pte(0);
	want = make_shadow(page, gpgd, gpte);
	excess = pte_flags(spte) & ~pte_flags(want) & (_PAGE_RW | _PAGE_USER |
						       _PAGE_DIRTY);
	return pte_clear_flags(spte, excess);
}

/* Resync one slot of a directory: see resync_user(). */
static void resync_slot(struct lguest *lg, struct lg_pgdir *d,
			unsigned int index)
{
	u32 gpgd, gptes[64], i, j;
	bool have_chunk;
	pte_t *ptes;

	if (!shadow_present(d->pgdir[index]))
		return;
	ptes = pgd_table(d->pgdir[index]);
	if (ptes == lg->kshadows[index].ptes ||
	    !lg_read(lg, d->gpgdir + index * 4, &gpgd, 4) ||
	    !(gpgd & _PAGE_PRESENT) || (gpgd & _PAGE_PSE)) {
		release_pgd(lg, d->pgdir, index);
		return;
	}
	for (i = 0; i < GUEST_PTES; i += ARRAY_SIZE(gptes)) {
		have_chunk = false;
		for (j = 0; j < ARRAY_SIZE(gptes); j++) {
			if (!(pte_flags(ptes[i + j]) & _PAGE_PRESENT))
				continue;
			if (!have_chunk &&
			    !lg_read(lg, (gpgd & PAGE_MASK) + i * 4, gptes,
				     sizeof(gptes)))
				return;
			have_chunk = true;
			ptes[i + j] = shadow_resynced(lg, ptes[i + j], gpgd,
						      gptes[j]);
		}
	}
	cond_resched();
}

/*
 * The guest's user mappings changed (it flushed its TLB, or loads a
 * directory whose address space changed while it was switched out).
 * Rather than forget them all, as a TLB would, compare every present
 * shadow entry below the kernel with the guest's entry now, and drop or
 * downgrade what differs: a process that forked keeps its read-only
 * mappings, and the pages it did not touch since.
 */
static void resync_user(struct lguest *lg, struct lg_pgdir *d)
{
	unsigned int i;

	for (i = 0; i < lg->user_pgds && !lg->dead; i++)
		resync_slot(lg, d, i);
}

/*
 * Does a directory's shadow of user mappings still agree with the guest's
 * tables?  Loading cr3 flushes a TLB's non-global entries, and Linux
 * counts on it: it does not flush for a process that is not running.  But
 * it counts every change to a process's tables that needs a flush, in
 * mm->context.tlb_gen, whether the process runs or not, and the guest
 * hands us that count (plus one: 0 is "unknown") with each cr3 load and
 * TLB flush.  A directory left at generation N and loaded again at N has
 * seen no change; any other value, and its user shadows are resynced.
 */
static bool pgdir_current(struct lguest *lg, struct lg_pgdir *d, u32 tlb_gen)
{
	return !lg->shadow_simple && tlb_gen && d->tlb_gen == tlb_gen;
}

/*
 * A directory loaded again: keep what still holds of its user shadows.  A
 * guest that gave no kernel_address flushes everything itself.
 */
static void revisit_pgdir(struct lguest *lg, unsigned int i, u32 tlb_gen)
{
	struct lg_pgdir *d = &lg->pgdirs[i];

	if (!lg->user_pgds || pgdir_current(lg, d, tlb_gen))
		return;
	if (!lg->shadow_simple)
		resync_user(lg, d);
	else if (i != lg->cur_pgdir)
		flush_pgdir_range(lg, d->pgdir, lg->user_pgds);
}

/*
 * The guest switched to a page directory.  If we shadow it already, keep
 * what still holds; otherwise recycle the shadow loaded longest ago.
 */
void lguest_new_pagetable(struct lguest *lg, u32 gpgdir, u32 tlb_gen)
{
	struct lg_pgdir *d;
	int i;

	if (!gpgdir_valid(lg, gpgdir)) {
		kill_guest(lg, "bad page directory %#x", gpgdir);
		return;
	}
	i = find_pgdir(lg, gpgdir);
	if (i < 0) {
		i = pgdir_victim(lg);
		flush_pgdir(lg, lg->pgdirs[i].pgdir);
		lg->pgdirs[i].gpgdir = gpgdir;
	} else {
		revisit_pgdir(lg, i, tlb_gen);
	}
	d = &lg->pgdirs[i];
	d->tlb_gen = tlb_gen;
	d->last_used = ++lg->pgdir_clock;
	lg->cur_pgdir = i;
	lg->regs.cr3 = gpgdir;
	link_kernel_slots(lg, d);
	lguest_map_stack(lg);
	lguest_audit_dir(lg, i, "cr3 load");
}

/* Is any of the n entries from ptes present? */
static bool any_present(const pte_t *ptes, unsigned int n)
{
	while (n--)
		if (pte_flags(ptes[n]) & _PAGE_PRESENT)
			return true;
	return false;
}

/*
 * Shadow, in ptes, the entries of the guest's table under gpgd that the
 * table cur of the current directory maps.  Each is made from the guest's
 * entry (a fork made those read-only where it shares a page for
 * copy-on-write) and marked accessed there, as a fault would.
 */
static void prefault_table(struct lguest *lg, pte_t *ptes, u32 gpgd,
			   const pte_t *cur)
{
	u32 gptes[64], gpte, gpfn, i, j, frames = guest_frames(lg);
	u32 at = gpgd & PAGE_MASK;
	struct page *page;
	bool marked;

	for (i = 0; i < GUEST_PTES; i += ARRAY_SIZE(gptes)) {
		if (!any_present(cur + i, ARRAY_SIZE(gptes)))
			continue;
		if (!lg_read(lg, at + i * 4, gptes, sizeof(gptes)))
			return;
		marked = false;
		for (j = 0; j < ARRAY_SIZE(gptes); j++) {
			gpte = gptes[j];
			gpfn = gpte >> PAGE_SHIFT;
			if (!(pte_flags(cur[i + j]) & _PAGE_PRESENT) ||
			    !(gpte & _PAGE_PRESENT) || gpfn >= frames)
				continue;
			page = pin_guest_page(lg, array_index_nospec(gpfn, frames));
			if (!page)
				return;
			ptes[i + j] = make_shadow(page, gpgd, gpte);
			marked |= !(gpte & _PAGE_ACCESSED);
			gptes[j] = gpte | _PAGE_ACCESSED;
		}
		if (marked && !lg_write(lg, at + i * 4, gptes, sizeof(gptes)))
			return;
	}
}

/*
 * LHCALL_NEW_MM: the guest made the address space whose directory is
 * gpgdir, now at generation tlb_gen.  Give it a shadow now, and fill it
 * where the current directory's shadow has entries: a forked child
 * touches what its parent did.  The directory loaded longest ago makes
 * room, as for a cr3 load.
 */
void lguest_new_mm(struct lguest *lg, u32 gpgdir, u32 tlb_gen)
{
	struct lg_pgdir *cur = cur_pgdir(lg), *d;
	u32 gpgds[64], i, j;
	pte_t *ptes;
	int n;

	if (!gpgdir_valid(lg, gpgdir)) {
		kill_guest(lg, "bad page directory %#x", gpgdir);
		return;
	}
	if (lg->shadow_simple || !lg->user_pgds || gpgdir == cur->gpgdir)
		return;
	n = find_pgdir(lg, gpgdir);
	d = &lg->pgdirs[n < 0 ? pgdir_victim(lg) : n];
	flush_pgdir(lg, d->pgdir);
	d->gpgdir = gpgdir;
	d->tlb_gen = tlb_gen;
	d->last_used = ++lg->pgdir_clock;
	for (i = 0; i < lg->user_pgds && !lg->dead; i += j) {
		j = min_t(u32, ARRAY_SIZE(gpgds), lg->user_pgds - i);
		if (!lg_read(lg, gpgdir + i * 4, gpgds, j * 4))
			return;
		for (n = 0; n < j; n++) {
			if (!shadow_present(cur->pgdir[i + n]) ||
			    (gpgds[n] & (_PAGE_PRESENT | _PAGE_PSE)) !=
			    _PAGE_PRESENT)
				continue;
			ptes = (pte_t *)get_zeroed_page(GFP_KERNEL_ACCOUNT);
			if (!ptes) {
				kill_guest(lg, "out of memory for page tables");
				return;
			}
			d->pgdir[i + n] = link_table(ptes);
			prefault_table(lg, ptes, gpgds[n],
				       pgd_table(cur->pgdir[i + n]));
			cond_resched();
		}
	}
	lguest_audit_dir(lg, d - lg->pgdirs, "new address space");
}

/* Before each entry: the launcher may have set another cr3. */
bool lguest_prepare_pagetables(struct lguest *lg)
{
	if (cur_pgdir(lg)->gpgdir != lg->regs.cr3)
		lguest_new_pagetable(lg, lg->regs.cr3, 0);
	return !lg->dead;
}

/*
 * The physical address to load into cr3, with the switcher's slot pointing
 * at this CPU's switcher page table.  Called with preemption off.
 */
unsigned long lguest_shadow_cr3(struct lguest *lg, pte_t *switcher_pte)
{
	pgd_t *pgdir = cur_pgdir(lg)->pgdir;

	pgdir[SWITCHER_PGD_INDEX] = __pgd(__pa(switcher_pte) | _PAGE_PRESENT |
					  _PAGE_RW | _PAGE_ACCESSED);
	return __pa(pgdir);
}

/* The guest's entries for vaddr, read from its memory. */
static bool guest_walk(struct lguest *lg, u32 vaddr, u32 *gpgd, u32 *pte_gpa,
		       u32 *gpte)
{
	u32 gpgdir = lg->pgdirs[lg->cur_pgdir].gpgdir;

	if (pgd_index_of(vaddr) >= SWITCHER_PGD_INDEX)
		return false;
	if (!lg_read(lg, gpgdir + pgd_index_of(vaddr) * 4, gpgd, 4))
		return false;
	if (!(*gpgd & _PAGE_PRESENT))
		return false;
	if (*gpgd & _PAGE_PSE) {
		kill_guest(lg, "large pages are not supported (%#x)", vaddr);
		return false;
	}
	*pte_gpa = (*gpgd & PAGE_MASK) + pte_index_of(vaddr) * 4;
	if (!lg_read(lg, *pte_gpa, gpte, 4))
		return false;
	return *gpte & _PAGE_PRESENT;
}

/* May an access with this page-fault error code go through? */
static bool access_ok_for(u32 gpgd, u32 gpte, u32 errcode)
{
	u32 flags = gpgd & gpte;

	if ((errcode & X86_PF_WRITE) && !(flags & _PAGE_RW))
		return false;
	if ((errcode & X86_PF_USER) && !(flags & _PAGE_USER))
		return false;
	return true;
}

/*
 * Our entry for vaddr in the current directory, in the shared table of a
 * kernel slot or in one of the directory's own, made if need be.
 */
static pte_t *shadow_pte(struct lguest *lg, u32 vaddr, u32 gpgd)
{
	unsigned int index = pgd_index_of(vaddr);
	pgd_t *spgd = &cur_pgdir(lg)->pgdir[index];
	pte_t *ptes;

	if (!shadow_present(*spgd)) {
		if (shared_slot(lg, index))
			ptes = kshadow_for(lg, index, gpgd);
		else
			ptes = (pte_t *)get_zeroed_page(GFP_KERNEL_ACCOUNT);
		if (!ptes) {
			kill_guest(lg, "out of memory for page tables");
			return NULL;
		}
		*spgd = link_table(ptes);
	}
	return &pgd_table(*spgd)[pte_index_of(vaddr)];
}

/* How many guest entries around a user fault fill_around() looks at. */
#define FILL_AROUND	16

/*
 * When Linux maps a page of a file for a fault, it maps the pages around
 * it that are in the page cache too, young, in the hope that they will
 * be used; and a process that touches one page of its stack or heap
 * often touches the next.  Do the same for the shadow: fill in the
 * entries of the 16 around vaddr that the guest has mapped and used, as
 * fill_kshadow() does for a whole kernel table, instead of an exit each.
 * The faulting entry was filled by the caller, from gpte at pte_gpa.
 */
static void fill_around(struct lguest *lg, u32 vaddr, u32 gpgd, u32 pte_gpa,
			pte_t *spte)
{
	u32 gptes[FILL_AROUND], gpte, gpfn, first, i;
	u32 frames = guest_frames(lg);
	pte_t *ptes = spte - pte_index_of(vaddr);
	struct page *page;

	if (pgd_index_of(vaddr) >= lg->user_pgds || lg->shadow_simple)
		return;
	first = pte_index_of(vaddr) & ~(FILL_AROUND - 1);
	if (!lg_read(lg, (pte_gpa & PAGE_MASK) + first * 4, gptes,
		     sizeof(gptes)))
		return;
	for (i = 0; i < FILL_AROUND; i++) {
		gpte = gptes[i];
		gpfn = gpte >> PAGE_SHIFT;
		if (!used_gpte(lg, gpte) ||
		    (pte_flags(ptes[first + i]) & _PAGE_PRESENT))
			continue;
		page = pin_guest_page(lg, array_index_nospec(gpfn, frames));
		if (!page)
			return;
		ptes[first + i] = make_shadow(page, gpgd, gpte);
	}
}

/*
 * A page fault at vaddr: if the guest's own tables allow the access, fill
 * in the shadow (LG_FAULT_FIXED: the guest just retries); if not, the
 * fault is the guest's (LG_FAULT_GUEST).  Its error code then says what
 * the guest's tables say: "present" is about the guest's entry, not ours.
 * An entry that maps something beyond guest memory is never shadowed: the
 * access goes to mmio.c, with its guest-physical address in *gpa
 * (LG_FAULT_DEVICE).
 */
enum lg_fault lguest_demand_page(struct lguest *lg, u32 vaddr, u32 *errcode,
				 u32 *gpa)
{
	u32 gpgd, pte_gpa, gpte, gpfn;
	struct page *page;
	pte_t *spte;

	if (!guest_walk(lg, vaddr, &gpgd, &pte_gpa, &gpte)) {
		*errcode &= ~X86_PF_PROT;
		return LG_FAULT_GUEST;
	}
	if (!access_ok_for(gpgd, gpte, *errcode)) {
		*errcode |= X86_PF_PROT;
		return LG_FAULT_GUEST;
	}

	gpfn = gpte >> PAGE_SHIFT;
	if (gpfn >= guest_frames(lg)) {
		*gpa = (gpte & PAGE_MASK) | offset_in_page(vaddr);
		return LG_FAULT_DEVICE;
	}

	gpte |= _PAGE_ACCESSED;
	if (*errcode & X86_PF_WRITE)
		gpte |= _PAGE_DIRTY;
	if (!lg_write(lg, pte_gpa, &gpte, 4))
		return LG_FAULT_FIXED;

	spte = shadow_pte(lg, vaddr, gpgd);
	if (!spte)
		return LG_FAULT_FIXED;
	page = pin_guest_page(lg, array_index_nospec(gpfn, guest_frames(lg)));
	if (!page)
		return LG_FAULT_FIXED;
	*spte = make_shadow(page, gpgd, gpte);
	fill_around(lg, vaddr, gpgd, pte_gpa, spte);
	return LG_FAULT_FIXED;
}

/*
 * LHCALL_FLUSH_TLB: forget the current directory's shadow entries below the
 * guest's kernel_address (all of them if it gave none): the guest's address
 * space is now at generation tlb_gen.  With kernel set, every entry of
 * every directory: kernel mappings are in all of them.
 */
void lguest_flush_tlb(struct lguest *lg, u32 kernel, u32 tlb_gen)
{
	unsigned int i;

	if (!kernel && lg->user_pgds && !lg->shadow_simple) {
		resync_user(lg, cur_pgdir(lg));
	} else if (!kernel) {
		flush_pgdir_user(lg, cur_pgdir(lg)->pgdir);
	} else {
		for (i = 0; i < lg->nr_pgdirs; i++)
			flush_pgdir(lg, lg->pgdirs[i].pgdir);
		for (i = 0; i < SWITCHER_PGD_INDEX; i++) {
			if (!lg->kshadows[i].ptes)
				continue;
			clear_page(lg->kshadows[i].ptes);
			lg->kshadows[i].filled = false;
		}
	}
	cur_pgdir(lg)->tlb_gen = tlb_gen;
	lguest_map_stack(lg);
	if (kernel)
		lguest_audit_all(lg, "kernel flush");
	else
		lguest_audit_flush(lg, "flush");
}

/*
 * LHCALL_FREE_PGTABLE: the guest freed a page directory.  The page may come
 * back as another process's directory, which must not inherit the shadow.
 */
void lguest_free_pagetable(struct lguest *lg, u32 gpgdir)
{
	int i = find_pgdir(lg, gpgdir);

	if (i < 0)
		return;
	flush_pgdir(lg, lg->pgdirs[i].pgdir);
	if (i != lg->cur_pgdir) {
		lg->pgdirs[i].gpgdir = ~0U;
		lg->pgdirs[i].last_used = 0;
	} else {
		lguest_map_stack(lg);
	}
	lguest_audit_dir(lg, i, "freed directory");
}

/*
 * LHCALL_SET_PTE: the guest changed the entry for vaddr, and flushed it:
 * drop its shadows.  Page tables can be shared between page directories
 * (the kernel's are), so drop the shadow in every directory we keep, not
 * just gpgdir's: at worst that costs another fault.  The current
 * directory's address space is now at generation tlb_gen: a flush of a
 * range comes a page at a time, and all of it before the guest can switch.
 */
void lguest_set_pte(struct lguest *lg, u32 gpgdir, u32 vaddr, u32 tlb_gen)
{
	unsigned int i, index = pgd_index_of(vaddr);
	pgd_t *spgd;

	if (index >= SWITCHER_PGD_INDEX) {
		kill_guest(lg, "attempt to map %#x, in the switcher", vaddr);
		return;
	}
	index = array_index_nospec(index, SWITCHER_PGD_INDEX);
	if (lg->kshadows[index].ptes)
		lg->kshadows[index].ptes[pte_index_of(vaddr)] = __pte(0);
	for (i = 0; i < lg->nr_pgdirs; i++) {
		spgd = &lg->pgdirs[i].pgdir[index];
		if (shadow_present(*spgd))
			pgd_table(*spgd)[pte_index_of(vaddr)] = __pte(0);
	}
	if (gpgdir == cur_pgdir(lg)->gpgdir)
		cur_pgdir(lg)->tlb_gen = tlb_gen;
	lguest_map_stack(lg);
	lguest_audit_entry(lg, vaddr, "changed entry");
}

/* LHCALL_SET_PGD: the guest changed a directory entry; drop its shadows. */
void lguest_set_pgd(struct lguest *lg, u32 gpgdir, u32 index)
{
	unsigned int i;

	if (index >= SWITCHER_PGD_INDEX) {
		kill_guest(lg, "attempt to set pgd %u, the switcher's", index);
		return;
	}
	index = array_index_nospec(index, SWITCHER_PGD_INDEX);
	for (i = 0; i < lg->nr_pgdirs; i++)
		if (lg->pgdirs[i].gpgdir == gpgdir)
			release_pgd(lg, lg->pgdirs[i].pgdir, index);
	lguest_map_stack(lg);
	lguest_audit_slot(lg, index, "changed directory entry");
}

/*
 * Translate a guest-virtual address through the guest's tables, as the
 * guest kernel would see it: used to push trap frames on its stack.
 */
bool lguest_gva_to_gpa(struct lguest *lg, u32 vaddr, bool write, u32 *gpa)
{
	u32 gpgd, pte_gpa, gpte;

	if (!guest_walk(lg, vaddr, &gpgd, &pte_gpa, &gpte))
		return false;
	if (write && !(gpgd & gpte & _PAGE_RW))
		return false;
	*gpa = (gpte & PAGE_MASK) | (vaddr & ~PAGE_MASK);
	return (u64)*gpa < lg->mem_size;
}

/* Is vaddr mapped writable in the current shadow? */
static bool shadow_writable(struct lguest *lg, u32 vaddr)
{
	pgd_t spgd;
	pte_t *ptes;

	if (pgd_index_of(vaddr) >= SWITCHER_PGD_INDEX)
		return false;
	spgd = lg->pgdirs[lg->cur_pgdir].pgdir[pgd_index_of(vaddr)];
	if (!(pgd_flags(spgd) & _PAGE_PRESENT))
		return false;
	ptes = __va(pgd_val(spgd) & PAGE_MASK);
	return (pte_flags(ptes[pte_index_of(vaddr)]) &
		(_PAGE_PRESENT | _PAGE_RW)) == (_PAGE_PRESENT | _PAGE_RW);
}

/*
 * Keep the guest kernel's stack (LHCALL_SET_STACK) mapped writable in the
 * current shadow.  A system call from guest user mode goes straight to the
 * guest kernel (see lg_direct_syscall() in x86/core.c): the CPU switches to
 * this stack and pushes the trap frame there itself, and each push that
 * faulted would cost the exit the direct trap is there to save.  So
 * whenever the stack moves or the current shadow loses entries (a new cr3,
 * a TLB flush, a changed entry) we fault its pages in, writable, exactly as
 * the guest kernel's own write to them would.
 *
 * Only pages the guest's tables let its kernel write are mapped; the rest
 * are left alone, without complaint: the guest may map its stack later.
 * Should the CPU's push fault after all, that is an ordinary page fault
 * from guest user mode, at the "int" instruction (the CPU undoes the
 * half-delivered trap): lguest_demand_page() maps the page and the guest
 * runs the instruction again, or the fault is reflected, and the host's
 * own push of its frame on the unusable stack kills the guest.
 */
void lguest_map_stack(struct lguest *lg)
{
	u32 i, vaddr, gpa, errcode;

	for (i = 0; i < lg->stack_pages && !lg->dead; i++) {
		vaddr = lg->esp1 - 1 - i * PAGE_SIZE;
		if (shadow_writable(lg, vaddr) ||
		    !lguest_gva_to_gpa(lg, vaddr, true, &gpa))
			continue;
		errcode = X86_PF_WRITE;
		lguest_demand_page(lg, vaddr, &errcode, &gpa);
	}
}
