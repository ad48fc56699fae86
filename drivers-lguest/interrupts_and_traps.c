// SPDX-License-Identifier: GPL-2.0-only
/*
 * Traps: giving the guest's faults back to the guest.
 *
 * Every trap in the guest comes to the host first (the guest's real IDT is
 * the switcher's), but system calls, which can go straight to the guest
 * kernel (see lg_direct_syscall() in x86/core.c).  Most are the guest's
 * business: a guest user program dividing by zero, a guest kernel hitting
 * ud2.  For those we do what the CPU would have done had the guest's own
 * IDT been loaded: push a trap frame on the guest kernel's stack and jump
 * to its handler, in ring 1.
 *
 * The guest registers its handlers with LHCALL_LOAD_IDT_ENTRY and its
 * kernel stack (for traps from its user mode) with LHCALL_SET_STACK.  A
 * trap it has no handler for ends the guest.
 */
#include <linux/ktime.h>
#include <linux/nospec.h>
#include <linux/rcupdate.h>
#include <linux/sched.h>
#include <asm/desc.h>
#include <asm/irq_vectors.h>

#include "lg.h"

/* Exceptions for which the CPU pushes an error code. */
static bool has_errcode(unsigned int vector)
{
	switch (vector) {
	case X86_TRAP_DF:
	case X86_TRAP_TS:
	case X86_TRAP_NP:
	case X86_TRAP_SS:
	case X86_TRAP_GP:
	case X86_TRAP_PF:
	case X86_TRAP_AC:
		return true;
	}
	return false;
}

/* Push a word on the guest's stack, through the guest's page tables. */
static bool push_guest(struct lguest *lg, u32 *esp, u32 val)
{
	u32 gpa;

	*esp -= 4;
	if (!lguest_gva_to_gpa(lg, *esp, true, &gpa)) {
		kill_guest(lg, "trap frame at %#x: stack not mapped", *esp);
		return false;
	}
	return lg_write(lg, gpa, &val, 4);
}

/*
 * The guest's interrupt flag, as the CPU would push it.  The guest's iret
 * (at lguest_data.noirq_iret) has already set the flag from the frame it
 * returns through: natively the flag only changes once an iret is done,
 * so a fault on the iret itself (a bad segment in a sigreturn frame) is
 * taken with interrupts still off.
 */
static u32 guest_irq_flag(struct lguest *lg)
{
	u32 irq_enabled = 0, noirq_iret = 0;

	if (!lg->lguest_data)
		return 0;
	lg_read(lg, lg_data_addr(lg, irq_enabled), &irq_enabled, 4);
	lg_read(lg, lg_data_addr(lg, noirq_iret), &noirq_iret, 4);
	if (noirq_iret && lg->regs.eip == noirq_iret &&
	    (lg->regs.cs & SEGMENT_RPL_MASK) != USER_RPL)
		return 0;
	return irq_enabled & X86_EFLAGS_IF;
}

static void guest_irq_off(struct lguest *lg)
{
	u32 off = 0;

	if (lg->lguest_data)
		lg_write(lg, lg_data_addr(lg, irq_enabled), &off, 4);
}

/* Push the frame the CPU would have pushed, on the stack it would use. */
static bool push_trap_frame(struct lguest *lg, unsigned int vector, u32 *esp)
{
	struct lguest_regs *r = &lg->regs;
	bool from_user = (r->cs & SEGMENT_RPL_MASK) == USER_RPL;
	u32 eflags = (r->eflags & ~X86_EFLAGS_IF) | guest_irq_flag(lg);

	*esp = r->esp;
	if (from_user) {
		if (!lg->ss1) {
			kill_guest(lg, "trap %u from user mode with no kernel stack",
				   vector);
			return false;
		}
		*esp = lg->esp1;
		if (!push_guest(lg, esp, r->ss) || !push_guest(lg, esp, r->esp))
			return false;
	}
	if (!push_guest(lg, esp, eflags) || !push_guest(lg, esp, r->cs) ||
	    !push_guest(lg, esp, r->eip))
		return false;
	if (has_errcode(vector) && !push_guest(lg, esp, r->errcode))
		return false;
	return true;
}

