// SPDX-License-Identifier: GPL-2.0
/*
 * The lguest launcher: virtio-blk disks, on host files.
 *
 *	--block=FILE[,ro]
 *
 * Each --block is a disk, /dev/vda for the first, and so on.  Its size is
 * the file's, in 512-byte sectors: a tail shorter than a sector is not
 * part of the disk.  With ",ro" the file is opened read-only, the guest
 * is told (VIRTIO_BLK_F_RO) and writes fail.
 *
 * One thread per disk serves its queue: it reads and writes the guest's
 * buffers in place, with preadv() and pwritev() on the segments of each
 * request.  The guest has a write-back cache as far as it knows
 * (VIRTIO_BLK_F_FLUSH): a flush is fdatasync(), done before the request
 * completes, so that what the guest synced is on the host's disk even if
 * the launcher is killed right after.
 */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#include <linux/virtio_blk.h>
#include <linux/virtio_ids.h>

#include "virtio.h"

#define SECTOR_SIZE		512U
#define BLK_SEG_MAX		(VQ_MAX_SIZE - 2)	/* + header, status */
#define BLK_MAX_DISCARD_SEG	32U
#define BLK_MAX_DISCARD		0x400000U	/* sectors: 2 GiB at once */
#define BLK_DISCARD_ALIGN	8U		/* sectors: 4 KiB */

/* The request header: struct virtio_blk_outhdr. */
#define BLK_HDR_LEN		16U

struct blk {
	struct vdev *dev;
	const char *path;
	int fd;
	bool ro;
	bool discard;
	u64 sectors;
	struct virtio_blk_config config;
	struct iovec data[VQ_MAX_IOV];	/* the data part of a request */
};

static unsigned int nr_disks;

/* All of it, whatever preadv()/pwritev() do in part or are interrupted. */
static bool blk_rw(struct blk *blk, struct iovec *iov, unsigned int n,
		   u64 off, bool write)
{
	ssize_t r;

	while (n) {
		if (write)
			r = pwritev(blk->fd, iov, n, off);
		else
			r = preadv(blk->fd, iov, n, off);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			pr_verbose(1, "%s: %s at %llu: %s", blk->dev->name,
				   write ? "write" : "read",
				   (unsigned long long)off,
				   r ? strerror(errno) : "end of file");
			return false;
		}
		off += r;
		while (n && (size_t)r >= iov->iov_len) {
			r -= iov->iov_len;
			iov++;
			n--;
		}
		if (n) {
			iov->iov_base = (u8 *)iov->iov_base + r;
			iov->iov_len -= r;
		}
	}
	return true;
}

/* Is [sector, sector + len bytes) on the disk?  Without overflow. */
static bool blk_in_range(struct blk *blk, u64 sector, u64 len)
{
	return sector <= blk->sectors &&
	       len <= (blk->sectors - sector) * SECTOR_SIZE;
}

static u8 blk_read(struct blk *blk, u64 sector, const struct iovec *in,
		   unsigned int nin, u64 len)
{
	unsigned int n;

	if (!blk_in_range(blk, sector, len))
		return VIRTIO_BLK_S_IOERR;
	n = iov_slice(in, nin, 0, len, blk->data);
	return blk_rw(blk, blk->data, n, sector * SECTOR_SIZE, false) ?
	       VIRTIO_BLK_S_OK : VIRTIO_BLK_S_IOERR;
}

static u8 blk_write(struct blk *blk, u64 sector, const struct iovec *out,
		    unsigned int nout, u64 len)
{
	unsigned int n;

	if (blk->ro || !blk_in_range(blk, sector, len))
		return VIRTIO_BLK_S_IOERR;
	n = iov_slice(out, nout, BLK_HDR_LEN, len, blk->data);
	return blk_rw(blk, blk->data, n, sector * SECTOR_SIZE, true) ?
	       VIRTIO_BLK_S_OK : VIRTIO_BLK_S_IOERR;
}

