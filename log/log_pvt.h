/* log: private declarations shared by the log's source files.
 * Threads: as each function says; nothing here is for other modules.
 */
#ifndef RXL_LOG_PVT_H
#define RXL_LOG_PVT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "rxl_atomic.h"
#include "rxl_log.h"

/* ---- I/O seam (io.c) ---------------------------------------------------
 * Every file operation of the log goes through this table, and every entry
 * is a numbered fault site (rxl_fault.h), so tests can fail the n-th I/O
 * operation with -EIO, -ENOSPC or a short write. io_uring completions pass
 * through rxl_io_complete(), the same seam for asynchronous writes and
 * fdatasyncs. All return 0 (or a byte count) or -errno.
 */
struct rxl_io_ops {
	int (*openat)(int dirfd, const char *name, int flags, mode_t mode);
	int (*fallocate)(int fd, off_t off, off_t len);
	int (*ftruncate)(int fd, off_t len);
	int (*fdatasync)(int fd);
	ssize_t (*pwrite)(int fd, const void *buf, size_t len, off_t off);
	int (*renameat)(int dirfd, const char *from, const char *to);
	int (*unlinkat)(int dirfd, const char *name);
};

extern const struct rxl_io_ops *rxl_io;

/**
 * Replace the I/O table (tests); NULL restores the default.
 * Concurrency: call while no log is open.
 */
void rxl_io_set_ops(const struct rxl_io_ops *ops);

/**
 * The completion seam: filter an io_uring result through the fault plan.
 * @kind: RXL_FK_WRITE or RXL_FK_SYNC; @len: bytes the write asked for.
 * Returns: @res, or an injected -errno / short count.
 */
int rxl_io_complete(uint32_t kind, int res, uint32_t len);

/** pwrite all of @buf or fail. Returns: 0 or -errno (-EIO on a zero write). */
int rxl_io_pwrite_all(int fd, const void *buf, size_t len, off_t off);

/** fsync a folder so created/renamed/removed names are durable. Returns 0 or -errno. */
int rxl_io_fsync_dir(int dirfd);

/* ---- State file (state.c) ---------------------------------------------- */

#define RXL_STATE_MAGIC 0x534c5852u /* "RXLS" little-endian */
#define RXL_STATE_VERSION 2
#define RXL_STATE_SIZE 4096

/* The recovery checkpoint: everything before (offset, segment, position)
 * was fdatasync'd before these bytes were stored. Written only by the
 * writer holding the lock and read only by recovery holding it: plain
 * fields, protected by the flock, with a CRC because the page may reach the
 * disk torn after a power cut. */
struct rxl_ckpt {
	uint64_t offset;   /* offset of the batch that starts at position */
	uint64_t segment;  /* base offset of its segment */
	uint64_t position; /* byte position in that segment */
	uint32_t crc;	   /* CRC32C of the three fields above */
	uint32_t pad;
};

/*
 * The 4 KiB state page, mapped MAP_SHARED by the writer (read-write) and by
 * every reader (read-only).
 *
 *   line 0  identity (written at creation)
 *   line 1+ published position, double-buffered: readers take pub[seq & 1],
 *           the writer fills the other copy and then bumps seq (P1/P2 in
 *           rxl_state_publish(), A1/A2 in rxl_state_read()). A writer that
 *           dies at any store leaves the copy seq points at whole, so no
 *           reader ever waits on a dead writer (a classic odd/even seqlock
 *           would spin for ever on the odd count a SIGKILL left behind).
 *   line 2  futex word "notify" (bumped after every publish) and "waiters"
 *   line 3  recovery checkpoint and corruption record (writer/recovery only)
 */
struct rxl_state_file {
	uint32_t magic;
	uint32_t version;
	uint64_t segment_bytes;	 /* the writer's config: readers map this much */
	uint32_t index_interval; /* the writer's index_interval_bytes (recovery rebuilds with it) */
	uint8_t pad0[RXL_CACHE_LINE - 20];

	RXL_ALIGN_CL _Atomic uint32_t seq; /* readers use pub[seq & 1] */
	uint32_t pad1;
	_Atomic uint64_t writer_pid; /* 0 when no writer runs */
	struct rxl_pub_slot {
		_Atomic uint64_t hwm;	       /* offset after the last visible record */
		_Atomic uint64_t hwm_segment;  /* base offset of the segment holding hwm */
		_Atomic uint64_t hwm_position; /* bytes of that segment that are visible */
		_Atomic uint64_t durable;      /* offset after the last durable record */
		_Atomic uint64_t log_start;    /* first offset kept */
	} pub[2];

	RXL_ALIGN_CL _Atomic uint32_t notify;
	_Atomic uint32_t waiters;

	RXL_ALIGN_CL struct rxl_ckpt ckpt;
	uint32_t corrupt; /* 1: recovery found corruption, see below */
	uint32_t pad3;
	uint64_t corrupt_segment;
	uint64_t corrupt_position;
	uint64_t corrupt_offset;
};

