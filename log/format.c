/* log: encoding and validation of Kafka v2 record batches.
 * Any thread: builders are owned by their caller; checks and decoders are pure.
 */
#include "rxl_format.h"

#include <errno.h>
#include <string.h>

#include "rxl_bytes.h"
#include "rxl_crc32c.h"

_Static_assert(RXL_BATCH_MIN_LENGTH == 49, "Kafka's minimum batchLength");

const char *rxl_batch_fault_str(enum rxl_batch_fault f)
{
	switch (f) {
	case RXL_BF_OK:
		return "valid";
	case RXL_BF_SHORT:
		return "truncated batch";
	case RXL_BF_LENGTH:
		return "bad batch length";
	case RXL_BF_MAGIC:
		return "bad magic";
	case RXL_BF_CRC:
		return "CRC mismatch";
	case RXL_BF_OFFSET:
		return "offset not contiguous";
	case RXL_BF_COUNT:
		return "record count inconsistent";
	case RXL_BF_ATTRIBUTES:
		return "unsupported attributes";
	}
	return "unknown";
}

void rxl_batch_hdr_decode(const uint8_t *p, struct rxl_batch_hdr *h)
{
	h->base_offset = rxl_be64_get(p + 0);
	h->length = (int32_t)rxl_be32_get(p + 8);
	h->leader_epoch = (int32_t)rxl_be32_get(p + 12);
	h->magic = (int8_t)p[16];
	h->crc = rxl_be32_get(p + 17);
	h->attributes = (int16_t)rxl_be16_get(p + 21);
	h->last_offset_delta = (int32_t)rxl_be32_get(p + 23);
	h->base_timestamp = (int64_t)rxl_be64_get(p + 27);
	h->max_timestamp = (int64_t)rxl_be64_get(p + 35);
	h->producer_id = (int64_t)rxl_be64_get(p + 43);
	h->producer_epoch = (int16_t)rxl_be16_get(p + 51);
	h->base_sequence = (int32_t)rxl_be32_get(p + 53);
	h->count = (int32_t)rxl_be32_get(p + 57);
}

uint32_t rxl_batch_check(const uint8_t *p, size_t avail, uint64_t expect_base, uint64_t max_len,
			 struct rxl_batch_hdr *hp, enum rxl_batch_fault *why)
{
	struct rxl_batch_hdr tmp, *h = hp ? hp : &tmp;

	if (avail < RXL_BATCH_LOG_OVERHEAD) {
		*why = RXL_BF_SHORT;
		return 0;
	}
	int32_t length = (int32_t)rxl_be32_get(p + 8);

	/* V1 first: it rejects all-zero and all-FF headers before anything
	 * else is read, and bounds every later read. */
	if (length < RXL_BATCH_MIN_LENGTH || (uint64_t)length + RXL_BATCH_LOG_OVERHEAD > max_len) {
		*why = RXL_BF_LENGTH;
		return 0;
	}
	uint32_t total = (uint32_t)length + RXL_BATCH_LOG_OVERHEAD;

	if (total > avail) {
		*why = RXL_BF_SHORT;
		return 0;
	}
	rxl_batch_hdr_decode(p, h);
	if (h->magic != RXL_BATCH_MAGIC) {
		*why = RXL_BF_MAGIC;
		return 0;
	}
	if (rxl_crc32c(0, p + RXL_BATCH_CRC_START, total - RXL_BATCH_CRC_START) != h->crc) {
		*why = RXL_BF_CRC;
		return 0;
	}
	if (expect_base != UINT64_MAX && h->base_offset != expect_base) {
		*why = RXL_BF_OFFSET;
		return 0;
	}
	if (h->count < 1 || h->last_offset_delta != h->count - 1 ||
	    h->base_offset > INT64_MAX - (uint64_t)h->count) {
		*why = RXL_BF_COUNT;
		return 0;
	}
	if (h->attributes & 0x37) { /* compression (0-2), transactional (4), control (5) */
		*why = RXL_BF_ATTRIBUTES;
		return 0;
	}
	*why = RXL_BF_OK;
	return total;
}

void rxl_batch_begin(struct rxl_batch_builder *b, uint8_t *buf, uint32_t cap, uint64_t base_offset,
		     const struct rxl_producer *prod)
{
	b->buf = buf;
	b->cap = cap;
	b->len = RXL_BATCH_HDR_LEN;
	b->count = 0;
	b->base_ts = 0;
	b->max_ts = INT64_MIN;
	b->base_offset = base_offset;
	if (prod) {
		b->prod = *prod;
	} else {
		b->prod.id = RXL_NO_PRODUCER_ID;
		b->prod.epoch = -1;
		b->prod.base_sequence = -1;
	}
}

