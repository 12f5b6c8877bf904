/* SPDX-License-Identifier: BSD-3-Clause */
/* The stats segment's counters by name: one list for pollnetctl and DPDK
 * telemetry (the names pollnet's own report uses). */
#ifndef PN_STATNAMES_H
#define PN_STATNAMES_H

#include <stdint.h>

#include "statseg.h"

#define PN_CNT_DROP  1u    /* a drop reason (pollnetctl hides zeros) */
#define PN_CNT_LEVEL 2u    /* a level, not a running total: no rate */

typedef void pn_emit_fn(void *arg, const char *name, uint64_t v, unsigned flags);

/* A consistent copy of the header (hc) and of each lcore's block (lc, room
 * for h->nb_lcores), and the lcores' sum; -1 if a writer kept one busy. */
int pn_stats_snapshot(const struct pn_stats_hdr *h, struct pn_stats_hdr *hc,
		      struct pn_stats_lcore *lc, struct stack_stats *sum);

/* Every counter of a consistent copy: the header h, the lcores' blocks
 * lc[h->nb_lcores] and their sum. */
void pn_stats_emit(const struct pn_stats_hdr *h, const struct pn_stats_lcore *lc,
		   const struct stack_stats *sum, pn_emit_fn *emit, void *arg);

#endif
