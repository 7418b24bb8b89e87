/* tests: the partition writer and reader, functional cases.
 * Test thread (plus forked processes where a case says so).
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "rxl_err.h"
#include "rxl_log.h"
#include "testutil.h"

static int count_segments(const char *dir)
{
	char cmd[4200];

	snprintf(cmd, sizeof(cmd), "ls %s | grep -c '\\.log$'", dir);
	FILE *f = popen(cmd, "r");
	int n = -1;

	if (f) {
		if (fscanf(f, "%d", &n) != 1)
			n = -1;
		pclose(f);
	}
	return n;
}

static void test_append_then_read_back_in_order(void **state)
{
	char *dir = tu_tmpdir("basic");
	struct rxl_log_config c;
	struct rxl_log *log;

	tu_config(&c);
	assert_int_equal(rxl_log_open(dir, &c, &log), 0);
	assert_int_equal(tu_append(log, 0, 5000, -1, 1000), 0);
	assert_int_equal(rxl_log_sync(log), 0);
	assert_int_equal(rxl_log_hwm(log), 5000);
	assert_int_equal(rxl_log_validate(log), 0);
	assert_int_equal(tu_read_check(dir, 0, 5000), 5000);
	assert_int_equal(tu_read_check(dir, 4321, 5000), 5000 - 4321);
	struct rxl_log_stats st;

	rxl_log_stats(log, &st);
	assert_true(st.segments_rolled > 0); /* 64 KiB segments */
	assert_int_equal(st.records, 5000);
	assert_int_equal(rxl_log_close(log), 0);
	assert_true(count_segments(dir) > 1);
	tu_rmrf(dir);
}

static void test_records_invisible_until_written(void **state)
{
	char *dir = tu_tmpdir("vis");
	struct rxl_log_config c;
	struct rxl_log *log;
	struct rxl_reader *r;
	struct rxl_record rec;

	tu_config(&c);
	c.linger_us = 60 * 1000 * 1000; /* never flushes by itself */
	assert_int_equal(rxl_log_open(dir, &c, &log), 0);
	assert_int_equal(tu_append(log, 0, 3, 16, 0), 0);
	assert_int_equal(rxl_reader_open(dir, &r), 0);
	assert_int_equal(rxl_reader_next(r, &rec), 0); /* still in the staging batch */
	assert_int_equal(rxl_reader_wait(r, 10), -ETIMEDOUT);
	assert_int_equal(rxl_log_sync(log), 0);
	assert_int_equal(rxl_reader_wait(r, 1000), 0);
	for (int i = 0; i < 3; i++) {
		assert_int_equal(rxl_reader_next(r, &rec), 1);
		assert_int_equal(rec.offset, (uint64_t)i);
		assert_true(tu_value_ok(&rec, (uint64_t)i));
	}
	assert_int_equal(rxl_reader_next(r, &rec), 0);
	rxl_reader_close(r);
	assert_int_equal(rxl_log_close(log), 0);
	tu_rmrf(dir);
}

