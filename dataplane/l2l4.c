/* dataplane: L2-L4 parsing of received frames (rx lcores) and UDP frame building (generator).
 * Any thread: pure functions over caller-owned bytes, no allocation, no global state.
 *
 * Reading rule (R): every read of frame byte i is preceded, on the same path,
 * by a check that i < the bytes known to be present, where "present" only
 * ever shrinks: frame length -> IP total/payload length -> UDP length. All
 * offsets are uint32_t below 2^17 (22 + 40 + 65535 at most), so no sum below
 * can wrap. The fuzz target (tests/fuzz/fuzz_l2l4.c) checks R under
 * ASan on frames copied into buffers of exactly their length.
 */
#include "rxl_l2l4.h"

#include <errno.h>
#include <string.h>

#include "rxl_bytes.h"

#define unlikely(x) __builtin_expect(!!(x), 0)

#define PROTO_HOPOPTS 0
#define PROTO_UDP 17
#define PROTO_ROUTING 43
#define PROTO_FRAGMENT 44
#define PROTO_ICMPV6 58
#define PROTO_DSTOPTS 60

#define IPV4_HDR_MIN 20
#define IPV6_HDR_LEN 40
#define IPV6_FRAG_HDR_LEN 8
#define UDP_HDR_LEN 8
#define ARP_LEN 28    /* Ethernet/IPv4 ARP body */
#define NS_MIN_LEN 24 /* ICMPv6 header (4) + reserved (4) + target (16) */
#define ICMP6_TYPE_NS 135
#define NDP_OPT_SLLA 1

#define IPV4_MF 0x2000
#define IPV4_DF 0x4000
#define IPV4_OFF_MASK 0x1fff

static const char *const result_names[RXL_L2L4_RESULT_COUNT] = {
	[RXL_L2L4_ACCEPT_UDP] = "accept_udp",
	[RXL_L2L4_ARP] = "arp",
	[RXL_L2L4_NDP_NS] = "ndp_ns",
	[RXL_L2L4_FRAGMENT] = "fragment",
	[RXL_L2L4_DROP_TRUNCATED_ETHERNET] = "truncated_ethernet",
	[RXL_L2L4_DROP_TOO_MANY_VLANS] = "too_many_vlan_tags",
	[RXL_L2L4_DROP_UNKNOWN_ETHERTYPE] = "unknown_ethertype",
	[RXL_L2L4_DROP_BAD_ARP] = "bad_arp",
	[RXL_L2L4_DROP_ARP_NOT_REQUEST] = "arp_not_request",
	[RXL_L2L4_DROP_BAD_IPV4_HEADER] = "bad_ipv4_header",
	[RXL_L2L4_DROP_IPV4_LENGTH] = "ipv4_length",
	[RXL_L2L4_DROP_IPV4_CHECKSUM] = "ipv4_checksum",
	[RXL_L2L4_DROP_BAD_IPV6_HEADER] = "bad_ipv6_header",
	[RXL_L2L4_DROP_IPV6_LENGTH] = "ipv6_length",
	[RXL_L2L4_DROP_IPV6_EXT_HEADERS] = "ipv6_ext_headers",
	[RXL_L2L4_DROP_BAD_SOURCE_ADDRESS] = "bad_source_address",
	[RXL_L2L4_DROP_NOT_UDP] = "not_udp",
	[RXL_L2L4_DROP_ICMP6_NOT_NS] = "icmp6_not_ns",
	[RXL_L2L4_DROP_BAD_NDP_NS] = "bad_ndp_ns",
	[RXL_L2L4_DROP_MCAST_BCAST_DST] = "multicast_or_broadcast_dst",
	[RXL_L2L4_DROP_BAD_FRAGMENT] = "bad_fragment",
	[RXL_L2L4_DROP_UDP_LENGTH] = "udp_length",
	[RXL_L2L4_DROP_UDP_CHECKSUM] = "udp_checksum",
	[RXL_L2L4_DROP_UDP_ZERO_CSUM_IPV6] = "udp_zero_checksum_ipv6",
};

