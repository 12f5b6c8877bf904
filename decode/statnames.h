/* SPDX-License-Identifier: BSD-3-Clause */
/* The stats segment's counters by name: one list for pollnetctl and DPDK
 * telemetry (the names pollnet's own report uses). */
#ifndef PN_STATNAMES_H
#define PN_STATNAMES_H

#include <stdint.h>

#include "abi/pn_stats.h"

#define PN_CNT_DROP  1u    /* a drop reason (pollnetctl hides zeros) */
#define PN_CNT_LEVEL 2u    /* a level, not a running total: no rate */
#define PN_CNT_LCORE 4u    /* from an lcore's block (published every ms; the
                            * rest by the control thread every 100 ms) */

typedef void pn_emit_fn(void *arg, const char *name, uint64_t v, unsigned flags);

/* A consistent copy of the header (hc) and of each lcore's block (lc, room
 * for h->nb_lcores), and the lcores' sum; -1 if a writer kept one busy. */
int pn_stats_snapshot(const struct pn_stats_hdr *h, struct pn_stats_hdr *hc,
		      struct pn_stats_lcore *lc, struct pn_counters *sum);

/* Every counter of a consistent copy: the header h, the lcores' blocks
 * lc[h->nb_lcores] and their sum. */
void pn_stats_emit(const struct pn_stats_hdr *h, const struct pn_stats_lcore *lc,
		   const struct pn_counters *sum, pn_emit_fn *emit, void *arg);

/*
 * One socket, as pollnetctl sockets --json and DPDK telemetry's
 * /pollnet/socket both give it (docs/ARCHITECTURE.md, Names):
 *   id            the socket's id (the echo service's is sockets.max)
 *   kind          "udp" (a client's) or "echo" (the built-in service)
 *   local_addr, local_port     pollnet's address; port 0: not bound yet
 *   connected     1 if it takes datagrams from one peer only, else 0
 *   remote_addr, remote_port   that peer ("0.0.0.0", 0 when not connected)
 *   pid           the client process (pollnet's own for the echo service)
 *   lcore         the data-plane lcore that owns it
 *   rx_datagrams, rx_bytes, rx_drops, tx_datagrams, tx_bytes, tx_drops
 *   rx_queued, rx_ring, tx_queued, tx_ring   datagrams waiting / ring sizes
 *                 (tx_* 0 for the echo service, which sends as it reads)
 *   preload       1 for a socket of a program under pollnet-run
 *   refused, last_refused      what pollnet-run refused that program: how
 *                 many calls, options and flags, and the last one's name
 * Strings through str(), numbers through num(), in this order.
 */
typedef void pn_field_str_fn(void *arg, const char *key, const char *v);
typedef void pn_field_num_fn(void *arg, const char *key, uint64_t v);

void pn_sock_fields(const struct pn_stats_sock *e, pn_field_str_fn *str,
		    pn_field_num_fn *num, void *arg);

static inline const char *
pn_sock_kind(const struct pn_stats_sock *e)
{
	return e->kind == PN_SOCK_ECHO ? "echo" : "udp";
}

#endif
