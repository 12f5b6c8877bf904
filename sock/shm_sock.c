/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The app's side of a client's shared-memory socket (abi/pn_region.h):
 * fill its RX ring, drain its TX ring, publish positions and wake it.  Run
 * only by the socket's owner lcore.  Everything read from the region is the
 * client's and is checked before use; what we write we keep our own copy of.
 */
#include <errno.h>
#include <string.h>

#include <rte_mbuf.h>

#include "sock_table.h"
#include "stack.h"

static inline void
shm_touch(struct stack *s, struct pn_sock *sock, uint8_t moved)
{
	sock->moved |= moved;
	if (sock->touched)
		return;
	if (s->touched_n < STACK_SHM_MAX) {
		sock->touched = 1;
		s->touched[s->touched_n++] = sock;
	} else {
		s->touched_overflow = 1;    /* the commit looks at every socket */
	}
}

/* Room in sock's RX ring for a datagram of len bytes (a pad first where
 * its slots would wrap): its first slot, or NULL (-ENOBUFS).  *lenp may be
 * cut to PN_MAX_DATAGRAM (*flags PN_DESC_TRUNC); shm_put_end publishes. */
static __rte_always_inline void *
shm_put_begin(struct pn_sock *sock, uint32_t *lenp, uint16_t *flagsp, uint32_t *np)
{
	const uint32_t size = sock->geo.rx_size;
	uint32_t len = *lenp, n = 1, pad = 0;
	struct pn_desc *d;

	if (unlikely(len > sock->geo.slot_size)) {
		/* its slots, and a pad first where they would wrap
		 * (abi/pn_region.h, Large datagrams) */
		const uint32_t off = sock->rx_head & (size - 1);

		if (len > PN_MAX_DATAGRAM) {
			*lenp = len = PN_MAX_DATAGRAM;
			*flagsp = PN_DESC_TRUNC;
		}
		n = pn_desc_slots(len, sock->geo.slot_size);
		pad = off + n > size ? size - off : 0;
	}
	if (sock->rx_limit - sock->rx_head < pad + n) {
		/* Out of known room: look at the client's tail again. */
		uint32_t used = pn_ring_used(sock->rx_head, &pn_shm_ctl(sock->region)->rx_tail.v);

		if (used > size) {          /* a tail we never gave it */
			sock->shm_errors++;
			return NULL;
		}
		sock->rx_limit = sock->rx_head + (size - used);
		if (size - used < pad + n)
			return NULL;
	}
	if (pad != 0) {
		d = pn_shm_desc(sock->region, sock->geo.rx_desc_off, size, sock->rx_head);
		d->len = 0;
		d->flags = PN_DESC_PAD;
		sock->rx_head += pad;
	}
	*np = n;
	return pn_shm_slot(sock->region, sock->geo.rx_slot_off, size, sock->rx_head);
}

/* The descriptor of the datagram shm_put_begin made room for, published
 * (the client reads rx_head only after shm_sock_commit's release). */
static __rte_always_inline void
shm_put_end(struct stack *s, struct pn_sock *sock, uint32_t len, uint16_t flags,
	    uint32_t n, const struct udp_meta *mt)
{
	struct pn_desc *d = pn_shm_desc(sock->region, sock->geo.rx_desc_off,
					sock->geo.rx_size, sock->rx_head);

	d->len = len;
	d->addr = mt->src;
	d->port = mt->sport;
	d->flags = flags;
	d->local = mt->dst;
	d->tos = mt->tos;
	d->ttl = mt->ttl;
	d->stamp = s->now_tsc;
	sock->rx_head += n;
	shm_touch(s, sock, PN_WAKE_RX);
}

int
shm_sock_put(struct stack *s, struct pn_sock *sock, const void *payload,
	     uint32_t len, const struct udp_meta *mt)
{
	uint16_t flags = 0;
	uint32_t n;
	void *to = shm_put_begin(sock, &len, &flags, &n);

	if (to == NULL)
		return -ENOBUFS;
	memcpy(to, payload, len);
	shm_put_end(s, sock, len, flags, n, mt);
	return 0;
}

