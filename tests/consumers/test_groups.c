/* tests: librxlog consumer groups — fanout, resume, poison records and the
 * dead-letter topic, crash takeover, offset-store crash matrix, retention
 * against a slow group.
 * Test thread plus forked members.
 */
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "consumers_pvt.h"
#include "rxl_err.h"
#include "testutil.h"

#define NP 3

/* Topic "t" with NP partitions of @n records each; value = "p:seq". */
static void make_topic(const char *data, const char *topic, uint32_t np, uint32_t n,
		       int64_t retention_bytes)
{
	for (uint32_t p = 0; p < np; p++) {
		char dir[4096], v[32];
		struct rxl_log_config c;
		struct rxl_log *log;

		assert_int_equal(rxl_log_path(dir, sizeof(dir), data, topic, p), 0);
		rxl_log_config_default(&c);
		c.segment_bytes = 16 * 1024;
		c.batch_bytes = 4096;
		c.prealloc_bytes = 16 * 1024;
		c.retention_bytes = retention_bytes;
		assert_int_equal(rxl_log_open(dir, &c, &log), 0);
		for (uint32_t i = 0; i < n; i++) {
			struct rxl_record_in in = {
				.key = "k", .key_len = 1, .value = v, .timestamp_ms = i};

			in.value_len = snprintf(v, sizeof(v), "%u:%u", p, i);
			assert_int_equal(rxl_log_append_burst(log, &in, 1, NULL, NULL), 1);
		}
		assert_int_equal(rxl_log_sync(log), 0);
		if (retention_bytes >= 0)
			assert_true(rxl_log_retention(log, 0) > 0);
		assert_int_equal(rxl_log_close(log), 0);
	}
}

static bool value_is(const struct rxlog_msg *m, uint32_t p, uint64_t seq)
{
	char want[32];
	int l = snprintf(want, sizeof(want), "%u:%llu", p, (unsigned long long)seq);

	return m->rec.value_len == l && !memcmp(m->rec.value, want, (size_t)l);
}

static struct rxlog_group_config gcfg(const char *group)
{
	return (struct rxlog_group_config){
		.group = group, .topic = "t", .rebalance_ms = 50, .backoff_ms = 1};
}

static void test_fanout_three_groups_see_every_record_once_in_order(void **state)
{
	char *data = tu_tmpdir("fanout");
	struct rxlog *rx;
	const char *groups[] = {"stats", "billing", "audit"};

	make_topic(data, "t", NP, 500, -1);
	assert_int_equal(rxlog_open(data, &rx), 0);
	for (int gi = 0; gi < 3; gi++) {
		struct rxlog_group_config c = gcfg(groups[gi]);
		struct rxlog_group *g;
		struct rxlog_msg m;
		uint64_t next[NP] = {0};
		int n;

		assert_int_equal(rxlog_group_join(rx, &c, &g), 0);
		while ((n = rxlog_group_poll(g, &m, 100)) == 1) {
			assert_int_equal(m.rec.offset, next[m.partition]);
			assert_true(value_is(&m, m.partition, next[m.partition]));
			next[m.partition]++;
			assert_int_equal(rxlog_group_settle(g, &m, RXLOG_ACK, NULL), 0);
		}
		assert_int_equal(n, 0);
		for (int p = 0; p < NP; p++)
			assert_int_equal(next[p], 500);
		rxlog_group_leave(g);
		for (uint32_t p = 0; p < NP; p++) {
			uint64_t off;

			assert_int_equal(rxlog_offset_fetch(rx, groups[gi], "t", p, &off), 0);
			assert_int_equal(off, 500);
		}
	}
	rxlog_close(rx);
	tu_rmrf(data);
}

