/* SPDX-License-Identifier: BSD-3-Clause */
#include "harness.h"

#include <stdio.h>
#include <stdlib.h>

#include <rte_eal.h>
#include <rte_lcore.h>

const uint8_t OUR_MAC[6] = { 0x02, 0x00, 0x00, 0x00, 0x00, 0x02 };
const uint8_t PEER_MAC[6] = { 0x02, 0x00, 0x00, 0x00, 0x00, 0x01 };
const uint8_t OTHER_MAC[6] = { 0x02, 0x00, 0x00, 0x00, 0x00, 0x63 };
const uint8_t BCAST_MAC[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };

struct rte_mempool *test_pool;
static unsigned baseline;

void
harness_init(void)
{
	char *argv[] = { "unit", "--no-huge", "-m", "128", "--no-pci", "--no-shconf",
			 "-l", "0", "--log-level=error", "--no-telemetry", NULL };

	if (test_pool != NULL)
		return;
	if (rte_eal_init(RTE_DIM(argv) - 1, argv) < 0) {
		fprintf(stderr, "rte_eal_init failed\n");
		exit(1);
	}
	test_pool = rte_pktmbuf_pool_create("test_pool", 1023, 0, 0,
					    RTE_MBUF_DEFAULT_BUF_SIZE, SOCKET_ID_ANY);
	if (test_pool == NULL) {
		fprintf(stderr, "pool creation failed\n");
		exit(1);
	}
	baseline = rte_mempool_in_use_count(test_pool);
}

unsigned
harness_in_use(void)
{
	return rte_mempool_in_use_count(test_pool) - baseline;
}

void
harness_stack(struct stack *s, struct stack_conf *c, uint32_t gw)
{
	memset(c, 0, sizeof(*c));
	c->ip = rte_cpu_to_be_32(OUR_IP);
	c->netmask = rte_cpu_to_be_32(0xffffff00u);
	c->gateway = rte_cpu_to_be_32(gw);
	memcpy(c->mac.addr_bytes, OUR_MAC, 6);
	c->mtu = 1500;
	c->arp_timeout_ms = 300000;
	c->arp_retry_ms = 1000;
	c->arp_retries = 3;
	c->frag_time_ms = 30000;
	c->frag_flows = 64;
	c->frag_fragments = 128;
	c->frag_held = 1024;
	stack_init(s, c, test_pool, NULL, 0);
	s->now_ms = 1000;
}

void
harness_drain_tx(struct stack *s)
{
	for (uint16_t i = 0; i < s->tx_n; i++)
		rte_pktmbuf_free(s->tx[i]);
	s->tx_n = 0;
}

struct rte_mbuf *
mbuf_from(const void *bytes, size_t len)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(test_pool);

	assert_non_null(m);
	assert_non_null(rte_pktmbuf_append(m, len));
	memcpy(rte_pktmbuf_mtod(m, void *), bytes, len);
	return m;
}

enum stack_verdict
harness_input(struct stack *s, const uint8_t *f, size_t len)
{
	return stack_input(s, mbuf_from(f, len));
}

void
assert_reconciled(const struct stack *s)
{
	assert_int_equal(s->stats.rx_frames, s->stats.rx_delivered +
			 s->stats.rx_answered + stats_rx_dropped(&s->stats) +
			 s->stats.rx_merged + s->stats.rx_kernel);
}

void
assert_frame(const struct rte_mbuf *m, const uint8_t *exp, size_t len)
{
	const uint8_t *got = rte_pktmbuf_mtod(m, const uint8_t *);

	assert_int_equal(rte_pktmbuf_data_len(m), len);
	assert_int_equal(rte_pktmbuf_pkt_len(m), len);
	for (size_t i = 0; i < len; i++) {
		if (got[i] != exp[i])
			fail_msg("byte %zu: got 0x%02x, expected 0x%02x", i, got[i], exp[i]);
	}
}

