/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <string.h>

#include <rte_ip.h>
#include <rte_mbuf.h>
#include <rte_ring.h>
#include <rte_udp.h>

#include "cksum.h"
#include "sock_table.h"
#include "stack.h"

/* m (a whole frame) to sock, owned by another lcore: steered to it. */
static __rte_noinline enum stack_verdict
udp_steer(struct stack *s, struct pn_sock *sock, struct rte_mbuf *m, int local)
{
	struct steer_item it = { .m = m, .sock = sock, .local = (uint32_t)local };

	if (rte_ring_mp_enqueue_elem(s->steer[sock->owner], &it, sizeof(it)) != 0) {
		rte_pktmbuf_free(m);
		if (local == UDP_BCAST_COPY) {
			s->stats.bcast_copies_dropped++;
		} else if (local == UDP_FROM_LOCAL) {
			s->stats.local_ring_full++;
		} else {
			s->stats.rx_drop[PN_RX_STEER_FULL]++;
		}
		return STACK_DROPPED;
	}
	s->steered_to |= 1u << sock->owner;
	if (local == UDP_FROM_PORT)
		s->stats.rx_steered++;
	return STACK_STEERED;
}

/* m (a whole frame) to sock: delivered here, or steered to its owner. */
static inline enum stack_verdict
udp_hand(struct stack *s, struct pn_sock *sock, struct rte_mbuf *m, int local)
{
	if (likely(sock->owner == s->lcore))
		return udp_deliver(s, sock, m, local);
	return udp_steer(s, sock, m, local);
}

enum stack_verdict
udp_bcast_deliver(struct stack *s, struct rte_mbuf *m, int local)
{
	const struct rte_ipv4_hdr *ip = rte_pktmbuf_mtod_offset(m, const struct rte_ipv4_hdr *,
								m->l2_len);
	const struct rte_udp_hdr *u = rte_pktmbuf_mtod_offset(m, const struct rte_udp_hdr *,
							      m->l2_len + m->l3_len);
	struct pn_sock *to[64], *sk;
	unsigned n = 0;

	if (s->socks != NULL) {
		sk = sock_table_lookup_connected(s->socks, u->dst_port, ip->src_addr, u->src_port);
		if (sk != NULL)
			to[n++] = sk;
		for (sk = atomic_load_explicit(&s->socks->ports[rte_be_to_cpu_16(u->dst_port)].bound,
					       memory_order_acquire);
		     sk != NULL && n < RTE_DIM(to); sk = sock_table_next_bound(sk))
			if (!atomic_load_explicit(&sk->closing, memory_order_acquire))
				to[n++] = sk;
	}
	if (n == 0) {
		if (local == UDP_FROM_PORT && s->conf->exc_udp && m->nb_segs == 1)
			return exc_take(s, m, 0);       /* (a DHCP client's, ...) */
		rte_pktmbuf_free(m);
		if (local == UDP_FROM_PORT)
			s->stats.rx_drop[PN_RX_UDP_NO_SOCKET]++;
		return STACK_DROPPED;
	}
	if (local == UDP_FROM_LOCAL)
		s->stats.local_sent++;
	/* copies for all but the first, which gets m and the datagram's count */
	for (unsigned i = 1; i < n; i++) {
		struct rte_mbuf *c = rte_pktmbuf_copy(m, s->pool, 0, UINT32_MAX);

		if (c == NULL) {
			s->stats.bcast_copies_dropped++;
			to[i]->rx_drops++;
			continue;
		}
		udp_hand(s, to[i], c, UDP_BCAST_COPY);
	}
	if (local == UDP_FROM_PORT) {
		if ((ip->dst_addr & RTE_BE32(0xf0000000u)) == RTE_BE32(0xe0000000u))
			s->stats.udp_multicast++;
		else
			s->stats.udp_broadcast++;
	}
	return udp_hand(s, to[0], m, local);
}

void
udp_bcast_loop(struct stack *s, const struct rte_mbuf *m)
{
	struct rte_mbuf *c;
	struct rte_udp_hdr *u;

	if (s->socks == NULL)
		return;
	u = rte_pktmbuf_mtod_offset(m, struct rte_udp_hdr *, m->l2_len + m->l3_len);
	if (atomic_load_explicit(&s->socks->ports[rte_be_to_cpu_16(u->dst_port)].bound,
				 memory_order_acquire) == NULL)
		return;                 /* no one here listens (the common case) */
	c = rte_pktmbuf_copy(m, s->pool, 0, UINT32_MAX);
	if (c == NULL) {
		s->stats.local_sent++;
		s->stats.local_ring_full++;
		return;
	}
	c->ol_flags = 0;
	udp_bcast_deliver(s, c, UDP_FROM_LOCAL);
}

