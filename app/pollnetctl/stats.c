/* SPDX-License-Identifier: BSD-3-Clause */
/* pollnetctl stats: every counter, with its rate. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "pollnetctl.h"

struct counter {
	char name[64];
	uint64_t v;
	unsigned flags;                /* PN_CNT_* */
};

struct counters {
	struct counter *c;
	size_t n, cap;
};

static void __attribute__((format(printf, 4, 5)))
add(struct counters *cs, uint64_t v, unsigned flags, const char *fmt, ...)
{
	va_list ap;

	if (cs->n == cs->cap) {
		cs->cap = cs->cap ? cs->cap * 2 : 128;
		cs->c = realloc(cs->c, cs->cap * sizeof(cs->c[0]));
		if (cs->c == NULL)
			die("out of memory");
	}
	va_start(ap, fmt);
	vsnprintf(cs->c[cs->n].name, sizeof(cs->c[0].name), fmt, ap);
	va_end(ap);
	cs->c[cs->n].v = v;
	cs->c[cs->n].flags = flags;
	cs->n++;
}

static void
collect_one(void *arg, const char *name, uint64_t v, unsigned flags)
{
	struct counters *cs = arg;

	add(cs, v, flags, "%s", name);
}

/* The same names as pollnet's own report (SIGUSR1, exit). */
static void
collect(const struct snap *sn, struct counters *cs)
{
	cs->n = 0;
	pn_stats_emit(&sn->h, sn->lc, &sn->sum, collect_one, cs);
}

static void
print_header(const struct snap *sn)
{
	char ip[INET_ADDRSTRLEN], spec[sizeof(sn->h.port_spec) + 1], drv[sizeof(sn->h.driver) + 1];

	ip_str(sn->h.ip, ip);
	printf("pollnet pid %d, port %s (%s), link %s", sn->h.pid,
	       text_string(spec, sizeof(spec), sn->h.port_spec, sizeof(sn->h.port_spec)),
	       text_string(drv, sizeof(drv), sn->h.driver, sizeof(sn->h.driver)),
	       sn->h.port.link_up ? "up" : "down");
	if (sn->h.port.link_up && sn->h.port.speed_mbps)
		printf(" %u Mbps", sn->h.port.speed_mbps);
	printf(", %02x:%02x:%02x:%02x:%02x:%02x %s/%u, %u lcore%s, up %.1f s\n",
	       sn->h.mac[0], sn->h.mac[1], sn->h.mac[2], sn->h.mac[3], sn->h.mac[4],
	       sn->h.mac[5], ip, sn->h.prefix, sn->h.nb_lcores,
	       sn->h.nb_lcores > 1 ? "s" : "", sn->t);
}

/* A counter's rate: an lcore's counters over the time between our two
 * copies (its block is at most a millisecond old), the control thread's
 * over the time between its two publications (every 100 ms). */
static double
rate(const struct counter *c, uint64_t prev, double dt, double dt_ctl)
{
	double d = (c->flags & PN_CNT_LCORE) ? dt : dt_ctl;

	return d > 0 ? (double)(c->v - prev) / d : 0.0;
}

