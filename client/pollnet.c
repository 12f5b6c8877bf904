/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * libpollnet: the client side of pollnet's shared-memory sockets.  See
 * pollnet.h for the API and pollnet_shm.h for the region and the rings.
 */
#define _GNU_SOURCE
#include "pollnet.h"

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "pollnet_int.h"
#include "pollnet_shm.h"

#define SPIN_NS 50000                   /* spin this long before sleeping, unless
                                         * POLLNET_SPIN_US says otherwise */

struct pollnet {
	int fd;                         /* control connection */
	uint32_t seq;
	uint32_t addr;                  /* pollnet's IPv4, network order */
	pthread_mutex_t lock;
	struct pollnet_socket *socks;
	uint64_t spin_ns;               /* a waiting call spins this long */
	_Atomic int bell;               /* the doorbell (pollnet_shm.h) */
	const struct pn_shm_state *state;       /* mapped read-only */
};

struct pollnet_socket {
	struct pollnet *pn;
	struct pollnet_socket *next;
	uint32_t id;
	uint8_t *region;
	struct pn_shm_hdr geo;          /* checked at attach */
	struct pn_shm_ctl *ctl;
	const _Atomic uint32_t *doze;   /* our lcore's doze word */
	struct pn_spin spin;            /* how long a wait spins (pollnet_int.h) */
	int efd;
	uint32_t rx_tail;               /* our positions */
	uint32_t rx_avail;              /* datagrams known ready at rx_tail */
	uint32_t rx_lent;               /* borrowed (pollnet_recv_borrow), before
	                                 * rx_tail and not yet given back: the
	                                 * tail pollnet sees is rx_tail - rx_lent */
	uint32_t tx_head;
	uint32_t tx_limit;              /* tx_head may reach this without looking */
	uint32_t errors_seen;           /* pollnet's error count we last reported */
	int nonblock;
	int timeout_ms;
	uint16_t lport;                 /* host order, 0 = unbound */
	int connected;
	struct sockaddr_in peer;
};

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
				close(((int *)CMSG_DATA(cm))[i]);
}

