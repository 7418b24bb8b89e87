/* consumers: `rxlog dlq list|show|redrive` — inspect a group's dead-letter
 * topic <topic>.dlq.<group> and send its records back to where they came from.
 * Main thread only.
 *
 * D1 Redrive progress is a committed offset of group "__redrive.<group>" on
 *    the dead-letter topic (an ordinary consumer-group offset, so
 *    `rxlog groups` shows it and `rxlog groups reset` can rewind it). Per
 *    dead-letter partition the records from that offset to the end are
 *    appended to their original topic/partition (headers dlq.topic,
 *    dlq.partition), the targets are fdatasync'd, and only then is the
 *    offset committed past them: a crash in between redrives those records
 *    again (at-least-once), never loses them.
 * D2 A redriven record keeps its key, value, timestamp and headers, minus the
 *    dlq.* headers the dead-lettering added.
 * D3 Targets are appended directly, under the one-writer rule
 *    (cli_writer_open()): a partition another process writes is refused,
 *    progress up to the last record appended is kept.
 * D4 When a running rxlogd owns the topic (its registry file), the records
 *    go to it as datagrams of its listener's format instead (cli_sender),
 *    and rxlogd picks the partition by key. UDP gives no receipt, so
 *    progress moves only past records seen in the topic: after each round
 *    of up to REDRIVE_ROUND records, the topic is read from the end offsets
 *    taken before sending until every record sent shows up (same key and
 *    value) or CONFIRM_MS pass; the offset is committed up to the first
 *    record not seen, which stays pending for the next run. Headers do not
 *    travel (syslog: rxlogd derives them again from the message; native:
 *    none).
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli_pvt.h"
#include "rxl_err.h"

#define LIST_FMT "%-32s %9s %12s %12s %12s %12s %12s\n"
#define MAX_HEADERS 64
#define REDRIVE_ROUND 256
#define CONFIRM_MS 5000

/* clang-format off: the usage text is laid out as printed */
static void usage(FILE *f)
{
	fprintf(f, "usage: rxlog dlq list --group G --topic T [--data DIR]\n"
		   "       rxlog dlq show --group G --topic T [--partition P] [--count N]\n"
		   "                      [--format json|value] [--base64] [--data DIR]\n"
		   "       rxlog dlq redrive --group G --topic T [--data DIR]\n"
		   "\n"
		   "Records that group G dead-lettered on topic T are in topic T.dlq.G\n"
		   "(partition p holds those of T's partition p), with headers dlq.topic,\n"
		   "dlq.partition, dlq.offset, dlq.attempts, dlq.reason and dlq.time (ms).\n"
		   "\n"
		   "list     a header line, then per partition of T.dlq.G, fields separated\n"
		   "         by spaces: TOPIC (T.dlq.G) PARTITION START END RECORDS (END -\n"
		   "         START) REDRIVEN (records already sent back) PENDING (RECORDS -\n"
		   "         REDRIVEN)\n"
		   "show     the dead-lettered records as `rxlog cat --format json` prints\n"
		   "         them (every partition merged by timestamp), dlq.* headers included\n"
		   "redrive  append each record not yet redriven to its original topic and\n"
		   "         partition (from its dlq.topic and dlq.partition headers) with its\n"
		   "         key, value, timestamp and headers minus the dlq.* ones; prints\n"
		   "         one line per record, \"T.dlq.G-P@OFFSET -> TOPIC-P@NEWOFFSET\",\n"
		   "         then \"redriven N record(s)\". Progress is the committed offset of\n"
		   "         group __redrive.G on T.dlq.G, stored after the records are\n"
		   "         fdatasync'd: running redrive again sends only newer dead letters,\n"
		   "         and a crash in between may send some twice, never none. To redrive\n"
		   "         again from the start: rxlog groups reset --group __redrive.G\n"
		   "         --topic T.dlq.G --to-earliest. One writer per partition: a target\n"
		   "         partition another process writes is refused. When a running\n"
		   "         rxlogd owns T, the records go to it as datagrams of its listener's\n"
		   "         format instead (no headers; rxlogd picks the partition by key),\n"
		   "         each line ends with \" (via rxlogd)\", and progress moves only past\n"
		   "         records seen back in T within 5 s; the rest stay pending.\n"
		   "\n"
		   "When G never dead-lettered anything on T (no topic T.dlq.G), list prints\n"
		   "only the header, show and redrive print nothing; all exit 0. Exit status:\n"
		   "0 ok, 1 failed (unknown topic T, a refused or failed write), 2 bad usage.\n");
}
/* clang-format on */

