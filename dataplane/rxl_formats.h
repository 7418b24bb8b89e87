/* dataplane: the payload formats (native, syslog, lines, raw) and native's dedupe window.
 * rx lcore: every parser is a pure function of one UDP payload; a dedupe window is owned by one
 * rx lcore.
 *
 * A listener is bound to one format. For each datagram the rx lcore calls rxl_fmt_parse(), which
 * fills an array of struct rxl_event whose key and value point INTO the payload or into the
 * caller's struct rxl_fmt_in, and whose headers point there or into static strings: nothing is
 * copied here; the writer lcore copies each event once into its batch (DESIGN.md invariant 3).
 * Keys and values never point elsewhere: rxlogd passes them as offsets within the mbuf that
 * holds both (struct rxl_desc).
 *
 * Assumptions the parsers rely on (numbered; the code refers to them):
 *   A1 The payload is untrusted. Nothing outside [data, data + len) is ever read, whatever the
 *      bytes say; every length is checked against the bytes left before it is used.
 *   A2 No allocation, no locks, no syscalls, no global state: the parsers run in the rx hot
 *      loop, on any number of lcores at once.
 *   A3 Every datagram, or part of one, that does not become an event is counted under a reason
 *      in the caller's struct rxl_fmt_counters (DESIGN.md invariant 5). A reason is either a
 *      drop (bytes were discarded) or a note (the event was kept, with a fallback: e.g. a syslog
 *      timestamp that does not parse gives the receive time). rxl_fmt_reason_is_drop() tells.
 *
 * docs/WIRE.md specifies the native format byte by byte; docs/FORMATS.md says how syslog, lines
 * and raw map onto records.
 */
#ifndef RXL_FORMATS_H
#define RXL_FORMATS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "rxl_format.h"
#include "rxl_wire.h"

/* ---- common ------------------------------------------------------------------------------ */

enum rxl_fmt_kind {
	RXL_FMT_NATIVE = 1,
	RXL_FMT_SYSLOG,
	RXL_FMT_LINES,
	RXL_FMT_RAW,
};

/** Which bytes become the record key (the partition key). */
enum rxl_fmt_key {
	RXL_FMT_KEY_DEFAULT = 0, /* native: the event's key; syslog: host, else app, else source
				  * address; lines, raw: none */
	RXL_FMT_KEY_NONE,	 /* no key (null) */
	RXL_FMT_KEY_SRC,	 /* the sender's IP address as text */
	RXL_FMT_KEY_APP,	 /* syslog only: APP-NAME / TAG, else none */
	RXL_FMT_KEY_HOST,	 /* syslog only: HOSTNAME, else none */
};

/*
 * Counted reasons. The names (rxl_fmt_drop_name()) are stable snake_case counter names: never
 * rename one, only add. Values index struct rxl_fmt_counters.
 */
