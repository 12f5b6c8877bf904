/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The run-to-completion loop.  Per iteration:
 *   rx_burst -> stack_input for each frame (replies built in place)
 *   -> deliver datagrams other lcores steered to us
 *   -> learn ARP mappings other lcores saw
 *   -> run the sockets we own (drain clients' TX rings, the echo service)
 *   -> publish what moved in clients' regions, wake the clients that sleep
 *   -> the exception path: frames for the kernel to its interface, the
 *      kernel's into the batch
 *   -> ARP timers -> one tx_burst for everything produced
 *   -> every millisecond, a copy of the counters into the stats segment
 *   -> report an RCU quiescent state
 *   -> give the CPU away if a client waits on it (Sharing a core,
 *      abi/pn_region.h).
 * Every frame in and out leaves its headers in the segment's log (unless
 * dataplane.summaries is off) and, while a capture is open, its bytes in
 * the capture region.
 * No locks, no allocation beyond the mbuf pool, no printf, and no system
 * call but the message that wakes a client which asked for it, the
 * sched_yield for a client on our CPU, and when idle the sleep (and the
 * doorbell for a dozing peer lcore).
 */
#define _GNU_SOURCE                     /* sched_getcpu */
#include "lcore.h"

#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <rte_cycles.h>
#include <rte_ether.h>
#include <rte_memcpy.h>
#include <rte_ip.h>
#include <rte_mbuf.h>
#include <rte_prefetch.h>
#include <rte_ring.h>
#include <rte_udp.h>

#include "capture.h"
#include "kernel_local.h"
#include "neigh.h"
#include "config.h"
#include "cksum.h"
#include "port.h"
#include "sock_table.h"
#include "statseg.h"
#include "summary.h"

struct arp_note {
	rte_be32_t ip;
	struct rte_ether_addr mac;
	uint16_t pad;
};

unsigned
lcore_arp_tell(struct lcore_ctx *lcs, uint16_t n, int skip, rte_be32_t ip,
	       const struct rte_ether_addr *mac)
{
	struct arp_note note = { .ip = ip, .mac = *mac };
	unsigned dropped = 0;

	for (uint16_t i = 0; i < n; i++)
		if (i != skip &&
		    rte_ring_mp_enqueue_elem(lcs[i].arp_notify, &note, sizeof(note)) != 0)
			dropped++;
	return dropped;
}

/* stack_arp_hook: tell the other lcores (their caches are their own). */
static void
lcore_arp_learned(void *arg, rte_be32_t ip, const struct rte_ether_addr *mac)
{
	struct lcore_ctx *lc = arg;

	lc->arp_notify_drops += lcore_arp_tell(lc->peers, lc->nb_lcores, lc->idx, ip, mac);
}

static void
lcore_arp_notes(struct lcore_ctx *lc)
{
	struct arp_note n[16];
	unsigned cnt = rte_ring_sc_dequeue_burst_elem(lc->arp_notify, n, sizeof(n[0]),
						      RTE_DIM(n), NULL);
	stack_arp_hook hook = lc->st.arp_hook;

	if (cnt == 0)
		return;
	/* Learned elsewhere: insert without telling anyone again. */
	lc->st.arp_hook = NULL;
	for (unsigned i = 0; i < cnt; i++)
		arp_cache_insert(&lc->st, n[i].ip, &n[i].mac, 1);
	lc->st.arp_hook = hook;
}

/* Datagrams the kernel's programs on this host sent to our ports
 * (kernel_local.h), delivered as local ones. */
static unsigned
lcore_from_kernel(struct lcore_ctx *lc)
{
	struct kernel_local_item it[16];
	unsigned n = rte_ring_sc_dequeue_burst_elem(lc->kl_in, it, sizeof(it[0]), RTE_DIM(it),
						    NULL);

	for (unsigned i = 0; i < n; i++)
		stack_local_from_kernel(&lc->st, it[i].m, it[i].src, it[i].sport, it[i].dst,
					it[i].dport);
	return n;
}

/* Is anyone looking?  (The packet log, or an open capture.) */
static inline int
lcore_watched(const struct lcore_ctx *lc)
{
	return lc->log != NULL || atomic_load_explicit(&lc->cap, memory_order_relaxed) != NULL;
}

