/* tests: the L2-L4 frame parser and UDP frame builder (dataplane/l2l4.c).
 * Single-threaded cmocka program.
 *
 * Frames are crafted here byte by byte (the fr_* helpers) with a textbook
 * RFC 1071 checksum, never by the builder under test; the builder is then
 * checked against those bytes. Every frame is parsed from a heap block of
 * exactly its length, so under ASan any read past the end fails the test.
 *
 * The table of named frames (cases[]) is also the fuzz seed corpus:
 *   RXL_L2L4_CORPUS_OUT=tests/fuzz/corpus/l2l4 build/tests/test_l2l4
 * rewrites tests/fuzz/corpus/l2l4/ (file name = expected result - case).
 * RXL_TEST_SEED=<n> replays the random tests.
 */
#include <errno.h>
#include <inttypes.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "rxl_l2l4.h"

#define VERIFY_ALL (RXL_L2L4_VERIFY_IPV4_CSUM | RXL_L2L4_VERIFY_UDP_CSUM)

/* ---- independent helpers (deliberately not rxl_bytes.h or l2l4.c) -------- */

static void put_be16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void put_be32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (24 - 8 * i));
}

static uint16_t get_be16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

/* RFC 1071, the textbook way: big-endian 16-bit words, odd byte padded. */
static uint32_t model_acc(uint32_t acc, const uint8_t *p, size_t n)
{
	for (size_t i = 0; i + 1 < n; i += 2)
		acc += (uint32_t)(p[i] << 8 | p[i + 1]);
	if (n & 1)
		acc += (uint32_t)p[n - 1] << 8;
	return acc;
}

static uint16_t model_fold(uint32_t acc)
{
	while (acc >> 16)
		acc = (acc & 0xffff) + (acc >> 16);
	return (uint16_t)acc;
}

static uint64_t rng_state;

static uint64_t rng(void)
{
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 0x2545F4914F6CDD1Dull;
}

static uint32_t rng_below(uint32_t n)
{
	return (uint32_t)(rng() % n);
}

static void fill_random(uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		p[i] = (uint8_t)(rng() >> 56);
}

static int seed_rng(void **state)
{
	(void)state;
	const char *s = getenv("RXL_TEST_SEED");
	uint64_t seed = s ? strtoull(s, NULL, 0) : 0x12A4F00Dull;

	rng_state = seed ? seed : 1;
	print_message("RXL_TEST_SEED=%" PRIu64 "\n", seed);
	return 0;
}

/* ---- crafting frames -------------------------------------------------------- */

static const uint8_t MAC_RX[6] = {0x02, 0x00, 0x5e, 0x10, 0x00, 0x01};
static const uint8_t MAC_TX[6] = {0x02, 0x00, 0x5e, 0x10, 0x00, 0x02};
static const uint8_t IP4_RX[4] = {198, 18, 0, 1};
static const uint8_t IP4_TX[4] = {198, 18, 7, 2};
static const uint8_t IP6_RX[16] = {0x20, 0x01, 0x0d, 0xb8, [14] = 0x12, [15] = 0x01};
static const uint8_t IP6_TX[16] = {0x20, 0x01, 0x0d, 0xb8, 0, 7, [15] = 0x02};
/* ff02::1:ff00:1201, the solicited-node group of IP6_RX */
static const uint8_t IP6_SNM_RX[16] = {
	0xff, 0x02, [11] = 0x01, [12] = 0xff, [14] = 0x12, [15] = 0x01};
static const char PAYLOAD[] = "<14>1 2026-11-27T12:00:00Z gen app - - - hello rxlog";
#define PAYLOAD_LEN (sizeof(PAYLOAD) - 1)
#define SPORT 40001
#define DPORT 5514
#define TCI(i) ((uint16_t)(0xa000 | (100 + (i)))) /* PCP 5, VLAN 100, 101, ... */

#define FR_CAP 2048

struct fr {
	uint8_t b[FR_CAP];
	size_t len;
	size_t l3;    /* IP or ARP header */
	size_t l4;    /* UDP/ICMPv6 header, or fragment data */
	size_t nh_at; /* IPv6: the next-header byte to patch */
	uint16_t et;
	uint8_t l4proto; /* 17, 58 or 0 (fix no L4 checksum) */
};

/* Ethernet header with @n tags of the given TPIDs. */
static void fr_eth_tpids(struct fr *f, const uint16_t *tpids, unsigned n, uint16_t et)
{
	size_t o = 12;

	memset(f, 0, sizeof(*f));
	memcpy(f->b, MAC_RX, 6);
	memcpy(f->b + 6, MAC_TX, 6);
	for (unsigned i = 0; i < n; i++) {
		put_be16(f->b + o, tpids[i]);
		put_be16(f->b + o + 2, TCI(i));
		o += 4;
	}
	put_be16(f->b + o, et);
	f->l3 = f->len = o + 2;
	f->et = et;
}

/* 0 tags, an 802.1Q tag, or 802.1ad + 802.1Q (what the builder writes). */
static void fr_eth(struct fr *f, unsigned ntags, uint16_t et)
{
	static const uint16_t one[] = {0x8100}, two[] = {0x88a8, 0x8100};

	fr_eth_tpids(f, ntags == 2 ? two : one, ntags, et);
}

/* IPv4 header with @opts bytes of NOP options and the flags/offset field @frag. */
static void fr_ipv4(struct fr *f, uint8_t proto, size_t opts, uint16_t frag)
{
	uint8_t *ip = f->b + f->l3;

	ip[0] = (uint8_t)(0x40 | (20 + opts) / 4);
	put_be16(ip + 4, 0x1234);
	put_be16(ip + 6, frag);
	ip[8] = 64;
	ip[9] = proto;
	memcpy(ip + 12, IP4_TX, 4);
	memcpy(ip + 16, IP4_RX, 4);
	memset(ip + 20, 1, opts);
	f->l4 = f->len = f->l3 + 20 + opts;
	f->l4proto = proto;
}

static void fr_ipv6(struct fr *f)
{
	uint8_t *ip = f->b + f->l3;

	ip[0] = 0x60;
	ip[7] = 64;
	memcpy(ip + 8, IP6_TX, 16);
	memcpy(ip + 24, IP6_RX, 16);
	f->nh_at = f->l3 + 6;
	f->l4 = f->len = f->l3 + 40;
}

/* Append an IPv6 extension header of @bytes (multiple of 8), PadN-filled. */
static size_t fr_ext(struct fr *f, uint8_t type, size_t bytes)
{
	size_t e = f->l4;

	f->b[f->nh_at] = type;
	memset(f->b + e, 0, bytes);
	f->b[e + 1] = (uint8_t)(bytes / 8 - 1);
	if (type == 0 || type == 60) {
		f->b[e + 2] = 1; /* PadN */
		f->b[e + 3] = (uint8_t)(bytes - 4);
	} else if (type == 43) {
		f->b[e + 2] = 2; /* type 2 routing header, segments left 0 */
	}
	f->nh_at = e;
	f->l4 = f->len = e + bytes;
	return e;
}

/* An IPv6 fragment header (first extension) carrying @next. */
static size_t fr_frag6_hdr(struct fr *f, uint8_t next, uint16_t offset, int more, uint32_t id)
{
	size_t e = fr_ext(f, 44, 8);

	f->b[e] = next;
	put_be16(f->b + e + 2, (uint16_t)(offset | (more ? 1 : 0)));
	put_be32(f->b + e + 4, id);
	return e;
}

static void fr_l4csum(struct fr *f)
{
	const uint8_t *ip = f->b + f->l3;
	uint8_t *l4 = f->b + f->l4;
	size_t n = f->len - f->l4;
	size_t csum_at = f->l4proto == 17 ? 6 : 2;
	uint32_t acc;
	uint16_t c;

	if (f->l4proto == 17)
		n = get_be16(l4 + 4) <= n ? get_be16(l4 + 4) : n;
	put_be16(l4 + csum_at, 0);
	if (f->et == 0x0800) {
		acc = model_acc(0, ip + 12, 8) + f->l4proto + (uint32_t)n;
	} else {
		acc = model_acc(0, ip + 8, 32) + f->l4proto + (uint32_t)(n >> 16) +
		      (uint32_t)(n & 0xffff);
	}
	c = (uint16_t)~model_fold(model_acc(acc, l4, n));
	put_be16(l4 + csum_at, f->l4proto == 17 && c == 0 ? 0xffff : c);
}

/* Set the IP lengths and the IPv4 header checksum, then the L4 checksum. */
static void fr_fix(struct fr *f)
{
	uint8_t *ip = f->b + f->l3;

	if (f->et == 0x0800) {
		size_t ihl = (size_t)(ip[0] & 15) * 4;

		put_be16(ip + 2, (uint16_t)(f->len - f->l3));
		put_be16(ip + 10, 0);
		put_be16(ip + 10, (uint16_t)~model_fold(model_acc(0, ip, ihl)));
	} else {
		put_be16(ip + 4, (uint16_t)(f->len - f->l3 - 40));
	}
	if (f->l4proto == 17 || f->l4proto == 58)
		fr_l4csum(f);
}

static void fr_put(struct fr *f, const void *p, size_t n)
{
	memcpy(f->b + f->len, p, n);
	f->len += n;
}

/* UDP header + payload at l4, then fix lengths and checksums. */
static void fr_udp_payload(struct fr *f, const void *payload, size_t n)
{
	uint8_t *u = f->b + f->l4;

	if (f->et == 0x86dd)
		f->b[f->nh_at] = 17;
	f->l4proto = 17;
	put_be16(u, SPORT);
	put_be16(u + 2, DPORT);
	put_be16(u + 4, (uint16_t)(8 + n));
	f->len = f->l4 + 8;
	fr_put(f, payload, n);
	fr_fix(f);
}

static void fr_udp(struct fr *f)
{
	fr_udp_payload(f, PAYLOAD, PAYLOAD_LEN);
}

static void fr_pad(struct fr *f, size_t to)
{
	if (f->len < to) {
		memset(f->b + f->len, 0, to - f->len);
		f->len = to;
	}
}

static void mk_udp4_tags(struct fr *f, unsigned ntags)
{
	fr_eth(f, ntags, 0x0800);
	fr_ipv4(f, 17, 0, 0x4000);
	fr_udp(f);
}

