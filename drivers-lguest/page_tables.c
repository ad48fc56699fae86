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
#include <linux/nospec.h>
#include <linux/pgtable.h>
#include <linux/sched.h>
#include <linux/sched/mm.h>
#include <linux/slab.h>
#include <asm/trap_pf.h>

#include "lg.h"

/* The page-directory slot of the switcher, and everything above it. */
#define SWITCHER_PGD_INDEX	(LGUEST_SWITCHER_ADDR >> PGDIR_SHIFT)

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
	return page;
}

/*
 * Forget a shadow page table: its entries hold no references (the frame
 * table does), so this is only memory, but there may be a thousand of
 * them in a directory, and the guest says when: let others run.
 */
static void release_pgd(pgd_t *spgd)
{
	if (!(pgd_flags(*spgd) & _PAGE_PRESENT))
		return;
	free_page((unsigned long)__va(pgd_val(*spgd) & PAGE_MASK));
	*spgd = __pgd(0);
	cond_resched();
}

static void flush_pgdir_range(pgd_t *pgdir, unsigned int end)
{
	unsigned int i;

	for (i = 0; i < end; i++)
		release_pgd(&pgdir[i]);
}

static void flush_pgdir(pgd_t *pgdir)
{
	flush_pgdir_range(pgdir, SWITCHER_PGD_INDEX);
}

/* What a TLB flush without the global entries forgets. */
static void flush_pgdir_user(struct lguest *lg, pgd_t *pgdir)
{
	flush_pgdir_range(pgdir, lg->user_pgds ?: SWITCHER_PGD_INDEX);
}

int lguest_init_pagetables(struct lguest *lg)
{
	unsigned int i;
	int err;

	err = init_frames(lg);
	if (err)
		return err;
	for (i = 0; i < LG_NR_PGDIRS; i++) {
		lg->pgdirs[i].pgdir = (pgd_t *)get_zeroed_page(GFP_KERNEL_ACCOUNT);
		if (!lg->pgdirs[i].pgdir)
			return -ENOMEM;
		lg->pgdirs[i].gpgdir = ~0U;	/* not page aligned: unused */
	}
	lg->pgdirs[0].gpgdir = lg->regs.cr3;
	lg->cur_pgdir = 0;
	return 0;
}

void lguest_free_pagetables(struct lguest *lg)
{
	unsigned int i;

	for (i = 0; i < LG_NR_PGDIRS; i++) {
		if (!lg->pgdirs[i].pgdir)
			continue;
		flush_pgdir(lg->pgdirs[i].pgdir);
		free_page((unsigned long)lg->pgdirs[i].pgdir);
		lg->pgdirs[i].pgdir = NULL;
	}
	free_frames(lg);
}

static bool gpgdir_valid(struct lguest *lg, u32 gpgdir)
{
	return IS_ALIGNED(gpgdir, PAGE_SIZE) &&
	       (u64)gpgdir + PAGE_SIZE <= lg->mem_size;
}

static int find_pgdir(struct lguest *lg, u32 gpgdir)
{
	unsigned int i;

	for (i = 0; i < LG_NR_PGDIRS; i++)
		if (lg->pgdirs[i].gpgdir == gpgdir)
			return i;
	return -1;
}

/* From lguest_data.kernel_address; a partly-user slot counts as user. */
void lguest_set_kernel_address(struct lguest *lg, u32 kernel_address)
{
	lg->user_pgds = min_t(u32, DIV_ROUND_UP(kernel_address, PGDIR_SIZE),
			      SWITCHER_PGD_INDEX);
}

/*
 * The guest switched to another page directory.  If we shadow it already,
 * fine; otherwise recycle a shadow (not the current one) for it.
 */
void lguest_new_pagetable(struct lguest *lg, u32 gpgdir)
{
	int i;

	if (!gpgdir_valid(lg, gpgdir)) {
		kill_guest(lg, "bad page directory %#x", gpgdir);
		return;
	}
	i = find_pgdir(lg, gpgdir);
	if (i < 0) {
		i = lg->evict_next;
		if (i == lg->cur_pgdir)
			i = (i + 1) % LG_NR_PGDIRS;
		lg->evict_next = (i + 1) % LG_NR_PGDIRS;
		flush_pgdir(lg->pgdirs[i].pgdir);
		lg->pgdirs[i].gpgdir = gpgdir;
	} else if (i != lg->cur_pgdir && lg->user_pgds) {
		/*
		 * Loading cr3 flushes a TLB's non-global entries, and Linux
		 * counts on it: it does not flush for a process that is not
		 * running.  Our shadow must forget as much.
		 */
		flush_pgdir_range(lg->pgdirs[i].pgdir, lg->user_pgds);
	}
	lg->cur_pgdir = i;
	lg->regs.cr3 = gpgdir;
	lguest_map_stack(lg);
}

