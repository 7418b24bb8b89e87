/* dataplane: rxlogd — the daemon: configuration, EAL, pipeline set-up,
 * stats, clean stop. The main lcore runs main(); rx and writer lcores run
 * the loops of pipeline.c.
 */
#include <errno.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <poll.h>
#include <pthread.h>
#include <rte_eal.h>
#include <rte_telemetry.h>
#include <rte_ethdev.h>
#include <rte_errno.h>
#include <rte_launch.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>
#include <rte_ring_elem.h>

#include "pipeline_pvt.h"
#include "rxl_eal.h"
#include "rxl_err.h"

#define MBUF_DATA 9216 /* jumbo datagrams; larger ones are counted as too_large */

static volatile sig_atomic_t stop_signal;

static void on_signal(int sig)
{
	(void)sig;
	stop_signal = 1;
}

static void usage(FILE *f)
{
	fprintf(f,
		"usage: rxlogd [--config FILE] [--data DIR] [--source socket|dpdk|auto]\n"
		"              [--port DEVICE] [--addr IP]... [--rx-cores N] [--writer-cores N]\n"
		"              [--rx-cpus LIST] [--writer-cpus LIST]  (e.g. 2,3 or 2-5: pinning)\n"
		"              [--hugepages auto|on|off] [--memory-mb N] [--eal \"ARGS\"]\n"
		"              [--stats-interval S] [--ring-size N] [--prometheus IPV4:PORT|off]\n"
		"              [--checksum auto|verify|ipv4|off]\n"
		"              --listen PORT/FORMAT[:key=value,...]...\n"
		"  e.g. rxlogd --data ./data --source socket \\\n"
		"         --listen 5514/syslog:topic=syslog,partitions=4 \\\n"
		"         --listen 7000/native:topic=telemetry,partitions=8\n"
		"  Listener keys: topic, partitions, key (default|host|app|source|none),\n"
		"  durability (none|interval|fsync), flush_ms, segment_bytes, retention_bytes,\n"
		"  retention (e.g. 7d), max_event_bytes, rfc3164_utc_offset_min (syslog).\n"
		"  The file format: dataplane/rxl_config.h.\n"
		"  SIGINT/SIGTERM: stop receiving, drain, fdatasync every partition, exit 0.\n"
		"  At exit one JSON line with every counter goes to stdout.\n");
}

static int parse_args(int argc, char **argv, struct rxl_cfg *c)
{
	rxl_cfg_default(c);
	/* The file first, so flags override it wherever they stand. */
	for (int i = 1; i + 1 < argc; i++)
		if (!strcmp(argv[i], "--config"))
			if (rxl_cfg_load_file(c, argv[i + 1]))
				return -EINVAL;
	for (int i = 1; i < argc; i++) {
		char name[64];

		if (!strcmp(argv[i], "--help")) {
			usage(stdout);
			exit(0);
		}
		if (strncmp(argv[i], "--", 2) || i + 1 >= argc || strlen(argv[i]) >= sizeof(name)) {
			rxl_err_set(-EINVAL, "\"%s\": expected --NAME VALUE (see rxlogd --help)",
				    argv[i]);
			return -EINVAL;
		}
		snprintf(name, sizeof(name), "%s", argv[i] + 2);
		for (char *p = name; *p; p++)
			if (*p == '-')
				*p = '_';
		if (strcmp(name, "config")) {
			int err = rxl_cfg_set_flag(c, name, argv[i + 1]);

			if (err == -ENOENT)
				rxl_err_set(-EINVAL, "unknown option --%s (see rxlogd --help)",
					    argv[i] + 2);
			if (err)
				return -EINVAL;
		}
		i++;
	}
	return rxl_cfg_validate(c);
}

static int open_socket(uint16_t port)
{
	int fd = socket(AF_INET6, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	int one = 1, zero = 0, buf = 32 << 20;
	struct sockaddr_in6 a = {
		.sin6_family = AF_INET6, .sin6_port = htons(port), .sin6_addr = IN6ADDR_ANY_INIT};

	if (fd < 0)
		return -errno;
	setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof(zero)); /* IPv4 too */
	setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one));
	setsockopt(fd, SOL_SOCKET, SO_RXQ_OVFL, &one, sizeof(one)); /* kernel drops, counted */
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &buf, sizeof(buf)))
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &buf, sizeof(buf));
	if (bind(fd, (struct sockaddr *)&a, sizeof(a)) < 0) {
		int e = -errno;

		close(fd);
		return e;
	}
	return fd;
}

static enum rxl_fmt_key fmt_key(enum rxl_cfg_key k)
{
	switch (k) {
	case RXL_KEY_HOST:
		return RXL_FMT_KEY_HOST;
	case RXL_KEY_APP:
		return RXL_FMT_KEY_APP;
	case RXL_KEY_SOURCE:
		return RXL_FMT_KEY_SRC;
	case RXL_KEY_NONE:
		return RXL_FMT_KEY_NONE;
	default:
		return RXL_FMT_KEY_DEFAULT;
	}
}

