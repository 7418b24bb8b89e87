/* tests: readers in other processes following the tail of a partition across
 * segment rolls and retention, woken through the state page's futex.
 * Test thread (the writer) plus forked reader processes.
 *
 * The readers must see the byte-identical stream the writer appended:
 * contiguous offsets, every value (tu_value), and a CRC32C over offset,
 * timestamp, key and value of every record equal to the writer's. They never
 * sleep: they block in rxl_reader_wait(). Assumptions, numbered:
 *   F1 flow control, not timing, keeps the readers ahead of retention: the
 *      writer does not run more than `window` offsets ahead of the slower
 *      reader (each publishes its position in a shared page). With the
 *      window below what retention keeps, -ERANGE from a reader is a bug.
 *   F2 a reader may still be reading a segment that retention just deleted
 *      (it keeps its mapping); the tight case arranges that on purpose.
 *   F3 a reader never touches bytes past the published HWM: SIGBUS is a
 *      failure (the handler turns it into an exit code).
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <sched.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "log_pvt.h"
#include "rxl_crc32c.h"
#include "rxl_err.h"
#include "rxl_log.h"
#include "testutil.h"

#define N_READERS 2
#define MAX_BURST 16
#define TS0 1700000000000ll

/* Shared with the readers (MAP_SHARED | MAP_ANONYMOUS, mapped before fork). */
struct progress {
	_Atomic uint64_t pos[N_READERS]; /* each reader's next offset */
};

/* What a reader process reports through its pipe before exiting. */
struct reader_result {
	uint64_t records;
	uint32_t crc;
	uint64_t waits; /* times it caught up and blocked in rxl_reader_wait() */
	char msg[RXL_ERR_MAX];
};

/* Reader exit codes (no cmocka in children). */
enum {
	RD_OK = 0,
	RD_OPEN = 10,
	RD_GAP,	   /* offset not the next one */
	RD_VALUE,  /* value differs from tu_value() */
	RD_ERANGE, /* next(): position removed by retention (F1 says: a bug) */
	RD_BADMSG, /* next(): corrupt batch or segment */
	RD_NEXT,   /* next(): another error */
	RD_WAIT,   /* wait(): an error, or nothing for 20 s */
	RD_PIPE,
	RD_SIGBUS, /* F3 */
};

static const char *rd_name(int code)
{
	switch (code) {
	case RD_OK:
		return "ok";
	case RD_OPEN:
		return "rxl_reader_open failed";
	case RD_GAP:
		return "offsets not contiguous";
	case RD_VALUE:
		return "value differs";
	case RD_ERANGE:
		return "-ERANGE: retention outran the reader";
	case RD_BADMSG:
		return "-EBADMSG from rxl_reader_next";
	case RD_NEXT:
		return "other error from rxl_reader_next";
	case RD_WAIT:
		return "rxl_reader_wait failed or timed out";
	case RD_PIPE:
		return "cannot report";
	case RD_SIGBUS:
		return "SIGBUS";
	case -ETIMEDOUT:
		return "did not finish in time (killed)";
	default:
		return code > 128 ? "killed by a signal" : "unexpected exit (a sanitizer report?)";
	}
}

static uint32_t hash_record(uint32_t crc, uint64_t off, int64_t ts, const void *key,
			    int32_t key_len, const void *value, int32_t value_len)
{
	crc = rxl_crc32c(crc, &off, sizeof(off));
	crc = rxl_crc32c(crc, &ts, sizeof(ts));
	crc = rxl_crc32c(crc, &key_len, sizeof(key_len));
	if (key_len > 0)
		crc = rxl_crc32c(crc, key, (size_t)key_len);
	crc = rxl_crc32c(crc, &value_len, sizeof(value_len));
	if (value_len > 0)
		crc = rxl_crc32c(crc, value, (size_t)value_len);
	return crc;
}

static void on_sigbus(int sig)
{
	(void)sig;
	_exit(RD_SIGBUS);
}

static void report(int fd, const struct reader_result *res, int code)
{
	if (write(fd, res, sizeof(*res)) != (ssize_t)sizeof(*res) && code == RD_OK)
		code = RD_PIPE;
	_exit(code);
}

