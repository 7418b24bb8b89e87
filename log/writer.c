/* log: the partition writer — batches in registered staging buffers, io_uring appends.
 * One thread owns a struct rxl_log (the partition's writer lcore); no locks on this path.
 *
 * Staging buffers form a ring used in order: stages [head, tail) are in
 * flight, stage tail is being filled when `filling`. Batches get their file
 * position when sealed, so in-flight writes never overlap and the HWM can
 * advance over the completed prefix (H1 below) however the kernel orders
 * completions.
 *
 *   H1 hwm moves to stage.end only when every earlier stage completed, and
 *      in RXL_DUR_FSYNC mode only when the stage's own linked fdatasync
 *      (which started after its write completed) succeeded.
 *   H2 a roll first drains every in-flight operation, so in-flight stages
 *      always belong to the active segment and the fixed-file slot 0 is
 *      the active segment's fd.
 *   H3 the old segment is truncated to its valid size before the HWM is
 *      published in the new one: readers that see the HWM in a later
 *      segment may treat the file size as final.
 *   H4 after a failed write or fdatasync the partition stops (failed != 0):
 *      an fdatasync error is never retried and trusted (the kernel may have
 *      dropped the dirty pages it could not write).
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <liburing.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include "log_pvt.h"
#include "rxl_err.h"
#include "rxl_fault.h"

enum { ST_FREE = 0, ST_FILLING, ST_WRITING };

/* How long a writer waiting for a free staging buffer spins before it
 * sleeps, under durability fsync (reap()). */
#define SPIN_NS (200 * 1000)
enum { OP_WRITE = 1, OP_SYNC, OP_ISYNC, OP_RSYNC };

struct stage {
	uint8_t *buf;
	uint32_t len;		      /* batch bytes */
	uint32_t done;		      /* bytes the kernel reported written */
	uint64_t pos;		      /* file position in the active segment */
	uint64_t base;		      /* first offset */
	uint64_t end;		      /* offset after the last record */
	uint32_t gen;		      /* bumped per submission: stale CQEs are recognised */
	uint64_t t_submit, t_written; /* latency histograms: first submission, write completion */
	uint8_t state;
	bool write_done;
	bool synced;
};

struct rxl_log {
	struct rxl_log_config cfg;
	char *dir;
	int dirfd, lockfd;
	struct rxl_state_file *st;

	struct io_uring ring;
	bool fixed_bufs, fixed_file;
	uint32_t inflight; /* SQEs whose CQE has not been reaped */

	struct stage *stages;
	uint32_t nst;
	uint64_t head, tail; /* in flight: [head, tail) */
	bool filling;
	uint64_t fill_ns;
	struct rxl_batch_builder bb;

	/* Active segment. */
	int fd;
	uint64_t seg_base;
	uint64_t seg_assigned; /* bytes given to sealed batches */
	uint64_t seg_alloc;    /* file size after preallocation */
	uint64_t seg_visible;  /* bytes covered by the HWM */
	uint64_t seg_open_ns;
	struct rxl_index_state ix;

	struct rxl_seg *sealed; /* oldest first */
	size_t n_sealed, cap_sealed;

	uint64_t next_offset, hwm, durable, log_start;
	uint64_t ckpt_offset;

	bool isync_busy;
	uint64_t isync_target, isync_pos, last_isync_ns;
	uint64_t rsync_ns; /* when the roll's fdatasync was submitted */
	int rsync_fd;
	uint64_t rsync_end, rsync_next_base;

	uint64_t last_retention_ns;
	int failed;
	bool ring_err; /* waiting on the ring failed: nothing more will complete */
	struct rxl_log_stats stats;
};

void rxl_log_config_default(struct rxl_log_config *c)
{
	memset(c, 0, sizeof(*c));
	c->segment_bytes = 1ull << 30;
	c->segment_ms = 0;
	c->batch_bytes = 256 * 1024;
	c->linger_us = 1000;
	c->index_interval_bytes = 4096;
	c->prealloc_bytes = 32ull << 20;
	c->durability = RXL_DUR_NONE;
	c->flush_ms = 1000;
	c->retention_bytes = -1;
	c->retention_ms = -1;
	c->staging_buffers = 4;
	c->floor_max_ms = -1;
}

int rxl_log_config_check(const struct rxl_log_config *c)
{
	if (c->batch_bytes < 1024 || c->batch_bytes > (64u << 20))
		return rxl_err_set(-EINVAL, "batch_bytes = %" PRIu32 ": must be 1 KiB .. 64 MiB",
				   c->batch_bytes);
	if (c->segment_bytes < c->batch_bytes || c->segment_bytes > 0x7fffffffull)
		return rxl_err_set(-EINVAL,
				   "segment_bytes = %" PRIu64
				   ": must be at least batch_bytes (%" PRIu32
				   ") and below 2 GiB (index positions are 32-bit)",
				   c->segment_bytes, c->batch_bytes);
	if (c->staging_buffers < 2 || c->staging_buffers > 64)
		return rxl_err_set(-EINVAL, "staging_buffers = %" PRIu32 ": must be 2 .. 64",
				   c->staging_buffers);
	if (c->index_interval_bytes == 0)
		return rxl_err_set(-EINVAL, "index_interval_bytes must be > 0");
	if (c->durability > RXL_DUR_FSYNC)
		return rxl_err_set(-EINVAL, "durability must be none, interval or fsync");
	if (c->durability == RXL_DUR_INTERVAL && c->flush_ms == 0)
		return rxl_err_set(-EINVAL, "flush_ms must be > 0 with durability interval");
	if (c->retention_bytes < -1 || c->retention_ms < -1 || c->segment_ms < 0)
		return rxl_err_set(-EINVAL,
				   "retention_bytes/retention_ms must be >= 0 or -1 (no limit), "
				   "segment_ms >= 0");
	return 0;
}

