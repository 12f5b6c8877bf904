/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * libpollnet-preload.so: unmodified programs on pollnet (pollnet-run).
 *
 * Loaded with LD_PRELOAD, it takes over every AF_INET/SOCK_DGRAM socket the
 * program opens; every other socket and file stays with the kernel.
 *
 * The descriptor.  A pollnet socket is a real descriptor in the program:
 * the client's end of the socket's wake pair (a SOCK_SEQPACKET socket pair
 * that pollnet writes an 8-byte message to when the client asked to be
 * woken).  So fcntl(F_GETFD), close-on-exec, dup and a poll that this file
 * does not intercept behave, and the kernel does the waiting: a blocking
 * call sleeps in recv(MSG_PEEK) on that end, which SA_RESTART restarts,
 * SO_RCVTIMEO times out (the option is set on that socket) and a signal
 * without SA_RESTART interrupts, exactly as for a kernel socket; it reads
 * end of file when pollnet goes away (ENETDOWN).  The wake messages are
 * level-triggered: a waiter consumes them only after finding nothing to do,
 * then asks to be woken and looks again, so several waiters (threads,
 * processes) never miss one.
 *
 * fork().  The child shares the parent's sockets, as with the kernel: the
 * state both sides write (the socket's lock, O_NONBLOCK, options) lives in
 * a shared page, every operation on a socket that went through a fork()
 * reads the ring positions back from the region under that lock, and
 * pollnet frees a socket when the last descriptor for its wake pair closes,
 * in whichever process that is.  The control connection is shared too,
 * under a lock in a shared page.
 *
 * vfork() is a fork() (see there).
 *
 * exec().  pollnet sockets do not survive exec(): the session's connection
 * is close-on-exec, so pollnet frees the sockets of a process that execs;
 * a socket left open across exec is, in the new program, a hung-up AF_UNIX
 * socket (calls on it fail).  Close-on-exec sockets simply go.
 */
#define _GNU_SOURCE
/* fcntl and fcntl64 are both ours to define: no header renaming of one
 * into the other */
#undef _FILE_OFFSET_BITS
#include <dlfcn.h>
#include <ifaddrs.h>
#include <netdb.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netinet/in.h>
#include <netinet/udp.h>
#include <nss.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include "pollnet_int.h"
#include "pollnet_shm.h"

#define EXPORT __attribute__((visibility("default")))

/* glibc's _FORTIFY_SOURCE entry points (no header declares them) */
ssize_t __recv_chk(int, void *, size_t, size_t, int);
ssize_t __recvfrom_chk(int, void *, size_t, size_t, int, struct sockaddr *, socklen_t *);
ssize_t __read_chk(int, void *, size_t, size_t);
int __poll_chk(struct pollfd *, nfds_t, int, size_t);
int __ppoll_chk(struct pollfd *, nfds_t, const struct timespec *, const sigset_t *, size_t);

#define FD_MAX 65536
#define SPIN_NS 20000
#define T_PRIV 1u               /* our own descriptor (the session's, its doorbell) */
#define T_EP   2u               /* an epoll instance we keep a list for */
#define T_MASK 3u

/* ---- the real functions ---- */

#define REAL_FNS(X) \
	X(int, socket, (int, int, int)) \
	X(int, close, (int)) \
	X(int, bind, (int, const struct sockaddr *, socklen_t)) \
	X(int, connect, (int, const struct sockaddr *, socklen_t)) \
	X(int, listen, (int, int)) \
	X(int, accept, (int, struct sockaddr *, socklen_t *)) \
	X(int, accept4, (int, struct sockaddr *, socklen_t *, int)) \
	X(int, shutdown, (int, int)) \
	X(int, getsockname, (int, struct sockaddr *, socklen_t *)) \
	X(int, getpeername, (int, struct sockaddr *, socklen_t *)) \
	X(int, setsockopt, (int, int, int, const void *, socklen_t)) \
	X(int, getsockopt, (int, int, int, void *, socklen_t *)) \
	X(int, fcntl, (int, int, ...)) \
	X(int, fcntl64, (int, int, ...)) \
	X(int, ioctl, (int, unsigned long, ...)) \
	X(ssize_t, send, (int, const void *, size_t, int)) \
	X(ssize_t, sendto, (int, const void *, size_t, int, const struct sockaddr *, socklen_t)) \
	X(ssize_t, sendmsg, (int, const struct msghdr *, int)) \
	X(int, sendmmsg, (int, struct mmsghdr *, unsigned int, int)) \
	X(ssize_t, write, (int, const void *, size_t)) \
	X(ssize_t, writev, (int, const struct iovec *, int)) \
	X(ssize_t, recv, (int, void *, size_t, int)) \
	X(ssize_t, recvfrom, (int, void *, size_t, int, struct sockaddr *, socklen_t *)) \
	X(ssize_t, recvmsg, (int, struct msghdr *, int)) \
	X(int, recvmmsg, (int, struct mmsghdr *, unsigned int, int, struct timespec *)) \
	X(ssize_t, read, (int, void *, size_t)) \
	X(ssize_t, readv, (int, const struct iovec *, int)) \
	X(ssize_t, __recv_chk, (int, void *, size_t, size_t, int)) \
	X(ssize_t, __recvfrom_chk, (int, void *, size_t, size_t, int, struct sockaddr *, socklen_t *)) \
	X(ssize_t, __read_chk, (int, void *, size_t, size_t)) \
	X(int, poll, (struct pollfd *, nfds_t, int)) \
	X(int, ppoll, (struct pollfd *, nfds_t, const struct timespec *, const sigset_t *)) \
	X(int, select, (int, fd_set *, fd_set *, fd_set *, struct timeval *)) \
	X(int, pselect, (int, fd_set *, fd_set *, fd_set *, const struct timespec *, const sigset_t *)) \
	X(int, epoll_ctl, (int, int, int, struct epoll_event *)) \
	X(int, epoll_wait, (int, struct epoll_event *, int, int)) \
	X(int, epoll_pwait, (int, struct epoll_event *, int, int, const sigset_t *)) \
	X(int, dup, (int)) \
	X(int, dup2, (int, int)) \
	X(int, dup3, (int, int, int)) \
	X(int, close_range, (unsigned int, unsigned int, int)) \
	X(void, closefrom, (int)) \
	X(long, syscall, (long, ...)) \
	X(int, getaddrinfo, (const char *, const char *, const struct addrinfo *, struct addrinfo **))

#define X(ret, name, args) static ret (*real_##name) args;
REAL_FNS(X)
#undef X

static void
resolve(void)
{
#define X(ret, name, args) \
	if (real_##name == NULL) \
		real_##name = (ret (*) args)dlsym(RTLD_NEXT, #name);
	REAL_FNS(X)
#undef X
}

#define REAL(name) (real_##name != NULL ? real_##name : (resolve(), real_##name))

/* ---- state ---- */

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

struct psock {
	struct pollnet_socket *s;
	struct pshared *sh;
	_Atomic int refs;               /* descriptors in this process */
	_Atomic uint32_t eagain;        /* EAGAIN returns (edge-triggered epoll) */
	struct pn_spin spin;            /* how long a wait spins (pollnet_int.h) */
};

/* What a fork() shares about the session. */
struct sshared {
	pthread_mutex_t lock;           /* robust, process-shared: one request at a time */
};

struct epent {
	int fd;
	struct psock *ps;
	uint32_t events;
	epoll_data_t data;
	uint32_t last_mask;             /* EPOLLET: what we last reported */
	uint32_t last_eagain;
	int off;                        /* EPOLLONESHOT fired */
};

struct ep {
	pthread_mutex_t lock;
	_Atomic int refs;
	int n, cap;
	struct epent *e;
};

static _Atomic uintptr_t fdtab[FD_MAX];
static pthread_mutex_t g_lock = PTHREAD_MUTEX_INITIALIZER;
static struct pollnet *g_pn;
static struct sshared *g_ss;
static uint32_t g_addr;                 /* pollnet's, network order */
static int g_debug;
static int g_failed_said;
static __thread int in_lib;             /* libpollnet calling: straight to the kernel */

#define LOOPBACK(a) ((ntohl(a) >> 24) == 127)

static void say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static void
say(const char *fmt, ...)
{
	char buf[256];
	va_list ap;
	int n;

	n = snprintf(buf, sizeof(buf), "pollnet-run[%d]: ", (int)getpid());
	va_start(ap, fmt);
	n += vsnprintf(buf + n, sizeof(buf) - (size_t)n, fmt, ap);
	va_end(ap);
	if (n > (int)sizeof(buf) - 2)
		n = (int)sizeof(buf) - 2;
	buf[n++] = '\n';
	(void)!REAL(write)(2, buf, (size_t)n);
}

#define DEBUG(...) do { if (g_debug) say(__VA_ARGS__); } while (0)

static inline uintptr_t
tab(int fd)
{
	return (unsigned)fd < FD_MAX ? atomic_load_explicit(&fdtab[fd], memory_order_acquire) : 0;
}

static inline struct psock *
ps_of(int fd)
{
	uintptr_t v;

	if (in_lib)
		return NULL;
	v = tab(fd);
	return v != 0 && (v & T_MASK) == 0 ? (struct psock *)v : NULL;
}

static _Atomic int g_hi;                /* every entry set is below this */

static inline void
tab_set(int fd, uintptr_t v)
{
	if ((unsigned)fd >= FD_MAX)
		return;
	atomic_store_explicit(&fdtab[fd], v, memory_order_release);
	if (v != 0) {
		int hi = atomic_load(&g_hi);

		while (fd >= hi && !atomic_compare_exchange_weak(&g_hi, &hi, fd + 1))
			;
	}
}

static void
mutex_init_shared(pthread_mutex_t *m)
{
	pthread_mutexattr_t a;

	pthread_mutexattr_init(&a);
	pthread_mutexattr_setpshared(&a, PTHREAD_PROCESS_SHARED);
	pthread_mutexattr_setrobust(&a, PTHREAD_MUTEX_ROBUST);
	pthread_mutex_init(m, &a);
	pthread_mutexattr_destroy(&a);
}

static void
mutex_lock(pthread_mutex_t *m)
{
	if (pthread_mutex_lock(m) == EOWNERDEAD)
		pthread_mutex_consistent(m);    /* a process died holding it */
}

static void *
shared_page(void)
{
	void *p = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);

	return p == MAP_FAILED ? NULL : p;
}

/* Take a socket's lock; a socket another process also uses gets its
 * positions back from the region. */
static void
ps_lock(struct psock *ps)
{
	mutex_lock(&ps->sh->lock);
	if (atomic_load_explicit(&ps->sh->shared, memory_order_relaxed))
		pn_int_resync(ps->s);
}

static void
ps_unlock(struct psock *ps)
{
	pthread_mutex_unlock(&ps->sh->lock);
}

static void
refused(struct psock *ps, int fd, const char *what)
{
	if (ps != NULL)
		pn_int_refused(ps->s, what);    /* for pollnetctl sockets */
	DEBUG("fd %d: %s: not supported on a pollnet socket", fd, what);
}

static int
fail(int err)
{
	errno = err;
	return -1;
}

/* ---- the session ---- */

static void move_private(int fd, int low);

static int
session(void)
{
	const char *path = getenv("POLLNET_CTL");
	struct pollnet *pn;
	int rc, priv[2];

	if (g_pn != NULL)
		return 0;
	if (g_ss == NULL) {
		g_ss = shared_page();
		if (g_ss == NULL)
			return -ENOMEM;
		mutex_init_shared(&g_ss->lock);
	}
	in_lib = 1;
	rc = pollnet_open(&pn, path);
	in_lib = 0;
	if (rc < 0) {
		if (!g_failed_said++)
			say("cannot reach pollnet at %s: %s", path != NULL ? path : PN_CTL_DEFAULT_PATH,
			    pollnet_strerror(rc));
		return rc;
	}
	g_pn = pn;
	g_addr = pollnet_address(pn);
	/* ours, out of the program's way (high), and refused to it */
	pn_int_private_fds(pn, priv);
	for (int i = 0; i < 2; i++) {
		tab_set(priv[i], T_PRIV);
		move_private(priv[i], 1000);
	}
	DEBUG("session open: pollnet's address %u.%u.%u.%u", ((uint8_t *)&g_addr)[0],
	      ((uint8_t *)&g_addr)[1], ((uint8_t *)&g_addr)[2], ((uint8_t *)&g_addr)[3]);
	return 0;
}

static void
sess_lock(void)
{
	mutex_lock(&g_ss->lock);
	in_lib = 1;
}

static void
sess_unlock(void)
{
	in_lib = 0;
	pthread_mutex_unlock(&g_ss->lock);
}

/* ---- fork ---- */

static void
at_prepare(void)
{
	pthread_mutex_lock(&g_lock);
	if (g_ss != NULL)
		mutex_lock(&g_ss->lock);
	/* from now on two processes may use every open socket */
	for (int fd = 0, hi = atomic_load(&g_hi); fd < hi; fd++) {
		struct psock *ps;
		uintptr_t v = atomic_load_explicit(&fdtab[fd], memory_order_relaxed);

		if (v == 0 || (v & T_MASK))
			continue;
		ps = (struct psock *)v;
		atomic_store(&ps->sh->shared, 1);
	}
}

static void
at_parent(void)
{
	if (g_ss != NULL)
		pthread_mutex_unlock(&g_ss->lock);
	pthread_mutex_unlock(&g_lock);
}

static void
at_child(void)
{
	/* the session lock is the parent's to release (it is shared) */
	pthread_mutex_init(&g_lock, NULL);
}

/* vfork(): the child would run in the parent's memory, with none of the
 * handlers above, until it execs, and what it closes on the way (Python's
 * subprocess closes every descriptor above 2 after vfork) would release
 * the parent's sockets, in the parent's own tables.  So a vfork() is a
 * fork() here, as in other LD_PRELOAD stacks; posix_spawn() (glibc's
 * clone(CLONE_VFORK)) makes no call of ours in the child and stays as it
 * is. */
pid_t __vfork(void);

EXPORT pid_t
vfork(void)
{
	return fork();
}

EXPORT pid_t
__vfork(void)
{
	return fork();
}

/* Name lookups: glibc's DNS module drives its socket through libc's
 * internal calls, out of our reach.  libnss_pollnet (next to this library)
 * does the same with the calls we stand in for; it takes "dns"'s place on
 * the hosts line of nsswitch.conf, for this process only.
 * POLLNET_PRELOAD_DNS=0 leaves the lookups to glibc (and the kernel). */
static void
dns_setup(void)
{
	const char *off = getenv("POLLNET_PRELOAD_DNS");
	char path[4096], line[1024], out[1024], *slash;
	size_t n = 0;
	int changed = 0;
	Dl_info di;
	FILE *f;

	if (off != NULL && strcmp(off, "0") == 0)
		return;
	if (dladdr((void *)dns_setup, &di) == 0 || di.dli_fname == NULL ||
	    strlen(di.dli_fname) >= sizeof(path) - 32)
		return;
	strcpy(path, di.dli_fname);
	slash = strrchr(path, '/');
	strcpy(slash != NULL ? slash + 1 : path, "libnss_pollnet.so.2");
	/* loaded by its path, glibc finds it again by its soname */
	if (dlopen(path, RTLD_NOW | RTLD_NODELETE) == NULL) {
		DEBUG("name lookups stay glibc's: %s", dlerror());
		return;
	}
	f = fopen("/etc/nsswitch.conf", "re");
	while (f != NULL && fgets(line, sizeof(line), f) != NULL) {
		char *save = NULL, *w = strtok_r(line, " \t\r\n", &save);

		if (w == NULL || strcmp(w, "hosts:") != 0)
			continue;
		while ((w = strtok_r(NULL, " \t\r\n", &save)) != NULL && n + strlen(w) + 9 < sizeof(out)) {
			if (strcmp(w, "dns") == 0) {
				w = "pollnet";
				changed = 1;
			}
			n += (size_t)sprintf(out + n, "%s%s", n ? " " : "", w);
		}
		break;
	}
	if (f != NULL)
		fclose(f);
	if (f == NULL || n == 0) {      /* glibc's default line */
		strcpy(out, "files pollnet");
		changed = 1;
	}
	if (changed && __nss_configure_lookup("hosts", out) == 0)
		DEBUG("hosts: %s", out);
}

__attribute__((constructor)) static void
preload_init(void)
{
	const char *d = getenv("POLLNET_PRELOAD_DEBUG");

	resolve();
	g_debug = d != NULL && *d != '\0' && strcmp(d, "0") != 0;
	pthread_atfork(at_prepare, at_parent, at_child);
	dns_setup();
}

/* ---- sockets ---- */

static int
open_socket(int type)
{
	struct pollnet_socket *s;
	struct psock *ps;
	int rc, fd;

	pthread_mutex_lock(&g_lock);
	rc = session();
	pthread_mutex_unlock(&g_lock);
	if (rc < 0)
		return fail(rc == -EMFILE || rc == -ENFILE || rc == -EACCES || rc == -ENOMEM ? -rc :
			    rc == -EDQUOT || rc == -EUSERS ? ENFILE : ENETDOWN);
	ps = calloc(1, sizeof(*ps));
	if (ps == NULL)
		return fail(ENOMEM);
	ps->sh = shared_page();
	if (ps->sh == NULL) {
		free(ps);
		return fail(ENOMEM);
	}
	mutex_init_shared(&ps->sh->lock);
	ps->sh->sndtimeo_ms = -1;
	sess_lock();
	rc = pn_int_socket(g_pn, &s, PN_SOCK_WAKE_SOCKET | PN_SOCK_PRELOAD, 0, 0);
	sess_unlock();
	if (rc < 0) {
		DEBUG("socket: pollnet said %s", pollnet_strerror(rc));
		munmap(ps->sh, 4096);
		free(ps);
		/* the kernel's errnos for running out */
		return fail(rc == -EDQUOT || rc == -EUSERS ? ENFILE : -rc);
	}
	ps->s = s;
	fd = pn_int_take_wake_fd(s);
	if (fd >= FD_MAX) {
		REAL(close)(fd);
		sess_lock();
		pollnet_close(s);
		sess_unlock();
		munmap(ps->sh, 4096);
		free(ps);
		return fail(EMFILE);
	}
	if (!(type & SOCK_CLOEXEC))
		REAL(fcntl)(fd, F_SETFD, 0);
	atomic_store(&ps->sh->nonblock, (type & SOCK_NONBLOCK) != 0);
	atomic_store(&ps->refs, 1);
	tab_set(fd, (uintptr_t)ps);
	DEBUG("fd %d: a pollnet UDP socket", fd);
	return fd;
}

EXPORT int
socket(int domain, int type, int protocol)
{
	if (!in_lib && domain == AF_INET && (type & 0xff) == SOCK_DGRAM &&
	    (protocol == 0 || protocol == IPPROTO_UDP))
		return open_socket(type);
	return REAL(socket)(domain, type, protocol);
}

static void ep_forget(struct psock *ps);
static uint64_t now_ns(void);
static void drain(int fd);

/* The last descriptor of ps in this process is gone (fd: it, still open,
 * or -1). */
static void
ps_release(struct psock *ps, int fd)
{
	uint64_t t0 = now_ns();

	ep_forget(ps);
	/* as a UDP socket's close, it does not take back what was sent: wait
	 * (a second at most) for pollnet to take what is queued */
	for (;;) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		int pending;

		ps_lock(ps);
		pending = pn_int_tx_pending(ps->s);
		if (pending && fd >= 0)
			pn_int_arm(ps->s, PN_WAKE_TX);
		ps_unlock(ps);
		if (!pending || now_ns() - t0 > 1000000000u)
			break;
		if (fd >= 0) {
			if (REAL(poll)(&p, 1, 10) > 0)
				drain(fd);
		} else {
			REAL(poll)(NULL, 0, 1);
		}
	}
	if (atomic_load(&ps->sh->shared)) {
		/* another process may still use it: pollnet frees it when
		 * the last descriptor for the wake pair closes */
		pthread_mutex_lock(&g_lock);
		in_lib = 1;
		pn_int_forget(ps->s);
		in_lib = 0;
		pthread_mutex_unlock(&g_lock);
	} else {
		sess_lock();
		pollnet_close(ps->s);   /* what was sent still goes out */
		sess_unlock();
		munmap(ps->sh, 4096);
	}
	free(ps);
}