static void mk_udp6_tags(struct fr *f, unsigned ntags)
{
	fr_eth(f, ntags, 0x86dd);
	fr_ipv6(f);
	fr_udp(f);
}

/* ICMPv6 NS for IP6_RX at l4 (hop limit 255); options appended with fr_ndopt. */
static void fr_ns(struct fr *f, const uint8_t *src, const uint8_t *dst)
{
	uint8_t *ip;

	fr_eth(f, 0, 0x86dd);
	fr_ipv6(f);
	ip = f->b + f->l3;
	ip[6] = 58;
	ip[7] = 255;
	memcpy(ip + 8, src, 16);
	memcpy(ip + 24, dst, 16);
	memset(f->b, 0, 6);
	memcpy(f->b, (const uint8_t[]){0x33, 0x33, 0xff, 0x00, 0x12, 0x01}, 6);
	f->l4proto = 58;
	f->b[f->l4] = 135;
	f->len = f->l4 + 8;
	fr_put(f, IP6_RX, 16);
	fr_fix(f);
}

static void fr_ndopt(struct fr *f, uint8_t type, const uint8_t *data6)
{
	uint8_t opt[8] = {type, 1};

	memcpy(opt + 2, data6, 6);
	fr_put(f, opt, 8);
	fr_fix(f);
}

static void fr_arp(struct fr *f, unsigned ntags, uint16_t op, const uint8_t *spa,
		   const uint8_t *tpa)
{
	uint8_t *a;

	fr_eth(f, ntags, 0x0806);
	memset(f->b, 0xff, 6);
	a = f->b + f->l3;
	put_be16(a, 1);
	put_be16(a + 2, 0x0800);
	a[4] = 6;
	a[5] = 4;
	put_be16(a + 6, op);
	memcpy(a + 8, MAC_TX, 6);
	memcpy(a + 14, spa, 4);
	memcpy(a + 24, tpa, 4);
	f->len = f->l3 + 28;
}

/* IPv4 fragment: @n bytes of data at fragment offset @off (bytes). */
static void fr_frag4(struct fr *f, uint16_t off, int more, size_t n)
{
	fr_eth(f, 0, 0x0800);
	fr_ipv4(f, 17, 0, (uint16_t)((more ? 0x2000 : 0) | off / 8));
	f->l4proto = 0;
	for (size_t i = 0; i < n; i++)
		f->b[f->len++] = (uint8_t)i;
	fr_fix(f);
}

static void fr_frag6(struct fr *f, uint16_t off, int more, size_t n)
{
	fr_eth(f, 0, 0x86dd);
	fr_ipv6(f);
	fr_frag6_hdr(f, 17, off, more, 0xdeadbeef);
	for (size_t i = 0; i < n; i++)
		f->b[f->len++] = (uint8_t)i;
	fr_fix(f);
}

/* ---- parsing from exact-size heap copies ------------------------------------ */

/*
 * Parse @len bytes copied into a heap block of exactly that size. On
 * ACCEPT_UDP the payload must lie inside the copy; it is then rebased onto
 * @frame so callers can compare bytes after the copy is gone.
 */
static enum rxl_l2l4_result parse_exact(const uint8_t *frame, size_t len, unsigned flags,
					struct rxl_l2l4_pkt *pkt)
{
	uint8_t *copy = malloc(len ? len : 1);
	enum rxl_l2l4_result r;

	assert_non_null(copy);
	if (len)
		memcpy(copy, frame, len);
	memset(pkt, 0xa5, sizeof(*pkt));
	r = rxl_l2l4_parse(copy, (uint32_t)len, flags, pkt);
	assert_true((unsigned)r < RXL_L2L4_RESULT_COUNT);
	if (r == RXL_L2L4_ACCEPT_UDP) {
		assert_true(pkt->payload >= copy + 14 + 20 + 8);
		assert_true(pkt->payload_len <= len);
		assert_true(pkt->payload + pkt->payload_len <= copy + len);
		pkt->payload = frame + (pkt->payload - copy);
	}
	free(copy);
	return r;
}

static enum rxl_l2l4_result parse_fr(const struct fr *f, unsigned flags, struct rxl_l2l4_pkt *pkt)
{
	return parse_exact(f->b, f->len, flags, pkt);
}

static void expect_result(enum rxl_l2l4_result got, enum rxl_l2l4_result want, const char *what)
{
	if (got != want)
		fail_msg("%s: got %s, want %s", what, rxl_l2l4_drop_name(got),
			 rxl_l2l4_drop_name(want));
}

/* The datagram fr_udp() wrote, as the parser must report it. */
static void expect_udp(const struct fr *f, const struct rxl_l2l4_pkt *p, int v6)
{
	assert_int_equal(p->src_port, SPORT);
	assert_int_equal(p->dst_port, DPORT);
	assert_int_equal(p->payload_len, PAYLOAD_LEN);
	assert_memory_equal(p->payload, PAYLOAD, PAYLOAD_LEN);
	assert_ptr_equal(p->payload, f->b + f->l4 + 8);
	assert_int_equal(p->l2_len, f->l3);
	assert_int_equal(p->l3_len, f->l4 - f->l3);
	assert_int_equal(p->src.family, v6 ? RXL_AF_IPV6 : RXL_AF_IPV4);
	assert_int_equal(p->dst.family, p->src.family);
	if (v6) {
		assert_memory_equal(p->src.b, IP6_TX, 16);
		assert_memory_equal(p->dst.b, IP6_RX, 16);
		assert_int_equal(p->ethertype, 0x86dd);
	} else {
		static const uint8_t zero[12];

		assert_memory_equal(p->src.b, IP4_TX, 4);
		assert_memory_equal(p->dst.b, IP4_RX, 4);
		assert_memory_equal(p->src.b + 4, zero, 12);
		assert_memory_equal(p->dst.b + 4, zero, 12);
		assert_int_equal(p->ethertype, 0x0800);
	}
}

/* ---- accept paths ------------------------------------------------------------ */

static void test_ipv4_udp_is_accepted_with_addresses_ports_and_payload(void **state)
{
	(void)state;
	struct rxl_l2l4_pkt p;
	struct fr f;

	mk_udp4_tags(&f, 0);
	expect_result(parse_fr(&f, VERIFY_ALL, &p), RXL_L2L4_ACCEPT_UDP, "udp4");
	expect_udp(&f, &p, 0);
	assert_int_equal(p.n_vlans, 0);
	assert_int_equal(p.l2_len, 14);
	assert_int_equal(p.l3_len, 20);
}

static void test_one_and_two_vlan_tags_of_either_tpid_are_accepted(void **state)
{
	(void)state;
	static const uint16_t tpids[][2] = {
		{0x8100, 0}, {0x88a8, 0}, {0x88a8, 0x8100}, {0x8100, 0x8100}, {0x88a8, 0x88a8},
	};
	struct rxl_l2l4_pkt p;
	struct fr f;

	for (int v6 = 0; v6 <= 1; v6++) {
		for (size_t i = 0; i < sizeof(tpids) / sizeof(tpids[0]); i++) {
			unsigned n = tpids[i][1] ? 2 : 1;

			fr_eth_tpids(&f, tpids[i], n, v6 ? 0x86dd : 0x0800);
			if (v6)
				fr_ipv6(&f);
			else
				fr_ipv4(&f, 17, 0, 0);
			fr_udp(&f);
			expect_result(parse_fr(&f, VERIFY_ALL, &p), RXL_L2L4_ACCEPT_UDP, "tagged");
			expect_udp(&f, &p, v6);
			assert_int_equal(p.n_vlans, n);
			assert_int_equal(p.l2_len, 14 + 4 * n);
			for (unsigned t = 0; t < n; t++)
				assert_int_equal(p.vlan_tci[t], TCI(t));
			assert_int_equal(p.vlan_tci[0] & 0xfff, 100);
		}
	}
}

static void test_ipv4_options_are_skipped_for_every_header_length(void **state)
{
	(void)state;
	struct rxl_l2l4_pkt p;
	struct fr f;

	for (size_t opts = 0; opts <= 40; opts += 4) {
		fr_eth(&f, 1, 0x0800);
		fr_ipv4(&f, 17, opts, 0);
		fr_udp(&f);
		expect_result(parse_fr(&f, VERIFY_ALL, &p), RXL_L2L4_ACCEPT_UDP, "options");
		expect_udp(&f, &p, 0);
		assert_int_equal(p.l3_len, 20 + opts);
	}
}

static void test_ipv6_udp_is_accepted_with_zero_one_and_two_tags(void **state)
{
	(void)state;
	struct rxl_l2l4_pkt p;
	struct fr f;

	for (unsigned n = 0; n <= 2; n++) {
		mk_udp6_tags(&f, n);
		expect_result(parse_fr(&f, VERIFY_ALL, &p), RXL_L2L4_ACCEPT_UDP, "udp6");
		expect_udp(&f, &p, 1);
		assert_int_equal(p.n_vlans, n);
		assert_int_equal(p.l3_len, 40);
	}
}

static void test_ipv6_extension_headers_are_walked_to_udp(void **state)
{
	(void)state;
	struct rxl_l2l4_pkt p;
	struct fr f;

	/* hop-by-hop, destination options, routing (segments left 0), an atomic
	 * fragment, destination options again: 8 + 16 + 24 + 8 + 8 bytes */
	fr_eth(&f, 2, 0x86dd);
	fr_ipv6(&f);
	fr_ext(&f, 0, 8);
	fr_ext(&f, 60, 16);
	fr_ext(&f, 43, 24);
	fr_frag6_hdr(&f, 0, 0, 0, 77);
	fr_ext(&f, 60, 8);
	fr_udp(&f);
	expect_result(parse_fr(&f, VERIFY_ALL, &p), RXL_L2L4_ACCEPT_UDP, "ext chain");
	expect_udp(&f, &p, 1);
	assert_int_equal(p.l3_len, 40 + 64);

	/* the longest chain walked: RXL_L2L4_IPV6_EXT_MAX headers */
	fr_eth(&f, 0, 0x86dd);
	fr_ipv6(&f);
	for (int i = 0; i < RXL_L2L4_IPV6_EXT_MAX; i++)
		fr_ext(&f, 60, 8);
	fr_udp(&f);
	expect_result(parse_fr(&f, VERIFY_ALL, &p), RXL_L2L4_ACCEPT_UDP, "longest chain");
	expect_udp(&f, &p, 1);
}

