/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The per-lcore protocol stack: pure code over rte_mbuf, no I/O.
 *
 * Input:  stack_input() takes one received frame and returns its verdict.
 *         The mbuf then belongs to the stack: it was delivered to a socket
 *         ring, turned into a reply, or freed.  Callers never free it.
 * Output: frames to transmit (replies, ARP requests, UDP datagrams) are
 *         appended to s->tx; the lcore hands them to the port with one burst
 *         and calls stack_tx_done() with what the port accepted.
 * Time:   the caller sets s->now_ms; nothing here reads a clock.
 *
 * All addresses in this API are in network byte order.
 */
#ifndef PN_STACK_H
#define PN_STACK_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include <rte_ether.h>
#include <rte_ip.h>
#include <rte_mbuf.h>

#include "arp.h"
#include "abi/pn_counters.h"

struct sock_table;
struct pn_sock;
struct rte_ring;
struct frag_table;

/* ---- IPv4 multicast (igmp.c) ---- */

#define MC_MAX_GROUPS  64               /* groups the interface joins at once */
#define MC_MAX_SOURCES 16               /* sources in one group's filter */
enum { MC_INCLUDE = 1, MC_EXCLUDE = 2 };

/* A group the interface has joined, with its filter (RFC 3376 3.2: the
 * sockets' filters merged) and how many sockets are its members. */
struct mc_group {
	rte_be32_t addr;
	uint8_t mode;                   /* MC_INCLUDE (with sources) or MC_EXCLUDE */
	uint8_t nsrc;
	uint16_t members;
	rte_be32_t src[MC_MAX_SOURCES];
};

/* The interface's groups: written by the control thread (app/mcast.c)
 * under seq (odd while it writes), read by the lcores: a datagram's group
 * looked up without the count (a filter, as a NIC's), a report's records
 * copied with it. */
struct mc_table {
	_Atomic uint32_t seq;
	_Atomic uint32_t n;
	_Atomic uint32_t v2;            /* an IGMPv2 (or v1) querier heard in the
	                                 * last 260 s: v2 reports (lcores write) */
	struct mc_group g[MC_MAX_GROUPS];
};

/* An IGMPv3 group record to build (RFC 3376 4.2.12). */
struct igmp_rec {
	uint8_t type;                   /* IGMP_MODE_IS_INCLUDE... */
	uint8_t nsrc;
	rte_be32_t group;
	const rte_be32_t *src;
};
enum {
	IGMP_MODE_IS_INCLUDE = 1, IGMP_MODE_IS_EXCLUDE, IGMP_CHANGE_TO_INCLUDE,
	IGMP_CHANGE_TO_EXCLUDE, IGMP_ALLOW_NEW_SOURCES, IGMP_BLOCK_OLD_SOURCES,
};
#define IGMP_V2_REPORT 0x16
#define IGMP_V2_LEAVE  0x17

/* ICMP errors we send: a token bucket per lcore, as Linux's global
 * icmp_msgs_per_sec / icmp_msgs_burst (RFC 1812 4.3.2.8). */
#define STACK_ICMP_RATE   1000          /* per second */
#define STACK_ICMP_BURST  50

struct stack_conf {
	rte_be32_t ip;
	rte_be32_t netmask;
	rte_be32_t gateway;             /* 0: no default route */
	struct rte_ether_addr mac;
	uint16_t mtu;                   /* IP MTU, 1500 */
	uint32_t arp_timeout_ms;        /* a REACHABLE entry ages out after this */
	uint32_t arp_retry_ms;          /* between requests for one address */
	uint8_t arp_retries;            /* requests before giving up */
	/* IPv4 reassembly (frag.c; config [ipv4] ipfrag_*) */
	uint32_t frag_time_ms;
	uint32_t frag_flows;            /* 0: fragments are dropped (ip_fragment) */
	uint32_t frag_fragments;
	uint32_t frag_held;
	uint32_t tx_offload;            /* STACK_TX_*: what the port does for us */
	/* Wake-up moderation: a client asleep on a receive is woken once
	 * wake_batch datagrams wait for it, or wake_delay_us after the first
	 * did (1 or 0: at once) */
	uint32_t wake_batch;
	uint32_t wake_delay_us;
	/* An lcore that found nothing to do for idle_after_us sleeps (idle:
	 * the config's PN_IDLE_*): naps from nap_first_us doubling up to
	 * idle_sleep_us (0: it polls without pause), or until its port's
	 * receive interrupt or a client's doorbell.  With moderation_us, a
	 * loop that found work is followed, once idle_after_us passed, by a
	 * nap of that long before the idle mode: a stream is taken in
	 * batches, a nap that found nothing hands over to the idle mode. */
	uint32_t idle;
	uint32_t idle_after_us;
	uint32_t idle_sleep_us;
	uint32_t nap_first_us;
	uint32_t moderation_us;
	/* The exception path (exc.c): what the stack does not consume goes
	 * to the kernel's interface (s->exc) instead of being dropped; with
	 * exc_udp, UDP to a port no socket holds too (else a port
	 * unreachable, as without it). */
	uint8_t exception;
	uint8_t exc_udp;
};

