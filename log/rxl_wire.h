/* log: the native wire format's encoder — what producers (rxlog-gen, rxlog
 * produce) put in a UDP datagram for rxlogd's `native` listeners.
 * Any thread; pure functions. docs/WIRE.md states every byte; the decoder
 * (with its validity rules) is dataplane/fmt_native.c.
 *
 * It lives in log/ so that both dataplane/ and consumers/ can use it while
 * dependencies keep pointing one way (common <- log <- {dataplane, consumers}).
 */
#ifndef RXL_WIRE_H
#define RXL_WIRE_H

#include <stddef.h>
#include <stdint.h>

#include "rxl_format.h"

#define RXL_NATIVE_MAGIC 0x52584C4Eu /* "RXLN" */
#define RXL_NATIVE_VERSION 1
#define RXL_NATIVE_HDR_LEN 24 /* bytes before the send time or the first event */
#define RXL_NATIVE_SEND_TIME_LEN 8
#define RXL_NATIVE_EVENT_HDR_LEN 14 /* timestamp, key length, value length */
#define RXL_NATIVE_NULL_KEY 0xFFFFu
#define RXL_NATIVE_MAX_KEY 0xFFFEu
#define RXL_NATIVE_F_SEND_TIME 0x01u /* an 8-byte send time follows the header */
#define RXL_NATIVE_F_ALL RXL_NATIVE_F_SEND_TIME
#define RXL_NATIVE_SEND_NS_HEADER "send_ns" /* header key under which the send time is kept */

/** The datagram-wide fields of a native datagram. */
struct rxl_native_hdr {
	int64_t producer_id;   /* >= 0, or -1 for none (no dedupe; epoch and sequence 0) */
	int16_t epoch;	       /* >= 0 */
	int32_t base_sequence; /* >= 0; event i has rxl_seq_add(base_sequence, i) */
	uint8_t flags;	       /* RXL_NATIVE_F_* */
	uint64_t send_ns;      /* with RXL_NATIVE_F_SEND_TIME: ns since the Unix epoch */
};

/**
 * Bytes rxl_native_encode() needs for @n records under @flags.
 * Concurrency: pure.
 * Returns: the size (it may exceed what a datagram can carry; the caller checks).
 */
size_t rxl_native_encoded_len(const struct rxl_record_in *recs, uint32_t n, uint8_t flags);

/**
 * Encode one native datagram: @h and records @recs[0 .. n) (their headers are not carried and
 * must be absent). Used by rxlog-gen, `rxlog produce` and the tests.
 * Concurrency: pure; writes only [buf, buf + cap).
 * Returns: the datagram length (> 0), -EINVAL for n == 0 or n > 65535, a null value, a key
 * longer than RXL_NATIVE_MAX_KEY, a negative timestamp, headers, an unknown flag or an invalid
 * producer field; -EMSGSIZE when it does not fit in @cap.
 */
int rxl_native_encode(uint8_t *buf, size_t cap, const struct rxl_native_hdr *h,
		      const struct rxl_record_in *recs, uint32_t n);

#endif
