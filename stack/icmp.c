/* SPDX-License-Identifier: BSD-3-Clause */
#include <rte_icmp.h>
#include <rte_ip.h>
#include <rte_mbuf.h>

#include "cksum.h"
#include "stack.h"

/* ICMP (RFC 792): we answer echo requests, in place, and nothing else. */
enum stack_verdict
icmp_input(struct stack *s, struct rte_mbuf *m)
{
	uint16_t len = rte_pktmbuf_data_len(m);
	struct rte_icmp_hdr *icmp;
	struct rte_ipv4_hdr *ip;
	struct rte_ether_hdr *eh;
	enum pn_rx_drop why;

	if (len < sizeof(*icmp)) {
		why = PN_RX_ICMP_TRUNCATED;
		goto drop;
	}
	icmp = rte_pktmbuf_mtod(m, struct rte_icmp_hdr *);
	if (cksum_buf(icmp, len) != 0) {
		why = PN_RX_ICMP_CSUM;
		goto drop;
	}
	if (icmp->icmp_type != RTE_IP_ICMP_ECHO_REQUEST || icmp->icmp_code != 0) {
		why = PN_RX_ICMP_TYPE;
		goto drop;
	}

	/* Echo reply: same identifier, sequence and data. */
	icmp->icmp_type = RTE_IP_ICMP_ECHO_REPLY;
	icmp->icmp_cksum = 0;
	icmp->icmp_cksum = cksum_buf(icmp, len);

	ip = (struct rte_ipv4_hdr *)rte_pktmbuf_prepend(m, m->l3_len);
	ip->dst_addr = ip->src_addr;
	ip->src_addr = s->conf->ip;
	ip->time_to_live = 64;
	ip->hdr_checksum = 0;
	ip->hdr_checksum = cksum_buf(ip, m->l3_len);

	eh = (struct rte_ether_hdr *)rte_pktmbuf_prepend(m, m->l2_len);
	rte_ether_addr_copy(&eh->src_addr, &eh->dst_addr);
	rte_ether_addr_copy(&s->conf->mac, &eh->src_addr);

	s->stats.icmp_echo_replies++;
	s->stats.rx_answered++;
	stack_tx(s, m);
	return STACK_ANSWERED;
drop:
	s->stats.rx_drop[why]++;
	rte_pktmbuf_free(m);
	return STACK_DROPPED;
}
