/* common: big-endian loads/stores and Kafka's zig-zag varints.
 * Any thread; pure inline functions over caller-owned bytes.
 *
 * Kafka writes fixed-width integers big-endian and record fields as
 * zig-zag varints (protobuf style, 7 bits a byte, low groups first):
 *   varint(n)  = unsigned LEB128 of ((n << 1) ^ (n >> 31))  for int32
 *   varlong(n) = unsigned LEB128 of ((n << 1) ^ (n >> 63))  for int64
 * Decoders take an end pointer and never read past it: the bytes may come
 * from a corrupt file.
 */
#ifndef RXL_BYTES_H
#define RXL_BYTES_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

static inline void rxl_be16_put(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static inline void rxl_be32_put(uint8_t *p, uint32_t v)
{
	v = __builtin_bswap32(v);
	memcpy(p, &v, 4);
}

static inline void rxl_be64_put(uint8_t *p, uint64_t v)
{
	v = __builtin_bswap64(v);
	memcpy(p, &v, 8);
}

static inline uint16_t rxl_be16_get(const uint8_t *p)
{
	return (uint16_t)((p[0] << 8) | p[1]);
}

static inline uint32_t rxl_be32_get(const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, 4);
	return __builtin_bswap32(v);
}

static inline uint64_t rxl_be64_get(const uint8_t *p)
{
	uint64_t v;

	memcpy(&v, p, 8);
	return __builtin_bswap64(v);
}

/** Bytes needed by rxl_varlong_put(v). */
static inline unsigned rxl_varlong_len(int64_t v)
{
	uint64_t u = ((uint64_t)v << 1) ^ (uint64_t)(v >> 63);

	/* A record's lengths and deltas nearly always take one or two bytes:
	 * a compare each (record encoding asks this several times per record). */
	if (u < 0x80)
		return 1;
	if (u < 0x4000)
		return 2;
	/* 7 payload bits per byte: ceil(significant bits / 7), without a loop. */
	unsigned bits = 64 - (unsigned)__builtin_clzll(u);

	return (bits + 6) / 7;
}

/** Write a zig-zag varlong; returns the bytes written (1..10). */
static inline unsigned rxl_varlong_put(uint8_t *p, int64_t v)
{
	uint64_t u = ((uint64_t)v << 1) ^ (uint64_t)(v >> 63);
	unsigned n = 0;

	/* One- and two-byte values without the loop (bench_log's encode cases:
	 * 54 -> 67-70 M records/s of 64 bytes, with copy_short() in format.c). */
	if (u < 0x80) {
		p[0] = (uint8_t)u;
		return 1;
	}
	if (u < 0x4000) {
		p[0] = (uint8_t)(u | 0x80);
		p[1] = (uint8_t)(u >> 7);
		return 2;
	}
	while (u >= 0x80) {
		p[n++] = (uint8_t)(u | 0x80);
		u >>= 7;
	}
	p[n++] = (uint8_t)u;
	return n;
}

/**
 * Read a zig-zag varlong from [p, end). At most 10 bytes are consumed.
 * Returns: bytes consumed, or 0 when the encoding runs past @end or is longer
 * than 10 bytes (malformed).
 */
static inline unsigned rxl_varlong_get(const uint8_t *p, const uint8_t *end, int64_t *out)
{
	uint64_t u = 0;
	unsigned shift = 0, n = 0;

	while (p + n < end && n < 10) {
		uint8_t b = p[n++];

		u |= (uint64_t)(b & 0x7f) << shift;
		if (!(b & 0x80)) {
			*out = (int64_t)((u >> 1) ^ (~(u & 1) + 1));
			return n;
		}
		shift += 7;
	}
	return 0;
}

/**
 * Read a zig-zag varint (int32) from [p, end): at most 5 bytes, and the
 * value must fit in 32 bits.
 * Returns: bytes consumed, or 0 when malformed.
 */
static inline unsigned rxl_varint_get(const uint8_t *p, const uint8_t *end, int32_t *out)
{
	uint32_t u = 0;
	unsigned shift = 0, n = 0;

	while (p + n < end && n < 5) {
		uint8_t b = p[n++];

		if (n == 5 && (b & 0xf0))
			return 0;
		u |= (uint32_t)(b & 0x7f) << shift;
		if (!(b & 0x80)) {
			*out = (int32_t)((u >> 1) ^ (~(u & 1) + 1));
			return n;
		}
		shift += 7;
	}
	return 0;
}

#endif
