/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * `tap:NAME`: a tap device of pollnet's own, the exception path's default
 * (port.exception_driver = tap).  One descriptor per queue (IFF_MULTI_QUEUE)
 * and a virtio-net header on every frame each way (IFF_VNET_HDR), which is
 * what DPDK's net_tap lacks: the TCP segments of one flow that a transmit
 * burst carries to the kernel are merged (DPDK's GRO library, within the
 * burst) and written as one frame with a GSO header, one write(2) for up to
 * 64 KB where net_tap makes one per segment.  The kernel takes the merged
 * frame as its own GRO would have made it (CHECKSUM_PARTIAL, gso_size the
 * first segment's payload).
 *
 * The kernel's frames come unmerged and with their checksums (no offloads
 * asked for: TUNSETOFFLOAD 0), one read(2) each.  A queue's descriptor is
 * readable while the kernel has a frame for it: receive interrupts for an
 * lcore that sleeps.  The device goes when the last descriptor closes.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/uio.h>
#include <unistd.h>

#include <linux/if_tun.h>
#include <linux/virtio_net.h>

#include <bsd/string.h>
#include <rte_epoll.h>
#include <rte_gro.h>
#include <rte_ip.h>
#include <rte_mbuf.h>
#include <rte_tcp.h>

#include "port.h"

#define TAP_MAX_QUEUES 64
#define TAP_GRO_FLOWS  8                /* flows merged per burst, at most */
#define TAP_MAX_SEGS   64               /* a merged frame's mbufs, at most */

struct tap_queue {
	int fd;
	struct rte_mbuf *spare;         /* allocated for a read that found nothing */
	struct rte_epoll_event ev;
	/* counters: only this queue's lcore writes them */
	uint64_t rx_packets, rx_bytes, tx_packets, tx_bytes, rx_errors, tx_errors;
	uint64_t rx_nombuf, tx_merged;
} __rte_cache_aligned;

struct tap_priv {
	struct rte_mempool *pool;
	uint16_t nb_queues;
	struct tap_queue q[];
};

/* A frame from the kernel: its virtio-net header says whether its
 * checksum is still to be computed (it should not be: no offloads). */
static void
tap_csum_finish(struct rte_mbuf *m, const struct virtio_net_hdr *h)
{
	uint16_t start = h->csum_start, off = h->csum_offset;
	uint32_t len = rte_pktmbuf_data_len(m);
	uint8_t *p = rte_pktmbuf_mtod(m, uint8_t *);
	uint16_t c;

	if (!(h->flags & VIRTIO_NET_HDR_F_NEEDS_CSUM) || start >= len ||
	    (uint32_t)start + off + 2 > len)
		return;
	/* the field holds the pseudo-header's sum: the rest completes it */
	c = (uint16_t)~rte_raw_cksum(p + start, len - start);
	if (c == 0 && off == 6)         /* UDP: 0 means none */
		c = 0xffff;
	memcpy(p + start + off, &c, sizeof(c));
}

static uint16_t
tap_rx_burst(struct port *p, uint16_t qi, struct rte_mbuf **m, uint16_t n)
{
	struct tap_priv *t = p->priv;
	struct tap_queue *q = &t->q[qi];
	uint16_t got = 0;

	while (got < n) {
		struct rte_mbuf *b = q->spare != NULL ? q->spare : rte_pktmbuf_alloc(t->pool);
		struct virtio_net_hdr h;
		struct iovec iov[2];
		ssize_t r;

		q->spare = NULL;
		if (b == NULL) {
			q->rx_nombuf++;
			break;
		}
		iov[0] = (struct iovec){ &h, sizeof(h) };
		iov[1] = (struct iovec){ rte_pktmbuf_mtod(b, void *), rte_pktmbuf_tailroom(b) };
		r = readv(q->fd, iov, 2);
		if (r <= (ssize_t)sizeof(h)) {
			q->spare = b;           /* the next poll's: no alloc and free per empty one */
			if (r < 0 && errno != EAGAIN && errno != EINTR)
				q->rx_errors++;
			break;
		}
		if (h.gso_type != VIRTIO_NET_HDR_GSO_NONE ||
		    (size_t)r - sizeof(h) > rte_pktmbuf_tailroom(b)) {
			rte_pktmbuf_free(b);    /* asked for none; or cut short */
			q->rx_errors++;
			continue;
		}
		b->data_len = (uint16_t)((size_t)r - sizeof(h));
		b->pkt_len = b->data_len;
		tap_csum_finish(b, &h);
		q->rx_packets++;
		q->rx_bytes += b->pkt_len;
		m[got++] = b;
	}
	return got;
}

/* An IPv4 TCP frame GRO may merge: its packet type and header lengths set
 * (what the GRO library reads).  Only pure segments (ACK alone: GRO's own
 * rule), whole datagrams, mbufs no one else holds. */
