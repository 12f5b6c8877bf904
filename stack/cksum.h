/* SPDX-License-Identifier: BSD-3-Clause */
/* Internet checksum helpers (RFC 1071). */
#ifndef PN_CKSUM_H
#define PN_CKSUM_H

#include <stdint.h>
#include <string.h>
#include <rte_byteorder.h>
#include <rte_ip.h>
#include <rte_mbuf.h>

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

/*
 * One's-complement sum of buf, added to `sum`, not complemented.  The sum
 * does not depend on byte order as long as it is kept in native order
 * (RFC 1071 section 2(B)), so this adds 64-bit native words with an
 * end-around carry: one addition and one carry per 8 bytes, where a 16-bit
 * loop makes four additions (docs/PERFORMANCE.md, "The stack, per frame",
 * has it against DPDK's).  Any alignment; the result fits 17 bits.
 */
static inline uint32_t
cksum_add(const void *buf, size_t len, uint32_t sum)
{
	const uint8_t *p = buf;
	uint64_t s = sum, carry = 0, w;
	uint16_t h;

	for (; len >= 8; p += 8, len -= 8) {
		memcpy(&w, p, 8);
		s += w;
		carry += s < w;
	}
	s += carry;
	s += s < carry;
	s = (s & 0xffffffff) + (s >> 32);
	for (; len >= 2; p += 2, len -= 2) {
		memcpy(&h, p, 2);
		s += h;
	}
	if (len) {
		h = 0;
		memcpy(&h, p, 1);     /* the odd byte, as the first of a word */
		s += h;
	}
	s = (s & 0xffffffff) + (s >> 32);
	s = (s & 0xffff) + (s >> 16);
	s = (s & 0xffff) + (s >> 16);
	return (uint32_t)((s & 0xffff) + (s >> 16));
}

/* cksum_add over len bytes of a chain of mbufs from offset off (all there:
 * the caller checked pkt_len).  A segment that starts at an odd position
 * adds its sum byte-swapped (RFC 1071 2(B)). */
static inline uint32_t
cksum_add_mbuf(const struct rte_mbuf *m, uint32_t off, uint32_t len, uint32_t sum)
{
	uint32_t odd = 0;

	for (; m != NULL && off >= m->data_len; m = m->next)
		off -= m->data_len;
	for (; m != NULL && len > 0; m = m->next, off = 0) {
		uint32_t n = RTE_MIN(len, (uint32_t)m->data_len - off);
		uint32_t c = cksum_add(rte_pktmbuf_mtod_offset(m, const uint8_t *, off), n, 0);

		c = (c & 0xffff) + (c >> 16);
		c = (c & 0xffff) + (c >> 16);
		if (odd)
			c = ((c & 0xff) << 8) | (c >> 8);
		sum += c;
		odd ^= n & 1;
		len -= n;
	}
	sum = (sum & 0xffff) + (sum >> 16);
	return (sum & 0xffff) + (sum >> 16);
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
	return cksum_finish(cksum_add(buf, len, 0));
}

/* UDP checksum of header+payload (len bytes) with the pseudo header.
 * Returns the value to store (0 is sent as 0xffff, RFC 768). */
static inline uint16_t
cksum_udp(rte_be32_t src, rte_be32_t dst, const void *udp, uint16_t len)
{
	uint16_t c = cksum_finish(cksum_add(udp, len,
				  cksum_pseudo(src, dst, IPPROTO_UDP, len)));
	return c == 0 ? 0xffff : c;
}

#endif
