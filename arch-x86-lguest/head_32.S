/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Where an lguest guest starts, and the few things that must be assembly.
 *
 * The launcher found lguest_entry through the ELF note below, loaded our
 * vmlinux at its physical addresses, and started us in ring 1 with %esi
 * pointing at the boot parameters and a page table mapping all of guest
 * memory both at 0 and at PAGE_OFFSET.  We are running at the physical
 * address; everything else (stack, GDT, IDT) is ours to set up.
 */
#include <linux/elfnote.h>
#include <linux/init.h>
#include <linux/linkage.h>
#include <asm/asm.h>
#include <asm/page_types.h>
#include <asm/percpu.h>
#include <asm/processor-flags.h>
#include <asm/segment.h>
#include <asm/setup.h>
#include <asm/lguest_para.h>
#include "lguest.h"

#define pa(X)	((X) - __PAGE_OFFSET)

	ELFNOTE(lguest, LGUEST_ELFNOTE_ENTRY, .long pa(lguest_entry))

	__INIT
SYM_CODE_START(lguest_entry)
	/*
	 * First tell the host where our lguest_data is: it fills in how much
	 * of the top of the address space it keeps, the TSC rate and the time.
	 */
	movl	$LHCALL_LGUEST_INIT, %eax
	movl	$pa(lguest_data), %ebx
	int	$LGUEST_TRAP_ENTRY

	/* The boot stack, at its physical address for now. */
	movl	pa(initial_stack), %ecx
	leal	-__PAGE_OFFSET(%ecx), %esp
	cld

	/* Clear BSS and keep the boot parameters, as startup_32 does. */
	xorl	%eax, %eax
	movl	$pa(__bss_start), %edi
	movl	$pa(__bss_stop), %ecx
	subl	%edi, %ecx
	shrl	$2, %ecx
	rep stosl
	movl	$pa(boot_params), %edi
	movl	$(PARAM_SIZE / 4), %ecx
	rep movsl
	movl	pa(boot_params) + NEW_CL_POINTER, %esi
	testl	%esi, %esi
	jz	1f
	movl	$pa(boot_command_line), %edi
	movl	$(COMMAND_LINE_SIZE / 4), %ecx
	rep movsl
1:
	/*
	 * Build the kernel's own initial page table, exactly as a native
	 * boot does, and switch to it: the host shadows whatever we load.
	 */
	call	mk_early_pgtbl_32
	movl	$LHCALL_NEW_PGTABLE, %eax
	movl	$pa(initial_page_table), %ebx
	int	$LGUEST_TRAP_ENTRY

	/* Jump up to the kernel's virtual addresses. */
	addl	$__PAGE_OFFSET, %esp
	movl	$2f, %eax
	jmp	*%eax
2:
	/* Linux keeps user segments in %ds and %es, per-cpu data in %fs. */
	movl	$(__USER_DS), %eax
	movl	%eax, %ds
	movl	%eax, %es
	movl	$(__KERNEL_DS), %eax
	movl	%eax, %fs
	xorl	%eax, %eax
	movl	%eax, %gs
	call	lguest_init
	/* lguest_init() never returns. */
	ud2
SYM_CODE_END(lguest_entry)

	.text
/*
 * local_irq_enable(): set the virtual interrupt flag; if the host left an
 * interrupt waiting for it, ask for delivery now.  Called through a
 * callee-save thunk, so %eax is all we may touch; we keep even that.
 */
SYM_FUNC_START(lguest_irq_enable)
	movl	$X86_EFLAGS_IF, lguest_data + LGUEST_DATA_irq_enabled
	testl	$-1, lguest_data + LGUEST_DATA_irq_pending
	jnz	.Lsend_interrupts
	RET
.Lsend_interrupts:
	pushl	%eax
	movl	$LHCALL_SEND_INTERRUPTS, %eax
	int	$LGUEST_TRAP_ENTRY
	popl	%eax
	RET
SYM_FUNC_END(lguest_irq_enable)

/*
 * iret, for a kernel in ring 1: the CPU will not restore the interrupt
 * flag for us, so we copy it from the frame into lguest_data ourselves.
 * An interrupt arriving between that store and the iret would run on the
 * wrong stack, so the host delivers none while %eip is lguest_noirq_iret.
 * %ds may already hold the user's segment: the stores go through %ss.
 * entry_32.S gets here through an ALTERNATIVE on X86_FEATURE_LGUEST and
 * owns the exception-table entry for a faulting iret.
 */
SYM_CODE_START(lguest_iret)
	pushl	2*4(%esp)
	andl	$X86_EFLAGS_IF, (%esp)
	popl	%ss:lguest_data + LGUEST_DATA_irq_enabled
SYM_INNER_LABEL(lguest_noirq_iret, SYM_L_GLOBAL)
	iret
SYM_CODE_END(lguest_iret)

/*
 * The system call gate.  The host points int $0x80 from guest user mode
 * straight here, without an exit; the CPU leaves the interrupt flag alone
 * on the way, so clear our virtual one as entry_INT80_32 expects.  An
 * interrupt the host injected before this instruction would be harmless:
 * we are already on this task's kernel stack.
 */
SYM_CODE_START(lguest_entry_INT80)
	movl	$0, %ss:lguest_data + LGUEST_DATA_irq_enabled
	jmp	entry_INT80_32
SYM_CODE_END(lguest_entry_INT80)

/*
 * this_cpu_cmpxchg64() calls this_cpu_cmpxchg8b_emu() until alternatives
 * put the cmpxchg8b instruction in its place, and the emulation disables
 * interrupts with cli, which faults in ring 1.  lguest_init() points it
 * here: the same, with our interrupt flag.
 */
SYM_FUNC_START(lguest_cmpxchg8b_emu)
	pushfl
	pushl	lguest_data + LGUEST_DATA_irq_enabled
	movl	$0, lguest_data + LGUEST_DATA_irq_enabled

	cmpl	__percpu (%esi), %eax
	jne	.Lnot_same
	cmpl	__percpu 4(%esi), %edx
	jne	.Lnot_same

	movl	%ebx, __percpu (%esi)
	movl	%ecx, __percpu 4(%esi)

	popl	lguest_data + LGUEST_DATA_irq_enabled
	orl	$X86_EFLAGS_ZF, (%esp)
	popfl
	RET

.Lnot_same:
	movl	__percpu (%esi), %eax
	movl	__percpu 4(%esi), %edx

	popl	lguest_data + LGUEST_DATA_irq_enabled
	andl	$(~X86_EFLAGS_ZF), (%esp)
	popfl
	RET
SYM_FUNC_END(lguest_cmpxchg8b_emu)
