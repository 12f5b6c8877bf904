/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * pollnet-run: poll and select over descriptors of both kinds (epoll:
 * preload_epoll.c, with the same way of sleeping).  A
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
			int here = 0;   /* a socket's lcore runs here: no spin */

			spun = 1;       /* once: then sleep */
			for (nfds_t i = 0; i < n; i++)
				if (ps[i] != NULL)
					here |= pn_int_waits_here(ps[i]->s);
			if (!here) {
				if (pn_wait_spin(&t_poll_spin, most, poll_spin_ready, &a, &t0))
					continue;       /* something came: count again */
				spun = 2;
			}
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
