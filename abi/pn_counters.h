/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ABI: an lcore's stack counters, as the stats segment (pn_stats.h) carries
 * them: the stack keeps its own in this form (each lcore owns one struct
 * pn_counters and is its only writer), copies it into the segment, and
 * readers sum the lcores' copies.  The lists' order is the segment's: a
 * new counter goes at the end of its list, and PN_STATS_VERSION goes up.
 *
 * The identity that tests check, once traffic has stopped:
 *
 *     rx_frames == rx_delivered + rx_answered + sum(rx_drop[]) + rx_merged
 *                  + rx_kernel
 *
 * rx_delivered: the frame reached its consumer (a socket RX ring, or the ARP
 *               cache for ARP replies addressed to us);
 * rx_answered:  the frame was turned into a reply in place (ARP reply, ICMP
 *               echo reply);
 * rx_drop[r]:   the frame was freed for reason r;
 * rx_merged:    an IPv4 fragment reassembly holds, or merged into a datagram
 *               whose last fragment carries the datagram's verdict (above).
 *               A fragment the reassembly gives up on leaves rx_merged for
 *               rx_drop[] (timeout, table full, overlap, too many).
 * rx_kernel:    the frame went to the kernel's interface (the exception
 *               path: a frame the stack does not consume, stack/exc.c).
 *
 * A broadcast datagram delivered to several sockets is one frame: the
 * copies beyond the first are bcast_copies.
 *
 * A datagram (or an ICMP error for a socket) steered to a socket owned by
 * another lcore is counted in rx_frames by the lcore that received it and
 * delivered/dropped by the owner.
 */
#ifndef PN_ABI_COUNTERS_H
#define PN_ABI_COUNTERS_H

#include <stdint.h>

#define PN_RX_DROPS(X) \
	X(ETH_TRUNCATED,  "eth_truncated")   /* shorter than an Ethernet header */ \
	X(ETH_MULTISEG,   "eth_multiseg")    /* chained mbuf: not supported */ \
	X(ETH_NOT_US,     "eth_not_for_us")  /* destination MAC neither ours nor broadcast */ \
	X(ETH_SRC,        "eth_bad_source")  /* source MAC multicast or broadcast */ \
	X(ETH_TYPE,       "eth_unknown_type")/* neither IPv4 nor ARP */ \
	X(ARP_MALFORMED,  "arp_malformed")   /* short, or not Ethernet/IPv4 ARP */ \
	X(ARP_NOT_US,     "arp_not_for_us")  /* target IP is not ours */ \
	X(ARP_OP,         "arp_bad_op")      /* neither request nor reply */ \
	X(ARP_SENDER,     "arp_bad_sender")  /* sender MAC not unicast, or sender IP a martian or ours */ \
	X(IP_TRUNCATED,   "ip_truncated")    /* shorter than the header */ \
	X(IP_VERSION,     "ip_bad_version") \
	X(IP_IHL,         "ip_bad_ihl")      /* IHL < 5 or beyond the frame */ \
	X(IP_LEN,         "ip_bad_length")   /* total length vs IHL and frame */ \
	X(IP_CSUM,        "ip_bad_checksum") \
	X(IP_NOT_US,      "ip_not_for_us") \
	/* martian sources (RFC 1122 3.2.1.3, RFC 1812 5.3.7): never answered */ \
	X(IP_SRC_ZERO,    "ip_src_this_net") /* 0.0.0.0/8 */ \
	X(IP_SRC_LOOP,    "ip_src_loopback") /* 127.0.0.0/8 */ \
	X(IP_SRC_OURS,    "ip_src_ours")     /* our own address, from the wire */ \
	X(IP_SRC_BCAST,   "ip_src_broadcast")/* 255.255.255.255 or our subnet's broadcast */ \
	X(IP_SRC_MCAST,   "ip_src_multicast")/* 224.0.0.0/4 */ \
	X(IP_SRC_CLASS_E, "ip_src_class_e")  /* 240.0.0.0/4 */ \
	X(IP_FRAGMENT,    "ip_fragment")     /* a fragment, reassembly off (ipfrag.flows 0) */ \
	X(IP_TTL,         "ip_ttl_zero") \
	X(IP_PROTO,       "ip_unknown_proto")/* not ICMP or UDP (TCP included) */ \
	X(ICMP_TRUNCATED, "icmp_truncated") \
	X(ICMP_CSUM,      "icmp_bad_checksum") \
	X(ICMP_TYPE,      "icmp_unsupported")/* neither an echo request nor an error we use */ \
	X(ICMP_UNMATCHED, "icmp_error_unmatched") /* an error for no connected socket of ours (or a closing one) */ \
	X(UDP_TRUNCATED,  "udp_truncated") \
	X(UDP_LEN,        "udp_bad_length") \
	X(UDP_CSUM,       "udp_bad_checksum") \
	X(UDP_NO_SOCKET,  "udp_no_socket")   /* closed port, no ICMP error sent (see below) */ \
	X(UDP_RING_FULL,  "udp_ring_full")   /* socket RX ring full */ \
	X(STEER_FULL,     "steer_ring_full") /* hand-off ring to the owner lcore full */ \
	/* IPv4 reassembly (stack/frag.c) gave up on the fragment */ \
	X(FRAG_TIMEOUT,   "frag_timeout")    /* its datagram not whole within ipfrag.time */ \
	X(FRAG_TABLE_FULL,"frag_table_full") /* ipfrag.flows datagrams (or ipfrag.held fragments) held: the oldest went */ \
	X(FRAG_OVERLAP,   "frag_overlap")    /* overlapped another, or past the datagram's end: the datagram went */ \
	X(FRAG_TOO_MANY,  "frag_too_many")   /* its datagram had more than ipfrag.fragments: the datagram went */ \
	X(FRAG_BAD,       "frag_bad_offset") /* empty, not a multiple of 8 with MF, or past 65,535 bytes */ \
	X(FRAG_DUP,       "frag_duplicate")  /* the same bytes as one held: this copy went */ \
	X(GROUP_NOT_JOINED, "ip_group_not_joined") /* a UDP datagram to a group the interface has not joined */ \
	X(IGMP_MALFORMED, "igmp_malformed")  /* short, bad checksum, or a query of 9 to 11 bytes */ \
	X(IGMP_NOT_QUERY, "igmp_not_a_query")/* another host's report or leave, or a query for a group not ours */

