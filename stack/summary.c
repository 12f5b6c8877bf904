/* SPDX-License-Identifier: BSD-3-Clause */
#include "summary.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_arp.h>
#include <rte_ether.h>
#include <rte_icmp.h>
#include <rte_ip.h>
#include <rte_tcp.h>
#include <rte_udp.h>

static inline uint16_t
rd16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static inline uint32_t
rd32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	       (uint32_t)p[2] << 8 | p[3];
}

static void
summarize_l4(struct pkt_summary *ps, const uint8_t *p, uint32_t len)
{
	switch (ps->ip_proto) {
	case IPPROTO_UDP:
		ps->kind = PKT_UDP;
		if (len < sizeof(struct rte_udp_hdr))
			goto trunc;
		ps->l4.udp.sport = rd16(p);
		ps->l4.udp.dport = rd16(p + 2);
		ps->l4.udp.len = rd16(p + 4);
		return;
	case IPPROTO_TCP:
		ps->kind = PKT_TCP;
		if (len < sizeof(struct rte_tcp_hdr))
			goto trunc;
		ps->l4.tcp.sport = rd16(p);
		ps->l4.tcp.dport = rd16(p + 2);
		ps->l4.tcp.seq = rd32(p + 4);
		ps->l4.tcp.flags = p[13] & 0x3f;
		return;
	case IPPROTO_ICMP:
		ps->kind = PKT_ICMP;
		if (len < sizeof(struct rte_icmp_hdr))
			goto trunc;
		ps->l4.icmp.type = p[0];
		ps->l4.icmp.code = p[1];
		ps->l4.icmp.id = rd16(p + 4);
		ps->l4.icmp.seq = rd16(p + 6);
		return;
	default:
		return;
	}
trunc:
	ps->flags |= PKT_F_TRUNC;
}

void
pkt_summarize(struct pkt_summary *ps, const void *frame, uint32_t len,
	      enum pkt_dir dir, uint64_t ts)
{
	const uint8_t *p = frame;

	memset(ps, 0, sizeof(*ps));
	ps->ts = ts;
	ps->dir = dir;
	ps->kind = PKT_ETH;
	ps->frame_len = len > UINT16_MAX ? UINT16_MAX : (uint16_t)len;
	if (len < RTE_ETHER_HDR_LEN) {
		ps->flags |= PKT_F_TRUNC;
		memcpy(ps->dst_mac, p, len < 6 ? len : 6);
		if (len > 6)
			memcpy(ps->src_mac, p + 6, len - 6);
		return;
	}
	memcpy(ps->dst_mac, p, 6);
	memcpy(ps->src_mac, p + 6, 6);
	ps->ethertype = rd16(p + 12);
	p += RTE_ETHER_HDR_LEN;
	len -= RTE_ETHER_HDR_LEN;

	if (ps->ethertype == RTE_ETHER_TYPE_ARP) {
		ps->kind = PKT_ARP;
		if (len < sizeof(struct rte_arp_hdr)) {
			ps->flags |= PKT_F_TRUNC;
			return;
		}
		ps->l4.arp.op = rd16(p + 6);
		memcpy(ps->l4.arp.sha, p + 8, 6);
		ps->src_ip = rd32(p + 14);
		memcpy(ps->l4.arp.tha, p + 18, 6);
		ps->dst_ip = rd32(p + 24);
		return;
	}
	if (ps->ethertype != RTE_ETHER_TYPE_IPV4)
		return;

	ps->kind = PKT_IPV4;
	if (len < sizeof(struct rte_ipv4_hdr) || (p[0] >> 4) != 4) {
		ps->flags |= PKT_F_TRUNC;
		return;
	}
	uint32_t ihl = (p[0] & 0x0f) * 4u;

	ps->ip_len = rd16(p + 2);
	ps->ip_frag = rd16(p + 6);
	ps->ttl = p[8];
	ps->ip_proto = p[9];
	ps->src_ip = rd32(p + 12);
	ps->dst_ip = rd32(p + 16);
	if (ihl < sizeof(struct rte_ipv4_hdr) || ihl > len) {
		ps->flags |= PKT_F_TRUNC;
		return;
	}
	/* Only a first fragment carries the transport header. */
	if ((ps->ip_frag & RTE_IPV4_HDR_OFFSET_MASK) != 0)
		return;
	summarize_l4(ps, p + ihl, len - ihl);
}

