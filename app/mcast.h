/* SPDX-License-Identifier: BSD-3-Clause */
/* The interface's multicast groups, the control thread's (mcast.c). */
#ifndef PN_APP_MCAST_H
#define PN_APP_MCAST_H

#include <stdint.h>

#include "stack.h"

struct port;
struct rte_ring;

#define MC_MAX_MEMBERS 1024             /* (socket, group) pairs in all */

/* One socket's filter for one group (what its client library sends). */
struct mc_member {
	uint32_t sock_id;
	rte_be32_t group;
	uint8_t mode;                   /* MC_INCLUDE or MC_EXCLUDE */
	uint8_t nsrc;
	rte_be32_t src[MC_MAX_SOURCES];
};

struct mcast_retx {
	struct rte_mbuf *m;
	uint64_t due_ms;
};

/* A group whose change the routers are still to hear (IGMPv3): the state
 * they last heard (base), and the reports left to send (RFC 3376 5.1: the
 * robustness variable's 2); a change meanwhile is merged into them. */
struct mcast_pending {
	struct mc_group base;
	uint64_t due_ms;
	uint8_t left;
};

struct mcast {
	const struct stack_conf *conf;
	struct rte_mempool *pool;
	struct port *port;
	int bell;                       /* lcore 0's doorbell (or -1) */
	struct mc_table *t;             /* what the lcores read */
	struct rte_ring *tx;            /* reports for lcore 0 to send */
	unsigned ngroups, nmem, nretx;
	struct mc_group groups[MC_MAX_GROUPS];
	struct mc_member mem[MC_MAX_MEMBERS];
	struct mcast_retx retx[32];
	unsigned npend;
	struct mcast_pending pend[MC_MAX_GROUPS];
	uint64_t reports_sent, reports_failed, filter_failed;
};

/* The control thread's clock for the above (ms, from the TSC). */
uint64_t mcast_now_ms(void);
int mcast_init(struct mcast *mc, const struct stack_conf *conf, struct rte_mempool *pool,
	       struct port *port, int bell);
void mcast_free(struct mcast *mc);
/* Socket sock_id's filter for group g (mode MC_INCLUDE with no source: it
 * leaves): 0, -EINVAL (not a group, too many sources), -ENOBUFS (too many
 * groups or members). */
int mcast_set(struct mcast *mc, uint32_t sock_id, rte_be32_t g, uint8_t mode, uint8_t nsrc,
	      const rte_be32_t *src, uint64_t now_ms);
/* Every membership of a socket that is gone. */
void mcast_sock_gone(struct mcast *mc, uint32_t sock_id, uint64_t now_ms);
/* The reports due again. */
void mcast_tick(struct mcast *mc, uint64_t now_ms);
/* The groups and their members, for the stats segment. */
struct pn_stats_mcast;
void mcast_publish_stats(const struct mcast *mc, struct pn_stats_mcast *out);

#endif
