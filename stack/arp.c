/* SPDX-License-Identifier: BSD-3-Clause */
#include "arp.h"

#include <errno.h>
#include <string.h>

#include <rte_arp.h>
#include <rte_jhash.h>
#include <rte_mbuf.h>

#include "stack.h"

static inline struct arp_entry *
arp_bucket(struct arp_cache *c, rte_be32_t ip)
{
	return c->e[rte_jhash_1word(ip, 0x5a17) & (ARP_BUCKETS - 1)];
}

struct arp_entry *
arp_cache_find(struct arp_cache *c, rte_be32_t ip)
{
	struct arp_entry *b = arp_bucket(c, ip);

	for (int w = 0; w < ARP_WAYS; w++)
		if (b[w].state != ARP_FREE && b[w].ip == ip)
			return &b[w];
	return NULL;
}

const struct rte_ether_addr *
arp_cache_lookup(struct arp_cache *c, rte_be32_t ip, uint64_t now_ms)
{
	struct arp_entry *e = arp_cache_find(c, ip);

	if (e == NULL || e->state != ARP_REACHABLE || now_ms >= e->due_ms)
		return NULL;
	return &e->mac;
}

/* Drop every packet parked on e, counting them under `why`. */
static void
arp_entry_drop_queue(struct stack *s, struct arp_entry *e, enum pn_tx_drop why)
{
	for (uint8_t i = 0; i < e->nq; i++)
		rte_pktmbuf_free(e->q[i]);
	s->stats.tx_drop[why] += e->nq;
	s->arp.pending -= e->nq;
	e->nq = 0;
}

static void
arp_entry_free(struct stack *s, struct arp_entry *e, enum pn_tx_drop why)
{
	arp_entry_drop_queue(s, e, why);
	e->state = ARP_FREE;
}

/* A free way in ip's set, evicting the oldest entry if the set is full. */
static struct arp_entry *
arp_entry_alloc(struct stack *s, rte_be32_t ip)
{
	struct arp_entry *b = arp_bucket(&s->arp, ip), *victim = NULL;

	for (int w = 0; w < ARP_WAYS; w++) {
		if (b[w].state == ARP_FREE)
			return &b[w];
		/* prefer evicting REACHABLE (cheap to relearn) over INCOMPLETE */
		if (victim == NULL ||
		    (b[w].state == ARP_REACHABLE && victim->state != ARP_REACHABLE) ||
		    (b[w].state == victim->state && b[w].updated_ms < victim->updated_ms))
			victim = &b[w];
	}
	arp_entry_free(s, victim, PN_TX_ARP_TIMEOUT);
	return victim;
}

int
arp_cache_insert(struct stack *s, rte_be32_t ip,
		 const struct rte_ether_addr *mac, int create)
{
	struct arp_entry *e = arp_cache_find(&s->arp, ip);

	if (e == NULL) {
		if (!create)
			return 0;
		e = arp_entry_alloc(s, ip);
		e->ip = ip;
		e->nq = 0;
	}
	e->state = ARP_REACHABLE;
	e->requests = 0;
	rte_ether_addr_copy(mac, &e->mac);
	e->updated_ms = s->now_ms;
	e->due_ms = s->now_ms + s->conf->arp_timeout_ms;
	s->stats.arp_learned++;
	if (s->arp_hook != NULL)
		s->arp_hook(s->arp_hook_arg, ip, mac);

	/* Release what was waiting, in order. */
	for (uint8_t i = 0; i < e->nq; i++) {
		struct rte_ether_hdr *eh = rte_pktmbuf_mtod(e->q[i], struct rte_ether_hdr *);

		rte_ether_addr_copy(mac, &eh->dst_addr);
		stack_tx(s, e->q[i]);
	}
	s->arp.pending -= e->nq;
	e->nq = 0;
	return 1;
}

