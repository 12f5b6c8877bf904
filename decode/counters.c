/* SPDX-License-Identifier: BSD-3-Clause */
#include "counters.h"

#include <stddef.h>

#define PN_NAME(e, s) [PN_RX_##e] = s,
const char *const pn_rx_drop_names[PN_RX_DROP_MAX] = { PN_RX_DROPS(PN_NAME) };
#undef PN_NAME
#define PN_NAME(e, s) [PN_TX_##e] = s,
const char *const pn_tx_drop_names[PN_TX_DROP_MAX] = { PN_TX_DROPS(PN_NAME) };
#undef PN_NAME
#define PN_NAME(e, s) [PN_EXC_##e] = s,
const char *const pn_exc_kind_names[PN_EXC_MAX] = { PN_EXC_KINDS(PN_NAME) };
#undef PN_NAME

void
stats_add(struct pn_counters *acc, const struct pn_counters *s)
{
	/* struct pn_counters is all uint64_t: add it as an array. */
	uint64_t *a = (uint64_t *)acc;
	const volatile uint64_t *b = (const volatile uint64_t *)s;

	for (size_t i = 0; i < sizeof(*s) / sizeof(uint64_t); i++)
		a[i] += b[i];
}

uint64_t
stats_rx_dropped(const struct pn_counters *s)
{
	uint64_t n = 0;

	for (int i = 0; i < PN_RX_DROP_MAX; i++)
		n += s->rx_drop[i];
	return n;
}

uint64_t
stats_tx_dropped(const struct pn_counters *s)
{
	uint64_t n = 0;

	for (int i = 0; i < PN_TX_DROP_MAX; i++)
		n += s->tx_drop[i];
	return n;
}
