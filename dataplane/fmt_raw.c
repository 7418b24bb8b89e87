/* dataplane: the raw payload format, plus what all formats share (dispatch, names, source text).
 * rx lcore (parse, dispatch, source text); any thread (names, config check).
 *
 * raw: one datagram is one event, its bytes the value, no key (or the source address), the
 * receive time. Nothing in it is interpreted, so the only reasons are "empty" and
 * "oversize_event". The shared parts live here because raw needs nothing else.
 */
#include "rxl_formats.h"

#include <arpa/inet.h>
#include <errno.h>
#include <string.h>
#include <sys/socket.h>

#include "rxl_err.h"

static const char *const reason_names[RXL_FMT_REASON_COUNT] = {
	[RXL_FMT_OK] = "ok",
	[RXL_FMT_EMPTY] = "empty",
	[RXL_FMT_OVERSIZE_EVENT] = "oversize_event",
	[RXL_FMT_NATIVE_TRUNCATED] = "native_truncated",
	[RXL_FMT_NATIVE_BAD_MAGIC] = "native_bad_magic",
	[RXL_FMT_NATIVE_BAD_VERSION] = "native_bad_version",
	[RXL_FMT_NATIVE_BAD_FLAGS] = "native_bad_flags",
	[RXL_FMT_NATIVE_BAD_COUNT] = "native_bad_count",
	[RXL_FMT_NATIVE_TOO_MANY_EVENTS] = "native_too_many_events",
	[RXL_FMT_NATIVE_BAD_PRODUCER] = "native_bad_producer",
	[RXL_FMT_NATIVE_BAD_LENGTH] = "native_bad_length",
	[RXL_FMT_NATIVE_BAD_TIMESTAMP] = "native_bad_timestamp",
	[RXL_FMT_NATIVE_TRAILING_BYTES] = "native_trailing_bytes",
	[RXL_FMT_SYSLOG_NO_PRI] = "syslog_no_pri",
	[RXL_FMT_SYSLOG_BAD_PRI] = "syslog_bad_pri",
	[RXL_FMT_SYSLOG_BAD_OCTET_COUNT] = "syslog_bad_octet_count",
	[RXL_FMT_SYSLOG_NO_TIMESTAMP] = "syslog_no_timestamp",
	[RXL_FMT_SYSLOG_BAD_TIMESTAMP] = "syslog_bad_timestamp",
	[RXL_FMT_SYSLOG_BAD_HEADER] = "syslog_bad_header",
	[RXL_FMT_LINES_EMPTY_LINE] = "lines_empty_line",
};

const char *rxl_fmt_drop_name(enum rxl_fmt_reason r)
{
	if ((unsigned)r >= RXL_FMT_REASON_COUNT || !reason_names[r])
		return "unknown";
	return reason_names[r];
}

bool rxl_fmt_reason_is_drop(enum rxl_fmt_reason r)
{
	switch (r) {
	case RXL_FMT_OK:
	case RXL_FMT_SYSLOG_NO_TIMESTAMP:
	case RXL_FMT_SYSLOG_BAD_TIMESTAMP:
	case RXL_FMT_SYSLOG_BAD_HEADER:
	case RXL_FMT_LINES_EMPTY_LINE:
	case RXL_FMT_REASON_COUNT:
		return false;
	default:
		return true;
	}
}

static const char *const kind_names[] = {
	[RXL_FMT_NATIVE] = "native",
	[RXL_FMT_SYSLOG] = "syslog",
	[RXL_FMT_LINES] = "lines",
	[RXL_FMT_RAW] = "raw",
};

const char *rxl_fmt_kind_name(enum rxl_fmt_kind kind)
{
	if (kind < RXL_FMT_NATIVE || kind > RXL_FMT_RAW)
		return "unknown";
	return kind_names[kind];
}

int rxl_fmt_kind_from_name(const char *name, enum rxl_fmt_kind *kind)
{
	for (int k = RXL_FMT_NATIVE; k <= RXL_FMT_RAW; k++) {
		if (strcmp(name, kind_names[k]) == 0) {
			*kind = (enum rxl_fmt_kind)k;
			return 0;
		}
	}
	return rxl_err_set(-EINVAL, "unknown format '%s' (valid: native, syslog, lines, raw)",
			   name);
}

