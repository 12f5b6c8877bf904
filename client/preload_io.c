/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * pollnet-run: waiting, receiving and sending on a pollnet socket, with a
 * kernel socket's semantics (blocking or not, MSG_* flags, timeouts,
 * signals; preload.h says how the kernel does the waiting).
 */
#define _GNU_SOURCE
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "preload.h"

/* glibc's _FORTIFY_SOURCE entry points (no header declares them) */
ssize_t __recv_chk(int, void *, size_t, size_t, int);
ssize_t __recvfrom_chk(int, void *, size_t, size_t, int, struct sockaddr *, socklen_t *);
ssize_t __read_chk(int, void *, size_t, size_t);

/* ---- waiting ---- */

/* shutdown()'s part of the readiness. */
static unsigned
shut_ready(struct psock *ps)
{
	int sh = atomic_load(&ps->sh->shut);

	return (sh & SH_RD ? PN_READY_RX | READY_RDHUP : 0) | (sh & SH_WR ? PN_READY_TX : 0) |
	       (sh == (SH_RD | SH_WR) ? READY_HUP : 0);
}

unsigned
ps_ready_locked(struct psock *ps)
{
	return pn_int_ready(ps->s) | shut_ready(ps);
}

unsigned
ps_ready(struct psock *ps)
{
	unsigned r;

	ps_lock(ps);
	r = ps_ready_locked(ps);
	ps_unlock(ps);
	return r;
}

void
drain(int fd)
{
	char b[64];

	while (LIBC(recv)(fd, b, sizeof(b), MSG_DONTWAIT) > 0)
		;
}

unsigned
ps_arm(struct psock *ps, unsigned bits)
{
	unsigned r;

	ps_lock(ps);
	r = pn_int_ready(ps->s);
	/* a direction's wake-ups are consumed only by one who found it not
	 * ready (a waiter that slept through one finds it still queued),
	 * and only its own: a sender never takes a receiver's */
	if ((bits & PN_WAKE_RX) && !(r & (PN_READY_RX | PN_READY_ERR)))
		drain(ps->wfd);
	if ((bits & PN_WAKE_TX) && !(r & PN_READY_TX))
		drain(ps->tfd);
	r = pn_int_arm(ps->s, bits) | shut_ready(ps);
	ps_unlock(ps);
	return r;
}

/* After a call that found `ready` (PN_READY_RX or _TX) so (under the lock):
 * if it still is and other threads sleep waiting for it, one more wake-up
 * (the kernel wakes one blocked receiver per message). */
static void
pass_on(struct psock *ps, unsigned ready)
{
	_Atomic int *sleepers = ready == PN_READY_RX ? &ps->sh->sleep_rx : &ps->sh->sleep_tx;

	if (atomic_load_explicit(sleepers, memory_order_relaxed) > 0 &&
	    (pn_int_ready(ps->s) & ready))
		pn_int_poke(ps->s, ready);
}

struct want {
	struct psock *ps;
	unsigned bits;
};

static int
ps_can(void *arg)
{
	const struct want *w = arg;

	return (ps_ready(w->ps) & w->bits) != 0;
}

/*
 * Block until ps can do `want` (PN_READY_RX or PN_READY_TX) or has an
 * error: 0; -EINTR (a signal, as the kernel decides), -EAGAIN (the
 * socket's timeout), -ENETDOWN (pollnet went away).  The kernel does the
 * sleeping, on the direction's wake end: the receive end's timeout is the
 * program's SO_RCVTIMEO, the send end's its SO_SNDTIMEO.
 */
