/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * pollnet's e1000 driver against the software 82540EM (e1000_model.c):
 * initialisation, RX at every frame size, ring wrap, full rings, pool
 * exhaustion, RS/DD reclaim, doorbells per burst, clear-on-read counters,
 * a stop with frames in flight; and transmit offloads: frames the stack
 * builds for checksum insertion and UDP segmentation leave the model byte
 * for byte as the independent builder (harness.c) says they must.
 */
#include "harness.h"

#include <rte_malloc.h>

#include "e1000.h"
#include "e1000_model.h"

#define RXN 128
#define TXN 128

static struct e1000_dev dev;
static const uint8_t MAC[6] = { 0x52, 0x54, 0x00, 0x12, 0x34, 0x56 };

static int
setup(void **state)
{
	struct e1000_conf c = { .rx_desc = RXN, .tx_desc = TXN, .pool = test_pool };
	char err[256];

	model_reset(MAC);
	memset(&dev, 0, sizeof(dev));
	strcpy(dev.pci, "model");
	if (e1000_dev_start(&dev, &c, err, sizeof(err)) != 0)
		fail_msg("%s", err);
	/* count only the traffic's doorbells, not initialisation's */
	model.tdt_writes = model.rdt_writes = 0;
	dev.rx.tail_writes = dev.tx.tail_writes = 0;
	return 0;
}

static int
teardown(void **state)
{
	e1000_dev_stop(&dev);
	assert_int_equal(harness_in_use(), 0);          /* every mbuf back */
	return 0;
}

/* A frame for us of `len` bytes whose bytes say which one it is. */
static void
frame(uint8_t *f, uint16_t len, uint32_t seq)
{
	memcpy(f, MAC, 6);
	memcpy(f + 6, PEER_MAC, 6);
	wr16(f + 12, 0x0800);
	for (uint16_t i = 14; i < len; i++)
		f[i] = (uint8_t)(seq * 31 + i);
	if (len >= 18)
		wr32(f + 14, seq);
}

static void
init_programs_the_device(void **state)
{
	uint32_t rctl = model.regs[E1000_RCTL / 4];

	assert_true(rctl & E1000_RCTL_EN);
	assert_true(rctl & E1000_RCTL_BAM);
	assert_true(rctl & E1000_RCTL_SECRC);
	assert_int_equal(rctl & (3u << 16), 0);        /* 2048-byte buffers */
	assert_true(model.regs[E1000_TCTL / 4] & E1000_TCTL_EN);
	assert_true(model.regs[E1000_RAH0 / 4] & E1000_RAH_AV);
	assert_int_equal(model.regs[E1000_IMS / 4], 0);
	for (int i = 0; i < E1000_MTA_WORDS; i++)
		assert_int_equal(model.regs[E1000_MTA / 4 + i], 0);
	assert_int_equal(model.regs[E1000_RDLEN / 4] % 128, 0);
	assert_int_equal(model.regs[E1000_RDLEN / 4], RXN * 16);
	assert_int_equal(model.regs[E1000_RDH / 4], 0);
	assert_int_equal(model.regs[E1000_RDT / 4], RXN - 1); /* one behind */
	assert_int_equal(model.regs[E1000_TDH / 4], 0);
	assert_int_equal(model.regs[E1000_TDT / 4], 0);
	assert_memory_equal(dev.mac.addr_bytes, MAC, 6);   /* read from RAL/RAH */
	uint32_t mbps;
	assert_true(e1000_link_up(&dev, &mbps));
	assert_int_equal(mbps, 1000);
	/* the RX ring is full of buffers from the pool */
	assert_int_equal(harness_in_use(), RXN);
}

