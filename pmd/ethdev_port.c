/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The port interface over any DPDK ethdev: net_e1000_em, net_af_packet,
 * net_tap, net_ring, net_pcap, ...  A thin adapter: bursts go straight to
 * rte_eth_rx_burst/rte_eth_tx_burst.
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <net/if.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <linux/if_packet.h>

#include <bsd/string.h>
#include <rte_bus.h>
#include <rte_dev.h>
#include <rte_ethdev.h>

#include "port.h"

/*
 * What the adapter keeps besides DPDK's port id: for the ports whose driver
 * is the Linux kernel (net_af_packet, net_tap), what the kernel dropped on
 * the way to pollnet, which DPDK 22.11's drivers do not report.  All of it
 * is read by the control thread (port_stats), never by an lcore.
 *
 * net_af_packet: frames its sockets' rings had no room for (each socket's
 * PACKET_STATISTICS, reset by every read: accumulated), frames the
 * interface dropped before any socket saw them (its rx_dropped in
 * /proc/net/dev: a full backlog), both in rx_missed; and IP fragments the
 * kernel took for reassembly, because the driver joins its fanout group
 * with PACKET_FANOUT_FLAG_DEFRAG (ReasmReqds - ReasmOKs in /proc/net/snmp,
 * for pollnet's whole network namespace), in rx_held.
 * net_tap: frames the kernel could not queue to pollnet's tap (its
 * tx_dropped), in rx_missed.
 * Counted from the port's opening.
 */
#define ETHDEV_MAX_PKT_SOCKS 16

enum ethdev_kernel { KERNEL_NONE, KERNEL_AF_PACKET, KERNEL_TAP };

struct ethdev_priv {
	bool hotplugged;                 /* we probed it, we remove it */
	enum ethdev_kernel kernel;
	char ifname[IF_NAMESIZE];        /* the kernel's interface */
	int nb_pkt_socks;
	int pkt_socks[ETHDEV_MAX_PKT_SOCKS];
	uint64_t ring_drops;             /* PACKET_STATISTICS tp_drops, summed */
	uint64_t if_drops0;              /* the interface's drops at opening */
	uint64_t reasm0;                 /* ReasmReqds - ReasmOKs at opening */
};

/* Column col (0: rx bytes, 3: rx drop, 11: tx drop) of ifname's line in
 * this network namespace's /proc/net/dev, or 0. */
static uint64_t
proc_net_dev(const char *ifname, int col)
{
	FILE *f = fopen("/proc/self/net/dev", "r");
	char line[512];
	uint64_t v = 0;
	size_t n = strlen(ifname);

	while (f != NULL && fgets(line, sizeof(line), f) != NULL) {
		const char *p = line + strspn(line, " ");
		char *q;

		if (strncmp(p, ifname, n) != 0 || p[n] != ':')
			continue;
		q = (char *)p + n + 1;
		for (int i = 0; i <= col; i++) {
			unsigned long long x = strtoull(q, &q, 10);

			if (i == col)
				v = x;
		}
		break;
	}
	if (f != NULL)
		fclose(f);
	return v;
}

/* ReasmReqds - ReasmOKs from this network namespace's /proc/net/snmp. */
static uint64_t
proc_net_reasm_held(void)
{
	FILE *f = fopen("/proc/self/net/snmp", "r");
	char names[2048], values[2048];
	uint64_t reqds = 0, oks = 0;

	while (f != NULL && fgets(names, sizeof(names), f) != NULL &&
	       fgets(values, sizeof(values), f) != NULL) {
		char *ns = NULL, *vs = NULL, *n, *v;

		if (strncmp(names, "Ip: ", 4) != 0)
			continue;
		n = strtok_r(names, " \n", &ns);
		v = strtok_r(values, " \n", &vs);
		while ((n = strtok_r(NULL, " \n", &ns)) != NULL &&
		       (v = strtok_r(NULL, " \n", &vs)) != NULL) {
			if (strcmp(n, "ReasmReqds") == 0)
				reqds = strtoull(v, NULL, 10);
			else if (strcmp(n, "ReasmOKs") == 0)
				oks = strtoull(v, NULL, 10);
		}
		break;
	}
	if (f != NULL)
		fclose(f);
	return reqds - oks;
}

