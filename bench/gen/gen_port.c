/* bench/gen: rxlog-gen's DPDK port output (see gen_port.h).
 * Main thread only.
 */
#include "gen_port.h"

#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_ethdev.h>
#include <rte_mbuf.h>
#include <rte_thash.h>

#include "rxl_config.h"
#include "rxl_eal.h"
#include "rxl_err.h"

#define GEN_BURST 32
#define GEN_MAX_QUEUES 16 /* = the size of gen_port_result.frames */
#define GEN_STUCK_S 5

struct gen_queue {
	struct rte_mbuf *m[GEN_BURST];
	uint32_t events[GEN_BURST]; /* events carried by m[k] (G1) */
	uint16_t n;
};

struct gen_port {
	uint16_t port, nq;
	struct rte_mempool *pool;
	struct gen_queue q[GEN_MAX_QUEUES];
	struct gen_port_result res;
};

/* The Toeplitz key that NICs use by default (Microsoft's RSS
 * verification key), so the queue matches what an RSS NIC would pick. */
static const uint8_t rss_key[40] __attribute__((aligned(4))) = {
	0x6d, 0x5a, 0x56, 0xda, 0x25, 0x5b, 0x0e, 0xc2, 0x41, 0x67, 0x25, 0x3d, 0x43, 0xa3,
	0x8f, 0xb0, 0xd0, 0xca, 0x2b, 0xcb, 0xae, 0x7b, 0x30, 0xb4, 0x77, 0xcb, 0x2d, 0xa3,
	0x80, 0x30, 0xf2, 0x0c, 0x6a, 0x42, 0xb7, 0x3b, 0xbe, 0xac, 0x01, 0xfa};

static char errbuf[512];

