/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * A socket's ICMP errors in detail (IP_RECVERR, MSG_ERRQUEUE): the region's
 * error queue, which pollnet writes (abi/pn_region.h, Errors) and the client
 * reads here.
 */
#include <errno.h>
#include <string.h>

#include "lib.h"
#include "pollnet_int.h"

void
pn_int_set_recverr(struct pollnet_socket *s, int on)
{
	atomic_store_explicit(&s->ctl->client.recverr, (uint32_t)(on != 0), memory_order_relaxed);
}

uint32_t
pn_int_errors_posted(struct pollnet_socket *s)
{
	return atomic_load_explicit(&s->ctl->errors.count, memory_order_acquire);
}

int
pn_int_errq_next(struct pollnet_socket *s, uint32_t *seq, struct pn_shm_errent *e)
{
	const uint32_t count = atomic_load_explicit(&s->ctl->errors.count, memory_order_acquire);
	uint32_t next = *seq + 1;

	for (;;) {
		const struct pn_shm_errent *q;

		if ((int32_t)(count - next) < 0)
			return -EAGAIN;
		if (count - next >= PN_ERRQ_SIZE)
			next = count - PN_ERRQ_SIZE + 1;        /* the older ones are gone */
		q = &s->ctl->errq[next % PN_ERRQ_SIZE];
		if (atomic_load_explicit(&q->seq, memory_order_acquire) == next) {
			/* a copy, kept if the entry was not rewritten meanwhile */
			memcpy(e, q, sizeof(*e));
			atomic_thread_fence(memory_order_acquire);
			if (atomic_load_explicit(&q->seq, memory_order_relaxed) == next &&
			    e->len <= PN_ERRQ_DATA)
				break;
		}
		next++;                                 /* overwritten meanwhile */
	}
	*seq = next;
	/* read: no longer the socket's pending error */
	if ((int32_t)(next - s->errors_seen) > 0)
		s->errors_seen = next;
	return 0;
}