static uint16_t
ethdev_rx_burst(struct port *p, uint16_t q, struct rte_mbuf **m, uint16_t n)
{
	return rte_eth_rx_burst(p->id, q, m, n);
}

static uint16_t
ethdev_tx_burst(struct port *p, uint16_t q, struct rte_mbuf **m, uint16_t n)
{
	return rte_eth_tx_burst(p->id, q, m, n);
}

static int
ethdev_link(struct port *p, struct port_link *l)
{
	struct rte_eth_link el;
	int rc = rte_eth_link_get_nowait(p->id, &el);

	if (rc < 0)
		return rc;
	l->up = el.link_status == RTE_ETH_LINK_UP;
	l->speed_mbps = el.link_speed == RTE_ETH_SPEED_NUM_UNKNOWN ? 0 : el.link_speed;
	l->full_duplex = el.link_duplex == RTE_ETH_LINK_FULL_DUPLEX;
	return 0;
}

/* Our packet sockets' drops since we last asked (reading resets them). */
static void
ethdev_ring_drops(struct ethdev_priv *pv)
{
	for (int i = 0; i < pv->nb_pkt_socks; i++) {
		struct tpacket_stats st;
		socklen_t len = sizeof(st);

		if (getsockopt(pv->pkt_socks[i], SOL_PACKET, PACKET_STATISTICS, &st, &len) == 0)
			pv->ring_drops += st.tp_drops;
	}
}

static int
ethdev_stats(struct port *p, struct port_stats *s)
{
	struct ethdev_priv *pv = p->priv;
	struct rte_eth_stats es;
	int rc = rte_eth_stats_get(p->id, &es);

	if (rc < 0)
		return rc;
	s->rx_packets = es.ipackets;
	s->rx_bytes = es.ibytes;
	s->tx_packets = es.opackets;
	s->tx_bytes = es.obytes;
	s->rx_missed = es.imissed;
	s->rx_errors = es.ierrors;
	s->tx_errors = es.oerrors;
	s->rx_nombuf = es.rx_nombuf;
	if (pv->kernel == KERNEL_AF_PACKET) {
		ethdev_ring_drops(pv);
		s->rx_missed += pv->ring_drops + proc_net_dev(pv->ifname, 3) - pv->if_drops0;
		s->rx_held = proc_net_reasm_held() - pv->reasm0;
	} else if (pv->kernel == KERNEL_TAP) {
		s->rx_missed += proc_net_dev(pv->ifname, 11) - pv->if_drops0;
	}
	return 0;
}

static void
ethdev_close(struct port *p)
{
	struct ethdev_priv *pv = p->priv;
	struct rte_eth_dev_info info;
	struct rte_device *dev = NULL;

	if (rte_eth_dev_info_get(p->id, &info) == 0)
		dev = info.device;
	rte_eth_dev_stop(p->id);
	rte_eth_dev_close(p->id);
	if (pv->hotplugged && dev != NULL)
		rte_dev_remove(dev);
	free(pv);
	p->priv = NULL;
}

/*
 * Receive interrupts through DPDK's own machinery (as l3fwd-power uses it):
 * the queue's event in the lcore's per-thread epoll set; DPDK's handler
 * reads what must be read (an eventfd's count, uio's) and leaves alone what
 * must not be (net_tap's queue descriptor).  Drivers without them
 * (net_af_packet) refuse the setup.
 */
static int
ethdev_intr_setup(struct port *p, uint16_t q, void *tag)
{
	return rte_eth_dev_rx_intr_ctl_q(p->id, q, RTE_EPOLL_PER_THREAD,
					 RTE_INTR_EVENT_ADD, tag);
}