/* The port's transmit offloads the stack uses (the bits of pmd/port.h's
 * PORT_TX_*). */
#define STACK_TX_CKSUM   1u   /* IPv4 header and UDP checksums */

enum stack_verdict {
	STACK_DELIVERED,    /* to a socket ring or the ARP cache */
	STACK_ANSWERED,     /* became a reply, now in s->tx */
	STACK_STEERED,      /* handed to the lcore that owns its socket */
	STACK_DROPPED,      /* freed; s->stats.rx_drop[] says why */
	STACK_HELD,         /* an IPv4 fragment, held until its datagram is
	                     * whole (in stats.rx_merged) */
	STACK_KERNEL,       /* to the kernel's interface (in stats.rx_kernel) */
};

#define STACK_TX_MAX 256

/* An entry of a steer ring: a datagram for a socket owned by another lcore. */
struct steer_item {
	struct rte_mbuf *m;             /* the frame; an ICMP error's at its
	                                 * ICMP header (or NULL) */
	struct pn_sock *sock;
	uint32_t local;                 /* sent by a local socket, not received */
	uint32_t err;                   /* an ICMP error for sock: its errno */
};

#define STACK_SHM_MAX 256               /* SHM sockets touched in one loop */
#define STACK_EXC_MAX 64                /* frames for the kernel in one loop */

/* Called when this lcore learns or refreshes an ARP mapping (so the app can
 * tell the other lcores); may be NULL. */
typedef void (*stack_arp_hook)(void *arg, rte_be32_t ip,
			       const struct rte_ether_addr *mac);
/* Where the kernel resolves neighbours (a port beside it, xdp:): called
 * instead of sending an ARP request for ip; the answer comes back as an
 * arp_cache_insert.  NULL: the stack sends its own requests. */
typedef void (*stack_arp_ask)(void *arg, rte_be32_t ip);
/* Where the kernel shares our address (xdp:, the exception path): a local
 * datagram no socket of ours takes, for the kernel's programs on this host
 * (m: the payload).  Takes m; 0, or -ENOBUFS (freed).  NULL: none. */
typedef int (*stack_kernel_out)(void *arg, struct rte_mbuf *m, rte_be16_t sport,
				rte_be32_t dst, rte_be16_t dport);

