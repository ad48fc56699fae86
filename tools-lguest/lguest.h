/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The lguest launcher: declarations shared by its files.
 *
 * main.c runs the guest, kernel.c reads the kernel image, boot.c lays out
 * guest memory for the boot protocol, console.c is the guest's console,
 * util.c has the error and file helpers.  The boot protocol and the exit
 * statuses are described in Documentation/virt/lguest/launcher.rst.
 */
#ifndef LGUEST_LAUNCHER_H
#define LGUEST_LAUNCHER_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <asm/bootparam.h>
#include <asm/lguest_para.h>
#include <linux/lguest.h>

#include <linux/compiler.h>
#include <linux/types.h>

/* Exit statuses of the launcher. */
#define LG_STATUS_POWEROFF	0	/* the guest powered off */
#define LG_STATUS_ERROR		1	/* launcher error */
#define LG_STATUS_CRASH		2	/* the guest kernel panicked */
#define LG_STATUS_KILLED	3	/* killed by the host, or unexpected */
#define LG_STATUS_RESTART	(-1)	/* internal: boot the guest again */

/* Guest-physical memory layout of the boot protocol. */
#define LG_PAGE_SIZE		0x1000U
#define LG_BOOT_PARAMS		0x1000U		/* struct boot_params, %esi */
#define LG_CMDLINE		0x2000U		/* kernel command line */
#define LG_PGDIR		0x3000U		/* initial page directory, cr3 */
#define LG_PGTABLES		0x100000U	/* its page tables */
#define LG_LOW_RAM_END		0x9F000U	/* e820: RAM below, the PC hole above */
#define LG_HIGH_RAM		0x100000U	/* e820: RAM from here to the end */
#define LG_KERNEL_MIN		0x200000U	/* lowest kernel segment */
#define LG_MEM_MIN		(32U << 20)	/* smallest guest memory */
#define LG_PAGE_OFFSET		0xC0000000U	/* the guest kernel's mapping */
#define LG_CMDLINE_MAX		2047U		/* COMMAND_LINE_SIZE - 1 */

#define LG_DEVICE		"/dev/lguest"

/* The kernel image, read and checked (kernel.c). */
struct lg_kernel {
	const char *path;
	u8 *elf;			/* the vmlinux, maybe inflated */
	size_t elf_size;
	u32 phoff;			/* its program header table */
	unsigned int phnum;
	bool bzimage;			/* it came from a bzImage ... */
	struct setup_header hdr;	/* ... with this setup header */
	size_t hdr_len;			/* of which this much is valid */
	u32 entry;			/* from the lguest ELF note */
	u32 start;			/* lowest loaded address */
	u64 end;			/* and the end of the highest */
	u32 cmdline_max;		/* longest command line it takes */
};

/* Everything needed to boot the guest, again on a restart (boot.c). */
struct lg_boot {
	u32 mem_size;
	struct lg_kernel kernel;
	const char *initrd_path;	/* NULL: no initrd */
	u8 *initrd;
	size_t initrd_size;
	u32 initrd_addr;
	const char *cmdline;
	u32 pgtables_end;
};

/* A running guest (main.c). */
struct lg_guest {
	int fd;				/* its /dev/lguest file */
	u8 *mem;			/* guest-physical 0 */
	u32 mem_size;
};

/* util.c */
extern int verbose;
__noreturn __printf(1, 2) void die(const char *fmt, ...);
__printf(1, 2) void pr_err(const char *fmt, ...);
__printf(2, 3) void pr_verbose(int level, const char *fmt, ...);
void *xmalloc(size_t size);
void *xrealloc(void *ptr, size_t size);
u8 *read_file(const char *path, size_t max, size_t *sizep);

/* kernel.c */
void kernel_open(struct lg_kernel *k, const char *path);
void kernel_load(const struct lg_kernel *k, u8 *mem);

/* boot.c */
void boot_check(struct lg_boot *b);
void boot_setup(const struct lg_boot *b, u8 *mem);

/* console.c */
void console_init(void);
void console_start(struct lg_guest *g);
void console_stop(void);
void console_restore_tty(void);
u32 console_write(struct lg_guest *g, u32 gpa, u32 len);
u32 console_read(struct lg_guest *g, u32 gpa, u32 len);

/* main.c */
extern atomic_int lg_stop_signal;
void *guest_ptr(struct lg_guest *g, u32 gpa, u32 len);

#endif /* LGUEST_LAUNCHER_H */