/* tcpdump's letters: S F R P U, and '.' for ACK */
static const char *
tcp_flags_str(uint8_t f, char b[8])
{
	static const struct { uint8_t bit; char c; } map[] = {
		{ PKT_TCP_SYN, 'S' }, { PKT_TCP_FIN, 'F' }, { PKT_TCP_RST, 'R' },
		{ PKT_TCP_PSH, 'P' }, { PKT_TCP_URG, 'U' }, { PKT_TCP_ACK, '.' },
	};
	char *p = b;

	for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++)
		if (f & map[i].bit)
			*p++ = map[i].c;
	*p = '\0';
	return p == b ? "none" : b;
}

static const char *
ip_flags_str(uint16_t frag)
{
	bool df = frag & RTE_IPV4_HDR_DF_FLAG, mf = frag & RTE_IPV4_HDR_MF_FLAG;

	return df && mf ? "DF+MF" : df ? "DF" : mf ? "MF" : "none";
}

static const char *
icmp_type_str(uint8_t type)
{
	switch (type) {
	case 0: return "echo reply";
	case 3: return "unreachable";
	case 8: return "echo request";
	case 11: return "time exceeded";
	default: return NULL;
	}
}

#define MAC_FMT "%02x:%02x:%02x:%02x:%02x:%02x"
#define MAC_ARGS(m) (m)[0], (m)[1], (m)[2], (m)[3], (m)[4], (m)[5]
#define IP_FMT "%u.%u.%u.%u"
#define IP_ARGS(a) (a) >> 24, ((a) >> 16) & 0xff, ((a) >> 8) & 0xff, (a) & 0xff

/* Append to buf at *off, keeping *off within size; returns the total an
 * unlimited buffer would have needed, like snprintf. */
static int __rte_format_printf(4, 5)
append(char *buf, size_t size, int *off, const char *fmt, ...)
{
	va_list ap;
	int n;
	size_t room = (size_t)*off < size ? size - *off : 0;

	va_start(ap, fmt);
	n = vsnprintf(room ? buf + *off : NULL, room, fmt, ap);
	va_end(ap);
	if (n > 0)
		*off += n;
	return *off;
}

static const char *
ethertype_str(uint16_t t)
{
	switch (t) {
	case RTE_ETHER_TYPE_IPV4: return "IPv4";
	case RTE_ETHER_TYPE_ARP: return "ARP";
	case RTE_ETHER_TYPE_IPV6: return "IPv6";
	case RTE_ETHER_TYPE_VLAN: return "802.1Q";
	default: return "unknown";
	}
}

int
pkt_summary_format(const struct pkt_summary *ps, char *buf, size_t size)
{
	int off = 0;
	char tf[8];

	if (size > 0)
		buf[0] = '\0';
	append(buf, size, &off, "%s " MAC_FMT " > " MAC_FMT ", ethertype %s (0x%04x), length %u",
	       ps->dir == PKT_TX ? "TX" : "RX", MAC_ARGS(ps->src_mac),
	       MAC_ARGS(ps->dst_mac), ethertype_str(ps->ethertype),
	       ps->ethertype, ps->frame_len);

	switch (ps->kind) {
	case PKT_ETH:
		break;
	case PKT_ARP:
		if (ps->flags & PKT_F_TRUNC)
			break;
		if (ps->l4.arp.op == RTE_ARP_OP_REQUEST)
			append(buf, size, &off, ": ARP, Request who-has " IP_FMT " tell " IP_FMT " (" MAC_FMT ")",
			       IP_ARGS(ps->dst_ip), IP_ARGS(ps->src_ip), MAC_ARGS(ps->l4.arp.sha));
		else if (ps->l4.arp.op == RTE_ARP_OP_REPLY)
			append(buf, size, &off, ": ARP, Reply " IP_FMT " is-at " MAC_FMT,
			       IP_ARGS(ps->src_ip), MAC_ARGS(ps->l4.arp.sha));
		else
			append(buf, size, &off, ": ARP, op %u " IP_FMT " > " IP_FMT,
			       ps->l4.arp.op, IP_ARGS(ps->src_ip), IP_ARGS(ps->dst_ip));
		break;
	default: /* IPv4 and above */
		if (ps->ip_len == 0 && (ps->flags & PKT_F_TRUNC))
			break;
		if (ps->kind == PKT_UDP && !(ps->flags & PKT_F_TRUNC))
			append(buf, size, &off, ": " IP_FMT ".%u > " IP_FMT ".%u: UDP, length %u",
			       IP_ARGS(ps->src_ip), ps->l4.udp.sport,
			       IP_ARGS(ps->dst_ip), ps->l4.udp.dport,
			       ps->l4.udp.len >= 8 ? ps->l4.udp.len - 8u : 0u);
		else if (ps->kind == PKT_TCP && !(ps->flags & PKT_F_TRUNC))
			append(buf, size, &off, ": " IP_FMT ".%u > " IP_FMT ".%u: TCP, flags [%s], seq %u",
			       IP_ARGS(ps->src_ip), ps->l4.tcp.sport,
			       IP_ARGS(ps->dst_ip), ps->l4.tcp.dport,
			       tcp_flags_str(ps->l4.tcp.flags, tf), ps->l4.tcp.seq);
		else if (ps->kind == PKT_ICMP && !(ps->flags & PKT_F_TRUNC)) {
			const char *t = icmp_type_str(ps->l4.icmp.type);

			append(buf, size, &off, ": " IP_FMT " > " IP_FMT ": ICMP ",
			       IP_ARGS(ps->src_ip), IP_ARGS(ps->dst_ip));
			if (t != NULL)
				append(buf, size, &off, "%s", t);
			else
				append(buf, size, &off, "type %u", ps->l4.icmp.type);
			if (ps->l4.icmp.type == 0 || ps->l4.icmp.type == 8)
				append(buf, size, &off, ", id %u, seq %u",
				       ps->l4.icmp.id, ps->l4.icmp.seq);
			else
				append(buf, size, &off, ", code %u", ps->l4.icmp.code);
		} else {
			append(buf, size, &off, ": " IP_FMT " > " IP_FMT ": proto %u",
			       IP_ARGS(ps->src_ip), IP_ARGS(ps->dst_ip), ps->ip_proto);
		}
		append(buf, size, &off, ", ttl %u, flags [%s]", ps->ttl,
		       ip_flags_str(ps->ip_frag));
		if (ps->ip_frag & RTE_IPV4_HDR_OFFSET_MASK)
			append(buf, size, &off, ", offset %u",
			       (ps->ip_frag & RTE_IPV4_HDR_OFFSET_MASK) * 8u);
		break;
	}
	if (ps->flags & PKT_F_TRUNC)
		append(buf, size, &off, " [truncated]");
	return off;
}

