/* tests: the payload formats (dataplane/fmt_*.c) and native's dedupe window.
 * Single-threaded cmocka program.
 *
 * Expected values come from outside the code under test: native bytes are built by a small
 * encoder written here (and one datagram by hand, the example of docs/WIRE.md); syslog
 * timestamps were computed with Python's datetime; the syslog messages were captured on the
 * wire from util-linux logger 2.38.1, rsyslog 8.2302 and syslog-ng 3.38 (their files are in
 * tests/fuzz/corpus/syslog too), or copied from RFC 5424 6.5 and RFC 3164 5.4. The dedupe
 * window is checked against a trivial model. Payloads are handed to the parsers in heap blocks
 * of exactly their length, so under ASan a read past the end fails the test.
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
#include <sys/socket.h>

#include <cmocka.h>

#include "rxl_formats.h"

/* ---- helpers ---------------------------------------------------------------------------- */

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

static uint64_t rnd(void)
{
	uint64_t x = rng_state; /* xorshift64* */

	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	rng_state = x;
	return x * 0x2545F4914F6CDD1Dull;
}

static uint32_t rnd_below(uint32_t n)
{
	return (uint32_t)(rnd() % n);
}

static int seed_rng(void **state)
{
	const char *s = getenv("RXL_TEST_SEED");

	(void)state;
	rng_state = s ? strtoull(s, NULL, 0) : 0x5eed2026ull;
	if (rng_state == 0)
		rng_state = 1;
	fprintf(stderr, "RXL_TEST_SEED=%" PRIu64 "\n", rng_state);
	return 0;
}

#define RECV_MS 1795804200000LL /* 2026-11-27T18:30:00Z */

static void in_init(struct rxl_fmt_in *in, const uint8_t *data, size_t len, int64_t recv_ms)
{
	memset(in, 0, sizeof(*in));
	in->data = data;
	in->len = (uint32_t)len;
	in->recv_ms = recv_ms;
	in->src_family = AF_INET;
	memcpy(in->src_addr, (uint8_t[]){198, 18, 0, 9}, 4);
}

static void assert_bytes(const void *p, int32_t len, const char *want)
{
	if (!want) {
		assert_int_equal(len, -1);
		assert_null(p);
		return;
	}
	assert_int_equal(len, (int32_t)strlen(want));
	assert_memory_equal(p, want, strlen(want));
}

static bool inside(const void *p, int64_t n, const void *lo, size_t size)
{
	const uint8_t *a = p, *b = lo;

	return n >= 0 && a >= b && a <= b + size && (size_t)n <= (size_t)(b + size - a);
}

/* Every pointer of @ev[0 .. n) lies in the payload, in in->src_text, or is a static string. */
static void check_events_in_bounds(const struct rxl_fmt_in *in, const struct rxl_event *ev, int n)
{
	for (int i = 0; i < n; i++) {
		const struct rxl_event *e = &ev[i];

		assert_true(inside(e->value, e->value_len, in->data, in->len));
		if (e->key_len >= 0)
			assert_true(inside(e->key, e->key_len, in->data, in->len) ||
				    inside(e->key, e->key_len, in->src_text, sizeof(in->src_text)));
		else
			assert_null(e->key);
		assert_true(e->n_headers <= RXL_EVENT_MAX_HEADERS);
		for (int h = 0; h < e->n_headers; h++) {
			const struct rxl_header *x = &e->headers[h];

			assert_true(x->key_len > 0 && x->value_len >= 0);
			if (!inside(x->value, x->value_len, in->data, in->len) &&
			    !inside(x->value, x->value_len, in->src_text, sizeof(in->src_text))) {
				/* severity, facility: a static "0" .. "23" */
				assert_true(x->value_len == 1 || x->value_len == 2);
				assert_true(((const char *)x->value)[0] >= '0' &&
					    ((const char *)x->value)[0] <= '9');
			}
		}
	}
}

static const struct rxl_header *header(const struct rxl_event *e, const char *key)
{
	for (int i = 0; i < e->n_headers; i++)
		if (e->headers[i].key_len == (int32_t)strlen(key) &&
		    memcmp(e->headers[i].key, key, strlen(key)) == 0)
			return &e->headers[i];
	return NULL;
}

static void assert_header(const struct rxl_event *e, const char *key, const char *want)
{
	const struct rxl_header *h = header(e, key);

	if (!want) {
		assert_null(h);
		return;
	}
	assert_non_null(h);
	assert_bytes(h->value, h->value_len, want);
}

static uint64_t sum_counters(const struct rxl_fmt_counters *c)
{
	uint64_t s = 0;

	for (int i = 0; i < RXL_FMT_REASON_COUNT; i++)
		s += c->n[i];
	return s;
}

/* ---- native: an encoder written independently of dataplane/fmt_native.c ----------------- */

struct tev {
	const char *key; /* NULL = null key */
	size_t key_len;
	const uint8_t *value;
	size_t value_len;
	int64_t ts;
};

static size_t tenc(uint8_t *buf, int64_t pid, uint16_t epoch, uint32_t base, uint8_t flags,
		   uint64_t send_ns, const struct tev *ev, uint16_t n)
{
	uint8_t *p = buf;

	memcpy(p, "RXLN", 4);
	p[4] = 1;
	p[5] = flags;
	put_be16(p + 6, n);
	put_be64(p + 8, (uint64_t)pid);
	put_be32(p + 16, base);
	put_be16(p + 20, epoch);
	put_be16(p + 22, 0);
	p += 24;
	if (flags & 1) {
		put_be64(p, send_ns);
		p += 8;
	}
	for (int i = 0; i < n; i++) {
		put_be64(p, (uint64_t)ev[i].ts);
		put_be16(p + 8, ev[i].key ? (uint16_t)ev[i].key_len : 0xFFFF);
		put_be32(p + 10, (uint32_t)ev[i].value_len);
		p += 14;
		if (ev[i].key) {
			memcpy(p, ev[i].key, ev[i].key_len);
			p += ev[i].key_len;
		}
		memcpy(p, ev[i].value, ev[i].value_len);
		p += ev[i].value_len;
	}
	return (size_t)(p - buf);
}

/* A valid two-event datagram: producer 7, epoch 3, base 100. */
static size_t sample_native(uint8_t *buf)
{
	static const struct tev ev[2] = {
		{"host-a", 6, (const uint8_t *)"first event", 11, 1795804200123LL},
		{NULL, 0, (const uint8_t *)"second", 6, 0},
	};

	return tenc(buf, 7, 3, 100, 0, 0, ev, 2);
}

static uint8_t *native_copy;

static int parse_native(const uint8_t *bytes, size_t len, uint32_t max_event_bytes,
			struct rxl_event *ev, uint32_t max, struct rxl_fmt_counters *c)
{
	struct rxl_fmt_config cfg = {.kind = RXL_FMT_NATIVE, .max_event_bytes = max_event_bytes};
	struct rxl_fmt_in in;
	uint32_t pos = 0;

	/* The events point into the copy: it lives until the next call. */
	free(native_copy);
	native_copy = exact_copy(bytes, len);
	in_init(&in, native_copy, len, RECV_MS);
	int n = rxl_fmt_parse(&cfg, &in, &pos, ev, max, c);

	assert_int_equal(pos, len);
	if (n > 0)
		check_events_in_bounds(&in, ev, n);
	return n;
}

/* docs/WIRE.md's example, byte for byte. */
/* clang-format off */
static const uint8_t wire_example[] = {
	0x52, 0x58, 0x4c, 0x4e, 0x01, 0x01, 0x00, 0x02, /* "RXLN" v1, flags: send time; 2 events */
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x2a, /* producer id 42 */
	0x00, 0x00, 0x03, 0xe8, 0x00, 0x01, 0x00, 0x00, /* base sequence 1000, epoch 1, reserved */
	0x18, 0xeb, 0xfa, 0x67, 0xca, 0x83, 0x5d, 0x15, /* send_ns 1795804200123456789 */
	0x00, 0x00, 0x01, 0xa2, 0x1e, 0x45, 0x7c, 0xbb, /* event 0: ts 1795804200123 */
	0x00, 0x04, 0x00, 0x00, 0x00, 0x05,             /* key 4 bytes, value 5 bytes */
	0x65, 0x64, 0x67, 0x65,                         /* "edge" */
	0x68, 0x65, 0x6c, 0x6c, 0x6f,                   /* "hello" */
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, /* event 1: ts 0 = receive time */
	0xff, 0xff, 0x00, 0x00, 0x00, 0x02,             /* null key, value 2 bytes */
	0x68, 0x69,                                     /* "hi" */
};
/* clang-format on */

/* ---- native tests ----------------------------------------------------------------------- */

static void test_native_wire_doc_example_parses_and_encodes_to_the_same_bytes(void **state)
{
	struct rxl_event ev[4];
	struct rxl_fmt_counters c = {0};

	(void)state;
	assert_int_equal(parse_native(wire_example, sizeof(wire_example), 0, ev, 4, &c), 2);
	assert_int_equal(sum_counters(&c), 0);
	assert_bytes(ev[0].key, ev[0].key_len, "edge");
	assert_bytes(ev[0].value, ev[0].value_len, "hello");
	assert_int_equal(ev[0].timestamp_ms, 1795804200123LL);
	assert_int_equal(ev[0].producer_id, 42);
	assert_int_equal(ev[0].producer_epoch, 1);
	assert_int_equal(ev[0].sequence, 1000);
	assert_int_equal(ev[0].n_headers, 1);
	assert_bytes(ev[0].headers[0].key, ev[0].headers[0].key_len, "send_ns");
	assert_int_equal(ev[0].headers[0].value_len, 8);
	assert_memory_equal(ev[0].headers[0].value, wire_example + 24, 8);
	assert_bytes(ev[1].key, ev[1].key_len, NULL);
	assert_bytes(ev[1].value, ev[1].value_len, "hi");
	assert_int_equal(ev[1].timestamp_ms, RECV_MS);
	assert_int_equal(ev[1].sequence, 1001);

	struct rxl_record_in r[2] = {
		{.key = "edge",
		 .key_len = 4,
		 .value = "hello",
		 .value_len = 5,
		 .timestamp_ms = 1795804200123LL},
		{.key = NULL, .key_len = -1, .value = "hi", .value_len = 2, .timestamp_ms = 0},
	};
	struct rxl_native_hdr h = {.producer_id = 42,
				   .epoch = 1,
				   .base_sequence = 1000,
				   .flags = RXL_NATIVE_F_SEND_TIME,
				   .send_ns = 1795804200123456789ull};
	uint8_t buf[128];

	assert_int_equal(rxl_native_encoded_len(r, 2, h.flags), sizeof(wire_example));
	assert_int_equal(rxl_native_encode(buf, sizeof(buf), &h, r, 2), sizeof(wire_example));
	assert_memory_equal(buf, wire_example, sizeof(wire_example));
}

