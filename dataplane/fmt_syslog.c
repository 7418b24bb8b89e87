/* dataplane: the syslog payload format (RFC 5424 and RFC 3164 over UDP, RFC 5426).
 * rx lcore; pure function of one datagram (one message per datagram).
 *
 * Real senders first: util-linux `logger` (both modes, with --octet-count too), rsyslog's
 * forwarding templates (traditional "Mmm dd hh:mm:ss", RFC 3339 in a BSD header, RFC 5424 with
 * a trailing '\n'), syslog-ng (BSD with '\n', RFC 5424), network gear that sends
 * "<pri>message". docs/FORMATS.md has the mapping; in short:
 *
 *   S1 Drop (counted) only what is not syslog at all: zero bytes ("empty"), no '<' where the
 *      PRI must be ("syslog_no_pri"), a PRI that is not <0>..<191> ("syslog_bad_pri"), an
 *      octet-count prefix that disagrees with the length ("syslog_bad_octet_count"), or a
 *      message over max_event_bytes ("oversize_event"). Everything after a valid PRI is kept,
 *      as RFC 3164 4.3 asks of relays: a header that does not parse costs its fields, never
 *      the message, and is noted ("syslog_bad_timestamp", "syslog_no_timestamp",
 *      "syslog_bad_header").
 *   S2 Value: the message byte for byte from '<' on, less one trailing "\n", "\r\n" or NUL (a
 *      terminator some senders add; RFC 5426 has none) and less an RFC 6587 octet count
 *      ("123 <13>1 ..."), which is framing.
 *   S3 Timestamp: the message's, in UTC ms; else the receive time. RFC 3164 has no zone and
 *      no year: the zone is the listener's rfc3164_utc_offset_min (default UTC); the year is
 *      the latest that puts the month at most one month after the receive month (December's
 *      messages received in January belong to the year before; January's received in
 *      December to the next).
 *   S4 Key: host name, else app name, else the sender's address (RXL_FMT_KEY_DEFAULT).
 *   S5 Headers: "severity" and "facility" as decimal numbers ("3", "16"), "app" when there is
 *      one, "src" (the sender's IP as text) when known.
 * Only the fields up to APP-NAME (and the shape of PROCID and MSGID) are parsed: the rest is in
 * the value already, so structured data and the message body cost nothing.
 */
#include "rxl_civil.h"
#include "rxl_formats.h"

#include <string.h>

#define HOST_MAX 255 /* RFC 5424 6.2.4 */
#define APP_MAX 48   /* RFC 5424 6.2.5; RFC 3164's TAG is 32, real ones are longer */
#define PROCID_MAX 128
#define MSGID_MAX 32
#define MS_PER_DAY 86400000LL

enum ts_state { TS_NONE, TS_OK, TS_BAD };

struct rxl_syslog_hdr {
	const uint8_t *host, *app;
	uint32_t host_len, app_len;
	int64_t ts_ms;
	enum ts_state ts;
	bool bad_header;
};

/* "0" .. "23": header values point here (no storage per event). */
/* clang-format off */
static const char dec[24][3] = {
	"0",  "1",  "2",  "3",  "4",  "5",  "6",  "7",  "8",  "9",  "10", "11",
	"12", "13", "14", "15", "16", "17", "18", "19", "20", "21", "22", "23",
};
/* clang-format on */

static bool is_digit(uint8_t c)
{
	return (uint8_t)(c - '0') < 10;
}

/* @n digits at p (caller checked they exist). Returns: the value, or -1 if one is no digit. */
static int digits(const uint8_t *p, int n)
{
	int v = 0;

	for (int i = 0; i < n; i++) {
		if (!is_digit(p[i]))
			return -1;
		v = v * 10 + (p[i] - '0');
	}
	return v;
}

/* Year and month of a day number (civil_from_days, the inverse). */
static void civil_from_days(int64_t z, int64_t *y, int *m)
{
	z += 719468;
	int64_t era = (z >= 0 ? z : z - 146096) / 146097;
	int64_t doe = z - era * 146097;
	int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	int64_t mp = (5 * doy + 2) / 153;

	*m = (int)(mp < 10 ? mp + 3 : mp - 9);
	*y = yoe + era * 400 + (*m <= 2);
}

