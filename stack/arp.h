/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ARP (RFC 826) for Ethernet/IPv4: the responder, the neighbour cache and
 * the resolver.
 *
 * The cache is per lcore and set-associative: ARP_BUCKETS sets of ARP_WAYS
 * entries, indexed by a hash of the IP.  An entry is INCOMPLETE while a
 * request is outstanding (packets wait in its bounded queue) and REACHABLE
 * once a reply or request from that address gave us its MAC; a REACHABLE
 * entry ages out after conf->arp_timeout_ms.  A full set evicts its oldest
 * REACHABLE entry, or failing that its oldest INCOMPLETE one.
 */
#ifndef PN_ARP_H
#define PN_ARP_H

#include <stdint.h>

#include <rte_ether.h>

struct rte_mbuf;
struct stack;

#define ARP_BUCKETS 64
#define ARP_WAYS 4
#define ARP_PENDING_MAX 8         /* packets waiting per unresolved address */
#define ARP_PENDING_TOTAL 128     /* ... and in all */

enum arp_state { ARP_FREE = 0, ARP_INCOMPLETE, ARP_REACHABLE };

struct arp_entry {
	rte_be32_t ip;
	uint8_t state;
	uint8_t requests;             /* requests sent while INCOMPLETE */
	uint8_t nq;
	struct rte_ether_addr mac;
	uint64_t updated_ms;          /* REACHABLE: when learned; else created */
	uint64_t due_ms;              /* REACHABLE: expiry; INCOMPLETE: next retry */
	struct rte_mbuf *q[ARP_PENDING_MAX];
};

struct arp_cache {
	uint32_t pending;             /* packets queued in all entries */
	uint64_t next_tick_ms;
	struct arp_entry e[ARP_BUCKETS][ARP_WAYS];
};

/* Cache lookup: the entry for ip in any state, or NULL. */
struct arp_entry *arp_cache_find(struct arp_cache *c, rte_be32_t ip);

/* The MAC for ip if REACHABLE and not expired at now_ms, else NULL. */
const struct rte_ether_addr *arp_cache_lookup(struct arp_cache *c,
					      rte_be32_t ip, uint64_t now_ms);

/*
 * Learn ip -> mac (refresh if present; create only if `create`), then send
 * any packets that were waiting for it.  Returns 1 if the cache changed.
 */
int arp_cache_insert(struct stack *s, rte_be32_t ip,
		     const struct rte_ether_addr *mac, int create);

/*
 * Fill m's Ethernet destination for next hop `nh` and queue it for TX, or
 * park m until nh answers (sending a request if none is outstanding).
 * m's data starts at a complete Ethernet header.  Consumes m.
 * Returns 0 when sent or queued, -ENOBUFS (or -EHOSTUNREACH) when dropped.
 */
int arp_resolve(struct stack *s, struct rte_mbuf *m, rte_be32_t nh);

/* Broadcast a request for target (or a gratuitous ARP: target == our IP). */
int arp_send_request(struct stack *s, rte_be32_t target);

/* Retries for INCOMPLETE entries and expiry of REACHABLE ones. */
void arp_cache_tick(struct stack *s);

/* Free every queued packet and forget everything. */
void arp_cache_flush(struct stack *s);

#endif