struct stack {
	const struct stack_conf *conf;
	struct rte_mempool *pool;       /* for frames the stack originates */
	struct rte_mempool *pool_indirect;  /* for fragments' payloads (NULL:
	                                 * pool) */
	struct frag_table *frag;        /* reassembly, made at the first fragment */
	struct mc_table *mc;            /* the groups joined (NULL: none) */
	/* IGMP queries to answer: all groups, and some groups, when due */
	uint64_t igmp_due_ms;           /* 0: nothing to answer */
	uint64_t igmp_v2_until_ms;
	uint32_t igmp_rand;
	uint8_t igmp_all;
	uint8_t igmp_ngroups;
	rte_be32_t igmp_groups[8];
	uint16_t ip_id;                 /* the next non-atomic datagram's ID */
	struct sock_table *socks;       /* NULL: every datagram is udp_no_socket */
	struct rte_ring *const *steer;  /* steer[lcore], NULL with one lcore */
	uint16_t lcore;                 /* our index in the socket table */
	uint32_t steered_to;            /* lcores we steered to (bit per
	                                 * index), for the lcore to clear */
	uint64_t now_ms;
	uint64_t now_us;                /* the same clock, for wake moderation */
	uint64_t now_tsc;               /* the loop's TSC: receive timestamps */
	stack_arp_hook arp_hook;
	void *arp_hook_arg;
	stack_arp_ask arp_ask;
	void *arp_ask_arg;
	stack_kernel_out kernel_out;
	void *kernel_out_arg;
	struct arp_cache arp;
	uint32_t icmp_tokens;           /* ICMP errors we may still send */
	uint64_t icmp_refill_ms;        /* when the bucket last gained */
	struct pn_counters stats;
	uint16_t tx_n;
	struct rte_mbuf *tx[STACK_TX_MAX];
	/* SHM sockets whose positions moved this loop, and those whose client
	 * asked to be woken (the lcore sends their wake-ups) */
	uint16_t touched_n, wake_n;
	uint8_t touched_overflow;       /* more than STACK_SHM_MAX: scan */
	uint8_t shares_core;            /* a socket moved whose client waits on
	                                 * our CPU (abi/pn_region.h, Sharing a
	                                 * core): the lcore clears it */
	uint32_t cpu;                   /* 1 + the lcore's CPU; 0: not known */
	uint32_t wakes_deferred;        /* sockets whose wake-up is held back */
	struct pn_sock *touched[STACK_SHM_MAX];
	struct pn_sock *wake[STACK_SHM_MAX];
	/* frames for the kernel's interface (exc.c), sent by the lcore */
	uint16_t exc_n;
	struct rte_mbuf *exc[STACK_EXC_MAX];
};

void stack_init(struct stack *s, const struct stack_conf *conf,
		struct rte_mempool *pool, struct sock_table *socks, uint16_t lcore);
/* Free everything the stack holds (pending ARP packets, unsent frames). */
void stack_release(struct stack *s);

enum stack_verdict stack_input(struct stack *s, struct rte_mbuf *m);

/* A datagram a kernel program on this host sent to one of our ports (m:
 * its payload), delivered as a local one: 0, or a negative errno (m freed). */
int stack_local_from_kernel(struct stack *s, struct rte_mbuf *m, rte_be32_t src,
			    rte_be16_t sport, rte_be32_t dst, rte_be16_t dport);

/* Layers, exposed for tests; each takes m with data at its own header. */
enum stack_verdict eth_input(struct stack *s, struct rte_mbuf *m);
enum stack_verdict arp_input(struct stack *s, struct rte_mbuf *m);
enum stack_verdict ipv4_input(struct stack *s, struct rte_mbuf *m);
enum stack_verdict icmp_input(struct stack *s, struct rte_mbuf *m);
enum stack_verdict udp_input(struct stack *s, struct rte_mbuf *m);
/* ... a datagram made whole from fragments: a chain (frag.c) */
enum stack_verdict udp_input_chain(struct stack *s, struct rte_mbuf *m);

/* The exception path (exc.c).  exc_take: a frame the stack does not
 * consume, to the kernel (m's data `back` bytes after the frame's start);
 * consumes m, counted in rx_kernel.  exc_copy: a copy of an ARP message
 * (m at its Ethernet header) for the kernel too.  exc_from_kernel: a frame
 * the kernel sent, into s->tx (or withheld: an ARP reply for our address
 * pollnet gave already).  exc_done: after the lcore's burst to the kernel
 * took `sent` of s->exc, the rest freed and counted. */
enum stack_verdict exc_take(struct stack *s, struct rte_mbuf *m, uint32_t back);
void exc_copy(struct stack *s, const struct rte_mbuf *m);
void exc_from_kernel(struct stack *s, struct rte_mbuf *m);
void exc_done(struct stack *s, uint16_t sent);

/* A UDP datagram for a closed port (m at its UDP header, l2/l3 lengths set):
 * answer it with an ICMP port unreachable, in place, if RFC 1812 allows and
 * the rate limit has room; else drop it.  Consumes m. */
enum stack_verdict icmp_port_unreachable(struct stack *s, struct rte_mbuf *m);

