/* SPDX-License-Identifier: BSD-3-Clause */
/* Parsed-packet summaries: decoding, the one-line format and JSON. */
#include "harness.h"

#include <stdio.h>
#include <stdlib.h>

#include "summary.h"

static void
fmt(const uint8_t *f, size_t n, enum pkt_dir dir, struct pkt_summary *ps, char *line)
{
	pkt_summarize(ps, f, n, n, dir, 0);
	pkt_summary_format(ps, line, 256);
}

static void
summary_udp(void **state)
{
	uint8_t f[128];
	struct pkt_summary ps;
	char line[256];
	size_t n = frame_udp(f, OUR_MAC, PEER_IP, OUR_IP, 40000, 7, "hello", 5);

	fmt(f, n, PKT_RX, &ps, line);
	assert_int_equal(ps.kind, PKT_UDP);
	assert_memory_equal(ps.src_mac, PEER_MAC, 6);
	assert_memory_equal(ps.dst_mac, OUR_MAC, 6);
	assert_int_equal(ps.ethertype, 0x0800);
	assert_int_equal(ps.src_ip, PEER_IP);
	assert_int_equal(ps.dst_ip, OUR_IP);
	assert_int_equal(ps.l4.udp.sport, 40000);
	assert_int_equal(ps.l4.udp.dport, 7);
	assert_int_equal(ps.l4.udp.len, 13);
	assert_int_equal(ps.ttl, 64);
	assert_int_equal(ps.ip_frag, 0x4000);
	assert_string_equal(line,
		"RX 02:00:00:00:00:01 > 02:00:00:00:00:02, ethertype IPv4 (0x0800), length 47: "
		"198.18.0.1.40000 > 198.18.0.2.7: UDP, length 5, ttl 64, ip id 4660, flags [DF]");
}

static void
summary_tcp(void **state)
{
	uint8_t f[128] = { 0 };
	struct pkt_summary ps;
	char line[256];
	size_t n = put_eth(f, OUR_MAC, PEER_MAC, 0x0800);

	n += put_ipv4(f + n, PEER_IP, OUR_IP, 6, 20, 63, 0);
	wr16(f + n, 443);
	wr16(f + n + 2, 51000);
	wr32(f + n + 4, 1000);
	f[n + 12] = 0x50;
	f[n + 13] = 0x12;                       /* SYN+ACK */
	n += 20;
	fmt(f, n, PKT_TX, &ps, line);
	assert_int_equal(ps.kind, PKT_TCP);
	assert_int_equal(ps.l4.tcp.flags, PKT_TCP_SYN | PKT_TCP_ACK);
	assert_string_equal(line,
		"TX 02:00:00:00:00:01 > 02:00:00:00:00:02, ethertype IPv4 (0x0800), length 54: "
		"198.18.0.1.443 > 198.18.0.2.51000: TCP, flags [S.], seq 1000, ttl 63, ip id 4660, flags [none]");
}

static void
summary_icmp(void **state)
{
	uint8_t f[128];
	struct pkt_summary ps;
	char line[256];
	size_t n = frame_ping(f, PEER_IP, 77, 3, 8);

	fmt(f, n, PKT_RX, &ps, line);
	assert_int_equal(ps.kind, PKT_ICMP);
	assert_int_equal(ps.l4.icmp.type, 8);
	assert_int_equal(ps.l4.icmp.id, 77);
	assert_int_equal(ps.l4.icmp.seq, 3);
	assert_non_null(strstr(line, ": 198.18.0.1 > 198.18.0.2: ICMP echo request, id 77, seq 3, ttl 64, ip id 4660, flags [DF]"));
}

/* An ICMP error says what it is about, as tcpdump does, from the header
 * it quotes. */
