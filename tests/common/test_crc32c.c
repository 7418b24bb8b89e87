/* tests: CRC32C (common/rxl_crc32c.c), hardware and table paths.
 * Single-threaded cmocka program.
 *
 * Every expected value comes from outside the code under test: the CRC
 * catalogue's check value, RFC 3720 appendix B.4, or a table-free bitwise
 * model written here (reflected polynomial 0x82F63B78, pre- and
 * post-inverted), which is itself pinned to those published values first.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "rxl_crc32c.h"

/* The slow, obviously-correct model: one bit at a time, no table. */
static uint32_t model_crc32c(uint32_t crc, const uint8_t *p, size_t len)
{
	crc = ~crc;
	while (len--) {
		crc ^= *p++;
		for (int k = 0; k < 8; k++)
			crc = (crc >> 1) ^ (0x82F63B78u & (0u - (crc & 1u)));
	}
	return ~crc;
}

/* xorshift64*: a fixed seed, so every run checks the same inputs. */
static uint64_t rng_state = 0x9E3779B97F4A7C15ull;

static uint64_t rng(void)
{
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 0x2545F4914F6CDD1Dull;
}

static void fill_random(uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		p[i] = (uint8_t)(rng() >> 56);
}

/* Heap copy of exactly n bytes, so ASan flags any read past the end. */
static uint8_t *exact_copy(const void *src, size_t n)
{
	uint8_t *p = malloc(n ? n : 1);

	assert_non_null(p);
	if (n)
		memcpy(p, src, n);
	return p;
}

static void test_check_value_123456789_is_e3069283(void **state)
{
	(void)state;
	uint8_t *p = exact_copy("123456789", 9);

	assert_int_equal(model_crc32c(0, p, 9), 0xE3069283u); /* the model itself */
	assert_int_equal(rxl_crc32c(0, p, 9), 0xE3069283u);
	assert_int_equal(rxl_crc32c_sw(0, p, 9), 0xE3069283u);
	free(p);
}

static void test_empty_input_leaves_crc_unchanged(void **state)
{
	(void)state;
	uint8_t b = 0xAB;

	assert_int_equal(rxl_crc32c(0, &b, 0), 0u);
	assert_int_equal(rxl_crc32c_sw(0, &b, 0), 0u);
	/* Zero bytes appended to any running CRC change nothing. */
	assert_int_equal(rxl_crc32c(0xE3069283u, &b, 0), 0xE3069283u);
	assert_int_equal(rxl_crc32c_sw(0xE3069283u, &b, 0), 0xE3069283u);
	assert_int_equal(rxl_crc32c(0xFFFFFFFFu, &b, 0), 0xFFFFFFFFu);
	assert_int_equal(rxl_crc32c_sw(0xFFFFFFFFu, &b, 0), 0xFFFFFFFFu);
}

struct rfc_vector {
	const char *name;
	uint8_t data[48];
	size_t len;
	uint32_t crc;
};

/* RFC 3720 (iSCSI) appendix B.4. The RFC prints the CRC bytes in the order
 * they are sent (least significant first): "aa 36 91 8a" is 0x8A9136AA. */
static void rfc_vectors(struct rfc_vector *v)
{
	memset(v, 0, 5 * sizeof(*v));
	v[0].name = "32 bytes of zeros";
	v[0].len = 32;
	v[0].crc = 0x8A9136AAu;

	v[1].name = "32 bytes of 0xFF";
	memset(v[1].data, 0xFF, 32);
	v[1].len = 32;
	v[1].crc = 0x62A8AB43u;

	v[2].name = "32 ascending bytes 00..1f";
	for (int i = 0; i < 32; i++)
		v[2].data[i] = (uint8_t)i;
	v[2].len = 32;
	v[2].crc = 0x46DD794Eu;

	v[3].name = "32 descending bytes 1f..00";
	for (int i = 0; i < 32; i++)
		v[3].data[i] = (uint8_t)(31 - i);
	v[3].len = 32;
	v[3].crc = 0x113FDB5Cu;

	/* An iSCSI SCSI Read (10) command PDU, 48 bytes. */
	/* clang-format off */
	static const uint8_t pdu[48] = {
		0x01, 0xc0, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
		0x00, 0x00, 0x00, 0x00, 0x14, 0x00, 0x00, 0x00, 0x00, 0x00, 0x04, 0x00,
		0x00, 0x00, 0x00, 0x14, 0x00, 0x00, 0x00, 0x18, 0x28, 0x00, 0x00, 0x00,
		0x00, 0x00, 0x00, 0x00, 0x02, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	};
	/* clang-format on */
	v[4].name = "iSCSI read PDU";
	memcpy(v[4].data, pdu, 48);
	v[4].len = 48;
	v[4].crc = 0xD9963A56u;
}

static void test_rfc3720_b4_vectors_match(void **state)
{
	(void)state;
	struct rfc_vector v[5];

	rfc_vectors(v);
	for (int i = 0; i < 5; i++) {
		uint8_t *p = exact_copy(v[i].data, v[i].len);

		if (rxl_crc32c(0, p, v[i].len) != v[i].crc ||
		    rxl_crc32c_sw(0, p, v[i].len) != v[i].crc)
			print_message("vector: %s\n", v[i].name);
		assert_int_equal(model_crc32c(0, p, v[i].len), v[i].crc);
		assert_int_equal(rxl_crc32c(0, p, v[i].len), v[i].crc);
		assert_int_equal(rxl_crc32c_sw(0, p, v[i].len), v[i].crc);
		free(p);
	}
}

