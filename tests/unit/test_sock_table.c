/* SPDX-License-Identifier: BSD-3-Clause */
/* The socket table: keys, ownership, and lock-free lookups racing
 * add/remove from a control thread (ASan turns an early free into a
 * failure). */
#define _GNU_SOURCE
#include "harness.h"

#include <pthread.h>
#include <sched.h>
#include <stdlib.h>

#include "sock_table.h"

static struct pn_sock *
sock_new(uint16_t lport, uint32_t rip, uint16_t rport, uint16_t owner)
{
	struct pn_sock *s = calloc(1, sizeof(*s));

	s->key.lport = rte_cpu_to_be_16(lport);
	s->key.rip = rte_cpu_to_be_32(rip);
	s->key.rport = rte_cpu_to_be_16(rport);
	s->owner = owner;
	return s;
}

static void
keys_and_precedence(void **state)
{
	struct sock_table *t = sock_table_create("st_keys", 8, 2);
	struct pn_sock *b = sock_new(53, 0, 0, 0), *c = sock_new(53, PEER_IP, 1000, 1);
	struct pn_sock *dup = sock_new(53, 0, 0, 1);

	assert_non_null(t);
	assert_int_equal(sock_table_add(t, b), 0);
	assert_int_equal(sock_table_add(t, dup), -EEXIST);
	assert_ptr_equal(sock_table_lookup(t, b->key.lport, rte_cpu_to_be_32(PEER_IP),
					   rte_cpu_to_be_16(1000)), b);
	assert_int_equal(sock_table_add(t, c), 0);
	assert_ptr_equal(sock_table_lookup(t, b->key.lport, rte_cpu_to_be_32(PEER_IP),
					   rte_cpu_to_be_16(1000)), c);
	assert_ptr_equal(sock_table_lookup(t, b->key.lport, rte_cpu_to_be_32(PEER_IP),
					   rte_cpu_to_be_16(1001)), b);
	assert_null(sock_table_lookup(t, rte_cpu_to_be_16(54), 0, 0));

	/* ownership lists */
	struct pn_sock *_Atomic *slots;
	assert_int_equal(sock_table_owned(t, 0, &slots), 1);
	assert_ptr_equal(slots[0], b);
	assert_int_equal(sock_table_owned(t, 1, &slots), 1);
	assert_ptr_equal(slots[0], c);

	/* remove, and the port can be bound again at once */
	assert_int_equal(sock_table_remove(t, b), 0);
	assert_int_equal(sock_table_remove(t, b), -ENOENT);
	assert_null(sock_table_lookup(t, b->key.lport, 0, 0));
	assert_int_equal(sock_table_owned(t, 0, &slots), 1);
	assert_null(slots[0]);
	assert_int_equal(sock_table_add(t, dup), 0);    /* owner 1: second slot */
	assert_int_equal(sock_table_owned(t, 1, &slots), 2);

	/* bad owner */
	struct pn_sock *bad = sock_new(99, 0, 0, 2);
	assert_int_equal(sock_table_add(t, bad), -EINVAL);

	sock_table_free(t);
	free(b);
	free(c);
	free(dup);
	free(bad);
}

static void
full_table(void **state)
{
	struct sock_table *t = sock_table_create("st_full", 4, 1);
	struct pn_sock *s[5];

	for (int i = 0; i < 5; i++)
		s[i] = sock_new(1000 + i, 0, 0, 0);
	for (int i = 0; i < 4; i++)
		assert_int_equal(sock_table_add(t, s[i]), 0);
	assert_int_equal(sock_table_add(t, s[4]), -ENOSPC);
	assert_int_equal(sock_table_remove(t, s[2]), 0);
	assert_int_equal(sock_table_add(t, s[4]), 0);   /* reuses the free slot */
	sock_table_free(t);
	for (int i = 0; i < 5; i++)
		free(s[i]);
}

/* ---- the race ---- */

static struct sock_table *rt;
static atomic_bool stop_reader;
static atomic_ulong reader_hits, reader_loops;