static bool valid_date(int64_t y, int m, int d)
{
	static const uint8_t mdays[13] = {0, 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};

	if (m < 1 || m > 12 || d < 1 || d > mdays[m])
		return false;
	return m != 2 || d < 29 || (y % 4 == 0 && (y % 100 != 0 || y % 400 == 0));
}

/* Milliseconds of a civil local time, @off_min east of UTC. Returns: false if out of range. */
static bool to_ms(int64_t y, int m, int d, int hh, int mi, int ss, int ms, int off_min,
		  int64_t *out)
{
	if (!valid_date(y, m, d) || hh > 23 || mi > 59 || ss > 60) /* 60: a leap second */
		return false;
	*out = rxl_days_from_civil(y, m, d) * MS_PER_DAY +
	       ((int64_t)hh * 3600 + mi * 60 + ss) * 1000 + ms - (int64_t)off_min * 60000;
	return true;
}

/*
 * "hh:mm:ss" then an optional ".f" (1-9 digits, kept to ms) at [p, end).
 * Returns: bytes used, 0 if malformed.
 */
static uint32_t parse_time(const uint8_t *p, const uint8_t *end, int *hh, int *mi, int *ss, int *ms)
{
	if (end - p < 8 || p[2] != ':' || p[5] != ':')
		return 0;
	*hh = digits(p, 2);
	*mi = digits(p + 3, 2);
	*ss = digits(p + 6, 2);
	if (*hh < 0 || *mi < 0 || *ss < 0)
		return 0;
	uint32_t n = 8;

	*ms = 0;
	if (n < (uint32_t)(end - p) && p[n] == '.') {
		uint32_t f = 0;

		n++;
		while (n < (uint32_t)(end - p) && is_digit(p[n]) && f < 10) {
			if (f < 3)
				*ms = *ms * 10 + (p[n] - '0');
			f++;
			n++;
		}
		if (f == 0 || f > 9)
			return 0;
		for (; f < 3; f++)
			*ms *= 10;
	}
	return n;
}

/*
 * An RFC 3339 timestamp filling exactly [p, end): "YYYY-MM-DDThh:mm:ss[.f](Z|+hh:mm|-hh:mm)".
 * A missing offset means @def_off_min (RFC 5424 requires one; some BSD-header senders omit it).
 * Returns: true with *out in UTC ms.
 */
static bool parse_iso(const uint8_t *p, const uint8_t *end, int def_off_min, int64_t *out)
{
	if (end - p < 19 || p[4] != '-' || p[7] != '-' || p[10] != 'T')
		return false;
	int y = digits(p, 4), m = digits(p + 5, 2), d = digits(p + 8, 2);
	int hh, mi, ss, ms;
	uint32_t n = parse_time(p + 11, end, &hh, &mi, &ss, &ms);

	if (y < 0 || m < 0 || d < 0 || n == 0)
		return false;
	p += 11 + n;
	int off = def_off_min;

	if (p < end && *p == 'Z') {
		off = 0;
		p++;
	} else if (p < end && (*p == '+' || *p == '-')) {
		if (end - p < 6 || p[3] != ':')
			return false;
		int oh = digits(p + 1, 2), om = digits(p + 4, 2);

		if (oh < 0 || om < 0 || oh > 23 || om > 59)
			return false;
		off = (*p == '-' ? -1 : 1) * (oh * 60 + om);
		p += 6;
	}
	return p == end && to_ms(y, m, d, hh, mi, ss, ms, off, out);
}

/* The token [p, SP or end). Returns: its length. */
static uint32_t token(const uint8_t *p, const uint8_t *end)
{
	const uint8_t *q = p;

	while (q < end && *q != ' ')
		q++;
	return (uint32_t)(q - p);
}

/* The token [p, SP or end), and in one pass whether it is all PRINTUSASCII (33..126). */
static uint32_t field(const uint8_t *p, const uint8_t *end, bool *printus)
{
	const uint8_t *q = p;
	unsigned bad = 0;

	while (q < end && *q != ' ') {
		bad |= (uint8_t)(*q - 33) > 126 - 33;
		q++;
	}
	*printus = !bad;
	return (uint32_t)(q - p);
}

/* PRINTUSASCII (RFC 5424: 33..126) throughout. */
static bool printable(const uint8_t *p, uint32_t n)
{
	for (uint32_t i = 0; i < n; i++)
		if ((uint8_t)(p[i] - 33) > 126 - 33)
			return false;
	return true;
}

