// SPDX-License-Identifier: GPL-2.0
/*
 * The lguest launcher: the virtio-mmio transport, version 2.
 *
 * Each device gets a 4 KiB window of guest-physical addresses just above
 * guest memory, at ALIGN(MEM, 1 MiB) and up, and an interrupt line, 2 and
 * up (0 is the timer, 1 the hypercall console): the console first, then
 * the disks, the NICs and the rng, each kind in the order of its options.
 * The guest learns of them from "virtio_mmio.device=4K@ADDR:IRQ" words
 * on its command line, and drives them with the stock virtio drivers.
 *
 * A guest access to a window comes back from LGUEST_RUN as an MMIO exit,
 * which the vCPU thread answers here: the registers of
 * <linux/virtio_mmio.h>, then the device's config space at 0x100.  All but
 * one: a write to QueueNotify goes, through LGUEST_IOEVENTFD, straight to
 * an eventfd of the queue, on which the device's thread waits; the guest
 * does not even stop.  The thread answers through the used ring and
 * LGUEST_IRQ.  That is all the guest sees of the launcher while data
 * flows: with VIRTIO_RING_F_EVENT_IDX, neither side notifies the other
 * while it knows the other is busy anyway.
 *
 * The guest owns the rings and runs on while a device thread reads them:
 * it can change any of it at any moment.  So every index and descriptor
 * is read once, into a local copy, and that copy is checked before it is
 * used: a guest that breaks the rules gets DEVICE_NEEDS_RESET, never a
 * launcher that crashes or spins.
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>

#include <linux/virtio_mmio.h>

#include "virtio.h"

#define VDEV_WINDOW		0x1000U
#define VDEV_ALIGN		0x100000U	/* the first window: 1 MiB */
#define VDEV_FIRST_IRQ		2
#define VDEV_MAX		(LGUEST_NR_IRQS - VDEV_FIRST_IRQ)
#define VIRTIO_MAGIC		0x74726976U	/* "virt" */
#define VIRTIO_VENDOR		0x4c475354U	/* "LGST" */

/* Offered to every device, besides its own bits. */
#define VDEV_FEATURES	(BIT64(VIRTIO_F_VERSION_1) |			\
			 BIT64(VIRTIO_RING_F_INDIRECT_DESC) |		\
			 BIT64(VIRTIO_RING_F_EVENT_IDX))

static struct vdev *vdev_list, **vdev_tail = &vdev_list;
static struct vdev *vdevs[VDEV_MAX];	/* placed, by window */
static unsigned int nr_vdevs;
static u32 vdev_base;			/* the first window */

/* The guest writes its 16-bit ring fields while we read them. */
#define READ_ONCE16(x)		__atomic_load_n(&(x), __ATOMIC_RELAXED)
#define WRITE_ONCE16(x, v)	__atomic_store_n(&(x), (v), __ATOMIC_RELAXED)

/*
 * Create a device, at option parsing time.  @config is its config space,
 * which stays the device file's, updated under config_lock.
 */
struct vdev *vdev_new(const struct vdev_ops *ops, const char *name,
		      u64 features, void *config, u32 config_len, void *priv)
{
	struct vdev *d = xmalloc(sizeof(*d));
	unsigned int i;

	memset(d, 0, sizeof(*d));
	d->ops = ops;
	d->priv = priv;
	snprintf(d->name, sizeof(d->name), "%s", name);
	d->features = features | VDEV_FEATURES;
	d->config = config;
	d->config_len = config_len;
	pthread_mutex_init(&d->config_lock, NULL);
	d->stop_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (d->stop_fd < 0)
		die("%s: eventfd: %s", d->name, strerror(errno));
	for (i = 0; i < ops->nr_queues; i++) {
		d->vq[i].dev = d;
		d->vq[i].index = i;
		pthread_mutex_init(&d->vq[i].lock, NULL);
		d->vq[i].kick_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		if (d->vq[i].kick_fd < 0)
			die("%s: eventfd: %s", d->name, strerror(errno));
	}
	*vdev_tail = d;
	vdev_tail = &d->next;
	return d;
}

bool vdev_has(const struct vdev *d, unsigned int feature)
{
	return d->driver_features & BIT64(feature);
}

/* Only a range that is all inside guest memory, in 64-bit arithmetic. */
static void *gpa_map(struct vdev *d, u64 gpa, u64 len)
{
	struct lg_guest *g = d->guest;

	if (gpa > g->mem_size || len > g->mem_size - gpa)
		return NULL;
	return g->mem + gpa;
}