/* A reader thread becomes lcore 0 of rt.  EAL pinned the main thread (and
 * so us) to lcore 0: spread out, or every grace period waits for a
 * scheduler tick. */
static void
reader_online(void)
{
	cpu_set_t all;

	CPU_ZERO(&all);
	for (int c = 0; c < CPU_SETSIZE; c++)
		CPU_SET(c, &all);
	pthread_setaffinity_np(pthread_self(), sizeof(all), &all);
	sock_table_lcore_online(rt, 0);
}

static void *
reader(void *arg)
{
	reader_online();
	while (!atomic_load(&stop_reader)) {
		for (uint16_t p = 2000; p < 2008; p++) {
			/* odd ports hold connected sockets (the hash), even
			 * ones bound sockets (the port table) */
			struct pn_sock *s = sock_table_lookup(rt, rte_cpu_to_be_16(p),
					rte_cpu_to_be_32(PEER_IP), rte_cpu_to_be_16(1000));

			if (s != NULL) {
				/* the socket must still be whole: a freed one
				 * would be poisoned (ASan) or scribbled */
				assert_int_equal(rte_be_to_cpu_16(s->key.lport), p);
				assert_int_equal(s->id, p);
				atomic_fetch_add(&reader_hits, 1);
			}
		}
		struct pn_sock *_Atomic *slots;
		uint32_t n = sock_table_owned(rt, 0, &slots);

		for (uint32_t i = 0; i < n; i++) {
			struct pn_sock *s = atomic_load_explicit(&slots[i], memory_order_acquire);

			if (s != NULL)
				assert_int_equal(rte_be_to_cpu_16(s->key.lport), s->id);
		}
		atomic_fetch_add(&reader_loops, 1);
		sock_table_quiescent(rt, 0);
	}
	sock_table_lcore_offline(rt, 0);
	return NULL;
}

static void
lookups_race_add_remove(void **state)
{
	pthread_t th;
	struct pn_sock *live[8] = { 0 };

	rt = sock_table_create("st_race", 16, 1);
	assert_non_null(rt);
	assert_int_equal(pthread_create(&th, NULL, reader, NULL), 0);
	while (atomic_load(&reader_loops) == 0)   /* the reader is online */
		sched_yield();
	for (int i = 0; i < 3000; i++) {
		int k = rand() % 8;

		if (live[k] == NULL) {
			live[k] = k % 2 ? sock_new(2000 + k, PEER_IP, 1000, 0) :
					  sock_new(2000 + k, 0, 0, 0);
			live[k]->id = 2000 + k;
			assert_int_equal(sock_table_add(rt, live[k]), 0);
		} else {
			assert_int_equal(sock_table_remove(rt, live[k]), 0);
			memset(live[k], 0xdd, sizeof(*live[k]));
			free(live[k]);
			live[k] = NULL;
		}
	}
	atomic_store(&stop_reader, true);
	pthread_join(th, NULL);
	/* every removal waited for the reader twice, so they overlapped */
	assert_true(atomic_load(&reader_loops) >= 1500);
	assert_true(atomic_load(&reader_hits) > 0);
	for (int k = 0; k < 8; k++)
		free(live[k]);
	sock_table_free(rt);
}

