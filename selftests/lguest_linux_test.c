// SPDX-License-Identifier: GPL-2.0
/*
 * Linux as an lguest guest: the launcher boots a kernel with an initramfs
 * and the test reads the guest's console (the launcher's stdout) line by
 * line, timestamping each line as it arrives.
 *
 * The guest initramfs is the rig's (scripts/mkinitramfs.sh): busybox, an
 * /init that does what "guest=MODE" on the kernel command line says, and
 * lguest_guest_check, which checks the guest from its own user space and
 * reports in lines starting with "LGTEST " (see lguest_guest_check.c).
 *
 * One guest (guest=check) serves the boot, time, wallclock, syscalls and
 * poweroff tests; whichever of them runs first boots it and the others
 * read what it left in shared memory.  Rebooting and panicking take a
 * guest each.
 * The bad_input tests only run the launcher on bad arguments and images.
 *
 * The launcher, kernel and initrd are $LGUEST_LAUNCHER (default: lguest
 * in $PATH), $LGUEST_KERNEL (/boot/bzImage) and $LGUEST_INITRD
 * (/boot/guest.cpio.gz).  The guest tests are skipped without them or
 * without /dev/lguest.  Every launcher run has a hard time limit: a hung
 * guest fails its test and the launcher is killed.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <linux/elf.h>

#include "../kselftest_harness.h"

#define GUEST_MEM_MB		128
#define RUN_TIMEOUT_S		300	/* one launcher run: boot and all */
#define STOP_TIMEOUT_S		10	/* for the launcher to die of SIGTERM */
#define GUEST_TEST_TIMEOUT_S	(RUN_TIMEOUT_S + STOP_TIMEOUT_S + 30)
#define BAD_RUN_TIMEOUT_S	60
#define BAD_TEST_TIMEOUT_S	(BAD_RUN_TIMEOUT_S + STOP_TIMEOUT_S + 10)

#define SLEEP_S			2.0	/* what the guest sleeps ... */
#define SLEEP_SLACK		0.10	/* ... give or take 10% */
#define WALLCLOCK_SLACK_S	2.0
#define TRAPS_PER_CALL_DIV	100	/* at most 1% of the syscalls exit */

#define OUT_MAX			(256 * 1024)
#define ERR_MAX			4096
#define LINE_LEN		1024
#define TAIL_LINES		40
#define MAX_EXIT_REASONS	16
#define EXIT_NAME_LEN		32

#define LG_DEVICE		"/dev/lguest"
#define LG_DEBUGFS		"/sys/kernel/debug/lguest"
#define PARAVIRT_BANNER		"Booting paravirtualized kernel on lguest"
#define INIT_PANIC		"Kernel panic - not syncing: Attempted to kill init!"

/* bzImage setup header fields (Documentation/arch/x86/boot.rst). */
#define BZ_MAGIC_OFFSET		0x202
#define BZ_VERSION_OFFSET	0x206
#define BZ_KVER_OFFSET		0x20e

#define NT_GNU_ABI_TAG		1	/* <elf.h>'s, not in the uapi header */

/* The launcher, kernel and initrd to use. */
struct lg_paths {
	char launcher[PATH_MAX];
	const char *kernel;
	const char *initrd;
};

/* One launcher run: what it wrote and how it ended. */
struct lg_run {
	pid_t pid;
	int in;			/* the guest's console input */
	double t0;		/* CLOCK_MONOTONIC at the start, in s */
	int status;		/* wait status of the launcher */
	bool timed_out;		/* we killed it: it ran out of time */
	bool stopped;		/* we stopped it with SIGTERM, as asked */
	size_t out_len, err_len;
	char out[OUT_MAX];	/* stdout, lines without '\r' */
	char err[ERR_MAX];	/* stderr */
};

/* Called for each line of the guest's output; true stops the guest. */
typedef bool (*line_fn)(struct lg_run *r, const char *line, void *arg);

struct lg_exits {
	int n;
	char name[MAX_EXIT_REASONS][EXIT_NAME_LEN];
	unsigned long long count[MAX_EXIT_REASONS];
};

/* The guest=check run, shared by the tests that look at it. */
struct check_run {
	bool started, done;
	double t_user;			/* first LGTEST line */
	bool have_wall;
	double wall_guest, wall_host;	/* at "wallclock=" */
	bool have_start, have_end;
	double t_start, t_end;		/* "time start", "time end" */
	long long guest_sleep_ns;
	bool have_ready, have_done;
	bool exits_ok, audit_ok;
	struct lg_exits before, after;	/* at "getpid ready", "done" */
	struct lg_exits audit;		/* at "done", if the host audits */
	long long calls, ns_per_call, wrong;
	struct lg_run run;
};

static struct check_run *check_run;