static int
ethdev_intr_arm(struct port *p, uint16_t q)
{
	int rc = rte_eth_dev_rx_intr_enable(p->id, q);

	/* net_tap has no switch: its event, the queue's descriptor, is
	 * always armed */
	if (rc < 0 && rc != -ENOTSUP)
		return rc;
	/* not every driver can count its ready descriptors (-ENOTSUP) */
	return rte_eth_rx_queue_count(p->id, q) > 0;
}

static void
ethdev_intr_disarm(struct port *p, uint16_t q)
{
	rte_eth_dev_rx_intr_disable(p->id, q);
}

/*
 * The groups to receive: the device's multicast list where it has one
 * (net_e1000_em: its MTA; net_tap: the kernel's list for the tap), else
 * every group (all-multicast); a device with neither (net_af_packet,
 * net_ring) passes every frame already, and pollnet's IP layer drops the
 * groups it has not joined.
 */
static int
ethdev_set_mc(struct port *p, const struct rte_ether_addr *mac, unsigned n)
{
	int rc = rte_eth_dev_set_mc_addr_list(p->id, (struct rte_ether_addr *)(uintptr_t)mac, n);

	if (rc == -ENOTSUP)
		rc = rte_eth_allmulticast_enable(p->id);
	return rc == -ENOTSUP ? 0 : rc;
}

static const struct port_ops ethdev_ops = {
	.rx_burst = ethdev_rx_burst,
	.tx_burst = ethdev_tx_burst,
	.link = ethdev_link,
	.stats = ethdev_stats,
	.close = ethdev_close,
	.intr_setup = ethdev_intr_setup,
	.intr_arm = ethdev_intr_arm,
	.intr_disarm = ethdev_intr_disarm,
	.set_mc = ethdev_set_mc,
};

/* [DDDD:]BB:DD.F */
static bool
is_pci_addr(const char *s)
{
	unsigned a, b, c, d;
	char tail;

	return sscanf(s, "%x:%x:%x.%x%c", &a, &b, &c, &d, &tail) == 4 ||
	       sscanf(s, "%x:%x.%x%c", &b, &c, &d, &tail) == 3;
}

/* Find the ethdev for devargs, probing (hot-plugging) it if needed. */
static int
ethdev_find(const char *devargs, uint16_t *id, bool *probed, char *err, size_t errlen)
{
	char name[RTE_DEV_NAME_MAX_LEN];
	size_t n = strcspn(devargs, ",");
	int rc;

	if (n == 0 || n >= sizeof(name)) {
		snprintf(err, errlen, "bad device name in '%s'", devargs);
		return -EINVAL;
	}
	memcpy(name, devargs, n);
	name[n] = '\0';
	*probed = false;
	if (rte_eth_dev_get_port_by_name(name, id) == 0)
		return 0;       /* EAL already has it (--vdev, or PCI scan) */

	rc = rte_dev_probe(devargs);
	if (rc < 0) {
		snprintf(err, errlen, "cannot probe '%s': %s%s", devargs, strerror(-rc),
			 is_pci_addr(name) ? " (is the device bound to uio_pci_generic or "
			 "vfio-pci? see dpdk-devbind.py --status)" :
			 " (is the driver's plugin installed, and the devargs right?)");
		return rc;
	}
	*probed = true;
	if (rte_eth_dev_get_port_by_name(name, id) == 0)
		return 0;
	/* PCI names may be normalised (domain added): take the last new port. */
	if (is_pci_addr(name)) {
		uint16_t pid;

		RTE_ETH_FOREACH_DEV(pid) {
			struct rte_eth_dev_info info;

			if (rte_eth_dev_info_get(pid, &info) == 0 &&
			    strstr(rte_dev_name(info.device), name) != NULL) {
				*id = pid;
				return 0;
			}
		}
	}
	snprintf(err, errlen, "'%s' was probed but is not an ethdev", devargs);
	return -ENODEV;
}