static void
summary_icmp_errors(void **state)
{
	uint8_t dg[128], f[256];
	struct pkt_summary ps;
	char line[256], json[1024];
	size_t q = frame_udp(dg, PEER_MAC, OUR_IP, PEER_IP, 40000, 9, "closed", 6) - 14;
	size_t n = put_eth(f, OUR_MAC, PEER_MAC, 0x0800);

	n += put_ipv4(f + n, PEER_IP, OUR_IP, 1, (uint16_t)(8 + q), 64, 0);
	memset(f + n, 0, 8);
	f[n] = 3, f[n + 1] = 3;
	memcpy(f + n + 8, dg + 14, q);
	n += 8 + q;
	fmt(f, n, PKT_RX, &ps, line);
	assert_non_null(strstr(line, ": 198.18.0.1 > 198.18.0.2: ICMP 198.18.0.1 udp port 9 unreachable, ttl 64"));
	pkt_summary_json(&ps, json, sizeof(json));
	assert_non_null(strstr(json, "\"icmp_type\": 3, \"icmp_code\": 3"));
	assert_non_null(strstr(json, "\"quoted_proto\": 17, \"quoted_src_ip\": \"198.18.0.2\", "
				     "\"quoted_dst_ip\": \"198.18.0.1\", \"quoted_src_port\": 40000, "
				     "\"quoted_dst_port\": 9"));
	/* need to frag, with its MTU; time exceeded; host unreachable */
	f[34 + 1] = 4, f[34 + 6] = 0x05, f[34 + 7] = 0x78;
	fmt(f, n, PKT_RX, &ps, line);
	assert_non_null(strstr(line, "ICMP 198.18.0.1 unreachable - need to frag (mtu 1400)"));
	pkt_summary_json(&ps, json, sizeof(json));
	assert_non_null(strstr(json, "\"icmp_mtu\": 1400"));
	f[34] = 11, f[34 + 1] = 0;
	fmt(f, n, PKT_RX, &ps, line);
	assert_non_null(strstr(line, "ICMP time exceeded in-transit"));
	f[34] = 3, f[34 + 1] = 1;
	fmt(f, n, PKT_RX, &ps, line);
	assert_non_null(strstr(line, "ICMP host 198.18.0.1 unreachable"));
	/* quoting too little to say: the type and code */
	fmt(f, 34 + 8 + 10, PKT_RX, &ps, line);
	assert_non_null(strstr(line, "ICMP unreachable, code 1"));
}

static void
summary_arp(void **state)
{
	uint8_t f[128];
	static const uint8_t zero[6];
	struct pkt_summary ps;
	char line[256];
	size_t n = frame_arp(f, BCAST_MAC, 1, PEER_MAC, PEER_IP, zero, OUR_IP);

	fmt(f, n, PKT_RX, &ps, line);
	assert_int_equal(ps.kind, PKT_ARP);
	assert_int_equal(ps.l4.arp.op, 1);
	assert_string_equal(line,
		"RX 02:00:00:00:00:01 > ff:ff:ff:ff:ff:ff, ethertype ARP (0x0806), length 42: "
		"ARP, Request who-has 198.18.0.2 tell 198.18.0.1 (02:00:00:00:00:01)");
	n = frame_arp(f, PEER_MAC, 2, OUR_MAC, OUR_IP, PEER_MAC, PEER_IP);
	fmt(f, n, PKT_TX, &ps, line);
	assert_non_null(strstr(line, "ARP, Reply 198.18.0.2 is-at 02:00:00:00:00:02"));
}

static void
summary_fragment_flags(void **state)
{
	uint8_t f[128];
	struct pkt_summary ps;
	char line[256];
	size_t n = frame_udp(f, OUR_MAC, PEER_IP, OUR_IP, 1, 2, "xxxxxxxx", 8);

	wr16(f + 20, 0x2000 | 185);             /* MF, offset 1480 */
	fmt(f, n, PKT_RX, &ps, line);
	/* not a first fragment: no ports */
	assert_int_equal(ps.kind, PKT_IPV4);
	assert_non_null(strstr(line, "198.18.0.1 > 198.18.0.2: proto 17, ttl 64, ip id 4660, flags [MF], offset 1480"));
	wr16(f + 20, 0x6000);                   /* DF+MF, first fragment */
	fmt(f, n, PKT_RX, &ps, line);
	assert_int_equal(ps.kind, PKT_UDP);
	assert_non_null(strstr(line, "flags [DF+MF]"));
}

