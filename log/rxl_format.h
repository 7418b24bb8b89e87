/* log: the on-disk record batch format (Kafka record batch v2, magic 2).
 * Any thread; builders are owned by one thread, decoders are pure.
 *
 * docs/FORMAT.md states every byte; the short version, offsets in bytes,
 * integers big-endian:
 *
 *   0  baseOffset            int64   offset of the first record
 *   8  batchLength           int32   bytes after this field (= total - 12)
 *  12  partitionLeaderEpoch  int32   0 (single node)
 *  16  magic                 int8    2
 *  17  crc                   uint32  CRC32C of bytes [21, end)
 *  21  attributes            int16   0: no compression, create time, not
 *                                    transactional, not control
 *  23  lastOffsetDelta       int32   count - 1 (offsets are contiguous)
 *  27  baseTimestamp         int64   ms, timestamp of the first record
 *  35  maxTimestamp          int64   ms, largest timestamp in the batch
 *  43  producerId            int64   -1 when none
 *  51  producerEpoch         int16   -1 when none
 *  53  baseSequence          int32   -1 when none
 *  57  recordCount           int32   >= 1
 *  61  records: recordCount times
 *        length          varint  bytes after this field
 *        attributes      int8    0
 *        timestampDelta  varlong timestamp - baseTimestamp
 *        offsetDelta     varint  0, 1, 2, ... in order
 *        keyLength       varint  -1 = null key
 *        key             bytes
 *        valueLength     varint  -1 = null value
 *        value           bytes
 *        headerCount     varint
 *        headers: keyLength varint (>= 0), key bytes (UTF-8),
 *                 valueLength varint (-1 = null), value bytes
 *
 * Validity (rule V): a batch at file position p, expected to start at offset
 * E, is valid iff all of:
 *   V1 12 <= p's remaining bytes and 49 <= batchLength <= limit, and the
 *      whole batch lies within the bytes available;
 *   V2 magic == 2;
 *   V3 crc == CRC32C(bytes [21, 12 + batchLength));
 *   V4 baseOffset == E (when E is known), lastOffsetDelta == recordCount - 1
 *      >= 0, attributes has no compression, transaction or control bit.
 * An all-zero header (batchLength 0) and an all-0xFF header (batchLength -1)
 * fail V1, so preallocated zeros and erased flash both end a log.
 */
#ifndef RXL_FORMAT_H
#define RXL_FORMAT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define RXL_BATCH_MAGIC 2
#define RXL_BATCH_HDR_LEN 61	  /* bytes before the first record */
#define RXL_BATCH_LOG_OVERHEAD 12 /* baseOffset + batchLength */
#define RXL_BATCH_MIN_LENGTH (RXL_BATCH_HDR_LEN - RXL_BATCH_LOG_OVERHEAD) /* 49 */
#define RXL_BATCH_CRC_START 21	   /* CRC32C covers [21, end) */
#define RXL_RECORD_MAX_OVERHEAD 32 /* length..headerCount varints, worst case, no headers */

#define RXL_NO_PRODUCER_ID (-1)

/** A record to append: borrowed pointers, copied once into the batch. */
struct rxl_header {
	const void *key;   /* header key (UTF-8, not NUL-terminated) */
	int32_t key_len;   /* >= 0 */
	const void *value; /* header value */
	int32_t value_len; /* -1 = null */
};

struct rxl_record_in {
	const void *key;
	int32_t key_len; /* -1 = null key */
	const void *value;
	int32_t value_len; /* -1 = null value */
	int64_t timestamp_ms;
	const struct rxl_header *headers;
	uint32_t n_headers;
};

/** Idempotent-producer fields of a batch (Kafka's), or id -1 for none. */
struct rxl_producer {
	int64_t id;
	int16_t epoch;
	int32_t base_sequence;
};

/** A decoded batch header. */
struct rxl_batch_hdr {
	uint64_t base_offset;
	int32_t length;
	int32_t leader_epoch;
	int8_t magic;
	uint32_t crc;
	int16_t attributes;
	int32_t last_offset_delta;
	int64_t base_timestamp;
	int64_t max_timestamp;
	int64_t producer_id;
	int16_t producer_epoch;
	int32_t base_sequence;
	int32_t count;
};

/** Why a batch failed rule V (the numbers name the clause). */
enum rxl_batch_fault {
	RXL_BF_OK = 0,
	RXL_BF_SHORT,	   /* V1: fewer bytes than the header or the length says */
	RXL_BF_LENGTH,	   /* V1: batchLength out of range (incl. all-0 / all-FF) */
	RXL_BF_MAGIC,	   /* V2 */
	RXL_BF_CRC,	   /* V3 */
	RXL_BF_OFFSET,	   /* V4: baseOffset is not the expected next offset */
	RXL_BF_COUNT,	   /* V4: lastOffsetDelta/recordCount inconsistent */
	RXL_BF_ATTRIBUTES, /* V4: compressed, transactional or control batch */
};

