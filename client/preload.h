/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * libpollnet-preload.so: unmodified programs on pollnet (pollnet-run).
 *
 * Loaded with LD_PRELOAD, it takes over every AF_INET/SOCK_DGRAM socket the
 * program opens; every other socket and file stays with the kernel.  Its
 * files, one idea each:
 *
 *   preload_libc.c   the C library's functions it calls (libc.h), its
 *                    start, syscall(), and name lookups
 *   preload_fd.c     the descriptor table, the session, fork, close and dup
 *   preload_sock.c   socket calls (socket, bind, connect, shutdown,
 *                    fcntl, ioctl)
 *   preload_opt.c    socket options
 *   preload_io.c     waiting, receiving and sending
 *   preload_poll.c   poll, select and epoll
 *   preload_err.c    the error queue (IP_RECVERR, MSG_ERRQUEUE)
 *
 * The descriptor.  A pollnet socket is a real descriptor in the program:
 * the client's end of the socket's receive wake pair (abi/pn_region.h).  So
 * fcntl(F_GETFD), close-on-exec, dup and a poll that this library does not
 * intercept behave, and the kernel does the waiting: a blocking receive
 * sleeps in recv(MSG_PEEK) on that socket, which SA_RESTART restarts,
 * SO_RCVTIMEO times out (the option is set on it) and a signal without
 * SA_RESTART interrupts, exactly as for a kernel socket; it reads end of
 * file when pollnet goes away (ENETDOWN).  A blocking send sleeps the same
 * way on the send pair's end, whose SO_RCVTIMEO is the program's
 * SO_SNDTIMEO.  Each socket has two descriptors of ours besides (high,
 * close-on-exec, refused to the program): a copy of the receive end and the
 * send end, on which every wait and every wake-up we consume happens, so
 * that the program closing or reusing its number never turns our calls on
 * another file.
 *
 * Lifetime.  A socket is counted per process: one for each descriptor that
 * names it and one for each call under way on it.  close() frees the number
 * at once, as the kernel's does; the socket goes when the count reaches
 * zero (a receive blocked across the close still gets the next datagram,
 * as on the kernel).  Sockets are never given back to malloc but kept for
 * the next (preload_fd.c): a call that looks one up by number while another
 * thread closes it finds out, and never touches freed memory.
 *
 * Waking.  A waiter consumes the wake-up messages of its direction only
 * when it has found that direction not ready, then arms and looks again; a
 * thread that takes a datagram and leaves others, while threads sleep on
 * that direction (counted in the shared page), asks pollnet for one more
 * message (a poke): the kernel wakes one blocked receiver per message.
 *
 * fork().  The child shares the parent's sockets, as with the kernel: the
 * state both sides write (the socket's lock, O_NONBLOCK, options, the
 * sleepers) lives in a shared page, the local port and the peer in the
 * region (pollnet writes them), every operation on a socket that went
 * through a fork() reads the ring positions back from the region under
 * that lock, and pollnet frees a socket when the last descriptor for its
 * receive end closes, in whichever process that is.  The control
 * connection is shared too, under a lock in a shared page.
 *
 * vfork() is a fork() (preload_fd.c says why).
 *
 * exec().  pollnet sockets do not survive exec(): the session's connection
 * is close-on-exec, so pollnet frees the sockets of a process that execs;
 * a socket left open across exec is, in the new program, a hung-up AF_UNIX
 * socket (calls on it fail).  Close-on-exec sockets simply go.
 */
#ifndef POLLNET_PRELOAD_H
#define POLLNET_PRELOAD_H

#include <arpa/inet.h>
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <sys/epoll.h>

#include "libc.h"
#include "pollnet_int.h"
#include "abi/pn_control.h"
#include "abi/pn_region.h"
#include "wait.h"

/* What the library stands in for: the only symbols it exports. */
#define EXPORT __attribute__((visibility("default")))

