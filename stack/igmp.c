/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * IGMP (RFC 2236, RFC 3376), the host's side: answers to queries and the
 * messages that say which groups the interface has joined.  The groups
 * and their filters are the control thread's (app/mcast.c: it sends the
 * reports a change of them calls for); an lcore answers the queries it
 * receives, after the random delay the query allows, with the groups as
 * they are then.  IGMPv3 unless an IGMPv2 (or v1) querier was heard in the
 * last 260 s (RFC 3376 7.2.1 and 8.12, Older Version Querier Present), as Linux.
 * Every message leaves with TTL 1, DF, TOS 0xc0 and the Router Alert
 * option (RFC 2113), as Linux's.
 */
#include <string.h>

#include <rte_ip.h>
#include <rte_mbuf.h>

#include "cksum.h"
#include "stack.h"

#define IGMP_QUERY          0x11
#define IGMP_V1_REPORT      0x12
#define IGMP_V3_REPORT      0x22
#define IGMP_ALL_HOSTS      RTE_BE32(0xe0000001u)      /* 224.0.0.1 */
#define IGMP_ALL_ROUTERS    RTE_BE32(0xe0000002u)      /* 224.0.0.2 */
#define IGMP_V3_ROUTERS     RTE_BE32(0xe0000016u)      /* 224.0.0.22 */
#define IGMP_V2_QUERIER_MS  260000u     /* RFC 3376 8.12: 2 x 125 s + 10 s */
#define IGMP_IP_LEN         24u         /* with the Router Alert option */

/* A frame of len bytes of IGMP to dst from c: its IGMP part, or NULL. */
static uint8_t *
igmp_frame(const struct stack_conf *c, struct rte_mempool *pool, rte_be32_t dst,
	   uint32_t len, struct rte_mbuf **mp)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(pool);
	struct rte_ether_hdr *eh;
	struct rte_ipv4_hdr *ip;
	uint8_t *p;

	if (m == NULL)
		return NULL;
	eh = (struct rte_ether_hdr *)rte_pktmbuf_append(m, (uint16_t)(RTE_ETHER_HDR_LEN +
							 IGMP_IP_LEN + len));
	if (eh == NULL) {
		rte_pktmbuf_free(m);
		return NULL;
	}
	eh->dst_addr = stack_group_mac(dst);
	rte_ether_addr_copy(&c->mac, &eh->src_addr);
	eh->ether_type = RTE_BE16(RTE_ETHER_TYPE_IPV4);
	ip = (struct rte_ipv4_hdr *)(eh + 1);
	memset(ip, 0, IGMP_IP_LEN);
	ip->version_ihl = 0x46;
	ip->type_of_service = 0xc0;
	ip->total_length = rte_cpu_to_be_16((uint16_t)(IGMP_IP_LEN + len));
	ip->fragment_offset = RTE_BE16(RTE_IPV4_HDR_DF_FLAG);
	ip->time_to_live = 1;
	ip->next_proto_id = IPPROTO_IGMP;
	ip->src_addr = c->ip;
	ip->dst_addr = dst;
	p = (uint8_t *)(ip + 1);
	p[0] = 0x94;                    /* Router Alert, length 4, value 0 */
	p[1] = 0x04;
	ip->hdr_checksum = cksum_buf(ip, IGMP_IP_LEN);
	m->l2_len = RTE_ETHER_HDR_LEN;
	m->l3_len = IGMP_IP_LEN;
	*mp = m;
	return p + 4;
}

struct rte_mbuf *
igmp_v3_report(const struct stack_conf *c, struct rte_mempool *pool,
	       const struct igmp_rec *rec, unsigned n)
{
	uint32_t len = 8;
	struct rte_mbuf *m;
	uint8_t *p, *q;

	for (unsigned i = 0; i < n; i++)
		len += 8 + 4u * rec[i].nsrc;
	p = igmp_frame(c, pool, IGMP_V3_ROUTERS, len, &m);
	if (p == NULL)
		return NULL;
	memset(p, 0, 8);
	p[0] = IGMP_V3_REPORT;
	p[6] = (uint8_t)(n >> 8);
	p[7] = (uint8_t)n;
	q = p + 8;
	for (unsigned i = 0; i < n; i++) {
		q[0] = rec[i].type;
		q[1] = 0;
		q[2] = 0;
		q[3] = rec[i].nsrc;
		memcpy(q + 4, &rec[i].group, 4);
		memcpy(q + 8, rec[i].src, 4u * rec[i].nsrc);
		q += 8 + 4u * rec[i].nsrc;
	}
	{
		const uint16_t ck = cksum_buf(p, len);

		memcpy(p + 2, &ck, 2);
	}
	return m;
}

struct rte_mbuf *
igmp_v2_msg(const struct stack_conf *c, struct rte_mempool *pool, uint8_t type,
	    rte_be32_t group)
{
	struct rte_mbuf *m;
	uint8_t *p = igmp_frame(c, pool, type == IGMP_V2_LEAVE ? IGMP_ALL_ROUTERS : group, 8, &m);
	uint16_t ck;

	if (p == NULL)
		return NULL;
	memset(p, 0, 8);
	p[0] = type;
	memcpy(p + 4, &group, 4);
	ck = cksum_buf(p, 8);
	memcpy(p + 2, &ck, 2);
	return m;
}

/* A query's Max Resp Code as milliseconds (RFC 3376 4.1.1: tenths of a
 * second, a floating-point form from 128; v1's 0 is 10 s). */
static uint32_t
igmp_max_resp_ms(uint8_t code)
{
	if (code == 0)
		return 10000;
	if (code < 128)
		return code * 100u;
	return ((uint32_t)((code & 0x0f) | 0x10) << (((code >> 4) & 0x07) + 3)) * 100u;
}

