/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * pollnet-run: epoll over descriptors of both kinds (poll and select:
 * preload_poll.c; what they share: preload.h).
 */
#define _GNU_SOURCE
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "preload.h"

/*
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

/* We are about to wait on ep's pollnet sockets: say on which CPU.  1 if
 * one's lcore runs there too (no spin: it would keep the lcore out). */
static int
ep_waits_here(struct ep *ep)
{
	int here = 0;

	pthread_mutex_lock(&ep->lock);
	for (int i = 0; i < ep->n; i++)
		if (!ep->e[i].off)
			here |= pn_int_waits_here(ep->e[i].ps->s);
	pthread_mutex_unlock(&ep->lock);
	return here;
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
			if (!ep_waits_here(ep)) {
				if (pn_wait_spin(&ep->spin, most, ep_spin_ready, &a, &t0))
					continue;       /* something came: collect */
				spun = 2;
			}
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
