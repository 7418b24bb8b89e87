/* dataplane: the rx socket loop and the writer loop.
 * rx lcores run rxl_rx_socket_loop(), writer lcores rxl_writer_loop().
 */
#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include <rte_hash_crc.h>
#include <rte_malloc.h>
#include <rte_mbuf.h>
#include <rte_ring_elem.h>

#include "pipeline_pvt.h"

static int64_t wall_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Relaxed: a counter written only by this lcore (see struct rxl_rx_stats). */
#define BUMP(ctr, n) rxl_store_relaxed(&(ctr), rxl_load_relaxed(&(ctr)) + (n))

/* Partition of an event: CRC32C of the key (DPDK's rte_hash_crc), round
 * robin for keyless events. */
static uint32_t steer(const struct rxl_event *ev, uint32_t partitions, uint32_t *rr)
{
	if (partitions == 1)
		return 0;
	if (ev->key_len <= 0)
		return (*rr)++ % partitions;
	return rte_hash_crc(ev->key, (uint32_t)ev->key_len, 0) % partitions;
}

struct staged {
	struct rxl_desc d[RXL_RX_BURST * RXL_MAX_EVENTS];
	uint32_t n;
};

/* Enqueue everything staged for writer w; what does not fit is dropped
 * and counted, its mbuf references freed (D1). */
static void flush_stage(struct rxl_dp *dp, uint32_t i, uint32_t w, struct staged *st)
{
	uint32_t done = 0;

	if (!st->n)
		return;
	done = rte_ring_enqueue_burst_elem(dp->rings[i][w], st->d, sizeof(struct rxl_desc), st->n,
					   NULL);
	if (done < st->n) {
		BUMP(dp->rx[i].ring_full, st->n - done);
		for (uint32_t k = done; k < st->n; k++)
			rte_pktmbuf_free(st->d[k].m);
	}
	st->n = 0;
}