static void test_native_random_datagrams_round_trip_through_encode_and_parse(void **state)
{
	enum { MAXN = 64 };
	static uint8_t pool[4096];
	static uint8_t buf[65536], ref[65536];
	struct rxl_record_in r[MAXN];
	struct tev t[MAXN];
	struct rxl_event ev[MAXN];
	char keys[MAXN][24];

	(void)state;
	for (size_t i = 0; i < sizeof(pool); i++)
		pool[i] = (uint8_t)rnd();
	for (int iter = 0; iter < 2000; iter++) {
		uint32_t n = 1 + rnd_below(MAXN);
		struct rxl_native_hdr h = {0};

		if (rnd_below(8) == 0) {
			h.producer_id = -1;
		} else {
			h.producer_id = (int64_t)(rnd() >> 1);
			h.epoch = (int16_t)rnd_below(0x8000);
			/* often near the wrap at INT32_MAX */
			h.base_sequence = rnd_below(2) ? INT32_MAX - (int32_t)rnd_below(70)
						       : (int32_t)(rnd() & 0x7FFFFFFF);
		}
		if (rnd_below(2)) {
			h.flags = RXL_NATIVE_F_SEND_TIME;
			h.send_ns = rnd();
		}
		for (uint32_t i = 0; i < n; i++) {
			int kl = rnd_below(4) == 0 ? -1 : (int)rnd_below(24);

			for (int k = 0; k < kl; k++)
				keys[i][k] = (char)('a' + rnd_below(26));
			r[i] = (struct rxl_record_in){
				.key = kl < 0 ? NULL : keys[i],
				.key_len = kl,
				.value = pool + rnd_below(1024),
				.value_len = (int32_t)rnd_below(rnd_below(4) ? 100 : 3000),
				.timestamp_ms = rnd_below(4) == 0 ? 0 : (int64_t)(rnd() >> 20),
			};
			t[i] = (struct tev){kl < 0 ? NULL : keys[i], kl < 0 ? 0 : (size_t)kl,
					    r[i].value, (size_t)r[i].value_len, r[i].timestamp_ms};
		}
		int len = rxl_native_encode(buf, sizeof(buf), &h, r, n);
		size_t rlen = tenc(ref, h.producer_id, (uint16_t)h.epoch, (uint32_t)h.base_sequence,
				   h.flags, h.send_ns, t, (uint16_t)n);

		assert_int_equal(len, rlen);
		assert_memory_equal(buf, ref, rlen);

		struct rxl_fmt_counters c = {0};

		assert_int_equal(parse_native(buf, (size_t)len, 0, ev, MAXN, &c), (int)n);
		assert_int_equal(sum_counters(&c), 0);
		for (uint32_t i = 0; i < n; i++) {
			if (r[i].key_len < 0)
				assert_null(ev[i].key);
			else
				assert_memory_equal(ev[i].key, r[i].key, (size_t)r[i].key_len);
			assert_int_equal(ev[i].key_len, r[i].key_len);
			assert_int_equal(ev[i].value_len, r[i].value_len);
			assert_memory_equal(ev[i].value, r[i].value, (size_t)r[i].value_len);
			assert_int_equal(ev[i].timestamp_ms,
					 r[i].timestamp_ms ? r[i].timestamp_ms : RECV_MS);
			assert_int_equal(ev[i].producer_id, h.producer_id);
			if (h.producer_id < 0) {
				assert_int_equal(ev[i].sequence, -1);
				assert_int_equal(ev[i].producer_epoch, -1);
			} else {
				assert_int_equal(ev[i].sequence,
						 rxl_seq_add(h.base_sequence, (int32_t)i));
				assert_int_equal(ev[i].producer_epoch, h.epoch);
			}
			assert_int_equal(ev[i].n_headers, h.flags ? 1 : 0);
			/* The per-datagram header contract (rxl_formats.h):
			 * rxlogd keeps one copy of the headers per datagram. */
			assert_int_equal(ev[i].n_headers, ev[0].n_headers);
			if (ev[i].n_headers) {
				assert_ptr_equal(ev[i].headers[0].key, ev[0].headers[0].key);
				assert_int_equal(ev[i].headers[0].key_len,
						 ev[0].headers[0].key_len);
				assert_ptr_equal(ev[i].headers[0].value, ev[0].headers[0].value);
				assert_int_equal(ev[i].headers[0].value_len,
						 ev[0].headers[0].value_len);
			}
		}
	}
}

typedef void (*mutate_fn)(uint8_t *b, size_t *len);

static void m_magic(uint8_t *b, size_t *len)
{
	(void)len;
	b[3] = 'X';
}
static void m_version(uint8_t *b, size_t *len)
{
	(void)len;
	b[4] = 2;
}
static void m_flags(uint8_t *b, size_t *len)
{
	(void)len;
	b[5] = 0x02;
}
static void m_reserved(uint8_t *b, size_t *len)
{
	(void)len;
	b[23] = 1;
}
static void m_count0(uint8_t *b, size_t *len)
{
	(void)len;
	put_be16(b + 6, 0);
}
static void m_count_more(uint8_t *b, size_t *len)
{
	(void)len;
	put_be16(b + 6, 3);
}
static void m_count_less(uint8_t *b, size_t *len)
{
	(void)len;
	put_be16(b + 6, 1);
}
static void m_count_huge(uint8_t *b, size_t *len)
{
	(void)len;
	put_be16(b + 6, 9);
}
static void m_pid_neg(uint8_t *b, size_t *len)
{
	(void)len;
	put_be64(b + 8, (uint64_t)-2);
}
static void m_seq_high(uint8_t *b, size_t *len)
{
	(void)len;
	put_be32(b + 16, 0x80000000u);
}
static void m_epoch_high(uint8_t *b, size_t *len)
{
	(void)len;
	put_be16(b + 20, 0x8000);
}
static void m_none_with_seq(uint8_t *b, size_t *len)
{
	(void)len;
	put_be64(b + 8, (uint64_t)-1); /* producer -1 must carry sequence 0 */
}
static void m_short_hdr(uint8_t *b, size_t *len)
{
	(void)b;
	*len = 23;
}
static void m_cut_event_hdr(uint8_t *b, size_t *len)
{
	(void)b;
	*len = 24 + 10;
}
static void m_key_past_end(uint8_t *b, size_t *len)
{
	(void)len;
	put_be16(b + 24 + 8, 0xFFFE);
}
static void m_value_past_end(uint8_t *b, size_t *len)
{
	(void)len;
	put_be32(b + 24 + 10, 0xFFFFFFFFu);
}
static void m_ts_negative(uint8_t *b, size_t *len)
{
	(void)len;
	put_be64(b + 24, (uint64_t)-1);
}
static void m_trailing(uint8_t *b, size_t *len)
{
	b[(*len)++] = 0;
}
static void m_cut_last_byte(uint8_t *b, size_t *len)
{
	(void)b;
	(*len)--;
}
static void m_send_time_cut(uint8_t *b, size_t *len)
{
	b[5] = 1;
	*len = 28;
}

static void test_native_each_malformation_is_dropped_with_its_reason(void **state)
{
	static const struct {
		const char *what;
		mutate_fn f;
		enum rxl_fmt_reason want;
		uint32_t max_bytes;
	} cases[] = {
		{"magic", m_magic, RXL_FMT_NATIVE_BAD_MAGIC, 0},
		{"version", m_version, RXL_FMT_NATIVE_BAD_VERSION, 0},
		{"unknown flag", m_flags, RXL_FMT_NATIVE_BAD_FLAGS, 0},
		{"reserved", m_reserved, RXL_FMT_NATIVE_BAD_FLAGS, 0},
		{"count 0", m_count0, RXL_FMT_NATIVE_BAD_COUNT, 0},
		{"count > events", m_count_more, RXL_FMT_NATIVE_TRUNCATED, 0},
		{"count < events", m_count_less, RXL_FMT_NATIVE_TRAILING_BYTES, 0},
		{"count > max", m_count_huge, RXL_FMT_NATIVE_TOO_MANY_EVENTS, 0},
		{"producer -2", m_pid_neg, RXL_FMT_NATIVE_BAD_PRODUCER, 0},
		{"sequence 2^31", m_seq_high, RXL_FMT_NATIVE_BAD_PRODUCER, 0},
		{"epoch 2^15", m_epoch_high, RXL_FMT_NATIVE_BAD_PRODUCER, 0},
		{"no producer, sequence", m_none_with_seq, RXL_FMT_NATIVE_BAD_PRODUCER, 0},
		{"short header", m_short_hdr, RXL_FMT_NATIVE_TRUNCATED, 0},
		{"cut event header", m_cut_event_hdr, RXL_FMT_NATIVE_TRUNCATED, 0},
		{"key past end", m_key_past_end, RXL_FMT_NATIVE_BAD_LENGTH, 0},
		{"value past end", m_value_past_end, RXL_FMT_NATIVE_BAD_LENGTH, 0},
		{"negative timestamp", m_ts_negative, RXL_FMT_NATIVE_BAD_TIMESTAMP, 0},
		{"trailing byte", m_trailing, RXL_FMT_NATIVE_TRAILING_BYTES, 0},
		{"last byte cut", m_cut_last_byte, RXL_FMT_NATIVE_BAD_LENGTH, 0},
		{"send time cut", m_send_time_cut, RXL_FMT_NATIVE_TRUNCATED, 0},
		{"oversize (17 > 16)", NULL, RXL_FMT_OVERSIZE_EVENT, 16},
	};
	struct rxl_event ev[8];

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		uint8_t b[256];
		size_t len = sample_native(b);
		struct rxl_fmt_counters c = {0};

		if (cases[i].f)
			cases[i].f(b, &len);
		int n = parse_native(b, len, cases[i].max_bytes, ev, 8, &c);

		if (n != -(int)cases[i].want)
			fail_msg("%s: got %d (%s), want %s", cases[i].what, n,
				 n < 0 ? rxl_fmt_drop_name((enum rxl_fmt_reason) - n) : "events",
				 rxl_fmt_drop_name(cases[i].want));
		assert_int_equal(c.n[cases[i].want], 1);
		assert_int_equal(sum_counters(&c), 1);
	}
	/* The sample itself is valid, and exactly at the limit is not oversize. */
	uint8_t b[256];
	size_t len = sample_native(b);
	struct rxl_fmt_counters c = {0};

	assert_int_equal(parse_native(b, len, 17, ev, 2, &c), 2);
}

static void test_native_zero_byte_datagram_is_empty(void **state)
{
	struct rxl_event ev[1];
	struct rxl_fmt_counters c = {0};

	(void)state;
	assert_int_equal(parse_native((const uint8_t *)"", 0, 0, ev, 1, &c), -RXL_FMT_EMPTY);
	assert_int_equal(c.n[RXL_FMT_EMPTY], 1);
}

static void test_native_every_truncation_is_rejected_without_reading_past_it(void **state)
{
	uint8_t b[256];
	struct rxl_event ev[8];

	(void)state;
	const uint8_t *srcs[2] = {b, wire_example};
	size_t lens[2] = {sample_native(b), sizeof(wire_example)};

	for (int s = 0; s < 2; s++) {
		for (size_t cut = 0; cut < lens[s]; cut++) {
			struct rxl_fmt_counters c = {0};
			int n = parse_native(srcs[s], cut, 0, ev, 8, &c);

			assert_true(n == -RXL_FMT_EMPTY || n == -RXL_FMT_NATIVE_TRUNCATED ||
				    n == -RXL_FMT_NATIVE_BAD_LENGTH);
			assert_int_equal(sum_counters(&c), 1);
		}
	}
}

