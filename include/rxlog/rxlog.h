/* librxlog: the consumer API that analytics programs link.
 * Any process; each object belongs to the thread that uses it.
 *
 * A data directory holds topics; a topic holds partitions <topic>-<N>; a
 * partition is an append-only log read with zero copies (log/rxl_log.h).
 * On top of the plain reader this API adds:
 *   - listing topics and their partitions;
 *   - cursors (one partition, seek by offset/time/earliest/latest);
 *   - consumer groups: any number of independent groups over the same
 *     topic (fanout), each with its own committed offsets, shared among the
 *     group's live members without a coordinator service (flock leases
 *     that the kernel releases when a member dies), at-least-once delivery
 *     with retries and a dead-letter topic "<topic>.dlq.<group>".
 * The group files live in <data>/__groups/<group>/ (docs/CONSUMERS.md).
 */
#ifndef RXLOG_H
#define RXLOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "rxl_log.h"

struct rxlog;
struct rxlog_group;

struct rxlog_topic {
	char name[256];
	uint32_t partitions; /* partitions 0 .. partitions-1 exist */
};

/**
 * Open a data directory read-only (the group folders are written).
 * @dir: NULL means $RXLOG_DATA.
 * Concurrency: the handle belongs to the calling thread.
 * Returns: 0, or -ENOENT when the folder does not exist (the message says
 * which and how to choose another).
 */
int rxlog_open(const char *dir, struct rxlog **out);

/** Close and free. */
void rxlog_close(struct rxlog *rx);

/** The data directory's path. */
const char *rxlog_dir(const struct rxlog *rx);

/**
 * List topics (sorted by name). Internal folders (names starting with "__")
 * are not topics.
 * Returns: 0 with *out (free with free()) and *n, or -errno.
 */
int rxlog_topics(struct rxlog *rx, struct rxlog_topic **out, size_t *n);

/**
 * Partitions of @topic.
 * Returns: the count (>= 1), or -ENOENT with "unknown topic" in the message.
 */
int rxlog_partitions(struct rxlog *rx, const char *topic);

/**
 * Open a reader on one partition (see rxl_reader_* for seek/next/wait).
 * Returns: 0 or -ENOENT (unknown topic or partition).
 */
int rxlog_reader_open(struct rxlog *rx, const char *topic, uint32_t partition,
		      struct rxl_reader **out);

/* ---- Committed offsets (crash-safe) ------------------------------------ */

/**
 * Store @next (the offset of the next record to process) as group @group's
 * position in @topic/@partition. Crash-safe: after a crash at any point the
 * stored value is the old or the new one, never torn (write a new file,
 * fsync it, rename it over the old one, fsync the folder).
 * Concurrency: one writer per (group, partition) — the lease holder.
 * Returns: 0 or -errno.
 */
int rxlog_offset_commit(struct rxlog *rx, const char *group, const char *topic, uint32_t partition,
			uint64_t next);

/**
 * Read a committed offset.
 * Returns: 0 with *next, -ENOENT when the group never committed there,
 * -EBADMSG when the file is damaged (CRC mismatch; treated as absent by groups).
 */
int rxlog_offset_fetch(struct rxlog *rx, const char *group, const char *topic, uint32_t partition,
		       uint64_t *next);

/**
 * The lowest committed offset of any consumer group for one partition.
 * Returns: 0 with *floor (UINT64_MAX when no group has committed there),
 * or -errno.
 */
int rxlog_group_floor(const char *data_dir, const char *topic, uint32_t partition, uint64_t *floor);

/** A retention floor for rxl_log_config.floor_fn: @arg is a
 * struct rxlog_floor_arg naming the partition. */
struct rxlog_floor_arg {
	const char *data_dir;
	const char *topic;
	uint32_t partition;
};

/** rxl_log_config.floor_fn for librxlog's groups. Returns: as rxlog_group_floor(). */
int rxlog_retention_floor(void *arg, uint64_t *floor);

/* ---- Consumer groups ----------------------------------------------------- */

/** What to do when a group has no committed offset, or its offset fell
 * behind the log start (retention): Kafka's auto.offset.reset. */
enum rxlog_reset { RXLOG_RESET_EARLIEST = 0, RXLOG_RESET_LATEST, RXLOG_RESET_ERROR };

/** A handler's verdict on one record. */
enum rxlog_verdict {
	RXLOG_ACK = 0, /* done: the offset may be committed past it */
	RXLOG_RETRY,   /* failed, try again after backoff (up to max_attempts) */
	RXLOG_REJECT,  /* poison: dead-letter it now */
};

