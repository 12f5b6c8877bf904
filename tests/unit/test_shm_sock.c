/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The app's side of a client's region (sock/shm_sock.c): datagrams in and
 * out, full rings, the wake protocol, and a region that the "client" fills
 * with random bytes between every step, which must cost the app nothing
 * but that socket's datagrams.
 */
#include "harness.h"

#include <stdlib.h>

#include <errno.h>

#include <rte_malloc.h>
#include <rte_ring.h>

#include "sock_table.h"

static struct stack st;
static struct stack_conf sc;
static struct sock_table *tbl;
static struct pn_sock *sk;
static uint8_t *region;

/* What the app does when a client opens a socket: region, geometry, table. */
static struct pn_sock *
shm_sock_new(uint16_t lport, uint32_t rx, uint32_t tx)
{
	struct pn_sock *s = rte_zmalloc("t_shm", sizeof(*s), 64);
	struct pn_shm_hdr h;

	pn_shm_layout(&h, rx, tx, 1, 0);
	region = aligned_alloc(4096, h.region_size);
	memset(region, 0, h.region_size);
	memcpy(region, &h, sizeof(h));
	s->region = region;
	s->geo = h;
	s->rx_limit = h.rx_size;
	s->kind = SOCK_SHM;
	s->key.lport = rte_cpu_to_be_16(lport);
	assert_int_equal(sock_table_add(tbl, s), 0);
	return s;
}

static int
setup(void **state)
{
	struct rte_ether_addr mac;

	harness_stack(&st, &sc, 0);
	tbl = sock_table_create("t_shm_socks", STACK_SHM_MAX + 64, 1);
	st.socks = tbl;
	sk = shm_sock_new(5000, 8, 8);
	memcpy(mac.addr_bytes, PEER_MAC, 6);
	arp_cache_insert(&st, rte_cpu_to_be_32(PEER_IP), &mac, 1);
	return 0;
}

static int
teardown(void **state)
{
	sock_table_remove(tbl, sk);
	rte_free(sk);
	free(region);
	sock_table_free(tbl);
	harness_drain_tx(&st);
	stack_release(&st);
	assert_int_equal(harness_in_use(), 0);
	return 0;
}

/* The client's side, by hand. */
static void
client_send(uint32_t *head, const void *p, uint32_t len, uint32_t ip, uint16_t port)
{
	struct pn_desc *d = pn_shm_desc(region, sk->geo.tx_desc_off, sk->geo.tx_size, *head);

	memcpy(pn_shm_slot(region, sk->geo.tx_slot_off, sk->geo.tx_size, *head), p, len);
	d->len = len;
	d->addr = rte_cpu_to_be_32(ip);
	d->port = rte_cpu_to_be_16(port);
	pn_ring_publish(&pn_shm_ctl(region)->tx_head.v, ++*head);
}

static void
datagram_in_lands_in_the_region(void **state)
{
	uint8_t f[256];
	size_t n = frame_udp(f, OUR_MAC, PEER_IP, OUR_IP, 4321, 5000, "hello region", 12);
	struct pn_shm_ctl *ctl = pn_shm_ctl(region);
	const struct pn_desc *d;

	assert_int_equal(harness_input(&st, f, n), STACK_DELIVERED);
	/* not visible before the commit... */
	assert_int_equal(atomic_load(&ctl->rx_head.v), 0);
	shm_sock_commit(&st);
	assert_int_equal(atomic_load(&ctl->rx_head.v), 1);
	d = pn_shm_desc(region, sk->geo.rx_desc_off, 8, 0);
	assert_int_equal(d->len, 12);
	assert_int_equal(rte_be_to_cpu_32(d->addr), PEER_IP);
	assert_int_equal(rte_be_to_cpu_16(d->port), 4321);
	assert_memory_equal(pn_shm_slot(region, sk->geo.rx_slot_off, 8, 0), "hello region", 12);
	assert_int_equal(st.wake_n, 0);               /* nobody asked */
	assert_reconciled(&st);
}

