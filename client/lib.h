/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * libpollnet's own structures, shared by its files: session.c (the control
 * connection: sessions, sockets, bind, connect, close) and datapath.c (the
 * rings: sending, receiving, waiting).
 */
#ifndef POLLNET_LIB_H
#define POLLNET_LIB_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>

#include "pollnet.h"
#include "abi/pn_control.h"
#include "abi/pn_region.h"
#include "wait.h"
#include "pollnet_int.h"

#define LIB_SPIN_US 50                  /* a wait's most spin, unless
                                         * POLLNET_SPIN_US says otherwise */

struct pollnet {
	int fd;                         /* control connection */
	uint32_t seq;
	uint32_t addr;                  /* pollnet's IPv4, network order */
	pthread_mutex_t lock;
	struct pollnet_socket *socks;
	uint64_t spin_ns;               /* the most a wait spins (wait.h) */
	_Atomic int bell;               /* the doorbell (abi/pn_region.h) */
	const struct pn_shm_state *state;       /* mapped read-only */
};

struct pollnet_socket {
	struct pollnet *pn;
	struct pollnet_socket *next;
	uint32_t id;
	uint8_t *region;
	struct pn_shm_hdr geo;          /* checked at attach */
	struct pn_shm_ctl *ctl;
	const _Atomic uint32_t *doze;   /* our lcore's doze word */
	const _Atomic uint32_t *lcore_cpu;      /* where our lcore runs (NULL:
	                                         * not said) */
	struct pn_spin spin;            /* how long a wait spins (wait.h) */
	int rx_fd;                      /* our ends of the wake pairs */
	int tx_fd;
	uint32_t rx_tail;               /* our positions */
	uint32_t rx_avail;              /* datagrams known ready at rx_tail */
	uint32_t rx_lent;               /* datagrams borrowed (pollnet_recv_borrow)
	                                 * and not yet given back, each marked in
	                                 * its descriptor (PN_DESC_LENT) */
	uint32_t rx_hold;               /* with some lent: the oldest's position,
	                                 * the tail pollnet sees (rx_pub) */
	uint32_t tx_head;
	uint32_t tx_limit;              /* tx_head may reach this without looking */
	uint32_t tx_need;               /* positions the next send needs (with
	                                 * its pad): what "room" means */
	uint32_t errors_seen;           /* pollnet's error count we last reported */
	int nonblock;
	int timeout_ms;
	uint8_t tos, ttl;               /* of what it sends (ttl 0: 64) */
	uint8_t pmtudisc;               /* IP_PMTUDISC_*: DF and fragments */
	struct pn_mc_filter *mcf;       /* its memberships: mc_own, or pollnet-run's */
	struct pn_mc_filter mc_own;
};

/* The local port (network order, 0: unbound) and the connected peer
 * (sin_port 0: none), as pollnet wrote them into the region. */
static inline uint16_t
lib_lport(const struct pollnet_socket *s)
{
	return pn_assoc_lport(atomic_load_explicit(&s->ctl->assoc.v, memory_order_acquire));
}

static inline struct sockaddr_in
lib_peer(const struct pollnet_socket *s)
{
	uint64_t v = atomic_load_explicit(&s->ctl->assoc.v, memory_order_acquire);

	return (struct sockaddr_in){ .sin_family = AF_INET, .sin_port = pn_assoc_rport(v),
				     .sin_addr.s_addr = pn_assoc_raddr(v) };
}

/* session.c: one request to pollnet, one reply (with up to three
 * descriptors, into fds). */
int lib_rpc(struct pollnet *pn, struct pn_ctl_req *req, struct pn_ctl_rep *rep, int *fds);
/* The same with more_len bytes after the request, in the same message. */
int lib_rpc_more(struct pollnet *pn, struct pn_ctl_req *req, const void *more, size_t more_len,
		 struct pn_ctl_rep *rep, int *fds);

/* datapath.c: wait (a second at most) until pollnet has taken every
 * datagram sent. */
void lib_tx_flush(struct pollnet_socket *s);

#endif