/* Interrupt status first: the guest's handler reads it. */
static void vdev_irq(struct vdev *d, u32 why)
{
	struct lguest_irq irq = { .irq = d->irq };

	atomic_fetch_or(&d->isr, why);
	if (ioctl(d->guest->fd, LGUEST_IRQ, &irq) < 0)
		pr_err("%s: LGUEST_IRQ %u: %s", d->name, d->irq,
		       strerror(errno));
}

/* The config space changed: the caller bumped the generation. */
void vdev_config_changed(struct vdev *d)
{
	if (atomic_load(&d->status) & VIRTIO_CONFIG_S_DRIVER_OK)
		vdev_irq(d, VIRTIO_MMIO_INT_CONFIG);
}

/*
 * The guest broke the rules: say so once, and serve nothing more until
 * it resets the device.  The launcher and the other devices go on.
 */
void vdev_error(struct vdev *d, const char *fmt, ...)
{
	char msg[160];
	va_list ap;

	if (atomic_exchange(&d->broken, true))
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	pr_err("%s: device error: %s; stopped until the guest resets it",
	       d->name, msg);
	atomic_fetch_or(&d->status, VIRTIO_CONFIG_S_NEEDS_RESET);
	vdev_irq(d, VIRTIO_MMIO_INT_CONFIG);
}

/* Device threads get no signals: those are the main thread's. */
void vdev_spawn(struct vdev *d, void *(*fn)(void *))
{
	sigset_t all, old;
	int err;

	if (d->nr_threads == VDEV_MAX_THREADS)
		die("%s: too many threads", d->name);
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	err = pthread_create(&d->threads[d->nr_threads], NULL, fn, d);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (err)
		die("%s: cannot start a thread: %s", d->name, strerror(err));
	d->nr_threads++;
}

static void drain_eventfd(int fd)
{
	eventfd_t v;

	eventfd_read(fd, &v);
}

/*
 * Wait for a kick of @vq (if any), for @fd (if not -1) to have @events,
 * or for the device to stop.  Returns VDEV_WAIT_* bits, or -1 when the
 * thread should end.
 */
int vdev_wait(struct vdev *d, struct vq *vq, int fd, short events)
{
	struct pollfd p[3] = { { .fd = d->stop_fd, .events = POLLIN } };
	int n = 1, kick = -1, other = -1, mask = 0;

	if (vq) {
		kick = n;
		p[n++] = (struct pollfd){ .fd = vq->kick_fd, .events = POLLIN };
	}
	if (fd >= 0) {
		other = n;
		p[n++] = (struct pollfd){ .fd = fd, .events = events };
	}
	while (!atomic_load(&d->quit)) {
		if (poll(p, n, -1) < 0) {
			if (errno == EINTR)
				continue;
			die("%s: poll: %s", d->name, strerror(errno));
		}
		if (atomic_load(&d->quit))
			break;
		if (kick >= 0 && p[kick].revents) {
			drain_eventfd(vq->kick_fd);
			mask |= VDEV_WAIT_KICK;
		}
		if (other >= 0 && p[other].revents)
			mask |= VDEV_WAIT_FD;
		if (mask)
			return mask;
	}
	return -1;
}

/*
 * Take @vq to serve it: false (and not taken) unless the driver has it
 * running.  The vCPU thread takes every queue to reset the device.
 */
bool vq_begin(struct vq *vq)
{
	struct vdev *d = vq->dev;

	pthread_mutex_lock(&vq->lock);
	if (vq->ready && !atomic_load(&d->broken) &&
	    (atomic_load(&d->status) & VIRTIO_CONFIG_S_DRIVER_OK))
		return true;
	pthread_mutex_unlock(&vq->lock);
	return false;
}

/* Tell the guest what was done, and give the queue back. */
void vq_end(struct vq *vq)
{
	vq_flush(vq);
	pthread_mutex_unlock(&vq->lock);
}

bool vq_has_buffers(struct vq *vq)
{
	return __atomic_load_n(&vq->avail->idx, __ATOMIC_ACQUIRE) !=
	       vq->last_avail;
}

/*
 * While a thread works through a queue, kicks would only wake it for
 * nothing: turn them off.  With EVENT_IDX, that is leaving avail_event
 * behind: the guest only kicks when its index passes it.
 */
void vq_disable_notify(struct vq *vq)
{
	if (!vq->event_idx)
		WRITE_ONCE16(vq->used->flags, VRING_USED_F_NO_NOTIFY);
}

/*
 * Kicks back on, before the thread waits.  The guest may have added a
 * buffer just before it saw them on, without a kick: true if so, and the
 * caller goes on instead of waiting.
 */
