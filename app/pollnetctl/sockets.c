/* SPDX-License-Identifier: BSD-3-Clause */
/* pollnetctl sockets: the socket table. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>

#include "pollnetctl.h"

static void
usage_sockets(FILE *f)
{
	fputs(
"Usage: pollnetctl [-S PATH] sockets [-j]\n"
"\n"
"Every socket of a running pollnet: id, kind (udp: a libpollnet client's,\n"
"udp-run: a program's under pollnet-run, echo: the built-in service), local\n"
"and remote address, owning process, lcore, datagrams and drops each way,\n"
"queue depths (queued/ring size), and what pollnet-run refused the program\n"
"(options, flags and calls it does not support: how many, the last one).\n"
"\n"
"  -j, --json  a JSON array, one object per socket\n"
"  -h, --help  this text\n", f);
}

struct json_obj {
	bool first;
};

/* pn_sock_fields' strings are bounded: every one of them is pollnetctl's
 * own, or a copy's last_refused, terminated before the call */
static void
json_str(void *arg, const char *key, const char *v)
{
	struct json_obj *o = arg;

	printf("%s\"%s\": ", o->first ? "" : ", ", key);
	json_string(stdout, v, SIZE_MAX);
	o->first = false;
}

static void
json_num(void *arg, const char *key, uint64_t v)
{
	struct json_obj *o = arg;

	printf("%s\"%s\": %" PRIu64, o->first ? "" : ", ", key, v);
	o->first = false;
}

int
cmd_sockets(struct seg *s, int argc, char **argv)
{
	static const struct option lo[] = {
		{ "json", no_argument, NULL, 'j' }, { "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 } };
	const struct pn_stats_sock *tab;
	bool json = false;
	int c, n = 0;

	usage_fn = usage_sockets;
	while ((c = getopt_long(argc, argv, "+:jh", lo, NULL)) != -1) {
		switch (c) {
		case 'j': json = true; break;
		case 'h': usage_sockets(stdout); return 0;
		default: bad_option(c, argv, lo);
		}
	}
	if (optind < argc)
		bad_args("unexpected argument '%s'", argv[optind]);
	seg_open(s);
	tab = pn_stats_socks(s->h);
	if (json)
		printf("[");
	else
		printf("%-5s %-7s %-21s %-21s %7s %5s %10s %10s %8s %8s %9s %9s %s\n",
		       "ID", "KIND", "LOCAL", "REMOTE", "PID", "LCORE", "RX", "TX",
		       "RX_DROP", "TX_DROP", "RXQ", "TXQ", "REFUSED");
	for (uint32_t i = 0; i < s->h->nb_socks; i++) {
		struct pn_stats_sock e;
		char la[INET_ADDRSTRLEN], ra[INET_ADDRSTRLEN], local[32], remote[32];
		char rx[16], tx[16], rq[24], tq[24], ref[64], last[sizeof(e.last_refused)];

		/* a kind this pollnetctl does not know is no socket it can describe */
		if (pn_seq_read(&tab[i].seq, &e, &tab[i], sizeof(e), SEQ_TRIES) < 0 ||
		    (e.kind != PN_SOCK_CLIENT && e.kind != PN_SOCK_ECHO))
			continue;
		e.last_refused[sizeof(e.last_refused) - 1] = '\0';
		ip_str(e.laddr, la);
		ip_str(e.raddr, ra);
		if (e.lport != 0)
			snprintf(local, sizeof(local), "%s:%u", la, e.lport);
		else
			snprintf(local, sizeof(local), "(unbound)");
		if (e.connected)
			snprintf(remote, sizeof(remote), "%s:%u", ra, e.rport);
		else
			snprintf(remote, sizeof(remote), "*:*");
		if (json) {
			struct json_obj o = { .first = true };

			printf("%s{", n ? ", " : "");
			pn_sock_fields(&e, json_str, json_num, &o);
			printf("}");
		} else {
			snprintf(rq, sizeof(rq), "%u/%u", e.rx_queued, e.rx_size);
			snprintf(tq, sizeof(tq), "%u/%u", e.tx_queued, e.tx_size);
			if (e.refused)
				snprintf(ref, sizeof(ref), "%" PRIu64 " (%s)", e.refused,
					 text_string(last, sizeof(last), e.last_refused,
						     sizeof(e.last_refused)));
			else
				snprintf(ref, sizeof(ref), "-");
			printf("%-5u %-7s %-21s %-21s %7d %5u %10s %10s %8" PRIu64 " %8" PRIu64
			       " %9s %9s %s\n", e.id,
			       e.kind == PN_SOCK_ECHO ? "echo" : e.preload ? "udp-run" : "udp",
			       local, remote, e.pid, e.lcore,
			       human((double)e.rx_pkts, rx, sizeof(rx)),
			       human((double)e.tx_pkts, tx, sizeof(tx)), e.rx_drops, e.tx_drops,
			       rq, e.kind == PN_SOCK_ECHO ? "-" : tq, ref);
		}
		n++;
	}
	if (json) {
		printf("]\n");
		return 0;
	}
	/* who holds the other ports: the one table's rule */
	if (s->h->exc_iface[0] != '\0' && s->h->port.has_xdp)
		printf("UDP to a port no socket above holds: the kernel's (pollnet's XDP "
		       "program passes it on %.16s)\n", s->h->exc_iface);
	else if (s->h->exc_iface[0] != '\0' && s->h->exc_udp)
		printf("UDP to a port no socket above holds: the kernel's, through %.16s\n",
		       s->h->exc_iface);
	else
		printf("UDP to a port no socket above holds: pollnet answers a port "
		       "unreachable\n");
	return 0;
}
