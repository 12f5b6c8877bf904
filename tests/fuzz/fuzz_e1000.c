/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * pollnet's e1000 driver, RX path, against a device that writes what it
 * likes: the software 82540EM (tests/unit/e1000_model.c) receives frames as
 * QEMU would, and between its frames the input rewrites descriptors as a
 * broken or hostile device might (any status, error bits, length, in any
 * slot, DD on descriptors it was never given).  The device's DMA stays in
 * its 2048-byte buffers (RCTL.BSIZE); what it reports does not.
 *
 *   op 0  a frame from the wire: u16 length (mod 2049), then bytes
 *   op 1  a descriptor rewritten: u16 slot, u8 status, u8 errors, u16 length
 *   op 2  rx_burst: u8 how many asked for (0..63); every frame returned is
 *         one segment of at most 2048 bytes, then freed
 *   op 3  the pool runs dry for one burst (every mbuf taken, then given back)
 *
 * At the end the device is stopped: every mbuf must be back in the pool.
 */
#include <string.h>

#include <rte_mbuf.h>

#include "e1000.h"
#include "e1000_model.h"
#include "fuzz_env.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const uint8_t MAC[6] = { 0x52, 0x54, 0x00, 0x12, 0x34, 0x56 };

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fuzz_env_init();
	return 0;
}

static void
burst(struct e1000_dev *d, uint16_t n)
{
	struct rte_mbuf *m[64];
	uint16_t got = e1000_rx_burst(d, m, n);

	FUZZ_CHECK(got <= n, "%u frames for %u asked", got, n);
	for (uint16_t i = 0; i < got; i++) {
		FUZZ_CHECK(m[i]->nb_segs == 1 && m[i]->next == NULL, "one segment");
		FUZZ_CHECK(m[i]->data_len >= 1 && m[i]->data_len <= E1000_RX_BUF &&
			   m[i]->pkt_len == m[i]->data_len, "length %u", m[i]->data_len);
		FUZZ_CHECK(m[i]->data_off + m[i]->data_len <= m[i]->buf_len, "inside its buffer");
		rte_pktmbuf_free(m[i]);
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct e1000_conf c = { .rx_desc = 64, .tx_desc = 64, .pool = fuzz_pool };
	struct fuzz_in in = { data, size };
	static struct e1000_dev dev;
	uint8_t frame[E1000_RX_BUF];
	char err[256];

	model_reset(MAC);
	memset(&dev, 0, sizeof(dev));
	strcpy(dev.pci, "model");
	FUZZ_CHECK(e1000_dev_start(&dev, &c, err, sizeof(err)) == 0, "start: %s", err);
	while (in.n > 0) {
		switch (fuzz_u8(&in) & 3) {
		case 0: {
			/* addressed to us (the model filters the rest out) */
			size_t len = fuzz_u16(&in) % (E1000_RX_BUF - 6 + 1), got;
			const uint8_t *p = fuzz_bytes(&in, len, &got);

			memcpy(frame, MAC, 6);
			memcpy(frame + 6, p, got);
			model_receive(frame, (uint16_t)(got + 6));
			break;
		}
		case 1: {
			volatile struct e1000_rx_desc *desc = &dev.rx.ring[fuzz_u16(&in) & (dev.rx.n - 1)];

			desc->status = fuzz_u8(&in);
			desc->errors = fuzz_u8(&in);
			desc->length = fuzz_u16(&in);
			break;
		}
		case 2:
			burst(&dev, fuzz_u8(&in) & 63);
			break;
		case 3: {
			struct rte_mbuf *all[1024];
			unsigned k = 0;

			while (k < RTE_DIM(all) && (all[k] = rte_pktmbuf_alloc(fuzz_pool)) != NULL)
				k++;
			burst(&dev, 32);
			for (unsigned i = 0; i < k; i++)
				rte_pktmbuf_free(all[i]);
			break;
		}
		}
	}
	burst(&dev, 63);
	e1000_dev_stop(&dev);
	FUZZ_CHECK(fuzz_in_use() == 0, "%u mbufs not back after stop", fuzz_in_use());
	return 0;
}