static void
rx_ring_full_then_room(void **state)
{
	uint8_t f[256];
	size_t n = frame_udp(f, OUR_MAC, PEER_IP, OUR_IP, 4321, 5000, "x", 1);

	for (int i = 0; i < 8; i++)
		assert_int_equal(harness_input(&st, f, n), STACK_DELIVERED);
	assert_int_equal(harness_input(&st, f, n), STACK_DROPPED);
	assert_int_equal(st.stats.rx_drop[PN_RX_UDP_RING_FULL], 1);
	shm_sock_commit(&st);
	/* the client reads three */
	pn_ring_publish(&pn_shm_ctl(region)->rx_tail.v, 3);
	for (int i = 0; i < 3; i++)
		assert_int_equal(harness_input(&st, f, n), STACK_DELIVERED);
	assert_int_equal(harness_input(&st, f, n), STACK_DROPPED);
	assert_int_equal(sk->rx_pkts, 11);
	assert_int_equal(sk->rx_drops, 2);
	assert_reconciled(&st);
}

static void
wake_only_when_asked(void **state)
{
	uint8_t f[256];
	size_t n = frame_udp(f, OUR_MAC, PEER_IP, OUR_IP, 4321, 5000, "x", 1);
	struct pn_shm_ctl *ctl = pn_shm_ctl(region);

	atomic_store(&ctl->wake.v, PN_WAKE_TX);       /* waits for TX room only */
	harness_input(&st, f, n);
	shm_sock_commit(&st);
	assert_int_equal(st.wake_n, 0);
	atomic_store(&ctl->wake.v, PN_WAKE_RX | PN_WAKE_TX);
	harness_input(&st, f, n);
	shm_sock_commit(&st);
	assert_int_equal(st.wake_n, 1);
	assert_ptr_equal(st.wake[0], sk);
	assert_int_equal(atomic_load(&ctl->wake.v), PN_WAKE_TX);   /* RX cleared */
	assert_int_equal(atomic_load(&ctl->wakes.v), 1);
	st.wake_n = 0;
}

/* A wake-up the lcore could not send (the kernel had no memory for the
 * message) is not lost: the client's wish is back, and the next commit
 * wakes it again though nothing moved in between. */
static void
wake_sent_again_when_the_send_failed(void **state)
{
	uint8_t payload[8] = "pong";
	uint32_t head = 0;
	struct pn_shm_ctl *ctl = pn_shm_ctl(region);

	client_send(&head, payload, 4, PEER_IP, 4321);
	atomic_store(&ctl->wake.v, PN_WAKE_TX);         /* asleep until room is made */
	assert_int_equal(shm_sock_drain(&st, sk, 32), 1);
	shm_sock_commit(&st);
	assert_int_equal(st.wake_n, 1);
	assert_int_equal(st.wake[0]->wake_bits, PN_WAKE_TX);
	assert_int_equal(atomic_load(&ctl->wake.v), 0);  /* taken */
	shm_sock_wake_again(&st, sk, PN_WAKE_TX);        /* ... and the send failed */
	st.wake_n = 0;
	assert_int_equal(atomic_load(&ctl->wake.v), PN_WAKE_TX);
	shm_sock_commit(&st);
	assert_int_equal(st.wake_n, 1);
	assert_ptr_equal(st.wake[0], sk);
	assert_int_equal(st.wake[0]->wake_bits, PN_WAKE_TX);
	assert_int_equal(atomic_load(&ctl->wake.v), 0);
	assert_int_equal(atomic_load(&ctl->tx_tail.v), 1);
	st.wake_n = 0;
	shm_sock_commit(&st);                            /* sent: once */
	assert_int_equal(st.wake_n, 0);
	harness_drain_tx(&st);
}

/* sockets.wake_batch / wake_delay: a sleeping receiver is woken once
 * wake_batch datagrams wait, or wake_delay after the first; a held wake-up
 * is looked at every loop even when nothing arrives; a client that wakes
 * by itself releases it; a held socket that leaves the table is forgotten. */
