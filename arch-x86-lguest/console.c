// SPDX-License-Identifier: GPL-2.0-only
/*
 * The console of an lguest guest: bytes handed to the launcher by
 * hypercall, which it writes to its stdout, and bytes read back from its
 * stdin.  It works from the first printk (as the boot console) and then
 * as hvc0, the tty /dev/hvc0, with an interrupt line that says input is
 * waiting.  Each call is an exit to the launcher, so this is for a console,
 * not for bulk data.
 */
#include <linux/console.h>
#include <linux/cpufeature.h>
#include <linux/err.h>
#include <linux/init.h>
#include <linux/minmax.h>
#include <linux/spinlock.h>
#include <linux/string.h>
#include <asm/x86_init.h>
#include "../../../drivers/tty/hvc/hvc_console.h"
#include "lguest.h"

/*
 * The launcher takes guest-physical addresses, and printk's buffers and
 * the tty layer's may be anywhere: go through one buffer of ours.
 */
static char bounce[PAGE_SIZE] __aligned(PAGE_SIZE);
static DEFINE_RAW_SPINLOCK(bounce_lock);

static int lguest_put_chars(u32 vtermno, const u8 *buf, size_t count)
{
	unsigned long flags;
	size_t len = min_t(size_t, count, sizeof(bounce));

	raw_spin_lock_irqsave(&bounce_lock, flags);
	memcpy(bounce, buf, len);
	len = hcall(LHCALL_CONSOLE_WRITE, __pa_symbol(bounce), len, 0, 0);
	raw_spin_unlock_irqrestore(&bounce_lock, flags);
	return min(len, count);
}

static int lguest_get_chars(u32 vtermno, u8 *buf, size_t count)
{
	unsigned long flags;
	size_t len = min_t(size_t, count, sizeof(bounce));

	raw_spin_lock_irqsave(&bounce_lock, flags);
	len = hcall(LHCALL_CONSOLE_READ, __pa_symbol(bounce), len, 0, 0);
	len = min(len, count);
	memcpy(buf, bounce, len);
	raw_spin_unlock_irqrestore(&bounce_lock, flags);
	return len;
}

static void lguest_boot_console_write(struct console *con, const char *s,
				      unsigned int n)
{
	while (n) {
		int done = lguest_put_chars(0, s, n);

		if (done <= 0)
			break;
		s += done;
		n -= done;
	}
}

/* Until hvc0 takes over, so even the earliest messages are seen. */
static struct console lguest_boot_console = {
	.name	= "lguest",
	.write	= lguest_boot_console_write,
	.flags	= CON_PRINTBUFFER | CON_BOOT | CON_ANYTIME,
	.index	= -1,
};

static const struct hv_ops lguest_hvc_ops = {
	.get_chars	= lguest_get_chars,
	.put_chars	= lguest_put_chars,
	.notifier_add	= notifier_add_irq,
	.notifier_del	= notifier_del_irq,
	.notifier_hangup = notifier_hangup_irq,
};

static int __init lguest_hvc_console_init(void)
{
	if (!boot_cpu_has(X86_FEATURE_LGUEST))
		return 0;
	hvc_instantiate(0, 0, &lguest_hvc_ops);
	return 0;
}
console_initcall(lguest_hvc_console_init);

static int __init lguest_hvc_init(void)
{
	struct hvc_struct *hp;
	int err;

	if (!boot_cpu_has(X86_FEATURE_LGUEST))
		return 0;
	err = lguest_setup_irq(LGUEST_IRQ_CONSOLE);
	if (err)
		return err;
	hp = hvc_alloc(0, LGUEST_IRQ_CONSOLE, &lguest_hvc_ops, 256);
	return PTR_ERR_OR_ZERO(hp);
}
device_initcall(lguest_hvc_init);

/*
 * Before start_kernel(): a console needs nothing but printk's own locks,
 * and a crash in early boot is exactly when one is wanted.
 */
void __init lguest_init_console(void)
{
	register_console(&lguest_boot_console);
	add_preferred_console("hvc", 0, NULL);
}
