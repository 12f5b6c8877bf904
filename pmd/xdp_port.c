/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * `--port xdp:IFACE[,queues=N]`: pollnet beside the kernel on an interface
 * the kernel keeps (its address, ARP, TCP, ssh).  DPDK's net_af_xdp opens
 * an AF_XDP socket per queue (a device per queue: xdp_open_queue) with
 * pollnet's own XDP program
 * (xdp/pollnet_xdp.bpf.c, embedded in the binary and handed to the driver
 * as /proc/self/fd/N through its xdp_prog devarg); the program sends
 * pollnet the UDP datagrams to the (address, port) pairs in its
 * pollnet_ports map and passes the rest to the kernel.
 *
 * The port:
 * - takes the kernel's address, network, broadcast, default gateway and
 *   MTU for the stack (struct port_kernel); the kernel resolves neighbours
 *   (app/neigh.c reads its table through rtnetlink);
 * - holds a UDP port for pollnet (udp_hold): the port's three keys in the
 *   map (the app holds it in the kernel's table first: a reservation
 *   socket, app/kernel_local.c);
 * - attaches the program through a BPF link, not the netlink attachment
 *   the driver made: a link lives as long as its descriptor, so when
 *   pollnet leaves, however it leaves (SIGKILL, a crash), the kernel
 *   detaches the program, and frees the map with its entries.  The
 *   reservation sockets close with the process too: the kernel has its
 *   ports back.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include <linux/ethtool.h>
#include <linux/if_link.h>
#include <linux/sockios.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <bsd/string.h>
#include <rte_epoll.h>

#include "port.h"
#include "pn_xdp.h"

/* the object file, embedded at build time (xdp/embed.py) */
extern const unsigned char pn_xdp_obj[];
extern const size_t pn_xdp_obj_len;

struct xdp_priv {
	/* one net_af_xdp device per queue, each behind the ethdev adapter
	 * with its one queue (xdp_open_queue) */
	uint16_t nb_sub;
	struct port *sub;
	int ifindex;
	int obj_fd;                      /* the program's object (memfd) */
	int prog_fd, link_fd;
	int ports_fd, verdicts_fd;       /* its maps */
	rte_be32_t bcast;
	/* the driver's AF_XDP sockets, one per queue: an lcore that sleeps
	 * waits for its socket to be readable (its receive ring not empty) */
	uint16_t nb_xsk;
	int xsk[PN_XDP_MAX_QUEUES];
	struct rte_epoll_event xsk_ev[PN_XDP_MAX_QUEUES];
};

static struct port_ops xdp_ops;

static void
xdp_keys(const struct port *p, const struct xdp_priv *x, uint16_t port,
	 struct pn_xdp_key k[3])
{
	const rte_be32_t addr[3] = { p->kernel.ip, x->bcast, 0xffffffffu };

	for (int i = 0; i < 3; i++)
		k[i] = (struct pn_xdp_key){ .addr = addr[i], .port = htons(port) };
}

static int
xdp_udp_hold(struct port *p, uint16_t port, int hold)
{
	struct xdp_priv *x = p->priv;
	struct pn_xdp_key k[3];
	const uint32_t one = 1;

	xdp_keys(p, x, port, k);
	if (!hold) {
		for (int i = 0; i < 3; i++)
			bpf_map_delete_elem(x->ports_fd, &k[i]);
		return 0;
	}
	for (int i = 0; i < 3; i++) {
		if (bpf_map_update_elem(x->ports_fd, &k[i], &one, BPF_ANY) < 0) {
			int e = errno;

			for (int j = 0; j < i; j++)
				bpf_map_delete_elem(x->ports_fd, &k[j]);
			return -e;
		}
	}
	return 0;
}

/*
 * Receive interrupts, which net_af_xdp does not offer: its AF_XDP socket,
 * readable while the queue's receive ring holds a frame (level-triggered:
 * a frame that came before the wait wakes it at once; poll also kicks the
 * kernel where the fill ring asked for a wake-up).
 */
