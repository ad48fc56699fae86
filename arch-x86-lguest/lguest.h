/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What the pieces of the lguest guest share.  The host side of every call
 * made here is in drivers/lguest/; the ABI is <asm/lguest_para.h>.
 */
#ifndef _ARCH_X86_LGUEST_LGUEST_H
#define _ARCH_X86_LGUEST_LGUEST_H

/* Offsets into struct lguest_data for the assembly code (checked in boot.c). */
#define LGUEST_DATA_irq_enabled	0
#define LGUEST_DATA_irq_pending	4

#ifndef __ASSEMBLY__
#include <linux/compiler.h>
#include <linux/stringify.h>
#include <linux/types.h>
#include <asm/lguest_para.h>

struct task_struct;

extern struct lguest_data lguest_data;
extern u8 lguest_booted;

/*
 * A hypercall: a software interrupt only ring 1 may raise.  The host
 * answers in %eax, and touches no other register.
 */
static inline unsigned long hcall(unsigned long call, unsigned long arg1,
				  unsigned long arg2, unsigned long arg3,
				  unsigned long arg4)
{
	asm volatile("int $" __stringify(LGUEST_TRAP_ENTRY)
		     : "+a" (call)
		     : "b" (arg1), "c" (arg2), "d" (arg3), "S" (arg4)
		     : "memory");
	return call;
}

/* hcall.c: calls that may be batched in the asynchronous ring */
void lazy_hcall(unsigned long call, unsigned long arg1, unsigned long arg2,
		unsigned long arg3);
void async_hcall(unsigned long call, unsigned long arg1, unsigned long arg2,
		 unsigned long arg3);
void lguest_start_context_switch(struct task_struct *prev);
void lguest_end_context_switch(struct task_struct *next);
void lguest_enter_lazy_mmu(void);
void lguest_leave_lazy_mmu(void);
void lguest_flush_lazy_mmu(void);

/* Called from the callee-save thunks of PV_CALLEE_SAVE_REGS_THUNK(). */
__visible unsigned long lguest_save_fl(void);
__visible void lguest_irq_disable(void);
__visible unsigned long lguest_read_cr2(void);

/* boot.c, mmu.c, irq.c, time.c, console.c */
void __init lguest_init_cpu_ops(void);
void __init lguest_init_mmu_ops(void);
void __init lguest_init_irq_ops(void);
void __init lguest_init_time(void);
void __init lguest_init_console(void);
int lguest_setup_irq(unsigned int irq);

/* boot.c, head_32.S */
asmlinkage void lguest_init(void);
extern const char lguest_noirq_iret[];
void lguest_irq_enable(void);
void lguest_entry_INT80(void);
void lguest_cmpxchg8b_emu(void);

/* arch/x86/lib/cmpxchg8b_emu.S */
void this_cpu_cmpxchg8b_emu(void);
#endif /* __ASSEMBLY__ */
#endif /* _ARCH_X86_LGUEST_LGUEST_H */