static void
rx_every_frame_size(void **state)
{
	uint8_t f[2048];
	struct rte_mbuf *m[E1000_MAX_BURST];

	for (uint16_t len = 60; len <= 1518; len++) {
		frame(f, len, len);
		assert_int_equal(model_receive(f, len), 0);
		assert_int_equal(e1000_rx_burst(&dev, m, E1000_MAX_BURST), 1);
		assert_int_equal(rte_pktmbuf_data_len(m[0]), len);
		assert_int_equal(rte_pktmbuf_pkt_len(m[0]), len);
		assert_memory_equal(rte_pktmbuf_mtod(m[0], uint8_t *), f, len);
		rte_pktmbuf_free(m[0]);
	}
	/* not ours, or broadcast: the filter the driver set up */
	frame(f, 60, 0);
	memcpy(f, OTHER_MAC, 6);
	assert_int_equal(model_receive(f, 60), -1);
	memcpy(f, BCAST_MAC, 6);
	assert_int_equal(model_receive(f, 60), 0);
	assert_int_equal(e1000_rx_burst(&dev, m, 32), 1);
	rte_pktmbuf_free(m[0]);
}

static void
rx_wrap_in_order_one_doorbell_per_32(void **state)
{
	uint8_t f[128];
	struct rte_mbuf *m[E1000_MAX_BURST];
	uint32_t sent = 0, got = 0;

	/* ten times round the ring, bursts of varied sizes */
	while (sent < 10 * RXN) {
		uint32_t k = 1 + sent % 29;

		for (uint32_t i = 0; i < k; i++, sent++) {
			frame(f, 64, sent);
			assert_int_equal(model_receive(f, 64), 0);
		}
		uint16_t n;

		while ((n = e1000_rx_burst(&dev, m, E1000_MAX_BURST)) > 0) {
			for (uint16_t i = 0; i < n; i++, got++) {
				const uint8_t *p = rte_pktmbuf_mtod(m[i], uint8_t *);

				assert_int_equal((uint32_t)p[14] << 24 | p[15] << 16 | p[16] << 8 | p[17], got);
				rte_pktmbuf_free(m[i]);
			}
		}
		/* RDT is one behind our next descriptor whenever we write it */
		assert_int_equal((model.regs[E1000_RDT / 4] + 1 + dev.rx.nb_hold) % RXN, dev.rx.next);
	}
	assert_int_equal(got, sent);
	/* at most one RDT write per 32 refills (fewer when bursts overshoot) */
	assert_true(model.rdt_writes <= sent / E1000_RX_FREE_THRESH);
	assert_true(model.rdt_writes >= sent / (2 * E1000_RX_FREE_THRESH));
	assert_int_equal(dev.rx.tail_writes, model.rdt_writes);
}

static void
rx_full_ring_counts_missed(void **state)
{
	uint8_t f[64];
	struct rte_mbuf *m[E1000_MAX_BURST];
	int accepted = 0;
	uint16_t n, total = 0;

	frame(f, 64, 1);
	for (int i = 0; i < RXN + 10; i++)
		accepted += model_receive(f, 64) == 0;
	assert_int_equal(accepted, RXN - 1);            /* RDT one behind */
	e1000_read_hw_stats(&dev);
	assert_int_equal(dev.hw.mpc, 11);
	assert_int_equal(dev.hw.gprc, RXN - 1);
	e1000_read_hw_stats(&dev);                      /* clear on read: no double count */
	assert_int_equal(dev.hw.mpc, 11);
	assert_int_equal(dev.hw.gprc, RXN - 1);
	assert_int_equal(dev.hw.gorc, (RXN - 1) * 64);
	while ((n = e1000_rx_burst(&dev, m, E1000_MAX_BURST)) > 0) {
		total += n;
		rte_pktmbuf_free_bulk(m, n);
	}
	assert_int_equal(total, RXN - 1);
	assert_int_equal(model_receive(f, 64), 0);     /* room again */
	assert_int_equal(e1000_rx_burst(&dev, m, 32), 1);
	rte_pktmbuf_free(m[0]);
}