const char *rxl_l2l4_drop_name(enum rxl_l2l4_result r)
{
	if ((unsigned)r >= RXL_L2L4_RESULT_COUNT || !result_names[r])
		return "unknown";
	return result_names[r];
}

/* ---- Internet checksum ---------------------------------------------------- */

#ifndef __SIZEOF_INT128__
#error "csum_add() needs unsigned __int128 (a 64-bit target)"
#endif
#if __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "csum_add()'s tail shift assumes a little-endian host"
#endif
__extension__ typedef unsigned __int128 u128; /* GCC and clang on 64-bit targets */

/*
 * 32-bit words in host order summed exactly into two 64-bit accumulators (no
 * carry chain, so the adds run in parallel); folding then reduces modulo
 * 2^32 - 1 and 2^16 - 1, which gives the RFC 1071 sum of the 16-bit words as
 * they lie in memory (byte-swapped on a little-endian host: _fold() undoes
 * it). No overflow: the incoming sum is < 2^34 (0 or a value returned here)
 * and ceil(len / 4) words of < 2^32 each add < 2^62 for any len < 2^32.
 *
 * The sum itself is inlined into this file's callers: the pseudo-header's
 * fixed lengths compile to straight loads and adds (an IPv4 header's, 20
 * to 60 bytes, and a UDP datagram's vary).
 *
 * A tail of 1..15 bytes after the 16-byte loop is summed branch-free: the
 * buffer's last 16 bytes are loaded (they lie inside it when len >= 16)
 * and shifted right past the bytes already summed, which leaves the tail
 * where the loop would have put it (its first byte is at an offset that is
 * a multiple of 16, so it lands at bit 0, as the low byte of its 16-bit
 * word in little-endian order), zero-padded. A byte loop and a store into a
 * stack word there, with a different tail length on each call, had made the
 * tail 60% of this function's time in a syslog rx profile (branch misses
 * and a failed store-to-load forward). */
static inline __attribute__((always_inline)) uint64_t csum_add(uint64_t sum, const uint8_t *b,
							       size_t len)
{
	uint64_t s0 = sum, s1 = 0;
	uint32_t w[4];

	if (len >= 16) {
		const uint8_t *end = b + len;

		do {
			memcpy(w, b, 16);
			s0 += w[0];
			s1 += w[1];
			s0 += w[2];
			s1 += w[3];
			b += 16;
			len -= 16;
		} while (len >= 16);
		if (len) {
			uint64_t lo, hi;

			memcpy(&lo, end - 16, 8);
			memcpy(&hi, end - 8, 8);
			u128 v = ((u128)hi << 64 | lo) >> (8 * (16 - len));

			s0 += (uint32_t)v;
			s1 += (uint32_t)(v >> 32);
			s0 += (uint32_t)(v >> 64);
			s1 += (uint32_t)(v >> 96);
		}
	} else {
		while (len >= 4) {
			memcpy(w, b, 4);
			s0 += w[0];
			b += 4;
			len -= 4;
		}
		if (len) {
			w[0] = 0;
			memcpy(w, b, len); /* zero padding after an odd last byte, RFC 1071 */
			s0 += w[0];
		}
	}
	s0 += s1;
	return (s0 & 0xffffffffu) + (s0 >> 32);
}

uint64_t rxl_l2l4_csum_add(uint64_t sum, const void *p, size_t len)
{
	return csum_add(sum, p, len);
}

uint16_t rxl_l2l4_csum_fold(uint64_t sum)
{
	uint32_t s32;
	uint16_t s16;

	sum = (sum & 0xffffffffu) + (sum >> 32);
	sum = (sum & 0xffffffffu) + (sum >> 32);
	s32 = (uint32_t)sum;
	s32 = (s32 & 0xffffu) + (s32 >> 16);
	s32 = (s32 & 0xffffu) + (s32 >> 16);
	s16 = (uint16_t)s32;
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	s16 = __builtin_bswap16(s16);
#endif
	return s16;
}

