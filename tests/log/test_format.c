/* tests: the record batch format (log/format.c, common/rxl_bytes.h).
 * Single-threaded cmocka program.
 *
 * Expected bytes are derived by hand from Kafka's record batch v2
 * specification (kafka.apache.org/documentation/#recordbatch and
 * DefaultRecordBatch.java / DefaultRecord.java), never from the builder's
 * own output; CRCs come from a table-free bitwise CRC32C written here.
 * Hostile or truncated bytes are handed to the decoders in heap blocks of
 * exactly the bytes they may read, so under ASan any read past the end
 * fails the test; run under UBSan too (some tests probe signed overflow).
 *
 * RXL_TEST_SEED=<n> in the environment replays the random tests.
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

#include "rxl_bytes.h"
#include "rxl_format.h"

/* ---- independent helpers (deliberately not rxl_bytes.h) ------------------ */

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

static void put_be64(uint8_t *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (uint8_t)(v >> (56 - 8 * i));
}

/* CRC32C one bit at a time: reflected polynomial 0x82F63B78, initial value
 * and final xor 0xFFFFFFFF (the Castagnoli CRC Kafka's Crc32C computes). */
static uint32_t model_crc32c(const uint8_t *p, size_t len)
{
	uint32_t crc = 0xFFFFFFFFu;

	while (len--) {
		crc ^= *p++;
		for (int k = 0; k < 8; k++)
			crc = (crc >> 1) ^ (0x82F63B78u & (0u - (crc & 1u)));
	}
	return ~crc;
}

/* Recompute the crc field (offset 17) over [21, total), as a writer would. */
static void recrc(uint8_t *batch, size_t total)
{
	put_be32(batch + 17, model_crc32c(batch + 21, total - 21));
}

/* Heap copy of exactly n bytes: ASan reports any access past it. */
static uint8_t *exact_copy(const void *src, size_t n)
{
	uint8_t *p = malloc(n ? n : 1);

	assert_non_null(p);
	if (n)
		memcpy(p, src, n);
	return p;
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
	uint64_t seed = s ? strtoull(s, NULL, 0) : 0x5EEDF00DCAFEull;

	rng_state = seed ? seed : 1;
	print_message("RXL_TEST_SEED=%" PRIu64 "\n", seed);
	return 0;
}

/* ---- the hand-derived test vector --------------------------------------- */

#define VEC_BASE_OFFSET 0x0102030405060708ull
#define VEC_TS 1700000000000ll /* 0x0000018BCFE56800 */

/*
 * Two records, producer id 42, epoch 1, base sequence 7:
 *   record 0: key "k1", value "hello", timestamp VEC_TS, header ("h", "v")
 *   record 1: null key, empty value, timestamp VEC_TS + 5, no headers
 * Varints are zig-zag: n >= 0 encodes as 2n, n < 0 as -2n - 1, then 7 bits
 * a byte, least significant group first, high bit = "more bytes follow".
 * The crc bytes are left zero here and filled in by recrc().
 */
/* clang-format off */
static const uint8_t vec_bytes[86] = {
	/*  0 baseOffset           int64  0x0102030405060708 */
	0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08,
	/*  8 batchLength          int32  86 total - 12 = 74 */
	0x00, 0x00, 0x00, 0x4a,
	/* 12 partitionLeaderEpoch int32  0 */
	0x00, 0x00, 0x00, 0x00,
	/* 16 magic                int8   2 */
	0x02,
	/* 17 crc                  uint32 CRC32C of bytes [21, 86), computed below */
	0x00, 0x00, 0x00, 0x00,
	/* 21 attributes           int16  0: no compression, CreateTime, plain */
	0x00, 0x00,
	/* 23 lastOffsetDelta      int32  2 records - 1 */
	0x00, 0x00, 0x00, 0x01,
	/* 27 baseTimestamp        int64  1700000000000 */
	0x00, 0x00, 0x01, 0x8b, 0xcf, 0xe5, 0x68, 0x00,
	/* 35 maxTimestamp         int64  1700000000005 */
	0x00, 0x00, 0x01, 0x8b, 0xcf, 0xe5, 0x68, 0x05,
	/* 43 producerId           int64  42 */
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x2a,
	/* 51 producerEpoch        int16  1 */
	0x00, 0x01,
	/* 53 baseSequence         int32  7 */
	0x00, 0x00, 0x00, 0x07,
	/* 57 recordCount          int32  2 */
	0x00, 0x00, 0x00, 0x02,
	/* 61 record 0 */
	0x22,             /* length         varint  17 body bytes follow (zz 34) */
	0x00,             /* attributes     int8    0 */
	0x00,             /* timestampDelta varlong 0 */
	0x00,             /* offsetDelta    varint  0 */
	0x04,             /* keyLength      varint  2 (zz 4) */
	0x6b, 0x31,       /* key            "k1" */
	0x0a,             /* valueLength    varint  5 (zz 10) */
	0x68, 0x65, 0x6c, 0x6c, 0x6f, /* value "hello" */
	0x02,             /* headerCount    varint  1 (zz 2) */
	0x02,             /* headerKeyLength varint 1 */
	0x68,             /* headerKey      "h" */
	0x02,             /* headerValueLength varint 1 */
	0x76,             /* headerValue    "v" */
	/* 79 record 1 */
	0x0c,             /* length         varint  6 body bytes follow (zz 12) */
	0x00,             /* attributes     int8    0 */
	0x0a,             /* timestampDelta varlong 5 (zz 10) */
	0x02,             /* offsetDelta    varint  1 (zz 2) */
	0x01,             /* keyLength      varint  -1 = null key (zz 1) */
	0x00,             /* valueLength    varint  0 = empty value */
	0x00,             /* headerCount    varint  0 */
	/* 86 end */
};
/* clang-format on */

static uint32_t build_vector(uint8_t *buf, uint32_t cap)
{
	static const struct rxl_header hdr = {"h", 1, "v", 1};
	const struct rxl_record_in r0 = {
		.key = "k1",
		.key_len = 2,
		.value = "hello",
		.value_len = 5,
		.timestamp_ms = VEC_TS,
		.headers = &hdr,
		.n_headers = 1,
	};
	const struct rxl_record_in r1 = {
		.key = NULL,
		.key_len = -1,
		.value = "",
		.value_len = 0,
		.timestamp_ms = VEC_TS + 5,
		.headers = NULL,
		.n_headers = 0,
	};
	const struct rxl_producer prod = {.id = 42, .epoch = 1, .base_sequence = 7};
	struct rxl_batch_builder b;

	rxl_batch_begin(&b, buf, cap, VEC_BASE_OFFSET, &prod);
	assert_int_equal(rxl_batch_add(&b, &r0), 0);
	assert_int_equal(rxl_batch_add(&b, &r1), 0);
	return rxl_batch_finish(&b);
}

static void test_batch_matches_hand_derived_kafka_bytes(void **state)
{
	(void)state;
	uint8_t want[sizeof(vec_bytes)];
	uint8_t buf[256];

	memcpy(want, vec_bytes, sizeof(want));
	recrc(want, sizeof(want));
	/* The same value computed separately (docs/FORMAT.md quotes it). */
	static const uint8_t crc_be[4] = {0xf2, 0x3c, 0x59, 0x6e};

	assert_memory_equal(want + 17, crc_be, 4);

	memset(buf, 0xEE, sizeof(buf));
	uint32_t n = build_vector(buf, sizeof(buf));

	assert_int_equal(n, sizeof(want));
	for (size_t i = 0; i < sizeof(want); i++)
		if (buf[i] != want[i]) {
			print_message("first difference at byte %zu: built %02x, spec %02x\n", i,
				      buf[i], want[i]);
			break;
		}
	assert_memory_equal(buf, want, sizeof(want));
	/* Nothing written past the batch. */
	for (size_t i = n; i < sizeof(buf); i++)
		assert_int_equal(buf[i], 0xEE);
}

