/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The Intel 82540EM (8254x family) as pollnet's driver uses it: register
 * offsets in BAR0, the bits it sets, and the legacy descriptor formats.
 * Section numbers refer to Intel's "PCI/PCI-X Family of Gigabit Ethernet
 * Controllers Software Developer's Manual" (8254x SDM).  Only what the
 * driver uses is here.
 */
#ifndef PN_E1000_REGS_H
#define PN_E1000_REGS_H

#include <stdint.h>

#define E1000_VENDOR_INTEL   0x8086
#define E1000_DEV_82540EM    0x100e
#define E1000_BAR0_SIZE      0x20000

/* §13.4: general registers */
#define E1000_CTRL     0x00000   /* device control */
#define E1000_STATUS   0x00008   /* device status */
#define E1000_ICR      0x000c0   /* interrupt cause read (clear on read) */
#define E1000_IMS      0x000d0   /* interrupt mask set */
#define E1000_IMC      0x000d8   /* interrupt mask clear */
/* ICR/IMS causes (§13.4.17) */
#define E1000_ICR_RXDMT0 (1u << 4)  /* RX descriptors below the minimum threshold */
#define E1000_ICR_RXO    (1u << 6)  /* receiver overrun */
#define E1000_ICR_RXT0   (1u << 7)  /* receiver timer: a frame was written back */
#define E1000_RCTL     0x00100   /* receive control */
#define E1000_TCTL     0x00400   /* transmit control */
#define E1000_TIPG     0x00410   /* transmit inter-packet gap */
#define E1000_RDBAL    0x02800   /* RX descriptor base, low 32 bits */
#define E1000_RDBAH    0x02804   /* ... high 32 bits */
#define E1000_RDLEN    0x02808   /* RX ring length in bytes (multiple of 128) */
#define E1000_RDH      0x02810   /* RX head (the device's) */
#define E1000_RDT      0x02818   /* RX tail (ours) */
#define E1000_RDTR     0x02820   /* RX delay timer */
#define E1000_TDBAL    0x03800
#define E1000_TDBAH    0x03804
#define E1000_TDLEN    0x03808
#define E1000_TDH      0x03810
#define E1000_TDT      0x03818
#define E1000_TIDV     0x03820   /* TX interrupt delay */

/* §13.5: filters */
#define E1000_MTA      0x05200   /* multicast table, 128 x 32 bits */
#define E1000_MTA_WORDS 128
#define E1000_RAL0     0x05400   /* receive address 0, low */
#define E1000_RAH0     0x05404   /* ... high; bit 31: address valid */

/* §13.7: statistics, all clear on read */
#define E1000_CRCERRS  0x04000   /* CRC errors */
#define E1000_MPC      0x04010   /* missed packets: no RX descriptor free */
#define E1000_GPRC     0x04074   /* good packets received */
#define E1000_GPTC     0x04080   /* good packets transmitted */
#define E1000_GORCL    0x04088   /* good octets received, low (read first) */
#define E1000_GORCH    0x0408c
#define E1000_GOTCL    0x04090   /* good octets transmitted, low (read first) */
#define E1000_GOTCH    0x04094
#define E1000_RNBC     0x040a0   /* receive no buffers */

/* CTRL (§13.4.1) */
#define E1000_CTRL_FD    (1u << 0)    /* full duplex */
#define E1000_CTRL_ASDE  (1u << 5)    /* auto speed detection */
#define E1000_CTRL_SLU   (1u << 6)    /* set link up */
#define E1000_CTRL_RST   (1u << 26)   /* device reset, self-clearing */

/* STATUS (§13.4.2) */
#define E1000_STATUS_FD  (1u << 0)
#define E1000_STATUS_LU  (1u << 1)    /* link up */
#define E1000_STATUS_SPEED_SHIFT 6    /* 00 10, 01 100, 1x 1000 Mb/s */

/* RCTL (§13.4.22) */
#define E1000_RCTL_EN    (1u << 1)
#define E1000_RCTL_UPE   (1u << 3)    /* unicast promiscuous */
#define E1000_RCTL_BAM   (1u << 15)   /* accept broadcast */
#define E1000_RCTL_BSIZE_2048 (0u << 16)   /* with BSEX = 0 */
#define E1000_RCTL_SECRC (1u << 26)   /* strip the Ethernet CRC */