static void
rx_pool_empty_keeps_the_frames(void **state)
{
	struct rte_mbuf *hoard[1100], *m[E1000_MAX_BURST];
	uint8_t f[100];
	unsigned h = 0;

	for (int i = 0; i < 5; i++) {
		frame(f, 100, 500 + i);
		assert_int_equal(model_receive(f, 100), 0);
	}
	while (h < RTE_DIM(hoard) && (hoard[h] = rte_pktmbuf_alloc(test_pool)) != NULL)
		h++;
	assert_int_equal(e1000_rx_burst(&dev, m, E1000_MAX_BURST), 0);
	assert_int_equal(dev.rx.nombuf, 1);
	for (unsigned i = 0; i < h; i++)
		rte_pktmbuf_free(hoard[i]);
	/* the frames were waiting, intact and in order */
	assert_int_equal(e1000_rx_burst(&dev, m, E1000_MAX_BURST), 5);
	for (int i = 0; i < 5; i++) {
		assert_int_equal(rte_pktmbuf_mtod(m[i], uint8_t *)[17], 500 + i - 256 * ((500 + i) / 256));
		rte_pktmbuf_free(m[i]);
	}
}

static struct rte_mbuf *
tx_mbuf(uint16_t len, uint32_t seq)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(test_pool);

	frame((uint8_t *)rte_pktmbuf_append(m, len), len, seq);
	return m;
}

static void
tx_rs_every_32_reclaim_in_chunks(void **state)
{
	struct rte_mbuf *m[E1000_MAX_BURST];
	uint32_t seq = 0;

	for (int b = 0; b < 3 * TXN / E1000_MAX_BURST; b++) {
		for (int i = 0; i < E1000_MAX_BURST; i++)
			m[i] = tx_mbuf((uint16_t)(60 + (seq + i) % 1459), seq + i);
		assert_int_equal(e1000_tx_burst(&dev, m, E1000_MAX_BURST), E1000_MAX_BURST);
		seq += E1000_MAX_BURST;
	}
	/* one doorbell per burst */
	assert_int_equal(model.tdt_writes, 3 * TXN / E1000_MAX_BURST);
	assert_int_equal(dev.tx.tail_writes, model.tdt_writes);
	/* on the wire, in order, byte for byte */
	assert_int_equal(model.wire_n, seq);
	for (uint32_t i = 0; i < seq; i++) {
		uint8_t f[2048];
		uint16_t len = (uint16_t)(60 + i % 1459);

		frame(f, len, i);
		assert_int_equal(model.wire[i].len, len);
		assert_memory_equal(model.wire[i].data, f, len);
	}
	/* DD was written back only where RS was set */
	for (int i = 0; i < TXN; i++) {
		int rs = (dev.tx.ring[i].cmd & E1000_TXD_CMD_RS) != 0;

		assert_int_equal(rs, (i % E1000_TX_RS_THRESH) == E1000_TX_RS_THRESH - 1);
		if (!rs)
			assert_int_equal(dev.tx.ring[i].status & E1000_TXD_STAT_DD, 0);
	}
	/* reclaimed in chunks: at most one chunk (plus the one kept) is held */
	assert_true(dev.tx.reclaims > 0);
	assert_true(harness_in_use() <= RXN + TXN);
	e1000_read_hw_stats(&dev);
	assert_int_equal(dev.hw.gptc, seq);
}

static void
tx_full_ring_never_blocks(void **state)
{
	struct rte_mbuf *m[E1000_MAX_BURST];
	uint32_t accepted = 0, offered = 0;

	model.tx_paused = 1;                            /* nothing completes */
	for (int b = 0; b < 2 * TXN / E1000_MAX_BURST; b++) {
		for (int i = 0; i < E1000_MAX_BURST; i++)
			m[i] = tx_mbuf(60, offered + i);
		uint16_t k = e1000_tx_burst(&dev, m, E1000_MAX_BURST);

		for (uint16_t i = k; i < E1000_MAX_BURST; i++)
			rte_pktmbuf_free(m[i]);         /* what did not fit is ours */
		accepted += k;
		offered += E1000_MAX_BURST;
	}
	assert_int_equal(accepted, TXN - 1);            /* one descriptor kept free */
	assert_true(dev.tx.full > 0);
	model_tx_resume();
	assert_int_equal(model.wire_n, TXN - 1);
	/* and it flows again once the device caught up */
	for (int i = 0; i < E1000_MAX_BURST; i++)
		m[i] = tx_mbuf(60, i);
	assert_int_equal(e1000_tx_burst(&dev, m, E1000_MAX_BURST), E1000_MAX_BURST);
}

