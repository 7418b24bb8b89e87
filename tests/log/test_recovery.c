/* tests: crash recovery, Kafka LogSegmentTest style — torn tails, random
 * corruption, garbage indexes, corruption in sealed data, idempotence.
 * Test thread.
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
#include <unistd.h>

#include <cmocka.h>

#include "log_pvt.h"
#include "rxl_err.h"
#include "testutil.h"

/* Boundaries of the batches of one segment file: ends[i] = byte after batch
 * i, offs[i] = offset after batch i. */
struct bounds {
	uint64_t ends[4096], offs[4096];
	size_t n;
};

static uint8_t *read_file(const char *path, size_t *len)
{
	struct stat sb;
	int fd = open(path, O_RDONLY);

	assert_true(fd >= 0);
	assert_int_equal(fstat(fd, &sb), 0);
	uint8_t *b = malloc((size_t)sb.st_size + 1);

	assert_int_equal(pread(fd, b, (size_t)sb.st_size, 0), sb.st_size);
	close(fd);
	*len = (size_t)sb.st_size;
	return b;
}

static void write_file(const char *path, const uint8_t *b, size_t len)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, b, len), (ssize_t)len);
	close(fd);
}

static void get_bounds(const uint8_t *b, size_t len, struct bounds *bd)
{
	size_t pos = 0;

	bd->n = 0;
	while (pos < len) {
		struct rxl_batch_hdr h;
		enum rxl_batch_fault why;
		uint32_t l = rxl_batch_check(b + pos, len - pos, UINT64_MAX, UINT32_MAX, &h, &why);

		assert_true(l > 0);
		pos += l;
		bd->ends[bd->n] = pos;
		bd->offs[bd->n] = h.base_offset + (uint64_t)h.count;
		bd->n++;
	}
}

/* Make the partition look like it crashed: no marker, and (optionally) no
 * checkpoint, so recovery has to scan. */
static void simulate_crash(const char *dir, bool forget_ckpt)
{
	char p[4200];
	int dirfd = open(dir, O_RDONLY | O_DIRECTORY);
	struct rxl_state_file *st;

	snprintf(p, sizeof(p), "%s/clean_shutdown", dir);
	unlink(p);
	assert_true(dirfd >= 0);
	if (forget_ckpt) {
		assert_int_equal(rxl_state_map(dirfd, false, true, 0, &st), 0);
		memset(&st->ckpt, 0, sizeof(st->ckpt));
		rxl_state_unmap(st);
	}
	close(dirfd);
}

/* A one-segment log of @n records written in batches of 3 (tiny batches so
 * that the last batch is short). Returns the segment file path. */
static char *small_log(const char *dir, uint32_t n)
{
	struct rxl_log_config c;
	struct rxl_log *log;
	char *p;

	tu_config(&c);
	c.segment_bytes = 1 << 20;
	assert_int_equal(rxl_log_open(dir, &c, &log), 0);
	for (uint32_t i = 0; i < n; i += 3) {
		assert_int_equal(tu_append(log, i, n - i < 3 ? n - i : 3, 40, 1000), 0);
		assert_int_equal(rxl_log_flush(log), 0);
	}
	assert_int_equal(rxl_log_close(log), 0);
	assert_true(asprintf(&p, "%s/00000000000000000000.log", dir) > 0);
	return p;
}

static void check_second_run_changes_nothing(const char *dir)
{
	struct rxl_recovery_report a, b;

	simulate_crash(dir, true);
	assert_int_equal(rxl_log_recover(dir, false, &a), 0);
	assert_int_equal(rxl_log_recover(dir, false, &b), 0);
	assert_int_equal(b.bytes_truncated, 0);
	assert_int_equal(b.segments_removed, 0);
	assert_int_equal(b.indexes_rebuilt, 0);
	assert_int_equal(b.end_offset, a.end_offset);
	assert_false(b.corrupt);
}

