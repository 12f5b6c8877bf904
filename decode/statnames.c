/* SPDX-License-Identifier: BSD-3-Clause */
#include "statnames.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

#include "counters.h"

#define PN_NAME(e, n) [PN_REFUSED_##e] = n,
static const char *const refusal_names[PN_REFUSED_MAX] = { PN_REFUSALS(PN_NAME) };
#undef PN_NAME

int
pn_stats_snapshot(const struct pn_stats_hdr *h, struct pn_stats_hdr *hc,
		  struct pn_stats_lcore *lc, struct pn_counters *sum)
{
	const struct pn_stats_lcore *src = pn_stats_lcores(h);

	if (pn_seq_read(&h->seq, hc, h, sizeof(*hc), 100000) < 0)
		return -1;
	memset(sum, 0, sizeof(*sum));
	for (uint32_t i = 0; i < hc->nb_lcores; i++) {
		if (pn_seq_read(&src[i].seq, &lc[i], &src[i], sizeof(lc[i]), 100000) < 0)
			return -1;
		stats_add(sum, &lc[i].st);
	}
	return 0;
}

#define E(v, flags, ...) do { \
		snprintf(name, sizeof(name), __VA_ARGS__); \
		emit(arg, name, (v), (flags)); \
	} while (0)

void
pn_stats_emit(const struct pn_stats_hdr *h, const struct pn_stats_lcore *lc,
	      const struct pn_counters *st, pn_emit_fn *emit, void *arg)
{
	const struct pn_stats_port *p = &h->port;
	const unsigned L = PN_CNT_LCORE;
	char name[64];

	if (p->has_stats) {
		E(p->rx_packets, 0, "port.rx_packets");
		E(p->rx_bytes, 0, "port.rx_bytes");
		E(p->rx_missed, 0, "port.rx_missed");
		E(p->rx_held, 0, "port.rx_frags_held");
		E(p->rx_errors, 0, "port.rx_errors");
		E(p->rx_nombuf, 0, "port.rx_nombuf");
		E(p->tx_packets, 0, "port.tx_packets");
		E(p->tx_bytes, 0, "port.tx_bytes");
		E(p->tx_errors, 0, "port.tx_errors");
		if (p->has_xdp) {
			E(p->xdp_pollnet, 0, "port.xdp.to_pollnet");
			E(p->xdp_passed, 0, "port.xdp.to_kernel");
		}
		if (p->has_drv) {
			E(p->drv_bursts, 0, "port.drv_bursts");
			E(p->drv_empty_polls, 0, "port.drv_empty_polls");
			E(p->drv_rx_tail_writes, 0, "port.drv_rx_tail_writes");
			E(p->drv_tx_tail_writes, 0, "port.drv_tx_tail_writes");
		}
	}
	E(st->rx_frames, L, "stack.rx_frames");
	E(st->rx_bytes, L, "stack.rx_bytes");
	E(st->rx_delivered, L, "stack.rx_delivered");
	E(st->rx_answered, L, "stack.rx_answered");
	E(stats_rx_dropped(st), L, "stack.rx_dropped");
	for (int r = 0; r < PN_RX_DROP_MAX; r++)
		E(st->rx_drop[r], PN_CNT_DROP | L, "stack.rx_drop.%s", pn_rx_drop_names[r]);
	E(st->rx_merged, L, "stack.rx_merged");
	E(st->rx_kernel, L, "stack.rx_kernel");
	E(st->rx_steered, L, "stack.rx_steered");
	E(st->udp_delivered, L, "stack.udp_delivered");
	E(st->udp_oversize, L, "stack.udp_oversize");
	E(st->udp_broadcast, L, "stack.udp_broadcast");
	E(st->bcast_copies, L, "stack.bcast_copies");
	E(st->bcast_copies_dropped, L, "stack.bcast_copies_dropped");
	E(st->udp_multicast, L, "stack.udp_multicast");
	E(st->igmp_queries_in, L, "stack.igmp_queries_in");
	E(st->igmp_reports_out, L, "stack.igmp_reports_out");
	E(st->frags_in, L, "stack.frags_in");
	E(st->frags_held, PN_CNT_LEVEL | L, "stack.frags_held");
	E(st->reassembled, L, "stack.reassembled");
	E(st->fragmented, L, "stack.fragmented");
	E(st->frags_out, L, "stack.frags_out");
	E(st->arp_requests_in, L, "stack.arp_requests_in");
	E(st->arp_replies_in, L, "stack.arp_replies_in");
	E(st->arp_requests_out, L, "stack.arp_requests_out");
	E(st->arp_learned, L, "stack.arp_learned");
	E(st->icmp_echo_replies, L, "stack.icmp_echo_replies");
	E(st->icmp_unreach_sent, L, "stack.icmp_unreach_sent");
	E(st->icmp_unreach_limited, L, "stack.icmp_unreach_limited");
	E(st->icmp_errors_in, L, "stack.icmp_errors_in");
	E(st->tx_frames, L, "stack.tx_frames");
	E(st->tx_bytes, L, "stack.tx_bytes");
	E(stats_tx_dropped(st), L, "stack.tx_dropped");
	for (int r = 0; r < PN_TX_DROP_MAX; r++)
		E(st->tx_drop[r], PN_CNT_DROP | L, "stack.tx_drop.%s", pn_tx_drop_names[r]);
	for (int k = 0; k < PN_EXC_MAX; k++)
		E(st->exc_in[k], L, "exception.to_kernel.%s", pn_exc_kind_names[k]);
	for (int k = 0; k < PN_EXC_MAX; k++)
		E(st->exc_out[k], L, "exception.from_kernel.%s", pn_exc_kind_names[k]);
	E(st->exc_in_dropped, PN_CNT_DROP | L, "exception.to_kernel_dropped");
	E(st->exc_out_dropped, PN_CNT_DROP | L, "exception.from_kernel_dropped");
	E(st->exc_arp_dup, L, "exception.kernel_arp_replies_withheld");
	if (h->exc_port.has_stats) {
		/* frames to the kernel's side: a merged one counts once (tap) */
		E(h->exc_port.tx_packets, 0, "exception.port.tx_frames");
		E(h->exc_port.tx_errors, PN_CNT_DROP, "exception.port.tx_errors");
		E(h->exc_port.rx_packets, 0, "exception.port.rx_frames");
		E(h->exc_port.rx_errors, PN_CNT_DROP, "exception.port.rx_errors");
		E(h->exc_port.rx_nombuf, PN_CNT_DROP, "exception.port.rx_nombuf");
	}
	E(st->local_sent, L, "stack.local_sent");
	E(st->local_delivered, L, "stack.local_delivered");
	E(st->local_no_socket, L, "stack.local_no_socket");
	E(st->local_ring_full, L, "stack.local_ring_full");
	E(st->local_to_kernel, L, "stack.local_to_kernel");
	E(st->local_from_kernel, L, "stack.local_from_kernel");
	for (uint32_t i = 0; i < h->nb_lcores; i++) {
		const struct pn_stats_lcore *l = &lc[i];

		E(l->loops, L, "lcore%u.loops", i);
		E(l->rx_bursts, L, "lcore%u.rx_bursts", i);
		E(l->empty_polls, L, "lcore%u.empty_polls", i);
		E(l->naps, L, "lcore%u.naps", i);
		E(l->sleeps, L, "lcore%u.sleeps", i);
		E(l->irq_wakes, L, "lcore%u.irq_wakes", i);
		E(l->bell_wakes, L, "lcore%u.bell_wakes", i);
		E(l->yields, L, "lcore%u.yields", i);
		E(l->tx_bursts, L, "lcore%u.tx_bursts", i);
		E(l->st.rx_frames, L, "lcore%u.rx_frames", i);
		E(l->st.tx_frames, L, "lcore%u.tx_frames", i);
		E(l->arp_notify_drops, PN_CNT_DROP | L, "lcore%u.arp_notify_drops", i);
		E(l->log_written, L, "lcore%u.summaries", i);
		E(l->cap_frames, L, "lcore%u.capture_frames", i);
		E(l->cap_skipped, PN_CNT_DROP | L, "lcore%u.capture_skipped", i);
	}
	E(h->ctl.clients, PN_CNT_LEVEL, "control.clients");
	E(h->ctl.sockets, PN_CNT_LEVEL, "control.sockets");
	E(h->ctl.refused, 0, "control.refused");
	for (int r = 0; r < PN_REFUSED_MAX; r++)
		E(h->ctl.refused_by[r], PN_CNT_DROP, "control.refused.%s", refusal_names[r]);
	E(h->ctl.hangups, 0, "control.hangups");
	E(h->ctl.captures, 0, "control.captures");
	E(h->ctl.pool_in_use, PN_CNT_LEVEL, "pool.in_use_now");
	E(h->ctl.pool_size, PN_CNT_LEVEL, "pool.size");
}

