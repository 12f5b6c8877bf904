/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * pollnet's e1000 driver against the software 82540EM (e1000_model.c):
 * initialisation, RX at every frame size, ring wrap, full rings, pool
 * exhaustion, RS/DD reclaim, doorbells per burst, clear-on-read counters,
 * a stop with frames in flight, chained frames; and checksum offload: frames
 * the stack builds for the device to sum leave the model byte for byte as
 * the independent builder (harness.c) says they must.
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

/* ---- checksum offload and chained frames, stack to wire ---- */

static struct stack ost;
static struct stack_conf oconf;

static void
offload_stack(void)
{
	struct rte_ether_addr mac;

	harness_stack(&ost, &oconf, 0);
	oconf.tx_offload = STACK_TX_CKSUM;
	memcpy(mac.addr_bytes, PEER_MAC, 6);
	arp_cache_insert(&ost, rte_cpu_to_be_32(PEER_IP), &mac, 1);
}

/* The frame the wire must carry (IP ID 0: RFC 6864). */
static size_t
expected_udp(uint8_t *exp, const uint8_t *payload, uint16_t len)
{
	size_t en = put_eth(exp, PEER_MAC, OUR_MAC, 0x0800);

	en += put_ipv4(exp + en, OUR_IP, PEER_IP, 17, 8 + len, 64, 0x4000);
	wr16(exp + 18, 0);
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

static void
udp_out(const uint8_t *payload, uint16_t len)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(test_pool);

	memcpy(rte_pktmbuf_append(m, len), payload, len);
	assert_int_equal(udp_output(&ost, m, rte_cpu_to_be_16(7), rte_cpu_to_be_32(PEER_IP),
				    rte_cpu_to_be_16(4000)), 0);
}

static void
tx_checksum_offload(void **state)
{
	uint8_t payload[1472], exp[1600];
	size_t en;

	offload_stack();
	for (int i = 0; i < 1472; i++)
		payload[i] = (uint8_t)(i * 7 + i / 256);
	/* every size, a burst of 32 at a time: odd lengths end the sum on
	 * a half word */
	for (uint16_t base = 0; base <= 1472; base += 32) {
		for (uint16_t len = base; len <= 1472 && len < base + 32; len++)
			udp_out(payload, len);
		/* the stack left the sums to the port */
		assert_true(ost.tx[0]->ol_flags & RTE_MBUF_F_TX_UDP_CKSUM);
		assert_true(ost.tx[0]->ol_flags & RTE_MBUF_F_TX_IP_CKSUM);
		assert_int_equal(rte_pktmbuf_mtod_offset(ost.tx[0], uint8_t *, 24)[0] |
				 rte_pktmbuf_mtod_offset(ost.tx[0], uint8_t *, 24)[1], 0);
		offload_send();
	}
	assert_int_equal(model.wire_n, 1473);
	for (uint16_t len = 0; len <= 1472; len++) {
		en = expected_udp(exp, payload, len);
		assert_int_equal(model.wire[len].len, en);
		assert_memory_equal(model.wire[len].data, exp, en);
	}
	/* one context for them all */
	assert_int_equal(model.contexts, 1);
	assert_int_equal(dev.tx.contexts, 1);
	harness_drain_tx(&ost);
}

static void
tx_contexts_only_on_change(void **state)
{
	uint8_t p[100] = { 0 };

	offload_stack();
	udp_out(p, 100);
	offload_send();
	udp_out(p, 10);                 /* same offsets: same context */
	offload_send();
	assert_int_equal(model.contexts, 1);
	/* a plain frame (checksums in software) needs none ... */
	oconf.tx_offload = 0;
	udp_out(p, 100);
	offload_send();
	assert_int_equal(model.contexts, 1);
	/* ... and the context stays for the next offloading frame */
	oconf.tx_offload = STACK_TX_CKSUM;
	udp_out(p, 100);
	offload_send();
	assert_int_equal(model.contexts, 1);
	assert_int_equal(model.wire_n, 4);
	/* a context the device lost (a stop and start) is written again */
	dev.tx.ctx.cmd_len = 0;
	udp_out(p, 100);
	offload_send();
	assert_int_equal(model.contexts, 2);
	harness_drain_tx(&ost);
}

/* payload chained in mbufs of `piece` bytes */
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

/* A frame in several mbufs takes a descriptor each, is whole on the wire,
 * and goes only when all of it fits. */
static void
tx_chained_frames_all_or_nothing(void **state)
{
	static uint8_t p[64 * 100];
	struct rte_mbuf *m[4];

	for (unsigned i = 0; i < sizeof(p); i++)
		p[i] = (uint8_t)(i * 5);
	model.tx_paused = 1;
	m[0] = chain(p, 100 * 64, 64);          /* more than one frame may take */
	assert_int_equal(e1000_tx_burst(&dev, m, 1), 0);
	rte_pktmbuf_free(m[0]);
	for (int i = 0; i < 3; i++)
		m[i] = chain(p, 40 * 25, 25);   /* 40 descriptors each */
	assert_int_equal(e1000_tx_burst(&dev, m, 3), 3);
	assert_int_equal(dev.tx.nb_free, TXN - 1 - 120);
	m[0] = chain(p, 40 * 25, 25);
	assert_int_equal(e1000_tx_burst(&dev, m, 1), 0);     /* 7 left: not started */
	assert_true(dev.tx.full > 0);
	assert_int_equal(dev.tx.nb_free, TXN - 1 - 120);
	model_tx_resume();
	assert_int_equal(model.wire_n, 3);
	for (int i = 0; i < 3; i++) {
		assert_int_equal(model.wire[i].len, 1000);
		assert_memory_equal(model.wire[i].data, p, 1000);
	}
	/* and once the ring is reclaimed, it goes */
	assert_int_equal(e1000_tx_burst(&dev, m, 1), 1);
	assert_int_equal(model.wire_n, 4);
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
		T(tx_contexts_only_on_change),
		T(tx_chained_frames_all_or_nothing),
	};

	harness_init();
	return cmocka_run_group_tests_name("e1000", tests, NULL, NULL);
}
