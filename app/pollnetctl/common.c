/* SPDX-License-Identifier: BSD-3-Clause */
/* What pollnetctl's commands share: messages, arguments, the segment. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>

#include <pcap/pcap.h>

#include "cli.h"
#include "pollnetctl.h"

const char *prog = "pollnetctl";
void (*usage_fn)(FILE *f);
volatile sig_atomic_t got_stop;

void
on_stop(int sig)
{
	(void)sig;
	got_stop = 1;
}

static void __attribute__((format(printf, 3, 0), noreturn))
vquit(int status, const char *tail, const char *fmt, va_list ap)
{
	fprintf(stderr, "%s: ", prog);
	vfprintf(stderr, fmt, ap);
	fputs(tail, stderr);
	exit(status);
}

void
die(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vquit(1, "\n", fmt, ap);
}

void
bad_args(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	cli_vwhy(prog, fmt, ap);
	va_end(ap);
	if (usage_fn != NULL)
		usage_fn(stderr);
	exit(2);
}

void
bad_option(int c, char *const argv[], const struct option *longopts)
{
	char why[128];

	cli_option_reason(why, sizeof(why), c, argv, longopts);
	bad_args("%s", why);
}

long
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

double
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

void
sleep_secs(double s)
{
	struct timespec ts = { .tv_sec = (time_t)s,
			       .tv_nsec = (long)((s - (double)(time_t)s) * 1e9) };

	nanosleep(&ts, NULL);
}

/* ---- the segment ---- */

/* A reader gets the shared lock only if pollnet no longer holds its
 * exclusive one. */
int
seg_alive(const struct seg *s)
{
	if (flock(s->fd, LOCK_SH | LOCK_NB) == 0) {
		flock(s->fd, LOCK_UN);
		return 0;
	}
	return errno == EWOULDBLOCK;
}

void
seg_open(struct seg *s)
{
	const char *path = s->path;
	struct stat st;
	void *p;

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

void
snap_take(const struct seg *s, struct snap *sn)
{
	if (sn->lc == NULL)
		sn->lc = calloc(s->h->nb_lcores, sizeof(*sn->lc));
	if (sn->lc == NULL)
		die("out of memory");
	if (pn_stats_snapshot(s->h, &sn->h, sn->lc, &sn->sum) < 0)
		die("pollnet keeps its counters busy: no consistent copy");
	sn->t = sn->h.ctl.uptime_ns / 1e9;
	{
		struct timespec ts;

		clock_gettime(CLOCK_MONOTONIC, &ts);
		sn->mono = (double)ts.tv_sec + ts.tv_nsec / 1e9;
	}
}

void
clock_take(const struct seg *s, struct pn_stats_clock *clk)
{
	if (pn_stats_clock_read(s->h, clk) < 0)
		die("pollnet keeps its clock busy: no consistent copy");
	if (!isfinite(clk->hz) || !(clk->hz > 0))
		die("%s: the segment's clock makes no sense (a rate of %g Hz)", s->path, clk->hz);
}

/* ---- output ---- */

/* The length of the valid UTF-8 sequence at p (n bytes left), or 0: no
 * overlong forms, no surrogates, nothing above U+10FFFF (RFC 3629). */
static size_t
utf8_len(const unsigned char *p, size_t n)
{
	size_t len;
	uint32_t cp;

	if (p[0] < 0x80)
		return 1;
	if (p[0] >= 0xc2 && p[0] <= 0xdf)
		len = 2, cp = p[0] & 0x1f;
	else if (p[0] >= 0xe0 && p[0] <= 0xef)
		len = 3, cp = p[0] & 0x0f;
	else if (p[0] >= 0xf0 && p[0] <= 0xf4)
		len = 4, cp = p[0] & 0x07;
	else
		return 0;
	if (len > n)
		return 0;
	for (size_t i = 1; i < len; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (p[i] & 0x3f);
	}
	if ((len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) || cp > 0x10ffff ||
	    (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return len;
}

void
json_string(FILE *f, const char *s, size_t max)
{
	const unsigned char *p = (const unsigned char *)s;
	const size_t n = strnlen(s, max);

	fputc('"', f);
	for (size_t i = 0; i < n;) {
		size_t len = utf8_len(p + i, n - i);

		if (len == 0) {
			fputs("\\ufffd", f);
			i++;
		} else if (p[i] == '"' || p[i] == '\\') {
			fprintf(f, "\\%c", p[i++]);
		} else if (p[i] < 0x20 || p[i] == 0x7f) {
			fprintf(f, "\\u%04x", p[i++]);
		} else {
			fwrite(p + i, 1, len, f);
			i += len;
		}
	}
	fputc('"', f);
}

const char *
text_string(char *dst, size_t len, const char *s, size_t max)
{
	const unsigned char *p = (const unsigned char *)s;
	const size_t n = strnlen(s, max);
	size_t o = 0;

	for (size_t i = 0; i < n && o + 1 < len;) {
		size_t l = utf8_len(p + i, n - i);

		if (l == 0 || p[i] < 0x20 || p[i] == 0x7f) {
			dst[o++] = '?';
			i++;
		} else if (o + l < len) {
			memcpy(dst + o, p + i, l);
			o += l;
			i += l;
		} else {
			break;          /* a character that does not fit whole */
		}
	}
	if (len > 0)
		dst[o] = '\0';
	return dst;
}

const char *
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

void
ip_str(uint32_t be, char *buf)
{
	struct in_addr a = { .s_addr = be };

	inet_ntop(AF_INET, &a, buf, INET_ADDRSTRLEN);
}

void
filter_compile(struct bpf_program *bpf, int argc, char *const argv[])
{
	pcap_t *pd = pcap_open_dead(DLT_EN10MB, 65535);
	size_t len = 1;
	char *expr;

	if (pd == NULL)
		die("pcap_open_dead failed");
	for (int i = 0; i < argc; i++)
		len += strlen(argv[i]) + 1;
	expr = calloc(1, len);
	if (expr == NULL)
		die("out of memory");
	for (int i = 0; i < argc; i++) {
		if (i > 0)
			strcat(expr, " ");
		strcat(expr, argv[i]);
	}
	if (pcap_compile(pd, bpf, expr, 1, PCAP_NETMASK_UNKNOWN) < 0)
		bad_args("filter '%s': %s", expr, pcap_geterr(pd));
	free(expr);
	pcap_close(pd);
}
