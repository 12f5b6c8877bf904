/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * pollnetctl: what pollnet is doing.  Reads the stats segment (statseg.h)
 * read-only; `capture` also asks pollnet, over its control socket, for a
 * capture region.  No DPDK at run time.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <math.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <pcap/pcap.h>

#include "pollnet_shm.h"
#include "statnames.h"
#include "statseg.h"

#define SEQ_TRIES 100000

static const char *prog = "pollnetctl";
static volatile sig_atomic_t got_stop;

static void
on_stop(int sig)
{
	(void)sig;
	got_stop = 1;
}

/* "pollnetctl: MESSAGE", a tail, and exit with status */
static void __attribute__((format(printf, 3, 0), noreturn))
vquit(int status, const char *tail, const char *fmt, va_list ap)
{
	fprintf(stderr, "%s: ", prog);
	vfprintf(stderr, fmt, ap);
	fputs(tail, stderr);
	exit(status);
}

static void __attribute__((format(printf, 1, 2), noreturn))
die(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vquit(1, "\n", fmt, ap);
}

static void
usage(FILE *f)
{
	fprintf(f,
"Usage: pollnetctl [--stats PATH] COMMAND [OPTIONS] [FILTER]\n"
"\n"
"What a running pollnet is doing, read from its stats segment.\n"
"\n"
"Commands:\n"
"  stats [-i SECS] [-c COUNT] [-a] [--json]\n"
"        counters: port (hardware and driver), stack, drops by reason, per\n"
"        lcore, control.  Rates are per second: since pollnet started, or\n"
"        over each interval with -i (refreshing; -c stops after COUNT).\n"
"        -a shows drop reasons that are zero too.\n"
"  sockets [--json]\n"
"        every socket: local and remote address, owning process, lcore,\n"
"        datagrams and drops each way, queue depths.\n"
"  tail [-f] [-n N] [-c COUNT] [--json] [FILTER]\n"
"        the last N (default 10) packets pollnet received or sent, one line\n"
"        each; -f keeps following new ones (-c: stop after COUNT lines).\n"
"  capture -w FILE [-c N] [-t SECS] [-s SNAPLEN] [FILTER]\n"
"        frames from now on into a pcap file (FILE '-' is standard output),\n"
"        until N frames, SECS seconds or Ctrl-C.  Root only.\n"
"\n"
"FILTER: words joined by 'and' (which may be left out):\n"
"  udp | tcp | icmp | arp | ip     any of these kinds\n"
"  port N                          UDP or TCP port, either end\n"
"  host A.B.C.D                    IPv4 address (ARP sender/target), either end\n"
"\n"
"Options:\n"
"  --stats PATH   the stats segment (default $POLLNET_STATS, else\n"
"                 " PN_STATS_DEFAULT_PATH ")\n"
"  -h, --help     this text (also after a command)\n"
"\n"
"Exit status: 0 ok, 1 pollnet not running or an error, 2 bad arguments.\n");
}

/* a bad argument: status 2 and a pointer to --help */
static void __attribute__((format(printf, 1, 2), noreturn))
bad_args(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vquit(2, "\nTry 'pollnetctl --help'.\n", fmt, ap);
}

static long
parse_long(const char *opt, const char *v, long lo, long hi)
{
	char *end;
	long n;

	errno = 0;
	n = strtol(v, &end, 10);
	if (errno != 0 || end == v || *end != '\0' || n < lo || n > hi)
		bad_args("%s %s: expected a whole number from %ld to %ld", opt, v, lo, hi);
	return n;
}

static double
parse_secs(const char *opt, const char *v)
{
	char *end;
	double d;

	errno = 0;
	d = strtod(v, &end);
	if (errno != 0 || end == v || *end != '\0' || !(d > 0) || d > 86400)
		bad_args("%s %s: expected seconds, more than 0 and at most 86400", opt, v);
	return d;
}

static void
sleep_secs(double s)
{
	struct timespec ts = { .tv_sec = (time_t)s,
			       .tv_nsec = (long)((s - (double)(time_t)s) * 1e9) };

	nanosleep(&ts, NULL);
}

/* ---- the segment ---- */