bool vq_enable_notify(struct vq *vq)
{
	u16 *avail_event = (u16 *)&vq->used->ring[vq->num];

	if (vq->event_idx)
		WRITE_ONCE16(*avail_event, vq->last_avail);
	else
		WRITE_ONCE16(vq->used->flags, 0);
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	return vq_has_buffers(vq);
}

/*
 * One descriptor, copied before anything looks at it.  The barrier keeps
 * the compiler from reading the guest's copy again instead of ours.
 */
static struct vring_desc read_desc(const struct vring_desc *p)
{
	struct vring_desc d;

	memcpy(&d, p, sizeof(d));
	__asm__ __volatile__("" : : : "memory");
	return d;
}

/* Add the buffer of descriptor @d to @b and @iov. */
static int vq_map_desc(struct vq *vq, const struct vring_desc *d,
		       struct vq_buf *b, struct iovec *iov,
		       unsigned int max_iov)
{
	bool writable = d->flags & VRING_DESC_F_WRITE;
	void *p;

	if (!writable && b->nin) {
		vdev_error(vq->dev, "queue %u: readable descriptor after a writable one",
			   vq->index);
		return -1;
	}
	if (!d->len)
		return 0;
	p = gpa_map(vq->dev, d->addr, d->len);
	if (!p) {
		vdev_error(vq->dev, "queue %u: buffer %#llx+%u outside guest memory",
			   vq->index, (unsigned long long)d->addr, d->len);
		return -1;
	}
	if (b->nout + b->nin == max_iov)
		return VQ_NO_ROOM;
	iov[b->nout + b->nin] = (struct iovec){ .iov_base = p,
						.iov_len = d->len };
	if (writable) {
		b->nin++;
		b->in_len += d->len;
	} else {
		b->nout++;
		b->out_len += d->len;
	}
	return 0;
}

/* Switch @t to the indirect table of @d; -1 if it is not one we take. */
static int vq_indirect(struct vq *vq, const struct vring_desc *d,
		       const struct vring_desc **t, u32 *size)
{
	if (d->flags & VRING_DESC_F_NEXT) {
		vdev_error(vq->dev, "queue %u: indirect descriptor with NEXT",
			   vq->index);
		return -1;
	}
	if (!d->len || d->len % sizeof(**t) ||
	    d->len / sizeof(**t) > VQ_MAX_IOV) {
		vdev_error(vq->dev, "queue %u: indirect table of %u bytes",
			   vq->index, d->len);
		return -1;
	}
	*t = gpa_map(vq->dev, d->addr, d->len);
	if (!*t) {
		vdev_error(vq->dev, "queue %u: indirect table %#llx+%u outside guest memory",
			   vq->index, (unsigned long long)d->addr, d->len);
		return -1;
	}
	*size = d->len / sizeof(**t);
	return 0;
}

/*
 * Follow the chain from @b->head.  A chain visits at most all of its
 * table: one that goes on is a loop, whatever its shape.
 */
static int vq_walk(struct vq *vq, struct vq_buf *b, struct iovec *iov,
		   unsigned int max_iov)
{
	const struct vring_desc *table = vq->desc;
	u32 size = vq->num, i = b->head, seen = 0;
	bool indirect = false;
	struct vring_desc d;
	int err;

	for (;;) {
		if (++seen > size) {
			vdev_error(vq->dev, "queue %u: %s longer than %u descriptors (a loop?)",
				   vq->index,
				   indirect ? "indirect chain" : "chain", size);
			return -1;
		}
		d = read_desc(&table[i]);
		if (d.flags & VRING_DESC_F_INDIRECT) {
			if (indirect) {
				vdev_error(vq->dev, "queue %u: nested indirect table",
					   vq->index);
				return -1;
			}
			if (vq_indirect(vq, &d, &table, &size))
				return -1;
			indirect = true;
			i = 0;
			seen = 0;
			continue;
		}
		err = vq_map_desc(vq, &d, b, iov, max_iov);
		if (err)
			return err;
		if (!(d.flags & VRING_DESC_F_NEXT))
			return 0;
		i = d.next;
		if (i >= size) {
			vdev_error(vq->dev, "queue %u: next descriptor %u of %u",
				   vq->index, i, size);
			return -1;
		}
	}
}

/*
 * Take the next buffer the guest made available: 1 with @b and @iov
 * filled in, 0 if there is none, VQ_NO_ROOM if it has more segments than
 * @max_iov (it stays available), -1 on a device error.
 */