static void
stop_with_frames_in_flight(void **state)
{
	struct rte_mbuf *m[E1000_MAX_BURST];
	uint8_t f[64];

	model.tx_paused = 1;
	for (int i = 0; i < 20; i++)
		m[i] = tx_mbuf(60, i);
	assert_int_equal(e1000_tx_burst(&dev, m, 20), 20);
	frame(f, 64, 0);
	for (int i = 0; i < 10; i++)
		model_receive(f, 64);
	/* teardown stops the device and checks every mbuf came back */
}

/* ---- transmit offloads, stack to wire ---- */

static struct stack ost;
static struct stack_conf oconf;

static void
offload_stack(void)
{
	struct rte_ether_addr mac;

	harness_stack(&ost, &oconf, 0);
	oconf.tx_offload = STACK_TX_CKSUM | STACK_TX_UDP_SEG;
	memcpy(mac.addr_bytes, PEER_MAC, 6);
	arp_cache_insert(&ost, rte_cpu_to_be_32(PEER_IP), &mac, 1);
	dev.tx.udp_seg = 1;
}

/* The frame the wire must carry: datagram i of a run has IP ID i. */
static size_t
expected_udp(uint8_t *exp, const uint8_t *payload, uint16_t len, uint16_t id)
{
	size_t en = put_eth(exp, PEER_MAC, OUR_MAC, 0x0800);

	en += put_ipv4(exp + en, OUR_IP, PEER_IP, 17, 8 + len, 64, 0x4000);
	wr16(exp + 18, id);
	wr16(exp + 24, 0);
	wr16(exp + 24, ref_cksum(exp + 14, 20, 0));
	en += put_udp(exp + en, OUR_IP, PEER_IP, 7, 4000, payload, len);
	return en;
}

/* Send what the stack queued, as lcore_flush does. */
static void
offload_send(void)
{
	uint16_t k = e1000_tx_burst(&dev, ost.tx, ost.tx_n);

	assert_int_equal(k, ost.tx_n);
	stack_tx_done(&ost, k);
}

/* payloads of n datagrams of len bytes, chained in mbufs of `piece` bytes
 * so that datagrams straddle mbufs */
static struct rte_mbuf *
chain(const uint8_t *payload, uint32_t total, uint32_t piece)
{
	struct rte_mbuf *head = NULL, *last = NULL;

	for (uint32_t off = 0; off < total; off += piece) {
		struct rte_mbuf *m = rte_pktmbuf_alloc(test_pool);
		uint32_t c = total - off < piece ? total - off : piece;

		memcpy(rte_pktmbuf_append(m, (uint16_t)c), payload + off, c);
		if (head == NULL) {
			head = m;
		} else {
			last->next = m;
			head->nb_segs++;
			head->pkt_len += c;
		}
		last = m;
	}
	return head;
}

static void
tx_checksum_offload(void **state)
{
	uint8_t payload[300], exp[1600];
	size_t en;

	offload_stack();
	for (int i = 0; i < 300; i++)
		payload[i] = (uint8_t)(i * 7);
	for (int k = 0; k < 3; k++) {
		struct rte_mbuf *m = rte_pktmbuf_alloc(test_pool);

		memcpy(rte_pktmbuf_append(m, 300), payload, 300);
		assert_int_equal(udp_output(&ost, m, rte_cpu_to_be_16(7),
					    rte_cpu_to_be_32(PEER_IP), rte_cpu_to_be_16(4000)), 0);
	}
	/* the stack left the sums to the port */
	assert_true(ost.tx[0]->ol_flags & RTE_MBUF_F_TX_UDP_CKSUM);
	assert_true(ost.tx[0]->ol_flags & RTE_MBUF_F_TX_IP_CKSUM);
	assert_int_equal(rte_pktmbuf_mtod_offset(ost.tx[0], uint8_t *, 24)[0] |
			 rte_pktmbuf_mtod_offset(ost.tx[0], uint8_t *, 24)[1], 0);
	offload_send();
	assert_int_equal(model.wire_n, 3);
	en = expected_udp(exp, payload, 300, 0);
	for (int k = 0; k < 3; k++) {
		assert_int_equal(model.wire[k].len, en);
		assert_memory_equal(model.wire[k].data, exp, en);
	}
	/* one context for the three */
	assert_int_equal(model.contexts, 1);
	assert_int_equal(dev.tx.contexts, 1);
	assert_int_equal(ost.stats.tx_frames, 3);
	harness_drain_tx(&ost);
}

