/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef PN_LCORE_H
#define PN_LCORE_H

#include <stdatomic.h>
#include <stdint.h>

#include <rte_common.h>

#include "stack.h"

struct port;
struct pktlog;
struct rte_ring;

#define BURST 32

/* One data-plane lcore: it owns queue pair `queue` of the port, its stack
 * (ARP cache, counters) and the sockets whose owner it is. */
struct lcore_ctx {
	struct stack st;
	struct port *port;
	uint16_t queue;
	uint16_t idx;                  /* 0..nb_lcores-1: queue, RCU thread id */
	uint16_t nb_lcores;
	unsigned lcore_id;             /* EAL's */
	struct lcore_ctx *peers;       /* all lcores (for ARP notifications) */
	struct rte_ring *arp_notify;   /* MP/SC: mappings other lcores learned */
	struct pktlog *log;            /* --dump, else NULL */
	const atomic_bool *stop;
	/* loop counters, written by this lcore only */
	uint64_t loops;
	uint64_t rx_bursts;
	uint64_t empty_polls;
	uint64_t tx_bursts;
	uint64_t arp_notify_drops;
} __rte_cache_aligned;

/* rte_eal_remote_launch entry point; arg is a struct lcore_ctx. */
int lcore_main(void *arg);

#endif
