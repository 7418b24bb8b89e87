/* consumers/examples: stats — per-second counts and bytes by key and by
 * syslog severity, as a live table; the fanout example (its own group).
 * Records that carry a send_ns header (native datagrams sent with
 * RXL_NATIVE_F_SEND_TIME, as rxlog-gen does) also give the end-to-end
 * latency from the sender's clock to this consumer handling the record:
 * p50, p99 and max over a reservoir sample of each interval.
 * Main thread only.
 */
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "rxl_bytes.h"
#include "rxl_err.h"
#include "rxl_wire.h"
#include "rxlog.h"

#define TOP 10
#define MAX_KEYS 1024
#define LAT_SAMPLES 65536 /* reservoir per tally: percentiles from a uniform sample */

struct row {
	char key[48];
	uint64_t n, bytes;
};

struct tally {
	struct row keys[MAX_KEYS];
	uint32_t nkeys;
	uint64_t other_n, other_bytes;
	uint64_t sev[9]; /* 0-7, 8 = none */
	uint64_t n, bytes;
	uint64_t lat_n, lat_max_ns; /* records with send_ns, the largest latency */
	uint64_t lat[LAT_SAMPLES];  /* a uniform sample of their latencies (Algorithm R) */
	uint64_t rng;
};

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* Note one latency: kept with probability LAT_SAMPLES / lat_n (Algorithm R). */
static void note_latency(struct tally *t, uint64_t ns)
{
	t->lat_n++;
	if (ns > t->lat_max_ns)
		t->lat_max_ns = ns;
	if (t->lat_n <= LAT_SAMPLES) {
		t->lat[t->lat_n - 1] = ns;
		return;
	}
	t->rng = t->rng * 6364136223846793005ull + 1442695040888963407ull;
	uint64_t j = (t->rng >> 11) % t->lat_n;

	if (j < LAT_SAMPLES)
		t->lat[j] = ns;
}

static void count(struct tally *t, const struct rxl_record *r)
{
	uint64_t b = (uint64_t)(r->value_len > 0 ? r->value_len : 0);
	char k[48];
	int kl = r->key_len > 0 ? (r->key_len < 47 ? r->key_len : 47) : 0;

	memcpy(k, r->key ? (const char *)r->key : "", (size_t)kl);
	k[kl] = '\0';
	if (!kl)
		snprintf(k, sizeof(k), "(none)");
	t->n++;
	t->bytes += b;
	uint32_t i;

	for (i = 0; i < t->nkeys && strcmp(t->keys[i].key, k); i++)
		;
	if (i == t->nkeys && t->nkeys < MAX_KEYS)
		snprintf(t->keys[t->nkeys++].key, sizeof(t->keys[0].key), "%s", k);
	if (i < t->nkeys) {
		t->keys[i].n++;
		t->keys[i].bytes += b;
	} else {
		t->other_n++;
		t->other_bytes += b;
	}
	const uint8_t *it = r->headers;
	struct rxl_header h;
	int sev = 8;

	while (rxl_header_next(r, &it, &h) == 1) {
		if (h.key_len == 8 && !memcmp(h.key, "severity", 8) && h.value_len == 1 &&
		    ((const char *)h.value)[0] >= '0' && ((const char *)h.value)[0] <= '7')
			sev = ((const char *)h.value)[0] - '0';
		if (h.key_len == (int32_t)sizeof(RXL_NATIVE_SEND_NS_HEADER) - 1 &&
		    !memcmp(h.key, RXL_NATIVE_SEND_NS_HEADER, (size_t)h.key_len) &&
		    h.value_len == RXL_NATIVE_SEND_TIME_LEN) {
			uint64_t sent = rxl_be64_get(h.value), now = now_ns(); /* docs/WIRE.md */

			/* A sender whose clock runs ahead reads as 0, not as a
			 * huge unsigned value. */
			note_latency(t, now > sent ? now - sent : 0);
		}
	}
	t->sev[sev]++;
}

static int by_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static int by_count(const void *a, const void *b)
{
	const struct row *x = a, *y = b;

	return x->n < y->n ? 1 : x->n > y->n ? -1 : strcmp(x->key, y->key);
}

