/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * IPv4 fragments: a datagram sent in fragments by one stack and made whole
 * by another (60,000 bytes of UDP, an 8,000-byte ping answered), fragments
 * built here by hand in every order, and each reason the reassembly gives
 * up on one, with the books exact and every mbuf back in the pool.
 */
#include "harness.h"

#include <stdlib.h>

#include <rte_ring.h>

#include "sock_table.h"

static struct stack st, peer;
static struct stack_conf sc, pc;
static struct sock_table *ptbl;
static struct pn_sock psock;            /* the peer's port 9 */
static uint8_t big[65536];

static int
setup(void **state)
{
	struct rte_ether_addr mac;

	(void)state;
	harness_stack(&st, &sc, GW_IP);
	/* the peer: 198.18.0.1 on PEER_MAC, a socket on port 9 */
	pc = sc;
	pc.ip = rte_cpu_to_be_32(PEER_IP);
	memcpy(pc.mac.addr_bytes, PEER_MAC, 6);
	stack_init(&peer, &pc, test_pool, NULL, 0);
	peer.now_ms = 1000;
	ptbl = sock_table_create("t_fsocks", 16, 1);
	assert_non_null(ptbl);
	peer.socks = ptbl;
	memset(&psock, 0, sizeof(psock));
	psock.key.lport = rte_cpu_to_be_16(9);
	psock.kind = SOCK_ECHO;
	psock.rx = rte_ring_create("t_fsock", 8, SOCKET_ID_ANY,
				   RING_F_SP_ENQ | RING_F_SC_DEQ | RING_F_EXACT_SZ);
	assert_non_null(psock.rx);
	assert_int_equal(sock_table_add(ptbl, &psock), 0);
	/* each knows the other's MAC */
	memcpy(mac.addr_bytes, PEER_MAC, 6);
	arp_cache_insert(&st, rte_cpu_to_be_32(PEER_IP), &mac, 1);
	memcpy(mac.addr_bytes, OUR_MAC, 6);
	arp_cache_insert(&peer, rte_cpu_to_be_32(OUR_IP), &mac, 1);
	for (size_t i = 0; i < sizeof(big); i++)
		big[i] = (uint8_t)(i * 7 + (i >> 8));
	return 0;
}

static int
teardown(void **state)
{
	struct rte_mbuf *m = NULL;

	(void)state;
	sock_table_remove(ptbl, &psock);
	while (rte_ring_dequeue(psock.rx, (void **)&m) == 0)
		rte_pktmbuf_free(m);
	rte_ring_free(psock.rx);
	sock_table_free(ptbl);
	harness_drain_tx(&st);
	harness_drain_tx(&peer);
	stack_release(&st);
	stack_release(&peer);
	assert_int_equal(harness_in_use(), 0);
	return 0;
}

/* len bytes in a chain of mbufs of at most seg bytes each. */
static struct rte_mbuf *
chain_from(const uint8_t *p, uint32_t len, uint32_t seg)
{
	struct rte_mbuf *head = NULL, *tail = NULL;

	while (len > 0) {
		uint32_t k = len < seg ? len : seg;
		struct rte_mbuf *m = mbuf_from(p, k);

		if (head == NULL) {
			head = m;
		} else {
			tail->next = m;
			head->nb_segs++;
			head->pkt_len += k;
		}
		tail = m;
		p += k;
		len -= k;
	}
	return head;
}

/* Feed s->tx's frames of `from` into `to`, last first when reverse;
 * returns the last verdict. */
static enum stack_verdict
carry(struct stack *from, struct stack *to, int reverse)
{
	static uint8_t f[2048];
	enum stack_verdict v = STACK_DROPPED;
	uint16_t n = from->tx_n;

	for (uint16_t k = 0; k < n; k++) {
		struct rte_mbuf *m = from->tx[reverse ? n - 1 - k : k];
		uint32_t len = rte_pktmbuf_pkt_len(m);
		const uint8_t *p;

		assert_true(len <= 1514);
		p = rte_pktmbuf_read(m, 0, len, f);
		assert_non_null(p);
		v = harness_input(to, p, len);
		if (k + 1 < n)
			assert_int_equal(v, STACK_HELD);
	}
	harness_drain_tx(from);
	return v;
}