static void test_hand_derived_bytes_decode_to_the_records(void **state)
{
	(void)state;
	uint8_t *p = exact_copy(vec_bytes, sizeof(vec_bytes));
	struct rxl_batch_hdr h;
	enum rxl_batch_fault why = RXL_BF_OK;

	recrc(p, sizeof(vec_bytes));
	assert_int_equal(rxl_batch_check(p, sizeof(vec_bytes), VEC_BASE_OFFSET, 1 << 20, &h, &why),
			 sizeof(vec_bytes));
	assert_int_equal(why, RXL_BF_OK);
	assert_true(h.base_offset == VEC_BASE_OFFSET);
	assert_int_equal(h.length, 74);
	assert_int_equal(h.leader_epoch, 0);
	assert_int_equal(h.magic, 2);
	assert_int_equal(h.attributes, 0);
	assert_int_equal(h.last_offset_delta, 1);
	assert_true(h.base_timestamp == VEC_TS);
	assert_true(h.max_timestamp == VEC_TS + 5);
	assert_true(h.producer_id == 42);
	assert_int_equal(h.producer_epoch, 1);
	assert_int_equal(h.base_sequence, 7);
	assert_int_equal(h.count, 2);

	const uint8_t *pos = p + RXL_BATCH_HDR_LEN, *end = p + sizeof(vec_bytes);
	const uint8_t *it;
	struct rxl_record rec;
	struct rxl_header hd;

	assert_int_equal(rxl_record_decode(&pos, end, &h, &rec), 0);
	assert_ptr_equal(pos, p + 79);
	assert_true(rec.offset == VEC_BASE_OFFSET);
	assert_true(rec.timestamp_ms == VEC_TS);
	assert_int_equal(rec.key_len, 2);
	assert_memory_equal(rec.key, "k1", 2);
	assert_int_equal(rec.value_len, 5);
	assert_memory_equal(rec.value, "hello", 5);
	assert_int_equal(rec.n_headers, 1);
	assert_true(rec.producer_id == 42);
	assert_int_equal(rec.sequence, 7);
	it = rec.headers;
	assert_int_equal(rxl_header_next(&rec, &it, &hd), 1);
	assert_int_equal(hd.key_len, 1);
	assert_memory_equal(hd.key, "h", 1);
	assert_int_equal(hd.value_len, 1);
	assert_memory_equal(hd.value, "v", 1);
	assert_int_equal(rxl_header_next(&rec, &it, &hd), 0);

	assert_int_equal(rxl_record_decode(&pos, end, &h, &rec), 0);
	assert_ptr_equal(pos, end);
	assert_true(rec.offset == VEC_BASE_OFFSET + 1);
	assert_true(rec.timestamp_ms == VEC_TS + 5);
	assert_int_equal(rec.key_len, -1);
	assert_null(rec.key);
	assert_int_equal(rec.value_len, 0);
	assert_int_equal(rec.n_headers, 0);
	assert_int_equal(rec.sequence, 8);
	it = rec.headers;
	assert_int_equal(rxl_header_next(&rec, &it, &hd), 0);
	free(p);
}

static void test_batch_without_producer_writes_minus_one_fields(void **state)
{
	(void)state;
	uint8_t buf[128];
	struct rxl_batch_builder b;
	const struct rxl_record_in r = {.key_len = -1, .value_len = -1, .timestamp_ms = -1};

	rxl_batch_begin(&b, buf, sizeof(buf), 5, NULL);
	assert_int_equal(rxl_batch_add(&b, &r), 0);
	uint32_t n = rxl_batch_finish(&b);

	/* 61 + record: length, attr 00, tsDelta 00, offDelta 00, key -1 = 01,
	 * value -1 = 01, headerCount 00: 6 body bytes, length zz 12 = 0c. */
	static const uint8_t rec[] = {0x0c, 0x00, 0x00, 0x00, 0x01, 0x01, 0x00};

	assert_int_equal(n, RXL_BATCH_HDR_LEN + sizeof(rec));
	assert_memory_equal(buf + RXL_BATCH_HDR_LEN, rec, sizeof(rec));
	/* timestamps -1 (Kafka's NO_TIMESTAMP stored as given) */
	for (int i = 27; i < 43; i++)
		assert_int_equal(buf[i], 0xff);
	/* producerId -1, producerEpoch -1, baseSequence -1 */
	for (int i = 43; i < 57; i++)
		assert_int_equal(buf[i], 0xff);
	static const uint8_t count1[] = {0, 0, 0, 1};
	static const uint8_t delta0[] = {0, 0, 0, 0};

	assert_memory_equal(buf + 57, count1, 4);
	assert_memory_equal(buf + 23, delta0, 4);

	struct rxl_batch_hdr h;
	enum rxl_batch_fault why;
	struct rxl_record out;
	const uint8_t *pos = buf + RXL_BATCH_HDR_LEN;

	assert_int_equal(rxl_batch_check(buf, n, 5, n, &h, &why), n);
	assert_int_equal(rxl_record_decode(&pos, buf + n, &h, &out), 0);
	assert_true(out.producer_id == -1);
	assert_int_equal(out.sequence, -1);
	assert_null(out.key);
	assert_null(out.value);
	assert_int_equal(out.value_len, -1);
}

/* ---- varints ------------------------------------------------------------- */

struct known_varint {
	int64_t v;
	uint8_t bytes[10];
	unsigned len;
};

/* Zig-zag then LEB128, worked by hand: zz(n) = 2n for n >= 0, -2n-1 else. */
/* clang-format off */
static const struct known_varint known[] = {
	{ 0, { 0x00 }, 1 },
	{ -1, { 0x01 }, 1 },
	{ 1, { 0x02 }, 1 },
	{ -2, { 0x03 }, 1 },
	{ 63, { 0x7e }, 1 },
	{ -64, { 0x7f }, 1 },
	{ 64, { 0x80, 0x01 }, 2 },  /* zz 128 = 0b1_0000000 */
	{ -65, { 0x81, 0x01 }, 2 }, /* zz 129 */
	{ 300, { 0xd8, 0x04 }, 2 }, /* zz 600 = 4 * 128 + 88 (0x58) */
	{ 8191, { 0xfe, 0x7f }, 2 },
	{ 8192, { 0x80, 0x80, 0x01 }, 3 },
	{ INT32_MAX, { 0xfe, 0xff, 0xff, 0xff, 0x0f }, 5 }, /* zz 0xFFFFFFFE */
	{ INT32_MIN, { 0xff, 0xff, 0xff, 0xff, 0x0f }, 5 }, /* zz 0xFFFFFFFF */
	{ (int64_t)INT32_MAX + 1, { 0x80, 0x80, 0x80, 0x80, 0x10 }, 5 }, /* zz 2^32 */
	{ INT64_MAX, { 0xfe, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01 }, 10 },
	{ INT64_MIN, { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01 }, 10 },
};
/* clang-format on */

static void test_varint_known_encodings(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++) {
		const struct known_varint *k = &known[i];
		uint8_t out[16];
		int64_t v64 = 12345;

		memset(out, 0xEE, sizeof(out));
		unsigned n = rxl_varlong_put(out, k->v);

		if (n != k->len || memcmp(out, k->bytes, k->len) != 0)
			print_message("encoding of %" PRId64 " differs\n", k->v);
		assert_int_equal(rxl_varlong_len(k->v), k->len);
		assert_int_equal(n, k->len);
		assert_memory_equal(out, k->bytes, k->len);
		assert_int_equal(out[k->len], 0xEE);

		uint8_t *p = exact_copy(k->bytes, k->len);

		assert_int_equal(rxl_varlong_get(p, p + k->len, &v64), k->len);
		assert_true(v64 == k->v);
		if (k->v >= INT32_MIN && k->v <= INT32_MAX) {
			int32_t v32 = 12345;

			assert_int_equal(rxl_varint_get(p, p + k->len, &v32), k->len);
			assert_int_equal(v32, (int32_t)k->v);
		} else {
			int32_t v32 = 12345;

			/* Does not fit an int32: the varint reader refuses it. */
			assert_int_equal(rxl_varint_get(p, p + k->len, &v32), 0);
		}
		free(p);
	}
}

static void check_round_trip(int64_t v)
{
	uint8_t buf[10];
	unsigned n = rxl_varlong_put(buf, v);
	uint8_t *p = exact_copy(buf, n);
	int64_t back;

	assert_in_range(n, 1, 10);
	assert_int_equal(n, rxl_varlong_len(v));
	assert_int_equal(rxl_varlong_get(p, p + n, &back), n);
	assert_true(back == v);
	if (v >= INT32_MIN && v <= INT32_MAX) {
		int32_t b32;

		assert_in_range(n, 1, 5);
		assert_int_equal(rxl_varint_get(p, p + n, &b32), n);
		assert_int_equal(b32, (int32_t)v);
	}
	free(p);
}

static void test_varint_zigzag_round_trips_edge_values(void **state)
{
	(void)state;
	/* clang-format off */
	static const int64_t edges[] = {
		0, -1, 1, 63, -64, 64, -65, 127, 128, -128, 255, 256,
		INT16_MAX, INT16_MIN, INT32_MAX, INT32_MIN, (int64_t)INT32_MAX + 1,
		(int64_t)INT32_MIN - 1, UINT32_MAX, INT64_MAX, INT64_MIN, INT64_MAX - 1,
		INT64_MIN + 1,
	};
	/* clang-format on */

	for (size_t i = 0; i < sizeof(edges) / sizeof(edges[0]); i++)
		check_round_trip(edges[i]);
	/* Every power of two and its neighbours, both signs. */
	for (int s = 0; s < 63; s++) {
		int64_t p2 = (int64_t)1 << s;

		check_round_trip(p2);
		check_round_trip(p2 - 1);
		check_round_trip(p2 + 1);
		check_round_trip(-p2);
		check_round_trip(-p2 - 1);
		check_round_trip(-p2 + 1);
	}
	for (int i = 0; i < 20000; i++)
		check_round_trip((int64_t)rng() >> rng_below(64));
}