/* Pseudo-header sum (RFC 768 / RFC 8200 8.1) for an upper layer of @ulen bytes. */
static uint64_t pseudo_sum(const uint8_t *ip, int v6, uint8_t proto, uint32_t ulen)
{
	uint8_t tail[8] = {0};

	if (v6) {
		rxl_be32_put(tail, ulen);
		tail[7] = proto;
		return csum_add(csum_add(0, ip + 8, 32), tail, 8);
	}
	tail[1] = proto;
	rxl_be16_put(tail + 2, (uint16_t)ulen);
	return csum_add(csum_add(0, ip + 12, 8), tail, 4);
}

/* ---- parsing ---------------------------------------------------------------- */

static inline void addr4(struct rxl_l2l4_addr *a, const uint8_t *p)
{
	a->family = RXL_AF_IPV4;
	memcpy(a->b, p, 4);
	memset(a->b + 4, 0, 12);
}

static inline void addr6(struct rxl_l2l4_addr *a, const uint8_t *p)
{
	a->family = RXL_AF_IPV6;
	memcpy(a->b, p, 16);
}

/* 224.0.0.0/4 or 255.255.255.255 */
static inline int ipv4_mcast_or_bcast(const uint8_t *a)
{
	return (a[0] & 0xf0) == 0xe0 || rxl_be32_get(a) == 0xffffffffu;
}

/*
 * The UDP header at @u, inside an IP payload of @avail bytes (all present).
 * @ip: the IP header, for the pseudo-header.
 */
static enum rxl_l2l4_result parse_udp(const uint8_t *ip, int v6, const uint8_t *u, uint32_t avail,
				      unsigned flags, struct rxl_l2l4_pkt *pkt)
{
	uint32_t ulen;
	uint16_t csum;

	if (unlikely(avail < UDP_HDR_LEN))
		return RXL_L2L4_DROP_UDP_LENGTH;
	ulen = rxl_be16_get(u + 4);
	if (unlikely(ulen < UDP_HDR_LEN || ulen > avail))
		return RXL_L2L4_DROP_UDP_LENGTH;
	csum = rxl_be16_get(u + 6);
	if (v6 && unlikely(csum == 0))
		return RXL_L2L4_DROP_UDP_ZERO_CSUM_IPV6;
	if ((flags & RXL_L2L4_VERIFY_UDP_CSUM) && csum != 0) {
		uint64_t sum = pseudo_sum(ip, v6, PROTO_UDP, ulen);

		if (unlikely(rxl_l2l4_csum_fold(csum_add(sum, u, ulen)) != 0xffff))
			return RXL_L2L4_DROP_UDP_CHECKSUM;
	}
	pkt->src_port = rxl_be16_get(u);
	pkt->dst_port = rxl_be16_get(u + 2);
	pkt->payload = u + UDP_HDR_LEN;
	pkt->payload_len = ulen - UDP_HDR_LEN;
	return RXL_L2L4_ACCEPT_UDP;
}