/* A checked datagram (m at its UDP header) to its socket, or to every one
 * for a broadcast, or answered with a port unreachable. */
static __rte_always_inline enum stack_verdict
udp_dispatch(struct stack *s, struct rte_mbuf *m, const struct rte_ipv4_hdr *ip,
	     const struct rte_udp_hdr *u)
{
	struct pn_sock *sock;

	if (unlikely(ip->dst_addr != s->conf->ip)) {       /* a broadcast */
		m->l4_len = sizeof(*u);
		rte_pktmbuf_prepend(m, m->l2_len + m->l3_len);
		return udp_bcast_deliver(s, m, UDP_FROM_PORT);
	}
	sock = s->socks == NULL ? NULL :
		sock_table_lookup(s->socks, u->dst_port, ip->src_addr, u->src_port);
	if (sock == NULL) {
		/* no socket of pollnet's holds the port: the kernel's may */
		if (s->conf->exc_udp && m->nb_segs == 1)
			return exc_take(s, m, m->l2_len + m->l3_len);
		return icmp_port_unreachable(s, m);
	}
	/* Sockets see whole frames; l2_len/l3_len locate the headers. */
	m->l4_len = sizeof(*u);
	rte_pktmbuf_prepend(m, m->l2_len + m->l3_len);
	return udp_hand(s, sock, m, UDP_FROM_PORT);
}

enum stack_verdict
udp_input(struct stack *s, struct rte_mbuf *m)
{
	uint16_t len = rte_pktmbuf_data_len(m), ulen;
	const struct rte_ipv4_hdr *ip;
	const struct rte_udp_hdr *u;
	enum pn_rx_drop why;

	if (len < sizeof(*u)) {
		why = PN_RX_UDP_TRUNCATED;
		goto drop;
	}
	u = rte_pktmbuf_mtod(m, const struct rte_udp_hdr *);
	ulen = rte_be_to_cpu_16(u->dgram_len);
	if (ulen < sizeof(*u) || ulen > len) {
		why = PN_RX_UDP_LEN;
		goto drop;
	}
	rte_pktmbuf_trim(m, len - ulen);
	ip = rte_pktmbuf_mtod_offset(m, const struct rte_ipv4_hdr *, -(int)m->l3_len);
	if (u->dgram_cksum != 0 &&
	    cksum_finish(cksum_add(u, ulen, cksum_pseudo(ip->src_addr,
				ip->dst_addr, IPPROTO_UDP, ulen))) != 0) {
		why = PN_RX_UDP_CSUM;
		goto drop;
	}
	return udp_dispatch(s, m, ip, u);
drop:
	s->stats.rx_drop[why]++;
	rte_pktmbuf_free(m);
	return STACK_DROPPED;
}

enum stack_verdict
udp_input_chain(struct stack *s, struct rte_mbuf *m)
{
	/* its UDP header in the first segment: a first fragment carries 8
	 * bytes at least */
	const uint32_t len = rte_pktmbuf_pkt_len(m);
	const struct rte_udp_hdr *u = rte_pktmbuf_mtod(m, const struct rte_udp_hdr *);
	const struct rte_ipv4_hdr *ip = rte_pktmbuf_mtod_offset(m, const struct rte_ipv4_hdr *,
								 -(int)m->l3_len);
	enum pn_rx_drop why;

	/* its UDP length the IP payload's (no padding behind a datagram made
	 * whole), its checksum over the chain */
	if (rte_pktmbuf_data_len(m) < sizeof(*u) || rte_be_to_cpu_16(u->dgram_len) != len) {
		why = rte_pktmbuf_data_len(m) < sizeof(*u) ? PN_RX_UDP_TRUNCATED : PN_RX_UDP_LEN;
		goto drop;
	}
	if (u->dgram_cksum != 0 &&
	    cksum_finish(cksum_add_mbuf(m, 0, len, cksum_pseudo(ip->src_addr, ip->dst_addr,
					IPPROTO_UDP, (uint16_t)len))) != 0) {
		why = PN_RX_UDP_CSUM;
		goto drop;
	}
	return udp_dispatch(s, m, ip, u);
drop:
	s->stats.rx_drop[why]++;
	rte_pktmbuf_free(m);
	return STACK_DROPPED;
}

/* Count where a datagram went: from the port (the RX identity) or from a
 * local socket (the local identity). */
static enum stack_verdict
deliver_verdict(struct stack *s, int local, enum pn_rx_drop why, int ok)
{
	if (local == UDP_BCAST_COPY) {
		if (ok)
			s->stats.bcast_copies++;
		else
			s->stats.bcast_copies_dropped++;
		return ok ? STACK_DELIVERED : STACK_DROPPED;
	}
	if (ok) {
		if (local) {
			s->stats.local_delivered++;
		} else {
			s->stats.udp_delivered++;
			s->stats.rx_delivered++;
		}
		return STACK_DELIVERED;
	}
	if (!local)
		s->stats.rx_drop[why]++;
	else if (why == PN_RX_UDP_NO_SOCKET)
		s->stats.local_no_socket++;
	else
		s->stats.local_ring_full++;
	return STACK_DROPPED;
}

