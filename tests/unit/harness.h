/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Shared by the unit tests: EAL without hugepages, an mbuf pool, a stack
 * with a known address, and a frame builder that is independent of stack/
 * (its own byte-by-byte checksum), so tests check the stack against a
 * second implementation rather than against itself.
 */
#ifndef PN_TEST_HARNESS_H
#define PN_TEST_HARNESS_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include <rte_mbuf.h>

#include "counters.h"
#include "stack.h"

/* Addresses used throughout (host byte order for readability). */
#define OUR_IP   0xc6120002u   /* 198.18.0.2 */
#define PEER_IP  0xc6120001u   /* 198.18.0.1 */
#define OTHER_IP 0xc6120063u   /* 198.18.0.99 */
#define GW_IP    0xc61200feu   /* 198.18.0.254 */
#define FAR_IP   0xc6130005u   /* 198.19.0.5, off-link */

extern const uint8_t OUR_MAC[6], PEER_MAC[6], OTHER_MAC[6], BCAST_MAC[6];
extern struct rte_mempool *test_pool;

/* Once per test binary: rte_eal_init(--no-huge ...) and the pool. */
void harness_init(void);
/* A stack configured as 198.18.0.2/24 on OUR_MAC, gateway as given (host
 * order, 0 for none), no socket table. */
void harness_stack(struct stack *s, struct stack_conf *c, uint32_t gw);
/* Free what s->tx holds and check the pool is back to where it started. */
void harness_drain_tx(struct stack *s);
unsigned harness_in_use(void);

/* An mbuf holding a copy of bytes. */
struct rte_mbuf *mbuf_from(const void *bytes, size_t len);

/* ---- the independent frame builder ---- */
uint16_t ref_cksum(const void *p, size_t len, uint32_t initial);
/* All builders write at p and return the bytes written. */
size_t put_eth(uint8_t *p, const uint8_t dst[6], const uint8_t src[6], uint16_t type);
size_t put_ipv4(uint8_t *p, uint32_t src, uint32_t dst, uint8_t proto,
		uint16_t payload_len, uint8_t ttl, uint16_t frag);
/* UDP header + payload, checksum computed over the pseudo header. */
size_t put_udp(uint8_t *p, uint32_t src, uint32_t dst, uint16_t sport,
	       uint16_t dport, const void *payload, uint16_t len);
size_t put_icmp_echo(uint8_t *p, uint8_t type, uint16_t id, uint16_t seq,
		     const void *data, uint16_t len);
size_t put_arp(uint8_t *p, uint16_t op, const uint8_t sha[6], uint32_t sip,
	       const uint8_t tha[6], uint32_t tip);

/* Complete frames. */
size_t frame_udp(uint8_t *p, const uint8_t dst_mac[6], uint32_t src, uint32_t dst,
		 uint16_t sport, uint16_t dport, const void *payload, uint16_t len);
size_t frame_ping(uint8_t *p, uint32_t src, uint16_t id, uint16_t seq, uint16_t len);
size_t frame_arp(uint8_t *p, const uint8_t dst_mac[6], uint16_t op,
		 const uint8_t sha[6], uint32_t sip, const uint8_t tha[6], uint32_t tip);

static inline void
wr16(uint8_t *p, uint16_t v)
{
	p[0] = v >> 8;
	p[1] = v & 0xff;
}

static inline void
wr32(uint8_t *p, uint32_t v)
{
	p[0] = v >> 24;
	p[1] = v >> 16;
	p[2] = v >> 8;
	p[3] = v;
}

static inline uint16_t
rdu16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

/* stack_input() on a copy of the frame. */
enum stack_verdict harness_input(struct stack *s, const uint8_t *f, size_t len);
/* rx_frames == rx_delivered + rx_answered + rx_dropped + rx_merged + rx_kernel */
void assert_reconciled(const struct stack *s);

/* Compare an mbuf's bytes with expected. */
void assert_frame(const struct rte_mbuf *m, const uint8_t *exp, size_t len);

#endif
