/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The switcher's memory layout, shared by the C code and switcher_32.S.
 *
 * The switcher occupies one page-directory slot (4 MiB) of kernel address
 * space, LGUEST_SWITCHER_ADDR, at the same address in the host and in every
 * guest.  Its first page is the switcher code.  Then each possible host CPU
 * has two pages, struct lguest_pages: a page the guest may write (the
 * CPU pushes the guest's registers there when it traps) and a page the
 * guest may only read (the GDT, IDT and TSS the guest runs with, and the
 * host state the switcher needs to come back).  The last pages of the
 * slot are a window onto the LDT of the guest running on the CPU: only the
 * guests' view of the slot (one page table per CPU) maps them, read-only,
 * and the host rewrites them for each entry (see lg_map_ldt()).
 */
#ifndef _DRIVERS_LGUEST_X86_SWITCHER_H
#define _DRIVERS_LGUEST_X86_SWITCHER_H

#include <asm/page_types.h>
#include <asm/segment.h>

/* Spare GDT slots 10 and 11 hold the switcher's own flat ring 0 segments. */
#define GDT_ENTRY_LGUEST_CS	10
#define GDT_ENTRY_LGUEST_DS	11
#define LGUEST_CS		(GDT_ENTRY_LGUEST_CS * 8)
#define LGUEST_DS		(GDT_ENTRY_LGUEST_DS * 8)
/*
 * And, in the guest's GDT only, the switcher's espfix stack segment (see
 * lg_setup_espfix()), in the double-fault TSS's slot, which a guest has
 * no use for and cannot write.
 */
#define GDT_ENTRY_LGUEST_ESPFIX	GDT_ENTRY_DOUBLEFAULT_TSS
#define LGUEST_ESPFIX_SS	(GDT_ENTRY_LGUEST_ESPFIX * 8)

#define SWITCHER_TEXT_PAGES	1
#define SWITCHER_LDT_PAGES	16	/* LDT_ENTRIES descriptors */
#define SWITCHER_MAX_CPUS	((PTRS_PER_PTE - SWITCHER_TEXT_PAGES - \
				  SWITCHER_LDT_PAGES) / 2)
#define LGUEST_LDT_ADDR		(LGUEST_SWITCHER_ADDR + PMD_SIZE - \
				 SWITCHER_LDT_PAGES * PAGE_SIZE)

/* Number of registers in struct lg_frame. */
#define LG_FRAME_WORDS		18

/* Offsets into struct lguest_pages, checked by BUILD_BUG_ON()s in core.c. */
#define LGUEST_PAGES_regs		(PAGE_SIZE - LG_FRAME_WORDS * 4)
#define LGUEST_PAGES_host_cr3		(PAGE_SIZE + 0)
#define LGUEST_PAGES_host_sp		(PAGE_SIZE + 4)
#define LGUEST_PAGES_host_cr4		(PAGE_SIZE + 8)
#define LGUEST_PAGES_host_ldt		(PAGE_SIZE + 12)
#define LGUEST_PAGES_host_idt_desc	(PAGE_SIZE + 16)
#define LGUEST_PAGES_host_gdt_desc	(PAGE_SIZE + 24)
#define LGUEST_PAGES_guest_idt_desc	(PAGE_SIZE + 32)
#define LGUEST_PAGES_guest_gdt_desc	(PAGE_SIZE + 40)
#define LGUEST_PAGES_guest_ldt		(PAGE_SIZE + 48)
#define LGUEST_PAGES_guest_dr		(PAGE_SIZE + 52)
#define LGUEST_PAGES_guest_dr7		(PAGE_SIZE + 68)
#define LGUEST_PAGES_host_traps		(PAGE_SIZE + 72)
#define LGUEST_PAGES_clear_cpu_buf	(PAGE_SIZE + 76)
#define LGUEST_PAGES_verw_sel		(PAGE_SIZE + 80)
#define LGUEST_PAGES_espfix		(PAGE_SIZE + 84)

/* Offsets of trapnum and errcode in struct lg_frame. */
#define LG_FRAME_trapnum	(11 * 4)
#define LG_FRAME_errcode	(12 * 4)

