/* common: CRC32C, hardware (SSE4.2) with a slicing-by-8 fallback.
 * Any thread; the table is built once, lazily, under pthread_once.
 */
#include "rxl_crc32c.h"

#include <pthread.h>
#include <string.h>

#if defined(__x86_64__) && defined(__SSE4_2__)
#include <nmmintrin.h>
#define HAVE_HW_CRC 1
#endif

#define POLY 0x82F63B78u /* CRC32C, reflected */

static uint32_t table[8][256];
static pthread_once_t table_once = PTHREAD_ONCE_INIT;

static void table_init(void)
{
	for (uint32_t i = 0; i < 256; i++) {
		uint32_t c = i;

		for (int k = 0; k < 8; k++)
			c = (c & 1) ? (c >> 1) ^ POLY : c >> 1;
		table[0][i] = c;
	}
	for (uint32_t i = 0; i < 256; i++)
		for (int t = 1; t < 8; t++)
			table[t][i] = (table[t - 1][i] >> 8) ^ table[0][table[t - 1][i] & 0xff];
}

uint32_t rxl_crc32c_sw(uint32_t crc, const void *buf, size_t len)
{
	const uint8_t *p = buf;

	pthread_once(&table_once, table_init);
	crc = ~crc;
	while (len >= 8) {
		uint64_t w;

		memcpy(&w, p, 8); /* little-endian host assumed, as on x86_64/arm64 */
		w ^= crc;
		crc = table[7][w & 0xff] ^ table[6][(w >> 8) & 0xff] ^ table[5][(w >> 16) & 0xff] ^
		      table[4][(w >> 24) & 0xff] ^ table[3][(w >> 32) & 0xff] ^
		      table[2][(w >> 40) & 0xff] ^ table[1][(w >> 48) & 0xff] ^ table[0][w >> 56];
		p += 8;
		len -= 8;
	}
	while (len--)
		crc = (crc >> 8) ^ table[0][(crc ^ *p++) & 0xff];
	return ~crc;
}

#ifdef HAVE_HW_CRC
/*
 * Three independent crc32 streams hide the instruction's 3-cycle latency
 * (one result per cycle instead of one per three); the partial CRCs are
 * combined by "shifting" a CRC over LONG (or SHORT) zero bytes with
 * precomputed tables. This is Mark Adler's construction (crc32c.c, 2013),
 * with the GF(2) matrix code of zlib's crc32_combine().
 */
#define LONG 8192
#define SHORT 256

static uint32_t zeros_long[4][256], zeros_short[4][256];
static pthread_once_t zeros_once = PTHREAD_ONCE_INIT;

static uint32_t gf2_times(const uint32_t *mat, uint32_t vec)
{
	uint32_t sum = 0;

	while (vec) {
		if (vec & 1)
			sum ^= *mat;
		vec >>= 1;
		mat++;
	}
	return sum;
}

static void gf2_square(uint32_t *square, const uint32_t *mat)
{
	for (int n = 0; n < 32; n++)
		square[n] = gf2_times(mat, mat[n]);
}

/* The operator that appends @len zero bytes (@len a power of two). */
static void zeros_op(uint32_t *even, size_t len)
{
	uint32_t odd[32], row = 1;

	odd[0] = POLY; /* one zero bit */
	for (int n = 1; n < 32; n++) {
		odd[n] = row;
		row <<= 1;
	}
	gf2_square(even, odd); /* two zero bits */
	gf2_square(odd, even); /* four zero bits */
	do {
		gf2_square(even, odd); /* first pass: one zero byte */
		len >>= 1;
		if (len == 0)
			return;
		gf2_square(odd, even);
		len >>= 1;
	} while (len);
	memcpy(even, odd, sizeof(odd));
}

static void zeros_table(uint32_t zeros[][256], size_t len)
{
	uint32_t op[32];

	zeros_op(op, len);
	for (uint32_t n = 0; n < 256; n++) {
		zeros[0][n] = gf2_times(op, n);
		zeros[1][n] = gf2_times(op, n << 8);
		zeros[2][n] = gf2_times(op, n << 16);
		zeros[3][n] = gf2_times(op, n << 24);
	}
}

static void zeros_init(void)
{
	zeros_table(zeros_long, LONG);
	zeros_table(zeros_short, SHORT);
}

static inline uint32_t shift(uint32_t zeros[][256], uint32_t crc)
{
	return zeros[0][crc & 0xff] ^ zeros[1][(crc >> 8) & 0xff] ^ zeros[2][(crc >> 16) & 0xff] ^
	       zeros[3][crc >> 24];
}

static inline uint64_t load64(const uint8_t *p)
{
	uint64_t w;

	memcpy(&w, p, 8);
	return w;
}

/* One round over 3 * @blk bytes: three independent streams, then combined. */
static inline uint64_t three_streams(uint64_t c0, const uint8_t **pp, size_t *len, size_t blk,
				     uint32_t zeros[][256])
{
	const uint8_t *p = *pp, *end = p + blk;
	uint64_t c1 = 0, c2 = 0;

	do {
		c0 = _mm_crc32_u64(c0, load64(p));
		c1 = _mm_crc32_u64(c1, load64(p + blk));
		c2 = _mm_crc32_u64(c2, load64(p + 2 * blk));
		p += 8;
	} while (p < end);
	c0 = shift(zeros, (uint32_t)c0) ^ (uint32_t)c1;
	c0 = shift(zeros, (uint32_t)c0) ^ (uint32_t)c2;
	*pp = p + 2 * blk;
	*len -= 3 * blk;
	return c0;
}

static uint32_t crc32c_hw(uint32_t crc, const uint8_t *p, size_t len)
{
	uint64_t c0 = ~crc;

	if (len >= 3 * SHORT)
		pthread_once(&zeros_once, zeros_init);
	while (len >= 3 * LONG)
		c0 = three_streams(c0, &p, &len, LONG, zeros_long);
	while (len >= 3 * SHORT)
		c0 = three_streams(c0, &p, &len, SHORT, zeros_short);
	while (len >= 8) {
		c0 = _mm_crc32_u64(c0, load64(p));
		p += 8;
		len -= 8;
	}
	uint32_t c32 = (uint32_t)c0;

	while (len--)
		c32 = _mm_crc32_u8(c32, *p++);
	return ~c32;
}
#endif

uint32_t rxl_crc32c(uint32_t crc, const void *buf, size_t len)
{
#ifdef HAVE_HW_CRC
	return crc32c_hw(crc, buf, len);
#else
	return rxl_crc32c_sw(crc, buf, len);
#endif
}