int vq_pop(struct vq *vq, struct vq_buf *b, struct iovec *iov,
	   unsigned int max_iov)
{
	u16 idx = __atomic_load_n(&vq->avail->idx, __ATOMIC_ACQUIRE);
	u16 pending = idx - vq->last_avail;
	int err;

	if (!pending)
		return 0;
	if (pending > vq->num) {
		vdev_error(vq->dev, "queue %u: avail index %u runs %u ahead of %u",
			   vq->index, idx, pending, vq->last_avail);
		return -1;
	}
	memset(b, 0, sizeof(*b));
	b->head = READ_ONCE16(vq->avail->ring[vq->last_avail % vq->num]);
	if (b->head >= vq->num) {
		vdev_error(vq->dev, "queue %u: head descriptor %u of %u",
			   vq->index, b->head, vq->num);
		return -1;
	}
	err = vq_walk(vq, b, iov, max_iov);
	if (err)
		return err;
	vq->last_avail++;
	return 1;
}

/* Give back the last @n buffers popped and not pushed. */
void vq_unpop(struct vq *vq, unsigned int n)
{
	vq->last_avail -= n;
}

/* Complete @b, with @len bytes written into it; vq_flush() tells. */
void vq_push(struct vq *vq, const struct vq_buf *b, u32 len)
{
	struct vring_used_elem *e = &vq->used->ring[vq->used_idx % vq->num];

	e->id = b->head;
	e->len = len;
	vq->used_idx++;
}

/* Does the guest want an interrupt for the buffers just published? */
static bool vq_need_irq(struct vq *vq, u16 new)
{
	u16 used_event, old;
	bool valid;

	if (!vq->event_idx)
		return !(READ_ONCE16(vq->avail->flags) &
			 VRING_AVAIL_F_NO_INTERRUPT);
	used_event = READ_ONCE16(vq->avail->ring[vq->num]);
	old = vq->signalled;
	valid = vq->signalled_valid;
	vq->signalled = new;
	vq->signalled_valid = true;
	return !valid || vring_need_event(used_event, new, old);
}

/* Publish what vq_push() completed; one interrupt for all of it. */
void vq_flush(struct vq *vq)
{
	u16 new = vq->used_idx;

	if (new == vq->published)
		return;
	__atomic_store_n(&vq->used->idx, new, __ATOMIC_RELEASE);
	vq->published = new;
	/* The index must be out before we look at what the guest wants. */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	if (vq_need_irq(vq, new))
		vdev_irq(vq->dev, VIRTIO_MMIO_INT_VRING);
}

/* Forget what the guest set up; the caller holds the queue. */
static void vq_clear(struct vq *vq)
{
	vq->num = 0;
	vq->ready = false;
	vq->desc_gpa = 0;
	vq->avail_gpa = 0;
	vq->used_gpa = 0;
	vq->desc = NULL;
	vq->avail = NULL;
	vq->used = NULL;
	vq->last_avail = 0;
	vq->used_idx = 0;
	vq->published = 0;
	vq->signalled_valid = false;
}

/*
 * Reset: every queue is taken first, so no thread is in the middle of a
 * buffer, and none starts one until the driver sets the device up again.
 */
static void vdev_reset(struct vdev *d)
{
	unsigned int i;

	for (i = 0; i < d->ops->nr_queues; i++)
		pthread_mutex_lock(&d->vq[i].lock);
	atomic_store(&d->status, 0);
	atomic_store(&d->isr, 0);
	atomic_store(&d->broken, false);
	d->driver_features = 0;
	d->dev_features_sel = 0;
	d->drv_features_sel = 0;
	d->queue_sel = 0;
	for (i = 0; i < d->ops->nr_queues; i++)
		vq_clear(&d->vq[i]);
	if (d->ops->reset)
		d->ops->reset(d);
	for (i = 0; i < d->ops->nr_queues; i++)
		pthread_mutex_unlock(&d->vq[i].lock);
}

/* Map the rings the driver gave; every byte must be guest memory. */
static bool vq_map(struct vdev *d, struct vq *vq)
{
	u32 n = vq->num;

	if (!n || n > VQ_MAX_SIZE || (n & (n - 1))) {
		vdev_error(d, "queue %u: size %u", vq->index, n);
		return false;
	}
	if (vq->desc_gpa % 16 || vq->avail_gpa % 2 || vq->used_gpa % 4) {
		vdev_error(d, "queue %u: misaligned rings", vq->index);
		return false;
	}
	vq->desc = gpa_map(d, vq->desc_gpa, 16ULL * n);
	vq->avail = gpa_map(d, vq->avail_gpa, 6ULL + 2 * n);
	vq->used = gpa_map(d, vq->used_gpa, 6ULL + 8 * n);
	if (!vq->desc || !vq->avail || !vq->used) {
		vdev_error(d, "queue %u: rings outside guest memory",
			   vq->index);
		return false;
	}
	vq->event_idx = vdev_has(d, VIRTIO_RING_F_EVENT_IDX);
	return true;
}

