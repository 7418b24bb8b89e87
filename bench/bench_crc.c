/* bench: CRC32C of a staging batch (hardware and table code) against memcpy of the same bytes.
 * Main thread: each case runs on the thread that called rxl_bench_main().
 *
 * Every batch the writer seals and every batch a reader returns is checksummed
 * once (rxl_format.h, rule V3), so CRC32C throughput bounds both. The buffer
 * is a full default staging batch, 256 KiB, which fits in L2 on the machines
 * we target: the numbers are the checksum's, not the memory system's.
 * memcpy over the same bytes is the baseline: a checksum that runs at memcpy
 * speed costs about as much as the one copy invariant 3 allows.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rxl_bench.h"
#include "rxl_crc32c.h"

#define BUF_BYTES (256 * 1024) /* rxl_log_config.batch_bytes default */

static uint8_t *src;
static uint8_t *dst;

/* xorshift64: incompressible, reproducible bytes. */
static void fill_random(uint8_t *p, size_t len)
{
	uint64_t x = 0x9E3779B97F4A7C15u;

	for (size_t i = 0; i < len; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		p[i] = (uint8_t)(x >> 32);
	}
}

/* Both paths must agree with each other and with RFC 3720's check value,
 * or the numbers compare different functions. */
static bool crc_paths_agree(size_t len)
{
	return rxl_crc32c(0, "123456789", 9) == 0xE3069283u &&
	       rxl_crc32c_sw(0, "123456789", 9) == 0xE3069283u &&
	       rxl_crc32c(0, src, len) == rxl_crc32c_sw(0, src, len);
}

/* One CRC implementation over the case's buffer, in bytes/s. */
static void bm_crc(struct rxl_bench_state *s, uint32_t (*fn)(uint32_t, const void *, size_t))
{
	const size_t len = (size_t)rxl_bench_range(s, 0);
	int64_t n = 0;
	uint32_t crc;

	if (!crc_paths_agree(len)) {
		rxl_bench_skip_with_error(s, "rxl_crc32c() and rxl_crc32c_sw() disagree");
		return;
	}
	while (rxl_bench_keep_running(s)) {
		crc = fn(0, src, len);
		rxl_bench_do_not_optimize(&crc);
		n++;
	}
	rxl_bench_set_bytes(s, n * (int64_t)len);
}

static void bm_crc32c_hw(struct rxl_bench_state *s)
{
	bm_crc(s, rxl_crc32c);
}

static void bm_crc32c_sw(struct rxl_bench_state *s)
{
	bm_crc(s, rxl_crc32c_sw);
}

static void bm_memcpy(struct rxl_bench_state *s)
{
	const size_t len = (size_t)rxl_bench_range(s, 0);
	int64_t n = 0;

	while (rxl_bench_keep_running(s)) {
		memcpy(dst, src, len);
		rxl_bench_do_not_optimize(dst);
		n++;
	}
	rxl_bench_set_bytes(s, n * (int64_t)len);
}

int main(int argc, char **argv)
{
	static const char *const arg_names[] = {"bytes"};
	static const struct {
		const char *name;
		void (*fn)(struct rxl_bench_state *s);
	} cases[] = {
		{"crc32c_hw", bm_crc32c_hw},
		{"crc32c_sw", bm_crc32c_sw},
		{"memcpy", bm_memcpy},
	};
	const struct rxl_bench_opts opts = {.arg_names = arg_names, .unit = RXL_BENCH_US};
	const int64_t len = BUF_BYTES;
	int ret = -ENOMEM;

	src = aligned_alloc(64, BUF_BYTES);
	if (!src)
		goto out;
	dst = aligned_alloc(64, BUF_BYTES);
	if (!dst)
		goto free_src;
	fill_random(src, BUF_BYTES);
	memset(dst, 0, BUF_BYTES); /* fault the pages in before any timing */

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		ret = rxl_bench_register(cases[i].name, cases[i].fn, &len, 1, &opts);
		if (ret < 0)
			goto free_dst;
	}
	ret = rxl_bench_main(argc, argv);

free_dst:
	free(dst);
free_src:
	free(src);
out:
	if (ret < 0)
		fprintf(stderr, "bench_crc: %s\n", strerror(-ret));
	return ret < 0;
}
