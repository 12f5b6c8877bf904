/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * pollnet-run: poll, select and epoll over descriptors of both kinds.  A
 * pollnet socket's readiness comes from its rings; to sleep, each asks
 * pollnet to wake it and the kernel waits on all the descriptors at once
 * (a pollnet socket's is its wake pair's end).
 */
#define _GNU_SOURCE
#include <stdlib.h>
#include <string.h>
#include <sys/select.h>

#include "preload.h"

int __poll_chk(struct pollfd *, nfds_t, int, size_t);
int __ppoll_chk(struct pollfd *, nfds_t, const struct timespec *, const sigset_t *, size_t);

/* An epoll instance that has pollnet sockets in it: their entries, which
 * the kernel's instance does not hold (it holds the wake ends, with EP_TAG). */
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
	now = pn_now_ns();
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
			rc = LIBC(ppoll)(k, n, tp, mask);
		} else {
			rc = LIBC(poll)(k, n, sleep_ms);
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
	for (nfds_t i = 0; i < n; i++)
		if (ps_of(fds[i].fd) != NULL)
			return 1;
	return 0;
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

EXPORT int
poll(struct pollfd *fds, nfds_t n, int timeout)
{
	if (!any_pollnet(fds, n))
		return LIBC(poll)(fds, n, timeout);
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
		return LIBC(ppoll)(fds, n, ts, mask);
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
	if (nfds > FD_SETSIZE)
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
		return LIBC(select)(nfds, r, w, e, tv);
	deadline = tv == NULL ? UINT64_MAX :
		   pn_now_ns() + (uint64_t)tv->tv_sec * 1000000000u + (uint64_t)tv->tv_usec * 1000u;
	rc = select_mixed(nfds, r, w, e, deadline, NULL);
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

	if (!sets_have_pollnet(nfds, r, w, e))
		return LIBC(pselect)(nfds, r, w, e, ts, mask);
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

void
ep_get(uintptr_t v)
{
	atomic_fetch_add(&((struct ep *)(v & ~(uintptr_t)T_MASK))->refs, 1);
}

void
ep_put(uintptr_t v)
{
	struct ep *ep = (struct ep *)(v & ~(uintptr_t)T_MASK);

	if (atomic_fetch_sub(&ep->refs, 1) == 1) {
		free(ep->e);
		free(ep);
	}
}

int
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

/* (Its last descriptor is closed: the kernel drops its registrations
 * then too.) */
void
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
		return LIBC(epoll_ctl)(epfd, op, fd, ev);
	if (op != EPOLL_CTL_DEL && ev == NULL)
		return fail(EFAULT);
	kev.events = EPOLLIN;
	kev.data.u64 = EP_TAG | (uint32_t)fd;
	rc = LIBC(epoll_ctl)(epfd, op, fd, &kev);
	if (rc < 0)
		return rc;
	pthread_mutex_lock(&g_lock);
	ep = ep_of(epfd);
	if (ep == NULL) {
		ep = calloc(1, sizeof(*ep));
		if (ep == NULL) {
			pthread_mutex_unlock(&g_lock);
			LIBC(epoll_ctl)(epfd, EPOLL_CTL_DEL, fd, &kev);
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
					LIBC(epoll_ctl)(epfd, EPOLL_CTL_DEL, fd, &kev);
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
		return LIBC(epoll_wait)(epfd, ev, max, timeout);
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
		k = mask != NULL ? LIBC(epoll_pwait)(epfd, ev + n, max - n, sleep_ms, mask) :
				   LIBC(epoll_wait)(epfd, ev + n, max - n, sleep_ms);
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
	struct ep *ep = ep_of(epfd);

	if (ep == NULL)
		return LIBC(epoll_wait)(epfd, ev, max, timeout);
	return epoll_mixed(epfd, ep, ev, max, timeout, NULL);
}

EXPORT int
epoll_pwait(int epfd, struct epoll_event *ev, int max, int timeout, const sigset_t *mask)
{
	struct ep *ep = ep_of(epfd);

	if (ep == NULL)
		return LIBC(epoll_pwait)(epfd, ev, max, timeout, mask);
	return epoll_mixed(epfd, ep, ev, max, timeout, mask);
}