static int setup(struct rxl_dp *dp, struct rxl_cfg *c, bool sockets)
{
	static const enum rxl_fmt_kind kinds[] = {RXL_FMT_NATIVE, RXL_FMT_SYSLOG, RXL_FMT_LINES,
						  RXL_FMT_RAW};
	char path[4096];
	int err;

	dp->cfg = c;
	dp->n_rx = c->rx_cores;
	dp->n_wr = c->writer_cores;
	_Static_assert(RXL_CFG_MAX_CORES <= RXL_MAX_RX && RXL_CFG_MAX_CORES <= RXL_MAX_WR,
		       "the configuration allows no more lcores than the pipeline holds");
	if (dp->n_rx > RXL_MAX_RX || dp->n_wr > RXL_MAX_WR)
		return rxl_err_set(-EINVAL, "rx_cores and writer_cores: at most %d each",
				   RXL_MAX_RX);
	/* Sockets may deliver jumbo datagrams; a port delivers frames of its
	 * MTU (scattered frames are counted as too_large). */
	dp->mbuf_data = sockets ? MBUF_DATA : RTE_MBUF_DEFAULT_DATAROOM;
	dp->pool = rte_pktmbuf_pool_create(
		"rxl_pool", sockets ? 16383 : 32767, 256,
		RTE_ALIGN(sizeof(struct rxl_mbuf_priv), RTE_MBUF_PRIV_ALIGN),
		(uint16_t)(dp->mbuf_data + RTE_PKTMBUF_HEADROOM), (int)rte_socket_id());
	if (!dp->pool)
		return rxl_err_set(-ENOMEM, "mbuf pool: %s; raise memory_mb (now %u)",
				   rte_strerror(rte_errno), c->memory_mb);
	if (!sockets) {
		dp->jumbo = rte_pktmbuf_pool_create(
			"rxl_jumbo", 255, 32,
			RTE_ALIGN(sizeof(struct rxl_mbuf_priv), RTE_MBUF_PRIV_ALIGN), UINT16_MAX,
			(int)rte_socket_id());
		if (!dp->jumbo)
			return rxl_err_set(-ENOMEM, "reassembly pool: %s; raise memory_mb (now %u)",
					   rte_strerror(rte_errno), c->memory_mb);
	}
	for (uint32_t l = 0; l < c->n_listeners; l++)
		dp->n_parts += c->listeners[l].partitions;
	if (dp->n_parts / dp->n_wr >= UINT16_MAX) /* struct rxl_desc.local is 16 bits */
		return rxl_err_set(-EINVAL,
				   "%u partitions in all: at most %u per writer lcore; raise "
				   "writer_cores or lower the listeners' partitions",
				   dp->n_parts, UINT16_MAX - 1);
	dp->parts = calloc(dp->n_parts, sizeof(*dp->parts));
	if (!dp->parts)
		return -ENOMEM;
	uint32_t g = 0;

	for (uint32_t l = 0; l < c->n_listeners; l++) {
		struct rxl_listener_rt *L = &dp->lst[dp->n_lst++];
		const struct rxl_cfg_listener *lc = &c->listeners[l];

		L->cfg = lc;
		L->first_part = g;
		L->fmt = (struct rxl_fmt_config){.kind = kinds[lc->format],
						 .key = fmt_key(lc->key),
						 .max_event_bytes = lc->max_event_bytes,
						 .rfc3164_utc_offset_min =
							 lc->rfc3164_utc_offset_min};
		if ((err = rxl_fmt_config_check(&L->fmt)))
			return rxl_err_ctx(err, "listener %u", lc->port);
		for (uint32_t p = 0; p < lc->partitions; p++, g++) {
			dp->parts[g] = (struct rxl_partition){.listener = l,
							      .index = p,
							      .writer = g % dp->n_wr,
							      .local = g / dp->n_wr};
			if ((err = rxl_log_path(path, sizeof(path), c->data, lc->topic, p)) ||
			    (err = rxl_log_open(path, &lc->log, &dp->parts[g].log)))
				return rxl_err_ctx(err, "listener %u", lc->port);
		}
		for (uint32_t i = 0; sockets && i < dp->n_rx; i++) {
			L->fd[i] = open_socket(lc->port);
			if (L->fd[i] < 0)
				return rxl_err_set(L->fd[i], "listener %u: UDP port %u: %s",
						   lc->port, lc->port, strerror(-L->fd[i]));
		}
	}
	for (uint32_t i = 0; i < dp->n_rx; i++)
		for (uint32_t w = 0; w < dp->n_wr; w++) {
			char name[32];

			snprintf(name, sizeof(name), "rxl_r%u_w%u", i, w);
			/* Invariant 2: one producer, one consumer per ring. */
			dp->rings[i][w] = rte_ring_create_elem(name, sizeof(struct rxl_desc),
							       c->ring_size, (int)rte_socket_id(),
							       RING_F_SP_ENQ | RING_F_SC_DEQ);
			if (!dp->rings[i][w])
				return rxl_err_set(-ENOMEM, "ring %s: %s", name,
						   rte_strerror(rte_errno));
		}
	return 0;
}

/* Checksum policy of the port (enum rxl_cfg_csum): which NIC verdicts the
 * rx loop reads (dp->csum_ol_mask), which checksums it computes itself
 * (dp->l2l4_flags), which offloads the port is asked for; @what says so
 * for the start-up line. */
static void csum_setup(struct rxl_dp *dp, const struct rxl_cfg *c,
		       const struct rte_eth_dev_info *info, struct rte_eth_conf *conf, char *what,
		       size_t len)
{
	static const char *const kernel_fed[] = {"net_af_packet", "net_af_xdp", "net_tap"};
	enum rxl_cfg_csum mode = c->checksum;
	const char *drv = info->driver_name ? info->driver_name : "?";
	uint64_t hw = info->rx_offload_capa &
		      (RTE_ETH_RX_OFFLOAD_IPV4_CKSUM | RTE_ETH_RX_OFFLOAD_UDP_CKSUM);

	if (mode == RXL_CSUM_AUTO) {
		mode = RXL_CSUM_VERIFY;
		for (size_t k = 0; k < sizeof(kernel_fed) / sizeof(kernel_fed[0]); k++)
			if (!strcmp(drv, kernel_fed[k]))
				mode = RXL_CSUM_IPV4;
	}
	dp->l2l4_flags = 0;
	dp->csum_ol_mask = 0;
	if (mode == RXL_CSUM_OFF) {
		snprintf(what, len, "not checked (checksum = off)");
		return;
	}
	conf->rxmode.offloads |= hw;
	dp->csum_ol_mask = RTE_MBUF_F_RX_IP_CKSUM_MASK | RTE_MBUF_F_RX_L4_CKSUM_MASK;
	dp->l2l4_flags = RXL_L2L4_VERIFY_IPV4_CSUM;
	if (mode == RXL_CSUM_VERIFY)
		dp->l2l4_flags |= RXL_L2L4_VERIFY_UDP_CSUM;
	snprintf(what, len, "%s%s%s", hw ? "checked by the NIC, else " : "",
		 mode == RXL_CSUM_VERIFY ? "IPv4 and UDP verified in software"
					 : "IPv4 verified in software, UDP not checked",
		 mode == RXL_CSUM_IPV4 && c->checksum == RXL_CSUM_AUTO
			 ? " (a port fed by the kernel: locally sent frames carry unfinished UDP "
			   "checksums)"
			 : "");
}

/* The port source: one rx and one tx queue per rx lcore (tx: ARP replies),
 * RSS over UDP when the device has it, so one sender stays on one queue. */
