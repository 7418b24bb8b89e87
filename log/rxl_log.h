/* log: the partition log — one writer thread appends, any process reads.
 * Writer calls: the one thread that owns the partition. Reader calls: any
 * thread of any process, one thread per reader object.
 *
 * A partition is a folder <data>/<topic>-<partition>/ holding:
 *   00000000000000000000.log        record batches (rxl_format.h)
 *   00000000000000000000.index      8-byte entries: relOffset u32, position u32
 *   00000000000000000000.timeindex  12-byte entries: timestamp i64, relOffset u32
 *   state                           4 KiB, mmap'd: high-water mark, log start,
 *                                   recovery checkpoint, futex word
 *   lock                            flock'd by the writer; holds its pid
 *   clean_shutdown                  present iff the last writer closed cleanly
 * docs/FORMAT.md describes every byte; log/segment.c the recovery rule.
 *
 * Visibility (DESIGN.md invariant 4): a record is visible to readers once
 * its batch write completed — and, under RXL_DUR_FSYNC, its fdatasync
 * completed. The high-water mark (HWM) is the offset after the last visible
 * record; it never moves backwards while a writer runs.
 */
#ifndef RXL_LOG_H
#define RXL_LOG_H

#include <stdbool.h>
#include <stdint.h>

#include "rxl_format.h"

enum rxl_durability {
	RXL_DUR_NONE = 0, /* page cache only; fdatasync on segment roll and close */
	RXL_DUR_INTERVAL, /* fdatasync every flush_ms */
	RXL_DUR_FSYNC,	  /* fdatasync linked after every batch; HWM = durable mark */
};

struct rxl_log_config {
	uint64_t segment_bytes;	       /* roll when the next batch would pass this (1 GiB) */
	int64_t segment_ms;	       /* also roll when the active segment is older (0 = never) */
	uint32_t batch_bytes;	       /* staging buffer = largest batch (256 KiB) */
	uint32_t linger_us;	       /* flush a partial batch after this long (1000) */
	uint32_t index_interval_bytes; /* bytes between offset-index entries (4096) */
	uint64_t prealloc_bytes;       /* fallocate step ahead of the writer (32 MiB) */
	enum rxl_durability durability;
	uint32_t flush_ms;	  /* RXL_DUR_INTERVAL period (1000) */
	int64_t retention_bytes;  /* keep at most this much (-1 = no limit) */
	int64_t retention_ms;	  /* drop segments whose newest record is older (-1 = no limit) */
	uint32_t staging_buffers; /* batches in flight + filling (4, >= 2) */
	/*
	 * Retention that waits for consumers (optional): when set, a segment
	 * that retention would remove is kept while it holds offsets at or
	 * above the floor the callback reports (the lowest offset some
	 * consumer group still needs; UINT64_MAX = none), unless its newest
	 * record is older than floor_max_ms (so a dead group cannot fill the
	 * disk; -1 = wait forever). librxlog's rxlog_retention_floor() is
	 * such a callback. Called on the writer thread, about once a second.
	 */
	int (*floor_fn)(void *arg, uint64_t *floor);
	void *floor_arg;
	int64_t floor_max_ms;
};

/* Latency histograms: bucket i counts latencies in (4^(i-1), 4^i] µs for
 * i = 0 .. RXL_LAT_BUCKETS - 2 (1 µs .. 1.05 s); the last bucket counts
 * everything slower. Counts are per bucket, not cumulative. */
#define RXL_LAT_BUCKETS 12

/**
 * The histogram bucket of a latency of @ns nanoseconds (see RXL_LAT_BUCKETS).
 * Concurrency: pure.
 */
static inline unsigned rxl_lat_bucket(uint64_t ns)
{
	uint64_t us = (ns + 999) / 1000, bound = 1;
	unsigned i = 0;

	while (i < RXL_LAT_BUCKETS - 1 && us > bound) {
		bound <<= 2;
		i++;
	}
	return i;
}

