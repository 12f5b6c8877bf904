/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * pollnet-run: a pollnet socket's options (setsockopt, getsockopt), with
 * the kernel's values, defaults and errors; SO_RCVBUF and SO_SNDBUF give
 * the socket rings of their size.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <limits.h>
#include <netinet/udp.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "preload.h"

/* ---- options ---- */

static int
int_opt(const void *v, socklen_t len, int *out)
{
	if (v == NULL || len < (socklen_t)sizeof(int))
		return -EINVAL;
	memcpy(out, v, sizeof(int));
	return 0;
}

/* An option's name, short enough for pollnetctl sockets' last_refused. */
static const char *
opt_name(int level, int name)
{
	static const struct { int level, name; const char *s; } names[] = {
#define N(l, n) { l, n, #n }
		N(SOL_SOCKET, SO_TIMESTAMP), N(SOL_SOCKET, SO_TIMESTAMPNS),
		N(SOL_SOCKET, SO_TIMESTAMPING), N(SOL_SOCKET, SO_PRIORITY),
		N(SOL_SOCKET, SO_BINDTODEVICE), N(SOL_SOCKET, SO_MARK), N(SOL_SOCKET, SO_LINGER),
		N(SOL_SOCKET, SO_KEEPALIVE), N(SOL_SOCKET, SO_RCVLOWAT), N(SOL_SOCKET, SO_SNDLOWAT),
		N(SOL_SOCKET, SO_BUSY_POLL), N(SOL_SOCKET, SO_ZEROCOPY), N(SOL_SOCKET, SO_DEBUG),
		N(SOL_SOCKET, SO_DONTROUTE), N(SOL_SOCKET, SO_OOBINLINE), N(SOL_SOCKET, SO_PASSCRED),
		N(SOL_SOCKET, SO_ATTACH_FILTER), N(SOL_SOCKET, SO_RXQ_OVFL),
		N(IPPROTO_IP, IP_TOS), N(IPPROTO_IP, IP_TTL), N(IPPROTO_IP, IP_OPTIONS),
		N(IPPROTO_IP, IP_PKTINFO), N(IPPROTO_IP, IP_RECVTOS), N(IPPROTO_IP, IP_RECVTTL),
		N(IPPROTO_IP, IP_RECVERR), N(IPPROTO_IP, IP_MTU_DISCOVER), N(IPPROTO_IP, IP_MTU),
		N(IPPROTO_IP, IP_MULTICAST_IF), N(IPPROTO_IP, IP_MULTICAST_TTL),
		N(IPPROTO_IP, IP_MULTICAST_LOOP), N(IPPROTO_IP, IP_ADD_MEMBERSHIP),
		N(IPPROTO_IP, IP_DROP_MEMBERSHIP), N(IPPROTO_IP, IP_FREEBIND),
		N(IPPROTO_IP, IP_ADD_SOURCE_MEMBERSHIP), N(IPPROTO_IP, IP_DROP_SOURCE_MEMBERSHIP),
		N(IPPROTO_IP, IP_BLOCK_SOURCE), N(IPPROTO_IP, IP_UNBLOCK_SOURCE),
		N(IPPROTO_IP, IP_MSFILTER), N(IPPROTO_IP, IP_MULTICAST_ALL),
		N(IPPROTO_IP, MCAST_JOIN_GROUP), N(IPPROTO_IP, MCAST_LEAVE_GROUP),
		N(IPPROTO_IP, MCAST_JOIN_SOURCE_GROUP), N(IPPROTO_IP, MCAST_LEAVE_SOURCE_GROUP),
		N(IPPROTO_IP, MCAST_BLOCK_SOURCE), N(IPPROTO_IP, MCAST_UNBLOCK_SOURCE),
		N(IPPROTO_IP, MCAST_MSFILTER),
		N(IPPROTO_IP, IP_TRANSPARENT), N(IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT),
		N(IPPROTO_IP, IP_RECVORIGDSTADDR), N(IPPROTO_UDP, UDP_CORK),
		N(IPPROTO_UDP, UDP_SEGMENT), N(IPPROTO_UDP, UDP_GRO),
#undef N
	};
	static __thread char buf[24];

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (names[i].level == level && names[i].name == name)
			return names[i].s;
	snprintf(buf, sizeof(buf), "sockopt %d/%d", level, name);
	return buf;
}

