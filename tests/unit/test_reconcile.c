/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Property test: any sequence of frames, valid or mangled, leaves the
 * counters reconciled (rx_frames == delivered + answered + dropped, and the
 * verdicts returned agree with them) and every mbuf accounted for.
 */
#include "harness.h"

#include <stdlib.h>

#include <rte_ring.h>

#include "sock_table.h"

static void
mangled_frames_reconcile(void **state)
{
	struct stack st;
	struct stack_conf sc;
	struct sock_table *t = sock_table_create("rc_socks", 4, 1);
	struct pn_sock sock = { 0 };
	uint64_t verdicts[4] = { 0 };
	struct rte_mbuf *m;
	static const uint8_t zero[6];

	harness_stack(&st, &sc, GW_IP);
	st.socks = t;
	sock.key.lport = rte_cpu_to_be_16(7);
	sock.rx = rte_ring_create("rc_rx", 64, SOCKET_ID_ANY, RING_F_SP_ENQ | RING_F_SC_DEQ);
	assert_int_equal(sock_table_add(t, &sock), 0);
	srand(12345);

	for (int i = 0; i < 200000; i++) {
		uint8_t f[1600];
		size_t n;

		switch (rand() % 4) {
		case 0:
			n = frame_udp(f, OUR_MAC, PEER_IP, OUR_IP, 1000 + rand() % 4,
				      rand() % 2 ? 7 : 8, f + 700, rand() % 600);
			break;
		case 1:
			n = frame_ping(f, PEER_IP, 1, (uint16_t)i, rand() % 100);
			break;
		case 2:
			n = frame_arp(f, rand() % 2 ? BCAST_MAC : OUR_MAC, 1 + rand() % 2,
				      PEER_MAC, PEER_IP + rand() % 3, zero,
				      rand() % 2 ? OUR_IP : OTHER_IP);
			break;
		default:
			n = 14 + rand() % 200;
			for (size_t k = 0; k < n; k++)
				f[k] = (uint8_t)rand();
			memcpy(f, OUR_MAC, 6);
			wr16(f + 12, rand() % 2 ? 0x0800 : 0x0806);
			break;
		}
		/* mangle: flip up to 3 bytes, and/or cut the frame */
		for (int k = rand() % 4; k > 0; k--)
			f[rand() % n] ^= (uint8_t)(1 + rand() % 255);
		if (rand() % 4 == 0)
			n = rand() % (n + 1);
		verdicts[stack_input(&st, mbuf_from(f, n))]++;

		/* a consumer drains now and then; replies "go out" */
		if (rand() % 8 == 0)
			while (rte_ring_dequeue(sock.rx, (void **)&m) == 0)
				rte_pktmbuf_free(m);
		harness_drain_tx(&st);
		if (rand() % 100 == 0) {
			st.now_ms += 700;
			stack_tick(&st);
		}
	}
	assert_int_equal(st.stats.rx_frames, 200000);
	assert_int_equal(st.stats.rx_frames, st.stats.rx_delivered +
			 st.stats.rx_answered + stats_rx_dropped(&st.stats));
	assert_int_equal(verdicts[STACK_DELIVERED], st.stats.rx_delivered);
	assert_int_equal(verdicts[STACK_ANSWERED], st.stats.rx_answered);
	assert_int_equal(verdicts[STACK_DROPPED], stats_rx_dropped(&st.stats));
	assert_int_equal(verdicts[STACK_STEERED], 0);
	/* something of everything happened */
	assert_true(st.stats.rx_delivered > 1000);
	assert_true(st.stats.rx_answered > 1000);
	assert_true(stats_rx_dropped(&st.stats) > 1000);

	while (rte_ring_dequeue(sock.rx, (void **)&m) == 0)
		rte_pktmbuf_free(m);
	sock_table_remove(t, &sock);
	rte_ring_free(sock.rx);
	sock_table_free(t);
	harness_drain_tx(&st);
	stack_release(&st);
	assert_int_equal(harness_in_use(), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(mangled_frames_reconcile),
	};

	harness_init();
	return cmocka_run_group_tests_name("reconcile", tests, NULL, NULL);
}
