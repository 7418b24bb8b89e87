/* consumers: consumer groups — leases, committed offsets, at-least-once
 * delivery with retries and a dead-letter topic.
 * The thread that joined owns the member; members coordinate only through
 * files in <data>/__groups/<group>/ and the kernel's flock.
 *
 * Membership: members/<member> is flock'd (LOCK_EX) by a live member; a
 * file whose lock can be taken belongs to a dead member and is removed.
 * Ownership: <topic>-<p>.lease is flock'd by the owner of partition p. The
 * kernel drops both locks when a process dies, so a crashed member's
 * partitions are free at once; the survivors take them at their next
 * rebalance (every rebalance_ms) and resume from the committed offset:
 * the records the dead member processed after its last commit are
 * delivered again (at-least-once).
 *
 * G1 A member owns at most ceil(partitions / live members) partitions; one
 *    that owns more releases the extra ones (committing first), one that
 *    owns fewer takes free leases.
 * G2 settled(p) is the offset after the last record of p that was acked or
 *    dead-lettered, in order; only settled offsets are committed.
 * G3 A partition with a record awaiting retry delivers nothing else (order
 *    per partition) and is not released by a rebalance.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "consumers_pvt.h"
#include "rxl_err.h"

#define MAX_DLQ_HEADERS 40

struct part {
	bool owned;
	int lease_fd;
	struct rxl_reader *r;
	uint64_t settled;   /* G2 */
	uint64_t committed; /* last value stored */
	struct rxl_log *dlq;
};

struct rxlog_group {
	struct rxlog *rx;
	struct rxlog_group_config cfg;
	char group[256], topic[256], member[256];
	char dir[4200];
	int member_fd;
	uint32_t np;
	struct part *parts;
	uint32_t rr;

	bool outstanding;
	uint32_t out_part;
	uint64_t out_off;

	bool retry_pending; /* G3 */
	uint32_t retry_part;
	uint64_t retry_off;
	uint32_t retry_attempt;
	uint64_t retry_due_ns;

	uint64_t since_commit, last_commit_ns, last_rebalance_ns;
	struct rxlog_group_stats st;
};

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static int64_t wall_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Live members (G1): files under members/ whose lock is held. */
static uint32_t live_members(struct rxlog_group *g)
{
	char path[4400];
	uint32_t live = 0;

	snprintf(path, sizeof(path), "%s/members", g->dir);
	DIR *d = opendir(path);

	if (!d)
		return 1;
	for (struct dirent *e; (e = readdir(d));) {
		if (e->d_name[0] == '.')
			continue;
		int fd = openat(dirfd(d), e->d_name, O_RDONLY | O_CLOEXEC);

		if (fd < 0)
			continue;
		if (flock(fd, LOCK_EX | LOCK_NB) == 0)
			unlinkat(dirfd(d), e->d_name, 0); /* a dead member's file */
		else
			live++;
		close(fd);
	}
	closedir(d);
	return live ? live : 1;
}

static int commit_part(struct rxlog_group *g, uint32_t p)
{
	struct part *pt = &g->parts[p];

	if (pt->settled == pt->committed)
		return 0;
	int err = rxlog_offset_commit(g->rx, g->group, g->topic, p, pt->settled);

	if (!err) {
		pt->committed = pt->settled;
		g->st.commits++;
	}
	return err;
}

int rxlog_group_commit(struct rxlog_group *g)
{
	int err = 0;

	for (uint32_t p = 0; p < g->np; p++)
		if (g->parts[p].owned) {
			int e = commit_part(g, p);

			if (!err)
				err = e;
		}
	g->since_commit = 0;
	g->last_commit_ns = mono_ns();
	return err;
}

static void release(struct rxlog_group *g, uint32_t p)
{
	struct part *pt = &g->parts[p];

	commit_part(g, p);
	if (pt->dlq)
		rxl_log_close(pt->dlq);
	rxl_reader_close(pt->r);
	close(pt->lease_fd); /* drops the flock */
	memset(pt, 0, sizeof(*pt));
	pt->lease_fd = -1;
	g->st.partitions_owned--;
}