static void test_varint_rejects_truncated_input(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++) {
		const struct known_varint *k = &known[i];

		/* Every strict prefix ends inside the encoding. */
		for (unsigned cut = 0; cut < k->len; cut++) {
			uint8_t *p = exact_copy(k->bytes, cut);
			int64_t v64;
			int32_t v32;

			assert_int_equal(rxl_varlong_get(p, p + cut, &v64), 0);
			assert_int_equal(rxl_varint_get(p, p + cut, &v32), 0);
			free(p);
		}
	}
	/* A lone continuation byte. */
	uint8_t *p = exact_copy("\x80", 1);
	int64_t v64;
	int32_t v32;

	assert_int_equal(rxl_varlong_get(p, p + 1, &v64), 0);
	assert_int_equal(rxl_varint_get(p, p + 1, &v32), 0);
	free(p);
}

static void test_varlong_rejects_more_than_ten_bytes(void **state)
{
	(void)state;
	/* Ten continuation bytes then a terminator: 11 bytes, one too many. */
	uint8_t eleven[11];
	int64_t v;

	memset(eleven, 0x80, 10);
	eleven[10] = 0x00;
	uint8_t *p = exact_copy(eleven, 11);

	assert_int_equal(rxl_varlong_get(p, p + 11, &v), 0);
	free(p);

	/* Ten continuation bytes and nothing else. */
	p = exact_copy(eleven, 10);
	assert_int_equal(rxl_varlong_get(p, p + 10, &v), 0);
	free(p);

	/* A long run of 0xFF must not be read beyond ten bytes. */
	uint8_t ff[64];

	memset(ff, 0xff, sizeof(ff));
	p = exact_copy(ff, sizeof(ff));
	assert_int_equal(rxl_varlong_get(p, p + sizeof(ff), &v), 0);
	free(p);
}

static void test_varint_rejects_more_than_five_bytes_or_int32_overflow(void **state)
{
	(void)state;
	static const struct {
		uint8_t b[8];
		unsigned len;
		const char *why;
	} bad[] = {
		{{0x80, 0x80, 0x80, 0x80, 0x80, 0x00}, 6, "six bytes (non-canonical zero)"},
		{{0xff, 0xff, 0xff, 0xff, 0xff, 0x01}, 6, "six bytes"},
		{{0x80, 0x80, 0x80, 0x80, 0x10}, 5, "2^32: bit 32 set"},
		{{0xff, 0xff, 0xff, 0xff, 0x1f}, 5, "33 bits"},
		{{0xfe, 0xff, 0xff, 0xff, 0x7f}, 5, "35 bits"},
		{{0xff, 0xff, 0xff, 0xff, 0x8f, 0x00}, 6, "fifth byte continues"},
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		uint8_t *p = exact_copy(bad[i].b, bad[i].len);
		int32_t v = 777;
		unsigned n = rxl_varint_get(p, p + bad[i].len, &v);

		if (n != 0)
			print_message("accepted: %s\n", bad[i].why);
		assert_int_equal(n, 0);
		assert_int_equal(v, 777); /* output untouched on failure */
		free(p);
	}
	/* The largest five-byte varint that fits: 0x0f in the fifth byte. */
	uint8_t *p = exact_copy("\xff\xff\xff\xff\x0f", 5);
	int32_t v;

	assert_int_equal(rxl_varint_get(p, p + 5, &v), 5);
	assert_int_equal(v, INT32_MIN);
	free(p);
}

/* ---- random round trip --------------------------------------------------- */

struct model_rec {
	struct rxl_record_in in;
	struct rxl_header hdrs[5];
	uint8_t *key, *value;
	uint8_t *hk[5], *hv[5];
};

static int32_t random_len(uint32_t large)
{
	switch (rng_below(6)) {
	case 0:
		return -1; /* null */
	case 1:
		return 0; /* empty */
	case 2:
		return (int32_t)rng_below(large) + 1; /* large */
	default:
		return (int32_t)rng_below(40) + 1;
	}
}

static uint8_t *random_bytes(int32_t len)
{
	if (len < 0)
		return NULL;
	uint8_t *p = malloc((size_t)len + 1);

	assert_non_null(p);
	fill_random(p, (size_t)len);
	return p;
}

static void make_record(struct model_rec *m, int64_t ts)
{
	memset(m, 0, sizeof(*m));
	m->in.key_len = random_len(3000);
	m->in.value_len = random_len(20000);
	m->key = random_bytes(m->in.key_len);
	m->value = random_bytes(m->in.value_len);
	m->in.key = m->key;
	m->in.value = m->value;
	m->in.timestamp_ms = ts;
	m->in.n_headers = rng_below(6);
	for (uint32_t i = 0; i < m->in.n_headers; i++) {
		int32_t kl = (int32_t)rng_below(12); /* keys are never null */
		int32_t vl = random_len(300);

		m->hk[i] = random_bytes(kl);
		m->hv[i] = random_bytes(vl);
		m->hdrs[i] = (struct rxl_header){m->hk[i], kl, m->hv[i], vl};
	}
	m->in.headers = m->in.n_headers ? m->hdrs : NULL;
}

static void free_record(struct model_rec *m)
{
	free(m->key);
	free(m->value);
	for (int i = 0; i < 5; i++) {
		free(m->hk[i]);
		free(m->hv[i]);
	}
}

static void assert_bytes(const uint8_t *got, int32_t got_len, const void *want, int32_t want_len)
{
	assert_int_equal(got_len, want_len);
	if (want_len < 0)
		assert_null(got);
	else if (want_len > 0)
		assert_memory_equal(got, want, (size_t)want_len);
}

static void check_decoded(const struct rxl_record *rec, const struct model_rec *m, uint64_t offset,
			  int64_t producer_id, int32_t sequence)
{
	assert_true(rec->offset == offset);
	assert_true(rec->timestamp_ms == m->in.timestamp_ms);
	assert_bytes(rec->key, rec->key_len, m->in.key, m->in.key_len);
	assert_bytes(rec->value, rec->value_len, m->in.value, m->in.value_len);
	assert_int_equal(rec->n_headers, m->in.n_headers);
	assert_true(rec->producer_id == producer_id);
	assert_int_equal(rec->sequence, sequence);

	const uint8_t *it = rec->headers;
	struct rxl_header h;
	uint32_t n = 0;
	int rc;

	while ((rc = rxl_header_next(rec, &it, &h)) == 1) {
		assert_true(n < m->in.n_headers);
		assert_bytes(h.key, h.key_len, m->hdrs[n].key, m->hdrs[n].key_len);
		assert_bytes(h.value, h.value_len, m->hdrs[n].value, m->hdrs[n].value_len);
		n++;
	}
	assert_int_equal(rc, 0);
	assert_int_equal(n, m->in.n_headers);
}

enum { MAX_RECS = 64 };

static void test_random_records_round_trip_through_batch(void **state)
{
	(void)state;
	const uint32_t cap = 8u << 20;
	uint8_t *buf = malloc(cap);
	struct model_rec *m = calloc(MAX_RECS, sizeof(*m));

	assert_non_null(buf);
	assert_non_null(m);
	for (int iter = 0; iter < 300; iter++) {
		struct rxl_producer prod = {
			.id = (int64_t)(rng() >> 1),
			.epoch = (int16_t)rng_below(32768),
			.base_sequence = (int32_t)rng_below(1u << 30),
		};
		bool has_prod = rng_below(4) != 0;
		uint64_t base = rng_below(3) == 0 ? 0 : rng() >> (1 + rng_below(63));
		int64_t ts0 = 1700000000000ll + (int64_t)rng_below(1u << 30) - (1 << 29);
		int n = 1 + (int)rng_below(MAX_RECS);
		struct rxl_batch_builder b;
		int64_t max_ts = INT64_MIN;
		uint32_t used = RXL_BATCH_HDR_LEN;

		rxl_batch_begin(&b, buf, cap, base, has_prod ? &prod : NULL);
		for (int i = 0; i < n; i++) {
			/* Deltas of both signs, so max != last and some are negative. */
			int64_t ts = ts0 + (int64_t)rng_below(2000001) - 1000000;

			if (rng_below(10) == 0)
				ts = ts0;
			make_record(&m[i], ts);
			if (i == 0 && iter % 50 == 0) {
				/* >= 1 MiB: the length varints take 4 bytes. */
				free(m[i].value);
				m[i].in.value_len = (1 << 20) + (int32_t)rng_below(1u << 19);
				m[i].value = random_bytes(m[i].in.value_len);
				m[i].in.value = m[i].value;
			}
			uint32_t need = rxl_record_encoded_len(&m[i].in, i ? ts0 : ts, i);

			assert_int_equal(rxl_batch_add(&b, &m[i].in), 0);
			used += need;
			assert_int_equal(b.len, used); /* encoded_len is what add used */
			if (i == 0)
				ts0 = ts;
			if (ts > max_ts)
				max_ts = ts;
		}
		uint32_t total = rxl_batch_finish(&b);
		uint8_t *p = exact_copy(buf, total);
		struct rxl_batch_hdr h;
		enum rxl_batch_fault why = RXL_BF_CRC;

		assert_int_equal(total, used);
		assert_int_equal(rxl_batch_check(p, total, base, total, &h, &why), total);
		assert_int_equal(why, RXL_BF_OK);
		assert_int_equal(model_crc32c(p + 21, total - 21), h.crc);
		assert_int_equal(h.count, n);
		assert_int_equal(h.last_offset_delta, n - 1);
		assert_true(h.base_timestamp == ts0);
		assert_true(h.max_timestamp == max_ts);
		assert_true(h.producer_id == (has_prod ? prod.id : -1));
		assert_int_equal(h.producer_epoch, has_prod ? prod.epoch : -1);
		assert_int_equal(h.base_sequence, has_prod ? prod.base_sequence : -1);

		const uint8_t *pos = p + RXL_BATCH_HDR_LEN, *end = p + total;

		for (int i = 0; i < n; i++) {
			struct rxl_record rec;

			assert_int_equal(rxl_record_decode(&pos, end, &h, &rec), 0);
			check_decoded(&rec, &m[i], base + (uint64_t)i, has_prod ? prod.id : -1,
				      has_prod ? prod.base_sequence + i : -1);
		}
		assert_ptr_equal(pos, end);
		free(p);
		for (int i = 0; i < n; i++)
			free_record(&m[i]);
	}
	free(m);
	free(buf);
}

