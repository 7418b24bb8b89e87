/* log: the demo — write millions of records, SIGKILL the writer mid-way,
 * recover, finish, read everything back and check it; prints rates.
 * Main thread plus one forked writer process.
 */
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "rxl_err.h"
#include "rxl_log.h"

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Record i: key "host-<i % 64>", a value that encodes i, timestamp t0 + i/1000 ms. */
static void make(uint64_t i, char *key, uint8_t *val, uint32_t vlen, struct rxl_record_in *r,
		 int64_t t0)
{
	int kl = snprintf(key, 16, "host-%02u", (unsigned)(i % 64));

	memcpy(val, &i, 8);
	for (uint32_t k = 8; k < vlen; k++)
		val[k] = (uint8_t)(i + k);
	*r = (struct rxl_record_in){.key = key,
				    .key_len = kl,
				    .value = val,
				    .value_len = (int32_t)vlen,
				    .timestamp_ms = t0 + (int64_t)(i / 1000)};
}

/* Append [from, to) as fast as possible; returns records/s or -1. */
static double write_range(struct rxl_log *log, uint64_t from, uint64_t to, uint32_t vlen,
			  int64_t t0)
{
	enum { BURST = 64 };
	static char keys[BURST][16];
	static uint8_t vals[BURST][1024];
	struct rxl_record_in in[BURST];
	double t = now_s();

	for (uint64_t i = from; i < to;) {
		uint32_t n = to - i < BURST ? (uint32_t)(to - i) : BURST;

		for (uint32_t k = 0; k < n; k++)
			make(i + k, keys[k], vals[k], vlen, &in[k], t0);
		for (uint32_t done = 0; done < n;) {
			int r = rxl_log_append_burst(log, in + done, n - done, NULL, NULL);

			if (r < 0) {
				fprintf(stderr, "append: %s\n", rxl_err_msg());
				return -1;
			}
			done += (uint32_t)r;
		}
		rxl_log_poll(log);
		i += n;
	}
	if (rxl_log_sync(log)) {
		fprintf(stderr, "sync: %s\n", rxl_err_msg());
		return -1;
	}
	return (double)(to - from) / (now_s() - t);
}

static void usage(void)
{
	fprintf(stderr,
		"usage: rxlog-logdemo [--data DIR] [--records N] [--value-bytes B]\n"
		"  Writes N records (default 5000000) of B bytes (default 100) to partition\n"
		"  demo-0 under DIR (default $RXLOG_DATA, else ./demo-data), kills the writer\n"
		"  with SIGKILL half-way, recovers, finishes, and reads everything back.\n");
}

