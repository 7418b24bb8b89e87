/* consumers: private declarations shared by the rxlog tool's commands (cli_*.c).
 * Main thread only: the tool is single-threaded (consume forks children).
 *
 * Conventions every command follows:
 *   - exit status CLI_OK (0) on success, CLI_FAIL (1) when an operation
 *     failed or a problem was found, CLI_USAGE (2) for bad usage;
 *   - errors go to stderr as "rxlog <command>: <what happened>; <what to do>";
 *   - output meant for scripts goes to stdout with a fixed layout that the
 *     command's --help describes.
 * Helpers return 0 or -errno; the ones that print say so.
 */
#ifndef RXL_CLI_PVT_H
#define RXL_CLI_PVT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "rxl_formats.h"
#include "rxlog.h"

#define CLI_OK 0
#define CLI_FAIL 1
#define CLI_USAGE 2

/* Longest topic name the tool accepts (and creates): like librxlog's group
 * names, [A-Za-z0-9._-]{1,200}; a DLQ topic "<topic>.dlq.<group>" then fits
 * in struct rxlog_topic's 256 bytes only for short names, which is checked. */
#define CLI_NAME_MAX 200

/* "YYYY-MM-DDTHH:MM:SS.mmmZ" and its NUL. */
#define CLI_TIME_LEN 25

/*
 * The commands. Each parses its own options (argv[0] is the command's name,
 * "--help" prints its usage with the layout of its output), runs, and
 * prints its errors.
 * Concurrency: main thread; consume and cat --follow install SIGINT/SIGTERM
 * handlers (cli_signals_install()).
 * Returns: the exit status, CLI_OK, CLI_FAIL or CLI_USAGE.
 */
int cli_topics(int argc, char **argv);
int cli_cat(int argc, char **argv);
int cli_groups(int argc, char **argv);
int cli_consume(int argc, char **argv);
int cli_produce(int argc, char **argv);
int cli_dlq(int argc, char **argv);

/**
 * Print "rxlog <cmd>: <message>\n" to stderr.
 * Concurrency: main thread.
 */
