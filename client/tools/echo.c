/* SPDX-License-Identifier: BSD-3-Clause */
/* pollnet-echo: a UDP echo server on pollnet (the lab's server, on
 * shared-memory sockets).  It never echoes a datagram cut short: one longer
 * than its buffer is counted and not answered. */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "pollnet.h"

#define MAX_BATCH 32

static volatile sig_atomic_t stop;

static void
on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static void
usage(FILE *f, const char *prog)
{
	fprintf(f,
"Usage: %s [-c PATH] [-n N] [-b N] [-r N] [-z] PORT\n"
"\n"
"Echo every UDP datagram received on PORT back to its sender, through\n"
"pollnet's shared-memory sockets, any length up to UDP's 65,507 bytes (one\n"
"longer than a frame goes back in IP fragments).  The count is printed at\n"
"exit.\n"
"\n"
"  -c, --ctl PATH      pollnet's control socket (default: $POLLNET_CTL, else\n"
"                      /run/pollnet/pollnet.sock)\n"
"  -n, --datagrams N   exit after N datagrams (default: until SIGINT/SIGTERM)\n"
"  -b, --batch N       take up to N datagrams per call and send them back in\n"
"                      one (pollnet_recvmmsg/pollnet_sendmmsg; 1 to %d,\n"
"                      default %d; 1: pollnet_recvfrom and pollnet_sendto,\n"
"                      one each)\n"
"  -r, --ring N        a receive ring of N datagrams (pollnet_socket_rings; 16\n"
"                      to 65536, rounded up to a power of 2 and capped by\n"
"                      pollnet's sockets.ring_max; default: pollnet's)\n"
"  -z, --zero-copy     send each datagram back from pollnet's receive slot\n"
"                      (pollnet_recv_borrow, then pollnet_recv_release): one\n"
"                      copy instead of two; with --batch 1 too, as a batch of 1\n"
"  -h, --help          this help\n", prog, MAX_BATCH, MAX_BATCH);
}

static long
number(const char *prog, const char *opt, const char *v, long lo, long hi)
{
	char *end;
	long n;

	errno = 0;
	n = strtol(v, &end, 10);
	if (errno != 0 || end == v || *end != '\0' || n < lo || n > hi) {
		if (hi == LONG_MAX)
			cli_bad(prog, usage, "%s %s: not a number from %ld up", opt, v, lo);
		cli_bad(prog, usage, "%s %s: not a number from %ld to %ld", opt, v, lo, hi);
	}
	return n;
}

