/* SPDX-License-Identifier: BSD-3-Clause */
/* Parsed-packet summaries (summary.h): decode, one line, JSON. */
#include "summary.h"

#include <arpa/inet.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

static inline uint16_t
rd16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static inline uint32_t
rd32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

#define ETH_HLEN 14
#define ET_IPV4 0x0800
#define ET_ARP  0x0806
#define ET_VLAN 0x8100
#define ET_QINQ 0x88a8
#define ET_IPV6 0x86dd

static void
trunc_at(struct pkt_summary *ps, const char *layer)
{
	ps->flags |= PKT_F_TRUNC;
	if (ps->trunc_at == NULL)
		ps->trunc_at = layer;
}

/* ICMP types that quote the datagram they are about */
static bool
icmp_is_error(uint8_t type)
{
	return type == 3 || type == 4 || type == 5 || type == 11 || type == 12;
}

/* The transport header at p, n bytes of it there (n may be less than the
 * datagram says): every field that is whole. */
static void
summarize_l4(struct pkt_summary *ps, const uint8_t *p, uint32_t n)
{
	uint32_t need;

	ps->l4_avail = n;
	switch (ps->ip_proto) {
	case 17:
		ps->kind = PKT_UDP;
		need = 8;
		if (n >= 4) {
			ps->l4.udp.sport = rd16(p);
			ps->l4.udp.dport = rd16(p + 2);
		}
		if (n >= 6)
			ps->l4.udp.len = rd16(p + 4);
		break;
	case 6:
		ps->kind = PKT_TCP;
		need = 20;
		if (n >= 4) {
			ps->l4.tcp.sport = rd16(p);
			ps->l4.tcp.dport = rd16(p + 2);
		}
		if (n >= 8)
			ps->l4.tcp.seq = rd32(p + 4);
		if (n >= 12)
			ps->l4.tcp.ack = rd32(p + 8);
		if (n >= 14) {
			ps->l4.tcp.doff = (uint8_t)((p[12] >> 4) * 4);
			ps->l4.tcp.flags = (uint16_t)((p[12] & 1) << 8 | p[13]);
		}
		if (n >= 16)
			ps->l4.tcp.win = rd16(p + 14);
		break;
	case 1:
	case 58:
		ps->kind = ps->ip_proto == 1 ? PKT_ICMP : PKT_ICMPV6;
		need = 8;
		if (n >= 1)
			ps->l4.icmp.type = p[0];
		if (n >= 2)
			ps->l4.icmp.code = p[1];
		if (n >= 6)
			ps->l4.icmp.id = rd16(p + 4);
		if (n >= 8) {
			ps->l4.icmp.seq = rd16(p + 6);
			ps->l4.icmp.rest = rd32(p + 4);
		}
		if (ps->kind == PKT_ICMP && n >= 8 + 20 && icmp_is_error(p[0]) && (p[8] >> 4) == 4) {
			/* the header of the datagram the error is about */
			const uint8_t *q = p + 8;
			const uint32_t qihl = (q[0] & 0x0f) * 4u;

			ps->l4.icmp.q_avail = 20;
			ps->l4.icmp.q_proto = q[9];
			ps->l4.icmp.q_src = rd32(q + 12);
			ps->l4.icmp.q_dst = rd32(q + 16);
			if (qihl >= 20 && n >= 8 + qihl + 4) {
				ps->l4.icmp.q_avail = 24;
				ps->l4.icmp.q_sport = rd16(q + qihl);
				ps->l4.icmp.q_dport = rd16(q + qihl + 2);
			}
		}
		break;
	default:
		return;
	}
	if (n < need)
		trunc_at(ps, ps->kind == PKT_UDP ? "udp" : ps->kind == PKT_TCP ? "tcp" :
			 ps->kind == PKT_ICMP ? "icmp" : "icmp6");
}

