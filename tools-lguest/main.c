// SPDX-License-Identifier: GPL-2.0
/*
 * lguest: run a Linux kernel as an lguest guest.
 *
 *	lguest [OPTIONS] MEM KERNEL [CMDLINE...]
 *
 * The launcher checks everything it was given first, so that a mistake is
 * one clear line on stderr rather than a half-started guest.  It then
 * gives the guest MEM of its own memory, lays the kernel out in it as the
 * boot protocol says (boot.c), creates the guest through /dev/lguest
 * (Documentation/virt/lguest/api.rst) and runs it until the guest powers
 * off, panics or is killed.  The devices (device.c) serve the exits that
 * are theirs; main.c only knows them as a list.  A guest that restarts is
 * created again from scratch, and its devices are started again.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>

#include "lguest.h"

#define KEEP_RUNNING	(-2)	/* not an exit status: run the guest on */
#define DEVICE_OPT	0x100	/* getopt values of device options */

/* Set by signal handlers: lock-free atomics are safe there. */
atomic_int lg_stop_signal;

static const char usage_head[] =
	"Usage: lguest [OPTIONS] MEM KERNEL [CMDLINE...]\n"
	"Run KERNEL as an lguest guest with MEM of memory.  Its console is\n"
	"stdin and stdout.\n"
	"\n"
	"  MEM      guest memory: a number with an optional K, M or G suffix,\n"
	"           MiB without one; 32M to 896M, rounded up to 4K\n"
	"  KERNEL   a 32-bit x86 vmlinux with lguest support, or a bzImage\n"
	"           holding one, compressed with gzip\n"
	"  CMDLINE  the kernel command line; the words are joined with spaces\n"
	"\n"
	"Options:\n"
	"  -i, --initrd=FILE  load FILE as the initial ramdisk\n"
	"  -v, --verbose      tell what the launcher does on stderr;\n"
	"                     twice: every exit of the guest too\n"
	"  -h, --help         show this help and exit\n";

/* After the devices' options. */
static const char usage_tail[] =
	"\n"
	"Options end at MEM or at \"--\": CMDLINE may hold words starting with\n"
	"\"-\".  The devices are announced to the guest in front of CMDLINE.\n"
	"On a terminal, keys go to the guest, ^C too: type ^C three times\n"
	"within a second to stop it.  A guest that reboots is started again.\n"
	"\n"
	"Exit status:\n"
	"  0  the guest powered off\n"
	"  1  launcher error: bad arguments or image, system call failure\n"
	"  2  the guest kernel panicked\n"
	"  3  the host killed the guest (the reason is printed), or the guest\n"
	"     stopped in an unexpected way\n"
	"SIGINT, SIGTERM and SIGHUP stop the guest: the launcher restores the\n"
	"terminal and dies of the signal.\n";

static const struct option core_options[] = {
	{ "initrd",	required_argument,	NULL, 'i' },
	{ "verbose",	no_argument,		NULL, 'v' },
	{ "help",	no_argument,		NULL, 'h' },
	{ }
};

/* Only an address range that is all inside guest memory. */
void *guest_ptr(struct lg_guest *g, u32 gpa, u32 len)
{
	if ((u64)gpa + len > g->mem_size)
		return NULL;
	return g->mem + gpa;
}

/*
 * MEM: a number of bytes with a K, M or G suffix, or of MiB without one
 * (as the original lguest had it), rounded up to whole pages.
 */
static u32 parse_mem(const char *arg)
{
	unsigned long long n;
	unsigned int shift = 20;
	char *end;

	errno = 0;
	n = strtoull(arg, &end, 10);
	if (!isdigit((unsigned char)*arg))
		die("memory size '%s': not a number", arg);
	if (*end == 'K' || *end == 'k')
		shift = 10;
	else if (*end == 'G' || *end == 'g')
		shift = 30;
	if (*end && strchr("KkMmGg", *end))
		end++;
	if (*end)
		die("memory size '%s': not a number with a K, M or G suffix",
		    arg);
	if (errno == ERANGE || n > LGUEST_MAX_MEM_SIZE ||
	    n << shift > LGUEST_MAX_MEM_SIZE)
		die("memory size '%s': more than %llu MiB", arg,
		    LGUEST_MAX_MEM_SIZE >> 20);
	n = ((n << shift) + LG_PAGE_SIZE - 1) & ~(LG_PAGE_SIZE - 1ULL);
	if (n < LG_MEM_MIN)
		die("memory size '%s': less than %u MiB", arg,
		    LG_MEM_MIN >> 20);
	return n;
}

static char *join_words(char **words, int n)
{
	size_t len = 1;
	char *s, *p;
	int i;

	for (i = 0; i < n; i++)
		len += strlen(words[i]) + 1;
	s = xmalloc(len);
	p = s;
	*p = '\0';
	for (i = 0; i < n; i++) {
		if (i)
			*p++ = ' ';
		p = stpcpy(p, words[i]);
	}
	return s;
}