static int
xdp_intr_setup(struct port *p, uint16_t q, void *tag)
{
	struct xdp_priv *x = p->priv;

	if (q >= x->nb_xsk)
		return -ENOTSUP;
	x->xsk_ev[q] = (struct rte_epoll_event){ .epdata = { .event = EPOLLIN, .data = tag } };
	return rte_epoll_ctl(RTE_EPOLL_PER_THREAD, EPOLL_CTL_ADD, x->xsk[q], &x->xsk_ev[q]);
}

static int
xdp_intr_arm(struct port *p, uint16_t q)
{
	return 0;
}

static void
xdp_intr_disarm(struct port *p, uint16_t q)
{
}

/* The AF_XDP socket the driver has just made (for queue x->nb_xsk): the
 * one among the process's descriptors that is not one of x->xsk; -1 if
 * there is not exactly one. */
static int
xdp_new_socket(const struct xdp_priv *x)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;
	int found = -1, n = 0;

	while (d != NULL && (e = readdir(d)) != NULL) {
		int fd = atoi(e->d_name), domain, known = 0;
		socklen_t dlen = sizeof(domain);

		if (e->d_name[0] < '0' || e->d_name[0] > '9' || fd == dirfd(d) ||
		    getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &domain, &dlen) != 0 ||
		    domain != AF_XDP)
			continue;
		for (uint16_t i = 0; i < x->nb_xsk; i++)
			known |= x->xsk[i] == fd;
		if (!known) {
			found = fd;
			n++;
		}
	}
	if (d != NULL)
		closedir(d);
	return n == 1 ? found : -1;
}

/* The map called name of the program prog_fd: its descriptor, or -1. */
static int
xdp_prog_map(int prog_fd, const char *name)
{
	struct bpf_prog_info info = { 0 };
	uint32_t len = sizeof(info), map_ids[8];

	info.nr_map_ids = RTE_DIM(map_ids);
	info.map_ids = (uint64_t)(uintptr_t)map_ids;
	if (bpf_obj_get_info_by_fd(prog_fd, &info, &len) < 0)
		return -1;
	for (uint32_t i = 0; i < info.nr_map_ids && i < RTE_DIM(map_ids); i++) {
		struct bpf_map_info mi = { 0 };
		uint32_t mlen = sizeof(mi);
		int fd = bpf_map_get_fd_by_id(map_ids[i]);

		if (fd < 0)
			continue;
		if (bpf_obj_get_info_by_fd(fd, &mi, &mlen) == 0 && strcmp(mi.name, name) == 0)
			return fd;
		close(fd);
	}
	return -1;
}

/* The program's verdicts, summed over CPUs: [PN_XDP_TO_POLLNET],
 * [PN_XDP_PASSED]. */
static void
xdp_verdicts(const struct xdp_priv *x, uint64_t out[2])
{
	int ncpu = libbpf_num_possible_cpus();
	uint64_t *v;

	out[0] = out[1] = 0;
	if (ncpu <= 0 || (v = calloc((size_t)ncpu, sizeof(*v))) == NULL)
		return;
	for (uint32_t k = 0; k < 2; k++) {
		if (bpf_map_lookup_elem(x->verdicts_fd, &k, v) != 0)
			continue;
		for (int c = 0; c < ncpu; c++)
			out[k] += v[c];
	}
	free(v);
}

static uint16_t
xdp_rx_burst(struct port *p, uint16_t q, struct rte_mbuf **m, uint16_t n)
{
	struct port *s = &((struct xdp_priv *)p->priv)->sub[q];

	return s->ops->rx_burst(s, 0, m, n);
}

static uint16_t
xdp_tx_burst(struct port *p, uint16_t q, struct rte_mbuf **m, uint16_t n)
{
	struct port *s = &((struct xdp_priv *)p->priv)->sub[q];

	return s->ops->tx_burst(s, 0, m, n);
}

