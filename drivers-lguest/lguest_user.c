// SPDX-License-Identifier: GPL-2.0-only
/*
 * /dev/lguest: how the launcher talks to the host.
 *
 * The launcher opens /dev/lguest once per guest; the open file *is* the
 * guest.  Everything else is an ioctl, described in
 * include/uapi/linux/lguest.h and Documentation/virt/lguest/api.rst:
 *
 *   LGUEST_GET_API_VERSION  which protocol is this?
 *   LGUEST_INIT             here is your memory, entry point and page table
 *   LGUEST_GET_REGS/SET_REGS look at or change the guest's registers
 *   LGUEST_IRQ              raise an interrupt in the guest
 *   LGUEST_RUN              run the guest until the launcher has work to do
 *
 * The launcher is not trusted any more than any other root process is
 * trusted to pass sane arguments: every field is checked, and nonsense gets
 * an errno, never an oops.  When the file is closed (including when the
 * launcher dies) the guest goes away with it.
 */
#include <linux/bitops.h>
#include <linux/errno.h>
#include <linux/fs.h>
#include <linux/miscdevice.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/nospec.h>
#include <linux/sched.h>
#include <linux/sched/mm.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/uaccess.h>
#include <asm/segment.h>

#include "lg.h"

/*
 * Has LGUEST_INIT been done?  lg->mm is written exactly once, last, with a
 * release store; the acquire here pairs with it, so a caller that sees the
 * mm also sees the memory range and registers that came with it.
 */
static struct mm_struct *lg_mm(struct lguest *lg)
{
	/* Pairs with the smp_store_release() in lg_init(). */
	return smp_load_acquire(&lg->mm);
}

/*
 * A guest belongs to the launcher that set it up.  The file descriptor can
 * still wander off to another process (fork(), SCM_RIGHTS), but that
 * process must not drive the guest: the guest's memory is addresses in the
 * launcher's address space, which mean nothing (or something else) in
 * another one.  KVM answers such callers with -EIO, and so do we.
 */
static int lg_check_caller(struct lguest *lg)
{
	struct mm_struct *mm = lg_mm(lg);

	if (!mm)
		return -EBADFD;
	if (mm != current->mm)
		return -EIO;
	return 0;
}

/* The page directory must be a whole page of guest memory. */
static bool lg_cr3_valid(u32 cr3, u64 mem_size)
{
	return IS_ALIGNED(cr3, PAGE_SIZE) && (u64)cr3 + PAGE_SIZE <= mem_size;
}

static int lg_check_init(const struct lguest_init *init)
{
	if (init->flags || memchr_inv(init->reserved, 0, sizeof(init->reserved)))
		return -EINVAL;

	if (!IS_ALIGNED(init->mem_addr, PAGE_SIZE) || !init->mem_size ||
	    !IS_ALIGNED(init->mem_size, PAGE_SIZE))
		return -EINVAL;
	if (init->mem_size > LGUEST_MAX_MEM_SIZE)
		return -E2BIG;

	/*
	 * The fields are 64 bits wide but our user address space is not, so
	 * mind the wrap-around: mem_size is small by now, and checking it
	 * against the room left above mem_addr cannot overflow.  We do not
	 * check that the range is actually mapped: the launcher can unmap
	 * it again at any time anyway, so every later access to guest
	 * memory has to cope with a fault.
	 */
	if (init->mem_addr > TASK_SIZE ||
	    init->mem_size > TASK_SIZE - init->mem_addr)
		return -EOVERFLOW;

	if (init->entry >= init->mem_size ||
	    !lg_cr3_valid(init->cr3, init->mem_size))
		return -EINVAL;
	return 0;
}

/*
 * The guest starts out in its kernel, at the entry point, on the flat
 * kernel segments with interrupts (which it keeps in lguest_data, not in
 * eflags) off.  Everything else the launcher can set with LGUEST_SET_REGS.
 */
