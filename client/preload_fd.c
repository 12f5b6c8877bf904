/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * pollnet-run: the descriptor table (what each of the program's descriptors
 * is to us), sockets' lifetimes, the session with pollnet, fork(), and the
 * calls that make, copy and close descriptors.  preload.h has the whole
 * picture.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "preload.h"

#define PRIVATE_LOW 1000        /* our descriptors go from here up */

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

/* Take fd's entry (two threads closing one number: one gets it). */
static uintptr_t
tab_take(int fd)
{
	return (unsigned)fd < FD_MAX ? atomic_exchange(&fdtab[fd], 0) : 0;
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
	pn_int_refused(ps->s, what);    /* for pollnetctl sockets */
	DEBUG("fd %d: %s: not supported on a pollnet socket", fd, what);
}

/* ---- sockets' lifetimes ---- */

void *
pool_take(struct pool *p)
{
	void **obj;

	if (p->free == NULL) {
		char *chunk = calloc(32, p->size);

		for (int i = 0; chunk != NULL && i < 32; i++)
			pool_give(p, chunk + (size_t)i * p->size);
	}
	obj = p->free;
	if (obj != NULL)
		p->free = *(void **)((char *)obj + p->link);
	return obj;
}

void
pool_give(struct pool *p, void *obj)
{
	*(void **)((char *)obj + p->link) = p->free;
	p->free = obj;
}

static struct pool g_psocks = { NULL, sizeof(struct psock), offsetof(struct psock, next_free) };

struct psock *
ps_new(void)
{
	struct psock *ps;

	pthread_mutex_lock(&g_lock);
	ps = pool_take(&g_psocks);
	pthread_mutex_unlock(&g_lock);
	if (ps == NULL)
		return NULL;
	ps->s = NULL;
	ps->sh = NULL;
	ps->wfd = ps->tfd = -1;
	atomic_store(&ps->spin.ns, 0);
	ps->eps = NULL;
	ps->neps = ps->caps = 0;
	atomic_store_explicit(&ps->refs, 1, memory_order_release);
	return ps;
}

/* Back to the pool (its count is 0: nobody holds it). */
void
ps_discard(struct psock *ps)
{
	free(ps->eps);
	pthread_mutex_lock(&g_lock);
	pool_give(&g_psocks, ps);
	pthread_mutex_unlock(&g_lock);
}

void *
fd_hold(int fd, uintptr_t tag, void (*put)(uintptr_t))
{
	for (;;) {
		uintptr_t v = tab(fd);
		_Atomic int *refs = (_Atomic int *)(v & ~(uintptr_t)T_MASK);
		int n;

		if (refs == NULL || (v & T_MASK) != tag)
			return NULL;
		n = atomic_load_explicit(refs, memory_order_relaxed);
		while (n > 0 && !atomic_compare_exchange_weak_explicit(refs, &n, n + 1,
								      memory_order_acquire,
								      memory_order_relaxed))
			;
		if (n == 0)
			continue;       /* being released: the number names another now */
		if (tab(fd) == v)
			return refs;
		put(v);                 /* closed (and maybe reused) meanwhile */
	}
}

static void
ps_put_v(uintptr_t v)
{
	ps_put((struct psock *)v);
}

struct psock *
ps_get(int fd)
{
	return fd_hold(fd, 0, ps_put_v);
}

void
ps_flush(struct psock *ps)
{
	uint64_t t0 = pn_now_ns();

	for (;;) {
		struct pollfd p = { .fd = ps->tfd, .events = POLLIN };
		int pending;

		ps_lock(ps);
		pending = pn_int_tx_pending(ps->s);
		if (pending)
			pn_int_arm(ps->s, PN_WAKE_TX);
		ps_unlock(ps);
		if (!pending || pn_now_ns() - t0 > 1000000000u)
			return;
		if (LIBC(poll)(&p, 1, 10) > 0)
			drain(ps->tfd);
	}
}

/* The last reference in this process is gone. */
static void
ps_release(struct psock *ps)
{
	ep_forget(ps);
	ps_flush(ps);           /* as a UDP socket's close, it does not take
	                         * back what was sent */
	if (atomic_load(&ps->sh->shared)) {
		/* another process may still use it: pollnet frees it when
		 * the last descriptor for its receive end closes */
		pn_int_forget(ps->s);
	} else {
		sess_lock();
		pollnet_close(ps->s);   /* what was sent still goes out */
		sess_unlock();
	}
	munmap(ps->sh, 4096);
	fd_private_close(ps->wfd);
	fd_private_close(ps->tfd);
	ps_discard(ps);
}

void
ps_put(struct psock *ps)
{
	if (atomic_fetch_sub_explicit(&ps->refs, 1, memory_order_acq_rel) == 1)
		ps_release(ps);
}

/* fd stops naming what it named (v: its entry, taken). */
static void
fd_gone(uintptr_t v)
{
	if (is_psock(v))
		ps_put((struct psock *)v);
	else if ((v & T_MASK) == T_EP)
		ep_put(v);
}

