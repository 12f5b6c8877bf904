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

unsigned
ps_ready(struct psock *ps)
{
	unsigned r;

	ps_lock(ps);
	r = pn_int_ready(ps->s);
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
ps_arm(struct psock *ps, int fd, unsigned bits)
{
	unsigned r = ps_ready(ps);

	/* wake messages are consumed only by one who found nothing to
	 * receive: a waiter that slept through one finds it still queued */
	if (!(r & (PN_READY_RX | PN_READY_ERR)))
		drain(fd);
	ps_lock(ps);
	r = pn_int_arm(ps->s, bits);
	ps_unlock(ps);
	return r;
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
 * socket's timeout), -ENETDOWN (pollnet went away).
 */
static int
ps_wait(struct psock *ps, int fd, unsigned want)
{
	unsigned bit = want == PN_READY_RX ? PN_WAKE_RX : PN_WAKE_TX;
	struct want w = { ps, want | PN_READY_ERR };
	uint64_t t0, deadline = 0;
	char b;

	if (pn_wait_spin(&ps->spin, g_spin_most, ps_can, &w, &t0))
		return 0;
	if (want == PN_READY_TX && ps->sh->sndtimeo_ms >= 0)
		deadline = t0 + (uint64_t)ps->sh->sndtimeo_ms * 1000000u;
	for (;;) {
		ssize_t n;

		if (ps_arm(ps, fd, bit) & (want | PN_READY_ERR)) {
			pn_wait_slept(&ps->spin, g_spin_most, t0);
			return 0;
		}
		if (deadline != 0) {
			struct pollfd p = { .fd = fd, .events = POLLIN };
			uint64_t now = pn_now_ns();
			int r;

			if (now >= deadline)
				return -EAGAIN;
			r = LIBC(poll)(&p, 1, (int)((deadline - now + 999999u) / 1000000u));
			if (r < 0)
				return -errno;
			if (r > 0 && (p.revents & (POLLHUP | POLLERR)))
				return -ENETDOWN;
			continue;
		}
		n = LIBC(recv)(fd, &b, 1, MSG_PEEK);
		if (n == 0)
			return -ENETDOWN;
		if (n < 0) {
			if (errno == EAGAIN && want == PN_READY_TX)
				continue;       /* SO_RCVTIMEO is not ours to obey here */
			return errno == EAGAIN || errno == EWOULDBLOCK ? -EAGAIN : -errno;
		}
	}
}

/* ---- receiving ---- */

/* One datagram: bytes copied, or a negative errno.  *full: its length. */
static ssize_t
ps_recv(struct psock *ps, int fd, const struct iovec *iov, int iovcnt, int flags,
	struct sockaddr_in *from, size_t *full)
{
	int nonblock = (flags & MSG_DONTWAIT) || atomic_load(&ps->sh->nonblock);
	struct sockaddr_in src;
	ssize_t r;

	if (flags & (MSG_OOB | MSG_ERRQUEUE)) {
		refused(ps, fd, flags & MSG_OOB ? "recv(MSG_OOB)" : "recv(MSG_ERRQUEUE)");
		return flags & MSG_OOB ? -EOPNOTSUPP : -EAGAIN;
	}
	for (;;) {
		ps_lock(ps);
		r = pn_int_recv(ps->s, iov, iovcnt, &src, (flags & MSG_PEEK) != 0, full);
		ps_unlock(ps);
		if (r >= 0 && LOOPBACK(ps->sh->bind_addr) && !LOOPBACK(src.sin_addr.s_addr) &&
		    src.sin_addr.s_addr != g_addr) {
			/* bound to a loopback address: not for us (pollnet
			 * delivers by port); count it, drop it */
			atomic_fetch_add(&ps->sh->dropped_not_loopback, 1);
			if (flags & MSG_PEEK) {
				ps_lock(ps);
				r = pn_int_recv(ps->s, NULL, 0, &src, 0, full);
				ps_unlock(ps);
			}
			continue;
		}
		if (r != -EAGAIN)
			break;
		atomic_fetch_add(&ps->eagain, 1);
		if (nonblock)
			return -EAGAIN;
		r = ps_wait(ps, fd, PN_READY_RX);
		if (r < 0)
			return r;
	}
	if (r >= 0 && from != NULL)
		*from = src;
	return r;
}

static ssize_t
recv_common(struct psock *ps, int fd, void *buf, size_t len, int flags,
	    struct sockaddr *sa, socklen_t *salen)
{
	struct iovec iov = { .iov_base = buf, .iov_len = len };
	struct sockaddr_in from;
	size_t full;
	ssize_t r = ps_recv(ps, fd, &iov, 1, flags, &from, &full);

	if (r < 0)
		return fail((int)-r);
	if (sa != NULL && salen != NULL)
		sin_to(&from, sa, salen);
	return (flags & MSG_TRUNC) ? (ssize_t)full : r;
}

EXPORT ssize_t
recv(int fd, void *buf, size_t len, int flags)
{
	struct psock *ps = ps_of(fd);

	if (ps == NULL)
		return LIBC(recv)(fd, buf, len, flags);
	return recv_common(ps, fd, buf, len, flags, NULL, NULL);
}

EXPORT ssize_t
recvfrom(int fd, void *buf, size_t len, int flags, struct sockaddr *sa, socklen_t *salen)
{
	struct psock *ps = ps_of(fd);

	if (ps == NULL)
		return LIBC(recvfrom)(fd, buf, len, flags, sa, salen);
	return recv_common(ps, fd, buf, len, flags, sa, salen);
}

EXPORT ssize_t
read(int fd, void *buf, size_t len)
{
	struct psock *ps = ps_of(fd);

	if (ps == NULL)
		return LIBC(read)(fd, buf, len);
	return recv_common(ps, fd, buf, len, 0, NULL, NULL);
}

EXPORT ssize_t
__recv_chk(int fd, void *buf, size_t len, size_t buflen, int flags)
{
	struct psock *ps = ps_of(fd);

	if (ps == NULL)
		return LIBC(__recv_chk)(fd, buf, len, buflen, flags);
	if (len > buflen)
		abort();                /* what glibc's __chk_fail does, less the message */
	return recv_common(ps, fd, buf, len, flags, NULL, NULL);
}

EXPORT ssize_t
__recvfrom_chk(int fd, void *buf, size_t len, size_t buflen, int flags,
	       struct sockaddr *sa, socklen_t *salen)
{
	struct psock *ps = ps_of(fd);

	if (ps == NULL)
		return LIBC(__recvfrom_chk)(fd, buf, len, buflen, flags, sa, salen);
	if (len > buflen)
		abort();
	return recv_common(ps, fd, buf, len, flags, sa, salen);
}

EXPORT ssize_t
__read_chk(int fd, void *buf, size_t len, size_t buflen)
{
	struct psock *ps = ps_of(fd);

	if (ps == NULL)
		return LIBC(__read_chk)(fd, buf, len, buflen);
	if (len > buflen)
		abort();
	return recv_common(ps, fd, buf, len, 0, NULL, NULL);
}

static ssize_t
recvmsg_one(struct psock *ps, int fd, struct msghdr *m, int flags)
{
	struct sockaddr_in from;
	size_t full, room = 0;
	ssize_t r;

	if (m->msg_iovlen > IOV_MAX)
		return -EMSGSIZE;
	r = ps_recv(ps, fd, m->msg_iov, (int)m->msg_iovlen, flags, &from, &full);
	if (r < 0)
		return r;
	for (size_t i = 0; i < m->msg_iovlen; i++)
		room += m->msg_iov[i].iov_len;
	if (m->msg_name != NULL)
		sin_to(&from, m->msg_name, &m->msg_namelen);
	else
		m->msg_namelen = 0;
	m->msg_controllen = 0;
	m->msg_flags = full > room ? MSG_TRUNC : 0;
	return (flags & MSG_TRUNC) ? (ssize_t)full : r;
}

EXPORT ssize_t
recvmsg(int fd, struct msghdr *m, int flags)
{
	struct psock *ps = ps_of(fd);
	ssize_t r;

	if (ps == NULL)
		return LIBC(recvmsg)(fd, m, flags);
	r = recvmsg_one(ps, fd, m, flags);
	return r < 0 ? fail((int)-r) : r;
}

EXPORT ssize_t
readv(int fd, const struct iovec *iov, int iovcnt)
{
	struct psock *ps = ps_of(fd);
	struct msghdr m = { .msg_iov = (struct iovec *)iov, .msg_iovlen = (size_t)iovcnt };
	ssize_t r;

	if (ps == NULL)
		return LIBC(readv)(fd, iov, iovcnt);
	if (iovcnt < 0)
		return fail(EINVAL);
	r = recvmsg_one(ps, fd, &m, 0);
	return r < 0 ? fail((int)-r) : r;
}

EXPORT int
recvmmsg(int fd, struct mmsghdr *v, unsigned int n, int flags, struct timespec *tmo)
{
	struct psock *ps = ps_of(fd);
	uint64_t deadline = 0;
	unsigned int got = 0;

	if (ps == NULL)
		return LIBC(recvmmsg)(fd, v, n, flags, tmo);
	if (tmo != NULL)
		deadline = pn_now_ns() + (uint64_t)tmo->tv_sec * 1000000000u + (uint64_t)tmo->tv_nsec;
	while (got < n) {
		int f = flags & ~MSG_WAITFORONE;
		ssize_t r;

		if (got > 0 && (flags & MSG_WAITFORONE))
			f |= MSG_DONTWAIT;
		r = recvmsg_one(ps, fd, &v[got].msg_hdr, f);
		if (r < 0) {
			if (got > 0)
				break;          /* the error waits for the next call */
			return fail((int)-r);
		}
		v[got++].msg_len = (unsigned int)r;
		if (deadline != 0 && pn_now_ns() >= deadline)
			break;
	}
	return (int)got;
}

/* ---- sending ---- */

static ssize_t
ps_send(struct psock *ps, int fd, const struct iovec *iov, int iovcnt, int flags,
	const struct sockaddr *sa, socklen_t salen)
{
	int nonblock = (flags & MSG_DONTWAIT) || atomic_load(&ps->sh->nonblock);
	struct sockaddr_in to, *top = NULL;
	ssize_t r;

	if (flags & (MSG_OOB | MSG_MORE)) {
		refused(ps, fd, flags & MSG_OOB ? "send(MSG_OOB)" : "send(MSG_MORE)");
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
	if (pollnet_local_port(ps->s) == 0) {   /* bind on first send, as UDP does */
		sess_lock();
		r = pollnet_local_port(ps->s) == 0 ? pollnet_bind(ps->s, 0) : 0;
		sess_unlock();
		if (r < 0)
			return r;
	}
	for (;;) {
		ps_lock(ps);
		r = pn_int_send(ps->s, iov, iovcnt, top);
		ps_unlock(ps);
		if (r != -EAGAIN)
			return r;
		atomic_fetch_add(&ps->eagain, 1);
		if (nonblock)
			return -EAGAIN;
		r = ps_wait(ps, fd, PN_READY_TX);
		if (r < 0)
			return r;
	}
}

static ssize_t
send_common(struct psock *ps, int fd, const void *buf, size_t len, int flags,
	    const struct sockaddr *sa, socklen_t salen)
{
	struct iovec iov = { .iov_base = (void *)buf, .iov_len = len };
	ssize_t r = ps_send(ps, fd, &iov, 1, flags, sa, salen);

	return r < 0 ? fail((int)-r) : r;
}

EXPORT ssize_t
send(int fd, const void *buf, size_t len, int flags)
{
	struct psock *ps = ps_of(fd);

	if (ps == NULL)
		return LIBC(send)(fd, buf, len, flags);
	return send_common(ps, fd, buf, len, flags, NULL, 0);
}

EXPORT ssize_t
sendto(int fd, const void *buf, size_t len, int flags, const struct sockaddr *sa, socklen_t salen)
{
	struct psock *ps = ps_of(fd);

	if (ps == NULL)
		return LIBC(sendto)(fd, buf, len, flags, sa, salen);
	return send_common(ps, fd, buf, len, flags, sa, salen);
}

EXPORT ssize_t
write(int fd, const void *buf, size_t len)
{
	struct psock *ps = ps_of(fd);

	if (ps == NULL)
		return LIBC(write)(fd, buf, len);
	return send_common(ps, fd, buf, len, 0, NULL, 0);
}

static ssize_t
sendmsg_one(struct psock *ps, int fd, const struct msghdr *m, int flags)
{
	if (m->msg_iovlen > IOV_MAX)
		return -EMSGSIZE;
	if (m->msg_controllen != 0) {
		refused(ps, fd, "sendmsg() with control messages");
		return -EOPNOTSUPP;
	}
	return ps_send(ps, fd, m->msg_iov, (int)m->msg_iovlen, flags,
		       m->msg_name, m->msg_namelen);
}

EXPORT ssize_t
sendmsg(int fd, const struct msghdr *m, int flags)
{
	struct psock *ps = ps_of(fd);
	ssize_t r;

	if (ps == NULL)
		return LIBC(sendmsg)(fd, m, flags);
	r = sendmsg_one(ps, fd, m, flags);
	return r < 0 ? fail((int)-r) : r;
}

EXPORT ssize_t
writev(int fd, const struct iovec *iov, int iovcnt)
{
	struct psock *ps = ps_of(fd);
	struct msghdr m = { .msg_iov = (struct iovec *)iov, .msg_iovlen = (size_t)iovcnt };
	ssize_t r;

	if (ps == NULL)
		return LIBC(writev)(fd, iov, iovcnt);
	if (iovcnt < 0)
		return fail(EINVAL);
	r = sendmsg_one(ps, fd, &m, 0);
	return r < 0 ? fail((int)-r) : r;
}

EXPORT int
sendmmsg(int fd, struct mmsghdr *v, unsigned int n, int flags)
{
	struct psock *ps = ps_of(fd);
	unsigned int done = 0;

	if (ps == NULL)
		return LIBC(sendmmsg)(fd, v, n, flags);
	while (done < n) {
		ssize_t r = sendmsg_one(ps, fd, &v[done].msg_hdr, flags);

		if (r < 0) {
			if (done > 0)
				break;
			return fail((int)-r);
		}
		v[done++].msg_len = (unsigned int)r;
	}
	return (int)done;
}