/* fd stops naming what it named (open: fd still names it). */
static void
fd_gone(int fd, uintptr_t v, int open)
{
	tab_set(fd, 0);
	if (v == 0 || v == T_PRIV)
		return;
	if ((v & T_MASK) == T_EP) {
		struct ep *ep = (struct ep *)(v & ~(uintptr_t)T_MASK);

		if (atomic_fetch_sub(&ep->refs, 1) == 1) {
			free(ep->e);
			free(ep);
		}
		return;
	}
	if (atomic_fetch_sub(&((struct psock *)v)->refs, 1) == 1)
		ps_release((struct psock *)v, open ? fd : -1);
}

/* fd now names what old names. */
static void
fd_copy(int old, int fd)
{
	uintptr_t v = tab(old);

	if (v == 0 || v == T_PRIV)
		return;
	if ((v & T_MASK) == T_EP)
		atomic_fetch_add(&((struct ep *)(v & ~(uintptr_t)T_MASK))->refs, 1);
	else
		atomic_fetch_add(&((struct psock *)v)->refs, 1);
	tab_set(fd, v);
}

EXPORT int
close(int fd)
{
	uintptr_t v;
	int rc;

	if (in_lib)
		return REAL(close)(fd);
	v = tab(fd);
	if (v == T_PRIV)
		return fail(EBADF);     /* not the program's */
	if (v == 0)
		return REAL(close)(fd);
	if ((v & T_MASK) == 0) {
		/* pollnet first (a last close sends what is queued), then the
		 * number is free for reuse */
		fd_gone(fd, v, 1);
		return REAL(close)(fd);
	}
	rc = REAL(close)(fd);
	fd_gone(fd, v, 0);
	return rc;
}

