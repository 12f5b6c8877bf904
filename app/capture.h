/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Frame capture for `pollnetctl capture`: while one is open, each lcore
 * copies the frames that match its filter into the capture region (see
 * abi/pn_capture.h), RX as they arrive and TX as they leave.  The filter is the
 * user's tcpdump expression: pollnetctl compiles it with libpcap into
 * classic BPF, pollnet converts that to eBPF with DPDK's BPF library and
 * runs it (JIT-compiled where DPDK can) on each frame's mbuf, as DPDK's
 * dumpcap does.  But DPDK 22.11 gets indexed loads ("tcp[13]": an offset
 * read from the packet) wrong: its JIT crashes on them, and its interpreter
 * takes a load beyond the frame's end for a match where classic BPF
 * rejects the frame.  A program with indexed loads runs on libpcap's own
 * interpreter (bpf_filter(), tcpdump's semantics exactly) instead.  One
 * capture at a time; it ends when the client's control connection closes.
 */
#ifndef PN_CAPTURE_H
#define PN_CAPTURE_H

#include <stdatomic.h>
#include <stdint.h>
#include <string.h>

#include <rte_common.h>

#include <rte_bpf.h>
#include <rte_mbuf.h>

#include "abi/pn_capture.h"
#include "abi/pn_stats.h"

struct app;

struct capture_lcore {
	uint64_t head;            /* private: the next position we write */
	uint64_t skipped;
} __rte_cache_aligned;

/* the most classic BPF instructions a filter may have (libpcap's
 * BPF_MAXINSNS) */
#define CAPTURE_MAX_INSNS 4096

/* one classic BPF instruction, as libpcap's struct bpf_insn */
struct capture_insn {
	uint16_t code;
	uint8_t jt, jf;
	uint32_t k;
};

struct capture {
	struct pn_cap_hdr geo;    /* our copy; the region's may be scribbled on */
	uint8_t *region;
	struct rte_bpf *bpf;      /* the filter in DPDK's BPF, or NULL */
	uint64_t (*jit)(void *);  /* its native code, or NULL: interpreted */
	const struct capture_insn *cbpf;  /* or classic BPF for libpcap's
	                                   * interpreter; both NULL: every frame */
	uint32_t snaplen;
	int client;               /* ctl client index */
	struct capture_lcore lc[];
};

/* Control thread.  Start a capture of the frames filter (n classic BPF
 * instructions; n == 0: every frame) matches: 0 and the region's memfd in
 * *fd, or -errno (-EINVAL for a filter DPDK cannot load). */
int capture_start(struct app *a, int client, const struct capture_insn *filter, uint32_t n,
		  uint32_t snaplen, int *fd);
/* Stop (the lcores let go first), adding its counts to the app's. */
void capture_stop(struct app *a);

/* libpcap's classic BPF interpreter (bpf_filter()) on a whole frame. */
unsigned capture_cbpf(const struct capture_insn *prog, const uint8_t *frame, uint32_t len);

/* Lcore: does the capture want frame m? */
static inline int
capture_match(const struct capture *c, struct rte_mbuf *m)
{
	if (c->cbpf != NULL)
		return capture_cbpf(c->cbpf, rte_pktmbuf_mtod(m, const uint8_t *),
				    rte_pktmbuf_data_len(m)) != 0;
	if (c->bpf == NULL)
		return 1;
	return (c->jit != NULL ? c->jit(m) : rte_bpf_exec(c->bpf, m)) != 0;
}

/* Lcore: copy one frame: 1 copied, -1 skipped (the reader is behind). */
static inline int
capture_frame(struct capture *c, uint16_t idx, const void *frame, uint32_t len,
	      uint8_t dir, uint64_t ts)
{
	struct capture_lcore *cl = &c->lc[idx];
	struct pn_cap_ring *r;
	struct pn_cap_rec *rec;
	uint64_t tail;

	r = pn_cap_ring(c->region, &c->geo, idx);
	tail = atomic_load_explicit(&r->tail, memory_order_acquire);
	/* full, or a tail that makes no sense: skip (and count) */
	if (cl->head - tail >= c->geo.slots) {
		cl->skipped++;
		atomic_store_explicit(&r->skipped, cl->skipped, memory_order_relaxed);
		return -1;
	}
	rec = pn_cap_rec(c->region, &c->geo, idx, cl->head);
	rec->ts = ts;
	rec->len = len;
	rec->caplen = (uint16_t)RTE_MIN(len, c->snaplen);
	rec->dir = dir;
	memcpy(rec->data, frame, rec->caplen);
	cl->head++;
	atomic_store_explicit(&r->head, cl->head, memory_order_release);
	return 1;
}

#endif
