/* SPDX-License-Identifier: BSD-3-Clause */
/* Internet checksum helpers (RFC 1071) over DPDK's raw one's-complement sum. */
#ifndef PN_CKSUM_H
#define PN_CKSUM_H

#include <stdint.h>
#include <rte_byteorder.h>
#include <rte_ip.h>

/* Sum of the IPv4 pseudo header, not folded; all arguments in network order
 * except len (host order). */
static inline uint32_t
cksum_pseudo(rte_be32_t src, rte_be32_t dst, uint8_t proto, uint16_t len)
{
	uint32_t s = 0;

	s += (src & 0xffff) + (src >> 16);
	s += (dst & 0xffff) + (dst >> 16);
	s += rte_cpu_to_be_16(proto);
	s += rte_cpu_to_be_16(len);
	return s;
}

/* Fold a 32-bit partial sum and complement it: the value to store. */
static inline uint16_t
cksum_finish(uint32_t sum)
{
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

/* Checksum over a buffer: 0 when a buffer containing its checksum is valid. */
static inline uint16_t
cksum_buf(const void *buf, size_t len)
{
	return cksum_finish(__rte_raw_cksum(buf, len, 0));
}

/* UDP checksum of header+payload (len bytes) with the pseudo header.
 * Returns the value to store (0 is sent as 0xffff, RFC 768). */
static inline uint16_t
cksum_udp(rte_be32_t src, rte_be32_t dst, const void *udp, uint16_t len)
{
	uint16_t c = cksum_finish(__rte_raw_cksum(udp, len,
				  cksum_pseudo(src, dst, IPPROTO_UDP, len)));
	return c == 0 ? 0xffff : c;
}

#endif
