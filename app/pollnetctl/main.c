/* SPDX-License-Identifier: BSD-3-Clause */
/* pollnetctl's command line: global options, then a command. */
#define _GNU_SOURCE
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pollnetctl.h"

static void
usage(FILE *f)
{
	fputs(
"Usage: pollnetctl [-S PATH] COMMAND [OPTIONS] [FILTER]\n"
"\n"
"What a running pollnet is doing, read from its stats segment.\n"
"\n"
"Commands:\n"
"  stats      every counter, with its rate (-i SECS refreshes)\n"
"  sockets    every socket: addresses, owner, counts, queues\n"
"  groups     the multicast groups joined, their filters and sockets\n"
"  tail       the last packets received and sent, one line each (-f follows)\n"
"  capture    frames into a pcap file (root only)\n"
"'pollnetctl COMMAND --help' says more about each.\n"
"\n"
"Options:\n"
"  -S, --stats PATH  the stats segment (default $POLLNET_STATS, else\n"
"                    " PN_STATS_DEFAULT_PATH ")\n"
"  -h, --help        this text\n"
"\n"
"Exit status: 0 ok, 1 pollnet not running or an error, 2 bad arguments.\n", f);
}

int
main(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "stats", required_argument, NULL, 'S' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 } };
	struct seg s = { .fd = -1 };
	const char *cmd;
	int c;

	usage_fn = usage;
	opterr = 0;             /* bad_option says it, then the usage */
	s.path = getenv("POLLNET_STATS");
	if (s.path == NULL || s.path[0] == '\0')
		s.path = PN_STATS_DEFAULT_PATH;
	while ((c = getopt_long(argc, argv, "+:S:h", lo, NULL)) != -1) {
		switch (c) {
		case 'S': s.path = optarg; break;
		case 'h': usage(stdout); return 0;
		default: bad_option(c, argv, lo);
		}
	}
	if (optind >= argc)
		bad_args("a command is needed: stats, sockets, groups, tail or capture");
	cmd = argv[optind];
	argc -= optind;
	argv += optind;
	optind = 1;
	if (strcmp(cmd, "stats") == 0)
		return cmd_stats(&s, argc, argv);
	if (strcmp(cmd, "sockets") == 0)
		return cmd_sockets(&s, argc, argv);
	if (strcmp(cmd, "groups") == 0)
		return cmd_groups(&s, argc, argv);
	if (strcmp(cmd, "tail") == 0)
		return cmd_tail(&s, argc, argv);
	if (strcmp(cmd, "capture") == 0)
		return cmd_capture(&s, argc, argv);
	if (strcmp(cmd, "help") == 0) {
		usage(stdout);
		return 0;
	}
	bad_args("unknown command '%s' (stats, sockets, groups, tail, capture)", cmd);
}
