// SPDX-License-Identifier: GPL-2.0-only
/*
 * The x86 half of the host: the switcher's pages, and one trip into the
 * guest and back.
 *
 * A guest's journey into the guest begins in lguest_arch_run_guest(): we
 * copy the guest's descriptor tables and registers into this CPU's
 * switcher pages, point the guest's page tables at those pages, and "lcall"
 * into switch_to_guest (switcher_32.S).  It returns when the guest traps,
 * with the trap number in the register frame, and the run loop in core.c
 * decides what to do about it.
 */
#include <linux/cpu.h>
#include <linux/cpuhotplug.h>
#include <linux/gfp.h>
#include <linux/nospec.h>
#include <linux/mm.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <asm/debugreg.h>
#include <asm/desc.h>
#include <asm/fpu/api.h>
#include <asm/fpu/types.h>
#include <asm/msr.h>
#include <asm/nospec-branch.h>
#include <linux/pgtable.h>
#include <asm/special_insns.h>
#include <asm/tlbflush.h>

#include "../lg.h"
#include "switcher.h"

/* The page of switcher code, and each possible CPU's two pages. */
static struct page **lg_switcher_pages;
static unsigned int lg_nr_switcher_pages;

/* For each CPU, the page-table page guests see the switcher through. */
static pte_t *lg_guest_switcher_pte[SWITCHER_MAX_CPUS];

/* The host's EFER, which lg_host_state_off() needs on every entry. */
static u64 lg_host_efer;

/* The far pointer "lcall" jumps through: the switcher's entry. */
static struct {
	unsigned long offset;
	unsigned short segment;
} lguest_entry;

static struct lguest_pages *lg_cpu_pages(unsigned int cpu)
{
	return (struct lguest_pages *)(LGUEST_SWITCHER_ADDR +
		PAGE_SIZE * (SWITCHER_TEXT_PAGES + 2 * cpu));
}

/* Where a stub in the switcher's code ends up in the switcher's mapping. */
static unsigned long lg_switcher_addr(unsigned long offset)
{
	return LGUEST_SWITCHER_ADDR + offset;
}

/*
 * The guests' view of the switcher: the code read-only, this CPU's register
 * page writable, its state page read-only, other CPUs' pages not at all.
 * Ring 1 is "supervisor" to the MMU, so these protections (with CR0.WP,
 * which Linux always sets) are what keeps a guest kernel out.
 */
static void lg_fill_guest_pte(unsigned int cpu)
{
	pte_t *pte = lg_guest_switcher_pte[cpu];
	unsigned int i = SWITCHER_TEXT_PAGES + 2 * cpu;
	unsigned long ro = _PAGE_PRESENT | _PAGE_ACCESSED;

	pte[0] = pfn_pte(page_to_pfn(lg_switcher_pages[0]), __pgprot(ro));
	pte[i] = pfn_pte(page_to_pfn(lg_switcher_pages[i]),
			 __pgprot(ro | _PAGE_RW | _PAGE_DIRTY));
	pte[i + 1] = pfn_pte(page_to_pfn(lg_switcher_pages[i + 1]),
			     __pgprot(ro));
}

/* Is the page-table page at physical address pa a CPU's view of the switcher? */
bool lguest_arch_is_switcher_table(unsigned long pa)
{
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(lg_guest_switcher_pte); i++)
		if (lg_guest_switcher_pte[i] &&
		    __pa(lg_guest_switcher_pte[i]) == pa)
			return true;
	return false;
}

static void lg_free_switcher_pages(void)
{
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(lg_guest_switcher_pte); i++)
		free_page((unsigned long)lg_guest_switcher_pte[i]);
	for (i = 0; i < lg_nr_switcher_pages; i++)
		if (lg_switcher_pages[i])
			__free_page(lg_switcher_pages[i]);
	kfree(lg_switcher_pages);
}