static bool nil(const uint8_t *p, uint32_t n)
{
	return n == 1 && p[0] == '-';
}

/*
 * RFC 5424 after "VERSION SP": TIMESTAMP SP HOSTNAME SP APP-NAME SP PROCID SP MSGID SP SD ...
 * A field that is absent, too long or not PRINTUSASCII is not used, and the header is noted.
 */
static void parse_5424(const uint8_t *p, const uint8_t *end, struct rxl_syslog_hdr *h)
{
	uint32_t n = token(p, end);
	bool ok;

	if (nil(p, n))
		h->ts = TS_NONE;
	else
		h->ts = parse_iso(p, p + n, 0, &h->ts_ms) ? TS_OK : TS_BAD;
	p += n;
	if (p == end)
		goto cut;
	p++;
	n = field(p, end, &ok);
	if (n == 0 || n > HOST_MAX || !ok)
		h->bad_header = true;
	else if (!nil(p, n))
		h->host = p, h->host_len = n;
	p += n;
	if (p == end)
		goto cut;
	p++;
	n = field(p, end, &ok);
	if (n == 0 || n > APP_MAX || !ok)
		h->bad_header = true;
	else if (!nil(p, n))
		h->app = p, h->app_len = n;
	p += n;
	/* The shape of the rest: SP PROCID SP MSGID SP STRUCTURED-DATA (at least "-"). */
	static const uint32_t max[2] = {PROCID_MAX, MSGID_MAX};

	for (int i = 0; i < 2; i++) {
		if (p == end)
			goto cut;
		p++;
		n = field(p, end, &ok);
		if (n == 0 || n > max[i] || !ok)
			h->bad_header = true;
		p += n;
	}
	if (end - p < 2)
		goto cut;
	return;
cut:
	h->bad_header = true;
}

static int month_of(const uint8_t *p)
{
	static const char names[] = "JanFebMarAprMayJunJulAugSepOctNovDec";

	for (int i = 0; i < 12; i++)
		if (p[0] == names[3 * i] && p[1] == names[3 * i + 1] && p[2] == names[3 * i + 2])
			return i + 1;
	return 0;
}

/*
 * The BSD timestamp "Mmm dd hh:mm:ss" at [p, end) ("Mmm  d", "Mmm d" and "Mmm dd yyyy" too,
 * and a fraction after the seconds). The caller saw a month name and a space.
 * Returns: bytes used, 0 if malformed.
 */
static uint32_t parse_bsd_ts(const uint8_t *p, const uint8_t *end, int mon, int64_t recv_ms,
			     int off_min, int64_t *out)
{
	const uint8_t *q = p + 4;
	int d;

	if (end - q >= 2 && q[0] == ' ' && is_digit(q[1])) { /* "Nov  7" */
		d = q[1] - '0';
		q += 2;
	} else if (end - q >= 2 && is_digit(q[0]) && is_digit(q[1])) { /* "Nov 27", "Nov 07" */
		d = digits(q, 2);
		q += 2;
	} else if (end - q >= 1 && is_digit(q[0])) { /* "Nov 7" */
		d = q[0] - '0';
		q++;
	} else {
		return 0;
	}
	if (q == end || *q != ' ')
		return 0;
	q++;
	int64_t y;
	int rm;

	if (end - q >= 5 && q[4] == ' ' && digits(q, 4) >= 0) { /* "Nov 27 2026 10:00:00" */
		y = digits(q, 4);
		q += 5;
	} else {
		/* S3: the latest year that puts the month at most one month after the receive
		 * time in the sender's zone (a clock a little ahead is possible, months are not).
		 */
		int64_t local;

		if (__builtin_add_overflow(recv_ms, (int64_t)off_min * 60000, &local))
			return 0;
		int64_t days = local / MS_PER_DAY - (local % MS_PER_DAY < 0);

		civil_from_days(days, &y, &rm);
		if (mon == 1 && rm == 12) /* sent just after midnight on 1 January */
			y++;
		else if (mon > rm + 1) /* more than a month ahead: last year's */
			y--;
	}
	int hh, mi, ss, ms;
	uint32_t n = parse_time(q, end, &hh, &mi, &ss, &ms);

	if (n == 0 || (q + n < end && q[n] != ' '))
		return 0;
	if (!to_ms(y, mon, d, hh, mi, ss, ms, off_min, out))
		return 0;
	return (uint32_t)(q + n - p);
}