struct seg {
	const char *path;
	int fd;
	const struct pn_stats_hdr *h;
	uint64_t size;
};

/* A reader gets the shared lock only if pollnet no longer holds its
 * exclusive one. */
static int
seg_alive(const struct seg *s)
{
	if (flock(s->fd, LOCK_SH | LOCK_NB) == 0) {
		flock(s->fd, LOCK_UN);
		return 0;
	}
	return errno == EWOULDBLOCK;
}

static void
seg_open(struct seg *s, const char *path)
{
	struct stat st;
	void *p;

	s->path = path;
	s->fd = open(path, O_RDONLY | O_CLOEXEC);
	if (s->fd < 0) {
		if (errno == ENOENT)
			die("pollnet is not running (no stats segment at %s)", path);
		die("%s: %s", path, strerror(errno));
	}
	if (!seg_alive(s))
		die("pollnet is not running (%s is left from one that exited)", path);
	if (fstat(s->fd, &st) < 0)
		die("%s: %s", path, strerror(errno));
	if (st.st_size < (off_t)sizeof(struct pn_stats_hdr))
		die("%s: not a pollnet stats segment (%lld bytes)", path, (long long)st.st_size);
	p = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_SHARED, s->fd, 0);
	if (p == MAP_FAILED)
		die("%s: %s", path, strerror(errno));
	s->h = p;
	s->size = (uint64_t)st.st_size;
	if (!pn_stats_valid(s->h, s->size))
		die("%s: not a stats segment this pollnetctl understands "
		    "(a different version, or pollnet still starting)", path);
}

struct snap {
	struct pn_stats_hdr h;
	struct pn_stats_lcore *lc;     /* [nb_lcores] */
	struct stack_stats sum;
	double t;                      /* seconds since pollnet started */
};

static void
snap_take(const struct seg *s, struct snap *sn)
{
	if (sn->lc == NULL)
		sn->lc = calloc(s->h->nb_lcores, sizeof(*sn->lc));
	if (sn->lc == NULL)
		die("out of memory");
	if (pn_stats_snapshot(s->h, &sn->h, sn->lc, &sn->sum) < 0)
		die("pollnet keeps its counters busy: no consistent copy");
	sn->t = sn->h.ctl.uptime_ns / 1e9;
}

/* ---- output helpers ---- */

static const char *
human(double v, char *buf, size_t len)
{
	static const char *units[] = { "", "k", "M", "G", "T", "P" };
	int u = 0;

	while (fabs(v) >= 999.5 && u < 5) {
		v /= 1000;
		u++;
	}
	if (u == 0)
		snprintf(buf, len, "%.0f", v);
	else
		snprintf(buf, len, "%.*f%s", fabs(v) < 9.995 ? 2 : fabs(v) < 99.95 ? 1 : 0, v,
			 units[u]);
	return buf;
}

static void
ip_str(uint32_t be, char *buf)
{
	struct in_addr a = { .s_addr = be };

	inet_ntop(AF_INET, &a, buf, INET_ADDRSTRLEN);
}

/* ---- stats ---- */

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
	char ip[INET_ADDRSTRLEN];

	ip_str(sn->h.ip, ip);
	printf("pollnet pid %d, port %s (%s), link %s", sn->h.pid, sn->h.port_spec,
	       sn->h.driver, sn->h.port.link_up ? "up" : "down");
	if (sn->h.port.link_up && sn->h.port.speed_mbps)
		printf(" %u Mbps", sn->h.port.speed_mbps);
	printf(", %02x:%02x:%02x:%02x:%02x:%02x %s/%u, %u lcore%s, up %.1f s\n",
	       sn->h.mac[0], sn->h.mac[1], sn->h.mac[2], sn->h.mac[3], sn->h.mac[4],
	       sn->h.mac[5], ip, sn->h.prefix, sn->h.nb_lcores,
	       sn->h.nb_lcores > 1 ? "s" : "", sn->t);
}