int
shm_sock_put_mbuf(struct stack *s, struct pn_sock *sock, const struct rte_mbuf *m,
		  uint32_t off, uint32_t len, const struct udp_meta *mt)
{
	uint16_t flags = 0;
	uint32_t n, done = 0;
	uint8_t *to = shm_put_begin(sock, &len, &flags, &n);

	if (to == NULL)
		return -ENOBUFS;
	/* a large datagram's slots are one span: segment after segment */
	for (; m != NULL && off >= m->data_len; m = m->next)
		off -= m->data_len;
	for (; m != NULL && done < len; m = m->next, off = 0) {
		uint32_t k = RTE_MIN(len - done, (uint32_t)m->data_len - off);

		memcpy(to + done, rte_pktmbuf_mtod_offset(m, const uint8_t *, off), k);
		done += k;
	}
	shm_put_end(s, sock, len, flags, n, mt);
	return 0;
}

int
shm_sock_error(struct stack *s, struct pn_sock *sock, const struct pn_shm_errent *e)
{
	struct pn_shm_ctl *ctl;
	struct pn_shm_errent *q;

	if (sock->kind != SOCK_SHM ||
	    atomic_load_explicit(&sock->closing, memory_order_acquire))
		return -ENOENT;
	ctl = pn_shm_ctl(sock->region);
	/* its details in the queue's next entry (the client reads them for
	 * MSG_ERRQUEUE), then its errno, then the count that publishes both */
	q = &ctl->errq[(sock->errors_posted + 1) % PN_ERRQ_SIZE];
	atomic_store_explicit(&q->seq, 0, memory_order_relaxed);   /* (a reader skips it) */
	atomic_thread_fence(memory_order_release);
	memcpy((uint8_t *)q + sizeof(q->seq), (const uint8_t *)e + sizeof(e->seq),
	       offsetof(struct pn_shm_errent, data) - sizeof(e->seq) + e->len);
	atomic_store_explicit(&q->seq, sock->errors_posted + 1, memory_order_release);
	atomic_store_explicit(&ctl->errors.err, e->err, memory_order_relaxed);
	sock->errors_posted++;
	atomic_store_explicit(&ctl->errors.count, sock->errors_posted, memory_order_release);
	s->stats.icmp_errors_in++;
	shm_touch(s, sock, PN_WAKE_RX);         /* a sleeping receive wakes to it */
	return 0;
}

int
shm_sock_tx_ready(const struct pn_sock *sock)
{
	uint32_t n = pn_ring_ready(&pn_shm_ctl(sock->region)->tx_head.v, sock->tx_tail);

	return n != 0 && n <= sock->geo.tx_size;
}

/* sock's wake-ups for this loop: bits more (there is room in the list, or
 * sock is on it). */
static void
shm_wake_add(struct stack *s, struct pn_sock *sock, uint8_t bits)
{
	if (sock->wake_idx < s->wake_n && s->wake[sock->wake_idx] == sock) {
		sock->wake_bits |= bits;
		return;
	}
	sock->wake_idx = s->wake_n;
	s->wake[s->wake_n++] = sock;
	sock->wake_bits = bits;
}

static int
shm_wake_listed(const struct stack *s, const struct pn_sock *sock)
{
	return sock->wake_idx < s->wake_n && s->wake[sock->wake_idx] == sock;
}

/* The client asks for one more wake-up message (abi/pn_region.h, Poking): one
 * per half that moved, at most one of each per loop. */
static void
shm_sock_poked(struct stack *s, struct pn_sock *sock, uint32_t poke)
{
	uint32_t moved = poke ^ sock->poke_seen;
	uint8_t bits = 0;

	if (moved & 0xffffu)
		bits |= PN_WAKE_RX;
	if (moved & 0xffff0000u)
		bits |= PN_WAKE_TX;
	if (!shm_wake_listed(s, sock) && s->wake_n == STACK_SHM_MAX)
		return;                 /* no room this loop: the next one */
	sock->poke_seen = poke;
	shm_wake_add(s, sock, bits);
}

