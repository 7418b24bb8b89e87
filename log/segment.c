/* log: segment files — naming, listing, offset/time indexes, validation scans.
 * Called by the writer thread, by recovery (lock held) and by readers (lookups).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log_pvt.h"
#include "rxl_bytes.h"
#include "rxl_err.h"

void rxl_seg_name(char *buf, size_t len, uint64_t base, const char *ext)
{
	snprintf(buf, len, "%020" PRIu64 ".%s", base, ext);
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* "<20 digits>.log" exactly. */
static bool parse_seg_name(const char *name, uint64_t *base)
{
	size_t l = strlen(name);

	if (l != 24 || strcmp(name + 20, ".log") != 0)
		return false;
	uint64_t v = 0;

	for (int i = 0; i < 20; i++) {
		if (name[i] < '0' || name[i] > '9')
			return false;
		v = v * 10 + (uint64_t)(name[i] - '0');
	}
	*base = v;
	return true;
}

int rxl_seg_list(int dirfd, bool cleanup, uint64_t **bases, size_t *n)
{
	int fd = dup(dirfd);
	size_t cap = 16, cnt = 0;
	uint64_t *v = NULL;
	DIR *d;
	int err = 0;

	if (fd < 0)
		return -errno;
	d = fdopendir(fd);
	if (!d) {
		close(fd);
		return -errno;
	}
	rewinddir(d);
	v = malloc(cap * sizeof(*v));
	if (!v) {
		err = -ENOMEM;
		goto close_dir;
	}
	for (struct dirent *e; (e = readdir(d));) {
		size_t l = strlen(e->d_name);
		uint64_t b;

		/* A deletion that was interrupted between rename and unlink. */
		if (l > 8 && strcmp(e->d_name + l - 8, ".deleted") == 0) {
			if (cleanup)
				rxl_io->unlinkat(dirfd, e->d_name);
			continue;
		}
		if (!parse_seg_name(e->d_name, &b))
			continue;
		if (cnt == cap) {
			uint64_t *nv = realloc(v, 2 * cap * sizeof(*v));

			if (!nv) {
				err = -ENOMEM;
				goto free_v;
			}
			v = nv;
			cap *= 2;
		}
		v[cnt++] = b;
	}
	qsort(v, cnt, sizeof(*v), cmp_u64);
	*bases = v;
	*n = cnt;
	closedir(d);
	return 0;
free_v:
	free(v);
close_dir:
	closedir(d);
	return err;
}

/* Append the time-index entry (max timestamp so far, its batch's last offset). */
static int tidx_append(struct rxl_index_state *ix)
{
	uint8_t e[RXL_TIMEINDEX_ENTRY];
	int err;

	rxl_be64_put(e, (uint64_t)ix->max_ts);
	rxl_be32_put(e + 8, (uint32_t)(ix->max_ts_off - ix->base));
	err = rxl_io_pwrite_all(ix->tidx_fd, e, RXL_TIMEINDEX_ENTRY,
				(off_t)ix->tidx_n * RXL_TIMEINDEX_ENTRY);
	if (err)
		return err;
	ix->tidx_n++;
	ix->last_tidx_ts = ix->max_ts;
	return 0;
}

int rxl_index_note_batch(struct rxl_index_state *ix, const struct rxl_batch_hdr *h, uint64_t pos,
			 uint32_t len)
{
	uint64_t last = h->base_offset + (uint64_t)h->last_offset_delta;
	int err;

	if (h->max_timestamp > ix->max_ts) {
		ix->max_ts = h->max_timestamp;
		ix->max_ts_off = last;
	}
	/* Kafka's rule: an entry for this batch when more than interval bytes
	 * were appended since the previous entry (so the first batch of a
	 * segment never gets one: lookups below the first entry scan from 0). */
	if (ix->bytes_since > ix->interval) {
		uint8_t e[RXL_INDEX_ENTRY];

		rxl_be32_put(e, (uint32_t)(last - ix->base));
		rxl_be32_put(e + 4, (uint32_t)pos);
		err = rxl_io_pwrite_all(ix->idx_fd, e, RXL_INDEX_ENTRY,
					(off_t)ix->idx_n * RXL_INDEX_ENTRY);
		if (err)
			return err;
		ix->idx_n++;
		if (ix->max_ts > ix->last_tidx_ts) {
			err = tidx_append(ix);
			if (err)
				return err;
		}
		ix->bytes_since = 0;
	}
	ix->bytes_since += len;
	return 0;
}