static int
tap_gro_ready(struct rte_mbuf *m)
{
	const struct rte_ether_hdr *e = rte_pktmbuf_mtod(m, const struct rte_ether_hdr *);
	const struct rte_ipv4_hdr *ip;
	const struct rte_tcp_hdr *tcp;
	uint16_t l3, l4;

	m->packet_type = 0;
	if (m->nb_segs != 1 || rte_mbuf_refcnt_read(m) != 1 || RTE_MBUF_CLONED(m) ||
	    m->data_len < sizeof(*e) + sizeof(*ip) + sizeof(*tcp) ||
	    e->ether_type != rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4))
		return 0;
	ip = (const struct rte_ipv4_hdr *)(e + 1);
	l3 = (uint16_t)((ip->version_ihl & 0xf) * 4);
	if (ip->next_proto_id != IPPROTO_TCP || l3 < sizeof(*ip) ||
	    (ip->fragment_offset & rte_cpu_to_be_16(RTE_IPV4_HDR_MF_FLAG |
						    RTE_IPV4_HDR_OFFSET_MASK)) != 0 ||
	    m->data_len < sizeof(*e) + l3 + sizeof(*tcp) ||
	    rte_be_to_cpu_16(ip->total_length) != m->data_len - sizeof(*e))
		return 0;
	tcp = (const struct rte_tcp_hdr *)((const uint8_t *)ip + l3);
	l4 = (uint16_t)((tcp->data_off >> 4) * 4);
	if (l4 < sizeof(*tcp) || m->data_len < sizeof(*e) + l3 + l4)
		return 0;
	m->packet_type = RTE_PTYPE_L2_ETHER | RTE_PTYPE_L3_IPV4 | RTE_PTYPE_L4_TCP;
	m->l2_len = sizeof(*e);
	m->l3_len = l3;
	m->l4_len = l4;
	return 1;
}

/* One frame to the kernel, merged or not: a write(2).  0, or -1 if the
 * kernel took none of it. */
static int
tap_write(struct tap_queue *q, struct rte_mbuf *m)
{
	struct iovec iov[1 + TAP_MAX_SEGS];
	struct virtio_net_hdr h = { .gso_type = VIRTIO_NET_HDR_GSO_NONE };
	int n = 1;

	if (m->nb_segs > 1 && m->packet_type != 0) {
		/* merged: its IP header's new length needs a new checksum,
		 * and TCP's field the pseudo-header's sum for the kernel to
		 * finish (it checks none of it for local delivery) */
		struct rte_ipv4_hdr *ip = rte_pktmbuf_mtod_offset(m, struct rte_ipv4_hdr *,
								  m->l2_len);
		struct rte_tcp_hdr *tcp = (struct rte_tcp_hdr *)((uint8_t *)ip + m->l3_len);
		const uint16_t hlen = (uint16_t)(m->l2_len + m->l3_len + m->l4_len);

		ip->hdr_checksum = 0;
		ip->hdr_checksum = rte_ipv4_cksum(ip);
		tcp->cksum = rte_ipv4_phdr_cksum(ip, 0);
		h.flags = VIRTIO_NET_HDR_F_NEEDS_CSUM;
		h.gso_type = VIRTIO_NET_HDR_GSO_TCPV4;
		h.hdr_len = hlen;
		h.gso_size = (uint16_t)(m->data_len - hlen);
		h.csum_start = (uint16_t)(m->l2_len + m->l3_len);
		h.csum_offset = offsetof(struct rte_tcp_hdr, cksum);
		q->tx_merged++;
	}
	iov[0] = (struct iovec){ &h, sizeof(h) };
	for (struct rte_mbuf *s = m; s != NULL && n < (int)RTE_DIM(iov); s = s->next)
		iov[n++] = (struct iovec){ rte_pktmbuf_mtod(s, void *), s->data_len };
	if (n == (int)RTE_DIM(iov) && m->nb_segs >= RTE_DIM(iov))
		return -1;              /* (GRO never chains this many) */
	if (writev(q->fd, iov, n) < 0)
		return -1;
	q->tx_packets++;
	q->tx_bytes += m->pkt_len;
	return 0;
}

/*
 * The burst's TCP segments merged per flow, then a write each.  A frame the
 * kernel does not take (its queue full: EAGAIN) is dropped and counted, as
 * a device drops what it has no room for; the burst is always taken whole.
 */
static uint16_t
tap_tx_burst(struct port *p, uint16_t qi, struct rte_mbuf **m, uint16_t n)
{
	struct tap_priv *t = p->priv;
	struct tap_queue *q = &t->q[qi];
	struct rte_gro_param gp = {
		.gro_types = RTE_GRO_TCP_IPV4,
		.max_flow_num = TAP_GRO_FLOWS,
		.max_item_per_flow = 32,
	};
	uint16_t k = 0, out;

	for (uint16_t i = 0; i < n; i++)
		k += (uint16_t)tap_gro_ready(m[i]);
	out = k > 1 ? rte_gro_reassemble_burst(m, n, &gp) : n;
	for (uint16_t i = 0; i < out; i++) {
		if (tap_write(q, m[i]) < 0)
			q->tx_errors++;
		rte_pktmbuf_free(m[i]);
	}
	return n;
}