/* Checksumming [0, k) then [k, n) gives the one-shot CRC, for every k,
 * through both paths and across them (the state is the plain CRC value). */
static void test_incremental_split_at_every_point_equals_one_shot(void **state)
{
	(void)state;
	enum { N = 301 }; /* covers several 8-byte strides plus an odd tail */
	uint8_t *buf = malloc(N);

	assert_non_null(buf);
	fill_random(buf, N);
	for (size_t n = 0; n <= N; n += (n < 40 ? 1 : 37)) {
		uint32_t whole = model_crc32c(0, buf, n);

		assert_int_equal(rxl_crc32c(0, buf, n), whole);
		assert_int_equal(rxl_crc32c_sw(0, buf, n), whole);
		for (size_t k = 0; k <= n; k++) {
			uint32_t hw = rxl_crc32c(rxl_crc32c(0, buf, k), buf + k, n - k);
			uint32_t sw = rxl_crc32c_sw(rxl_crc32c_sw(0, buf, k), buf + k, n - k);
			uint32_t mix = rxl_crc32c(rxl_crc32c_sw(0, buf, k), buf + k, n - k);

			if (hw != whole || sw != whole || mix != whole)
				print_message("n=%zu split=%zu\n", n, k);
			assert_int_equal(hw, whole);
			assert_int_equal(sw, whole);
			assert_int_equal(mix, whole);
		}
	}
	/* Three pieces, byte by byte at the front. */
	uint32_t c = 0;

	for (size_t i = 0; i < 17; i++)
		c = rxl_crc32c(c, buf + i, 1);
	c = rxl_crc32c_sw(c, buf + 17, 100);
	c = rxl_crc32c(c, buf + 117, N - 117);
	assert_int_equal(c, model_crc32c(0, buf, N));
	free(buf);
}

/* Hardware and table code agree with each other and with the model over
 * random contents, every length up to 1100 and every start alignment 0..15. */
static void test_hardware_equals_software_over_lengths_and_alignments(void **state)
{
	(void)state;
	enum { MAXLEN = 1100, MAXMIS = 16 };
	uint8_t *buf = malloc(MAXLEN + MAXMIS);

	assert_non_null(buf);
	for (int round = 0; round < 3; round++) {
		fill_random(buf, MAXLEN + MAXMIS);
		for (size_t mis = 0; mis < MAXMIS; mis++) {
			for (size_t len = 0; len <= MAXLEN; len += (len < 80 ? 1 : 13)) {
				const uint8_t *p = buf + mis;
				uint32_t seed = (uint32_t)rng();
				uint32_t want = model_crc32c(seed, p, len);

				if (rxl_crc32c(seed, p, len) != want ||
				    rxl_crc32c_sw(seed, p, len) != want)
					print_message("mis=%zu len=%zu seed=%08x\n", mis, len,
						      seed);
				assert_int_equal(rxl_crc32c(seed, p, len), want);
				assert_int_equal(rxl_crc32c_sw(seed, p, len), want);
			}
		}
	}
	free(buf);
}

static void test_hardware_equals_software_on_one_mebibyte(void **state)
{
	(void)state;
	size_t n = 1u << 20;
	uint8_t *buf = malloc(n + 3);

	assert_non_null(buf);
	fill_random(buf, n + 3);
	for (size_t mis = 0; mis < 4; mis++) {
		uint32_t want = model_crc32c(0, buf + mis, n - mis);

		assert_int_equal(rxl_crc32c(0, buf + mis, n - mis), want);
		assert_int_equal(rxl_crc32c_sw(0, buf + mis, n - mis), want);
	}
	free(buf);
}

/* A single flipped bit anywhere always changes the CRC (CRCs detect all
 * single-bit errors); guards against a path that skips bytes. */
static void test_every_single_bit_flip_changes_crc(void **state)
{
	(void)state;
	enum { N = 67 };
	uint8_t buf[N];

	fill_random(buf, N);
	uint32_t base_hw = rxl_crc32c(0, buf, N), base_sw = rxl_crc32c_sw(0, buf, N);

	assert_int_equal(base_hw, base_sw);
	for (size_t bit = 0; bit < N * 8; bit++) {
		buf[bit / 8] ^= (uint8_t)(1u << (bit % 8));
		assert_int_not_equal(rxl_crc32c(0, buf, N), base_hw);
		assert_int_not_equal(rxl_crc32c_sw(0, buf, N), base_sw);
		buf[bit / 8] ^= (uint8_t)(1u << (bit % 8));
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_check_value_123456789_is_e3069283),
		cmocka_unit_test(test_empty_input_leaves_crc_unchanged),
		cmocka_unit_test(test_rfc3720_b4_vectors_match),
		cmocka_unit_test(test_incremental_split_at_every_point_equals_one_shot),
		cmocka_unit_test(test_hardware_equals_software_over_lengths_and_alignments),
		cmocka_unit_test(test_hardware_equals_software_on_one_mebibyte),
		cmocka_unit_test(test_every_single_bit_flip_changes_crc),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