enum rxl_fmt_reason {
	RXL_FMT_OK = 0,
	/* drops, every format */
	RXL_FMT_EMPTY,		/* "empty": zero-byte datagram */
	RXL_FMT_OVERSIZE_EVENT, /* "oversize_event": key + value > max_event_bytes */
	/* drops, native (the whole datagram: all-or-nothing) */
	RXL_FMT_NATIVE_TRUNCATED,	/* ends inside the datagram header or an event header */
	RXL_FMT_NATIVE_BAD_MAGIC,	/* first 4 bytes are not "RXLN" */
	RXL_FMT_NATIVE_BAD_VERSION,	/* version byte is not 1 */
	RXL_FMT_NATIVE_BAD_FLAGS,	/* unknown flag bit or non-zero reserved field */
	RXL_FMT_NATIVE_BAD_COUNT,	/* event count 0 */
	RXL_FMT_NATIVE_TOO_MANY_EVENTS, /* event count > the caller's max_events */
	RXL_FMT_NATIVE_BAD_PRODUCER,	/* producer id < -1, epoch or base sequence out of range */
	RXL_FMT_NATIVE_BAD_LENGTH,	/* a key or value length runs past the datagram */
	RXL_FMT_NATIVE_BAD_TIMESTAMP,	/* negative event timestamp */
	RXL_FMT_NATIVE_TRAILING_BYTES,	/* bytes left after the last event */
	/* drops, syslog */
	RXL_FMT_SYSLOG_NO_PRI,		/* does not start with '<' (after an octet count) */
	RXL_FMT_SYSLOG_BAD_PRI,		/* '<' not followed by 1-3 digits, value <= 191, '>' */
	RXL_FMT_SYSLOG_BAD_OCTET_COUNT, /* "NNN " prefix that does not equal the bytes after it */
	/* notes, syslog (the event is kept) */
	RXL_FMT_SYSLOG_NO_TIMESTAMP,  /* none or "-": the receive time is used */
	RXL_FMT_SYSLOG_BAD_TIMESTAMP, /* one that does not parse: the receive time is used */
	RXL_FMT_SYSLOG_BAD_HEADER,    /* RFC 5424 header cut short or a field too long */
	/* notes, lines */
	RXL_FMT_LINES_EMPTY_LINE, /* an empty line was skipped (no bytes lost) */
	RXL_FMT_REASON_COUNT,
};

/** Per-lcore counters, indexed by enum rxl_fmt_reason (n[RXL_FMT_OK] stays 0). */
struct rxl_fmt_counters {
	uint64_t n[RXL_FMT_REASON_COUNT];
};

/** A listener's format settings; all-zero is valid apart from @kind. */
struct rxl_fmt_config {
	enum rxl_fmt_kind kind;
	enum rxl_fmt_key key;
	uint32_t max_event_bytes;	/* key + value above this: oversize_event; 0 = no limit */
	int32_t rfc3164_utc_offset_min; /* syslog: the senders' local time zone (RFC 3164
					 * timestamps carry none): UTC = local - offset */
};

#define RXL_FMT_SRC_TEXT_MAX 48 /* INET6_ADDRSTRLEN (46) rounded up */

/**
 * One datagram as the parser sees it. The caller fills the first five fields; @src_text is the
 * parser's scratch: it formats the source address there when a key or header needs it, and
 * events then point into it, so the struct must outlive the events (it is per datagram).
 */
struct rxl_fmt_in {
	const uint8_t *data;
	uint32_t len;
	int64_t recv_ms;      /* receive time, ms since the Unix epoch (UTC) */
	int src_family;	      /* AF_INET or 4 (rxl_l2l4's RXL_AF_IPV4), AF_INET6 or 6, or
			       * 0 when unknown */
	uint8_t src_addr[16]; /* network byte order: 4 bytes for AF_INET */
	char src_text[RXL_FMT_SRC_TEXT_MAX]; /* written by the parser, not NUL-terminated */
};

#define RXL_EVENT_MAX_HEADERS 4

/**
 * A parsed event: borrowed pointers into the payload or the struct rxl_fmt_in it came from
 * (header names and values also into static strings; never into the event itself, so events
 * may be copied by value).
 */
struct rxl_event {
	const uint8_t *key; /* NULL when key_len == -1 */
	const uint8_t *value;
	int32_t key_len;	/* -1 = null key */
	int32_t value_len;	/* >= 0 */
	int64_t timestamp_ms;	/* ms since the Unix epoch, UTC */
	int64_t producer_id;	/* native: the datagram's, -1 otherwise */
	int32_t sequence;	/* native: base + index (rxl_seq_add), -1 otherwise */
	int16_t producer_epoch; /* native: the datagram's, -1 otherwise */
	uint16_t n_headers;
	struct rxl_header headers[RXL_EVENT_MAX_HEADERS];
};

/**
 * The stable counter name of a reason ("native_bad_magic", "syslog_no_pri", ...).
 * Concurrency: pure.
 * Returns: a static snake_case string; "unknown" for a value out of range.
 */
