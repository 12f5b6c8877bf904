/* SPDX-License-Identifier: BSD-3-Clause */
#include "config.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <grp.h>
#include <pwd.h>

#include <bsd/stdlib.h>
#include <bsd/string.h>
#include <rte_cfgfile.h>
#include <rte_common.h>

#include "abi/pn_control.h"
#include "abi/pn_region.h"

void
config_defaults(struct pn_config *c)
{
	memset(c, 0, sizeof(*c));
	c->rx_desc = 1024;
	c->tx_desc = 1024;
	c->tx_offload = 1;              /* auto: PORT_TX_CKSUM where the port has it */
	c->exc_driver = PN_EXC_DRIVER_TAP;
	c->exc_udp = true;
	c->prefix = 24;
	c->arp_timeout_s = 300;
	c->ipfrag_time_s = 30;          /* Linux's ipfrag_time */
	c->ipfrag_flows = 64;
	c->ipfrag_fragments = 128;      /* 65,535 bytes in fragments of 552: MTU 576 */
	c->ipfrag_held = 1024;          /* ~1.5 MB of frames (Linux: 4 MB) */
	c->pool_size = 8191;
	c->max_sockets = 1024;
	c->max_per_client = 256;
	c->max_per_user = 0;            /* a quarter of max_sockets */
	c->reserved = CONFIG_AUTO;      /* a sixteenth of max_sockets */
	c->max_clients_per_user = 64;
	c->sock_ring = 1024;
	c->sock_tx_ring = 256;
	c->sock_ring_max = PN_SHM_MAX_RING;
	c->wake_batch = 1;
	c->wake_delay_us = 0;
	strlcpy(c->ctl_path, "/run/pollnet/pollnet.sock", sizeof(c->ctl_path));
	strlcpy(c->stats_path, "/run/pollnet/pollnet.stats", sizeof(c->stats_path));
	c->summaries = true;
	c->idle = PN_IDLE_NAP;
	c->idle_after_us = 1000;
	c->idle_sleep_us = 100;
	c->nap_first_us = 20;
	c->ctl_mode = 0660;
}

/* "alice, bob 1001": names or numbers, separated by commas or spaces. */
static int
parse_ids(const char *v, int users, uint32_t *ids, uint32_t *n, char *err, size_t errlen)
{
	char buf[CFG_VALUE_LEN], *tok, *save = NULL;

	strlcpy(buf, v, sizeof(buf));
	*n = 0;
	for (tok = strtok_r(buf, ", \t", &save); tok != NULL; tok = strtok_r(NULL, ", \t", &save)) {
		const char *why = NULL;
		long long id = strtonum(tok, 0, UINT32_MAX - 1, &why);

		if (why != NULL) {
			struct passwd *pw = users ? getpwnam(tok) : NULL;
			struct group *gr = users ? NULL : getgrnam(tok);

			if (pw == NULL && gr == NULL) {
				snprintf(err, errlen, "no %s named '%s'", users ? "user" : "group", tok);
				return -1;
			}
			id = users ? pw->pw_uid : gr->gr_gid;
		}
		if (*n == CONFIG_MAX_IDS) {
			snprintf(err, errlen, "more than %d %s", CONFIG_MAX_IDS, users ? "users" : "groups");
			return -1;
		}
		ids[(*n)++] = (uint32_t)id;
	}
	return 0;
}

/* ---- value parsers: 0 on success, else -1 with a reason ---- */

static int
parse_num(const char *v, long long min, long long max, long long *out,
	  char *err, size_t errlen)
{
	const char *why = NULL;

	*out = strtonum(v, min, max, &why);
	if (why != NULL) {
		snprintf(err, errlen, "'%s' is %s (expected an integer from %lld to %lld)",
			 v, why, min, max);
		return -1;
	}
	return 0;
}