static int
ps_wait(struct psock *ps, unsigned want)
{
	const unsigned bit = want == PN_READY_RX ? PN_WAKE_RX : PN_WAKE_TX;
	_Atomic int *sleepers = want == PN_READY_RX ? &ps->sh->sleep_rx : &ps->sh->sleep_tx;
	struct want w = { ps, want | PN_READY_ERR };
	const int here = pn_int_waits_here(ps->s);      /* its lcore runs here too */
	uint64_t t0 = 0;
	char b;

	if (!here && pn_wait_spin(&ps->spin, g_spin_most, ps_can, &w, &t0))
		return 0;               /* (no spin with the lcore here: it would keep it out) */
	for (;;) {
		ssize_t n;

		if (ps_arm(ps, bit) & (want | PN_READY_ERR)) {
			if (!here)
				pn_wait_slept(&ps->spin, g_spin_most, t0);
			return 0;
		}
		atomic_fetch_add(sleepers, 1);
		n = LIBC(recv)(want == PN_READY_RX ? ps->wfd : ps->tfd, &b, 1, MSG_PEEK);
		atomic_fetch_sub(sleepers, 1);
		if (n == 0)
			return -ENETDOWN;
		if (n < 0)
			return errno == EWOULDBLOCK ? -EAGAIN : -errno;
	}
}

/* ---- receiving ---- */

/* One datagram: bytes copied, or a negative errno.  *full: its length;
 * ip (may be NULL): what its IP header said. */
static ssize_t
ps_recv(struct psock *ps, int fd, const struct iovec *iov, int iovcnt, int flags,
	struct sockaddr_in *from, size_t *full, struct pn_ip *ip)
{
	int nonblock = (flags & MSG_DONTWAIT) || atomic_load(&ps->sh->nonblock);
	ssize_t r;

	if (flags & MSG_OOB) {
		ps_lock(ps);
		refused(ps, fd, "recv(MSG_OOB)");
		ps_unlock(ps);
		return -EOPNOTSUPP;
	}
	if (flags & MSG_ERRQUEUE)
		return errq_recv(ps, iov, iovcnt, from, full, NULL);
	for (;;) {
		unsigned skipped = 0;

		/* bound to an address: what was sent to another is not for
		 * it (pollnet delivers by port: a broadcast, or from the wire
		 * to a socket bound to a loopback address), dropped and
		 * counted in the same hold of the lock as the look at the next
		 * datagram */
		ps_lock(ps);
		r = pn_int_recv(ps->s, iov, iovcnt, from, (flags & MSG_PEEK) != 0, full,
				ps->sh->bind_addr, &skipped, ip);
		if (r >= 0 && !(flags & MSG_PEEK))
			pass_on(ps, PN_READY_RX);
		ps_unlock(ps);
		if (skipped != 0)
			atomic_fetch_add(&ps->sh->dropped_not_bound, skipped);
		if (r != -EAGAIN)
			return r;
		atomic_fetch_add(&ps->eagain, 1);
		if (nonblock)
			return -EAGAIN;
		if (atomic_load(&ps->sh->shut) & SH_RD) {
			/* as the kernel's: end of file, and the next sleeper
			 * wakes to it too */
			*full = 0;
			from->sin_family = AF_UNSPEC;   /* no sender */
			if (atomic_load(&ps->sh->sleep_rx) > 0)
				pn_int_poke(ps->s, PN_READY_RX);
			return 0;
		}
		r = ps_wait(ps, PN_READY_RX);
		if (r < 0)
			return r;
	}
}

/* recv, recvfrom, read and their _chk: the call's reference is let go. */
static ssize_t
recv_common(struct psock *ps, int fd, void *buf, size_t len, int flags,
	    struct sockaddr *sa, socklen_t *salen)
{
	struct iovec iov = { .iov_base = buf, .iov_len = len };
	struct sockaddr_in from;
	size_t full;
	ssize_t r = ps_recv(ps, fd, &iov, 1, flags, &from, &full, NULL);

	ps_put(ps);
	if (r < 0)
		return fail((int)-r);
	if (sa != NULL && salen != NULL && from.sin_family == AF_UNSPEC)
		*salen = 0;             /* end of file (shutdown): no sender */
	else if (sa != NULL && salen != NULL)
		sin_to(&from, sa, salen);
	return (flags & MSG_TRUNC) ? (ssize_t)full : r;
}

