/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <string.h>

#include <rte_ip.h>
#include <rte_mbuf.h>

#include "cksum.h"
#include "stack.h"

enum stack_verdict
ipv4_input(struct stack *s, struct rte_mbuf *m)
{
	const struct rte_ipv4_hdr *ip;
	uint16_t len = rte_pktmbuf_data_len(m), ihl, tot, frag;
	enum pn_rx_drop why;

	if (len < sizeof(*ip)) {
		why = PN_RX_IP_TRUNCATED;
		goto drop;
	}
	ip = rte_pktmbuf_mtod(m, const struct rte_ipv4_hdr *);
	if ((ip->version_ihl >> 4) != 4) {
		why = PN_RX_IP_VERSION;
		goto drop;
	}
	ihl = (ip->version_ihl & 0x0f) * 4;
	if (ihl < sizeof(*ip) || ihl > len) {
		why = PN_RX_IP_IHL;
		goto drop;
	}
	tot = rte_be_to_cpu_16(ip->total_length);
	if (tot < ihl || tot > len) {
		why = PN_RX_IP_LEN;
		goto drop;
	}
	if (cksum_buf(ip, ihl) != 0) {
		why = PN_RX_IP_CSUM;
		goto drop;
	}
	if (ip->dst_addr != s->conf->ip) {
		const int group = (ip->dst_addr & RTE_BE32(0xf0000000u)) == RTE_BE32(0xe0000000u);

		/* a broadcast is for UDP only: no answer to an echo
		 * (icmp_echo_ignore_broadcasts), nor any ICMP error; a group
		 * for UDP, if joined, and IGMP */
		if (group && ip->next_proto_id == IPPROTO_UDP && !stack_mc_joined(s, ip->dst_addr)) {
			why = PN_RX_GROUP_NOT_JOINED;
			goto drop;
		}
		if (group ? ip->next_proto_id != IPPROTO_UDP && ip->next_proto_id != IPPROTO_IGMP :
		    !stack_is_bcast(s->conf, ip->dst_addr) || ip->next_proto_id != IPPROTO_UDP) {
			why = PN_RX_IP_NOT_US;
			goto drop;
		}
	}
	why = stack_martian_src(s->conf, ip->src_addr);
	if (unlikely(why != PN_RX_DROP_MAX))
		goto drop;
	if (ip->time_to_live == 0) {
		why = PN_RX_IP_TTL;
		goto drop;
	}
	/* Drop Ethernet padding beyond the datagram. */
	rte_pktmbuf_trim(m, len - tot);
	frag = rte_be_to_cpu_16(ip->fragment_offset);
	if (unlikely(frag & (RTE_IPV4_HDR_MF_FLAG | RTE_IPV4_HDR_OFFSET_MASK))) {
		enum stack_verdict v;

		m = frag_input(s, m, &v);
		if (m == NULL)
			return v;
		/* whole: a chain at its first fragment's IP header */
		ip = rte_pktmbuf_mtod(m, const struct rte_ipv4_hdr *);
		ihl = (ip->version_ihl & 0x0f) * 4;
	}
	m->l3_len = ihl;
	switch (ip->next_proto_id) {
	case IPPROTO_UDP:
		rte_pktmbuf_adj(m, ihl);
		return likely(m->nb_segs == 1) ? udp_input(s, m) : udp_input_chain(s, m);
	case IPPROTO_ICMP:
		rte_pktmbuf_adj(m, ihl);
		return icmp_input(s, m);
	case IPPROTO_IGMP:
		rte_pktmbuf_adj(m, ihl);
		return igmp_input(s, m);
	default:
		if (s->conf->exception && m->nb_segs == 1)
			return exc_take(s, m, m->l2_len);
		why = PN_RX_IP_PROTO;
		goto drop;
	}
drop:
	s->stats.rx_drop[why]++;
	rte_pktmbuf_free(m);
	return STACK_DROPPED;
}

/* A frame to every host (a broadcast) or to a group's members: no ARP.  A
 * broadcast also goes to our own sockets bound to its port, as the kernel
 * loops one back. */