static void
udp_segmentation(uint16_t len, uint32_t n, uint32_t piece)
{
	static uint8_t payload[64 * 1472];
	uint8_t exp[1600];
	uint32_t w0 = model.wire_n;
	uint64_t frames0 = ost.stats.tx_frames;

	for (uint32_t i = 0; i < n * len; i++)
		payload[i] = (uint8_t)(i * 13 + i / 251);
	assert_int_equal(udp_output_seg(&ost, chain(payload, n * len, piece), rte_cpu_to_be_16(7),
					rte_cpu_to_be_32(PEER_IP), rte_cpu_to_be_16(4000), len), 0);
	assert_int_equal(ost.tx_n, 1);
	assert_int_equal(stack_wire_frames(ost.tx[0]), n);
	offload_send();
	assert_int_equal(model.wire_n - w0, n);
	for (uint32_t i = 0; i < n; i++) {
		size_t en = expected_udp(exp, payload + i * len, len, (uint16_t)i);

		assert_int_equal(model.wire[w0 + i].len, en);
		assert_memory_equal(model.wire[w0 + i].data, exp, en);
	}
	assert_int_equal(ost.stats.tx_frames - frames0, n);
}

static void
tx_udp_segmentation(void **state)
{
	offload_stack();
	udp_segmentation(64, 40, 1000);         /* 64-byte datagrams across 3 mbufs */
	udp_segmentation(1472, 20, 2000);       /* full-sized, every one straddles */
	udp_segmentation(1, 64, 7);             /* one byte each, tiny pieces */
	/* the TSE context, once, and again after the change of size */
	assert_int_equal(model.contexts, 3);
	harness_drain_tx(&ost);
}

static void
tx_contexts_only_on_change(void **state)
{
	uint8_t p[100] = { 0 };

	offload_stack();
	for (int round = 0; round < 2; round++) {
		struct rte_mbuf *m = rte_pktmbuf_alloc(test_pool);

		memcpy(rte_pktmbuf_append(m, 100), p, 100);
		udp_output(&ost, m, rte_cpu_to_be_16(7), rte_cpu_to_be_32(PEER_IP),
			   rte_cpu_to_be_16(4000));
		udp_output_seg(&ost, chain(p, 100, 100), rte_cpu_to_be_16(7),
			       rte_cpu_to_be_32(PEER_IP), rte_cpu_to_be_16(4000), 50);
		offload_send();
	}
	/* checksum, segmentation, checksum, segmentation: the device holds one
	 * context at a time */
	assert_int_equal(model.contexts, 4);
	assert_int_equal(model.wire_n, 6);
	/* without checksums, a plain frame needs no context */
	oconf.tx_offload = 0;
	udp_output(&ost, rte_pktmbuf_alloc(test_pool), rte_cpu_to_be_16(7),
		   rte_cpu_to_be_32(PEER_IP), rte_cpu_to_be_16(4000));
	offload_send();
	assert_int_equal(model.contexts, 4);
	assert_int_equal(model.wire_n, 7);
	harness_drain_tx(&ost);
}