#define FD_MAX 65536
#define PRELOAD_SPIN_US 20      /* a wait's most spin, unless POLLNET_SPIN_US
                                 * says otherwise */

/* The descriptor table: what each of the program's descriptors is to us:
 * 0 (the kernel's), a struct psock *, or one of these tags, alone or (for
 * a socket's own descriptors, and an epoll set's list) on a pointer. */
#define T_PRIV 1u               /* ours: the session's, or a socket's (on its psock) */
#define T_EP   2u               /* an epoll instance we keep a list for (on its ep) */
#define T_MASK 3u

/* What a fork() shares: one page per socket. */
struct pshared {
	pthread_mutex_t lock;           /* robust, process-shared */
	_Atomic int nonblock;           /* O_NONBLOCK (per open file, as the kernel's) */
	_Atomic int shared;             /* went through a fork(): resync positions */
	int reuseaddr;
	int reuseport;
	int broadcast;
	uint32_t bind_addr;             /* network order: 0, ours, or a loopback */
	int rcvbuf, sndbuf;             /* what the program asked for */
	_Atomic int sleep_rx, sleep_tx; /* threads asleep on each wake pair */
	/* options kept as the kernel keeps them (preload_opt.c), under lock */
	uint8_t tos, ttl;               /* IP_TOS, IP_TTL (0: 64) */
	uint8_t pmtudisc;               /* IP_MTU_DISCOVER */
	uint8_t cmsgs;                  /* CM_*: control messages to receive */
	int priority, keepalive, rcvlowat;
	int linger_on, linger_s;
	char device[16];                /* SO_BINDTODEVICE */
	uint8_t mc_ttl, mc_noloop;      /* IP_MULTICAST_TTL (+1: 0 is the
	                                 * default, 1), IP_MULTICAST_LOOP off */
	uint32_t mc_if;                 /* IP_MULTICAST_IF: the address given */
	int mc_index;                   /* ... the interface given by index */
	_Atomic int shut;               /* SH_RD | SH_WR (shutdown) */
	_Atomic uint64_t dropped_not_bound; /* bound to an address: one sent to another */
	struct pn_mc_filter mc;         /* its groups (IP_ADD_MEMBERSHIP...), under lock */
	uint8_t recverr;                /* IP_RECVERR */
	uint8_t nlocal;                 /* local errors queued (EMSGSIZE) */
	uint32_t errq_seq;              /* the error queue's entry read last */
	struct {                        /* ... their destination and the MTU */
		uint32_t dst, mtu;
		uint16_t dport;
	} local[4];
};

/* (one page, shared by every process that has the socket) */
_Static_assert(sizeof(struct pshared) <= 4096, "a socket's shared state is one page");

#define CM_PKTINFO 1u            /* IP_PKTINFO */
#define CM_TOS     2u            /* IP_RECVTOS */
#define CM_TTL     4u            /* IP_RECVTTL */
#define CM_STAMP   8u            /* SO_TIMESTAMP (struct timeval) */
#define CM_STAMPNS 16u           /* SO_TIMESTAMPNS (with CM_STAMP: timespec) */

#define SH_RD 1
#define SH_WR 2

/* Besides PN_READY_*, what shutdown() makes of a socket (ps_ready): */
#define READY_RDHUP 0x100u       /* SHUT_RD: POLLRDHUP */
#define READY_HUP   0x200u       /* both ways: POLLHUP */

struct ep;

/* A pollnet socket, in this process.  s is read and replaced only under
 * the shared lock (SO_RCVBUF puts another in its place). */
struct psock {
	_Atomic int refs;               /* descriptors naming it, calls under way
	                                 * (first: fd_hold) */
	struct pollnet_socket *s;
	struct pshared *sh;
	_Atomic int wfd;                /* our copy of the receive wake end */
	_Atomic int tfd;                /* the send wake end */
	_Atomic uint32_t eagain;        /* EAGAIN returns (edge-triggered epoll) */
	struct pn_spin spin;            /* how long a wait spins (wait.h) */
	struct ep **eps;                /* the epoll lists it is on (preload_poll.c) */
	int neps, caps;
	struct psock *next_free;
};