static u8 blk_flush(struct blk *blk)
{
	if (!fdatasync(blk->fd))
		return VIRTIO_BLK_S_OK;
	pr_err("%s: %s: fdatasync: %s", blk->dev->name, blk->path,
	       strerror(errno));
	return VIRTIO_BLK_S_IOERR;
}

/* The serial number: the file's name, as much of it as fits. */
static u32 blk_get_id(struct blk *blk, const struct iovec *in,
		      unsigned int nin, u64 len)
{
	char id[VIRTIO_BLK_ID_BYTES] = { 0 };
	char *copy = strdup(blk->path), *name;

	if (copy) {
		name = basename(copy);
		memcpy(id, name, strnlen(name, sizeof(id)));
	}
	free(copy);
	if (len > sizeof(id))
		len = sizeof(id);
	return iov_from_buf(in, nin, 0, id, len);
}

/* Punch holes: the file keeps its size, the blocks go back to the host. */
static u8 blk_discard(struct blk *blk, const struct iovec *out,
		      unsigned int nout, u64 len)
{
	struct virtio_blk_discard_write_zeroes seg;
	u64 off;

	if (!blk->discard || blk->ro)
		return VIRTIO_BLK_S_UNSUPP;
	if (len % sizeof(seg) || len / sizeof(seg) > BLK_MAX_DISCARD_SEG)
		return VIRTIO_BLK_S_IOERR;
	for (off = 0; off < len; off += sizeof(seg)) {
		iov_to_buf(out, nout, BLK_HDR_LEN + off, &seg, sizeof(seg));
		if (seg.flags ||
		    !blk_in_range(blk, seg.sector,
				  (u64)seg.num_sectors * SECTOR_SIZE))
			return VIRTIO_BLK_S_IOERR;
		if (fallocate(blk->fd, FALLOC_FL_PUNCH_HOLE |
				       FALLOC_FL_KEEP_SIZE,
			      seg.sector * SECTOR_SIZE,
			      (u64)seg.num_sectors * SECTOR_SIZE))
			return errno == EOPNOTSUPP ? VIRTIO_BLK_S_UNSUPP :
						     VIRTIO_BLK_S_IOERR;
	}
	return VIRTIO_BLK_S_OK;
}

/*
 * One request: a header the device reads, data, and a status byte the
 * device writes, the last byte of the buffer.  Whatever is wrong with it
 * is the request's error, not the device's: the guest gets IOERR.  With
 * no writable byte at all there is nowhere to say so; it completes with
 * nothing written.
 */
static int blk_request(struct vq *vq, struct vq_buf *b, struct iovec *iov,
		       u32 *len)
{
	struct blk *blk = vq->dev->priv;
	const struct iovec *in = iov + b->nout;
	struct virtio_blk_outhdr hdr;
	u64 data_in, data_out;
	u8 status;

	*len = 0;
	if (!b->in_len)
		return 0;
	data_in = b->in_len - 1;
	*len = 1;
	if (b->out_len < BLK_HDR_LEN) {
		status = VIRTIO_BLK_S_IOERR;
		goto out;
	}
	iov_to_buf(iov, b->nout, 0, &hdr, sizeof(hdr));
	data_out = b->out_len - BLK_HDR_LEN;
	switch (hdr.type) {
	case VIRTIO_BLK_T_IN:
		status = blk_read(blk, hdr.sector, in, b->nin, data_in);
		if (status == VIRTIO_BLK_S_OK)
			*len += data_in;
		break;
	case VIRTIO_BLK_T_OUT:
		status = blk_write(blk, hdr.sector, iov, b->nout, data_out);
		break;
	case VIRTIO_BLK_T_FLUSH:
		status = blk_flush(blk);
		break;
	case VIRTIO_BLK_T_GET_ID:
		*len += blk_get_id(blk, in, b->nin, data_in);
		status = VIRTIO_BLK_S_OK;
		break;
	case VIRTIO_BLK_T_DISCARD:
		status = blk_discard(blk, iov, b->nout, data_out);
		break;
	default:
		status = VIRTIO_BLK_S_UNSUPP;
	}
out:
	iov_from_buf(in, b->nin, data_in, &status, 1);
	return 0;
}

