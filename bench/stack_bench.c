/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Instructions per frame through the stack, one path at a time.
 *
 *   stack_bench CASE COUNT
 *
 * Under `valgrind --tool=callgrind --collect-atstart=no` only the measured
 * call is collected (CALLGRIND_TOGGLE_COLLECT around it): building the
 * input mbuf and freeing the output, which a port would do, are not
 * counted.  Run natively, it prints nanoseconds per frame instead, which
 * are only indicative on a shared machine.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_mbuf.h>
#include <rte_ring.h>
#include <valgrind/callgrind.h>

#include "sock_table.h"
#include "stack.h"
#include "summary.h"

static const uint8_t US[6] = { 2, 0, 0, 0, 0, 2 }, PEER[6] = { 2, 0, 0, 0, 0, 1 };

static uint16_t
csum(const uint8_t *p, size_t n, uint32_t s)
{
	for (size_t i = 0; i + 1 < n; i += 2)
		s += (uint32_t)(p[i] << 8 | p[i + 1]);
	if (n & 1)
		s += (uint32_t)p[n - 1] << 8;
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)~s;
}

static void
w16(uint8_t *p, uint16_t v)
{
	p[0] = v >> 8;
	p[1] = (uint8_t)v;
}

/* Ethernet + IPv4 (+ UDP or ICMP) from the peer to us. */
static size_t
build(uint8_t *f, const char *kind, uint16_t plen)
{
	size_t n = 14 + 20;

	memcpy(f, US, 6);
	memcpy(f + 6, PEER, 6);
	w16(f + 12, 0x0800);
	memset(f + 14, 0, 20);
	f[14] = 0x45;
	w16(f + 20, 0x4000);
	f[22] = 64;
	memcpy(f + 26, (uint8_t[]){ 198, 18, 0, 1 }, 4);
	memcpy(f + 30, (uint8_t[]){ 198, 18, 0, 2 }, 4);
	if (strcmp(kind, "icmp") == 0) {
		f[23] = 1;
		memset(f + n, 0, 8 + plen);
		f[n] = 8;
		w16(f + n + 2, csum(f + n, 8 + plen, 0));
		n += 8 + plen;
	} else {
		f[23] = 17;
		w16(f + n, 40000);
		w16(f + n + 2, 7);
		w16(f + n + 4, 8 + plen);
		memset(f + n + 6, 0, 2 + plen);
		w16(f + n + 6, csum(f + n, 8 + plen,
			198 * 256 + 18 + 1 + 198 * 256 + 18 + 2 + 17 + 8 + plen));
		n += 8 + plen;
	}
	w16(f + 16, (uint16_t)(n - 14));
	w16(f + 24, csum(f + 14, 20, 0));
	return n;
}