/* The checksums a port that offloads them will write (f: a whole frame). */
static void
tx_fill_checksums(uint8_t *f, uint32_t len, const struct rte_mbuf *m)
{
	struct rte_ipv4_hdr *ip = (struct rte_ipv4_hdr *)(f + m->l2_len);
	struct rte_udp_hdr *u = (struct rte_udp_hdr *)(f + m->l2_len + m->l3_len);
	uint32_t l4len = len - m->l2_len - m->l3_len;

	ip->hdr_checksum = 0;
	ip->hdr_checksum = cksum_buf(ip, m->l3_len);
	u->dgram_cksum = 0;
	u->dgram_cksum = cksum_udp(ip->src_addr, ip->dst_addr, u, (uint16_t)l4len);
}

/*
 * A frame into the log and, if it matches the capture's filter, into an
 * open capture.  One whose checksums the port fills in (TX offload) is
 * captured with them filled in, as the wire will carry it: that copy
 * happens only for frames a capture takes.
 */
static void
lcore_log(struct lcore_ctx *lc, struct rte_mbuf *m, enum pkt_dir dir, uint64_t ts)
{
	struct capture *cap = atomic_load_explicit(&lc->cap, memory_order_acquire);
	uint32_t len = rte_pktmbuf_data_len(m);
	const uint8_t *frame = rte_pktmbuf_mtod(m, const uint8_t *);
	uint8_t f[RTE_ETHER_MAX_LEN];
	int rc;

	if (unlikely(m->nb_segs > 1)) {
		/* a fragment we send: its headers, then its payload elsewhere */
		len = RTE_MIN(rte_pktmbuf_pkt_len(m), (uint32_t)sizeof(f));
		frame = rte_pktmbuf_read(m, 0, len, f);
	}
	if (lc->log != NULL) {
		/* its first bytes; readers decode them (decode/summary.h) */
		pn_log_put(lc->log, PN_STATS_LOG_SIZE, frame, len, (uint8_t)dir, ts);
		lc->log_written++;
	}
	if (cap == NULL || !capture_match(cap, m))
		return;
	if (dir == PKT_TX && len <= sizeof(f) &&
	    (m->ol_flags & (RTE_MBUF_F_TX_IP_CKSUM | RTE_MBUF_F_TX_UDP_CKSUM))) {
		rte_memcpy(f, frame, len);
		tx_fill_checksums(f, len, m);
		frame = f;
	}
	rc = capture_frame(cap, lc->idx, frame, len, dir, ts);
	if (rc > 0)
		lc->cap_frames++;
	else
		lc->cap_skipped++;
}

/* A consistent copy of our counters for readers, every PN_STATS_LCORE_MS:
 * the fast path keeps its own cache lines to itself. */
static void
lcore_publish(struct lcore_ctx *lc)
{
	struct pn_stats_lcore *p = lc->pub;

	pn_seq_begin(&p->seq);
	p->loops = lc->loops;
	p->rx_bursts = lc->rx_bursts;
	p->empty_polls = lc->empty_polls;
	p->naps = lc->naps;
	p->sleeps = lc->sleeps;
	p->yields = lc->yields;
	p->irq_wakes = lc->irq_wakes;
	p->bell_wakes = lc->bell_wakes;
	p->tx_bursts = lc->tx_bursts;
	p->arp_notify_drops = lc->arp_notify_drops;
	p->log_written = lc->log_written;
	p->cap_frames = lc->cap_frames;
	p->cap_skipped = lc->cap_skipped;
	p->st = lc->st.stats;
	pn_seq_end(&p->seq);
}

/* The sockets we own, each up to a burst: the first one served turns with
 * the loops, so that when the loop's transmit batch fills (the sockets'
 * datagrams then wait in their rings) no socket is always the one left. */
