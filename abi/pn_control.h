/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ABI: the control channel between pollnet and its clients (libpollnet):
 * one SOCK_SEQPACKET message each way, a request and its reply, with
 * descriptors passed as SCM_RIGHTS.  Every field is the client's in a
 * request and pollnet's in a reply; pollnet checks every request it reads
 * (a message of the wrong size is -EBADMSG, a socket id not the client's
 * -EBADF).  Plain C11, nothing of either side's inside.
 */
#ifndef PN_ABI_CONTROL_H
#define PN_ABI_CONTROL_H

#include <stdint.h>

#include "pn_versions.h"

#define PN_CTL_DEFAULT_PATH "/run/pollnet/pollnet.sock"

enum pn_ctl_op {
	PN_CTL_HELLO = 1,     /* version check; reply carries our IPv4
	                       * address, and the state page's memfd and the
	                       * doorbell eventfd as SCM_RIGHTS */
	PN_CTL_SOCKET,        /* new socket (arg: PN_SOCK_* flags; rx_ring,
	                       * tx_ring: entries wanted, 0 for pollnet's
	                       * default, rounded up to a power of 2 and held
	                       * to sockets.ring_max): reply carries its id,
	                       * and as SCM_RIGHTS the region's memfd and the
	                       * client's ends of the receive and the send
	                       * wake pairs */
	PN_CTL_BIND,          /* port (0: ephemeral); arg: PN_BIND_* flags */
	PN_CTL_CONNECT,       /* addr, port (binds an ephemeral port if
	                       * unbound); both 0: disconnect, as the kernel's
	                       * connect(AF_UNSPEC): a port the socket named
	                       * stays bound, one chosen for it is given up */
	PN_CTL_CLOSE,
	PN_CTL_CAPTURE,       /* start copying frames: arg is the snap length,
	                       * sock_id the number of classic BPF instructions
	                       * (libpcap's struct bpf_insn, 8 bytes each, for
	                       * DLT_EN10MB; at most 4096; 0: every frame) that
	                       * follow the request in the same message; the
	                       * reply carries the capture region's memfd.  It
	                       * runs until the connection closes. */
	PN_CTL_MCAST,         /* the socket's filter for group addr (a
	                       * 224.0.0.0/4 address): arg is its mode
	                       * (PN_MC_INCLUDE, PN_MC_EXCLUDE) | the number of
	                       * sources << 8 (at most PN_MC_MAX_SOURCES), the
	                       * sources (4 bytes each, network order) follow
	                       * the request in the same message; INCLUDE with
	                       * none: the socket leaves the group.  The
	                       * client library keeps the socket's filters and
	                       * their rules (IP_ADD_MEMBERSHIP...); pollnet
	                       * merges every socket's into the interface's
	                       * and tells the routers (IGMP). */
};

#define PN_MC_INCLUDE       1u
#define PN_MC_EXCLUDE       2u
#define PN_MC_MAX_SOURCES   16u

/* PN_CTL_SOCKET flags.  PRELOAD: the socket belongs to a program running
 * under pollnet-run (shown by pollnetctl sockets). */
#define PN_SOCK_PRELOAD     2u
#define PN_SOCK_FLAGS       PN_SOCK_PRELOAD

/* PN_CTL_BIND flags.  REUSEADDR: the port may be bound while other sockets
 * use it, if every one of them was bound with REUSEADDR too (the kernel's
 * SO_REUSEADDR on both; iperf's server binds a new listener beside the
 * socket it connected to its client); of two sockets bound to a port with
 * no peer, the newest receives, as on the kernel. */
#define PN_BIND_REUSEADDR   1u
#define PN_BIND_FLAGS       PN_BIND_REUSEADDR

struct pn_ctl_req {
	uint32_t op;
	uint32_t seq;
	uint32_t sock_id;
	uint32_t addr;        /* network order */
	uint16_t port;        /* network order */
	uint16_t version;     /* HELLO */
	uint32_t arg;         /* SOCKET, BIND: flags; CAPTURE: snap length */
	uint32_t rx_ring;     /* SOCKET: ring entries wanted (0: default) */
	uint32_t tx_ring;
};

struct pn_ctl_rep {
	uint32_t seq;         /* the request's; 0: the connection is turned
	                       * away (status says why), whatever it asked */
	int32_t status;       /* 0 or a negative errno */
	uint32_t sock_id;
	uint32_t addr;        /* HELLO: our IPv4; BIND/CONNECT: local address */
	uint16_t port;        /* BIND/CONNECT: the local port, network order */
	uint16_t version;
	uint32_t region_size; /* SOCKET */
};

#endif
