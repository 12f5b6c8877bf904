/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ICMP (RFC 792): echo requests are answered in place; a port unreachable
 * answers a datagram for a closed port (rate limited, never to what RFC
 * 1812 4.3.2.7 forbids); a port unreachable that comes back for one of our
 * connected sockets is handed to it (its client's next call fails with
 * ECONNREFUSED, as a UDP socket's would).  Nothing else is taken.
 */
#include <errno.h>
#include <string.h>

#include <rte_icmp.h>
#include <rte_ip.h>
#include <rte_mbuf.h>
#include <rte_ring.h>
#include <rte_udp.h>

#include "cksum.h"
#include "sock_table.h"
#include "stack.h"

#define ICMP_DEST_UNREACH  3
#define ICMP_PORT_UNREACH  3
#define ICMP_TIME_EXCEEDED 11
#define ICMP_PARAMETERPROB 12
#define ICMP_ERR_MAX_IP   576     /* RFC 1812 4.3.2.3: what an error may carry */

/* Turn the IPv4 header before m's data (l3_len bytes, maybe with options)
 * into the answer's: options dropped (an echo must not carry them back
 * unchanged: record route and timestamp would lie), addresses swapped.
 * The Ethernet header moves with it.  Returns the header. */
static struct rte_ipv4_hdr *
icmp_answer_ip(struct stack *s, struct rte_mbuf *m)
{
	const uint16_t opt = m->l3_len - sizeof(struct rte_ipv4_hdr);
	uint8_t *base = rte_pktmbuf_mtod_offset(m, uint8_t *, -(int)(m->l2_len + m->l3_len));
	struct rte_ipv4_hdr *ip;

	if (opt > 0) {
		/* Ethernet and the fixed IP header up against the payload */
		memmove(base + opt, base, m->l2_len + sizeof(*ip));
		m->l3_len = sizeof(*ip);
	}
	ip = (struct rte_ipv4_hdr *)rte_pktmbuf_prepend(m, m->l3_len);
	ip->version_ihl = RTE_IPV4_VHL_DEF;
	ip->total_length = rte_cpu_to_be_16((uint16_t)rte_pktmbuf_pkt_len(m));
	ip->dst_addr = ip->src_addr;
	ip->src_addr = s->conf->ip;
	ip->time_to_live = STACK_TTL;
	ip->hdr_checksum = 0;
	ip->hdr_checksum = cksum_buf(ip, sizeof(*ip));
	return ip;
}

/* The Ethernet header before ip: back to where the frame came from. */
static void
icmp_answer_eth(struct stack *s, struct rte_mbuf *m)
{
	struct rte_ether_hdr *eh = (struct rte_ether_hdr *)rte_pktmbuf_prepend(m, m->l2_len);

	rte_ether_addr_copy(&eh->src_addr, &eh->dst_addr);
	rte_ether_addr_copy(&s->conf->mac, &eh->src_addr);
	eh->ether_type = RTE_BE16(RTE_ETHER_TYPE_IPV4);
	m->l2_len = RTE_ETHER_HDR_LEN;
}

/* What an ICMP error means for a UDP socket (Linux's icmp_err_convert and
 * __udp4_lib_err): the errno, and whether it is "hard" (a connected socket
 * hears of it without IP_RECVERR).  0: not an error UDP hears of. */
static int
icmp_errno(uint8_t type, uint8_t code, int *hard)
{
	static const struct { uint8_t err, hard; } unreach[16] = {
		{ ENETUNREACH, 0 }, { EHOSTUNREACH, 0 }, { ENOPROTOOPT, 1 }, { ECONNREFUSED, 1 },
		{ EMSGSIZE, 1 }, { EOPNOTSUPP, 0 }, { ENETUNREACH, 1 }, { EHOSTDOWN, 1 },
		{ ENONET, 1 }, { ENETUNREACH, 1 }, { EHOSTUNREACH, 1 }, { ENETUNREACH, 0 },
		{ EHOSTUNREACH, 0 }, { EHOSTUNREACH, 1 }, { EHOSTUNREACH, 1 }, { EHOSTUNREACH, 1 },
	};

	switch (type) {
	case ICMP_DEST_UNREACH:
		if (code >= RTE_DIM(unreach))
			return 0;
		*hard = unreach[code].hard;
		return unreach[code].err;
	case ICMP_TIME_EXCEEDED:
		*hard = 0;
		return EHOSTUNREACH;
	case ICMP_PARAMETERPROB:
		*hard = 1;
		return EPROTO;
	}
	return 0;
}

/*
 * An ICMP error about a datagram we sent (the quoted IP header and 8 bytes,
 * or more, follow the ICMP header): the error of the socket that sent it,
 * if it hears of it as Linux's UDP would: a connected socket of a hard
 * error, any socket whose client set IP_RECVERR of any.  Consumes m.
 */
static enum stack_verdict
icmp_error_in(struct stack *s, struct rte_mbuf *m, const struct rte_icmp_hdr *icmp,
	      uint16_t len)
{
	const struct rte_ipv4_hdr *q = (const struct rte_ipv4_hdr *)(icmp + 1);
	const struct rte_udp_hdr *qu;
	struct pn_sock *sock;
	uint16_t qihl;
	int err, hard = 0;

	err = icmp_errno(icmp->icmp_type, icmp->icmp_code, &hard);
	if (err == 0 || len < sizeof(*icmp) + sizeof(*q) + sizeof(*qu) ||
	    (q->version_ihl >> 4) != 4)
		goto unmatched;
	qihl = (q->version_ihl & 0x0f) * 4;
	if (qihl < sizeof(*q) || len < sizeof(*icmp) + qihl + sizeof(*qu) ||
	    q->next_proto_id != IPPROTO_UDP || q->src_addr != s->conf->ip)
		goto unmatched;
	qu = (const struct rte_udp_hdr *)((const uint8_t *)q + qihl);
	/* its 4-tuple's socket: a connected one, else the one bound to the port */
	sock = s->socks == NULL ? NULL :
		sock_table_lookup(s->socks, qu->src_port, q->dst_addr, qu->dst_port);
	if (sock == NULL || sock->kind != SOCK_SHM ||
	    !(atomic_load_explicit(&pn_shm_ctl(sock->region)->client.recverr,
				   memory_order_relaxed) ||
	      (hard && sock->key.rip != 0)))
		goto unmatched;
	if (sock->owner == s->lcore)
		return icmp_error_deliver(s, sock, err, m);
	/* the owner counts it, as it counts a steered datagram: only it
	 * knows whether the socket began to close meanwhile */
	struct steer_item it = { .m = m, .sock = sock, .err = (uint32_t)err };

	if (s->steer == NULL ||
	    rte_ring_mp_enqueue_elem(s->steer[sock->owner], &it, sizeof(it)) != 0) {
		s->stats.rx_drop[PN_RX_STEER_FULL]++;
		rte_pktmbuf_free(m);
		return STACK_DROPPED;
	}
	s->steered_to |= 1u << sock->owner;
	s->stats.rx_steered++;
	return STACK_STEERED;
unmatched:
	/* the kernel's sockets may be what it is about */
	if (s->conf->exception && m->nb_segs == 1)
		return exc_take(s, m, m->l2_len + m->l3_len);
	s->stats.rx_drop[PN_RX_ICMP_UNMATCHED]++;
	rte_pktmbuf_free(m);
	return STACK_DROPPED;
}

enum stack_verdict
icmp_error_deliver(struct stack *s, struct pn_sock *sock, int err, struct rte_mbuf *m)
{
	struct pn_shm_errent e = { .err = err };

	if (m != NULL) {
		/* m at the ICMP header, checked by icmp_error_in */
		const struct rte_icmp_hdr *icmp = rte_pktmbuf_mtod(m, const struct rte_icmp_hdr *);
		const struct rte_ipv4_hdr *q = (const struct rte_ipv4_hdr *)(icmp + 1);
		const struct rte_ipv4_hdr *ip = rte_pktmbuf_mtod_offset(m,
			const struct rte_ipv4_hdr *, -(int)m->l3_len);
		const uint16_t qihl = (q->version_ihl & 0x0f) * 4;
		const struct rte_udp_hdr *qu = (const struct rte_udp_hdr *)((const uint8_t *)q + qihl);
		const uint32_t at = sizeof(*icmp) + qihl + sizeof(*qu);
		const uint32_t have = rte_pktmbuf_data_len(m);
		const uint32_t ulen = rte_be_to_cpu_16(qu->dgram_len);
		rte_be16_t mtu;

		e.type = icmp->icmp_type;
		e.code = icmp->icmp_code;
		if (e.type == ICMP_DEST_UNREACH && e.code == 4) {       /* the next hop's MTU */
			memcpy(&mtu, (const uint8_t *)icmp + 6, sizeof(mtu));
			e.info = rte_be_to_cpu_16(mtu);
		}
		e.offender = ip->src_addr;
		e.dst = q->dst_addr;
		e.dport = qu->dst_port;
		/* the payload the error quoted (no more than the datagram had) */
		e.len = (uint16_t)RTE_MIN(have - at, (uint32_t)PN_ERRQ_DATA);
		if (e.len > (ulen >= 8 ? ulen - 8 : 0))
			e.len = (uint16_t)(ulen >= 8 ? ulen - 8 : 0);
		memcpy(e.data, (const uint8_t *)icmp + at, e.len);
		rte_pktmbuf_free(m);
	}
	if (shm_sock_error(s, sock, &e) == 0) {
		s->stats.rx_delivered++;
		return STACK_DELIVERED;
	}
	/* a closing socket is no socket: as a datagram for it is
	 * udp_no_socket */
	s->stats.rx_drop[PN_RX_ICMP_UNMATCHED]++;
	return STACK_DROPPED;
}

/* The ICMP checksum of m (one segment, or a reassembled chain). */
static inline uint32_t
icmp_sum(const struct rte_mbuf *m)
{
	if (likely(m->nb_segs == 1))
		return cksum_add(rte_pktmbuf_mtod(m, const void *), rte_pktmbuf_data_len(m), 0);
	return cksum_add_mbuf(m, 0, rte_pktmbuf_pkt_len(m), 0);
}

enum stack_verdict
icmp_input(struct stack *s, struct rte_mbuf *m)
{
	struct rte_icmp_hdr *icmp;
	enum pn_rx_drop why;

	/* (a reassembled message is a chain: its first segment holds 8
	 * bytes at least, a first fragment's) */
	if (rte_pktmbuf_data_len(m) < sizeof(*icmp)) {
		why = PN_RX_ICMP_TRUNCATED;
		goto drop;
	}
	icmp = rte_pktmbuf_mtod(m, struct rte_icmp_hdr *);
	if (cksum_finish(icmp_sum(m)) != 0) {
		why = PN_RX_ICMP_CSUM;
		goto drop;
	}
	if (icmp->icmp_type == ICMP_DEST_UNREACH || icmp->icmp_type == ICMP_TIME_EXCEEDED ||
	    icmp->icmp_type == ICMP_PARAMETERPROB)  /* (what the first segment holds) */
		return icmp_error_in(s, m, icmp, rte_pktmbuf_data_len(m));
	if (icmp->icmp_type != RTE_IP_ICMP_ECHO_REQUEST || icmp->icmp_code != 0) {
		if (s->conf->exception && m->nb_segs == 1)     /* echo replies, ... */
			return exc_take(s, m, m->l2_len + m->l3_len);
		why = PN_RX_ICMP_TYPE;
		goto drop;
	}

	/* Echo reply: same identifier, sequence and data. */
	icmp->icmp_type = RTE_IP_ICMP_ECHO_REPLY;
	icmp->icmp_cksum = 0;
	icmp->icmp_cksum = cksum_finish(icmp_sum(m));
	icmp_answer_ip(s, m);
	icmp_answer_eth(s, m);

	s->stats.icmp_echo_replies++;
	s->stats.rx_answered++;
	stack_tx(s, m);
	return STACK_ANSWERED;
drop:
	s->stats.rx_drop[why]++;
	rte_pktmbuf_free(m);
	return STACK_DROPPED;
}

/* May we send an ICMP error now?  A token bucket, refilled with time. */
static int
icmp_rate_ok(struct stack *s)
{
	if (s->now_ms > s->icmp_refill_ms) {
		uint64_t add = (s->now_ms - s->icmp_refill_ms) * STACK_ICMP_RATE / 1000;

		if (add > 0) {
			s->icmp_tokens = (uint32_t)RTE_MIN((uint64_t)STACK_ICMP_BURST,
							   s->icmp_tokens + add);
			s->icmp_refill_ms = s->now_ms;
		}
	}
	if (s->icmp_tokens == 0)
		return 0;
	s->icmp_tokens--;
	return 1;
}

enum stack_verdict
icmp_port_unreachable(struct stack *s, struct rte_mbuf *m)
{
	const struct rte_ether_hdr *eh = rte_pktmbuf_mtod_offset(m, const struct rte_ether_hdr *,
		-(int)(m->l2_len + m->l3_len));
	const struct rte_ether_addr peer = eh->src_addr;   /* the headers below overwrite it */
	struct rte_ipv4_hdr *q;
	struct rte_icmp_hdr *icmp;
	uint16_t qlen;

	/* RFC 1812 4.3.2.7: not for a link-layer broadcast (the IP destination
	 * is ours, the source a unique host: ipv4_input saw to both; a
	 * fragment never gets here) */
	if (!rte_is_unicast_ether_addr(&eh->dst_addr)) {
		s->stats.rx_drop[PN_RX_UDP_NO_SOCKET]++;
		rte_pktmbuf_free(m);
		return STACK_DROPPED;
	}
	if (!icmp_rate_ok(s)) {
		s->stats.icmp_unreach_limited++;
		s->stats.rx_drop[PN_RX_UDP_NO_SOCKET]++;
		rte_pktmbuf_free(m);
		return STACK_DROPPED;
	}
	if (unlikely(m->nb_segs > 1)) {
		/* a reassembled datagram: what the error quotes is in its
		 * first segment (its first fragment), and no more is wanted */
		rte_pktmbuf_free(m->next);
		m->next = NULL;
		m->nb_segs = 1;
		m->pkt_len = m->data_len;
	}
	/* In place: the offending datagram from its IP header on, cut to what
	 * an error may carry, behind a new ICMP header, IP header and
	 * Ethernet header (all in the headroom). */
	q = (struct rte_ipv4_hdr *)rte_pktmbuf_prepend(m, m->l3_len);
	qlen = rte_pktmbuf_data_len(m);
	if (qlen > ICMP_ERR_MAX_IP - sizeof(*q) - sizeof(*icmp))
		rte_pktmbuf_trim(m, qlen - (ICMP_ERR_MAX_IP - sizeof(*q) - sizeof(*icmp)));
	icmp = (struct rte_icmp_hdr *)rte_pktmbuf_prepend(m, sizeof(*icmp));
	if (icmp == NULL || rte_pktmbuf_headroom(m) < sizeof(*q) + RTE_ETHER_HDR_LEN) {
		s->stats.rx_drop[PN_RX_UDP_NO_SOCKET]++;
		rte_pktmbuf_free(m);
		return STACK_DROPPED;
	}
	memset(icmp, 0, sizeof(*icmp));
	icmp->icmp_type = ICMP_DEST_UNREACH;
	icmp->icmp_code = ICMP_PORT_UNREACH;
	icmp->icmp_cksum = cksum_buf(icmp, rte_pktmbuf_data_len(m));
	{
		/* a new IP header before it: to the offender, from us */
		struct rte_ipv4_hdr *ip = (struct rte_ipv4_hdr *)rte_pktmbuf_prepend(m, sizeof(*ip));
		struct rte_ether_hdr *neh = (struct rte_ether_hdr *)rte_pktmbuf_prepend(m,
			RTE_ETHER_HDR_LEN);

		memset(ip, 0, sizeof(*ip));
		ip->version_ihl = RTE_IPV4_VHL_DEF;
		ip->total_length = rte_cpu_to_be_16(rte_pktmbuf_data_len(m) - RTE_ETHER_HDR_LEN);
		ip->time_to_live = STACK_TTL;
		ip->next_proto_id = IPPROTO_ICMP;
		ip->src_addr = s->conf->ip;
		ip->dst_addr = q->src_addr;
		ip->hdr_checksum = cksum_buf(ip, sizeof(*ip));
		rte_ether_addr_copy(&peer, &neh->dst_addr);
		rte_ether_addr_copy(&s->conf->mac, &neh->src_addr);
		neh->ether_type = RTE_BE16(RTE_ETHER_TYPE_IPV4);
	}
	m->l2_len = RTE_ETHER_HDR_LEN;
	m->l3_len = sizeof(struct rte_ipv4_hdr);
	m->ol_flags = 0;
	s->stats.icmp_unreach_sent++;
	s->stats.rx_answered++;
	stack_tx(s, m);
	return STACK_ANSWERED;
}
