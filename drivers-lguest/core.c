// SPDX-License-Identifier: GPL-2.0-only
/*
 * lguest: the host side.
 *
 * lguest is a hypervisor small enough to read in an afternoon.  It runs
 * 32-bit Linux guests on a 32-bit x86 host without any help from hardware
 * virtualization: the guest kernel is built to run in ring 1 instead of
 * ring 0, and asks the host (by hypercall) for everything ring 1 may not do
 * itself.
 *
 * The host is this module, lg.ko, plus a user-space "launcher" (in
 * tools/lguest/).  The launcher is an ordinary process: it allocates the
 * guest's memory from its own address space, loads the guest kernel into
 * it, and then drives the guest through /dev/lguest (lguest_user.c).  When
 * the guest touches a device, the launcher plays the device.
 *
 * This file is where the module starts and ends.  For now that is little
 * more than the control device; the Switcher, the piece that actually
 * moves the CPU between host and guest, joins it later in the series.
 */
#include <linux/init.h>
#include <linux/module.h>

#include "lg.h"

static int __init lg_module_init(void)
{
	return lguest_device_init();
}

/*
 * Every open file of /dev/lguest holds a reference to this module (the
 * device's file_operations have .owner set), so by the time we get here
 * every guest is gone and all that is left is the device itself.
 */
static void __exit lg_module_exit(void)
{
	lguest_device_remove();
}

module_init(lg_module_init);
module_exit(lg_module_exit);

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("lguest hypervisor host support");
MODULE_AUTHOR("lguest developers");
