/* dataplane: the native payload format (parse, encode) and its idempotence window.
 * rx lcore (parse, check_seq: the window's owner); any thread (encode, used by rxlog-gen).
 *
 * The wire format, byte by byte (docs/WIRE.md has the prose and an example). Integers are
 * big-endian, fixed width:
 *
 *   datagram:
 *   +--------+-----+-----+-------+-------------+---------+-------+------+ - - - - - +--------+
 *   | "RXLN" | ver | flg | count | producer_id | base_seq| epoch | rsvd | send_ns   | events |
 *   |   4    |  1  |  1  |   2   |      8      |    4    |   2   |  2   | 8 if F_ST |        |
 *   +--------+-----+-----+-------+-------------+---------+-------+------+ - - - - - +--------+
 *    0        4     5     6       8             16        20      22     24
 *
 *   event (count times):
 *   +--------------+---------+-----------+---------+-----------+
 *   | timestamp_ms | key_len | value_len |   key   |   value   |
 *   |   8 (i64)    | 2 (u16) |  4 (u32)  | key_len | value_len |
 *   +--------------+---------+-----------+---------+-----------+
 *
 * Validity (rule N): a datagram is accepted iff all of
 *   N1 len >= 24 and magic == "RXLN", version == 1;
 *   N2 no flag other than F_SEND_TIME (0x01), reserved == 0;
 *   N3 1 <= count <= the receiver's max events;
 *   N4 producer_id == -1 with epoch == base_seq == 0, or producer_id >= 0 with
 *      epoch <= 0x7FFF and base_seq <= 0x7FFFFFFF (Kafka's ranges);
 *   N5 the count events, each 14 + key_len' + value_len bytes (key_len' = 0 for 0xFFFF, the
 *      null key), end exactly at len: none runs past it, nothing is left after;
 *   N6 every timestamp >= 0 (0 means "the receive time");
 *   N7 no event has key_len' + value_len > max_event_bytes (when set).
 * One failed clause drops the whole datagram (all-or-nothing), so the sequences of a datagram
 * are either all stored or all missing, and the dedupe window sees whole datagrams.
 */
#include "rxl_formats.h"

#include <errno.h>
#include <string.h>

#include "rxl_bytes.h"
#include "rxl_err.h"

_Static_assert(RXL_NATIVE_HDR_LEN == 24, "docs/WIRE.md: 24-byte header");
_Static_assert(RXL_NATIVE_EVENT_HDR_LEN == 14, "docs/WIRE.md: 14-byte event header");
_Static_assert((RXL_DEDUPE_WINDOW & (RXL_DEDUPE_WINDOW - 1)) == 0 && RXL_DEDUPE_WINDOW >= 64,
	       "the window is whole 64-bit words and divides 2^31 (sequences wrap there)");

#define SEQ_MASK 0x7FFFFFFFu /* sequences live in [0, 2^31) and wrap to 0 (rxl_seq_add) */

static int drop(struct rxl_fmt_counters *cnt, uint32_t *pos, uint32_t len, enum rxl_fmt_reason r)
{
	cnt->n[r]++;
	*pos = len;
	return -(int)r;
}

int rxl_fmt_native_parse(const struct rxl_fmt_config *cfg, struct rxl_fmt_in *in, uint32_t *pos,
			 struct rxl_event *ev, uint32_t max_events, struct rxl_fmt_counters *cnt)
{
	const uint8_t *p = in->data + *pos, *end = in->data + in->len;
	uint32_t len = in->len;

	if (*pos >= len) /* nothing (left) to parse: only a zero-byte datagram is counted */
		return len == 0 ? drop(cnt, pos, len, RXL_FMT_EMPTY) : 0;
	/* N1. The magic first, when there are 4 bytes, so that a datagram of some other protocol
	 * is named for what it is rather than "truncated". */
	if ((size_t)(end - p) >= 4 && rxl_be32_get(p) != RXL_NATIVE_MAGIC)
		return drop(cnt, pos, len, RXL_FMT_NATIVE_BAD_MAGIC);
	if ((size_t)(end - p) < RXL_NATIVE_HDR_LEN)
		return drop(cnt, pos, len, RXL_FMT_NATIVE_TRUNCATED);
	if (p[4] != RXL_NATIVE_VERSION)
		return drop(cnt, pos, len, RXL_FMT_NATIVE_BAD_VERSION);
	uint8_t flags = p[5];

