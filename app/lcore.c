/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The run-to-completion loop.  Per iteration:
 *   rx_burst -> stack_input for each frame (replies built in place)
 *   -> deliver datagrams other lcores steered to us
 *   -> learn ARP mappings other lcores saw
 *   -> run the sockets we own (drain clients' TX rings, the echo service)
 *   -> publish what moved in clients' regions, wake the clients that sleep
 *   -> ARP timers -> one tx_burst for everything produced
 *   -> every millisecond, a copy of the counters into the stats segment
 *   -> report an RCU quiescent state.
 * Every frame in and out leaves a 64-byte summary in the segment's log
 * (unless turned off) and, while a capture is open, its bytes in the
 * capture region.
 * No locks, no allocation beyond the mbuf pool, no printf, and no system
 * call but the eventfd write that wakes a client which asked for it.
 */
#include "lcore.h"

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

/* stack_arp_hook: tell the other lcores (their caches are their own). */
static void
lcore_arp_learned(void *arg, rte_be32_t ip, const struct rte_ether_addr *mac)
{
	struct lcore_ctx *lc = arg;
	struct arp_note n = { .ip = ip, .mac = *mac };

	for (uint16_t i = 0; i < lc->nb_lcores; i++) {
		if (i == lc->idx)
			continue;
		if (rte_ring_mp_enqueue_elem(lc->peers[i].arp_notify, &n, sizeof(n)) != 0)
			lc->arp_notify_drops++;
	}
}

static void
lcore_arp_notes(struct lcore_ctx *lc)
{
	struct arp_note n[16];
	unsigned cnt = rte_ring_sc_dequeue_burst_elem(lc->arp_notify, n, sizeof(n[0]),
						      RTE_DIM(n), NULL);

	if (cnt == 0)
		return;
	/* Learned elsewhere: insert without telling anyone again. */
	lc->st.arp_hook = NULL;
	for (unsigned i = 0; i < cnt; i++)
		arp_cache_insert(&lc->st, n[i].ip, &n[i].mac, 1);
	lc->st.arp_hook = lcore_arp_learned;
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
	const uint32_t len = rte_pktmbuf_data_len(m);
	const uint8_t *frame = rte_pktmbuf_mtod(m, const uint8_t *);
	uint8_t f[RTE_ETHER_MAX_LEN];
	int rc;

	if (lc->log != NULL) {
		/* its first bytes; readers decode them (stack/summary.h) */
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
	p->tx_bursts = lc->tx_bursts;
	p->arp_notify_drops = lc->arp_notify_drops;
	p->log_written = lc->log_written;
	p->cap_frames = lc->cap_frames;
	p->cap_skipped = lc->cap_skipped;
	p->st = lc->st.stats;
	pn_seq_end(&p->seq);
}

static unsigned
lcore_sockets(struct lcore_ctx *lc)
{
	struct pn_sock *_Atomic *slots;
	uint32_t n = sock_table_owned(lc->st.socks, lc->idx, &slots);
	unsigned done = 0;

	for (uint32_t i = 0; i < n; i++) {
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
 * Idle (dataplane.idle_sleep): after LCORE_IDLE_AFTER_US with nothing
 * received, sent, drained from a socket or held back, the lcore naps
 * between polls, LCORE_NAP_MIN_US first, doubling up to idle_sleep_us while
 * nothing comes; any work and it polls without pause again.  Traffic that
 * keeps coming never meets a nap; the first frame after a quiet spell waits
 * for the nap under way (the frames wait in the port's receive ring, as do
 * the clients' in their rings).  An idle pollnet so uses little CPU.
 */
#define LCORE_IDLE_AFTER_US 1000
#define LCORE_NAP_MIN_US    20

static void
lcore_nap(uint32_t us)
{
	struct timespec ts = { .tv_sec = us / 1000000, .tv_nsec = (long)(us % 1000000) * 1000 };

	nanosleep(&ts, NULL);
}

/* The only system call an lcore makes, and only for a client that said it
 * is going to sleep. */
static void
lcore_wake(struct stack *st)
{
	const uint64_t one = 1;

	for (uint16_t i = 0; i < st->wake_n; i++) {
		struct pn_sock *s = st->wake[i];
		/* a wake socket's peer may be gone: no SIGPIPE for that */
		ssize_t n = s->wake_sock ?
			    send(s->efd, &one, sizeof(one), MSG_DONTWAIT | MSG_NOSIGNAL) :
			    write(s->efd, &one, sizeof(one));

		if (n < 0)
			s->shm_errors++;        /* full: it is awake anyway */
	}
	st->wake_n = 0;
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
	const uint64_t idle_after = hz_us * LCORE_IDLE_AFTER_US;
	uint64_t last_work = tsc0;
	uint32_t nap_us = 0;

	if (st->conf->idle_sleep_us != 0)
		prctl(PR_SET_TIMERSLACK, 1000UL);       /* naps of what we ask, not +50 us */
	st->arp_hook = lc->nb_lcores > 1 ? lcore_arp_learned : NULL;
	st->arp_hook_arg = lc;
	sock_table_lcore_online(st->socks, lc->idx);

	st->now_ms = (rte_get_tsc_cycles() - tsc0) / hz_ms;
	if (lc->idx == 0)
		arp_send_request(st, st->conf->ip);     /* gratuitous ARP */

	while (!atomic_load_explicit(lc->stop, memory_order_relaxed)) {
		uint64_t tsc = rte_get_tsc_cycles();
		unsigned work;
		uint16_t n;

		lc->loops++;
		st->now_ms = (tsc - tsc0) / hz_ms;
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
		if (lc->nb_lcores > 1) {
			work += stack_steer_drain(st);  /* frames another lcore took for us */
			lcore_arp_notes(lc);
		}
		work += lcore_sockets(lc);
		shm_sock_commit(st);
		if (st->wake_n != 0)
			lcore_wake(st);
		stack_tick(st);
		work += st->tx_n + st->wakes_deferred;
		lcore_flush(lc, tsc);
		if (tsc >= pub_next) {
			lcore_publish(lc);
			pub_next = tsc + pub_cycles;
		}
		sock_table_quiescent(st->socks, lc->idx);
		if (work != 0) {
			last_work = tsc;
			nap_us = 0;
		} else if (st->conf->idle_sleep_us != 0 && tsc - last_work >= idle_after) {
			nap_us = nap_us == 0 ? LCORE_NAP_MIN_US : nap_us * 2;
			if (nap_us > st->conf->idle_sleep_us)
				nap_us = st->conf->idle_sleep_us;
			lc->naps++;
			lcore_nap(nap_us);
		} else if (n == 0) {
			rte_pause();
		}
	}

	lcore_publish(lc);
	sock_table_lcore_offline(st->socks, lc->idx);
	return 0;
}