static void test_ethernet_padding_after_the_ip_length_is_not_payload(void **state)
{
	(void)state;
	struct rxl_l2l4_pkt p;
	struct fr f;

	for (int v6 = 0; v6 <= 1; v6++) {
		fr_eth(&f, 0, v6 ? 0x86dd : 0x0800);
		if (v6)
			fr_ipv6(&f);
		else
			fr_ipv4(&f, 17, 0, 0);
		fr_udp_payload(&f, "hi", 2);
		fr_pad(&f, v6 ? 96 : 60);
		memset(f.b + f.len - 4, 0xee, 4); /* garbage in the padding */
		expect_result(parse_fr(&f, VERIFY_ALL, &p), RXL_L2L4_ACCEPT_UDP, "padded");
		assert_int_equal(p.payload_len, 2);
		assert_memory_equal(p.payload, "hi", 2);
	}
}

static void test_udp_length_shorter_than_ip_payload_bounds_the_payload(void **state)
{
	(void)state;
	struct rxl_l2l4_pkt p;
	struct fr f;

	/* Linux keeps the first UDP-length bytes; so do we. */
	for (int v6 = 0; v6 <= 1; v6++) {
		fr_eth(&f, 0, v6 ? 0x86dd : 0x0800);
		if (v6)
			fr_ipv6(&f);
		else
			fr_ipv4(&f, 17, 0, 0);
		fr_udp(&f);
		fr_put(&f, "TRAILER", 7);
		fr_fix(&f); /* IP length grows, UDP length stays */
		assert_int_equal(get_be16(f.b + f.l4 + 4), 8 + PAYLOAD_LEN);
		expect_result(parse_fr(&f, VERIFY_ALL, &p), RXL_L2L4_ACCEPT_UDP, "trailer");
		expect_udp(&f, &p, v6);
	}
}

static void test_zero_length_udp_payload_is_accepted(void **state)
{
	(void)state;
	struct rxl_l2l4_pkt p;
	struct fr f;

	fr_eth(&f, 0, 0x0800);
	fr_ipv4(&f, 17, 0, 0);
	fr_udp_payload(&f, "", 0);
	expect_result(parse_fr(&f, VERIFY_ALL, &p), RXL_L2L4_ACCEPT_UDP, "empty");
	assert_int_equal(p.payload_len, 0);
	assert_ptr_equal(p.payload, f.b + f.len);
}

/* ---- checksums ------------------------------------------------------------------ */

static void test_checksum_verification_is_on_only_when_asked(void **state)
{
	(void)state;
	struct rxl_l2l4_pkt p;
	struct fr f;

	/* bad IPv4 header checksum */
	mk_udp4_tags(&f, 0);
	f.b[f.l3 + 11] ^= 0x40;
	expect_result(parse_fr(&f, 0, &p), RXL_L2L4_ACCEPT_UDP, "ip csum off");
	expect_result(parse_fr(&f, RXL_L2L4_VERIFY_UDP_CSUM, &p), RXL_L2L4_ACCEPT_UDP,
		      "ip csum off, udp on");
	expect_result(parse_fr(&f, RXL_L2L4_VERIFY_IPV4_CSUM, &p), RXL_L2L4_DROP_IPV4_CHECKSUM,
		      "ip csum on");

	/* bad UDP checksum (a payload bit flipped), IPv4 and IPv6 */
	for (int v6 = 0; v6 <= 1; v6++) {
		if (v6)
			mk_udp6_tags(&f, 1);
		else
			mk_udp4_tags(&f, 1);
		f.b[f.len - 1] ^= 1;
		expect_result(parse_fr(&f, 0, &p), RXL_L2L4_ACCEPT_UDP, "udp csum off");
		expect_result(parse_fr(&f, RXL_L2L4_VERIFY_IPV4_CSUM, &p), RXL_L2L4_ACCEPT_UDP,
			      "udp csum off, ip on");
		expect_result(parse_fr(&f, RXL_L2L4_VERIFY_UDP_CSUM, &p),
			      RXL_L2L4_DROP_UDP_CHECKSUM, "udp csum on");
	}
}

static void test_ipv4_udp_checksum_zero_means_none_even_when_verifying(void **state)
{
	(void)state;
	struct rxl_l2l4_pkt p;
	struct fr f;

	mk_udp4_tags(&f, 0);
	put_be16(f.b + f.l4 + 6, 0);
	expect_result(parse_fr(&f, VERIFY_ALL, &p), RXL_L2L4_ACCEPT_UDP, "v4 zero csum");
	expect_udp(&f, &p, 0);
}

static void test_ipv6_udp_checksum_zero_is_dropped_even_without_verifying(void **state)
{
	(void)state;
	struct rxl_l2l4_pkt p;
	struct fr f;

	mk_udp6_tags(&f, 0);
	put_be16(f.b + f.l4 + 6, 0);
	expect_result(parse_fr(&f, 0, &p), RXL_L2L4_DROP_UDP_ZERO_CSUM_IPV6, "v6 zero");
	expect_result(parse_fr(&f, VERIFY_ALL, &p), RXL_L2L4_DROP_UDP_ZERO_CSUM_IPV6, "v6 zero");
}

static void test_checksum_computing_to_zero_is_sent_as_ffff_and_verifies(void **state)
{
	(void)state;
	struct rxl_l2l4_udp_spec s = {
		.src = {RXL_AF_IPV4, {198, 18, 0, 2}},
		.dst = {RXL_AF_IPV4, {198, 18, 0, 1}},
		.src_port = 1000,
		.dst_port = 2000,
	};
	uint8_t buf[128], pl[2] = {0, 0};
	struct rxl_l2l4_pkt p;
	int n;

	/* Choose the 2-byte payload that makes the checksum compute to 0. */
	n = rxl_l2l4_build_udp(buf, sizeof(buf), &s, pl, 2);
	assert_int_equal(n, 14 + 20 + 8 + 2);
	{
		uint16_t c = get_be16(buf + 34 + 6);

		/* adding ~sum's complement... payload word w changes the sum by w */
		put_be16(pl, c == 0xffff ? 0 : c);
	}
	n = rxl_l2l4_build_udp(buf, sizeof(buf), &s, pl, 2);
	assert_int_equal(get_be16(buf + 34 + 6), 0xffff);
	expect_result(parse_exact(buf, (size_t)n, VERIFY_ALL, &p), RXL_L2L4_ACCEPT_UDP, "ffff");
}

static void test_ipv4_header_checksum_matches_a_published_example(void **state)
{
	(void)state;
	/* The classic example header (Wikipedia, "IPv4 header checksum"):
	 * 4500 0073 0000 4000 4011 [b861] c0a8 0001 c0a8 00c7 */
	uint8_t h[20] = {0x45, 0x00, 0x00, 0x73, 0x00, 0x00, 0x40, 0x00, 0x40, 0x11,
			 0x00, 0x00, 0xc0, 0xa8, 0x00, 0x01, 0xc0, 0xa8, 0x00, 0xc7};

	assert_int_equal((uint16_t)~rxl_l2l4_csum_fold(rxl_l2l4_csum_add(0, h, 20)), 0xb861);
	put_be16(h + 10, 0xb861);
	assert_int_equal(rxl_l2l4_csum_fold(rxl_l2l4_csum_add(0, h, 20)), 0xffff);
}

static void test_csum_add_in_even_chunks_equals_the_textbook_sum(void **state)
{
	(void)state;
	uint8_t buf[700];

	for (int iter = 0; iter < 2000; iter++) {
		size_t n = rng_below(sizeof(buf) + 1), at = 0;
		uint64_t sum = 0;

		fill_random(buf, n);
		if (iter == 0)
			memset(buf, 0xff, n); /* carries everywhere */
		while (at < n) {
			size_t chunk = 2 * (1 + rng_below(64));

			if (chunk > n - at)
				chunk = n - at; /* only the last chunk may be odd */
			sum = rxl_l2l4_csum_add(sum, buf + at, chunk);
			at += chunk;
		}
		assert_int_equal(rxl_l2l4_csum_fold(sum), model_fold(model_acc(0, buf, n)));
	}
}

/* ---- ARP, NS, fragments -------------------------------------------------------- */

static void test_arp_request_reports_sender_and_target(void **state)
{
	(void)state;
	static const uint8_t zero4[4];
	struct rxl_l2l4_pkt p;
	struct fr f;

	for (unsigned n = 0; n <= 2; n++) {
		fr_arp(&f, n, 1, IP4_TX, IP4_RX);
		if (n == 1)
			fr_pad(&f, 60);
		expect_result(parse_fr(&f, VERIFY_ALL, &p), RXL_L2L4_ARP, "arp");
		assert_memory_equal(p.arp.sha, MAC_TX, 6);
		assert_int_equal(p.src.family, RXL_AF_IPV4);
		assert_memory_equal(p.src.b, IP4_TX, 4);
		assert_int_equal(p.dst.family, RXL_AF_IPV4);
		assert_memory_equal(p.dst.b, IP4_RX, 4);
		assert_int_equal(p.ethertype, 0x0806);
		assert_int_equal(p.n_vlans, n);
		assert_int_equal(p.l2_len, 14 + 4 * n);
		if (n)
			assert_int_equal(p.vlan_tci[n - 1], TCI(n - 1));
	}
	/* An RFC 5227 probe (sender 0.0.0.0) is a request to answer as well. */
	fr_arp(&f, 0, 1, zero4, IP4_RX);
	expect_result(parse_fr(&f, 0, &p), RXL_L2L4_ARP, "probe");
	assert_memory_equal(p.src.b, zero4, 4);
}

