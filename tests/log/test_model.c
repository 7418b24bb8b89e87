/* tests: model-based test of the partition log — random operations on a
 * tiny-segment partition, checked against a trivial in-memory model.
 * Test thread (plus forked writer processes that die without closing).
 *
 * The model is an array of records (recs[o] is the record at offset o), a
 * log start and the largest HWM seen. What the checks rely on:
 *   M1 offsets are contiguous from 0; the writer's end offset is the model's
 *      length. Offsets are reused only after a crash cut the tail: the model
 *      is then cut to the recovered end.
 *   M2 what a writer published (its HWM) survives the crash of its process
 *      (the page cache survives), so after recovery
 *      published HWM <= recovered end <= offsets it assigned.
 *   M3 the log start moves only through retention (rxl_log_retention(), or
 *      rxl_log_poll() applying it), only forward, only to the base of the
 *      oldest remaining segment, and exactly when segments were deleted.
 *   M4 a reader sees recs[log start, HWM) exactly: offsets, timestamps, keys,
 *      values, headers, producer id and sequence; seek_time(T) lands on the
 *      first offset >= log start with timestamp >= T (or the HWM).
 *   M5 retention removes the oldest sealed segments while, for the oldest,
 *      "total - its size >= retention_bytes" or "its newest timestamp <
 *      now - retention_ms" holds, and stops at the first for which neither
 *      holds (Kafka's rule); the active segment is never removed.
 * A failure prints the seed; RXL_MODEL_SEED=<seed> makes the first case run
 * it again (RXL_MODEL_OPS=<n> sets the length, RXL_MODEL_TRACE=1 prints each
 * operation).
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "log_pvt.h"
#include "rxl_err.h"
#include "rxl_log.h"
#include "testutil.h"

#define MAX_BURST 50
#define MAX_VALUE 1500
#define MAX_HDRS 3
#define N_PRODUCERS 3
#define CRASH_BURSTS 8
#define DEFAULT_OPS 2500
#define TEN_YEARS_MS (10ll * 366 * 24 * 3600 * 1000)

enum op {
	OP_APPEND,
	OP_FLUSH,
	OP_POLL,
	OP_SYNC,
	OP_ROLL,
	OP_RETENTION,
	OP_REOPEN,
	OP_CRASH_MARKER,
	OP_CRASH_FORK,
	OP_READER,
	OP_FOLLOW,
	OP_VALIDATE,
	OP_COUNT
};

static const struct {
	const char *name;
	unsigned weight;
} ops[OP_COUNT] = {
	[OP_APPEND] = {"append", 40},
	[OP_FLUSH] = {"flush", 7},
	[OP_POLL] = {"poll", 14},
	[OP_SYNC] = {"sync", 4},
	[OP_ROLL] = {"roll", 4},
	[OP_RETENTION] = {"retention", 5},
	[OP_REOPEN] = {"close+reopen", 2},
	[OP_CRASH_MARKER] = {"crash (no marker)", 1},
	[OP_CRASH_FORK] = {"crash (child process)", 1},
	[OP_READER] = {"reader check", 12},
	[OP_FOLLOW] = {"follower catch-up", 8},
	[OP_VALIDATE] = {"validate", 1},
};

/* One record of the model; its key, value and header bytes derive from
 * cseed (gen_record()), so a record costs 32 bytes here. */
struct mrec {
	uint64_t cseed;
	int64_t ts;
	int64_t producer_id;
	int32_t sequence;
};

/* The bytes a generated record points at. */
struct gen {
	uint8_t key[16];
	uint8_t value[MAX_VALUE];
	uint8_t hkey[MAX_HDRS][8];
	uint8_t hval[MAX_HDRS][32];
	struct rxl_header hdrs[MAX_HDRS];
};

struct mprod {
	int64_t id;
	int16_t epoch;
	int32_t next_seq;
};

/* A burst drawn but not yet appended. */
struct burst {
	uint32_t k;
	bool with_prod;
	int prod_idx;
	struct rxl_producer prod;
	uint64_t first; /* model index of its first record */
};

struct model {
	uint64_t seed, rng;
	int op;
	const char *op_name;
	char *dir;
	struct rxl_log_config cfg;
	struct rxl_log *log;
	struct rxl_reader *fol; /* the follower: one reader open through everything */
	uint64_t fpos;		/* the follower's position */
	struct mrec *recs;
	uint64_t n, cap;
	uint64_t log_start;
	uint64_t hwm;  /* largest HWM seen */
	int64_t clock; /* drives record timestamps */
	uint64_t next_cseed;
	struct mprod prod[N_PRODUCERS];
	uint64_t deleted_seen; /* segments_deleted of the current writer */
	uint64_t too_large_seen;
	unsigned count[OP_COUNT];
	struct gen g; /* scratch for comparisons */
	struct gen bg[MAX_BURST];
	struct rxl_record_in in[MAX_BURST];
	uint8_t *big;  /* a value larger than any batch */
	bool trace;    /* RXL_MODEL_TRACE: print every operation */
	bool keep_all; /* no retention configured (a long log for seeks) */
};

/* ---- Failure reporting ----------------------------------------------------- */