static void
summary_unknown_ethertype(void **state)
{
	uint8_t f[60] = { 0 };
	struct pkt_summary ps;
	char line[256];

	put_eth(f, BCAST_MAC, PEER_MAC, 0x88cc);       /* LLDP */
	fmt(f, 60, PKT_RX, &ps, line);
	assert_int_equal(ps.kind, PKT_ETH);
	assert_string_equal(line, "RX 02:00:00:00:00:01 > ff:ff:ff:ff:ff:ff, "
			    "ethertype Unknown (0x88cc), length 60");
}

/* All nine TCP flags, each with its letter; the NS bit lives in byte 12. */
static void
summary_tcp_nine_flags(void **state)
{
	uint8_t f[128] = { 0 };
	struct pkt_summary ps;
	char line[256];
	size_t n = put_eth(f, OUR_MAC, PEER_MAC, 0x0800);

	n += put_ipv4(f + n, PEER_IP, OUR_IP, 6, 20, 64, 0);
	wr16(f + n, 1);
	wr16(f + n + 2, 2);
	f[n + 12] = 0x51;                       /* data offset 5, NS */
	f[n + 13] = 0xff;                       /* CWR ECE URG ACK PSH RST SYN FIN */
	n += 20;
	fmt(f, n, PKT_RX, &ps, line);
	assert_int_equal(ps.l4.tcp.flags, 0x1ff);
	assert_non_null(strstr(line, "flags [SFRPU.EWN]"));
}

/* 802.1Q and QinQ: ids, priorities, and the IPv4 inside decoded. */
static void
summary_vlan_and_qinq(void **state)
{
	uint8_t f[160], g[160];
	struct pkt_summary ps;
	char line[320];
	size_t n = frame_udp(g, OUR_MAC, PEER_IP, OUR_IP, 1000, 7, "vlan", 4);

	/* one tag: VLAN 5, priority 3 */
	memcpy(f, g, 12);
	wr16(f + 12, 0x8100);
	wr16(f + 14, 3 << 13 | 5);
	memcpy(f + 16, g + 12, n - 12);
	fmt(f, n + 4, PKT_RX, &ps, line);
	assert_int_equal(ps.nvlan, 1);
	assert_int_equal(ps.vlan_tci[0] & 0xfff, 5);
	assert_int_equal(ps.kind, PKT_UDP);
	assert_int_equal(ps.l4.udp.dport, 7);
	assert_non_null(strstr(line, "ethertype 802.1Q (0x8100), length 50: vlan 5, p 3, "
				     "ethertype IPv4 (0x0800): 198.18.0.1.1000 > 198.18.0.2.7: UDP"));
	/* two: 802.1ad 100 outside, 802.1Q 5 inside */
	memcpy(f, g, 12);
	wr16(f + 12, 0x88a8);
	wr16(f + 14, 100);
	wr16(f + 16, 0x8100);
	wr16(f + 18, 5);
	memcpy(f + 20, g + 12, n - 12);
	fmt(f, n + 8, PKT_RX, &ps, line);
	assert_int_equal(ps.nvlan, 2);
	assert_int_equal(ps.kind, PKT_UDP);
	assert_non_null(strstr(line, "ethertype 802.1Q-QinQ (0x88a8), length 54: vlan 100, p 0, "
				     "ethertype 802.1Q (0x8100): vlan 5, p 0, ethertype IPv4"));
}

