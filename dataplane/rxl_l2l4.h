/* dataplane: the L2-L4 frame parser of the rx lcores, and the UDP frame builder.
 * Any thread: pure functions over caller-owned bytes; no allocation, no global state.
 *
 * rxl_l2l4_parse() classifies one received Ethernet frame (FCS stripped, as
 * DPDK delivers it) and, for the frames rxlogd keeps, says where the UDP
 * payload is. It knows no DPDK type: the rx loop hands it
 * rte_pktmbuf_mtod(m) and rte_pktmbuf_data_len(m); tests and fuzzers hand
 * it any bytes.
 *
 * What is accepted (offsets in bytes, all fields big-endian):
 *
 *   0  dst MAC(6) src MAC(6)
 *  12  [TPID 0x88a8 or 0x8100, TCI(2)]   outer tag   } at most two tags, either
 *      [TPID 0x8100 or 0x88a8, TCI(2)]   inner tag   } TPID in either position
 *  l2  ethertype 0x0800 IPv4 | 0x86dd IPv6 | 0x0806 ARP
 *
 *  IPv4: version 4, IHL >= 5 (options skipped, not interpreted),
 *        IHL*4 <= total length <= bytes present (more bytes = Ethernet
 *        padding, ignored); MF or fragment offset != 0 -> FRAGMENT;
 *        protocol 17 -> UDP.
 *  IPv6: version 6, 40 + payload length <= bytes present (padding ignored);
 *        extension headers walked: hop-by-hop (first only), routing (segments
 *        left 0 only), destination options, fragment (first extension header
 *        only, else rte_ip_frag cannot reassemble it) -> FRAGMENT, an atomic
 *        fragment (offset 0, M 0) is skipped (RFC 8200 4.5); at most
 *        RXL_L2L4_IPV6_EXT_MAX of them, all inside the payload length;
 *        next header 17 -> UDP, 58 -> ICMPv6 (only NS is kept).
 *  UDP:  8 <= length <= IP payload (bytes after the UDP length are ignored,
 *        as Linux does, so --source socket sees the same datagram); IPv6 with
 *        checksum 0 is dropped (RFC 8200 8.1); IPv4 checksum 0 means none.
 *
 * Policy (docs/DATAPLANE.md "L2-L4 parsing" states the reasons):
 *   P1 UDP and fragments must be unicast: an Ethernet group destination
 *      (multicast or broadcast), an IPv4 destination in 224.0.0.0/4 or
 *      255.255.255.255, or an IPv6 destination in ff00::/8 ->
 *      multicast_or_broadcast_dst. ARP requests (broadcast) and neighbour
 *      solicitations (solicited-node multicast) are exempt.
 *   P2 An IP source that is multicast or limited broadcast -> bad_source_address.
 *   P3 The parser does not know the configured addresses, MACs or ports: the
 *      caller matches the destination address/port, and the ARP or NS target.
 *   P4 Checks run in header order; the first failing check names the drop.
 *   P5 Fragments of anything but UDP are dropped (not_udp) before anyone
 *      spends reassembly memory on them.
 *
 * Cost contract: without verify flags the parse is straight-line code over
 * the headers (one bounded loop: the IPv6 extension-header walk, at most
 * RXL_L2L4_IPV6_EXT_MAX steps). RXL_L2L4_VERIFY_UDP_CSUM adds a pass over the
 * payload; leave it off when the NIC checked (RTE_MBUF_F_RX_L4_CKSUM_GOOD).
 * Neighbour solicitations (rare, never the hot path) always have their
 * ICMPv6 checksum verified and walk at most RXL_L2L4_NS_OPT_MAX options.
 *
 * Safety contract: for any @len and any bytes, the parser reads only
 * [frame, frame + len), never writes outside *pkt, and returns a value of
 * enum rxl_l2l4_result. On ACCEPT_UDP, [payload, payload + payload_len) lies
 * inside [frame, frame + len) and inside the IP and UDP lengths.
 */
#ifndef RXL_L2L4_H
#define RXL_L2L4_H

#include <stddef.h>
#include <stdint.h>