static void vq_set_ready(struct vdev *d, struct vq *vq, u32 ready)
{
	pthread_mutex_lock(&vq->lock);
	if (!ready) {
		vq->ready = false;
	} else if (!vq->ready && vq_map(d, vq)) {
		vq->last_avail = 0;
		vq->used_idx = 0;
		vq->published = 0;
		vq->signalled_valid = false;
		vq->ready = true;
	}
	pthread_mutex_unlock(&vq->lock);
}

/* FEATURES_OK: only what we offered, and always VERSION_1. */
static bool vdev_features_ok(struct vdev *d)
{
	u64 f = d->driver_features;

	if (f & ~d->features) {
		pr_verbose(1, "%s: driver wants features %#llx, not offered",
			   d->name, (unsigned long long)(f & ~d->features));
		return false;
	}
	if (!(f & BIT64(VIRTIO_F_VERSION_1))) {
		pr_verbose(1, "%s: legacy driver (no VIRTIO_F_VERSION_1) refused",
			   d->name);
		return false;
	}
	return !d->ops->features_ok || d->ops->features_ok(d, f);
}

static void vdev_set_status(struct vdev *d, u32 val)
{
	u32 old = atomic_load(&d->status);
	unsigned int i;

	if (!val) {
		pr_verbose(1, "%s: reset", d->name);
		vdev_reset(d);
		return;
	}
	if ((val & VIRTIO_CONFIG_S_FEATURES_OK) &&
	    !(old & VIRTIO_CONFIG_S_FEATURES_OK) && !vdev_features_ok(d))
		val &= ~VIRTIO_CONFIG_S_FEATURES_OK;
	val |= old & VIRTIO_CONFIG_S_NEEDS_RESET;
	atomic_store(&d->status, val);
	if (!(val & VIRTIO_CONFIG_S_DRIVER_OK) ||
	    (old & VIRTIO_CONFIG_S_DRIVER_OK))
		return;
	pr_verbose(1, "%s: driver ready, features %#llx", d->name,
		   (unsigned long long)d->driver_features);
	/* The threads may have something for the guest already. */
	for (i = 0; i < d->ops->nr_queues; i++)
		eventfd_write(d->vq[i].kick_fd, 1);
}

static struct vq *vdev_sel_vq(struct vdev *d)
{
	return d->queue_sel < d->ops->nr_queues ? &d->vq[d->queue_sel] : NULL;
}

static u32 vdev_read_reg(struct vdev *d, u32 off)
{
	struct vq *vq = vdev_sel_vq(d);

	switch (off) {
	case VIRTIO_MMIO_MAGIC_VALUE:
		return VIRTIO_MAGIC;
	case VIRTIO_MMIO_VERSION:
		return 2;
	case VIRTIO_MMIO_DEVICE_ID:
		return d->ops->device_id;
	case VIRTIO_MMIO_VENDOR_ID:
		return VIRTIO_VENDOR;
	case VIRTIO_MMIO_DEVICE_FEATURES:
		if (d->dev_features_sel > 1)
			return 0;
		return d->features >> (32 * d->dev_features_sel);
	case VIRTIO_MMIO_QUEUE_NUM_MAX:
		return vq ? VQ_MAX_SIZE : 0;
	case VIRTIO_MMIO_QUEUE_READY:
		return vq ? vq->ready : 0;
	case VIRTIO_MMIO_INTERRUPT_STATUS:
		return atomic_load(&d->isr);
	case VIRTIO_MMIO_STATUS:
		return atomic_load(&d->status);
	case VIRTIO_MMIO_SHM_LEN_LOW:
	case VIRTIO_MMIO_SHM_LEN_HIGH:
		return ~0U;	/* no shared memory regions */
	case VIRTIO_MMIO_CONFIG_GENERATION:
		return __atomic_load_n(&d->generation, __ATOMIC_ACQUIRE);
	}
	return 0;
}

/* The high or low half of a 64-bit ring address. */
static void set_half(u64 *addr, u32 off, u32 val)
{
	if (off & 4)
		*addr = (*addr & 0xffffffffULL) | (u64)val << 32;
	else
		*addr = (*addr & ~0xffffffffULL) | val;
}

