/* SPDX-License-Identifier: BSD-3-Clause */
/* Ethernet filtering, the ARP responder, cache, resolver and timers. */
#include "harness.h"

#include <rte_ether.h>

static struct stack st;
static struct stack_conf sc;

static int
setup(void **state)
{
	harness_stack(&st, &sc, 0);
	return 0;
}

static int
teardown(void **state)
{
	harness_drain_tx(&st);
	stack_release(&st);
	assert_int_equal(harness_in_use(), 0);   /* nothing leaked */
	return 0;
}

/* ---- Ethernet ---- */

static void
eth_truncated_every_length(void **state)
{
	uint8_t f[64];
	size_t n = frame_arp(f, BCAST_MAC, 1, PEER_MAC, PEER_IP, BCAST_MAC, OUR_IP);

	for (size_t len = 0; len < 14; len++) {
		assert_int_equal(harness_input(&st, f, len), STACK_DROPPED);
		assert_int_equal(st.stats.rx_drop[PN_RX_ETH_TRUNCATED], len + 1);
	}
	/* 14..41 bytes: a whole Ethernet header, a short ARP body */
	for (size_t len = 14; len < n; len++)
		assert_int_equal(harness_input(&st, f, len), STACK_DROPPED);
	assert_int_equal(st.stats.rx_drop[PN_RX_ARP_MALFORMED], n - 14);
	assert_int_equal(st.tx_n, 0);
	assert_reconciled(&st);
}

static void
eth_other_mac_dropped(void **state)
{
	uint8_t f[64];
	uint8_t mcast[6] = { 0x33, 0x33, 0, 0, 0, 1 };
	size_t n = frame_ping(f, PEER_IP, 1, 1, 8);

	memcpy(f, OTHER_MAC, 6);
	assert_int_equal(harness_input(&st, f, n), STACK_DROPPED);
	memcpy(f, mcast, 6);
	assert_int_equal(harness_input(&st, f, n), STACK_DROPPED);
	assert_int_equal(st.stats.rx_drop[PN_RX_ETH_NOT_US], 2);
	assert_int_equal(st.tx_n, 0);
}

static void
eth_unknown_type_dropped(void **state)
{
	uint8_t f[64] = { 0 };

	put_eth(f, OUR_MAC, PEER_MAC, 0x86dd);    /* IPv6 */
	assert_int_equal(harness_input(&st, f, 60), STACK_DROPPED);
	put_eth(f, BCAST_MAC, PEER_MAC, 0x8100);  /* VLAN */
	assert_int_equal(harness_input(&st, f, 60), STACK_DROPPED);
	assert_int_equal(st.stats.rx_drop[PN_RX_ETH_TYPE], 2);
}

static void
eth_multiseg_dropped(void **state)
{
	uint8_t f[64];
	size_t n = frame_ping(f, PEER_IP, 1, 1, 8);
	struct rte_mbuf *a = mbuf_from(f, 20), *b = mbuf_from(f + 20, n - 20);

	assert_int_equal(rte_pktmbuf_chain(a, b), 0);
	assert_int_equal(stack_input(&st, a), STACK_DROPPED);
	assert_int_equal(st.stats.rx_drop[PN_RX_ETH_MULTISEG], 1);
}

/* ---- ARP responder ---- */

static void
arp_request_answered_byte_by_byte(void **state)
{
	uint8_t f[64], exp[64];
	static const uint8_t zero[6];
	size_t n = frame_arp(f, BCAST_MAC, 1, PEER_MAC, PEER_IP, zero, OUR_IP);
	size_t en;

	/* pad to the Ethernet minimum, as a real wire does */
	memset(f + n, 0xee, 60 - n);
	assert_int_equal(harness_input(&st, f, 60), STACK_ANSWERED);
	assert_int_equal(st.stats.rx_answered, 1);
	assert_int_equal(st.stats.arp_requests_in, 1);
	assert_int_equal(st.tx_n, 1);

	en = frame_arp(exp, PEER_MAC, 2, OUR_MAC, OUR_IP, PEER_MAC, PEER_IP);
	assert_int_equal(en, 42);
	assert_frame(st.tx[0], exp, en);

	/* and the sender was learned */
	const struct rte_ether_addr *mac =
		arp_cache_lookup(&st.arp, rte_cpu_to_be_32(PEER_IP), st.now_ms);
	assert_non_null(mac);
	assert_memory_equal(mac->addr_bytes, PEER_MAC, 6);
	assert_reconciled(&st);
}

