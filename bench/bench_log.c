/* bench: log engine throughput: appends per durability against plain write(2), and reader scans.
 * Main thread: each case owns its partition on the benchmark thread (writer owner and reader).
 *
 * Cases, all timed in wall time (the I/O completes on kernel threads):
 *
 *   append/value:V/dur:D   PAYLOAD_BYTES of records (KEY_LEN-byte key, V-byte
 *                          value) appended in bursts of BURST with rxl_log_poll()
 *                          after each burst, then rxl_log_sync(): the timed
 *                          region ends with everything written and fdatasync'd,
 *                          whatever D is (0 none, 1 interval, 2 fsync).
 *   append_nosync/value:V  the same under RXL_DUR_NONE, but the timed region
 *                          ends when the HWM reaches the end offset: every
 *                          record written and visible to readers, none synced.
 *   write/fdatasync:F      the baseline: PAYLOAD_BYTES to a new file by write(2)
 *                          in CHUNK_BYTES pieces, then one fdatasync() if F = 1.
 *                          append compares with F = 1, append_nosync with F = 0
 *                          (the same end state: data in the file, synced or not).
 *   encode/value:V/headers:H  CPU only: records (KEY_LEN-byte key, V-byte value,
 *                          H headers like rxlogd's: native's send_ns, syslog's
 *                          four; timestamps over 128 ms) built into 256 KiB
 *                          batches in memory by
 *                          rxl_batch_add(), each full batch finished (CRC32C
 *                          included), as rxlogd's writer does before a write.
 *   copy/value:V/headers:H the baseline: the same key, value and header bytes
 *                          memcpy'd end to end into the same buffer, no framing.
 *   reader_scan/reopen:R   rxl_reader_seek(0), then rxl_reader_next() over
 *                          SCAN_RECORDS records of SCAN_VALUE_LEN bytes written
 *                          once, untimed. R = 0: one reader, mapping already
 *                          faulted in (decode and CRC cost); R = 1: open and
 *                          close a reader in every iteration (page faults too).
 *
 * Rates: items = records; bytes = key + value bytes, the payload both the log
 * and the baseline carry, so their bytes_per_second compare directly.
 * disk_bytes_per_second counts the batch bytes the writer wrote (headers and
 * varints included).
 *
 * Assumptions:
 *   B1 Every iteration of an append or write case starts a new partition
 *      (file) and removes it afterwards, untimed: no iteration pays for
 *      another's segments, preallocation or dirty pages, and a segment never
 *      rolls inside the timed region (PAYLOAD_BYTES << SEGMENT_BYTES).
 *   B2 The BURST records handed to rxl_log_append_burst() are all alike, so
 *      a burst the writer takes only partly is resumed from its start.
 *   B3 The writer API has no blocking wait short of rxl_log_sync() (which
 *      also fdatasyncs), so waiting for the HWM spins on rxl_log_poll(), as
 *      would a burst that the writer refused whole (0); STALL_LIMIT_NS turns
 *      a hang into an error.
 *   B4 An iteration is a fixed PAYLOAD_BYTES, so --benchmark_min_time bounds
 *      the number of iterations, also under dur:fsync (an fdatasync per
 *      batch): a slow disk runs fewer iterations (at least one).
 */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <inttypes.h>
#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "rxl_bench.h"
#include "rxl_err.h"
#include "rxl_log.h"

#define KEY_LEN 8 /* a sender id: IPv4 address, port, 2 spare bytes */
#define MAX_VALUE_LEN 1024
#define BURST 64		   /* records per rxl_log_append_burst() */
#define PAYLOAD_BYTES (32u << 20)  /* key + value bytes per iteration */
#define SEGMENT_BYTES (1ull << 30) /* B1 */
#define CHUNK_BYTES (1u << 20)	   /* write(2) size of the baseline */
#define SCAN_RECORDS 4000000u
#define SCAN_VALUE_LEN 64
#define STALL_LIMIT_NS (60 * 1000000000ull) /* B3 */

static char root[PATH_MAX]; /* this run's folder; removed by main() */
static uint32_t part_seq;   /* partition number of the next fresh partition */
static uint8_t key[KEY_LEN];
static uint8_t value[MAX_VALUE_LEN];
static uint8_t chunk[CHUNK_BYTES];