/* Take partition p if its lease is free; position it from the committed offset. */
static int acquire(struct rxlog_group *g, uint32_t p)
{
	struct part *pt = &g->parts[p];
	char name[4800];
	struct rxl_log_offsets o;
	uint64_t start;
	int err;

	snprintf(name, sizeof(name), "%s/%s-%" PRIu32 ".lease", g->dir, g->topic, p);
	int fd = open(name, O_RDWR | O_CREAT | O_CLOEXEC, 0644);

	if (fd < 0)
		return rxl_err_set(-errno, "%s: %s", name, strerror(errno));
	if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
		close(fd);
		return 0; /* another member owns it */
	}
	err = rxlog_reader_open(g->rx, g->topic, p, &pt->r);
	if (err) {
		close(fd);
		return err;
	}
	rxl_reader_offsets(pt->r, &o);
	err = rxlog_offset_fetch(g->rx, g->group, g->topic, p, &start);
	bool have = err == 0;

	if (!have && g->cfg.reset == RXLOG_RESET_ERROR) {
		err = rxl_err_set(-ERANGE,
				  "group %s has no committed offset for %s-%" PRIu32
				  " and reset = error",
				  g->group, g->topic, p);
		goto fail;
	}
	if (!have)
		start = g->cfg.reset == RXLOG_RESET_LATEST ? o.hwm : o.log_start;
	if (have && start < o.log_start) {
		/* Retention removed records this group never read. */
		if (g->cfg.reset == RXLOG_RESET_ERROR) {
			err = rxl_err_set(-ERANGE,
					  "group %s: committed offset %" PRIu64 " of %s-%" PRIu32
					  " is below the log start %" PRIu64
					  " (removed by retention) "
					  "and reset = error; reset the group (rxlog groups reset)",
					  g->group, start, g->topic, p, o.log_start);
			goto fail;
		}
		g->st.reset_lost += o.log_start - start;
		start = g->cfg.reset == RXLOG_RESET_LATEST ? o.hwm : o.log_start;
	}
	if (start > o.hwm)
		start = o.hwm; /* the log lost an unsynced tail after a crash */
	err = rxl_reader_seek(pt->r, start);
	if (err)
		goto fail;
	pt->owned = true;
	pt->lease_fd = fd;
	pt->settled = start;
	pt->committed = have ? start : UINT64_MAX; /* commit the reset position too */
	g->st.partitions_owned++;
	if (!have || pt->committed != start)
		commit_part(g, p);
	return 0;
fail:
	rxl_reader_close(pt->r);
	pt->r = NULL;
	close(fd);
	return err;
}

static int rebalance(struct rxlog_group *g)
{
	struct stat sb;
	char path[4700];

	g->last_rebalance_ns = mono_ns();
	/* Our member file may have been removed by a member that saw it
	 * unlocked for an instant at start-up: recreate it. */
	if (fstat(g->member_fd, &sb) == 0 && sb.st_nlink == 0) {
		snprintf(path, sizeof(path), "%s/members/%s", g->dir, g->member);
		int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);

		if (fd >= 0 && flock(fd, LOCK_EX | LOCK_NB) == 0) {
			close(g->member_fd);
			g->member_fd = fd;
		} else if (fd >= 0) {
			close(fd);
		}
	}
	uint32_t live = live_members(g);
	uint32_t share = (g->np + live - 1) / live;
	uint32_t before = g->st.partitions_owned;

	for (uint32_t k = g->np; k-- > 0 && g->st.partitions_owned > share;)
		if (g->parts[k].owned && !(g->retry_pending && g->retry_part == k))
			release(g, k);
	uint32_t h = 0;

	for (const char *c = g->member; *c; c++)
		h = h * 31 + (uint8_t)*c;
	for (uint32_t k = 0; k < g->np && g->st.partitions_owned < share; k++) {
		uint32_t p = (h + k) % g->np;

		if (!g->parts[p].owned) {
			int err = acquire(g, p);

			if (err)
				return err;
		}
	}
	if (g->st.partitions_owned != before)
		g->st.rebalances++;
	return 0;
}