static void
arp_request_for_other_ip_dropped(void **state)
{
	uint8_t f[64];
	static const uint8_t zero[6];
	size_t n = frame_arp(f, BCAST_MAC, 1, PEER_MAC, PEER_IP, zero, OTHER_IP);

	assert_int_equal(harness_input(&st, f, n), STACK_DROPPED);
	assert_int_equal(st.stats.rx_drop[PN_RX_ARP_NOT_US], 1);
	assert_int_equal(st.tx_n, 0);
	/* not addressed to us: no new cache entry */
	assert_null(arp_cache_find(&st.arp, rte_cpu_to_be_32(PEER_IP)));
}

/* Senders that can be neither learned nor answered: a group MAC, a martian
 * IP, our own IP.  A probe's 0.0.0.0 (RFC 5227) is still answered. */
static void
arp_bad_senders_dropped(void **state)
{
	static const uint8_t zero[6], group[6] = { 0x01, 0x00, 0x5e, 0, 0, 1 };
	static const uint32_t martian[] = { 0x7f000001u, OUR_IP, 0xffffffffu, 0xc61200ffu,
					    0xe0000001u, 0xf0000001u, 0x00000001u };
	uint8_t f[64];
	size_t n;

	n = frame_arp(f, BCAST_MAC, 1, BCAST_MAC, PEER_IP, zero, OUR_IP);
	memcpy(f + 6, PEER_MAC, 6);             /* a unicast Ethernet source */
	assert_int_equal(harness_input(&st, f, n), STACK_DROPPED);
	n = frame_arp(f, BCAST_MAC, 1, group, PEER_IP, zero, OUR_IP);
	memcpy(f + 6, PEER_MAC, 6);
	assert_int_equal(harness_input(&st, f, n), STACK_DROPPED);
	n = frame_arp(f, BCAST_MAC, 1, zero, PEER_IP, zero, OUR_IP);
	memcpy(f + 6, PEER_MAC, 6);
	assert_int_equal(harness_input(&st, f, n), STACK_DROPPED);
	for (size_t i = 0; i < RTE_DIM(martian); i++) {
		n = frame_arp(f, BCAST_MAC, 1, PEER_MAC, martian[i], zero, OUR_IP);
		assert_int_equal(harness_input(&st, f, n), STACK_DROPPED);
		assert_null(arp_cache_find(&st.arp, rte_cpu_to_be_32(martian[i])));
	}
	assert_int_equal(st.stats.rx_drop[PN_RX_ARP_SENDER], 3 + RTE_DIM(martian));
	assert_int_equal(st.tx_n, 0);

	/* a probe: sender 0.0.0.0, answered, nothing learned */
	n = frame_arp(f, BCAST_MAC, 1, PEER_MAC, 0, zero, OUR_IP);
	assert_int_equal(harness_input(&st, f, n), STACK_ANSWERED);
	assert_null(arp_cache_find(&st.arp, 0));
	assert_reconciled(&st);
}

static void
arp_reply_learned(void **state)
{
	uint8_t f[64];
	size_t n = frame_arp(f, OUR_MAC, 2, PEER_MAC, PEER_IP, OUR_MAC, OUR_IP);

	assert_int_equal(harness_input(&st, f, n), STACK_DELIVERED);
	assert_int_equal(st.stats.rx_delivered, 1);
	assert_int_equal(st.stats.arp_replies_in, 1);
	assert_non_null(arp_cache_lookup(&st.arp, rte_cpu_to_be_32(PEER_IP), st.now_ms));
	assert_int_equal(st.tx_n, 0);
}

