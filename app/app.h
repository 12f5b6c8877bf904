/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef PN_APP_H
#define PN_APP_H

#include <stdatomic.h>
#include <stdio.h>

#include "app_stats.h"
#include "config.h"
#include "lcore.h"
#include "kernel_local.h"
#include "neigh.h"
#include "port.h"
#include "stack.h"

struct sock_table;
struct pn_sock;
struct rte_mempool;
struct ctl;
struct capture;
struct mcast;
struct pn_shm_state;

/* Everything the control thread owns. */
struct app {
	const struct pn_config *cfg;
	struct stack_conf sconf;
	struct rte_mempool *pool;
	struct rte_mempool *pool_indirect;  /* mbufs without data: the payloads
	                                 * of fragments we send point into
	                                 * their datagram's */
	struct port *port;
	struct port *exc;              /* the kernel's interface (exc.c), or NULL */
	struct sock_table *socks;
	struct pn_sock *echo;          /* NULL without an echo service */
	uint16_t nb_lcores;
	struct lcore_ctx *lc;          /* [nb_lcores] */
	struct rte_ring **steer;       /* [nb_lcores], NULL with one lcore */
	struct ctl *ctl;               /* the control channel, once open */
	struct statseg seg;            /* what pollnetctl and telemetry read */
	struct capture *cap;           /* the open capture, or NULL */
	struct mcast *mc;              /* the groups joined (mcast.c) */
	struct kernel_local kl;        /* beside the kernel on our address */
	struct neigh neigh;            /* the kernel's neighbours (xdp:; its
	                                * ask ring NULL otherwise) */
	int bell;                      /* the doorbell (an eventfd) */
	int state_fd;                  /* the state page's memfd */
	struct pn_shm_state *state;    /* ... mapped (abi/pn_region.h) */
	uint64_t captures;             /* captures started */
	atomic_bool stop;
};

/* "name value" lines, one counter each (the names pollnetctl uses). */
void report_print(FILE *f, struct app *a);

/* DPDK telemetry commands /pollnet/... over the stats segment. */
void telemetry_register(struct app *a);

#endif
