/* dataplane: the pipeline shared by rx and writer lcores — descriptors,
 * partitions, rings and counters.
 * Set up by the main lcore before any worker starts; then each field says
 * who writes it.
 *
 *  rx lcore i ──ring[i][j] (SP/SC, struct rxl_desc)──► writer lcore j
 *
 * D1 A descriptor owns one reference to its mbuf; whoever consumes it (the
 *    writer after copying the event into a batch, or the rx lcore when the
 *    ring is full) frees that reference. The rx lcore takes the reference
 *    of every event after the first before that event's descriptor can
 *    reach a ring, so an mbuf carrying k events has k references.
 * D2 Event pointers point into the mbuf's data or into the rxl_mbuf_priv
 *    kept in the mbuf's private area (the source address text, the
 *    headers), so they stay valid until the last reference is freed.
 * D3 Each partition has exactly one writer lcore (partition p of the
 *    global table belongs to writer p % writer_cores): no lock on the
 *    append path (DESIGN.md invariant 1).
 */
#ifndef RXL_PIPELINE_PVT_H
#define RXL_PIPELINE_PVT_H

#include <stdint.h>

#include <rte_mbuf.h>
#include <rte_ring.h>

#include "rxl_atomic.h"
#include "rxl_config.h"
#include "rxl_formats.h"
#include "rxl_l2l4.h"
#include "rxl_log.h"

#define RXL_MAX_RX 16
#define RXL_MAX_WR 16
#define RXL_RX_BURST 32
#define RXL_MAX_EVENTS 64 /* events parsed per datagram per call */

/* What the rx lcore leaves in each mbuf's private area (D2): the
 * datagram as the parsers see it, and the record headers of its events.
 * Headers live here, once per datagram, rather than in every descriptor:
 * every parser gives all events of one datagram the same headers (native:
 * the send time; syslog: one event per datagram; lines and raw: none),
 * which keeps a descriptor at 32 bytes instead of ~190. */
struct rxl_mbuf_priv {
	struct rxl_fmt_in in;
	uint16_t n_headers;
	struct rxl_header headers[RXL_EVENT_MAX_HEADERS];
};

/* One event on its way from an rx lcore to a writer lcore, copied by
 * value through the ring: 32 bytes, half a cache line (the writer's main
 * cost is reading these as they cross cores). Key and value are offsets
 * from the mbuf itself: by D2 they lie in its data or its private area,
 * both inside the one mempool object (payloads are < 64 KiB). */
#define RXL_DESC_NULL_KEY 0xffff

struct rxl_desc {
	struct rte_mbuf *m; /* D1 */
	int64_t timestamp_ms;
	uint32_t key_off, value_off; /* from (const uint8_t *)m (D2) */
	uint16_t key_len;	     /* RXL_DESC_NULL_KEY: null key */
	uint16_t value_len;
	uint16_t local;	      /* the partition among its writer's: global = local * n_wr + writer */
	uint16_t has_headers; /* 1: the record takes the mbuf's rxl_mbuf_priv headers */
};

/* Per rx lcore counters: written by that lcore (relaxed stores of its own
 * values), read by the main lcore for stats (relaxed: monotonic counters,
 * a stale value is fine). */
struct rxl_rx_stats {
	RXL_ALIGN_CL _Atomic uint64_t datagrams;
	_Atomic uint64_t bytes;
	_Atomic uint64_t events;
	_Atomic uint64_t ring_full;    /* events dropped: ring to a writer full */
	_Atomic uint64_t kernel_drops; /* socket source: SO_RXQ_OVFL */
	_Atomic uint64_t too_large;    /* datagrams larger than an mbuf */
	_Atomic uint64_t nombuf;       /* receive skipped: no mbuf */
	_Atomic uint64_t duplicates;   /* native events dropped by the dedupe window */
	_Atomic uint64_t gaps;	       /* native sequences skipped (lost upstream) */
	_Atomic uint64_t not_ours;     /* port source: UDP to another address or port */
	_Atomic uint64_t reassembled;  /* port source: datagrams rebuilt from fragments */
	_Atomic uint64_t fmt[RXL_FMT_REASON_COUNT];
	_Atomic uint64_t l2[RXL_L2L4_RESULT_COUNT]; /* port source: frames by L2-L4 result */
};

struct rxl_wr_stats {
	RXL_ALIGN_CL _Atomic uint64_t records;
	_Atomic uint64_t bytes;
	_Atomic uint64_t log_drops; /* refused by the log (too large, disk full, failed) */
};

/* A partition's log statistics as its writer lcore last published them
 * (about every 100 ms, and once more before it closes the log): relaxed
 * stores by that lcore, relaxed loads by the main lcore. Each field is
 * monotonic or a mark, so a reader mixing two snapshots sees nothing
 * worse than slightly stale values. */
struct rxl_part_pub {
	_Atomic uint64_t records, bytes, batches, syncs, hwm, durable;
	_Atomic uint64_t write_lat[RXL_LAT_BUCKETS], sync_lat[RXL_LAT_BUCKETS];
	_Atomic uint64_t write_lat_sum_ns, sync_lat_sum_ns;
};

struct rxl_partition {
	struct rxl_log *log; /* owned by writer lcore `writer` (D3) */
	uint32_t listener, index, writer;
	uint32_t local; /* its index among the writer's partitions (D3): p / n_wr */
	struct rxl_part_pub pub;
};