static void test_native_one_bad_event_drops_the_whole_datagram(void **state)
{
	struct tev t[5];
	uint8_t b[512];
	struct rxl_event ev[8];

	(void)state;
	for (int i = 0; i < 5; i++)
		t[i] = (struct tev){"k", 1, (const uint8_t *)"value", 5, 1000 + i};
	t[3].ts = -5; /* the fourth event is bad */
	size_t len = tenc(b, 1, 0, 0, 0, 0, t, 5);
	struct rxl_fmt_counters c = {0};

	assert_int_equal(parse_native(b, len, 0, ev, 8, &c), -RXL_FMT_NATIVE_BAD_TIMESTAMP);
	t[3].ts = 1;
	t[4].value_len = 100; /* the last is oversize */
	t[4].value = (const uint8_t *)"0123456789012345678901234567890123456789012345678901234567"
				      "89012345678901234567890123456789012345678901234567890123";
	len = tenc(b, 1, 0, 0, 0, 0, t, 5);
	assert_int_equal(parse_native(b, len, 64, ev, 8, &c), -RXL_FMT_OVERSIZE_EVENT);
	assert_int_equal(parse_native(b, len, 0, ev, 8, &c), 5);
}

static void test_native_key_override_uses_source_address_or_none(void **state)
{
	uint8_t b[256];
	size_t len = sample_native(b);
	struct rxl_event ev[2];
	struct rxl_fmt_counters c = {0};
	struct rxl_fmt_config cfg = {.kind = RXL_FMT_NATIVE, .key = RXL_FMT_KEY_SRC};
	struct rxl_fmt_in in;
	uint32_t pos = 0;

	(void)state;
	in_init(&in, b, len, RECV_MS);
	assert_int_equal(rxl_fmt_parse(&cfg, &in, &pos, ev, 2, &c), 2);
	assert_bytes(ev[0].key, ev[0].key_len, "198.18.0.9");
	assert_bytes(ev[1].key, ev[1].key_len, "198.18.0.9");
	cfg.key = RXL_FMT_KEY_NONE;
	pos = 0;
	assert_int_equal(rxl_fmt_parse(&cfg, &in, &pos, ev, 2, &c), 2);
	assert_bytes(ev[0].key, ev[0].key_len, NULL);
}