/* Send the guest to its handler for vector, as the CPU would have. */
static void lg_enter_handler(struct lguest *lg, unsigned int vector)
{
	struct lguest_regs *r = &lg->regs;
	gate_desc *gate = &lg->idt[vector];
	u32 esp;

	if (!push_trap_frame(lg, vector, &esp))
		return;
	if ((r->cs & SEGMENT_RPL_MASK) == USER_RPL)
		r->ss = lg->ss1;
	r->esp = esp;
	r->cs = LGUEST_KERNEL_CS;
	r->eip = gate_offset(gate);
	r->eflags &= ~(X86_EFLAGS_TF | X86_EFLAGS_NT | X86_EFLAGS_RF);
	if (gate->bits.type == GATE_INTERRUPT)
		guest_irq_off(lg);
}

void lguest_reflect_trap(struct lguest *lg, unsigned int vector)
{
	struct lguest_regs *r = &lg->regs;

	if (!lguest_arch_idt_present(lg, vector)) {
		kill_guest(lg, "unhandled trap %u at %#x (error code %#x)",
			   vector, r->eip, r->errcode);
		return;
	}
	if (vector == X86_TRAP_PF && lg->lguest_data)
		lg_write(lg, lg_data_addr(lg, cr2), &r->cr2, 4);
	if (vector == X86_TRAP_DB && lg->lguest_data)
		lg_write(lg, lg_data_addr(lg, dr6), &lg->dr6, 4);
	lg_enter_handler(lg, vector);
}

/*
 * LHCALL_LOAD_IDT_ENTRY.  Only interrupt and trap gates into the guest
 * kernel's code segment are accepted; the switcher builds the gates the CPU
 * really uses, so a guest cannot point the CPU anywhere.  A zero entry
 * removes a handler.
 */
void lguest_load_idt_entry(struct lguest *lg, u32 vector, u32 lo, u32 hi)
{
	gate_desc gate;

	if (vector >= IDT_ENTRIES) {
		kill_guest(lg, "bad IDT vector %u", vector);
		return;
	}
	vector = array_index_nospec(vector, IDT_ENTRIES);
	memcpy(&gate, &lo, 4);
	memcpy((u8 *)&gate + 4, &hi, 4);
	if (!gate.bits.p) {
		memset(&lg->idt[vector], 0, sizeof(gate));
		return;
	}
	if ((gate.bits.type != GATE_INTERRUPT && gate.bits.type != GATE_TRAP) ||
	    gate.segment != LGUEST_KERNEL_CS) {
		kill_guest(lg, "bad IDT entry %u: %08x %08x", vector, hi, lo);
		return;
	}
	lg->idt[vector] = gate;
}

/*
 * LHCALL_SET_STACK: where traps from guest user mode put their frames, the
 * guest kernel's stack: @pages pages ending at @esp (guest-virtual).  The
 * stack segment must be the guest kernel's.
 *
 * It is also the ring 1 stack of the guest's TSS, which the CPU switches to
 * by itself for a system call that goes straight to the guest kernel (see
 * lg_direct_syscall() in x86/core.c).  So page_tables.c keeps its pages
 * mapped in the shadow, or the CPU's push of each trap frame would fault.
 * A stack the guest's tables do not map (yet) is not an error: a trap that
 * needs it finds out.  Nor is a stack reaching into the switcher's slot or
 * wrapping around 0, which the guest can never map; but the CPU never gets
 * such a stack (@stack_pages stays 0, so the system call vector keeps
 * exiting), and a trap from user mode kills the guest when the frame cannot
 * be pushed, as before.
 */