enum stack_verdict
udp_deliver(struct stack *s, struct pn_sock *sock, struct rte_mbuf *m, int local)
{
	uint32_t off = m->l2_len + m->l3_len + m->l4_len;
	uint32_t payload = rte_pktmbuf_pkt_len(m) - off;
	int ok;

	if (atomic_load_explicit(&sock->closing, memory_order_acquire)) {
		rte_pktmbuf_free(m);
		return deliver_verdict(s, local, PN_RX_UDP_NO_SOCKET, 0);
	}
	if (sock->kind == SOCK_SHM) {
		const struct rte_ipv4_hdr *ip = rte_pktmbuf_mtod_offset(m,
			const struct rte_ipv4_hdr *, m->l2_len);
		const struct rte_udp_hdr *u = rte_pktmbuf_mtod_offset(m,
			const struct rte_udp_hdr *, m->l2_len + m->l3_len);

		const struct udp_meta mt = {
			.src = ip->src_addr, .dst = ip->dst_addr, .sport = u->src_port,
			.tos = ip->type_of_service, .ttl = ip->time_to_live,
		};

		/* the one copy across the trust boundary */
		if (likely(m->nb_segs == 1))
			ok = shm_sock_put(s, sock, rte_pktmbuf_mtod_offset(m, void *, off),
					  payload, &mt) == 0;
		else
			ok = shm_sock_put_mbuf(s, sock, m, off, payload, &mt) == 0;
		rte_pktmbuf_free(m);
	} else {
		ok = rte_ring_sp_enqueue(sock->rx, m) == 0;
		if (!ok)
			rte_pktmbuf_free(m);
	}
	if (!ok) {
		sock->rx_drops++;
		return deliver_verdict(s, local, PN_RX_UDP_RING_FULL, 0);
	}
	sock->rx_pkts++;
	sock->rx_bytes += payload;
	if (unlikely(payload > (uint32_t)s->conf->mtu - 28) && local == UDP_FROM_PORT)
		s->stats.udp_oversize++;
	return deliver_verdict(s, local, 0, 1);
}

/* A UDP header for plen bytes of payload, checksum 0 (none, or to fill). */
static inline void
udp_hdr_fill(struct rte_udp_hdr *u, rte_be16_t sport, rte_be16_t dport, uint16_t plen)
{
	u->src_port = sport;
	u->dst_port = dport;
	u->dgram_len = rte_cpu_to_be_16(plen + sizeof(*u));
	u->dgram_cksum = 0;
}

/*
 * A datagram from src:sport to one of our addresses: straight to the
 * destination socket, never to the port.  m holds the payload.  From one
 * of our sockets (src: stack_local_src), or from a kernel program (the
 * control thread's, stack_local_from_kernel); one of ours to a port no
 * socket of ours holds goes to the kernel's programs where the kernel
 * shares our address (kernel_out).
 */
static int
udp_local(struct stack *s, struct rte_mbuf *m, rte_be32_t src, rte_be16_t sport,
	  rte_be32_t dst, rte_be16_t dport, uint8_t tos, uint8_t ttl, int from_kernel)
{
	struct pn_sock *to;
	struct rte_ipv4_hdr *ip;
	struct rte_udp_hdr *u;
	uint16_t plen = (uint16_t)rte_pktmbuf_pkt_len(m);

	s->stats.local_sent++;
	to = s->socks == NULL ? NULL : sock_table_lookup(s->socks, dport, src, sport);
	if (to == NULL && s->kernel_out != NULL && dst == s->conf->ip && !from_kernel) {
		if (s->kernel_out(s->kernel_out_arg, m, sport, dst, dport) < 0) {
			s->stats.local_ring_full++;
			return -ENOBUFS;
		}
		s->stats.local_to_kernel++;
		return 0;
	}
	if (to == NULL) {
		s->stats.local_no_socket++;
		rte_pktmbuf_free(m);
		return -ECONNREFUSED;
	}
	/* The headers a receiver reads: source address and port, lengths.
	 * Checksums are not needed: nothing crosses a wire. */
	u = (struct rte_udp_hdr *)rte_pktmbuf_prepend(m, sizeof(*u));
	ip = (struct rte_ipv4_hdr *)rte_pktmbuf_prepend(m, sizeof(*ip));
	if (u == NULL || ip == NULL || rte_pktmbuf_prepend(m, RTE_ETHER_HDR_LEN) == NULL) {
		s->stats.tx_drop[PN_TX_NO_HEADROOM]++;
		rte_pktmbuf_free(m);
		return -ENOBUFS;
	}
	udp_hdr_fill(u, sport, dport, plen);
	memset(ip, 0, sizeof(*ip));
	ip->version_ihl = RTE_IPV4_VHL_DEF;
	ip->total_length = rte_cpu_to_be_16(plen + sizeof(*u) + sizeof(*ip));
	ip->type_of_service = tos;
	ip->time_to_live = ttl;
	ip->next_proto_id = IPPROTO_UDP;
	ip->src_addr = src;
	ip->dst_addr = dst;
	m->l2_len = RTE_ETHER_HDR_LEN;
	m->l3_len = sizeof(*ip);
	m->l4_len = sizeof(*u);
	if (to->owner == s->lcore)
		return udp_deliver(s, to, m, 1) == STACK_DELIVERED ? 0 : -ENOBUFS;

	struct steer_item it = { .m = m, .sock = to, .local = 1 };

	if (rte_ring_mp_enqueue_elem(s->steer[to->owner], &it, sizeof(it)) != 0) {
		s->stats.local_ring_full++;
		rte_pktmbuf_free(m);
		return -ENOBUFS;
	}
	s->steered_to |= 1u << to->owner;
	return 0;
}