struct rxl_listener_rt {
	const struct rxl_cfg_listener *cfg;
	struct rxl_fmt_config fmt;
	uint32_t first_part;
	int fd[RXL_MAX_RX]; /* socket source: one SO_REUSEPORT socket per rx lcore */
};

#define RXL_PUB_PRODUCERS 32 /* producers an rx lcore publishes: those with the most loss */
#define RXL_PUB_WORDS 6	     /* id, epoch << 32 | pending, accepted, duplicates, late, lost */

/* Native producers' counters as an rx lcore last published them (about
 * once a second, and when it stops): a seqlock. P1 the rx lcore makes seq
 * odd (relaxed) and issues a release fence before it stores the words
 * (relaxed), then makes seq even with a release store. P2 the main lcore
 * loads seq with acquire, copies the words (relaxed), issues an acquire
 * fence and loads seq again; it keeps the copy only when both loads saw the
 * same even value. */
struct rxl_prod_pub {
	RXL_ALIGN_CL _Atomic uint32_t seq;
	_Atomic uint32_t n;
	_Atomic uint64_t w[RXL_PUB_PRODUCERS][RXL_PUB_WORDS];
};

struct rxl_dp {
	struct rxl_cfg *cfg;
	uint32_t n_rx, n_wr;
	struct rxl_listener_rt lst[RXL_CFG_MAX_LISTENERS];
	uint32_t n_lst;
	struct rxl_partition *parts;
	uint32_t n_parts;
	struct rte_ring *rings[RXL_MAX_RX][RXL_MAX_WR];
	struct rte_mempool *pool;
	struct rte_mempool *jumbo;    /* port source: whole reassembled datagrams */
	uint32_t mbuf_data;	      /* bytes of payload an mbuf holds */
	uint16_t port;		      /* port source: the DPDK port */
	uint8_t mac[6];		      /* its MAC, for ARP replies */
	unsigned l2l4_flags;	      /* RXL_L2L4_VERIFY_*: checksums computed in software */
	uint64_t csum_ol_mask;	      /* NIC checksum verdicts read from ol_flags (0: none) */
	uint8_t port_listener[65536]; /* UDP port -> listener index + 1 (0: none) */
	bool idle_sleep; /* socket source: lcores sleep when idle (rxl_rx_socket_loop) */
	bool port_src;	 /* a DPDK port feeds the rx lcores (else kernel sockets) */
	RXL_ALIGN_CL _Atomic int stop_rx; /* S1: release by main; acquire by rx lcores */
	_Atomic int stop_wr;		  /* S2: release by main after every rx lcore returned */
	struct rxl_rx_stats rx[RXL_MAX_RX];
	struct rxl_wr_stats wr[RXL_MAX_WR];
	struct rxl_prod_pub prod[RXL_MAX_RX];
};

/**
 * Read rx lcore @i's published producers (struct rxl_prod_pub, P2).
 * Concurrency: any thread but rx lcore @i.
 * Returns: how many were written to @out (at most RXL_PUB_PRODUCERS).
 */
uint32_t rxl_producers_read(struct rxl_dp *dp, uint32_t i, struct rxl_dedupe_report *out);

/* Socket source only (a DPDK port's lcores poll without pause, as DPDK
 * expects): rounds without work before an lcore sleeps, and the writer's
 * nap, which bounds the latency it adds to the first datagram after a
 * pause; the rx loop sleeps in poll(2) until a datagram or RXL_IDLE_POLL_MS
 * (to see stop_rx). */
#define RXL_IDLE_ROUNDS 1024
#define RXL_IDLE_SLEEP_US 200
#define RXL_IDLE_POLL_MS 20

/** Per-lcore launch argument. */
struct rxl_lcore_arg {
	struct rxl_dp *dp;
	uint32_t index;
};

/**
 * The socket-source rx loop (rte_eal_remote_launch target): recvmmsg into
 * mbufs, parse, steer, enqueue. Never blocks on a writer: sockets are
 * non-blocking and a full ring is a counted drop. Idle (RXL_IDLE_ROUNDS
 * rounds without a datagram) it sleeps in poll(2) on its sockets, so a
 * kernel-socket rxlogd with nothing to do uses no CPU.
 * Returns: 0 when stop_rx is set, -errno when set-up failed.
 */
int rxl_rx_socket_loop(void *arg);

/**
 * The port rx loop: rx burst on queue `index`, L2-L4 parse, ARP replies
 * for the configured addresses, then as the socket loop. Never blocks.
 * Returns: 0 when stop_rx is set, -errno when set-up failed.
 */
int rxl_rx_port_loop(void *arg);

/**
 * The writer loop: dequeue descriptors, append them to the owned
 * partitions, free the mbufs, poll the logs. With dp->idle_sleep it sleeps
 * RXL_IDLE_SLEEP_US at a time once idle for RXL_IDLE_ROUNDS rounds, and five
 * times that after RXL_IDLE_ROUNDS naps. Returns once stop_wr is set
 * and every ring is empty, after closing its partitions (flush + fdatasync
 * + clean-shutdown marker).
 * Returns: 0, or the first partition error.
 */
int rxl_writer_loop(void *arg);

#endif
