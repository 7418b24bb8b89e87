/* log: recovery, verification and repair of a partition folder; the writer lock.
 * Runs on the thread opening a writer, or in a tool, always with the lock held.
 *
 * Recovery rule (docs/FORMAT.md, "Recovery"):
 *   R1 With the clean_shutdown marker, only the tail of the last segment
 *      after its last index entry is read (to find the end offset); if that
 *      does not end exactly at the file's end, recovery runs as unclean.
 *   R2 Otherwise scanning starts at the recovery checkpoint stored in the
 *      state page (segment, position, offset) — bytes before it were
 *      fdatasync'd before the checkpoint was stored. Without a valid
 *      checkpoint it starts at the oldest segment.
 *   R3 Batches are validated with rule V (rxl_format.h) and must be
 *      contiguous across segments. The first invalid batch after the
 *      checkpoint ends the log: that segment is cut there and later
 *      segments are removed (the torn tail).
 *   R4 An invalid batch before the checkpoint, or — when there is no
 *      checkpoint — in a segment other than the last, is corruption: it is
 *      reported, recorded in the state page, and nothing is truncated; the
 *      writer refuses to open until rxl_log_verify(repair = true).
 *   R5 Indexes of scanned segments are re-derived from the last index entry
 *      the scan can trust; an index of an unscanned segment that fails the
 *      sanity check is rebuilt by scanning that segment.
 *   R6 Everything recovery changed is fdatasync'd, then the checkpoint is
 *      moved to the end. A second run therefore changes nothing.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log_pvt.h"
#include "rxl_bytes.h"
#include "rxl_err.h"

int rxl_lock_take(int dirfd, const char *what, int *lockfd)
{
	char pidbuf[32] = "";
	int fd = rxl_io->openat(dirfd, "lock", O_RDWR | O_CREAT, 0644);

	if (fd < 0)
		return rxl_err_set(fd, "%s: lock file: %s", what, strerror(-fd));
	if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
		int e = errno;
		ssize_t n = pread(fd, pidbuf, sizeof(pidbuf) - 1, 0);

		pidbuf[n > 0 ? n : 0] = '\0';
		pidbuf[strcspn(pidbuf, "\n")] = '\0';
		close(fd);
		if (e == EWOULDBLOCK)
			return rxl_err_set(-EWOULDBLOCK,
					   "%s is held by another writer (pid %s); one writer per "
					   "partition: stop it or send to it",
					   what, pidbuf[0] ? pidbuf : "unknown");
		return rxl_err_set(-e, "%s: flock: %s", what, strerror(e));
	}
	int len = snprintf(pidbuf, sizeof(pidbuf), "%ld\n", (long)getpid());

	if (ftruncate(fd, 0) == 0)
		(void)!pwrite(fd, pidbuf, (size_t)len, 0);
	*lockfd = fd;
	return 0;
}

static int64_t file_size(int dirfd, uint64_t base, const char *ext)
{
	char name[RXL_SEG_NAME_MAX];
	struct stat sb;

	rxl_seg_name(name, sizeof(name), base, ext);
	if (fstatat(dirfd, name, &sb, 0) < 0)
		return -errno;
	return sb.st_size;
}

/* Largest timestamp of a sealed segment: its last time-index entry. */
static void last_time_entry(int dirfd, struct rxl_seg *s)
{
	char name[RXL_SEG_NAME_MAX];
	uint8_t e[RXL_TIMEINDEX_ENTRY];
	struct stat sb;

	s->max_ts = INT64_MIN;
	rxl_seg_name(name, sizeof(name), s->base, "timeindex");
	int fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return;
	if (fstat(fd, &sb) == 0 && sb.st_size >= RXL_TIMEINDEX_ENTRY &&
	    pread(fd, e, sizeof(e),
		  sb.st_size / RXL_TIMEINDEX_ENTRY * RXL_TIMEINDEX_ENTRY - RXL_TIMEINDEX_ENTRY) ==
		    (ssize_t)sizeof(e)) {
		s->max_ts = (int64_t)rxl_be64_get(e);
		s->max_ts_off = s->base + rxl_be32_get(e + 8);
	}
	close(fd);
}