static void test_keys_headers_and_nulls_round_trip(void **state)
{
	char *dir = tu_tmpdir("hdr");
	struct rxl_log_config c;
	struct rxl_log *log;
	struct rxl_reader *r;
	struct rxl_record rec;
	struct rxl_header h[2] = {
		{.key = "severity", .key_len = 8, .value = "err", .value_len = 3},
		{.key = "nothing", .key_len = 7, .value = NULL, .value_len = -1},
	};
	struct rxl_record_in in[2] = {
		{.key = "host-a",
		 .key_len = 6,
		 .value = "hello",
		 .value_len = 5,
		 .timestamp_ms = 1700000000000,
		 .headers = h,
		 .n_headers = 2},
		{.key = NULL, .key_len = -1, .value = NULL, .value_len = -1, .timestamp_ms = 5},
	};
	struct rxl_producer p = {.id = 77, .epoch = 3, .base_sequence = 10};
	uint64_t first;

	tu_config(&c);
	assert_int_equal(rxl_log_open(dir, &c, &log), 0);
	assert_int_equal(rxl_log_append_burst(log, in, 2, &p, &first), 2);
	assert_int_equal(first, 0);
	assert_int_equal(rxl_log_close(log), 0);

	assert_int_equal(rxl_reader_open(dir, &r), 0);
	assert_int_equal(rxl_reader_next(r, &rec), 1);
	assert_int_equal(rec.key_len, 6);
	assert_memory_equal(rec.key, "host-a", 6);
	assert_memory_equal(rec.value, "hello", 5);
	assert_int_equal(rec.timestamp_ms, 1700000000000);
	assert_int_equal(rec.producer_id, 77);
	assert_int_equal(rec.sequence, 10);
	assert_int_equal(rec.n_headers, 2);
	const uint8_t *it = rec.headers;
	struct rxl_header got;

	assert_int_equal(rxl_header_next(&rec, &it, &got), 1);
	assert_int_equal(got.key_len, 8);
	assert_memory_equal(got.key, "severity", 8);
	assert_memory_equal(got.value, "err", 3);
	assert_int_equal(rxl_header_next(&rec, &it, &got), 1);
	assert_int_equal(got.value_len, -1);
	assert_int_equal(rxl_header_next(&rec, &it, &got), 0);
	assert_int_equal(rxl_reader_next(r, &rec), 1);
	assert_int_equal(rec.key_len, -1);
	assert_null(rec.key);
	assert_int_equal(rec.value_len, -1);
	assert_int_equal(rec.timestamp_ms, 5);
	assert_int_equal(rec.sequence, 11);
	rxl_reader_close(r);
	tu_rmrf(dir);
}

static void test_second_writer_gets_clear_error(void **state)
{
	char *dir = tu_tmpdir("lock");
	struct rxl_log_config c;
	struct rxl_log *log;
	int fds[2];

	tu_config(&c);
	assert_int_equal(rxl_log_open(dir, &c, &log), 0);
	assert_int_equal(pipe(fds), 0);
	pid_t pid = fork();

	if (pid == 0) {
		/* Another process: flock is per open file, so this is the real case. */
		struct rxl_log *l2;
		int err = rxl_log_open(dir, &c, &l2);
		char pidstr[32];

		snprintf(pidstr, sizeof(pidstr), "pid %d", (int)getppid());
		int ok = err == -EWOULDBLOCK && strstr(rxl_err_msg(), pidstr) != NULL;

		(void)!write(fds[1], &ok, sizeof(ok));
		_exit(0);
	}
	int ok = 0;

	assert_int_equal(read(fds[0], &ok, sizeof(ok)), (ssize_t)sizeof(ok));
	waitpid(pid, NULL, 0);
	assert_true(ok);
	assert_int_equal(rxl_log_close(log), 0);
	/* Released: a new writer gets in. */
	assert_int_equal(rxl_log_open(dir, &c, &log), 0);
	assert_int_equal(rxl_log_close(log), 0);
	close(fds[0]);
	close(fds[1]);
	tu_rmrf(dir);
}

static void test_reopen_continues_offsets(void **state)
{
	char *dir = tu_tmpdir("reopen");
	struct rxl_log_config c;
	struct rxl_log *log;

	tu_config(&c);
	for (int round = 0; round < 4; round++) {
		assert_int_equal(rxl_log_open(dir, &c, &log), 0);
		assert_int_equal(rxl_log_end_offset(log), (uint64_t)round * 777);
		assert_int_equal(tu_append(log, (uint64_t)round * 777, 777, -1, 0), 0);
		assert_int_equal(rxl_log_close(log), 0);
	}
	assert_int_equal(tu_read_check(dir, 0, 4 * 777), 4 * 777);
	assert_int_equal(tu_read_all(dir, NULL), 4 * 777);
	tu_rmrf(dir);
}

