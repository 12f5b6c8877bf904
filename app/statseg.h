/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The stats segment: what pollnet publishes for pollnetctl, DPDK telemetry
 * and --dump.  A file (default /run/pollnet/pollnet.stats) the app maps
 * read-write and readers map read-only; the app holds an exclusive flock on
 * it while it runs, so a reader that can take a shared lock knows the file
 * is stale.
 *
 * Layout (offsets in the header):
 *
 *   header    identity (port, addresses, clock), then what the control
 *             thread publishes every PN_STATS_CTL_MS: port counters and
 *             control counters, under the header's seqcount
 *   lcores    one struct pn_stats_lcore per data-plane lcore, published by
 *             that lcore every PN_STATS_LCORE_MS (a copy of its counters:
 *             the fast path keeps writing its own cache lines)
 *   sockets   one struct pn_stats_sock per socket id (then the echo
 *             service), published by the control thread
 *   logs      per lcore, a ring of the last log_size frames' headers (at
 *             most PN_LOG_SNAP bytes) with length, direction and time (RX and TX),
 *             written by that lcore as frames pass; readers decode them
 *             (summary.h)
 *
 * Consistency without locks: every block has a sequence count, odd while
 * its writer is inside.  A reader copies the block and keeps the copy only
 * if the count was even and unchanged (pn_seq_read).  A log record
 * carries its own tag: the ring position it was written for, 0 while being
 * written, so a reader knows whether the record it copied is the one it
 * asked for.
 *
 * No DPDK here: pollnetctl includes this without linking DPDK.
 */
#ifndef PN_STATSEG_H
#define PN_STATSEG_H

#include <stdatomic.h>
#include <stdint.h>
#include <string.h>

#include "stats.h"
#include "summary.h"

#define PN_STATS_MAGIC "PNSTATS"
#define PN_STATS_VERSION 6
#define PN_STATS_DEFAULT_PATH "/run/pollnet/pollnet.stats"
#define PN_STATS_LOG_SIZE 4096      /* log records per lcore, power of 2 */
#define PN_STATS_LCORE_MS 1         /* lcore counters at most this old */
#define PN_STATS_CTL_MS 100         /* port, control, sockets */

struct pn_stats_port {
	uint64_t rx_packets, rx_bytes, rx_missed, rx_held, rx_errors, rx_nombuf;
	uint64_t tx_packets, tx_bytes, tx_errors;
	uint64_t drv_bursts, drv_empty_polls, drv_rx_tail_writes, drv_tx_tail_writes;
	uint32_t has_stats;         /* the port gave counters */
	uint32_t has_drv;           /* drv_* are meaningful (our e1000) */
	uint32_t link_up;
	uint32_t speed_mbps;
};

#define PN_STATS_REFUSALS 8          /* >= CTL_REFUSED_MAX (app/ctl.h) */

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
	uint64_t refused_by[PN_STATS_REFUSALS];   /* by enum ctl_refusal */
	uint64_t pool_size, pool_in_use;
	uint64_t hangups;           /* sockets closed when their program's last
	                             * descriptor for them closed */
	uint64_t captures;          /* started since pollnet started */
	uint64_t capture_active;
	uint64_t uptime_ns;         /* at publication */
};

struct pn_stats_hdr {
	char magic[8];
	uint32_t version;
	uint32_t hdr_size;          /* sizeof(struct pn_stats_hdr) */
	uint64_t size;              /* the whole segment */
	uint32_t nb_lcores;
	uint32_t nb_socks;          /* entries in the socket table */
	uint32_t log_size;
	uint32_t stack_stats_size;  /* sizeof(struct stack_stats) */
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
	uint32_t pad1;
	uint64_t lcore_off, sock_off, log_off, log_stride;
	/* written by the control thread */
	_Atomic uint32_t seq __attribute__((aligned(64)));
	uint32_t pad2;
	struct pn_stats_port port;
	struct pn_stats_ctl ctl;
	struct pn_stats_clock clock;
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
	struct stack_stats st;
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
 * copies, readers decode: stack/summary.h; and readers can run a tcpdump
 * filter over them).  128 bytes, two cache lines.
 */
#define PN_LOG_SNAP 112

