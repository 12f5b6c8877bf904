/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * pollnet-run: socket calls on a pollnet socket (socket, bind, connect,
 * the names, shutdown, fcntl and ioctl); its options are preload_opt.c's.
 */
#define _GNU_SOURCE
/* fcntl and fcntl64 are both ours to define: no header renaming of one
 * into the other */
#undef _FILE_OFFSET_BITS
#include <fcntl.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <linux/sockios.h>
#include <net/if.h>
#include <net/if_arp.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include "preload.h"

/* ---- sockets ---- */

int
ps_open(struct psock *ps, uint32_t rx_ring, uint32_t tx_ring, int *rx_end)
{
	struct pollnet_socket *s;
	int rc, tx_end;

	sess_lock();
	rc = pn_int_socket(g_pn, &s, PN_SOCK_PRELOAD, rx_ring, tx_ring);
	sess_unlock();
	if (rc < 0) {
		DEBUG("socket: pollnet said %s", pollnet_strerror(rc));
		return rc;
	}
	pn_int_take_wake_fds(s, rx_end, &tx_end);
	ps->s = s;
	ps->wfd = *rx_end < FD_MAX ? fd_private(*rx_end, ps, 1) : -1;
	ps->tfd = fd_private(tx_end, ps, 0);
	if (ps->wfd >= 0 && ps->tfd >= 0)
		return 0;
	/* out of descriptors */
	fd_private_close(ps->wfd);
	if (ps->tfd >= 0)
		fd_private_close(ps->tfd);
	else
		LIBC(close)(tx_end);
	LIBC(close)(*rx_end);
	sess_lock();
	pollnet_close(s);
	sess_unlock();
	return -EMFILE;
}

static int
open_socket(int type)
{
	struct psock *ps;
	int rc, fd;

	pthread_mutex_lock(&g_lock);
	rc = session();
	pthread_mutex_unlock(&g_lock);
	if (rc < 0)
		return fail(rc == -EMFILE || rc == -ENFILE || rc == -EACCES || rc == -ENOMEM ? -rc :
			    rc == -EDQUOT || rc == -EUSERS ? ENFILE : ENETDOWN);
	ps = ps_new();
	if (ps == NULL)
		return fail(ENOMEM);
	ps->sh = shared_page();
	if (ps->sh == NULL) {
		ps_discard(ps);
		return fail(ENOMEM);
	}
	mutex_init_shared(&ps->sh->lock);
	rc = ps_open(ps, 0, 0, &fd);
	if (rc < 0) {
		munmap(ps->sh, 4096);
		ps_discard(ps);
		/* the kernel's errnos for running out */
		return fail(rc == -EDQUOT || rc == -EUSERS ? ENFILE : -rc);
	}
	if (!(type & SOCK_CLOEXEC))
		LIBC(fcntl)(fd, F_SETFD, 0);
	atomic_store(&ps->sh->nonblock, (type & SOCK_NONBLOCK) != 0);
	ps->sh->pmtudisc = IP_PMTUDISC_WANT;    /* Linux's default (ip_no_pmtu_disc 0) */
	pn_int_set_mc_filter(ps->s, &ps->sh->mc);
	tab_set(fd, (uintptr_t)ps);             /* its count's 1 */
	DEBUG("fd %d: a pollnet UDP socket", fd);
	return fd;
}

EXPORT int
socket(int domain, int type, int protocol)
{
	if (domain == AF_INET && (type & 0xff) == SOCK_DGRAM &&
	    (protocol == 0 || protocol == IPPROTO_UDP))
		return open_socket(type);
	return LIBC(socket)(domain, type, protocol);
}

/* ---- addresses ---- */

int
sin_from(const struct sockaddr *sa, socklen_t len, struct sockaddr_in *out)
{
	if (sa == NULL || len < (socklen_t)sizeof(sa_family_t))
		return -EINVAL;
	if (sa->sa_family != AF_INET)
		return -EAFNOSUPPORT;
	if (len < (socklen_t)sizeof(struct sockaddr_in))
		return -EINVAL;
	memcpy(out, sa, sizeof(*out));
	if (out->sin_addr.s_addr == htonl(INADDR_ANY))
		out->sin_addr.s_addr = htonl(INADDR_LOOPBACK);  /* "this host", as Linux */
	return 0;
}