static int setup_port(struct rxl_dp *dp, struct rxl_cfg *c)
{
	struct rte_eth_conf conf = {0};
	struct rte_eth_dev_info info;
	struct rte_ether_addr mac;
	uint16_t nrx = 1024, ntx = 512;
	int err;

	if (c->n_ports != 1)
		return rxl_err_set(-EINVAL, "port: exactly one --port for now (got %u)",
				   c->n_ports);
	if (rte_eth_dev_count_avail() < 1)
		return rxl_err_set(-ENODEV,
				   "port %s: no DPDK device came up; check the device "
				   "name and its arguments",
				   c->ports[0]);
	dp->port = 0;
	if ((err = rte_eth_dev_info_get(dp->port, &info)))
		return rxl_err_set(err, "port %s: %s", c->ports[0], rte_strerror(-err));
	if (dp->n_rx > info.max_rx_queues || dp->n_rx > info.max_tx_queues)
		return rxl_err_set(-EINVAL,
				   "rx_cores = %u but port %s has %u rx queues; lower "
				   "rx_cores",
				   dp->n_rx, c->ports[0], info.max_rx_queues);
	uint64_t rss = info.flow_type_rss_offloads & (RTE_ETH_RSS_IP | RTE_ETH_RSS_UDP);
	char csum[160];

	csum_setup(dp, c, &info, &conf, csum, sizeof(csum));

	if (dp->n_rx > 1 && rss) {
		conf.rxmode.mq_mode = RTE_ETH_MQ_RX_RSS;
		conf.rx_adv_conf.rss_conf.rss_hf = rss;
	}
	if ((err = rte_eth_dev_configure(dp->port, (uint16_t)dp->n_rx, (uint16_t)dp->n_rx,
					 &conf)) ||
	    (err = rte_eth_dev_adjust_nb_rx_tx_desc(dp->port, &nrx, &ntx)))
		return rxl_err_set(err, "port %s: configure: %s", c->ports[0], rte_strerror(-err));
	for (uint16_t q = 0; q < dp->n_rx; q++)
		if ((err = rte_eth_rx_queue_setup(dp->port, q, nrx, rte_eth_dev_socket_id(dp->port),
						  NULL, dp->pool)) ||
		    (err = rte_eth_tx_queue_setup(dp->port, q, ntx, rte_eth_dev_socket_id(dp->port),
						  NULL)))
			return rxl_err_set(err, "port %s: queue %u: %s", c->ports[0], q,
					   rte_strerror(-err));
	if ((err = rte_eth_dev_start(dp->port)))
		return rxl_err_set(err, "port %s: start: %s", c->ports[0], rte_strerror(-err));
	rte_eth_promiscuous_enable(dp->port); /* virtual ports: MACs mean little */
	rte_eth_macaddr_get(dp->port, &mac);
	memcpy(dp->mac, mac.addr_bytes, 6);
	for (uint32_t l = 0; l < dp->n_lst; l++)
		dp->port_listener[dp->lst[l].cfg->port] = (uint8_t)(l + 1);
	fprintf(stderr,
		"rxlogd: port %s: %u rx queue(s)%s, mac %02x:%02x:%02x:%02x:%02x:%02x, "
		"checksums %s\n",
		c->ports[0], dp->n_rx, conf.rxmode.mq_mode == RTE_ETH_MQ_RX_RSS ? " with RSS" : "",
		dp->mac[0], dp->mac[1], dp->mac[2], dp->mac[3], dp->mac[4], dp->mac[5], csum);
	return 0;
}

static uint64_t ld(_Atomic uint64_t *p)
{
	/* Relaxed: monotonic counters of other lcores; a stale value is fine. */
	return rxl_load_relaxed(p);
}

struct totals {
	uint64_t datagrams, bytes, events, ring_full, kernel_drops, too_large, nombuf, duplicates,
		gaps, records, log_drops, not_ours, reassembled, fmt[RXL_FMT_REASON_COUNT],
		l2[RXL_L2L4_RESULT_COUNT];
	uint64_t nic_ipackets, nic_imissed, nic_nombuf, nic_ierrors;
};

/* Add rx lcore @s's counters to @t. */
static void add_rx(struct totals *t, struct rxl_rx_stats *s)
{
	t->datagrams += ld(&s->datagrams);
	t->bytes += ld(&s->bytes);
	t->events += ld(&s->events);
	t->ring_full += ld(&s->ring_full);
	t->kernel_drops += ld(&s->kernel_drops);
	t->too_large += ld(&s->too_large);
	t->nombuf += ld(&s->nombuf);
	t->duplicates += ld(&s->duplicates);
	t->gaps += ld(&s->gaps);
	t->not_ours += ld(&s->not_ours);
	t->reassembled += ld(&s->reassembled);
	for (int r = 0; r < RXL_FMT_REASON_COUNT; r++)
		t->fmt[r] += ld(&s->fmt[r]);
	for (int r = 0; r < RXL_L2L4_RESULT_COUNT; r++)
		t->l2[r] += ld(&s->l2[r]);
}

static void sum(struct rxl_dp *dp, struct totals *t)
{
	memset(t, 0, sizeof(*t));
	for (uint32_t i = 0; i < dp->n_rx; i++)
		add_rx(t, &dp->rx[i]);
	for (uint32_t w = 0; w < dp->n_wr; w++) {
		t->records += ld(&dp->wr[w].records);
		t->log_drops += ld(&dp->wr[w].log_drops);
	}
}

static uint64_t parse_drops(const struct totals *t)
{
	uint64_t n = t->too_large + t->duplicates;

	for (int r = 1; r < RXL_FMT_REASON_COUNT; r++)
		if (rxl_fmt_reason_is_drop((enum rxl_fmt_reason)r))
			n += t->fmt[r];
	return n;
}

/* The upper bound (µs) of the bucket holding the @q quantile (0..1) of a
 * published histogram; 0 when it is empty, -1 past the last bound. */
static int64_t lat_quantile_us(_Atomic uint64_t *h, double q)
{
	uint64_t n = 0, c[RXL_LAT_BUCKETS], acc = 0;

	for (int b = 0; b < RXL_LAT_BUCKETS; b++)
		n += c[b] = ld(&h[b]);
	if (!n)
		return 0;
	for (int b = 0; b < RXL_LAT_BUCKETS; b++) {
		acc += c[b];
		if ((double)acc >= q * (double)n)
			return b < RXL_LAT_BUCKETS - 1 ? (int64_t)rxl_lat_bound_us((unsigned)b)
						       : -1;
	}
	return -1;
}