/*
 * getopt_long() says what went wrong in optopt: 0 for an unknown long
 * option, the option itself for --help=x, --verbose=x or a device option
 * without argument, the letter for an unknown short one.  Long options
 * always advance optind, so argv[optind - 1] is the one it did not like.
 */
static __noreturn void bad_option(char *argv[])
{
	if (!optopt)
		die("%s: unknown option (see --help)", argv[optind - 1]);
	if (optopt == 'h' || optopt == 'v' || optopt >= DEVICE_OPT)
		die("%s: takes no argument (see --help)", argv[optind - 1]);
	die("-%c: unknown option (see --help)", optopt);
}

/* Parse the arguments and check the guest they describe will boot. */
static void parse_args(int argc, char *argv[], struct lg_boot *b)
{
	struct option *options = devices_options(core_options, DEVICE_OPT);
	const char *words;
	char *user, *all;
	int opt;

	/* "+": stop at MEM; the kernel command line is not ours. */
	opterr = 0;
	while ((opt = getopt_long(argc, argv, "+:i:vh", options, NULL)) != -1) {
		if (devices_parse_option(opt, optarg))
			continue;
		switch (opt) {
		case 'i':
			b->initrd_path = optarg;
			break;
		case 'v':
			verbose++;
			break;
		case 'h':
			fputs(usage_head, stdout);
			devices_usage();
			fputs(usage_tail, stdout);
			exit(0);
		case ':':
			die("%s: needs an argument (see --help)",
			    argv[optind - 1]);
		default:
			bad_option(argv);
		}
	}
	if (argc - optind < 2)
		die("arguments: missing %s (see --help)",
		    optind == argc ? "MEM and KERNEL" : "KERNEL");

	b->mem_size = parse_mem(argv[optind]);
	kernel_open(&b->kernel, argv[optind + 1]);
	if (b->initrd_path)
		b->initrd = read_file(b->initrd_path, LGUEST_MAX_MEM_SIZE,
				      &b->initrd_size);
	devices_check(b);

	/*
	 * The devices' words go first: the user's command line may end with
	 * "--" and words for init.
	 */
	words = lg_cmdline_words();
	user = join_words(argv + optind + 2, argc - optind - 2);
	if (*words && *user) {
		all = xmalloc(strlen(words) + strlen(user) + 2);
		sprintf(all, "%s %s", words, user);
		free(user);
		b->cmdline = all;
	} else {
		b->cmdline = *words ? words : user;
	}
	free(options);
	boot_check(b);
}

/* Leave as the signal would have had us: the terminal restored first. */
static void die_of_signal(int sig)
{
	term_restore();
	signal(sig, SIG_DFL);
	raise(sig);
}

/*
 * SIGINT, SIGTERM, SIGHUP: stop the guest.  The main loop notices when
 * LGUEST_RUN returns (it does, with EINTR).  A second one does not wait.
 */
static void stop_handler(int sig)
{
	if (atomic_exchange(&lg_stop_signal, sig))
		die_of_signal(sig);
}

static void signals_init(void)
{
	static const int stop[] = { SIGINT, SIGTERM, SIGHUP };
	static const int fatal[] = { SIGSEGV, SIGBUS, SIGILL, SIGFPE,
				     SIGABRT, SIGQUIT, SIGPIPE };
	struct sigaction sa = { 0 };
	size_t i;

	/* No SA_RESTART: LGUEST_RUN must come back to look at the flag. */
	sa.sa_handler = stop_handler;
	for (i = 0; i < sizeof(stop) / sizeof(*stop); i++)
		sigaction(stop[i], &sa, NULL);
	sa.sa_handler = die_of_signal;
	for (i = 0; i < sizeof(fatal) / sizeof(*fatal); i++)
		sigaction(fatal[i], &sa, NULL);
}

static int lguest_open(void)
{
	int fd = open(LG_DEVICE, O_RDWR | O_CLOEXEC);
	int version;

	if (fd < 0 && (errno == ENOENT || errno == ENODEV || errno == ENXIO))
		die("%s: %s (is lg.ko loaded?)", LG_DEVICE, strerror(errno));
	if (fd < 0)
		die("%s: %s", LG_DEVICE, strerror(errno));
	version = ioctl(fd, LGUEST_GET_API_VERSION, 0);
	if (version < 0)
		die("%s: LGUEST_GET_API_VERSION: %s", LG_DEVICE,
		    strerror(errno));
	if (version != LGUEST_API_VERSION)
		die("%s: API version %d, this launcher speaks %d", LG_DEVICE,
		    version, LGUEST_API_VERSION);
	return fd;
}

