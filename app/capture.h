/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Frame capture for `pollnetctl capture`: while one is open, each lcore
 * copies the frames that match its filter into the capture region (see
 * statseg.h), RX as they arrive and TX as they leave.  One capture at a
 * time; it ends when the client's control connection closes.
 */
#ifndef PN_CAPTURE_H
#define PN_CAPTURE_H

#include <stdatomic.h>
#include <stdint.h>
#include <string.h>

#include <rte_common.h>

#include "statseg.h"
#include "summary.h"

struct app;

struct capture_lcore {
	uint64_t head;            /* private: the next position we write */
	uint64_t skipped;
} __rte_cache_aligned;

struct capture {
	struct pn_cap_hdr geo;    /* our copy; the region's may be scribbled on */
	uint8_t *region;
	struct pkt_filter filt;
	uint32_t snaplen;
	int client;               /* ctl client index */
	struct capture_lcore lc[];
};

/* Control thread.  Start: 0 and the region's memfd in *fd, or -errno. */
int capture_start(struct app *a, int client, const struct pkt_filter *f,
		  uint32_t snaplen, int *fd);
/* Stop (the lcores let go first), adding its counts to the app's. */
void capture_stop(struct app *a);

/* Lcore: copy one frame if it matches: 1 copied, 0 not wanted, -1 skipped
 * (the reader is behind). */
static inline int
capture_frame(struct capture *c, uint16_t idx, const struct pkt_summary *ps,
	      const void *frame, uint32_t len)
{
	struct capture_lcore *cl = &c->lc[idx];
	struct pn_cap_ring *r;
	struct pn_cap_rec *rec;
	uint64_t tail;

	if (!pkt_filter_match(&c->filt, ps))
		return 0;
	r = pn_cap_ring(c->region, &c->geo, idx);
	tail = atomic_load_explicit(&r->tail, memory_order_acquire);
	/* full, or a tail that makes no sense: skip (and count) */
	if (cl->head - tail >= c->geo.slots) {
		cl->skipped++;
		atomic_store_explicit(&r->skipped, cl->skipped, memory_order_relaxed);
		return -1;
	}
	rec = pn_cap_rec(c->region, &c->geo, idx, cl->head);
	rec->ts = ps->ts;
	rec->len = len;
	rec->caplen = (uint16_t)RTE_MIN(len, c->snaplen);
	rec->dir = ps->dir;
	memcpy(rec->data, frame, rec->caplen);
	cl->head++;
	atomic_store_explicit(&r->head, cl->head, memory_order_release);
	return 1;
}

#endif