EXPORT ssize_t
recv(int fd, void *buf, size_t len, int flags)
{
	struct psock *ps = ps_get(fd);

	if (ps == NULL)
		return LIBC(recv)(fd, buf, len, flags);
	return recv_common(ps, fd, buf, len, flags, NULL, NULL);
}

EXPORT ssize_t
recvfrom(int fd, void *buf, size_t len, int flags, struct sockaddr *sa, socklen_t *salen)
{
	struct psock *ps = ps_get(fd);

	if (ps == NULL)
		return LIBC(recvfrom)(fd, buf, len, flags, sa, salen);
	return recv_common(ps, fd, buf, len, flags, sa, salen);
}

EXPORT ssize_t
read(int fd, void *buf, size_t len)
{
	struct psock *ps = ps_get(fd);

	if (ps == NULL)
		return LIBC(read)(fd, buf, len);
	return recv_common(ps, fd, buf, len, 0, NULL, NULL);
}

EXPORT ssize_t
__recv_chk(int fd, void *buf, size_t len, size_t buflen, int flags)
{
	struct psock *ps;

	if (len > buflen)
		abort();                /* what glibc's __chk_fail does, less the message */
	ps = ps_get(fd);
	if (ps == NULL)
		return LIBC(__recv_chk)(fd, buf, len, buflen, flags);
	return recv_common(ps, fd, buf, len, flags, NULL, NULL);
}

EXPORT ssize_t
__recvfrom_chk(int fd, void *buf, size_t len, size_t buflen, int flags,
	       struct sockaddr *sa, socklen_t *salen)
{
	struct psock *ps;

	if (len > buflen)
		abort();
	ps = ps_get(fd);
	if (ps == NULL)
		return LIBC(__recvfrom_chk)(fd, buf, len, buflen, flags, sa, salen);
	return recv_common(ps, fd, buf, len, flags, sa, salen);
}

EXPORT ssize_t
__read_chk(int fd, void *buf, size_t len, size_t buflen)
{
	struct psock *ps;

	if (len > buflen)
		abort();
	ps = ps_get(fd);
	if (ps == NULL)
		return LIBC(__read_chk)(fd, buf, len, buflen);
	return recv_common(ps, fd, buf, len, 0, NULL, NULL);
}

/* One control message into m's buffer at *used, as the kernel's put_cmsg:
 * what does not fit is cut (MSG_CTRUNC), a header that does not fit is
 * left out. */
void
put_cmsg(struct msghdr *m, size_t *used, int level, int type, const void *data, size_t n)
{
	size_t room = m->msg_controllen > *used ? m->msg_controllen - *used : 0;
	struct cmsghdr h = { .cmsg_len = CMSG_LEN(n), .cmsg_level = level, .cmsg_type = type };
	uint8_t *at;

	if (m->msg_control == NULL || room < sizeof(h)) {
		m->msg_flags |= MSG_CTRUNC;
		return;
	}
	at = (uint8_t *)m->msg_control + *used;
	if (room < CMSG_LEN(n)) {
		m->msg_flags |= MSG_CTRUNC;
		n = room - CMSG_LEN(0);
		h.cmsg_len = CMSG_LEN(n);
	}
	memcpy(at, &h, sizeof(h));
	memcpy(CMSG_DATA((struct cmsghdr *)at), data, n);
	*used += CMSG_SPACE(n) < room ? CMSG_SPACE(n) : room;
}

/* The control messages the socket asked for, in the kernel's order:
 * the timestamp, then IP_PKTINFO, IP_TTL, IP_TOS. */
