/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Parsed-packet summaries: the lab's parse function, grown up.  The lcores
 * do not decode: they copy each frame's headers (pkt_headers_len(), below;
 * never its payload) into the stats segment's log, and readers (pollnetctl
 * tail, pollnet --dump) decode them here, as deep as tcpdump does at this
 * level: Ethernet, 802.3/LLC, 802.1Q and QinQ tags, ARP, IPv4 with its
 * options, the IPv6 base header, ICMP, ICMPv6, UDP and TCP.  What a frame
 * (or the log's snapshot of it) cut short is decoded as far as it goes and
 * marked.
 */
#ifndef PN_SUMMARY_H
#define PN_SUMMARY_H

#include <stddef.h>
#include <stdint.h>

enum pkt_dir { PKT_RX = 0, PKT_TX = 1 };

enum pkt_kind {
	PKT_ETH = 0,      /* Ethernet only: unknown ethertype, or cut short */
	PKT_ARP,
	PKT_IPV4,         /* IPv4, another protocol or a later fragment */
	PKT_UDP,
	PKT_TCP,
	PKT_ICMP,
	PKT_IPV6,         /* IPv6, another next header */
	PKT_ICMPV6,
	PKT_LLC,          /* 802.3 with an LLC header */
	PKT_KIND_MAX
};

/* pkt_summary.flags */
#define PKT_F_TRUNC   0x01  /* a header was cut short: see trunc_at */
#define PKT_F_IPV6    0x02  /* ip6 is set (UDP, TCP, ICMPv6 over IPv6) */

/* TCP flag bits (the 9 of RFC 3168/3540: NS in bit 8) */
#define PKT_TCP_FIN 0x001
#define PKT_TCP_SYN 0x002
#define PKT_TCP_RST 0x004
#define PKT_TCP_PSH 0x008
#define PKT_TCP_ACK 0x010
#define PKT_TCP_URG 0x020
#define PKT_TCP_ECE 0x040
#define PKT_TCP_CWR 0x080
#define PKT_TCP_NS  0x100

#define PKT_MAX_VLANS 2
#define PKT_MAX_IPOPT 40

/* All multi-byte fields in host byte order. */
struct pkt_summary {
	uint64_t ts;              /* the caller's timestamp */
	uint32_t frame_len;       /* on the wire */
	uint32_t caplen;          /* bytes that were there to decode */
	uint8_t dir;              /* enum pkt_dir */
	uint8_t kind;             /* enum pkt_kind */
	uint8_t flags;            /* PKT_F_* */
	const char *trunc_at;     /* the layer cut short ("ipv4", "udp", ...) */
	uint8_t dst_mac[6], src_mac[6];
	uint16_t ethertype;       /* of the payload, after any VLAN tags */
	uint16_t len8023;         /* 802.3: the length field (ethertype < 0x600) */
	uint8_t nvlan;
	uint16_t vlan_tpid[PKT_MAX_VLANS];  /* outer first */
	uint16_t vlan_tci[PKT_MAX_VLANS];   /* priority 3 bits, DEI 1, id 12 */
	struct { uint8_t dsap, ssap, ctrl; } llc;
	/* IPv4 (or, with PKT_F_IPV6, the IPv6 fields) */
	uint32_t src_ip, dst_ip;  /* IPv4 source/destination, ARP sender/target */
	uint8_t ip_ver;
	uint8_t tos;              /* IPv4 TOS, IPv6 traffic class */
	uint8_t ihl;              /* IPv4 header length in bytes */
	uint8_t ttl;              /* IPv4 TTL, IPv6 hop limit */
	uint8_t ip_proto;         /* IPv4 protocol, IPv6 next header */
	uint16_t ip_id;
	uint16_t ip_frag;         /* flags (DF 0x4000, MF 0x2000) + offset/8 */
	uint16_t ip_len;          /* IPv4 total length, IPv6 payload length */
	uint32_t flow;            /* IPv6 flow label */
	uint8_t ip6_src[16], ip6_dst[16];
	uint32_t l3_avail;        /* bytes of the IP header there */
	uint32_t l4_avail;        /* bytes of the transport header there */
	uint8_t nopt;             /* IPv4 option bytes kept in opt[] */
	uint8_t opt[PKT_MAX_IPOPT];
	union {
		struct { uint16_t sport, dport, len; } udp;
		struct { uint16_t sport, dport, flags, win; uint32_t seq, ack; uint8_t doff; } tcp;
		struct {                  /* ICMP, ICMPv6 */
			uint8_t type, code;
			uint16_t id, seq;         /* echo; and the rest of the header */
			uint32_t rest;            /* bytes 4-7: MTU, gateway, pointer */
			/* an ICMP error's quoted IPv4 header (q_avail bytes of it,
			 * and of the 8 after it: the ports) */
			uint8_t q_avail, q_proto;
			uint16_t q_sport, q_dport;
			uint32_t q_src, q_dst;
		} icmp;
		struct { uint16_t op, htype, ptype; uint8_t hlen, plen, sha[6], tha[6]; } arp;
	} l4;
};

/*
 * Summarise a frame: the first caplen bytes of one that was len bytes on
 * the wire.  Never reads beyond caplen.
 */
void pkt_summarize(struct pkt_summary *ps, const void *frame, uint32_t caplen,
		   uint32_t len, enum pkt_dir dir, uint64_t ts);

/* One line, no newline, tcpdump-like; returns what snprintf returns. */
int pkt_summary_format(const struct pkt_summary *ps, char *buf, size_t size);

/* The fields as one JSON object's members (no braces): "kind": "udp",
 * "src_mac": ..., written with snprintf semantics. */
int pkt_summary_json(const struct pkt_summary *ps, char *buf, size_t size);

/* "udp", "ipv6", ... */
const char *pkt_kind_name(uint8_t kind);

/*
 * How many of a frame's len bytes are headers, as far as the decoder goes:
 * Ethernet and up to two VLAN tags; LLC (and SNAP); ARP; IPv4 with its
 * options or IPv6's base header; then the UDP, TCP (with options) or ICMP
 * header, and for an ICMP error the header it quotes with 8 bytes after
 * it.  What the lcores keep of a frame in the log: never its payload,
 * which is some client's data and the log is world-readable.  Reads only
 * within len; at most len.  Cheap enough for the fast path (no loop but
 * the tags).
 */
static inline uint32_t
pkt_headers_len(const uint8_t *f, uint32_t len)
{
	uint32_t off = 14, n, ihl;
	uint16_t type;
	uint8_t proto;

	if (len < 14)
		return len;
	type = (uint16_t)(f[12] << 8 | f[13]);
	/* off: just after the type; a tag is its TCI, then the next type */
	while ((type == 0x8100 || type == 0x88a8) && off < 14 + 4 * PKT_MAX_VLANS) {
		if (off + 4 > len)
			return len;
		type = (uint16_t)(f[off + 2] << 8 | f[off + 3]);
		off += 4;
	}
	if (type < 0x0600) {                    /* 802.3: LLC, maybe SNAP */
		n = off + 3;
		if (off + 2 <= len && f[off] == 0xaa && f[off + 1] == 0xaa)
			n += 5;
		return n < len ? n : len;
	}
	switch (type) {
	case 0x0806:                            /* ARP: the addresses it says */
		n = off + 8;
		if (off + 6 <= len)
			n += 2u * (f[off + 4] + f[off + 5]);
		return n < len ? n : len;
	case 0x0800:
		if (off + 20 > len)
			return len;
		ihl = (f[off] & 0x0f) * 4u;
		proto = f[off + 9];
		if (ihl < 20 || (f[off] >> 4) != 4)
			return off + 20;
		if ((((f[off + 6] & 0x1f) << 8) | f[off + 7]) != 0)
			return off + ihl < len ? off + ihl : len;  /* a later fragment */
		off += ihl;
		break;
	case 0x86dd:
		if (off + 40 > len)
			return len;
		proto = f[off + 6];
		off += 40;
		break;
	default:
		return off;
	}
	/* the transport header */
	switch (proto) {
	case 17:
		n = off + 8;
		break;
	case 6:
		n = off + 20;
		if (off + 13 <= len && (f[off + 12] >> 4) > 5)
			n = off + (f[off + 12] >> 4) * 4u;
		break;
	case 1:                                 /* an error quotes a header */
		n = off + 8;
		if (off < len && (f[off] == 3 || f[off] == 4 || f[off] == 5 ||
				  f[off] == 11 || f[off] == 12)) {
			n += 20 + 8;
			if (off + 9 <= len && (f[off + 8] & 0x0f) > 5)
				n += (f[off + 8] & 0x0f) * 4u - 20;
		}
		break;
	case 58:
		n = off + 8;
		if (off < len && f[off] < 128)
			n += 40 + 8;
		break;
	default:
		n = off;
	}
	return n < len ? n : len;
}

#endif
