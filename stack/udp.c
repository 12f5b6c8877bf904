/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>

#include <rte_ip.h>
#include <rte_mbuf.h>
#include <rte_ring.h>
#include <rte_udp.h>

#include "cksum.h"
#include "sock_table.h"
#include "stack.h"

enum stack_verdict
udp_input(struct stack *s, struct rte_mbuf *m)
{
	uint16_t len = rte_pktmbuf_data_len(m), ulen;
	const struct rte_ipv4_hdr *ip;
	const struct rte_udp_hdr *u;
	struct pn_sock *sock;
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
	sock = s->socks == NULL ? NULL :
		sock_table_lookup(s->socks, u->dst_port, ip->src_addr, u->src_port);
	if (sock == NULL) {
		why = PN_RX_UDP_NO_SOCKET;
		goto drop;
	}
	/* Sockets see whole frames; l2_len/l3_len locate the headers. */
	m->l4_len = sizeof(*u);
	rte_pktmbuf_prepend(m, m->l2_len + m->l3_len);
	if (sock->owner == s->lcore)
		return udp_deliver(s, sock, m);

	struct steer_item it = { .m = m, .sock = sock };

	if (rte_ring_mp_enqueue_elem(s->steer[sock->owner], &it, sizeof(it)) != 0) {
		why = PN_RX_STEER_FULL;
		goto drop;
	}
	s->stats.rx_steered++;
	return STACK_STEERED;
drop:
	s->stats.rx_drop[why]++;
	rte_pktmbuf_free(m);
	return STACK_DROPPED;
}

enum stack_verdict
udp_deliver(struct stack *s, struct pn_sock *sock, struct rte_mbuf *m)
{
	uint32_t payload = rte_pktmbuf_data_len(m) - m->l2_len - m->l3_len - m->l4_len;

	if (atomic_load_explicit(&sock->closing, memory_order_acquire)) {
		s->stats.rx_drop[PN_RX_UDP_NO_SOCKET]++;
		rte_pktmbuf_free(m);
		return STACK_DROPPED;
	}
	if (rte_ring_sp_enqueue(sock->rx, m) != 0) {
		sock->rx_drops++;
		s->stats.rx_drop[PN_RX_UDP_RING_FULL]++;
		rte_pktmbuf_free(m);
		return STACK_DROPPED;
	}
	sock->rx_pkts++;
	sock->rx_bytes += payload;
	s->stats.udp_delivered++;
	s->stats.rx_delivered++;
	return STACK_DELIVERED;
}

int
udp_output(struct stack *s, struct rte_mbuf *m, rte_be16_t sport,
	   rte_be32_t dst, rte_be16_t dport)
{
	uint16_t plen = rte_pktmbuf_data_len(m);
	struct rte_udp_hdr *u;

	if (plen > s->conf->mtu - sizeof(struct rte_ipv4_hdr) - sizeof(*u)) {
		s->stats.tx_drop[PN_TX_TOO_BIG]++;
		rte_pktmbuf_free(m);
		return -EMSGSIZE;
	}
	u = (struct rte_udp_hdr *)rte_pktmbuf_prepend(m, sizeof(*u));
	if (u == NULL) {
		s->stats.tx_drop[PN_TX_NO_HEADROOM]++;
		rte_pktmbuf_free(m);
		return -ENOBUFS;
	}
	u->src_port = sport;
	u->dst_port = dport;
	u->dgram_len = rte_cpu_to_be_16(plen + sizeof(*u));
	u->dgram_cksum = 0;
	u->dgram_cksum = cksum_udp(s->conf->ip, dst, u, plen + sizeof(*u));
	m->l4_len = sizeof(*u);
	return ipv4_output(s, m, dst, IPPROTO_UDP);
}