/* Deliver a datagram (l2/l3/l4 lengths set, data at Ethernet) to sock: run
 * by the socket's owner.  `local`: it came from a local socket, not the
 * port (counted as such).  Consumes m. */
enum stack_verdict udp_deliver(struct stack *s, struct pn_sock *sock,
			       struct rte_mbuf *m, int local);
/* udp_deliver's `local`: from the port, from a local socket, or a copy of
 * a broadcast datagram for one more socket (counted as a copy only). */
#define UDP_FROM_PORT  0
#define UDP_FROM_LOCAL 1
#define UDP_BCAST_COPY 2

/* A broadcast datagram (a whole frame, headers located by l2/l3/l4_len) to
 * every socket bound to its port and to a connected one whose peer sent it:
 * copies for all but the last.  None: dropped, never an ICMP error. */
enum stack_verdict udp_bcast_deliver(struct stack *s, struct rte_mbuf *m, int local);
/* ipv4_output of a broadcast m: a copy to our own sockets (local). */
void udp_bcast_loop(struct stack *s, const struct rte_mbuf *m);

/* The built-in echo service (echo.c): answer up to `budget` datagrams
 * waiting on sock's ring.  Returns how many it took. */
unsigned echo_service(struct stack *s, struct pn_sock *sock, unsigned budget);

/* ---- SHM sockets (shm_sock.c), run by the owner lcore ---- */

/* What a datagram's IP and UDP headers said, for its receiver (its
 * struct pn_desc), network order. */
struct udp_meta {
	rte_be32_t src, dst;
	rte_be16_t sport;
	uint8_t tos, ttl;
};

/* Copy a datagram into sock's RX ring, stamped with the loop's TSC.  0, or
 * -ENOBUFS when the ring is full (or its tail is nonsense). */
int shm_sock_put(struct stack *s, struct pn_sock *sock, const void *payload,
		 uint32_t len, const struct udp_meta *mt);
/* The same from len bytes of a chain of mbufs, from offset off. */
int shm_sock_put_mbuf(struct stack *s, struct pn_sock *sock, const struct rte_mbuf *m,
		      uint32_t off, uint32_t len, const struct udp_meta *mt);
/* An ICMP error for sock (connected): the client's next call returns -err
 * (ECONNREFUSED for a port unreachable).  On the owner lcore.  0, or
 * -ENOENT when sock is closing (or no client's): nothing posted. */
struct pn_shm_errent;
int shm_sock_error(struct stack *s, struct pn_sock *sock, const struct pn_shm_errent *e);
/* Hand an ICMP error that came in a frame to sock (on its owner lcore) and
 * count the frame: delivered, or dropped as icmp_error_unmatched when sock
 * is closing. */
enum stack_verdict icmp_error_deliver(struct stack *s, struct pn_sock *sock, int err,
				      struct rte_mbuf *m);
/* Does sock's client have datagrams for us to send (a sane count)? */
int shm_sock_tx_ready(const struct pn_sock *sock);
/* Send up to `budget` datagrams from sock's TX ring, and collect the
 * wake-up it asked for (its poke).  Returns how many datagrams. */
unsigned shm_sock_drain(struct stack *s, struct pn_sock *sock, unsigned budget);
/* Publish what moved this loop and collect the sockets to wake
 * (s->wake[0..wake_n), each with its wake_bits); the caller sends their
 * wake-ups, then sets wake_n = 0. */
void shm_sock_commit(struct stack *s);
/* The wake-ups `bits` of sock could not be sent: the next commit sends them
 * again. */
void shm_sock_wake_again(struct stack *s, struct pn_sock *sock, uint8_t bits);

/* Is dst one of ours (our address, or 127.0.0.0/8)? */
static inline int
stack_is_local(const struct stack_conf *c, rte_be32_t dst)
{
	return dst == c->ip || (rte_be_to_cpu_32(dst) >> 24) == 127;
}

/* The source of a datagram a local socket sends to local address dst: the
 * address it used, as the kernel's loopback does (127.0.0.1 for 127.0.0.0/8,
 * our address for our address), so that a socket connected to either gets
 * the answers. */
static inline rte_be32_t
stack_local_src(const struct stack_conf *c, rte_be32_t dst)
{
	return dst == c->ip ? c->ip : RTE_BE32(RTE_IPV4_LOOPBACK);
}

