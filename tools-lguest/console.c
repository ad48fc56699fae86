// SPDX-License-Identifier: GPL-2.0
/*
 * The lguest launcher: the hypercall console, on stdin and stdout.
 *
 * This is the guest's first console (hvc0), there from the first
 * instruction: early boot messages and panics go out through it.  When the
 * virtio console (vcon.c) is there, it has stdin, and this one is output
 * only: LHCALL_CONSOLE_READ finds nothing.
 *
 * The guest reaches it with two hypercalls (<asm/lguest_para.h>).  Output
 * is written out straight away.  Input is pulled by the guest: a thread
 * waits for stdin to become readable and raises LGUEST_IRQ_CONSOLE, the
 * guest then asks for the bytes with LHCALL_CONSOLE_READ, which the main
 * thread serves without ever blocking (the guest's CPU is stopped while
 * it does).  The thread waits for that read before it looks at stdin
 * again, or it would raise the interrupt in a loop; if the guest does not
 * read within CONSOLE_REARM_MS, the thread raises it again.
 *
 * A terminal on stdin is put in raw mode, so that keys, ^C included, go
 * to the guest.  Three ^C within a second stop the launcher instead.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/ioctl.h>

#include "lguest.h"

#define CONSOLE_REARM_MS	100

static struct {
	int wake[2];			/* pipe to wake the input thread */
	pthread_t thread;
	bool running;			/* the thread is */
	int fd;				/* the guest's /dev/lguest */
	atomic_bool eof;		/* stdin is done: stop polling it */
	atomic_bool quit;		/* the input thread should end */
} con = { .wake = { -1, -1 } };

/* A full pipe wakes the thread as well: losing the byte is fine. */
static void console_wake(void)
{
	char c = 0;

	if (write(con.wake[1], &c, 1) < 0 && errno != EAGAIN)
		die("console: write to pipe: %s", strerror(errno));
}

/* Empty the wake pipe; true if the thread should end. */
static bool console_woken(void)
{
	char buf[64];

	while (read(con.wake[0], buf, sizeof(buf)) > 0)
		;
	return atomic_load(&con.quit);
}

static void console_raise_irq(void)
{
	struct lguest_irq irq = { .irq = LGUEST_IRQ_CONSOLE };

	if (ioctl(con.fd, LGUEST_IRQ, &irq) < 0)
		die("%s: LGUEST_IRQ: %s", LG_DEVICE, strerror(errno));
	pr_verbose(2, "console: input waiting, interrupt raised");
}

/*
 * The input thread.  "armed" means waiting for stdin; once the interrupt
 * is raised it waits for the guest's read instead (the main thread wakes
 * it through the pipe), or for the re-arm timeout.  At end of file it
 * only waits to be told to quit.
 */
static void *console_input(void *unused)
{
	struct pollfd pfd[2] = {
		{ .events = POLLIN },
		{ .fd = con.wake[0], .events = POLLIN },
	};
	bool armed = true;
	int timeout, n;

	(void)unused;
	for (;;) {
		pfd[0].fd = -1;
		timeout = -1;
		if (!atomic_load(&con.eof)) {
			if (armed)
				pfd[0].fd = STDIN_FILENO;
			else
				timeout = CONSOLE_REARM_MS;
		}
		n = poll(pfd, 2, timeout);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			die("console: poll: %s", strerror(errno));
		if (!n || pfd[1].revents) {
			if (pfd[1].revents && console_woken())
				return NULL;
			armed = true;
			continue;
		}
		if (pfd[0].revents & POLLIN) {
			console_raise_irq();
			armed = false;
		} else if (pfd[0].revents) {
			/* Hung up or closed, and nothing left to read. */
			atomic_store(&con.eof, true);
		}
	}
}

/*
 * Start the input thread for guest @g, unless the virtio console reads
 * stdin.  It gets no signals: SIGINT and friends must reach the main
 * thread, to interrupt LGUEST_RUN.
 */