/*
 * A BSD TAG token: "app:", "app[123]" or "app[123]:" (the name 1..48 PRINTUSASCII without '['
 * or ':'). A bare word is not one ("<13>Feb  5 17:32:18 10.0.0.99 Use the BFG!").
 * Returns: true with *len = the name's length.
 */
static bool tag_of(const uint8_t *p, uint32_t n, uint32_t *len)
{
	uint32_t i = 0;

	while (i < n && p[i] != '[' && p[i] != ':')
		i++;
	if (i == 0 || i == n || i > APP_MAX || !printable(p, i))
		return false;
	if (p[i] == ':') {
		if (i + 1 != n)
			return false;
	} else {
		uint32_t j = i + 1;

		while (j < n && p[j] != ']')
			j++;
		if (j == n)
			return false;
		j++;
		if (j != n && !(j + 1 == n && p[j] == ':'))
			return false;
	}
	*len = i;
	return true;
}

/*
 * RFC 3164 after the PRI: TIMESTAMP SP HOSTNAME SP TAG ... with the variations senders use.
 * Without a recognisable timestamp the whole rest is CONTENT (RFC 3164 4.3.3).
 */
static void parse_3164(const struct rxl_fmt_config *cfg, int64_t recv_ms, const uint8_t *p,
		       const uint8_t *end, struct rxl_syslog_hdr *h)
{
	uint32_t n = 0;
	int mon;

	if (end - p >= 4 && p[3] == ' ' && (mon = month_of(p)) != 0) {
		n = parse_bsd_ts(p, end, mon, recv_ms, cfg->rfc3164_utc_offset_min, &h->ts_ms);
		h->ts = n ? TS_OK : TS_BAD;
	} else if (end - p >= 5 && p[4] == '-' && digits(p, 4) >= 0) {
		/* rsyslog's RSYSLOG_ForwardFormat, syslog-ng's ts-format(iso): RFC 3339 in a BSD
		 * header. */
		n = token(p, end);
		h->ts = parse_iso(p, p + n, cfg->rfc3164_utc_offset_min, &h->ts_ms) ? TS_OK
										    : TS_BAD;
		if (h->ts == TS_BAD)
			n = 0;
	} else {
		h->ts = TS_NONE;
	}
	if (n == 0 || end - p - n < 2) /* no usable timestamp, or nothing after it */
		return;
	p += n + 1;
	bool ok;
	uint32_t tl;

	n = field(p, end, &ok);

	/* HOSTNAME is optional in practice (local senders omit it): a first token that reads as
	 * a TAG is one. */
	if (tag_of(p, n, &tl)) {
		h->app = p, h->app_len = tl;
		return;
	}
	if (n == 0 || n > HOST_MAX || !ok)
		return;
	h->host = p, h->host_len = n;
	p += n;
	if (end - p < 2)
		return;
	p++;
	n = token(p, end);
	if (tag_of(p, n, &tl))
		h->app = p, h->app_len = tl;
}

static int drop(struct rxl_fmt_counters *cnt, enum rxl_fmt_reason r)
{
	cnt->n[r]++;
	return -(int)r;
}

static void set_header(struct rxl_header *x, const char *key, uint32_t klen, const void *value,
		       uint32_t vlen)
{
	x->key = key;
	x->key_len = (int32_t)klen;
	x->value = value;
	x->value_len = (int32_t)vlen;
}

int rxl_fmt_syslog_parse(const struct rxl_fmt_config *cfg, struct rxl_fmt_in *in, uint32_t *pos,
			 struct rxl_event *ev, uint32_t max_events, struct rxl_fmt_counters *cnt)
{
	uint32_t len = in->len;

	if (*pos >= len) /* nothing (left): only a zero-byte datagram is counted */
		return len ? 0 : drop(cnt, RXL_FMT_EMPTY);
	if (max_events == 0)
		return 0;
	const uint8_t *msg = in->data + *pos, *end = in->data + len;

