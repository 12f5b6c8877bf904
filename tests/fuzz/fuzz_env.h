/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * What the libFuzzer harnesses share: EAL without hugepages, once, and an
 * mbuf pool; a way to stop with a message when an invariant breaks (abort,
 * so that libFuzzer saves the input).  Built only by clang with
 * -fsanitize=fuzzer (tests/fuzz/meson.build); run by tests/fuzz/run.sh.
 */
#ifndef PN_FUZZ_ENV_H
#define PN_FUZZ_ENV_H

#include <stddef.h>
#include <stdint.h>

struct rte_mempool;

/* a.b.c.d, host order (DPDK's RTE_IPV4 shifts an int: UB above 127.x) */
#define IP4(a, b, c, d) ((uint32_t)(a) << 24 | (uint32_t)(b) << 16 | \
			 (uint32_t)(c) << 8 | (uint32_t)(d))

extern struct rte_mempool *fuzz_pool;

/* EAL (no hugepages, no PCI, one lcore) and fuzz_pool, the first time. */
void fuzz_env_init(void);
/* mbufs out of fuzz_pool now. */
unsigned fuzz_in_use(void);

#define FUZZ_CHECK(cond, ...) do { \
		if (!(cond)) \
			fuzz_fail(__FILE__, __LINE__, #cond, __VA_ARGS__); \
	} while (0)

void fuzz_fail(const char *file, int line, const char *cond, const char *fmt, ...)
	__attribute__((noreturn, format(printf, 4, 5)));

/* A cursor over the fuzzer's bytes: reads past the end give zeros. */
struct fuzz_in {
	const uint8_t *p;
	size_t n;
};

static inline uint8_t
fuzz_u8(struct fuzz_in *in)
{
	uint8_t v = 0;

	if (in->n > 0) {
		v = *in->p++;
		in->n--;
	}
	return v;
}

static inline uint16_t
fuzz_u16(struct fuzz_in *in)
{
	return (uint16_t)(fuzz_u8(in) | fuzz_u8(in) << 8);
}

static inline uint32_t
fuzz_u32(struct fuzz_in *in)
{
	return (uint32_t)fuzz_u16(in) | (uint32_t)fuzz_u16(in) << 16;
}

/* Up to want bytes (fewer at the end): *got says how many. */
static inline const uint8_t *
fuzz_bytes(struct fuzz_in *in, size_t want, size_t *got)
{
	const uint8_t *p = in->p;

	*got = want < in->n ? want : in->n;
	in->p += *got;
	in->n -= *got;
	return p;
}

#endif