/* IPv6: UDP and ICMPv6 over the base header. */
static void
summary_ipv6(void **state)
{
	uint8_t f[160] = { 0 };
	struct pkt_summary ps;
	char line[320], json[1024];
	size_t n = put_eth(f, OUR_MAC, PEER_MAC, 0x86dd);

	f[n] = 0x60;
	f[n + 1] = 0x05;                        /* traffic class 0, flow 0x5xxxx */
	wr16(f + n + 2, 0x0001);
	wr16(f + n + 4, 12);                    /* payload */
	f[n + 6] = 17;
	f[n + 7] = 63;
	f[n + 8] = 0x20; f[n + 9] = 0x01; f[n + 10] = 0x0d; f[n + 11] = 0xb8; f[n + 23] = 1;
	f[n + 24] = 0x20; f[n + 25] = 0x01; f[n + 26] = 0x0d; f[n + 27] = 0xb8; f[n + 39] = 2;
	wr16(f + n + 40, 5000);
	wr16(f + n + 42, 53);
	wr16(f + n + 44, 12);
	fmt(f, n + 52, PKT_RX, &ps, line);
	assert_int_equal(ps.kind, PKT_UDP);
	assert_true(ps.flags & PKT_F_IPV6);
	assert_non_null(strstr(line, ": 2001:db8::1.5000 > 2001:db8::2.53: UDP, length 4, hlim 63"));
	pkt_summary_json(&ps, json, sizeof(json));
	assert_non_null(strstr(json, "\"ip_version\": 6, \"src_ip\": \"2001:db8::1\""));
	assert_non_null(strstr(json, "\"flow_label\": 327681"));
	/* ICMPv6 echo request */
	f[n + 6] = 58;
	f[n + 40] = 128;
	f[n + 41] = 0;
	fmt(f, n + 52, PKT_RX, &ps, line);
	assert_int_equal(ps.kind, PKT_ICMPV6);
	assert_non_null(strstr(line, "ICMP6 echo request"));
}

/* 802.3 with LLC: the length field is not an ethertype. */
static void
summary_llc(void **state)
{
	uint8_t f[64] = { 0 };
	struct pkt_summary ps;
	char line[256];

	put_eth(f, BCAST_MAC, PEER_MAC, 46);
	f[14] = 0x42;
	f[15] = 0x42;
	f[16] = 0x03;
	fmt(f, 60, PKT_RX, &ps, line);
	assert_int_equal(ps.kind, PKT_LLC);
	assert_int_equal(ps.len8023, 46);
	assert_string_equal(line, "RX 02:00:00:00:00:01 > ff:ff:ff:ff:ff:ff, 802.3, length 60: "
			    "LLC, dsap 0x42, ssap 0x42, ctrl 0x03");
}

/* IPv4 options: named, kept (hex) in JSON, and the transport after them. */
static void
summary_ip_options(void **state)
{
	uint8_t f[160];
	struct pkt_summary ps;
	char line[320], json[1024];
	size_t n = frame_ping(f, PEER_IP, 9, 1, 8);
	uint8_t g[160];

	/* insert record route (7, length 11: 2 addresses) and a NOP: 12 bytes */
	memcpy(g, f, 34);
	memcpy(g + 46, f + 34, n - 34);
	g[34] = 7; g[35] = 11; g[36] = 4; memset(g + 37, 0, 8); g[45] = 1;
	g[14] = 0x48;                           /* IHL 8 */
	wr16(g + 16, (uint16_t)(n - 14 + 12));
	fmt(g, n + 12, PKT_RX, &ps, line);
	assert_int_equal(ps.ihl, 32);
	assert_int_equal(ps.nopt, 12);
	assert_int_equal(ps.kind, PKT_ICMP);
	assert_non_null(strstr(line, "ICMP echo request, id 9, seq 1"));
	assert_non_null(strstr(line, "options [rr,nop]"));
	pkt_summary_json(&ps, json, sizeof(json));
	assert_non_null(strstr(json, "\"ip_options\": \"070b04000000000000000001\""));
	assert_non_null(strstr(json, "\"ip_hdr_len\": 32"));
}

