/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * libpollnet: a session with pollnet (its control connection) and the
 * sockets it holds: create, bind, connect, close.  See pollnet.h for the
 * API, abi/pn_control.h for the control messages and abi/pn_region.h for
 * the region.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "lib.h"
#include "libc.h"
#include "pollnet_int.h"

const char *
pollnet_strerror(int err)
{
	switch (-err) {
	case EPROTONOSUPPORT:
		return "pollnet speaks another version of the protocol";
	case ECONNRESET:
		return "pollnet went away";
	case EDESTADDRREQ:
		return "no destination: connect() first, or use sendto()";
	case EMFILE:
		return "this session holds as many sockets as pollnet allows one "
		       "(sockets.max_per_client)";
	case ENFILE:
		return "pollnet's socket table is full (sockets.max)";
	case EDQUOT:
		return "this user's share of pollnet is used up "
		       "(sockets.max_per_user or control.max_clients_per_user)";
	case EUSERS:
		return "pollnet serves as many sessions as it can";
	default:
		return strerror(err < 0 ? -err : err);
	}
}

static void
close_passed_fds(struct msghdr *mh)
{
	for (struct cmsghdr *cm = CMSG_FIRSTHDR(mh); cm != NULL; cm = CMSG_NXTHDR(mh, cm))
		if (cm->cmsg_level == SOL_SOCKET && cm->cmsg_type == SCM_RIGHTS)
			for (size_t i = 0; i < (cm->cmsg_len - CMSG_LEN(0)) / sizeof(int); i++)
				LIBC(close)(((int *)CMSG_DATA(cm))[i]);
}

int
lib_rpc(struct pollnet *pn, struct pn_ctl_req *req, struct pn_ctl_rep *rep, int *fds)
{
	return lib_rpc_more(pn, req, NULL, 0, rep, fds);
}

int
lib_rpc_more(struct pollnet *pn, struct pn_ctl_req *req, const void *more, size_t more_len,
	     struct pn_ctl_rep *rep, int *fds)
{
	char cbuf[CMSG_SPACE(3 * sizeof(int))];
	uint8_t msg[sizeof(*req) + 256];
	struct iovec iov = { .iov_base = rep, .iov_len = sizeof(*rep) };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1,
			     .msg_control = cbuf, .msg_controllen = sizeof(cbuf) };
	ssize_t n;
	int rc = 0;

	pthread_mutex_lock(&pn->lock);
	/* the pid in the number: after fork() two processes may share the
	 * session, each with its own count */
	req->seq = ++pn->seq + ((uint32_t)getpid() << 16);
	if (more_len > sizeof(msg) - sizeof(*req)) {
		rc = -EINVAL;
		goto out;
	}
	/* one message: the request and what follows it */
	memcpy(msg, req, sizeof(*req));
	if (more_len > 0)
		memcpy(msg + sizeof(*req), more, more_len);
	if (LIBC(send)(pn->fd, msg, sizeof(*req) + more_len, MSG_NOSIGNAL) !=
	    (ssize_t)(sizeof(*req) + more_len)) {
		/* pollnet may have turned us away with a reason, then closed:
		 * the reason is still there to read */
		n = LIBC(recv)(pn->fd, rep, sizeof(*rep), MSG_DONTWAIT);
		rc = n == sizeof(*rep) && (rep->seq == req->seq || rep->seq == 0) && rep->status < 0 ?
		     rep->status : -ECONNRESET;
		goto out;
	}
	for (;;) {
		mh.msg_controllen = sizeof(cbuf);
		n = LIBC(recvmsg)(pn->fd, &mh, MSG_CMSG_CLOEXEC);
		if (n < 0 && errno == EINTR)
			continue;
		if (n != sizeof(*rep) || rep->seq == req->seq || rep->seq == 0)
			break;          /* 0: the connection turned away */
		/* the answer to someone else's request (a process that shared
		 * this session after fork() and died waiting for it) */
		close_passed_fds(&mh);
	}
	if (n != sizeof(*rep) || (rep->seq != req->seq && rep->seq != 0)) {
		rc = n == 0 || n < 0 ? -ECONNRESET : -EPROTO;
		goto out;
	}
	for (struct cmsghdr *cm = CMSG_FIRSTHDR(&mh); cm != NULL; cm = CMSG_NXTHDR(&mh, cm)) {
		if (cm->cmsg_level == SOL_SOCKET && cm->cmsg_type == SCM_RIGHTS) {
			size_t k = (cm->cmsg_len - CMSG_LEN(0)) / sizeof(int);

			if (fds != NULL && k <= 3)
				memcpy(fds, CMSG_DATA(cm), k * sizeof(int));
			else    /* not expected: do not leak them */
				for (size_t i = 0; i < k; i++)
					LIBC(close)(((int *)CMSG_DATA(cm))[i]);
		}
	}
	rc = rep->status;
