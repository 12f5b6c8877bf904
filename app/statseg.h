/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The writer's side of the stats segment's logs (the layout and the
 * readers' side: abi/pn_stats.h): an lcore puts each frame's headers in
 * the next record of its ring.
 */
#ifndef PN_STATSEG_H
#define PN_STATSEG_H

#include <stdatomic.h>
#include <stdint.h>
#include <string.h>

#include "abi/pn_stats.h"
#include "summary.h"

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

#endif