static bool index_sane_ro(int dirfd, const struct rxl_seg *s)
{
	char name[RXL_SEG_NAME_MAX];
	int idx, tidx;
	bool sane;

	rxl_seg_name(name, sizeof(name), s->base, "index");
	idx = openat(dirfd, name, O_RDONLY | O_CLOEXEC);
	rxl_seg_name(name, sizeof(name), s->base, "timeindex");
	tidx = openat(dirfd, name, O_RDONLY | O_CLOEXEC);
	sane = idx >= 0 && tidx >= 0 && rxl_index_sane(idx, tidx, s->base, s->next, s->size);
	if (idx >= 0)
		close(idx);
	if (tidx >= 0)
		close(tidx);
	return sane;
}

/*
 * Scan segment @base from the last index entry at or below @from, rebuilding
 * the index from there (R5). If that entry does not point at a batch ending
 * at its offset, the index is wrong: rebuild it from byte 0.
 * On success @ix is open (the caller closes it or hands it to the writer).
 */
static int recover_seg(int dirfd, uint64_t base, uint64_t from, uint64_t mark_pos,
		       uint64_t mark_off, uint32_t interval, struct rxl_index_state *ix,
		       struct rxl_scan *sc, bool *changed)
{
	int64_t isz = file_size(dirfd, base, "index"), tsz = file_size(dirfd, base, "timeindex");
	int err;

	/* Keep the entries up to and including one at @from (none when from
	 * is 0: the first batch of a segment never has an entry). */
	err = rxl_index_open(dirfd, base, from ? from + 1 : 0, interval, ix);
	if (err)
		return err;
	uint64_t start = ix->resume_pos, want = ix->resume_off;

	err = rxl_seg_scan(dirfd, base, start, start ? UINT64_MAX : base, mark_pos, mark_off, ix,
			   sc);
	if (err)
		goto close_ix;
	if (start && sc->first_last != want) {
		rxl_index_close(ix);
		err = rxl_index_open(dirfd, base, 0, interval, ix);
		if (err)
			return err;
		err = rxl_seg_scan(dirfd, base, 0, base, mark_pos, mark_off, ix, sc);
		if (err)
			goto close_ix;
	}
	if (sc->batches == 0 && sc->valid_end == 0)
		sc->next = base;
	*changed = isz != file_size(dirfd, base, "index") ||
		   tsz != file_size(dirfd, base, "timeindex");
	return 0;
close_ix:
	rxl_index_close(ix);
	return err;
}

static int sync_file(int dirfd, uint64_t base, const char *ext, int64_t truncate_to)
{
	char name[RXL_SEG_NAME_MAX];
	int fd, err = 0;

	rxl_seg_name(name, sizeof(name), base, ext);
	fd = rxl_io->openat(dirfd, name, O_RDWR, 0);
	if (fd < 0)
		return rxl_err_set(fd, "%s: %s", name, strerror(-fd));
	if (truncate_to >= 0)
		err = rxl_io->ftruncate(fd, truncate_to);
	if (!err)
		err = rxl_io->fdatasync(fd);
	if (err)
		rxl_err_set(err, "%s: %s", name, strerror(-err));
	close(fd);
	return err;
}

static void mark_corrupt(struct rxl_state_file *st, struct rxl_recovery_report *rep, uint64_t seg,
			 uint64_t pos, uint64_t off)
{
	rep->corrupt = true;
	rep->corrupt_segment = seg;
	rep->corrupt_position = pos;
	rep->corrupt_offset = off;
	st->corrupt_segment = seg;
	st->corrupt_position = pos;
	st->corrupt_offset = off;
	st->corrupt = 1;
}