void
sin_to(const struct sockaddr_in *sin, struct sockaddr *sa, socklen_t *len)
{
	socklen_t n;

	if (sa == NULL || len == NULL)
		return;
	n = *len < (socklen_t)sizeof(*sin) ? *len : (socklen_t)sizeof(*sin);
	memcpy(sa, sin, n);
	*len = sizeof(*sin);
}

const struct pn_shm_iface *
iface(void)
{
	return g_pn != NULL ? pn_int_iface(g_pn) : NULL;
}

uint8_t
send_ttl(struct psock *ps, uint32_t dst)
{
	if (GROUP(dst))
		return ps->sh->mc_ttl != 0 ? (uint8_t)(ps->sh->mc_ttl - 1) : 1;
	return ps->sh->ttl;
}

/* As the kernel's route lookup answers: loopback and our address are
 * local; on the link or through the gateway, else ENETUNREACH (the limited
 * broadcast too: it follows the default route, or the bound device);
 * a broadcast without SO_BROADCAST is EACCES. */
int
dest_ok(struct psock *ps, const struct sockaddr_in *a)
{
	const struct pn_shm_iface *i = iface();
	uint32_t d = a->sin_addr.s_addr;

	if (a->sin_port == 0)
		return -EINVAL;
	if (LOOPBACK(d) || d == g_addr || i == NULL)
		return 0;
	if (GROUP(d))                   /* a route: the default, a device, an interface */
		return i->gateway != 0 || ps->sh->device[0] != '\0' || ps->sh->mc_if != 0 ||
		       ps->sh->mc_index != 0 ? 0 : -ENETUNREACH;
	if (d == htonl(INADDR_BROADCAST)) {
		if (i->gateway == 0 && ps->sh->device[0] == '\0')
			return -ENETUNREACH;
		return ps->sh->broadcast ? 0 : -EACCES;
	}
	if (((d ^ i->addr) & i->netmask) != 0)
		return i->gateway != 0 ? 0 : -ENETUNREACH;
	if (i->netmask != 0 && ntohl(i->netmask) < 0xfffffffeu && d == (i->addr | ~i->netmask))
		return ps->sh->broadcast ? 0 : -EACCES;  /* the subnet's broadcast */
	return 0;
}

static int
ps_bind(struct psock *ps, int fd, const struct sockaddr *sa, socklen_t len)
{
	const struct sockaddr_in *sin = (const struct sockaddr_in *)sa;
	int rc;

	if (sa == NULL || len < (socklen_t)sizeof(struct sockaddr_in))
		return -EINVAL;
	if (sa->sa_family != AF_INET)
		return -EAFNOSUPPORT;
	if (sin->sin_addr.s_addr != htonl(INADDR_ANY) && sin->sin_addr.s_addr != g_addr &&
	    !LOOPBACK(sin->sin_addr.s_addr))
		return -EADDRNOTAVAIL;
	ps_lock(ps);
	if (pollnet_local_port(ps->s) != 0) {
		ps_unlock(ps);
		return -EINVAL;
	}
	sess_lock();
	rc = pn_int_bind(ps->s, ntohs(sin->sin_port),
			 ps->sh->reuseaddr || ps->sh->reuseport ? PN_BIND_REUSEADDR : 0);
	sess_unlock();
	if (rc == 0) {
		ps->sh->bind_addr = sin->sin_addr.s_addr;
		DEBUG("fd %d: bound to port %u", fd, pollnet_local_port(ps->s));
	}
	ps_unlock(ps);
	return rc;
}

/* bind() and connect(): ours, or the C library's for a descriptor that is
 * not a pollnet socket. */