struct pn_log_rec {
	uint64_t ts;                /* TSC when the frame arrived or left */
	uint16_t len;               /* frame length */
	uint8_t caplen;             /* bytes in hdr[]: the headers, at most PN_LOG_SNAP */
	uint8_t dir;                /* enum pkt_dir */
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

/* Writer (the lcore): the record for the next position, marked busy. */
static inline struct pn_log_rec *
pn_log_begin(struct pn_stats_log *l, uint32_t log_size)
{
	uint64_t h = atomic_load_explicit(&l->head, memory_order_relaxed);
	struct pn_log_rec *r = &l->rec[h & (log_size - 1)];

	__atomic_store_n(&r->tag, 0, __ATOMIC_RELAXED);
	atomic_thread_fence(memory_order_release);
	return r;
}

/* Writer: the record is complete; publish it. */
static inline void
pn_log_commit(struct pn_stats_log *l, uint32_t log_size)
{
	uint64_t h = atomic_load_explicit(&l->head, memory_order_relaxed);

	__atomic_store_n(&l->rec[h & (log_size - 1)].tag, pn_log_tag(h), __ATOMIC_RELEASE);
	atomic_store_explicit(&l->head, h + 1, memory_order_release);
}

/* n bytes, n <= PN_LOG_SNAP, in 16-byte moves (the last one overlapping
 * the one before), not one byte at a time: a variable-sized memcpy here
 * is a call or a `rep movsb`, either costlier than the header it copies. */
static inline void
pn_log_copy(uint8_t *dst, const uint8_t *src, uint32_t n)
{
	if (n >= 16) {
		for (uint32_t i = 0; i + 16 < n; i += 16)
			memcpy(dst + i, src + i, 16);
		memcpy(dst + n - 16, src + n - 16, 16);
	} else {
		for (uint32_t i = 0; i < n; i++)
			dst[i] = src[i];
	}
}

/* Writer: a frame's headers as the next record (the lcore's whole part in
 * the log: a copy, and only as much parsing as it takes to leave the
 * payload out; readers decode). */
static inline void
pn_log_put(struct pn_stats_log *l, uint32_t log_size, const void *frame, uint32_t len,
	   uint8_t dir, uint64_t ts)
{
	struct pn_log_rec *r = pn_log_begin(l, log_size);
	const uint32_t h = pkt_headers_len(frame, len);
	const uint32_t cap = h < PN_LOG_SNAP ? h : PN_LOG_SNAP;

	r->ts = ts;
	r->len = (uint16_t)(len < UINT16_MAX ? len : UINT16_MAX);
	r->caplen = (uint8_t)cap;
	r->dir = dir;
	pn_log_copy(r->hdr, frame, cap);
	pn_log_commit(l, log_size);
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
	h->stack_stats_size = sizeof(struct stack_stats);
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

/*
 * ---- capture regions ----
 *
 * `pollnetctl capture` asks over the control channel (PN_CTL_CAPTURE) and
 * receives a memfd: per lcore, a single-producer ring of fixed slots that
 * the lcore fills with the frames matching the capture's filter (RX as they
 * arrive, TX as they leave), and the reader empties.  Only while a capture
 * is open does an lcore copy frames; when the reader falls behind, frames
 * are skipped and counted, never waited for.  The reader owns the region's
 * tails; the lcore trusts nothing it reads back from the region.
 */
#define PN_CAP_MAGIC "PNCAPT1"
#define PN_CAP_SLOTS 1024            /* per lcore, power of 2 */
#define PN_CAP_SLOT_SIZE 2048
#define PN_CAP_DATA (PN_CAP_SLOT_SIZE - 16)

struct pn_cap_ring {
	_Atomic uint64_t head;          /* lcore: frames written */
	uint64_t pad0[7];
	_Atomic uint64_t tail;          /* reader: frames consumed */
	uint64_t pad1[7];
	_Atomic uint64_t skipped;       /* lcore: frames that found the ring full */
	uint64_t pad2[7];
};

struct pn_cap_rec {
	uint64_t ts;                    /* TSC */
	uint32_t len;                   /* on the wire */
	uint16_t caplen;                /* in data[] */
	uint8_t dir;                    /* enum pkt_dir */
	uint8_t pad;
	uint8_t data[PN_CAP_DATA];
};

struct pn_cap_hdr {
	char magic[8];
	uint32_t nb_lcores;
	uint32_t slots;
	uint32_t slot_size;
	uint32_t snaplen;
	uint64_t ring_off, slot_off, size;
};

static inline uint64_t
pn_cap_layout(struct pn_cap_hdr *h, uint32_t nb_lcores, uint32_t snaplen)
{
	memcpy(h->magic, PN_CAP_MAGIC, 8);
	h->nb_lcores = nb_lcores;
	h->slots = PN_CAP_SLOTS;
	h->slot_size = PN_CAP_SLOT_SIZE;
	h->snaplen = snaplen;
	h->ring_off = 4096;
	h->slot_off = (h->ring_off + nb_lcores * sizeof(struct pn_cap_ring) + 4095) & ~4095ull;
	h->size = h->slot_off + (uint64_t)nb_lcores * PN_CAP_SLOTS * PN_CAP_SLOT_SIZE;
	return h->size;
}

static inline struct pn_cap_ring *
pn_cap_ring(void *region, const struct pn_cap_hdr *h, uint32_t lcore)
{
	return (struct pn_cap_ring *)((uint8_t *)region + h->ring_off) + lcore;
}

static inline struct pn_cap_rec *
pn_cap_rec(void *region, const struct pn_cap_hdr *h, uint32_t lcore, uint64_t pos)
{
	return (struct pn_cap_rec *)((uint8_t *)region + h->slot_off +
		((uint64_t)lcore * PN_CAP_SLOTS + (pos & (PN_CAP_SLOTS - 1))) * PN_CAP_SLOT_SIZE);
}

#endif