static void test_seek_every_offset_through_index(void **state)
{
	char *dir = tu_tmpdir("seek");
	struct rxl_log_config c;
	struct rxl_log *log;
	struct rxl_reader *r;
	struct rxl_record rec;

	tu_config(&c);
	c.batch_bytes = 2048; /* many batches, many index entries */
	assert_int_equal(rxl_log_open(dir, &c, &log), 0);
	assert_int_equal(tu_append(log, 0, 3000, 40, 0), 0);
	assert_int_equal(rxl_log_sync(log), 0);
	assert_int_equal(rxl_reader_open(dir, &r), 0);
	for (uint64_t off = 0; off < 3000; off += 7) {
		assert_int_equal(rxl_reader_seek(r, off), 0);
		assert_int_equal(rxl_reader_next(r, &rec), 1);
		assert_int_equal(rec.offset, off);
		assert_true(tu_value_ok(&rec, off));
	}
	assert_int_equal(rxl_reader_seek(r, 3000), 0); /* at the HWM: valid, empty */
	assert_int_equal(rxl_reader_next(r, &rec), 0);
	assert_int_equal(rxl_reader_seek(r, 3001), -ERANGE);
	rxl_reader_close(r);
	assert_int_equal(rxl_log_close(log), 0);
	tu_rmrf(dir);
}

static void test_seek_time_finds_first_record_at_or_after(void **state)
{
	char *dir = tu_tmpdir("time");
	struct rxl_log_config c;
	struct rxl_log *log;
	struct rxl_reader *r;
	struct rxl_record rec;
	uint64_t off;

	tu_config(&c);
	c.batch_bytes = 2048;
	assert_int_equal(rxl_log_open(dir, &c, &log), 0);
	/* Timestamps 10 * seq, except a few that jump back (out of order). */
	uint8_t buf[64];

	for (uint64_t s = 0; s < 4000; s++) {
		struct rxl_record_in in = {
			.key_len = -1,
			.value = buf,
			.value_len = tu_value(s, buf, 32),
			.timestamp_ms = (int64_t)(s % 100 == 50 ? s * 10 - 3000 : s * 10),
		};

		assert_int_equal(rxl_log_append_burst(log, &in, 1, NULL, NULL), 1);
	}
	assert_int_equal(rxl_log_sync(log), 0);
	assert_int_equal(rxl_reader_open(dir, &r), 0);
	for (int64_t ts = 0; ts < 40000; ts += 37) {
		/* The model: first s with ts(s) >= ts. */
		uint64_t want = 4000;

		for (uint64_t s = 0; s < 4000; s++) {
			int64_t t = (int64_t)(s % 100 == 50 ? s * 10 - 3000 : s * 10);

			if (t >= ts) {
				want = s;
				break;
			}
		}
		assert_int_equal(rxl_reader_seek_time(r, ts, &off), 0);
		assert_int_equal(off, want);
		if (want < 4000) {
			assert_int_equal(rxl_reader_next(r, &rec), 1);
			assert_int_equal(rec.offset, want);
		}
	}
	assert_int_equal(rxl_reader_seek_time(r, 1000000, &off), 0);
	assert_int_equal(off, 4000);
	rxl_reader_close(r);
	assert_int_equal(rxl_log_close(log), 0);
	tu_rmrf(dir);
}