int rxl_index_seal(struct rxl_index_state *ix)
{
	if (ix->max_ts == INT64_MIN || ix->max_ts <= ix->last_tidx_ts)
		return 0;
	return tidx_append(ix);
}

/* Read a whole small file (an index) into memory. */
static int slurp(int fd, uint8_t **buf, size_t *len)
{
	struct stat sb;

	if (fstat(fd, &sb) < 0)
		return -errno;
	*len = (size_t)sb.st_size;
	*buf = malloc(*len ? *len : 1);
	if (!*buf)
		return -ENOMEM;
	size_t got = 0;

	while (got < *len) {
		ssize_t n = pread(fd, *buf + got, *len - got, (off_t)got);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			free(*buf);
			return n < 0 ? -errno : -EIO;
		}
		got += (size_t)n;
	}
	return 0;
}

bool rxl_index_sane(int idx_fd, int tidx_fd, uint64_t base, uint64_t next, uint64_t seg_size)
{
	uint8_t *b = NULL;
	size_t len;
	bool ok = false;

	if (slurp(idx_fd, &b, &len))
		return false;
	if (len % RXL_INDEX_ENTRY)
		goto out;
	for (size_t i = 0; i < len; i += RXL_INDEX_ENTRY) {
		uint64_t off = base + rxl_be32_get(b + i);
		uint64_t pos = rxl_be32_get(b + i + 4);

		if (off >= next || pos >= seg_size)
			goto out;
		if (i && (rxl_be32_get(b + i) <= rxl_be32_get(b + i - 8) ||
			  pos <= rxl_be32_get(b + i - 4)))
			goto out;
	}
	free(b);
	b = NULL;
	if (slurp(tidx_fd, &b, &len))
		return false;
	if (len % RXL_TIMEINDEX_ENTRY)
		goto out;
	for (size_t i = 0; i < len; i += RXL_TIMEINDEX_ENTRY) {
		uint64_t off = base + rxl_be32_get(b + i + 8);

		if (off >= next)
			goto out;
		if (i && ((int64_t)rxl_be64_get(b + i) <= (int64_t)rxl_be64_get(b + i - 12) ||
			  rxl_be32_get(b + i + 8) < rxl_be32_get(b + i - 4)))
			goto out;
	}
	ok = true;
out:
	free(b);
	return ok;
}

static bool read_entry(int fd, size_t i, size_t sz, uint8_t *e)
{
	return pread(fd, e, sz, (off_t)(i * sz)) == (ssize_t)sz;
}

uint64_t rxl_index_lookup(int idx_fd, uint64_t base, uint64_t target, uint64_t limit_pos)
{
	struct stat sb;
	uint8_t e[RXL_INDEX_ENTRY];

	if (idx_fd < 0 || fstat(idx_fd, &sb) < 0)
		return 0;
	/* Binary search for the last entry with offset <= target. Entries past
	 * limit_pos (not yet published) count as "too large", which keeps the
	 * predicate monotone even over a torn or stale tail. */
	size_t lo = 0, hi = (size_t)sb.st_size / RXL_INDEX_ENTRY;
	uint64_t best = 0;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (!read_entry(idx_fd, mid, RXL_INDEX_ENTRY, e))
			break;
		uint64_t off = base + rxl_be32_get(e), pos = rxl_be32_get(e + 4);

		if (off <= target && pos < limit_pos) {
			best = pos;
			lo = mid + 1;
		} else {
			hi = mid;
		}
	}
	return best;
}

uint64_t rxl_timeindex_lookup(int tidx_fd, int idx_fd, uint64_t base, int64_t ts,
			      uint64_t limit_pos)
{
	struct stat sb;
	uint8_t e[RXL_TIMEINDEX_ENTRY];

	if (tidx_fd < 0 || fstat(tidx_fd, &sb) < 0)
		return 0;
	/* Last entry with timestamp < ts: every record up to its offset has a
	 * timestamp < ts (entries hold the running maximum), so the first
	 * record >= ts lies after it. */
	size_t lo = 0, hi = (size_t)sb.st_size / RXL_TIMEINDEX_ENTRY;
	uint64_t off = UINT64_MAX;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (!read_entry(tidx_fd, mid, RXL_TIMEINDEX_ENTRY, e))
			break;
		if ((int64_t)rxl_be64_get(e) < ts) {
			off = base + rxl_be32_get(e + 8);
			lo = mid + 1;
		} else {
			hi = mid;
		}
	}
	if (off == UINT64_MAX)
		return 0;
	return rxl_index_lookup(idx_fd, base, off, limit_pos);
}

