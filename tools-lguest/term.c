// SPDX-License-Identifier: GPL-2.0
/*
 * The lguest launcher: the terminal.
 *
 * Both consoles of the guest, the hypercall console (console.c) and the
 * virtio console (vcon.c), write to stdout; only one of them reads stdin,
 * the one that claimed it, so that no key is torn between two readers.
 *
 * A terminal on stdin is put in raw mode, so that keys, ^C included, go
 * to the guest.  Three ^C within a second stop the launcher instead.  The
 * terminal gets its settings back on every way out: exit() (die()
 * included) through atexit(), and the signals through term_restore() in
 * main.c's handlers.
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "lguest.h"

#define CTRL_C			0x03
#define CTRL_C_STOP		3	/* that many ^C ... */
#define CTRL_C_WINDOW_NS	1000000000LL	/* ... within a second */

static struct {
	struct termios saved;		/* the terminal as we found it */
	atomic_bool raw;		/* stdin is a terminal in raw mode */
	bool input_claimed;		/* the virtio console reads stdin */
	atomic_bool out_broken;		/* writing stdout failed */
	int ctrl_c;			/* ^C seen in a row ... */
	long long ctrl_c_first;		/* ... the first at this time */
} term;

/* Called from signal handlers too: only async-signal-safe calls. */
void term_restore(void)
{
	if (atomic_load(&term.raw))
		tcsetattr(STDIN_FILENO, TCSANOW, &term.saved);
}

/*
 * Raw mode as cfmakeraw() makes it, except for output processing: stdout
 * and stderr are usually this terminal too, and "\n" must stay "\r\n"
 * for the guest's console and for our own messages.
 */
void term_init(void)
{
	struct termios t;

	if (!isatty(STDIN_FILENO) || tcgetattr(STDIN_FILENO, &term.saved))
		return;
	t = term.saved;
	cfmakeraw(&t);
	t.c_oflag |= OPOST | ONLCR;
	if (tcsetattr(STDIN_FILENO, TCSANOW, &t)) {
		pr_verbose(1, "console: cannot set raw mode: %s",
			   strerror(errno));
		return;
	}
	atomic_store(&term.raw, true);
	atexit(term_restore);
}

/* The virtio console takes stdin; before any device starts. */
void term_claim_input(void)
{
	term.input_claimed = true;
}

bool term_input_claimed(void)
{
	return term.input_claimed;
}

static long long now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/*
 * In raw mode, ^C goes to the guest; three in a second stop us, as
 * SIGINT would.  Only the one reader of stdin calls this.
 */
void term_check_ctrl_c(const u8 *buf, size_t len)
{
	size_t i;

	if (!atomic_load(&term.raw))
		return;
	for (i = 0; i < len; i++) {
		if (buf[i] != CTRL_C) {
			term.ctrl_c = 0;
			continue;
		}
		if (!term.ctrl_c || now_ns() - term.ctrl_c_first >
				    CTRL_C_WINDOW_NS) {
			term.ctrl_c = 0;
			term.ctrl_c_first = now_ns();
		}
		/*
		 * As if it came from the terminal: the signal reaches the
		 * main thread (device threads block them all), and gets it
		 * out of LGUEST_RUN.
		 */
		if (++term.ctrl_c == CTRL_C_STOP)
			kill(getpid(), SIGINT);
	}
}

/* Write all of @buf, whatever signals and a non-blocking fd do. */
static bool write_all(int fd, const u8 *buf, size_t len)
{
	struct pollfd pfd = { .fd = fd, .events = POLLOUT };
	ssize_t n;

	while (len) {
		n = write(fd, buf, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN) {
			poll(&pfd, 1, -1);
			continue;
		}
		if (n < 0)
			return false;
		buf += n;
		len -= n;
	}
	return true;
}

/*
 * Guest output.  If stdout fails (a terminal that went away; a closed
 * pipe is SIGPIPE, which ends us), the output is dropped from then on, as
 * a serial line with nothing attached would: the guest has nothing better
 * to do with it.
 */
void term_write(const void *buf, size_t len)
{
	if (atomic_load(&term.out_broken) || write_all(STDOUT_FILENO, buf, len))
		return;
	if (!atomic_exchange(&term.out_broken, true))
		pr_err("console output: %s; dropping it from now on",
		       strerror(errno));
}
