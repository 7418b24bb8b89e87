/* consumers: `rxlog cat` — print a topic's records as values or JSON lines,
 * from an offset, a time, the start or the end, optionally following.
 * Main thread only.
 *
 * Merge rule (several partitions): each partition is read in offset order;
 * of the partitions' next records the one with the smallest timestamp is
 * printed first, ties going to the lower partition. Within a partition,
 * offset order always wins: a record never jumps ahead of an earlier
 * offset of its own partition, whatever their timestamps. With --follow,
 * a partition that has nothing new is not waited for (its later records
 * may carry earlier timestamps than records already printed).
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "cli_pvt.h"
#include "rxl_err.h"

/* Wait ceiling while following: a signal that lands between the stop check
 * and the futex sleep is seen at most this late (records wake us at once). */
#define FOLLOW_WAIT_MS 1000

/* clang-format off: the usage text is laid out as printed */
static void usage(FILE *f)
{
	fprintf(f,
		"usage: rxlog cat --topic T [--partition P]\n"
		"                 [--from-offset N | --from-time TIME | --from earliest|latest]\n"
		"                 [--count N] [--follow] [--format value|json] [--base64]\n"
		"                 [--data DIR]\n"
		"\n"
		"Print the records of topic T (every partition, or only P).\n"
		"\n"
		"  --from-offset N   start at offset N (needs --partition); N may be the end\n"
		"                    offset (nothing yet: with --follow, wait for it)\n"
		"  --from-time TIME  start at the first record with timestamp >= TIME:\n"
		"                    ISO-8601 YYYY-MM-DD[THH:MM[:SS[.mmm]]][Z|+HH:MM|-HH:MM]\n"
		"                    (no zone = UTC), or milliseconds since the epoch\n"
		"  --from WHERE      earliest (the log start, default) or latest (the end)\n"
		"  --count N         stop after N records\n"
		"  --follow, -f      at the end, wait for new records (futex, no polling)\n"
		"                    until SIGINT or SIGTERM, then exit 0\n"
		"  --format value    (default) each value as is, then a newline (a null\n"
		"                    value prints an empty line)\n"
		"  --format json     one object per line:\n"
		"                    {\"topic\":T,\"partition\":P,\"offset\":N,\"timestamp\":MS,\n"
		"                     \"key\":K,\"value\":V,\"headers\":{\"name\":V,...}}\n"
		"                    K, V: JSON strings (control characters, '\"' and '\\'\n"
		"                    escaped, invalid UTF-8 as \\ufffd) or null; headers in\n"
		"                    record order (a repeated name appears twice)\n"
		"  --base64          keys, values and header values in base64 (RFC 4648,\n"
		"                    padded), for binary data\n"
		"  --data DIR        data directory (default $RXLOG_DATA)\n"
		"\n"
		"Several partitions are merged by timestamp: of the partitions' next records\n"
		"the earliest is printed first (ties: lower partition); each partition stays\n"
		"in offset order. Exit status: 0 ok (also after SIGINT/SIGTERM with --follow),\n"
		"1 unknown topic, offset out of range or unreadable data, 2 bad usage.\n");
}
/* clang-format on */

/* Position reader @r of partition @p at the start @o asks for; prints errors. */
static int position(const char *cmd, const struct cli_cat_opts *o, uint32_t p, struct rxl_reader *r)
{
	struct rxl_log_offsets off;
	uint64_t at;
	int err;

	rxl_reader_offsets(r, &off);
	switch (o->from) {
	case CLI_FROM_EARLIEST:
		err = rxl_reader_seek(r, off.log_start);
		break;
	case CLI_FROM_LATEST:
		err = rxl_reader_seek(r, off.hwm);
		break;
	case CLI_FROM_OFFSET:
		if (o->from_offset < off.log_start || o->from_offset > off.hwm) {
			cli_err(cmd,
				"offset %" PRIu64 " is out of range for %s-%" PRIu32
				": valid offsets are %" PRIu64 " to %" PRIu64 " (log start %" PRIu64
				", end %" PRIu64 "); or use --from earliest|latest",
				o->from_offset, o->topic, p, off.log_start, off.hwm, off.log_start,
				off.hwm);
			return -ERANGE;
		}
		err = rxl_reader_seek(r, o->from_offset);
		break;
	default:
		err = rxl_reader_seek_time(r, o->from_time, &at);
		break;
	}
	if (err)
		cli_err(cmd, "%s-%" PRIu32 ": %s", o->topic, p, rxl_err_msg());
	return err;
}