static unsigned
lcore_sockets(struct lcore_ctx *lc)
{
	struct pn_sock *_Atomic *slots;
	uint32_t n = sock_table_owned(lc->st.socks, lc->idx, &slots);
	uint32_t first = lc->sock_first < n ? lc->sock_first : 0;
	unsigned done = 0;

	lc->sock_first = first + 1;

	for (uint32_t k = 0, i = first; k < n; k++, i = i + 1 == n ? 0 : i + 1) {
		struct pn_sock *s = atomic_load_explicit(&slots[i], memory_order_acquire);

		if (s == NULL)
			continue;
		if (s->kind == SOCK_SHM)
			done += shm_sock_drain(&lc->st, s, BURST);
		else if (s->kind == SOCK_ECHO)
			done += echo_service(&lc->st, s, BURST);
	}
	return done;
}

/*
 * Idle (dataplane.idle): after idle_after_us with nothing received, sent,
 * drained from a socket or held back, the lcore sleeps until work comes.
 *
 * nap: between polls, nap_first_us (dataplane.nap_first, 20 by default)
 * first, doubling up to idle_sleep_us while nothing comes.  The first frame
 * after a quiet spell waits for the nap under way (in the port's receive
 * ring, as the clients' datagrams wait in theirs).  nap_first = idle_sleep
 * makes the naps a fixed period: a steady stream is then taken in batches,
 * one wake-up each, for up to that much latency (a NIC's interrupt
 * moderation), but an idle lcore wakes as often.
 *
 * moderation (dataplane.moderation, nap or interrupt): a loop that found
 * work and left the port's receive ring empty (a burst short of full),
 * nothing else waiting for us, is followed by a nap of moderation_us: a
 * stream, at any rate, is taken in batches, one wake-up each (a NIC's
 * interrupt moderation, NAPI's); a look that finds nothing goes on to the
 * idle mode after idle_after.  A batch of LCORE_MOD_BATCH frames or more
 * takes no nap and halves the period, one of under a quarter of that
 * doubles it back up to moderation_us (adaptive, as NICs' interrupt
 * throttling is): a flood is taken in batches the receive ring holds, or
 * without naps once the lcore is the bottleneck.
 *
 * interrupt: on its port's receive interrupt and the doorbell at once
 * (lcore_doze), at most LCORE_DOZE_MS, as DPDK's l3fwd-power does; a port
 * without receive interrupts naps instead.
 *
 * Traffic that keeps coming meets neither.  Idle, an lcore that naps 100 us
 * at a time still costs a fifth of a core on a VM (bench servers-cpu's idle
 * column), one asleep on the interrupt about 1 %.
 */
#define LCORE_DOZE_MS       10
/* dataplane.moderation: the batch (frames) that halves the period, and the
 * shortest nap taken (below, the lcore polls until the period grows) */
#define LCORE_MOD_BATCH     256
#define LCORE_MOD_MIN_US    8
/* A client sharing our CPU is woken once the port's backlog is in its
 * socket, or after this many full bursts of it. */
#define LCORE_HOLD_BURSTS   8

/* Where we run, for the stack (whose clients wait there?) and, in the state
 * page, for the clients (abi/pn_region.h, Sharing a core). */
static void
lcore_where(struct lcore_ctx *lc)
{
	const int c = sched_getcpu();
	const uint32_t v = c < 0 ? 0 : (uint32_t)c + 1;

	lc->st.cpu = v;
	if (atomic_load_explicit(&lc->doze->cpu, memory_order_relaxed) != v)
		atomic_store_explicit(&lc->doze->cpu, v, memory_order_relaxed);
}

/*
 * A client shares our CPU (abi/pn_region.h, Sharing a core): let it run now.
 * The lcore would otherwise hold the CPU until the scheduler's slice ends,
 * milliseconds in which the client's datagrams wait in its rings.  One
 * system call, on loops that moved such a client's socket and on idle
 * loops for 1 ms after; an lcore on a core of its own never makes it.
 */
static void
lcore_yield(struct lcore_ctx *lc)
{
	lc->yields++;
	sched_yield();
}

static void
lcore_nap(uint32_t us)
{
	struct timespec ts = { .tv_sec = us / 1000000, .tv_nsec = (long)(us % 1000000) * 1000 };

	nanosleep(&ts, NULL);
}

/* Work that would not wake us: a client's TX ring (its doorbell comes only
 * once our doze word is seen), frames steered to us before it was. */
