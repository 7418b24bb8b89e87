/* bench/gen: rxlog-gen's DPDK port output — frames out of any DPDK port
 * (net_memif to a local rxlogd, net_af_packet onto a veth, a NIC).
 * Main thread only (the generator is single-threaded).
 *
 * Invariants:
 *  G1 A frame is counted as sent only once rte_eth_tx_burst() took it;
 *     frames that never went out (tx stuck past the timeout) are reported
 *     by gen_port_close(), so the caller's counts stay exact.
 *  G2 A 4-tuple always maps to the same tx queue (rte_softrss with DPDK's
 *     default Toeplitz key), so each producer's frames keep their order.
 */
#ifndef RXL_GEN_PORT_H
#define RXL_GEN_PORT_H

#include <stdint.h>

struct gen_port;

#ifdef RXL_GEN_PORT
/** What gen_port_close() reports. */
struct gen_port_result {
	uint64_t unsent_frames; /* queued but never taken by the port (G1) */
	uint64_t unsent_events; /* the events those frames carried */
	uint64_t tx_retries;	/* tx bursts that took less than offered */
	uint64_t frames[16];	/* frames queued per tx queue (G2's spread) */
	uint16_t queues;
};

/**
 * Start EAL (hugepages when they can be reserved, else --no-huge; a
 * private --file-prefix) with @dev as the only device, configure it with
 * @queues tx queues (and as many rx queues, unused) and start it. With
 * @cpu >= 0 the calling thread is then pinned to that CPU. @prog is argv[0].
 * Writes the port's MAC address to @mac.
 * Returns: 0 or -errno (gen_port_error() says what went wrong and what to
 * change).
 */
int gen_port_open(const char *prog, const char *dev, uint16_t queues, int cpu,
		  struct gen_port **out, uint8_t mac[6]);

/**
 * Queue the Ethernet frame @frame (@len bytes, carrying @events events)
 * for the tx queue of its 4-tuple (@src/@dst IPv4 addresses in network
 * order, ports in host order; G2). A queue's frames go out in bursts of
 * 32; when the port's ring is full this waits (spinning) until it takes
 * them, up to 5 s without progress.
 * Returns: 0; -ENOBUFS when no mbuf is free; -ETIMEDOUT when the port
 * stopped taking frames (the frames are kept for gen_port_close()'s count).
 */
int gen_port_send(struct gen_port *g, const uint8_t *frame, uint32_t len, uint32_t events,
		  const uint8_t src[4], const uint8_t dst[4], uint16_t sport, uint16_t dport);

/**
 * Send every queued frame now.
 * Returns: 0 or -ETIMEDOUT as gen_port_send().
 */
int gen_port_flush(struct gen_port *g);

/**
 * Flush, then drop what the port never took and count it (G1).
 * Returns: what was not sent, the retries and the spread over queues.
 */
struct gen_port_result gen_port_finish(struct gen_port *g);

/**
 * Give the peer up to @linger_ms to take the last frames (a memif peer
 * reads them from shared memory that goes away with this process; the
 * wait ends early when the link goes down), then stop the port, free
 * everything and clean EAL up. Call gen_port_finish() first.
 */
void gen_port_close(struct gen_port *g, uint32_t linger_ms);

/** The last error's message (what failed and what to change). */
const char *gen_port_error(void);

#else /* built without DPDK: --port says so */
#include <errno.h>
struct gen_port_result {
	uint64_t unsent_frames, unsent_events, tx_retries;
	uint64_t frames[16];
	uint16_t queues;
};
static inline int gen_port_open(const char *prog, const char *dev, uint16_t queues, int cpu,
				struct gen_port **out, uint8_t mac[6])
{
	(void)prog, (void)dev, (void)queues, (void)cpu, (void)mac;
	*out = NULL;
	return -ENOTSUP;
}
static inline int gen_port_send(struct gen_port *g, const uint8_t *frame, uint32_t len,
				uint32_t events, const uint8_t src[4], const uint8_t dst[4],
				uint16_t sport, uint16_t dport)
{
	(void)g, (void)frame, (void)len, (void)events, (void)src, (void)dst, (void)sport,
		(void)dport;
	return -ENOTSUP;
}
static inline int gen_port_flush(struct gen_port *g)
{
	(void)g;
	return -ENOTSUP;
}
static inline struct gen_port_result gen_port_finish(struct gen_port *g)
{
	(void)g;
	return (struct gen_port_result){0};
}
static inline void gen_port_close(struct gen_port *g, uint32_t linger_ms)
{
	(void)g, (void)linger_ms;
}
static inline const char *gen_port_error(void)
{
	return "rxlog-gen was built without DPDK (meson -Ddpdk=disabled)";
}
#endif

#endif