#define RXL_L2L4_ETH_HDR_LEN 14
#define RXL_L2L4_ETH_MIN_FRAME 60 /* shortest Ethernet frame without FCS */
#define RXL_L2L4_MAX_VLANS 2
#define RXL_L2L4_IPV6_EXT_MAX 8 /* extension headers walked before giving up */
#define RXL_L2L4_NS_OPT_MAX 8	/* NDP options walked in a solicitation */

#define RXL_ETHERTYPE_IPV4 0x0800
#define RXL_ETHERTYPE_ARP 0x0806
#define RXL_ETHERTYPE_VLAN 0x8100 /* 802.1Q C-tag */
#define RXL_ETHERTYPE_QINQ 0x88a8 /* 802.1ad S-tag */
#define RXL_ETHERTYPE_IPV6 0x86dd

/* rxl_l2l4_parse() flags. Off: the field is not checked (the NIC did it). */
#define RXL_L2L4_VERIFY_IPV4_CSUM (1u << 0) /* IPv4 header checksum */
#define RXL_L2L4_VERIFY_UDP_CSUM (1u << 1)  /* UDP checksum (IPv4 non-zero, IPv6 always) */

/** Address families of struct rxl_l2l4_addr. */
enum rxl_af {
	RXL_AF_IPV4 = 4,
	RXL_AF_IPV6 = 6,
};

/** An IP address. IPv4 uses b[0..3] and has b[4..15] zero, so addresses compare with memcmp. */
struct rxl_l2l4_addr {
	uint8_t family; /* enum rxl_af */
	uint8_t b[16];	/* network order */
};

/**
 * What rxl_l2l4_parse() made of a frame. The first four are kept; every other
 * value is a drop reason, named by rxl_l2l4_drop_name() (counter names).
 * The numbering is not stable; the names are.
 */
enum rxl_l2l4_result {
	RXL_L2L4_ACCEPT_UDP = 0, /* a unicast UDP datagram: ports, addresses, payload */
	RXL_L2L4_ARP,		 /* an ARP request (Ethernet/IPv4): answer it if ours */
	RXL_L2L4_NDP_NS,	 /* a valid IPv6 neighbour solicitation: answer if ours */
	RXL_L2L4_FRAGMENT,	 /* an IPv4/IPv6 fragment of a UDP datagram: reassemble */

	RXL_L2L4_DROP_TRUNCATED_ETHERNET, /* < 14 bytes, or a VLAN tag cut short */
	RXL_L2L4_DROP_TOO_MANY_VLANS,	  /* a third VLAN tag */
	RXL_L2L4_DROP_UNKNOWN_ETHERTYPE,  /* not IPv4/IPv6/ARP (802.3 lengths, LLDP, ...) */
	RXL_L2L4_DROP_BAD_ARP,		  /* not Ethernet/IPv4 ARP, short, bad sender */
	RXL_L2L4_DROP_ARP_NOT_REQUEST,	  /* ARP reply or other opcode */
	RXL_L2L4_DROP_BAD_IPV4_HEADER,	  /* short, version != 4, IHL < 5, total < IHL */
	RXL_L2L4_DROP_IPV4_LENGTH,	  /* total length beyond the frame */
	RXL_L2L4_DROP_IPV4_CHECKSUM,	  /* header checksum (RXL_L2L4_VERIFY_IPV4_CSUM) */
	RXL_L2L4_DROP_BAD_IPV6_HEADER,	  /* short, version != 6 */
	RXL_L2L4_DROP_IPV6_LENGTH,	  /* payload length beyond the frame */
	RXL_L2L4_DROP_IPV6_EXT_HEADERS,	  /* chain too long, cut, misplaced, or routing left */
	RXL_L2L4_DROP_BAD_SOURCE_ADDRESS, /* P2 */
	RXL_L2L4_DROP_NOT_UDP,		  /* TCP, ICMPv4, ESP, no next header, ... (P5) */
	RXL_L2L4_DROP_ICMP6_NOT_NS,	  /* ICMPv6 other than a neighbour solicitation */
	RXL_L2L4_DROP_BAD_NDP_NS,	  /* an NS failing RFC 4861 7.1.1 */
	RXL_L2L4_DROP_MCAST_BCAST_DST,	  /* P1 */
	RXL_L2L4_DROP_BAD_FRAGMENT,	  /* empty, past 65535, or non-last not 8-aligned */
	RXL_L2L4_DROP_UDP_LENGTH,	  /* < 8, or beyond the IP payload */
	RXL_L2L4_DROP_UDP_CHECKSUM,	  /* mismatch (RXL_L2L4_VERIFY_UDP_CSUM) */
	RXL_L2L4_DROP_UDP_ZERO_CSUM_IPV6, /* IPv6 UDP with checksum 0 (RFC 8200 8.1) */

