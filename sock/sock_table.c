/* SPDX-License-Identifier: BSD-3-Clause */
#include "sock_table.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <rte_hash.h>
#include <rte_jhash.h>
#include <rte_malloc.h>

struct sock_table *
sock_table_create(const char *name, uint32_t max_socks, uint16_t nb_lcores)
{
	char hname[RTE_HASH_NAMESIZE];
	struct sock_table *t;
	size_t rcu_sz;

	if (nb_lcores == 0 || nb_lcores > SOCK_TABLE_MAX_LCORES || max_socks == 0)
		return NULL;
	t = rte_zmalloc(name, sizeof(*t), RTE_CACHE_LINE_SIZE);
	if (t == NULL)
		return NULL;
	t->nb_lcores = nb_lcores;
	t->max_per_lcore = max_socks;
	t->ports = rte_zmalloc(name, sizeof(t->ports[0]) * 65536, RTE_CACHE_LINE_SIZE);
	if (t->ports == NULL)
		goto fail;

	snprintf(hname, sizeof(hname), "%s_h", name);
	struct rte_hash_parameters hp = {
		.name = hname,
		.entries = max_socks < 8 ? 8 : max_socks,
		.key_len = sizeof(struct sock_key),
		.hash_func = rte_jhash,
		.socket_id = SOCKET_ID_ANY,
		/* lock-free readers, one writer (the control thread) */
		.extra_flag = RTE_HASH_EXTRA_FLAGS_RW_CONCURRENCY_LF,
	};
	t->hash = rte_hash_create(&hp);
	if (t->hash == NULL)
		goto fail;

	rcu_sz = rte_rcu_qsbr_get_memsize(nb_lcores);
	t->rcu = rte_zmalloc(name, rcu_sz, RTE_CACHE_LINE_SIZE);
	if (t->rcu == NULL || rte_rcu_qsbr_init(t->rcu, nb_lcores) != 0)
		goto fail;

	for (uint16_t i = 0; i < nb_lcores; i++) {
		t->owned[i] = rte_zmalloc(name, sizeof(t->owned[i][0]) * max_socks, 0);
		if (t->owned[i] == NULL)
			goto fail;
		if (rte_rcu_qsbr_thread_register(t->rcu, i) != 0)
			goto fail;
	}
	return t;
fail:
	sock_table_free(t);
	return NULL;
}

void
sock_table_free(struct sock_table *t)
{
	if (t == NULL)
		return;
	for (uint16_t i = 0; i < SOCK_TABLE_MAX_LCORES; i++)
		rte_free(t->owned[i]);
	rte_free(t->rcu);
	rte_hash_free(t->hash);
	rte_free(t->ports);
	rte_free(t);
}

static struct sock_port *
sock_port(struct sock_table *t, const struct pn_sock *s)
{
	return &t->ports[rte_be_to_cpu_16(s->key.lport)];
}

/* The port's bound sockets, newest first.  Only the control thread
 * changes the list, so its own loads need no ordering; the stores that
 * link a socket in or out are releases, for the lcores' walks. */
#define FOR_BOUND(o, sp) \
	for (struct pn_sock *o = atomic_load_explicit(&(sp)->bound, memory_order_relaxed); \
	     o != NULL; o = atomic_load_explicit(&o->next_bound, memory_order_relaxed))

static bool
bound_has(const struct sock_port *sp, const struct pn_sock *s)
{
	FOR_BOUND(o, sp)
		if (o == s)
			return true;
	return false;
}

/* May s be bound to the port beside the sockets bound there?  Only if
 * there are none, or it and every one of them share it (SO_REUSEADDR on
 * both: the kernel's rule). */
static bool
bound_may_join(const struct sock_port *sp, const struct pn_sock *s)
{
	FOR_BOUND(o, sp)
		if (!s->reuse || !o->reuse)
			return false;
	return true;
}

/* s first: a walk that reads the new head finds the rest behind it. */
static void
bound_push(struct sock_port *sp, struct pn_sock *s)
{
	atomic_store_explicit(&s->next_bound,
			      atomic_load_explicit(&sp->bound, memory_order_relaxed),
			      memory_order_relaxed);
	atomic_store_explicit(&sp->bound, s, memory_order_release);
}

/* s out of the list (it is in it).  A walk that stands on s goes on to
 * what followed it: s->next_bound stays until a grace period has passed. */
static void
bound_unlink(struct sock_port *sp, struct pn_sock *s)
{
	struct pn_sock *_Atomic *link = &sp->bound;

	while (atomic_load_explicit(link, memory_order_relaxed) != s)
		link = &atomic_load_explicit(link, memory_order_relaxed)->next_bound;
	atomic_store_explicit(link, atomic_load_explicit(&s->next_bound, memory_order_relaxed),
			      memory_order_release);
}

