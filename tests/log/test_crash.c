/* tests: SIGKILL a writer under fsync durability at random moments, then
 * recover and check nothing durable was lost, duplicated or corrupted.
 * Test thread plus a forked writer process per round.
 *
 * RXL_CRASH_KILLS sets the number of kills (200 in the unit suite, 2000 in
 * the stress suite).
 *
 * Also: a publisher of the state page killed at any store never leaves
 * readers waiting or reading a torn snapshot.
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
#include <sys/prctl.h>
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
			prctl(PR_SET_PDEATHSIG, SIGKILL); /* dies with the test */
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

/* Every field of snapshot k is k times its own factor: a torn read mixes ks. */
static void pub_of(uint64_t k, struct rxl_pub *p)
{
	*p = (struct rxl_pub){.hwm = k,
			      .hwm_segment = k * 3,
			      .hwm_position = k * 5,
			      .durable = k * 7,
			      .log_start = k * 11};
}

static uint64_t pub_k(const struct rxl_pub *p)
{
	struct rxl_pub want;

	pub_of(p->hwm, &want);
	if (memcmp(p, &want, sizeof(want)))
		fail_msg("torn snapshot: hwm %llu segment %llu position %llu durable %llu "
			 "start %llu",
			 (unsigned long long)p->hwm, (unsigned long long)p->hwm_segment,
			 (unsigned long long)p->hwm_position, (unsigned long long)p->durable,
			 (unsigned long long)p->log_start);
	return p->hwm;
}

/* Every place a publish can stop: the reader returns the old or the new
 * snapshot whole, at once, and the next writer's publish is seen. */
static void test_state_publish_cut_at_every_store(void **state)
{
	char *dir = tu_tmpdir("statecut");
	int dirfd = open(dir, O_RDONLY | O_DIRECTORY);
	struct rxl_state_file *st;
	struct rxl_pub p;

	(void)state;
	assert_true(dirfd >= 0);
	assert_int_equal(rxl_state_map(dirfd, true, true, 0, &st), 0);
	for (uint64_t k = 1, round = 0; round < 4; round++) {
		for (int cut = 0; cut <= RXL_STATE_PUBLISH_STORES; cut++, k += 3) {
			pub_of(k, &p);
			rxl_state_publish(st, &p);
			pub_of(k + 1, &p);
			rxl_state_publish_cut(st, &p, cut); /* the writer dies here */
			alarm(10); /* a read that waits on the dead writer fails */
			rxl_state_read(st, &p);
			alarm(0);
			uint64_t got = pub_k(&p);

			assert_true(got == (cut == RXL_STATE_PUBLISH_STORES ? k + 1 : k));
			pub_of(k + 2, &p); /* the next writer */
			rxl_state_publish(st, &p);
			rxl_state_read(st, &p);
			assert_int_equal(pub_k(&p), k + 2);
		}
	}
	rxl_state_unmap(st);
	close(dirfd);
	tu_rmrf(dir);
}

/* The running publisher child, so that a failed assertion (which leaves
 * the test function at once) does not leave it spinning on a CPU. */
static pid_t publisher;

static int kill_publisher(void **state)
{
	(void)state;
	if (publisher > 0) {
		kill(publisher, SIGKILL);
		waitpid(publisher, NULL, 0);
	}
	publisher = 0;
	return 0;
}

static void test_state_publisher_killed_anywhere_leaves_readers_whole(void **state)
{
	char *dir = tu_tmpdir("state");
	int dirfd = open(dir, O_RDONLY | O_DIRECTORY);
	struct rxl_state_file *st;
	uint64_t rs = (uint64_t)time(NULL) | 1, k = 1, reads = 0;
	struct rxl_pub p;

	(void)state;
	assert_true(dirfd >= 0);
	assert_int_equal(rxl_state_map(dirfd, true, true, 0, &st), 0);
	for (int round = 0; round < 300; round++) {
		pid_t pid = fork();

		if (pid == 0) {
			/* Dies with the test process (the teardown kills it
			 * when an assertion ends the test). */
			prctl(PR_SET_PDEATHSIG, SIGKILL);
			if (getppid() == 1)
				_exit(0); /* the parent died before prctl */
			/* A publisher that never stops: most of its time is
			 * spent between the first and the last store of a
			 * publish, so most kills land there. */
			for (uint64_t j = k;; j++) {
				pub_of(j, &p);
				rxl_state_publish(st, &p);
			}
		}
		assert_true(pid > 0);
		publisher = pid;
		/* Let this publisher get going, then kill it at a random point. */
		do {
			rxl_state_read(st, &p);
		} while (pub_k(&p) < k);
		long spins = (long)(tu_rand(&rs) % 2000);

		for (long i = 0; i < spins; i++, reads++) {
			rxl_state_read(st, &p);
			uint64_t got = pub_k(&p);

			assert_true(got >= k - 1);
			k = got + 1;
		}
		kill(pid, SIGKILL);
		assert_int_equal(waitpid(pid, NULL, 0), pid);
		publisher = 0;
		/* A dead publisher must not make this wait: SIGALRM's default
		 * action ends the test if it does. */
		alarm(10);
		rxl_state_read(st, &p);
		alarm(0);
		uint64_t got = pub_k(&p);

		assert_true(got >= k - 1);
		k = got + 1;
	}
	print_message("300 publishers killed, %llu concurrent reads, last snapshot %llu\n",
		      (unsigned long long)reads, (unsigned long long)k - 1);
	rxl_state_unmap(st);
	close(dirfd);
	tu_rmrf(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_state_publish_cut_at_every_store),
		cmocka_unit_test_teardown(test_state_publisher_killed_anywhere_leaves_readers_whole,
					  kill_publisher),
		cmocka_unit_test(test_sigkill_under_fsync_loses_nothing_durable),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
