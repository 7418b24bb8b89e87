/* tests: libFuzzer target for the native format and its dedupe window (dataplane/fmt_native.c).
 * Single-threaded; built by scripts/fuzz, replayed over tests/fuzz/corpus/native by replay.c.
 *
 * Each input is used twice:
 *  1. as a datagram: the parser must stay inside it, accept it with any max_event_bytes only
 *     if it accepts it without one, and an accepted datagram must re-encode (rxl_native_encode)
 *     to exactly the input: the encoding is canonical, so nothing was misread;
 *  2. as a script of datagrams for a dedupe window, checked against a model (a sequence is new
 *     iff at or above next, or at most W below it and not seen; what precedes a producer's or
 *     epoch's first datagram counts as seen), including the final lost and pending counts.
 * A broken check aborts.
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
			fprintf(stderr, "fuzz_native: check failed at line %d: %s\n", __LINE__, \
				#c);                                                            \
			abort();                                                                \
		}                                                                               \
	} while (0)

enum { MAX_EV = 512 };

static struct rxl_event ev[MAX_EV], ev2[MAX_EV];
static uint8_t out[70000];

static bool within(const void *p, int64_t n, const uint8_t *lo, size_t size)
{
	const uint8_t *a = p;

	return n >= 0 && a >= lo && a <= lo + size && (size_t)n <= (size_t)(lo + size - a);
}

static void datagram(const uint8_t *data, size_t size)
{
	struct rxl_fmt_config cfg = {.kind = RXL_FMT_NATIVE};
	struct rxl_fmt_in in = {.data = data, .len = (uint32_t)size, .recv_ms = 0};
	struct rxl_fmt_counters c = {0};
	uint32_t pos = 0;
	int n = rxl_fmt_native_parse(&cfg, &in, &pos, ev, MAX_EV, &c);
	uint64_t total = 0;

	for (int i = 0; i < RXL_FMT_REASON_COUNT; i++)
		total += c.n[i];
	CHECK(pos == size);
	CHECK(n != 0);
	CHECK(n < 0 ? total == 1 && c.n[-n] == 1 && rxl_fmt_reason_is_drop(-n) : total == 0);

	/* A limit can only take datagrams away. */
	struct rxl_fmt_config lim = {.kind = RXL_FMT_NATIVE, .max_event_bytes = 32};
	uint32_t pos2 = 0;
	int n2 = rxl_fmt_native_parse(&lim, &in, &pos2, ev2, MAX_EV, &c);

	CHECK(n2 < 0 || n2 == n);
	if (n < 0)
		return;

	for (int i = 0; i < n; i++) {
		CHECK(within(ev[i].value, ev[i].value_len, data, size));
		CHECK(ev[i].key_len == -1 ? ev[i].key == NULL
					  : within(ev[i].key, ev[i].key_len, data, size));
		CHECK(ev[i].timestamp_ms >= 0);
		CHECK(ev[i].producer_id == ev[0].producer_id);
		CHECK(ev[i].n_headers == ev[0].n_headers && ev[i].n_headers <= 1);
		if (ev[i].n_headers)
			CHECK(within(ev[i].headers[0].value, 8, data, size));
		CHECK(ev[0].producer_id < 0 ? ev[i].sequence == -1
					    : ev[i].sequence == rxl_seq_add(ev[0].sequence, i));
	}
	/* Canonical: re-encoding gives the same bytes (recv_ms is 0, so a 0 timestamp stays 0). */
	static struct rxl_record_in r[MAX_EV];
	struct rxl_native_hdr h = {
		.producer_id = ev[0].producer_id,
		.epoch = ev[0].producer_id < 0 ? 0 : ev[0].producer_epoch,
		.base_sequence = ev[0].producer_id < 0 ? 0 : ev[0].sequence,
		.flags = ev[0].n_headers ? RXL_NATIVE_F_SEND_TIME : 0,
	};

	if (ev[0].n_headers) {
		const uint8_t *s = ev[0].headers[0].value;

		for (int k = 0; k < 8; k++)
			h.send_ns = h.send_ns << 8 | s[k];
	}
	for (int i = 0; i < n; i++)
		r[i] = (struct rxl_record_in){.key = ev[i].key,
					      .key_len = ev[i].key_len,
					      .value = ev[i].value,
					      .value_len = ev[i].value_len,
					      .timestamp_ms = ev[i].timestamp_ms};
	int len = rxl_native_encode(out, sizeof(out), &h, r, (uint32_t)n);

	CHECK(len == (int)size);
	CHECK(memcmp(out, data, size) == 0);
}

/* ---- dedupe against a model ------------------------------------------------------------- */

enum { PRODUCERS = 4, SPAN = 1 << 18 };

static uint8_t seen[PRODUCERS][SPAN / 8];