static double now_s(clockid_t clk)
{
	struct timespec ts;

	clock_gettime(clk, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void append(char *buf, size_t *len, size_t max, const char *s,
		   size_t n)
{
	/* Full: drop the older half, the end is what tells what happened. */
	if (*len + n + 1 > max) {
		size_t keep = *len / 2;

		memmove(buf, buf + *len - keep, keep);
		*len = keep;
		if (n + 1 > max - keep)
			n = max - keep - 1;
	}
	memcpy(buf + *len, s, n);
	*len += n;
	buf[*len] = '\0';
}

/* $PATH lookup of the launcher, unless $LGUEST_LAUNCHER names it. */
static bool find_launcher(char *buf, size_t len)
{
	const char *env = getenv("LGUEST_LAUNCHER");
	char path[PATH_MAX], *dir, *save;

	if (env) {
		snprintf(buf, len, "%s", env);
		return !access(buf, X_OK);
	}
	snprintf(path, sizeof(path), "%s",
		 getenv("PATH") ? getenv("PATH") : "/bin:/usr/bin");
	for (dir = strtok_r(path, ":", &save); dir;
	     dir = strtok_r(NULL, ":", &save)) {
		snprintf(buf, len, "%s/lguest", dir);
		if (!access(buf, X_OK))
			return true;
	}
	snprintf(buf, len, "lguest");
	return false;
}

static const char *env_or(const char *name, const char *def)
{
	const char *v = getenv(name);

	return v && *v ? v : def;
}

/* Fill in @p; NULL, or what is missing for a guest to run. */
static const char *paths_init(struct lg_paths *p, bool guest)
{
	static char why[PATH_MAX + 64];
	bool launcher = find_launcher(p->launcher, sizeof(p->launcher));

	p->kernel = env_or("LGUEST_KERNEL", "/boot/bzImage");
	p->initrd = env_or("LGUEST_INITRD", "/boot/guest.cpio.gz");
	if (!launcher) {
		snprintf(why, sizeof(why), "no launcher: %s", p->launcher);
		return why;
	}
	if (!guest)
		return NULL;
	if (access(LG_DEVICE, F_OK))
		return LG_DEVICE " does not exist (is lg.ko loaded?)";
	if (access(p->kernel, R_OK)) {
		snprintf(why, sizeof(why), "no guest kernel %s", p->kernel);
		return why;
	}
	if (access(p->initrd, R_OK)) {
		snprintf(why, sizeof(why), "no guest initrd %s", p->initrd);
		return why;
	}
	return NULL;
}

static void stop_launcher(struct lg_run *r)
{
	if (!r->stopped)
		kill(r->pid, SIGTERM);
	r->stopped = true;
}

/* Reap the launcher, killing it once @deadline has passed. */
static void reap_launcher(struct lg_run *r, double deadline)
{
	pid_t ret;

	while ((ret = waitpid(r->pid, &r->status, WNOHANG)) == 0 &&
	       now_s(CLOCK_MONOTONIC) < deadline)
		usleep(10000);
	if (ret == r->pid)
		return;
	r->timed_out = true;
	kill(-r->pid, SIGKILL);
	waitpid(r->pid, &r->status, 0);
}

static void got_line(struct lg_run *r, char *line, size_t len, line_fn fn,
		     void *arg)
{
	line[len] = '\0';
	append(r->out, &r->out_len, sizeof(r->out), line, len);
	append(r->out, &r->out_len, sizeof(r->out), "\n", 1);
	if (fn && !r->stopped && fn(r, line, arg))
		stop_launcher(r);
}

/*
 * Run the launcher with @argv until it exits, feeding each line it prints
 * to @fn, for at most @timeout_s seconds.  A run that is stopped (by @fn)
 * gets STOP_TIMEOUT_S to die of SIGTERM.
 */
static void run_launcher(struct lg_run *r, char *const argv[], line_fn fn,
			 void *arg, int timeout_s)
{
	int in[2], out[2], err[2];
	double deadline, stop_deadline = 0, left;
	struct pollfd pfd[2];
	char buf[4096], line[LINE_LEN];
	size_t line_len = 0;
	ssize_t n, i;
	pid_t pid;

	memset(r, 0, offsetof(struct lg_run, out));
	r->out[0] = '\0';
	r->err[0] = '\0';
	signal(SIGPIPE, SIG_IGN);	/* writes to a launcher that died */
	if (pipe2(in, O_CLOEXEC) || pipe2(out, O_CLOEXEC) ||
	    pipe2(err, O_CLOEXEC)) {
		perror("pipe2");
		exit(KSFT_FAIL);
	}
	fflush(stdout);
	fflush(stderr);
	r->t0 = now_s(CLOCK_MONOTONIC);
	deadline = r->t0 + timeout_s;
	/* @r may be shared memory: the child must not write to it. */
	pid = fork();
	if (pid < 0) {
		perror("fork");
		exit(KSFT_FAIL);
	}
	if (!pid) {
		/*
		 * Never outlive the test, whatever happens to it; a group of
		 * its own, for us to kill with anything it may have started.
		 */
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		setpgid(0, 0);
		dup2(in[0], STDIN_FILENO);
		dup2(out[1], STDOUT_FILENO);
		dup2(err[1], STDERR_FILENO);
		execv(argv[0], argv);
		fprintf(stderr, "exec %s: %s\n", argv[0], strerror(errno));
		_exit(127);
	}
	setpgid(pid, pid);	/* whichever of us comes first */
	r->pid = pid;
	close(in[0]);
	close(out[1]);
	close(err[1]);
	r->in = in[1];
	pfd[0] = (struct pollfd){ .fd = out[0], .events = POLLIN };
	pfd[1] = (struct pollfd){ .fd = err[0], .events = POLLIN };

	while (pfd[0].fd >= 0 || pfd[1].fd >= 0) {
		if (r->stopped && !stop_deadline)
			stop_deadline = now_s(CLOCK_MONOTONIC) + STOP_TIMEOUT_S;
		left = (stop_deadline ? stop_deadline : deadline) -
		       now_s(CLOCK_MONOTONIC);
		if (left <= 0) {
			r->timed_out = true;
			kill(-r->pid, SIGKILL);
			break;
		}
		if (poll(pfd, 2, left * 1000 + 1) < 0 && errno != EINTR)
			break;
		if (pfd[0].revents) {
			n = read(pfd[0].fd, buf, sizeof(buf));
			if (n <= 0) {
				close(pfd[0].fd);
				pfd[0].fd = -1;
			}
			for (i = 0; i < n; i++) {
				if (buf[i] == '\r')
					continue;
				if (buf[i] != '\n' && line_len < LINE_LEN - 1) {
					line[line_len++] = buf[i];
					continue;
				}
				got_line(r, line, line_len, fn, arg);
				line_len = 0;
				if (buf[i] != '\n')
					line[line_len++] = buf[i];
			}
		}
		if (pfd[1].revents) {
			n = read(pfd[1].fd, buf, sizeof(buf));
			if (n <= 0) {
				close(pfd[1].fd);
				pfd[1].fd = -1;
			} else {
				append(r->err, &r->err_len, sizeof(r->err),
				       buf, n);
			}
		}
	}
	if (line_len)
		got_line(r, line, line_len, fn, arg);
	if (pfd[0].fd >= 0)
		close(pfd[0].fd);
	if (pfd[1].fd >= 0)
		close(pfd[1].fd);
	close(r->in);
	reap_launcher(r, r->timed_out ? 0 :
		      stop_deadline ? stop_deadline :
		      now_s(CLOCK_MONOTONIC) + STOP_TIMEOUT_S);
}

static void describe_status(const struct lg_run *r, char *buf, size_t len)
{
	if (WIFEXITED(r->status))
		snprintf(buf, len, "exit status %d", WEXITSTATUS(r->status));
	else if (WIFSIGNALED(r->status))
		snprintf(buf, len, "killed by signal %d",
			 WTERMSIG(r->status));
	else
		snprintf(buf, len, "wait status %#x", r->status);
	if (r->timed_out)
		snprintf(buf + strlen(buf), len - strlen(buf),
			 " (timed out, killed)");
}

/* The last @lines lines of the guest's output and the launcher's stderr. */
static void dump_tail(const struct lg_run *r, int lines)
{
	const char *p = r->out + r->out_len, *end;
	char status[64];

	while (p > r->out && lines >= 0)
		if (*--p == '\n')
			lines--;
	if (*p == '\n')
		p++;
	for (; *p; p = end + 1) {
		end = strchrnul(p, '\n');
		ksft_print_msg("guest: %.*s\n", (int)(end - p), p);
		if (!*end)
			break;
	}
	for (p = r->err; *p; p = end + 1) {
		end = strchrnul(p, '\n');
		ksft_print_msg("launcher: %.*s\n", (int)(end - p), p);
		if (!*end)
			break;
	}
	describe_status(r, status, sizeof(status));
	ksft_print_msg("launcher: %s after %.1f s\n", status,
		       now_s(CLOCK_MONOTONIC) - r->t0);
}

/*
 * Lines worth showing as they come, ours and the milestones of a boot,
 * with the time since the launcher started.
 */
static void echo_line(const struct lg_run *r, const char *line)
{
	if (strstr(line, "LGTEST ") || strstr(line, "Linux version ") ||
	    strstr(line, "Kernel panic"))
		ksft_print_msg("guest %6.1f s: %s\n",
			       now_s(CLOCK_MONOTONIC) - r->t0, line);
}

/*
 * The release of the kernel in @path: a bzImage says it in its setup
 * header, a vmlinux has it in its banner.
 */
static bool kernel_release(const char *path, char *rel, size_t len)
{
	const char *banner = "Linux version ", *s = NULL;
	unsigned char *f;
	struct stat st;
	size_t off;
	bool ok;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return false;
	if (fstat(fd, &st) || st.st_size < 0x1000) {
		close(fd);
		return false;
	}
	f = mmap(NULL, st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
	close(fd);
	if (f == MAP_FAILED)
		return false;
	if (!memcmp(f + BZ_MAGIC_OFFSET, "HdrS", 4) &&
	    (f[BZ_VERSION_OFFSET] | f[BZ_VERSION_OFFSET + 1] << 8) >= 0x200) {
		off = 0x200 + (f[BZ_KVER_OFFSET] | f[BZ_KVER_OFFSET + 1] << 8);
		if (off > 0x200 && off < (size_t)st.st_size)
			s = (const char *)f + off;
	} else {
		s = memmem(f, st.st_size, banner, strlen(banner));
		if (s)
			s += strlen(banner);
	}
	ok = s && s + len < (const char *)f + st.st_size;
	if (ok) {
		snprintf(rel, len, "%.*s", (int)len - 1, s);
		rel[strcspn(rel, " ")] = '\0';
		ok = rel[0];
	}
	munmap(f, st.st_size);
	return ok;
}

/*
 * Boot the guest in @mode (see scripts/rig/guest-init), telling it what
 * lguest_guest_check compares with.  @quiet keeps the kernel's messages
 * below warnings off the console.
 */
static void run_guest(struct __test_metadata *_metadata,
		      const struct lg_paths *p, struct lg_run *r,
		      const char *mode, bool quiet, line_fn fn, void *arg)
{
	char initrd[PATH_MAX + 16], mem[16], guest[64], rel[128];
	char release[160], mem_kb[64], *argv[11];
	int n = 0;

	ASSERT_TRUE(kernel_release(p->kernel, rel, sizeof(rel)))
		TH_LOG("cannot find the kernel release in %s", p->kernel);
	snprintf(initrd, sizeof(initrd), "--initrd=%s", p->initrd);
	snprintf(mem, sizeof(mem), "%dM", GUEST_MEM_MB);
	snprintf(guest, sizeof(guest), "guest=%s", mode);
	snprintf(release, sizeof(release), "lgtest_release=%s", rel);
	snprintf(mem_kb, sizeof(mem_kb), "lgtest_mem_kb=%d",
		 GUEST_MEM_MB * 1024);
	argv[n++] = (char *)p->launcher;
	argv[n++] = initrd;
	argv[n++] = mem;
	argv[n++] = (char *)p->kernel;
	argv[n++] = guest;
	argv[n++] = release;
	argv[n++] = mem_kb;
	/*
	 * The guest runs the kernel under test, debug options and all; page
	 * poisoning and slab checks would cost it most of its boot time
	 * under an emulator, and they are the host's to run.
	 */
	argv[n++] = "debug_pagealloc=off";
	argv[n++] = "slub_debug=-";
	if (quiet)
		argv[n++] = "quiet";
	argv[n] = NULL;
	TH_LOG("%s %s %s %s %s %s %s %s %s%s", argv[0], initrd, mem,
	       p->kernel, guest, release, mem_kb, argv[7], argv[8],
	       quiet ? " quiet" : "");
	run_launcher(r, argv, fn, arg, RUN_TIMEOUT_S);
}

/*
 * Counters ("name value" lines) of the launcher's latest guest, from
 * debugfs: "exits", or "audit" if the host has CONFIG_LGUEST_AUDIT.
 */
static bool read_counters(pid_t pid, const char *file, struct lg_exits *e)
{
	char path[PATH_MAX], prefix[32];
	int id, best = -1;
	struct dirent *d;
	FILE *f;
	DIR *dir;

	dir = opendir(LG_DEBUGFS);
	if (!dir)
		return false;
	snprintf(prefix, sizeof(prefix), "%d-", pid);
	while ((d = readdir(dir))) {
		if (!strncmp(d->d_name, prefix, strlen(prefix))) {
			id = atoi(d->d_name + strlen(prefix));
			if (id > best)
				best = id;
		}
	}
	closedir(dir);
	if (best < 0)
		return false;
	snprintf(path, sizeof(path), "%s/%d-%d/%s", LG_DEBUGFS, pid, best,
		 file);
	f = fopen(path, "r");
	if (!f)
		return false;
	e->n = 0;
	while (e->n < MAX_EXIT_REASONS &&
	       fscanf(f, "%31s %llu", e->name[e->n], &e->count[e->n]) == 2)
		e->n++;
	fclose(f);
	return e->n > 0;
}

static long long exit_count(const struct lg_exits *e, const char *name)
{
	int i;

	for (i = 0; i < e->n; i++)
		if (!strcmp(e->name[i], name))
			return e->count[i];
	return -1;
}

/* Tell a guest waiting in lguest_guest_check to go on. */
static void guest_go(struct lg_run *r)
{
	if (write(r->in, "go\n", 3) != 3)
		ksft_print_msg("cannot write to the guest's console: %s\n",
			       strerror(errno));
}

static bool check_line(struct lg_run *r, const char *line, void *arg)
{
	struct check_run *c = arg;
	const char *m = strstr(line, "LGTEST ");
	double t = now_s(CLOCK_MONOTONIC), wall = now_s(CLOCK_REALTIME);
	long long sec;
	long nsec;

	echo_line(r, line);
	if (!m)
		return false;
	if (!c->t_user)
		c->t_user = t - r->t0;
	if (sscanf(m, "LGTEST wallclock=%lld.%ld", &sec, &nsec) == 2) {
		c->have_wall = true;
		c->wall_guest = sec + nsec / 1e9;
		c->wall_host = wall;
	} else if (!strcmp(m, "LGTEST time start")) {
		c->have_start = true;
		c->t_start = t;
	} else if (sscanf(m, "LGTEST time end guest_ns=%lld",
			  &c->guest_sleep_ns) == 1) {
		c->have_end = true;
		c->t_end = t;
	} else if (!strcmp(m, "LGTEST getpid ready")) {
		c->have_ready = true;
		c->exits_ok = read_counters(r->pid, "exits", &c->before);
		guest_go(r);
	} else if (sscanf(m, "LGTEST getpid done calls=%lld ns_per_call=%lld wrong=%lld",
			  &c->calls, &c->ns_per_call, &c->wrong) == 3) {
		c->have_done = true;
		c->exits_ok &= read_counters(r->pid, "exits", &c->after);
		c->audit_ok = read_counters(r->pid, "audit", &c->audit);
		guest_go(r);
	}
	return false;
}

/* The guest=check run, booted by the first test that needs it. */
static struct check_run *get_check_run(struct __test_metadata *_metadata,
				       const struct lg_paths *p)
{
	struct check_run *c = check_run;

	ASSERT_TRUE(!!c);
	if (c->done)
		return c;
	ASSERT_FALSE(c->started)
		TH_LOG("the guest=check run was cut short in an earlier test");
	c->started = true;
	run_guest(_metadata, p, &c->run, "check", true, check_line, c);
	c->done = true;
	if (c->run.timed_out || !WIFEXITED(c->run.status) ||
	    WEXITSTATUS(c->run.status) ||
	    !strstr(c->run.out, "LGTEST verdict ok"))
		dump_tail(&c->run, TAIL_LINES);
	return c;
}

static void __attribute__((constructor)) check_run_alloc(void)
{
	void *p = mmap(NULL, sizeof(*check_run), PROT_READ | PROT_WRITE,
		       MAP_SHARED | MAP_ANONYMOUS, -1, 0);

	check_run = p == MAP_FAILED ? NULL : p;
	/* Show the guest's lines as they come, even into a pipe. */
	setvbuf(stdout, NULL, _IOLBF, 0);
}

/* Files the bad_input tests give the launcher, in a fresh directory. */
FIXTURE(bad_input) {
	struct lg_paths paths;
	char dir[64];
	bool have_kernel;
};

/*
 * The launcher's arguments.  Words starting with '@' are files from
 * FIXTURE_SETUP (bad_input), "@kernel" is the real kernel, "@long" a
 * kernel command line too long for any kernel.
 */
FIXTURE_VARIANT(bad_input) {
	const char *args[4];
	const char *expect;	/* in the launcher's one line on stderr */
	bool need_kernel;	/* the real kernel has to be there */
};

FIXTURE_VARIANT_ADD(bad_input, no_args) {
	.args = { NULL },
	.expect = "arguments: missing MEM and KERNEL",
};

FIXTURE_VARIANT_ADD(bad_input, unknown_option) {
	.args = { "--bogus", "64M", "@kernel" },
	.expect = "--bogus: unknown option",
};

FIXTURE_VARIANT_ADD(bad_input, mem_not_a_number) {
	.args = { "abc", "@kernel" },
	.expect = "memory size 'abc': not a number",
};

FIXTURE_VARIANT_ADD(bad_input, mem_too_small) {
	.args = { "16M", "@kernel" },
	.expect = "memory size '16M': less than 32 MiB",
};

FIXTURE_VARIANT_ADD(bad_input, mem_too_large) {
	.args = { "2G", "@kernel" },
	.expect = "memory size '2G': more than",
};

FIXTURE_VARIANT_ADD(bad_input, missing_kernel) {
	.args = { "64M", "@missing-kernel" },
	.expect = "missing-kernel: No such file or directory",
};

FIXTURE_VARIANT_ADD(bad_input, empty_kernel) {
	.args = { "64M", "@empty" },
	.expect = "empty: file is empty",
};

FIXTURE_VARIANT_ADD(bad_input, text_kernel) {
	.args = { "64M", "@text" },
	.expect = "text: not a kernel image",
};

FIXTURE_VARIANT_ADD(bad_input, truncated_kernel) {
	.args = { "64M", "@truncated" },
	.expect = "truncated: truncated ",
	.need_kernel = true,
};

FIXTURE_VARIANT_ADD(bad_input, elf_64bit) {
	.args = { "64M", "@elf64" },
	.expect = "elf64: wrong architecture: need a 32-bit x86 kernel",
};

FIXTURE_VARIANT_ADD(bad_input, elf_no_lguest_note) {
	.args = { "64M", "@elf32" },
	.expect = "elf32: kernel has no lguest support (no lguest ELF note)",
};

FIXTURE_VARIANT_ADD(bad_input, cmdline_too_long) {
	.args = { "64M", "@kernel", "@long" },
	.expect = "kernel command line: too long",
	.need_kernel = true,
};

FIXTURE_VARIANT_ADD(bad_input, missing_initrd) {
	.args = { "--initrd=@missing-initrd", "64M", "@kernel" },
	.expect = "missing-initrd: No such file or directory",
	.need_kernel = true,
};

static void write_file(struct __test_metadata *_metadata, const char *dir,
		       const char *name, const void *data, size_t len)
{
	char path[PATH_MAX];
	int fd;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	ASSERT_LE(0, fd) TH_LOG("%s: %s", path, strerror(errno));
	ASSERT_EQ((ssize_t)len, write(fd, data, len));
	close(fd);
}

/* The first half of the real kernel. */
static void write_truncated(struct __test_metadata *_metadata,
			    const char *dir, const char *kernel)
{
	struct stat st;
	void *f;
	int fd;

	fd = open(kernel, O_RDONLY | O_CLOEXEC);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, fstat(fd, &st));
	f = mmap(NULL, st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
	close(fd);
	ASSERT_TRUE(f != MAP_FAILED);
	write_file(_metadata, dir, "truncated", f, st.st_size / 2);
	munmap(f, st.st_size);
}

/* A 64-bit x86 ELF executable header, and nothing else. */
static void write_elf64(struct __test_metadata *_metadata, const char *dir)
{
	struct elf64_hdr eh = {
		.e_ident = { ELFMAG0, ELFMAG1, ELFMAG2, ELFMAG3, ELFCLASS64,
			     ELFDATA2LSB, EV_CURRENT },
		.e_type = ET_EXEC,
		.e_machine = EM_X86_64,
		.e_version = EV_CURRENT,
		.e_entry = 0x1000000,
		.e_ehsize = sizeof(struct elf64_hdr),
		.e_phentsize = sizeof(struct elf64_phdr),
	};

	write_file(_metadata, dir, "elf64", &eh, sizeof(eh));
}

/*
 * A well-formed 32-bit x86 executable, loaded at 2 MiB like a kernel,
 * with a note that is not lguest's.
 */
static void write_elf32(struct __test_metadata *_metadata, const char *dir)
{
	struct {
		struct elf32_hdr eh;
		struct elf32_phdr ph[2];
		struct elf32_note nh;
		char name[4];
		unsigned int desc[4];
		unsigned char code[16];
	} img = {
		.eh = {
			.e_ident = { ELFMAG0, ELFMAG1, ELFMAG2, ELFMAG3,
				     ELFCLASS32, ELFDATA2LSB, EV_CURRENT },
			.e_type = ET_EXEC,
			.e_machine = EM_386,
			.e_version = EV_CURRENT,
			.e_entry = 0x200000,
			.e_phoff = offsetof(typeof(img), ph),
			.e_ehsize = sizeof(struct elf32_hdr),
			.e_phentsize = sizeof(struct elf32_phdr),
			.e_phnum = 2,
		},
		.ph = {
			{
				.p_type = PT_LOAD,
				.p_offset = offsetof(typeof(img), code),
				.p_vaddr = 0xc0200000,
				.p_paddr = 0x200000,
				.p_filesz = sizeof(img.code),
				.p_memsz = 0x1000,
				.p_flags = PF_R | PF_X,
				.p_align = 0x1000,
			}, {
				.p_type = PT_NOTE,
				.p_offset = offsetof(typeof(img), nh),
				.p_filesz = sizeof(img.nh) + sizeof(img.name) +
					    sizeof(img.desc),
				.p_align = 4,
			},
		},
		.nh = {
			.n_namesz = sizeof(img.name),
			.n_descsz = sizeof(img.desc),
			.n_type = NT_GNU_ABI_TAG,
		},
		.name = "GNU",
		.desc = { 0, 6, 12, 0 },	/* ELF_NOTE_OS_LINUX 6.12.0 */
		.code = { 0xf4, 0xeb, 0xfd },	/* 1: hlt; jmp 1b */
	};

	write_file(_metadata, dir, "elf32", &img, sizeof(img));
}

FIXTURE_SETUP(bad_input)
{
	static const char text[] = "This is not a kernel.\n";
	const char *why = paths_init(&self->paths, false);

	if (why)
		SKIP(return, "%s", why);
	self->have_kernel = !access(self->paths.kernel, R_OK);
	if (variant->need_kernel && !self->have_kernel)
		SKIP(return, "no kernel %s", self->paths.kernel);
	snprintf(self->dir, sizeof(self->dir), "/tmp/lguest_linux_test.XXXXXX");
	ASSERT_TRUE(!!mkdtemp(self->dir));
	write_file(_metadata, self->dir, "empty", "", 0);
	write_file(_metadata, self->dir, "text", text, sizeof(text) - 1);
	write_elf64(_metadata, self->dir);
	write_elf32(_metadata, self->dir);
	if (variant->need_kernel)
		write_truncated(_metadata, self->dir, self->paths.kernel);
}

/* In the parent, so that the files go even after a failed assertion. */
FIXTURE_TEARDOWN_PARENT(bad_input)
{
	static const char * const files[] = {
		"empty", "text", "elf64", "elf32", "truncated",
	};
	char path[PATH_MAX];
	size_t i;

	if (!self->dir[0])
		return;
	for (i = 0; i < ARRAY_SIZE(files); i++) {
		snprintf(path, sizeof(path), "%s/%s", self->dir, files[i]);
		unlink(path);
	}
	rmdir(self->dir);
}

/*
 * The launcher refuses, with exit status 1 and one line on stderr that
 * says why, before it starts any guest.
 */
TEST_F_TIMEOUT(bad_input, rejected, BAD_TEST_TIMEOUT_S)
{
	char words[4][PATH_MAX], *argv[6] = { self->paths.launcher };
	char status[64], *nl;
	struct lg_run *r = malloc(sizeof(*r));
	const char *a, *at;
	int i;

	ASSERT_TRUE(!!r);
	for (i = 0; i < 4 && variant->args[i]; i++) {
		a = variant->args[i];
		at = strchr(a, '@');
		if (!at)
			snprintf(words[i], PATH_MAX, "%s", a);
		else if (!strcmp(at, "@kernel"))
			snprintf(words[i], PATH_MAX, "%.*s%s",
				 (int)(at - a), a, self->paths.kernel);
		else if (!strcmp(at, "@long"))
			snprintf(words[i], PATH_MAX, "lgtest_pad=%02100d", 0);
		else
			snprintf(words[i], PATH_MAX, "%.*s%s/%s",
				 (int)(at - a), a, self->dir, at + 1);
		argv[i + 1] = words[i];
	}
	argv[i + 1] = NULL;

	run_launcher(r, argv, NULL, NULL, BAD_RUN_TIMEOUT_S);
	describe_status(r, status, sizeof(status));
	TH_LOG("stderr: %.*s", (int)strcspn(r->err, "\n"), r->err);
	ASSERT_FALSE(r->timed_out) TH_LOG("launcher: %s", status);
	ASSERT_TRUE(WIFEXITED(r->status))
		TH_LOG("launcher: %s, expected exit status 1", status);
	EXPECT_EQ(1, WEXITSTATUS(r->status));
	EXPECT_EQ(0, strncmp(r->err, "lguest: ", 8));
	nl = strchr(r->err, '\n');
	EXPECT_TRUE(nl && !nl[1]) TH_LOG("not exactly one line on stderr");
	EXPECT_TRUE(!!strstr(r->err, variant->expect))
		TH_LOG("expected \"%s\"", variant->expect);
	EXPECT_EQ(0U, r->out_len) TH_LOG("stdout: %s", r->out);
	free(r);
}

FIXTURE(guest) {
	struct lg_paths paths;
};

FIXTURE_SETUP(guest)
{
	const char *why = paths_init(&self->paths, true);

	if (why)
		SKIP(return, "%s", why);
}

FIXTURE_TEARDOWN(guest)
{
}

/* The checks lguest_guest_check makes in a guest that boots. */
static const char * const boot_checks[] = {
	"uname", "paravirt", "memtotal", "kernel_log", "fork", "exec", "pipe",
	"signals", "threads", "fpu", "procs", "ldt", "ports",
	"no_nested_host", "vulnerabilities",
};

/*
 * The guest boots to user space and every check passes there: its kernel
 * is the one given, knows it runs on lguest, has the memory given, and
 * user space works.  Then it powers off.
 */
TEST_F_TIMEOUT(guest, boot, GUEST_TEST_TIMEOUT_S)
{
	struct check_run *c = get_check_run(_metadata, &self->paths);
	char want[64], status[64];
	size_t i;

	describe_status(&c->run, status, sizeof(status));
	ASSERT_FALSE(c->run.timed_out)
		TH_LOG("the guest did not finish in %d s", RUN_TIMEOUT_S);
	ASSERT_NE(0, c->t_user) TH_LOG("the guest never reached user space");
	TH_LOG("user space %.1f s after the launcher started", c->t_user);
	for (i = 0; i < ARRAY_SIZE(boot_checks); i++) {
		snprintf(want, sizeof(want), "LGTEST check %s ok:",
			 boot_checks[i]);
		EXPECT_TRUE(!!strstr(c->run.out, want))
			TH_LOG("check %s did not pass", boot_checks[i]);
	}
	EXPECT_TRUE(!!strstr(c->run.out, "LGTEST verdict ok"));
	EXPECT_TRUE(WIFEXITED(c->run.status) && !WEXITSTATUS(c->run.status))
		TH_LOG("launcher: %s, expected exit status 0", status);
}

#define VULN_DIR	"/sys/devices/system/cpu/vulnerabilities"

/*
 * A state up to its first ';': what follows is about SMT, which a guest
 * cannot see the host's side of ("SMT Host state unknown").
 */
static size_t vuln_state_len(const char *s)
{
	return strcspn(s, ";\n");
}

/*
 * The guest knows the CPU it runs on: it judges each of its
 * vulnerabilities (the check "vulnerabilities" prints them as
 * "LGTEST vuln NAME: STATE") as the host judges its own.
 */
TEST_F_TIMEOUT(guest, vulnerabilities_match_host, GUEST_TEST_TIMEOUT_S)
{
	struct check_run *c = get_check_run(_metadata, &self->paths);
	char path[PATH_MAX], host[256], want[320];
	const char *line;
	struct dirent *e;
	int n = 0;
	DIR *d;
	FILE *f;

	d = opendir(VULN_DIR);
	if (!d)
		SKIP(return, VULN_DIR ": %s", strerror(errno));
	while ((e = readdir(d))) {
		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), VULN_DIR "/%s", e->d_name);
		f = fopen(path, "r");
		ASSERT_TRUE(f && fgets(host, sizeof(host), f));
		fclose(f);
		snprintf(want, sizeof(want), "LGTEST vuln %s: ", e->d_name);
		line = strstr(c->run.out, want);
		EXPECT_TRUE(!!line) TH_LOG("guest says nothing of %s", e->d_name);
		if (!line)
			continue;
		line += strlen(want);
		EXPECT_TRUE(vuln_state_len(line) == vuln_state_len(host) &&
			    !strncmp(line, host, vuln_state_len(host)))
			TH_LOG("%s: host \"%.*s\", guest \"%.*s\"", e->d_name,
			       (int)vuln_state_len(host), host,
			       (int)vuln_state_len(line), line);
		n++;
	}
	closedir(d);
	TH_LOG("%d vulnerabilities compared", n);
	EXPECT_LT(0, n);
}

/* Two seconds of sleep in the guest are two seconds on the host. */
TEST_F_TIMEOUT(guest, time, GUEST_TEST_TIMEOUT_S)
{
	struct check_run *c = get_check_run(_metadata, &self->paths);
	double host, guest;

	ASSERT_TRUE(c->have_start && c->have_end)
		TH_LOG("the guest did not report its sleep");
	host = c->t_end - c->t_start;
	guest = c->guest_sleep_ns / 1e9;
	TH_LOG("sleep %.0f: %.3f s by the host's clock, %.3f s by the guest's",
	       SLEEP_S, host, guest);
	EXPECT_TRUE(fabs(host - SLEEP_S) <= SLEEP_S * SLEEP_SLACK)
		TH_LOG("the guest's sleep took %.3f s of host time", host);
	EXPECT_TRUE(fabs(guest - host) <= host * SLEEP_SLACK)
		TH_LOG("the guest's clock says %.3f s", guest);
}

/*
 * The guest's time of day, read as soon as its user space runs, is the
 * host's, give or take a little.
 */
TEST_F_TIMEOUT(guest, wallclock, GUEST_TEST_TIMEOUT_S)
{
	struct check_run *c = get_check_run(_metadata, &self->paths);
	double wall;

	ASSERT_TRUE(c->have_wall)
		TH_LOG("the guest did not report its time of day");
	wall = c->wall_guest - c->wall_host;
	TH_LOG("the guest's wallclock - the host's: %+.3f s", wall);
	EXPECT_TRUE(fabs(wall) <= WALLCLOCK_SLACK_S)
		TH_LOG("more than %.0f s off", WALLCLOCK_SLACK_S);
}

/*
 * System calls from guest user space go straight to the guest kernel: a
 * million getpid() calls cause (almost) no trap exits to the host.
 */
TEST_F_TIMEOUT(guest, syscalls, GUEST_TEST_TIMEOUT_S)
{
	struct check_run *c = get_check_run(_metadata, &self->paths);
	long long traps, before, after;
	char line[512];
	size_t len = 0;
	int i;

	ASSERT_TRUE(c->have_ready && c->have_done)
		TH_LOG("the guest did not report its getpid() calls");
	if (!c->exits_ok)
		SKIP(return, "no exit counters in %s", LG_DEBUGFS);
	EXPECT_EQ(0, c->wrong) TH_LOG("getpid() returned a wrong pid");
	for (i = 0; i < c->after.n; i++) {
		before = exit_count(&c->before, c->after.name[i]);
		len += snprintf(line + len, sizeof(line) - len, " %s +%lld",
				c->after.name[i],
				c->after.count[i] - before);
		if (len >= sizeof(line))
			len = sizeof(line) - 1;
	}
	/*
	 * Neither the system call nor anything on its way in or out may
	 * leave the guest: not a trap, and not a hypercall (a process that
	 * once called ioperm() made one on every return to user mode).
	 */
	before = exit_count(&c->before, "trap");
	after = exit_count(&c->after, "trap");
	ASSERT_LE(0, before) TH_LOG("no \"trap\" exit counter");
	traps = after - before;
	before = exit_count(&c->before, "hypercall");
	after = exit_count(&c->after, "hypercall");
	ASSERT_LE(0, before) TH_LOG("no \"hypercall\" exit counter");
	traps += after - before;
	TH_LOG("%lld getpid() calls, %lld ns each in the guest; exits:%s",
	       c->calls, c->ns_per_call, line);
	TH_LOG("%.4f trap and hypercall exits per call (at most 1/%d)",
	       (double)traps / c->calls, TRAPS_PER_CALL_DIV);
	EXPECT_LT(traps, c->calls / TRAPS_PER_CALL_DIV)
		TH_LOG("%lld trap and hypercall exits for %lld system calls",
		       traps, c->calls);
}

/*
 * With CONFIG_LGUEST_AUDIT (the rig's debug kernel), the host checked its
 * shadow page tables at every cr3 load and flush while the guest booted
 * and ran its checks: it must have done so, and found nothing wrong.
 */
TEST_F_TIMEOUT(guest, shadow_audit, GUEST_TEST_TIMEOUT_S)
{
	struct check_run *c = get_check_run(_metadata, &self->paths);
	long long runs, tables, failures;

	ASSERT_TRUE(c->have_done)
		TH_LOG("the guest did not get as far as its getpid() calls");
	if (!c->audit_ok)
		SKIP(return, "the host does not audit (CONFIG_LGUEST_AUDIT)");
	runs = exit_count(&c->audit, "runs");
	tables = exit_count(&c->audit, "tables");
	failures = exit_count(&c->audit, "failures");
	TH_LOG("%lld audits of the shadows, %lld tables checked", runs, tables);
	EXPECT_EQ(0, failures);
	/*
	 * Booting to a shell loads cr3 and flushes thousands of times, and
	 * each load checks a directory's tables.
	 */
	EXPECT_LT(1000, runs);
	EXPECT_LT(1000, tables);
}

/* "poweroff -f" in the guest: the launcher exits with 0. */
TEST_F_TIMEOUT(guest, poweroff, GUEST_TEST_TIMEOUT_S)
{
	struct check_run *c = get_check_run(_metadata, &self->paths);
	char status[64];

	describe_status(&c->run, status, sizeof(status));
	ASSERT_TRUE(!!strstr(c->run.out, "LGTEST poweroff"))
		TH_LOG("the guest did not get to power off");
	EXPECT_TRUE(!!strstr(c->run.out, "reboot: Power down"));
	EXPECT_FALSE(!!strstr(c->run.out, "Kernel panic"));
	EXPECT_TRUE(WIFEXITED(c->run.status) && !WEXITSTATUS(c->run.status))
		TH_LOG("launcher: %s, expected exit status 0", status);
}

struct reboot_state {
	int banners;		/* "Linux version" lines */
	int paravirt;		/* PARAVIRT_BANNER lines */
	int marker;		/* the banner count at "LGTEST reboot" */
};

/* Stop once the second boot is on its way on lguest again. */
static bool reboot_line(struct lg_run *r, const char *line, void *arg)
{
	struct reboot_state *s = arg;

	echo_line(r, line);
	if (strstr(line, "Linux version "))
		s->banners++;
	if (strstr(line, "LGTEST reboot"))
		s->marker = s->banners;
	if (strstr(line, PARAVIRT_BANNER))
		s->paravirt++;
	return s->paravirt == 2;
}

/*
 * "reboot -f" in the guest: the launcher boots it again, from scratch.
 * The second boot gets as far as the paravirt banner, then the launcher
 * is stopped with SIGTERM, which it dies of.
 */
TEST_F_TIMEOUT(guest, reboot, GUEST_TEST_TIMEOUT_S)
{
	struct reboot_state s = { 0 };
	struct lg_run *r = malloc(sizeof(*r));
	char status[64];

	ASSERT_TRUE(!!r);
	run_guest(_metadata, &self->paths, r, "reboot", false, reboot_line,
		  &s);
	describe_status(r, status, sizeof(status));
	if (!r->stopped || r->timed_out)
		dump_tail(r, TAIL_LINES);
	EXPECT_EQ(1, s.marker)
		TH_LOG("\"LGTEST reboot\" after banner %d, expected 1",
		       s.marker);
	EXPECT_EQ(2, s.banners);
	ASSERT_EQ(2, s.paravirt)
		TH_LOG("the guest did not boot again (launcher: %s)", status);
	EXPECT_FALSE(r->timed_out);
	EXPECT_TRUE(WIFSIGNALED(r->status) && WTERMSIG(r->status) == SIGTERM)
		TH_LOG("launcher: %s, expected to die of SIGTERM", status);
	free(r);
}

static bool panic_line(struct lg_run *r, const char *line, void *arg)
{
	echo_line(r, line);
	return false;
}

/* The guest's init exits: the kernel panics and the launcher exits 2. */
TEST_F_TIMEOUT(guest, panic, GUEST_TEST_TIMEOUT_S)
{
	struct lg_run *r = malloc(sizeof(*r));
	char status[64];

	ASSERT_TRUE(!!r);
	run_guest(_metadata, &self->paths, r, "panic", true, panic_line,
		  NULL);
	describe_status(r, status, sizeof(status));
	if (r->timed_out || !WIFEXITED(r->status) ||
	    WEXITSTATUS(r->status) != 2)
		dump_tail(r, TAIL_LINES);
	EXPECT_TRUE(!!strstr(r->out, "LGTEST panic"));
	EXPECT_TRUE(!!strstr(r->out, INIT_PANIC))
		TH_LOG("no \"%s\" in the guest's output", INIT_PANIC);
	EXPECT_TRUE(WIFEXITED(r->status) && WEXITSTATUS(r->status) == 2)
		TH_LOG("launcher: %s, expected exit status 2", status);
	free(r);
}

TEST_HARNESS_MAIN
