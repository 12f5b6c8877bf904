/* SPDX-License-Identifier: BSD-3-Clause */
/* What pollnet's XDP program (pollnet_xdp.bpf.c) and pmd/xdp_port.c share. */
#ifndef PN_XDP_H
#define PN_XDP_H

/* A key of pollnet_ports: a destination pollnet's sockets hold, both in
 * network order.  Per UDP port pollnet holds: its address, its network's
 * broadcast and 255.255.255.255. */
struct pn_xdp_key {
	__u32 addr;
	__u16 port;
	__u16 pad;
};

#define PN_XDP_MAX_QUEUES 64
#define PN_XDP_MAX_KEYS   (3 * 65536)

/* pollnet_counts' slots */
#define PN_XDP_TO_POLLNET 0
#define PN_XDP_PASSED     1

#endif
