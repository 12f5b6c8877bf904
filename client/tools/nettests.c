/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * pollnet-nettests: the lab's network tests (xv6's nettests), on
 * libpollnet.  Against a UDP server that answers each datagram, either with
 * the lab's "this is the host!" or with an echo:
 *
 *   one ping                two sends, one receive, then close with the
 *                           second reply still queued or in flight
 *   single-process pings    100 times: open, bind the same local port,
 *                           ping, close
 *   multi-process pings     10 processes at once, 10 local ports
 *   DNS                     an A query, the answer parsed and checked
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cli.h"
#include "pollnet.h"

#define LOCAL_PORT 2000
#define TIMEOUT_MS 5000
static const char ping_msg[] = "a message from pollnet!";
static const char lab_reply[] = "this is the host!";

static const char *ctl;
static struct sockaddr_in server;

static int
fail(const char *what, int err)
{
	printf("FAILED: %s: %s\n", what, pollnet_strerror(err));
	return -1;
}

/* The lab's ping: connect sport -> server, send `attempts` times, expect
 * one answer. */
static int
ping(struct pollnet *pn, uint16_t sport, int attempts)
{
	struct pollnet_socket *s;
	char buf[256];
	int flags, rc;
	ssize_t n;

	if ((rc = pollnet_socket(pn, &s)) < 0)
		return fail("socket", rc);
	if ((rc = pollnet_bind(s, sport)) < 0 || (rc = pollnet_connect(s, &server)) < 0) {
		pollnet_close(s);
		return fail("bind/connect", rc);
	}
	pollnet_set_timeout(s, TIMEOUT_MS);
	for (int i = 0; i < attempts; i++) {
		n = pollnet_send(s, ping_msg, strlen(ping_msg));
		if (n < 0) {
			pollnet_close(s);
			return fail("send", (int)n);
		}
	}
	n = pollnet_recv(s, buf, sizeof(buf) - 1, &flags);
	pollnet_close(s);
	if (n < 0)
		return fail("recv", (int)n);
	buf[n] = '\0';
	if (strcmp(buf, lab_reply) != 0 && strcmp(buf, ping_msg) != 0) {
		printf("FAILED: unexpected reply '%s'\n", buf);
		return -1;
	}
	return 0;
}

static int
test_one_ping(void)
{
	struct pollnet *pn;
	int rc = pollnet_open(&pn, ctl);

	if (rc < 0)
		return fail("open", rc);
	rc = ping(pn, LOCAL_PORT, 2);
	pollnet_session_close(pn);
	return rc;
}

static int
test_single_process(void)
{
	struct pollnet *pn;
	int rc = pollnet_open(&pn, ctl);

	if (rc < 0)
		return fail("open", rc);
	for (int i = 0; i < 100 && rc == 0; i++)
		rc = ping(pn, LOCAL_PORT, 1);
	pollnet_session_close(pn);
	return rc;
}

static int
test_multi_process(void)
{
	int nproc = 10, bad = 0;

	for (int i = 0; i < nproc; i++) {
		pid_t pid = fork();

		if (pid < 0)
			return fail("fork", -errno);
		if (pid == 0) {
			struct pollnet *pn;
			int rc = pollnet_open(&pn, ctl);

			if (rc == 0) {
				rc = ping(pn, (uint16_t)(LOCAL_PORT + i + 1), 1);
				pollnet_session_close(pn);
			}
			fflush(stdout);
			_exit(rc == 0 ? 0 : 1);
		}
	}
	for (int i = 0; i < nproc; i++) {
		int st;

		if (wait(&st) < 0 || !WIFEXITED(st) || WEXITSTATUS(st) != 0)
			bad++;
	}
	if (bad) {
		printf("FAILED: %d of %d processes\n", bad, nproc);
		return -1;
	}
	return 0;
}

/* ---- DNS (RFC 1035) ---- */

