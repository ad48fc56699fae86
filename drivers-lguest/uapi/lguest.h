/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * Userspace interface for /dev/lguest, the lguest hypervisor control device.
 *
 * One open file is one guest.  The launcher gives the guest a range of its
 * own memory with LGUEST_INIT, sets up registers, and then calls LGUEST_RUN
 * in a loop: each call runs the guest until user space has to act (a device
 * access, a shutdown, a pending signal) and describes why in struct
 * lguest_run.  See Documentation/virt/lguest/api.rst.
 */
#ifndef _UAPI_LINUX_LGUEST_H
#define _UAPI_LINUX_LGUEST_H

#include <linux/ioctl.h>
#include <linux/types.h>

/* Bumped on any incompatible change; LGUEST_GET_API_VERSION returns it. */
#define LGUEST_API_VERSION	1

/* Largest guest "physical" memory, in bytes. */
#define LGUEST_MAX_MEM_SIZE	0x38000000ULL	/* 896 MiB */

/* Number of virtual interrupt lines a guest has. */
#define LGUEST_NR_IRQS		64

/* Length of the reason string of LGUEST_EXIT_DEAD, including the NUL. */
#define LGUEST_REASON_LEN	128

/**
 * struct lguest_init - argument of LGUEST_INIT
 * @mem_addr:	launcher address of guest-physical address 0; page aligned
 * @mem_size:	size of guest memory in bytes; a non-zero multiple of the
 *		page size, at most %LGUEST_MAX_MEM_SIZE
 * @entry:	guest-physical address of the first instruction
 * @cr3:	guest-physical address of the initial page directory; page
 *		aligned, inside guest memory
 * @flags:	must be zero
 * @reserved:	must be zero
 */
struct lguest_init {
	__u64 mem_addr;
	__u64 mem_size;
	__u32 entry;
	__u32 cr3;
	__u32 flags;
	__u32 reserved[5];
};

/**
 * struct lguest_regs - guest register state, for LGUEST_GET_REGS/SET_REGS
 * @eax:	general register
 * @ebx:	general register
 * @ecx:	general register
 * @edx:	general register
 * @esi:	general register
 * @edi:	general register
 * @ebp:	general register
 * @esp:	stack pointer
 * @eip:	instruction pointer
 * @eflags:	flags; only %LGUEST_EFLAGS_SETTABLE bits may be set, and
 *		%LGUEST_EFLAGS_FIXED must be
 * @cs:		code segment selector
 * @ss:		stack segment selector
 * @ds:		data segment selector
 * @es:		data segment selector
 * @fs:		data segment selector
 * @gs:		data segment selector
 * @cr2:	address of the last page fault
 * @cr3:	guest-physical address of the page directory
 * @trapnum:	vector of the last trap
 * @errcode:	error code of the last trap
 * @reserved:	must be zero
 *
 * The segment selectors are those of the guest's view: the guest kernel
 * runs with %LGUEST_KERNEL_CS/%LGUEST_KERNEL_DS (RPL 1).  @trapnum and
 * @errcode describe the last trap taken by the guest and are ignored by
 * LGUEST_SET_REGS, as is @cr2.
 */
struct lguest_regs {
	__u32 eax, ebx, ecx, edx;
	__u32 esi, edi, ebp, esp;
	__u32 eip, eflags;
	__u32 cs, ss, ds, es, fs, gs;
	__u32 cr2, cr3;
	__u32 trapnum, errcode;
	__u32 reserved[8];
};

/* The guest kernel's flat segments, in the guest's GDT. */
#define LGUEST_KERNEL_CS	((12 * 8) | 1)
#define LGUEST_KERNEL_DS	((13 * 8) | 1)

/* The eflags bits a launcher may set; IF and IOPL belong to the host. */
#define LGUEST_EFLAGS_SETTABLE	0x00244dd5u	/* CF PF AF ZF SF TF DF OF NT AC ID */
#define LGUEST_EFLAGS_FIXED	0x00000002u	/* bit 1 always reads as one */

/**
 * struct lguest_irq - argument of LGUEST_IRQ
 * @irq:	interrupt line, below %LGUEST_NR_IRQS
 * @flags:	must be zero
 */
struct lguest_irq {
	__u32 irq;
	__u32 flags;
};

/* Why LGUEST_RUN returned: struct lguest_run.exit_reason. */
#define LGUEST_EXIT_NONE	0
#define LGUEST_EXIT_MMIO	1	/* access to a window of LGUEST_ADD_MMIO_WINDOW */
#define LGUEST_EXIT_HYPERCALL	2	/* hypercall for the launcher */
#define LGUEST_EXIT_SHUTDOWN	3	/* guest powered off or restarted */
#define LGUEST_EXIT_DEAD	4	/* guest was killed; see @dead.reason */
#define LGUEST_EXIT_INTR	5	/* a signal is pending; run again */

/* struct lguest_run.shutdown.type */
#define LGUEST_SHUTDOWN_POWEROFF	0
#define LGUEST_SHUTDOWN_RESTART		1
#define LGUEST_SHUTDOWN_CRASH		2	/* the guest kernel panicked */