int
pkt_filter_parse(struct pkt_filter *f, int argc, char *const argv[], char *err, size_t errlen)
{
	static const struct { const char *word; uint32_t kinds; } kinds[] = {
		{ "udp", 1u << PKT_UDP }, { "tcp", 1u << PKT_TCP },
		{ "icmp", 1u << PKT_ICMP }, { "arp", 1u << PKT_ARP },
		{ "ip", 1u << PKT_IPV4 | 1u << PKT_UDP | 1u << PKT_TCP | 1u << PKT_ICMP },
	};

	memset(f, 0, sizeof(*f));
	for (int i = 0; i < argc; i++) {
		const char *w = argv[i];
		bool known = false;

		if (strcmp(w, "and") == 0 || strcmp(w, "&&") == 0)
			continue;
		for (size_t k = 0; k < sizeof(kinds) / sizeof(kinds[0]); k++)
			if (strcmp(w, kinds[k].word) == 0) {
				f->kinds |= kinds[k].kinds;
				known = true;
			}
		if (known)
			continue;
		if (strcmp(w, "port") == 0) {
			char *end;
			unsigned long v;

			if (i + 1 >= argc) {
				snprintf(err, errlen, "filter: 'port' needs a number");
				return -1;
			}
			errno = 0;
			v = strtoul(argv[++i], &end, 10);
			if (errno != 0 || *end != '\0' || end == argv[i] || v > 65535 ||
			    argv[i][0] == '-' || argv[i][0] == '+') {
				snprintf(err, errlen, "filter: port '%s' is not a number from 0 to 65535",
					 argv[i]);
				return -1;
			}
			f->port = (uint16_t)v;
			f->has_port = 1;
			continue;
		}
		if (strcmp(w, "host") == 0) {
			struct in_addr a;

			if (i + 1 >= argc) {
				snprintf(err, errlen, "filter: 'host' needs an IPv4 address");
				return -1;
			}
			if (inet_pton(AF_INET, argv[++i], &a) != 1) {
				snprintf(err, errlen, "filter: host '%s' is not an IPv4 address", argv[i]);
				return -1;
			}
			f->host = ntohl(a.s_addr);
			f->has_host = 1;
			continue;
		}
		snprintf(err, errlen, "filter: unknown word '%s' (expected udp, tcp, icmp, arp, ip, "
			 "port N, host ADDR, and)", w);
		return -1;
	}
	return 0;
}