static void test_native_encode_rejects_invalid_input_and_small_buffers(void **state)
{
	struct rxl_record_in r = {.key = "k", .key_len = 1, .value = "v", .value_len = 1};
	struct rxl_native_hdr h = {.producer_id = 1};
	uint8_t buf[64];

	(void)state;
	assert_int_equal(rxl_native_encode(buf, sizeof(buf), &h, &r, 0), -EINVAL);
	assert_int_equal(rxl_native_encode(buf, 24 + 14 + 1, &h, &r, 1), -EMSGSIZE);
	assert_int_equal(rxl_native_encode(buf, 24 + 14 + 2, &h, &r, 1), 24 + 14 + 2);
	struct rxl_record_in bad[] = {
		{.key = "k", .key_len = 1, .value = NULL, .value_len = -1},
		{.key = "k", .key_len = -2, .value = "v", .value_len = 1},
		{.key = "k", .key_len = 0xFFFF, .value = "v", .value_len = 1},
		{.key = "k", .key_len = 1, .value = "v", .value_len = 1, .timestamp_ms = -1},
		{.key = "k", .key_len = 1, .value = "v", .value_len = 1, .n_headers = 1},
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(rxl_native_encode(buf, sizeof(buf), &h, &bad[i], 1), -EINVAL);
	struct rxl_native_hdr badh[] = {
		{.producer_id = -2},
		{.producer_id = 1, .epoch = -1},
		{.producer_id = 1, .base_sequence = -1},
		{.producer_id = -1, .base_sequence = 5},
		{.producer_id = 1, .flags = 0x80},
	};

	for (size_t i = 0; i < sizeof(badh) / sizeof(badh[0]); i++)
		assert_int_equal(rxl_native_encode(buf, sizeof(buf), &badh[i], &r, 1), -EINVAL);
}

static void test_native_random_corruption_never_escapes_the_payload(void **state)
{
	uint8_t good[65536];
	struct rxl_event ev[64];

	(void)state;
	for (int iter = 0; iter < 20000; iter++) {
		struct tev t[8];
		uint32_t n = 1 + rnd_below(8);

		for (uint32_t i = 0; i < n; i++)
			t[i] = (struct tev){rnd_below(2) ? "key" : NULL, 3,
					    (const uint8_t *)"some value bytes", rnd_below(17),
					    (int64_t)rnd_below(1000)};
		size_t len = tenc(good, (int64_t)rnd_below(5), 0, rnd_below(100),
				  (uint8_t)rnd_below(2), rnd(), t, (uint16_t)n);
		/* flip, overwrite or cut */
		for (uint32_t k = rnd_below(4); k > 0; k--)
			good[rnd_below((uint32_t)len)] ^= (uint8_t)(1u << rnd_below(8));
		if (rnd_below(4) == 0)
			len = rnd_below((uint32_t)len + 1);
		struct rxl_fmt_counters c = {0};
		int r = parse_native(good, len, rnd_below(2) ? 0 : 10, ev, 64, &c);

		assert_true(r <= 8);
		assert_int_equal(sum_counters(&c), r > 0 ? 0 : 1);
	}
}

/* ---- dedupe window ---------------------------------------------------------------------- */

static struct rxl_dedupe_window *window_new(uint32_t capacity, void **mem)
{
	static struct rxl_dedupe_window w;
	size_t size = rxl_dedupe_mem_size(capacity);

	assert_true(size > 0);
	*mem = aligned_alloc(64, (size + 63) & ~(size_t)63);
	assert_non_null(*mem);
	assert_int_equal(rxl_dedupe_init(&w, *mem, size, capacity), 0);
	assert_int_equal(rxl_dedupe_validate(&w), 0);
	return &w;
}

/* Offer the datagram [base, base + n) of producer @pid, epoch @epoch. */
static enum rxl_seq_verdict offer(struct rxl_dedupe_window *w, int64_t pid, int16_t epoch,
				  int32_t base, uint32_t n, struct rxl_event *ev,
				  struct rxl_seq_result *res)
{
	for (uint32_t i = 0; i < n; i++)
		ev[i] = (struct rxl_event){.producer_id = pid,
					   .producer_epoch = epoch,
					   .sequence = rxl_seq_add(base, (int32_t)i),
					   .key_len = -1};
	uint32_t k = n;
	enum rxl_seq_verdict v = rxl_native_check_seq(w, ev, &k, res);

	assert_int_equal(k, res->accepted);
	assert_int_equal(res->accepted + res->duplicates, n);
	assert_int_equal(rxl_dedupe_validate(w), 0);
	return v;
}

static void test_dedupe_in_order_datagrams_are_accepted(void **state)
{
	void *mem;
	struct rxl_dedupe_window *w = window_new(64, &mem);
	struct rxl_event ev[16];
	struct rxl_seq_result r;

	(void)state;
	assert_int_equal(offer(w, 5, 0, 0, 16, ev, &r), RXL_SEQ_NEW_PRODUCER);
	for (int i = 1; i < 100; i++)
		assert_int_equal(offer(w, 5, 0, 16 * i, 16, ev, &r), RXL_SEQ_ACCEPT);
	struct rxl_dedupe_counters c;
	uint32_t pending;

	assert_int_equal(rxl_dedupe_get(w, 5, &c, &pending, NULL), 0);
	assert_int_equal(c.accepted, 1600);
	assert_int_equal(c.duplicates + c.lost + c.late + pending, 0);
	free(mem);
}

static void test_dedupe_repeated_datagram_is_dropped_and_counted(void **state)
{
	void *mem;
	struct rxl_dedupe_window *w = window_new(64, &mem);
	struct rxl_event ev[16];
	struct rxl_seq_result r;

	(void)state;
	offer(w, 5, 0, 0, 16, ev, &r);
	offer(w, 5, 0, 16, 16, ev, &r);
	assert_int_equal(offer(w, 5, 0, 0, 16, ev, &r), RXL_SEQ_DUPLICATE);
	assert_int_equal(r.duplicates, 16);
	assert_int_equal(offer(w, 5, 0, 16, 16, ev, &r), RXL_SEQ_DUPLICATE);
	assert_int_equal(w->total.duplicates, 32);
	assert_int_equal(w->total.accepted, 32);
	free(mem);
}

static void test_dedupe_gap_is_counted_lost_exactly_once_it_leaves_the_window(void **state)
{
	void *mem;
	struct rxl_dedupe_window *w = window_new(64, &mem);
	struct rxl_event ev[16];
	struct rxl_seq_result r;
	struct rxl_dedupe_counters c;
	uint32_t pending;

	(void)state;
	offer(w, 9, 0, 0, 16, ev, &r);
	assert_int_equal(offer(w, 9, 0, 16 + 48, 16, ev, &r), RXL_SEQ_GAP); /* 3 datagrams lost */
	assert_int_equal(r.gap, 48);
	assert_int_equal(rxl_dedupe_get(w, 9, &c, &pending, NULL), 0);
	assert_int_equal(pending, 48);
	assert_int_equal(c.lost, 0);
	/* Keep sending in order until the hole has left the window. */
	for (int32_t s = 80; s < 80 + RXL_DEDUPE_WINDOW; s += 16)
		assert_int_equal(offer(w, 9, 0, s, 16, ev, &r), RXL_SEQ_ACCEPT);
	assert_int_equal(rxl_dedupe_get(w, 9, &c, &pending, NULL), 0);
	assert_int_equal(pending, 0);
	assert_int_equal(c.lost, 48);
	assert_int_equal(w->total.lost, 48);
	/* A gap wider than the window: exact too. */
	int32_t next = 80 + RXL_DEDUPE_WINDOW;

	assert_int_equal(offer(w, 9, 0, next + 1000, 16, ev, &r), RXL_SEQ_GAP);
	assert_int_equal(r.gap, 1000);
	assert_int_equal(rxl_dedupe_get(w, 9, &c, &pending, NULL), 0);
	assert_int_equal(c.lost + pending, 48 + 1000);
	free(mem);
}

static void test_dedupe_list_orders_producers_by_loss_then_duplicates(void **state)
{
	void *mem;
	struct rxl_dedupe_window *w = window_new(64, &mem);
	struct rxl_event ev[16];
	struct rxl_seq_result r;
	struct rxl_dedupe_report rep[8];

	(void)state;
	/* Producer id: gap in events (0 = none), duplicate datagrams. */
	const int64_t ids[5] = {11, 12, 13, 14, 15};
	const int32_t gaps[5] = {0, 32, 0, 160, 16};
	const int dups[5] = {0, 0, 2, 0, 0};

	for (int i = 0; i < 5; i++) {
		offer(w, ids[i], 0, 0, 16, ev, &r);
		offer(w, ids[i], 0, 16 + gaps[i], 16, ev, &r);
		for (int d = 0; d < dups[i]; d++)
			offer(w, ids[i], 0, 0, 16, ev, &r);
	}
	/* Loss first (14, 12, 15), then duplicates (13), then the rest (11). */
	assert_int_equal(rxl_dedupe_list(w, rep, 8), 5);
	const int64_t want[5] = {14, 12, 15, 13, 11};

	for (int i = 0; i < 5; i++) {
		struct rxl_dedupe_counters c;
		uint32_t pending;

		assert_int_equal(rep[i].id, want[i]);
		assert_int_equal(rxl_dedupe_get(w, rep[i].id, &c, &pending, NULL), 0);
		assert_int_equal(rep[i].pending, pending);
		assert_int_equal(rep[i].c.duplicates, c.duplicates);
		assert_int_equal(rep[i].c.accepted, c.accepted);
	}
	assert_int_equal(rep[0].pending, 160);
	assert_int_equal(rep[3].c.duplicates, 32);
	/* A shorter list keeps the head of the same order. */
	assert_int_equal(rxl_dedupe_list(w, rep, 2), 2);
	assert_int_equal(rep[0].id, 14);
	assert_int_equal(rep[1].id, 12);
	assert_int_equal(rxl_dedupe_list(w, rep, 0), 0);
	free(mem);
}

static void test_dedupe_reordered_datagram_within_window_is_accepted_not_lost(void **state)
{
	void *mem;
	struct rxl_dedupe_window *w = window_new(64, &mem);
	struct rxl_event ev[16];
	struct rxl_seq_result r;
	struct rxl_dedupe_counters c;
	uint32_t pending;

	(void)state;
	offer(w, 1, 0, 0, 16, ev, &r);
	assert_int_equal(offer(w, 1, 0, 32, 16, ev, &r), RXL_SEQ_GAP);
	assert_int_equal(offer(w, 1, 0, 16, 16, ev, &r), RXL_SEQ_LATE); /* arrives late */
	assert_int_equal(r.late, 16);
	assert_int_equal(r.accepted, 16);
	assert_int_equal(offer(w, 1, 0, 16, 16, ev, &r), RXL_SEQ_DUPLICATE); /* and again */
	for (int32_t s = 48; s < 48 + 2 * RXL_DEDUPE_WINDOW; s += 16)
		offer(w, 1, 0, s, 16, ev, &r);
	assert_int_equal(rxl_dedupe_get(w, 1, &c, &pending, NULL), 0);
	assert_int_equal(c.lost, 0);
	assert_int_equal(c.late, 16);
	assert_int_equal(c.duplicates, 16);
	free(mem);
}

static void test_dedupe_sequence_older_than_window_is_duplicate(void **state)
{
	void *mem;
	struct rxl_dedupe_window *w = window_new(64, &mem);
	struct rxl_event ev[16];
	struct rxl_seq_result r;

	(void)state;
	offer(w, 1, 0, 0, 1, ev, &r);
	offer(w, 1, 0, 10 + RXL_DEDUPE_WINDOW, 1, ev, &r); /* 1 .. W+9 missing */
	/* 5 is more than W below next (W + 11): too old, even though never seen. */
	assert_int_equal(offer(w, 1, 0, 5, 1, ev, &r), RXL_SEQ_DUPLICATE);
	/* 20 is inside the window and missing: late. */
	assert_int_equal(offer(w, 1, 0, 20, 1, ev, &r), RXL_SEQ_LATE);
	free(mem);
}

static void test_dedupe_partial_overlap_keeps_only_new_events_in_order(void **state)
{
	void *mem;
	struct rxl_dedupe_window *w = window_new(64, &mem);
	struct rxl_event ev[16];
	struct rxl_seq_result r;

	(void)state;
	offer(w, 1, 0, 0, 16, ev, &r);
	assert_int_equal(offer(w, 1, 0, 8, 16, ev, &r), RXL_SEQ_ACCEPT);
	assert_int_equal(r.duplicates, 8);
	assert_int_equal(r.accepted, 8);
	for (int i = 0; i < 8; i++)
		assert_int_equal(ev[i].sequence, 16 + i);
	/* holes and repeats mixed: 24..31 new, 20 repeat, 40 ahead */
	offer(w, 1, 0, 40, 1, ev, &r);					/* 24..39 missing */
	assert_int_equal(offer(w, 1, 0, 20, 16, ev, &r), RXL_SEQ_LATE); /* 20..35 */
	assert_int_equal(r.duplicates, 4);
	assert_int_equal(r.late, 12);
	for (int i = 0; i < 12; i++)
		assert_int_equal(ev[i].sequence, 24 + i);
	free(mem);
}

static void test_dedupe_new_epoch_resets_without_counting_a_gap(void **state)
{
	void *mem;
	struct rxl_dedupe_window *w = window_new(64, &mem);
	struct rxl_event ev[16];
	struct rxl_seq_result r;
	struct rxl_dedupe_counters c;
	uint32_t pending;
	int16_t epoch;

	(void)state;
	offer(w, 3, 1, 5000, 16, ev, &r);
	offer(w, 3, 1, 5016, 16, ev, &r);
	assert_int_equal(offer(w, 3, 2, 0, 16, ev, &r), RXL_SEQ_NEW_EPOCH); /* restart */
	assert_int_equal(r.accepted, 16);
	assert_int_equal(r.gap, 0);
	assert_int_equal(offer(w, 3, 2, 16, 16, ev, &r), RXL_SEQ_ACCEPT);
	assert_int_equal(offer(w, 3, 2, 0, 16, ev, &r), RXL_SEQ_DUPLICATE);
	assert_int_equal(rxl_dedupe_get(w, 3, &c, &pending, &epoch), 0);
	assert_int_equal(epoch, 2);
	assert_int_equal(c.lost + pending, 0);
	assert_int_equal(c.accepted, 64);
	assert_int_equal(w->new_epochs, 1);
	free(mem);
}

static void test_dedupe_sequence_wraps_past_int32_max(void **state)
{
	void *mem;
	struct rxl_dedupe_window *w = window_new(64, &mem);
	struct rxl_event ev[16];
	struct rxl_seq_result r;

	(void)state;
	offer(w, 1, 0, INT32_MAX - 20, 16, ev, &r);
	assert_int_equal(offer(w, 1, 0, INT32_MAX - 4, 16, ev, &r), RXL_SEQ_ACCEPT); /* wraps */
	assert_int_equal(ev[15].sequence, 10);
	assert_int_equal(offer(w, 1, 0, 11, 16, ev, &r), RXL_SEQ_ACCEPT);
	assert_int_equal(offer(w, 1, 0, INT32_MAX - 4, 16, ev, &r), RXL_SEQ_DUPLICATE);
	assert_int_equal(offer(w, 1, 0, 27 + 5, 1, ev, &r), RXL_SEQ_GAP);
	assert_int_equal(r.gap, 5);
	free(mem);
}

static void test_dedupe_full_set_evicts_least_recently_used_producer(void **state)
{
	void *mem;
	struct rxl_dedupe_window *w = window_new(RXL_DEDUPE_WAYS, &mem); /* one set */
	struct rxl_event ev[4];
	struct rxl_seq_result r;

	(void)state;
	assert_int_equal(w->n_sets, 1);
	for (int64_t id = 100; id < 100 + RXL_DEDUPE_WAYS; id++)
		assert_int_equal(offer(w, id, 0, 0, 4, ev, &r), RXL_SEQ_NEW_PRODUCER);
	offer(w, 100, 0, 4, 4, ev, &r); /* 101 is now the least recently used */
	offer(w, 102, 0, 8, 1, ev, &r); /* leaves 4 .. 7 of 102 as holes */
	assert_int_equal(offer(w, 999, 0, 0, 4, ev, &r), RXL_SEQ_NEW_PRODUCER);
	assert_int_equal(w->evictions, 1);
	assert_int_equal(rxl_dedupe_get(w, 101, NULL, NULL, NULL), -ENOENT);
	assert_int_equal(rxl_dedupe_get(w, 999, NULL, NULL, NULL), 0);
	assert_int_equal(rxl_dedupe_get(w, 100, NULL, NULL, NULL), 0);
	/* Evict 102 (now the oldest but 103.. were used before it? no: 103 is older) */
	for (int64_t id = 103; id < 100 + RXL_DEDUPE_WAYS; id++)
		offer(w, id, 0, 4, 4, ev, &r);
	offer(w, 100, 0, 8, 4, ev, &r);
	offer(w, 999, 0, 4, 4, ev, &r);
	assert_int_equal(offer(w, 1000, 0, 0, 4, ev, &r), RXL_SEQ_NEW_PRODUCER);
	assert_int_equal(rxl_dedupe_get(w, 102, NULL, NULL, NULL), -ENOENT);
	assert_int_equal(w->total.lost, 4); /* 102's holes became final */
	/* An evicted producer that comes back starts afresh: no gap, no duplicate. */
	assert_int_equal(offer(w, 101, 0, 4, 4, ev, &r), RXL_SEQ_NEW_PRODUCER);
	assert_int_equal(w->producers, RXL_DEDUPE_WAYS);
	free(mem);
}

static void test_dedupe_producer_without_id_is_never_checked(void **state)
{
	void *mem;
	struct rxl_dedupe_window *w = window_new(8, &mem);
	struct rxl_event ev[4];
	struct rxl_seq_result r;

	(void)state;
	assert_int_equal(offer(w, -1, -1, 0, 4, ev, &r), RXL_SEQ_NO_PRODUCER);
	assert_int_equal(offer(w, -1, -1, 0, 4, ev, &r), RXL_SEQ_NO_PRODUCER);
	assert_int_equal(r.accepted, 4);
	assert_int_equal(w->producers, 0);
	free(mem);
}

static void test_dedupe_init_rejects_bad_capacity_size_or_alignment(void **state)
{
	struct rxl_dedupe_window w;
	size_t size = rxl_dedupe_mem_size(16);
	uint8_t *mem = aligned_alloc(64, size + 64);

	(void)state;
	assert_int_equal(rxl_dedupe_mem_size(0), 0);
	assert_int_equal(rxl_dedupe_mem_size((1u << 24) + 1), 0);
	assert_int_equal(rxl_dedupe_init(&w, mem, size - 1, 16), -EINVAL);
	assert_int_equal(rxl_dedupe_init(&w, mem + 8, size, 16), -EINVAL);
	assert_int_equal(rxl_dedupe_init(&w, mem, size, 0), -EINVAL);
	assert_int_equal(rxl_dedupe_init(&w, mem, size, 16), 0);
	assert_int_equal(w.n_sets * RXL_DEDUPE_WAYS, 16);
	free(mem);
}

/*
 * Model: absolute (64-bit, never wrapping) sequences; a sequence is accepted iff it is at or
 * above next, or at most W below next and not accepted before (what came before a producer's
 * first datagram counts as accepted). At the end: lost = holes below next - W, pending = holes
 * in [next - W, next).
 */
static void test_dedupe_matches_model_under_loss_duplication_and_reordering(void **state)
{
	enum { N = 30000, PRODUCERS = 3 };
	static uint8_t seen[PRODUCERS][N + 64];
	void *mem;
	struct rxl_dedupe_window *w = window_new(64, &mem);
	struct rxl_event ev[16];

	(void)state;
	memset(seen, 0, sizeof(seen));
	/* Producer p's sequences start just below the wrap for p == 1. */
	const int64_t start[PRODUCERS] = {0, INT32_MAX - 5000, 777};
	int64_t next[PRODUCERS] = {-1, -1, -1}, sent[PRODUCERS] = {0};
	uint64_t dups = 0, late = 0, acc = 0;
	/* a few datagrams held back for reordering or re-sending */
	struct held {
		int p;
		int64_t b;
		uint32_t n;
	} hold[8];
	int nhold = 0;

	while (sent[0] < N - 40 || sent[1] < N - 40 || sent[2] < N - 40) {
		int p = (int)rnd_below(PRODUCERS);

		if (sent[p] >= N - 40)
			continue;
		struct held d = {p, sent[p], 1 + rnd_below(16)};

		sent[p] += d.n;
		uint32_t action = rnd_below(20);

		if (action == 0)
			continue; /* lost in transit */
		if (action <= 2 && nhold < 8) {
			hold[nhold++] = d; /* delayed */
			continue;
		}
		if (action == 3 && nhold > 0) { /* a held one goes first (reorder / duplicate) */
			int k = (int)rnd_below((uint32_t)nhold);
			struct held x = hold[k];

			if (rnd_below(2))
				hold[k] = hold[--nhold];
			hold[nhold < 8 ? nhold++ : 0] = d;
			d = x;
		}
		/* model */
		int64_t *nx = &next[d.p];
		uint32_t want_keep = 0;
		int64_t kept_seq[16];

		if (*nx < 0) {
			*nx = d.b; /* prehistory: everything below is "accepted" */
			for (int64_t s = 0; s < d.b; s++)
				seen[d.p][s] = 1;
		}
		for (uint32_t i = 0; i < d.n; i++) {
			int64_t s = d.b + (int64_t)i;

			if (s >= *nx || (s >= *nx - RXL_DEDUPE_WINDOW && !seen[d.p][s])) {
				if (s < *nx)
					late++;
				kept_seq[want_keep++] = s;
			} else {
				dups++;
			}
		}
		for (uint32_t i = 0; i < want_keep; i++)
			seen[d.p][kept_seq[i]] = 1;
		if (d.b + d.n > *nx)
			*nx = d.b + d.n;
		acc += want_keep;
		/* the real thing */
		struct rxl_seq_result r;
		int32_t base = (int32_t)((start[d.p] + d.b) & 0x7FFFFFFF);

		offer(w, 40 + d.p, 0, base, d.n, ev, &r);
		assert_int_equal(r.accepted, want_keep);
		for (uint32_t i = 0; i < want_keep; i++)
			assert_int_equal(ev[i].sequence,
					 (int32_t)((start[d.p] + kept_seq[i]) & 0x7FFFFFFF));
	}
	assert_int_equal(w->total.accepted, acc);
	assert_int_equal(w->total.duplicates, dups);
	assert_int_equal(w->total.late, late);
	uint64_t lost_all = 0;

	for (int p = 0; p < PRODUCERS; p++) {
		uint64_t lost = 0, pending = 0;

		for (int64_t s = 0; s < next[p]; s++)
			if (!seen[p][s])
				*(s < next[p] - RXL_DEDUPE_WINDOW ? &lost : &pending) += 1;
		struct rxl_dedupe_counters c;
		uint32_t pend;

		assert_int_equal(rxl_dedupe_get(w, 40 + p, &c, &pend, NULL), 0);
		assert_int_equal(c.lost, lost);
		assert_int_equal(pend, pending);
		lost_all += lost;
	}
	assert_int_equal(w->total.lost, lost_all);
	free(mem);
}

/* ---- syslog ------------------------------------------------------------------------------ */

struct syslog_case {
	const char *name;
	const char *msg;
	size_t len;	 /* 0: strlen(msg) */
	int64_t recv_ms; /* 0: RECV_MS */
	int32_t tz_min;
	int want; /* 1, or -reason */
	const char *key;
	int64_t ts; /* 0: the receive time */
	const char *sev, *fac, *app;
	size_t skip_head; /* value = msg[skip_head .. len - skip_tail) */
	size_t skip_tail;
	enum rxl_fmt_reason note;
};

#define BOM "\xef\xbb\xbf"

static const struct syslog_case syslog_cases[] = {
	/* util-linux logger 2.38.1, captured with socat on this machine */
	{"logger --rfc3164", "<13>Nov 27 18:12:08 vm myapp: hello from logger rfc3164", 0, 0, 0, 1,
	 "vm", 1795803128000LL, "5", "1", "myapp", 0, 0, 0},
	{"logger --rfc3164 -i -p cron.info",
	 "<78>Nov 27 18:12:12 vm cron[8781]: (root) CMD (run-parts /etc/cron.hourly)", 0, 0, 0, 1,
	 "vm", 1795803132000LL, "6", "9", "cron", 0, 0, 0},
	{"logger --rfc3164, sender in New York (UTC-5)",
	 "<13>Nov 27 13:17:52 vm app: ny local time", 0, 0, -300, 1, "vm", 1795803472000LL, "5",
	 "1", "app", 0, 0, 0},
	{"logger --rfc5424 -p local3.err",
	 "<155>1 2026-11-27T18:12:09.029074+00:00 vm myapp - - [timeQuality tzKnown=\"1\" "
	 "isSynced=\"0\"] hello from logger rfc5424",
	 0, 0, 0, 1, "vm", 1795803129029LL, "3", "19", "myapp", 0, 0, 0},
	{"logger --rfc5424, TZ=America/New_York",
	 "<191>1 2026-11-27T13:17:51.101103-05:00 vm app - - [timeQuality tzKnown=\"1\" "
	 "isSynced=\"0\"] new york offset",
	 0, 0, 0, 1, "vm", 1795803471101LL, "7", "23", "app", 0, 0, 0},
	{"logger --rfc5424, TZ=Asia/Kolkata",
	 "<134>1 2026-11-27T23:47:51.711404+05:30 vm app - - [timeQuality tzKnown=\"1\" "
	 "isSynced=\"0\"] kolkata offset",
	 0, 0, 0, 1, "vm", 1795803471711LL, "6", "16", "app", 0, 0, 0},
	{"logger --rfc5424=nohost: key falls back to the app",
	 "<22>1 2026-11-27T18:12:11.493118+00:00 - app - - [timeQuality tzKnown=\"1\" "
	 "isSynced=\"0\"] no host",
	 0, 0, 0, 1, "app", 1795803131493LL, "6", "2", "app", 0, 0, 0},
	{"logger --rfc5424=notq,notime", "<8>1 - vm app - - - no time no tq", 0, 0, 0, 1, "vm", 0,
	 "0", "1", "app", 0, 0, RXL_FMT_SYSLOG_NO_TIMESTAMP},
	{"logger --rfc5424 --octet-count",
	 "102 <13>1 2026-11-27T18:12:12.724799+00:00 vm app - - [timeQuality tzKnown=\"1\" "
	 "isSynced=\"0\"] octet counted",
	 0, 0, 0, 1, "vm", 1795803132724LL, "5", "1", "app", 4, 0, 0},
	{"logger --rfc5424 --msgid ID47",
	 "<34>1 2026-11-27T18:12:10.267929+00:00 vm su - ID47 [timeQuality tzKnown=\"1\" "
	 "isSynced=\"0\"] 'su root' failed for lonvick on /dev/pts/8",
	 0, 0, 0, 1, "vm", 1795803130267LL, "2", "4", "su", 0, 0, 0},
	{"logger --rfc5424 --sd-id",
	 "<28>1 2026-11-27T18:12:09.653783+00:00 vm app - - [timeQuality tzKnown=\"1\" "
	 "isSynced=\"0\"][exampleSDID@32473 iut=\"3\" eventSource=\"Application\"] with structured "
	 "data",
	 0, 0, 0, 1, "vm", 1795803129653LL, "4", "3", "app", 0, 0, 0},
	{"logger --rfc5424, UTF-8 message",
	 "<13>1 2026-11-27T18:12:13.337275+00:00 vm app - - [timeQuality tzKnown=\"1\" "
	 "isSynced=\"0\"] h\xc3\xa9llo w\xc3\xb6rld \xe2\x9c\x93",
	 0, 0, 0, 1, "vm", 1795803133337LL, "5", "1", "app", 0, 0, 0},
	/* rsyslog 8.2302 forwarding a logger message, one template each */
	{"rsyslog RSYSLOG_TraditionalForwardFormat",
	 "<38>Nov 27 18:23:37 vm sshd[2334]: Accepted publickey for root from 198.18.0.9 port "
	 "40000 ssh2",
	 0, 0, 0, 1, "vm", 1795803817000LL, "6", "4", "sshd", 0, 0, 0},
	{"rsyslog RSYSLOG_ForwardFormat",
	 "<38>2026-11-27T18:23:37+00:00 vm sshd[2334]: Accepted publickey for root from "
	 "198.18.0.9 port 40000 ssh2",
	 0, 0, 0, 1, "vm", 1795803817000LL, "6", "4", "sshd", 0, 0, 0},
	{"rsyslog RSYSLOG_SyslogProtocol23Format (trailing LF)",
	 "<38>1 2026-11-27T18:23:37+00:00 vm sshd 2334 - -  Accepted publickey for root from "
	 "198.18.0.9 port 40000 ssh2\n",
	 0, 0, 0, 1, "vm", 1795803817000LL, "6", "4", "sshd", 0, 1, 0},
	{"rsyslog traditional, from an RFC 5424 input (tag without colon)",
	 "<188>Nov 27 18:23:46 vm nginx[777] upstream timed out", 0, 0, 0, 1, "vm", 1795803826000LL,
	 "4", "23", "nginx", 0, 0, 0},
	{"rsyslog forward, from an RFC 5424 input (fraction)",
	 "<188>2026-11-27T18:23:46.619041+00:00 vm nginx[777] upstream timed out", 0, 0, 0, 1, "vm",
	 1795803826619LL, "4", "23", "nginx", 0, 0, 0},
	/* syslog-ng 3.38: network() (BSD, LF) and syslog() (RFC 5424, LF) destinations */
	{"syslog-ng network() BSD",
	 "<22>Nov 27 18:24:18 vm postfix/smtpd[3830]: connect from unknown[198.18.0.7]\n", 0, 0, 0,
	 1, "vm", 1795803858000LL, "6", "2", "postfix/smtpd", 0, 1, 0},
	{"syslog-ng syslog() RFC 5424",
	 "<22>1 2026-11-27T18:24:18+00:00 vm postfix/smtpd 3830 - - connect from "
	 "unknown[198.18.0.7]\n",
	 0, 0, 0, 1, "vm", 1795803858000LL, "6", "2", "postfix/smtpd", 0, 1, 0},
	{"syslog-ng re-sending an RFC 5424 message it read as BSD",
	 "<12>Nov 27 18:24:18 127.0.0.1 1 2026-11-27T18:24:18.966053+00:00 vm kernel - - "
	 "[timeQuality tzKnown=\"1\" isSynced=\"0\"] eth0: link down\n",
	 0, 0, 0, 1, "127.0.0.1", 1795803858000LL, "4", "1", NULL, 0, 1, 0},
	/* RFC 5424 6.5 */
	{"RFC 5424 example 1 (BOM)",
	 "<34>1 2003-10-11T22:14:15.003Z mymachine.example.com su - ID47 - " BOM
	 "'su root' failed for lonvick on /dev/pts/8",
	 0, 0, 0, 1, "mymachine.example.com", 1065910455003LL, "2", "4", "su", 0, 0, 0},
	{"RFC 5424 example 2 (offset -07:00, microseconds)",
	 "<165>1 2003-08-24T05:14:15.000003-07:00 192.0.2.1 myproc 8710 - - %% It's time to make "
	 "the do-nuts.",
	 0, 0, 0, 1, "192.0.2.1", 1061727255000LL, "5", "20", "myproc", 0, 0, 0},
	{"RFC 5424 example 3 (SD, BOM)",
	 "<165>1 2003-10-11T22:14:15.003Z mymachine.example.com evntslog - ID47 [exampleSDID@32473 "
	 "iut=\"3\" eventSource=\"Application\" eventID=\"1011\"] " BOM
	 "An application event log entry...",
	 0, 0, 0, 1, "mymachine.example.com", 1065910455003LL, "5", "20", "evntslog", 0, 0, 0},
	{"RFC 5424 example 4 (two SD elements, no MSG)",
	 "<165>1 2003-10-11T22:14:15.003Z mymachine.example.com evntslog - ID47 [exampleSDID@32473 "
	 "iut=\"3\" eventSource=\"Application\" eventID=\"1011\"][examplePriority@32473 "
	 "class=\"high\"]",
	 0, 0, 0, 1, "mymachine.example.com", 1065910455003LL, "5", "20", "evntslog", 0, 0, 0},
	/* RFC 3164 5.4 */
	{"RFC 3164 example 1",
	 "<34>Oct 11 22:14:15 mymachine su: 'su root' failed for lonvick on "
	 "/dev/pts/8",
	 0, 1065910500000LL, 0, 1, "mymachine", 1065910455000LL, "2", "4", "su", 0, 0, 0},
	{"RFC 3164 example 2 (no TAG; last February)", "<13>Feb  5 17:32:18 10.0.0.99 Use the BFG!",
	 0, 0, 0, 1, "10.0.0.99", 1770312738000LL, "5", "1", NULL, 0, 0, 0},
	{"RFC 3164 example 3 (a zone name is taken for the host)",
	 "<165>Aug 24 05:34:00 CST 1987 mymachine myproc[10]: %% It's time to make the do-nuts.", 0,
	 0, 0, 1, "CST", 1787549640000LL, "5", "20", NULL, 0, 0, 0},
	{"RFC 3164 example 4 (no timestamp: all CONTENT)",
	 "<0>1990 Oct 22 10:52:01 TZ-6 scapegoat.dmz.example.org 10.1.2.3 sched[0]: That's All "
	 "Folks!",
	 0, 0, 0, 1, "198.18.0.9", 0, "0", "0", NULL, 0, 0, RXL_FMT_SYSLOG_NO_TIMESTAMP},
	/* other real shapes */
	{"Cisco IOS sequence number",
	 "<189>123: *Nov 27 10:00:00.123: %SYS-5-CONFIG_I: Configured "
	 "from console",
	 0, 0, 0, 1, "198.18.0.9", 0, "5", "23", NULL, 0, 0, RXL_FMT_SYSLOG_NO_TIMESTAMP},
	{"PRI and content only", "<13>link up on port 7", 0, 0, 0, 1, "198.18.0.9", 0, "5", "1",
	 NULL, 0, 0, RXL_FMT_SYSLOG_NO_TIMESTAMP},
	{"BSD with a year", "<13>Nov 27 2026 10:00:00 switch1 stp[1]: topology change", 0, 0, 0, 1,
	 "switch1", 1795773600000LL, "5", "1", "stp", 0, 0, 0},
	{"BSD without host name", "<13>Nov 27 10:00:00 cron[42]: job done", 0, 0, 0, 1, "cron",
	 1795773600000LL, "5", "1", "cron", 0, 0, 0},
	{"BSD, space-padded day, fraction, CRLF",
	 "<14>Nov  7 01:02:03.456 edge01 app: windows style\r\n", 0, 0, 0, 1, "edge01",
	 1794013323456LL, "6", "1", "app", 0, 2, 0},
	{"BSD December received in January", "<13>Dec 31 23:59:59 host app: end of year", 0,
	 1798761605000LL, 0, 1, "host", 1798761599000LL, "5", "1", "app", 0, 0, 0},
	{"BSD January received in December", "<13>Jan  1 00:00:01 host app: new year early", 0,
	 1798761598000LL, 0, 1, "host", 1798761601000LL, "5", "1", "app", 0, 0, 0},
	{"BSD with a NUL terminator", "<13>Nov 27 10:00:00 host app: nul\0", 34, 0, 0, 1, "host",
	 1795773600000LL, "5", "1", "app", 0, 1, 0},
	{"IPv6 host name", "<13>Nov 27 10:00:00 2001:db8::1 app[1]: v6 host", 0, 0, 0, 1,
	 "2001:db8::1", 1795773600000LL, "5", "1", "app", 0, 0, 0},
	{"RFC 5424 all nil", "<0>1 - - - - - -", 0, 0, 0, 1, "198.18.0.9", 0, "0", "0", NULL, 0, 0,
	 RXL_FMT_SYSLOG_NO_TIMESTAMP},
	{"RFC 5424 leap second", "<13>1 2016-12-31T23:59:60Z host app - - - leap", 0, 0, 0, 1,
	 "host", 1483228800000LL, "5", "1", "app", 0, 0, 0},
	{"RFC 5424 nanoseconds", "<13>1 2026-11-27T10:00:00.123456789+01:00 host app - - - ns", 0,
	 0, 0, 1, "host", 1795770000123LL, "5", "1", "app", 0, 0, 0},
	{"only one trailing LF goes", "<13>1 - host app - - - two\n\n", 0, 0, 0, 1, "host", 0, "5",
	 "1", "app", 0, 1, RXL_FMT_SYSLOG_NO_TIMESTAMP},
	/* kept, with a note */
	{"RFC 5424 month 13", "<13>1 2026-13-27T10:00:00Z host app - - - bad month", 0, 0, 0, 1,
	 "host", 0, "5", "1", "app", 0, 0, RXL_FMT_SYSLOG_BAD_TIMESTAMP},
	{"RFC 5424 offset without colon", "<13>1 2026-11-27T10:00:00+0100 host app - - - x", 0, 0,
	 0, 1, "host", 0, "5", "1", "app", 0, 0, RXL_FMT_SYSLOG_BAD_TIMESTAMP},
	{"BSD 30 February", "<13>Feb 30 10:00:00 host app: no such day", 0, 0, 0, 1, "198.18.0.9",
	 0, "5", "1", NULL, 0, 0, RXL_FMT_SYSLOG_BAD_TIMESTAMP},
	{"RFC 5424 header cut after the host", "<13>1 2026-11-27T10:00:00Z host", 0, 0, 0, 1,
	 "host", 1795773600000LL, "5", "1", NULL, 0, 0, RXL_FMT_SYSLOG_BAD_HEADER},
	{"RFC 5424 APP-NAME over 48",
	 "<13>1 2026-11-27T10:00:00Z h "
	 "a1234567890123456789012345678901234567890123456789 - - -",
	 0, 0, 0, 1, "h", 1795773600000LL, "5", "1", NULL, 0, 0, RXL_FMT_SYSLOG_BAD_HEADER},
	{"binary after the PRI", "<13>\x01\xff\xfe binary", 0, 0, 0, 1, "198.18.0.9", 0, "5", "1",
	 NULL, 0, 0, RXL_FMT_SYSLOG_NO_TIMESTAMP},
	/* dropped */
	{"zero bytes", "", 0, 0, 0, -RXL_FMT_EMPTY, NULL, 0, NULL, NULL, NULL, 0, 0, 0},
	{"a newline only", "\n", 0, 0, 0, -RXL_FMT_EMPTY, NULL, 0, NULL, NULL, NULL, 0, 0, 0},
	{"no PRI", "hello world", 0, 0, 0, -RXL_FMT_SYSLOG_NO_PRI, NULL, 0, NULL, NULL, NULL, 0, 0,
	 0},
	{"PRI 192", "<192>1 - - - - - -", 0, 0, 0, -RXL_FMT_SYSLOG_BAD_PRI, NULL, 0, NULL, NULL,
	 NULL, 0, 0, 0},
	{"PRI not closed", "<13 Nov 27 10:00:00 host app: x", 0, 0, 0, -RXL_FMT_SYSLOG_BAD_PRI,
	 NULL, 0, NULL, NULL, NULL, 0, 0, 0},
	{"PRI empty", "<>msg", 0, 0, 0, -RXL_FMT_SYSLOG_BAD_PRI, NULL, 0, NULL, NULL, NULL, 0, 0,
	 0},
	{"PRI four digits", "<0013>msg", 0, 0, 0, -RXL_FMT_SYSLOG_BAD_PRI, NULL, 0, NULL, NULL,
	 NULL, 0, 0, 0},
	{"PRI at the end", "<13", 0, 0, 0, -RXL_FMT_SYSLOG_BAD_PRI, NULL, 0, NULL, NULL, NULL, 0, 0,
	 0},
	{"octet count too large", "999 <13>1 - - - - - -", 0, 0, 0, -RXL_FMT_SYSLOG_BAD_OCTET_COUNT,
	 NULL, 0, NULL, NULL, NULL, 0, 0, 0},
	{"digits without a frame", "13hello", 0, 0, 0, -RXL_FMT_SYSLOG_NO_PRI, NULL, 0, NULL, NULL,
	 NULL, 0, 0, 0},
};

static const struct syslog_case *find_case(const char *name)
{
	for (size_t i = 0; i < sizeof(syslog_cases) / sizeof(syslog_cases[0]); i++)
		if (strcmp(syslog_cases[i].name, name) == 0)
			return &syslog_cases[i];
	fail_msg("no syslog case '%s'", name);
	return NULL;
}

static int parse_syslog(const struct syslog_case *t, enum rxl_fmt_key key, struct rxl_event *ev,
			struct rxl_fmt_counters *c, uint8_t **copy, struct rxl_fmt_in *in)
{
	size_t len = t->len ? t->len : strlen(t->msg);
	struct rxl_fmt_config cfg = {
		.kind = RXL_FMT_SYSLOG, .key = key, .rfc3164_utc_offset_min = t->tz_min};
	uint32_t pos = 0;

	*copy = exact_copy(t->msg, len);
	in_init(in, *copy, len, t->recv_ms ? t->recv_ms : RECV_MS);
	int n = rxl_fmt_parse(&cfg, in, &pos, ev, 4, c);

	assert_int_equal(pos, len);
	if (n > 0)
		check_events_in_bounds(in, ev, n);
	return n;
}

static void test_syslog_real_world_messages_map_to_key_timestamp_headers_value(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(syslog_cases) / sizeof(syslog_cases[0]); i++) {
		const struct syslog_case *t = &syslog_cases[i];
		struct rxl_event ev[4];
		struct rxl_fmt_counters c = {0};
		struct rxl_fmt_in in;
		uint8_t *copy;
		int n = parse_syslog(t, RXL_FMT_KEY_DEFAULT, ev, &c, &copy, &in);

		fprintf(stderr, "  %s\n", t->name);
		assert_int_equal(n, t->want);
		if (n < 0) {
			assert_int_equal(c.n[-n], 1);
			assert_int_equal(sum_counters(&c), 1);
			free(copy);
			continue;
		}
		size_t len = t->len ? t->len : strlen(t->msg);

		assert_bytes(ev[0].key, ev[0].key_len, t->key);
		assert_int_equal(ev[0].timestamp_ms, t->ts ? t->ts : in.recv_ms);
		assert_header(&ev[0], "severity", t->sev);
		assert_header(&ev[0], "facility", t->fac);
		assert_header(&ev[0], "app", t->app);
		assert_header(&ev[0], "src", "198.18.0.9");
		assert_int_equal(ev[0].value_len, len - t->skip_head - t->skip_tail);
		assert_ptr_equal(ev[0].value, copy + t->skip_head);
		assert_int_equal(ev[0].producer_id, -1);
		assert_int_equal(ev[0].sequence, -1);
		assert_int_equal(sum_counters(&c), t->note ? 1 : 0);
		if (t->note)
			assert_int_equal(c.n[t->note], 1);
		free(copy);
	}
}

