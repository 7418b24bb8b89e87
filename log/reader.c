/* log: the zero-copy reader — maps segments, follows the published HWM.
 * Any process; one thread per struct rxl_reader. Never takes the writer lock.
 *
 * The reader trusts only what the state page publishes (A1/A2 in state.c):
 * bytes of the HWM segment below hwm_position, and whole earlier segments,
 * whose size is final once the HWM names a later segment (writer H3). Every
 * batch passes rule V (CRC included) before any record of it is returned.
 * Index entries are hints: a lookup result is checked against the batch it
 * points at, and a wrong one falls back to scanning the segment from byte 0.
 */
#include <errno.h>
#include <linux/futex.h>
#include <sys/syscall.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "log_pvt.h"
#include "rxl_err.h"

struct rseg {
	uint64_t base;
	int fd, idx_fd, tidx_fd;
	uint8_t *map;
	size_t map_len;
	uint64_t final_size; /* UINT64_MAX while it may still be the active segment */
};

struct rxl_reader {
	char *dir;
	int dirfd;
	struct rxl_state_file *st;
	bool st_writable;
	struct rseg *segs;
	size_t n;
	size_t cur;	   /* segment of the next batch */
	uint64_t pos;	   /* byte position of the next batch in segs[cur] */
	uint64_t next_off; /* offset of the next record to return */
	bool in_batch;
	bool need_locate; /* segs[cur]/pos do not describe next_off yet */
	struct rxl_batch_hdr h;
	const uint8_t *rp, *bend;
	int32_t left;
	struct rxl_pub pub;
};

static void seg_unmap(struct rseg *s)
{
	if (s->map)
		munmap(s->map, s->map_len);
	if (s->fd >= 0)
		close(s->fd);
	if (s->idx_fd >= 0)
		close(s->idx_fd);
	if (s->tidx_fd >= 0)
		close(s->tidx_fd);
	s->map = NULL;
	s->fd = s->idx_fd = s->tidx_fd = -1;
}

/* Re-read the folder listing, keeping the mappings of segments still listed
 * and of the current one (which a reader may keep reading after retention). */
static int refresh_segments(struct rxl_reader *r)
{
	uint64_t *bases, cur_base = r->n ? r->segs[r->cur].base : UINT64_MAX;
	size_t n;
	int err = rxl_seg_list(r->dirfd, false, &bases, &n);

	if (err)
		return rxl_err_set(err, "partition %s: listing segments: %s", r->dir,
				   strerror(-err));
	struct rseg *v = calloc(n + 1, sizeof(*v));

	if (!v) {
		free(bases);
		return -ENOMEM;
	}
	size_t m = 0;
	bool have_cur = false;

	for (size_t i = 0; i < n; i++) {
		struct rseg s = {.base = bases[i],
				 .fd = -1,
				 .idx_fd = -1,
				 .tidx_fd = -1,
				 .final_size = UINT64_MAX};

		for (size_t j = 0; j < r->n; j++) {
			if (r->segs[j].base == bases[i]) {
				s = r->segs[j];
				r->segs[j].map = NULL;
				r->segs[j].fd = r->segs[j].idx_fd = r->segs[j].tidx_fd = -1;
			}
		}
		if (bases[i] == cur_base)
			have_cur = true;
		v[m++] = s;
	}
	/* The current segment was removed by retention: keep its mapping at the
	 * front so the reader can finish it. */
	if (!have_cur && cur_base != UINT64_MAX) {
		for (size_t j = 0; j < r->n; j++) {
			if (r->segs[j].base == cur_base && r->segs[j].map) {
				memmove(v + 1, v, m * sizeof(*v));
				v[0] = r->segs[j];
				r->segs[j].map = NULL;
				r->segs[j].fd = r->segs[j].idx_fd = r->segs[j].tidx_fd = -1;
				m++;
				break;
			}
		}
	}
	for (size_t j = 0; j < r->n; j++)
		seg_unmap(&r->segs[j]);
	free(r->segs);
	free(bases);
	r->segs = v;
	r->n = m;
	r->cur = 0;
	for (size_t i = 0; i < m; i++)
		if (v[i].base == cur_base)
			r->cur = i;
	return 0;
}

