/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * A software 82540EM for the driver's unit tests, behaving as QEMU's
 * hw/net/e1000.c does where the driver can tell: a TDT write transmits every
 * descriptor up to the tail and writes DD back only where RS is set; a frame
 * spans descriptors up to EOP; a context descriptor sets where the IP and
 * UDP checksums go, and a data descriptor's POPTS asks for them; RX
 * fills descriptors from RDH while RDH != RDT, else counts a missed packet;
 * unicast needs RAH.AV and our address, broadcast needs RCTL.BAM;
 * statistics registers clear on read.  Descriptor addresses are followed as
 * pointers: the tests run EAL with IOVA = VA.  A test aid, not a substitute
 * for the guest tests.
 */
#ifndef PN_E1000_MODEL_H
#define PN_E1000_MODEL_H

#include <stdint.h>

#define MODEL_WIRE_MAX 8192

struct model_frame {
	uint16_t len;
	uint8_t data[2048];
};

struct e1000_model {
	uint32_t regs[0x20000 / 4];
	int tx_paused;                  /* the "wire" is stuck: TDT writes queue */
	uint64_t tdt_writes, rdt_writes, reg_writes;
	uint64_t contexts, frames_emitted;
	uint32_t wire_n;                /* frames transmitted, in wire[] */
	struct model_frame wire[MODEL_WIRE_MAX];
};

extern struct e1000_model model;

/* Power-on: registers cleared, our MAC in RAL0/RAH0 (without AV, as after a
 * reset), link up once CTRL.SLU is set. */
void model_reset(const uint8_t mac[6]);
/* A frame arrives from the wire: 0, or -1 if it was filtered out or missed. */
int model_receive(const void *frame, uint16_t len);
/* Run what a paused transmitter held back. */
void model_tx_resume(void);

#endif