static void
tx_segmentation_refused_where_not_allowed(void **state)
{
	uint8_t p[128] = { 0 };

	offload_stack();
	dev.tx.udp_seg = 0;             /* a real 82540EM, say */
	udp_output_seg(&ost, chain(p, 128, 128), rte_cpu_to_be_16(7),
		       rte_cpu_to_be_32(PEER_IP), rte_cpu_to_be_16(4000), 64);
	assert_int_equal(e1000_tx_burst(&dev, ost.tx, ost.tx_n), 0);
	stack_tx_done(&ost, 0);
	/* counted as the two datagrams it carried */
	assert_int_equal(ost.stats.tx_drop[PN_TX_PORT_FULL], 2);
	assert_int_equal(model.wire_n, 0);
	harness_drain_tx(&ost);
}

/* A super-frame that does not fit the free descriptors is not started. */
static void
tx_chain_all_or_nothing(void **state)
{
	static uint8_t p[TXN * 64];
	uint16_t k;

	offload_stack();
	model.tx_paused = 1;
	/* a frame of 100 mbufs is more than a frame may take; frames of 40
	 * fit three to the 127 free descriptors (with their context), and a
	 * fourth waits whole */
	udp_output_seg(&ost, chain(p, 100 * 64, 64), rte_cpu_to_be_16(7),
		       rte_cpu_to_be_32(PEER_IP), rte_cpu_to_be_16(4000), 64);
	udp_output_seg(&ost, chain(p, 40 * 64, 64), rte_cpu_to_be_16(7),
		       rte_cpu_to_be_32(PEER_IP), rte_cpu_to_be_16(4000), 64);
	assert_int_equal(ost.tx[0]->nb_segs, 100);
	k = e1000_tx_burst(&dev, ost.tx, ost.tx_n);
	assert_int_equal(k, 0);                 /* over E1000_TX_MAX_SEGS */
	stack_tx_done(&ost, k);
	udp_output_seg(&ost, chain(p, 40 * 64, 64), rte_cpu_to_be_16(7),
		       rte_cpu_to_be_32(PEER_IP), rte_cpu_to_be_16(4000), 64);
	udp_output_seg(&ost, chain(p, 40 * 64, 64), rte_cpu_to_be_16(7),
		       rte_cpu_to_be_32(PEER_IP), rte_cpu_to_be_16(4000), 64);
	udp_output_seg(&ost, chain(p, 40 * 64, 64), rte_cpu_to_be_16(7),
		       rte_cpu_to_be_32(PEER_IP), rte_cpu_to_be_16(4000), 64);
	k = e1000_tx_burst(&dev, ost.tx, ost.tx_n);
	assert_int_equal(k, 3);                 /* 1 + 40 + 40 + 40 of 127 */
	assert_int_equal(dev.tx.nb_free, TXN - 1 - 121);
	stack_tx_done(&ost, k);
	udp_output_seg(&ost, chain(p, 40 * 64, 64), rte_cpu_to_be_16(7),
		       rte_cpu_to_be_32(PEER_IP), rte_cpu_to_be_16(4000), 64);
	assert_int_equal(e1000_tx_burst(&dev, ost.tx, ost.tx_n), 0);   /* 6 left */
	assert_true(dev.tx.full > 0);
	stack_tx_done(&ost, 0);
	model_tx_resume();
	assert_int_equal(model.wire_n, 120);
	harness_drain_tx(&ost);
}

int
main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(init_programs_the_device),
		T(rx_every_frame_size),
		T(rx_wrap_in_order_one_doorbell_per_32),
		T(rx_full_ring_counts_missed),
		T(rx_pool_empty_keeps_the_frames),
		T(tx_rs_every_32_reclaim_in_chunks),
		T(tx_full_ring_never_blocks),
		T(stop_with_frames_in_flight),
		T(tx_checksum_offload),
		T(tx_udp_segmentation),
		T(tx_contexts_only_on_change),
		T(tx_segmentation_refused_where_not_allowed),
		T(tx_chain_all_or_nothing),
	};

	harness_init();
	return cmocka_run_group_tests_name("e1000", tests, NULL, NULL);
}
