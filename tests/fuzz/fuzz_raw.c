/* tests: libFuzzer target for the raw format and the shared source-address text
 * (dataplane/fmt_raw.c). Single-threaded; built by scripts/fuzz, replayed over
 * tests/fuzz/corpus/raw by replay.c.
 *
 * The first 17 bytes of an input choose the sender (byte 0: IPv4, IPv6 or no address; then
 * 16 address bytes); the rest is one datagram, parsed through rxl_fmt_parse with keys none
 * and src, without and with a 24-byte limit, and compared with a model: one event whose
 * value is exactly the datagram, whose key (key src) is the sender's dotted quad or an IPv6
 * text that parses back to its address (families AF_INET/AF_INET6 and rxl_l2l4's 4/6), or
 * null, with the receive time; or, for an empty or oversize datagram, one counted drop and
 * no event. A broken check aborts.
 */
#include <arpa/inet.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "rxl_formats.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(c)                                                                                  \
	do {                                                                                      \
		if (!(c)) {                                                                       \
			fprintf(stderr, "fuzz_raw: check failed at line %d: %s\n", __LINE__, #c); \
			abort();                                                                  \
		}                                                                                 \
	} while (0)

static void run(const uint8_t *hdr, const uint8_t *data, size_t size, enum rxl_fmt_key key,
		uint32_t limit)
{
	struct rxl_fmt_config cfg = {.kind = RXL_FMT_RAW, .key = key, .max_event_bytes = limit};
	struct rxl_fmt_in in = {.data = data, .len = (uint32_t)size, .recv_ms = 11};
	struct rxl_fmt_counters c = {0};
	struct rxl_event ev[2];
	uint32_t pos = 0;
	char want[INET6_ADDRSTRLEN] = "";
	bool v6 = false;

	/* Socket families (the kernel-socket source) and rxl_l2l4's 4 and 6
	 * (a DPDK port) name the same addresses. */
	switch (hdr[0] % 5) {
	case 0:
		in.src_family = AF_INET;
		break;
	case 1:
		in.src_family = AF_INET6;
		break;
	case 2:
		in.src_family = 4;
		break;
	case 3:
		in.src_family = 6;
		break;
	default:
		break; /* no address: no key even with key src */
	}
	memcpy(in.src_addr, hdr + 1, 16);
	if (in.src_family == AF_INET || in.src_family == 4)
		snprintf(want, sizeof(want), "%u.%u.%u.%u", hdr[1], hdr[2], hdr[3], hdr[4]);
	v6 = in.src_family == AF_INET6 || in.src_family == 6;
	size_t klen = key == RXL_FMT_KEY_SRC ? strlen(want) : 0;
	int n = rxl_fmt_parse(&cfg, &in, &pos, ev, 2, &c);

	CHECK(pos == size);
	if (size == 0) {
		CHECK(n == -RXL_FMT_EMPTY && c.n[RXL_FMT_EMPTY] == 1);
		return;
	}
	if (key == RXL_FMT_KEY_SRC && v6) /* its length: inet_ntop's, checked below */
		klen = strlen(inet_ntop(AF_INET6, hdr + 1, want, sizeof(want)));
	if (limit && size + klen > limit) {
		CHECK(n == -RXL_FMT_OVERSIZE_EVENT && c.n[RXL_FMT_OVERSIZE_EVENT] == 1);
		return;
	}
	CHECK(n == 1);
	for (int r = 0; r < RXL_FMT_REASON_COUNT; r++)
		CHECK(c.n[r] == 0);
	CHECK(ev[0].value == data && ev[0].value_len == (int32_t)size);
	CHECK(ev[0].timestamp_ms == 11 && ev[0].n_headers == 0 && ev[0].sequence == -1);
	if (key == RXL_FMT_KEY_SRC && v6) {
		/* Checked by parsing it back, not by formatting it again. */
		char text[INET6_ADDRSTRLEN];
		uint8_t back[16];

		CHECK(ev[0].key_len > 1 && (size_t)ev[0].key_len < sizeof(text));
		memcpy(text, ev[0].key, (size_t)ev[0].key_len);
		text[ev[0].key_len] = '\0';
		CHECK(inet_pton(AF_INET6, text, back) == 1 && memcmp(back, hdr + 1, 16) == 0);
	} else if (klen) {
		CHECK(ev[0].key_len == (int32_t)klen && memcmp(ev[0].key, want, klen) == 0);
	} else {
		CHECK(ev[0].key == NULL && ev[0].key_len == -1);
	}
	/* Nothing left: a second call consumes nothing and counts nothing. */
	CHECK(rxl_fmt_parse(&cfg, &in, &pos, ev, 2, &c) == 0 && pos == size);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 17 || size > 65535 + 17)
		return 0;
	for (int k = 0; k < 2; k++) {
		enum rxl_fmt_key key = k ? RXL_FMT_KEY_SRC : RXL_FMT_KEY_NONE;

		run(data, data + 17, size - 17, key, 0);
		run(data, data + 17, size - 17, key, 24);
	}
	return 0;
}
