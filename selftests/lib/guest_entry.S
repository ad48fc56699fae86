/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Guest-side entry code of the lguest tiny guests: the start of the guest,
 * the trap stubs that turn a trap into a C call, and the switch to CPL 3
 * and back.  Runs in the guest at CPL 1, at this program's link addresses
 * (see include/lguest_util.h).
 */
#include "lguest_util.h"

	.section lg_guest_text, "ax"

/*
 * The first guest instruction.  lg_vm_create() sets esp to the top of the
 * guest stack and ebx to guest_code.
 */
	.globl lg_guest_start
	.type lg_guest_start, @function
lg_guest_start:
	cld
	xorl	%ebp, %ebp
	call	*%ebx
	call	guest_code_returned
1:	jmp	1b
	.size lg_guest_start, . - lg_guest_start

/*
 * One stub per vector, LG_TRAP_STUB_SIZE bytes apart, so the gate for
 * vector n points at lg_trap_stubs + n * LG_TRAP_STUB_SIZE.  Each pushes
 * a zero error code if the CPU (and so the host) does not push one, then
 * its vector, so all frames have the layout of struct lg_trap_frame.
 */
	.p2align 4
	.globl lg_trap_stubs
lg_trap_stubs:
	vector = 0
	.rept LG_NR_VECTORS
	/* Also fails the build if a stub outgrew its slot. */
	.org lg_trap_stubs + vector * LG_TRAP_STUB_SIZE, 0xcc
	.if vector == 8 || (vector >= 10 && vector <= 14) || vector == 17
	.else
	pushl	$0
	.endif
	pushl	$vector
	jmp	lg_trap_common
	vector = vector + 1
	.endr

/*
 * Save the registers, call guest_trap_dispatch(frame) with kernel data
 * segments (a trap from CPL 3 arrives with the user's, or null ones), and
 * return through the possibly modified frame.
 */
lg_trap_common:
	pushl	%ds
	pushl	%es
	pushal
	movl	$LG_KERNEL_DS, %eax
	movl	%eax, %ds
	movl	%eax, %es
	cld
	pushl	%esp
	call	guest_trap_dispatch
	addl	$4, %esp
	popal
	popl	%es
	popl	%ds
	addl	$8, %esp		/* vector and error code */
	iret

/*
 * uint32_t guest_enter_user(uint32_t eip, uint32_t esp)
 * uint32_t guest_enter_user_ss(uint32_t eip, uint32_t esp, uint32_t ss)
 *
 * Run code at CPL 3 (cs LG_USER_CS, ss LG_USER_DS or @ss) from @eip with
 * stack @esp.  There is no way back but a trap: its handler calls
 * guest_return_from_user(frame, value), which makes the handler's iret
 * land in lg_user_return, and this function returns value.  Traps from
 * CPL 3 run on the stack set with LHCALL_SET_STACK, so this stack is
 * untouched meanwhile.
 */
	.globl guest_enter_user
	.type guest_enter_user, @function
guest_enter_user:
	pushl	$LG_USER_DS
	pushl	12(%esp)		/* esp */
	pushl	12(%esp)		/* eip */
	call	guest_enter_user_ss
	addl	$12, %esp
	ret
	.size guest_enter_user, . - guest_enter_user

	.globl guest_enter_user_ss
	.type guest_enter_user_ss, @function
guest_enter_user_ss:
	pushl	%ebp
	pushl	%ebx
	pushl	%esi
	pushl	%edi
	movl	%esp, lg_user_saved_esp
	movl	20(%esp), %eax
	movl	24(%esp), %ecx
	pushl	28(%esp)
	pushl	%ecx
	pushfl
	pushl	$LG_USER_CS
	pushl	%eax
	iret
	.size guest_enter_user_ss, . - guest_enter_user_ss

/*
 * Reached by iret at CPL 1 from a trap handler, on the trap stack, with
 * the return value in eax.
 */
	.globl lg_user_return
lg_user_return:
	movl	$LG_KERNEL_DS, %ecx
	movl	%ecx, %ds
	movl	%ecx, %es
	movl	lg_user_saved_esp, %esp
	popl	%edi
	popl	%esi
	popl	%ebx
	popl	%ebp
	ret

	.section lg_guest_data, "aw"
	.p2align 2
lg_user_saved_esp:
	.long	0

	.section .note.GNU-stack, "", @progbits