static void
wakes_moderated(void **state)
{
	uint8_t f[256];
	size_t n = frame_udp(f, OUR_MAC, PEER_IP, OUR_IP, 4321, 5000, "x", 1);
	struct pn_shm_ctl *ctl = pn_shm_ctl(region);

	sc.wake_batch = 4;
	sc.wake_delay_us = 100;
	/* woken seldom (never yet): at once */
	st.now_us = 1000;
	atomic_store(&ctl->wake.v, PN_WAKE_RX);         /* asleep in a receive */
	harness_input(&st, f, n);
	shm_sock_commit(&st);
	assert_int_equal(atomic_load(&ctl->rx_head.v), 1);
	assert_int_equal(st.wake_n, 1);
	assert_int_equal(st.wakes_deferred, 0);
	st.wake_n = 0;

	/* it reads it and sleeps again; woken 50 us ago: held back */
	pn_ring_publish(&ctl->rx_tail.v, 1);
	atomic_store(&ctl->wake.v, PN_WAKE_RX);
	st.now_us = 1050;
	harness_input(&st, f, n);
	shm_sock_commit(&st);
	assert_int_equal(atomic_load(&ctl->rx_head.v), 2);     /* published at once */
	assert_int_equal(st.wake_n, 0);                         /* the wake-up held */
	assert_int_equal(st.wakes_deferred, 1);
	assert_int_equal(atomic_load(&ctl->wake.v), PN_WAKE_RX);
	st.now_us = 1149;
	shm_sock_commit(&st);                                   /* nothing new */
	assert_int_equal(st.wake_n, 0);
	harness_input(&st, f, n);
	harness_input(&st, f, n);
	shm_sock_commit(&st);
	assert_int_equal(st.wake_n, 0);                         /* 3 waiting */
	harness_input(&st, f, n);
	shm_sock_commit(&st);
	assert_int_equal(st.wake_n, 1);                         /* 4: the batch */
	assert_int_equal(atomic_load(&ctl->wake.v), 0);
	assert_int_equal(st.wakes_deferred, 0);
	st.wake_n = 0;

	/* the client reads them and sleeps again: one arrives, then time */
	pn_ring_publish(&ctl->rx_tail.v, 5);
	atomic_store(&ctl->wake.v, PN_WAKE_RX);
	st.now_us = 1300;                                       /* woken 151 us ago */
	harness_input(&st, f, n);
	shm_sock_commit(&st);
	assert_int_equal(st.wake_n, 0);
	st.now_us = 1399;
	shm_sock_commit(&st);
	assert_int_equal(st.wake_n, 0);
	st.now_us = 1400;
	shm_sock_commit(&st);                                   /* the delay */
	assert_int_equal(st.wake_n, 1);
	assert_int_equal(st.wakes_deferred, 0);
	st.wake_n = 0;

	/* held, then the client finds it without sleeping: released, no wake */
	atomic_store(&ctl->wake.v, PN_WAKE_RX);
	harness_input(&st, f, n);
	shm_sock_commit(&st);
	assert_int_equal(st.wakes_deferred, 1);
	atomic_store(&ctl->wake.v, 0);
	shm_sock_commit(&st);
	assert_int_equal(st.wake_n, 0);
	assert_int_equal(st.wakes_deferred, 0);
	assert_int_equal(sk->wake_held, 0);

	/* held, then the socket leaves the table (closed): forgotten */
	atomic_store(&ctl->wake.v, PN_WAKE_RX);
	pn_ring_publish(&ctl->rx_tail.v, 7);
	harness_input(&st, f, n);
	shm_sock_commit(&st);
	assert_int_equal(st.wakes_deferred, 1);
	assert_int_equal(sock_table_remove(tbl, sk), 0);
	st.now_us = 5000;
	shm_sock_commit(&st);
	assert_int_equal(st.wake_n, 0);
	assert_int_equal(st.wakes_deferred, 0);
	assert_int_equal(sock_table_add(tbl, sk), 0);

	/* quiet for a while: woken at once again */
	pn_ring_publish(&ctl->rx_tail.v, 8);
	harness_input(&st, f, n);
	shm_sock_commit(&st);
	assert_int_equal(st.wake_n, 1);
	assert_int_equal(st.wakes_deferred, 0);
	st.wake_n = 0;
	sc.wake_batch = 0;
	sc.wake_delay_us = 0;
}