struct dlq_args {
	const char *group, *topic, *data;
	char dlq[600], redrive_group[300];
	struct cli_cat_opts cat;
};

/* Whether T.dlq.G exists; prints and returns -errno for an unknown T. */
static int dlq_partitions(const char *cmd, struct rxlog *rx, const struct dlq_args *a)
{
	if (cli_partitions(cmd, rx, a->topic) < 0)
		return -ENOENT;
	int n = rxlog_partitions(rx, a->dlq);

	return n == -ENOENT ? 0 : n;
}

static int do_list(const char *cmd, struct rxlog *rx, const struct dlq_args *a)
{
	int np = dlq_partitions(cmd, rx, a), rc = CLI_OK;

	if (np < 0)
		return CLI_FAIL;
	printf(LIST_FMT, "TOPIC", "PARTITION", "START", "END", "RECORDS", "REDRIVEN", "PENDING");
	for (uint32_t p = 0; p < (uint32_t)np; p++) {
		struct rxl_log_offsets o;
		uint64_t done;
		char f[6][24];

		if (cli_offsets(rx, a->dlq, p, &o)) {
			cli_err(cmd, "%s", rxl_err_msg());
			rc = CLI_FAIL;
			continue;
		}
		if (rxlog_offset_fetch(rx, a->redrive_group, a->dlq, p, &done) ||
		    done < o.log_start)
			done = o.log_start;
		if (done > o.hwm)
			done = o.hwm;
		snprintf(f[0], sizeof(f[0]), "%" PRIu32, p);
		snprintf(f[1], sizeof(f[1]), "%" PRIu64, o.log_start);
		snprintf(f[2], sizeof(f[2]), "%" PRIu64, o.hwm);
		snprintf(f[3], sizeof(f[3]), "%" PRIu64, o.hwm - o.log_start);
		snprintf(f[4], sizeof(f[4]), "%" PRIu64, done - o.log_start);
		snprintf(f[5], sizeof(f[5]), "%" PRIu64, o.hwm - done);
		printf(LIST_FMT, a->dlq, f[0], f[1], f[2], f[3], f[4], f[5]);
	}
	return rc;
}

/* The value of header @name as a number. Returns: 0 or -ENOENT/-EINVAL. */
static int header_num(const struct rxl_record *rec, const char *name, uint64_t *v)
{
	const uint8_t *it = rec->headers;
	struct rxl_header h;
	size_t nl = strlen(name);

	while (rxl_header_next(rec, &it, &h) == 1) {
		char buf[24];

		if ((size_t)h.key_len != nl || memcmp(h.key, name, nl))
			continue;
		if (h.value_len <= 0 || h.value_len >= (int32_t)sizeof(buf))
			return -EINVAL;
		memcpy(buf, h.value, (size_t)h.value_len);
		buf[h.value_len] = '\0';
		return cli_parse_u64(buf, v);
	}
	return -ENOENT;
}

/* The value of header @name copied into @buf. Returns: 0 or -ENOENT/-EINVAL. */
static int header_str(const struct rxl_record *rec, const char *name, char *buf, size_t len)
{
	const uint8_t *it = rec->headers;
	struct rxl_header h;
	size_t nl = strlen(name);

	while (rxl_header_next(rec, &it, &h) == 1) {
		if ((size_t)h.key_len != nl || memcmp(h.key, name, nl))
			continue;
		if (h.value_len <= 0 || (size_t)h.value_len >= len)
			return -EINVAL;
		memcpy(buf, h.value, (size_t)h.value_len);
		buf[h.value_len] = '\0';
		return 0;
	}
	return -ENOENT;
}

/* Open writers of the original topic, by partition (D3). */
struct targets {
	char topic[256];
	uint32_t np;
	struct rxl_log **logs;
};

static int target_log(const char *cmd, struct rxlog *rx, struct targets *t, const char *topic,
		      uint32_t p, struct rxl_log **out)
{
	if (strcmp(t->topic, topic)) {
		cli_err(cmd,
			"a record names topic %s in its dlq.topic header, not %s; redrive "
			"only sends records back to %s",
			topic, t->topic, t->topic);
		return -EINVAL;
	}
	if (p >= t->np) {
		cli_err(cmd,
			"a record comes from partition %" PRIu32 " of %s, which has %" PRIu32
			" partition(s) now",
			p, topic, t->np);
		return -ERANGE;
	}
	if (!t->logs[p]) {
		int err = cli_writer_open(cmd, rx, topic, p, &t->logs[p]);

		if (err)
			return err;
	}
	*out = t->logs[p];
	return 0;
}