	if ((flags & ~RXL_NATIVE_F_ALL) || rxl_be16_get(p + 22) != 0) /* N2 */
		return drop(cnt, pos, len, RXL_FMT_NATIVE_BAD_FLAGS);
	uint32_t count = rxl_be16_get(p + 6);

	if (count == 0) /* N3 */
		return drop(cnt, pos, len, RXL_FMT_NATIVE_BAD_COUNT);
	if (count > max_events)
		return drop(cnt, pos, len, RXL_FMT_NATIVE_TOO_MANY_EVENTS);
	int64_t pid = (int64_t)rxl_be64_get(p + 8);
	uint32_t base = rxl_be32_get(p + 16);
	uint16_t epoch = rxl_be16_get(p + 20);

	if (pid == -1 ? (base | epoch) != 0
		      : (pid < 0 || base > SEQ_MASK || epoch > 0x7FFF)) /* N4 */
		return drop(cnt, pos, len, RXL_FMT_NATIVE_BAD_PRODUCER);
	const uint8_t *send_ns = NULL;

	p += RXL_NATIVE_HDR_LEN;
	if (flags & RXL_NATIVE_F_SEND_TIME) {
		if ((size_t)(end - p) < RXL_NATIVE_SEND_TIME_LEN)
			return drop(cnt, pos, len, RXL_FMT_NATIVE_TRUNCATED);
		send_ns = p;
		p += RXL_NATIVE_SEND_TIME_LEN;
	}
	uint64_t max_ev = cfg->max_event_bytes ? cfg->max_event_bytes : UINT64_MAX;
	int32_t seq = pid == -1 ? -1 : (int32_t)base;
	int16_t ep = pid == -1 ? -1 : (int16_t)epoch;

	/* N5-N7, filling the events as we go: on any failure the caller gets only the reason. */
	for (uint32_t i = 0; i < count; i++) {
		struct rxl_event *e = &ev[i];

		if ((size_t)(end - p) < RXL_NATIVE_EVENT_HDR_LEN)
			return drop(cnt, pos, len, RXL_FMT_NATIVE_TRUNCATED);
		int64_t ts = (int64_t)rxl_be64_get(p);
		uint32_t klen = rxl_be16_get(p + 8);
		uint32_t vlen = rxl_be32_get(p + 10);

		p += RXL_NATIVE_EVENT_HDR_LEN;
		size_t rem = (size_t)(end - p);
		uint32_t kbytes = klen == RXL_NATIVE_NULL_KEY ? 0 : klen;

		/* Two comparisons, no addition: vlen may be near 2^32. */
		if (kbytes > rem || vlen > rem - kbytes || vlen > (uint32_t)INT32_MAX)
			return drop(cnt, pos, len, RXL_FMT_NATIVE_BAD_LENGTH);
		if (ts < 0)
			return drop(cnt, pos, len, RXL_FMT_NATIVE_BAD_TIMESTAMP);
		if ((uint64_t)kbytes + vlen > max_ev)
			return drop(cnt, pos, len, RXL_FMT_OVERSIZE_EVENT);
		e->key = klen == RXL_NATIVE_NULL_KEY ? NULL : p;
		e->key_len = klen == RXL_NATIVE_NULL_KEY ? -1 : (int32_t)klen;
		e->value = p + kbytes;
		e->value_len = (int32_t)vlen;
		e->timestamp_ms = ts ? ts : in->recv_ms;
		e->producer_id = pid;
		e->producer_epoch = ep;
		e->sequence = seq;
		if (seq >= 0)
			seq = seq == INT32_MAX ? 0 : seq + 1;
		e->n_headers = 0;
		if (send_ns) {
			e->headers[0] = (struct rxl_header){
				.key = RXL_NATIVE_SEND_NS_HEADER,
				.key_len = (int32_t)sizeof(RXL_NATIVE_SEND_NS_HEADER) - 1,
				.value = send_ns,
				.value_len = RXL_NATIVE_SEND_TIME_LEN,
			};
			e->n_headers = 1;
		}
		p += kbytes + vlen;
	}
	if (p != end)
		return drop(cnt, pos, len, RXL_FMT_NATIVE_TRAILING_BYTES);
	*pos = len;
	/* A key override applies after validation: it never changes what is accepted. */
	if (cfg->key == RXL_FMT_KEY_NONE || cfg->key == RXL_FMT_KEY_SRC) {
		uint32_t tl = cfg->key == RXL_FMT_KEY_SRC ? rxl_fmt_src_text(in) : 0;

		for (uint32_t i = 0; i < count; i++) {
			ev[i].key = tl ? (const uint8_t *)in->src_text : NULL;
			ev[i].key_len = tl ? (int32_t)tl : -1;
		}
	}
	return (int)count;
}