/** Upper bound of bucket @i in µs (0 for the last, unbounded one). */
static inline uint64_t rxl_lat_bound_us(unsigned i)
{
	return i < RXL_LAT_BUCKETS - 1 ? 1ull << (2 * i) : 0;
}

/** Counters of one partition's writer. Plain integers: read them on the
 * writer thread, or copy them with rxl_log_stats(). */
struct rxl_log_stats {
	uint64_t records; /* appended (accepted into a batch) */
	uint64_t bytes;	  /* batch bytes written */
	uint64_t batches;
	uint64_t segments_rolled;
	uint64_t segments_deleted; /* by retention */
	uint64_t segments_held;	   /* removals deferred because a consumer group still needs them */
	uint64_t short_writes;	   /* completions that wrote less and were resubmitted */
	uint64_t write_errors;
	uint64_t sync_errors; /* fdatasync failures (the partition then stops) */
	uint64_t enospc;      /* appends refused because preallocation failed */
	uint64_t too_large;   /* records larger than batch_bytes, refused */
	uint64_t syncs;	      /* fdatasync calls completed */
	uint64_t hwm;	      /* published high-water mark */
	uint64_t durable;     /* offsets below this are on stable storage */
	uint64_t log_start;   /* first offset still kept */
	/* Batch write latency: submission to the completion of its last byte. */
	uint64_t write_lat[RXL_LAT_BUCKETS];
	uint64_t write_lat_sum_ns;
	/* fdatasync latency: submission (linked: end of its write) to completion. */
	uint64_t sync_lat[RXL_LAT_BUCKETS];
	uint64_t sync_lat_sum_ns;
};

/** What recovery found and did. */
struct rxl_recovery_report {
	bool clean;	   /* clean_shutdown marker was present: nothing scanned */
	bool corrupt;	   /* invalid batch where a torn tail cannot be */
	uint64_t segments; /* segments in the partition */
	uint64_t segments_scanned;
	uint64_t batches_scanned;
	uint64_t bytes_truncated;  /* torn tail cut from the last segment */
	uint64_t segments_removed; /* empty or wholly-invalid trailing segments removed */
	uint64_t indexes_rebuilt;
	uint64_t log_start;
	uint64_t end_offset;	   /* next offset to assign */
	uint64_t corrupt_segment;  /* base offset of the segment holding the corruption */
	uint64_t corrupt_position; /* byte position of the first invalid batch */
	uint64_t corrupt_offset;   /* offset the invalid batch should have started at */
};

struct rxl_log;
struct rxl_reader;

/**
 * Fill @cfg with the defaults given in struct rxl_log_config.
 * Concurrency: pure.
 */
void rxl_log_config_default(struct rxl_log_config *cfg);

/**
 * Check a configuration; the error message names the setting and the valid range.
 * Concurrency: pure (sets the thread's error message).
 * Returns: 0 or -EINVAL.
 */
int rxl_log_config_check(const struct rxl_log_config *cfg);

/**
 * Write "<data_dir>/<topic>-<partition>" into @buf.
 * Returns: 0, or -ENAMETOOLONG / -EINVAL (topic empty, has '/', or is "." or "..").
 */
int rxl_log_path(char *buf, size_t len, const char *data_dir, const char *topic,
		 uint32_t partition);

/**
 * Open (creating if needed) a partition for appending. Takes the partition's
 * writer lock: a second writer gets -EWOULDBLOCK and a message naming the
 * holder's pid. Recovers the log first when the last writer did not close
 * cleanly (see rxl_log_recover()), and refuses (-EUCLEAN) to open a
 * partition whose durable data is corrupt until rxl_log_verify(dir, true, ...) repaired it.
 * Concurrency: any thread; the returned log then belongs to one thread.
 * Returns: 0 with *out set, or -errno with the thread's error message set.
 */
int rxl_log_open(const char *part_dir, const struct rxl_log_config *cfg, struct rxl_log **out);

