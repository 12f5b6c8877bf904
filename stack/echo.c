/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The built-in UDP echo service (RFC 862): every datagram goes back where it
 * came from, in the same mbuf.  Run by the socket's owner lcore.
 */
#include <rte_ip.h>
#include <rte_mbuf.h>
#include <rte_ring.h>
#include <rte_udp.h>

#include "sock_table.h"
#include "stack.h"

unsigned
echo_service(struct stack *s, struct pn_sock *sock, unsigned budget)
{
	struct rte_mbuf *m[32];
	unsigned n = rte_ring_sc_dequeue_burst(sock->rx, (void **)m,
					       RTE_MIN(budget, RTE_DIM(m)), NULL);

	for (unsigned i = 0; i < n; i++) {
		const struct rte_ipv4_hdr *ip = rte_pktmbuf_mtod_offset(m[i],
			const struct rte_ipv4_hdr *, m[i]->l2_len);
		const struct rte_udp_hdr *u = rte_pktmbuf_mtod_offset(m[i],
			const struct rte_udp_hdr *, m[i]->l2_len + m[i]->l3_len);
		rte_be32_t src = ip->src_addr;
		rte_be16_t sport = u->src_port;
		uint32_t len;

		rte_pktmbuf_adj(m[i], m[i]->l2_len + m[i]->l3_len + m[i]->l4_len);
		len = rte_pktmbuf_pkt_len(m[i]);
		/* udp_output refuses port 0 and addresses no answer may go to */
		if (udp_output(s, m[i], sock->key.lport, src, sport) == 0) {
			sock->tx_pkts++;
			sock->tx_bytes += len;
		} else {
			sock->tx_drops++;
		}
	}
	return n;
}
