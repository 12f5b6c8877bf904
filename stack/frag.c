/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * IPv4 fragments (RFC 791, RFC 815), per lcore.
 *
 * Out: a frame longer than the MTU leaves in fragments made by DPDK's
 * librte_ip_frag (rte_ipv4_fragment_packet: a direct mbuf for each
 * fragment's headers, indirect ones over the datagram's own segments).
 *
 * In: a table of the datagrams being reassembled, each a list of its
 * fragments sorted by offset.  Not librte_ip_frag's: Debian's build of it
 * (RTE_LIBRTE_IP_FRAG_MAX_FRAG 8) gives up on a datagram of more than 8
 * fragments, 11,832 bytes of UDP at MTU 1500, where a UDP socket takes
 * 65,507.  Bounded as Linux bounds its own (net.ipv4.ipfrag_*): a time to
 * wait for the rest, datagrams at once, fragments per datagram and held
 * in all (config [ipv4] ipfrag_*).  Linux's rules for a bad fragment: one
 * that overlaps what is held, or disagrees with the datagram's end, takes
 * the whole datagram with it (RFC 5722's rule, Linux's for IPv4 since
 * 4.19); an exact duplicate is dropped alone.  The table is scanned
 * linearly: fragments are the exception on a UDP data plane, and
 * ipfrag_flows small.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <rte_ip.h>
#include <rte_ip_frag.h>
#include <rte_mbuf.h>

#include "cksum.h"
#include "stack.h"

struct frag_piece {
	uint32_t off, end;              /* payload bytes [off, end) */
	struct rte_mbuf *m;             /* data at its payload; off 0: at
	                                 * its IP header */
};

struct frag_flow {
	uint64_t born_ms;               /* its first fragment's arrival */
	rte_be32_t src, dst;
	rte_be16_t id;
	uint8_t proto;
	uint8_t used;
	uint8_t last;                   /* the fragment without MF is held */
	uint32_t n;                     /* pieces held */
	uint32_t total;                 /* payload length, once last */
	uint32_t have;                  /* payload bytes held */
	struct frag_piece *p;           /* [frag_fragments], by offset */
};

struct frag_table {
	uint32_t used;                  /* flows in use */
	uint32_t held;                  /* pieces in all flows */
	struct frag_flow flow[];        /* [frag_flows] */
};

/* The largest number of fragments one datagram can make at the smallest
 * MTU an IPv4 link may have (68: 48 bytes of payload each). */
#define FRAG_OUT_MAX ((65535 + 47) / 48)

static struct frag_table *
frag_table(struct stack *s)
{
	const struct stack_conf *c = s->conf;
	struct frag_table *t;
	struct frag_piece *p;

	if (s->frag != NULL)
		return s->frag;
	/* the first fragment this lcore sees: the table, once */
	t = calloc(1, sizeof(*t) + c->frag_flows * sizeof(t->flow[0]) +
		   (size_t)c->frag_flows * c->frag_fragments * sizeof(*p));
	if (t == NULL)
		return NULL;
	p = (struct frag_piece *)&t->flow[c->frag_flows];
	for (uint32_t i = 0; i < c->frag_flows; i++)
		t->flow[i].p = p + (size_t)i * c->frag_fragments;
	s->frag = t;
	return t;
}

/* Give up on flow f: each fragment it held is dropped for `why`. */
static void
frag_flow_drop(struct stack *s, struct frag_flow *f, enum pn_rx_drop why)
{
	struct frag_table *t = s->frag;

	for (uint32_t i = 0; i < f->n; i++)
		rte_pktmbuf_free(f->p[i].m);
	s->stats.rx_drop[why] += f->n;
	s->stats.rx_merged -= f->n;
	s->stats.frags_held -= f->n;
	t->held -= f->n;
	t->used--;
	f->used = 0;
	f->n = 0;
}

/* The flow that has waited longest (one exists: the table is not empty). */
static struct frag_flow *
frag_oldest(struct frag_table *t, uint32_t nflows)
{
	struct frag_flow *o = NULL;

	for (uint32_t i = 0; i < nflows; i++)
		if (t->flow[i].used && (o == NULL || t->flow[i].born_ms < o->born_ms))
			o = &t->flow[i];
	return o;
}

/* The datagram of f, whole: its pieces chained behind the first one's IP
 * header, which now says so.  The flow is free again. */