static void test_rejoin_resumes_from_committed_offsets(void **state)
{
	char *data = tu_tmpdir("resume");
	struct rxlog *rx;
	struct rxlog_group_config c = gcfg("g");
	struct rxlog_group *g;
	struct rxlog_msg m;
	uint64_t seen[NP] = {0};

	make_topic(data, "t", NP, 300, -1);
	assert_int_equal(rxlog_open(data, &rx), 0);
	assert_int_equal(rxlog_group_join(rx, &c, &g), 0);
	for (int i = 0; i < 400; i++) {
		assert_int_equal(rxlog_group_poll(g, &m, 100), 1);
		seen[m.partition]++;
		assert_int_equal(rxlog_group_settle(g, &m, RXLOG_ACK, NULL), 0);
	}
	rxlog_group_leave(g); /* commits */
	assert_int_equal(rxlog_group_join(rx, &c, &g), 0);
	int n;

	while ((n = rxlog_group_poll(g, &m, 100)) == 1) {
		assert_int_equal(m.rec.offset, seen[m.partition]); /* no duplicate, no gap */
		seen[m.partition]++;
		assert_int_equal(rxlog_group_settle(g, &m, RXLOG_ACK, NULL), 0);
	}
	for (int p = 0; p < NP; p++)
		assert_int_equal(seen[p], 300);
	rxlog_group_leave(g);
	rxlog_close(rx);
	tu_rmrf(data);
}

static void test_poison_record_dead_lettered_and_partition_keeps_flowing(void **state)
{
	char *data = tu_tmpdir("poison");
	struct rxlog *rx;
	struct rxlog_group_config c = gcfg("g");
	struct rxlog_group *g;
	struct rxlog_msg m;
	struct rxlog_group_stats st;
	uint32_t attempts_of_poison = 0, delivered_after = 0;
	int n;

	make_topic(data, "t", NP, 50, -1);
	assert_int_equal(rxlog_open(data, &rx), 0);
	assert_int_equal(rxlog_group_join(rx, &c, &g), 0);
	while ((n = rxlog_group_poll(g, &m, 200)) == 1) {
		enum rxlog_verdict v = RXLOG_ACK;

		if (m.partition == 1 && m.rec.offset == 10) {
			attempts_of_poison++;
			assert_int_equal(m.attempt, attempts_of_poison);
			v = RXLOG_RETRY; /* always fails */
		} else if (m.partition == 2 && m.rec.offset == 20) {
			v = RXLOG_REJECT;
		} else if (m.partition == 1 && m.rec.offset > 10) {
			delivered_after++;
		}
		assert_int_equal(
			rxlog_group_settle(g, &m, v, v == RXLOG_REJECT ? "bad schema" : NULL), 0);
	}
	assert_int_equal(attempts_of_poison, 3);
	assert_int_equal(delivered_after, 39);
	rxlog_group_stats(g, &st);
	assert_int_equal(st.dead_lettered, 2);
	assert_int_equal(st.retried, 2);
	rxlog_group_leave(g);

	/* The dead-letter topic holds both, with the documented headers. */
	struct rxl_reader *r;
	struct rxl_record rec;
	char want[64];

	assert_int_equal(rxlog_reader_open(rx, "t.dlq.g", 1, &r), 0);
	assert_int_equal(rxl_reader_next(r, &rec), 1);
	assert_memory_equal(rec.value, "1:10", 4);
	const uint8_t *it = rec.headers;
	struct rxl_header h;
	int found = 0;

	while (rxl_header_next(&rec, &it, &h) == 1) {
		const char *k = h.key;
		int kl = h.key_len;

		snprintf(want, sizeof(want), "%.*s=%.*s", kl, k, h.value_len,
			 (const char *)h.value);
		found += !strcmp(want, "dlq.topic=t") + !strcmp(want, "dlq.partition=1") +
			 !strcmp(want, "dlq.offset=10") + !strcmp(want, "dlq.attempts=3") +
			 !strcmp(want, "dlq.reason=max attempts");
		if (kl == 8 && !memcmp(k, "dlq.time", 8))
			found++;
	}
	assert_int_equal(found, 6);
	assert_int_equal(rxl_reader_next(r, &rec), 0);
	rxl_reader_close(r);
	assert_int_equal(rxlog_reader_open(rx, "t.dlq.g", 2, &r), 0);
	assert_int_equal(rxl_reader_next(r, &rec), 1);
	assert_memory_equal(rec.value, "2:20", 4);
	rxl_reader_close(r);
	/* Committed past both. */
	uint64_t off;

	assert_int_equal(rxlog_offset_fetch(rx, "g", "t", 1, &off), 0);
	assert_int_equal(off, 50);
	rxlog_close(rx);
	tu_rmrf(data);
}

