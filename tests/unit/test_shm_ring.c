/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The shared-memory rings: empty, full, wrap of the free-running positions,
 * and a producer and a consumer on two threads (this test is built with
 * ThreadSanitizer: a missing acquire/release is a failure).
 */
#include <pthread.h>
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "abi/pn_region.h"

struct region {
	void *base;
	struct pn_shm_hdr h;
	struct pn_shm_ctl *ctl;
};

static void
region_new(struct region *r, uint32_t rx, uint32_t tx)
{
	pn_shm_layout(&r->h, rx, tx, 1, 0);
	r->base = aligned_alloc(4096, r->h.region_size);
	assert_non_null(r->base);
	memset(r->base, 0, r->h.region_size);
	memcpy(r->base, &r->h, sizeof(r->h));
	r->ctl = pn_shm_ctl(r->base);
}

static void
layout_is_checked(void **state)
{
	struct region r;
	struct pn_shm_hdr bad;

	region_new(&r, 256, 64);
	assert_true(pn_shm_layout_ok(&r.h, r.h.region_size));
	assert_false(pn_shm_layout_ok(&r.h, r.h.region_size - 1));   /* mapping too small */
	bad = r.h;
	bad.magic ^= 1;
	assert_false(pn_shm_layout_ok(&bad, r.h.region_size));
	bad = r.h;
	bad.rx_size = 100;                                           /* not a power of 2 */
	assert_false(pn_shm_layout_ok(&bad, 1u << 30));
	bad = r.h;
	bad.tx_slot_off += 8;                                        /* overlapping */
	assert_false(pn_shm_layout_ok(&bad, 1u << 30));
	bad = r.h;
	bad.version = PN_SHM_VERSION + 1;
	assert_false(pn_shm_layout_ok(&bad, r.h.region_size));
	/* slots are page aligned and inside the region */
	assert_int_equal(r.h.rx_slot_off % 4096, 0);
	assert_int_equal(r.h.tx_slot_off + 64 * PN_SHM_SLOT_SIZE, r.h.region_size);
	free(r.base);
}

static void
empty_full_and_wrap(void **state)
{
	struct region r;
	_Atomic uint32_t *head, *tail;
	/* start just below 2^32 so the positions wrap inside the test */
	uint32_t h = UINT32_MAX - 5, t = h;

	region_new(&r, 8, 8);
	head = &r.ctl->rx_head.v;
	tail = &r.ctl->rx_tail.v;
	atomic_store(head, h);
	atomic_store(tail, t);

	for (int round = 0; round < 5; round++) {
		assert_int_equal(pn_ring_ready(head, t), 0);               /* empty */
		for (int i = 0; i < 8; i++) {
			assert_true(pn_ring_used(h, tail) < 8);
			struct pn_desc *d = pn_shm_desc(r.base, r.h.rx_desc_off, 8, h);
			d->len = (uint32_t)(h * 7);
			memcpy(pn_shm_slot(r.base, r.h.rx_slot_off, 8, h), &h, 4);
			pn_ring_publish(head, ++h);
		}
		assert_int_equal(pn_ring_used(h, tail), 8);                /* full */
		assert_int_equal(pn_ring_ready(head, t), 8);
		for (int i = 0; i < 8; i++) {
			uint32_t v;

			assert_int_equal(pn_shm_desc(r.base, r.h.rx_desc_off, 8, t)->len,
					 (uint32_t)(t * 7));
			memcpy(&v, pn_shm_slot(r.base, r.h.rx_slot_off, 8, t), 4);
			assert_int_equal(v, t);
			pn_ring_publish(tail, ++t);
		}
	}
	assert_true(h < 100);                                        /* it wrapped */
	/* a tail the other side moved past the head reads as nonsense */
	atomic_store(tail, h + 3);
	assert_true(pn_ring_used(h, tail) > 8);
	free(r.base);
}

/* ---- two threads ---- */

#define N_MSGS 200000
static struct region tr;

static void *
producer(void *arg)
{
	uint32_t h = 0, size = tr.h.tx_size;

	for (uint32_t i = 0; i < N_MSGS; i++) {
		while (pn_ring_used(h, &tr.ctl->tx_tail.v) == size)
			sched_yield();
		struct pn_desc *d = pn_shm_desc(tr.base, tr.h.tx_desc_off, size, h);
		uint8_t *slot = pn_shm_slot(tr.base, tr.h.tx_slot_off, size, h);
		uint32_t len = 4 + i % 200;

		d->len = len;
		d->addr = i;
		memset(slot, (int)(i & 0xff), len);
		memcpy(slot, &i, 4);
		pn_ring_publish(&tr.ctl->tx_head.v, ++h);
	}
	return NULL;
}

static void
producer_consumer_threads(void **state)
{
	pthread_t th;
	uint32_t t = 0, size;

	region_new(&tr, 16, 16);
	size = tr.h.tx_size;
	assert_int_equal(pthread_create(&th, NULL, producer, NULL), 0);
	for (uint32_t i = 0; i < N_MSGS;) {
		uint32_t n = pn_ring_ready(&tr.ctl->tx_head.v, t);

		assert_true(n <= size);
		if (n == 0) {
			sched_yield();
			continue;
		}
		for (; n > 0; n--, i++) {
			const struct pn_desc *d = pn_shm_desc(tr.base, tr.h.tx_desc_off, size, t);
			const uint8_t *slot = pn_shm_slot(tr.base, tr.h.tx_slot_off, size, t);
			uint32_t v;

			assert_int_equal(d->addr, i);
			assert_int_equal(d->len, 4 + i % 200);
			memcpy(&v, slot, 4);
			assert_int_equal(v, i);
			assert_int_equal(slot[d->len - 1], d->len > 4 ? (i & 0xff) : slot[3]);
			pn_ring_publish(&tr.ctl->tx_tail.v, ++t);
		}
	}
	pthread_join(th, NULL);
	free(tr.base);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(layout_is_checked),
		cmocka_unit_test(empty_full_and_wrap),
		cmocka_unit_test(producer_consumer_threads),
	};

	return cmocka_run_group_tests_name("shm_ring", tests, NULL, NULL);
}
