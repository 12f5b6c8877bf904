/* SPDX-License-Identifier: BSD-3-Clause */
/* pollnet's 82540EM poll-mode driver (e1000.c). */
#ifndef PN_E1000_H
#define PN_E1000_H

#include <stddef.h>
#include <stdint.h>

#include <rte_epoll.h>
#include <rte_ether.h>

#include "e1000_regs.h"

struct rte_mbuf;
struct rte_mempool;
struct rte_memzone;
struct port;
struct port_conf;

#define E1000_MAX_BURST      32
#define E1000_RX_FREE_THRESH 32   /* RDT is written once per this many refills */
#define E1000_TX_RS_THRESH   32   /* RS on every this-many-th descriptor */
#define E1000_TX_MAX_SEGS    48   /* descriptors one frame may take */
#define E1000_RX_BUF         2048 /* RCTL.BSIZE: one buffer holds a 1518-byte frame */

struct e1000_conf {
	uint16_t rx_desc, tx_desc;            /* powers of 2, 64..4096 */
	struct rte_mempool *pool;
	const struct rte_ether_addr *mac;     /* NULL: the device's own */
	int promiscuous;
};

struct e1000_rxq {
	volatile struct e1000_rx_desc *ring;
	struct rte_mbuf **sw;                 /* the mbuf behind each descriptor */
	struct rte_mempool *pool;
	const struct rte_memzone *mz;
	uint16_t n;
	uint16_t next;                        /* next descriptor to look at */
	uint16_t nb_hold;                     /* refilled, not yet given back */
	/* the driver's own counters (lcore only) */
	uint64_t bursts, empty_polls, tail_writes, nombuf, errors;
};

struct e1000_txq {
	volatile struct e1000_tx_desc *ring;
	struct rte_mbuf **sw;
	const struct rte_memzone *mz;
	uint16_t n;
	uint16_t tail;                        /* next free descriptor = TDT */
	uint16_t clean;                       /* next to reclaim (a chunk start) */
	uint16_t nb_free;
	uint64_t bursts, tail_writes, frames, full, reclaims;
	uint64_t contexts;                    /* context descriptors written */
	struct e1000_ctx_desc ctx;            /* the context the device holds */
};

/* Accumulated clear-on-read hardware counters (§13.7). */
struct e1000_hw_stats {
	uint64_t gprc, gptc, gorc, gotc, mpc, crcerrs, rnbc;
};

struct e1000_dev {
	volatile uint8_t *bar0;
	size_t bar0_len;
	char pci[32];
	uint16_t port_id;
	struct rte_ether_addr mac;
	struct e1000_rxq rx;
	struct e1000_txq tx;
	struct e1000_hw_stats hw;
	int uio_fd;                           /* /dev/uioN (interrupts), or -1 */
	int cfg_fd;                           /* its PCI config space (unmasking) */
	struct rte_epoll_event intr_ev;       /* its place in the lcore's epoll set */
};

/* Program the device and fill the RX ring (BAR0 already mapped).  On error,
 * a negative errno and a message in err. */
int e1000_dev_start(struct e1000_dev *d, const struct e1000_conf *c, char *err, size_t errlen);
/* RX and TX off, every mbuf back to the pool, rings freed. */
void e1000_dev_stop(struct e1000_dev *d);

uint16_t e1000_rx_burst(struct e1000_dev *d, struct rte_mbuf **out, uint16_t n);
uint16_t e1000_tx_burst(struct e1000_dev *d, struct rte_mbuf **pkts, uint16_t n);
void e1000_read_hw_stats(struct e1000_dev *d);
int e1000_link_up(struct e1000_dev *d, uint32_t *mbps);

/* Receive interrupts through uio_pci_generic (see port_ops.intr_*). */
int e1000_intr_arm(struct e1000_dev *d);
void e1000_intr_disarm(struct e1000_dev *d);

/* `--port e1000:<PCI address>`: check the device, map it, start it. */
int e1000_port_open(const char *pci, const struct port_conf *conf, struct port *p,
		    char *err, size_t errlen);

#endif