static void test_syslog_every_truncation_is_parsed_within_bounds(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(syslog_cases) / sizeof(syslog_cases[0]); i++) {
		size_t len =
			syslog_cases[i].len ? syslog_cases[i].len : strlen(syslog_cases[i].msg);

		for (size_t cut = 0; cut <= len; cut++) {
			struct syslog_case t = syslog_cases[i];
			struct rxl_event ev[4];
			struct rxl_fmt_counters c = {0};
			struct rxl_fmt_in in;
			uint8_t *copy;

			t.len = cut;
			if (cut == 0) { /* len 0 means strlen in the table */
				uint32_t pos = 0;
				struct rxl_fmt_config cfg = {.kind = RXL_FMT_SYSLOG};

				in_init(&in, (const uint8_t *)"", 0, RECV_MS);
				assert_int_equal(rxl_fmt_parse(&cfg, &in, &pos, ev, 4, &c),
						 -RXL_FMT_EMPTY);
				continue;
			}
			int n = parse_syslog(&t, RXL_FMT_KEY_DEFAULT, ev, &c, &copy, &in);

			assert_true(n == 1 ||
				    (n < 0 && rxl_fmt_reason_is_drop((enum rxl_fmt_reason) - n)));
			assert_int_equal(c.n[n < 0 ? -n : 0], n < 0 ? 1 : 0);
			free(copy);
		}
	}
}