/* Our descriptor fd to the lowest free number from `low` (3 if none is
 * free there), still ours. */
static void
move_private(int fd, int low)
{
	int hi = REAL(fcntl)(fd, F_DUPFD_CLOEXEC, low);

	if (hi < 0)
		hi = REAL(fcntl)(fd, F_DUPFD_CLOEXEC, 3);
	if (hi < 0)
		return;
	tab_set(hi, T_PRIV);
	tab_set(fd, 0);
	in_lib = 1;
	pn_int_move_fd(g_pn, fd, hi);   /* closes fd */
	in_lib = 0;
}

/* Make way for the program at number fd: move our descriptor elsewhere. */
static void
make_way(int fd)
{
	if (tab(fd) == T_PRIV)
		move_private(fd, 1000);
}

EXPORT int
dup(int old)
{
	int fd = REAL(dup)(old);

	if (fd >= 0 && !in_lib) {
		if (tab(old) == T_PRIV) {
			REAL(close)(fd);
			return fail(EBADF);
		}
		fd_copy(old, fd);
	}
	return fd;
}

static int
dup_to(int old, int fd, int flags, int three)
{
	uintptr_t prev;
	int rc;

	if (in_lib)
		return three ? REAL(dup3)(old, fd, flags) : REAL(dup2)(old, fd);
	if (tab(old) == T_PRIV)
		return fail(EBADF);
	if (old == fd)
		return three ? fail(EINVAL) : REAL(dup2)(old, fd);
	make_way(fd);
	prev = tab(fd);
	rc = three ? REAL(dup3)(old, fd, flags) : REAL(dup2)(old, fd);
	if (rc < 0)
		return rc;
	fd_gone(fd, prev, 0);
	fd_copy(old, fd);
	return rc;
}

EXPORT int
dup2(int old, int fd)
{
	return dup_to(old, fd, 0, 0);
}

EXPORT int
dup3(int old, int fd, int flags)
{
	return dup_to(old, fd, flags, 1);
}

EXPORT int
close_range(unsigned int first, unsigned int last, int flags)
{
	unsigned int lo = first, hi = (unsigned int)atomic_load(&g_hi);

	if (in_lib || (flags & CLOSE_RANGE_CLOEXEC) || first > last)
		return REAL(close_range)(first, last, flags);
	/* ours stay; the program's pollnet sockets and epoll sets close one
	 * by one, the rest in ranges between them */
	for (unsigned int fd = first; fd <= last && fd < hi; fd++) {
		uintptr_t v = tab((int)fd);

		if (v == 0)
			continue;
		if (fd > lo && REAL(close_range)(lo, fd - 1, flags) < 0)
			return -1;
		if (v != T_PRIV)
			close((int)fd);
		lo = fd + 1;            /* fd < FD_MAX: no overflow */
	}
	return lo <= last ? REAL(close_range)(lo, last, flags) : 0;
}

EXPORT void
closefrom(int lowfd)
{
	if (lowfd < 0)
		lowfd = 0;
	close_range((unsigned int)lowfd, ~0u, 0);
}

/* ---- addresses ---- */

static int
sin_from(const struct sockaddr *sa, socklen_t len, struct sockaddr_in *out)
{
	if (sa == NULL || len < (socklen_t)sizeof(sa_family_t))
		return -EINVAL;
	if (sa->sa_family != AF_INET)
		return -EAFNOSUPPORT;
	if (len < (socklen_t)sizeof(struct sockaddr_in))
		return -EINVAL;
	memcpy(out, sa, sizeof(*out));
	if (out->sin_addr.s_addr == htonl(INADDR_ANY))
		out->sin_addr.s_addr = htonl(INADDR_LOOPBACK);  /* "this host", as Linux */
	return 0;
}

static void
sin_to(const struct sockaddr_in *sin, struct sockaddr *sa, socklen_t *len)
{
	socklen_t n;

	if (sa == NULL || len == NULL)
		return;
	n = *len < (socklen_t)sizeof(*sin) ? *len : (socklen_t)sizeof(*sin);
	memcpy(sa, sin, n);
	*len = sizeof(*sin);
}

/* May we send to a? */
static int
dest_ok(struct psock *ps, const struct sockaddr_in *a)
{
	uint32_t h = ntohl(a->sin_addr.s_addr);

	if (a->sin_port == 0)
		return -EINVAL;
	if (h == INADDR_BROADCAST && !ps->sh->broadcast)
		return -EACCES;         /* broadcast without SO_BROADCAST */
	return 0;
}

EXPORT int
bind(int fd, const struct sockaddr *sa, socklen_t len)
{
	struct psock *ps = ps_of(fd);
	const struct sockaddr_in *sin = (const struct sockaddr_in *)sa;
	int rc;

	if (ps == NULL)
		return REAL(bind)(fd, sa, len);
	if (sa == NULL || len < (socklen_t)sizeof(struct sockaddr_in))
		return fail(EINVAL);
	if (sa->sa_family != AF_INET)
		return fail(EAFNOSUPPORT);
	if (sin->sin_addr.s_addr != htonl(INADDR_ANY) && sin->sin_addr.s_addr != g_addr &&
	    !LOOPBACK(sin->sin_addr.s_addr))
		return fail(EADDRNOTAVAIL);
	if (pollnet_local_port(ps->s) != 0)
		return fail(EINVAL);
	sess_lock();
	rc = pn_int_bind(ps->s, ntohs(sin->sin_port),
			 ps->sh->reuseaddr || ps->sh->reuseport ? PN_BIND_REUSEADDR : 0);
	sess_unlock();
	if (rc < 0)
		return fail(-rc);
	ps->sh->bind_addr = sin->sin_addr.s_addr;
	DEBUG("fd %d: bound to port %u", fd, pollnet_local_port(ps->s));
	return 0;
}

EXPORT int
connect(int fd, const struct sockaddr *sa, socklen_t len)
{
	struct psock *ps = ps_of(fd);
	struct sockaddr_in to;
	int rc;

	if (ps == NULL)
		return REAL(connect)(fd, sa, len);
	if (sa != NULL && len >= (socklen_t)sizeof(sa_family_t) && sa->sa_family == AF_UNSPEC) {
		sess_lock();
		rc = pn_int_disconnect(ps->s);
		sess_unlock();
		return rc < 0 ? fail(-rc) : 0;
	}
	rc = sin_from(sa, len, &to);
	if (rc == 0)
		rc = dest_ok(ps, &to);
	if (rc < 0)
		return fail(-rc);
	sess_lock();
	rc = pollnet_connect(ps->s, &to);
	sess_unlock();
	return rc < 0 ? fail(-rc) : 0;
}

EXPORT int
getsockname(int fd, struct sockaddr *sa, socklen_t *len)
{
	struct psock *ps = ps_of(fd);
	struct sockaddr_in me = { .sin_family = AF_INET };
	struct sockaddr_in peer;

	if (ps == NULL)
		return REAL(getsockname)(fd, sa, len);
	if (sa == NULL || len == NULL)
		return fail(EFAULT);
	me.sin_port = htons(pollnet_local_port(ps->s));
	if (ps->sh->bind_addr != 0)
		me.sin_addr.s_addr = ps->sh->bind_addr;
	else if (pn_int_peer(ps->s, &peer) == 0)
		me.sin_addr.s_addr = LOOPBACK(peer.sin_addr.s_addr) ? peer.sin_addr.s_addr == g_addr ?
				     g_addr : htonl(INADDR_LOOPBACK) : g_addr;
	sin_to(&me, sa, len);
	return 0;
}

EXPORT int
getpeername(int fd, struct sockaddr *sa, socklen_t *len)
{
	struct psock *ps = ps_of(fd);
	struct sockaddr_in peer;

	if (ps == NULL)
		return REAL(getpeername)(fd, sa, len);
	if (sa == NULL || len == NULL)
		return fail(EFAULT);
	if (pn_int_peer(ps->s, &peer) < 0)
		return fail(ENOTCONN);
	sin_to(&peer, sa, len);
	return 0;
}

EXPORT int
listen(int fd, int backlog)
{
	if (ps_of(fd) != NULL)
		return fail(EOPNOTSUPP);
	return REAL(listen)(fd, backlog);
}

EXPORT int
accept(int fd, struct sockaddr *sa, socklen_t *len)
{
	if (ps_of(fd) != NULL)
		return fail(EOPNOTSUPP);
	return REAL(accept)(fd, sa, len);
}

EXPORT int
accept4(int fd, struct sockaddr *sa, socklen_t *len, int flags)
{
	if (ps_of(fd) != NULL)
		return fail(EOPNOTSUPP);
	return REAL(accept4)(fd, sa, len, flags);
}

EXPORT int
shutdown(int fd, int how)
{
	struct psock *ps = ps_of(fd);

	if (ps == NULL)
		return REAL(shutdown)(fd, how);
	refused(ps, fd, "shutdown()");
	return fail(EOPNOTSUPP);
}

/* ---- options ---- */

static int
int_opt(const void *v, socklen_t len, int *out)
{
	if (v == NULL || len < (socklen_t)sizeof(int))
		return -EINVAL;
	memcpy(out, v, sizeof(int));
	return 0;
}

static int
put_int(void *v, socklen_t *len, int x)
{
	if (v == NULL || len == NULL)
		return fail(EFAULT);
	if (*len >= (socklen_t)sizeof(int)) {
		memcpy(v, &x, sizeof(int));
		*len = sizeof(int);
	} else if (*len > 0) {
		*(unsigned char *)v = (unsigned char)x;
		*len = 1;
	}
	return 0;
}