static int
parse_ip(const char *v, rte_be32_t *ip, char *err, size_t errlen)
{
	struct in_addr a;

	if (inet_pton(AF_INET, v, &a) != 1) {
		snprintf(err, errlen, "'%s' is not an IPv4 address (A.B.C.D)", v);
		return -1;
	}
	*ip = a.s_addr;
	return 0;
}

/*
 * Why no host on a LAN can have this address, or NULL: the classes the stack
 * drops as martian sources (stack_martian_src in stack/stack.h), so that
 * pollnet never takes an address its own stack would not believe.
 */
static const char *
not_a_host(rte_be32_t ip)
{
	const uint32_t a = rte_be_to_cpu_32(ip);

	if ((a >> 24) == 0)
		return "in 0.0.0.0/8 (\"this network\")";
	if ((a >> 24) == 127)
		return "a loopback address (127.0.0.0/8)";
	if ((a >> 28) == 0xe)
		return "a multicast address (224.0.0.0/4)";
	if (a == 0xffffffffu)
		return "the broadcast address";
	if ((a >> 28) == 0xf)
		return "a class E address (240.0.0.0/4)";
	return NULL;
}

static rte_be32_t
prefix_mask(uint32_t prefix)
{
	return prefix == 0 ? 0 : rte_cpu_to_be_32(~0u << (32 - prefix));
}

/*
 * The network or broadcast address of ip/prefix (host part all zeros or all
 * ones) is no host's, but a /31 has neither (RFC 3021): NULL if ip is a
 * host's on that network.
 */
static const char *
net_or_bcast(rte_be32_t ip, uint32_t prefix, char *net, size_t netlen)
{
	const rte_be32_t mask = prefix_mask(prefix);
	struct in_addr n = { .s_addr = ip & mask };
	char a[INET_ADDRSTRLEN];

	if (prefix >= 31 || (ip != (ip & mask) && ip != (ip | ~mask)))
		return NULL;
	inet_ntop(AF_INET, &n, a, sizeof(a));
	snprintf(net, netlen, "%s/%u", a, prefix);
	return ip == (ip & mask) ? "network" : "broadcast";
}

/* A ring size: a power of 2 a region can hold. */
static int
parse_ring(const char *v, uint32_t *out, char *err, size_t errlen)
{
	long long n;

	if (parse_num(v, 16, PN_SHM_MAX_RING, &n, err, errlen) < 0)
		return -1;
	if (!rte_is_power_of_2(n)) {
		snprintf(err, errlen, "%lld is not a power of 2", n);
		return -1;
	}
	*out = (uint32_t)n;
	return 0;
}

/*
 * An EAL core list as -l takes it: "N" or "N-M" items joined by commas, each
 * core below RTE_MAX_LCORE, and at least two cores (the control thread's and
 * one data-plane lcore's).  Checked when set, used or not: EAL's own -l
 * makes the value unused, not right.
 */
static int
parse_lcores(const char *v, char *err, size_t errlen)
{
	uint8_t seen[(RTE_MAX_LCORE + 7) / 8] = { 0 };
	const char *p = v;
	unsigned cores = 0;

	for (;;) {
		unsigned long lo, hi;
		char *end;

		if (*p < '0' || *p > '9')
			goto syntax;
		lo = hi = strtoul(p, &end, 10);
		p = end;
		if (*p == '-') {
			if (p[1] < '0' || p[1] > '9')
				goto syntax;
			hi = strtoul(p + 1, &end, 10);
			if (hi < lo) {
				snprintf(err, errlen, "%lu-%lu goes backwards", lo, hi);
				return -1;
			}
			p = end;
		}
		if (hi >= RTE_MAX_LCORE) {
			snprintf(err, errlen, "%lu is not a core (EAL's are 0 to %d)",
				 hi, RTE_MAX_LCORE - 1);
			return -1;
		}
		for (unsigned long i = lo; i <= hi; i++) {
			if (!(seen[i / 8] & (1u << (i % 8))))
				cores++;
			seen[i / 8] |= (uint8_t)(1u << (i % 8));
		}
		if (*p == '\0')
			break;
		if (*p++ != ',')
			goto syntax;
	}
	if (cores < 2) {
		snprintf(err, errlen, "'%s' names one core: pollnet needs two (the control "
			 "thread's and a data-plane lcore's)", v);
		return -1;
	}
	return 0;
syntax:
	snprintf(err, errlen, "'%s' is not a core list (e.g. 0-1, or 0,2-3)", v);
	return -1;
}