static void lg_reset_regs(struct lguest_regs *regs,
			  const struct lguest_init *init)
{
	memset(regs, 0, sizeof(*regs));
	regs->eip = init->entry;
	regs->eflags = LGUEST_EFLAGS_FIXED;
	regs->cs = LGUEST_KERNEL_CS;
	regs->ss = LGUEST_KERNEL_DS;
	regs->ds = LGUEST_KERNEL_DS;
	regs->es = LGUEST_KERNEL_DS;
	regs->cr3 = init->cr3;
}

/*
 * LGUEST_INIT: the launcher hands over the guest's memory.  A guest is
 * initialised once; a second LGUEST_INIT is an error rather than a reset,
 * since later patches hang shadow page tables and pinned pages off it.
 */
static long lg_init(struct lguest *lg, const struct lguest_init __user *uinit)
{
	struct lguest_init init;
	long err;

	err = mutex_lock_killable(&lg->lock);
	if (err)
		return err;

	if (lg->mm) {
		err = lg->mm == current->mm ? -EEXIST : -EIO;
		goto unlock;
	}
	if (copy_from_user(&init, uinit, sizeof(init))) {
		err = -EFAULT;
		goto unlock;
	}
	err = lg_check_init(&init);
	if (err)
		goto unlock;

	lg->mem_base = u64_to_user_ptr(init.mem_addr);
	lg->mem_size = init.mem_size;
	lg_reset_regs(&lg->regs, &init);
	err = lguest_setup(lg);
	if (err) {
		lguest_teardown(lg);
		goto unlock;
	}

	/*
	 * mmgrab() keeps the mm_struct itself alive (we only compare against
	 * it), not the launcher's memory: a guest must not keep a dead
	 * launcher's address space around.
	 */
	mmgrab(current->mm);
	/* Publish the guest last; pairs with smp_load_acquire() in lg_mm(). */
	smp_store_release(&lg->mm, current->mm);
unlock:
	mutex_unlock(&lg->lock);
	return err;
}

/*
 * Which segment selectors may the launcher load?  The guest's kernel runs
 * in ring 1 on the flat segments the host sets up for it, its user space
 * in ring 3 on whatever segments the guest kernel gave it; but a guest can
 * also make itself other code segments of ring 1, 2 or 3 (never 0: see
 * segments.c) and run on them.  Whatever LGUEST_GET_REGS reports must be
 * accepted by LGUEST_SET_REGS, so a launcher can save and restore a guest
 * wherever it stopped: cs and ss are any non-null selectors of one ring,
 * not ring 0, which is what the CPU itself guarantees of a trap frame.
 *
 * The descriptors behind the selectors live in the guest's own (sanitized)
 * tables, which the guest can change under a loaded selector at any time:
 * whatever we check here, the switcher has to survive a selector that does
 * not load (the guest is then killed).  So the data segments are only
 * checked for being 16 bits: a ring-1 kernel may well hold an RPL 0
 * selector in one (Linux keeps __KERNEL_PERCPU in %fs).
 */
static bool lg_selector_fits(u32 sel)
{
	return sel <= 0xffff;
}

/* Null selectors are index 0 of the GDT, whatever their RPL. */
static bool lg_stack_code_valid(u32 cs, u32 ss)
{
	u32 rpl = cs & SEGMENT_RPL_MASK;

	return lg_selector_fits(cs) && lg_selector_fits(ss) &&
	       (cs & ~SEGMENT_RPL_MASK) && (ss & ~SEGMENT_RPL_MASK) &&
	       rpl != 0 && (ss & SEGMENT_RPL_MASK) == rpl;
}

static bool lg_segments_valid(const struct lguest_regs *regs)
{
	return lg_stack_code_valid(regs->cs, regs->ss) &&
	       lg_selector_fits(regs->ds) && lg_selector_fits(regs->es) &&
	       lg_selector_fits(regs->fs) && lg_selector_fits(regs->gs);
}

