/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * IPv4 multicast in the stack: datagrams to a group joined (and not),
 * IGMP messages checked byte by byte against RFC 3376's and RFC 2236's
 * formats, queries answered in the version the querier speaks, and a
 * group's datagram looped back to our own members or not.
 */
#include "harness.h"

#include <rte_ring.h>

#include "sock_table.h"

static struct stack st;
static struct stack_conf sc;
static struct sock_table *tbl;
static struct pn_sock sock;             /* bound to port 5000 */
static struct mc_table mc;

#define G1 0xef010203u                  /* 239.1.2.3 */
#define G2 0xe8010101u                  /* 232.1.1.1 */
#define SRC 0xc6120005u                 /* 198.18.0.5 */

static int
setup(void **state)
{
	(void)state;
	harness_stack(&st, &sc, GW_IP);
	tbl = sock_table_create("t_msocks", 16, 1);
	assert_non_null(tbl);
	st.socks = tbl;
	memset(&sock, 0, sizeof(sock));
	sock.key.lport = rte_cpu_to_be_16(5000);
	sock.kind = SOCK_ECHO;
	sock.rx = rte_ring_create("t_msock", 16, SOCKET_ID_ANY,
				  RING_F_SP_ENQ | RING_F_SC_DEQ | RING_F_EXACT_SZ);
	assert_non_null(sock.rx);
	assert_int_equal(sock_table_add(tbl, &sock), 0);
	/* G1 joined plainly, G2 for one source */
	memset(&mc, 0, sizeof(mc));
	mc.g[0] = (struct mc_group){ .addr = rte_cpu_to_be_32(G1), .mode = MC_EXCLUDE,
				     .members = 1 };
	mc.g[1] = (struct mc_group){ .addr = rte_cpu_to_be_32(G2), .mode = MC_INCLUDE,
				     .nsrc = 1, .members = 1, .src = { rte_cpu_to_be_32(SRC) } };
	atomic_store(&mc.n, 2);
	st.mc = &mc;
	return 0;
}

static int
teardown(void **state)
{
	struct rte_mbuf *m = NULL;

	(void)state;
	sock_table_remove(tbl, &sock);
	while (rte_ring_dequeue(sock.rx, (void **)&m) == 0)
		rte_pktmbuf_free(m);
	rte_ring_free(sock.rx);
	sock_table_free(tbl);
	harness_drain_tx(&st);
	stack_release(&st);
	assert_int_equal(harness_in_use(), 0);
	return 0;
}

static const uint8_t *
tx_bytes(unsigned i)
{
	return rte_pktmbuf_mtod(st.tx[i], const uint8_t *);
}

/* An IGMP message from the peer's querier to dst. */
static size_t
frame_igmp(uint8_t *f, uint32_t dst, const uint8_t *msg, size_t len)
{
	const uint8_t mac[6] = { 0x01, 0x00, 0x5e, (dst >> 16) & 0x7f, (dst >> 8) & 0xff,
				 dst & 0xff };
	size_t n = put_eth(f, mac, PEER_MAC, 0x0800);

	n += put_ipv4(f + n, PEER_IP, dst, 2, (uint16_t)len, 1, 0);
	memcpy(f + n, msg, len);
	return n + len;
}

static void
query(uint32_t group, uint8_t max_resp, int v3)
{
	uint8_t q[12] = { 0x11, max_resp, 0, 0 }, f[64];

	wr32(q + 4, group);
	wr16(q + 2, ref_cksum(q, v3 ? 12 : 8, 0));
	assert_int_equal(harness_input(&st, f, frame_igmp(f, group ? group : 0xe0000001u, q,
							    v3 ? 12 : 8)), STACK_DELIVERED);
}

