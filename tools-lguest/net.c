// SPDX-License-Identifier: GPL-2.0
/*
 * The lguest launcher: virtio-net NICs.
 *
 *	--net=tap[:IFNAME]
 *	--net=socket:listen:PATH
 *	--net=socket:connect:PATH
 *	--mac=XX:XX:XX:XX:XX:XX		(for the --net just before it)
 *
 * A NIC is either a TAP interface of the host, which the user puts on a
 * bridge or gives an address (the launcher only brings it up), or one end
 * of a direct link to another launcher over a UNIX socket: no root, no
 * host network configuration.  The socket is SOCK_SEQPACKET, so that one
 * message is one frame, with its virtio-net header in front.
 *
 * Frames carry that header everywhere: the TAP takes and gives it
 * (IFF_VNET_HDR), and so does the link, so checksum and segmentation
 * offloads pass through untouched: a guest sends 64 KiB TCP segments and
 * the other end receives them whole.  Both guests of a link are offered
 * the same offloads, so that what one sends the other takes; a frame the
 * receiving guest did not agree to take is dropped, never altered.
 *
 * Two threads per NIC.  The transmit thread hands each buffer of the
 * guest to the backend as it is, with one writev() or sendmsg().  The
 * receive thread reads a frame from the backend, then spreads it over as
 * many of the guest's (mergeable) receive buffers as it takes; when the
 * guest has no buffers, it keeps that frame and stops reading until the
 * guest kicks.
 */
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <linux/if_tun.h>
#include <linux/virtio_ids.h>
#include <linux/virtio_net.h>

#include "virtio.h"

#define NET_RX		0
#define NET_TX		1
#define NET_HDR_LEN	sizeof(struct virtio_net_hdr_mrg_rxbuf)	/* 12 */
#define NET_FRAME_MAX	(NET_HDR_LEN + 65536 + 18)	/* GSO, VLAN */
#define NET_SOCKBUF	(4 << 20)	/* socket buffers, if allowed */
#define NET_SEND_TIMEOUT_MS 200	/* then a frame to a stuck peer is lost */
#define TUN_DEVICE	"/dev/net/tun"

/* What the guest and the backend both handle: offered to the guest. */
#define NET_HOST_OFFLOADS (BIT64(VIRTIO_NET_F_CSUM) |			\
			   BIT64(VIRTIO_NET_F_HOST_TSO4) |		\
			   BIT64(VIRTIO_NET_F_HOST_TSO6) |		\
			   BIT64(VIRTIO_NET_F_HOST_ECN))
#define NET_GUEST_OFFLOADS (BIT64(VIRTIO_NET_F_GUEST_CSUM) |		\
			    BIT64(VIRTIO_NET_F_GUEST_TSO4) |		\
			    BIT64(VIRTIO_NET_F_GUEST_TSO6) |		\
			    BIT64(VIRTIO_NET_F_GUEST_ECN))
#define NET_FEATURES	(BIT64(VIRTIO_NET_F_MAC) |			\
			 BIT64(VIRTIO_NET_F_STATUS) |			\
			 BIT64(VIRTIO_NET_F_MRG_RXBUF) |		\
			 NET_HOST_OFFLOADS)
#define TUN_OFFLOADS	(TUN_F_CSUM | TUN_F_TSO4 | TUN_F_TSO6 | TUN_F_TSO_ECN)

enum net_kind { NET_TAP, NET_LISTEN, NET_CONNECT };

struct net {
	struct vdev *dev;
	enum net_kind kind;
	char name[8];			/* "net0", ... */
	char ifname[IFNAMSIZ];		/* the TAP */
	const char *path;		/* the socket */
	int fd;				/* the TAP, or the peer (-1: none) */
	int listen_fd;
	pthread_mutex_t peer_lock;	/* against closing @fd under a send */
	bool mac_set;
	u64 features;
	struct virtio_net_config config;
	/* The receive thread's. */
	u8 frame[NET_FRAME_MAX];
	size_t pending;			/* bytes of @frame waiting for buffers */
	struct vq_buf bufs[VQ_MAX_SIZE];
	struct iovec iov[VQ_MAX_IOV];
};

