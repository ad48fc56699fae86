/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Things the parts of the lguest host module share with each other.
 *
 * Each guest is one struct lguest, which lives exactly as long as the open
 * file of /dev/lguest that created it: lguest_user.c allocates it on open()
 * and frees it on the final close().
 */
#ifndef _DRIVERS_LGUEST_LG_H
#define _DRIVERS_LGUEST_LG_H

#include <linux/bitops.h>
#include <linux/compiler_types.h>
#include <linux/init.h>
#include <linux/lguest.h>
#include <linux/mutex.h>
#include <linux/types.h>

struct mm_struct;

/**
 * struct lguest - one guest, that is one open file of /dev/lguest
 * @lock:	serialises LGUEST_INIT, LGUEST_RUN, LGUEST_GET_REGS and
 *		LGUEST_SET_REGS.  LGUEST_IRQ deliberately does not take it.
 * @mm:		the launcher's address space, recorded (and pinned with
 *		mmgrab()) by LGUEST_INIT.  NULL until then.  It is written
 *		once, under @lock, with smp_store_release(), so it can be
 *		read without @lock through smp_load_acquire(): once it is
 *		seen, everything LGUEST_INIT set up is visible too.
 * @mem_base:	launcher address of guest-physical address 0
 * @mem_size:	bytes of guest memory; guest-physical addresses at or
 *		above it are not memory (that is where devices live)
 * @regs:	the guest's registers, as LGUEST_GET_REGS reports them; they
 *		must always pass LGUEST_SET_REGS's checks too, so that a
 *		launcher can save and restore them (e.g. eflags never shows
 *		the host's IF or IOPL)
 * @irqs_pending: interrupts raised by LGUEST_IRQ and not yet delivered;
 *		changed only with atomic bit operations
 */
struct lguest {
	struct mutex lock;		/* see the kernel-doc above */
	struct mm_struct *mm;
	void __user *mem_base;
	unsigned long mem_size;
	struct lguest_regs regs;
	DECLARE_BITMAP(irqs_pending, LGUEST_NR_IRQS);
};

/* lguest_user.c: the /dev/lguest control device. */
int __init lguest_device_init(void);
void lguest_device_remove(void);

#endif /* _DRIVERS_LGUEST_LG_H */