static void print_json(FILE *f, struct rxl_dp *dp, const struct totals *t)
{
	fprintf(f,
		"{\"datagrams\":%" PRIu64 ",\"bytes\":%" PRIu64 ",\"events\":%" PRIu64
		",\"stored\":%" PRIu64 ",\"ring_full\":%" PRIu64 ",\"kernel_drops\":%" PRIu64
		",\"too_large\":%" PRIu64 ",\"nombuf\":%" PRIu64 ",\"duplicates\":%" PRIu64
		",\"gaps\":%" PRIu64 ",\"log_drops\":%" PRIu64 ",\"formats\":{",
		t->datagrams, t->bytes, t->events, t->records, t->ring_full, t->kernel_drops,
		t->too_large, t->nombuf, t->duplicates, t->gaps, t->log_drops);
	bool first = true;

	for (int r = 1; r < RXL_FMT_REASON_COUNT; r++)
		if (t->fmt[r]) {
			fprintf(f, "%s\"%s\":%" PRIu64, first ? "" : ",",
				rxl_fmt_drop_name((enum rxl_fmt_reason)r), t->fmt[r]);
			first = false;
		}
	fprintf(f, "},\"frames\":{");
	first = true;
	for (int r = 0; r < RXL_L2L4_RESULT_COUNT; r++)
		if (t->l2[r]) {
			fprintf(f, "%s\"%s\":%" PRIu64, first ? "" : ",",
				rxl_l2l4_drop_name((enum rxl_l2l4_result)r), t->l2[r]);
			first = false;
		}
	fprintf(f,
		"},\"not_ours\":%" PRIu64 ",\"reassembled\":%" PRIu64
		",\"nic\":{\"ipackets\":%" PRIu64 ",\"imissed\":%" PRIu64 ",\"rx_nombuf\":%" PRIu64
		",\"ierrors\":%" PRIu64 "},\"rx_lcores\":[",
		t->not_ours, t->reassembled, t->nic_ipackets, t->nic_imissed, t->nic_nombuf,
		t->nic_ierrors);
	/* Per rx lcore (= rx queue on a port): shows how RSS spread the load. */
	for (uint32_t i = 0; i < dp->n_rx; i++)
		fprintf(f,
			"%s{\"datagrams\":%" PRIu64 ",\"events\":%" PRIu64 ",\"ring_full\":%" PRIu64
			"}",
			i ? "," : "", ld(&dp->rx[i].datagrams), ld(&dp->rx[i].events),
			ld(&dp->rx[i].ring_full));
	/* Native producers with the most loss, per rx lcore (struct rxl_prod_pub). */
	fprintf(f, "],\"producers\":[");
	for (uint32_t i = 0, any = 0; i < dp->n_rx; i++) {
		struct rxl_dedupe_report r[RXL_PUB_PRODUCERS];
		uint32_t n = rxl_producers_read(dp, i, r);

		for (uint32_t k = 0; k < n; k++, any++)
			fprintf(f,
				"%s{\"id\":%" PRId64
				",\"epoch\":%d,\"lcore\":%u,\"accepted\":%" PRIu64
				",\"duplicates\":%" PRIu64 ",\"late\":%" PRIu64 ",\"lost\":%" PRIu64
				",\"pending\":%u}",
				any ? "," : "", r[k].id, r[k].epoch, i, r[k].c.accepted,
				r[k].c.duplicates, r[k].c.late, r[k].c.lost, r[k].pending);
	}
	/* Per partition, as its writer lcore last published it. */
	fprintf(f, "],\"partitions\":[");
	for (uint32_t p = 0; p < dp->n_parts; p++) {
		struct rxl_partition *pt = &dp->parts[p];

		fprintf(f,
			"%s{\"topic\":\"%s\",\"partition\":%u,\"records\":%" PRIu64
			",\"bytes\":%" PRIu64 ",\"batches\":%" PRIu64 ",\"syncs\":%" PRIu64
			",\"hwm\":%" PRIu64 ",\"durable\":%" PRIu64 ",\"write_p50_us\":%" PRId64
			",\"write_p99_us\":%" PRId64 ",\"sync_p50_us\":%" PRId64
			",\"sync_p99_us\":%" PRId64 "}",
			p ? "," : "", dp->lst[pt->listener].cfg->topic, pt->index,
			ld(&pt->pub.records), ld(&pt->pub.bytes), ld(&pt->pub.batches),
			ld(&pt->pub.syncs), ld(&pt->pub.hwm), ld(&pt->pub.durable),
			lat_quantile_us(pt->pub.write_lat, 0.5),
			lat_quantile_us(pt->pub.write_lat, 0.99),
			lat_quantile_us(pt->pub.sync_lat, 0.5),
			lat_quantile_us(pt->pub.sync_lat, 0.99));
	}
	fprintf(f, "]}\n");
	fflush(f);
}

/* ---- Exposure: DPDK telemetry (/rxlog/...) and a Prometheus endpoint ---- */

static struct rxl_dp *g_dp; /* for the telemetry thread: set before registration */

/* Serialises the telemetry thread's reads of the port's counters with the
 * main thread stopping the port. */
static pthread_mutex_t nic_lock = PTHREAD_MUTEX_INITIALIZER;

/* Read the port's counters into @es, under nic_lock: ethdev's stats calls
 * are not thread-safe, and the telemetry thread reads them too. Returns
 * false (and leaves @es alone) when there is no port, or it was stopped. */
static bool nic_stats(struct rxl_dp *dp, struct rte_eth_stats *es)
{
	bool up;

	pthread_mutex_lock(&nic_lock);
	up = dp->port_src;
	if (up)
		rte_eth_stats_get(dp->port, es);
	pthread_mutex_unlock(&nic_lock);
	return up;
}

static int tel_stats(const char *cmd, const char *params, struct rte_tel_data *d)
{
	struct totals t;

	(void)cmd;
	(void)params;
	sum(g_dp, &t);
	rte_tel_data_start_dict(d);
	rte_tel_data_add_dict_u64(d, "datagrams", t.datagrams);
	rte_tel_data_add_dict_u64(d, "bytes", t.bytes);
	rte_tel_data_add_dict_u64(d, "events", t.events);
	rte_tel_data_add_dict_u64(d, "stored", t.records);
	rte_tel_data_add_dict_u64(d, "ring_full", t.ring_full);
	rte_tel_data_add_dict_u64(d, "kernel_drops", t.kernel_drops);
	rte_tel_data_add_dict_u64(d, "log_drops", t.log_drops);
	rte_tel_data_add_dict_u64(d, "duplicates", t.duplicates);
	rte_tel_data_add_dict_u64(d, "gaps", t.gaps);
	rte_tel_data_add_dict_u64(d, "not_ours", t.not_ours);
	rte_tel_data_add_dict_u64(d, "parse_drops", parse_drops(&t));
	struct rte_eth_stats es = {0};

	if (nic_stats(g_dp, &es)) {
		rte_tel_data_add_dict_u64(d, "nic_ipackets", es.ipackets);
		rte_tel_data_add_dict_u64(d, "nic_imissed", es.imissed);
		rte_tel_data_add_dict_u64(d, "nic_rx_nombuf", es.rx_nombuf);
		rte_tel_data_add_dict_u64(d, "nic_ierrors", es.ierrors);
	}
	return 0;
}

static int tel_producers(const char *cmd, const char *params, struct rte_tel_data *d)
{
	(void)cmd;
	(void)params;
	rte_tel_data_start_dict(d);
	for (uint32_t i = 0; i < g_dp->n_rx; i++) {
		struct rxl_dedupe_report r[RXL_PUB_PRODUCERS];
		uint32_t n = rxl_producers_read(g_dp, i, r);

		for (uint32_t k = 0; k < n; k++) {
			struct rte_tel_data *c = rte_tel_data_alloc();
			char name[32];

			if (!c)
				return -ENOMEM;
			rte_tel_data_start_dict(c);
			rte_tel_data_add_dict_u64(c, "lcore", i);
			rte_tel_data_add_dict_int(c, "epoch", r[k].epoch);
			rte_tel_data_add_dict_u64(c, "accepted", r[k].c.accepted);
			rte_tel_data_add_dict_u64(c, "duplicates", r[k].c.duplicates);
			rte_tel_data_add_dict_u64(c, "late", r[k].c.late);
			rte_tel_data_add_dict_u64(c, "lost", r[k].c.lost);
			rte_tel_data_add_dict_u64(c, "pending", r[k].pending);
			snprintf(name, sizeof(name), "%" PRId64, r[k].id);
			rte_tel_data_add_dict_container(d, name, c, 0);
		}
	}
	return 0;
}

/* A /rxlog/partitions reply stays under DPDK 22.11's 16 KiB of JSON (past
 * that, DPDK silently leaves entries out) and its 256 dict entries: each
 * partition is budgeted its fixed fields plus its topic twice over (JSON
 * escapes), and "next" says where the following reply starts. */
#define TEL_REPLY_BUDGET (16384 - 512)
#define TEL_PART_FIXED 320
#define TEL_MAX_ENTRIES 250

