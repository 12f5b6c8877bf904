/* SPDX-License-Identifier: BSD-3-Clause */
/* IPv4 validation, ICMP echo, UDP input/delivery/output. */
#include "harness.h"

#include <rte_ring.h>
#include <rte_udp.h>

#include "sock_table.h"

static struct stack st;
static struct stack_conf sc;
static struct sock_table *tbl;
static struct pn_sock bound, connected;

static void
sock_init(struct pn_sock *s, const char *name, uint16_t lport, uint32_t rip, uint16_t rport)
{
	memset(s, 0, sizeof(*s));
	s->key.lport = rte_cpu_to_be_16(lport);
	s->key.rip = rte_cpu_to_be_32(rip);
	s->key.rport = rte_cpu_to_be_16(rport);
	s->kind = SOCK_ECHO;
	s->rx = rte_ring_create(name, 4, SOCKET_ID_ANY,
				RING_F_SP_ENQ | RING_F_SC_DEQ | RING_F_EXACT_SZ);
	assert_non_null(s->rx);
	assert_int_equal(sock_table_add(tbl, s), 0);
}

static void
sock_fini(struct pn_sock *s)
{
	struct rte_mbuf *m = NULL;

	sock_table_remove(tbl, s);
	while (rte_ring_dequeue(s->rx, (void **)&m) == 0)
		rte_pktmbuf_free(m);
	rte_ring_free(s->rx);
}

static int
setup(void **state)
{
	harness_stack(&st, &sc, GW_IP);
	tbl = sock_table_create("t_socks", 16, 1);
	assert_non_null(tbl);
	st.socks = tbl;
	sock_init(&bound, "t_bound", 7, 0, 0);
	sock_init(&connected, "t_conn", 7, PEER_IP, 5555);
	return 0;
}

static int
teardown(void **state)
{
	sock_fini(&bound);
	sock_fini(&connected);
	sock_table_free(tbl);
	harness_drain_tx(&st);
	stack_release(&st);
	assert_int_equal(harness_in_use(), 0);
	return 0;
}

static size_t
udp_to_us(uint8_t *f, uint16_t sport, uint16_t len)
{
	uint8_t payload[1500];

	for (uint16_t i = 0; i < len; i++)
		payload[i] = (uint8_t)(i ^ 0x5a);
	return frame_udp(f, OUR_MAC, PEER_IP, OUR_IP, sport, 7, payload, len);
}

/* Recompute the IPv4 header checksum after editing the header. */
static void
fix_ip_cksum(uint8_t *ip, size_t ihl)
{
	wr16(ip + 10, 0);
	wr16(ip + 10, ref_cksum(ip, ihl, 0));
}

/* ---- IPv4 ---- */

static void
ip_valid_udp_delivered(void **state)
{
	uint8_t f[1600];
	size_t n = udp_to_us(f, 4000, 100);
	struct rte_mbuf *m = NULL;

	assert_int_equal(harness_input(&st, f, n), STACK_DELIVERED);
	assert_int_equal(bound.rx_pkts, 1);
	assert_int_equal(bound.rx_bytes, 100);
	assert_int_equal(rte_ring_dequeue(bound.rx, (void **)&m), 0);
	/* the socket gets the whole frame with header lengths set */
	assert_int_equal(m->l2_len, 14);
	assert_int_equal(m->l3_len, 20);
	assert_int_equal(m->l4_len, 8);
	assert_frame(m, f, n);
	rte_pktmbuf_free(m);
	assert_reconciled(&st);
}

static void
ip_truncated_every_length(void **state)
{
	uint8_t f[1600];
	size_t n = udp_to_us(f, 4000, 32);

	for (size_t len = 14; len < n; len++)
		assert_int_equal(harness_input(&st, f, len), STACK_DROPPED);
	assert_int_equal(st.stats.rx_drop[PN_RX_IP_TRUNCATED], 20);  /* 14..33 */
	/* from 34 bytes on the header is whole, its total length is not */
	assert_int_equal(st.stats.rx_drop[PN_RX_IP_LEN], n - 34);
	assert_int_equal(st.tx_n, 0);
	assert_int_equal(bound.rx_pkts, 0);
	assert_reconciled(&st);
}

static void
ip_bad_version_and_ihl(void **state)
{
	uint8_t f[1600];
	size_t n;

	n = udp_to_us(f, 4000, 32);
	f[14] = 0x65;                           /* version 6 */
	fix_ip_cksum(f + 14, 20);
	assert_int_equal(harness_input(&st, f, n), STACK_DROPPED);
	assert_int_equal(st.stats.rx_drop[PN_RX_IP_VERSION], 1);

	for (uint8_t ihl = 0; ihl < 5; ihl++) { /* IHL below 5 */
		n = udp_to_us(f, 4000, 32);
		f[14] = 0x40 | ihl;
		assert_int_equal(harness_input(&st, f, n), STACK_DROPPED);
	}
	assert_int_equal(st.stats.rx_drop[PN_RX_IP_IHL], 5);

	n = udp_to_us(f, 4000, 0);              /* IHL 15 = 60 bytes > 28 left */
	f[14] = 0x4f;
	assert_int_equal(harness_input(&st, f, n), STACK_DROPPED);
	assert_int_equal(st.stats.rx_drop[PN_RX_IP_IHL], 6);
	assert_reconciled(&st);
}