#define MAX_NICS	8
static struct net *nics[MAX_NICS];
static unsigned int nr_nics;
static bool unlink_registered;

static void net_set_link(struct net *n, bool up)
{
	struct vdev *d = n->dev;

	pthread_mutex_lock(&d->config_lock);
	n->config.status = up ? VIRTIO_NET_S_LINK_UP : 0;
	__atomic_fetch_add(&d->generation, 1, __ATOMIC_RELEASE);
	pthread_mutex_unlock(&d->config_lock);
	vdev_config_changed(d);
	pr_verbose(1, "%s: link %s", n->name, up ? "up" : "down");
}

/* The peer hung up: drop frames until another one comes. */
static void net_peer_gone(struct net *n)
{
	shutdown(n->fd, SHUT_RDWR);	/* a send in progress gives up */
	pthread_mutex_lock(&n->peer_lock);
	close(n->fd);
	n->fd = -1;
	pthread_mutex_unlock(&n->peer_lock);
	net_set_link(n, false);
}

/* Large buffers let big GSO frames through; root may have more. */
static void net_sockbuf(int fd)
{
	int size = NET_SOCKBUF;

	if (setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &size, sizeof(size)))
		setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &size, sizeof(size));
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof(size)))
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof(size));
}

/* A peer that stops reading costs a frame now and then, not a hang. */
static void net_peer_setup(struct net *n, int fd)
{
	struct timeval tv = { .tv_usec = NET_SEND_TIMEOUT_MS * 1000 };

	net_sockbuf(fd);
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	pthread_mutex_lock(&n->peer_lock);
	n->fd = fd;
	pthread_mutex_unlock(&n->peer_lock);
}

static void net_accept(struct net *n)
{
	int fd = accept4(n->listen_fd, NULL, NULL, SOCK_CLOEXEC);

	if (fd < 0) {
		if (errno != EAGAIN && errno != EINTR)
			pr_err("%s: accept on %s: %s", n->name, n->path,
			       strerror(errno));
		return;
	}
	net_peer_setup(n, fd);
	net_set_link(n, true);
}

/*
 * Is the receiving guest ready for what this header asks?  The TAP only
 * sends what TUNSETOFFLOAD allowed; the other end of a link may not know.
 */
static bool net_rx_acceptable(struct net *n, const u8 *frame)
{
	const struct virtio_net_hdr_v1 *h = (const void *)frame;
	u8 gso = h->gso_type & ~VIRTIO_NET_HDR_GSO_ECN;
	struct vdev *d = n->dev;

	if ((h->flags & VIRTIO_NET_HDR_F_NEEDS_CSUM) &&
	    !vdev_has(d, VIRTIO_NET_F_GUEST_CSUM))
		return false;
	if ((h->gso_type & VIRTIO_NET_HDR_GSO_ECN) &&
	    !vdev_has(d, VIRTIO_NET_F_GUEST_ECN))
		return false;
	switch (gso) {
	case VIRTIO_NET_HDR_GSO_NONE:
		return true;
	case VIRTIO_NET_HDR_GSO_TCPV4:
		return vdev_has(d, VIRTIO_NET_F_GUEST_TSO4);
	case VIRTIO_NET_HDR_GSO_TCPV6:
		return vdev_has(d, VIRTIO_NET_F_GUEST_TSO6);
	}
	return false;
}

/* Read one frame, without waiting; false if there is none. */
static bool net_recv(struct net *n)
{
	ssize_t len;

	if (n->fd < 0)
		return false;
	if (n->kind == NET_TAP)
		len = read(n->fd, n->frame, sizeof(n->frame));
	else
		len = recv(n->fd, n->frame, sizeof(n->frame),
			   MSG_DONTWAIT | MSG_TRUNC);
	if (len < 0) {
		if (errno != EAGAIN && errno != EINTR && n->kind != NET_TAP)
			net_peer_gone(n);
		return false;
	}
	if (!len && n->kind != NET_TAP) {
		net_peer_gone(n);
		return false;
	}
	if ((size_t)len < NET_HDR_LEN || (size_t)len > sizeof(n->frame) ||
	    !net_rx_acceptable(n, n->frame)) {
		pr_verbose(2, "%s: dropped a received frame of %zd bytes",
			   n->name, len);
		return true;	/* nothing pending, but look again */
	}
	n->pending = len;
	return true;
}