/* ---- dedupe window ------------------------------------------------------------------------
 *
 * Per producer, the window remembers which of the last W = RXL_DEDUPE_WINDOW sequences below
 * `next` (one past the highest seen) arrived, one bit each at position s % W (W divides 2^31,
 * so positions survive the wrap at INT32_MAX):
 *
 *          next - W                                next
 *   ... ---|--1--1--0--1--1--1--1--0--0--1--1--1--|--- ahead: new; the skipped ones are a gap
 *   too old:   bits: 1 seen (a repeat is a duplicate), 0 a hole (a late arrival fills it)
 *   duplicate
 *
 * W1 A bit leaves the window when `next` passes s + W. A 0 leaving is a lost sequence: this is
 *    the only place `lost` grows (plus epoch change and eviction, which drop the whole window),
 *    so lost is exact and never taken back, at the price of being reported W sequences late.
 * W2 A new producer or epoch starts with every bit set: what came before its first datagram is
 *    unknown, not lost, and a straggler from before it is a duplicate.
 * W3 accepted + lost + pending == every sequence from a producer's (epoch's) first to next,
 *    where pending is the holes now in the window (rxl_dedupe_get()).
 * Sets: an id hashes to one set of RXL_DEDUPE_WAYS slots; lookups compare one cache line of
 * ids; a full set evicts its least recently used producer. The work per datagram is bounded
 * whatever ids arrive (a sender spraying ids only churns its sets, counted as evictions).
 */

#define WORDS (RXL_DEDUPE_WINDOW / 64)
#define MAX_CAPACITY (1u << 24)

size_t rxl_dedupe_mem_size(uint32_t capacity)
{
	if (capacity == 0 || capacity > MAX_CAPACITY)
		return 0;
	uint32_t sets = 1;

	while (sets * RXL_DEDUPE_WAYS < capacity)
		sets <<= 1;
	return (size_t)sets * RXL_DEDUPE_WAYS *
	       (sizeof(int64_t) + sizeof(struct rxl_dedupe_producer));
}

int rxl_dedupe_init(struct rxl_dedupe_window *w, void *mem, size_t size, uint32_t capacity)
{
	size_t need = rxl_dedupe_mem_size(capacity);

	if (need == 0 || size < need || ((uintptr_t)mem & 63))
		return rxl_err_set(-EINVAL,
				   "dedupe window: capacity %u needs %zu bytes, 64-byte aligned",
				   capacity, need);
	memset(w, 0, sizeof(*w));
	w->n_sets = 1;
	while (w->n_sets * RXL_DEDUPE_WAYS < capacity)
		w->n_sets <<= 1;
	w->set_shift = 64 - (uint32_t)__builtin_ctz(w->n_sets);
	uint32_t slots = w->n_sets * RXL_DEDUPE_WAYS;

	w->ids = mem;
	w->prod = (struct rxl_dedupe_producer *)(w->ids + slots);
	for (uint32_t i = 0; i < slots; i++)
		w->ids[i] = -1;
	memset(w->prod, 0, slots * sizeof(*w->prod));
	return 0;
}

static uint32_t set_of(const struct rxl_dedupe_window *w, int64_t id)
{
	/* Fibonacci hashing: the top bits of id * 2^64/phi. A set_shift of 64 (one set) would be
	 * undefined, so shift in two steps. */
	uint64_t h = (uint64_t)id * 0x9E3779B97F4A7C15ull;

	return (uint32_t)((h >> 1) >> (w->set_shift - 1));
}

/* Serial distance a - b in the 31-bit sequence space, in (-2^30, 2^30]. */
static int32_t seq_diff(int32_t a, int32_t b)
{
	uint32_t d = ((uint32_t)a - (uint32_t)b) & SEQ_MASK;

	return d > (1u << 30) ? (int32_t)d - INT32_MAX - 1 : (int32_t)d;
}