static void
print_stats(const struct snap *sn, const struct counters *now, const struct counters *before,
	    double dt, bool all, bool json)
{
	char a[32], b[32];

	if (json) {
		char ip[INET_ADDRSTRLEN];

		ip_str(sn->h.ip, ip);
		printf("{\"pid\": %d, \"port\": \"%s\", \"driver\": \"%s\", \"ip\": \"%s\", "
		       "\"link_up\": %s, \"uptime_s\": %.3f, \"interval_s\": %.3f, \"counters\": {",
		       sn->h.pid, sn->h.port_spec, sn->h.driver, ip,
		       sn->h.port.link_up ? "true" : "false", sn->t, dt);
		for (size_t i = 0; i < now->n; i++)
			printf("%s\"%s\": %" PRIu64, i ? ", " : "", now->c[i].name, now->c[i].v);
		printf("}, \"rates\": {");
		for (size_t i = 0, k = 0; i < now->n; i++) {
			uint64_t prev = before != NULL ? before->c[i].v : 0;

			if (now->c[i].flags & PN_CNT_LEVEL)
				continue;
			printf("%s\"%s\": %.1f", k++ ? ", " : "", now->c[i].name,
			       dt > 0 ? (double)(now->c[i].v - prev) / dt : 0.0);
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
			       human(dt > 0 ? (double)(c->v - prev) / dt : 0, b, sizeof(b)));
	}
	fflush(stdout);
}