static int tel_partitions(const char *cmd, const char *params, struct rte_tel_data *d)
{
	uint32_t first = 0, sent = 0;
	size_t used = 0;
	char topic[RXL_CFG_TOPIC_MAX] = "";

	(void)cmd;
	/* Parameters: "TOPIC" (only its partitions), "START" (the global index
	 * to start from), or "TOPIC,START"; a reply's "next" is the START of
	 * the rest (with the same TOPIC). A topic made of digits only needs the
	 * "TOPIC,START" form. Long topic values come out cut (telemetry's
	 * string limit); the filter takes them whole. */
	if (params && params[0]) {
		const char *comma = strrchr(params, ',');
		const char *num = comma ? comma + 1 : params;
		char *end;
		unsigned long v = strtoul(num, &end, 10);
		bool is_num = *num >= '0' && *num <= '9' && *end == '\0';

		if (comma || !is_num)
			snprintf(topic, sizeof(topic), "%.*s",
				 (int)(comma ? (size_t)(comma - params) : strlen(params)), params);
		if (is_num)
			first = v < g_dp->n_parts ? (uint32_t)v : g_dp->n_parts;
		else if (comma)
			return -EINVAL;
	}
	/* Keyed "p<global index>" (telemetry names are short and plain);
	 * "topic" and "partition" inside say which (DPDK 22.11 allows no dicts
	 * in arrays). */
	rte_tel_data_start_dict(d);
	for (uint32_t p = first; p < g_dp->n_parts; p++) {
		struct rxl_partition *pt = &g_dp->parts[p];
		const char *t = g_dp->lst[pt->listener].cfg->topic;
		size_t cost = TEL_PART_FIXED + 2 * strlen(t);

		if (topic[0] && strcmp(topic, t))
			continue;
		if (sent == TEL_MAX_ENTRIES || used + cost > TEL_REPLY_BUDGET) {
			/* A number: telemetry cuts long strings, and topics
			 * may be long. */
			rte_tel_data_add_dict_u64(d, "next", p);
			break;
		}
		sent++;
		used += cost;
		struct rte_tel_data *c = rte_tel_data_alloc();
		char name[16];

		if (!c)
			return -ENOMEM;
		rte_tel_data_start_dict(c);
		rte_tel_data_add_dict_string(c, "topic", t);
		rte_tel_data_add_dict_u64(c, "partition", pt->index);
		rte_tel_data_add_dict_u64(c, "records", ld(&pt->pub.records));
		rte_tel_data_add_dict_u64(c, "bytes", ld(&pt->pub.bytes));
		rte_tel_data_add_dict_u64(c, "batches", ld(&pt->pub.batches));
		rte_tel_data_add_dict_u64(c, "syncs", ld(&pt->pub.syncs));
		rte_tel_data_add_dict_u64(c, "hwm", ld(&pt->pub.hwm));
		rte_tel_data_add_dict_u64(c, "durable", ld(&pt->pub.durable));
		rte_tel_data_add_dict_int(c, "write_p50_us",
					  (int)lat_quantile_us(pt->pub.write_lat, 0.5));
		rte_tel_data_add_dict_int(c, "write_p99_us",
					  (int)lat_quantile_us(pt->pub.write_lat, 0.99));
		rte_tel_data_add_dict_int(c, "sync_p50_us",
					  (int)lat_quantile_us(pt->pub.sync_lat, 0.5));
		rte_tel_data_add_dict_int(c, "sync_p99_us",
					  (int)lat_quantile_us(pt->pub.sync_lat, 0.99));
		snprintf(name, sizeof(name), "p%u", p);
		if (rte_tel_data_add_dict_container(d, name, c, 0) < 0) {
			rte_tel_data_free(c); /* not taken: ours to free */
			return -ENOSPC;
		}
	}
	return 0;
}

static int tel_rx_lcores(const char *cmd, const char *params, struct rte_tel_data *d)
{
	(void)cmd;
	(void)params;
	rte_tel_data_start_dict(d);
	for (uint32_t i = 0; i < g_dp->n_rx; i++) {
		struct rte_tel_data *c = rte_tel_data_alloc();
		char name[32];

		if (!c)
			return -ENOMEM;
		rte_tel_data_start_dict(c);
		rte_tel_data_add_dict_u64(c, "datagrams", ld(&g_dp->rx[i].datagrams));
		rte_tel_data_add_dict_u64(c, "bytes", ld(&g_dp->rx[i].bytes));
		rte_tel_data_add_dict_u64(c, "events", ld(&g_dp->rx[i].events));
		rte_tel_data_add_dict_u64(c, "ring_full", ld(&g_dp->rx[i].ring_full));
		rte_tel_data_add_dict_u64(c, "duplicates", ld(&g_dp->rx[i].duplicates));
		rte_tel_data_add_dict_u64(c, "gaps", ld(&g_dp->rx[i].gaps));
		/* This lcore's drops by reason (the non-zero ones). */
		for (int r = 1; r < RXL_FMT_REASON_COUNT; r++)
			if (ld(&g_dp->rx[i].fmt[r]))
				rte_tel_data_add_dict_u64(c,
							  rxl_fmt_drop_name((enum rxl_fmt_reason)r),
							  ld(&g_dp->rx[i].fmt[r]));
		for (int r = 0; r < RXL_L2L4_RESULT_COUNT; r++)
			if (ld(&g_dp->rx[i].l2[r]))
				rte_tel_data_add_dict_u64(
					c, rxl_l2l4_drop_name((enum rxl_l2l4_result)r),
					ld(&g_dp->rx[i].l2[r]));
		snprintf(name, sizeof(name), "rx%u", i);
		rte_tel_data_add_dict_container(d, name, c, 0);
	}
	return 0;
}

static int tel_drops(const char *cmd, const char *params, struct rte_tel_data *d)
{
	struct totals t;

	(void)cmd;
	(void)params;
	sum(g_dp, &t);
	rte_tel_data_start_dict(d);
	for (int r = 1; r < RXL_FMT_REASON_COUNT; r++)
		rte_tel_data_add_dict_u64(d, rxl_fmt_drop_name((enum rxl_fmt_reason)r), t.fmt[r]);
	for (int r = RXL_L2L4_DROP_FIRST; r < RXL_L2L4_RESULT_COUNT; r++)
		rte_tel_data_add_dict_u64(d, rxl_l2l4_drop_name((enum rxl_l2l4_result)r), t.l2[r]);
	return 0;
}

/* Listen on @spec (IPV4:PORT, checked by the configuration). Returns the
 * socket, or -errno. */
static int listen_tcp(const char *spec)
{
	struct sockaddr_in a = {.sin_family = AF_INET};
	uint16_t port;
	int one = 1, fd;

	if (rxl_cfg_hostport(spec, &a.sin_addr, &port))
		return -EINVAL;
	a.sin_port = htons(port);
	fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&a, sizeof(a)) < 0 || listen(fd, 16) < 0) {
		int e = -errno;

		close(fd);
		return e;
	}
	return fd;
}

#define PROM(buf, len, cap, ...)                                                              \
	do {                                                                                  \
		if ((len) < (cap))                                                            \
			(len) += (size_t)snprintf((buf) + (len), (cap) - (len), __VA_ARGS__); \
	} while (0)

/* One histogram of a partition in Prometheus form: cumulative buckets with
 * le in seconds, then _sum and _count. */
