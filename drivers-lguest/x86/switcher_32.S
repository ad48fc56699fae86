/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The switcher: the few instructions that move a CPU from the host to a
 * guest and back.
 *
 * This code is copied to the switcher's first page, which is mapped at
 * the same address in the host and in every guest's page tables, so it
 * keeps running while the page tables change under it.  It must therefore
 * be position independent: it only jumps within itself, and finds its data
 * (struct lguest_pages, this CPU's two pages) from %eax on the way in and
 * from the stack pointer on the way out.  A trap inside the switcher itself
 * (an NMI, say) cannot trust either, and finds them from the IDT register:
 * whenever one of our stubs runs, the IDT is ours, in this CPU's pages.
 *
 * The host enters with "pushf; lcall *lguest_entry", which leaves an iret
 * frame on the host stack, with interrupts off, %eax pointing at this CPU's
 * struct lguest_pages and %ebx holding the guest's (shadow) page directory.
 * The guest leaves through one of the 256 stubs below, which the guest's
 * IDT points at: every trap, fault or interrupt brings us back here.
 */
#include <linux/linkage.h>
#include <asm/nospec-branch.h>
#include <asm/page_types.h>
#include <asm/processor-flags.h>
#include <asm/segment.h>
#include <asm/trapnr.h>
#include "switcher.h"

.text
.align PAGE_SIZE
SYM_CODE_START(start_switcher_text)

SYM_INNER_LABEL(switch_to_guest, SYM_L_GLOBAL)
	/* Save what the host needs back: its segments and stack. */
	pushl	%ss
	pushl	%es
	pushl	%ds
	pushl	%gs
	pushl	%fs
	pushl	%ebp
	movl	%esp, LGUEST_PAGES_host_sp(%eax)

	/* The host's descriptor tables, and page tables. */
	sgdt	LGUEST_PAGES_host_gdt_desc(%eax)
	sidt	LGUEST_PAGES_host_idt_desc(%eax)
	movl	%cr3, %edx
	movl	%edx, LGUEST_PAGES_host_cr3(%eax)

	sldt	LGUEST_PAGES_host_ldt(%eax)

	/*
	 * Load the guest's IDT, then its GDT, while still on the host stack:
	 * from here on an NMI lands in our stub, which notes it for the host
	 * and returns to us (see trap_in_switcher).  Its LGUEST_CS is in the
	 * host's GDT too, for the moment between.
	 */
	lidt	LGUEST_PAGES_guest_idt_desc(%eax)
	lgdt	LGUEST_PAGES_guest_gdt_desc(%eax)

	/*
	 * The guest's LDT, or none: never the host's, which may be the
	 * launcher's, full of its own gates.
	 */
	lldt	LGUEST_PAGES_guest_ldt(%eax)

	/* The guest's TSS: its esp0 is the end of our register page. */
	movl	$(GDT_ENTRY_TSS * 8), %edx
	ltr	%dx

	/*
	 * ltr marked the host's TSS descriptor busy, and loading a busy TSS
	 * faults: clear the bit in the host's GDT, so we can reload it on
	 * the way back.
	 */
	movl	(LGUEST_PAGES_host_gdt_desc + 2)(%eax), %edx
	andb	$~0x02, (GDT_ENTRY_TSS * 8 + 5)(%edx)

	/*
	 * Host kernel mappings are global, and survive a cr3 load: turn
	 * PGE off (which flushes them) while the guest runs on this CPU, or
	 * the guest could reach host memory through the TLB.  And the rest
	 * of LGUEST_CR4_OFF (see switcher.h).
	 */
	movl	%cr4, %edx
	movl	%edx, LGUEST_PAGES_host_cr4(%eax)
	andl	$~LGUEST_CR4_OFF, %edx
	movl	%edx, %cr4

	/*
	 * Move to the register page, which both page tables map, then to
	 * the guest's page tables: we are mapped there at the same address.
	 */
	leal	LGUEST_PAGES_regs(%eax), %esp
	movl	%ebx, %cr3

	/*
	 * The guest's own breakpoints, if it has any, only now: they name
	 * guest addresses, and nothing is left to touch but our pages.
	 */
	movl	LGUEST_PAGES_guest_dr7(%eax), %ebx
	testl	%ebx, %ebx
	jz	1f
	movl	LGUEST_PAGES_guest_dr(%eax), %edx
	movl	%edx, %db0
	movl	(LGUEST_PAGES_guest_dr + 4)(%eax), %edx
	movl	%edx, %db1
	movl	(LGUEST_PAGES_guest_dr + 8)(%eax), %edx
	movl	%edx, %db2
	movl	(LGUEST_PAGES_guest_dr + 12)(%eax), %edx
	movl	%edx, %db3
	movl	%ebx, %db7
1:
	/*
	 * Nothing of the host's is left to load: clear the CPU's buffers,
	 * if the host does that for its own user space or guests (MDS and
	 * friends).  VERW's memory operand must be a selector.
	 */
	cmpl	$0, LGUEST_PAGES_clear_cpu_buf(%eax)
	je	2f
	verw	%ss:LGUEST_PAGES_verw_sel(%eax)
2:
	/*
	 * A 16-bit stack segment keeps the upper half of our %esp through
	 * the iret: pop from the same place through a segment whose offsets
	 * have the guest's upper half instead (lss: both at once).
	 */
	cmpl	$0, (LGUEST_PAGES_espfix + 4)(%eax)
	je	3f
	lss	LGUEST_PAGES_espfix(%eax), %esp
3:
	/* Pop the guest's registers off the register page and go. */
	popl	%eax
	popl	%ebx
	popl	%ecx
	popl	%edx
	popl	%esi
	popl	%edi
	popl	%ebp
.Lpop_segments:
	popl	%gs
	popl	%fs
	popl	%ds
	popl	%es
.Lpop_segments_end:
	addl	$8, %esp		/* trapnum and errcode */
	iret

/*
 * Every way out of the guest arrives here, on the register page (the
 * guest's TSS esp0), with the vector and an error code pushed.
 */
SYM_INNER_LABEL(switch_to_host, SYM_L_LOCAL)
	/*
	 * A trap with ring 0 in the saved %cs was taken inside the switcher:
	 * see trap_in_switcher below.
	 */
	testb	$3, 12(%esp)
	jz	trap_in_switcher

	pushl	%es
	pushl	%ds
	pushl	%fs
	pushl	%gs
	pushl	%ebp
	pushl	%edi
	pushl	%esi
	pushl	%edx
	pushl	%ecx
	pushl	%ebx
	pushl	%eax

back_to_host:
	/* The register page is page aligned: it starts struct lguest_pages. */
	movl	%esp, %eax
	andl	$PAGE_MASK, %eax

	movl	$LGUEST_DS, %edx
	movl	%edx, %ds
	movl	%edx, %es

	/* The guest's breakpoints end with its page tables. */
	cmpl	$0, LGUEST_PAGES_guest_dr7(%eax)
	je	1f
	xorl	%edx, %edx
	movl	%edx, %db7
1:
	/* Host page tables, global pages, descriptor tables and TSS. */
	movl	LGUEST_PAGES_host_cr3(%eax), %edx
	movl	%edx, %cr3
	movl	LGUEST_PAGES_host_cr4(%eax), %edx
	movl	%edx, %cr4
	lgdt	LGUEST_PAGES_host_gdt_desc(%eax)
	/* Host stack before host IDT: an NMI must not run on this page. */
	movl	LGUEST_PAGES_host_sp(%eax), %esp
	lidt	LGUEST_PAGES_host_idt_desc(%eax)
	movl	$(GDT_ENTRY_TSS * 8), %edx
	ltr	%dx
	lldt	LGUEST_PAGES_host_ldt(%eax)

	/*
	 * The guest may have filled the return stack buffer with its own
	 * addresses: overwrite it, before the host's next "ret" can
	 * speculate into one of them.
	 */
	__FILL_RETURN_BUFFER(%edx, RSB_CLEAR_LOOPS)

	/* And the host segments, then back to where lcall came from. */
	popl	%ebp
	popl	%fs
	popl	%gs
	popl	%ds
	popl	%es
	popl	%ss
	iret

/*
 * This CPU's struct lguest_pages, into \reg, from the IDT register: only
 * %ss and the stack are used (the data segments may be the guest's, and
 * %ss the espfix segment, whose offsets are not linear addresses).
 */
.macro PAGES_FROM_IDT reg
	subl	$8, %esp
	sidt	2(%esp)
	movl	4(%esp), \reg
	addl	$8, %esp
	andl	$PAGE_MASK, \reg
	subl	$PAGE_SIZE, \reg
.endm

/*
 * A trap inside the switcher: the frame is vector, error code, %eip, %cs
 * (LGUEST_CS), %eflags, on whatever stack we were on (the host's, or the
 * register page).  The guest's IDT is loaded, but perhaps still the host's
 * GDT and page tables, or already the guest's.
 */
trap_in_switcher:
	cmpl	$X86_TRAP_NMI, (%esp)
	je	defer_to_host
	cmpl	$X86_TRAP_MC, (%esp)
	je	defer_to_host
	cmpl	$X86_TRAP_DB, (%esp)
	je	resume_switch
	cmpl	$X86_TRAP_NP, (%esp)
	je	stale_segment
	cmpl	$X86_TRAP_GP, (%esp)
	je	stale_segment
fail_entry:
	/*
	 * We faulted on the way into the guest.  The guest's registers on
	 * the register page are lost: record why and where, and leave.
	 */
	movl	(%esp), %edx
	orl	$LGUEST_TRAP_IN_SWITCHER, %edx
	movl	8(%esp), %ecx
	PAGES_FROM_IDT %eax
	/* A flat %ss again (it may be the espfix one): no trap in between. */
	movl	$LGUEST_DS, %ebx
	movl	%ebx, %ss
	leal	LGUEST_PAGES_regs(%eax), %esp
	movl	%edx, LG_FRAME_trapnum(%esp)
	movl	%ecx, LG_FRAME_errcode(%esp)
	jmp	back_to_host

/*
 * An NMI or a machine check is the host's, but its handlers cannot run
 * here, halfway between two worlds.  Note it in this CPU's state page, for
 * lguest_arch_run_guest() to hand to them once we are back (at the latest
 * at the next host interrupt that stops the guest), and carry on.  The
 * state page is read-only where the guest's page tables map it, and ring 1
 * is "supervisor" too: that is what keeps the guest from forging the note.
 * So the one write is made with CR0.WP off, which only ring 0 can do.
 */
defer_to_host:
	pushl	%ds
	pushl	%eax
	pushl	%ecx
	pushl	%edx
	movl	$LGUEST_DS, %edx		/* %ds may be the guest's */
	movl	%edx, %ds
	PAGES_FROM_IDT %eax
	movl	16(%esp), %ecx			/* the vector */
	movl	%cr0, %edx
	andl	$~X86_CR0_WP, %edx
	movl	%edx, %cr0
	btsl	%ecx, LGUEST_PAGES_host_traps(%eax)
	orl	$X86_CR0_WP, %edx
	movl	%edx, %cr0
	popl	%edx
	popl	%ecx
	popl	%eax
	popl	%ds
	/* Fall through. */

/*
 * Or just carry on: a debug trap here can only be one of the guest's own
 * breakpoints, delayed by a "mov ss" to the first instruction of a stub
 * (the host's breakpoints are off while a guest runs).  The guest sees
 * no more of it than a native kernel shows its user space.
 */
resume_switch:
	addl	$8, %esp		/* vector and error code */
	iret

/*
 * A data segment register the guest left loaded can go stale while it is
 * out: its LDT entry removed by the guest kernel, say.  The CPU would have
 * kept using the old descriptor until the register was next loaded, and
 * Linux then loads 0 instead (loadsegment()'s fixup), so that is what we
 * do: if the fault was one of the pops above, pop 0 instead.  The frame
 * here: vector, error code, %eip, %cs, %eflags, then the value the pop
 * wanted.  We are position independent, so the faulting %eip is compared
 * with where this copy of the code runs.
 */
stale_segment:
	pushl	%edx
	call	1f
1:	popl	%edx
	negl	%edx
	addl	12(%esp), %edx
	subl	$(.Lpop_segments - 1b), %edx
	cmpl	$(.Lpop_segments_end - .Lpop_segments), %edx
	popl	%edx
	jae	fail_entry
	movl	$0, 20(%esp)
	addl	$8, %esp		/* vector and error code */
	iret

/*
 * The 256 stubs.  The CPU pushes an error code for some exceptions; the
 * others push a zero, so the frame always looks the same.  Their
 * addresses, relative to start_switcher_text, go in lguest_default_idt.
 */
.macro TRAP_STUB vector
	.pushsection .rodata
	.long	1f - start_switcher_text
	.popsection
1:	.if (\vector <> 8) && (\vector < 10 || \vector > 14) && (\vector <> 17)
	pushl	$0
	.endif
	pushl	$\vector
	jmp	switch_to_host
.endm

	.pushsection .rodata
	.align 4
SYM_DATA_START(lguest_stub_offsets)
	.popsection
vector = 0
.rept 256
	TRAP_STUB vector
	vector = vector + 1
.endr
	.pushsection .rodata
SYM_DATA_END(lguest_stub_offsets)
	.popsection

SYM_INNER_LABEL(end_switcher_text, SYM_L_GLOBAL)
SYM_CODE_END(start_switcher_text)
