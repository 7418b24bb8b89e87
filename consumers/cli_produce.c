/* consumers: `rxlog produce` — the console producer: one record per line of
 * stdin, appended directly to partitions no other process writes.
 * Main thread only.
 *
 * P1 One writer per partition: every partition this run may write is opened
 *    (rxl_log_open(), which takes its writer lock) before the first line is
 *    read, so a refused partition fails the run before anything is written.
 * P2 Visibility: records become visible when stdin has nothing more to read
 *    right now (interactive use: line by line), and at the end, where they
 *    are also fdatasync'd. Batch boundaries therefore depend only on the
 *    input when stdin is a file.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <stdio.h>

#include "cli_pvt.h"
#include "rxl_err.h"

#define MAX_HEADERS 32
#define MAX_PARTITIONS 100000

/* clang-format off: the usage text is laid out as printed */
static void usage(FILE *f)
{
	fprintf(f,
		"usage: rxlog produce --topic T [--partition P] [--key K | --key-separator SEP]\n"
		"                     [--partitions N] [--timestamp-ms MS] [--header "
		"NAME=VALUE]...\n"
		"                     [--data DIR]\n"
		"\n"
		"Append one record per line of stdin to topic T (the line without its\n"
		"newline is the value; an empty line is an empty value).\n"
		"\n"
		"  --key K             every record gets key K; partition chosen from it\n"
		"  --key-separator SEP each line is KEY SEP VALUE (split at the first SEP; a\n"
		"                      line without SEP is an error), partition from the key\n"
		"  (neither)           no key; records go round robin from partition 0\n"
		"  --partition P       every record to partition P, whatever its key\n"
		"  --partitions N      create T with N partitions when it does not exist (an\n"
		"                      unknown topic is refused without it); for an existing\n"
		"                      topic N must match its partition count\n"
		"  --timestamp-ms MS   record timestamp (default: the current time)\n"
		"  --header NAME=VALUE add this header to every record (repeatable)\n"
		"  --data DIR          data directory (default $RXLOG_DATA)\n"
		"\n"
		"When a running rxlogd owns topic T (it writes <data>/__rxlogd/T), the records\n"
		"go to it as datagrams instead, and rxlogd chooses the partition: native\n"
		"listeners get native datagrams (no --header), lines listeners lines, others\n"
		"one datagram per line; --partition is refused then.\n"
		"\n"
		"Partition of a keyed record = toPositive(murmur2(key)) %% partitions, with\n"
		"Kafka's murmur2 and toPositive(x) = x & 0x7fffffff: the partition Kafka's\n"
		"default partitioner picks for the same key bytes and partition count.\n"
		"\n"
		"One writer per partition: rxlog appends directly, taking the partition's\n"
		"writer lock, and every partition the run may write is locked before the\n"
		"first record. When another process (an rxlogd, another producer) writes a\n"
		"partition, rxlog refuses and names it; records for that partition go to the\n"
		"rxlogd that owns it. Records become visible whenever stdin pauses, and are\n"
		"fdatasync'd at the end (EOF, SIGINT or SIGTERM); through rxlogd they are\n"
		"sent whenever stdin pauses. Prints nothing on success.\n"
		"Exit status: 0 ok, 1 refused or failed (records read before a failure are\n"
		"kept), 2 bad usage.\n");
}
/* clang-format on */

struct producer {
	const char *cmd, *topic;
	uint32_t np;
	struct rxl_log **logs; /* [np], NULL where not opened */
	bool *dirty;	       /* [np] records appended since the last drain */
};

/* Line reader over fd 0 that knows when its buffer is empty (P2). */
struct lines {
	char *buf;
	size_t cap, start, end;
	bool eof;
};

static int drain_all(void *arg)
{
	struct producer *pr = arg;

	for (uint32_t p = 0; p < pr->np; p++) {
		if (!pr->dirty[p])
			continue;
		int err = rxl_log_drain(pr->logs[p]);

		if (err) {
			cli_err(pr->cmd, "%s-%" PRIu32 ": %s", pr->topic, p, rxl_err_msg());
			return err;
		}
		pr->dirty[p] = false;
	}
	return 0;
}

/* The next line into @line and @len (no newline); @idle(@arg) runs when
 * nothing is buffered and stdin has nothing to read now (P2).
 * Returns: 1, 0 at EOF, -errno (also @idle's). */
