/* SPDX-License-Identifier: BSD-3-Clause */
/* Byte helpers for the benchmarks that build frames by hand: big-endian
 * stores and the textbook Internet checksum (RFC 1071). */
#ifndef PN_BENCH_FRAMES_H
#define PN_BENCH_FRAMES_H

#include <stddef.h>
#include <stdint.h>

static inline void
put16(uint8_t *p, uint16_t v)
{
	p[0] = v >> 8;
	p[1] = (uint8_t)v;
}

static inline void
put32(uint8_t *p, uint32_t v)
{
	put16(p, (uint16_t)(v >> 16));
	put16(p + 2, (uint16_t)v);
}

/* One's-complement sum of p, starting from s, folded and complemented. */
static inline uint16_t
csum(const uint8_t *p, size_t n, uint32_t s)
{
	for (size_t i = 0; i + 1 < n; i += 2)
		s += (uint32_t)(p[i] << 8 | p[i + 1]);
	if (n & 1)
		s += (uint32_t)p[n - 1] << 8;
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (uint16_t)~s;
}

#endif