static void *blk_thread(void *arg)
{
	struct vdev *d = arg;

	vq_serve(&d->vq[0], blk_request);
	return NULL;
}

static void blk_start(struct vdev *d)
{
	vdev_spawn(d, blk_thread);
}

static const struct vdev_ops blk_vdev_ops = {
	.device_id	= VIRTIO_ID_BLOCK,
	.class		= VDEV_BLOCK,
	.nr_queues	= 1,
	.start		= blk_start,
};

/* FILE or FILE,ro: the last comma starts the flags, if it is ",ro". */
static void blk_parse(const char *arg)
{
	struct blk *blk = xmalloc(sizeof(*blk));
	char *path = strdup(arg), *comma, name[8];
	u64 features;
	struct stat st;
	off_t size;

	memset(blk, 0, sizeof(*blk));
	comma = path ? strrchr(path, ',') : NULL;
	if (comma && !strcmp(comma, ",ro")) {
		*comma = '\0';
		blk->ro = true;
	} else if (comma) {
		die("--block=%s: unknown flag '%s' (only ro)", arg, comma + 1);
	}
	if (!path || !*path)
		die("--block=%s: needs a FILE", arg);
	blk->path = path;
	blk->fd = open(path, (blk->ro ? O_RDONLY : O_RDWR) | O_CLOEXEC);
	if (blk->fd < 0)
		die("--block: %s: %s", path, strerror(errno));
	if (fstat(blk->fd, &st) ||
	    (!S_ISREG(st.st_mode) && !S_ISBLK(st.st_mode)))
		die("--block: %s: not a regular file or block device", path);
	size = lseek(blk->fd, 0, SEEK_END);
	if (size < 0)
		die("--block: %s: %s", path, strerror(errno));
	blk->sectors = size / SECTOR_SIZE;
	blk->discard = S_ISREG(st.st_mode) && !blk->ro;

	blk->config.capacity = blk->sectors;
	blk->config.seg_max = BLK_SEG_MAX;
	blk->config.blk_size = SECTOR_SIZE;
	features = BIT64(VIRTIO_BLK_F_SEG_MAX) | BIT64(VIRTIO_BLK_F_BLK_SIZE) |
		   BIT64(VIRTIO_BLK_F_FLUSH);
	if (blk->ro)
		features |= BIT64(VIRTIO_BLK_F_RO);
	if (blk->discard) {
		features |= BIT64(VIRTIO_BLK_F_DISCARD);
		blk->config.max_discard_sectors = BLK_MAX_DISCARD;
		blk->config.max_discard_seg = BLK_MAX_DISCARD_SEG;
		blk->config.discard_sector_alignment = BLK_DISCARD_ALIGN;
	}
	if (nr_disks >= 26)
		die("--block: at most 26 disks");
	snprintf(name, sizeof(name), "vd%c", 'a' + nr_disks++);
	blk->dev = vdev_new(&blk_vdev_ops, name, features, &blk->config,
			    sizeof(blk->config), blk);
	if (size % SECTOR_SIZE)
		pr_verbose(1, "%s: %s: the last %lld bytes are not a whole sector, not on the disk",
			   name, path, (long long)(size % SECTOR_SIZE));
	pr_verbose(1, "%s: %s, %llu sectors%s", name, path,
		   (unsigned long long)blk->sectors, blk->ro ? ", read-only" : "");
}

static const struct lg_option blk_options[] = {
	{ "block", required_argument, blk_parse,
	  "  --block=FILE[,ro]  a virtio disk on FILE, /dev/vda for the first;\n"
	  "                     ro: read-only.  Repeat for more disks\n" },
	{ }
};

static const struct lg_device_ops blk_ops = {
	.name		= "block",
	.order		= LG_ORDER_VIRTIO_DEV,
	.options	= blk_options,
};

lg_device(blk_ops);