static void mfail(const struct model *m, int line, const char *what, bool ab, int64_t a, int64_t b)
{
	print_error("test_model.c:%d: check failed: %s", line, what);
	if (ab)
		print_error(" (%" PRId64 " vs %" PRId64 ")", a, b);
	print_error("\n  seed %" PRIu64 ", op %d (%s); model end %" PRIu64 ", hwm %" PRIu64
		    ", log start %" PRIu64 "; follower at %" PRIu64 "\n  partition %s\n"
		    "  last library message: %s\n",
		    m->seed, m->op, m->op_name, m->n, m->hwm, m->log_start, m->fpos, m->dir,
		    rxl_err_msg());
	fail();
}

#define MCHECK(m, c)                                           \
	do {                                                   \
		if (!(c))                                      \
			mfail((m), __LINE__, #c, false, 0, 0); \
	} while (0)
#define MCHECK_EQ(m, a, b)                                                \
	do {                                                              \
		int64_t a_ = (int64_t)(a), b_ = (int64_t)(b);             \
		if (a_ != b_)                                             \
			mfail((m), __LINE__, #a " == " #b, true, a_, b_); \
	} while (0)

/* ---- Random records ----------------------------------------------------------- */

static uint64_t rnd(struct model *m, uint64_t n)
{
	return n ? tu_rand(&m->rng) % n : 0;
}

static bool chance(struct model *m, unsigned pct)
{
	return rnd(m, 100) < pct;
}

static void fill(uint8_t *p, int32_t len, uint64_t x)
{
	for (int32_t i = 0; i < len; i++) {
		x = x * 6364136223846793005ull + 1442695040888963407ull;
		p[i] = (uint8_t)(x >> 56);
	}
}

/* The record with content seed @cseed: key null 15%, empty 10%, else 1..16
 * bytes; value null 5%, empty 5%, else 1..1500 bytes (mostly small); 20%
 * carry 1..3 headers (keys 0..8 bytes, values null or 0..32 bytes). */
static void gen_record(uint64_t cseed, int64_t ts, struct gen *g, struct rxl_record_in *in)
{
	uint64_t s = cseed * 0x9E3779B97F4A7C15ull + 0x632BE59BD9B4E019ull;
	uint64_t x;
	unsigned p;

	if (!s)
		s = 1;
	memset(in, 0, sizeof(*in));
	in->timestamp_ms = ts;

	x = tu_rand(&s);
	p = (unsigned)(x % 100);
	in->key = g->key;
	if (p < 15) {
		in->key = NULL;
		in->key_len = -1;
	} else if (p < 25) {
		in->key_len = 0;
	} else {
		in->key_len = 1 + (int32_t)((x >> 8) % 16);
		fill(g->key, in->key_len, x);
	}

	x = tu_rand(&s);
	p = (unsigned)(x % 100);
	in->value = g->value;
	if (p < 5) {
		in->value = NULL;
		in->value_len = -1;
	} else if (p < 10) {
		in->value_len = 0;
	} else if (p < 70) {
		in->value_len = 1 + (int32_t)((x >> 8) % 200);
	} else if (p < 95) {
		in->value_len = 200 + (int32_t)((x >> 8) % 800);
	} else {
		in->value_len = 1000 + (int32_t)((x >> 8) % (MAX_VALUE - 1000 + 1));
	}
	if (in->value_len > 0)
		fill(g->value, in->value_len, x ^ 0x5555);

	x = tu_rand(&s);
	if (x % 100 < 20) {
		in->n_headers = 1 + (uint32_t)((x >> 8) % MAX_HDRS);
		in->headers = g->hdrs;
		for (uint32_t i = 0; i < in->n_headers; i++) {
			struct rxl_header *h = &g->hdrs[i];

			x = tu_rand(&s);
			h->key = g->hkey[i];
			h->key_len = (int32_t)(x % 9);
			fill(g->hkey[i], h->key_len, x);
			h->value_len = (int32_t)((x >> 8) % 34) - 1;
			h->value = h->value_len >= 0 ? g->hval[i] : NULL;
			if (h->value_len > 0)
				fill(g->hval[i], h->value_len, x >> 16);
		}
	}
}

static struct mrec *model_push(struct model *m)
{
	if (m->n == m->cap) {
		m->cap = m->cap ? 2 * m->cap : 4096;
		m->recs = realloc(m->recs, m->cap * sizeof(*m->recs));
		assert_non_null(m->recs);
	}
	return &m->recs[m->n++];
}

/* Draw a burst of 1..50 records: model entries at [m->n, m->n + k) (pushed
 * now; the caller cuts back what was not appended) and m->in[] pointing at
 * their bytes. 15% carry a producer id; its sequence usually follows on,
 * sometimes jumps, sometimes wraps past INT32_MAX inside the burst. */
static void draw_burst(struct model *m, struct burst *b)
{
	b->k = 1 + (uint32_t)rnd(m, MAX_BURST);
	b->with_prod = chance(m, 15);
	b->first = m->n;
	if (b->with_prod) {
		b->prod_idx = (int)rnd(m, N_PRODUCERS);
		const struct mprod *p = &m->prod[b->prod_idx];
		int32_t base = p->next_seq;
		unsigned r = (unsigned)rnd(m, 100);

		if (r < 5)
			base = INT32_MAX - (int32_t)rnd(m, 2 * b->k);
		else if (r < 10)
			base = (int32_t)rnd(m, 1u << 20);
		b->prod = (struct rxl_producer){
			.id = p->id, .epoch = p->epoch, .base_sequence = base};
	}
	m->clock += (int64_t)rnd(m, 100);
	for (uint32_t i = 0; i < b->k; i++) {
		struct mrec *e = model_push(m);

		e->cseed = m->next_cseed++;
		e->ts = m->clock + (int64_t)rnd(m, 101) - 50;
		if (chance(m, 2))
			e->ts = m->clock - 100000 - (int64_t)rnd(m, 1000); /* a late record */
		e->producer_id = b->with_prod ? b->prod.id : RXL_NO_PRODUCER_ID;
		e->sequence = b->with_prod ? rxl_seq_add(b->prod.base_sequence, (int32_t)i) : -1;
		gen_record(e->cseed, e->ts, &m->bg[i], &m->in[i]);
	}
}

/* ---- Comparing what readers return --------------------------------------------- */

static bool same_bytes(const uint8_t *got, int32_t got_len, const void *want, int32_t want_len)
{
	if (got_len != want_len)
		return false;
	if (want_len < 0)
		return got == NULL;
	return want_len == 0 || (got && memcmp(got, want, (size_t)want_len) == 0);
}

static void check_record(struct model *m, const struct rxl_record *rec, uint64_t off)
{
	struct rxl_record_in in;

	MCHECK_EQ(m, rec->offset, off);
	MCHECK(m, off < m->n);
	const struct mrec *e = &m->recs[off];

	gen_record(e->cseed, e->ts, &m->g, &in);
	MCHECK_EQ(m, rec->timestamp_ms, e->ts);
	MCHECK(m, same_bytes(rec->key, rec->key_len, in.key, in.key_len));
	MCHECK(m, same_bytes(rec->value, rec->value_len, in.value, in.value_len));
	MCHECK_EQ(m, rec->producer_id, e->producer_id);
	MCHECK_EQ(m, rec->sequence, e->sequence);
	MCHECK_EQ(m, rec->n_headers, in.n_headers);

	const uint8_t *it = rec->headers;
	struct rxl_header h;

	for (uint32_t i = 0; i < in.n_headers; i++) {
		MCHECK_EQ(m, rxl_header_next(rec, &it, &h), 1);
		MCHECK(m, same_bytes(h.key, h.key_len, in.headers[i].key, in.headers[i].key_len));
		MCHECK(m, same_bytes(h.value, h.value_len, in.headers[i].value,
				     in.headers[i].value_len));
	}
	MCHECK_EQ(m, rxl_header_next(rec, &it, &h), 0);
}

/* ---- Segments on disk ----------------------------------------------------------- */

struct seginfo {
	uint64_t base, next, size;
	int64_t max_ts;
};

/* Valid bytes of a segment: the batches that pass rule V from byte 0. */
static uint64_t valid_bytes(struct model *m, int dirfd, uint64_t base)
{
	char name[RXL_SEG_NAME_MAX];
	struct stat sb;
	uint64_t pos = 0, expect = base;

	rxl_seg_name(name, sizeof(name), base, "log");
	int fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC);

	MCHECK(m, fd >= 0);
	MCHECK(m, fstat(fd, &sb) == 0);
	uint8_t *b = malloc((size_t)sb.st_size + 1);

	assert_non_null(b);
	MCHECK_EQ(m, pread(fd, b, (size_t)sb.st_size, 0), sb.st_size);
	close(fd);
	for (;;) {
		struct rxl_batch_hdr h;
		enum rxl_batch_fault why;
		uint32_t len = rxl_batch_check(b + pos, (size_t)sb.st_size - pos, expect,
					       UINT32_MAX, &h, &why);

		if (!len)
			break;
		pos += len;
		expect = h.base_offset + (uint64_t)h.count;
	}
	free(b);
	return pos;
}

/* The segments in the folder, oldest first. With @detail (only right after
 * a sync), their valid sizes and newest timestamps from the model. */
static size_t list_segs(struct model *m, struct seginfo **out, bool detail)
{
	int dirfd = open(m->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	uint64_t *bases;
	size_t n;

	MCHECK(m, dirfd >= 0);
	MCHECK_EQ(m, rxl_seg_list(dirfd, false, &bases, &n), 0);
	struct seginfo *v = calloc(n + 1, sizeof(*v));

	assert_non_null(v);
	for (size_t i = 0; i < n; i++) {
		v[i].base = bases[i];
		v[i].next = i + 1 < n ? bases[i + 1] : m->n;
		v[i].max_ts = INT64_MIN;
		if (!detail)
			continue;
		if (i + 1 < n) {
			char name[RXL_SEG_NAME_MAX];
			struct stat sb;

			rxl_seg_name(name, sizeof(name), bases[i], "log");
			MCHECK_EQ(m, fstatat(dirfd, name, &sb, 0), 0);
			v[i].size = (uint64_t)sb.st_size;
			/* A sealed segment is cut to its valid bytes (writer H3). */
			MCHECK_EQ(m, valid_bytes(m, dirfd, bases[i]), v[i].size);
		} else {
			v[i].size = valid_bytes(m, dirfd, bases[i]);
		}
		for (uint64_t o = v[i].base; o < v[i].next; o++)
			if (m->recs[o].ts > v[i].max_ts)
				v[i].max_ts = m->recs[o].ts;
	}
	free(bases);
	close(dirfd);
	*out = v;
	return n;
}

/* ---- Writer invariants ---------------------------------------------------------- */

/* After every operation: M1, HWM bounds, durable mark, and M3 for the log
 * start (@may_move: the operation may have applied retention). */
static void check_writer(struct model *m, bool may_move)
{
	struct rxl_log_stats st;

	MCHECK_EQ(m, rxl_log_failed(m->log), 0);
	MCHECK_EQ(m, rxl_log_end_offset(m->log), m->n);
	uint64_t hwm = rxl_log_hwm(m->log);

	MCHECK(m, hwm >= m->hwm);
	MCHECK(m, hwm <= m->n);
	m->hwm = hwm;
	rxl_log_stats(m->log, &st);
	MCHECK_EQ(m, st.hwm, hwm);
	MCHECK(m, st.durable <= hwm);
	if (m->cfg.durability == RXL_DUR_FSYNC)
		MCHECK_EQ(m, st.durable, hwm);
	MCHECK_EQ(m, st.too_large, m->too_large_seen);
	MCHECK_EQ(m, st.write_errors + st.sync_errors + st.enospc, 0);
	if (st.log_start != m->log_start) {
		struct seginfo *segs;

		MCHECK(m, may_move);
		MCHECK(m, st.log_start > m->log_start);
		MCHECK(m, st.segments_deleted > m->deleted_seen);
		size_t n = list_segs(m, &segs, false);

		/* The new start is the base of the oldest segment left. */
		MCHECK(m, n > 0);
		MCHECK_EQ(m, segs[0].base, st.log_start);
		free(segs);
		m->log_start = st.log_start;
	} else {
		MCHECK_EQ(m, st.segments_deleted, m->deleted_seen);
	}
	MCHECK(m, m->log_start <= hwm);
	m->deleted_seen = st.segments_deleted;
}

static void writer_open(struct model *m)
{
	struct rxl_log_stats st;

	MCHECK_EQ(m, rxl_log_open(m->dir, &m->cfg, &m->log), 0);
	m->deleted_seen = 0;
	m->too_large_seen = 0;
	rxl_log_stats(m->log, &st);
	MCHECK_EQ(m, st.log_start, m->log_start);
	MCHECK_EQ(m, rxl_log_hwm(m->log), rxl_log_end_offset(m->log));
}

static void writer_close(struct model *m)
{
	MCHECK_EQ(m, rxl_log_close(m->log), 0);
	m->log = NULL;
	m->hwm = m->n; /* a clean close syncs everything */
}

/* ---- Readers -------------------------------------------------------------------- */

/* The published HWM a reader must see now. */
static uint64_t expected_hwm(struct model *m)
{
	return m->log ? rxl_log_hwm(m->log) : m->hwm;
}

/* Read @cnt records from the reader's position @from, comparing (M4). */
static void read_compare(struct model *m, struct rxl_reader *r, uint64_t from, uint64_t cnt,
			 uint64_t hwm)
{
	struct rxl_record rec;

	for (uint64_t o = from; o < from + cnt; o++) {
		if (o == hwm) {
			MCHECK_EQ(m, rxl_reader_next(r, &rec), 0);
			return;
		}
		MCHECK_EQ(m, rxl_reader_next(r, &rec), 1);
		check_record(m, &rec, o);
	}
}

/* First offset in [log start, hwm) with timestamp >= ts, else hwm. */
static uint64_t model_seek_time(const struct model *m, int64_t ts, uint64_t hwm)
{
	for (uint64_t o = m->log_start; o < hwm; o++)
		if (m->recs[o].ts >= ts)
			return o;
	return hwm;
}

/* A fresh reader: offsets, default position, random seeks and time seeks (M4). */
static void op_reader(struct model *m)
{
	struct rxl_reader *r;
	struct rxl_log_offsets o;
	struct rxl_record rec;
	uint64_t hwm = expected_hwm(m);

	MCHECK_EQ(m, rxl_reader_open(m->dir, &r), 0);
	rxl_reader_offsets(r, &o);
	MCHECK_EQ(m, o.log_start, m->log_start);
	MCHECK_EQ(m, o.hwm, hwm);
	MCHECK(m, o.durable <= o.hwm);
	MCHECK_EQ(m, rxl_reader_position(r), m->log_start);
	read_compare(m, r, m->log_start, 1 + rnd(m, 20), hwm);

	for (int i = 0; i < 3; i++) {
		uint64_t off = m->log_start + rnd(m, hwm - m->log_start + 1);

		MCHECK_EQ(m, rxl_reader_seek(r, off), 0);
		MCHECK_EQ(m, rxl_reader_position(r), off);
		read_compare(m, r, off, 1 + rnd(m, 100), hwm);
	}
	if (m->log_start > 0)
		MCHECK_EQ(m, rxl_reader_seek(r, m->log_start - 1), -ERANGE);
	MCHECK_EQ(m, rxl_reader_seek(r, hwm + 1), -ERANGE);

	for (int i = 0; i < 3; i++) {
		int64_t ts;
		unsigned p = (unsigned)rnd(m, 100);
		uint64_t got = UINT64_MAX;

		if (hwm > m->log_start && p < 70) {
			ts = m->recs[m->log_start + rnd(m, hwm - m->log_start)].ts;
			if (p >= 40)
				ts += (int64_t)rnd(m, 3) - 1;
		} else if (p < 80) {
			ts = 0;
		} else if (p < 90) {
			ts = m->clock + 1000000;
		} else {
			ts = m->clock - (int64_t)rnd(m, 200000);
		}
		uint64_t want = model_seek_time(m, ts, hwm);

		MCHECK_EQ(m, rxl_reader_seek_time(r, ts, &got), 0);
		MCHECK_EQ(m, got, want);
		MCHECK_EQ(m, rxl_reader_position(r), want);
		if (want < hwm) {
			MCHECK_EQ(m, rxl_reader_next(r, &rec), 1);
			check_record(m, &rec, want);
		} else {
			MCHECK_EQ(m, rxl_reader_next(r, &rec), 0);
		}
	}
	rxl_reader_close(r);
}

/* The follower reads everything new up to @hwm. A position removed by
 * retention (-ERANGE) is allowed only below the log start; it then
 * continues from the log start. */
static void follow(struct model *m, uint64_t hwm)
{
	struct rxl_record rec;

	if (!m->fol) {
		MCHECK_EQ(m, rxl_reader_open(m->dir, &m->fol), 0);
		m->fpos = m->log_start;
	}
	MCHECK_EQ(m, rxl_reader_position(m->fol), m->fpos);
	MCHECK_EQ(m, rxl_reader_wait(m->fol, 0), hwm > m->fpos ? 0 : -ETIMEDOUT);
	for (;;) {
		int n = rxl_reader_next(m->fol, &rec);

		if (n == 1) {
			check_record(m, &rec, m->fpos);
			m->fpos++;
			continue;
		}
		if (n == -ERANGE) {
			MCHECK(m, m->fpos < m->log_start);
			MCHECK_EQ(m, rxl_reader_seek(m->fol, m->log_start), 0);
			m->fpos = m->log_start;
			continue;
		}
		MCHECK_EQ(m, n, 0);
		break;
	}
	MCHECK_EQ(m, m->fpos, hwm);
}

/* ---- Operations ----------------------------------------------------------------- */

static void op_append(struct model *m)
{
	struct burst b;
	uint64_t first = UINT64_MAX;
	int64_t big_at = -1;

	draw_burst(m, &b);
	if (chance(m, 2)) {
		/* A record that fits no batch: the burst stops before it. */
		big_at = (int64_t)rnd(m, b.k);
		m->in[big_at] = (struct rxl_record_in){
			.key_len = -1,
			.value = m->big,
			.value_len = (int32_t)m->cfg.batch_bytes,
			.timestamp_ms = m->clock,
		};
	}
	int r = rxl_log_append_burst(m->log, m->in, b.k, b.with_prod ? &b.prod : NULL, &first);
	uint32_t want = big_at >= 0 ? (uint32_t)big_at : b.k;

	MCHECK_EQ(m, first, b.first);
	if (want == 0)
		MCHECK_EQ(m, r, -EMSGSIZE);
	else
		MCHECK_EQ(m, r, want);
	m->too_large_seen += big_at >= 0;
	m->n = b.first + want;
	if (b.with_prod)
		m->prod[b.prod_idx].next_seq = rxl_seq_add(b.prod.base_sequence, (int32_t)want);
	check_writer(m, false);
}

static void op_sync(struct model *m)
{
	struct rxl_log_stats st;

	MCHECK_EQ(m, rxl_log_sync(m->log), 0);
	rxl_log_stats(m->log, &st);
	MCHECK_EQ(m, rxl_log_hwm(m->log), m->n);
	MCHECK_EQ(m, st.durable, m->n);
	check_writer(m, false);
}

static void op_roll(struct model *m)
{
	struct seginfo *segs;

	MCHECK_EQ(m, rxl_log_roll(m->log), 0);
	check_writer(m, false);
	/* The next append starts a segment at the end offset (or the active
	 * one already starts there, when it was empty). */
	size_t n = list_segs(m, &segs, false);

	MCHECK(m, n > 0);
	MCHECK_EQ(m, segs[n - 1].base, m->n);
	free(segs);
}

/* M5, checked exactly after a sync (sizes are then final), or just M3. */
static void op_retention(struct model *m)
{
	const struct rxl_log_config *c = &m->cfg;
	struct seginfo *before = NULL, *after;
	size_t nb = 0, na;
	bool exact = chance(m, 60);
	int64_t span = c->retention_ms > 0 ? c->retention_ms : 10000;
	int64_t now = m->clock - span / 2 + (int64_t)rnd(m, (uint64_t)span);

	if (exact) {
		MCHECK_EQ(m, rxl_log_sync(m->log), 0);
		nb = list_segs(m, &before, true);
	}
	int removed = rxl_log_retention(m->log, now);

	MCHECK(m, removed >= 0);
	if (c->retention_bytes < 0 && c->retention_ms < 0)
		MCHECK_EQ(m, removed, 0);
	check_writer(m, true);
	if (!exact)
		return;
	if (m->trace) {
		print_message("retention now %" PRId64 " (cutoff %" PRId64 "), bytes %" PRId64
			      ": removed %d of\n",
			      now, now - c->retention_ms, c->retention_bytes, removed);
		for (size_t i = 0; i < nb; i++)
			print_message("  %" PRIu64 " size %" PRIu64 " max_ts %" PRId64 "\n",
				      before[i].base, before[i].size, before[i].max_ts);
	}
	MCHECK(m, (size_t)removed < nb); /* never the active segment */
	uint64_t total = 0;

	for (size_t i = 0; i < nb; i++)
		total += before[i].size;
	for (size_t i = 0; i <= (size_t)removed && i + 1 < nb; i++) {
		const struct seginfo *s = &before[i];
		bool by_bytes =
			c->retention_bytes >= 0 && total - s->size >= (uint64_t)c->retention_bytes;
		bool by_time = c->retention_ms >= 0 && s->max_ts != INT64_MIN &&
			       s->max_ts < now - c->retention_ms;

		if (i < (size_t)removed)
			MCHECK(m, by_bytes || by_time); /* removed for a reason */
		else
			MCHECK(m, !by_bytes && !by_time); /* the first kept has none */
		total -= s->size;
	}
	na = list_segs(m, &after, false);
	MCHECK_EQ(m, na, nb - (size_t)removed);
	for (size_t i = 0; i < na; i++)
		MCHECK_EQ(m, after[i].base, before[i + (size_t)removed].base);
	MCHECK_EQ(m, m->log_start, after[0].base);
	free(before);
	free(after);
}

/* Occasionally restart with other settings (segment_bytes stays: readers map
 * by it). */
static void redraw_config(struct model *m, bool first)
{
	struct rxl_log_config *c = &m->cfg;

	if (first) {
		rxl_log_config_default(c);
		c->segment_bytes = (16 + rnd(m, 49)) * 1024;
	}
	c->batch_bytes = 2048 + (uint32_t)rnd(m, 6145);
	c->index_interval_bytes = 512 + (uint32_t)rnd(m, 513);
	c->prealloc_bytes = chance(m, 50) ? 0 : 4096 * (1 + rnd(m, 8));
	c->linger_us = chance(m, 30) ? 0 : (uint32_t)rnd(m, 2000);
	c->staging_buffers = 2 + (uint32_t)rnd(m, 7);
	c->durability = (enum rxl_durability)rnd(m, 3);
	c->flush_ms = 1 + (uint32_t)rnd(m, 20);
	c->segment_ms = chance(m, 25) ? 1 + (int64_t)rnd(m, 20) : 0;
	c->retention_bytes = chance(m, 50) ? -1 : (int64_t)(c->segment_bytes * (2 + rnd(m, 30)));
	c->retention_ms = chance(m, 35) ? 2000 + (int64_t)rnd(m, 30000) : -1;
	if (m->keep_all)
		c->retention_bytes = c->retention_ms = -1;
	assert_int_equal(rxl_log_config_check(c), 0);
}

static void op_reopen(struct model *m)
{
	writer_close(m);
	if (chance(m, 30))
		op_reader(m); /* no writer: the state page still serves readers */
	if (chance(m, 30))
		redraw_config(m, false);
	writer_open(m);
	MCHECK_EQ(m, rxl_log_end_offset(m->log), m->n);
	check_writer(m, false);
}

/* Remove the marker (and sometimes the checkpoint) after a clean close: the
 * next open recovers, and finds everything (all of it was synced). */
static void op_crash_marker(struct model *m)
{
	char p[4200];

	writer_close(m);
	snprintf(p, sizeof(p), "%s/clean_shutdown", m->dir);
	MCHECK_EQ(m, unlink(p), 0);
	if (chance(m, 50)) {
		int dirfd = open(m->dir, O_RDONLY | O_DIRECTORY);
		struct rxl_state_file *st;

		MCHECK(m, dirfd >= 0);
		MCHECK_EQ(m, rxl_state_map(dirfd, false, true, 0, &st), 0);
		memset(&st->ckpt, 0, sizeof(st->ckpt));
		rxl_state_unmap(st);
		close(dirfd);
	}
	if (chance(m, 50)) {
		struct rxl_recovery_report rep;

		MCHECK_EQ(m, rxl_log_recover(m->dir, chance(m, 50), &rep), 0);
		MCHECK(m, !rep.clean);
		MCHECK(m, !rep.corrupt);
		MCHECK_EQ(m, rep.end_offset, m->n);
		MCHECK_EQ(m, rep.log_start, m->log_start);
		MCHECK_EQ(m, rep.bytes_truncated, 0);
		MCHECK_EQ(m, rep.segments_removed, 0);
	}
	writer_open(m);
	MCHECK_EQ(m, rxl_log_end_offset(m->log), m->n);
	check_writer(m, false);
}

/* What the crashing child tells the parent. */
struct crash_report {
	uint64_t synced;    /* end offset at its last sync (0: none) */
	uint64_t hwm;	    /* HWM published when it died */
	uint64_t end;	    /* offsets it assigned */
	uint64_t log_start; /* its poll may have applied retention */
};

enum {
	CHILD_OK = 0,
	CHILD_OPEN = 10,
	CHILD_APPEND,
	CHILD_SYNC,
	CHILD_PIPE,
};

/* The child: open, append the drawn bursts, sync after one of them, flush or
 * poll at random, and die without closing. Plain exit codes: no cmocka here. */
static void crash_child(struct model *m, const struct burst *bs, uint32_t nb, uint32_t sync_after,
			int fd)
{
	struct rxl_log *log;
	struct crash_report rep = {0};

	if (rxl_log_open(m->dir, &m->cfg, &log))
		_exit(CHILD_OPEN);
	for (uint32_t i = 0; i < nb; i++) {
		const struct burst *b = &bs[i];

		for (uint32_t j = 0; j < b->k; j++) {
			const struct mrec *e = &m->recs[b->first + j];

			gen_record(e->cseed, e->ts, &m->bg[j], &m->in[j]);
		}
		if (rxl_log_append_burst(log, m->in, b->k, b->with_prod ? &b->prod : NULL, NULL) !=
		    (int)b->k)
			_exit(CHILD_APPEND);
		if (i + 1 == sync_after) {
			if (rxl_log_sync(log))
				_exit(CHILD_SYNC);
			rep.synced = rxl_log_end_offset(log);
		}
		if (chance(m, 50) && rxl_log_flush(log))
			_exit(CHILD_SYNC);
		if (chance(m, 50) && rxl_log_poll(log))
			_exit(CHILD_SYNC);
	}
	struct rxl_log_stats st;

	rxl_log_stats(log, &st);
	rep.hwm = rxl_log_hwm(log);
	rep.end = rxl_log_end_offset(log);
	rep.log_start = st.log_start;
	if (write(fd, &rep, sizeof(rep)) != (ssize_t)sizeof(rep))
		_exit(CHILD_PIPE);
	_exit(CHILD_OK); /* no close: in-flight writes and the staging batch are abandoned */
}

/* A writer process dies without closing (M2). The follower reads what it
 * published before anyone recovers; recovery must keep all of that. */
static void op_crash_fork(struct model *m)
{
	struct burst bs[CRASH_BURSTS];
	struct crash_report rep;
	uint32_t nb = 1 + (uint32_t)rnd(m, CRASH_BURSTS);
	uint32_t sync_after = (uint32_t)rnd(m, nb + 1);
	uint64_t pre = m->n;
	int fds[2];

	writer_close(m);
	for (uint32_t i = 0; i < nb; i++) {
		draw_burst(m, &bs[i]);
		if (bs[i].with_prod)
			m->prod[bs[i].prod_idx].next_seq =
				rxl_seq_add(bs[i].prod.base_sequence, (int32_t)bs[i].k);
	}
	MCHECK_EQ(m, pipe(fds), 0);
	pid_t pid = fork();

	MCHECK(m, pid >= 0);
	if (pid == 0) {
		close(fds[0]);
		crash_child(m, bs, nb, sync_after, fds[1]);
	}
	close(fds[1]);
	int status = tu_child_wait(pid, 20000);

	MCHECK_EQ(m, status, CHILD_OK);
	MCHECK_EQ(m, read(fds[0], &rep, sizeof(rep)), sizeof(rep));
	close(fds[0]);
	MCHECK_EQ(m, rep.end, m->n);
	MCHECK(m, rep.synced == 0 || rep.synced <= rep.hwm);
	MCHECK(m, rep.hwm >= pre);
	MCHECK(m, rep.log_start >= m->log_start);
	MCHECK(m, rep.log_start <= rep.hwm);
	if (rep.log_start != m->log_start) {
		struct seginfo *segs;
		size_t n = list_segs(m, &segs, false);

		/* M3: its poll applied retention. */
		MCHECK(m, n > 0);
		MCHECK_EQ(m, segs[0].base, rep.log_start);
		free(segs);
		m->log_start = rep.log_start;
	}

	/* Before recovery: readers see what the dead writer published. */
	m->hwm = rep.hwm;
	follow(m, rep.hwm);
	if (chance(m, 50)) {
		struct rxl_recovery_report rr;

		MCHECK_EQ(m, rxl_log_recover(m->dir, chance(m, 30), &rr), 0);
		MCHECK(m, !rr.clean);
		MCHECK(m, !rr.corrupt);
		MCHECK(m, rr.end_offset >= rep.hwm);
		MCHECK(m, rr.end_offset <= rep.end);
		MCHECK_EQ(m, rr.log_start, m->log_start);
	}
	writer_open(m);
	uint64_t end = rxl_log_end_offset(m->log);

	MCHECK(m, end >= rep.hwm);
	MCHECK(m, end <= rep.end);
	m->n = end; /* M1: the rest of the child's records are gone */
	m->hwm = end;
	check_writer(m, false);
	MCHECK(m, m->fpos <= end);
}

static void op_validate(struct model *m)
{
	MCHECK_EQ(m, rxl_log_validate(m->log), 0);
	MCHECK_EQ(m, rxl_log_hwm(m->log), m->n);
	check_writer(m, false);
}

/* ---- The run ---------------------------------------------------------------------- */

static enum op draw_op(struct model *m)
{
	unsigned total = 0, x;

	for (int i = 0; i < OP_COUNT; i++)
		total += ops[i].weight;
	x = (unsigned)rnd(m, total);
	for (int i = 0; i < OP_COUNT; i++) {
		if (x < ops[i].weight)
			return (enum op)i;
		x -= ops[i].weight;
	}
	return OP_POLL;
}

static void run_model(uint64_t seed, int n_ops)
{
	struct model *m = calloc(1, sizeof(*m));

	assert_non_null(m);
	m->seed = seed;
	m->rng = seed * 0x2545F4914F6CDD1Dull + 0x9E3779B97F4A7C15ull;
	m->dir = tu_tmpdir("model");
	m->trace = getenv("RXL_MODEL_TRACE") != NULL;
	m->keep_all = seed % 3 == 0;
	m->op_name = "setup";
	m->clock = rxl_now_ms() + TEN_YEARS_MS; /* poll's wall-clock retention never ages them */
	m->big = calloc(1, 64 * 1024 + 1);
	assert_non_null(m->big);
	for (int i = 0; i < N_PRODUCERS; i++)
		m->prod[i] = (struct mprod){.id = 1000 + i, .epoch = (int16_t)i, .next_seq = 0};
	redraw_config(m, true);
	writer_open(m);

	for (m->op = 0; m->op < n_ops; m->op++) {
		enum op op = draw_op(m);

		m->op_name = ops[op].name;
		m->count[op]++;
		if (m->trace)
			print_message("op %d %s: end %" PRIu64 " hwm %" PRIu64 " start %" PRIu64
				      "\n",
				      m->op, m->op_name, m->n, m->hwm, m->log_start);
		switch (op) {
		case OP_APPEND:
			op_append(m);
			break;
		case OP_FLUSH:
			MCHECK_EQ(m, rxl_log_flush(m->log), 0);
			check_writer(m, false);
			break;
		case OP_POLL:
			for (uint64_t i = 1 + rnd(m, 5); i > 0; i--)
				MCHECK_EQ(m, rxl_log_poll(m->log), 0);
			check_writer(m, true);
			break;
		case OP_SYNC:
			op_sync(m);
			break;
		case OP_ROLL:
			op_roll(m);
			break;
		case OP_RETENTION:
			op_retention(m);
			break;
		case OP_REOPEN:
			op_reopen(m);
			break;
		case OP_CRASH_MARKER:
			op_crash_marker(m);
			break;
		case OP_CRASH_FORK:
			op_crash_fork(m);
			break;
		case OP_READER:
			op_reader(m);
			break;
		case OP_FOLLOW:
			follow(m, rxl_log_hwm(m->log));
			break;
		case OP_VALIDATE:
			op_validate(m);
			break;
		case OP_COUNT:
			break;
		}
	}

	/* The end: everything valid, everything kept readable, in order. */
	m->op_name = "final checks";
	op_validate(m);
	follow(m, m->n);
	struct rxl_reader *r;

	MCHECK_EQ(m, rxl_reader_open(m->dir, &r), 0);
	MCHECK_EQ(m, rxl_reader_seek(r, m->log_start), 0);
	read_compare(m, r, m->log_start, m->n - m->log_start + 1, m->n);
	rxl_reader_close(r);
	rxl_reader_close(m->fol);
	writer_close(m);

	struct rxl_recovery_report rep;

	MCHECK_EQ(m, rxl_log_verify(m->dir, false, &rep), 0);
	MCHECK(m, !rep.corrupt);
	MCHECK_EQ(m, rep.end_offset, m->n);
	print_message("seed %" PRIu64 ": %d ops, %" PRIu64 " records, log start %" PRIu64
		      "; appends %u, retention %u, reopen %u, crashes %u+%u, reader checks %u\n",
		      seed, n_ops, m->n, m->log_start, m->count[OP_APPEND], m->count[OP_RETENTION],
		      m->count[OP_REOPEN], m->count[OP_CRASH_MARKER], m->count[OP_CRASH_FORK],
		      m->count[OP_READER] + m->count[OP_FOLLOW]);
	free(m->recs);
	free(m->big);
	tu_rmrf(m->dir);
	free(m);
}

static int n_ops(void)
{
	const char *e = getenv("RXL_MODEL_OPS");

	return e && *e ? atoi(e) : DEFAULT_OPS;
}

/* RXL_MODEL_SEED=s runs seeds s, s+1, ... instead of 1, 2, ... (the first
 * case reruns a failure of seed s). */
static uint64_t seed_or_env(uint64_t seed)
{
	const char *e = getenv("RXL_MODEL_SEED");

	return e && *e ? strtoull(e, NULL, 0) + seed - 1 : seed;
}

static void test_random_ops_match_model_seed_1(void **state)
{
	run_model(seed_or_env(1), n_ops());
}

static void test_random_ops_match_model_seed_2(void **state)
{
	run_model(seed_or_env(2), n_ops());
}

static void test_random_ops_match_model_seed_3(void **state)
{
	run_model(seed_or_env(3), n_ops());
}

static void test_random_ops_match_model_seed_4(void **state)
{
	run_model(seed_or_env(4), n_ops());
}

static void test_random_ops_match_model_seed_5(void **state)
{
	run_model(seed_or_env(5), n_ops());
}

static void test_random_ops_match_model_seed_6(void **state)
{
	run_model(seed_or_env(6), n_ops());
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_random_ops_match_model_seed_1),
		cmocka_unit_test(test_random_ops_match_model_seed_2),
		cmocka_unit_test(test_random_ops_match_model_seed_3),
		cmocka_unit_test(test_random_ops_match_model_seed_4),
		cmocka_unit_test(test_random_ops_match_model_seed_5),
		cmocka_unit_test(test_random_ops_match_model_seed_6),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