static void test_syslog_key_setting_chooses_host_app_source_or_none(void **state)
{
	const struct syslog_case *t = find_case("logger --rfc3164 -i -p cron.info"); /* vm cron */
	struct rxl_event ev[4];
	struct rxl_fmt_counters c = {0};
	struct rxl_fmt_in in;
	uint8_t *copy;

	(void)state;
	assert_int_equal(parse_syslog(t, RXL_FMT_KEY_APP, ev, &c, &copy, &in), 1);
	assert_bytes(ev[0].key, ev[0].key_len, "cron");
	free(copy);
	assert_int_equal(parse_syslog(t, RXL_FMT_KEY_HOST, ev, &c, &copy, &in), 1);
	assert_bytes(ev[0].key, ev[0].key_len, "vm");
	free(copy);
	assert_int_equal(parse_syslog(find_case("BSD without host name"), RXL_FMT_KEY_HOST, ev, &c,
				      &copy, &in),
			 1);
	assert_bytes(ev[0].key, ev[0].key_len, NULL); /* "cron[42]:" without host */
	free(copy);
	assert_int_equal(parse_syslog(t, RXL_FMT_KEY_SRC, ev, &c, &copy, &in), 1);
	assert_bytes(ev[0].key, ev[0].key_len, "198.18.0.9");
	free(copy);
	assert_int_equal(parse_syslog(t, RXL_FMT_KEY_NONE, ev, &c, &copy, &in), 1);
	assert_bytes(ev[0].key, ev[0].key_len, NULL);
	free(copy);
}

