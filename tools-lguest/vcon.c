// SPDX-License-Identifier: GPL-2.0
/*
 * The lguest launcher: the virtio console, on stdin and stdout.
 *
 *	--no-virtio-console
 *
 * Unless that option is given, the guest has a virtio console, its hvc1
 * (hvc0 is the hypercall console of console.c, which the guest has from
 * its first instruction and keeps for early messages and panics).  This
 * one is fast where the hypercall console stops the guest for every
 * write, so it is the console for a guest's user space: console=hvc1.
 * It reads stdin: keys go here, and not to the hypercall console.
 *
 * Two threads, one per queue: the transmit thread writes what the guest
 * sends to stdout; the receive thread reads stdin into a small buffer and
 * passes it on whenever the guest has receive buffers.  It stops reading
 * while the buffer is full (the guest's driver is not up yet, or busy),
 * and for good at end of file.
 */
#include <errno.h>
#include <poll.h>
#include <string.h>
#include <unistd.h>

#include <linux/virtio_console.h>
#include <linux/virtio_ids.h>

#include "virtio.h"

#define VCON_RX		0	/* port 0 receiveq: to the guest */
#define VCON_TX		1	/* port 0 transmitq: from the guest */
#define VCON_INPUT	4096	/* bytes of input kept for the guest */

static struct {
	bool disabled;
	struct vdev *dev;
	struct virtio_console_config config;
	u8 input[VCON_INPUT];
	size_t len;			/* of input waiting */
	bool eof;			/* stdin is done */
} vcon;

/* Read what stdin has, into the room left; never wait. */
static void vcon_read_stdin(void)
{
	ssize_t n = read(STDIN_FILENO, vcon.input + vcon.len,
			 sizeof(vcon.input) - vcon.len);

	if (n < 0 && (errno == EINTR || errno == EAGAIN))
		return;
	if (n <= 0) {
		pr_verbose(1, "console input: %s",
			   n ? strerror(errno) : "end of file");
		vcon.eof = true;
		return;
	}
	term_check_ctrl_c(vcon.input + vcon.len, n);
	vcon.len += n;
}

/* Fill as many of the guest's receive buffers as the input needs. */
static void vcon_deliver(struct vq *vq)
{
	struct iovec iov[VQ_MAX_IOV];
	struct vq_buf b;
	size_t n;
	int r;

	while (vcon.len) {
		r = vq_pop(vq, &b, iov, VQ_MAX_IOV);
		if (!r) {
			/* Kicks on, or no word of the next buffer. */
			if (vq_enable_notify(vq))
				continue;
			break;
		}
		if (r < 0) {
			if (r == VQ_NO_ROOM)
				vdev_error(vq->dev, "receive buffer of too many segments");
			break;
		}
		n = iov_from_buf(iov + b.nout, b.nin, 0, vcon.input, vcon.len);
		memmove(vcon.input, vcon.input + n, vcon.len - n);
		vcon.len -= n;
		vq_push(vq, &b, n);
	}
}

static void *vcon_rx_thread(void *arg)
{
	struct vdev *d = arg;
	struct vq *vq = &d->vq[VCON_RX];
	int fd, r;

	for (;;) {
		fd = !vcon.eof && vcon.len < sizeof(vcon.input) ?
		     STDIN_FILENO : -1;
		r = vdev_wait(d, vq, fd, POLLIN);
		if (r < 0)
			return NULL;
		if (r & VDEV_WAIT_FD)
			vcon_read_stdin();
		if (vcon.len && vq_begin(vq)) {
			vcon_deliver(vq);
			vq_end(vq);
		}
	}
}

/* Output goes out as it comes; the guest gets its buffer back at once. */
static int vcon_tx(struct vq *vq, struct vq_buf *b, struct iovec *iov,
		   u32 *len)
{
	unsigned int i;

	(void)vq;
	for (i = 0; i < b->nout; i++)
		term_write(iov[i].iov_base, iov[i].iov_len);
	*len = 0;
	return 0;
}

static void *vcon_tx_thread(void *arg)
{
	struct vdev *d = arg;

	vq_serve(&d->vq[VCON_TX], vcon_tx);
	return NULL;
}

static void vcon_start(struct vdev *d)
{
	vdev_spawn(d, vcon_rx_thread);
	vdev_spawn(d, vcon_tx_thread);
}

static const struct vdev_ops vcon_vdev_ops = {
	.device_id	= VIRTIO_ID_CONSOLE,
	.class		= VDEV_CONSOLE,
	.nr_queues	= 2,
	.start		= vcon_start,
};

static void vcon_disable(const char *arg)
{
	(void)arg;
	vcon.disabled = true;
}

/* There by default; it takes stdin from the hypercall console. */
static void vcon_check(const struct lg_boot *b)
{
	(void)b;
	if (vcon.disabled)
		return;
	vcon.dev = vdev_new(&vcon_vdev_ops, "console", 0, &vcon.config,
			    sizeof(vcon.config), NULL);
	term_claim_input();
}

static const struct lg_option vcon_options[] = {
	{ "no-virtio-console", no_argument, vcon_disable,
	  "  --no-virtio-console  no virtio console (guest hvc1): stdin goes\n"
	  "                     to the hypercall console (hvc0) instead\n" },
	{ }
};

static const struct lg_device_ops vcon_ops = {
	.name		= "virtio-console",
	.order		= LG_ORDER_VIRTIO_DEV,
	.options	= vcon_options,
	.check		= vcon_check,
};

lg_device(vcon_ops);