static void
ip_lengths_that_disagree(void **state)
{
	uint8_t f[1600];
	size_t n;

	n = udp_to_us(f, 4000, 32);
	wr16(f + 16, 19);                       /* total length < header */
	fix_ip_cksum(f + 14, 20);
	assert_int_equal(harness_input(&st, f, n), STACK_DROPPED);
	n = udp_to_us(f, 4000, 32);
	wr16(f + 16, 20 + 8 + 33);              /* total length > frame */
	fix_ip_cksum(f + 14, 20);
	assert_int_equal(harness_input(&st, f, n), STACK_DROPPED);
	assert_int_equal(st.stats.rx_drop[PN_RX_IP_LEN], 2);
	assert_reconciled(&st);
}

static void
ip_bad_checksum(void **state)
{
	uint8_t f[1600];
	size_t n = udp_to_us(f, 4000, 32);

	f[14 + 10] ^= 0x01;
	assert_int_equal(harness_input(&st, f, n), STACK_DROPPED);
	assert_int_equal(st.stats.rx_drop[PN_RX_IP_CSUM], 1);
}

/* Another host's address is not for us; a broadcast is, for UDP only: no
 * answer to a ping, and no port unreachable for a port no one holds. */
static void
ip_not_for_us(void **state)
{
	uint8_t f[1600], p[4] = { 1, 2, 3, 4 };
	size_t n = frame_udp(f, OUR_MAC, PEER_IP, OTHER_IP, 4000, 7, p, 4);
	const uint32_t bcast = rte_cpu_to_be_32(0xc61200ffu);

	assert_int_equal(harness_input(&st, f, n), STACK_DROPPED);
	n = frame_ping(f, PEER_IP, 1, 1, 8);
	memcpy(f + 14 + 16, &bcast, 4);
	fix_ip_cksum(f + 14, 20);
	assert_int_equal(harness_input(&st, f, n), STACK_DROPPED);
	assert_int_equal(st.stats.rx_drop[PN_RX_IP_NOT_US], 2);
	n = frame_udp(f, BCAST_MAC, PEER_IP, 0xffffffffu, 4000, 4001, p, 4);
	assert_int_equal(harness_input(&st, f, n), STACK_DROPPED);
	assert_int_equal(st.stats.rx_drop[PN_RX_UDP_NO_SOCKET], 1);
	assert_int_equal(st.stats.icmp_unreach_sent, 0);
	assert_int_equal(st.tx_n, 0);
	assert_reconciled(&st);
}

/* A broadcast goes to every socket bound to its port, and to a connected
 * one whose peer sent it: one delivery, copies for the rest. */
static void
udp_broadcast_to_every_socket(void **state)
{
	uint8_t f[1600], p[4] = { 1, 2, 3, 4 };
	size_t n = frame_udp(f, BCAST_MAC, PEER_IP, 0xffffffffu, 5555, 7, p, 4);

	assert_int_equal(harness_input(&st, f, n), STACK_DELIVERED);
	assert_int_equal(bound.rx_pkts, 1);
	assert_int_equal(connected.rx_pkts, 1);
	n = frame_udp(f, BCAST_MAC, PEER_IP, 0xc61200ffu, 6000, 7, p, 4);
	assert_int_equal(harness_input(&st, f, n), STACK_DELIVERED);
	assert_int_equal(bound.rx_pkts, 2);
	assert_int_equal(connected.rx_pkts, 1);
	assert_int_equal(st.stats.udp_broadcast, 2);
	assert_int_equal(st.stats.udp_delivered, 2);
	assert_int_equal(st.stats.bcast_copies, 1);
	assert_int_equal(st.stats.bcast_copies_dropped, 0);
	assert_int_equal(st.tx_n, 0);
	assert_reconciled(&st);
}

static struct rte_mbuf *payload_mbuf(const void *p, uint16_t len);

/* Sent to a group: to its Ethernet group address (RFC 1112 6.4), no ARP,
 * with the TTL asked for, 0 included. */
static void
udp_output_group(void **state)
{
	static const uint8_t mac[6] = { 0x01, 0x00, 0x5e, 0x01, 0x02, 0x03 };
	uint8_t p[8] = { 0 };
	const struct rte_ether_hdr *eh;
	const struct rte_ipv4_hdr *ip;

	assert_int_equal(udp_output_ip(&st, payload_mbuf(p, 8), rte_cpu_to_be_16(4000),
				       rte_cpu_to_be_32(0xef810203u), rte_cpu_to_be_16(9), 0), 0);
	assert_int_equal(st.tx_n, 1);
	eh = rte_pktmbuf_mtod(st.tx[0], const struct rte_ether_hdr *);
	ip = (const struct rte_ipv4_hdr *)(eh + 1);
	assert_memory_equal(eh->dst_addr.addr_bytes, mac, 6);
	assert_int_equal(ip->time_to_live, 0);
	assert_int_equal(st.stats.arp_requests_out, 0);
	harness_drain_tx(&st);
	assert_int_equal(harness_in_use(), 0);
}

/* Where the kernel shares our address: a local datagram no socket of ours
 * takes goes to the kernel's programs (the hook, with its ports), one to
 * 127.0.0.1 does not; a kernel program's comes in as a local one, from its
 * address and port, and no answer from us makes it go back. */
static struct rte_mbuf *kout_m;
static rte_be16_t kout_sport, kout_dport;

static int
kernel_out(void *arg, struct rte_mbuf *m, rte_be16_t sport, rte_be32_t dst, rte_be16_t dport)
{
	assert_ptr_equal(arg, &st);
	assert_int_equal(rte_be_to_cpu_32(dst), OUR_IP);
	assert_null(kout_m);
	kout_m = m;
	kout_sport = sport;
	kout_dport = dport;
	return 0;
}