const char *rxl_fmt_drop_name(enum rxl_fmt_reason r);

/**
 * Whether a reason discards bytes (a drop) or only notes a fallback (the event was kept).
 * Concurrency: pure.
 * Returns: true for drops.
 */
bool rxl_fmt_reason_is_drop(enum rxl_fmt_reason r);

/**
 * The format named @name ("native", "syslog", "lines", "raw").
 * Concurrency: any thread (an unknown name sets the thread's rxl_err_msg()).
 * Returns: 0 with *kind set, or -EINVAL for an unknown name.
 */
int rxl_fmt_kind_from_name(const char *name, enum rxl_fmt_kind *kind);

/**
 * The name of format @kind.
 * Concurrency: pure.
 * Returns: a static string; "unknown" for a value out of range.
 */
const char *rxl_fmt_kind_name(enum rxl_fmt_kind kind);

/**
 * Check a listener's format settings at start-up (message in rxl_err_msg()).
 * Concurrency: any thread.
 * Returns: 0, or -EINVAL for an unknown kind or key, RXL_FMT_KEY_APP or RXL_FMT_KEY_HOST with a
 * format other than syslog, or a time-zone offset beyond +-24 h.
 */
int rxl_fmt_config_check(const struct rxl_fmt_config *cfg);

/**
 * Turn an event into the log engine's input record (pointers are shared, not copied).
 * Concurrency: pure.
 */
static inline void rxl_event_to_record(const struct rxl_event *ev, struct rxl_record_in *r)
{
	r->key = ev->key;
	r->key_len = ev->key_len;
	r->value = ev->value;
	r->value_len = ev->value_len;
	r->timestamp_ms = ev->timestamp_ms;
	r->headers = ev->headers;
	r->n_headers = ev->n_headers;
}

/*
 * Parsers. All share one contract, so rxl_fmt_parse() can dispatch:
 *  - @pos is the byte offset in the payload where parsing starts (0 for a new datagram) and is
 *    set to where the next call must resume. Only `lines` ever stops early (when @max_events
 *    events are filled: a burst, "up to n"); the others consume the whole datagram at once,
 *    so on return either *pos == in->len or the return value is @max_events.
 *  - Returns the number of events written to @ev (0 .. @max_events), or -(enum rxl_fmt_reason)
 *    when the rest of the datagram is dropped (then @ev holds garbage and *pos == in->len).
 *  - Every drop and note is added to @cnt already (A3): the caller must not count it again.
 *  - They read only [in->data, in->data + in->len) (A1) and write only @ev[0 .. max_events),
 *    in->src_text, *pos and @cnt.
 *  - Headers are per datagram: every event of one datagram carries the same headers (the same
 *    n_headers and the same key and value pointers), so rxlogd keeps them once per datagram.
 */

/**
 * Parse a datagram of format @cfg->kind.
 * Concurrency: pure apart from its outputs; any number of threads with their own outputs.
 * Returns: as the parser contract above.
 */
int rxl_fmt_parse(const struct rxl_fmt_config *cfg, struct rxl_fmt_in *in, uint32_t *pos,
		  struct rxl_event *ev, uint32_t max_events, struct rxl_fmt_counters *cnt);

/**
 * native: rxlog's binary batch (docs/WIRE.md). Bulk: all events of the datagram or none; every
 * byte is validated before any event is returned. Events carry producer id, epoch and
 * sequence; pass them to rxl_native_check_seq() next.
 * Concurrency: as rxl_fmt_parse().
 * Returns: the event count (>= 1), or -reason.
 */
int rxl_fmt_native_parse(const struct rxl_fmt_config *cfg, struct rxl_fmt_in *in, uint32_t *pos,
			 struct rxl_event *ev, uint32_t max_events, struct rxl_fmt_counters *cnt);