/* The datagram at the head of the peer's socket: its payload equals p. */
static void
assert_received(const uint8_t *p, uint32_t len)
{
	static uint8_t got[65536];
	struct rte_mbuf *m = NULL;
	uint32_t off;

	assert_int_equal(rte_ring_dequeue(psock.rx, (void **)&m), 0);
	off = m->l2_len + m->l3_len + m->l4_len;
	assert_int_equal(rte_pktmbuf_pkt_len(m) - off, len);
	assert_memory_equal(rte_pktmbuf_read(m, off, len, got), p, len);
	rte_pktmbuf_free(m);
}

static void
udp_60000_out_and_back(void **state)
{
	const struct rte_ipv4_hdr *ip;
	uint16_t id = 0;

	(void)state;
	assert_int_equal(udp_output(&st, chain_from(big, 60000, 2000), rte_cpu_to_be_16(7),
				    rte_cpu_to_be_32(PEER_IP), rte_cpu_to_be_16(9)), 0);
	/* 60,008 bytes of UDP in pieces of 1,480 */
	assert_int_equal(st.tx_n, 41);
	for (uint16_t i = 0; i < st.tx_n; i++) {
		uint8_t h[34];
		uint16_t fo, tot;

		ip = rte_pktmbuf_read(st.tx[i], 14, 20, h + 14);
		fo = rte_be_to_cpu_16(ip->fragment_offset);
		tot = rte_be_to_cpu_16(ip->total_length);
		assert_int_equal(ref_cksum(ip, 20, 0), 0);
		assert_int_equal(fo & 0x1fff, i * 185);             /* 1480 / 8 */
		assert_int_equal(!!(fo & 0x2000), i + 1 < st.tx_n);  /* MF but the last */
		assert_int_equal(fo & 0x4000, 0);                   /* no DF */
		assert_int_equal(tot, i + 1 < st.tx_n ? 1500 : 20 + 60008 - 40 * 1480);
		assert_int_equal(rte_pktmbuf_pkt_len(st.tx[i]), 14u + tot);
		if (i == 0)
			id = ip->packet_id;
		assert_int_equal(ip->packet_id, id);
	}
	assert_int_equal(st.stats.fragmented, 1);
	assert_int_equal(st.stats.frags_out, 41);
	/* the peer makes it whole from the last fragment to the first */
	assert_int_equal(carry(&st, &peer, 1), STACK_DELIVERED);
	assert_received(big, 60000);
	assert_int_equal(peer.stats.reassembled, 1);
	assert_int_equal(peer.stats.frags_in, 41);
	assert_int_equal(peer.stats.rx_merged, 40);
	assert_int_equal(peer.stats.frags_held, 0);
	assert_int_equal(peer.stats.udp_delivered, 1);
	assert_reconciled(&peer);

	/* the largest: 65,507; one more is refused */
	assert_int_equal(udp_output(&st, chain_from(big, 65507, 2048), rte_cpu_to_be_16(7),
				    rte_cpu_to_be_32(PEER_IP), rte_cpu_to_be_16(9)), 0);
	assert_int_equal(st.tx_n, 45);
	assert_int_equal(carry(&st, &peer, 0), STACK_DELIVERED);
	assert_received(big, 65507);
	assert_int_equal(udp_output(&st, chain_from(big, 65508, 2048), rte_cpu_to_be_16(7),
				    rte_cpu_to_be_32(PEER_IP), rte_cpu_to_be_16(9)), -EMSGSIZE);
	assert_int_equal(st.stats.tx_drop[PN_TX_TOO_BIG], 1);
	assert_reconciled(&peer);
}

