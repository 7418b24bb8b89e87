/* log: the mmap'd state page — HWM publication (double-buffered, never
 * waits on a writer) and futex wake-ups.
 * Writer side: the thread owning the partition. Read side: any process.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/futex.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "log_pvt.h"
#include "rxl_crc32c.h"
#include "rxl_err.h"

/* Where version 1 (an odd/even seqlock, then the futex line) kept the line
 * that version 2 keeps at offsetof(struct rxl_state_file, ckpt): the
 * recovery checkpoint and the corruption record, in the same layout. */
#define RXL_STATE_V1_CKPT 192
#define RXL_STATE_CKPT_LINE                                                   \
	(offsetof(struct rxl_state_file, corrupt_offset) + sizeof(uint64_t) - \
	 offsetof(struct rxl_state_file, ckpt))

/* A writer found a page of an older layout (*m, mapped read-write): build
 * the current one in "state.tmp" with the identity line, the recovery
 * checkpoint and the corruption record carried over (without the
 * checkpoint, recovery could take damage in a durable batch for a torn
 * tail and cut it), and rename it over "state". Readers still running an
 * older rxlog keep their mapping of the old file, which no longer changes,
 * rather than reading the new layout as theirs. On success *m is the new
 * page and the old one is unmapped. */
static int upgrade(int dirfd, void **m)
{
	const uint8_t *old = *m;
	int fd = rxl_io->openat(dirfd, "state.tmp", O_RDWR | O_CREAT | O_TRUNC, 0644), err;
	void *n;

	if (fd < 0)
		return rxl_err_set(fd, "state file: upgrade: %s", strerror(-fd));
	err = rxl_io->ftruncate(fd, RXL_STATE_SIZE);
	n = err ? MAP_FAILED
		: mmap(NULL, RXL_STATE_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	close(fd);
	if (n == MAP_FAILED)
		return rxl_err_set(err ? err : -errno, "state file: upgrade: %s",
				   strerror(err ? -err : errno));
	struct rxl_state_file *st = n;

	_Static_assert(RXL_STATE_V1_CKPT + RXL_STATE_CKPT_LINE <= RXL_STATE_SIZE, "v1 line 3");
	memcpy(n, old, offsetof(struct rxl_state_file, pad0)); /* identity: same in v1 */
	memcpy(&st->ckpt, old + RXL_STATE_V1_CKPT, RXL_STATE_CKPT_LINE);
	st->version = RXL_STATE_VERSION;
	err = rxl_io->renameat(dirfd, "state.tmp", "state");
	if (!err)
		err = rxl_io_fsync_dir(dirfd);
	if (err) {
		munmap(n, RXL_STATE_SIZE);
		return rxl_err_set(err, "state file: upgrade: %s", strerror(-err));
	}
	munmap(*m, RXL_STATE_SIZE);
	*m = n;
	return 0;
}

int rxl_state_map(int dirfd, bool create, bool writable, uint64_t segment_bytes,
		  struct rxl_state_file **out)
{
	int flags = writable ? O_RDWR : O_RDONLY;
	int fd, err = 0;
	struct stat sb;
	void *m;

	if (create)
		flags |= O_CREAT;
	fd = rxl_io->openat(dirfd, "state", flags, 0644);
	if (fd < 0)
		return rxl_err_set(fd, "state file: %s", strerror(-fd));
	if (fstat(fd, &sb) < 0) {
		err = rxl_err_set(-errno, "state file: %s", strerror(errno));
		goto close_fd;
	}
	bool fresh = sb.st_size == 0;

	if (sb.st_size < RXL_STATE_SIZE) {
		if (!writable) {
			err = rxl_err_set(-ENOENT, "state file: not initialised yet");
			goto close_fd;
		}
		err = rxl_io->ftruncate(fd, RXL_STATE_SIZE);
		if (err) {
			rxl_err_set(err, "state file: %s", strerror(-err));
			goto close_fd;
		}
	}
	m = mmap(NULL, RXL_STATE_SIZE, writable ? PROT_READ | PROT_WRITE : PROT_READ, MAP_SHARED,
		 fd, 0);
	if (m == MAP_FAILED) {
		err = rxl_err_set(-errno, "state file: mmap: %s", strerror(errno));
		goto close_fd;
	}
	struct rxl_state_file *st = m;

	if (writable && !fresh && st->magic == RXL_STATE_MAGIC && st->version < RXL_STATE_VERSION) {
		err = upgrade(dirfd, &m);
		if (err)
			goto close_fd;
		st = m;
	} else if (fresh || (writable && st->magic == 0)) {
		memset(m, 0, RXL_STATE_SIZE);
		st->version = RXL_STATE_VERSION;
		st->segment_bytes = segment_bytes;
		st->magic = RXL_STATE_MAGIC;
	} else if ((err = rxl_state_check(st, ""))) {
		munmap(m, RXL_STATE_SIZE);
		goto close_fd;
	}
	if (writable && segment_bytes)
		st->segment_bytes = segment_bytes;
	*out = st;
close_fd:
	close(fd);
	return err;
}

int rxl_state_check(const struct rxl_state_file *st, const char *where)
{
	uint32_t v = st->version;

	if (st->magic != RXL_STATE_MAGIC)
		return rxl_err_set(-EBADMSG, "%sstate file: bad magic (not an rxlog partition?)",
				   where);
	if (v < RXL_STATE_VERSION)
		return rxl_err_set(
			-EBADMSG,
			"%sstate file: version %u, this rxlog reads version %u; open the "
			"partition once with a writer (rxlogd, rxlog produce) to rebuild it",
			where, v, RXL_STATE_VERSION);
	if (v > RXL_STATE_VERSION)
		return rxl_err_set(
			-EBADMSG,
			"%sstate file: version %u, newer than this rxlog's %u; use a newer "
			"rxlog",
			where, v, RXL_STATE_VERSION);
	return 0;
}

void rxl_state_unmap(struct rxl_state_file *st)
{
	if (st)
		munmap(st, RXL_STATE_SIZE);
}

static long futex(_Atomic uint32_t *uaddr, int op, uint32_t val, const struct timespec *ts)
{
	return syscall(SYS_futex, uaddr, op, val, ts, NULL, 0);
}

/* A publish that stops after its first @stop stores (RXL_STATE_PUBLISH_STORES:
 * all of them, then the wake-up). */
static void publish_upto(struct rxl_state_file *st, const struct rxl_pub *p, int stop)
{
	/* Relaxed: the writer is the only store to seq; it reads its own value. */
	uint32_t s = rxl_load_relaxed(&st->seq);
	struct rxl_pub_slot *w = &st->pub[(s & 1) ^ 1];
	_Atomic uint64_t *const field[] = {&w->hwm, &w->hwm_segment, &w->hwm_position, &w->durable,
					   &w->log_start};
	const uint64_t val[] = {p->hwm, p->hwm_segment, p->hwm_position, p->durable, p->log_start};

	_Static_assert(sizeof(field) / sizeof(field[0]) + 1 == RXL_STATE_PUBLISH_STORES,
		       "every store of a publish is a step");
	/* P1: release fence, fence-fence with A2 in rxl_state_read(). A
	 * reader here loaded seq = s - 1 (this copy was then the current one).
	 * If its field loads see any store below, A2 makes its re-read of seq
	 * see at least the value s that the load above read (read-read
	 * coherence; that load is sequenced before this fence, also when s was
	 * left by a writer that died), so it retries. Readers of pub[s & 1]
	 * are not disturbed at all. */
	rxl_fence_release();
	for (int i = 0; i < RXL_STATE_PUBLISH_STORES - 1; i++) {
		if (i == stop)
			return;
		rxl_store_relaxed(field[i], val[i]); /* relaxed: ordered by P1/P2 */
	}
	if (stop == RXL_STATE_PUBLISH_STORES - 1)
		return;
	/* P2: release; makes the copy (and every byte of the log and index
	 * written before this call) visible to a reader that acquires s + 1,
	 * and points readers at it. Pairs with A1 in rxl_state_read(). */
	rxl_store_release(&st->seq, s + 1);
	if (stop == RXL_STATE_PUBLISH_STORES)
		return;

	/* N1: release; bumps the futex word after the new positions. */
	rxl_add_release(&st->notify, 1);
	/* F1: seq_cst fence between the notify bump and the waiters load.
	 * Dekker with F2 in rxl_state_wait(): either we see the waiter, or the
	 * waiter sees the new notify value and does not sleep. */
	rxl_fence_sc();
	/* Relaxed: ordered by F1. */
	if (rxl_load_relaxed(&st->waiters))
		futex(&st->notify, FUTEX_WAKE, INT_MAX, NULL);
}

void rxl_state_publish(struct rxl_state_file *st, const struct rxl_pub *p)
{
	publish_upto(st, p, INT_MAX);
}

void rxl_state_publish_cut(struct rxl_state_file *st, const struct rxl_pub *p, int stores)
{
	publish_upto(st, p, stores);
}

void rxl_state_read(const struct rxl_state_file *st, struct rxl_pub *p)
{
	struct rxl_state_file *s = (struct rxl_state_file *)st;

	for (;;) {
		/* A1: acquire; pairs with P2. */
		uint32_t s1 = rxl_load_acquire(&s->seq);
		const struct rxl_pub_slot *c = &s->pub[s1 & 1];

		p->hwm = rxl_load_relaxed(&c->hwm);
		p->hwm_segment = rxl_load_relaxed(&c->hwm_segment);
		p->hwm_position = rxl_load_relaxed(&c->hwm_position);
		p->durable = rxl_load_relaxed(&c->durable);
		p->log_start = rxl_load_relaxed(&c->log_start);
		/* A2: acquire fence; the field loads above happen before the
		 * re-read of seq. Pairs with P1: unchanged seq means the writer
		 * did not start refilling this copy while we read it. */
		rxl_fence_acquire();
		if (rxl_load_relaxed(&s->seq) == s1)
			return;
	}
}

static uint32_t ckpt_crc(const struct rxl_ckpt *c)
{
	return rxl_crc32c(0, c, offsetof(struct rxl_ckpt, crc));
}

void rxl_state_ckpt_set(struct rxl_state_file *st, uint64_t offset, uint64_t segment,
			uint64_t position)
{
	struct rxl_ckpt c = {.offset = offset, .segment = segment, .position = position};

	c.crc = ckpt_crc(&c);
	st->ckpt = c;
}

bool rxl_state_ckpt_get(const struct rxl_state_file *st, struct rxl_ckpt *out)
{
	*out = st->ckpt;
	return out->crc == ckpt_crc(out) &&
	       !(out->offset == 0 && out->segment == 0 && out->position == 0 && out->crc == 0);
}

int rxl_state_wait(struct rxl_state_file *st, uint32_t seen, int timeout_ms,
		   bool (*still_waiting)(void *), void *arg)
{
	struct timespec ts, *tsp = NULL;
	int err = 0;

	if (timeout_ms >= 0) {
		ts.tv_sec = timeout_ms / 1000;
		ts.tv_nsec = (long)(timeout_ms % 1000) * 1000000;
		tsp = &ts;
	}
	/* Relaxed: the count only has to be seen through F1/F2. */
	rxl_add_relaxed(&st->waiters, 1);
	/* F2: seq_cst; pairs with F1 in rxl_state_publish(). */
	rxl_fence_sc();
	if (still_waiting(arg) && rxl_load_relaxed(&st->notify) == seen) {
		/* FUTEX_WAIT (shared: the page is mapped by other processes)
		 * re-checks notify == seen in the kernel, so a publish between
		 * our check and the sleep is not lost. */
		if (futex(&st->notify, FUTEX_WAIT, seen, tsp) < 0) {
			if (errno == ETIMEDOUT)
				err = -ETIMEDOUT;
			else if (errno == EINTR)
				err = -EINTR;
		}
	}
	rxl_sub_relaxed(&st->waiters, 1);
	return err;
}
