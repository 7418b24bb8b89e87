/* consumers: `rxlog consume` — a consumer-group member that runs a command
 * once per record (value on stdin): at-least-once delivery for scripts.
 * Main thread plus one child process per record, run one at a time.
 *
 * C1 The verdict comes from the command's exit: 0 acks; 65 (EX_DATAERR,
 *    "the input is bad") rejects, so the record is dead-lettered at once;
 *    anything else (another status, death by a signal, 127 when it cannot
 *    be executed) asks for a retry, and after --max-attempts deliveries
 *    the group dead-letters it with reason "exit status N" or "killed by
 *    signal N". EX_TEMPFAIL (75) is an ordinary retry: it counts towards
 *    the limit, so a record whose handler keeps failing never blocks the
 *    partition.
 * C2 SIGINT/SIGTERM: the record in hand finishes (its command is waited
 *    for and settled; but a command that fails meanwhile, as one that got
 *    the terminal's ^C does, leaves its record unsettled rather than
 *    dead-lettered), then the member leaves the group cleanly (commits the
 *    settled offsets, releases its leases) and the tool exits 0.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cli_pvt.h"
#include "rxl_err.h"

#define EXIT_DATAERR 65 /* sysexits.h EX_DATAERR */
/* Poll slices: how late a signal that lands just before a wait is seen. */
#define POLL_SLICE_MS 500

/* clang-format off: the usage text is laid out as printed */
static void usage(FILE *f)
{
	fprintf(f,
		"usage: rxlog consume --group G --topic T [--member ID] [--max-attempts N]\n"
		"                     [--backoff-ms MS] [--reset earliest|latest|error]\n"
		"                     [--count N] [--idle-exit-ms MS] [--data DIR]\n"
		"                     [--] COMMAND [ARG...]\n"
		"\n"
		"Join consumer group G on topic T and run COMMAND once per record, one at a\n"
		"time, with the record's value on stdin (a seekable file) and these variables\n"
		"in its environment:\n"
		"  RXLOG_GROUP, RXLOG_TOPIC, RXLOG_PARTITION, RXLOG_OFFSET,\n"
		"  RXLOG_TIMESTAMP (ms since the epoch), RXLOG_ATTEMPT (1 for the first\n"
		"  delivery), RXLOG_KEY (only when the record has a key; cut at a NUL byte)\n"
		"\n"
		"COMMAND's exit status is the verdict:\n"
		"  0                  ack: done, the group's offset may move past it\n"
		"  65 (EX_DATAERR)    reject: the record is bad; dead-letter it now\n"
		"  anything else      retry after MS (doubled per attempt); after N\n"
		"                     deliveries the record goes to the dead-letter topic\n"
		"                     T.dlq.G with dlq.reason \"exit status S\" (or \"killed by\n"
		"                     signal S\"); 75 (EX_TEMPFAIL) is no exception\n"
		"Delivery is at-least-once: offsets are committed only past acked or\n"
		"dead-lettered records, so after a crash the records since the last commit\n"
		"run again. Partitions are shared with the group's other live members\n"
		"(docs/CONSUMERS.md).\n"
		"\n"
		"  --member ID         member id (default <hostname>-<pid>)\n"
		"  --max-attempts N    deliveries before dead-lettering (default 3)\n"
		"  --backoff-ms MS     first retry delay (default 10)\n"
		"  --reset WHERE       where a group without a committed offset starts:\n"
		"                      earliest (default), latest, or error\n"
		"  --count N           leave after N records were acked or dead-lettered\n"
		"  --idle-exit-ms MS   leave when no record came for MS milliseconds\n"
		"  --data DIR          data directory (default $RXLOG_DATA)\n"
		"\n"
		"Runs until SIGINT or SIGTERM (or --count / --idle-exit-ms): the record in\n"
		"hand finishes (if its command fails meanwhile, as after a terminal's ^C, the\n"
		"record is left to be delivered again, not counted as an attempt), the\n"
		"member commits and leaves the group, and the tool exits 0. Retries and\n"
		"dead letters are reported on stderr, and on leaving one line\n"
		"\"rxlog consume: N delivered, N acked, N retried, N dead-lettered\".\n"
		"Exit status: 0 ok, 1 the group or the topic failed, 2 bad usage.\n");
}
/* clang-format on */

static uint64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* Whether @prog can be run: a path that is executable, or a name in $PATH. */
static bool runnable(const char *prog)
{
	if (strchr(prog, '/'))
		return access(prog, X_OK) == 0;
	const char *path = getenv("PATH");
	char buf[4096];

	if (!path)
		path = "/usr/local/bin:/usr/bin:/bin";
	for (const char *s = path; *s;) {
		size_t l = strcspn(s, ":");
		struct stat sb;

		snprintf(buf, sizeof(buf), "%.*s/%s", (int)l, l ? s : ".", prog);
		if (stat(buf, &sb) == 0 && S_ISREG(sb.st_mode) && access(buf, X_OK) == 0)
			return true;
		s += l;
		if (*s == ':')
			s++;
	}
	return false;
}