/* An option pollnet does not give: noted for pollnetctl sockets, and
 * ENOPROTOOPT, as the kernel answers an option it does not know. */
static int
opt_refused(struct psock *ps, int fd, int level, int name)
{
	ps_lock(ps);
	refused(ps, fd, opt_name(level, name));
	ps_unlock(ps);
	return -ENOPROTOOPT;
}

/* Ring entries for a SO_RCVBUF/SO_SNDBUF value: the kernel doubles it (for
 * its bookkeeping), and so do we, at one 2048-byte slot per entry; pollnet
 * rounds up to a power of 2 and holds it to sockets.ring_max.  pollnet's
 * default receive ring, 1024 entries (2 MiB), holds more small datagrams
 * than the kernel's default (212992) does: a slot is 2 KiB whatever the
 * datagram, while the kernel charges a small one some 1 KiB. */
static uint32_t
pow2_up(uint32_t n)
{
	uint32_t p = 1;

	while (p < n)
		p <<= 1;
	return p;
}

static uint32_t
ring_for(int bytes)
{
	uint64_t b = bytes > 0 ? (uint64_t)bytes * 2 : 0;
	uint64_t n = (b + PN_SHM_SLOT_SIZE - 1) / PN_SHM_SLOT_SIZE;

	return n < 16 ? 16 : n > PN_SHM_MAX_RING ? PN_SHM_MAX_RING : (uint32_t)n;
}

/* SO_RCVBUF/SO_SNDBUF: a new pollnet socket with rings of that size takes
 * the old one's place under the same descriptor.  Only while nothing can
 * tell: not bound, no datagram queued, one descriptor in one process, no
 * other call under way, in no epoll set.  Otherwise the rings stay as they
 * are, and getsockopt says their size (as the kernel's says what it
 * clamped a request to).  Under the socket's lock, which every use of
 * ps->s takes: no thread holds the old one when it goes. */
static void
resize(struct psock *ps, int fd)
{
	struct pollnet_socket *old = ps->s;
	int wfd = ps->wfd, tfd = ps->tfd, flags, nfd, rc;
	uint32_t rx, tx, want_rx, want_tx;
	struct timeval tmo[2];
	socklen_t tl = sizeof(tmo[0]);

	pn_int_rings(old, &rx, &tx);
	want_rx = ps->sh->rcvbuf > 0 ? ring_for(ps->sh->rcvbuf) : 0;
	want_tx = ps->sh->sndbuf > 0 ? ring_for(ps->sh->sndbuf) : 0;
	if ((want_rx == 0 || pow2_up(want_rx) == rx) && (want_tx == 0 || pow2_up(want_tx) == tx))
		return;                 /* the rings are that size already */
	/* (2: the descriptor's reference and this call's) */
	if (pollnet_local_port(old) != 0 || (pn_int_ready(old) & ~PN_READY_TX) ||
	    pn_int_tx_pending(old) || atomic_load(&ps->refs) != 2 ||
	    atomic_load(&ps->sh->shared) || ps->neps != 0) {
		DEBUG("fd %d: SO_RCVBUF/SO_SNDBUF on a socket in use: its rings stay %u/%u",
		      fd, rx, tx);
		return;
	}
	rc = ps_open(ps, want_rx, want_tx, &nfd);
	if (rc < 0) {
		DEBUG("fd %d: rings of %u/%u: pollnet said %s; they stay %u/%u", fd, want_rx,
		      want_tx, pollnet_strerror(rc), rx, tx);
		ps->s = old;
		ps->wfd = wfd;
		ps->tfd = tfd;
		return;
	}
	/* the new receive end under the program's number, with the old one's
	 * timeouts; the send end's SO_RCVTIMEO is the program's SO_SNDTIMEO */
	flags = LIBC(fcntl)(fd, F_GETFD);
	if (LIBC(getsockopt)(fd, SOL_SOCKET, SO_RCVTIMEO, &tmo[0], &tl) < 0 ||
	    LIBC(getsockopt)(fd, SOL_SOCKET, SO_SNDTIMEO, &tmo[1], &tl) < 0 ||
	    LIBC(setsockopt)(nfd, SOL_SOCKET, SO_RCVTIMEO, &tmo[0], sizeof(tmo[0])) < 0 ||
	    LIBC(setsockopt)(nfd, SOL_SOCKET, SO_SNDTIMEO, &tmo[1], sizeof(tmo[1])) < 0 ||
	    LIBC(setsockopt)(ps->tfd, SOL_SOCKET, SO_RCVTIMEO, &tmo[1], sizeof(tmo[1])) < 0 ||
	    LIBC(dup3)(nfd, fd, flags > 0 && (flags & FD_CLOEXEC) ? O_CLOEXEC : 0) < 0) {
		LIBC(close)(nfd);
		fd_private_close(ps->wfd);
		fd_private_close(ps->tfd);
		sess_lock();
		pollnet_close(ps->s);
		sess_unlock();
		ps->s = old;
		ps->wfd = wfd;
		ps->tfd = tfd;
		return;
	}
	LIBC(close)(nfd);
	/* the old socket: its receive end's last descriptor is wfd */
	fd_private_close(wfd);
	fd_private_close(tfd);
	sess_lock();
	pollnet_close(old);
	sess_unlock();
	pn_int_rings(ps->s, &rx, &tx);
	DEBUG("fd %d: rings of %u/%u entries", fd, rx, tx);
}