/* An option's name, short enough for pollnetctl sockets' last_refused. */
static const char *
opt_name(int level, int name)
{
	static const struct { int level, name; const char *s; } names[] = {
#define N(l, n) { l, n, #n }
		N(SOL_SOCKET, SO_TIMESTAMP), N(SOL_SOCKET, SO_TIMESTAMPNS),
		N(SOL_SOCKET, SO_TIMESTAMPING), N(SOL_SOCKET, SO_PRIORITY),
		N(SOL_SOCKET, SO_BINDTODEVICE), N(SOL_SOCKET, SO_MARK), N(SOL_SOCKET, SO_LINGER),
		N(SOL_SOCKET, SO_KEEPALIVE), N(SOL_SOCKET, SO_RCVLOWAT), N(SOL_SOCKET, SO_SNDLOWAT),
		N(SOL_SOCKET, SO_BUSY_POLL), N(SOL_SOCKET, SO_ZEROCOPY), N(SOL_SOCKET, SO_DEBUG),
		N(SOL_SOCKET, SO_DONTROUTE), N(SOL_SOCKET, SO_OOBINLINE), N(SOL_SOCKET, SO_PASSCRED),
		N(SOL_SOCKET, SO_ATTACH_FILTER), N(SOL_SOCKET, SO_RXQ_OVFL),
		N(IPPROTO_IP, IP_TOS), N(IPPROTO_IP, IP_TTL), N(IPPROTO_IP, IP_OPTIONS),
		N(IPPROTO_IP, IP_PKTINFO), N(IPPROTO_IP, IP_RECVTOS), N(IPPROTO_IP, IP_RECVTTL),
		N(IPPROTO_IP, IP_RECVERR), N(IPPROTO_IP, IP_MTU_DISCOVER), N(IPPROTO_IP, IP_MTU),
		N(IPPROTO_IP, IP_MULTICAST_IF), N(IPPROTO_IP, IP_MULTICAST_TTL),
		N(IPPROTO_IP, IP_MULTICAST_LOOP), N(IPPROTO_IP, IP_ADD_MEMBERSHIP),
		N(IPPROTO_IP, IP_DROP_MEMBERSHIP), N(IPPROTO_IP, IP_FREEBIND),
		N(IPPROTO_IP, IP_TRANSPARENT), N(IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT),
		N(IPPROTO_IP, IP_RECVORIGDSTADDR), N(IPPROTO_UDP, UDP_CORK),
		N(IPPROTO_UDP, UDP_SEGMENT), N(IPPROTO_UDP, UDP_GRO),
#undef N
	};
	static __thread char buf[24];

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (names[i].level == level && names[i].name == name)
			return names[i].s;
	snprintf(buf, sizeof(buf), "sockopt %d/%d", level, name);
	return buf;
}

static int ep_has(struct psock *ps);

/* Ring entries for a SO_RCVBUF/SO_SNDBUF value: the kernel doubles it (for
 * its bookkeeping), and so do we, at one 2048-byte slot per entry; pollnet
 * rounds up to a power of 2 and holds it to sockets.ring_max.  pollnet's
 * default receive ring, 1024 entries (2 MiB), holds more small datagrams
 * than the kernel's default (212992) does: a slot is 2 KiB whatever the
 * datagram, while the kernel charges a small one some 1 KiB. */
static uint32_t
pow2_up(uint32_t n)
{
	uint32_t p = 1;

	while (p < n)
		p <<= 1;
	return p;
}

static uint32_t
ring_for(int bytes)
{
	uint64_t b = bytes > 0 ? (uint64_t)bytes * 2 : 0;
	uint64_t n = (b + PN_SHM_SLOT_SIZE - 1) / PN_SHM_SLOT_SIZE;

	return n < 16 ? 16 : n > PN_SHM_MAX_RING ? PN_SHM_MAX_RING : (uint32_t)n;
}

/* SO_RCVBUF/SO_SNDBUF: a new pollnet socket with rings of that size takes
 * the old one's place under the same descriptor.  Only while nothing can
 * tell: not bound, no datagram queued, one descriptor in one process, in no
 * epoll set.  Otherwise the rings stay as they are, and getsockopt says
 * their size (as the kernel's says what it clamped a request to). */
static void
resize(struct psock *ps, int fd)
{
	struct pollnet_socket *s, *old = ps->s;
	uint32_t rx, tx, want_rx, want_tx;
	struct timeval tmo[2];
	socklen_t tl = sizeof(tmo[0]);
	int flags, nfd, rc;

	pn_int_rings(old, &rx, &tx);
	want_rx = ps->sh->rcvbuf > 0 ? ring_for(ps->sh->rcvbuf) : 0;
	want_tx = ps->sh->sndbuf > 0 ? ring_for(ps->sh->sndbuf) : 0;
	if ((want_rx == 0 || pow2_up(want_rx) == rx) && (want_tx == 0 || pow2_up(want_tx) == tx))
		return;                 /* the rings are that size already */
	if (pollnet_local_port(old) != 0 || (pn_int_ready(old) & ~PN_READY_TX) ||
	    pn_int_tx_pending(old) || atomic_load(&ps->refs) != 1 ||
	    atomic_load(&ps->sh->shared) || ep_has(ps)) {
		DEBUG("fd %d: SO_RCVBUF/SO_SNDBUF on a socket in use: its rings stay %u/%u",
		      fd, rx, tx);
		return;
	}
	sess_lock();
	rc = pn_int_socket(g_pn, &s, PN_SOCK_WAKE_SOCKET | PN_SOCK_PRELOAD, want_rx, want_tx);
	sess_unlock();
	if (rc < 0) {
		DEBUG("fd %d: rings of %u/%u: pollnet said %s; they stay %u/%u", fd, want_rx,
		      want_tx, pollnet_strerror(rc), rx, tx);
		return;
	}
	nfd = pn_int_take_wake_fd(s);
	flags = REAL(fcntl)(fd, F_GETFD);
	if (REAL(getsockopt)(fd, SOL_SOCKET, SO_RCVTIMEO, &tmo[0], &tl) < 0 ||
	    REAL(getsockopt)(fd, SOL_SOCKET, SO_SNDTIMEO, &tmo[1], &tl) < 0 ||
	    REAL(setsockopt)(nfd, SOL_SOCKET, SO_RCVTIMEO, &tmo[0], sizeof(tmo[0])) < 0 ||
	    REAL(setsockopt)(nfd, SOL_SOCKET, SO_SNDTIMEO, &tmo[1], sizeof(tmo[1])) < 0 ||
	    REAL(dup3)(nfd, fd, flags > 0 && (flags & FD_CLOEXEC) ? O_CLOEXEC : 0) < 0) {
		REAL(close)(nfd);
		sess_lock();
		pollnet_close(s);
		sess_unlock();
		return;
	}
	REAL(close)(nfd);
	ps->s = s;              /* the old wake end is closed: pollnet lets it go */
	sess_lock();
	pollnet_close(old);
	sess_unlock();
	pn_int_rings(s, &rx, &tx);
	DEBUG("fd %d: rings of %u/%u entries", fd, rx, tx);
}

EXPORT int
setsockopt(int fd, int level, int name, const void *v, socklen_t len)
{
	struct psock *ps = ps_of(fd);
	int x, rc;

	if (ps == NULL)
		return REAL(setsockopt)(fd, level, name, v, len);
	if (level == SOL_SOCKET) {
		switch (name) {
		case SO_RCVTIMEO:
			/* the wake end waits for us: the kernel times it out */
			return REAL(setsockopt)(fd, level, name, v, len);
		case SO_SNDTIMEO: {
			struct timeval tv;

			if (v == NULL || len < (socklen_t)sizeof(tv))
				return fail(EINVAL);
			memcpy(&tv, v, sizeof(tv));
			if (tv.tv_sec < 0 || tv.tv_usec < 0 || tv.tv_usec >= 1000000)
				return fail(EDOM);
			ps->sh->sndtimeo_ms = tv.tv_sec == 0 && tv.tv_usec == 0 ? -1 :
				tv.tv_sec > INT_MAX / 1000 - 1 ? INT_MAX :
				(int)(tv.tv_sec * 1000 + (tv.tv_usec + 999) / 1000);
			return REAL(setsockopt)(fd, level, name, v, len);
		}
		case SO_REUSEADDR:
		case SO_REUSEPORT:              /* at bind: the port may be shared
		                                 * with connected sockets that asked
		                                 * the same; a second bound socket
		                                 * still gets EADDRINUSE */
		case SO_BROADCAST:
		case SO_RCVBUF:
		case SO_SNDBUF:
		case SO_RCVBUFFORCE:
		case SO_SNDBUFFORCE:
			rc = int_opt(v, len, &x);
			if (rc < 0)
				return fail(-rc);
			if (name == SO_REUSEADDR)
				ps->sh->reuseaddr = x != 0;
			else if (name == SO_REUSEPORT)
				ps->sh->reuseport = x != 0;
			else if (name == SO_BROADCAST)
				ps->sh->broadcast = x != 0;
			else if (name == SO_RCVBUF || name == SO_RCVBUFFORCE)
				ps->sh->rcvbuf = x;
			else
				ps->sh->sndbuf = x;
			if (name != SO_REUSEADDR && name != SO_REUSEPORT && name != SO_BROADCAST)
				resize(ps, fd);
			return 0;
		}
	}
	refused(ps, fd, opt_name(level, name));
	return fail(ENOPROTOOPT);
}

EXPORT int
getsockopt(int fd, int level, int name, void *v, socklen_t *len)
{
	struct psock *ps = ps_of(fd);
	uint32_t rx, tx;
	int err;

	if (ps == NULL)
		return REAL(getsockopt)(fd, level, name, v, len);
	if (level == SOL_SOCKET) {
		switch (name) {
		case SO_RCVTIMEO:
		case SO_SNDTIMEO:
			return REAL(getsockopt)(fd, level, name, v, len);
		case SO_TYPE:
			return put_int(v, len, SOCK_DGRAM);
		case SO_DOMAIN:
			return put_int(v, len, AF_INET);
		case SO_PROTOCOL:
			return put_int(v, len, IPPROTO_UDP);
		case SO_ACCEPTCONN:
			return put_int(v, len, 0);
		case SO_REUSEADDR:
			return put_int(v, len, ps->sh->reuseaddr);
		case SO_REUSEPORT:
			return put_int(v, len, ps->sh->reuseport);
		case SO_BROADCAST:
			return put_int(v, len, ps->sh->broadcast);
		case SO_RCVBUF:
		case SO_SNDBUF:
			pn_int_rings(ps->s, &rx, &tx);
			return put_int(v, len, (int)((name == SO_RCVBUF ? rx : tx) * PN_SHM_SLOT_SIZE));
		case SO_ERROR:
			ps_lock(ps);
			err = pn_int_take_error(ps->s);
			ps_unlock(ps);
			return put_int(v, len, -err);
		}
	}
	refused(ps, fd, opt_name(level, name));
	return fail(ENOPROTOOPT);
}