static int32_t seq_plus(int32_t s, uint32_t k)
{
	return (int32_t)(((uint32_t)s + k) & SEQ_MASK);
}

static bool bit_get(const struct rxl_dedupe_producer *p, int32_t s)
{
	uint32_t b = (uint32_t)s & (RXL_DEDUPE_WINDOW - 1);

	return (p->seen[b / 64] >> (b % 64)) & 1;
}

static void bit_set(struct rxl_dedupe_producer *p, int32_t s)
{
	uint32_t b = (uint32_t)s & (RXL_DEDUPE_WINDOW - 1);

	p->seen[b / 64] |= 1ull << (b % 64);
}

/* Bits set among positions [first, first + n) (mod W, n <= W); optionally set them to @fill. */
static uint32_t range_op(struct rxl_dedupe_producer *p, uint32_t first, uint32_t n, int fill)
{
	uint32_t ones = 0;

	first &= RXL_DEDUPE_WINDOW - 1;
	while (n) {
		uint32_t w = first / 64, b = first % 64, k = 64 - b < n ? 64 - b : n;
		uint64_t mask = (k == 64 ? ~0ull : ((1ull << k) - 1)) << b;

		ones += (uint32_t)__builtin_popcountll(p->seen[w] & mask);
		if (fill > 0)
			p->seen[w] |= mask;
		else if (fill == 0)
			p->seen[w] &= ~mask;
		n -= k;
		first = (first + k) & (RXL_DEDUPE_WINDOW - 1);
	}
	return ones;
}

static uint32_t pending_holes(const struct rxl_dedupe_producer *p)
{
	uint32_t ones = 0;

	for (uint32_t i = 0; i < WORDS; i++)
		ones += (uint32_t)__builtin_popcountll(p->seen[i]);
	return RXL_DEDUPE_WINDOW - ones;
}

static void count_lost(struct rxl_dedupe_window *w, struct rxl_dedupe_producer *p, uint64_t n)
{
	p->c.lost += n;
	w->total.lost += n;
}

/* W2: start a producer (or an epoch) at the datagram [b, b + n). */
static void start(struct rxl_dedupe_producer *p, int16_t epoch, int32_t b, uint32_t n)
{
	p->epoch = epoch;
	p->next_seq = seq_plus(b, n);
	memset(p->seen, 0xff, sizeof(p->seen));
}

/*
 * Move next forward by @shift > 0; the top @arrived of the sequences passed over arrived now.
 * W1: every sequence leaving the window unseen is lost, including new ones that enter and
 * leave at once when shift > W.
 */
static void advance(struct rxl_dedupe_window *w, struct rxl_dedupe_producer *p, uint32_t shift,
		    uint32_t arrived)
{
	uint32_t next = (uint32_t)p->next_seq;

	if (shift >= RXL_DEDUPE_WINDOW) {
		uint64_t lost = pending_holes(p);
		uint32_t through = shift - RXL_DEDUPE_WINDOW; /* entered and left at once */

		lost += through - (arrived > RXL_DEDUPE_WINDOW ? arrived - RXL_DEDUPE_WINDOW : 0);
		count_lost(w, p, lost);
		memset(p->seen, 0, sizeof(p->seen));
	} else {
		/* Positions of [next - W, next - W + shift) are those of [next, next + shift). */
		count_lost(w, p, shift - range_op(p, next, shift, 0));
	}
	p->next_seq = seq_plus(p->next_seq, shift);
	if (arrived) {
		uint32_t k = arrived < RXL_DEDUPE_WINDOW ? arrived : RXL_DEDUPE_WINDOW;

		range_op(p, (uint32_t)p->next_seq - k, k, 1);
	}
}

/* The producer's slot, inserting (and maybe evicting) on a miss; *fresh tells which. */
static struct rxl_dedupe_producer *lookup(struct rxl_dedupe_window *w, int64_t id, bool *fresh)
{
	uint32_t base = set_of(w, id) * RXL_DEDUPE_WAYS, victim = base, free_slot = UINT32_MAX;
	int64_t *ids = w->ids + base;