static int lg_alloc_switcher_pages(void)
{
	unsigned int i;

	lg_nr_switcher_pages = SWITCHER_TEXT_PAGES + 2 * nr_cpu_ids;
	lg_switcher_pages = kcalloc(lg_nr_switcher_pages,
				    sizeof(*lg_switcher_pages), GFP_KERNEL);
	if (!lg_switcher_pages)
		return -ENOMEM;
	for (i = 0; i < lg_nr_switcher_pages; i++) {
		lg_switcher_pages[i] = alloc_page(GFP_KERNEL | __GFP_ZERO);
		if (!lg_switcher_pages[i])
			return -ENOMEM;
	}
	for (i = 0; i < nr_cpu_ids; i++) {
		lg_guest_switcher_pte[i] = (pte_t *)get_zeroed_page(GFP_KERNEL);
		if (!lg_guest_switcher_pte[i])
			return -ENOMEM;
		lg_fill_guest_pte(i);
	}
	return 0;
}

/*
 * Map the switcher into the host, in the page-directory slot that arch/x86
 * keeps free for it when CONFIG_LGUEST is set: code read-only, the CPUs'
 * pages writable.
 */
static int lg_map_switcher(void)
{
	pgprot_t *prot;
	unsigned int i;
	int err;

	prot = kcalloc(lg_nr_switcher_pages, sizeof(*prot), GFP_KERNEL);
	if (!prot)
		return -ENOMEM;
	for (i = 0; i < lg_nr_switcher_pages; i++)
		prot[i] = i < SWITCHER_TEXT_PAGES ? PAGE_KERNEL_ROX : PAGE_KERNEL;
	err = lguest_map_switcher(lg_switcher_pages, prot, lg_nr_switcher_pages);
	kfree(prot);
	return err;
}

/* The switcher's flat ring 0 segments. */
static const struct desc_struct lg_flat_cs = GDT_ENTRY_INIT(DESC_CODE32, 0,
							    0xfffff);
static const struct desc_struct lg_flat_ds = GDT_ENTRY_INIT(DESC_DATA32, 0,
							    0xfffff);

/*
 * The switcher runs on its own code segment, LGUEST_CS, which both the
 * host's GDT and the guest's have (Linux leaves entries 10 and 11
 * unused): whichever GDT is loaded when a trap inside the switcher
 * returns with iret (an NMI, or the stale segment fixup in
 * switcher_32.S), the %cs it reloads is the switcher's.  The host's own
 * __KERNEL_CS would not do: in the guest's GDT that entry is the guest's.
 */
static void lg_set_gdt_entries(const struct desc_struct *cs,
			       const struct desc_struct *ds)
{
	struct desc_ptr gdt;

	/*
	 * This CPU's GDT (writable on 32-bit) is where sgdt says.  The host
	 * runs on the bare CPU (lguest does not nest), so native accessors.
	 */
	native_store_gdt(&gdt);
	native_write_gdt_entry((struct desc_struct *)gdt.address,
			       GDT_ENTRY_LGUEST_CS, cs, DESCTYPE_S);
	native_write_gdt_entry((struct desc_struct *)gdt.address,
			       GDT_ENTRY_LGUEST_DS, ds, DESCTYPE_S);
}

/* Every CPU that comes online, and those online at load, get them. */
static int lg_cpu_online(unsigned int cpu)
{
	lg_set_gdt_entries(&lg_flat_cs, &lg_flat_ds);
	return 0;
}

static int lg_cpu_offline(unsigned int cpu)
{
	static const struct desc_struct none;

	lg_set_gdt_entries(&none, &none);
	return 0;
}

static enum cpuhp_state lg_cpuhp_state;