/* RFC 1071, the slow obvious way. */
uint16_t
ref_cksum(const void *p, size_t len, uint32_t sum)
{
	const uint8_t *b = p;

	for (size_t i = 0; i + 1 < len; i += 2)
		sum += (uint32_t)(b[i] << 8 | b[i + 1]);
	if (len & 1)
		sum += (uint32_t)b[len - 1] << 8;
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

size_t
put_eth(uint8_t *p, const uint8_t dst[6], const uint8_t src[6], uint16_t type)
{
	memcpy(p, dst, 6);
	memcpy(p + 6, src, 6);
	wr16(p + 12, type);
	return 14;
}

size_t
put_ipv4(uint8_t *p, uint32_t src, uint32_t dst, uint8_t proto,
	 uint16_t payload_len, uint8_t ttl, uint16_t frag)
{
	p[0] = 0x45;
	p[1] = 0;
	wr16(p + 2, 20 + payload_len);
	wr16(p + 4, 0x1234);
	wr16(p + 6, frag);
	p[8] = ttl;
	p[9] = proto;
	wr16(p + 10, 0);
	wr32(p + 12, src);
	wr32(p + 16, dst);
	wr16(p + 10, ref_cksum(p, 20, 0));
	return 20;
}

size_t
put_udp(uint8_t *p, uint32_t src, uint32_t dst, uint16_t sport, uint16_t dport,
	const void *payload, uint16_t len)
{
	uint32_t ph = (src >> 16) + (src & 0xffff) + (dst >> 16) + (dst & 0xffff) +
		      17 + 8 + len;
	uint16_t c;

	wr16(p, sport);
	wr16(p + 2, dport);
	wr16(p + 4, 8 + len);
	wr16(p + 6, 0);
	memcpy(p + 8, payload, len);
	c = ref_cksum(p, 8 + len, ph);
	wr16(p + 6, c == 0 ? 0xffff : c);
	return 8 + len;
}

size_t
put_icmp_echo(uint8_t *p, uint8_t type, uint16_t id, uint16_t seq,
	      const void *data, uint16_t len)
{
	p[0] = type;
	p[1] = 0;
	wr16(p + 2, 0);
	wr16(p + 4, id);
	wr16(p + 6, seq);
	memcpy(p + 8, data, len);
	wr16(p + 2, ref_cksum(p, 8 + len, 0));
	return 8 + len;
}

size_t
put_arp(uint8_t *p, uint16_t op, const uint8_t sha[6], uint32_t sip,
	const uint8_t tha[6], uint32_t tip)
{
	wr16(p, 1);
	wr16(p + 2, 0x0800);
	p[4] = 6;
	p[5] = 4;
	wr16(p + 6, op);
	memcpy(p + 8, sha, 6);
	wr32(p + 14, sip);
	memcpy(p + 18, tha, 6);
	wr32(p + 24, tip);
	return 28;
}

size_t
frame_udp(uint8_t *p, const uint8_t dst_mac[6], uint32_t src, uint32_t dst,
	  uint16_t sport, uint16_t dport, const void *payload, uint16_t len)
{
	size_t n = put_eth(p, dst_mac, PEER_MAC, 0x0800);

	n += put_ipv4(p + n, src, dst, 17, 8 + len, 64, 0x4000);
	n += put_udp(p + n, src, dst, sport, dport, payload, len);
	return n;
}

size_t
frame_ping(uint8_t *p, uint32_t src, uint16_t id, uint16_t seq, uint16_t len)
{
	uint8_t data[1500];
	size_t n = put_eth(p, OUR_MAC, PEER_MAC, 0x0800);

	for (uint16_t i = 0; i < len; i++)
		data[i] = (uint8_t)(i * 7 + 1);
	n += put_ipv4(p + n, src, OUR_IP, 1, 8 + len, 64, 0x4000);
	n += put_icmp_echo(p + n, 8, id, seq, data, len);
	return n;
}

size_t
frame_arp(uint8_t *p, const uint8_t dst_mac[6], uint16_t op, const uint8_t sha[6],
	  uint32_t sip, const uint8_t tha[6], uint32_t tip)
{
	size_t n = put_eth(p, dst_mac, sha, 0x0806);

	return n + put_arp(p + n, op, sha, sip, tha, tip);
}
