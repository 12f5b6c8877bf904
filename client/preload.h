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
 *   preload_sock.c   socket calls and options
 *   preload_io.c     waiting, receiving and sending
 *   preload_poll.c   poll, select and epoll
 *
 * The descriptor.  A pollnet socket is a real descriptor in the program:
 * the client's end of the socket's wake pair (a SOCK_SEQPACKET socket pair
 * that pollnet writes an 8-byte message to when the client asked to be
 * woken).  So fcntl(F_GETFD), close-on-exec, dup and a poll that this
 * library does not intercept behave, and the kernel does the waiting: a
 * blocking call sleeps in recv(MSG_PEEK) on that end, which SA_RESTART
 * restarts, SO_RCVTIMEO times out (the option is set on that socket) and a
 * signal without SA_RESTART interrupts, exactly as for a kernel socket; it
 * reads end of file when pollnet goes away (ENETDOWN).  The wake messages
 * are level-triggered: a waiter consumes them only after finding nothing to
 * do, then asks to be woken and looks again.
 *
 * fork().  The child shares the parent's sockets, as with the kernel: the
 * state both sides write (the socket's lock, O_NONBLOCK, options) lives in
 * a shared page, every operation on a socket that went through a fork()
 * reads the ring positions back from the region under that lock, and
 * pollnet frees a socket when the last descriptor for its wake pair closes,
 * in whichever process that is.  The control connection is shared too,
 * under a lock in a shared page.
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
#include "pollnet_shm.h"
#include "wait.h"

/* What the library stands in for: the only symbols it exports. */
#define EXPORT __attribute__((visibility("default")))

#define FD_MAX 65536
#define PRELOAD_SPIN_US 20      /* a wait's most spin, unless POLLNET_SPIN_US
                                 * says otherwise */

/* The descriptor table: what each of the program's descriptors is to us. */
#define T_PRIV 1u               /* our own descriptor (the session's, its doorbell) */
#define T_EP   2u               /* an epoll instance we keep a list for */
#define T_MASK 3u               /* else 0 (the kernel's) or a struct psock * */

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
	int sndtimeo_ms;                /* -1: none */
	_Atomic uint64_t dropped_not_loopback; /* bound to 127.x: a datagram from the wire */
};

/* A pollnet socket, in this process. */
struct psock {
	struct pollnet_socket *s;
	struct pshared *sh;
	_Atomic int refs;               /* descriptors in this process */
	_Atomic uint32_t eagain;        /* EAGAIN returns (edge-triggered epoll) */
	struct pn_spin spin;            /* how long a wait spins (wait.h) */
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

void say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
#define DEBUG(...) do { if (g_debug) say(__VA_ARGS__); } while (0)

static inline uintptr_t
tab(int fd)
{
	return (unsigned)fd < FD_MAX ? atomic_load_explicit(&fdtab[fd], memory_order_acquire) : 0;
}

static inline struct psock *
ps_of(int fd)
{
	uintptr_t v = tab(fd);

	return v != 0 && (v & T_MASK) == 0 ? (struct psock *)v : NULL;
}

void tab_set(int fd, uintptr_t v);
/* fd now names what old names. */
void fd_copy(int old, int fd);

void mutex_init_shared(pthread_mutex_t *m);
void mutex_lock(pthread_mutex_t *m);
void *shared_page(void);
/* Take a socket's lock; a socket another process also uses gets its
 * positions back from the region. */
void ps_lock(struct psock *ps);
void ps_unlock(struct psock *ps);
/* A call, option or flag we do not support on a pollnet socket. */
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
int sin_from(const struct sockaddr *sa, socklen_t len, struct sockaddr_in *out);
void sin_to(const struct sockaddr_in *sin, struct sockaddr *sa, socklen_t *len);
/* May ps send to a? 0 or a negative errno. */
int dest_ok(struct psock *ps, const struct sockaddr_in *a);

/* preload_io.c */
unsigned ps_ready(struct psock *ps);
/* Consume the wake messages queued on fd (we are about to look again). */
void drain(int fd);
/* Ask to be woken (PN_WAKE_* bits), then look again: PN_READY_*. */
unsigned ps_arm(struct psock *ps, int fd, unsigned bits);

/* preload_poll.c */
/* Is ps in an epoll list? */
int ep_has(struct psock *ps);
/* Drop ps from every epoll list. */
void ep_forget(struct psock *ps);
/* An epoll instance's list is gone with its last descriptor. */
void ep_put(uintptr_t v);
void ep_get(uintptr_t v);

#endif
