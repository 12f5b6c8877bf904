/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * pollnet's configuration: an INI file read with DPDK's rte_cfgfile, then
 * command-line overrides.  Every error names where the bad value came from
 * ("FILE:LINE: ..." or "--option: ...") and why.
 */
#ifndef PN_CONFIG_H
#define PN_CONFIG_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <rte_byteorder.h>
#include <rte_ether.h>

#define CONFIG_MAX_IDS 16

/* port.exception_driver */
enum {
	PN_EXC_DRIVER_TAP,              /* pollnet's tap (pmd/tap_port.c) */
	PN_EXC_DRIVER_VHOST,            /* DPDK's virtio_user on /dev/vhost-net */
	PN_EXC_DRIVER_NET_TAP,          /* DPDK's net_tap */
};

/* dataplane.idle */
enum {
	PN_IDLE_POLL,                   /* never sleeps */
	PN_IDLE_NAP,                    /* naps of up to idle_sleep_us */
	PN_IDLE_INTERRUPT,              /* sleeps until the port's receive
	                                 * interrupt or a client's doorbell
	                                 * (a port without: naps) */
};

struct pn_config {
	/* [port] */
	char port[256];                 /* port spec, see pmd/port.h */
	struct rte_ether_addr mac;      /* valid when mac_set */
	bool mac_set;
	uint16_t rx_desc, tx_desc;
	uint32_t tx_offload;            /* PORT_TX_* (pmd/port.h) pollnet may use */
	/* the exception path: the kernel's interface ("": none) and how */
	char exc_iface[16];
	uint32_t exc_driver;            /* PN_EXC_DRIVER_* */
	bool exc_udp;                   /* UDP no pollnet socket holds: the kernel's */
	/* [ipv4] */
	rte_be32_t ip;                  /* network order; 0 = unset */
	uint8_t prefix;
	rte_be32_t gateway;             /* 0 = none */
	uint32_t arp_timeout_s;
	uint32_t ipfrag_time_s;         /* a datagram's fragments wait this long */
	uint32_t ipfrag_flows;          /* datagrams in reassembly per lcore (0: off) */
	uint32_t ipfrag_fragments;      /* fragments one datagram may have */
	uint32_t ipfrag_held;           /* fragments held per lcore */
	/* [dataplane] */
	char lcores[128];               /* EAL core list; "" = EAL's default */
	uint32_t pool_size;
	bool summaries;                 /* packet summaries into the stats log */
	uint32_t idle;                  /* PN_IDLE_*: what an idle lcore does */
	uint32_t idle_after_us;         /* ... once it found nothing to do this long */
	uint32_t idle_sleep_us;         /* an idle lcore naps up to this long; 0: polls */
	uint32_t nap_first_us;          /* its first nap (doubling to idle_sleep_us) */
	uint32_t moderation_us;         /* while work comes, a look this often; 0: off */
	/* [sockets] */
	uint32_t max_sockets;
	uint32_t max_per_client;        /* sockets one client session may hold */
	uint32_t max_per_user;          /* ... all sessions of one uid together
	                                 * but root's (0: config_max_per_user) */
	uint32_t reserved;              /* the last of max_sockets, root's only
	                                 * (CONFIG_AUTO: config_reserved) */
	uint32_t sock_ring;             /* socket RX ring entries (power of 2) */
	uint32_t sock_tx_ring;          /* client sockets' TX ring entries */
	uint32_t sock_ring_max;         /* the most a client may ask for (SO_RCVBUF) */
	uint32_t wake_batch;            /* wake a sleeping receiver after this many */
	uint32_t wake_delay_us;         /* ... or this long after the first */
	uint16_t echo_port;             /* 0 = no echo service */
	/* [control] */
	char ctl_path[108];             /* Unix socket clients connect to */
	uint32_t ctl_mode;              /* its permissions */
	uint32_t max_clients_per_user;  /* sessions one uid may have open */
	char stats_path[108];           /* the stats segment pollnetctl reads */
	uint32_t allow_uid[CONFIG_MAX_IDS], n_allow_uid;   /* besides root */
	uint32_t allow_gid[CONFIG_MAX_IDS], n_allow_gid;
	/* where [ipv4] address and gateway were set ("FILE:LINE: [ipv4] gateway",
	 * "--gateway 198.18.0.1"), for config_validate's errors */
	char ip_from[160], gw_from[160];
};

#define CONFIG_AUTO UINT32_MAX

void config_defaults(struct pn_config *c);

/* The sockets one user (not root) may hold: sockets.max_per_user, or by
 * default a quarter of sockets.max, so that three users that take all
 * they may still leave room for a fourth (and the reserve for root). */
static inline uint32_t
config_max_per_user(const struct pn_config *c)
{
	if (c->max_per_user != 0)
		return c->max_per_user;
	return c->max_sockets / 4 > 0 ? c->max_sockets / 4 : 1;
}

/* The sockets only root may open, the last of the table: sockets.reserved,
 * or by default a sixteenth of sockets.max, so that users together cannot
 * shut root out (as the kernel lets only the administrator open files past
 * fs.file-max, and ext4 keeps its last blocks for root). */
static inline uint32_t
config_reserved(const struct pn_config *c)
{
	return c->reserved != CONFIG_AUTO ? c->reserved : c->max_sockets / 16;
}

/* The sections a file may have, in the order pollnet.conf gives them; the
 * index of one, or -1. */
#define CONFIG_SECTIONS 5
#define CONFIG_SECTIONS_LIST "[port], [ipv4], [dataplane], [sockets] and [control]"
int config_section_index(const char *sec);

/* Load an INI file over c (config_file.c).  On error returns -1 with "FILE:LINE: reason"
 * (or "FILE: reason") in err. */
int config_load(struct pn_config *c, const char *path, char *err, size_t errlen);

/* Set one key ("section.key") from a string; on error returns -1 with the
 * reason in err.  from says where the value came from ("--ip 198.18.0.2/24")
 * for config_validate's errors; config_set's is "section.key = value". */
int config_set_from(struct pn_config *c, const char *from, const char *name,
		    const char *value, char *err, size_t errlen);
int config_set(struct pn_config *c, const char *name, const char *value,
	       char *err, size_t errlen);

/* Checks across keys (an address is required, the gateway is on its
 * network).  -1 with err on error, naming where the keys were set. */
int config_validate(const struct pn_config *c, char *err, size_t errlen);

/* "section.key = value" lines describing c, for --help and logs. */
void config_print(const struct pn_config *c, FILE *f);

#endif
