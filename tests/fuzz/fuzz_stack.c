/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Arbitrary bytes as a sequence of events into one lcore's stack, with a
 * fake clock, the echo service, a bound and a connected client socket
 * (shared-memory regions) open:
 *
 *   op 0  a received frame: u16 length, then the bytes; with the exception
 *         path on (the input's first byte >= 0x80) and the length's top
 *         bit set, a frame the kernel sent on its interface instead
 *   op 1  time passes: u8 x 10 ms, then the ARP timers run
 *   op 2  the bound client sends: u16 length, u32 address, u16 port, bytes
 *         (its TX descriptor as a client may write it), then the lcore
 *         drains its ring
 *   op 3  the lcore's loop tail: the echo service, the clients' commit,
 *         the transmit batch checked and handed to a "port"
 *
 * After every input, and at each op 3:
 *   rx_frames == rx_delivered + rx_answered + every rx drop + rx_merged
 *     + rx_kernel;
 *   local_sent == local_delivered + local_no_socket + local_ring_full
 *     + local_to_kernel;
 *   the pool's mbufs in use == what the stack still holds (the transmit
 *   batch, the ARP queues, the echo ring, the frames for the kernel);
 *   every frame for the kernel whole, one segment;
 *   every frame transmitted is well formed: our MAC and address as the
 *   source, a unicast destination (broadcast only for an ARP request and
 *   a client's datagram to a broadcast address),
 *   lengths and checksums right, no datagram to port 0, no answer to a
 *   martian, nothing addressed to ourselves;
 * and once the stack is released, the pool is back to zero.
 */
#include <stdlib.h>
#include <string.h>

#include <rte_arp.h>
#include <rte_icmp.h>
#include <rte_ip.h>
#include <rte_mbuf.h>
#include <rte_ring.h>
#include <rte_udp.h>

#include "cksum.h"
#include "fuzz_env.h"
#include "sock_table.h"
#include "counters.h"
#include "stack.h"

#define OUR_IP    IP4(198, 18, 0, 2)
#define GW_IP     IP4(198, 18, 0, 254)
#define PEER_IP   IP4(198, 18, 0, 1)

static struct stack_conf conf;
static struct stack st;
static struct sock_table *tbl;
static struct pn_sock echo, client, conn;
static struct mc_table mc;              /* two groups joined */

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
shm_sock_setup(struct pn_sock *s, uint32_t id, uint16_t lport, uint32_t rip, uint16_t rport)
{
	struct pn_shm_hdr h;

	memset(s, 0, sizeof(*s));
	pn_shm_layout(&h, 16, 16, id, 0);
	s->region = aligned_alloc(4096, h.region_size);
	FUZZ_CHECK(s->region != NULL, "out of memory");
	memset(s->region, 0, h.region_size);
	memcpy(s->region, &h, sizeof(h));
	s->geo = h;
	s->rx_limit = h.rx_size;
	s->id = id;
	s->kind = SOCK_SHM;
	s->efd = s->tx_efd = -1;
	s->key.lport = rte_cpu_to_be_16(lport);
	s->key.rip = rte_cpu_to_be_32(rip);
	s->key.rport = rte_cpu_to_be_16(rport);
	FUZZ_CHECK(sock_table_add(tbl, s) == 0, "socket %u", id);
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fuzz_env_init();
	conf.ip = rte_cpu_to_be_32(OUR_IP);
	conf.netmask = rte_cpu_to_be_32(0xffffff00u);
	conf.gateway = rte_cpu_to_be_32(GW_IP);
	conf.mac = (struct rte_ether_addr){ { 0x02, 0, 0, 0, 0, 0x02 } };
	conf.mtu = 1500;
	conf.arp_timeout_ms = 30000;
	conf.arp_retry_ms = 1000;
	conf.arp_retries = 3;
	/* reassembly with small bounds, all of them within reach */
	conf.frag_time_ms = 2000;
	conf.frag_flows = 4;
	conf.frag_fragments = 16;
	conf.frag_held = 48;
	tbl = sock_table_create("fuzz_socks", 16, 1);
	FUZZ_CHECK(tbl != NULL, "socket table");
	FUZZ_CHECK(sock_table_lcore_online(tbl, 0) == 0, "lcore online");
	echo.kind = SOCK_ECHO;
	echo.key.lport = rte_cpu_to_be_16(7);
	echo.rx = rte_ring_create("fuzz_echo", 64, SOCKET_ID_ANY, RING_F_SP_ENQ | RING_F_SC_DEQ);
	FUZZ_CHECK(echo.rx != NULL && sock_table_add(tbl, &echo) == 0, "echo socket");
	shm_sock_setup(&client, 1, 5000, 0, 0);
	shm_sock_setup(&conn, 2, 5001, PEER_IP, 53);
	return 0;
}

/* A fresh start for each input: positions, the clients' rings. */
static void
reset(void)
{
	struct pn_sock *c[] = { &client, &conn };

	stack_init(&st, &conf, fuzz_pool, tbl, 0);
	st.now_ms = 1000;
	memset(&mc, 0, sizeof(mc));
	mc.g[0] = (struct mc_group){ .addr = rte_cpu_to_be_32(IP4(239, 1, 2, 3)),
				     .mode = MC_EXCLUDE, .members = 1 };
	mc.g[1] = (struct mc_group){ .addr = rte_cpu_to_be_32(IP4(232, 1, 1, 1)),
				     .mode = MC_INCLUDE, .nsrc = 1, .members = 1,
				     .src = { rte_cpu_to_be_32(PEER_IP) } };
	atomic_store(&mc.n, 2);
	st.mc = &mc;
	for (int i = 0; i < 2; i++) {
		struct pn_shm_ctl *ctl = pn_shm_ctl(c[i]->region);

		c[i]->rx_head = c[i]->tx_tail = 0;
		c[i]->rx_limit = c[i]->geo.rx_size;
		c[i]->moved = c[i]->touched = 0;
		atomic_store(&ctl->rx_head.v, 0);
		atomic_store(&ctl->rx_tail.v, 0);
		atomic_store(&ctl->tx_head.v, 0);
		atomic_store(&ctl->tx_tail.v, 0);
		atomic_store(&ctl->wake.v, 0);
	}
}

static int
martian(rte_be32_t a)
{
	return stack_martian_src(&conf, a) != PN_RX_DROP_MAX;
}

static uint16_t
rdu16_(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

/* One transmitted frame, as the wire would see it. */
static void
check_frame(const struct rte_mbuf *m)
{
	static uint8_t lin[RTE_ETHER_MAX_LEN];
	const uint32_t len = rte_pktmbuf_pkt_len(m);

	FUZZ_CHECK(len >= RTE_ETHER_HDR_LEN && len <= RTE_ETHER_MAX_LEN - RTE_ETHER_CRC_LEN,
		   "length %u", len);

	/* (a fragment is a chain: its headers, then its datagram's bytes) */
	const uint8_t *f = rte_pktmbuf_read(m, 0, len, lin);
	const struct rte_ether_hdr *eh = (const void *)f;

	FUZZ_CHECK(f != NULL, "the frame's bytes all there");
	FUZZ_CHECK(rte_is_same_ether_addr(&eh->src_addr, &conf.mac), "our MAC as the source");
	if (eh->ether_type == RTE_BE16(RTE_ETHER_TYPE_ARP)) {
		const struct rte_arp_hdr *a = (const void *)(eh + 1);

		FUZZ_CHECK(len == RTE_ETHER_HDR_LEN + sizeof(*a), "ARP length %u", len);
		FUZZ_CHECK(a->arp_data.arp_sip == conf.ip, "ARP from our address");
		FUZZ_CHECK(rte_is_same_ether_addr(&a->arp_data.arp_sha, &conf.mac), "ARP sender MAC");
		if (a->arp_opcode == RTE_BE16(RTE_ARP_OP_REQUEST)) {
			FUZZ_CHECK(rte_is_broadcast_ether_addr(&eh->dst_addr), "requests broadcast");
		} else {
			FUZZ_CHECK(a->arp_opcode == RTE_BE16(RTE_ARP_OP_REPLY), "ARP op");
			FUZZ_CHECK(rte_is_unicast_ether_addr(&eh->dst_addr) &&
				   !rte_is_zero_ether_addr(&eh->dst_addr), "replies unicast");
			FUZZ_CHECK(a->arp_data.arp_tip == 0 || !martian(a->arp_data.arp_tip),
				   "no reply to a martian");
		}
		return;
	}
	FUZZ_CHECK(eh->ether_type == RTE_BE16(RTE_ETHER_TYPE_IPV4), "IPv4 or ARP");

	const struct rte_ipv4_hdr *ip = (const void *)(eh + 1);
	/* (a client's datagram may go to a broadcast address: to every host) */
	const int bcast = len >= RTE_ETHER_HDR_LEN + 20 && stack_is_bcast(&conf, ip->dst_addr);
	const int group = len >= RTE_ETHER_HDR_LEN + 20 &&
			  (rte_be_to_cpu_32(ip->dst_addr) >> 28) == 0xe;

	FUZZ_CHECK(bcast ? rte_is_broadcast_ether_addr(&eh->dst_addr) :
		   group ? eh->dst_addr.addr_bytes[0] == 0x01 && eh->dst_addr.addr_bytes[2] == 0x5e &&
			   eh->dst_addr.addr_bytes[5] == (rte_be_to_cpu_32(ip->dst_addr) & 0xff) :
		   rte_is_unicast_ether_addr(&eh->dst_addr) && !rte_is_zero_ether_addr(&eh->dst_addr),
		   "IP goes to a unicast MAC, a broadcast to every host, a group to its own");
	FUZZ_CHECK(!(bcast || group) || ip->next_proto_id == IPPROTO_UDP ||
		   (group && ip->next_proto_id == IPPROTO_IGMP),
		   "only UDP is broadcast, only UDP and IGMP sent to a group");
	const uint32_t ihl = (ip->version_ihl & 0xf) * 4u;
	const uint32_t tot = rte_be_to_cpu_16(ip->total_length);

	FUZZ_CHECK(len >= RTE_ETHER_HDR_LEN + 20 && (ip->version_ihl >> 4) == 4 && ihl >= 20 &&
		   RTE_ETHER_HDR_LEN + ihl <= len, "IPv4 header");
	FUZZ_CHECK(tot == len - RTE_ETHER_HDR_LEN, "total length %u in a %u-byte frame", tot, len);
	FUZZ_CHECK(cksum_buf(ip, ihl) == 0, "IP checksum");
	FUZZ_CHECK(ip->src_addr == conf.ip, "from our address");
	FUZZ_CHECK(bcast || group || !martian(ip->dst_addr),
		   "never to a martian, never to ourselves");
	FUZZ_CHECK(ip->time_to_live > 0 || group, "TTL");
	FUZZ_CHECK(m->nb_segs == 1 || (ip->fragment_offset & RTE_BE16(0x3fff)) != 0,
		   "only a fragment is a chain");

	const uint16_t fo = rte_be_to_cpu_16(ip->fragment_offset);

	if (fo & 0x3fff) {
		/* a piece of a datagram longer than the MTU */
		FUZZ_CHECK(!(fo & 0x4000) && ip->packet_id != 0 &&
			   (!(fo & 0x2000) || (tot - ihl) % 8 == 0), "a fragment: no DF, an ID, "
			   "8-byte pieces");
		if ((fo & 0x1fff) != 0 || ip->next_proto_id != IPPROTO_UDP)
			return;
		FUZZ_CHECK(tot - ihl >= 8 && rdu16_(f + RTE_ETHER_HDR_LEN + ihl) != 0 &&
			   rdu16_(f + RTE_ETHER_HDR_LEN + ihl + 2) != 0, "no port 0");
		return;
	}

	const uint8_t *l4 = (const uint8_t *)ip + ihl;
	const uint32_t l4len = tot - ihl;

	if (ip->next_proto_id == IPPROTO_IGMP) {
		/* a report (v3 to 224.0.0.22, v2 to its group) or a leave */
		FUZZ_CHECK(group && ip->time_to_live == 1 && ihl == 24 && l4len >= 8 &&
			   cksum_buf(l4, l4len) == 0 && cksum_buf(ip, ihl) == 0 &&
			   (l4[0] == 0x22 || l4[0] == 0x16 || l4[0] == 0x17),
			   "an IGMP report: to a group, TTL 1, Router Alert, summed");
		return;
	}
	if (ip->next_proto_id == IPPROTO_UDP) {
		const struct rte_udp_hdr *u = (const void *)l4;

		FUZZ_CHECK(l4len >= sizeof(*u) && rte_be_to_cpu_16(u->dgram_len) == l4len,
			   "UDP length");
		FUZZ_CHECK(u->dst_port != 0 && u->src_port != 0, "no port 0");
		FUZZ_CHECK(u->dgram_cksum != 0 &&
			   cksum_finish(cksum_add(u, l4len, cksum_pseudo(ip->src_addr, ip->dst_addr,
						  IPPROTO_UDP, (uint16_t)l4len))) == 0, "UDP checksum");
	} else {
		FUZZ_CHECK(ip->next_proto_id == IPPROTO_ICMP, "UDP or ICMP");
		FUZZ_CHECK(l4len >= sizeof(struct rte_icmp_hdr) && cksum_buf(l4, l4len) == 0,
			   "ICMP checksum");
		const struct rte_icmp_hdr *ic = (const void *)l4;

		if (ic->icmp_type == RTE_IP_ICMP_ECHO_REPLY) {
			FUZZ_CHECK(ic->icmp_code == 0 && ihl == 20, "an echo reply, no IP options");
			return;
		}
		/* else a port unreachable, about a UDP datagram to us from the
		 * host we send it to, not a fragment, within RFC 1812's 576 */
		const struct rte_ipv4_hdr *q = (const void *)(l4 + sizeof(*ic));
		const uint32_t qihl = (q->version_ihl & 0xf) * 4u;

		FUZZ_CHECK(ic->icmp_type == 3 && ic->icmp_code == 3 && ihl == 20,
			   "we only answer echo requests and closed ports (type %u code %u)",
			   ic->icmp_type, ic->icmp_code);
		FUZZ_CHECK(tot <= 576 && l4len >= sizeof(*ic) + 20 + 8 && qihl >= 20 &&
			   l4len >= sizeof(*ic) + qihl + 8, "the error quotes a header and 8 bytes");
		FUZZ_CHECK(q->next_proto_id == IPPROTO_UDP && q->dst_addr == conf.ip &&
			   q->src_addr == ip->dst_addr && !martian(q->src_addr) &&
			   (q->fragment_offset & RTE_BE16(0x3fff)) == 0,
			   "about a whole UDP datagram to us, from where it goes");
	}
}

/* Each mbuf of a packet once: its segments, and the datagram's own a
 * fragment's indirect segments point into. */
static unsigned seen_n;
static const struct rte_mbuf *seen[16384];

static void
see(const struct rte_mbuf *m)
{
	for (; m != NULL; m = m->next) {
		if (seen_n < RTE_DIM(seen))
			seen[seen_n++] = m;
		if (RTE_MBUF_CLONED(m) && seen_n < RTE_DIM(seen))
			seen[seen_n++] = rte_mbuf_from_indirect((struct rte_mbuf *)(uintptr_t)m);
	}
}

static int
ptr_cmp(const void *a, const void *b)
{
	const uintptr_t x = (uintptr_t)*(const void *const *)a, y = (uintptr_t)*(const void *const *)b;

	return x < y ? -1 : x > y;
}

/* The mbufs the stack holds: its transmit batch, the ARP queues, the echo
 * socket's ring, the fragments waiting for the rest. */
static unsigned
held_mbufs(void)
{
	struct rte_mbuf *r[64];
	unsigned n, u = 0;

	seen_n = 0;
	for (uint16_t i = 0; i < st.tx_n; i++)
		see(st.tx[i]);
	for (uint16_t i = 0; i < st.exc_n; i++)
		see(st.exc[i]);
	for (unsigned b = 0; b < ARP_BUCKETS; b++)
		for (unsigned w = 0; w < ARP_WAYS; w++)
			for (unsigned i = 0; i < st.arp.e[b][w].nq; i++)
				see(st.arp.e[b][w].q[i]);
	n = rte_ring_dequeue_burst(echo.rx, (void **)r, RTE_DIM(r), NULL);
	for (unsigned i = 0; i < n; i++)
		see(r[i]);
	rte_ring_enqueue_burst(echo.rx, (void **)r, n, NULL);
	qsort(seen, seen_n, sizeof(seen[0]), ptr_cmp);
	for (unsigned i = 0; i < seen_n; i++)
		u += i == 0 || seen[i] != seen[i - 1];
	return u + (unsigned)st.stats.frags_held;
}

static void
check_books(void)
{
	const struct pn_counters *s = &st.stats;

	FUZZ_CHECK(s->rx_frames == s->rx_delivered + s->rx_answered + stats_rx_dropped(s) +
		   s->rx_merged + s->rx_kernel,
		   "rx_frames %lu != delivered %lu + answered %lu + dropped %lu + merged %lu + "
		   "kernel %lu", s->rx_frames, s->rx_delivered, s->rx_answered,
		   stats_rx_dropped(s), s->rx_merged, s->rx_kernel);
	FUZZ_CHECK(s->local_sent == s->local_delivered + s->local_no_socket + s->local_ring_full +
		   s->local_to_kernel, "local_sent %lu", s->local_sent);
	FUZZ_CHECK(s->icmp_unreach_sent <= STACK_ICMP_BURST +
		   (st.now_ms - 1000) * STACK_ICMP_RATE / 1000 + 1,
		   "port unreachables within the rate: %lu in %lu ms", s->icmp_unreach_sent,
		   st.now_ms - 1000);
	FUZZ_CHECK(fuzz_in_use() == held_mbufs(),
		   "%u mbufs in use, the stack holds %u (%u frames to send, %u waiting for "
		   "ARP, %u on the echo ring, %lu fragments)", fuzz_in_use(), held_mbufs(),
		   st.tx_n, st.arp.pending, rte_ring_count(echo.rx), st.stats.frags_held);
	FUZZ_CHECK(s->frags_held <= s->rx_merged && s->frags_held <= conf.frag_held,
		   "fragments held %lu (merged %lu)", s->frags_held, s->rx_merged);
}

/* The frames in the transmit batch the kernel sent (its business) */
static struct rte_mbuf *kern[STACK_TX_MAX];
static unsigned kern_n;

static int
from_kernel(const struct rte_mbuf *m)
{
	for (unsigned i = 0; i < kern_n; i++)
		if (kern[i] == m)
			return 1;
	return 0;
}

/* The end of an lcore loop: services, commit, the burst to a port that
 * takes all but (by the input's choice) the last few, and to the kernel's
 * interface the same. */
static void
loop_tail(uint8_t refuse)
{
	uint16_t sent;

	echo_service(&st, &echo, 32);
	shm_sock_commit(&st);
	st.wake_n = 0;
	stack_tick(&st);
	for (uint16_t i = 0; i < st.tx_n; i++)
		if (!from_kernel(st.tx[i]))     /* (the kernel's are its business) */
			check_frame(st.tx[i]);
	sent = st.tx_n > (refuse & 3) ? st.tx_n - (refuse & 3) : 0;
	for (uint16_t i = 0; i < sent; i++)
		rte_pktmbuf_free(st.tx[i]);        /* "on the wire" */
	stack_tx_done(&st, sent);
	kern_n = 0;
	/* the frames for the kernel: whole, one segment each */
	for (uint16_t i = 0; i < st.exc_n; i++)
		FUZZ_CHECK(st.exc[i]->nb_segs == 1 &&
			   rte_pktmbuf_pkt_len(st.exc[i]) >= RTE_ETHER_HDR_LEN &&
			   rte_pktmbuf_pkt_len(st.exc[i]) <= 2048, "a frame for the kernel: %u bytes",
			   rte_pktmbuf_pkt_len(st.exc[i]));
	sent = st.exc_n > (refuse >> 2 & 3) ? st.exc_n - (refuse >> 2 & 3) : 0;
	for (uint16_t i = 0; i < sent; i++)
		rte_pktmbuf_free(st.exc[i]);       /* "the kernel's now" */
	exc_done(&st, sent);
	check_books();
}

static void
client_send(struct fuzz_in *in)
{
	struct pn_shm_ctl *ctl = pn_shm_ctl(client.region);
	uint32_t head = atomic_load(&ctl->tx_head.v);
	struct pn_desc *d = pn_shm_desc(client.region, client.geo.tx_desc_off,
					client.geo.tx_size, head);
	uint16_t len = fuzz_u16(in);
	size_t got;
	const uint8_t *p;

	d->len = len;                      /* as written: the app checks it */
	d->addr = fuzz_u32(in);
	d->port = fuzz_u16(in);
	d->flags = 0;
	p = fuzz_bytes(in, RTE_MIN((size_t)len, (size_t)PN_SHM_SLOT_SIZE), &got);
	memcpy(pn_shm_slot(client.region, client.geo.tx_slot_off, client.geo.tx_size, head),
	       p, got);
	if (head - client.tx_tail < client.geo.tx_size)
		atomic_store(&ctl->tx_head.v, head + 1);
	shm_sock_drain(&st, &client, 32);
	/* and it reads what it received, now and then */
	atomic_store(&pn_shm_ctl(client.region)->rx_tail.v, client.rx_head);
	atomic_store(&pn_shm_ctl(conn.region)->rx_tail.v, conn.rx_head);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_in in = { data, size };

	/* the exception path on for half the inputs */
	conf.exception = conf.exc_udp = size > 0 && (data[0] & 0x80);
	kern_n = 0;
	reset();
	while (in.n > 0) {
		uint8_t op = fuzz_u8(&in);

		switch (op & 3) {
		case 0: {
			const uint16_t w = fuzz_u16(&in);
			size_t want = w % 2048, got;
			const uint8_t *f = fuzz_bytes(&in, want, &got);
			struct rte_mbuf *m = rte_pktmbuf_alloc(fuzz_pool);

			if (m == NULL)
				break;
			memcpy(rte_pktmbuf_append(m, (uint16_t)got), f, got);
			if (conf.exception && (w & 0x8000)) {
				const uint16_t n0 = st.tx_n;

				exc_from_kernel(&st, m);
				if (st.tx_n > n0)
					kern[kern_n++] = m;
			} else {
				stack_input(&st, m);
			}
			if (st.tx_n > STACK_TX_MAX - 8)
				loop_tail(0);
			break;
		}
		case 1:
			st.now_ms += (uint64_t)fuzz_u8(&in) * 10;
			stack_tick(&st);
			break;
		case 2:
			client_send(&in);
			break;
		case 3:
			loop_tail(op >> 2);
			break;
		}
	}
	loop_tail(0);
	stack_release(&st);
	{
		struct rte_mbuf *m;

		while (rte_ring_dequeue(echo.rx, (void **)&m) == 0)
			rte_pktmbuf_free(m);
	}
	FUZZ_CHECK(fuzz_in_use() == 0, "%u mbufs leaked", fuzz_in_use());
	return 0;
}
