/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * libpollnet's data path: a socket's rings in its shared-memory region
 * (abi/pn_region.h), sending, receiving and waiting.  No system call unless
 * a call has to sleep (or the socket's lcore dozes: its doorbell).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <sched.h>
#include <string.h>
#include <unistd.h>

#include "lib.h"
#include "libc.h"
#include "pollnet_int.h"

/* ---- waiting ---- */

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

/* The next datagram's descriptor at our RX tail (rx_avail says there is
 * one), past a pad (abi/pn_region.h, Large datagrams), whose positions are
 * then ours to give back; NULL if the descriptor is nonsense (pollnet
 * writes none: the program scribbled over its own region), after which
 * the caller steps over one position (rx_skip), so that a receive always
 * ends. */
static const struct pn_desc *
rx_desc(struct pollnet_socket *s)
{
	const uint32_t size = s->geo.rx_size;
	const struct pn_desc *d = pn_shm_desc(s->region, s->geo.rx_desc_off, size, s->rx_tail);

	if (d->flags & PN_DESC_PAD) {
		uint32_t k = size - (s->rx_tail & (size - 1));

		if (k >= s->rx_avail)
			return NULL;
		s->rx_tail += k;
		s->rx_avail -= k;
		d = pn_shm_desc(s->region, s->geo.rx_desc_off, size, s->rx_tail);
	}
	if (d->len > PN_MAX_DATAGRAM || pn_desc_slots(d->len, s->geo.slot_size) > s->rx_avail)
		return NULL;
	return d;
}

/* Step over one position of nonsense (rx_desc). */
static void
rx_skip(struct pollnet_socket *s)
{
	s->rx_avail--;
	s->rx_tail++;
}

/* The RX tail pollnet may see: what we have taken, but what is lent. */
static uint32_t
rx_pub(const struct pollnet_socket *s)
{
	return s->rx_lent != 0 ? s->rx_hold : s->rx_tail;
}

/* The positions the datagram at our RX tail takes. */
static uint32_t
rx_slots(const struct pollnet_socket *s, const struct pn_desc *d)
{
	return pn_desc_slots(d->len, s->geo.slot_size);
}

/* Room in the send ring for tx_need positions (a datagram and the pad
 * before it)? */
static int
tx_room(struct pollnet_socket *s)
{
	uint32_t used = pn_ring_used(s->tx_head, &s->ctl->tx_tail.v);

	if (used > s->geo.tx_size)
		return 0;               /* cannot be: pollnet keeps tail <= head */
	s->tx_limit = s->tx_head + (s->geo.tx_size - used);
	return s->geo.tx_size - used >= s->tx_need;
}

/* The positions a datagram of len bytes takes at our TX head, its pad
 * included. */
static uint32_t
tx_positions(const struct pollnet_socket *s, size_t len)
{
	const uint32_t size = s->geo.tx_size, off = s->tx_head & (size - 1);
	const uint32_t n = pn_desc_slots((uint32_t)len, s->geo.slot_size);

	return off + n > size ? size - off + n : n;
}

/* Does IP_MTU_DISCOVER's mode refuse what does not fit the MTU (Linux's
 * ip_sk_ignore_df false), and does it keep DF off? */
static inline int
pmtu_strict(uint8_t mode)
{
	return mode == IP_PMTUDISC_DO || mode == IP_PMTUDISC_PROBE ||
	       mode == IP_PMTUDISC_INTERFACE;
}

static inline int
pmtu_nodf(uint8_t mode)
{
	return mode == IP_PMTUDISC_DONT || mode == IP_PMTUDISC_INTERFACE ||
	       mode == IP_PMTUDISC_OMIT;
}

/* May a datagram of len bytes go to `to`?  Any length up to UDP's (to a
 * local address slot to slot, to another host in fragments) but what a
 * strict IP_MTU_DISCOVER mode refuses above the MTU; and never more than
 * half the send ring (abi/pn_region.h: what a ring of 2n positions always
 * takes). */
static int
len_ok(const struct pollnet_socket *s, size_t len, const struct sockaddr_in *to,
       uint8_t pmtudisc)
{
	const uint32_t a = to->sin_addr.s_addr;
	const uint32_t mtu = s->pn->state != NULL ? s->pn->state->iface.mtu : 1500;

	if (len > PN_MAX_DATAGRAM ||
	    2 * pn_desc_slots((uint32_t)len, s->geo.slot_size) > s->geo.tx_size)
		return -EMSGSIZE;
	if (len > mtu - 28 && pmtu_strict(pmtudisc) && (ntohl(a) >> 24) != 127 &&
	    a != s->pn->addr)
		return -EMSGSIZE;
	return 0;
}

/* Copy a datagram into the next TX slot (there is room) and advance our
 * head; the caller publishes it. */
static size_t
tx_fill(struct pollnet_socket *s, const struct iovec *iov, int iovcnt,
	const struct sockaddr_in *to, const struct pn_ip *ip)
{
	const uint32_t size = s->geo.tx_size, off = s->tx_head & (size - 1);
	uint8_t *slot;
	struct pn_desc *d;
	size_t len = 0;

	for (int i = 0; i < iovcnt; i++)
		len += iov[i].iov_len;
	if (off + pn_desc_slots((uint32_t)len, s->geo.slot_size) > size) {
		/* it would wrap: a pad to the ring's end, it at slot 0 */
		d = pn_shm_desc(s->region, s->geo.tx_desc_off, size, s->tx_head);
		d->len = 0;
		d->flags = PN_DESC_PAD;
		s->tx_head += size - off;
	}
	slot = pn_shm_slot(s->region, s->geo.tx_slot_off, size, s->tx_head);
	len = 0;
	for (int i = 0; i < iovcnt; i++) {
		memcpy(slot + len, iov[i].iov_base, iov[i].iov_len);
		len += iov[i].iov_len;
	}
	d = pn_shm_desc(s->region, s->geo.tx_desc_off, s->geo.tx_size, s->tx_head);
	d->len = (uint32_t)len;
	d->addr = to->sin_addr.s_addr;
	d->port = to->sin_port;
	d->flags = (pmtu_nodf(ip != NULL ? ip->pmtudisc : s->pmtudisc) ? PN_DESC_NODF : 0) |
		   (ip != NULL && ip->noloop ? PN_DESC_NOLOOP : 0);
	d->local = ip != NULL ? ip->local : 0;
	d->tos = ip != NULL ? ip->tos : s->tos;
	/* (to a group, the kernel's IP_MULTICAST_TTL default: this link) */
	d->ttl = ip != NULL ? ip->ttl : (ntohl(to->sin_addr.s_addr) >> 28) == 0xe ? 1 : s->ttl;
	s->tx_head += pn_desc_slots((uint32_t)len, s->geo.slot_size);
	s->tx_need = 1;                 /* room, for poll, is a slot again */
	return len;
}

/* Hand pollnet what tx_fill wrote; if the socket's lcore sleeps on its
 * interrupt, ring the doorbell (the protocol: abi/pn_region.h). */
static void
tx_publish(struct pollnet_socket *s)
{
	const uint64_t one = 1;

	pn_ring_publish(&s->ctl->tx_head.v, s->tx_head);
	if (s->doze == NULL)
		return;                 /* no lcore of this pollnet dozes */
	atomic_thread_fence(memory_order_seq_cst);
	if (atomic_load_explicit(s->doze, memory_order_relaxed) != 0 &&
	    LIBC(write)(atomic_load_explicit(&s->pn->bell, memory_order_relaxed), &one,
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

/* What the descriptor says of its IP header. */
static void
desc_ip(const struct pn_desc *d, struct pn_ip *ip)
{
	ip->local = d->local;
	ip->tos = d->tos;
	ip->ttl = d->ttl;
	ip->stamp = d->stamp;
}

/* Copy the datagram d at our RX tail out; nothing moves. */
static size_t
rx_copy(struct pollnet_socket *s, const struct pn_desc *d, const struct iovec *iov,
	int iovcnt, struct sockaddr_in *from, size_t *full, struct pn_ip *ip)
{
	const uint8_t *slot = pn_shm_slot(s->region, s->geo.rx_slot_off, s->geo.rx_size,
					  s->rx_tail);
	uint32_t dlen = d->len;
	uint32_t flags = d->flags;
	size_t done = 0;

	for (int i = 0; i < iovcnt && done < dlen; i++) {
		size_t k = iov[i].iov_len < dlen - done ? iov[i].iov_len : dlen - done;

		memcpy(iov[i].iov_base, slot + done, k);
		done += k;
	}
	if (from != NULL)
		desc_from(d, from);
	if (ip != NULL)
		desc_ip(d, ip);
	/* pollnet cut it (longer than UDP's longest): the length is
	 * unknown, but more; say so with one byte more */
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

struct cond {
	struct pollnet_socket *s;
	int (*ready)(struct pollnet_socket *);
};

static int
cond_holds(void *arg)
{
	const struct cond *c = arg;

	return c->ready(c->s);
}

/* Consume the wake-up messages queued on fd: we are about to look again. */
static void
drain(int fd)
{
	char b[64];

	while (LIBC(recv)(fd, b, sizeof(b), MSG_DONTWAIT) > 0)
		;
}

/*
 * Wait until ready(s): spin (wait.h), then sleep on the wake pair of the
 * direction waited for (abi/pn_region.h: a thread sending never takes the
 * wake-up of one receiving).  While asleep we also watch the control
 * connection: if pollnet goes away, we say so.
 */
static int
wait_for(struct pollnet_socket *s, uint32_t bit, int (*ready)(struct pollnet_socket *))
{
	const uint64_t most = s->pn->spin_ns;
	const int fd = bit == PN_WAKE_RX ? s->rx_fd : s->tx_fd;
	struct cond c = { s, ready };
	uint64_t t0, deadline, now;
	const int here = pn_int_waits_here(s);  /* our lcore runs here too */

	if (s->nonblock) {
		/* so that pollnet_fd() wakes a poller: consume the wake-ups it
		 * had (they said "look again", and we looked), then arm.  With
		 * our bit still set pollnet has sent none since we last armed:
		 * no system call */
		if (ready(s))
			return 0;
		if (!(atomic_load_explicit(&s->ctl->wake.v, memory_order_relaxed) & bit))
			drain(fd);
		return arm(s, bit, ready) ? 0 : -EAGAIN;
	}
	if (here)
		t0 = pn_now_ns();       /* no spin: it would keep the lcore out */
	else if (pn_wait_spin(&s->spin, most, cond_holds, &c, &t0))
		return 0;
	deadline = s->timeout_ms < 0 ? UINT64_MAX : t0 + (uint64_t)s->timeout_ms * 1000000u;
	for (;;) {
		struct pollfd p[2] = { { .fd = fd, .events = POLLIN },
				       { .fd = s->pn->fd, .events = 0 } };
		int ms, r;

		drain(fd);
		if (arm(s, bit, ready)) {
			/* no need to be woken after all (a wake already on its
			 * way only makes a later wait look once more) */
			atomic_fetch_and_explicit(&s->ctl->wake.v, ~bit, memory_order_relaxed);
			if (!here)
				pn_wait_slept(&s->spin, most, t0);
			return 0;
		}
		now = pn_now_ns();
		if (now >= deadline) {
			if (!here)
				pn_wait_slept(&s->spin, most, t0);
			return -ETIMEDOUT;
		}
		ms = deadline == UINT64_MAX ? -1 :
		     (int)((deadline - now + 999999u) / 1000000u);
		r = LIBC(poll)(p, 2, ms);
		if (r < 0 && errno != EINTR)
			return -errno;
		if (r > 0 && ((p[0].revents | p[1].revents) & (POLLHUP | POLLERR)))
			return -ECONNRESET;
	}
}

/* pollnet has taken every datagram send() accepted. */
static int
tx_drained(struct pollnet_socket *s)
{
	return atomic_load_explicit(&s->ctl->tx_tail.v, memory_order_acquire) == s->tx_head;
}

void
lib_tx_flush(struct pollnet_socket *s)
{
	if (!tx_drained(s)) {
		s->nonblock = 0;
		s->timeout_ms = 1000;
		wait_for(s, PN_WAKE_TX, tx_drained);
	}
}

/* ---- the data path ---- */

ssize_t
pollnet_sendto(struct pollnet_socket *s, const void *buf, size_t len,
	       const struct sockaddr_in *to)
{
	struct iovec iov = { .iov_base = (void *)buf, .iov_len = len };

	if (to != NULL &&
	    (to->sin_family != AF_INET || to->sin_addr.s_addr == 0 || to->sin_port == 0))
		return -EINVAL;
	for (;;) {
		ssize_t rc = pn_int_send(s, &iov, 1, to, NULL);

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
	return pollnet_recvfrom_info(s, buf, len, from, flags, NULL);
}

ssize_t
pollnet_recvfrom_info(struct pollnet_socket *s, void *buf, size_t len,
		      struct sockaddr_in *from, int *flags, struct pollnet_info *info)
{
	struct iovec iov = { .iov_base = buf, .iov_len = len };

	for (;;) {
		size_t full;
		struct pn_ip ip;
		ssize_t rc = pn_int_recv(s, &iov, 1, from, 0, &full, 0, NULL,
					 info != NULL ? &ip : NULL);

		if (rc >= 0 && flags != NULL)
			*flags = full > (size_t)rc ? POLLNET_TRUNC : 0;
		if (rc >= 0 && info != NULL) {
			info->dst.s_addr = ip.local;
			info->tos = ip.tos;
			info->ttl = ip.ttl;
			pn_int_stamp(s->pn, ip.stamp, &info->stamp);
		}
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

/* Take what the ring holds, up to count (there is one at our tail): each
 * datagram to take(s, i, arg), then past it.  How many. */
static unsigned
rx_batch(struct pollnet_socket *s, unsigned count,
	 void (*take)(struct pollnet_socket *, const struct pn_desc *, unsigned, void *),
	 void *arg)
{
	unsigned got = 0;

	do {
		const struct pn_desc *d = rx_desc(s);
		uint32_t n;

		if (d == NULL) {
			if (s->rx_avail > 0)
				rx_skip(s);
			continue;
		}
		n = rx_slots(s, d);
		take(s, d, got++, arg);
		s->rx_avail -= n;
		s->rx_tail += n;
		if (s->rx_avail == 0)
			rx_ready(s);
	} while (got < count && s->rx_avail > 0);
	return got;
}

static void
take_copy(struct pollnet_socket *s, const struct pn_desc *d, unsigned i, void *arg)
{
	struct pollnet_msg *m = (struct pollnet_msg *)arg + i;
	size_t full;

	m->n = rx_copy(s, d, &(struct iovec){ m->buf, m->len }, 1, &m->addr, &full, NULL);
	m->flags = full > m->n ? POLLNET_TRUNC : 0;
}

int
pollnet_recvmmsg(struct pollnet_socket *s, struct pollnet_msg *msgs, unsigned count)
{
	int rc = 0;

	/* (none taken: the ring held only nonsense, stepped over; wait again) */
	while (count != 0 && rc == 0) {
		rc = rx_wait_first(s);
		if (rc < 0)
			return rc;
		rc = (int)rx_batch(s, count, take_copy, msgs);
		/* the slots back once, for the whole batch */
		pn_ring_publish(&s->ctl->rx_tail.v, rx_pub(s));
	}
	return rc;
}

static void
take_view(struct pollnet_socket *s, const struct pn_desc *d, unsigned i, void *arg)
{
	struct pollnet_view *v = (struct pollnet_view *)arg + i;

	v->buf = pn_shm_slot(s->region, s->geo.rx_slot_off, s->geo.rx_size, s->rx_tail);
	v->n = d->len;
	v->flags = (d->flags & PN_DESC_TRUNC) ? POLLNET_TRUNC : 0;
	desc_from(d, &v->addr);
	/* marked, so that a release tells it from one a copying receive took
	 * in between (the descriptor is ours until its position goes back) */
	((struct pn_desc *)d)->flags |= PN_DESC_LENT;
	if (s->rx_lent++ == 0)
		s->rx_hold = s->rx_tail;
}

int
pollnet_recv_borrow(struct pollnet_socket *s, struct pollnet_view *views, unsigned count)
{
	int rc = 0;

	while (count != 0 && rc == 0) {
		rc = rx_wait_first(s);
		if (rc < 0)
			return rc;
		/* nothing is published: the slots stay ours until released */
		rc = (int)rx_batch(s, count, take_view, views);
	}
	return rc;
}

int
pollnet_recv_release(struct pollnet_socket *s, unsigned n)
{
	const uint32_t size = s->geo.rx_size;
	uint32_t pos = s->rx_hold, left = n;

	if (n > s->rx_lent)
		return -EINVAL;
	/* from the oldest lent: the n lent ones go back, and with them what a
	 * copying receive took and the pads, up to the next one still lent */
	while ((int32_t)(s->rx_tail - pos) > 0) {
		struct pn_desc *d = pn_shm_desc(s->region, s->geo.rx_desc_off, size, pos);

		if (d->flags & PN_DESC_PAD) {
			pos += size - (pos & (size - 1));
			continue;
		}
		if (d->flags & PN_DESC_LENT) {
			if (left == 0)
				break;
			d->flags &= (uint16_t)~PN_DESC_LENT;
			left--;
		}
		pos += rx_slots(s, d);
	}
	if ((int32_t)(pos - s->rx_tail) > 0)
		pos = s->rx_tail;       /* (descriptors the program scribbled on) */
	s->rx_lent -= n;
	s->rx_hold = pos;
	pn_ring_publish(&s->ctl->rx_tail.v, rx_pub(s));
	return 0;
}

static int
msg_sendable(const struct pollnet_socket *s, const struct pollnet_msg *m)
{
	struct sockaddr_in peer;

	if (m->addr.sin_family == 0) {
		peer = lib_peer(s);
		return peer.sin_port == 0 ? -EDESTADDRREQ : len_ok(s, m->len, &peer, s->pmtudisc);
	}
	if (m->addr.sin_family != AF_INET || m->addr.sin_addr.s_addr == 0 ||
	    m->addr.sin_port == 0)
		return -EINVAL;
	return len_ok(s, m->len, &m->addr, s->pmtudisc);
}

/* May a datagram of len bytes be queued now?  Bound (on the first send, as
 * UDP binds), no error pending: 0 if there is room, -EAGAIN if not (a wait
 * is then for that much room), else the error. */
static int
tx_may_queue(struct pollnet_socket *s, size_t len)
{
	int rc;

	if (lib_lport(s) == 0) {
		rc = pollnet_bind(s, 0);
		if (rc < 0)
			return rc;
	}
	rc = take_error(s);
	if (rc < 0)
		return rc;
	s->tx_need = tx_positions(s, len);
	return s->tx_limit - s->tx_head < s->tx_need && !tx_room(s) ? -EAGAIN : 0;
}

int
pollnet_sendmmsg(struct pollnet_socket *s, struct pollnet_msg *msgs, unsigned count)
{
	unsigned sent;
	int rc;

	if (count == 0)
		return 0;
	rc = msg_sendable(s, &msgs[0]);
	/* the first the ordinary way: bound, errors, room (waiting for it) */
	while (rc == 0 && (rc = tx_may_queue(s, msgs[0].len)) == -EAGAIN)
		rc = wait_for(s, PN_WAKE_TX, tx_room);
	if (rc < 0)
		return rc;
	for (sent = 0; sent < count; sent++) {
		const struct pollnet_msg *m = &msgs[sent];
		struct sockaddr_in peer;

		if (sent > 0 && msg_sendable(s, m) < 0)
			break;
		s->tx_need = tx_positions(s, m->len);
		if (sent > 0 && s->tx_limit - s->tx_head < s->tx_need && !tx_room(s))
			break;
		if (m->addr.sin_family == 0)
			peer = lib_peer(s);
		tx_fill(s, &(struct iovec){ m->buf, m->len }, 1,
			m->addr.sin_family ? &m->addr : &peer, NULL);
	}
	tx_publish(s);          /* once, for the whole batch */
	return (int)sent;
}

ssize_t
pollnet_recv(struct pollnet_socket *s, void *buf, size_t len, int *flags)
{
	return pollnet_recvfrom(s, buf, len, NULL, flags);
}

/* ---- for pollnet-run (pollnet_int.h): never blocks ---- */

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
	if (s->tx_limit - s->tx_head >= s->tx_need || tx_room(s))
		r |= PN_READY_TX;
	if (error_pending(s))
		r |= PN_READY_ERR;
	return r;
}

int
pn_int_waits_here(struct pollnet_socket *s)
{
	const int c = sched_getcpu();   /* (glibc: rseq's cpu_id, no system call) */
	const uint32_t v = c < 0 ? 0 : (uint32_t)c + 1;

	if (atomic_load_explicit(&s->ctl->wake.cpu, memory_order_relaxed) != v)
		atomic_store_explicit(&s->ctl->wake.cpu, v, memory_order_relaxed);
	return v != 0 && s->lcore_cpu != NULL &&
	       atomic_load_explicit(s->lcore_cpu, memory_order_relaxed) == v;
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
pn_int_outq(struct pollnet_socket *s)
{
	const uint32_t size = s->geo.tx_size;
	uint32_t p = atomic_load_explicit(&s->ctl->tx_tail.v, memory_order_acquire);
	size_t n = 0;

	if (s->tx_head - p > size)
		return 0;
	while ((int32_t)(s->tx_head - p) > 0) {     /* (our own descriptors) */
		const struct pn_desc *d = pn_shm_desc(s->region, s->geo.tx_desc_off, size, p);

		if (d->flags & PN_DESC_PAD) {
			p += size - (p & (size - 1));
			continue;
		}
		n += d->len;
		p += pn_desc_slots(d->len, s->geo.slot_size);
	}
	return n;
}

size_t
pn_int_next_len(struct pollnet_socket *s)
{
	const struct pn_desc *d;

	if (!rx_ready(s) || s->rx_avail == 0 || (d = rx_desc(s)) == NULL)
		return 0;
	return d->len;
}

ssize_t
pn_int_recv(struct pollnet_socket *s, const struct iovec *iov, int iovcnt,
	    struct sockaddr_in *from, int peek, size_t *full, uint32_t bound, unsigned *skipped,
	    struct pn_ip *ip)
{
	const struct pn_desc *d;
	size_t done;
	uint32_t n;
	int rc;

	for (;;) {
		if (!rx_ready(s))
			return -EAGAIN;
		rc = take_error(s);
		if (rc < 0)
			return rc;
		if (s->rx_avail == 0)
			return -EAGAIN;
		d = rx_desc(s);
		if (d == NULL) {
			if (s->rx_avail > 0)
				rx_skip(s);
			pn_ring_publish(&s->ctl->rx_tail.v, rx_pub(s));
			continue;
		}
		n = rx_slots(s, d);
		if ((bound != 0 && d->local != bound) ||
		    ((ntohl(d->local) >> 28) == 0xe && !pn_int_mc_takes(s->mcf, d->local, d->addr))) {
			s->rx_avail -= n;
			s->rx_tail += n;
			pn_ring_publish(&s->ctl->rx_tail.v, rx_pub(s));
			(*skipped)++;
			continue;
		}
		done = rx_copy(s, d, iov, iovcnt, from, full, ip);
		if (!peek) {
			s->rx_avail -= n;
			s->rx_tail += n;
			pn_ring_publish(&s->ctl->rx_tail.v, rx_pub(s));
		}
		return (ssize_t)done;
	}
}

ssize_t
pn_int_send(struct pollnet_socket *s, const struct iovec *iov, int iovcnt,
	    const struct sockaddr_in *to, const struct pn_ip *ip)
{
	struct sockaddr_in peer;
	size_t len = 0;
	int rc;

	for (int i = 0; i < iovcnt; i++) {
		if (iov[i].iov_len > PN_MAX_DATAGRAM)
			return -EMSGSIZE;
		len += iov[i].iov_len;
	}
	if (to == NULL) {
		peer = lib_peer(s);
		if (peer.sin_port == 0)
			return -EDESTADDRREQ;
		to = &peer;
	}
	rc = len_ok(s, len, to, ip != NULL ? ip->pmtudisc : s->pmtudisc);
	if (rc < 0)
		return rc;
	rc = tx_may_queue(s, len);
	if (rc < 0)
		return rc;
	len = tx_fill(s, iov, iovcnt, to, ip);
	tx_publish(s);
	return (ssize_t)len;
}

void
pn_int_poke(struct pollnet_socket *s, unsigned ready_bit)
{
	atomic_fetch_add_explicit(&s->ctl->tx_head.poke,
				  ready_bit == PN_READY_RX ? PN_POKE_RX : PN_POKE_TX,
				  memory_order_relaxed);
}

void
pn_int_progress(struct pollnet_socket *s, uint32_t *rx, uint32_t *tx)
{
	*rx = atomic_load_explicit(&s->ctl->rx_head.v, memory_order_acquire);
	*tx = atomic_load_explicit(&s->ctl->tx_tail.v, memory_order_acquire);
}