static void test_neighbour_solicitation_reports_target_and_source_mac(void **state)
{
	(void)state;
	static const uint8_t nonce[6] = {1, 2, 3, 4, 5, 6};
	static const uint8_t unspec[16];
	struct rxl_l2l4_pkt p;
	struct fr f;

	fr_ns(&f, IP6_TX, IP6_SNM_RX);
	fr_ndopt(&f, 1, MAC_TX);
	expect_result(parse_fr(&f, 0, &p), RXL_L2L4_NDP_NS, "ns");
	assert_memory_equal(p.ns.target, IP6_RX, 16);
	assert_true(p.ns.has_sll);
	assert_memory_equal(p.ns.sll, MAC_TX, 6);
	assert_false(p.ns.dad);
	assert_memory_equal(p.src.b, IP6_TX, 16);
	assert_memory_equal(p.dst.b, IP6_SNM_RX, 16);
	assert_int_equal(p.l3_len, 40);

	/* unicast NS (neighbour unreachability detection), no option */
	fr_ns(&f, IP6_TX, IP6_RX);
	expect_result(parse_fr(&f, 0, &p), RXL_L2L4_NDP_NS, "ns unicast");
	assert_false(p.ns.has_sll);
	assert_memory_equal(p.ns.target, IP6_RX, 16);

	/* a nonce option before the source link-layer address */
	fr_ns(&f, IP6_TX, IP6_SNM_RX);
	fr_ndopt(&f, 14, nonce);
	fr_ndopt(&f, 1, MAC_TX);
	expect_result(parse_fr(&f, 0, &p), RXL_L2L4_NDP_NS, "ns nonce");
	assert_true(p.ns.has_sll);
	assert_memory_equal(p.ns.sll, MAC_TX, 6);

	/* duplicate address detection: source ::, solicited-node destination */
	fr_ns(&f, unspec, IP6_SNM_RX);
	fr_ndopt(&f, 14, nonce);
	expect_result(parse_fr(&f, 0, &p), RXL_L2L4_NDP_NS, "dad");
	assert_true(p.ns.dad);
	assert_false(p.ns.has_sll);
}

static void test_ipv4_fragments_report_id_offset_and_more_flag(void **state)
{
	(void)state;
	static const struct {
		uint16_t off;
		int more;
		size_t n;
	} cases[] = {{0, 1, 64}, {64, 1, 512}, {576, 0, 13}, {65504, 0, 11}};
	struct rxl_l2l4_pkt p;
	struct fr f;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		fr_frag4(&f, cases[i].off, cases[i].more, cases[i].n);
		expect_result(parse_fr(&f, VERIFY_ALL, &p), RXL_L2L4_FRAGMENT, "frag4");
		assert_int_equal(p.frag.id, 0x1234);
		assert_int_equal(p.frag.offset, cases[i].off);
		assert_int_equal(p.frag.more, cases[i].more);
		assert_int_equal(p.frag.len, cases[i].n);
		assert_int_equal(p.frag.proto, 17);
		assert_int_equal(p.l2_len, 14);
		assert_int_equal(p.l3_len, 20);
		assert_memory_equal(p.src.b, IP4_TX, 4);
		assert_memory_equal(p.dst.b, IP4_RX, 4);
	}
	/* DF with offset 0 and no MF is a whole datagram */
	mk_udp4_tags(&f, 0);
	assert_int_equal(get_be16(f.b + f.l3 + 6), 0x4000);
	expect_result(parse_fr(&f, VERIFY_ALL, &p), RXL_L2L4_ACCEPT_UDP, "DF");
}

static void test_ipv6_fragments_report_id_offset_and_more_flag(void **state)
{
	(void)state;
	struct rxl_l2l4_pkt p;
	struct fr f;

	fr_frag6(&f, 0, 1, 1232);
	expect_result(parse_fr(&f, VERIFY_ALL, &p), RXL_L2L4_FRAGMENT, "frag6 first");
	assert_int_equal(p.frag.id, 0xdeadbeef);
	assert_int_equal(p.frag.offset, 0);
	assert_int_equal(p.frag.more, 1);
	assert_int_equal(p.frag.len, 1232);
	assert_int_equal(p.frag.proto, 17);
	assert_int_equal(p.l3_len, 48);
	assert_memory_equal(p.src.b, IP6_TX, 16);

	fr_frag6(&f, 1232, 0, 5);
	expect_result(parse_fr(&f, VERIFY_ALL, &p), RXL_L2L4_FRAGMENT, "frag6 last");
	assert_int_equal(p.frag.offset, 1232);
	assert_int_equal(p.frag.more, 0);
	assert_int_equal(p.frag.len, 5);

	/* a fragmentable part that starts with destination options */
	fr_frag6(&f, 8, 1, 16);
	f.b[f.l3 + 40] = 60;
	expect_result(parse_fr(&f, 0, &p), RXL_L2L4_FRAGMENT, "frag6 dstopts");
	assert_int_equal(p.frag.proto, 60);
}

/* ---- the named frames: every result, the seed corpus ------------------------- */

static void mk_udp4(struct fr *f)
{
	mk_udp4_tags(f, 0);
}

static void mk_udp4_vlan(struct fr *f)
{
	mk_udp4_tags(f, 1);
}

static void mk_udp4_qinq(struct fr *f)
{
	mk_udp4_tags(f, 2);
}

static void mk_udp4_options(struct fr *f)
{
	fr_eth(f, 0, 0x0800);
	fr_ipv4(f, 17, 40, 0);
	fr_udp(f);
}

static void mk_udp4_padded(struct fr *f)
{
	fr_eth(f, 0, 0x0800);
	fr_ipv4(f, 17, 0, 0);
	fr_udp_payload(f, "x", 1);
	fr_pad(f, 60);
}

static void mk_udp4_no_checksum(struct fr *f)
{
	mk_udp4_tags(f, 0);
	put_be16(f->b + f->l4 + 6, 0);
}

static void mk_udp6(struct fr *f)
{
	mk_udp6_tags(f, 0);
}

static void mk_udp6_qinq(struct fr *f)
{
	mk_udp6_tags(f, 2);
}

static void mk_udp6_ext_chain(struct fr *f)
{
	fr_eth(f, 1, 0x86dd);
	fr_ipv6(f);
	fr_ext(f, 0, 8);
	fr_ext(f, 60, 16);
	fr_ext(f, 43, 24);
	fr_frag6_hdr(f, 0, 0, 0, 5);
	fr_udp(f);
}

static void mk_arp_request(struct fr *f)
{
	fr_arp(f, 0, 1, IP4_TX, IP4_RX);
}

static void mk_arp_request_vlan_padded(struct fr *f)
{
	fr_arp(f, 1, 1, IP4_TX, IP4_RX);
	fr_pad(f, 60);
}

static void mk_ns(struct fr *f)
{
	fr_ns(f, IP6_TX, IP6_SNM_RX);
	fr_ndopt(f, 1, MAC_TX);
}

static void mk_ns_dad(struct fr *f)
{
	static const uint8_t unspec[16];

	fr_ns(f, unspec, IP6_SNM_RX);
}

static void mk_frag4_first(struct fr *f)
{
	fr_frag4(f, 0, 1, 32);
}

static void mk_frag4_last(struct fr *f)
{
	fr_frag4(f, 32, 0, 9);
}

static void mk_frag6_first(struct fr *f)
{
	fr_frag6(f, 0, 1, 48);
}

static void mk_frag6_last(struct fr *f)
{
	fr_frag6(f, 48, 0, 3);
}

/* drops ---------------------------------------------------------------------- */

static void mk_eth_13_bytes(struct fr *f)
{
	mk_udp4(f);
	f->len = 13;
}

static void mk_eth_vlan_tag_cut(struct fr *f)
{
	mk_udp4_vlan(f);
	f->len = 16;
}

static void mk_eth_inner_tag_cut(struct fr *f)
{
	mk_udp4_qinq(f);
	f->len = 20;
}

static void mk_three_vlan_tags(struct fr *f)
{
	static const uint16_t t[3] = {0x88a8, 0x8100, 0x8100};

	fr_eth_tpids(f, t, 3, 0x0800);
	fr_ipv4(f, 17, 0, 0);
	fr_udp(f);
}

static void mk_lldp(struct fr *f)
{
	fr_eth(f, 0, 0x88cc);
	fr_pad(f, 60);
}

static void mk_8023_length(struct fr *f)
{
	fr_eth(f, 0, 46);
	fr_pad(f, 60);
}

static void mk_tpid_9100(struct fr *f)
{
	static const uint16_t t[1] = {0x9100};

	fr_eth_tpids(f, t, 1, 0x0800);
	fr_ipv4(f, 17, 0, 0);
	fr_udp(f);
}

static void mk_arp_27_bytes(struct fr *f)
{
	mk_arp_request(f);
	f->len--;
}

static void mk_arp_htype_6(struct fr *f)
{
	mk_arp_request(f);
	f->b[f->l3 + 1] = 6;
}

static void mk_arp_plen_16(struct fr *f)
{
	mk_arp_request(f);
	f->b[f->l3 + 5] = 16;
}

static void mk_arp_sender_mac_multicast(struct fr *f)
{
	mk_arp_request(f);
	f->b[f->l3 + 8] |= 1;
}

static void mk_arp_sender_ip_broadcast(struct fr *f)
{
	static const uint8_t bc[4] = {255, 255, 255, 255};

	fr_arp(f, 0, 1, bc, IP4_RX);
}

static void mk_arp_reply(struct fr *f)
{
	fr_arp(f, 0, 2, IP4_TX, IP4_RX);
}

static void mk_ipv4_19_bytes(struct fr *f)
{
	mk_udp4(f);
	f->len = 14 + 19;
}

static void mk_ipv4_version_6(struct fr *f)
{
	mk_udp4(f);
	f->b[f->l3] = 0x65;
}

static void mk_ipv4_ihl_4(struct fr *f)
{
	mk_udp4(f);
	f->b[f->l3] = 0x44;
}

static void mk_ipv4_ihl_past_frame(struct fr *f)
{
	mk_udp4(f);
	f->b[f->l3] = 0x4f;
	f->len = f->l3 + 40;
}

static void mk_ipv4_total_below_ihl(struct fr *f)
{
	mk_udp4(f);
	put_be16(f->b + f->l3 + 2, 19);
}

static void mk_ipv4_total_past_frame(struct fr *f)
{
	mk_udp4(f);
	put_be16(f->b + f->l3 + 2, (uint16_t)(f->len - f->l3 + 1));
}

static void mk_ipv4_bad_header_checksum(struct fr *f)
{
	mk_udp4(f);
	f->b[f->l3 + 10] ^= 0x10;
}