/* The fragments a datagram of len bytes makes. */
static inline uint32_t
shm_frags(const struct stack *s, uint32_t len)
{
	const uint32_t per = (s->conf->mtu - 20u) & ~7u;

	return (len + 8 + per - 1) / per;
}

/* len bytes (more than one mbuf's) into a chain of mbufs, the first with
 * room before it for the headers; NULL when the pool is short. */
static __rte_noinline struct rte_mbuf *
shm_chain(struct stack *s, const uint8_t *p, uint32_t len)
{
	struct rte_mbuf *head = NULL, *tail = NULL;

	while (len > 0) {
		struct rte_mbuf *m = rte_pktmbuf_alloc(s->pool);
		uint32_t k;

		if (m == NULL) {
			rte_pktmbuf_free(head);
			return NULL;
		}
		k = RTE_MIN(len, (uint32_t)rte_pktmbuf_tailroom(m));
		memcpy(rte_pktmbuf_append(m, (uint16_t)k), p, k);
		p += k;
		len -= k;
		if (head == NULL) {
			head = m;
		} else {
			tail->next = m;
			head->nb_segs++;
			head->pkt_len += k;
		}
		tail = m;
	}
	return head;
}

unsigned
shm_sock_drain(struct stack *s, struct pn_sock *sock, unsigned budget)
{
	const uint32_t size = sock->geo.tx_size;
	const struct pn_shm_txh *txh = &pn_shm_ctl(sock->region)->tx_head;
	uint32_t left = pn_ring_ready(&txh->v, sock->tx_tail);
	uint32_t poke = atomic_load_explicit(&txh->poke, memory_order_relaxed);
	const uint32_t tail0 = sock->tx_tail;
	unsigned done = 0;

	if (poke != sock->poke_seen)
		shm_sock_poked(s, sock, poke);
	if (left == 0)
		return 0;
	if (left > size) {              /* a head it cannot have */
		sock->shm_errors++;
		return 0;
	}
	/* no more than the loop's transmit batch has room for: what does not
	 * fit waits in the client's ring, it is not taken to be dropped */
	if (budget > (unsigned)(STACK_TX_MAX - s->tx_n))
		budget = STACK_TX_MAX - s->tx_n;
	while (done < budget && left > 0) {
		const uint32_t off = sock->tx_tail & (size - 1);
		const uint8_t *slot = pn_shm_slot(sock->region, sock->geo.tx_slot_off,
						  size, sock->tx_tail);
		uint32_t n = 1;
		struct pn_desc d;
		struct rte_mbuf *m;
		struct pn_sock *to;

		/* Read the descriptor once; check and use only our copy. */
		memcpy(&d, pn_shm_desc(sock->region, sock->geo.tx_desc_off, size,
				       sock->tx_tail), sizeof(d));
		if (unlikely(d.flags & PN_DESC_PAD)) {
			/* the positions to the ring's end: none of them a datagram */
			if (size - off > left) {
				sock->shm_errors++;
				break;
			}
			sock->tx_tail += size - off;
			left -= size - off;
			continue;
		}
		if (unlikely(d.len > sock->geo.slot_size) && d.len <= PN_MAX_DATAGRAM)
			n = pn_desc_slots(d.len, sock->geo.slot_size);
		/* the source it chose (IP_PKTINFO), checked: ours, or a
		 * loopback address to a local one; none (the common case):
		 * the one the destination implies */
		if (likely(d.local == 0))
			d.local = stack_is_local(s->conf, d.addr) ?
				  stack_local_src(s->conf, d.addr) : s->conf->ip;
		else if (!stack_is_local(s->conf, d.local) ||
			 (d.local != s->conf->ip && !stack_is_local(s->conf, d.addr)))
			d.addr = 0;             /* (a bad descriptor, below) */
		if (d.len > PN_MAX_DATAGRAM || n > left || off + n > size ||
		    d.addr == 0 || d.port == 0) {
			/* (a datagram's slots it did not publish, or past the
			 * ring's end: one position skipped at a time) */
			n = 1;
			sock->shm_errors++;
			sock->tx_drops++;
			s->stats.tx_drop[PN_TX_BAD_DESC]++;
		} else if (stack_is_local(s->conf, d.addr) &&
			   (to = sock_table_lookup(s->socks, d.port, d.local,
						   sock->key.lport)) != NULL &&
			   to->kind == SOCK_SHM && to->owner == s->lcore &&
			   !atomic_load_explicit(&to->closing, memory_order_acquire)) {
			/* Local, to a client socket we own: slot to slot, the one
			 * copy, no mbuf, whatever its length. */
			const struct udp_meta mt = {
				.src = d.local, .dst = d.addr,
				.sport = sock->key.lport, .tos = d.tos,
				.ttl = d.ttl != 0 ? d.ttl : STACK_TTL,
			};

			s->stats.local_sent++;
			if (shm_sock_put(s, to, slot, d.len, &mt) == 0) {
				s->stats.local_delivered++;
				to->rx_pkts++;
				to->rx_bytes += d.len;
				sock->tx_pkts++;
				sock->tx_bytes += d.len;
			} else {
				s->stats.local_ring_full++;
				to->rx_drops++;
				sock->tx_drops++;
			}
		} else {
			if (likely(d.len <= (uint32_t)s->conf->mtu - 28)) {
				m = rte_pktmbuf_alloc(s->pool);
				if (m != NULL)
					memcpy(rte_pktmbuf_append(m, (uint16_t)d.len), slot, d.len);
			} else if (!stack_is_local(s->conf, d.addr) &&
				   s->tx_n + shm_frags(s, d.len) > STACK_TX_MAX) {
				break;          /* its fragments next loop */
			} else {
				m = shm_chain(s, slot, d.len);
			}
			if (m == NULL) {
				/* Leave it in the ring, sent when mbufs are back:
				 * not a drop, so no tx_drop count (the client sees
				 * its ring fill and waits). */
				break;
			}
			if (udp_output_ip(s, m, sock->key.lport, d.addr, d.port,
					  STACK_IPO(d.tos, d.ttl,
						    (d.flags & PN_DESC_NODF ? STACK_IP_NODF : 0) |
						    (d.flags & PN_DESC_NOLOOP ? STACK_IP_NOLOOP : 0))) == 0) {
				sock->tx_pkts++;
				sock->tx_bytes += d.len;
			} else {
				sock->tx_drops++;
			}
		}
		sock->tx_tail += n;
		left -= n;
		done++;
	}
	if (sock->tx_tail != tail0)
		shm_touch(s, sock, PN_WAKE_TX);
	return done;
}