int rxl_log_path(char *buf, size_t len, const char *data_dir, const char *topic, uint32_t partition)
{
	if (!topic[0] || strchr(topic, '/') || !strcmp(topic, ".") || !strcmp(topic, ".."))
		return rxl_err_set(-EINVAL, "topic \"%s\": must be non-empty, without '/'", topic);
	int n = snprintf(buf, len, "%s/%s-%" PRIu32, data_dir, topic, partition);

	if (n < 0 || (size_t)n >= len)
		return rxl_err_set(-ENAMETOOLONG, "partition path too long");
	return 0;
}

static int mkdir_p(const char *path)
{
	char tmp[4096];
	size_t l = strlen(path);

	if (l >= sizeof(tmp))
		return -ENAMETOOLONG;
	memcpy(tmp, path, l + 1);
	for (char *p = tmp + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(tmp, 0755) < 0 && errno != EEXIST)
			return -errno;
		*p = '/';
	}
	if (mkdir(tmp, 0755) < 0 && errno != EEXIST)
		return -errno;
	return 0;
}

static void fail(struct rxl_log *log, int err, const char *what)
{
	if (log->failed)
		return;
	log->failed = err;
	rxl_err_set(err,
		    "partition %s: %s failed: %s; the partition stopped accepting records "
		    "(restart the writer to recover)",
		    log->dir, what, strerror(-err));
}

/* ---- Completions ------------------------------------------------------- */

static void set_ckpt(struct rxl_log *log, uint64_t off, uint64_t seg, uint64_t pos)
{
	if (off <= log->ckpt_offset)
		return;
	log->ckpt_offset = off;
	rxl_state_ckpt_set(log->st, off, seg, pos);
}

static void publish(struct rxl_log *log)
{
	struct rxl_pub p = {
		.hwm = log->hwm,
		.hwm_segment = log->seg_base,
		.hwm_position = log->seg_visible,
		.durable = log->durable,
		.log_start = log->log_start,
	};

	log->stats.hwm = log->hwm;
	log->stats.durable = log->durable;
	log->stats.log_start = log->log_start;
	rxl_state_publish(log->st, &p);
}

static struct io_uring_sqe *get_sqe(struct rxl_log *log)
{
	struct io_uring_sqe *sqe = io_uring_get_sqe(&log->ring);

	if (!sqe) {
		io_uring_submit(&log->ring);
		sqe = io_uring_get_sqe(&log->ring);
	}
	return sqe; /* the ring has room for every stage twice plus syncs: never NULL */
}

static inline uint64_t ud(unsigned op, uint32_t idx, uint32_t gen)
{
	return (uint64_t)op << 56 | (uint64_t)idx << 32 | gen;
}

static void submit_write(struct rxl_log *log, uint32_t idx)
{
	struct stage *s = &log->stages[idx];
	struct io_uring_sqe *sqe = get_sqe(log);
	int fd = log->fixed_file ? 0 : log->fd;

	s->gen++;
	if (log->fixed_bufs)
		io_uring_prep_write_fixed(sqe, fd, s->buf + s->done, s->len - s->done,
					  s->pos + s->done, (int)idx);
	else
		io_uring_prep_write(sqe, fd, s->buf + s->done, s->len - s->done, s->pos + s->done);
	if (log->fixed_file)
		sqe->flags |= IOSQE_FIXED_FILE;
	io_uring_sqe_set_data64(sqe, ud(OP_WRITE, idx, s->gen));
	log->inflight++;
	if (log->cfg.durability == RXL_DUR_FSYNC) {
		/* Linked: the fdatasync starts only after this write completed
		 * in full (a short write cancels it, and we link a new one to
		 * the rest). */
		sqe->flags |= IOSQE_IO_LINK;
		sqe = get_sqe(log);
		io_uring_prep_fsync(sqe, fd, IORING_FSYNC_DATASYNC);
		if (log->fixed_file)
			sqe->flags |= IOSQE_FIXED_FILE;
		io_uring_sqe_set_data64(sqe, ud(OP_SYNC, idx, s->gen));
		log->inflight++;
	}
	io_uring_submit(&log->ring);
}

static void submit_isync(struct rxl_log *log)
{
	struct io_uring_sqe *sqe = get_sqe(log);

	io_uring_prep_fsync(sqe, log->fixed_file ? 0 : log->fd, IORING_FSYNC_DATASYNC);
	if (log->fixed_file)
		sqe->flags |= IOSQE_FIXED_FILE;
	io_uring_sqe_set_data64(sqe, ud(OP_ISYNC, 0, 0));
	/* Only writes that completed before this submission are covered. */
	log->isync_target = log->hwm;
	log->isync_pos = log->seg_visible;
	log->isync_busy = true;
	log->last_isync_ns = rxl_mono_ns();
	log->inflight++;
	io_uring_submit(&log->ring);
}