static int
cmd_stats(struct seg *s, int argc, char **argv)
{
	static const struct option lo[] = {
		{ "json", no_argument, NULL, 'j' }, { "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 } };
	double interval = 0;
	long count = -1;
	bool json = false, all = false;
	struct snap sn[2] = { 0 };
	struct counters cs[2] = { 0 };
	int c, cur = 0;

	while ((c = getopt_long(argc, argv, "+i:c:ah", lo, NULL)) != -1) {
		switch (c) {
		case 'i': interval = parse_secs("-i", optarg); break;
		case 'c': count = parse_long("-c", optarg, 1, 1000000000); break;
		case 'a': all = true; break;
		case 'j': json = true; break;
		case 'h': usage(stdout); return 0;
		default: bad_args("stats: bad option");
		}
	}
	if (optind < argc)
		bad_args("stats: unexpected argument '%s'", argv[optind]);
	if (count > 0 && interval == 0)
		bad_args("stats: -c needs -i");
	seg_open(s, s->path);
	snap_take(s, &sn[cur]);
	collect(&sn[cur], &cs[cur]);
	if (interval == 0) {
		print_stats(&sn[cur], &cs[cur], NULL, sn[cur].t, all, json);
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
		print_stats(&sn[cur], &cs[cur], &cs[prev], sn[cur].t - sn[prev].t, all, json);
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

/* ---- sockets ---- */

static int
cmd_sockets(struct seg *s, int argc, char **argv)
{
	static const struct option lo[] = {
		{ "json", no_argument, NULL, 'j' }, { "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 } };
	const struct pn_stats_sock *tab;
	bool json = false;
	int c, n = 0;

	while ((c = getopt_long(argc, argv, "+h", lo, NULL)) != -1) {
		switch (c) {
		case 'j': json = true; break;
		case 'h': usage(stdout); return 0;
		default: bad_args("sockets: bad option");
		}
	}
	if (optind < argc)
		bad_args("sockets: unexpected argument '%s'", argv[optind]);
	seg_open(s, s->path);
	tab = pn_stats_socks(s->h);
	if (json)
		printf("[");
	else
		printf("%-5s %-6s %-21s %-21s %7s %5s %10s %10s %8s %8s %9s %9s\n",
		       "ID", "KIND", "LOCAL", "REMOTE", "PID", "LCORE", "RX", "TX",
		       "RX_DROP", "TX_DROP", "RXQ", "TXQ");
	for (uint32_t i = 0; i < s->h->nb_socks; i++) {
		struct pn_stats_sock e;
		char la[INET_ADDRSTRLEN], ra[INET_ADDRSTRLEN], local[32], remote[32];
		char rx[16], tx[16], rq[24], tq[24];

		if (pn_seq_read(&tab[i].seq, &e, &tab[i], sizeof(e), SEQ_TRIES) < 0 ||
		    e.kind == PN_SOCK_FREE)
			continue;
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
			printf("%s{\"id\": %u, \"kind\": \"%s\", \"local_addr\": \"%s\", \"local_port\": %u, "
			       "\"remote_addr\": %s%s%s, \"remote_port\": %u, \"pid\": %d, \"lcore\": %u, "
			       "\"rx_datagrams\": %" PRIu64 ", \"rx_bytes\": %" PRIu64 ", "
			       "\"rx_drops\": %" PRIu64 ", \"tx_datagrams\": %" PRIu64 ", "
			       "\"tx_bytes\": %" PRIu64 ", \"tx_drops\": %" PRIu64 ", "
			       "\"rx_queued\": %u, \"rx_ring\": %u, \"tx_queued\": %u, \"tx_ring\": %u}",
			       n ? ", " : "", e.id, e.kind == PN_SOCK_ECHO ? "echo" : "client",
			       la, e.lport, e.connected ? "\"" : "", e.connected ? ra : "null",
			       e.connected ? "\"" : "", e.rport, e.pid, e.lcore, e.rx_pkts,
			       e.rx_bytes, e.rx_drops, e.tx_pkts, e.tx_bytes, e.tx_drops,
			       e.rx_queued, e.rx_size, e.tx_queued, e.tx_size);
		} else {
			snprintf(rq, sizeof(rq), "%u/%u", e.rx_queued, e.rx_size);
			snprintf(tq, sizeof(tq), "%u/%u", e.tx_queued, e.tx_size);
			printf("%-5u %-6s %-21s %-21s %7d %5u %10s %10s %8" PRIu64 " %8" PRIu64
			       " %9s %9s\n", e.id, e.kind == PN_SOCK_ECHO ? "echo" : "udp",
			       local, remote, e.pid, e.lcore,
			       human((double)e.rx_pkts, rx, sizeof(rx)),
			       human((double)e.tx_pkts, tx, sizeof(tx)), e.rx_drops, e.tx_drops,
			       rq, e.kind == PN_SOCK_ECHO ? "-" : tq);
		}
		n++;
	}
	if (json)
		printf("]\n");
	return 0;
}

/* ---- tail ---- */

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

static int
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
		case 'h': usage(stdout); return 0;
		default: bad_args("tail: bad option");
		}
	}
	if (pkt_filter_parse(&f, argc - optind, argv + optind, err, sizeof(err)) < 0)
		bad_args("tail: %s", err);
	seg_open(s, s->path);
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

/* ---- capture ---- */

static int
ctl_call(int fd, struct pn_ctl_req *req, struct pn_ctl_rep *rep, int *rfd)
{
	char cbuf[CMSG_SPACE(sizeof(int) * 2)];
	struct iovec iov = { .iov_base = rep, .iov_len = sizeof(*rep) };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1,
			     .msg_control = cbuf, .msg_controllen = sizeof(cbuf) };
	struct cmsghdr *cm;
	ssize_t n;

	if (send(fd, req, sizeof(*req), MSG_NOSIGNAL) != (ssize_t)sizeof(*req))
		return -errno;
	n = recvmsg(fd, &mh, MSG_CMSG_CLOEXEC);
	if (n != (ssize_t)sizeof(*rep))
		return n < 0 ? -errno : -EPROTO;
	for (cm = CMSG_FIRSTHDR(&mh); cm != NULL; cm = CMSG_NXTHDR(&mh, cm))
		if (cm->cmsg_level == SOL_SOCKET && cm->cmsg_type == SCM_RIGHTS &&
		    rfd != NULL && cm->cmsg_len >= CMSG_LEN(sizeof(int)))
			memcpy(rfd, CMSG_DATA(cm), sizeof(int));
	return rep->status;
}

static void
pcap_time(const struct pn_stats_hdr *h, uint64_t tsc, struct timeval *tv)
{
	double rel = ((double)tsc - (double)h->tsc0) / (double)h->tsc_hz;
	int64_t ns = h->realtime0_ns + (int64_t)(rel * 1e9);

	tv->tv_sec = (time_t)(ns / 1000000000);
	tv->tv_usec = (suseconds_t)(ns % 1000000000 / 1000);
}

static int
cap_cmp(const void *a, const void *b)
{
	const struct pn_cap_rec *const *x = a, *const *y = b;

	return (*x)->ts < (*y)->ts ? -1 : (*x)->ts > (*y)->ts;
}

static int
cmd_capture(struct seg *s, int argc, char **argv)
{
	static const struct option lo[] = { { "help", no_argument, NULL, 'h' },
					    { NULL, 0, NULL, 0 } };
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct pn_ctl_req req = { 0 };
	struct pn_ctl_rep rep = { 0 };
	struct pkt_filter f;
	struct pn_cap_hdr geo;
	const char *file = NULL;
	long count = -1, snaplen = PN_CAP_DATA;
	double secs = 0;
	uint64_t got = 0, skipped = 0;
	struct timespec t0, now;
	char err[256];
	int c, fd, mfd = -1, rc;
	uint8_t *region;
	pcap_t *pd;
	pcap_dumper_t *out;
	const struct pn_cap_rec **batch;

	while ((c = getopt_long(argc, argv, "+w:c:t:s:h", lo, NULL)) != -1) {
		switch (c) {
		case 'w': file = optarg; break;
		case 'c': count = parse_long("-c", optarg, 1, 1000000000); break;
		case 't': secs = parse_secs("-t", optarg); break;
		case 's': snaplen = parse_long("-s", optarg, 14, PN_CAP_DATA); break;
		case 'h': usage(stdout); return 0;
		default: bad_args("capture: bad option");
		}
	}
	if (file == NULL)
		bad_args("capture: -w FILE is required");
	if (pkt_filter_parse(&f, argc - optind, argv + optind, err, sizeof(err)) < 0)
		bad_args("capture: %s", err);
	seg_open(s, s->path);

	fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (fd < 0)
		die("socket: %s", strerror(errno));
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", s->h->ctl_path);
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		die("%s: %s", s->h->ctl_path, strerror(errno));
	req = (struct pn_ctl_req){ .op = PN_CTL_HELLO, .seq = 1, .version = PN_CTL_VERSION };
	rc = ctl_call(fd, &req, &rep, NULL);
	if (rc < 0)
		die("pollnet refused this connection: %s", strerror(-rc));
	req = (struct pn_ctl_req){ .op = PN_CTL_CAPTURE, .seq = 2, .sock_id = f.kinds,
				   .addr = f.has_host ? htonl(f.host) : 0,
				   .port = f.has_port ? htons(f.port) : 0,
				   .arg = (uint32_t)snaplen };
	if (f.has_host && f.host == 0)
		bad_args("capture: host 0.0.0.0 cannot be a filter");
	if (f.has_port && f.port == 0)
		bad_args("capture: port 0 cannot be a filter");
	rc = ctl_call(fd, &req, &rep, &mfd);
	if (rc == -EPERM)
		die("capture: only root may capture (frames carry every client's data)");
	if (rc == -EBUSY)
		die("capture: another capture is running (one at a time)");
	if (rc < 0 || mfd < 0)
		die("capture: pollnet said %s", strerror(rc < 0 ? -rc : EPROTO));
	region = mmap(NULL, rep.region_size, PROT_READ | PROT_WRITE, MAP_SHARED, mfd, 0);
	if (region == MAP_FAILED)
		die("capture: mapping the region: %s", strerror(errno));
	memcpy(&geo, region, sizeof(geo));
	{
		struct pn_cap_hdr want;

		if (memcmp(geo.magic, PN_CAP_MAGIC, 8) != 0 || geo.nb_lcores != s->h->nb_lcores ||
		    pn_cap_layout(&want, geo.nb_lcores, geo.snaplen) != rep.region_size ||
		    want.slot_off != geo.slot_off || want.ring_off != geo.ring_off)
			die("capture: the region pollnet sent makes no sense");
	}
	pd = pcap_open_dead(DLT_EN10MB, (int)snaplen);
	out = pd != NULL ? pcap_dump_open(pd, file) : NULL;
	if (out == NULL)
		die("capture: %s: %s", file, pd != NULL ? pcap_geterr(pd) : "pcap_open_dead failed");
	batch = calloc((size_t)geo.nb_lcores * geo.slots, sizeof(*batch));
	if (batch == NULL)
		die("out of memory");
	signal(SIGINT, on_stop);
	signal(SIGTERM, on_stop);
	signal(SIGPIPE, on_stop);
	fprintf(stderr, "%s: capturing on %s, snaplen %ld", prog, s->h->port_spec, snaplen);
	for (int i = optind; i < argc; i++)
		fprintf(stderr, "%s%s", i == optind ? ", filter: " : " ", argv[i]);
	fprintf(stderr, "\n");
	clock_gettime(CLOCK_MONOTONIC, &t0);
	while (!got_stop && (count < 0 || got < (uint64_t)count)) {
		size_t k = 0;
		uint64_t heads[64];

		for (uint32_t i = 0; i < geo.nb_lcores && i < 64; i++) {
			struct pn_cap_ring *r = pn_cap_ring(region, &geo, i);
			uint64_t tail = atomic_load_explicit(&r->tail, memory_order_relaxed);

			heads[i] = atomic_load_explicit(&r->head, memory_order_acquire);
			if (heads[i] - tail > geo.slots)
				die("capture: pollnet's ring position makes no sense");
			for (uint64_t p = tail; p < heads[i]; p++)
				batch[k++] = pn_cap_rec(region, &geo, i, p);
		}
		qsort(batch, k, sizeof(batch[0]), cap_cmp);
		for (size_t j = 0; j < k && (count < 0 || got < (uint64_t)count); j++) {
			struct pcap_pkthdr ph;

			pcap_time(s->h, batch[j]->ts, &ph.ts);
			ph.caplen = batch[j]->caplen < snaplen ? batch[j]->caplen : (uint32_t)snaplen;
			ph.len = batch[j]->len;
			pcap_dump((u_char *)out, &ph, batch[j]->data);
			got++;
		}
		/* everything read is free again (what -c left is dropped) */
		for (uint32_t i = 0; i < geo.nb_lcores && i < 64; i++)
			atomic_store_explicit(&pn_cap_ring(region, &geo, i)->tail, heads[i],
					      memory_order_release);
		if (k == 0) {
			pcap_dump_flush(out);
			clock_gettime(CLOCK_MONOTONIC, &now);
			if (secs > 0 && (double)(now.tv_sec - t0.tv_sec) +
			    (double)(now.tv_nsec - t0.tv_nsec) / 1e9 >= secs)
				break;
			if (!seg_alive(s)) {
				fprintf(stderr, "%s: pollnet exited\n", prog);
				break;
			}
			sleep_secs(0.01);
		}
	}
	for (uint32_t i = 0; i < geo.nb_lcores; i++)
		skipped += atomic_load_explicit(&pn_cap_ring(region, &geo, i)->skipped,
						memory_order_relaxed);
	pcap_dump_close(out);
	pcap_close(pd);
	free(batch);
	munmap(region, rep.region_size);
	close(mfd);
	close(fd);              /* pollnet stops copying */
	fprintf(stderr, "%s: %" PRIu64 " frame%s captured, %" PRIu64 " skipped by pollnet "
		"(the capture ring was full)\n", prog, got, got == 1 ? "" : "s", skipped);
	return 0;
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

	s.path = getenv("POLLNET_STATS");
	if (s.path == NULL || s.path[0] == '\0')
		s.path = PN_STATS_DEFAULT_PATH;
	while ((c = getopt_long(argc, argv, "+h", lo, NULL)) != -1) {
		switch (c) {
		case 'S': s.path = optarg; break;
		case 'h': usage(stdout); return 0;
		default: bad_args("bad option");
		}
	}
	if (optind >= argc)
		bad_args("a command is needed: stats, sockets, tail or capture");
	cmd = argv[optind];
	argc -= optind;
	argv += optind;
	optind = 1;
	if (strcmp(cmd, "stats") == 0)
		return cmd_stats(&s, argc, argv);
	if (strcmp(cmd, "sockets") == 0)
		return cmd_sockets(&s, argc, argv);
	if (strcmp(cmd, "tail") == 0)
		return cmd_tail(&s, argc, argv);
	if (strcmp(cmd, "capture") == 0)
		return cmd_capture(&s, argc, argv);
	if (strcmp(cmd, "help") == 0) {
		usage(stdout);
		return 0;
	}
	bad_args("unknown command '%s' (stats, sockets, tail, capture)", cmd);
}
