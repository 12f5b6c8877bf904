/* SPDX-License-Identifier: BSD-3-Clause */
/* The fast one's-complement sum against the textbook one: every length up
 * to a jumbo frame, every alignment, random and worst-case (all 0xff) data,
 * with and without an initial (pseudo header) sum. */
#include "harness.h"

#include <stdlib.h>

#include "cksum.h"

static void
cksum_matches_reference(void **state)
{
	static uint8_t buf[2100 + 8];

	srand(7);
	for (int pattern = 0; pattern < 3; pattern++) {
		for (size_t i = 0; i < sizeof(buf); i++)
			buf[i] = pattern == 0 ? (uint8_t)rand() : pattern == 1 ? 0xff : 0;
		for (size_t align = 0; align < 8; align++) {
			for (size_t len = 0; len <= 2100; len++) {
				uint32_t init = pattern == 2 ? 0 : (uint32_t)rand() & 0x3ffff;
				/* the reference sums big-endian words; ours native ones:
				 * compare the checksums as they would be stored */
				uint16_t ref = ref_cksum(buf + align, len, 0);
				uint16_t got = cksum_finish(cksum_add(buf + align, len, 0));

				if (rte_cpu_to_be_16(ref) != got)
					fail_msg("len %zu align %zu: 0x%04x != 0x%04x",
						 len, align, got, rte_cpu_to_be_16(ref));
				/* an initial sum is just more words */
				uint32_t a = cksum_add(buf + align, len, init);
				assert_true(a <= 0x1ffff);
				assert_int_equal(cksum_finish(a),
					cksum_finish(cksum_add(buf + align, len, 0) + init));
			}
		}
	}
}

static void
cksum_of_valid_header_is_zero(void **state)
{
	uint8_t f[64];
	size_t n = frame_udp(f, OUR_MAC, PEER_IP, OUR_IP, 1, 2, "abc", 3);

	assert_int_equal(cksum_buf(f + 14, 20), 0);
	assert_int_equal(cksum_finish(cksum_add(f + 34, n - 34,
		cksum_pseudo(rte_cpu_to_be_32(PEER_IP), rte_cpu_to_be_32(OUR_IP), 17,
			     (uint16_t)(n - 34)))), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(cksum_matches_reference),
		cmocka_unit_test(cksum_of_valid_header_is_zero),
	};

	return cmocka_run_group_tests_name("cksum", tests, NULL, NULL);
}