static void
udp_local_and_kernel(void **state)
{
	uint8_t p[8] = { 1, 2, 3, 4, 5, 6, 7, 8 };
	struct rte_mbuf *m = NULL;
	const struct rte_ipv4_hdr *ip;
	const struct rte_udp_hdr *u;

	st.kernel_out = kernel_out;
	st.kernel_out_arg = &st;
	kout_m = NULL;
	assert_int_equal(udp_output(&st, payload_mbuf(p, 8), rte_cpu_to_be_16(4000),
				    rte_cpu_to_be_32(OUR_IP), rte_cpu_to_be_16(53)), 0);
	assert_non_null(kout_m);
	assert_int_equal(rte_be_to_cpu_16(kout_sport), 4000);
	assert_int_equal(rte_be_to_cpu_16(kout_dport), 53);
	assert_int_equal(rte_pktmbuf_pkt_len(kout_m), 8);
	rte_pktmbuf_free(kout_m);
	kout_m = NULL;
	assert_int_equal(udp_output(&st, payload_mbuf(p, 8), rte_cpu_to_be_16(4000),
				    rte_cpu_to_be_32(0x7f000001u), rte_cpu_to_be_16(53)),
			 -ECONNREFUSED);
	assert_null(kout_m);
	assert_int_equal(st.stats.local_to_kernel, 1);
	assert_int_equal(st.stats.local_no_socket, 1);

	/* from a kernel program at our address, port 40000, to port 7 */
	assert_int_equal(stack_local_from_kernel(&st, payload_mbuf(p, 8), rte_cpu_to_be_32(OUR_IP),
						 rte_cpu_to_be_16(40000), rte_cpu_to_be_32(OUR_IP),
						 rte_cpu_to_be_16(7)), 0);
	assert_int_equal(rte_ring_dequeue(bound.rx, (void **)&m), 0);
	ip = rte_pktmbuf_mtod_offset(m, const struct rte_ipv4_hdr *, m->l2_len);
	u = rte_pktmbuf_mtod_offset(m, const struct rte_udp_hdr *, m->l2_len + m->l3_len);
	assert_int_equal(rte_be_to_cpu_32(ip->src_addr), OUR_IP);
	assert_int_equal(rte_be_to_cpu_16(u->src_port), 40000);
	rte_pktmbuf_free(m);
	/* to a port no socket of ours holds: refused, not sent back */
	assert_int_equal(stack_local_from_kernel(&st, payload_mbuf(p, 8), rte_cpu_to_be_32(OUR_IP),
						 rte_cpu_to_be_16(40000), rte_cpu_to_be_32(OUR_IP),
						 rte_cpu_to_be_16(8)), -ECONNREFUSED);
	assert_null(kout_m);
	assert_int_equal(st.stats.local_from_kernel, 2);
	assert_int_equal(st.stats.local_sent, st.stats.local_delivered + st.stats.local_no_socket +
			 st.stats.local_ring_full + st.stats.local_to_kernel);
	st.kernel_out = NULL;
	assert_int_equal(harness_in_use(), 0);
}

/* Sent to a broadcast: to every host (no ARP), and back to our own sockets
 * bound to the port, from our address. */
static void
udp_output_broadcast(void **state)
{
	uint8_t p[8] = { 0 };
	const struct rte_ether_hdr *eh;
	const struct rte_ipv4_hdr *ip;
	struct rte_mbuf *m = NULL;

	assert_int_equal(udp_output(&st, payload_mbuf(p, 8), rte_cpu_to_be_16(4000),
				    rte_cpu_to_be_32(0xc61200ffu), rte_cpu_to_be_16(9)), 0);
	assert_int_equal(udp_output(&st, payload_mbuf(p, 8), rte_cpu_to_be_16(4000),
				    rte_cpu_to_be_32(0xffffffffu), rte_cpu_to_be_16(7)), 0);
	assert_int_equal(st.tx_n, 2);
	for (int i = 0; i < 2; i++) {
		eh = rte_pktmbuf_mtod(st.tx[i], const struct rte_ether_hdr *);
		assert_true(rte_is_broadcast_ether_addr(&eh->dst_addr));
	}
	assert_int_equal(st.stats.arp_requests_out, 0);
	/* port 7's bound socket got the second (the connected one's peer is
	 * another) */
	assert_int_equal(st.stats.local_sent, 1);
	assert_int_equal(st.stats.local_delivered, 1);
	assert_int_equal(connected.rx_pkts, 0);
	assert_int_equal(rte_ring_dequeue(bound.rx, (void **)&m), 0);
	ip = rte_pktmbuf_mtod_offset(m, const struct rte_ipv4_hdr *, m->l2_len);
	assert_int_equal(rte_be_to_cpu_32(ip->src_addr), OUR_IP);
	assert_int_equal(rte_be_to_cpu_32(ip->dst_addr), 0xffffffffu);
	rte_pktmbuf_free(m);
	harness_drain_tx(&st);
	assert_int_equal(harness_in_use(), 0);
}

/* With reassembly off (ipfrag_flows 0); test_frag.c has it on. */
static void
ip_fragments_dropped(void **state)
{
	uint8_t f[1600];
	size_t n;

	sc.frag_flows = 0;
	n = udp_to_us(f, 4000, 32);
	wr16(f + 20, 0x2000);                   /* MF, offset 0 */
	fix_ip_cksum(f + 14, 20);
	assert_int_equal(harness_input(&st, f, n), STACK_DROPPED);
	n = udp_to_us(f, 4000, 32);
	wr16(f + 20, 185);                      /* offset 1480 */
	fix_ip_cksum(f + 14, 20);
	assert_int_equal(harness_input(&st, f, n), STACK_DROPPED);
	n = udp_to_us(f, 4000, 32);
	wr16(f + 20, 0x4000);                   /* DF alone is fine */
	fix_ip_cksum(f + 14, 20);
	assert_int_equal(harness_input(&st, f, n), STACK_DELIVERED);
	assert_int_equal(st.stats.rx_drop[PN_RX_IP_FRAGMENT], 2);
	assert_reconciled(&st);
	sc.frag_flows = 64;
}