static void
rekey_keys(void **state)
{
	struct sock_table *t = sock_table_create("st_rekey", 8, 1);
	struct pn_sock *s = sock_new(4000, 0, 0, 0), *o = sock_new(4000, PEER_IP, 7, 0);
	struct pn_sock *b = sock_new(4001, 0, 0, 0);
	const rte_be32_t peer = rte_cpu_to_be_32(PEER_IP);
	const rte_be16_t lp = rte_cpu_to_be_16(4000);

	assert_int_equal(sock_table_rekey(t, s, (struct sock_key){ .lport = lp }), -EINVAL);
	assert_int_equal(sock_table_add(t, s), 0);
	assert_int_equal(sock_table_add(t, o), 0);
	assert_int_equal(sock_table_add(t, b), 0);
	/* bound -> connected to PEER:1000 */
	assert_int_equal(sock_table_rekey(t, s, (struct sock_key){
		.lport = lp, .rip = peer, .rport = rte_cpu_to_be_16(1000) }), 0);
	assert_int_equal(rte_be_to_cpu_16(s->key.rport), 1000);
	assert_ptr_equal(sock_table_lookup(t, lp, peer, rte_cpu_to_be_16(1000)), s);
	assert_null(sock_table_lookup(t, lp, peer, rte_cpu_to_be_16(1001)));
	assert_int_equal(atomic_load(&t->ports[4000].connected), 2);
	/* another peer; a taken key or another port leave it where it is */
	assert_int_equal(sock_table_rekey(t, s, (struct sock_key){
		.lport = lp, .rip = peer, .rport = rte_cpu_to_be_16(7) }), -EEXIST);
	assert_int_equal(sock_table_rekey(t, s, (struct sock_key){
		.lport = rte_cpu_to_be_16(4001) }), -EINVAL);
	assert_ptr_equal(sock_table_lookup(t, lp, peer, rte_cpu_to_be_16(1000)), s);
	assert_int_equal(sock_table_rekey(t, s, (struct sock_key){
		.lport = lp, .rip = peer, .rport = rte_cpu_to_be_16(1002) }), 0);
	assert_null(sock_table_lookup(t, lp, peer, rte_cpu_to_be_16(1000)));
	assert_ptr_equal(sock_table_lookup(t, lp, peer, rte_cpu_to_be_16(1002)), s);
	assert_int_equal(atomic_load(&t->ports[4000].connected), 2);
	/* back to bound: every other peer finds it again; o still wins for
	 * its own */
	assert_int_equal(sock_table_rekey(t, s, (struct sock_key){ .lport = lp }), 0);
	assert_ptr_equal(sock_table_lookup(t, lp, peer, rte_cpu_to_be_16(1002)), s);
	assert_ptr_equal(sock_table_lookup(t, lp, peer, rte_cpu_to_be_16(7)), o);
	assert_int_equal(atomic_load(&t->ports[4000].connected), 1);
	/* a bound place taken by another socket */
	assert_int_equal(sock_table_rekey(t, o, (struct sock_key){ .lport = lp }), -EEXIST);
	assert_ptr_equal(sock_table_lookup(t, lp, peer, rte_cpu_to_be_16(7)), o);
	/* and remove still finds each where it is now */
	assert_int_equal(sock_table_remove(t, s), 0);
	assert_int_equal(sock_table_remove(t, o), 0);
	assert_int_equal(sock_table_remove(t, b), 0);
	assert_int_equal(t->nb_socks, 0);
	sock_table_free(t);
	free(s);
	free(o);
	free(b);
}

/* A datagram from the peer a socket connects to must find the socket at
 * every instant of the connect (and of the disconnect): a reader looks it
 * up without pause while the control thread moves it back and forth. */
static _Atomic uint64_t rk_misses, rk_loops;
static atomic_bool rk_stop;

static void *
rekey_reader(void *arg)
{
	struct pn_sock *s = arg;

	reader_online();
	while (!atomic_load(&rk_stop)) {
		for (int i = 0; i < 16; i++)
			if (sock_table_lookup(rt, rte_cpu_to_be_16(4500), rte_cpu_to_be_32(PEER_IP),
					      rte_cpu_to_be_16(1000)) != s)
				atomic_fetch_add(&rk_misses, 1);
		atomic_fetch_add(&rk_loops, 1);
		sock_table_quiescent(rt, 0);
	}
	sock_table_lcore_offline(rt, 0);
	return NULL;
}