static int
set_str(char *dst, size_t size, const char *v, char *err, size_t errlen)
{
	if (strlcpy(dst, v, size) >= size) {
		snprintf(err, errlen, "value is longer than %zu characters", size - 1);
		return -1;
	}
	return 0;
}

/* The sections a file may have, in the order pollnet.conf gives them. */
static const char *const sections[CONFIG_SECTIONS] = {
	"port", "ipv4", "dataplane", "sockets", "control"
};

int
config_section_index(const char *sec)
{
	for (size_t i = 0; i < RTE_DIM(sections); i++)
		if (strcmp(sec, sections[i]) == 0)
			return (int)i;
	return -1;
}

/* v is one of two words: 1 for the first, 0 for the second, -1 (with
 * err) for anything else. */
static int
parse_two(const char *v, const char *one, const char *zero, char *err, size_t errlen)
{
	if (strcmp(v, one) == 0)
		return 1;
	if (strcmp(v, zero) == 0)
		return 0;
	snprintf(err, errlen, "'%s' is neither %s nor %s", v, one, zero);
	return -1;
}

/* v, one of names[0..n): its index in *out; else an error naming them. */
static int
parse_one_of(const char *v, const char *const *names, uint32_t n, uint32_t *out,
	     const char *list, char *err, size_t errlen)
{
	for (uint32_t i = 0; i < n; i++) {
		if (strcmp(v, names[i]) == 0) {
			*out = i;
			return 0;
		}
	}
	snprintf(err, errlen, "'%s' is not %s", v, list);
	return -1;
}

#define TWO(field, one, zero, yes, no) do {                               \
		int t_ = parse_two(v, one, zero, err, errlen);            \
		if (t_ < 0)                                               \
			return -1;                                        \
		c->field = t_ ? (yes) : (no);                             \
		return 0;                                                 \
	} while (0)

#define NUM(field, min, max) do {                                         \
		long long n_;                                             \
		if (parse_num(v, min, max, &n_, err, errlen) < 0)         \
			return -1;                                        \
		c->field = n_;                                            \
		return 0;                                                 \
	} while (0)

