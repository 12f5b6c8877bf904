/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * A socket's multicast memberships, kept by its client: the groups it
 * joined and each one's source filter (RFC 3678's any-source and
 * source-specific calls), changed by Linux's rules and errors, sent to
 * pollnet (PN_CTL_MCAST) group by group, and used to choose what the
 * socket takes of the datagrams pollnet delivers to its port for a group
 * the interface joined (Linux's ip_mc_sf_allow, IP_MULTICAST_ALL).
 */
#include <errno.h>
#include <string.h>

#include "lib.h"
#include "pollnet_int.h"

static int
mc_find(const struct pn_mc_filter *f, uint32_t group)
{
	for (int i = 0; i < f->n; i++)
		if (f->m[i].group == group)
			return i;
	return -1;
}

static int
mc_src(const struct pn_mc_member *m, uint32_t src)
{
	for (int i = 0; i < m->nsrc; i++)
		if (m->src[i] == src)
			return i;
	return -1;
}

/* Tell pollnet the socket's filter for group (m NULL: it left). */
static int
mc_tell(struct pollnet_socket *s, uint32_t group, const struct pn_mc_member *m)
{
	struct pn_ctl_req req = { .op = PN_CTL_MCAST, .sock_id = s->id, .addr = group };
	struct pn_ctl_rep rep;
	const uint32_t nsrc = m != NULL ? m->nsrc : 0;

	req.arg = (m == NULL || m->mode == PN_MC_INCLUDE ? PN_MC_INCLUDE : PN_MC_EXCLUDE) |
		  nsrc << 8;
	return lib_rpc_more(s->pn, &req, m != NULL ? m->src : NULL, nsrc * sizeof(uint32_t),
			    &rep, NULL);
}

/* Tell pollnet what changed (if anything did): its error undoes it; else
 * rc, the call's own result. */
static int
mc_tell_or_undo(struct pollnet_socket *s, struct pn_mc_filter *f, const struct pn_mc_filter *old,
		uint32_t group, const struct pn_mc_member *m, int rc)
{
	int i = mc_find(old, group), t;

	if (i >= 0 && m != NULL && memcmp(&old->m[i], m, sizeof(*m)) == 0)
		return rc;              /* nothing changed */
	/* (INCLUDE with no source: pollnet hears a leave) */
	t = mc_tell(s, group, m != NULL && (m->mode == PN_MC_EXCLUDE || m->nsrc > 0) ? m : NULL);
	if (t < 0) {
		*f = *old;
		return t;
	}
	return rc;
}

int
pn_int_mc(struct pollnet_socket *s, struct pn_mc_filter *f, int op, uint32_t group,
	  uint32_t src)
{
	const struct pn_mc_filter old = *f;
	const uint8_t omode = op == PN_MC_BLOCK || op == PN_MC_UNBLOCK ? PN_MC_EXCLUDE :
			      PN_MC_INCLUDE;
	int i = mc_find(f, group), k, rc;
	struct pn_mc_member *m = i >= 0 ? &f->m[i] : NULL;

	if ((ntohl(group) >> 28) != 0xe)
		return -EINVAL;
	switch (op) {
	case PN_MC_JOIN:
		if (m != NULL)
			return -EADDRINUSE;
		if (f->n == PN_MC_MAX_MEMBERSHIPS)
			return -ENOBUFS;
		m = &f->m[f->n++];
		*m = (struct pn_mc_member){ .group = group, .mode = PN_MC_EXCLUDE };
		break;
	case PN_MC_LEAVE:
		if (m == NULL)
			return -EADDRNOTAVAIL;
		*m = f->m[--f->n];
		m = NULL;
		break;
	default:
		/* Linux's ip_mc_source: IP_ADD_SOURCE_MEMBERSHIP joins first
		 * (in INCLUDE mode, no source yet) */
		if (m == NULL && op == PN_MC_JOIN_SOURCE) {
			if (f->n == PN_MC_MAX_MEMBERSHIPS)
				return -ENOBUFS;
			m = &f->m[f->n++];
			*m = (struct pn_mc_member){ .group = group, .mode = PN_MC_INCLUDE };
		}
		if (m == NULL)
			return -EINVAL;         /* a source needs a join first */
		if (m->mode != omode) {
			/* a filter with sources keeps its mode; one that never
			 * had any takes the call's */
			if (m->has_list)
				return -EINVAL;
			m->mode = omode;
		}
		k = mc_src(m, src);
		if (op == PN_MC_LEAVE_SOURCE || op == PN_MC_UNBLOCK) {
			if (!m->has_list || k < 0) {
				rc = -EADDRNOTAVAIL;
				goto told;      /* (a mode switched is still news) */
			}
			if (m->mode == PN_MC_INCLUDE && m->nsrc == 1) {
				/* (INCLUDE, nothing) is a leave */
				*m = f->m[--f->n];
				m = NULL;
				break;
			}
			m->src[k] = m->src[--m->nsrc];
			break;
		}
		if (m->has_list && m->nsrc >= PN_MC_MAX_SRC) {
			*f = old;
			return -ENOBUFS;
		}
		if (k >= 0) {
			rc = -EADDRNOTAVAIL;
			goto told;
		}
		m->src[m->nsrc++] = src;
		m->has_list = 1;
		break;
	}
	return mc_tell_or_undo(s, f, &old, group, m, 0);
told:
	return mc_tell_or_undo(s, f, &old, group, m, rc);
}

int
pn_int_mc_takes(const struct pn_mc_filter *f, uint32_t group, uint32_t src)
{
	int i = mc_find(f, group);

	if (i < 0)
		return !f->all_off;     /* IP_MULTICAST_ALL: another socket's group */
	return (mc_src(&f->m[i], src) >= 0) == (f->m[i].mode == PN_MC_INCLUDE);
}

int
pollnet_join(struct pollnet_socket *s, const struct in_addr *group, const struct in_addr *source)
{
	return pn_int_mc(s, s->mcf, source != NULL && source->s_addr != 0 ? PN_MC_JOIN_SOURCE :
			 PN_MC_JOIN, group->s_addr, source != NULL ? source->s_addr : 0);
}

int
pollnet_leave(struct pollnet_socket *s, const struct in_addr *group, const struct in_addr *source)
{
	return pn_int_mc(s, s->mcf, source != NULL && source->s_addr != 0 ? PN_MC_LEAVE_SOURCE :
			 PN_MC_LEAVE, group->s_addr, source != NULL ? source->s_addr : 0);
}