static void
ip_ttl_zero_and_unknown_proto(void **state)
{
	uint8_t f[1600];
	size_t n;

	n = udp_to_us(f, 4000, 32);
	f[14 + 8] = 0;
	fix_ip_cksum(f + 14, 20);
	assert_int_equal(harness_input(&st, f, n), STACK_DROPPED);
	assert_int_equal(st.stats.rx_drop[PN_RX_IP_TTL], 1);
	n = udp_to_us(f, 4000, 32);
	f[14 + 9] = 6;                          /* TCP: we have none */
	fix_ip_cksum(f + 14, 20);
	assert_int_equal(harness_input(&st, f, n), STACK_DROPPED);
	assert_int_equal(st.stats.rx_drop[PN_RX_IP_PROTO], 1);
}

static void
ip_padding_trimmed_and_options_accepted(void **state)
{
	uint8_t f[1600], g[1600];
	size_t n = udp_to_us(f, 4000, 2);       /* 44 bytes */
	struct rte_mbuf *m = NULL;

	memset(f + n, 0xaa, 60 - n);            /* Ethernet padding */
	assert_int_equal(harness_input(&st, f, 60), STACK_DELIVERED);
	assert_int_equal(rte_ring_dequeue(bound.rx, (void **)&m), 0);
	assert_int_equal(rte_pktmbuf_data_len(m), n);
	rte_pktmbuf_free(m);

	/* IHL 6 with a 4-byte option (NOP x4) */
	n = udp_to_us(f, 4000, 8);
	memcpy(g, f, 34);
	memset(g + 34, 1, 4);
	memcpy(g + 38, f + 34, n - 34);
	g[14] = 0x46;
	wr16(g + 16, rdu16(f + 16) + 4);
	fix_ip_cksum(g + 14, 24);
	assert_int_equal(harness_input(&st, g, n + 4), STACK_DELIVERED);
	assert_int_equal(rte_ring_dequeue(bound.rx, (void **)&m), 0);
	assert_int_equal(m->l3_len, 24);
	rte_pktmbuf_free(m);
}

/* ---- ICMP ---- */

static void
icmp_echo_reply_byte_by_byte(void **state)
{
	uint8_t f[1600], exp[1600], data[56];
	size_t n = frame_ping(f, PEER_IP, 0x1234, 7, 56), en;

	assert_int_equal(harness_input(&st, f, n), STACK_ANSWERED);
	assert_int_equal(st.tx_n, 1);
	assert_int_equal(st.stats.icmp_echo_replies, 1);

	for (uint16_t i = 0; i < 56; i++)
		data[i] = (uint8_t)(i * 7 + 1);
	en = put_eth(exp, PEER_MAC, OUR_MAC, 0x0800);
	en += put_ipv4(exp + en, OUR_IP, PEER_IP, 1, 64, 64, 0x4000);
	en += put_icmp_echo(exp + en, 0, 0x1234, 7, data, 56);
	assert_frame(st.tx[0], exp, en);
	assert_reconciled(&st);
}

static void
icmp_malformed(void **state)
{
	uint8_t f[1600];
	size_t n;

	/* ICMP shorter than its header: IP total length says 20 + 4 */
	n = frame_ping(f, PEER_IP, 1, 1, 0);
	wr16(f + 16, 24);
	fix_ip_cksum(f + 14, 20);
	assert_int_equal(harness_input(&st, f, 38), STACK_DROPPED);
	assert_int_equal(st.stats.rx_drop[PN_RX_ICMP_TRUNCATED], 1);

	n = frame_ping(f, PEER_IP, 1, 1, 16);
	f[n - 1] ^= 0xff;                       /* data no longer matches checksum */
	assert_int_equal(harness_input(&st, f, n), STACK_DROPPED);
	assert_int_equal(st.stats.rx_drop[PN_RX_ICMP_CSUM], 1);

	n = frame_ping(f, PEER_IP, 1, 1, 16);
	f[34] = 13;                             /* timestamp request */
	wr16(f + 36, 0);
	wr16(f + 36, ref_cksum(f + 34, n - 34, 0));
	assert_int_equal(harness_input(&st, f, n), STACK_DROPPED);
	assert_int_equal(st.stats.rx_drop[PN_RX_ICMP_TYPE], 1);
	assert_int_equal(st.tx_n, 0);
	assert_reconciled(&st);
}

/* ---- UDP ---- */

static void
udp_lengths(void **state)
{
	uint8_t f[1600];
	size_t n;

	n = udp_to_us(f, 4000, 16);
	wr16(f + 38, 7);                        /* UDP length < 8 */
	assert_int_equal(harness_input(&st, f, n), STACK_DROPPED);
	n = udp_to_us(f, 4000, 16);
	wr16(f + 38, 8 + 17);                   /* longer than the IP payload */
	assert_int_equal(harness_input(&st, f, n), STACK_DROPPED);
	assert_int_equal(st.stats.rx_drop[PN_RX_UDP_LEN], 2);

	n = udp_to_us(f, 4000, 0);              /* IP payload shorter than 8 */
	wr16(f + 16, 20 + 4);
	fix_ip_cksum(f + 14, 20);
	assert_int_equal(harness_input(&st, f, 38), STACK_DROPPED);
	assert_int_equal(st.stats.rx_drop[PN_RX_UDP_TRUNCATED], 1);
	assert_reconciled(&st);
}