static int
xdp_link(struct port *p, struct port_link *l)
{
	struct port *s = &((struct xdp_priv *)p->priv)->sub[0];

	return s->ops->link(s, l);
}

/* The queues' devices' counters, summed, and the program's verdicts. */
static int
xdp_stats(struct port *p, struct port_stats *s)
{
	struct xdp_priv *x = p->priv;
	uint64_t v[2];
	int rc = 0;

	memset(s, 0, sizeof(*s));
	for (uint16_t q = 0; q < x->nb_sub; q++) {
		struct port_stats t;
		int r = x->sub[q].ops->stats(&x->sub[q], &t);

		if (r < 0) {
			rc = r;
			continue;
		}
		s->rx_packets += t.rx_packets;
		s->rx_bytes += t.rx_bytes;
		s->tx_packets += t.tx_packets;
		s->tx_bytes += t.tx_bytes;
		s->rx_missed += t.rx_missed;
		s->rx_held += t.rx_held;
		s->rx_errors += t.rx_errors;
		s->tx_errors += t.tx_errors;
		s->rx_nombuf += t.rx_nombuf;
	}
	xdp_verdicts(x, v);
	s->has_xdp = 1;
	s->xdp_pollnet = v[PN_XDP_TO_POLLNET];
	s->xdp_passed = v[PN_XDP_PASSED];
	return rc;
}

static void
xdp_release(struct xdp_priv *x)
{
	if (x->link_fd >= 0)
		close(x->link_fd);      /* the kernel detaches the program */
	for (uint16_t q = 0; q < x->nb_sub; q++)
		x->sub[q].ops->close(&x->sub[q]);
	free(x->sub);
	if (x->ports_fd >= 0)
		close(x->ports_fd);
	if (x->verdicts_fd >= 0)
		close(x->verdicts_fd);
	if (x->prog_fd >= 0)
		close(x->prog_fd);
	if (x->obj_fd >= 0)
		close(x->obj_fd);
	free(x);
}

static void
xdp_close(struct port *p)
{
	/* the program off first (its link): the devices then find none to
	 * detach */
	xdp_release(p->priv);
	p->priv = NULL;
}

/* The kernel's IPv4 address, network and broadcast on ifname (its first),
 * its MTU, and the default gateway through it. */
static int
xdp_kernel_addr(const char *ifname, struct port *p, rte_be32_t *bcast, char *err,
		size_t errlen)
{
	struct ifaddrs *ifa, *i;
	struct ifreq ifr = { 0 };
	FILE *f;
	char line[256];
	int fd;

	if (getifaddrs(&ifa) < 0) {
		snprintf(err, errlen, "port xdp:%s: cannot list the kernel's addresses: %s",
			 ifname, strerror(errno));
		return -errno;
	}
	for (i = ifa; i != NULL; i = i->ifa_next) {
		if (i->ifa_addr == NULL || i->ifa_addr->sa_family != AF_INET ||
		    strcmp(i->ifa_name, ifname) != 0)
			continue;
		p->kernel.ip = ((struct sockaddr_in *)i->ifa_addr)->sin_addr.s_addr;
		p->kernel.netmask = ((struct sockaddr_in *)i->ifa_netmask)->sin_addr.s_addr;
		*bcast = p->kernel.ip | ~p->kernel.netmask;
		break;
	}
	freeifaddrs(ifa);
	if (p->kernel.ip == 0) {
		snprintf(err, errlen, "port xdp:%s: the interface has no IPv4 address: pollnet "
			 "uses the kernel's (ip addr add ... dev %s)", ifname, ifname);
		return -EADDRNOTAVAIL;
	}
	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	strlcpy(ifr.ifr_name, ifname, sizeof(ifr.ifr_name));
	if (fd >= 0 && ioctl(fd, SIOCGIFMTU, &ifr) == 0)
		p->kernel.mtu = (uint16_t)ifr.ifr_mtu;
	if (fd >= 0)
		close(fd);
	/* Iface Destination Gateway Flags ...: the default route's, through us */
	f = fopen("/proc/self/net/route", "r");
	while (f != NULL && fgets(line, sizeof(line), f) != NULL) {
		char name[IF_NAMESIZE + 1];
		unsigned dst, gw, flags;

		if (sscanf(line, "%16s %x %x %x", name, &dst, &gw, &flags) == 4 &&
		    strcmp(name, ifname) == 0 && dst == 0 && (flags & 0x2 /* RTF_GATEWAY */)) {
			p->kernel.gateway = gw;     /* /proc prints the network-order word */
			break;
		}
	}
	if (f != NULL)
		fclose(f);
	return 0;
}