static __rte_noinline int
ipv4_output_many(struct stack *s, struct rte_mbuf *m, struct rte_ether_hdr *eh,
		 rte_be32_t dst, uint8_t proto, uint32_t ipo)
{
	const uint32_t g = rte_be_to_cpu_32(dst);

	if ((g >> 28) == 0xe) {
		/* RFC 1112 6.4: 01:00:5e and the group's low 23 bits; a copy
		 * to our own members unless the sender said not
		 * (IP_MULTICAST_LOOP), as the kernel loops it back */
		eh->dst_addr = stack_group_mac(dst);
		if (proto == IPPROTO_UDP && !(STACK_IPO_FLAGS(ipo) & STACK_IP_NOLOOP) &&
		    stack_mc_joined(s, dst))
			udp_bcast_loop(s, m);
	} else {
		memset(&eh->dst_addr, 0xff, sizeof(eh->dst_addr));
		if (proto == IPPROTO_UDP)
			udp_bcast_loop(s, m);
	}
	stack_tx(s, m);
	return 0;
}

int
ipv4_output_ip(struct stack *s, struct rte_mbuf *m, rte_be32_t dst, uint8_t proto,
	       uint32_t ipo)
{
	const struct stack_conf *c = s->conf;
	struct rte_ipv4_hdr *ip;
	struct rte_ether_hdr *eh;
	/* to a group or a broadcast: to many, on the link */
	const int group = (dst & RTE_BE32(0xf0000000u)) == RTE_BE32(0xe0000000u);
	const int many = group || stack_is_bcast(c, dst);
	rte_be32_t nh = many ? dst : stack_next_hop(c, dst);

	if (nh == 0) {
		s->stats.tx_drop[PN_TX_NO_ROUTE]++;
		rte_pktmbuf_free(m);
		return -EHOSTUNREACH;
	}
	ip = (struct rte_ipv4_hdr *)rte_pktmbuf_prepend(m, sizeof(*ip));
	eh = (struct rte_ether_hdr *)rte_pktmbuf_prepend(m, RTE_ETHER_HDR_LEN);
	if (ip == NULL || eh == NULL) {
		s->stats.tx_drop[PN_TX_NO_HEADROOM]++;
		rte_pktmbuf_free(m);
		return -ENOBUFS;
	}
	ip->version_ihl = RTE_IPV4_VHL_DEF;
	ip->type_of_service = STACK_IPO_TOS(ipo);
	/* (more than the MTU: fragments, each its own length) */
	ip->total_length = rte_cpu_to_be_16((uint16_t)(rte_pktmbuf_pkt_len(m) - RTE_ETHER_HDR_LEN));
	if (likely(!(STACK_IPO_FLAGS(ipo) & STACK_IP_NODF))) {
		/* Atomic datagrams (DF set) need no unique ID (RFC 6864);
		 * one longer than the MTU is made not atomic by stack_tx */
		ip->packet_id = 0;
		ip->fragment_offset = RTE_BE16(RTE_IPV4_HDR_DF_FLAG);
	} else {
		ip->packet_id = rte_cpu_to_be_16(s->ip_id++);
		ip->fragment_offset = 0;
	}
	/* (0 is 64, but a group's may be 0) */
	ip->time_to_live = STACK_IPO_TTL(ipo) != 0 || group ? STACK_IPO_TTL(ipo) : STACK_TTL;
	ip->next_proto_id = proto;
	ip->hdr_checksum = 0;
	ip->src_addr = c->ip;
	ip->dst_addr = dst;
	if (!(m->ol_flags & RTE_MBUF_F_TX_IP_CKSUM))   /* else the port's */
		ip->hdr_checksum = cksum_buf(ip, sizeof(*ip));

	rte_ether_addr_copy(&c->mac, &eh->src_addr);
	eh->ether_type = RTE_BE16(RTE_ETHER_TYPE_IPV4);
	m->l2_len = RTE_ETHER_HDR_LEN;
	m->l3_len = sizeof(*ip);
	if (unlikely(many))
		return ipv4_output_many(s, m, eh, dst, proto, ipo);
	return arp_resolve(s, m, nh);
}
