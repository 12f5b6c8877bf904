/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The stats segment's lock-free parts: sequence counts, the packet logs'
 * position tags, the layout check readers rely on, capture rings, and the
 * counters' names.
 */
#include "harness.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "capture.h"
#include "ctl.h"
#include "statnames.h"
#include "statseg.h"

/* ---- sequence counts ---- */

struct block {
	_Atomic uint32_t seq;
	uint64_t v[16];         /* all equal in every consistent copy */
};

static void
seq_odd_refuses(void **state)
{
	struct block b = { 0 }, copy;

	(void)state;
	pn_seq_begin(&b.seq);
	b.v[0] = 1;
	assert_int_equal(pn_seq_read(&b.seq, &copy, &b, sizeof(b), 1000), -1);
	pn_seq_end(&b.seq);
	assert_int_equal(pn_seq_read(&b.seq, &copy, &b, sizeof(b), 1), 0);
	assert_int_equal(copy.v[0], 1);
	assert_int_equal(atomic_load(&b.seq) & 1, 0);
}

static struct block shared;
static atomic_bool writer_done;

static void *
seq_writer(void *arg)
{
	(void)arg;
	for (uint64_t n = 1; n <= 2000000; n++) {
		pn_seq_begin(&shared.seq);
		for (int i = 0; i < 16; i++)
			__atomic_store_n(&shared.v[i], n, __ATOMIC_RELAXED);
		pn_seq_end(&shared.seq);
	}
	atomic_store(&writer_done, true);
	return NULL;
}

/* A reader racing a writer never keeps a torn copy. */
static void
seq_concurrent(void **state)
{
	pthread_t t;
	uint64_t good = 0, last = 0;

	(void)state;
	atomic_store(&writer_done, false);
	assert_int_equal(pthread_create(&t, NULL, seq_writer, NULL), 0);
	while (!atomic_load(&writer_done)) {
		struct block c;

		if (pn_seq_read(&shared.seq, &c, &shared, sizeof(c), 1000) < 0)
			continue;
		for (int i = 1; i < 16; i++)
			assert_int_equal(c.v[i], c.v[0]);
		assert_true(c.v[0] >= last);    /* never backwards */
		last = c.v[0];
		good++;
	}
	pthread_join(t, NULL);
	assert_true(good > 0);
}

/* ---- packet logs ---- */

#define NL 4096

static struct pn_stats_log *
new_log(void)
{
	struct pn_stats_log *l = calloc(1, sizeof(*l) + NL * sizeof(struct pn_log_rec));

	assert_non_null(l);
	return l;
}

/* a "frame" whose bytes say which one it is: an IPv4/TCP header whose
 * options run to 60 bytes, the rest bytes that count up from v */
#define LOG_FRAME 256
static void
log_frame(uint8_t *f, uint64_t v)
{
	for (size_t i = 0; i < LOG_FRAME; i++)
		f[i] = (uint8_t)(v + i);
	f[12] = 0x08, f[13] = 0x00, f[14] = 0x4f, f[20] = 0, f[21] = 0, f[23] = 6;
	f[14 + 60 + 12] = 0xf0;
}

static void
log_write(struct pn_stats_log *l, uint64_t v)
{
	uint8_t f[LOG_FRAME];

	log_frame(f, v);
	pn_log_put(l, NL, f, 60 + (uint32_t)(v % 200), PKT_RX, v);
}

static void
log_check(const struct pn_log_rec *r, uint64_t v)
{
	const uint32_t len = 60 + (uint32_t)(v % 200);
	uint8_t f[LOG_FRAME];

	log_frame(f, v);
	assert_int_equal(r->ts, v);
	assert_int_equal(r->len, len);
	/* headers: 14 + 60 + 60 = 134 bytes, of which the log keeps 112 */
	assert_int_equal(r->caplen, len < PN_LOG_SNAP ? len : PN_LOG_SNAP);
	assert_memory_equal(r->hdr, f, r->caplen);
}