static int
lcore_pending(struct lcore_ctx *lc)
{
	struct pn_sock *_Atomic *slots;
	uint32_t n = sock_table_owned(lc->st.socks, lc->idx, &slots);

	if (lc->nb_lcores > 1 && rte_ring_count(lc->st.steer[lc->idx]) != 0)
		return 1;
	for (uint32_t i = 0; i < n; i++) {
		struct pn_sock *s = atomic_load_explicit(&slots[i], memory_order_acquire);

		if (s != NULL && s->kind == SOCK_SHM && shm_sock_tx_ready(s))
			return 1;
	}
	return 0;
}

/*
 * Sleep on the port's receive interrupt and the doorbell (the protocol is
 * in abi/pn_region.h): the doze word up, a full fence, the port armed,
 * one more look at what would not wake us, then the wait, offline for the
 * sockets' grace periods (we hold no socket meanwhile).  1 if something
 * woke us (or was there already): the caller polls for idle_after again,
 * as the event may come before what it announces is visible (net_tap's
 * receive only reads its queue once its SIGIO handler has run, and the
 * signal may be delivered to another thread after our wake-up).
 */
static int
lcore_doze(struct lcore_ctx *lc)
{
	struct rte_epoll_event ev[4];
	int n = 0, armed;

	atomic_store_explicit(&lc->doze->v, 1, memory_order_relaxed);
	atomic_thread_fence(memory_order_seq_cst);
	armed = port_intr_arm(lc->port, lc->queue);
	if (armed >= 0 && lc->exc != NULL) {
		int e = port_intr_arm(lc->exc, lc->queue);

		armed = e < 0 ? e : armed | e;
	}
	if (armed < 0) {
		lc->naps++;                     /* the port refused: a nap instead */
		lcore_nap(lc->st.conf->idle_sleep_us);
	} else if (armed == 0 && !lcore_pending(lc)) {
		lc->sleeps++;
		lcore_publish(lc);
		sock_table_lcore_offline(lc->st.socks, lc->idx);
		n = rte_epoll_wait(RTE_EPOLL_PER_THREAD, ev, RTE_DIM(ev), LCORE_DOZE_MS);
		sock_table_lcore_online(lc->st.socks, lc->idx);
		for (int i = 0; i < n; i++) {
			if (ev[i].epdata.data == &lc->bell_ev) {
				uint64_t v;

				lc->bell_wakes++;
				if (read(lc->bell, &v, sizeof(v)) < 0)
					v = 0;  /* another lcore took it */
			} else {
				lc->irq_wakes++;
			}
		}
	}
	port_intr_disarm(lc->port, lc->queue);
	if (lc->exc != NULL) {
		port_intr_disarm(lc->exc, lc->queue);
		lc->exc_next = 0;               /* poll it at once */
	}
	atomic_store_explicit(&lc->doze->v, 0, memory_order_relaxed);
	return n > 0 || armed != 0;
}

/* We steered datagrams to lcores that may be dozing: ring for them. */
static void
lcore_ring_peers(struct lcore_ctx *lc)
{
	uint32_t to = lc->st.steered_to;
	const uint64_t one = 1;

	lc->st.steered_to = 0;
	if (!lc->dozers)
		return;                 /* no lcore dozes: no fence either */
	atomic_thread_fence(memory_order_seq_cst);
	for (; to != 0; to &= to - 1) {
		if (atomic_load_explicit(&lc->doze_all[__builtin_ctz(to)].v,
					 memory_order_relaxed) != 0) {
			if (write(lc->bell, &one, sizeof(one)) < 0)
				lc->bell_fails++;       /* full: it is ringing anyway */
			return;
		}
	}
}

/* Before the loop, on the lcore: its interrupt and the doorbell into this
 * thread's epoll set; a port without interrupts naps instead (said once). */