/* Before each entry: the launcher may have set another cr3. */
bool lguest_prepare_pagetables(struct lguest *lg)
{
	if (lg->pgdirs[lg->cur_pgdir].gpgdir != lg->regs.cr3)
		lguest_new_pagetable(lg, lg->regs.cr3);
	return !lg->dead;
}

/*
 * The physical address to load into cr3, with the switcher's slot pointing
 * at this CPU's switcher page table.  Called with preemption off.
 */
unsigned long lguest_shadow_cr3(struct lguest *lg, pte_t *switcher_pte)
{
	pgd_t *pgdir = lg->pgdirs[lg->cur_pgdir].pgdir;

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

static pte_t *shadow_pte(struct lguest *lg, u32 vaddr)
{
	pgd_t *spgd = &lg->pgdirs[lg->cur_pgdir].pgdir[pgd_index_of(vaddr)];
	pte_t *ptes;

	if (!(pgd_flags(*spgd) & _PAGE_PRESENT)) {
		ptes = (pte_t *)get_zeroed_page(GFP_KERNEL_ACCOUNT);
		if (!ptes) {
			kill_guest(lg, "out of memory for page tables");
			return NULL;
		}
		*spgd = __pgd(__pa(ptes) | _PAGE_PRESENT | _PAGE_RW |
			      _PAGE_USER | _PAGE_ACCESSED);
	}
	ptes = __va(pgd_val(*spgd) & PAGE_MASK);
	return &ptes[pte_index_of(vaddr)];
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

	spte = shadow_pte(lg, vaddr);
	if (!spte)
		return LG_FAULT_FIXED;
	page = pin_guest_page(lg, array_index_nospec(gpfn, guest_frames(lg)));
	if (!page)
		return LG_FAULT_FIXED;
	*spte = make_shadow(page, gpgd, gpte);
	return LG_FAULT_FIXED;
}

/*
 * LHCALL_FLUSH_TLB: forget the current directory's shadow entries below the
 * guest's kernel_address (all of them if it gave none); with kernel set,
 * every entry of every directory: kernel mappings are in all of them.
 */
void lguest_flush_tlb(struct lguest *lg, u32 kernel)
{
	unsigned int i;

	if (!kernel) {
		flush_pgdir_user(lg, lg->pgdirs[lg->cur_pgdir].pgdir);
	} else {
		for (i = 0; i < LG_NR_PGDIRS; i++)
			flush_pgdir(lg->pgdirs[i].pgdir);
	}
	lguest_map_stack(lg);
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
	flush_pgdir(lg->pgdirs[i].pgdir);
	if (i != lg->cur_pgdir)
		lg->pgdirs[i].gpgdir = ~0U;
	else
		lguest_map_stack(lg);
}

/*
 * LHCALL_SET_PTE: the guest changed one entry; drop its shadows.  Page
 * tables can be shared between page directories (the kernel's are), so
 * drop the shadow in every directory we keep, not just gpgdir's: at worst
 * that costs another fault.
 */
void lguest_set_pte(struct lguest *lg, u32 gpgdir, u32 vaddr, u32 pte)
{
	unsigned int i;
	pgd_t *spgd;
	pte_t *ptes;

	if (pgd_index_of(vaddr) >= SWITCHER_PGD_INDEX) {
		kill_guest(lg, "attempt to map %#x, in the switcher", vaddr);
		return;
	}
	for (i = 0; i < LG_NR_PGDIRS; i++) {
		spgd = &lg->pgdirs[i].pgdir[pgd_index_of(vaddr)];
		if (!(pgd_flags(*spgd) & _PAGE_PRESENT))
			continue;
		ptes = __va(pgd_val(*spgd) & PAGE_MASK);
		ptes[pte_index_of(vaddr)] = __pte(0);
	}
	lguest_map_stack(lg);
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
	for (i = 0; i < LG_NR_PGDIRS; i++)
		if (lg->pgdirs[i].gpgdir == gpgdir)
			release_pgd(&lg->pgdirs[i].pgdir[index]);
	lguest_map_stack(lg);
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