/* Every key and value length from null to past the short-copy sizes
 * (copy_short's 4/8/16/32-byte steps and its 256-byte memcpy cut-over),
 * with and without a header (the two encoding paths): each record comes
 * back byte for byte, and rxl_record_encoded_len() agrees with the bytes
 * used. A copy that reads or writes one byte outside its span shows here
 * (and under ASan). */
static void test_every_short_length_round_trips(void **state)
{
	(void)state;
	enum { MAXLEN = 300 };
	const uint32_t cap = 4u << 20;
	uint8_t *buf = malloc(cap);
	uint8_t *src = random_bytes(MAXLEN);
	const struct rxl_header hd = {.key = "h", .key_len = 1, .value = "v", .value_len = 1};

	assert_non_null(buf);
	for (uint32_t nh = 0; nh < 2; nh++) {
		for (int32_t len = -1; len <= MAXLEN; len++) {
			struct rxl_batch_builder b;
			/* Key and value of every length, each in an allocation of
			 * exactly that size, so ASan sees a read past it. */
			uint8_t *k = len < 0 ? NULL : malloc((size_t)len + (len == 0));
			uint8_t *v = len < 0 ? NULL : malloc((size_t)len + (len == 0));

			if (len > 0) {
				fill_random(k, (size_t)len);
				fill_random(v, (size_t)len);
			}
			const struct rxl_record_in recs[2] = {
				{.key = k,
				 .key_len = len,
				 .value = src,
				 .value_len = 64,
				 .timestamp_ms = 1000,
				 .headers = &hd,
				 .n_headers = nh},
				{.key = src,
				 .key_len = 8,
				 .value = v,
				 .value_len = len,
				 .timestamp_ms = 999,
				 .headers = &hd,
				 .n_headers = nh},
			};
			uint32_t used = RXL_BATCH_HDR_LEN;

			rxl_batch_begin(&b, buf, cap, 7, NULL);
			memset(buf + RXL_BATCH_HDR_LEN, 0xa5, 4096);
			for (int i = 0; i < 2; i++) {
				used += rxl_record_encoded_len(&recs[i], 1000, i);
				assert_int_equal(rxl_batch_add(&b, &recs[i]), 0);
				assert_int_equal(b.len, used);
			}
			assert_int_equal(buf[used], 0xa5); /* nothing written past the end */
			uint32_t total = rxl_batch_finish(&b);
			struct rxl_batch_hdr h;
			enum rxl_batch_fault why;

			assert_int_equal(rxl_batch_check(buf, total, 7, total, &h, &why), total);
			const uint8_t *pos = buf + RXL_BATCH_HDR_LEN;

			for (int i = 0; i < 2; i++) {
				struct rxl_record rec;

				assert_int_equal(rxl_record_decode(&pos, buf + total, &h, &rec), 0);
				assert_true(rec.timestamp_ms == recs[i].timestamp_ms);
				assert_bytes(rec.key, rec.key_len, recs[i].key, recs[i].key_len);
				assert_bytes(rec.value, rec.value_len, recs[i].value,
					     recs[i].value_len);
				assert_int_equal(rec.n_headers, nh);
				if (nh) {
					const uint8_t *it = rec.headers;
					struct rxl_header got;

					assert_int_equal(rxl_header_next(&rec, &it, &got), 1);
					assert_bytes(got.key, got.key_len, "h", 1);
					assert_bytes(got.value, got.value_len, "v", 1);
				}
			}
			assert_ptr_equal(pos, buf + total);
			free(k);
			free(v);
		}
	}
	free(src);
	free(buf);
}

/* An encoder written from Kafka's record format alone (no library code):
 * zig-zag LEB128 by the definition, fields in the spec's order. */
static size_t ref_varlong(uint8_t *p, int64_t v)
{
	uint64_t u = v < 0 ? ~((uint64_t)v << 1) : (uint64_t)v << 1;
	size_t n = 0;

	do {
		uint8_t byte = (uint8_t)(u & 0x7f);

		u >>= 7;
		p[n++] = (uint8_t)(byte | (u ? 0x80 : 0));
	} while (u);
	return n;
}

static size_t ref_bytes(uint8_t *p, const void *src, int32_t len)
{
	size_t n = ref_varlong(p, len);

	if (len > 0)
		memcpy(p + n, src, (size_t)len);
	return n + (len > 0 ? (size_t)len : 0);
}

static size_t ref_record(uint8_t *out, const struct rxl_record_in *r, int64_t ts_delta,
			 int32_t offset_delta)
{
	static uint8_t body[1 << 16];
	size_t n = 0;

	body[n++] = 0; /* attributes */
	n += ref_varlong(body + n, ts_delta);
	n += ref_varlong(body + n, offset_delta);
	n += ref_bytes(body + n, r->key, r->key_len);
	n += ref_bytes(body + n, r->value, r->value_len);
	n += ref_varlong(body + n, r->n_headers);
	for (uint32_t i = 0; i < r->n_headers; i++) {
		n += ref_bytes(body + n, r->headers[i].key, r->headers[i].key_len);
		n += ref_bytes(body + n, r->headers[i].value, r->headers[i].value_len);
	}
	size_t ll = ref_varlong(out, (int64_t)n);

	memcpy(out + ll, body, n);
	return ll + n;
}

/* rxl_batch_add() writes, record by record, exactly what the reference
 * encoder does, across every varint width boundary: lengths -1, 0, 63/64
 * and 8191/8192 (1 -> 2 -> 3 bytes), timestamp deltas of both signs at the
 * same edges and far beyond, offset deltas past 63/64 and 8191/8192, with
 * zero, one and two headers (both encoding paths). A round trip alone
 * would not see an over-long varint: the decoder accepts those. */
static void test_records_match_a_reference_encoder(void **state)
{
	(void)state;
	static const int32_t lens[] = {-1, 0,  1,  3,	4,   7,	  8,   15,  16,	 31,   32,  33,
				       63, 64, 65, 127, 128, 255, 256, 257, 300, 8191, 8192};
	static const int64_t deltas[] = {0,
					 1,
					 -1,
					 63,
					 -64,
					 64,
					 -65,
					 8191,
					 -8192,
					 8192,
					 -8193,
					 1 << 20,
					 -(1 << 20),
					 INT32_MAX,
					 (int64_t)1 << 40,
					 -((int64_t)1 << 40)};
	enum { NL = sizeof(lens) / sizeof(lens[0]), ND = sizeof(deltas) / sizeof(deltas[0]) };
	enum { N = 8300 }; /* offset deltas past 8191/8192 */
	const struct rxl_header hd[2] = {
		{.key = "severity", .key_len = 8, .value = "6", .value_len = 1},
		{.key = "empty", .key_len = 5, .value = NULL, .value_len = -1},
	};
	const uint32_t cap = 64u << 20;
	uint8_t *buf = malloc(cap), *ref = malloc(1 << 17), *data = random_bytes(8192);
	uint8_t *small = malloc(RXL_BATCH_HDR_LEN + (1 << 15));
	const int64_t base = 1700000000000ll;
	struct rxl_batch_builder b;

	assert_non_null(buf);
	assert_non_null(ref);
	assert_non_null(small);
	rxl_batch_begin(&b, buf, cap, 0, NULL);
	for (uint32_t i = 0; i < N; i++) {
		/* Keys short (the value carries the large lengths), so the batch
		 * stays small; every length meets every header count. */
		int32_t kl = lens[(i * 7) % (NL - 2)], vl = lens[i % NL];
		const struct rxl_record_in r = {
			.key = kl >= 0 ? data : NULL,
			.key_len = kl,
			.value = vl >= 0 ? data + 8192 - (vl > 0 ? vl : 0) : NULL,
			.value_len = vl,
			.timestamp_ms = i == 0 ? base : base + deltas[i % ND],
			.headers = hd,
			.n_headers = (i / NL) % 3,
		};
		uint32_t at = b.len;
		size_t want = ref_record(ref, &r, r.timestamp_ms - base, (int32_t)i);

		assert_int_equal(rxl_batch_add(&b, &r), 0);
		assert_int_equal(b.len - at, want);
		assert_memory_equal(buf + at, ref, want);

		/* The same record alone in a batch of exactly its size, then
		 * one byte short: each path's capacity check at its edge (the
		 * general path then sizes every field first). */
		struct rxl_batch_builder e;
		size_t alone = ref_record(ref, &r, 0, 0);

		rxl_batch_begin(&e, small, (uint32_t)(RXL_BATCH_HDR_LEN + alone), 0, NULL);
		assert_int_equal(rxl_batch_add(&e, &r), 0);
		assert_memory_equal(small + RXL_BATCH_HDR_LEN, ref, alone);
		rxl_batch_begin(&e, small, (uint32_t)(RXL_BATCH_HDR_LEN + alone - 1), 0, NULL);
		assert_int_equal(rxl_batch_add(&e, &r), -ENOSPC);
		assert_int_equal(e.len, RXL_BATCH_HDR_LEN);
		assert_int_equal(e.count, 0);
	}
	free(small);
	free(data);
	free(ref);
	free(buf);
}