_Static_assert(sizeof(struct rxl_state_file) <= RXL_STATE_SIZE, "state fits its page");
_Static_assert(offsetof(struct rxl_state_file, seq) % RXL_CACHE_LINE == 0, "seq on its own line");
_Static_assert(offsetof(struct rxl_state_file, notify) % RXL_CACHE_LINE == 0,
	       "futex word apart from the published fields");
_Static_assert(offsetof(struct rxl_state_file, notify) - offsetof(struct rxl_state_file, seq) >=
		       RXL_CACHE_LINE,
	       "reader/writer lines apart");

/** A consistent snapshot of the published fields. */
struct rxl_pub {
	uint64_t hwm, hwm_segment, hwm_position, durable, log_start;
};

/**
 * Map (creating when @create) <dir>/state. @writable maps it read-write.
 * Returns: 0 with *out, -ENOENT when absent and !create, -EBADMSG for a bad magic.
 */
int rxl_state_map(int dirfd, bool create, bool writable, uint64_t segment_bytes,
		  struct rxl_state_file **out);

/**
 * Check a mapped page's magic and version (@where prefixes the message,
 * e.g. "partition DIR: ").
 * Concurrency: any thread.
 * Returns: 0, or -EBADMSG with a message that says what to do.
 */
int rxl_state_check(const struct rxl_state_file *st, const char *where);

/** Unmap. */
void rxl_state_unmap(struct rxl_state_file *st);

/**
 * Publish new positions (fill the copy readers do not use, then switch them
 * to it) and wake waiters.
 * Concurrency: the writer holding the lock only.
 */
void rxl_state_publish(struct rxl_state_file *st, const struct rxl_pub *p);

/** Stores one rxl_state_publish() makes: five fields, then seq. */
#define RXL_STATE_PUBLISH_STORES 6

/**
 * For tests: a publish cut after its first @stores stores (0 to
 * RXL_STATE_PUBLISH_STORES), the page a writer killed there leaves behind.
 * Concurrency: as rxl_state_publish().
 */
void rxl_state_publish_cut(struct rxl_state_file *st, const struct rxl_pub *p, int stores);

/**
 * Read a consistent snapshot. Never waits on the writer: retries only when
 * a publish completed during the read; a writer that died mid-publish left
 * the copy in use whole.
 * Concurrency: any thread of any process.
 */
void rxl_state_read(const struct rxl_state_file *st, struct rxl_pub *p);

/** Store a checkpoint (with its CRC). Concurrency: lock holder. */
void rxl_state_ckpt_set(struct rxl_state_file *st, uint64_t offset, uint64_t segment,
			uint64_t position);

/** Load the checkpoint. Returns: true when its CRC matches. Concurrency: lock holder. */
bool rxl_state_ckpt_get(const struct rxl_state_file *st, struct rxl_ckpt *out);

/**
 * Wait until st->notify differs from @seen or @timeout_ms passes (-1 forever).
 * @still_waiting: re-checked after registering as a waiter (Dekker with
 * rxl_state_publish()); returns at once when it says false.
 * Returns: 0 when woken or the condition changed, -ETIMEDOUT, -EINTR.
 */
int rxl_state_wait(struct rxl_state_file *st, uint32_t seen, int timeout_ms,
		   bool (*still_waiting)(void *), void *arg);

/* ---- Segments (segment.c) ----------------------------------------------- */

#define RXL_INDEX_ENTRY 8
#define RXL_TIMEINDEX_ENTRY 12
#define RXL_SEG_NAME_MAX 48

/** Metadata of one segment as the writer and recovery see it. */
struct rxl_seg {
	uint64_t base;	     /* offset of its first record */
	uint64_t next;	     /* offset after its last record */
	uint64_t size;	     /* valid bytes */
	int64_t max_ts;	     /* largest record timestamp (INT64_MIN when empty) */
	uint64_t max_ts_off; /* last offset of the batch holding max_ts */
};

/** "<20 digits>.<ext>" for base offset @base. */
void rxl_seg_name(char *buf, size_t len, uint64_t base, const char *ext);

/**
 * List the base offsets of the segments in @dirfd (files "<20 digits>.log"),
 * ascending. With @cleanup (writer/recovery only) removes leftovers of
 * interrupted deletions ("*.deleted").
 * Returns: 0 with *bases (malloc'd) and *n, or -errno.
 */
int rxl_seg_list(int dirfd, bool cleanup, uint64_t **bases, size_t *n);

/**
 * Index builder state used when writing or rebuilding indexes (Kafka's
 * LogSegment.append rule: an entry for a batch once more than
 * index_interval bytes were written since the previous entry).
 */
struct rxl_index_state {
	uint64_t base;
	uint64_t bytes_since;
	int64_t max_ts; /* largest timestamp so far in the segment */
	uint64_t max_ts_off;
	int64_t last_tidx_ts;	/* timestamp of the last time-index entry */
	uint32_t idx_n, tidx_n; /* entries in the files */
	int idx_fd, tidx_fd;
	uint32_t interval;
	uint64_t resume_pos; /* rxl_index_open: position of the last kept entry (0: none) */
	uint64_t resume_off; /* ... and its offset */
};

