/* SPDX-License-Identifier: BSD-3-Clause */
/* Capture sessions: the control thread's side (capture.h). */
#define _GNU_SOURCE
#include "capture.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <pcap/bpf.h>
#include <rte_errno.h>
#include <rte_malloc.h>

#include "app.h"
#include "sock_table.h"

_Static_assert(sizeof(struct capture_insn) == sizeof(struct bpf_insn),
	       "a classic BPF instruction, as libpcap has it");

unsigned
capture_cbpf(const struct capture_insn *prog, const uint8_t *frame, uint32_t len)
{
	return bpf_filter((const struct bpf_insn *)prog, frame, len, len);
}

/* The filter: classic BPF (checked by the conversion) to eBPF on mbufs,
 * loaded (checked again by DPDK's verifier) and JIT-compiled if it can be;
 * one with indexed loads kept as classic BPF for libpcap's interpreter
 * (capture.h says why). */
static int
capture_filter(struct capture *c, const struct capture_insn *filter, uint32_t n)
{
	struct bpf_program prog = { .bf_len = n, .bf_insns = (struct bpf_insn *)(uintptr_t)filter };
	struct rte_bpf_prm *prm;
	struct rte_bpf_jit jit = { 0 };

	if (n == 0)
		return 0;
	if (n > CAPTURE_MAX_INSNS || !bpf_validate(prog.bf_insns, (int)n))
		return -EINVAL;
	for (uint32_t i = 0; i < n; i++) {
		if (BPF_CLASS(filter[i].code) == BPF_LD && BPF_MODE(filter[i].code) == BPF_IND) {
			struct capture_insn *copy = malloc(n * sizeof(*copy));

			if (copy == NULL)
				return -ENOMEM;
			memcpy(copy, filter, n * sizeof(*copy));
			c->cbpf = copy;
			return 0;
		}
	}
	prm = rte_bpf_convert(&prog);
	if (prm == NULL)
		return -EINVAL;
	c->bpf = rte_bpf_load(prm);
	rte_free(prm);
	if (c->bpf == NULL)
		return -EINVAL;
	if (rte_bpf_get_jit(c->bpf, &jit) == 0 && jit.func != NULL)
		c->jit = jit.func;
	return 0;
}

int
capture_start(struct app *a, int client, const struct capture_insn *filter, uint32_t n,
	      uint32_t snaplen, int *fd)
{
	struct capture *c;
	uint64_t size;
	int e;

	*fd = -1;
	if (a->cap != NULL)
		return -EBUSY;          /* one at a time */
	c = calloc(1, sizeof(*c) + a->nb_lcores * sizeof(c->lc[0]));
	if (c == NULL)
		return -ENOMEM;
	e = capture_filter(c, filter, n);
	if (e < 0) {
		free(c);
		return e;
	}
	if (snaplen == 0 || snaplen > PN_CAP_DATA)
		snaplen = PN_CAP_DATA;
	size = pn_cap_layout(&c->geo, a->nb_lcores, snaplen);
	*fd = memfd_create("pollnet-capture", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	if (*fd < 0 || ftruncate(*fd, (off_t)size) < 0 ||
	    fcntl(*fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL) < 0)
		goto fail;
	c->region = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, *fd, 0);
	if (c->region == MAP_FAILED)
		goto fail;
	memcpy(c->region, &c->geo, sizeof(c->geo));
	c->snaplen = snaplen;
	c->client = client;
	a->cap = c;
	a->captures++;
	for (uint16_t i = 0; i < a->nb_lcores; i++)
		atomic_store_explicit(&a->lc[i].cap, c, memory_order_release);
	return 0;
fail:
	e = -errno;
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
	if (c->bpf != NULL)
		rte_bpf_destroy(c->bpf);
	free((void *)(uintptr_t)c->cbpf);
	free(c);
	return e;
}

void
capture_stop(struct app *a)
{
	struct capture *c = a->cap;

	if (c == NULL)
		return;
	for (uint16_t i = 0; i < a->nb_lcores; i++)
		atomic_store_explicit(&a->lc[i].cap, NULL, memory_order_release);
	sock_table_sync(a->socks);      /* no lcore is inside capture_frame now */
	a->cap = NULL;
	munmap(c->region, c->geo.size);
	if (c->bpf != NULL)
		rte_bpf_destroy(c->bpf);
	free((void *)(uintptr_t)c->cbpf);
	free(c);
}