static void note_lat(uint64_t *hist, uint64_t *sum, uint64_t since_ns)
{
	uint64_t ns = rxl_mono_ns() - since_ns;

	hist[rxl_lat_bucket(ns)]++;
	*sum += ns;
}

static void handle_cqe(struct rxl_log *log, uint64_t data, int res)
{
	unsigned op = (unsigned)(data >> 56);
	uint32_t idx = (uint32_t)(data >> 32) & 0xffffff, gen = (uint32_t)data;
	struct stage *s = op == OP_WRITE || op == OP_SYNC ? &log->stages[idx] : NULL;

	switch (op) {
	case OP_WRITE:
		res = rxl_io_complete(RXL_FK_WRITE, res, s->len - s->done);
		if (res < 0) {
			log->stats.write_errors++;
			fail(log, res, "batch write");
			return;
		}
		if (res == 0) {
			log->stats.write_errors++;
			fail(log, -EIO, "batch write (no progress)");
			return;
		}
		s->done += (uint32_t)res;
		if (s->done < s->len) {
			log->stats.short_writes++;
			if (!log->failed)
				submit_write(log, idx);
			return;
		}
		s->write_done = true;
		s->t_written = rxl_mono_ns();
		log->stats.write_lat[rxl_lat_bucket(s->t_written - s->t_submit)]++;
		log->stats.write_lat_sum_ns += s->t_written - s->t_submit;
		return;
	case OP_SYNC:
		res = rxl_io_complete(RXL_FK_SYNC, res, 0);
		if (res == -ECANCELED)
			return; /* link broken by a short write: a new sync follows */
		if (res < 0) {
			log->stats.sync_errors++;
			fail(log, res, "fdatasync");
			return;
		}
		log->stats.syncs++;
		if (gen == s->gen && s->write_done) {
			s->synced = true;
			note_lat(log->stats.sync_lat, &log->stats.sync_lat_sum_ns, s->t_written);
		}
		return;
	case OP_ISYNC:
		log->isync_busy = false;
		res = rxl_io_complete(RXL_FK_SYNC, res, 0);
		if (res < 0) {
			log->stats.sync_errors++;
			fail(log, res, "fdatasync");
			return;
		}
		log->stats.syncs++;
		note_lat(log->stats.sync_lat, &log->stats.sync_lat_sum_ns, log->last_isync_ns);
		if (log->isync_target > log->durable)
			log->durable = log->isync_target;
		set_ckpt(log, log->isync_target, log->seg_base, log->isync_pos);
		return;
	case OP_RSYNC:
		close(log->rsync_fd);
		log->rsync_fd = -1;
		res = rxl_io_complete(RXL_FK_SYNC, res, 0);
		if (res < 0) {
			log->stats.sync_errors++;
			fail(log, res, "fdatasync of a rolled segment");
			return;
		}
		log->stats.syncs++;
		note_lat(log->stats.sync_lat, &log->stats.sync_lat_sum_ns, log->rsync_ns);
		if (log->rsync_end > log->durable)
			log->durable = log->rsync_end;
		set_ckpt(log, log->rsync_end, log->rsync_next_base, 0);
		return;
	}
}

/* Move the HWM over the completed prefix of stages (H1). */
static void advance(struct rxl_log *log)
{
	bool moved = false;

	while (log->head < log->tail) {
		struct stage *s = &log->stages[log->head % log->nst];

		if (!s->write_done || (log->cfg.durability == RXL_DUR_FSYNC && !s->synced))
			break;
		log->hwm = s->end;
		log->seg_visible = s->pos + s->len;
		if (log->cfg.durability == RXL_DUR_FSYNC) {
			log->durable = s->end;
			set_ckpt(log, s->end, log->seg_base, log->seg_visible);
		}
		s->state = ST_FREE;
		log->head++;
		moved = true;
	}
	if (moved || log->stats.durable != log->durable)
		publish(log);
}