static void
log_tags(void **state)
{
	struct pn_stats_log *l = new_log();
	struct pn_log_rec ps;

	(void)state;
	/* never written: no position matches (tags are never 0) */
	assert_int_equal(pn_log_read(l, NL, 0, &ps), -1);
	for (uint64_t i = 0; i < NL + 10; i++)
		log_write(l, i);
	assert_int_equal(atomic_load(&l->head), NL + 10);
	/* the first 10 were overwritten: reading them says so */
	for (uint64_t p = 0; p < 10; p++)
		assert_int_equal(pn_log_read(l, NL, p, &ps), -1);
	for (uint64_t p = 10; p < NL + 10; p++) {
		assert_int_equal(pn_log_read(l, NL, p, &ps), 0);
		log_check(&ps, p);
	}
	/* a position not yet written */
	assert_int_equal(pn_log_read(l, NL, NL + 10, &ps), -1);
	/* a record being written is refused */
	pn_log_begin(l, NL);
	assert_int_equal(pn_log_read(l, NL, NL + 10, &ps), -1);
	assert_int_equal(pn_log_read(l, NL, 10, &ps), -1);     /* its slot's old record */
	assert_int_equal(pn_log_read(l, NL, 11, &ps), 0);
	assert_int_not_equal(pn_log_tag(0), 0);
	assert_int_not_equal(pn_log_tag(0x7fffffff), 0);
	assert_int_not_equal(pn_log_tag(1ull << 31), 0);
	free(l);
}

static struct pn_stats_log *cap_log;

static void *
log_writer(void *arg)
{
	(void)arg;
	for (uint64_t v = 0; v < 3000000; v++)
		log_write(cap_log, v);
	atomic_store(&writer_done, true);
	return NULL;
}

/* A reader that lags and races the writer: every record it keeps is the one
 * for the position it asked for. */
static void
log_concurrent(void **state)
{
	pthread_t t;
	uint64_t pos = 0, kept = 0, lost = 0;

	(void)state;
	cap_log = new_log();
	atomic_store(&writer_done, false);
	assert_int_equal(pthread_create(&t, NULL, log_writer, NULL), 0);
	while (!atomic_load(&writer_done) || pos < atomic_load(&cap_log->head)) {
		uint64_t head = atomic_load_explicit(&cap_log->head, memory_order_acquire);
		struct pn_log_rec ps;

		if (head - pos > NL) {
			lost += head - pos - NL;
			pos = head - NL;
		}
		for (; pos < head; pos++) {
			if (pn_log_read(cap_log, NL, pos, &ps) < 0) {
				lost++;
				continue;
			}
			log_check(&ps, pos);
			kept++;
		}
	}
	pthread_join(t, NULL);
	assert_int_equal(kept + lost, 3000000);
	assert_true(kept > 0);
	free(cap_log);
}

/* ---- layout ---- */

static void
layout_checked(void **state)
{
	struct pn_stats_hdr *h;
	uint64_t size;
	struct pn_stats_hdr geo = { 0 };

	(void)state;
	size = pn_stats_layout(&geo, 2, 1025);
	h = calloc(1, size);
	assert_non_null(h);
	memcpy(h, &geo, sizeof(geo));
	h->version = PN_STATS_VERSION;
	assert_false(pn_stats_valid(h, size));          /* no magic yet: still starting */
	memcpy(h->magic, PN_STATS_MAGIC, 8);
	assert_true(pn_stats_valid(h, size));
	assert_false(pn_stats_valid(h, size - 1));      /* file shorter than it says */
	assert_true(h->log_off + 2 * h->log_stride <= size);
	assert_true((uint8_t *)&pn_stats_log(h, 1)->rec[PN_STATS_LOG_SIZE] <= (uint8_t *)h + size);
	assert_true((uint8_t *)&pn_stats_socks(h)[1025] <= (uint8_t *)pn_stats_log(h, 0));
	h->nb_lcores = 3;                               /* sizes that disagree */
	assert_false(pn_stats_valid(h, size));
	h->nb_lcores = 2;
	h->version++;
	assert_false(pn_stats_valid(h, size));
	free(h);
}

/* ---- capture rings ---- */