void lguest_set_stack(struct lguest *lg, u32 ss, u32 esp, u32 pages)
{
	if (ss != LGUEST_KERNEL_DS) {
		kill_guest(lg, "bad stack segment %#x", ss);
		return;
	}
	if (pages < 1 || pages > LGUEST_STACK_MAX_PAGES) {
		kill_guest(lg, "bad number of stack pages %u", pages);
		return;
	}
	lg->ss1 = ss;
	lg->esp1 = esp;
	if (esp <= LGUEST_SWITCHER_ADDR && esp >= pages * PAGE_SIZE)
		lg->stack_pages = pages;
	else
		lg->stack_pages = 0;
	lguest_map_stack(lg);
}

/*
 * Port I/O from guest user space.
 *
 * A guest process its kernel has given ports (ioperm(), iopl()) may use
 * "in" and "out" on them.  The TSS the guest runs with has no I/O bitmap,
 * so every such instruction traps here as a #GP; the guest kernel has told
 * us which ports its current process may use (LHCALL_SET_IO_BITMAP), as a
 * native kernel tells its TSS.  No device is behind any port: we do what a
 * PC with nothing there does, reads give all ones and writes vanish, and
 * step past the instruction.  Anything else is the guest kernel's #GP.
 */
void lguest_set_io_bitmap(struct lguest *lg, u32 gpa, u32 bytes)
{
	if (bytes != LGUEST_IO_ALL &&
	    (bytes > LGUEST_IO_BITMAP_BYTES ||
	     (bytes && (u64)gpa + bytes > lg->mem_size))) {
		kill_guest(lg, "bad I/O bitmap %#x (%u bytes)", gpa, bytes);
		return;
	}
	lg->io_bitmap = gpa;
	lg->io_bitmap_bytes = bytes;
}

/* Are ports [port, port + size) all clear in the bitmap? */
static bool lg_ports_allowed(struct lguest *lg, u32 port, u32 size)
{
	u32 first = port / 8, last = (port + size - 1) / 8;
	u8 bits[2] = { 0, 0 };

	if (lg->io_bitmap_bytes == LGUEST_IO_ALL)
		return true;
	if (last >= lg->io_bitmap_bytes ||
	    !lg_read(lg, lg->io_bitmap + first, bits, last - first + 1))
		return false;
	return !(((bits[0] | bits[1] << 8) >> (port % 8)) & (BIT(size) - 1));
}

/* A byte of the instruction at the guest's %eip, or -1. */
static int lg_insn_byte(struct lguest *lg, unsigned int i)
{
	u32 gpa;
	u8 b;

	if (!lguest_gva_to_gpa(lg, lg->regs.eip + i, false, &gpa) ||
	    !lg_read(lg, gpa, &b, 1))
		return -1;
	return b;
}

bool lguest_emulate_port_io(struct lguest *lg)
{
	struct lguest_regs *r = &lg->regs;
	unsigned int len = 0, size = 4;
	int op;
	u32 port;

	/* Flat 32-bit user code only: that is all we decode. */
	if (!lg->io_bitmap_bytes || r->cs != __USER_CS ||
	    get_desc_base(&lg->gdt[GDT_ENTRY_DEFAULT_USER_CS]) ||
	    !lg->gdt[GDT_ENTRY_DEFAULT_USER_CS].d)
		return false;
	for (;;) {
		op = lg_insn_byte(lg, len++);
		if (op == 0x66)
			size = 2;
		else if (op != 0xf2 && op != 0xf3 && op != 0xf0)
			break;
		if (len >= 4)
			return false;
	}
	switch (op) {
	case 0xe4 ... 0xe7:	/* in/out with the port in the instruction */
		port = lg_insn_byte(lg, len++);
		if ((int)port < 0)
			return false;
		break;
	case 0xec ... 0xef:	/* in/out with the port in %dx */
		port = r->edx & 0xffff;
		break;
	default:
		return false;
	}
	if (!(op & 1))
		size = 1;
	if (!lg_ports_allowed(lg, port, size))
		return false;
	if (!(op & 2))		/* in */
		r->eax |= size == 4 ? ~0u : BIT(8 * size) - 1;
	r->eip += len;
	return true;
}