/* Reap completions; with @wait, block for at least one if any is pending. */
static void reap(struct rxl_log *log, bool wait)
{
	struct io_uring_cqe *cqe;
	unsigned head, n = 0;

	if (wait && log->inflight && io_uring_peek_cqe(&log->ring, &cqe) != 0) {
		/* Spin a while before sleeping only under durability fsync:
		 * the wait is then mostly for the disk's flush, which leaves
		 * the CPU idle, and a sleeping vCPU takes tens of microseconds
		 * to wake, added to every batch. Otherwise the wait is for the
		 * copy into the page cache, done by an io-wq worker that shares
		 * this thread's CPU when the thread is pinned (its workers
		 * inherit the one-CPU affinity on Linux 6.18) and often when it
		 * is not (the scheduler wakes the worker next to its waker), so
		 * a spin only delays the write it waits for. Measured:
		 * bench_log append_nosync +15% (64 B: 22-25 -> 28-29 M
		 * records/s; 1 KiB: 2.1-2.2 -> 2.4-2.6 M), rxlogd's page-cache
		 * rate +5-8%, without the spin; append/dur:fsync -7% without. */
		const bool spin = log->cfg.durability == RXL_DUR_FSYNC;
		const uint64_t until = spin ? rxl_mono_ns() + SPIN_NS : 0;

		while (io_uring_peek_cqe(&log->ring, &cqe) != 0) {
			if (!spin || rxl_mono_ns() > until) {
				int e;

				/* Submit and wait: a submission that failed
				 * earlier (its count ignored) is retried here,
				 * so the wait cannot be for entries the kernel
				 * never saw. */
				do {
					e = io_uring_submit_and_wait(&log->ring, 1);
				} while (e == -EINTR);
				/* -EBUSY/-EAGAIN: completions to reap first
				 * (below). Anything else: the ring is unusable,
				 * and waiting again would spin for ever. */
				if (e < 0 && e != -EBUSY && e != -EAGAIN) {
					log->ring_err = true;
					fail(log, e, "waiting for io_uring completions");
				}
				break;
			}
		}
	}
	io_uring_for_each_cqe (&log->ring, head, cqe) {
		handle_cqe(log, cqe->user_data, cqe->res);
		n++;
	}
	io_uring_cq_advance(&log->ring, n);
	log->inflight -= n;
	if (!log->failed)
		advance(log);
}

static void drain(struct rxl_log *log)
{
	/* A failed write still lets the others finish (their buffers stay
	 * ours until then); a failed wait cannot be waited out. */
	while (log->inflight && !log->ring_err)
		reap(log, true);
}

/* ---- Segments ------------------------------------------------------------ */

/* Open (or create, with fresh indexes) segment @base as the active one.
 * Nothing in @log changes unless it succeeds. */
static int open_segment_files(struct rxl_log *log, uint64_t base, bool create)
{
	char name[RXL_SEG_NAME_MAX];
	struct rxl_index_state ix;
	int fd, err;

	rxl_seg_name(name, sizeof(name), base, "log");
	fd = rxl_io->openat(log->dirfd, name, O_RDWR | (create ? O_CREAT | O_TRUNC : 0), 0644);
	if (fd < 0)
		return rxl_err_set(fd, "partition %s: segment %s: %s", log->dir, name,
				   strerror(-fd));
	if (create) {
		err = rxl_index_open(log->dirfd, base, 0, log->cfg.index_interval_bytes, &ix);
		if (!err) {
			err = rxl_io_fsync_dir(log->dirfd);
			if (err)
				rxl_index_close(&ix);
		}
		if (err) {
			close(fd);
			return rxl_err_set(err, "partition %s: creating segment %s: %s", log->dir,
					   name, strerror(-err));
		}
		log->ix = ix;
	}
	log->fd = fd;
	log->seg_base = base;
	log->seg_open_ns = rxl_mono_ns();
	return 0;
}

/* Extend the preallocated part of the active segment to cover @need bytes. */
static int prealloc(struct rxl_log *log, uint64_t need)
{
	if (need <= log->seg_alloc)
		return 0;
	uint64_t step = log->cfg.prealloc_bytes ? log->cfg.prealloc_bytes : log->cfg.batch_bytes;
	uint64_t to = need + step - 1;

	to -= to % step;
	if (to > log->cfg.segment_bytes)
		to = log->cfg.segment_bytes > need ? log->cfg.segment_bytes : need;
	int err = rxl_io->fallocate(log->fd, (off_t)log->seg_alloc, (off_t)(to - log->seg_alloc));

	if (err == -EOPNOTSUPP)
		return 0; /* a filesystem without fallocate: writes extend the file */
	if (err)
		return err;
	log->seg_alloc = to;
	return 0;
}

static int push_sealed(struct rxl_log *log, const struct rxl_seg *s)
{
	if (log->n_sealed == log->cap_sealed) {
		size_t cap = log->cap_sealed ? 2 * log->cap_sealed : 16;
		struct rxl_seg *v = realloc(log->sealed, cap * sizeof(*v));

		if (!v)
			return -ENOMEM;
		log->sealed = v;
		log->cap_sealed = cap;
	}
	log->sealed[log->n_sealed++] = *s;
	return 0;
}

static int seal_submit(struct rxl_log *log);

