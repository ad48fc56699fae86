/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The lguest launcher: virtio-mmio devices (virtio.c), for the device
 * files vcon.c, blk.c, net.c and rng.c.
 *
 * A device is a struct vdev with up to VDEV_MAX_QUEUES split virtqueues.
 * The transport answers the guest's register accesses on the vCPU thread;
 * the device's own threads serve its queues.  A thread waits with
 * vdev_wait(), then takes a queue with vq_begin(), pops buffers with
 * vq_pop(), completes them with vq_push() and gives the queue back with
 * vq_end(), which tells the guest, once for the whole batch.  Holding the
 * queue is what keeps a reset by the guest from pulling the rings away
 * underneath.
 */
#ifndef LGUEST_VIRTIO_H
#define LGUEST_VIRTIO_H

#include <pthread.h>
#include <sys/uio.h>

#include <linux/virtio_config.h>
#include <linux/virtio_ring.h>

#include "lguest.h"

#define VQ_MAX_SIZE	256	/* QueueNumMax of every queue */
#define VQ_MAX_IOV	1024	/* segments of one buffer; UIO_MAXIOV */
#define VDEV_MAX_QUEUES	2
#define VDEV_MAX_THREADS 2
#define VQ_BATCH	16	/* buffers between two flushes */
#define VQ_NO_ROOM	(-2)	/* vq_pop(): more segments than max_iov */

/* Placement: the console, then disks, NICs, the rng (virtio.c). */
enum vdev_class { VDEV_CONSOLE, VDEV_BLOCK, VDEV_NET, VDEV_RNG };

#define BIT64(n)	(1ULL << (n))

/* One buffer (descriptor chain) taken from a queue, mapped by vq_pop(). */
struct vq_buf {
	u16 head;			/* what vq_push() gives back */
	unsigned int nout;		/* iov[0 .. nout): device-readable */
	unsigned int nin;		/* then nin device-writable */
	u64 out_len, in_len;		/* their bytes */
};

struct vdev;

struct vq {
	struct vdev *dev;
	unsigned int index;
	pthread_mutex_t lock;		/* held by whoever uses the rings */
	int kick_fd;			/* eventfd: the guest's QueueNotify */
	/* As the guest set them up (vCPU thread, under @lock). */
	u32 num;
	bool ready;
	u64 desc_gpa, avail_gpa, used_gpa;
	/* The rings, mapped and checked when the queue became ready. */
	struct vring_desc *desc;
	struct vring_avail *avail;
	struct vring_used *used;
	bool event_idx;			/* VIRTIO_RING_F_EVENT_IDX */
	u16 last_avail;			/* next avail entry to pop */
	u16 used_idx;			/* next used entry to fill */
	u16 published;			/* used->idx as the guest sees it */
	u16 signalled;			/* used index at the last interrupt */
	bool signalled_valid;
};

/*
 * What a device type provides:
 * @features:	feature bits it offers (the transport adds its own)
 * @features_ok: the driver accepted these; false refuses them (optional)
 * @reset:	the driver reset the device; called with every queue held
 *		(optional)
 * @start:	start the device's threads with vdev_spawn()
 */
struct vdev_ops {
	u32 device_id;			/* VIRTIO_ID_* */
	enum vdev_class class;
	unsigned int nr_queues;
	bool (*features_ok)(struct vdev *d, u64 features);
	void (*reset)(struct vdev *d);
	void (*start)(struct vdev *d);
};

struct vdev {
	const struct vdev_ops *ops;
	void *priv;			/* the device file's own state */
	char name[16];			/* for messages: "vda", "net0", ... */
	u64 features;			/* offered */
	/* Placement (virtio.c), at check time. */
	u32 addr;
	u32 irq;
	/* Device config space; @config_lock guards it and @generation. */
	u8 *config;
	u32 config_len;
	pthread_mutex_t config_lock;
	u32 generation;
	/* Register state. */
	atomic_uint status;
	u64 driver_features;
	u32 dev_features_sel, drv_features_sel, queue_sel;
	atomic_uint isr;
	atomic_bool broken;		/* device error: serve nothing */
	struct vq vq[VDEV_MAX_QUEUES];
	/* The running guest, and the threads serving it. */
	struct lg_guest *guest;
	int stop_fd;			/* eventfd: readable when @quit */
	atomic_bool quit;
	pthread_t threads[VDEV_MAX_THREADS];
	int nr_threads;
	struct vdev *next;
};

/* virtio.c: setting devices up. */
struct vdev *vdev_new(const struct vdev_ops *ops, const char *name,
		      u64 features, void *config, u32 config_len, void *priv);
void vdev_spawn(struct vdev *d, void *(*fn)(void *));
bool vdev_has(const struct vdev *d, unsigned int feature);
void vdev_config_changed(struct vdev *d);
__printf(2, 3) void vdev_error(struct vdev *d, const char *fmt, ...);

/* virtio.c: for device threads. */
#define VDEV_WAIT_KICK	1
#define VDEV_WAIT_FD	2
int vdev_wait(struct vdev *d, struct vq *vq, int fd, short events);
bool vq_begin(struct vq *vq);
void vq_end(struct vq *vq);
int vq_pop(struct vq *vq, struct vq_buf *b, struct iovec *iov,
	   unsigned int max_iov);
void vq_unpop(struct vq *vq, unsigned int n);
void vq_push(struct vq *vq, const struct vq_buf *b, u32 len);
void vq_flush(struct vq *vq);
bool vq_enable_notify(struct vq *vq);
void vq_disable_notify(struct vq *vq);
bool vq_has_buffers(struct vq *vq);

/* Does buffer @b: 0 with the bytes written in @len, or -1 (vdev_error). */
typedef int (*vq_handler_t)(struct vq *vq, struct vq_buf *b,
			    struct iovec *iov, u32 *len);
void vq_serve(struct vq *vq, vq_handler_t fn);

/* iovec helpers. */
size_t iov_to_buf(const struct iovec *iov, unsigned int n, size_t skip,
		  void *buf, size_t len);
size_t iov_from_buf(const struct iovec *iov, unsigned int n, size_t skip,
		    const void *buf, size_t len);
unsigned int iov_slice(const struct iovec *iov, unsigned int n, size_t skip,
		       size_t len, struct iovec *out);

#endif /* LGUEST_VIRTIO_H */
