/* log: the native wire format's encoder (docs/WIRE.md).
 * Any thread; pure functions.
 */
#include "rxl_wire.h"

#include <errno.h>
#include <string.h>

#include "rxl_bytes.h"

size_t rxl_native_encoded_len(const struct rxl_record_in *recs, uint32_t n, uint8_t flags)
{
	size_t len = RXL_NATIVE_HDR_LEN +
		     ((flags & RXL_NATIVE_F_SEND_TIME) ? RXL_NATIVE_SEND_TIME_LEN : 0);

	for (uint32_t i = 0; i < n; i++)
		len += RXL_NATIVE_EVENT_HDR_LEN +
		       (recs[i].key_len > 0 ? (size_t)recs[i].key_len : 0) +
		       (recs[i].value_len > 0 ? (size_t)recs[i].value_len : 0);
	return len;
}

int rxl_native_encode(uint8_t *buf, size_t cap, const struct rxl_native_hdr *h,
		      const struct rxl_record_in *recs, uint32_t n)
{
	if (n == 0 || n > 0xFFFF || (h->flags & ~RXL_NATIVE_F_ALL))
		return -EINVAL;
	if (h->producer_id == -1 ? (h->epoch != 0 || h->base_sequence != 0)
				 : (h->producer_id < 0 || h->epoch < 0 || h->base_sequence < 0))
		return -EINVAL;
	for (uint32_t i = 0; i < n; i++) {
		const struct rxl_record_in *r = &recs[i];

		if (r->value_len < 0 || r->key_len < -1 ||
		    r->key_len > (int32_t)RXL_NATIVE_MAX_KEY || r->timestamp_ms < 0 || r->n_headers)
			return -EINVAL;
	}
	size_t need = rxl_native_encoded_len(recs, n, h->flags);

	if (need > cap || need > INT32_MAX)
		return -EMSGSIZE;
	uint8_t *p = buf;

	rxl_be32_put(p, RXL_NATIVE_MAGIC);
	p[4] = RXL_NATIVE_VERSION;
	p[5] = h->flags;
	rxl_be16_put(p + 6, (uint16_t)n);
	rxl_be64_put(p + 8, (uint64_t)h->producer_id);
	rxl_be32_put(p + 16, (uint32_t)h->base_sequence);
	rxl_be16_put(p + 20, (uint16_t)h->epoch);
	rxl_be16_put(p + 22, 0);
	p += RXL_NATIVE_HDR_LEN;
	if (h->flags & RXL_NATIVE_F_SEND_TIME) {
		rxl_be64_put(p, h->send_ns);
		p += RXL_NATIVE_SEND_TIME_LEN;
	}
	for (uint32_t i = 0; i < n; i++) {
		const struct rxl_record_in *r = &recs[i];

		rxl_be64_put(p, (uint64_t)r->timestamp_ms);
		rxl_be16_put(p + 8, r->key_len < 0 ? RXL_NATIVE_NULL_KEY : (uint16_t)r->key_len);
		rxl_be32_put(p + 10, (uint32_t)r->value_len);
		p += RXL_NATIVE_EVENT_HDR_LEN;
		if (r->key_len > 0) {
			memcpy(p, r->key, (size_t)r->key_len);
			p += r->key_len;
		}
		if (r->value_len > 0) {
			memcpy(p, r->value, (size_t)r->value_len);
			p += r->value_len;
		}
	}
	return (int)need;
}