static void
put_cmsgs(struct psock *ps, struct msghdr *m, const struct pn_ip *ip)
{
	const unsigned want = ps->sh->cmsgs;
	const struct pn_shm_iface *i = iface();
	size_t used = 0;

	if (want & CM_STAMP) {
		struct timespec ts;

		pn_int_stamp(g_pn, ip->stamp, &ts);
		if (want & CM_STAMPNS) {
			put_cmsg(m, &used, SOL_SOCKET, SCM_TIMESTAMPNS, &ts, sizeof(ts));
		} else {
			struct timeval tv = { ts.tv_sec, ts.tv_nsec / 1000 };

			put_cmsg(m, &used, SOL_SOCKET, SCM_TIMESTAMP, &tv, sizeof(tv));
		}
	}
	if (want & CM_PKTINFO) {
		/* to a loopback address, the loopback's (index 1), else our
		 * interface's (to our address from a local socket too, as the
		 * kernel says); to a broadcast, the answer goes from our
		 * address */
		struct in_pktinfo pi = {
			.ipi_ifindex = LOOPBACK(ip->local) ? 1 : i != NULL ? (int)i->index : 0,
			.ipi_spec_dst.s_addr = ip->local == g_addr || LOOPBACK(ip->local) ?
					       ip->local : g_addr,
			.ipi_addr.s_addr = ip->local,
		};

		put_cmsg(m, &used, IPPROTO_IP, IP_PKTINFO, &pi, sizeof(pi));
	}
	if (want & CM_TTL) {
		int ttl = ip->ttl;

		put_cmsg(m, &used, IPPROTO_IP, IP_TTL, &ttl, sizeof(ttl));
	}
	if (want & CM_TOS)
		put_cmsg(m, &used, IPPROTO_IP, IP_TOS, &ip->tos, 1);
	m->msg_controllen = used;
}

static ssize_t
recvmsg_one(struct psock *ps, int fd, struct msghdr *m, int flags)
{
	struct sockaddr_in from;
	size_t full, room = 0;
	struct pn_ip ip;
	ssize_t r;

	if (m->msg_iovlen > IOV_MAX)
		return -EMSGSIZE;
	if (flags & MSG_ERRQUEUE)
		return errq_recvmsg(ps, m);
	r = ps_recv(ps, fd, m->msg_iov, (int)m->msg_iovlen, flags, &from, &full, &ip);
	if (r < 0)
		return r;
	for (size_t i = 0; i < m->msg_iovlen; i++)
		room += m->msg_iov[i].iov_len;
	m->msg_flags = full > room ? MSG_TRUNC : 0;
	if (m->msg_name != NULL && from.sin_family != AF_UNSPEC)
		sin_to(&from, m->msg_name, &m->msg_namelen);
	else
		m->msg_namelen = 0;
	if (from.sin_family == AF_UNSPEC) {     /* end of file: no datagram */
		m->msg_namelen = 0;
		m->msg_controllen = 0;
		return 0;
	}
	if (ps->sh->cmsgs != 0)
		put_cmsgs(ps, m, &ip);
	else
		m->msg_controllen = 0;
	return (flags & MSG_TRUNC) ? (ssize_t)full : r;
}

/* A result of ours, after the call's reference is let go. */
static ssize_t
done(struct psock *ps, ssize_t r)
{
	ps_put(ps);
	return r < 0 ? fail((int)-r) : r;
}

EXPORT ssize_t
recvmsg(int fd, struct msghdr *m, int flags)
{
	struct psock *ps = ps_get(fd);

	if (ps == NULL)
		return LIBC(recvmsg)(fd, m, flags);
	return done(ps, recvmsg_one(ps, fd, m, flags));
}

EXPORT ssize_t
readv(int fd, const struct iovec *iov, int iovcnt)
{
	struct psock *ps = ps_get(fd);
	struct msghdr m = { .msg_iov = (struct iovec *)iov, .msg_iovlen = (size_t)iovcnt };

	if (ps == NULL)
		return LIBC(readv)(fd, iov, iovcnt);
	return done(ps, iovcnt < 0 ? -EINVAL : recvmsg_one(ps, fd, &m, 0));
}

/* recvmmsg and sendmmsg: one message after another (one(): a datagram, or a
 * negative errno), until n, an error (after the first, it waits for the
 * next call) or the deadline (0: none).  The call's reference is let go. */