/* Timestamps at the ends of int64 (delta = ts - base overflows int64 when
 * computed naively) still come back exactly. In Kafka (Java) the delta
 * wraps; in C the builder and decoder must not rely on signed overflow:
 * this test is meant to run under UBSan as well. */
static void test_extreme_timestamps_round_trip(void **state)
{
	(void)state;
	static const int64_t ts[] = {INT64_MIN, INT64_MAX, 0, -1, INT64_MIN + 1, 1};
	uint8_t buf[512];
	struct rxl_batch_builder b;
	struct rxl_record_in r[6];
	int added = 0;

	rxl_batch_begin(&b, buf, sizeof(buf), 0, NULL);
	for (int i = 0; i < 6; i++) {
		r[i] = (struct rxl_record_in){
			.key_len = -1, .value_len = -1, .timestamp_ms = ts[i]};
		int rc = rxl_batch_add(&b, &r[i]);

		/* Refusing an unrepresentable delta is acceptable; corrupting it is not. */
		assert_true(rc == 0 || rc == -EINVAL);
		if (rc == 0)
			added++;
		else
			break;
	}
	uint32_t total = rxl_batch_finish(&b);
	struct rxl_batch_hdr h;
	enum rxl_batch_fault why;
	const uint8_t *pos = buf + RXL_BATCH_HDR_LEN;

	assert_int_equal(rxl_batch_check(buf, total, 0, total, &h, &why), total);
	for (int i = 0; i < added; i++) {
		struct rxl_record rec;

		assert_int_equal(rxl_record_decode(&pos, buf + total, &h, &rec), 0);
		assert_true(rec.timestamp_ms == ts[i]);
	}
}

/* Kafka's DefaultRecordBatch.incrementSequence(): sequence numbers wrap from
 * INT32_MAX to 0, so record i of a batch has sequence
 * (baseSequence + i) mod 2^31. */
static void test_record_sequence_wraps_past_int32_max_like_kafka(void **state)
{
	(void)state;
	uint8_t buf[256];
	struct rxl_batch_builder b;
	const struct rxl_producer prod = {.id = 9, .epoch = 0, .base_sequence = INT32_MAX - 1};
	const struct rxl_record_in r = {.key_len = -1, .value_len = 0, .value = ""};
	static const int32_t want[] = {INT32_MAX - 1, INT32_MAX, 0, 1};

	rxl_batch_begin(&b, buf, sizeof(buf), 0, &prod);
	for (int i = 0; i < 4; i++)
		assert_int_equal(rxl_batch_add(&b, &r), 0);
	uint32_t total = rxl_batch_finish(&b);
	struct rxl_batch_hdr h;
	enum rxl_batch_fault why;
	const uint8_t *pos = buf + RXL_BATCH_HDR_LEN;

	assert_int_equal(rxl_batch_check(buf, total, 0, total, &h, &why), total);
	for (int i = 0; i < 4; i++) {
		struct rxl_record rec;

		assert_int_equal(rxl_record_decode(&pos, buf + total, &h, &rec), 0);
		if (rec.sequence != want[i])
			print_message("record %d: sequence %" PRId32 ", Kafka says %" PRId32 "\n",
				      i, rec.sequence, want[i]);
		assert_int_equal(rec.sequence, want[i]);
	}
}

/* ---- rule V -------------------------------------------------------------- */

/* A small valid batch (the vector) in an exact heap block, plus @pad bytes
 * of zeros after it (a preallocated segment). */
static uint8_t *vector_batch(size_t pad)
{
	uint8_t *p = calloc(1, sizeof(vec_bytes) + pad);

	assert_non_null(p);
	memcpy(p, vec_bytes, sizeof(vec_bytes));
	recrc(p, sizeof(vec_bytes));
	return p;
}

static void test_all_zero_header_is_invalid_length(void **state)
{
	(void)state;
	uint8_t *p = calloc(1, 4096);
	enum rxl_batch_fault why = RXL_BF_OK;

	assert_non_null(p);
	assert_int_equal(rxl_batch_check(p, RXL_BATCH_HDR_LEN, UINT64_MAX, 1 << 30, NULL, &why), 0);
	assert_int_equal(why, RXL_BF_LENGTH);
	why = RXL_BF_OK;
	assert_int_equal(rxl_batch_check(p, 4096, 0, 1 << 30, NULL, &why), 0);
	assert_int_equal(why, RXL_BF_LENGTH);
	free(p);
}

static void test_all_ff_header_is_invalid_length(void **state)
{
	(void)state;
	uint8_t *p = malloc(4096);
	enum rxl_batch_fault why = RXL_BF_OK;

	assert_non_null(p);
	memset(p, 0xff, 4096);
	assert_int_equal(rxl_batch_check(p, RXL_BATCH_HDR_LEN, UINT64_MAX, 1 << 30, NULL, &why), 0);
	assert_int_equal(why, RXL_BF_LENGTH);
	why = RXL_BF_OK;
	assert_int_equal(rxl_batch_check(p, 4096, UINT64_MAX, UINT64_MAX, NULL, &why), 0);
	assert_int_equal(why, RXL_BF_LENGTH);
	free(p);
}

static void test_batch_length_outside_limits_is_invalid_length(void **state)
{
	(void)state;
	const size_t total = sizeof(vec_bytes);
	uint8_t *p = vector_batch(0);
	enum rxl_batch_fault why;

	/* The valid batch passes with max_len == its size, fails with one less. */
	assert_int_equal(rxl_batch_check(p, total, VEC_BASE_OFFSET, total, NULL, &why), total);
	assert_int_equal(rxl_batch_check(p, total, VEC_BASE_OFFSET, total - 1, NULL, &why), 0);
	assert_int_equal(why, RXL_BF_LENGTH);

	static const uint32_t bad[] = {0, 1, 48, 0x80000000u, 0xffffffffu, 0x7fffffffu};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		put_be32(p + 8, bad[i]);
		why = RXL_BF_OK;
		assert_int_equal(rxl_batch_check(p, total, UINT64_MAX, 1ull << 40, NULL, &why), 0);
		if (bad[i] == 0x7fffffffu)
			assert_int_equal(why, RXL_BF_SHORT); /* in range, but not there */
		else
			assert_int_equal(why, RXL_BF_LENGTH);
	}
	free(p);
}

/* Every bit of a batch is protected, except the 32 bits of
 * partitionLeaderEpoch (bytes 12..15): Kafka leaves it out of the CRC so a
 * broker can rewrite it, and rule V does not constrain it (see FORMAT.md).
 * Run with the batch alone, and followed by preallocated zeros. */
static void test_any_single_bit_flip_invalidates_batch(void **state)
{
	(void)state;
	const size_t total = sizeof(vec_bytes);

	for (size_t pad = 0; pad <= 64; pad += 64) {
		uint8_t *p = vector_batch(pad);

		for (size_t bit = 0; bit < total * 8; bit++) {
			size_t byte = bit / 8;
			enum rxl_batch_fault why = RXL_BF_OK;

			if (byte >= 12 && byte < 16)
				continue;
			p[byte] ^= (uint8_t)(1u << (bit % 8));
			uint32_t n = rxl_batch_check(p, total + pad, VEC_BASE_OFFSET, 1 << 30, NULL,
						     &why);

			if (n != 0)
				print_message("flip of byte %zu bit %zu accepted (pad %zu)\n", byte,
					      bit % 8, pad);
			assert_int_equal(n, 0);
			assert_int_not_equal(why, RXL_BF_OK);
			if (byte < 8)
				assert_int_equal(why, RXL_BF_OFFSET);
			else if (byte == 16)
				assert_int_equal(why, RXL_BF_MAGIC);
			else if (byte >= 17)
				assert_int_equal(why, RXL_BF_CRC);
			p[byte] ^= (uint8_t)(1u << (bit % 8));
		}
		/* Restored: valid again (so the loop really tested a valid batch). */
		assert_int_equal(rxl_batch_check(p, total + pad, VEC_BASE_OFFSET, 1 << 30, NULL,
						 &(enum rxl_batch_fault){0}),
				 total);
		free(p);
	}
}