#define PN_TX_DROPS(X) \
	X(NO_ROUTE,       "no_route")        /* off-link and no gateway */ \
	X(ARP_QUEUE_FULL, "arp_queue_full")  /* too many packets waiting for ARP */ \
	X(ARP_TIMEOUT,    "arp_unresolved")  /* next hop never answered ARP */ \
	X(NO_MBUF,        "no_mbuf")         /* pool empty */ \
	X(NO_HEADROOM,    "no_headroom") \
	X(TOO_BIG,        "too_big")         /* over 65,507 bytes (or the MTU with DF) */ \
	X(BATCH_FULL,     "tx_batch_full")   /* too many frames produced in one loop */ \
	X(PORT_FULL,      "port_tx_full")    /* the port refused the frame */ \
	X(BAD_DESC,       "bad_descriptor")  /* a client's TX descriptor made no sense */ \
	X(BAD_DEST,       "bad_destination") /* port 0, or an address no datagram may go to */

/* What the exception path carries, each way (stack/exc.c). */
#define PN_EXC_KINDS(X) \
	X(ARP,   "arp")   \
	X(TCP,   "tcp")   \
	X(UDP,   "udp")   \
	X(ICMP,  "icmp")  \
	X(IPV4,  "ipv4_other") /* IPv4, another protocol (IGMP from the kernel, ...) */ \
	X(IPV6,  "ipv6")  \
	X(OTHER, "other")

#define PN_ENUM(e, s) PN_RX_##e,
enum pn_rx_drop { PN_RX_DROPS(PN_ENUM) PN_RX_DROP_MAX };
#undef PN_ENUM
#define PN_ENUM(e, s) PN_TX_##e,
enum pn_tx_drop { PN_TX_DROPS(PN_ENUM) PN_TX_DROP_MAX };
#undef PN_ENUM
#define PN_ENUM(e, s) PN_EXC_##e,
enum pn_exc_kind { PN_EXC_KINDS(PN_ENUM) PN_EXC_MAX };
#undef PN_ENUM

