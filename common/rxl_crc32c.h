/* common: CRC32C (Castagnoli), the checksum of Kafka record batches v2.
 * Any thread; pure functions.
 *
 * Why not DPDK's rte_hash_crc(): log/ and consumers/ must build and run
 * without DPDK (STYLE.md, layout). This is the same instruction (SSE4.2
 * crc32, 8 bytes at a time) run as three interleaved streams that are
 * combined with zero-shift tables, so it runs at the instruction's
 * throughput rather than its latency; a slicing-by-8 table serves CPUs
 * without it. bench/bench_crc.c measures it against memcpy.
 */
#ifndef RXL_CRC32C_H
#define RXL_CRC32C_H

#include <stddef.h>
#include <stdint.h>

/**
 * Extend a CRC32C over @len bytes. Start with crc = 0; the result of one
 * call can be passed as @crc to the next to checksum a buffer in pieces.
 * Concurrency: pure; any thread.
 * Returns: the CRC32C of everything seen so far (pre- and post-inverted as in
 * RFC 3720, so rxl_crc32c(0, "123456789", 9) == 0xE3069283).
 */
uint32_t rxl_crc32c(uint32_t crc, const void *buf, size_t len);

/**
 * The same, always through the portable table code (tests compare the two).
 * Concurrency: pure; any thread.
 * Returns: as rxl_crc32c().
 */
uint32_t rxl_crc32c_sw(uint32_t crc, const void *buf, size_t len);

#endif
