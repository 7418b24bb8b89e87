/* bench: consumer side — end-to-end latency from append to a waiting
 * consumer's wake-up, against a plain pipe's one-way latency for scale.
 * Benchmark thread (the writer) plus one consumer thread per case.
 *
 * Each iteration: the writer stamps CLOCK_MONOTONIC into a record, appends
 * it and submits the batch at once (rxl_log_flush); the consumer, blocked
 * in rxl_reader_wait() (a futex on the partition's shared state page, the
 * same wake-up another process gets), wakes, reads the record and takes
 * now - stamp. The writer waits for that before the next iteration, so
 * each sample is one record's trip through io_uring completion, HWM
 * publication and futex wake-up. The pipe case sends the stamp through a
 * pipe to a thread blocked in read(2). Counters: p50_us, p99_us, max_us.
 */
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "rxl_bench.h"
#include "rxl_log.h"

#define MAX_SAMPLES 200000

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

struct lat {
	uint64_t samples[MAX_SAMPLES];
	_Atomic uint64_t done; /* samples taken; the writer waits on it */
	_Atomic int stop;
	const char *dir;
	int pipe_rd;
};

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static void report(struct rxl_bench_state *s, struct lat *l)
{
	uint64_t n = atomic_load(&l->done);

	if (n > MAX_SAMPLES)
		n = MAX_SAMPLES;
	if (!n)
		return;
	qsort(l->samples, n, sizeof(uint64_t), cmp_u64);
	rxl_bench_counter(s, "p50_us", (double)l->samples[n / 2] / 1e3);
	rxl_bench_counter(s, "p99_us", (double)l->samples[n * 99 / 100] / 1e3);
	rxl_bench_counter(s, "max_us", (double)l->samples[n - 1] / 1e3);
	rxl_bench_set_items(s, (int64_t)n);
}

static void *log_consumer(void *arg)
{
	struct lat *l = arg;
	struct rxl_reader *r;
	struct rxl_record rec;

	if (rxl_reader_open(l->dir, &r))
		return NULL;
	while (!atomic_load(&l->stop)) {
		int n = rxl_reader_next(r, &rec);

		if (n == 1) {
			uint64_t t0, now = mono_ns(), k = atomic_load(&l->done);

			memcpy(&t0, rec.value, 8);
			if (k < MAX_SAMPLES)
				l->samples[k] = now - t0;
			atomic_store(&l->done, k + 1); /* seq_cst: simple and off the hot path */
			continue;
		}
		if (n < 0)
			break;
		rxl_reader_wait(r, 50);
	}
	rxl_reader_close(r);
	return NULL;
}

static void bm_append_to_wakeup(struct rxl_bench_state *s)
{
	static struct lat l;
	char tmpl[PATH_MAX];
	const char *base = getenv("RXL_BENCH_DIR");
	struct rxl_log_config c;
	struct rxl_log *log;
	pthread_t th;

	snprintf(tmpl, sizeof(tmpl), "%s/lat-XXXXXX", base && *base ? base : "/tmp");
	if (!mkdtemp(tmpl)) {
		rxl_bench_skip_with_error(s, "mkdtemp failed");
		return;
	}
	memset(&l, 0, sizeof(l));
	l.dir = tmpl;
	rxl_log_config_default(&c);
	c.segment_bytes = 64 << 20;
	c.prealloc_bytes = 8 << 20;
	if (rxl_log_open(tmpl, &c, &log)) {
		rxl_bench_skip_with_error(s, "rxl_log_open failed");
		return;
	}
	pthread_create(&th, NULL, log_consumer, &l);
	usleep(20000); /* the consumer is blocked in its wait */
	uint64_t sent = 0;

	while (rxl_bench_keep_running(s)) {
		uint8_t v[64] = {0};
		uint64_t t0 = mono_ns();

		memcpy(v, &t0, 8);
		struct rxl_record_in in = {.key_len = -1, .value = v, .value_len = 64};

		rxl_log_append_burst(log, &in, 1, NULL, NULL);
		rxl_log_flush(log);
		sent++;
		/* The writer's own loop: reap the completion that publishes the HWM. */
		while (atomic_load(&l.done) < sent)
			rxl_log_poll(log);
	}
	atomic_store(&l.stop, 1);
	pthread_join(th, NULL);
	report(s, &l);
	rxl_log_close(log);
	char cmd[PATH_MAX + 16];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpl);
	(void)!system(cmd);
}

static void *pipe_consumer(void *arg)
{
	struct lat *l = arg;
	uint64_t t0;

	while (read(l->pipe_rd, &t0, 8) == 8) {
		uint64_t now = mono_ns(), k = atomic_load(&l->done);

		if (k < MAX_SAMPLES)
			l->samples[k] = now - t0;
		atomic_store(&l->done, k + 1);
	}
	return NULL;
}

static void bm_pipe_one_way(struct rxl_bench_state *s)
{
	static struct lat l;
	int fds[2];
	pthread_t th;

	memset(&l, 0, sizeof(l));
	if (pipe(fds)) {
		rxl_bench_skip_with_error(s, "pipe failed");
		return;
	}
	l.pipe_rd = fds[0];
	pthread_create(&th, NULL, pipe_consumer, &l);
	uint64_t sent = 0;

	while (rxl_bench_keep_running(s)) {
		uint64_t t0 = mono_ns();

		(void)!write(fds[1], &t0, 8);
		sent++;
		while (atomic_load(&l.done) < sent)
			;
	}
	close(fds[1]);
	pthread_join(th, NULL);
	close(fds[0]);
	report(s, &l);
}

int main(int argc, char **argv)
{
	struct rxl_bench_opts o = {.real_time = true, .iterations = 20000};

	rxl_bench_register("latency/pipe", bm_pipe_one_way, NULL, 0, &o);
	rxl_bench_register("latency/append_to_wakeup", bm_append_to_wakeup, NULL, 0, &o);
	return rxl_bench_main(argc, argv) ? 1 : 0;
}
