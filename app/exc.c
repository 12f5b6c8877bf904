/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The exception path, the control thread's side: the kernel's interface
 * (port.exception, default none) as a second DPDK port, one queue pair per
 * lcore, and the kernel's view of it set up as pollnet's own: its MAC, its
 * MTU, its address and network, up, and a default route through the
 * gateway if the kernel has none.  The lcores move the frames (lcore.c,
 * stack/exc.c).  The interface goes when the port closes, or when pollnet
 * dies (the tap's descriptor with it): the kernel's routes through it too.
 */
#include "exc.h"

#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <net/if_arp.h>
#include <net/route.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <rte_common.h>
#include <rte_ether.h>

#include "app.h"
#include "ctl.h"

static void
put_sin(struct sockaddr *sa, rte_be32_t addr)
{
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_addr.s_addr = addr };

	memcpy(sa, &sin, sizeof(sin));
}

/* One SIOCSIF* request on interface name; 0 or a negative errno. */
static int
if_set(int fd, unsigned long req, const char *name, struct ifreq *r)
{
	strlcpy(r->ifr_name, name, sizeof(r->ifr_name));
	return ioctl(fd, req, r) < 0 ? -errno : 0;
}

/* The kernel's side of the interface: pollnet's MAC, MTU and address. */
static int
kernel_side(const char *name, const struct stack_conf *sc, char *err, size_t errlen)
{
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0), rc = 0;
	struct ifreq r;
	const char *what = "";

	if (fd < 0) {
		snprintf(err, errlen, "exception path: a socket to set up %s: %s", name,
			 strerror(errno));
		return -errno;
	}
	memset(&r, 0, sizeof(r));
	r.ifr_hwaddr.sa_family = ARPHRD_ETHER;
	memcpy(r.ifr_hwaddr.sa_data, sc->mac.addr_bytes, RTE_ETHER_ADDR_LEN);
	if ((rc = if_set(fd, SIOCSIFHWADDR, name, &r)) < 0) {
		what = "its MAC address";
		goto out;
	}
	memset(&r, 0, sizeof(r));
	r.ifr_mtu = sc->mtu;
	if ((rc = if_set(fd, SIOCSIFMTU, name, &r)) < 0) {
		what = "its MTU";
		goto out;
	}
	memset(&r, 0, sizeof(r));
	put_sin(&r.ifr_addr, sc->ip);
	if ((rc = if_set(fd, SIOCSIFADDR, name, &r)) < 0) {
		what = "its address";
		goto out;
	}
	memset(&r, 0, sizeof(r));
	put_sin(&r.ifr_netmask, sc->netmask);
	if ((rc = if_set(fd, SIOCSIFNETMASK, name, &r)) < 0) {
		what = "its netmask";
		goto out;
	}
	memset(&r, 0, sizeof(r));
	if ((rc = if_set(fd, SIOCGIFFLAGS, name, &r)) == 0) {
		r.ifr_flags |= IFF_UP;
		rc = if_set(fd, SIOCSIFFLAGS, name, &r);
	}
	if (rc < 0) {
		what = "it up";
		goto out;
	}
	if (sc->gateway != 0) {
		/* a default route through it, after any the kernel has (an
		 * existing one stays the kernel's choice) */
		struct rtentry rt;
		char dev[IF_NAMESIZE];

		memset(&rt, 0, sizeof(rt));
		strlcpy(dev, name, sizeof(dev));
		put_sin(&rt.rt_dst, 0);
		put_sin(&rt.rt_genmask, 0);
		put_sin(&rt.rt_gateway, sc->gateway);
		rt.rt_flags = RTF_UP | RTF_GATEWAY;
		rt.rt_metric = 1025;            /* (the kernel stores it less one) */
		rt.rt_dev = dev;
		if (ioctl(fd, SIOCADDRT, &rt) < 0 && errno != EEXIST) {
			rc = -errno;
			what = "a default route through it";
		}
	}
out:
	if (rc < 0)
		snprintf(err, errlen, "exception path: cannot give the kernel's %s %s: %s",
			 name, what, strerror(-rc));
	close(fd);
	return rc;
}

/*
 * When pollnet's port is a kernel interface (net_af_packet's iface=), the
 * kernel sees its frames too, and a kernel with pollnet's address on the
 * exception interface would take them as its own (the weak host model):
 * answer ARP for it, answer pings pollnet answers, see each TCP segment
 * twice.  So the kernel is told to keep off that interface while pollnet
 * has it: no ARP (arp_ignore 8), no IPv4 from it (rp_filter 1: the way
 * back to any source is the exception interface), no IPv6; the values
 * before come back at exit.
 */
static const char *const quiet_fam[] = { "ipv4", "ipv4", "ipv6" };
static const char *const quiet_keys[] = { "arp_ignore", "rp_filter", "disable_ipv6" };
static const char *const quiet_vals[] = { "8", "1", "1" };
static char quiet_if[IF_NAMESIZE];
static char quiet_old[3][16];

/* net.FAM.conf.IFNAME.KEY = v, its value before into old (unless NULL) */
static int
sysctl_rw(size_t k, const char *ifname, char *old, size_t oldlen, const char *v)
{
	char path[128];
	FILE *f;
	int rc = 0;

	snprintf(path, sizeof(path), "/proc/sys/net/%s/conf/%s/%s", quiet_fam[k], ifname,
		 quiet_keys[k]);
	if (old != NULL) {
		f = fopen(path, "r");
		if (f == NULL || fgets(old, (int)oldlen, f) == NULL)
			rc = -1;
		if (f != NULL)
			fclose(f);
		if (rc < 0)
			return -1;
		old[strcspn(old, "\n")] = '\0';
	}
	f = fopen(path, "w");
	if (f == NULL)
		return -1;
	if (fputs(v, f) < 0)
		rc = -1;
	if (fclose(f) != 0)
		rc = -1;
	return rc;
}