static void
udp_checksum(void **state)
{
	uint8_t f[1600];
	size_t n;

	n = udp_to_us(f, 4000, 16);
	f[n - 1] ^= 0x10;
	assert_int_equal(harness_input(&st, f, n), STACK_DROPPED);
	assert_int_equal(st.stats.rx_drop[PN_RX_UDP_CSUM], 1);

	n = udp_to_us(f, 4000, 16);
	f[n - 1] ^= 0x10;
	wr16(f + 40, 0);                        /* no checksum: accepted */
	assert_int_equal(harness_input(&st, f, n), STACK_DELIVERED);
}

static void
udp_connected_wins_over_bound(void **state)
{
	uint8_t f[1600];
	size_t n;

	n = udp_to_us(f, 5555, 4);              /* PEER:5555 -> the connected one */
	assert_int_equal(harness_input(&st, f, n), STACK_DELIVERED);
	n = udp_to_us(f, 5556, 4);              /* another port -> the bound one */
	assert_int_equal(harness_input(&st, f, n), STACK_DELIVERED);
	n = frame_udp(f, OUR_MAC, OTHER_IP, OUR_IP, 5555, 7, "abcd", 4);
	assert_int_equal(harness_input(&st, f, n), STACK_DELIVERED);
	assert_int_equal(connected.rx_pkts, 1);
	assert_int_equal(bound.rx_pkts, 2);

	/* a closed port: answered with a port unreachable (see below) */
	n = frame_udp(f, OUR_MAC, PEER_IP, OUR_IP, 5555, 8, "abcd", 4);
	assert_int_equal(harness_input(&st, f, n), STACK_ANSWERED);
	assert_int_equal(st.stats.icmp_unreach_sent, 1);
	assert_reconciled(&st);
}

/* A datagram for a closed port gets an ICMP port unreachable, built in
 * place: from us to the sender, quoting its IP header and datagram. */
static void
udp_closed_port_unreachable_byte_by_byte(void **state)
{
	uint8_t f[1600], exp[1600];
	size_t n = frame_udp(f, OUR_MAC, PEER_IP, OUR_IP, 5555, 9, "closed?", 7), en;

	assert_int_equal(harness_input(&st, f, n), STACK_ANSWERED);
	assert_int_equal(st.tx_n, 1);
	en = put_eth(exp, PEER_MAC, OUR_MAC, 0x0800);
	en += put_ipv4(exp + en, OUR_IP, PEER_IP, 1, (uint16_t)(8 + n - 14), 64, 0);
	wr16(exp + 18, 0);                      /* id 0 */
	fix_ip_cksum(exp + 14, 20);
	exp[en] = 3;                            /* destination unreachable */
	exp[en + 1] = 3;                        /* port */
	memset(exp + en + 2, 0, 6);
	memcpy(exp + en + 8, f + 14, n - 14);   /* the offending datagram, from IP on */
	wr16(exp + en + 2, ref_cksum(exp + en, 8 + n - 14, 0));
	en += 8 + n - 14;
	assert_frame(st.tx[0], exp, en);
	assert_reconciled(&st);
}

/* Never to a link-layer broadcast, and no more than the rate: the rest are
 * dropped as udp_no_socket (the limited ones counted too). */
static void
udp_closed_port_rules_and_rate(void **state)
{
	uint8_t f[1600];
	size_t n = frame_udp(f, BCAST_MAC, PEER_IP, OUR_IP, 5555, 9, "x", 1);
	uint32_t sent = 0;

	assert_int_equal(harness_input(&st, f, n), STACK_DROPPED);
	assert_int_equal(st.stats.rx_drop[PN_RX_UDP_NO_SOCKET], 1);
	n = frame_udp(f, OUR_MAC, PEER_IP, OUR_IP, 5555, 9, "x", 1);
	for (int i = 0; i < 2 * STACK_ICMP_BURST; i++) {
		sent += harness_input(&st, f, n) == STACK_ANSWERED;
		if (st.tx_n > STACK_TX_MAX / 2)
			harness_drain_tx(&st);
	}
	assert_int_equal(sent, STACK_ICMP_BURST);
	assert_int_equal(st.stats.icmp_unreach_limited, STACK_ICMP_BURST);
	/* time refills the bucket: STACK_ICMP_RATE a second */
	st.now_ms += 10;
	sent = 0;
	for (int i = 0; i < 20; i++)
		sent += harness_input(&st, f, n) == STACK_ANSWERED;
	assert_int_equal(sent, STACK_ICMP_RATE / 100);
	assert_reconciled(&st);
}

/* An echo request with IP options (record route): the reply carries none
 * (RFC 1122 3.2.2.6 lets us drop them; echoing them unchanged would be a
 * false record). */
