/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * DPDK telemetry: the stats segment's counters under /pollnet/... for
 * dpdk-telemetry.py and anything else that speaks the telemetry socket.
 * The callbacks run on DPDK's telemetry thread and read the segment like
 * any other reader.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>

#include <rte_telemetry.h>

#include "app.h"
#include "statnames.h"

static const struct pn_stats_hdr *seg;

/* Telemetry names allow letters, digits, '_' and '/': "stack.rx_frames"
 * becomes "stack_rx_frames". */
static void
emit_dict(void *arg, const char *name, uint64_t v, unsigned flags)
{
	char n[RTE_TEL_MAX_STRING_LEN];
	size_t i;

	(void)flags;
	for (i = 0; name[i] != '\0' && i + 1 < sizeof(n); i++)
		n[i] = name[i] == '.' ? '_' : name[i];
	n[i] = '\0';
	rte_tel_data_add_dict_u64(arg, n, v);
}

static int
tel_stats(const char *cmd, const char *params, struct rte_tel_data *d)
{
	struct pn_stats_hdr hc;
	struct pn_stats_lcore *lc = calloc(seg->nb_lcores, sizeof(*lc));
	struct pn_counters sum;
	int rc = -1;

	(void)cmd;
	(void)params;
	if (lc != NULL && pn_stats_snapshot(seg, &hc, lc, &sum) == 0) {
		rte_tel_data_start_dict(d);
		pn_stats_emit(&hc, lc, &sum, emit_dict, d);
		rc = 0;
	}
	free(lc);
	return rc;
}

static int
tel_info(const char *cmd, const char *params, struct rte_tel_data *d)
{
	char ip[INET_ADDRSTRLEN];
	struct in_addr a = { .s_addr = seg->ip };

	(void)cmd;
	(void)params;
	inet_ntop(AF_INET, &a, ip, sizeof(ip));
	rte_tel_data_start_dict(d);
	rte_tel_data_add_dict_int(d, "pid", seg->pid);
	rte_tel_data_add_dict_string(d, "port", seg->port_spec);
	rte_tel_data_add_dict_string(d, "driver", seg->driver);
	rte_tel_data_add_dict_string(d, "ip", ip);
	rte_tel_data_add_dict_int(d, "prefix", seg->prefix);
	rte_tel_data_add_dict_int(d, "lcores", (int)seg->nb_lcores);
	rte_tel_data_add_dict_int(d, "link_up", (int)seg->port.link_up);
	return 0;
}

static int
tel_sockets(const char *cmd, const char *params, struct rte_tel_data *d)
{
	const struct pn_stats_sock *tab = pn_stats_socks(seg);

	(void)cmd;
	(void)params;
	rte_tel_data_start_array(d, RTE_TEL_INT_VAL);
	for (uint32_t i = 0; i < seg->nb_socks; i++)
		if (__atomic_load_n(&tab[i].kind, __ATOMIC_RELAXED) != PN_SOCK_FREE)
			rte_tel_data_add_array_int(d, (int)i);
	return 0;
}

static void
tel_str(void *arg, const char *key, const char *v)
{
	rte_tel_data_add_dict_string(arg, key, v);
}

static void
tel_num(void *arg, const char *key, uint64_t v)
{
	rte_tel_data_add_dict_u64(arg, key, v);
}

static int
tel_socket(const char *cmd, const char *params, struct rte_tel_data *d)
{
	const struct pn_stats_sock *tab = pn_stats_socks(seg);
	struct pn_stats_sock e;
	char *end;
	unsigned long id;

	(void)cmd;
	if (params == NULL || *params == '\0')
		return -1;
	id = strtoul(params, &end, 10);
	if (*end != '\0' || id >= seg->nb_socks ||
	    pn_seq_read(&tab[id].seq, &e, &tab[id], sizeof(e), 100000) < 0 ||
	    e.kind == PN_SOCK_FREE)
		return -1;
	rte_tel_data_start_dict(d);
	pn_sock_fields(&e, tel_str, tel_num, d);
	return 0;
}

void
telemetry_register(struct app *a)
{
	seg = a->seg.h;
	rte_telemetry_register_cmd("/pollnet/info", tel_info,
		"pollnet's port, address and lcores. Takes no parameters");
	rte_telemetry_register_cmd("/pollnet/stats", tel_stats,
		"Every pollnet counter (pollnetctl stats --json names, '.' as '_'). Takes no parameters");
	rte_telemetry_register_cmd("/pollnet/sockets", tel_sockets,
		"Ids of the open sockets. Takes no parameters");
	rte_telemetry_register_cmd("/pollnet/socket", tel_socket,
		"One socket's addresses and counters, as pollnetctl sockets --json. "
		"Parameters: int socket_id");
}