static void test_syslog_source_header_formats_ipv6_and_is_absent_when_unknown(void **state)
{
	static const char msg[] = "<13>link up";
	struct rxl_fmt_config cfg = {.kind = RXL_FMT_SYSLOG};
	struct rxl_event ev[1];
	struct rxl_fmt_counters c = {0};
	struct rxl_fmt_in in;
	uint32_t pos = 0;

	(void)state;
	in_init(&in, (const uint8_t *)msg, strlen(msg), RECV_MS);
	in.src_family = AF_INET6;
	memcpy(in.src_addr, (uint8_t[16]){0x20, 0x01, 0x0d, 0xb8, [15] = 1}, 16);
	assert_int_equal(rxl_fmt_parse(&cfg, &in, &pos, ev, 1, &c), 1);
	assert_header(&ev[0], "src", "2001:db8::1");
	assert_bytes(ev[0].key, ev[0].key_len, "2001:db8::1");
	in.src_family = AF_INET;
	memcpy(in.src_addr, (uint8_t[4]){255, 0, 10, 100}, 4);
	pos = 0;
	assert_int_equal(rxl_fmt_parse(&cfg, &in, &pos, ev, 1, &c), 1);
	assert_header(&ev[0], "src", "255.0.10.100");
	in.src_family = 4; /* rxl_l2l4's RXL_AF_IPV4 */
	pos = 0;
	assert_int_equal(rxl_fmt_parse(&cfg, &in, &pos, ev, 1, &c), 1);
	assert_header(&ev[0], "src", "255.0.10.100");
	in.src_family = 0;
	pos = 0;
	assert_int_equal(rxl_fmt_parse(&cfg, &in, &pos, ev, 1, &c), 1);
	assert_header(&ev[0], "src", NULL);
	assert_bytes(ev[0].key, ev[0].key_len, NULL); /* no host, no app, no source */
	assert_int_equal(ev[0].n_headers, 2);
}

static void test_syslog_oversize_message_is_dropped(void **state)
{
	static const char msg[] = "<13>Nov 27 10:00:00 host app: 0123456789";
	struct rxl_fmt_config cfg = {.kind = RXL_FMT_SYSLOG};
	struct rxl_event ev[1];
	struct rxl_fmt_counters c = {0};
	struct rxl_fmt_in in;
	uint32_t pos = 0;

	(void)state;
	in_init(&in, (const uint8_t *)msg, strlen(msg), RECV_MS);
	cfg.max_event_bytes = (uint32_t)strlen(msg) + 4 - 1; /* value + key "host" */
	assert_int_equal(rxl_fmt_parse(&cfg, &in, &pos, ev, 1, &c), -RXL_FMT_OVERSIZE_EVENT);
	assert_int_equal(c.n[RXL_FMT_OVERSIZE_EVENT], 1);
	cfg.max_event_bytes++;
	pos = 0;
	assert_int_equal(rxl_fmt_parse(&cfg, &in, &pos, ev, 1, &c), 1);
}

static void test_syslog_random_bytes_never_escape_the_payload(void **state)
{
	static const char alphabet[] = "<>0123456789 -:.TZ+[]\"=\n\rJanFebNovDec@a";
	uint8_t buf[200];
	struct rxl_fmt_config cfg = {.kind = RXL_FMT_SYSLOG};

	(void)state;
	for (int iter = 0; iter < 50000; iter++) {
		/* start from a real message and damage it, or build one from syslog-ish bytes */
		size_t len;

		if (rnd_below(2)) {
			const struct syslog_case *t = &syslog_cases[rnd_below(
				sizeof(syslog_cases) / sizeof(syslog_cases[0]))];

			len = t->len ? t->len : strlen(t->msg);
			if (len > sizeof(buf))
				len = sizeof(buf);
			memcpy(buf, t->msg, len);
			for (uint32_t k = 1 + rnd_below(3); k > 0 && len; k--)
				buf[rnd_below((uint32_t)len)] =
					rnd_below(2)
						? (uint8_t)rnd()
						: (uint8_t)
							  alphabet[rnd_below(sizeof(alphabet) - 1)];
		} else {
			len = rnd_below(sizeof(buf));
			for (size_t k = 0; k < len; k++)
				buf[k] = (uint8_t)alphabet[rnd_below(sizeof(alphabet) - 1)];
			if (len > 4 && rnd_below(2))
				memcpy(buf, "<13>", 4);
		}
		uint8_t *copy = exact_copy(buf, len);
		struct rxl_fmt_in in;
		struct rxl_event ev[1];
		struct rxl_fmt_counters c = {0};
		uint32_t pos = 0;

		in_init(&in, copy, len, (int64_t)rnd_below(2000000000) * 1000);
		cfg.rfc3164_utc_offset_min = (int32_t)rnd_below(2 * 24 * 60 + 1) - 24 * 60;
		int n = rxl_fmt_parse(&cfg, &in, &pos, ev, 1, &c);

		assert_int_equal(pos, len);
		if (n == 1)
			check_events_in_bounds(&in, ev, 1);
		else
			assert_true(n < 0 && c.n[-n] == 1);
		free(copy);
	}
}

/* ---- lines --------------------------------------------------------------------------------- */

/* Parse @s as lines in bursts of @burst; the values joined by '|' go to @out. */
static int lines_collect(const char *s, size_t len, uint32_t burst, uint32_t max_bytes, char *out,
			 struct rxl_fmt_counters *c, int *calls)
{
	struct rxl_fmt_config cfg = {.kind = RXL_FMT_LINES, .max_event_bytes = max_bytes};
	struct rxl_event ev[16];
	struct rxl_fmt_in in;
	uint8_t *copy = exact_copy(s, len);
	uint32_t pos = 0;
	int total = 0;

	in_init(&in, copy, len, RECV_MS);
	out[0] = 0;
	*calls = 0;
	do {
		int n = rxl_fmt_parse(&cfg, &in, &pos, ev, burst, c);

		(*calls)++;
		if (n < 0) {
			free(copy);
			return n;
		}
		assert_true((uint32_t)n <= burst);
		assert_true(pos == len || (uint32_t)n == burst);
		check_events_in_bounds(&in, ev, n);
		for (int i = 0; i < n; i++) {
			assert_int_equal(ev[i].timestamp_ms, RECV_MS);
			assert_bytes(ev[i].key, ev[i].key_len, NULL);
			assert_int_equal(ev[i].n_headers, 0);
			if (total++)
				strcat(out, "|");
			strncat(out, (const char *)ev[i].value, (size_t)ev[i].value_len);
		}
		assert_true(*calls < 1000);
	} while (pos < len);
	free(copy);
	return total;
}

static void test_lines_split_at_newline_strip_crlf_and_keep_a_final_unterminated_line(void **state)
{
	static const struct {
		const char *in;
		int n;
		const char *joined;
		uint64_t empty;
	} cases[] = {
		{"a\nb\nc\n", 3, "a|b|c", 0},
		{"a\nb\nc", 3, "a|b|c", 0},
		{"one line", 1, "one line", 0},
		{"crlf\r\nline\r\n", 2, "crlf|line", 0},
		{"lone\rcr\n", 1, "lone\rcr", 0},
		{"end with cr\r", 1, "end with cr\r", 0},
		{"a\n\nb\n\n\n", 2, "a|b", 3},
		{"\n", 0, "", 1},
		{"\r\n\r\n", 0, "", 2},
		{"{\"k\":1}\n{\"k\":2}\n", 2, "{\"k\":1}|{\"k\":2}", 0},
	};
	char out[256];

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct rxl_fmt_counters c = {0};
		int calls;

		assert_int_equal(
			lines_collect(cases[i].in, strlen(cases[i].in), 16, 0, out, &c, &calls),
			cases[i].n);
		assert_string_equal(out, cases[i].joined);
		assert_int_equal(c.n[RXL_FMT_LINES_EMPTY_LINE], cases[i].empty);
		assert_int_equal(sum_counters(&c), cases[i].empty);
	}
}

static void test_lines_burst_resumes_where_it_stopped(void **state)
{
	static const char s[] = "1\n2\n\n3\n4\n5\n6\n7";
	char out[64];
	struct rxl_fmt_counters c = {0};
	int calls;

	(void)state;
	assert_int_equal(lines_collect(s, strlen(s), 2, 0, out, &c, &calls), 7);
	assert_string_equal(out, "1|2|3|4|5|6|7");
	assert_int_equal(calls, 4);
	assert_int_equal(c.n[RXL_FMT_LINES_EMPTY_LINE], 1);
	/* a burst of 0 consumes nothing */
	struct rxl_fmt_config cfg = {.kind = RXL_FMT_LINES};
	struct rxl_fmt_in in;
	struct rxl_event ev[1];
	uint32_t pos = 0;

	in_init(&in, (const uint8_t *)s, strlen(s), RECV_MS);
	assert_int_equal(rxl_fmt_parse(&cfg, &in, &pos, ev, 0, &c), 0);
	assert_int_equal(pos, 0);
}