static int
addr_call(int fd, const struct sockaddr *sa, socklen_t len,
	  int (*ours)(struct psock *, int, const struct sockaddr *, socklen_t),
	  int (*libc)(int, const struct sockaddr *, socklen_t))
{
	struct psock *ps = ps_get(fd);
	int rc;

	if (ps == NULL)
		return libc(fd, sa, len);
	rc = ours(ps, fd, sa, len);
	ps_put(ps);
	return rc < 0 ? fail(-rc) : 0;
}

EXPORT int
bind(int fd, const struct sockaddr *sa, socklen_t len)
{
	return addr_call(fd, sa, len, ps_bind, LIBC(bind));
}

static int
ps_connect(struct psock *ps, int fd, const struct sockaddr *sa, socklen_t len)
{
	struct sockaddr_in to;
	int rc;

	(void)fd;       /* (addr_call's shape; bind names it in its messages) */

	if (sa != NULL && len >= (socklen_t)sizeof(sa_family_t) && sa->sa_family == AF_UNSPEC) {
		ps_flush(ps);   /* from the port it had */
		ps_lock(ps);
		sess_lock();
		rc = pn_int_disconnect(ps->s);
		sess_unlock();
		ps_unlock(ps);
		return rc;
	}
	rc = sin_from(sa, len, &to);
	if (rc == 0)
		rc = dest_ok(ps, &to);
	if (rc < 0)
		return rc;
	ps_lock(ps);
	sess_lock();
	rc = pollnet_connect(ps->s, &to);
	sess_unlock();
	ps_unlock(ps);
	return rc;
}

EXPORT int
connect(int fd, const struct sockaddr *sa, socklen_t len)
{
	return addr_call(fd, sa, len, ps_connect, LIBC(connect));
}

/* The local address: the bound one, else the one a datagram to the peer
 * leaves from. */
static struct sockaddr_in
ps_name(struct psock *ps)
{
	struct sockaddr_in me = { .sin_family = AF_INET }, peer;

	ps_lock(ps);
	me.sin_port = htons(pollnet_local_port(ps->s));
	if (ps->sh->bind_addr != 0)
		me.sin_addr.s_addr = ps->sh->bind_addr;
	else if (pn_int_peer(ps->s, &peer) == 0)
		me.sin_addr.s_addr = LOOPBACK(peer.sin_addr.s_addr) ? peer.sin_addr.s_addr == g_addr ?
				     g_addr : htonl(INADDR_LOOPBACK) : g_addr;
	ps_unlock(ps);
	return me;
}

EXPORT int
getsockname(int fd, struct sockaddr *sa, socklen_t *len)
{
	struct psock *ps = ps_get(fd);
	struct sockaddr_in me;

	if (ps == NULL)
		return LIBC(getsockname)(fd, sa, len);
	me = ps_name(ps);
	ps_put(ps);
	if (sa == NULL || len == NULL)
		return fail(EFAULT);
	sin_to(&me, sa, len);
	return 0;
}

EXPORT int
getpeername(int fd, struct sockaddr *sa, socklen_t *len)
{
	struct psock *ps = ps_get(fd);
	struct sockaddr_in peer;
	int rc;

	if (ps == NULL)
		return LIBC(getpeername)(fd, sa, len);
	ps_lock(ps);
	rc = pn_int_peer(ps->s, &peer);
	ps_unlock(ps);
	ps_put(ps);
	if (sa == NULL || len == NULL)
		return fail(EFAULT);
	if (rc < 0)
		return fail(ENOTCONN);
	sin_to(&peer, sa, len);
	return 0;
}

/* Is fd a pollnet socket?  (For calls it refuses whole.) */
static int
is_ours(int fd)
{
	return is_psock(tab(fd));
}

EXPORT int
listen(int fd, int backlog)
{
	if (is_ours(fd))
		return fail(EOPNOTSUPP);
	return LIBC(listen)(fd, backlog);
}

EXPORT int
accept(int fd, struct sockaddr *sa, socklen_t *len)
{
	if (is_ours(fd))
		return fail(EOPNOTSUPP);
	return LIBC(accept)(fd, sa, len);
}