int rxl_recover_locked(int dirfd, struct rxl_state_file *st, bool force_full,
		       struct rxl_recovery_report *rep, struct rxl_layout *lay)
{
	uint64_t *bases = NULL;
	size_t n = 0;
	struct rxl_ckpt ck;
	bool ck_ok, clean;
	int err;
	uint32_t interval = st->index_interval ? st->index_interval : 4096;

	memset(rep, 0, sizeof(*rep));
	memset(lay, 0, sizeof(*lay));
	lay->last_ix.idx_fd = lay->last_ix.tidx_fd = -1;
	err = rxl_seg_list(dirfd, true, &bases, &n);
	if (err)
		return rxl_err_set(err, "listing segments: %s", strerror(-err));
	rep->segments = n;
	clean = !force_full && faccessat(dirfd, "clean_shutdown", F_OK, 0) == 0;
	rep->clean = clean;
	if (n == 0) {
		struct rxl_pub p;

		rxl_state_read(st, &p);
		lay->end_offset = lay->log_start = p.hwm;
		rep->end_offset = rep->log_start = p.hwm;
		free(bases);
		st->corrupt = 0;
		return 0;
	}
	lay->segs = calloc(n, sizeof(*lay->segs));
	if (!lay->segs) {
		free(bases);
		return -ENOMEM;
	}
	for (size_t i = 0; i < n; i++) {
		int64_t sz = file_size(dirfd, bases[i], "log");

		lay->segs[i].base = bases[i];
		lay->segs[i].size = sz > 0 ? (uint64_t)sz : 0;
		lay->segs[i].next = i + 1 < n ? bases[i + 1] : bases[i];
		lay->segs[i].max_ts = INT64_MIN;
	}
	free(bases);

	/* Where to start scanning (R1, R2). */
	size_t k0 = 0;
	uint64_t from = 0, mark_pos = UINT64_MAX, mark_off = UINT64_MAX;

	ck_ok = rxl_state_ckpt_get(st, &ck);
	if (clean) {
		k0 = n - 1;
		from = lay->segs[k0].size;
	} else if (ck_ok) {
		for (size_t i = 0; i < n; i++) {
			if (lay->segs[i].base == ck.segment && ck.position <= lay->segs[i].size) {
				k0 = i;
				from = ck.position;
				mark_pos = ck.position;
				mark_off = ck.offset;
				break;
			}
		}
		if (mark_pos == UINT64_MAX)
			ck_ok = false;
	}

	/* Segments before k0 are trusted; only their indexes get a sanity check. */
	for (size_t i = 0; i < k0; i++) {
		struct rxl_seg *s = &lay->segs[i];
		struct rxl_index_state ix;

		/* Read-only: a sane index of a trusted segment stays as it is
		 * (its seal-time entry holds the segment's newest timestamp). */
		if (index_sane_ro(dirfd, s)) {
			last_time_entry(dirfd, s);
			continue;
		}
		struct rxl_scan sc;
		bool changed;

		err = recover_seg(dirfd, s->base, 0, UINT64_MAX, UINT64_MAX, interval, &ix, &sc,
				  &changed);
		if (err)
			goto fail;
		err = rxl_index_seal(&ix);
		rxl_index_close(&ix);
		if (err) {
			rxl_err_set(err, "writing a time index: %s", strerror(-err));
			goto fail;
		}
		rep->indexes_rebuilt++;
		rep->segments_scanned++;
		rep->batches_scanned += sc.batches;
		s->max_ts = sc.max_ts;
		s->max_ts_off = sc.max_ts_off;
		if (sc.valid_end != sc.file_size || sc.next != s->next) {
			mark_corrupt(st, rep, s->base, sc.valid_end, sc.next);
			goto done;
		}
	}