/*
 * Wake-up moderation (sockets.wake_batch, sockets.wake_delay): a client
 * asleep on a receive is woken when wake_batch datagrams wait for it or
 * wake_delay_us after its first one arrived, whichever comes first, as a
 * NIC moderates its interrupts.  Each wake-up costs the client two context
 * switches (and the lcore a system call): a client that shares its core with
 * the program that sends to it takes one datagram per wake-up without this.
 * Only a client woken often is held back: one whose last wake-up is more
 * than two wake_delay old (a ping-pong slower than that, a lone request) is
 * woken at once, so moderation costs it no latency.
 * True to hold this one back; the commit looks at held sockets every loop.
 */
static int
wake_hold(struct stack *s, struct pn_sock *sock, struct pn_shm_ctl *ctl)
{
	uint32_t waiting = pn_ring_used(sock->rx_head, &ctl->rx_tail.v);

	if (waiting >= s->conf->wake_batch || waiting > sock->geo.rx_size)
		return 0;
	if (!sock->wake_held && s->now_us - sock->woken_us >= 2 * (uint64_t)s->conf->wake_delay_us)
		return 0;               /* woken seldom */
	if (!sock->wake_held) {
		sock->wake_held = 1;
		sock->wake_held_us = s->now_us;
		s->wakes_deferred++;
	}
	return s->now_us - sock->wake_held_us < s->conf->wake_delay_us;
}

