// SPDX-License-Identifier: GPL-2.0-only
/*
 * The shadow audit (CONFIG_LGUEST_AUDIT): a second opinion on page_tables.c.
 *
 * page_tables.c keeps the shadow page tables' invariants (see "4. Shadow
 * page tables" in Documentation/virt/lguest/switcher.rst) by construction,
 * whatever the guest reports.  This file checks them from the outside,
 * with code that shares nothing with the code it checks, each time the
 * shadows change in bulk: a cr3 load, a flush, a changed entry, a new or
 * freed address space.  A mistake in page_tables.c then shows where it is
 * made, rather than when a guest reads a page that is not its own.
 *
 * For a directory, every slot below the switcher's is empty or links a
 * table of ours with the rights link_table() gives; the switcher's slot
 * is empty or a CPU's switcher table; a kernel slot's shared table is
 * linked only at its own slot; and (checked when everything is) a
 * directory's own tables are linked once, and are none of the shared
 * ones, so each is freed exactly once.
 *
 * For a table, every entry is 0 or present; present, it gives no rights
 * but present, writable, user, accessed and dirty (no global, large page,
 * PAT, PCD or PWT), writable only if dirty, and it maps a page of the
 * frame table: a frame below the guest's memory size, pinned for it.
 * Right after a flush of user mappings, every user entry of the current
 * directory also agrees with the guest's: the same frame, and no right
 * the guest's entries do not give (writable only if the guest's is dirty).
 *
 * The checks cost a walk of tables, so how much is walked depends on the
 * event: at a cr3 load, a flush of user mappings and a new address space,
 * the directory concerned and its own tables (and their agreement with
 * the guest's, at a flush); at a changed entry, that entry and the
 * directory entries above it in every directory; and everything (every
 * directory, every shared kernel table, each private table linked once in
 * all of them) at a kernel flush and when the guest goes.  The first
 * violation warns, with what was being done, and kills the guest.
 */
#include <linux/debugfs.h>
#include <linux/hash.h>
#include <linux/log2.h>
#include <linux/mm.h>
#include <linux/moduleparam.h>
#include <linux/nospec.h>
#include <linux/seq_file.h>
#include <linux/xarray.h>

#include "lg.h"

/* The rights of a shadow entry, and of a directory entry of ours. */
#define AUDIT_PTE_RIGHTS	(_PAGE_PRESENT | _PAGE_RW | _PAGE_USER | \
				 _PAGE_ACCESSED | _PAGE_DIRTY)
#define AUDIT_LINK_RIGHTS	(_PAGE_PRESENT | _PAGE_RW | _PAGE_USER | \
				 _PAGE_ACCESSED)

/*
 * What one audit is doing.  An audit of everything also tracks the tables
 * it has seen, by pfn, with the slot they were linked at (first_sight()).
 */
struct lg_audit_run {
	struct lguest *lg;
	const char *event;
	unsigned int dir, slot;
	bool all;
	struct xarray tables;
};

/* A table of ours, as the key of lg_audit_run.tables. */
static unsigned long table_key(const pte_t *ptes)
{
	return PFN_DOWN(__pa(ptes));
}

static __printf(2, 3) bool audit_failed(struct lg_audit_run *a,
					const char *fmt, ...)
{
	struct va_format vaf;
	va_list args;

	a->lg->audit.failures++;
	va_start(args, fmt);
	vaf.fmt = fmt;
	vaf.va = &args;
	WARN(1, "lguest: shadow audit after %s, directory %u slot %u: %pV\n",
	     a->event, a->dir, a->slot, &vaf);
	va_end(args);
	kill_guest(a->lg, "shadow audit failed after %s", a->event);
	return false;
}

/*
 * The host pfns of the pages the frame table pinned, as an open-addressed
 * hash table of pfn + 1 (0 is an empty slot) twice the size of guest
 * memory: it is never more than half full.  Only touched under lg->lock,
 * so a lookup takes no lock of its own, and costs one or two reads.
 */
static u32 pinned_slot(struct lguest *lg, unsigned long pfn)
{
	u32 i = hash_32(pfn, lg->audit.pinned_bits);

	while (lg->audit.pinned[i] && lg->audit.pinned[i] != pfn + 1)
		i = (i + 1) & (BIT(lg->audit.pinned_bits) - 1);
	return i;
}