static void test_truncated_batch_is_short_at_every_length(void **state)
{
	(void)state;
	const size_t total = sizeof(vec_bytes);

	for (size_t avail = 0; avail < total; avail++) {
		uint8_t *p = exact_copy(vec_bytes, avail); /* ASan: nothing past avail */
		enum rxl_batch_fault why = RXL_BF_OK;

		assert_int_equal(rxl_batch_check(p, avail, VEC_BASE_OFFSET, 1 << 30, NULL, &why),
				 0);
		assert_int_equal(why, RXL_BF_SHORT);
		free(p);
	}
}

static void test_wrong_expected_base_is_offset_fault(void **state)
{
	(void)state;
	const size_t total = sizeof(vec_bytes);
	uint8_t *p = vector_batch(0);
	enum rxl_batch_fault why;

	assert_int_equal(rxl_batch_check(p, total, VEC_BASE_OFFSET + 1, 1 << 30, NULL, &why), 0);
	assert_int_equal(why, RXL_BF_OFFSET);
	assert_int_equal(rxl_batch_check(p, total, VEC_BASE_OFFSET - 1, 1 << 30, NULL, &why), 0);
	assert_int_equal(why, RXL_BF_OFFSET);
	assert_int_equal(rxl_batch_check(p, total, 0, 1 << 30, NULL, &why), 0);
	assert_int_equal(why, RXL_BF_OFFSET);
	/* UINT64_MAX: any base accepted. */
	assert_int_equal(rxl_batch_check(p, total, UINT64_MAX, 1 << 30, NULL, &why), total);
	assert_int_equal(why, RXL_BF_OK);
	free(p);
}

static void test_compressed_transactional_or_control_batch_is_attributes_fault(void **state)
{
	(void)state;
	const size_t total = sizeof(vec_bytes);
	/* gzip, snappy, lz4, zstd, and the unassigned codecs 5..7;
	 * transactional (bit 4); control (bit 5); combinations. */
	static const uint16_t attrs[] = {1, 2, 3, 4, 5, 6, 7, 0x10, 0x20, 0x30, 0x11, 0x18};

	for (size_t i = 0; i < sizeof(attrs) / sizeof(attrs[0]); i++) {
		uint8_t *p = vector_batch(0);
		enum rxl_batch_fault why = RXL_BF_OK;

		put_be16(p + 21, attrs[i]);
		recrc(p, total); /* only the attributes are wrong */
		assert_int_equal(rxl_batch_check(p, total, VEC_BASE_OFFSET, 1 << 30, NULL, &why),
				 0);
		assert_int_equal(why, RXL_BF_ATTRIBUTES);
		free(p);
	}
}

static void test_bad_magic_is_magic_fault(void **state)
{
	(void)state;
	const size_t total = sizeof(vec_bytes);
	static const uint8_t magics[] = {0, 1, 3, 0x82, 0xff};

	for (size_t i = 0; i < sizeof(magics); i++) {
		uint8_t *p = vector_batch(0);
		enum rxl_batch_fault why = RXL_BF_OK;

		p[16] = magics[i];
		recrc(p, total);
		assert_int_equal(rxl_batch_check(p, total, VEC_BASE_OFFSET, 1 << 30, NULL, &why),
				 0);
		assert_int_equal(why, RXL_BF_MAGIC);
		free(p);
	}
}

static void test_inconsistent_record_count_is_count_fault(void **state)
{
	(void)state;
	const size_t total = sizeof(vec_bytes);
	static const struct {
		int32_t last_delta, count;
	} bad[] = {{1, 3}, {2, 2}, {0, 2}, {-1, 0}, {0, 0}, {-2, -1}};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		uint8_t *p = vector_batch(0);
		enum rxl_batch_fault why = RXL_BF_OK;

		put_be32(p + 23, (uint32_t)bad[i].last_delta);
		put_be32(p + 57, (uint32_t)bad[i].count);
		recrc(p, total);
		assert_int_equal(rxl_batch_check(p, total, VEC_BASE_OFFSET, 1 << 30, NULL, &why),
				 0);
		assert_int_equal(why, RXL_BF_COUNT);
		free(p);
	}
}

static void test_corrupt_crc_is_crc_fault(void **state)
{
	(void)state;
	const size_t total = sizeof(vec_bytes);
	uint8_t *p = vector_batch(0);
	enum rxl_batch_fault why = RXL_BF_OK;

	p[total - 1] ^= 0x01; /* last payload byte */
	assert_int_equal(rxl_batch_check(p, total, VEC_BASE_OFFSET, 1 << 30, NULL, &why), 0);
	assert_int_equal(why, RXL_BF_CRC);
	free(p);
}

static void test_consecutive_batches_check_with_expected_bases(void **state)
{
	(void)state;
	uint8_t *buf = malloc(4096);
	uint32_t pos = 0;
	uint64_t next = 1000;

	assert_non_null(buf);
	for (int i = 0; i < 5; i++) {
		struct rxl_batch_builder b;
		const struct rxl_record_in r = {.key_len = -1, .value = "x", .value_len = 1};

		rxl_batch_begin(&b, buf + pos, 4096 - pos, next, NULL);
		for (int k = 0; k <= i; k++)
			assert_int_equal(rxl_batch_add(&b, &r), 0);
		pos += rxl_batch_finish(&b);
		next += (uint64_t)i + 1;
	}
	memset(buf + pos, 0, 4096 - pos); /* preallocated tail */

	uint32_t at = 0;
	uint64_t expect = 1000;
	int batches = 0;
	enum rxl_batch_fault why;
	struct rxl_batch_hdr h;
	uint32_t n;

	while ((n = rxl_batch_check(buf + at, 4096 - at, expect, 4096, &h, &why)) > 0) {
		at += n;
		expect = h.base_offset + (uint64_t)h.last_offset_delta + 1;
		batches++;
	}
	assert_int_equal(batches, 5);
	assert_int_equal(at, pos);
	assert_true(expect == next);
	assert_int_equal(why, RXL_BF_LENGTH); /* the zeros end the log */
	free(buf);
}

static void test_every_fault_has_a_distinct_name(void **state)
{
	(void)state;
	for (int a = RXL_BF_OK; a <= RXL_BF_ATTRIBUTES; a++) {
		const char *s = rxl_batch_fault_str((enum rxl_batch_fault)a);

		assert_non_null(s);
		assert_true(s[0] != '\0');
		assert_string_not_equal(s, "unknown");
		for (int b = RXL_BF_OK; b < a; b++)
			assert_string_not_equal(s, rxl_batch_fault_str((enum rxl_batch_fault)b));
	}
}

/* ---- decoding hostile bytes behind a valid CRC --------------------------- */

/* A batch holding @recs verbatim as its records, header valid for @count
 * records and CRC correct: rule V passes, the records are whatever we say. */
static uint8_t *craft_batch(const uint8_t *recs, size_t recs_len, int32_t count, size_t *total)
{
	size_t n = RXL_BATCH_HDR_LEN + recs_len;
	uint8_t *p = malloc(n);

	assert_non_null(p);
	put_be64(p + 0, 100);			 /* baseOffset */
	put_be32(p + 8, (uint32_t)(n - 12));	 /* batchLength */
	put_be32(p + 12, 0);			 /* partitionLeaderEpoch */
	p[16] = 2;				 /* magic */
	put_be16(p + 21, 0);			 /* attributes */
	put_be32(p + 23, (uint32_t)(count - 1)); /* lastOffsetDelta */
	put_be64(p + 27, 1000);			 /* baseTimestamp */
	put_be64(p + 35, 1000);			 /* maxTimestamp */
	put_be64(p + 43, UINT64_MAX);		 /* producerId -1 */
	put_be16(p + 51, 0xffff);		 /* producerEpoch -1 */
	put_be32(p + 53, UINT32_MAX);		 /* baseSequence -1 */
	put_be32(p + 57, (uint32_t)count);	 /* recordCount */
	if (recs_len)
		memcpy(p + RXL_BATCH_HDR_LEN, recs, recs_len);
	recrc(p, n);
	*total = n;
	return p;
}

/* Decode records until one fails; returns the rxl_record_decode() result of
 * the last call and how many decoded. Pointers returned must lie inside the
 * batch. */
