/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * How a call that must wait does it, in libpollnet and in pollnet-run: spin
 * a while (pollnet's lcore answers in microseconds), then sleep until
 * pollnet wakes the socket.  How long to spin is learnt per socket.
 *
 * A wait the spin ended sets the budget to the most a wait may spin:
 * datagrams come often enough that spinning catches them, and each sleep
 * costs a wake-up on both sides.  A wait that slept doubles the budget if
 * it ended within 4 times the most, and halves it (down to a sixteenth of
 * the most) if it was longer: the datagrams come further apart than any
 * spin covers, and spinning before each sleep only takes the CPU from
 * whoever shares it (on a small machine, the sender or pollnet itself).  A
 * sleep adds its own wake-up to the time it measures, hence 4 and not 1:
 * a round trip that a spin catches only some of the time must keep it.
 * Below the most, every 16th wait spins the most anyway, so that a socket
 * whose traffic quickens finds out even when each sleep's wake-up is slower
 * than its traffic.  docs/PERFORMANCE.md ("The same servers in the guest")
 * has the round trip that set the 4.
 *
 * The most is POLLNET_SPIN_US microseconds, or the library's default.
 */
#ifndef POLLNET_WAIT_H
#define POLLNET_WAIT_H

#include <stdatomic.h>
#include <stdint.h>

struct pn_spin {
	_Atomic uint32_t ns;            /* 0: not learnt yet, spin the most */
	_Atomic uint32_t waits;
};

/* The most a wait spins, in ns: $POLLNET_SPIN_US, else dflt_us. */
uint64_t pn_wait_most(uint64_t dflt_us);

uint64_t pn_now_ns(void);

/*
 * Spin until ready(arg) or the socket's budget (at most `most` ns) runs
 * out.  1: it became ready (and the spin learnt so); 0: the caller is to
 * sleep, and when that wait ends, tell pn_wait_slept when it began (*t0).
 */
int pn_wait_spin(struct pn_spin *sp, uint64_t most, int (*ready)(void *), void *arg,
		 uint64_t *t0);

/* A wait that began at t0 slept, and has ended. */
void pn_wait_slept(struct pn_spin *sp, uint64_t most, uint64_t t0);

#endif
