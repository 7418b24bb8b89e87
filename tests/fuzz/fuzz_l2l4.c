/* tests: libFuzzer target for the L2-L4 frame parser and UDP builder (dataplane/l2l4.c).
 * Single-threaded: run by libFuzzer (scripts/fuzz l2l4 60) or by tests/fuzz/replay.c.
 *
 * Beyond "no crash, no read outside [data, data + size)" (ASan: libFuzzer's
 * input buffer is exactly @size bytes), each input checks the contract of
 * rxl_l2l4.h:
 *   F1 the result is a named enum value;
 *   F2 checksum verification only adds drops (an IPv4 header checksum drop
 *      in place of anything after it, a UDP checksum drop for an accept);
 *   F3 an accepted payload sits right after the headers the parser reported
 *      and ends inside the frame; fragments, ARP and NS lie inside it too;
 *   F3m the accepted datagram obeys the rules, read here independently from
 *      the bytes: the IP length lies inside the frame, the UDP length inside
 *      the IP payload and equal to 8 + payload_len, unicast destination, no
 *      zero IPv6 UDP checksum;
 *   F4 an accepted datagram rebuilt with rxl_l2l4_build_udp() from the parsed
 *      fields parses back, checksums verified, to the same fields and bytes;
 *   F5 rxl_l2l4_csum_add/_fold agree with a textbook RFC 1071 sum.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rxl_l2l4.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define VERIFY_ALL (RXL_L2L4_VERIFY_IPV4_CSUM | RXL_L2L4_VERIFY_UDP_CSUM)

#define CHECK(c)                                                                          \
	do {                                                                              \
		if (!(c)) {                                                               \
			fprintf(stderr, "fuzz_l2l4: %s:%d: check failed: %s\n", __FILE__, \
				__LINE__, #c);                                            \
			abort();                                                          \
		}                                                                         \
	} while (0)

static uint16_t textbook_csum(const uint8_t *p, size_t n)
{
	uint64_t acc = 0;

	for (size_t i = 0; i + 1 < n; i += 2)
		acc += (uint32_t)(p[i] << 8 | p[i + 1]);
	if (n & 1)
		acc += (uint32_t)p[n - 1] << 8;
	while (acc >> 16)
		acc = (acc & 0xffff) + (acc >> 16);
	return (uint16_t)acc;
}

static uint16_t be16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

/* F3m */
static void check_udp_rules(const uint8_t *data, size_t size, const struct rxl_l2l4_pkt *p)
{
	const uint8_t *ip = data + p->l2_len, *u = ip + p->l3_len;
	size_t ip_end; /* bytes of the IP datagram, from ip */

	if (p->src.family == RXL_AF_IPV4) {
		CHECK((ip[0] >> 4) == 4 && (size_t)(ip[0] & 15) * 4 == p->l3_len);
		ip_end = be16(ip + 2);
		CHECK(ip[9] == 17 && (be16(ip + 6) & 0x3fff) == 0);
		CHECK((ip[16] & 0xf0) != 0xe0 && memcmp(ip + 16, "\xff\xff\xff\xff", 4) != 0);
		CHECK(memcmp(p->src.b, ip + 12, 4) == 0 && memcmp(p->dst.b, ip + 16, 4) == 0);
	} else {
		CHECK((ip[0] >> 4) == 6 && ip[24] != 0xff);
		ip_end = 40u + be16(ip + 4);
		CHECK(be16(u + 6) != 0);
		CHECK(memcmp(p->src.b, ip + 8, 16) == 0 && memcmp(p->dst.b, ip + 24, 16) == 0);
	}
	CHECK(p->l2_len + ip_end <= size);
	CHECK(p->l3_len + 8u <= ip_end);
	CHECK(be16(u + 4) == p->payload_len + 8 && p->l3_len + 8u + p->payload_len <= ip_end);
	CHECK(be16(u) == p->src_port && be16(u + 2) == p->dst_port);
}