static void test_clean_shutdown_skips_scanning(void **state)
{
	char *dir = tu_tmpdir("clean");
	char *seg = small_log(dir, 30);
	struct rxl_recovery_report rep;

	assert_int_equal(rxl_log_recover(dir, false, &rep), 0);
	assert_true(rep.clean);
	assert_int_equal(rep.end_offset, 30);
	assert_int_equal(rep.bytes_truncated, 0);
	/* Only the tail after the last index entry was read. */
	assert_true(rep.batches_scanned < 10);
	free(seg);
	tu_rmrf(dir);
}

/* Turn @dir's state page into version 1's layout: the identity line, then
 * (line 3, offset 192) the checkpoint and corruption record, which version
 * 2 keeps one line later; the seqlock and futex lines in between garbage. */
static void make_v1_page(const char *dir)
{
	int dirfd = open(dir, O_RDONLY | O_DIRECTORY);
	struct rxl_state_file *st;
	size_t line3 = offsetof(struct rxl_state_file, corrupt_offset) + sizeof(uint64_t) -
		       offsetof(struct rxl_state_file, ckpt);
	uint8_t keep[128];

	assert_true(dirfd >= 0);
	assert_int_equal(rxl_state_map(dirfd, false, true, 0, &st), 0);
	assert_true(line3 <= sizeof(keep) && offsetof(struct rxl_state_file, ckpt) > 192);
	memcpy(keep, &st->ckpt, line3);
	memset((char *)st + 64, 0xa5, RXL_STATE_SIZE - 64);
	memcpy((char *)st + 192, keep, line3);
	st->version = 1;
	rxl_state_unmap(st);
	close(dirfd);
}

/* A state page of version 1: readers refuse it with a message that says
 * what to do; a writer's open replaces it with the current layout,
 * carrying the recovery checkpoint over, so damage in a durable batch of
 * the last segment is still reported as corruption, not cut as a torn
 * tail (with the checkpoint lost, it would be). */
static void test_older_state_page_rebuilt_keeping_the_checkpoint(void **state)
{
	char *dir = tu_tmpdir("statev1");
	char *seg = small_log(dir, 30);
	struct rxl_recovery_report rep;
	struct rxl_reader *r;
	struct bounds bd;
	struct stat sb;
	size_t len;
	uint8_t *b = read_file(seg, &len);

	(void)state;
	get_bounds(b, len, &bd);
	b[bd.ends[bd.n - 2] + 30] ^= 1; /* in the last batch, before the checkpoint */
	write_file(seg, b, len);
	simulate_crash(dir, false);
	make_v1_page(dir);
	assert_int_equal(rxl_reader_open(dir, &r), -EBADMSG);
	assert_non_null(strstr(rxl_err_msg(), "version 1, this rxlog reads version 2"));
	assert_int_equal(rxl_log_recover(dir, false, &rep), 0); /* as a writer's open does */
	assert_true(rep.corrupt);
	assert_int_equal(rep.bytes_truncated, 0);
	assert_int_equal(stat(seg, &sb), 0);
	assert_int_equal((size_t)sb.st_size, len);
	/* Readable again, up to the damage. */
	assert_int_equal(rxl_reader_open(dir, &r), 0);
	rxl_reader_close(r);
	free(b);
	free(seg);
	tu_rmrf(dir);
}