static void mk_ipv6_39_bytes(struct fr *f)
{
	mk_udp6(f);
	f->len = 14 + 39;
}

static void mk_ipv6_version_4(struct fr *f)
{
	mk_udp6(f);
	f->b[f->l3] = 0x40;
}

static void mk_ipv6_payload_past_frame(struct fr *f)
{
	mk_udp6(f);
	put_be16(f->b + f->l3 + 4, (uint16_t)(f->len - f->l3 - 40 + 1));
}

static void mk_ipv6_nine_ext_headers(struct fr *f)
{
	fr_eth(f, 0, 0x86dd);
	fr_ipv6(f);
	for (int i = 0; i < RXL_L2L4_IPV6_EXT_MAX + 1; i++)
		fr_ext(f, 60, 8);
	fr_udp(f);
}

static void mk_ipv6_hop_by_hop_second(struct fr *f)
{
	fr_eth(f, 0, 0x86dd);
	fr_ipv6(f);
	fr_ext(f, 60, 8);
	fr_ext(f, 0, 8);
	fr_udp(f);
}

static void mk_ipv6_routing_segments_left(struct fr *f)
{
	size_t e;

	fr_eth(f, 0, 0x86dd);
	fr_ipv6(f);
	e = fr_ext(f, 43, 24);
	fr_udp(f);
	f->b[e + 3] = 1;
}

static void mk_ipv6_ext_past_payload(struct fr *f)
{
	size_t e;

	fr_eth(f, 0, 0x86dd);
	fr_ipv6(f);
	e = fr_ext(f, 60, 8);
	fr_udp(f);
	f->b[e + 1] = 200; /* 1608 bytes */
}

static void mk_ipv6_ext_cut(struct fr *f)
{
	/* a destination-options header announced, 4 bytes of payload left */
	fr_eth(f, 0, 0x86dd);
	fr_ipv6(f);
	f->b[f->nh_at] = 60;
	fr_put(f, "\x11\x00\x01\x00", 4);
	fr_fix(f);
}

static void mk_ipv6_fragment_after_dstopts(struct fr *f)
{
	fr_eth(f, 0, 0x86dd);
	fr_ipv6(f);
	fr_ext(f, 60, 8);
	fr_frag6_hdr(f, 17, 0, 1, 9);
	fr_put(f, PAYLOAD, 16);
	fr_fix(f);
}

static void mk_ipv4_src_multicast(struct fr *f)
{
	mk_udp4(f);
	f->b[f->l3 + 12] = 224;
	fr_fix(f);
}

static void mk_ipv4_src_broadcast(struct fr *f)
{
	mk_udp4(f);
	memset(f->b + f->l3 + 12, 0xff, 4);
	fr_fix(f);
}

static void mk_ipv6_src_multicast(struct fr *f)
{
	mk_udp6(f);
	f->b[f->l3 + 8] = 0xff;
	fr_fix(f);
}

static void mk_ipv4_tcp(struct fr *f)
{
	fr_eth(f, 0, 0x0800);
	fr_ipv4(f, 6, 0, 0);
	fr_put(f, PAYLOAD, 20);
	fr_fix(f);
}

static void mk_ipv4_icmp(struct fr *f)
{
	fr_eth(f, 0, 0x0800);
	fr_ipv4(f, 1, 0, 0);
	fr_put(f, "\x08\x00\xf7\xff\x00\x00\x00\x00", 8);
	fr_fix(f);
}

static void mk_ipv6_tcp(struct fr *f)
{
	fr_eth(f, 0, 0x86dd);
	fr_ipv6(f);
	f->b[f->nh_at] = 6;
	fr_put(f, PAYLOAD, 20);
	fr_fix(f);
}

static void mk_ipv6_no_next_header(struct fr *f)
{
	fr_eth(f, 0, 0x86dd);
	fr_ipv6(f);
	fr_ext(f, 60, 8);
	f->b[f->nh_at] = 59;
	fr_fix(f);
}

static void mk_ipv6_esp(struct fr *f)
{
	fr_eth(f, 0, 0x86dd);
	fr_ipv6(f);
	f->b[f->nh_at] = 50;
	fr_put(f, PAYLOAD, 24);
	fr_fix(f);
}

static void mk_frag4_of_tcp(struct fr *f)
{
	fr_frag4(f, 0, 1, 32);
	f->b[f->l3 + 9] = 6;
	fr_fix(f);
}

static void mk_frag6_of_tcp(struct fr *f)
{
	fr_frag6(f, 0, 1, 32);
	f->b[f->l3 + 40] = 6;
}

static void mk_icmp6_echo(struct fr *f)
{
	mk_ns(f);
	f->b[f->l4] = 128;
	fr_fix(f);
}

static void mk_icmp6_neighbour_advert(struct fr *f)
{
	mk_ns(f);
	f->b[f->l4] = 136;
	fr_fix(f);
}

static void mk_icmp6_empty(struct fr *f)
{
	fr_eth(f, 0, 0x86dd);
	fr_ipv6(f);
	f->b[f->nh_at] = 58;
	fr_fix(f);
}

static void mk_ns_hop_limit_64(struct fr *f)
{
	mk_ns(f);
	f->b[f->l3 + 7] = 64;
}

static void mk_ns_code_1(struct fr *f)
{
	mk_ns(f);
	f->b[f->l4 + 1] = 1;
	fr_fix(f);
}

static void mk_ns_20_bytes(struct fr *f)
{
	mk_ns(f);
	f->len = f->l4 + 20;
	fr_fix(f);
}

static void mk_ns_target_multicast(struct fr *f)
{
	mk_ns(f);
	f->b[f->l4 + 8] = 0xff;
	fr_fix(f);
}

static void mk_ns_bad_checksum(struct fr *f)
{
	mk_ns(f);
	f->b[f->l4 + 2] ^= 0x80;
}

static void mk_ns_option_length_0(struct fr *f)
{
	mk_ns(f);
	f->b[f->l4 + 24 + 1] = 0;
	fr_fix(f);
}

static void mk_ns_option_past_end(struct fr *f)
{
	mk_ns(f);
	f->b[f->l4 + 24 + 1] = 2;
	fr_fix(f);
}

static void mk_ns_nine_options(struct fr *f)
{
	fr_ns(f, IP6_TX, IP6_SNM_RX);
	for (int i = 0; i < RXL_L2L4_NS_OPT_MAX + 1; i++)
		fr_ndopt(f, 14, MAC_TX);
}

static void mk_ns_dad_with_source_mac(struct fr *f)
{
	static const uint8_t unspec[16];

	fr_ns(f, unspec, IP6_SNM_RX);
	fr_ndopt(f, 1, MAC_TX);
}

static void mk_ns_dad_to_unicast(struct fr *f)
{
	static const uint8_t unspec[16];

	fr_ns(f, unspec, IP6_RX);
}

static void mk_udp4_to_ethernet_broadcast(struct fr *f)
{
	mk_udp4(f);
	memset(f->b, 0xff, 6);
}

static void mk_udp4_to_ethernet_multicast(struct fr *f)
{
	mk_udp4(f);
	memcpy(f->b, (const uint8_t[]){0x01, 0x00, 0x5e, 0x00, 0x00, 0xfb}, 6);
}

static void mk_udp4_to_224_0_0_251(struct fr *f)
{
	mk_udp4(f);
	memcpy(f->b + f->l3 + 16, (const uint8_t[]){224, 0, 0, 251}, 4);
	fr_fix(f);
}

static void mk_udp4_to_limited_broadcast(struct fr *f)
{
	mk_udp4(f);
	memset(f->b + f->l3 + 16, 0xff, 4);
	fr_fix(f);
}

static void mk_udp6_to_ff02_fb(struct fr *f)
{
	mk_udp6(f);
	memcpy(f->b + f->l3 + 24, (const uint8_t[]){0xff, 0x02, [15] = 0xfb}, 16);
	fr_fix(f);
}

static void mk_udp6_to_ethernet_multicast(struct fr *f)
{
	mk_udp6(f);
	memcpy(f->b, (const uint8_t[]){0x33, 0x33, 0, 0, 0, 1}, 6);
}

static void mk_frag4_to_multicast(struct fr *f)
{
	mk_frag4_first(f);
	f->b[f->l3 + 16] = 239;
	fr_fix(f);
}

static void mk_frag4_empty(struct fr *f)
{
	fr_frag4(f, 64, 1, 0);
}

static void mk_frag4_not_multiple_of_8(struct fr *f)
{
	fr_frag4(f, 0, 1, 31);
}

static void mk_frag4_past_65535(struct fr *f)
{
	fr_frag4(f, 65504, 0, 16); /* 65504 + 16 fits, 20 + 65504 + 16 does not */
}

static void mk_frag6_empty(struct fr *f)
{
	fr_frag6(f, 8, 0, 0);
}

static void mk_frag6_not_multiple_of_8(struct fr *f)
{
	fr_frag6(f, 0, 1, 12);
}

static void mk_frag6_past_65535(struct fr *f)
{
	fr_frag6(f, 65528, 0, 9);
}

static void mk_udp4_length_7(struct fr *f)
{
	mk_udp4(f);
	put_be16(f->b + f->l4 + 4, 7);
}

static void mk_udp4_length_past_ip(struct fr *f)
{
	mk_udp4(f);
	fr_pad(f, f->len + 8); /* present in the frame, but not in the IP datagram */
	put_be16(f->b + f->l4 + 4, (uint16_t)(8 + PAYLOAD_LEN + 1));
}

static void mk_udp4_header_cut(struct fr *f)
{
	fr_eth(f, 0, 0x0800);
	fr_ipv4(f, 17, 0, 0);
	fr_put(f, "\x9c\x41\x15\x8a\x00\x08", 6);
	fr_fix(f);
	fr_pad(f, 60);
}

static void mk_udp6_length_past_ip(struct fr *f)
{
	mk_udp6(f);
	put_be16(f->b + f->l4 + 4, (uint16_t)(8 + PAYLOAD_LEN + 1));
}

static void mk_udp4_bad_checksum(struct fr *f)
{
	mk_udp4_vlan(f);
	f->b[f->len - 1] ^= 0x20;
}