/* The IP header of an IGMP message we sent, checked; the message. */
static const uint8_t *
our_igmp(unsigned i, uint32_t dst, size_t *len)
{
	const uint8_t *f = tx_bytes(i), *ip = f + 14;

	assert_memory_equal(f, ((const uint8_t[]){ 0x01, 0x00, 0x5e, (dst >> 16) & 0x7f,
						   (dst >> 8) & 0xff, dst & 0xff }), 6);
	assert_memory_equal(f + 6, OUR_MAC, 6);
	assert_int_equal(ip[0], 0x46);                  /* with an option: */
	assert_memory_equal(ip + 20, ((const uint8_t[]){ 0x94, 0x04, 0, 0 }), 4);  /* RA */
	assert_int_equal(ip[1], 0xc0);
	assert_int_equal(ip[8], 1);                     /* TTL 1 */
	assert_int_equal(ip[9], 2);
	assert_int_equal(rdu16(ip + 6), 0x4000);        /* DF */
	assert_int_equal(ref_cksum(ip, 24, 0), 0);
	assert_int_equal((uint32_t)rdu16(ip + 16) << 16 | rdu16(ip + 18), dst);
	*len = rdu16(ip + 2) - 24u;
	assert_int_equal(rte_pktmbuf_pkt_len(st.tx[i]), 14 + 24 + *len);
	assert_int_equal(ref_cksum(ip + 24, *len, 0), 0);
	return ip + 24;
}

static void
v3_general_query(void **state)
{
	const uint8_t *r;
	size_t len;

	(void)state;
	query(0, 100, 1);                               /* 10 s to answer */
	assert_int_equal(st.stats.igmp_queries_in, 1);
	assert_true(st.igmp_due_ms >= st.now_ms && st.igmp_due_ms <= st.now_ms + 10000);
	st.now_ms = st.igmp_due_ms - 1;
	stack_tick(&st);
	assert_int_equal(st.tx_n, 0);                   /* not yet */
	st.now_ms++;
	stack_tick(&st);
	assert_int_equal(st.tx_n, 1);
	r = our_igmp(0, 0xe0000016u, &len);
	/* a report of two records: G1 EXCLUDE {}, G2 INCLUDE {SRC} */
	assert_int_equal(len, 8 + 8 + 12);
	assert_int_equal(r[0], 0x22);
	assert_int_equal(rdu16(r + 6), 2);
	assert_memory_equal(r + 8, ((const uint8_t[]){ 2, 0, 0, 0, 239, 1, 2, 3 }), 8);
	assert_memory_equal(r + 16, ((const uint8_t[]){ 1, 0, 0, 1, 232, 1, 1, 1,
							198, 18, 0, 5 }), 12);
	assert_int_equal(st.stats.igmp_reports_out, 1);
	harness_drain_tx(&st);
	stack_tick(&st);
	assert_int_equal(st.tx_n, 0);                   /* once */
	assert_reconciled(&st);
}

static void
v3_group_query_and_others(void **state)
{
	uint8_t m[8] = { 0x16, 0, 0, 0, 239, 1, 2, 3 }, f[64];
	const uint8_t *r;
	size_t len;

	(void)state;
	query(G2, 10, 1);
	st.now_ms += 1000;
	stack_tick(&st);
	assert_int_equal(st.tx_n, 1);
	r = our_igmp(0, 0xe0000016u, &len);
	assert_int_equal(rdu16(r + 6), 1);
	assert_int_equal(r[8 + 4], 232);                /* G2 alone */
	harness_drain_tx(&st);
	/* a query for a group not ours, another host's report, a bad sum */
	{
		uint8_t q[12] = { 0x11, 10, 0, 0, 239, 9, 9, 9 };

		wr16(q + 2, ref_cksum(q, 12, 0));
		assert_int_equal(harness_input(&st, f, frame_igmp(f, 0xef090909u, q, 12)),
				 STACK_DROPPED);
	}
	wr16(m + 2, ref_cksum(m, 8, 0));
	assert_int_equal(harness_input(&st, f, frame_igmp(f, G1, m, 8)), STACK_DROPPED);
	assert_int_equal(st.stats.rx_drop[PN_RX_IGMP_NOT_QUERY], 2);
	m[7] ^= 1;
	assert_int_equal(harness_input(&st, f, frame_igmp(f, G1, m, 8)), STACK_DROPPED);
	assert_int_equal(st.stats.rx_drop[PN_RX_IGMP_MALFORMED], 1);
	assert_reconciled(&st);
}

