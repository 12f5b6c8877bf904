/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * pn_segforge PATH [sane|past|wild]: write a stats segment (abi/pn_stats.h) that a
 * pollnet gone wrong, a flipped bit or a stale version could leave: every
 * string field full to its last byte with no NUL, with invalid UTF-8,
 * quotes, backslashes and control characters in it (and a valid "é"
 * that must come out as it is); socket entries of an unknown kind; log
 * records longer than a record holds; with "past", a clock before 1970;
 * with "wild", one that makes no sense.  The layout itself is valid, so that pollnetctl reads it.
 *
 * pollnetctl reads a segment only while its writer holds an exclusive lock
 * on it: the test takes that lock itself.
 */
#include <arpa/inet.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "abi/pn_stats.h"

/* Fill dst[0..size) with the hostile bytes, over and over, no NUL. */
static void
hostile(char *dst, size_t size)
{
	static const char bad[] =
		"dpdk:\xc3\xa9"                 /* é: valid UTF-8, kept */
		"\"quote\\back\n\t\x01\x1b[2J\x7f"
		"\xff\xfe"                      /* never in UTF-8 */
		"\xc0\xaf"                      /* overlong '/' */
		"\xed\xa0\x80"                  /* a surrogate, U+D800 */
		"\xf4\x90\x80\x80"              /* above U+10FFFF */
		"\xe2\x82"                      /* cut short */
		"\xe2\x82\xac";                 /* then whole: the euro sign */
	for (size_t i = 0; i < size; i++)
		dst[i] = bad[i % (sizeof(bad) - 1)];
}

int
main(int argc, char **argv)
{
	const char *variant = argc > 2 ? argv[2] : "sane";
	struct pn_stats_hdr geo = { 0 }, *h;
	uint64_t size = pn_stats_layout(&geo, 2, 4);
	struct pn_stats_sock *socks;
	int fd;

	if (argc < 2) {
		fprintf(stderr, "usage: pn_segforge PATH [sane|past|wild]\n");
		return 2;
	}
	fd = open(argv[1], O_RDWR | O_CREAT | O_TRUNC, 0644);
	if (fd < 0 || ftruncate(fd, (off_t)size) < 0) {
		perror(argv[1]);
		return 1;
	}
	h = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (h == MAP_FAILED) {
		perror("mmap");
		return 1;
	}
	memcpy(h, &geo, sizeof(geo));
	memcpy(h->magic, PN_STATS_MAGIC, sizeof(h->magic));
	h->version = PN_STATS_VERSION;
	h->pid = 4242;
	h->ip = htonl(0xc6120002);
	h->prefix = 24;
	h->summaries = 1;
	h->tsc_hz = 1000000000;
	h->tsc0 = 1000;
	h->realtime0_ns = 1700000000000000000;
	hostile(h->port_spec, sizeof(h->port_spec));
	hostile(h->driver, sizeof(h->driver));
	hostile(h->ctl_path, sizeof(h->ctl_path));
	h->port.has_stats = 1;
	h->port.link_up = 1;
	h->ctl.uptime_ns = 5000000000;
	if (strcmp(variant, "wild") == 0) {
		h->clock = (struct pn_stats_clock){ .tsc = UINT64_MAX, .realtime_ns = INT64_MIN,
						    .hz = NAN };
	} else if (strcmp(variant, "past") == 0) {
		h->clock = (struct pn_stats_clock){ .tsc = 1000, .realtime_ns = -1500000000,
						    .hz = 1e9 };
	} else {
		h->clock = (struct pn_stats_clock){ .tsc = 1000, .realtime_ns = 1700000000000000000,
						    .hz = 1e9 };
	}

	socks = pn_stats_socks(h);
	for (uint32_t i = 0; i < 4; i++) {
		socks[i].kind = i == 3 ? PN_SOCK_ECHO : i == 2 ? 200 : PN_SOCK_CLIENT;
		socks[i].id = i;
		socks[i].pid = 4242;
		socks[i].lport = (uint16_t)(7000 + i);
		socks[i].refused = 3;
		hostile(socks[i].last_refused, sizeof(socks[i].last_refused));
	}

	for (uint32_t l = 0; l < 2; l++) {
		struct pn_stats_log *log = pn_stats_log(h, l);

		for (uint64_t p = 0; p < 6; p++) {
			struct pn_log_rec *r = &log->rec[p];

			r->ts = 2000 + p;
			r->len = (uint16_t)(p == 0 ? 65535 : 60);
			r->caplen = (uint8_t)(p % 2 ? 255 : 42);      /* 255: more than hdr holds */
			r->dir = (uint8_t)(p % 3 ? p : 0);            /* not a direction */
			hostile((char *)r->hdr, sizeof(r->hdr));
			/* IPv4 headers with options: one whole, one that runs on
			 * past the record */
			if (p == 4 || p == 5)
				memcpy(r->hdr + 12, "\x08\x00\x4f\x00\x00\x3c", 6);
			r->tag = pn_log_tag(p);
		}
		atomic_store(&log->head, 6);
	}
	munmap(h, size);
	close(fd);
	return 0;
}
