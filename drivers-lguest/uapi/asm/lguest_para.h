/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * The lguest guest ABI: how a guest kernel, running in ring 1, talks to
 * the host.
 *
 * A guest makes a hypercall with "int $LGUEST_TRAP_ENTRY": the call number
 * in %eax, up to four arguments in %ebx, %ecx, %edx and %esi, the result
 * comes back in %eax.  Only the guest kernel can do that: the gate is not
 * open to ring 3.  Calls the host does not handle itself (numbers from
 * LHCALL_LAUNCHER_BASE up) are handed to the launcher as
 * LGUEST_EXIT_HYPERCALL.  Everything else guest and host share lives in
 * one page of guest memory, struct lguest_data, which the guest registers
 * with LHCALL_LGUEST_INIT.  See Documentation/virt/lguest/.
 */
#ifndef _UAPI_ASM_X86_LGUEST_PARA_H
#define _UAPI_ASM_X86_LGUEST_PARA_H

#ifndef __ASSEMBLY__
#include <linux/types.h>
#endif

#define LGUEST_TRAP_ENTRY	0x1F

/* Hypercall numbers, in %eax.  Addresses are guest-physical. */
#define LHCALL_FLUSH_ASYNC	0	/* run the queued asynchronous calls */
#define LHCALL_LGUEST_INIT	1	/* ebx: address of struct lguest_data */
#define LHCALL_SHUTDOWN		2	/* ebx: LGUEST_SHUTDOWN_*, ecx: message */
#define LHCALL_FREE_PGTABLE	3	/* ebx: a page directory being freed */
#define LHCALL_NEW_PGTABLE	4	/* ebx: new cr3, ecx: generation */
#define LHCALL_FLUSH_TLB	5	/* ebx: 1: kernel too, ecx: generation */
#define LHCALL_LOAD_IDT_ENTRY	6	/* ebx: vector, ecx/edx: gate low/high */
#define LHCALL_SET_STACK	7	/* ebx: ss1, ecx: esp1, edx: pages */
#define LHCALL_SET_CLOCKEVENT	9	/* ebx: ns from now, 0 to cancel; ecx: period */
#define LHCALL_HALT		10	/* sleep until an interrupt */
#define LHCALL_SET_IO_BITMAP	12	/* ebx: bitmap address, ecx: bytes */
#define LHCALL_SET_LDT		13	/* ebx: LDT address (virtual), ecx: entries */
#define LHCALL_SET_PTE		14	/* ebx: cr3, ecx: address, edx: generation */
#define LHCALL_SET_PGD		15	/* ebx: cr3, ecx: index of the entry */
#define LHCALL_LOAD_TLS		16	/* ebx: address of 3 descriptors */
#define LHCALL_SET_DEBUGREG	17	/* ebx: 0-3 or 7, ecx: value */
#define LHCALL_LOAD_GDT_ENTRY	18	/* ebx: index, ecx/edx: entry low/high */
#define LHCALL_SEND_INTERRUPTS	19	/* deliver pending interrupts now */
#define LHCALL_NEW_MM		20	/* ebx: new page directory, ecx: generation */

/*
 * LHCALL_SET_STACK gives the guest kernel's stack for traps from its user
 * mode: segment LGUEST_KERNEL_DS, and the @pages pages (1 to
 * LGUEST_STACK_MAX_PAGES, else the guest is killed) whose top is esp1, a
 * guest-virtual address.  The host keeps those pages mapped while the
 * stack is current, so that "int $0x80" from guest user mode can go
 * straight to the guest's handler, with the CPU switching stacks and no
 * exit, when the guest's IDT entry for it has DPL 3.  The handler is then
 * entered as through a trap gate, whatever the entry's type: it must clear
 * lguest_data.irq_enabled itself if it wants interrupts off.  A stack
 * reaching into the memory the host reserves (lguest_data.reserve_mem)
 * can never be used: traps from user mode then kill the guest.
 */
#define LGUEST_STACK_MAX_PAGES	16