static int
mmsg(struct psock *ps, int fd, struct mmsghdr *v, unsigned int n, int flags,
     ssize_t (*one)(struct psock *, int, struct msghdr *, int), uint64_t deadline)
{
	unsigned int done_n = 0;
	ssize_t r = 0;

	while (done_n < n) {
		int f = flags & ~MSG_WAITFORONE;

		if (done_n > 0 && (flags & MSG_WAITFORONE))
			f |= MSG_DONTWAIT;
		r = one(ps, fd, &v[done_n].msg_hdr, f);
		if (r < 0)
			break;
		v[done_n++].msg_len = (unsigned int)r;
		if (deadline != 0 && pn_now_ns() >= deadline)
			break;
	}
	return (int)done(ps, done_n > 0 ? (ssize_t)done_n : r);
}

EXPORT int
recvmmsg(int fd, struct mmsghdr *v, unsigned int n, int flags, struct timespec *tmo)
{
	struct psock *ps = ps_get(fd);

	if (ps == NULL)
		return LIBC(recvmmsg)(fd, v, n, flags, tmo);
	return mmsg(ps, fd, v, n, flags, recvmsg_one, tmo == NULL ? 0 :
		    pn_now_ns() + (uint64_t)tmo->tv_sec * 1000000000u + (uint64_t)tmo->tv_nsec);
}

/* ---- sending ---- */

/* ip: the datagram's source (0: ours), TOS and TTL; NULL: the socket's. */
static ssize_t
ps_send(struct psock *ps, int fd, const struct iovec *iov, int iovcnt, int flags,
	const struct sockaddr *sa, socklen_t salen, const struct pn_ip *ip)
{
	int nonblock = (flags & MSG_DONTWAIT) || atomic_load(&ps->sh->nonblock);
	struct sockaddr_in to, *top = NULL, peer = { 0 };
	struct pn_ip sock_ip;
	uint32_t dst;
	ssize_t r;

	if (flags & (MSG_OOB | MSG_MORE)) {
		ps_lock(ps);
		refused(ps, fd, flags & MSG_OOB ? "send(MSG_OOB)" : "send(MSG_MORE)");
		ps_unlock(ps);
		return -EOPNOTSUPP;
	}
	if (sa != NULL) {
		r = sin_from(sa, salen, &to);
		if (r == 0)
			r = dest_ok(ps, &to);
		if (r < 0)
			return r;
		top = &to;
	}
	/* where it goes: the address given, or the peer (0: none yet) */
	dst = top != NULL ? top->sin_addr.s_addr : 0;
	if (top == NULL) {
		ps_lock(ps);
		if (pn_int_peer(ps->s, &peer) == 0)
			dst = peer.sin_addr.s_addr;
		ps_unlock(ps);
	}
	if (ip == NULL) {
		sock_ip = (struct pn_ip){ .tos = ps->sh->tos, .ttl = send_ttl(ps, dst),
					  .pmtudisc = ps->sh->pmtudisc,
					  .noloop = ps->sh->mc_noloop };
		ip = &sock_ip;
	} else if (ip->local != 0 && ip->local != g_addr) {
		/* as the kernel's route lookup answers a source: not one of
		 * ours, ENETUNREACH; a loopback one, only to a local address,
		 * else EINVAL */
		if (!LOOPBACK(ip->local))
			return -ENETUNREACH;
		if (dst != 0 && !LOOPBACK(dst) && dst != g_addr)
			return -EINVAL;
	}
	ps_lock(ps);
	if (atomic_load(&ps->sh->shut) & SH_WR) {
		if (atomic_load(&ps->sh->sleep_tx) > 0)
			pn_int_poke(ps->s, PN_READY_TX);
		ps_unlock(ps);
		return -EPIPE;
	}
	if (pollnet_local_port(ps->s) == 0) {   /* bind on first send, as UDP does */
		sess_lock();
		r = pollnet_bind(ps->s, 0);
		sess_unlock();
		if (r < 0) {
			ps_unlock(ps);
			return r;
		}
	}
	ps_unlock(ps);
	for (;;) {
		ps_lock(ps);
		r = pn_int_send(ps->s, iov, iovcnt, top, ip);
		if (r >= 0)
			pass_on(ps, PN_READY_TX);
		else if (r == -EMSGSIZE && ps->sh->recverr)
			local_error(ps, dst, top != NULL ? 0 : peer.sin_port);
		ps_unlock(ps);
		if (r != -EAGAIN)
			return r;
		atomic_fetch_add(&ps->eagain, 1);
		if (nonblock)
			return -EAGAIN;
		r = ps_wait(ps, PN_READY_TX);
		if (r < 0)
			return r;
		if (atomic_load(&ps->sh->shut) & SH_WR) {
			if (atomic_load(&ps->sh->sleep_tx) > 0)
				pn_int_poke(ps->s, PN_READY_TX);
			return -EPIPE;
		}
	}
}