static void
lcore_intr_setup(struct lcore_ctx *lc)
{
	int rc;

	lc->intr = 0;
	lc->dozers = lc->st.conf->idle == PN_IDLE_INTERRUPT && lc->bell >= 0;
	if (!lc->dozers)
		return;
	rc = port_intr_setup(lc->port, lc->queue, lc);
	if (rc == 0 && lc->exc != NULL) {
		rc = port_intr_setup(lc->exc, lc->queue, &lc->exc);
		if (rc < 0) {
			fprintf(stderr, "pollnet: lcore %u: the exception path (%s) gives no "
				"receive interrupt (%s): it naps when idle instead "
				"(dataplane.idle = nap)\n", lc->idx, lc->exc->driver, strerror(-rc));
			return;
		}
	}
	if (rc == 0) {
		lc->bell_ev = (struct rte_epoll_event){
			.epdata = { .event = EPOLLIN, .data = &lc->bell_ev },
		};
		rc = rte_epoll_ctl(RTE_EPOLL_PER_THREAD, EPOLL_CTL_ADD, lc->bell, &lc->bell_ev);
	}
	if (rc < 0) {
		fprintf(stderr, "pollnet: lcore %u: %s (%s) gives no receive interrupt (%s): "
			"it naps when idle instead (dataplane.idle = nap)\n", lc->idx,
			lc->port->spec, lc->port->driver, strerror(-rc));
		return;
	}
	lc->intr = 1;
}

/* One wake-up message on fd for sock: 0 when the client will see one (or
 * no one is left to see it), else bit, to send again.  A send that fails
 * with EAGAIN leaves the client a message all the same: our end holds as
 * many as it may, unread at the client's, which is therefore readable (a
 * waiter there returns at once, and one reads them all only before it
 * looks at the rings again).  EPIPE and the like: the client's end is
 * gone.  Anything else (the kernel had no memory for the message) and the
 * wake-up would be lost: a receive, or a send with no timeout, would sleep
 * on, the bit it set already cleared. */
static uint8_t
lcore_wake_one(struct pn_sock *sock, int fd, uint8_t bit)
{
	const uint64_t one = 1;

	if (send(fd, &one, sizeof(one), MSG_DONTWAIT | MSG_NOSIGNAL) >= 0)
		return 0;
	sock->shm_errors++;
	switch (errno) {
	case EAGAIN:
	case EPIPE:
	case ECONNRESET:
	case ECONNREFUSED:
	case ENOTCONN:
		return 0;
	default:
		return bit;
	}
}

/* Wake the clients that said they would sleep: a message on the wake pair
 * of each direction one waits on (the lcore's one system call while it
 * works).  A send, never a write: whatever the client does to its end,
 * ours stays non-blocking for this call (MSG_DONTWAIT), and a peer that is
 * gone raises no SIGPIPE. */
static void
lcore_wake(struct stack *st)
{
	for (uint16_t i = 0; i < st->wake_n; i++) {
		struct pn_sock *s = st->wake[i];
		uint8_t again = 0;

		if (s->wake_bits & PN_WAKE_RX)
			again |= lcore_wake_one(s, s->efd, PN_WAKE_RX);
		if (s->wake_bits & PN_WAKE_TX)
			again |= lcore_wake_one(s, s->tx_efd, PN_WAKE_TX);
		if (again != 0)
			shm_sock_wake_again(st, s, again);
	}
	st->wake_n = 0;
}

/* The control thread's frames (IGMP reports), into this loop's batch. */
static unsigned
lcore_ctl_frames(struct lcore_ctx *lc)
{
	struct rte_mbuf *m[16];
	unsigned room = STACK_TX_MAX - lc->st.tx_n, n;

	if (rte_ring_empty(lc->ctl_tx) || room == 0)
		return 0;
	n = rte_ring_sc_dequeue_burst(lc->ctl_tx, (void **)m, RTE_MIN(room, RTE_DIM(m)), NULL);
	for (unsigned i = 0; i < n; i++)
		stack_tx(&lc->st, m[i]);
	return n;
}

/*
 * The exception path: what the stack left for the kernel, to its queue on
 * the kernel's interface; what the kernel sent, into this loop's batch
 * for the port.  A receive poll there may be a system call (net_tap's
 * read): at most every LCORE_EXC_POLL_US unless the last one found frames.
 */