int
udp_output_ip(struct stack *s, struct rte_mbuf *m, rte_be16_t sport,
	      rte_be32_t dst, rte_be16_t dport, uint32_t ipo)
{
	const uint32_t plen = rte_pktmbuf_pkt_len(m);
	struct rte_udp_hdr *u;
	int frags = 0;

	if (unlikely(plen > s->conf->mtu - sizeof(struct rte_ipv4_hdr) - sizeof(*u))) {
		if (plen > 65535 - sizeof(struct rte_ipv4_hdr) - sizeof(*u)) {
			s->stats.tx_drop[PN_TX_TOO_BIG]++;
			rte_pktmbuf_free(m);
			return -EMSGSIZE;
		}
		frags = 1;              /* (or local: no wire) */
	}
	if (unlikely(dport == 0 || !stack_dst_ok(s->conf, dst))) {
		s->stats.tx_drop[PN_TX_BAD_DEST]++;
		rte_pktmbuf_free(m);
		return -EINVAL;
	}
	if (stack_is_local(s->conf, dst))
		return udp_local(s, m, stack_local_src(s->conf, dst), sport, dst, dport,
				 STACK_IPO_TOS(ipo),
				 STACK_IPO_TTL(ipo) != 0 ? STACK_IPO_TTL(ipo) : STACK_TTL, 0);
	u = (struct rte_udp_hdr *)rte_pktmbuf_prepend(m, sizeof(*u));
	if (u == NULL) {
		s->stats.tx_drop[PN_TX_NO_HEADROOM]++;
		rte_pktmbuf_free(m);
		return -ENOBUFS;
	}
	udp_hdr_fill(u, sport, dport, (uint16_t)plen);
	if (unlikely(frags)) {
		/* the port cannot sum a datagram it sends in pieces */
		uint16_t c = cksum_finish(cksum_add_mbuf(m, 0, plen + sizeof(*u),
					  cksum_pseudo(s->conf->ip, dst, IPPROTO_UDP,
						       (uint16_t)(plen + sizeof(*u)))));

		u->dgram_cksum = c == 0 ? 0xffff : c;
	} else if (s->conf->tx_offload & STACK_TX_CKSUM) {
		/* the port sums the rest (DPDK's convention: the pseudo
		 * header, length included, folded, not complemented) */
		uint32_t ph = cksum_pseudo(s->conf->ip, dst, IPPROTO_UDP, plen + sizeof(*u));

		ph = (ph & 0xffff) + (ph >> 16);
		u->dgram_cksum = (uint16_t)((ph & 0xffff) + (ph >> 16));
		m->ol_flags |= RTE_MBUF_F_TX_IPV4 | RTE_MBUF_F_TX_IP_CKSUM |
			       RTE_MBUF_F_TX_UDP_CKSUM;
	} else {
		u->dgram_cksum = cksum_udp(s->conf->ip, dst, u, (uint16_t)(plen + sizeof(*u)));
	}
	m->l4_len = sizeof(*u);
	return ipv4_output_ip(s, m, dst, IPPROTO_UDP, ipo);
}

int
stack_local_from_kernel(struct stack *s, struct rte_mbuf *m, rte_be32_t src, rte_be16_t sport,
			rte_be32_t dst, rte_be16_t dport)
{
	s->stats.local_from_kernel++;
	return udp_local(s, m, src, sport, dst, dport, 0, STACK_TTL, 1);
}