static ssize_t
send_common(struct psock *ps, int fd, const void *buf, size_t len, int flags,
	    const struct sockaddr *sa, socklen_t salen)
{
	struct iovec iov = { .iov_base = (void *)buf, .iov_len = len };

	return done(ps, ps_send(ps, fd, &iov, 1, flags, sa, salen, NULL));
}

EXPORT ssize_t
send(int fd, const void *buf, size_t len, int flags)
{
	struct psock *ps = ps_get(fd);

	if (ps == NULL)
		return LIBC(send)(fd, buf, len, flags);
	return send_common(ps, fd, buf, len, flags, NULL, 0);
}

EXPORT ssize_t
sendto(int fd, const void *buf, size_t len, int flags, const struct sockaddr *sa, socklen_t salen)
{
	struct psock *ps = ps_get(fd);

	if (ps == NULL)
		return LIBC(sendto)(fd, buf, len, flags, sa, salen);
	return send_common(ps, fd, buf, len, flags, sa, salen);
}

EXPORT ssize_t
write(int fd, const void *buf, size_t len)
{
	struct psock *ps = ps_get(fd);

	if (ps == NULL)
		return LIBC(write)(fd, buf, len);
	return send_common(ps, fd, buf, len, 0, NULL, 0);
}

/*
 * sendmsg's control messages, as the kernel's ip_cmsg_send reads them:
 * IP_PKTINFO (the source address; an interface, ours or the loopback),
 * IP_TOS (an int or a byte) and IP_TTL for this datagram; SCM_RIGHTS and
 * SCM_CREDENTIALS mean nothing to UDP; other levels are ignored; a
 * malformed message or an IPPROTO_IP one the kernel does not know is
 * EINVAL.  The SOL_SOCKET ones it would act on (SO_MARK, SO_PRIORITY,
 * timestamping, SCM_TXTIME) pollnet refuses: EOPNOTSUPP.
 */