static int next_line(struct lines *in, int (*idle)(void *), void *arg, char **line, size_t *len)
{
	for (;;) {
		char *nl = memchr(in->buf + in->start, '\n', in->end - in->start);

		if (nl) {
			*line = in->buf + in->start;
			*len = (size_t)(nl - *line);
			in->start += *len + 1;
			return 1;
		}
		if (in->eof) {
			if (in->start == in->end)
				return 0;
			*line = in->buf + in->start; /* last line without a newline */
			*len = in->end - in->start;
			in->start = in->end;
			return 1;
		}
		if (in->start > 0) {
			memmove(in->buf, in->buf + in->start, in->end - in->start);
			in->end -= in->start;
			in->start = 0;
		}
		if (in->end == in->cap) {
			size_t nc = in->cap * 2;
			char *nb = realloc(in->buf, nc);

			if (!nb)
				return -ENOMEM;
			in->buf = nb;
			in->cap = nc;
		}
		/* P2: nothing buffered and nothing to read now: publish first. */
		struct pollfd pfd = {.fd = 0, .events = POLLIN};

		if (poll(&pfd, 1, 0) == 0) {
			int err = idle(arg);

			if (err)
				return err;
		}
		if (cli_stopping())
			return -EINTR;
		ssize_t n = read(0, in->buf + in->end, in->cap - in->end);

		if (n < 0) {
			if (errno == EINTR && !cli_stopping())
				continue;
			return -errno;
		}
		if (n == 0)
			in->eof = true;
		in->end += (size_t)n;
	}
}

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Open partition @only, or every partition when @only < 0 (P1). */
static int open_partitions(struct producer *pr, struct rxlog *rx, int only)
{
	for (uint32_t p = 0; p < pr->np; p++) {
		if (only >= 0 && (uint32_t)only != p)
			continue;
		int err = cli_writer_open(pr->cmd, rx, pr->topic, p, &pr->logs[p]);

		if (err)
			return err;
	}
	return 0;
}

/* produce_via_rxlogd()'s idle step: send what is packed. */
static int sender_flush(void *arg)
{
	return cli_sender_flush("produce", arg); /* a failure says why, sets ->failed */
}

/* Send stdin's lines to the rxlogd that owns the topic, as datagrams of
 * its listener's format. Like the direct path (P2), what was read is sent
 * whenever stdin pauses, so a slow stream (tail -f) is not held back until
 * a datagram fills; each record is stamped when read unless @ts >= 0. */
static int produce_via_rxlogd(const char *cmd, const char *topic, const struct cli_rxlogd *o,
			      const char *key, const char *sep, int64_t ts)
{
	struct cli_sender *s = malloc(sizeof(*s));
	struct lines in = {.cap = 64 * 1024};
	uint64_t lineno = 0;
	int err;

	in.buf = malloc(in.cap);
	if (!s || !in.buf) {
		free(s);
		free(in.buf);
		return CLI_FAIL;
	}
	err = cli_sender_open(cmd, s, o);
	if (!err)
		cli_signals_install();
	while (!err) {
		char *line = NULL, *at;
		size_t len = 0;

		err = next_line(&in, sender_flush, s, &line, &len);
		if (err == 0 || err == -EINTR) {
			err = 0;
			break;
		}
		if (err < 0) {
			if (!s->failed)
				cli_err(cmd, "reading stdin: %s", strerror(-err));
			break;
		}
		lineno++;
		const char *k = key, *v = line;
		size_t kl = key ? strlen(key) : 0, vl = len;

		if (sep) {
			if (!(at = memmem(line, len, sep, strlen(sep)))) {
				cli_err(cmd,
					"line %" PRIu64 " has no key separator \"%s\"; the "
					"records before it are sent",
					lineno, sep);
				err = -EINVAL;
				break;
			}
			k = line;
			kl = (size_t)(at - line);
			v = at + strlen(sep);
			vl = len - kl - strlen(sep);
		}
		err = cli_sender_add(cmd, s, k, k ? (int32_t)kl : -1, v, (int32_t)vl,
				     ts >= 0 ? ts : now_ms());
	}
	/* What was read before a refused line still goes out, as on the
	 * direct path ("the records before it are written"); after a failed
	 * send nothing more is tried. */
	if (!s->failed) {
		int ferr = cli_sender_flush(cmd, s);

		err = err ? err : ferr;
	}
	if (!err)
		fprintf(stderr,
			"rxlog produce: sent %" PRIu64
			" record(s) to rxlogd (pid %ld) on udp %s:%u, "
			"which owns topic %s; they are visible once it writes them\n",
			s->sent, o->pid, o->addr, o->port, topic);
	cli_sender_close(s);
	free(s);
	free(in.buf);
	return err ? CLI_FAIL : CLI_OK;
}