EXPORT int
accept4(int fd, struct sockaddr *sa, socklen_t *len, int flags)
{
	if (is_ours(fd))
		return fail(EOPNOTSUPP);
	return LIBC(accept4)(fd, sa, len, flags);
}

/* A refusal of what ps does not support: the errno, for fail(). */
static int
refuse(struct psock *ps, int fd, const char *what, int err)
{
	ps_lock(ps);
	refused(ps, fd, what);
	ps_unlock(ps);
	ps_put(ps);
	return err;
}

/*
 * shutdown(), as the kernel's UDP: SHUT_RD makes a blocking receive that
 * finds nothing return 0 (a non-blocking one still EAGAIN; datagrams
 * still arrive and are read) and poll report POLLIN | POLLRDHUP; SHUT_WR
 * makes sends fail with EPIPE; both, POLLHUP too.  On a socket with no
 * peer it does all that and still answers ENOTCONN.  Threads blocked on
 * the socket wake to it (a poke each: abi/pn_region.h).
 */
EXPORT int
shutdown(int fd, int how)
{
	struct psock *ps = ps_get(fd);
	struct sockaddr_in peer;
	int rc, bits;

	if (ps == NULL)
		return LIBC(shutdown)(fd, how);
	if (how != SHUT_RD && how != SHUT_WR && how != SHUT_RDWR) {
		ps_put(ps);
		return fail(EINVAL);
	}
	bits = how == SHUT_RD ? SH_RD : how == SHUT_WR ? SH_WR : SH_RD | SH_WR;
	ps_lock(ps);
	atomic_fetch_or(&ps->sh->shut, bits);
	/* one message: a sleeper it wakes passes it on (preload_io.c), and
	 * one about to sleep finds it queued */
	pn_int_poke(ps->s, PN_READY_RX);
	pn_int_poke(ps->s, PN_READY_TX);
	rc = pn_int_peer(ps->s, &peer);
	ps_unlock(ps);
	ps_put(ps);
	return rc < 0 ? fail(ENOTCONN) : 0;
}

/* fcntl's third argument, by command. */
static int
fcntl_common(int fd, int cmd, va_list ap)
{
	int (*fn)(int, int, ...) = LIBC(fcntl);
	struct psock *ps;
	int arg = 0, rc;
	void *p = NULL;

	switch (cmd) {
	case F_GETFD: case F_GETFL: case F_GETOWN: case F_GETSIG: case F_GETLEASE:
	case F_GETPIPE_SZ: case F_GET_SEALS:
		break;
	case F_DUPFD: case F_DUPFD_CLOEXEC: case F_SETFD: case F_SETFL: case F_SETOWN:
	case F_SETSIG: case F_SETLEASE: case F_NOTIFY: case F_SETPIPE_SZ: case F_ADD_SEALS:
		arg = va_arg(ap, int);
		break;
	default:                        /* the rest take a pointer */
		p = va_arg(ap, void *);
		break;
	}
	if (cmd == F_DUPFD || cmd == F_DUPFD_CLOEXEC) {
		if ((tab(fd) & T_MASK) == T_PRIV)
			return fail(EBADF);
		rc = fn(fd, cmd, arg);
		if (rc >= 0)
			fd_copy(fd, rc);
		return rc;
	}
	ps = cmd == F_GETFL || cmd == F_SETFL || cmd == F_SETOWN || cmd == F_SETSIG ||
	     cmd == F_SETOWN_EX ? ps_get(fd) : NULL;
	if (ps != NULL) {
		rc = 0;
		if (cmd == F_GETFL) {
			rc = O_RDWR | (atomic_load(&ps->sh->nonblock) ? O_NONBLOCK : 0);
		} else if (cmd == F_SETFL) {
			/* O_NONBLOCK is ours to keep: the wake end must stay
			 * blocking */
			atomic_store(&ps->sh->nonblock, (arg & O_NONBLOCK) != 0);
			if (arg & O_ASYNC)
				return fail(refuse(ps, fd, "fcntl(F_SETFL, O_ASYNC)", EINVAL));
		} else {
			return fail(refuse(ps, fd, "fcntl(F_SETOWN/F_SETSIG)", EINVAL));
		}
		ps_put(ps);
		return rc;
	}
	switch (cmd) {
	case F_GETFD: case F_GETFL: case F_GETOWN: case F_GETSIG: case F_GETLEASE:
	case F_GETPIPE_SZ: case F_GET_SEALS:
		return fn(fd, cmd);
	case F_SETFD: case F_SETFL: case F_SETOWN: case F_SETSIG: case F_SETLEASE:
	case F_NOTIFY: case F_SETPIPE_SZ: case F_ADD_SEALS:
		return fn(fd, cmd, arg);
	default:
		return fn(fd, cmd, p);
	}
}