/* A timeout option's value: 0, or a negative errno as the kernel's. */
static int
timeout_opt(const void *v, socklen_t len)
{
	struct timeval tv;

	if (v == NULL || len < (socklen_t)sizeof(tv))
		return -EINVAL;
	memcpy(&tv, v, sizeof(tv));
	if (tv.tv_usec < 0 || tv.tv_usec >= 1000000)
		return -EDOM;
	return 0;
}

/* An IPPROTO_IP int option's value: an int, or a byte when shorter (the
 * kernel's do_ip_setsockopt); nothing is 0. */
static int
ip_int(const void *v, socklen_t len)
{
	int x = 0;

	if (v != NULL && len >= (socklen_t)sizeof(int))
		memcpy(&x, v, sizeof(int));
	else if (v != NULL && len >= 1)
		x = *(const unsigned char *)v;
	return x;
}

/* IP_MULTICAST_IF: an in_addr, a struct ip_mreq (its interface) or a
 * struct ip_mreqn (address and index), as the kernel reads them: none
 * (0.0.0.0, index 0) undoes it, and only pollnet's interface is one. */
static int
mc_if_opt(struct pshared *sh, const void *v, socklen_t len)
{
	const struct pn_shm_iface *i = iface();
	struct ip_mreqn m = { 0 };

	if (len > 0 && v == NULL)
		return -EFAULT;
	if (len >= (socklen_t)sizeof(struct ip_mreqn))
		memcpy(&m, v, sizeof(m));
	else if (len >= (socklen_t)sizeof(struct ip_mreq))
		memcpy(&m.imr_address, (const uint8_t *)v + sizeof(struct in_addr),
		       sizeof(struct in_addr));
	else if (len >= (socklen_t)sizeof(struct in_addr))
		memcpy(&m.imr_address, v, sizeof(struct in_addr));
	if (m.imr_ifindex == 0 && m.imr_address.s_addr == htonl(INADDR_ANY)) {
		sh->mc_if = 0;
		sh->mc_index = 0;
		return 0;
	}
	if (i == NULL || (m.imr_ifindex != 0 ? (unsigned)m.imr_ifindex != i->index || i->index == 0 :
			  m.imr_address.s_addr != i->addr))
		return -EADDRNOTAVAIL;
	/* kept as given: getsockopt says the address (0 when by index) */
	sh->mc_if = m.imr_address.s_addr;
	sh->mc_index = m.imr_ifindex;
	return 0;
}

/* A membership's interface, as the kernel's ip_mc_find_dev finds it: by
 * index, by address, or (neither) the route to the group: pollnet's
 * interface, or none (ENODEV). */