int __init lguest_arch_host_init(void)
{
	int err;

	BUILD_BUG_ON(offsetof(struct lguest_pages, regs) != LGUEST_PAGES_regs);
	BUILD_BUG_ON(sizeof(struct lg_frame) != LG_FRAME_WORDS * 4);
	BUILD_BUG_ON(offsetof(struct lg_frame, trapnum) != LG_FRAME_trapnum);
	BUILD_BUG_ON(offsetof(struct lg_frame, errcode) != LG_FRAME_errcode);
	BUILD_BUG_ON(PAGE_SIZE + offsetof(struct lguest_ro_state, host_cr3) !=
		     LGUEST_PAGES_host_cr3);
	BUILD_BUG_ON(PAGE_SIZE + offsetof(struct lguest_ro_state, host_sp) !=
		     LGUEST_PAGES_host_sp);
	BUILD_BUG_ON(PAGE_SIZE + offsetof(struct lguest_ro_state, host_cr4) !=
		     LGUEST_PAGES_host_cr4);
	BUILD_BUG_ON(PAGE_SIZE + offsetof(struct lguest_ro_state, host_ldt) !=
		     LGUEST_PAGES_host_ldt);
	BUILD_BUG_ON(PAGE_SIZE + offsetof(struct lguest_ro_state,
					  host_idt_desc) !=
		     LGUEST_PAGES_host_idt_desc);
	BUILD_BUG_ON(PAGE_SIZE + offsetof(struct lguest_ro_state,
					  host_gdt_desc) !=
		     LGUEST_PAGES_host_gdt_desc);
	BUILD_BUG_ON(PAGE_SIZE + offsetof(struct lguest_ro_state,
					  guest_idt_desc) !=
		     LGUEST_PAGES_guest_idt_desc);
	BUILD_BUG_ON(PAGE_SIZE + offsetof(struct lguest_ro_state,
					  guest_gdt_desc) !=
		     LGUEST_PAGES_guest_gdt_desc);
	BUILD_BUG_ON(PAGE_SIZE + offsetof(struct lguest_ro_state, guest_ldt) !=
		     LGUEST_PAGES_guest_ldt);
	BUILD_BUG_ON(PAGE_SIZE + offsetof(struct lguest_ro_state, guest_dr) !=
		     LGUEST_PAGES_guest_dr);
	BUILD_BUG_ON(PAGE_SIZE + offsetof(struct lguest_ro_state, guest_dr7) !=
		     LGUEST_PAGES_guest_dr7);
	BUILD_BUG_ON(PAGE_SIZE + offsetof(struct lguest_ro_state, host_traps) !=
		     LGUEST_PAGES_host_traps);
	BUILD_BUG_ON(PAGE_SIZE + offsetof(struct lguest_ro_state,
					  clear_cpu_buf) !=
		     LGUEST_PAGES_clear_cpu_buf);
	BUILD_BUG_ON(PAGE_SIZE + offsetof(struct lguest_ro_state, verw_sel) !=
		     LGUEST_PAGES_verw_sel);
	BUILD_BUG_ON(PAGE_SIZE + offsetof(struct lguest_ro_state, espfix) !=
		     LGUEST_PAGES_espfix);
	BUILD_BUG_ON(sizeof(struct lguest_pages) != 2 * PAGE_SIZE);
	BUILD_BUG_ON(SWITCHER_LDT_PAGES != LG_LDT_PAGES);

	/* The guest's FPU state is kept with fxsave. */
	if (!boot_cpu_has(X86_FEATURE_FXSR))
		return -ENODEV;
	if (rdmsrl_safe(MSR_EFER, &lg_host_efer))
		lg_host_efer = 0;
	if (end_switcher_text - start_switcher_text >
	    SWITCHER_TEXT_PAGES * PAGE_SIZE)
		return -E2BIG;
	if (nr_cpu_ids > SWITCHER_MAX_CPUS) {
		pr_err("lguest: too many CPUs for the switcher (%u)\n",
		       nr_cpu_ids);
		return -E2BIG;
	}

	err = lg_alloc_switcher_pages();
	if (err)
		goto free;
	memcpy(page_address(lg_switcher_pages[0]), start_switcher_text,
	       end_switcher_text - start_switcher_text);

	err = lg_map_switcher();
	if (err)
		goto unmap;
	/* AP_ONLINE_DYN runs on the CPU, before it takes any task. */
	err = cpuhp_setup_state(CPUHP_AP_ONLINE_DYN, "lguest:online",
				lg_cpu_online, lg_cpu_offline);
	if (err < 0)
		goto unmap;
	lg_cpuhp_state = err;

	lguest_entry.offset = lg_switcher_addr(switch_to_guest -
					       start_switcher_text);
	lguest_entry.segment = LGUEST_CS;
	return 0;

unmap:
	lguest_arch_host_fini();
	return err;
free:
	lg_free_switcher_pages();
	return err;
}

void lguest_arch_host_fini(void)
{
	if (lg_cpuhp_state > 0)
		cpuhp_remove_state(lg_cpuhp_state);
	lg_cpuhp_state = 0;
	lguest_unmap_switcher(lg_nr_switcher_pages);
	lg_free_switcher_pages();
}

