/* SPDX-License-Identifier: BSD-3-Clause */
/* pollnet and the kernel's programs on one address (kernel_local.h). */
#include "kernel_local.h"

#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <rte_mbuf.h>
#include <rte_ring.h>

#include "app.h"
#include "abi/pn_region.h"

#define KL_RING 1024

int
kernel_local_open(struct app *a)
{
	struct kernel_local *k = &a->kl;

	if (a->exc == NULL && a->port->kernel.ip == 0)
		return 0;               /* the kernel has not our address */
	k->resv = malloc(65536 * sizeof(*k->resv));
	k->ep = epoll_create1(EPOLL_CLOEXEC);
	k->bell = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	k->out = rte_ring_create_elem("pn_kl_out", sizeof(struct kernel_local_item), KL_RING,
				      SOCKET_ID_ANY, RING_F_SC_DEQ);
	k->in = rte_ring_create_elem("pn_kl_in", sizeof(struct kernel_local_item), KL_RING,
				     SOCKET_ID_ANY, RING_F_SP_ENQ | RING_F_SC_DEQ);
	if (k->resv == NULL || k->ep < 0 || k->bell < 0 || k->out == NULL || k->in == NULL)
		return -ENOMEM;
	for (int i = 0; i < 65536; i++)
		k->resv[i] = -1;
	return 0;
}

static void
drain(struct rte_ring *r)
{
	struct kernel_local_item it;

	while (r != NULL && rte_ring_dequeue_elem(r, &it, sizeof(it)) == 0)
		rte_pktmbuf_free(it.m);
}

void
kernel_local_close(struct app *a)
{
	struct kernel_local *k = &a->kl;

	for (int i = 0; k->resv != NULL && i < 65536; i++)
		if (k->resv[i] >= 0)
			close(k->resv[i]);
	free(k->resv);
	k->resv = NULL;
	drain(k->out);
	drain(k->in);
	rte_ring_free(k->out);
	rte_ring_free(k->in);
	k->out = k->in = NULL;
	if (k->ep >= 0)
		close(k->ep);
	if (k->bell >= 0)
		close(k->bell);
	k->ep = k->bell = -1;
}

int
app_udp_hold(struct app *a, uint16_t port, int hold)
{
	struct kernel_local *k = &a->kl;
	struct epoll_event ev = { .events = EPOLLIN, .data.u32 = port };
	const int one = 1;
	int fd, rc;

	if (k->resv == NULL)
		return port_udp_hold(a->port, port, hold);
	if (!hold) {
		port_udp_hold(a->port, port, 0);
		if (k->resv[port] >= 0)
			close(k->resv[port]);   /* (and out of the epoll set) */
		k->resv[port] = -1;
		return 0;
	}
	if (k->resv[port] >= 0)
		return 0;
	fd = port_kernel_reserve(a->sconf.ip, port);
	if (fd < 0)
		return fd;
	if (setsockopt(fd, IPPROTO_IP, IP_PKTINFO, &one, sizeof(one)) < 0 ||
	    epoll_ctl(k->ep, EPOLL_CTL_ADD, fd, &ev) < 0) {
		rc = -errno;
		close(fd);
		return rc;
	}
	rc = port_udp_hold(a->port, port, 1);
	if (rc < 0) {
		close(fd);
		return rc;
	}
	k->resv[port] = fd;
	return 0;
}

int
kernel_local_fds(const struct app *a, int fds[2])
{
	if (a->kl.resv == NULL)
		return 0;
	fds[0] = a->kl.ep;
	fds[1] = a->kl.bell;
	return 2;
}

int
kernel_local_out(void *arg, struct rte_mbuf *m, rte_be16_t sport, rte_be32_t dst,
		 rte_be16_t dport)
{
	struct kernel_local *k = arg;
	struct kernel_local_item it = { .m = m, .dst = dst, .sport = sport, .dport = dport };
	const uint64_t one = 1;
	const int idle = rte_ring_count(k->out) == 0;

	if (rte_ring_mp_enqueue_elem(k->out, &it, sizeof(it)) != 0) {
		rte_pktmbuf_free(m);
		return -ENOBUFS;
	}
	/* ring once per batch: the control thread empties the ring */
	if (idle && write(k->bell, &one, sizeof(one)) < 0)
		return 0;               /* (full: rung already) */
	return 0;
}