static int
mc_iface_ok(const struct ip_mreqn *m)
{
	const struct pn_shm_iface *i = iface();

	if (i == NULL)
		return -ENODEV;
	if (m->imr_ifindex != 0)
		return (unsigned)m->imr_ifindex == i->index && i->index != 0 ? 0 : -ENODEV;
	if (m->imr_address.s_addr != htonl(INADDR_ANY))
		return m->imr_address.s_addr == i->addr ? 0 : -ENODEV;
	return i->gateway != 0 ? 0 : -ENODEV;   /* (a route to a group: the default) */
}

/* IP_ADD_MEMBERSHIP and its kin, as do_ip_setsockopt reads them. */
static int
mc_member_opt(struct psock *ps, int name, const void *v, socklen_t len)
{
	struct ip_mreqn m = { 0 };
	struct ip_mreq_source ms;
	int op, rc;

	switch (name) {
	case IP_ADD_MEMBERSHIP:
	case IP_DROP_MEMBERSHIP:
		if (len < (socklen_t)sizeof(struct ip_mreq))
			return -EINVAL;
		memcpy(&m, v, len >= (socklen_t)sizeof(m) ? sizeof(m) : sizeof(struct ip_mreq));
		if (!GROUP(m.imr_multiaddr.s_addr))
			return -EINVAL;
		rc = mc_iface_ok(&m);
		if (rc < 0)
			return rc;
		return pn_int_mc(ps->s, &ps->sh->mc, name == IP_ADD_MEMBERSHIP ? PN_MC_JOIN :
				 PN_MC_LEAVE, m.imr_multiaddr.s_addr, 0);
	default:
		if (len != (socklen_t)sizeof(ms))
			return -EINVAL;
		memcpy(&ms, v, sizeof(ms));
		if (!GROUP(ms.imr_multiaddr.s_addr))
			return -EINVAL;
		m.imr_address = ms.imr_interface;
		rc = mc_iface_ok(&m);
		if (rc < 0)
			return rc;
		op = name == IP_ADD_SOURCE_MEMBERSHIP ? PN_MC_JOIN_SOURCE :
		     name == IP_DROP_SOURCE_MEMBERSHIP ? PN_MC_LEAVE_SOURCE :
		     name == IP_BLOCK_SOURCE ? PN_MC_BLOCK : PN_MC_UNBLOCK;
		return pn_int_mc(ps->s, &ps->sh->mc, op, ms.imr_multiaddr.s_addr,
				 ms.imr_sourceaddr.s_addr);
	}
}

/* The IPPROTO_IP options pollnet keeps (under the socket's lock). */
static int
ip_setsockopt(struct psock *ps, int name, const void *v, socklen_t len)
{
	struct pshared *sh = ps->sh;
	int x = ip_int(v, len);
	uint8_t bit;

	if (len > 0 && v == NULL)
		return -EFAULT;
	switch (name) {
	case IP_TOS:
		sh->tos = (uint8_t)x;
		return 0;
	case IP_TTL:
		if (x == -1)
			x = 0;                  /* back to the default */
		else if (x < 1 || x > 255)
			return -EINVAL;
		sh->ttl = (uint8_t)x;
		return 0;
	case IP_MTU_DISCOVER:
		if (x < IP_PMTUDISC_DONT || x > IP_PMTUDISC_OMIT)
			return -EINVAL;
		sh->pmtudisc = (uint8_t)x;
		return 0;
	case IP_PKTINFO:
	case IP_RECVTOS:
	case IP_RECVTTL:
		bit = name == IP_PKTINFO ? CM_PKTINFO : name == IP_RECVTOS ? CM_TOS : CM_TTL;
		sh->cmsgs = (uint8_t)(x ? sh->cmsgs | bit : sh->cmsgs & ~bit);
		return 0;
	case IP_MULTICAST_TTL:
		if (x == -1)
			x = 1;
		else if (x < 0 || x > 255)
			return -EINVAL;
		sh->mc_ttl = (uint8_t)(x + 1);
		return 0;
	case IP_MULTICAST_LOOP:
		sh->mc_noloop = x == 0;
		return 0;
	case IP_MULTICAST_IF:
		return mc_if_opt(sh, v, len);
	case IP_RECVERR:
		sh->recverr = x != 0;
		pn_int_set_recverr(ps->s, x != 0);
		if (x == 0) {           /* (the kernel purges the queue) */
			sh->errq_seq = pn_int_errors_posted(ps->s);
			sh->nlocal = 0;
		}
		return 0;
	case IP_MULTICAST_ALL:
		if (x != 0 && x != 1)
			return -EINVAL;
		sh->mc.all_off = x == 0;
		return 0;
	case IP_ADD_MEMBERSHIP:
	case IP_DROP_MEMBERSHIP:
	case IP_ADD_SOURCE_MEMBERSHIP:
	case IP_DROP_SOURCE_MEMBERSHIP:
	case IP_BLOCK_SOURCE:
	case IP_UNBLOCK_SOURCE:
		return mc_member_opt(ps, name, v, len);
	}
	return 1;
}