/* Written by the first reader_scan case, removed by main(). */
static struct {
	char dir[PATH_MAX];
	bool written;
	struct rxl_reader *reader; /* reopen:0's reader, kept so its mapping stays faulted in */
} scan;

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Report @err with what failed and the library's message, if any. */
static void report_error(struct rxl_bench_state *s, int err, const char *what)
{
	char msg[RXL_ERR_MAX + 128];
	const char *detail = rxl_err_msg();

	snprintf(msg, sizeof(msg), "%s: %s%s%s", what, strerror(-err), *detail ? ": " : "", detail);
	rxl_bench_skip_with_error(s, msg);
}

static int rm_entry(const char *path, const struct stat *sb, int type, struct FTW *ftw)
{
	(void)sb;
	(void)type;
	(void)ftw;
	return remove(path) < 0 ? -errno : 0;
}

/* rm -rf @path; a missing @path is not an error. */
static int rm_tree(const char *path)
{
	int ret = nftw(path, rm_entry, 16, FTW_DEPTH | FTW_PHYS);

	if (ret == -1)
		return errno == ENOENT ? 0 : -errno;
	return ret;
}

/* A temporary folder for this run: $RXL_BENCH_DIR, else $TMPDIR, else /tmp.
 * scripts/bench points RXL_BENCH_DIR into the build tree, because /tmp is
 * often tmpfs, where fdatasync costs nothing. */
static int make_root(void)
{
	const char *base = getenv("RXL_BENCH_DIR");
	int n;

	if (!base || !*base)
		base = getenv("TMPDIR");
	if (!base || !*base)
		base = "/tmp";
	if (mkdir(base, 0755) < 0 && errno != EEXIST)
		return rxl_err_set(-errno, "cannot create %s: %s", base, strerror(errno));
	n = snprintf(root, sizeof(root), "%s/rxl-bench-XXXXXX", base);
	if (n < 0 || (size_t)n >= sizeof(root))
		return rxl_err_set(-ENAMETOOLONG, "bench folder %s: name too long", base);
	if (!mkdtemp(root))
		return rxl_err_set(-errno, "cannot create a folder in %s: %s", base,
				   strerror(errno));
	return 0;
}

/* Open a fresh partition under root (B1). */
static int open_log(char *dir, size_t len, enum rxl_durability dur, struct rxl_log **out)
{
	struct rxl_log_config cfg;
	int ret;

	rxl_log_config_default(&cfg);
	cfg.segment_bytes = SEGMENT_BYTES;
	cfg.durability = dur;
	ret = rxl_log_path(dir, len, root, "bench", part_seq++);
	if (ret < 0)
		return ret;
	return rxl_log_open(dir, &cfg, out);
}

static void records_init(struct rxl_record_in *recs, int32_t value_len, int64_t ts_ms)
{
	for (int i = 0; i < BURST; i++)
		recs[i] = (struct rxl_record_in){
			.key = key,
			.key_len = KEY_LEN,
			.value = value,
			.value_len = value_len,
			.timestamp_ms = ts_ms,
		};
}

/* Fail with -ETIMEDOUT once the writer made no progress for STALL_LIMIT_NS (B3). */
static int stalled(uint64_t *since, const char *doing)
{
	uint64_t now = now_ns();

	if (!*since)
		*since = now;
	else if (now - *since > STALL_LIMIT_NS)
		return rxl_err_set(-ETIMEDOUT, "%s made no progress for %llu s", doing,
				   STALL_LIMIT_NS / 1000000000ull);
	return 0;
}

/* Append @n records in bursts of BURST, polling after each burst (B2, B3). */
static int append_records(struct rxl_log *log, const struct rxl_record_in *recs, uint64_t n)
{
	uint64_t since = 0;

	while (n > 0) {
		uint32_t want = n < BURST ? (uint32_t)n : BURST;
		int took = rxl_log_append_burst(log, recs, want, NULL, NULL);
		int ret;

		if (took < 0)
			return took;
		n -= (uint32_t)took;
		ret = rxl_log_poll(log);
		if (ret < 0)
			return ret;
		if (took > 0)
			since = 0;
		else if ((ret = stalled(&since, "rxl_log_append_burst()")) < 0)
			return ret;
	}
	return 0;
}

