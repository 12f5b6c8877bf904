/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * pollnet's XDP program, for `--port xdp:IFACE`: the kernel keeps its
 * interface, and the UDP datagrams to the (address, port) pairs pollnet's
 * sockets hold go to pollnet's AF_XDP socket on the receiving queue.
 * Everything else passes to the kernel: ARP, TCP, ICMP, IPv6, other
 * ports, and every IPv4 fragment (a fragment after the first carries no
 * port; the kernel reassembles them).
 *
 * Maps (pollnet finds them through the program's info, by name):
 *   xsks_map       queue index -> AF_XDP socket (DPDK's net_af_xdp fills it)
 *   pollnet_ports  struct pn_xdp_key -> 1, written by pollnet's control
 *                  thread at bind and close (pmd/xdp_port.c)
 *   pollnet_counts per CPU: frames given to pollnet, passed to the kernel
 * An ICMP error about a datagram one of pollnet's sockets sent (its quoted
 * UDP source is a pair in the map) goes to pollnet too: the socket's
 * error (ECONNREFUSED, EMSGSIZE).
 *
 * Built by meson with clang -target bpf; the object is embedded in pollnet.
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/udp.h>

#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

#include "pn_xdp.h"

struct {
	__uint(type, BPF_MAP_TYPE_XSKMAP);
	__uint(max_entries, PN_XDP_MAX_QUEUES);
	__type(key, __u32);
	__type(value, __u32);
} xsks_map SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, PN_XDP_MAX_KEYS);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, struct pn_xdp_key);
	__type(value, __u32);
} pollnet_ports SEC(".maps");

/* Per queue: frames given to pollnet, and passed to the kernel. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 2);
	__type(key, __u32);
	__type(value, __u64);
} pollnet_counts SEC(".maps");

/* ICMP's first 8 bytes (linux/icmp.h would pull in libc's headers) */
struct pn_icmp {
	__u8 type, code;
	__u16 cksum;
	__u32 rest;
};
#define PN_ICMP_UNREACH    3
#define PN_ICMP_TIME_EXCEEDED 11
#define PN_ICMP_PARAMPROB  12

static __always_inline int
verdict(__u32 which, int action)
{
	__u64 *n = bpf_map_lookup_elem(&pollnet_counts, &which);

	if (n != NULL)
		*n += 1;
	return action;
}

/* An IPv4 header at p, whole and not a fragment: its length, else 0. */
static __always_inline __u32
ipv4_whole(const struct iphdr *ip, const void *end)
{
	__u32 hl;

	if ((const void *)(ip + 1) > end || ip->version != 4)
		return 0;
	hl = ip->ihl * 4u;
	if (hl < sizeof(*ip) || (const char *)ip + hl > (const char *)end)
		return 0;
	if (ip->frag_off & bpf_htons(0x3fff))   /* MF, or an offset */
		return 0;
	return hl;
}

static __always_inline int
held(__u32 addr, __u16 port)
{
	struct pn_xdp_key k = { .addr = addr, .port = port, .pad = 0 };

	return bpf_map_lookup_elem(&pollnet_ports, &k) != NULL;
}

SEC("xdp")
int
pollnet_xdp(struct xdp_md *ctx)
{
	const void *data = (const void *)(long)ctx->data;
	const void *end = (const void *)(long)ctx->data_end;
	const struct ethhdr *eth = data;
	const struct iphdr *ip;
	__u32 hl;
	int mine = 0;

	if ((const void *)(eth + 1) > end || eth->h_proto != bpf_htons(ETH_P_IP))
		return verdict(PN_XDP_PASSED, XDP_PASS);
	ip = (const struct iphdr *)(eth + 1);
	hl = ipv4_whole(ip, end);
	if (hl == 0)
		return verdict(PN_XDP_PASSED, XDP_PASS);
	if (ip->protocol == IPPROTO_UDP) {
		const struct udphdr *u = (const void *)((const char *)ip + hl);

		if ((const void *)(u + 1) <= end)
			mine = held(ip->daddr, u->dest);
	} else if (ip->protocol == IPPROTO_ICMP) {
		/* an error quoting one of our datagrams: its source pair */
		const struct pn_icmp *ic = (const void *)((const char *)ip + hl);
		const struct iphdr *in = (const void *)(ic + 1);
		__u32 ihl;

		if ((const void *)(ic + 1) > end ||
		    (ic->type != PN_ICMP_UNREACH && ic->type != PN_ICMP_TIME_EXCEEDED &&
		     ic->type != PN_ICMP_PARAMPROB))
			return verdict(PN_XDP_PASSED, XDP_PASS);
		if ((const void *)(in + 1) > end || in->version != 4 ||
		    in->protocol != IPPROTO_UDP)
			return verdict(PN_XDP_PASSED, XDP_PASS);
		ihl = in->ihl * 4u;
		if (ihl < sizeof(*in) || ihl > 60)
			return verdict(PN_XDP_PASSED, XDP_PASS);
		{
			const struct udphdr *iu = (const void *)((const char *)in + ihl);

			if ((const void *)((const char *)iu + 4) <= end)
				mine = held(in->saddr, iu->source);
		}
	}
	if (!mine)
		return verdict(PN_XDP_PASSED, XDP_PASS);
	/* no socket on this queue (pollnet gone): the kernel's */
	return verdict(PN_XDP_TO_POLLNET,
		       bpf_redirect_map(&xsks_map, ctx->rx_queue_index, XDP_PASS));
}

char _license[] SEC("license") = "Dual BSD/GPL";