void cli_err(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/**
 * Print a usage error ("... (see rxlog <cmd> --help)") to stderr.
 * Concurrency: main thread.
 * Returns: CLI_USAGE, so commands can `return cli_usage_err(...)`.
 */
int cli_usage_err(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/**
 * Report what getopt_long() refused: @c is its '?' or ':' return, @argv
 * the vector it parsed (its optind/optopt say where).
 * Concurrency: main thread (getopt's globals).
 * Returns: CLI_USAGE.
 */
int cli_getopt_err(const char *cmd, int c, char **argv);

/*
 * The getopt_long() entries every command has, last before its {0}:
 * --data DIR as 'd' and --help as 'h' (its optstring has "d:h"), both
 * handled by cli_opt_shared(). (clang-format would split the second entry
 * over three lines.)
 */
/* clang-format off */
#define CLI_OPTIONS_SHARED {"data", required_argument, NULL, 'd'}, {"help", no_argument, NULL, 'h'}
/* clang-format on */

/* cli_opt_shared(): the option was taken, parsing goes on. */
#define CLI_OPT_NEXT (-1)

/**
 * The default case of a command's getopt_long() loop: 'd' (--data DIR) sets
 * *data, 'h' (--help) prints @usage to stdout, anything else is an option
 * getopt refused and is reported (cli_getopt_err()).
 * Concurrency: main thread (getopt's globals).
 * Returns: CLI_OPT_NEXT after --data; otherwise the exit status the command
 * returns at once: CLI_OK after --help, CLI_USAGE for a refused option.
 */
int cli_opt_shared(const char *cmd, int c, char **argv, void (*usage)(FILE *f), const char **data);

/**
 * Refuse operands after a command's options (getopt's optind is the first):
 * prints "unexpected argument "X"" and @hint, when not NULL, in parentheses.
 * Concurrency: main thread (getopt's globals).
 * Returns: CLI_OK when there are none, else CLI_USAGE.
 */
int cli_no_operands(const char *cmd, int argc, char **argv, const char *hint);

/**
 * Parse @arg, the value of the time option @opt (e.g. "--from-time"), with
 * cli_parse_time(); prints the usage error, with the forms it takes, when
 * it is not a time.
 * Concurrency: main thread.
 * Returns: 0 with *ms, or CLI_USAGE.
 */
int cli_opt_time(const char *cmd, const char *opt, const char *arg, int64_t *ms);

/**
 * The data directory: @data, or $RXLOG_DATA when @data is NULL; prints the
 * error when neither names one.
 * Concurrency: main thread.
 * Returns: the directory, or NULL (the command then exits CLI_USAGE).
 */
const char *cli_data_dir(const char *cmd, const char *data);

/**
 * Open the data directory @data (NULL: $RXLOG_DATA); prints the error.
 * Concurrency: main thread.
 * Returns: CLI_OK with *rx set, CLI_USAGE when no directory was named,
 * CLI_FAIL when it cannot be opened.
 */
int cli_open(const char *cmd, const char *data, struct rxlog **rx);

/**
 * Partitions of @topic; prints "unknown topic ... (rxlog topics lists them)".
 * Concurrency: main thread.
 * Returns: the count (>= 1), or -errno.
 */
int cli_partitions(const char *cmd, struct rxlog *rx, const char *topic);

/**
 * Check that @topic, which has @np partitions, has partition @p; prints
 * "topic T has N partition(s), numbered 0 to N-1" when not.
 * Concurrency: main thread.
 * Returns: 0 or -ERANGE.
 */
int cli_check_partition(const char *cmd, const char *topic, uint32_t np, uint32_t p);

/**
 * The offsets (log start, end) of partition @topic-@p, through a reader
 * opened and closed at once. Prints nothing.
 * Concurrency: main thread.
 * Returns: 0 with *o, or -errno (rxl_err_msg() says why).
 */
int cli_offsets(struct rxlog *rx, const char *topic, uint32_t p, struct rxl_log_offsets *o);

/**
 * Check a topic or group name: 1 to CLI_NAME_MAX of A-Z a-z 0-9 . _ -, not
 * "." or ".."; a topic (@what "topic") may not start with "__" (rxlog's own
 * folders). Prints why not.
 * Concurrency: main thread.
 * Returns: 0 or -EINVAL.
 */
int cli_check_name(const char *cmd, const char *what, const char *name);

/**
 * Parse a decimal number (digits only, no sign, no overflow) into *v.
 * Concurrency: pure.
 * Returns: 0 or -EINVAL.
 */
int cli_parse_u64(const char *s, uint64_t *v);

/** As cli_parse_u64(), limited to @max. Concurrency: pure. Returns: 0 or -EINVAL. */
int cli_parse_u32(const char *s, uint32_t max, uint32_t *v);

/**
 * Parse a time: ISO-8601 "YYYY-MM-DD[THH:MM[:SS[.fff]]][Z|+HH:MM|-HH:MM]"
 * (' ' may replace 'T'; no zone means UTC), or milliseconds since the
 * epoch (digits only).
 * Concurrency: pure.
 * Returns: 0 with *ms, or -EINVAL.
 */
int cli_parse_time(const char *s, int64_t *ms);

/**
 * Format @ms (since the epoch) as "YYYY-MM-DDTHH:MM:SS.mmmZ" into @buf
 * (years outside 0..9999: the plain number of milliseconds).
 * Concurrency: pure.
 */
void cli_fmt_time(int64_t ms, char buf[CLI_TIME_LEN]);

/**
 * Write @p[0..len) as a JSON string (quotes included): '"', '\\' and the
 * control characters U+0000..U+001F and U+007F escaped (\n, \t, ... or
 * \u00XX), well-formed UTF-8 copied as is, and each maximal ill-formed
 * subsequence (Unicode's "best practice") replaced by \ufffd. @len -1
 * writes null.
 * Concurrency: the caller's stream.
 */
void cli_json_str(FILE *f, const uint8_t *p, int32_t len);

/**
 * Write @p[0..len) as base64 (RFC 4648 standard alphabet, padded), quoted
 * when @quote; @len -1 writes null (when quoted) or nothing.
 * Concurrency: the caller's stream.
 */
void cli_base64(FILE *f, const uint8_t *p, int32_t len, bool quote);

/**
 * Write one record as a JSON object on one line:
 * {"topic","partition","offset","timestamp","key","value","headers":{...}}.
 * @b64: key, value and header values in base64 instead of escaped text.
 * Concurrency: the caller's stream.
 * Returns: 0, or -EBADMSG when the record's headers are malformed (the
 * object is still completed).
 */
int cli_print_json(FILE *f, const char *topic, uint32_t partition, const struct rxl_record *r,
		   bool b64);

/**
 * Kafka's murmur2 (org.apache.kafka.common.utils.Utils.murmur2): seed
 * 0x9747b28c, m 0x5bd1e995, r 24, little-endian 4-byte blocks.
 * Concurrency: pure.
 * Returns: the hash as Kafka's Java int.
 */
int32_t cli_murmur2(const uint8_t *p, size_t len);

/**
 * Kafka's default partitioner for a keyed record:
 * toPositive(murmur2(key)) % partitions, toPositive(x) = x & 0x7fffffff.
 * Concurrency: pure.
 * Returns: the partition.
 */
uint32_t cli_key_partition(const uint8_t *key, size_t len, uint32_t partitions);

/**
 * Catch SIGINT and SIGTERM without SA_RESTART: blocking calls then return
 * -EINTR and cli_stopping() turns true. Children reset the handlers at exec.
 * Concurrency: main thread, once.
 */
void cli_signals_install(void);

/** Whether SIGINT or SIGTERM arrived. Concurrency: main thread. */
bool cli_stopping(void);

/**
 * Whether someone holds an flock on @name in folder @dirfd: takes
 * LOCK_SH | LOCK_NB and drops it at once (EWOULDBLOCK means held). While
 * we hold it (microseconds), someone's LOCK_EX | LOCK_NB on that file fails:
 * a member trying to take a free lease then waits for its next rebalance.
 * Concurrency: main thread.
 * Returns: 1 held, 0 free, -errno (-ENOENT: no such file).
 */
int cli_lock_held(int dirfd, const char *name);

/**
 * Open partition @topic-@p of @rx for appending (rxl_log_open(), which takes
 * the writer lock and creates the partition when missing). When another
 * process writes it, prints who (pid) and that records for it go to the
 * rxlogd that owns it.
 * Concurrency: main thread; the log belongs to it.
 * Returns: 0 with *out, or -errno (message printed).
 */
int cli_writer_open(const char *cmd, struct rxlog *rx, const char *topic, uint32_t p,
		    struct rxl_log **out);

/**
 * Close the writers @logs[0..np) of @topic that were opened (NULL entries
 * are skipped): rxl_log_close() fdatasyncs, then releases the writer lock.
 * Prints each failure as "<topic>-<p>: <why>".
 * Concurrency: the logs' owner thread.
 * Returns: 0, or -EIO when any failed (every one is closed anyway).
 */
int cli_writers_close(const char *cmd, const char *topic, struct rxl_log **logs, uint32_t np);

/**
 * Append one record, waiting through back-pressure (the writer's staging
 * buffers all in flight). @part names the partition in messages.
 * Concurrency: @log's owner thread.
 * Returns: 0 with *offset (may be NULL), or -errno (message printed).
 */
int cli_append(const char *cmd, struct rxl_log *log, const char *part,
	       const struct rxl_record_in *in, uint64_t *offset);

/* ---- Writing to a topic that a running rxlogd owns (cli_rxlogd.c) ---- */

/** Who owns a topic: what <data>/__rxlogd/<topic> says. */
struct cli_rxlogd {
	char format[32]; /* its listener's format: native, syslog, lines, raw */
	char addr[64];	 /* IPv4 address it answers on */
	unsigned port;	 /* UDP port of the listener */
	long pid;
	unsigned max_event_bytes; /* its limit on key + value (0: not known, none) */
};

/**
 * Whether a live rxlogd owns @topic in @data (its registry file exists and
 * its pid is alive); fills @o.
 * Concurrency: any thread.
 */
bool cli_rxlogd_owner(const char *data, const char *topic, struct cli_rxlogd *o);

/** Records on their way to an rxlogd, as datagrams of its listener's format. */
struct cli_sender {
	int fd;
	bool failed;		  /* a send(2) failed (and said why): send nothing more */
	enum rxl_fmt_kind kind;	  /* the listener's format */
	unsigned max_event_bytes; /* the listener's limit on key + value (0: none) */
	uint8_t dgram[1400]; /* lines: the datagram being filled; native: where it is encoded */
	size_t used;	     /* bytes of the datagram being filled (native: once encoded) */
	uint32_t n;	     /* records packed, not sent yet (native: in recs; lines: in dgram) */
	struct rxl_record_in recs[64];
	uint8_t keys[64][256], vals[64][1400];
	uint64_t sent; /* records handed to the kernel */
};

/**
 * Connect a UDP socket to @o's listener.
 * Returns: 0, or -errno (message printed with @cmd).
 */
int cli_sender_open(const char *cmd, struct cli_sender *s, const struct cli_rxlogd *o);

/**
 * Send a record, as its listener's format carries it: native packs up to 64
 * records (key, value, timestamp) per datagram; lines packs values, one per
 * line; syslog and raw send the value as one datagram (rxlogd derives key,
 * timestamp and headers from it). Headers never travel.
 * Returns: 0; -EMSGSIZE when it cannot fit one datagram (native: key of
 * 256 bytes or more, or key and value over 1362 bytes together; others: a
 * value over 1399 bytes); -EINVAL for a value that the listener, running
 * rxlogd's own parser (rxl_fmt_parse()), would not store as one record with
 * exactly these bytes (lines: empty, a newline inside, a trailing \r; raw:
 * empty; syslog: not a syslog message), so nothing is sent that would be
 * stored changed or dropped; -errno from send(2). Messages printed with @cmd.
 */
int cli_sender_add(const char *cmd, struct cli_sender *s, const void *key, int32_t key_len,
		   const void *value, int32_t value_len, int64_t ts_ms);

/**
 * Send what is packed.
 * Returns: 0 or -errno from send(2) (message printed).
 */
int cli_sender_flush(const char *cmd, struct cli_sender *s);

/** Close the socket (nothing is flushed). */
void cli_sender_close(struct cli_sender *s);

/** Which records `cat` reads and how it prints them (also `dlq show`). */
enum cli_from { CLI_FROM_EARLIEST = 0, CLI_FROM_LATEST, CLI_FROM_OFFSET, CLI_FROM_TIME };
enum cli_format { CLI_FMT_VALUE = 0, CLI_FMT_JSON };

struct cli_cat_opts {
	const char *topic;
	bool all_partitions;
	uint32_t partition;
	enum cli_from from;
	uint64_t from_offset;
	int64_t from_time;
	uint64_t count; /* 0 = no limit */
	bool follow;
	enum cli_format format;
	bool base64;
};

/**
 * Print records of @o->topic as `rxlog cat` does (merge rule in its --help).
 * Concurrency: main thread; returns early on SIGINT/SIGTERM (with --follow).
 * Returns: the exit status (errors printed with @cmd).
 */
int cli_cat_run(const char *cmd, struct rxlog *rx, const struct cli_cat_opts *o);

#endif