enum stack_verdict
igmp_input(struct stack *s, struct rte_mbuf *m)
{
	const uint8_t *p = rte_pktmbuf_mtod(m, const uint8_t *);
	const uint32_t len = rte_pktmbuf_data_len(m);
	uint32_t delay;
	rte_be32_t group;
	enum pn_rx_drop why;

	if (m->nb_segs != 1 || len < 8 || cksum_buf(p, len) != 0 ||
	    (p[0] == IGMP_QUERY && len > 8 && len < 12)) {
		why = PN_RX_IGMP_MALFORMED;
		goto drop;
	}
	if (p[0] != IGMP_QUERY) {
		/* another host's report or leave: nothing for us to do (no
		 * v2 report suppression: a v3 host sends none either) */
		why = PN_RX_IGMP_NOT_QUERY;
		goto drop;
	}
	memcpy(&group, p + 4, 4);
	if (group != 0 && !stack_mc_joined(s, group)) {
		why = PN_RX_IGMP_NOT_QUERY;     /* a group of someone else's */
		goto drop;
	}
	if (len == 8) {
		/* IGMPv1 (max resp 0) or v2: answer in their version */
		s->igmp_v2_until_ms = s->now_ms + IGMP_V2_QUERIER_MS;
		if (s->mc != NULL)
			atomic_store_explicit(&s->mc->v2, 1, memory_order_relaxed);
	}
	s->igmp_rand = s->igmp_rand * 1103515245u + 12345u + (uint32_t)s->now_ms;
	delay = (s->igmp_rand >> 8) % (igmp_max_resp_ms(len == 8 && p[1] == 0 ? 100 : p[1]) + 1);
	if (group == 0) {
		s->igmp_all = 1;
	} else {
		unsigned i;

		for (i = 0; i < s->igmp_ngroups && s->igmp_groups[i] != group; i++)
			;
		if (i == s->igmp_ngroups) {
			if (s->igmp_ngroups < RTE_DIM(s->igmp_groups))
				s->igmp_groups[s->igmp_ngroups++] = group;
			else
				s->igmp_all = 1;
		}
	}
	/* (0 is "nothing due") */
	if (s->igmp_due_ms == 0 || s->now_ms + delay < s->igmp_due_ms)
		s->igmp_due_ms = RTE_MAX(s->now_ms + delay, (uint64_t)1);
	s->stats.igmp_queries_in++;
	s->stats.rx_delivered++;
	rte_pktmbuf_free(m);
	return STACK_DELIVERED;
drop:
	s->stats.rx_drop[why]++;
	rte_pktmbuf_free(m);
	return STACK_DROPPED;
}

/* The groups as they are now (a consistent copy); how many. */
static unsigned
igmp_groups(const struct stack *s, struct mc_group *g)
{
	const struct mc_table *t = s->mc;
	uint32_t seq, n;

	if (t == NULL)
		return 0;
	do {
		seq = atomic_load_explicit(&t->seq, memory_order_acquire);
		n = RTE_MIN(atomic_load_explicit(&t->n, memory_order_relaxed),
			    (uint32_t)MC_MAX_GROUPS);
		memcpy(g, t->g, n * sizeof(*g));
		atomic_thread_fence(memory_order_acquire);
	} while ((seq & 1) || seq != atomic_load_explicit(&t->seq, memory_order_relaxed));
	return n;
}

static void
igmp_send(struct stack *s, struct rte_mbuf *m)
{
	if (m == NULL) {
		s->stats.tx_drop[PN_TX_NO_MBUF]++;
		return;
	}
	s->stats.igmp_reports_out++;
	stack_tx(s, m);
}

void
igmp_tick(struct stack *s)
{
	struct mc_group g[MC_MAX_GROUPS];
	struct igmp_rec rec[MC_MAX_GROUPS];
	unsigned n, k = 0;
	uint32_t len = 8;

	if (s->igmp_v2_until_ms != 0 && s->now_ms >= s->igmp_v2_until_ms) {
		s->igmp_v2_until_ms = 0;
		if (s->mc != NULL)
			atomic_store_explicit(&s->mc->v2, 0, memory_order_relaxed);
	}
	if (s->igmp_due_ms == 0 || s->now_ms < s->igmp_due_ms)
		return;
	n = igmp_groups(s, g);
	for (unsigned i = 0; i < n; i++) {
		int want = s->igmp_all;

		for (unsigned j = 0; j < s->igmp_ngroups && !want; j++)
			want = s->igmp_groups[j] == g[i].addr;
		if (!want)
			continue;
		if (s->igmp_v2_until_ms != 0) {
			igmp_send(s, igmp_v2_msg(s->conf, s->pool, IGMP_V2_REPORT, g[i].addr));
			continue;
		}
		/* a report as long as a frame holds: the rest in another */
		if (len + 8 + 4u * g[i].nsrc > s->conf->mtu - IGMP_IP_LEN) {
			igmp_send(s, igmp_v3_report(s->conf, s->pool, rec, k));
			k = 0;
			len = 8;
		}
		rec[k++] = (struct igmp_rec){
			.type = g[i].mode == MC_EXCLUDE ? IGMP_MODE_IS_EXCLUDE : IGMP_MODE_IS_INCLUDE,
			.nsrc = g[i].nsrc, .group = g[i].addr, .src = g[i].src };
		len += 8 + 4u * g[i].nsrc;
	}
	if (k > 0) {
		/* (rec points into g, on this stack frame until sent) */
		igmp_send(s, igmp_v3_report(s->conf, s->pool, rec, k));
	}
	s->igmp_due_ms = 0;
	s->igmp_all = 0;
	s->igmp_ngroups = 0;
}