static int sync_targets(const char *cmd, struct targets *t)
{
	int rc = 0;

	for (uint32_t p = 0; p < t->np; p++)
		if (t->logs[p] && rxl_log_sync(t->logs[p])) {
			cli_err(cmd, "%s-%" PRIu32 ": %s", t->topic, p, rxl_err_msg());
			rc = -EIO;
		}
	return rc;
}

/* Redrive partition @p of the DLQ from its D1 offset to the current end. */
static int redrive_part(const char *cmd, struct rxlog *rx, const struct dlq_args *a, uint32_t p,
			struct targets *t, uint64_t *count)
{
	struct rxl_reader *r;
	struct rxl_log_offsets o;
	struct rxl_record rec;
	uint64_t from, done;
	int err = rxlog_reader_open(rx, a->dlq, p, &r);

	if (err == -ENOENT)
		return 0; /* no dead letter ever went to this partition */
	if (err) {
		cli_err(cmd, "%s", rxl_err_msg());
		return err;
	}
	rxl_reader_offsets(r, &o);
	if (rxlog_offset_fetch(rx, a->redrive_group, a->dlq, p, &from) || from < o.log_start)
		from = o.log_start;
	if (from > o.hwm)
		from = o.hwm;
	done = from;
	err = rxl_reader_seek(r, from);
	while (!err && done < o.hwm) {
		int n = rxl_reader_next(r, &rec);

		if (n <= 0) {
			cli_err(cmd, "%s-%" PRIu32 " offset %" PRIu64 ": %s", a->dlq, p, done,
				n ? rxl_err_msg() : "vanished while reading");
			err = n ? n : -EIO;
			break;
		}
		char topic[256];
		uint64_t op;
		struct rxl_log *log;

		if (header_str(&rec, "dlq.topic", topic, sizeof(topic)) ||
		    header_num(&rec, "dlq.partition", &op) || op > UINT32_MAX) {
			cli_err(cmd,
				"%s-%" PRIu32 " offset %" PRIu64 ": no valid dlq.topic and "
				"dlq.partition headers; cannot tell where it came from",
				a->dlq, p, rec.offset);
			err = -EINVAL;
			break;
		}
		err = target_log(cmd, rx, t, topic, (uint32_t)op, &log);
		if (err)
			break;
		/* D2 */
		struct rxl_header h[MAX_HEADERS];
		uint32_t nh = 0;
		const uint8_t *it = rec.headers;

		while (nh < MAX_HEADERS && rxl_header_next(&rec, &it, &h[nh]) == 1)
			if (h[nh].key_len < 4 || memcmp(h[nh].key, "dlq.", 4))
				nh++;
		struct rxl_record_in in = {
			.key = rec.key,
			.key_len = rec.key_len,
			.value = rec.value,
			.value_len = rec.value_len,
			.timestamp_ms = rec.timestamp_ms,
			.headers = h,
			.n_headers = nh,
		};
		char pname[300];
		uint64_t at;

		snprintf(pname, sizeof(pname), "%s-%" PRIu64, topic, op);
		err = cli_append(cmd, log, pname, &in, &at);
		if (err)
			break;
		printf("%s-%" PRIu32 "@%" PRIu64 " -> %s@%" PRIu64 "\n", a->dlq, p, rec.offset,
		       pname, at);
		done = rec.offset + 1;
		(*count)++;
	}
	rxl_reader_close(r);
	/* D1: durable first, then the progress. */
	if (done > from) {
		int e = sync_targets(cmd, t);

		if (!e && (e = rxlog_offset_commit(rx, a->redrive_group, a->dlq, p, done)))
			cli_err(cmd, "%s", rxl_err_msg());
		if (!err)
			err = e;
	}
	return err;
}

/* One record of a D4 round: where it came from and where it landed. */
struct pending {
	uint64_t dlq_offset;
	const uint8_t *key, *value; /* into bytes: a reader's views last only while it
				       stays in their segment (rxl_reader_next) */
	int32_t key_len, value_len;
	bool seen;
	uint32_t at_part;
	uint64_t at_offset;
	uint8_t bytes[sizeof(((struct cli_sender *)0)->dgram)]; /* key, then value: what
								   cli_sender_add took fits */
};