/* A record waiting for its retry holds up only its own partition (G3). */
static void test_retry_backoff_does_not_stall_other_partitions(void **state)
{
	char *data = tu_tmpdir("retrywait");
	struct rxlog *rx;
	struct rxlog_group_config c = gcfg("g");
	struct rxlog_group *g;
	struct rxlog_msg m;
	uint32_t others = 0, p0_after = 0;
	bool retried = false;

	make_topic(data, "t", NP, 20, -1);
	assert_int_equal(rxlog_open(data, &rx), 0);
	c.backoff_ms = 400;
	assert_int_equal(rxlog_group_join(rx, &c, &g), 0);
	/* Fail partition 0's first record once; while it waits 400 ms the
	 * other partitions must all be delivered, partition 0 nothing. */
	while (rxlog_group_poll(g, &m, 300) == 1) {
		if (m.partition == 0 && m.rec.offset == 0 && !retried) {
			retried = true;
			assert_int_equal(rxlog_group_settle(g, &m, RXLOG_RETRY, NULL), 0);
			continue;
		}
		if (m.partition == 0)
			p0_after++;
		else if (retried)
			others++;
		assert_int_equal(rxlog_group_settle(g, &m, RXLOG_ACK, NULL), 0);
	}
	/* The 300 ms poll timed out inside the backoff: the others all came. */
	assert_true(retried);
	assert_int_equal(p0_after, 0);
	assert_true(others >= 2 * 20 - 2);
	/* Then the retry and the rest of partition 0. */
	int n;

	while ((n = rxlog_group_poll(g, &m, 1000)) == 1) {
		if (m.partition == 0)
			p0_after++;
		assert_int_equal(rxlog_group_settle(g, &m, RXLOG_ACK, NULL), 0);
	}
	assert_int_equal(p0_after, 20);
	rxlog_group_leave(g);
	rxlog_close(rx);
	tu_rmrf(data);
}

static int kill_step;

static void kill_at(int step)
{
	if (step == kill_step)
		raise(SIGKILL);
}

static void test_offset_commit_killed_at_every_step_is_old_or_new(void **state)
{
	char *data = tu_tmpdir("matrix");
	struct rxlog *rx;

	assert_int_equal(rxlog_open(data, &rx), 0);
	for (int step = 1; step <= 5; step++) {
		uint64_t old = 1000 + (uint64_t)step, neu = 5000 + (uint64_t)step, got = 0;

		assert_int_equal(rxlog_offset_commit(rx, "g", "t", 0, old), 0);
		pid_t pid = fork();

		if (pid == 0) {
			kill_step = step;
			rxlog_test_commit_hook = kill_at;
			rxlog_offset_commit(rx, "g", "t", 0, neu);
			_exit(0);
		}
		int status;

		assert_int_equal(waitpid(pid, &status, 0), pid);
		assert_true(WIFSIGNALED(status));
		assert_int_equal(rxlog_offset_fetch(rx, "g", "t", 0, &got), 0);
		/* Before the rename the old value stands; from it on, the new. */
		assert_int_equal(got, step <= 3 ? old : neu);
	}
	/* A damaged file is detected, not trusted. */
	char path[4200];

	snprintf(path, sizeof(path), "%s/__groups/g/t-0.offset", data);
	FILE *f = fopen(path, "r+");

	assert_non_null(f);
	fseek(f, 9, SEEK_SET);
	fputc('X', f);
	fclose(f);
	uint64_t got;

	assert_int_equal(rxlog_offset_fetch(rx, "g", "t", 0, &got), -EBADMSG);
	rxlog_close(rx);
	tu_rmrf(data);
}