/* Submit the open batch and wait until every record is written and visible (B3). */
static int drain(struct rxl_log *log)
{
	return rxl_log_drain(log);
}

static void run_append(struct rxl_bench_state *s, int32_t value_len, enum rxl_durability dur,
		       bool sync_at_end)
{
	const uint64_t rec_bytes = KEY_LEN + (uint64_t)value_len;
	const uint64_t n = PAYLOAD_BYTES / rec_bytes;
	struct rxl_record_in recs[BURST];
	struct rxl_log *log = NULL;
	struct rxl_log_stats st;
	uint64_t records = 0, disk_bytes = 0, batches = 0, syncs = 0, iters = 0;
	char dir[PATH_MAX] = "";
	const char *what = "arguments";
	int ret = -EINVAL;

	rxl_err_clear();
	if (value_len < 0 || value_len > MAX_VALUE_LEN)
		goto fail;
	while (rxl_bench_keep_running(s)) {
		rxl_bench_pause(s);
		what = "open";
		ret = open_log(dir, sizeof(dir), dur, &log);
		if (ret < 0)
			goto fail;
		records_init(recs, value_len, now_ms());
		rxl_bench_resume(s);

		/* Timed: the appends and the wait for their end state. */
		what = "append";
		ret = append_records(log, recs, n);
		if (ret == 0) {
			what = sync_at_end ? "rxl_log_sync" : "drain";
			ret = sync_at_end ? rxl_log_sync(log) : drain(log);
		}

		rxl_bench_pause(s);
		if (ret < 0)
			goto fail;
		rxl_log_stats(log, &st);
		if (st.records != n) {
			what = "stats";
			ret = rxl_err_set(-EPROTO,
					  "writer counted %" PRIu64 " records, %" PRIu64
					  " were appended",
					  st.records, n);
			goto fail;
		}
		records += st.records;
		disk_bytes += st.bytes;
		batches += st.batches;
		syncs += st.syncs;
		iters++;
		what = "close";
		ret = rxl_log_close(log);
		log = NULL;
		if (ret < 0)
			goto fail;
		what = "remove";
		ret = rm_tree(dir);
		if (ret < 0)
			goto fail;
		dir[0] = '\0';
		rxl_bench_resume(s);
	}
	if (!iters)
		return;
	rxl_bench_set_items(s, (int64_t)records);
	rxl_bench_set_bytes(s, (int64_t)(records * rec_bytes));
	rxl_bench_rate(s, "disk_bytes_per_second", (double)disk_bytes);
	rxl_bench_counter(s, "disk_bytes_per_record", (double)disk_bytes / (double)records);
	rxl_bench_counter(s, "batches_per_iteration", (double)batches / (double)iters);
	rxl_bench_counter(s, "fdatasyncs_per_iteration", (double)syncs / (double)iters);
	return;

fail:
	report_error(s, ret, what);
	if (log)
		rxl_log_close(log);
	if (dir[0])
		rm_tree(dir);
}

static void bm_append(struct rxl_bench_state *s)
{
	run_append(s, (int32_t)rxl_bench_range(s, 0), (enum rxl_durability)rxl_bench_range(s, 1),
		   true);
}

static void bm_append_nosync(struct rxl_bench_state *s)
{
	run_append(s, (int32_t)rxl_bench_range(s, 0), RXL_DUR_NONE, false);
}

#define ENC_BATCH (256u * 1024)
#define ENC_RECORDS 100000 /* per iteration */

/* rxlogd's record headers: native's send time, syslog's four. */
static const struct rxl_header enc_headers[4] = {
	{.key = "send_ns",
	 .key_len = 7,
	 .value = "\x18\x7c\x2a\x01\x00\x00\x00\x00",
	 .value_len = 8},
	{.key = "facility", .key_len = 8, .value = "16", .value_len = 2},
	{.key = "app", .key_len = 3, .value = "nginx", .value_len = 5},
	{.key = "src", .key_len = 3, .value = "198.18.0.30", .value_len = 11},
};

static uint8_t enc_buf[ENC_BATCH];

