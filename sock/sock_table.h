/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The UDP socket table: which socket a datagram belongs to, and which lcore
 * owns each socket.
 *
 * A socket is keyed by its local port and, once connected, by the remote
 * address and port too; a connected socket wins over a bound one.
 *
 * Bound sockets sit in a table indexed by local port (one load to find);
 * connected ones in DPDK's rte_hash, keyed by the 4-tuple, which a lookup
 * consults only when its port has connected sockets.  So the common case,
 * a datagram for a bound socket, costs no hashing at all.
 *
 * Sockets that share a port (SO_REUSEADDR on all of them, the kernel's
 * rule) may be bound to it together: the port's bound sockets form a list,
 * newest first, and the head is the one a unicast datagram goes to, as the
 * kernel gives it to the socket bound last (and, once that one closes, to
 * the one bound before it; a socket that disconnects goes first, as the
 * kernel rehashes it).  A lookup still loads only the head; a walk of the
 * list finds every socket bound to the port.
 *
 * Concurrency: lcores look up and iterate without locks; one control thread
 * adds and removes sockets while they run.  The hash is in lock-free
 * reader/writer mode; the port table and the per-lcore "owned" lists are
 * atomic pointers.  Removal is made safe by RCU (rte_rcu_qsbr): every lcore
 * reports a quiescent state once per loop, outside any use of a socket.
 */
#ifndef PN_SOCK_TABLE_H
#define PN_SOCK_TABLE_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include <rte_byteorder.h>
#include <rte_rcu_qsbr.h>

#include "abi/pn_control.h"
#include "abi/pn_region.h"

struct rte_ring;

/* Network byte order; a bound socket has rip = 0 and rport = 0. */
struct sock_key {
	rte_be32_t rip;
	rte_be16_t lport;
	rte_be16_t rport;
};

enum sock_kind {
	SOCK_ECHO = 1,   /* built-in echo service, run by the owner lcore */
	SOCK_SHM,        /* a client's socket: a shared-memory region */
};

struct pn_sock {
	struct sock_key key;
	uint32_t id;
	uint16_t owner;             /* lcore index that delivers and sends */
	uint16_t kind;              /* enum sock_kind */
	struct rte_ring *rx;        /* single producer (owner) */
	atomic_bool closing;        /* set by control before removal */
	uint8_t reuse;              /* may share its port (SO_REUSEADDR); set
	                             * before the socket enters the table */
	int32_t hash_pos;           /* private to sock_table */
	uint32_t slot;              /* private to sock_table */
	struct pn_sock *_Atomic next_bound; /* bound to the same port before
	                             * it (sock_table_next_bound) */
	/* written by the owner lcore only; read by anyone */
	uint64_t rx_pkts, rx_bytes, rx_drops;
	uint64_t tx_pkts, tx_bytes, tx_drops;

	/* SOCK_SHM: the client's region, mapped by the app too.  geo and the
	 * two positions are the app's own copies: never read back from the
	 * region, which the client can write. */
	uint8_t *region;
	struct pn_shm_hdr geo;
	uint32_t rx_head;           /* next RX position we fill */
	uint32_t rx_limit;          /* rx_head may reach this before we must
	                             * look at the client's tail again */
	uint32_t tx_tail;           /* next TX position we send */
	uint8_t moved;              /* PN_WAKE_* this loop (owner only) */
	uint8_t touched;            /* on the owner's commit list */
	uint8_t wake_held;          /* an RX wake-up held back (moderation) */
	uint64_t wake_held_us;      /* since when */
	uint64_t woken_us;          /* its last RX wake-up (moderation) */
	int efd;                    /* our ends of its receive and send wake */
	int tx_efd;                 /* pairs (abi/pn_region.h) */
	uint8_t wake_bits;          /* PN_WAKE_* to send: its wake-ups this loop */
	uint16_t wake_idx;          /* where it is in the loop's wake list */
	uint32_t poke_seen;         /* the client's poke word, last seen */
	uint64_t shm_errors;        /* nonsense read from the region */
	uint32_t errors_posted;     /* ICMP errors posted to the client */
	uint64_t wakeups;           /* wake-ups sent */
	int32_t pid;                /* the client process */
	uint32_t uid;
};