/* What a fork() shares about the session. */
struct sshared {
	pthread_mutex_t lock;           /* robust, process-shared: one request at a time */
};

/* preload_fd.c */
extern _Atomic uintptr_t fdtab[FD_MAX];
extern _Atomic int g_hi;                /* every entry set is below this */
extern pthread_mutex_t g_lock;
extern struct pollnet *g_pn;
extern uint32_t g_addr;                 /* pollnet's, network order */
extern int g_debug;
extern uint64_t g_spin_most;            /* a wait's most spin, ns */

#define LOOPBACK(a) ((ntohl(a) >> 24) == 127)
#define GROUP(a) ((ntohl(a) >> 28) == 0xe)

void say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
#define DEBUG(...) do { if (g_debug) say(__VA_ARGS__); } while (0)

static inline uintptr_t
tab(int fd)
{
	return (unsigned)fd < FD_MAX ? atomic_load_explicit(&fdtab[fd], memory_order_acquire) : 0;
}

static inline int
is_psock(uintptr_t v)
{
	return v != 0 && (v & T_MASK) == 0;
}

void tab_set(int fd, uintptr_t v);
/* Memory that is never given back (a socket's, an epoll list's): a thread
 * that loaded a pointer from the table may still look at its count after
 * another thread released it, and must find a count (zero, or a new
 * object's, which fd_hold then sees is no longer at that number), not
 * freed memory.  Under g_lock. */
struct pool {
	void *free;
	size_t size, link;              /* an object's, and its link's offset */
};
void *pool_take(struct pool *p);
void pool_give(struct pool *p, void *obj);

/* A socket's memory, its count 1 (the caller's); back unused. */
struct psock *ps_new(void);
void ps_discard(struct psock *ps);
/* What the table holds at fd under tag (0: a socket; T_EP), whose count
 * is its first member, with a reference taken, or NULL; put lets go of one
 * it took by mistake (fd was closed meanwhile). */
void *fd_hold(int fd, uintptr_t tag, void (*put)(uintptr_t));
/* The socket fd names, with a reference (ps_put when done), or NULL. */
struct psock *ps_get(int fd);
void ps_put(struct psock *ps);
/* Wait (a second at most) until pollnet has taken what ps queued. */
void ps_flush(struct psock *ps);
/* fd now names what old names. */
void fd_copy(int old, int fd);
/* A descriptor of ours for ps (ps NULL: the session's), moved out of the
 * program's way (high, close-on-exec; keep: a copy, fd stays): its new
 * number, or -1. */
int fd_private(int fd, struct psock *ps, int keep);
/* Close a descriptor of ours (-1: none). */
void fd_private_close(int fd);

void mutex_init_shared(pthread_mutex_t *m);
void mutex_lock(pthread_mutex_t *m);
void *shared_page(void);
/* Take a socket's lock; a socket another process also uses gets its
 * positions back from the region. */
void ps_lock(struct psock *ps);
void ps_unlock(struct psock *ps);
/* A call, option or flag we do not support on a pollnet socket (under
 * the socket's lock). */
void refused(struct psock *ps, int fd, const char *what);

static inline int
fail(int err)
{
	errno = err;
	return -1;
}

/* The session with pollnet (opened on first use): 0 or a negative errno. */
int session(void);
/* Around every request on the session (it may be shared after fork()). */
void sess_lock(void);
void sess_unlock(void);
/* pthread_atfork's three. */
void fork_prepare(void);
void fork_parent(void);
void fork_child(void);

/* preload_sock.c */
/* A new pollnet socket for ps (no descriptor of the program's yet), with
 * rings of rx_ring/tx_ring entries (0: pollnet's default); *rx_end gets
 * its receive end: 0, or a negative errno. */
