/* SPDX-License-Identifier: BSD-3-Clause */
#include "fuzz_env.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include <rte_common.h>
#include <rte_eal.h>
#include <rte_mbuf.h>

struct rte_mempool *fuzz_pool;
static unsigned baseline;

void
fuzz_env_init(void)
{
	char *argv[] = { "fuzz", "--no-huge", "-m", "128", "--no-pci", "--no-shconf",
			 "-l", "0", "--log-level=crit", "--no-telemetry", NULL };

	if (fuzz_pool != NULL)
		return;
	if (rte_eal_init(RTE_DIM(argv) - 1, argv) < 0) {
		fprintf(stderr, "fuzz: rte_eal_init failed\n");
		exit(1);
	}
	fuzz_pool = rte_pktmbuf_pool_create("fuzz_pool", 1023, 0, 0,
					    RTE_MBUF_DEFAULT_BUF_SIZE, SOCKET_ID_ANY);
	if (fuzz_pool == NULL) {
		fprintf(stderr, "fuzz: pool creation failed\n");
		exit(1);
	}
	baseline = rte_mempool_in_use_count(fuzz_pool);
}

unsigned
fuzz_in_use(void)
{
	return rte_mempool_in_use_count(fuzz_pool) - baseline;
}

void
fuzz_fail(const char *file, int line, const char *cond, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s:%d: invariant broken: %s: ", file, line, cond);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	abort();
}