static void vdev_write_queue(struct vdev *d, struct vq *vq, u32 off, u32 val)
{
	if (off == VIRTIO_MMIO_QUEUE_READY) {
		vq_set_ready(d, vq, val);
		return;
	}
	pthread_mutex_lock(&vq->lock);
	if (vq->ready) {
		/* The spec forbids it; the rings stay as they were mapped. */
		pthread_mutex_unlock(&vq->lock);
		pr_verbose(1, "%s: queue %u: register %#x written while ready",
			   d->name, vq->index, off);
		return;
	}
	switch (off) {
	case VIRTIO_MMIO_QUEUE_NUM:
		vq->num = val;
		break;
	case VIRTIO_MMIO_QUEUE_DESC_LOW:
	case VIRTIO_MMIO_QUEUE_DESC_HIGH:
		set_half(&vq->desc_gpa, off, val);
		break;
	case VIRTIO_MMIO_QUEUE_AVAIL_LOW:
	case VIRTIO_MMIO_QUEUE_AVAIL_HIGH:
		set_half(&vq->avail_gpa, off, val);
		break;
	case VIRTIO_MMIO_QUEUE_USED_LOW:
	case VIRTIO_MMIO_QUEUE_USED_HIGH:
		set_half(&vq->used_gpa, off, val);
		break;
	}
	pthread_mutex_unlock(&vq->lock);
}

static void vdev_write_reg(struct vdev *d, u32 off, u32 val)
{
	struct vq *vq = vdev_sel_vq(d);
	u64 mask;

	switch (off) {
	case VIRTIO_MMIO_DEVICE_FEATURES_SEL:
		d->dev_features_sel = val;
		return;
	case VIRTIO_MMIO_DRIVER_FEATURES:
		if (d->drv_features_sel > 1 ||
		    (atomic_load(&d->status) & VIRTIO_CONFIG_S_FEATURES_OK))
			return;
		mask = 0xffffffffULL << (32 * d->drv_features_sel);
		d->driver_features = (d->driver_features & ~mask) |
				     ((u64)val << (32 * d->drv_features_sel));
		return;
	case VIRTIO_MMIO_DRIVER_FEATURES_SEL:
		d->drv_features_sel = val;
		return;
	case VIRTIO_MMIO_QUEUE_SEL:
		d->queue_sel = val;
		return;
	case VIRTIO_MMIO_QUEUE_NOTIFY:
		/* Not caught by an ioeventfd: not one of our queues. */
		if (val < d->ops->nr_queues)
			eventfd_write(d->vq[val].kick_fd, 1);
		return;
	case VIRTIO_MMIO_INTERRUPT_ACK:
		atomic_fetch_and(&d->isr, ~val);
		return;
	case VIRTIO_MMIO_STATUS:
		vdev_set_status(d, val);
		return;
	case VIRTIO_MMIO_QUEUE_NUM:
	case VIRTIO_MMIO_QUEUE_READY:
	case VIRTIO_MMIO_QUEUE_DESC_LOW:
	case VIRTIO_MMIO_QUEUE_DESC_HIGH:
	case VIRTIO_MMIO_QUEUE_AVAIL_LOW:
	case VIRTIO_MMIO_QUEUE_AVAIL_HIGH:
	case VIRTIO_MMIO_QUEUE_USED_LOW:
	case VIRTIO_MMIO_QUEUE_USED_HIGH:
		if (vq)
			vdev_write_queue(d, vq, off, val);
		return;
	}
	pr_verbose(1, "%s: write of %#x to register %#x ignored", d->name, val,
		   off);
}

/*
 * Config space: 1, 2 or 4 bytes, little-endian like everything in a
 * VERSION_1 device.  Bytes past its end read as zero; writes are ignored,
 * since no device here has a writable field.
 */
static u32 vdev_read_config(struct vdev *d, u32 off, u32 len)
{
	u32 val = 0;

	pthread_mutex_lock(&d->config_lock);
	if (off < d->config_len && len <= d->config_len - off)
		memcpy(&val, d->config + off, len);
	pthread_mutex_unlock(&d->config_lock);
	return val;
}

static void vdev_mmio(struct vdev *d, struct lguest_run *run)
{
	u32 off = run->mmio.phys_addr - d->addr, len = run->mmio.len;
	bool write = run->mmio.is_write;

	if (off >= VIRTIO_MMIO_CONFIG) {
		if (!write)
			run->mmio.data = vdev_read_config(d, off - VIRTIO_MMIO_CONFIG,
							  len);
		return;
	}
	if (len != 4 || off % 4) {
		pr_verbose(1, "%s: %u-byte access to register %#x ignored",
			   d->name, len, off);
		if (!write)
			run->mmio.data = 0;
		return;
	}
	if (write)
		vdev_write_reg(d, off, run->mmio.data);
	else
		run->mmio.data = vdev_read_reg(d, off);
}

