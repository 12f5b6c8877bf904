/* SPDX-License-Identifier: BSD-3-Clause */
/* The kernel's neighbour table through rtnetlink (neigh.h). */
#include "neigh.h"

#include <errno.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <linux/neighbour.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>

#include <rte_ring.h>

/* The states whose link-layer address the kernel itself would send to. */
#define NEIGH_USABLE (NUD_REACHABLE | NUD_STALE | NUD_DELAY | NUD_PROBE | \
		      NUD_PERMANENT | NUD_NOARP)

struct nl_req {
	struct nlmsghdr nh;
	struct ndmsg nd;
	struct rtattr dst_attr;
	rte_be32_t dst;
};

static int
nl_socket(uint32_t groups)
{
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK, .nl_groups = groups };
	int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, NETLINK_ROUTE);

	if (fd < 0)
		return -errno;
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		int e = errno;

		close(fd);
		return -e;
	}
	return fd;
}

/* One RTM_NEWNEIGH: an IPv4 neighbour of ours with an address to use. */
static void
neigh_msg(struct neigh *n, const struct nlmsghdr *nh)
{
	const struct ndmsg *nd = NLMSG_DATA(nh);
	int len = (int)nh->nlmsg_len - (int)NLMSG_LENGTH(sizeof(*nd));
	const struct rtattr *ra = (const struct rtattr *)((const char *)nd +
							   NLMSG_ALIGN(sizeof(*nd)));
	const uint8_t *mac = NULL;
	rte_be32_t ip = 0;

	if (nh->nlmsg_type != RTM_NEWNEIGH || len < 0 || nd->ndm_family != AF_INET ||
	    nd->ndm_ifindex != n->ifindex || !(nd->ndm_state & NEIGH_USABLE))
		return;
	for (; RTA_OK(ra, len); ra = RTA_NEXT(ra, len)) {
		if (ra->rta_type == NDA_DST && RTA_PAYLOAD(ra) == 4)
			memcpy(&ip, RTA_DATA(ra), 4);
		else if (ra->rta_type == NDA_LLADDR && RTA_PAYLOAD(ra) == RTE_ETHER_ADDR_LEN)
			mac = RTA_DATA(ra);
	}
	if (ip == 0 || mac == NULL)
		return;
	{
		struct rte_ether_addr ea;

		memcpy(ea.addr_bytes, mac, RTE_ETHER_ADDR_LEN);
		if (!rte_is_unicast_ether_addr(&ea) || rte_is_zero_ether_addr(&ea))
			return;
		n->learned++;
		n->learn(n->arg, ip, &ea);
	}
}

/* Everything waiting on fd; 1 once a dump's end or an answer's ack came. */
static int
neigh_read(struct neigh *n, int fd)
{
	char buf[16384] __attribute__((aligned(4)));
	int done = 0;

	for (;;) {
		ssize_t r = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);
		uint32_t len = (uint32_t)r;

		if (r < 0) {
			if (errno == EINTR)
				continue;
			return done;    /* EAGAIN; ENOBUFS: we lost news, the asks recover */
		}
		for (const struct nlmsghdr *nh = (const void *)buf; NLMSG_OK(nh, len);
		     nh = NLMSG_NEXT(nh, len)) {
			if (nh->nlmsg_type == NLMSG_DONE || nh->nlmsg_type == NLMSG_ERROR)
				done = 1;
			else
				neigh_msg(n, nh);
		}
	}
}

static int
neigh_send(struct neigh *n, uint16_t type, uint16_t flags, rte_be32_t ip)
{
	struct nl_req q = {
		.nh = { .nlmsg_len = sizeof(q), .nlmsg_type = type,
			.nlmsg_flags = NLM_F_REQUEST | flags, .nlmsg_seq = ++n->seq },
		.nd = { .ndm_family = AF_INET, .ndm_ifindex = n->ifindex },
		.dst_attr = { .rta_len = RTA_LENGTH(4), .rta_type = NDA_DST },
		.dst = ip,
	};

	if (type == RTM_NEWNEIGH)
		q.nd.ndm_flags = NTF_USE;
	if (flags & NLM_F_DUMP)
		q.nh.nlmsg_len = NLMSG_LENGTH(sizeof(q.nd));
	return send(n->req_fd, &q, q.nh.nlmsg_len, 0) < 0 ? -errno : 0;
}

int
neigh_open(struct neigh *n, int ifindex, neigh_learn_fn *learn, void *arg)
{
	*n = (struct neigh){ .ifindex = ifindex, .ev_fd = -1, .req_fd = -1, .bell = -1,
			     .learn = learn, .arg = arg };
	n->ask = rte_ring_create_elem("pn_neigh_ask", sizeof(rte_be32_t), 1024, SOCKET_ID_ANY,
				      RING_F_SC_DEQ);
	if (n->ask == NULL)
		return -ENOMEM;
	n->bell = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (n->bell < 0)
		return -errno;
	n->ev_fd = nl_socket(1u << (RTNLGRP_NEIGH - 1));
	n->req_fd = nl_socket(0);
	if (n->ev_fd < 0 || n->req_fd < 0)
		return n->ev_fd < 0 ? n->ev_fd : n->req_fd;
	/* the table as it is, read by the first neigh_poll (news from now
	 * on come to ev_fd) */
	return neigh_send(n, RTM_GETNEIGH, NLM_F_DUMP, 0);
}

void
neigh_ask(void *arg, rte_be32_t ip)
{
	struct neigh *n = arg;
	const uint64_t one = 1;

	/* full: the lcore asks again at its next retry */
	if (rte_ring_mp_enqueue_elem(n->ask, &ip, sizeof(ip)) == 0 &&
	    write(n->bell, &one, sizeof(one)) < 0)
		return;                 /* (full: rung already) */
}

int
neigh_fds(const struct neigh *n, int fds[2])
{
	if (n->ask == NULL)
		return 0;
	fds[0] = n->bell;
	fds[1] = n->ev_fd;
	return 2;
}

void
neigh_poll(struct neigh *n)
{
	rte_be32_t ip[32];
	uint64_t rung;
	unsigned cnt;

	if (read(n->bell, &rung, sizeof(rung)) < 0 && errno != EAGAIN)
		return;
	neigh_read(n, n->req_fd);       /* the dump's answer, at first */
	neigh_read(n, n->ev_fd);
	while ((cnt = rte_ring_sc_dequeue_burst_elem(n->ask, ip, sizeof(ip[0]), RTE_DIM(ip),
						     NULL)) != 0) {
		for (unsigned i = 0; i < cnt; i++) {
			n->asked++;
			/* what the kernel has now (a REACHABLE entry makes no
			 * news), then: resolve it, or confirm a stale one */
			if (neigh_send(n, RTM_GETNEIGH, 0, ip[i]) == 0)
				neigh_read(n, n->req_fd);
			if (neigh_send(n, RTM_NEWNEIGH, NLM_F_CREATE | NLM_F_ACK, ip[i]) == 0)
				neigh_read(n, n->req_fd);
		}
	}
}

void
neigh_close(struct neigh *n)
{
	if (n->ev_fd >= 0)
		close(n->ev_fd);
	if (n->req_fd >= 0)
		close(n->req_fd);
	if (n->bell >= 0)
		close(n->bell);
	rte_ring_free(n->ask);
	n->ev_fd = n->req_fd = n->bell = -1;
	n->ask = NULL;
}