static int
set_key(struct pn_config *c, const char *sec, const char *key, const char *v,
	char *err, size_t errlen)
{
#define IS(s, k) (strcmp(sec, s) == 0 && strcmp(key, k) == 0)
	if (config_section_index(sec) < 0) {
		snprintf(err, errlen, "unknown section [%s] (pollnet's are " CONFIG_SECTIONS_LIST ")",
			 sec);
		return -1;
	}
	if (IS("port", "spec")) {
		const char *colon = strchr(v, ':');

		if (colon == NULL || colon[1] == '\0' ||
		    (strncmp(v, "dpdk:", 5) != 0 && strncmp(v, "e1000:", 6) != 0 &&
		     strncmp(v, "xdp:", 4) != 0 && strncmp(v, "tap:", 4) != 0)) {
			snprintf(err, errlen, "'%s' is not a port spec: expected "
				 "dpdk:<devargs or PCI address>, e1000:<PCI address>, "
				 "xdp:<interface> or tap:<name>", v);
			return -1;
		}
		return set_str(c->port, sizeof(c->port), v, err, errlen);
	}
	if (IS("port", "mac")) {
		if (rte_ether_unformat_addr(v, &c->mac) != 0 ||
		    !rte_is_valid_assigned_ether_addr(&c->mac)) {
			snprintf(err, errlen, "'%s' is not a unicast MAC address "
				 "(xx:xx:xx:xx:xx:xx)", v);
			return -1;
		}
		c->mac_set = true;
		return 0;
	}
	if (IS("port", "rx_desc"))
		NUM(rx_desc, 32, 4096);
	if (IS("port", "tx_desc"))
		NUM(tx_desc, 32, 4096);
	if (IS("port", "tx_offload"))   /* the bit is pmd/port.h's PORT_TX_CKSUM */
		TWO(tx_offload, "auto", "off", 1, 0);
	if (IS("port", "exception")) {
		size_t n = strlen(v);

		if (strcmp(v, "none") == 0) {
			c->exc_iface[0] = '\0';
			return 0;
		}
		/* a kernel interface name: IFNAMSIZ - 1, no '/', ':' or space */
		if (n == 0 || n >= sizeof(c->exc_iface) || strcspn(v, "/: \t,=") != n ||
		    strcmp(v, ".") == 0 || strcmp(v, "..") == 0) {
			snprintf(err, errlen, "'%s' is not an interface name (1 to %zu characters, "
				 "no '/', ':', ',', '=' or space) nor none", v,
				 sizeof(c->exc_iface) - 1);
			return -1;
		}
		return set_str(c->exc_iface, sizeof(c->exc_iface), v, err, errlen);
	}
	if (IS("port", "exception_driver")) {
		static const char *const drivers[] = {
			[PN_EXC_DRIVER_TAP] = "tap", [PN_EXC_DRIVER_VHOST] = "vhost",
			[PN_EXC_DRIVER_NET_TAP] = "net_tap",
		};

		return parse_one_of(v, drivers, sizeof(drivers) / sizeof(drivers[0]),
				    &c->exc_driver, "tap, vhost or net_tap", err, errlen);
	}
	if (IS("port", "exception_udp"))
		TWO(exc_udp, "kernel", "drop", true, false);
	if (IS("ipv4", "address")) {
		char a[INET_ADDRSTRLEN + 4], net[INET_ADDRSTRLEN + 4];
		const char *why, *which;
		char *slash;
		long long p = 24;
		rte_be32_t ip;

		if (strlcpy(a, v, sizeof(a)) >= sizeof(a)) {
			snprintf(err, errlen, "'%s' is not ADDR/PREFIX", v);
			return -1;
		}
		slash = strchr(a, '/');
		if (slash != NULL) {
			*slash = '\0';
			/* /32: no neighbour, and no gateway could be on the network */
			if (strcmp(slash + 1, "32") == 0) {
				snprintf(err, errlen, "a /32 has no neighbour and no room for a "
					 "gateway: pollnet could reach no one (prefix 1 to 31)");
				return -1;
			}
			if (parse_num(slash + 1, 1, 31, &p, err, errlen) < 0)
				return -1;
		}
		if (parse_ip(a, &ip, err, errlen) < 0)
			return -1;
		why = not_a_host(ip);
		if (why != NULL) {
			snprintf(err, errlen, "'%s' is %s, not a host's", a, why);
			return -1;
		}
		which = net_or_bcast(ip, (uint32_t)p, net, sizeof(net));
		if (which != NULL) {
			snprintf(err, errlen, "'%s' is the %s address of %s, not a host's",
				 a, which, net);
			return -1;
		}
		c->ip = ip;
		c->prefix = p;
		return 0;
	}
	if (IS("ipv4", "gateway")) {
		const char *why;
		rte_be32_t gw;

		if (strcmp(v, "none") == 0) {
			c->gateway = 0;
			return 0;
		}
		if (parse_ip(v, &gw, err, errlen) < 0)
			return -1;
		why = not_a_host(gw);
		if (why != NULL) {
			snprintf(err, errlen, "'%s' is %s, not a host's", v, why);
			return -1;
		}
		c->gateway = gw;
		return 0;
	}
	if (IS("ipv4", "arp_timeout"))
		NUM(arp_timeout_s, 1, 86400);
	if (IS("ipv4", "ipfrag_time"))
		NUM(ipfrag_time_s, 1, 3600);
	if (IS("ipv4", "ipfrag_flows"))
		NUM(ipfrag_flows, 0, 4096);
	if (IS("ipv4", "ipfrag_fragments"))
		NUM(ipfrag_fragments, 2, 8192);
	if (IS("ipv4", "ipfrag_held"))
		NUM(ipfrag_held, 2, 1 << 21);
	if (IS("dataplane", "lcores")) {
		if (parse_lcores(v, err, errlen) < 0)
			return -1;
		return set_str(c->lcores, sizeof(c->lcores), v, err, errlen);
	}
	if (IS("dataplane", "pool_size"))
		NUM(pool_size, 1023, 1 << 22);
	if (IS("dataplane", "idle_sleep"))
		NUM(idle_sleep_us, 0, 100000);
	if (IS("dataplane", "nap_first"))
		NUM(nap_first_us, 1, 100000);
	if (IS("dataplane", "moderation"))
		NUM(moderation_us, 0, 100000);
	if (IS("dataplane", "idle_after"))
		NUM(idle_after_us, 10, 1000000);
	if (IS("dataplane", "idle")) {
		static const char *const modes[] = {
			[PN_IDLE_POLL] = "poll", [PN_IDLE_NAP] = "nap",
			[PN_IDLE_INTERRUPT] = "interrupt",
		};

		return parse_one_of(v, modes, sizeof(modes) / sizeof(modes[0]), &c->idle,
				    "poll, nap or interrupt", err, errlen);
	}
	if (IS("dataplane", "summaries"))
		TWO(summaries, "on", "off", true, false);
	if (IS("sockets", "max"))
		NUM(max_sockets, 1, 65536);
	if (IS("sockets", "max_per_client"))
		NUM(max_per_client, 1, 65536);
	if (IS("sockets", "max_per_user"))
		NUM(max_per_user, 1, 65536);
	if (IS("sockets", "reserved"))
		NUM(reserved, 0, 65535);
	if (IS("control", "max_clients_per_user"))
		NUM(max_clients_per_user, 1, 256);
	if (IS("sockets", "rx_ring"))
		return parse_ring(v, &c->sock_ring, err, errlen);
	if (IS("sockets", "tx_ring"))
		return parse_ring(v, &c->sock_tx_ring, err, errlen);
	if (IS("sockets", "ring_max"))
		return parse_ring(v, &c->sock_ring_max, err, errlen);
	if (IS("sockets", "echo_port"))
		NUM(echo_port, 0, 65535);
	if (IS("sockets", "wake_batch"))
		NUM(wake_batch, 1, PN_SHM_MAX_RING);
	if (IS("sockets", "wake_delay"))
		NUM(wake_delay_us, 0, 10000);
	if (IS("control", "path")) {
		if (v[0] != '/') {
			snprintf(err, errlen, "'%s' is not an absolute path", v);
			return -1;
		}
		return set_str(c->ctl_path, sizeof(c->ctl_path), v, err, errlen);
	}
	if (IS("control", "stats")) {
		if (v[0] != '/') {
			snprintf(err, errlen, "'%s' is not an absolute path", v);
			return -1;
		}
		return set_str(c->stats_path, sizeof(c->stats_path), v, err, errlen);
	}
	if (IS("control", "mode")) {
		char *end;
		unsigned long m = strtoul(v, &end, 8);

		if (*end != '\0' || end == v || m > 0777) {
			snprintf(err, errlen, "'%s' is not an octal mode (e.g. 0660)", v);
			return -1;
		}
		c->ctl_mode = (uint32_t)m;
		return 0;
	}
	if (IS("control", "allow_users"))
		return parse_ids(v, 1, c->allow_uid, &c->n_allow_uid, err, errlen);
	if (IS("control", "allow_groups"))
		return parse_ids(v, 0, c->allow_gid, &c->n_allow_gid, err, errlen);
#undef IS
	snprintf(err, errlen, "unknown key '%s' in section [%s]", key, sec);
	return -1;
}