static int fail(int err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int fail(int err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(errbuf, sizeof(errbuf), fmt, ap);
	va_end(ap);
	return err;
}

const char *gen_port_error(void)
{
	return errbuf;
}

int gen_port_open(const char *prog, const char *dev, uint16_t queues, int cpu,
		  struct gen_port **out, uint8_t mac[6])
{
	struct rxl_cfg *c = calloc(1, sizeof(*c));
	struct rxl_eal_plan *plan = calloc(1, sizeof(*plan));
	struct gen_port *g = calloc(1, sizeof(*g));
	int err = -ENOMEM;

	*out = NULL;
	if (!c || !plan || !g)
		goto out;
	if (queues > GEN_MAX_QUEUES) {
		err = fail(-EINVAL, "--queues %u: at most %d", queues, GEN_MAX_QUEUES);
		goto out;
	}
	/* rxlogd's EAL plan with no worker lcores: the same hugepage
	 * decision, a private file prefix, the device as a vdev or PCI. */
	rxl_cfg_default(c);
	snprintf(c->ports[0], sizeof(c->ports[0]), "%s", dev);
	c->n_ports = 1;
	c->rx_cores = c->writer_cores = 0;
	c->memory_mb = 256;
	snprintf(c->eal_args, sizeof(c->eal_args), "--no-telemetry --log-level=4");
	if ((err = rxl_eal_init(c, prog, plan))) {
		fail(err, "%s", rxl_err_msg());
		goto out;
	}
	if (rte_eth_dev_count_avail() != 1) {
		err = fail(-ENODEV, "no usable DPDK port from '%s'; check the device arguments",
			   dev);
		goto out_eal;
	}
	g->port = 0;
	RTE_ETH_FOREACH_DEV (g->port)
		break;
	g->nq = queues;
	g->pool = rte_pktmbuf_pool_create("gen_pool", 16383, 256, 0, RTE_MBUF_DEFAULT_BUF_SIZE,
					  (int)rte_socket_id());
	if (!g->pool) {
		err = fail(-ENOMEM, "mbuf pool: %s", rte_strerror(rte_errno));
		goto out_eal;
	}
	struct rte_eth_conf conf = {0};
	struct rte_eth_dev_info info;

	if ((err = rte_eth_dev_info_get(g->port, &info)))
		goto out_port;
	if (queues > info.max_tx_queues || queues > info.max_rx_queues) {
		err = fail(-EINVAL, "--queues %u but %s has %u tx queues", queues, dev,
			   info.max_tx_queues);
		goto out_eal;
	}
	if ((err = rte_eth_dev_configure(g->port, queues, queues, &conf)))
		goto out_port;
	for (uint16_t q = 0; q < queues; q++)
		if ((err = rte_eth_rx_queue_setup(g->port, q, 512, rte_eth_dev_socket_id(g->port),
						  NULL, g->pool)) ||
		    (err = rte_eth_tx_queue_setup(g->port, q, 1024, rte_eth_dev_socket_id(g->port),
						  NULL)))
			goto out_port;
	if ((err = rte_eth_dev_start(g->port)))
		goto out_port;
	struct rte_ether_addr a;

	rte_eth_macaddr_get(g->port, &a);
	memcpy(mac, a.addr_bytes, 6);
	if (cpu >= 0) {
		cpu_set_t set;

		CPU_ZERO(&set);
		CPU_SET(cpu, &set);
		if ((err = -pthread_setaffinity_np(pthread_self(), sizeof(set), &set))) {
			fail(err, "--cpu %d: %s", cpu, strerror(-err));
			goto out_eal;
		}
	}
	free(c);
	free(plan);
	*out = g;
	return 0;
out_port:
	fail(err, "setting up %s: %s (a memif client needs its server running first)", dev,
	     rte_strerror(-err));
out_eal:
	rxl_eal_cleanup();
out:
	if (err == -ENOMEM && !errbuf[0])
		fail(err, "out of memory");
	free(c);
	free(plan);
	free(g);
	return err;
}

/* Send queue @qi's frames; spin while the port's ring is full (G1). */
static int flush_queue(struct gen_port *g, uint16_t qi)
{
	struct gen_queue *q = &g->q[qi];
	uint16_t done = 0;
	uint64_t stuck = 0;

	while (done < q->n) {
		uint16_t k = rte_eth_tx_burst(g->port, qi, q->m + done, q->n - done);

		done += k;
		if (done == q->n)
			break;
		g->res.tx_retries++;
		if (k) {
			stuck = 0;
		} else if (!stuck) {
			stuck = rte_get_tsc_cycles();
		} else if (rte_get_tsc_cycles() - stuck > GEN_STUCK_S * rte_get_tsc_hz()) {
			/* Keep the rest queued: gen_port_close() counts them. */
			memmove(q->m, q->m + done, (q->n - done) * sizeof(q->m[0]));
			memmove(q->events, q->events + done, (q->n - done) * sizeof(q->events[0]));
			q->n -= done;
			return -ETIMEDOUT;
		}
	}
	q->n = 0;
	return 0;
}

int gen_port_send(struct gen_port *g, const uint8_t *frame, uint32_t len, uint32_t events,
		  const uint8_t src[4], const uint8_t dst[4], uint16_t sport, uint16_t dport)
{
	uint32_t tuple[3];
	uint16_t qi = 0;

	if (g->nq > 1) {
		/* G2: the 4-tuple in host order, as rte_softrss() wants it. */
		tuple[0] = (uint32_t)src[0] << 24 | (uint32_t)src[1] << 16 | (uint32_t)src[2] << 8 |
			   src[3];
		tuple[1] = (uint32_t)dst[0] << 24 | (uint32_t)dst[1] << 16 | (uint32_t)dst[2] << 8 |
			   dst[3];
		tuple[2] = (uint32_t)sport << 16 | dport;
		qi = (uint16_t)(rte_softrss(tuple, 3, rss_key) % g->nq);
	}
	struct gen_queue *q = &g->q[qi];

	if (q->n == GEN_BURST) {
		int err = flush_queue(g, qi);

		if (err)
			return err;
	}
	struct rte_mbuf *m = rte_pktmbuf_alloc(g->pool);
	char *d = m ? rte_pktmbuf_append(m, (uint16_t)len) : NULL;

	if (!d) {
		rte_pktmbuf_free(m);
		return -ENOBUFS;
	}
	memcpy(d, frame, len);
	q->events[q->n] = events;
	q->m[q->n++] = m;
	g->res.frames[qi]++;
	if (q->n == GEN_BURST)
		return flush_queue(g, qi);
	return 0;
}

int gen_port_flush(struct gen_port *g)
{
	int ret = 0;

	for (uint16_t qi = 0; qi < g->nq; qi++) {
		int err = g->q[qi].n ? flush_queue(g, qi) : 0;

		if (err && !ret)
			ret = err;
	}
	return ret;
}

struct gen_port_result gen_port_finish(struct gen_port *g)
{
	gen_port_flush(g);
	for (uint16_t qi = 0; qi < g->nq; qi++) {
		struct gen_queue *q = &g->q[qi];

		for (uint16_t k = 0; k < q->n; k++) {
			g->res.unsent_frames++;
			g->res.unsent_events += q->events[k];
			rte_pktmbuf_free(q->m[k]);
		}
		q->n = 0;
	}
	g->res.queues = g->nq;
	return g->res;
}

void gen_port_close(struct gen_port *g, uint32_t linger_ms)
{
	for (uint32_t t = 0; t < linger_ms; t += 10) {
		struct rte_eth_link link;
		struct timespec ts = {0, 10 * 1000000};

		if (rte_eth_link_get_nowait(g->port, &link) == 0 &&
		    link.link_status == RTE_ETH_LINK_DOWN)
			break; /* the peer went away: nothing more will be read */
		nanosleep(&ts, NULL);
	}
	rte_eth_dev_stop(g->port);
	rte_eth_dev_close(g->port);
	free(g);
	rxl_eal_cleanup();
}