/*
 * Spread the pending frame over receive buffers: 1 if it is done with
 * (delivered or dropped), 0 if the guest has too few buffers, -1 on a
 * device error.  Without MRG_RXBUF one buffer must hold it all.
 */
static int net_rx_put(struct net *n, struct vq *vq)
{
	bool mrg = vdev_has(n->dev, VIRTIO_NET_F_MRG_RXBUF);
	unsigned int nbufs = 0, niov = 0, i;
	struct virtio_net_hdr_mrg_rxbuf *h = (void *)n->frame;
	u64 total = 0, left;
	u32 len;
	int r;

	while (total < n->pending) {
		if (nbufs == VQ_MAX_SIZE || (nbufs && !mrg))
			goto drop;
		r = vq_pop(vq, &n->bufs[nbufs], n->iov + niov,
			   VQ_MAX_IOV - niov);
		if (r == VQ_NO_ROOM)
			goto drop;
		if (r <= 0) {
			vq_unpop(vq, nbufs);
			return r;
		}
		if (n->bufs[nbufs].nout) {
			vdev_error(n->dev, "receive buffer with readable parts");
			return -1;
		}
		niov += n->bufs[nbufs].nin;
		total += n->bufs[nbufs++].in_len;
	}
	h->num_buffers = nbufs;
	iov_from_buf(n->iov, niov, 0, n->frame, n->pending);
	for (i = 0, left = n->pending; i < nbufs; i++) {
		len = left < n->bufs[i].in_len ? left : n->bufs[i].in_len;
		vq_push(vq, &n->bufs[i], len);
		left -= len;
	}
	n->pending = 0;
	return 1;

drop:
	pr_verbose(2, "%s: frame of %zu bytes does not fit the receive buffers",
		   n->name, n->pending);
	vq_unpop(vq, nbufs);
	n->pending = 0;
	return 1;
}

/* Frames into the guest while it has buffers; one interrupt at the end. */
static void net_rx_work(struct net *n, struct vq *vq)
{
	unsigned int done = 0;
	int r;

	for (;;) {
		if (!n->pending && !net_recv(n))
			return;
		if (!n->pending)
			continue;
		r = net_rx_put(n, vq);
		if (r < 0)
			return;
		if (!r) {
			/* Wait for a kick: unless buffers came meanwhile. */
			if (vq_enable_notify(vq))
				continue;
			return;
		}
		if (++done % VQ_BATCH == 0)
			vq_flush(vq);
	}
}

/* What the receive thread waits for, besides a kick. */
static int net_rx_fd(struct net *n)
{
	if (n->pending)
		return -1;	/* buffers first */
	if (n->fd >= 0)
		return n->fd;
	return n->kind == NET_LISTEN ? n->listen_fd : -1;
}

static void *net_rx_thread(void *arg)
{
	struct vdev *d = arg;
	struct net *n = d->priv;
	struct vq *vq = &d->vq[NET_RX];
	int r;

	n->pending = 0;
	for (;;) {
		r = vdev_wait(d, vq, net_rx_fd(n), POLLIN);
		if (r < 0)
			return NULL;
		if ((r & VDEV_WAIT_FD) && n->kind == NET_LISTEN && n->fd < 0) {
			net_accept(n);
			continue;
		}
		if (!vq_begin(vq)) {
			/* No driver: what comes in is lost. */
			if (!n->pending && net_recv(n))
				n->pending = 0;
			continue;
		}
		net_rx_work(n, vq);
		vq_end(vq);
	}
}