static void bm_encode(struct rxl_bench_state *s)
{
	const int32_t vlen = (int32_t)rxl_bench_range(s, 0);
	const int64_t t0 = now_ms();
	struct rxl_record_in r = {
		.key = key,
		.key_len = KEY_LEN,
		.value = value,
		.value_len = vlen,
		.timestamp_ms = t0,
		.headers = enc_headers,
		.n_headers = (uint32_t)rxl_bench_range(s, 1),
	};
	struct rxl_batch_builder b;
	uint64_t base = 0, records = 0, bytes = 0;

	while (rxl_bench_keep_running(s)) {
		rxl_batch_begin(&b, enc_buf, ENC_BATCH, base, NULL);
		for (uint32_t i = 0; i < ENC_RECORDS; i++) {
			/* Timestamps spread over 128 ms, as events of one batch
			 * are: deltas of one and two varint bytes. */
			r.timestamp_ms = t0 + (i & 127);
			if (rxl_batch_add(&b, &r) == -ENOSPC) {
				bytes += rxl_batch_finish(&b);
				rxl_bench_do_not_optimize(enc_buf);
				base += (uint64_t)b.count;
				rxl_batch_begin(&b, enc_buf, ENC_BATCH, base, NULL);
				if (rxl_batch_add(&b, &r)) {
					rxl_bench_skip_with_error(
						s, "a record does not fit an empty batch");
					return;
				}
			}
		}
		bytes += rxl_batch_finish(&b);
		rxl_bench_do_not_optimize(enc_buf);
		base += (uint64_t)b.count;
		records += ENC_RECORDS;
	}
	rxl_bench_set_items(s, (int64_t)records);
	rxl_bench_counter(s, "batch_bytes_per_record",
			  records ? (double)bytes / (double)records : 0);
}

static void bm_copy(struct rxl_bench_state *s)
{
	const uint32_t vlen = (uint32_t)rxl_bench_range(s, 0);
	const uint32_t nh = (uint32_t)rxl_bench_range(s, 1);
	uint64_t records = 0;

	while (rxl_bench_keep_running(s)) {
		uint32_t at = 0;

		for (uint32_t i = 0; i < ENC_RECORDS; i++) {
			uint32_t need = KEY_LEN + vlen;

			for (uint32_t h = 0; h < nh; h++)
				need += (uint32_t)(enc_headers[h].key_len +
						   enc_headers[h].value_len);
			if (at + need > ENC_BATCH) {
				rxl_bench_do_not_optimize(enc_buf);
				at = 0;
			}
			memcpy(enc_buf + at, key, KEY_LEN);
			memcpy(enc_buf + at + KEY_LEN, value, vlen);
			at += KEY_LEN + vlen;
			for (uint32_t h = 0; h < nh; h++) {
				memcpy(enc_buf + at, enc_headers[h].key,
				       (size_t)enc_headers[h].key_len);
				at += (uint32_t)enc_headers[h].key_len;
				memcpy(enc_buf + at, enc_headers[h].value,
				       (size_t)enc_headers[h].value_len);
				at += (uint32_t)enc_headers[h].value_len;
			}
		}
		rxl_bench_do_not_optimize(enc_buf);
		records += ENC_RECORDS;
	}
	rxl_bench_set_items(s, (int64_t)records);
}