/*
 * The launcher may set the arithmetic flags and friends, but never the
 * interrupt flag or IOPL: while the guest runs, those are the host's, and
 * the guest's own interrupt flag lives in lguest_data.
 */
static bool lg_eflags_valid(u32 eflags)
{
	return (eflags & LGUEST_EFLAGS_FIXED) &&
	       !(eflags & ~(LGUEST_EFLAGS_SETTABLE | LGUEST_EFLAGS_FIXED));
}

static int lg_check_regs(const struct lguest *lg,
			 const struct lguest_regs *regs)
{
	if (memchr_inv(regs->reserved, 0, sizeof(regs->reserved)))
		return -EINVAL;
	if (!lg_eflags_valid(regs->eflags) || !lg_segments_valid(regs) ||
	    !lg_cr3_valid(regs->cr3, lg->mem_size))
		return -EINVAL;
	return 0;
}

static long lg_get_regs(struct lguest *lg, struct lguest_regs __user *uregs)
{
	struct lguest_regs regs;
	int err;

	err = mutex_lock_killable(&lg->lock);
	if (err)
		return err;
	regs = lg->regs;
	mutex_unlock(&lg->lock);

	if (copy_to_user(uregs, &regs, sizeof(regs)))
		return -EFAULT;
	return 0;
}

/*
 * cr2, trapnum and errcode describe the guest's last trap: they are the
 * host's to report, not the launcher's to set, so they are ignored.
 */
static long lg_set_regs(struct lguest *lg,
			const struct lguest_regs __user *uregs)
{
	struct lguest_regs regs;
	int err;

	if (copy_from_user(&regs, uregs, sizeof(regs)))
		return -EFAULT;
	err = lg_check_regs(lg, &regs);
	if (err)
		return err;

	err = mutex_lock_killable(&lg->lock);
	if (err)
		return err;
	regs.cr2 = lg->regs.cr2;
	regs.trapnum = lg->regs.trapnum;
	regs.errcode = lg->regs.errcode;
	lg->regs = regs;
	mutex_unlock(&lg->lock);
	return 0;
}

/*
 * LGUEST_IRQ usually comes from a device thread of the launcher while the
 * main thread sits in LGUEST_RUN holding lg->lock, so it must not take the
 * lock: it only sets a bit, atomically, for the run loop to deliver.
 */
static long lg_irq(struct lguest *lg, const struct lguest_irq __user *uirq)
{
	struct lguest_irq irq;

	if (copy_from_user(&irq, uirq, sizeof(irq)))
		return -EFAULT;
	if (irq.flags || irq.irq >= LGUEST_NR_IRQS)
		return -EINVAL;

	lguest_raise_irq(lg, array_index_nospec(irq.irq, LGUEST_NR_IRQS));
	return 0;
}

/*
 * The input half of struct lguest_run.  The union may carry the answer to
 * the previous exit (the data of an MMIO read, a hypercall's result), which
 * only the run loop can judge.
 */
static int lg_check_run(const struct lguest_run *run)
{
	if (run->flags || memchr_inv(run->reserved, 0, sizeof(run->reserved)))
		return -EINVAL;
	return 0;
}

static long lg_run(struct lguest *lg, struct lguest_run __user *urun)
{
	struct lguest_run run;
	int err;

	if (copy_from_user(&run, urun, sizeof(run)))
		return -EFAULT;
	err = lg_check_run(&run);
	if (err)
		return err;

	err = mutex_lock_killable(&lg->lock);
	if (err)
		return err;
	err = lguest_run(lg, &run);
	mutex_unlock(&lg->lock);

	if (copy_to_user(urun, &run, sizeof(run)))
		return -EFAULT;
	return err;
}

/*
 * Map a command to the one we implement with the same number, if any, so
 * that a caller using a struct of another size (an older or newer header)
 * can be told -EINVAL rather than -ENOTTY.
 */
