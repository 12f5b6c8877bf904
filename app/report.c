/* SPDX-License-Identifier: BSD-3-Clause */
/* The counters, printed by the control thread: summed over lcores. */
#include <arpa/inet.h>
#include <inttypes.h>

#include <rte_mempool.h>
#include <rte_ring.h>

#include "app.h"
#include "ctl.h"
#include "sock_table.h"

#define LINE(f, name, v) fprintf(f, "  %-32s %" PRIu64 "\n", name, (uint64_t)(v))

void
report_print(FILE *f, struct app *a, const struct port_stats *ps, int have_port_stats)
{
	struct stack_stats sum = { 0 };
	struct port_link link = { 0 };
	char name[64];
	uint64_t dropped;

	for (uint16_t i = 0; i < a->nb_lcores; i++)
		stats_add(&sum, &a->lc[i].st.stats);

	if (a->port != NULL && port_link(a->port, &link) == 0)
		fprintf(f, "port %s (%s): link %s, %u Mbps\n", a->port->spec,
			a->port->driver, link.up ? "up" : "down", link.speed_mbps);
	if (have_port_stats) {
		LINE(f, "port.rx_packets", ps->rx_packets);
		LINE(f, "port.rx_bytes", ps->rx_bytes);
		LINE(f, "port.rx_missed", ps->rx_missed);
		LINE(f, "port.rx_errors", ps->rx_errors);
		LINE(f, "port.rx_nombuf", ps->rx_nombuf);
		LINE(f, "port.tx_packets", ps->tx_packets);
		LINE(f, "port.tx_bytes", ps->tx_bytes);
		LINE(f, "port.tx_errors", ps->tx_errors);
		if (ps->has_drv) {
			LINE(f, "port.drv_bursts", ps->drv_bursts);
			LINE(f, "port.drv_empty_polls", ps->drv_empty_polls);
			LINE(f, "port.drv_rx_tail_writes", ps->drv_rx_tail_writes);
			LINE(f, "port.drv_tx_tail_writes", ps->drv_tx_tail_writes);
		}
	}

	fprintf(f, "stack (sum of %u lcore%s)\n", a->nb_lcores, a->nb_lcores > 1 ? "s" : "");
	dropped = stats_rx_dropped(&sum);
	LINE(f, "stack.rx_frames", sum.rx_frames);
	LINE(f, "stack.rx_bytes", sum.rx_bytes);
	LINE(f, "stack.rx_delivered", sum.rx_delivered);
	LINE(f, "stack.rx_answered", sum.rx_answered);
	LINE(f, "stack.rx_dropped", dropped);
	for (int r = 0; r < PN_RX_DROP_MAX; r++) {
		snprintf(name, sizeof(name), "stack.rx_drop.%s", pn_rx_drop_names[r]);
		LINE(f, name, sum.rx_drop[r]);
	}
	LINE(f, "stack.rx_steered", sum.rx_steered);
	LINE(f, "stack.udp_delivered", sum.udp_delivered);
	LINE(f, "stack.arp_requests_in", sum.arp_requests_in);
	LINE(f, "stack.arp_replies_in", sum.arp_replies_in);
	LINE(f, "stack.arp_requests_out", sum.arp_requests_out);
	LINE(f, "stack.arp_learned", sum.arp_learned);
	LINE(f, "stack.icmp_echo_replies", sum.icmp_echo_replies);
	LINE(f, "stack.tx_frames", sum.tx_frames);
	LINE(f, "stack.tx_bytes", sum.tx_bytes);
	LINE(f, "stack.tx_dropped", stats_tx_dropped(&sum));
	for (int r = 0; r < PN_TX_DROP_MAX; r++) {
		snprintf(name, sizeof(name), "stack.tx_drop.%s", pn_tx_drop_names[r]);
		LINE(f, name, sum.tx_drop[r]);
	}

	for (uint16_t i = 0; i < a->nb_lcores; i++) {
		const struct lcore_ctx *lc = &a->lc[i];

		fprintf(f, "lcore %u (EAL lcore %u, queue %u)\n", i, lc->lcore_id, lc->queue);
#define LC(field) do { snprintf(name, sizeof(name), "lcore%u." #field, i); \
		LINE(f, name, lc->field); } while (0)
		LC(loops);
		LC(rx_bursts);
		LC(empty_polls);
		LC(tx_bursts);
		LC(arp_notify_drops);
		LC(st.stats.rx_frames);
		LC(st.stats.tx_frames);
#undef LC
	}

	if (a->echo != NULL) {
		const struct pn_sock *s = a->echo;

		fprintf(f, "socket udp *:%u -> *:* (echo service, lcore %u)\n",
			ntohs(s->key.lport), s->owner);
#define SK(field) do { snprintf(name, sizeof(name), "sock.echo." #field); \
		LINE(f, name, s->field); } while (0)
		SK(rx_pkts);
		SK(rx_bytes);
		SK(rx_drops);
		SK(tx_pkts);
		SK(tx_bytes);
		SK(tx_drops);
#undef SK
		LINE(f, "sock.echo.queued", rte_ring_count(s->rx));
	}
	LINE(f, "stack.local_sent", sum.local_sent);
	LINE(f, "stack.local_delivered", sum.local_delivered);
	LINE(f, "stack.local_no_socket", sum.local_no_socket);
	LINE(f, "stack.local_ring_full", sum.local_ring_full);
	if (a->ctl != NULL) {
		fprintf(f, "control %s\n", a->ctl->path);
		LINE(f, "control.clients", a->ctl->nclients);
		LINE(f, "control.sockets", a->ctl->open);
		LINE(f, "control.refused", a->ctl->refused);
	}
	LINE(f, "pool.in_use_now", rte_mempool_in_use_count(a->pool));
	fprintf(f, "check rx_frames == rx_delivered + rx_answered + rx_dropped: %s\n",
		sum.rx_frames == sum.rx_delivered + sum.rx_answered + dropped ?
		"ok" : "MISMATCH (frames in flight between lcores?)");
}