static struct rte_mbuf *
frag_join(struct stack *s, struct frag_flow *f)
{
	struct rte_mbuf *m = f->p[0].m, *tail = m;
	struct rte_ipv4_hdr *ip = rte_pktmbuf_mtod(m, struct rte_ipv4_hdr *);
	const uint32_t ihl = (ip->version_ihl & 0x0f) * 4u;

	for (uint32_t i = 1; i < f->n; i++) {
		struct rte_mbuf *seg = f->p[i].m;

		while (tail->next != NULL)
			tail = tail->next;
		tail->next = seg;
		m->nb_segs += seg->nb_segs;
		m->pkt_len += seg->pkt_len;
	}
	ip->total_length = rte_cpu_to_be_16((uint16_t)(ihl + f->total));
	ip->fragment_offset = 0;
	ip->hdr_checksum = 0;
	ip->hdr_checksum = cksum_buf(ip, ihl);
	s->stats.reassembled++;
	/* all but the fragment that completed it, which carries its verdict */
	s->stats.rx_merged--;
	s->stats.frags_held -= f->n;
	s->frag->held -= f->n;
	s->frag->used--;
	f->used = 0;
	f->n = 0;
	/* a datagram of tiny fragments fits one mbuf: made one */
	if (m->nb_segs > 1 && m->pkt_len <= m->data_len + rte_pktmbuf_tailroom(m))
		rte_pktmbuf_linearize(m);
	return m;
}

struct rte_mbuf *
frag_input(struct stack *s, struct rte_mbuf *m, enum stack_verdict *v)
{
	const struct stack_conf *c = s->conf;
	const struct rte_ipv4_hdr *ip = rte_pktmbuf_mtod(m, const struct rte_ipv4_hdr *);
	const uint16_t fo = rte_be_to_cpu_16(ip->fragment_offset);
	const uint32_t ihl = (ip->version_ihl & 0x0f) * 4u;
	const uint32_t off = (fo & RTE_IPV4_HDR_OFFSET_MASK) * 8u;
	const uint32_t len = rte_pktmbuf_data_len(m) - ihl;
	const uint32_t end = off + len;
	const int mf = (fo & RTE_IPV4_HDR_MF_FLAG) != 0;
	struct frag_table *t;
	struct frag_flow *f = NULL, *free_f = NULL;
	enum pn_rx_drop why;
	uint32_t i;

	s->stats.frags_in++;
	*v = STACK_DROPPED;
	if (c->frag_flows == 0) {
		why = PN_RX_IP_FRAGMENT;
		goto drop;
	}
	if (len == 0 || (mf && (len & 7) != 0) || ihl + end > 65535) {
		why = PN_RX_FRAG_BAD;
		goto drop;
	}
	t = frag_table(s);
	if (t == NULL) {
		why = PN_RX_FRAG_TABLE_FULL;
		goto drop;
	}
	for (i = 0; i < c->frag_flows; i++) {
		struct frag_flow *x = &t->flow[i];

		if (!x->used) {
			if (free_f == NULL)
				free_f = x;
			continue;
		}
		if (x->id == ip->packet_id && x->src == ip->src_addr &&
		    x->dst == ip->dst_addr && x->proto == ip->next_proto_id) {
			f = x;
			break;
		}
	}
	if (f != NULL && s->now_ms - f->born_ms >= c->frag_time_ms) {
		/* its time is up: a new datagram with an old one's ID */
		frag_flow_drop(s, f, PN_RX_FRAG_TIMEOUT);
		free_f = f;
		f = NULL;
	}
	/* room: one more fragment in all, and a flow for a new datagram */
	while (t->held >= c->frag_held || (f == NULL && free_f == NULL)) {
		struct frag_flow *o = frag_oldest(t, c->frag_flows);

		if (o == f)
			f = NULL;       /* (it alone fills the table) */
		frag_flow_drop(s, o, PN_RX_FRAG_TABLE_FULL);
		free_f = o;
	}
	if (f == NULL) {
		f = free_f;
		f->used = 1;
		f->born_ms = s->now_ms;
		f->src = ip->src_addr;
		f->dst = ip->dst_addr;
		f->id = ip->packet_id;
		f->proto = ip->next_proto_id;
		f->last = 0;
		f->n = 0;
		f->total = 0;
		f->have = 0;
		t->used++;
	}
	/* where it goes: before the first piece that starts at or after it */
	for (i = 0; i < f->n && f->p[i].off < off; i++)
		;
	if (i < f->n && f->p[i].off == off && f->p[i].end == end) {
		why = PN_RX_FRAG_DUP;
		goto drop;
	}
	if ((i > 0 && f->p[i - 1].end > off) || (i < f->n && f->p[i].off < end) ||
	    (f->last && end > f->total) ||
	    (!mf && ((f->last && end != f->total) || (f->n > 0 && f->p[f->n - 1].end > end)))) {
		/* overlaps, or disagrees about where the datagram ends */
		frag_flow_drop(s, f, PN_RX_FRAG_OVERLAP);
		why = PN_RX_FRAG_OVERLAP;
		goto drop;
	}
	if (f->n == c->frag_fragments) {
		frag_flow_drop(s, f, PN_RX_FRAG_TOO_MANY);
		why = PN_RX_FRAG_TOO_MANY;
		goto drop;
	}
	if (off != 0)
		rte_pktmbuf_adj(m, (uint16_t)ihl);
	memmove(&f->p[i + 1], &f->p[i], (f->n - i) * sizeof(f->p[0]));
	f->p[i] = (struct frag_piece){ .off = off, .end = end, .m = m };
	f->n++;
	f->have += len;
	if (!mf) {
		f->last = 1;
		f->total = end;
	}
	t->held++;
	s->stats.frags_held++;
	s->stats.rx_merged++;
	if (f->last && f->have == f->total)
		return frag_join(s, f);
	*v = STACK_HELD;
	return NULL;
drop:
	s->stats.rx_drop[why]++;
	rte_pktmbuf_free(m);
	return NULL;
}