static void
icmp_echo_options_dropped(void **state)
{
	uint8_t f[256], g[256];
	size_t n = frame_ping(f, PEER_IP, 9, 1, 16);
	const uint8_t *r;

	memcpy(g, f, 34);
	memcpy(g + 46, f + 34, n - 34);
	g[34] = 7; g[35] = 11; g[36] = 4; memset(g + 37, 0, 8); g[45] = 1;   /* RR, NOP */
	g[14] = 0x48;
	wr16(g + 16, (uint16_t)(n - 14 + 12));
	fix_ip_cksum(g + 14, 32);
	assert_int_equal(harness_input(&st, g, n + 12), STACK_ANSWERED);
	assert_int_equal(st.tx_n, 1);
	r = rte_pktmbuf_mtod(st.tx[0], const uint8_t *);
	assert_int_equal(rte_pktmbuf_data_len(st.tx[0]), n);       /* 12 bytes fewer */
	assert_int_equal(r[14], 0x45);
	assert_int_equal(rdu16(r + 16), n - 14);
	assert_int_equal(ref_cksum(r + 14, 20, 0), 0);
	assert_memory_equal(r, PEER_MAC, 6);
	assert_memory_equal(r + 6, OUR_MAC, 6);
	assert_int_equal(r[34], 0);                                 /* echo reply */
	assert_memory_equal(r + 38, f + 38, n - 38);                /* id, seq, data */
	assert_int_equal(ref_cksum(r + 34, n - 34, 0), 0);
}

/* A port unreachable for a socket of ours: only a connected one (4-tuple
 * matched from the quoted headers) takes it; anything else is counted. */
static void
icmp_error_for_a_connected_socket(void **state)
{
	uint8_t f[256], quoted[64];
	size_t n, q;

	/* the datagram we "sent": 198.18.0.2:7 -> PEER:5555, the connected socket */
	q = put_ipv4(quoted, OUR_IP, PEER_IP, 17, 8 + 4, 64, 0x4000);
	q += put_udp(quoted + q, OUR_IP, PEER_IP, 7, 5555, "abcd", 4);
	n = put_eth(f, OUR_MAC, PEER_MAC, 0x0800);
	n += put_ipv4(f + n, PEER_IP, OUR_IP, 1, (uint16_t)(8 + q), 64, 0);
	f[n] = 3;
	f[n + 1] = 3;
	memset(f + n + 2, 0, 6);
	memcpy(f + n + 8, quoted, q);
	wr16(f + n + 2, ref_cksum(f + n, 8 + q, 0));
	/* connected is SOCK_ECHO here: not a client, so unmatched */
	assert_int_equal(harness_input(&st, f, n + 8 + q), STACK_DROPPED);
	assert_int_equal(st.stats.rx_drop[PN_RX_ICMP_UNMATCHED], 1);
	/* another 4-tuple: unmatched */
	wr16(f + n + 8 + 20 + 2, 5556);
	wr16(f + n + 2, 0);
	wr16(f + n + 2, ref_cksum(f + n, 8 + q, 0));
	assert_int_equal(harness_input(&st, f, n + 8 + q), STACK_DROPPED);
	assert_int_equal(st.stats.rx_drop[PN_RX_ICMP_UNMATCHED], 2);
	assert_int_equal(st.tx_n, 0);
	assert_reconciled(&st);
}

static void
udp_ring_full_counted(void **state)
{
	uint8_t f[1600];
	size_t n = udp_to_us(f, 4000, 4);

	for (int i = 0; i < 4; i++)
		assert_int_equal(harness_input(&st, f, n), STACK_DELIVERED);
	assert_int_equal(harness_input(&st, f, n), STACK_DROPPED);
	assert_int_equal(st.stats.rx_drop[PN_RX_UDP_RING_FULL], 1);
	assert_int_equal(bound.rx_drops, 1);
	assert_int_equal(bound.rx_pkts, 4);
	assert_reconciled(&st);
}

static void
udp_closing_socket_drops(void **state)
{
	uint8_t f[1600];
	size_t n = udp_to_us(f, 4000, 4);
	struct rte_mbuf *m = mbuf_from(f, n);

	m->l2_len = 14;
	m->l3_len = 20;
	m->l4_len = 8;
	atomic_store(&bound.closing, true);
	assert_int_equal(udp_deliver(&st, &bound, m, 0), STACK_DROPPED);
	assert_int_equal(st.stats.rx_drop[PN_RX_UDP_NO_SOCKET], 1);
	atomic_store(&bound.closing, false);
}

static struct rte_mbuf *
payload_mbuf(const void *p, uint16_t len)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(test_pool);

	memcpy(rte_pktmbuf_append(m, len), p, len);
	return m;
}

static void
udp_output_byte_by_byte(void **state)
{
	uint8_t exp[1600], payload[300];
	struct rte_ether_addr mac;
	size_t en;

	for (int i = 0; i < 300; i++)
		payload[i] = (uint8_t)(255 - i);
	memcpy(mac.addr_bytes, PEER_MAC, 6);
	arp_cache_insert(&st, rte_cpu_to_be_32(PEER_IP), &mac, 1);

	assert_int_equal(udp_output(&st, payload_mbuf(payload, 300), rte_cpu_to_be_16(7),
				    rte_cpu_to_be_32(PEER_IP), rte_cpu_to_be_16(4000)), 0);
	assert_int_equal(st.tx_n, 1);
	en = put_eth(exp, PEER_MAC, OUR_MAC, 0x0800);
	en += put_ipv4(exp + en, OUR_IP, PEER_IP, 17, 308, 64, 0x4000);
	wr16(exp + 18, 0);                      /* we send ID 0 (RFC 6864) */
	fix_ip_cksum(exp + 14, 20);
	en += put_udp(exp + en, OUR_IP, PEER_IP, 7, 4000, payload, 300);
	assert_frame(st.tx[0], exp, en);
}

