/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The counters, printed by the control thread (SIGUSR1, exit): the stats
 * segment's consistent copy, under the names pollnetctl and telemetry use
 * (statnames.c), one "name value" line each.
 */
#include <arpa/inet.h>
#include <inttypes.h>
#include <stdlib.h>

#include <rte_cycles.h>
#include <rte_pause.h>
#include <rte_ring.h>

#include "app.h"
#include "counters.h"
#include "sock_table.h"
#include "statnames.h"

#define LINE(f, name, v) fprintf(f, "  %-32s %" PRIu64 "\n", name, (uint64_t)(v))

static void
emit_line(void *arg, const char *name, uint64_t v, unsigned flags)
{
	(void)flags;
	LINE((FILE *)arg, name, v);
}

/* Wait (up to 10 ms) until every running lcore has published after now, so
 * that the report covers everything counted before it was asked for. */
static void
report_wait_lcores(const struct pn_stats_hdr *h)
{
	const struct pn_stats_lcore *lc = pn_stats_lcores(h);
	const uint64_t until = rte_get_tsc_cycles() + rte_get_tsc_hz() / 100;
	uint32_t seq0[64];
	uint32_t n = h->nb_lcores < 64 ? h->nb_lcores : 64;

	for (uint32_t i = 0; i < n; i++)
		seq0[i] = atomic_load_explicit(&lc[i].seq, memory_order_acquire);
	for (uint32_t i = 0; i < n; i++)
		while (atomic_load_explicit(&lc[i].seq, memory_order_acquire) - seq0[i] < 2 &&
		       rte_get_tsc_cycles() < until)
			rte_pause();
}

void
report_print(FILE *f, struct app *a)
{
	const struct pn_stats_hdr *h = a->seg.h;
	struct pn_stats_lcore *lc = calloc(h->nb_lcores, sizeof(*lc));
	struct pn_stats_hdr hc;
	struct pn_counters sum;

	if (!atomic_load(&a->stop))
		report_wait_lcores(h);
	statseg_publish(a);             /* the port and control, now */
	if (lc == NULL || pn_stats_snapshot(h, &hc, lc, &sum) < 0) {
		fprintf(f, "pollnet: no consistent copy of the counters\n");
		free(lc);
		return;
	}
	fprintf(f, "port %s (%s): link %s, %u Mbps\n", a->port->spec, a->port->driver,
		hc.port.link_up ? "up" : "down", hc.port.speed_mbps);
	pn_stats_emit(&hc, lc, &sum, emit_line, f);
	if (a->echo != NULL) {
		const struct pn_sock *s = a->echo;

		fprintf(f, "socket udp *:%u -> *:* (echo service, lcore %u)\n",
			ntohs(s->key.lport), s->owner);
		LINE(f, "sock.echo.rx_pkts", s->rx_pkts);
		LINE(f, "sock.echo.rx_bytes", s->rx_bytes);
		LINE(f, "sock.echo.rx_drops", s->rx_drops);
		LINE(f, "sock.echo.tx_pkts", s->tx_pkts);
		LINE(f, "sock.echo.tx_bytes", s->tx_bytes);
		LINE(f, "sock.echo.tx_drops", s->tx_drops);
		LINE(f, "sock.echo.queued", rte_ring_count(s->rx));
	}
	if (a->neigh.ask != NULL) {
		LINE(f, "neigh.learned", a->neigh.learned);
		LINE(f, "neigh.asked", a->neigh.asked);
		LINE(f, "neigh.notify_drops", a->neigh.notify_drops);
	}
	if (a->kl.resv != NULL) {
		LINE(f, "kernel_local.to_kernel", a->kl.to_kernel);
		LINE(f, "kernel_local.from_kernel", a->kl.from_kernel);
		LINE(f, "kernel_local.dropped", a->kl.dropped);
	}
	fprintf(f, "check rx_frames == rx_delivered + rx_answered + rx_dropped + rx_merged + "
		"rx_kernel: %s\n",
		sum.rx_frames == sum.rx_delivered + sum.rx_answered + stats_rx_dropped(&sum) +
		sum.rx_merged + sum.rx_kernel ?
		"ok" : "MISMATCH (frames in flight between lcores?)");
	free(lc);
}
