/* consumers: the idempotency helper — a bounded window of recently seen keys.
 * The thread that created it; no locking.
 *
 * Layout: a FIFO ring of the last `cap` key hashes (eviction order) and an
 * open-addressing table (linear probing, power-of-two size >= 2 * cap) of
 * the same hashes. Deleting from linear probing uses backward-shift
 * deletion, so there are no tombstones and probes stay short.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "consumers_pvt.h"

struct rxlog_dedupe {
	enum rxlog_idem source;
	char header[128];
	size_t header_len;
	uint32_t cap, n, head; /* ring: n entries ending before head */
	uint64_t *ring;
	uint64_t *table; /* 0 = empty (hash 0 is mapped to 1) */
	uint32_t mask;
};

/* FNV-1a, then a 64-bit finaliser (murmur3 fmix64) to spread the bits. */
static uint64_t hash_bytes(uint64_t h, const void *p, size_t len)
{
	const uint8_t *b = p;

	for (size_t i = 0; i < len; i++) {
		h ^= b[i];
		h *= 0x100000001b3ull;
	}
	return h;
}

static uint64_t fmix(uint64_t h)
{
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdull;
	h ^= h >> 33;
	h *= 0xc4ceb9fe1a85ec53ull;
	h ^= h >> 33;
	return h ? h : 1;
}

int rxlog_dedupe_create(uint32_t capacity, enum rxlog_idem source, const char *header,
			struct rxlog_dedupe **out)
{
	struct rxlog_dedupe *d;
	uint32_t size = 2;

	if (capacity == 0 || capacity > (1u << 28) || source > RXLOG_IDEM_PRODUCER ||
	    (source == RXLOG_IDEM_HEADER && (!header || !*header || strlen(header) >= 128)))
		return -EINVAL;
	while (size < 2 * capacity)
		size <<= 1;
	d = calloc(1, sizeof(*d));
	if (!d)
		return -ENOMEM;
	d->ring = calloc(capacity, sizeof(*d->ring));
	d->table = calloc(size, sizeof(*d->table));
	if (!d->ring || !d->table) {
		rxlog_dedupe_free(d);
		return -ENOMEM;
	}
	d->source = source;
	d->cap = capacity;
	d->mask = size - 1;
	if (header) {
		d->header_len = strlen(header);
		memcpy(d->header, header, d->header_len);
	}
	*out = d;
	return 0;
}

void rxlog_dedupe_free(struct rxlog_dedupe *d)
{
	if (!d)
		return;
	free(d->ring);
	free(d->table);
	free(d);
}

static int key_hash(const struct rxlog_dedupe *d, const struct rxl_record *rec, uint64_t *h)
{
	const uint64_t seed = 0xcbf29ce484222325ull;

	switch (d->source) {
	case RXLOG_IDEM_KEY:
		if (rec->key_len < 0)
			return -ENOENT;
		*h = fmix(hash_bytes(seed, rec->key, (size_t)rec->key_len));
		return 0;
	case RXLOG_IDEM_PRODUCER:
		if (rec->producer_id < 0)
			return -ENOENT;
		*h = fmix(hash_bytes(hash_bytes(seed, &rec->producer_id, 8), &rec->sequence, 4));
		return 0;
	case RXLOG_IDEM_HEADER: {
		const uint8_t *it = rec->headers;
		struct rxl_header hd;

		while (rxl_header_next(rec, &it, &hd) == 1) {
			if ((size_t)hd.key_len == d->header_len &&
			    !memcmp(hd.key, d->header, d->header_len) && hd.value_len >= 0) {
				*h = fmix(hash_bytes(seed, hd.value, (size_t)hd.value_len));
				return 0;
			}
		}
		return -ENOENT;
	}
	}
	return -ENOENT;
}

static void table_remove(struct rxlog_dedupe *d, uint64_t h)
{
	uint32_t i = (uint32_t)h & d->mask;

	while (d->table[i] != h) {
		if (!d->table[i])
			return;
		i = (i + 1) & d->mask;
	}
	/* Backward-shift deletion: move later entries of the run into the gap
	 * when their home slot does not lie cyclically in (gap, j]. */
	uint32_t gap = i;

	for (uint32_t j = (i + 1) & d->mask; d->table[j]; j = (j + 1) & d->mask) {
		uint32_t home = (uint32_t)d->table[j] & d->mask;
		bool in_range = gap <= j ? (home > gap && home <= j) : (home > gap || home <= j);

		if (!in_range) {
			d->table[gap] = d->table[j];
			gap = j;
		}
	}
	d->table[gap] = 0;
}

int rxlog_dedupe_check(struct rxlog_dedupe *d, const struct rxl_record *rec)
{
	uint64_t h;
	int err = key_hash(d, rec, &h);

	if (err)
		return err;
	uint32_t i = (uint32_t)h & d->mask;

	while (d->table[i]) {
		if (d->table[i] == h)
			return 0;
		i = (i + 1) & d->mask;
	}
	if (d->n == d->cap) {
		/* Evict the oldest key (the slot head points at). */
		table_remove(d, d->ring[d->head]);
		d->n--;
		i = (uint32_t)h & d->mask;
		while (d->table[i])
			i = (i + 1) & d->mask;
	}
	d->table[i] = h;
	d->ring[d->head] = h;
	d->head = (d->head + 1) % d->cap;
	d->n++;
	return 1;
}
