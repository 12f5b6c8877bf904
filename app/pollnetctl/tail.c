/* SPDX-License-Identifier: BSD-3-Clause */
/* pollnetctl tail: the packets pollnet received and sent, one line each. */
#define _GNU_SOURCE
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <pcap/pcap.h>

#include "pollnetctl.h"

/* a frame from an lcore's log */
struct rec {
	struct pn_log_rec r;
	uint32_t lcore;
};

static int
rec_cmp(const void *a, const void *b)
{
	const struct rec *x = a, *y = b;

	return x->r.ts < y->r.ts ? -1 : x->r.ts > y->r.ts;
}

static void
print_rec(const struct pn_stats_clock *clk, const struct rec *r, bool json)
{
	const int64_t ns = pn_clock_ns(clk, r->r.ts);
	/* the time as a decimal: a sign, then the magnitude (a time before
	 * 1970 too, and INT64_MIN, whose magnitude no int64_t holds) */
	const uint64_t mag = ns < 0 ? 0 - (uint64_t)ns : (uint64_t)ns;
	/* the clock's: whole seconds rounded down, microseconds never negative */
	const int64_t rem = ns % 1000000000 + (ns % 1000000000 < 0 ? 1000000000 : 0);
	const time_t t = (time_t)((ns - rem) / 1000000000);
	struct pkt_summary ps;
	static char *line;
	static size_t size = 1024;
	struct tm tm;
	int need;

	if (line == NULL && (line = malloc(size)) == NULL)
		die("out of memory");
	pkt_summarize(&ps, r->r.hdr, r->r.caplen, r->r.len, r->r.dir, r->r.ts);
	if (!json) {
		pkt_summary_format(&ps, line, size);
		if (localtime_r(&t, &tm) == NULL)
			printf("??:??:??.%06" PRId64 " %s\n", rem / 1000, line);
		else
			printf("%02d:%02d:%02d.%06" PRId64 " %s\n", tm.tm_hour, tm.tm_min,
			       tm.tm_sec, rem / 1000, line);
		return;
	}
	/* a line cut short would be no JSON at all */
	need = pkt_summary_json(&ps, line, size);
	if (need >= 0 && (size_t)need >= size) {
		free(line);
		size = (size_t)need + 1;
		if ((line = malloc(size)) == NULL)
			die("out of memory");
		pkt_summary_json(&ps, line, size);
	}
	printf("{\"time\": %s%" PRIu64 ".%06" PRIu64 ", \"lcore\": %u, %s}\n",
	       ns < 0 ? "-" : "", mag / 1000000000, mag % 1000000000 / 1000, r->lcore, line);
}

/* Does the user's filter take this frame?  (What pollnet kept of it.) */
static int
rec_match(const struct bpf_program *filt, const struct pn_log_rec *r)
{
	struct pcap_pkthdr ph = { .caplen = r->caplen, .len = r->len };

	return pcap_offline_filter(filt, &ph, r->hdr) != 0;
}

static void
usage_tail(FILE *f)
{
	fputs(
"Usage: pollnetctl [-S PATH] tail [-f] [-n N] [-c COUNT] [-j] [FILTER]\n"
"\n"
"The last N packets pollnet received or sent, one line each, oldest first,\n"
"from every lcore's log.\n"
"\n"
"  -n, --lines N      how many (default 10)\n"
"  -f, --follow       keep following new ones (Ctrl-C stops)\n"
"  -c, --count COUNT  stop after COUNT lines\n"
"  -j, --json         one JSON object per packet\n"
"  -h, --help         this text\n"
"\n"
"FILTER: a tcpdump expression (pcap-filter(7)), compiled by libpcap and run\n"
"over what pollnet keeps of each frame, its headers (no payload: one that\n"
"reads payload bytes matches nothing): e.g. 'udp port 7', 'not arp',\n"
"'vlan 5 and ip', 'tcp[tcpflags] & tcp-syn != 0'.\n", f);
}

int
cmd_tail(struct seg *s, int argc, char **argv)
{
	static const struct option lo[] = {
		{ "lines", required_argument, NULL, 'n' },
		{ "follow", no_argument, NULL, 'f' },
		{ "count", required_argument, NULL, 'c' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 } };
	struct bpf_program filt;
	struct pn_stats_clock clk;
	bool follow = false, json = false;
	long n = 10, count = -1, printed = 0;
	uint64_t *pos, lost = 0;
	struct rec *batch;
	size_t cap;
	int c;

	usage_fn = usage_tail;
	while ((c = getopt_long(argc, argv, "+:fn:c:jh", lo, NULL)) != -1) {
		switch (c) {
		case 'f': follow = true; break;
		case 'n': n = parse_long("--lines", optarg, 0, PN_STATS_LOG_SIZE * 1024L); break;
		case 'c': count = parse_long("--count", optarg, 1, 1000000000); break;
		case 'j': json = true; break;
		case 'h': usage_tail(stdout); return 0;
		default: bad_option(c, argv, lo);
		}
	}
	filter_compile(&filt, argc - optind, argv + optind);
	seg_open(s);
	if (!s->h->summaries)
		die("pollnet runs with dataplane.summaries = off: it keeps no packets to show");
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
				if (pn_log_read(l, s->h->log_size, p, &batch[k].r) < 0)
					continue;
				if (!rec_match(&filt, &batch[k].r))
					continue;
				batch[k++].lcore = i;
			}
			pos[i] = head;
		}
		qsort(batch, k, sizeof(batch[0]), rec_cmp);
		clock_take(s, &clk);
		for (size_t j = k > (size_t)n ? k - (size_t)n : 0; j < k; j++) {
			if (count >= 0 && printed >= count)
				break;
			print_rec(&clk, &batch[j], json);
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
				if (pn_log_read(l, s->h->log_size, pos[i], &batch[k].r) < 0) {
					lost++;
					continue;
				}
				if (rec_match(&filt, &batch[k].r))
					batch[k++].lcore = i;
			}
		}
		qsort(batch, k, sizeof(batch[0]), rec_cmp);
		if (k > 0)
			clock_take(s, &clk);
		for (size_t j = 0; j < k && (count < 0 || printed < count); j++, printed++)
			print_rec(&clk, &batch[j], json);
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
		fprintf(stderr, "%s: %" PRIu64 " packets were overwritten before they could be "
			"read\n", prog, lost);
out:
	pcap_freecode(&filt);
	free(pos);
	free(batch);
	return 0;
}