/*
 * The guest's LDT, if it has one, in the window at the end of the slot: in
 * this CPU's view of the slot for guests, read-only (the descriptors are
 * all "accessed" already, so the CPU never writes them).  Every entry is
 * rewritten, whoever ran here last: a guest must not find another's LDT
 * pages behind its own.
 */
static void lg_map_ldt(struct lguest *lg, unsigned int cpu)
{
	pte_t *pte = lg_guest_switcher_pte[cpu] + PTRS_PER_PTE -
		     SWITCHER_LDT_PAGES;
	pgprot_t ro = __pgprot(_PAGE_PRESENT | _PAGE_ACCESSED);
	unsigned int i, pages;

	pages = DIV_ROUND_UP(lg->ldt_entries, LG_LDT_ENTRIES_PER_PAGE);
	for (i = 0; i < SWITCHER_LDT_PAGES; i++)
		pte[i] = i < pages ? mk_pte(lg->ldt_pages[i], ro) : __pte(0);
}

/* The switcher's own flat ring 0 segments, the guest's TSS and LDT. */
static void lg_setup_gdt(struct lguest *lg, struct lguest_ro_state *state)
{
	memcpy(state->guest_gdt, lg->gdt, sizeof(state->guest_gdt));
	state->guest_gdt[GDT_ENTRY_LGUEST_CS] = lg_flat_cs;
	state->guest_gdt[GDT_ENTRY_LGUEST_DS] = lg_flat_ds;
	set_tssldt_descriptor(&state->guest_gdt[GDT_ENTRY_TSS],
			      (unsigned long)&state->guest_tss, DESC_TSS,
			      sizeof(state->guest_tss) - 1);
	state->guest_ldt = 0;
	if (lg->ldt_entries) {
		set_tssldt_descriptor(&state->guest_gdt[GDT_ENTRY_LDT],
				      LGUEST_LDT_ADDR, DESC_LDT,
				      lg->ldt_entries * LDT_ENTRY_SIZE - 1);
		state->guest_ldt = GDT_ENTRY_LDT * 8;
	}
	state->guest_gdt_desc.d.size = GDT_SIZE - 1;
	state->guest_gdt_desc.d.address = (unsigned long)state->guest_gdt;
}

/*
 * An iret to a 16-bit stack segment loads only the low half of %esp: the
 * high half stays what the switcher's was, an address in its slot, and the
 * guest's own high half is lost (native Linux has the same problem, and
 * its espfix).  So for such a guest the switcher pops the registers and
 * irets through a ring 0 stack segment of its own, whose offsets have the
 * guest's high half: at the iret %esp is the guest's high half with a low
 * half of 0 (so the frame's 20 bytes carry into nothing), and the
 * segment's base makes that the linear address of the frame.
 */
static void lg_setup_espfix(struct lguest *lg, struct lguest_pages *pages)
{
	struct lguest_ro_state *state = &pages->state;
	u32 frame = (unsigned long)&pages->regs.eip;
	u32 iret_esp = lg->regs.esp & 0xffff0000;
	struct desc_struct d = GDT_ENTRY_INIT(DESC_DATA32, frame - iret_esp,
					      0xfffff);

	state->espfix.ss = 0;
	if (!lguest_segment_is_16bit(lg, lg->regs.ss))
		return;
	state->guest_gdt[GDT_ENTRY_LGUEST_ESPFIX] = d;
	state->espfix.esp = iret_esp - offsetof(struct lg_frame, eip);
	state->espfix.ss = LGUEST_ESPFIX_SS;
}

/*
 * Which privilege level may raise each vector with "int $n"?  Hardware
 * interrupts must be told apart from a guest's "int", so almost every gate
 * is ring 0 only (a guest "int" then becomes a #GP): only the hypercall
 * (ring 1), and breakpoint, overflow and the system call vector if the
 * guest opened them (ring 3) are reachable by software.
 */