#define LCORE_EXC_POLL_US 20
static unsigned
lcore_exception(struct lcore_ctx *lc, uint64_t tsc, uint64_t hz_us)
{
	struct stack *st = &lc->st;
	struct rte_mbuf *m[32];
	unsigned work = st->exc_n;
	uint16_t n, room = STACK_TX_MAX - st->tx_n;

	if (st->exc_n != 0)
		exc_done(st, port_tx_burst(lc->exc, lc->queue, st->exc, st->exc_n));
	if (tsc < lc->exc_next || room == 0)
		return work;
	n = port_rx_burst(lc->exc, lc->queue, m, RTE_MIN(room, (uint16_t)RTE_DIM(m)));
	for (uint16_t i = 0; i < n; i++)
		exc_from_kernel(st, m[i]);
	lc->exc_next = n != 0 ? tsc : tsc + LCORE_EXC_POLL_US * hz_us;
	return work + n;
}

static void
lcore_flush(struct lcore_ctx *lc, uint64_t ts)
{
	struct stack *st = &lc->st;
	uint64_t bytes = 0;
	uint16_t sent;

	if (st->tx_n == 0)
		return;
	for (uint16_t i = 0; i < st->tx_n; i++)
		bytes += rte_pktmbuf_pkt_len(st->tx[i]);
	if (lcore_watched(lc)) {
		ts = rte_get_tsc_cycles();      /* when they leave, not when the loop began */
		for (uint16_t i = 0; i < st->tx_n; i++)
			lcore_log(lc, st->tx[i], PKT_TX, ts);
	}
	/* One burst per loop; the port takes at most BURST at a time on some
	 * drivers, so offer the rest in further bursts while it accepts. */
	sent = 0;
	while (sent < st->tx_n) {
		uint16_t k = port_tx_burst(lc->port, lc->queue, st->tx + sent,
					   RTE_MIN(st->tx_n - sent, BURST));
		lc->tx_bursts++;
		sent += k;
		if (k == 0)
			break;
	}
	for (uint16_t i = sent; i < st->tx_n; i++)
		bytes -= rte_pktmbuf_pkt_len(st->tx[i]);
	st->stats.tx_bytes += bytes;
	stack_tx_done(st, sent);
}