static enum rxl_l2l4_result parse_ipv4(const uint8_t *ip, uint32_t avail, int l2_group,
				       unsigned flags, struct rxl_l2l4_pkt *pkt)
{
	uint32_t ihl, tot, dlen, foff;
	uint16_t frag;

	if (unlikely(avail < IPV4_HDR_MIN || (ip[0] >> 4) != 4))
		return RXL_L2L4_DROP_BAD_IPV4_HEADER;
	ihl = (uint32_t)(ip[0] & 0x0f) * 4;
	tot = rxl_be16_get(ip + 2);
	if (unlikely(ihl < IPV4_HDR_MIN || ihl > avail || tot < ihl))
		return RXL_L2L4_DROP_BAD_IPV4_HEADER;
	if (unlikely(tot > avail))
		return RXL_L2L4_DROP_IPV4_LENGTH;
	if ((flags & RXL_L2L4_VERIFY_IPV4_CSUM) &&
	    unlikely(rxl_l2l4_csum_fold(csum_add(0, ip, ihl)) != 0xffff))
		return RXL_L2L4_DROP_IPV4_CHECKSUM;
	if (unlikely(ipv4_mcast_or_bcast(ip + 12)))
		return RXL_L2L4_DROP_BAD_SOURCE_ADDRESS;
	addr4(&pkt->src, ip + 12);
	addr4(&pkt->dst, ip + 16);
	pkt->l3_len = (uint16_t)ihl;
	if (unlikely(ip[9] != PROTO_UDP))
		return RXL_L2L4_DROP_NOT_UDP;
	if (unlikely(l2_group || ipv4_mcast_or_bcast(ip + 16)))
		return RXL_L2L4_DROP_MCAST_BCAST_DST;

	frag = rxl_be16_get(ip + 6);
	if (unlikely(frag & (IPV4_MF | IPV4_OFF_MASK))) {
		dlen = tot - ihl;
		foff = (uint32_t)(frag & IPV4_OFF_MASK) * 8;
		/* The reassembled total length (ihl + foff + dlen) must fit 16 bits;
		 * offsets count 8-byte units, so every fragment but the last is a
		 * multiple of 8 long. */
		if (dlen == 0 || ihl + foff + dlen > 0xffff || ((frag & IPV4_MF) && (dlen & 7)))
			return RXL_L2L4_DROP_BAD_FRAGMENT;
		pkt->frag.id = rxl_be16_get(ip + 4);
		pkt->frag.offset = (uint16_t)foff;
		pkt->frag.len = (uint16_t)dlen;
		pkt->frag.more = (frag & IPV4_MF) != 0;
		pkt->frag.proto = PROTO_UDP;
		return RXL_L2L4_FRAGMENT;
	}
	return parse_udp(ip, 0, ip + ihl, tot - ihl, flags, pkt);
}

/* ff02::1:ffXX:XXXX */
static int solicited_node(const uint8_t *a)
{
	static const uint8_t prefix[13] = {0xff, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01, 0xff};

	return memcmp(a, prefix, sizeof(prefix)) == 0;
}

static int all_zero16(const uint8_t *a)
{
	static const uint8_t zero[16];

	return memcmp(a, zero, 16) == 0;
}

/*
 * A neighbour solicitation at @icmp (@ilen bytes present, type already 135):
 * the validity checks of RFC 4861 7.1.1, checksum always verified.
 */
static enum rxl_l2l4_result parse_ns(const uint8_t *ip, const uint8_t *icmp, uint32_t ilen,
				     struct rxl_l2l4_pkt *pkt)
{
	uint32_t o, olen;
	unsigned k;

	if (ip[7] != 255 || ilen < NS_MIN_LEN || icmp[1] != 0 || icmp[8] == 0xff)
		return RXL_L2L4_DROP_BAD_NDP_NS;
	if (rxl_l2l4_csum_fold(
		    rxl_l2l4_csum_add(pseudo_sum(ip, 1, PROTO_ICMPV6, ilen), icmp, ilen)) != 0xffff)
		return RXL_L2L4_DROP_BAD_NDP_NS;
	pkt->ns.has_sll = 0;
	for (o = NS_MIN_LEN, k = 0; o < ilen; o += olen, k++) {
		if (k == RXL_L2L4_NS_OPT_MAX || ilen - o < 2)
			return RXL_L2L4_DROP_BAD_NDP_NS;
		olen = (uint32_t)icmp[o + 1] * 8;
		if (olen == 0 || olen > ilen - o)
			return RXL_L2L4_DROP_BAD_NDP_NS;
		if (icmp[o] == NDP_OPT_SLLA && !pkt->ns.has_sll) {
			memcpy(pkt->ns.sll, icmp + o + 2, 6); /* olen >= 8 */
			pkt->ns.has_sll = 1;
		}
	}
	pkt->ns.dad = (uint8_t)all_zero16(ip + 8);
	/* DAD: sent to the target's solicited-node group, without a source
	 * link-layer option (RFC 4861 7.1.1). */
	if (pkt->ns.dad && (!solicited_node(ip + 24) || pkt->ns.has_sll))
		return RXL_L2L4_DROP_BAD_NDP_NS;
	memcpy(pkt->ns.target, icmp + 8, 16);
	return RXL_L2L4_NDP_NS;
}

