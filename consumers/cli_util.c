/* consumers: the rxlog tool's shared helpers — errors, names, numbers, times,
 * JSON and base64 output, Kafka's murmur2 partitioner, signals, writers.
 * Main thread only.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <time.h>
#include <unistd.h>

#include "cli_pvt.h"
#include "rxl_atomic.h"
#include "rxl_civil.h"
#include "rxl_err.h"

/* "rxlog <cmd>: <message>" to stderr, without the newline. */
__attribute__((format(printf, 2, 0))) static void verr(const char *cmd, const char *fmt, va_list ap)
{
	fprintf(stderr, "rxlog %s: ", cmd);
	vfprintf(stderr, fmt, ap);
}

void cli_err(const char *cmd, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	verr(cmd, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

int cli_usage_err(const char *cmd, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	verr(cmd, fmt, ap);
	va_end(ap);
	fprintf(stderr, " (see rxlog %s --help)\n", cmd);
	return CLI_USAGE;
}

int cli_getopt_err(const char *cmd, int c, char **argv)
{
	const char *arg = argv[optind - 1];

	if (c == ':')
		return cli_usage_err(cmd, "option %s needs a value", arg);
	if (optopt)
		return cli_usage_err(cmd, "unknown option -%c", optopt);
	return cli_usage_err(cmd, "unknown option %s", arg);
}

int cli_opt_shared(const char *cmd, int c, char **argv, void (*usage)(FILE *f), const char **data)
{
	switch (c) {
	case 'd':
		*data = optarg;
		return CLI_OPT_NEXT;
	case 'h':
		usage(stdout);
		return CLI_OK;
	default:
		return cli_getopt_err(cmd, c, argv);
	}
}

int cli_no_operands(const char *cmd, int argc, char **argv, const char *hint)
{
	if (optind >= argc)
		return CLI_OK;
	if (hint)
		return cli_usage_err(cmd, "unexpected argument \"%s\" (%s)", argv[optind], hint);
	return cli_usage_err(cmd, "unexpected argument \"%s\"", argv[optind]);
}

int cli_opt_time(const char *cmd, const char *opt, const char *arg, int64_t *ms)
{
	if (cli_parse_time(arg, ms))
		return cli_usage_err(cmd,
				     "%s \"%s\": use ISO-8601 like 2024-05-01T12:00:00Z or "
				     "milliseconds since the epoch",
				     opt, arg);
	return 0;
}

const char *cli_data_dir(const char *cmd, const char *data)
{
	if (!data)
		data = getenv("RXLOG_DATA");
	if (!data || !*data) {
		cli_err(cmd, "no data directory: pass --data DIR or set RXLOG_DATA");
		return NULL;
	}
	return data;
}

int cli_open(const char *cmd, const char *data, struct rxlog **rx)
{
	data = cli_data_dir(cmd, data);
	if (!data)
		return CLI_USAGE;
	if (rxlog_open(data, rx)) {
		cli_err(cmd, "%s", rxl_err_msg());
		return CLI_FAIL;
	}
	return CLI_OK;
}

int cli_partitions(const char *cmd, struct rxlog *rx, const char *topic)
{
	int n = rxlog_partitions(rx, topic);

	if (n < 0)
		cli_err(cmd, "%s", rxl_err_msg());
	return n;
}

int cli_check_partition(const char *cmd, const char *topic, uint32_t np, uint32_t p)
{
	if (p < np)
		return 0;
	cli_err(cmd, "topic %s has %" PRIu32 " partition(s), numbered 0 to %" PRIu32, topic, np,
		np - 1);
	return -ERANGE;
}

int cli_offsets(struct rxlog *rx, const char *topic, uint32_t p, struct rxl_log_offsets *o)
{
	struct rxl_reader *r;
	int err = rxlog_reader_open(rx, topic, p, &r);

	if (err == -ENOENT) {
		/* A sparse topic (dead letters): this partition never got a record. */
		rxl_err_clear();
		memset(o, 0, sizeof(*o));
		return 0;
	}
	if (err)
		return err;
	rxl_reader_offsets(r, o);
	rxl_reader_close(r);
	return 0;
}

int cli_check_name(const char *cmd, const char *what, const char *name)
{
	size_t l = strlen(name);

	if (l == 0 || l > CLI_NAME_MAX ||
	    strspn(name, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-") !=
		    l ||
	    !strcmp(name, ".") || !strcmp(name, "..")) {
		cli_err(cmd, "%s \"%s\": use 1 to %d of A-Z a-z 0-9 . _ -", what, name,
			CLI_NAME_MAX);
		return -EINVAL;
	}
	if (!strcmp(what, "topic") && !strncmp(name, "__", 2)) {
		cli_err(cmd,
			"topic \"%s\": names starting with \"__\" are rxlog's own folders; "
			"choose another name",
			name);
		return -EINVAL;
	}
	return 0;
}

int cli_parse_u64(const char *s, uint64_t *v)
{
	uint64_t x = 0;

	if (!s || !*s || strspn(s, "0123456789") != strlen(s))
		return -EINVAL;
	for (; *s; s++) {
		if (x > (UINT64_MAX - (uint64_t)(*s - '0')) / 10)
			return -EINVAL;
		x = x * 10 + (uint64_t)(*s - '0');
	}
	*v = x;
	return 0;
}

int cli_parse_u32(const char *s, uint32_t max, uint32_t *v)
{
	uint64_t x;

	if (cli_parse_u64(s, &x) || x > max)
		return -EINVAL;
	*v = (uint32_t)x;
	return 0;
}

/* Read exactly @n digits at *s into *v (advancing *s). */
static bool digits(const char **s, int n, int *v)
{
	int x = 0;

	for (int i = 0; i < n; i++) {
		if ((*s)[i] < '0' || (*s)[i] > '9')
			return false;
		x = x * 10 + ((*s)[i] - '0');
	}
	*s += n;
	*v = x;
	return true;
}

static int days_in_month(int y, int m)
{
	static const int dm[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;

	return m == 2 && leap ? 29 : dm[m - 1];
}

int cli_parse_time(const char *s, int64_t *ms)
{
	int y, mo, d, h = 0, mi = 0, sec = 0, frac = 0, zh = 0, zm = 0, sign = 0;
	uint64_t epoch;

	if (!cli_parse_u64(s, &epoch)) {
		if (epoch > INT64_MAX)
			return -EINVAL;
		*ms = (int64_t)epoch;
		return 0;
	}
	if (!digits(&s, 4, &y) || *s++ != '-' || !digits(&s, 2, &mo) || *s++ != '-' ||
	    !digits(&s, 2, &d))
		return -EINVAL;
	if (*s == 'T' || *s == 't' || *s == ' ') {
		s++;
		if (!digits(&s, 2, &h) || *s++ != ':' || !digits(&s, 2, &mi))
			return -EINVAL;
		if (*s == ':') {
			s++;
			if (!digits(&s, 2, &sec))
				return -EINVAL;
			if (*s == '.' || *s == ',') {
				int n = 0;

				for (s++; *s >= '0' && *s <= '9'; s++, n++)
					if (n < 3)
						frac = frac * 10 + (*s - '0');
				if (n == 0)
					return -EINVAL;
				for (; n < 3; n++)
					frac *= 10;
			}
		}
	}
	if (*s == 'Z' || *s == 'z') {
		s++;
	} else if (*s == '+' || *s == '-') {
		sign = *s++ == '+' ? 1 : -1;
		if (!digits(&s, 2, &zh))
			return -EINVAL;
		if (*s == ':')
			s++;
		if (*s && !digits(&s, 2, &zm))
			return -EINVAL;
	}
	if (*s || mo < 1 || mo > 12 || d < 1 || d > days_in_month(y, mo) || h > 23 || mi > 59 ||
	    sec > 59 || zh > 23 || zm > 59)
		return -EINVAL;
	int64_t t = rxl_days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + sec;

	t -= sign * (zh * 3600 + zm * 60);
	*ms = t * 1000 + frac;
	return 0;
}

void cli_fmt_time(int64_t ms, char buf[CLI_TIME_LEN])
{
	int64_t sec = ms / 1000, msr = ms % 1000;

	if (msr < 0) { /* floor, so times before 1970 print forward from the second */
		msr += 1000;
		sec--;
	}
	int64_t days = sec / 86400, rem = sec % 86400;

	if (rem < 0) {
		rem += 86400;
		days--;
	}
	/* civil_from_days (Hinnant), the inverse of rxl_days_from_civil(). */
	int64_t z = days + 719468;
	int64_t era = (z >= 0 ? z : z - 146096) / 146097;
	int64_t doe = z - era * 146097;
	int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	int64_t mp = (5 * doy + 2) / 153;
	int64_t d = doy - (153 * mp + 2) / 5 + 1;
	int64_t m = mp < 10 ? mp + 3 : mp - 9;
	int64_t y = yoe + era * 400 + (m <= 2);

	if (y < 0 || y > 9999) {
		snprintf(buf, CLI_TIME_LEN, "%" PRId64, ms); /* not representable: raw ms */
		return;
	}
	snprintf(buf, CLI_TIME_LEN, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", (int)y, (int)m, (int)d,
		 (int)(rem / 3600), (int)(rem / 60 % 60), (int)(rem % 60), (int)msr);
}

/*
 * Length of the well-formed UTF-8 sequence at p[0..n) (Unicode table 3-7),
 * or 0 with *bad = bytes of its maximal ill-formed subpart (>= 1):
 *   00..7F | C2..DF 80..BF | E0 A0..BF 80..BF | E1..EC,EE..EF 80..BF 80..BF
 *   | ED 80..9F 80..BF | F0 90..BF 80..BF 80..BF | F1..F3 80..BF x3
 *   | F4 80..8F 80..BF 80..BF
 */
static size_t utf8_seq(const uint8_t *p, size_t n, size_t *bad)
{
	uint8_t c = p[0], lo = 0x80, hi = 0xbf;
	size_t len;

	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf)
		len = 2;
	else if (c >= 0xe0 && c <= 0xef)
		len = 3;
	else if (c >= 0xf0 && c <= 0xf4)
		len = 4;
	else {
		*bad = 1;
		return 0;
	}
	if (c == 0xe0)
		lo = 0xa0;
	else if (c == 0xed)
		hi = 0x9f;
	else if (c == 0xf0)
		lo = 0x90;
	else if (c == 0xf4)
		hi = 0x8f;
	for (size_t i = 1; i < len; i++) {
		if (i >= n || p[i] < lo || p[i] > hi) {
			*bad = i;
			return 0;
		}
		lo = 0x80;
		hi = 0xbf;
	}
	return len;
}

void cli_json_str(FILE *f, const uint8_t *p, int32_t len)
{
	if (len < 0) {
		fputs("null", f);
		return;
	}
	fputc('"', f);
	for (size_t i = 0, n = (size_t)len; i < n;) {
		uint8_t c = p[i];
		size_t bad = 0, l;

		switch (c) {
		case '"':
			fputs("\\\"", f);
			i++;
			continue;
		case '\\':
			fputs("\\\\", f);
			i++;
			continue;
		case '\b':
			fputs("\\b", f);
			i++;
			continue;
		case '\f':
			fputs("\\f", f);
			i++;
			continue;
		case '\n':
			fputs("\\n", f);
			i++;
			continue;
		case '\r':
			fputs("\\r", f);
			i++;
			continue;
		case '\t':
			fputs("\\t", f);
			i++;
			continue;
		default:
			break;
		}
		if (c < 0x20 || c == 0x7f) {
			fprintf(f, "\\u%04x", c);
			i++;
			continue;
		}
		l = utf8_seq(p + i, n - i, &bad);
		if (l) {
			fwrite(p + i, 1, l, f);
			i += l;
		} else {
			fputs("\\ufffd", f);
			i += bad;
		}
	}
	fputc('"', f);
}

void cli_base64(FILE *f, const uint8_t *p, int32_t len, bool quote)
{
	static const char a[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	size_t i, n = len > 0 ? (size_t)len : 0;

	if (len < 0) {
		if (quote)
			fputs("null", f);
		return;
	}
	if (quote)
		fputc('"', f);
	for (i = 0; i + 3 <= n; i += 3) {
		uint32_t v = (uint32_t)p[i] << 16 | (uint32_t)p[i + 1] << 8 | p[i + 2];

		fputc(a[v >> 18], f);
		fputc(a[v >> 12 & 63], f);
		fputc(a[v >> 6 & 63], f);
		fputc(a[v & 63], f);
	}
	if (n - i == 1) {
		uint32_t v = (uint32_t)p[i] << 16;

		fputc(a[v >> 18], f);
		fputc(a[v >> 12 & 63], f);
		fputs("==", f);
	} else if (n - i == 2) {
		uint32_t v = (uint32_t)p[i] << 16 | (uint32_t)p[i + 1] << 8;

		fputc(a[v >> 18], f);
		fputc(a[v >> 12 & 63], f);
		fputc(a[v >> 6 & 63], f);
		fputc('=', f);
	}
	if (quote)
		fputc('"', f);
}

int cli_print_json(FILE *f, const char *topic, uint32_t partition, const struct rxl_record *r,
		   bool b64)
{
	const uint8_t *it = r->headers;
	struct rxl_header h;
	int n, first = 1;

	fputs("{\"topic\":", f);
	cli_json_str(f, (const uint8_t *)topic, (int32_t)strlen(topic));
	fprintf(f,
		",\"partition\":%" PRIu32 ",\"offset\":%" PRIu64 ",\"timestamp\":%" PRId64
		",\"key\":",
		partition, r->offset, r->timestamp_ms);
	if (b64)
		cli_base64(f, r->key, r->key_len, true);
	else
		cli_json_str(f, r->key, r->key_len);
	fputs(",\"value\":", f);
	if (b64)
		cli_base64(f, r->value, r->value_len, true);
	else
		cli_json_str(f, r->value, r->value_len);
	fputs(",\"headers\":{", f);
	while ((n = rxl_header_next(r, &it, &h)) == 1) {
		if (!first)
			fputc(',', f);
		first = 0;
		cli_json_str(f, h.key, h.key_len);
		fputc(':', f);
		if (b64)
			cli_base64(f, h.value, h.value_len, true);
		else
			cli_json_str(f, h.value, h.value_len);
	}
	fputs("}}\n", f);
	return n < 0 ? n : 0;
}

int32_t cli_murmur2(const uint8_t *p, size_t len)
{
	/* Java int arithmetic: wrapping 32-bit, ">>>" = logical shift. */
	const uint32_t m = 0x5bd1e995u;
	const int r = 24;
	uint32_t h = 0x9747b28cu ^ (uint32_t)len;
	size_t len4 = len / 4;

	for (size_t i = 0; i < len4; i++) {
		const uint8_t *b = p + 4 * i;
		uint32_t k = (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 |
			     (uint32_t)b[3] << 24;

		k *= m;
		k ^= k >> r;
		k *= m;
		h *= m;
		h ^= k;
	}
	const uint8_t *t = p + (len & ~(size_t)3);

	switch (len % 4) {
	case 3:
		h ^= (uint32_t)t[2] << 16;
		/* fall through */
	case 2:
		h ^= (uint32_t)t[1] << 8;
		/* fall through */
	case 1:
		h ^= t[0];
		h *= m;
		break;
	default:
		break;
	}
	h ^= h >> 13;
	h *= m;
	h ^= h >> 15;
	return (int32_t)h;
}

uint32_t cli_key_partition(const uint8_t *key, size_t len, uint32_t partitions)
{
	return ((uint32_t)cli_murmur2(key, len) & 0x7fffffffu) % partitions;
}

/* S1: set by the signal handler, read by the main thread between blocking
 * calls. Relaxed is enough: handler and reader run on the same thread and
 * nothing else is published through it; the interrupted syscall (no
 * SA_RESTART) is what makes the main thread look. */
static atomic_int stop_flag;

static void on_signal(int sig)
{
	(void)sig;
	rxl_store_relaxed(&stop_flag, 1);
}

void cli_signals_install(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sa.sa_flags = 0; /* no SA_RESTART: futex waits, reads and sleeps return EINTR */
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
}

bool cli_stopping(void)
{
	return rxl_load_relaxed(&stop_flag) != 0; /* S1 */
}

int cli_lock_held(int dirfd, const char *name)
{
	int fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return -errno;
	int held = 0;

	if (flock(fd, LOCK_SH | LOCK_NB) < 0)
		held = errno == EWOULDBLOCK ? 1 : -errno;
	close(fd); /* drops our shared lock, if we got it */
	return held;
}

int cli_writer_open(const char *cmd, struct rxlog *rx, const char *topic, uint32_t p,
		    struct rxl_log **out)
{
	char path[4096], lock[4200], pid[32] = "";
	struct rxl_log_config c;
	int err = rxl_log_path(path, sizeof(path), rxlog_dir(rx), topic, p);

	if (err) {
		cli_err(cmd, "%s", rxl_err_msg());
		return err;
	}
	rxl_log_config_default(&c);
	/* A command-line writer: small preallocation steps, records up to 1 MiB,
	 * two staging buffers (one filling, one in flight). */
	c.prealloc_bytes = 1 << 20;
	c.batch_bytes = 1 << 20;
	c.staging_buffers = 2;
	err = rxl_log_open(path, &c, out);
	if (err == -EWOULDBLOCK) {
		snprintf(lock, sizeof(lock), "%s/lock", path);
		FILE *f = fopen(lock, "re");

		if (f) {
			if (!fgets(pid, sizeof(pid), f))
				pid[0] = '\0';
			pid[strcspn(pid, "\n")] = '\0';
			fclose(f);
		}
		const char *who = pid[0] ? pid : "unknown";

		cli_err(cmd,
			"partition %s-%" PRIu32 " has another writer, pid %s (one writer per "
			"partition): if that is the rxlogd owning %s-%" PRIu32
			", send these records "
			"to it (its native input); otherwise stop pid %s and run this again",
			topic, p, who, topic, p, who);
		return err;
	}
	if (err)
		cli_err(cmd, "cannot write partition %s-%" PRIu32 ": %s", topic, p, rxl_err_msg());
	return err;
}

int cli_writers_close(const char *cmd, const char *topic, struct rxl_log **logs, uint32_t np)
{
	int rc = 0;

	for (uint32_t p = 0; p < np; p++) {
		if (!logs[p])
			continue;
		if (rxl_log_close(logs[p])) {
			cli_err(cmd, "%s-%" PRIu32 ": %s", topic, p, rxl_err_msg());
			rc = -EIO;
		}
	}
	return rc;
}

int cli_append(const char *cmd, struct rxl_log *log, const char *part,
	       const struct rxl_record_in *in, uint64_t *offset)
{
	rxl_err_clear();
	for (;;) {
		int n = rxl_log_append_burst(log, in, 1, NULL, offset);

		if (n == 1)
			return 0;
		if (n == -EMSGSIZE) {
			cli_err(cmd,
				"%s: a record of %" PRId32 " bytes does not fit in a batch "
				"(1 MiB at most)",
				part, in->value_len);
			return n;
		}
		if (n < 0) {
			cli_err(cmd, "%s: append: %s", part,
				*rxl_err_msg() ? rxl_err_msg() : strerror(-n));
			return n;
		}
		int err = rxl_log_poll(log); /* 0 taken: let completions free a buffer */

		if (err) {
			cli_err(cmd, "%s: %s", part, rxl_err_msg());
			return err;
		}
	}
}