struct model {
	bool started;
	int16_t epoch;
	int64_t floor; /* everything below is "seen" (prehistory) */
	int64_t next;
	uint64_t acc_epoch; /* accepted since floor: [floor, next) minus these are holes */
};

static bool m_seen(int p, const struct model *m, int64_t s)
{
	return s < m->floor || (seen[p][s / 8] >> (s % 8) & 1);
}

/* Forget producer p's bits: only [0, next] was ever set, so clearing costs what was used. */
static void clear_seen(int p, const struct model *m)
{
	if (m->started)
		memset(seen[p], 0, (size_t)(m->next / 8 + 1));
}

static void dedupe_script(const uint8_t *data, size_t size)
{
	static _Alignas(64) uint8_t mem[1 << 16];
	struct rxl_dedupe_window w;
	struct model m[PRODUCERS] = {0};
	uint64_t lost_model = 0;
	/* absolute sequence a is sent as (BASE + a) mod 2^31: the wrap is crossed early */
	const int64_t base0 = INT32_MAX - 300;

	CHECK(rxl_dedupe_mem_size(8) <= sizeof(mem));
	CHECK(rxl_dedupe_init(&w, mem, sizeof(mem), 8) == 0);
	/* op: 3 bytes: producer (2 bits) + new-epoch bit + count-1 (4 bits), signed delta. */
	for (size_t i = 0; i + 3 <= size; i += 3) {
		int p = data[i] & 3;
		struct model *mp = &m[p];
		uint32_t n = 1 + (data[i + 1] & 15);
		int64_t delta = (int8_t)data[i + 2];
		bool new_epoch = data[i] & 4;
		int16_t epoch = (int16_t)(mp->epoch + (new_epoch ? 1 : 0));

		int64_t b = mp->started && !new_epoch ? mp->next + delta : (delta & 127);

		if (b < 0)
			b = 0;
		if (b + n + 1 >= SPAN)
			break;
		/* model */
		int64_t keep[16];
		uint32_t nk = 0, dups = 0, late = 0;

		if (!mp->started || new_epoch) {
			if (mp->started) /* W1: an epoch's holes are final when it ends */
				lost_model += (uint64_t)(mp->next - mp->floor) - mp->acc_epoch;
			mp->acc_epoch = 0;
			clear_seen(p, mp);
			mp->started = true;
			mp->epoch = epoch;
			mp->floor = b;
			mp->next = b;
		}
		for (uint32_t k = 0; k < n; k++) {
			int64_t s = b + k;

			if (s >= mp->next ||
			    (s >= mp->next - RXL_DEDUPE_WINDOW && !m_seen(p, mp, s))) {
				late += s < mp->next;
				keep[nk++] = s;
			} else {
				dups++;
			}
		}
		for (uint32_t k = 0; k < nk; k++)
			seen[p][keep[k] / 8] |= (uint8_t)(1u << (keep[k] % 8));
		if (b + n > mp->next)
			mp->next = b + n;
		mp->acc_epoch += nk;
		/* the real thing */
		struct rxl_event e[16];
		struct rxl_seq_result res;
		uint32_t cnt = n;

		for (uint32_t k = 0; k < n; k++)
			e[k] = (struct rxl_event){.producer_id = 1000 + p,
						  .producer_epoch = epoch,
						  .sequence =
							  (int32_t)((base0 + b + k) & INT32_MAX),
						  .key_len = -1};
		rxl_native_check_seq(&w, e, &cnt, &res);
		CHECK(cnt == nk && res.accepted == nk && res.duplicates == dups &&
		      res.late == late);
		for (uint32_t k = 0; k < nk; k++)
			CHECK(e[k].sequence == (int32_t)((base0 + keep[k]) & INT32_MAX));
		if (i < 3 * 64) /* every op of short scripts; long ones are checked at the end */
			CHECK(rxl_dedupe_validate(&w) == 0);
	}
	CHECK(rxl_dedupe_validate(&w) == 0);
	/* W3: per epoch, accepted + lost + pending == next - floor. */
	for (int p = 0; p < PRODUCERS; p++) {
		if (!m[p].started)
			continue;
		uint32_t pending_model = 0, pend;

		for (int64_t s = m[p].next - RXL_DEDUPE_WINDOW; s < m[p].next; s++)
			pending_model += s >= 0 && !m_seen(p, &m[p], s);
		CHECK(rxl_dedupe_get(&w, 1000 + p, NULL, &pend, NULL) == 0);
		CHECK(pend == pending_model);
		lost_model += (uint64_t)(m[p].next - m[p].floor) - m[p].acc_epoch - pending_model;
		clear_seen(p, &m[p]); /* clean for the next input */
	}
	CHECK(w.total.lost == lost_model);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size > 65535)
		return 0;
	datagram(data, size);
	dedupe_script(data, size);
	return 0;
}