void
frag_tick(struct stack *s)
{
	struct frag_table *t = s->frag;

	if (t == NULL || t->used == 0)
		return;
	for (uint32_t i = 0; i < s->conf->frag_flows; i++)
		if (t->flow[i].used && s->now_ms - t->flow[i].born_ms >= s->conf->frag_time_ms)
			frag_flow_drop(s, &t->flow[i], PN_RX_FRAG_TIMEOUT);
}

void
frag_release(struct stack *s)
{
	struct frag_table *t = s->frag;

	if (t == NULL)
		return;
	for (uint32_t i = 0; i < s->conf->frag_flows; i++)
		if (t->flow[i].used)
			frag_flow_drop(s, &t->flow[i], PN_RX_FRAG_TIMEOUT);
	free(t);
	s->frag = NULL;
}

void
ipv4_fragment_tx(struct stack *s, struct rte_mbuf *m)
{
	struct rte_mbuf *out[FRAG_OUT_MAX];
	struct rte_ether_hdr eh;
	struct rte_ipv4_hdr *ip;
	uint32_t ihl, per, need;
	int n;

	memcpy(&eh, rte_pktmbuf_mtod(m, const void *), sizeof(eh));
	rte_pktmbuf_adj(m, RTE_ETHER_HDR_LEN);
	ip = rte_pktmbuf_mtod(m, struct rte_ipv4_hdr *);
	ihl = (ip->version_ihl & 0x0f) * 4u;
	per = (s->conf->mtu - ihl) & ~7u;
	need = (rte_pktmbuf_pkt_len(m) - ihl + per - 1) / per;
	if (unlikely(s->tx_n + need > STACK_TX_MAX)) {
		s->stats.tx_drop[PN_TX_BATCH_FULL]++;
		rte_pktmbuf_free(m);
		return;
	}
	/* Fragments are not atomic: DF off, and an ID of their own (RFC
	 * 6864), unique per lcore for 65,536 datagrams */
	ip->fragment_offset = 0;
	ip->packet_id = rte_cpu_to_be_16(s->ip_id++);
	n = rte_ipv4_fragment_packet(m, out, RTE_DIM(out), s->conf->mtu, s->pool,
				     s->pool_indirect != NULL ? s->pool_indirect : s->pool);
	/* the fragments hold references to m's segments: ours goes */
	rte_pktmbuf_free(m);
	if (n < 0) {
		s->stats.tx_drop[n == -ENOMEM ? PN_TX_NO_MBUF : PN_TX_TOO_BIG]++;
		return;
	}
	for (int i = 0; i < n; i++) {
		struct rte_mbuf *fm = out[i];
		struct rte_ether_hdr *feh = (struct rte_ether_hdr *)rte_pktmbuf_prepend(fm,
							RTE_ETHER_HDR_LEN);
		struct rte_ipv4_hdr *fip = (struct rte_ipv4_hdr *)(feh + 1);

		memcpy(feh, &eh, sizeof(eh));
		fip->hdr_checksum = cksum_buf(fip, ihl);
		fm->l2_len = RTE_ETHER_HDR_LEN;
		fm->l3_len = ihl;
		fm->ol_flags = 0;
		s->tx[s->tx_n++] = fm;
	}
	s->stats.fragmented++;
	s->stats.frags_out += n;
}