int rxlog_group_join(struct rxlog *rx, const struct rxlog_group_config *cfg,
		     struct rxlog_group **out)
{
	struct rxlog_group *g;
	char path[4700], host[64] = "host";
	int n, err;

	if (!cfg->topic || !cfg->group)
		return rxl_err_set(-EINVAL, "a group needs a group name and a topic");
	n = rxlog_partitions(rx, cfg->topic);
	if (n < 0)
		return n;
	g = calloc(1, sizeof(*g));
	if (!g)
		return -ENOMEM;
	g->rx = rx;
	g->cfg = *cfg;
	g->np = (uint32_t)n;
	g->member_fd = -1;
	snprintf(g->group, sizeof(g->group), "%s", cfg->group);
	snprintf(g->topic, sizeof(g->topic), "%s", cfg->topic);
	gethostname(host, sizeof(host) - 1);
	if (cfg->member)
		snprintf(g->member, sizeof(g->member), "%s", cfg->member);
	else
		snprintf(g->member, sizeof(g->member), "%s-%ld", host, (long)getpid());
	if (!g->cfg.max_attempts)
		g->cfg.max_attempts = 3;
	if (!g->cfg.backoff_ms)
		g->cfg.backoff_ms = 10;
	if (!g->cfg.commit_every)
		g->cfg.commit_every = 1000;
	if (!g->cfg.commit_ms)
		g->cfg.commit_ms = 1000;
	if (!g->cfg.rebalance_ms)
		g->cfg.rebalance_ms = 500;
	g->cfg.group = g->group;
	g->cfg.topic = g->topic;
	g->cfg.member = g->member;
	err = rxlog_check_name("member", g->member);
	if (!err)
		err = rxlog_group_dir(rx, g->group, true, g->dir, sizeof(g->dir));
	if (err)
		goto free_g;
	g->parts = calloc(g->np, sizeof(*g->parts));
	if (!g->parts) {
		err = -ENOMEM;
		goto free_g;
	}
	for (uint32_t p = 0; p < g->np; p++)
		g->parts[p].lease_fd = -1;
	snprintf(path, sizeof(path), "%s/members/%s", g->dir, g->member);
	g->member_fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	/* A tool (rxlog groups) or another member may hold the lock for an
	 * instant while it checks liveness: retry for a few milliseconds
	 * before deciding the id is taken. */
	bool locked = false;

	for (int i = 0; g->member_fd >= 0 && i < 20 && !locked; i++) {
		locked = flock(g->member_fd, LOCK_EX | LOCK_NB) == 0;
		if (!locked) {
			struct timespec ts = {0, 1000000};

			nanosleep(&ts, NULL);
		}
	}
	if (!locked) {
		err = rxl_err_set(-EBUSY,
				  "group %s: member id \"%s\" is in use by a live member; "
				  "choose another",
				  g->group, g->member);
		goto free_parts;
	}
	err = rebalance(g);
	if (err)
		goto leave;
	g->last_commit_ns = mono_ns();
	*out = g;
	return 0;
leave:
	rxlog_group_leave(g);
	return err;
free_parts:
	if (g->member_fd >= 0)
		close(g->member_fd);
	free(g->parts);
free_g:
	free(g);
	return err;
}

void rxlog_group_leave(struct rxlog_group *g)
{
	char path[4700];

	if (!g)
		return;
	for (uint32_t p = 0; p < g->np; p++)
		if (g->parts[p].owned)
			release(g, p);
	snprintf(path, sizeof(path), "%s/members/%s", g->dir, g->member);
	unlink(path);
	close(g->member_fd);
	free(g->parts);
	free(g);
}

void rxlog_group_stats(const struct rxlog_group *g, struct rxlog_group_stats *st)
{
	*st = g->st;
}

