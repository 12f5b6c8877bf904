/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * pollnet: the data-plane process.
 *
 * The main lcore is the control thread: it sets everything up, launches one
 * run-to-completion loop per worker lcore (lcore.c), then prints --dump
 * lines and counters until SIGINT/SIGTERM, and tears down in order.
 */
#define _GNU_SOURCE /* memfd_create, file seals */
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <net/if.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include <bsd/string.h>
#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_launch.h>
#include <rte_lcore.h>
#include <rte_malloc.h>
#include <rte_mbuf.h>
#include <rte_ring.h>

#include "app.h"
#include "exc.h"
#include "ctl.h"
#include "options.h"
#include "capture.h"
#include "mcast.h"
#include "sock_table.h"
#include "statseg.h"
#include "abi/pn_control.h"
#include "abi/pn_region.h"

#ifndef F_SEAL_FUTURE_WRITE
#define F_SEAL_FUTURE_WRITE 0x0010      /* Linux 5.1 */
#endif

_Static_assert(SOCK_TABLE_MAX_LCORES <= PN_MAX_LCORES, "a doze word per lcore");

static volatile sig_atomic_t got_stop, got_report;

static void
on_signal(int sig)
{
	if (sig == SIGUSR1)
		got_report = 1;
	else
		got_stop = 1;
}

static void
install_signals(void)
{
	struct sigaction sa = { .sa_handler = on_signal };

	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGUSR1, &sa, NULL);
}