/* Create the guest, with everything in place for it to start. */
static void guest_start(struct lg_guest *g, const struct lg_boot *b)
{
	struct lguest_init init = { 0 };
	struct lguest_regs regs;

	g->mem_size = b->mem_size;
	g->mem = mmap(NULL, g->mem_size, PROT_READ | PROT_WRITE,
		      MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (g->mem == MAP_FAILED)
		die("guest memory: %u MiB: %s", g->mem_size >> 20,
		    strerror(errno));
	boot_setup(b, g->mem);

	g->fd = lguest_open();
	init.mem_addr = (uintptr_t)g->mem;
	init.mem_size = g->mem_size;
	init.entry = b->kernel.entry;
	init.cr3 = LG_PGDIR;
	if (ioctl(g->fd, LGUEST_INIT, &init) < 0)
		die("%s: LGUEST_INIT: %s", LG_DEVICE, strerror(errno));
	if (ioctl(g->fd, LGUEST_GET_REGS, &regs) < 0)
		die("%s: LGUEST_GET_REGS: %s", LG_DEVICE, strerror(errno));
	regs.esi = LG_BOOT_PARAMS;
	if (ioctl(g->fd, LGUEST_SET_REGS, &regs) < 0)
		die("%s: LGUEST_SET_REGS: %s", LG_DEVICE, strerror(errno));
	pr_verbose(1, "guest created, starting at %#x", init.entry);
}

/* Closing the file destroys the guest; then its memory can go. */
static void guest_stop(struct lg_guest *g)
{
	close(g->fd);
	munmap(g->mem, g->mem_size);
}

static void handle_hypercall(struct lg_guest *g, struct lguest_run *run)
{
	const u32 *arg = run->hypercall.args;

	pr_verbose(2, "exit: hypercall %#x(%#x, %#x, %#x, %#x)",
		   run->hypercall.nr, arg[0], arg[1], arg[2], arg[3]);
	if (devices_hypercall(g, run))
		return;
	pr_verbose(1, "unknown hypercall %#x(%#x, %#x, %#x, %#x): EOPNOTSUPP",
		   run->hypercall.nr, arg[0], arg[1], arg[2], arg[3]);
	run->hypercall.ret = -EOPNOTSUPP;
}

static int handle_shutdown(u32 type)
{
	switch (type) {
	case LGUEST_SHUTDOWN_POWEROFF:
		pr_verbose(1, "guest powered off");
		return LG_STATUS_POWEROFF;
	case LGUEST_SHUTDOWN_RESTART:
		pr_verbose(1, "guest restarting");
		return LG_STATUS_RESTART;
	case LGUEST_SHUTDOWN_CRASH:
		/* The panic message went out on the console already. */
		pr_verbose(1, "guest kernel panicked");
		return LG_STATUS_CRASH;
	}
	pr_err("unexpected shutdown type %u", type);
	return LG_STATUS_KILLED;
}

/* Act on one exit: KEEP_RUNNING, or how the guest ended. */
static int handle_exit(struct lg_guest *g, struct lguest_run *run)
{
	switch (run->exit_reason) {
	case LGUEST_EXIT_HYPERCALL:
		handle_hypercall(g, run);
		return KEEP_RUNNING;
	case LGUEST_EXIT_INTR:
		return KEEP_RUNNING;
	case LGUEST_EXIT_SHUTDOWN:
		return handle_shutdown(run->shutdown.type);
	case LGUEST_EXIT_DEAD:
		pr_err("guest killed by the host: %.*s", LGUEST_REASON_LEN,
		       run->dead.reason);
		return LG_STATUS_KILLED;
	case LGUEST_EXIT_MMIO:
		pr_verbose(2, "exit: MMIO %s of %u bytes at %#llx",
			   run->mmio.is_write ? "write" : "read", run->mmio.len,
			   (unsigned long long)run->mmio.phys_addr);
		if (devices_mmio(g, run))
			return KEEP_RUNNING;
		/* Outside every window: the host should never send these. */
		pr_err("unexpected MMIO exit: %s of %u bytes at %#llx",
		       run->mmio.is_write ? "write" : "read", run->mmio.len,
		       (unsigned long long)run->mmio.phys_addr);
		return LG_STATUS_KILLED;
	}
	pr_err("unexpected exit reason %u", run->exit_reason);
	return LG_STATUS_KILLED;
}

/*
 * Run the guest until it ends.  The structure goes back to LGUEST_RUN as
 * it came out, with the answer to a hypercall filled in.
 */
static int guest_run(struct lg_guest *g)
{
	struct lguest_run run = { 0 };
	int status, sig;

	for (;;) {
		sig = atomic_load(&lg_stop_signal);
		if (sig) {
			pr_verbose(1, "stopped by signal %d", sig);
			die_of_signal(sig);
			exit(128 + sig);
		}
		if (ioctl(g->fd, LGUEST_RUN, &run) < 0) {
			if (errno != EINTR)
				die("%s: LGUEST_RUN: %s", LG_DEVICE,
				    strerror(errno));
			pr_verbose(2, "exit: interrupted by a signal");
			continue;
		}
		status = handle_exit(g, &run);
		if (status != KEEP_RUNNING)
			return status;
	}
}

int main(int argc, char *argv[])
{
	static struct lg_boot boot;	/* kept for restarts */
	struct lg_guest guest;
	int status;

	parse_args(argc, argv, &boot);
	signals_init();
	term_init();
	guest_start(&guest, &boot);
	for (;;) {
		devices_start(&guest);
		status = guest_run(&guest);
		devices_stop(&guest);
		guest_stop(&guest);
		if (status != LG_STATUS_RESTART)
			return status;
		guest_start(&guest, &boot);
	}
}