out:
	pthread_mutex_unlock(&pn->lock);
	return rc;
}

int
pollnet_open(struct pollnet **out, const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct pn_ctl_req req = { .op = PN_CTL_HELLO, .version = PN_CTL_VERSION };
	struct pn_ctl_rep rep;
	struct pollnet *pn;
	int fds[3] = { -1, -1, -1 }, rc;
	void *map;

	if (path == NULL)
		path = getenv("POLLNET_CTL");
	if (path == NULL)
		path = PN_CTL_DEFAULT_PATH;
	if (strlen(path) >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	strcpy(sa.sun_path, path);
	pn = calloc(1, sizeof(*pn));
	if (pn == NULL)
		return -ENOMEM;
	pthread_mutex_init(&pn->lock, NULL);
	pn->spin_ns = pn_wait_most(LIB_SPIN_US);
	pn->bell = -1;
	pn->fd = LIBC(socket)(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (pn->fd < 0 || LIBC(connect)(pn->fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		rc = -errno;
		goto fail;
	}
	rc = lib_rpc(pn, &req, &rep, fds);
	if (rc < 0)
		goto fail;
	pn->bell = fds[1];
	rc = -EPROTO;
	if (fds[0] < 0 || fds[1] < 0)
		goto fail;
	map = mmap(NULL, PN_STATE_SIZE, PROT_READ, MAP_SHARED, fds[0], 0);
	if (map == MAP_FAILED) {
		rc = -errno;
		goto fail;
	}
	pn->state = map;
	if (pn->state->magic != PN_STATE_MAGIC || pn->state->version != PN_SHM_VERSION ||
	    pn->state->nb_lcores == 0 || pn->state->nb_lcores > PN_MAX_LCORES) {
		rc = -EPROTONOSUPPORT;
		goto fail;
	}
	LIBC(close)(fds[0]);
	pn->addr = rep.addr;
	*out = pn;
	return 0;
fail:
	if (pn->state != NULL)
		munmap((void *)pn->state, PN_STATE_SIZE);
	if (fds[0] >= 0)
		LIBC(close)(fds[0]);
	if (fds[1] >= 0)
		LIBC(close)(fds[1]);
	if (fds[2] >= 0)
		LIBC(close)(fds[2]);
	if (pn->fd >= 0)
		LIBC(close)(pn->fd);
	pthread_mutex_destroy(&pn->lock);
	free(pn);
	return rc;
}

uint32_t
pollnet_address(const struct pollnet *pn)
{
	return pn->addr;
}

static void
sock_unmap(struct pollnet_socket *s)
{
	if (s->region != NULL)
		munmap(s->region, s->geo.region_size);
	if (s->rx_fd >= 0)
		LIBC(close)(s->rx_fd);
	if (s->tx_fd >= 0)
		LIBC(close)(s->tx_fd);
	free(s);
}

int
pollnet_socket(struct pollnet *pn, struct pollnet_socket **out)
{
	return pn_int_socket(pn, out, 0, 0, 0);
}

int
pollnet_socket_rings(struct pollnet *pn, struct pollnet_socket **out, uint32_t rx_ring,
		     uint32_t tx_ring)
{
	return pn_int_socket(pn, out, 0, rx_ring, tx_ring);
}

int
pn_int_socket(struct pollnet *pn, struct pollnet_socket **out, uint32_t flags,
	      uint32_t rx_ring, uint32_t tx_ring)
{
	struct pn_ctl_req req = { .op = PN_CTL_SOCKET, .arg = flags, .rx_ring = rx_ring,
				  .tx_ring = tx_ring };
	struct pn_ctl_rep rep;
	struct pollnet_socket *s;
	int fds[3] = { -1, -1, -1 }, rc;
	struct stat st;
	void *map;

	s = calloc(1, sizeof(*s));
	if (s == NULL)
		return -ENOMEM;
	s->pn = pn;
	s->rx_fd = s->tx_fd = -1;
	s->timeout_ms = -1;
	s->pmtudisc = IP_PMTUDISC_WANT;         /* Linux's default */
	s->mcf = &s->mc_own;
	rc = lib_rpc(pn, &req, &rep, fds);
	if (rc < 0)
		goto fail;
	s->id = rep.sock_id;
	s->rx_fd = fds[1];
	s->tx_fd = fds[2];
	if (fds[0] < 0 || fds[1] < 0 || fds[2] < 0 || fstat(fds[0], &st) < 0) {
		rc = -EPROTO;
		goto fail_close;
	}
	map = mmap(NULL, (size_t)st.st_size, PROT_READ | PROT_WRITE, MAP_SHARED, fds[0], 0);
	if (map == MAP_FAILED) {
		rc = -errno;
		goto fail_close;
	}
	memcpy(&s->geo, map, sizeof(s->geo));
	if (!pn_shm_layout_ok(&s->geo, (uint64_t)st.st_size) ||
	    s->geo.region_size != (uint64_t)st.st_size) {
		munmap(map, (size_t)st.st_size);
		rc = -EPROTONOSUPPORT;          /* a region this library cannot read */
		goto fail_close;
	}
	LIBC(close)(fds[0]);
	s->region = map;
	s->ctl = pn_shm_ctl(map);
	s->doze = (pn->state->flags & PN_STATE_DOZE) && s->geo.lcore < pn->state->nb_lcores ?
		  &pn->state->doze[s->geo.lcore].v : NULL;
	s->lcore_cpu = s->geo.lcore < pn->state->nb_lcores ?
		       &pn->state->doze[s->geo.lcore].cpu : NULL;
	s->rx_tail = atomic_load(&s->ctl->rx_tail.v);
	s->tx_head = atomic_load(&s->ctl->tx_head.v);
	s->errors_seen = atomic_load(&s->ctl->errors.count);
	s->tx_limit = s->tx_head;
	s->tx_need = 1;
	pthread_mutex_lock(&pn->lock);
	s->next = pn->socks;
	pn->socks = s;
	pthread_mutex_unlock(&pn->lock);
	*out = s;
	return 0;
fail_close:
	if (fds[0] >= 0)
		LIBC(close)(fds[0]);
	{
		struct pn_ctl_req cl = { .op = PN_CTL_CLOSE, .sock_id = s->id };
		struct pn_ctl_rep r;

		lib_rpc(pn, &cl, &r, NULL);
	}
fail:
	sock_unmap(s);
	return rc;
}

int
pollnet_bind(struct pollnet_socket *s, uint16_t port)
{
	return pn_int_bind(s, port, 0);
}

int
pn_int_bind(struct pollnet_socket *s, uint16_t port, uint32_t flags)
{
	struct pn_ctl_req req = { .op = PN_CTL_BIND, .sock_id = s->id, .port = htons(port),
				  .arg = flags };
	struct pn_ctl_rep rep;

	return lib_rpc(s->pn, &req, &rep, NULL);
}

int
pollnet_connect(struct pollnet_socket *s, const struct sockaddr_in *to)
{
	struct pn_ctl_req req = { .op = PN_CTL_CONNECT, .sock_id = s->id,
				  .addr = to->sin_addr.s_addr, .port = to->sin_port };
	struct pn_ctl_rep rep;

	if (to->sin_family != AF_INET)
		return -EAFNOSUPPORT;
	return lib_rpc(s->pn, &req, &rep, NULL);
}

uint16_t
pollnet_local_port(const struct pollnet_socket *s)
{
	return ntohs(lib_lport(s));
}

int
pollnet_close(struct pollnet_socket *s)
{
	struct pn_ctl_req req = { .op = PN_CTL_CLOSE, .sock_id = s->id };
	struct pn_ctl_rep rep;
	struct pollnet *pn = s->pn;
	int rc;

	/* Like a UDP socket, a close does not take back what was sent */
	lib_tx_flush(s);
	rc = lib_rpc(pn, &req, &rep, NULL);
	pn_int_forget(s);               /* off the session's list, unmapped */
	return rc;
}

void
pollnet_session_close(struct pollnet *pn)
{
	while (pn->socks != NULL)
		pollnet_close(pn->socks);
	LIBC(close)(pn->fd);
	LIBC(close)(pn->bell);
	munmap((void *)pn->state, PN_STATE_SIZE);
	pthread_mutex_destroy(&pn->lock);
	free(pn);
}

int
pollnet_set_nonblocking(struct pollnet_socket *s, int on)
{
	s->nonblock = on != 0;
	return 0;
}

int
pollnet_set_timeout(struct pollnet_socket *s, int ms)
{
	s->timeout_ms = ms < 0 ? -1 : ms;
	return 0;
}

void
pn_int_stamp(const struct pollnet *pn, uint64_t tsc, struct timespec *ts)
{
	uint64_t at;
	int64_t real, ns;
	double hz, d;

	if (pn->state == NULL ||
	    pn_shm_clock_read(&pn->state->clock, &at, &real, &hz) < 0 || !(hz > 0)) {
		clock_gettime(CLOCK_REALTIME, ts);      /* no anchor yet: now */
		return;
	}
	d = ((double)tsc - (double)at) * 1e9 / hz;
	ns = real + (d > -1e18 && d < 1e18 ? (int64_t)d : 0);
	ts->tv_sec = ns / 1000000000;
	ts->tv_nsec = ns % 1000000000;
	if (ts->tv_nsec < 0) {
		ts->tv_nsec += 1000000000;
		ts->tv_sec--;
	}
}

int
pollnet_set_tos(struct pollnet_socket *s, int tos)
{
	if (tos < 0 || tos > 255)
		return -EINVAL;
	s->tos = (uint8_t)tos;
	return 0;
}

void
pn_int_set_mc_filter(struct pollnet_socket *s, struct pn_mc_filter *f)
{
	s->mcf = f;
}

int
pollnet_set_pmtudisc(struct pollnet_socket *s, int mode)
{
	if (mode < IP_PMTUDISC_DONT || mode > IP_PMTUDISC_OMIT)
		return -EINVAL;
	s->pmtudisc = (uint8_t)mode;
	return 0;
}

int
pollnet_set_ttl(struct pollnet_socket *s, int ttl)
{
	if (ttl < 0 || ttl > 255)
		return -EINVAL;
	s->ttl = (uint8_t)ttl;
	return 0;
}

int
pollnet_fd(const struct pollnet_socket *s)
{
	return s->rx_fd;
}

/* ---- for pollnet-run (pollnet_int.h) ---- */

void
pn_int_take_wake_fds(struct pollnet_socket *s, int *rx, int *tx)
{
	*rx = s->rx_fd;
	*tx = s->tx_fd;
	s->rx_fd = s->tx_fd = -1;
}

const struct pn_shm_iface *
pn_int_iface(const struct pollnet *pn)
{
	return &pn->state->iface;
}

void
pn_int_private_fds(const struct pollnet *pn, int fds[2])
{
	fds[0] = pn->fd;
	fds[1] = pn->bell;
}

int
pn_int_move_fd(struct pollnet *pn, int old, int fd)
{
	pthread_mutex_lock(&pn->lock);
	if (old == pn->fd)
		pn->fd = fd;
	else if (old == pn->bell)
		atomic_store(&pn->bell, fd);
	else
		old = -1;
	pthread_mutex_unlock(&pn->lock);
	if (old < 0)
		return -EBADF;
	LIBC(close)(old);
	return 0;
}

int
pn_int_disconnect(struct pollnet_socket *s)
{
	struct pn_ctl_req req = { .op = PN_CTL_CONNECT, .sock_id = s->id };
	struct pn_ctl_rep rep;

	if (lib_lport(s) == 0)
		return 0;               /* never bound: nothing to dissolve */
	return lib_rpc(s->pn, &req, &rep, NULL);
}

int
pn_int_peer(const struct pollnet_socket *s, struct sockaddr_in *peer)
{
	*peer = lib_peer(s);
	return peer->sin_port != 0 ? 0 : -ENOTCONN;
}

void
pn_int_rings(const struct pollnet_socket *s, uint32_t *rx, uint32_t *tx)
{
	*rx = s->geo.rx_size;
	*tx = s->geo.tx_size;
}

void
pn_int_refused(struct pollnet_socket *s, const char *what)
{
	struct pn_shm_client *c = &s->ctl->client;
	size_t n = strnlen(what, sizeof(c->last_refused) - 1);

	/* the name first: a reader that sees the new count sees it (or a
	 * later one) */
	memcpy(c->last_refused, what, n);
	c->last_refused[n] = 0;
	atomic_fetch_add_explicit(&c->refused, 1, memory_order_release);
}

void
pn_int_forget(struct pollnet_socket *s)
{
	struct pollnet *pn = s->pn;

	pthread_mutex_lock(&pn->lock);
	for (struct pollnet_socket **p = &pn->socks; *p != NULL; p = &(*p)->next)
		if (*p == s) {
			*p = s->next;
			break;
		}
	pthread_mutex_unlock(&pn->lock);
	sock_unmap(s);
}