static void
arp_malformed_fields(void **state)
{
	uint8_t f[64];
	size_t n;

	n = frame_arp(f, BCAST_MAC, 1, PEER_MAC, PEER_IP, BCAST_MAC, OUR_IP);
	f[14 + 1] = 2;              /* hardware type 2 */
	assert_int_equal(harness_input(&st, f, n), STACK_DROPPED);
	n = frame_arp(f, BCAST_MAC, 1, PEER_MAC, PEER_IP, BCAST_MAC, OUR_IP);
	f[14 + 4] = 8;              /* hlen 8 */
	assert_int_equal(harness_input(&st, f, n), STACK_DROPPED);
	n = frame_arp(f, BCAST_MAC, 1, PEER_MAC, PEER_IP, BCAST_MAC, OUR_IP);
	f[14 + 3] = 0xdd;           /* protocol 0x08dd */
	assert_int_equal(harness_input(&st, f, n), STACK_DROPPED);
	assert_int_equal(st.stats.rx_drop[PN_RX_ARP_MALFORMED], 3);
	n = frame_arp(f, BCAST_MAC, 3, PEER_MAC, PEER_IP, BCAST_MAC, OUR_IP);  /* RARP op */
	assert_int_equal(harness_input(&st, f, n), STACK_DROPPED);
	assert_int_equal(st.stats.rx_drop[PN_RX_ARP_OP], 1);
	assert_int_equal(st.tx_n, 0);
	assert_reconciled(&st);
}

static void
arp_gratuitous_refreshes_known_only(void **state)
{
	uint8_t f[64];
	size_t n;

	/* unknown host announcing itself: not learned */
	n = frame_arp(f, BCAST_MAC, 1, OTHER_MAC, OTHER_IP, BCAST_MAC, OTHER_IP);
	assert_int_equal(harness_input(&st, f, n), STACK_DROPPED);
	assert_null(arp_cache_find(&st.arp, rte_cpu_to_be_32(OTHER_IP)));

	/* known host moving to a new MAC: updated */
	n = frame_arp(f, OUR_MAC, 2, PEER_MAC, PEER_IP, OUR_MAC, OUR_IP);
	harness_input(&st, f, n);
	n = frame_arp(f, BCAST_MAC, 1, OTHER_MAC, PEER_IP, BCAST_MAC, PEER_IP);
	harness_input(&st, f, n);
	const struct rte_ether_addr *mac =
		arp_cache_lookup(&st.arp, rte_cpu_to_be_32(PEER_IP), st.now_ms);
	assert_non_null(mac);
	assert_memory_equal(mac->addr_bytes, OTHER_MAC, 6);
}

static void
arp_gratuitous_announce_bytes(void **state)
{
	uint8_t exp[64];
	static const uint8_t zero[6];
	size_t n = frame_arp(exp, BCAST_MAC, 1, OUR_MAC, OUR_IP, zero, OUR_IP);

	assert_int_equal(arp_send_request(&st, rte_cpu_to_be_32(OUR_IP)), 0);
	assert_int_equal(st.tx_n, 1);
	assert_frame(st.tx[0], exp, n);
}

/* ---- cache and resolver ---- */

static struct rte_mbuf *
ip_frame_without_dst(uint32_t dst)
{
	uint8_t f[64];
	size_t n = put_eth(f, BCAST_MAC, OUR_MAC, 0x0800);

	n += put_ipv4(f + n, OUR_IP, dst, 17, 0, 64, 0);
	memset(f, 0, 6);
	return mbuf_from(f, n);
}

static void
arp_cache_ages_out(void **state)
{
	struct rte_ether_addr mac;

	memcpy(mac.addr_bytes, PEER_MAC, 6);
	arp_cache_insert(&st, rte_cpu_to_be_32(PEER_IP), &mac, 1);
	assert_non_null(arp_cache_lookup(&st.arp, rte_cpu_to_be_32(PEER_IP),
					 st.now_ms + sc.arp_timeout_ms - 1));
	assert_null(arp_cache_lookup(&st.arp, rte_cpu_to_be_32(PEER_IP),
				     st.now_ms + sc.arp_timeout_ms));
	st.now_ms += sc.arp_timeout_ms;
	stack_tick(&st);
	assert_null(arp_cache_find(&st.arp, rte_cpu_to_be_32(PEER_IP)));
}