static void console_start(struct lg_guest *g)
{
	sigset_t all, old;
	int err;

	if (term_input_claimed())
		return;
	if (con.wake[0] < 0 && pipe2(con.wake, O_CLOEXEC | O_NONBLOCK))
		die("console: pipe: %s", strerror(errno));
	con.fd = g->fd;
	atomic_store(&con.quit, false);
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	err = pthread_create(&con.thread, NULL, console_input, NULL);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (err)
		die("console: cannot start the input thread: %s",
		    strerror(err));
	con.running = true;
}

/* Stop the input thread before its guest goes away. */
static void console_stop(struct lg_guest *g)
{
	(void)g;
	if (!con.running)
		return;
	atomic_store(&con.quit, true);
	console_wake();
	pthread_join(con.thread, NULL);
	con.running = false;
}

/*
 * LHCALL_CONSOLE_WRITE: at most LGUEST_CONSOLE_MAX bytes at a time; the
 * result is the number written.  Output term_write() drops is reported
 * as written too.
 */
static u32 console_write(struct lg_guest *g, u32 gpa, u32 len)
{
	const u8 *buf;

	if (len > LGUEST_CONSOLE_MAX)
		len = LGUEST_CONSOLE_MAX;
	buf = guest_ptr(g, gpa, len);
	if (!buf) {
		pr_verbose(1, "console write: %#x+%u is outside guest memory",
			   gpa, len);
		return -EINVAL;
	}
	term_write(buf, len);
	return len;
}

/* Read what stdin has now, or nothing: never wait. */
static u32 console_read_now(u8 *buf, u32 len)
{
	struct pollfd pfd = { .fd = STDIN_FILENO, .events = POLLIN };
	ssize_t n;

	if (poll(&pfd, 1, 0) != 1)
		return 0;
	if (!(pfd.revents & POLLIN)) {
		atomic_store(&con.eof, true);
		return 0;
	}
	n = read(STDIN_FILENO, buf, len);
	if (n < 0 && (errno == EINTR || errno == EAGAIN))
		return 0;
	if (n <= 0) {
		if (n < 0)
			pr_verbose(1, "console input: %s", strerror(errno));
		pr_verbose(1, "console input: end of file");
		atomic_store(&con.eof, true);
		return 0;
	}
	return n;
}

/*
 * LHCALL_CONSOLE_READ: up to @len bytes (at most LGUEST_CONSOLE_MAX) into
 * the guest's buffer; the result is the number read, 0 if none is waiting
 * or stdin has ended.
 */
static u32 console_read(struct lg_guest *g, u32 gpa, u32 len)
{
	u8 *buf;
	u32 n = 0;

	if (len > LGUEST_CONSOLE_MAX)
		len = LGUEST_CONSOLE_MAX;
	buf = guest_ptr(g, gpa, len);
	if (!buf) {
		pr_verbose(1, "console read: %#x+%u is outside guest memory",
			   gpa, len);
		return -EINVAL;
	}
	if (len && con.running && !atomic_load(&con.eof))
		n = console_read_now(buf, len);
	term_check_ctrl_c(buf, n);
	if (con.running)
		console_wake();
	return n;
}

static bool console_hypercall(struct lg_guest *g, struct lguest_run *run)
{
	const u32 *arg = run->hypercall.args;

	switch (run->hypercall.nr) {
	case LHCALL_CONSOLE_WRITE:
		run->hypercall.ret = console_write(g, arg[0], arg[1]);
		return true;
	case LHCALL_CONSOLE_READ:
		run->hypercall.ret = console_read(g, arg[0], arg[1]);
		return true;
	}
	return false;
}

static const struct lg_device_ops console_ops = {
	.name		= "console",
	.order		= LG_ORDER_CONSOLE,
	.start		= console_start,
	.stop		= console_stop,
	.hypercall	= console_hypercall,
};

lg_device(console_ops);