/* The JSON members: ARP's MACs, IP's id, TOS, header length. */
static void
summary_json_fields(void **state)
{
	uint8_t f[128];
	static const uint8_t zero[6];
	struct pkt_summary ps;
	char line[256], json[1024];
	size_t n = frame_arp(f, BCAST_MAC, 1, PEER_MAC, PEER_IP, zero, OUR_IP);

	fmt(f, n, PKT_RX, &ps, line);
	pkt_summary_json(&ps, json, sizeof(json));
	assert_non_null(strstr(json, "\"kind\": \"arp\""));
	assert_non_null(strstr(json, "\"arp_sha\": \"02:00:00:00:00:01\", "
				     "\"arp_tha\": \"00:00:00:00:00:00\""));
	n = frame_udp(f, OUR_MAC, PEER_IP, OUR_IP, 1, 2, "abc", 3);
	f[15] = 0xb8;                           /* TOS EF */
	wr16(f + 18, 4242);                     /* id */
	fmt(f, n, PKT_RX, &ps, line);
	pkt_summary_json(&ps, json, sizeof(json));
	assert_non_null(strstr(json, "\"ip_hdr_len\": 20, \"tos\": 184, \"ip_len\": 31, "
				     "\"ip_id\": 4242"));
	assert_non_null(strstr(line, ", tos 0xb8"));
}

/*
 * Every truncation of every kind, and every snapshot shorter than the frame:
 * never reads past what is there (ASan checks that: each copy is an
 * exact-size heap block); decodes what is there, as tshark does, and marks
 * the layer that was cut.
 */
static void
summary_truncated_never_overreads(void **state)
{
	uint8_t f[4][128];
	size_t n[4];
	static const uint8_t zero[6];
	struct pkt_summary ps;
	char line[256], small[16], json[1024];

	n[0] = frame_udp(f[0], OUR_MAC, PEER_IP, OUR_IP, 1, 2, "abc", 3);
	n[1] = frame_ping(f[1], PEER_IP, 1, 1, 0);
	n[2] = frame_arp(f[2], BCAST_MAC, 1, PEER_MAC, PEER_IP, zero, OUR_IP);
	n[3] = put_eth(f[3], OUR_MAC, PEER_MAC, 0x0800);
	n[3] += put_ipv4(f[3] + n[3], PEER_IP, OUR_IP, 6, 20, 64, 0);
	memset(f[3] + n[3], 0, 20);
	n[3] += 20;
	for (int k = 0; k < 4; k++) {
		for (size_t len = 0; len < n[k]; len++) {
			uint8_t *copy = malloc(len ? len : 1);

			memcpy(copy, f[k], len);
			/* cut on the wire, or only in the snapshot: the same decode */
			for (int snap = 0; snap < 2; snap++) {
				pkt_summarize(&ps, copy, len, snap ? n[k] : len, PKT_RX, 0);
				pkt_summary_format(&ps, line, sizeof(line));
				pkt_summary_json(&ps, json, sizeof(json));
				/* a cut inside any header the kind implies is marked */
				if (len < n[k] - (k == 0 ? 3 : 0)) {
					assert_non_null(strstr(line, " [|"));
					assert_non_null(strstr(json, "\"truncated\": true"));
				}
				/* what was there of the source address is shown */
				if (k != 2 && len >= 14 + 16)
					assert_non_null(strstr(line, "198.18.0.1"));
			}
			/* a short buffer is never overrun and stays terminated */
			int want = pkt_summary_format(&ps, small, sizeof(small));
			assert_true(want >= (int)strlen(small));
			assert_int_equal(strlen(small), sizeof(small) - 1);
			free(copy);
		}
	}
}

/*
 * What the log keeps of a frame: its headers, never a byte of payload, and
 * decoding them gives what decoding the whole frame gives.
 */