	for (size_t i = k0; i < n; i++) {
		struct rxl_seg *s = &lay->segs[i];
		struct rxl_index_state ix;
		struct rxl_scan sc;
		bool changed, last = i == n - 1;
		uint64_t f = i == k0 ? from : 0;

		err = recover_seg(dirfd, s->base, f, i == k0 ? mark_pos : UINT64_MAX,
				  i == k0 ? mark_off : UINT64_MAX, interval, &ix, &sc, &changed);
		if (err)
			goto fail;
		rep->segments_scanned++;
		rep->batches_scanned += sc.batches;
		if (i == k0 && !sc.mark_ok && sc.valid_end >= mark_pos) {
			/* The checkpoint does not sit on a batch boundary with its
			 * offset: do not trust it (R2); scan everything. */
			rxl_index_close(&ix);
			free(lay->segs);
			rxl_state_ckpt_set(st, 0, 0, 0);
			st->ckpt.crc = 0;
			return rxl_recover_locked(dirfd, st, true, rep, lay);
		}
		if (clean && (sc.valid_end != sc.file_size)) {
			rxl_index_close(&ix);
			free(lay->segs);
			return rxl_recover_locked(dirfd, st, true, rep, lay);
		}
		rep->indexes_rebuilt += changed;
		s->max_ts = sc.max_ts;
		s->max_ts_off = sc.max_ts_off;
		if (i > 0 && s->base != lay->segs[i - 1].next && sc.valid_end == 0 &&
		    sc.batches == 0)
			sc.next = s->base;
		s->next = sc.next;
		if (sc.valid_end < sc.file_size) {
			/* An invalid batch at valid_end: torn tail or corruption. */
			bool before_ckpt = ck_ok && i == k0 && sc.valid_end < mark_pos;
			bool torn = !before_ckpt && (ck_ok || last);

			if (!torn) {
				rxl_index_close(&ix);
				mark_corrupt(st, rep, s->base, sc.valid_end, sc.next);
				goto done;
			}
			if (sc.tail_nonzero)
				rep->bytes_truncated += sc.file_size - sc.valid_end;
			err = sync_file(dirfd, s->base, "log", (int64_t)sc.valid_end);
			if (err) {
				rxl_index_close(&ix);
				goto fail;
			}
			s->size = sc.valid_end;
			for (size_t j = i + 1; j < n; j++) {
				err = rxl_seg_remove(dirfd, lay->segs[j].base);
				if (err) {
					rxl_index_close(&ix);
					rxl_err_set(err, "removing segment after torn tail: %s",
						    strerror(-err));
					goto fail;
				}
				rep->segments_removed++;
			}
			if (i + 1 < n) {
				err = rxl_io_fsync_dir(dirfd);
				if (err) {
					rxl_index_close(&ix);
					rxl_err_set(err, "fsync of the folder: %s", strerror(-err));
					goto fail;
				}
			}
			n = i + 1;
			last = true;
		} else if (!clean) {
			/* Make what we validated durable before the checkpoint says so (R6). */
			err = sync_file(dirfd, s->base, "log", -1);
			if (err) {
				rxl_index_close(&ix);
				goto fail;
			}
		}
		if (!last && sc.next != lay->segs[i + 1].base) {
			rxl_index_close(&ix);
			mark_corrupt(st, rep, lay->segs[i + 1].base, 0, sc.next);
			goto done;
		}
		if (last) {
			if (!clean) {
				if (ix.idx_fd >= 0)
					rxl_io->fdatasync(ix.idx_fd);
				if (ix.tidx_fd >= 0)
					rxl_io->fdatasync(ix.tidx_fd);
			}
			lay->last_ix = ix;
		} else {
			err = rxl_index_seal(&ix);
			rxl_index_close(&ix);
			if (err) {
				rxl_err_set(err, "writing a time index: %s", strerror(-err));
				goto fail;
			}
		}
	}
	lay->n = n;
	lay->end_offset = lay->segs[n - 1].next;
	lay->log_start = lay->segs[0].base;
	rep->segments = n;
	rep->end_offset = lay->end_offset;
	rep->log_start = lay->log_start;
	st->corrupt = 0;
	rxl_state_ckpt_set(st, lay->end_offset, lay->segs[n - 1].base, lay->segs[n - 1].size);