static enum rxl_l2l4_result parse_ipv6(const uint8_t *ip, uint32_t avail, int l2_group,
				       unsigned flags, struct rxl_l2l4_pkt *pkt)
{
	uint32_t end, off, hlen, dlen, foff;
	uint16_t fo;
	uint8_t nh;
	unsigned n;

	if (unlikely(avail < IPV6_HDR_LEN || (ip[0] >> 4) != 6))
		return RXL_L2L4_DROP_BAD_IPV6_HEADER;
	end = IPV6_HDR_LEN + (uint32_t)rxl_be16_get(ip + 4);
	if (unlikely(end > avail))
		return RXL_L2L4_DROP_IPV6_LENGTH;
	if (unlikely(ip[8] == 0xff))
		return RXL_L2L4_DROP_BAD_SOURCE_ADDRESS;
	addr6(&pkt->src, ip + 8);
	addr6(&pkt->dst, ip + 24);

	nh = ip[6];
	off = IPV6_HDR_LEN;
	/* Bounded walk: at most RXL_L2L4_IPV6_EXT_MAX headers, each inside [off, end). */
	for (n = 0;; n++) {
		const uint8_t *h = ip + off;

		if (nh == PROTO_UDP) {
			if (unlikely(l2_group || ip[24] == 0xff))
				return RXL_L2L4_DROP_MCAST_BCAST_DST;
			pkt->l3_len = (uint16_t)off;
			return parse_udp(ip, 1, h, end - off, flags, pkt);
		}
		if (nh == PROTO_ICMPV6) {
			if (off == end || h[0] != ICMP6_TYPE_NS)
				return RXL_L2L4_DROP_ICMP6_NOT_NS;
			pkt->l3_len = (uint16_t)off;
			return parse_ns(ip, h, end - off, pkt);
		}
		if (nh != PROTO_HOPOPTS && nh != PROTO_ROUTING && nh != PROTO_DSTOPTS &&
		    nh != PROTO_FRAGMENT)
			return RXL_L2L4_DROP_NOT_UDP; /* TCP, ESP, AH, 59 (none), unknown */
		if (n == RXL_L2L4_IPV6_EXT_MAX || end - off < 8)
			return RXL_L2L4_DROP_IPV6_EXT_HEADERS;

		if (nh == PROTO_FRAGMENT) {
			fo = rxl_be16_get(h + 2);
			if ((fo & 0xfff9) == 0) { /* atomic fragment: a whole datagram */
				nh = h[0];
				off += IPV6_FRAG_HDR_LEN;
				continue;
			}
			/* rte_ip_frag reassembles only a fragment header right
			 * after the fixed header. */
			if (off != IPV6_HDR_LEN)
				return RXL_L2L4_DROP_IPV6_EXT_HEADERS;
			if (h[0] != PROTO_UDP && h[0] != PROTO_DSTOPTS)
				return RXL_L2L4_DROP_NOT_UDP;
			if (unlikely(l2_group || ip[24] == 0xff))
				return RXL_L2L4_DROP_MCAST_BCAST_DST;
			dlen = end - off - IPV6_FRAG_HDR_LEN;
			foff = fo & 0xfff8u;
			if (dlen == 0 || foff + dlen > 0xffff || ((fo & 1) && (dlen & 7)))
				return RXL_L2L4_DROP_BAD_FRAGMENT;
			pkt->l3_len = IPV6_HDR_LEN + IPV6_FRAG_HDR_LEN;
			pkt->frag.id = rxl_be32_get(h + 4);
			pkt->frag.offset = (uint16_t)foff;
			pkt->frag.len = (uint16_t)dlen;
			pkt->frag.more = fo & 1;
			pkt->frag.proto = h[0];
			return RXL_L2L4_FRAGMENT;
		}
		/* Hop-by-hop only first (RFC 8200 4.1); a routing header with
		 * segments left means we are not the final destination, and we
		 * implement no routing type (RFC 8200 4.4). Options inside are
		 * not interpreted. */
		if ((nh == PROTO_HOPOPTS && off != IPV6_HDR_LEN) ||
		    (nh == PROTO_ROUTING && h[3] != 0))
			return RXL_L2L4_DROP_IPV6_EXT_HEADERS;
		hlen = ((uint32_t)h[1] + 1) * 8;
		if (hlen > end - off)
			return RXL_L2L4_DROP_IPV6_EXT_HEADERS;
		nh = h[0];
		off += hlen;
	}
}