/**
 * syslog: one RFC 5424 or RFC 3164 message (RFC 5426: one per datagram), docs/FORMATS.md.
 * Concurrency: as rxl_fmt_parse().
 * Returns: 1, or -reason.
 */
int rxl_fmt_syslog_parse(const struct rxl_fmt_config *cfg, struct rxl_fmt_in *in, uint32_t *pos,
			 struct rxl_event *ev, uint32_t max_events, struct rxl_fmt_counters *cnt);

/**
 * lines: one event per '\n'-terminated line (a final line without '\n' counts too). Burst: at
 * most @max_events per call, resume at *pos.
 * Concurrency: as rxl_fmt_parse().
 * Returns: 0 .. @max_events, or -RXL_FMT_EMPTY for a zero-byte datagram.
 */
int rxl_fmt_lines_parse(const struct rxl_fmt_config *cfg, struct rxl_fmt_in *in, uint32_t *pos,
			struct rxl_event *ev, uint32_t max_events, struct rxl_fmt_counters *cnt);

/**
 * raw: the datagram is the value of one event.
 * Concurrency: as rxl_fmt_parse().
 * Returns: 1, or -reason.
 */
int rxl_fmt_raw_parse(const struct rxl_fmt_config *cfg, struct rxl_fmt_in *in, uint32_t *pos,
		      struct rxl_event *ev, uint32_t max_events, struct rxl_fmt_counters *cnt);

/**
 * Format @in's source address into in->src_text (dotted quad, or RFC 5952 text for IPv6).
 * Concurrency: writes only @in.
 * Returns: the text length, 0 when the family is unknown.
 */
uint32_t rxl_fmt_src_text(struct rxl_fmt_in *in);

/* ---- native: encoder: log/rxl_wire.h ------------------------------------------------------ */

/* ---- native: dedupe window ---------------------------------------------------------------- */

#define RXL_DEDUPE_WAYS 8     /* producers per set; a set's ids fill one cache line */
#define RXL_DEDUPE_WINDOW 256 /* sequences remembered below the highest seen (power of 2) */

enum rxl_seq_verdict {
	RXL_SEQ_ACCEPT = 0,   /* in order: accept */
	RXL_SEQ_GAP,	      /* accept; sequences were skipped (res.gap of them) */
	RXL_SEQ_LATE,	      /* accept; some events fill earlier holes (reordered in transit) */
	RXL_SEQ_DUPLICATE,    /* every event was already seen (or is too old): drop them all */
	RXL_SEQ_NEW_PRODUCER, /* first datagram of this producer (or after eviction): accept */
	RXL_SEQ_NEW_EPOCH,    /* the producer restarted with another epoch: accept, not a gap */
	RXL_SEQ_NO_PRODUCER,  /* producer id -1: nothing to check, accept */
};

/** What one rxl_native_check_seq() did; the events are already compacted. */
struct rxl_seq_result {
	uint32_t accepted;   /* events kept (== the new *n) */
	uint32_t duplicates; /* events dropped */
	uint32_t late;	     /* kept events that filled holes */
	uint32_t gap;	     /* sequences skipped ahead by this datagram (lost unless they come) */
};

/** Counters, per producer and (for the whole window) in total. */
struct rxl_dedupe_counters {
	uint64_t accepted;   /* events accepted */
	uint64_t duplicates; /* events dropped as duplicates or too old */
	uint64_t late;	     /* events accepted that filled a hole */
	uint64_t lost;	     /* sequences that left the window, an epoch or the table unseen */
};

/** One producer's state. */
struct rxl_dedupe_producer {
	uint64_t last_used; /* window clock at the last datagram, for LRU eviction */
	int32_t next_seq;   /* one past the highest sequence seen (wraps with rxl_seq_add) */
	int16_t epoch;
	uint16_t pad;
	struct rxl_dedupe_counters c;
	uint64_t seen[RXL_DEDUPE_WINDOW / 64]; /* bit s % W: sequence s in [next - W, next) came */
};