static unsigned int lg_gate_dpl(struct lguest *lg, unsigned int vector)
{
	if (vector == LGUEST_TRAP_ENTRY)
		return 1;
	if (vector == 3 || vector == 4 || vector == IA32_SYSCALL_VECTOR)
		return lg->idt[vector].bits.p ? lg->idt[vector].bits.dpl : 0;
	return 0;
}

/*
 * May the system call vector go straight to the guest kernel?  That needs
 * a guest gate open to ring 3 (lguest_load_idt_entry() made sure it leads
 * into LGUEST_KERNEL_CS) and a kernel stack for the CPU to switch to (the
 * TSS's ss1:esp1, from LHCALL_SET_STACK, which keeps its pages mapped).
 * Nothing else is safe to send past the host: hardware interrupts and
 * faults need it (shadow paging, the page-fault address, the emulation of
 * interrupts), and a gate on any other vector that software can raise
 * would let guest user space fake them.
 */
static bool lg_direct_syscall(struct lguest *lg)
{
	const gate_desc *gate = &lg->idt[IA32_SYSCALL_VECTOR];

	return gate->bits.p && gate->bits.dpl == 3 &&
	       gate->segment == LGUEST_KERNEL_CS &&
	       lg->ss1 == LGUEST_KERNEL_DS && lg->stack_pages;
}

/*
 * Every gate is rebuilt on every entry, from this guest's state alone: the
 * pages are this CPU's, not this guest's, and the guest that ran here last
 * may have been another one, with another system call gate.
 */
static void lg_setup_idt(struct lguest *lg, struct lguest_ro_state *state)
{
	unsigned int v;

	for (v = 0; v < IDT_ENTRIES; v++)
		pack_gate(&state->guest_idt[v], GATE_INTERRUPT,
			  lg_switcher_addr(lguest_stub_offsets[v]),
			  lg_gate_dpl(lg, v), 0, LGUEST_CS);
	/*
	 * A direct system call: guest user space to its kernel's handler in
	 * ring 1, on the TSS's ring 1 stack, without an exit.  A trap gate,
	 * whatever the guest asked for: an interrupt gate would clear the
	 * real IF, which ring 1 cannot set again, and host interrupts must
	 * keep preempting the guest kernel.  Its handler clears its own
	 * virtual IF if it wants it off (see "Direct traps" in switcher.rst).
	 */
	if (lg_direct_syscall(lg))
		pack_gate(&state->guest_idt[IA32_SYSCALL_VECTOR], GATE_TRAP,
			  gate_offset(&lg->idt[IA32_SYSCALL_VECTOR]), 3, 0,
			  LGUEST_KERNEL_CS);
	state->guest_idt_desc.d.size = IDT_ENTRIES * sizeof(gate_desc) - 1;
	state->guest_idt_desc.d.address = (unsigned long)state->guest_idt;
}

/*
 * The guest's TSS: a trap from the guest lands at the end of the register
 * page, on the switcher's data segment; the guest kernel's stack is in the
 * ring 1 slot, where the CPU finds it for a direct system call (rewritten
 * on every entry, like the IDT: the last guest here may have had another);
 * and the I/O bitmap lies past the limit, so "in" and "out" always fault.
 */
static void lg_setup_tss(struct lguest *lg, struct lguest_pages *pages)
{
	struct x86_hw_tss *tss = &pages->state.guest_tss;

	memset(tss, 0, sizeof(*tss));
	tss->sp0 = (unsigned long)(&pages->regs + 1);
	tss->ss0 = LGUEST_DS;
	tss->sp1 = lg->esp1;
	tss->ss1 = lg->ss1;
	tss->io_bitmap_base = sizeof(*tss);
}

static void lg_regs_to_frame(const struct lguest_regs *r, struct lg_frame *f)
{
	f->eax = r->eax;
	f->ebx = r->ebx;
	f->ecx = r->ecx;
	f->edx = r->edx;
	f->esi = r->esi;
	f->edi = r->edi;
	f->ebp = r->ebp;
	f->gs = r->gs;
	f->fs = r->fs;
	f->ds = r->ds;
	f->es = r->es;
	f->eip = r->eip;
	f->cs = r->cs;
	/* The guest always runs with interrupts on and no I/O privilege. */
	f->eflags = (r->eflags & LGUEST_EFLAGS_SETTABLE) | X86_EFLAGS_FIXED |
		    X86_EFLAGS_IF;
	f->esp = r->esp;
	f->ss = r->ss;
}

