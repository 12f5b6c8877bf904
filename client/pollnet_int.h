/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * libpollnet's inside, for pollnet-run's library (libpollnet-preload.so,
 * which links libpollnet's code in).  Not installed, not a stable API.
 *
 * The shim does its own waiting (so that a blocking call behaves as the
 * kernel's: restarted or EINTR by SA_RESTART, SO_RCVTIMEO, end of file when
 * pollnet goes away), so these calls never block: -EAGAIN instead.
 */
#ifndef POLLNET_INT_H
#define POLLNET_INT_H

#include <stdint.h>
#include <sys/uio.h>
#include <time.h>

#include "pollnet.h"
#include "abi/pn_region.h"

#define PN_READY_RX  1u         /* a datagram (or an error) to receive */
#define PN_READY_TX  2u         /* room in the send ring */
#define PN_READY_ERR 4u         /* an error is pending */

/* PN_CTL_SOCKET with flags (PN_SOCK_*). */
int pn_int_socket(struct pollnet *pn, struct pollnet_socket **out, uint32_t flags,
		  uint32_t rx_ring, uint32_t tx_ring);
/* The client's ends of the receive and the send wake pairs, which the
 * caller now owns (the socket forgets them: closing it no longer closes
 * them). */
void pn_int_take_wake_fds(struct pollnet_socket *s, int *rx, int *tx);
/* Ask pollnet for one more wake-up message on the receive (PN_READY_RX)
 * or the send (PN_READY_TX) pair: abi/pn_region.h, Poking. */
void pn_int_poke(struct pollnet_socket *s, unsigned ready_bit);
/* pollnet's interface, from the session's state page. */
const struct pn_shm_iface *pn_int_iface(const struct pollnet *pn);
/* The session's own descriptors: its control connection and its doorbell. */
void pn_int_private_fds(const struct pollnet *pn, int fds[2]);
/* Move one of them, old, to descriptor fd (old is closed); -EBADF if old
 * is not one of them. */
int pn_int_move_fd(struct pollnet *pn, int old, int fd);
/* Datagrams sent and not yet taken by pollnet? */
int pn_int_tx_pending(struct pollnet_socket *s);

/* What the socket can do now (PN_READY_*). */
unsigned pn_int_ready(struct pollnet_socket *s);
/* This thread is about to wait on s: say on which CPU (abi/pn_region.h,
 * Sharing a core).  1 if s's lcore runs there too: sleep, do not spin. */
int pn_int_waits_here(struct pollnet_socket *s);
/* Ask pollnet to wake us (PN_WAKE_* bits), then look again: PN_READY_*. */
unsigned pn_int_arm(struct pollnet_socket *s, unsigned wake_bits);
/* pollnet's progress: datagrams it has put in the receive ring and taken
 * from the send ring so far (free-running counts). */
void pn_int_progress(struct pollnet_socket *s, uint32_t *rx, uint32_t *tx);
/* Another process may have moved our positions (after fork()): read them
 * back from the region. */
void pn_int_resync(struct pollnet_socket *s);

/* A socket's multicast memberships (mcast.c), as Linux bounds them. */
#define PN_MC_MAX_MEMBERSHIPS 20        /* net.ipv4.igmp_max_memberships */
#define PN_MC_MAX_SRC         10        /* net.ipv4.igmp_max_msf */
struct pn_mc_member {
	uint32_t group;
	uint8_t mode;                   /* PN_MC_INCLUDE or PN_MC_EXCLUDE */
	uint8_t nsrc;
	uint8_t has_list;               /* a source was given once: its mode stays */
	uint32_t src[PN_MC_MAX_SRC];
};
struct pn_mc_filter {
	uint8_t n;
	uint8_t all_off;                /* IP_MULTICAST_ALL 0 */
	struct pn_mc_member m[PN_MC_MAX_MEMBERSHIPS];
};
enum { PN_MC_JOIN, PN_MC_LEAVE, PN_MC_JOIN_SOURCE, PN_MC_LEAVE_SOURCE, PN_MC_BLOCK,
       PN_MC_UNBLOCK };
/* IP_ADD_MEMBERSHIP (PN_MC_JOIN), IP_DROP_MEMBERSHIP, IP_ADD_SOURCE_MEMBERSHIP,
 * IP_DROP_SOURCE_MEMBERSHIP, IP_BLOCK_SOURCE, IP_UNBLOCK_SOURCE on filter
 * f of socket s, with Linux's rules and errors; pollnet is told (its
 * error undoes the change).  0 or a negative errno. */
int pn_int_mc(struct pollnet_socket *s, struct pn_mc_filter *f, int op, uint32_t group,
	      uint32_t src);
/* Does f take a datagram to group from src? */
int pn_int_mc_takes(const struct pn_mc_filter *f, uint32_t group, uint32_t src);
/* The filter a socket's receives go by (libpollnet's own, or pollnet-run's
 * shared one). */
void pn_int_set_mc_filter(struct pollnet_socket *s, struct pn_mc_filter *f);

/* IP_RECVERR: pollnet posts every ICMP error to the socket (on) or only
 * the hard ones of a connected socket (off). */
void pn_int_set_recverr(struct pollnet_socket *s, int on);
/* The errors pollnet posted to s so far (a count). */
uint32_t pn_int_errors_posted(struct pollnet_socket *s);
/* The error queue's next entry after the one numbered *seq (MSG_ERRQUEUE):
 * 0 and *e (*seq moved on; the error it is no longer pending), or
 * -EAGAIN. */
int pn_int_errq_next(struct pollnet_socket *s, uint32_t *seq, struct pn_shm_errent *e);

/* What a datagram's IP header said (received) or is to say (sent). */
struct pn_ip {
	uint32_t local;         /* RX: the address it was sent to; TX: the
	                         * source (0: pollnet's address) */
	uint8_t tos, ttl;       /* TX: ttl 0 is 64 */
	uint8_t pmtudisc;       /* TX: IP_PMTUDISC_* */
	uint8_t noloop;         /* TX: IP_MULTICAST_LOOP 0 */
	uint64_t stamp;         /* RX: pollnet's TSC when it took it */
};

/* One datagram into iov (at most iovcnt pieces); *full gets its length.
 * peek: leave it in the ring.  bound, for a socket bound to an address
 * (pollnet delivers by port): drop first what was sent to another one (a
 * broadcast, or a loopback socket's datagram from the wire), counted in
 * *skipped.
 * ip (may be NULL) gets what its header said.  -EAGAIN when there is none. */
ssize_t pn_int_recv(struct pollnet_socket *s, const struct iovec *iov, int iovcnt,
		    struct sockaddr_in *from, int peek, size_t *full, uint32_t bound,
		    unsigned *skipped, struct pn_ip *ip);
/* A descriptor's stamp as wall-clock time. */
void pn_int_stamp(const struct pollnet *pn, uint64_t tsc, struct timespec *ts);
/* Bytes sent and not yet taken by pollnet. */
size_t pn_int_outq(struct pollnet_socket *s);
/* The length of the next datagram, 0 if none. */
size_t pn_int_next_len(struct pollnet_socket *s);
/* One datagram gathered from iov; to NULL: the connected peer; ip NULL:
 * the socket's TOS and TTL.  -EAGAIN when the ring is full. */
ssize_t pn_int_send(struct pollnet_socket *s, const struct iovec *iov, int iovcnt,
		    const struct sockaddr_in *to, const struct pn_ip *ip);
/* The pending error (a negative errno) taken, or 0. */
int pn_int_take_error(struct pollnet_socket *s);
/* Dissolve the association (connect(AF_UNSPEC)): a port the socket named
 * stays, one chosen for it is given up.  Send what is queued first. */
int pn_int_disconnect(struct pollnet_socket *s);
/* pollnet_bind with PN_BIND_* flags (SO_REUSEADDR). */
int pn_int_bind(struct pollnet_socket *s, uint16_t port, uint32_t flags);
/* The connected peer: 0, or -ENOTCONN. */
int pn_int_peer(const struct pollnet_socket *s, struct sockaddr_in *peer);
/* The ring sizes (datagrams). */
void pn_int_rings(const struct pollnet_socket *s, uint32_t *rx, uint32_t *tx);
/* Count a refusal in the region, for pollnetctl sockets (what: its name). */
void pn_int_refused(struct pollnet_socket *s, const char *what);
/* Unmap and free without telling pollnet (another process still uses the
 * socket, and pollnet frees it when the last one lets go). */
void pn_int_forget(struct pollnet_socket *s);

#endif
