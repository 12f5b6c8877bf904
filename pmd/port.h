/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The port interface: what the data plane needs from a NIC, whoever drives
 * it.  A port has nb_queues RX/TX queue pairs; each lcore owns one pair and
 * is the only caller of rx_burst/tx_burst on it.
 *
 * Ports are named by a spec "DRIVER:ARGS":
 *   dpdk:<devargs>        any DPDK ethdev, e.g. dpdk:net_af_packet0,iface=veth0
 *                         (a virtual device, hot-plugged) or dpdk:0000:00:03.0
 *                         (a PCI device, probed if EAL has not already)
 *   e1000:<PCI address>   pollnet's own 82540EM driver (pmd/e1000.c); EAL
 *                         must not probe the device (--no-pci, or -b)
 *   xdp:IFACE[,queues=N]  beside the kernel on its interface: net_af_xdp with
 *                         pollnet's XDP program (pmd/xdp_port.c)
 */
#ifndef PN_PORT_H
#define PN_PORT_H

#include <errno.h>
#include <stddef.h>
#include <stdint.h>

#include <rte_ether.h>

struct rte_mbuf;
struct rte_mempool;
struct port;

/* Transmit offloads, DPDK's mbuf conventions (l2_len, l3_len, l4_len set;
 * the UDP checksum field holds the pseudo-header sum). */
#define PORT_TX_CKSUM   1u   /* RTE_MBUF_F_TX_IP_CKSUM and RTE_MBUF_F_TX_UDP_CKSUM */

struct port_conf {
	uint16_t nb_queues;
	uint16_t rx_desc;
	uint16_t tx_desc;
	struct rte_mempool *pool;     /* RX buffers */
	const struct rte_ether_addr *mac;  /* NULL: keep the device's own */
	uint32_t tx_offload;          /* PORT_TX_* the stack may use */
	int rx_intr;                  /* ask for receive interrupts (ethdev:
	                               * intr_conf.rxq), for port_intr_* */
};

struct port_link {
	int up;
	uint32_t speed_mbps;          /* 0 if unknown */
	int full_duplex;
};

/* Device-level counters (what the NIC or its driver saw). */
struct port_stats {
	uint64_t rx_packets, rx_bytes;
	uint64_t tx_packets, tx_bytes;
	uint64_t rx_missed;           /* dropped by the device: no free descriptor (a
	                               * kernel-backed port: no room in its ring) */
	uint64_t rx_held;             /* IP fragments the port's kernel kept for
	                               * reassembly (net_af_packet) */
	uint64_t rx_errors, tx_errors;
	uint64_t rx_nombuf;           /* RX refill failed: pool empty */
	/* a driver's own counters, when it keeps them (has_drv) */
	int has_drv;
	uint64_t drv_bursts;          /* rx_burst + tx_burst calls */
	uint64_t drv_tail_writes;     /* RDT + TDT register writes */
	uint64_t drv_rx_tail_writes, drv_tx_tail_writes;
	uint64_t drv_empty_polls;     /* rx_burst calls that found nothing */
	/* an xdp: port's program: frames it gave pollnet, and the kernel */
	int has_xdp;
	uint64_t xdp_pollnet, xdp_passed;
};

struct port_ops {
	uint16_t (*rx_burst)(struct port *p, uint16_t q, struct rte_mbuf **m, uint16_t n);
	uint16_t (*tx_burst)(struct port *p, uint16_t q, struct rte_mbuf **m, uint16_t n);
	int (*link)(struct port *p, struct port_link *l);
	int (*stats)(struct port *p, struct port_stats *s);
	void (*close)(struct port *p);
	/* Receive interrupts, for an lcore that sleeps when idle; NULL where
	 * the port has none.  intr_setup, on the lcore of queue q, once: put
	 * the queue's interrupt into the calling thread's DPDK epoll set
	 * (RTE_EPOLL_PER_THREAD) with `tag` as its event's data (0, or a
	 * negative errno: -ENOTSUP for a driver without them).  intr_arm,
	 * before sleeping: the next frame (or one already waiting) raises the
	 * interrupt; 1 if the driver can see frames waiting already.
	 * intr_disarm, awake again: interrupts off, the event consumed. */
	int (*intr_setup)(struct port *p, uint16_t q, void *tag);
	int (*intr_arm)(struct port *p, uint16_t q);
	void (*intr_disarm)(struct port *p, uint16_t q);
	/* The group addresses to receive besides ours and broadcast (the
	 * control thread's, while the lcores run): 0, or a negative errno.
	 * NULL: the port takes every group already. */
	int (*set_mc)(struct port *p, const struct rte_ether_addr *mac, unsigned n);
	/* A port beside the kernel (xdp:): hold UDP port `port` (host order)
	 * for pollnet, or give it back: 0, or a negative errno (-EADDRINUSE:
	 * the kernel's).  NULL: every port reaching this one is pollnet's. */
	int (*udp_hold)(struct port *p, uint16_t port, int hold);
};