static int seg_map(struct rxl_reader *r, struct rseg *s)
{
	char name[RXL_SEG_NAME_MAX];
	struct stat sb;

	if (s->map)
		return 0;
	rxl_seg_name(name, sizeof(name), s->base, "log");
	s->fd = openat(r->dirfd, name, O_RDONLY | O_CLOEXEC);
	if (s->fd < 0) {
		int e = errno;

		return e == ENOENT
			       ? rxl_err_set(-ERANGE, "segment %s was removed by retention", name)
			       : rxl_err_set(-e, "segment %s: %s", name, strerror(e));
	}
	if (fstat(s->fd, &sb) < 0)
		goto fail;
	/* Map as much as the segment can ever hold: the writer preallocates
	 * ahead and the reader only touches bytes below the HWM, so pages past
	 * the end of the file are never accessed (no SIGBUS). */
	size_t len = (size_t)sb.st_size;

	if (r->st->segment_bytes > len)
		len = (size_t)r->st->segment_bytes;
	if (len == 0)
		len = 4096;
	s->map = mmap(NULL, len, PROT_READ, MAP_SHARED, s->fd, 0);
	if (s->map == MAP_FAILED) {
		s->map = NULL;
		goto fail;
	}
	s->map_len = len;
	rxl_seg_name(name, sizeof(name), s->base, "index");
	s->idx_fd = openat(r->dirfd, name, O_RDONLY | O_CLOEXEC);
	rxl_seg_name(name, sizeof(name), s->base, "timeindex");
	s->tidx_fd = openat(r->dirfd, name, O_RDONLY | O_CLOEXEC);
	return 0;
fail:;
	int e = errno;

	close(s->fd);
	s->fd = -1;
	return rxl_err_set(-e, "segment %s: %s", name, strerror(e));
}

/* Bytes of @s that may be read now. */
static uint64_t seg_limit(struct rxl_reader *r, struct rseg *s)
{
	if (s->base == r->pub.hwm_segment)
		return r->pub.hwm_position;
	if (s->base > r->pub.hwm_segment)
		return 0;
	if (s->final_size == UINT64_MAX) {
		struct stat sb;

		/* Final: the writer truncated it before publishing a later HWM segment. */
		if (fstat(s->fd, &sb) == 0)
			s->final_size = (uint64_t)sb.st_size;
		else
			return 0;
	}
	return s->final_size;
}

static void refresh_pub(struct rxl_reader *r)
{
	rxl_state_read(r->st, &r->pub);
}

