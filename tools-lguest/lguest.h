/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The lguest launcher: declarations shared by its files.
 *
 * The core: main.c runs the guest, kernel.c reads the kernel image, boot.c
 * lays out guest memory for the boot protocol, device.c keeps the list of
 * devices, term.c owns the terminal, util.c has the error and file helpers.
 *
 * The devices hang off the core, never the other way round: each one
 * registers a struct lg_device_ops (options, start, stop, the exits it
 * serves) from a constructor, and main.c only ever walks that list.
 * console.c is the hypercall console; virtio.c is the virtio-mmio
 * transport (virtio.h), which vcon.c, blk.c, net.c and rng.c use.
 *
 * The boot protocol and the exit statuses are described in
 * Documentation/virt/lguest/launcher.rst, the devices in devices.rst.
 */
#ifndef LGUEST_LAUNCHER_H
#define LGUEST_LAUNCHER_H

#include <getopt.h>
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

/*
 * A command-line option of a device (device.c).  @parse gets the
 * argument (NULL for an option without one) and die()s on a bad value:
 * options are all checked before /dev/lguest is opened.
 */
struct lg_option {
	const char *name;		/* the long option, without "--" */
	int has_arg;			/* no_argument or required_argument */
	void (*parse)(const char *arg);
	const char *help;		/* its lines of --help, "\n"-ended */
};

/*
 * A kind of device.  The hooks are all optional, and are called in
 * @order, lowest first:
 * @check:	all options are parsed; finish the configuration (and add
 *		guest command-line words with lg_cmdline_add())
 * @start:	a guest was created (LGUEST_INIT done, not run yet)
 * @stop:	the guest is done: quiesce before its fd is closed
 * @hypercall:	LGUEST_EXIT_HYPERCALL; true if served
 * @mmio:	LGUEST_EXIT_MMIO; true if the address was ours
 */
struct lg_device_ops {
	const char *name;
	int order;
	const struct lg_option *options;
	void (*check)(const struct lg_boot *b);
	void (*start)(struct lg_guest *g);
	void (*stop)(struct lg_guest *g);
	bool (*hypercall)(struct lg_guest *g, struct lguest_run *run);
	bool (*mmio)(struct lg_guest *g, struct lguest_run *run);
};

/* Orders of the devices: the virtio transport places the others. */
#define LG_ORDER_CONSOLE	0
#define LG_ORDER_VIRTIO_DEV	10
#define LG_ORDER_VIRTIO		90

/* Registers a struct lg_device_ops from a constructor. */
#define lg_device(ops)							\
	static void __attribute__((constructor)) ops##_register(void)	\
	{								\
		lg_device_register(&(ops));				\
	}

/* device.c */
void lg_device_register(const struct lg_device_ops *ops);
struct option *devices_options(const struct option *core, int first_val);
bool devices_parse_option(int val, const char *arg);
void devices_usage(void);
void devices_check(const struct lg_boot *b);
void devices_start(struct lg_guest *g);
void devices_stop(struct lg_guest *g);
bool devices_hypercall(struct lg_guest *g, struct lguest_run *run);
bool devices_mmio(struct lg_guest *g, struct lguest_run *run);
void lg_cmdline_add(const char *word);
const char *lg_cmdline_words(void);

/* term.c */
void term_init(void);
void term_restore(void);
void term_claim_input(void);
bool term_input_claimed(void);
void term_check_ctrl_c(const u8 *buf, size_t len);
void term_write(const void *buf, size_t len);

/* main.c */
extern atomic_int lg_stop_signal;
void *guest_ptr(struct lg_guest *g, u32 gpa, u32 len);

#endif /* LGUEST_LAUNCHER_H */
