/* SPDX-License-Identifier: BSD-3-Clause */
/* The stack counters (abi/pn_counters.h), for readers: names and sums. */
#ifndef PN_DECODE_COUNTERS_H
#define PN_DECODE_COUNTERS_H

#include <stdint.h>

#include "abi/pn_counters.h"

extern const char *const pn_rx_drop_names[PN_RX_DROP_MAX];
extern const char *const pn_tx_drop_names[PN_TX_DROP_MAX];
extern const char *const pn_exc_kind_names[PN_EXC_MAX];

/* acc += one lcore's counters. */
void stats_add(struct pn_counters *acc, const struct pn_counters *s);
uint64_t stats_rx_dropped(const struct pn_counters *s);
uint64_t stats_tx_dropped(const struct pn_counters *s);

#endif