static void
v2_querier(void **state)
{
	const uint8_t *r;
	size_t len;

	(void)state;
	query(0, 10, 0);                                /* an IGMPv2 general query */
	assert_int_equal(atomic_load(&mc.v2), 1);
	st.now_ms += 1000;
	stack_tick(&st);
	/* one v2 report per group, each to its group */
	assert_int_equal(st.tx_n, 2);
	r = our_igmp(0, G1, &len);
	assert_int_equal(len, 8);
	assert_memory_equal(r, ((const uint8_t[]){ 0x16, 0 }), 2);
	assert_memory_equal(r + 4, ((const uint8_t[]){ 239, 1, 2, 3 }), 4);
	r = our_igmp(1, G2, &len);
	assert_int_equal(r[0], 0x16);
	harness_drain_tx(&st);
	/* 260 s without one: back to v3 */
	st.now_ms += 258000;
	stack_tick(&st);
	assert_int_equal(atomic_load(&mc.v2), 1);
	st.now_ms += 1000;
	stack_tick(&st);
	assert_int_equal(atomic_load(&mc.v2), 0);
	/* the control thread's messages: a v2 leave goes to all routers */
	{
		struct rte_mbuf *m = igmp_v2_msg(&sc, test_pool, IGMP_V2_LEAVE,
						 rte_cpu_to_be_32(G1));

		st.tx[st.tx_n++] = m;
		r = our_igmp(0, 0xe0000002u, &len);
		assert_int_equal(r[0], 0x17);
		assert_memory_equal(r + 4, ((const uint8_t[]){ 239, 1, 2, 3 }), 4);
	}
}

static void
udp_to_groups(void **state)
{
	const uint8_t gmac[6] = { 0x01, 0x00, 0x5e, 0x01, 0x02, 0x03 };
	uint8_t f[128];
	struct rte_mbuf *m = NULL;

	(void)state;
	/* joined: to the socket on its port; not joined: dropped */
	assert_int_equal(harness_input(&st, f, frame_udp(f, gmac, PEER_IP, G1, 4000, 5000,
							  "g", 1)), STACK_DELIVERED);
	assert_int_equal(st.stats.udp_multicast, 1);
	assert_int_equal(rte_ring_dequeue(sock.rx, (void **)&m), 0);
	rte_pktmbuf_free(m);
	assert_int_equal(harness_input(&st, f, frame_udp(f, gmac, PEER_IP, 0xef010204u, 4000,
							  5000, "g", 1)), STACK_DROPPED);
	assert_int_equal(st.stats.rx_drop[PN_RX_GROUP_NOT_JOINED], 1);
	/* a group MAC outside IPv4's (01:00:5e with bit 23 set) is not ours */
	{
		const uint8_t other[6] = { 0x01, 0x00, 0x5e, 0x81, 0x02, 0x03 };

		assert_int_equal(harness_input(&st, f, frame_udp(f, other, PEER_IP, G1, 4000, 5000,
								  "g", 1)), STACK_DROPPED);
		assert_int_equal(st.stats.rx_drop[PN_RX_ETH_NOT_US], 1);
	}
	/* sent to a group we joined: a copy to our members, unless told not */
	assert_int_equal(udp_output(&st, mbuf_from("x", 1), rte_cpu_to_be_16(6000),
				    rte_cpu_to_be_32(G1), rte_cpu_to_be_16(5000)), 0);
	assert_int_equal(st.tx_n, 1);
	assert_int_equal(rte_ring_count(sock.rx), 1);
	assert_int_equal(st.stats.local_delivered, 1);
	assert_int_equal(udp_output_ip(&st, mbuf_from("x", 1), rte_cpu_to_be_16(6000),
				       rte_cpu_to_be_32(G1), rte_cpu_to_be_16(5000),
				       STACK_IPO(0, 1, STACK_IP_NOLOOP)), 0);
	assert_int_equal(st.tx_n, 2);
	assert_int_equal(rte_ring_count(sock.rx), 1);
	/* nor to a group no one here joined */
	assert_int_equal(udp_output(&st, mbuf_from("x", 1), rte_cpu_to_be_16(6000),
				    rte_cpu_to_be_32(0xef090909u), rte_cpu_to_be_16(5000)), 0);
	assert_int_equal(rte_ring_count(sock.rx), 1);
	assert_reconciled(&st);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(v3_general_query, setup, teardown),
		cmocka_unit_test_setup_teardown(v3_group_query_and_others, setup, teardown),
		cmocka_unit_test_setup_teardown(v2_querier, setup, teardown),
		cmocka_unit_test_setup_teardown(udp_to_groups, setup, teardown),
	};

	harness_init();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
