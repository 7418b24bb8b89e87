/* consumers/examples: view — CQRS: a query-side read model in SQLite, built
 * from the ledger topic at least once, counted exactly once.
 * Main thread only.
 *
 * Consumer group "view" (restartable from its committed offsets; a crashed
 * run's partitions are redelivered). Each event is applied in one SQLite
 * transaction together with its idempotency key (the "event-id" header,
 * else "<partition>:<offset>") in table `applied`: a redelivered or
 * re-sent event finds its key there and changes nothing. The in-memory
 * window (rxlog_dedupe) skips recent duplicates without a database trip.
 *
 *   accounts(account TEXT PRIMARY KEY, balance INTEGER, events INTEGER)
 *   applied(id TEXT PRIMARY KEY)
 */
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rxl_err.h"
#include "rxlog.h"

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static const char *schema =
	"PRAGMA journal_mode=WAL;"
	"PRAGMA synchronous=NORMAL;"
	"CREATE TABLE IF NOT EXISTS accounts(account TEXT PRIMARY KEY, balance INTEGER NOT NULL,"
	" events INTEGER NOT NULL);"
	"CREATE TABLE IF NOT EXISTS applied(id TEXT PRIMARY KEY);";

/* Apply one event; returns 1 applied, 0 already applied, -1 on error. */
static int apply(sqlite3 *db, sqlite3_stmt *ins_id, sqlite3_stmt *upsert, const struct rxlog_msg *m)
{
	char id[64], v[64];
	int idl = 0;
	const uint8_t *it = m->rec.headers;
	struct rxl_header h;
	long long amt = 0;

	while (rxl_header_next(&m->rec, &it, &h) == 1)
		if (h.key_len == 8 && !memcmp(h.key, "event-id", 8) && h.value_len > 0 &&
		    h.value_len < (int32_t)sizeof(id)) {
			memcpy(id, h.value, (size_t)h.value_len);
			idl = h.value_len;
		}
	if (!idl)
		idl = snprintf(id, sizeof(id), "%u:%" PRIu64, m->partition, m->rec.offset);
	if (m->rec.value_len > 0 && m->rec.value_len < (int32_t)sizeof(v)) {
		memcpy(v, m->rec.value, (size_t)m->rec.value_len);
		v[m->rec.value_len] = '\0';
		if (sscanf(v, "withdraw %lld", &amt) == 1)
			amt = -amt;
		else if (sscanf(v, "deposit %lld", &amt) != 1)
			amt = 0;
	}
	if (sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK)
		return -1;
	sqlite3_reset(ins_id);
	sqlite3_bind_text(ins_id, 1, id, idl, SQLITE_TRANSIENT);
	if (sqlite3_step(ins_id) != SQLITE_DONE)
		goto rollback;
	if (sqlite3_changes(db) == 0) {
		sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
		return 0; /* applied before: a redelivery or a duplicate send */
	}
	sqlite3_reset(upsert);
	sqlite3_bind_text(upsert, 1, (const char *)m->rec.key,
			  m->rec.key_len > 0 ? m->rec.key_len : 0, SQLITE_TRANSIENT);
	sqlite3_bind_int64(upsert, 2, amt);
	if (sqlite3_step(upsert) != SQLITE_DONE)
		goto rollback;
	if (sqlite3_exec(db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK)
		goto rollback;
	return 1;
rollback:
	fprintf(stderr, "rxlog-view: sqlite: %s\n", sqlite3_errmsg(db));
	sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
	return -1;
}

int main(int argc, char **argv)
{
	const char *data = getenv("RXLOG_DATA"), *dbpath = "view.sqlite", *topic = "ledger";
	int idle_exit_ms = -1;
	uint64_t die_after = 0;

	for (int i = 1; i + 1 < argc; i += 2) {
		if (!strcmp(argv[i], "--data"))
			data = argv[i + 1];
		else if (!strcmp(argv[i], "--db"))
			dbpath = argv[i + 1];
		else if (!strcmp(argv[i], "--topic"))
			topic = argv[i + 1];
		else if (!strcmp(argv[i], "--idle-exit-ms"))
			idle_exit_ms = atoi(argv[i + 1]);
		else if (!strcmp(argv[i], "--die-after")) /* tests: crash on purpose */
			die_after = strtoull(argv[i + 1], NULL, 10);
		else {
			fprintf(stderr, "usage: rxlog-view [--data DIR] [--db FILE] [--topic T] "
					"[--idle-exit-ms N]\n");
			return 2;
		}
	}
	struct rxlog *rx;
	sqlite3 *db;
	sqlite3_stmt *ins_id, *upsert;

	if (rxlog_open(data, &rx)) {
		fprintf(stderr, "rxlog-view: %s\n", rxl_err_msg());
		return 1;
	}
	if (sqlite3_open(dbpath, &db) != SQLITE_OK || sqlite3_exec(db, schema, NULL, NULL, NULL) ||
	    sqlite3_prepare_v2(db, "INSERT OR IGNORE INTO applied(id) VALUES(?1)", -1, &ins_id,
			       NULL) ||
	    sqlite3_prepare_v2(db,
			       "INSERT INTO accounts(account, balance, events) VALUES(?1, ?2, 1) "
			       "ON CONFLICT(account) DO UPDATE SET balance = balance + ?2, "
			       "events = events + 1",
			       -1, &upsert, NULL)) {
		fprintf(stderr, "rxlog-view: %s: %s\n", dbpath, sqlite3_errmsg(db));
		return 1;
	}
	struct rxlog_group_config gc = {.group = "view", .topic = topic, .commit_every = 500};
	struct rxlog_group *g;
	struct rxlog_dedupe *window;
	struct rxlog_msg m;
	uint64_t applied = 0, skipped = 0, seen = 0;
	int n;

	if (rxlog_group_join(rx, &gc, &g) ||
	    rxlog_dedupe_create(100000, RXLOG_IDEM_HEADER, "event-id", &window)) {
		fprintf(stderr, "rxlog-view: %s\n", rxl_err_msg());
		return 1;
	}
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	while (!stop &&
	       (n = rxlog_group_poll(g, &m, idle_exit_ms >= 0 ? idle_exit_ms : 1000)) >= 0) {
		if (n == 0) {
			if (idle_exit_ms >= 0)
				break;
			continue;
		}
		int r = rxlog_dedupe_check(window, &m.rec) == 0 ? 0 : apply(db, ins_id, upsert, &m);

		if (r < 0) {
			rxlog_group_settle(g, &m, RXLOG_RETRY, "sqlite error");
			continue;
		}
		applied += r == 1;
		skipped += r == 0;
		rxlog_group_settle(g, &m, RXLOG_ACK, NULL);
		if (die_after && ++seen == die_after)
			abort(); /* tests: a crash after the effect, before the commit */
	}
	rxlog_group_leave(g);
	rxlog_dedupe_free(window);
	sqlite3_finalize(ins_id);
	sqlite3_finalize(upsert);
	sqlite3_close(db);
	rxlog_close(rx);
	printf("applied %" PRIu64 " events, %" PRIu64 " duplicates skipped\n", applied, skipped);
	return 0;
}