static void
udp_output_routes(void **state)
{
	uint8_t p[8] = { 0 };

	/* off-link goes to the gateway: we ARP for the gateway */
	assert_int_equal(udp_output(&st, payload_mbuf(p, 8), rte_cpu_to_be_16(7),
				    rte_cpu_to_be_32(FAR_IP), rte_cpu_to_be_16(9)), 0);
	assert_int_equal(st.tx_n, 1);
	assert_int_equal(rdu16(rte_pktmbuf_mtod(st.tx[0], uint8_t *) + 12), 0x0806);
	const uint8_t *tip = rte_pktmbuf_mtod_offset(st.tx[0], uint8_t *, 38);
	assert_int_equal((uint32_t)rdu16(tip) << 16 | rdu16(tip + 2), GW_IP);
	assert_non_null(arp_cache_find(&st.arp, rte_cpu_to_be_32(GW_IP)));

	/* no gateway: no route */
	sc.gateway = 0;
	assert_int_equal(udp_output(&st, payload_mbuf(p, 8), rte_cpu_to_be_16(7),
				    rte_cpu_to_be_32(FAR_IP), rte_cpu_to_be_16(9)), -EHOSTUNREACH);
	assert_int_equal(st.stats.tx_drop[PN_TX_NO_ROUTE], 1);

	/* more than the MTU: in fragments (test_frag.c) */
	uint8_t big[1473] = { 0 };

	sc.gateway = rte_cpu_to_be_32(GW_IP);
	harness_drain_tx(&st);
	assert_int_equal(udp_output(&st, payload_mbuf(big, 1473), rte_cpu_to_be_16(7),
				    rte_cpu_to_be_32(FAR_IP), rte_cpu_to_be_16(9)), 0);
	assert_int_equal(st.stats.tx_drop[PN_TX_TOO_BIG], 0);
}

/* Martian sources (RFC 1122 3.2.1.3, RFC 1812 5.3.7): each dropped under
 * its own name, never answered, whatever the protocol. */
static void
ip_martian_sources_never_answered(void **state)
{
	static const struct { uint32_t src; enum pn_rx_drop why; } cases[] = {
		{ 0x00000000u, PN_RX_IP_SRC_ZERO },     /* 0.0.0.0 */
		{ 0x00010203u, PN_RX_IP_SRC_ZERO },     /* 0.1.2.3 */
		{ 0x7f000001u, PN_RX_IP_SRC_LOOP },     /* 127.0.0.1 */
		{ 0x7fff0102u, PN_RX_IP_SRC_LOOP },
		{ OUR_IP,      PN_RX_IP_SRC_OURS },
		{ 0xffffffffu, PN_RX_IP_SRC_BCAST },    /* limited broadcast */
		{ 0xc61200ffu, PN_RX_IP_SRC_BCAST },    /* 198.18.0.255: our subnet's */
		{ 0xe0000001u, PN_RX_IP_SRC_MCAST },    /* 224.0.0.1 */
		{ 0xefffffffu, PN_RX_IP_SRC_MCAST },
		{ 0xf0000001u, PN_RX_IP_SRC_CLASS_E },  /* 240.0.0.1 */
		{ 0xfffffffeu, PN_RX_IP_SRC_CLASS_E },
	};
	uint8_t f[1600];
	size_t n;

	for (size_t i = 0; i < RTE_DIM(cases); i++) {
		uint64_t before = st.stats.rx_drop[cases[i].why];

		/* to the echo port, from port 7: were it answered, the answer
		 * would come back to an echo port, and the loop never end */
		n = frame_udp(f, OUR_MAC, cases[i].src, OUR_IP, 7, 7, "loop", 4);
		assert_int_equal(harness_input(&st, f, n), STACK_DROPPED);
		/* a ping */
		n = frame_ping(f, cases[i].src, 1, 2, 8);
		assert_int_equal(harness_input(&st, f, n), STACK_DROPPED);
		assert_int_equal(st.stats.rx_drop[cases[i].why], before + 2);
	}
	assert_int_equal(st.tx_n, 0);
	assert_int_equal(bound.rx_pkts, 0);
	assert_int_equal(st.stats.rx_answered, 0);
	assert_reconciled(&st);

	/* the network address and ordinary neighbours are fine */
	n = frame_ping(f, 0xc6120000u, 1, 2, 8);
	assert_int_equal(harness_input(&st, f, n), STACK_ANSWERED);
	n = frame_ping(f, FAR_IP, 1, 2, 8);
	assert_int_equal(harness_input(&st, f, n), STACK_ANSWERED);
}

/* A /31 or /32 has no subnet broadcast (RFC 3021): its last address is a
 * host. */
static void
ip_point_to_point_has_no_broadcast(void **state)
{
	uint8_t f[1600];
	size_t n;

	sc.netmask = rte_cpu_to_be_32(0xfffffffeu);     /* 198.18.0.2/31 */
	n = frame_ping(f, 0xc6120003u, 1, 2, 8);
	assert_int_equal(harness_input(&st, f, n), STACK_ANSWERED);
	sc.netmask = rte_cpu_to_be_32(0xffffff00u);
	n = frame_ping(f, 0xc6120003u, 1, 2, 8);
	assert_int_equal(harness_input(&st, f, n), STACK_ANSWERED);
	n = frame_ping(f, 0xc61200ffu, 1, 2, 8);
	assert_int_equal(harness_input(&st, f, n), STACK_DROPPED);
	assert_int_equal(st.stats.rx_drop[PN_RX_IP_SRC_BCAST], 1);
}

/* A frame whose Ethernet source is a group address: dropped before any
 * protocol sees it (a reply would go to every host). */