int rxl_reader_open(const char *part_dir, struct rxl_reader **out)
{
	struct rxl_reader *r = calloc(1, sizeof(*r));
	struct stat sb;
	int fd, err;

	if (!r)
		return -ENOMEM;
	r->dir = strdup(part_dir);
	r->dirfd = open(part_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (r->dirfd < 0) {
		err = rxl_err_set(-errno, "partition %s: %s", part_dir, strerror(errno));
		goto free_r;
	}
	/* Read-write when permitted, only to register as a futex waiter (the
	 * "waiters" count lets the writer skip the wake syscall). */
	fd = openat(r->dirfd, "state", O_RDWR | O_CLOEXEC);
	r->st_writable = fd >= 0;
	if (fd < 0)
		fd = openat(r->dirfd, "state", O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		err = rxl_err_set(-errno, "partition %s: state file: %s", part_dir,
				  strerror(errno));
		goto close_dir;
	}
	if (fstat(fd, &sb) < 0 || sb.st_size < RXL_STATE_SIZE) {
		close(fd);
		err = rxl_err_set(-EAGAIN, "partition %s: state file not initialised yet",
				  part_dir);
		goto close_dir;
	}
	void *m = mmap(NULL, RXL_STATE_SIZE, r->st_writable ? PROT_READ | PROT_WRITE : PROT_READ,
		       MAP_SHARED, fd, 0);

	close(fd);
	if (m == MAP_FAILED) {
		err = rxl_err_set(-errno, "partition %s: mmap state: %s", part_dir,
				  strerror(errno));
		goto close_dir;
	}
	r->st = m;
	if (r->st->magic != RXL_STATE_MAGIC) {
		err = rxl_err_set(-EAGAIN, "partition %s: state file not initialised yet",
				  part_dir);
		goto unmap;
	}
	char where[300];

	snprintf(where, sizeof(where), "partition %s: ", part_dir);
	if ((err = rxl_state_check(r->st, where)))
		goto unmap;
	refresh_pub(r);
	err = refresh_segments(r);
	if (err)
		goto unmap;
	r->next_off = r->pub.log_start;
	r->need_locate = true;
	*out = r;
	return 0;
unmap:
	munmap(r->st, RXL_STATE_SIZE);
close_dir:
	close(r->dirfd);
free_r:
	free(r->dir);
	free(r);
	return err;
}

void rxl_reader_close(struct rxl_reader *r)
{
	if (!r)
		return;
	for (size_t i = 0; i < r->n; i++)
		seg_unmap(&r->segs[i]);
	free(r->segs);
	munmap(r->st, RXL_STATE_SIZE);
	close(r->dirfd);
	free(r->dir);
	free(r);
}

/* Index of the segment holding @off (largest base <= off), or n. */
static size_t find_seg(struct rxl_reader *r, uint64_t off)
{
	size_t k = r->n;

	for (size_t i = 0; i < r->n; i++)
		if (r->segs[i].base <= off)
			k = i;
	return k;
}

/* Position at byte @pos of segment @k, checking that a batch starting at or
 * below @off starts there; otherwise at byte 0. */
static void position_at(struct rxl_reader *r, size_t k, uint64_t pos, uint64_t off)
{
	struct rseg *s = &r->segs[k];
	uint64_t lim = seg_limit(r, s);

	if (pos) {
		struct rxl_batch_hdr h;
		enum rxl_batch_fault why;

		if (pos >= lim ||
		    !rxl_batch_check(s->map + pos, lim - pos, UINT64_MAX, lim, &h, &why) ||
		    h.base_offset > off || h.base_offset < s->base)
			pos = 0; /* a wrong index entry: scan the segment instead */
	}
	r->cur = k;
	r->pos = pos;
	r->in_batch = false;
	r->next_off = off;
}

static int locate(struct rxl_reader *r, uint64_t offset, size_t *k)
{
	int err;

	*k = find_seg(r, offset);
	/* The listing is stale when no listed segment holds the offset, or
	 * when the one found is the last listed but not the HWM segment (the
	 * writer rolled since: newer segments exist). */
	if (*k == r->n || (*k + 1 == r->n && r->segs[*k].base != r->pub.hwm_segment)) {
		err = refresh_segments(r);
		if (err)
			return err;
		*k = find_seg(r, offset);
		if (*k == r->n)
			return rxl_err_set(-ERANGE, "offset %" PRIu64 " is not in any segment",
					   offset);
	}
	err = seg_map(r, &r->segs[*k]);
	if (err == -ERANGE) {
		/* Removed between listing and opening: the log start moved. */
		refresh_pub(r);
		return rxl_err_set(-ERANGE,
				   "offset %" PRIu64
				   " was removed by retention; log start is %" PRIu64,
				   offset, r->pub.log_start);
	}
	return err;
}

static int seek_locate(struct rxl_reader *r, uint64_t offset)
{
	size_t k;
	int err = locate(r, offset, &k);

	if (err)
		return err;
	struct rseg *s = &r->segs[k];
	uint64_t pos = rxl_index_lookup(s->idx_fd, s->base, offset, seg_limit(r, s));

	position_at(r, k, pos, offset);
	r->need_locate = false;
	return 0;
}

int rxl_reader_seek(struct rxl_reader *r, uint64_t offset)
{
	refresh_pub(r);
	if (offset < r->pub.log_start || offset > r->pub.hwm)
		return rxl_err_set(-ERANGE,
				   "offset %" PRIu64 " out of range: partition %s holds [%" PRIu64
				   ", %" PRIu64 ")",
				   offset, r->dir, r->pub.log_start, r->pub.hwm);
	if (offset == r->pub.hwm) {
		/* At the end: the segment that will hold it may not exist yet;
		 * next() locates it once the HWM moves. */
		r->next_off = offset;
		r->in_batch = false;
		r->need_locate = true;
		return 0;
	}
	return seek_locate(r, offset);
}

int rxl_reader_next(struct rxl_reader *r, struct rxl_record *rec)
{
	for (;;) {
		while (r->in_batch && r->left > 0) {
			if (rxl_record_decode(&r->rp, r->bend, &r->h, rec)) {
				r->in_batch = false;
				return rxl_err_set(-EBADMSG,
						   "partition %s: malformed record in batch at "
						   "offset %" PRIu64,
						   r->dir, r->h.base_offset);
			}
			r->left--;
			if (rec->offset < r->next_off)
				continue; /* before the sought offset */
			r->next_off = rec->offset + 1;
			return 1;
		}
		r->in_batch = false;
		if (r->next_off >= r->pub.hwm) {
			refresh_pub(r);
			if (r->next_off >= r->pub.hwm)
				return 0;
		}
		if (r->n == 0 || r->need_locate) {
			int err = seek_locate(r, r->next_off);

			if (err)
				return err;
		}
		struct rseg *s = &r->segs[r->cur];

		if (!s->map) {
			int err = seg_map(r, s);

			if (err)
				return err;
		}
		uint64_t lim = seg_limit(r, s);

		if (r->pos >= lim) {
			if (s->base == r->pub.hwm_segment)
				return 0;
			/* Sealed and read to its end: on to the segment that
			 * starts at next_off. Unmap what we finished first (a
			 * long follower keeps one mapping); locate() may
			 * replace r->segs, so @s is not used after it. */
			uint64_t done_base = s->base;
			size_t k;

			seg_unmap(s);
			if (r->next_off < r->pub.log_start)
				return rxl_err_set(-ERANGE,
						   "offset %" PRIu64
						   " was removed by retention; log start "
						   "is %" PRIu64,
						   r->next_off, r->pub.log_start);
			int err = refresh_segments(r);

			if (!err)
				err = locate(r, r->next_off, &k);
			if (err)
				return err;
			if (r->segs[k].base <= done_base)
				return rxl_err_set(-EBADMSG,
						   "partition %s: segment %020" PRIu64
						   " ends before offset %" PRIu64,
						   r->dir, done_base, r->next_off);
			position_at(r, k, 0, r->next_off);
			continue;
		}
		enum rxl_batch_fault why;
		uint32_t len = rxl_batch_check(s->map + r->pos, lim - r->pos, UINT64_MAX, lim,
					       &r->h, &why);

		if (!len)
			return rxl_err_set(-EBADMSG,
					   "partition %s: segment %020" PRIu64
					   ".log: %s at byte %" PRIu64,
					   r->dir, s->base, rxl_batch_fault_str(why), r->pos);
		r->pos += len;
		if (r->h.base_offset + (uint64_t)r->h.count <= r->next_off)
			continue; /* wholly before the position (after a seek) */
		if (r->h.base_offset > r->next_off)
			return rxl_err_set(
				-EBADMSG, "partition %s: offsets jump from %" PRIu64 " to %" PRIu64,
				r->dir, r->next_off, r->h.base_offset);
		r->in_batch = true;
		r->rp = s->map + r->pos - len + RXL_BATCH_HDR_LEN;
		r->bend = s->map + r->pos;
		r->left = r->h.count;
	}
}

int rxl_reader_seek_time(struct rxl_reader *r, int64_t ts_ms, uint64_t *offset)
{
	struct rxl_record rec;
	int err;

	refresh_pub(r);
	err = refresh_segments(r);
	if (err)
		return err;
	/* The first segment that may hold a timestamp >= ts: sealed segments
	 * end their time index with their largest timestamp. */
	size_t k = 0;
	uint64_t pos = 0;

	for (; k < r->n; k++) {
		struct rseg *s = &r->segs[k];

		if (s->base < r->pub.log_start && k + 1 < r->n &&
		    r->segs[k + 1].base <= r->pub.log_start)
			continue;
		err = seg_map(r, s);
		if (err == -ERANGE)
			continue;
		if (err)
			return err;
		pos = rxl_timeindex_lookup(s->tidx_fd, s->idx_fd, s->base, ts_ms, seg_limit(r, s));
		if (s->base == r->pub.hwm_segment || k + 1 == r->n)
			break;
		struct stat sb;
		uint8_t e[RXL_TIMEINDEX_ENTRY];

		if (s->tidx_fd < 0 || fstat(s->tidx_fd, &sb) < 0 ||
		    sb.st_size < RXL_TIMEINDEX_ENTRY)
			break; /* no summary: scan it */
		if (pread(s->tidx_fd, e, sizeof(e),
			  sb.st_size / RXL_TIMEINDEX_ENTRY * RXL_TIMEINDEX_ENTRY -
				  RXL_TIMEINDEX_ENTRY) != (ssize_t)sizeof(e))
			break;
		int64_t max_ts = (int64_t)__builtin_bswap64(*(uint64_t *)(void *)e);

		if (max_ts >= ts_ms)
			break;
	}
	if (k == r->n) {
		*offset = r->pub.hwm;
		return rxl_reader_seek(r, r->pub.hwm);
	}
	uint64_t start = r->segs[k].base > r->pub.log_start ? r->segs[k].base : r->pub.log_start;

	position_at(r, k, pos, start);
	if (pos && r->pos == pos) {
		/* position_at kept the index position: start at its batch. */
		struct rxl_batch_hdr h;

		rxl_batch_hdr_decode(r->segs[k].map + pos, &h);
		if (h.base_offset > r->next_off)
			r->next_off = h.base_offset;
	}
	for (;;) {
		int n = rxl_reader_next(r, &rec);

		if (n < 0)
			return n;
		if (n == 0) {
			*offset = r->next_off;
			return 0;
		}
		if (rec.timestamp_ms >= ts_ms) {
			*offset = rec.offset;
			return rxl_reader_seek(r, rec.offset);
		}
	}
}

static bool behind_hwm(void *arg)
{
	struct rxl_reader *r = arg;

	refresh_pub(r);
	return r->pub.hwm <= r->next_off;
}

int rxl_reader_wait(struct rxl_reader *r, int timeout_ms)
{
	uint64_t deadline = timeout_ms >= 0 ? rxl_mono_ns() + (uint64_t)timeout_ms * 1000000 : 0;

	for (;;) {
		/* A3: acquire; the value we sleep on is read before the HWM check. */
		uint32_t seen = rxl_load_acquire(&r->st->notify);

		refresh_pub(r);
		if (r->pub.hwm > r->next_off)
			return 0;
		int left = -1;

		if (timeout_ms >= 0) {
			uint64_t now = rxl_mono_ns();

			if (now >= deadline)
				return -ETIMEDOUT;
			left = (int)((deadline - now + 999999) / 1000000);
		}
		if (!r->st_writable) {
			/* Cannot register as a waiter on a read-only mapping: the
			 * writer may skip the wake, so sleep in short slices. */
			if (left < 0 || left > 10)
				left = 10;
			struct timespec ts = {0, (long)left * 1000000};

			nanosleep(&ts, NULL);
			continue;
		}
		int err = rxl_state_wait(r->st, seen, left, behind_hwm, r);

		if (err == -EINTR)
			return err;
	}
}

int rxl_reader_wait_any(struct rxl_reader *const *rs, unsigned n, int timeout_ms)
{
	struct futex_waitv w[FUTEX_WAITV_MAX];
	uint64_t deadline = timeout_ms >= 0 ? rxl_mono_ns() + (uint64_t)timeout_ms * 1000000 : 0;
	bool all_rw = n <= FUTEX_WAITV_MAX;

	for (unsigned i = 0; i < n; i++)
		all_rw = all_rw && rs[i]->st_writable;
	for (;;) {
		for (unsigned i = 0; i < n; i++) {
			/* A3 (as in rxl_reader_wait): the value we may sleep on is
			 * read before the HWM check. */
			uint32_t seen = rxl_load_acquire(&rs[i]->st->notify);

			refresh_pub(rs[i]);
			if (rs[i]->pub.hwm > rs[i]->next_off)
				return (int)i;
			if (all_rw)
				w[i] = (struct futex_waitv){.val = seen,
							    .uaddr = (uintptr_t)&rs[i]->st->notify,
							    .flags = FUTEX_32};
		}
		uint64_t now = rxl_mono_ns();

		if (timeout_ms >= 0 && now >= deadline)
			return -ETIMEDOUT;
		if (!all_rw || n == 0) {
			/* Read-only state pages (or too many): short sleeps. */
			struct timespec ts = {0, 5 * 1000000};

			nanosleep(&ts, NULL);
			continue;
		}
		/* Register on every page, then F2 (see rxl_state_wait): either
		 * the writer sees a waiter, or we see its new notify value and
		 * the kernel refuses to sleep (val mismatch). */
		for (unsigned i = 0; i < n; i++)
			rxl_add_relaxed(&rs[i]->st->waiters, 1);
		rxl_fence_sc();
		struct timespec abs, *absp = NULL;

		if (timeout_ms >= 0) {
			abs.tv_sec = (time_t)(deadline / 1000000000ull);
			abs.tv_nsec = (long)(deadline % 1000000000ull);
			absp = &abs;
		}
		long rc = syscall(SYS_futex_waitv, w, n, 0, absp, CLOCK_MONOTONIC);
		int e = rc < 0 ? errno : 0;

		for (unsigned i = 0; i < n; i++)
			rxl_sub_relaxed(&rs[i]->st->waiters, 1);
		if (rc < 0 && e == EINTR)
			return -EINTR;
		if (rc < 0 && e == ENOSYS)
			all_rw = false; /* kernel < 5.16: fall back to short sleeps */
	}
}

uint64_t rxl_reader_position(const struct rxl_reader *r)
{
	return r->next_off;
}

void rxl_reader_offsets(struct rxl_reader *r, struct rxl_log_offsets *o)
{
	refresh_pub(r);
	o->log_start = r->pub.log_start;
	o->hwm = r->pub.hwm;
	o->durable = r->pub.durable;
}
