/* SPDX-License-Identifier: BSD-3-Clause */
/* pollnetctl groups: the multicast groups pollnet's interface joined. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "pollnetctl.h"

static void
usage_groups(FILE *f)
{
	fputs(
"Usage: pollnetctl [-S PATH] groups [-j]\n"
"\n"
"The IPv4 multicast groups pollnet's interface has joined, as `ip maddr`\n"
"shows a kernel's: each group with its filter (the sockets' merged, as\n"
"IGMPv3 reports it: exclude none of the sources for a plain join, include\n"
"some for a source-specific one) and the sockets that joined it (their ids,\n"
"as pollnetctl sockets shows them); then the IGMP version spoken and the\n"
"reports sent.\n"
"\n"
"  -j, --json  a JSON object: the groups, and the counts\n"
"  -h, --help  this text\n", f);
}

int
cmd_groups(struct seg *s, int argc, char **argv)
{
	static const struct option lo[] = {
		{ "json", no_argument, NULL, 'j' }, { "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 } };
	struct pn_stats_hdr *h;
	const struct pn_stats_mcast *mc;
	bool json = false;
	int c;

	usage_fn = usage_groups;
	while ((c = getopt_long(argc, argv, "+:jh", lo, NULL)) != -1) {
		switch (c) {
		case 'j': json = true; break;
		case 'h': usage_groups(stdout); return 0;
		default: bad_option(c, argv, lo);
		}
	}
	if (optind < argc)
		bad_args("unexpected argument '%s'", argv[optind]);
	seg_open(s);
	h = malloc(sizeof(*h));
	if (h == NULL || pn_seq_read(&s->h->seq, h, s->h, sizeof(*h), SEQ_TRIES) < 0) {
		fprintf(stderr, "pollnetctl: %s: the segment is changing too fast to read\n",
			s->path);
		free(h);
		return 1;
	}
	mc = &h->mcast;
	if (json)
		printf("{\"igmp_version\": %u, \"reports_sent\": %" PRIu64 ", \"reports_failed\": %"
		       PRIu64 ", \"filter_failed\": %" PRIu64 ", \"groups\": [",
		       mc->igmp_v2 ? 2 : 3, mc->reports_sent, mc->reports_failed,
		       mc->filter_failed);
	else
		printf("%-16s %-8s %-40s %s\n", "GROUP", "MODE", "SOURCES", "SOCKETS");
	for (uint32_t i = 0; i < mc->nb_groups && i < PN_STATS_MAX_GROUPS; i++) {
		const struct pn_stats_group *g = &mc->groups[i];
		char ga[INET_ADDRSTRLEN], sa[INET_ADDRSTRLEN], src[PN_STATS_GROUP_SRC * 17 + 2];
		const unsigned nsrc = g->nsrc < PN_STATS_GROUP_SRC ? g->nsrc : PN_STATS_GROUP_SRC;
		const unsigned nm = g->members < PN_STATS_GROUP_MEMBERS ? g->members :
				    PN_STATS_GROUP_MEMBERS;
		size_t off = 0;

		ip_str(g->addr, ga);
		src[0] = '\0';
		for (unsigned k = 0; k < nsrc; k++) {
			ip_str(g->src[k], sa);
			off += (size_t)snprintf(src + off, sizeof(src) - off,
						json ? "%s\"%s\"" : "%s%s", k ? "," : "", sa);
		}
		if (json) {
			printf("%s{\"group\": \"%s\", \"mode\": \"%s\", \"sources\": [%s], "
			       "\"members\": %u, \"sockets\": [", i ? ", " : "", ga,
			       g->mode == 2 ? "exclude" : "include", src, g->members);
			for (unsigned k = 0; k < nm; k++)
				printf("%s%u", k ? ", " : "", g->member_id[k]);
			printf("]}");
			continue;
		}
		printf("%-16s %-8s %-40s %u (", ga, g->mode == 2 ? "exclude" : "include",
		       nsrc ? src : "-", g->members);
		for (unsigned k = 0; k < nm; k++)
			printf("%s%u", k ? " " : "", g->member_id[k]);
		printf("%s)\n", g->members > nm ? " ..." : "");
	}
	if (json)
		printf("]}\n");
	else
		printf("IGMPv%u; %" PRIu64 " reports sent on changes, %" PRIu64 " not sent\n",
		       mc->igmp_v2 ? 2 : 3, mc->reports_sent, mc->reports_failed);
	free(h);
	return 0;
}