/*
 * RDMSR and WRMSR from the guest kernel.  A guest has no MSRs: its
 * paravirt MSR operations read 0 and drop writes.  But Linux also has a
 * few raw ones, which a ring 1 kernel cannot execute: the microcode
 * revision that early_init_intel() reads on every Intel CPU from family 6
 * up, for one.  Rather than pretend to be an old CPU and have the guest
 * misjudge its own vulnerabilities, the host gives the raw instructions
 * the same meaning as the paravirt ones.  From guest user space they stay
 * a #GP, as natively.
 */
bool lguest_emulate_msr(struct lguest *lg)
{
	struct lguest_regs *r = &lg->regs;

	if ((r->cs & SEGMENT_RPL_MASK) != 1 || lg_insn_byte(lg, 0) != 0x0f)
		return false;
	switch (lg_insn_byte(lg, 1)) {
	case 0x32:		/* rdmsr */
		r->eax = 0;
		r->edx = 0;
		break;
	case 0x30:		/* wrmsr */
		break;
	default:
		return false;
	}
	r->eip += 2;
	return true;
}

/*
 * Interrupts.
 *
 * Interrupt line N is vector FIRST_EXTERNAL_VECTOR + N in the guest.  A
 * line is raised by the launcher (LGUEST_IRQ, from any thread) or by the
 * guest's timer, and is delivered just before the guest next runs, if the
 * guest can take it: it has a handler, has not masked the line, and its
 * virtual interrupt flag in lguest_data is set.  When it cannot take it
 * yet we say so in lguest_data.irq_pending, so that the guest's "sti"
 * knows to come back for it (LHCALL_SEND_INTERRUPTS).
 */
void lguest_raise_irq(struct lguest *lg, unsigned int irq)
{
	struct task_struct *vcpu;

	set_bit(irq, lg->irqs_pending);
	wake_up(&lg->irq_wait);

	/*
	 * A guest running on another CPU only sees the interrupt once it
	 * leaves the guest, which may be the next host tick: kick it out
	 * now, as KVM's kick does (the IPI is a host interrupt, so the guest
	 * exits at once, and the run loop delivers).  The flag closes the
	 * race with a run loop that is about to enter the guest, see
	 * lguest_arch_run_guest().  Task structs are freed after an RCU
	 * grace period, so one just seen is safe to kick.
	 */
	WRITE_ONCE(lg->irq_raised, true);
	smp_mb();	/* the flag before task_curr() in kick_process() */
	rcu_read_lock();
	vcpu = READ_ONCE(lg->vcpu_task);
	if (vcpu)
		kick_process(vcpu);
	rcu_read_unlock();
}

/* The lines the guest has masked, from lguest_data. */
bool lguest_irqs_blocked(struct lguest *lg, unsigned long *blocked)
{
	u32 words[LGUEST_DATA_NR_IRQS / 32];

	BUILD_BUG_ON(LGUEST_DATA_NR_IRQS != LGUEST_NR_IRQS);
	bitmap_zero(blocked, LGUEST_NR_IRQS);
	if (!lg->lguest_data)
		return true;
	if (!lg_read(lg, lg_data_addr(lg, blocked_interrupts), words,
		     sizeof(words)))
		return false;
	bitmap_from_arr32(blocked, words, LGUEST_NR_IRQS);
	return true;
}

/* The first raised line the guest has not masked, or -1. */
static int lg_first_irq(struct lguest *lg)
{
	DECLARE_BITMAP(blocked, LGUEST_NR_IRQS);
	DECLARE_BITMAP(ready, LGUEST_NR_IRQS);
	unsigned int irq;

	if (!lguest_irqs_blocked(lg, blocked))
		return -1;
	bitmap_andnot(ready, lg->irqs_pending, blocked, LGUEST_NR_IRQS);
	irq = find_first_bit(ready, LGUEST_NR_IRQS);
	return irq < LGUEST_NR_IRQS ? irq : -1;
}

