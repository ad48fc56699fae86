// SPDX-License-Identifier: GPL-2.0-only
/*
 * Interrupts of an lguest guest.
 *
 * In ring 1 we cannot touch the real interrupt flag.  We keep a virtual
 * one in lguest_data instead, where the host reads it before delivering an
 * interrupt: cli and sti become plain memory writes, which is why they can
 * be cheap.  The host's interrupt lines 0..63 arrive on vectors
 * FIRST_EXTERNAL_VECTOR + line, and a line is masked by a bit in
 * lguest_data: that is our whole interrupt controller.
 */
#include <linux/interrupt.h>
#include <linux/irq.h>
#include <asm/desc.h>
#include <asm/hw_irq.h>
#include <asm/i8259.h>
#include <asm/irq_vectors.h>
#include <asm/paravirt.h>
#include <asm/x86_init.h>
#include "lguest.h"

__visible unsigned long lguest_save_fl(void)
{
	return lguest_data.irq_enabled;
}

PV_CALLEE_SAVE_REGS_THUNK(lguest_save_fl);

__visible void lguest_irq_disable(void)
{
	lguest_data.irq_enabled = 0;
}

PV_CALLEE_SAVE_REGS_THUNK(lguest_irq_disable);

/*
 * Halting the virtual CPU is like "sti; hlt": the host turns our interrupt
 * flag on when it wakes us for an interrupt, and delivers it at once.
 */
static void lguest_safe_halt(void)
{
	hcall(LHCALL_HALT, 0, 0, 0, 0);
}

static void lguest_mask_irq(struct irq_data *data)
{
	set_bit(data->irq, (unsigned long *)lguest_data.blocked_interrupts);
}

/* A line that was raised while masked is delivered on our next exit. */
static void lguest_unmask_irq(struct irq_data *data)
{
	clear_bit(data->irq, (unsigned long *)lguest_data.blocked_interrupts);
}

static struct irq_chip lguest_irq_controller = {
	.name		= "lguest",
	.irq_mask	= lguest_mask_irq,
	.irq_mask_ack	= lguest_mask_irq,
	.irq_unmask	= lguest_unmask_irq,
};

/* Linux irq N is lguest line N. */
int lguest_setup_irq(unsigned int irq)
{
	struct irq_desc *desc;
	int err;

	if (irq >= LGUEST_DATA_NR_IRQS)
		return -EINVAL;
	err = irq_alloc_desc_at(irq, 0);
	if (err < 0 && err != -EEXIST)
		return err;
	desc = irq_to_desc(irq);
	irq_set_chip_and_handler_name(irq, &lguest_irq_controller,
				      handle_level_irq, "level");
	this_cpu_write(vector_irq[FIRST_EXTERNAL_VECTOR + irq], desc);
	return 0;
}

/*
 * x86_init.irqs.intr_init: every external vector to the common entry, and
 * every line past the console's ready for the launcher's devices, which
 * the virtio_mmio driver finds on the command line with their line numbers
 * ("virtio_mmio.device=4K@0x...:2") and requests like any other interrupt.
 */
static void __init lguest_init_IRQ(void)
{
	unsigned int irq;

	idt_setup_apic_and_irq_gates();
	for (irq = LGUEST_IRQ_CONSOLE + 1; irq < LGUEST_DATA_NR_IRQS; irq++)
		if (lguest_setup_irq(irq))
			pr_warn("lguest: no interrupt line %u\n", irq);
}

void __init lguest_init_irq_ops(void)
{
	BUILD_BUG_ON(offsetof(struct lguest_data, irq_enabled) !=
		     LGUEST_DATA_irq_enabled);
	BUILD_BUG_ON(offsetof(struct lguest_data, irq_pending) !=
		     LGUEST_DATA_irq_pending);

	pv_ops.irq.save_fl = PV_CALLEE_SAVE(lguest_save_fl);
	pv_ops.irq.irq_disable = PV_CALLEE_SAVE(lguest_irq_disable);
	pv_ops.irq.irq_enable = __PV_IS_CALLEE_SAVE(lguest_irq_enable);
	pv_ops.irq.safe_halt = lguest_safe_halt;
	pv_ops.irq.halt = lguest_safe_halt;

	x86_init.irqs.intr_init = lguest_init_IRQ;
	x86_init.irqs.intr_mode_select = x86_init_noop;
	x86_init.irqs.intr_mode_init = x86_init_noop;
	legacy_pic = &null_legacy_pic;
}
