/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * pollnet's own poll-mode driver for the Intel 82540EM, as QEMU emulates it.
 *
 * The device is reached from user space: BAR0 mapped through sysfs
 * (resource0, the device bound to uio_pci_generic), bus mastering enabled
 * through the config space, rings in DPDK memzones and buffers from the mbuf
 * pool, addressed by physical IOVA (EAL in IOVA=PA mode): the device DMAs
 * straight into mbufs.  One RX and one TX queue.
 *
 * What QEMU's model imposes (hw/net/e1000.c), and what we do about it:
 * every register write is a VM exit that runs the device, so tails are
 * written once per burst at most (RX: once per E1000_RX_FREE_THRESH refills);
 * a TDT write transmits everything up to the tail inside that exit, and DD is
 * written back only where RS is set, so RS goes on every E1000_TX_RS_THRESH-th
 * descriptor and the TX ring is reclaimed in chunks of that size.
 *
 * Built a second time with PN_E1000_MODEL for the unit tests, where register
 * accesses go to a software model of the device (tests/unit/e1000_model.c).
 */
#include "e1000.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <bsd/string.h>
#include <rte_atomic.h>
#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_io.h>
#include <rte_malloc.h>
#include <rte_ip.h>
#include <rte_mbuf.h>
#include <rte_memzone.h>
#include <rte_udp.h>

#include "e1000_regs.h"
#include "port.h"

#ifdef PN_E1000_MODEL
uint32_t e1000_model_read(uint32_t reg);
void e1000_model_write(uint32_t reg, uint32_t val);
#define E1000_RD(d, r)    e1000_model_read(r)
#define E1000_WR(d, r, v) e1000_model_write((r), (v))
#else
#define E1000_RD(d, r)    rte_read32((d)->bar0 + (r))
#define E1000_WR(d, r, v) rte_write32((v), (d)->bar0 + (r))
#endif

/* ---- PCI, through sysfs ---- */

#ifndef PN_E1000_MODEL
static int
sysfs_read(const char *pci, const char *file, char *buf, size_t len)
{
	char path[256];
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/%s", pci, file);
	fd = open(path, O_RDONLY);
	if (fd < 0)
		return -errno;
	n = read(fd, buf, len - 1);
	close(fd);
	if (n < 0)
		return -errno;
	buf[n] = '\0';
	return 0;
}

/* The device, as the user must have prepared it. */
static int
e1000_pci_check(const char *pci, char *err, size_t errlen)
{
	char buf[64], path[256], link[256];
	unsigned long vendor, device;
	ssize_t n;
	const char *drv;

	if (sysfs_read(pci, "vendor", buf, sizeof(buf)) < 0) {
		snprintf(err, errlen, "e1000:%s: no such PCI device "
			 "(see dpdk-devbind.py --status)", pci);
		return -ENODEV;
	}
	vendor = strtoul(buf, NULL, 16);
	sysfs_read(pci, "device", buf, sizeof(buf));
	device = strtoul(buf, NULL, 16);
	if (vendor != E1000_VENDOR_INTEL || device != E1000_DEV_82540EM) {
		snprintf(err, errlen, "e1000:%s is %04lx:%04lx, not an Intel 82540EM "
			 "(8086:100e): this driver knows no other device", pci, vendor, device);
		return -ENODEV;
	}
	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/driver", pci);
	n = readlink(path, link, sizeof(link) - 1);
	if (n < 0) {
		snprintf(err, errlen, "e1000:%s is bound to no driver: run "
			 "'dpdk-devbind.py --bind=uio_pci_generic %s' first", pci, pci);
		return -ENODEV;
	}
	link[n] = '\0';
	drv = strrchr(link, '/') ? strrchr(link, '/') + 1 : link;
	if (strcmp(drv, "uio_pci_generic") != 0) {
		snprintf(err, errlen, "e1000:%s is in use by the kernel's %s driver: run "
			 "'dpdk-devbind.py --bind=uio_pci_generic %s' first", pci, drv, pci);
		return -EBUSY;
	}
	if (rte_eal_iova_mode() != RTE_IOVA_PA) {
		snprintf(err, errlen, "e1000:%s: the device needs physical addresses: "
			 "run with the EAL option --iova-mode=pa", pci);
		return -EINVAL;
	}
	return 0;
}

