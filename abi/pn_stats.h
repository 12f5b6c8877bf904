/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ABI: the stats segment, what pollnet publishes for pollnetctl, DPDK
 * telemetry and --dump (readers: decode/).  A file (default
 * /run/pollnet/pollnet.stats) the app maps read-write and readers map
 * read-only; the app holds an exclusive flock on it while it runs, so a
 * reader that can take a shared lock knows the file is stale.
 *
 *   offset                                                     written by
 *   0          +-------------------------------------------+
 *              | struct pn_stats_hdr: magic, version,      |   control thread,
 *              | sizes and offsets, identity (pid, port,   |   once, the magic
 *              | address, MAC, paths, the TSC's start)     |   last
 *   64-aligned | seq ... port counters, control counters,  |   control thread,
 *              | clock, multicast groups (under seq)       |   every PN_STATS_CTL_MS
 *              +-------------------------------------------+
 *   lcore_off  | struct pn_stats_lcore [nb_lcores]: loop   |   lcore i, its own,
 *              | counters and a copy of its pn_counters    |   every PN_STATS_LCORE_MS
 *              | (each under its seq)                      |
 *              +-------------------------------------------+
 *   sock_off   | struct pn_stats_sock [nb_socks + 1]: a    |   control thread,
 *              | socket id each, then the echo service     |   every PN_STATS_CTL_MS
 *              | (each under its seq)                      |
 *              +-------------------------------------------+
 *   log_off    | struct pn_stats_log, lcore 0: head, then  |   lcore 0, as frames
 *              | log_size records of 128 bytes: a frame's  |   pass (RX and TX)
 *              | headers (at most PN_LOG_SNAP bytes), its  |
 *              | length, direction, time, and a tag        |
 *   + stride   | ... lcore 1 ...                           |   lcore 1
 *              +-------------------------------------------+   size
 *
 * Each lcore writes only its own block and log (cache lines no one else
 * writes), so the fast path shares none; readers write nothing.
 *
 * Consistency without locks: every block has a sequence count, odd while
 * its writer is inside.  A reader copies the block and keeps the copy only
 * if the count was even and unchanged (pn_seq_read).  A log record
 * carries its own tag: the ring position it was written for, 0 while being
 * written, so a reader knows whether the record it copied is the one it
 * asked for.
 *
 * Plain C11, no DPDK, nothing of pollnet's inside: pollnetctl includes
 * this without linking DPDK.
 */
#ifndef PN_ABI_STATS_H
#define PN_ABI_STATS_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "pn_counters.h"
#include "pn_versions.h"

#define PN_STATS_MAGIC "PNSTATS"
#define PN_STATS_DEFAULT_PATH "/run/pollnet/pollnet.stats"
#define PN_STATS_LOG_SIZE 4096      /* log records per lcore, power of 2 */
#define PN_STATS_LCORE_MS 1         /* lcore counters at most this old */
#define PN_STATS_CTL_MS 100         /* port, control, sockets */

struct pn_stats_port {
	uint64_t rx_packets, rx_bytes, rx_missed, rx_held, rx_errors, rx_nombuf;
	uint64_t tx_packets, tx_bytes, tx_errors;
	uint64_t drv_bursts, drv_empty_polls, drv_rx_tail_writes, drv_tx_tail_writes;
	uint64_t xdp_pollnet, xdp_passed;   /* pollnet's XDP program's verdicts */
	uint32_t has_stats;         /* the port gave counters */
	uint32_t has_drv;           /* drv_* are meaningful (our e1000) */
	uint32_t has_xdp;           /* xdp_* are (an xdp: port) */
	uint32_t link_up;
	uint32_t speed_mbps;
	uint32_t pad;
};

/* Why pollnet turned a connection or a socket away (control.refused.*, in
 * this order in pn_stats_ctl.refused_by). */
#define PN_REFUSALS(X) \
	X(CREDENTIALS,    "credentials")     /* neither root nor allowed */ \
	X(CLIENTS_FULL,   "clients_full")    /* every session slot taken (EUSERS) */ \
	X(USER_CLIENTS,   "user_clients")    /* control.max_clients_per_user (EDQUOT) */ \
	X(SOCKETS_FULL,   "sockets_full")    /* sockets.max, or all but sockets.reserved (ENFILE) */ \
	X(CLIENT_SOCKETS, "client_sockets")  /* sockets.max_per_client (EMFILE) */ \
	X(USER_SOCKETS,   "user_sockets")    /* sockets.max_per_user (EDQUOT) */

#define PN_ENUM(e, s) PN_REFUSED_##e,
enum pn_refusal { PN_REFUSALS(PN_ENUM) PN_REFUSED_MAX };
#undef PN_ENUM

#define PN_STATS_REFUSALS 8          /* room in refused_by: >= PN_REFUSED_MAX */
_Static_assert(PN_REFUSED_MAX <= PN_STATS_REFUSALS, "the segment has room for every reason");

/*
 * The clock readers turn TSC timestamps into wall-clock time with.  The TSC
 * rate DPDK reports is nominal (and under a hypervisor can be off by
 * parts per thousand), so the control thread anchors again at every
 * publication: a TSC value and the CLOCK_REALTIME read at that instant, and
 * the rate measured against CLOCK_MONOTONIC since pollnet started.  A
 * timestamp a second old is then off by its age times the rate's error.
 */
struct pn_stats_clock {
	uint64_t tsc;               /* the anchor: TSC ... */
	int64_t realtime_ns;        /* ... and CLOCK_REALTIME at that moment */
	double hz;                  /* TSC ticks per second, measured */
};

/* Wall-clock nanoseconds of TSC value tsc.  Saturated, never undefined: a
 * reader may hold a clock from a segment gone wrong (hz 0 or NaN, anchors
 * anywhere). */
static inline int64_t
pn_clock_ns(const struct pn_stats_clock *c, uint64_t tsc)
{
	const double d = ((double)tsc - (double)c->tsc) * 1e9 / c->hz;
	int64_t ns;

	if (d != d)
		return c->realtime_ns;
	if (d <= -9.2e18 || d >= 9.2e18)
		return d < 0 ? INT64_MIN : INT64_MAX;
	/* the anchor added as an integer: a double would round it to 256 ns */
	if (__builtin_add_overflow(c->realtime_ns, (int64_t)d, &ns))
		return d < 0 ? INT64_MIN : INT64_MAX;
	return ns;
}

struct pn_stats_ctl {
	uint64_t clients, sockets, refused;
	uint64_t refused_by[PN_STATS_REFUSALS];   /* by enum pn_refusal */
	uint64_t pool_size, pool_in_use;
	uint64_t hangups;           /* sockets closed when their program's last
	                             * descriptor for them closed */
	uint64_t captures;          /* started since pollnet started */
	uint64_t capture_active;
	uint64_t uptime_ns;         /* at publication */
};

/* A multicast group the interface joined (the control thread's, under the
 * header's seq): its filter, the sockets that joined it (the first
 * PN_STATS_GROUP_MEMBERS of them by id). */
#define PN_STATS_MAX_GROUPS    64
#define PN_STATS_GROUP_SRC     16
#define PN_STATS_GROUP_MEMBERS 16
struct pn_stats_group {
	uint32_t addr;              /* network order */
	uint8_t mode;               /* 1: INCLUDE the sources, 2: EXCLUDE them */
	uint8_t nsrc;
	uint16_t members;
	uint32_t src[PN_STATS_GROUP_SRC];
	uint32_t member_id[PN_STATS_GROUP_MEMBERS];
};

struct pn_stats_mcast {
	uint32_t nb_groups;
	uint32_t igmp_v2;           /* an IGMPv2 querier heard: v2 reports */
	uint64_t reports_sent;      /* the control thread's (state changes) */
	uint64_t reports_failed;    /* ... no mbuf, lcore 0's queue full */
	uint64_t filter_failed;     /* the port refused the group addresses */
	struct pn_stats_group groups[PN_STATS_MAX_GROUPS];
};

struct pn_stats_hdr {
	char magic[8];
	uint32_t version;
	uint32_t hdr_size;          /* sizeof(struct pn_stats_hdr) */
	uint64_t size;              /* the whole segment */
	uint32_t nb_lcores;
	uint32_t nb_socks;          /* entries in the socket table */
	uint32_t log_size;
	uint32_t stack_stats_size;  /* sizeof(struct pn_counters) */
	uint32_t nb_rx_drops, nb_tx_drops;
	int32_t pid;
	uint32_t ip;                /* network order */
	uint8_t mac[6];
	uint8_t prefix;
	uint8_t summaries;          /* the logs are being written */
	uint32_t pad0;
	uint64_t tsc_hz;            /* nominal (DPDK's); clock.hz is measured */
	uint64_t tsc0;              /* TSC when ... */
	int64_t realtime0_ns;       /* ... CLOCK_REALTIME read this */
	char port_spec[96];
	char driver[32];
	char ctl_path[108];
	char exc_iface[16];         /* the exception path's kernel interface, an
	                             * xdp: port's (port.has_xdp), or "" */
	uint32_t exc_udp;           /* UDP no pollnet socket holds: the kernel's */
	uint64_t lcore_off, sock_off, log_off, log_stride;
	/* written by the control thread */
	_Atomic uint32_t seq __attribute__((aligned(64)));
	uint32_t pad2;
	struct pn_stats_port port;
	struct pn_stats_ctl ctl;
	struct pn_stats_clock clock;
	struct pn_stats_mcast mcast;
	/* the exception path's device, when there is one (has_stats) */
	struct pn_stats_port exc_port;
};

struct pn_stats_lcore {
	_Atomic uint32_t seq;
	uint32_t lcore_id;          /* EAL's */
	uint64_t loops, rx_bursts, empty_polls, tx_bursts, arp_notify_drops;
	uint64_t log_written;       /* frames written to the log */
	uint64_t cap_frames, cap_skipped;
	uint64_t naps;              /* idle: slept between polls */
	uint64_t sleeps;            /* idle: slept on the interrupt and doorbell */
	uint64_t irq_wakes;         /* ... woken by the port's interrupt */
	uint64_t bell_wakes;        /* ... by the doorbell */
	uint64_t yields;            /* gave its CPU to a client waiting there */
	struct pn_counters st;
} __attribute__((aligned(64)));

enum pn_stats_sock_kind { PN_SOCK_FREE = 0, PN_SOCK_CLIENT, PN_SOCK_ECHO };

struct pn_stats_sock {
	_Atomic uint32_t seq;
	uint8_t kind;               /* enum pn_stats_sock_kind */
	uint8_t connected;
	uint16_t lcore;             /* owner (data-plane index) */
	uint8_t preload;            /* a program's under pollnet-run */
	uint8_t pad[3];
	int32_t pid;                /* the client; pollnet for the echo service */
	uint32_t id;
	uint32_t laddr, raddr;      /* network order; 0 = any */
	uint16_t lport, rport;      /* host order; 0 = unbound / any */
	uint64_t rx_pkts, rx_bytes, rx_drops;
	uint64_t tx_pkts, tx_bytes, tx_drops;
	uint32_t rx_queued, rx_size;  /* datagrams waiting for the client */
	uint32_t tx_queued, tx_size;  /* datagrams the client queued to send */
	uint64_t refused;           /* calls, options and flags refused to the
	                             * program (the client's count) */
	char last_refused[24];      /* the last one's name: printable ASCII
	                             * without quotes or backslashes */
} __attribute__((aligned(64)));

/*
 * One frame in an lcore's log: its headers (pkt_headers_len(), at most
 * PN_LOG_SNAP bytes; never the payload), not a parse of them (the lcore
 * copies, readers decode: decode/summary.h; and readers can run a tcpdump
 * filter over them).  128 bytes, two cache lines.
 */
#define PN_LOG_SNAP 112

/* A frame's direction, in a log record and a capture record. */
enum pn_dir { PN_DIR_RX = 0, PN_DIR_TX = 1 };

struct pn_log_rec {
	uint64_t ts;                /* TSC when the frame arrived or left */
	uint16_t len;               /* frame length */
	uint8_t caplen;             /* bytes in hdr[]: the headers, at most PN_LOG_SNAP */
	uint8_t dir;                /* enum pn_dir */
	uint32_t tag;               /* ring position tag, 0 while written */
	uint8_t hdr[PN_LOG_SNAP];
};

_Static_assert(sizeof(struct pn_log_rec) == 128, "two cache lines per record");

struct pn_stats_log {
	_Atomic uint64_t head;      /* records ever written */
	uint64_t pad[7];
	struct pn_log_rec rec[];    /* [log_size] */
};

/* ---- sequence counts ---- */

static inline void
pn_seq_begin(_Atomic uint32_t *seq)
{
	uint32_t s = atomic_load_explicit(seq, memory_order_relaxed);

	atomic_store_explicit(seq, s + 1, memory_order_relaxed);
	atomic_thread_fence(memory_order_release);
}

static inline void
pn_seq_end(_Atomic uint32_t *seq)
{
	uint32_t s = atomic_load_explicit(seq, memory_order_relaxed);

	atomic_store_explicit(seq, s + 1, memory_order_release);
}

/* Copy a block written under *seq; 0 on a consistent copy, -1 if the writer
 * kept it busy for every one of `tries` attempts. */
static inline int
pn_seq_read(const _Atomic uint32_t *seq, void *dst, const void *src, size_t len, int tries)
{
	while (tries-- > 0) {
		uint32_t s1 = atomic_load_explicit(seq, memory_order_acquire), s2;

		if (s1 & 1)
			continue;
		memcpy(dst, src, len);
		atomic_thread_fence(memory_order_acquire);
		s2 = atomic_load_explicit(seq, memory_order_relaxed);
		if (s1 == s2)
			return 0;
	}
	return -1;
}

/* Reader: a consistent copy of the clock (-1 if the writer kept it busy). */
static inline int
pn_stats_clock_read(const struct pn_stats_hdr *h, struct pn_stats_clock *c)
{
	struct pn_stats_hdr hc;

	if (pn_seq_read(&h->seq, &hc, h, sizeof(hc), 100000) < 0)
		return -1;
	*c = hc.clock;
	return 0;
}

/* ---- the packet logs ---- */

/* The tag of ring position pos: never 0 (0 marks a record being written). */
static inline uint32_t
pn_log_tag(uint64_t pos)
{
	return (uint32_t)(pos & 0x7fffffff) | 0x80000000u;
}

static inline struct pn_stats_log *
pn_stats_log(const struct pn_stats_hdr *h, uint32_t lcore)
{
	return (struct pn_stats_log *)((uint8_t *)h + h->log_off + lcore * h->log_stride);
}

static inline struct pn_stats_lcore *
pn_stats_lcores(const struct pn_stats_hdr *h)
{
	return (struct pn_stats_lcore *)((uint8_t *)h + h->lcore_off);
}

static inline struct pn_stats_sock *
pn_stats_socks(const struct pn_stats_hdr *h)
{
	return (struct pn_stats_sock *)((uint8_t *)h + h->sock_off);
}

/* Reader: copy the record for position pos; 0 if it is still that one. */
static inline int
pn_log_read(const struct pn_stats_log *l, uint32_t log_size, uint64_t pos,
	    struct pn_log_rec *out)
{
	const struct pn_log_rec *r = &l->rec[pos & (log_size - 1)];
	uint32_t t = __atomic_load_n(&r->tag, __ATOMIC_ACQUIRE);

	if (t != pn_log_tag(pos))
		return -1;
	memcpy(out, r, sizeof(*out));
	atomic_thread_fence(memory_order_acquire);
	if (__atomic_load_n(&r->tag, __ATOMIC_RELAXED) != t)
		return -1;
	/* readers decode caplen bytes of hdr: a record claiming more is not
	 * one pollnet wrote */
	return out->caplen <= PN_LOG_SNAP ? 0 : -1;
}

/* The segment's layout for these sizes; returns its total size. */
static inline uint64_t
pn_stats_layout(struct pn_stats_hdr *h, uint32_t nb_lcores, uint32_t nb_socks)
{
	uint64_t off = (sizeof(*h) + 4095) & ~4095ull;

	h->hdr_size = sizeof(*h);
	h->nb_lcores = nb_lcores;
	h->nb_socks = nb_socks;
	h->log_size = PN_STATS_LOG_SIZE;
	h->stack_stats_size = sizeof(struct pn_counters);
	h->nb_rx_drops = PN_RX_DROP_MAX;
	h->nb_tx_drops = PN_TX_DROP_MAX;
	h->lcore_off = off;
	off += ((uint64_t)nb_lcores * sizeof(struct pn_stats_lcore) + 4095) & ~4095ull;
	h->sock_off = off;
	off += ((uint64_t)nb_socks * sizeof(struct pn_stats_sock) + 4095) & ~4095ull;
	h->log_off = off;
	h->log_stride = (sizeof(struct pn_stats_log) +
			 (uint64_t)PN_STATS_LOG_SIZE * sizeof(struct pn_log_rec) + 4095) & ~4095ull;
	off += nb_lcores * h->log_stride;
	h->size = off;
	return off;
}

/* Reader: is this a segment this build understands, whole within size? */
static inline int
pn_stats_valid(const struct pn_stats_hdr *h, uint64_t size)
{
	struct pn_stats_hdr want;

	if (size < sizeof(*h) || memcmp(h->magic, PN_STATS_MAGIC, 8) != 0 ||
	    h->version != PN_STATS_VERSION || h->hdr_size != sizeof(*h) ||
	    h->nb_lcores == 0 || h->nb_lcores > 1024 || h->nb_socks > (1u << 20))
		return 0;
	pn_stats_layout(&want, h->nb_lcores, h->nb_socks);
	return want.size == h->size && h->size <= size && want.log_off == h->log_off &&
	       want.sock_off == h->sock_off && want.lcore_off == h->lcore_off &&
	       want.log_stride == h->log_stride && h->log_size == want.log_size &&
	       h->stack_stats_size == want.stack_stats_size &&
	       h->nb_rx_drops == want.nb_rx_drops && h->nb_tx_drops == want.nb_tx_drops;
}

#endif