static void lg_frame_to_regs(const struct lg_frame *f, struct lguest_regs *r)
{
	r->eax = f->eax;
	r->ebx = f->ebx;
	r->ecx = f->ecx;
	r->edx = f->edx;
	r->esi = f->esi;
	r->edi = f->edi;
	r->ebp = f->ebp;
	r->gs = f->gs & 0xffff;
	r->fs = f->fs & 0xffff;
	r->ds = f->ds & 0xffff;
	r->es = f->es & 0xffff;
	r->eip = f->eip;
	r->cs = f->cs & 0xffff;
	r->eflags = (f->eflags & LGUEST_EFLAGS_SETTABLE) | X86_EFLAGS_FIXED;
	r->esp = f->esp;
	r->ss = f->ss & 0xffff;
	r->trapnum = f->trapnum;
	r->errcode = f->errcode;
}

/*
 * A host interrupt arrived while the guest ran: the switcher brought us
 * back with it acknowledged but unhandled.  Call the host's own handler as
 * if the interrupt had come now: push an interrupt frame (flags, %cs,
 * return address) and call the IDT entry, whose iret returns here.
 */
static void lg_do_host_irq(unsigned int vector)
{
	struct desc_ptr idt;
	gate_desc *gate;

	store_idt(&idt);
	gate = (gate_desc *)idt.address + vector;
	/* CALL_NOSPEC: a retpoline where the host uses them. */
	asm volatile("pushfl\n\t"
		     "pushl %[cs]\n\t"
		     CALL_NOSPEC
		     : ASM_CALL_CONSTRAINT
		     : [thunk_target] "r" (gate_offset(gate)),
		       [cs] "i" (__KERNEL_CS)
		     : "memory", "cc");
}

static bool lg_is_host_vector(unsigned int vector)
{
	return vector == X86_TRAP_NMI || vector == X86_TRAP_MC ||
	       (vector >= FIRST_EXTERNAL_VECTOR && vector < IDT_ENTRIES &&
		vector != IA32_SYSCALL_VECTOR);
}

/*
 * Host state the guest must not run with, saved by lg_host_state_off() and
 * put back by lg_host_state_on().
 */
struct lg_host_msrs {
	u64 sysenter_cs;
	u64 efer;
	u64 pebs_enable;
	unsigned long debugctl;
};

/*
 * SYSENTER would take guest user space straight to ring 0 with the
 * guest's page tables, and so would SYSCALL on CPUs that have it in
 * 32-bit mode (AMD's, with EFER.SCE): both are turned off, whether or not
 * CPUID admits to them (a hypervisor below us may hide the bit and not
 * the instruction).  PEBS and branch trace store write their records
 * through the host's linear addresses, which mean guest memory (or
 * nothing) while the guest's page tables are loaded; DEBUGCTL also holds
 * branch single-stepping (BTF) and LBR recording, the host's business.
 *
 * This runs on every entry, so it reads no MSR it need not: Linux keeps
 * SYSENTER_CS in its TSS's ss1 (only on CPUs that report SEP: the others
 * are asked), and EFER does not change after boot (read once, as KVM
 * does, by lguest_arch_host_init()).
 */
static void lg_host_state_off(struct lg_host_msrs *h)
{
	if (boot_cpu_has(X86_FEATURE_SEP))
		h->sysenter_cs = this_cpu_read(cpu_tss_rw.x86_tss.ss1);
	else if (rdmsrl_safe(MSR_IA32_SYSENTER_CS, &h->sysenter_cs))
		h->sysenter_cs = 0;
	if (h->sysenter_cs)
		wrmsrl(MSR_IA32_SYSENTER_CS, 0);
	h->efer = lg_host_efer;
	if (h->efer & EFER_SCE)
		wrmsrl(MSR_EFER, h->efer & ~EFER_SCE);
	h->pebs_enable = 0;
	if (boot_cpu_has(X86_FEATURE_DS) &&
	    !rdmsrl_safe(MSR_IA32_PEBS_ENABLE, &h->pebs_enable) &&
	    h->pebs_enable)
		wrmsrl(MSR_IA32_PEBS_ENABLE, 0);
	h->debugctl = get_debugctlmsr();
	if (h->debugctl)
		update_debugctlmsr(0);
}