int
lcore_main(void *arg)
{
	struct lcore_ctx *lc = arg;
	struct stack *st = &lc->st;
	struct rte_mbuf *pkts[BURST];
	const uint64_t hz_ms = rte_get_tsc_hz() / 1000;
	const uint64_t hz_us = rte_get_tsc_hz() / 1000000 ? rte_get_tsc_hz() / 1000000 : 1;
	const uint64_t tsc0 = rte_get_tsc_cycles();
	const uint64_t pub_cycles = hz_ms * PN_STATS_LCORE_MS;
	uint64_t pub_next = tsc0;
	uint64_t last_work = tsc0;
	uint64_t share_until = 0;       /* a client waits on our CPU: yield when idle */
	uint32_t nap_us = 0;
	const int moderate = st->conf->moderation_us != 0 && st->conf->idle != PN_IDLE_POLL;
	uint32_t mod_us = st->conf->moderation_us;     /* its period now */
	uint32_t batch = 0;             /* frames since the last batch began */
	uint32_t holds = 0;             /* full bursts a sharing client's wake-up waited */
	int hold;

	const uint64_t idle_after = hz_us * st->conf->idle_after_us;

	if (st->conf->idle != PN_IDLE_POLL)
		prctl(PR_SET_TIMERSLACK, 1000UL);       /* naps of what we ask, not +50 us */
	lcore_intr_setup(lc);
	st->arp_hook = lc->nb_lcores > 1 ? lcore_arp_learned : NULL;
	st->arp_hook_arg = lc;
	if (lc->neigh != NULL) {
		st->arp_ask = neigh_ask;        /* the kernel resolves (xdp:) */
		st->arp_ask_arg = lc->neigh;
	}
	if (lc->kl != NULL) {
		st->kernel_out = kernel_local_out;
		st->kernel_out_arg = lc->kl;
	}
	sock_table_lcore_online(st->socks, lc->idx);
	lcore_where(lc);

	st->now_ms = (rte_get_tsc_cycles() - tsc0) / hz_ms;
	if (lc->idx == 0 && lc->neigh == NULL)
		arp_send_request(st, st->conf->ip);     /* gratuitous ARP */

	while (!atomic_load_explicit(lc->stop, memory_order_relaxed)) {
		uint64_t tsc = rte_get_tsc_cycles();
		unsigned work;
		uint16_t n;

		lc->loops++;
		st->now_ms = (tsc - tsc0) / hz_ms;
		st->now_tsc = tsc;
		if (st->conf->wake_batch > 1)   /* (a division: only if used) */
			st->now_us = (tsc - tsc0) / hz_us;
		n = port_rx_burst(lc->port, lc->queue, pkts, BURST);
		if (n == 0) {
			lc->empty_polls++;
		} else {
			const int watched = lcore_watched(lc);

			lc->rx_bursts++;
			for (uint16_t i = 0; i < n; i++) {
				if (i + 1 < n)
					rte_prefetch0(rte_pktmbuf_mtod(pkts[i + 1], void *));
				if (watched)
					lcore_log(lc, pkts[i], PKT_RX, tsc);
				stack_input(st, pkts[i]);
			}
		}
		work = n;
		batch += n;
		if (lc->nb_lcores > 1) {
			if (st->steered_to != 0)
				lcore_ring_peers(lc);
			work += stack_steer_drain(st);  /* frames another lcore took for us */
		}
		if (lc->arp_notify != NULL)
			lcore_arp_notes(lc);
		work += lcore_sockets(lc);
		if (lc->ctl_tx != NULL)
			work += lcore_ctl_frames(lc);
		if (lc->kl_in != NULL)
			work += lcore_from_kernel(lc);
		if (lc->exc != NULL)
			work += lcore_exception(lc, tsc, hz_us);
		shm_sock_commit(st);
		/* A client on our CPU runs as soon as its wake-up lands (the
		 * scheduler favours a sleeper): while the port gives full bursts,
		 * its datagrams gather first, one wake-up and switch for them all */
		hold = st->shares_core && n == BURST && holds < LCORE_HOLD_BURSTS;
		if (st->wake_n != 0 && !hold)
			lcore_wake(st);
		stack_tick(st);
		work += st->tx_n + st->wakes_deferred;
		lcore_flush(lc, tsc);
		if (tsc >= pub_next) {
			lcore_publish(lc);
			pub_next = tsc + pub_cycles;
			lcore_where(lc);        /* (EAL pins us; a wider set may move us) */
		}
		sock_table_quiescent(st->socks, lc->idx);
		if (work != 0) {
			last_work = tsc;
			nap_us = 0;
			if (moderate && n < BURST && st->tx_n == 0 && st->wakes_deferred == 0 &&
			    !lcore_pending(lc)) {
				/* the port's ring emptied: the next batch after a nap;
				 * after a large one (the lcore near its limit) none, and
				 * shorter ones until batches come small again */
				const int large = batch >= LCORE_MOD_BATCH;

				if (large)
					mod_us = mod_us / 2 ? mod_us / 2 : 1;
				else if (batch < LCORE_MOD_BATCH / 4)
					mod_us = RTE_MIN(mod_us * 2, st->conf->moderation_us);
				batch = 0;
				if (!large && mod_us >= LCORE_MOD_MIN_US) {
					lc->naps++;
					lcore_nap(mod_us);
				}
			}
		} else if (st->conf->idle != PN_IDLE_POLL && tsc - last_work >= idle_after) {
			if (lc->intr) {
				if (lcore_doze(lc))
					last_work = rte_get_tsc_cycles();
				continue;
			}
			nap_us = nap_us == 0 ? st->conf->nap_first_us : nap_us * 2;
			if (nap_us > st->conf->idle_sleep_us)
				nap_us = st->conf->idle_sleep_us;
			lc->naps++;
			lcore_nap(nap_us);
		} else if (n == 0) {
			rte_pause();
		}
		if (hold) {
			holds++;
		} else if (st->shares_core) {
			holds = 0;
			st->shares_core = 0;
			share_until = tsc + hz_ms;
			lcore_yield(lc);
		} else if (work == 0 && tsc < share_until) {
			lcore_yield(lc);
		}
	}

	lcore_publish(lc);
	sock_table_lcore_offline(st->socks, lc->idx);
	return 0;
}
