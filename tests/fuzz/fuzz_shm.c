/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The app's side of a client's shared-memory socket, against a client that
 * writes anything anywhere in its region (abi/pn_region.h).
 *
 *   op 0  the client scribbles: u32 offset, u8 length, bytes (anywhere in
 *         the region: header, positions, descriptors, slots)
 *   op 1  the owner lcore drains the client's TX ring (u8 budget)
 *   op 2  a datagram arrives for the client: u16 length (mod 2100), u8
 *         byte, delivered with shm_sock_put
 *   op 3  the lcore publishes what moved (shm_sock_commit)
 *
 * Checks: nothing outside the region is touched (ASan: the region is a heap
 * block of its exact size); the app never writes what the client owns (its
 * positions, TX descriptors and slots are byte-for-byte as the client left
 * them; the app may only clear wake bits); the positions the app publishes
 * never get more than a ring ahead of what it read; frames it built for the
 * port are freed; the pool is back to zero after each input.
 */
#include <stdlib.h>
#include <string.h>

#include <rte_mbuf.h>

#include "fuzz_env.h"
#include "sock_table.h"
#include "stack.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct stack_conf conf;
static struct stack st;
static struct sock_table *tbl;
static struct pn_sock sock, peer;
static struct pn_shm_hdr geo;
static uint8_t *before;

static void
setup_sock(struct pn_sock *s, uint32_t id, uint16_t port)
{
	memset(s, 0, sizeof(*s));
	s->region = malloc(geo.region_size);
	FUZZ_CHECK(s->region != NULL, "out of memory");
	s->geo = geo;
	s->geo.sock_id = id;
	s->id = id;
	s->kind = SOCK_SHM;
	s->efd = s->tx_efd = -1;
	s->key.lport = rte_cpu_to_be_16(port);
	FUZZ_CHECK(sock_table_add(tbl, s) == 0, "add socket");
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fuzz_env_init();
	conf.ip = rte_cpu_to_be_32(IP4(198, 18, 0, 2));
	conf.netmask = rte_cpu_to_be_32(0xffffff00u);
	conf.mac = (struct rte_ether_addr){ { 0x02, 0, 0, 0, 0, 0x02 } };
	conf.mtu = 1500;
	conf.arp_timeout_ms = 30000;
	conf.arp_retry_ms = 1000;
	conf.arp_retries = 3;
	pn_shm_layout(&geo, 8, 8, 0, 0);
	tbl = sock_table_create("fuzz_shm", 8, 1);
	FUZZ_CHECK(tbl != NULL && sock_table_lcore_online(tbl, 0) == 0, "socket table");
	setup_sock(&sock, 1, 4000);
	setup_sock(&peer, 2, 4001);     /* for local delivery, slot to slot */
	before = malloc(geo.region_size);
	FUZZ_CHECK(before != NULL, "out of memory");
	return 0;
}

static void
reset(struct pn_sock *s)
{
	memset(s->region, 0, geo.region_size);
	memcpy(s->region, &s->geo, sizeof(s->geo));
	s->rx_head = s->tx_tail = 0;
	s->rx_limit = geo.rx_size;
	s->moved = s->touched = 0;
	s->shm_errors = 0;
}

/* What the client owns, compared with what it was: the app may only have
 * cleared bits of `wake`. */
static void
check_client_areas(const struct pn_sock *s)
{
	const struct pn_shm_ctl *a = pn_shm_ctl(before), *b = pn_shm_ctl(s->region);
	uint32_t w0 = atomic_load(&a->wake.v), w1 = atomic_load(&b->wake.v);

	FUZZ_CHECK(memcmp(&a->rx_tail, &b->rx_tail, sizeof(a->rx_tail)) == 0, "rx_tail written");
	FUZZ_CHECK(memcmp(&a->tx_head, &b->tx_head, sizeof(a->tx_head)) == 0, "tx_head written");
	FUZZ_CHECK((w1 & ~w0) == 0, "wake bits set by the app");
	FUZZ_CHECK(memcmp(before, s->region, PN_SHM_CTL_OFF) == 0, "header rewritten");
	FUZZ_CHECK(memcmp(before + geo.tx_desc_off, s->region + geo.tx_desc_off,
			  geo.tx_size * sizeof(struct pn_desc)) == 0, "TX descriptors written");
	FUZZ_CHECK(memcmp(before + geo.tx_slot_off, s->region + geo.tx_slot_off,
			  (size_t)geo.tx_size * PN_SHM_SLOT_SIZE) == 0, "TX slots written");
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_in in = { data, size };
	uint8_t payload[2100];

	stack_init(&st, &conf, fuzz_pool, tbl, 0);
	st.now_ms = 1000;
	reset(&sock);
	reset(&peer);
	while (in.n > 0) {
		uint8_t op = fuzz_u8(&in);

		if ((op & 3) == 0) {
			uint32_t off = fuzz_u32(&in) % geo.region_size;
			size_t len = fuzz_u8(&in), got;
			const uint8_t *p = fuzz_bytes(&in, RTE_MIN(len, geo.region_size - off), &got);

			memcpy(sock.region + off, p, got);
			continue;
		}
		memcpy(before, sock.region, geo.region_size);
		switch (op & 3) {
		case 1:
			shm_sock_drain(&st, &sock, fuzz_u8(&in));
			break;
		case 2: {
			uint16_t len = fuzz_u16(&in) % 2100;
			const struct udp_meta mt = { .src = conf.ip, .dst = conf.ip,
						     .sport = rte_cpu_to_be_16(9), .ttl = 64 };

			memset(payload, fuzz_u8(&in), len);
			shm_sock_put(&st, &sock, payload, len, &mt);
			break;
		}
		case 3:
			shm_sock_commit(&st);
			st.wake_n = 0;
			break;
		}
		/* what the app wrote into the RX side stays within a ring of
		 * what it knows was read */
		FUZZ_CHECK(sock.rx_limit - sock.rx_head <= geo.rx_size, "RX positions");
		check_client_areas(&sock);
		/* frames for the port: sent (freed) */
		for (uint16_t i = 0; i < st.tx_n; i++)
			rte_pktmbuf_free(st.tx[i]);
		stack_tx_done(&st, st.tx_n);
	}
	shm_sock_commit(&st);
	st.wake_n = 0;
	stack_release(&st);
	FUZZ_CHECK(fuzz_in_use() == 0, "%u mbufs leaked", fuzz_in_use());
	return 0;
}