static void prom_hist(char *buf, size_t *len, size_t cap, const char *name, const char *labels,
		      _Atomic uint64_t *h, _Atomic uint64_t *sum_ns)
{
	uint64_t acc = 0;

	for (unsigned b = 0; b < RXL_LAT_BUCKETS; b++) {
		acc += ld(&h[b]);
		if (b < RXL_LAT_BUCKETS - 1)
			PROM(buf, *len, cap, "%s_bucket{%s,le=\"%.9g\"} %" PRIu64 "\n", name,
			     labels, (double)rxl_lat_bound_us(b) / 1e6, acc);
		else
			PROM(buf, *len, cap, "%s_bucket{%s,le=\"+Inf\"} %" PRIu64 "\n", name,
			     labels, acc);
	}
	PROM(buf, *len, cap, "%s_sum{%s} %.9f\n%s_count{%s} %" PRIu64 "\n", name, labels,
	     (double)ld(sum_ns) / 1e9, name, labels, acc);
}

/* Per partition counters and latency histograms (struct rxl_part_pub). */
static void prom_partitions(char *buf, size_t *len, size_t cap, struct rxl_dp *dp)
{
	static const char *const counters[] = {"records", "bytes", "batches", "syncs"};

	for (int k = 0; k < 4; k++) {
		PROM(buf, *len, cap, "# TYPE rxlog_partition_%s_total counter\n", counters[k]);
		for (uint32_t p = 0; p < dp->n_parts; p++) {
			struct rxl_part_pub *u = &dp->parts[p].pub;
			_Atomic uint64_t *v[] = {&u->records, &u->bytes, &u->batches, &u->syncs};

			PROM(buf, *len, cap,
			     "rxlog_partition_%s_total{topic=\"%s\",partition=\"%u\"} %" PRIu64
			     "\n",
			     counters[k], dp->lst[dp->parts[p].listener].cfg->topic,
			     dp->parts[p].index, ld(v[k]));
		}
	}
	PROM(buf, *len, cap, "# TYPE rxlog_partition_write_seconds histogram\n");
	for (uint32_t p = 0; p < dp->n_parts; p++) {
		char labels[RXL_CFG_TOPIC_MAX + 48];

		snprintf(labels, sizeof(labels), "topic=\"%s\",partition=\"%u\"",
			 dp->lst[dp->parts[p].listener].cfg->topic, dp->parts[p].index);
		prom_hist(buf, len, cap, "rxlog_partition_write_seconds", labels,
			  dp->parts[p].pub.write_lat, &dp->parts[p].pub.write_lat_sum_ns);
	}
	PROM(buf, *len, cap, "# TYPE rxlog_partition_fdatasync_seconds histogram\n");
	for (uint32_t p = 0; p < dp->n_parts; p++) {
		char labels[RXL_CFG_TOPIC_MAX + 48];

		snprintf(labels, sizeof(labels), "topic=\"%s\",partition=\"%u\"",
			 dp->lst[dp->parts[p].listener].cfg->topic, dp->parts[p].index);
		prom_hist(buf, len, cap, "rxlog_partition_fdatasync_seconds", labels,
			  dp->parts[p].pub.sync_lat, &dp->parts[p].pub.sync_lat_sum_ns);
	}
}

/* Native producers with the most loss, per rx lcore (struct rxl_prod_pub):
 * at most RXL_PUB_PRODUCERS series per lcore, so the series count stays
 * bounded however many producers send. */
static void prom_producers(char *buf, size_t *len, size_t cap, struct rxl_dp *dp)
{
	static const char *const names[] = {"accepted", "duplicates", "lost", "pending"};
	struct rxl_dedupe_report r[RXL_MAX_RX][RXL_PUB_PRODUCERS];
	uint32_t n[RXL_MAX_RX];

	for (uint32_t i = 0; i < dp->n_rx; i++)
		n[i] = rxl_producers_read(dp, i, r[i]);
	for (int k = 0; k < 4; k++) {
		PROM(buf, *len, cap, "# TYPE rxlog_producer_%s%s %s\n", names[k],
		     k < 3 ? "_total" : "", k < 3 ? "counter" : "gauge");
		for (uint32_t i = 0; i < dp->n_rx; i++)
			for (uint32_t j = 0; j < n[i]; j++) {
				uint64_t v[] = {r[i][j].c.accepted, r[i][j].c.duplicates,
						r[i][j].c.lost, r[i][j].pending};

				PROM(buf, *len, cap,
				     "rxlog_producer_%s%s{producer=\"%" PRId64
				     "\",lcore=\"%u\"} %" PRIu64 "\n",
				     names[k], k < 3 ? "_total" : "", r[i][j].id, i, v[k]);
			}
	}
}

/* @name{@lab reason="..."} for every drop an rx lcore counts, from @t (the
 * L2-L4 reasons only on a DPDK port). The totals and each rx lcore share
 * it, so both list the same reasons. */
static void prom_drops(char *buf, size_t *len, size_t cap, const char *name, const char *lab,
		       const struct totals *t, bool port_src)
{
	const struct {
		const char *reason;
		uint64_t n;
	} fixed[] = {{"ring_full", t->ring_full},
		     {"kernel", t->kernel_drops},
		     {"duplicate", t->duplicates},
		     {"too_large", t->too_large},
		     {"not_ours", t->not_ours}};

	for (size_t d = 0; d < sizeof(fixed) / sizeof(fixed[0]); d++)
		PROM(buf, *len, cap, "%s{%sreason=\"%s\"} %" PRIu64 "\n", name, lab,
		     fixed[d].reason, fixed[d].n);
	for (int r = 1; r < RXL_FMT_REASON_COUNT; r++)
		if (rxl_fmt_reason_is_drop((enum rxl_fmt_reason)r))
			PROM(buf, *len, cap, "%s{%sreason=\"%s\"} %" PRIu64 "\n", name, lab,
			     rxl_fmt_drop_name((enum rxl_fmt_reason)r), t->fmt[r]);
	for (int r = RXL_L2L4_DROP_FIRST; port_src && r < RXL_L2L4_RESULT_COUNT; r++)
		PROM(buf, *len, cap, "%s{%sreason=\"%s\"} %" PRIu64 "\n", name, lab,
		     rxl_l2l4_drop_name((enum rxl_l2l4_result)r), t->l2[r]);
}

/* Per rx lcore: its counters, and its drops by reason (what
 * rxlog_drops_total sums over the lcores). */
static void prom_rx_lcores(char *buf, size_t *len, size_t cap, struct rxl_dp *dp, bool port_src)
{
	static const struct {
		const char *name;
		size_t off; /* in struct totals */
	} ctr[] = {
		{"datagrams", offsetof(struct totals, datagrams)},
		{"bytes", offsetof(struct totals, bytes)},
		{"events", offsetof(struct totals, events)},
		{"sequence_gaps", offsetof(struct totals, gaps)},
		{"reassembled", offsetof(struct totals, reassembled)},
		{"nombuf", offsetof(struct totals, nombuf)},
	};
	struct totals one[RXL_MAX_RX];

	for (uint32_t i = 0; i < dp->n_rx; i++) {
		memset(&one[i], 0, sizeof(one[i]));
		add_rx(&one[i], &dp->rx[i]);
	}
	for (size_t c = 0; c < sizeof(ctr) / sizeof(ctr[0]); c++) {
		PROM(buf, *len, cap, "# TYPE rxlog_rx_lcore_%s_total counter\n", ctr[c].name);
		for (uint32_t i = 0; i < dp->n_rx; i++)
			PROM(buf, *len, cap, "rxlog_rx_lcore_%s_total{lcore=\"%u\"} %" PRIu64 "\n",
			     ctr[c].name, i,
			     *(const uint64_t *)((const char *)&one[i] + ctr[c].off));
	}
	PROM(buf, *len, cap, "# TYPE rxlog_rx_lcore_drops_total counter\n");
	for (uint32_t i = 0; i < dp->n_rx; i++) {
		char lab[32];

		snprintf(lab, sizeof(lab), "lcore=\"%u\",", i);
		prom_drops(buf, len, cap, "rxlog_rx_lcore_drops_total", lab, &one[i], port_src);
	}
}