static enum rxl_l2l4_result parse_arp(const uint8_t *a, uint32_t avail, struct rxl_l2l4_pkt *pkt)
{
	/* htype 1 (Ethernet), ptype 0x0800, hlen 6, plen 4 */
	static const uint8_t eth_ipv4[6] = {0x00, 0x01, 0x08, 0x00, 6, 4};

	if (avail < ARP_LEN || memcmp(a, eth_ipv4, sizeof(eth_ipv4)) != 0)
		return RXL_L2L4_DROP_BAD_ARP;
	/* A group sender MAC or a multicast/broadcast sender address cannot be
	 * answered (0.0.0.0, an RFC 5227 probe, can). */
	if ((a[8] & 1) || ipv4_mcast_or_bcast(a + 14))
		return RXL_L2L4_DROP_BAD_ARP;
	if (rxl_be16_get(a + 6) != 1)
		return RXL_L2L4_DROP_ARP_NOT_REQUEST;
	memcpy(pkt->arp.sha, a + 8, 6);
	addr4(&pkt->src, a + 14);
	addr4(&pkt->dst, a + 24);
	return RXL_L2L4_ARP;
}

static inline int is_vlan_tpid(uint16_t et)
{
	return et == RXL_ETHERTYPE_VLAN || et == RXL_ETHERTYPE_QINQ;
}

enum rxl_l2l4_result rxl_l2l4_parse(const uint8_t *frame, uint32_t len, unsigned flags,
				    struct rxl_l2l4_pkt *pkt)
{
	uint32_t off = RXL_L2L4_ETH_HDR_LEN;
	uint16_t et;
	int l2_group;

	if (unlikely(len < RXL_L2L4_ETH_HDR_LEN))
		return RXL_L2L4_DROP_TRUNCATED_ETHERNET;
	et = rxl_be16_get(frame + 12);
	pkt->n_vlans = 0;
	if (is_vlan_tpid(et)) {
		if (unlikely(len < off + 4))
			return RXL_L2L4_DROP_TRUNCATED_ETHERNET;
		pkt->vlan_tci[0] = rxl_be16_get(frame + off);
		et = rxl_be16_get(frame + off + 2);
		off += 4;
		pkt->n_vlans = 1;
		if (is_vlan_tpid(et)) {
			if (unlikely(len < off + 4))
				return RXL_L2L4_DROP_TRUNCATED_ETHERNET;
			pkt->vlan_tci[1] = rxl_be16_get(frame + off);
			et = rxl_be16_get(frame + off + 2);
			off += 4;
			pkt->n_vlans = 2;
			if (unlikely(is_vlan_tpid(et)))
				return RXL_L2L4_DROP_TOO_MANY_VLANS;
		}
	}
	pkt->l2_len = (uint16_t)off;
	pkt->ethertype = et;
	l2_group = frame[0] & 1; /* I/G bit: multicast, broadcast included */

	switch (et) {
	case RXL_ETHERTYPE_IPV4:
		return parse_ipv4(frame + off, len - off, l2_group, flags, pkt);
	case RXL_ETHERTYPE_IPV6:
		return parse_ipv6(frame + off, len - off, l2_group, flags, pkt);
	case RXL_ETHERTYPE_ARP:
		return parse_arp(frame + off, len - off, pkt);
	default:
		return RXL_L2L4_DROP_UNKNOWN_ETHERTYPE;
	}
}

/* ---- building ------------------------------------------------------------- */

static int spec_valid(const struct rxl_l2l4_udp_spec *s)
{
	if (s->n_vlans > RXL_L2L4_MAX_VLANS || s->src.family != s->dst.family)
		return 0;
	if (s->src.family == RXL_AF_IPV6)
		return !(s->flags & RXL_L2L4_BUILD_NO_UDP_CSUM);
	return s->src.family == RXL_AF_IPV4;
}

