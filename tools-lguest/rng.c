// SPDX-License-Identifier: GPL-2.0
/*
 * The lguest launcher: virtio-rng, entropy for the guest.
 *
 *	--rng
 *
 * The guest's hw_random driver hands over buffers; a thread fills them
 * from getrandom(), which is the host kernel's pool: it only blocks before
 * the host has ever been seeded.
 */
#include <errno.h>
#include <string.h>
#include <sys/random.h>

#include <linux/virtio_ids.h>

#include "virtio.h"

#define RNG_MAX		65536U	/* bytes per buffer, at most */

static int rng_request(struct vq *vq, struct vq_buf *b, struct iovec *iov,
		       u32 *len)
{
	unsigned int i;
	size_t want;
	ssize_t n;

	*len = 0;
	for (i = b->nout; i < b->nout + b->nin && *len < RNG_MAX; i++) {
		want = iov[i].iov_len;
		if (want > RNG_MAX - *len)
			want = RNG_MAX - *len;
		n = getrandom(iov[i].iov_base, want, 0);
		if (n < 0 && errno == EINTR)
			n = 0;
		if (n < 0) {
			vdev_error(vq->dev, "getrandom: %s", strerror(errno));
			return -1;
		}
		*len += n;
		if ((size_t)n < want)
			break;
	}
	return 0;
}

static void *rng_thread(void *arg)
{
	struct vdev *d = arg;

	vq_serve(&d->vq[0], rng_request);
	return NULL;
}

static void rng_start(struct vdev *d)
{
	vdev_spawn(d, rng_thread);
}

static const struct vdev_ops rng_vdev_ops = {
	.device_id	= VIRTIO_ID_RNG,
	.class		= VDEV_RNG,
	.nr_queues	= 1,
	.start		= rng_start,
};

static void rng_parse(const char *arg)
{
	static bool done;

	(void)arg;
	if (done)
		die("--rng: given twice");
	done = true;
	vdev_new(&rng_vdev_ops, "rng", 0, NULL, 0, NULL);
}

static const struct lg_option rng_options[] = {
	{ "rng", no_argument, rng_parse,
	  "  --rng              a virtio entropy source, fed by getrandom()\n" },
	{ }
};

static const struct lg_device_ops rng_ops = {
	.name		= "rng",
	.order		= LG_ORDER_VIRTIO_DEV,
	.options	= rng_options,
};

lg_device(rng_ops);
