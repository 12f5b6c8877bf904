/* SPDX-License-Identifier: BSD-3-Clause */
/* pollnet and the kernel's programs on one address (kernel_local.c). */
#ifndef PN_KERNEL_LOCAL_H
#define PN_KERNEL_LOCAL_H

#include <stdint.h>

#include <rte_byteorder.h>

struct app;
struct rte_mbuf;
struct rte_ring;

/*
 * Where the kernel shares pollnet's address (xdp:, the exception path),
 * its programs on this host and pollnet's sockets are neighbours on one
 * address: one table of UDP ports, and local datagrams both ways.
 *
 * app_udp_hold: hold UDP port `port` for pollnet, or give it back: a
 * kernel socket bound to pollnet's address and the port (the reservation:
 * a kernel program cannot take it, pollnet cannot take one of theirs),
 * then the port's own hold (xdp:'s map keys).  0, or a negative errno
 * (-EADDRINUSE: the kernel's).  Elsewhere: the port's hold alone.
 *
 * A kernel program's datagram to one of pollnet's ports arrives on its
 * reservation socket (through the kernel's loopback, never the wire): the
 * control thread reads it and hands it to lcore 0 (kernel_local.in), which
 * delivers it as a local one (stack_local_from_kernel).  A local datagram
 * from one of pollnet's sockets that no socket of pollnet's takes goes the
 * other way (the stack's kernel_out hook, kernel_local_out, on
 * kernel_local.out), and the control thread sends it from the reservation
 * socket of its source port.
 */
struct kernel_local {
	int *resv;                      /* [65536]: reservation socket, or -1;
	                                 * NULL where the kernel has not our
	                                 * address */
	int ep;                         /* epoll over the reservation sockets */
	int bell;                       /* an eventfd: out has something */
	struct rte_ring *out;           /* MP/SC: lcores to the control thread */
	struct rte_ring *in;            /* SP/SC: the control thread to lcore 0 */
	uint64_t to_kernel, from_kernel;        /* datagrams moved */
	uint64_t dropped;               /* a full ring, no mbuf, too long for
	                                 * one, or a port given back meanwhile */
};

/* An entry of kernel_local.in and .out: m is the payload. */
struct kernel_local_item {
	struct rte_mbuf *m;
	rte_be32_t src, dst;
	rte_be16_t sport, dport;
};

int kernel_local_open(struct app *a);
void kernel_local_close(struct app *a);
int app_udp_hold(struct app *a, uint16_t port, int hold);
/* The control thread's poll: the descriptors to wake for (0 or 2), then
 * what came. */
int kernel_local_fds(const struct app *a, int fds[2]);
void kernel_local_poll(struct app *a);
/* stack_kernel_out, on an lcore (arg: the struct kernel_local). */
int kernel_local_out(void *arg, struct rte_mbuf *m, rte_be16_t sport, rte_be32_t dst,
		     rte_be16_t dport);

#endif