static void
datagrams_out_byte_by_byte(void **state)
{
	uint8_t exp[256], payload[100];
	uint32_t head = 0;
	size_t en;

	for (int i = 0; i < 100; i++)
		payload[i] = (uint8_t)(i * 3);
	client_send(&head, payload, 100, PEER_IP, 9999);
	client_send(&head, payload, 10, PEER_IP, 9998);
	assert_int_equal(shm_sock_drain(&st, sk, 32), 2);
	assert_int_equal(st.tx_n, 2);
	en = frame_udp(exp, PEER_MAC, OUR_IP, PEER_IP, 5000, 9999, payload, 100);
	memcpy(exp + 6, OUR_MAC, 6);
	wr16(exp + 18, 0);                              /* IP ID 0 */
	wr16(exp + 24, 0);
	wr16(exp + 24, ref_cksum(exp + 14, 20, 0));
	assert_frame(st.tx[0], exp, en);
	shm_sock_commit(&st);
	assert_int_equal(atomic_load(&pn_shm_ctl(region)->tx_tail.v), 2);
	assert_int_equal(sk->tx_pkts, 2);
	assert_int_equal(shm_sock_drain(&st, sk, 32), 0);
}

/* A client's datagrams wait in its ring while the loop's transmit batch is
 * full: what the lcore takes it sends (or counts), it takes no more than
 * the batch has room for. */
static void
datagrams_wait_while_the_batch_is_full(void **state)
{
	uint32_t head = 0;

	for (int i = 0; i < 6; i++)
		client_send(&head, "x", 1, PEER_IP, 9999);
	/* the other sockets' frames filled all but 2 of the batch */
	for (st.tx_n = 0; st.tx_n < STACK_TX_MAX - 2;)
		st.tx[st.tx_n++] = mbuf_from("y", 1);
	assert_int_equal(shm_sock_drain(&st, sk, 32), 2);
	assert_int_equal(st.tx_n, STACK_TX_MAX);
	assert_int_equal(st.stats.tx_drop[PN_TX_BATCH_FULL], 0);
	assert_int_equal(shm_sock_drain(&st, sk, 32), 0);     /* full: it waits */
	harness_drain_tx(&st);
	assert_int_equal(shm_sock_drain(&st, sk, 32), 4);     /* room again */
	assert_int_equal(sk->tx_pkts, 6);
	assert_int_equal(st.stats.tx_drop[PN_TX_BATCH_FULL], 0);
}

static void
bad_descriptors_cost_only_themselves(void **state)
{
	uint32_t head = 0;
	struct pn_desc *d;

	client_send(&head, "ok", 2, PEER_IP, 1);
	client_send(&head, "too long", 8, PEER_IP, 1);
	d = pn_shm_desc(region, sk->geo.tx_desc_off, 8, 1);
	d->len = PN_MAX_DATAGRAM + 1;
	client_send(&head, "no addr", 7, 0, 1);
	client_send(&head, "ok", 2, PEER_IP, 2);
	assert_int_equal(shm_sock_drain(&st, sk, 32), 4);
	assert_int_equal(st.tx_n, 2);
	assert_int_equal(sk->shm_errors, 2);
	assert_int_equal(st.stats.tx_drop[PN_TX_BAD_DESC], 2);

	/* a head 100 ahead of our tail: nothing is read */
	pn_ring_publish(&pn_shm_ctl(region)->tx_head.v, 4 + 100);
	assert_int_equal(shm_sock_drain(&st, sk, 32), 0);
	assert_int_equal(sk->shm_errors, 3);
	/* an rx_tail ahead of our head: nothing is written */
	uint8_t f[256];
	size_t n = frame_udp(f, OUR_MAC, PEER_IP, OUR_IP, 4321, 5000, "x", 1);

	pn_ring_publish(&pn_shm_ctl(region)->rx_tail.v, 77);
	sk->rx_limit = sk->rx_head;     /* make it look */
	assert_int_equal(harness_input(&st, f, n), STACK_DROPPED);
	assert_int_equal(sk->shm_errors, 4);
}