static void
summary_headers_only(void **state)
{
	uint8_t f[256], err[256];
	static const uint8_t zero[6];
	struct pkt_summary whole, hdrs;
	char a[1024], b[1024];
	size_t n;

	/* UDP: 14 + 20 + 8, the payload ("secret") left out */
	n = frame_udp(f, OUR_MAC, PEER_IP, OUR_IP, 40000, 7, "secret", 6);
	assert_int_equal(pkt_headers_len(f, (uint32_t)n), 42);
	/* a ping: its 8-byte header, not its data */
	n = frame_ping(f, PEER_IP, 1, 2, 56);
	assert_int_equal(pkt_headers_len(f, (uint32_t)n), 42);
	/* ARP: the whole of it */
	n = frame_arp(f, BCAST_MAC, 1, PEER_MAC, PEER_IP, zero, OUR_IP);
	assert_int_equal(pkt_headers_len(f, (uint32_t)n), 42);
	/* TCP with 12 bytes of options, then data */
	n = put_eth(f, OUR_MAC, PEER_MAC, 0x0800);
	n += put_ipv4(f + n, PEER_IP, OUR_IP, 6, 32 + 100, 64, 0);
	memset(f + n, 0, 132);
	f[n + 12] = 0x80;
	assert_int_equal(pkt_headers_len(f, (uint32_t)(n + 132)), 14 + 20 + 32);
	/* a later fragment: the IP header only */
	n = put_eth(f, OUR_MAC, PEER_MAC, 0x0800);
	n += put_ipv4(f + n, PEER_IP, OUR_IP, 17, 100, 64, 185);
	assert_int_equal(pkt_headers_len(f, (uint32_t)(n + 100)), 34);
	/* a port unreachable: ICMP header, the quoted IP header and 8 bytes */
	n = frame_udp(f, OUR_MAC, PEER_IP, OUR_IP, 40000, 9, "secret", 6);
	{
		size_t e = put_eth(err, PEER_MAC, OUR_MAC, 0x0800);

		e += put_ipv4(err + e, OUR_IP, PEER_IP, 1, (uint16_t)(8 + n - 14), 64, 0);
		memset(err + e, 0, 8);
		err[e] = 3, err[e + 1] = 3;
		memcpy(err + e + 8, f + 14, n - 14);
		e += 8 + n - 14;
		assert_int_equal(pkt_headers_len(err, (uint32_t)e), 14 + 20 + 8 + 20 + 8);
	}
	/* unknown ethertype, 802.3 with SNAP, a third VLAN tag */
	memset(f, 0, sizeof(f));
	f[12] = 0x88, f[13] = 0xcc;
	assert_int_equal(pkt_headers_len(f, 100), 14);
	f[12] = 0x00, f[13] = 0x40, f[14] = 0xaa, f[15] = 0xaa;
	assert_int_equal(pkt_headers_len(f, 100), 22);
	f[12] = 0x81, f[13] = 0x00, f[16] = 0x88, f[17] = 0xa8, f[20] = 0x81, f[21] = 0x00;
	assert_int_equal(pkt_headers_len(f, 100), 22);   /* the third TPID is the ethertype */
	/* cut short: never more than there is */
	for (uint32_t len = 0; len < 42; len++) {
		n = frame_udp(f, OUR_MAC, PEER_IP, OUR_IP, 40000, 7, "secret", 6);
		assert_int_equal(pkt_headers_len(f, len), len);
	}

	/* the decode of the headers is the decode of the frame */
	n = frame_udp(f, OUR_MAC, PEER_IP, OUR_IP, 40000, 7, "secret", 6);
	pkt_summarize(&whole, f, (uint32_t)n, (uint32_t)n, PKT_RX, 0);
	pkt_summarize(&hdrs, f, pkt_headers_len(f, (uint32_t)n), (uint32_t)n, PKT_RX, 0);
	pkt_summary_format(&whole, a, sizeof(a));
	pkt_summary_format(&hdrs, b, sizeof(b));
	assert_string_equal(a, b);
	assert_null(strstr(b, "[|"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(summary_udp),
		cmocka_unit_test(summary_tcp),
		cmocka_unit_test(summary_icmp),
		cmocka_unit_test(summary_icmp_errors),
		cmocka_unit_test(summary_arp),
		cmocka_unit_test(summary_fragment_flags),
		cmocka_unit_test(summary_unknown_ethertype),
		cmocka_unit_test(summary_tcp_nine_flags),
		cmocka_unit_test(summary_vlan_and_qinq),
		cmocka_unit_test(summary_ipv6),
		cmocka_unit_test(summary_llc),
		cmocka_unit_test(summary_ip_options),
		cmocka_unit_test(summary_json_fields),
		cmocka_unit_test(summary_truncated_never_overreads),
		cmocka_unit_test(summary_headers_only),
	};

	return cmocka_run_group_tests_name("summary", tests, NULL, NULL);
}