static void
rekey_never_nowhere(void **state)
{
	pthread_t th;
	struct pn_sock *s = sock_new(4500, 0, 0, 0);
	const struct sock_key bound = { .lport = rte_cpu_to_be_16(4500) };
	const struct sock_key conn = { .lport = rte_cpu_to_be_16(4500),
				       .rip = rte_cpu_to_be_32(PEER_IP),
				       .rport = rte_cpu_to_be_16(1000) };

	rt = sock_table_create("st_rekey_race", 4, 1);
	assert_non_null(rt);
	assert_int_equal(sock_table_add(rt, s), 0);
	assert_int_equal(pthread_create(&th, NULL, rekey_reader, s), 0);
	while (atomic_load(&rk_loops) == 0)
		sched_yield();
	for (int i = 0; i < 2000; i++) {
		assert_int_equal(sock_table_rekey(rt, s, conn), 0);
		/* let the reader see this state a while */
		for (uint64_t l = atomic_load(&rk_loops); atomic_load(&rk_loops) < l + 2;)
			sched_yield();
		assert_int_equal(sock_table_rekey(rt, s, bound), 0);
	}
	atomic_store(&rk_stop, true);
	pthread_join(th, NULL);
	assert_int_equal(atomic_load(&rk_misses), 0);
	assert_true(atomic_load(&rk_loops) >= 4000);
	assert_int_equal(sock_table_remove(rt, s), 0);
	sock_table_free(rt);
	free(s);
}

/* The bound sockets of a port, newest first, by walking the list. */
static int
walk(struct sock_table *t, uint16_t port, struct pn_sock **out, int max)
{
	int n = 0;

	for (struct pn_sock *s = atomic_load(&t->ports[port].bound); s != NULL;
	     s = sock_table_next_bound(s)) {
		assert_true(n < max);
		out[n++] = s;
	}
	return n;
}

/*
 * Sockets that share a port (reuse, SO_REUSEADDR) are bound to it
 * together; the newest gets the port's datagrams, then the one before it
 * when it goes; a socket that moves back from connected goes first; one
 * that does not share is refused beside them, and refuses them.
 */
static void
shared_port(void **state)
{
	struct sock_table *t = sock_table_create("st_shared", 8, 1);
	struct pn_sock *a = sock_new(5000, 0, 0, 0), *b = sock_new(5000, 0, 0, 0);
	struct pn_sock *c = sock_new(5000, 0, 0, 0), *x = sock_new(5000, 0, 0, 0);
	struct pn_sock *w[8];
	const rte_be16_t lp = rte_cpu_to_be_16(5000);
	const rte_be32_t peer = rte_cpu_to_be_32(PEER_IP);

	a->reuse = b->reuse = c->reuse = 1;
	assert_int_equal(sock_table_add(t, a), 0);
	assert_int_equal(sock_table_add(t, x), -EEXIST);       /* x does not share */
	assert_int_equal(sock_table_add(t, b), 0);
	assert_int_equal(sock_table_add(t, c), 0);
	assert_ptr_equal(sock_table_lookup(t, lp, peer, rte_cpu_to_be_16(7)), c);
	assert_int_equal(walk(t, 5000, w, 8), 3);
	assert_ptr_equal(w[0], c);
	assert_ptr_equal(w[1], b);
	assert_ptr_equal(w[2], a);
	/* out of the middle: the newest still receives */
	assert_int_equal(sock_table_remove(t, b), 0);
	assert_int_equal(sock_table_remove(t, b), -ENOENT);
	assert_ptr_equal(sock_table_lookup(t, lp, peer, rte_cpu_to_be_16(7)), c);
	assert_int_equal(walk(t, 5000, w, 8), 2);
	assert_ptr_equal(w[1], a);
	/* a connects: off the list, its peer's datagrams its own; back
	 * (a disconnect), it is first */
	assert_int_equal(sock_table_rekey(t, a, (struct sock_key){
		.lport = lp, .rip = peer, .rport = rte_cpu_to_be_16(7) }), 0);
	assert_int_equal(walk(t, 5000, w, 8), 1);
	assert_ptr_equal(sock_table_lookup(t, lp, peer, rte_cpu_to_be_16(7)), a);
	assert_ptr_equal(sock_table_lookup(t, lp, peer, rte_cpu_to_be_16(8)), c);
	assert_int_equal(sock_table_rekey(t, a, (struct sock_key){ .lport = lp }), 0);
	assert_int_equal(walk(t, 5000, w, 8), 2);
	assert_ptr_equal(w[0], a);
	assert_ptr_equal(w[1], c);
	assert_ptr_equal(sock_table_lookup(t, lp, peer, rte_cpu_to_be_16(8)), a);
	/* the newest goes: the one before it receives */
	assert_int_equal(sock_table_remove(t, a), 0);
	assert_ptr_equal(sock_table_lookup(t, lp, peer, rte_cpu_to_be_16(8)), c);
	assert_int_equal(sock_table_remove(t, c), 0);
	assert_null(sock_table_lookup(t, lp, peer, rte_cpu_to_be_16(8)));
	/* one that does not share has the port to itself */
	assert_int_equal(sock_table_add(t, x), 0);
	assert_int_equal(sock_table_add(t, b), -EEXIST);
	assert_int_equal(sock_table_remove(t, x), 0);
	assert_int_equal(t->nb_socks, 0);
	sock_table_free(t);
	free(a);
	free(b);
	free(c);
	free(x);
}

