/* dataplane: the lines payload format (newline-delimited text or JSON lines).
 * rx lcore; pure function of one datagram, a burst of up to n events per call.
 *
 * Rules (docs/FORMATS.md):
 *   L1 A line ends at '\n'; a "\r\n" ending loses its '\r' too (senders such as `nc -C` and
 *      Windows agents); a lone '\r' elsewhere is data.
 *   L2 The bytes after the last '\n' are a line as well: a datagram need not end in '\n'.
 *   L3 An empty line (after L1) is skipped and counted as "lines_empty_line" (a note: no
 *      bytes are lost).
 *   L4 A line longer than max_event_bytes is dropped and counted as "oversize_event"; the
 *      other lines of the datagram are kept.
 *   L5 Key: none (or the source address); timestamp: the receive time; no headers.
 */
#include "rxl_formats.h"

#include <string.h>

int rxl_fmt_lines_parse(const struct rxl_fmt_config *cfg, struct rxl_fmt_in *in, uint32_t *pos,
			struct rxl_event *ev, uint32_t max_events, struct rxl_fmt_counters *cnt)
{
	uint32_t len = in->len;

	if (*pos >= len) { /* nothing (left): only a zero-byte datagram is counted */
		if (len)
			return 0;
		cnt->n[RXL_FMT_EMPTY]++;
		return -RXL_FMT_EMPTY;
	}
	const uint8_t *p = in->data + *pos, *end = in->data + len;
	const uint8_t *key = NULL;
	int32_t key_len = -1;

	if (cfg->key == RXL_FMT_KEY_SRC) {
		uint32_t tl = rxl_fmt_src_text(in);

		if (tl) {
			key = (const uint8_t *)in->src_text;
			key_len = (int32_t)tl;
		}
	}
	uint64_t max_bytes = cfg->max_event_bytes ? cfg->max_event_bytes : (uint64_t)INT32_MAX;
	uint32_t n = 0;

	while (p < end && n < max_events) {
		const uint8_t *nl = memchr(p, '\n', (size_t)(end - p));
		const uint8_t *next = nl ? nl + 1 : end;
		size_t l = (size_t)((nl ? nl : end) - p);

		if (nl && l && p[l - 1] == '\r') /* L1 */
			l--;
		if (l == 0) { /* L3 */
			cnt->n[RXL_FMT_LINES_EMPTY_LINE]++;
		} else if (l + (key_len > 0 ? (uint32_t)key_len : 0) > max_bytes) { /* L4 */
			cnt->n[RXL_FMT_OVERSIZE_EVENT]++;
		} else {
			struct rxl_event *e = &ev[n++];

			e->key = key;
			e->key_len = key_len;
			e->value = p;
			e->value_len = (int32_t)l;
			e->timestamp_ms = in->recv_ms;
			e->producer_id = -1;
			e->producer_epoch = -1;
			e->sequence = -1;
			e->n_headers = 0;
		}
		p = next;
	}
	*pos = (uint32_t)(p - in->data);
	return (int)n;
}