/* fcntl's third argument, by command. */
static int
fcntl_common(int fd, int cmd, va_list ap, int is64)
{
	int (*fn)(int, int, ...) = is64 && REAL(fcntl64) != NULL ? REAL(fcntl64) : REAL(fcntl);
	struct psock *ps = ps_of(fd);
	int arg = 0, rc;
	void *p = NULL;

	switch (cmd) {
	case F_GETFD: case F_GETFL: case F_GETOWN: case F_GETSIG: case F_GETLEASE:
	case F_GETPIPE_SZ: case F_GET_SEALS:
		break;
	case F_DUPFD: case F_DUPFD_CLOEXEC: case F_SETFD: case F_SETFL: case F_SETOWN:
	case F_SETSIG: case F_SETLEASE: case F_NOTIFY: case F_SETPIPE_SZ: case F_ADD_SEALS:
		arg = va_arg(ap, int);
		break;
	default:                        /* the rest take a pointer */
		p = va_arg(ap, void *);
		break;
	}
	if (cmd == F_DUPFD || cmd == F_DUPFD_CLOEXEC) {
		if (tab(fd) == T_PRIV && !in_lib)
			return fail(EBADF);
		rc = fn(fd, cmd, arg);
		if (rc >= 0 && !in_lib)
			fd_copy(fd, rc);
		return rc;
	}
	if (ps != NULL && cmd == F_GETFL)
		return O_RDWR | (atomic_load(&ps->sh->nonblock) ? O_NONBLOCK : 0);
	if (ps != NULL && cmd == F_SETFL) {
		/* O_NONBLOCK is ours to keep: the wake end must stay blocking */
		atomic_store(&ps->sh->nonblock, (arg & O_NONBLOCK) != 0);
		if (arg & O_ASYNC) {
			refused(ps, fd, "fcntl(F_SETFL, O_ASYNC)");
			return fail(EINVAL);
		}
		return 0;
	}
	if (ps != NULL && (cmd == F_SETOWN || cmd == F_SETSIG || cmd == F_SETOWN_EX)) {
		refused(ps, fd, "fcntl(F_SETOWN/F_SETSIG)");
		return fail(EINVAL);
	}
	switch (cmd) {
	case F_GETFD: case F_GETFL: case F_GETOWN: case F_GETSIG: case F_GETLEASE:
	case F_GETPIPE_SZ: case F_GET_SEALS:
		return fn(fd, cmd);
	case F_SETFD: case F_SETFL: case F_SETOWN: case F_SETSIG: case F_SETLEASE:
	case F_NOTIFY: case F_SETPIPE_SZ: case F_ADD_SEALS:
		return fn(fd, cmd, arg);
	default:
		return fn(fd, cmd, p);
	}
}

EXPORT int
fcntl(int fd, int cmd, ...)
{
	va_list ap;
	int rc;

	va_start(ap, cmd);
	rc = fcntl_common(fd, cmd, ap, 0);
	va_end(ap);
	return rc;
}

EXPORT int
fcntl64(int fd, int cmd, ...)
{
	va_list ap;
	int rc;

	va_start(ap, cmd);
	rc = fcntl_common(fd, cmd, ap, 1);
	va_end(ap);
	return rc;
}

EXPORT int
ioctl(int fd, unsigned long req, ...)
{
	struct psock *ps = ps_of(fd);
	va_list ap;
	void *p;

	va_start(ap, req);
	p = va_arg(ap, void *);
	va_end(ap);
	if (ps == NULL)
		return REAL(ioctl)(fd, req, p);
	switch (req) {
	case FIONBIO:
		if (p == NULL)
			return fail(EFAULT);
		atomic_store(&ps->sh->nonblock, *(int *)p != 0);
		return 0;
	case FIONREAD:
		if (p == NULL)
			return fail(EFAULT);
		ps_lock(ps);
		*(int *)p = (int)pn_int_next_len(ps->s);
		ps_unlock(ps);
		return 0;
	}
	refused(ps, fd, "ioctl()");
	return fail(ENOTTY);
}

/* ---- waiting ---- */

static uint64_t
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static unsigned
ps_ready(struct psock *ps)
{
	unsigned r;

	ps_lock(ps);
	r = pn_int_ready(ps->s);
	ps_unlock(ps);
	return r;
}

/* Consume the wake messages queued on fd (we are about to look again). */
static void
drain(int fd)
{
	char b[64];

	while (REAL(recv)(fd, b, sizeof(b), MSG_DONTWAIT) > 0)
		;
}

static unsigned
ps_arm(struct psock *ps, int fd, unsigned bits)
{
	unsigned r = ps_ready(ps);

	/* wake messages are consumed only by one who found nothing to
	 * receive: a waiter that slept through one finds it still queued */
	if (!(r & (PN_READY_RX | PN_READY_ERR)))
		drain(fd);
	ps_lock(ps);
	r = pn_int_arm(ps->s, bits);
	ps_unlock(ps);
	return r;
}

/*
 * Block until ps can do `want` (PN_READY_RX or PN_READY_TX) or has an
 * error: 0; -EINTR (a signal, as the kernel decides), -EAGAIN (the
 * socket's timeout), -ENETDOWN (pollnet went away).
 */
static int
ps_wait(struct psock *ps, int fd, unsigned want)
{
	unsigned bit = want == PN_READY_RX ? PN_WAKE_RX : PN_WAKE_TX;
	uint64_t t0 = now_ns(), deadline = 0, budget = pn_spin_budget(&ps->spin, SPIN_NS);
	char b;

	for (unsigned i = 1;; i++) {
		if (ps_ready(ps) & (want | PN_READY_ERR)) {
			pn_spin_learn(&ps->spin, SPIN_NS, 0, 0);
			return 0;
		}
		if ((i & 15) == 0) {
			if (now_ns() - t0 > budget)
				break;
			sched_yield();
		}
	}
	if (want == PN_READY_TX && ps->sh->sndtimeo_ms >= 0)
		deadline = t0 + (uint64_t)ps->sh->sndtimeo_ms * 1000000u;
	for (;;) {
		ssize_t n;

		if (ps_arm(ps, fd, bit) & (want | PN_READY_ERR)) {
			pn_spin_learn(&ps->spin, SPIN_NS, now_ns() - t0, 1);
			return 0;
		}
		if (deadline != 0) {
			struct pollfd p = { .fd = fd, .events = POLLIN };
			uint64_t now = now_ns();
			int r;

			if (now >= deadline)
				return -EAGAIN;
			r = REAL(poll)(&p, 1, (int)((deadline - now + 999999u) / 1000000u));
			if (r < 0)
				return -errno;
			if (r > 0 && (p.revents & (POLLHUP | POLLERR)))
				return -ENETDOWN;
			continue;
		}
		n = REAL(recv)(fd, &b, 1, MSG_PEEK);
		if (n == 0)
			return -ENETDOWN;
		if (n < 0) {
			if (errno == EAGAIN && want == PN_READY_TX)
				continue;       /* SO_RCVTIMEO is not ours to obey here */
			return errno == EAGAIN || errno == EWOULDBLOCK ? -EAGAIN : -errno;
		}
	}
}

/* ---- receiving ---- */

/* One datagram: bytes copied, or a negative errno.  *full: its length. */
static ssize_t
ps_recv(struct psock *ps, int fd, const struct iovec *iov, int iovcnt, int flags,
	struct sockaddr_in *from, size_t *full)
{
	int nonblock = (flags & MSG_DONTWAIT) || atomic_load(&ps->sh->nonblock);
	struct sockaddr_in src;
	ssize_t r;

	if (flags & (MSG_OOB | MSG_ERRQUEUE)) {
		refused(ps, fd, flags & MSG_OOB ? "recv(MSG_OOB)" : "recv(MSG_ERRQUEUE)");
		return flags & MSG_OOB ? -EOPNOTSUPP : -EAGAIN;
	}
	for (;;) {
		ps_lock(ps);
		r = pn_int_recv(ps->s, iov, iovcnt, &src, (flags & MSG_PEEK) != 0, full);
		ps_unlock(ps);
		if (r >= 0 && LOOPBACK(ps->sh->bind_addr) && !LOOPBACK(src.sin_addr.s_addr) &&
		    src.sin_addr.s_addr != g_addr) {
			/* bound to a loopback address: not for us (pollnet
			 * delivers by port); count it, drop it */
			atomic_fetch_add(&ps->sh->dropped_not_loopback, 1);
			if (flags & MSG_PEEK) {
				ps_lock(ps);
				r = pn_int_recv(ps->s, NULL, 0, &src, 0, full);
				ps_unlock(ps);
			}
			continue;
		}
		if (r != -EAGAIN)
			break;
		atomic_fetch_add(&ps->eagain, 1);
		if (nonblock)
			return -EAGAIN;
		r = ps_wait(ps, fd, PN_READY_RX);
		if (r < 0)
			return r;
	}
	if (r >= 0 && from != NULL)
		*from = src;
	return r;
}

static ssize_t
recv_common(struct psock *ps, int fd, void *buf, size_t len, int flags,
	    struct sockaddr *sa, socklen_t *salen)
{
	struct iovec iov = { .iov_base = buf, .iov_len = len };
	struct sockaddr_in from;
	size_t full;
	ssize_t r = ps_recv(ps, fd, &iov, 1, flags, &from, &full);

	if (r < 0)
		return fail((int)-r);
	if (sa != NULL && salen != NULL)
		sin_to(&from, sa, salen);
	return (flags & MSG_TRUNC) ? (ssize_t)full : r;
}

EXPORT ssize_t
recv(int fd, void *buf, size_t len, int flags)
{
	struct psock *ps = ps_of(fd);

	if (ps == NULL)
		return REAL(recv)(fd, buf, len, flags);
	return recv_common(ps, fd, buf, len, flags, NULL, NULL);
}

EXPORT ssize_t
recvfrom(int fd, void *buf, size_t len, int flags, struct sockaddr *sa, socklen_t *salen)
{
	struct psock *ps = ps_of(fd);

	if (ps == NULL)
		return REAL(recvfrom)(fd, buf, len, flags, sa, salen);
	return recv_common(ps, fd, buf, len, flags, sa, salen);
}

EXPORT ssize_t
read(int fd, void *buf, size_t len)
{
	struct psock *ps = ps_of(fd);

	if (ps == NULL)
		return REAL(read)(fd, buf, len);
	return recv_common(ps, fd, buf, len, 0, NULL, NULL);
}

EXPORT ssize_t
__recv_chk(int fd, void *buf, size_t len, size_t buflen, int flags)
{
	struct psock *ps = ps_of(fd);

	if (ps == NULL)
		return REAL(__recv_chk)(fd, buf, len, buflen, flags);
	if (len > buflen)
		abort();                /* what glibc's __chk_fail does, less the message */
	return recv_common(ps, fd, buf, len, flags, NULL, NULL);
}