static void mk_udp6_bad_checksum(struct fr *f)
{
	mk_udp6(f);
	f->b[f->l4 + 6] ^= 0x01;
}

static void mk_udp6_zero_checksum(struct fr *f)
{
	mk_udp6(f);
	put_be16(f->b + f->l4 + 6, 0);
}

struct fcase {
	const char *name;
	void (*make)(struct fr *f);
	unsigned flags;
	enum rxl_l2l4_result want;
	int trailing; /* bytes after the datagram: truncating them may still accept */
};

#define C(fn, flags, want)                              \
	{                                               \
#fn, mk_##fn, flags, RXL_L2L4_##want, 0 \
	}
#define CT(fn, flags, want)                             \
	{                                               \
#fn, mk_##fn, flags, RXL_L2L4_##want, 1 \
	}

static const struct fcase cases[] = {
	C(udp4, VERIFY_ALL, ACCEPT_UDP),
	C(udp4_vlan, VERIFY_ALL, ACCEPT_UDP),
	C(udp4_qinq, VERIFY_ALL, ACCEPT_UDP),
	C(udp4_options, VERIFY_ALL, ACCEPT_UDP),
	CT(udp4_padded, VERIFY_ALL, ACCEPT_UDP),
	C(udp4_no_checksum, VERIFY_ALL, ACCEPT_UDP),
	C(udp6, VERIFY_ALL, ACCEPT_UDP),
	C(udp6_qinq, VERIFY_ALL, ACCEPT_UDP),
	C(udp6_ext_chain, VERIFY_ALL, ACCEPT_UDP),
	C(arp_request, VERIFY_ALL, ARP),
	CT(arp_request_vlan_padded, VERIFY_ALL, ARP),
	C(ns, VERIFY_ALL, NDP_NS),
	C(ns_dad, VERIFY_ALL, NDP_NS),
	C(frag4_first, VERIFY_ALL, FRAGMENT),
	C(frag4_last, VERIFY_ALL, FRAGMENT),
	C(frag6_first, VERIFY_ALL, FRAGMENT),
	C(frag6_last, VERIFY_ALL, FRAGMENT),

	C(eth_13_bytes, 0, DROP_TRUNCATED_ETHERNET),
	C(eth_vlan_tag_cut, 0, DROP_TRUNCATED_ETHERNET),
	C(eth_inner_tag_cut, 0, DROP_TRUNCATED_ETHERNET),
	C(three_vlan_tags, 0, DROP_TOO_MANY_VLANS),
	C(lldp, 0, DROP_UNKNOWN_ETHERTYPE),
	C(8023_length, 0, DROP_UNKNOWN_ETHERTYPE),
	C(tpid_9100, 0, DROP_UNKNOWN_ETHERTYPE),
	C(arp_27_bytes, 0, DROP_BAD_ARP),
	C(arp_htype_6, 0, DROP_BAD_ARP),
	C(arp_plen_16, 0, DROP_BAD_ARP),
	C(arp_sender_mac_multicast, 0, DROP_BAD_ARP),
	C(arp_sender_ip_broadcast, 0, DROP_BAD_ARP),
	C(arp_reply, 0, DROP_ARP_NOT_REQUEST),
	C(ipv4_19_bytes, 0, DROP_BAD_IPV4_HEADER),
	C(ipv4_version_6, 0, DROP_BAD_IPV4_HEADER),
	C(ipv4_ihl_4, 0, DROP_BAD_IPV4_HEADER),
	C(ipv4_ihl_past_frame, 0, DROP_BAD_IPV4_HEADER),
	C(ipv4_total_below_ihl, 0, DROP_BAD_IPV4_HEADER),
	C(ipv4_total_past_frame, 0, DROP_IPV4_LENGTH),
	C(ipv4_bad_header_checksum, VERIFY_ALL, DROP_IPV4_CHECKSUM),
	C(ipv6_39_bytes, 0, DROP_BAD_IPV6_HEADER),
	C(ipv6_version_4, 0, DROP_BAD_IPV6_HEADER),
	C(ipv6_payload_past_frame, 0, DROP_IPV6_LENGTH),
	C(ipv6_nine_ext_headers, 0, DROP_IPV6_EXT_HEADERS),
	C(ipv6_hop_by_hop_second, 0, DROP_IPV6_EXT_HEADERS),
	C(ipv6_routing_segments_left, 0, DROP_IPV6_EXT_HEADERS),
	C(ipv6_ext_past_payload, 0, DROP_IPV6_EXT_HEADERS),
	C(ipv6_ext_cut, 0, DROP_IPV6_EXT_HEADERS),
	C(ipv6_fragment_after_dstopts, 0, DROP_IPV6_EXT_HEADERS),
	C(ipv4_src_multicast, 0, DROP_BAD_SOURCE_ADDRESS),
	C(ipv4_src_broadcast, 0, DROP_BAD_SOURCE_ADDRESS),
	C(ipv6_src_multicast, 0, DROP_BAD_SOURCE_ADDRESS),
	C(ipv4_tcp, 0, DROP_NOT_UDP),
	C(ipv4_icmp, 0, DROP_NOT_UDP),
	C(ipv6_tcp, 0, DROP_NOT_UDP),
	C(ipv6_no_next_header, 0, DROP_NOT_UDP),
	C(ipv6_esp, 0, DROP_NOT_UDP),
	C(frag4_of_tcp, 0, DROP_NOT_UDP),
	C(frag6_of_tcp, 0, DROP_NOT_UDP),
	C(icmp6_echo, 0, DROP_ICMP6_NOT_NS),
	C(icmp6_neighbour_advert, 0, DROP_ICMP6_NOT_NS),
	C(icmp6_empty, 0, DROP_ICMP6_NOT_NS),
	C(ns_hop_limit_64, 0, DROP_BAD_NDP_NS),
	C(ns_code_1, 0, DROP_BAD_NDP_NS),
	C(ns_20_bytes, 0, DROP_BAD_NDP_NS),
	C(ns_target_multicast, 0, DROP_BAD_NDP_NS),
	C(ns_bad_checksum, 0, DROP_BAD_NDP_NS),
	C(ns_option_length_0, 0, DROP_BAD_NDP_NS),
	C(ns_option_past_end, 0, DROP_BAD_NDP_NS),
	C(ns_nine_options, 0, DROP_BAD_NDP_NS),
	C(ns_dad_with_source_mac, 0, DROP_BAD_NDP_NS),
	C(ns_dad_to_unicast, 0, DROP_BAD_NDP_NS),
	C(udp4_to_ethernet_broadcast, 0, DROP_MCAST_BCAST_DST),
	C(udp4_to_ethernet_multicast, 0, DROP_MCAST_BCAST_DST),
	C(udp4_to_224_0_0_251, 0, DROP_MCAST_BCAST_DST),
	C(udp4_to_limited_broadcast, 0, DROP_MCAST_BCAST_DST),
	C(udp6_to_ff02_fb, 0, DROP_MCAST_BCAST_DST),
	C(udp6_to_ethernet_multicast, 0, DROP_MCAST_BCAST_DST),
	C(frag4_to_multicast, 0, DROP_MCAST_BCAST_DST),
	C(frag4_empty, 0, DROP_BAD_FRAGMENT),
	C(frag4_not_multiple_of_8, 0, DROP_BAD_FRAGMENT),
	C(frag4_past_65535, 0, DROP_BAD_FRAGMENT),
	C(frag6_empty, 0, DROP_BAD_FRAGMENT),
	C(frag6_not_multiple_of_8, 0, DROP_BAD_FRAGMENT),
	C(frag6_past_65535, 0, DROP_BAD_FRAGMENT),
	C(udp4_length_7, 0, DROP_UDP_LENGTH),
	C(udp4_length_past_ip, 0, DROP_UDP_LENGTH),
	C(udp4_header_cut, 0, DROP_UDP_LENGTH),
	C(udp6_length_past_ip, 0, DROP_UDP_LENGTH),
	C(udp4_bad_checksum, VERIFY_ALL, DROP_UDP_CHECKSUM),
	C(udp6_bad_checksum, VERIFY_ALL, DROP_UDP_CHECKSUM),
	C(udp6_zero_checksum, 0, DROP_UDP_ZERO_CSUM_IPV6),
};

#define N_CASES (sizeof(cases) / sizeof(cases[0]))

static void test_every_result_comes_from_its_named_frame(void **state)
{
	(void)state;
	unsigned seen[RXL_L2L4_RESULT_COUNT] = {0};
	struct rxl_l2l4_pkt p;
	struct fr f;

	for (size_t i = 0; i < N_CASES; i++) {
		enum rxl_l2l4_result r;

		cases[i].make(&f);
		r = parse_fr(&f, cases[i].flags, &p);
		expect_result(r, cases[i].want, cases[i].name);
		seen[r]++;
		/* Verifying checksums only ever turns an accept into a drop. */
		if (!cases[i].flags) {
			enum rxl_l2l4_result rv = parse_fr(&f, VERIFY_ALL, &p);

			if (rv != r)
				fail_msg("%s: %s without checks, %s with", cases[i].name,
					 rxl_l2l4_drop_name(r), rxl_l2l4_drop_name(rv));
		}
	}
	for (int r = 0; r < RXL_L2L4_RESULT_COUNT; r++)
		if (!seen[r])
			fail_msg("no frame produces %s",
				 rxl_l2l4_drop_name((enum rxl_l2l4_result)r));
}

static void test_every_truncation_of_a_kept_frame_is_dropped(void **state)
{
	(void)state;
	struct rxl_l2l4_pkt p;
	struct fr f;
	size_t checked = 0;

	for (size_t i = 0; i < N_CASES; i++) {
		uint32_t full_payload_len;

		if (rxl_l2l4_is_drop(cases[i].want))
			continue;
		cases[i].make(&f);
		expect_result(parse_fr(&f, 0, &p), cases[i].want, cases[i].name);
		full_payload_len = p.payload_len;
		for (size_t len = 0; len < f.len; len++) {
			enum rxl_l2l4_result r = parse_exact(f.b, len, 0, &p);

			/* Only Ethernet padding may go: then the result and the
			 * payload are unchanged. parse_exact() has checked that an
			 * accepted payload lies inside the truncated copy. */
			if (!rxl_l2l4_is_drop(r) && (!cases[i].trailing || r != cases[i].want))
				fail_msg("%s cut to %zu of %zu bytes: %s", cases[i].name, len,
					 f.len, rxl_l2l4_drop_name(r));
			if (r == RXL_L2L4_ACCEPT_UDP)
				assert_int_equal(p.payload_len, full_payload_len);
			checked++;
		}
	}
	assert_true(checked > 1000);
}