/**
 * struct lguest_run - argument of LGUEST_RUN
 * @exit_reason:	out: one of LGUEST_EXIT_*
 * @flags:		in: must be zero
 * @reserved:		in: must be zero
 * @mmio:		out: the access for %LGUEST_EXIT_MMIO;
 *			in: @mmio.data completes a read
 * @hypercall:		out: the call for %LGUEST_EXIT_HYPERCALL;
 *			in: @hypercall.ret is its result
 * @shutdown:		out: %LGUEST_SHUTDOWN_* for %LGUEST_EXIT_SHUTDOWN
 * @dead:		out: NUL-terminated reason for %LGUEST_EXIT_DEAD
 * @padding:		sets the size of the union
 *
 * An MMIO exit is one guest instruction reading or writing @mmio.len
 * bytes at guest-physical @mmio.phys_addr, inside a window the launcher
 * registered.  For a write, @mmio.data holds the value (zero-extended) and
 * the instruction is already complete.  For a read, the launcher stores
 * the value read in @mmio.data and passes the structure back unchanged
 * otherwise with the next LGUEST_RUN, which completes the guest's
 * instruction.  Likewise @hypercall.ret is the
 * result the guest sees for an LGUEST_EXIT_HYPERCALL.
 */
struct lguest_run {
	__u32 exit_reason;
	__u32 flags;
	__u32 reserved[6];
	union {
		/* LGUEST_EXIT_MMIO */
		struct {
			__u64 phys_addr;
			__u32 len;		/* 1, 2 or 4 */
			__u32 is_write;
			__u32 data;
			__u32 pad;
		} mmio;
		/* LGUEST_EXIT_HYPERCALL */
		struct {
			__u32 nr;
			__u32 args[4];
			__u32 ret;
		} hypercall;
		/* LGUEST_EXIT_SHUTDOWN */
		struct {
			__u32 type;
		} shutdown;
		/* LGUEST_EXIT_DEAD */
		struct {
			char reason[LGUEST_REASON_LEN];
		} dead;
		__u8 padding[256];
	};
};

/**
 * struct lguest_mmio_window - argument of LGUEST_ADD_MMIO_WINDOW
 * @addr:	guest-physical start; page aligned, at or above the guest's
 *		memory size
 * @size:	bytes; a non-zero multiple of the page size, @addr + @size at
 *		most 4 GiB
 * @flags:	must be zero
 * @reserved:	must be zero
 *
 * Guest accesses inside a window become %LGUEST_EXIT_MMIO exits (or
 * eventfd signals, see struct lguest_ioeventfd).  Windows may not overlap.
 */
struct lguest_mmio_window {
	__u64 addr;
	__u64 size;
	__u32 flags;
	__u32 reserved[3];
};

/* struct lguest_ioeventfd.flags */
#define LGUEST_IOEVENTFD_DATAMATCH	(1U << 0)	/* only if data matches */
#define LGUEST_IOEVENTFD_DEASSIGN	(1U << 1)	/* remove the binding */

/**
 * struct lguest_ioeventfd - argument of LGUEST_IOEVENTFD
 * @addr:	guest-physical address, inside an MMIO window; aligned to @len
 * @len:	access size: 1, 2 or 4
 * @fd:		an eventfd
 * @datamatch:	with %LGUEST_IOEVENTFD_DATAMATCH, the value written
 * @flags:	%LGUEST_IOEVENTFD_DATAMATCH, %LGUEST_IOEVENTFD_DEASSIGN
 * @reserved:	must be zero
 *
 * A guest write of @len bytes at @addr (of @datamatch, if the flag is set)
 * signals @fd and the guest goes on at once, without an exit.  At most one
 * binding matches a write: an address and length bound without
 * %LGUEST_IOEVENTFD_DATAMATCH cannot also be bound with it, and no two
 * bindings are equal.  To deassign, pass the same @addr, @len, @fd,
 * @datamatch and %LGUEST_IOEVENTFD_DATAMATCH as when assigning.
 */
struct lguest_ioeventfd {
	__u64 addr;
	__u32 len;
	__s32 fd;
	__u32 datamatch;
	__u32 flags;
	__u32 reserved[2];
};

/*
 * LGUEST_CHECK_EXTENSION: what this host offers, 0 if not.
 * LGUEST_CAP_MMIO: LGUEST_EXIT_MMIO and LGUEST_ADD_MMIO_WINDOW; the answer
 * is the most windows a guest may have.  LGUEST_CAP_IOEVENTFD:
 * LGUEST_IOEVENTFD; the answer is the most bindings a guest may have.
 */
#define LGUEST_CAP_MMIO		1
#define LGUEST_CAP_IOEVENTFD	2

#define LGUEST_IOC_MAGIC	0xA9

#define LGUEST_GET_API_VERSION	_IO(LGUEST_IOC_MAGIC, 0x00)
#define LGUEST_INIT		_IOW(LGUEST_IOC_MAGIC, 0x01, struct lguest_init)
#define LGUEST_RUN		_IOWR(LGUEST_IOC_MAGIC, 0x02, struct lguest_run)
#define LGUEST_GET_REGS		_IOR(LGUEST_IOC_MAGIC, 0x03, struct lguest_regs)
#define LGUEST_SET_REGS		_IOW(LGUEST_IOC_MAGIC, 0x04, struct lguest_regs)
#define LGUEST_IRQ		_IOW(LGUEST_IOC_MAGIC, 0x05, struct lguest_irq)
#define LGUEST_CHECK_EXTENSION	_IO(LGUEST_IOC_MAGIC, 0x06)
#define LGUEST_ADD_MMIO_WINDOW	_IOW(LGUEST_IOC_MAGIC, 0x07, struct lguest_mmio_window)
#define LGUEST_IOEVENTFD	_IOW(LGUEST_IOC_MAGIC, 0x08, struct lguest_ioeventfd)

#endif /* _UAPI_LINUX_LGUEST_H */