/* Remember where the keys that config_validate checks together were set,
 * so that its errors can point there. */
static void
note_origin(struct pn_config *c, const char *sec, const char *key, const char *from)
{
	if (strcmp(sec, "ipv4") == 0 && strcmp(key, "address") == 0)
		strlcpy(c->ip_from, from, sizeof(c->ip_from));
	else if (strcmp(sec, "ipv4") == 0 && strcmp(key, "gateway") == 0)
		strlcpy(c->gw_from, from, sizeof(c->gw_from));
}

int
config_set_from(struct pn_config *c, const char *from, const char *name, const char *value,
		char *err, size_t errlen)
{
	char sec[64], origin[sizeof(c->ip_from)];
	const char *dot = strchr(name, '.');

	if (dot == NULL || (size_t)(dot - name) >= sizeof(sec)) {
		snprintf(err, errlen, "'%s' is not SECTION.KEY", name);
		return -1;
	}
	memcpy(sec, name, dot - name);
	sec[dot - name] = '\0';
	if (set_key(c, sec, dot + 1, value, err, errlen) < 0)
		return -1;
	if (from == NULL) {
		snprintf(origin, sizeof(origin), "%s = %s", name, value);
		from = origin;
	}
	note_origin(c, sec, dot + 1, from);
	return 0;
}