static void test_drop_names_are_distinct_snake_case_for_every_result(void **state)
{
	(void)state;

	for (int r = 0; r < RXL_L2L4_RESULT_COUNT; r++) {
		const char *n = rxl_l2l4_drop_name((enum rxl_l2l4_result)r);

		assert_non_null(n);
		assert_true(strlen(n) > 2);
		assert_string_not_equal(n, "unknown");
		for (const char *c = n; *c; c++)
			assert_true((*c >= 'a' && *c <= 'z') || (*c >= '0' && *c <= '9') ||
				    *c == '_');
		for (int o = 0; o < r; o++)
			assert_string_not_equal(n, rxl_l2l4_drop_name((enum rxl_l2l4_result)o));
		assert_int_equal(rxl_l2l4_is_drop((enum rxl_l2l4_result)r),
				 r >= RXL_L2L4_DROP_FIRST);
	}
	/* the counter names other components and dashboards rely on */
	assert_string_equal(rxl_l2l4_drop_name(RXL_L2L4_ACCEPT_UDP), "accept_udp");
	assert_string_equal(rxl_l2l4_drop_name(RXL_L2L4_DROP_TRUNCATED_ETHERNET),
			    "truncated_ethernet");
	assert_string_equal(rxl_l2l4_drop_name(RXL_L2L4_DROP_UNKNOWN_ETHERTYPE),
			    "unknown_ethertype");
	assert_string_equal(rxl_l2l4_drop_name(RXL_L2L4_DROP_BAD_IPV4_HEADER), "bad_ipv4_header");
	assert_string_equal(rxl_l2l4_drop_name(RXL_L2L4_DROP_IPV4_LENGTH), "ipv4_length");
	assert_string_equal(rxl_l2l4_drop_name(RXL_L2L4_DROP_BAD_IPV6_HEADER), "bad_ipv6_header");
	assert_string_equal(rxl_l2l4_drop_name(RXL_L2L4_DROP_IPV6_EXT_HEADERS), "ipv6_ext_headers");
	assert_string_equal(rxl_l2l4_drop_name(RXL_L2L4_DROP_NOT_UDP), "not_udp");
	assert_string_equal(rxl_l2l4_drop_name(RXL_L2L4_DROP_UDP_LENGTH), "udp_length");
	assert_string_equal(rxl_l2l4_drop_name(RXL_L2L4_DROP_UDP_CHECKSUM), "udp_checksum");
	assert_string_equal(rxl_l2l4_drop_name(RXL_L2L4_DROP_MCAST_BCAST_DST),
			    "multicast_or_broadcast_dst");
	assert_string_equal(rxl_l2l4_drop_name(RXL_L2L4_RESULT_COUNT), "unknown");
}

/* ---- the builder ------------------------------------------------------------- */

static void spec_like_fr(struct rxl_l2l4_udp_spec *s, int v6, unsigned ntags)
{
	memset(s, 0, sizeof(*s));
	memcpy(s->eth_dst, MAC_RX, 6);
	memcpy(s->eth_src, MAC_TX, 6);
	s->n_vlans = (uint8_t)ntags;
	for (unsigned i = 0; i < ntags; i++)
		s->vlan_tci[i] = TCI(i);
	s->src.family = s->dst.family = v6 ? RXL_AF_IPV6 : RXL_AF_IPV4;
	memcpy(s->src.b, v6 ? IP6_TX : IP4_TX, v6 ? 16 : 4);
	memcpy(s->dst.b, v6 ? IP6_RX : IP4_RX, v6 ? 16 : 4);
	s->src_port = SPORT;
	s->dst_port = DPORT;
	s->ip_id = 0x1234;
}

static void test_builder_writes_the_hand_crafted_bytes(void **state)
{
	(void)state;
	struct rxl_l2l4_udp_spec s;
	uint8_t buf[FR_CAP];
	struct fr f;
	int n;

	for (int v6 = 0; v6 <= 1; v6++) {
		for (unsigned t = 0; t <= 2; t++) {
			if (v6)
				mk_udp6_tags(&f, t);
			else
				mk_udp4_tags(&f, t);
			spec_like_fr(&s, v6, t);
			assert_int_equal(rxl_l2l4_udp_hdr_len(&s), f.l4 + 8);
			memset(buf, 0xcc, sizeof(buf));
			n = rxl_l2l4_build_udp(buf, sizeof(buf), &s, PAYLOAD, PAYLOAD_LEN);
			assert_int_equal(n, f.len);
			assert_memory_equal(buf, f.b, f.len);
			assert_int_equal(buf[n], 0xcc);
		}
	}
}

static void test_builder_pads_to_the_ethernet_minimum_only_when_asked(void **state)
{
	(void)state;
	struct rxl_l2l4_udp_spec s;
	struct rxl_l2l4_pkt p;
	uint8_t buf[128];
	int n;

	spec_like_fr(&s, 0, 0);
	memset(buf, 0xcc, sizeof(buf));
	n = rxl_l2l4_build_udp(buf, sizeof(buf), &s, "ab", 2);
	assert_int_equal(n, 44);
	s.flags = RXL_L2L4_BUILD_PAD_MIN;
	n = rxl_l2l4_build_udp(buf, sizeof(buf), &s, "ab", 2);
	assert_int_equal(n, RXL_L2L4_ETH_MIN_FRAME);
	for (int i = 44; i < 60; i++)
		assert_int_equal(buf[i], 0);
	expect_result(parse_exact(buf, (size_t)n, VERIFY_ALL, &p), RXL_L2L4_ACCEPT_UDP, "pad");
	assert_int_equal(p.payload_len, 2);
	/* a frame already long enough is not changed */
	n = rxl_l2l4_build_udp(buf, sizeof(buf), &s, PAYLOAD, PAYLOAD_LEN);
	assert_int_equal(n, 42 + PAYLOAD_LEN);
}

static void test_builder_refuses_small_buffers_without_writing(void **state)
{
	(void)state;
	struct rxl_l2l4_udp_spec s;
	uint8_t buf[256], ref[256];

	for (int v6 = 0; v6 <= 1; v6++) {
		spec_like_fr(&s, v6, 2);
		s.flags = RXL_L2L4_BUILD_PAD_MIN;
		size_t need = rxl_l2l4_udp_hdr_len(&s) + PAYLOAD_LEN;

		memset(buf, 0x5a, sizeof(buf));
		memcpy(ref, buf, sizeof(buf));
		assert_int_equal(rxl_l2l4_build_udp(buf, need - 1, &s, PAYLOAD, PAYLOAD_LEN),
				 -ENOSPC);
		assert_memory_equal(buf, ref, sizeof(buf));
		assert_int_equal(rxl_l2l4_build_udp(buf, 0, &s, NULL, 0), -ENOSPC);
		assert_int_equal(rxl_l2l4_build_udp(buf, need, &s, PAYLOAD, PAYLOAD_LEN),
				 (int)need);
	}
	/* padding counts too */
	spec_like_fr(&s, 0, 0);
	s.flags = RXL_L2L4_BUILD_PAD_MIN;
	assert_int_equal(rxl_l2l4_build_udp(buf, 59, &s, "a", 1), -ENOSPC);
}

static void test_builder_rejects_invalid_specs_and_oversize_payloads(void **state)
{
	(void)state;
	struct rxl_l2l4_udp_spec s;
	uint8_t *big = malloc(70000);

	assert_non_null(big);
	memset(big, 'z', 70000);

	spec_like_fr(&s, 0, 0);
	s.dst.family = RXL_AF_IPV6;
	assert_int_equal(rxl_l2l4_build_udp(big, 70000, &s, "a", 1), -EINVAL);
	assert_int_equal(rxl_l2l4_udp_hdr_len(&s), 0);
	s.src.family = s.dst.family = 0;
	assert_int_equal(rxl_l2l4_build_udp(big, 70000, &s, "a", 1), -EINVAL);
	spec_like_fr(&s, 0, 0);
	s.n_vlans = 3;
	assert_int_equal(rxl_l2l4_build_udp(big, 70000, &s, "a", 1), -EINVAL);
	spec_like_fr(&s, 1, 0);
	s.flags = RXL_L2L4_BUILD_NO_UDP_CSUM;
	assert_int_equal(rxl_l2l4_build_udp(big, 70000, &s, "a", 1), -EINVAL);

	/* largest payloads: 65535 - 20 - 8 (IPv4), 65535 - 8 (IPv6) */
	for (int v6 = 0; v6 <= 1; v6++) {
		size_t max = v6 ? 65527 : 65507;
		struct rxl_l2l4_pkt p;
		uint8_t *frame = malloc(70000);
		int n;

		assert_non_null(frame);
		spec_like_fr(&s, v6, 1);
		assert_int_equal(rxl_l2l4_build_udp(frame, 70000, &s, big, max + 1), -EINVAL);
		n = rxl_l2l4_build_udp(frame, 70000, &s, big, max);
		assert_true(n > 0);
		expect_result(parse_exact(frame, (size_t)n, VERIFY_ALL, &p), RXL_L2L4_ACCEPT_UDP,
			      "largest");
		assert_int_equal(p.payload_len, max);
		free(frame);
	}
	free(big);
}