/**
 * Append up to @n records (a burst). Records are copied into the current
 * staging batch; full batches are submitted to io_uring at once. A record
 * is durable/visible only once the HWM passes its offset (rxl_log_hwm()).
 * @prod: producer fields for these records (NULL = none). Records of another
 * producer, or a sequence that does not follow on, start a new batch.
 * @first_offset: set to the offset of the first appended record (may be NULL).
 * Blocking: never for I/O, except when every staging buffer is in flight;
 * then it waits (spinning briefly, then sleeping) for a write to complete.
 * That is the writer's back-pressure: rx lcores never call this, they hand
 * records over rings and count a full ring as a drop.
 * Concurrency: owner thread only.
 * Returns: the number of records appended (0..n), or -errno when none was:
 *   -EMSGSIZE the first record does not fit in batch_bytes (counted in too_large);
 *   -ENOSPC   preallocation failed (disk full); retry later;
 *   -EIO/...  the partition has failed (see rxl_log_failed()), permanently;
 *   -EINVAL   malformed record (negative length other than -1).
 */
int rxl_log_append_burst(struct rxl_log *log, const struct rxl_record_in *recs, uint32_t n,
			 const struct rxl_producer *prod, uint64_t *first_offset);

/**
 * Do the writer's periodic work: reap completions and publish the HWM,
 * submit a batch older than linger_us, run the interval fdatasync, roll an
 * aged segment, apply retention (about once a second). Never blocks.
 * Concurrency: owner thread only.
 * Returns: 0, or the partition's -errno once it has failed.
 */
int rxl_log_poll(struct rxl_log *log);

/**
 * Submit the batch being filled, if any, without waiting.
 * Concurrency: owner thread only.
 * Returns: 0 or -errno as rxl_log_poll().
 */
int rxl_log_flush(struct rxl_log *log);

/**
 * Submit everything and wait until it is written and visible (the HWM
 * reaches rxl_log_end_offset()), without an fdatasync. Blocks.
 * Concurrency: owner thread only.
 * Returns: 0, or -errno when a write failed (the partition has then failed).
 */
int rxl_log_drain(struct rxl_log *log);

/**
 * Submit everything, wait until it is written and fdatasync'd, and publish
 * the HWM and durable mark up to the end. Blocks.
 * Concurrency: owner thread only.
 * Returns: 0, or -errno when a write or fdatasync failed (the partition has
 * then failed).
 */
int rxl_log_sync(struct rxl_log *log);

/**
 * rxl_log_sync(), cut the active segment's preallocated tail, leave the
 * clean_shutdown marker, release the lock and free everything. After a
 * failure the marker is not left, so the next open recovers.
 * Concurrency: owner thread only; @log is gone afterwards.
 * Returns: 0 or the -errno of the last sync.
 */
int rxl_log_close(struct rxl_log *log);

/**
 * Roll to a new segment now (the next append starts it).
 * Concurrency: owner thread only.
 * Returns: 0 or -errno.
 */
int rxl_log_roll(struct rxl_log *log);

/**
 * Apply retention now with "now" = @now_ms (tests pass their own clock).
 * Concurrency: owner thread only.
 * Returns: number of segments removed, or -errno.
 */
int rxl_log_retention(struct rxl_log *log, int64_t now_ms);

/** Next offset the writer will assign. Concurrency: owner thread. */
uint64_t rxl_log_end_offset(const struct rxl_log *log);

/** Published high-water mark. Concurrency: owner thread. */
uint64_t rxl_log_hwm(const struct rxl_log *log);

/**
 * The error that stopped the partition (0 while healthy).
 * Concurrency: owner thread.
 */
int rxl_log_failed(const struct rxl_log *log);

/** Copy the counters. Concurrency: owner thread. */
void rxl_log_stats(const struct rxl_log *log, struct rxl_log_stats *st);

/**
 * Check the whole writer state against the files (tests, after faults):
 * offsets contiguous, HWM <= end, every batch below the HWM valid.
 * Concurrency: owner thread; blocks while it reads the files.
 * Returns: 0, or -EUCLEAN with a message saying what is wrong.
 */
int rxl_log_validate(struct rxl_log *log);

