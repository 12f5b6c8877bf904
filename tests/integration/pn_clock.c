/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * pn_clock STATS [SAMPLES]: how far pollnet's clock is from the kernel's,
 * now.  pollnet stamps frames with the TSC; a reader (pollnetctl tail and
 * capture) turns a TSC value into CLOCK_REALTIME with the stats segment's
 * anchors (abi/pn_stats.h, pn_clock_ns()).  This reads the TSC between two
 * clock_gettime(CLOCK_REALTIME) calls, SAMPLES times (default 200), 2 ms
 * apart, converts it the reader's way and prints
 *
 *   uptime S s, N samples, error median M ns, max X ns
 *
 * (error: converted minus the kernel's time halfway between its two
 * reads; samples whose two reads were more than 2 us apart are skipped).
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <x86intrin.h>

#include "abi/pn_stats.h"

static int64_t
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static int
cmp(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return (x > y) - (x < y);
}

int
main(int argc, char **argv)
{
	int n = argc > 2 ? atoi(argv[2]) : 200, k = 0;
	int64_t *err;
	struct pn_stats_clock clk;
	const struct pn_stats_hdr *h;
	struct stat st;
	int fd;

	if (argc < 2 || n <= 0) {
		fprintf(stderr, "usage: pn_clock STATS [SAMPLES]\n");
		return 2;
	}
	fd = open(argv[1], O_RDONLY);
	if (fd < 0 || fstat(fd, &st) < 0) {
		perror(argv[1]);
		return 1;
	}
	h = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_SHARED, fd, 0);
	if (h == MAP_FAILED || !pn_stats_valid(h, (uint64_t)st.st_size)) {
		fprintf(stderr, "%s: not a stats segment\n", argv[1]);
		return 1;
	}
	err = calloc((size_t)n, sizeof(*err));
	for (int i = 0; i < n && err != NULL; i++) {
		int64_t t1, t2;
		uint64_t tsc;

		if (pn_stats_clock_read(h, &clk) < 0)
			continue;
		t1 = now_ns();
		tsc = __rdtsc();
		t2 = now_ns();
		if (t2 - t1 <= 2000) {
			int64_t e = pn_clock_ns(&clk, tsc) - (t1 + (t2 - t1) / 2);

			err[k++] = e < 0 ? -e : e;
		}
		usleep(2000);
	}
	if (k == 0) {
		fprintf(stderr, "pn_clock: no sample\n");
		return 1;
	}
	qsort(err, (size_t)k, sizeof(*err), cmp);
	printf("uptime %.0f s, %d samples, error median %lld ns, max %lld ns\n",
	       (double)(now_ns() - h->realtime0_ns) / 1e9, k, (long long)err[k / 2],
	       (long long)err[k - 1]);
	free(err);
	return 0;
}