/**
 * Account one batch at @pos ([h.base_offset, last]) and, when the rule says
 * so, append index entries (pwrite through the seam).
 * Returns: 0 or -errno.
 */
int rxl_index_note_batch(struct rxl_index_state *ix, const struct rxl_batch_hdr *h, uint64_t pos,
			 uint32_t len);

/**
 * Append the time-index entry for the segment's max timestamp if the index
 * does not have it yet (done when a segment is sealed, as Kafka does).
 * Returns: 0 or -errno.
 */
int rxl_index_seal(struct rxl_index_state *ix);

/**
 * Check an index file pair against a segment of @seg_size bytes ending at
 * offset @next: sizes are whole entries, offsets strictly increase,
 * positions lie inside the segment (Kafka's sanityCheck).
 * Returns: true when plausible.
 */
bool rxl_index_sane(int idx_fd, int tidx_fd, uint64_t base, uint64_t next, uint64_t seg_size);

/**
 * Find the index entry for @target in an open .index: the last entry whose
 * offset <= target and whose position < @limit_pos.
 * Returns: the byte position to scan from (0 when no entry applies).
 */
uint64_t rxl_index_lookup(int idx_fd, uint64_t base, uint64_t target, uint64_t limit_pos);

/**
 * Find where to start scanning for the first record with timestamp >= @ts:
 * the last time-index entry whose timestamp < ts, mapped to a position
 * through the offset index.
 * Returns: the byte position to scan from (0 when no entry applies).
 */
uint64_t rxl_timeindex_lookup(int tidx_fd, int idx_fd, uint64_t base, int64_t ts,
			      uint64_t limit_pos);

/** Scan outcome of rxl_seg_scan(). */
struct rxl_scan {
	uint64_t valid_end; /* position after the last valid batch */
	uint64_t next;	    /* offset after the last valid batch */
	uint64_t file_size;
	uint64_t batches;
	bool tail_nonzero;	  /* bytes after valid_end are not all zero */
	enum rxl_batch_fault why; /* why the scan stopped before file_size */
	bool mark_ok;		  /* the scan met a batch boundary at (mark_pos, mark_off) */
	uint64_t first_last;	  /* last offset of the first batch scanned (UINT64_MAX: none) */
	int64_t max_ts;
	uint64_t max_ts_off;
};

/**
 * Validate the batches of segment @base from @pos (expecting offset @expect,
 * UINT64_MAX for "whatever the first batch says"), rebuilding its indexes
 * from there when @ix is not NULL. out->mark_ok tells whether a batch
 * boundary at byte @mark_pos started at offset @mark_off (the recovery
 * checkpoint; UINT64_MAX when there is none).
 * Returns: 0 with *out, or -errno (I/O).
 */
int rxl_seg_scan(int dirfd, uint64_t base, uint64_t pos, uint64_t expect, uint64_t mark_pos,
		 uint64_t mark_off, struct rxl_index_state *ix, struct rxl_scan *out);

/**
 * Open the index files of segment @base for appending, keep the offset
 * entries that point below @keep_pos (and the time entries they cover), cut
 * the rest, and set ix->resume_pos/resume_off to the last kept entry. A scan
 * with @ix from resume_pos (expecting the batch there to end at resume_off)
 * then continues the index exactly as the writer would have.
 * Returns: 0 or -errno.
 */
int rxl_index_open(int dirfd, uint64_t base, uint64_t keep_pos, uint32_t interval,
		   struct rxl_index_state *ix);

/** Close the index fds of @ix. */
void rxl_index_close(struct rxl_index_state *ix);

/**
 * Remove segment @base: rename each file to "*.deleted", then unlink, so a
 * reader that already mapped it keeps its view.
 * Returns: 0 or -errno.
 */
int rxl_seg_remove(int dirfd, uint64_t base);

/* ---- Recovery (recover.c) ----------------------------------------------- */

/** What recovery leaves for the writer: the segments, in order. */
struct rxl_layout {
	struct rxl_seg *segs;
	size_t n;
	uint64_t end_offset;
	uint64_t log_start;
	struct rxl_index_state last_ix; /* the last segment's index, open, ready to append */
};

/**
 * Recover with the lock held and the state mapped (rxl_log_open, rxl_log_recover).
 * Returns: 0 with *lay (segs malloc'd; may be empty) and *rep, or -errno.
 */
int rxl_recover_locked(int dirfd, struct rxl_state_file *st, bool force_full,
		       struct rxl_recovery_report *rep, struct rxl_layout *lay);

/**
 * Take the partition's writer lock (flock on <dir>/lock) and record our pid.
 * Returns: 0 with *lockfd, -EWOULDBLOCK with a message naming the holder.
 */
int rxl_lock_take(int dirfd, const char *what, int *lockfd);

/** Wall-clock milliseconds (record timestamps, retention). */
int64_t rxl_now_ms(void);

/** Monotonic nanoseconds (linger, intervals). */
uint64_t rxl_mono_ns(void);

#endif