static void
summarize_ipv4(struct pkt_summary *ps, const uint8_t *p, uint32_t n)
{
	uint32_t ihl, avail;

	ps->kind = PKT_IPV4;
	ps->l3_avail = n;
	/* every field of the fixed header that is whole */
	if (n >= 1) {
		ps->ip_ver = p[0] >> 4;
		ps->ihl = (uint8_t)((p[0] & 0x0f) * 4);
	}
	if (n >= 2)
		ps->tos = p[1];
	if (n >= 4)
		ps->ip_len = rd16(p + 2);
	if (n >= 6)
		ps->ip_id = rd16(p + 4);
	if (n >= 8)
		ps->ip_frag = rd16(p + 6);
	if (n >= 9)
		ps->ttl = p[8];
	if (n >= 10)
		ps->ip_proto = p[9];
	if (n >= 16)
		ps->src_ip = rd32(p + 12);
	if (n >= 20)
		ps->dst_ip = rd32(p + 16);
	if (n < 20) {
		trunc_at(ps, "ipv4");
		return;
	}
	if (ps->ip_ver != 4)
		return;
	ihl = ps->ihl;
	if (ihl < 20) {
		trunc_at(ps, "ipv4");       /* a header length no header has */
		return;
	}
	if (ihl > n) {
		ps->nopt = (uint8_t)(n - 20 < PKT_MAX_IPOPT ? n - 20 : PKT_MAX_IPOPT);
		memcpy(ps->opt, p + 20, ps->nopt);
		trunc_at(ps, "ipv4");
		return;
	}
	ps->nopt = (uint8_t)(ihl - 20);
	memcpy(ps->opt, p + 20, ps->nopt);
	/* Only a first fragment carries the transport header. */
	if ((ps->ip_frag & 0x1fff) != 0)
		return;
	/* the datagram as far as it goes: its length, or what is there */
	avail = n - ihl;
	if (ps->ip_len >= ihl && ps->ip_len - ihl < avail)
		avail = ps->ip_len - ihl;
	summarize_l4(ps, p + ihl, avail);
}

static void
summarize_ipv6(struct pkt_summary *ps, const uint8_t *p, uint32_t n)
{
	uint32_t avail;

	ps->kind = PKT_IPV6;
	ps->ip_ver = 6;
	ps->flags |= PKT_F_IPV6;
	if (n < 40) {
		trunc_at(ps, "ipv6");
		return;
	}
	ps->ip_ver = p[0] >> 4;
	ps->tos = (uint8_t)((p[0] & 0x0f) << 4 | p[1] >> 4);
	ps->flow = (uint32_t)(p[1] & 0x0f) << 16 | rd16(p + 2);
	ps->ip_len = rd16(p + 4);
	ps->ip_proto = p[6];
	ps->ttl = p[7];
	memcpy(ps->ip6_src, p + 8, 16);
	memcpy(ps->ip6_dst, p + 24, 16);
	avail = n - 40 < ps->ip_len ? n - 40 : ps->ip_len;
	if (ps->ip_proto == 17 || ps->ip_proto == 6 || ps->ip_proto == 58)
		summarize_l4(ps, p + 40, avail);
}

void
pkt_summarize(struct pkt_summary *ps, const void *frame, uint32_t caplen, uint32_t len,
	      enum pkt_dir dir, uint64_t ts)
{
	const uint8_t *p = frame;
	uint32_t n = caplen;
	uint16_t type;

	memset(ps, 0, sizeof(*ps));
	ps->ts = ts;
	ps->dir = dir;
	ps->kind = PKT_ETH;
	ps->frame_len = len;
	ps->caplen = caplen;
	if (n < ETH_HLEN) {
		memcpy(ps->dst_mac, p, n < 6 ? n : 6);
		if (n > 6)
			memcpy(ps->src_mac, p + 6, n - 6);
		trunc_at(ps, "ethernet");
		return;
	}
	memcpy(ps->dst_mac, p, 6);
	memcpy(ps->src_mac, p + 6, 6);
	type = rd16(p + 12);
	p += ETH_HLEN;
	n -= ETH_HLEN;
	/* 802.1Q and 802.1ad tags, up to two */
	while ((type == ET_VLAN || type == ET_QINQ) && ps->nvlan < PKT_MAX_VLANS) {
		if (n < 4) {
			ps->ethertype = type;
			trunc_at(ps, "vlan");
			return;
		}
		ps->vlan_tpid[ps->nvlan] = type;
		ps->vlan_tci[ps->nvlan++] = rd16(p);
		type = rd16(p + 2);
		p += 4;
		n -= 4;
	}
	if (type < 0x0600) {
		/* 802.3: a length, then LLC */
		ps->len8023 = type;
		ps->kind = PKT_LLC;
		if (n < 3) {
			trunc_at(ps, "llc");
			return;
		}
		ps->llc.dsap = p[0];
		ps->llc.ssap = p[1];
		ps->llc.ctrl = p[2];
		return;
	}
	ps->ethertype = type;
	switch (type) {
	case ET_ARP:
		ps->kind = PKT_ARP;
		if (n < 8) {
			trunc_at(ps, "arp");
			return;
		}
		ps->l4.arp.htype = rd16(p);
		ps->l4.arp.ptype = rd16(p + 2);
		ps->l4.arp.hlen = p[4];
		ps->l4.arp.plen = p[5];
		ps->l4.arp.op = rd16(p + 6);
		if (ps->l4.arp.hlen != 6 || ps->l4.arp.plen != 4)
			return;                 /* not Ethernet/IPv4: the fixed part only */
		if (n < 28) {
			trunc_at(ps, "arp");
			return;
		}
		memcpy(ps->l4.arp.sha, p + 8, 6);
		ps->src_ip = rd32(p + 14);
		memcpy(ps->l4.arp.tha, p + 18, 6);
		ps->dst_ip = rd32(p + 24);
		return;
	case ET_IPV4:
		summarize_ipv4(ps, p, n);
		return;
	case ET_IPV6:
		summarize_ipv6(ps, p, n);
		return;
	default:
		return;
	}
}

