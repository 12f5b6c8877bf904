/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * pollnet-run: the descriptor table (what each of the program's descriptors
 * is to us), the session with pollnet, fork(), and the calls that make,
 * copy and close descriptors.  preload.h has the whole picture.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "preload.h"

_Atomic uintptr_t fdtab[FD_MAX];
_Atomic int g_hi;
pthread_mutex_t g_lock = PTHREAD_MUTEX_INITIALIZER;
struct pollnet *g_pn;
uint32_t g_addr;
int g_debug;
uint64_t g_spin_most;
static struct sshared *g_ss;
static int g_failed_said;

void
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
	(void)!LIBC(write)(2, buf, (size_t)n);
}

void
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

void
mutex_init_shared(pthread_mutex_t *m)
{
	pthread_mutexattr_t a;

	pthread_mutexattr_init(&a);
	pthread_mutexattr_setpshared(&a, PTHREAD_PROCESS_SHARED);
	pthread_mutexattr_setrobust(&a, PTHREAD_MUTEX_ROBUST);
	pthread_mutex_init(m, &a);
	pthread_mutexattr_destroy(&a);
}

void
mutex_lock(pthread_mutex_t *m)
{
	if (pthread_mutex_lock(m) == EOWNERDEAD)
		pthread_mutex_consistent(m);    /* a process died holding it */
}

void *
shared_page(void)
{
	void *p = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);

	return p == MAP_FAILED ? NULL : p;
}

/* Take a socket's lock; a socket another process also uses gets its
 * positions back from the region. */
void
ps_lock(struct psock *ps)
{
	mutex_lock(&ps->sh->lock);
	if (atomic_load_explicit(&ps->sh->shared, memory_order_relaxed))
		pn_int_resync(ps->s);
}

void
ps_unlock(struct psock *ps)
{
	pthread_mutex_unlock(&ps->sh->lock);
}

void
refused(struct psock *ps, int fd, const char *what)
{
	if (ps != NULL)
		pn_int_refused(ps->s, what);    /* for pollnetctl sockets */
	DEBUG("fd %d: %s: not supported on a pollnet socket", fd, what);
}

/* ---- the session ---- */

static void move_private(int fd, int low);

int
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
	rc = pollnet_open(&pn, path);
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

void
sess_lock(void)
{
	mutex_lock(&g_ss->lock);
}

void
sess_unlock(void)
{
	pthread_mutex_unlock(&g_ss->lock);
}

/* ---- fork ---- */

void
fork_prepare(void)
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

void
fork_parent(void)
{
	if (g_ss != NULL)
		pthread_mutex_unlock(&g_ss->lock);
	pthread_mutex_unlock(&g_lock);
}

void
fork_child(void)
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

/* The last descriptor of ps in this process is gone (fd: it, still open,
 * or -1). */
static void
ps_release(struct psock *ps, int fd)
{
	uint64_t t0 = pn_now_ns();

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
		if (!pending || pn_now_ns() - t0 > 1000000000u)
			break;
		if (fd >= 0) {
			if (LIBC(poll)(&p, 1, 10) > 0)
				drain(fd);
		} else {
			LIBC(poll)(NULL, 0, 1);
		}
	}
	if (atomic_load(&ps->sh->shared)) {
		/* another process may still use it: pollnet frees it when
		 * the last descriptor for the wake pair closes */
		pthread_mutex_lock(&g_lock);
			pn_int_forget(ps->s);
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
		ep_put(v);
		return;
	}
	if (atomic_fetch_sub(&((struct psock *)v)->refs, 1) == 1)
		ps_release((struct psock *)v, open ? fd : -1);
}

void
fd_copy(int old, int fd)
{
	uintptr_t v = tab(old);

	if (v == 0 || v == T_PRIV)
		return;
	if ((v & T_MASK) == T_EP)
		ep_get(v);
	else
		atomic_fetch_add(&((struct psock *)v)->refs, 1);
	tab_set(fd, v);
}

EXPORT int
close(int fd)
{
	uintptr_t v;
	int rc;

	v = tab(fd);
	if (v == T_PRIV)
		return fail(EBADF);     /* not the program's */
	if (v == 0)
		return LIBC(close)(fd);
	if ((v & T_MASK) == 0) {
		/* pollnet first (a last close sends what is queued), then the
		 * number is free for reuse */
		fd_gone(fd, v, 1);
		return LIBC(close)(fd);
	}
	rc = LIBC(close)(fd);
	fd_gone(fd, v, 0);
	return rc;
}

/* Our descriptor fd to the lowest free number from `low` (3 if none is
 * free there), still ours. */
static void
move_private(int fd, int low)
{
	int hi = LIBC(fcntl)(fd, F_DUPFD_CLOEXEC, low);

	if (hi < 0)
		hi = LIBC(fcntl)(fd, F_DUPFD_CLOEXEC, 3);
	if (hi < 0)
		return;
	tab_set(hi, T_PRIV);
	tab_set(fd, 0);
	pn_int_move_fd(g_pn, fd, hi);   /* closes fd */
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
	int fd = LIBC(dup)(old);

	if (fd >= 0) {
		if (tab(old) == T_PRIV) {
			LIBC(close)(fd);
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

	if (tab(old) == T_PRIV)
		return fail(EBADF);
	if (old == fd)
		return three ? fail(EINVAL) : LIBC(dup2)(old, fd);
	make_way(fd);
	prev = tab(fd);
	rc = three ? LIBC(dup3)(old, fd, flags) : LIBC(dup2)(old, fd);
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

	if ((flags & CLOSE_RANGE_CLOEXEC) || first > last)
		return LIBC(close_range)(first, last, flags);
	/* ours stay; the program's pollnet sockets and epoll sets close one
	 * by one, the rest in ranges between them */
	for (unsigned int fd = first; fd <= last && fd < hi; fd++) {
		uintptr_t v = tab((int)fd);

		if (v == 0)
			continue;
		if (fd > lo && LIBC(close_range)(lo, fd - 1, flags) < 0)
			return -1;
		if (v != T_PRIV)
			close((int)fd);
		lo = fd + 1;            /* fd < FD_MAX: no overflow */
	}
	return lo <= last ? LIBC(close_range)(lo, last, flags) : 0;
}

EXPORT void
closefrom(int lowfd)
{
	if (lowfd < 0)
		lowfd = 0;
	close_range((unsigned int)lowfd, ~0u, 0);
}