/* A reader process: follow from offset 0 to @final, then report. */
static void reader_main(const char *dir, int idx, struct progress *pg, uint64_t final, int fd)
{
	struct sigaction sa = {.sa_handler = on_sigbus};
	struct reader_result res = {0};
	struct rxl_reader *r;
	struct rxl_record rec;
	uint64_t expect = 0;
	int idle = 0;

	sigaction(SIGBUS, &sa, NULL);
	if (rxl_reader_open(dir, &r))
		_exit(RD_OPEN);	    /* the parent sees no "ready" byte, then this code */
	if (write(fd, "r", 1) != 1) /* ready */
		_exit(RD_PIPE);
	while (expect < final) {
		int n = rxl_reader_next(r, &rec);

		if (n == 1) {
			int code = RD_OK;

			if (rec.offset != expect)
				code = RD_GAP;
			else if (!tu_value_ok(&rec, expect))
				code = RD_VALUE;
			if (code) {
				snprintf(res.msg, sizeof(res.msg),
					 "offset %" PRIu64 ", expected %" PRIu64, rec.offset,
					 expect);
				report(fd, &res, code);
			}
			res.crc = hash_record(res.crc, rec.offset, rec.timestamp_ms, rec.key,
					      rec.key_len, rec.value, rec.value_len);
			expect++;
			res.records++;
			/* Relaxed: a flow-control hint (F1); no data is published through it. */
			rxl_store_relaxed(&pg->pos[idx], expect);
			idle = 0;
			continue;
		}
		if (n < 0) {
			snprintf(res.msg, sizeof(res.msg), "at offset %" PRIu64 ": %s", expect,
				 rxl_err_msg());
			report(fd, &res,
			       n == -ERANGE    ? RD_ERANGE
			       : n == -EBADMSG ? RD_BADMSG
					       : RD_NEXT);
		}
		res.waits++;
		int w = rxl_reader_wait(r, 5000);

		if (w == -ETIMEDOUT && ++idle < 4)
			continue;
		if (w && w != -EINTR) {
			snprintf(res.msg, sizeof(res.msg), "wait at offset %" PRIu64 ": %d", expect,
				 w);
			report(fd, &res, RD_WAIT);
		}
	}
	rxl_reader_close(r);
	report(fd, &res, RD_OK);
}

/* Has @pid ended (without reaping it)? */
static bool child_ended(pid_t pid)
{
	siginfo_t si;

	memset(&si, 0, sizeof(si));
	return waitid(P_PID, (id_t)pid, &si, WEXITED | WNOHANG | WNOWAIT) == 0 && si.si_pid == pid;
}

struct follow_case {
	const char *tag;
	uint64_t records;
	int64_t retention_segments;
	uint64_t window;      /* F1 */
	uint64_t pause_every; /* F2: stop the readers every this many records (0: never) */
	uint64_t pause_leap;  /* ... and append this many while they are stopped */
};

/* The writer side of a run. */
struct writer {
	struct rxl_log *log;
	uint64_t seed, seq, bursts;
	uint32_t crc;
	uint8_t bufs[MAX_BURST][4096];
	char keys[MAX_BURST][8];
	struct rxl_record_in in[MAX_BURST];
};

/* Append one burst of 1..16 records (at most @left), hashing what goes in;
 * flush half the bursts, let linger_us flush the rest: small batches. */
