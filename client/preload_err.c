/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * pollnet-run: a socket's error queue (IP_RECVERR), as the kernel's
 * ip_recv_error and ip_local_error give it: the ICMP errors pollnet posted
 * (client/errq.c reads them) and the datagrams a send refused for their
 * length.
 */
#define _GNU_SOURCE
#include <string.h>
#include <time.h>
#include <linux/errqueue.h>

#include "preload.h"

/* IP_RECVERR: a datagram refused for its length is queued as the kernel's
 * ip_local_error queues it (origin LOCAL, the MTU; the destination, with
 * the peer's port only when connected).  Under the socket's lock. */
void
local_error(struct psock *ps, uint32_t dst, uint16_t dport)
{
	const struct pn_shm_iface *i = iface();
	struct pshared *sh = ps->sh;

	if (sh->nlocal == sizeof(sh->local) / sizeof(sh->local[0]))
		return;                 /* (the kernel's queue has its limit too) */
	sh->local[sh->nlocal].dst = dst;
	sh->local[sh->nlocal].dport = dport;
	sh->local[sh->nlocal].mtu = i != NULL ? i->mtu : 1500;
	sh->nlocal++;
}

/* The error queue's next entry (IP_RECVERR), as the kernel's
 * ip_recv_error gives it: the payload the ICMP error quoted as the data,
 * the datagram's destination as the name, and (e, for recvmsg's control
 * message) what the error said.  Never waits: -EAGAIN when it is empty. */
ssize_t
errq_recv(struct psock *ps, const struct iovec *iov, int iovcnt, struct sockaddr_in *from,
	  size_t *full, struct pn_shm_errent *e)
{
	struct pn_shm_errent mine;
	size_t done = 0;
	int rc;

	if (e == NULL)
		e = &mine;
	ps_lock(ps);
	if (ps->sh->nlocal > 0) {
		/* a local error first (they come before any ICMP error could) */
		struct pshared *sh = ps->sh;

		memset(e, 0, sizeof(*e));
		e->err = -EMSGSIZE;             /* (origin LOCAL: a negative errno) */
		e->info = sh->local[0].mtu;
		e->dst = sh->local[0].dst;
		e->dport = sh->local[0].dport;
		memmove(&sh->local[0], &sh->local[1], --sh->nlocal * sizeof(sh->local[0]));
		rc = 0;
	} else {
		rc = ps->sh->recverr ? pn_int_errq_next(ps->s, &ps->sh->errq_seq, e) : -EAGAIN;
	}
	ps_unlock(ps);
	if (rc < 0)
		return rc;
	for (int i = 0; i < iovcnt && done < e->len; i++) {
		size_t k = e->len - done < iov[i].iov_len ? e->len - done : iov[i].iov_len;

		memcpy(iov[i].iov_base, e->data + done, k);
		done += k;
	}
	*full = e->len;
	*from = (struct sockaddr_in){ .sin_family = AF_INET, .sin_port = e->dport,
				      .sin_addr.s_addr = e->dst };
	return (ssize_t)done;
}

/* recvmsg(MSG_ERRQUEUE): the entry, its IP_RECVERR control message (a
 * struct sock_extended_err and the offender's address). */
ssize_t
errq_recvmsg(struct psock *ps, struct msghdr *m)
{
	struct {
		struct sock_extended_err ee;
		struct sockaddr_in offender;
	} c;
	struct pn_shm_errent e;
	struct sockaddr_in to;
	size_t full, room = 0, used = 0;
	ssize_t r = errq_recv(ps, m->msg_iov, (int)m->msg_iovlen, &to, &full, &e);

	if (r < 0)
		return r;
	for (size_t i = 0; i < m->msg_iovlen; i++)
		room += m->msg_iov[i].iov_len;
	m->msg_flags = MSG_ERRQUEUE | (full > room ? MSG_TRUNC : 0);
	if (m->msg_name != NULL)
		sin_to(&to, m->msg_name, &m->msg_namelen);
	else
		m->msg_namelen = 0;
	memset(&c, 0, sizeof(c));
	c.ee.ee_errno = (uint32_t)(e.err < 0 ? -e.err : e.err);
	c.ee.ee_origin = e.err < 0 ? SO_EE_ORIGIN_LOCAL : SO_EE_ORIGIN_ICMP;
	c.ee.ee_type = e.type;
	c.ee.ee_code = e.code;
	c.ee.ee_info = e.info;
	if (e.err > 0) {                /* (a local error names no offender) */
		c.offender.sin_family = AF_INET;
		c.offender.sin_addr.s_addr = e.offender;
	}
	put_cmsg(m, &used, IPPROTO_IP, IP_RECVERR, &c, sizeof(c));
	m->msg_controllen = used;
	return r;
}