int rxl_rx_socket_loop(void *arg)
{
	struct rxl_lcore_arg *a = arg;
	struct rxl_dp *dp = a->dp;
	const uint32_t i = a->index;
	struct rxl_rx_stats *s = &dp->rx[i];
	struct rte_mbuf *m[RXL_RX_BURST];
	struct mmsghdr msgs[RXL_RX_BURST];
	struct iovec iov[RXL_RX_BURST];
	struct sockaddr_storage src[RXL_RX_BURST];
	char ctl[RXL_RX_BURST][CMSG_SPACE(sizeof(uint32_t))];
	struct rxl_event ev[RXL_MAX_EVENTS];
	struct staged *stage = rte_zmalloc("rx_stage", sizeof(struct staged) * dp->n_wr, 64);
	uint32_t rr = 0, have = 0;
	uint32_t ovfl_seen[RXL_CFG_MAX_LISTENERS] = {0};
	size_t wmem = rxl_dedupe_mem_size(4096);
	void *wbuf = rte_zmalloc("dedupe", wmem, 64);
	struct rxl_dedupe_window win;
	struct rxl_fmt_counters cnt;

	if (!stage || !wbuf || rxl_dedupe_init(&win, wbuf, wmem, 4096))
		return -ENOMEM;
	/* S1: acquire; pairs with the release store in rxlogd's main. */
	while (!atomic_load_explicit(&dp->stop_rx, memory_order_acquire)) {
		for (uint32_t l = 0; l < dp->n_lst; l++) {
			struct rxl_listener_rt *L = &dp->lst[l];

			if (have < RXL_RX_BURST) {
				if (rte_pktmbuf_alloc_bulk(dp->pool, m + have, RXL_RX_BURST - have)) {
					BUMP(s->nombuf, 1);
					continue;
				}
				have = RXL_RX_BURST;
			}
			for (uint32_t k = 0; k < RXL_RX_BURST; k++) {
				iov[k].iov_base = rte_pktmbuf_mtod(m[k], void *);
				iov[k].iov_len = dp->mbuf_data;
				msgs[k].msg_hdr = (struct msghdr){
					.msg_name = &src[k], .msg_namelen = sizeof(src[k]),
					.msg_iov = &iov[k], .msg_iovlen = 1,
					.msg_control = ctl[k], .msg_controllen = sizeof(ctl[k])};
			}
			int n = recvmmsg(L->fd[i], msgs, RXL_RX_BURST, MSG_DONTWAIT, NULL);

			if (n <= 0)
				continue;
			int64_t now = wall_ms();

			for (int k = 0; k < n; k++) {
				struct rte_mbuf *mb = m[k];
				uint32_t len = msgs[k].msg_len;

				/* Kernel drops on this socket (SO_RXQ_OVFL, cumulative). */
				for (struct cmsghdr *c = CMSG_FIRSTHDR(&msgs[k].msg_hdr); c;
				     c = CMSG_NXTHDR(&msgs[k].msg_hdr, c)) {
					if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SO_RXQ_OVFL) {
						uint32_t v;

						memcpy(&v, CMSG_DATA(c), sizeof(v));
						if (v > ovfl_seen[l])
							BUMP(s->kernel_drops, v - ovfl_seen[l]);
						ovfl_seen[l] = v;
					}
				}
				BUMP(s->datagrams, 1);
				BUMP(s->bytes, len);
				if (msgs[k].msg_hdr.msg_flags & MSG_TRUNC) {
					BUMP(s->too_large, 1);
					rte_pktmbuf_free(mb);
					continue;
				}
				mb->data_len = (uint16_t)len;
				mb->pkt_len = len;
				struct rxl_fmt_in *in = rte_mbuf_to_priv(mb); /* D2 */

				*in = (struct rxl_fmt_in){.data = rte_pktmbuf_mtod(mb, const uint8_t *),
							  .len = len, .recv_ms = now};
				if (src[k].ss_family == AF_INET) {
					in->src_family = AF_INET;
					memcpy(in->src_addr,
					       &((struct sockaddr_in *)&src[k])->sin_addr, 4);
				} else if (src[k].ss_family == AF_INET6) {
					in->src_family = AF_INET6;
					memcpy(in->src_addr,
					       &((struct sockaddr_in6 *)&src[k])->sin6_addr, 16);
				}
				uint32_t pos = 0, total = 0;

				memset(&cnt, 0, sizeof(cnt));
				while (pos < len) {
					int e = rxl_fmt_parse(&L->fmt, in, &pos, ev, RXL_MAX_EVENTS, &cnt);

					if (e <= 0)
						break;
					uint32_t ne = (uint32_t)e;

					if (L->fmt.kind == RXL_FMT_NATIVE) {
						struct rxl_seq_result res;

						rxl_native_check_seq(&win, ev, &ne, &res);
						BUMP(s->duplicates, res.duplicates);
						BUMP(s->gaps, res.gap);
					}
					for (uint32_t x = 0; x < ne; x++) {
						uint32_t p = L->first_part +
							     steer(&ev[x], L->cfg->partitions, &rr);
						uint32_t w = dp->parts[p].writer;
						struct staged *st = &stage[w];

						/* D1: one reference per descriptor, taken before
						 * the descriptor can be seen by a writer. */
						if (total + x > 0)
							rte_mbuf_refcnt_update(mb, 1);
						if (st->n == RXL_RX_BURST * RXL_MAX_EVENTS)
							flush_stage(dp, i, w, st);
						struct rxl_desc *d = &st->d[st->n++];

						d->m = mb;
						d->part = p;
						d->ev = ev[x];
					}
					total += ne;
					if (L->fmt.kind != RXL_FMT_LINES)
						break;
				}
				for (int r = 0; r < RXL_FMT_REASON_COUNT; r++)
					if (cnt.n[r])
						BUMP(s->fmt[r], cnt.n[r]);
				if (total == 0) {
					rte_pktmbuf_free(mb);
					continue;
				}
				BUMP(s->events, total);
			}
			/* Unused mbufs stay for the next receive. */
			memmove(m, m + n, (size_t)(RXL_RX_BURST - n) * sizeof(m[0]));
			have = RXL_RX_BURST - (uint32_t)n;
			for (uint32_t w = 0; w < dp->n_wr; w++)
				flush_stage(dp, i, w, &stage[w]);
		}
	}
	for (uint32_t k = 0; k < have; k++)
		rte_pktmbuf_free(m[k]);
	rte_free(stage);
	rte_free(wbuf);
	return 0;
}

