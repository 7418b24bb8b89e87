/* tests: fail the n-th I/O operation (n = 1, 2, ...), once and persistently,
 * with -EIO, -ENOSPC and short writes; afterwards the log either has the
 * data or reported a documented error, the published HWM never covers
 * failed bytes, and validate() passes.
 * Test thread. Built only with -Dfault_injection=true.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "log_pvt.h"
#include "rxl_err.h"
#include "rxl_fault.h"
#include "testutil.h"

struct outcome {
	uint64_t max_hwm; /* largest HWM any session published */
	int errors;	  /* operations that returned an error */
	bool bad_error;	  /* an error outside the documented set */
};

static bool documented(int err)
{
	return err == -EIO || err == -ENOSPC || err == -EUCLEAN || err == -ENOENT;
}

static void note(struct outcome *o, int err, const char *what)
{
	if (err >= 0)
		return;
	o->errors++;
	if (!documented(err)) {
		o->bad_error = true;
		print_error("%s: undocumented error %d: %s\n", what, err, rxl_err_msg());
	}
	if (!rxl_err_msg()[0]) {
		o->bad_error = true;
		print_error("%s: error %d without a message\n", what, err);
	}
}

/* Two writer sessions (the second after a simulated crash), with appends,
 * flushes, rolls, retention and syncs in between. */
static void workload(const char *dir, enum rxl_durability dur, struct outcome *o)
{
	struct rxl_log_config c;

	tu_config(&c);
	c.durability = dur;
	c.flush_ms = 1;
	c.retention_bytes = 4 * c.segment_bytes;
	for (int session = 0; session < 2; session++) {
		struct rxl_log *log;
		struct rxl_log_stats st;
		int err;

		rxl_err_clear();
		err = rxl_log_open(dir, &c, &log);
		note(o, err, "open");
		if (err)
			continue;
		for (int i = 0; i < 12; i++) {
			err = tu_append(log, rxl_log_end_offset(log), 40, 300, 0);
			note(o, err, "append");
			err = rxl_log_flush(log);
			note(o, err, "flush");
			err = rxl_log_poll(log);
			note(o, err, "poll");
			if (i % 4 == 3) {
				note(o, rxl_log_roll(log), "roll");
				int r = rxl_log_retention(log, 0);

				note(o, r < 0 ? r : 0, "retention");
			}
			rxl_log_stats(log, &st);
			if (st.hwm > o->max_hwm)
				o->max_hwm = st.hwm;
		}
		note(o, rxl_log_sync(log), "sync");
		rxl_log_stats(log, &st);
		if (st.hwm > o->max_hwm)
			o->max_hwm = st.hwm;
		/* The HWM never covers failed bytes: every published record is
		 * valid on disk, checked with the faults off. */
		rxl_fault_suspend(true);
		if (rxl_log_validate(log))
			fail_msg("validate: %s", rxl_err_msg());
		rxl_fault_suspend(false);
		err = rxl_log_close(log);
		note(o, err, "close");
		if (session == 0) {
			char p[4200];

			snprintf(p, sizeof(p), "%s/clean_shutdown", dir);
			unlink(p); /* the second session recovers */
		}
	}
}

/* With the faults off, the log holds a contiguous valid prefix that covers
 * every HWM ever published (retention may have moved the start). */
static void check_after(const char *dir, const struct outcome *o)
{
	struct rxl_recovery_report rep;
	uint64_t start;

	rxl_fault_disarm();
	if (rxl_log_recover(dir, false, &rep))
		fail_msg("recover: %s", rxl_err_msg());
	assert_false(rep.corrupt);
	if (rep.end_offset < o->max_hwm)
		fail_msg("published hwm %llu but only %llu recovered",
			 (unsigned long long)o->max_hwm, (unsigned long long)rep.end_offset);
	int64_t end = tu_read_all(dir, &start);

	if (end != (int64_t)rep.end_offset)
		fail_msg("read back %lld, recovered end %llu: %s", (long long)end,
			 (unsigned long long)rep.end_offset, rxl_err_msg());
}

static uint64_t clean_hits(enum rxl_durability dur, uint32_t kinds)
{
	char *dir = tu_tmpdir("fclean");
	struct outcome o = {0};
	struct rxl_fault_plan plan = {.kinds = kinds, .nth = 0};

	rxl_fault_arm(&plan);
	workload(dir, dur, &o);
	uint64_t hits = rxl_fault_hits();

	assert_int_equal(o.errors, 0);
	check_after(dir, &o);
	tu_rmrf(dir);
	return hits;
}

static void fault_loop(enum rxl_durability dur, uint32_t kinds, int err, bool persistent)
{
	uint64_t total = clean_hits(dur, kinds);
	int failures_seen = 0;

	assert_true(total > 10);
	for (uint64_t n = 1; n <= total; n++) {
		char *dir = tu_tmpdir("fault");
		struct outcome o = {0};
		struct rxl_fault_plan plan = {
			.kinds = kinds, .nth = n, .persistent = persistent, .err = err};

		rxl_fault_arm(&plan);
		workload(dir, dur, &o);
		if (rxl_fault_injected())
			failures_seen++;
		else if (getenv("RXL_FAULT_DEBUG"))
			print_message("n=%llu not reached: %llu hits\n", (unsigned long long)n,
				      (unsigned long long)rxl_fault_hits());
		assert_false(o.bad_error);
		check_after(dir, &o);
		tu_rmrf(dir);
	}
	print_message("durability %d kinds %#x err %d persistent %d: %llu sites, %d failed\n", dur,
		      kinds, err, persistent, (unsigned long long)total, failures_seen);
	assert_true(failures_seen > 0);
}