/* A kernel program's datagrams to pollnet's port `port`, for lcore 0. */
static void
from_kernel(struct app *a, uint16_t port)
{
	struct kernel_local *k = &a->kl;
	const int fd = k->resv[port];

	for (int n = 0; fd >= 0 && n < 64; n++) {
		struct rte_mbuf *m = rte_pktmbuf_alloc(a->pool);
		char cbuf[CMSG_SPACE(sizeof(struct in_pktinfo))];
		struct sockaddr_in from;
		struct iovec iov;
		struct msghdr msg = { .msg_name = &from, .msg_namelen = sizeof(from),
				      .msg_iov = &iov, .msg_iovlen = 1,
				      .msg_control = cbuf, .msg_controllen = sizeof(cbuf) };
		struct kernel_local_item it = { .m = m, .dst = a->sconf.ip,
						.dport = htons(port) };
		ssize_t r;

		if (m == NULL) {
			k->dropped++;
			return;         /* the rest waits in the socket */
		}
		iov = (struct iovec){ rte_pktmbuf_mtod(m, void *), rte_pktmbuf_tailroom(m) };
		r = recvmsg(fd, &msg, MSG_DONTWAIT);
		if (r < 0 || (msg.msg_flags & MSG_TRUNC)) {
			rte_pktmbuf_free(m);
			if (r < 0)
				return;
			k->dropped++;   /* longer than an mbuf holds */
			continue;
		}
		rte_pktmbuf_append(m, (uint16_t)r);
		for (struct cmsghdr *c = CMSG_FIRSTHDR(&msg); c != NULL; c = CMSG_NXTHDR(&msg, c))
			if (c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_PKTINFO)
				it.dst = ((struct in_pktinfo *)CMSG_DATA(c))->ipi_addr.s_addr;
		it.src = from.sin_addr.s_addr;
		it.sport = from.sin_port;
		if (rte_ring_sp_enqueue_elem(k->in, &it, sizeof(it)) != 0) {
			rte_pktmbuf_free(m);
			k->dropped++;
			continue;
		}
		k->from_kernel++;
	}
}

/* Datagrams pollnet's sockets sent to kernel programs on this host: from
 * the reservation socket of their source port, so that they come from
 * pollnet's address and port. */
static void
to_kernel(struct app *a)
{
	static uint8_t buf[65536];
	struct kernel_local *k = &a->kl;
	struct kernel_local_item it;
	uint64_t rung;

	if (read(k->bell, &rung, sizeof(rung)) < 0 && errno != EAGAIN)
		return;
	while (rte_ring_sc_dequeue_elem(k->out, &it, sizeof(it)) == 0) {
		const int fd = k->resv[ntohs(it.sport)];
		const uint32_t len = rte_pktmbuf_pkt_len(it.m);
		const void *p = rte_pktmbuf_read(it.m, 0, len, buf);
		struct sockaddr_in to = { .sin_family = AF_INET, .sin_addr.s_addr = it.dst,
					  .sin_port = it.dport };

		if (fd < 0 || p == NULL ||
		    sendto(fd, p, len, MSG_DONTWAIT, (struct sockaddr *)&to, sizeof(to)) < 0)
			k->dropped++;
		else
			k->to_kernel++;
		rte_pktmbuf_free(it.m);
	}
}

void
kernel_local_poll(struct app *a)
{
	struct epoll_event ev[32];
	const uint64_t one = 1;
	uint64_t before = a->kl.from_kernel;
	int n;

	if (a->kl.resv == NULL)
		return;
	to_kernel(a);
	n = epoll_wait(a->kl.ep, ev, RTE_DIM(ev), 0);
	for (int i = 0; i < n; i++)
		from_kernel(a, (uint16_t)ev[i].data.u32);
	/* a dozing lcore 0 wakes for them */
	if (a->kl.from_kernel != before && (a->state->flags & PN_STATE_DOZE) &&
	    write(a->bell, &one, sizeof(one)) < 0)
		return;
}