/* Answer every pending scrape (text exposition format 0.0.4). */
static void serve_prometheus(int lfd, struct rxl_dp *dp, bool port_src)
{
	static char buf[1 << 20]; /* 28 histogram lines per partition */

	for (;;) {
		int fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);

		if (fd < 0)
			return;
		struct pollfd pfd = {.fd = fd, .events = POLLIN};
		char req[1024];

		if (poll(&pfd, 1, 200) > 0)
			(void)!read(fd, req, sizeof(req)); /* any request gets the metrics */
		struct totals t;
		size_t len = 0, cap = sizeof(buf);

		sum(dp, &t);
		PROM(buf, len, cap,
		     "HTTP/1.0 200 OK\r\nContent-Type: text/plain; version=0.0.4\r\n\r\n");
		PROM(buf, len, cap,
		     "# TYPE rxlog_datagrams_total counter\nrxlog_datagrams_total %" PRIu64 "\n",
		     t.datagrams);
		PROM(buf, len, cap,
		     "# TYPE rxlog_events_total counter\nrxlog_events_total %" PRIu64 "\n",
		     t.events);
		PROM(buf, len, cap,
		     "# TYPE rxlog_stored_total counter\nrxlog_stored_total %" PRIu64 "\n",
		     t.records);
		prom_rx_lcores(buf, &len, cap, dp, port_src);
		PROM(buf, len, cap,
		     "# TYPE rxlog_bytes_total counter\nrxlog_bytes_total %" PRIu64 "\n"
		     "# TYPE rxlog_reassembled_total counter\nrxlog_reassembled_total %" PRIu64 "\n"
		     "# TYPE rxlog_rx_nombuf_total counter\nrxlog_rx_nombuf_total %" PRIu64 "\n",
		     t.bytes, t.reassembled, t.nombuf);
		PROM(buf, len, cap, "# TYPE rxlog_drops_total counter\n");
		prom_drops(buf, &len, cap, "rxlog_drops_total", "", &t, port_src);
		PROM(buf, len, cap, "rxlog_drops_total{reason=\"log\"} %" PRIu64 "\n", t.log_drops);
		PROM(buf, len, cap,
		     "# TYPE rxlog_sequence_gaps_total counter\nrxlog_sequence_gaps_total %" PRIu64
		     "\n",
		     t.gaps);
		PROM(buf, len, cap,
		     "# TYPE rxlog_partition_hwm gauge\n# TYPE rxlog_partition_durable gauge\n");
		for (uint32_t p = 0; p < dp->n_parts; p++) {
			struct rxl_partition *pt = &dp->parts[p];
			const char *topic = dp->lst[pt->listener].cfg->topic;

			/* As the writer lcore last published them (~100 ms). */
			PROM(buf, len, cap,
			     "rxlog_partition_hwm{topic=\"%s\",partition=\"%u\"} %" PRIu64 "\n"
			     "rxlog_partition_durable{topic=\"%s\",partition=\"%u\"} %" PRIu64 "\n",
			     topic, pt->index, ld(&pt->pub.hwm), topic, pt->index,
			     ld(&pt->pub.durable));
		}
		prom_partitions(buf, &len, cap, dp);
		prom_producers(buf, &len, cap, dp);
		if (port_src) {
			struct rte_eth_stats es = {0};

			nic_stats(dp, &es);
			PROM(buf, len, cap,
			     "# TYPE rxlog_nic_ipackets_total counter\nrxlog_nic_ipackets_total "
			     "%" PRIu64 "\n"
			     "# TYPE rxlog_nic_imissed_total counter\nrxlog_nic_imissed_total "
			     "%" PRIu64 "\n"
			     "# TYPE rxlog_nic_rx_nombuf_total counter\nrxlog_nic_rx_nombuf_total "
			     "%" PRIu64 "\n"
			     "# TYPE rxlog_nic_ierrors_total counter\nrxlog_nic_ierrors_total "
			     "%" PRIu64 "\n",
			     es.ipackets, es.imissed, es.rx_nombuf, es.ierrors);
		}
		if (len > cap)
			len = cap;
		(void)!write(fd, buf, len);
		close(fd);
	}
}