int
config_set(struct pn_config *c, const char *name, const char *value,
	   char *err, size_t errlen)
{
	return config_set_from(c, NULL, name, value, err, errlen);
}

int
config_validate(const struct pn_config *c, char *err, size_t errlen)
{
	const rte_be32_t mask = prefix_mask(c->prefix);
	const char *gw_from = c->gw_from[0] != '\0' ? c->gw_from : "ipv4.gateway";
	const char *ip_from = c->ip_from[0] != '\0' ? c->ip_from : "ipv4.address";
	char gw[INET_ADDRSTRLEN], net[INET_ADDRSTRLEN + 4];
	struct in_addr n = { .s_addr = c->ip & mask };
	const char *which;

	if (c->port[0] == '\0') {
		snprintf(err, errlen, "no port: set [port] spec or --port");
		return -1;
	}
	if (config_reserved(c) >= c->max_sockets) {
		snprintf(err, errlen, "sockets.reserved (%u) leaves no socket of sockets.max (%u) "
			 "to users but root", config_reserved(c), c->max_sockets);
		return -1;
	}
	if (c->ip == 0 && strncmp(c->port, "xdp:", 4) != 0) {
		/* (an xdp: port has the kernel's) */
		snprintf(err, errlen, "no address: set [ipv4] address or --ip");
		return -1;
	}
	if (c->ipfrag_held > c->pool_size / 2) {
		snprintf(err, errlen, "ipv4.ipfrag_held (%u) is more than half of "
			 "dataplane.pool_size (%u): fragments waiting for the rest would "
			 "leave the port no mbufs", c->ipfrag_held, c->pool_size);
		return -1;
	}
	if (c->gateway == 0 || c->ip == 0)
		return 0;
	inet_ntop(AF_INET, &c->gateway, gw, sizeof(gw));
	inet_ntop(AF_INET, &n, net, sizeof(net));
	if (((c->gateway ^ c->ip) & mask) != 0) {
		snprintf(err, errlen, "%s: '%s' is not on %s/%u, the network of %s",
			 gw_from, gw, net, c->prefix, ip_from);
		return -1;
	}
	if (c->gateway == c->ip) {
		snprintf(err, errlen, "%s: '%s' is pollnet's own address (%s)", gw_from, gw, ip_from);
		return -1;
	}
	which = net_or_bcast(c->gateway, c->prefix, net, sizeof(net));
	if (which != NULL) {
		snprintf(err, errlen, "%s: '%s' is the %s address of %s, not a host's",
			 gw_from, gw, which, net);
		return -1;
	}
	return 0;
}

