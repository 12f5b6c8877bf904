/* SPDX-License-Identifier: BSD-3-Clause */
/* pollnetctl tail: the packets pollnet received and sent, one line each. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "pollnetctl.h"

struct rec {
	struct pkt_summary ps;
	uint32_t lcore;
};

static int
rec_cmp(const void *a, const void *b)
{
	const struct rec *x = a, *y = b;

	return x->ps.ts < y->ps.ts ? -1 : x->ps.ts > y->ps.ts;
}

static void
ts_str(const struct pn_stats_hdr *h, uint64_t tsc, char *buf, size_t len, double *unix_s)
{
	double rel = ((double)tsc - (double)h->tsc0) / (double)h->tsc_hz;
	int64_t ns = h->realtime0_ns + (int64_t)(rel * 1e9);
	time_t sec = (time_t)(ns / 1000000000);
	struct tm tm;

	localtime_r(&sec, &tm);
	snprintf(buf, len, "%02d:%02d:%02d.%06ld", tm.tm_hour, tm.tm_min, tm.tm_sec,
		 (long)(ns % 1000000000) / 1000);
	*unix_s = (double)ns / 1e9;
}

static const char *
kind_name(uint8_t k)
{
	static const char *const names[] = { "eth", "arp", "ipv4", "udp", "tcp", "icmp" };

	return k < sizeof(names) / sizeof(names[0]) ? names[k] : "?";
}

static void
print_rec(const struct pn_stats_hdr *h, const struct rec *r, bool json)
{
	const struct pkt_summary *p = &r->ps;
	char t[32], line[320];
	double us;

	ts_str(h, p->ts, t, sizeof(t), &us);
	if (!json) {
		pkt_summary_format(p, line, sizeof(line));
		printf("%s %s\n", t, line);
		return;
	}
	printf("{\"time\": %.6f, \"lcore\": %u, \"dir\": \"%s\", \"kind\": \"%s\", "
	       "\"src_mac\": \"%02x:%02x:%02x:%02x:%02x:%02x\", "
	       "\"dst_mac\": \"%02x:%02x:%02x:%02x:%02x:%02x\", \"ethertype\": %u, "
	       "\"length\": %u, \"truncated\": %s",
	       us, r->lcore, p->dir == PKT_TX ? "tx" : "rx", kind_name(p->kind),
	       p->src_mac[0], p->src_mac[1], p->src_mac[2], p->src_mac[3], p->src_mac[4],
	       p->src_mac[5], p->dst_mac[0], p->dst_mac[1], p->dst_mac[2], p->dst_mac[3],
	       p->dst_mac[4], p->dst_mac[5], p->ethertype, p->frame_len,
	       p->flags & PKT_F_TRUNC ? "true" : "false");
	if (p->kind != PKT_ETH) {
		char s[INET_ADDRSTRLEN], d[INET_ADDRSTRLEN];

		ip_str(htonl(p->src_ip), s);
		ip_str(htonl(p->dst_ip), d);
		printf(", \"src_ip\": \"%s\", \"dst_ip\": \"%s\"", s, d);
	}
	if (p->kind >= PKT_IPV4)
		printf(", \"ip_proto\": %u, \"ttl\": %u, \"ip_len\": %u, \"df\": %s, \"mf\": %s, "
		       "\"frag_offset\": %u", p->ip_proto, p->ttl, p->ip_len,
		       p->ip_frag & 0x4000 ? "true" : "false", p->ip_frag & 0x2000 ? "true" : "false",
		       (p->ip_frag & 0x1fff) * 8u);
	if (p->kind == PKT_UDP)
		printf(", \"src_port\": %u, \"dst_port\": %u, \"udp_len\": %u",
		       p->l4.udp.sport, p->l4.udp.dport, p->l4.udp.len);
	else if (p->kind == PKT_TCP)
		printf(", \"src_port\": %u, \"dst_port\": %u, \"tcp_flags\": %u, \"seq\": %u",
		       p->l4.tcp.sport, p->l4.tcp.dport, p->l4.tcp.flags, p->l4.tcp.seq);
	else if (p->kind == PKT_ICMP)
		printf(", \"icmp_type\": %u, \"icmp_code\": %u, \"icmp_id\": %u, \"icmp_seq\": %u",
		       p->l4.icmp.type, p->l4.icmp.code, p->l4.icmp.id, p->l4.icmp.seq);
	else if (p->kind == PKT_ARP)
		printf(", \"arp_op\": %u", p->l4.arp.op);
	printf("}\n");
}

static void
usage_tail(FILE *f)
{
	fputs(
"Usage: pollnetctl [--stats PATH] tail [-f] [-n N] [-c COUNT] [--json] [FILTER]\n"
"\n"
"The last N packets pollnet received or sent, one line each, oldest first,\n"
"from every lcore's log.\n"
"\n"
"  -n N        how many (default 10)\n"
"  -f          keep following new ones (Ctrl-C stops)\n"
"  -c COUNT    stop after COUNT lines\n"
"  --json      one JSON object per packet\n"
"  -h, --help  this text\n"
"\n"
"FILTER: words joined by 'and' (which may be left out):\n"
"  udp | tcp | icmp | arp | ip     any of these kinds\n"
"  port N                          UDP or TCP port, either end\n"
"  host A.B.C.D                    IPv4 address (ARP sender/target), either end\n", f);
}

int
cmd_tail(struct seg *s, int argc, char **argv)
{
	static const struct option lo[] = {
		{ "json", no_argument, NULL, 'j' }, { "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 } };
	struct pkt_filter f;
	bool follow = false, json = false;
	long n = 10, count = -1, printed = 0;
	uint64_t *pos, lost = 0;
	struct rec *batch;
	size_t cap;
	char err[256];
	int c;

	while ((c = getopt_long(argc, argv, "+fn:c:h", lo, NULL)) != -1) {
		switch (c) {
		case 'f': follow = true; break;
		case 'n': n = parse_long("-n", optarg, 0, PN_STATS_LOG_SIZE * 1024L); break;
		case 'c': count = parse_long("-c", optarg, 1, 1000000000); break;
		case 'j': json = true; break;
		case 'h': usage_tail(stdout); return 0;
		default: bad_args("'%s': an unknown option, or one without its value", argv[optind - 1]);
		}
	}
	if (pkt_filter_parse(&f, argc - optind, argv + optind, err, sizeof(err)) < 0)
		bad_args("%s", err);
	seg_open(s);
	if (!s->h->summaries)
		die("pollnet runs with dataplane.summaries = off: there are no summaries to show");
	cap = (size_t)s->h->nb_lcores * s->h->log_size;
	pos = calloc(s->h->nb_lcores, sizeof(*pos));
	batch = calloc(cap, sizeof(*batch));
	if (pos == NULL || batch == NULL)
		die("out of memory");
	/* the last n that match, the newest of all the lcores' logs */
	{
		size_t k = 0;

		for (uint32_t i = 0; i < s->h->nb_lcores; i++) {
			const struct pn_stats_log *l = pn_stats_log(s->h, i);
			uint64_t head = atomic_load_explicit(&l->head, memory_order_acquire);
			uint64_t from = head > s->h->log_size ? head - s->h->log_size : 0;

			/* the whole log: the last n that match may be anywhere in it */
			for (uint64_t p = from; p < head; p++) {
				if (pn_log_read(l, s->h->log_size, p, &batch[k].ps) < 0)
					continue;
				if (!pkt_filter_match(&f, &batch[k].ps))
					continue;
				batch[k++].lcore = i;
			}
			pos[i] = head;
		}
		qsort(batch, k, sizeof(batch[0]), rec_cmp);
		for (size_t j = k > (size_t)n ? k - (size_t)n : 0; j < k; j++) {
			if (count >= 0 && printed >= count)
				break;
			print_rec(s->h, &batch[j], json);
			printed++;
		}
		fflush(stdout);
	}
	if (!follow)
		goto out;
	signal(SIGINT, on_stop);
	signal(SIGTERM, on_stop);
	for (unsigned tick = 0; !got_stop && (count < 0 || printed < count); tick++) {
		size_t k = 0;

		for (uint32_t i = 0; i < s->h->nb_lcores; i++) {
			const struct pn_stats_log *l = pn_stats_log(s->h, i);
			uint64_t head = atomic_load_explicit(&l->head, memory_order_acquire);

			if (head - pos[i] > s->h->log_size) {
				lost += head - pos[i] - s->h->log_size;
				pos[i] = head - s->h->log_size;
			}
			for (; pos[i] < head; pos[i]++) {
				if (pn_log_read(l, s->h->log_size, pos[i], &batch[k].ps) < 0) {
					lost++;
					continue;
				}
				if (pkt_filter_match(&f, &batch[k].ps))
					batch[k++].lcore = i;
			}
		}
		qsort(batch, k, sizeof(batch[0]), rec_cmp);
		for (size_t j = 0; j < k && (count < 0 || printed < count); j++, printed++)
			print_rec(s->h, &batch[j], json);
		fflush(stdout);
		if (k == 0) {
			if (tick % 50 == 0 && !seg_alive(s)) {
				fprintf(stderr, "%s: pollnet exited\n", prog);
				break;
			}
			sleep_secs(0.02);
		}
	}
	if (lost)
		fprintf(stderr, "%s: %" PRIu64 " summaries were overwritten before they could be "
			"read\n", prog, lost);
out:
	free(pos);
	free(batch);
	return 0;
}