/* Our subnet's broadcast address, or 0 when the prefix has none (/31, /32:
 * RFC 3021). */
static inline rte_be32_t
stack_subnet_bcast(const struct stack_conf *c)
{
	return c->netmask == 0 || rte_be_to_cpu_32(c->netmask) >= 0xfffffffeu ? 0 :
	       (c->ip | ~c->netmask);
}

/*
 * Why a received packet's source address must not be believed (RFC 1122
 * 3.2.1.3, RFC 1812 5.3.7), or PN_RX_DROP_MAX when it may be: nothing from
 * the wire claims to be us, loopback, "this network", a broadcast, a group
 * or class E.  Such a packet is never answered: an answer would go to
 * ourselves, to every host, or nowhere.
 */
static inline enum pn_rx_drop
stack_martian_src(const struct stack_conf *c, rte_be32_t src)
{
	const uint32_t a = rte_be_to_cpu_32(src);

	if ((a >> 24) == 0)
		return PN_RX_IP_SRC_ZERO;
	if ((a >> 24) == 127)
		return PN_RX_IP_SRC_LOOP;
	if (src == c->ip)
		return PN_RX_IP_SRC_OURS;
	if (a == 0xffffffffu || src == stack_subnet_bcast(c))
		return PN_RX_IP_SRC_BCAST;
	if ((a >> 28) == 0xe)
		return PN_RX_IP_SRC_MCAST;
	if ((a >> 28) == 0xf)
		return PN_RX_IP_SRC_CLASS_E;
	return PN_RX_DROP_MAX;
}

/* Is dst a broadcast: the limited one or our subnet's? */
static inline int
stack_is_bcast(const struct stack_conf *c, rte_be32_t dst)
{
	return dst == RTE_BE32(0xffffffffu) || (dst == stack_subnet_bcast(c) && dst != 0);
}

/* May a datagram be sent to dst?  Not to "this network" or class E (ours
 * and loopback are local delivery; a broadcast goes to every host on the
 * link, and to our own sockets; a group to its Ethernet group address). */
static inline int
stack_dst_ok(const struct stack_conf *c, rte_be32_t dst)
{
	const uint32_t a = rte_be_to_cpu_32(dst);

	/* (a host's address, the common case, decided first) */
	return ((a >> 24) != 0 && (a >> 28) <= 0xe) || stack_is_bcast(c, dst);
}

/* ---- IPv4 multicast (igmp.c) ---- */

/* Has the interface joined group g (224.0.0.1 always)? */
static inline int
stack_mc_joined(const struct stack *s, rte_be32_t g)
{
	const struct mc_table *t = s->mc;
	uint32_t n;

	if (g == RTE_BE32(0xe0000001u))
		return 1;
	if (t == NULL)
		return 0;
	n = atomic_load_explicit(&t->n, memory_order_acquire);
	for (uint32_t i = 0; i < n && i < MC_MAX_GROUPS; i++)
		if (t->g[i].addr == g)
			return 1;
	return 0;
}

/* An IGMP message to us (m at its header, l2/l3 lengths set): a query is
 * answered when its random delay is up (stack_tick), anything else is
 * another host's business.  Consumes m. */
enum stack_verdict igmp_input(struct stack *s, struct rte_mbuf *m);
/* Answer the queries whose time has come (from stack_tick). */
void igmp_tick(struct stack *s);
/* An IGMPv3 report of n records, or an IGMPv2 report or leave for group
 * (type IGMP_V2_*), from c's address and MAC, in a new mbuf from pool: a
 * whole frame (NULL: no mbuf).  For the lcores' answers and the control
 * thread's state-change reports alike. */
struct rte_mbuf *igmp_v3_report(const struct stack_conf *c, struct rte_mempool *pool,
				const struct igmp_rec *rec, unsigned n);
struct rte_mbuf *igmp_v2_msg(const struct stack_conf *c, struct rte_mempool *pool,
			     uint8_t type, rte_be32_t group);
/* The Ethernet group address of an IPv4 group (RFC 1112 6.4). */
static inline struct rte_ether_addr
stack_group_mac(rte_be32_t group)
{
	const uint32_t g = rte_be_to_cpu_32(group);

	return (struct rte_ether_addr){ { 0x01, 0x00, 0x5e, (g >> 16) & 0x7f, (g >> 8) & 0xff,
					  g & 0xff } };
}

