/* tests: SIGKILL a writer under fsync durability at random moments, then
 * recover and check nothing durable was lost, duplicated or corrupted.
 * Test thread plus a forked writer process per round.
 *
 * RXL_CRASH_KILLS sets the number of kills (200 in the unit suite, 2000 in
 * the stress suite).
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "log_pvt.h"
#include "rxl_err.h"
#include "testutil.h"

static void writer_child(const char *dir, int ready_fd)
{
	struct rxl_log_config c;
	struct rxl_log *log;

	tu_config(&c);
	c.durability = RXL_DUR_FSYNC;
	c.linger_us = 200;
	if (rxl_log_open(dir, &c, &log)) {
		fprintf(stderr, "child open: %s\n", rxl_err_msg());
		_exit(2);
	}
	char ok = 1;

	(void)!write(ready_fd, &ok, 1);
	for (;;) {
		uint64_t seq = rxl_log_end_offset(log);

		if (tu_append(log, seq, 7, -1, 1000))
			_exit(3);
		rxl_log_poll(log);
	}
}

static uint64_t durable_mark(const char *dir)
{
	struct rxl_reader *r;
	struct rxl_log_offsets o;

	assert_int_equal(rxl_reader_open(dir, &r), 0);
	rxl_reader_offsets(r, &o);
	rxl_reader_close(r);
	assert_true(o.durable <= o.hwm);
	return o.durable;
}

static void test_sigkill_under_fsync_loses_nothing_durable(void **state)
{
	const char *env = getenv("RXL_CRASH_KILLS");
	int kills = env ? atoi(env) : 200;
	char *dir = tu_tmpdir("crash");
	uint64_t rs = (uint64_t)time(NULL) | 1, verified = 0, max_durable = 0;
	int torn = 0;

	for (int k = 0; k < kills; k++) {
		int p[2];

		assert_int_equal(pipe(p), 0);
		pid_t pid = fork();

		if (pid == 0) {
			close(p[0]);
			writer_child(dir, p[1]);
		}
		close(p[1]);
		char ok = 0;

		assert_int_equal(read(p[0], &ok, 1), 1); /* opened (and recovered) */
		close(p[0]);
		struct timespec ts = {0, (long)(tu_rand(&rs) % 20000) * 1000};

		nanosleep(&ts, NULL);
		kill(pid, SIGKILL);
		int status;

		assert_int_equal(waitpid(pid, &status, 0), pid);
		assert_true(WIFSIGNALED(status));

		/* The durable mark published before the kill. */
		uint64_t durable = durable_mark(dir);

		assert_true(durable >= max_durable); /* never moves backwards */
		max_durable = durable;
		struct rxl_recovery_report rep;

		if (rxl_log_recover(dir, false, &rep))
			fail_msg("recover after kill %d: %s", k, rxl_err_msg());
		assert_false(rep.corrupt);
		torn += rep.bytes_truncated > 0;
		/* Nothing at or below the durable mark is missing. */
		assert_true(rep.end_offset >= durable);
		/* Offsets contiguous, every value intact, none twice. */
		int64_t n = tu_read_check(dir, verified, rep.end_offset);

		if (n != (int64_t)(rep.end_offset - verified))
			fail_msg("kill %d: read [%llu, %llu) gave %lld (%s)", k,
				 (unsigned long long)verified, (unsigned long long)rep.end_offset,
				 (long long)n, rxl_err_msg());
		verified = durable;
	}
	assert_int_equal(tu_read_all(dir, NULL), (int64_t)durable_mark(dir));
	print_message("%d kills, %llu records durable, %d torn tails cut\n", kills,
		      (unsigned long long)max_durable, torn);
	tu_rmrf(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sigkill_under_fsync_loses_nothing_durable),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