static void test_retention_by_bytes_moves_log_start(void **state)
{
	char *dir = tu_tmpdir("ret");
	struct rxl_log_config c;
	struct rxl_log *log;
	struct rxl_reader *r;
	struct rxl_log_offsets o;
	uint64_t start;

	tu_config(&c);
	c.retention_bytes = 3 * c.segment_bytes;
	assert_int_equal(rxl_log_open(dir, &c, &log), 0);
	/* A reader that mapped the first segment keeps reading it. */
	assert_int_equal(tu_append(log, 0, 100, 100, 0), 0);
	assert_int_equal(rxl_log_sync(log), 0);
	assert_int_equal(rxl_reader_open(dir, &r), 0);
	struct rxl_record rec;

	assert_int_equal(rxl_reader_next(r, &rec), 1);
	assert_int_equal(tu_append(log, 100, 20000, 100, 0), 0);
	assert_int_equal(rxl_log_sync(log), 0);
	int removed = rxl_log_retention(log, 0);

	assert_true(removed > 0);
	assert_true(count_segments(dir) <= 4);
	rxl_reader_offsets(r, &o);
	assert_true(o.log_start > 0);
	assert_int_equal(o.hwm, 20100);
	/* The old mapping still reads its segment to the end. */
	for (uint64_t want = 1; want < 100; want++) {
		assert_int_equal(rxl_reader_next(r, &rec), 1);
		assert_int_equal(rec.offset, want);
	}
	/* Below the start: out of range, and the message says where it starts. */
	assert_int_equal(rxl_reader_seek(r, 0), -ERANGE);
	assert_non_null(strstr(rxl_err_msg(), "out of range"));
	rxl_reader_close(r);
	int64_t end = tu_read_all(dir, &start);

	assert_int_equal(end, 20100);
	assert_int_equal(start, o.log_start);
	assert_int_equal(rxl_log_close(log), 0);
	/* Reopen: the start persists. */
	assert_int_equal(rxl_log_open(dir, &c, &log), 0);
	struct rxl_log_stats st;

	rxl_log_stats(log, &st);
	assert_int_equal(st.log_start, start);
	assert_int_equal(rxl_log_close(log), 0);
	tu_rmrf(dir);
}

static void test_retention_by_age(void **state)
{
	char *dir = tu_tmpdir("age");
	struct rxl_log_config c;
	struct rxl_log *log;

	tu_config(&c);
	c.retention_ms = 1000;
	assert_int_equal(rxl_log_open(dir, &c, &log), 0);
	assert_int_equal(tu_append(log, 0, 3000, 100, 0), 0); /* ts 0..2999 */
	assert_int_equal(rxl_log_roll(log), 0);
	assert_int_equal(tu_append(log, 3000, 10, 100, 1000000), 0); /* ts ~1e6 */
	assert_int_equal(rxl_log_sync(log), 0);
	int before = count_segments(dir);

	/* now = 2000: only segments whose newest record is older than 1000 go. */
	int removed = rxl_log_retention(log, 2000);

	assert_true(removed >= 1);
	assert_int_equal(count_segments(dir), before - removed);
	uint64_t start;

	assert_true(tu_read_all(dir, &start) == 3010);
	assert_true(start > 0 && start <= 3000);
	/* now far ahead: everything sealed goes, never the active segment. */
	assert_true(rxl_log_retention(log, 10000000) >= 0);
	assert_true(count_segments(dir) >= 1);
	assert_int_equal(tu_read_check(dir, 3000, 3010), 10);
	assert_int_equal(rxl_log_close(log), 0);
	tu_rmrf(dir);
}

static void test_too_large_record_refused_and_counted(void **state)
{
	char *dir = tu_tmpdir("big");
	struct rxl_log_config c;
	struct rxl_log *log;
	static uint8_t big[16384];
	struct rxl_record_in in[2] = {
		{.key_len = -1, .value = "ok", .value_len = 2},
		{.key_len = -1, .value = big, .value_len = sizeof(big)},
	};
	struct rxl_log_stats st;

	tu_config(&c);
	assert_int_equal(rxl_log_open(dir, &c, &log), 0);
	assert_int_equal(rxl_log_append_burst(log, in, 2, NULL, NULL), 1);
	assert_int_equal(rxl_log_append_burst(log, in + 1, 1, NULL, NULL), -EMSGSIZE);
	rxl_log_stats(log, &st);
	assert_int_equal(st.too_large, 2);
	in[1].value_len = -2;
	assert_int_equal(rxl_log_append_burst(log, in + 1, 1, NULL, NULL), -EINVAL);
	assert_int_equal(rxl_log_failed(log), 0);
	assert_int_equal(rxl_log_close(log), 0);
	tu_rmrf(dir);
}