static int deliver(struct rxlog_group *g, uint32_t p, const struct rxl_record *rec,
		   uint32_t attempt, struct rxlog_msg *msg)
{
	msg->rec = *rec;
	msg->partition = p;
	msg->attempt = attempt;
	g->outstanding = true;
	g->out_part = p;
	g->out_off = rec->offset;
	g->st.delivered++;
	return 1;
}

int rxlog_group_poll(struct rxlog_group *g, struct rxlog_msg *msg, int timeout_ms)
{
	uint64_t deadline =
		timeout_ms >= 0 ? mono_ns() + (uint64_t)timeout_ms * 1000000 : UINT64_MAX;
	struct rxl_record rec;
	int err;

	if (g->outstanding)
		return rxl_err_set(-EINVAL, "settle the previous record before polling again");
	for (;;) {
		uint64_t now = mono_ns();

		if (now - g->last_rebalance_ns >= (uint64_t)g->cfg.rebalance_ms * 1000000) {
			err = rebalance(g);
			if (err)
				return err;
		}
		if (g->since_commit >= g->cfg.commit_every ||
		    now - g->last_commit_ns >= (uint64_t)g->cfg.commit_ms * 1000000)
			rxlog_group_commit(g);
		if (g->retry_pending && now >= g->retry_due_ns) {
			struct part *pt = &g->parts[g->retry_part];

			g->retry_pending = false;
			err = rxl_reader_seek(pt->r, g->retry_off);
			if (!err && rxl_reader_next(pt->r, &rec) == 1 && rec.offset == g->retry_off)
				return deliver(g, g->retry_part, &rec, g->retry_attempt, msg);
			/* Gone (retention) or unreadable: treat as settled. */
			pt->settled = g->retry_off + 1;
			continue;
		}
		struct rxl_reader *rs[128];
		unsigned nr = 0;

		for (uint32_t k = 0; k < g->np; k++) {
			uint32_t p = (g->rr + k) % g->np;
			struct part *pt = &g->parts[p];

			if (!pt->owned || (g->retry_pending && g->retry_part == p))
				continue; /* G3: nothing after a record awaiting its retry */
			int n = rxl_reader_next(pt->r, &rec);

			if (n == 1) {
				g->rr = p + 1;
				return deliver(g, p, &rec, 1, msg);
			}
			if (n == -ERANGE) {
				/* Retention passed us while reading: reset (counted). */
				struct rxl_log_offsets o;

				rxl_reader_offsets(pt->r, &o);
				if (g->cfg.reset == RXLOG_RESET_ERROR)
					return n;
				uint64_t to =
					g->cfg.reset == RXLOG_RESET_LATEST ? o.hwm : o.log_start;

				g->st.reset_lost += to > pt->settled ? to - pt->settled : 0;
				pt->settled = to;
				if ((err = rxl_reader_seek(pt->r, to)))
					return err;
				continue;
			}
			if (n < 0)
				return n;
			if (nr < 128)
				rs[nr++] = pt->r;
		}
		now = mono_ns();
		if (now >= deadline)
			return 0;
		uint64_t slice = (uint64_t)g->cfg.rebalance_ms * 1000000;
		uint64_t left = deadline - now < slice ? deadline - now : slice;

		if (g->retry_pending && g->retry_due_ns > now && g->retry_due_ns - now < left)
			left = g->retry_due_ns - now; /* wake for the retry */
		else if (g->retry_pending && g->retry_due_ns <= now)
			continue;

		if (nr) {
			err = rxl_reader_wait_any(rs, nr, (int)((left + 999999) / 1000000));
			if (err == -EINTR)
				return err;
		} else {
			struct timespec ts = {(time_t)(left / 1000000000ull),
					      (long)(left % 1000000000ull)};

			nanosleep(&ts, NULL); /* nothing owned: wait for a rebalance */
		}
	}
}