int
main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "ctl", required_argument, NULL, 'c' },
		{ "datagrams", required_argument, NULL, 'n' },
		{ "batch", required_argument, NULL, 'b' },
		{ "ring", required_argument, NULL, 'r' },
		{ "zero-copy", no_argument, NULL, 'z' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *slash = strrchr(argv[0], '/');
	const char *prog = slash != NULL ? slash + 1 : argv[0], *ctl = NULL;
	long count = -1, port, done = 0, truncated = 0, batch = MAX_BATCH, ring = 0;
	int zero_copy = 0;
	struct pollnet *pn;
	struct pollnet_socket *s;
	char *end, why[128];
	int c, rc;

	opterr = 0;             /* bad_args says it, then the usage */
	while ((c = getopt_long(argc, argv, ":c:n:b:r:zh", opts, NULL)) != -1) {
		switch (c) {
		case 'c': ctl = optarg; break;
		case 'n': count = number(prog, "--datagrams", optarg, 1, LONG_MAX); break;
		case 'b': batch = number(prog, "--batch", optarg, 1, MAX_BATCH); break;
		case 'r': ring = number(prog, "--ring", optarg, 16, 65536); break;
		case 'z': zero_copy = 1; break;
		case 'h': usage(stdout, prog); return 0;
		default:
			cli_option_reason(why, sizeof(why), c, argv, opts);
			cli_bad(prog, usage, "%s", why);
		}
	}
	if (optind == argc)
		cli_bad(prog, usage, "a PORT is needed");
	if (optind < argc - 1)
		cli_bad(prog, usage, "unexpected argument '%s'", argv[optind + 1]);
	port = strtol(argv[optind], &end, 10);
	if (*end != '\0' || end == argv[optind] || port < 1 || port > 65535)
		cli_bad(prog, usage, "'%s' is not a port (1-65535)", argv[optind]);
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);

	rc = pollnet_open(&pn, ctl);
	if (rc < 0) {
		fprintf(stderr, "%s: cannot reach pollnet: %s\n", prog, pollnet_strerror(rc));
		return 1;
	}
	if ((rc = pollnet_socket_rings(pn, &s, (uint32_t)ring, 0)) < 0 ||
	    (rc = pollnet_bind(s, (uint16_t)port)) < 0) {
		fprintf(stderr, "%s: port %ld: %s\n", prog, port, pollnet_strerror(rc));
		pollnet_session_close(pn);
		return 1;
	}
	pollnet_set_timeout(s, 200);   /* to notice signals */
	printf("pollnet-echo: echoing UDP port %ld\n", port);
	fflush(stdout);
	while ((batch > 1 || zero_copy) && !stop && (count < 0 || done < count)) {
		static char bufs[MAX_BATCH][POLLNET_MAX_RECV];
		struct pollnet_msg in[MAX_BATCH], out[MAX_BATCH];
		struct pollnet_view views[MAX_BATCH];
		int want = count < 0 || count - done > batch ? (int)batch : (int)(count - done);
		int k, j = 0;

		if (zero_copy) {
			/* send them back from where pollnet put them */
			k = pollnet_recv_borrow(s, views, (unsigned)want);
			for (int i = 0; i < k; i++)
				in[i] = (struct pollnet_msg){ .buf = (void *)views[i].buf,
							      .len = views[i].n, .n = views[i].n,
							      .addr = views[i].addr,
							      .flags = views[i].flags };
		} else {
			for (int i = 0; i < want; i++)
				in[i] = (struct pollnet_msg){ .buf = bufs[i], .len = sizeof(bufs[i]) };
			k = pollnet_recvmmsg(s, in, (unsigned)want);
		}
		if (k == -ETIMEDOUT || k == -EINTR)
			continue;
		if (k < 0) {
			fprintf(stderr, "%s: recv: %s\n", prog, pollnet_strerror(k));
			break;
		}
		for (int i = 0; i < k; i++) {
			if (in[i].flags & POLLNET_TRUNC)
				truncated++;
			else
				out[j++] = (struct pollnet_msg){ .buf = in[i].buf, .len = in[i].n,
								 .addr = in[i].addr };
		}
		for (int i = 0; i < j;) {
			int r = pollnet_sendmmsg(s, out + i, (unsigned)(j - i));

			if (r == -ETIMEDOUT || r == -EINTR) {
				if (stop)
					break;
				continue;
			}
			if (r < 0) {
				fprintf(stderr, "%s: send: %s\n", prog, pollnet_strerror(r));
				stop = 1;
				break;
			}
			i += r;
			done += r;
		}
		if (zero_copy)
			pollnet_recv_release(s, (unsigned)k);
	}
	while (batch == 1 && !zero_copy && !stop && (count < 0 || done < count)) {
		char buf[POLLNET_MAX_RECV];
		struct sockaddr_in from;
		int flags;
		ssize_t n = pollnet_recvfrom(s, buf, sizeof(buf), &from, &flags);

		if (n == -ETIMEDOUT || n == -EINTR)
			continue;
		if (n < 0) {
			fprintf(stderr, "%s: recv: %s\n", prog, pollnet_strerror((int)n));
			break;
		}
		if (flags & POLLNET_TRUNC) {
			truncated++;
			continue;
		}
		n = pollnet_sendto(s, buf, (size_t)n, &from);
		if (n < 0) {
			fprintf(stderr, "%s: send: %s\n", prog, pollnet_strerror((int)n));
			break;
		}
		done++;
	}
	printf("pollnet-echo: %ld datagrams echoed, %ld truncated\n", done, truncated);
	pollnet_session_close(pn);
	return 0;
}