void
pn_sock_fields(const struct pn_stats_sock *e, pn_field_str_fn *str, pn_field_num_fn *num,
	       void *arg)
{
	struct in_addr la = { .s_addr = e->laddr }, ra = { .s_addr = e->connected ? e->raddr : 0 };
	char l[INET_ADDRSTRLEN], r[INET_ADDRSTRLEN];

	inet_ntop(AF_INET, &la, l, sizeof(l));
	inet_ntop(AF_INET, &ra, r, sizeof(r));
	num(arg, "id", e->id);
	str(arg, "kind", pn_sock_kind(e));
	str(arg, "local_addr", l);
	num(arg, "local_port", e->lport);
	num(arg, "connected", e->connected != 0);
	str(arg, "remote_addr", r);
	num(arg, "remote_port", e->connected ? e->rport : 0);
	num(arg, "pid", (uint64_t)(uint32_t)e->pid);
	num(arg, "lcore", e->lcore);
	num(arg, "rx_datagrams", e->rx_pkts);
	num(arg, "rx_bytes", e->rx_bytes);
	num(arg, "rx_drops", e->rx_drops);
	num(arg, "tx_datagrams", e->tx_pkts);
	num(arg, "tx_bytes", e->tx_bytes);
	num(arg, "tx_drops", e->tx_drops);
	num(arg, "rx_queued", e->rx_queued);
	num(arg, "rx_ring", e->rx_size);
	num(arg, "tx_queued", e->tx_queued);
	num(arg, "tx_ring", e->tx_size);
	num(arg, "preload", e->preload != 0);
	num(arg, "refused", e->refused);
	str(arg, "last_refused", e->last_refused);
}