static void
random_region_never_hurts_the_app(void **state)
{
	uint8_t f[256];
	size_t n = frame_udp(f, OUR_MAC, PEER_IP, OUR_IP, 4321, 5000, "abc", 3);
	uint32_t size = sk->geo.region_size;
	uint64_t sent = 0;

	srand(99);
	for (int round = 0; round < 20000; round++) {
		/* half the rounds leave the checksums to the port */
		sc.tx_offload = round & 1 ? STACK_TX_CKSUM : 0;
		/* the client scribbles: the whole region, or a few bytes */
		if (round % 50 == 0) {
			for (uint32_t i = 0; i < size; i++)
				region[i] = (uint8_t)rand();
		} else {
			for (int k = 0; k < 8; k++)
				region[rand() % size] = (uint8_t)rand();
		}
		harness_input(&st, f, n);
		sent += shm_sock_drain(&st, sk, 32);
		shm_sock_commit(&st);
		/* whatever it wrote, our own positions stay sane */
		assert_true(sk->rx_limit - sk->rx_head <= sk->geo.rx_size);
		harness_drain_tx(&st);
		st.wake_n = 0;
		/* the app's copy of the geometry is untouched */
		assert_int_equal(sk->geo.region_size, size);
	}
	sc.tx_offload = 0;
	assert_true(sk->shm_errors > 0);
	assert_reconciled(&st);
	/* ... and a well-behaved socket next to it still works */
	struct pn_sock *good = shm_sock_new(6000, 8, 8);
	uint8_t *good_region = region;
	size_t gn = frame_udp(f, OUR_MAC, PEER_IP, OUR_IP, 4321, 6000, "fine", 4);

	assert_int_equal(harness_input(&st, f, gn), STACK_DELIVERED);
	shm_sock_commit(&st);
	assert_int_equal(atomic_load(&pn_shm_ctl(good_region)->rx_head.v), 1);
	sock_table_remove(tbl, good);
	rte_free(good);
	free(good_region);
	region = sk->region;
	(void)sent;
}

static void
local_delivery_between_sockets(void **state)
{
	uint32_t head = 0;
	struct pn_sock *b = shm_sock_new(6001, 8, 8);
	uint8_t *rb = region;
	const struct pn_desc *d;

	region = sk->region;
	/* sk (port 5000) sends to our own address, port 6001 */
	client_send(&head, "local!", 6, OUR_IP, 6001);
	client_send(&head, "loopback", 8, 0x7f000001, 6001);
	client_send(&head, "nobody", 6, OUR_IP, 6002);
	assert_int_equal(shm_sock_drain(&st, sk, 32), 3);
	assert_int_equal(st.tx_n, 0);                   /* nothing for the port */
	shm_sock_commit(&st);
	assert_int_equal(atomic_load(&pn_shm_ctl(rb)->rx_head.v), 2);
	d = pn_shm_desc(rb, b->geo.rx_desc_off, 8, 0);
	assert_int_equal(d->len, 6);
	assert_int_equal(rte_be_to_cpu_32(d->addr), OUR_IP);
	assert_int_equal(rte_be_to_cpu_16(d->port), 5000);
	assert_memory_equal(pn_shm_slot(rb, b->geo.rx_slot_off, 8, 0), "local!", 6);
	assert_int_equal(st.stats.local_sent, 3);
	assert_int_equal(st.stats.local_delivered, 2);
	assert_int_equal(st.stats.local_no_socket, 1);
	assert_int_equal(st.stats.rx_frames, 0);        /* the wire saw nothing */
	sock_table_remove(tbl, b);
	rte_free(b);
	free(rb);
}