static int do_roll(struct rxl_log *log)
{
	int err, old_fd;

	if (log->filling) {
		err = seal_submit(log);
		if (err)
			return err;
	}
	drain(log); /* H2 */
	if (log->failed)
		return log->failed;
	if (log->seg_assigned == 0)
		return 0;

	/* Seal: final time-index entry, cut the preallocated tail (H3). */
	err = rxl_index_seal(&log->ix);
	if (!err)
		err = rxl_io->ftruncate(log->fd, (off_t)log->seg_assigned);
	if (err) {
		fail(log, err, "sealing a segment");
		return err;
	}
	struct rxl_seg s = {
		.base = log->seg_base,
		.next = log->next_offset,
		.size = log->seg_assigned,
		.max_ts = log->ix.max_ts,
		.max_ts_off = log->ix.max_ts_off,
	};

	struct rxl_index_state old_ix = log->ix;

	old_fd = log->fd;
	err = push_sealed(log, &s);
	if (!err)
		err = open_segment_files(log, log->next_offset, true);
	if (err) {
		if (log->n_sealed && log->sealed[log->n_sealed - 1].base == s.base)
			log->n_sealed--;
		fail(log, err, "creating a segment");
		return err;
	}
	rxl_index_close(&old_ix);
	if (log->fixed_file) {
		int r = io_uring_register_files_update(&log->ring, 0, &log->fd, 1);

		if (r < 0) {
			fail(log, r, "registering the new segment with io_uring");
			close(old_fd);
			return r;
		}
	}
	/* Make the old segment durable in the background (Kafka flushes a
	 * segment when it rolls); the checkpoint moves when it completes. */
	struct io_uring_sqe *sqe = get_sqe(log);

	io_uring_prep_fsync(sqe, old_fd, IORING_FSYNC_DATASYNC);
	io_uring_sqe_set_data64(sqe, ud(OP_RSYNC, 0, 0));
	log->rsync_fd = old_fd;
	log->rsync_ns = rxl_mono_ns();
	log->rsync_end = log->next_offset;
	log->rsync_next_base = log->seg_base;
	log->inflight++;
	io_uring_submit(&log->ring);

	log->seg_assigned = 0;
	log->seg_alloc = 0;
	log->seg_visible = 0;
	log->stats.segments_rolled++;
	publish(log); /* H3: the HWM now names the new segment */
	(void)prealloc(log, log->cfg.batch_bytes);
	return 0;
}

/* ---- Append path ----------------------------------------------------------- */

static int begin_batch(struct rxl_log *log, const struct rxl_producer *prod)
{
	uint32_t idx = (uint32_t)(log->tail % log->nst);
	struct stage *s = &log->stages[idx];
	int err;

	while (s->state != ST_FREE) {
		reap(log, true);
		if (log->failed)
			return log->failed;
	}
	bool aged = log->cfg.segment_ms > 0 && log->seg_assigned > 0 &&
		    rxl_mono_ns() - log->seg_open_ns >= (uint64_t)log->cfg.segment_ms * 1000000;

	if (log->seg_assigned > 0 &&
	    (log->seg_assigned + log->cfg.batch_bytes > log->cfg.segment_bytes || aged)) {
		err = do_roll(log);
		if (err)
			return err;
	}
	err = prealloc(log, log->seg_assigned + log->cfg.batch_bytes);
	if (err) {
		log->stats.enospc++;
		return rxl_err_set(err, "partition %s: preallocating %" PRIu32 " bytes: %s",
				   log->dir, log->cfg.batch_bytes, strerror(-err));
	}
	rxl_batch_begin(&log->bb, s->buf, log->cfg.batch_bytes, log->next_offset, prod);
	s->state = ST_FILLING;
	log->filling = true;
	log->fill_ns = rxl_mono_ns();
	return 0;
}

static int seal_submit(struct rxl_log *log)
{
	uint32_t idx = (uint32_t)(log->tail % log->nst);
	struct stage *s = &log->stages[idx];
	struct rxl_batch_hdr h;
	int err;

	s->len = rxl_batch_finish(&log->bb);
	s->done = 0;
	s->pos = log->seg_assigned;
	s->base = log->bb.base_offset;
	s->end = s->base + (uint64_t)log->bb.count;
	s->write_done = s->synced = false;
	s->state = ST_WRITING;
	s->t_submit = rxl_mono_ns();
	log->filling = false;
	log->tail++;
	log->seg_assigned += s->len;
	log->stats.batches++;
	log->stats.bytes += s->len;

	h.base_offset = s->base;
	h.last_offset_delta = log->bb.count - 1;
	h.max_timestamp = log->bb.max_ts;
	err = rxl_index_note_batch(&log->ix, &h, s->pos, s->len);
	if (err) {
		fail(log, err, "index write");
		return err;
	}
	submit_write(log, idx);
	return 0;
}

static bool same_producer(const struct rxl_batch_builder *bb, const struct rxl_producer *p)
{
	if (!p || p->id == RXL_NO_PRODUCER_ID)
		return bb->prod.id == RXL_NO_PRODUCER_ID;
	return bb->prod.id == p->id && bb->prod.epoch == p->epoch &&
	       rxl_seq_add(bb->prod.base_sequence, bb->count) == p->base_sequence;
}