EXPORT int
fcntl(int fd, int cmd, ...)
{
	va_list ap;
	int rc;

	va_start(ap, cmd);
	rc = fcntl_common(fd, cmd, ap);
	va_end(ap);
	return rc;
}

/* On the 64-bit ABIs pollnet builds for, fcntl64 is fcntl (one struct
 * flock, one off_t). */
_Static_assert(sizeof(off_t) == 8, "fcntl64 is fcntl");
EXPORT int fcntl64(int fd, int cmd, ...) __attribute__((alias("fcntl")));

/* ---- the interface ioctls ---- */

/* A request on the kernel's interfaces, through a socket of its own. */
static int
kernel_ioctl(unsigned long req, void *arg)
{
	int k = LIBC(socket)(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0), rc;

	if (k < 0)
		return -errno;
	rc = LIBC(ioctl)(k, req, arg) < 0 ? -errno : 0;
	LIBC(close)(k);
	return rc;
}

static void
put_sin(struct sockaddr *sa, uint32_t addr)
{
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_addr.s_addr = addr };

	memcpy(sa, &sin, sizeof(sin));
}

/* SIOCGIFCONF: the kernel's interfaces with an IPv4 address, then
 * pollnet's, unless the kernel has it (pollnet's exception path gives the
 * kernel its interface, with its address). */
static int
ifconf(void *arg, const struct pn_shm_iface *i)
{
	struct ifconf ic;               /* (the caller's may not be aligned) */
	struct ifreq me;
	int rc, room;

	if (arg == NULL)
		return -EFAULT;
	memcpy(&ic, arg, sizeof(ic));
	room = ic.ifc_len;
	rc = kernel_ioctl(SIOCGIFCONF, &ic);
	if (rc < 0)
		return rc;
	memset(&me, 0, sizeof(me));
	memcpy(me.ifr_name, i->name, sizeof(me.ifr_name));
	if (kernel_ioctl(SIOCGIFADDR, &me) == 0) {
		memcpy(arg, &ic, sizeof(ic));
		return 0;               /* the kernel lists it already */
	}
	if (ic.ifc_req == NULL) {       /* the length it takes */
		ic.ifc_len += (int)sizeof(me);
	} else if (room - ic.ifc_len >= (int)sizeof(me)) {
		/* (no room: as the kernel, what fits) */
		memset(&me, 0, sizeof(me));
		memcpy(me.ifr_name, i->name, sizeof(me.ifr_name));
		put_sin(&me.ifr_addr, i->addr);
		memcpy(ic.ifc_buf + ic.ifc_len, &me, sizeof(me));
		ic.ifc_len += (int)sizeof(me);
	}
	memcpy(arg, &ic, sizeof(ic));
	return 0;
}

/* An interface ioctl (SIOCGIF*): pollnet's interface answered from the
 * session's state page, the kernel's by the kernel.  1: not one. */