#define SOCK_TABLE_MAX_LCORES 16

/* One per local port. */
struct sock_port {
	struct pn_sock *_Atomic bound;      /* the newest bound socket (wildcard
	                                     * remote), or NULL */
	_Atomic uint32_t connected;         /* connected sockets on this port */
};

struct sock_table {
	struct sock_port *ports;            /* [65536], by host-order port */
	struct rte_hash *hash;              /* connected sockets */
	struct rte_rcu_qsbr *rcu;
	uint16_t nb_lcores;
	uint32_t max_per_lcore;
	uint32_t nb_socks;                       /* control thread only */
	_Atomic uint32_t owned_hw[SOCK_TABLE_MAX_LCORES];
	struct pn_sock *_Atomic *owned[SOCK_TABLE_MAX_LCORES];
};

/* Control thread. */
struct sock_table *sock_table_create(const char *name, uint32_t max_socks,
				     uint16_t nb_lcores);
void sock_table_free(struct sock_table *t);
/* -EEXIST when the key is taken (a bound key: the port has bound sockets
 * and s or one of them does not share), -ENOSPC when full, -EINVAL on a
 * bad owner. */
int sock_table_add(struct sock_table *t, struct pn_sock *s);
/* When it returns, no lcore holds a reference to s: the caller may free it. */
int sock_table_remove(struct sock_table *t, struct pn_sock *s);
/* Move s, in the table, to key k on the same local port (connect,
 * disconnect, a new peer): s is found under k before it stops being found
 * under its old key, so no datagram for s finds no socket in between.
 * -EEXIST when k is taken (as for sock_table_add), -EINVAL for another port
 * or s not in the table; either way s stays where it was.  Moved to its
 * port's bound key, s goes first among the sockets bound there. */
int sock_table_rekey(struct sock_table *t, struct pn_sock *s, struct sock_key k);

/* Lcores. */
int sock_table_lcore_online(struct sock_table *t, uint16_t lcore);
void sock_table_lcore_offline(struct sock_table *t, uint16_t lcore);

/* Control thread: return once every online lcore has reported a quiescent
 * state (so none still holds a pointer it loaded before the call). */
void sock_table_sync(struct sock_table *t);

static inline void
sock_table_quiescent(struct sock_table *t, uint16_t lcore)
{
	rte_rcu_qsbr_quiescent(t->rcu, lcore);
}

static inline bool
sock_key_bound(const struct sock_key *k)
{
	return k->rip == 0 && k->rport == 0;
}

struct pn_sock *sock_table_lookup_connected(struct sock_table *t, rte_be16_t lport,
					    rte_be32_t rip, rte_be16_t rport);

/* The socket for a datagram to local port lport from rip:rport, or NULL. */
static inline struct pn_sock *
sock_table_lookup(struct sock_table *t, rte_be16_t lport, rte_be32_t rip,
		  rte_be16_t rport)
{
	const struct sock_port *sp = &t->ports[rte_be_to_cpu_16(lport)];

	if (atomic_load_explicit(&sp->connected, memory_order_acquire) != 0) {
		struct pn_sock *s = sock_table_lookup_connected(t, lport, rip, rport);

		if (s != NULL)
			return s;
	}
	return atomic_load_explicit(&sp->bound, memory_order_acquire);
}

/* The socket bound to s's port before s, or NULL: from a port's newest
 * bound socket (sock_port.bound), a walk lists every socket bound to the
 * port.  An lcore may walk, as it may look up, between quiescent states. */
static inline struct pn_sock *
sock_table_next_bound(const struct pn_sock *s)
{
	return atomic_load_explicit(&s->next_bound, memory_order_acquire);
}

/* Iterate the sockets an lcore owns: slots [0, n) may hold NULL. */
static inline uint32_t
sock_table_owned(struct sock_table *t, uint16_t lcore,
		 struct pn_sock *_Atomic **slots)
{
	*slots = t->owned[lcore];
	return atomic_load_explicit(&t->owned_hw[lcore], memory_order_acquire);
}

#endif