static void
capture_ring(void **state)
{
	struct capture *c = calloc(1, sizeof(*c) + sizeof(c->lc[0]));
	uint8_t fr[1600] = { 0 }, payload[1000] = { 0 };
	struct pn_cap_ring *r;
	uint64_t size;

	(void)state;
	size = pn_cap_layout(&c->geo, 1, 100);
	c->region = calloc(1, size);
	c->snaplen = 100;
	r = pn_cap_ring(c->region, &c->geo, 0);
	size_t n = frame_udp(fr, OUR_MAC, PEER_IP, OUR_IP, 1, 2, payload, 1000);

	/* a frame, cut at the snap length */
	assert_int_equal(capture_frame(c, 0, fr, n, PKT_RX, 42), 1);
	assert_int_equal(atomic_load(&r->head), 1);
	assert_int_equal(pn_cap_rec(c->region, &c->geo, 0, 0)->caplen, 100);
	assert_int_equal(pn_cap_rec(c->region, &c->geo, 0, 0)->len, n);
	assert_int_equal(pn_cap_rec(c->region, &c->geo, 0, 0)->ts, 42);
	assert_memory_equal(pn_cap_rec(c->region, &c->geo, 0, 0)->data, fr, 100);
	/* fill it: the rest are skipped and counted, never overwrite */
	for (int i = 1; i < PN_CAP_SLOTS; i++)
		assert_int_equal(capture_frame(c, 0, fr, n, PKT_RX, 42), 1);
	assert_int_equal(capture_frame(c, 0, fr, n, PKT_RX, 42), -1);
	assert_int_equal(atomic_load(&r->skipped), 1);
	/* the reader frees some */
	atomic_store(&r->tail, 10);
	assert_int_equal(capture_frame(c, 0, fr, n, PKT_RX, 42), 1);
	/* a reader writing a nonsense tail cannot make the lcore overrun */
	atomic_store(&r->tail, 1ull << 40);
	assert_int_equal(capture_frame(c, 0, fr, n, PKT_RX, 42), -1);
	atomic_store(&r->tail, 0);
	assert_int_equal(capture_frame(c, 0, fr, n, PKT_RX, 42), -1);
	free(c->region);
	free(c);
}

/* ---- names ---- */

static void
count_emit(void *arg, const char *name, uint64_t v, unsigned flags)
{
	int *n = arg;

	(void)flags;
	if (strcmp(name, "stack.rx_drop.udp_no_socket") == 0)
		assert_int_equal(v, 7);
	if (strcmp(name, "lcore1.rx_frames") == 0)
		assert_int_equal(v, 3);
	(*n)++;
}

static void
names_cover_everything(void **state)
{
	struct pn_stats_hdr h = { .nb_lcores = 2 };
	struct pn_stats_lcore lc[2] = { 0 };
	struct pn_counters sum = { 0 };
	int n = 0;

	(void)state;
	sum.rx_drop[PN_RX_UDP_NO_SOCKET] = 7;
	lc[1].st.rx_frames = 3;
	pn_stats_emit(&h, lc, &sum, count_emit, &n);
	/* no port counters: 38 stack ones + every drop reason + the exception
	 * path's 3 and 2 per kind + 15 per lcore + 7 control + a refusal count
	 * per reason */
	assert_int_equal(n, 38 + PN_RX_DROP_MAX + PN_TX_DROP_MAX + 3 + 2 * PN_EXC_MAX + 2 * 15 +
			 7 + PN_REFUSED_MAX);
	/* a port with counters, and a driver with its own: 9 + 4 more */
	h.port.has_stats = 1;
	h.port.has_drv = 1;
	n = 0;
	pn_stats_emit(&h, lc, &sum, count_emit, &n);
	assert_int_equal(n, 13 + 38 + PN_RX_DROP_MAX + PN_TX_DROP_MAX + 3 + 2 * PN_EXC_MAX +
			 2 * 15 + 7 + PN_REFUSED_MAX);
	/* an xdp: port's program: its 2 verdicts more */
	h.port.has_xdp = 1;
	n = 0;
	pn_stats_emit(&h, lc, &sum, count_emit, &n);
	assert_int_equal(n, 15 + 38 + PN_RX_DROP_MAX + PN_TX_DROP_MAX + 3 + 2 * PN_EXC_MAX +
			 2 * 15 + 7 + PN_REFUSED_MAX);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(seq_odd_refuses),
		cmocka_unit_test(seq_concurrent),
		cmocka_unit_test(log_tags),
		cmocka_unit_test(log_concurrent),
		cmocka_unit_test(layout_checked),
		cmocka_unit_test(capture_ring),
		cmocka_unit_test(names_cover_everything),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
