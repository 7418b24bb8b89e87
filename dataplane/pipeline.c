/* dataplane: the rx loops and the writer loop. rx lcores run
 * rxl_rx_socket_loop() (kernel sockets) or rxl_rx_port_loop() (a DPDK port:
 * L2-L4, ARP and neighbour replies, IP reassembly); both parse, steer and
 * hand descriptors to the writer lcores, which run rxl_writer_loop().
 */
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include <rte_malloc.h>
#include <rte_mbuf.h>
#include <rte_ring_elem.h>
#include <rte_ring_peek_zc.h>
#include <rte_ethdev.h>
#include <rte_cycles.h>
#include <rte_ip_frag.h>
#include <rte_prefetch.h>

#include "pipeline_pvt.h"
#include "rxl_crc32c.h"

static int64_t wall_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Relaxed: a counter written only by this lcore (struct rxl_rx_stats,
 * struct rxl_wr_stats). */
#define BUMP(ctr, n) rxl_store_relaxed(&(ctr), rxl_load_relaxed(&(ctr)) + (n))

/* Partition of an event: CRC32C of the key (RFC 3720, rxl_crc32c: keys sit
 * at any alignment inside a datagram, and DPDK's rte_hash_crc reads them
 * with misaligned 4- and 8-byte loads, undefined behaviour in C that UBSan
 * stops on), round robin for keyless events. */