/* TCTL (§13.4.33), TIPG (§13.4.34) */
#define E1000_TCTL_EN    (1u << 1)
#define E1000_TCTL_PSP   (1u << 3)    /* pad short packets */
#define E1000_TCTL_CT(x)   ((uint32_t)(x) << 4)    /* collision threshold */
#define E1000_TCTL_COLD(x) ((uint32_t)(x) << 12)   /* collision distance */
#define E1000_TIPG_82540 (10u | (8u << 10) | (6u << 20))   /* IPGT, IPGR1, IPGR2 */

#define E1000_RAH_AV     (1u << 31)

/* §3.2.3: receive descriptor (legacy) */
struct e1000_rx_desc {
	uint64_t addr;            /* buffer IOVA */
	uint16_t length;          /* written back */
	uint16_t csum;
	uint8_t status;
	uint8_t errors;
	uint16_t special;
};
#define E1000_RXD_STAT_DD  0x01   /* descriptor done */
#define E1000_RXD_STAT_EOP 0x02   /* end of packet */

/* §3.3.3: transmit descriptor (legacy) */
struct e1000_tx_desc {
	uint64_t addr;
	uint16_t length;
	uint8_t cso;
	uint8_t cmd;
	uint8_t status;
	uint8_t css;
	uint16_t special;
};
#define E1000_TXD_CMD_EOP  0x01   /* end of packet */
#define E1000_TXD_CMD_IFCS 0x02   /* insert the CRC */
#define E1000_TXD_CMD_RS   0x08   /* report status: write DD back */
#define E1000_TXD_STAT_DD  0x01

/* §3.3.6: TCP/IP context descriptor.  Offsets of the IP header and of the
 * TCP/UDP header for checksum insertion (and segmentation, which pollnet
 * does not use); the device keeps the last one it read and applies it to
 * the data descriptors after it. */
struct e1000_ctx_desc {
	uint8_t ipcss;            /* IP checksum start */
	uint8_t ipcso;            /* ... where it goes */
	uint16_t ipcse;           /* ... last byte covered (0: to the end) */
	uint8_t tucss;            /* TCP/UDP checksum start */
	uint8_t tucso;
	uint16_t tucse;
	uint32_t cmd_len;         /* PAYLEN 19:0, DTYP 23:20 = 0, TUCMD 31:24 */
	uint8_t status;
	uint8_t hdr_len;          /* segmentation: header bytes to replicate */
	uint16_t mss;             /* segmentation: payload bytes per frame */
};
#define E1000_TXC_TCP   (1u << 24)   /* TUCMD.TCP: 1 TCP, 0 UDP */
#define E1000_TXC_IP    (1u << 25)   /* TUCMD.IP: IPv4 */
#define E1000_TXC_TSE   (1u << 26)   /* TUCMD.TSE: segmentation context */
#define E1000_TXC_RS    (1u << 27)
#define E1000_TXC_DEXT  (1u << 29)   /* extended (context or data) */

/* §3.3.7: TCP/IP data descriptor */
struct e1000_data_desc {
	uint64_t addr;
	uint32_t cmd_len;         /* DTALEN 19:0, DTYP 23:20 = 1, DCMD 31:24 */
	uint8_t status;
	uint8_t popts;
	uint16_t special;
};
#define E1000_TXD_DTYP_D (1u << 20)
#define E1000_TXD_X_EOP  (1u << 24)  /* DCMD bits, as in the legacy cmd byte */
#define E1000_TXD_X_IFCS (1u << 25)
#define E1000_TXD_X_TSE  (1u << 26)  /* part of a segmentation */
#define E1000_TXD_X_RS   (1u << 27)
#define E1000_TXD_X_DEXT (1u << 29)
#define E1000_POPTS_IXSM 0x01        /* insert the IP checksum */
#define E1000_POPTS_TXSM 0x02        /* insert the TCP/UDP checksum */

_Static_assert(sizeof(struct e1000_ctx_desc) == 16, "context descriptor");
_Static_assert(sizeof(struct e1000_data_desc) == 16, "data descriptor");
_Static_assert(sizeof(struct e1000_rx_desc) == 16, "legacy RX descriptor");
_Static_assert(sizeof(struct e1000_tx_desc) == 16, "legacy TX descriptor");

#endif