int
main(int argc, char **argv)
{
	char *eal[] = { "bench", "--no-huge", "-m", "64", "--no-pci", "--no-shconf", "-l", "0",
			"--log-level=error", "--no-telemetry", NULL };
	struct stack st;
	struct stack_conf sc = { 0 };
	struct pn_sock sock = { 0 };
	struct sock_table *t;
	struct rte_mempool *pool;
	struct pkt_summary ps;
	uint8_t f[1600];
	char line[256];
	size_t n;
	const char *c;
	long count;
	uint64_t t0, cycles = 0;

	if (argc != 3 || (count = atol(argv[2])) <= 0) {
		fprintf(stderr, "usage: %s udp_rx|icmp_echo|arp_reply|drop_ip_csum|udp_tx|"
			"summarize|format COUNT\n", argv[0]);
		return 2;
	}
	c = argv[1];
	if (rte_eal_init(RTE_DIM(eal) - 1, eal) < 0)
		return 1;
	pool = rte_pktmbuf_pool_create("bench", 4095, 0, 0, RTE_MBUF_DEFAULT_BUF_SIZE, 0);
	t = sock_table_create("bench_socks", 16, 1);
	sc.ip = rte_cpu_to_be_32(0xc6120002);
	sc.netmask = rte_cpu_to_be_32(0xffffff00);
	memcpy(sc.mac.addr_bytes, US, 6);
	sc.mtu = 1500;
	sc.arp_timeout_ms = 1u << 30;
	sc.arp_retry_ms = 1000;
	sc.arp_retries = 3;
	stack_init(&st, &sc, pool, t, 0);
	sock.key.lport = rte_cpu_to_be_16(7);
	sock.rx = rte_ring_create("bench_rx", 64, 0, RING_F_SP_ENQ | RING_F_SC_DEQ);
	sock_table_add(t, &sock);
	struct rte_ether_addr peer;

	memcpy(peer.addr_bytes, PEER, 6);
	arp_cache_insert(&st, rte_cpu_to_be_32(0xc6120001), &peer, 1);

	if (strcmp(c, "icmp_echo") == 0) {
		n = build(f, "icmp", 56);
	} else if (strcmp(c, "arp_reply") == 0) {
		memset(f, 0xff, 6);
		memcpy(f + 6, PEER, 6);
		w16(f + 12, 0x0806);
		memcpy(f + 14, (uint8_t[]){ 0, 1, 8, 0, 6, 4, 0, 1 }, 8);
		memcpy(f + 22, PEER, 6);
		memcpy(f + 28, (uint8_t[]){ 198, 18, 0, 1 }, 4);
		memset(f + 32, 0, 6);
		memcpy(f + 38, (uint8_t[]){ 198, 18, 0, 2 }, 4);
		n = 42;
	} else {
		n = build(f, "udp", 64);
		if (strcmp(c, "drop_ip_csum") == 0)
			f[24] ^= 1;
	}

	for (long i = 0; i < count; i++) {
		struct rte_mbuf *m = rte_pktmbuf_alloc(pool), *out;

		memcpy(rte_pktmbuf_append(m, n), f, n);
		if (strcmp(c, "udp_tx") == 0) {
			rte_pktmbuf_adj(m, 14 + 20 + 8);    /* a 64-byte payload to send */
			t0 = rte_rdtsc();
			CALLGRIND_TOGGLE_COLLECT;
			udp_output(&st, m, rte_cpu_to_be_16(7), rte_cpu_to_be_32(0xc6120001),
				   rte_cpu_to_be_16(40000));
			CALLGRIND_TOGGLE_COLLECT;
			cycles += rte_rdtsc() - t0;
		} else if (strcmp(c, "summarize") == 0 || strcmp(c, "format") == 0) {
			if (strcmp(c, "format") == 0)
				pkt_summarize(&ps, f, n, PKT_RX, 0);
			t0 = rte_rdtsc();
			CALLGRIND_TOGGLE_COLLECT;
			if (strcmp(c, "summarize") == 0)
				pkt_summarize(&ps, rte_pktmbuf_mtod(m, void *), n, PKT_RX, 0);
			else
				pkt_summary_format(&ps, line, sizeof(line));
			CALLGRIND_TOGGLE_COLLECT;
			cycles += rte_rdtsc() - t0;
			rte_pktmbuf_free(m);
		} else {
			t0 = rte_rdtsc();
			CALLGRIND_TOGGLE_COLLECT;
			stack_input(&st, m);
			CALLGRIND_TOGGLE_COLLECT;
			cycles += rte_rdtsc() - t0;
		}
		/* what the port and the socket's reader would do */
		for (uint16_t k = 0; k < st.tx_n; k++)
			rte_pktmbuf_free(st.tx[k]);
		st.tx_n = 0;
		while (rte_ring_sc_dequeue(sock.rx, (void **)&out) == 0)
			rte_pktmbuf_free(out);
	}
	if (st.stats.rx_frames != 0 && st.stats.rx_frames != (uint64_t)count) {
		fprintf(stderr, "bench: lost frames\n");
		return 1;
	}
	if (!RUNNING_ON_VALGRIND)
		printf("%s: %.1f ns/frame (indicative; %ld frames)\n", c,
		       (double)cycles * 1e9 / (double)rte_get_tsc_hz() / (double)count, count);
	return 0;
}
