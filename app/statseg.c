/* SPDX-License-Identifier: BSD-3-Clause */
/* The app's side of the stats segment (abi/pn_stats.h): create it, publish what
 * the control thread owns, remove it at exit. */
#define _GNU_SOURCE
#include "app_stats.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <net/if.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <bsd/string.h>
#include <rte_cycles.h>
#include <rte_mempool.h>

#include "app.h"
#include "ctl.h"
#include "mcast.h"
#include "abi/pn_control.h"
#include "abi/pn_region.h"
#include "sock_table.h"

static int64_t
clock_ns(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* A TSC value and a clock read at the same moment: the TSC read on each
 * side of the clock's, their midpoint; of a few tries, the one with the
 * narrowest sides (a try the thread was preempted in is off by the
 * preemption). */
static uint64_t
tsc_with(clockid_t id, int64_t *ns)
{
	uint64_t best = 0, width = UINT64_MAX;

	for (int i = 0; i < 8; i++) {
		uint64_t t1 = rte_get_tsc_cycles(), t2;
		int64_t v = clock_ns(id);

		t2 = rte_get_tsc_cycles();
		if (t2 - t1 < width) {
			width = t2 - t1;
			best = t1 + (t2 - t1) / 2;
			*ns = v;
		}
	}
	return best;
}

/* A new anchor for the readers' clock (abi/pn_stats.h, struct pn_stats_clock):
 * the rate from CLOCK_MONOTONIC since the start (NTP's slewing included,
 * its steps not), the offset from CLOCK_REALTIME now. */
static void
clock_anchor(struct statseg *s, struct pn_stats_clock *c)
{
	int64_t mono, real;
	uint64_t tm = tsc_with(CLOCK_MONOTONIC, &mono);
	uint64_t tr = tsc_with(CLOCK_REALTIME, &real);

	if (mono - s->mono_start_ns > 100000000)       /* 0.1 s: a measurable rate */
		c->hz = (double)(tm - s->tsc_start) * 1e9 / (double)(mono - s->mono_start_ns);
	else
		c->hz = (double)rte_get_tsc_hz();
	c->tsc = tr;
	c->realtime_ns = real;
}

int
statseg_create(struct statseg *s, struct app *a, char *err, size_t errlen)
{
	const struct pn_config *cfg = a->cfg;
	struct pn_stats_hdr geo = { 0 };
	struct pn_stats_hdr *h;
	char dir[sizeof(s->path)], *slash;
	uint64_t size;

	s->fd = -1;
	s->h = NULL;
	strlcpy(s->path, cfg->stats_path, sizeof(s->path));
	strlcpy(dir, s->path, sizeof(dir));
	slash = strrchr(dir, '/');
	if (slash != NULL && slash != dir) {
		*slash = '\0';
		mkdir(dir, 0755);       /* one level, like the control socket's */
	}
	s->fd = open(s->path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	if (s->fd < 0)
		goto fail;
	/* Held while we run: readers tell a live segment from a stale one. */
	if (flock(s->fd, LOCK_EX | LOCK_NB) < 0) {
		if (errno == EWOULDBLOCK)
			snprintf(err, errlen, "stats segment %s: another pollnet is using it",
				 s->path);
		else
			snprintf(err, errlen, "stats segment %s: %s", s->path, strerror(errno));
		close(s->fd);
		s->fd = -1;
		return -1;
	}
	/* +1: the echo service's entry after the clients' */
	size = pn_stats_layout(&geo, a->nb_lcores, cfg->max_sockets + 1);
	if (ftruncate(s->fd, 0) < 0 || ftruncate(s->fd, (off_t)size) < 0 ||
	    fchmod(s->fd, 0644) < 0)
		goto fail;
	h = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, s->fd, 0);
	if (h == MAP_FAILED)
		goto fail;
	s->h = h;
	s->size = size;
	memcpy(h, &geo, sizeof(geo));       /* zero magic until the end */
	h->version = PN_STATS_VERSION;
	h->pid = (int32_t)getpid();
	h->ip = a->sconf.ip;
	memcpy(h->mac, a->sconf.mac.addr_bytes, 6);
	h->prefix = cfg->prefix;
	h->summaries = cfg->summaries;
	h->tsc_hz = rte_get_tsc_hz();
	h->tsc0 = tsc_with(CLOCK_REALTIME, &h->realtime0_ns);
	s->tsc_start = tsc_with(CLOCK_MONOTONIC, &s->mono_start_ns);
	clock_anchor(s, &h->clock);
	strlcpy(h->port_spec, a->port->spec, sizeof(h->port_spec));
	strlcpy(h->driver, a->port->driver, sizeof(h->driver));
	strlcpy(h->ctl_path, cfg->ctl_path, sizeof(h->ctl_path));
	if (a->exc != NULL) {
		strlcpy(h->exc_iface, cfg->exc_iface, sizeof(h->exc_iface));
		h->exc_udp = cfg->exc_udp;
	} else if (a->port->kernel.ip != 0) {
		/* beside the kernel on its interface (xdp:): the rest is its */
		if_indextoname((unsigned)a->port->kernel.ifindex, h->exc_iface);
		h->exc_udp = 1;
	}
	for (uint32_t i = 0; i < a->nb_lcores; i++)
		pn_stats_lcores(h)[i].lcore_id = a->lc[i].lcore_id;
	atomic_thread_fence(memory_order_release);
	memcpy(h->magic, PN_STATS_MAGIC, sizeof(h->magic));
	return 0;
fail:
	snprintf(err, errlen, "stats segment %s: %s", s->path, strerror(errno));
	if (s->fd >= 0) {
		close(s->fd);
		unlink(s->path);
	}
	s->fd = -1;
	return -1;
}

void
statseg_destroy(struct statseg *s)
{
	if (s->fd < 0)
		return;
	unlink(s->path);        /* while still holding the lock */
	if (s->h != NULL)
		munmap(s->h, s->size);
	close(s->fd);
	s->fd = -1;
	s->h = NULL;
}

/* pid: sk's owner process, the client's (pollnet's own for the echo
 * service, main.c's echo_open) */
static void
publish_sock(struct pn_stats_sock *e, const struct pn_sock *sk, uint8_t kind,
	     uint32_t ip, int preload)
{
	pn_seq_begin(&e->seq);
	e->kind = kind;
	e->preload = (uint8_t)(preload != 0);
	e->id = sk->id;
	e->lcore = sk->owner;
	e->pid = sk->pid;
	e->laddr = ip;
	e->lport = ntohs(sk->key.lport);
	e->raddr = sk->key.rip;
	e->rport = ntohs(sk->key.rport);
	e->connected = sk->key.rip != 0;
	/* the owner lcore writes these; a read of each is whole on 64-bit */
	e->rx_pkts = __atomic_load_n(&sk->rx_pkts, __ATOMIC_RELAXED);
	e->rx_bytes = __atomic_load_n(&sk->rx_bytes, __ATOMIC_RELAXED);
	e->rx_drops = __atomic_load_n(&sk->rx_drops, __ATOMIC_RELAXED);
	e->tx_pkts = __atomic_load_n(&sk->tx_pkts, __ATOMIC_RELAXED);
	e->tx_bytes = __atomic_load_n(&sk->tx_bytes, __ATOMIC_RELAXED);
	e->tx_drops = __atomic_load_n(&sk->tx_drops, __ATOMIC_RELAXED);
	if (kind == PN_SOCK_CLIENT) {
		const struct pn_shm_ctl *c = pn_shm_ctl(sk->region);
		/* positions the client writes: clamp what it may have scribbled */
		uint32_t rxq = __atomic_load_n(&sk->rx_head, __ATOMIC_RELAXED) -
			atomic_load_explicit(&c->rx_tail.v, memory_order_relaxed);
		uint32_t txq = atomic_load_explicit(&c->tx_head.v, memory_order_relaxed) -
			__atomic_load_n(&sk->tx_tail, __ATOMIC_RELAXED);

		e->rx_size = sk->geo.rx_size;
		e->tx_size = sk->geo.tx_size;
		e->rx_queued = rxq <= e->rx_size ? rxq : e->rx_size;
		e->tx_queued = txq <= e->tx_size ? txq : e->tx_size;
		/* the client's own words: shown, never trusted */
		e->refused = atomic_load_explicit(&c->client.refused, memory_order_relaxed);
		for (size_t i = 0; i < sizeof(e->last_refused); i++) {
			char ch = i + 1 < sizeof(e->last_refused) ?
				  __atomic_load_n(&c->client.last_refused[i], __ATOMIC_RELAXED) : 0;

			if (ch != 0 && (ch < 0x20 || ch > 0x7e || ch == '"' || ch == '\\'))
				ch = '?';
			e->last_refused[i] = ch;
			if (ch == 0) {
				memset(e->last_refused + i, 0, sizeof(e->last_refused) - i);
				break;
			}
		}
	} else {
		e->refused = 0;
		e->last_refused[0] = 0;
		e->rx_size = rte_ring_get_capacity(sk->rx);
		e->rx_queued = rte_ring_count(sk->rx);
		e->tx_size = e->tx_queued = 0;
	}
	pn_seq_end(&e->seq);
}

static void
publish_free(struct pn_stats_sock *e)
{
	if (e->kind == PN_SOCK_FREE)
		return;
	pn_seq_begin(&e->seq);
	e->kind = PN_SOCK_FREE;
	pn_seq_end(&e->seq);
}

void
statseg_publish(struct app *a)
{
	struct statseg *s = &a->seg;
	struct pn_stats_hdr *h = s->h;
	struct port_stats ps = { 0 };
	struct port_link link = { 0 };
	struct pn_stats_sock *socks;
	int have_ps, have_link;

	if (h == NULL)
		return;
	have_ps = port_stats(a->port, &ps) == 0;
	have_link = port_link(a->port, &link) == 0;
	pn_seq_begin(&h->seq);
	h->port = (struct pn_stats_port){
		.rx_packets = ps.rx_packets, .rx_bytes = ps.rx_bytes,
		.rx_missed = ps.rx_missed, .rx_held = ps.rx_held, .rx_errors = ps.rx_errors,
		.rx_nombuf = ps.rx_nombuf, .tx_packets = ps.tx_packets,
		.tx_bytes = ps.tx_bytes, .tx_errors = ps.tx_errors,
		.drv_bursts = ps.drv_bursts, .drv_empty_polls = ps.drv_empty_polls,
		.drv_rx_tail_writes = ps.drv_rx_tail_writes,
		.drv_tx_tail_writes = ps.drv_tx_tail_writes,
		.xdp_pollnet = ps.xdp_pollnet, .xdp_passed = ps.xdp_passed,
		.has_stats = (uint32_t)have_ps, .has_drv = (uint32_t)ps.has_drv,
		.has_xdp = (uint32_t)ps.has_xdp,
		.link_up = have_link && link.up, .speed_mbps = link.speed_mbps,
	};
	if (a->exc != NULL && port_stats(a->exc, &ps) == 0)
		h->exc_port = (struct pn_stats_port){
			.rx_packets = ps.rx_packets, .rx_bytes = ps.rx_bytes,
			.rx_errors = ps.rx_errors, .rx_nombuf = ps.rx_nombuf,
			.tx_packets = ps.tx_packets, .tx_bytes = ps.tx_bytes,
			.tx_errors = ps.tx_errors, .has_stats = 1,
		};
	h->ctl.clients = a->ctl != NULL ? a->ctl->nclients : 0;
	h->ctl.sockets = a->ctl != NULL ? a->ctl->open : 0;
	h->ctl.refused = 0;
	for (int r = 0; r < PN_REFUSED_MAX; r++) {
		h->ctl.refused_by[r] = a->ctl != NULL ? a->ctl->refused[r] : 0;
		h->ctl.refused += h->ctl.refused_by[r];
	}
	h->ctl.pool_size = a->pool->size;
	h->ctl.pool_in_use = rte_mempool_in_use_count(a->pool);
	h->ctl.hangups = a->ctl != NULL ? a->ctl->hangups : 0;
	h->ctl.captures = a->captures;
	h->ctl.capture_active = a->cap != NULL;
	clock_anchor(s, &h->clock);
	if (a->state != NULL)           /* the clients' receive timestamps */
		pn_shm_clock_write(&a->state->clock, h->clock.tsc, h->clock.realtime_ns,
				   h->clock.hz);
	h->ctl.uptime_ns = (uint64_t)((double)(rte_get_tsc_cycles() - h->tsc0) * 1e9 / h->clock.hz);
	if (a->mc != NULL)
		mcast_publish_stats(a->mc, &h->mcast);
	pn_seq_end(&h->seq);

	socks = pn_stats_socks(h);
	for (uint32_t id = 0; a->ctl != NULL && id < a->ctl->max; id++) {
		const struct ctl_sock *cs = &a->ctl->socks[id];

		if (cs->s == NULL)
			publish_free(&socks[id]);
		else
			publish_sock(&socks[id], cs->s, PN_SOCK_CLIENT,
				     cs->in_table ? a->sconf.ip : 0, cs->preload);
	}
	if (a->echo != NULL)
		publish_sock(&socks[h->nb_socks - 1], a->echo, PN_SOCK_ECHO, a->sconf.ip, 0);
}
