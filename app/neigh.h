/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The kernel's neighbour table, for a port beside the kernel (xdp:): the
 * kernel answers ARP and resolves addresses there, pollnet reads what it
 * learnt through rtnetlink (app/neigh.c) and tells the lcores, whose ARP
 * caches it fills (their arp_notify rings).  An lcore that needs an
 * address asks (the ask ring); the control thread asks the kernel for its
 * entry and to resolve or confirm it (RTM_NEWNEIGH with NTF_USE), and
 * hears the answer as the kernel's notification.
 */
#ifndef PN_NEIGH_H
#define PN_NEIGH_H

#include <stdint.h>

#include <rte_byteorder.h>
#include <rte_ether.h>

struct rte_ring;

typedef void neigh_learn_fn(void *arg, rte_be32_t ip, const struct rte_ether_addr *mac);

struct neigh {
	int ifindex;
	int ev_fd;                      /* RTNLGRP_NEIGH's notifications */
	int req_fd;                     /* our requests and their answers */
	uint32_t seq;
	struct rte_ring *ask;           /* MP/SC: addresses lcores need */
	int bell;                       /* an eventfd an ask rings: the
	                                 * control thread's poll wakes at once
	                                 * (as it does for ev_fd) */
	neigh_learn_fn *learn;
	void *arg;
	uint64_t learned;               /* mappings passed to the lcores */
	uint64_t asked;                 /* addresses asked of the kernel */
	uint64_t notify_drops;          /* mappings an lcore's full ring lost */
};

/* Open both sockets and the ask ring, and ask for the table as it is
 * (the first neigh_poll passes it on): 0, or a negative errno. */
int neigh_open(struct neigh *n, int ifindex, neigh_learn_fn *learn, void *arg);
/* The control thread, often: the lcores' asks, the kernel's news. */
void neigh_poll(struct neigh *n);
void neigh_close(struct neigh *n);
/* The descriptors the control thread's poll should wake for: 0, 1 or 2. */
int neigh_fds(const struct neigh *n, int fds[2]);

/* An lcore's stack_arp_ask hook (arg: the struct neigh): a miss, which
 * is rare, so the eventfd write (a system call on an lcore) is paid only
 * then, as a client's wake-up is. */
void neigh_ask(void *arg, rte_be32_t ip);

#endif
