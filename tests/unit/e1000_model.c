/* SPDX-License-Identifier: BSD-3-Clause */
#include "e1000_model.h"

#include <string.h>

#include "e1000_regs.h"

struct e1000_model model;

#define R(reg) model.regs[(reg) / 4]

/* The transmitter's state between descriptors: the frame being gathered
 * and the last context descriptor. */
static struct {
	struct e1000_ctx_desc ctx;
	uint8_t buf[16384];
	uint32_t len;
	uint8_t popts;            /* from the packet's first data descriptor */
} tx;


void
model_reset(const uint8_t mac[6])
{
	memset(model.regs, 0, sizeof(model.regs));
	model.tx_paused = 0;
	model.tdt_writes = model.rdt_writes = model.reg_writes = 0;
	model.wire_n = 0;
	model.contexts = model.frames_emitted = 0;
	memset(&tx, 0, sizeof(tx));
	R(E1000_RAL0) = mac[0] | mac[1] << 8 | mac[2] << 16 | (uint32_t)mac[3] << 24;
	R(E1000_RAH0) = mac[4] | mac[5] << 8;
}

/* One's complement sum of p[from..to], stored complemented at p[at]
 * (0 goes out as 0xffff, as QEMU does). */
static void
put_sum(uint8_t *p, uint32_t from, uint32_t to, uint32_t at)
{
	uint32_t sum = 0;

	for (uint32_t i = from; i <= to; i += 2)
		sum += (uint32_t)p[i] << 8 | (i + 1 <= to ? p[i + 1] : 0);
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	sum = ~sum & 0xffff;
	if (sum == 0)
		sum = 0xffff;
	p[at] = (uint8_t)(sum >> 8);
	p[at + 1] = (uint8_t)sum;
}

static void
wire(const uint8_t *p, uint32_t len)
{
	if (model.wire_n < MODEL_WIRE_MAX && len <= sizeof(model.wire[0].data)) {
		struct model_frame *f = &model.wire[model.wire_n++];

		f->len = (uint16_t)len;
		memcpy(f->data, p, len);
	}
	R(E1000_GPTC)++;
	R(E1000_GOTCL) += len;
}

/* A frame is complete: insert the checksums the context says, send. */
static void
tx_emit(void)
{
	const struct e1000_ctx_desc *c = &tx.ctx;
	uint8_t *p = tx.buf;
	uint32_t n = tx.len;

	if (tx.popts & E1000_POPTS_TXSM)
		put_sum(p, c->tucss, c->tucse ? c->tucse : n - 1, c->tucso);
	if (tx.popts & E1000_POPTS_IXSM)
		put_sum(p, c->ipcss, c->ipcse ? c->ipcse : n - 1, c->ipcso);
	wire(p, n);
	model.frames_emitted++;
}

/* One descriptor, as the 8254x reads it (§3.3). */
static void
tx_desc(struct e1000_tx_desc *d)
{
	const struct e1000_data_desc *x = (const void *)d;
	const uint32_t cl = x->cmd_len;
	const uint8_t *src;
	uint32_t len, eop;

	if ((cl & E1000_TXC_DEXT) && !(cl & E1000_TXD_DTYP_D)) {   /* context */
		memcpy(&tx.ctx, d, sizeof(tx.ctx));
		model.contexts++;
		return;
	}
	if (cl & E1000_TXC_DEXT) {                                  /* data */
		if (tx.len == 0)
			tx.popts = x->popts;
		len = cl & 0xfffff;
		eop = cl & E1000_TXD_X_EOP;
	} else {                                                    /* legacy */
		if (tx.len == 0)
			tx.popts = 0;   /* legacy CSO/CSS: QEMU ignores them too */
		len = d->length;
		eop = d->cmd & E1000_TXD_CMD_EOP;
	}
	src = (const uint8_t *)(uintptr_t)d->addr;
	if (tx.len + len <= sizeof(tx.buf)) {
		memcpy(tx.buf + tx.len, src, len);
		tx.len += len;
	}
	if (eop) {
		tx_emit();
		tx.len = 0;
	}
}