static void test_crashed_member_partitions_taken_over_at_least_once(void **state)
{
	char *data = tu_tmpdir("takeover");
	struct rxlog *rx;
	int fds[2];
	enum { N = 400 };
	static uint8_t seen[NP][N];

	make_topic(data, "t", NP, N, -1);
	assert_int_equal(pipe(fds), 0);
	pid_t pid = fork();

	if (pid == 0) {
		/* A member that processes part of the stream, commits some of
		 * it, and dies without leaving. */
		struct rxlog_group_config c = gcfg("g");
		struct rxlog_group *g;
		struct rxlog_msg m;

		c.member = "doomed";
		c.commit_every = 50;
		if (rxlog_open(data, &rx) || rxlog_group_join(rx, &c, &g))
			_exit(2);
		for (int i = 0; i < 500 && rxlog_group_poll(g, &m, 100) == 1; i++) {
			uint16_t rec[2] = {(uint16_t)m.partition, (uint16_t)m.rec.offset};

			(void)!write(fds[1], rec, sizeof(rec)); /* the side effect */
			rxlog_group_settle(g, &m, RXLOG_ACK, NULL);
		}
		raise(SIGKILL);
	}
	close(fds[1]);
	uint16_t rec[2];
	uint32_t by_doomed = 0;

	while (read(fds[0], rec, sizeof(rec)) == (ssize_t)sizeof(rec)) {
		seen[rec[0]][rec[1]]++;
		by_doomed++;
	}
	close(fds[0]);
	waitpid(pid, NULL, 0);
	assert_int_equal(by_doomed, 500);

	/* The survivor takes every partition over from the committed offsets. */
	struct rxlog_group_config c = gcfg("g");
	struct rxlog_group *g;
	struct rxlog_msg m;
	uint32_t redelivered = 0;
	int n;

	c.member = "survivor";
	assert_int_equal(rxlog_open(data, &rx), 0);
	assert_int_equal(rxlog_group_join(rx, &c, &g), 0);
	while ((n = rxlog_group_poll(g, &m, 300)) == 1) {
		redelivered += seen[m.partition][m.rec.offset] > 0;
		seen[m.partition][m.rec.offset]++;
		assert_int_equal(rxlog_group_settle(g, &m, RXLOG_ACK, NULL), 0);
	}
	for (int p = 0; p < NP; p++)
		for (int i = 0; i < N; i++)
			assert_true(seen[p][i] >= 1); /* at least once: nothing lost */
	assert_true(redelivered < 500);
	print_message("doomed processed 500, %u of them redelivered after the crash\n",
		      redelivered);
	rxlog_group_leave(g);
	rxlog_close(rx);
	tu_rmrf(data);
}

static void test_two_members_share_partitions(void **state)
{
	char *data = tu_tmpdir("share");
	struct rxlog *rx;
	struct rxlog_group_config a = gcfg("g"), b = gcfg("g");
	struct rxlog_group *ga, *gb;
	struct rxlog_group_stats sa, sb;
	struct rxlog_msg m;

	make_topic(data, "t", 4, 10, -1);
	assert_int_equal(rxlog_open(data, &rx), 0);
	a.member = "a";
	b.member = "b";
	assert_int_equal(rxlog_group_join(rx, &a, &ga), 0);
	assert_int_equal(rxlog_group_join(rx, &b, &gb), 0);
	/* a took all four; at its next rebalance it gives two back. */
	for (int i = 0; i < 20; i++) {
		if (rxlog_group_poll(ga, &m, 20) == 1)
			rxlog_group_settle(ga, &m, RXLOG_ACK, NULL);
		if (rxlog_group_poll(gb, &m, 20) == 1)
			rxlog_group_settle(gb, &m, RXLOG_ACK, NULL);
	}
	rxlog_group_stats(ga, &sa);
	rxlog_group_stats(gb, &sb);
	assert_int_equal(sa.partitions_owned, 2);
	assert_int_equal(sb.partitions_owned, 2);
	assert_int_equal(rxlog_group_join(rx, &a, &ga) == 0, 0); /* member id in use */
	assert_non_null(strstr(rxl_err_msg(), "in use"));
	rxlog_group_leave(ga);
	rxlog_group_leave(gb);
	rxlog_close(rx);
	tu_rmrf(data);
}