EXPORT ssize_t
__recvfrom_chk(int fd, void *buf, size_t len, size_t buflen, int flags,
	       struct sockaddr *sa, socklen_t *salen)
{
	struct psock *ps = ps_of(fd);

	if (ps == NULL)
		return REAL(__recvfrom_chk)(fd, buf, len, buflen, flags, sa, salen);
	if (len > buflen)
		abort();
	return recv_common(ps, fd, buf, len, flags, sa, salen);
}

EXPORT ssize_t
__read_chk(int fd, void *buf, size_t len, size_t buflen)
{
	struct psock *ps = ps_of(fd);

	if (ps == NULL)
		return REAL(__read_chk)(fd, buf, len, buflen);
	if (len > buflen)
		abort();
	return recv_common(ps, fd, buf, len, 0, NULL, NULL);
}

static ssize_t
recvmsg_one(struct psock *ps, int fd, struct msghdr *m, int flags)
{
	struct sockaddr_in from;
	size_t full, room = 0;
	ssize_t r;

	if (m->msg_iovlen > IOV_MAX)
		return -EMSGSIZE;
	r = ps_recv(ps, fd, m->msg_iov, (int)m->msg_iovlen, flags, &from, &full);
	if (r < 0)
		return r;
	for (size_t i = 0; i < m->msg_iovlen; i++)
		room += m->msg_iov[i].iov_len;
	if (m->msg_name != NULL)
		sin_to(&from, m->msg_name, &m->msg_namelen);
	else
		m->msg_namelen = 0;
	m->msg_controllen = 0;
	m->msg_flags = full > room ? MSG_TRUNC : 0;
	return (flags & MSG_TRUNC) ? (ssize_t)full : r;
}

EXPORT ssize_t
recvmsg(int fd, struct msghdr *m, int flags)
{
	struct psock *ps = ps_of(fd);
	ssize_t r;

	if (ps == NULL)
		return REAL(recvmsg)(fd, m, flags);
	r = recvmsg_one(ps, fd, m, flags);
	return r < 0 ? fail((int)-r) : r;
}

EXPORT ssize_t
readv(int fd, const struct iovec *iov, int iovcnt)
{
	struct psock *ps = ps_of(fd);
	struct msghdr m = { .msg_iov = (struct iovec *)iov, .msg_iovlen = (size_t)iovcnt };
	ssize_t r;

	if (ps == NULL)
		return REAL(readv)(fd, iov, iovcnt);
	if (iovcnt < 0)
		return fail(EINVAL);
	r = recvmsg_one(ps, fd, &m, 0);
	return r < 0 ? fail((int)-r) : r;
}

EXPORT int
recvmmsg(int fd, struct mmsghdr *v, unsigned int n, int flags, struct timespec *tmo)
{
	struct psock *ps = ps_of(fd);
	uint64_t deadline = 0;
	unsigned int got = 0;

	if (ps == NULL)
		return REAL(recvmmsg)(fd, v, n, flags, tmo);
	if (tmo != NULL)
		deadline = now_ns() + (uint64_t)tmo->tv_sec * 1000000000u + (uint64_t)tmo->tv_nsec;
	while (got < n) {
		int f = flags & ~MSG_WAITFORONE;
		ssize_t r;

		if (got > 0 && (flags & MSG_WAITFORONE))
			f |= MSG_DONTWAIT;
		r = recvmsg_one(ps, fd, &v[got].msg_hdr, f);
		if (r < 0) {
			if (got > 0)
				break;          /* the error waits for the next call */
			return fail((int)-r);
		}
		v[got++].msg_len = (unsigned int)r;
		if (deadline != 0 && now_ns() >= deadline)
			break;
	}
	return (int)got;
}

/* ---- sending ---- */

static ssize_t
ps_send(struct psock *ps, int fd, const struct iovec *iov, int iovcnt, int flags,
	const struct sockaddr *sa, socklen_t salen)
{
	int nonblock = (flags & MSG_DONTWAIT) || atomic_load(&ps->sh->nonblock);
	struct sockaddr_in to, *top = NULL;
	ssize_t r;

	if (flags & (MSG_OOB | MSG_MORE)) {
		refused(ps, fd, flags & MSG_OOB ? "send(MSG_OOB)" : "send(MSG_MORE)");
		return -EOPNOTSUPP;
	}
	if (sa != NULL) {
		r = sin_from(sa, salen, &to);
		if (r == 0)
			r = dest_ok(ps, &to);
		if (r < 0)
			return r;
		top = &to;
	}
	if (pollnet_local_port(ps->s) == 0) {   /* bind on first send, as UDP does */
		sess_lock();
		r = pollnet_local_port(ps->s) == 0 ? pollnet_bind(ps->s, 0) : 0;
		sess_unlock();
		if (r < 0)
			return r;
	}
	for (;;) {
		ps_lock(ps);
		r = pn_int_send(ps->s, iov, iovcnt, top);
		ps_unlock(ps);
		if (r != -EAGAIN)
			return r;
		atomic_fetch_add(&ps->eagain, 1);
		if (nonblock)
			return -EAGAIN;
		r = ps_wait(ps, fd, PN_READY_TX);
		if (r < 0)
			return r;
	}
}

static ssize_t
send_common(struct psock *ps, int fd, const void *buf, size_t len, int flags,
	    const struct sockaddr *sa, socklen_t salen)
{
	struct iovec iov = { .iov_base = (void *)buf, .iov_len = len };
	ssize_t r = ps_send(ps, fd, &iov, 1, flags, sa, salen);

	return r < 0 ? fail((int)-r) : r;
}

EXPORT ssize_t
send(int fd, const void *buf, size_t len, int flags)
{
	struct psock *ps = ps_of(fd);

	if (ps == NULL)
		return REAL(send)(fd, buf, len, flags);
	return send_common(ps, fd, buf, len, flags, NULL, 0);
}

EXPORT ssize_t
sendto(int fd, const void *buf, size_t len, int flags, const struct sockaddr *sa, socklen_t salen)
{
	struct psock *ps = ps_of(fd);

	if (ps == NULL)
		return REAL(sendto)(fd, buf, len, flags, sa, salen);
	return send_common(ps, fd, buf, len, flags, sa, salen);
}

EXPORT ssize_t
write(int fd, const void *buf, size_t len)
{
	struct psock *ps = ps_of(fd);

	if (ps == NULL)
		return REAL(write)(fd, buf, len);
	return send_common(ps, fd, buf, len, 0, NULL, 0);
}

static ssize_t
sendmsg_one(struct psock *ps, int fd, const struct msghdr *m, int flags)
{
	if (m->msg_iovlen > IOV_MAX)
		return -EMSGSIZE;
	if (m->msg_controllen != 0) {
		refused(ps, fd, "sendmsg() with control messages");
		return -EOPNOTSUPP;
	}
	return ps_send(ps, fd, m->msg_iov, (int)m->msg_iovlen, flags,
		       m->msg_name, m->msg_namelen);
}

EXPORT ssize_t
sendmsg(int fd, const struct msghdr *m, int flags)
{
	struct psock *ps = ps_of(fd);
	ssize_t r;

	if (ps == NULL)
		return REAL(sendmsg)(fd, m, flags);
	r = sendmsg_one(ps, fd, m, flags);
	return r < 0 ? fail((int)-r) : r;
}

EXPORT ssize_t
writev(int fd, const struct iovec *iov, int iovcnt)
{
	struct psock *ps = ps_of(fd);
	struct msghdr m = { .msg_iov = (struct iovec *)iov, .msg_iovlen = (size_t)iovcnt };
	ssize_t r;

	if (ps == NULL)
		return REAL(writev)(fd, iov, iovcnt);
	if (iovcnt < 0)
		return fail(EINVAL);
	r = sendmsg_one(ps, fd, &m, 0);
	return r < 0 ? fail((int)-r) : r;
}

EXPORT int
sendmmsg(int fd, struct mmsghdr *v, unsigned int n, int flags)
{
	struct psock *ps = ps_of(fd);
	unsigned int done = 0;

	if (ps == NULL)
		return REAL(sendmmsg)(fd, v, n, flags);
	while (done < n) {
		ssize_t r = sendmsg_one(ps, fd, &v[done].msg_hdr, flags);

		if (r < 0) {
			if (done > 0)
				break;
			return fail((int)-r);
		}
		v[done++].msg_len = (unsigned int)r;
	}
	return (int)done;
}

/* ---- poll and select ---- */

/* What ps offers for poll events ev. */
static short
ps_revents(struct psock *ps, short ev)
{
	unsigned r = ps_ready(ps);
	short out = 0;

	if (r & PN_READY_RX)
		out |= ev & (POLLIN | POLLRDNORM);
	if (r & PN_READY_TX)
		out |= ev & (POLLOUT | POLLWRNORM);
	if (r & PN_READY_ERR)
		out |= POLLERR;
	return out;
}

static int
ms_left(uint64_t deadline)
{
	uint64_t now;

	if (deadline == UINT64_MAX)
		return -1;
	now = now_ns();
	return now >= deadline ? 0 : (int)((deadline - now + 999999u) / 1000000u);
}

/*
 * poll() with pollnet sockets among the descriptors: theirs answered from
 * the rings, the rest by the kernel; to sleep, every pollnet socket asks to
 * be woken and the kernel waits on all of them at once.
 */
static int
poll_mixed(struct pollfd *fds, nfds_t n, uint64_t deadline, const sigset_t *mask)
{
	struct pollfd small[16], *k = n <= 16 ? small : malloc(n * sizeof(*k));
	int rc = 0;

	if (k == NULL)
		return fail(ENOMEM);
	for (;;) {
		int ready = 0, sleep_ms;

		for (nfds_t i = 0; i < n; i++) {
			struct psock *ps = ps_of(fds[i].fd);

			k[i] = fds[i];
			if (ps == NULL)
				continue;
			fds[i].revents = ps_revents(ps, fds[i].events);
			ready += fds[i].revents != 0;
			k[i].fd = -1;           /* the kernel leaves it alone */
		}
		sleep_ms = ready > 0 ? 0 : ms_left(deadline);
		if (sleep_ms != 0) {
			/* ask to be woken, then look again */
			for (nfds_t i = 0; i < n; i++) {
				struct psock *ps = ps_of(fds[i].fd);
				unsigned bits = 0, r;

				if (ps == NULL)
					continue;
				if (fds[i].events & (POLLIN | POLLRDNORM))
					bits |= PN_WAKE_RX;
				if (fds[i].events & (POLLOUT | POLLWRNORM))
					bits |= PN_WAKE_TX;
				r = ps_arm(ps, fds[i].fd, bits);
				if (r & PN_READY_ERR ||
				    ((r & PN_READY_RX) && (bits & PN_WAKE_RX)) ||
				    ((r & PN_READY_TX) && (bits & PN_WAKE_TX)))
					sleep_ms = 0;
				k[i].fd = fds[i].fd;
				k[i].events = POLLIN;
			}
			if (sleep_ms == 0)
				continue;       /* something came: count again */
		}
		if (mask != NULL) {
			struct timespec ts, *tp = NULL;

			if (sleep_ms >= 0) {
				ts.tv_sec = sleep_ms / 1000;
				ts.tv_nsec = (long)(sleep_ms % 1000) * 1000000;
				tp = &ts;
			}
			rc = REAL(ppoll)(k, n, tp, mask);
		} else {
			rc = REAL(poll)(k, n, sleep_ms);
		}
		if (rc < 0)
			break;
		rc = 0;
		for (nfds_t i = 0; i < n; i++) {
			struct psock *ps = ps_of(fds[i].fd);

			if (ps != NULL) {
				if (k[i].fd >= 0 && (k[i].revents & POLLHUP))
					fds[i].revents = POLLHUP | POLLERR;     /* pollnet went away */
				else if (k[i].fd >= 0)
					fds[i].revents = ps_revents(ps, fds[i].events);
			} else {
				fds[i].revents = k[i].revents;
			}
			rc += fds[i].revents != 0;
		}
		if (rc > 0 || ready > 0 || ms_left(deadline) == 0)
			break;
	}
	if (k != small)
		free(k);
	return rc;
}