int rxl_log_append_burst(struct rxl_log *log, const struct rxl_record_in *recs, uint32_t n,
			 const struct rxl_producer *prod, uint64_t *first_offset)
{
	struct rxl_producer cur, *pp = NULL;
	uint32_t i = 0;
	int err;

	if (log->failed)
		return log->failed;
	if (first_offset)
		*first_offset = log->next_offset;
	if (prod && prod->id != RXL_NO_PRODUCER_ID) {
		cur = *prod;
		pp = &cur;
	}
	while (i < n) {
		if (pp)
			cur.base_sequence = rxl_seq_add(prod->base_sequence, (int32_t)i);
		if (log->filling && !same_producer(&log->bb, pp)) {
			err = seal_submit(log);
			if (err)
				return i ? (int)i : err;
		}
		if (!log->filling) {
			err = begin_batch(log, pp);
			if (err)
				return i ? (int)i : err;
		}
		err = rxl_batch_add(&log->bb, &recs[i]);
		if (err == 0) {
			i++;
			log->next_offset++;
			log->stats.records++;
			continue;
		}
		if (err != -ENOSPC || log->bb.count == 0) {
			/* Refused. An empty batch must not stay open: sealing it
			 * would write a batch of zero records (invalid, rule V4). */
			if (log->bb.count == 0) {
				log->stages[log->tail % log->nst].state = ST_FREE;
				log->filling = false;
			}
			if (err != -ENOSPC)
				return i ? (int)i
					 : rxl_err_set(err, "record %" PRIu32 ": bad length", i);
			log->stats.too_large++;
			return i ? (int)i
				 : rxl_err_set(-EMSGSIZE,
					       "record larger than batch_bytes (%" PRIu32 ")",
					       log->cfg.batch_bytes);
		}
		err = seal_submit(log);
		if (err)
			return i ? (int)i : err;
	}
	/* A full batch goes out at once; a partial one waits for linger_us. */
	return (int)i;
}

int rxl_log_flush(struct rxl_log *log)
{
	if (log->failed)
		return log->failed;
	if (log->filling)
		return seal_submit(log);
	return 0;
}

int rxl_log_retention(struct rxl_log *log, int64_t now_ms)
{
	uint64_t total = log->seg_assigned;
	int removed = 0, err = 0;

	for (size_t i = 0; i < log->n_sealed; i++)
		total += log->sealed[i].size;
	while (log->n_sealed > 0) {
		const struct rxl_seg *s = &log->sealed[0];
		bool by_bytes = log->cfg.retention_bytes >= 0 &&
				total - s->size >= (uint64_t)log->cfg.retention_bytes;
		bool by_time = log->cfg.retention_ms >= 0 && s->max_ts != INT64_MIN &&
			       s->max_ts < now_ms - log->cfg.retention_ms;

		if (!by_bytes && !by_time)
			break;
		/* Keep it while a consumer group still needs it, up to the cap. */
		uint64_t floor = UINT64_MAX;

		if (log->cfg.floor_fn && log->cfg.floor_fn(log->cfg.floor_arg, &floor) == 0 &&
		    s->next > floor &&
		    !(log->cfg.floor_max_ms >= 0 && s->max_ts != INT64_MIN &&
		      s->max_ts < now_ms - log->cfg.floor_max_ms)) {
			log->stats.segments_held++;
			break;
		}
		/* Move the log start first: a reader that seeks below it from
		 * now on gets -ERANGE, one that mapped the segment keeps it. */
		log->log_start = log->n_sealed > 1 ? log->sealed[1].base : log->seg_base;
		publish(log);
		err = rxl_seg_remove(log->dirfd, s->base);
		if (err) {
			rxl_err_set(err, "partition %s: removing segment %020" PRIu64 ": %s",
				    log->dir, s->base, strerror(-err));
			break;
		}
		total -= s->size;
		memmove(log->sealed, log->sealed + 1, (log->n_sealed - 1) * sizeof(*log->sealed));
		log->n_sealed--;
		log->stats.segments_deleted++;
		removed++;
	}
	if (removed) {
		int e = rxl_io_fsync_dir(log->dirfd);

		if (!err)
			err = e;
	}
	return err ? err : removed;
}

int rxl_log_poll(struct rxl_log *log)
{
	uint64_t now;

	reap(log, false);
	if (log->failed)
		return log->failed;
	now = rxl_mono_ns();
	if (log->filling && now - log->fill_ns >= (uint64_t)log->cfg.linger_us * 1000) {
		int err = seal_submit(log);

		if (err)
			return err;
	}
	if (log->cfg.durability == RXL_DUR_INTERVAL && !log->isync_busy &&
	    log->durable < log->hwm &&
	    now - log->last_isync_ns >= (uint64_t)log->cfg.flush_ms * 1000000)
		submit_isync(log);
	if ((log->cfg.retention_bytes >= 0 || log->cfg.retention_ms >= 0) &&
	    now - log->last_retention_ns >= 1000000000ull) {
		log->last_retention_ns = now;
		int r = rxl_log_retention(log, rxl_now_ms());

		(void)r; /* a failed removal is retried next second; the message stays */
	}
	return log->failed;
}

int rxl_log_drain(struct rxl_log *log)
{
	int err = rxl_log_flush(log);

	if (err)
		return err;
	while (log->head < log->tail && !log->failed)
		reap(log, true);
	return log->failed;
}

int rxl_log_sync(struct rxl_log *log)
{
	int err = rxl_log_drain(log);

	if (err)
		return err;
	drain(log);
	if (!log->failed && log->durable < log->hwm) {
		submit_isync(log);
		drain(log);
	}
	return log->failed;
}

int rxl_log_roll(struct rxl_log *log)
{
	if (log->failed)
		return log->failed;
	return do_roll(log);
}

uint64_t rxl_log_end_offset(const struct rxl_log *log)
{
	return log->next_offset;
}

uint64_t rxl_log_hwm(const struct rxl_log *log)
{
	return log->hwm;
}

int rxl_log_failed(const struct rxl_log *log)
{
	return log->failed;
}

