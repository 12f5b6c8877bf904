/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * pollnetctl: what pollnet is doing.  Reads the stats segment
 * (abi/pn_stats.h) read-only; `capture` also asks pollnet, over its control
 * socket, for a capture region.  No DPDK at run time.  One file per command
 * (stats.c, sockets.c, tail.c, capture.c), what they share in common.c,
 * the command line in main.c.
 */
#ifndef PN_POLLNETCTL_H
#define PN_POLLNETCTL_H

#include <getopt.h>
#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "statnames.h"
#include "abi/pn_stats.h"
#include "counters.h"
#include "summary.h"

#define SEQ_TRIES 100000

extern const char *prog;
extern void (*usage_fn)(FILE *f);       /* the running command's usage, for bad_args */
extern volatile sig_atomic_t got_stop;  /* SIGINT/SIGTERM (on_stop) */

void on_stop(int sig);
/* "pollnetctl: MESSAGE", exit status 1 */
void die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
/* a bad argument (client/cli.h): the message, a blank line and the usage on
 * stderr, exit status 2 */
void bad_args(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
/* getopt_long returned c, '?' or ':', for argv[optind - 1]: say why, as
 * bad_args */
void bad_option(int c, char *const argv[], const struct option *longopts)
	__attribute__((noreturn));

/* A value of option opt (its long name: "--lines"), or bad_args. */
long parse_long(const char *opt, const char *v, long lo, long hi);
double parse_secs(const char *opt, const char *v);
void sleep_secs(double s);

/* the stats segment, mapped read-only */
struct seg {
	const char *path;
	int fd;
	const struct pn_stats_hdr *h;
	uint64_t size;
};

/* Is pollnet still holding it? */
int seg_alive(const struct seg *s);
/* Map s->path, or exit with why not. */
void seg_open(struct seg *s);

/* a consistent copy of every counter */
struct snap {
	struct pn_stats_hdr h;
	struct pn_stats_lcore *lc;     /* [nb_lcores] */
	struct pn_counters sum;
	double t;                      /* seconds since pollnet started, as of
	                                * the control thread's last publication */
	double mono;                   /* when we took it (CLOCK_MONOTONIC, s):
	                                * the lcores' blocks are that fresh */
};

void snap_take(const struct seg *s, struct snap *sn);

/* The tcpdump expression in these words (joined by spaces), compiled by
 * libpcap for Ethernet frames into bpf; a bad one exits (status 2) with
 * libpcap's own message.  No words: every frame. */
struct bpf_program;
void filter_compile(struct bpf_program *bpf, int argc, char *const argv[]);

/*
 * Strings from the segment: at most max bytes of s, up to a NUL if there is
 * one.  pollnet writes them, but a segment gone wrong (or an older layout)
 * can hold any bytes, and neither a JSON reader nor a terminal should get
 * them raw.
 *
 * json_string prints s as a JSON string: UTF-8 kept where it is valid, each
 * byte that is not replaced by U+FFFD, quotes, backslashes and control
 * characters escaped.  text_string copies s into dst (len bytes, always
 * terminated) for a table: valid UTF-8 kept, control characters and bytes
 * that are not UTF-8 each made a '?'.
 */
void json_string(FILE *f, const char *s, size_t max);
const char *text_string(char *dst, size_t len, const char *s, size_t max);

/* A consistent copy of the segment's clock that makes sense (a rate, in
 * Hz, that is finite and positive), or exit with why not. */
struct pn_stats_clock;
void clock_take(const struct seg *s, struct pn_stats_clock *clk);

/* 1234567 -> "1.23M" */
const char *human(double v, char *buf, size_t len);
/* a network-order IPv4 address, dotted */
void ip_str(uint32_t be, char *buf);

/* the commands: argv[0] is the command's name */
int cmd_stats(struct seg *s, int argc, char **argv);
int cmd_sockets(struct seg *s, int argc, char **argv);
int cmd_groups(struct seg *s, int argc, char **argv);
int cmd_tail(struct seg *s, int argc, char **argv);
int cmd_capture(struct seg *s, int argc, char **argv);

#endif