static uint32_t steer(const struct rxl_event *ev, uint32_t partitions, uint32_t *rr)
{
	if (partitions == 1)
		return 0;
	if (ev->key_len <= 0)
		return (*rr)++ % partitions;
	return rxl_crc32c(0, ev->key, (size_t)ev->key_len) % partitions;
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

/* Per rx lcore state, shared by the socket and the port loops. */
struct rx_ctx {
	struct rxl_dp *dp;
	uint32_t i;
	struct rxl_rx_stats *s;
	struct rxl_event ev[RXL_MAX_EVENTS];
	struct staged *stage;
	uint32_t rr;
	struct rxl_dedupe_window win;
	void *wbuf;
	struct rxl_fmt_counters cnt;
	uint32_t rounds;
	bool native;	   /* a native listener exists: producers to publish */
	uint64_t next_pub; /* TSC of the next publication */
};

/* Publish this lcore's producers with the most loss (struct rxl_prod_pub, P1). */
static void publish_producers(struct rx_ctx *x)
{
	struct rxl_dedupe_report r[RXL_PUB_PRODUCERS];
	struct rxl_prod_pub *u = &x->dp->prod[x->i];
	uint32_t n = rxl_dedupe_list(&x->win, r, RXL_PUB_PRODUCERS);
	uint32_t seq = rxl_load_relaxed(&u->seq); /* only this lcore writes it */

	rxl_store_relaxed(&u->seq, seq + 1);
	rxl_fence_release(); /* P1: seq odd before any word changes */
	for (uint32_t k = 0; k < n; k++) {
		const uint64_t v[RXL_PUB_WORDS] = {
			(uint64_t)r[k].id, (uint64_t)(uint16_t)r[k].epoch << 32 | r[k].pending,
			r[k].c.accepted,   r[k].c.duplicates,
			r[k].c.late,	   r[k].c.lost};

		for (int j = 0; j < RXL_PUB_WORDS; j++)
			rxl_store_relaxed(&u->w[k][j], v[j]);
	}
	rxl_store_relaxed(&u->n, n);
	rxl_store_release(&u->seq, seq + 2); /* P1: the words before seq even */
}

uint32_t rxl_producers_read(struct rxl_dp *dp, uint32_t i, struct rxl_dedupe_report *out)
{
	struct rxl_prod_pub *u = &dp->prod[i];

	for (;;) {
		uint32_t s1 = rxl_load_acquire(&u->seq); /* P2: pairs with P1's release store */

		if (s1 & 1)
			continue; /* a publication is under way: microseconds */
		uint32_t n = rxl_load_relaxed(&u->n);

		n = n < RXL_PUB_PRODUCERS ? n : RXL_PUB_PRODUCERS;
		for (uint32_t k = 0; k < n; k++) {
			uint64_t v[RXL_PUB_WORDS];

			for (int j = 0; j < RXL_PUB_WORDS; j++)
				v[j] = rxl_load_relaxed(&u->w[k][j]);
			out[k] = (struct rxl_dedupe_report){.id = (int64_t)v[0],
							    .epoch = (int16_t)(v[1] >> 32),
							    .pending = (uint32_t)v[1],
							    .c = {.accepted = v[2],
								  .duplicates = v[3],
								  .late = v[4],
								  .lost = v[5]}};
		}
		rxl_fence_acquire(); /* P2: the copy before the second look at seq */
		if (rxl_load_relaxed(&u->seq) == s1)
			return n;
	}
}

/* Once every 256 rounds, see whether a second has passed since this
 * lcore last published its producers. */
static inline void rx_tick(struct rx_ctx *x)
{
	if ((++x->rounds & 255) == 0 && x->native) {
		uint64_t now = rte_rdtsc();

		if (now >= x->next_pub) {
			publish_producers(x);
			x->next_pub = now + rte_get_tsc_hz();
		}
	}
}

static int rx_ctx_init(struct rx_ctx *x, struct rxl_dp *dp, uint32_t i)
{
	size_t wmem = rxl_dedupe_mem_size(4096);

	memset(x, 0, sizeof(*x));
	x->dp = dp;
	x->i = i;
	x->s = &dp->rx[i];
	/* Set-up, not the data path: sized once, here. */
	x->stage = rte_zmalloc("rx_stage", sizeof(struct staged) * dp->n_wr, 64);
	x->wbuf = rte_zmalloc("dedupe", wmem, 64);
	if (!x->stage || !x->wbuf || rxl_dedupe_init(&x->win, x->wbuf, wmem, 4096)) {
		rte_free(x->stage);
		rte_free(x->wbuf);
		return -ENOMEM;
	}
	for (uint32_t l = 0; l < dp->n_lst; l++)
		x->native = x->native || dp->lst[l].fmt.kind == RXL_FMT_NATIVE;
	return 0;
}

static void rx_ctx_fini(struct rx_ctx *x)
{
	if (x->native)
		publish_producers(x); /* the final figures, for the exit line */
	rte_free(x->stage);
	rte_free(x->wbuf);
}

/* End of a burst: hand what is staged to the writers, publish the burst's
 * parse counts. deliver() leaves them in x->cnt for the whole burst:
 * clearing and scanning them per datagram (a memset of 168 bytes, then
 * every reason) was a seventh of a syslog rx lcore's time. */
static void flush_all(struct rx_ctx *x)
{
	for (uint32_t w = 0; w < x->dp->n_wr; w++)
		flush_stage(x->dp, x->i, w, &x->stage[w]);
	for (int r = 0; r < RXL_FMT_REASON_COUNT; r++)
		if (x->cnt.n[r]) {
			BUMP(x->s->fmt[r], x->cnt.n[r]);
			x->cnt.n[r] = 0;
		}
}

/* Parse the datagram that the rxl_mbuf_priv in @mb's private area
 * describes, steer its events to the writers' stages; consumes @mb's
 * reference (D1). */
static void deliver(struct rx_ctx *x, struct rxl_listener_rt *L, struct rte_mbuf *mb)
{
	struct rxl_dp *dp = x->dp;
	struct rxl_rx_stats *s = x->s;
	struct rxl_mbuf_priv *pv = rte_mbuf_to_priv(mb); /* D2 */
	struct rxl_fmt_in *in = &pv->in;
	uint32_t pos = 0, total = 0;

	pv->n_headers = 0;
	while (pos < in->len) {
		int e = rxl_fmt_parse(&L->fmt, in, &pos, x->ev, RXL_MAX_EVENTS, &x->cnt);

		if (e <= 0)
			break;
		uint32_t ne = (uint32_t)e;

		if (L->fmt.kind == RXL_FMT_NATIVE) {
			struct rxl_seq_result res;

			rxl_native_check_seq(&x->win, x->ev, &ne, &res);
			BUMP(s->duplicates, res.duplicates);
			BUMP(s->gaps, res.gap);
		}
		if (!ne)
			continue;
		if (total == 0 && x->ev[0].n_headers) {
			pv->n_headers = x->ev[0].n_headers;
			memcpy(pv->headers, x->ev[0].headers,
			       sizeof(pv->headers[0]) * pv->n_headers);
		}
		/* D1: one reference per descriptor, all taken before any of
		 * them can be seen by a writer (the mbuf came with one). */
		rte_mbuf_refcnt_update(mb, (int16_t)(total ? ne : ne - 1));
		for (uint32_t k = 0; k < ne; k++) {
			const struct rxl_event *ev = &x->ev[k];
			uint32_t p = L->first_part + steer(ev, L->cfg->partitions, &x->rr);
			uint32_t w = dp->parts[p].writer;
			struct staged *st = &x->stage[w];

			if (st->n == RXL_RX_BURST * RXL_MAX_EVENTS)
				flush_stage(dp, x->i, w, st);
			const uint8_t *base = (const uint8_t *)mb;

			st->d[st->n++] = (struct rxl_desc){
				.m = mb,
				.timestamp_ms = ev->timestamp_ms,
				.key_off = ev->key_len >= 0 ? (uint32_t)(ev->key - base) : 0,
				.value_off = (uint32_t)(ev->value - base),
				.key_len = ev->key_len >= 0 ? (uint16_t)ev->key_len
							    : RXL_DESC_NULL_KEY,
				.value_len = (uint16_t)ev->value_len,
				.local = (uint16_t)dp->parts[p].local,
				/* The datagram's headers (the parsers' contract,
				 * held by test_formats). */
				.has_headers = ev->n_headers > 0,
			};
		}
		total += ne;
		if (L->fmt.kind != RXL_FMT_LINES)
			break;
	}
	if (total == 0)
		rte_pktmbuf_free(mb);
	BUMP(s->events, total);
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
	static _Thread_local struct rx_ctx x;
	uint32_t have = 0, idle = 0;
	uint32_t ovfl_seen[RXL_CFG_MAX_LISTENERS] = {0};
	struct pollfd pfd[RXL_CFG_MAX_LISTENERS];

	for (uint32_t l = 0; l < dp->n_lst; l++)
		pfd[l] = (struct pollfd){.fd = dp->lst[l].fd[i], .events = POLLIN};
	if (rx_ctx_init(&x, dp, i))
		return -ENOMEM;
	/* S1: acquire; pairs with the release store in rxlogd's main. */
	while (!atomic_load_explicit(&dp->stop_rx, memory_order_acquire)) {
		/* Idle: sleep until a socket is readable (nothing is staged:
		 * every round ends with flush_all()). idle stays high after a
		 * timeout, so the loop sleeps again at once; a datagram resets
		 * it. */
		if (++idle > RXL_IDLE_ROUNDS && dp->idle_sleep)
			(void)poll(pfd, dp->n_lst, RXL_IDLE_POLL_MS);
		for (uint32_t l = 0; l < dp->n_lst; l++) {
			struct rxl_listener_rt *L = &dp->lst[l];

			if (have < RXL_RX_BURST) {
				if (rte_pktmbuf_alloc_bulk(dp->pool, m + have,
							   RXL_RX_BURST - have)) {
					BUMP(s->nombuf, 1);
					continue;
				}
				have = RXL_RX_BURST;
			}
			for (uint32_t k = 0; k < RXL_RX_BURST; k++) {
				iov[k].iov_base = rte_pktmbuf_mtod(m[k], void *);
				iov[k].iov_len = dp->mbuf_data;
				msgs[k].msg_hdr = (struct msghdr){.msg_name = &src[k],
								  .msg_namelen = sizeof(src[k]),
								  .msg_iov = &iov[k],
								  .msg_iovlen = 1,
								  .msg_control = ctl[k],
								  .msg_controllen = sizeof(ctl[k])};
			}
			int n = recvmmsg(L->fd[i], msgs, RXL_RX_BURST, MSG_DONTWAIT, NULL);

			if (n <= 0)
				continue;
			idle = 0;
			int64_t now = wall_ms();

			for (int k = 0; k < n; k++) {
				struct rte_mbuf *mb = m[k];
				uint32_t len = msgs[k].msg_len;

				/* Kernel drops on this socket (SO_RXQ_OVFL, cumulative). */
				for (struct cmsghdr *c = CMSG_FIRSTHDR(&msgs[k].msg_hdr); c;
				     c = CMSG_NXTHDR(&msgs[k].msg_hdr, c)) {
					if (c->cmsg_level == SOL_SOCKET &&
					    c->cmsg_type == SO_RXQ_OVFL) {
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
				struct rxl_fmt_in *in =
					&((struct rxl_mbuf_priv *)rte_mbuf_to_priv(mb))
						 ->in; /* D2 */

				/* Field by field: src_text is the parser's to
				 * write, and zeroing it cost a memset per
				 * datagram. */
				in->data = rte_pktmbuf_mtod(mb, const uint8_t *);
				in->len = len;
				in->recv_ms = now;
				in->src_family = 0;
				if (src[k].ss_family == AF_INET) {
					in->src_family = AF_INET;
					memcpy(in->src_addr,
					       &((struct sockaddr_in *)&src[k])->sin_addr, 4);
				} else if (src[k].ss_family == AF_INET6) {
					in->src_family = AF_INET6;
					memcpy(in->src_addr,
					       &((struct sockaddr_in6 *)&src[k])->sin6_addr, 16);
				}
				deliver(&x, L, mb);
			}
			/* Unused mbufs stay for the next receive. */
			memmove(m, m + n, (size_t)(RXL_RX_BURST - n) * sizeof(m[0]));
			have = RXL_RX_BURST - (uint32_t)n;
			flush_all(&x);
		}
		rx_tick(&x);
	}
	for (uint32_t k = 0; k < have; k++)
		rte_pktmbuf_free(m[k]);
	rx_ctx_fini(&x);
	return 0;
}

/* Each family compares with a fixed length, which the compiler turns into
 * plain loads: a memcmp() of 4 or 16 bytes went to libc, whose vector
 * load over the address the L2-L4 parser had just stored in narrower
 * pieces missed store-to-load forwarding (23% of a syslog rx lcore's
 * samples, once the checksum before it had become faster). */
static bool our_addr(const struct rxl_dp *dp, const struct rxl_l2l4_addr *a)
{
	const bool v4 = a->family == RXL_AF_IPV4;
	const int fam = v4 ? AF_INET : AF_INET6;

	for (uint32_t k = 0; k < dp->cfg->n_addrs; k++) {
		const struct rxl_cfg_addr *c = &dp->cfg->addrs[k];

		if (c->family == fam &&
		    (v4 ? !memcmp(c->bytes, a->b, 4) : !memcmp(c->bytes, a->b, 16)))
			return true;
	}
	return false;
}

/* Answer an ARP request for one of our addresses in place: the request
 * mbuf becomes the reply (VLAN tags kept). Returns true when sent. */
static bool arp_reply(struct rxl_dp *dp, uint32_t q, struct rte_mbuf *mb,
		      const struct rxl_l2l4_pkt *pkt)
{
	uint8_t *f = rte_pktmbuf_mtod(mb, uint8_t *);
	uint8_t *arp = f + pkt->l2_len;
	uint8_t sha[6], spa[4];

	memcpy(sha, arp + 8, 6);
	memcpy(spa, arp + 14, 4);
	memcpy(f, f + 6, 6);	   /* Ethernet dst = the asker */
	memcpy(f + 6, dp->mac, 6); /* Ethernet src = us */
	arp[6] = 0;		   /* oper = 2, reply */
	arp[7] = 2;
	memcpy(arp + 18, sha, 6);	 /* tha = asker's MAC */
	memcpy(arp + 8, dp->mac, 6);	 /* sha = our MAC */
	memcpy(arp + 14, pkt->dst.b, 4); /* spa = the address asked for */
	memcpy(arp + 24, spa, 4);	 /* tpa = asker's IP */
	return rte_eth_tx_burst(dp->port, (uint16_t)q, &mb, 1) == 1;
}

/* Answer a neighbour solicitation for one of our IPv6 addresses with a
 * neighbour advertisement built in the request's mbuf (RFC 4861 §7.2.4:
 * solicited + override, our link-layer address as an option; to the
 * all-nodes group when the solicitation came from the unspecified
 * address). Returns true when sent. */
static bool ndp_reply(struct rxl_dp *dp, uint32_t q, struct rte_mbuf *mb,
		      const struct rxl_l2l4_pkt *pkt)
{
	static const uint8_t all_nodes[16] = {0xff, 0x02, [15] = 1};
	uint8_t *f = rte_pktmbuf_mtod(mb, uint8_t *);
	uint8_t *ip = f + pkt->l2_len, *icmp = ip + 40;
	uint8_t dst[16];
	bool dad = true;

	if (rte_pktmbuf_tailroom(mb) + mb->data_len < (uint32_t)pkt->l2_len + 40 + 32)
		return false;
	for (int k = 0; k < 16; k++)
		dad = dad && pkt->src.b[k] == 0;
	memcpy(dst, dad ? all_nodes : pkt->src.b, 16);
	if (dad) { /* 33:33:00:00:00:01 */
		static const uint8_t mc[6] = {0x33, 0x33, 0, 0, 0, 1};

		memcpy(f, mc, 6);
	} else {
		memcpy(f, pkt->ns.has_sll ? pkt->ns.sll : f + 6, 6);
	}
	memcpy(f + 6, dp->mac, 6);
	/* IPv6: payload 32 bytes, ICMPv6, hop limit 255, from the target. */
	ip[0] = 0x60;
	ip[1] = ip[2] = ip[3] = 0;
	ip[4] = 0;
	ip[5] = 32;
	ip[6] = 58;
	ip[7] = 255;
	memcpy(ip + 8, pkt->ns.target, 16);
	memcpy(ip + 24, dst, 16);
	/* ICMPv6 NA: type 136, flags S (unless DAD) and O, target, TLLA. */
	memset(icmp, 0, 32);
	icmp[0] = 136;
	icmp[4] = dad ? 0x20 : 0x60;
	memcpy(icmp + 8, pkt->ns.target, 16);
	icmp[24] = 2; /* target link-layer address */
	icmp[25] = 1;
	memcpy(icmp + 26, dp->mac, 6);
	uint8_t pseudo[8] = {0, 0, 0, 32, 0, 0, 0, 58};
	uint64_t sum = rxl_l2l4_csum_add(0, ip + 8, 32);

	sum = rxl_l2l4_csum_add(sum, pseudo, 8);
	sum = rxl_l2l4_csum_add(sum, icmp, 32);
	uint16_t c = (uint16_t)~rxl_l2l4_csum_fold(sum);

	icmp[2] = (uint8_t)(c >> 8);
	icmp[3] = (uint8_t)c;
	mb->data_len = (uint16_t)(pkt->l2_len + 40 + 32);
	mb->pkt_len = mb->data_len;
	return rte_eth_tx_burst(dp->port, (uint16_t)q, &mb, 1) == 1;
}

/* Hand a fragment to rte_ip_frag. When it completes a datagram, copy the
 * chained result into one contiguous mbuf of the jumbo pool (the parsers
 * need contiguous bytes; this second copy happens only for fragmented
 * datagrams) and return it; NULL while incomplete or on failure. */
static struct rte_mbuf *reassemble(struct rxl_dp *dp, struct rxl_rx_stats *s,
				   struct rte_ip_frag_tbl *tbl, struct rte_ip_frag_death_row *dr,
				   struct rte_mbuf *mb, const struct rxl_l2l4_pkt *pkt)
{
	uint8_t *l3 = rte_pktmbuf_mtod_offset(mb, uint8_t *, pkt->l2_len);
	struct rte_mbuf *whole;

	mb->l2_len = pkt->l2_len;
	mb->l3_len = pkt->l3_len;
	if (pkt->src.family == RXL_AF_IPV4)
		whole = rte_ipv4_frag_reassemble_packet(tbl, dr, mb, rte_rdtsc(),
							(struct rte_ipv4_hdr *)l3);
	else
		whole = rte_ipv6_frag_reassemble_packet(tbl, dr, mb, rte_rdtsc(),
							(struct rte_ipv6_hdr *)l3,
							(struct rte_ipv6_fragment_ext *)(l3 + 40));
	if (!whole)
		return NULL;
	if (whole->nb_segs == 1)
		return whole;
	struct rte_mbuf *flat = rte_pktmbuf_alloc(dp->jumbo);

	if (!flat || whole->pkt_len > rte_pktmbuf_tailroom(flat)) {
		BUMP(s->too_large, 1);
		rte_pktmbuf_free(flat);
		rte_pktmbuf_free(whole);
		return NULL;
	}
	rte_pktmbuf_read(whole, 0, whole->pkt_len, rte_pktmbuf_mtod(flat, void *));
	flat->data_len = (uint16_t)whole->pkt_len;
	flat->pkt_len = whole->pkt_len;
	rte_pktmbuf_free(whole);
	return flat;
}

/* The checksums to compute in software for a frame whose NIC verdicts
 * (ol_flags under dp->csum_ol_mask) are @ol: those the NIC did not give
 * (UNKNOWN). GOOD needs no second look, BAD is csum_verdict()'s, and NONE
 * means the data is intact but the checksum field is not (left to an
 * offload), so it must not be computed either. */
static inline unsigned csum_flags(const struct rxl_dp *dp, uint64_t ol)
{
	unsigned f = dp->l2l4_flags;

	if ((ol & RTE_MBUF_F_RX_IP_CKSUM_MASK) != RTE_MBUF_F_RX_IP_CKSUM_UNKNOWN)
		f &= ~RXL_L2L4_VERIFY_IPV4_CSUM;
	if ((ol & RTE_MBUF_F_RX_L4_CKSUM_MASK) != RTE_MBUF_F_RX_L4_CKSUM_UNKNOWN)
		f &= ~RXL_L2L4_VERIFY_UDP_CSUM;
	return f;
}

/* An accepted UDP datagram or fragment @r that the NIC called BAD becomes
 * the matching checksum drop. The L4 verdict applies to whole datagrams
 * only: a NIC cannot check a fragment's UDP checksum. */
static inline enum rxl_l2l4_result csum_verdict(uint64_t ol, const struct rxl_l2l4_pkt *pkt,
						enum rxl_l2l4_result r)
{
	if (pkt->src.family == RXL_AF_IPV4 &&
	    (ol & RTE_MBUF_F_RX_IP_CKSUM_MASK) == RTE_MBUF_F_RX_IP_CKSUM_BAD)
		return RXL_L2L4_DROP_IPV4_CHECKSUM;
	if (r == RXL_L2L4_ACCEPT_UDP &&
	    (ol & RTE_MBUF_F_RX_L4_CKSUM_MASK) == RTE_MBUF_F_RX_L4_CKSUM_BAD)
		return RXL_L2L4_DROP_UDP_CHECKSUM;
	return r;
}

int rxl_rx_port_loop(void *arg)
{
	struct rxl_lcore_arg *a = arg;
	struct rxl_dp *dp = a->dp;
	const uint32_t i = a->index;
	struct rxl_rx_stats *s = &dp->rx[i];
	struct rte_mbuf *m[RXL_RX_BURST];
	static _Thread_local struct rx_ctx x;
	/* IP reassembly (rte_ip_frag): a table per rx lcore, 2 s to complete. */
	struct rte_ip_frag_death_row dr = {0};
	struct rte_ip_frag_tbl *frags =
		rte_ip_frag_table_create(1024, 8, 8192, rte_get_tsc_hz() * 2, (int)rte_socket_id());

	if (!frags || rx_ctx_init(&x, dp, i)) {
		if (frags)
			rte_ip_frag_table_destroy(frags);
		return -ENOMEM;
	}
	/* S1: acquire; pairs with the release store in rxlogd's main. */
	while (!atomic_load_explicit(&dp->stop_rx, memory_order_acquire)) {
		uint16_t n = rte_eth_rx_burst(dp->port, (uint16_t)i, m, RXL_RX_BURST);

		rte_ip_frag_free_death_row(&dr, 3);
		rx_tick(&x);
		if (!n)
			continue;
		int64_t now = wall_ms();

		for (uint16_t k = 0; k < n; k++) {
			struct rte_mbuf *mb = m[k];
			struct rxl_l2l4_pkt pkt;
			enum rxl_l2l4_result r;

			if (mb->nb_segs > 1) { /* scattered frame: larger than an mbuf */
				BUMP(s->too_large, 1);
				rte_pktmbuf_free(mb);
				continue;
			}
			uint64_t ol = mb->ol_flags & dp->csum_ol_mask;

			r = rxl_l2l4_parse(rte_pktmbuf_mtod(mb, const uint8_t *),
					   rte_pktmbuf_data_len(mb), csum_flags(dp, ol), &pkt);
			if (ol && (r == RXL_L2L4_ACCEPT_UDP || r == RXL_L2L4_FRAGMENT))
				r = csum_verdict(ol, &pkt, r);
			BUMP(s->l2[r], 1);
			if (r == RXL_L2L4_FRAGMENT) {
				mb = reassemble(dp, s, frags, &dr, mb, &pkt);
				if (!mb)
					continue; /* held until complete, or dropped (counted) */
				/* Whole again: parse the datagram. Its UDP checksum
				 * can be checked now (no NIC checks a fragment's); not
				 * the IPv4 header's, which DPDK leaves at 0 (each
				 * fragment's was checked above). */
				r = rxl_l2l4_parse(rte_pktmbuf_mtod(mb, const uint8_t *),
						   rte_pktmbuf_data_len(mb),
						   dp->l2l4_flags & RXL_L2L4_VERIFY_UDP_CSUM, &pkt);
				BUMP(s->reassembled, 1);
				/* Its fragments were counted above; a whole datagram
				 * that fails now is a drop of its own. */
				if (r >= RXL_L2L4_DROP_FIRST)
					BUMP(s->l2[r], 1);
			}
			if (r == RXL_L2L4_ARP || r == RXL_L2L4_NDP_NS) {
				struct rxl_l2l4_addr want = pkt.dst;

				if (r == RXL_L2L4_NDP_NS) {
					want.family = RXL_AF_IPV6;
					memcpy(want.b, pkt.ns.target, 16);
				}
				if (our_addr(dp, &want) &&
				    (r == RXL_L2L4_ARP ? arp_reply(dp, i, mb, &pkt)
						       : ndp_reply(dp, i, mb, &pkt)))
					continue;
				rte_pktmbuf_free(mb);
				continue;
			}
			if (r != RXL_L2L4_ACCEPT_UDP) { /* a drop, counted by reason above */
				rte_pktmbuf_free(mb);
				continue;
			}
			uint8_t l = dp->cfg->n_addrs && !our_addr(dp, &pkt.dst)
					    ? 0
					    : dp->port_listener[pkt.dst_port];

			if (!l) {
				BUMP(s->not_ours, 1);
				rte_pktmbuf_free(mb);
				continue;
			}
			BUMP(s->datagrams, 1);
			BUMP(s->bytes, pkt.payload_len);
			struct rxl_fmt_in *in =
				&((struct rxl_mbuf_priv *)rte_mbuf_to_priv(mb))->in; /* D2 */

			/* Field by field, as in the socket loop. */
			in->data = pkt.payload;
			in->len = pkt.payload_len;
			in->recv_ms = now;
			in->src_family = pkt.src.family == RXL_AF_IPV4 ? AF_INET : AF_INET6;
			memcpy(in->src_addr, pkt.src.b, 16);
			deliver(&x, &dp->lst[l - 1], mb);
		}
		flush_all(&x);
	}
	rte_ip_frag_free_death_row(&dr, 0);
	rte_ip_frag_table_destroy(frags);
	rx_ctx_fini(&x);
	return 0;
}

/* Append recs[0 .. run), all of partition @part, counting what the log
 * refuses.
 *
 * Batches carry no Kafka producer fields: a batch holds one producer, so
 * with many senders interleaving in a partition every producer change
 * would seal a batch of a few records (measured: 8 native producers over
 * 4 partitions at 400k events/s, 40% of events dropped at the rings with
 * producer batches, none without). Duplicates are already dropped at
 * ingest by the rx lcores' windows. */
static void append_run(struct rxl_dp *dp, struct rxl_wr_stats *s, uint32_t part,
		       const struct rxl_record_in *recs, uint32_t run)
{
	struct rxl_log *log = dp->parts[part].log;
	uint32_t done = 0, stored = 0;
	uint64_t bytes = 0;

	while (done < run) {
		int r = rxl_log_append_burst(log, recs + done, run - done, NULL, NULL);

		if (r > 0) {
			for (uint32_t x = done; x < done + (uint32_t)r; x++)
				bytes += (uint64_t)(recs[x].value_len > 0 ? recs[x].value_len : 0);
			done += (uint32_t)r;
			stored += (uint32_t)r;
		} else if (r == -EMSGSIZE || r == -EINVAL) {
			done++; /* this record is refused; the rest may go */
			BUMP(s->log_drops, 1);
		} else {
			/* Disk full or a failed partition: counted, never silent. */
			BUMP(s->log_drops, run - done);
			done = run;
		}
	}
	BUMP(s->records, stored);
	BUMP(s->bytes, bytes);
}

/* Free the mbuf references of d[0 .. n) (D1). Descriptors of one datagram
 * sit next to each other in a ring, so a run of k references to one mbuf
 * costs one atomic subtraction and one free rather than k. */
static void release(const struct rxl_desc *d, uint32_t n)
{
	for (uint32_t k = 0; k < n;) {
		uint32_t run = 1;

		while (k + run < n && d[k + run].m == d[k].m)
			run++;
		/* We hold `run` references, so the count stays >= 1 here and
		 * only the free below can release the mbuf. */
		int16_t extra = (int16_t)(run - 1);

		if (extra)
			rte_mbuf_refcnt_update(d[k].m, (int16_t)-extra);
		rte_pktmbuf_free(d[k].m);
		k += run;
	}
}

/* Fetch an mbuf's rxl_mbuf_priv (D2): the header array and the source
 * address text a header may point at. In a syslog profile, where the
 * writer bounds the rate, the first header read in rxl_batch_add() waiting
 * for its line to cross cores was 88% of that function's time; with the
 * array fetched, copying the source address text took 82% of put_body's. */
static inline void prefetch_headers(const struct rxl_mbuf_priv *pv)
{
	const uint8_t *end = (const uint8_t *)(pv->headers + RXL_EVENT_MAX_HEADERS);

	for (const uint8_t *p = (const uint8_t *)pv; p < end; p += RTE_CACHE_LINE_SIZE)
		rte_prefetch0(p);
	rte_prefetch0(end - 1);
}

/* Fetch [p, p + len): every line when it is a few (the copy reads them
 * all), else the first and the last (the hardware prefetcher follows a
 * longer run once the copy starts). */
static inline void prefetch_span(const uint8_t *p, uint32_t len)
{
	if (!len)
		return;
	rte_prefetch0(p);
	if (len <= 8 * RTE_CACHE_LINE_SIZE)
		for (uint32_t o = RTE_CACHE_LINE_SIZE; o < len; o += RTE_CACHE_LINE_SIZE)
			rte_prefetch0(p + o);
	rte_prefetch0(p + len - 1);
}

/* Append d[0 .. n) — descriptors of any of writer @w's partitions — and
 * free their mbuf references. */
static void write_descs(struct rxl_dp *dp, struct rxl_wr_stats *s, uint32_t w,
			const struct rxl_desc *d, uint32_t n, struct rxl_record_in *recs,
			uint32_t *cnt)
{
	const uint32_t nloc = (dp->n_parts + dp->n_wr - 1) / dp->n_wr;

	/* Group the burst by partition with a counting sort (stable: each
	 * partition keeps its order), straight into the log's input records,
	 * so a partition gets one append of many records rather than many
	 * appends of one or two. */
	memset(cnt, 0, sizeof(cnt[0]) * (nloc + 1));
	for (uint32_t k = 0; k < n; k++)
		cnt[d[k].local + 1]++;
	for (uint32_t q = 1; q <= nloc; q++)
		cnt[q] += cnt[q - 1];
	for (uint32_t k = 0; k < n; k++) {
		const struct rxl_desc *e = &d[k];
		const uint8_t *base = (const uint8_t *)e->m;
		const struct rxl_mbuf_priv *pv = e->has_headers ? rte_mbuf_to_priv(e->m) : NULL;
		bool key = e->key_len != RXL_DESC_NULL_KEY;

		/* The payload and the headers were written on the rx lcore's
		 * CPU: start fetching them now, so that the copy into the batch
		 * (the log append below) finds them here. */
		if (key && e->key_len)
			prefetch_span(base + e->key_off, e->key_len);
		prefetch_span(base + e->value_off, e->value_len);
		if (pv)
			prefetch_headers(pv);
		recs[cnt[e->local]++] = (struct rxl_record_in){
			.key = key ? base + e->key_off : NULL,
			.key_len = key ? e->key_len : -1,
			.value = base + e->value_off,
			.value_len = e->value_len,
			.timestamp_ms = e->timestamp_ms,
			.headers = pv ? pv->headers : NULL,
			.n_headers = pv ? pv->n_headers : 0,
		};
	}
	/* cnt[q] is now the end of local partition q's run. */
	for (uint32_t q = 0, at = 0; q < nloc; q++) {
		if (cnt[q] > at)
			append_run(dp, s, q * dp->n_wr + w, recs + at, cnt[q] - at);
		at = cnt[q];
	}
	release(d, n);
}

/* Copy the log's statistics where the main lcore reads them (struct
 * rxl_part_pub). */
static void publish_stats(struct rxl_partition *pt)
{
	struct rxl_log_stats st;
	struct rxl_part_pub *u = &pt->pub;

	rxl_log_stats(pt->log, &st);
	/* Relaxed: see struct rxl_part_pub. */
	rxl_store_relaxed(&u->records, st.records);
	rxl_store_relaxed(&u->bytes, st.bytes);
	rxl_store_relaxed(&u->batches, st.batches);
	rxl_store_relaxed(&u->syncs, st.syncs);
	rxl_store_relaxed(&u->hwm, st.hwm);
	rxl_store_relaxed(&u->durable, st.durable);
	for (int b = 0; b < RXL_LAT_BUCKETS; b++) {
		rxl_store_relaxed(&u->write_lat[b], st.write_lat[b]);
		rxl_store_relaxed(&u->sync_lat[b], st.sync_lat[b]);
	}
	rxl_store_relaxed(&u->write_lat_sum_ns, st.write_lat_sum_ns);
	rxl_store_relaxed(&u->sync_lat_sum_ns, st.sync_lat_sum_ns);
}

#define WR_BURST 256

int rxl_writer_loop(void *arg)
{
	struct rxl_lcore_arg *a = arg;
	struct rxl_dp *dp = a->dp;
	const uint32_t w = a->index;
	struct rxl_wr_stats *s = &dp->wr[w];
	const uint32_t nloc = (dp->n_parts + dp->n_wr - 1) / dp->n_wr; /* partitions owned */
	struct rxl_record_in *recs = rte_malloc("wr_recs", sizeof(*recs) * WR_BURST, 64);
	uint32_t *cnt = rte_malloc("wr_cnt", sizeof(*cnt) * (nloc + 2), 64);
	int ret = 0;

	if (!recs || !cnt) {
		rte_free(recs);
		rte_free(cnt);
		return -ENOMEM;
	}
	uint64_t last_pub = 0;
	uint32_t idle = 0;

	for (uint32_t rounds = 0;;) {
		uint32_t got = 0;

		/* Idle (socket source): nap, and nap longer once idle for
		 * RXL_IDLE_ROUNDS naps in a row (the first records after a long
		 * pause then wait up to 5 naps, 1 ms). */
		if (++idle > RXL_IDLE_ROUNDS && dp->idle_sleep) {
			long us = idle > 2 * RXL_IDLE_ROUNDS ? 5 * RXL_IDLE_SLEEP_US
							     : RXL_IDLE_SLEEP_US;
			struct timespec nap = {0, us * 1000};

			nanosleep(&nap, NULL);
		}

		for (uint32_t i = 0; i < dp->n_rx; i++) {
			/* Read the descriptors in place (the ring's zero-copy
			 * peek): copying them out first cost a fifth of this
			 * lcore's time. The slots go back once they are done. */
			struct rte_ring_zc_data zc;
			uint32_t n = rte_ring_dequeue_zc_burst_elem_start(
				dp->rings[i][w], sizeof(struct rxl_desc), WR_BURST, &zc, NULL);

			got += n;
			if (!n)
				continue;
			idle = 0;
			write_descs(dp, s, w, zc.ptr1, zc.n1, recs, cnt);
			if (n > zc.n1)
				write_descs(dp, s, w, zc.ptr2, n - zc.n1, recs, cnt);
			rte_ring_dequeue_zc_finish(dp->rings[i][w], n);
		}
		/* Linger, completions, interval fdatasync, retention: each
		 * poll reads the clock, so while bursts keep coming (and fill
		 * batches by themselves) poll every 16th round, which is well
		 * inside linger_us at any rate that keeps the rings busy. */
		if (!got || (++rounds & 15) == 0) {
			uint64_t now = rte_rdtsc();
			bool pub = now - last_pub > rte_get_tsc_hz() / 10;

			for (uint32_t p = w; p < dp->n_parts; p += dp->n_wr) {
				rxl_log_poll(dp->parts[p].log);
				if (pub)
					publish_stats(&dp->parts[p]);
			}
			if (pub)
				last_pub = now;
		}
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
		int err = rxl_log_sync(dp->parts[p].log);

		publish_stats(&dp->parts[p]); /* the final figures, for the exit line */
		int e = rxl_log_close(dp->parts[p].log);

		err = err ? err : e;
		dp->parts[p].log = NULL;
		if (err && !ret)
			ret = err;
	}
	rte_free(recs);
	rte_free(cnt);
	return ret;
}