static void writer_burst(struct writer *w, uint64_t left)
{
	uint32_t k = 1 + (uint32_t)(tu_rand(&w->seed) % MAX_BURST);

	if (k > left)
		k = (uint32_t)left;
	for (uint32_t i = 0; i < k; i++) {
		uint64_t s = w->seq + i;

		snprintf(w->keys[i], sizeof(w->keys[i]), "k%u", (unsigned)(s % 7));
		w->in[i] = (struct rxl_record_in){
			.key = w->keys[i],
			.key_len = (int32_t)strlen(w->keys[i]),
			.value = w->bufs[i],
			.value_len = tu_value(s, w->bufs[i], -1),
			.timestamp_ms = TS0 + (int64_t)s,
		};
		w->crc = hash_record(w->crc, s, w->in[i].timestamp_ms, w->in[i].key,
				     w->in[i].key_len, w->in[i].value, w->in[i].value_len);
	}
	assert_int_equal(rxl_log_append_burst(w->log, w->in, k, NULL, NULL), (int)k);
	w->seq += k;
	w->bursts++;
	if (tu_rand(&w->seed) % 2)
		assert_int_equal(rxl_log_flush(w->log), 0);
	assert_int_equal(rxl_log_poll(w->log), 0);
	if (w->bursts % 64 == 0)
		assert_true(rxl_log_retention(w->log, rxl_now_ms()) >= 0);
}

/* Poll (publishing) until the slower reader is at most @lag behind.
 * Returns: false when a reader process ended meanwhile. */
static bool wait_readers(struct writer *w, struct progress *pg, const pid_t *pids, uint64_t lag)
{
	for (uint64_t spins = 0;; spins++) {
		uint64_t slow = UINT64_MAX;

		for (int i = 0; i < N_READERS; i++) {
			/* Relaxed: a hint; the readers' data comes from the log. */
			uint64_t p = rxl_load_relaxed(&pg->pos[i]);

			if (p < slow)
				slow = p;
		}
		if (w->seq - slow <= lag)
			return true;
		if (spins == 0)
			assert_int_equal(rxl_log_flush(w->log), 0);
		assert_int_equal(rxl_log_poll(w->log), 0);
		if (spins % 1024 == 1023)
			for (int i = 0; i < N_READERS; i++)
				if (child_ended(pids[i]))
					return false;
		sched_yield();
	}
}