/* Publish sock's positions and queue its wake-up; 1 if the wake-up must wait
 * for the next commit. */
static int
shm_sock_publish(struct stack *s, struct pn_sock *sock)
{
	struct pn_shm_ctl *ctl = pn_shm_ctl(sock->region);
	uint32_t want;

	if (sock->wake_held)
		sock->moved |= PN_WAKE_RX;      /* its held wake-up is looked at again */
	if (sock->moved & PN_WAKE_RX)
		pn_ring_publish(&ctl->rx_head.v, sock->rx_head);
	if (sock->moved & PN_WAKE_TX)
		pn_ring_publish(&ctl->tx_tail.v, sock->tx_tail);
	/* Our stores above, then the client's wish: paired with the client's
	 * store of `wake` then its load of our positions. */
	atomic_thread_fence(memory_order_seq_cst);
	want = atomic_load_explicit(&ctl->wake.v, memory_order_relaxed) & sock->moved;
	if (s->cpu != 0 && atomic_load_explicit(&ctl->wake.cpu, memory_order_relaxed) == s->cpu)
		s->shares_core = 1;
	sock->touched = 0;
	if ((want & PN_WAKE_RX) && s->conf->wake_batch > 1 && wake_hold(s, sock, ctl)) {
		want &= (uint32_t)~PN_WAKE_RX;  /* not yet: the wish stays */
	} else if (sock->wake_held) {
		sock->wake_held = 0;            /* woken now, or awake by itself */
		s->wakes_deferred--;
	}
	if (want != 0 && s->wake_n == STACK_SHM_MAX && !shm_wake_listed(s, sock)) {
		/* No room to wake it this loop: keep what moved, and have the
		 * next commit look at every socket. */
		sock->moved = (uint8_t)want;
		return 1;
	}
	if (want != 0) {
		atomic_fetch_and_explicit(&ctl->wake.v, ~want, memory_order_relaxed);
		atomic_fetch_add_explicit(&ctl->wakes.v, 1, memory_order_relaxed);
		shm_wake_add(s, sock, (uint8_t)want);
		sock->wakeups++;
		if (want & PN_WAKE_RX)
			sock->woken_us = s->now_us;
	}
	sock->moved = 0;
	return 0;
}

void
shm_sock_commit(struct stack *s)
{
	int retry = 0;

	for (uint16_t i = 0; i < s->touched_n; i++)
		retry |= shm_sock_publish(s, s->touched[i]);
	s->touched_n = 0;
	if ((s->touched_overflow || s->wakes_deferred != 0) && s->socks != NULL) {
		/* every socket we own: those that moved and found no room on
		 * the list, and those whose wake-up is held back (no pointer
		 * to a socket is kept from one loop to the next: the table
		 * frees sockets behind our quiescent reports) */
		struct pn_sock *_Atomic *slots;
		uint32_t n = sock_table_owned(s->socks, s->lcore, &slots), held = 0;

		for (uint32_t i = 0; i < n; i++) {
			struct pn_sock *sock = atomic_load_explicit(&slots[i], memory_order_acquire);

			if (sock == NULL || sock->kind != SOCK_SHM)
				continue;
			if (sock->moved != 0 || sock->wake_held)
				retry |= shm_sock_publish(s, sock);
			held += sock->wake_held;
		}
		s->wakes_deferred = held;       /* closed sockets held no more */
	}
	s->touched_overflow = (uint8_t)retry;
}

void
shm_sock_wake_again(struct stack *s, struct pn_sock *sock, uint8_t bits)
{
	/* The client's wish back, as it was before this commit took it, and
	 * the socket as moved: the next commit finds both.  It looks at every
	 * socket we own to find it, as sock may be freed behind the quiescent
	 * report in between.  A message the client no longer needs only makes
	 * a later wait look once more. */
	atomic_fetch_or_explicit(&pn_shm_ctl(sock->region)->wake.v, bits, memory_order_relaxed);
	sock->moved |= bits;
	s->touched_overflow = 1;
}