static void
print_stats(const struct snap *sn, const struct counters *now, const struct counters *before,
	    double dt, double dt_ctl, bool all, bool json)
{
	char a[32], b[32];

	if (json) {
		char ip[INET_ADDRSTRLEN];

		ip_str(sn->h.ip, ip);
		printf("{\"pid\": %d, \"port\": ", sn->h.pid);
		json_string(stdout, sn->h.port_spec, sizeof(sn->h.port_spec));
		printf(", \"driver\": ");
		json_string(stdout, sn->h.driver, sizeof(sn->h.driver));
		printf(", \"ip\": \"%s\", \"link_up\": %s, \"uptime_s\": %.3f, "
		       "\"interval_s\": %.3f, \"counters\": {",
		       ip, sn->h.port.link_up ? "true" : "false", sn->t, dt);
		for (size_t i = 0; i < now->n; i++)
			printf("%s\"%s\": %" PRIu64, i ? ", " : "", now->c[i].name, now->c[i].v);
		printf("}, \"rates\": {");
		for (size_t i = 0, k = 0; i < now->n; i++) {
			uint64_t prev = before != NULL ? before->c[i].v : 0;

			if (now->c[i].flags & PN_CNT_LEVEL)
				continue;
			printf("%s\"%s\": %.1f", k++ ? ", " : "", now->c[i].name,
			       rate(&now->c[i], prev, dt, dt_ctl));
		}
		printf("}}\n");
		fflush(stdout);
		return;
	}
	print_header(sn);
	printf("%-34s %12s %12s\n", "counter", "total",
	       before != NULL ? "per second" : "avg/s");
	for (size_t i = 0; i < now->n; i++) {
		const struct counter *c = &now->c[i];
		uint64_t prev = before != NULL ? before->c[i].v : 0;

		if ((c->flags & PN_CNT_DROP) && c->v == 0 && !all)
			continue;
		if (c->flags & PN_CNT_LEVEL)
			printf("%-34s %12s %12s\n", c->name, human((double)c->v, a, sizeof(a)), "");
		else
			printf("%-34s %12s %12s\n", c->name, human((double)c->v, a, sizeof(a)),
			       human(rate(c, prev, dt, dt_ctl), b, sizeof(b)));
	}
	fflush(stdout);
}

static void
usage_stats(FILE *f)
{
	fputs(
"Usage: pollnetctl [-S PATH] stats [-i SECS] [-c COUNT] [-a] [-j]\n"
"\n"
"Every counter of a running pollnet: the port (hardware and driver), the\n"
"stack, drops by reason, each lcore, the control channel.  Rates are per\n"
"second: since pollnet started, or over each interval with -i.\n"
"\n"
"  -i, --interval SECS  refresh every SECS seconds (a fraction is fine),\n"
"                       rates over the interval\n"
"  -c, --count COUNT    with -i: stop after COUNT refreshes\n"
"  -a, --all            show the drop reasons that are zero too\n"
"  -j, --json           one JSON object (one per line with -i): \"counters\",\n"
"                       \"rates\"\n"
"  -h, --help           this text\n", f);
}

int
cmd_stats(struct seg *s, int argc, char **argv)
{
	static const struct option lo[] = {
		{ "interval", required_argument, NULL, 'i' },
		{ "count", required_argument, NULL, 'c' },
		{ "all", no_argument, NULL, 'a' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 } };
	double interval = 0;
	long count = -1;
	bool json = false, all = false;
	struct snap sn[2] = { 0 };
	struct counters cs[2] = { 0 };
	int c, cur = 0;

	usage_fn = usage_stats;
	while ((c = getopt_long(argc, argv, "+:i:c:ajh", lo, NULL)) != -1) {
		switch (c) {
		case 'i': interval = parse_secs("--interval", optarg); break;
		case 'c': count = parse_long("--count", optarg, 1, 1000000000); break;
		case 'a': all = true; break;
		case 'j': json = true; break;
		case 'h': usage_stats(stdout); return 0;
		default: bad_option(c, argv, lo);
		}
	}
	if (optind < argc)
		bad_args("unexpected argument '%s'", argv[optind]);
	if (count > 0 && interval == 0)
		bad_args("--count needs --interval");
	seg_open(s);
	snap_take(s, &sn[cur]);
	collect(&sn[cur], &cs[cur]);
	if (interval == 0) {
		print_stats(&sn[cur], &cs[cur], NULL, sn[cur].t, sn[cur].t, all, json);
		goto out;
	}
	signal(SIGINT, on_stop);
	signal(SIGTERM, on_stop);
	for (long k = 0; !got_stop && (count < 0 || k < count); k++) {
		int prev = cur;

		sleep_secs(interval);
		if (got_stop)
			break;
		if (!seg_alive(s))
			die("pollnet exited");
		cur ^= 1;
		snap_take(s, &sn[cur]);
		collect(&sn[cur], &cs[cur]);
		if (!json && isatty(STDOUT_FILENO))
			printf("\033[H\033[2J");
		print_stats(&sn[cur], &cs[cur], &cs[prev], sn[cur].mono - sn[prev].mono,
			    sn[cur].t - sn[prev].t, all, json);
		if (!json)
			printf("\n");
	}
out:
	for (int k = 0; k < 2; k++) {
		free(sn[k].lc);
		free(cs[k].c);
	}
	return 0;
}