static void test_retention_against_slow_group_resets_and_counts_loss(void **state)
{
	char *data = tu_tmpdir("slow");
	struct rxlog *rx;
	struct rxlog_group_config c = gcfg("slow");
	struct rxlog_group *g;
	struct rxlog_msg m;
	struct rxlog_group_stats st;

	/* The group committed offset 5 on partition 0 long ago... */
	make_topic(data, "t", 1, 10000, 3 * 16 * 1024);
	assert_int_equal(rxlog_open(data, &rx), 0);
	assert_int_equal(rxlog_offset_commit(rx, "slow", "t", 0, 5), 0);
	struct rxl_reader *r;
	struct rxl_log_offsets o;

	assert_int_equal(rxlog_reader_open(rx, "t", 0, &r), 0);
	rxl_reader_offsets(r, &o);
	rxl_reader_close(r);
	assert_true(o.log_start > 5);
	/* ...and retention has removed everything below o.log_start. */
	assert_int_equal(rxlog_group_join(rx, &c, &g), 0);
	assert_int_equal(rxlog_group_poll(g, &m, 100), 1);
	assert_int_equal(m.rec.offset, o.log_start); /* earliest still kept */
	rxlog_group_stats(g, &st);
	assert_int_equal(st.reset_lost, o.log_start - 5);
	rxlog_group_settle(g, &m, RXLOG_ACK, NULL);
	rxlog_group_leave(g);
	/* With reset = error the member refuses, and says what to do. */
	assert_int_equal(rxlog_offset_commit(rx, "strict", "t", 0, 5), 0);
	c = gcfg("strict");
	c.reset = RXLOG_RESET_ERROR;
	assert_int_equal(rxlog_group_join(rx, &c, &g), -ERANGE);
	assert_non_null(strstr(rxl_err_msg(), "below the log start"));
	rxlog_close(rx);
	tu_rmrf(data);
}

static void test_retention_waits_for_groups_up_to_the_cap(void **state)
{
	char *data = tu_tmpdir("floor");
	char dir[4096];
	struct rxl_log_config c;
	struct rxl_log *log;
	struct rxl_log_stats st;
	struct rxlog *rx;
	struct rxlog_floor_arg fa = {.data_dir = data, .topic = "t", .partition = 0};

	assert_int_equal(rxl_log_path(dir, sizeof(dir), data, "t", 0), 0);
	rxl_log_config_default(&c);
	c.segment_bytes = 16 * 1024;
	c.batch_bytes = 4096;
	c.prealloc_bytes = 16 * 1024;
	c.retention_bytes = 2 * 16 * 1024;
	c.floor_fn = rxlog_retention_floor;
	c.floor_arg = &fa;
	c.floor_max_ms = 1000000;
	assert_int_equal(rxl_log_open(dir, &c, &log), 0);
	assert_int_equal(rxlog_open(data, &rx), 0);
	/* A slow group stands at offset 10. */
	assert_int_equal(rxlog_offset_commit(rx, "slow", "t", 0, 10), 0);
	assert_int_equal(tu_append(log, 0, 5000, 20, 0), 0); /* timestamps 0..4999 */
	assert_int_equal(rxl_log_sync(log), 0);
	assert_int_equal(rxl_log_retention(log, 5000), 0); /* held: the group needs segment 0 */
	rxl_log_stats(log, &st);
	assert_true(st.segments_held > 0);
	assert_int_equal(st.log_start, 0);
	/* The group moves on to 3000: everything below the segment holding
	 * 3000 may go, nothing from there on. */
	assert_int_equal(rxlog_offset_commit(rx, "slow", "t", 0, 3000), 0);
	assert_true(rxl_log_retention(log, 5000) > 0);
	rxl_log_stats(log, &st);
	assert_true(st.log_start > 0 && st.log_start <= 3000);
	/* The cap: a group that never moves cannot keep old data forever. */
	assert_true(rxl_log_retention(log, 5000 + 1000000 + 5000) > 0);
	rxl_log_stats(log, &st);
	assert_true(st.log_start > 3000);
	assert_int_equal(rxl_log_close(log), 0);
	rxlog_close(rx);
	tu_rmrf(data);
}

/* A member process: consume group "g" until SIGTERM; each record's side
 * effect is the creation of effects/<p>-<offset> with O_EXCL, an effect
 * keyed by the record (idempotent), so a redelivery finds it done. */
static volatile sig_atomic_t member_stop;

static void on_term(int sig)
{
	(void)sig;
	member_stop = 1;
}