static void test_eio_once_at_every_site(void **state)
{
	fault_loop(RXL_DUR_NONE, RXL_FK_ALL, -EIO, false);
}

static void test_eio_persistent_from_every_site(void **state)
{
	fault_loop(RXL_DUR_NONE, RXL_FK_ALL, -EIO, true);
}

static void test_enospc_once_at_every_site(void **state)
{
	fault_loop(RXL_DUR_INTERVAL, RXL_FK_ALL, -ENOSPC, false);
}

static void test_fsync_mode_sync_failures_stop_the_partition(void **state)
{
	fault_loop(RXL_DUR_FSYNC, RXL_FK_SYNC | RXL_FK_WRITE, -EIO, false);
}

static void test_short_writes_are_completed(void **state)
{
	/* Short writes once at every write site: all data must arrive and no
	 * error may surface. */
	uint64_t total = clean_hits(RXL_DUR_FSYNC, RXL_FK_WRITE);

	for (uint64_t n = 1; n <= total; n++) {
		char *dir = tu_tmpdir("short");
		struct outcome o = {0};
		struct rxl_fault_plan plan = {.kinds = RXL_FK_WRITE,
					      .nth = n,
					      .persistent = false,
					      .err = RXL_FAULT_SHORT};

		rxl_fault_arm(&plan);
		workload(dir, RXL_DUR_FSYNC, &o);
		assert_int_equal(o.errors, 0);
		check_after(dir, &o);
		assert_int_equal(o.max_hwm, 2 * 12 * 40);
		tu_rmrf(dir);
	}
}

static void test_enospc_on_preallocation_refuses_append_without_failing(void **state)
{
	char *dir = tu_tmpdir("nospc");
	struct rxl_log_config c;
	struct rxl_log *log;
	struct rxl_log_stats st;

	tu_config(&c);
	assert_int_equal(rxl_log_open(dir, &c, &log), 0);
	assert_int_equal(tu_append(log, 0, 10, 100, 0), 0);
	assert_int_equal(rxl_log_sync(log), 0);
	/* Every allocation fails from now on: the next batch cannot get space. */
	struct rxl_fault_plan plan = {
		.kinds = RXL_FK_ALLOC, .nth = 1, .persistent = true, .err = -ENOSPC};

	rxl_fault_arm(&plan);
	int r = 0;

	for (int i = 0; i < 200 && r >= 0; i++)
		r = tu_append(log, rxl_log_end_offset(log), 20, 1000, 0);
	assert_int_equal(r, -ENOSPC);
	rxl_log_stats(log, &st);
	assert_true(st.enospc > 0);
	assert_int_equal(rxl_log_failed(log), 0); /* not a dead partition */
	rxl_fault_disarm();
	/* Space is back: appends go on. */
	assert_int_equal(tu_append(log, rxl_log_end_offset(log), 20, 100, 0), 0);
	uint64_t end = rxl_log_end_offset(log);

	assert_int_equal(rxl_log_close(log), 0);
	assert_int_equal(tu_read_all(dir, NULL), (int64_t)end);
	tu_rmrf(dir);
}

static void test_fdatasync_error_stops_partition_with_message(void **state)
{
	char *dir = tu_tmpdir("fsyncgate");
	struct rxl_log_config c;
	struct rxl_log *log;
	struct rxl_log_stats st;

	tu_config(&c);
	c.durability = RXL_DUR_FSYNC;
	assert_int_equal(rxl_log_open(dir, &c, &log), 0);
	assert_int_equal(tu_append(log, 0, 10, 100, 0), 0);
	assert_int_equal(rxl_log_sync(log), 0);
	uint64_t hwm = rxl_log_hwm(log);
	struct rxl_fault_plan plan = {.kinds = RXL_FK_SYNC, .nth = 1, .err = -EIO};

	rxl_fault_arm(&plan);
	assert_int_equal(tu_append(log, 10, 10, 100, 0), 0);
	assert_int_equal(rxl_log_sync(log), -EIO);
	rxl_fault_disarm();
	/* Not retried and trusted: the partition stays stopped, says why,
	 * counts it, and the HWM does not cover the batch. */
	assert_int_equal(rxl_log_failed(log), -EIO);
	assert_non_null(strstr(rxl_err_msg(), "fdatasync"));
	assert_int_equal(tu_append(log, 20, 1, 100, 0), -EIO);
	assert_int_equal(rxl_log_sync(log), -EIO);
	rxl_log_stats(log, &st);
	assert_int_equal(st.sync_errors, 1);
	assert_int_equal(st.hwm, hwm);
	assert_int_equal(rxl_log_close(log), -EIO);
	/* A restart recovers; what the kernel did write may come back, and
	 * everything published is there. */
	assert_int_equal(rxl_log_open(dir, &c, &log), 0);
	assert_true(rxl_log_end_offset(log) >= hwm);
	assert_int_equal(rxl_log_close(log), 0);
	assert_true(tu_read_all(dir, NULL) >= (int64_t)hwm);
	tu_rmrf(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_eio_once_at_every_site),
		cmocka_unit_test(test_eio_persistent_from_every_site),
		cmocka_unit_test(test_enospc_once_at_every_site),
		cmocka_unit_test(test_fsync_mode_sync_failures_stop_the_partition),
		cmocka_unit_test(test_short_writes_are_completed),
		cmocka_unit_test(test_enospc_on_preallocation_refuses_append_without_failing),
		cmocka_unit_test(test_fdatasync_error_stops_partition_with_message),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