int
sock_table_add(struct sock_table *t, struct pn_sock *s)
{
	struct sock_port *sp = sock_port(t, s);
	uint32_t slot, hw;

	if (s->owner >= t->nb_lcores)
		return -EINVAL;
	if (sock_key_bound(&s->key) ? !bound_may_join(sp, s) :
	    rte_hash_lookup(t->hash, &s->key) >= 0)
		return -EEXIST;

	/* Find a free slot in the owner's list before publishing anything. */
	hw = atomic_load_explicit(&t->owned_hw[s->owner], memory_order_relaxed);
	for (slot = 0; slot < hw; slot++)
		if (atomic_load_explicit(&t->owned[s->owner][slot],
					 memory_order_relaxed) == NULL)
			break;
	if (slot == t->max_per_lcore)
		return -ENOSPC;

	atomic_store_explicit(&s->closing, false, memory_order_relaxed);
	s->slot = slot;
	s->hash_pos = -1;
	if (sock_key_bound(&s->key)) {
		/* Publish: the release store orders the socket's fields first. */
		bound_push(sp, s);
	} else {
		if (rte_hash_add_key_data(t->hash, &s->key, s) != 0)
			return -ENOSPC;
		s->hash_pos = rte_hash_lookup(t->hash, &s->key);
		atomic_fetch_add_explicit(&sp->connected, 1, memory_order_release);
	}
	atomic_store_explicit(&t->owned[s->owner][slot], s, memory_order_release);
	if (slot == hw)
		atomic_store_explicit(&t->owned_hw[s->owner], hw + 1,
				      memory_order_release);
	t->nb_socks++;
	return 0;
}

void
sock_table_sync(struct sock_table *t)
{
	rte_rcu_qsbr_synchronize(t->rcu, RTE_QSBR_THRID_INVALID);
}

int
sock_table_remove(struct sock_table *t, struct pn_sock *s)
{
	struct sock_port *sp = sock_port(t, s);

	if (sock_key_bound(&s->key) ? !bound_has(sp, s) :
	    rte_hash_lookup_data(t->hash, &s->key, &(void *){ NULL }) < 0)
		return -ENOENT;

	atomic_store_explicit(&s->closing, true, memory_order_release);
	if (sock_key_bound(&s->key)) {
		bound_unlink(sp, s);
	} else {
		rte_hash_del_key(t->hash, &s->key);
		atomic_fetch_sub_explicit(&sp->connected, 1, memory_order_release);
	}
	atomic_store_explicit(&t->owned[s->owner][s->slot], NULL,
			      memory_order_release);
	/*
	 * First grace period: no lcore can still be inside a lookup or an
	 * iteration that found s.  But an lcore may have handed a datagram for
	 * s to the owner's steer ring just before its quiescent report; the
	 * owner drains that ring before its next report, so a second grace
	 * period guarantees nothing references s any more.
	 */
	rte_rcu_qsbr_synchronize(t->rcu, RTE_QSBR_THRID_INVALID);
	rte_rcu_qsbr_synchronize(t->rcu, RTE_QSBR_THRID_INVALID);
	if (s->hash_pos >= 0)
		rte_hash_free_key_with_position(t->hash, s->hash_pos);
	t->nb_socks--;
	return 0;
}

int
sock_table_rekey(struct sock_table *t, struct pn_sock *s, struct sock_key k)
{
	struct sock_port *sp = sock_port(t, s);
	struct sock_key old = s->key;
	int32_t old_pos = s->hash_pos;

	if (k.lport != old.lport)
		return -EINVAL;
	if (sock_key_bound(&old) ? !bound_has(sp, s) :
	    rte_hash_lookup_data(t->hash, &old, &(void *){ NULL }) < 0)
		return -EINVAL;
	if (memcmp(&k, &old, sizeof(k)) == 0)
		return 0;
	/* The new place first ... */
	if (sock_key_bound(&k)) {
		if (!bound_may_join(sp, s))
			return -EEXIST;
		bound_push(sp, s);
		s->hash_pos = -1;
	} else {
		if (rte_hash_lookup(t->hash, &k) >= 0)
			return -EEXIST;
		if (rte_hash_add_key_data(t->hash, &k, s) != 0)
			return -ENOSPC;
		s->hash_pos = rte_hash_lookup(t->hash, &k);
		atomic_fetch_add_explicit(&sp->connected, 1, memory_order_release);
	}
	/* ... and once no lookup can still be between its load of the port's
	 * connected count and its load of the bound socket (a grace period),
	 * the old place goes.  Only the remote half of the key changes (the
	 * lcores read the local port, which stays). */
	sock_table_sync(t);
	s->key.rip = k.rip;
	s->key.rport = k.rport;
	if (sock_key_bound(&old)) {
		bound_unlink(sp, s);
		/* no walk still stands on s when it is linked in again */
		sock_table_sync(t);
	} else {
		rte_hash_del_key(t->hash, &old);
		atomic_fetch_sub_explicit(&sp->connected, 1, memory_order_release);
		/* a lookup may still be reading the old key's slot */
		sock_table_sync(t);
		rte_hash_free_key_with_position(t->hash, old_pos);
	}
	return 0;
}

int
sock_table_lcore_online(struct sock_table *t, uint16_t lcore)
{
	if (lcore >= t->nb_lcores)
		return -EINVAL;
	rte_rcu_qsbr_thread_online(t->rcu, lcore);
	return 0;
}

void
sock_table_lcore_offline(struct sock_table *t, uint16_t lcore)
{
	rte_rcu_qsbr_thread_offline(t->rcu, lcore);
}

struct pn_sock *
sock_table_lookup_connected(struct sock_table *t, rte_be16_t lport, rte_be32_t rip,
			    rte_be16_t rport)
{
	struct sock_key k = { .rip = rip, .lport = lport, .rport = rport };
	void *data;

	if (rte_hash_lookup_data(t->hash, &k, &data) >= 0)
		return data;
	return NULL;
}