/** The fixed-size table of producers of one rx lcore. */
struct rxl_dedupe_window {
	int64_t *ids;			  /* n_sets * WAYS producer ids, -1 = free */
	struct rxl_dedupe_producer *prod; /* parallel to ids */
	uint32_t n_sets;		  /* power of 2 */
	uint32_t set_shift;		  /* 64 - log2(n_sets), for the multiplicative hash */
	uint64_t clock;			  /* datagrams checked */
	uint32_t producers;		  /* ids in use */
	struct rxl_dedupe_counters total; /* survives eviction */
	uint64_t new_producers;
	uint64_t new_epochs;
	uint64_t evictions;
};

/**
 * Bytes of memory a window for @capacity producers needs (capacity is rounded up to a power of
 * two number of sets of RXL_DEDUPE_WAYS).
 * Concurrency: pure.
 * Returns: the size, 0 when @capacity is 0 or too large (> 2^24).
 */
size_t rxl_dedupe_mem_size(uint32_t capacity);

/**
 * Set up a window in caller memory @mem (rxl_dedupe_mem_size(capacity) bytes, 64-byte aligned:
 * the daemon allocates it on the rx lcore's NUMA node at start-up; nothing is allocated later).
 * Concurrency: before the owning lcore starts.
 * Returns: 0, or -EINVAL for a bad capacity, size or alignment.
 */
int rxl_dedupe_init(struct rxl_dedupe_window *w, void *mem, size_t size, uint32_t capacity);

/**
 * The idempotence check for one parsed native datagram @ev[0 .. *n) (contiguous sequences, as
 * rxl_fmt_native_parse() returns them). Events already seen are removed from @ev (order kept)
 * and *n lowered; the window and its counters are updated. docs/WIRE.md defines the window:
 * a sequence is new iff it is above the highest seen, or within RXL_DEDUPE_WINDOW below it and
 * not seen yet; anything older is a duplicate. When the table is full, the least recently used
 * producer of the same set is evicted (its pending holes count as lost).
 * Concurrency: the window's owner (one rx lcore) only.
 * Returns: the verdict; @res (may be NULL) gets the numbers.
 */
enum rxl_seq_verdict rxl_native_check_seq(struct rxl_dedupe_window *w, struct rxl_event *ev,
					  uint32_t *n, struct rxl_seq_result *res);

/**
 * Copy producer @id's counters, and how many sequences are currently missing inside its window
 * (holes that may still be filled by late datagrams, not yet counted as lost).
 * Concurrency: the window's owner.
 * Returns: 0, or -ENOENT when the producer is not in the table.
 */
int rxl_dedupe_get(const struct rxl_dedupe_window *w, int64_t id, struct rxl_dedupe_counters *c,
		   uint32_t *pending, int16_t *epoch);

/** One producer as rxl_dedupe_list() reports it. */
struct rxl_dedupe_report {
	int64_t id;
	int16_t epoch;
	uint32_t pending; /* sequences missing inside its window (may still come) */
	struct rxl_dedupe_counters c;
};

/**
 * The producers in the table that matter most for loss: up to @max of them, those with the
 * most lost + pending sequences first, then the most duplicates, then the most accepted
 * events. Reading the whole table costs a few microseconds per thousand producers.
 * Concurrency: the window's owner.
 * Returns: how many were written to @out (0 .. @max).
 */
uint32_t rxl_dedupe_list(const struct rxl_dedupe_window *w, struct rxl_dedupe_report *out,
			 uint32_t max);

/**
 * Check the whole table: ids unique, in their own set, free slots empty, the producer count,
 * counters consistent. For tests and fuzzers.
 * Concurrency: the window's owner.
 * Returns: 0, or -EUCLEAN with the first fault in rxl_err_msg().
 */
int rxl_dedupe_validate(const struct rxl_dedupe_window *w);

#endif