static void lg_host_state_on(const struct lg_host_msrs *h)
{
	if (h->debugctl)
		update_debugctlmsr(h->debugctl);
	if (h->pebs_enable)
		wrmsrl(MSR_IA32_PEBS_ENABLE, h->pebs_enable);
	if (h->efer & EFER_SCE)
		wrmsrl(MSR_EFER, h->efer);
	if (h->sysenter_cs)
		wrmsrl(MSR_IA32_SYSENTER_CS, h->sysenter_cs);
}

/*
 * One trip into the guest.  Called with interrupts off: the switcher pages
 * are this CPU's.  The FPU holds the guest's state only while the guest
 * runs.
 */
static void lg_switch(struct lguest *lg, struct lguest_pages *pages,
		      unsigned long cr3)
{
	unsigned long clobber1, clobber2;
	struct lg_host_msrs host;

	lg_host_state_off(&host);
	kernel_fpu_begin();
	asm volatile("fxrstor %0" : : "m" (lg->fpu));
	asm volatile("pushfl; lcall *%[entry]"
		     : "=a" (clobber1), "=b" (clobber2)
		     : "0" (pages), "1" (cr3), [entry] "m" (lguest_entry)
		     : "memory", "cc", "ecx", "edx", "esi", "edi");
	asm volatile("fxsave %0" : "=m" (lg->fpu));
	kernel_fpu_end();
	lg_host_state_on(&host);
}

/*
 * NMIs and machine checks that came while the switcher ran (it noted them
 * in the state page, see defer_to_host in switcher_32.S): the host's
 * handlers get them now, as if they had just arrived.
 */
static void lg_do_deferred_host_traps(struct lguest_pages *pages)
{
	u32 traps = pages->state.host_traps;

	if (!traps)
		return;
	pages->state.host_traps = 0;
	if (traps & BIT(X86_TRAP_NMI))
		lg_do_host_irq(X86_TRAP_NMI);
	if (traps & BIT(X86_TRAP_MC))
		lg_do_host_irq(X86_TRAP_MC);
}

/*
 * The guest took a debug exception (a single step, say): DR6 says which
 * kind, the guest's handler needs to know, and the processor never clears
 * DR6 itself.  Take it, and reset it as the host's own #DB handler does.
 */
static u32 lg_take_dr6(void)
{
	unsigned long dr6;

	get_debugreg(dr6, 6);
	set_debugreg(DR6_RESERVED, 6);
	return dr6;
}

/*
 * LHCALL_SET_DEBUGREG: the guest's own breakpoints.  The switcher loads
 * them once it runs on the guest's page tables, and clears DR7 before it
 * leaves them, so they only ever match guest addresses; the one thing
 * mapped in both is the switcher's slot, which no breakpoint may cover.
 * DR7's general detect bit would fault the switcher's own loads of the
 * registers, and I/O breakpoints need CR4.DE: neither is the guest's.
 */
#define LG_DR7_VALID	0xffff07ffu	/* enables, LE/GE, bit 10, RW/LEN */
#define LG_DR_RW_IO	0x2		/* the RW field of an I/O breakpoint */

void lguest_arch_set_debugreg(struct lguest *lg, u32 regno, u32 value)
{
	unsigned int i;

	if (regno < ARRAY_SIZE(lg->dr)) {
		if (value > LGUEST_SWITCHER_ADDR - sizeof(u64)) {
			kill_guest(lg, "breakpoint at %#x: the switcher's", value);
			return;
		}
		lg->dr[array_index_nospec(regno, ARRAY_SIZE(lg->dr))] = value;
		return;
	}
	if (regno != 7) {
		kill_guest(lg, "bad debug register %u", regno);
		return;
	}
	if (value & ~LG_DR7_VALID) {
		kill_guest(lg, "bad DR7 %#x", value);
		return;
	}
	for (i = 0; i < ARRAY_SIZE(lg->dr); i++) {
		if (((value >> (DR_CONTROL_SHIFT + i * DR_CONTROL_SIZE)) & 3) ==
		    LG_DR_RW_IO) {
			kill_guest(lg, "I/O breakpoint in DR7 %#x", value);
			return;
		}
	}
	lg->dr7 = value & (DR_LOCAL_ENABLE_MASK | DR_GLOBAL_ENABLE_MASK) ?
		  value : 0;
}