static void print_record(const struct cli_cat_opts *o, uint32_t p, const struct rxl_record *rec)
{
	if (o->format == CLI_FMT_JSON) {
		cli_print_json(stdout, o->topic, p, rec, o->base64);
		return;
	}
	if (o->base64)
		cli_base64(stdout, rec->value, rec->value_len, false);
	else if (rec->value_len > 0)
		fwrite(rec->value, 1, (size_t)rec->value_len, stdout);
	fputc('\n', stdout);
}

int cli_cat_run(const char *cmd, struct rxlog *rx, const struct cli_cat_opts *o)
{
	int np = cli_partitions(cmd, rx, o->topic), rc = CLI_OK;
	uint64_t printed = 0;

	if (np < 0)
		return CLI_FAIL;
	if (!o->all_partitions && cli_check_partition(cmd, o->topic, (uint32_t)np, o->partition))
		return CLI_FAIL;
	uint32_t n = o->all_partitions ? (uint32_t)np : 1;
	struct rxl_reader **rs = calloc(n, sizeof(*rs));
	struct rxl_record *head = calloc(n, sizeof(*head));
	bool *have = calloc(n, sizeof(*have));
	uint32_t *pn = calloc(n, sizeof(*pn)); /* partition of rs[i] */

	if (!rs || !head || !have || !pn) {
		cli_err(cmd, "out of memory");
		rc = CLI_FAIL;
		goto free_arrays;
	}
	uint32_t opened = 0;

	for (uint32_t k = 0; k < n; k++) {
		uint32_t p = o->all_partitions ? k : o->partition;
		int err = rxlog_reader_open(rx, o->topic, p, &rs[opened]);

		if (err == -ENOENT && o->all_partitions)
			continue; /* a sparse topic (dead letters): never written */
		if (err) {
			cli_err(cmd, "%s", rxl_err_msg());
			rc = CLI_FAIL;
			goto close_readers;
		}
		pn[opened] = p;
		if (position(cmd, o, p, rs[opened++])) {
			rc = CLI_FAIL;
			goto close_readers;
		}
	}
	n = opened;
	while (!o->count || printed < o->count) {
		uint32_t best = n;

		for (uint32_t i = 0; i < n; i++) {
			uint32_t p = pn[i];

			if (!have[i]) {
				int got = rxl_reader_next(rs[i], &head[i]);

				if (got == -ERANGE) {
					/* Retention removed what we were about to read. */
					struct rxl_log_offsets off;
					uint64_t at = rxl_reader_position(rs[i]);

					rxl_reader_offsets(rs[i], &off);
					cli_err(cmd,
						"%s-%" PRIu32 ": offsets %" PRIu64 " to %" PRIu64
						" were removed by retention before they were read; "
						"continuing at %" PRIu64,
						o->topic, p, at, off.log_start - 1, off.log_start);
					if (rxl_reader_seek(rs[i], off.log_start) == 0)
						got = rxl_reader_next(rs[i], &head[i]);
				}
				if (got < 0) {
					cli_err(cmd, "%s-%" PRIu32 ": %s", o->topic, p,
						rxl_err_msg());
					rc = CLI_FAIL;
					goto close_readers;
				}
				have[i] = got == 1;
			}
			if (have[i] &&
			    (best == n || head[i].timestamp_ms < head[best].timestamp_ms))
				best = i;
		}
		if (best < n) {
			print_record(o, pn[best], &head[best]);
			have[best] = false;
			printed++;
			continue;
		}
		if (!o->follow || cli_stopping())
			break;
		fflush(stdout);
		int w = n == 1 ? rxl_reader_wait(rs[0], FOLLOW_WAIT_MS)
			       : rxl_reader_wait_any(rs, n, FOLLOW_WAIT_MS);

		if (w < 0 && w != -ETIMEDOUT && w != -EINTR) {
			cli_err(cmd, "waiting for records: %s", strerror(-w));
			rc = CLI_FAIL;
			break;
		}
		if (cli_stopping())
			break;
	}
close_readers:
	for (uint32_t i = 0; i < n; i++)
		rxl_reader_close(rs[i]);
free_arrays:
	free(rs);
	free(head);
	free(have);
	free(pn);
	if (fflush(stdout) != 0 && rc == CLI_OK) {
		cli_err(cmd, "writing the output failed");
		rc = CLI_FAIL;
	}
	return rc;
}

