/* SPDX-License-Identifier: BSD-3-Clause */
/* The wait policy of libpollnet and pollnet-run (wait.h). */
#define _GNU_SOURCE
#include "wait.h"

#include <errno.h>
#include <sched.h>
#include <stdlib.h>
#include <time.h>

uint64_t
pn_wait_most(uint64_t dflt_us)
{
	const char *v = getenv("POLLNET_SPIN_US");
	unsigned long us;
	char *end;

	if (v != NULL && *v != '\0') {
		errno = 0;
		us = strtoul(v, &end, 10);
		if (*end == '\0' && errno == 0 && us <= 1000000)
			return us * 1000u;
	}
	return dflt_us * 1000u;
}

uint64_t
pn_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static inline void
cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
	__builtin_ia32_pause();
#endif
}

static uint64_t
budget(struct pn_spin *sp, uint64_t most)
{
	uint32_t b = atomic_load_explicit(&sp->ns, memory_order_relaxed);

	if (b == 0 || b >= most)
		return most;
	if ((atomic_fetch_add_explicit(&sp->waits, 1, memory_order_relaxed) & 15) == 15)
		return most;            /* a probe */
	return b;
}

static void
learn(struct pn_spin *sp, uint64_t most, uint64_t waited, int slept)
{
	uint64_t b = atomic_load_explicit(&sp->ns, memory_order_relaxed);

	if (b == 0 || b > most)
		b = most;
	if (!slept)
		b = most;
	else if (waited <= 4 * most)
		b = b * 2 > most ? most : b * 2;
	else
		b = b / 2 < most / 16 ? most / 16 : b / 2;
	/* a racing thread's update may be lost: it only steers a guess */
	atomic_store_explicit(&sp->ns, b > UINT32_MAX ? UINT32_MAX : (uint32_t)(b ? b : 1),
			      memory_order_relaxed);
}

/*
 * While spinning we yield the CPU now and then: on a core of our own that
 * returns at once; on a shared one it lets the scheduler run someone else
 * (it need not be the process we wait for).
 */
int
pn_wait_spin(struct pn_spin *sp, uint64_t most, int (*ready)(void *), void *arg, uint64_t *t0)
{
	uint64_t b = budget(sp, most);

	*t0 = pn_now_ns();
	for (unsigned i = 1;; i++) {
		if (ready(arg)) {
			learn(sp, most, 0, 0);
			return 1;
		}
		cpu_relax();
		if ((i & 1) == 0) {
			if (pn_now_ns() - *t0 > b)
				return 0;
			sched_yield();
		}
	}
}

void
pn_wait_slept(struct pn_spin *sp, uint64_t most, uint64_t t0)
{
	learn(sp, most, pn_now_ns() - t0, 1);
}