static void test_bad_config_names_the_setting(void **state)
{
	struct rxl_log_config c;
	struct rxl_log *log;

	rxl_log_config_default(&c);
	c.segment_bytes = 100;
	assert_int_equal(rxl_log_open("/nonexistent/x", &c, &log), -EINVAL);
	assert_non_null(strstr(rxl_err_msg(), "segment_bytes"));
	rxl_log_config_default(&c);
	c.staging_buffers = 1;
	assert_int_equal(rxl_log_config_check(&c), -EINVAL);
	assert_non_null(strstr(rxl_err_msg(), "staging_buffers"));
	char p[64];

	assert_int_equal(rxl_log_path(p, sizeof(p), "/d", "a/b", 0), -EINVAL);
	assert_int_equal(rxl_log_path(p, sizeof(p), "/d", "t", 3), 0);
	assert_string_equal(p, "/d/t-3");
}

static void test_fsync_mode_durable_equals_hwm(void **state)
{
	char *dir = tu_tmpdir("fsync");
	struct rxl_log_config c;
	struct rxl_log *log;
	struct rxl_log_stats st;

	tu_config(&c);
	c.durability = RXL_DUR_FSYNC;
	assert_int_equal(rxl_log_open(dir, &c, &log), 0);
	for (int i = 0; i < 20; i++) {
		assert_int_equal(tu_append(log, (uint64_t)i * 50, 50, 64, 0), 0);
		assert_int_equal(rxl_log_flush(log), 0);
		rxl_log_poll(log);
		rxl_log_stats(log, &st);
		assert_true(st.durable == st.hwm);
	}
	assert_int_equal(rxl_log_sync(log), 0);
	rxl_log_stats(log, &st);
	assert_int_equal(st.hwm, 1000);
	assert_int_equal(st.durable, 1000);
	assert_true(st.syncs >= 1);
	/* Every batch write and every fdatasync is in its histogram once. */
	uint64_t nw = 0, ns = 0;

	for (int b = 0; b < RXL_LAT_BUCKETS; b++) {
		nw += st.write_lat[b];
		ns += st.sync_lat[b];
	}
	assert_int_equal(nw, st.batches);
	assert_int_equal(ns, st.syncs);
	assert_true(st.write_lat_sum_ns > 0 && st.sync_lat_sum_ns > 0);
	assert_int_equal(rxl_log_close(log), 0);
	assert_int_equal(tu_read_check(dir, 0, 1000), 1000);
	tu_rmrf(dir);
}

static void test_latency_buckets_are_powers_of_four_microseconds(void **state)
{
	(void)state;
	assert_int_equal(rxl_lat_bucket(0), 0);
	assert_int_equal(rxl_lat_bucket(1000), 0); /* 1 µs: <= 1 */
	assert_int_equal(rxl_lat_bucket(1001), 1); /* just over 1 µs */
	assert_int_equal(rxl_lat_bucket(4000), 1); /* <= 4 µs */
	assert_int_equal(rxl_lat_bucket(4001), 2);
	assert_int_equal(rxl_lat_bucket(1048576000ull), RXL_LAT_BUCKETS - 2); /* 4^10 µs */
	assert_int_equal(rxl_lat_bucket(1048577000ull), RXL_LAT_BUCKETS - 1);
	assert_int_equal(rxl_lat_bucket(UINT64_MAX / 2), RXL_LAT_BUCKETS - 1);
	assert_int_equal(rxl_lat_bound_us(0), 1);
	assert_int_equal(rxl_lat_bound_us(3), 64);
	assert_int_equal(rxl_lat_bound_us(RXL_LAT_BUCKETS - 1), 0);
}