static void
df_as_linux(void **state)
{
	const struct rte_ipv4_hdr *ip;

	(void)state;
	/* fits: DF, ID 0 (an atomic datagram) */
	assert_int_equal(udp_output(&st, mbuf_from(big, 1472), rte_cpu_to_be_16(7),
				    rte_cpu_to_be_32(PEER_IP), rte_cpu_to_be_16(9)), 0);
	assert_int_equal(st.tx_n, 1);
	ip = rte_pktmbuf_mtod_offset(st.tx[0], const struct rte_ipv4_hdr *, 14);
	assert_int_equal(rte_be_to_cpu_16(ip->fragment_offset), 0x4000);
	assert_int_equal(ip->packet_id, 0);
	harness_drain_tx(&st);
	/* IP_PMTUDISC_DONT: no DF, an ID */
	uint16_t id0 = st.ip_id;

	assert_int_equal(udp_output_ip(&st, mbuf_from(big, 100), rte_cpu_to_be_16(7),
				       rte_cpu_to_be_32(PEER_IP), rte_cpu_to_be_16(9),
				       STACK_IPO(0, 0, STACK_IP_NODF)), 0);
	ip = rte_pktmbuf_mtod_offset(st.tx[0], const struct rte_ipv4_hdr *, 14);
	assert_int_equal(rte_be_to_cpu_16(ip->fragment_offset), 0);
	assert_int_equal(rte_be_to_cpu_16(ip->packet_id), id0);
	harness_drain_tx(&st);
	/* one byte more than fits: two fragments */
	assert_int_equal(udp_output(&st, mbuf_from(big, 1473), rte_cpu_to_be_16(7),
				    rte_cpu_to_be_32(PEER_IP), rte_cpu_to_be_16(9)), 0);
	assert_int_equal(st.tx_n, 2);
	assert_int_equal(carry(&st, &peer, 0), STACK_DELIVERED);
	assert_received(big, 1473);
}

static void
ping_8000_answered_in_fragments(void **state)
{
	static uint8_t dg[8100];
	uint8_t f[1600];
	size_t len = put_icmp_echo(dg, 8, 0x77, 1, big, 8000);   /* 8,008 bytes */

	(void)state;
	/* the request, in fragments of 1,480 from the peer */
	for (size_t off = 0; off < len; off += 1480) {
		size_t k = len - off < 1480 ? len - off : 1480;
		size_t n = put_eth(f, OUR_MAC, PEER_MAC, 0x0800);

		n += put_ipv4(f + n, PEER_IP, OUR_IP, 1, (uint16_t)k, 64,
			      (uint16_t)((off + k < len ? 0x2000 : 0) | off / 8));
		memcpy(f + n, dg + off, k);
		assert_int_equal(harness_input(&st, f, n + k),
				 off + k < len ? STACK_HELD : STACK_ANSWERED);
	}
	assert_int_equal(st.stats.icmp_echo_replies, 1);
	assert_int_equal(st.stats.reassembled, 1);
	assert_reconciled(&st);
	/* the answer leaves in 6 fragments; the peer makes it whole and finds
	 * its checksum right (an echo reply is then not for it) */
	assert_int_equal(st.tx_n, 6);
	assert_int_equal(carry(&st, &peer, 0), STACK_DROPPED);
	assert_int_equal(peer.stats.reassembled, 1);
	assert_int_equal(peer.stats.rx_drop[PN_RX_ICMP_TYPE], 1);
	assert_int_equal(peer.stats.rx_drop[PN_RX_ICMP_CSUM], 0);
	assert_reconciled(&peer);
}

/* A fragment of a UDP datagram from the peer to us: payload bytes
 * [off, off + len) of dg (a UDP header and payload), MF as given. */
static enum stack_verdict
frag_in(struct stack *s, const uint8_t *dg, uint16_t id, uint32_t off, uint32_t len, int mf)
{
	uint8_t f[1600];
	size_t n = put_eth(f, OUR_MAC, PEER_MAC, 0x0800);

	put_ipv4(f + n, PEER_IP, OUR_IP, 17, (uint16_t)len, 64,
		 (uint16_t)((mf ? 0x2000 : 0) | (off / 8)));
	wr16(f + n + 4, id);
	wr16(f + n + 10, 0);
	wr16(f + n + 10, ref_cksum(f + n, 20, 0));
	memcpy(f + n + 20, dg + off, len);
	return harness_input(s, f, n + 20 + len);
}