struct pn_counters {
	uint64_t rx_frames;
	uint64_t rx_bytes;
	uint64_t rx_delivered;
	uint64_t rx_answered;
	uint64_t rx_drop[PN_RX_DROP_MAX];
	/* breakdowns of the above, for humans */
	uint64_t rx_steered;      /* handed to another lcore's socket */
	uint64_t arp_learned;     /* cache entries created or refreshed */
	uint64_t arp_requests_in;
	uint64_t arp_replies_in;
	uint64_t arp_requests_out;
	uint64_t icmp_echo_replies;
	uint64_t icmp_unreach_sent;   /* port unreachable for a closed port (answered) */
	uint64_t icmp_unreach_limited;/* ... not sent: over the rate (udp_no_socket) */
	uint64_t icmp_errors_in;      /* errors delivered to connected sockets */
	uint64_t udp_delivered;
	uint64_t udp_oversize;    /* delivered, longer than a 1500-byte MTU carries
	                           * (the port's kernel reassembled them) */
	uint64_t udp_broadcast;   /* delivered (above), sent to a broadcast address */
	/* between local sockets (never on the port), pollnet's and, where the
	 * kernel shares pollnet's address (xdp:, the exception path), the
	 * kernel's programs' (local_to_kernel, local_from_kernel, at the end):
	 * local_sent == local_delivered + local_no_socket + local_ring_full
	 *               + local_to_kernel */
	uint64_t local_sent;
	uint64_t local_delivered;
	uint64_t local_no_socket;
	uint64_t local_ring_full;
	/* transmit side */
	uint64_t tx_frames;       /* accepted by the port */
	uint64_t tx_bytes;
	uint64_t tx_drop[PN_TX_DROP_MAX];
	/* A datagram to a broadcast address goes to every socket bound to its
	 * port: the first is counted as any datagram (above), each other one
	 * here (and in its socket's own counters), or as a copy dropped */
	uint64_t bcast_copies;
	uint64_t bcast_copies_dropped;    /* its ring full, or no mbuf to copy to */
	/* IPv4 fragments (stack/frag.c) */
	uint64_t rx_merged;       /* in the identity above */
	uint64_t frags_in;        /* fragments received (each also a frame) */
	uint64_t frags_held;      /* held now, waiting for the rest (a level) */
	uint64_t reassembled;     /* datagrams made whole */
	uint64_t fragmented;      /* datagrams sent in fragments */
	uint64_t frags_out;       /* the fragments they made */
	/* IPv4 multicast (stack/igmp.c) */
	uint64_t udp_multicast;   /* delivered (above), sent to a group we joined */
	uint64_t igmp_queries_in; /* delivered (above): queries to answer */
	uint64_t igmp_reports_out;/* reports sent by the lcores (answers) */
	/* The exception path (stack/exc.c): to the kernel's interface, what
	 * the stack does not consume (rx_kernel, above) and a copy of each ARP
	 * message; from it, what the kernel sends, out the port (in
	 * tx_frames); by kind */
	uint64_t rx_kernel;
	uint64_t exc_in[PN_EXC_MAX];      /* to the kernel */
	uint64_t exc_out[PN_EXC_MAX];     /* from the kernel, to the port */
	uint64_t exc_in_dropped;  /* to the kernel: its interface's queue full, or
	                           * no mbuf for an ARP copy */
	uint64_t exc_out_dropped; /* from the kernel: the loop's batch full */
	uint64_t exc_arp_dup;     /* the kernel's ARP replies for our address,
	                           * not sent: pollnet answered already */
	/* Local datagrams and the kernel's programs (above): from one of ours
	 * to a kernel socket on this host, handed to the control thread, which
	 * sends it from the port's reservation socket; from a kernel socket to
	 * one of ours (also in local_sent) */
	uint64_t local_to_kernel;
	uint64_t local_from_kernel;
};

#endif
