/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The benchmarks' sink (bench/servers_cpu.py): every frame the interface
 * receives dropped at its first look, so a generator sending to it costs
 * the machine what sending costs, and nothing more.
 */
#include <linux/bpf.h>

#include <bpf/bpf_helpers.h>

SEC("xdp")
int
bench_drop(struct xdp_md *ctx)
{
	(void)ctx;
	return XDP_DROP;
}

char _license[] SEC("license") = "Dual BSD/GPL";