static void member_main(const char *data, int idx)
{
	struct rxlog *rx;
	struct rxlog_group *g;
	struct rxlog_group_config c = gcfg("g");
	struct rxlog_msg m;
	char member[32], path[4200];

	signal(SIGTERM, on_term);
	snprintf(member, sizeof(member), "m%d", idx);
	c.member = member;
	c.commit_every = 20;
	if (rxlog_open(data, &rx) || rxlog_group_join(rx, &c, &g))
		_exit(2);
	while (!member_stop) {
		int n = rxlog_group_poll(g, &m, 50);

		if (n < 0)
			_exit(3);
		if (n == 0)
			continue;
		snprintf(path, sizeof(path), "%s/effects/%u-%llu", data, m.partition,
			 (unsigned long long)m.rec.offset);
		int fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0644);

		if (fd >= 0)
			close(fd);
		else if (errno != EEXIST)
			_exit(4);
		snprintf(path, sizeof(path), "%s/deliveries", data);
		fd = open(path, O_WRONLY | O_CREAT | O_APPEND, 0644);
		(void)!write(fd, "x", 1);
		close(fd);
		usleep(200); /* work takes time: kills land mid-batch */
		rxlog_group_settle(g, &m, RXLOG_ACK, NULL);
	}
	rxlog_group_leave(g);
	rxlog_close(rx);
	_exit(0);
}

static void test_members_killed_repeatedly_effects_exactly_once(void **state)
{
	char *data = tu_tmpdir("kills");
	char path[4200];
	enum { PARTS = 4, N = 400, MEMBERS = 3, KILLS = 12 };
	pid_t pids[MEMBERS];
	uint64_t rs = 12345;
	int next = 0;

	make_topic(data, "t", PARTS, N, -1);
	snprintf(path, sizeof(path), "%s/effects", data);
	assert_int_equal(mkdir(path, 0755), 0);
	for (int i = 0; i < MEMBERS; i++) {
		pids[i] = fork();
		if (pids[i] == 0)
			member_main(data, next);
		next++;
	}
	for (int k = 0; k < KILLS; k++) {
		usleep((useconds_t)(20000 + tu_rand(&rs) % 60000));
		int v = (int)(tu_rand(&rs) % MEMBERS);

		kill(pids[v], SIGKILL);
		waitpid(pids[v], NULL, 0);
		pids[v] = fork();
		if (pids[v] == 0)
			member_main(data, next);
		next++;
	}
	/* Let the survivors finish: until every record has its effect. */
	int have = 0;

	for (int t = 0; t < 300 && have < PARTS * N; t++) {
		usleep(50000);
		have = 0;
		for (int p = 0; p < PARTS; p++)
			for (int o = 0; o < N; o++) {
				snprintf(path, sizeof(path), "%s/effects/%d-%d", data, p, o);
				have += access(path, F_OK) == 0;
			}
	}
	for (int i = 0; i < MEMBERS; i++) {
		int st;

		kill(pids[i], SIGTERM);
		waitpid(pids[i], &st, 0);
		assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	}
	/* None lost; each effect once (the keyed effect cannot happen twice);
	 * deliveries at least once, more where a kill came before a commit. */
	assert_int_equal(have, PARTS * N);
	struct stat sb;

	snprintf(path, sizeof(path), "%s/deliveries", data);
	assert_int_equal(stat(path, &sb), 0);
	assert_true(sb.st_size >= PARTS * N);
	print_message("%d kills: %lld deliveries for %d records, every effect once\n", KILLS,
		      (long long)sb.st_size, PARTS * N);
	tu_rmrf(data);
}

static struct rxl_record key_rec(uint32_t k, char *buf)
{
	struct rxl_record r = {.producer_id = -1};

	r.key_len = sprintf(buf, "key-%u", k);
	r.key = (const uint8_t *)buf;
	return r;
}