int cli_cat(int argc, char **argv)
{
	static const struct option opts[] = {
		{"topic", required_argument, NULL, 't'},
		{"partition", required_argument, NULL, 'p'},
		{"from-offset", required_argument, NULL, 'o'},
		{"from-time", required_argument, NULL, 'T'},
		{"from", required_argument, NULL, 'F'},
		{"count", required_argument, NULL, 'c'},
		{"follow", no_argument, NULL, 'f'},
		{"format", required_argument, NULL, 'm'},
		{"base64", no_argument, NULL, 'b'},
		CLI_OPTIONS_SHARED,
		{0},
	};
	const char *cmd = "cat", *data = NULL;
	struct cli_cat_opts o = {.all_partitions = true};
	int c, starts = 0, rc;

	while ((c = getopt_long(argc, argv, ":t:p:o:T:F:c:fm:bd:h", opts, NULL)) != -1) {
		switch (c) {
		case 't':
			o.topic = optarg;
			break;
		case 'p':
			if (cli_parse_u32(optarg, UINT32_MAX, &o.partition))
				return cli_usage_err(cmd, "--partition wants a number, not \"%s\"",
						     optarg);
			o.all_partitions = false;
			break;
		case 'o':
			if (cli_parse_u64(optarg, &o.from_offset))
				return cli_usage_err(
					cmd, "--from-offset wants a number, not \"%s\"", optarg);
			o.from = CLI_FROM_OFFSET;
			starts++;
			break;
		case 'T':
			if (cli_opt_time(cmd, "--from-time", optarg, &o.from_time))
				return CLI_USAGE;
			o.from = CLI_FROM_TIME;
			starts++;
			break;
		case 'F':
			if (!strcmp(optarg, "earliest"))
				o.from = CLI_FROM_EARLIEST;
			else if (!strcmp(optarg, "latest"))
				o.from = CLI_FROM_LATEST;
			else
				return cli_usage_err(
					cmd, "--from wants earliest or latest, not \"%s\"", optarg);
			starts++;
			break;
		case 'c':
			if (cli_parse_u64(optarg, &o.count) || !o.count)
				return cli_usage_err(cmd, "--count wants a number >= 1, not \"%s\"",
						     optarg);
			break;
		case 'f':
			o.follow = true;
			break;
		case 'm':
			if (!strcmp(optarg, "value"))
				o.format = CLI_FMT_VALUE;
			else if (!strcmp(optarg, "json"))
				o.format = CLI_FMT_JSON;
			else
				return cli_usage_err(
					cmd, "--format wants value or json, not \"%s\"", optarg);
			break;
		case 'b':
			o.base64 = true;
			break;
		default:
			if ((rc = cli_opt_shared(cmd, c, argv, usage, &data)) != CLI_OPT_NEXT)
				return rc;
		}
	}
	if (cli_no_operands(cmd, argc, argv, NULL))
		return CLI_USAGE;
	if (!o.topic)
		return cli_usage_err(cmd, "name the topic: --topic T (rxlog topics lists them)");
	if (starts > 1)
		return cli_usage_err(cmd, "give one of --from-offset, --from-time, --from");
	if (o.from == CLI_FROM_OFFSET && o.all_partitions)
		return cli_usage_err(cmd,
				     "--from-offset needs --partition (offsets are per "
				     "partition); for every partition use --from-time or --from");
	struct rxlog *rx;

	rc = cli_open(cmd, data, &rx);
	if (rc)
		return rc;
	if (o.follow)
		cli_signals_install();
	rc = cli_cat_run(cmd, rx, &o);
	rxlog_close(rx);
	return rc;
}