/* The SOL_SOCKET options pollnet keeps: int-valued ones need a whole int
 * (the kernel's sk_setsockopt). */
static int
so_setsockopt(struct psock *ps, int name, const void *v, socklen_t len)
{
	struct pshared *sh = ps->sh;
	struct linger l;
	char dev[sizeof(sh->device)] = "";
	int x = 0;

	if (name == SO_BINDTODEVICE) {
		const struct pn_shm_iface *i = iface();

		if (len > 0 && v == NULL)
			return -EFAULT;
		if (len >= (socklen_t)sizeof(dev))
			len = sizeof(dev) - 1;  /* as the kernel: a name is at most 15 */
		if (len > 0)
			memcpy(dev, v, (size_t)len);
		dev[len] = '\0';
		/* "" unbinds; pollnet's interface is the only one it has */
		if (dev[0] != '\0' && (i == NULL || strcmp(dev, i->name) != 0))
			return -ENODEV;
		memcpy(sh->device, dev, sizeof(dev));
		return 0;
	}
	if (name == SO_LINGER) {
		if (v == NULL || len < (socklen_t)sizeof(l))
			return v == NULL ? -EFAULT : -EINVAL;
		memcpy(&l, v, sizeof(l));
		sh->linger_on = l.l_onoff != 0;
		sh->linger_s = l.l_linger;
		return 0;
	}
	if (name != SO_PRIORITY && name != SO_KEEPALIVE && name != SO_RCVLOWAT &&
	    name != SO_TIMESTAMP && name != SO_TIMESTAMPNS)
		return 1;
	if (int_opt(v, len, &x) < 0)
		return -EINVAL;
	switch (name) {
	case SO_PRIORITY:
		/* 0 to 6 for anyone, the rest with CAP_NET_ADMIN */
		if ((x < 0 || x > 6) && geteuid() != 0)
			return -EPERM;
		sh->priority = x;
		break;
	case SO_KEEPALIVE:              /* nothing to keep alive on UDP */
		sh->keepalive = x != 0;
		break;
	case SO_RCVLOWAT:
		/* kept and shown; a UDP receive takes a whole datagram */
		sh->rcvlowat = x < 0 ? INT_MAX : x == 0 ? 1 : x;
		break;
	default:                        /* SO_TIMESTAMP, SO_TIMESTAMPNS */
		if (x)
			sh->cmsgs = (uint8_t)((sh->cmsgs | CM_STAMP | CM_STAMPNS) &
					      ~(name == SO_TIMESTAMP ? CM_STAMPNS : 0));
		else
			sh->cmsgs &= (uint8_t)~(CM_STAMP | CM_STAMPNS);
		break;
	}
	return 0;
}