static int decode_all(const uint8_t *p, size_t total, int *decoded)
{
	struct rxl_batch_hdr h;
	enum rxl_batch_fault why;
	const uint8_t *pos = p + RXL_BATCH_HDR_LEN, *end = p + total;
	int rc = 0;

	assert_int_equal(rxl_batch_check(p, total, UINT64_MAX, total, &h, &why), total);
	*decoded = 0;
	for (int i = 0; i < h.count; i++) {
		struct rxl_record rec;

		rc = rxl_record_decode(&pos, end, &h, &rec);
		if (rc)
			break;
		assert_true(pos > p + RXL_BATCH_HDR_LEN && pos <= end);
		if (rec.key_len >= 0)
			assert_true(rec.key >= p && rec.key + rec.key_len <= end);
		if (rec.value_len >= 0)
			assert_true(rec.value >= p && rec.value + rec.value_len <= end);
		assert_true(rec.headers >= p && rec.headers <= rec.headers_end &&
			    rec.headers_end <= end);
		(*decoded)++;
	}
	return rc;
}

struct hostile {
	const char *what;
	uint8_t b[24];
	size_t len;
	int32_t count;
	int good_records; /* how many decode before the bad one */
};

/* clang-format off */
static const struct hostile hostile_records[] = {
	{ "record length 50, 6 bytes left", { 0x64, 0, 0, 0, 0x01, 0x01, 0x00 }, 7, 1, 0 },
	{ "record length INT32_MAX", { 0xfe, 0xff, 0xff, 0xff, 0x0f, 0, 0, 0 }, 8, 1, 0 },
	{ "record length 0", { 0x00 }, 1, 1, 0 },
	{ "record length -1", { 0x01, 0, 0, 0, 0x01, 0x01, 0x00 }, 7, 1, 0 },
	{ "record length varint cut by batch end", { 0x80 }, 1, 1, 0 },
	{ "record length varint of 6 bytes", { 0x8c, 0x80, 0x80, 0x80, 0x80, 0x00 }, 6, 1, 0 },
	{ "body is only attributes", { 0x02, 0x00 }, 2, 1, 0 },
	{ "timestampDelta runs past record", { 0x04, 0x00, 0x80, 0x80 }, 4, 1, 0 },
	{ "key length 50 in a 6-byte record", { 0x0c, 0, 0, 0, 0x64, 0x00, 0x00 }, 7, 1, 0 },
	{ "key length INT32_MAX",
	  { 0x10, 0, 0, 0, 0xfe, 0xff, 0xff, 0xff, 0x0f }, 9, 1, 0 },
	{ "key length -2", { 0x0c, 0, 0, 0, 0x03, 0x00, 0x00 }, 7, 1, 0 },
	{ "value length 50 in a 6-byte record", { 0x0c, 0, 0, 0, 0x01, 0x64, 0x00 }, 7, 1, 0 },
	{ "value length -5", { 0x0c, 0, 0, 0, 0x01, 0x09, 0x00 }, 7, 1, 0 },
	{ "header count missing", { 0x0a, 0, 0, 0, 0x01, 0x01 }, 6, 1, 0 },
	{ "header count -1", { 0x0c, 0, 0, 0, 0x01, 0x01, 0x01 }, 7, 1, 0 },
	{ "offsetDelta beyond lastOffsetDelta", { 0x0c, 0, 0, 0x02, 0x01, 0x01, 0x00 }, 7, 1, 0 },
	{ "offsetDelta -1", { 0x0c, 0, 0, 0x01, 0x01, 0x01, 0x00 }, 7, 1, 0 },
	{ "record length spills into next record, second cut",
	  { 0x0c, 0, 0, 0, 0x01, 0x01, 0x00, 0x64, 0, 0x02, 0x01, 0x01, 0x00 }, 13, 2, 1 },
	{ "second record missing entirely", { 0x0c, 0, 0, 0, 0x01, 0x01, 0x00 }, 7, 2, 1 },
};
/* clang-format on */

static void test_record_decode_rejects_lengths_running_past_the_end(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(hostile_records) / sizeof(hostile_records[0]); i++) {
		const struct hostile *t = &hostile_records[i];
		size_t total;
		uint8_t *p = craft_batch(t->b, t->len, t->count, &total);
		int decoded = -1;
		int rc = decode_all(p, total, &decoded);

		if (rc != -EBADMSG || decoded != t->good_records)
			print_message("%s: rc %d after %d records\n", t->what, rc, decoded);
		assert_int_equal(rc, -EBADMSG);
		assert_int_equal(decoded, t->good_records);
		free(p);
	}
}

/* clang-format off */
static const struct hostile hostile_headers[] = {
	{ "header key length 50", { 0x10, 0, 0, 0, 0x01, 0x01, 0x02, 0x64, 0x68 }, 9, 1, 0 },
	{ "header key null", { 0x10, 0, 0, 0, 0x01, 0x01, 0x02, 0x01, 0x00 }, 9, 1, 0 },
	{ "header key length -2", { 0x10, 0, 0, 0, 0x01, 0x01, 0x02, 0x03, 0x00 }, 9, 1, 0 },
	{ "header value length 50",
	  { 0x12, 0, 0, 0, 0x01, 0x01, 0x02, 0x02, 0x68, 0x64 }, 10, 1, 0 },
	{ "header value length -3",
	  { 0x12, 0, 0, 0, 0x01, 0x01, 0x02, 0x02, 0x68, 0x05 }, 10, 1, 0 },
	{ "header value length missing", { 0x10, 0, 0, 0, 0x01, 0x01, 0x02, 0x02, 0x68 }, 9, 1, 0 },
	{ "header value varint cut", { 0x12, 0, 0, 0, 0x01, 0x01, 0x02, 0x02, 0x68, 0x80 }, 10, 1, 0 },
	{ "header key varint cut", { 0x0e, 0, 0, 0, 0x01, 0x01, 0x02, 0x80 }, 8, 1, 0 },
};
/* clang-format on */

/* Decode the single record of a crafted batch and walk its headers. A
 * malformed header may be refused by rxl_record_decode() or, if the decoder
 * leaves headers to the iterator, by rxl_header_next(); either way the
 * result is -EBADMSG, and the iterator never yields more than n_headers. */
static int decode_and_walk_headers(const struct hostile *t)
{
	size_t total;
	uint8_t *p = craft_batch(t->b, t->len, t->count, &total);
	struct rxl_batch_hdr h;
	enum rxl_batch_fault why;
	const uint8_t *pos = p + RXL_BATCH_HDR_LEN;
	struct rxl_record rec;
	int rc;

	assert_int_equal(rxl_batch_check(p, total, UINT64_MAX, total, &h, &why), total);
	rc = rxl_record_decode(&pos, p + total, &h, &rec);
	if (rc == 0) {
		const uint8_t *it = rec.headers;
		struct rxl_header hd;
		uint32_t seen = 0;

		assert_ptr_equal(pos, p + total); /* every case is one framed record */
		while ((rc = rxl_header_next(&rec, &it, &hd)) == 1) {
			seen++;
			if (seen > rec.n_headers)
				print_message("%s: header %u returned, record says %u\n", t->what,
					      seen, rec.n_headers);
			assert_true(seen <= rec.n_headers);
		}
		if (rc == 0)
			print_message("%s: iteration ended cleanly after %u of %u headers\n",
				      t->what, seen, rec.n_headers);
	}
	free(p);
	return rc;
}

static void test_malformed_headers_are_rejected_not_read_past_the_record(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(hostile_headers) / sizeof(hostile_headers[0]); i++) {
		int rc = decode_and_walk_headers(&hostile_headers[i]);

		if (rc != -EBADMSG)
			print_message("%s: %d\n", hostile_headers[i].what, rc);
		assert_int_equal(rc, -EBADMSG);
	}
}

/* Kafka's DefaultRecord.readFrom() reads exactly headerCount headers and then
 * requires the record body to be used up ("Invalid record size"). A record
 * whose headerCount disagrees with its header bytes is malformed: decoding
 * or iterating it must end in -EBADMSG, and the iteration never yields more
 * headers than n_headers says. */
