/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ABI: a capture region, between pollnet and `pollnetctl capture`.
 *
 * `pollnetctl capture` asks over the control channel (PN_CTL_CAPTURE) and
 * receives a memfd: per lcore, a single-producer ring of fixed slots that
 * the lcore fills with the frames matching the capture's filter (RX as they
 * arrive, TX as they leave), and the reader empties.  Only while a capture
 * is open does an lcore copy frames; when the reader falls behind, frames
 * are skipped and counted, never waited for.  The reader owns the region's
 * tails; the lcore trusts nothing it reads back from the region.
 *
 *   offset                                                   written by
 *   0         +--------------------------------------+
 *             | struct pn_cap_hdr: magic, geometry    |      pollnet, once
 *   ring_off  +--------------------------------------+
 *             | struct pn_cap_ring [nb_lcores]:       |
 *             |   head     frames written            |      lcore i
 *             |   tail     frames consumed           |      reader
 *             |   skipped  frames that found it full |      lcore i
 *   slot_off  +--------------------------------------+
 *             | lcore 0: PN_CAP_SLOTS slots of        |      lcore 0 fills,
 *             | struct pn_cap_rec (2 KiB each)        |      the reader reads
 *             | lcore 1 ...                           |
 *             +--------------------------------------+      size
 */
#ifndef PN_ABI_CAPTURE_H
#define PN_ABI_CAPTURE_H

#include <stdatomic.h>
#include <stdint.h>
#include <string.h>

#include "pn_versions.h"

#define PN_CAP_MAGIC "PNCAPT" PN_CAP_VERSION_STR
#define PN_CAP_SLOTS 1024            /* per lcore, power of 2 */
#define PN_CAP_SLOT_SIZE 2048
#define PN_CAP_DATA (PN_CAP_SLOT_SIZE - 16)

struct pn_cap_ring {
	_Atomic uint64_t head;          /* lcore: frames written */
	uint64_t pad0[7];
	_Atomic uint64_t tail;          /* reader: frames consumed */
	uint64_t pad1[7];
	_Atomic uint64_t skipped;       /* lcore: frames that found the ring full */
	uint64_t pad2[7];
};

struct pn_cap_rec {
	uint64_t ts;                    /* TSC */
	uint32_t len;                   /* on the wire */
	uint16_t caplen;                /* in data[] */
	uint8_t dir;                    /* enum pn_dir (pn_stats.h) */
	uint8_t pad;
	uint8_t data[PN_CAP_DATA];
};

struct pn_cap_hdr {
	char magic[8];
	uint32_t nb_lcores;
	uint32_t slots;
	uint32_t slot_size;
	uint32_t snaplen;
	uint64_t ring_off, slot_off, size;
};

static inline uint64_t
pn_cap_layout(struct pn_cap_hdr *h, uint32_t nb_lcores, uint32_t snaplen)
{
	memcpy(h->magic, PN_CAP_MAGIC, 8);
	h->nb_lcores = nb_lcores;
	h->slots = PN_CAP_SLOTS;
	h->slot_size = PN_CAP_SLOT_SIZE;
	h->snaplen = snaplen;
	h->ring_off = 4096;
	h->slot_off = (h->ring_off + nb_lcores * sizeof(struct pn_cap_ring) + 4095) & ~4095ull;
	h->size = h->slot_off + (uint64_t)nb_lcores * PN_CAP_SLOTS * PN_CAP_SLOT_SIZE;
	return h->size;
}

static inline struct pn_cap_ring *
pn_cap_ring(void *region, const struct pn_cap_hdr *h, uint32_t lcore)
{
	return (struct pn_cap_ring *)((uint8_t *)region + h->ring_off) + lcore;
}

static inline struct pn_cap_rec *
pn_cap_rec(void *region, const struct pn_cap_hdr *h, uint32_t lcore, uint64_t pos)
{
	return (struct pn_cap_rec *)((uint8_t *)region + h->slot_off +
		((uint64_t)lcore * PN_CAP_SLOTS + (pos & (PN_CAP_SLOTS - 1))) * PN_CAP_SLOT_SIZE);
}

#endif