/* F4 */
static void check_rebuild(const uint8_t *data, const struct rxl_l2l4_pkt *p)
{
	static uint8_t buf[70000];
	struct rxl_l2l4_udp_spec s;
	struct rxl_l2l4_pkt q;
	int n;

	memset(&s, 0, sizeof(s));
	memcpy(s.eth_dst, data, 6);
	memcpy(s.eth_src, data + 6, 6);
	s.n_vlans = p->n_vlans;
	memcpy(s.vlan_tci, p->vlan_tci, sizeof(s.vlan_tci));
	s.src = p->src;
	s.dst = p->dst;
	s.src_port = p->src_port;
	s.dst_port = p->dst_port;
	n = rxl_l2l4_build_udp(buf, sizeof(buf), &s, p->payload, p->payload_len);
	CHECK(n > 0);
	CHECK(rxl_l2l4_parse(buf, (uint32_t)n, VERIFY_ALL, &q) == RXL_L2L4_ACCEPT_UDP);
	CHECK(q.src_port == p->src_port && q.dst_port == p->dst_port);
	CHECK(q.src.family == p->src.family && memcmp(q.src.b, p->src.b, 16) == 0);
	CHECK(q.dst.family == p->dst.family && memcmp(q.dst.b, p->dst.b, 16) == 0);
	CHECK(q.n_vlans == p->n_vlans);
	for (unsigned i = 0; i < q.n_vlans; i++)
		CHECK(q.vlan_tci[i] == p->vlan_tci[i]);
	CHECK(q.payload_len == p->payload_len);
	CHECK(memcmp(q.payload, p->payload, p->payload_len) == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct rxl_l2l4_pkt p, pv;
	enum rxl_l2l4_result r, rv;
	const uint8_t *end = data + size;

	if (size > UINT32_MAX)
		return 0;
	r = rxl_l2l4_parse(data, (uint32_t)size, 0, &p);
	rv = rxl_l2l4_parse(data, (uint32_t)size, VERIFY_ALL, &pv);

	/* F1, F2 */
	CHECK((unsigned)r < RXL_L2L4_RESULT_COUNT);
	CHECK(strcmp(rxl_l2l4_drop_name(r), "unknown") != 0);
	CHECK(rv == r || rv == RXL_L2L4_DROP_IPV4_CHECKSUM ||
	      (r == RXL_L2L4_ACCEPT_UDP && rv == RXL_L2L4_DROP_UDP_CHECKSUM));

	/* F3 */
	if (!rxl_l2l4_is_drop(r)) {
		CHECK(p.n_vlans <= RXL_L2L4_MAX_VLANS);
		CHECK(p.l2_len == RXL_L2L4_ETH_HDR_LEN + 4u * p.n_vlans);
	}
	switch (r) {
	case RXL_L2L4_ACCEPT_UDP:
		CHECK(p.src.family ==
		      (p.ethertype == RXL_ETHERTYPE_IPV6 ? RXL_AF_IPV6 : RXL_AF_IPV4));
		CHECK(p.payload == data + p.l2_len + p.l3_len + 8);
		CHECK(p.payload_len <= size && p.payload + p.payload_len <= end);
		CHECK(!(data[0] & 1));
		check_udp_rules(data, size, &p);
		check_rebuild(data, &p);
		break;
	case RXL_L2L4_FRAGMENT:
		CHECK(p.frag.len > 0);
		CHECK((size_t)p.l2_len + p.l3_len + p.frag.len <= size);
		CHECK(p.frag.more ? p.frag.len % 8 == 0 : 1);
		break;
	case RXL_L2L4_ARP:
		CHECK((size_t)p.l2_len + 28 <= size && p.src.family == RXL_AF_IPV4);
		break;
	case RXL_L2L4_NDP_NS:
		CHECK((size_t)p.l2_len + p.l3_len + 24 <= size && p.ns.target[0] != 0xff);
		break;
	default:
		break;
	}

	/* F5 */
	CHECK(rxl_l2l4_csum_fold(rxl_l2l4_csum_add(0, data, size)) == textbook_csum(data, size));
	return 0;
}
