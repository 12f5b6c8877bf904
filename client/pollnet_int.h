/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * libpollnet's inside, for the preload shim (libpollnet-preload.so, which
 * links the library's code in).  Not installed, not a stable API.
 *
 * The shim does its own waiting (so that a blocking call behaves as the
 * kernel's: restarted or EINTR by SA_RESTART, SO_RCVTIMEO, end of file when
 * pollnet goes away), so these calls never block: -EAGAIN instead.
 */
#ifndef POLLNET_INT_H
#define POLLNET_INT_H

#include <stdatomic.h>
#include <stdint.h>
#include <sys/uio.h>

#include "pollnet.h"

#define PN_READY_RX  1u         /* a datagram (or an error) to receive */
#define PN_READY_TX  2u         /* room in the send ring */
#define PN_READY_ERR 4u         /* an error is pending */

/*
 * How long a waiting call spins before it sleeps, learnt per socket.  A wait
 * the spin ended sets the budget to the most a wait may spin (max):
 * datagrams come often enough that spinning catches them, and each sleep
 * costs a wake-up on both sides.  A wait that slept doubles it if it ended
 * within 4 max, and halves it, down to max / 16, if it was longer:
 * datagrams come further apart than any spin covers, and a spin before each
 * sleep only takes the CPU from whoever shares it (on a small machine, the
 * load generator or pollnet itself).  Why 4 max: a sleep adds its own
 * wake-up to the time, and a round trip that a spin catches some of the
 * time (about 150 us in a TCG guest, against a 50 us spin) must keep it:
 * with 2 max, pollnet-echo's p50 there went from 114 to 180 us.  While
 * below max, every 16th wait spins max anyway, so that a socket whose
 * traffic quickens (a ping-pong after a quiet spell) finds it out even when
 * each sleep's wake-up is slower than its traffic.
 */
struct pn_spin {
	_Atomic uint32_t ns;            /* 0: not learnt yet, spin max */
	_Atomic uint32_t waits;
};

static inline uint64_t
pn_spin_budget(struct pn_spin *sp, uint64_t max)
{
	uint32_t b = atomic_load_explicit(&sp->ns, memory_order_relaxed);

	if (b == 0 || b >= max)
		return max;
	if ((atomic_fetch_add_explicit(&sp->waits, 1, memory_order_relaxed) & 15) == 15)
		return max;             /* a probe */
	return b;
}

/* A wait ended after `waited` ns; it slept or not. */
static inline void
pn_spin_learn(struct pn_spin *sp, uint64_t max, uint64_t waited, int slept)
{
	uint64_t b = atomic_load_explicit(&sp->ns, memory_order_relaxed);

	if (b == 0 || b > max)
		b = max;
	if (!slept)
		b = max;
	else if (waited <= 4 * max)
		b = b * 2 > max ? max : b * 2;
	else
		b = b / 2 < max / 16 ? max / 16 : b / 2;
	/* a racing thread's update may be lost: it only steers a guess */
	atomic_store_explicit(&sp->ns, b > UINT32_MAX ? UINT32_MAX : (uint32_t)(b ? b : 1),
			      memory_order_relaxed);
}

/* PN_CTL_SOCKET with flags (PN_SOCK_*). */
int pn_int_socket(struct pollnet *pn, struct pollnet_socket **out, uint32_t flags,
		  uint32_t rx_ring, uint32_t tx_ring);
/* The descriptor to wake on, which the caller now owns (the socket forgets
 * it: closing the socket no longer closes it). */
int pn_int_take_wake_fd(struct pollnet_socket *s);
/* The session's own descriptors: its control connection and its doorbell. */
void pn_int_private_fds(const struct pollnet *pn, int fds[2]);
/* Move one of them, old, to descriptor fd (old is closed); -EBADF if old
 * is not one of them. */
int pn_int_move_fd(struct pollnet *pn, int old, int fd);
/* Datagrams sent and not yet taken by pollnet? */
int pn_int_tx_pending(struct pollnet_socket *s);

/* What the socket can do now (PN_READY_*). */
unsigned pn_int_ready(struct pollnet_socket *s);
/* Ask pollnet to wake us (PN_WAKE_* bits), then look again: PN_READY_*. */
unsigned pn_int_arm(struct pollnet_socket *s, unsigned wake_bits);
/* Another process may have moved our positions (after fork()): read them
 * back from the region. */
void pn_int_resync(struct pollnet_socket *s);

/* One datagram into iov (at most iovcnt pieces); *full gets its length.
 * peek: leave it in the ring.  -EAGAIN when there is none. */
ssize_t pn_int_recv(struct pollnet_socket *s, const struct iovec *iov, int iovcnt,
		    struct sockaddr_in *from, int peek, size_t *full);
/* The length of the next datagram, 0 if none. */
size_t pn_int_next_len(struct pollnet_socket *s);
/* One datagram gathered from iov; to NULL: the connected peer.  -EAGAIN
 * when the ring is full. */
ssize_t pn_int_send(struct pollnet_socket *s, const struct iovec *iov, int iovcnt,
		    const struct sockaddr_in *to);
/* The pending error (a negative errno) taken, or 0. */
int pn_int_take_error(struct pollnet_socket *s);
/* Dissolve the association (connect(AF_UNSPEC)); the port stays. */
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