/* The window against a model: a plain FIFO of the last `cap` distinct keys. */
static void test_dedupe_window_matches_model(void **state)
{
	enum { CAP = 64 };
	struct rxlog_dedupe *d;
	uint32_t fifo[CAP], n = 0, head = 0;
	uint64_t rs = 7;

	assert_int_equal(rxlog_dedupe_create(CAP, RXLOG_IDEM_KEY, NULL, &d), 0);
	for (int i = 0; i < 200000; i++) {
		uint32_t k = (uint32_t)(tu_rand(&rs) % 150);
		char buf[32];
		struct rxl_record r = key_rec(k, buf);
		bool in = false;

		for (uint32_t j = 0; j < n; j++)
			in |= fifo[(head + CAP - n + j) % CAP] == k;
		int got = rxlog_dedupe_check(d, &r);

		assert_int_equal(got, in ? 0 : 1);
		if (!in) {
			fifo[head] = k;
			head = (head + 1) % CAP;
			if (n < CAP)
				n++;
		}
	}
	struct rxl_record none = {.key_len = -1, .producer_id = -1};

	assert_int_equal(rxlog_dedupe_check(d, &none), -ENOENT);
	rxlog_dedupe_free(d);
	/* Producer id + sequence. */
	assert_int_equal(rxlog_dedupe_create(8, RXLOG_IDEM_PRODUCER, NULL, &d), 0);
	struct rxl_record p1 = {.producer_id = 9, .sequence = 1},
			  p2 = {.producer_id = 9, .sequence = 2};

	assert_int_equal(rxlog_dedupe_check(d, &p1), 1);
	assert_int_equal(rxlog_dedupe_check(d, &p2), 1);
	assert_int_equal(rxlog_dedupe_check(d, &p1), 0);
	rxlog_dedupe_free(d);
	assert_int_equal(rxlog_dedupe_create(8, RXLOG_IDEM_HEADER, NULL, &d), -EINVAL);
}

/* A handler called twice for the same event (redelivery) does its work
 * once: the idempotency key is a header. */
static void test_dedupe_by_header_on_redelivered_records(void **state)
{
	char *data = tu_tmpdir("idem");
	char dir[4096];
	struct rxl_log_config c;
	struct rxl_log *log;
	struct rxlog *rx;
	struct rxlog_dedupe *d;

	assert_int_equal(rxl_log_path(dir, sizeof(dir), data, "pay", 0), 0);
	rxl_log_config_default(&c);
	c.segment_bytes = 1 << 20;
	c.prealloc_bytes = 1 << 20;
	assert_int_equal(rxl_log_open(dir, &c, &log), 0);
	/* Payment ids 0..99, each sent twice (a producer retry). */
	for (int i = 0; i < 200; i++) {
		char id[16];
		struct rxl_header h = {.key = "idempotency-key", .key_len = 15, .value = id};
		struct rxl_record_in in = {
			.key_len = -1, .value = "x", .value_len = 1, .headers = &h, .n_headers = 1};

		h.value_len = sprintf(id, "pay-%d", i % 100);
		assert_int_equal(rxl_log_append_burst(log, &in, 1, NULL, NULL), 1);
	}
	assert_int_equal(rxl_log_close(log), 0);
	assert_int_equal(rxlog_open(data, &rx), 0);
	assert_int_equal(rxlog_dedupe_create(1000, RXLOG_IDEM_HEADER, "idempotency-key", &d), 0);
	struct rxlog_group_config gc = {.group = "g", .topic = "pay"};
	struct rxlog_group *g;
	struct rxlog_msg m;
	int work = 0;

	assert_int_equal(rxlog_group_join(rx, &gc, &g), 0);
	while (rxlog_group_poll(g, &m, 100) == 1) {
		work += rxlog_dedupe_check(d, &m.rec) == 1;
		rxlog_group_settle(g, &m, RXLOG_ACK, NULL);
	}
	assert_int_equal(work, 100);
	rxlog_group_leave(g);
	rxlog_dedupe_free(d);
	rxlog_close(rx);
	tu_rmrf(data);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fanout_three_groups_see_every_record_once_in_order),
		cmocka_unit_test(test_rejoin_resumes_from_committed_offsets),
		cmocka_unit_test(test_poison_record_dead_lettered_and_partition_keeps_flowing),
		cmocka_unit_test(test_retry_backoff_does_not_stall_other_partitions),
		cmocka_unit_test(test_offset_commit_killed_at_every_step_is_old_or_new),
		cmocka_unit_test(test_crashed_member_partitions_taken_over_at_least_once),
		cmocka_unit_test(test_two_members_share_partitions),
		cmocka_unit_test(test_members_killed_repeatedly_effects_exactly_once),
		cmocka_unit_test(test_retention_against_slow_group_resets_and_counts_loss),
		cmocka_unit_test(test_retention_waits_for_groups_up_to_the_cap),
		cmocka_unit_test(test_dedupe_window_matches_model),
		cmocka_unit_test(test_dedupe_by_header_on_redelivered_records),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