/* A walk of a port's bound sockets (what a broadcast will do) races the
 * control thread adding, removing, connecting and disconnecting them: it
 * sees only whole sockets of the port (ASan: none freed), each once. */
static _Atomic uint64_t walk_loops, walk_seen;
static atomic_bool walk_stop;

static void *
walker(void *arg)
{
	reader_online();
	while (!atomic_load(&walk_stop)) {
		struct pn_sock *w[8];
		int n = walk(rt, 6000, w, 8);

		for (int i = 0; i < n; i++) {
			assert_int_equal(rte_be_to_cpu_16(w[i]->key.lport), 6000);
			assert_true(w[i]->id < 4);
			for (int j = 0; j < i; j++)
				assert_ptr_not_equal(w[i], w[j]);
		}
		atomic_fetch_add(&walk_seen, (uint64_t)n);
		atomic_fetch_add(&walk_loops, 1);
		sock_table_quiescent(rt, 0);
	}
	sock_table_lcore_offline(rt, 0);
	return NULL;
}

static void
walks_race_changes(void **state)
{
	pthread_t th;
	struct pn_sock *live[4] = { 0 };
	const rte_be16_t lp = rte_cpu_to_be_16(6000);

	rt = sock_table_create("st_walk", 8, 1);
	assert_non_null(rt);
	assert_int_equal(pthread_create(&th, NULL, walker, NULL), 0);
	while (atomic_load(&walk_loops) == 0)
		sched_yield();
	for (int i = 0; i < 3000; i++) {
		int k = rand() % 4;

		if (live[k] == NULL) {
			live[k] = sock_new(6000, 0, 0, 0);
			live[k]->id = (uint32_t)k;
			live[k]->reuse = 1;
			assert_int_equal(sock_table_add(rt, live[k]), 0);
		} else if (rand() % 2) {
			struct sock_key key = { .lport = lp };

			if (sock_key_bound(&live[k]->key)) {
				key.rip = rte_cpu_to_be_32(PEER_IP);
				key.rport = rte_cpu_to_be_16(1000 + k);
			}
			assert_int_equal(sock_table_rekey(rt, live[k], key), 0);
		} else {
			assert_int_equal(sock_table_remove(rt, live[k]), 0);
			memset(live[k], 0xdd, sizeof(*live[k]));
			free(live[k]);
			live[k] = NULL;
		}
	}
	atomic_store(&walk_stop, true);
	pthread_join(th, NULL);
	assert_true(atomic_load(&walk_loops) >= 1000);
	assert_true(atomic_load(&walk_seen) > 0);
	for (int k = 0; k < 4; k++) {
		if (live[k] != NULL)
			assert_int_equal(sock_table_remove(rt, live[k]), 0);
		free(live[k]);
	}
	sock_table_free(rt);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(keys_and_precedence),
		cmocka_unit_test(full_table),
		cmocka_unit_test(lookups_race_add_remove),
		cmocka_unit_test(rekey_keys),
		cmocka_unit_test(rekey_never_nowhere),
		cmocka_unit_test(shared_port),
		cmocka_unit_test(walks_race_changes),
	};

	harness_init();
	return cmocka_run_group_tests_name("sock_table", tests, NULL, NULL);
}