static void print(struct tally *t, double secs, bool live, const char *title)
{
	static const char *names[9] = {"emerg",	 "alert", "crit",  "err",   "warning",
				       "notice", "info",  "debug", "(none)"};

	if (live)
		printf("\033[H\033[2J"); /* a person watches: redraw in place */
	printf("%s: %" PRIu64 " records, %" PRIu64 " bytes (%.0f records/s, %.0f bytes/s)\n", title,
	       t->n, t->bytes, (double)t->n / secs, (double)t->bytes / secs);
	qsort(t->keys, t->nkeys, sizeof(t->keys[0]), by_count);
	printf("%-32s %12s %14s\n", "key", "records", "bytes");
	for (uint32_t i = 0; i < t->nkeys && i < TOP; i++)
		printf("%-32s %12" PRIu64 " %14" PRIu64 "\n", t->keys[i].key, t->keys[i].n,
		       t->keys[i].bytes);
	if (t->nkeys > TOP || t->other_n)
		printf("%-32s %12s\n", "...", "");
	printf("%-10s %12s\n", "severity", "records");
	for (int s = 0; s < 9; s++)
		if (t->sev[s])
			printf("%-10s %12" PRIu64 "\n", names[s], t->sev[s]);
	if (t->lat_n) {
		uint64_t k = t->lat_n < LAT_SAMPLES ? t->lat_n : LAT_SAMPLES;

		qsort(t->lat, k, sizeof(t->lat[0]), by_u64);
		printf("latency send->consumer: %" PRIu64 " records, p50 %.1f us, p99 %.1f us, "
		       "max %.1f us\n",
		       t->lat_n, (double)t->lat[(k - 1) / 2] / 1e3,
		       (double)t->lat[(k - 1) * 99 / 100] / 1e3, (double)t->lat_max_ns / 1e3);
	}
	fflush(stdout);
}

int main(int argc, char **argv)
{
	const char *data = getenv("RXLOG_DATA"), *topic = NULL, *group = "stats";
	int interval_ms = 1000, idle_exit_ms = -1;

	for (int i = 1; i + 1 < argc; i += 2) {
		if (!strcmp(argv[i], "--data"))
			data = argv[i + 1];
		else if (!strcmp(argv[i], "--topic"))
			topic = argv[i + 1];
		else if (!strcmp(argv[i], "--group"))
			group = argv[i + 1];
		else if (!strcmp(argv[i], "--interval-ms"))
			interval_ms = atoi(argv[i + 1]);
		else if (!strcmp(argv[i], "--idle-exit-ms"))
			idle_exit_ms = atoi(argv[i + 1]);
		else
			topic = NULL, argc = 0;
	}
	if (!topic) {
		fprintf(stderr, "usage: rxlog-stats --topic T [--data DIR] [--group G] "
				"[--interval-ms N] [--idle-exit-ms N]\n");
		return 2;
	}
	struct rxlog *rx;
	struct rxlog_group *g;
	struct rxlog_group_config gc = {.group = group, .topic = topic};

	if (rxlog_open(data, &rx) || rxlog_group_join(rx, &gc, &g)) {
		fprintf(stderr, "rxlog-stats: %s\n", rxl_err_msg());
		return 1;
	}
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	static struct tally sec, total;
	struct timespec t0, now;
	struct rxlog_msg m;
	bool live = isatty(STDOUT_FILENO) && idle_exit_ms < 0;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	struct timespec start = t0;

	while (!stop) {
		int n = rxlog_group_poll(g, &m, idle_exit_ms >= 0 ? idle_exit_ms : 100);

		if (n < 0) {
			fprintf(stderr, "rxlog-stats: %s\n", rxl_err_msg());
			break;
		}
		if (n == 1) {
			count(&sec, &m.rec);
			count(&total, &m.rec);
			rxlog_group_settle(g, &m, RXLOG_ACK, NULL);
		} else if (idle_exit_ms >= 0) {
			break;
		}
		clock_gettime(CLOCK_MONOTONIC, &now);
		double el =
			(double)(now.tv_sec - t0.tv_sec) + (double)(now.tv_nsec - t0.tv_nsec) / 1e9;

		if (el * 1000 >= interval_ms) {
			if (idle_exit_ms < 0)
				print(&sec, el, live, "last interval");
			memset(&sec, 0, sizeof(sec));
			t0 = now;
		}
	}
	clock_gettime(CLOCK_MONOTONIC, &now);
	print(&total,
	      (double)(now.tv_sec - start.tv_sec) + (double)(now.tv_nsec - start.tv_nsec) / 1e9,
	      false, "total");
	rxlog_group_leave(g);
	rxlog_close(rx);
	return 0;
}
