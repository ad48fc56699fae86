// SPDX-License-Identifier: GPL-2.0
/*
 * A TCP stream with a checksum, for the device tests and the network
 * benchmark (lguest_devices_test.sh, scripts/rig/vbench): the same static
 * program runs on the host and in the guest.
 *
 *	lguest_tcp send HOST PORT MIB	connect (retrying for up to 60 s) and
 *					send MIB MiB of pseudo-random bytes
 *	lguest_tcp recv PORT		accept one connection on PORT and read
 *					it to its end
 *
 * Either prints one line, "lguest_tcp: BYTES bytes fnv64 HASH MBPS MB/s",
 * so that the two ends' hashes can be compared.  Exit status 0 on
 * success, 1 on any error (with a message on stderr).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define CHUNK		(64 * 1024)
#define CONNECT_TRIES	600	/* every 100 ms */

static uint64_t fnv64(uint64_t h, const uint8_t *p, size_t len)
{
	while (len--) {
		h ^= *p++;
		h *= 0x100000001b3ULL;
	}
	return h;
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static int fail(const char *what)
{
	fprintf(stderr, "lguest_tcp: %s: %s\n", what, strerror(errno));
	return 1;
}

static void report(uint64_t bytes, uint64_t hash, double secs)
{
	printf("lguest_tcp: %llu bytes fnv64 %016llx %.1f MB/s\n",
	       (unsigned long long)bytes, (unsigned long long)hash,
	       secs > 0 ? bytes / secs / 1e6 : 0.0);
}

static int do_send(const char *host, int port, unsigned long mib)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };
	static uint8_t buf[CHUNK];
	uint64_t hash = 0xcbf29ce484222325ULL, sent = 0, x = 88172645463325252ULL;
	unsigned long long total = (unsigned long long)mib << 20;
	int fd = -1, i;
	double t0;
	size_t j;
	ssize_t n;

	sa.sin_port = htons(port);
	if (inet_pton(AF_INET, host, &sa.sin_addr) != 1) {
		fprintf(stderr, "lguest_tcp: %s: not an IPv4 address\n", host);
		return 1;
	}
	for (i = 0; i < CONNECT_TRIES; i++) {
		fd = socket(AF_INET, SOCK_STREAM, 0);
		if (fd < 0)
			return fail("socket");
		if (!connect(fd, (struct sockaddr *)&sa, sizeof(sa)))
			break;
		close(fd);
		fd = -1;
		usleep(100000);
	}
	if (fd < 0)
		return fail("connect");
	t0 = now();
	while (sent < total) {
		for (j = 0; j < CHUNK; j += 8) {
			x ^= x << 13;
			x ^= x >> 7;
			x ^= x << 17;
			memcpy(buf + j, &x, 8);
		}
		for (j = 0; j < CHUNK; j += n) {
			n = write(fd, buf + j, CHUNK - j);
			if (n < 0)
				return fail("write");
		}
		hash = fnv64(hash, buf, CHUNK);
		sent += CHUNK;
	}
	if (shutdown(fd, SHUT_WR))
		return fail("shutdown");
	/* Wait for the receiver to close: it has everything then. */
	while ((n = read(fd, buf, sizeof(buf))) > 0)
		;
	report(sent, hash, now() - t0);
	close(fd);
	return 0;
}

static int do_recv(int port)
{
	struct sockaddr_in sa = { .sin_family = AF_INET };
	uint64_t hash = 0xcbf29ce484222325ULL, got = 0;
	static uint8_t buf[CHUNK];
	int one = 1, lfd, fd;
	double t0;
	ssize_t n;

	sa.sin_port = htons(port);
	sa.sin_addr.s_addr = htonl(INADDR_ANY);
	lfd = socket(AF_INET, SOCK_STREAM, 0);
	if (lfd < 0)
		return fail("socket");
	setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(lfd, (struct sockaddr *)&sa, sizeof(sa)) || listen(lfd, 1))
		return fail("bind/listen");
	printf("lguest_tcp: listening on %d\n", port);
	fflush(stdout);
	fd = accept(lfd, NULL, NULL);
	if (fd < 0)
		return fail("accept");
	t0 = now();
	while ((n = read(fd, buf, sizeof(buf))) > 0) {
		hash = fnv64(hash, buf, n);
		got += n;
	}
	if (n < 0)
		return fail("read");
	report(got, hash, now() - t0);
	close(fd);
	close(lfd);
	return 0;
}

int main(int argc, char *argv[])
{
	if (argc == 5 && !strcmp(argv[1], "send"))
		return do_send(argv[2], atoi(argv[3]), strtoul(argv[4], NULL, 0));
	if (argc == 3 && !strcmp(argv[1], "recv"))
		return do_recv(atoi(argv[2]));
	fprintf(stderr, "usage: lguest_tcp send HOST PORT MIB | recv PORT\n");
	return 1;
}