void rxl_log_stats(const struct rxl_log *log, struct rxl_log_stats *st)
{
	*st = log->stats;
	st->hwm = log->hwm;
	st->durable = log->durable;
	st->log_start = log->log_start;
}

/* ---- Open / close ------------------------------------------------------- */

static int setup_ring(struct rxl_log *log)
{
	uint32_t entries = 4 * log->nst + 16;
	struct iovec *iov;
	int err;

	err = io_uring_queue_init(entries, &log->ring, 0);
	if (err < 0)
		return rxl_err_set(err, "io_uring_queue_init: %s", strerror(-err));
	log->stages = calloc(log->nst, sizeof(*log->stages));
	iov = calloc(log->nst, sizeof(*iov));
	if (!log->stages || !iov) {
		free(iov);
		return -ENOMEM;
	}
	for (uint32_t i = 0; i < log->nst; i++) {
		void *b;

		if (posix_memalign(&b, 4096, log->cfg.batch_bytes)) {
			free(iov);
			return -ENOMEM;
		}
		log->stages[i].buf = b;
		iov[i].iov_base = b;
		iov[i].iov_len = log->cfg.batch_bytes;
	}
	/* Registered buffers spare the kernel a page pin per write; a
	 * memlock limit may refuse them, and plain writes still work. */
	log->fixed_bufs = io_uring_register_buffers(&log->ring, iov, log->nst) == 0;
	free(iov);
	log->fixed_file = io_uring_register_files(&log->ring, &log->fd, 1) == 0;
	return 0;
}