static void
arp_resolve_queues_then_releases(void **state)
{
	uint8_t f[64], exp[64];
	static const uint8_t zero[6];
	size_t n;

	assert_int_equal(arp_resolve(&st, ip_frame_without_dst(PEER_IP),
				     rte_cpu_to_be_32(PEER_IP)), 0);
	assert_int_equal(arp_resolve(&st, ip_frame_without_dst(PEER_IP),
				     rte_cpu_to_be_32(PEER_IP)), 0);
	/* one request, two packets waiting */
	assert_int_equal(st.tx_n, 1);
	n = frame_arp(exp, BCAST_MAC, 1, OUR_MAC, OUR_IP, zero, PEER_IP);
	assert_frame(st.tx[0], exp, n);
	assert_int_equal(st.stats.arp_requests_out, 1);
	assert_int_equal(st.arp.pending, 2);
	harness_drain_tx(&st);

	n = frame_arp(f, OUR_MAC, 2, PEER_MAC, PEER_IP, OUR_MAC, OUR_IP);
	assert_int_equal(harness_input(&st, f, n), STACK_DELIVERED);
	assert_int_equal(st.tx_n, 2);
	assert_int_equal(st.arp.pending, 0);
	for (int i = 0; i < 2; i++)
		assert_memory_equal(rte_pktmbuf_mtod(st.tx[i], uint8_t *), PEER_MAC, 6);
	harness_drain_tx(&st);

	/* now resolved: straight out */
	assert_int_equal(arp_resolve(&st, ip_frame_without_dst(PEER_IP),
				     rte_cpu_to_be_32(PEER_IP)), 0);
	assert_int_equal(st.tx_n, 1);
	assert_int_equal(st.stats.arp_requests_out, 1);
}

static void
arp_resolve_retries_then_gives_up(void **state)
{
	arp_resolve(&st, ip_frame_without_dst(OTHER_IP), rte_cpu_to_be_32(OTHER_IP));
	assert_int_equal(st.stats.arp_requests_out, 1);
	harness_drain_tx(&st);

	/* nothing before the retry interval */
	st.now_ms += sc.arp_retry_ms - 1;
	st.arp.next_tick_ms = 0;
	stack_tick(&st);
	assert_int_equal(st.tx_n, 0);
	for (int i = 2; i <= sc.arp_retries; i++) {
		st.now_ms += sc.arp_retry_ms;
		st.arp.next_tick_ms = 0;
		stack_tick(&st);
		assert_int_equal(st.stats.arp_requests_out, i);
		harness_drain_tx(&st);
	}
	st.now_ms += sc.arp_retry_ms;
	st.arp.next_tick_ms = 0;
	stack_tick(&st);
	assert_int_equal(st.stats.arp_requests_out, sc.arp_retries);
	assert_int_equal(st.stats.tx_drop[PN_TX_ARP_TIMEOUT], 1);
	assert_int_equal(st.arp.pending, 0);
	assert_null(arp_cache_find(&st.arp, rte_cpu_to_be_32(OTHER_IP)));
}

/* Beside the kernel (xdp:), the kernel resolves: a miss asks (no request on
 * the wire), each retry asks again, and the kernel's answer releases what
 * waited, as a reply would. */
static rte_be32_t asked[8];
static int nasked;

static void
ask_hook(void *arg, rte_be32_t ip)
{
	assert_ptr_equal(arg, &st);
	assert_true(nasked < 8);
	asked[nasked++] = ip;
}

static void
arp_kernel_resolves(void **state)
{
	struct rte_ether_addr peer;

	memcpy(peer.addr_bytes, PEER_MAC, 6);
	nasked = 0;
	st.arp_ask = ask_hook;
	st.arp_ask_arg = &st;
	assert_int_equal(arp_resolve(&st, ip_frame_without_dst(PEER_IP),
				     rte_cpu_to_be_32(PEER_IP)), 0);
	assert_int_equal(st.tx_n, 0);           /* nothing on the wire */
	assert_int_equal(nasked, 1);
	assert_int_equal(asked[0], rte_cpu_to_be_32(PEER_IP));
	assert_int_equal(st.stats.arp_requests_out, 1);
	st.now_ms += sc.arp_retry_ms;
	st.arp.next_tick_ms = 0;
	stack_tick(&st);
	assert_int_equal(nasked, 2);            /* asked again, still nothing sent */
	assert_int_equal(st.tx_n, 0);
	/* the kernel's news, through the lcore's arp_notify */
	assert_int_equal(arp_cache_insert(&st, rte_cpu_to_be_32(PEER_IP), &peer, 1), 1);
	assert_int_equal(st.tx_n, 1);
	assert_memory_equal(rte_pktmbuf_mtod(st.tx[0], uint8_t *), PEER_MAC, 6);
	assert_int_equal(st.arp.pending, 0);
	st.arp_ask = NULL;
}

