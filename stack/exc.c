/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The exception path: pollnet beside the kernel.  The kernel has an
 * interface of its own (a tap, app/exc.c) with pollnet's address and MAC;
 * a frame the stack does not consume goes there instead of being dropped
 * (TCP, IPv6, ICMP but echo requests and the errors pollnet's sockets take,
 * UDP to a port no pollnet socket holds with exc_udp), every ARP message
 * is copied there (both neighbour tables stay right), and what the kernel
 * sends goes out the port.  The lcore moves the frames (app/lcore.c); here
 * they are chosen and counted, by kind, both ways.
 */
#include "stack.h"

#include <rte_arp.h>
#include <rte_ether.h>
#include <rte_ip.h>
#include <rte_mbuf.h>

static enum pn_exc_kind
exc_kind(const struct rte_mbuf *m)
{
	const struct rte_ether_hdr *eh = rte_pktmbuf_mtod(m, const struct rte_ether_hdr *);
	const struct rte_ipv4_hdr *ip;

	if (rte_pktmbuf_data_len(m) < RTE_ETHER_HDR_LEN)
		return PN_EXC_OTHER;
	switch (eh->ether_type) {
	case RTE_BE16(RTE_ETHER_TYPE_ARP):
		return PN_EXC_ARP;
	case RTE_BE16(RTE_ETHER_TYPE_IPV6):
		return PN_EXC_IPV6;
	case RTE_BE16(RTE_ETHER_TYPE_IPV4):
		if (rte_pktmbuf_data_len(m) < RTE_ETHER_HDR_LEN + sizeof(*ip))
			return PN_EXC_IPV4;
		ip = (const struct rte_ipv4_hdr *)(eh + 1);
		switch (ip->next_proto_id) {
		case IPPROTO_TCP:
			return PN_EXC_TCP;
		case IPPROTO_UDP:
			return PN_EXC_UDP;
		case IPPROTO_ICMP:
			return PN_EXC_ICMP;
		default:
			return PN_EXC_IPV4;
		}
	default:
		return PN_EXC_OTHER;
	}
}

/* (exc_in counts what is offered to the kernel; exc_in_dropped, of those,
 * what did not reach it) */
static void
exc_queue(struct stack *s, struct rte_mbuf *m)
{
	s->stats.exc_in[exc_kind(m)]++;
	if (unlikely(s->exc_n == STACK_EXC_MAX)) {
		s->stats.exc_in_dropped++;
		rte_pktmbuf_free(m);
		return;
	}
	s->exc[s->exc_n++] = m;
}

enum stack_verdict
exc_take(struct stack *s, struct rte_mbuf *m, uint32_t back)
{
	/* the headers the layers stepped over are still in front of it */
	rte_pktmbuf_prepend(m, (uint16_t)back);
	s->stats.rx_kernel++;
	exc_queue(s, m);
	return STACK_KERNEL;
}

void
exc_copy(struct stack *s, const struct rte_mbuf *m)
{
	struct rte_mbuf *c;

	if (s->exc_n == STACK_EXC_MAX ||
	    (c = rte_pktmbuf_copy(m, s->pool, 0, UINT32_MAX)) == NULL) {
		s->stats.exc_in[PN_EXC_ARP]++;
		s->stats.exc_in_dropped++;
		return;
	}
	exc_queue(s, c);
}

void
exc_from_kernel(struct stack *s, struct rte_mbuf *m)
{
	const enum pn_exc_kind k = exc_kind(m);

	if (k == PN_EXC_ARP &&
	    rte_pktmbuf_data_len(m) >= RTE_ETHER_HDR_LEN + sizeof(struct rte_arp_hdr)) {
		const struct rte_arp_hdr *a = rte_pktmbuf_mtod_offset(m, const struct rte_arp_hdr *,
								      RTE_ETHER_HDR_LEN);

		/* pollnet answered the request already: one reply is enough */
		if (a->arp_opcode == RTE_BE16(RTE_ARP_OP_REPLY) &&
		    a->arp_data.arp_sip == s->conf->ip) {
			s->stats.exc_arp_dup++;
			rte_pktmbuf_free(m);
			return;
		}
	}
	/* (a frame longer than the MTU: the kernel was told the port's) */
	if (unlikely(s->tx_n == STACK_TX_MAX || m->nb_segs != 1 ||
		     rte_pktmbuf_pkt_len(m) > s->conf->mtu + (uint32_t)RTE_ETHER_HDR_LEN)) {
		s->stats.exc_out_dropped++;
		rte_pktmbuf_free(m);
		return;
	}
	m->ol_flags = 0;                /* complete as the kernel made it */
	s->stats.exc_out[k]++;
	s->tx[s->tx_n++] = m;
}

void
exc_done(struct stack *s, uint16_t sent)
{
	for (uint16_t i = sent; i < s->exc_n; i++)
		rte_pktmbuf_free(s->exc[i]);
	s->stats.exc_in_dropped += s->exc_n - sent;
	s->exc_n = 0;
}
