/* Time helpers the threaded test programs share (pr_races, pn_threads,
 * pn_client): a nap, a clock, a bounded join, CPU used. */
#ifndef PN_TEST_WAIT_H
#define PN_TEST_WAIT_H

#include <pthread.h>
#include <stdint.h>
#include <time.h>

static inline uint64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static inline void
nap(int ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000 };

	nanosleep(&ts, NULL);
}

/* Join t within ms (done: what t sets as it ends): 1, or 0 if it is still
 * running. */
static inline int
joined(pthread_t t, _Atomic int *done, int ms)
{
	for (uint64_t t0 = now_ms(); !*done; nap(5))
		if (now_ms() - t0 > (uint64_t)ms)
			return 0;
	pthread_join(t, NULL);
	return 1;
}

/* CPU time, in ms, of the process or the calling thread (clock). */
static inline double
cpu_ms(clockid_t clock)
{
	struct timespec ts;

	clock_gettime(clock, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

#endif