int cli_produce(int argc, char **argv)
{
	static const struct option opts[] = {
		{"topic", required_argument, NULL, 't'},
		{"partition", required_argument, NULL, 'p'},
		{"key", required_argument, NULL, 'k'},
		{"key-separator", required_argument, NULL, 's'},
		{"partitions", required_argument, NULL, 'n'},
		{"timestamp-ms", required_argument, NULL, 'T'},
		{"header", required_argument, NULL, 'H'},
		CLI_OPTIONS_SHARED,
		{0},
	};
	const char *cmd = "produce", *data = NULL, *key = NULL, *sep = NULL;
	struct producer pr = {.cmd = cmd};
	struct rxl_header hdr[MAX_HEADERS];
	uint32_t nh = 0, want_np = 0, part = 0;
	bool have_part = false, have_ts = false;
	uint64_t ts_arg = 0, lineno = 0, rr = 0;
	struct lines in = {0};
	struct rxlog *rx;
	int c, rc, err = 0;

	while ((c = getopt_long(argc, argv, ":t:p:k:s:n:T:H:d:h", opts, NULL)) != -1) {
		switch (c) {
		case 't':
			pr.topic = optarg;
			break;
		case 'p':
			if (cli_parse_u32(optarg, MAX_PARTITIONS - 1, &part))
				return cli_usage_err(cmd, "--partition wants a number, not \"%s\"",
						     optarg);
			have_part = true;
			break;
		case 'k':
			key = optarg;
			break;
		case 's':
			if (!*optarg)
				return cli_usage_err(cmd, "--key-separator must not be empty");
			sep = optarg;
			break;
		case 'n':
			if (cli_parse_u32(optarg, MAX_PARTITIONS, &want_np) || !want_np)
				return cli_usage_err(cmd, "--partitions wants 1 to %d, not \"%s\"",
						     MAX_PARTITIONS, optarg);
			break;
		case 'T':
			if (cli_parse_u64(optarg, &ts_arg) || ts_arg > INT64_MAX)
				return cli_usage_err(cmd,
						     "--timestamp-ms wants milliseconds since "
						     "the epoch, not \"%s\"",
						     optarg);
			have_ts = true;
			break;
		case 'H': {
			const char *eq = strchr(optarg, '=');

			if (!eq || eq == optarg)
				return cli_usage_err(cmd, "--header wants NAME=VALUE, not \"%s\"",
						     optarg);
			if (nh == MAX_HEADERS)
				return cli_usage_err(cmd, "at most %d --header options",
						     MAX_HEADERS);
			hdr[nh++] = (struct rxl_header){.key = optarg,
							.key_len = (int32_t)(eq - optarg),
							.value = eq + 1,
							.value_len = (int32_t)strlen(eq + 1)};
			break;
		}
		default:
			if ((rc = cli_opt_shared(cmd, c, argv, usage, &data)) != CLI_OPT_NEXT)
				return rc;
		}
	}
	if (cli_no_operands(cmd, argc, argv, "records come from stdin"))
		return CLI_USAGE;
	if (!pr.topic)
		return cli_usage_err(cmd, "name the topic: --topic T");
	if (key && sep)
		return cli_usage_err(cmd, "give --key or --key-separator, not both");
	if (cli_check_name(cmd, "topic", pr.topic))
		return CLI_USAGE;
	rc = cli_open(cmd, data, &rx);
	if (rc)
		return rc;
	struct cli_rxlogd owner;

	/* One writer per partition: a topic rxlogd owns goes through rxlogd. */
	if (cli_rxlogd_owner(rxlog_dir(rx), pr.topic, &owner)) {
		if (have_part)
			rc = cli_usage_err(cmd,
					   "rxlogd (pid %ld) owns topic %s and chooses the "
					   "partition by key; drop --partition",
					   owner.pid, pr.topic);
		else if (nh && !strcmp(owner.format, "native"))
			rc = cli_usage_err(cmd, "native datagrams carry no headers; drop --header");
		else
			rc = produce_via_rxlogd(cmd, pr.topic, &owner, key, sep,
						have_ts ? (int64_t)ts_arg : -1);
		rxlog_close(rx);
		return rc;
	}
	int np = rxlog_partitions(rx, pr.topic);
	bool create = np == -ENOENT;

	if (np < 0 && !create) {
		cli_err(cmd, "%s", rxl_err_msg());
		rc = CLI_FAIL;
		goto close_rx;
	}
	if (create && !want_np) {
		cli_err(cmd,
			"unknown topic \"%s\" in %s (rxlog topics lists them); to create it, "
			"pass --partitions N",
			pr.topic, rxlog_dir(rx));
		rc = CLI_FAIL;
		goto close_rx;
	}
	if (!create && want_np && (uint32_t)np != want_np) {
		cli_err(cmd,
			"topic %s exists with %d partition(s), not %" PRIu32 "; drop "
			"--partitions (it only applies when creating a topic)",
			pr.topic, np, want_np);
		rc = CLI_FAIL;
		goto close_rx;
	}
	pr.np = create ? want_np : (uint32_t)np;
	if (have_part && cli_check_partition(cmd, pr.topic, pr.np, part)) {
		rc = CLI_FAIL;
		goto close_rx;
	}
	if (key && !have_part)
		part = cli_key_partition((const uint8_t *)key, strlen(key), pr.np);
	pr.logs = calloc(pr.np, sizeof(*pr.logs));
	pr.dirty = calloc(pr.np, sizeof(*pr.dirty));
	in.cap = 64 * 1024;
	in.buf = malloc(in.cap);
	if (!pr.logs || !pr.dirty || !in.buf) {
		cli_err(cmd, "out of memory");
		rc = CLI_FAIL;
		goto free_all;
	}
	/* P1; a new topic gets all its partitions now, so it has N from the start. */
	err = open_partitions(&pr, rx, create || (!have_part && !key) ? -1 : (int)part);
	if (err) {
		rc = CLI_FAIL;
		goto close_logs;
	}
	cli_signals_install();
	for (;;) {
		char *line = NULL, *val;
		size_t len = 0, vlen;
		const char *k = key;
		int32_t klen = key ? (int32_t)strlen(key) : -1;
		uint32_t p = part;

		err = next_line(&in, drain_all, &pr, &line, &len);
		if (err == -EINTR || err == 0)
			break;
		if (err < 0) {
			cli_err(cmd, "reading stdin: %s", strerror(-err));
			break;
		}
		lineno++;
		val = line;
		vlen = len;
		if (sep) {
			char *s = memmem(line, len, sep, strlen(sep));

			if (!s) {
				cli_err(cmd,
					"line %" PRIu64 " has no key separator \"%s\"; the "
					"records before it are written",
					lineno, sep);
				err = -EINVAL;
				break;
			}
			k = line;
			klen = (int32_t)(s - line);
			val = s + strlen(sep);
			vlen = len - (size_t)klen - strlen(sep);
			if (!have_part)
				p = cli_key_partition((const uint8_t *)k, (size_t)klen, pr.np);
		} else if (!have_part && !key) {
			p = (uint32_t)(rr++ % pr.np);
		}
		if (len > INT32_MAX) {
			cli_err(cmd, "line %" PRIu64 " is too long", lineno);
			err = -EMSGSIZE;
			break;
		}
		struct rxl_record_in rec = {
			.key = k,
			.key_len = klen,
			.value = val,
			.value_len = (int32_t)vlen,
			.timestamp_ms = have_ts ? (int64_t)ts_arg : now_ms(),
			.headers = hdr,
			.n_headers = nh,
		};
		char pname[300];

		snprintf(pname, sizeof(pname), "%s-%" PRIu32, pr.topic, p);
		err = cli_append(cmd, pr.logs[p], pname, &rec, NULL);
		if (err) {
			cli_err(cmd, "line %" PRIu64 " was not written; the records before it are",
				lineno);
			break;
		}
		pr.dirty[p] = true;
	}
	if (err < 0 && err != -EINTR)
		rc = CLI_FAIL;
close_logs:
	if (cli_writers_close(cmd, pr.topic, pr.logs, pr.np)) /* fdatasync'd, locks released */
		rc = CLI_FAIL;
free_all:
	free(in.buf);
	free(pr.logs);
	free(pr.dirty);
close_rx:
	rxlog_close(rx);
	return rc;
}
