/* SPDX-License-Identifier: BSD-3-Clause */
/* Parsed-packet summaries and their one-line format. */
#include "harness.h"

#include <stdio.h>
#include <stdlib.h>

#include "summary.h"

static void
fmt(const uint8_t *f, size_t n, enum pkt_dir dir, struct pkt_summary *ps, char *line)
{
	pkt_summarize(ps, f, n, dir, 0);
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
		"198.18.0.1.40000 > 198.18.0.2.7: UDP, length 5, ttl 64, flags [DF]");
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
		"198.18.0.1.443 > 198.18.0.2.51000: TCP, flags [S.], seq 1000, ttl 63, flags [none]");
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
	assert_non_null(strstr(line, ": 198.18.0.1 > 198.18.0.2: ICMP echo request, id 77, seq 3, ttl 64, flags [DF]"));
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
	assert_non_null(strstr(line, "198.18.0.1 > 198.18.0.2: proto 17, ttl 64, flags [MF], offset 1480"));
	wr16(f + 20, 0x6000);                   /* DF+MF, first fragment */
	fmt(f, n, PKT_RX, &ps, line);
	assert_int_equal(ps.kind, PKT_UDP);
	assert_non_null(strstr(line, "flags [DF+MF]"));
}

static void
summary_other_ethertype(void **state)
{
	uint8_t f[60] = { 0 };
	struct pkt_summary ps;
	char line[256];

	put_eth(f, BCAST_MAC, PEER_MAC, 0x86dd);
	fmt(f, 60, PKT_RX, &ps, line);
	assert_int_equal(ps.kind, PKT_ETH);
	assert_string_equal(line, "RX 02:00:00:00:00:01 > ff:ff:ff:ff:ff:ff, "
			    "ethertype IPv6 (0x86dd), length 60");
}

/* Every truncation of every kind: never reads past the end (ASan checks
 * that: each copy is an exact-size heap block), and says [truncated]. */
static void
summary_truncated_never_overreads(void **state)
{
	uint8_t f[4][128];
	size_t n[4];
	static const uint8_t zero[6];
	struct pkt_summary ps;
	char line[256], small[16];

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
			pkt_summarize(&ps, copy, len, PKT_RX, 0);
			pkt_summary_format(&ps, line, sizeof(line));
			/* a cut inside any header the kind implies is flagged */
			if (len < n[k] - (k == 0 ? 3 : 0))
				assert_non_null(strstr(line, "[truncated]"));
			/* a short buffer is never overrun and stays terminated */
			int want = pkt_summary_format(&ps, small, sizeof(small));
			assert_true(want >= (int)strlen(small));
			assert_int_equal(strlen(small), sizeof(small) - 1);
			free(copy);
		}
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(summary_udp),
		cmocka_unit_test(summary_tcp),
		cmocka_unit_test(summary_icmp),
		cmocka_unit_test(summary_arp),
		cmocka_unit_test(summary_fragment_flags),
		cmocka_unit_test(summary_other_ethertype),
		cmocka_unit_test(summary_truncated_never_overreads),
	};

	return cmocka_run_group_tests_name("summary", tests, NULL, NULL);
}