static int
any_pollnet(const struct pollfd *fds, nfds_t n)
{
	if (in_lib)
		return 0;
	for (nfds_t i = 0; i < n; i++)
		if (ps_of(fds[i].fd) != NULL)
			return 1;
	return 0;
}

static uint64_t
deadline_ms(int ms)
{
	return ms < 0 ? UINT64_MAX : now_ns() + (uint64_t)ms * 1000000u;
}

static uint64_t
deadline_ts(const struct timespec *ts)
{
	return ts == NULL ? UINT64_MAX :
	       now_ns() + (uint64_t)ts->tv_sec * 1000000000u + (uint64_t)ts->tv_nsec;
}

EXPORT int
poll(struct pollfd *fds, nfds_t n, int timeout)
{
	if (!any_pollnet(fds, n))
		return REAL(poll)(fds, n, timeout);
	return poll_mixed(fds, n, deadline_ms(timeout), NULL);
}

EXPORT int
__poll_chk(struct pollfd *fds, nfds_t n, int timeout, size_t fdslen)
{
	if (fdslen / sizeof(*fds) < n)
		abort();
	return poll(fds, n, timeout);
}

EXPORT int
ppoll(struct pollfd *fds, nfds_t n, const struct timespec *ts, const sigset_t *mask)
{
	sigset_t cur;

	if (!any_pollnet(fds, n))
		return REAL(ppoll)(fds, n, ts, mask);
	if (mask == NULL) {
		pthread_sigmask(SIG_SETMASK, NULL, &cur);
		mask = &cur;
	}
	return poll_mixed(fds, n, deadline_ts(ts), mask);
}

EXPORT int
__ppoll_chk(struct pollfd *fds, nfds_t n, const struct timespec *ts, const sigset_t *mask,
	    size_t fdslen)
{
	if (fdslen / sizeof(*fds) < n)
		abort();
	return ppoll(fds, n, ts, mask);
}

static int
select_mixed(int nfds, fd_set *r, fd_set *w, fd_set *e, uint64_t deadline,
	     const sigset_t *mask)
{
	struct pollfd *p;
	nfds_t n = 0;
	int rc, count = 0;

	if (nfds < 0 || nfds > FD_SETSIZE)
		return fail(EINVAL);
	p = calloc((size_t)nfds + 1, sizeof(*p));
	if (p == NULL)
		return fail(ENOMEM);
	for (int fd = 0; fd < nfds; fd++) {
		short ev = 0;

		if (r != NULL && FD_ISSET(fd, r))
			ev |= POLLIN;
		if (w != NULL && FD_ISSET(fd, w))
			ev |= POLLOUT;
		if (e != NULL && FD_ISSET(fd, e))
			ev |= POLLPRI;
		if (ev != 0)
			p[n++] = (struct pollfd){ .fd = fd, .events = ev };
	}
	rc = poll_mixed(p, n, deadline, mask);
	if (rc < 0) {
		free(p);
		return rc;
	}
	for (nfds_t i = 0; i < n; i++)
		if (p[i].revents & POLLNVAL) {
			free(p);
			return fail(EBADF);
		}
	if (r != NULL)
		FD_ZERO(r);
	if (w != NULL)
		FD_ZERO(w);
	if (e != NULL)
		FD_ZERO(e);
	for (nfds_t i = 0; i < n; i++) {
		short ev = p[i].events, rev = p[i].revents;

		if ((ev & POLLIN) && (rev & (POLLIN | POLLHUP | POLLERR))) {
			FD_SET(p[i].fd, r);
			count++;
		}
		if ((ev & POLLOUT) && (rev & (POLLOUT | POLLERR))) {
			FD_SET(p[i].fd, w);
			count++;
		}
		if ((ev & POLLPRI) && (rev & POLLPRI)) {
			FD_SET(p[i].fd, e);
			count++;
		}
	}
	free(p);
	return count;
}

static int
sets_have_pollnet(int nfds, fd_set *r, fd_set *w, fd_set *e)
{
	if (in_lib || nfds > FD_SETSIZE)
		return 0;
	for (int fd = 0; fd < nfds; fd++)
		if (((r != NULL && FD_ISSET(fd, r)) || (w != NULL && FD_ISSET(fd, w)) ||
		     (e != NULL && FD_ISSET(fd, e))) && ps_of(fd) != NULL)
			return 1;
	return 0;
}

EXPORT int
select(int nfds, fd_set *r, fd_set *w, fd_set *e, struct timeval *tv)
{
	uint64_t deadline;
	int rc;

	if (!sets_have_pollnet(nfds, r, w, e))
		return REAL(select)(nfds, r, w, e, tv);
	deadline = tv == NULL ? UINT64_MAX :
		   now_ns() + (uint64_t)tv->tv_sec * 1000000000u + (uint64_t)tv->tv_usec * 1000u;
	rc = select_mixed(nfds, r, w, e, deadline, NULL);
	if (tv != NULL) {               /* Linux says how much time was left */
		uint64_t now = now_ns(), left = now >= deadline ? 0 : deadline - now;

		tv->tv_sec = (time_t)(left / 1000000000u);
		tv->tv_usec = (suseconds_t)(left % 1000000000u / 1000u);
	}
	return rc;
}

EXPORT int
pselect(int nfds, fd_set *r, fd_set *w, fd_set *e, const struct timespec *ts,
	const sigset_t *mask)
{
	sigset_t cur;

	if (!sets_have_pollnet(nfds, r, w, e))
		return REAL(pselect)(nfds, r, w, e, ts, mask);
	if (mask == NULL) {
		pthread_sigmask(SIG_SETMASK, NULL, &cur);
		mask = &cur;
	}
	return select_mixed(nfds, r, w, e, deadline_ts(ts), mask);
}

/* ---- epoll ---- */

/* The kernel's registration of a pollnet socket carries this, not the
 * program's data: its events only mean "look again". */
#define EP_TAG 0x9011e70000000000ull
#define EP_TAG_MASK 0xffffffff00000000ull

static struct ep *
ep_of(int epfd)
{
	uintptr_t v = tab(epfd);

	return (v & T_MASK) == T_EP ? (struct ep *)(v & ~(uintptr_t)T_MASK) : NULL;
}

/* Is ps in an epoll list? */
static int
ep_has(struct psock *ps)
{
	int found = 0;

	for (int fd = 0, hi = atomic_load(&g_hi); fd < hi && !found; fd++) {
		struct ep *ep = ep_of(fd);

		if (ep == NULL)
			continue;
		pthread_mutex_lock(&ep->lock);
		for (int i = 0; i < ep->n && !found; i++)
			found = ep->e[i].ps == ps;
		pthread_mutex_unlock(&ep->lock);
	}
	return found;
}

/* Drop ps from every epoll list (its last descriptor closed: the kernel
 * drops its registrations then too). */
static void
ep_forget(struct psock *ps)
{
	for (int fd = 0, hi = atomic_load(&g_hi); fd < hi; fd++) {
		struct ep *ep = ep_of(fd);

		if (ep == NULL)
			continue;
		pthread_mutex_lock(&ep->lock);
		for (int i = 0; i < ep->n; i++)
			if (ep->e[i].ps == ps)
				ep->e[i--] = ep->e[--ep->n];
		pthread_mutex_unlock(&ep->lock);
	}
}

EXPORT int
epoll_ctl(int epfd, int op, int fd, struct epoll_event *ev)
{
	struct psock *ps = ps_of(fd);
	struct epoll_event kev;
	struct ep *ep;
	int rc, i;

	if (ps == NULL)
		return REAL(epoll_ctl)(epfd, op, fd, ev);
	if (op != EPOLL_CTL_DEL && ev == NULL)
		return fail(EFAULT);
	kev.events = EPOLLIN;
	kev.data.u64 = EP_TAG | (uint32_t)fd;
	rc = REAL(epoll_ctl)(epfd, op, fd, &kev);
	if (rc < 0)
		return rc;
	pthread_mutex_lock(&g_lock);
	ep = ep_of(epfd);
	if (ep == NULL) {
		ep = calloc(1, sizeof(*ep));
		if (ep == NULL) {
			pthread_mutex_unlock(&g_lock);
			REAL(epoll_ctl)(epfd, EPOLL_CTL_DEL, fd, &kev);
			return fail(ENOMEM);
		}
		pthread_mutex_init(&ep->lock, NULL);
		ep->refs = 1;
		tab_set(epfd, (uintptr_t)ep | T_EP);
	}
	pthread_mutex_unlock(&g_lock);
	pthread_mutex_lock(&ep->lock);
	for (i = 0; i < ep->n && ep->e[i].fd != fd; i++)
		;
	if (op == EPOLL_CTL_DEL) {
		if (i < ep->n)
			ep->e[i] = ep->e[--ep->n];
	} else {
		if (i == ep->n) {
			if (ep->n == ep->cap) {
				int cap = ep->cap ? 2 * ep->cap : 8;
				struct epent *e = realloc(ep->e, (size_t)cap * sizeof(*e));

				if (e == NULL) {
					pthread_mutex_unlock(&ep->lock);
					REAL(epoll_ctl)(epfd, EPOLL_CTL_DEL, fd, &kev);
					return fail(ENOMEM);
				}
				ep->e = e;
				ep->cap = cap;
			}
			ep->n++;
		}
		ep->e[i] = (struct epent){ .fd = fd, .ps = ps, .events = ev->events,
					   .data = ev->data,
					   .last_eagain = atomic_load(&ps->eagain) - 1 };
	}
	pthread_mutex_unlock(&ep->lock);
	return 0;
}