static int
tap_link(struct port *p, struct port_link *l)
{
	(void)p;
	*l = (struct port_link){ .up = 1, .speed_mbps = 0, .full_duplex = 1 };
	return 0;
}

static int
tap_stats(struct port *p, struct port_stats *s)
{
	const struct tap_priv *t = p->priv;

	memset(s, 0, sizeof(*s));
	for (uint16_t i = 0; i < t->nb_queues; i++) {
		const struct tap_queue *q = &t->q[i];

		s->rx_packets += q->rx_packets;
		s->rx_bytes += q->rx_bytes;
		s->tx_packets += q->tx_packets;
		s->tx_bytes += q->tx_bytes;
		s->rx_errors += q->rx_errors;
		s->tx_errors += q->tx_errors;
		s->rx_nombuf += q->rx_nombuf;
	}
	return 0;
}

static void
tap_close(struct port *p)
{
	struct tap_priv *t = p->priv;

	for (uint16_t i = 0; t != NULL && i < t->nb_queues; i++) {
		if (t->q[i].fd >= 0)
			close(t->q[i].fd);
		rte_pktmbuf_free(t->q[i].spare);
	}
	free(t);
	p->priv = NULL;
}

/* Receive "interrupts": the queue's descriptor, readable while the kernel
 * has a frame for it (level-triggered: nothing to arm). */
static int
tap_intr_setup(struct port *p, uint16_t qi, void *tag)
{
	struct tap_queue *q = &((struct tap_priv *)p->priv)->q[qi];

	q->ev = (struct rte_epoll_event){ .epdata = { .event = EPOLLIN, .data = tag } };
	return rte_epoll_ctl(RTE_EPOLL_PER_THREAD, EPOLL_CTL_ADD, q->fd, &q->ev);
}

static int
tap_intr_arm(struct port *p, uint16_t q)
{
	(void)p;
	(void)q;
	return 0;
}

static void
tap_intr_disarm(struct port *p, uint16_t q)
{
	(void)p;
	(void)q;
}

static const struct port_ops tap_ops = {
	.rx_burst = tap_rx_burst,
	.tx_burst = tap_tx_burst,
	.link = tap_link,
	.stats = tap_stats,
	.close = tap_close,
	.intr_setup = tap_intr_setup,
	.intr_arm = tap_intr_arm,
	.intr_disarm = tap_intr_disarm,
};

/* Queue i's descriptor on the tap `name`, made by the first. */
static int
tap_queue_open(const char *name, char *err, size_t errlen)
{
	struct ifreq r = { .ifr_flags = IFF_TAP | IFF_NO_PI | IFF_VNET_HDR | IFF_MULTI_QUEUE };
	int fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC), hs = sizeof(struct virtio_net_hdr);

	if (fd < 0) {
		snprintf(err, errlen, "port tap:%s: /dev/net/tun: %s", name, strerror(errno));
		return -errno;
	}
	strlcpy(r.ifr_name, name, sizeof(r.ifr_name));
	if (ioctl(fd, TUNSETIFF, &r) < 0 || ioctl(fd, TUNSETVNETHDRSZ, &hs) < 0 ||
	    ioctl(fd, TUNSETOFFLOAD, 0) < 0) {
		int e = errno;

		snprintf(err, errlen, "port tap:%s: cannot make the tap: %s", name, strerror(e));
		close(fd);
		return -e;
	}
	return fd;
}

int
tap_port_open(const char *args, const struct port_conf *conf, struct port *p,
	      char *err, size_t errlen)
{
	struct tap_priv *t;

	if (args[0] == '\0' || strlen(args) >= IF_NAMESIZE || strchr(args, ',') != NULL) {
		snprintf(err, errlen, "port 'tap:%s': expected tap:NAME (at most %d characters)",
			 args, IF_NAMESIZE - 1);
		return -EINVAL;
	}
	if (conf->nb_queues == 0 || conf->nb_queues > TAP_MAX_QUEUES) {
		snprintf(err, errlen, "port tap:%s: %u queues (1 to %d)", args, conf->nb_queues,
			 TAP_MAX_QUEUES);
		return -EINVAL;
	}
	t = calloc(1, sizeof(*t) + conf->nb_queues * sizeof(t->q[0]));
	if (t == NULL)
		return -ENOMEM;
	t->pool = conf->pool;
	p->priv = t;
	for (uint16_t i = 0; i < conf->nb_queues; i++) {
		int fd = tap_queue_open(args, err, errlen);

		if (fd < 0) {
			tap_close(p);
			return fd;
		}
		t->q[i].fd = fd;
		t->nb_queues = (uint16_t)(i + 1);
	}
	p->ops = &tap_ops;
	p->nb_queues = conf->nb_queues;
	strlcpy(p->driver, "tap", sizeof(p->driver));
	if (conf->mac != NULL)
		p->mac = *conf->mac;
	else
		rte_eth_random_addr(p->mac.addr_bytes);
	p->tx_offload = 0;
	return 0;
}