/* An interface the kernel keeps (xdp:): its IPv4 settings, which pollnet
 * uses; the kernel answers ARP and resolves neighbours (ip 0: none). */
struct port_kernel {
	rte_be32_t ip, netmask, gateway;
	uint16_t mtu;
	int ifindex;
};

struct port {
	const struct port_ops *ops;
	char spec[256];
	char driver[64];              /* e.g. "net_af_packet" */
	uint16_t nb_queues;
	struct rte_ether_addr mac;       /* what the stack answers as */
	int mac_soft;                     /* mac is not the device's: promiscuous */
	uint32_t tx_offload;          /* PORT_TX_* in use: asked for and possible */
	struct port_kernel kernel;
	uint16_t id;                  /* driver-private: the ethdev port id */
	void *priv;
};

/* Open and start a port.  On failure returns a negative errno and writes a
 * message for the user into err. */
int port_open(const char *spec, const struct port_conf *conf, struct port **out,
	      char *err, size_t errlen);
void port_close(struct port *p);

static inline uint16_t
port_rx_burst(struct port *p, uint16_t q, struct rte_mbuf **m, uint16_t n)
{
	return p->ops->rx_burst(p, q, m, n);
}

static inline uint16_t
port_tx_burst(struct port *p, uint16_t q, struct rte_mbuf **m, uint16_t n)
{
	return p->ops->tx_burst(p, q, m, n);
}

static inline int
port_set_mc(struct port *p, const struct rte_ether_addr *mac, unsigned n)
{
	return p->ops->set_mc != NULL ? p->ops->set_mc(p, mac, n) : 0;
}

static inline int
port_udp_hold(struct port *p, uint16_t port, int hold)
{
	return p->ops->udp_hold != NULL ? p->ops->udp_hold(p, port, hold) : 0;
}

static inline int
port_link(struct port *p, struct port_link *l)
{
	return p->ops->link(p, l);
}

static inline int
port_stats(struct port *p, struct port_stats *s)
{
	return p->ops->stats(p, s);
}

/* Receive interrupts (see struct port_ops): -ENOTSUP where there are none. */
static inline int
port_intr_setup(struct port *p, uint16_t q, void *tag)
{
	return p->ops->intr_setup != NULL ? p->ops->intr_setup(p, q, tag) : -ENOTSUP;
}

static inline int
port_intr_arm(struct port *p, uint16_t q)
{
	return p->ops->intr_arm(p, q);
}

static inline void
port_intr_disarm(struct port *p, uint16_t q)
{
	p->ops->intr_disarm(p, q);
}

/* Where the kernel shares pollnet's address (xdp:, the exception path):
 * hold UDP port `port` (host order) in the kernel's table too, with a
 * socket bound to ip and the port (what the kernel's programs on this host
 * send to the port arrives there: app/kernel_local.c).  The socket, or a
 * negative errno (-EADDRINUSE: a kernel program has it). */
int port_kernel_reserve(rte_be32_t ip, uint16_t port);

/* Implementations (e1000_port_open is in e1000.h). */
int ethdev_port_open(const char *devargs, const struct port_conf *conf,
		     struct port *p, char *err, size_t errlen);
int xdp_port_open(const char *args, const struct port_conf *conf,
		  struct port *p, char *err, size_t errlen);
int tap_port_open(const char *args, const struct port_conf *conf,
		  struct port *p, char *err, size_t errlen);

#endif
