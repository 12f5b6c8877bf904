/* SPDX-License-Identifier: BSD-3-Clause */
/* Capture sessions: the control thread's side (capture.h). */
#define _GNU_SOURCE
#include "capture.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#include "app.h"
#include "sock_table.h"

int
capture_start(struct app *a, int client, const struct pkt_filter *f, uint32_t snaplen, int *fd)
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
	c->filt = *f;
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
	free(c);
}