/* Is pfn a page the frame table pinned for guest memory? */
static bool guest_frame(struct lguest *lg, unsigned long pfn)
{
	return lg->audit.pinned[pinned_slot(lg, pfn)] == pfn + 1;
}

static bool audit_pte(struct lg_audit_run *a, unsigned int i, pte_t pte)
{
	pteval_t flags = pte_flags(pte);

	if (!pte_val(pte))
		return true;
	if (!(flags & _PAGE_PRESENT) || (flags & ~AUDIT_PTE_RIGHTS))
		return audit_failed(a, "entry %u is %#llx", i,
				    (u64)pte_val(pte));
	if ((flags & _PAGE_RW) && !(flags & _PAGE_DIRTY))
		return audit_failed(a, "entry %u is writable, not dirty", i);
	if (!guest_frame(a->lg, pte_pfn(pte)))
		return audit_failed(a, "entry %u maps pfn %#lx, not guest memory",
				    i, pte_pfn(pte));
	return true;
}

static bool audit_table(struct lg_audit_run *a, const pte_t *ptes)
{
	unsigned int i;

	a->lg->audit.tables++;
	for (i = 0; i < PTRS_PER_PTE; i++)
		if (!audit_pte(a, i, ptes[i]))
			return false;
	cond_resched();
	return true;
}

/*
 * In an audit of everything: note that a table is linked at this slot,
 * and fail if it was seen already.  Without memory, there is no verdict.
 */
static bool first_sight(struct lg_audit_run *a, const pte_t *ptes)
{
	int err = xa_insert(&a->tables, table_key(ptes), xa_mk_value(a->slot),
			    GFP_KERNEL);

	if (err == -EBUSY)
		return audit_failed(a, "links a table linked elsewhere");
	return !err;
}

/* Every shared kernel table, seen first at its own slot. */
static bool audit_kshadows(struct lg_audit_run *a)
{
	pte_t *ptes;

	a->dir = ~0U;
	for (a->slot = 0; a->slot < SWITCHER_PGD_INDEX; a->slot++) {
		ptes = a->lg->kshadows[a->slot].ptes;
		if (ptes && (!first_sight(a, ptes) || !audit_table(a, ptes)))
			return false;
	}
	return true;
}

/* The table a directory entry of ours links, in *ptes (NULL for none). */
static bool linked_table(struct lg_audit_run *a, pgd_t pgd, pte_t **ptes)
{
	*ptes = NULL;
	if (!pgd_val(pgd))
		return true;
	*ptes = __va(pgd_val(pgd) & PAGE_MASK);
	if (pgd_flags(pgd) != AUDIT_LINK_RIGHTS || !virt_addr_valid(*ptes))
		return audit_failed(a, "links %#lx", pgd_val(pgd));
	return true;
}

/*
 * One slot of a directory: its slot's shared table, or a table of its own,
 * checked; in an audit of everything, one that nothing seen so far links.
 */
static bool audit_link(struct lg_audit_run *a, pgd_t pgd)
{
	pte_t *ptes;

	if (!linked_table(a, pgd, &ptes))
		return false;
	if (!ptes || ptes == a->lg->kshadows[a->slot].ptes)
		return true;
	if (a->all && !first_sight(a, ptes))
		return false;
	return audit_table(a, ptes);
}

static bool audit_switcher_slot(struct lg_audit_run *a, const pgd_t *pgdir)
{
	pgd_t pgd = pgdir[SWITCHER_PGD_INDEX];
	unsigned int i;

	a->slot = SWITCHER_PGD_INDEX;
	if (pgd_val(pgd) &&
	    (pgd_flags(pgd) != (_PAGE_PRESENT | _PAGE_RW | _PAGE_ACCESSED) ||
	     !lguest_arch_is_switcher_table(pgd_val(pgd) & PAGE_MASK)))
		return audit_failed(a, "the switcher's slot is %#lx",
				    pgd_val(pgd));
	for (i = SWITCHER_PGD_INDEX + 1; i < PTRS_PER_PGD; i++)
		if (pgd_val(pgdir[i]))
			return audit_failed(a, "slot %u is above the switcher",
					    i);
	return true;
}