int rxl_index_open(int dirfd, uint64_t base, uint64_t keep_pos, uint32_t interval,
		   struct rxl_index_state *ix)
{
	char name[RXL_SEG_NAME_MAX];
	uint8_t *b = NULL;
	size_t len;
	int err;

	memset(ix, 0, sizeof(*ix));
	ix->base = base;
	ix->interval = interval;
	ix->max_ts = INT64_MIN;
	ix->last_tidx_ts = INT64_MIN;
	ix->idx_fd = ix->tidx_fd = -1;
	rxl_seg_name(name, sizeof(name), base, "index");
	ix->idx_fd = rxl_io->openat(dirfd, name, O_RDWR | O_CREAT, 0644);
	if (ix->idx_fd < 0)
		return rxl_err_set(ix->idx_fd, "%s: %s", name, strerror(-ix->idx_fd));
	rxl_seg_name(name, sizeof(name), base, "timeindex");
	ix->tidx_fd = rxl_io->openat(dirfd, name, O_RDWR | O_CREAT, 0644);
	if (ix->tidx_fd < 0) {
		err = rxl_err_set(ix->tidx_fd, "%s: %s", name, strerror(-ix->tidx_fd));
		goto close_idx;
	}
	/* Keep the offset entries pointing below keep_pos (they were checked
	 * or are about to be re-derived by a scan); drop the rest. */
	err = slurp(ix->idx_fd, &b, &len);
	if (err)
		goto close_tidx;
	uint64_t last_off = 0;

	for (size_t i = 0; i + RXL_INDEX_ENTRY <= len; i += RXL_INDEX_ENTRY) {
		uint64_t pos = rxl_be32_get(b + i + 4);

		if (pos >= keep_pos || (i && pos <= rxl_be32_get(b + i - 4)))
			break;
		ix->idx_n++;
		last_off = base + rxl_be32_get(b + i);
		ix->resume_pos = pos;
		ix->resume_off = last_off;
	}
	free(b);
	if ((uint64_t)len != (uint64_t)ix->idx_n * RXL_INDEX_ENTRY) {
		err = rxl_io->ftruncate(ix->idx_fd, (off_t)ix->idx_n * RXL_INDEX_ENTRY);
		if (err)
			goto close_tidx;
	}
	err = slurp(ix->tidx_fd, &b, &len);
	if (err)
		goto close_tidx;
	for (size_t i = 0; i + RXL_TIMEINDEX_ENTRY <= len; i += RXL_TIMEINDEX_ENTRY) {
		int64_t t = (int64_t)rxl_be64_get(b + i);
		uint64_t off = base + rxl_be32_get(b + i + 8);

		if (ix->idx_n == 0 || off > last_off || (ix->tidx_n && t <= ix->last_tidx_ts))
			break;
		ix->tidx_n++;
		ix->last_tidx_ts = t;
		ix->max_ts = t;
		ix->max_ts_off = off;
	}
	free(b);
	if ((uint64_t)len != (uint64_t)ix->tidx_n * RXL_TIMEINDEX_ENTRY) {
		err = rxl_io->ftruncate(ix->tidx_fd, (off_t)ix->tidx_n * RXL_TIMEINDEX_ENTRY);
		if (err)
			goto close_tidx;
	}
	return 0;
close_tidx:
	rxl_err_set(err, "index files of segment %020" PRIu64 ": %s", base, strerror(-err));
	close(ix->tidx_fd);
close_idx:
	close(ix->idx_fd);
	ix->idx_fd = ix->tidx_fd = -1;
	return err;
}

void rxl_index_close(struct rxl_index_state *ix)
{
	if (ix->idx_fd >= 0)
		close(ix->idx_fd);
	if (ix->tidx_fd >= 0)
		close(ix->tidx_fd);
	ix->idx_fd = ix->tidx_fd = -1;
}