static int
ps_setsockopt(struct psock *ps, int fd, int level, int name, const void *v, socklen_t len)
{
	int x, rc;

	if (level == SOL_SOCKET) {
		switch (name) {
		case SO_RCVTIMEO:
			/* our copy of the receive end waits: the kernel times
			 * it out */
			return LIBC(setsockopt)(fd, level, name, v, len) < 0 ? -errno : 0;
		case SO_SNDTIMEO:
			/* the program reads it back from its descriptor; a
			 * blocked send waits on the send end, whose receive
			 * timeout it becomes */
			rc = timeout_opt(v, len);
			if (rc == 0 && (LIBC(setsockopt)(fd, level, name, v, len) < 0 ||
					LIBC(setsockopt)(ps->tfd, SOL_SOCKET, SO_RCVTIMEO, v,
							 len) < 0))
				rc = -errno;
			return rc;
		case SO_REUSEADDR:
		case SO_REUSEPORT:              /* at bind: the port may be shared
		                                 * with connected sockets that asked
		                                 * the same; a second bound socket
		                                 * still gets EADDRINUSE */
		case SO_BROADCAST:
		case SO_RCVBUF:
		case SO_SNDBUF:
		case SO_RCVBUFFORCE:
		case SO_SNDBUFFORCE:
			rc = int_opt(v, len, &x);
			if (rc < 0)
				return rc;
			ps_lock(ps);
			if (name == SO_REUSEADDR)
				ps->sh->reuseaddr = x != 0;
			else if (name == SO_REUSEPORT)
				ps->sh->reuseport = x != 0;
			else if (name == SO_BROADCAST)
				ps->sh->broadcast = x != 0;
			else if (name == SO_RCVBUF || name == SO_RCVBUFFORCE)
				ps->sh->rcvbuf = x;
			else
				ps->sh->sndbuf = x;
			if (name != SO_REUSEADDR && name != SO_REUSEPORT && name != SO_BROADCAST)
				resize(ps, fd);
			ps_unlock(ps);
			return 0;
		}
	}
	if (level == SOL_SOCKET || level == IPPROTO_IP) {
		ps_lock(ps);
		rc = level == SOL_SOCKET ? so_setsockopt(ps, name, v, len) :
		     ip_setsockopt(ps, name, v, len);
		ps_unlock(ps);
		if (rc <= 0)
			return rc;
	}
	return opt_refused(ps, fd, level, name);
}

EXPORT int
setsockopt(int fd, int level, int name, const void *v, socklen_t len)
{
	struct psock *ps = ps_get(fd);
	int rc;

	if (ps == NULL)
		return LIBC(setsockopt)(fd, level, name, v, len);
	rc = ps_setsockopt(ps, fd, level, name, v, len);
	ps_put(ps);
	return rc < 0 ? fail(-rc) : 0;
}

/* An option's value into the caller's buffer, as the kernel's: SOL_SOCKET
 * copies what fits; IPPROTO_IP gives a byte to a buffer shorter than an
 * int when the value fits one. */
static int
put_opt(int level, void *v, socklen_t *len, const void *val, socklen_t n)
{
	int x;

	if (v == NULL || len == NULL)
		return fail(EFAULT);
	if ((int)*len < 0)
		return fail(EINVAL);
	if (level == IPPROTO_IP && n == (socklen_t)sizeof(int) && *len < n && *len > 0) {
		memcpy(&x, val, sizeof(x));
		if (x >= 0 && x <= 255) {
			*(unsigned char *)v = (unsigned char)x;
			*len = 1;
			return 0;
		}
	}
	if (*len > n)
		*len = n;
	memcpy(v, val, *len);
	return 0;
}

/* An option's value into val (at most 16 bytes): its length, 0 for one the
 * kernel keeps, or a negative errno. */
