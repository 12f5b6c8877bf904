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
#include <rte_hash.h>
#include <rte_jhash.h>
#include <rte_eal.h>
#include <rte_mbuf.h>
#include <rte_ring.h>
#include <valgrind/callgrind.h>

#include "cksum.h"
#include "frames.h"
#include "sock_table.h"
#include "stack.h"
#include "statseg.h"
#include "summary.h"

static const uint8_t US[6] = { 2, 0, 0, 0, 0, 2 }, PEER[6] = { 2, 0, 0, 0, 0, 1 };

/* A client socket on lcore 0, bound to port, with a region in plain memory. */
static struct pn_sock *
shm_new(struct sock_table *t, uint16_t port)
{
	struct pn_sock *s = calloc(1, sizeof(*s));
	struct pn_shm_hdr h;

	pn_shm_layout(&h, 256, 256, port, 0);
	s->region = aligned_alloc(4096, h.region_size);
	memset(s->region, 0, h.region_size);
	s->geo = h;
	s->rx_limit = h.rx_size;
	s->kind = SOCK_SHM;
	s->key.lport = rte_cpu_to_be_16(port);
	sock_table_add(t, s);
	return s;
}

/* Ethernet + IPv4 (+ UDP or ICMP) from the peer to us. */
static size_t
build(uint8_t *f, const char *kind, uint16_t plen)
{
	size_t n = 14 + 20;

	memcpy(f, US, 6);
	memcpy(f + 6, PEER, 6);
	put16(f + 12, 0x0800);
	memset(f + 14, 0, 20);
	f[14] = 0x45;
	put16(f + 20, 0x4000);
	f[22] = 64;
	memcpy(f + 26, (uint8_t[]){ 198, 18, 0, 1 }, 4);
	memcpy(f + 30, (uint8_t[]){ 198, 18, 0, 2 }, 4);
	if (strcmp(kind, "icmp") == 0) {
		f[23] = 1;
		memset(f + n, 0, 8 + plen);
		f[n] = 8;
		put16(f + n + 2, csum(f + n, 8 + plen, 0));
		n += 8 + plen;
	} else {
		f[23] = 17;
		put16(f + n, 40000);
		put16(f + n + 2, 7);
		put16(f + n + 4, 8 + plen);
		memset(f + n + 6, 0, 2 + plen);
		put16(f + n + 6, csum(f + n, 8 + plen,
			198 * 256 + 18 + 1 + 198 * 256 + 18 + 2 + 17 + 8 + plen));
		n += 8 + plen;
	}
	put16(f + 16, (uint16_t)(n - 14));
	put16(f + 24, csum(f + 14, 20, 0));
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
		fprintf(stderr, "usage: %s CASE COUNT\n"
			"cases: empty udp_rx icmp_echo arp_reply drop_ip_csum udp_tx udp_tx_offload\n"
			"       summarize summary_log publish format\n"
			"       cksum_1472_pollnet cksum_1472_dpdk lookup_pollnet lookup_rte_hash\n"
			"       shm_rx shm_tx shm_local\n",
			argv[0]);
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
		put16(f + 12, 0x0806);
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

	/* Anchors: DPDK's own way of doing what we do, in the same binary;
	 * and "empty", the cost of the measurement itself. */
	enum { EMPTY, CK_PN, CK_DPDK, LK_PN, LK_HASH, NONE } a =
		strcmp(c, "empty") == 0 ? EMPTY :
		strcmp(c, "cksum_1472_pollnet") == 0 ? CK_PN :
		strcmp(c, "cksum_1472_dpdk") == 0 ? CK_DPDK :
		strcmp(c, "lookup_pollnet") == 0 ? LK_PN :
		strcmp(c, "lookup_rte_hash") == 0 ? LK_HASH : NONE;
	if (a != NONE) {
		static uint8_t payload[1472];
		struct sock_key k = { .lport = rte_cpu_to_be_16(7) };
		struct sock_key miss = { .lport = k.lport, .rip = 1, .rport = 2 };
		struct rte_hash_parameters hp = {
			.name = "anchor", .entries = 1024, .key_len = sizeof(k),
			.hash_func = rte_jhash, .socket_id = 0,
			.extra_flag = RTE_HASH_EXTRA_FLAGS_RW_CONCURRENCY_LF,
		};
		struct rte_hash *h = rte_hash_create(&hp);
		volatile uint32_t sink = 1;
		void *data;

		rte_hash_add_key_data(h, &k, &sock);
		for (size_t i = 0; i < sizeof(payload); i++)
			payload[i] = (uint8_t)i;
		for (long i = 0; i < count; i++) {
			t0 = rte_rdtsc();
			switch (a) {
			case EMPTY:
				CALLGRIND_TOGGLE_COLLECT;
				CALLGRIND_TOGGLE_COLLECT;
				break;
			case CK_PN:
				CALLGRIND_TOGGLE_COLLECT;
				sink += cksum_add(payload, sizeof(payload), 0);
				CALLGRIND_TOGGLE_COLLECT;
				break;
			case CK_DPDK:
				CALLGRIND_TOGGLE_COLLECT;
				sink += __rte_raw_cksum(payload, sizeof(payload), 0);
				CALLGRIND_TOGGLE_COLLECT;
				break;
			case LK_PN:
				CALLGRIND_TOGGLE_COLLECT;
				sink += sock_table_lookup(t, k.lport, rte_cpu_to_be_32(0xc6120001),
							  rte_cpu_to_be_16(40000)) != NULL;
				CALLGRIND_TOGGLE_COLLECT;
				break;
			default:
				/* what a 4-tuple-then-wildcard rte_hash table costs */
				CALLGRIND_TOGGLE_COLLECT;
				sink += rte_hash_lookup_data(h, &miss, &data) < 0 &&
					rte_hash_lookup_data(h, &k, &data) >= 0;
				CALLGRIND_TOGGLE_COLLECT;
				break;
			}
			cycles += rte_rdtsc() - t0;
		}
		if (sink == 0)
			return 1;
		goto done;
	}

	/* Client sockets: a region as the app maps it (plain memory here). */
	if (strncmp(c, "shm_", 4) == 0) {
		struct pn_sock *sa = shm_new(t, 5000), *sb = shm_new(t, 6000);
		uint32_t head = 0;
		uint8_t payload[64] = { 0 };

		for (long i = 0; i < count; i++) {
			struct pn_desc *d;

			if (strcmp(c, "shm_rx") == 0) {
				/* from the wire into b's region */
				struct rte_mbuf *m = rte_pktmbuf_alloc(pool);

				memcpy(rte_pktmbuf_append(m, n), f, n);
				put16(rte_pktmbuf_mtod_offset(m, uint8_t *, 36), 6000);
				/* (the checksum no longer matches: send it as "none") */
				memset(rte_pktmbuf_mtod_offset(m, uint8_t *, 40), 0, 2);
				t0 = rte_rdtsc();
				CALLGRIND_TOGGLE_COLLECT;
				stack_input(&st, m);
				shm_sock_commit(&st);
				CALLGRIND_TOGGLE_COLLECT;
				cycles += rte_rdtsc() - t0;
			} else {
				/* a's client queues one datagram: to the wire, or to b */
				d = pn_shm_desc(sa->region, sa->geo.tx_desc_off, sa->geo.tx_size, head);
				memcpy(pn_shm_slot(sa->region, sa->geo.tx_slot_off, sa->geo.tx_size, head),
				       payload, sizeof(payload));
				d->len = sizeof(payload);
				d->addr = rte_cpu_to_be_32(strcmp(c, "shm_tx") == 0 ? 0xc6120001 : 0xc6120002);
				d->port = rte_cpu_to_be_16(strcmp(c, "shm_tx") == 0 ? 40000 : 6000);
				pn_ring_publish(&pn_shm_ctl(sa->region)->tx_head.v, ++head);
				t0 = rte_rdtsc();
				CALLGRIND_TOGGLE_COLLECT;
				shm_sock_drain(&st, sa, 32);
				shm_sock_commit(&st);
				CALLGRIND_TOGGLE_COLLECT;
				cycles += rte_rdtsc() - t0;
			}
			/* b's client reads everything; the port takes the frames */
			pn_ring_publish(&pn_shm_ctl(sb->region)->rx_tail.v, sb->rx_head);
			for (uint16_t k = 0; k < st.tx_n; k++)
				rte_pktmbuf_free(st.tx[k]);
			st.tx_n = 0;
		}
		goto done;
	}

	/* The stats segment's costs on an lcore: a frame's headers into the
	 * log (per frame), and the copy of the counters (once a millisecond). */
	if (strcmp(c, "summary_log") == 0 || strcmp(c, "publish") == 0) {
		struct pn_stats_log *log = calloc(1, sizeof(*log) +
			PN_STATS_LOG_SIZE * sizeof(struct pn_log_rec));
		struct pn_stats_lcore *pub = calloc(1, sizeof(*pub));
		uint64_t loops[8] = { 0 };

		for (long i = 0; i < count; i++) {
			t0 = rte_rdtsc();
			CALLGRIND_TOGGLE_COLLECT;
			if (c[0] == 's') {
				pn_log_put(log, PN_STATS_LOG_SIZE, f, n, PKT_RX, t0);
			} else {
				pn_seq_begin(&pub->seq);
				pub->loops = loops[0]++;
				pub->rx_bursts = loops[1];
				pub->empty_polls = loops[2];
				pub->tx_bursts = loops[3];
				pub->arp_notify_drops = loops[4];
				pub->log_written = loops[5];
				pub->cap_frames = loops[6];
				pub->cap_skipped = loops[7];
				pub->st = st.stats;
				pn_seq_end(&pub->seq);
			}
			CALLGRIND_TOGGLE_COLLECT;
			cycles += rte_rdtsc() - t0;
		}
		free(log);
		free(pub);
		goto done;
	}

	enum { UDP_TX, SUMMARIZE, FORMAT, INPUT } kind =
		strcmp(c, "udp_tx") == 0 || strcmp(c, "udp_tx_offload") == 0 ? UDP_TX :
		strcmp(c, "summarize") == 0 ? SUMMARIZE :
		strcmp(c, "format") == 0 ? FORMAT : INPUT;

	if (strcmp(c, "udp_tx_offload") == 0)
		sc.tx_offload = STACK_TX_CKSUM;         /* the port sums */

	if (kind == FORMAT)
		pkt_summarize(&ps, f, n, n, PKT_RX, 0);
	for (long i = 0; i < count; i++) {
		struct rte_mbuf *m = rte_pktmbuf_alloc(pool), *out = NULL;

		memcpy(rte_pktmbuf_append(m, n), f, n);
		if (kind == UDP_TX)
			rte_pktmbuf_adj(m, 14 + 20 + 8);    /* a 64-byte payload to send */
		t0 = rte_rdtsc();
		switch (kind) {
		case UDP_TX:
			CALLGRIND_TOGGLE_COLLECT;
			udp_output(&st, m, rte_cpu_to_be_16(7), rte_cpu_to_be_32(0xc6120001),
				   rte_cpu_to_be_16(40000));
			CALLGRIND_TOGGLE_COLLECT;
			break;
		case SUMMARIZE:
			CALLGRIND_TOGGLE_COLLECT;
			pkt_summarize(&ps, rte_pktmbuf_mtod(m, void *), n, n, PKT_RX, 0);
			CALLGRIND_TOGGLE_COLLECT;
			break;
		case FORMAT:
			CALLGRIND_TOGGLE_COLLECT;
			pkt_summary_format(&ps, line, sizeof(line));
			CALLGRIND_TOGGLE_COLLECT;
			break;
		default:
			CALLGRIND_TOGGLE_COLLECT;
			stack_input(&st, m);
			CALLGRIND_TOGGLE_COLLECT;
			break;
		}
		cycles += rte_rdtsc() - t0;
		if (kind == SUMMARIZE || kind == FORMAT)
			rte_pktmbuf_free(m);
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
done:
	if (!RUNNING_ON_VALGRIND)
		printf("%s: %.1f ns/frame (indicative; %ld frames)\n", c,
		       (double)cycles * 1e9 / (double)rte_get_tsc_hz() / (double)count, count);
	return 0;
}