static bool audit_dir(struct lg_audit_run *a, unsigned int dir)
{
	const pgd_t *pgdir = a->lg->pgdirs[dir].pgdir;

	a->dir = dir;
	if (!pgdir)		/* lguest_init_pagetables() failed */
		return true;
	for (a->slot = 0; a->slot < SWITCHER_PGD_INDEX; a->slot++)
		if (!audit_link(a, pgdir[a->slot]))
			return false;
	return audit_switcher_slot(a, pgdir);
}

/* Does shadow entry i agree with the guest's entry gpte, under gpgd? */
static bool audit_agree(struct lg_audit_run *a, unsigned int i, pte_t pte,
			u32 gpgd, u32 gpte)
{
	unsigned long frames = a->lg->mem_size >> PAGE_SHIFT;
	u32 gpfn = gpte >> PAGE_SHIFT, rights = gpgd & gpte;
	pteval_t flags = pte_flags(pte);
	struct page *page;

	if (!(gpte & _PAGE_PRESENT) || gpfn >= frames)
		return audit_failed(a, "entry %u kept, guest entry %#x", i, gpte);
	page = a->lg->frames[array_index_nospec(gpfn, frames)];
	if (!page || page_to_pfn(page) != pte_pfn(pte))
		return audit_failed(a, "entry %u maps pfn %#lx, guest entry %#x",
				    i, pte_pfn(pte), gpte);
	if (((flags & _PAGE_USER) && !(rights & _PAGE_USER)) ||
	    ((flags & _PAGE_RW) &&
	     (!(rights & _PAGE_RW) || !(gpte & _PAGE_DIRTY))))
		return audit_failed(a, "entry %u is %#llx, guest entry %#x",
				    i, (u64)pte_val(pte), gpte);
	return true;
}

static bool audit_table_agrees(struct lg_audit_run *a, const pte_t *ptes,
			       u32 gpgd)
{
	u32 gptes[64], i, j;

	for (i = 0; i < PTRS_PER_PTE; i += ARRAY_SIZE(gptes)) {
		for (j = 0; j < ARRAY_SIZE(gptes) && !pte_val(ptes[i + j]); j++)
			;
		if (j == ARRAY_SIZE(gptes))
			continue;
		if (!lg_read(a->lg, (gpgd & PAGE_MASK) + i * 4, gptes,
			     sizeof(gptes)))
			return false;
		for (j = 0; j < ARRAY_SIZE(gptes); j++)
			if (pte_val(ptes[i + j]) &&
			    !audit_agree(a, i + j, ptes[i + j], gpgd, gptes[j]))
				return false;
	}
	return true;
}

/*
 * Right after a flush of user mappings, page_tables.c has compared every
 * present user entry of the current directory with the guest's entry:
 * each must now map the frame the guest's entry names, with no right the
 * guest's entries do not give, writable only if the guest's is dirty.
 * Between flushes the guest may have taken rights away that it has not
 * flushed yet (and Linux does), so this holds only here.
 */
static bool audit_user_agrees(struct lg_audit_run *a)
{
	struct lg_pgdir *d = &a->lg->pgdirs[a->lg->cur_pgdir];
	pte_t *ptes;
	u32 gpgd;

	a->dir = a->lg->cur_pgdir;
	for (a->slot = 0; a->slot < a->lg->user_pgds; a->slot++) {
		if (!linked_table(a, d->pgdir[a->slot], &ptes))
			return false;
		if (!ptes)
			continue;
		if (!lg_read(a->lg, d->gpgdir + a->slot * 4, &gpgd, 4))
			return false;
		if ((gpgd & (_PAGE_PRESENT | _PAGE_PSE)) != _PAGE_PRESENT)
			return audit_failed(a, "kept, guest entry %#x", gpgd);
		if (!audit_table_agrees(a, ptes, gpgd))
			return false;
	}
	return true;
}

static bool audit_begin(struct lg_audit_run *a, struct lguest *lg,
			const char *event, bool all)
{
	if (lg->audit.failures || !lg->audit.pinned || !lg->pgdirs ||
	    !lg->kshadows)
		return false;
	a->lg = lg;
	a->event = event;
	a->all = all;
	lg->audit.runs++;
	return true;
}

