/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * pollnet-run: poll, select and epoll over descriptors of both kinds.  A
 * pollnet socket's readiness comes from its rings; to sleep, each asks
 * pollnet to wake it, and the kernel waits on all the descriptors at once:
 * the program's own, and for a pollnet socket the wake end of each
 * direction it waits on (ours: preload.h).
 */
#define _GNU_SOURCE
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/select.h>

#include "preload.h"

int __poll_chk(struct pollfd *, nfds_t, int, size_t);
int __ppoll_chk(struct pollfd *, nfds_t, const struct timespec *, const sigset_t *, size_t);

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
	if (r & READY_RDHUP)
		out |= ev & POLLRDHUP;
	if (r & READY_HUP)
		out |= POLLHUP;
	return out;
}

/* The PN_WAKE_* bits for poll or epoll events. */
static unsigned
wake_bits(uint32_t events)
{
	return (events & (POLLIN | POLLRDNORM) ? PN_WAKE_RX : 0) |
	       (events & (POLLOUT | POLLWRNORM) ? PN_WAKE_TX : 0);
}

/* Would ps's ready bits r end a wait for bits? */
static int
wakes(unsigned r, unsigned bits)
{
	return (r & PN_READY_ERR) || ((r & PN_READY_RX) && (bits & PN_WAKE_RX)) ||
	       ((r & PN_READY_TX) && (bits & PN_WAKE_TX));
}

static int
ms_left(uint64_t deadline)
{
	uint64_t now;

	if (deadline == UINT64_MAX)
		return -1;
	now = pn_now_ns();
	return now >= deadline ? 0 : (int)((deadline - now + 999999u) / 1000000u);
}

static uint64_t
deadline_ms(int ms)
{
	return ms < 0 ? UINT64_MAX : pn_now_ns() + (uint64_t)ms * 1000000u;
}

static uint64_t
deadline_ts(const struct timespec *ts)
{
	return ts == NULL ? UINT64_MAX :
	       pn_now_ns() + (uint64_t)ts->tv_sec * 1000000000u + (uint64_t)ts->tv_nsec;
}

/* ---- poll and select ---- */

/* The kernel's part of one round of poll_mixed. */
static int
kernel_poll(struct pollfd *k, nfds_t n, int ms, const sigset_t *mask)
{
	struct timespec ts, *tp = NULL;

	if (mask == NULL)
		return LIBC(poll)(k, n, ms);
	if (ms >= 0) {
		ts.tv_sec = ms / 1000;
		ts.tv_nsec = (long)(ms % 1000) * 1000000;
		tp = &ts;
	}
	return LIBC(ppoll)(k, n, tp, mask);
}

/* A spin before poll sleeps (wait.h): the pollnet sockets' rings, and
 * every 16th round the kernel's descriptors (a system call). */
struct poll_spin {
	const struct pollfd *fds;
	struct pollfd *k;               /* the kernel's, pollnet's as -1 */
	nfds_t n;
	struct psock **ps;
	int kernel;
	unsigned round;
};

static int
poll_spin_ready(void *arg)
{
	struct poll_spin *a = arg;

	for (nfds_t i = 0; i < a->n; i++)
		if (a->ps[i] != NULL && ps_revents(a->ps[i], a->fds[i].events) != 0)
			return 1;
	return a->kernel > 0 && (++a->round & 15) == 0 && LIBC(poll)(a->k, a->n, 0) != 0;
}

static __thread struct pn_spin t_poll_spin;     /* poll's budget, per thread (select does not spin) */

/* The most a wait that ends at deadline may spin (ns). */
static uint64_t
spin_most(uint64_t deadline)
{
	uint64_t now = pn_now_ns();

	if (deadline == UINT64_MAX)
		return g_spin_most;
	return deadline <= now ? 0 : deadline - now < g_spin_most ? deadline - now : g_spin_most;
}

/*
 * poll() with pollnet sockets among the descriptors (ps[i], held): theirs
 * answered from the rings, the rest by the kernel; to sleep, every pollnet
 * socket asks to be woken and the kernel waits on the program's
 * descriptors and on their wake ends at once (k: n entries for the
 * program's, then the send ends of those waiting for POLLOUT).
 */