/*
 * The generation of a guest that set lguest_data.kernel_address: a number
 * the guest changes whenever it changes an entry below kernel_address of
 * the page directory concerned (the current one, for a flush) in a way
 * that needs a TLB flush; 0 means unknown.  The host keeps its shadow of
 * a directory's user mappings across switches, and checks it against the
 * guest's tables when the directory is loaded again with another
 * generation than the one it was left at.  A guest that gets this wrong
 * only confuses itself.
 */

/*
 * LHCALL_SET_CLOCKEVENT raises interrupt line 0 @ebx nanoseconds from now
 * (0 cancels), and then, if @ecx is not 0, every @ecx nanoseconds after
 * that time until the next LHCALL_SET_CLOCKEVENT: a guest whose tick is
 * periodic, as Linux's is while it is busy, then needs no call per tick.
 * A period below LGUEST_MIN_TIMER_PERIOD_NS kills the guest.
 */
#define LGUEST_MIN_TIMER_PERIOD_NS	1000000

/*
 * LHCALL_NEW_MM says that the guest made a new address space (a fork, an
 * exec) while the current one was loaded: the host may shadow at once,
 * from the guest's new tables, what the current shadow maps, so that a
 * forked child does not fault on every page its parent was using.  It is
 * only a hint, and a good one to queue: the new directory must be valid
 * (as for LHCALL_NEW_PGTABLE), and nothing else is asked of it.
 */

/*
 * LHCALL_SET_LDT gives the guest's local descriptor table: @entries (at
 * most 8192) descriptors at a guest-virtual address, 0 entries for none.
 * The host takes a copy, checked by the rules of LHCALL_LOAD_GDT_ENTRY
 * (a present system descriptor kills the guest; DPL 0 becomes 1; the
 * accessed bit is set), and the CPU uses that copy from the next entry
 * into the guest on: later writes to the guest's table are not seen.
 * The guest loads the LDT with this call alone: its GDT has no LDT
 * descriptor of its own.
 */

/*
 * LHCALL_SET_IO_BITMAP says which I/O ports the guest's current user
 * process may use, as a TSS's I/O bitmap would: @bytes bytes (at most
 * LGUEST_IO_BITMAP_BYTES) at a guest-physical address, a clear bit
 * allowing its port, ports past the end denied; LGUEST_IO_ALL allows
 * every port (iopl(3)), 0 none.  No device is behind any port: an "in"
 * or "out" from user mode to an allowed port gets what a PC with nothing
 * there gives (reads all ones, writes dropped) from the host, without the
 * guest kernel seeing it.  Any other (string instructions included) still
 * raises #GP in the guest.
 */
#define LGUEST_IO_BITMAP_BYTES	8192
#define LGUEST_IO_ALL		0xffffffffu

/* Calls from here up go to the launcher. */
#define LHCALL_LAUNCHER_BASE	0x1000

/*
 * The launcher's console, the guest's boot console and its hvc console.
 * Write: ebx: guest-physical address of the bytes, ecx: how many (at most
 * LGUEST_CONSOLE_MAX); the result is the number written.  Read: the same
 * arguments for a buffer; the result is the number of bytes read, 0 if none
 * is waiting.  The launcher raises LGUEST_IRQ_CONSOLE when input arrives.
 */
#define LHCALL_CONSOLE_WRITE	(LHCALL_LAUNCHER_BASE + 1)
#define LHCALL_CONSOLE_READ	(LHCALL_LAUNCHER_BASE + 2)
#define LGUEST_CONSOLE_MAX	4096

/* Interrupt lines with a fixed meaning. */
#define LGUEST_IRQ_TIMER	0	/* the LHCALL_SET_CLOCKEVENT timer */
#define LGUEST_IRQ_CONSOLE	1	/* console input is waiting */