/* One request, one reply (with up to two file descriptors). */
static int
rpc(struct pollnet *pn, struct pn_ctl_req *req, struct pn_ctl_rep *rep, int *fds)
{
	char cbuf[CMSG_SPACE(2 * sizeof(int))];
	struct iovec iov = { .iov_base = rep, .iov_len = sizeof(*rep) };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1,
			     .msg_control = cbuf, .msg_controllen = sizeof(cbuf) };
	ssize_t n;
	int rc = 0;

	pthread_mutex_lock(&pn->lock);
	/* the pid in the number: after fork() two processes may share the
	 * session, each with its own count */
	req->seq = ++pn->seq + ((uint32_t)getpid() << 16);
	if (send(pn->fd, req, sizeof(*req), MSG_NOSIGNAL) != sizeof(*req)) {
		/* pollnet may have turned us away with a reason, then closed:
		 * the reason is still there to read */
		n = recv(pn->fd, rep, sizeof(*rep), MSG_DONTWAIT);
		rc = n == sizeof(*rep) && (rep->seq == req->seq || rep->seq == 0) && rep->status < 0 ?
		     rep->status : -ECONNRESET;
		goto out;
	}
	for (;;) {
		mh.msg_controllen = sizeof(cbuf);
		n = recvmsg(pn->fd, &mh, MSG_CMSG_CLOEXEC);
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

			if (fds != NULL && k <= 2)
				memcpy(fds, CMSG_DATA(cm), k * sizeof(int));
			else    /* not expected: do not leak them */
				for (size_t i = 0; i < k; i++)
					close(((int *)CMSG_DATA(cm))[i]);
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
	int fds[2] = { -1, -1 }, rc;
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
	pn->spin_ns = SPIN_NS;
	{
		const char *v = getenv("POLLNET_SPIN_US");
		char *end;
		unsigned long us;

		if (v != NULL && *v != '\0') {
			errno = 0;
			us = strtoul(v, &end, 10);
			if (*end == '\0' && errno == 0 && us <= 1000000)
				pn->spin_ns = us * 1000u;
		}
	}
	pn->bell = -1;
	pn->fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (pn->fd < 0 || connect(pn->fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		rc = -errno;
		goto fail;
	}
	rc = rpc(pn, &req, &rep, fds);
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
	close(fds[0]);
	pn->addr = rep.addr;
	*out = pn;
	return 0;
fail:
	if (pn->state != NULL)
		munmap((void *)pn->state, PN_STATE_SIZE);
	if (fds[0] >= 0)
		close(fds[0]);
	if (fds[1] >= 0)
		close(fds[1]);
	if (pn->fd >= 0)
		close(pn->fd);
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
	if (s->efd >= 0)
		close(s->efd);
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
	int fds[2] = { -1, -1 }, rc;
	struct stat st;
	void *map;

	s = calloc(1, sizeof(*s));
	if (s == NULL)
		return -ENOMEM;
	s->pn = pn;
	s->efd = -1;
	s->timeout_ms = -1;
	rc = rpc(pn, &req, &rep, fds);
	if (rc < 0)
		goto fail;
	s->id = rep.sock_id;
	s->efd = fds[1];
	if (fds[0] < 0 || fds[1] < 0 || fstat(fds[0], &st) < 0) {
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
	close(fds[0]);
	s->region = map;
	s->ctl = pn_shm_ctl(map);
	s->doze = (pn->state->flags & PN_STATE_DOZE) && s->geo.lcore < pn->state->nb_lcores ?
		  &pn->state->doze[s->geo.lcore].v : NULL;
	s->rx_tail = atomic_load(&s->ctl->rx_tail.v);
	s->tx_head = atomic_load(&s->ctl->tx_head.v);
	s->errors_seen = atomic_load(&s->ctl->errors.count);
	s->tx_limit = s->tx_head;
	pthread_mutex_lock(&pn->lock);
	s->next = pn->socks;
	pn->socks = s;
	pthread_mutex_unlock(&pn->lock);
	*out = s;
	return 0;
fail_close:
	if (fds[0] >= 0)
		close(fds[0]);
	{
		struct pn_ctl_req cl = { .op = PN_CTL_CLOSE, .sock_id = s->id };
		struct pn_ctl_rep r;

		rpc(pn, &cl, &r, NULL);
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
	int rc = rpc(s->pn, &req, &rep, NULL);

	if (rc == 0)
		s->lport = ntohs(rep.port);
	return rc;
}

int
pollnet_connect(struct pollnet_socket *s, const struct sockaddr_in *to)
{
	struct pn_ctl_req req = { .op = PN_CTL_CONNECT, .sock_id = s->id,
				  .addr = to->sin_addr.s_addr, .port = to->sin_port };
	struct pn_ctl_rep rep;
	int rc;

	if (to->sin_family != AF_INET)
		return -EAFNOSUPPORT;
	rc = rpc(s->pn, &req, &rep, NULL);
	if (rc == 0) {
		s->lport = ntohs(rep.port);
		s->peer = *to;
		s->connected = 1;
	}
	return rc;
}

uint16_t
pollnet_local_port(const struct pollnet_socket *s)
{
	return s->lport;
}

static int wait_for(struct pollnet_socket *s, uint32_t bit,
		    int (*ready)(struct pollnet_socket *));

/* pollnet has taken every datagram send() accepted. */
static int
tx_drained(struct pollnet_socket *s)
{
	return atomic_load_explicit(&s->ctl->tx_tail.v, memory_order_acquire) == s->tx_head;
}

int
pollnet_close(struct pollnet_socket *s)
{
	struct pn_ctl_req req = { .op = PN_CTL_CLOSE, .sock_id = s->id };
	struct pn_ctl_rep rep;
	struct pollnet *pn = s->pn;
	int rc;

	/* Like a UDP socket, a close does not take back what was sent: wait
	 * (a second at most) for pollnet to take the datagrams still queued. */
	if (!tx_drained(s)) {
		s->nonblock = 0;
		s->timeout_ms = 1000;
		wait_for(s, PN_WAKE_TX, tx_drained);
	}
	rc = rpc(pn, &req, &rep, NULL);
	pn_int_forget(s);               /* off the session's list, unmapped */
	return rc;
}

void
pollnet_session_close(struct pollnet *pn)
{
	while (pn->socks != NULL)
		pollnet_close(pn->socks);
	close(pn->fd);
	close(pn->bell);
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

int
pollnet_fd(const struct pollnet_socket *s)
{
	return s->efd;
}

/* ---- waiting ---- */

static uint64_t
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static inline void
cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
	__builtin_ia32_pause();
#endif
}

/* An error pollnet posted since we last looked (an ICMP port unreachable
 * for a connected socket): once, as a negative errno; else 0. */
static int
take_error(struct pollnet_socket *s)
{
	uint32_t n = atomic_load_explicit(&s->ctl->errors.count, memory_order_acquire);
	int err;

	if (n == s->errors_seen)
		return 0;
	s->errors_seen = n;
	err = atomic_load_explicit(&s->ctl->errors.err, memory_order_relaxed);
	return err > 0 && err < 4096 ? -err : -EIO;
}

static int
error_pending(const struct pollnet_socket *s)
{
	return atomic_load_explicit(&s->ctl->errors.count, memory_order_acquire) != s->errors_seen;
}

/* Look at pollnet's head (a cache line it writes) only when what we knew
 * of is used up. */
static int
rx_ready(struct pollnet_socket *s)
{
	if (s->rx_avail == 0) {
		uint32_t n = pn_ring_ready(&s->ctl->rx_head.v, s->rx_tail);

		s->rx_avail = n <= s->geo.rx_size ? n : 0;  /* nonsense reads as empty */
	}
	return s->rx_avail != 0 || error_pending(s);
}

static int
tx_room(struct pollnet_socket *s)
{
	uint32_t used = pn_ring_used(s->tx_head, &s->ctl->tx_tail.v);

	if (used > s->geo.tx_size)
		return 0;               /* cannot be: pollnet keeps tail <= head */
	s->tx_limit = s->tx_head + (s->geo.tx_size - used);
	return used < s->geo.tx_size;
}

/* Copy a datagram into the next TX slot (there is room) and advance our
 * head; the caller publishes it. */
static size_t
tx_fill(struct pollnet_socket *s, const struct iovec *iov, int iovcnt,
	const struct sockaddr_in *to)
{
	uint8_t *slot = pn_shm_slot(s->region, s->geo.tx_slot_off, s->geo.tx_size, s->tx_head);
	struct pn_desc *d;
	size_t len = 0;

	for (int i = 0; i < iovcnt; i++) {
		memcpy(slot + len, iov[i].iov_base, iov[i].iov_len);
		len += iov[i].iov_len;
	}
	d = pn_shm_desc(s->region, s->geo.tx_desc_off, s->geo.tx_size, s->tx_head);
	d->len = (uint32_t)len;
	d->addr = to->sin_addr.s_addr;
	d->port = to->sin_port;
	d->flags = 0;
	s->tx_head++;
	return len;
}

/* Hand pollnet what tx_fill wrote; if the socket's lcore sleeps on its
 * interrupt, ring the doorbell (the protocol: pollnet_shm.h). */
static void
tx_publish(struct pollnet_socket *s)
{
	const uint64_t one = 1;

	pn_ring_publish(&s->ctl->tx_head.v, s->tx_head);
	if (s->doze == NULL)
		return;                 /* no lcore of this pollnet dozes */
	atomic_thread_fence(memory_order_seq_cst);
	if (atomic_load_explicit(s->doze, memory_order_relaxed) != 0 &&
	    write(atomic_load_explicit(&s->pn->bell, memory_order_relaxed), &one,
		  sizeof(one)) < 0) {
		/* full: it rings already */
	}
}

/* The sender a receive descriptor names. */
static void
desc_from(const struct pn_desc *d, struct sockaddr_in *from)
{
	memset(from, 0, sizeof(*from));
	from->sin_family = AF_INET;
	from->sin_addr.s_addr = d->addr;
	from->sin_port = d->port;
}

/* Copy the datagram at our RX tail out (there is one); nothing moves. */
static size_t
rx_copy(struct pollnet_socket *s, const struct iovec *iov, int iovcnt,
	struct sockaddr_in *from, size_t *full)
{
	const struct pn_desc *d = pn_shm_desc(s->region, s->geo.rx_desc_off, s->geo.rx_size,
					      s->rx_tail);
	const uint8_t *slot = pn_shm_slot(s->region, s->geo.rx_slot_off, s->geo.rx_size,
					  s->rx_tail);
	uint32_t dlen = d->len > s->geo.slot_size ? s->geo.slot_size : d->len;
	uint32_t flags = d->flags;
	size_t done = 0;

	for (int i = 0; i < iovcnt && done < dlen; i++) {
		size_t k = iov[i].iov_len < dlen - done ? iov[i].iov_len : dlen - done;

		memcpy(iov[i].iov_base, slot + done, k);
		done += k;
	}
	if (from != NULL)
		desc_from(d, from);
	/* pollnet cut it (it did not fit a slot): the length is unknown,
	 * but more than the slot; say so with one byte more */
	*full = (flags & PN_DESC_TRUNC) ? (size_t)dlen + 1 : dlen;
	return done;
}

/* Ask to be woken for `bit`: true if the condition already holds. */
static int
arm(struct pollnet_socket *s, uint32_t bit, int (*ready)(struct pollnet_socket *))
{
	atomic_fetch_or_explicit(&s->ctl->wake.v, bit, memory_order_relaxed);
	/* our wish, then their positions: paired with pollnet's publish,
	 * fence, then its look at `wake` */
	atomic_thread_fence(memory_order_seq_cst);
	return ready(s);
}

/*
 * Wait until ready(s): spin for a while (the common case: pollnet's lcore
 * answers in microseconds), then sleep on the eventfd.  How long we spin is
 * learnt from the waits before (pollnet_int.h), up to POLLNET_SPIN_US.
 * While spinning we yield the CPU now and then: on a core of our own that
 * returns at once, and on a shared one it is meant to let the process we
 * are waiting for run (on this project's 2-core host it did not hand the
 * core to a freshly woken peer: docs/PERFORMANCE.md, the round trip beside
 * the generator).  While asleep we also watch the control connection: if pollnet
 * goes away, we say so.
 */
static int
wait_for(struct pollnet_socket *s, uint32_t bit, int (*ready)(struct pollnet_socket *))
{
	const uint64_t max = s->pn->spin_ns;
	uint64_t t0 = now_ns(), budget = pn_spin_budget(&s->spin, max), deadline, now;

	if (s->nonblock) {
		arm(s, bit, ready);     /* so that pollnet_fd() wakes a poller */
		return ready(s) ? 0 : -EAGAIN;
	}
	for (unsigned i = 1;; i++) {
		if (ready(s)) {
			pn_spin_learn(&s->spin, max, 0, 0);
			return 0;
		}
		cpu_relax();
		if ((i & 1) == 0) {
			if (now_ns() - t0 > budget)
				break;
			sched_yield();
		}
	}
	deadline = s->timeout_ms < 0 ? UINT64_MAX : t0 + (uint64_t)s->timeout_ms * 1000000u;
	for (;;) {
		struct pollfd p[2] = { { .fd = s->efd, .events = POLLIN },
				       { .fd = s->pn->fd, .events = 0 } };
		int ms, r;

		if (arm(s, bit, ready)) {
			/* no need to be woken after all (a wake already on its
			 * way only makes a later wait look once more) */
			atomic_fetch_and_explicit(&s->ctl->wake.v, ~bit, memory_order_relaxed);
			pn_spin_learn(&s->spin, max, now_ns() - t0, 1);
			return 0;
		}
		now = now_ns();
		if (now >= deadline) {
			pn_spin_learn(&s->spin, max, now - t0, 1);
			return -ETIMEDOUT;
		}
		ms = deadline == UINT64_MAX ? -1 :
		     (int)((deadline - now + 999999u) / 1000000u);
		r = poll(p, 2, ms);
		if (r < 0 && errno != EINTR)
			return -errno;
		if (r > 0 && (p[1].revents & (POLLHUP | POLLERR)))
			return -ECONNRESET;
		if (r > 0 && (p[0].revents & POLLIN)) {
			uint64_t v;

			if (read(s->efd, &v, sizeof(v)) < 0 && errno != EAGAIN)
				return -errno;
		}
	}
}

/* ---- the data path ---- */

ssize_t
pollnet_sendto(struct pollnet_socket *s, const void *buf, size_t len,
	       const struct sockaddr_in *to)
{
	struct iovec iov = { .iov_base = (void *)buf, .iov_len = len };

	if (len > PN_MAX_DATAGRAM)
		return -EMSGSIZE;
	if (to != NULL &&
	    (to->sin_family != AF_INET || to->sin_addr.s_addr == 0 || to->sin_port == 0))
		return -EINVAL;
	for (;;) {
		ssize_t rc = pn_int_send(s, &iov, 1, to);

		if (rc != -EAGAIN)
			return rc;
		rc = wait_for(s, PN_WAKE_TX, tx_room);
		if (rc < 0)
			return rc;
	}
}

ssize_t
pollnet_send(struct pollnet_socket *s, const void *buf, size_t len)
{
	return pollnet_sendto(s, buf, len, NULL);
}

ssize_t
pollnet_recvfrom(struct pollnet_socket *s, void *buf, size_t len,
		 struct sockaddr_in *from, int *flags)
{
	struct iovec iov = { .iov_base = buf, .iov_len = len };

	for (;;) {
		size_t full;
		ssize_t rc = pn_int_recv(s, &iov, 1, from, 0, &full);

		if (rc >= 0 && flags != NULL)
			*flags = full > (size_t)rc ? POLLNET_TRUNC : 0;
		if (rc != -EAGAIN)
			return rc;
		rc = wait_for(s, PN_WAKE_RX, rx_ready);
		if (rc < 0)
			return rc;
	}
}

/* Wait, as a receive does, until a datagram is there (0) or a pending
 * error or the wait's end says otherwise (a negative errno). */
static int
rx_wait_first(struct pollnet_socket *s)
{
	for (;;) {
		int rc;

		if (rx_ready(s)) {
			rc = take_error(s);
			if (rc < 0)
				return rc;
			if (s->rx_avail > 0)
				return 0;
		}
		rc = wait_for(s, PN_WAKE_RX, rx_ready);
		if (rc < 0)
			return rc;
	}
}

int
pollnet_recvmmsg(struct pollnet_socket *s, struct pollnet_msg *msgs, unsigned count)
{
	unsigned got = 0;
	int rc;

	if (count == 0)
		return 0;
	rc = rx_wait_first(s);
	if (rc < 0)
		return rc;
	/* take what the ring holds, up to count, then hand the slots back
	 * once */
	do {
		struct pollnet_msg *m = &msgs[got];
		size_t full, k;

		k = rx_copy(s, &(struct iovec){ m->buf, m->len }, 1, &m->addr, &full);
		m->flags = full > k ? POLLNET_TRUNC : 0;
		m->n = k;
		s->rx_avail--;
		s->rx_tail++;
		got++;
		if (s->rx_avail == 0)
			rx_ready(s);
	} while (got < count && s->rx_avail > 0);
	pn_ring_publish(&s->ctl->rx_tail.v, s->rx_tail - s->rx_lent);
	return (int)got;
}

int
pollnet_recv_borrow(struct pollnet_socket *s, struct pollnet_view *views, unsigned count)
{
	unsigned got = 0;
	int rc;

	if (count == 0)
		return 0;
	rc = rx_wait_first(s);
	if (rc < 0)
		return rc;
	/* nothing is published: the slots stay ours until released */
	do {
		const struct pn_desc *d = pn_shm_desc(s->region, s->geo.rx_desc_off,
						      s->geo.rx_size, s->rx_tail);
		struct pollnet_view *v = &views[got];

		v->buf = pn_shm_slot(s->region, s->geo.rx_slot_off, s->geo.rx_size, s->rx_tail);
		v->n = d->len > s->geo.slot_size ? s->geo.slot_size : d->len;
		v->flags = (d->flags & PN_DESC_TRUNC) ? POLLNET_TRUNC : 0;
		desc_from(d, &v->addr);
		s->rx_avail--;
		s->rx_tail++;
		s->rx_lent++;
		got++;
		if (s->rx_avail == 0)
			rx_ready(s);
	} while (got < count && s->rx_avail > 0);
	return (int)got;
}

int
pollnet_recv_release(struct pollnet_socket *s, unsigned n)
{
	if (n > s->rx_lent)
		return -EINVAL;
	s->rx_lent -= n;
	pn_ring_publish(&s->ctl->rx_tail.v, s->rx_tail - s->rx_lent);
	return 0;
}

static int
msg_sendable(const struct pollnet_socket *s, const struct pollnet_msg *m)
{
	if (m->len > PN_MAX_DATAGRAM)
		return -EMSGSIZE;
	if (m->addr.sin_family == 0)
		return s->connected ? 0 : -EDESTADDRREQ;
	if (m->addr.sin_family != AF_INET || m->addr.sin_addr.s_addr == 0 ||
	    m->addr.sin_port == 0)
		return -EINVAL;
	return 0;
}

int
pollnet_sendmmsg(struct pollnet_socket *s, struct pollnet_msg *msgs, unsigned count)
{
	unsigned sent = 0;
	int rc;

	if (count == 0)
		return 0;
	rc = msg_sendable(s, &msgs[0]);
	if (rc < 0)
		return rc;
	for (;;) {
		/* the first the ordinary way: bind, errors, room, wait */
		ssize_t r = pn_int_send(s, &(struct iovec){ msgs[0].buf, msgs[0].len }, 1,
					msgs[0].addr.sin_family ? &msgs[0].addr : NULL);

		if (r >= 0)
			break;
		if (r != -EAGAIN)
			return (int)r;
		r = wait_for(s, PN_WAKE_TX, tx_room);
		if (r < 0)
			return (int)r;
	}
	for (sent = 1; sent < count; sent++) {
		const struct pollnet_msg *m = &msgs[sent];

		if (msg_sendable(s, m) < 0 ||
		    (s->tx_head == s->tx_limit && !tx_room(s)))
			break;
		tx_fill(s, &(struct iovec){ m->buf, m->len }, 1,
			m->addr.sin_family ? &m->addr : &s->peer);
	}
	if (sent > 1)
		tx_publish(s);
	return (int)sent;
}

ssize_t
pollnet_recv(struct pollnet_socket *s, void *buf, size_t len, int *flags)
{
	return pollnet_recvfrom(s, buf, len, NULL, flags);
}

/* ---- for the preload shim (pollnet_int.h): never blocks ---- */

int
pn_int_take_wake_fd(struct pollnet_socket *s)
{
	int fd = s->efd;

	s->efd = -1;
	return fd;
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
	close(old);
	return 0;
}

int
pn_int_tx_pending(struct pollnet_socket *s)
{
	return !tx_drained(s);
}

unsigned
pn_int_ready(struct pollnet_socket *s)
{
	unsigned r = 0;

	if (rx_ready(s))
		r |= PN_READY_RX;
	if (s->tx_head != s->tx_limit || tx_room(s))
		r |= PN_READY_TX;
	if (error_pending(s))
		r |= PN_READY_ERR;
	return r;
}

unsigned
pn_int_arm(struct pollnet_socket *s, unsigned wake_bits)
{
	atomic_fetch_or_explicit(&s->ctl->wake.v, wake_bits, memory_order_relaxed);
	atomic_thread_fence(memory_order_seq_cst);
	s->rx_avail = 0;                /* look at pollnet's head again */
	return pn_int_ready(s);
}

void
pn_int_resync(struct pollnet_socket *s)
{
	s->rx_tail = atomic_load_explicit(&s->ctl->rx_tail.v, memory_order_acquire);
	s->rx_avail = 0;
	s->rx_lent = 0;
	s->tx_head = atomic_load_explicit(&s->ctl->tx_head.v, memory_order_acquire);
	s->tx_limit = s->tx_head;
}

int
pn_int_take_error(struct pollnet_socket *s)
{
	return take_error(s);
}

size_t
pn_int_next_len(struct pollnet_socket *s)
{
	const struct pn_desc *d;

	if (!rx_ready(s) || s->rx_avail == 0)
		return 0;
	d = pn_shm_desc(s->region, s->geo.rx_desc_off, s->geo.rx_size, s->rx_tail);
	return d->len > s->geo.slot_size ? s->geo.slot_size : d->len;
}

ssize_t
pn_int_recv(struct pollnet_socket *s, const struct iovec *iov, int iovcnt,
	    struct sockaddr_in *from, int peek, size_t *full)
{
	size_t done;
	int rc;

	if (!rx_ready(s))
		return -EAGAIN;
	rc = take_error(s);
	if (rc < 0)
		return rc;
	if (s->rx_avail == 0)
		return -EAGAIN;
	done = rx_copy(s, iov, iovcnt, from, full);
	if (!peek) {
		s->rx_avail--;
		pn_ring_publish(&s->ctl->rx_tail.v, ++s->rx_tail - s->rx_lent);
	}
	return (ssize_t)done;
}

ssize_t
pn_int_send(struct pollnet_socket *s, const struct iovec *iov, int iovcnt,
	    const struct sockaddr_in *to)
{
	size_t len = 0;
	int rc;

	for (int i = 0; i < iovcnt; i++) {
		if (iov[i].iov_len > PN_MAX_DATAGRAM)
			return -EMSGSIZE;
		len += iov[i].iov_len;
	}
	if (len > PN_MAX_DATAGRAM)
		return -EMSGSIZE;
	if (to == NULL) {
		if (!s->connected)
			return -EDESTADDRREQ;
		to = &s->peer;
	}
	if (s->lport == 0) {
		rc = pollnet_bind(s, 0);
		if (rc < 0)
			return rc;
	}
	rc = take_error(s);
	if (rc < 0)
		return rc;
	if (s->tx_head == s->tx_limit && !tx_room(s))
		return -EAGAIN;
	len = tx_fill(s, iov, iovcnt, to);
	tx_publish(s);
	return (ssize_t)len;
}

int
pn_int_disconnect(struct pollnet_socket *s)
{
	struct pn_ctl_req req = { .op = PN_CTL_CONNECT, .sock_id = s->id };
	struct pn_ctl_rep rep;
	int rc;

	if (!s->connected)
		return 0;
	rc = rpc(s->pn, &req, &rep, NULL);
	if (rc == 0) {
		s->connected = 0;
		memset(&s->peer, 0, sizeof(s->peer));
	}
	return rc;
}

int
pn_int_peer(const struct pollnet_socket *s, struct sockaddr_in *peer)
{
	if (!s->connected)
		return -ENOTCONN;
	*peer = s->peer;
	return 0;
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