static void test_last_batch_cut_at_every_byte_recovers_prefix(void **state)
{
	char *dir = tu_tmpdir("cut");
	char *seg = small_log(dir, 30);
	struct bounds bd;
	size_t len;
	uint8_t *orig = read_file(seg, &len);

	get_bounds(orig, len, &bd);
	assert_int_equal(bd.n, 10);
	uint64_t start = bd.ends[bd.n - 2];

	for (uint64_t cut = start; cut < len; cut++) {
		struct rxl_recovery_report rep;

		write_file(seg, orig, cut);
		simulate_crash(dir, true);
		assert_int_equal(rxl_log_recover(dir, false, &rep), 0);
		assert_false(rep.corrupt);
		assert_int_equal(rep.end_offset, 27);
		assert_int_equal(tu_read_all(dir, NULL), 27);
		assert_int_equal(tu_read_check(dir, 0, 27), 27);
		struct stat sb;

		assert_int_equal(stat(seg, &sb), 0);
		assert_int_equal((uint64_t)sb.st_size, start);
	}
	/* And the writer continues from there. */
	struct rxl_log_config c;
	struct rxl_log *log;

	tu_config(&c);
	assert_int_equal(rxl_log_open(dir, &c, &log), 0);
	assert_int_equal(rxl_log_end_offset(log), 27);
	assert_int_equal(tu_append(log, 27, 10, 40, 0), 0);
	assert_int_equal(rxl_log_close(log), 0);
	assert_int_equal(tu_read_check(dir, 0, 37), 37);
	free(orig);
	free(seg);
	tu_rmrf(dir);
}

static void test_random_corruption_to_end_keeps_exact_valid_prefix(void **state)
{
	char *dir = tu_tmpdir("rnd");
	char *seg = small_log(dir, 300);
	struct bounds bd;
	size_t len;
	uint8_t *orig = read_file(seg, &len), *b = malloc(len);
	uint64_t rs = 0x9e3779b97f4a7c15ull;

	get_bounds(orig, len, &bd);
	for (int seed = 0; seed < 300; seed++) {
		struct rxl_recovery_report rep;
		uint64_t p = tu_rand(&rs) % len;

		memcpy(b, orig, len);
		for (uint64_t i = p; i < len; i++)
			b[i] = (uint8_t)tu_rand(&rs);
		if (b[p] == orig[p])
			b[p] ^= 0x5a; /* the corruption starts exactly at p */
		write_file(seg, b, len);
		simulate_crash(dir, true);
		assert_int_equal(rxl_log_recover(dir, false, &rep), 0);
		assert_false(rep.corrupt);
		/* The valid prefix: every batch that ends at or before p. */
		uint64_t want = 0;

		for (size_t i = 0; i < bd.n && bd.ends[i] <= p; i++)
			want = bd.offs[i];
		assert_int_equal(rep.end_offset, want);
		assert_int_equal(tu_read_all(dir, NULL), (int64_t)want);
		if (seed % 50 == 0)
			check_second_run_changes_nothing(dir);
	}
	free(b);
	free(orig);
	free(seg);
	tu_rmrf(dir);
}

static void check_lookups(const char *dir, uint64_t n)
{
	struct rxl_reader *r;
	struct rxl_record rec;
	uint64_t off;

	assert_int_equal(rxl_reader_open(dir, &r), 0);
	for (uint64_t o = 0; o < n; o += 3) {
		assert_int_equal(rxl_reader_seek(r, o), 0);
		assert_int_equal(rxl_reader_next(r, &rec), 1);
		assert_int_equal(rec.offset, o);
	}
	/* Timestamps are 1000 + offset. */
	for (int64_t ts = 900; ts < 1000 + (int64_t)n + 10; ts += 5) {
		uint64_t want = ts <= 1000 ? 0 : (uint64_t)(ts - 1000);

		if (want > n)
			want = n;
		assert_int_equal(rxl_reader_seek_time(r, ts, &off), 0);
		assert_int_equal(off, want);
	}
	rxl_reader_close(r);
}