static void
more_sockets_touched_than_the_list_holds(void **state)
{
	enum { N = STACK_SHM_MAX + 20 };
	static struct pn_sock *many[N];
	static uint8_t *regions[N];
	uint8_t f[256];

	for (int i = 0; i < N; i++) {
		many[i] = shm_sock_new((uint16_t)(7000 + i), 8, 8);
		regions[i] = region;
	}
	region = sk->region;
	for (int i = 0; i < N; i++) {
		size_t n = frame_udp(f, OUR_MAC, PEER_IP, OUR_IP, 1, (uint16_t)(7000 + i), "x", 1);

		/* every client is asleep, waiting for a datagram */
		atomic_store(&pn_shm_ctl(regions[i])->wake.v, PN_WAKE_RX);
		assert_int_equal(harness_input(&st, f, n), STACK_DELIVERED);
	}
	assert_int_equal(st.touched_n, STACK_SHM_MAX);
	shm_sock_commit(&st);
	/* all published; as many woken as the list holds, the rest next loop */
	assert_int_equal(st.wake_n, STACK_SHM_MAX);
	st.wake_n = 0;
	shm_sock_commit(&st);
	assert_int_equal(st.wake_n, N - STACK_SHM_MAX);
	st.wake_n = 0;
	shm_sock_commit(&st);
	assert_int_equal(st.wake_n, 0);
	for (int i = 0; i < N; i++) {
		assert_int_equal(atomic_load(&pn_shm_ctl(regions[i])->rx_head.v), 1);
		assert_int_equal(atomic_load(&pn_shm_ctl(regions[i])->wake.v), 0);
		assert_int_equal(many[i]->moved, 0);
		sock_table_remove(tbl, many[i]);
		rte_free(many[i]);
		free(regions[i]);
	}
}

/*
 * A port unreachable for a connected client socket: posted in its region
 * (errno, then the count) by the socket's owner lcore, also when the ICMP
 * error arrives on another lcore (handed over through the steer ring, and
 * counted where it ends, as a steered datagram is), with a wake for a
 * client asleep in a receive.  A closing socket hears nothing more, and
 * the error is a drop (icmp_error_unmatched), not a delivery, also when it
 * was steered before the socket began to close: rx_frames = delivered +
 * answered + dropped over both lcores.
 */