/**
 * Bring a partition folder to a consistent state (what rxl_log_open() does
 * after an unclean stop): scan batches after the recovery checkpoint, cut a
 * torn tail from the last segment, rebuild missing or inconsistent indexes.
 * Corruption elsewhere is reported (rep->corrupt) and left in place.
 * Running it twice changes nothing the second time.
 * Concurrency: takes the writer lock; fails with -EWOULDBLOCK if a writer runs.
 * Returns: 0 (also when corrupt: see rep), or -errno on I/O errors.
 */
int rxl_log_recover(const char *part_dir, bool force_full_scan, struct rxl_recovery_report *rep);

/**
 * Check every batch's CRC and every index of a partition; with @repair, cut
 * the log at the first invalid batch (later segments are removed).
 * Concurrency: takes the writer lock.
 * Returns: 0 when the partition is (now) valid, -EUCLEAN when corrupt and not
 * repaired (rep says where), other -errno on I/O errors.
 */
int rxl_log_verify(const char *part_dir, bool repair, struct rxl_recovery_report *rep);

/* ---- Reader: any process, zero copy ------------------------------------ */

/** Offsets a reader sees. */
struct rxl_log_offsets {
	uint64_t log_start; /* first offset kept */
	uint64_t hwm;	    /* offset after the last visible record */
	uint64_t durable;   /* offset after the last durable record */
};

/**
 * Open a partition read-only (any process). Never takes the writer lock.
 * Concurrency: the reader belongs to the calling thread.
 * Returns: 0, or -ENOENT when the partition does not exist (message says so).
 */
int rxl_reader_open(const char *part_dir, struct rxl_reader **out);

/** Unmap and free. Concurrency: owner thread. */
void rxl_reader_close(struct rxl_reader *r);

/**
 * Position at @offset (the next record returned has this offset), through
 * the offset index.
 * Concurrency: owner thread.
 * Returns: 0; -ERANGE when @offset < log start or > HWM (rxl_reader_offsets()
 * gives the valid range).
 */
int rxl_reader_seek(struct rxl_reader *r, uint64_t offset);

/**
 * Position at the first record whose timestamp >= @ts_ms (Kafka's
 * offsetsForTimes), through the time index.
 * Concurrency: owner thread.
 * Returns: 0 with *offset set (the HWM when no such record exists yet), or -errno.
 */
int rxl_reader_seek_time(struct rxl_reader *r, int64_t ts_ms, uint64_t *offset);

/**
 * The next record, as a view into the mapping: valid until the reader moves
 * into another segment (a later rxl_reader_next() or seek unmaps the one it
 * finished) or is closed; copy what must outlive that. Every batch's CRC
 * is checked before any of its records is returned.
 * Concurrency: owner thread. Hot path: no syscalls except when crossing
 * into another segment.
 * Returns: 1 with *rec set; 0 when caught up with the HWM; -EBADMSG on a
 * corrupt batch (the reader stays before it); -ERANGE when the position was
 * removed by retention (seek again from rxl_reader_offsets().log_start).
 */
int rxl_reader_next(struct rxl_reader *r, struct rxl_record *rec);

/**
 * Block until the HWM passes the reader's position or @timeout_ms passes
 * (-1 = forever). Uses a futex on the shared state page: no polling.
 * Concurrency: owner thread.
 * Returns: 0 when records are available, -ETIMEDOUT, or -EINTR.
 */
int rxl_reader_wait(struct rxl_reader *r, int timeout_ms);

/**
 * Block until any of @n readers has records (futex_waitv on all their state
 * pages) or @timeout_ms passes (-1 = forever).
 * Concurrency: the readers' owner thread.
 * Returns: the index of a reader with records, -ETIMEDOUT, or -EINTR.
 */
int rxl_reader_wait_any(struct rxl_reader *const *rs, unsigned n, int timeout_ms);

/** Offset of the next record the reader returns. Concurrency: owner thread. */
uint64_t rxl_reader_position(const struct rxl_reader *r);

/** Current log start / HWM / durable mark. Concurrency: owner thread. */
void rxl_reader_offsets(struct rxl_reader *r, struct rxl_log_offsets *o);

#endif
