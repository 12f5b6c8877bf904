/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * A single-producer/single-consumer ring of packet summaries: an lcore
 * writes records (no formatting, no syscall), the control thread reads and
 * prints them.  When the reader falls behind, records are skipped and
 * counted, never waited for.
 */
#ifndef PN_PKTLOG_H
#define PN_PKTLOG_H

#include <stdatomic.h>
#include <stdint.h>

#include <rte_common.h>

#include "summary.h"

#define PKTLOG_SIZE 4096   /* records, power of 2 */

struct pktlog {
	_Atomic uint64_t head __rte_cache_aligned;  /* written by the lcore */
	uint64_t skipped;                           /* written by the lcore */
	_Atomic uint64_t tail __rte_cache_aligned;  /* written by the reader */
	struct pkt_summary rec[PKTLOG_SIZE] __rte_cache_aligned;
};

/* Producer: a slot to fill, or NULL (counted) when the ring is full. */
static inline struct pkt_summary *
pktlog_slot(struct pktlog *l)
{
	uint64_t h = atomic_load_explicit(&l->head, memory_order_relaxed);

	if (h - atomic_load_explicit(&l->tail, memory_order_acquire) == PKTLOG_SIZE) {
		l->skipped++;
		return NULL;
	}
	return &l->rec[h & (PKTLOG_SIZE - 1)];
}

static inline void
pktlog_commit(struct pktlog *l)
{
	uint64_t h = atomic_load_explicit(&l->head, memory_order_relaxed);

	atomic_store_explicit(&l->head, h + 1, memory_order_release);
}

/* Consumer: the oldest record, or NULL when empty; then pktlog_release. */
static inline const struct pkt_summary *
pktlog_peek(struct pktlog *l)
{
	uint64_t t = atomic_load_explicit(&l->tail, memory_order_relaxed);

	if (t == atomic_load_explicit(&l->head, memory_order_acquire))
		return NULL;
	return &l->rec[t & (PKTLOG_SIZE - 1)];
}

static inline void
pktlog_release(struct pktlog *l)
{
	uint64_t t = atomic_load_explicit(&l->tail, memory_order_relaxed);

	atomic_store_explicit(&l->tail, t + 1, memory_order_release);
}

#endif
