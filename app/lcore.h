/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef PN_LCORE_H
#define PN_LCORE_H

#include <stdatomic.h>
#include <stdint.h>

#include <rte_common.h>
#include <rte_epoll.h>

#include "stack.h"

struct port;
struct capture;
struct pn_stats_lcore;
struct pn_stats_log;
struct rte_ring;
struct pn_shm_idx;

#define BURST 32

/* One data-plane lcore: it owns queue pair `queue` of the port, its stack
 * (ARP cache, counters) and the sockets whose owner it is. */
struct lcore_ctx {
	struct stack st;
	struct port *port;
	struct port *exc;              /* the exception path's, or NULL: our
	                                * queue there is `queue` too */
	uint64_t exc_next;             /* the TSC of its next receive poll */
	uint16_t queue;
	uint16_t idx;                  /* 0..nb_lcores-1: queue, RCU thread id */
	uint16_t nb_lcores;
	unsigned lcore_id;             /* EAL's */
	struct lcore_ctx *peers;       /* all lcores (for ARP notifications) */
	struct rte_ring *arp_notify;   /* MP/SC: mappings other lcores learned,
	                                * or the kernel (neigh), or NULL */
	struct neigh *neigh;           /* the kernel resolves (xdp:), or NULL */
	struct kernel_local *kl;       /* the kernel's programs share our
	                                * address (kernel_local.h), or NULL */
	struct rte_ring *kl_in;        /* lcore 0: their datagrams for us */
	struct rte_ring *ctl_tx;       /* lcore 0: frames the control thread
	                                * sends (IGMP reports), else NULL */
	struct pn_stats_log *log;      /* frame log ring, or NULL (turned off) */
	struct pn_stats_lcore *pub;    /* where our counters are published */
	struct capture *_Atomic cap;   /* an open capture, or NULL */
	const atomic_bool *stop;
	/* dataplane.idle = interrupt: the pollnet's doorbell (an eventfd the
	 * clients and the other lcores write), our doze word in the state
	 * page, and every lcore's (to ring for a peer we steered to) */
	int bell;
	struct pn_shm_lcore *doze;
	struct pn_shm_lcore *doze_all;
	struct rte_epoll_event bell_ev;
	int intr;                      /* the port's interrupt is ours to sleep on */
	int dozers;                    /* lcores may doze (idle = interrupt) */
	/* loop counters, written by this lcore only */
	uint32_t sock_first;           /* the socket lcore_sockets serves first */
	uint64_t loops;
	uint64_t rx_bursts;
	uint64_t empty_polls;
	uint64_t naps;                 /* idle: slept between polls */
	uint64_t sleeps;               /* idle: slept on the interrupt and doorbell */
	uint64_t yields;               /* gave the CPU to a client waiting there */
	uint64_t irq_wakes;            /* ... woken by the port's interrupt */
	uint64_t bell_wakes;           /* ... by the doorbell */
	uint64_t bell_fails;           /* doorbell writes refused (full) */
	uint64_t tx_bursts;
	uint64_t arp_notify_drops;
	uint64_t log_written;
	uint64_t cap_frames, cap_skipped;
} __rte_cache_aligned;

/* A mapping for the ARP cache of every lcore of lcs[0..n) but skip (-1:
 * none), through their arp_notify rings: how many rings were full (the
 * caller counts them: each lcore's counters are its own). */
unsigned lcore_arp_tell(struct lcore_ctx *lcs, uint16_t n, int skip, rte_be32_t ip,
			const struct rte_ether_addr *mac);

/* rte_eal_remote_launch entry point; arg is a struct lcore_ctx. */
int lcore_main(void *arg);

#endif