/* Directory dir, and its own tables. */
void lguest_audit_dir(struct lguest *lg, unsigned int dir, const char *event)
{
	struct lg_audit_run a;

	if (audit_begin(&a, lg, event, false))
		audit_dir(&a, dir);
}

/*
 * After a flush of user mappings: the current directory, and agreement,
 * unless the guest was killed, which may have cut the resync short.
 */
void lguest_audit_flush(struct lguest *lg, const char *event)
{
	struct lg_audit_run a;

	if (audit_begin(&a, lg, event, false) && audit_dir(&a, lg->cur_pgdir) &&
	    !lg->dead)
		audit_user_agrees(&a);
}

/* Every directory, every table. */
void lguest_audit_all(struct lguest *lg, const char *event)
{
	struct lg_audit_run a;
	unsigned int i;

	if (!audit_begin(&a, lg, event, true))
		return;
	xa_init(&a.tables);
	if (audit_kshadows(&a))
		for (i = 0; i < lg->nr_pgdirs; i++)
			if (!audit_dir(&a, i))
				break;
	xa_destroy(&a.tables);
}

/* The slot of one changed directory entry, in every directory. */
void lguest_audit_slot(struct lguest *lg, unsigned int slot,
		       const char *event)
{
	struct lg_audit_run a;
	pte_t *ptes;

	if (slot >= SWITCHER_PGD_INDEX || !audit_begin(&a, lg, event, false))
		return;
	a.slot = slot;
	for (a.dir = 0; a.dir < lg->nr_pgdirs; a.dir++)
		if (!linked_table(&a, lg->pgdirs[a.dir].pgdir[slot], &ptes))
			break;
}

/* The entry for one changed address, in every directory. */
void lguest_audit_entry(struct lguest *lg, u32 vaddr, const char *event)
{
	unsigned int i = (vaddr >> PAGE_SHIFT) & (PTRS_PER_PTE - 1);
	struct lg_audit_run a;
	pte_t *ptes;

	a.slot = vaddr >> PGDIR_SHIFT;
	if (a.slot >= SWITCHER_PGD_INDEX || !audit_begin(&a, lg, event, false))
		return;
	for (a.dir = 0; a.dir < lg->nr_pgdirs; a.dir++) {
		if (!linked_table(&a, lg->pgdirs[a.dir].pgdir[a.slot], &ptes) ||
		    (ptes && !audit_pte(&a, i, ptes[i])))
			return;
	}
	ptes = lg->kshadows[a.slot].ptes;
	if (ptes)
		audit_pte(&a, i, ptes[i]);
}

/* A frame was pinned: remember it, for guest_frame(). */
void lguest_audit_pin(struct lguest *lg, struct page *page)
{
	unsigned long pfn = page_to_pfn(page);

	if (lg->audit.pinned)
		lg->audit.pinned[pinned_slot(lg, pfn)] = pfn + 1;
}

static int lg_audit_show(struct seq_file *m, void *unused)
{
	struct lguest *lg = m->private;

	seq_printf(m, "runs %lu\ntables %lu\nfailures %lu\n",
		   READ_ONCE(lg->audit.runs), READ_ONCE(lg->audit.tables),
		   READ_ONCE(lg->audit.failures));
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(lg_audit);

/*
 * Whether guests created from now on are audited: a benchmark turns it
 * off, to measure the code rather than the audit.
 */
static bool audit = true;
module_param(audit, bool, 0644);
MODULE_PARM_DESC(audit, "audit the shadow page tables of new guests");

/* Without the memory for the pfn table, the guest runs unaudited. */
void lguest_audit_init(struct lguest *lg)
{
	if (!READ_ONCE(audit))
		return;
	lg->audit.pinned_bits = order_base_2(lg->mem_size >> PAGE_SHIFT) + 1;
	lg->audit.pinned = kvcalloc(BIT(lg->audit.pinned_bits), sizeof(u32),
				    GFP_KERNEL_ACCOUNT);
	debugfs_create_file("audit", 0444, lg->debugfs, lg, &lg_audit_fops);
}

void lguest_audit_free(struct lguest *lg)
{
	kvfree(lg->audit.pinned);
	lg->audit.pinned = NULL;
}