/* LHCALL_HALT is "sti; hlt": waking up turns the interrupt flag on. */
void lguest_halt_done(struct lguest *lg)
{
	u32 on = X86_EFLAGS_IF;

	if (lg->lguest_data)
		lg_write(lg, lg_data_addr(lg, irq_enabled), &on, 4);
}

/*
 * Tell the guest whether its "sti" should come back for an interrupt.
 * Only for one it could take then: a line it has masked, or one with no
 * handler, would send every local_irq_enable() of the guest back to us
 * for nothing (a device raising its line before its driver asked for it
 * turned each system call into a hypercall that way).
 */
static void lg_show_irq_pending(struct lguest *lg, bool pending)
{
	u32 val = pending;

	lg_write(lg, lg_data_addr(lg, irq_pending), &val, 4);
}

/*
 * Only delivery empties @irqs_pending, and it updates irq_pending when it
 * does: with nothing raised, irq_pending is already clear.
 */
void lguest_deliver_irq(struct lguest *lg)
{
	u32 irq_enabled, noirq_iret;
	unsigned int vector;
	int irq;

	if (!lg->lguest_data || bitmap_empty(lg->irqs_pending, LGUEST_NR_IRQS))
		return;
	irq = lg_first_irq(lg);
	vector = FIRST_EXTERNAL_VECTOR + irq;
	/* All masked, or no handler yet: it stays pending. */
	if (irq < 0 || !lguest_arch_idt_present(lg, vector)) {
		lg_show_irq_pending(lg, false);
		return;
	}

	if (!lg_read(lg, lg_data_addr(lg, irq_enabled), &irq_enabled, 4) ||
	    !lg_read(lg, lg_data_addr(lg, noirq_iret), &noirq_iret, 4))
		return;
	/* Interrupts off, or in the middle of the guest's iret: later. */
	if (!(irq_enabled & X86_EFLAGS_IF) ||
	    (noirq_iret && lg->regs.eip == noirq_iret)) {
		lg_show_irq_pending(lg, true);
		return;
	}

	clear_bit(irq, lg->irqs_pending);
	lg->halted = false;
	lg_enter_handler(lg, vector);
	/* The handler runs with interrupts off: its next sti comes back. */
	lg_show_irq_pending(lg, lg_first_irq(lg) >= 0);
}

/* The guest's clock event fired: raise line 0, and again a period on. */
static enum hrtimer_restart lg_timer_fired(struct hrtimer *timer)
{
	struct lguest *lg = container_of(timer, struct lguest, timer);
	u32 period = READ_ONCE(lg->timer_period);

	lguest_raise_irq(lg, 0);
	if (!period)
		return HRTIMER_NORESTART;
	hrtimer_forward_now(timer, ns_to_ktime(period));
	return HRTIMER_RESTART;
}

void lguest_init_timer(struct lguest *lg)
{
	hrtimer_init(&lg->timer, CLOCK_MONOTONIC, HRTIMER_MODE_REL);
	lg->timer.function = lg_timer_fired;
}

/*
 * LHCALL_SET_CLOCKEVENT: interrupt line 0 in delta_ns (0 cancels), then
 * every period_ns if that is not 0.  A short period would have the host
 * take an interrupt for the guest every few microseconds: refused.
 */
void lguest_set_clockevent(struct lguest *lg, u32 delta_ns, u32 period_ns)
{
	if (period_ns && period_ns < LGUEST_MIN_TIMER_PERIOD_NS) {
		kill_guest(lg, "bad timer period %u ns", period_ns);
		return;
	}
	hrtimer_cancel(&lg->timer);
	WRITE_ONCE(lg->timer_period, period_ns);
	if (!delta_ns)
		return;
	hrtimer_start(&lg->timer, ns_to_ktime(delta_ns), HRTIMER_MODE_REL);
}