static void
kernel_off(const char *spec)
{
	const char *at = strstr(spec, "iface=");
	size_t n;

	if (strstr(spec, "net_af_packet") == NULL || at == NULL)
		return;
	at += strlen("iface=");
	n = strcspn(at, ",");
	if (n == 0 || n >= sizeof(quiet_if))
		return;
	memcpy(quiet_if, at, n);
	quiet_if[n] = '\0';
	for (size_t i = 0; i < RTE_DIM(quiet_keys); i++)
		if (sysctl_rw(i, quiet_if, quiet_old[i], sizeof(quiet_old[i]),
			      quiet_vals[i]) < 0) {
			quiet_old[i][0] = '\0';
			fprintf(stderr, "pollnet: exception path: cannot set net.%s.conf.%s.%s: "
				"the kernel may answer for pollnet's address there too\n",
				quiet_fam[i], quiet_if, quiet_keys[i]);
		}
}

/*
 * Who holds a UDP port is pollnet's socket table: a port a pollnet socket
 * holds is pollnet's, any other the kernel's.  So that the kernel never
 * picks one of the ports pollnet gives sockets bound to port 0 (its own
 * range, 32768-60999, overlaps), they are reserved in the kernel
 * (net.ipv4.ip_local_reserved_ports, of this network namespace) while the
 * exception path is up; the value before comes back at exit.
 */
#define RESERVED "/proc/sys/net/ipv4/ip_local_reserved_ports"
static char reserved_old[4096];
static int reserved_set;

static void
reserve_ports(void)
{
	char v[sizeof(reserved_old) + 32];
	FILE *f = fopen(RESERVED, "r");
	int ok;

	if (f == NULL)
		return;
	ok = fgets(reserved_old, sizeof(reserved_old), f) != NULL || feof(f);
	fclose(f);
	if (!ok)
		return;
	reserved_old[strcspn(reserved_old, "\n")] = '\0';
	snprintf(v, sizeof(v), "%s%s%u-%u", reserved_old, reserved_old[0] ? "," : "",
		 CTL_EPHEMERAL_LO, CTL_EPHEMERAL_HI);
	f = fopen(RESERVED, "w");
	if (f == NULL)
		goto fail;
	ok = fputs(v, f) >= 0;
	if (fclose(f) != 0 || !ok)
		goto fail;
	reserved_set = 1;
	return;
fail:
	fprintf(stderr, "pollnet: exception path: cannot reserve UDP ports %u-%u in the "
		"kernel (%s): a kernel socket may pick one a pollnet socket holds\n",
		CTL_EPHEMERAL_LO, CTL_EPHEMERAL_HI, RESERVED);
}

static void
unreserve_ports(void)
{
	FILE *f;

	if (!reserved_set)
		return;
	reserved_set = 0;
	f = fopen(RESERVED, "w");
	if (f == NULL)
		return;
	/* (an empty list is written as a newline) */
	(void)fputs(reserved_old[0] ? reserved_old : "\n", f);
	fclose(f);
}

static void
kernel_back(void)
{
	for (size_t i = 0; quiet_if[0] != '\0' && i < RTE_DIM(quiet_keys); i++)
		if (quiet_old[i][0] != '\0')
			(void)sysctl_rw(i, quiet_if, NULL, 0, quiet_old[i]);
	quiet_if[0] = '\0';
}

int
exc_open(struct app *a, char *err, size_t errlen)
{
	const struct pn_config *c = a->cfg;
	char spec[256];
	int rc;

	if (c->exc_iface[0] == '\0')
		return 0;
	if (if_nametoindex(c->exc_iface) != 0) {
		snprintf(err, errlen, "exception path: the kernel has an interface %s already "
			 "(port.exception names the one pollnet makes)", c->exc_iface);
		return -EEXIST;
	}
	if (c->exc_driver == PN_EXC_DRIVER_TAP)
		snprintf(spec, sizeof(spec), "tap:%s", c->exc_iface);
	else if (c->exc_driver == PN_EXC_DRIVER_NET_TAP)
		snprintf(spec, sizeof(spec), "dpdk:net_tap_exc0,iface=%s", c->exc_iface);
	else
		snprintf(spec, sizeof(spec), "dpdk:virtio_user_exc0,path=/dev/vhost-net,"
			 "iface=%s,queues=%u,queue_size=256", c->exc_iface, a->nb_lcores);
	struct port_conf pc = {
		.nb_queues = a->nb_lcores,
		.rx_intr = c->idle == PN_IDLE_INTERRUPT && c->idle_sleep_us != 0,
		.rx_desc = 256,
		.tx_desc = 256,
		.pool = a->pool,
		.mac = &a->sconf.mac,
		.tx_offload = 0,
	};
	rc = port_open(spec, &pc, &a->exc, err, errlen);
	if (rc < 0) {
		char why[512];

		snprintf(why, sizeof(why), "%s", err);
		snprintf(err, errlen, "exception path (port.exception = %s): %s", c->exc_iface,
			 why);
		return rc;
	}
	rc = kernel_side(c->exc_iface, &a->sconf, err, errlen);
	if (rc < 0) {
		port_close(a->exc);
		a->exc = NULL;
		return rc;
	}
	kernel_off(a->port->spec);
	reserve_ports();
	return 0;
}

void
exc_close(struct app *a)
{
	if (a->exc != NULL) {
		port_close(a->exc);
		kernel_back();
		unreserve_ports();
	}
	a->exc = NULL;
}