static void test_interval_mode_syncs_in_background(void **state)
{
	char *dir = tu_tmpdir("interval");
	struct rxl_log_config c;
	struct rxl_log *log;
	struct rxl_log_stats st;

	tu_config(&c);
	c.durability = RXL_DUR_INTERVAL;
	c.flush_ms = 5;
	assert_int_equal(rxl_log_open(dir, &c, &log), 0);
	assert_int_equal(tu_append(log, 0, 500, 64, 0), 0);
	assert_int_equal(rxl_log_flush(log), 0);
	for (int i = 0; i < 400; i++) {
		rxl_log_poll(log);
		rxl_log_stats(log, &st);
		if (st.durable == 500)
			break;
		usleep(1000);
	}
	assert_int_equal(st.durable, 500);
	assert_true(st.syncs >= 1);
	assert_int_equal(rxl_log_close(log), 0);
	tu_rmrf(dir);
}

static void test_linger_flushes_partial_batch(void **state)
{
	char *dir = tu_tmpdir("linger");
	struct rxl_log_config c;
	struct rxl_log *log;

	tu_config(&c);
	c.linger_us = 2000;
	assert_int_equal(rxl_log_open(dir, &c, &log), 0);
	assert_int_equal(tu_append(log, 0, 3, 16, 0), 0);
	assert_int_equal(rxl_log_hwm(log), 0);
	for (int i = 0; i < 1000 && rxl_log_hwm(log) < 3; i++) {
		usleep(500);
		rxl_log_poll(log);
	}
	assert_int_equal(rxl_log_hwm(log), 3);
	assert_int_equal(rxl_log_close(log), 0);
	tu_rmrf(dir);
}

static void test_segment_ms_rolls_an_old_active_segment(void **state)
{
	char *dir = tu_tmpdir("segms");
	struct rxl_log_config c;
	struct rxl_log *log;
	struct rxl_log_stats st;

	tu_config(&c);
	c.segment_bytes = 1 << 20;
	c.segment_ms = 20;
	assert_int_equal(rxl_log_open(dir, &c, &log), 0);
	assert_int_equal(tu_append(log, 0, 5, 16, 0), 0);
	assert_int_equal(rxl_log_flush(log), 0);
	usleep(30 * 1000);
	/* The next batch starts in a new segment: the old one aged out. */
	assert_int_equal(tu_append(log, 5, 5, 16, 0), 0);
	assert_int_equal(rxl_log_sync(log), 0);
	rxl_log_stats(log, &st);
	assert_int_equal(st.segments_rolled, 1);
	assert_int_equal(count_segments(dir), 2);
	assert_int_equal(rxl_log_close(log), 0);
	assert_int_equal(tu_read_check(dir, 0, 10), 10);
	tu_rmrf(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_append_then_read_back_in_order),
		cmocka_unit_test(test_records_invisible_until_written),
		cmocka_unit_test(test_keys_headers_and_nulls_round_trip),
		cmocka_unit_test(test_second_writer_gets_clear_error),
		cmocka_unit_test(test_reopen_continues_offsets),
		cmocka_unit_test(test_seek_every_offset_through_index),
		cmocka_unit_test(test_seek_time_finds_first_record_at_or_after),
		cmocka_unit_test(test_retention_by_bytes_moves_log_start),
		cmocka_unit_test(test_retention_by_age),
		cmocka_unit_test(test_too_large_record_refused_and_counted),
		cmocka_unit_test(test_bad_config_names_the_setting),
		cmocka_unit_test(test_fsync_mode_durable_equals_hwm),
		cmocka_unit_test(test_latency_buckets_are_powers_of_four_microseconds),
		cmocka_unit_test(test_interval_mode_syncs_in_background),
		cmocka_unit_test(test_linger_flushes_partial_batch),
		cmocka_unit_test(test_segment_ms_rolls_an_old_active_segment),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