static int
poll_mixed(struct pollfd *fds, nfds_t n, struct psock **ps, uint64_t deadline,
	   const sigset_t *mask)
{
	struct pollfd small[32], *k = 2 * n <= 32 ? small : malloc(2 * n * sizeof(*k));
	int rc = 0, spun = 0;
	uint64_t t0 = 0, most = 0;

	if (k == NULL)
		return fail(ENOMEM);
	for (;;) {
		int ready = 0, kernel = 0, sleep_ms;
		nfds_t nk = n;

		for (nfds_t i = 0; i < n; i++) {
			k[i] = fds[i];
			if (ps[i] == NULL) {
				kernel += fds[i].fd >= 0;
				fds[i].revents = 0;     /* (a negative fd's, as poll's) */
				continue;
			}
			fds[i].revents = ps_revents(ps[i], fds[i].events);
			ready += fds[i].revents != 0;
			k[i].fd = -1;           /* the kernel leaves it alone */
		}
		sleep_ms = ready > 0 ? 0 : ms_left(deadline);
		if (sleep_ms == 0 && kernel == 0) {
			rc = ready;     /* no descriptor of the kernel's to ask */
			break;
		}
		if (sleep_ms != 0 && !spun && (most = spin_most(deadline)) > 0) {
			struct poll_spin a = { fds, k, n, ps, kernel, 0 };

			spun = 1;       /* once: then sleep */
			if (pn_wait_spin(&t_poll_spin, most, poll_spin_ready, &a, &t0))
				continue;       /* something came: count again */
			spun = 2;
		}
		if (sleep_ms != 0) {
			/* ask to be woken, then look again */
			for (nfds_t i = 0; i < n; i++) {
				unsigned bits = wake_bits((uint16_t)fds[i].events);

				if (ps[i] == NULL)
					continue;
				if (wakes(ps_arm(ps[i], bits), bits))
					sleep_ms = 0;
				/* the receive end for hang-ups too: pollnet gone */
				k[i] = (struct pollfd){ .fd = ps[i]->wfd,
							.events = bits & PN_WAKE_RX ? POLLIN : 0 };
				if (bits & PN_WAKE_TX)
					k[nk++] = (struct pollfd){ .fd = ps[i]->tfd, .events = POLLIN };
			}
			if (sleep_ms == 0)
				continue;       /* something came: count again */
		}
		rc = kernel_poll(k, nk, sleep_ms, mask);
		if (spun == 2) {
			pn_wait_slept(&t_poll_spin, most, t0);
			spun = 1;
		}
		if (rc < 0)
			break;
		rc = 0;
		for (nfds_t i = 0; i < n; i++) {
			if (ps[i] == NULL)
				fds[i].revents = k[i].revents;
			else if (k[i].fd >= 0 && (k[i].revents & POLLHUP))
				fds[i].revents = POLLHUP | POLLERR;     /* pollnet went away */
			else if (k[i].fd >= 0)
				fds[i].revents = ps_revents(ps[i], fds[i].events);
			rc += fds[i].revents != 0;
		}
		if (rc > 0 || ready > 0 || ms_left(deadline) == 0)
			break;
	}
	if (k != small)
		free(k);
	return rc;
}

/* The pollnet sockets among fds, held (ps[i], NULL for the kernel's): how
 * many. */
static int
get_all(const struct pollfd *fds, nfds_t n, struct psock **ps)
{
	int found = 0;

	for (nfds_t i = 0; i < n; i++) {
		ps[i] = ps_get(fds[i].fd);
		found += ps[i] != NULL;
	}
	return found;
}

static void
put_all(struct psock **ps, nfds_t n)
{
	for (nfds_t i = 0; i < n; i++)
		if (ps[i] != NULL)
			ps_put(ps[i]);
}

/* poll, or ppoll with a mask (the kernel's when no pollnet socket is in). */
static int
poll_any(struct pollfd *fds, nfds_t n, uint64_t deadline, int ms,
	 const struct timespec *ts, const sigset_t *mask, int is_ppoll)
{
	struct psock *small[16], **ps = n <= 16 ? small : malloc(n * sizeof(*ps));
	sigset_t cur;
	int rc;

	if (ps == NULL)
		return fail(ENOMEM);
	if (get_all(fds, n, ps) == 0) {
		if (ps != small)
			free(ps);
		return is_ppoll ? LIBC(ppoll)(fds, n, ts, mask) : LIBC(poll)(fds, n, ms);
	}
	if (is_ppoll && mask == NULL) {
		pthread_sigmask(SIG_SETMASK, NULL, &cur);
		mask = &cur;
	}
	rc = poll_mixed(fds, n, ps, deadline, mask);
	put_all(ps, n);
	if (ps != small)
		free(ps);
	return rc;
}