static void
eth_group_source_dropped(void **state)
{
	static const uint8_t group[6] = { 0x01, 0x00, 0x5e, 0x00, 0x00, 0x01 };
	uint8_t f[1600];
	size_t n;

	n = frame_ping(f, PEER_IP, 1, 2, 8);
	memcpy(f + 6, BCAST_MAC, 6);
	assert_int_equal(harness_input(&st, f, n), STACK_DROPPED);
	memcpy(f + 6, group, 6);
	assert_int_equal(harness_input(&st, f, n), STACK_DROPPED);
	n = udp_to_us(f, 4000, 4);
	memcpy(f + 6, BCAST_MAC, 6);
	assert_int_equal(harness_input(&st, f, n), STACK_DROPPED);
	assert_int_equal(st.stats.rx_drop[PN_RX_ETH_SRC], 3);
	assert_int_equal(st.tx_n, 0);
	assert_int_equal(bound.rx_pkts, 0);
	assert_reconciled(&st);
}

/* Nothing is sent to port 0, "this network" or class E; local addresses
 * are local delivery. */
static void
udp_output_bad_destinations(void **state)
{
	static const uint32_t bad[] = { 0x00000000u, 0x00000005u, 0xf0000001u };
	uint8_t p[8] = { 0 };

	for (size_t i = 0; i < RTE_DIM(bad); i++)
		assert_int_equal(udp_output(&st, payload_mbuf(p, 8), rte_cpu_to_be_16(7),
					    rte_cpu_to_be_32(bad[i]), rte_cpu_to_be_16(9)),
				 -EINVAL);
	assert_int_equal(udp_output(&st, payload_mbuf(p, 8), rte_cpu_to_be_16(7),
				    rte_cpu_to_be_32(PEER_IP), 0), -EINVAL);
	assert_int_equal(st.stats.tx_drop[PN_TX_BAD_DEST], RTE_DIM(bad) + 1);
	assert_int_equal(st.tx_n, 0);
	assert_int_equal(harness_in_use(), 0);
}

/* Local delivery answers from the address the sender used: 127.0.0.1 for
 * the loopback net, our address for ours (a socket connected to either
 * gets its answers, as on the kernel's loopback). */
static void
udp_local_source_is_the_address_used(void **state)
{
	uint8_t p[4] = "ping";
	struct rte_mbuf *m = NULL;
	const struct rte_ipv4_hdr *ip;

	assert_int_equal(udp_output(&st, payload_mbuf(p, 4), rte_cpu_to_be_16(4000),
				    rte_cpu_to_be_32(0x7f000001u), rte_cpu_to_be_16(7)), 0);
	assert_int_equal(udp_output(&st, payload_mbuf(p, 4), rte_cpu_to_be_16(4000),
				    rte_cpu_to_be_32(0x7f000009u), rte_cpu_to_be_16(7)), 0);
	assert_int_equal(udp_output(&st, payload_mbuf(p, 4), rte_cpu_to_be_16(4000),
				    rte_cpu_to_be_32(OUR_IP), rte_cpu_to_be_16(7)), 0);
	assert_int_equal(st.stats.local_delivered, 3);
	assert_int_equal(st.tx_n, 0);
	for (uint32_t i = 0; i < 3; i++) {
		assert_int_equal(rte_ring_dequeue(bound.rx, (void **)&m), 0);
		ip = rte_pktmbuf_mtod_offset(m, const struct rte_ipv4_hdr *, m->l2_len);
		assert_int_equal(rte_be_to_cpu_32(ip->src_addr), i < 2 ? 0x7f000001u : OUR_IP);
		rte_pktmbuf_free(m);
	}
}

static void
tx_batch_and_port_full(void **state)
{
	for (int i = 0; i < STACK_TX_MAX + 2; i++)
		arp_send_request(&st, rte_cpu_to_be_32(PEER_IP));
	assert_int_equal(st.tx_n, STACK_TX_MAX);
	assert_int_equal(st.stats.tx_drop[PN_TX_BATCH_FULL], 2);
	/* pretend the port took 10 */
	for (int i = 0; i < 10; i++)
		rte_pktmbuf_free(st.tx[i]);
	stack_tx_done(&st, 10);
	assert_int_equal(st.stats.tx_frames, 10);
	assert_int_equal(st.stats.tx_drop[PN_TX_PORT_FULL], STACK_TX_MAX - 10);
	assert_int_equal(st.tx_n, 0);
}

int
main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(ip_valid_udp_delivered),
		T(ip_truncated_every_length),
		T(ip_bad_version_and_ihl),
		T(ip_lengths_that_disagree),
		T(ip_bad_checksum),
		T(ip_not_for_us),
		T(udp_broadcast_to_every_socket),
		T(udp_output_broadcast),
		T(udp_local_and_kernel),
		T(udp_output_group),
		T(ip_fragments_dropped),
		T(ip_ttl_zero_and_unknown_proto),
		T(ip_padding_trimmed_and_options_accepted),
		T(icmp_echo_reply_byte_by_byte),
		T(icmp_malformed),
		T(udp_lengths),
		T(udp_checksum),
		T(udp_connected_wins_over_bound),
		T(udp_ring_full_counted),
		T(udp_closing_socket_drops),
		T(udp_output_byte_by_byte),
		T(udp_output_routes),
		T(tx_batch_and_port_full),
		T(ip_martian_sources_never_answered),
		T(ip_point_to_point_has_no_broadcast),
		T(eth_group_source_dropped),
		T(udp_output_bad_destinations),
		T(udp_local_source_is_the_address_used),
		T(udp_closed_port_unreachable_byte_by_byte),
		T(udp_closed_port_rules_and_rate),
		T(icmp_echo_options_dropped),
		T(icmp_error_for_a_connected_socket),
	};

	harness_init();
	return cmocka_run_group_tests_name("ip_udp", tests, NULL, NULL);
}