/*
 * A kernel that can run under lguest says so with an ELF note in its
 * vmlinux: name LGUEST_ELFNOTE_NAME, type LGUEST_ELFNOTE_ENTRY, and a
 * 32-bit descriptor holding the guest-physical address of its lguest entry
 * point.  The launcher loads the PT_LOAD segments at their physical
 * addresses and starts the guest there at ring 1 with:
 *   %esi	guest-physical address of struct boot_params (the "zero page"),
 *		whose e820 table describes guest memory
 *   cr3	a page directory mapping all guest memory both at 0 and at the
 *		kernel's PAGE_OFFSET (0xC0000000), with 4 KiB pages
 * Nothing else can be assumed: no stack, no GDT beyond the host's flat
 * LGUEST_KERNEL_CS/DS, no IDT, interrupts off, lguest_data not registered.
 */
#define LGUEST_ELFNOTE_NAME	"lguest"
#define LGUEST_ELFNOTE_ENTRY	1

/*
 * The asynchronous ring.  In lazy MMU mode the guest queues page-table
 * and TLB calls here instead of trapping for each: it fills hcalls[i] and
 * then sets hcall_status[i] to 0.  The host runs queued calls in order
 * before any other hypercall, and marks each done with
 * LHCALL_STATUS_DONE.  A full ring is emptied with
 * LHCALL_FLUSH_ASYNC.
 */
#define LHCALL_RING_SIZE	64
#define LHCALL_STATUS_DONE	0xFF

/* Interrupt lines, as in <linux/lguest.h>. */
#define LGUEST_DATA_NR_IRQS	64

#ifndef __ASSEMBLY__
struct lguest_hcall {
	__u32 nr;
	__u32 arg1, arg2, arg3, arg4;
};

/**
 * struct lguest_data - the page of guest memory shared with the host
 * @irq_enabled:	the guest's virtual interrupt flag: 0x200 (X86_EFLAGS_IF)
 *			when interrupts are on.  cli and sti are plain writes.
 * @irq_pending:	set by the host when an interrupt waits for
 *			@irq_enabled; a guest turning interrupts on then calls
 *			LHCALL_SEND_INTERRUPTS.
 * @blocked_interrupts:	lines the guest has masked
 * @cr2:		fault address of the last page fault delivered
 * @dr6:		debug status of the last debug exception (#DB)
 *			delivered: the processor's DR6, which says whether it
 *			was a single step or a breakpoint.  The guest reads
 *			and resets its DR6 here.
 * @noirq_iret:		address of the guest's iret instruction: no interrupt
 *			is delivered while the guest's eip is there, so the
 *			guest can restore its interrupt flag and return
 *			atomically
 * @reserve_mem:	set by the host: how many bytes at the top of the
 *			4 GiB address space the guest must leave unused (the
 *			switcher lives there)
 * @tsc_khz:		set by the host: the TSC rate
 * @wallclock_sec:	set by the host: time of day at LHCALL_LGUEST_INIT
 * @wallclock_nsec:	and its nanoseconds
 * @kernel_address:	set by the guest: where its kernel's mappings start.
 *			They are the same in every page directory, like a
 *			TLB's global entries; the host forgets the mappings
 *			below (the non-global ones) when the guest loads
 *			another page directory, as a TLB does.  0: keep them
 *			all, the guest flushes by hypercall
 * @wallclock_tsc:	set by the host: the TSC when it read the time of day
 * @hcall_status:	the asynchronous ring's status bytes
 * @hcalls:		the asynchronous ring's calls
 */
struct lguest_data {
	__u32 irq_enabled;
	__u32 irq_pending;
	__u32 blocked_interrupts[LGUEST_DATA_NR_IRQS / 32];
	__u32 cr2;
	__u32 dr6;
	__u32 noirq_iret;
	__u32 reserve_mem;
	__u32 tsc_khz;
	__s64 wallclock_sec;
	__u32 wallclock_nsec;
	__u32 kernel_address;
	__u64 wallclock_tsc;
	__u8 hcall_status[LHCALL_RING_SIZE];
	struct lguest_hcall hcalls[LHCALL_RING_SIZE];
};
#endif /* __ASSEMBLY__ */

#endif /* _UAPI_ASM_X86_LGUEST_PARA_H */