EXPORT int
poll(struct pollfd *fds, nfds_t n, int timeout)
{
	return poll_any(fds, n, deadline_ms(timeout), timeout, NULL, NULL, 0);
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
	return poll_any(fds, n, deadline_ts(ts), -1, ts, mask, 1);
}

EXPORT int
__ppoll_chk(struct pollfd *fds, nfds_t n, const struct timespec *ts, const sigset_t *mask,
	    size_t fdslen)
{
	if (fdslen / sizeof(*fds) < n)
		abort();
	return ppoll(fds, n, ts, mask);
}

/* select() as a poll(); NULL when no pollnet socket is in the sets (the
 * caller asks the kernel), else the count or -1. */
static int
select_mixed(int nfds, fd_set *r, fd_set *w, fd_set *e, uint64_t deadline,
	     const sigset_t *mask, int *rc)
{
	struct pollfd *p;
	struct psock **ps;
	nfds_t n = 0;
	int count = 0;

	if (nfds < 0 || nfds > FD_SETSIZE)
		return 0;               /* the kernel's EINVAL */
	p = calloc((size_t)nfds + 1, sizeof(*p));
	ps = calloc((size_t)nfds + 1, sizeof(*ps));
	if (p == NULL || ps == NULL) {
		free(p);
		free(ps);
		*rc = fail(ENOMEM);
		return 1;
	}
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
	if (get_all(p, n, ps) == 0) {
		free(p);
		free(ps);
		return 0;
	}
	*rc = poll_mixed(p, n, ps, deadline, mask);
	put_all(ps, n);
	free(ps);
	if (*rc < 0) {
		free(p);
		return 1;
	}
	for (nfds_t i = 0; i < n; i++)
		if (p[i].revents & POLLNVAL) {
			free(p);
			*rc = fail(EBADF);
			return 1;
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
	*rc = count;
	return 1;
}

EXPORT int
select(int nfds, fd_set *r, fd_set *w, fd_set *e, struct timeval *tv)
{
	uint64_t deadline = tv == NULL ? UINT64_MAX :
			    pn_now_ns() + (uint64_t)tv->tv_sec * 1000000000u +
			    (uint64_t)tv->tv_usec * 1000u;
	int rc;

	if (!select_mixed(nfds, r, w, e, deadline, NULL, &rc))
		return LIBC(select)(nfds, r, w, e, tv);
	if (tv != NULL) {               /* Linux says how much time was left */
		uint64_t now = pn_now_ns(), left = now >= deadline ? 0 : deadline - now;

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
	int rc;

	if (mask == NULL) {
		pthread_sigmask(SIG_SETMASK, NULL, &cur);
		mask = &cur;
	}
	if (!select_mixed(nfds, r, w, e, deadline_ts(ts), mask, &rc))
		return LIBC(pselect)(nfds, r, w, e, ts, mask);
	return rc;
}

/* ---- epoll ----
 *
 * An epoll instance with pollnet sockets in it: their entries, which the
 * kernel's instance does not hold; it holds the sockets' wake ends (with
 * EP_TAG, edge-triggered: their messages only say "look again").  An
 * instance is counted as a socket is (its descriptors, the calls under
 * way), and its memory kept for the next, for the same reason
 * (preload_fd.c).  Which lists a socket is on, it knows itself (ps->eps),
 * so that its last close need not look at every descriptor; both are
 * changed under g_lock, then the list's own lock.
 */
#define EP_TAG 0x9011e70000000000ull
#define EP_TAG_MASK 0xffffffff00000000ull

struct epent {
	int fd;
	struct psock *ps;
	uint32_t events;
	epoll_data_t data;
	int fresh;                      /* EPOLLET: nothing reported yet */
	uint32_t rx_seen, tx_seen;      /* EPOLLET: pollnet's progress when we last
	                                 * reported (the kernel's edge: each new
	                                 * datagram, each time room is made) */
	int off;                        /* EPOLLONESHOT fired */
};

struct ep {
	_Atomic int refs;               /* descriptors, calls under way (first:
	                                 * fd_hold) */
	pthread_mutex_t lock;
	int n, cap;
	struct epent *e;
	struct pn_spin spin;            /* how long its waits spin (wait.h) */
	struct ep *next_free;
};

static struct pool g_eps = { NULL, sizeof(struct ep), offsetof(struct ep, next_free) };

/* A new list (under g_lock), its count 1. */
static struct ep *
ep_new(void)
{
	struct ep *ep = pool_take(&g_eps);

	if (ep == NULL)
		return NULL;
	pthread_mutex_init(&ep->lock, NULL);
	ep->n = ep->cap = 0;
	atomic_store(&ep->spin.ns, 0);
	ep->e = NULL;
	atomic_store_explicit(&ep->refs, 1, memory_order_release);
	return ep;
}

static struct ep *
ep_of(uintptr_t v)
{
	return (struct ep *)(v & ~(uintptr_t)T_MASK);
}

/* The list epfd names, held, or NULL. */
static struct ep *
ep_hold(int epfd)
{
	return fd_hold(epfd, T_EP, ep_put);
}

/* ps is on ep once more (under g_lock). */
static int
ps_join(struct psock *ps, struct ep *ep)
{
	if (ps->neps == ps->caps) {
		int cap = ps->caps ? 2 * ps->caps : 4;
		struct ep **e = realloc(ps->eps, (size_t)cap * sizeof(*e));

		if (e == NULL)
			return -ENOMEM;
		ps->eps = e;
		ps->caps = cap;
	}
	ps->eps[ps->neps++] = ep;
	return 0;
}

/* ps is on ep once fewer (under g_lock). */
static void
ps_leave(struct psock *ps, struct ep *ep)
{
	for (int i = 0; i < ps->neps; i++)
		if (ps->eps[i] == ep) {
			ps->eps[i] = ps->eps[--ps->neps];
			return;
		}
}

void
ep_put(uintptr_t v)
{
	struct ep *ep = ep_of(v);

	if (atomic_fetch_sub_explicit(&ep->refs, 1, memory_order_acq_rel) != 1)
		return;
	pthread_mutex_lock(&g_lock);
	for (int i = 0; i < ep->n; i++)
		ps_leave(ep->e[i].ps, ep);
	free(ep->e);
	ep->e = NULL;
	ep->n = 0;
	pthread_mutex_destroy(&ep->lock);
	pool_give(&g_eps, ep);
	pthread_mutex_unlock(&g_lock);
}

void
ep_child(uintptr_t v)
{
	pthread_mutex_init(&ep_of(v)->lock, NULL);
}

void
ep_forget(struct psock *ps)
{
	pthread_mutex_lock(&g_lock);
	for (int k = 0; k < ps->neps; k++) {
		struct ep *ep = ps->eps[k];

		pthread_mutex_lock(&ep->lock);
		for (int i = 0; i < ep->n; i++)
			if (ep->e[i].ps == ps)
				ep->e[i--] = ep->e[--ep->n];
		pthread_mutex_unlock(&ep->lock);
	}
	ps->neps = 0;
	pthread_mutex_unlock(&g_lock);
}

/* The kernel's registrations for a pollnet socket fd: the program's
 * descriptor (so that the kernel answers EEXIST, ENOENT... for it as it
 * would; its socket is the receive end, and a hang-up says pollnet went
 * away), and our send end for EPOLLOUT. */
static int
ep_kernel(int epfd, int op, int fd, struct psock *ps, uint32_t events)
{
	struct epoll_event kev = { .events = EPOLLIN | EPOLLET,
				   .data.u64 = EP_TAG | (uint32_t)fd };

	if (LIBC(epoll_ctl)(epfd, op, fd, &kev) < 0)
		return -errno;
	if (op == EPOLL_CTL_DEL || !(events & (EPOLLOUT | EPOLLWRNORM))) {
		/* (ENOENT: it was not there) */
		LIBC(epoll_ctl)(epfd, EPOLL_CTL_DEL, ps->tfd, NULL);
		return 0;
	}
	if (LIBC(epoll_ctl)(epfd, EPOLL_CTL_ADD, ps->tfd, &kev) < 0 && errno == EEXIST)
		LIBC(epoll_ctl)(epfd, EPOLL_CTL_MOD, ps->tfd, &kev);
	return 0;
}

static int
ps_epoll_ctl(int epfd, int op, int fd, struct psock *ps, struct epoll_event *ev)
{
	struct ep *ep;
	int rc, i;

	if (op != EPOLL_CTL_DEL && ev == NULL)
		return -EFAULT;
	pthread_mutex_lock(&g_lock);
	rc = ep_kernel(epfd, op, fd, ps, op == EPOLL_CTL_DEL ? 0 : ev->events);
	if (rc < 0)
		goto out;
	ep = (tab(epfd) & T_MASK) == T_EP ? ep_of(tab(epfd)) : NULL;
	if (ep == NULL) {
		ep = ep_new();
		if (ep == NULL) {
			ep_kernel(epfd, EPOLL_CTL_DEL, fd, ps, 0);
			rc = -ENOMEM;
			goto out;
		}
		tab_set(epfd, (uintptr_t)ep | T_EP);
	}
	pthread_mutex_lock(&ep->lock);
	for (i = 0; i < ep->n && ep->e[i].fd != fd; i++)
		;
	if (op == EPOLL_CTL_DEL) {
		if (i < ep->n) {
			ps_leave(ep->e[i].ps, ep);
			ep->e[i] = ep->e[--ep->n];
		}
	} else {
		if (i == ep->n) {
			if (ep->n == ep->cap) {
				int cap = ep->cap ? 2 * ep->cap : 8;
				struct epent *e = realloc(ep->e, (size_t)cap * sizeof(*e));

				if (e == NULL || ps_join(ps, ep) < 0) {
					if (e != NULL)
						ep->e = e;
					pthread_mutex_unlock(&ep->lock);
					ep_kernel(epfd, EPOLL_CTL_DEL, fd, ps, 0);
					rc = -ENOMEM;
					goto out;
				}
				ep->e = e;
				ep->cap = cap;
			} else if (ps_join(ps, ep) < 0) {
				pthread_mutex_unlock(&ep->lock);
				ep_kernel(epfd, EPOLL_CTL_DEL, fd, ps, 0);
				rc = -ENOMEM;
				goto out;
			}
			ep->n++;
		} else if (ep->e[i].ps != ps) {
			/* the number names another socket now */
			ps_leave(ep->e[i].ps, ep);
			if (ps_join(ps, ep) < 0) {
				ep->e[i] = ep->e[--ep->n];
				pthread_mutex_unlock(&ep->lock);
				rc = -ENOMEM;
				goto out;
			}
		}
		ep->e[i] = (struct epent){ .fd = fd, .ps = ps, .events = ev->events,
					   .data = ev->data, .fresh = 1 };
	}
	pthread_mutex_unlock(&ep->lock);
out:
	pthread_mutex_unlock(&g_lock);
	return rc;
}

EXPORT int
epoll_ctl(int epfd, int op, int fd, struct epoll_event *ev)
{
	struct psock *ps = ps_get(fd);
	int rc;

	if (ps == NULL)
		return LIBC(epoll_ctl)(epfd, op, fd, ev);
	rc = ps_epoll_ctl(epfd, op, fd, ps, ev);
	ps_put(ps);
	return rc < 0 ? fail(-rc) : 0;
}

/* What one entry reports now (0: nothing); with take, as reported (an
 * edge is reported once). */
static uint32_t
ep_events(struct epent *e, int take)
{
	uint32_t m = 0, rx, tx;
	unsigned r;

	ps_lock(e->ps);
	r = ps_ready_locked(e->ps);
	pn_int_progress(e->ps->s, &rx, &tx);
	ps_unlock(e->ps);
	if (r & PN_READY_RX)
		m |= e->events & (EPOLLIN | EPOLLRDNORM);
	if (r & PN_READY_TX)
		m |= e->events & (EPOLLOUT | EPOLLWRNORM);
	if (r & PN_READY_ERR)
		m |= EPOLLERR;
	if (r & READY_RDHUP)
		m |= e->events & EPOLLRDHUP;
	if (r & READY_HUP)
		m |= EPOLLHUP;
	if ((e->events & EPOLLET) && !e->fresh) {
		/* an edge, as the kernel's: a datagram came, or room was
		 * made, since we last said */
		if (rx == e->rx_seen)
			m &= ~(uint32_t)(EPOLLIN | EPOLLRDNORM);
		if (tx == e->tx_seen)
			m &= ~(uint32_t)(EPOLLOUT | EPOLLWRNORM);
	}
	if (m != 0 && take) {
		e->fresh = 0;
		e->rx_seen = rx;
		e->tx_seen = tx;
	}
	return m;
}

/* The pollnet sockets of ep that are ready, into out (at most max). */
static int
ep_collect(struct ep *ep, struct epoll_event *out, int max)
{
	int n = 0;

	pthread_mutex_lock(&ep->lock);
	for (int i = 0; i < ep->n && n < max; i++) {
		struct epent *e = &ep->e[i];
		uint32_t m;

		if (e->off || (m = ep_events(e, 1)) == 0)
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

/* A spin before epoll_wait sleeps (wait.h): ep's pollnet sockets, and
 * every 16th round the kernel's (the epoll descriptor polls readable when
 * one of its own is). */
struct ep_spin {
	struct ep *ep;
	int epfd;
	unsigned round;
};

static int
ep_spin_ready(void *arg)
{
	struct ep_spin *a = arg;
	struct ep *ep = a->ep;
	int ready = 0;

	pthread_mutex_lock(&ep->lock);
	for (int i = 0; i < ep->n && !ready; i++)
		ready = !ep->e[i].off && ep_events(&ep->e[i], 0) != 0;
	pthread_mutex_unlock(&ep->lock);
	if (!ready && (++a->round & 15) == 0) {
		struct pollfd p = { .fd = a->epfd, .events = POLLIN };

		ready = LIBC(poll)(&p, 1, 0) != 0;
	}
	return ready;
}

/* Ask every socket of ep to be woken: 1 if one is ready after all. */
static int
ep_arm(struct ep *ep)
{
	int ready = 0;

	pthread_mutex_lock(&ep->lock);
	for (int i = 0; i < ep->n; i++) {
		unsigned bits = wake_bits(ep->e[i].events);

		if (!ep->e[i].off && wakes(ps_arm(ep->e[i].ps, bits), bits))
			ready = 1;
	}
	pthread_mutex_unlock(&ep->lock);
	return ready;
}

/* Keep the kernel's events that are the program's; a hang-up of a pollnet
 * socket's wake end (pollnet went away) becomes EPOLLHUP for it. */
static int
ep_filter(struct ep *ep, struct epoll_event *ev, int n, struct epoll_event *extra, int *nextra)
{
	int k = 0;

	for (int i = 0; i < n; i++) {
		if ((ev[i].data.u64 & EP_TAG_MASK) != EP_TAG) {
			ev[k++] = ev[i];
			continue;
		}
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
	}
	return k;
}

static int
epoll_mixed(int epfd, struct ep *ep, struct epoll_event *ev, int max, int timeout,
	    const sigset_t *mask)
{
	uint64_t deadline = deadline_ms(timeout), t0 = 0, most = 0;
	int spun = 0;

	if (max <= 0)
		return LIBC(epoll_wait)(epfd, ev, max, timeout);
	for (;;) {
		struct epoll_event hup[16];
		int n = ep_collect(ep, ev, max), k, nh = 0, sleep_ms;

		sleep_ms = n > 0 ? 0 : ms_left(deadline);
		if (sleep_ms != 0 && !spun && (most = spin_most(deadline)) > 0) {
			struct ep_spin a = { ep, epfd, 0 };

			spun = 1;       /* once: then sleep */
			if (pn_wait_spin(&ep->spin, most, ep_spin_ready, &a, &t0))
				continue;       /* something came: collect */
			spun = 2;
		}
		if (sleep_ms != 0 && ep_arm(ep)) {
			n = ep_collect(ep, ev, max);
			if (n > 0)
				sleep_ms = 0;
		}
		k = mask != NULL ? LIBC(epoll_pwait)(epfd, ev + n, max - n, sleep_ms, mask) :
				   LIBC(epoll_wait)(epfd, ev + n, max - n, sleep_ms);
		if (spun == 2 && sleep_ms != 0) {
			pn_wait_slept(&ep->spin, most, t0);
			spun = 1;
		}
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
	struct ep *ep = ep_hold(epfd);
	int rc;

	if (ep == NULL)
		return LIBC(epoll_wait)(epfd, ev, max, timeout);
	rc = epoll_mixed(epfd, ep, ev, max, timeout, NULL);
	ep_put((uintptr_t)ep);
	return rc;
}

EXPORT int
epoll_pwait(int epfd, struct epoll_event *ev, int max, int timeout, const sigset_t *mask)
{
	struct ep *ep = ep_hold(epfd);
	int rc;

	if (ep == NULL)
		return LIBC(epoll_pwait)(epfd, ev, max, timeout, mask);
	rc = epoll_mixed(epfd, ep, ev, max, timeout, mask);
	ep_put((uintptr_t)ep);
	return rc;
}