static size_t
dns_query(uint8_t *q, const char *name, uint16_t id)
{
	size_t n = 12;

	memset(q, 0, 12);
	q[0] = id >> 8;
	q[1] = id & 0xff;
	q[2] = 0x01;                    /* RD */
	q[5] = 1;                       /* one question */
	while (*name) {
		const char *dot = strchr(name, '.');
		size_t len = dot ? (size_t)(dot - name) : strlen(name);

		q[n++] = (uint8_t)len;
		memcpy(q + n, name, len);
		n += len;
		name += len + (dot != NULL);
	}
	q[n++] = 0;
	q[n++] = 0; q[n++] = 1;         /* type A */
	q[n++] = 0; q[n++] = 1;         /* class IN */
	return n;
}

/* Skip a (possibly compressed) name; the offset after it, or 0. */
static size_t
dns_skip_name(const uint8_t *p, size_t len, size_t off)
{
	while (off < len) {
		if (p[off] == 0)
			return off + 1;
		if ((p[off] & 0xc0) == 0xc0)
			return off + 2 <= len ? off + 2 : 0;
		off += 1 + p[off];
	}
	return 0;
}

static int
test_dns(struct sockaddr_in *dns, const char *name, const char *expect)
{
	struct pollnet *pn;
	struct pollnet_socket *s;
	uint8_t q[512], r[512];
	size_t qn = dns_query(q, name, 0x6a1b), off;
	ssize_t n;
	int rc, found = 0;

	if ((rc = pollnet_open(&pn, ctl)) < 0)
		return fail("open", rc);
	if ((rc = pollnet_socket(pn, &s)) < 0 || (rc = pollnet_connect(s, dns)) < 0) {
		pollnet_session_close(pn);
		return fail("socket/connect", rc);
	}
	pollnet_set_timeout(s, TIMEOUT_MS);
	n = pollnet_send(s, q, qn);
	if (n >= 0)
		n = pollnet_recv(s, r, sizeof(r), NULL);
	pollnet_session_close(pn);
	if (n < 0)
		return fail("DNS exchange", (int)n);
	if (n < 12 || r[0] != q[0] || r[1] != q[1] || !(r[2] & 0x80) || (r[3] & 0x0f) != 0) {
		printf("FAILED: bad DNS reply (id, QR or rcode %d)\n", n >= 4 ? r[3] & 0x0f : -1);
		return -1;
	}
	off = dns_skip_name(r, (size_t)n, 12);
	if (off == 0 || off + 4 > (size_t)n) {
		printf("FAILED: bad question in the reply\n");
		return -1;
	}
	off += 4;
	for (int a = 0; a < (r[6] << 8 | r[7]); a++) {
		uint16_t type, rdlen;

		off = dns_skip_name(r, (size_t)n, off);
		if (off == 0 || off + 10 > (size_t)n)
			break;
		type = (uint16_t)(r[off] << 8 | r[off + 1]);
		rdlen = (uint16_t)(r[off + 8] << 8 | r[off + 9]);
		off += 10;
		if (off + rdlen > (size_t)n)
			break;
		if (type == 1 && rdlen == 4) {
			char ip[INET_ADDRSTRLEN];

			inet_ntop(AF_INET, r + off, ip, sizeof(ip));
			printf("%s is %s ", name, ip);
			if (expect == NULL || strcmp(ip, expect) == 0)
				found = 1;
		}
		off += rdlen;
	}
	if (!found) {
		printf("FAILED: no A record%s%s\n", expect ? " for " : "", expect ? expect : "");
		return -1;
	}
	return 0;
}

static void
usage(FILE *f, const char *prog)
{
	fprintf(f,
"Usage: %s [options] SERVER_IP SERVER_PORT\n"
"\n"
"The lab's network tests on libpollnet, against a UDP server that answers\n"
"every datagram (an echo, or the lab's server.py).  Prints one\n"
"'testing ...: OK' line per test; exits non-zero if any fails.\n"
"\n"
"  -c, --ctl PATH         pollnet's control socket\n"
"  -d, --dns IP           DNS server for the DNS test (default: SERVER_IP);\n"
"                         it must be a local one (e.g. dnsmasq --no-resolv)\n"
"  -n, --dns-name NAME    the name to look up (default: pollnet.test)\n"
"  -x, --dns-expect IP    the address the answer must hold\n"
"  -p, --dns-port PORT    the DNS server's port (default: 53)\n"
"  -s, --skip-dns         no DNS test\n"
"  -h, --help             this help\n", prog);
}

