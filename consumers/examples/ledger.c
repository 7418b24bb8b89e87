/* consumers/examples: ledger — event sourcing over an rxlog topic.
 * Main thread only.
 *
 *   rxlog-ledger load     write account events (open, deposit N, withdraw N)
 *   rxlog-ledger snapshot fold events into per-partition balance snapshots
 *   rxlog-ledger balance  balance of an account at a time T: the last
 *                         snapshot at or before T (found with the time
 *                         index of the snapshot topic), then a replay of
 *                         the events after it up to T — not a scan from 0
 *   --scan                the naive replay from offset 0 (to check the above)
 *
 * Topic "ledger" (4 partitions, partition = FNV-1a(account) % 4, so one
 * account's events keep their order), value "open" | "deposit N" |
 * "withdraw N" (cents), header "event-id". Snapshots go to topic
 * "ledger.snapshots", same partition numbers: value
 * "acct=balance\n..." for every account of the partition, timestamp = the
 * last event folded in, header "next" = the ledger offset after it.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "rxl_err.h"
#include "rxlog.h"

#define PARTS 4
#define MAX_ACCTS 4096

static uint32_t part_of(const char *acct, size_t len)
{
	uint32_t h = 2166136261u;

	for (size_t i = 0; i < len; i++)
		h = (h ^ (uint8_t)acct[i]) * 16777619u;
	return h % PARTS;
}

struct bal {
	char acct[32];
	int64_t cents;
};

struct book {
	struct bal b[MAX_ACCTS];
	uint32_t n;
};

static int64_t *find(struct book *bk, const uint8_t *acct, int32_t len, bool add)
{
	for (uint32_t i = 0; i < bk->n; i++)
		if ((int32_t)strlen(bk->b[i].acct) == len &&
		    !memcmp(bk->b[i].acct, acct, (size_t)len))
			return &bk->b[i].cents;
	if (!add || bk->n == MAX_ACCTS || len <= 0 || len >= 32)
		return NULL;
	memcpy(bk->b[bk->n].acct, acct, (size_t)len);
	bk->b[bk->n].acct[len] = '\0';
	bk->b[bk->n].cents = 0;
	return &bk->b[bk->n++].cents;
}

/* Apply one event to the book. */
static void apply(struct book *bk, const struct rxl_record *r)
{
	int64_t *c = find(bk, r->key, r->key_len, true);
	char v[64];

	if (!c || r->value_len <= 0 || r->value_len >= (int32_t)sizeof(v))
		return;
	memcpy(v, r->value, (size_t)r->value_len);
	v[r->value_len] = '\0';
	long long amt;

	if (sscanf(v, "deposit %lld", &amt) == 1)
		*c += amt;
	else if (sscanf(v, "withdraw %lld", &amt) == 1)
		*c -= amt;
}

static int open_writer(const char *data, const char *topic, uint32_t p, struct rxl_log **log)
{
	char dir[4096];
	struct rxl_log_config c;

	rxl_log_config_default(&c);
	c.segment_bytes = 8 << 20;
	c.prealloc_bytes = 1 << 20;
	c.batch_bytes = 16384; /* small batches: a fine-grained time index */
	c.index_interval_bytes = 1024;
	if (rxl_log_path(dir, sizeof(dir), data, topic, p))
		return -EINVAL;
	return rxl_log_open(dir, &c, log);
}

static int cmd_load(const char *data, uint32_t accounts, uint32_t events, int64_t t0, int64_t step)
{
	struct rxl_log *w[PARTS];
	uint64_t rs = 88172645463325252ull;

	for (uint32_t p = 0; p < PARTS; p++)
		if (open_writer(data, "ledger", p, &w[p])) {
			fprintf(stderr, "rxlog-ledger load: %s\n", rxl_err_msg());
			return 1;
		}
	for (uint32_t i = 0; i < events; i++) {
		char acct[32], val[48], id[24];
		uint32_t a = i < accounts ? i : (uint32_t)(rs % accounts);

		rs ^= rs << 13;
		rs ^= rs >> 7;
		rs ^= rs << 17;
		int kl = snprintf(acct, sizeof(acct), "acct-%04u", a);
		int vl = i < accounts ? snprintf(val, sizeof(val), "open")
			 : rs % 3     ? snprintf(val, sizeof(val), "deposit %u",
						 (unsigned)(rs >> 40) % 10000)
				      : snprintf(val, sizeof(val), "withdraw %u",
						 (unsigned)(rs >> 40) % 5000);
		struct rxl_header h = {.key = "event-id",
				       .key_len = 8,
				       .value = id,
				       .value_len = snprintf(id, sizeof(id), "ev-%u", i)};
		struct rxl_record_in in = {.key = acct,
					   .key_len = kl,
					   .value = val,
					   .value_len = vl,
					   .timestamp_ms = t0 + (int64_t)i * step,
					   .headers = &h,
					   .n_headers = 1};

		if (rxl_log_append_burst(w[part_of(acct, (size_t)kl)], &in, 1, NULL, NULL) != 1) {
			fprintf(stderr, "rxlog-ledger load: %s\n", rxl_err_msg());
			return 1;
		}
	}
	for (uint32_t p = 0; p < PARTS; p++)
		if (rxl_log_close(w[p]))
			return 1;
	printf("loaded %u events for %u accounts, timestamps %" PRId64 " .. %" PRId64 "\n", events,
	       accounts, t0, t0 + (int64_t)(events - 1) * step);
	return 0;
}