/* The queues ifname receives on: a NIC's combined channels, a veth's
 * receive queues (ethtool -l); 1 if it does not say. */
static unsigned
xdp_rx_queues(const char *ifname)
{
	struct ethtool_channels ch = { .cmd = ETHTOOL_GCHANNELS };
	struct ifreq ifr = { .ifr_data = (void *)&ch };
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	unsigned n = 1;

	strlcpy(ifr.ifr_name, ifname, sizeof(ifr.ifr_name));
	if (fd >= 0 && ioctl(fd, SIOCETHTOOL, &ifr) == 0 && ch.combined_count + ch.rx_count > 0)
		n = ch.combined_count + ch.rx_count;
	if (fd >= 0)
		close(fd);
	return n;
}

/* The program the devices attached to ifindex: check it is ours, find its
 * maps, and move it to a BPF link of our own. */
static int
xdp_adopt(struct xdp_priv *x, const char *ifname, char *err, size_t errlen)
{
	struct bpf_prog_info info = { 0 };
	uint32_t len = sizeof(info), id = 0;
	LIBBPF_OPTS(bpf_xdp_attach_opts, dopts);

	if (bpf_xdp_query_id(x->ifindex, 0, &id) < 0 || id == 0 ||
	    (x->prog_fd = bpf_prog_get_fd_by_id(id)) < 0) {
		snprintf(err, errlen, "port xdp:%s: the driver attached no program", ifname);
		return -ENOENT;
	}
	if (bpf_obj_get_info_by_fd(x->prog_fd, &info, &len) < 0 ||
	    strcmp(info.name, "pollnet_xdp") != 0) {
		snprintf(err, errlen, "port xdp:%s: the program on the interface is not pollnet's",
			 ifname);
		return -EINVAL;
	}
	x->ports_fd = xdp_prog_map(x->prog_fd, "pollnet_ports");
	x->verdicts_fd = xdp_prog_map(x->prog_fd, "pollnet_counts");
	if (x->ports_fd < 0 || x->verdicts_fd < 0) {
		snprintf(err, errlen, "port xdp:%s: pollnet's program lacks its maps",
			 ifname);
		return -ENOENT;
	}
	/* the same program, through a link: frames the short gap lets by are
	 * the kernel's, and pollnet holds no port yet */
	dopts.old_prog_fd = x->prog_fd;
	if (bpf_xdp_detach(x->ifindex, XDP_FLAGS_REPLACE, &dopts) < 0 ||
	    (x->link_fd = bpf_link_create(x->prog_fd, x->ifindex, BPF_XDP, NULL)) < 0) {
		int e = errno;

		snprintf(err, errlen, "port xdp:%s: cannot attach pollnet's program through a "
			 "BPF link: %s", ifname, strerror(e));
		return -e;
	}
	return 0;
}

/*
 * Queue q's device: DPDK's net_af_xdp on the interface's queue q alone
 * (start_queue=q, queue_count=1), with pollnet's program.  DPDK 22.11's
 * driver takes queue_count queues only where the interface has as many
 * combined channels (a NIC's; a veth has none and counts as one), but any
 * single queue: one device per queue works on both.  A device loads the
 * program and attaches it unless one is there already, so for q > 0 the
 * previous copy comes off first, and the new copy's socket map gets the
 * sockets of queues 0 to q-1 (the old copy is the driver's to free).
 * What arrives in that gap, at start, is the kernel's.
 *
 * busy_budget=0: the driver's preferred busy polling makes a recvfrom(2) on
 * every empty receive poll (its default, 64); without it an empty poll
 * makes none unless the fill ring needs a wake-up.  Measured side by side
 * (docs/PERFORMANCE.md, CPU per echoed datagram): 10 to 15 % less CPU per
 * echo for pollnet-echo at 50,000 and 100,000/s.
 */
