/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * How pollnet, pollnetctl, pollnet-echo and pollnet-nettests treat
 * their command lines:
 *
 *   - getopt_long, every option with a short and a long spelling, a long
 *     name with the same letter in every tool (-c --ctl, -S --stats,
 *     -j --json, -h --help ...);
 *   - -h, --help: the usage on stdout, exit status 0;
 *   - a bad option, value or argument: one line on stderr,
 *     "PROG: REASON", a blank line, the usage, exit status 2; a value is
 *     named by its option's long name however it was spelled
 *     ("--lines ten: expected ...").
 *
 * The optstring starts with ':' (after a '+', if any) so that getopt_long
 * tells a missing value (':') from an unknown option ('?'), and opterr is 0:
 * the tool says it, in its own words.
 */
#ifndef PN_CLI_H
#define PN_CLI_H

#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* "PROG: why" and a blank line, on stderr. */
static inline void __attribute__((format(printf, 2, 0)))
cli_vwhy(const char *prog, const char *fmt, va_list ap)
{
	fprintf(stderr, "%s: ", prog);
	vfprintf(stderr, fmt, ap);
	fputs("\n\n", stderr);
}

/* A bad option, value or argument: why, the usage (usage(stderr, prog)),
 * exit status 2. */
static inline void __attribute__((format(printf, 3, 4), noreturn))
cli_bad(const char *prog, void (*usage)(FILE *, const char *), const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	cli_vwhy(prog, fmt, ap);
	va_end(ap);
	usage(stderr, prog);
	exit(2);
}

/* The reason getopt_long returned c ('?' or ':') for argv[optind - 1]. */
static inline void
cli_option_reason(char *buf, size_t len, int c, char *const argv[],
		  const struct option *longopts)
{
	const char *arg = argv[optind - 1];
	const size_t n = strcspn(arg, "=");

	if (strncmp(arg, "--", 2) != 0 || arg[2] == '\0') {
		/* a short one: optopt, wherever it was in a cluster */
		if (c == ':')
			snprintf(buf, len, "option -%c needs a value", optopt);
		else
			snprintf(buf, len, "unknown option '-%c'", optopt);
		return;
	}
	if (c == ':') {
		snprintf(buf, len, "option %.*s needs a value", (int)n, arg);
		return;
	}
	for (const struct option *o = longopts; o->name != NULL; o++)
		if (strlen(o->name) == n - 2 && strncmp(o->name, arg + 2, n - 2) == 0 &&
		    o->has_arg == no_argument && arg[n] == '=') {
			snprintf(buf, len, "option --%s takes no value", o->name);
			return;
		}
	snprintf(buf, len, "unknown option '%.*s'", (int)n, arg);
}

#endif