static bool virtio_mmio(struct lg_guest *g, struct lguest_run *run)
{
	u64 addr = run->mmio.phys_addr;
	u64 i = (addr - vdev_base) / VDEV_WINDOW;

	(void)g;
	if (addr < vdev_base || i >= nr_vdevs)
		return false;
	vdev_mmio(vdevs[i], run);
	return true;
}

/*
 * All options are in: place the devices, the console first, then the
 * disks, NICs and rng, and announce them on the command line.
 */
static void virtio_check(const struct lg_boot *b)
{
	enum vdev_class class;
	char word[64];
	struct vdev *d;

	vdev_base = (b->mem_size + VDEV_ALIGN - 1) & ~(VDEV_ALIGN - 1);
	for (class = VDEV_CONSOLE; class <= VDEV_RNG; class++) {
		for (d = vdev_list; d; d = d->next) {
			if (d->ops->class != class)
				continue;
			if (nr_vdevs == VDEV_MAX)
				die("too many devices (at most %u)", VDEV_MAX);
			d->addr = vdev_base + nr_vdevs * VDEV_WINDOW;
			d->irq = VDEV_FIRST_IRQ + nr_vdevs;
			vdevs[nr_vdevs++] = d;
			snprintf(word, sizeof(word),
				 "virtio_mmio.device=4K@%#x:%u", d->addr,
				 d->irq);
			lg_cmdline_add(word);
			pr_verbose(1, "%s: virtio-mmio at %#x, interrupt %u",
				   d->name, d->addr, d->irq);
		}
	}
}

static int check_extension(struct lg_guest *g, int cap, const char *name)
{
	int n = ioctl(g->fd, LGUEST_CHECK_EXTENSION, cap);

	if (n <= 0)
		die("%s: the host has no %s, which devices need (lg.ko too old?)",
		    LG_DEVICE, name);
	return n;
}

/* The host must have room for all the windows and notify addresses. */
static void virtio_check_host(struct lg_guest *g)
{
	unsigned int i, queues = 0;

	for (i = 0; i < nr_vdevs; i++)
		queues += vdevs[i]->ops->nr_queues;
	if ((unsigned int)check_extension(g, LGUEST_CAP_MMIO,
					  "LGUEST_CAP_MMIO") < nr_vdevs)
		die("%s: the host takes fewer MMIO windows than the %u devices",
		    LG_DEVICE, nr_vdevs);
	if ((unsigned int)check_extension(g, LGUEST_CAP_IOEVENTFD,
					  "LGUEST_CAP_IOEVENTFD") < queues)
		die("%s: the host takes fewer ioeventfds than the %u queues",
		    LG_DEVICE, queues);
}

/* The window, and an eventfd for each queue's QueueNotify. */
static void vdev_register(struct lg_guest *g, struct vdev *d)
{
	struct lguest_mmio_window w = { .addr = d->addr, .size = VDEV_WINDOW };
	struct lguest_ioeventfd ev = {
		.addr = d->addr + VIRTIO_MMIO_QUEUE_NOTIFY,
		.len = 4,
		.flags = LGUEST_IOEVENTFD_DATAMATCH,
	};
	unsigned int i;

	if (ioctl(g->fd, LGUEST_ADD_MMIO_WINDOW, &w) < 0)
		die("%s: LGUEST_ADD_MMIO_WINDOW %#x: %s", d->name, d->addr,
		    strerror(errno));
	for (i = 0; i < d->ops->nr_queues; i++) {
		ev.fd = d->vq[i].kick_fd;
		ev.datamatch = i;
		if (ioctl(g->fd, LGUEST_IOEVENTFD, &ev) < 0)
			die("%s: LGUEST_IOEVENTFD: %s", d->name,
			    strerror(errno));
	}
}

/* A new guest: every device starts as just reset, with fresh threads. */
static void virtio_start(struct lg_guest *g)
{
	unsigned int i, q;
	struct vdev *d;

	if (!nr_vdevs)
		return;
	virtio_check_host(g);
	for (i = 0; i < nr_vdevs; i++) {
		d = vdevs[i];
		d->guest = g;
		vdev_reset(d);
		d->generation = 0;
		drain_eventfd(d->stop_fd);
		for (q = 0; q < d->ops->nr_queues; q++)
			drain_eventfd(d->vq[q].kick_fd);
		vdev_register(g, d);
		atomic_store(&d->quit, false);
		d->ops->start(d);
	}
}

