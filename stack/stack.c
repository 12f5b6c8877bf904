/* SPDX-License-Identifier: BSD-3-Clause */
#include "stack.h"

#include <string.h>

#include <rte_ether.h>
#include <rte_random.h>
#include <rte_ring.h>

#include "sock_table.h"

void
stack_init(struct stack *s, const struct stack_conf *conf,
	   struct rte_mempool *pool, struct sock_table *socks, uint16_t lcore)
{
	memset(s, 0, sizeof(*s));
	s->conf = conf;
	s->pool = pool;
	s->socks = socks;
	s->lcore = lcore;
	s->icmp_tokens = STACK_ICMP_BURST;
	s->ip_id = (uint16_t)rte_rand();
	s->igmp_rand = (uint32_t)rte_rand();
}

void
stack_release(struct stack *s)
{
	stack_tx_done(s, 0);
	exc_done(s, 0);
	arp_cache_flush(s);
	frag_release(s);
}

enum stack_verdict
stack_input(struct stack *s, struct rte_mbuf *m)
{
	s->stats.rx_frames++;
	s->stats.rx_bytes += rte_pktmbuf_pkt_len(m);
	return eth_input(s, m);
}

enum stack_verdict
eth_input(struct stack *s, struct rte_mbuf *m)
{
	const struct rte_ether_hdr *eh;
	enum pn_rx_drop why;

	if (m->nb_segs != 1) {
		why = PN_RX_ETH_MULTISEG;
		goto drop;
	}
	if (rte_pktmbuf_data_len(m) < RTE_ETHER_HDR_LEN) {
		why = PN_RX_ETH_TRUNCATED;
		goto drop;
	}
	eh = rte_pktmbuf_mtod(m, const struct rte_ether_hdr *);
	/* ours, every host's, or an IPv4 group's (01:00:5e, RFC 1112 6.4:
	 * the groups are IP's to check) */
	if (!rte_is_same_ether_addr(&eh->dst_addr, &s->conf->mac) &&
	    !rte_is_broadcast_ether_addr(&eh->dst_addr) &&
	    !(eh->dst_addr.addr_bytes[0] == 0x01 && eh->dst_addr.addr_bytes[1] == 0x00 &&
	      eh->dst_addr.addr_bytes[2] == 0x5e && !(eh->dst_addr.addr_bytes[3] & 0x80))) {
		/* an IPv6 group's (33:33, RFC 2464 7): the kernel's */
		if (s->conf->exception && eh->dst_addr.addr_bytes[0] == 0x33 &&
		    eh->dst_addr.addr_bytes[1] == 0x33)
			return exc_take(s, m, 0);
		why = PN_RX_ETH_NOT_US;
		goto drop;
	}
	/* A group address is never a sender (IEEE 802.3 3.2.3): answering one
	 * would reach every host on the LAN. */
	if (unlikely(rte_is_multicast_ether_addr(&eh->src_addr))) {
		why = PN_RX_ETH_SRC;
		goto drop;
	}
	m->l2_len = RTE_ETHER_HDR_LEN;
	switch (eh->ether_type) {
	case RTE_BE16(RTE_ETHER_TYPE_IPV4):
		rte_pktmbuf_adj(m, RTE_ETHER_HDR_LEN);
		return ipv4_input(s, m);
	case RTE_BE16(RTE_ETHER_TYPE_ARP):
		if (s->conf->exception)
			exc_copy(s, m);         /* both neighbour tables */
		rte_pktmbuf_adj(m, RTE_ETHER_HDR_LEN);
		return arp_input(s, m);
	default:
		if (s->conf->exception)
			return exc_take(s, m, 0);
		why = PN_RX_ETH_TYPE;
		goto drop;
	}
drop:
	s->stats.rx_drop[why]++;
	rte_pktmbuf_free(m);
	return STACK_DROPPED;
}

void
stack_tx(struct stack *s, struct rte_mbuf *m)
{
	if (unlikely(rte_pktmbuf_pkt_len(m) > s->conf->mtu + (uint32_t)RTE_ETHER_HDR_LEN)) {
		ipv4_fragment_tx(s, m);
		return;
	}
	if (unlikely(s->tx_n == STACK_TX_MAX)) {
		s->stats.tx_drop[PN_TX_BATCH_FULL]++;
		rte_pktmbuf_free(m);
		return;
	}
	s->tx[s->tx_n++] = m;
}

void
stack_tx_done(struct stack *s, uint16_t sent)
{
	/* Called right after the burst: frames [0, sent) now belong to the
	 * port and must not be touched; what is left is still ours. */
	s->stats.tx_frames += sent;
	for (uint16_t i = sent; i < s->tx_n; i++)
		rte_pktmbuf_free(s->tx[i]);
	s->stats.tx_drop[PN_TX_PORT_FULL] += s->tx_n - sent;
	s->tx_n = 0;
}

void
stack_tick(struct stack *s)
{
	arp_cache_tick(s);
	frag_tick(s);
	igmp_tick(s);
}

unsigned
stack_steer_drain(struct stack *s)
{
	struct steer_item it[32];
	unsigned n;

	if (s->steer == NULL)
		return 0;
	n = rte_ring_sc_dequeue_burst_elem(s->steer[s->lcore], it, sizeof(it[0]),
					   RTE_DIM(it), NULL);
	for (unsigned i = 0; i < n; i++) {
		if (it[i].err != 0)
			icmp_error_deliver(s, it[i].sock, (int)it[i].err, it[i].m);
		else
			udp_deliver(s, it[i].sock, it[i].m, it[i].local);
	}
	return n;
}
