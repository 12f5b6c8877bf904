/* SPDX-License-Identifier: BSD-3-Clause */
/* The app's side of the stats segment (layout: abi/pn_stats.h). */
#ifndef PN_APP_STATS_H
#define PN_APP_STATS_H

#include <stddef.h>
#include <stdint.h>

#include "abi/pn_stats.h"

struct app;

struct statseg {
	struct pn_stats_hdr *h;     /* NULL: none */
	uint64_t size;
	int fd;
	char path[108];
	uint64_t tsc_start;         /* the clock's baseline: TSC ... */
	int64_t mono_start_ns;      /* ... and CLOCK_MONOTONIC together */
};

/* Create, lock and map the segment at the configured path; -1 with a
 * message in err. */
int statseg_create(struct statseg *s, struct app *a, char *err, size_t errlen);
/* Control thread: port, control and socket entries. */
void statseg_publish(struct app *a);
/* Remove the file and unmap. */
void statseg_destroy(struct statseg *s);

#endif