struct rxlog_group_config {
	const char *group;	/* required: [A-Za-z0-9._-]+ */
	const char *topic;	/* required */
	const char *member;	/* member id; NULL = "<hostname>-<pid>" */
	enum rxlog_reset reset; /* default RXLOG_RESET_EARLIEST */
	uint32_t max_attempts;	/* default 3 */
	uint32_t backoff_ms;	/* first retry delay, doubled per attempt (default 10) */
	uint32_t commit_every;	/* commit after this many settled records (default 1000) */
	uint32_t commit_ms;	/* ... or this long (default 1000) */
	uint32_t rebalance_ms;	/* how often leases are reconsidered (default 500) */
};

/** A delivered record. */
struct rxlog_msg {
	struct rxl_record rec; /* zero-copy view, valid until the next poll */
	uint32_t partition;
	uint32_t attempt; /* 1 for the first delivery in this member */
};

/** Counters of one member. */
struct rxlog_group_stats {
	uint64_t delivered, acked, retried, dead_lettered, commits;
	uint64_t reset_lost; /* records retention removed before this group read them */
	uint64_t rebalances;
	uint32_t partitions_owned;
};

/**
 * Join @cfg->group as a member: registers in the group folder, and takes
 * this member's share of the topic's partitions (ceil(partitions / live
 * members)), each resumed from its committed offset.
 * Concurrency: the member belongs to the calling thread.
 * Returns: 0, or -errno (unknown topic, bad group name, I/O) with a message.
 */
int rxlog_group_join(struct rxlog *rx, const struct rxlog_group_config *cfg,
		     struct rxlog_group **out);

/**
 * Deliver the next record of an owned partition (round robin), waiting up
 * to @timeout_ms. The previous record must have been settled.
 * Returns: 1 with *msg, 0 on timeout, or -errno (-ERANGE with
 * RXLOG_RESET_ERROR when a committed offset fell behind the log start).
 */
int rxlog_group_poll(struct rxlog_group *g, struct rxlog_msg *msg, int timeout_ms);

/**
 * Settle @msg: ACK moves on; RETRY redelivers it (after backoff) until
 * max_attempts, then it goes to the dead-letter topic; REJECT dead-letters
 * it at once. A dead-lettered record carries headers dlq.topic,
 * dlq.partition, dlq.offset, dlq.attempts, dlq.reason, dlq.time; the
 * partition then moves on. Offsets are committed only past records that
 * were acked or dead-lettered.
 * @reason: text for the dead-letter header (may be NULL).
 * Returns: 0 or -errno (writing the dead-letter record failed: the record
 * is not settled and will be redelivered).
 */
int rxlog_group_settle(struct rxlog_group *g, const struct rxlog_msg *msg, enum rxlog_verdict v,
		       const char *reason);

/**
 * Commit every settled position now.
 * Returns: 0 or -errno.
 */
int rxlog_group_commit(struct rxlog_group *g);

/** Copy the member's counters. */
void rxlog_group_stats(const struct rxlog_group *g, struct rxlog_group_stats *st);

/**
 * Commit, release the leases and leave. The member's partitions go to the
 * remaining members at their next rebalance.
 */
void rxlog_group_leave(struct rxlog_group *g);

/* ---- Idempotency helper ------------------------------------------------- */

/** Where a record's idempotency key comes from. */
enum rxlog_idem {
	RXLOG_IDEM_HEADER = 0, /* the value of a named header */
	RXLOG_IDEM_KEY,	       /* the record key */
	RXLOG_IDEM_PRODUCER,   /* the native producer id + sequence */
};

struct rxlog_dedupe;

/**
 * A bounded window of the last @capacity idempotency keys seen (64-bit
 * hashes of the keys; a false match needs a 64-bit collision within the
 * window). The oldest key leaves when the window is full.
 * @header: the header name for RXLOG_IDEM_HEADER (copied).
 * Returns: 0 with *out, -EINVAL, -ENOMEM.
 */
int rxlog_dedupe_create(uint32_t capacity, enum rxlog_idem source, const char *header,
			struct rxlog_dedupe **out);

/**
 * Seen before? Records the key when it is new. A handler does its work only
 * when this returns 1, so a redelivered record is done once — within the
 * window and within this process. For exactly-once effects across crashes,
 * store the key in the same transaction as the effect (the `view` example
 * keeps it in SQLite next to the read model).
 * Returns: 1 first time, 0 duplicate, -ENOENT when the record has no such key.
 */
int rxlog_dedupe_check(struct rxlog_dedupe *d, const struct rxl_record *rec);

/** Free the window. */
void rxlog_dedupe_free(struct rxlog_dedupe *d);

#endif