int ps_open(struct psock *ps, uint32_t rx_ring, uint32_t tx_ring, int *rx_end);
int sin_from(const struct sockaddr *sa, socklen_t len, struct sockaddr_in *out);
void sin_to(const struct sockaddr_in *sin, struct sockaddr *sa, socklen_t *len);
/* The TTL of a datagram ps sends to dst (the socket's IP_TTL, or to a
 * group IP_MULTICAST_TTL). */
uint8_t send_ttl(struct psock *ps, uint32_t dst);
/* May ps send to a? 0 or a negative errno. */
int dest_ok(struct psock *ps, const struct sockaddr_in *a);
/* pollnet's interface (its state page), or NULL before the session. */
const struct pn_shm_iface *iface(void);

/* preload_io.c: one control message into m's buffer at *used (MSG_CTRUNC
 * for what does not fit). */
void put_cmsg(struct msghdr *m, size_t *used, int level, int type, const void *data, size_t n);
/* preload_err.c: the error queue (IP_RECVERR).  local_error queues a send
 * refused for its length (under the socket's lock); errq_recv reads the next
 * entry into iov (e, if not NULL: all it said); errq_recvmsg is recvmsg's
 * MSG_ERRQUEUE with its control message. */
void local_error(struct psock *ps, uint32_t dst, uint16_t dport);
ssize_t errq_recv(struct psock *ps, const struct iovec *iov, int iovcnt,
		  struct sockaddr_in *from, size_t *full, struct pn_shm_errent *e);
ssize_t errq_recvmsg(struct psock *ps, struct msghdr *m);

/* preload_io.c */
/* What ps can do now: PN_READY_* and READY_*; shut for receiving, it is
 * ready to (return 0); for sending, to fail (EPIPE).  Under the lock:
 * ps_ready_locked. */
unsigned ps_ready(struct psock *ps);
unsigned ps_ready_locked(struct psock *ps);
/* Consume the wake messages queued on fd (we are about to look again). */
void drain(int fd);
/* Ask to be woken (PN_WAKE_* bits), consuming the wake-ups of each
 * direction found not ready, then look again: PN_READY_*. */
unsigned ps_arm(struct psock *ps, unsigned bits);

/* preload_epoll.c */
/* Drop ps from every epoll list (its last reference is gone). */
void ep_forget(struct psock *ps);
/* An epoll instance's list: one reference fewer. */
void ep_put(uintptr_t v);
/* In a child after fork(): the list's lock is free (one thread came). */
void ep_child(uintptr_t v);

/* ---- waiting: poll and select (preload_poll.c), epoll (preload_epoll.c) ---- */

/* The PN_WAKE_* bits for poll or epoll events. */
static inline unsigned
wake_bits(uint32_t events)
{
	return (events & (POLLIN | POLLRDNORM) ? PN_WAKE_RX : 0) |
	       (events & (POLLOUT | POLLWRNORM) ? PN_WAKE_TX : 0);
}

/* Would ps's ready bits r end a wait for bits? */
static inline int
wakes(unsigned r, unsigned bits)
{
	return (r & PN_READY_ERR) || ((r & PN_READY_RX) && (bits & PN_WAKE_RX)) ||
	       ((r & PN_READY_TX) && (bits & PN_WAKE_TX));
}

static inline int
ms_left(uint64_t deadline)
{
	uint64_t now;

	if (deadline == UINT64_MAX)
		return -1;
	now = pn_now_ns();
	return now >= deadline ? 0 : (int)((deadline - now + 999999u) / 1000000u);
}

static inline uint64_t
deadline_ms(int ms)
{
	return ms < 0 ? UINT64_MAX : pn_now_ns() + (uint64_t)ms * 1000000u;
}

/* The most a wait that ends at deadline may spin (ns). */
static inline uint64_t
spin_most(uint64_t deadline)
{
	uint64_t now = pn_now_ns();

	if (deadline == UINT64_MAX)
		return g_spin_most;
	return deadline <= now ? 0 : deadline - now < g_spin_most ? deadline - now : g_spin_most;
}

#endif
