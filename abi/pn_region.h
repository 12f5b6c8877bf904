/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ABI: a socket's shared-memory region, and the session's state page,
 * between pollnet (the app) and libpollnet (its clients).  Plain C11, no
 * DPDK, nothing of either side's inside (abi/pn_versions.h has every
 * version number).
 *
 * One region per socket: a memfd the app creates, sizes, seals against
 * growing and shrinking, and passes to exactly one client process.  Every
 * place in it is an offset from its start, never a pointer.
 *
 *   offset                                                   written by
 *   0      +------------------------------------------+
 *          | struct pn_shm_hdr: magic, version,       |      app, once, before
 *          | geometry (sizes and offsets)             |      the fd is passed
 *   64     +------------------------------------------+
 *          | rx_head   next RX position to fill       |      app
 *   128    | rx_tail   next RX position to read       |      client
 *   192    | tx_head   next TX position to fill,      |      client
 *          | poke      wake-ups the client asks for   |      client
 *   256    | tx_tail   next TX position to send       |      app
 *   320    | wake      PN_WAKE_* the client waits on  |      client sets, app clears
 *   384    | wakes     wake-ups sent so far           |      app
 *   448    | errors    ICMP errors posted (a count),  |      app
 *          |           and the last one's errno       |
 *   512    | client    what the client refused its    |      client
 *          |           program (pollnet-run), for     |
 *          |           pollnetctl sockets             |
 *   576    | assoc     the socket's local port and    |      app
 *          |           connected peer                 |
 *   640    | errq      the last PN_ERRQ_SIZE errors,   |      app
 *          |           256 bytes each                 |
 *   2688   +------------------------------------------+
 *          | rx_desc[rx_size]    struct pn_desc       |      app
 *          +------------------------------------------+
 *          | tx_desc[tx_size]    struct pn_desc       |      client
 *          +------------------------------------------+
 *          | rx slots [rx_size] x slot_size bytes     |      app
 *          +------------------------------------------+
 *          | tx slots [tx_size] x slot_size bytes     |      client
 *          +------------------------------------------+  region_size
 *
 * Rings.  Each direction is a single-producer/single-consumer ring of
 * free-running 32-bit positions; position p uses descriptor and slot
 * p & (size - 1), so no slot index ever crosses the boundary.  The producer
 * fills descriptor and slot, then stores its head with release; the consumer
 * loads the head with acquire, reads, then stores its tail with release.
 * A ring is full when head - tail == size.
 *
 * Large datagrams.  A datagram longer than a slot takes as many positions
 * as it needs (pn_desc_slots: 32 for UDP's 65,507 bytes), its bytes in
 * their slots one after the other: one contiguous piece of the region, so
 * that reading one, or lending it (pollnet_recv_borrow), is one memcpy or
 * one pointer.  Its first descriptor says everything; the others are not
 * read.  A datagram never wraps: where it would, the producer first writes
 * a PN_DESC_PAD descriptor, which stands for every position to the ring's
 * end, and the datagram starts at slot 0; both are published together.
 * So a ring of 2n positions always takes a datagram of n slots, in time.
 *
 *   positions  ... | d:1 slot | d: 3 slots            | PAD ..... end ||
 *   slots      ... | aaaa     | bbbbbbbbbbbbbbbbbbbbb | (unused)      ||
 *
 * Trust.  The app reads from the region only what the client writes (rx_tail,
 * tx_head and poke, wake and its cpu, tx descriptors and slots, and the client line,
 * which it only shows) and checks every value: positions must stay within
 * size of its own, a datagram's slots within what the client published and
 * short of the ring's end, lengths within PN_MAX_DATAGRAM; a poke costs at
 * most one message per loop.  It keeps its own copies of the geometry, of the
 * positions and of the association it writes, and never reads those back.
 * A client that scribbles over its region can only lose its own datagrams.
 *
 * Errors.  An ICMP error for a connected socket (a port unreachable), or
 * any ICMP error about a datagram of a socket whose client set recverr
 * (IP_RECVERR), is posted: the app writes its errno and, in errq's entry
 * count % PN_ERRQ_SIZE, what the error said (type, code, the offender, the
 * datagram's destination and the payload the error quoted), then
 * increments the count (release).  The client keeps the count it last saw;
 * when the region's differs, its next call returns that errno once (as a
 * UDP socket's pending error), and with IP_RECVERR recvmsg(MSG_ERRQUEUE)
 * reads the entries (an entry whose seq is not the one expected was
 * overwritten: lost, as a full error queue loses them).
 *
 * Waking.  Each socket has two wake pairs (SOCK_SEQPACKET socket pairs; the
 * app keeps one end of each, non-blocking and shut for reading, and passes
 * the other): one for receiving, one for sending, so that a thread waiting
 * to send never takes the wake-up of one waiting to receive.  A client that
 * finds nothing to do spins briefly, then sets a PN_WAKE_* bit in `wake`,
 * checks the ring again, and sleeps on that direction's end.  The app,
 * after producing RX or consuming TX, clears the bit it sees set and sends
 * an 8-byte message on that direction's pair; with no bit set it makes no
 * system call.  A message the kernel had no memory for, the app sends again
 * the next loop, the bit set back: a wake-up is never lost.  Messages only say "look again": a waiter consumes them
 * when it has found nothing, before it sets its bit and looks once more.
 * A pollnet-run socket (PN_SOCK_PRELOAD) lives as long as the client's
 * end of its receive pair, the program's descriptor: when the last
 * descriptor for it closes (in every process that has one), the app's end
 * hangs up and the app closes the socket.
 *
 * Sharing a core.  Each lcore writes 1 + the CPU it runs on in its line of
 * the session's state page (below).  A client that waits first writes, in
 * `wake.cpu`, 1 + the CPU its thread runs on, when that differs from what
 * is there; if that is its socket's lcore's CPU it does not spin but
 * sleeps at once (its spin would only keep the lcore from the CPU).  An
 * lcore that moves a socket whose waiter is on its own CPU gives the CPU
 * away (sched_yield) at the end of the loop, and for 1 ms after between
 * polls that found nothing: a client that shares the lcore's core then
 * runs as soon as it has something to do, not when the scheduler takes the
 * core from a poll loop that never sleeps.
 *
 * Poking.  One message wakes one thread blocked in a receive on the end
 * (the kernel wakes one such waiter per message).  A waiter that takes a
 * datagram and leaves more, while others sleep, asks the app for one more
 * message by adding 1 to poke's low half (the receive pair) or its high
 * half (the send pair); the app, which reads the tx_head line every loop,
 * sends it.
 *
 * Association.  The app writes the socket's local port and connected peer
 * (pn_assoc_*) into `assoc` before it answers a BIND or CONNECT, so that
 * every process sharing the socket (after fork()) reads the same.
 */
#ifndef PN_ABI_REGION_H
#define PN_ABI_REGION_H

#include <stdatomic.h>
#include <stdint.h>

#include "pn_versions.h"

#define PN_SHM_MAGIC      0x504e5348u   /* "PNSH" */
#define PN_SHM_SLOT_SIZE  2048u
#define PN_MAX_DATAGRAM   65507u        /* UDP's largest payload (IPv4) */
#define PN_SHM_MAX_RING   4096u

#define PN_WAKE_RX 1u                   /* wake me when rx_head moves */
#define PN_WAKE_TX 2u                   /* wake me when tx_tail moves */

struct pn_shm_hdr {
	uint32_t magic;
	uint16_t version;
	uint16_t hdr_size;              /* sizeof(struct pn_shm_hdr) */
	uint32_t region_size;
	uint32_t rx_size;               /* entries, a power of 2 */
	uint32_t tx_size;
	uint32_t slot_size;
	uint32_t rx_desc_off;
	uint32_t tx_desc_off;
	uint32_t rx_slot_off;
	uint32_t tx_slot_off;
	uint32_t sock_id;
	uint32_t lcore;                 /* the lcore that serves the socket: its
	                                 * doze word in the session's state page */
	uint32_t reserved[4];
};

/* One index per cache line: the two sides never share a line they write. */
struct pn_shm_idx {
	_Atomic uint32_t v;
	uint8_t pad[60];
};

/* The tx_head line: the client's, read by the app every loop. */
struct pn_shm_txh {
	_Atomic uint32_t v;             /* tx_head */
	_Atomic uint32_t poke;          /* low 16 bits: receive, high: send */
	uint8_t pad[56];
};

#define PN_POKE_RX 1u
#define PN_POKE_TX 0x10000u

/* The app's: lport | rport << 16 | raddr << 32, each in network order. */
struct pn_shm_assoc {
	_Atomic uint64_t v;
	uint8_t pad[56];
};

static inline uint64_t
pn_assoc_pack(uint16_t lport, uint32_t raddr, uint16_t rport)
{
	return (uint64_t)lport | (uint64_t)rport << 16 | (uint64_t)raddr << 32;
}

static inline uint16_t
pn_assoc_lport(uint64_t v)
{
	return (uint16_t)v;
}

static inline uint16_t
pn_assoc_rport(uint64_t v)
{
	return (uint16_t)(v >> 16);
}

static inline uint32_t
pn_assoc_raddr(uint64_t v)
{
	return (uint32_t)(v >> 32);
}

/* The client's wake-up wishes (PN_WAKE_* bits: the client sets them, the
 * app clears them) and where it waits (Sharing a core, above). */
struct pn_shm_wake {
	_Atomic uint32_t v;
	_Atomic uint32_t cpu;           /* client: 1 + its waiting thread's CPU */
	uint8_t pad[56];
};

struct pn_shm_err {
	_Atomic uint32_t count;         /* errors posted so far */
	_Atomic int32_t err;            /* the last one's errno (positive) */
	uint8_t pad[56];
};

/* Written by the client, only shown by pollnet (pollnetctl sockets): the
 * calls, options and flags a preloaded program asked for and was refused
 * (ENOPROTOOPT, EOPNOTSUPP), and the last one's name. */
struct pn_shm_client {
	_Atomic uint64_t refused;
	char last_refused[24];          /* NUL-terminated if shorter */
	_Atomic uint32_t recverr;       /* IP_RECVERR: any ICMP error wanted */
	uint8_t pad[28];
};

/* An ICMP error posted to a socket (Errors, above). */
#define PN_ERRQ_SIZE 8u
#define PN_ERRQ_DATA 228u               /* quoted payload kept */
struct pn_shm_errent {
	_Atomic uint32_t seq;           /* the count it was posted as; 0 while
	                                 * the app rewrites the entry */
	int32_t err;                    /* errno */
	uint8_t type, code;             /* ICMP's */
	uint16_t len;                   /* payload bytes quoted (in data) */
	uint32_t info;                  /* frag needed: the next hop's MTU */
	uint32_t offender;              /* who sent the error (network order) */
	uint32_t dst;                   /* the datagram's destination ... */
	uint16_t dport;                 /* ... and port (network order) */
	uint16_t pad;
	uint8_t data[PN_ERRQ_DATA];
};

struct pn_shm_ctl {
	struct pn_shm_idx rx_head;      /* app */
	struct pn_shm_idx rx_tail;      /* client */
	struct pn_shm_txh tx_head;      /* client */
	struct pn_shm_idx tx_tail;      /* app */
	struct pn_shm_wake wake;        /* client sets bits, app clears them */
	struct pn_shm_idx wakes;        /* app */
	struct pn_shm_err errors;       /* app */
	struct pn_shm_client client;    /* client */
	struct pn_shm_assoc assoc;      /* app */
	struct pn_shm_errent errq[PN_ERRQ_SIZE];  /* app */
};

#define PN_SHM_CTL_OFF 64u

/* A datagram, network byte order.  What the IP header said (RX) or is to
 * say (TX) beside the payload: a receiver's IP_PKTINFO, IP_TOS, IP_TTL and
 * SO_TIMESTAMP, a sender's IP_TOS, IP_TTL and IP_PKTINFO. */
struct pn_desc {
	uint32_t len;                   /* payload bytes in the slot */
	uint32_t addr;                  /* RX: the source; TX: the destination */
	uint16_t port;                  /* ... its port */
	uint16_t flags;                 /* PN_DESC_* */
	uint32_t local;                 /* RX: the address it was sent to; TX:
	                                 * the source to send from (0: ours, or
	                                 * 127.0.0.1 to a loopback address) */
	uint8_t tos;                    /* the IP TOS byte, ECN bits included */
	uint8_t ttl;                    /* RX: as received; TX: to send (0: 64;
	                                 * to a group, 0 is 0) */
	uint16_t reserved;
	uint32_t reserved2;
	uint64_t stamp;                 /* RX: the lcore's TSC when it took the
	                                 * datagram (the state page's clock turns
	                                 * it into wall-clock time) */
};

#define PN_DESC_TRUNC 1u                /* RX: the datagram did not fit */
#define PN_DESC_PAD   2u                /* no datagram: the positions from
                                         * here to the ring's end are unused */
#define PN_DESC_NODF  4u                /* TX: DF never set (IP_PMTUDISC_DONT,
                                         * _INTERFACE, _OMIT); without it DF
                                         * is set on a datagram that fits
                                         * the MTU and one that does not goes
                                         * in fragments (Linux's _WANT) */
#define PN_DESC_NOLOOP 8u               /* TX: to a group, no copy to this
                                         * host's members (IP_MULTICAST_LOOP 0) */
#define PN_DESC_LENT  0x8000u           /* RX: the client's own mark (a
                                         * datagram it lends its program;
                                         * pollnet never reads it back) */

/* The ring positions a datagram of len bytes takes (Large datagrams). */
static inline uint32_t
pn_desc_slots(uint32_t len, uint32_t slot_size)
{
	return len <= slot_size ? 1u : (len + slot_size - 1) / slot_size;
}

/*
 * The session's state page: one per pollnet, passed (sealed: read-only to
 * the client) with the reply to PN_CTL_HELLO, together with the doorbell,
 * an eventfd.  All of it is the app's.
 *
 *   offset                                                   written by
 *   0      +------------------------------------------+
 *          | magic, version, nb_lcores, flags         |      app, once
 *   64     | doze[0]   lcore 0 sleeps on its interrupt, |      lcore 0
 *          |           its CPU                        |
 *   128    | doze[1]   ...                            |      lcore 1
 *          | ...                                      |
 *   1088   | iface     pollnet's interface: name,     |      app, once
 *          |           index, addresses, MTU, MAC     |
 *   1152   | clock     TSC to wall-clock anchors      |      app (control
 *          |           (a sequence lock)              |      thread)
 *          +------------------------------------------+      4096
 *
 * Doorbell.  An lcore that sleeps on its port's receive interrupt
 * (dataplane.idle = interrupt) would not see a client's TX ring move.  So
 * it first sets its doze word, then looks at its sockets' TX rings once
 * more, then sleeps on the interrupt and the doorbell; awake, it clears the
 * word.  A client, after publishing tx_head, loads the doze word of its
 * socket's lcore (the header's lcore) and, if set, writes the doorbell.
 * Both sides put a full (seq_cst) fence between their store and their
 * load: one of them sees the other's.  With the word clear (a polling
 * lcore) sending costs the fence and a load, no system call; without
 * PN_STATE_DOZE in the page's flags (no lcore ever dozes) not even those.
 */
/*
 * Interface.  pollnet's one interface, as a program's interface ioctls
 * (SIOCGIF*) and IP_PKTINFO see it: its name (the kernel's interface
 * pollnet's port sits on when there is one, net_af_packet's iface, else
 * "pn0") and the kernel's index for that name (0 when the kernel has no
 * such interface).  Datagrams between local sockets are the loopback's
 * (index 1), as on the kernel.
 *
 * Clock.  A receive descriptor's stamp is the lcore's TSC.  The control
 * thread anchors a TSC value to CLOCK_REALTIME every time it publishes its
 * statistics, with the rate it measured (as the stats segment's clock,
 * abi/pn_stats.h); a reader copies the three between two equal, even reads
 * of seq.
 */
struct pn_shm_iface {
	char name[16];                  /* IFNAMSIZ, NUL-terminated */
	uint32_t index;
	uint32_t addr;                  /* network order */
	uint32_t netmask;
	uint32_t gateway;               /* 0: no route off the link */
	uint16_t mtu;                   /* the IP MTU */
	uint8_t mac[6];
	uint8_t pad[24];
};

struct pn_shm_clock {
	_Atomic uint32_t seq;           /* odd while the app writes */
	uint32_t pad0;
	_Atomic uint64_t tsc;           /* the anchor: a TSC value ... */
	_Atomic int64_t realtime_ns;    /* ... and CLOCK_REALTIME then */
	_Atomic uint64_t hz_bits;       /* TSC ticks per second, a double's bits */
	uint8_t pad[32];
};

#define PN_MAX_LCORES     16
#define PN_STATE_MAGIC    0x504e5354u   /* "PNST" */
#define PN_STATE_SIZE     4096u

/* An lcore's line: its doze word (Doorbell), and where it runs (Sharing a
 * core, in the region's protocol above). */
struct pn_shm_lcore {
	_Atomic uint32_t v;             /* nonzero while it sleeps on its interrupt */
	_Atomic uint32_t cpu;           /* 1 + the CPU it runs on; 0: not known */
	uint8_t pad[56];
};

struct pn_shm_state {
	uint32_t magic;
	uint16_t version;               /* PN_SHM_VERSION */
	uint16_t nb_lcores;
	uint32_t flags;                 /* PN_STATE_* */
	uint8_t pad[52];
	struct pn_shm_lcore doze[PN_MAX_LCORES];        /* lcore i's */
	struct pn_shm_iface iface;
	struct pn_shm_clock clock;
};

#define PN_STATE_DOZE     1u            /* lcores may doze (idle = interrupt):
                                         * else no client need look */

_Static_assert(sizeof(struct pn_shm_state) <= PN_STATE_SIZE, "state fits its page");
_Static_assert(sizeof(struct pn_shm_lcore) == 64 && sizeof(struct pn_shm_wake) == 64,
	       "an lcore's line, the wake line");
_Static_assert(sizeof(struct pn_shm_iface) == 64 && sizeof(struct pn_shm_clock) == 64,
	       "one line each");

_Static_assert(sizeof(struct pn_shm_hdr) <= PN_SHM_CTL_OFF, "header fits its line");
_Static_assert(sizeof(struct pn_shm_errent) == 256, "an error entry is four lines");
_Static_assert(sizeof(struct pn_shm_ctl) == 576 + PN_ERRQ_SIZE * 256, "nine lines, the errors");
_Static_assert(sizeof(struct pn_desc) == 32, "descriptor size");

/* The clock's writer (one: the app's control thread). */
static inline void
pn_shm_clock_write(struct pn_shm_clock *c, uint64_t tsc, int64_t realtime_ns, double hz)
{
	uint32_t seq = atomic_load_explicit(&c->seq, memory_order_relaxed);
	uint64_t bits;

	__builtin_memcpy(&bits, &hz, sizeof(bits));
	atomic_store_explicit(&c->seq, seq + 1, memory_order_relaxed);
	atomic_thread_fence(memory_order_release);
	atomic_store_explicit(&c->tsc, tsc, memory_order_relaxed);
	atomic_store_explicit(&c->realtime_ns, realtime_ns, memory_order_relaxed);
	atomic_store_explicit(&c->hz_bits, bits, memory_order_relaxed);
	atomic_store_explicit(&c->seq, seq + 2, memory_order_release);
}

/* A reader's copy: 0, or -1 (never written, or written through every try). */
static inline int
pn_shm_clock_read(const struct pn_shm_clock *c, uint64_t *tsc, int64_t *realtime_ns,
		  double *hz)
{
	for (int i = 0; i < 100; i++) {
		uint32_t seq = atomic_load_explicit(&c->seq, memory_order_acquire);
		uint64_t bits;

		if (seq == 0)
			return -1;
		if (seq & 1)
			continue;
		*tsc = atomic_load_explicit(&c->tsc, memory_order_relaxed);
		*realtime_ns = atomic_load_explicit(&c->realtime_ns, memory_order_relaxed);
		bits = atomic_load_explicit(&c->hz_bits, memory_order_relaxed);
		atomic_thread_fence(memory_order_acquire);
		if (atomic_load_explicit(&c->seq, memory_order_relaxed) == seq) {
			__builtin_memcpy(hz, &bits, sizeof(*hz));
			return 0;
		}
	}
	return -1;
}

/* The geometry for ring sizes rx and tx (powers of 2). */
static inline void
pn_shm_layout(struct pn_shm_hdr *h, uint32_t rx, uint32_t tx, uint32_t sock_id,
	      uint32_t lcore)
{
	uint32_t off = PN_SHM_CTL_OFF + (uint32_t)sizeof(struct pn_shm_ctl);

	h->magic = PN_SHM_MAGIC;
	h->version = PN_SHM_VERSION;
	h->hdr_size = (uint16_t)sizeof(*h);
	h->rx_size = rx;
	h->tx_size = tx;
	h->slot_size = PN_SHM_SLOT_SIZE;
	h->sock_id = sock_id;
	h->lcore = lcore;
	h->rx_desc_off = off;
	off += rx * (uint32_t)sizeof(struct pn_desc);
	h->tx_desc_off = off;
	off += tx * (uint32_t)sizeof(struct pn_desc);
	off = (off + 4095u) & ~4095u;
	h->rx_slot_off = off;
	off += rx * PN_SHM_SLOT_SIZE;
	h->tx_slot_off = off;
	off += tx * PN_SHM_SLOT_SIZE;
	h->region_size = off;
}

/* Is h a geometry this code can use, for a region of `size` bytes? */
static inline int
pn_shm_layout_ok(const struct pn_shm_hdr *h, uint64_t size)
{
	struct pn_shm_hdr want;

	if (h->magic != PN_SHM_MAGIC || h->version != PN_SHM_VERSION ||
	    h->hdr_size != sizeof(*h) || h->slot_size != PN_SHM_SLOT_SIZE ||
	    h->rx_size == 0 || h->tx_size == 0 ||
	    h->rx_size > PN_SHM_MAX_RING || h->tx_size > PN_SHM_MAX_RING ||
	    (h->rx_size & (h->rx_size - 1)) || (h->tx_size & (h->tx_size - 1)))
		return 0;
	if (h->lcore >= PN_MAX_LCORES)
		return 0;
	pn_shm_layout(&want, h->rx_size, h->tx_size, h->sock_id, h->lcore);
	return want.region_size == h->region_size && h->region_size <= size &&
	       want.rx_desc_off == h->rx_desc_off && want.tx_desc_off == h->tx_desc_off &&
	       want.rx_slot_off == h->rx_slot_off && want.tx_slot_off == h->tx_slot_off;
}

static inline struct pn_shm_ctl *
pn_shm_ctl(void *region)
{
	return (struct pn_shm_ctl *)((uint8_t *)region + PN_SHM_CTL_OFF);
}

static inline struct pn_desc *
pn_shm_desc(void *region, uint32_t off, uint32_t size, uint32_t pos)
{
	return (struct pn_desc *)((uint8_t *)region + off) + (pos & (size - 1));
}

static inline uint8_t *
pn_shm_slot(void *region, uint32_t off, uint32_t size, uint32_t pos)
{
	return (uint8_t *)region + off + (size_t)(pos & (size - 1)) * PN_SHM_SLOT_SIZE;
}

/*
 * Ring positions.  A producer owns its head (a private copy it publishes), a
 * consumer its tail.  Both helpers return the raw distance: a value above
 * the ring size means the other side wrote nonsense, and the caller treats
 * the ring as unusable for now (and counts it).
 */

/* Entries ready for the consumer at private tail `tail`. */
static inline uint32_t
pn_ring_ready(const _Atomic uint32_t *head, uint32_t tail)
{
	return atomic_load_explicit(head, memory_order_acquire) - tail;
}

/* Entries in use, seen by the producer at private head `head`. */
static inline uint32_t
pn_ring_used(uint32_t head, const _Atomic uint32_t *tail)
{
	return head - atomic_load_explicit(tail, memory_order_acquire);
}

/* Publish a private position: what it covers becomes visible. */
static inline void
pn_ring_publish(_Atomic uint32_t *idx, uint32_t v)
{
	atomic_store_explicit(idx, v, memory_order_release);
}

#endif