static void test_garbage_in_indexes_every_lookup_still_right(void **state)
{
	char *dir = tu_tmpdir("garbage");
	char *seg = small_log(dir, 600);
	char idx[4200], tidx[4200];
	uint64_t rs = 42;
	size_t len;

	snprintf(idx, sizeof(idx), "%s/00000000000000000000.index", dir);
	snprintf(tidx, sizeof(tidx), "%s/00000000000000000000.timeindex", dir);
	uint8_t *oi = read_file(idx, &len);

	assert_true(len >= 8 * 10); /* the log has a real index */
	free(oi);
	for (int round = 0; round < 6; round++) {
		uint8_t g[1200];
		size_t gl = 64 + tu_rand(&rs) % 1000;

		for (size_t i = 0; i < gl; i++)
			g[i] = (uint8_t)tu_rand(&rs);
		if (round == 1) {
			/* Plausible but wrong: sorted entries pointing at random bytes. */
			for (size_t i = 0; i + 8 <= gl; i += 8) {
				uint32_t o = __builtin_bswap32((uint32_t)i),
					 p = __builtin_bswap32((uint32_t)(i * 3 + 1));

				memcpy(g + i, &o, 4);
				memcpy(g + i + 4, &p, 4);
			}
		}
		if (round == 2)
			memset(g, 0, gl);
		write_file(idx, g, gl);
		write_file(tidx, g, gl);
		/* Lookups with the garbage in place (clean marker: no recovery). */
		check_lookups(dir, 600);
		/* Recovery rebuilds the indexes; lookups stay right. */
		struct rxl_recovery_report rep;

		simulate_crash(dir, true);
		assert_int_equal(rxl_log_recover(dir, false, &rep), 0);
		assert_true(rep.indexes_rebuilt > 0);
		assert_int_equal(rep.end_offset, 600);
		check_lookups(dir, 600);
		if (rxl_log_verify(dir, false, &rep))
			fail_msg("verify after rebuild: %s", rxl_err_msg());
	}
	free(seg);
	tu_rmrf(dir);
}

static void test_corruption_in_sealed_segment_is_reported_not_truncated(void **state)
{
	char *dir = tu_tmpdir("sealed");
	struct rxl_log_config c;
	struct rxl_log *log;
	struct rxl_recovery_report rep;
	char seg0[4200];
	struct stat before, after;

	tu_config(&c);
	assert_int_equal(rxl_log_open(dir, &c, &log), 0);
	assert_int_equal(tu_append(log, 0, 3000, 100, 0), 0);
	assert_int_equal(rxl_log_close(log), 0);
	snprintf(seg0, sizeof(seg0), "%s/00000000000000000000.log", dir);
	assert_int_equal(stat(seg0, &before), 0);
	/* Flip one byte in the middle of the first (sealed) segment. */
	int fd = open(seg0, O_RDWR);
	uint8_t byte;

	assert_int_equal(pread(fd, &byte, 1, before.st_size / 2), 1);
	byte ^= 0xff;
	assert_int_equal(pwrite(fd, &byte, 1, before.st_size / 2), 1);
	close(fd);

	simulate_crash(dir, true);
	assert_int_equal(rxl_log_recover(dir, false, &rep), 0);
	assert_true(rep.corrupt);
	assert_int_equal(rep.corrupt_segment, 0);
	assert_int_equal(stat(seg0, &after), 0);
	assert_int_equal(after.st_size, before.st_size); /* nothing cut */
	assert_int_equal(rxl_log_open(dir, &c, &log), -EUCLEAN);
	assert_non_null(strstr(rxl_err_msg(), "verify --repair"));
	/* Readers stop at the bad batch with an error, never garbage. */
	struct rxl_reader *r;
	struct rxl_record rec;
	int n;
	uint64_t seen = 0;

	assert_int_equal(rxl_reader_open(dir, &r), 0);
	while ((n = rxl_reader_next(r, &rec)) == 1)
		assert_int_equal(rec.offset, seen++);
	assert_int_equal(n, -EBADMSG);
	assert_non_null(strstr(rxl_err_msg(), "00000000000000000000.log"));
	rxl_reader_close(r);

	assert_int_equal(rxl_log_verify(dir, false, &rep), -EUCLEAN);
	assert_true(rep.corrupt);
	assert_int_equal(rxl_log_verify(dir, true, &rep), 0);
	assert_int_equal(rep.end_offset, seen);
	assert_int_equal(rxl_log_verify(dir, false, &rep), 0);
	assert_int_equal(tu_read_all(dir, NULL), (int64_t)seen);
	assert_int_equal(rxl_log_open(dir, &c, &log), 0);
	assert_int_equal(rxl_log_end_offset(log), seen);
	assert_int_equal(rxl_log_close(log), 0);
	tu_rmrf(dir);
}