int
arp_resolve(struct stack *s, struct rte_mbuf *m, rte_be32_t nh)
{
	struct rte_ether_hdr *eh = rte_pktmbuf_mtod(m, struct rte_ether_hdr *);
	struct arp_entry *e = arp_cache_find(&s->arp, nh);

	if (e != NULL && e->state == ARP_REACHABLE && s->now_ms < e->due_ms) {
		rte_ether_addr_copy(&e->mac, &eh->dst_addr);
		stack_tx(s, m);
		return 0;
	}
	if (e == NULL || e->state == ARP_REACHABLE) {
		/* unknown, or aged out: start a new resolution */
		if (e == NULL)
			e = arp_entry_alloc(s, nh);
		e->ip = nh;
		e->state = ARP_INCOMPLETE;
		e->nq = 0;
		e->requests = 1;
		e->updated_ms = s->now_ms;
		e->due_ms = s->now_ms + s->conf->arp_retry_ms;
		arp_send_request(s, nh);
	}
	if (e->nq == ARP_PENDING_MAX || s->arp.pending >= ARP_PENDING_TOTAL) {
		rte_pktmbuf_free(m);
		s->stats.tx_drop[PN_TX_ARP_QUEUE_FULL]++;
		return -ENOBUFS;
	}
	e->q[e->nq++] = m;
	s->arp.pending++;
	return 0;
}

/* Fill an Ethernet+ARP header pair; the caller sets the length. */
static void
arp_fill(struct rte_ether_hdr *eh, const struct rte_ether_addr *eth_dst,
	 const struct rte_ether_addr *our_mac, uint16_t op,
	 rte_be32_t sip, const struct rte_ether_addr *tha, rte_be32_t tip)
{
	struct rte_arp_hdr *a = (struct rte_arp_hdr *)(eh + 1);

	rte_ether_addr_copy(eth_dst, &eh->dst_addr);
	rte_ether_addr_copy(our_mac, &eh->src_addr);
	eh->ether_type = rte_cpu_to_be_16(RTE_ETHER_TYPE_ARP);
	a->arp_hardware = rte_cpu_to_be_16(RTE_ARP_HRD_ETHER);
	a->arp_protocol = rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4);
	a->arp_hlen = RTE_ETHER_ADDR_LEN;
	a->arp_plen = 4;
	a->arp_opcode = rte_cpu_to_be_16(op);
	rte_ether_addr_copy(our_mac, &a->arp_data.arp_sha);
	a->arp_data.arp_sip = sip;
	rte_ether_addr_copy(tha, &a->arp_data.arp_tha);
	a->arp_data.arp_tip = tip;
}

#define ARP_FRAME_LEN (RTE_ETHER_HDR_LEN + sizeof(struct rte_arp_hdr))

int
arp_send_request(struct stack *s, rte_be32_t target)
{
	static const struct rte_ether_addr bcast = {
		.addr_bytes = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff } };
	static const struct rte_ether_addr zero;
	struct rte_mbuf *m;
	char *p;

	if (s->arp_ask != NULL) {
		s->stats.arp_requests_out++;
		s->arp_ask(s->arp_ask_arg, target);
		return 0;
	}
	m = rte_pktmbuf_alloc(s->pool);
	if (m == NULL) {
		s->stats.tx_drop[PN_TX_NO_MBUF]++;
		return -ENOBUFS;
	}
	p = rte_pktmbuf_append(m, ARP_FRAME_LEN);
	arp_fill((struct rte_ether_hdr *)p, &bcast, &s->conf->mac,
		 RTE_ARP_OP_REQUEST, s->conf->ip, &zero, target);
	s->stats.arp_requests_out++;
	stack_tx(s, m);
	return 0;
}