int main(int argc, char **argv)
{
	const char *data = getenv("RXLOG_DATA");
	uint64_t n = 5000000;
	uint32_t vlen = 100;
	char dir[4096];
	struct rxl_log_config cfg;
	struct rxl_log *log;
	int64_t t0 = 1700000000000;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--data") && i + 1 < argc)
			data = argv[++i];
		else if (!strcmp(argv[i], "--records") && i + 1 < argc)
			n = strtoull(argv[++i], NULL, 10);
		else if (!strcmp(argv[i], "--value-bytes") && i + 1 < argc)
			vlen = (uint32_t)strtoul(argv[++i], NULL, 10);
		else {
			usage();
			return strcmp(argv[i], "--help") ? 2 : 0;
		}
	}
	if (vlen < 8 || vlen > 1024 || n < 1000) {
		fprintf(stderr, "--value-bytes must be 8..1024 and --records >= 1000\n");
		return 2;
	}
	if (!data || !*data)
		data = "./demo-data";
	if (rxl_log_path(dir, sizeof(dir), data, "demo", 0)) {
		fprintf(stderr, "%s\n", rxl_err_msg());
		return 2;
	}
	char cmd[4200];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		return 1;
	rxl_log_config_default(&cfg);
	cfg.segment_bytes = 128ull << 20;
	cfg.durability = RXL_DUR_INTERVAL;
	cfg.flush_ms = 200;
	printf("rxlog log demo: data in %s (partition folder %s)\n", data, dir);
	printf("  %" PRIu64 " records of %u-byte values, 64 keys, durability interval (200 ms), "
	       "128 MiB segments\n",
	       n, vlen);

	/* 1. A writer process, killed with SIGKILL once half is visible. */
	pid_t pid = fork();

	if (pid == 0) {
		if (rxl_log_open(dir, &cfg, &log)) {
			fprintf(stderr, "open: %s\n", rxl_err_msg());
			_exit(1);
		}
		double rate = write_range(log, 0, n, vlen, t0);

		printf("  writer finished before the kill (%.2f M records/s)\n", rate / 1e6);
		_exit(0);
	}
	struct rxl_reader *r = NULL;
	struct rxl_log_offsets o = {0};
	double t = now_s();

	while (!r && rxl_reader_open(dir, &r))
		usleep(1000);
	while (o.hwm < n / 2) {
		rxl_reader_wait(r, 100);
		rxl_reader_offsets(r, &o);
		if (waitpid(pid, NULL, WNOHANG) == pid)
			break;
	}
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	rxl_reader_offsets(r, &o);
	double wt = now_s() - t;

	printf("1. write: SIGKILL after %.2f s; high-water mark %" PRIu64 " (%.2f M records/s), "
	       "durable %" PRIu64 "\n",
	       wt, o.hwm, (double)o.hwm / wt / 1e6, o.durable);
	rxl_reader_close(r);

	/* 2. Recover (inside open), then finish the job and close cleanly. */
	struct rxl_recovery_report rep;

	t = now_s();
	if (rxl_log_recover(dir, false, &rep)) {
		fprintf(stderr, "recover: %s\n", rxl_err_msg());
		return 1;
	}
	printf("2. recover: %.1f ms, %" PRIu64 " segment(s) scanned, %" PRIu64
	       " batches checked, %" PRIu64 " torn bytes cut, end offset %" PRIu64 " (>= %" PRIu64
	       " published: nothing visible was lost)\n",
	       (now_s() - t) * 1e3, rep.segments_scanned, rep.batches_scanned, rep.bytes_truncated,
	       rep.end_offset, o.hwm);
	if (rep.end_offset < o.hwm || rep.corrupt)
		return 1;
	if (rxl_log_open(dir, &cfg, &log)) {
		fprintf(stderr, "open: %s\n", rxl_err_msg());
		return 1;
	}
	uint64_t from = rxl_log_end_offset(log);
	double rate = write_range(log, from, n, vlen, t0);
	struct rxl_log_stats st;

	rxl_log_stats(log, &st);
	if (rate < 0 || rxl_log_close(log))
		return 1;
	printf("   finish: appended [%" PRIu64 ", %" PRIu64 ") at %.2f M records/s "
	       "(%.0f MB/s of batches), %" PRIu64 " batches, %" PRIu64 " segment rolls\n",
	       from, n, rate / 1e6,
	       rate * (double)st.bytes / (double)(st.records ? st.records : 1) / 1e6, st.batches,
	       st.segments_rolled);

	/* 3. Read it all back, zero copy, and check every record. */
	struct rxl_record rec;
	uint64_t want = 0, bad = 0;

	if (rxl_reader_open(dir, &r))
		return 1;
	t = now_s();
	int k;

	while ((k = rxl_reader_next(r, &rec)) == 1) {
		uint64_t v;

		memcpy(&v, rec.value, 8);
		if (rec.offset != want || v != want || rec.value_len != (int32_t)vlen)
			bad++;
		want++;
	}
	double rt = now_s() - t;

	if (k < 0) {
		fprintf(stderr, "read: %s\n", rxl_err_msg());
		return 1;
	}
	printf("3. read: %" PRIu64 " records in %.2f s (%.1f M records/s), %" PRIu64
	       " wrong, offsets contiguous from 0\n",
	       want, rt, (double)want / rt / 1e6, bad);

	/* 4. Replay from a point in time through the time index. */
	uint64_t off;
	int64_t ts = t0 + (int64_t)(n / 1000 * 3 / 4);

	if (rxl_reader_seek_time(r, ts, &off) || rxl_reader_next(r, &rec) != 1)
		return 1;
	printf("4. seek_time(%" PRId64 ") -> offset %" PRIu64 " (timestamp %" PRId64 ")\n", ts, off,
	       rec.timestamp_ms);
	rxl_reader_close(r);
	if (bad || want != n)
		return 1;
	printf("ok: %s holds %" PRIu64 " records in Kafka record-batch format (docs/FORMAT.md)\n",
	       dir, n);
	return 0;
}