static void __rte_format_printf(1, 2)
fail(const char *fmt, ...)
{
	va_list ap;

	fputs("pollnet: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

static struct pn_sock *
echo_open(struct app *a, uint16_t port)
{
	struct pn_sock *s = rte_zmalloc("pn_echo", sizeof(*s), RTE_CACHE_LINE_SIZE);
	int rc;

	if (s == NULL)
		return NULL;
	s->key.lport = htons(port);
	s->kind = SOCK_ECHO;
	s->id = a->cfg->max_sockets;    /* its entry in the stats segment, after the clients' */
	s->owner = 0;                   /* the first data-plane lcore runs it */
	s->pid = (int32_t)getpid();     /* it runs in pollnet's own process */
	s->rx = rte_ring_create("pn_echo_rx", a->cfg->sock_ring, SOCKET_ID_ANY,
				RING_F_SP_ENQ | RING_F_SC_DEQ);
	if (s->rx == NULL) {
		rte_free(s);
		return NULL;
	}
	rc = app_udp_hold(a, port, 1);      /* (beside the kernel: its port too) */
	if (rc == 0)
		rc = sock_table_add(a->socks, s);
	if (rc < 0) {
		fail("echo socket on port %u: %s", port, strerror(-rc));
		rte_ring_free(s->rx);
		rte_free(s);
		return NULL;
	}
	return s;
}

static void
sock_close(struct app *a, struct pn_sock *s)
{
	struct rte_mbuf *m = NULL;

	sock_table_remove(a->socks, s);
	app_udp_hold(a, ntohs(s->key.lport), 0);
	while (rte_ring_dequeue(s->rx, (void **)&m) == 0)
		rte_pktmbuf_free(m);
	rte_ring_free(s->rx);
	rte_free(s);
}

/* --dump: the frames the lcores logged since the last call, decoded from
 * the stats segment the way pollnetctl tail decodes them. */
static void
print_logs(struct app *a, uint64_t *pos)
{
	const struct pn_stats_hdr *h = a->seg.h;
	struct pn_stats_clock clk;
	struct pn_log_rec r;
	struct pkt_summary ps;
	char line[320];

	if (pn_stats_clock_read(h, &clk) < 0)
		return;
	for (uint16_t i = 0; i < a->nb_lcores; i++) {
		const struct pn_stats_log *l = pn_stats_log(h, i);
		uint64_t head = atomic_load_explicit(&l->head, memory_order_acquire);

		if (head - pos[i] > h->log_size) {
			printf("(lcore %u: %" PRIu64 " frames overwritten before they were printed)\n",
			       i, head - pos[i] - h->log_size);
			pos[i] = head - h->log_size;
		}
		for (; pos[i] < head; pos[i]++) {
			if (pn_log_read(l, h->log_size, pos[i], &r) < 0)
				continue;
			pkt_summarize(&ps, r.hdr, r.caplen, r.len, r.dir, r.ts);
			pkt_summary_format(&ps, line, sizeof(line));
			printf("%12.6f %s\n", (double)(pn_clock_ns(&clk, r.ts) - h->realtime0_ns) / 1e9,
			       line);
		}
	}
	fflush(stdout);
}

/* pollnet's interface as its clients' programs see it (abi/pn_region.h,
 * Interface): net_af_packet's kernel interface, whose index the kernel
 * knows, or pn0. */
static void
iface_fill(struct app *a, struct pn_shm_iface *i)
{
	const char *spec = a->port->spec, *at = strstr(spec, "iface=");
	size_t n;

	strlcpy(i->name, "pn0", sizeof(i->name));
	if (a->exc != NULL) {
		/* the kernel's interface with pollnet's address: the exception path's */
		strlcpy(i->name, a->cfg->exc_iface, sizeof(i->name));
	} else if (strstr(spec, "net_af_packet") != NULL && at != NULL) {
		at += strlen("iface=");
		n = strcspn(at, ",");
		if (n > 0 && n < sizeof(i->name)) {
			memcpy(i->name, at, n);
			i->name[n] = '\0';
		}
	}
	i->index = if_nametoindex(i->name);
	i->addr = a->sconf.ip;
	i->netmask = a->sconf.netmask;
	i->gateway = a->sconf.gateway;
	i->mtu = a->sconf.mtu;
	memcpy(i->mac, a->sconf.mac.addr_bytes, sizeof(i->mac));
}

/* neigh_learn_fn: the kernel's mapping for every lcore's ARP cache. */
static void
neigh_learned(void *arg, rte_be32_t ip, const struct rte_ether_addr *mac)
{
	struct app *a = arg;
	const uint64_t one = 1;

	a->neigh.notify_drops += lcore_arp_tell(a->lc, a->nb_lcores, -1, ip, mac);
	if ((a->state->flags & PN_STATE_DOZE) && write(a->bell, &one, sizeof(one)) < 0)
		return;                 /* full: they are awake already */
}

/* A port beside the kernel (xdp:): its address, network, gateway and MTU
 * are the kernel's, and the kernel resolves neighbours.  A config that
 * says otherwise is an error, not a second address. */
static int
kernel_settings(struct app *a, const struct pn_config *cfg)
{
	const struct port_kernel *k = &a->port->kernel;
	char ip[INET_ADDRSTRLEN], want[INET_ADDRSTRLEN];

	inet_ntop(AF_INET, &k->ip, ip, sizeof(ip));
	if (cfg->ip != 0 && cfg->ip != k->ip) {
		inet_ntop(AF_INET, &cfg->ip, want, sizeof(want));
		fail("%s: %s, but %s's address is the kernel's, %s: drop the address "
		     "from the config", cfg->ip_from[0] ? cfg->ip_from : "ipv4.address", want,
		     cfg->port, ip);
		return -EINVAL;
	}
	if (cfg->exc_iface[0] != '\0') {
		fail("port.exception = %s: on %s the kernel has the interface already "
		     "(set port.exception = none)", cfg->exc_iface, cfg->port);
		return -EINVAL;
	}
	a->sconf.ip = k->ip;
	a->sconf.netmask = k->netmask;
	if (cfg->gateway == 0)
		a->sconf.gateway = k->gateway;
	if (k->mtu != 0 && k->mtu < a->sconf.mtu)
		a->sconf.mtu = k->mtu;
	return neigh_open(&a->neigh, k->ifindex, neigh_learned, a);
}

/* The state page every client session maps (sealed: read-only to them)
 * and the doorbell (abi/pn_region.h). */
static int
state_create(struct app *a)
{
	a->bell = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	a->state_fd = memfd_create("pollnet-state", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	if (a->bell < 0 || a->state_fd < 0 || ftruncate(a->state_fd, PN_STATE_SIZE) < 0)
		return -errno;
	a->state = mmap(NULL, PN_STATE_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, a->state_fd, 0);
	if (a->state == MAP_FAILED) {
		a->state = NULL;
		return -errno;
	}
	a->state->magic = PN_STATE_MAGIC;
	a->state->version = PN_SHM_VERSION;
	a->state->nb_lcores = a->nb_lcores;
	if (a->cfg->idle == PN_IDLE_INTERRUPT && a->cfg->idle_sleep_us != 0)
		a->state->flags = PN_STATE_DOZE;
	iface_fill(a, &a->state->iface);
	/* our mapping stays writable; no one else's can be */
	if (fcntl(a->state_fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW |
		  F_SEAL_FUTURE_WRITE | F_SEAL_SEAL) < 0)
		return -errno;
	return 0;
}

static void
state_destroy(struct app *a)
{
	if (a->state != NULL)
		munmap(a->state, PN_STATE_SIZE);
	if (a->state_fd >= 0)
		close(a->state_fd);
	if (a->bell >= 0)
		close(a->bell);
}

static int
setup_lcores(struct app *a)
{
	char name[RTE_RING_NAMESIZE];
	unsigned id, i = 0;

	a->lc = rte_zmalloc("pn_lcores", sizeof(a->lc[0]) * a->nb_lcores,
			    RTE_CACHE_LINE_SIZE);
	if (a->lc == NULL)
		return -ENOMEM;
	if (a->nb_lcores > 1) {
		a->steer = rte_zmalloc("pn_steer", sizeof(a->steer[0]) * a->nb_lcores, 0);
		if (a->steer == NULL)
			return -ENOMEM;
	}
	RTE_LCORE_FOREACH_WORKER(id) {
		struct lcore_ctx *lc = &a->lc[i];

		stack_init(&lc->st, &a->sconf, a->pool, a->socks, i);
		lc->st.pool_indirect = a->pool_indirect;
		lc->st.mc = a->mc->t;
		lc->ctl_tx = i == 0 ? a->mc->tx : NULL;
		lc->st.steer = a->steer;
		lc->port = a->port;
		lc->exc = a->exc;
		lc->queue = i;
		lc->idx = i;
		lc->nb_lcores = a->nb_lcores;
		lc->lcore_id = id;
		lc->peers = a->lc;
		lc->stop = &a->stop;
		lc->bell = a->bell;
		lc->doze = &a->state->doze[i];
		lc->doze_all = a->state->doze;
		lc->neigh = a->neigh.ask != NULL ? &a->neigh : NULL;
		lc->kl = a->kl.resv != NULL ? &a->kl : NULL;
		lc->kl_in = i == 0 && lc->kl != NULL ? a->kl.in : NULL;
		if (a->nb_lcores > 1) {
			snprintf(name, sizeof(name), "pn_steer%u", i);
			a->steer[i] = rte_ring_create_elem(name, sizeof(struct steer_item),
					1024, rte_lcore_to_socket_id(id), RING_F_SC_DEQ);
			if (a->steer[i] == NULL)
				return -ENOMEM;
		}
		if (a->nb_lcores > 1 || lc->neigh != NULL) {
			snprintf(name, sizeof(name), "pn_arpn%u", i);
			lc->arp_notify = rte_ring_create_elem(name, 12, 256,
					rte_lcore_to_socket_id(id), RING_F_SC_DEQ);
			if (lc->arp_notify == NULL)
				return -ENOMEM;
		}
		i++;
	}
	return 0;
}

static void
teardown_lcores(struct app *a)
{
	struct steer_item it;

	for (uint16_t i = 0; a->lc != NULL && i < a->nb_lcores; i++) {
		stack_release(&a->lc[i].st);
		if (a->steer != NULL && a->steer[i] != NULL) {
			while (rte_ring_dequeue_elem(a->steer[i], &it, sizeof(it)) == 0)
				rte_pktmbuf_free(it.m);
			rte_ring_free(a->steer[i]);
		}
		rte_ring_free(a->lc[i].arp_notify);
	}
	rte_free(a->steer);
	rte_free(a->lc);
}

/* Each socket holds two descriptors (its wake pairs' ends), each session
 * one: raise the soft limit as far as the hard one, and say so if
 * sockets.max may not fit. */
static void
raise_nofile(uint32_t max_sockets)
{
	const rlim_t need = 2 * (rlim_t)max_sockets + CTL_MAX_CLIENTS + 64;
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) < 0)
		return;
	if (rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
	if (rl.rlim_cur < need)
		fprintf(stderr, "pollnet: RLIMIT_NOFILE is %llu; sockets.max = %u may need %llu "
			"descriptors: beyond, a new socket is refused with EMFILE\n",
			(unsigned long long)rl.rlim_cur, max_sockets, (unsigned long long)need);
}

int
main(int argc, char **argv)
{
	struct pn_options o;
	struct app a = { .seg.fd = -1, .bell = -1, .state_fd = -1,
			 .neigh = { .ev_fd = -1, .req_fd = -1, .bell = -1 },
			 .kl = { .ep = -1, .bell = -1 } };
	static struct ctl ctl;
	char err[512], ipbuf[INET_ADDRSTRLEN], macbuf[RTE_ETHER_ADDR_FMT_SIZE];
	int rc, status = 1;
	unsigned id, i;
	uint64_t next_pub, *dump_pos = NULL;

	rc = options_parse(argc, argv, &o);
	if (rc == OPTIONS_EXIT)
		return 0;
	if (rc == OPTIONS_ERROR)
		return 2;
	a.cfg = &o.cfg;
	atomic_init(&a.stop, false);

	if (rte_eal_init(o.eal_argc, o.eal_argv) < 0) {
		fail("EAL initialisation failed: %s (hugepages mounted and reserved? "
		     "running as root?)", rte_strerror(rte_errno));
		options_free(&o);
		return 1;
	}
	install_signals();

	if (rte_lcore_count() < 2) {
		fail("need at least two lcores: the control thread and one data-plane "
		     "lcore (e.g. EAL option -l 0-1)");
		goto out_eal;
	}
	a.nb_lcores = rte_lcore_count() - 1;
	if (a.nb_lcores > SOCK_TABLE_MAX_LCORES) {
		fail("at most %u data-plane lcores", SOCK_TABLE_MAX_LCORES);
		goto out_eal;
	}

	a.pool = rte_pktmbuf_pool_create("pn_pool", o.cfg.pool_size,
					 RTE_MIN(256u, o.cfg.pool_size / 8), 0,
					 RTE_MBUF_DEFAULT_BUF_SIZE, rte_socket_id());
	if (a.pool == NULL) {
		fail("cannot create a pool of %u mbufs: %s", o.cfg.pool_size,
		     rte_strerror(rte_errno));
		goto out_eal;
	}
	/* as many as the pool has: a fragment's payload is at most two */
	a.pool_indirect = rte_pktmbuf_pool_create("pn_indirect", o.cfg.pool_size,
						  RTE_MIN(256u, o.cfg.pool_size / 8), 0, 0,
						  rte_socket_id());
	if (a.pool_indirect == NULL) {
		fail("cannot create a pool of %u indirect mbufs: %s", o.cfg.pool_size,
		     rte_strerror(rte_errno));
		goto out_pool;
	}

	struct port_conf pc = {
		.nb_queues = a.nb_lcores,
		.rx_intr = o.cfg.idle == PN_IDLE_INTERRUPT && o.cfg.idle_sleep_us != 0,
		.rx_desc = o.cfg.rx_desc,
		.tx_desc = o.cfg.tx_desc,
		.pool = a.pool,
		.mac = o.cfg.mac_set ? &o.cfg.mac : NULL,
		.tx_offload = o.cfg.tx_offload,
	};
	rc = port_open(o.cfg.port, &pc, &a.port, err, sizeof(err));
	if (rc < 0) {
		fail("%s", err);
		goto out_pool;
	}

	a.sconf = (struct stack_conf){
		.ip = o.cfg.ip,
		.netmask = htonl(o.cfg.prefix ? ~0u << (32 - o.cfg.prefix) : 0),
		.gateway = o.cfg.gateway,
		.mac = a.port->mac,
		.mtu = RTE_ETHER_MTU,
		.arp_timeout_ms = o.cfg.arp_timeout_s * 1000u,
		.arp_retry_ms = 1000,
		.arp_retries = 3,
		.frag_time_ms = o.cfg.ipfrag_time_s * 1000u,
		.frag_flows = o.cfg.ipfrag_flows,
		.frag_fragments = o.cfg.ipfrag_fragments,
		.frag_held = o.cfg.ipfrag_held,
		.tx_offload = a.port->tx_offload,
		.wake_batch = o.cfg.wake_batch,
		.wake_delay_us = o.cfg.wake_delay_us,
		.idle = o.cfg.idle_sleep_us == 0 ? PN_IDLE_POLL : o.cfg.idle,
		.idle_after_us = o.cfg.idle_after_us,
		.idle_sleep_us = o.cfg.idle_sleep_us,
		.nap_first_us = o.cfg.nap_first_us,
		.moderation_us = o.cfg.moderation_us,
	};
	if (a.port->kernel.ip != 0) {
		rc = kernel_settings(&a, &o.cfg);
		if (rc < 0) {
			if (rc != -EINVAL)
				fail("cannot read the kernel's neighbour table: %s", strerror(-rc));
			goto out_port;
		}
	}
	rc = exc_open(&a, err, sizeof(err));
	if (rc < 0) {
		fail("%s", err);
		goto out_port;
	}
	if (kernel_local_open(&a) < 0) {
		fail("out of memory for the kernel's local datagrams");
		goto out_port;
	}
	a.sconf.exception = a.exc != NULL;
	a.sconf.exc_udp = a.exc != NULL && o.cfg.exc_udp;
	a.socks = sock_table_create("pn_socks", o.cfg.max_sockets, a.nb_lcores);
	if (a.socks == NULL) {
		fail("cannot create the socket table");
		goto out_port;
	}
	rc = state_create(&a);
	if (rc < 0) {
		fail("cannot create the clients' state page and doorbell: %s", strerror(-rc));
		goto out_lcores;
	}
	a.mc = calloc(1, sizeof(*a.mc));
	if (a.mc == NULL || mcast_init(a.mc, &a.sconf, a.pool, a.port, a.bell) < 0) {
		fail("out of memory for the multicast groups");
		goto out_lcores;
	}
	if (setup_lcores(&a) < 0) {
		fail("out of memory setting up lcores");
		goto out_lcores;
	}
	if (o.cfg.echo_port != 0) {
		a.echo = echo_open(&a, o.cfg.echo_port);
		if (a.echo == NULL)
			goto out_lcores;
	}

	raise_nofile(o.cfg.max_sockets);
	if (ctl_open(&ctl, &a, err, sizeof(err)) < 0) {
		fail("%s", err);
		goto out_lcores;
	}
	a.ctl = &ctl;
	if (o.dump)
		o.cfg.summaries = true;         /* --dump prints them */
	if (statseg_create(&a.seg, &a, err, sizeof(err)) < 0) {
		fail("%s", err);
		goto out_lcores;
	}
	for (i = 0; i < a.nb_lcores; i++) {
		a.lc[i].pub = &pn_stats_lcores(a.seg.h)[i];
		a.lc[i].log = o.cfg.summaries ? pn_stats_log(a.seg.h, i) : NULL;
	}
	dump_pos = calloc(a.nb_lcores, sizeof(*dump_pos));
	if (dump_pos == NULL) {
		fail("out of memory");
		goto out_lcores;
	}
	statseg_publish(&a);
	telemetry_register(&a);

	inet_ntop(AF_INET, &a.sconf.ip, ipbuf, sizeof(ipbuf));
	rte_ether_format_addr(macbuf, sizeof(macbuf), &a.port->mac);
	printf("pollnet: port %s (%s), mac %s%s, ip %s/%u, %u data-plane lcore%s, ",
	       a.port->spec, a.port->driver, macbuf,
	       a.port->mac_soft ? " (in software; the device is promiscuous)" : "",
	       ipbuf, (unsigned)__builtin_popcount(a.sconf.netmask),
	       a.nb_lcores, a.nb_lcores > 1 ? "s" : "");
	printf("tx checksums %s, ", a.port->tx_offload & PORT_TX_CKSUM ? "by the port" : "in software");
	if (a.echo != NULL)
		printf("udp echo on port %u, ", o.cfg.echo_port);
	else
		printf("no echo service, ");
	if (a.exc != NULL)
		printf("the kernel's %s beside it (%s), ", o.cfg.exc_iface, a.exc->driver);
	if (a.neigh.ask != NULL)
		printf("beside the kernel on its interface (its address, ARP, neighbours), ");
	printf("clients at %s\n", ctl.path);
	fflush(stdout);

	i = 0;
	RTE_LCORE_FOREACH_WORKER(id) {
		rte_eal_remote_launch(lcore_main, &a.lc[i], id);
		i++;
	}

	next_pub = rte_get_tsc_cycles();
	while (!got_stop) {
		uint64_t now;

		ctl_poll(&ctl, 10);
		if (a.neigh.ask != NULL)
			neigh_poll(&a.neigh);
		kernel_local_poll(&a);
		mcast_tick(a.mc, mcast_now_ms());
		if (o.dump)
			print_logs(&a, dump_pos);
		now = rte_get_tsc_cycles();
		if (now >= next_pub) {
			statseg_publish(&a);
			next_pub = now + rte_get_tsc_hz() / 1000 * PN_STATS_CTL_MS;
		}
		if (got_report) {
			got_report = 0;
			report_print(stdout, &a);
			fflush(stdout);
		}
	}

	atomic_store(&a.stop, true);
	{
		const uint64_t one = 1;

		if (write(a.bell, &one, sizeof(one)) < 0)       /* dozing lcores */
			fail("cannot ring the doorbell: %s", strerror(errno));
	}
	rte_eal_mp_wait_lcore();
	if (o.dump)
		print_logs(&a, dump_pos);
	statseg_publish(&a);
	printf("pollnet: stopping\n");

	report_print(stdout, &a);
	status = 0;

out_lcores:
	if (a.ctl != NULL)
		ctl_close(a.ctl);       /* lcores are stopped: no grace periods to wait */
	capture_stop(&a);
	free(dump_pos);
	if (a.echo != NULL)
		sock_close(&a, a.echo);
	teardown_lcores(&a);
	if (a.mc != NULL) {
		mcast_free(a.mc);
		free(a.mc);
	}
	state_destroy(&a);
	sock_table_free(a.socks);
out_port:
	neigh_close(&a.neigh);          /* lcores are stopped: no more asks */
	kernel_local_close(&a);
	exc_close(&a);
	port_close(a.port);
out_pool:
	if (a.pool != NULL) {
		printf("  %-32s %u\n", "pool.in_use", rte_mempool_in_use_count(a.pool));
		rte_mempool_free(a.pool);
	}
	rte_mempool_free(a.pool_indirect);
out_eal:
	fflush(stdout);
	rte_eal_cleanup();
	statseg_destroy(&a.seg);        /* after EAL's telemetry thread, its reader */
	options_free(&o);
	return status;
}
