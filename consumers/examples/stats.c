/* consumers/examples: stats — per-second counts and bytes by key and by
 * syslog severity, as a live table; the fanout example (its own group).
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

#include "rxl_err.h"
#include "rxlog.h"

#define TOP 10
#define MAX_KEYS 1024

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
};

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
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

	while (rxl_header_next(r, &it, &h) == 1)
		if (h.key_len == 8 && !memcmp(h.key, "severity", 8) && h.value_len == 1 &&
		    ((const char *)h.value)[0] >= '0' && ((const char *)h.value)[0] <= '7')
			sev = ((const char *)h.value)[0] - '0';
	t->sev[sev]++;
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