static void test_header_count_disagreeing_with_header_bytes_is_malformed(void **state)
{
	(void)state;
	static const struct hostile cases[] = {
		/* headerCount 0, then bytes that parse as a header ("" = "") */
		{"count 0, one header present",
		 {0x10, 0, 0, 0, 0x01, 0x01, 0x00, 0x00, 0x00},
		 9,
		 1,
		 0},
		/* headerCount 2, one header ("h" = "v") */
		{"count 2, one header present",
		 {0x14, 0, 0, 0, 0x01, 0x01, 0x04, 0x02, 0x68, 0x02, 0x76},
		 11,
		 1,
		 0},
		/* headerCount 3, nothing after it */
		{"count 3, no header bytes", {0x0c, 0, 0, 0, 0x01, 0x01, 0x06}, 7, 1, 0},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		assert_int_equal(decode_and_walk_headers(&cases[i]), -EBADMSG);
}

/* Random record bytes behind a valid CRC: every call returns 0 or -EBADMSG
 * and nothing is read outside the batch (ASan) or pointed outside it. */
static void test_record_decode_never_leaves_the_batch_on_random_bytes(void **state)
{
	(void)state;
	uint8_t recs[96];

	for (int iter = 0; iter < 20000; iter++) {
		size_t len = 1 + rng_below(sizeof(recs));
		int32_t count = 1 + (int32_t)rng_below(4);
		size_t total;

		fill_random(recs, len);
		/* Bias towards plausible small lengths so decoding gets deep. */
		if (rng_below(2))
			recs[0] = (uint8_t)(2 * rng_below((uint32_t)len + 2));
		uint8_t *p = craft_batch(recs, len, count, &total);
		struct rxl_batch_hdr h;
		enum rxl_batch_fault why;
		const uint8_t *pos = p + RXL_BATCH_HDR_LEN, *end = p + total;

		assert_int_equal(rxl_batch_check(p, total, UINT64_MAX, total, &h, &why), total);
		for (int i = 0; i < count; i++) {
			struct rxl_record rec;
			int rc = rxl_record_decode(&pos, end, &h, &rec);

			assert_true(rc == 0 || rc == -EBADMSG);
			if (rc)
				break;
			assert_true(pos <= end);
			if (rec.key_len >= 0)
				assert_true(rec.key >= p && rec.key + rec.key_len <= end);
			if (rec.value_len >= 0)
				assert_true(rec.value >= p && rec.value + rec.value_len <= end);

			const uint8_t *it = rec.headers;
			struct rxl_header hd;
			uint32_t seen = 0;
			int hr;

			while ((hr = rxl_header_next(&rec, &it, &hd)) == 1) {
				const uint8_t *k = hd.key, *v = hd.value;

				assert_true(++seen <= rec.n_headers);
				assert_true(hd.key_len >= 0);
				assert_true(k >= rec.headers && k + hd.key_len <= rec.headers_end);
				if (hd.value_len >= 0)
					assert_true(v >= rec.headers &&
						    v + hd.value_len <= rec.headers_end);
			}
			assert_true(hr == 0 || hr == -EBADMSG);
			if (hr == 0)
				assert_int_equal(seen, rec.n_headers);
		}
		free(p);
	}
}

/* ---- builder limits ------------------------------------------------------ */

static void test_batch_add_returns_enospc_and_leaves_batch_unchanged(void **state)
{
	(void)state;
	static const struct rxl_header hdr = {"trace", 5, "abc", 3};
	const struct rxl_record_in first = {
		.key = "key", .key_len = 3, .value = "v", .value_len = 1, .timestamp_ms = 50};
	const struct rxl_record_in big = {.key = "k",
					  .key_len = 1,
					  .value = vec_bytes,
					  .value_len = 80,
					  .timestamp_ms = 40,
					  .headers = &hdr,
					  .n_headers = 1};
	uint32_t need1 = rxl_record_encoded_len(&first, 50, 0);
	uint32_t need2 = rxl_record_encoded_len(&big, 50, 1);

	/* Exactly enough room: both fit. */
	uint32_t cap = RXL_BATCH_HDR_LEN + need1 + need2;
	uint8_t *buf = malloc(cap);
	struct rxl_batch_builder b;

	assert_non_null(buf);
	rxl_batch_begin(&b, buf, cap, 7, NULL);
	assert_int_equal(rxl_batch_add(&b, &first), 0);
	assert_int_equal(rxl_batch_add(&b, &big), 0);
	assert_int_equal(b.len, cap);
	free(buf);

	/* One byte short: the second record is refused, nothing changes. */
	cap--;
	buf = malloc(cap);
	assert_non_null(buf);
	memset(buf, 0xA5, cap);
	rxl_batch_begin(&b, buf, cap, 7, NULL);
	assert_int_equal(rxl_batch_add(&b, &first), 0);

	struct rxl_batch_builder before = b;
	uint8_t *snap = exact_copy(buf, cap);

	assert_int_equal(rxl_batch_add(&b, &big), -ENOSPC);
	assert_memory_equal(buf, snap, cap);
	assert_ptr_equal(b.buf, before.buf);
	assert_int_equal(b.cap, before.cap);
	assert_int_equal(b.len, before.len);
	assert_int_equal(b.count, before.count);
	assert_true(b.base_ts == before.base_ts);
	assert_true(b.max_ts == before.max_ts);
	assert_true(b.base_offset == before.base_offset);

	/* The batch is still whole: it finishes to a valid one-record batch
	 * whose maxTimestamp did not see the refused record. */
	uint32_t total = rxl_batch_finish(&b);
	struct rxl_batch_hdr h;
	enum rxl_batch_fault why;

	assert_int_equal(total, RXL_BATCH_HDR_LEN + need1);
	assert_int_equal(rxl_batch_check(buf, total, 7, total, &h, &why), total);
	assert_int_equal(h.count, 1);
	assert_true(h.max_timestamp == 50);
	free(snap);
	free(buf);

	/* A first record that does not fit an empty batch. */
	cap = RXL_BATCH_HDR_LEN + need1 - 1;
	buf = malloc(cap);
	assert_non_null(buf);
	memset(buf, 0x5A, cap);
	snap = exact_copy(buf, cap);
	rxl_batch_begin(&b, buf, cap, 7, NULL);
	assert_int_equal(rxl_batch_add(&b, &first), -ENOSPC);
	assert_int_equal(b.len, RXL_BATCH_HDR_LEN);
	assert_int_equal(b.count, 0);
	assert_memory_equal(buf, snap, cap);
	free(snap);
	free(buf);
}

static void test_batch_add_rejects_invalid_lengths_and_leaves_batch_unchanged(void **state)
{
	(void)state;
	const struct rxl_header bad_key = {"h", -1, "v", 1};
	const struct rxl_header bad_val = {"h", 1, "v", -2};
	const struct rxl_record_in bad[] = {
		{.key = "k", .key_len = -2, .value_len = -1},
		{.key_len = -1, .value = "v", .value_len = -2},
		{.key_len = -1, .value_len = -1, .headers = &bad_key, .n_headers = 1},
		{.key_len = -1, .value_len = -1, .headers = &bad_val, .n_headers = 1},
		{.key_len = INT32_MIN, .value_len = -1},
	};
	uint8_t buf[256];
	struct rxl_batch_builder b;

	memset(buf, 0x33, sizeof(buf));
	rxl_batch_begin(&b, buf, sizeof(buf), 0, NULL);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(rxl_batch_add(&b, &bad[i]), -EINVAL);
		assert_int_equal(b.len, RXL_BATCH_HDR_LEN);
		assert_int_equal(b.count, 0);
	}
	for (size_t i = 0; i < sizeof(buf); i++)
		assert_int_equal(buf[i], 0x33);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_batch_matches_hand_derived_kafka_bytes),
		cmocka_unit_test(test_hand_derived_bytes_decode_to_the_records),
		cmocka_unit_test(test_batch_without_producer_writes_minus_one_fields),
		cmocka_unit_test(test_varint_known_encodings),
		cmocka_unit_test(test_varint_zigzag_round_trips_edge_values),
		cmocka_unit_test(test_varint_rejects_truncated_input),
		cmocka_unit_test(test_varlong_rejects_more_than_ten_bytes),
		cmocka_unit_test(test_varint_rejects_more_than_five_bytes_or_int32_overflow),
		cmocka_unit_test(test_random_records_round_trip_through_batch),
		cmocka_unit_test(test_every_short_length_round_trips),
		cmocka_unit_test(test_records_match_a_reference_encoder),
		cmocka_unit_test(test_extreme_timestamps_round_trip),
		cmocka_unit_test(test_record_sequence_wraps_past_int32_max_like_kafka),
		cmocka_unit_test(test_all_zero_header_is_invalid_length),
		cmocka_unit_test(test_all_ff_header_is_invalid_length),
		cmocka_unit_test(test_batch_length_outside_limits_is_invalid_length),
		cmocka_unit_test(test_any_single_bit_flip_invalidates_batch),
		cmocka_unit_test(test_truncated_batch_is_short_at_every_length),
		cmocka_unit_test(test_wrong_expected_base_is_offset_fault),
		cmocka_unit_test(
			test_compressed_transactional_or_control_batch_is_attributes_fault),
		cmocka_unit_test(test_bad_magic_is_magic_fault),
		cmocka_unit_test(test_inconsistent_record_count_is_count_fault),
		cmocka_unit_test(test_corrupt_crc_is_crc_fault),
		cmocka_unit_test(test_consecutive_batches_check_with_expected_bases),
		cmocka_unit_test(test_every_fault_has_a_distinct_name),
		cmocka_unit_test(test_record_decode_rejects_lengths_running_past_the_end),
		cmocka_unit_test(test_malformed_headers_are_rejected_not_read_past_the_record),
		cmocka_unit_test(test_header_count_disagreeing_with_header_bytes_is_malformed),
		cmocka_unit_test(test_record_decode_never_leaves_the_batch_on_random_bytes),
		cmocka_unit_test(test_batch_add_returns_enospc_and_leaves_batch_unchanged),
		cmocka_unit_test(test_batch_add_rejects_invalid_lengths_and_leaves_batch_unchanged),
	};

	return cmocka_run_group_tests(tests, seed_rng, NULL);
}