static void run_follow(const struct follow_case *fc)
{
	char *dir = tu_tmpdir(fc->tag);
	struct rxl_log_config c;
	struct rxl_log_stats st;
	struct progress *pg;
	struct writer *w = calloc(1, sizeof(*w));
	pid_t pids[N_READERS];
	int fds[N_READERS];
	uint64_t stalls = 0, pauses = 0, deleted_under = 0, next_pause = fc->pause_every;
	bool alive = true;

	assert_non_null(w);
	w->seed = 0x1234567;
	tu_config(&c);
	c.segment_bytes = 64 * 1024;
	c.batch_bytes = 8 * 1024;
	c.linger_us = 200;
	c.retention_bytes = fc->retention_segments * (int64_t)c.segment_bytes;

	/* Create the partition, then start the readers: they hold no writer fd. */
	assert_int_equal(rxl_log_open(dir, &c, &w->log), 0);
	assert_int_equal(rxl_log_close(w->log), 0);
	pg = mmap(NULL, sizeof(*pg), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	assert_true(pg != MAP_FAILED);
	for (int i = 0; i < N_READERS; i++) {
		int p[2];

		assert_int_equal(pipe(p), 0);
		pids[i] = fork();
		assert_true(pids[i] >= 0);
		if (pids[i] == 0) {
			close(p[0]);
			reader_main(dir, i, pg, fc->records, p[1]);
		}
		close(p[1]);
		fds[i] = p[0];
	}
	for (int i = 0; i < N_READERS; i++) {
		char b = 0;

		if (read(fds[i], &b, 1) != 1 || b != 'r') {
			int code = tu_child_wait(pids[i], 1000);

			print_message("reader %d did not start: %s (exit %d)\n", i, rd_name(code),
				      code);
			fail();
		}
	}

	assert_int_equal(rxl_log_open(dir, &c, &w->log), 0);
	while (w->seq < fc->records && alive) {
		if (fc->pause_every && w->seq >= next_pause) {
			/* F2: readers caught up, then stopped while the writer runs
			 * a leap ahead and retention deletes behind it. */
			next_pause += fc->pause_every;
			alive = wait_readers(w, pg, pids, 0);
			if (!alive)
				break;
			for (int i = 0; i < N_READERS; i++)
				assert_int_equal(kill(pids[i], SIGSTOP), 0);
			uint64_t leap_end = w->seq + fc->pause_leap;

			while (w->seq < leap_end && w->seq < fc->records)
				writer_burst(w, leap_end - w->seq);
			assert_int_equal(rxl_log_flush(w->log), 0);
			assert_true(rxl_log_retention(w->log, rxl_now_ms()) >= 0);
			rxl_log_stats(w->log, &st);
			for (int i = 0; i < N_READERS; i++)
				/* Relaxed: the reader is stopped; a hint anyway. */
				deleted_under += rxl_load_relaxed(&pg->pos[i]) < st.log_start;
			for (int i = 0; i < N_READERS; i++)
				assert_int_equal(kill(pids[i], SIGCONT), 0);
			pauses++;
			continue;
		}
		writer_burst(w, fc->records - w->seq);
		/* F1: the slower reader stays within the window. */
		uint64_t slow = UINT64_MAX;

		for (int i = 0; i < N_READERS; i++) {
			/* Relaxed: a hint. */
			uint64_t p = rxl_load_relaxed(&pg->pos[i]);

			if (p < slow)
				slow = p;
		}
		if (w->seq - slow > fc->window) {
			stalls++;
			alive = wait_readers(w, pg, pids, fc->window / 2);
		}
	}
	assert_int_equal(rxl_log_sync(w->log), 0);
	rxl_log_stats(w->log, &st);

	int codes[N_READERS];
	struct reader_result res[N_READERS];

	for (int i = 0; i < N_READERS; i++) {
		/* A writer that stopped early (a reader died) ends the others soon. */
		codes[i] = tu_child_wait(pids[i], alive ? 20000 : 1000);
		memset(&res[i], 0, sizeof(res[i]));
		if (read(fds[i], &res[i], sizeof(res[i])) != (ssize_t)sizeof(res[i]))
			res[i].msg[0] = '\0';
		close(fds[i]);
		/* Relaxed: the reader has ended. */
		print_message("%s: reader %d: %s (exit %d) at offset %" PRIu64 ", %" PRIu64
			      " waits%s%s\n",
			      fc->tag, i, rd_name(codes[i]), codes[i],
			      rxl_load_relaxed(&pg->pos[i]), res[i].waits,
			      res[i].msg[0] ? ": " : "", res[i].msg);
	}
	print_message("%s: %" PRIu64 " records in %" PRIu64 " batches, %" PRIu64
		      " segments rolled, %" PRIu64 " deleted; writer stalled %" PRIu64
		      " times; %" PRIu64 " pauses, %" PRIu64
		      " times a reader's segment was deleted under it\n",
		      fc->tag, w->seq, st.batches, st.segments_rolled, st.segments_deleted, stalls,
		      pauses, deleted_under);
	for (int i = 0; i < N_READERS; i++) {
		assert_int_equal(codes[i], RD_OK);
		assert_int_equal(res[i].records, fc->records);
		assert_int_equal(res[i].crc, w->crc);
		assert_true(res[i].waits > 0); /* it followed the tail, blocking */
	}
	assert_int_equal(w->seq, fc->records);
	/* The run did what it is for: many rolls, retention right behind the
	 * readers, and (F2) segments deleted while a reader was in them. */
	assert_true(st.segments_rolled >= 20);
	assert_true(st.segments_deleted >= 10);
	assert_true(st.log_start > 0);
	if (fc->pause_every)
		assert_true(deleted_under > 0);
	assert_int_equal(rxl_log_validate(w->log), 0);
	assert_int_equal(rxl_log_close(w->log), 0);
	munmap(pg, sizeof(*pg));
	free(w);
	tu_rmrf(dir);
}

/* Retention keeps 8 segments; the readers stay within ~4 (F1). */
static void test_readers_in_other_processes_see_identical_stream(void **state)
{
	const struct follow_case fc = {
		.tag = "follow",
		.records = 300000,
		.retention_segments = 8,
		.window = 2000,
	};

	run_follow(&fc);
}

/* Retention keeps the active segment and one more (~480 records each). The
 * readers are stopped now and then while the writer runs 700 records ahead:
 * retention then deletes the segment a reader is in (F2), never the next. */
static void test_readers_finish_segments_deleted_under_them(void **state)
{
	const struct follow_case fc = {
		.tag = "follow-tight",
		.records = 100000,
		.retention_segments = 1,
		.window = 700,
		.pause_every = 1000,
		.pause_leap = 700,
	};

	run_follow(&fc);
}

/* ---- Wake-up of a blocked reader --------------------------------------------- */

enum { WK_OK = 0, WK_OPEN = 10, WK_SEEK, WK_WAIT, WK_NEXT, WK_PIPE };

static void waiter_main(const char *dir, uint64_t at, int fd)
{
	struct rxl_reader *r;
	struct rxl_record rec;

	if (rxl_reader_open(dir, &r))
		_exit(WK_OPEN);
	if (rxl_reader_seek(r, at))
		_exit(WK_SEEK);
	if (write(fd, "w", 1) != 1)
		_exit(WK_PIPE);
	alarm(5); /* SIGALRM ends the process: the wake-up never came */
	if (rxl_reader_wait(r, -1) != 0)
		_exit(WK_WAIT);
	if (rxl_reader_next(r, &rec) != 1 || rec.offset != at || !tu_value_ok(&rec, at))
		_exit(WK_NEXT);
	rxl_reader_close(r);
	_exit(WK_OK);
}

static void run_wakeup(bool roll_first)
{
	char *dir = tu_tmpdir("wake");
	struct rxl_log_config c;
	struct rxl_log *log;
	struct rxl_state_file *st;
	int p[2];
	char b = 0;

	tu_config(&c);
	assert_int_equal(rxl_log_open(dir, &c, &log), 0);
	assert_int_equal(tu_append(log, 0, 10, 32, TS0), 0);
	assert_int_equal(rxl_log_sync(log), 0);
	assert_int_equal(pipe(p), 0);
	pid_t pid = fork();

	assert_true(pid >= 0);
	if (pid == 0) {
		close(p[0]);
		waiter_main(dir, 10, p[1]);
	}
	close(p[1]);
	assert_int_equal(read(p[0], &b, 1), 1);
	close(p[0]);

	/* Wait until the reader has registered as a futex waiter, then give it
	 * 50 ms to fall asleep. */
	int dirfd = open(dir, O_RDONLY | O_DIRECTORY);

	assert_true(dirfd >= 0);
	assert_int_equal(rxl_state_map(dirfd, false, false, 0, &st), 0);
	close(dirfd);
	for (int i = 0; i < 5000 && rxl_load_relaxed(&st->waiters) == 0; i++)
		usleep(1000);
	/* Relaxed: only a test observation. */
	assert_true(rxl_load_relaxed(&st->waiters) > 0);
	rxl_state_unmap(st);
	usleep(50 * 1000);

	if (roll_first)
		assert_int_equal(rxl_log_roll(log), 0); /* publishes, HWM unchanged */
	assert_int_equal(tu_append(log, 10, 1, 32, TS0), 0);
	assert_int_equal(rxl_log_flush(log), 0);
	for (int i = 0; i < 5000 && rxl_log_hwm(log) < 11; i++) {
		rxl_log_poll(log);
		usleep(100);
	}
	assert_int_equal(rxl_log_hwm(log), 11);
	int code = tu_child_wait(pid, 5000);

	if (code)
		print_message("waiter: exit %d (%s)\n", code,
			      code == 128 + SIGALRM ? "never woken" : "failed");
	assert_int_equal(code, WK_OK);
	assert_int_equal(rxl_log_close(log), 0);
	tu_rmrf(dir);
}

static void test_blocked_reader_in_other_process_woken_by_publish(void **state)
{
	run_wakeup(false);
}

static void test_blocked_reader_woken_by_publish_in_new_segment(void **state)
{
	run_wakeup(true);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_readers_in_other_processes_see_identical_stream),
		cmocka_unit_test(test_readers_finish_segments_deleted_under_them),
		cmocka_unit_test(test_blocked_reader_in_other_process_woken_by_publish),
		cmocka_unit_test(test_blocked_reader_woken_by_publish_in_new_segment),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