/* A frame of the guest, header and all, to the backend as it is. */
static int net_tx(struct vq *vq, struct vq_buf *b, struct iovec *iov,
		  u32 *len)
{
	struct net *n = vq->dev->priv;
	struct msghdr msg = { .msg_iov = iov, .msg_iovlen = b->nout };
	ssize_t r = 0;

	*len = 0;
	if (b->out_len < NET_HDR_LEN || b->out_len > NET_FRAME_MAX) {
		pr_verbose(2, "%s: dropped a frame of %llu bytes to send",
			   n->name, (unsigned long long)b->out_len);
		return 0;
	}
	if (n->kind == NET_TAP) {
		r = writev(n->fd, iov, b->nout);
	} else {
		pthread_mutex_lock(&n->peer_lock);
		if (n->fd >= 0)
			r = sendmsg(n->fd, &msg, MSG_NOSIGNAL);
		pthread_mutex_unlock(&n->peer_lock);
	}
	if (r < 0)
		pr_verbose(2, "%s: frame lost: %s", n->name, strerror(errno));
	return 0;
}

static void *net_tx_thread(void *arg)
{
	struct vdev *d = arg;

	vq_serve(&d->vq[NET_TX], net_tx);
	return NULL;
}

static void net_start(struct vdev *d)
{
	vdev_spawn(d, net_rx_thread);
	vdev_spawn(d, net_tx_thread);
}

/* The TAP may now send the guest what the guest said it takes. */
static bool net_features_ok(struct vdev *d, u64 f)
{
	struct net *n = d->priv;
	unsigned int off = 0;

	if (n->kind != NET_TAP)
		return true;
	if (f & BIT64(VIRTIO_NET_F_GUEST_CSUM)) {
		off |= TUN_F_CSUM;
		if (f & BIT64(VIRTIO_NET_F_GUEST_TSO4))
			off |= TUN_F_TSO4;
		if (f & BIT64(VIRTIO_NET_F_GUEST_TSO6))
			off |= TUN_F_TSO6;
		if (f & BIT64(VIRTIO_NET_F_GUEST_ECN))
			off |= TUN_F_TSO_ECN;
	}
	if (ioctl(n->fd, TUNSETOFFLOAD, off)) {
		/* Then plain frames, which every guest takes. */
		pr_verbose(1, "%s: %s: TUNSETOFFLOAD %#x: %s", n->name,
			   n->ifname, off, strerror(errno));
		ioctl(n->fd, TUNSETOFFLOAD, 0);
	}
	return true;
}

static const struct vdev_ops net_vdev_ops = {
	.device_id	= VIRTIO_ID_NET,
	.class		= VDEV_NET,
	.nr_queues	= 2,
	.features_ok	= net_features_ok,
	.start		= net_start,
};

static void tap_up(struct net *n)
{
	struct ifreq ifr = { 0 };
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	memcpy(ifr.ifr_name, n->ifname, IFNAMSIZ);
	if (fd < 0 || ioctl(fd, SIOCGIFFLAGS, &ifr) < 0) {
		pr_err("%s: %s: cannot bring it up: %s", n->name, n->ifname,
		       strerror(errno));
	} else {
		ifr.ifr_flags |= IFF_UP;
		if (ioctl(fd, SIOCSIFFLAGS, &ifr) < 0)
			pr_err("%s: %s: cannot bring it up: %s", n->name,
			       n->ifname, strerror(errno));
	}
	if (fd >= 0)
		close(fd);
}