/* Timestamp deltas wrap like Java's long arithmetic (Kafka's), without
 * signed overflow. */
static int64_t ts_sub(int64_t a, int64_t b)
{
	return (int64_t)((uint64_t)a - (uint64_t)b);
}

/* memcpy for the short keys and values of telemetry events, inline: a
 * call into libc's memcpy cost about as much as the rest of encoding a
 * 64-byte record. Overlapping fixed-size copies cover [src, src + n)
 * exactly, never a byte outside it. */
static inline void copy_short(uint8_t *dst, const uint8_t *src, uint32_t n)
{
	if (n > 256) {
		memcpy(dst, src, n);
	} else if (n >= 32) {
		for (uint32_t i = 0; i + 32 < n; i += 32)
			memcpy(dst + i, src + i, 32);
		memcpy(dst + n - 32, src + n - 32, 32);
	} else if (n >= 16) {
		memcpy(dst, src, 16);
		memcpy(dst + n - 16, src + n - 16, 16);
	} else if (n >= 8) {
		memcpy(dst, src, 8);
		memcpy(dst + n - 8, src + n - 8, 8);
	} else if (n >= 4) {
		memcpy(dst, src, 4);
		memcpy(dst + n - 4, src + n - 4, 4);
	} else {
		for (uint32_t i = 0; i < n; i++)
			dst[i] = src[i];
	}
}

static unsigned varint_len(int32_t v)
{
	return rxl_varlong_len(v);
}

/* Size of the record body (everything after the length varint). */
static uint32_t body_len(const struct rxl_record_in *r, int64_t ts_delta, int32_t delta)
{
	uint64_t n = 1 /* attributes */ + rxl_varlong_len(ts_delta) + varint_len(delta);

	n += varint_len(r->key_len) + (r->key_len > 0 ? (uint32_t)r->key_len : 0);
	n += varint_len(r->value_len) + (r->value_len > 0 ? (uint32_t)r->value_len : 0);
	n += varint_len((int32_t)r->n_headers);
	for (uint32_t i = 0; i < r->n_headers; i++) {
		const struct rxl_header *hd = &r->headers[i];

		n += varint_len(hd->key_len) + (uint32_t)hd->key_len;
		n += varint_len(hd->value_len) + (hd->value_len > 0 ? (uint32_t)hd->value_len : 0);
	}
	return n > UINT32_MAX / 2 ? UINT32_MAX / 2 : (uint32_t)n;
}

uint32_t rxl_record_encoded_len(const struct rxl_record_in *r, int64_t base_ts, int32_t delta)
{
	uint32_t body = body_len(r, ts_sub(r->timestamp_ms, base_ts), delta);

	return body + varint_len((int32_t)body);
}

static inline uint8_t *put_bytes(uint8_t *p, const void *src, int32_t len)
{
	p += rxl_varlong_put(p, len);
	if (len > 0) {
		copy_short(p, src, (uint32_t)len);
		p += len;
	}
	return p;
}

/* Write the record body (everything after its length varint) at @p. */
static inline uint8_t *put_body(uint8_t *p, const struct rxl_record_in *r, int64_t ts_delta,
				int32_t delta)
{
	*p++ = 0; /* attributes */
	p += rxl_varlong_put(p, ts_delta);
	p += rxl_varlong_put(p, delta);
	p = put_bytes(p, r->key, r->key_len);
	p = put_bytes(p, r->value, r->value_len);
	p += rxl_varlong_put(p, (int32_t)r->n_headers);
	for (uint32_t i = 0; i < r->n_headers; i++) {
		p = put_bytes(p, r->headers[i].key, r->headers[i].key_len);
		p = put_bytes(p, r->headers[i].value, r->headers[i].value_len);
	}
	return p;
}

/* Account record @r, just written in @len bytes at the batch's end. */
static inline int took(struct rxl_batch_builder *b, const struct rxl_record_in *r, uint32_t len)
{
	b->len += len;
	if (b->count == 0)
		b->base_ts = r->timestamp_ms;
	if (r->timestamp_ms > b->max_ts)
		b->max_ts = r->timestamp_ms;
	b->count++;
	return 0;
}