static void
books_level(const struct stack *s)
{
	assert_reconciled(s);
	assert_true(s->stats.frags_held <= s->stats.rx_merged);
}

static void
reasons(void **state)
{
	static uint8_t dg[4096];
	const struct pn_counters *c = &st.stats;
	size_t n = put_udp(dg, PEER_IP, OUR_IP, 5000, 7, big, 3000);  /* 3,008 */

	(void)state;
	/* bad: empty, not a multiple of 8 with MF, past 65,535 */
	assert_int_equal(frag_in(&st, dg, 1, 0, 0, 1), STACK_DROPPED);
	assert_int_equal(frag_in(&st, dg, 1, 0, 12, 1), STACK_DROPPED);
	{
		uint8_t f[64] = { 0 };
		size_t k = put_eth(f, OUR_MAC, PEER_MAC, 0x0800);

		put_ipv4(f + k, PEER_IP, OUR_IP, 17, 16, 64, 0x1fff);   /* 65,528 + 16 */
		assert_int_equal(harness_input(&st, f, k + 36), STACK_DROPPED);
	}
	assert_int_equal(c->rx_drop[PN_RX_FRAG_BAD], 3);
	books_level(&st);

	/* a duplicate is dropped alone; the datagram still arrives */
	assert_int_equal(frag_in(&st, dg, 2, 0, 1480, 1), STACK_HELD);
	assert_int_equal(frag_in(&st, dg, 2, 0, 1480, 1), STACK_DROPPED);
	assert_int_equal(c->rx_drop[PN_RX_FRAG_DUP], 1);
	assert_int_equal(frag_in(&st, dg, 2, 2960, n - 2960, 0), STACK_HELD);
	/* (no socket on 7: a port unreachable answers it) */
	assert_int_equal(frag_in(&st, dg, 2, 1480, 1480, 1), STACK_ANSWERED);
	assert_int_equal(c->reassembled, 1);
	assert_int_equal(c->icmp_unreach_sent, 1);
	books_level(&st);
	harness_drain_tx(&st);

	/* an overlap takes the datagram with it */
	assert_int_equal(frag_in(&st, dg, 3, 0, 16, 1), STACK_HELD);
	assert_int_equal(frag_in(&st, dg, 3, 8, 16, 1), STACK_DROPPED);
	assert_int_equal(c->rx_drop[PN_RX_FRAG_OVERLAP], 2);
	/* ... and so does disagreeing about the end */
	assert_int_equal(frag_in(&st, dg, 4, 16, 16, 0), STACK_HELD);
	assert_int_equal(frag_in(&st, dg, 4, 32, 8, 1), STACK_DROPPED);
	assert_int_equal(c->rx_drop[PN_RX_FRAG_OVERLAP], 4);
	assert_int_equal(c->frags_held, 0);
	books_level(&st);

	/* too many fragments */
	stack_release(&st);             /* (a table for the limits below) */
	sc.frag_fragments = 4;
	for (uint32_t i = 0; i < 4; i++)
		assert_int_equal(frag_in(&st, dg, 5, i * 8, 8, 1), STACK_HELD);
	assert_int_equal(frag_in(&st, dg, 5, 32, 8, 1), STACK_DROPPED);
	assert_int_equal(c->rx_drop[PN_RX_FRAG_TOO_MANY], 5);
	stack_release(&st);
	sc.frag_fragments = 128;

	/* time is up */
	assert_int_equal(frag_in(&st, dg, 6, 0, 8, 1), STACK_HELD);
	st.now_ms += sc.frag_time_ms - 1;
	stack_tick(&st);
	assert_int_equal(c->frags_held, 1);
	st.now_ms += 1;
	stack_tick(&st);
	assert_int_equal(c->rx_drop[PN_RX_FRAG_TIMEOUT], 1);
	assert_int_equal(c->frags_held, 0);
	books_level(&st);

	/* a full table: the oldest datagram goes */
	stack_release(&st);
	sc.frag_flows = 2;
	assert_int_equal(frag_in(&st, dg, 7, 0, 8, 1), STACK_HELD);
	st.now_ms++;
	assert_int_equal(frag_in(&st, dg, 8, 0, 8, 1), STACK_HELD);
	assert_int_equal(frag_in(&st, dg, 8, 8, 8, 1), STACK_HELD);
	st.now_ms++;
	assert_int_equal(frag_in(&st, dg, 9, 0, 8, 1), STACK_HELD);
	assert_int_equal(c->rx_drop[PN_RX_FRAG_TABLE_FULL], 1);
	/* ... and when ipfrag_held fragments are held */
	sc.frag_held = 3;
	assert_int_equal(frag_in(&st, dg, 9, 8, 8, 1), STACK_HELD);
	assert_int_equal(c->rx_drop[PN_RX_FRAG_TABLE_FULL], 3);   /* 8's two went */
	assert_int_equal(c->frags_held, 2);
	books_level(&st);

	/* reassembly off */
	stack_release(&st);
	assert_int_equal(c->frags_held, 0);
	sc.frag_flows = 0;
	assert_int_equal(frag_in(&st, dg, 10, 0, 8, 1), STACK_DROPPED);
	assert_int_equal(c->rx_drop[PN_RX_IP_FRAGMENT], 1);
	sc.frag_flows = 64;
	sc.frag_held = 1024;
	books_level(&st);
}