int rxl_log_open(const char *part_dir, const struct rxl_log_config *cfg, struct rxl_log **out)
{
	struct rxl_recovery_report rep;
	struct rxl_layout lay;
	struct rxl_log *log;
	int err;

	err = rxl_log_config_check(cfg);
	if (err)
		return rxl_err_ctx(err, "partition %s: configuration", part_dir);
	log = calloc(1, sizeof(*log));
	if (!log)
		return -ENOMEM;
	log->cfg = *cfg;
	log->nst = cfg->staging_buffers;
	log->fd = log->lockfd = log->dirfd = log->rsync_fd = -1;
	log->ix.idx_fd = log->ix.tidx_fd = -1;
	log->dir = strdup(part_dir);
	if (!log->dir) {
		err = -ENOMEM;
		goto free_log;
	}
	err = mkdir_p(part_dir);
	if (err) {
		rxl_err_set(err, "partition %s: mkdir: %s", part_dir, strerror(-err));
		goto free_log;
	}
	log->dirfd = open(part_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (log->dirfd < 0) {
		err = rxl_err_set(-errno, "partition %s: %s", part_dir, strerror(errno));
		goto free_log;
	}
	err = rxl_lock_take(log->dirfd, part_dir, &log->lockfd);
	if (err)
		goto close_dir;
	err = rxl_state_map(log->dirfd, true, true, cfg->segment_bytes, &log->st);
	if (err) {
		rxl_err_ctx(err, "partition %s", part_dir);
		goto unlock;
	}
	log->st->index_interval = cfg->index_interval_bytes;
	err = rxl_recover_locked(log->dirfd, log->st, false, &rep, &lay);
	if (err) {
		rxl_err_ctx(err, "partition %s: recovery", part_dir);
		goto unmap;
	}
	if (rep.corrupt) {
		err = rxl_err_set(
			-EUCLEAN,
			"partition %s: segment %020" PRIu64 ".log: invalid batch at byte %" PRIu64
			" (expected offset %" PRIu64 ") before the recovery point: "
			"corruption, not a torn write; run `rxlog verify --repair` to cut "
			"the log there",
			part_dir, rep.corrupt_segment, rep.corrupt_position, rep.corrupt_offset);
		free(lay.segs);
		goto unmap;
	}
	/* From here on a crash must trigger recovery. */
	err = rxl_io->unlinkat(log->dirfd, "clean_shutdown");
	if (err && err != -ENOENT) {
		rxl_err_set(err, "partition %s: removing clean_shutdown: %s", part_dir,
			    strerror(-err));
		goto free_lay;
	}
	err = rxl_io_fsync_dir(log->dirfd);
	if (err) {
		rxl_err_set(err, "partition %s: fsync of the folder: %s", part_dir, strerror(-err));
		goto free_lay;
	}

	for (size_t i = 0; i + 1 < lay.n; i++) {
		err = push_sealed(log, &lay.segs[i]);
		if (err) {
			rxl_err_set(err, "partition %s: out of memory", part_dir);
			goto free_lay;
		}
	}
	log->next_offset = log->hwm = log->durable = log->ckpt_offset = lay.end_offset;
	log->log_start = lay.log_start;
	if (lay.n == 0) {
		err = open_segment_files(log, lay.end_offset, true);
		if (err)
			goto free_lay;
	} else {
		const struct rxl_seg *last = &lay.segs[lay.n - 1];

		log->ix = lay.last_ix;
		lay.last_ix.idx_fd = lay.last_ix.tidx_fd = -1;
		err = open_segment_files(log, last->base, false);
		if (err)
			goto free_lay;
		log->seg_assigned = log->seg_alloc = log->seg_visible = last->size;
	}
	free(lay.segs);
	lay.segs = NULL;
	err = setup_ring(log);
	if (err) {
		rxl_err_ctx(err, "partition %s", part_dir);
		goto close_all;
	}
	(void)prealloc(log, log->seg_assigned + cfg->batch_bytes);
	/* Relaxed: informational (tools show who writes). */
	rxl_store_relaxed(&log->st->writer_pid, (uint64_t)getpid());
	log->last_isync_ns = log->last_retention_ns = rxl_mono_ns();
	publish(log);
	*out = log;
	return 0;

close_all:
	if (log->ring.ring_fd > 0)
		io_uring_queue_exit(&log->ring);
	if (log->stages)
		for (uint32_t i = 0; i < log->nst; i++)
			free(log->stages[i].buf);
	free(log->stages);
	close(log->fd);
	rxl_index_close(&log->ix);
free_lay:
	rxl_index_close(&lay.last_ix);
	free(lay.segs);
	free(log->sealed);
unmap:
	rxl_state_unmap(log->st);
unlock:
	close(log->lockfd);
close_dir:
	close(log->dirfd);
free_log:
	free(log->dir);
	free(log);
	return err;
}

int rxl_log_close(struct rxl_log *log)
{
	int err = 0;

	if (!log->failed)
		err = rxl_log_sync(log);
	drain(log);
	if (!log->failed) {
		/* Cut the preallocated zeros so the files have their exact size
		 * (a clean open trusts it), then leave the marker. */
		err = rxl_io->ftruncate(log->fd, (off_t)log->seg_assigned);
		if (!err)
			err = rxl_io->fdatasync(log->fd);
		if (!err) {
			int fd = rxl_io->openat(log->dirfd, "clean_shutdown",
						O_WRONLY | O_CREAT | O_TRUNC, 0644);

			err = fd < 0 ? fd : 0;
			if (fd >= 0)
				close(fd);
		}
		if (!err)
			err = rxl_io_fsync_dir(log->dirfd);
		if (err)
			rxl_err_set(err, "partition %s: clean close: %s", log->dir, strerror(-err));
	} else {
		err = log->failed;
	}
	/* Relaxed: informational. */
	rxl_store_relaxed(&log->st->writer_pid, 0);
	io_uring_queue_exit(&log->ring);
	for (uint32_t i = 0; i < log->nst; i++)
		free(log->stages[i].buf);
	free(log->stages);
	if (log->rsync_fd >= 0)
		close(log->rsync_fd);
	close(log->fd);
	rxl_index_close(&log->ix);
	free(log->sealed);
	rxl_state_unmap(log->st);
	close(log->lockfd);
	close(log->dirfd);
	free(log->dir);
	free(log);
	return err;
}

int rxl_log_validate(struct rxl_log *log)
{
	struct rxl_pub p;
	/* Not log_start: a removal that failed leaves its segment behind a
	 * log start that already moved. */
	uint64_t expect = log->n_sealed ? log->sealed[0].base : log->seg_base;

	if (log->filling || log->head != log->tail) {
		int err = rxl_log_sync(log);

		if (err && !log->failed)
			return err;
	}
	drain(log);
	rxl_state_read(log->st, &p);
	if (p.hwm != log->hwm || p.hwm > log->next_offset || p.durable > p.hwm ||
	    p.log_start > p.hwm)
		return rxl_err_set(-EUCLEAN,
				   "published hwm %" PRIu64 " durable %" PRIu64 " start %" PRIu64
				   " inconsistent with writer hwm %" PRIu64 " end %" PRIu64,
				   p.hwm, p.durable, p.log_start, log->hwm, log->next_offset);
	for (size_t i = 0; i <= log->n_sealed; i++) {
		bool active = i == log->n_sealed;
		uint64_t base = active ? log->seg_base : log->sealed[i].base;
		struct rxl_scan sc;
		int err;

		if (base != expect)
			return rxl_err_set(-EUCLEAN,
					   "segment %020" PRIu64 " does not follow offset %" PRIu64,
					   base, expect);
		err = rxl_seg_scan(log->dirfd, base, 0, base, UINT64_MAX, UINT64_MAX, NULL, &sc);
		if (err)
			return err;
		uint64_t next = sc.batches ? sc.next : base;
		uint64_t want = active ? log->seg_visible : log->sealed[i].size;

		/* Everything below the HWM must be valid; beyond it, a failed
		 * partition may hold bytes the kernel wrote anyway. */
		if (sc.valid_end < want)
			return rxl_err_set(-EUCLEAN,
					   "segment %020" PRIu64 ": only %" PRIu64
					   " valid bytes of %" PRIu64 " published (%s)",
					   base, sc.valid_end, want, rxl_batch_fault_str(sc.why));
		expect = active ? next : log->sealed[i].next;
		if (!active && next != log->sealed[i].next)
			return rxl_err_set(-EUCLEAN,
					   "segment %020" PRIu64 " ends at %" PRIu64
					   ", expected %" PRIu64,
					   base, next, log->sealed[i].next);
	}
	if (expect < log->hwm)
		return rxl_err_set(-EUCLEAN, "log ends at %" PRIu64 " below hwm %" PRIu64, expect,
				   log->hwm);
	return 0;
}