/* The pollnet sockets of ep that are ready, into out (at most max). */
static int
ep_collect(struct ep *ep, struct epoll_event *out, int max)
{
	int n = 0;

	pthread_mutex_lock(&ep->lock);
	for (int i = 0; i < ep->n && n < max; i++) {
		struct epent *e = &ep->e[i];
		unsigned r;
		uint32_t m = 0;

		if (e->off)
			continue;
		r = ps_ready(e->ps);
		if (r & PN_READY_RX)
			m |= e->events & (EPOLLIN | EPOLLRDNORM);
		if (r & PN_READY_TX)
			m |= e->events & (EPOLLOUT | EPOLLWRNORM);
		if (r & PN_READY_ERR)
			m |= EPOLLERR;
		if (e->events & EPOLLET) {
			uint32_t eg = atomic_load(&e->ps->eagain);

			/* an edge: something new, or the program emptied it
			 * (EAGAIN) since we last said */
			if (eg == e->last_eagain && (m & ~e->last_mask) == 0) {
				e->last_mask = m;
				continue;
			}
			e->last_mask = m;
			if (m != 0)
				e->last_eagain = eg;
		}
		if (m == 0)
			continue;
		if (e->events & EPOLLONESHOT)
			e->off = 1;
		out[n].events = m;
		out[n].data = e->data;
		n++;
	}
	pthread_mutex_unlock(&ep->lock);
	return n;
}

static void
ep_arm(struct ep *ep)
{
	pthread_mutex_lock(&ep->lock);
	for (int i = 0; i < ep->n; i++) {
		unsigned bits = 0;

		if (ep->e[i].off)
			continue;
		if (ep->e[i].events & (EPOLLIN | EPOLLRDNORM))
			bits |= PN_WAKE_RX;
		if (ep->e[i].events & (EPOLLOUT | EPOLLWRNORM))
			bits |= PN_WAKE_TX;
		ps_arm(ep->e[i].ps, ep->e[i].fd, bits);
	}
	pthread_mutex_unlock(&ep->lock);
}

/* Keep the kernel's events that are the program's; say whether any of ours
 * came (hang-ups of a pollnet socket become EPOLLHUP for it). */
static int
ep_filter(struct ep *ep, struct epoll_event *ev, int n, struct epoll_event *extra, int *nextra)
{
	int k = 0;

	for (int i = 0; i < n; i++) {
		if ((ev[i].data.u64 & EP_TAG_MASK) == EP_TAG) {
			if ((ev[i].events & (EPOLLHUP | EPOLLERR)) && *nextra < 16) {
				int fd = (int)(ev[i].data.u64 & 0xffffffffu);

				pthread_mutex_lock(&ep->lock);
				for (int j = 0; j < ep->n; j++)
					if (ep->e[j].fd == fd && !ep->e[j].off) {
						extra[(*nextra)++] = (struct epoll_event){
							.events = EPOLLHUP | EPOLLERR,
							.data = ep->e[j].data };
						break;
					}
				pthread_mutex_unlock(&ep->lock);
			}
			continue;
		}
		ev[k++] = ev[i];
	}
	return k;
}

static int
epoll_mixed(int epfd, struct ep *ep, struct epoll_event *ev, int max, int timeout,
	    const sigset_t *mask)
{
	uint64_t deadline = deadline_ms(timeout);

	if (max <= 0)
		return REAL(epoll_wait)(epfd, ev, max, timeout);
	for (;;) {
		struct epoll_event hup[16];
		int n = ep_collect(ep, ev, max), k, nh = 0, sleep_ms;

		sleep_ms = n > 0 ? 0 : ms_left(deadline);
		if (sleep_ms != 0) {
			ep_arm(ep);
			n = ep_collect(ep, ev, max);
			if (n > 0)
				sleep_ms = 0;
		}
		k = mask != NULL ? REAL(epoll_pwait)(epfd, ev + n, max - n, sleep_ms, mask) :
				   REAL(epoll_wait)(epfd, ev + n, max - n, sleep_ms);
		if (k < 0)
			return n > 0 ? n : -1;
		k = ep_filter(ep, ev + n, k, hup, &nh);
		n += k;
		for (int i = 0; i < nh && n < max; i++)
			ev[n++] = hup[i];
		if (n == 0 && k == 0)
			n = ep_collect(ep, ev, max);
		if (n > 0 || ms_left(deadline) == 0)
			return n;
	}
}

EXPORT int
epoll_wait(int epfd, struct epoll_event *ev, int max, int timeout)
{
	struct ep *ep = in_lib ? NULL : ep_of(epfd);

	if (ep == NULL)
		return REAL(epoll_wait)(epfd, ev, max, timeout);
	return epoll_mixed(epfd, ep, ev, max, timeout, NULL);
}

EXPORT int
epoll_pwait(int epfd, struct epoll_event *ev, int max, int timeout, const sigset_t *mask)
{
	struct ep *ep = in_lib ? NULL : ep_of(epfd);

	if (ep == NULL)
		return REAL(epoll_pwait)(epfd, ev, max, timeout, mask);
	return epoll_mixed(epfd, ep, ev, max, timeout, mask);
}

/* ---- getaddrinfo(3): AI_ADDRCONFIG ----
 *
 * AI_ADDRCONFIG asks for IPv4 addresses only if the host has an IPv4
 * address, and glibc asks the kernel.  Under pollnet-run, this process has
 * one, pollnet's, even where the kernel has none (in the guest, pollnet owns
 * the only NIC); IPv6 is still the kernel's. */
static int
kernel_has_ipv6(void)
{
	struct ifaddrs *ifa, *i;
	int found = 0;

	if (getifaddrs(&ifa) < 0)
		return 1;               /* cannot tell: let glibc decide */
	for (i = ifa; i != NULL && !found; i = i->ifa_next) {
		const struct sockaddr_in6 *a = (const struct sockaddr_in6 *)i->ifa_addr;

		found = a != NULL && a->sin6_family == AF_INET6 &&
			!IN6_IS_ADDR_LOOPBACK(&a->sin6_addr) && !IN6_IS_ADDR_LINKLOCAL(&a->sin6_addr);
	}
	freeifaddrs(ifa);
	return found;
}

EXPORT int
getaddrinfo(const char *node, const char *service, const struct addrinfo *hints,
	    struct addrinfo **res)
{
	struct addrinfo h;

	if (hints == NULL || !(hints->ai_flags & AI_ADDRCONFIG) ||
	    (hints->ai_family != AF_INET && hints->ai_family != AF_UNSPEC))
		return REAL(getaddrinfo)(node, service, hints, res);
	h = *hints;
	h.ai_flags &= ~AI_ADDRCONFIG;
	if (h.ai_family == AF_UNSPEC && !kernel_has_ipv6())
		h.ai_family = AF_INET;
	return REAL(getaddrinfo)(node, service, &h, res);
}

/* ---- syscall(2) ----
 *
 * Some libraries make the calls above through syscall() rather than libc's
 * wrappers (libuv: close, so as not to be a cancellation point; sendmmsg and
 * recvmmsg, for old libcs), which would reach the kernel with our
 * descriptors behind our back.  They go where the wrappers go. */
EXPORT long
syscall(long nr, ...)
{
	long a[6];
	va_list ap;

	va_start(ap, nr);
	for (int i = 0; i < 6; i++)
		a[i] = va_arg(ap, long);        /* as libc's syscall() reads them */
	va_end(ap);
#define I(k) ((int)a[k])
#define P(k, T) ((T)(uintptr_t)a[k])
	switch (nr) {
	case SYS_socket: return socket(I(0), I(1), I(2));
	case SYS_close: return close(I(0));
	case SYS_bind: return bind(I(0), P(1, const struct sockaddr *), (socklen_t)a[2]);
	case SYS_connect: return connect(I(0), P(1, const struct sockaddr *), (socklen_t)a[2]);
	case SYS_getsockname: return getsockname(I(0), P(1, struct sockaddr *), P(2, socklen_t *));
	case SYS_getpeername: return getpeername(I(0), P(1, struct sockaddr *), P(2, socklen_t *));
	case SYS_setsockopt:
		return setsockopt(I(0), I(1), I(2), P(3, const void *), (socklen_t)a[4]);
	case SYS_getsockopt:
		return getsockopt(I(0), I(1), I(2), P(3, void *), P(4, socklen_t *));
	case SYS_shutdown: return shutdown(I(0), I(1));
	case SYS_fcntl: return fcntl(I(0), I(1), a[2]);
	case SYS_ioctl: return ioctl(I(0), (unsigned long)a[1], a[2]);
	case SYS_sendto:
		return sendto(I(0), P(1, const void *), (size_t)a[2], I(3),
			      P(4, const struct sockaddr *), (socklen_t)a[5]);
	case SYS_recvfrom:
		return recvfrom(I(0), P(1, void *), (size_t)a[2], I(3), P(4, struct sockaddr *),
				P(5, socklen_t *));
	case SYS_sendmsg: return sendmsg(I(0), P(1, const struct msghdr *), I(2));
	case SYS_recvmsg: return recvmsg(I(0), P(1, struct msghdr *), I(2));
	case SYS_sendmmsg: return sendmmsg(I(0), P(1, struct mmsghdr *), (unsigned)a[2], I(3));
	case SYS_recvmmsg:
		return recvmmsg(I(0), P(1, struct mmsghdr *), (unsigned)a[2], I(3),
				P(4, struct timespec *));
	case SYS_read: return read(I(0), P(1, void *), (size_t)a[2]);
	case SYS_write: return write(I(0), P(1, const void *), (size_t)a[2]);
	case SYS_readv: return readv(I(0), P(1, const struct iovec *), I(2));
	case SYS_writev: return writev(I(0), P(1, const struct iovec *), I(2));
	case SYS_dup: return dup(I(0));
	case SYS_dup2: return dup2(I(0), I(1));
	case SYS_dup3: return dup3(I(0), I(1), I(2));
	case SYS_close_range: return close_range((unsigned)a[0], (unsigned)a[1], I(2));
	case SYS_poll: return poll(P(0, struct pollfd *), (nfds_t)a[1], I(2));
	case SYS_epoll_ctl: return epoll_ctl(I(0), I(1), I(2), P(3, struct epoll_event *));
	case SYS_epoll_wait: return epoll_wait(I(0), P(1, struct epoll_event *), I(2), I(3));
	case SYS_epoll_pwait:
		return epoll_pwait(I(0), P(1, struct epoll_event *), I(2), I(3),
				   P(4, const sigset_t *));
	}
#undef I
#undef P
	return REAL(syscall)(nr, a[0], a[1], a[2], a[3], a[4], a[5]);
}