void
fd_copy(int old, int fd)
{
	uintptr_t v = tab(old);
	void *o;

	/* the reference taken is fd's (old may be closing meanwhile: then
	 * nothing is taken, and fd is just the kernel's file) */
	if ((v & T_MASK) == T_EP) {
		o = fd_hold(old, T_EP, ep_put);
		if (o != NULL)
			tab_set(fd, (uintptr_t)o | T_EP);
	} else if (is_psock(v)) {
		o = ps_get(old);
		if (o != NULL)
			tab_set(fd, (uintptr_t)o);
	}
}

/* A copy of fd at a number of ours, high and close-on-exec, marked as ps's
 * (NULL: the session's): the number, or -1. */
static int
fd_copy_private(int fd, struct psock *ps)
{
	int hi = LIBC(fcntl)(fd, F_DUPFD_CLOEXEC, PRIVATE_LOW);

	if (hi < 0)
		hi = LIBC(fcntl)(fd, F_DUPFD_CLOEXEC, 3);
	if (hi >= 0)
		tab_set(hi, ps != NULL ? (uintptr_t)ps | T_PRIV : T_PRIV);
	return hi;
}

int
fd_private(int fd, struct psock *ps, int keep)
{
	int hi = fd_copy_private(fd, ps);

	if (hi < 0 || keep)
		return hi;
	tab_set(fd, 0);
	if (ps == NULL)
		pn_int_move_fd(g_pn, fd, hi);   /* the session's: closes fd */
	else
		LIBC(close)(fd);
	return hi;
}

void
fd_private_close(int fd)
{
	if (fd < 0)
		return;
	tab_set(fd, 0);
	LIBC(close)(fd);
}

/* Make way for the program at number fd: move our descriptor elsewhere.
 * (A call of ours under way on the old number still completes on its
 * file; the next uses the new number.) */
static void
make_way(int fd)
{
	uintptr_t v = tab(fd);
	struct psock *ps = (struct psock *)(v & ~(uintptr_t)T_MASK);
	int hi;

	if ((v & T_MASK) != T_PRIV)
		return;
	if (ps == NULL) {
		fd_private(fd, NULL, 0);
		return;
	}
	hi = fd_copy_private(fd, ps);
	if (hi < 0)
		return;
	if (ps->wfd == fd)
		ps->wfd = hi;
	else
		ps->tfd = hi;
	tab_set(fd, 0);
}

/* ---- the session ---- */

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
	for (int i = 0; i < 2; i++)
		fd_private(priv[i], NULL, 0);
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
		uintptr_t v = atomic_load_explicit(&fdtab[fd], memory_order_relaxed);

		if (is_psock(v))
			atomic_store(&((struct psock *)v)->sh->shared, 1);
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
	const int hi = atomic_load(&g_hi);

	/* the session lock is the parent's to release (it is shared) */
	pthread_mutex_init(&g_lock, NULL);
	/* One thread came along: a socket's count is its descriptors (the
	 * parent's other threads' calls under way are not ours), and no lock
	 * of an epoll list is held. */
	for (int fd = 0; fd < hi; fd++) {
		uintptr_t v = atomic_load_explicit(&fdtab[fd], memory_order_relaxed);

		if (is_psock(v))
			atomic_store(&((struct psock *)v)->refs, 0);
	}
	for (int fd = 0; fd < hi; fd++) {
		uintptr_t v = atomic_load_explicit(&fdtab[fd], memory_order_relaxed);

		if (is_psock(v))
			atomic_fetch_add(&((struct psock *)v)->refs, 1);
		else if ((v & T_MASK) == T_EP)
			ep_child(v);
	}
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

/* ---- descriptors ---- */

EXPORT int
close(int fd)
{
	uintptr_t v = tab(fd);
	int rc;

	if ((v & T_MASK) == T_PRIV)
		return fail(EBADF);     /* not the program's */
	if (v == 0)
		return LIBC(close)(fd);
	/* the number is free at once, as the kernel's; the socket goes with
	 * its last reference (a call under way on it keeps it) */
	v = tab_take(fd);
	rc = LIBC(close)(fd);
	fd_gone(v);
	return rc;
}

EXPORT int
dup(int old)
{
	int fd;

	if ((tab(old) & T_MASK) == T_PRIV)
		return fail(EBADF);
	fd = LIBC(dup)(old);
	if (fd >= 0)
		fd_copy(old, fd);
	return fd;
}

static int
dup_to(int old, int fd, int flags, int three)
{
	int rc;

	if ((tab(old) & T_MASK) == T_PRIV)
		return fail(EBADF);
	if (old == fd)
		return three ? fail(EINVAL) : LIBC(dup2)(old, fd);
	make_way(fd);
	rc = three ? LIBC(dup3)(old, fd, flags) : LIBC(dup2)(old, fd);
	if (rc < 0)
		return rc;
	fd_gone(tab_take(fd));
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
		if ((v & T_MASK) != T_PRIV)
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
