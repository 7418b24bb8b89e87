/* tests: libFuzzer target for the syslog format (dataplane/fmt_syslog.c).
 * Single-threaded; built by scripts/fuzz, replayed over tests/fuzz/corpus/syslog by replay.c.
 *
 * Each input is one datagram, parsed under four settings (key choice, RFC 3164 zone, receive
 * time around a year's end, IPv4/IPv6/no source). Checks: pointers stay inside the payload or
 * the source text; the value is the message from '<' on; keep-or-drop and the value do not
 * depend on the settings; a timestamp comes from the message only when no timestamp note was
 * counted; adding one trailing '\n' changes nothing. A broken check aborts.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "rxl_formats.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(c)                                                                                \
	do {                                                                                    \
		if (!(c)) {                                                                     \
			fprintf(stderr, "fuzz_syslog: check failed at line %d: %s\n", __LINE__, \
				#c);                                                            \
			abort();                                                                \
		}                                                                               \
	} while (0)

static bool within(const void *p, int64_t n, const void *lo, size_t size)
{
	const uint8_t *a = p, *b = lo;

	return n >= 0 && a >= b && a <= b + size && (size_t)n <= (size_t)(b + size - a);
}

struct outcome {
	int n;
	uint32_t value_off, value_len;
	int64_t ts;
	uint64_t notes;
};

static struct outcome parse(const uint8_t *data, size_t size, int setting)
{
	static const enum rxl_fmt_key keys[4] = {RXL_FMT_KEY_DEFAULT, RXL_FMT_KEY_APP,
						 RXL_FMT_KEY_SRC, RXL_FMT_KEY_NONE};
	static const int64_t recv[4] = {1795804200000LL, 1798761599999LL, 1798761600000LL,
					-86400000LL * 400};
	static const int32_t tz[4] = {0, -300, 330, 24 * 60};
	struct rxl_fmt_config cfg = {.kind = RXL_FMT_SYSLOG,
				     .key = keys[setting],
				     .rfc3164_utc_offset_min = tz[setting]};
	struct rxl_fmt_in in = {.data = data, .len = (uint32_t)size, .recv_ms = recv[setting]};
	struct rxl_fmt_counters c = {0};
	struct rxl_event ev[2];
	uint32_t pos = 0;

	in.src_family = setting == 1 ? AF_INET6 : setting == 3 ? 0 : AF_INET;
	memset(in.src_addr, setting * 37 + 1, sizeof(in.src_addr));
	int n = rxl_fmt_syslog_parse(&cfg, &in, &pos, ev, 2, &c);
	struct outcome o = {.n = n};
	uint64_t total = 0;

	for (int i = 0; i < RXL_FMT_REASON_COUNT; i++)
		total += c.n[i];
	CHECK(pos == size);
	CHECK(n == 1 || n < 0);
	if (n < 0) {
		CHECK(total == 1 && c.n[-n] == 1 && rxl_fmt_reason_is_drop(-n));
		return o;
	}
	const struct rxl_event *e = &ev[0];

	CHECK(within(e->value, e->value_len, data, size));
	CHECK(e->value_len > 0 && e->value[0] == '<');
	CHECK(e->key_len == -1
		      ? e->key == NULL
		      : within(e->key, e->key_len, data, size) ||
				within(e->key, e->key_len, in.src_text, sizeof(in.src_text)));
	CHECK(e->n_headers >= 2 && e->n_headers <= RXL_EVENT_MAX_HEADERS);
	for (int h = 0; h < e->n_headers; h++)
		CHECK(e->headers[h].key_len > 0 && e->headers[h].value_len > 0);
	CHECK(e->producer_id == -1 && e->sequence == -1);
	bool ts_note = c.n[RXL_FMT_SYSLOG_NO_TIMESTAMP] || c.n[RXL_FMT_SYSLOG_BAD_TIMESTAMP];

	CHECK(!ts_note || e->timestamp_ms == in.recv_ms);
	/* 4-digit years, offsets of at most a day: the range is bounded */
	CHECK(ts_note || (e->timestamp_ms > -62167219200000LL - 86400000LL * 400 &&
			  e->timestamp_ms < 253402300800000LL + 86400000LL * 400));
	o.value_off = (uint32_t)(e->value - data);
	o.value_len = (uint32_t)e->value_len;
	o.ts = e->timestamp_ms;
	o.notes = total;
	return o;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size > 65535)
		return 0;
	struct outcome o[4];

	for (int s = 0; s < 4; s++) {
		o[s] = parse(data, size, s);
		CHECK((o[s].n < 0) == (o[0].n < 0));
		CHECK(o[s].n >= 0 || o[s].n == o[0].n);
		CHECK(o[s].n < 0 ||
		      (o[s].value_off == o[0].value_off && o[s].value_len == o[0].value_len));
	}
	/* One trailing LF is a terminator: the same message with one added parses the same,
	 * unless the input already ends in a terminator or an octet count frames it. */
	if (size && data[size - 1] != '\n' && data[size - 1] != '\r' && data[size - 1] != '\0' &&
	    data[0] == '<') {
		uint8_t *lf = malloc(size + 1);

		CHECK(lf != NULL);
		memcpy(lf, data, size);
		lf[size] = '\n';
		struct outcome x = parse(lf, size + 1, 0);

		CHECK(x.n == o[0].n);
		CHECK(x.n < 0 || (x.value_off == o[0].value_off && x.value_len == o[0].value_len &&
				  x.ts == o[0].ts && x.notes == o[0].notes));
		free(lf);
	}
	return 0;
}