static bool same_bytes(const uint8_t *a, int32_t al, const uint8_t *b, int32_t bl)
{
	return al == bl && (al <= 0 || !memcmp(a, b, (size_t)al));
}

static int64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* D4: read @topic from @start[] until every record of @pd[0..n) is seen or
 * CONFIRM_MS pass. Returns how many were seen, or -errno. */
static int confirm(const char *cmd, struct rxlog *rx, const char *topic, uint32_t np,
		   const uint64_t *start, bool keyed, struct pending *pd, uint32_t n)
{
	struct rxl_reader **r = calloc(np, sizeof(*r));
	int64_t deadline = mono_ms() + CONFIRM_MS;
	uint32_t seen = 0, first = 0;
	int err = r ? 0 : -ENOMEM;

	for (uint32_t q = 0; !err && q < np; q++)
		if (!(err = rxlog_reader_open(rx, topic, q, &r[q])))
			err = rxl_reader_seek(r[q], start[q]);
	while (!err && seen < n && mono_ms() < deadline) {
		bool any = false;

		for (uint32_t q = 0; !err && q < np; q++) {
			struct rxl_record rec;
			int k;

			while ((k = rxl_reader_next(r[q], &rec)) == 1) {
				any = true;
				/* Records arrive mostly in the order sent: look
				 * from the first one not seen yet. */
				for (uint32_t i = first; i < n; i++) {
					if (pd[i].seen ||
					    !same_bytes(pd[i].value, pd[i].value_len, rec.value,
							rec.value_len) ||
					    (keyed && !same_bytes(pd[i].key, pd[i].key_len, rec.key,
								  rec.key_len)))
						continue;
					pd[i].seen = true;
					pd[i].at_part = q;
					pd[i].at_offset = rec.offset;
					seen++;
					break;
				}
				while (first < n && pd[first].seen)
					first++;
			}
			if (k < 0)
				err = k;
		}
		if (!any && !err) {
			struct timespec ts = {0, 10 * 1000000};

			nanosleep(&ts, NULL);
		}
	}
	if (err)
		cli_err(cmd, "reading %s back: %s", topic, rxl_err_msg());
	for (uint32_t q = 0; r && q < np; q++)
		if (r[q])
			rxl_reader_close(r[q]);
	free(r);
	return err ? err : (int)seen;
}