	for (uint32_t i = 0; i < RXL_DEDUPE_WAYS; i++) {
		if (ids[i] == id) {
			*fresh = false;
			return &w->prod[base + i];
		}
		if (ids[i] == -1 && free_slot == UINT32_MAX)
			free_slot = base + i;
	}
	*fresh = true;
	if (free_slot != UINT32_MAX) {
		w->producers++;
		victim = free_slot;
	} else {
		for (uint32_t i = 1; i < RXL_DEDUPE_WAYS; i++)
			if (w->prod[base + i].last_used < w->prod[victim].last_used)
				victim = base + i;
		w->evictions++;
		w->total.lost += pending_holes(&w->prod[victim]); /* its holes can no longer fill */
	}
	w->ids[victim] = id;
	memset(&w->prod[victim], 0, sizeof(w->prod[victim]));
	return &w->prod[victim];
}

enum rxl_seq_verdict rxl_native_check_seq(struct rxl_dedupe_window *w, struct rxl_event *ev,
					  uint32_t *n, struct rxl_seq_result *res)
{
	struct rxl_seq_result tmp, *r = res ? res : &tmp;
	uint32_t cnt = *n;

	*r = (struct rxl_seq_result){.accepted = cnt};
	if (cnt == 0 || ev[0].producer_id < 0)
		return RXL_SEQ_NO_PRODUCER;
	int32_t b = ev[0].sequence;
	bool fresh;
	struct rxl_dedupe_producer *p = lookup(w, ev[0].producer_id, &fresh);
	enum rxl_seq_verdict v;

	p->last_used = ++w->clock;
	if (fresh || p->epoch != ev[0].producer_epoch) {
		if (fresh) {
			w->new_producers++;
			v = RXL_SEQ_NEW_PRODUCER;
		} else {
			count_lost(w, p, pending_holes(p)); /* the old epoch's holes are final */
			w->new_epochs++;
			v = RXL_SEQ_NEW_EPOCH;
		}
		start(p, ev[0].producer_epoch, b, cnt);
		goto accepted;
	}
	int32_t d = seq_diff(b, p->next_seq);

	if (d >= 0) { /* the common case: the datagram starts at or past next */
		advance(w, p, (uint32_t)d + cnt, cnt);
		r->gap = (uint32_t)d;
		v = d ? RXL_SEQ_GAP : RXL_SEQ_ACCEPT;
		goto accepted;
	}
	/* It starts below next: judge the part below one sequence at a time, then move next for
	 * the part above, if any. Kept events are compacted to the front, in order. */
	uint32_t behind = (uint32_t)-d < cnt ? (uint32_t)-d : cnt, kept = 0;

	for (uint32_t i = 0; i < behind; i++) {
		int32_t s = ev[i].sequence;

		if ((uint32_t)-seq_diff(s, p->next_seq) > RXL_DEDUPE_WINDOW || bit_get(p, s)) {
			r->duplicates++;
			continue;
		}
		bit_set(p, s);
		r->late++;
		if (kept != i)
			ev[kept] = ev[i];
		kept++;
	}
	if (cnt > behind) {
		advance(w, p, cnt - behind, cnt - behind);
		if (kept != behind)
			memmove(&ev[kept], &ev[behind], (cnt - behind) * sizeof(*ev));
		kept += cnt - behind;
	}
	r->accepted = kept;
	*n = kept;
	p->c.duplicates += r->duplicates;
	w->total.duplicates += r->duplicates;
	p->c.late += r->late;
	w->total.late += r->late;
	v = kept == 0 ? RXL_SEQ_DUPLICATE : r->late ? RXL_SEQ_LATE : RXL_SEQ_ACCEPT;
accepted:
	p->c.accepted += r->accepted;
	w->total.accepted += r->accepted;
	return v;
}

int rxl_dedupe_get(const struct rxl_dedupe_window *w, int64_t id, struct rxl_dedupe_counters *c,
		   uint32_t *pending, int16_t *epoch)
{
	if (id < 0)
		return -ENOENT;
	uint32_t base = set_of(w, id) * RXL_DEDUPE_WAYS;

	for (uint32_t i = 0; i < RXL_DEDUPE_WAYS; i++) {
		if (w->ids[base + i] != id)
			continue;
		const struct rxl_dedupe_producer *p = &w->prod[base + i];

		if (c)
			*c = p->c;
		if (pending)
			*pending = pending_holes(p);
		if (epoch)
			*epoch = p->epoch;
		return 0;
	}
	return -ENOENT;
}