static int
xdp_open_queue(struct xdp_priv *x, const char *ifname, uint16_t q,
	       const struct port_conf *conf, char *err, size_t errlen)
{
	struct port_conf c = *conf;
	char devargs[256];
	uint32_t id = 0;
	int rc, prog, map;

	c.nb_queues = 1;
	if (q > 0 && bpf_xdp_detach(x->ifindex, 0, NULL) < 0) {
		rc = -errno;
		snprintf(err, errlen, "port xdp:%s: cannot take the program off for queue %u: %s",
			 ifname, q, strerror(-rc));
		return rc;
	}
	snprintf(devargs, sizeof(devargs), "net_af_xdp_%s_%u,iface=%s,start_queue=%u,"
		 "queue_count=1,xdp_prog=/proc/self/fd/%d,busy_budget=0", ifname, q, ifname, q,
		 x->obj_fd);
	rc = ethdev_port_open(devargs, &c, &x->sub[q], err, errlen);
	if (rc < 0)
		return rc;
	x->nb_sub = (uint16_t)(q + 1);
	x->xsk[q] = xdp_new_socket(x);
	if (x->xsk[q] < 0) {
		snprintf(err, errlen, "port xdp:%s: cannot find queue %u's AF_XDP socket",
			 ifname, q);
		return -ENOENT;
	}
	x->nb_xsk = (uint16_t)(q + 1);
	if (q == 0)
		return 0;
	prog = bpf_xdp_query_id(x->ifindex, 0, &id) == 0 && id != 0 ?
	       bpf_prog_get_fd_by_id(id) : -1;
	map = prog >= 0 ? xdp_prog_map(prog, "xsks_map") : -1;
	if (prog >= 0)
		close(prog);
	rc = map < 0 ? -ENOENT : 0;
	for (uint32_t i = 0; rc == 0 && i < q; i++)
		if (bpf_map_update_elem(map, &i, &x->xsk[i], 0) < 0)
			rc = -errno;
	if (map >= 0)
		close(map);
	if (rc < 0)
		snprintf(err, errlen, "port xdp:%s: cannot give queue %u's program the other "
			 "queues' sockets: %s", ifname, q, strerror(-rc));
	return rc;
}