void
config_print(const struct pn_config *c, FILE *f)
{
	char ip[INET_ADDRSTRLEN], gw[INET_ADDRSTRLEN], mac[RTE_ETHER_ADDR_FMT_SIZE];

	inet_ntop(AF_INET, &c->ip, ip, sizeof(ip));
	inet_ntop(AF_INET, &c->gateway, gw, sizeof(gw));
	rte_ether_format_addr(mac, sizeof(mac), &c->mac);
	fprintf(f, "port.spec = %s\n", c->port);
	fprintf(f, "port.mac = %s\n", c->mac_set ? mac : "(device's own)");
	fprintf(f, "port.rx_desc = %u\nport.tx_desc = %u\n", c->rx_desc, c->tx_desc);
	fprintf(f, "port.tx_offload = %s\n", c->tx_offload ? "auto" : "off");
	fprintf(f, "port.exception = %s\n", c->exc_iface[0] ? c->exc_iface : "none");
	fprintf(f, "port.exception_driver = %s\n",
		c->exc_driver == PN_EXC_DRIVER_TAP ? "tap" :
		c->exc_driver == PN_EXC_DRIVER_VHOST ? "vhost" : "net_tap");
	fprintf(f, "port.exception_udp = %s\n", c->exc_udp ? "kernel" : "drop");
	fprintf(f, "ipv4.address = %s/%u\n", ip, c->prefix);
	fprintf(f, "ipv4.gateway = %s\n", c->gateway ? gw : "none");
	fprintf(f, "ipv4.arp_timeout = %u\n", c->arp_timeout_s);
	fprintf(f, "ipv4.ipfrag_time = %u\nipv4.ipfrag_flows = %u\nipv4.ipfrag_fragments = %u\n"
		"ipv4.ipfrag_held = %u\n", c->ipfrag_time_s, c->ipfrag_flows, c->ipfrag_fragments,
		c->ipfrag_held);
	fprintf(f, "dataplane.lcores = %s\n", c->lcores[0] ? c->lcores : "(EAL default)");
	fprintf(f, "dataplane.pool_size = %u\n", c->pool_size);
	fprintf(f, "dataplane.summaries = %s\n", c->summaries ? "on" : "off");
	fprintf(f, "dataplane.idle = %s\n", c->idle == PN_IDLE_POLL ? "poll" :
		c->idle == PN_IDLE_NAP ? "nap" : "interrupt");
	fprintf(f, "dataplane.idle_after = %u\n", c->idle_after_us);
	fprintf(f, "dataplane.idle_sleep = %u\n", c->idle_sleep_us);
	fprintf(f, "dataplane.nap_first = %u\n", c->nap_first_us);
	fprintf(f, "dataplane.moderation = %u\n", c->moderation_us);
	fprintf(f, "sockets.max = %u\nsockets.max_per_client = %u\nsockets.max_per_user = %u%s\n"
		"sockets.reserved = %u%s\n"
		"sockets.rx_ring = %u\nsockets.tx_ring = %u\nsockets.ring_max = %u\n"
		"sockets.echo_port = %u\nsockets.wake_batch = %u\nsockets.wake_delay = %u\n",
		c->max_sockets, c->max_per_client, config_max_per_user(c),
		c->max_per_user == 0 ? " (a quarter of sockets.max)" : "", config_reserved(c),
		c->reserved == CONFIG_AUTO ? " (a sixteenth of sockets.max)" : "", c->sock_ring,
		c->sock_tx_ring, c->sock_ring_max, c->echo_port, c->wake_batch, c->wake_delay_us);
	fprintf(f, "control.path = %s\ncontrol.mode = %04o\ncontrol.stats = %s\n"
		"control.max_clients_per_user = %u\n",
		c->ctl_path, c->ctl_mode, c->stats_path, c->max_clients_per_user);
}