	*pos = len;
	/* S2: an RFC 6587 octet count ("123 <13>...", logger --octet-count) is framing. */
	if (is_digit(*msg)) {
		const uint8_t *q = msg;
		uint32_t count = 0;

		while (q < end && is_digit(*q) && q - msg < 6)
			count = count * 10 + (uint32_t)(*q++ - '0');
		if (q == end || *q != ' ')
			return drop(cnt, RXL_FMT_SYSLOG_NO_PRI);
		q++;
		if (count != (uint32_t)(end - q))
			return drop(cnt, RXL_FMT_SYSLOG_BAD_OCTET_COUNT);
		msg = q;
	}
	if (end > msg && end[-1] == '\n') {
		end--;
		if (end > msg && end[-1] == '\r')
			end--;
	} else if (end > msg && end[-1] == '\0') {
		end--;
	}
	if (msg == end)
		return drop(cnt, RXL_FMT_EMPTY);
	if (*msg != '<')
		return drop(cnt, RXL_FMT_SYSLOG_NO_PRI);
	/* PRI: '<' 1-3 digits '>', 0..191. */
	const uint8_t *p = msg + 1;
	uint32_t pri = 0, nd = 0;

	while (p < end && is_digit(*p) && nd < 4) {
		pri = pri * 10 + (uint32_t)(*p++ - '0');
		nd++;
	}
	if (nd == 0 || nd > 3 || p == end || *p != '>' || pri > 191)
		return drop(cnt, RXL_FMT_SYSLOG_BAD_PRI);
	p++;

	struct rxl_syslog_hdr h = {.ts = TS_NONE};

	if (end - p >= 2 && p[0] == '1' && p[1] == ' ')
		parse_5424(p + 2, end, &h);
	else
		parse_3164(cfg, in->recv_ms, p, end, &h);

	uint32_t src_len = rxl_fmt_src_text(in);
	const uint8_t *src = (const uint8_t *)in->src_text;
	const uint8_t *key = NULL;
	uint32_t klen = 0;

	switch (cfg->key) { /* S4 */
	case RXL_FMT_KEY_DEFAULT:
		if (h.host)
			key = h.host, klen = h.host_len;
		else if (h.app)
			key = h.app, klen = h.app_len;
		else if (src_len)
			key = src, klen = src_len;
		break;
	case RXL_FMT_KEY_SRC:
		if (src_len)
			key = src, klen = src_len;
		break;
	case RXL_FMT_KEY_APP:
		if (h.app)
			key = h.app, klen = h.app_len;
		break;
	case RXL_FMT_KEY_HOST:
		if (h.host)
			key = h.host, klen = h.host_len;
		break;
	case RXL_FMT_KEY_NONE:
		break;
	}
	uint32_t vlen = (uint32_t)(end - msg);

	if ((cfg->max_event_bytes && (uint64_t)vlen + klen > cfg->max_event_bytes) ||
	    vlen > (uint32_t)INT32_MAX)
		return drop(cnt, RXL_FMT_OVERSIZE_EVENT);
	/* Notes only once the event is certain to be kept. */
	if (h.ts == TS_NONE)
		cnt->n[RXL_FMT_SYSLOG_NO_TIMESTAMP]++;
	else if (h.ts == TS_BAD)
		cnt->n[RXL_FMT_SYSLOG_BAD_TIMESTAMP]++;
	if (h.bad_header)
		cnt->n[RXL_FMT_SYSLOG_BAD_HEADER]++;

	ev->key = key;
	ev->key_len = key ? (int32_t)klen : -1;
	ev->value = msg;
	ev->value_len = (int32_t)vlen;
	ev->timestamp_ms = h.ts == TS_OK ? h.ts_ms : in->recv_ms;
	ev->producer_id = -1;
	ev->producer_epoch = -1;
	ev->sequence = -1;
	/* S5 */
	set_header(&ev->headers[0], "severity", 8, dec[pri & 7], (pri & 7) < 10 ? 1 : 2);
	set_header(&ev->headers[1], "facility", 8, dec[pri >> 3], (pri >> 3) < 10 ? 1 : 2);
	uint16_t nh = 2;

	if (h.app)
		set_header(&ev->headers[nh++], "app", 3, h.app, h.app_len);
	if (src_len)
		set_header(&ev->headers[nh++], "src", 3, src, src_len);
	ev->n_headers = nh;
	return 1;
}