static void tap_open(struct net *n, const char *name)
{
	struct ifreq ifr = { .ifr_flags = IFF_TAP | IFF_NO_PI | IFF_VNET_HDR };
	int hdr_len = NET_HDR_LEN;

	if (strlen(name) >= IFNAMSIZ)
		die("--net=tap:%s: interface name too long", name);
	memcpy(ifr.ifr_name, name, strlen(name));
	n->fd = open(TUN_DEVICE, O_RDWR | O_CLOEXEC | O_NONBLOCK);
	if (n->fd < 0)
		die("--net=tap: %s: %s", TUN_DEVICE, strerror(errno));
	if (ioctl(n->fd, TUNSETIFF, &ifr) < 0)
		die("--net=tap%s%s: TUNSETIFF: %s", *name ? ":" : "", name,
		    strerror(errno));
	memcpy(n->ifname, ifr.ifr_name, IFNAMSIZ);
	n->ifname[IFNAMSIZ - 1] = '\0';
	if (ioctl(n->fd, TUNSETVNETHDRSZ, &hdr_len) < 0)
		die("--net=tap: %s: TUNSETVNETHDRSZ: %s", n->ifname,
		    strerror(errno));
	/* Offer the guest offloads only if this TAP can pass them on. */
	if (!ioctl(n->fd, TUNSETOFFLOAD, TUN_OFFLOADS)) {
		n->features |= NET_GUEST_OFFLOADS;
		ioctl(n->fd, TUNSETOFFLOAD, 0);
	}
	tap_up(n);
	n->config.status = VIRTIO_NET_S_LINK_UP;
}

static int unix_socket(const char *path, struct sockaddr_un *sun)
{
	int fd;

	if (strlen(path) >= sizeof(sun->sun_path))
		die("--net=socket: %s: path too long", path);
	memset(sun, 0, sizeof(*sun));
	sun->sun_family = AF_UNIX;
	memcpy(sun->sun_path, path, strlen(path));
	fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (fd < 0)
		die("--net=socket: %s", strerror(errno));
	return fd;
}

/* The socket files we listen on go with us, when we exit normally. */
static void net_unlink_sockets(void)
{
	unsigned int i;

	for (i = 0; i < nr_nics; i++)
		if (nics[i]->kind == NET_LISTEN)
			unlink(nics[i]->path);
}

/*
 * Listen on PATH; a socket file left behind by a launcher that died is
 * taken over, one with a live listener is not.
 */
static void socket_listen(struct net *n)
{
	struct sockaddr_un sun;
	int probe;

	n->listen_fd = unix_socket(n->path, &sun);
	if (bind(n->listen_fd, (struct sockaddr *)&sun, sizeof(sun))) {
		if (errno != EADDRINUSE)
			die("--net=socket:listen:%s: %s", n->path,
			    strerror(errno));
		probe = unix_socket(n->path, &sun);
		if (!connect(probe, (struct sockaddr *)&sun, sizeof(sun)) ||
		    errno != ECONNREFUSED)
			die("--net=socket:listen:%s: in use", n->path);
		close(probe);
		unlink(n->path);
		if (bind(n->listen_fd, (struct sockaddr *)&sun, sizeof(sun)))
			die("--net=socket:listen:%s: %s", n->path,
			    strerror(errno));
	}
	if (listen(n->listen_fd, 1))
		die("--net=socket:listen:%s: %s", n->path, strerror(errno));
	if (fcntl(n->listen_fd, F_SETFL, O_NONBLOCK))
		die("--net=socket:listen:%s: %s", n->path, strerror(errno));
	n->fd = -1;
	n->features |= NET_GUEST_OFFLOADS;
	if (!unlink_registered)
		atexit(net_unlink_sockets);
	unlink_registered = true;
}

static void socket_connect(struct net *n)
{
	struct sockaddr_un sun;
	int fd = unix_socket(n->path, &sun);

	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)))
		die("--net=socket:connect:%s: %s", n->path, strerror(errno));
	net_peer_setup(n, fd);
	n->features |= NET_GUEST_OFFLOADS;
	n->config.status = VIRTIO_NET_S_LINK_UP;
}

/* A random locally administered unicast address: no two guests share. */
static void random_mac(u8 *mac)
{
	if (getrandom(mac, 6, 0) != 6)
		die("getrandom: %s", strerror(errno));
	mac[0] = (mac[0] & 0xfe) | 0x02;
}