static void
arp_queue_is_bounded(void **state)
{
	for (int i = 0; i < ARP_PENDING_MAX + 3; i++)
		arp_resolve(&st, ip_frame_without_dst(OTHER_IP), rte_cpu_to_be_32(OTHER_IP));
	assert_int_equal(st.arp.pending, ARP_PENDING_MAX);
	assert_int_equal(st.stats.tx_drop[PN_TX_ARP_QUEUE_FULL], 3);
	assert_int_equal(st.stats.arp_requests_out, 1);

	/* and in total, across addresses */
	for (uint32_t a = 1; a < 200; a++)
		arp_resolve(&st, ip_frame_without_dst(0xc6120100u + a),
			    rte_cpu_to_be_32(0xc6120100u + a));
	assert_true(st.arp.pending <= ARP_PENDING_TOTAL);
}

static void
arp_full_set_evicts(void **state)
{
	struct rte_ether_addr mac;
	unsigned found = 0;

	memcpy(mac.addr_bytes, PEER_MAC, 6);
	/* far more addresses than the cache holds: never crashes, stays bounded */
	for (uint32_t a = 0; a < ARP_BUCKETS * ARP_WAYS * 4; a++) {
		st.now_ms++;
		arp_cache_insert(&st, rte_cpu_to_be_32(0x0a000000u + a), &mac, 1);
	}
	for (uint32_t a = 0; a < ARP_BUCKETS * ARP_WAYS * 4; a++)
		found += arp_cache_find(&st.arp, rte_cpu_to_be_32(0x0a000000u + a)) != NULL;
	assert_true(found <= ARP_BUCKETS * ARP_WAYS);
	assert_true(found >= ARP_BUCKETS * ARP_WAYS / 2);
	/* the newest is always there */
	assert_non_null(arp_cache_find(&st.arp,
		rte_cpu_to_be_32(0x0a000000u + ARP_BUCKETS * ARP_WAYS * 4 - 1)));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(eth_truncated_every_length, setup, teardown),
		cmocka_unit_test_setup_teardown(eth_other_mac_dropped, setup, teardown),
		cmocka_unit_test_setup_teardown(eth_unknown_type_dropped, setup, teardown),
		cmocka_unit_test_setup_teardown(eth_multiseg_dropped, setup, teardown),
		cmocka_unit_test_setup_teardown(arp_request_answered_byte_by_byte, setup, teardown),
		cmocka_unit_test_setup_teardown(arp_request_for_other_ip_dropped, setup, teardown),
		cmocka_unit_test_setup_teardown(arp_reply_learned, setup, teardown),
		cmocka_unit_test_setup_teardown(arp_malformed_fields, setup, teardown),
		cmocka_unit_test_setup_teardown(arp_gratuitous_refreshes_known_only, setup, teardown),
		cmocka_unit_test_setup_teardown(arp_gratuitous_announce_bytes, setup, teardown),
		cmocka_unit_test_setup_teardown(arp_kernel_resolves, setup, teardown),
		cmocka_unit_test_setup_teardown(arp_cache_ages_out, setup, teardown),
		cmocka_unit_test_setup_teardown(arp_resolve_queues_then_releases, setup, teardown),
		cmocka_unit_test_setup_teardown(arp_resolve_retries_then_gives_up, setup, teardown),
		cmocka_unit_test_setup_teardown(arp_queue_is_bounded, setup, teardown),
		cmocka_unit_test_setup_teardown(arp_full_set_evicts, setup, teardown),
		cmocka_unit_test_setup_teardown(arp_bad_senders_dropped, setup, teardown),
	};

	harness_init();
	return cmocka_run_group_tests_name("eth_arp", tests, NULL, NULL);
}