	RXL_L2L4_RESULT_COUNT
};

#define RXL_L2L4_DROP_FIRST RXL_L2L4_DROP_TRUNCATED_ETHERNET

/** Fragment of an IP datagram (result RXL_L2L4_FRAGMENT). */
struct rxl_l2l4_frag {
	uint32_t id;	 /* IPv4: 16-bit identification; IPv6: fragment header id */
	uint16_t offset; /* bytes from the start of the fragmentable part */
	uint16_t len;	 /* fragment data bytes in this frame */
	uint8_t more;	 /* 1: more fragments follow (MF / M) */
	uint8_t proto;	 /* IPv4 protocol, or the fragment header's next header */
};

/** An ARP request (result RXL_L2L4_ARP). Sender/target IPv4: pkt.src / pkt.dst. */
struct rxl_l2l4_arp {
	uint8_t sha[6]; /* sender MAC: where the reply goes */
};

/** A neighbour solicitation (result RXL_L2L4_NDP_NS). IPv6 src/dst: pkt.src / pkt.dst. */
struct rxl_l2l4_ns {
	uint8_t target[16]; /* the address asked for (never multicast) */
	uint8_t sll[6];	    /* source link-layer address option, when has_sll */
	uint8_t has_sll;
	uint8_t dad; /* source is :: (duplicate address detection): answer all-nodes */
};

/**
 * The parse result. Valid fields by result (others unspecified, including on
 * a drop; nothing is zeroed that the result does not cover):
 *   all but TRUNCATED_ETHERNET/TOO_MANY_VLANS: l2_len, ethertype, n_vlans, vlan_tci[]
 *   ACCEPT_UDP: + l3_len, src, dst, src_port, dst_port, payload, payload_len
 *   FRAGMENT:   + l3_len, src, dst, frag
 *   ARP:        + src (sender IPv4), dst (target IPv4), arp
 *   NDP_NS:     + l3_len, src, dst, ns
 * l3_len: IPv4 IHL*4; IPv6 40 + extension headers before UDP, or 48 (IPv6 +
 * fragment header) for a fragment: with l2_len, the mbuf fields rte_ip_frag
 * needs. Ethernet header: frame[0..11] (dst, src MAC).
 */
struct rxl_l2l4_pkt {
	const uint8_t *payload; /* UDP payload, inside the frame */
	uint32_t payload_len;
	uint16_t src_port; /* host order */
	uint16_t dst_port;
	struct rxl_l2l4_addr src;
	struct rxl_l2l4_addr dst;
	uint16_t l2_len; /* 14 + 4 per VLAN tag */
	uint16_t l3_len;
	uint16_t ethertype;		       /* inner ethertype, host order */
	uint8_t n_vlans;		       /* 0..2 */
	uint16_t vlan_tci[RXL_L2L4_MAX_VLANS]; /* outer first; VLAN id = tci & 0xfff */
	union {
		struct rxl_l2l4_frag frag;
		struct rxl_l2l4_arp arp;
		struct rxl_l2l4_ns ns;
	};
};

/**
 * Classify the Ethernet frame [frame, frame + len) and fill @pkt.
 * @flags: RXL_L2L4_VERIFY_* (0 on a NIC that verified checksums; a frame the
 *         NIC marked bad should be dropped by the caller before this call).
 * Concurrency: pure; any thread, any number of threads at once. Reads only
 * [frame, frame + len), writes only *pkt. No allocation.
 * Returns: RXL_L2L4_ACCEPT_UDP, _ARP, _NDP_NS or _FRAGMENT, or a drop reason
 * (>= RXL_L2L4_DROP_FIRST).
 */
enum rxl_l2l4_result rxl_l2l4_parse(const uint8_t *frame, uint32_t len, unsigned flags,
				    struct rxl_l2l4_pkt *pkt);