static void
icmp_error_reaches_a_connected_client(void **state)
{
	struct sock_table *t2 = sock_table_create("t_shm_icmp", 64, 2);
	struct rte_ring *rings[2];
	struct stack s0, s1;
	struct stack_conf c0, c1;
	struct pn_sock *c = rte_zmalloc("t_shm_icmp", sizeof(*c), 64);
	struct pn_shm_hdr h;
	struct pn_shm_ctl *ctl;
	uint8_t *reg, f[256], quoted[64];
	size_t n, q;

	for (int i = 0; i < 2; i++) {
		char name[32];

		snprintf(name, sizeof(name), "t_steer%d", i);
		rings[i] = rte_ring_create_elem(name, sizeof(struct steer_item), 64, SOCKET_ID_ANY,
						RING_F_SC_DEQ);
		assert_non_null(rings[i]);
	}
	harness_stack(&s0, &c0, 0);
	harness_stack(&s1, &c1, 0);
	s0.socks = s1.socks = t2;
	s0.steer = s1.steer = rings;
	s0.lcore = 0;
	s1.lcore = 1;
	/* the client's socket, 198.18.0.2:7000 connected to PEER:5555, lcore 1's */
	pn_shm_layout(&h, 8, 8, 1, 0);
	reg = aligned_alloc(4096, h.region_size);
	memset(reg, 0, h.region_size);
	memcpy(reg, &h, sizeof(h));
	c->region = reg;
	c->geo = h;
	c->rx_limit = h.rx_size;
	c->kind = SOCK_SHM;
	c->key = (struct sock_key){ .lport = rte_cpu_to_be_16(7000),
				    .rip = rte_cpu_to_be_32(PEER_IP), .rport = rte_cpu_to_be_16(5555) };
	c->owner = 1;
	assert_int_equal(sock_table_add(t2, c), 0);
	ctl = pn_shm_ctl(reg);
	atomic_store(&ctl->wake.v, PN_WAKE_RX);         /* asleep in a receive */

	/* the peer's answer to a datagram the socket sent */
	q = put_ipv4(quoted, OUR_IP, PEER_IP, 17, 8 + 2, 64, 0x4000);
	q += put_udp(quoted + q, OUR_IP, PEER_IP, 7000, 5555, "hi", 2);
	n = put_eth(f, OUR_MAC, PEER_MAC, 0x0800);
	n += put_ipv4(f + n, PEER_IP, OUR_IP, 1, (uint16_t)(8 + q), 64, 0);
	memset(f + n, 0, 8);
	f[n] = 3, f[n + 1] = 3;
	memcpy(f + n + 8, quoted, q);
	wr16(f + n + 2, ref_cksum(f + n, 8 + q, 0));
	n += 8 + q;

	/* on lcore 0: handed to lcore 1, nothing posted yet */
	assert_int_equal(harness_input(&s0, f, n), STACK_STEERED);
	assert_int_equal(s0.stats.rx_steered, 1);
	assert_int_equal(s0.stats.rx_delivered, 0);
	assert_int_equal(atomic_load(&ctl->errors.count), 0);
	assert_int_equal(stack_steer_drain(&s1), 1);
	assert_int_equal(atomic_load(&ctl->errors.count), 1);
	assert_int_equal(atomic_load(&ctl->errors.err), ECONNREFUSED);
	assert_int_equal(s1.stats.icmp_errors_in, 1);
	assert_int_equal(s1.stats.rx_delivered, 1);
	shm_sock_commit(&s1);
	assert_int_equal(s1.wake_n, 1);                 /* the receive wakes to it */
	s1.wake_n = 0;
	/* on its own lcore: posted at once */
	assert_int_equal(harness_input(&s1, f, n), STACK_DELIVERED);
	assert_int_equal(atomic_load(&ctl->errors.count), 2);
	assert_int_equal(s1.stats.rx_delivered, 2);
	/* steered, then the socket begins to close before its lcore takes it */
	assert_int_equal(harness_input(&s0, f, n), STACK_STEERED);
	atomic_store(&c->closing, true);
	assert_int_equal(stack_steer_drain(&s1), 1);
	assert_int_equal(atomic_load(&ctl->errors.count), 2);
	assert_int_equal(s1.stats.rx_drop[PN_RX_ICMP_UNMATCHED], 1);
	/* a closing socket hears nothing more, on its own lcore either */
	assert_int_equal(harness_input(&s1, f, n), STACK_DROPPED);
	assert_int_equal(atomic_load(&ctl->errors.count), 2);
	assert_int_equal(s1.stats.rx_drop[PN_RX_ICMP_UNMATCHED], 2);
	assert_int_equal(s1.stats.rx_delivered, 2);
	assert_int_equal(s1.stats.icmp_errors_in, 2);
	assert_int_equal(s0.tx_n + s1.tx_n, 0);
	/* over both lcores, every frame in exactly one place */
	assert_int_equal(s0.stats.rx_frames + s1.stats.rx_frames,
			 s0.stats.rx_delivered + s1.stats.rx_delivered +
			 s0.stats.rx_answered + s1.stats.rx_answered +
			 stats_rx_dropped(&s0.stats) + stats_rx_dropped(&s1.stats));
	assert_int_equal(s0.stats.rx_frames + s1.stats.rx_frames, 4);

	sock_table_remove(t2, c);
	rte_free(c);
	free(reg);
	sock_table_free(t2);
	for (int i = 0; i < 2; i++)
		rte_ring_free(rings[i]);
	stack_release(&s0);
	stack_release(&s1);
}

int
main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(datagram_in_lands_in_the_region),
		T(rx_ring_full_then_room),
		T(wake_only_when_asked),
		T(wake_sent_again_when_the_send_failed),
		T(wakes_moderated),
		T(datagrams_out_byte_by_byte),
	T(datagrams_wait_while_the_batch_is_full),
		T(bad_descriptors_cost_only_themselves),
		T(random_region_never_hurts_the_app),
		T(local_delivery_between_sockets),
		T(more_sockets_touched_than_the_list_holds),
		T(icmp_error_reaches_a_connected_client),
	};

	harness_init();
	return cmocka_run_group_tests_name("shm_sock", tests, NULL, NULL);
}