/* Before the guest goes: the threads must not touch its memory. */
static void virtio_stop(struct lg_guest *g)
{
	unsigned int i;
	struct vdev *d;
	int t;

	(void)g;
	for (i = 0; i < nr_vdevs; i++) {
		d = vdevs[i];
		atomic_store(&d->quit, true);
		eventfd_write(d->stop_fd, 1);
	}
	for (i = 0; i < nr_vdevs; i++) {
		d = vdevs[i];
		for (t = 0; t < d->nr_threads; t++)
			pthread_join(d->threads[t], NULL);
		d->nr_threads = 0;
	}
}

/*
 * Work through @vq until the guest has nothing more, @fn doing each
 * buffer, with kicks off meanwhile; flushing now and then, so that the
 * guest can recycle buffers while a long batch goes on.
 */
static void vq_process(struct vq *vq, struct iovec *iov, vq_handler_t fn)
{
	unsigned int done = 0;
	struct vq_buf b;
	u32 len;
	int r;

	vq_disable_notify(vq);
	for (;;) {
		while ((r = vq_pop(vq, &b, iov, VQ_MAX_IOV)) > 0) {
			if (fn(vq, &b, iov, &len))
				return;
			vq_push(vq, &b, len);
			if (++done % VQ_BATCH == 0)
				vq_flush(vq);
		}
		if (r == VQ_NO_ROOM)
			vdev_error(vq->dev, "queue %u: buffer of more than %u segments",
				   vq->index, VQ_MAX_IOV);
		if (r)
			return;
		vq_flush(vq);
		if (!vq_enable_notify(vq))
			return;
		vq_disable_notify(vq);
	}
}

/* The body of a thread that serves @vq with @fn, until the device stops. */
void vq_serve(struct vq *vq, vq_handler_t fn)
{
	struct iovec *iov = xmalloc(VQ_MAX_IOV * sizeof(*iov));

	while (vdev_wait(vq->dev, vq, -1, 0) >= 0) {
		if (!vq_begin(vq))
			continue;
		vq_process(vq, iov, fn);
		vq_end(vq);
	}
	free(iov);
}

static const struct lg_device_ops virtio_ops = {
	.name	= "virtio-mmio",
	.order	= LG_ORDER_VIRTIO,
	.check	= virtio_check,
	.start	= virtio_start,
	.stop	= virtio_stop,
	.mmio	= virtio_mmio,
};

lg_device(virtio_ops);

/*
 * Copy between the buffers @iov, from their byte @skip, and @buf: into
 * @iov if @to_iov, out of it otherwise.  Returns how much it copied.
 */
static size_t iov_copy(const struct iovec *iov, unsigned int n, size_t skip,
		       u8 *buf, size_t len, bool to_iov)
{
	size_t done = 0, part;
	unsigned int i;
	u8 *p;

	for (i = 0; i < n && done < len; i++) {
		if (skip >= iov[i].iov_len) {
			skip -= iov[i].iov_len;
			continue;
		}
		part = iov[i].iov_len - skip;
		if (part > len - done)
			part = len - done;
		p = (u8 *)iov[i].iov_base + skip;
		if (to_iov)
			memcpy(p, buf + done, part);
		else
			memcpy(buf + done, p, part);
		done += part;
		skip = 0;
	}
	return done;
}

size_t iov_to_buf(const struct iovec *iov, unsigned int n, size_t skip,
		  void *buf, size_t len)
{
	return iov_copy(iov, n, skip, buf, len, false);
}

size_t iov_from_buf(const struct iovec *iov, unsigned int n, size_t skip,
		    const void *buf, size_t len)
{
	return iov_copy(iov, n, skip, (u8 *)buf, len, true);
}

/*
 * The bytes @skip to @skip + @len of @iov as iovecs of their own, in @out
 * (room for @n); returns how many.  Shorter if @iov is.
 */
unsigned int iov_slice(const struct iovec *iov, unsigned int n, size_t skip,
		       size_t len, struct iovec *out)
{
	unsigned int i, k = 0;
	size_t part;

	for (i = 0; i < n && len; i++) {
		if (skip >= iov[i].iov_len) {
			skip -= iov[i].iov_len;
			continue;
		}
		part = iov[i].iov_len - skip;
		if (part > len)
			part = len;
		out[k].iov_base = (u8 *)iov[i].iov_base + skip;
		out[k++].iov_len = part;
		len -= part;
		skip = 0;
	}
	return k;
}