/** A zero-copy view of one record inside a mapped batch. */
struct rxl_record {
	uint64_t offset;
	int64_t timestamp_ms;
	const uint8_t *key; /* NULL when key_len == -1 */
	int32_t key_len;
	const uint8_t *value; /* NULL when value_len == -1 */
	int32_t value_len;
	const uint8_t *headers; /* encoded headers, see rxl_header_next() */
	const uint8_t *headers_end;
	uint32_t n_headers;
	int64_t producer_id; /* the batch's */
	int32_t sequence;    /* baseSequence + offsetDelta (wrapping, rxl_seq_add), or -1 */
};

/** Builds one batch in a caller-owned buffer. Owned by one thread. */
struct rxl_batch_builder {
	uint8_t *buf;
	uint32_t cap;
	uint32_t len; /* bytes used, header included */
	int32_t count;
	int64_t base_ts;
	int64_t max_ts;
	uint64_t base_offset;
	struct rxl_producer prod;
};

/**
 * Producer sequence @seq advanced by @inc (>= 0), wrapping to 0 after
 * INT32_MAX as Kafka's DefaultRecordBatch.incrementSequence does.
 * Returns: the sequence.
 */
static inline int32_t rxl_seq_add(int32_t seq, int32_t inc)
{
	if (seq > INT32_MAX - inc)
		return inc - (INT32_MAX - seq) - 1;
	return seq + inc;
}

/** Human name of a batch fault ("CRC mismatch", ...). Returns: a static string. */
const char *rxl_batch_fault_str(enum rxl_batch_fault f);

/**
 * Decode the 61-byte header at @p (no checks).
 * Concurrency: pure.
 */
void rxl_batch_hdr_decode(const uint8_t *p, struct rxl_batch_hdr *h);

/**
 * Apply rule V to the bytes [p, p + avail).
 * @expect_base: the offset the batch must start at, or UINT64_MAX for any.
 * @max_len: largest acceptable total batch size (the segment size, say).
 * @h: filled with the header once V1 passed (may be NULL; undefined otherwise).
 * Concurrency: pure; reads only [p, p + avail).
 * Returns: the batch's total size (> 0) when valid, else 0 with *why set.
 */
uint32_t rxl_batch_check(const uint8_t *p, size_t avail, uint64_t expect_base, uint64_t max_len,
			 struct rxl_batch_hdr *h, enum rxl_batch_fault *why);

/**
 * Start a batch in @buf (capacity @cap >= RXL_BATCH_HDR_LEN + one record).
 * @prod may be NULL (no producer).
 * Concurrency: the builder is owned by the calling thread.
 */
void rxl_batch_begin(struct rxl_batch_builder *b, uint8_t *buf, uint32_t cap, uint64_t base_offset,
		     const struct rxl_producer *prod);

/**
 * Bytes record @r takes in a batch whose first timestamp is @base_ts when it
 * gets offset delta @delta (the "length" varint included).
 * Concurrency: pure.
 * Returns: the encoded size.
 */
uint32_t rxl_record_encoded_len(const struct rxl_record_in *r, int64_t base_ts, int32_t delta);

/**
 * Append @r to the batch.
 * Concurrency: owner thread.
 * Returns: 0, or -ENOSPC when it does not fit (the batch is unchanged),
 * -EINVAL for a negative length other than -1 or a header key of length < 0.
 */
int rxl_batch_add(struct rxl_batch_builder *b, const struct rxl_record_in *r);

/**
 * Fill in the header (counts, timestamps, CRC32C). The batch is then the
 * bytes [buf, buf + returned length).
 * Concurrency: owner thread.
 * Returns: the total batch size in bytes.
 */
uint32_t rxl_batch_finish(struct rxl_batch_builder *b);

/**
 * Decode the record at *pos inside a batch that passed rule V, advance *pos.
 * Concurrency: pure; only reads [*pos, end).
 * Returns: 0, or -EBADMSG when the record's fields run past @end or are
 * negative where they must not be (a crafted batch with a valid CRC).
 */
int rxl_record_decode(const uint8_t **pos, const uint8_t *end, const struct rxl_batch_hdr *h,
		      struct rxl_record *out);

/**
 * Iterate a record's headers: *it starts at rec->headers.
 * Concurrency: pure.
 * Returns: 1 with *out filled, 0 at the end, -EBADMSG when malformed.
 */
int rxl_header_next(const struct rxl_record *rec, const uint8_t **it, struct rxl_header *out);

#endif