/* The interface named by the devargs' iface=NAME (net_af_packet, net_tap)
 * into name ("" when there is none). */
static void
devargs_iface(const char *devargs, char name[IF_NAMESIZE])
{
	const char *v = strstr(devargs, ",iface=");
	size_t n;

	name[0] = '\0';
	if (v == NULL)
		return;
	v += strlen(",iface=");
	n = strcspn(v, ",");
	if (n == 0 || n >= IF_NAMESIZE)
		return;
	memcpy(name, v, n);
	name[n] = '\0';
}

/* Our AF_PACKET sockets bound to interface ifindex: net_af_packet's. */
static void
ethdev_find_pkt_socks(struct ethdev_priv *pv, unsigned ifindex)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;

	if (d == NULL)
		return;
	while ((e = readdir(d)) != NULL && pv->nb_pkt_socks < ETHDEV_MAX_PKT_SOCKS) {
		struct sockaddr_ll sll;
		socklen_t len = sizeof(sll);
		int fd = atoi(e->d_name), domain;
		socklen_t dlen = sizeof(domain);

		if (e->d_name[0] < '0' || e->d_name[0] > '9' || fd == dirfd(d))
			continue;
		if (getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &domain, &dlen) < 0 ||
		    domain != AF_PACKET)
			continue;
		if (getsockname(fd, (struct sockaddr *)&sll, &len) == 0 &&
		    sll.sll_family == AF_PACKET && (unsigned)sll.sll_ifindex == ifindex)
			pv->pkt_socks[pv->nb_pkt_socks++] = fd;
	}
	closedir(d);
}

int
ethdev_port_open(const char *devargs, const struct port_conf *conf,
		 struct port *p, char *err, size_t errlen)
{
	struct ethdev_priv *pv;
	struct rte_eth_conf ec = { 0 };
	struct rte_eth_dev_info info;
	struct rte_device *dev = NULL;
	uint16_t id, nrx = conf->rx_desc, ntx = conf->tx_desc;
	bool probed;
	int rc;

	pv = calloc(1, sizeof(*pv));
	if (pv == NULL) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	rc = ethdev_find(devargs, &id, &probed, err, errlen);
	if (rc < 0) {
		free(pv);
		return rc;
	}
	p->id = id;
	pv->hotplugged = probed;
	p->priv = pv;
	p->ops = &ethdev_ops;