/* ---- IPv4 fragments (frag.c) ---- */

/* A fragment (m at its IP header, trimmed to its total length, header
 * checked): held (NULL, *v STACK_HELD), dropped (NULL, *v STACK_DROPPED,
 * counted), or the last piece of its datagram, returned whole: a chain at
 * its IP header, which says so (total length, no offset). */
struct rte_mbuf *frag_input(struct stack *s, struct rte_mbuf *m, enum stack_verdict *v);
/* Give up on the datagrams whose time is up (from stack_tick). */
void frag_tick(struct stack *s);
/* Drop everything held and the table (from stack_release). */
void frag_release(struct stack *s);
/* A whole frame (m at Ethernet, IPv4) longer than the MTU: into s->tx in
 * fragments.  Consumes m. */
void ipv4_fragment_tx(struct stack *s, struct rte_mbuf *m);

/* Deliver what other lcores steered to sockets we own.  Returns how many. */
unsigned stack_steer_drain(struct stack *s);

/*
 * Send m's data (a chain, up to 65,507 bytes) as the payload of a UDP
 * datagram, with `ipo` (STACK_IPO) the IP header's TOS byte and TTL (0: 64)
 * of a socket that set them (IP_TOS, IP_TTL; the stack's own: udp_output)
 * and its IP_MTU_DISCOVER's say on DF (STACK_IP_NODF: never set; else set
 * when the datagram fits the MTU, and fragments when it does not).  Headers
 * are prepended in the headroom; the next hop is resolved by ARP (m may
 * wait in the ARP queue).  Consumes m.  Returns 0 if sent or queued, a
 * negative errno if dropped (counted in stats.tx_drop[]).
 */
#define STACK_IP_NODF   1u
#define STACK_IP_NOLOOP 2u              /* to a group: no copy to our members
                                         * (IP_MULTICAST_LOOP 0) */
/* (one word, so that every argument stays in a register) */
#define STACK_IPO(tos, ttl, flags) \
	((uint32_t)(uint8_t)(tos) | (uint32_t)(uint8_t)(ttl) << 8 | (uint32_t)(flags) << 16)
#define STACK_IPO_TOS(o)   ((uint8_t)(o))
#define STACK_IPO_TTL(o)   ((uint8_t)((o) >> 8))
#define STACK_IPO_FLAGS(o) ((o) >> 16)
int udp_output_ip(struct stack *s, struct rte_mbuf *m, rte_be16_t sport,
		  rte_be32_t dst, rte_be16_t dport, uint32_t ipo);
int ipv4_output_ip(struct stack *s, struct rte_mbuf *m, rte_be32_t dst,
		   uint8_t proto, uint32_t ipo);

#define STACK_TTL 64                    /* Linux's ip_default_ttl */

static inline int
udp_output(struct stack *s, struct rte_mbuf *m, rte_be16_t sport, rte_be32_t dst,
	   rte_be16_t dport)
{
	return udp_output_ip(s, m, sport, dst, dport, STACK_IPO(0, STACK_TTL, 0));
}

static inline int
ipv4_output(struct stack *s, struct rte_mbuf *m, rte_be32_t dst, uint8_t proto)
{
	return ipv4_output_ip(s, m, dst, proto, STACK_IPO(0, STACK_TTL, 0));
}

/* Queue a complete frame for transmission (counted drop when full); one
 * longer than the MTU goes in fragments. */
void stack_tx(struct stack *s, struct rte_mbuf *m);
/* The port accepted the first `sent` frames of s->tx: free and count the
 * rest, and empty the batch. */
void stack_tx_done(struct stack *s, uint16_t sent);

/* Periodic work: ARP retries and aging.  Cheap when nothing is due. */
void stack_tick(struct stack *s);

/* The next hop for dst: dst itself when on-link, else the gateway; 0 when
 * there is no route. */
static inline rte_be32_t
stack_next_hop(const struct stack_conf *c, rte_be32_t dst)
{
	if (((dst ^ c->ip) & c->netmask) == 0)
		return dst;
	return c->gateway;
}

#endif