	struct rxl_pub p = {
		.hwm = lay->end_offset,
		.hwm_segment = lay->segs[n - 1].base,
		.hwm_position = lay->segs[n - 1].size,
		.durable = lay->end_offset,
		.log_start = lay->log_start,
	};
	rxl_state_publish(st, &p);
	return 0;
done:
	/* Corruption (R4): nothing truncated; the caller reads rep. */
	lay->n = n;
	rep->end_offset = rep->corrupt_offset;
	rep->log_start = lay->segs[0].base;
	return 0;
fail:
	free(lay->segs);
	lay->segs = NULL;
	return err;
}

static int open_dir_locked(const char *part_dir, int *dirfd, int *lockfd,
			   struct rxl_state_file **st)
{
	int err;

	*dirfd = open(part_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (*dirfd < 0)
		return rxl_err_set(-errno, "partition %s: %s", part_dir, strerror(errno));
	err = rxl_lock_take(*dirfd, part_dir, lockfd);
	if (err)
		goto close_dir;
	err = rxl_state_map(*dirfd, true, true, 0, st);
	if (err) {
		rxl_err_ctx(err, "partition %s", part_dir);
		goto unlock;
	}
	return 0;
unlock:
	close(*lockfd);
close_dir:
	close(*dirfd);
	return err;
}

int rxl_log_recover(const char *part_dir, bool force_full_scan, struct rxl_recovery_report *rep)
{
	struct rxl_state_file *st;
	struct rxl_layout lay;
	int dirfd, lockfd, err;

	err = open_dir_locked(part_dir, &dirfd, &lockfd, &st);
	if (err)
		return err;
	err = rxl_recover_locked(dirfd, st, force_full_scan, rep, &lay);
	if (!err) {
		rxl_index_close(&lay.last_ix);
		free(lay.segs);
	} else {
		rxl_err_ctx(err, "recovering %s", part_dir);
	}
	rxl_state_unmap(st);
	close(lockfd);
	close(dirfd);
	return err;
}

/* Check that every offset-index entry points at a batch ending at its offset. */
static bool index_matches(int dirfd, const struct rxl_seg *s)
{
	char name[RXL_SEG_NAME_MAX];
	uint8_t e[RXL_INDEX_ENTRY], hdr[RXL_BATCH_HDR_LEN];
	bool ok = true;
	int idx, logfd;

	rxl_seg_name(name, sizeof(name), s->base, "index");
	idx = openat(dirfd, name, O_RDONLY | O_CLOEXEC);
	if (idx < 0)
		return errno == ENOENT;
	rxl_seg_name(name, sizeof(name), s->base, "log");
	logfd = openat(dirfd, name, O_RDONLY | O_CLOEXEC);
	if (logfd < 0) {
		close(idx);
		return false;
	}
	for (off_t o = 0; pread(idx, e, sizeof(e), o) == (ssize_t)sizeof(e); o += RXL_INDEX_ENTRY) {
		struct rxl_batch_hdr h;
		uint64_t pos = rxl_be32_get(e + 4);

		if (pos + RXL_BATCH_HDR_LEN > s->size ||
		    pread(logfd, hdr, sizeof(hdr), (off_t)pos) != (ssize_t)sizeof(hdr)) {
			ok = false;
			break;
		}
		rxl_batch_hdr_decode(hdr, &h);
		if (h.base_offset + (uint64_t)h.last_offset_delta != s->base + rxl_be32_get(e)) {
			ok = false;
			break;
		}
	}
	close(logfd);
	close(idx);
	return ok;
}

int rxl_log_verify(const char *part_dir, bool repair, struct rxl_recovery_report *rep)
{
	struct rxl_state_file *st;
	uint64_t *bases = NULL;
	size_t n = 0;
	int dirfd, lockfd, err;
	uint64_t expect = UINT64_MAX;

	memset(rep, 0, sizeof(*rep));
	err = open_dir_locked(part_dir, &dirfd, &lockfd, &st);
	if (err)
		return err;
	err = rxl_seg_list(dirfd, true, &bases, &n);
	if (err)
		goto unlock;
	rep->segments = n;
	rep->log_start = n ? bases[0] : 0;
	for (size_t i = 0; i < n; i++) {
		struct rxl_scan sc;
		struct rxl_seg s = {.base = bases[i]};

		err = rxl_seg_scan(dirfd, bases[i], 0, expect == UINT64_MAX ? bases[i] : expect,
				   UINT64_MAX, UINT64_MAX, NULL, &sc);
		if (err)
			goto free_bases;
		rep->segments_scanned++;
		rep->batches_scanned += sc.batches;
		s.size = sc.valid_end;
		s.next = sc.next;
		bool bad = sc.valid_end < sc.file_size &&
			   (i + 1 < n || sc.tail_nonzero || sc.why != RXL_BF_LENGTH);

		/* A segment that does not start where the previous one ended is
		 * corrupt at byte 0. */
		if (expect != UINT64_MAX && bases[i] != expect) {
			bad = true;
			sc.valid_end = 0;
			sc.next = expect;
		}
		if (!bad && !index_matches(dirfd, &s))
			rep->indexes_rebuilt++;
		if (bad) {
			rep->corrupt = true;
			rep->corrupt_segment = bases[i];
			rep->corrupt_position = sc.valid_end;
			rep->corrupt_offset = sc.next;
			if (!repair)
				break;
			/* Cut here: this segment at the bad batch, the rest removed. */
			err = sync_file(dirfd, bases[i], "log", (int64_t)sc.valid_end);
			for (size_t j = i + 1; !err && j < n; j++) {
				err = rxl_seg_remove(dirfd, bases[j]);
				rep->segments_removed += !err;
			}
			if (!err)
				err = rxl_io_fsync_dir(dirfd);
			if (err)
				goto free_bases;
			rep->bytes_truncated += sc.file_size - sc.valid_end;
			n = i + 1;
		}
		expect = sc.next;
	}
	rep->end_offset = expect == UINT64_MAX ? 0 : expect;
	if (repair && (rep->corrupt || rep->indexes_rebuilt)) {
		struct rxl_recovery_report r2;
		struct rxl_layout lay;

		/* Re-derive every index and the checkpoint from the repaired log. */
		st->corrupt = 0;
		for (size_t i = 0; i < n; i++) {
			char name[RXL_SEG_NAME_MAX];

			rxl_seg_name(name, sizeof(name), bases[i], "index");
			rxl_io->unlinkat(dirfd, name);
			rxl_seg_name(name, sizeof(name), bases[i], "timeindex");
			rxl_io->unlinkat(dirfd, name);
		}
		err = rxl_recover_locked(dirfd, st, true, &r2, &lay);
		if (!err) {
			rxl_index_close(&lay.last_ix);
			free(lay.segs);
			if (r2.corrupt)
				err = rxl_err_set(-EUCLEAN, "repair left corruption behind");
		}
	} else if (rep->corrupt || rep->indexes_rebuilt) {
		err = rep->corrupt
			      ? rxl_err_set(-EUCLEAN,
					    "partition %s: segment %020" PRIu64
					    ".log: invalid batch at byte %" PRIu64
					    " (offset %" PRIu64 "); run `rxlog verify --repair`",
					    part_dir, rep->corrupt_segment, rep->corrupt_position,
					    rep->corrupt_offset)
			      : rxl_err_set(
					-EUCLEAN,
					"partition %s: %" PRIu64
					" index file(s) inconsistent; run `rxlog verify --repair`",
					part_dir, rep->indexes_rebuilt);
	}
free_bases:
	free(bases);
unlock:
	rxl_state_unmap(st);
	close(lockfd);
	close(dirfd);
	return err;
}