int rxl_seg_scan(int dirfd, uint64_t base, uint64_t pos, uint64_t expect, uint64_t mark_pos,
		 uint64_t mark_off, struct rxl_index_state *ix, struct rxl_scan *out)
{
	char name[RXL_SEG_NAME_MAX];
	struct stat sb;
	uint8_t *m = NULL;
	int fd, err = 0;

	memset(out, 0, sizeof(*out));
	out->max_ts = INT64_MIN;
	rxl_seg_name(name, sizeof(name), base, "log");
	fd = rxl_io->openat(dirfd, name, O_RDONLY, 0);
	if (fd < 0)
		return rxl_err_set(fd, "%s: %s", name, strerror(-fd));
	if (fstat(fd, &sb) < 0) {
		err = rxl_err_set(-errno, "%s: %s", name, strerror(errno));
		goto close_fd;
	}
	out->file_size = (uint64_t)sb.st_size;
	if (pos > out->file_size)
		pos = out->file_size;
	if (sb.st_size > 0) {
		m = mmap(NULL, (size_t)sb.st_size, PROT_READ, MAP_SHARED, fd, 0);
		if (m == MAP_FAILED) {
			err = rxl_err_set(-errno, "%s: mmap: %s", name, strerror(errno));
			goto close_fd;
		}
		madvise(m, (size_t)sb.st_size, MADV_SEQUENTIAL);
	}
	out->why = RXL_BF_OK;
	out->mark_ok = mark_pos == UINT64_MAX;
	out->first_last = UINT64_MAX;
	while (pos < out->file_size) {
		struct rxl_batch_hdr h;
		enum rxl_batch_fault why;
		uint32_t len = rxl_batch_check(m + pos, out->file_size - pos, expect, UINT32_MAX,
					       &h, &why);

		uint64_t here = expect != UINT64_MAX ? expect : len ? h.base_offset : UINT64_MAX;

		if (pos == mark_pos && here == mark_off)
			out->mark_ok = true;
		if (!len) {
			out->why = why;
			break;
		}
		if (out->batches == 0)
			out->first_last = h.base_offset + (uint64_t)h.last_offset_delta;
		if (h.max_timestamp > out->max_ts) {
			out->max_ts = h.max_timestamp;
			out->max_ts_off = h.base_offset + (uint64_t)h.last_offset_delta;
		}
		if (ix) {
			err = rxl_index_note_batch(ix, &h, pos, len);
			if (err) {
				rxl_err_set(err, "%s: rebuilding index: %s", name, strerror(-err));
				goto unmap;
			}
		}
		out->batches++;
		pos += len;
		expect = h.base_offset + (uint64_t)h.count;
	}
	out->valid_end = pos;
	out->next = expect;
	if (pos == mark_pos && expect == mark_off)
		out->mark_ok = true;
	for (uint64_t i = pos; i < out->file_size; i++) {
		if (m[i]) {
			out->tail_nonzero = true;
			break;
		}
	}
unmap:
	if (m)
		munmap(m, (size_t)sb.st_size);
close_fd:
	close(fd);
	return err;
}

int rxl_seg_remove(int dirfd, uint64_t base)
{
	static const char *const exts[] = {"log", "index", "timeindex"};
	char from[RXL_SEG_NAME_MAX], to[RXL_SEG_NAME_MAX + 8];
	int err;

	/* The .log last: a segment is listed while its .log exists, so a crash
	 * in between leaves either a whole segment or leftovers that
	 * rxl_seg_list() cleans up. Reverse order gives that for rename too. */
	for (int i = 2; i >= 0; i--) {
		rxl_seg_name(from, sizeof(from), base, exts[i]);
		snprintf(to, sizeof(to), "%s.deleted", from);
		err = rxl_io->renameat(dirfd, from, to);
		if (err && err != -ENOENT)
			return err;
	}
	for (int i = 2; i >= 0; i--) {
		rxl_seg_name(from, sizeof(from), base, exts[i]);
		snprintf(to, sizeof(to), "%s.deleted", from);
		err = rxl_io->unlinkat(dirfd, to);
		if (err && err != -ENOENT)
			return err;
	}
	return 0;
}