static int
ps_getsockopt(struct psock *ps, int fd, int level, int name, void *val)
{
	struct pshared *sh = ps->sh;
	struct sockaddr_in peer;
	uint32_t rx, tx;
	int x = 0, rc = (int)sizeof(int), bytes = 0;     /* bytes: val holds them, not x */

	ps_lock(ps);
	if (level == SOL_SOCKET) {
		switch (name) {
		case SO_RCVTIMEO:
		case SO_SNDTIMEO:
			rc = 0;
			break;
		case SO_TYPE:
			x = SOCK_DGRAM;
			break;
		case SO_DOMAIN:
			x = AF_INET;
			break;
		case SO_PROTOCOL:
			x = IPPROTO_UDP;
			break;
		case SO_ACCEPTCONN:
			x = 0;
			break;
		case SO_REUSEADDR:
			x = sh->reuseaddr;
			break;
		case SO_REUSEPORT:
			x = sh->reuseport;
			break;
		case SO_BROADCAST:
			x = sh->broadcast;
			break;
		case SO_RCVBUF:
		case SO_SNDBUF:
			pn_int_rings(ps->s, &rx, &tx);
			x = (int)((name == SO_RCVBUF ? rx : tx) * PN_SHM_SLOT_SIZE);
			break;
		case SO_ERROR:
			x = -pn_int_take_error(ps->s);
			break;
		case SO_PRIORITY:
			x = sh->priority;
			break;
		case SO_KEEPALIVE:
			x = sh->keepalive;
			break;
		case SO_RCVLOWAT:
			x = sh->rcvlowat != 0 ? sh->rcvlowat : 1;
			break;
		case SO_SNDLOWAT:
			x = 1;
			break;
		case SO_TIMESTAMP:
			x = (sh->cmsgs & (CM_STAMP | CM_STAMPNS)) == CM_STAMP;
			break;
		case SO_TIMESTAMPNS:
			x = (sh->cmsgs & CM_STAMPNS) != 0;
			break;
		case SO_LINGER:
			memcpy(val, &(struct linger){ sh->linger_on, sh->linger_s },
			       sizeof(struct linger));
			rc = (int)sizeof(struct linger);
			bytes = 1;
			break;
		case SO_BINDTODEVICE:
			/* the name and its NUL (nothing bound: empty); a name of
			 * three letters is as long as an int */
			rc = (int)strlen(sh->device);
			memcpy(val, sh->device, (size_t)rc + 1);
			rc = rc > 0 ? rc + 1 : -ENODATA;
			bytes = 1;
			break;
		default:
			rc = -ENOPROTOOPT;
		}
	} else if (level == IPPROTO_IP) {
		switch (name) {
		case IP_TOS:
			x = sh->tos;
			break;
		case IP_TTL:
			x = sh->ttl != 0 ? sh->ttl : 64;
			break;
		case IP_MTU_DISCOVER:
			x = sh->pmtudisc;
			break;
		case IP_PKTINFO:
			x = (sh->cmsgs & CM_PKTINFO) != 0;
			break;
		case IP_RECVTOS:
			x = (sh->cmsgs & CM_TOS) != 0;
			break;
		case IP_RECVTTL:
			x = (sh->cmsgs & CM_TTL) != 0;
			break;
		case IP_MULTICAST_TTL:
			x = sh->mc_ttl != 0 ? sh->mc_ttl - 1 : 1;
			break;
		case IP_MULTICAST_LOOP:
			x = !sh->mc_noloop;
			break;
		case IP_MULTICAST_ALL:
			x = !sh->mc.all_off;
			break;
		case IP_RECVERR:
			x = sh->recverr;
			break;
		case IP_MULTICAST_IF:           /* an in_addr */
			memcpy(&x, &sh->mc_if, sizeof(x));
			break;
		case IP_MTU:
			if (pn_int_peer(ps->s, &peer) < 0) {
				rc = -ENOTCONN;
				break;
			}
			/* to a local address, the loopback's */
			x = LOOPBACK(peer.sin_addr.s_addr) || peer.sin_addr.s_addr == g_addr ?
			    65535 : iface() != NULL ? iface()->mtu : 1500;
			break;
		default:
			rc = -ENOPROTOOPT;
		}
	} else {
		rc = -ENOPROTOOPT;
	}
	ps_unlock(ps);
	if (rc == (int)sizeof(int) && !bytes)
		memcpy(val, &x, sizeof(x));
	return rc == -ENOPROTOOPT ? opt_refused(ps, fd, level, name) : rc;
}

EXPORT int
getsockopt(int fd, int level, int name, void *v, socklen_t *len)
{
	struct psock *ps = ps_get(fd);
	char val[16];
	int rc;

	if (ps == NULL)
		return LIBC(getsockopt)(fd, level, name, v, len);
	rc = ps_getsockopt(ps, fd, level, name, val);
	ps_put(ps);
	if (rc == 0)
		return LIBC(getsockopt)(fd, level, name, v, len);
	if (rc == -ENODATA) {           /* an empty value */
		if (len == NULL)
			return fail(EFAULT);
		*len = 0;
		return 0;
	}
	if (rc > 0 && level == SOL_SOCKET && name == SO_BINDTODEVICE && len != NULL &&
	    *len < (socklen_t)rc)
		return fail(EINVAL);    /* the kernel's: no part of a name */
	return rc < 0 ? fail(-rc) : put_opt(level, v, len, val, (socklen_t)rc);
}