/* Child side: the environment of C1's contract, then exec. Never returns. */
static void exec_child(char **cmdv, int in_fd, const char *group, const char *topic,
		       const struct rxlog_msg *m)
{
	char num[32];

	if (dup2(in_fd, 0) < 0)
		_exit(127);
	setenv("RXLOG_GROUP", group, 1);
	setenv("RXLOG_TOPIC", topic, 1);
	snprintf(num, sizeof(num), "%" PRIu32, m->partition);
	setenv("RXLOG_PARTITION", num, 1);
	snprintf(num, sizeof(num), "%" PRIu64, m->rec.offset);
	setenv("RXLOG_OFFSET", num, 1);
	snprintf(num, sizeof(num), "%" PRId64, m->rec.timestamp_ms);
	setenv("RXLOG_TIMESTAMP", num, 1);
	snprintf(num, sizeof(num), "%" PRIu32, m->attempt);
	setenv("RXLOG_ATTEMPT", num, 1);
	if (m->rec.key_len >= 0) {
		char *k = strndup((const char *)m->rec.key, (size_t)m->rec.key_len);

		if (k)
			setenv("RXLOG_KEY", k, 1);
	} else {
		unsetenv("RXLOG_KEY");
	}
	execvp(cmdv[0], cmdv);
	fprintf(stderr, "rxlog consume: cannot run %s: %s\n", cmdv[0], strerror(errno));
	_exit(127);
}

/* Run the command for @m; *status as waitpid() reports it. Returns: 0 or -errno. */
static int run_command(char **cmdv, const char *group, const char *topic, const struct rxlog_msg *m,
		       int *status)
{
	int fd = memfd_create("rxlog-value", MFD_CLOEXEC);

	if (fd < 0)
		return -errno;
	size_t left = m->rec.value_len > 0 ? (size_t)m->rec.value_len : 0;
	const uint8_t *p = m->rec.value;

	while (left) {
		ssize_t n = write(fd, p, left);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			int e = -errno;

			close(fd);
			return e;
		}
		p += n;
		left -= (size_t)n;
	}
	lseek(fd, 0, SEEK_SET);
	fflush(NULL);
	pid_t pid = fork();

	if (pid < 0) {
		int e = -errno;

		close(fd);
		return e;
	}
	if (pid == 0)
		exec_child(cmdv, fd, group, topic, m);
	close(fd);
	/* C2: a signal interrupts waitpid, not the record: keep waiting. */
	while (waitpid(pid, status, 0) < 0)
		if (errno != EINTR)
			return -errno;
	return 0;
}

