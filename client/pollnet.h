/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * libpollnet: UDP sockets served by a running pollnet, through shared
 * memory.  Sending and receiving a datagram makes no system call (unless
 * the call has to wait).  Link with `pkg-config --libs libpollnet`.
 *
 *   struct pollnet *pn;
 *   struct pollnet_socket *s;
 *   pollnet_open(&pn, NULL);                   // connect to pollnet
 *   pollnet_socket(pn, &s);
 *   pollnet_bind(s, 5000);                     // or 0: an ephemeral port
 *   n = pollnet_recvfrom(s, buf, sizeof(buf), &from, &flags);
 *   pollnet_sendto(s, buf, n, &from);
 *   pollnet_close(s);
 *   pollnet_session_close(pn);
 *
 * Errors are negative errno values (pollnet_strerror() names them); calls
 * that return a length return it on success.
 *
 * Threads.  Session calls (pollnet_socket, _bind, _connect, _close) are
 * thread-safe.  On one socket, at most one thread may send and at most one
 * may receive at a time (one of each at once is fine): the rings are
 * single-producer, single-consumer.  Different sockets are independent.
 *
 * Processes.  A session and its sockets belong to the process that opened
 * them; a child after fork() must open its own.  When a process exits or is
 * killed, pollnet notices (the session's connection closes) and frees its
 * sockets.
 */
#ifndef POLLNET_H
#define POLLNET_H

#include <netinet/in.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

#ifdef __cplusplus
extern "C" {
#endif

struct pollnet;
struct pollnet_socket;

#define POLLNET_TRUNC 0x1      /* recv flags: the datagram was longer than the buffer */
/* The longest datagram: UDP's, to any address.  To another host, one
 * longer than a frame holds (POLLNET_MAX_FRAME_DATAGRAM with a 1500-byte
 * MTU) goes in IP fragments, unless pollnet_set_pmtudisc says DO, PROBE or
 * INTERFACE (-EMSGSIZE).  Receive into POLLNET_MAX_RECV bytes to never see
 * POLLNET_TRUNC. */
#define POLLNET_MAX_DATAGRAM 65507
#define POLLNET_MAX_FRAME_DATAGRAM 1472
#define POLLNET_MAX_RECV 65507

/* Connect to pollnet's control socket (NULL: $POLLNET_CTL, else
 * /run/pollnet/pollnet.sock). */
int pollnet_open(struct pollnet **out, const char *ctl_path);
/* Close every socket of the session, then the session. */
void pollnet_session_close(struct pollnet *pn);
/* pollnet's own IPv4 address (network order): datagrams to it, or to
 * 127.0.0.0/8, go to another local socket without touching the network. */
uint32_t pollnet_address(const struct pollnet *pn);

int pollnet_socket(struct pollnet *pn, struct pollnet_socket **out);
/* pollnet_socket with rings of its own: rx_ring datagrams may wait to be
 * received, tx_ring to be sent (0: pollnet's default; rounded up to a power
 * of 2, at most pollnet's sockets.ring_max, never below its default), as
 * SO_RCVBUF and SO_SNDBUF size a kernel socket.  Each entry holds one
 * datagram in a 2 KiB slot of the socket's shared memory. */
int pollnet_socket_rings(struct pollnet *pn, struct pollnet_socket **out, uint32_t rx_ring,
			 uint32_t tx_ring);
/* Bind to a local port (host order; 0: an ephemeral one).  Ports below
 * 1024 need root. */
int pollnet_bind(struct pollnet_socket *s, uint16_t port);
/* Only datagrams from `to` are received, and send() goes there.  Binds an
 * ephemeral port first if the socket is not bound.  When `to` answers with
 * an ICMP port unreachable, the socket's next send or receive returns
 * -ECONNREFUSED (once), as a connected UDP socket's does. */
int pollnet_connect(struct pollnet_socket *s, const struct sockaddr_in *to);
/* The local port (host order), 0 if unbound. */
uint16_t pollnet_local_port(const struct pollnet_socket *s);
/* Close the socket.  Datagrams already sent still go out (close waits up to
 * a second for pollnet to take them); datagrams received and not read are
 * dropped. */
int pollnet_close(struct pollnet_socket *s);

/* Send one datagram (at most POLLNET_MAX_DATAGRAM bytes, and never more
 * than half the send ring's slots hold; POLLNET_MAX_FRAME_DATAGRAM to
 * another host with IP_PMTUDISC_DO, _PROBE or _INTERFACE).  Blocks while
 * the socket's send ring is full, unless non-blocking (-EAGAIN). */
ssize_t pollnet_send(struct pollnet_socket *s, const void *buf, size_t len);
ssize_t pollnet_sendto(struct pollnet_socket *s, const void *buf, size_t len,
		       const struct sockaddr_in *to);
/* Receive one datagram: returns the bytes copied; *flags gets
 * POLLNET_TRUNC if it was longer than len (the rest is lost).  `from` and
 * `flags` may be NULL.  Blocks until one arrives, unless non-blocking
 * (-EAGAIN) or a timeout is set (-ETIMEDOUT). */
ssize_t pollnet_recv(struct pollnet_socket *s, void *buf, size_t len, int *flags);
ssize_t pollnet_recvfrom(struct pollnet_socket *s, void *buf, size_t len,
			 struct sockaddr_in *from, int *flags);

/* What a received datagram's IP header said, and when it came (the
 * kernel's IP_PKTINFO, IP_TOS, IP_TTL and SO_TIMESTAMPNS). */
struct pollnet_info {
	struct in_addr dst;             /* the address it was sent to */
	uint8_t tos;                    /* the TOS byte, ECN bits included */
	uint8_t ttl;
	struct timespec stamp;          /* when pollnet took it (CLOCK_REALTIME) */
};
/* pollnet_recvfrom, and info (may be NULL) about the datagram. */
ssize_t pollnet_recvfrom_info(struct pollnet_socket *s, void *buf, size_t len,
			      struct sockaddr_in *from, int *flags, struct pollnet_info *info);
/* The TOS byte (0 to 255, ECN bits included) and the TTL (1 to 255; 0:
 * 64, the default) of the datagrams s sends, as IP_TOS and IP_TTL.  0 or
 * -EINVAL. */
int pollnet_set_tos(struct pollnet_socket *s, int tos);
int pollnet_set_ttl(struct pollnet_socket *s, int ttl);
/* IP_MTU_DISCOVER's modes (<netinet/in.h> IP_PMTUDISC_*), as Linux reads
 * them for UDP: WANT (the default) sets DF on what fits the MTU and sends
 * the rest in fragments; DONT and OMIT never set DF and fragment; DO and
 * PROBE set DF, INTERFACE does not, and those three refuse what does not
 * fit (-EMSGSIZE).  0 or -EINVAL. */
int pollnet_set_pmtudisc(struct pollnet_socket *s, int mode);
/* Join an IPv4 multicast group (224.0.0.0/4) on pollnet's interface, as
 * IP_ADD_MEMBERSHIP, or with source (not NULL, not 0.0.0.0) that source's
 * datagrams only, as IP_ADD_SOURCE_MEMBERSHIP; pollnet_leave undoes
 * either, as IP_DROP_MEMBERSHIP and IP_DROP_SOURCE_MEMBERSHIP.  A socket
 * bound to the group's port receives its datagrams; one bound to the port
 * that joined nothing receives those of the groups other sockets joined
 * (Linux's IP_MULTICAST_ALL).  0, or -EINVAL (not a group, or a filter of
 * the other kind), -EADDRINUSE (joined already), -EADDRNOTAVAIL (not
 * joined), -ENOBUFS (20 groups, or 10 sources). */
int pollnet_join(struct pollnet_socket *s, const struct in_addr *group,
		 const struct in_addr *source);
int pollnet_leave(struct pollnet_socket *s, const struct in_addr *group,
		  const struct in_addr *source);

/*
 * Many datagrams per call (as recvmmsg/sendmmsg), with one wait and one
 * update of the ring for the whole batch.  A message: buf and
 * len, the buffer (send: the datagram); addr, the sender (receive) or the
 * destination (send; sin_family 0: the connected peer); n, the bytes
 * received; flags, POLLNET_TRUNC.
 *
 * pollnet_recvmmsg waits as pollnet_recv does for the first datagram, then
 * takes what else is there, up to count, without waiting: it returns how
 * many it took (>= 1) or a negative errno.  pollnet_sendmmsg waits as
 * pollnet_send does for room for the first, then queues as many more as
 * the ring has room for: it returns how many it queued (>= 1; the rest
 * were not sent) or a negative errno (nothing sent; a message that cannot
 * be sent at all, too long or with a bad destination, fails only when it
 * is the first: the call stops before it otherwise).
 */
struct pollnet_msg {
	void *buf;
	size_t len;
	struct sockaddr_in addr;
	size_t n;
	int flags;
};
int pollnet_recvmmsg(struct pollnet_socket *s, struct pollnet_msg *msgs, unsigned count);
int pollnet_sendmmsg(struct pollnet_socket *s, struct pollnet_msg *msgs, unsigned count);

/*
 * Zero-copy receive: borrow datagrams where pollnet put them, in the
 * socket's shared memory, then give them back.  pollnet_recv_borrow waits
 * as pollnet_recvmmsg does, then fills up to count views (buf, n: the
 * datagram, read-only; addr, the sender; flags, POLLNET_TRUNC if pollnet
 * cut it to its 2 KiB slot) and returns how many (>= 1) or a negative
 * errno.  A view stays valid until pollnet_recv_release gives back the n
 * oldest datagrams borrowed (n at most those borrowed: else -EINVAL).
 * Borrowing again continues after what is lent; the other receive calls
 * too.  What is borrowed holds its slots: pollnet drops what finds the
 * ring full (udp_ring_full), so give back soon.
 */
struct pollnet_view {
	const void *buf;
	size_t n;
	struct sockaddr_in addr;
	int flags;
};
int pollnet_recv_borrow(struct pollnet_socket *s, struct pollnet_view *views, unsigned count);
int pollnet_recv_release(struct pollnet_socket *s, unsigned n);

/* Blocking (the default) or not. */
int pollnet_set_nonblocking(struct pollnet_socket *s, int on);
/* Blocking calls give up after ms milliseconds (-ETIMEDOUT); -1: never. */
int pollnet_set_timeout(struct pollnet_socket *s, int ms);

/*
 * For poll/epoll: a file descriptor that becomes readable when the socket
 * may have a datagram.  Use it like this: receive (non-blocking) until
 * -EAGAIN, which also arms the descriptor, then wait on it.  Datagrams that
 * arrive before the -EAGAIN are found by receiving; the descriptor only
 * wakes a waiter.
 */
int pollnet_fd(const struct pollnet_socket *s);

/* A message for an error returned by this library. */
const char *pollnet_strerror(int err);

#ifdef __cplusplus
}
#endif

#endif