static void test_builder_accepts_a_payload_already_in_place(void **state)
{
	(void)state;
	struct rxl_l2l4_udp_spec s;
	struct rxl_l2l4_pkt p;
	uint8_t buf[256];
	uint32_t h;
	int n;

	spec_like_fr(&s, 1, 1);
	h = rxl_l2l4_udp_hdr_len(&s);
	assert_int_equal(h, 14 + 4 + 40 + 8);
	memcpy(buf + h, PAYLOAD, PAYLOAD_LEN);
	n = rxl_l2l4_build_udp(buf, sizeof(buf), &s, buf + h, PAYLOAD_LEN);
	assert_int_equal(n, h + PAYLOAD_LEN);
	expect_result(parse_exact(buf, (size_t)n, VERIFY_ALL, &p), RXL_L2L4_ACCEPT_UDP, "in place");
	assert_memory_equal(p.payload, PAYLOAD, PAYLOAD_LEN);

	/* overlapping the header area: moved, not corrupted */
	memcpy(buf + 3, PAYLOAD, PAYLOAD_LEN);
	n = rxl_l2l4_build_udp(buf, sizeof(buf), &s, buf + 3, PAYLOAD_LEN);
	expect_result(parse_exact(buf, (size_t)n, VERIFY_ALL, &p), RXL_L2L4_ACCEPT_UDP, "overlap");
	assert_memory_equal(p.payload, PAYLOAD, PAYLOAD_LEN);
}

static void random_unicast(struct rxl_l2l4_addr *a, int v6)
{
	memset(a, 0, sizeof(*a));
	a->family = v6 ? RXL_AF_IPV6 : RXL_AF_IPV4;
	fill_random(a->b, v6 ? 16 : 4);
	if (v6 && a->b[0] == 0xff)
		a->b[0] = 0xfe;
	if (!v6)
		a->b[0] = (uint8_t)(1 + rng_below(223)); /* below 224.0.0.0 */
}

static void test_random_frames_round_trip_through_build_and_parse(void **state)
{
	(void)state;
	static uint8_t payload[1500], buf[1600];

	for (int iter = 0; iter < 20000; iter++) {
		struct rxl_l2l4_udp_spec s = {0};
		struct rxl_l2l4_pkt p;
		int v6 = (int)rng_below(2);
		size_t len = rng_below(8) == 0 ? rng_below(4) : rng_below(sizeof(payload) + 1);
		uint32_t acc;
		int n;

		fill_random(s.eth_dst, 6);
		s.eth_dst[0] &= 0xfe;
		fill_random(s.eth_src, 6);
		s.n_vlans = (uint8_t)rng_below(3);
		s.vlan_tci[0] = (uint16_t)rng();
		s.vlan_tci[1] = (uint16_t)rng();
		random_unicast(&s.src, v6);
		random_unicast(&s.dst, v6);
		s.src_port = (uint16_t)rng();
		s.dst_port = (uint16_t)rng();
		s.ttl = (uint8_t)rng();
		s.ip_id = (uint16_t)rng();
		s.flags = (unsigned)rng_below(2) * RXL_L2L4_BUILD_PAD_MIN;
		if (!v6 && rng_below(4) == 0)
			s.flags |= RXL_L2L4_BUILD_NO_UDP_CSUM;
		fill_random(payload, len);

		n = rxl_l2l4_build_udp(buf, sizeof(buf), &s, payload, len);
		assert_true(n >= 42);
		expect_result(parse_exact(buf, (size_t)n, VERIFY_ALL, &p), RXL_L2L4_ACCEPT_UDP,
			      "round trip");
		assert_int_equal(p.payload_len, len);
		assert_memory_equal(p.payload, payload, len);
		assert_int_equal(p.src_port, s.src_port);
		assert_int_equal(p.dst_port, s.dst_port);
		assert_int_equal(p.src.family, s.src.family);
		assert_memory_equal(p.src.b, s.src.b, 16);
		assert_memory_equal(p.dst.b, s.dst.b, 16);
		assert_int_equal(p.n_vlans, s.n_vlans);
		for (unsigned t = 0; t < s.n_vlans; t++)
			assert_int_equal(p.vlan_tci[t], s.vlan_tci[t]);
		assert_int_equal(p.l2_len, 14 + 4 * s.n_vlans);
		assert_int_equal(p.l3_len, v6 ? 40 : 20);
		assert_memory_equal(buf, s.eth_dst, 6);
		assert_memory_equal(buf + 6, s.eth_src, 6);

		/* the textbook checksum agrees with the builder's */
		{
			const uint8_t *ip = buf + p.l2_len, *u = ip + p.l3_len;
			size_t ulen = 8 + len;

			if (!v6) {
				assert_int_equal(model_fold(model_acc(0, ip, 20)), 0xffff);
				acc = model_acc(0, ip + 12, 8) + 17 + (uint32_t)ulen;
			} else {
				acc = model_acc(0, ip + 8, 32) + 17 + (uint32_t)ulen;
			}
			if (get_be16(u + 6) != 0)
				assert_int_equal(model_fold(model_acc(acc, u, ulen)), 0xffff);
			else
				assert_true(s.flags & RXL_L2L4_BUILD_NO_UDP_CSUM);
		}
	}
}

/* ---- hostile bytes ------------------------------------------------------------ */

static void test_mutated_frames_never_accept_outside_the_frame(void **state)
{
	(void)state;
	static uint8_t buf[FR_CAP + 64];
	struct rxl_l2l4_pkt p;
	struct fr f;
	unsigned results[RXL_L2L4_RESULT_COUNT] = {0};

	for (int iter = 0; iter < 100000; iter++) {
		size_t len;

		cases[rng_below(N_CASES)].make(&f);
		len = f.len;
		memcpy(buf, f.b, len);
		for (uint32_t m = 1 + rng_below(4); m--;) {
			switch (rng_below(4)) {
			case 0: /* flip a bit in the headers */
				if (len)
					buf[rng_below(len < 96 ? (uint32_t)len : 96)] ^=
						(uint8_t)(1u << rng_below(8));
				break;
			case 1: /* a random byte anywhere */
				if (len)
					buf[rng_below((uint32_t)len)] = (uint8_t)rng();
				break;
			case 2: /* cut */
				len = rng_below((uint32_t)len + 1);
				break;
			default: /* grow with garbage */
				if (len + 64 <= sizeof(buf)) {
					fill_random(buf + len, 64);
					len += rng_below(65);
				}
				break;
			}
		}
		/* parse_exact() checks the accepted payload lies inside */
		enum rxl_l2l4_result r0 = parse_exact(buf, len, 0, &p);
		enum rxl_l2l4_result r1 = parse_exact(buf, len, VERIFY_ALL, &p);

		results[r1]++;
		/* Verification only adds drops: an IPv4 header checksum before
		 * anything after it, a UDP checksum instead of an accept. */
		if (r1 != r0 && r1 != RXL_L2L4_DROP_IPV4_CHECKSUM &&
		    !(r0 == RXL_L2L4_ACCEPT_UDP && r1 == RXL_L2L4_DROP_UDP_CHECKSUM))
			fail_msg("verify changed %s into %s", rxl_l2l4_drop_name(r0),
				 rxl_l2l4_drop_name(r1));
	}
	assert_true(results[RXL_L2L4_ACCEPT_UDP] > 0);
	assert_true(results[RXL_L2L4_DROP_UDP_CHECKSUM] > 0);
}

/* ---- the seed corpus ----------------------------------------------------------- */

/* Write every named frame to @dir (the fuzz seed corpus). */
static int write_corpus(const char *dir)
{
	char path[512];
	struct fr f;

	for (size_t i = 0; i < N_CASES; i++) {
		FILE *fp;

		cases[i].make(&f);
		snprintf(path, sizeof(path), "%s/%s-%s", dir, rxl_l2l4_drop_name(cases[i].want),
			 cases[i].name);
		fp = fopen(path, "wb");
		if (!fp || fwrite(f.b, 1, f.len, fp) != f.len || fclose(fp) != 0) {
			fprintf(stderr, "cannot write %s\n", path);
			return 1;
		}
	}
	printf("wrote %zu seeds to %s\n", N_CASES, dir);
	return 0;
}

int main(void)
{
	const char *corpus = getenv("RXL_L2L4_CORPUS_OUT");
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ipv4_udp_is_accepted_with_addresses_ports_and_payload),
		cmocka_unit_test(test_one_and_two_vlan_tags_of_either_tpid_are_accepted),
		cmocka_unit_test(test_ipv4_options_are_skipped_for_every_header_length),
		cmocka_unit_test(test_ipv6_udp_is_accepted_with_zero_one_and_two_tags),
		cmocka_unit_test(test_ipv6_extension_headers_are_walked_to_udp),
		cmocka_unit_test(test_ethernet_padding_after_the_ip_length_is_not_payload),
		cmocka_unit_test(test_udp_length_shorter_than_ip_payload_bounds_the_payload),
		cmocka_unit_test(test_zero_length_udp_payload_is_accepted),
		cmocka_unit_test(test_checksum_verification_is_on_only_when_asked),
		cmocka_unit_test(test_ipv4_udp_checksum_zero_means_none_even_when_verifying),
		cmocka_unit_test(test_ipv6_udp_checksum_zero_is_dropped_even_without_verifying),
		cmocka_unit_test(test_checksum_computing_to_zero_is_sent_as_ffff_and_verifies),
		cmocka_unit_test(test_ipv4_header_checksum_matches_a_published_example),
		cmocka_unit_test(test_csum_add_in_even_chunks_equals_the_textbook_sum),
		cmocka_unit_test(test_arp_request_reports_sender_and_target),
		cmocka_unit_test(test_neighbour_solicitation_reports_target_and_source_mac),
		cmocka_unit_test(test_ipv4_fragments_report_id_offset_and_more_flag),
		cmocka_unit_test(test_ipv6_fragments_report_id_offset_and_more_flag),
		cmocka_unit_test(test_every_result_comes_from_its_named_frame),
		cmocka_unit_test(test_every_truncation_of_a_kept_frame_is_dropped),
		cmocka_unit_test(test_drop_names_are_distinct_snake_case_for_every_result),
		cmocka_unit_test(test_builder_writes_the_hand_crafted_bytes),
		cmocka_unit_test(test_builder_pads_to_the_ethernet_minimum_only_when_asked),
		cmocka_unit_test(test_builder_refuses_small_buffers_without_writing),
		cmocka_unit_test(test_builder_rejects_invalid_specs_and_oversize_payloads),
		cmocka_unit_test(test_builder_accepts_a_payload_already_in_place),
		cmocka_unit_test(test_random_frames_round_trip_through_build_and_parse),
		cmocka_unit_test(test_mutated_frames_never_accept_outside_the_frame),
	};

	if (corpus)
		return write_corpus(corpus);
	return cmocka_run_group_tests(tests, seed_rng, NULL);
}