/*
 * What the guest's time slice turns off in CR4, and why; every other bit
 * stays as the host has it:
 *  - PGE: host kernel mappings are global and would stay in the TLB, in
 *    reach of the guest;
 *  - OSXSAVE: XSAVE state beyond what fxsave keeps for the guest;
 *  - SMEP, SMAP: they would stop the ring 1 kernel from touching its user
 *    pages, forever, as we cannot tell it why;
 *  - PCE: RDPMC at ring 1 and 3 would read the host's counters;
 *  - TSD: the guest's clock is the TSC, which it must be able to read
 *    whatever the host task that ran before (PR_SET_TSC) set up.
 */
#define LGUEST_CR4_OFF	(X86_CR4_PGE | X86_CR4_OSXSAVE | X86_CR4_SMEP | \
			 X86_CR4_SMAP | X86_CR4_PCE | X86_CR4_TSD)

/* A trap taken inside the switcher itself is reported as this + vector. */
#define LGUEST_TRAP_IN_SWITCHER	0x100

#ifndef __ASSEMBLY__
#include <linux/types.h>
#include <asm/desc_defs.h>
#include <linux/processor.h>

/*
 * The guest's registers as the switcher saves them on a trap: the order is
 * the order of the switcher's pushes, followed by what the CPU pushed.
 */
struct lg_frame {
	u32 eax, ebx, ecx, edx;
	u32 esi, edi, ebp;
	u32 gs, fs, ds, es;
	u32 trapnum, errcode;
	/* Pushed by the CPU: */
	u32 eip, cs, eflags, esp, ss;
};

/* A struct desc_ptr padded to 8 bytes, so the offsets above stay simple. */
struct lg_desc_ptr {
	struct desc_ptr d;
	u16 pad;
} __packed;

struct lguest_ro_state {
	/* Host state, saved by the switcher on the way in. */
	u32 host_cr3;
	u32 host_sp;
	u32 host_cr4;
	u32 host_ldt;
	struct lg_desc_ptr host_idt_desc;
	struct lg_desc_ptr host_gdt_desc;

	/* What the guest runs with, filled in before each entry. */
	struct lg_desc_ptr guest_idt_desc;
	struct lg_desc_ptr guest_gdt_desc;
	u32 guest_ldt;			/* LDT selector, or 0 */
	u32 guest_dr[4];		/* breakpoint addresses */
	u32 guest_dr7;			/* 0: none */
	/*
	 * NMIs and machine checks that arrived inside the switcher, as
	 * 1 << vector: the host's, handed to its handlers on the way back.
	 */
	u32 host_traps;
	/* Clear the CPU's buffers (VERW) on the way in; see switcher.rst. */
	u32 clear_cpu_buf;
	u32 verw_sel;			/* a data segment for VERW */
	/*
	 * For a guest on a 16-bit stack segment: the %esp and %ss the
	 * switcher pops the guest's registers with (lss); %ss 0 for none.
	 */
	struct {
		u32 esp;
		u32 ss;
	} espfix;
	struct x86_hw_tss guest_tss;
	struct desc_struct guest_gdt[GDT_ENTRIES];
	gate_desc guest_idt[IDT_ENTRIES];
};

/* In switcher_32.S: the code to copy, its entry, and its stubs' offsets. */
extern const char start_switcher_text[], end_switcher_text[];
extern const char switch_to_guest[];
extern const u32 lguest_stub_offsets[IDT_ENTRIES];

struct lguest_pages {
	/* Writable by the guest: its trap frame ends at the end of the page. */
	u8 spare[PAGE_SIZE - sizeof(struct lg_frame)];
	struct lg_frame regs;

	/* Read-only for the guest. */
	struct lguest_ro_state state;
	u8 pad[PAGE_SIZE - sizeof(struct lguest_ro_state)];
} __aligned(PAGE_SIZE);

#endif /* __ASSEMBLY__ */
#endif /* _DRIVERS_LGUEST_X86_SWITCHER_H */