/* D4: redrive partition @p of the DLQ through the rxlogd @o owning the topic. */
static int redrive_part_rxlogd(const char *cmd, struct rxlog *rx, const struct dlq_args *a,
			       uint32_t p, const struct cli_rxlogd *o, uint64_t *count)
{
	uint32_t np = (uint32_t)rxlog_partitions(rx, a->topic);
	uint64_t *start = calloc(np, sizeof(*start)), from, done;
	struct pending *pd = calloc(REDRIVE_ROUND, sizeof(*pd));
	struct cli_sender *s = malloc(sizeof(*s));
	struct rxl_log_offsets off;
	struct rxl_reader *r = NULL;
	const bool keyed = !strcmp(o->format, "native"); /* only native datagrams carry keys */
	int err = start && pd && s ? rxlog_reader_open(rx, a->dlq, p, &r) : -ENOMEM;

	if (s)
		s->fd = -1; /* closed at out: even when never opened */
	if (err == -ENOENT) {
		err = 0; /* no dead letter ever went to this partition */
		goto out;
	}
	if (err) {
		if (err != -ENOMEM)
			cli_err(cmd, "%s", rxl_err_msg());
		goto out;
	}
	if ((err = cli_sender_open(cmd, s, o))) /* prints its message */
		goto out;
	rxl_reader_offsets(r, &off);
	if (rxlog_offset_fetch(rx, a->redrive_group, a->dlq, p, &from) || from < off.log_start)
		from = off.log_start;
	done = from < off.hwm ? from : off.hwm;
	err = rxl_reader_seek(r, done);
	while (!err && done < off.hwm) {
		uint32_t n = 0;
		struct rxl_record rec;
		struct rxl_log_offsets t;

		for (uint32_t q = 0; q < np && !err; q++)
			if ((err = cli_offsets(rx, a->topic, q, &t)))
				cli_err(cmd, "%s", rxl_err_msg());
			else
				start[q] = t.hwm;
		while (!err && n < REDRIVE_ROUND && done + n < off.hwm) {
			int k = rxl_reader_next(r, &rec);
			char topic[256];

			if (k <= 0) {
				cli_err(cmd, "%s-%" PRIu32 ": %s", a->dlq, p,
					k ? rxl_err_msg() : "vanished while reading");
				err = k ? k : -EIO;
				break;
			}
			if (header_str(&rec, "dlq.topic", topic, sizeof(topic)) ||
			    strcmp(topic, a->topic)) {
				cli_err(cmd,
					"%s-%" PRIu32 " offset %" PRIu64 ": its dlq.topic header "
					"does not name %s",
					a->dlq, p, rec.offset, a->topic);
				err = -EINVAL;
				break;
			}
			err = cli_sender_add(cmd, s, rec.key, rec.key_len, rec.value, rec.value_len,
					     rec.timestamp_ms);
			if (err)
				break;
			/* Sent, so it fits: keep a copy for confirm() (the key
			 * only where it travels: native). */
			struct pending *q = &pd[n++];
			size_t kl = keyed && rec.key_len > 0 ? (size_t)rec.key_len : 0;

			*q = (struct pending){.dlq_offset = rec.offset,
					      .key_len = rec.key_len,
					      .value_len = rec.value_len};
			if (kl) /* null keys and values have no pointer to copy from */
				memcpy(q->bytes, rec.key, kl);
			if (rec.value_len > 0)
				memcpy(q->bytes + kl, rec.value, (size_t)rec.value_len);
			q->key = keyed && rec.key ? q->bytes : NULL;
			q->value = q->bytes + kl;
		}
		/* What was packed before a refused record still goes out, so
		 * that it can be confirmed; after a failed send nothing more is
		 * tried. */
		if (!s->failed) {
			int ferr = cli_sender_flush(cmd, s);

			err = err ? err : ferr;
		}
		/* Only what was sent can be confirmed; a send error ends the
		 * round after it. */
		int seen = n ? confirm(cmd, rx, a->topic, np, start, keyed, pd, n) : 0;
		uint32_t ok = 0;

		while (seen >= 0 && ok < n && pd[ok].seen) {
			printf("%s-%" PRIu32 "@%" PRIu64 " -> %s-%" PRIu32 "@%" PRIu64
			       " (via rxlogd)\n",
			       a->dlq, p, pd[ok].dlq_offset, a->topic, pd[ok].at_part,
			       pd[ok].at_offset);
			ok++;
		}
		if (ok) {
			done = pd[ok - 1].dlq_offset + 1;
			*count += ok;
			if (rxlog_offset_commit(rx, a->redrive_group, a->dlq, p, done)) {
				cli_err(cmd, "%s", rxl_err_msg());
				err = -EIO;
			}
		}
		if (seen < 0 && !err)
			err = seen;
		if (!err && ok < n) {
			cli_err(cmd,
				"%" PRIu32 " record(s) sent to rxlogd (pid %ld) did not show up in "
				"%s within %d ms (see rxlogd's drop counters); they stay pending: "
				"run redrive again",
				n - ok, o->pid, a->topic, CONFIRM_MS);
			err = -ETIMEDOUT;
		}
	}
out:
	if (s)
		cli_sender_close(s);
	if (r)
		rxl_reader_close(r);
	free(s);
	free(pd);
	free(start);
	return err;
}

static int do_redrive(const char *cmd, struct rxlog *rx, const struct dlq_args *a)
{
	int np = dlq_partitions(cmd, rx, a), err = 0;
	struct targets t = {0};
	uint64_t count = 0;

	if (np < 0)
		return CLI_FAIL;
	struct cli_rxlogd owner;

	if (cli_rxlogd_owner(rxlog_dir(rx), a->topic, &owner)) { /* D4 */
		for (uint32_t p = 0; p < (uint32_t)np && !err; p++)
			err = redrive_part_rxlogd(cmd, rx, a, p, &owner, &count);
		printf("redriven %" PRIu64 " record(s)\n", count);
		return err ? CLI_FAIL : CLI_OK;
	}
	snprintf(t.topic, sizeof(t.topic), "%s", a->topic);
	t.np = (uint32_t)rxlog_partitions(rx, a->topic);
	t.logs = calloc(t.np, sizeof(*t.logs));
	if (!t.logs)
		return CLI_FAIL;
	for (uint32_t p = 0; p < (uint32_t)np && !err; p++)
		err = redrive_part(cmd, rx, a, p, &t, &count);
	if (cli_writers_close(cmd, t.topic, t.logs, t.np))
		err = -EIO;
	free(t.logs);
	printf("redriven %" PRIu64 " record(s)\n", count);
	return err ? CLI_FAIL : CLI_OK;
}