/**
 * Stable snake_case name of a result, used as a counter name: drop reasons
 * ("udp_checksum", "multicast_or_broadcast_dst", ...) and the four kept
 * results ("accept_udp", "arp", "ndp_ns", "fragment").
 * Concurrency: pure.
 * Returns: a static string; "unknown" for a value outside the enum.
 */
const char *rxl_l2l4_drop_name(enum rxl_l2l4_result r);

/**
 * Whether @r is a drop reason (as opposed to one of the four kept results).
 * Concurrency: pure.
 * Returns: 1 for a drop reason, else 0.
 */
static inline int rxl_l2l4_is_drop(enum rxl_l2l4_result r)
{
	return r >= RXL_L2L4_DROP_FIRST;
}

/* ---- Internet checksum (RFC 1071) ---------------------------------------- */

/**
 * Add the bytes [p, p + len) (len < 2^32) to a running one's-complement sum.
 * @sum: 0 to start, else a value this function returned. Chunks are summed
 * in memory order, so every chunk but the last must have an even length (an
 * odd last byte is padded with zero, as RFC 1071 says).
 * Concurrency: pure.
 * Returns: the new running sum (only meaningful to rxl_l2l4_csum_add/_fold).
 */
uint64_t rxl_l2l4_csum_add(uint64_t sum, const void *p, size_t len);

/**
 * Fold a running sum to 16 bits.
 * Concurrency: pure.
 * Returns: the one's-complement sum of the big-endian 16-bit words, in host
 * order: store ~result with rxl_be16_put() as a checksum field; a received
 * header or segment (pseudo-header included) is intact when it is 0xffff.
 */
uint16_t rxl_l2l4_csum_fold(uint64_t sum);

/* ---- building frames (load generator, tests, pcap writers) --------------- */

#define RXL_L2L4_BUILD_PAD_MIN (1u << 0)     /* zero-pad the frame to 60 bytes */
#define RXL_L2L4_BUILD_NO_UDP_CSUM (1u << 1) /* IPv4 only: send checksum 0 (none) */

/** What rxl_l2l4_build_udp() writes around a payload. */
struct rxl_l2l4_udp_spec {
	uint8_t eth_dst[6];
	uint8_t eth_src[6];
	uint8_t n_vlans; /* 0; 1: 802.1Q tag; 2: 802.1ad outer + 802.1Q inner */
	uint16_t vlan_tci[RXL_L2L4_MAX_VLANS]; /* outer first */
	struct rxl_l2l4_addr src;	       /* both of the same family */
	struct rxl_l2l4_addr dst;
	uint16_t src_port;
	uint16_t dst_port;
	uint8_t ttl;	/* IPv4 TTL / IPv6 hop limit; 0 means 64 */
	uint16_t ip_id; /* IPv4 identification (DF is set) */
	unsigned flags; /* RXL_L2L4_BUILD_* */
};

/**
 * Header bytes rxl_l2l4_build_udp() writes before the payload, so a generator
 * can write the payload in place at buf + this and build around it.
 * Concurrency: pure.
 * Returns: the length, or 0 when @s is invalid (family, n_vlans).
 */
uint32_t rxl_l2l4_udp_hdr_len(const struct rxl_l2l4_udp_spec *s);

/**
 * Write an Ethernet [+ VLAN tags] / IPv4 or IPv6 / UDP frame carrying
 * [payload, payload + len) into @buf, with correct IPv4 header and UDP
 * checksums. @payload may overlap @buf (it is moved, not copied), e.g. be
 * buf + rxl_l2l4_udp_hdr_len(s) already; it may be NULL when @len is 0.
 * Concurrency: pure; @buf is the caller's.
 * Returns: the frame length, -ENOSPC when it does not fit in @cap (nothing
 * written), or -EINVAL for an invalid spec (mixed or unknown family,
 * n_vlans > 2, NO_UDP_CSUM with IPv6) or a payload too long for the IP and
 * UDP length fields.
 */
int rxl_l2l4_build_udp(uint8_t *buf, size_t cap, const struct rxl_l2l4_udp_spec *s,
		       const void *payload, size_t len);

#endif