static void net_parse(const char *arg)
{
	struct net *n = xmalloc(sizeof(*n));

	memset(n, 0, sizeof(*n));
	n->fd = -1;
	n->listen_fd = -1;
	n->features = NET_FEATURES;
	pthread_mutex_init(&n->peer_lock, NULL);
	if (nr_nics == MAX_NICS)
		die("--net: at most %d NICs", MAX_NICS);
	snprintf(n->name, sizeof(n->name), "net%u", nr_nics);

	if (!strcmp(arg, "tap")) {
		tap_open(n, "");
	} else if (!strncmp(arg, "tap:", 4) && arg[4]) {
		tap_open(n, arg + 4);
	} else if (!strncmp(arg, "socket:listen:", 14) && arg[14]) {
		n->kind = NET_LISTEN;
		n->path = arg + 14;
		socket_listen(n);
	} else if (!strncmp(arg, "socket:connect:", 15) && arg[15]) {
		n->kind = NET_CONNECT;
		n->path = arg + 15;
		socket_connect(n);
	} else {
		die("--net=%s: not tap[:IFNAME], socket:listen:PATH or socket:connect:PATH",
		    arg);
	}
	random_mac(n->config.mac);
	n->dev = vdev_new(&net_vdev_ops, n->name, n->features, &n->config,
			  offsetof(struct virtio_net_config, mtu), n);
	nics[nr_nics++] = n;
}

/* Exactly six pairs of hex digits, and not a multicast address. */
static void mac_parse(const char *arg)
{
	struct net *n = nr_nics ? nics[nr_nics - 1] : NULL;
	unsigned int b[6], i;
	char end;

	if (!n)
		die("--mac=%s: no --net before it", arg);
	if (n->mac_set)
		die("--mac=%s: %s has a MAC already", arg, n->name);
	if (strlen(arg) != 17 ||
	    sscanf(arg, "%2x:%2x:%2x:%2x:%2x:%2x%c", &b[0], &b[1], &b[2],
		   &b[3], &b[4], &b[5], &end) != 6 ||
	    strspn(arg, "0123456789abcdefABCDEF:") != 17)
		die("--mac=%s: not XX:XX:XX:XX:XX:XX", arg);
	if (b[0] & 1)
		die("--mac=%s: a multicast address", arg);
	for (i = 0; i < 6; i++) {
		if (arg[3 * i + 2] != ':' && i < 5)
			die("--mac=%s: not XX:XX:XX:XX:XX:XX", arg);
		n->config.mac[i] = b[i];
	}
	if (!memcmp(n->config.mac, "\0\0\0\0\0\0", 6))
		die("--mac=%s: all zero", arg);
	n->mac_set = true;
}

/* With -v anywhere: say which interface or socket each NIC has. */
static void net_check(const struct lg_boot *b)
{
	unsigned int i;
	const u8 *m;

	(void)b;
	for (i = 0; i < nr_nics; i++) {
		m = nics[i]->config.mac;
		pr_verbose(1, "%s: %s %s, MAC %02x:%02x:%02x:%02x:%02x:%02x",
			   nics[i]->name,
			   nics[i]->kind == NET_TAP ? "tap" : "socket",
			   nics[i]->kind == NET_TAP ? nics[i]->ifname :
						      nics[i]->path,
			   m[0], m[1], m[2], m[3], m[4], m[5]);
	}
}

static const struct lg_option net_options[] = {
	{ "net", required_argument, net_parse,
	  "  --net=tap[:IFNAME] a virtio NIC on a new (or the named) TAP\n"
	  "                     interface, which the launcher brings up\n"
	  "  --net=socket:listen:PATH, --net=socket:connect:PATH\n"
	  "                     a virtio NIC linked to another launcher's\n"
	  "                     through the UNIX socket PATH.  Repeatable\n" },
	{ "mac", required_argument, mac_parse,
	  "  --mac=XX:XX:XX:XX:XX:XX  the MAC of the NIC of the --net before\n"
	  "                     it (default: a random local one)\n" },
	{ }
};

static const struct lg_device_ops net_ops = {
	.name		= "net",
	.order		= LG_ORDER_VIRTIO_DEV,
	.options	= net_options,
	.check		= net_check,
};

lg_device(net_ops);