int cli_dlq(int argc, char **argv)
{
	static const struct option opts[] = {
		{"group", required_argument, NULL, 'g'},
		{"topic", required_argument, NULL, 't'},
		{"partition", required_argument, NULL, 'p'},
		{"count", required_argument, NULL, 'c'},
		{"format", required_argument, NULL, 'm'},
		{"base64", no_argument, NULL, 'b'},
		CLI_OPTIONS_SHARED,
		{0},
	};
	char cmd[32] = "dlq";
	struct dlq_args a = {.cat = {.all_partitions = true, .format = CLI_FMT_JSON}};
	bool show_opts = false;
	struct rxlog *rx;
	int c, rc;

	if (argc > 1 && !strcmp(argv[1], "--help")) {
		usage(stdout);
		return CLI_OK;
	}
	if (argc < 2 ||
	    (strcmp(argv[1], "list") && strcmp(argv[1], "show") && strcmp(argv[1], "redrive")))
		return cli_usage_err(cmd, "name what to do: list, show or redrive");
	const char *sub = argv[1];

	snprintf(cmd, sizeof(cmd), "dlq %s", sub);
	argc--;
	argv++;
	while ((c = getopt_long(argc, argv, ":g:t:p:c:m:bd:h", opts, NULL)) != -1) {
		switch (c) {
		case 'g':
			a.group = optarg;
			break;
		case 't':
			a.topic = optarg;
			break;
		case 'p':
			if (cli_parse_u32(optarg, UINT32_MAX, &a.cat.partition))
				return cli_usage_err(cmd, "--partition wants a number, not \"%s\"",
						     optarg);
			a.cat.all_partitions = false;
			show_opts = true;
			break;
		case 'c':
			if (cli_parse_u64(optarg, &a.cat.count) || !a.cat.count)
				return cli_usage_err(cmd, "--count wants a number >= 1, not \"%s\"",
						     optarg);
			show_opts = true;
			break;
		case 'm':
			if (!strcmp(optarg, "value"))
				a.cat.format = CLI_FMT_VALUE;
			else if (!strcmp(optarg, "json"))
				a.cat.format = CLI_FMT_JSON;
			else
				return cli_usage_err(
					cmd, "--format wants json or value, not \"%s\"", optarg);
			show_opts = true;
			break;
		case 'b':
			a.cat.base64 = true;
			show_opts = true;
			break;
		default:
			if ((rc = cli_opt_shared(cmd, c, argv, usage, &a.data)) != CLI_OPT_NEXT)
				return rc;
		}
	}
	if (cli_no_operands(cmd, argc, argv, NULL))
		return CLI_USAGE;
	if (!a.group || !a.topic)
		return cli_usage_err(cmd, "name the group and the topic: --group G --topic T");
	if (show_opts && strcmp(sub, "show"))
		return cli_usage_err(cmd, "--partition, --count, --format and --base64 are "
					  "options of dlq show");
	if (cli_check_name(cmd, "group", a.group) || cli_check_name(cmd, "topic", a.topic))
		return CLI_USAGE;
	snprintf(a.dlq, sizeof(a.dlq), "%s.dlq.%s", a.topic, a.group);
	snprintf(a.redrive_group, sizeof(a.redrive_group), "__redrive.%s", a.group);
	if (strlen(a.dlq) > CLI_NAME_MAX || strlen(a.redrive_group) > CLI_NAME_MAX) {
		cli_err(cmd, "the dead-letter topic name %s is longer than %d characters", a.dlq,
			CLI_NAME_MAX);
		return CLI_USAGE;
	}
	a.cat.topic = a.dlq;
	rc = cli_open(cmd, a.data, &rx);
	if (rc)
		return rc;
	if (!strcmp(sub, "list")) {
		rc = do_list(cmd, rx, &a);
	} else if (!strcmp(sub, "redrive")) {
		rc = do_redrive(cmd, rx, &a);
	} else {
		int np = dlq_partitions(cmd, rx, &a);

		rc = np < 0 ? CLI_FAIL : np == 0 ? CLI_OK : cli_cat_run(cmd, rx, &a.cat);
	}
	rxlog_close(rx);
	return rc;
}