int
main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "ctl", required_argument, NULL, 'c' },
		{ "dns", required_argument, NULL, 'd' },
		{ "dns-name", required_argument, NULL, 'n' },
		{ "dns-expect", required_argument, NULL, 'x' },
		{ "dns-port", required_argument, NULL, 'p' },
		{ "skip-dns", no_argument, NULL, 's' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *slash = strrchr(argv[0], '/');
	const char *prog = slash != NULL ? slash + 1 : argv[0];
	const char *dns_ip = NULL, *dns_name = "pollnet.test", *expect = NULL;
	struct sockaddr_in dns = { .sin_family = AF_INET, .sin_port = htons(53) };
	int c, skip_dns = 0, failed = 0;
	long port;
	char *end, why[128];
	struct in_addr a;

	opterr = 0;             /* bad_args says it, then the usage */
	while ((c = getopt_long(argc, argv, ":c:d:n:x:p:sh", opts, NULL)) != -1) {
		switch (c) {
		case 'c': ctl = optarg; break;
		case 'd':
			if (inet_pton(AF_INET, optarg, &a) != 1)
				cli_bad(prog, usage, "--dns %s: not an IPv4 address", optarg);
			dns_ip = optarg;
			break;
		case 'n': dns_name = optarg; break;
		case 'x':
			if (inet_pton(AF_INET, optarg, &a) != 1)
				cli_bad(prog, usage, "--dns-expect %s: not an IPv4 address", optarg);
			expect = optarg;
			break;
		case 'p':
			port = strtol(optarg, &end, 10);
			if (*end != '\0' || end == optarg || port < 1 || port > 65535)
				cli_bad(prog, usage, "--dns-port %s: not a port (1-65535)", optarg);
			dns.sin_port = htons((uint16_t)port);
			break;
		case 's': skip_dns = 1; break;
		case 'h': usage(stdout, prog); return 0;
		default:
			cli_option_reason(why, sizeof(why), c, argv, opts);
			cli_bad(prog, usage, "%s", why);
		}
	}
	if (optind > argc - 2)
		cli_bad(prog, usage, "expected SERVER_IP SERVER_PORT");
	if (optind < argc - 2)
		cli_bad(prog, usage, "unexpected argument '%s'", argv[optind + 2]);
	server.sin_family = AF_INET;
	port = strtol(argv[optind + 1], &end, 10);
	if (inet_pton(AF_INET, argv[optind], &server.sin_addr) != 1 || *end != '\0' ||
	    port < 1 || port > 65535)
		cli_bad(prog, usage, "expected SERVER_IP SERVER_PORT, got '%s %s'",
			 argv[optind], argv[optind + 1]);
	server.sin_port = htons((uint16_t)port);
	inet_pton(AF_INET, dns_ip ? dns_ip : argv[optind], &dns.sin_addr);

	printf("nettests running against %s:%ld\n", argv[optind], port);
	printf("testing one ping: ");
	fflush(stdout);
	if (test_one_ping() == 0)
		printf("OK\n");
	else
		failed++;
	printf("testing single-process pings: ");
	fflush(stdout);
	if (test_single_process() == 0)
		printf("OK\n");
	else
		failed++;
	printf("testing multi-process pings: ");
	fflush(stdout);
	if (test_multi_process() == 0)
		printf("OK\n");
	else
		failed++;
	if (!skip_dns) {
		printf("testing DNS: ");
		fflush(stdout);
		if (test_dns(&dns, dns_name, expect) == 0)
			printf("OK\n");
		else
			failed++;
	}
	printf(failed ? "%d test(s) FAILED\n" : "all tests passed\n", failed);
	return failed ? 1 : 0;
}
