// SPDX-License-Identifier: GPL-2.0
/*
 * The lguest launcher: error reporting and reading files.
 *
 * Every error of the launcher itself is one line on stderr, "lguest: what:
 * why", and exit status 1 (LG_STATUS_ERROR).  Exiting runs the atexit
 * handlers, so the terminal gets its settings back.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#include "lguest.h"

int verbose;

static void vreport(const char *fmt, va_list ap)
{
	fflush(stdout);
	fputs("lguest: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
}

void die(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vreport(fmt, ap);
	va_end(ap);
	exit(LG_STATUS_ERROR);
}

/* An error the launcher reports but does not exit for itself. */
void pr_err(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vreport(fmt, ap);
	va_end(ap);
}

/* Messages for -v (level 1) and -vv (level 2). */
void pr_verbose(int level, const char *fmt, ...)
{
	va_list ap;

	if (verbose < level)
		return;
	va_start(ap, fmt);
	vreport(fmt, ap);
	va_end(ap);
}

void *xmalloc(size_t size)
{
	void *p = malloc(size);

	if (!p)
		die("out of memory (%zu bytes)", size);
	return p;
}

void *xrealloc(void *ptr, size_t size)
{
	void *p = realloc(ptr, size);

	if (!p)
		die("out of memory (%zu bytes)", size);
	return p;
}

/* Room for at least one more byte, up to max + 1 to notice a long file. */
static u8 *grow(u8 *buf, size_t *cap, size_t max)
{
	size_t want = *cap ? *cap * 2 : 1 << 16;

	if (want > max + 1 || want < *cap)
		want = max + 1;
	*cap = want;
	return xrealloc(buf, want);
}

/*
 * Read all of @path, which must hold 1 to @max bytes.  Images are read
 * whole: a bzImage has to be inflated in memory anyway, and a restarting
 * guest boots again from the same bytes.
 */
u8 *read_file(const char *path, size_t max, size_t *sizep)
{
	size_t size = 0, cap = 0;
	u8 *buf = NULL;
	struct stat st;
	ssize_t n;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		die("%s: %s", path, strerror(errno));
	if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode)) {
		if ((u64)st.st_size > max)
			die("%s: file too large (more than %zu MiB)", path,
			    max >> 20);
		cap = st.st_size + 1;
		buf = xmalloc(cap);
	}
	for (;;) {
		if (size == cap)
			buf = grow(buf, &cap, max);
		n = read(fd, buf + size, cap - size);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			die("%s: %s", path, strerror(errno));
		if (!n)
			break;
		size += n;
		if (size > max)
			die("%s: file too large (more than %zu MiB)", path,
			    max >> 20);
	}
	close(fd);
	if (!size)
		die("%s: file is empty", path);
	*sizep = size;
	return buf;
}