/* rxl_batch_add() for a record without headers (native, lines and raw
 * events): each field sized exactly (rxl_varlong_len() is a compare or
 * two for these numbers), then written in one pass; the same bytes as
 * put_body(). bench_log's encode cases: 67-70 M records/s for 64-byte
 * values, where the general path below makes 59 M (54 M before the short
 * varint and copy paths). */
static int batch_add_plain(struct rxl_batch_builder *b, const struct rxl_record_in *r)
{
	const int64_t ts_delta = b->count == 0 ? 0 : ts_sub(r->timestamp_ms, b->base_ts);
	const uint32_t kn = r->key_len > 0 ? (uint32_t)r->key_len : 0;
	const uint32_t vn = r->value_len > 0 ? (uint32_t)r->value_len : 0;
	const uint64_t body = 2 /* attributes, header count */ + rxl_varlong_len(ts_delta) +
			      rxl_varlong_len(b->count) + rxl_varlong_len(r->key_len) + kn +
			      rxl_varlong_len(r->value_len) + vn;
	const unsigned ll = rxl_varlong_len((int64_t)body);

	/* Kafka's record length is an int32 (and body_len() clamps there). */
	if (body >= UINT32_MAX / 2 || body + ll > (uint64_t)(b->cap - b->len))
		return -ENOSPC;
	uint8_t *p = b->buf + b->len;

	p += rxl_varlong_put(p, (int64_t)body);
	*p++ = 0; /* attributes */
	p += rxl_varlong_put(p, ts_delta);
	p += rxl_varlong_put(p, b->count);
	p += rxl_varlong_put(p, r->key_len);
	copy_short(p, r->key, kn);
	p += kn;
	p += rxl_varlong_put(p, r->value_len);
	copy_short(p, r->value, vn);
	p[vn] = 0; /* header count */
	return took(b, r, (uint32_t)(body + ll));
}

int rxl_batch_add(struct rxl_batch_builder *b, const struct rxl_record_in *r)
{
	if (r->key_len < -1 || r->value_len < -1 || r->n_headers > INT32_MAX)
		return -EINVAL;
	if (r->n_headers == 0)
		return batch_add_plain(b, r);

	uint64_t data = (uint64_t)(r->key_len > 0 ? r->key_len : 0) +
			(uint64_t)(r->value_len > 0 ? r->value_len : 0);

	for (uint32_t i = 0; i < r->n_headers; i++) {
		if (r->headers[i].key_len < 0 || r->headers[i].value_len < -1)
			return -EINVAL;
		data += (uint64_t)r->headers[i].key_len +
			(uint64_t)(r->headers[i].value_len > 0 ? r->headers[i].value_len : 0);
	}

	int64_t base_ts = b->count == 0 ? r->timestamp_ms : b->base_ts;
	int64_t ts_delta = ts_sub(r->timestamp_ms, base_ts);
	uint8_t *p = b->buf + b->len;
	uint32_t need;

	/* The body's size lies in [lo, hi]: its varint fields (the timestamp
	 * delta, the offset delta, key and value lengths, the header count, two
	 * per header) take 1 to 5 bytes each (the timestamp up to 10). When both
	 * bounds need the same number of length bytes, the body can be written
	 * straight after them and measured, without sizing every varint first
	 * (the common case: that sizing pass cost as much as the encoding). */
	uint64_t fields = 5 + 2 * (uint64_t)r->n_headers;
	uint64_t lo = 1 + fields + data, hi = 1 + 10 + 5 * (fields - 1) + data;
	unsigned ll = rxl_varlong_len((int64_t)lo);

	if (hi <= UINT32_MAX / 2 && rxl_varlong_len((int64_t)hi) == ll &&
	    hi + ll <= (uint64_t)(b->cap - b->len)) {
		uint8_t *end = put_body(p + ll, r, ts_delta, b->count);
		uint32_t body = (uint32_t)(end - (p + ll));

		rxl_varlong_put(p, body); /* exactly ll bytes: lo <= body <= hi */
		need = body + ll;
	} else {
		uint32_t body = body_len(r, ts_delta, b->count);

		need = body + varint_len((int32_t)body);
		/* At the clamp the real body may be larger than counted. */
		if (body >= UINT32_MAX / 2 || need > b->cap - b->len)
			return -ENOSPC;
		p += rxl_varlong_put(p, body);
		put_body(p, r, ts_delta, b->count);
	}
	return took(b, r, need);
}