/* The last snapshot of partition p: its book, its "next" offset and timestamp. */
static int last_snapshot(struct rxlog *rx, uint32_t p, int64_t at_or_before, struct book *bk,
			 uint64_t *next, uint64_t *snap_count)
{
	struct rxl_reader *r;
	struct rxl_record rec;
	struct rxl_log_offsets o;
	uint64_t off;

	bk->n = 0;
	*next = 0;
	if (rxlog_reader_open(rx, "ledger.snapshots", p, &r))
		return 0; /* no snapshots yet */
	rxl_reader_offsets(r, &o);
	*snap_count = o.hwm;
	/* The time index finds the first snapshot after T; the one before it
	 * is the newest at or before T. */
	if (at_or_before == INT64_MAX)
		off = o.hwm;
	else if (rxl_reader_seek_time(r, at_or_before + 1, &off))
		off = o.log_start;
	if (off == o.log_start) {
		rxl_reader_close(r);
		return 0;
	}
	if (rxl_reader_seek(r, off - 1) || rxl_reader_next(r, &rec) != 1) {
		rxl_reader_close(r);
		return -EIO;
	}
	const uint8_t *it = rec.headers;
	struct rxl_header h;

	while (rxl_header_next(&rec, &it, &h) == 1)
		if (h.key_len == 4 && !memcmp(h.key, "next", 4))
			*next = strtoull((const char *)h.value, NULL, 10);
	const char *s = (const char *)rec.value, *end = s + rec.value_len;

	while (s < end) {
		const char *nl = memchr(s, '\n', (size_t)(end - s)),
			   *eq = memchr(s, '=', (size_t)(end - s));

		if (!nl)
			nl = end;
		if (eq && eq < nl) {
			int64_t *c = find(bk, (const uint8_t *)s, (int32_t)(eq - s), true);

			if (c)
				*c = strtoll(eq + 1, NULL, 10);
		}
		s = nl + 1;
	}
	rxl_reader_close(r);
	return 0;
}

static int cmd_snapshot(struct rxlog *rx, const char *data, uint64_t every)
{
	uint64_t made = 0;

	for (uint32_t p = 0; p < PARTS; p++) {
		static struct book bk;
		struct rxl_reader *r;
		struct rxl_record rec;
		struct rxl_log *w = NULL;
		uint64_t next, snaps = 0, n = 0;

		if (last_snapshot(rx, p, INT64_MAX, &bk, &next, &snaps) ||
		    rxlog_reader_open(rx, "ledger", p, &r) || rxl_reader_seek(r, next)) {
			fprintf(stderr, "rxlog-ledger snapshot: %s\n", rxl_err_msg());
			return 1;
		}
		while (rxl_reader_next(r, &rec) == 1) {
			apply(&bk, &rec);
			if (++n % every)
				continue;
			/* A snapshot after every `every` events. */
			static char val[MAX_ACCTS * 48];
			char nx[24];
			size_t vl = 0;

			for (uint32_t i = 0; i < bk.n; i++)
				vl += (size_t)snprintf(val + vl, sizeof(val) - vl,
						       "%s=%" PRId64 "\n", bk.b[i].acct,
						       bk.b[i].cents);
			struct rxl_header h = {
				.key = "next",
				.key_len = 4,
				.value = nx,
				.value_len = snprintf(nx, sizeof(nx), "%" PRIu64, rec.offset + 1)};
			struct rxl_record_in in = {.key_len = -1,
						   .value = val,
						   .value_len = (int32_t)vl,
						   .timestamp_ms = rec.timestamp_ms,
						   .headers = &h,
						   .n_headers = 1};

			if ((!w && open_writer(data, "ledger.snapshots", p, &w)) ||
			    rxl_log_append_burst(w, &in, 1, NULL, NULL) != 1) {
				fprintf(stderr, "rxlog-ledger snapshot: %s\n", rxl_err_msg());
				return 1;
			}
			made++;
		}
		rxl_reader_close(r);
		if (w && rxl_log_close(w))
			return 1;
	}
	printf("%" PRIu64 " snapshots written\n", made);
	return 0;
}