static int
send_cmsgs(struct psock *ps, int fd, const struct msghdr *m, struct pn_ip *ip)
{
	const struct pn_shm_iface *i = iface();
	const uint8_t *base = m->msg_control;

	if (m->msg_control == NULL)
		return -EFAULT;
	for (struct cmsghdr *c = CMSG_FIRSTHDR((struct msghdr *)m); c != NULL;
	     c = CMSG_NXTHDR((struct msghdr *)m, c)) {
		size_t off = (size_t)((const uint8_t *)c - base), n;
		struct in_pktinfo pi;
		int x;

		if (c->cmsg_len < sizeof(*c) || c->cmsg_len > m->msg_controllen - off)
			return -EINVAL;
		n = c->cmsg_len - CMSG_LEN(0);
		if (c->cmsg_level == SOL_SOCKET) {
			if (c->cmsg_type == SCM_RIGHTS || c->cmsg_type == SCM_CREDENTIALS)
				continue;
			ps_lock(ps);
			refused(ps, fd, "sendmsg(SOL_SOCKET cmsg)");
			ps_unlock(ps);
			return -EOPNOTSUPP;
		}
		if (c->cmsg_level != IPPROTO_IP)
			continue;
		switch (c->cmsg_type) {
		case IP_PKTINFO:
			if (n != sizeof(pi))
				return -EINVAL;
			memcpy(&pi, CMSG_DATA(c), sizeof(pi));
			if (pi.ipi_ifindex != 0 && pi.ipi_ifindex != 1 &&
			    (i == NULL || (unsigned)pi.ipi_ifindex != i->index))
				return -ENODEV;
			ip->local = pi.ipi_spec_dst.s_addr;
			break;
		case IP_TOS:
			if (n == sizeof(int))
				memcpy(&x, CMSG_DATA(c), sizeof(x));
			else if (n == 1)
				x = *CMSG_DATA(c);
			else
				return -EINVAL;
			if (x < 0 || x > 255)
				return -EINVAL;
			ip->tos = (uint8_t)x;
			break;
		case IP_TTL:
			if (n != sizeof(int))
				return -EINVAL;
			memcpy(&x, CMSG_DATA(c), sizeof(x));
			if (x < 1 || x > 255)
				return -EINVAL;
			ip->ttl = (uint8_t)x;
			break;
		default:
			return -EINVAL;
		}
	}
	return 0;
}

static ssize_t
sendmsg_one(struct psock *ps, int fd, const struct msghdr *m, int flags)
{
	struct sockaddr_in to = { 0 };
	struct pn_ip ip;
	int rc;

	if (m->msg_iovlen > IOV_MAX)
		return -EMSGSIZE;
	if (m->msg_controllen == 0)
		return ps_send(ps, fd, m->msg_iov, (int)m->msg_iovlen, flags,
			       m->msg_name, m->msg_namelen, NULL);
	if (m->msg_name == NULL || sin_from(m->msg_name, m->msg_namelen, &to) < 0) {
		ps_lock(ps);
		if (pn_int_peer(ps->s, &to) < 0)
			to.sin_addr.s_addr = 0;
		ps_unlock(ps);
	}
	ps_lock(ps);
	ip = (struct pn_ip){ .tos = ps->sh->tos, .ttl = send_ttl(ps, to.sin_addr.s_addr),
			     .pmtudisc = ps->sh->pmtudisc, .noloop = ps->sh->mc_noloop };
	ps_unlock(ps);
	rc = send_cmsgs(ps, fd, m, &ip);
	if (rc < 0)
		return rc;
	return ps_send(ps, fd, m->msg_iov, (int)m->msg_iovlen, flags,
		       m->msg_name, m->msg_namelen, &ip);
}

EXPORT ssize_t
sendmsg(int fd, const struct msghdr *m, int flags)
{
	struct psock *ps = ps_get(fd);

	if (ps == NULL)
		return LIBC(sendmsg)(fd, m, flags);
	return done(ps, sendmsg_one(ps, fd, m, flags));
}

EXPORT ssize_t
writev(int fd, const struct iovec *iov, int iovcnt)
{
	struct psock *ps = ps_get(fd);
	struct msghdr m = { .msg_iov = (struct iovec *)iov, .msg_iovlen = (size_t)iovcnt };

	if (ps == NULL)
		return LIBC(writev)(fd, iov, iovcnt);
	return done(ps, iovcnt < 0 ? -EINVAL : sendmsg_one(ps, fd, &m, 0));
}

/* sendmsg_one, as mmsg calls it (MSG_WAITFORONE means nothing to a send). */
static ssize_t
sendmsg_mmsg(struct psock *ps, int fd, struct msghdr *m, int flags)
{
	return sendmsg_one(ps, fd, m, flags);
}

EXPORT int
sendmmsg(int fd, struct mmsghdr *v, unsigned int n, int flags)
{
	struct psock *ps = ps_get(fd);

	if (ps == NULL)
		return LIBC(sendmmsg)(fd, v, n, flags);
	return mmsg(ps, fd, v, n, flags & ~MSG_WAITFORONE, sendmsg_mmsg, 0);
}