/* Whether @a matters more than @b for rxl_dedupe_list(). */
static bool report_before(const struct rxl_dedupe_report *a, const struct rxl_dedupe_report *b)
{
	uint64_t la = a->c.lost + a->pending, lb = b->c.lost + b->pending;

	if (la != lb)
		return la > lb;
	if (a->c.duplicates != b->c.duplicates)
		return a->c.duplicates > b->c.duplicates;
	return a->c.accepted > b->c.accepted;
}

uint32_t rxl_dedupe_list(const struct rxl_dedupe_window *w, struct rxl_dedupe_report *out,
			 uint32_t max)
{
	uint32_t n = 0;

	if (!max)
		return 0;
	/* Insertion into a sorted array of at most @max: the table is read
	 * about once a second, and @max is small. */
	for (uint32_t i = 0; i < w->n_sets * RXL_DEDUPE_WAYS; i++) {
		if (w->ids[i] < 0)
			continue;
		struct rxl_dedupe_report r = {.id = w->ids[i],
					      .epoch = w->prod[i].epoch,
					      .pending = pending_holes(&w->prod[i]),
					      .c = w->prod[i].c};
		uint32_t k = n < max ? n : max - 1;

		if (n == max && !report_before(&r, &out[max - 1]))
			continue;
		while (k > 0 && report_before(&r, &out[k - 1])) {
			out[k] = out[k - 1];
			k--;
		}
		out[k] = r;
		if (n < max)
			n++;
	}
	return n;
}

int rxl_dedupe_validate(const struct rxl_dedupe_window *w)
{
	uint32_t used = 0;
	struct rxl_dedupe_counters sum = {0};

	if (w->n_sets == 0 || (w->n_sets & (w->n_sets - 1)) || w->set_shift < 1 ||
	    w->set_shift > 64 || (1ull << (64 - w->set_shift)) != w->n_sets)
		return rxl_err_set(-EUCLEAN, "dedupe: bad geometry (%u sets, shift %u)", w->n_sets,
				   w->set_shift);
	for (uint32_t s = 0; s < w->n_sets; s++) {
		for (uint32_t i = 0; i < RXL_DEDUPE_WAYS; i++) {
			uint32_t k = s * RXL_DEDUPE_WAYS + i;
			int64_t id = w->ids[k];
			const struct rxl_dedupe_producer *p = &w->prod[k];

			if (id == -1)
				continue;
			if (id < 0)
				return rxl_err_set(-EUCLEAN, "dedupe: slot %u holds id %lld", k,
						   (long long)id);
			if (set_of(w, id) != s)
				return rxl_err_set(-EUCLEAN,
						   "dedupe: id %lld in set %u, hashes to %u",
						   (long long)id, s, set_of(w, id));
			for (uint32_t j = i + 1; j < RXL_DEDUPE_WAYS; j++)
				if (w->ids[s * RXL_DEDUPE_WAYS + j] == id)
					return rxl_err_set(-EUCLEAN,
							   "dedupe: id %lld twice in set %u",
							   (long long)id, s);
			if (p->next_seq < 0 || p->epoch < 0 || p->last_used > w->clock)
				return rxl_err_set(-EUCLEAN, "dedupe: id %lld: next %d epoch %d",
						   (long long)id, p->next_seq, p->epoch);
			used++;
			sum.accepted += p->c.accepted;
			sum.duplicates += p->c.duplicates;
			sum.late += p->c.late;
			sum.lost += p->c.lost;
		}
	}
	if (used != w->producers)
		return rxl_err_set(-EUCLEAN, "dedupe: %u producers counted, %u in the table",
				   w->producers, used);
	/* Evicted producers' counters live on only in the totals. */
	if (sum.accepted > w->total.accepted || sum.duplicates > w->total.duplicates ||
	    sum.late > w->total.late || sum.lost > w->total.lost ||
	    (w->evictions == 0 &&
	     (sum.accepted != w->total.accepted || sum.duplicates != w->total.duplicates ||
	      sum.late != w->total.late || sum.lost != w->total.lost)))
		return rxl_err_set(-EUCLEAN, "dedupe: producer counters exceed or miss the totals");
	return 0;
}
