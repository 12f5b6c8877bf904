/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Parsed-packet summaries: the lab's parse function, as a fixed 64-byte
 * record per frame that can be made on an lcore (no allocation, no
 * formatting) and printed elsewhere as one tcpdump-like line.
 */
#ifndef PN_SUMMARY_H
#define PN_SUMMARY_H

#include <stddef.h>
#include <stdint.h>

enum pkt_dir { PKT_RX = 0, PKT_TX = 1 };

enum pkt_kind {
	PKT_ETH = 0,      /* Ethernet only: unknown ethertype or truncated */
	PKT_ARP,
	PKT_IPV4,         /* IPv4, other protocol or a non-first fragment */
	PKT_UDP,
	PKT_TCP,
	PKT_ICMP,
};

/* Set in pkt_summary.flags */
#define PKT_F_TRUNC 0x01  /* a header the kind implies was cut short */

/* TCP flag bits as on the wire */
#define PKT_TCP_FIN 0x01
#define PKT_TCP_SYN 0x02
#define PKT_TCP_RST 0x04
#define PKT_TCP_PSH 0x08
#define PKT_TCP_ACK 0x10
#define PKT_TCP_URG 0x20

/* All multi-byte fields in host byte order. */
struct pkt_summary {
	uint64_t ts;              /* caller's timestamp (pollnet: TSC cycles) */
	uint8_t dst_mac[6];
	uint8_t src_mac[6];
	uint16_t ethertype;
	uint16_t frame_len;
	uint32_t src_ip;          /* IPv4 source, ARP sender */
	uint32_t dst_ip;          /* IPv4 destination, ARP target */
	uint8_t dir;              /* enum pkt_dir */
	uint8_t kind;             /* enum pkt_kind */
	uint8_t flags;            /* PKT_F_* */
	uint8_t ip_proto;
	uint8_t ttl;
	uint8_t pad0;
	uint16_t ip_frag;         /* flags (DF 0x4000, MF 0x2000) + offset/8 */
	uint16_t ip_len;          /* IPv4 total length */
	uint16_t pad1;
	union {
		struct { uint16_t sport, dport, len; } udp;
		struct { uint16_t sport, dport; uint32_t seq; uint8_t flags; } tcp;
		struct { uint8_t type, code; uint16_t id, seq; } icmp;
		struct { uint16_t op; uint8_t sha[6], tha[6]; } arp;
	} l4;
	uint32_t tag;             /* stats segment: ring position tag, 0 while written */
};

_Static_assert(sizeof(struct pkt_summary) == 64, "one cache line per record");

/* Summarise a frame of `len` bytes.  Never reads beyond len. */
void pkt_summarize(struct pkt_summary *ps, const void *frame, uint32_t len,
		   enum pkt_dir dir, uint64_t ts);

/* One line, no newline; returns what snprintf returns. */
int pkt_summary_format(const struct pkt_summary *ps, char *buf, size_t size);

/*
 * Filters over summaries, tcpdump's words in a subset, joined by "and"
 * (which may be left out):
 *     udp | tcp | icmp | arp | ip     (several: any of them)
 *     port N                          UDP or TCP, either end
 *     host A.B.C.D                    IPv4 either end, ARP sender or target
 * An empty filter matches everything.
 */
struct pkt_filter {
	uint32_t kinds;           /* 1 << enum pkt_kind; 0: any kind */
	uint32_t host;            /* host order */
	uint16_t port;
	uint8_t has_host;
	uint8_t has_port;
};

/* Parse words; -1 with the reason in err. */
int pkt_filter_parse(struct pkt_filter *f, int argc, char *const argv[],
		     char *err, size_t errlen);

static inline int
pkt_filter_match(const struct pkt_filter *f, const struct pkt_summary *ps)
{
	if (f->kinds != 0 && !(f->kinds & (1u << ps->kind)))
		return 0;
	if (f->has_port) {
		if (ps->kind == PKT_UDP) {
			if (ps->l4.udp.sport != f->port && ps->l4.udp.dport != f->port)
				return 0;
		} else if (ps->kind == PKT_TCP) {
			if (ps->l4.tcp.sport != f->port && ps->l4.tcp.dport != f->port)
				return 0;
		} else {
			return 0;
		}
	}
	if (f->has_host) {
		if (ps->kind == PKT_ETH)
			return 0;
		if (ps->src_ip != f->host && ps->dst_ip != f->host)
			return 0;
	}
	return 1;
}

#endif