uint32_t rxl_l2l4_udp_hdr_len(const struct rxl_l2l4_udp_spec *s)
{
	if (!spec_valid(s))
		return 0;
	return RXL_L2L4_ETH_HDR_LEN + 4u * s->n_vlans +
	       (s->src.family == RXL_AF_IPV4 ? IPV4_HDR_MIN : IPV6_HDR_LEN) + UDP_HDR_LEN;
}

int rxl_l2l4_build_udp(uint8_t *buf, size_t cap, const struct rxl_l2l4_udp_spec *s,
		       const void *payload, size_t len)
{
	uint32_t hdr = rxl_l2l4_udp_hdr_len(s), ulen, l2, total;
	uint8_t ttl = s->ttl ? s->ttl : 64;
	int v6 = s->src.family == RXL_AF_IPV6;
	uint8_t *p, *ip, *u;
	uint16_t csum;

	if (hdr == 0)
		return -EINVAL;
	/* IPv4 total length and UDP length are 16-bit; so is the IPv6 payload length. */
	if (len > 0xffff - UDP_HDR_LEN - (v6 ? 0 : IPV4_HDR_MIN))
		return -EINVAL;
	total = hdr + (uint32_t)len;
	if (total < RXL_L2L4_ETH_MIN_FRAME && (s->flags & RXL_L2L4_BUILD_PAD_MIN))
		total = RXL_L2L4_ETH_MIN_FRAME;
	if (cap < total)
		return -ENOSPC;

	if (len)
		memmove(buf + hdr, payload, len);
	memset(buf + hdr + len, 0, total - hdr - len);

	memcpy(buf, s->eth_dst, 6);
	memcpy(buf + 6, s->eth_src, 6);
	p = buf + 12;
	for (unsigned i = 0; i < s->n_vlans; i++) {
		int outer_s_tag = s->n_vlans == 2 && i == 0;

		rxl_be16_put(p, outer_s_tag ? RXL_ETHERTYPE_QINQ : RXL_ETHERTYPE_VLAN);
		rxl_be16_put(p + 2, s->vlan_tci[i]);
		p += 4;
	}
	rxl_be16_put(p, v6 ? RXL_ETHERTYPE_IPV6 : RXL_ETHERTYPE_IPV4);
	l2 = (uint32_t)(p + 2 - buf);
	ip = buf + l2;
	ulen = UDP_HDR_LEN + (uint32_t)len;

	if (v6) {
		rxl_be32_put(ip, 6u << 28); /* version 6, traffic class 0, flow label 0 */
		rxl_be16_put(ip + 4, (uint16_t)ulen);
		ip[6] = PROTO_UDP;
		ip[7] = ttl;
		memcpy(ip + 8, s->src.b, 16);
		memcpy(ip + 24, s->dst.b, 16);
		u = ip + IPV6_HDR_LEN;
	} else {
		ip[0] = 0x45;
		ip[1] = 0;
		rxl_be16_put(ip + 2, (uint16_t)(IPV4_HDR_MIN + ulen));
		rxl_be16_put(ip + 4, s->ip_id);
		rxl_be16_put(ip + 6, IPV4_DF);
		ip[8] = ttl;
		ip[9] = PROTO_UDP;
		rxl_be16_put(ip + 10, 0);
		memcpy(ip + 12, s->src.b, 4);
		memcpy(ip + 16, s->dst.b, 4);
		rxl_be16_put(ip + 10, (uint16_t)~rxl_l2l4_csum_fold(rxl_l2l4_csum_add(0, ip, 20)));
		u = ip + IPV4_HDR_MIN;
	}
	rxl_be16_put(u, s->src_port);
	rxl_be16_put(u + 2, s->dst_port);
	rxl_be16_put(u + 4, (uint16_t)ulen);
	rxl_be16_put(u + 6, 0);
	if (!(s->flags & RXL_L2L4_BUILD_NO_UDP_CSUM)) {
		csum = (uint16_t)~rxl_l2l4_csum_fold(
			rxl_l2l4_csum_add(pseudo_sum(ip, v6, PROTO_UDP, ulen), u, ulen));
		/* A computed 0 is sent as 0xffff: 0 means "no checksum" (RFC 768). */
		rxl_be16_put(u + 6, csum ? csum : 0xffff);
	}
	return (int)total;
}