int rxl_fmt_config_check(const struct rxl_fmt_config *cfg)
{
	if (cfg->kind < RXL_FMT_NATIVE || cfg->kind > RXL_FMT_RAW)
		return rxl_err_set(-EINVAL,
				   "format: unknown kind %d (valid: native, syslog, lines, raw)",
				   (int)cfg->kind);
	if (cfg->key < RXL_FMT_KEY_DEFAULT || cfg->key > RXL_FMT_KEY_HOST)
		return rxl_err_set(-EINVAL,
				   "format: unknown key %d (valid: default, none, src, app, host)",
				   (int)cfg->key);
	if ((cfg->key == RXL_FMT_KEY_APP || cfg->key == RXL_FMT_KEY_HOST) &&
	    cfg->kind != RXL_FMT_SYSLOG)
		return rxl_err_set(-EINVAL,
				   "format %s: key '%s' exists only for syslog "
				   "(valid: default, none, src)",
				   rxl_fmt_kind_name(cfg->kind),
				   cfg->key == RXL_FMT_KEY_APP ? "app" : "host");
	if (cfg->rfc3164_utc_offset_min < -24 * 60 || cfg->rfc3164_utc_offset_min > 24 * 60)
		return rxl_err_set(-EINVAL, "format: RFC 3164 UTC offset %d min is beyond +-24 h",
				   (int)cfg->rfc3164_utc_offset_min);
	return 0;
}

int rxl_fmt_parse(const struct rxl_fmt_config *cfg, struct rxl_fmt_in *in, uint32_t *pos,
		  struct rxl_event *ev, uint32_t max_events, struct rxl_fmt_counters *cnt)
{
	switch (cfg->kind) {
	case RXL_FMT_NATIVE:
		return rxl_fmt_native_parse(cfg, in, pos, ev, max_events, cnt);
	case RXL_FMT_SYSLOG:
		return rxl_fmt_syslog_parse(cfg, in, pos, ev, max_events, cnt);
	case RXL_FMT_LINES:
		return rxl_fmt_lines_parse(cfg, in, pos, ev, max_events, cnt);
	case RXL_FMT_RAW:
		break;
	}
	return rxl_fmt_raw_parse(cfg, in, pos, ev, max_events, cnt);
}

/* Decimal 0..255 at @p. Returns: digits written. */
static uint32_t put_u8(char *p, unsigned v)
{
	if (v >= 100) {
		p[0] = (char)('0' + v / 100);
		p[1] = (char)('0' + v / 10 % 10);
		p[2] = (char)('0' + v % 10);
		return 3;
	}
	if (v >= 10) {
		p[0] = (char)('0' + v / 10);
		p[1] = (char)('0' + v % 10);
		return 2;
	}
	p[0] = (char)('0' + v);
	return 1;
}

_Static_assert(AF_INET != 6 && AF_INET6 != 4, "socket and rxl_l2l4 families do not collide");

uint32_t rxl_fmt_src_text(struct rxl_fmt_in *in)
{
	if (in->src_family == AF_INET || in->src_family == 4) {
		/* By hand: inet_ntop() costs more than parsing a whole syslog message. */
		uint32_t n = 0;

		for (int i = 0; i < 4; i++) {
			if (i)
				in->src_text[n++] = '.';
			n += put_u8(in->src_text + n, in->src_addr[i]);
		}
		return n;
	}
	if ((in->src_family == AF_INET6 || in->src_family == 6) &&
	    inet_ntop(AF_INET6, in->src_addr, in->src_text, sizeof(in->src_text)))
		return (uint32_t)strlen(in->src_text);
	return 0;
}

int rxl_fmt_raw_parse(const struct rxl_fmt_config *cfg, struct rxl_fmt_in *in, uint32_t *pos,
		      struct rxl_event *ev, uint32_t max_events, struct rxl_fmt_counters *cnt)
{
	uint32_t start = *pos, len = in->len;
	enum rxl_fmt_reason why;

	if (start >= len) { /* nothing (left): only a zero-byte datagram is counted */
		if (len)
			return 0;
		why = RXL_FMT_EMPTY;
		goto dropped;
	}
	if (max_events == 0) /* a burst of 0: nothing consumed, as the contract says */
		return 0;
	*pos = len;
	uint32_t vlen = len - start, klen = 0;

	ev->key = NULL;
	ev->key_len = -1;
	if (cfg->key == RXL_FMT_KEY_SRC && (klen = rxl_fmt_src_text(in))) {
		ev->key = (const uint8_t *)in->src_text;
		ev->key_len = (int32_t)klen;
	}
	if ((cfg->max_event_bytes && (uint64_t)vlen + klen > cfg->max_event_bytes) ||
	    vlen > (uint32_t)INT32_MAX) {
		why = RXL_FMT_OVERSIZE_EVENT;
		goto dropped;
	}
	ev->value = in->data + start;
	ev->value_len = (int32_t)vlen;
	ev->timestamp_ms = in->recv_ms;
	ev->producer_id = -1;
	ev->producer_epoch = -1;
	ev->sequence = -1;
	ev->n_headers = 0;
	return 1;
dropped:
	cnt->n[why]++;
	*pos = len;
	return -(int)why;
}