static int write_all(int fd, const uint8_t *buf, uint64_t len)
{
	uint64_t off = 0;

	while (off < len) {
		size_t n = len - off < CHUNK_BYTES ? (size_t)(len - off) : CHUNK_BYTES;
		ssize_t w = write(fd, buf, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return -errno;
		off += (uint64_t)w;
	}
	return 0;
}

static void bm_write(struct rxl_bench_state *s)
{
	const bool sync = rxl_bench_range(s, 0) != 0;
	char path[PATH_MAX] = "";
	uint64_t bytes = 0;
	const char *what = "";
	int fd = -1;
	int ret = 0;

	rxl_err_clear();
	while (rxl_bench_keep_running(s)) {
		rxl_bench_pause(s);
		what = "open";
		ret = snprintf(path, sizeof(path), "%s/write-%" PRIu32, root, part_seq++);
		if (ret < 0 || (size_t)ret >= sizeof(path)) {
			path[0] = '\0';
			ret = -ENAMETOOLONG;
			goto fail;
		}
		fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
		if (fd < 0) {
			path[0] = '\0';
			ret = -errno;
			goto fail;
		}
		rxl_bench_resume(s);

		what = "write";
		ret = write_all(fd, chunk, PAYLOAD_BYTES);
		if (ret == 0 && sync && fdatasync(fd) < 0) {
			what = "fdatasync";
			ret = -errno;
		}

		rxl_bench_pause(s);
		if (ret < 0)
			goto fail;
		close(fd);
		fd = -1;
		what = "unlink";
		if (unlink(path) < 0) {
			ret = -errno;
			goto fail;
		}
		path[0] = '\0';
		bytes += PAYLOAD_BYTES;
		rxl_bench_resume(s);
	}
	rxl_bench_set_bytes(s, (int64_t)bytes);
	return;

fail:
	report_error(s, ret, what);
	if (fd >= 0)
		close(fd);
	if (path[0])
		unlink(path);
}

/* Flush the file system's pending writeback and journal (the earlier cases'
 * and the scan partition's) so a CPU-bound case does not share the two
 * cores of a small machine with it. Best effort. */
static void quiesce(void)
{
	int fd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (fd >= 0) {
		(void)syncfs(fd);
		close(fd);
	}
}

/* The reader_scan partition: SCAN_RECORDS records, written and closed. */
static int scan_write(void)
{
	struct rxl_record_in recs[BURST];
	struct rxl_log *log;
	int ret;

	ret = open_log(scan.dir, sizeof(scan.dir), RXL_DUR_NONE, &log);
	if (ret < 0)
		return rxl_err_ctx(ret, "open");
	records_init(recs, SCAN_VALUE_LEN, now_ms());
	ret = append_records(log, recs, SCAN_RECORDS);
	if (ret < 0) {
		rxl_log_close(log);
		return rxl_err_ctx(ret, "append");
	}
	ret = rxl_log_close(log);
	if (ret < 0)
		return rxl_err_ctx(ret, "close");
	scan.written = true;
	return 0;
}

/* One pass over the whole scan partition, checking what came back. */
static int scan_all(struct rxl_reader *r)
{
	const uint64_t expect_bytes = (uint64_t)SCAN_RECORDS * (KEY_LEN + SCAN_VALUE_LEN);
	struct rxl_record rec;
	uint64_t n = 0, bytes = 0, last = UINT64_MAX;
	int ret;

	ret = rxl_reader_seek(r, 0);
	if (ret < 0)
		return ret;
	while ((ret = rxl_reader_next(r, &rec)) == 1) {
		bytes += (uint64_t)rec.key_len + (uint64_t)rec.value_len;
		last = rec.offset;
		n++;
	}
	if (ret < 0)
		return ret;
	if (n != SCAN_RECORDS || bytes != expect_bytes || last != SCAN_RECORDS - 1)
		return rxl_err_set(-EPROTO,
				   "scan returned %" PRIu64 " records, %" PRIu64
				   " bytes, last offset "
				   "%" PRIu64 "; %u records were written",
				   n, bytes, last, SCAN_RECORDS);
	return 0;
}

static void bm_reader_scan(struct rxl_bench_state *s)
{
	const bool reopen = rxl_bench_range(s, 0) != 0;
	struct rxl_reader *r = NULL;
	const char *what = "write the partition";
	int64_t scans = 0;
	int ret = 0;

	rxl_err_clear();
	if (!scan.written)
		ret = scan_write();
	if (ret == 0)
		quiesce();
	if (ret == 0 && !reopen && !scan.reader) {
		what = "rxl_reader_open";
		ret = rxl_reader_open(scan.dir, &scan.reader);
		/* One untimed pass faults the mapping in. */
		if (ret == 0) {
			what = "first scan";
			ret = scan_all(scan.reader);
		}
	}
	if (ret < 0)
		goto fail;

	while (rxl_bench_keep_running(s)) {
		if (reopen) {
			what = "rxl_reader_open";
			ret = rxl_reader_open(scan.dir, &r);
			if (ret < 0)
				break;
		}
		what = "scan";
		ret = scan_all(reopen ? r : scan.reader);
		if (reopen) {
			rxl_reader_close(r);
			r = NULL;
		}
		if (ret < 0)
			break;
		scans++;
	}
	if (ret < 0)
		goto fail;
	rxl_bench_set_items(s, scans * SCAN_RECORDS);
	rxl_bench_set_bytes(s, scans * SCAN_RECORDS * (KEY_LEN + SCAN_VALUE_LEN));
	rxl_bench_counter(s, "value_bytes", SCAN_VALUE_LEN);
	return;

fail:
	report_error(s, ret, what);
}

/* Contents do not matter (no compression); printable, like the logs we carry. */
static void fill_payload(void)
{
	static const char line[] = "<134>1 2026-11-27T17:00:00.000Z web-7 nginx 4711 - - "
				   "GET /api/v1/items?page=3 HTTP/1.1 200 5120 ";

	for (size_t i = 0; i < sizeof(value); i++)
		value[i] = (uint8_t)line[i % (sizeof(line) - 1)];
	for (size_t i = 0; i < sizeof(chunk); i++)
		chunk[i] = (uint8_t)line[i % (sizeof(line) - 1)];
	memcpy(key, "\x7f\x00\x00\x01\x02\x02\x00\x00", KEY_LEN);
}

static int register_cases(void)
{
	static const char *const append_names[] = {"value", "dur"};
	static const char *const value_names[] = {"value"};
	static const char *const write_names[] = {"fdatasync"};
	static const char *const scan_names[] = {"reopen"};
	static const int64_t sizes[] = {64, 256, 1024};
	static const int64_t durs[] = {RXL_DUR_NONE, RXL_DUR_INTERVAL, RXL_DUR_FSYNC};
	struct rxl_bench_opts opts = {.real_time = true, .unit = RXL_BENCH_MS};
	int64_t args[2];
	int ret;

	/* Each baseline just before the cases it is the baseline of. The synced
	 * cases first: they measure the disk, and every case before them leaves
	 * gigabytes that a virtual disk's host may still be writing back. */
	opts.arg_names = write_names;
	args[0] = 1;
	ret = rxl_bench_register("write", bm_write, args, 1, &opts);
	for (size_t d = 0; ret == 0 && d < 3; d++) {
		for (size_t i = 0; ret == 0 && i < 3; i++) {
			opts.arg_names = append_names;
			args[0] = sizes[i];
			args[1] = durs[d];
			ret = rxl_bench_register("append", bm_append, args, 2, &opts);
		}
	}
	opts.arg_names = write_names;
	args[0] = 0;
	if (ret == 0)
		ret = rxl_bench_register("write", bm_write, args, 1, &opts);
	opts.arg_names = value_names;
	for (size_t i = 0; ret == 0 && i < 3; i++)
		ret = rxl_bench_register("append_nosync", bm_append_nosync, &sizes[i], 1, &opts);
	/* CPU time: no I/O. */
	static const char *const enc_names[] = {"value", "headers"};
	static const int64_t enc_shapes[][2] = {{64, 0}, {64, 1}, {256, 4}};
	struct rxl_bench_opts cpu = {.unit = RXL_BENCH_US, .arg_names = enc_names};

	for (size_t i = 0; ret == 0 && i < 3; i++) {
		ret = rxl_bench_register("copy", bm_copy, enc_shapes[i], 2, &cpu);
		if (ret == 0)
			ret = rxl_bench_register("encode", bm_encode, enc_shapes[i], 2, &cpu);
	}
	opts.arg_names = scan_names;
	for (int64_t reopen = 0; ret == 0 && reopen < 2; reopen++)
		ret = rxl_bench_register("reader_scan", bm_reader_scan, &reopen, 1, &opts);
	return ret;
}

int main(int argc, char **argv)
{
	int ret;

	fill_payload();
	ret = register_cases();
	if (ret < 0)
		goto out;
	ret = make_root();
	if (ret < 0)
		goto out;
	ret = rxl_bench_main(argc, argv);
	if (ret == -EIO)
		rxl_err_set(ret, "a case failed (its report says why)");

	if (scan.reader)
		rxl_reader_close(scan.reader);
	if (rm_tree(root) < 0)
		fprintf(stderr, "bench_log: cannot remove %s\n", root);
out:
	if (ret < 0)
		fprintf(stderr, "bench_log: %s\n", *rxl_err_msg() ? rxl_err_msg() : strerror(-ret));
	return ret < 0;
}