/* Map BAR0 (resource0) and let the device master the bus (command
 * register bit 2, PCI config space offset 4). */
static int
e1000_pci_map(struct e1000_dev *d, char *err, size_t errlen)
{
	char path[256];
	uint16_t cmd;
	struct stat st;
	int fd;

	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/resource0", d->pci);
	fd = open(path, O_RDWR | O_SYNC);
	if (fd < 0 || fstat(fd, &st) < 0 || st.st_size < E1000_BAR0_SIZE) {
		snprintf(err, errlen, "e1000:%s: cannot open BAR0 (%s): %s", d->pci, path,
			 strerror(errno));
		if (fd >= 0)
			close(fd);
		return -errno;
	}
	d->bar0 = mmap(NULL, (size_t)st.st_size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	close(fd);
	if (d->bar0 == MAP_FAILED) {
		d->bar0 = NULL;
		snprintf(err, errlen, "e1000:%s: cannot map BAR0: %s", d->pci, strerror(errno));
		return -errno;
	}
	d->bar0_len = (size_t)st.st_size;

	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/config", d->pci);
	fd = open(path, O_RDWR);
	if (fd < 0 || pread(fd, &cmd, 2, 4) != 2) {
		snprintf(err, errlen, "e1000:%s: cannot read the PCI command register", d->pci);
		if (fd >= 0)
			close(fd);
		return -EIO;
	}
	cmd |= 1u << 2;                 /* bus master */
	if (pwrite(fd, &cmd, 2, 4) != 2) {
		close(fd);
		snprintf(err, errlen, "e1000:%s: cannot enable bus mastering", d->pci);
		return -EIO;
	}
	close(fd);
	return 0;
}
#endif

/* ---- rings ---- */

static int
e1000_rx_setup(struct e1000_dev *d, uint16_t n, struct rte_mempool *pool)
{
	struct e1000_rxq *q = &d->rx;
	char name[RTE_MEMZONE_NAMESIZE];

	snprintf(name, sizeof(name), "pn_e1k_rx_%.20s", d->pci);
	/* RDLEN must be a multiple of 128 bytes (§13.4.28): n % 8 == 0 */
	q->mz = rte_memzone_reserve_aligned(name, n * sizeof(struct e1000_rx_desc),
					    SOCKET_ID_ANY, RTE_MEMZONE_IOVA_CONTIG, 4096);
	q->sw = rte_zmalloc("pn_e1000_rxsw", n * sizeof(q->sw[0]), RTE_CACHE_LINE_SIZE);
	if (q->mz == NULL || q->sw == NULL)
		return -ENOMEM;
	q->ring = q->mz->addr;
	q->n = n;
	q->pool = pool;
	memset(q->mz->addr, 0, q->mz->len);
	if (rte_pktmbuf_alloc_bulk(pool, q->sw, n) != 0)
		return -ENOBUFS;
	for (uint16_t i = 0; i < n; i++)
		q->ring[i].addr = rte_mbuf_data_iova_default(q->sw[i]);

	/* §14.4: base, length, head and tail, then enable.  RDT is one behind
	 * the last descriptor with a buffer: RDT == RDH would read as "no
	 * buffers" (§3.2.6). */
	E1000_WR(d, E1000_RDBAL, (uint32_t)q->mz->iova);
	E1000_WR(d, E1000_RDBAH, (uint32_t)(q->mz->iova >> 32));
	E1000_WR(d, E1000_RDLEN, n * sizeof(struct e1000_rx_desc));
	E1000_WR(d, E1000_RDH, 0);
	E1000_WR(d, E1000_RDT, n - 1);
	E1000_WR(d, E1000_RDTR, 0);
	q->next = 0;
	return 0;
}

static int
e1000_tx_setup(struct e1000_dev *d, uint16_t n)
{
	struct e1000_txq *q = &d->tx;
	char name[RTE_MEMZONE_NAMESIZE];

	snprintf(name, sizeof(name), "pn_e1k_tx_%.20s", d->pci);
	q->mz = rte_memzone_reserve_aligned(name, n * sizeof(struct e1000_tx_desc),
					    SOCKET_ID_ANY, RTE_MEMZONE_IOVA_CONTIG, 4096);
	q->sw = rte_zmalloc("pn_e1000_txsw", n * sizeof(q->sw[0]), RTE_CACHE_LINE_SIZE);
	if (q->mz == NULL || q->sw == NULL)
		return -ENOMEM;
	q->ring = q->mz->addr;
	q->n = n;
	memset(q->mz->addr, 0, q->mz->len);
	q->tail = 0;
	q->clean = 0;
	q->nb_free = n - 1;             /* TDT == TDH reads as empty: keep one */

	/* §14.5 */
	E1000_WR(d, E1000_TDBAL, (uint32_t)q->mz->iova);
	E1000_WR(d, E1000_TDBAH, (uint32_t)(q->mz->iova >> 32));
	E1000_WR(d, E1000_TDLEN, n * sizeof(struct e1000_tx_desc));
	E1000_WR(d, E1000_TDH, 0);
	E1000_WR(d, E1000_TDT, 0);
	E1000_WR(d, E1000_TIDV, 0);
	return 0;
}

/* ---- the device ---- */

int
e1000_dev_start(struct e1000_dev *d, const struct e1000_conf *c, char *err, size_t errlen)
{
	uint32_t ral, rah;
	int rc;

	if (c->rx_desc < 64 || c->rx_desc > 4096 || !rte_is_power_of_2(c->rx_desc) ||
	    c->tx_desc < 64 || c->tx_desc > 4096 || !rte_is_power_of_2(c->tx_desc)) {
		snprintf(err, errlen, "e1000:%s: ring sizes must be powers of 2 "
			 "from 64 to 4096 (rx %u, tx %u)", d->pci, c->rx_desc, c->tx_desc);
		return -EINVAL;
	}
	if (rte_pktmbuf_data_room_size(c->pool) < RTE_PKTMBUF_HEADROOM + E1000_RX_BUF) {
		snprintf(err, errlen, "e1000:%s: the pool's buffers are smaller than %u bytes",
			 d->pci, E1000_RX_BUF);
		return -EINVAL;
	}
	/* §14.3: interrupts off (we poll), reset, interrupts off again */
	E1000_WR(d, E1000_IMC, 0xffffffff);
	E1000_WR(d, E1000_CTRL, E1000_RD(d, E1000_CTRL) | E1000_CTRL_RST);
	for (int i = 0; i < 1000 && (E1000_RD(d, E1000_CTRL) & E1000_CTRL_RST); i++)
		rte_delay_us_sleep(10);
	E1000_WR(d, E1000_IMC, 0xffffffff);
	(void)E1000_RD(d, E1000_ICR);
	E1000_WR(d, E1000_CTRL, E1000_RD(d, E1000_CTRL) | E1000_CTRL_SLU | E1000_CTRL_ASDE);

	/* §13.5: our address in RAL0/RAH0 with Address Valid, no multicast */
	if (c->mac != NULL) {
		const uint8_t *m = c->mac->addr_bytes;

		E1000_WR(d, E1000_RAL0, m[0] | m[1] << 8 | m[2] << 16 | (uint32_t)m[3] << 24);
		E1000_WR(d, E1000_RAH0, m[4] | m[5] << 8 | E1000_RAH_AV);
	}
	ral = E1000_RD(d, E1000_RAL0);
	rah = E1000_RD(d, E1000_RAH0);
	E1000_WR(d, E1000_RAH0, rah | E1000_RAH_AV);
	for (int i = 0; i < 4; i++)
		d->mac.addr_bytes[i] = (uint8_t)(ral >> (8 * i));
	d->mac.addr_bytes[4] = (uint8_t)rah;
	d->mac.addr_bytes[5] = (uint8_t)(rah >> 8);
	for (int i = 0; i < E1000_MTA_WORDS; i++)
		E1000_WR(d, E1000_MTA + 4 * i, 0);

	rc = e1000_rx_setup(d, c->rx_desc, c->pool);
	if (rc == 0)
		rc = e1000_tx_setup(d, c->tx_desc);
	if (rc < 0) {
		snprintf(err, errlen, "e1000:%s: cannot set up the rings: %s", d->pci, strerror(-rc));
		e1000_dev_stop(d);
		return rc;
	}
	E1000_WR(d, E1000_TIPG, E1000_TIPG_82540);
	E1000_WR(d, E1000_TCTL, E1000_TCTL_EN | E1000_TCTL_PSP | E1000_TCTL_CT(0x0f) |
			     E1000_TCTL_COLD(0x40));
	E1000_WR(d, E1000_RCTL, E1000_RCTL_EN | E1000_RCTL_BAM | E1000_RCTL_BSIZE_2048 |
			     E1000_RCTL_SECRC | (c->promiscuous ? E1000_RCTL_UPE : 0));
	/* start the clear-on-read counters from zero */
	e1000_read_hw_stats(d);
	memset(&d->hw, 0, sizeof(d->hw));
	return 0;
}

void
e1000_dev_stop(struct e1000_dev *d)
{
	if (d->rx.ring != NULL || d->tx.ring != NULL) {
		E1000_WR(d, E1000_RCTL, 0);
		E1000_WR(d, E1000_TCTL, 0);
	}
	/* every mbuf back to the pool: the RX buffers, and what TX still holds */
	for (uint16_t i = 0; d->rx.sw != NULL && i < d->rx.n; i++)
		rte_pktmbuf_free(d->rx.sw[i]);
	for (uint16_t i = 0; d->tx.sw != NULL && i < d->tx.n; i++)
		rte_pktmbuf_free(d->tx.sw[i]);
	rte_free(d->rx.sw);
	rte_free(d->tx.sw);
	rte_memzone_free(d->rx.mz);
	rte_memzone_free(d->tx.mz);
	memset(&d->rx, 0, sizeof(d->rx));
	memset(&d->tx, 0, sizeof(d->tx));
}

uint16_t
e1000_rx_burst(struct e1000_dev *d, struct rte_mbuf **out, uint16_t n)
{
	struct e1000_rxq *q = &d->rx;
	struct rte_mbuf *fresh[E1000_MAX_BURST];
	const uint16_t mask = q->n - 1;
	uint16_t ready = 0, idx = q->next, got = 0;

	q->bursts++;
	if (n > E1000_MAX_BURST)
		n = E1000_MAX_BURST;
	/* How many are done (§3.2.3: DD) */
	while (ready < n && (q->ring[(idx + ready) & mask].status & E1000_RXD_STAT_DD))
		ready++;
	if (ready == 0) {
		q->empty_polls++;
		return 0;
	}
	/* DD before the rest of the descriptor */
	rte_smp_rmb();
	/* New buffers first: with none, the frames wait in the ring. */
	if (rte_pktmbuf_alloc_bulk(q->pool, fresh, ready) != 0) {
		q->nombuf++;
		return 0;
	}
	for (uint16_t k = 0; k < ready; k++, idx = (idx + 1) & mask) {
		volatile struct e1000_rx_desc *desc = &q->ring[idx];
		struct rte_mbuf *m = q->sw[idx];
		uint16_t len = desc->length;
		uint8_t st = desc->status, errs = desc->errors;

		q->sw[idx] = fresh[k];
		desc->addr = rte_mbuf_data_iova_default(fresh[k]);
		desc->status = 0;
		if (!(st & E1000_RXD_STAT_EOP) || errs != 0 || len == 0 || len > E1000_RX_BUF) {
			q->errors++;            /* a frame we cannot take whole */
			rte_pktmbuf_free(m);
			continue;
		}
		m->data_len = len;
		m->pkt_len = len;
		m->nb_segs = 1;
		m->port = d->port_id;
		out[got++] = m;
	}
	q->next = idx;
	q->nb_hold += ready;
	if (q->nb_hold >= E1000_RX_FREE_THRESH) {
		/* hand the refilled descriptors back: one write, one behind */
		rte_wmb();
		E1000_WR(d, E1000_RDT, (uint32_t)((q->next - 1) & mask));
		q->tail_writes++;
		q->nb_hold = 0;
	}
	return got;
}

/* Free what the device has sent, a chunk at a time: the last descriptor of
 * each chunk carries RS, so its DD says the whole chunk is done. */
static void
e1000_tx_reclaim(struct e1000_txq *q)
{
	const uint16_t mask = q->n - 1;

	while (q->n - 1 - q->nb_free >= E1000_TX_RS_THRESH) {
		uint16_t last = (q->clean + E1000_TX_RS_THRESH - 1) & mask;

		if (!(q->ring[last].status & E1000_TXD_STAT_DD))
			break;
		rte_pktmbuf_free_bulk(&q->sw[q->clean], E1000_TX_RS_THRESH);
		memset(&q->sw[q->clean], 0, E1000_TX_RS_THRESH * sizeof(q->sw[0]));
		q->ring[last].status = 0;
		q->clean = (q->clean + E1000_TX_RS_THRESH) & mask;
		q->nb_free += E1000_TX_RS_THRESH;
		q->reclaims++;
	}
}

/* Write one descriptor (its 16 bytes as two 8-byte stores); RS on every
 * E1000_TX_RS_THRESH-th slot, whatever its kind, so each chunk reports
 * itself done (§3.3.3.2).  `owner` is freed when the chunk is reclaimed. */
static inline void
tx_put(struct e1000_txq *q, uint64_t lo, uint64_t hi, uint64_t rs, struct rte_mbuf *owner)
{
	volatile uint64_t *w = (volatile uint64_t *)&q->ring[q->tail];

	if ((q->tail & (E1000_TX_RS_THRESH - 1)) == E1000_TX_RS_THRESH - 1)
		hi |= rs;
	w[0] = lo;
	w[1] = hi;
	q->sw[q->tail] = owner;
	q->tail = (q->tail + 1) & (q->n - 1);
	q->nb_free--;
}

/*
 * The context a checksum-offloading frame needs (§3.3.6): where the IPv4
 * header and its checksum are, and where the UDP checksum goes; the device
 * sums from the UDP header to the end of the frame, starting from the
 * pseudo-header sum the stack left in the checksum field.
 */
static void
tx_context(const struct rte_mbuf *m, struct e1000_ctx_desc *c)
{
	const uint32_t l2 = m->l2_len, l3 = m->l3_len;

	memset(c, 0, sizeof(*c));
	c->ipcss = (uint8_t)l2;
	c->ipcso = (uint8_t)(l2 + offsetof(struct rte_ipv4_hdr, hdr_checksum));
	c->ipcse = (uint16_t)(l2 + l3 - 1);
	c->cmd_len = E1000_TXC_DEXT | E1000_TXC_IP;
	if (m->ol_flags & RTE_MBUF_F_TX_UDP_CKSUM) {
		c->tucss = (uint8_t)(l2 + l3);
		c->tucso = (uint8_t)(l2 + l3 + offsetof(struct rte_udp_hdr, dgram_cksum));
		c->tucse = 0;                   /* to the end of the frame */
	}
}

static inline int
tx_needs_context(uint64_t ol)
{
	return (ol & (RTE_MBUF_F_TX_IP_CKSUM | RTE_MBUF_F_TX_UDP_CKSUM)) != 0;
}

uint16_t
e1000_tx_burst(struct e1000_dev *d, struct rte_mbuf **pkts, uint16_t n)
{
	struct e1000_txq *q = &d->tx;
	uint16_t sent, start = q->tail;

	q->bursts++;
	if (q->nb_free < E1000_TX_RS_THRESH || q->nb_free < n)
		e1000_tx_reclaim(q);
	for (sent = 0; sent < n; sent++) {
		struct rte_mbuf *m = pkts[sent], *seg;
		const int offload = tx_needs_context(m->ol_flags);
		struct e1000_ctx_desc c;
		uint64_t hi, rs;
		uint32_t dcmd;
		int new_ctx = 0;

		if (m->nb_segs > E1000_TX_MAX_SEGS)
			break;          /* not ours to send: the caller counts it */
		if (offload) {
			tx_context(m, &c);
			/* the device keeps the last context: write one only
			 * when it changes */
			new_ctx = memcmp(&c, &q->ctx, sizeof(c)) != 0;
		}
		if (q->nb_free < m->nb_segs + new_ctx) {
			e1000_tx_reclaim(q);
			if (q->nb_free < m->nb_segs + new_ctx) {
				q->full++;
				break;
			}
		}
		if (new_ctx) {
			uint64_t w[2];

			memcpy(w, &c, sizeof(w));
			tx_put(q, w[0], w[1], E1000_TXC_RS, NULL);
			q->ctx = c;
			q->contexts++;
		}
		if (offload) {
			dcmd = E1000_TXD_X_DEXT | E1000_TXD_DTYP_D | E1000_TXD_X_IFCS;
			hi = (uint64_t)((m->ol_flags & RTE_MBUF_F_TX_IP_CKSUM ? E1000_POPTS_IXSM : 0) |
				(m->ol_flags & RTE_MBUF_F_TX_UDP_CKSUM ? E1000_POPTS_TXSM : 0)) << 40;
			rs = E1000_TXD_X_RS;
		} else {
			/* legacy: cmd in byte 11 */
			dcmd = (uint32_t)E1000_TXD_CMD_IFCS << 24;
			hi = 0;
			rs = (uint64_t)E1000_TXD_CMD_RS << 24;
		}
		for (seg = m; seg != NULL; seg = seg->next) {
			uint32_t eop = seg->next == NULL ?
				(offload ? E1000_TXD_X_EOP : (uint32_t)E1000_TXD_CMD_EOP << 24) : 0;

			/* the packet's mbuf is freed with its last descriptor */
			tx_put(q, rte_mbuf_data_iova(seg),
			       hi | dcmd | eop | rte_pktmbuf_data_len(seg), rs,
			       seg->next == NULL ? m : NULL);
		}
	}
	if (q->tail != start) {
		/* descriptors before the doorbell; one doorbell per burst */
		rte_wmb();
		E1000_WR(d, E1000_TDT, q->tail);
		q->tail_writes++;
		q->frames += sent;
	}
	return sent;
}

/* Accumulate the clear-on-read statistics registers (§13.7); the control
 * thread is their only reader. */
void
e1000_read_hw_stats(struct e1000_dev *d)
{
	uint64_t lo;

	d->hw.crcerrs += E1000_RD(d, E1000_CRCERRS);
	d->hw.mpc += E1000_RD(d, E1000_MPC);
	d->hw.rnbc += E1000_RD(d, E1000_RNBC);
	d->hw.gprc += E1000_RD(d, E1000_GPRC);
	d->hw.gptc += E1000_RD(d, E1000_GPTC);
	lo = E1000_RD(d, E1000_GORCL);          /* low first, then high */
	d->hw.gorc += lo | (uint64_t)E1000_RD(d, E1000_GORCH) << 32;
	lo = E1000_RD(d, E1000_GOTCL);
	d->hw.gotc += lo | (uint64_t)E1000_RD(d, E1000_GOTCH) << 32;
}

int
e1000_link_up(struct e1000_dev *d, uint32_t *mbps)
{
	uint32_t st = E1000_RD(d, E1000_STATUS);
	static const uint32_t speed[4] = { 10, 100, 1000, 1000 };

	*mbps = speed[(st >> E1000_STATUS_SPEED_SHIFT) & 3];
	return (st & E1000_STATUS_LU) != 0;
}

/* ---- receive interrupts ---- */

/*
 * For an lcore that sleeps when idle.  uio_pci_generic forwards the
 * device's legacy interrupt: its handler masks INTx (PCI command register
 * bit 10, Interrupt Disable) and counts; read() on /dev/uioN returns the
 * count (4 bytes) and blocks until it changes.  Unmasking is ours, through
 * the config space (the driver has no irqcontrol: write() on /dev/uioN
 * fails).  The device
 * raises its line while ICR & IMS != 0 (§13.4.17-20), and its causes latch
 * in ICR whatever the mask: a frame that came between our last look and
 * the arming raises the interrupt as soon as IMS lets it (QEMU's model
 * re-evaluates the line on every IMS write).
 */
int
e1000_intr_arm(struct e1000_dev *d)
{
	const struct e1000_rxq *q = &d->rx;

#ifndef PN_E1000_MODEL
	uint8_t hi;                     /* command register bits 8-15 */

	if (pread(d->cfg_fd, &hi, 1, 5) != 1)
		return -EIO;
	if (hi & 0x04) {                /* bit 10: INTx masked */
		hi &= (uint8_t)~0x04;
		if (pwrite(d->cfg_fd, &hi, 1, 5) != 1)
			return -EIO;
	}
#endif
	E1000_WR(d, E1000_IMS, E1000_ICR_RXT0 | E1000_ICR_RXO | E1000_ICR_RXDMT0);
	return (q->ring[q->next].status & E1000_RXD_STAT_DD) != 0;
}

void
e1000_intr_disarm(struct e1000_dev *d)
{
	int32_t count;

	E1000_WR(d, E1000_IMC, 0xffffffff);
	(void)E1000_RD(d, E1000_ICR);   /* the causes cleared: the line drops */
#ifndef PN_E1000_MODEL
	/* the interrupt's count, if one came (non-blocking: else EAGAIN) */
	if (read(d->uio_fd, &count, sizeof(count)) < 0)
		count = 0;
#else
	(void)count;
#endif
}

#ifndef PN_E1000_MODEL
/* /dev/uioN of the device (its sysfs uio/ directory names it). */
static int
e1000_uio_open(const char *pci)
{
	char path[256];
	struct dirent *e;
	DIR *dir;
	int fd = -ENODEV;

	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/uio", pci);
	dir = opendir(path);
	if (dir == NULL)
		return -errno;
	while ((e = readdir(dir)) != NULL) {
		if (strncmp(e->d_name, "uio", 3) != 0)
			continue;
		snprintf(path, sizeof(path), "/dev/%.32s", e->d_name);
		fd = open(path, O_RDWR | O_NONBLOCK | O_CLOEXEC);
		if (fd < 0)
			fd = -errno;
		break;
	}
	closedir(dir);
	return fd;
}
#endif

/* ---- behind the port interface ---- */

static uint16_t
port_e1000_rx(struct port *p, uint16_t q, struct rte_mbuf **m, uint16_t n)
{
	return e1000_rx_burst(p->priv, m, n);
}

static uint16_t
port_e1000_tx(struct port *p, uint16_t q, struct rte_mbuf **m, uint16_t n)
{
	return e1000_tx_burst(p->priv, m, n);
}

static int
port_e1000_link(struct port *p, struct port_link *l)
{
	l->up = e1000_link_up(p->priv, &l->speed_mbps);
	l->full_duplex = 1;
	return 0;
}

static int
port_e1000_stats(struct port *p, struct port_stats *s)
{
	struct e1000_dev *d = p->priv;

	e1000_read_hw_stats(d);
	s->rx_packets = d->hw.gprc;
	s->rx_bytes = d->hw.gorc;
	s->tx_packets = d->hw.gptc;
	s->tx_bytes = d->hw.gotc;
	s->rx_missed = d->hw.mpc;
	s->rx_errors = d->hw.crcerrs + d->rx.errors;
	s->tx_errors = 0;
	s->rx_nombuf = d->rx.nombuf;
	s->drv_bursts = d->rx.bursts + d->tx.bursts;
	s->drv_tail_writes = d->rx.tail_writes + d->tx.tail_writes;
	s->drv_empty_polls = d->rx.empty_polls;
	s->drv_rx_tail_writes = d->rx.tail_writes;
	s->drv_tx_tail_writes = d->tx.tail_writes;
	s->has_drv = 1;
	return 0;
}

static int
port_e1000_intr_setup(struct port *p, uint16_t q, void *tag)
{
#ifndef PN_E1000_MODEL
	struct e1000_dev *d = p->priv;
	char path[256];
	int fd, rc;

	(void)q;
	if (d->uio_fd >= 0)
		return -EBUSY;
	fd = e1000_uio_open(d->pci);
	if (fd < 0)
		return fd;
	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/config", d->pci);
	d->cfg_fd = open(path, O_RDWR | O_CLOEXEC);
	if (d->cfg_fd < 0) {
		rc = -errno;
		close(fd);
		return rc;
	}
	d->intr_ev = (struct rte_epoll_event){
		.epdata = { .event = EPOLLIN, .data = tag },
	};
	rc = rte_epoll_ctl(RTE_EPOLL_PER_THREAD, EPOLL_CTL_ADD, fd, &d->intr_ev);
	if (rc < 0) {
		close(fd);
		close(d->cfg_fd);
		d->cfg_fd = -1;
		return rc;
	}
	d->uio_fd = fd;
	return 0;
#else
	(void)p, (void)q, (void)tag;
	return -ENOTSUP;
#endif
}

static int
port_e1000_intr_arm(struct port *p, uint16_t q)
{
	(void)q;
	return e1000_intr_arm(p->priv);
}

static void
port_e1000_intr_disarm(struct port *p, uint16_t q)
{
	(void)q;
	e1000_intr_disarm(p->priv);
}

static void
port_e1000_close(struct port *p)
{
	struct e1000_dev *d = p->priv;

	e1000_dev_stop(d);
#ifndef PN_E1000_MODEL
	if (d->uio_fd >= 0)
		close(d->uio_fd);       /* (the lcore's epoll set drops it) */
	if (d->cfg_fd >= 0)
		close(d->cfg_fd);
	if (d->bar0 != NULL)
		munmap((void *)d->bar0, d->bar0_len);
#endif
	free(d);
}

/*
 * The multicast table (§13.5.1, RCTL.MO 00): a group address is taken when
 * the bit its bits 47:36 select is set (QEMU's filter reads it the same
 * way).  Written whole, from the control thread: each register write is
 * one, and a frame checked in between sees the table old or new.
 */
static int
port_e1000_set_mc(struct port *p, const struct rte_ether_addr *mac, unsigned n)
{
	struct e1000_dev *d = p->priv;
	uint32_t mta[E1000_MTA_WORDS] = { 0 };

	for (unsigned i = 0; i < n; i++) {
		const uint16_t h = (uint16_t)((mac[i].addr_bytes[4] >> 4) |
					      ((uint16_t)mac[i].addr_bytes[5] << 4)) & 0xfff;

		mta[h >> 5] |= 1u << (h & 0x1f);
	}
	for (int i = 0; i < E1000_MTA_WORDS; i++)
		E1000_WR(d, E1000_MTA + 4 * i, mta[i]);
	(void)d;                        /* (the model's writes need none) */
	return 0;
}

static const struct port_ops e1000_ops = {
	.rx_burst = port_e1000_rx,
	.tx_burst = port_e1000_tx,
	.link = port_e1000_link,
	.stats = port_e1000_stats,
	.close = port_e1000_close,
	.intr_setup = port_e1000_intr_setup,
	.intr_arm = port_e1000_intr_arm,
	.intr_disarm = port_e1000_intr_disarm,
	.set_mc = port_e1000_set_mc,
};

int
e1000_port_open(const char *pci, const struct port_conf *conf, struct port *p,
		char *err, size_t errlen)
{
	struct e1000_conf ec = {
		.rx_desc = conf->rx_desc, .tx_desc = conf->tx_desc, .pool = conf->pool,
		.mac = conf->mac,
	};
	struct e1000_dev *d;
	int rc;

	if (conf->nb_queues != 1) {
		snprintf(err, errlen, "e1000:%s has one queue pair; run one data-plane "
			 "lcore (-l 0-1)", pci);
		return -EINVAL;
	}
	d = calloc(1, sizeof(*d));
	if (d == NULL)
		return -ENOMEM;
	strlcpy(d->pci, pci, sizeof(d->pci));
	d->uio_fd = -1;
	d->cfg_fd = -1;
#ifndef PN_E1000_MODEL
	rc = e1000_pci_check(pci, err, errlen);
	if (rc == 0)
		rc = e1000_pci_map(d, err, errlen);
#else
	rc = 0;
#endif
	if (rc == 0)
		rc = e1000_dev_start(d, &ec, err, errlen);
	if (rc < 0) {
#ifndef PN_E1000_MODEL
		if (d->bar0 != NULL)
			munmap((void *)d->bar0, d->bar0_len);
#endif
		free(d);
		return rc;
	}
	/* checksum insertion (§3.3.6) */
	p->tx_offload = conf->tx_offload & PORT_TX_CKSUM;
	p->ops = &e1000_ops;
	p->priv = d;
	p->nb_queues = 1;
	p->mac = d->mac;
	strlcpy(p->driver, "pollnet_e1000", sizeof(p->driver));
	return 0;
}