static int dead_letter(struct rxlog_group *g, const struct rxlog_msg *msg, const char *reason)
{
	struct part *pt = &g->parts[msg->partition];
	int err;

	if (!pt->dlq) {
		char dlq_topic[600], path[4700];
		struct rxl_log_config c;

		snprintf(dlq_topic, sizeof(dlq_topic), "%s.dlq.%s", g->topic, g->group);
		err = rxl_log_path(path, sizeof(path), rxlog_dir(g->rx), dlq_topic, msg->partition);
		if (err)
			return err;
		rxl_log_config_default(&c);
		c.segment_bytes = 64ull << 20;
		c.prealloc_bytes = 1 << 20;
		err = rxl_log_open(path, &c, &pt->dlq);
		if (err)
			return rxl_err_ctx(err, "dead-letter topic %s", dlq_topic);
	}
	struct rxl_header h[MAX_DLQ_HEADERS];
	char part[16], off[24], att[16], when[24];
	uint32_t nh = 0;
	const uint8_t *it = msg->rec.headers;

	while (nh < MAX_DLQ_HEADERS - 6 && rxl_header_next(&msg->rec, &it, &h[nh]) == 1)
		nh++;
	snprintf(part, sizeof(part), "%" PRIu32, msg->partition);
	snprintf(off, sizeof(off), "%" PRIu64, msg->rec.offset);
	snprintf(att, sizeof(att), "%" PRIu32, msg->attempt);
	snprintf(when, sizeof(when), "%" PRId64, wall_ms());
	if (!reason)
		reason = "rejected";
	const char *kv[6][2] = {{"dlq.topic", g->topic}, {"dlq.partition", part},
				{"dlq.offset", off},	 {"dlq.attempts", att},
				{"dlq.reason", reason},	 {"dlq.time", when}};

	for (int i = 0; i < 6; i++)
		h[nh++] = (struct rxl_header){.key = kv[i][0],
					      .key_len = (int32_t)strlen(kv[i][0]),
					      .value = kv[i][1],
					      .value_len = (int32_t)strlen(kv[i][1])};
	struct rxl_record_in in = {
		.key = msg->rec.key,
		.key_len = msg->rec.key_len,
		.value = msg->rec.value,
		.value_len = msg->rec.value_len,
		.timestamp_ms = msg->rec.timestamp_ms,
		.headers = h,
		.n_headers = nh,
	};
	int n = rxl_log_append_burst(pt->dlq, &in, 1, NULL, NULL);

	if (n != 1)
		return n < 0 ? n : -EIO;
	/* Durable before the source offset may be committed past it. */
	return rxl_log_sync(pt->dlq);
}

int rxlog_group_settle(struct rxlog_group *g, const struct rxlog_msg *msg, enum rxlog_verdict v,
		       const char *reason)
{
	struct part *pt = &g->parts[msg->partition];
	int err;

	if (!g->outstanding || msg->partition != g->out_part || msg->rec.offset != g->out_off)
		return rxl_err_set(-EINVAL, "settle: not the record last delivered");
	g->outstanding = false;
	if (v == RXLOG_RETRY && msg->attempt < g->cfg.max_attempts) {
		uint32_t shift = msg->attempt - 1 < 16 ? msg->attempt - 1 : 16;

		g->retry_pending = true;
		g->retry_part = msg->partition;
		g->retry_off = msg->rec.offset;
		g->retry_attempt = msg->attempt + 1;
		g->retry_due_ns = mono_ns() + ((uint64_t)g->cfg.backoff_ms << shift) * 1000000;
		g->st.retried++;
		return 0;
	}
	if (v != RXLOG_ACK) {
		err = dead_letter(g, msg,
				  v == RXLOG_RETRY ? (reason ? reason : "max attempts") : reason);
		if (err) {
			/* Not settled: deliver it again (same attempt) later. */
			g->retry_pending = true;
			g->retry_part = msg->partition;
			g->retry_off = msg->rec.offset;
			g->retry_attempt = msg->attempt;
			g->retry_due_ns = mono_ns() + (uint64_t)g->cfg.backoff_ms * 1000000;
			return err;
		}
		g->st.dead_lettered++;
	} else {
		g->st.acked++;
	}
	pt->settled = msg->rec.offset + 1;
	g->since_commit++;
	return 0;
}