int cli_consume(int argc, char **argv)
{
	static const struct option opts[] = {
		{"group", required_argument, NULL, 'g'},
		{"topic", required_argument, NULL, 't'},
		{"member", required_argument, NULL, 'M'},
		{"max-attempts", required_argument, NULL, 'a'},
		{"backoff-ms", required_argument, NULL, 'B'},
		{"reset", required_argument, NULL, 'r'},
		{"count", required_argument, NULL, 'c'},
		{"idle-exit-ms", required_argument, NULL, 'i'},
		CLI_OPTIONS_SHARED,
		{0},
	};
	const char *cmd = "consume", *data = NULL;
	struct rxlog_group_config cfg = {0};
	uint64_t count = 0, idle_ms = 0, settled = 0;
	struct rxlog_group_stats st;
	struct rxlog_group *g;
	struct rxlog *rx;
	int c, rc;

	/* "+": stop at the first non-option, so COMMAND's own options stay its own. */
	while ((c = getopt_long(argc, argv, "+:g:t:M:a:B:r:c:i:d:h", opts, NULL)) != -1) {
		switch (c) {
		case 'g':
			cfg.group = optarg;
			break;
		case 't':
			cfg.topic = optarg;
			break;
		case 'M':
			cfg.member = optarg;
			break;
		case 'a':
			if (cli_parse_u32(optarg, 1000000, &cfg.max_attempts) || !cfg.max_attempts)
				return cli_usage_err(cmd,
						     "--max-attempts wants 1 to 1000000, not "
						     "\"%s\"",
						     optarg);
			break;
		case 'B':
			if (cli_parse_u32(optarg, 3600000, &cfg.backoff_ms) || !cfg.backoff_ms)
				return cli_usage_err(
					cmd, "--backoff-ms wants 1 to 3600000, not \"%s\"", optarg);
			break;
		case 'r':
			if (!strcmp(optarg, "earliest"))
				cfg.reset = RXLOG_RESET_EARLIEST;
			else if (!strcmp(optarg, "latest"))
				cfg.reset = RXLOG_RESET_LATEST;
			else if (!strcmp(optarg, "error"))
				cfg.reset = RXLOG_RESET_ERROR;
			else
				return cli_usage_err(cmd,
						     "--reset wants earliest, latest or error, "
						     "not \"%s\"",
						     optarg);
			break;
		case 'c':
			if (cli_parse_u64(optarg, &count) || !count)
				return cli_usage_err(cmd, "--count wants a number >= 1, not \"%s\"",
						     optarg);
			break;
		case 'i':
			if (cli_parse_u64(optarg, &idle_ms) || !idle_ms)
				return cli_usage_err(cmd,
						     "--idle-exit-ms wants a number >= 1, not "
						     "\"%s\"",
						     optarg);
			break;
		default:
			if ((rc = cli_opt_shared(cmd, c, argv, usage, &data)) != CLI_OPT_NEXT)
				return rc;
		}
	}
	if (!cfg.group || !cfg.topic)
		return cli_usage_err(cmd, "name the group and the topic: --group G --topic T");
	if (optind >= argc)
		return cli_usage_err(cmd, "name the command to run per record, after --");
	char **cmdv = argv + optind;

	if (!runnable(cmdv[0])) {
		cli_err(cmd, "cannot run \"%s\": not an executable file nor a program in $PATH",
			cmdv[0]);
		return CLI_USAGE;
	}
	rc = cli_open(cmd, data, &rx);
	if (rc)
		return rc;
	if (rxlog_group_join(rx, &cfg, &g)) {
		cli_err(cmd, "%s", rxl_err_msg());
		rxlog_close(rx);
		return CLI_FAIL;
	}
	uint32_t max_attempts = cfg.max_attempts ? cfg.max_attempts : 3;
	uint64_t last = mono_ms();

	cli_signals_install();
	while (!cli_stopping() && (!count || settled < count)) {
		struct rxlog_msg m;
		int timeout = POLL_SLICE_MS;

		if (idle_ms) {
			uint64_t idle = mono_ms() - last;

			if (idle >= idle_ms)
				break;
			if (idle_ms - idle < (uint64_t)timeout)
				timeout = (int)(idle_ms - idle);
		}
		int n = rxlog_group_poll(g, &m, timeout);

		if (n == 0 || n == -EINTR)
			continue;
		if (n < 0) {
			cli_err(cmd, "%s", rxl_err_msg());
			rc = CLI_FAIL;
			break;
		}
		int status = 0, err = run_command(cmdv, cfg.group, cfg.topic, &m, &status);
		char reason[64];
		enum rxlog_verdict v;

		if (err) {
			snprintf(reason, sizeof(reason), "cannot start the command: %s",
				 strerror(-err));
			v = RXLOG_RETRY;
		} else if (WIFEXITED(status) && WEXITSTATUS(status) == 0) {
			v = RXLOG_ACK;
		} else if (WIFEXITED(status) && WEXITSTATUS(status) == EXIT_DATAERR) {
			snprintf(reason, sizeof(reason), "exit status %d (EX_DATAERR)",
				 EXIT_DATAERR);
			v = RXLOG_REJECT;
		} else if (WIFEXITED(status)) {
			snprintf(reason, sizeof(reason), "exit status %d", WEXITSTATUS(status));
			v = RXLOG_RETRY;
		} else {
			snprintf(reason, sizeof(reason), "killed by signal %d", WTERMSIG(status));
			v = RXLOG_RETRY;
		}
		bool dead = v == RXLOG_REJECT || (v == RXLOG_RETRY && m.attempt >= max_attempts);

		if (v != RXLOG_ACK && cli_stopping()) {
			/* C2: the command failed while we were being stopped (a
			 * terminal's ^C reaches it too): not its verdict on the
			 * record. Left unsettled, it is delivered again. */
			fprintf(stderr,
				"rxlog consume: %s-%" PRIu32 " offset %" PRIu64 ": %s while "
				"stopping; not settled, it will be delivered again\n",
				cfg.topic, m.partition, m.rec.offset, reason);
			break;
		}
		err = rxlog_group_settle(g, &m, v, v == RXLOG_ACK ? NULL : reason);
		if (err)
			cli_err(cmd,
				"%s-%" PRIu32 " offset %" PRIu64 " attempt %" PRIu32 ": %s; "
				"could not settle it: %s; it will be delivered again",
				cfg.topic, m.partition, m.rec.offset, m.attempt,
				v == RXLOG_ACK ? "ok" : reason, rxl_err_msg());
		else if (v != RXLOG_ACK)
			fprintf(stderr,
				"rxlog consume: %s-%" PRIu32 " offset %" PRIu64 " attempt %" PRIu32
				" of %" PRIu32 ": %s; %s%s%s%s\n",
				cfg.topic, m.partition, m.rec.offset, m.attempt, max_attempts,
				reason, dead ? "dead-lettered to " : "will retry",
				dead ? cfg.topic : "", dead ? ".dlq." : "", dead ? cfg.group : "");
		if (!err && (v == RXLOG_ACK || dead))
			settled++;
		last = mono_ms();
	}
	rxlog_group_stats(g, &st);
	rxlog_group_leave(g); /* C2: commits and releases the leases */
	fprintf(stderr,
		"rxlog consume: %" PRIu64 " delivered, %" PRIu64 " acked, %" PRIu64
		" retried, %" PRIu64 " dead-lettered\n",
		st.delivered, st.acked, st.retried, st.dead_lettered);
	rxlog_close(rx);
	return rc;
}