static unsigned int lg_known_cmd(unsigned int cmd)
{
	switch (_IOC_NR(cmd)) {
	case _IOC_NR(LGUEST_GET_API_VERSION):
		return LGUEST_GET_API_VERSION;
	case _IOC_NR(LGUEST_INIT):
		return LGUEST_INIT;
	case _IOC_NR(LGUEST_RUN):
		return LGUEST_RUN;
	case _IOC_NR(LGUEST_GET_REGS):
		return LGUEST_GET_REGS;
	case _IOC_NR(LGUEST_SET_REGS):
		return LGUEST_SET_REGS;
	case _IOC_NR(LGUEST_IRQ):
		return LGUEST_IRQ;
	case _IOC_NR(LGUEST_CHECK_EXTENSION):
		return LGUEST_CHECK_EXTENSION;
	case _IOC_NR(LGUEST_ADD_MMIO_WINDOW):
		return LGUEST_ADD_MMIO_WINDOW;
	case _IOC_NR(LGUEST_IOEVENTFD):
		return LGUEST_IOEVENTFD;
	}
	return 0;
}

static long lg_ioctl(struct file *file, unsigned int cmd, unsigned long arg)
{
	struct lguest *lg = file->private_data;
	void __user *argp = (void __user *)arg;
	unsigned int known;
	int err;

	if (_IOC_TYPE(cmd) != LGUEST_IOC_MAGIC)
		return -ENOTTY;
	known = lg_known_cmd(cmd);
	if (!known)
		return -ENOTTY;
	if (cmd != known)
		return -EINVAL;

	switch (cmd) {
	case LGUEST_GET_API_VERSION:
		return arg ? -EINVAL : LGUEST_API_VERSION;
	case LGUEST_INIT:
		return lg_init(lg, argp);
	case LGUEST_CHECK_EXTENSION:
		return lguest_check_extension(arg);
	}

	err = lg_check_caller(lg);
	if (err)
		return err;

	switch (cmd) {
	case LGUEST_RUN:
		return lg_run(lg, argp);
	case LGUEST_GET_REGS:
		return lg_get_regs(lg, argp);
	case LGUEST_SET_REGS:
		return lg_set_regs(lg, argp);
	case LGUEST_IRQ:
		return lg_irq(lg, argp);
	case LGUEST_ADD_MMIO_WINDOW:
		return lguest_add_mmio_window(lg, argp);
	case LGUEST_IOEVENTFD:
		return lguest_ioeventfd(lg, argp);
	}
	return -ENOTTY;
}

/* A new guest: nothing but a lock until LGUEST_INIT. */
static int lg_open(struct inode *inode, struct file *file)
{
	struct lguest *lg;

	lg = kzalloc(sizeof(*lg), GFP_KERNEL_ACCOUNT);
	if (!lg)
		return -ENOMEM;
	mutex_init(&lg->lock);
	file->private_data = lg;
	return 0;
}

/*
 * The last reference to the file is gone, so no ioctl can be running and
 * nothing else can find the guest: tear it down without locking.
 */
static int lg_release(struct inode *inode, struct file *file)
{
	struct lguest *lg = file->private_data;

	if (lg->mm) {
		lguest_teardown(lg);
		mmdrop(lg->mm);
	}
	mutex_destroy(&lg->lock);
	kfree(lg);
	return 0;
}

static const struct file_operations lg_fops = {
	.owner		= THIS_MODULE,
	.open		= lg_open,
	.release	= lg_release,
	.unlocked_ioctl	= lg_ioctl,
	.llseek		= noop_llseek,
};

/*
 * Running a guest puts a lot of privileged host code within reach of the
 * launcher (and of the guest), so by default only root may.
 */
static struct miscdevice lg_dev = {
	.minor	= MISC_DYNAMIC_MINOR,
	.name	= "lguest",
	.fops	= &lg_fops,
	.mode	= 0600,
};

int __init lguest_device_init(void)
{
	return misc_register(&lg_dev);
}

void lguest_device_remove(void)
{
	misc_deregister(&lg_dev);
}