/* Append d[0 .. run) — one partition — and free their mbuf references (D1).
 *
 * Batches carry no Kafka producer fields: a batch holds one producer, so
 * with many senders interleaving in a partition every producer change
 * would seal a batch of a few records (measured: 8 native producers over
 * 4 partitions at 400k events/s, 40% of events dropped at the rings with
 * producer batches, none without). Duplicates are already dropped at
 * ingest by the rx lcores' windows. */
static void append_run(struct rxl_dp *dp, struct rxl_wr_stats *s, struct rxl_desc *d,
		       uint32_t run, struct rxl_record_in *recs)
{
	struct rxl_log *log = dp->parts[d[0].part].log;
	uint32_t done = 0, stored = 0;
	uint64_t bytes = 0;

	for (uint32_t x = 0; x < run; x++) {
		rxl_event_to_record(&d[x].ev, &recs[x]);
		bytes += (uint64_t)(d[x].ev.value_len > 0 ? d[x].ev.value_len : 0);
	}
	while (done < run) {
		/* No producer fields in the batch (see the comment above). */
		int r = rxl_log_append_burst(log, recs + done, run - done, NULL, NULL);

		if (r > 0) {
			done += (uint32_t)r;
			stored += (uint32_t)r;
		} else if (r == -EMSGSIZE || r == -EINVAL) {
			done++; /* this record is refused; the rest may go */
			rxl_store_relaxed(&s->log_drops, rxl_load_relaxed(&s->log_drops) + 1);
		} else {
			/* Disk full or a failed partition: counted, never silent. */
			rxl_store_relaxed(&s->log_drops,
					  rxl_load_relaxed(&s->log_drops) + (run - done));
			done = run;
		}
	}
	/* Relaxed: counters of this lcore only. */
	rxl_store_relaxed(&s->records, rxl_load_relaxed(&s->records) + stored);
	rxl_store_relaxed(&s->bytes, rxl_load_relaxed(&s->bytes) + bytes);
	for (uint32_t x = 0; x < run; x++)
		rte_pktmbuf_free(d[x].m);
}

int rxl_writer_loop(void *arg)
{
	struct rxl_lcore_arg *a = arg;
	struct rxl_dp *dp = a->dp;
	const uint32_t w = a->index;
	struct rxl_wr_stats *s = &dp->wr[w];
	struct rxl_desc *d = rte_malloc("wr_desc", sizeof(*d) * 256, 64);
	struct rxl_record_in *recs = rte_malloc("wr_recs", sizeof(*recs) * 256, 64);
	int ret = 0;

	if (!d || !recs)
		return -ENOMEM;
	for (;;) {
		uint32_t got = 0;

		for (uint32_t i = 0; i < dp->n_rx; i++) {
			uint32_t n = rte_ring_dequeue_burst_elem(dp->rings[i][w], d,
								 sizeof(struct rxl_desc), 256, NULL);

			got += n;
			for (uint32_t k = 0; k < n;) {
				uint32_t run = 1;

				while (k + run < n && d[k + run].part == d[k].part)
					run++;
				append_run(dp, s, d + k, run, recs);
				k += run;
			}
		}
		/* Linger, completions, interval fdatasync, retention. */
		for (uint32_t p = w; p < dp->n_parts; p += dp->n_wr)
			rxl_log_poll(dp->parts[p].log);
		/* S2: acquire; pairs with the release store in main, made after
		 * every rx lcore returned: once it is seen and the rings are
		 * empty, nothing more can arrive. */
		if (!got && atomic_load_explicit(&dp->stop_wr, memory_order_acquire)) {
			bool empty = true;

			for (uint32_t i = 0; i < dp->n_rx; i++)
				empty = empty && rte_ring_empty(dp->rings[i][w]);
			if (empty)
				break;
		}
	}
	/* A clean stop: flush, fdatasync, clean-shutdown marker. */
	for (uint32_t p = w; p < dp->n_parts; p += dp->n_wr) {
		int err = rxl_log_close(dp->parts[p].log);

		dp->parts[p].log = NULL;
		if (err && !ret)
			ret = err;
	}
	rte_free(d);
	rte_free(recs);
	return ret;
}