int
xdp_port_open(const char *args, const struct port_conf *conf, struct port *p,
	      char *err, size_t errlen)
{
	char ifname[IF_NAMESIZE] = "";
	const char *comma = strchr(args, ',');
	size_t n = comma != NULL ? (size_t)(comma - args) : strlen(args);
	unsigned queues = conf->nb_queues;
	struct xdp_priv *x;
	uint32_t id = 0;
	int rc;

	if (n == 0 || n >= sizeof(ifname)) {
		snprintf(err, errlen, "port 'xdp:%s': expected xdp:IFACE[,queues=N]", args);
		return -EINVAL;
	}
	memcpy(ifname, args, n);
	if (comma != NULL) {
		char *end;

		if (strncmp(comma + 1, "queues=", 7) != 0 ||
		    (queues = (unsigned)strtoul(comma + 8, &end, 10)) == 0 || *end != '\0' ||
		    queues > PN_XDP_MAX_QUEUES) {
			snprintf(err, errlen, "port 'xdp:%s': expected xdp:IFACE[,queues=N], "
				 "N from 1 to %u", args, PN_XDP_MAX_QUEUES);
			return -EINVAL;
		}
	}
	if (queues != conf->nb_queues) {
		snprintf(err, errlen, "port 'xdp:%s': one queue per data-plane lcore: %u queues "
			 "need %u lcores (EAL -l), not %u", args, queues, queues, conf->nb_queues);
		return -EINVAL;
	}
	if (conf->mac != NULL) {
		snprintf(err, errlen, "port xdp:%s: the interface's MAC is the kernel's: "
			 "drop [port] mac", ifname);
		return -EINVAL;
	}
	x = calloc(1, sizeof(*x));
	if (x == NULL)
		return -ENOMEM;
	x->obj_fd = x->prog_fd = x->link_fd = x->ports_fd = x->verdicts_fd = -1;
	x->ifindex = (int)if_nametoindex(ifname);
	if (x->ifindex == 0) {
		snprintf(err, errlen, "port xdp:%s: no such interface", ifname);
		rc = -ENODEV;
		goto fail;
	}
	if (queues > xdp_rx_queues(ifname)) {
		snprintf(err, errlen, "port xdp:%s: %u queues, but the interface receives on "
			 "%u (ethtool -l %s; a veth's: numrxqueues when made)", ifname, queues,
			 xdp_rx_queues(ifname), ifname);
		rc = -EINVAL;
		goto fail;
	}
	if (bpf_xdp_query_id(x->ifindex, 0, &id) == 0 && id != 0) {
		snprintf(err, errlen, "port xdp:%s: the interface has an XDP program already "
			 "(id %u): pollnet does not replace another's", ifname, id);
		rc = -EBUSY;
		goto fail;
	}
	rc = xdp_kernel_addr(ifname, p, &x->bcast, err, errlen);
	if (rc < 0)
		goto fail;
	p->kernel.ifindex = x->ifindex;
	x->obj_fd = memfd_create("pollnet_xdp.o", MFD_CLOEXEC);
	if (x->obj_fd < 0 ||
	    write(x->obj_fd, pn_xdp_obj, pn_xdp_obj_len) != (ssize_t)pn_xdp_obj_len) {
		snprintf(err, errlen, "port xdp:%s: cannot stage the XDP program: %s", ifname,
			 strerror(errno));
		rc = -ENOMEM;
		goto fail;
	}
	if (queues < xdp_rx_queues(ifname))
		fprintf(stderr, "pollnet: port xdp:%s: the interface receives on %u queues and "
			"pollnet takes %u: what the others receive for pollnet's ports reaches it "
			"through the kernel, slower (ethtool -L %s, or an lcore per queue)\n",
			ifname, xdp_rx_queues(ifname), queues, ifname);
	x->sub = calloc(queues, sizeof(*x->sub));
	if (x->sub == NULL) {
		rc = -ENOMEM;
		goto fail;
	}
	for (uint16_t q = 0; q < queues; q++) {
		rc = xdp_open_queue(x, ifname, q, conf, err, errlen);
		if (rc < 0)
			goto fail;
	}
	p->priv = x;
	p->nb_queues = (uint16_t)queues;
	p->id = x->sub[0].id;
	p->mac = x->sub[0].mac;
	p->tx_offload = x->sub[0].tx_offload;
	xdp_ops = *x->sub[0].ops;
	xdp_ops.rx_burst = xdp_rx_burst;
	xdp_ops.tx_burst = xdp_tx_burst;
	xdp_ops.link = xdp_link;
	xdp_ops.close = xdp_close;
	xdp_ops.stats = xdp_stats;
	xdp_ops.udp_hold = xdp_udp_hold;
	xdp_ops.set_mc = NULL;          /* the kernel's groups */
	xdp_ops.intr_setup = xdp_intr_setup;
	xdp_ops.intr_arm = xdp_intr_arm;
	xdp_ops.intr_disarm = xdp_intr_disarm;
	p->ops = &xdp_ops;
	strlcpy(p->driver, "net_af_xdp", sizeof(p->driver));
	rc = xdp_adopt(x, ifname, err, errlen);
	if (rc < 0) {
		xdp_close(p);
		return rc;
	}
	return 0;
fail:
	xdp_release(x);
	return rc;
}