static int cmd_balance(struct rxlog *rx, const char *acct, int64_t at, bool scan)
{
	static struct book bk;
	struct rxl_reader *r;
	struct rxl_record rec;
	uint32_t p = part_of(acct, strlen(acct));
	uint64_t next = 0, snaps = 0, replayed = 0;

	if (!scan && last_snapshot(rx, p, at, &bk, &next, &snaps)) {
		fprintf(stderr, "rxlog-ledger balance: reading snapshots: %s\n", rxl_err_msg());
		return 1;
	}
	if (scan)
		bk.n = 0;
	if (rxlog_reader_open(rx, "ledger", p, &r) || rxl_reader_seek(r, next)) {
		fprintf(stderr, "rxlog-ledger balance: %s\n", rxl_err_msg());
		return 1;
	}
	/* Event time only grows within a partition (the loader's clock), so
	 * the first event after T ends the replay. */
	while (rxl_reader_next(r, &rec) == 1 && rec.timestamp_ms <= at) {
		replayed++;
		if (rec.key_len == (int32_t)strlen(acct) && !memcmp(rec.key, acct, strlen(acct)))
			apply(&bk, &rec);
	}
	rxl_reader_close(r);
	int64_t *c = find(&bk, (const uint8_t *)acct, (int32_t)strlen(acct), false);

	printf("%s at %" PRId64 ": %" PRId64 " (snapshot up to offset %" PRIu64 ", %" PRIu64
	       " events replayed)\n",
	       acct, at, c ? *c : 0, next, replayed);
	return 0;
}

static void usage(void)
{
	fprintf(stderr,
		"usage: rxlog-ledger [--data DIR] load [--accounts N] [--events M] [--t0 MS] "
		"[--step MS]\n"
		"       rxlog-ledger [--data DIR] snapshot [--every N]\n"
		"       rxlog-ledger [--data DIR] balance --account A [--at MS] [--scan]\n");
}

int main(int argc, char **argv)
{
	const char *data = getenv("RXLOG_DATA"), *cmd = NULL, *acct = NULL;
	uint32_t accounts = 100, events = 100000;
	int64_t t0 = 1700000000000, step = 10, at = INT64_MAX;
	uint64_t every = 1000;
	bool scan = false;

	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;

		if (!strcmp(a, "--scan"))
			scan = true;
		else if (!strcmp(a, "--data") && v)
			data = argv[++i];
		else if (!strcmp(a, "--accounts") && v)
			accounts = (uint32_t)strtoul(argv[++i], NULL, 10);
		else if (!strcmp(a, "--events") && v)
			events = (uint32_t)strtoul(argv[++i], NULL, 10);
		else if (!strcmp(a, "--t0") && v)
			t0 = strtoll(argv[++i], NULL, 10);
		else if (!strcmp(a, "--step") && v)
			step = strtoll(argv[++i], NULL, 10);
		else if (!strcmp(a, "--every") && v)
			every = strtoull(argv[++i], NULL, 10);
		else if (!strcmp(a, "--account") && v)
			acct = argv[++i];
		else if (!strcmp(a, "--at") && v)
			at = strtoll(argv[++i], NULL, 10);
		else if (!cmd && a[0] != '-')
			cmd = a;
		else {
			usage();
			return 2;
		}
	}
	if (!cmd || !data || !*data || !accounts || accounts > MAX_ACCTS || !every) {
		usage();
		return 2;
	}
	if (!strcmp(cmd, "load"))
		return cmd_load(data, accounts, events < accounts ? accounts : events, t0, step);
	struct rxlog *rx;

	if (rxlog_open(data, &rx)) {
		fprintf(stderr, "rxlog-ledger: %s\n", rxl_err_msg());
		return 1;
	}
	int rc = 2;

	if (!strcmp(cmd, "snapshot"))
		rc = cmd_snapshot(rx, data, every);
	else if (!strcmp(cmd, "balance") && acct)
		rc = cmd_balance(rx, acct, at, scan);
	else
		usage();
	rxlog_close(rx);
	return rc;
}