static void
model_tx_run(void)
{
	struct e1000_tx_desc *ring = (void *)(uintptr_t)((uint64_t)R(E1000_TDBAH) << 32 | R(E1000_TDBAL));
	uint32_t n = R(E1000_TDLEN) / sizeof(struct e1000_tx_desc);

	if (!(R(E1000_TCTL) & E1000_TCTL_EN) || n == 0 || model.tx_paused)
		return;
	while (R(E1000_TDH) != R(E1000_TDT)) {
		struct e1000_tx_desc *d = &ring[R(E1000_TDH)];

		tx_desc(d);
		if (d->cmd & E1000_TXD_CMD_RS)          /* DD only where asked */
			d->status |= E1000_TXD_STAT_DD;
		R(E1000_TDH) = (R(E1000_TDH) + 1) % n;
	}
}

void
model_tx_resume(void)
{
	model.tx_paused = 0;
	model_tx_run();
}

int
model_receive(const void *frame, uint16_t len)
{
	static const uint8_t bcast[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
	struct e1000_rx_desc *ring = (void *)(uintptr_t)((uint64_t)R(E1000_RDBAH) << 32 | R(E1000_RDBAL));
	uint32_t n = R(E1000_RDLEN) / sizeof(struct e1000_rx_desc);
	const uint8_t *dst = frame;
	uint8_t ours[6];
	struct e1000_rx_desc *d;

	if (!(R(E1000_RCTL) & E1000_RCTL_EN) || n == 0)
		return -1;
	for (int i = 0; i < 4; i++)
		ours[i] = (uint8_t)(R(E1000_RAL0) >> (8 * i));
	ours[4] = (uint8_t)R(E1000_RAH0);
	ours[5] = (uint8_t)(R(E1000_RAH0) >> 8);
	if (memcmp(dst, bcast, 6) == 0 ? !(R(E1000_RCTL) & E1000_RCTL_BAM) :
	    !(R(E1000_RCTL) & E1000_RCTL_UPE) &&
	    (!(R(E1000_RAH0) & E1000_RAH_AV) || memcmp(dst, ours, 6) != 0))
		return -1;
	if (R(E1000_RDH) == R(E1000_RDT)) {     /* no free buffer */
		R(E1000_MPC)++;
		return -1;
	}
	d = &ring[R(E1000_RDH)];
	memcpy((void *)(uintptr_t)d->addr, frame, len);
	d->length = len;
	d->errors = 0;
	d->status = E1000_RXD_STAT_DD | E1000_RXD_STAT_EOP;
	R(E1000_RDH) = (R(E1000_RDH) + 1) % n;
	R(E1000_GPRC)++;
	R(E1000_GORCL) += len;
	return 0;
}

uint32_t e1000_model_read(uint32_t reg);
void e1000_model_write(uint32_t reg, uint32_t val);

uint32_t
e1000_model_read(uint32_t reg)
{
	uint32_t v = model.regs[reg / 4];

	switch (reg) {
	case E1000_STATUS:
		return (R(E1000_CTRL) & E1000_CTRL_SLU) ?
			E1000_STATUS_LU | E1000_STATUS_FD | 2u << E1000_STATUS_SPEED_SHIFT : 0;
	case E1000_ICR:
	case E1000_CRCERRS: case E1000_MPC: case E1000_GPRC: case E1000_GPTC:
	case E1000_GORCL: case E1000_GORCH: case E1000_GOTCL: case E1000_GOTCH:
	case E1000_RNBC:
		model.regs[reg / 4] = 0;        /* clear on read */
		return v;
	default:
		return v;
	}
}

void
e1000_model_write(uint32_t reg, uint32_t val)
{
	model.reg_writes++;
	switch (reg) {
	case E1000_CTRL:
		R(E1000_CTRL) = val & ~E1000_CTRL_RST;   /* reset completes at once */
		break;
	case E1000_IMC:
		R(E1000_IMS) &= ~val;
		break;
	case E1000_TDT:
		R(E1000_TDT) = val;
		model.tdt_writes++;
		model_tx_run();                 /* everything up to the tail, now */
		break;
	case E1000_RDT:
		R(E1000_RDT) = val;
		model.rdt_writes++;
		break;
	default:
		model.regs[reg / 4] = val;
	}
}