uint32_t rxl_batch_finish(struct rxl_batch_builder *b)
{
	uint8_t *p = b->buf;

	rxl_be64_put(p + 0, b->base_offset);
	rxl_be32_put(p + 8, b->len - RXL_BATCH_LOG_OVERHEAD);
	rxl_be32_put(p + 12, 0); /* partitionLeaderEpoch: one node, epoch 0 */
	p[16] = RXL_BATCH_MAGIC;
	rxl_be16_put(p + 21, 0);
	rxl_be32_put(p + 23, (uint32_t)(b->count - 1));
	rxl_be64_put(p + 27, (uint64_t)b->base_ts);
	rxl_be64_put(p + 35, (uint64_t)b->max_ts);
	rxl_be64_put(p + 43, (uint64_t)b->prod.id);
	rxl_be16_put(p + 51, (uint16_t)b->prod.epoch);
	rxl_be32_put(p + 53, (uint32_t)b->prod.base_sequence);
	rxl_be32_put(p + 57, (uint32_t)b->count);
	rxl_be32_put(p + 17, rxl_crc32c(0, p + RXL_BATCH_CRC_START, b->len - RXL_BATCH_CRC_START));
	return b->len;
}

/* Read a varint length and the bytes it announces; -1 means null. */
static int get_bytes(const uint8_t **pp, const uint8_t *end, const uint8_t **out, int32_t *len)
{
	int32_t n;
	unsigned k = rxl_varint_get(*pp, end, &n);

	if (!k || n < -1)
		return -EBADMSG;
	*pp += k;
	if (n > 0 && (size_t)(end - *pp) < (size_t)n)
		return -EBADMSG;
	*out = n >= 0 ? *pp : NULL;
	*len = n;
	if (n > 0)
		*pp += n;
	return 0;
}

int rxl_record_decode(const uint8_t **pos, const uint8_t *end, const struct rxl_batch_hdr *h,
		      struct rxl_record *out)
{
	const uint8_t *p = *pos;
	int32_t body, delta, nh;
	int64_t ts_delta;
	unsigned k;

	k = rxl_varint_get(p, end, &body);
	if (!k || body < 1 || (size_t)(end - p - k) < (size_t)body)
		return -EBADMSG;
	p += k;
	const uint8_t *rend = p + body;

	p++; /* attributes */
	k = rxl_varlong_get(p, rend, &ts_delta);
	if (!k)
		return -EBADMSG;
	p += k;
	k = rxl_varint_get(p, rend, &delta);
	if (!k || delta < 0 || delta > h->last_offset_delta)
		return -EBADMSG;
	p += k;
	if (get_bytes(&p, rend, &out->key, &out->key_len) ||
	    get_bytes(&p, rend, &out->value, &out->value_len))
		return -EBADMSG;
	k = rxl_varint_get(p, rend, &nh);
	if (!k || nh < 0)
		return -EBADMSG;
	p += k;
	out->headers = p;
	out->headers_end = rend;
	out->n_headers = (uint32_t)nh;
	/* The headers must fill the rest of the record exactly, so that
	 * rxl_header_next() yields exactly n_headers entries. */
	for (int32_t i = 0; i < nh; i++) {
		const uint8_t *hk, *hv;
		int32_t kl, vl;

		if (get_bytes(&p, rend, &hk, &kl) || kl < 0 || get_bytes(&p, rend, &hv, &vl))
			return -EBADMSG;
	}
	if (p != rend)
		return -EBADMSG;
	out->offset = h->base_offset + (uint64_t)delta;
	out->timestamp_ms = (int64_t)((uint64_t)h->base_timestamp + (uint64_t)ts_delta);
	out->producer_id = h->producer_id;
	out->sequence = h->base_sequence >= 0 ? rxl_seq_add(h->base_sequence, delta) : -1;
	*pos = rend;
	return 0;
}

int rxl_header_next(const struct rxl_record *rec, const uint8_t **it, struct rxl_header *out)
{
	const uint8_t *k, *v;
	int32_t kl, vl;

	if (*it >= rec->headers_end)
		return 0;
	if (get_bytes(it, rec->headers_end, &k, &kl) || kl < 0 ||
	    get_bytes(it, rec->headers_end, &v, &vl))
		return -EBADMSG;
	out->key = k;
	out->key_len = kl;
	out->value = v;
	out->value_len = vl;
	return 1;
}
