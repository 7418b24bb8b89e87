/* tests: libFuzzer target for the lines format (dataplane/fmt_lines.c).
 * Single-threaded; built by scripts/fuzz, replayed over tests/fuzz/corpus/lines by replay.c.
 *
 * Each input is one datagram, parsed in bursts of 1, 2, 7 and 64 events, without and with a
 * 16-byte line limit, and compared with a model that splits the bytes by hand: the same lines
 * in the same order, every skipped line counted (empty or oversize), each event inside the
 * payload, and every byte of the datagram either in an event, a separator, or a counted line.
 * A broken check aborts.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rxl_formats.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(c)                                                                               \
	do {                                                                                   \
		if (!(c)) {                                                                    \
			fprintf(stderr, "fuzz_lines: check failed at line %d: %s\n", __LINE__, \
				#c);                                                           \
			abort();                                                               \
		}                                                                              \
	} while (0)

static void run(const uint8_t *data, size_t size, uint32_t burst, uint32_t limit)
{
	struct rxl_fmt_config cfg = {.kind = RXL_FMT_LINES, .max_event_bytes = limit};
	struct rxl_fmt_in in = {.data = data, .len = (uint32_t)size, .recv_ms = 7};
	struct rxl_fmt_counters c = {0};
	struct rxl_event ev[64];
	uint32_t pos = 0, calls = 0;
	/* the model walks the same bytes */
	size_t m = 0;
	uint64_t empty = 0, oversize = 0;

	if (size == 0) {
		CHECK(rxl_fmt_lines_parse(&cfg, &in, &pos, ev, burst, &c) == -RXL_FMT_EMPTY);
		CHECK(c.n[RXL_FMT_EMPTY] == 1);
		return;
	}
	while (pos < size) {
		uint32_t before = pos;
		int n = rxl_fmt_lines_parse(&cfg, &in, &pos, ev, burst, &c);

		CHECK(n >= 0 && (uint32_t)n <= burst);
		CHECK(pos > before && pos <= size);
		CHECK(pos == size || (uint32_t)n == burst);
		CHECK(++calls <= size + 1);
		for (int i = 0; i < n; i++) {
			/* the model's next kept line */
			const uint8_t *s, *e;
			size_t l;

			for (;;) {
				CHECK(m < size);
				s = data + m;
				e = memchr(s, '\n', size - m);
				l = (size_t)((e ? e : data + size) - s);
				m = e ? (size_t)(e - data) + 1 : size;
				if (e && l && s[l - 1] == '\r')
					l--;
				if (l == 0)
					empty++;
				else if (limit && l > limit)
					oversize++;
				else
					break;
			}
			CHECK(ev[i].value == s && ev[i].value_len == (int32_t)l);
			CHECK(ev[i].key == NULL && ev[i].key_len == -1 && ev[i].n_headers == 0);
			CHECK(ev[i].timestamp_ms == 7);
			CHECK(memchr(ev[i].value, '\n', l) == NULL);
		}
	}
	/* lines after the last event: all skipped ones */
	while (m < size) {
		const uint8_t *s = data + m, *e = memchr(s, '\n', size - m);
		size_t l = (size_t)((e ? e : data + size) - s);

		m = e ? (size_t)(e - data) + 1 : size;
		if (e && l && s[l - 1] == '\r')
			l--;
		CHECK(l == 0 || (limit && l > limit));
		if (l == 0)
			empty++;
		else
			oversize++;
	}
	CHECK(c.n[RXL_FMT_LINES_EMPTY_LINE] == empty);
	CHECK(c.n[RXL_FMT_OVERSIZE_EVENT] == oversize);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint32_t bursts[] = {1, 2, 7, 64};

	if (size > 65535)
		return 0;
	for (size_t b = 0; b < sizeof(bursts) / sizeof(bursts[0]); b++) {
		run(data, size, bursts[b], 0);
		run(data, size, bursts[b], 16);
	}
	return 0;
}