static void
checksum_and_tiny_fragments(void **state)
{
	static uint8_t dg[4096];
	size_t n = put_udp(dg, OUR_IP, PEER_IP, 5000, 9, big, 24);   /* 32 */

	(void)state;
	/* the peer, a socket on 9: a datagram in 8-byte pieces arrives in
	 * one mbuf; the same with a wrong checksum is dropped */
	for (uint32_t off = 0; off < n; off += 8) {
		uint8_t f[64];
		size_t k = put_eth(f, PEER_MAC, OUR_MAC, 0x0800);

		put_ipv4(f + k, OUR_IP, PEER_IP, 17, 8, 64,
			 (uint16_t)((off + 8 < n ? 0x2000 : 0) | off / 8));
		memcpy(f + k + 20, dg + off, 8);
		assert_int_equal(harness_input(&peer, f, k + 28),
				 off + 8 < n ? STACK_HELD : STACK_DELIVERED);
	}
	{
		struct rte_mbuf *m = NULL;

		assert_int_equal(rte_ring_dequeue(psock.rx, (void **)&m), 0);
		assert_int_equal(m->nb_segs, 1);
		assert_memory_equal(rte_pktmbuf_mtod_offset(m, uint8_t *, 42), big, 24);
		rte_pktmbuf_free(m);
	}
	n = put_udp(dg, OUR_IP, PEER_IP, 5000, 9, big, 3000);
	dg[100] ^= 1;
	for (uint32_t off = 0; off < n; off += 1480) {
		uint8_t f[1600];
		uint32_t len = n - off < 1480 ? (uint32_t)(n - off) : 1480;
		size_t k = put_eth(f, PEER_MAC, OUR_MAC, 0x0800);

		put_ipv4(f + k, OUR_IP, PEER_IP, 17, (uint16_t)len, 64,
			 (uint16_t)((off + len < n ? 0x2000 : 0) | off / 8));
		memcpy(f + k + 20, dg + off, len);
		harness_input(&peer, f, k + 20 + len);
	}
	assert_int_equal(peer.stats.rx_drop[PN_RX_UDP_CSUM], 1);
	assert_reconciled(&peer);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(udp_60000_out_and_back, setup, teardown),
		cmocka_unit_test_setup_teardown(df_as_linux, setup, teardown),
		cmocka_unit_test_setup_teardown(ping_8000_answered_in_fragments, setup, teardown),
		cmocka_unit_test_setup_teardown(reasons, setup, teardown),
		cmocka_unit_test_setup_teardown(checksum_and_tiny_fragments, setup, teardown),
	};

	harness_init();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