static void test_corruption_before_checkpoint_in_last_segment_is_reported(void **state)
{
	char *dir = tu_tmpdir("beforeck");
	char *seg = small_log(dir, 30);
	struct rxl_recovery_report rep;
	struct bounds bd;
	size_t len;
	uint8_t *b = read_file(seg, &len);

	get_bounds(b, len, &bd);
	/* The checkpoint (left by close) is at the end; damage the last batch. */
	b[bd.ends[bd.n - 2] + 30] ^= 1;
	write_file(seg, b, len);
	simulate_crash(dir, false);
	assert_int_equal(rxl_log_recover(dir, false, &rep), 0);
	assert_true(rep.corrupt);
	struct stat sb;

	assert_int_equal(stat(seg, &sb), 0);
	assert_int_equal((size_t)sb.st_size, len);
	free(b);
	free(seg);
	tu_rmrf(dir);
}

static void test_torn_tail_in_later_segments_removed_after_checkpoint(void **state)
{
	char *dir = tu_tmpdir("multi");
	struct rxl_log_config c;
	struct rxl_log *log;
	struct rxl_recovery_report rep;

	tu_config(&c);
	assert_int_equal(rxl_log_open(dir, &c, &log), 0);
	assert_int_equal(tu_append(log, 0, 3000, 100, 0), 0);
	assert_int_equal(rxl_log_close(log), 0);
	/* Zero the head of the second segment: everything from there is torn
	 * (no checkpoint: only the last segment may be cut, so make it the
	 * checkpoint case by keeping a checkpoint at the first segment). */
	int dirfd = open(dir, O_RDONLY | O_DIRECTORY);
	struct rxl_state_file *st;
	uint64_t *bases;
	size_t n;

	assert_int_equal(rxl_seg_list(dirfd, false, &bases, &n), 0);
	assert_true(n >= 3);
	assert_int_equal(rxl_state_map(dirfd, false, true, 0, &st), 0);
	rxl_state_ckpt_set(st, bases[1], bases[1], 0);
	rxl_state_unmap(st);
	char p[4200];

	rxl_seg_name(p, sizeof(p), bases[1], "log");
	int fd = openat(dirfd, p, O_RDWR);
	uint8_t z[64] = {0};

	assert_int_equal(pwrite(fd, z, sizeof(z), 0), (ssize_t)sizeof(z));
	close(fd);
	close(dirfd);
	simulate_crash(dir, false);
	assert_int_equal(rxl_log_recover(dir, false, &rep), 0);
	assert_false(rep.corrupt);
	assert_int_equal(rep.end_offset, bases[1]);
	assert_int_equal(rep.segments_removed, n - 2);
	assert_int_equal(tu_read_all(dir, NULL), (int64_t)bases[1]);
	check_second_run_changes_nothing(dir);
	free(bases);
	tu_rmrf(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_clean_shutdown_skips_scanning),
		cmocka_unit_test(test_last_batch_cut_at_every_byte_recovers_prefix),
		cmocka_unit_test(test_random_corruption_to_end_keeps_exact_valid_prefix),
		cmocka_unit_test(test_garbage_in_indexes_every_lookup_still_right),
		cmocka_unit_test(test_corruption_in_sealed_segment_is_reported_not_truncated),
		cmocka_unit_test(test_corruption_before_checkpoint_in_last_segment_is_reported),
		cmocka_unit_test(test_torn_tail_in_later_segments_removed_after_checkpoint),
		cmocka_unit_test(test_older_state_page_rebuilt_keeping_the_checkpoint),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