/*
 * The register page is the guest's to write while it runs, all of it: the
 * bytes below its trap frame must not carry anything from one guest to the
 * next one this CPU runs.
 */
static DEFINE_PER_CPU(u64, lg_last_guest);

static void lg_clear_register_page(struct lguest *lg,
				   struct lguest_pages *pages)
{
	if (__this_cpu_read(lg_last_guest) == lg->id)
		return;
	memset(pages->spare, 0, sizeof(pages->spare));
	__this_cpu_write(lg_last_guest, lg->id);
}

/*
 * Run the guest until it traps.  On return lg->regs holds its registers,
 * trap number and error code (and cr2 for a page fault), and any host
 * interrupt that stopped it has been handled.  Returns false, without
 * running the guest, if an interrupt was raised since the run loop last
 * delivered one: the loop goes round again to deliver it.
 */
bool lguest_arch_run_guest(struct lguest *lg)
{
	struct lguest_pages *pages;
	unsigned int cpu;
	u32 trap;

	cpu = get_cpu();
	pages = lg_cpu_pages(cpu);
	lg_clear_register_page(lg, pages);
	lg_setup_gdt(lg, &pages->state);
	lg_setup_espfix(lg, pages);
	lg_map_ldt(lg, cpu);
	lg_setup_idt(lg, &pages->state);
	lg_setup_tss(lg, pages);
	lg_regs_to_frame(&lg->regs, &pages->regs);
	pages->regs.trapnum = 0;
	pages->regs.errcode = 0;
	memcpy(pages->state.guest_dr, lg->dr, sizeof(lg->dr));
	pages->state.guest_dr7 = lg->dr7;
	pages->state.clear_cpu_buf =
		cpu_feature_enabled(X86_FEATURE_CLEAR_CPU_BUF) ||
		cpu_feature_enabled(X86_FEATURE_CLEAR_CPU_BUF_VM);
	pages->state.verw_sel = LGUEST_DS;

	local_irq_disable();
	/*
	 * lguest_raise_irq() sets irq_raised, then kicks us if we run: with
	 * interrupts off, its IPI would wait and stop the guest at once, but
	 * an interrupt raised before that is only seen here.
	 */
	if (READ_ONCE(lg->irq_raised)) {
		local_irq_enable();
		put_cpu();
		return false;
	}
	/* The host's own breakpoints must not fire in the guest. */
	if (hw_breakpoint_active())
		set_debugreg(0, 7);
	lg_switch(lg, pages, lguest_shadow_cr3(lg, lg_guest_switcher_pte[cpu]));
	trap = pages->regs.trapnum;
	if (trap == X86_TRAP_PF)
		lg->regs.cr2 = read_cr2();
	if (trap == X86_TRAP_DB)
		lg->dr6 = lg_take_dr6();
	/* DR7 is off (the switcher saw to the guest's): the host's again. */
	if (hw_breakpoint_active())
		hw_breakpoint_restore();
	if (lg_is_host_vector(trap))
		lg_do_host_irq(trap);
	lg_do_deferred_host_traps(pages);
	local_irq_enable();

	lg_frame_to_regs(&pages->regs, &lg->regs);
	put_cpu();
	return true;
}

/*
 * A new guest's FPU starts as after a reset (fninit, default MXCSR, zero
 * registers), not with whatever the launcher's registers held.
 */
void lguest_arch_setup(struct lguest *lg)
{
	memset(&lg->fpu, 0, sizeof(lg->fpu));
	lg->fpu.cwd = 0x37f;
	lg->fpu.mxcsr = MXCSR_DEFAULT;
}

/* Does the guest have a usable handler for this vector? */
bool lguest_arch_idt_present(struct lguest *lg, unsigned int vector)
{
	return vector < IDT_ENTRIES && lg->idt[vector].bits.p;
}

bool lguest_arch_is_host_vector(unsigned int vector)
{
	return lg_is_host_vector(vector);
}