enum stack_verdict
arp_input(struct stack *s, struct rte_mbuf *m)
{
	const struct stack_conf *c = s->conf;
	struct rte_arp_hdr *a;
	struct rte_ether_hdr *eh;
	uint16_t op;
	rte_be32_t sip;
	enum pn_rx_drop why;

	if (rte_pktmbuf_data_len(m) < sizeof(*a)) {
		why = PN_RX_ARP_MALFORMED;
		goto drop;
	}
	a = rte_pktmbuf_mtod(m, struct rte_arp_hdr *);
	if (a->arp_hardware != rte_cpu_to_be_16(RTE_ARP_HRD_ETHER) ||
	    a->arp_protocol != rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4) ||
	    a->arp_hlen != RTE_ETHER_ADDR_LEN || a->arp_plen != 4) {
		why = PN_RX_ARP_MALFORMED;
		goto drop;
	}
	op = rte_be_to_cpu_16(a->arp_opcode);
	if (op != RTE_ARP_OP_REQUEST && op != RTE_ARP_OP_REPLY) {
		why = PN_RX_ARP_OP;
		goto drop;
	}
	sip = a->arp_data.arp_sip;
	/* A sender we could neither learn nor answer: a group MAC (the reply
	 * would go to every host), a martian IP (0.0.0.0 only as an RFC 5227
	 * probe's), or our own address (a conflict, or a forgery). */
	if (!rte_is_unicast_ether_addr(&a->arp_data.arp_sha) ||
	    rte_is_zero_ether_addr(&a->arp_data.arp_sha) ||
	    (sip != 0 && stack_martian_src(c, sip) != PN_RX_DROP_MAX)) {
		why = PN_RX_ARP_SENDER;
		goto drop;
	}
	if (a->arp_data.arp_tip != c->ip) {
		/* RFC 826 merge: refresh a sender we already know (this also
		 * takes gratuitous ARPs), but learn no new one. */
		if (sip != 0)
			arp_cache_insert(s, sip, &a->arp_data.arp_sha, 0);
		why = PN_RX_ARP_NOT_US;
		goto drop;
	}
	/* Addressed to us: learn the sender (not a probe's 0.0.0.0). */
	if (sip != 0)
		arp_cache_insert(s, sip, &a->arp_data.arp_sha, 1);

	if (op == RTE_ARP_OP_REPLY) {
		s->stats.arp_replies_in++;
		s->stats.rx_delivered++;
		rte_pktmbuf_free(m);
		return STACK_DELIVERED;
	}

	/* A request for our IP: answer in place. */
	s->stats.arp_requests_in++;
	rte_pktmbuf_prepend(m, RTE_ETHER_HDR_LEN);
	eh = rte_pktmbuf_mtod(m, struct rte_ether_hdr *);
	{
		struct rte_ether_addr sha = a->arp_data.arp_sha;

		arp_fill(eh, &sha, &c->mac, RTE_ARP_OP_REPLY, c->ip, &sha, sip);
	}
	rte_pktmbuf_trim(m, rte_pktmbuf_data_len(m) - ARP_FRAME_LEN);
	s->stats.rx_answered++;
	stack_tx(s, m);
	return STACK_ANSWERED;
drop:
	s->stats.rx_drop[why]++;
	rte_pktmbuf_free(m);
	return STACK_DROPPED;
}

void
arp_cache_tick(struct stack *s)
{
	struct arp_cache *c = &s->arp;

	if (s->now_ms < c->next_tick_ms)
		return;
	c->next_tick_ms = s->now_ms + 100;
	for (int b = 0; b < ARP_BUCKETS; b++) {
		for (int w = 0; w < ARP_WAYS; w++) {
			struct arp_entry *e = &c->e[b][w];

			if (e->state == ARP_FREE || s->now_ms < e->due_ms)
				continue;
			if (e->state == ARP_REACHABLE) {
				e->state = ARP_FREE;       /* aged out */
			} else if (e->requests >= s->conf->arp_retries) {
				arp_entry_free(s, e, PN_TX_ARP_TIMEOUT);
			} else {
				e->requests++;
				e->due_ms = s->now_ms + s->conf->arp_retry_ms;
				arp_send_request(s, e->ip);
			}
		}
	}
}

void
arp_cache_flush(struct stack *s)
{
	for (int b = 0; b < ARP_BUCKETS; b++)
		for (int w = 0; w < ARP_WAYS; w++)
			if (s->arp.e[b][w].state != ARP_FREE)
				arp_entry_free(s, &s->arp.e[b][w], PN_TX_ARP_TIMEOUT);
	s->arp.pending = 0;
}