static void test_lines_oversize_line_is_dropped_and_the_others_kept(void **state)
{
	static const char s[] = "short\nthis line is too long\nok\r\n12345678\n";
	char out[128];
	struct rxl_fmt_counters c = {0};
	int calls;

	(void)state;
	assert_int_equal(lines_collect(s, strlen(s), 16, 8, out, &c, &calls), 3);
	assert_string_equal(out, "short|ok|12345678");
	assert_int_equal(c.n[RXL_FMT_OVERSIZE_EVENT], 1);
}

static void test_lines_zero_byte_datagram_is_empty(void **state)
{
	char out[8];
	struct rxl_fmt_counters c = {0};
	int calls;

	(void)state;
	assert_int_equal(lines_collect("", 0, 4, 0, out, &c, &calls), -RXL_FMT_EMPTY);
	assert_int_equal(c.n[RXL_FMT_EMPTY], 1);
}

static void test_lines_random_datagrams_lose_no_byte_uncounted(void **state)
{
	static const char alphabet[] = "ab\n\r";
	char buf[300], out[700], want[700];

	(void)state;
	for (int iter = 0; iter < 20000; iter++) {
		size_t len = rnd_below(sizeof(buf));
		uint32_t max_bytes = rnd_below(2) ? 0 : rnd_below(10);
		uint64_t empty = 0, oversize = 0;
		int nwant = 0;

		for (size_t k = 0; k < len; k++)
			buf[k] = alphabet[rnd_below(4)];
		/* the model: split by hand */
		want[0] = 0;
		for (size_t s = 0; s < len;) {
			size_t e = s;

			while (e < len && buf[e] != '\n')
				e++;
			size_t l = e - s;

			if (e < len && l && buf[e - 1] == '\r')
				l--;
			if (l == 0) {
				empty++;
			} else if (max_bytes && l > max_bytes) {
				oversize++;
			} else {
				if (nwant++)
					strcat(want, "|");
				strncat(want, buf + s, l);
			}
			s = e + 1;
		}
		struct rxl_fmt_counters c = {0};
		int calls;
		int n = lines_collect(buf, len, 1 + rnd_below(8), max_bytes, out, &c, &calls);

		if (len == 0) {
			assert_int_equal(n, -RXL_FMT_EMPTY);
			continue;
		}
		assert_int_equal(n, nwant);
		assert_string_equal(out, want);
		assert_int_equal(c.n[RXL_FMT_LINES_EMPTY_LINE], empty);
		assert_int_equal(c.n[RXL_FMT_OVERSIZE_EVENT], oversize);
	}
}

/* ---- raw ------------------------------------------------------------------------------------ */

static void test_raw_datagram_is_one_event_with_receive_time(void **state)
{
	static const uint8_t d[] = {0, 1, 2, '\n', 0xff};
	struct rxl_fmt_config cfg = {.kind = RXL_FMT_RAW};
	struct rxl_event ev[2];
	struct rxl_fmt_counters c = {0};
	struct rxl_fmt_in in;
	uint8_t *copy = exact_copy(d, sizeof(d));
	uint32_t pos = 0;

	(void)state;
	in_init(&in, copy, sizeof(d), RECV_MS);
	assert_int_equal(rxl_fmt_parse(&cfg, &in, &pos, ev, 2, &c), 1);
	assert_int_equal(pos, sizeof(d));
	assert_ptr_equal(ev[0].value, copy);
	assert_int_equal(ev[0].value_len, sizeof(d));
	assert_int_equal(ev[0].timestamp_ms, RECV_MS);
	assert_bytes(ev[0].key, ev[0].key_len, NULL);
	assert_int_equal(ev[0].n_headers, 0);
	assert_int_equal(rxl_fmt_parse(&cfg, &in, &pos, ev, 2, &c), 0); /* nothing left */
	cfg.key = RXL_FMT_KEY_SRC;
	pos = 0;
	assert_int_equal(rxl_fmt_parse(&cfg, &in, &pos, ev, 2, &c), 1);
	assert_bytes(ev[0].key, ev[0].key_len, "198.18.0.9");
	assert_int_equal(sum_counters(&c), 0);
	free(copy);
}

static void test_raw_empty_and_oversize_datagrams_are_dropped(void **state)
{
	struct rxl_fmt_config cfg = {.kind = RXL_FMT_RAW, .max_event_bytes = 4};
	struct rxl_event ev[1];
	struct rxl_fmt_counters c = {0};
	struct rxl_fmt_in in;
	uint32_t pos = 0;

	(void)state;
	in_init(&in, (const uint8_t *)"", 0, RECV_MS);
	assert_int_equal(rxl_fmt_parse(&cfg, &in, &pos, ev, 1, &c), -RXL_FMT_EMPTY);
	in_init(&in, (const uint8_t *)"12345", 5, RECV_MS);
	pos = 0;
	assert_int_equal(rxl_fmt_parse(&cfg, &in, &pos, ev, 1, &c), -RXL_FMT_OVERSIZE_EVENT);
	assert_int_equal(pos, 5);
	in.len = 4;
	pos = 0;
	assert_int_equal(rxl_fmt_parse(&cfg, &in, &pos, ev, 1, &c), 1);
	assert_int_equal(c.n[RXL_FMT_EMPTY], 1);
	assert_int_equal(c.n[RXL_FMT_OVERSIZE_EVENT], 1);
}

/* ---- names and settings ---------------------------------------------------------------------- */

static void test_every_reason_has_a_distinct_snake_case_name(void **state)
{
	(void)state;
	for (int i = 0; i < RXL_FMT_REASON_COUNT; i++) {
		const char *a = rxl_fmt_drop_name((enum rxl_fmt_reason)i);

		assert_string_not_equal(a, "unknown");
		for (const char *p = a; *p; p++)
			assert_true((*p >= 'a' && *p <= 'z') || *p == '_' ||
				    (*p >= '0' && *p <= '9'));
		for (int j = 0; j < i; j++)
			assert_string_not_equal(a, rxl_fmt_drop_name((enum rxl_fmt_reason)j));
	}
	assert_string_equal(rxl_fmt_drop_name(RXL_FMT_REASON_COUNT), "unknown");
	assert_string_equal(rxl_fmt_drop_name(RXL_FMT_NATIVE_BAD_MAGIC), "native_bad_magic");
	assert_string_equal(rxl_fmt_drop_name(RXL_FMT_SYSLOG_NO_PRI), "syslog_no_pri");
	assert_true(rxl_fmt_reason_is_drop(RXL_FMT_OVERSIZE_EVENT));
	assert_false(rxl_fmt_reason_is_drop(RXL_FMT_SYSLOG_BAD_TIMESTAMP));
	assert_false(rxl_fmt_reason_is_drop(RXL_FMT_LINES_EMPTY_LINE));
}

static void test_format_names_and_config_check(void **state)
{
	enum rxl_fmt_kind k;

	(void)state;
	assert_int_equal(rxl_fmt_kind_from_name("syslog", &k), 0);
	assert_int_equal(k, RXL_FMT_SYSLOG);
	assert_string_equal(rxl_fmt_kind_name(RXL_FMT_LINES), "lines");
	assert_int_equal(rxl_fmt_kind_from_name("json", &k), -EINVAL);
	struct rxl_fmt_config ok = {.kind = RXL_FMT_SYSLOG, .key = RXL_FMT_KEY_APP};
	struct rxl_fmt_config bad1 = {.kind = RXL_FMT_LINES, .key = RXL_FMT_KEY_APP};
	struct rxl_fmt_config bad4 = {.kind = RXL_FMT_NATIVE, .key = RXL_FMT_KEY_HOST};
	struct rxl_fmt_config bad2 = {.kind = 0};
	struct rxl_fmt_config bad3 = {.kind = RXL_FMT_SYSLOG, .rfc3164_utc_offset_min = 25 * 60};

	assert_int_equal(rxl_fmt_config_check(&ok), 0);
	assert_int_equal(rxl_fmt_config_check(&bad1), -EINVAL);
	assert_int_equal(rxl_fmt_config_check(&bad2), -EINVAL);
	assert_int_equal(rxl_fmt_config_check(&bad3), -EINVAL);
	assert_int_equal(rxl_fmt_config_check(&bad4), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_native_wire_doc_example_parses_and_encodes_to_the_same_bytes),
		cmocka_unit_test(test_native_random_datagrams_round_trip_through_encode_and_parse),
		cmocka_unit_test(test_native_each_malformation_is_dropped_with_its_reason),
		cmocka_unit_test(test_native_zero_byte_datagram_is_empty),
		cmocka_unit_test(test_native_every_truncation_is_rejected_without_reading_past_it),
		cmocka_unit_test(test_native_one_bad_event_drops_the_whole_datagram),
		cmocka_unit_test(test_native_key_override_uses_source_address_or_none),
		cmocka_unit_test(test_native_encode_rejects_invalid_input_and_small_buffers),
		cmocka_unit_test(test_native_random_corruption_never_escapes_the_payload),
		cmocka_unit_test(test_dedupe_in_order_datagrams_are_accepted),
		cmocka_unit_test(test_dedupe_repeated_datagram_is_dropped_and_counted),
		cmocka_unit_test(test_dedupe_gap_is_counted_lost_exactly_once_it_leaves_the_window),
		cmocka_unit_test(test_dedupe_list_orders_producers_by_loss_then_duplicates),
		cmocka_unit_test(test_dedupe_reordered_datagram_within_window_is_accepted_not_lost),
		cmocka_unit_test(test_dedupe_sequence_older_than_window_is_duplicate),
		cmocka_unit_test(test_dedupe_partial_overlap_keeps_only_new_events_in_order),
		cmocka_unit_test(test_dedupe_new_epoch_resets_without_counting_a_gap),
		cmocka_unit_test(test_dedupe_sequence_wraps_past_int32_max),
		cmocka_unit_test(test_dedupe_full_set_evicts_least_recently_used_producer),
		cmocka_unit_test(test_dedupe_producer_without_id_is_never_checked),
		cmocka_unit_test(test_dedupe_init_rejects_bad_capacity_size_or_alignment),
		cmocka_unit_test(test_dedupe_matches_model_under_loss_duplication_and_reordering),
		cmocka_unit_test(
			test_syslog_real_world_messages_map_to_key_timestamp_headers_value),
		cmocka_unit_test(test_syslog_every_truncation_is_parsed_within_bounds),
		cmocka_unit_test(test_syslog_key_setting_chooses_host_app_source_or_none),
		cmocka_unit_test(test_syslog_source_header_formats_ipv6_and_is_absent_when_unknown),
		cmocka_unit_test(test_syslog_oversize_message_is_dropped),
		cmocka_unit_test(test_syslog_random_bytes_never_escape_the_payload),
		cmocka_unit_test(
			test_lines_split_at_newline_strip_crlf_and_keep_a_final_unterminated_line),
		cmocka_unit_test(test_lines_burst_resumes_where_it_stopped),
		cmocka_unit_test(test_lines_oversize_line_is_dropped_and_the_others_kept),
		cmocka_unit_test(test_lines_zero_byte_datagram_is_empty),
		cmocka_unit_test(test_lines_random_datagrams_lose_no_byte_uncounted),
		cmocka_unit_test(test_raw_datagram_is_one_event_with_receive_time),
		cmocka_unit_test(test_raw_empty_and_oversize_datagrams_are_dropped),
		cmocka_unit_test(test_every_reason_has_a_distinct_snake_case_name),
		cmocka_unit_test(test_format_names_and_config_check),
	};

	return cmocka_run_group_tests(tests, seed_rng, NULL);
}