	rc = rte_eth_dev_info_get(id, &info);
	if (rc < 0) {
		snprintf(err, errlen, "%s: cannot get device info: %s", devargs, strerror(-rc));
		goto fail;
	}
	dev = info.device;
	strlcpy(p->driver, info.driver_name, sizeof(p->driver));
	if (conf->nb_queues > info.max_rx_queues || conf->nb_queues > info.max_tx_queues) {
		snprintf(err, errlen, "%s (%s) has %u RX / %u TX queues, %u needed "
			 "(one per data-plane lcore%s)", devargs, info.driver_name,
			 info.max_rx_queues, info.max_tx_queues, conf->nb_queues,
			 strcmp(info.driver_name, "net_af_packet") == 0 ?
			 "; add qpairs=N to the devargs" : "");
		rc = -EINVAL;
		goto fail;
	}
	/* Checksums in hardware where the device has them (net_e1000_em does;
	 * net_af_packet and net_tap do not). */
	{
		const uint64_t ck = RTE_ETH_TX_OFFLOAD_IPV4_CKSUM | RTE_ETH_TX_OFFLOAD_UDP_CKSUM;

		if ((conf->tx_offload & PORT_TX_CKSUM) && (info.tx_offload_capa & ck) == ck) {
			ec.txmode.offloads |= ck;
			p->tx_offload |= PORT_TX_CKSUM;
		}
	}
	if (conf->nb_queues > 1 && info.flow_type_rss_offloads != 0) {
		ec.rxmode.mq_mode = RTE_ETH_MQ_RX_RSS;
		ec.rx_adv_conf.rss_conf.rss_hf = (RTE_ETH_RSS_IP | RTE_ETH_RSS_UDP) &
						 info.flow_type_rss_offloads;
	}
	ec.intr_conf.rxq = conf->rx_intr != 0;
	rc = rte_eth_dev_configure(id, conf->nb_queues, conf->nb_queues, &ec);
	if (rc == 0)
		rc = rte_eth_dev_adjust_nb_rx_tx_desc(id, &nrx, &ntx);
	if (rc < 0) {
		snprintf(err, errlen, "%s: configure failed: %s", devargs, strerror(-rc));
		goto fail;
	}
	for (uint16_t q = 0; q < conf->nb_queues; q++) {
		rc = rte_eth_rx_queue_setup(id, q, nrx, rte_eth_dev_socket_id(id),
					    NULL, conf->pool);
		if (rc == 0)
			rc = rte_eth_tx_queue_setup(id, q, ntx,
						    rte_eth_dev_socket_id(id), NULL);
		if (rc < 0) {
			snprintf(err, errlen, "%s: queue %u setup failed: %s",
				 devargs, q, strerror(-rc));
			goto fail;
		}
	}
	rc = rte_eth_dev_start(id);
	if (rc < 0) {
		snprintf(err, errlen, "%s: start failed: %s", devargs, strerror(-rc));
		goto fail;
	}
	rte_eth_macaddr_get(id, &p->mac);
	if (conf->mac != NULL && !rte_is_same_ether_addr(conf->mac, &p->mac)) {
		rc = rte_eth_dev_default_mac_addr_set(id, (struct rte_ether_addr *)conf->mac);
		if (rc == 0)
			rte_eth_macaddr_get(id, &p->mac);
		else if (rc != -ENOTSUP) {
			snprintf(err, errlen, "%s: cannot set the MAC address: %s",
				 devargs, strerror(-rc));
			goto fail;
		}
	}
	if (conf->mac != NULL && !rte_is_same_ether_addr(conf->mac, &p->mac)) {
		/* The device cannot take it (net_pcap): answer as that MAC in
		 * software, and let the device pass every frame up. */
		p->mac = *conf->mac;
		p->mac_soft = 1;
	} else if (!rte_is_valid_assigned_ether_addr(&p->mac)) {
		/* net_ring has none: make up a locally administered one. */
		rte_eth_random_addr(p->mac.addr_bytes);
		p->mac_soft = 1;
	}
	if (p->mac_soft)
		rte_eth_promiscuous_enable(id);   /* best effort: some have no filter */
	p->nb_queues = conf->nb_queues;
	/* the kernel's interface: the driver says (dev_info.if_index), else
	 * the devargs do */
	if (info.if_index == 0 || if_indextoname(info.if_index, pv->ifname) == NULL)
		devargs_iface(devargs, pv->ifname);
	if (pv->ifname[0] != '\0' && strcmp(info.driver_name, "net_af_packet") == 0) {
		/* the sockets' drops count from their creation: what the
		 * kernel dropped before the lcores polled was lost too */
		pv->kernel = KERNEL_AF_PACKET;
		ethdev_find_pkt_socks(pv, if_nametoindex(pv->ifname));
		pv->if_drops0 = proc_net_dev(pv->ifname, 3);
		pv->reasm0 = proc_net_reasm_held();
	} else if (pv->ifname[0] != '\0' && strcmp(info.driver_name, "net_tap") == 0) {
		pv->kernel = KERNEL_TAP;
		pv->if_drops0 = proc_net_dev(pv->ifname, 11);
	}
	return 0;
fail:
	rte_eth_dev_stop(id);
	rte_eth_dev_close(id);
	if (probed && dev != NULL)
		rte_dev_remove(dev);
	free(pv);
	p->priv = NULL;
	return rc;
}
