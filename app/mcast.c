/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The interface's multicast groups, kept by the control thread: each
 * socket's filter for each group it joined (the client library applies
 * IP_ADD_MEMBERSHIP and the source-specific options and sends the result:
 * PN_CTL_MCAST), merged into the interface's filter per group (RFC 3376
 * 3.2), published to the lcores (stack/stack.h's struct mc_table), given
 * to the port's multicast filter, and told to the routers: a state-change
 * report (IGMPv3's records, RFC 3376 5.1; an IGMPv2 report or leave while
 * a v2 querier is present) sent at once and again a second later (the
 * robustness variable's 2), through lcore 0's queue.  A socket's
 * memberships go with it (close, or its client's end).
 */
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include <rte_cycles.h>
#include <rte_malloc.h>
#include <rte_mbuf.h>
#include <rte_ring.h>

#include "mcast.h"
#include "abi/pn_stats.h"
#include "port.h"

#define MCAST_RETX_MS 1000              /* [Unsolicited Report Interval] */
#define MCAST_DELAY_MS 5                /* a change's report waits this long
                                         * for the next (as Linux's one
                                         * jiffy): one report tells both */
#define MCAST_RETX_MAX 32

uint64_t
mcast_now_ms(void)
{
	return rte_get_tsc_cycles() / (rte_get_tsc_hz() / 1000);
}

int
mcast_init(struct mcast *mc, const struct stack_conf *conf, struct rte_mempool *pool,
	   struct port *port, int bell)
{
	memset(mc, 0, sizeof(*mc));
	mc->conf = conf;
	mc->pool = pool;
	mc->port = port;
	mc->bell = bell;
	mc->t = rte_zmalloc("pn_mc", sizeof(*mc->t), RTE_CACHE_LINE_SIZE);
	mc->tx = rte_ring_create("pn_mc_tx", 64, SOCKET_ID_ANY, RING_F_SP_ENQ | RING_F_SC_DEQ);
	if (mc->t == NULL || mc->tx == NULL) {
		mcast_free(mc);
		return -ENOMEM;
	}
	return 0;
}

void
mcast_free(struct mcast *mc)
{
	struct rte_mbuf *m;

	if (mc->tx != NULL)
		while (rte_ring_dequeue(mc->tx, (void **)&m) == 0)
			rte_pktmbuf_free(m);
	for (unsigned i = 0; i < mc->nretx; i++)
		rte_pktmbuf_free(mc->retx[i].m);
	rte_ring_free(mc->tx);
	rte_free(mc->t);
	mc->t = NULL;
	mc->tx = NULL;
	mc->nretx = 0;
}

static int
src_has(const rte_be32_t *s, unsigned n, rte_be32_t a)
{
	for (unsigned i = 0; i < n; i++)
		if (s[i] == a)
			return 1;
	return 0;
}

/* The interface's filter for group g: its members' merged (RFC 3376 3.2:
 * EXCLUDE if any member excludes, the sources all of them exclude less
 * those any includes; else INCLUDE, the sources any includes). */
static void
mcast_merge(const struct mcast *mc, rte_be32_t g, struct mc_group *out)
{
	unsigned ex = 0, members = 0;

	memset(out, 0, sizeof(*out));
	out->addr = g;
	for (unsigned i = 0; i < mc->nmem; i++)
		if (mc->mem[i].group == g && mc->mem[i].mode == MC_EXCLUDE)
			ex++;
	out->mode = ex > 0 ? MC_EXCLUDE : MC_INCLUDE;
	for (unsigned i = 0; i < mc->nmem; i++) {
		const struct mc_member *m = &mc->mem[i];

		if (m->group != g)
			continue;
		members++;
		for (unsigned k = 0; k < m->nsrc; k++) {
			const rte_be32_t a = m->src[k];
			int keep;

			if (src_has(out->src, out->nsrc, a))
				continue;
			if (ex == 0) {
				keep = 1;
			} else {
				/* excluded by every excluding member, included by none */
				unsigned by = 0;

				keep = m->mode == MC_EXCLUDE;
				for (unsigned j = 0; j < mc->nmem && keep; j++) {
					const struct mc_member *o = &mc->mem[j];

					if (o->group != g)
						continue;
					if (o->mode == MC_EXCLUDE)
						by += src_has(o->src, o->nsrc, a);
					else if (src_has(o->src, o->nsrc, a))
						keep = 0;
				}
				keep = keep && by == ex;
			}
			if (keep && out->nsrc < MC_MAX_SOURCES)
				out->src[out->nsrc++] = a;
		}
	}
	out->members = (uint16_t)members;
}

/* The sources of a not in b. */
static unsigned
src_minus(const rte_be32_t *a, unsigned na, const rte_be32_t *b, unsigned nb, rte_be32_t *out)
{
	unsigned n = 0;

	for (unsigned i = 0; i < na; i++)
		if (!src_has(b, nb, a[i]))
			out[n++] = a[i];
	return n;
}

/* Hand a frame to lcore 0 (and keep a copy to send again). */
static void
mcast_send(struct mcast *mc, struct rte_mbuf *m, uint64_t now_ms, int again)
{
	uint64_t one = 1;

	if (m == NULL) {
		mc->reports_failed++;
		return;
	}
	if (again && mc->nretx < MCAST_RETX_MAX) {
		struct rte_mbuf *c = rte_pktmbuf_copy(m, mc->pool, 0, UINT32_MAX);

		if (c != NULL)
			mc->retx[mc->nretx++] = (struct mcast_retx){ .m = c,
				.due_ms = now_ms + MCAST_RETX_MS };
	}
	if (rte_ring_enqueue(mc->tx, m) != 0) {
		rte_pktmbuf_free(m);
		mc->reports_failed++;
		return;
	}
	mc->reports_sent++;
	if (mc->bell >= 0 && write(mc->bell, &one, sizeof(one)) < 0)
		(void)0;                /* (a full doorbell: lcore 0 is awake) */
}

/* What the routers are to hear of group g's change from old to new: v2, a
 * report for a join (and again a second later), a leave for the last one;
 * v3, the records of RFC 3376 5.1, from mcast_tick once the change has
 * waited MCAST_DELAY_MS for the next (twice, a second apart, each a merge
 * of every change since the routers last heard the group's state). */
static void
mcast_tell(struct mcast *mc, const struct mc_group *old, const struct mc_group *new,
	   uint64_t now_ms)
{
	const int was = old->mode == MC_EXCLUDE || old->nsrc > 0;
	const int is = new->mode == MC_EXCLUDE || new->nsrc > 0;
	unsigned n;

	if (new->addr == RTE_BE32(0xe0000001u))
		return;                 /* all hosts: never reported */
	if (atomic_load_explicit(&mc->t->v2, memory_order_relaxed)) {
		if (is && !was)
			mcast_send(mc, igmp_v2_msg(mc->conf, mc->pool, IGMP_V2_REPORT, new->addr),
				   now_ms, 1);
		else if (!is && was)
			mcast_send(mc, igmp_v2_msg(mc->conf, mc->pool, IGMP_V2_LEAVE, new->addr),
				   now_ms, 0);
		return;
	}
	/* v3: the report waits a moment for more changes to the group */
	for (n = 0; n < mc->npend && mc->pend[n].base.addr != new->addr; n++)
		;
	if (n == mc->npend)
		mc->pend[mc->npend++] = (struct mcast_pending){ .base = *old };
	/* each change puts it off again, as Linux's mod_timer of its
	 * mr_ifc_timer does (changes in a quick run: one report) */
	mc->pend[n].due_ms = now_ms + MCAST_DELAY_MS;
	mc->pend[n].left = 2;
}

/* The records that take the routers from what they heard (old) to new
 * (RFC 3376 5.1): how many, into rec (a and b hold their sources). */
static unsigned
mcast_records(const struct mc_group *old, const struct mc_group *new, struct igmp_rec *rec,
	      rte_be32_t *a, rte_be32_t *b)
{
	const int was = old->mode == MC_EXCLUDE || old->nsrc > 0;
	unsigned n = 0;

	if (old->mode != new->mode && (was || new->mode == MC_EXCLUDE)) {
		rec[n++] = (struct igmp_rec){
			.type = new->mode == MC_EXCLUDE ? IGMP_CHANGE_TO_EXCLUDE : IGMP_CHANGE_TO_INCLUDE,
			.nsrc = new->nsrc, .group = new->addr, .src = new->src };
	} else {
		/* the same mode: sources let in, sources kept out */
		const int inc = new->mode == MC_INCLUDE;
		const unsigned na = inc ? src_minus(new->src, new->nsrc, old->src, old->nsrc, a) :
					  src_minus(old->src, old->nsrc, new->src, new->nsrc, a);
		const unsigned nb = inc ? src_minus(old->src, old->nsrc, new->src, new->nsrc, b) :
					  src_minus(new->src, new->nsrc, old->src, old->nsrc, b);

		if (na > 0)
			rec[n++] = (struct igmp_rec){ .type = IGMP_ALLOW_NEW_SOURCES,
				.nsrc = (uint8_t)na, .group = new->addr, .src = a };
		if (nb > 0)
			rec[n++] = (struct igmp_rec){ .type = IGMP_BLOCK_OLD_SOURCES,
				.nsrc = (uint8_t)nb, .group = new->addr, .src = b };
	}
	return n;
}

/* Publish the groups to the lcores and the port's filter. */
static void
mcast_publish(struct mcast *mc)
{
	struct rte_ether_addr mac[MC_MAX_GROUPS + 1];
	uint32_t seq = atomic_load_explicit(&mc->t->seq, memory_order_relaxed);
	unsigned n = 0;

	atomic_store_explicit(&mc->t->seq, seq + 1, memory_order_relaxed);
	atomic_thread_fence(memory_order_release);
	/* (a group's slot may be rewritten while a datagram looks it up:
	 * at worst one datagram of a group just joined or left is decided
	 * the other way, as by a NIC's filter being rewritten) */
	memcpy(mc->t->g, mc->groups, mc->ngroups * sizeof(mc->groups[0]));
	atomic_store_explicit(&mc->t->n, mc->ngroups, memory_order_release);
	atomic_store_explicit(&mc->t->seq, seq + 2, memory_order_release);
	mac[n++] = stack_group_mac(RTE_BE32(0xe0000001u));
	for (unsigned i = 0; i < mc->ngroups; i++)
		mac[n++] = stack_group_mac(mc->groups[i].addr);
	if (port_set_mc(mc->port, mac, n) < 0)
		mc->filter_failed++;
}

int
mcast_set(struct mcast *mc, uint32_t sock_id, rte_be32_t g, uint8_t mode, uint8_t nsrc,
	  const rte_be32_t *src, uint64_t now_ms)
{
	struct mc_group old = { .addr = g, .mode = MC_INCLUDE }, new;
	unsigned gi, mi;

	if ((g & RTE_BE32(0xf0000000u)) != RTE_BE32(0xe0000000u) || nsrc > MC_MAX_SOURCES ||
	    (mode != MC_INCLUDE && mode != MC_EXCLUDE))
		return -EINVAL;
	for (gi = 0; gi < mc->ngroups && mc->groups[gi].addr != g; gi++)
		;
	if (gi < mc->ngroups)
		old = mc->groups[gi];
	for (mi = 0; mi < mc->nmem && !(mc->mem[mi].sock_id == sock_id &&
					  mc->mem[mi].group == g); mi++)
		;
	if (mode == MC_INCLUDE && nsrc == 0) {
		if (mi == mc->nmem)
			return 0;               /* (not a member: nothing to leave) */
		mc->mem[mi] = mc->mem[--mc->nmem];
	} else {
		if (mi == mc->nmem) {
			if (mc->nmem == RTE_DIM(mc->mem) ||
			    (gi == mc->ngroups && mc->ngroups == MC_MAX_GROUPS))
				return -ENOBUFS;
			mc->nmem++;
		}
		mc->mem[mi] = (struct mc_member){ .sock_id = sock_id, .group = g, .mode = mode,
						  .nsrc = nsrc };
		memcpy(mc->mem[mi].src, src, nsrc * sizeof(*src));
	}
	mcast_merge(mc, g, &new);
	if (new.members == 0) {
		if (gi < mc->ngroups)
			mc->groups[gi] = mc->groups[--mc->ngroups];
	} else {
		if (gi == mc->ngroups)
			mc->ngroups++;
		mc->groups[gi] = new;
	}
	if (new.members == 0)
		new = (struct mc_group){ .addr = g, .mode = MC_INCLUDE };
	mcast_publish(mc);
	mcast_tell(mc, &old, &new, now_ms);
	return 0;
}

void
mcast_sock_gone(struct mcast *mc, uint32_t sock_id, uint64_t now_ms)
{
	for (unsigned i = 0; i < mc->nmem;) {
		if (mc->mem[i].sock_id == sock_id)
			mcast_set(mc, sock_id, mc->mem[i].group, MC_INCLUDE, 0, NULL, now_ms);
		else
			i++;
	}
}

void
mcast_tick(struct mcast *mc, uint64_t now_ms)
{
	for (unsigned i = 0; i < mc->npend;) {
		struct mcast_pending *p = &mc->pend[i];
		struct mc_group cur = { .addr = p->base.addr, .mode = MC_INCLUDE };
		struct igmp_rec rec[2];
		rte_be32_t a[MC_MAX_SOURCES], b[MC_MAX_SOURCES];
		unsigned n;

		if (now_ms < p->due_ms) {
			i++;
			continue;
		}
		for (unsigned g = 0; g < mc->ngroups; g++)
			if (mc->groups[g].addr == p->base.addr)
				cur = mc->groups[g];
		n = mcast_records(&p->base, &cur, rec, a, b);
		if (n > 0)
			mcast_send(mc, igmp_v3_report(mc->conf, mc->pool, rec, n), now_ms, 0);
		if (n > 0 && --p->left > 0) {
			p->due_ms = now_ms + MCAST_RETX_MS;
			i++;
			continue;
		}
		*p = mc->pend[--mc->npend];     /* told, or back where it was */
	}
	for (unsigned i = 0; i < mc->nretx;) {
		if (now_ms < mc->retx[i].due_ms) {
			i++;
			continue;
		}
		mcast_send(mc, mc->retx[i].m, now_ms, 0);
		mc->retx[i] = mc->retx[--mc->nretx];
	}
}

void
mcast_publish_stats(const struct mcast *mc, struct pn_stats_mcast *out)
{
	out->nb_groups = RTE_MIN(mc->ngroups, (unsigned)PN_STATS_MAX_GROUPS);
	out->igmp_v2 = atomic_load_explicit(&mc->t->v2, memory_order_relaxed);
	out->reports_sent = mc->reports_sent;
	out->reports_failed = mc->reports_failed;
	out->filter_failed = mc->filter_failed;
	for (unsigned i = 0; i < out->nb_groups; i++) {
		const struct mc_group *g = &mc->groups[i];
		struct pn_stats_group *o = &out->groups[i];
		unsigned k = 0;

		memset(o, 0, sizeof(*o));
		o->addr = g->addr;
		o->mode = g->mode;
		o->nsrc = (uint8_t)RTE_MIN(g->nsrc, PN_STATS_GROUP_SRC);
		memcpy(o->src, g->src, o->nsrc * sizeof(o->src[0]));
		o->members = g->members;
		for (unsigned j = 0; j < mc->nmem && k < PN_STATS_GROUP_MEMBERS; j++)
			if (mc->mem[j].group == g->addr)
				o->member_id[k++] = mc->mem[j].sock_id;
	}
}