int main(int argc, char **argv)
{
	static struct rxl_cfg cfg;
	static struct rxl_dp dp;
	struct rxl_eal_plan plan;
	struct rxl_lcore_arg rx_arg[RXL_MAX_RX], wr_arg[RXL_MAX_WR];
	unsigned rx_lc[RXL_MAX_RX], wr_lc[RXL_MAX_WR];
	int rc = 0;

	if (parse_args(argc, argv, &cfg)) {
		fprintf(stderr, "rxlogd: %s\n", rxl_err_msg());
		return 2;
	}
	bool port_src = cfg.source == RXL_SRC_DPDK || (cfg.source == RXL_SRC_AUTO && cfg.n_ports);
	/* Bound before anything else starts, so a setting that cannot be served
	 * stops start-up at once. The default endpoint is best effort: with
	 * another rxlogd on it, this one runs without. */
	int prom = strcmp(cfg.prometheus, "off") ? listen_tcp(cfg.prometheus) : -1;

	if (strcmp(cfg.prometheus, "off") && prom < 0) {
		fprintf(stderr, "rxlogd: prometheus %s: %s%s\n", cfg.prometheus, strerror(-prom),
			cfg.prometheus_set ? "; set --prometheus to a free IPV4:PORT or off"
					   : " (the default endpoint: metrics endpoint off)");
		if (cfg.prometheus_set)
			return 1;
	}
	if (rxl_eal_init(&cfg, "rxlogd", &plan)) {
		fprintf(stderr, "rxlogd: %s\n", rxl_err_msg());
		if (prom >= 0)
			close(prom);
		return 1;
	}
	fprintf(stderr, "rxlogd: %s; source %s; data %s\n", plan.summary,
		port_src ? "dpdk" : "socket", cfg.data);
	if (setup(&dp, &cfg, !port_src) || (port_src && setup_port(&dp, &cfg))) {
		fprintf(stderr, "rxlogd: %s\n", rxl_err_msg());
		if (prom >= 0)
			close(prom);
		rxl_eal_cleanup();
		return 1;
	}
	dp.port_src = port_src; /* before telemetry can ask (registered below) */
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	signal(SIGPIPE, SIG_IGN); /* a scraper that hangs up must not stop us */
	g_dp = &dp;
	/* Help texts stay under telemetry's 128 bytes, or registration fails. */
	static const struct {
		const char *cmd;
		telemetry_cb fn;
		const char *help;
	} tel[] = {
		{"/rxlog/stats", tel_stats, "rxlogd totals: datagrams, events, stored, drops."},
		{"/rxlog/drops", tel_drops, "rxlogd drops by reason (payload format and L2-L4)."},
		{"/rxlog/rx_lcores", tel_rx_lcores,
		 "rxlogd counters per rx lcore, drops by reason."},
		{"/rxlog/partitions", tel_partitions,
		 "rxlogd per partition (param: TOPIC, START or TOPIC,START): records, marks, "
		 "latency."},
		{"/rxlog/producers", tel_producers,
		 "rxlogd native producers with the most loss: lost, pending, duplicates."},
	};

	for (size_t k = 0; k < sizeof(tel) / sizeof(tel[0]); k++)
		if (rte_telemetry_register_cmd(tel[k].cmd, tel[k].fn, tel[k].help))
			fprintf(stderr, "rxlogd: telemetry command %s not registered\n",
				tel[k].cmd);
	if (prom >= 0)
		fprintf(stderr, "rxlogd: metrics on http://%s/metrics\n", cfg.prometheus);
	unsigned lc, k = 0;

	dp.idle_sleep = !port_src;
	RTE_LCORE_FOREACH_WORKER (lc) {
		if (k < dp.n_rx) {
			rx_arg[k] = (struct rxl_lcore_arg){.dp = &dp, .index = k};
			rx_lc[k] = lc;
			rte_eal_remote_launch(port_src ? rxl_rx_port_loop : rxl_rx_socket_loop,
					      &rx_arg[k], lc);
		} else if (k < dp.n_rx + dp.n_wr) {
			uint32_t w = k - dp.n_rx;

			wr_arg[w] = (struct rxl_lcore_arg){.dp = &dp, .index = w};
			wr_lc[w] = lc;
			rte_eal_remote_launch(rxl_writer_loop, &wr_arg[w], lc);
		}
		k++;
	}
	/* Tell local producers (rxlog produce) which topics we own and where
	 * to send: <data>/__rxlogd/<topic>. Removed at a clean stop; a stale one
	 * names a dead pid, which readers ignore. */
	char reg[4400];

	snprintf(reg, sizeof(reg), "%s/__rxlogd", cfg.data);
	mkdir(reg, 0755);
	for (uint32_t l = 0; l < cfg.n_listeners; l++) {
		char ip[64] = "127.0.0.1";
		FILE *fp;

		if (port_src && cfg.n_addrs && cfg.addrs[0].family == AF_INET)
			inet_ntop(AF_INET, cfg.addrs[0].bytes, ip, sizeof(ip));
		snprintf(reg, sizeof(reg), "%s/__rxlogd/%s", cfg.data, cfg.listeners[l].topic);
		fp = fopen(reg, "w");
		if (fp) {
			fprintf(fp, "format=%s addr=%s port=%u pid=%ld max_event_bytes=%u\n",
				rxl_cfg_format_name(cfg.listeners[l].format), ip,
				cfg.listeners[l].port, (long)getpid(),
				cfg.listeners[l].max_event_bytes);
			fclose(fp);
		}
	}
	for (uint32_t l = 0; l < cfg.n_listeners; l++)
		fprintf(stderr, "rxlogd: listening on UDP %u: %s -> topic %s (%u partitions)\n",
			cfg.listeners[l].port, rxl_cfg_format_name(cfg.listeners[l].format),
			cfg.listeners[l].topic, cfg.listeners[l].partitions);
	struct totals prev = {0}, t;
	uint64_t ticks = 0;

	while (!stop_signal) {
		struct timespec ts = {0, 100 * 1000000};

		nanosleep(&ts, NULL);
		if (prom >= 0)
			serve_prometheus(prom, &dp, port_src);
		if (cfg.stats_interval_s && ++ticks % (cfg.stats_interval_s * 10) == 0) {
			sum(&dp, &t);
			double sec = cfg.stats_interval_s;

			char port_part[160] = "";

			/* On a port, what the NIC and L2-L4 dropped before any
			 * payload was parsed, too (totals since start). */
			if (port_src) {
				struct rte_eth_stats es = {0};
				uint64_t l2 = 0;

				nic_stats(&dp, &es);
				for (int r = RXL_L2L4_DROP_FIRST; r < RXL_L2L4_RESULT_COUNT; r++)
					l2 += t.l2[r];
				snprintf(port_part, sizeof(port_part),
					 " l2-l4 %" PRIu64 " not-ours %" PRIu64
					 " nic-missed %" PRIu64 " nic-nombuf %" PRIu64,
					 l2, t.not_ours, es.imissed, es.rx_nombuf);
			}
			fprintf(stderr,
				"rxlogd: %.0f events/s %.1f MB/s in, %.0f records/s stored; drops: "
				"ring %" PRIu64 " kernel %" PRIu64 " parse %" PRIu64 " log %" PRIu64
				"%s\n",
				(double)(t.events - prev.events) / sec,
				(double)(t.bytes - prev.bytes) / sec / 1e6,
				(double)(t.records - prev.records) / sec, t.ring_full,
				t.kernel_drops, parse_drops(&t), t.log_drops, port_part);
			prev = t;
		}
	}
	/* S1: release; the rx lcores stop receiving. */
	atomic_store_explicit(&dp.stop_rx, 1, memory_order_release);
	for (uint32_t i = 0; i < dp.n_rx; i++)
		rte_eal_wait_lcore(rx_lc[i]);
	/* S2: release; every descriptor is in a ring by now, the writers drain
	 * them, then flush and fdatasync their partitions. */
	atomic_store_explicit(&dp.stop_wr, 1, memory_order_release);
	for (uint32_t w = 0; w < dp.n_wr; w++)
		if (rte_eal_wait_lcore(wr_lc[w]))
			rc = 1;
	for (uint32_t l = 0; l < cfg.n_listeners; l++) {
		snprintf(reg, sizeof(reg), "%s/__rxlogd/%s", cfg.data, cfg.listeners[l].topic);
		unlink(reg);
	}
	sum(&dp, &t);
	if (port_src) {
		struct rte_eth_stats es = {0};

		nic_stats(&dp, &es);
		t.nic_ipackets = es.ipackets;
		t.nic_imissed = es.imissed;
		t.nic_nombuf = es.rx_nombuf;
		t.nic_ierrors = es.ierrors;
		/* The telemetry thread reads the port's counters under this
		 * lock while port_src is set: after it, the port is not read. */
		pthread_mutex_lock(&nic_lock);
		dp.port_src = false;
		pthread_mutex_unlock(&nic_lock);
		rte_eth_dev_stop(dp.port);
		rte_eth_dev_close(dp.port);
	}
	print_json(stdout, &dp, &t);
	for (uint32_t l = 0; l < dp.n_lst; l++)
		for (uint32_t i = 0; !port_src && i < dp.n_rx; i++)
			close(dp.lst[l].fd[i]);
	if (prom >= 0)
		close(prom);
	rxl_eal_cleanup();
	return rc;
}