/* ---- names ---- */

const char *
pkt_kind_name(uint8_t kind)
{
	static const char *const names[PKT_KIND_MAX] = {
		[PKT_ETH] = "eth", [PKT_ARP] = "arp", [PKT_IPV4] = "ipv4", [PKT_UDP] = "udp",
		[PKT_TCP] = "tcp", [PKT_ICMP] = "icmp", [PKT_IPV6] = "ipv6",
		[PKT_ICMPV6] = "icmp6", [PKT_LLC] = "llc",
	};

	return kind < PKT_KIND_MAX ? names[kind] : "?";
}

/* tcpdump's letters: S F R P U, '.' for ACK, E (ECE), W (CWR), N (NS) */
static const char *
tcp_flags_str(uint16_t f, char b[12])
{
	static const struct { uint16_t bit; char c; } map[] = {
		{ PKT_TCP_SYN, 'S' }, { PKT_TCP_FIN, 'F' }, { PKT_TCP_RST, 'R' },
		{ PKT_TCP_PSH, 'P' }, { PKT_TCP_URG, 'U' }, { PKT_TCP_ACK, '.' },
		{ PKT_TCP_ECE, 'E' }, { PKT_TCP_CWR, 'W' }, { PKT_TCP_NS, 'N' },
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
	bool df = frag & 0x4000, mf = frag & 0x2000;

	return df && mf ? "DF+MF" : df ? "DF" : mf ? "MF" : "none";
}

static const char *
icmp_type_str(uint8_t type)
{
	switch (type) {
	case 0: return "echo reply";
	case 3: return "unreachable";
	case 5: return "redirect";
	case 8: return "echo request";
	case 11: return "time exceeded";
	case 12: return "parameter problem";
	default: return NULL;
	}
}

static const char *
icmp6_type_str(uint8_t type)
{
	switch (type) {
	case 1: return "destination unreachable";
	case 2: return "packet too big";
	case 3: return "time exceeded";
	case 4: return "parameter problem";
	case 128: return "echo request";
	case 129: return "echo reply";
	case 133: return "router solicitation";
	case 134: return "router advertisement";
	case 135: return "neighbor solicitation";
	case 136: return "neighbor advertisement";
	case 143: return "multicast listener report v2";
	default: return NULL;
	}
}

static const char *
ethertype_str(uint16_t t)
{
	switch (t) {
	case ET_IPV4: return "IPv4";
	case ET_ARP: return "ARP";
	case ET_IPV6: return "IPv6";
	case ET_VLAN: return "802.1Q";
	case ET_QINQ: return "802.1Q-QinQ";
	default: return "Unknown";
	}
}

/* The names of the IPv4 options present, tcpdump's ("rr", "ts", ...). */
static void
ipopt_names(const struct pkt_summary *ps, char *b, size_t size)
{
	size_t o = 0;

	b[0] = '\0';
	for (uint32_t i = 0; i < ps->nopt && o + 8 < size;) {
		uint8_t t = ps->opt[i], l;
		const char *name;

		switch (t) {
		case 0: name = "eol"; break;
		case 1: name = "nop"; break;
		case 7: name = "rr"; break;
		case 68: name = "ts"; break;
		case 130: name = "security"; break;
		case 131: name = "lsrr"; break;
		case 137: name = "ssrr"; break;
		case 148: name = "ra"; break;
		default: name = NULL;
		}
		if (name != NULL)
			o += (size_t)snprintf(b + o, size - o, "%s%s", o ? "," : "", name);
		else
			o += (size_t)snprintf(b + o, size - o, "%sunknown-%u", o ? "," : "", t);
		if (t == 0)
			break;
		if (t == 1) {
			i++;
			continue;
		}
		l = i + 1 < ps->nopt ? ps->opt[i + 1] : 0;
		if (l < 2) {
			if (o + 12 < size)
				o += (size_t)snprintf(b + o, size - o, "(bad length)");
			break;
		}
		i += l;
	}
}

/* ---- one line ---- */

#define MAC_FMT "%02x:%02x:%02x:%02x:%02x:%02x"
#define MAC_ARGS(m) (m)[0], (m)[1], (m)[2], (m)[3], (m)[4], (m)[5]
#define IP_FMT "%u.%u.%u.%u"
#define IP_ARGS(a) (a) >> 24, ((a) >> 16) & 0xff, ((a) >> 8) & 0xff, (a) & 0xff

/* Append to buf at *off, keeping *off within size; returns the total an
 * unlimited buffer would have needed, like snprintf. */
static int __attribute__((format(printf, 4, 5)))
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

static void
addr_str(const struct pkt_summary *ps, int src, char *b, size_t size)
{
	if (ps->flags & PKT_F_IPV6) {
		inet_ntop(AF_INET6, src ? ps->ip6_src : ps->ip6_dst, b, (socklen_t)size);
	} else {
		uint32_t a = src ? ps->src_ip : ps->dst_ip;

		snprintf(b, size, IP_FMT, IP_ARGS(a));
	}
}

/* An ICMP error as tcpdump words it, from the header it quotes; 0 if
 * there is not enough of it. */
static int
format_icmp_error(const struct pkt_summary *ps, char *buf, size_t size, int *off)
{
	const uint32_t qd = ps->l4.icmp.q_dst, r = ps->l4.icmp.rest;
	const uint8_t code = ps->l4.icmp.code;

	if (ps->l4.icmp.q_avail < 20)
		return 0;
	switch (ps->l4.icmp.type) {
	case 3:
		switch (code) {
		case 0:
			append(buf, size, off, "net " IP_FMT " unreachable", IP_ARGS(qd));
			return 1;
		case 1:
			append(buf, size, off, "host " IP_FMT " unreachable", IP_ARGS(qd));
			return 1;
		case 2:
			append(buf, size, off, IP_FMT " protocol %u unreachable", IP_ARGS(qd),
			       ps->l4.icmp.q_proto);
			return 1;
		case 3:
			if (ps->l4.icmp.q_avail < 24)
				return 0;
			if (ps->l4.icmp.q_proto == 17 || ps->l4.icmp.q_proto == 6)
				append(buf, size, off, IP_FMT " %s port %u unreachable", IP_ARGS(qd),
				       ps->l4.icmp.q_proto == 17 ? "udp" : "tcp", ps->l4.icmp.q_dport);
			else
				append(buf, size, off, IP_FMT " protocol %u port %u unreachable",
				       IP_ARGS(qd), ps->l4.icmp.q_proto, ps->l4.icmp.q_dport);
			return 1;
		case 4:
			append(buf, size, off, IP_FMT " unreachable - need to frag (mtu %u)",
			       IP_ARGS(qd), r & 0xffff);
			return 1;
		case 5:
			append(buf, size, off, IP_FMT " unreachable - source route failed",
			       IP_ARGS(qd));
			return 1;
		default:
			append(buf, size, off, IP_FMT " unreachable - code %u", IP_ARGS(qd), code);
			return 1;
		}
	case 5:
		append(buf, size, off, "redirect " IP_FMT " to %s " IP_FMT, IP_ARGS(qd),
		       code == 0 || code == 2 ? "net" : "host", IP_ARGS(r));
		return 1;
	case 11:
		append(buf, size, off, "%s", code == 1 ? "ip reassembly time exceeded" :
		       "time exceeded in-transit");
		return 1;
	case 12:
		append(buf, size, off, "parameter problem - octet %u", r >> 24);
		return 1;
	default:                        /* 4, source quench */
		return 0;
	}
}

static void
format_ip(const struct pkt_summary *ps, char *buf, size_t size, int *off)
{
	char s[INET6_ADDRSTRLEN], d[INET6_ADDRSTRLEN], tf[12];
	const bool v6 = ps->flags & PKT_F_IPV6;

	addr_str(ps, 1, s, sizeof(s));
	addr_str(ps, 0, d, sizeof(d));
	switch (ps->kind) {
	case PKT_UDP:
		if (ps->l4_avail < 8)
			append(buf, size, off, ": %s > %s: UDP", s, d);
		else
			append(buf, size, off, ": %s.%u > %s.%u: UDP, length %u", s,
			       ps->l4.udp.sport, d, ps->l4.udp.dport,
			       ps->l4.udp.len >= 8 ? ps->l4.udp.len - 8u : 0u);
		break;
	case PKT_TCP:
		if (ps->l4_avail < 4)
			append(buf, size, off, ": %s > %s: TCP", s, d);
		else if (ps->l4_avail < 20)
			append(buf, size, off, ": %s.%u > %s.%u: TCP", s, ps->l4.tcp.sport, d,
			       ps->l4.tcp.dport);
		else
			append(buf, size, off, ": %s.%u > %s.%u: TCP, flags [%s], seq %u", s,
			       ps->l4.tcp.sport, d, ps->l4.tcp.dport,
			       tcp_flags_str(ps->l4.tcp.flags, tf), ps->l4.tcp.seq);
		break;
	case PKT_ICMP:
	case PKT_ICMPV6: {
		const char *t = ps->kind == PKT_ICMP ? icmp_type_str(ps->l4.icmp.type) :
						       icmp6_type_str(ps->l4.icmp.type);
		const bool echo = ps->kind == PKT_ICMP ?
			(ps->l4.icmp.type == 0 || ps->l4.icmp.type == 8) :
			(ps->l4.icmp.type == 128 || ps->l4.icmp.type == 129);

		append(buf, size, off, ": %s > %s: ICMP%s", s, d, v6 ? "6" : "");
		if (ps->l4_avail < 2)
			break;
		append(buf, size, off, " ");
		if (ps->kind == PKT_ICMP && format_icmp_error(ps, buf, size, off))
			break;
		if (t != NULL)
			append(buf, size, off, "%s", t);
		else
			append(buf, size, off, "type %u", ps->l4.icmp.type);
		if (ps->l4_avail < 2)
			break;
		if (!echo)
			append(buf, size, off, ", code %u", ps->l4.icmp.code);
		else if (ps->l4_avail >= 8)
			append(buf, size, off, ", id %u, seq %u", ps->l4.icmp.id, ps->l4.icmp.seq);
		break;
	}
	default:
		append(buf, size, off, ": %s > %s: %s %u", s, d, v6 ? "next-header" : "proto",
		       ps->ip_proto);
	}
	if (v6) {
		append(buf, size, off, ", hlim %u", ps->ttl);
		if (ps->tos != 0 || ps->flow != 0)
			append(buf, size, off, ", class 0x%02x, flowlabel 0x%05x", ps->tos, ps->flow);
		return;
	}
	append(buf, size, off, ", ttl %u, ip id %u, flags [%s]", ps->ttl, ps->ip_id,
	       ip_flags_str(ps->ip_frag));
	if (ps->ip_frag & 0x1fff)
		append(buf, size, off, ", offset %u", (ps->ip_frag & 0x1fff) * 8u);
	if (ps->tos != 0)
		append(buf, size, off, ", tos 0x%02x", ps->tos);
	if (ps->nopt > 0) {
		char names[96];

		ipopt_names(ps, names, sizeof(names));
		append(buf, size, off, ", options [%s]", names);
	}
}

int
pkt_summary_format(const struct pkt_summary *ps, char *buf, size_t size)
{
	int off = 0;

	if (size > 0)
		buf[0] = '\0';
	append(buf, size, &off, "%s " MAC_FMT " > " MAC_FMT, ps->dir == PKT_TX ? "TX" : "RX",
	       MAC_ARGS(ps->src_mac), MAC_ARGS(ps->dst_mac));
	if (ps->kind == PKT_LLC || (ps->len8023 && ps->nvlan == 0)) {
		append(buf, size, &off, ", 802.3, length %u", ps->frame_len);
	} else {
		uint16_t outer = ps->nvlan ? ps->vlan_tpid[0] : ps->ethertype;

		append(buf, size, &off, ", ethertype %s (0x%04x), length %u", ethertype_str(outer),
		       outer, ps->frame_len);
	}
	for (uint8_t i = 0; i < ps->nvlan; i++) {
		uint16_t next = i + 1 < ps->nvlan ? ps->vlan_tpid[i + 1] : ps->ethertype;

		append(buf, size, &off, ": vlan %u, p %u", ps->vlan_tci[i] & 0x0fff,
		       ps->vlan_tci[i] >> 13);
		if (ps->kind == PKT_LLC && i + 1 == ps->nvlan)
			append(buf, size, &off, ", 802.3");
		else if (!(ps->trunc_at != NULL && strcmp(ps->trunc_at, "vlan") == 0 &&
			   i + 1 == ps->nvlan))
			append(buf, size, &off, ", ethertype %s (0x%04x)", ethertype_str(next), next);
	}
	switch (ps->kind) {
	case PKT_ETH:
		break;
	case PKT_LLC:
		if (ps->trunc_at == NULL)
			append(buf, size, &off, ": LLC, dsap 0x%02x, ssap 0x%02x, ctrl 0x%02x",
			       ps->llc.dsap, ps->llc.ssap, ps->llc.ctrl);
		break;
	case PKT_ARP:
		if (ps->trunc_at != NULL)
			break;
		if (ps->l4.arp.hlen != 6 || ps->l4.arp.plen != 4)
			append(buf, size, &off, ": ARP, op %u, hardware %u/%u, protocol 0x%04x/%u",
			       ps->l4.arp.op, ps->l4.arp.htype, ps->l4.arp.hlen, ps->l4.arp.ptype,
			       ps->l4.arp.plen);
		else if (ps->l4.arp.op == 1)
			append(buf, size, &off, ": ARP, Request who-has " IP_FMT " tell " IP_FMT
			       " (" MAC_FMT ")", IP_ARGS(ps->dst_ip), IP_ARGS(ps->src_ip),
			       MAC_ARGS(ps->l4.arp.sha));
		else if (ps->l4.arp.op == 2)
			append(buf, size, &off, ": ARP, Reply " IP_FMT " is-at " MAC_FMT,
			       IP_ARGS(ps->src_ip), MAC_ARGS(ps->l4.arp.sha));
		else
			append(buf, size, &off, ": ARP, op %u " IP_FMT " > " IP_FMT,
			       ps->l4.arp.op, IP_ARGS(ps->src_ip), IP_ARGS(ps->dst_ip));
		break;
	case PKT_IPV4:
	case PKT_IPV6:
		if (ps->kind == PKT_IPV4 && ps->l3_avail < 20) {
			/* the fixed header cut short: what of it is there */
			append(buf, size, &off, ": IP");
			if (ps->l3_avail >= 16)
				append(buf, size, &off, " " IP_FMT, IP_ARGS(ps->src_ip));
			if (ps->l3_avail >= 9)
				append(buf, size, &off, ", ttl %u", ps->ttl);
			if (ps->l3_avail >= 6)
				append(buf, size, &off, ", ip id %u", ps->ip_id);
			if (ps->l3_avail >= 4)
				append(buf, size, &off, ", length %u", ps->ip_len);
			break;
		}
		if (ps->kind == PKT_IPV6 && ps->trunc_at != NULL &&
		    strcmp(ps->trunc_at, "ipv6") == 0)
			break;
		if (ps->ip_ver != (ps->kind == PKT_IPV6 ? 6 : 4)) {
			append(buf, size, &off, ": IP version %u", ps->ip_ver);
			break;
		}
		format_ip(ps, buf, size, &off);
		break;
	default:
		format_ip(ps, buf, size, &off);
		break;
	}
	if (ps->trunc_at != NULL)
		append(buf, size, &off, " [|%s]", ps->trunc_at);
	return off;
}

/* ---- JSON ---- */

int
pkt_summary_json(const struct pkt_summary *ps, char *buf, size_t size)
{
	char s[INET6_ADDRSTRLEN], d[INET6_ADDRSTRLEN];
	int off = 0;

	if (size > 0)
		buf[0] = '\0';
	append(buf, size, &off, "\"dir\": \"%s\", \"kind\": \"%s\", \"length\": %u, "
	       "\"caplen\": %u, \"src_mac\": \"" MAC_FMT "\", \"dst_mac\": \"" MAC_FMT "\", "
	       "\"ethertype\": %u", ps->dir == PKT_TX ? "tx" : "rx", pkt_kind_name(ps->kind),
	       ps->frame_len, ps->caplen, MAC_ARGS(ps->src_mac), MAC_ARGS(ps->dst_mac),
	       ps->ethertype);
	append(buf, size, &off, ", \"truncated\": %s", ps->trunc_at != NULL ? "true" : "false");
	if (ps->trunc_at != NULL)
		append(buf, size, &off, ", \"truncated_at\": \"%s\"", ps->trunc_at);
	if (ps->nvlan > 0) {
		append(buf, size, &off, ", \"vlan\": [");
		for (uint8_t i = 0; i < ps->nvlan; i++)
			append(buf, size, &off, "%s{\"tpid\": %u, \"id\": %u, \"pcp\": %u, \"dei\": %u}",
			       i ? ", " : "", ps->vlan_tpid[i], ps->vlan_tci[i] & 0x0fff,
			       ps->vlan_tci[i] >> 13, (ps->vlan_tci[i] >> 12) & 1);
		append(buf, size, &off, "]");
	}
	if (ps->kind == PKT_LLC || ps->len8023)
		append(buf, size, &off, ", \"length_8023\": %u", ps->len8023);
	if (ps->kind == PKT_LLC && ps->trunc_at == NULL)
		append(buf, size, &off, ", \"llc_dsap\": %u, \"llc_ssap\": %u, \"llc_ctrl\": %u",
		       ps->llc.dsap, ps->llc.ssap, ps->llc.ctrl);
	if (ps->kind == PKT_ARP && ps->l4.arp.op != 0) {
		append(buf, size, &off, ", \"arp_op\": %u, \"arp_htype\": %u, \"arp_ptype\": %u",
		       ps->l4.arp.op, ps->l4.arp.htype, ps->l4.arp.ptype);
		if (ps->l4.arp.hlen == 6 && ps->l4.arp.plen == 4 && ps->trunc_at == NULL) {
			addr_str(ps, 1, s, sizeof(s));
			addr_str(ps, 0, d, sizeof(d));
			append(buf, size, &off, ", \"arp_sha\": \"" MAC_FMT "\", \"arp_tha\": \""
			       MAC_FMT "\", \"src_ip\": \"%s\", \"dst_ip\": \"%s\"",
			       MAC_ARGS(ps->l4.arp.sha), MAC_ARGS(ps->l4.arp.tha), s, d);
		}
		return off;
	}
	if (ps->kind == PKT_ETH || ps->kind == PKT_LLC || (ps->flags & PKT_F_IPV6 ?
	    ps->ip_ver == 0 : ps->l3_avail == 0))
		return off;
	if (ps->flags & PKT_F_IPV6) {
		if (ps->ip_proto == 0 && ps->trunc_at != NULL && strcmp(ps->trunc_at, "ipv6") == 0)
			return off;
		addr_str(ps, 1, s, sizeof(s));
		addr_str(ps, 0, d, sizeof(d));
		append(buf, size, &off, ", \"ip_version\": %u, \"src_ip\": \"%s\", \"dst_ip\": \"%s\", "
		       "\"next_header\": %u, \"hop_limit\": %u, \"traffic_class\": %u, "
		       "\"flow_label\": %u, \"payload_length\": %u", ps->ip_ver, s, d,
		       ps->ip_proto, ps->ttl, ps->tos, ps->flow, ps->ip_len);
	} else {
		/* IPv4: every field that was whole (a header cut short included) */
		const uint32_t n = ps->l3_avail;

		append(buf, size, &off, ", \"ip_version\": %u, \"ip_hdr_len\": %u", ps->ip_ver, ps->ihl);
		if (n >= 2)
			append(buf, size, &off, ", \"tos\": %u", ps->tos);
		if (n >= 4)
			append(buf, size, &off, ", \"ip_len\": %u", ps->ip_len);
		if (n >= 6)
			append(buf, size, &off, ", \"ip_id\": %u", ps->ip_id);
		if (n >= 8)
			append(buf, size, &off, ", \"df\": %s, \"mf\": %s, \"frag_offset\": %u",
			       ps->ip_frag & 0x4000 ? "true" : "false",
			       ps->ip_frag & 0x2000 ? "true" : "false", (ps->ip_frag & 0x1fff) * 8u);
		if (n >= 9)
			append(buf, size, &off, ", \"ttl\": %u", ps->ttl);
		if (n >= 10)
			append(buf, size, &off, ", \"ip_proto\": %u", ps->ip_proto);
		if (n >= 16) {
			addr_str(ps, 1, s, sizeof(s));
			append(buf, size, &off, ", \"src_ip\": \"%s\"", s);
		}
		if (n >= 20) {
			addr_str(ps, 0, d, sizeof(d));
			append(buf, size, &off, ", \"dst_ip\": \"%s\"", d);
		}
		if (ps->nopt > 0) {
			char names[96];

			ipopt_names(ps, names, sizeof(names));
			append(buf, size, &off, ", \"ip_options\": \"");
			for (uint8_t i = 0; i < ps->nopt; i++)
				append(buf, size, &off, "%02x", ps->opt[i]);
			append(buf, size, &off, "\", \"ip_option_names\": \"%s\"", names);
		}
	}
	switch (ps->kind) {
	case PKT_UDP:
		if (ps->l4_avail >= 4)
			append(buf, size, &off, ", \"src_port\": %u, \"dst_port\": %u",
			       ps->l4.udp.sport, ps->l4.udp.dport);
		if (ps->l4_avail >= 6)
			append(buf, size, &off, ", \"udp_len\": %u", ps->l4.udp.len);
		break;
	case PKT_TCP:
		if (ps->l4_avail >= 4)
			append(buf, size, &off, ", \"src_port\": %u, \"dst_port\": %u",
			       ps->l4.tcp.sport, ps->l4.tcp.dport);
		if (ps->l4_avail >= 8)
			append(buf, size, &off, ", \"seq\": %u", ps->l4.tcp.seq);
		if (ps->l4_avail >= 12)
			append(buf, size, &off, ", \"ack\": %u", ps->l4.tcp.ack);
		if (ps->l4_avail >= 14)
			append(buf, size, &off, ", \"tcp_flags\": %u, \"tcp_hdr_len\": %u",
			       ps->l4.tcp.flags, ps->l4.tcp.doff);
		if (ps->l4_avail >= 16)
			append(buf, size, &off, ", \"window\": %u", ps->l4.tcp.win);
		break;
	case PKT_ICMP:
	case PKT_ICMPV6: {
		const char *n = ps->kind == PKT_ICMP ? "icmp" : "icmp6";

		if (ps->l4_avail >= 1)
			append(buf, size, &off, ", \"%s_type\": %u", n, ps->l4.icmp.type);
		if (ps->l4_avail >= 2)
			append(buf, size, &off, ", \"%s_code\": %u", n, ps->l4.icmp.code);
		if (ps->l4_avail >= 6)
			append(buf, size, &off, ", \"%s_id\": %u", n, ps->l4.icmp.id);
		if (ps->l4_avail >= 8)
			append(buf, size, &off, ", \"%s_seq\": %u", n, ps->l4.icmp.seq);
		if (ps->l4.icmp.q_avail >= 20) {
			char qs[INET_ADDRSTRLEN], qd[INET_ADDRSTRLEN];

			snprintf(qs, sizeof(qs), IP_FMT, IP_ARGS(ps->l4.icmp.q_src));
			snprintf(qd, sizeof(qd), IP_FMT, IP_ARGS(ps->l4.icmp.q_dst));
			append(buf, size, &off, ", \"quoted_proto\": %u, \"quoted_src_ip\": \"%s\", "
			       "\"quoted_dst_ip\": \"%s\"", ps->l4.icmp.q_proto, qs, qd);
		}
		if (ps->l4.icmp.q_avail >= 24)
			append(buf, size, &off, ", \"quoted_src_port\": %u, \"quoted_dst_port\": %u",
			       ps->l4.icmp.q_sport, ps->l4.icmp.q_dport);
		if (ps->kind == PKT_ICMP && ps->l4_avail >= 8 && ps->l4.icmp.type == 3 &&
		    ps->l4.icmp.code == 4)
			append(buf, size, &off, ", \"icmp_mtu\": %u", ps->l4.icmp.rest & 0xffff);
		break;
	}
	default:
		break;
	}
	return off;
}