static int
if_ioctl(unsigned long req, void *arg)
{
	const struct pn_shm_iface *i = iface();
	struct ifreq req_, *r = &req_;  /* a copy: the caller's may not be aligned */

	switch (req) {
	case SIOCGIFCONF:
		return i != NULL ? ifconf(arg, i) : kernel_ioctl(req, arg);
	case SIOCGIFNAME:
	case SIOCGIFFLAGS: case SIOCGIFINDEX: case SIOCGIFADDR: case SIOCGIFNETMASK:
	case SIOCGIFBRDADDR: case SIOCGIFMTU: case SIOCGIFHWADDR:
		break;
	default:
		return 1;
	}
	if (arg == NULL)
		return -EFAULT;
	memcpy(r, arg, sizeof(*r));
	if (req == SIOCGIFNAME) {
		if (i == NULL || i->index == 0 || (unsigned)r->ifr_ifindex != i->index)
			return kernel_ioctl(req, arg);
		memcpy(r->ifr_name, i->name, sizeof(r->ifr_name));
		memcpy(arg, r, sizeof(*r));
		return 0;
	}
	if (i == NULL || strncmp(r->ifr_name, i->name, sizeof(r->ifr_name)) != 0)
		return kernel_ioctl(req, arg);
	switch (req) {
	case SIOCGIFFLAGS:
		r->ifr_flags = IFF_UP | IFF_BROADCAST | IFF_RUNNING | IFF_MULTICAST;
		break;
	case SIOCGIFINDEX:
		if (i->index == 0)
			return -ENODEV;         /* no index the kernel knows */
		r->ifr_ifindex = (int)i->index;
		break;
	case SIOCGIFADDR:
		put_sin(&r->ifr_addr, i->addr);
		break;
	case SIOCGIFNETMASK:
		put_sin(&r->ifr_netmask, i->netmask);
		break;
	case SIOCGIFBRDADDR:
		put_sin(&r->ifr_broadaddr, i->addr | ~i->netmask);
		break;
	case SIOCGIFMTU:
		r->ifr_mtu = i->mtu;
		break;
	default:                        /* SIOCGIFHWADDR */
		memset(&r->ifr_hwaddr, 0, sizeof(r->ifr_hwaddr));
		r->ifr_hwaddr.sa_family = ARPHRD_ETHER;
		memcpy(r->ifr_hwaddr.sa_data, i->mac, sizeof(i->mac));
		break;
	}
	memcpy(arg, r, sizeof(*r));
	return 0;
}

/*
 * ioctl's third argument exists for the requests that take one; the C
 * library reads it whatever the request (its ioctl() is variadic, and the
 * kernel's takes three), so for another file we pass on what we read, as
 * it would.  On a pollnet socket we read it only for a request that has
 * one.  FIOCLEX and FIONCLEX are the descriptor's (the kernel answers them
 * for any file).
 */
EXPORT int
ioctl(int fd, unsigned long req, ...)
{
	struct psock *ps = ps_get(fd);
	va_list ap;
	void *p;
	int x, rc = 0;

	va_start(ap, req);
	if (ps == NULL) {
		void *arg = va_arg(ap, void *);

		va_end(ap);
		return LIBC(ioctl)(fd, req, arg);
	}
	switch (req) {
	case FIOCLEX:
	case FIONCLEX:
		ps_put(ps);
		va_end(ap);
		return LIBC(ioctl)(fd, req);
	/* (the program's int by memcpy: it may not be aligned) */
	case FIONBIO:
		p = va_arg(ap, void *);
		if (p == NULL) {
			rc = -EFAULT;
			break;
		}
		memcpy(&x, p, sizeof(x));
		atomic_store(&ps->sh->nonblock, x != 0);
		break;
	case FIONREAD:                  /* SIOCINQ: the next datagram's length */
	case SIOCOUTQ:                  /* bytes pollnet has not taken yet */
		p = va_arg(ap, void *);
		if (p == NULL) {
			rc = -EFAULT;
			break;
		}
		ps_lock(ps);
		x = (int)(req == FIONREAD ? pn_int_next_len(ps->s) : pn_int_outq(ps->s));
		ps_unlock(ps);
		memcpy(p, &x, sizeof(x));
		break;
	default:
		rc = if_ioctl(req, va_arg(ap, void *));
		if (rc == 1) {
			va_end(ap);
			return fail(refuse(ps, fd, "ioctl()", ENOTTY));
		}
		break;
	}
	va_end(ap);
	ps_put(ps);
	return rc < 0 ? fail(-rc) : 0;
}
