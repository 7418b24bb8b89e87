/* dataplane: rxlogd's configuration — INI file (libinih) plus flag overrides.
 * Main thread, at start-up only; errors go to the thread's error message.
 */
#include "rxl_config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <ini.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "rxl_err.h"

static const char *const format_names[] = {"native", "syslog", "lines", "raw"};
static const char *const key_names[] = {"default", "host", "app", "source", "none"};
static const char *const durability_names[] = {"none", "interval", "fsync"};
static const char *const source_names[] = {"auto", "dpdk", "socket"};
static const char *const huge_names[] = {"auto", "on", "off"};
static const char *const csum_names[] = {"auto", "verify", "ipv4", "off"};

#define N(a) (sizeof(a) / sizeof((a)[0]))

int rxl_cfg_hostport(const char *spec, struct in_addr *addr, uint16_t *port)
{
	char host[INET_ADDRSTRLEN];
	const char *colon = strrchr(spec, ':');
	struct in_addr a;
	char *end;

	if (!colon || (size_t)(colon - spec) >= sizeof(host))
		return -EINVAL;
	memcpy(host, spec, (size_t)(colon - spec));
	host[colon - spec] = '\0';
	if (inet_pton(AF_INET, host, &a) != 1 || colon[1] < '0' || colon[1] > '9')
		return -EINVAL;
	errno = 0;
	unsigned long p = strtoul(colon + 1, &end, 10);

	if (errno || *end || p == 0 || p > 65535)
		return -EINVAL;
	if (addr)
		*addr = a;
	if (port)
		*port = (uint16_t)p;
	return 0;
}

const char *rxl_cfg_format_name(enum rxl_cfg_format f)
{
	return (unsigned)f < N(format_names) ? format_names[f] : "?";
}

const char *rxl_cfg_durability_name(enum rxl_durability d)
{
	return (unsigned)d < N(durability_names) ? durability_names[d] : "?";
}

/* Look @v up in @names; on failure the message lists the valid words. */
static int pick(const char *what, const char *v, const char *const *names, size_t n, int *out)
{
	char valid[256] = "";

	for (size_t i = 0; i < n; i++) {
		if (!strcasecmp(v, names[i])) {
			*out = (int)i;
			return 0;
		}
		strncat(valid, names[i], sizeof(valid) - strlen(valid) - 1);
		if (i + 1 < n)
			strncat(valid, ", ", sizeof(valid) - strlen(valid) - 1);
	}
	return rxl_err_set(-EINVAL, "%s = \"%s\": must be one of %s", what, v, valid);
}

/* "-1" (→ -1, *unit NULL) or a non-negative number followed by a unit
 * suffix (*unit points at it). */
static int parse_number(const char *s, int64_t *v, const char **unit)
{
	char *end;

	*unit = NULL;
	if (!strcmp(s, "-1")) {
		*v = -1;
		return 0;
	}
	errno = 0;
	unsigned long long n = strtoull(s, &end, 10);

	if (end == s || errno || s[0] == '-' || n > INT64_MAX)
		return -EINVAL;
	*v = (int64_t)n;
	*unit = end;
	return 0;
}

static int scale(int64_t v, uint64_t mul, int64_t *out)
{
	if ((uint64_t)v > (uint64_t)INT64_MAX / mul)
		return -EINVAL;
	*out = v * (int64_t)mul;
	return 0;
}

int rxl_cfg_parse_size(const char *s, int64_t *out)
{
	const char *u;
	int64_t v;
	uint64_t mul = 1;

	if (parse_number(s, &v, &u))
		return -EINVAL;
	if (!u) {
		*out = v;
		return 0;
	}
	if (*u) {
		switch (*u) {
		case 'k':
		case 'K':
			mul = 1ull << 10;
			break;
		case 'm':
		case 'M':
			mul = 1ull << 20;
			break;
		case 'g':
		case 'G':
			mul = 1ull << 30;
			break;
		case 't':
		case 'T':
			mul = 1ull << 40;
			break;
		default:
			return -EINVAL;
		}
		u++;
		if (*u == 'i' || *u == 'I')
			u++;
		if (*u == 'b' || *u == 'B')
			u++;
		if (*u)
			return -EINVAL;
	}
	return scale(v, mul, out);
}

int rxl_cfg_parse_duration_ms(const char *s, int64_t *out)
{
	const char *u;
	int64_t v;
	uint64_t mul;

	if (parse_number(s, &v, &u))
		return -EINVAL;
	if (!u) {
		*out = v;
		return 0;
	}
	if (!*u || !strcmp(u, "ms"))
		mul = 1;
	else if (!strcmp(u, "s"))
		mul = 1000;
	else if (!strcmp(u, "m") || !strcmp(u, "min"))
		mul = 60000;
	else if (!strcmp(u, "h"))
		mul = 3600000;
	else if (!strcmp(u, "d"))
		mul = 86400000;
	else
		return -EINVAL;
	return scale(v, mul, out);
}

static int parse_u32(const char *what, const char *v, uint32_t lo, uint32_t hi, uint32_t *out)
{
	char *end;

	errno = 0;
	unsigned long n = strtoul(v, &end, 10);

	if (end == v || *end || errno || v[0] == '-' || n < lo || n > hi)
		return rxl_err_set(
			-EINVAL, "%s = \"%s\": must be a whole number from %" PRIu32 " to %" PRIu32,
			what, v, lo, hi);
	*out = (uint32_t)n;
	return 0;
}

static int parse_i32(const char *what, const char *v, int32_t lo, int32_t hi, int32_t *out)
{
	char *end;

	errno = 0;
	long n = strtol(v, &end, 10);

	if (end == v || *end || errno || n < lo || n > hi)
		return rxl_err_set(
			-EINVAL, "%s = \"%s\": must be a whole number from %" PRId32 " to %" PRId32,
			what, v, lo, hi);
	*out = (int32_t)n;
	return 0;
}

/* A CPU list: "2,3", "4-7", "1,4-5"; each CPU once, at most
 * RXL_CFG_MAX_CORES in all. */
static int parse_cpus(const char *what, const char *v, uint16_t *cpus, uint32_t *n)
{
	const char *p = v;
	uint32_t k = 0;

	for (;;) {
		char *end;
		unsigned long lo, hi;

		errno = 0;
		if (*p < '0' || *p > '9')
			goto bad;
		lo = hi = strtoul(p, &end, 10);
		if (*end == '-') {
			if (end[1] < '0' || end[1] > '9')
				goto bad;
			hi = strtoul(end + 1, &end, 10);
		}
		if (errno || lo > hi || hi > 4095 || (*end && *end != ','))
			goto bad;
		for (unsigned long cpu = lo; cpu <= hi; cpu++) {
			for (uint32_t j = 0; j < k; j++)
				if (cpus[j] == cpu)
					return rxl_err_set(-EINVAL,
							   "%s = \"%s\": CPU %lu is listed twice",
							   what, v, cpu);
			if (k == RXL_CFG_MAX_CORES)
				return rxl_err_set(-EINVAL, "%s = \"%s\": at most %d CPUs", what, v,
						   RXL_CFG_MAX_CORES);
			cpus[k++] = (uint16_t)cpu;
		}
		if (!*end)
			break;
		p = end + 1;
	}
	*n = k;
	return 0;
bad:
	return rxl_err_set(-EINVAL,
			   "%s = \"%s\": must be a list of CPU numbers and ranges, e.g. 2,3 or 2-5",
			   what, v);
}

static int parse_addr(const char *v, struct rxl_cfg_addr *a)
{
	if (inet_pton(AF_INET, v, a->bytes) == 1) {
		a->family = AF_INET;
		return 0;
	}
	if (inet_pton(AF_INET6, v, a->bytes) == 1) {
		a->family = AF_INET6;
		return 0;
	}
	return rxl_err_set(-EINVAL, "addr = \"%s\": not an IPv4 or IPv6 address", v);
}

void rxl_cfg_default(struct rxl_cfg *c)
{
	const char *d = getenv("RXLOG_DATA");

	memset(c, 0, sizeof(*c));
	snprintf(c->data, sizeof(c->data), "%s", d && *d ? d : "./data");
	c->rx_cores = 1;
	c->writer_cores = 1;
	c->memory_mb = 512;
	snprintf(c->prometheus, sizeof(c->prometheus), "127.0.0.1:9108");
	c->stats_interval_s = 5;
	c->ring_size = 16384;
}

static void listener_default(struct rxl_cfg_listener *l)
{
	memset(l, 0, sizeof(*l));
	l->partitions = 1;
	l->max_event_bytes = 65000;
	rxl_log_config_default(&l->log);
}

/* One "key = value" of a listener (file section or --listen option). */
static int listener_set(struct rxl_cfg_listener *l, const char *k, const char *v)
{
	char what[64];
	int64_t n;
	int i = 0, err;

	snprintf(what, sizeof(what), "listener %u: %s", l->port, k);
	if (!strcmp(k, "format")) {
		err = pick(what, v, format_names, N(format_names), &i);
		if (!err)
			l->format = (enum rxl_cfg_format)i;
		return err;
	}
	if (!strcmp(k, "topic")) {
		if (!v[0] || strlen(v) >= sizeof(l->topic) || strpbrk(v, "/ \t") ||
		    !strcmp(v, ".") || !strcmp(v, ".."))
			return rxl_err_set(-EINVAL,
					   "%s = \"%s\": a topic is 1 to %d characters without '/' "
					   "or spaces",
					   what, v, RXL_CFG_TOPIC_MAX - 1);
		snprintf(l->topic, sizeof(l->topic), "%s", v);
		return 0;
	}
	if (!strcmp(k, "partitions"))
		return parse_u32(what, v, 1, 4096, &l->partitions);
	if (!strcmp(k, "max_event_bytes"))
		return parse_u32(what, v, 1, 16u << 20, &l->max_event_bytes);
	if (!strcmp(k, "rfc3164_utc_offset_min")) /* UTC = senders' local time - offset */
		return parse_i32(what, v, -24 * 60, 24 * 60, &l->rfc3164_utc_offset_min);
	if (!strcmp(k, "key")) {
		err = pick(what, v, key_names, N(key_names), &i);
		if (!err)
			l->key = (enum rxl_cfg_key)i;
		return err;
	}
	if (!strcmp(k, "durability")) {
		err = pick(what, v, durability_names, N(durability_names), &i);
		if (!err)
			l->log.durability = (enum rxl_durability)i;
		return err;
	}
	if (!strcmp(k, "flush_ms"))
		return parse_u32(what, v, 1, 3600000, &l->log.flush_ms);
	if (!strcmp(k, "linger_us"))
		return parse_u32(what, v, 0, 10000000, &l->log.linger_us);
	if (!strcmp(k, "segment_bytes") || !strcmp(k, "retention_bytes") ||
	    !strcmp(k, "batch_bytes")) {
		if (rxl_cfg_parse_size(v, &n) || (n < 0 && strcmp(k, "retention_bytes")))
			return rxl_err_set(-EINVAL, "%s = \"%s\": must be a size like 64M or 1G%s",
					   what, v, strcmp(k, "retention_bytes") ? "" : " (or -1)");
		if (!strcmp(k, "segment_bytes"))
			l->log.segment_bytes = (uint64_t)n;
		else if (!strcmp(k, "batch_bytes"))
			l->log.batch_bytes = n > UINT32_MAX ? UINT32_MAX : (uint32_t)n;
		else
			l->log.retention_bytes = n;
		return 0;
	}
	if (!strcmp(k, "retention") || !strcmp(k, "retention_ms") || !strcmp(k, "segment_ms")) {
		if (rxl_cfg_parse_duration_ms(v, &n))
			return rxl_err_set(
				-EINVAL,
				"%s = \"%s\": must be a duration like 500ms, 30s, 12h, 7d "
				"(or -1)",
				what, v);
		if (!strcmp(k, "segment_ms"))
			l->log.segment_ms = n < 0 ? 0 : n;
		else
			l->log.retention_ms = n;
		return 0;
	}
	return rxl_err_set(
		-EINVAL,
		"%s: unknown listener setting (valid: format, topic, partitions, key, "
		"durability, flush_ms, linger_us, segment_bytes, segment_ms, batch_bytes, "
		"retention_bytes, retention, max_event_bytes, rfc3164_utc_offset_min)",
		what);
}

int rxl_cfg_parse_listen(const char *spec, struct rxl_cfg_listener *l)
{
	char buf[1024], *save = NULL;
	uint32_t port = 0;
	int i = 0, err;

	listener_default(l);
	if (strlen(spec) >= sizeof(buf))
		return rxl_err_set(-EINVAL, "--listen \"%.40s...\": too long", spec);
	snprintf(buf, sizeof(buf), "%s", spec);
	char *slash = strchr(buf, '/');

	if (!slash)
		return rxl_err_set(-EINVAL,
				   "--listen \"%s\": expected PORT/FORMAT[:key=value,...], e.g. "
				   "5514/syslog:topic=syslog,partitions=4",
				   spec);
	*slash = '\0';
	err = parse_u32("--listen port", buf, 1, 65535, &port);
	if (err)
		return err;
	l->port = (uint16_t)port;
	char *fmt = slash + 1, *opts = strchr(fmt, ':');

	if (opts)
		*opts++ = '\0';
	char what[64];

	snprintf(what, sizeof(what), "listener %u: format", l->port);
	err = pick(what, fmt, format_names, N(format_names), &i);
	if (err)
		return err;
	l->format = (enum rxl_cfg_format)i;
	for (char *kv = opts ? strtok_r(opts, ",", &save) : NULL; kv;
	     kv = strtok_r(NULL, ",", &save)) {
		char *eq = strchr(kv, '=');

		if (!eq)
			return rxl_err_set(-EINVAL, "listener %u: \"%s\": expected key=value",
					   l->port, kv);
		*eq = '\0';
		err = listener_set(l, kv, eq + 1);
		if (err)
			return err;
	}
	if (!l->topic[0])
		snprintf(l->topic, sizeof(l->topic), "%s", format_names[l->format]);
	return 0;
}

static struct rxl_cfg_listener *listener_for(struct rxl_cfg *c, uint16_t port)
{
	for (uint32_t i = 0; i < c->n_listeners; i++)
		if (c->listeners[i].port == port)
			return &c->listeners[i];
	if (c->n_listeners == RXL_CFG_MAX_LISTENERS)
		return NULL;
	struct rxl_cfg_listener *l = &c->listeners[c->n_listeners++];

	listener_default(l);
	l->port = port;
	return l;
}

int rxl_cfg_set_flag(struct rxl_cfg *c, const char *name, const char *v)
{
	int i = 0, err;

	if (!strcmp(name, "data")) {
		if (!v[0] || strlen(v) >= sizeof(c->data))
			return rxl_err_set(-EINVAL, "data = \"%s\": must be a folder path", v);
		snprintf(c->data, sizeof(c->data), "%s", v);
		return 0;
	}
	if (!strcmp(name, "source")) {
		err = pick("source", v, source_names, N(source_names), &i);
		if (!err)
			c->source = (enum rxl_cfg_source)i;
		return err;
	}
	if (!strcmp(name, "port")) {
		if (!v[0] || strlen(v) >= sizeof(c->ports[0]))
			return rxl_err_set(
				-EINVAL, "port = \"%s\": a DPDK device of 1 to 255 characters", v);
		/* One port per rxlogd: a flag replaces the file's; a second
		 * flag is a mistake, not an override. */
		if (c->n_ports && !c->port_from_file)
			return rxl_err_set(
				-EINVAL,
				"port = \"%s\": one port per rxlogd (already have \"%s\"); "
				"spread a port's load with --rx-cores (one queue each), "
				"or run one rxlogd per port",
				v, c->ports[0]);
		c->n_ports = 0;
		c->port_from_file = false;
		snprintf(c->ports[c->n_ports++], sizeof(c->ports[0]), "%s", v);
		return 0;
	}
	if (!strcmp(name, "addr")) {
		if (c->n_addrs == RXL_CFG_MAX_ADDRS)
			return rxl_err_set(-EINVAL, "addr: at most %d addresses",
					   RXL_CFG_MAX_ADDRS);
		err = parse_addr(v, &c->addrs[c->n_addrs]);
		c->n_addrs += !err;
		return err;
	}
	if (!strcmp(name, "rx_cores") || !strcmp(name, "rx-cores"))
		return parse_u32("rx_cores", v, 1, RXL_CFG_MAX_CORES, &c->rx_cores);
	if (!strcmp(name, "writer_cores") || !strcmp(name, "writer-cores"))
		return parse_u32("writer_cores", v, 1, RXL_CFG_MAX_CORES, &c->writer_cores);
	if (!strcmp(name, "rx_cpus") || !strcmp(name, "rx-cpus")) {
		err = parse_cpus("rx_cpus", v, c->rx_cpus, &c->n_rx_cpus);
		if (!err)
			c->rx_cores = c->n_rx_cpus;
		return err;
	}
	if (!strcmp(name, "writer_cpus") || !strcmp(name, "writer-cpus")) {
		err = parse_cpus("writer_cpus", v, c->writer_cpus, &c->n_writer_cpus);
		if (!err)
			c->writer_cores = c->n_writer_cpus;
		return err;
	}
	if (!strcmp(name, "hugepages")) {
		err = pick("hugepages", v, huge_names, N(huge_names), &i);
		if (!err)
			c->hugepages = (enum rxl_cfg_huge)i;
		return err;
	}
	if (!strcmp(name, "checksum")) {
		err = pick("checksum", v, csum_names, N(csum_names), &i);
		if (!err)
			c->checksum = (enum rxl_cfg_csum)i;
		return err;
	}
	if (!strcmp(name, "memory_mb") || !strcmp(name, "memory-mb"))
		return parse_u32("memory_mb", v, 64, 1u << 20, &c->memory_mb);
	if (!strcmp(name, "eal_args") || !strcmp(name, "eal")) {
		if (strlen(v) >= sizeof(c->eal_args))
			return rxl_err_set(-EINVAL, "eal_args: longer than %zu characters",
					   sizeof(c->eal_args) - 1);
		snprintf(c->eal_args, sizeof(c->eal_args), "%s", v);
		return 0;
	}
	if (!strcmp(name, "prometheus")) {
		if (strlen(v) >= sizeof(c->prometheus) ||
		    (strcmp(v, "off") && rxl_cfg_hostport(v, NULL, NULL)))
			return rxl_err_set(
				-EINVAL,
				"prometheus = \"%s\": must be IPV4:PORT with a port of 1-65535 "
				"(e.g. 127.0.0.1:9108; 0.0.0.0:9108 exposes it off-host) or off",
				v);
		snprintf(c->prometheus, sizeof(c->prometheus), "%s", v);
		c->prometheus_set = true;
		return 0;
	}
	if (!strcmp(name, "stats_interval_s") || !strcmp(name, "stats_interval") ||
	    !strcmp(name, "stats-interval"))
		return parse_u32("stats_interval_s", v, 0, 3600, &c->stats_interval_s);
	if (!strcmp(name, "ring_size") || !strcmp(name, "ring-size")) {
		err = parse_u32("ring_size", v, 256, 1u << 20, &c->ring_size);
		if (!err && (c->ring_size & (c->ring_size - 1)))
			err = rxl_err_set(-EINVAL,
					  "ring_size = %s: must be a power of 2 (e.g. 16384)", v);
		return err;
	}
	if (!strcmp(name, "listen")) {
		struct rxl_cfg_listener l;

		err = rxl_cfg_parse_listen(v, &l);
		if (err)
			return err;
		struct rxl_cfg_listener *slot = listener_for(c, l.port);

		if (!slot)
			return rxl_err_set(-EINVAL, "listen: at most %d listeners",
					   RXL_CFG_MAX_LISTENERS);
		*slot = l; /* a flag replaces the file's listener on the same port */
		return 0;
	}
	return rxl_err_set(-ENOENT, "unknown setting \"%s\"", name);
}

struct ini_ctx {
	struct rxl_cfg *c;
	const char *path;
	int err;
};

static int on_ini_line(void *user, const char *section, const char *name, const char *value)
{
	struct ini_ctx *x = user;
	int err;

	if (x->err)
		return 0;
	if (!strcmp(section, "rxlogd")) {
		bool port = !strcmp(name, "port");

		if (!strcmp(name, "listen"))
			err = rxl_err_set(-EINVAL, "listen: use a [listen PORT] section in files");
		else if (port && x->c->n_ports)
			err = rxl_err_set(-EINVAL, "port: one per rxlogd (this file names two)");
		else
			err = rxl_cfg_set_flag(x->c, name, value);
		if (!err && port)
			x->c->port_from_file = true; /* a --port flag may replace it */
		if (err == -ENOENT)
			err = rxl_err_set(
				-EINVAL,
				"[rxlogd] %s: unknown setting (valid: data, source, port, "
				"addr, rx_cores, writer_cores, rx_cpus, writer_cpus, hugepages, "
				"memory_mb, eal_args, "
				"prometheus, stats_interval_s, ring_size, checksum)",
				name);
	} else if (!strncmp(section, "listen ", 7)) {
		uint32_t port = 0;

		err = parse_u32("[listen PORT]", section + 7, 1, 65535, &port);
		if (!err) {
			struct rxl_cfg_listener *l = listener_for(x->c, (uint16_t)port);

			err = l ? listener_set(l, name, value)
				: rxl_err_set(-EINVAL, "at most %d listeners",
					      RXL_CFG_MAX_LISTENERS);
		}
	} else {
		err = rxl_err_set(-EINVAL, "[%s]: unknown section (valid: [rxlogd], [listen PORT])",
				  section);
	}
	if (err) {
		x->err = err;
		return 0; /* stop: inih reports this line */
	}
	return 1;
}

int rxl_cfg_load_file(struct rxl_cfg *c, const char *path)
{
	struct ini_ctx x = {.c = c, .path = path};
	FILE *f = fopen(path, "r");

	if (!f)
		return rxl_err_set(-errno, "config file %s: %s", path, strerror(errno));
	rxl_err_clear();
	int line = ini_parse_file(f, on_ini_line, &x);

	fclose(f);
	for (uint32_t i = 0; i < c->n_listeners; i++)
		if (!c->listeners[i].topic[0])
			snprintf(c->listeners[i].topic, sizeof(c->listeners[i].topic), "%s",
				 format_names[c->listeners[i].format]);
	if (line > 0)
		return rxl_err_ctx(-EINVAL, "config file %s, line %d", path, line);
	if (line < 0)
		return rxl_err_set(-ENOMEM, "config file %s: out of memory", path);
	return 0;
}

int rxl_cfg_validate(const struct rxl_cfg *c)
{
	if (c->n_listeners == 0)
		return rxl_err_set(
			-EINVAL, "no listener: add --listen PORT/FORMAT[:topic=T,partitions=N] or "
				 "a [listen PORT] section");
	if (c->n_rx_cpus && c->n_rx_cpus != c->rx_cores)
		return rxl_err_set(-EINVAL,
				   "rx_cores = %u but rx_cpus lists %u CPUs: drop one of the two "
				   "settings",
				   c->rx_cores, c->n_rx_cpus);
	if (c->n_writer_cpus && c->n_writer_cpus != c->writer_cores)
		return rxl_err_set(
			-EINVAL,
			"writer_cores = %u but writer_cpus lists %u CPUs: drop one of the "
			"two settings",
			c->writer_cores, c->n_writer_cpus);
	for (uint32_t i = 0; i < c->n_rx_cpus; i++)
		for (uint32_t j = 0; j < c->n_writer_cpus; j++)
			if (c->rx_cpus[i] == c->writer_cpus[j])
				return rxl_err_set(
					-EINVAL,
					"CPU %u is in both rx_cpus and writer_cpus: two "
					"busy-polling lcores on one CPU; give each its own",
					c->rx_cpus[i]);
	if (c->source == RXL_SRC_DPDK && c->n_ports == 0)
		return rxl_err_set(
			-EINVAL, "source = dpdk needs a --port (e.g. net_af_packet0,iface=veth0)");
	if (c->source == RXL_SRC_SOCKET && c->n_ports)
		return rxl_err_set(-EINVAL, "source = socket does not use --port; drop --port or "
					    "use --source dpdk");
	if ((c->source == RXL_SRC_DPDK || (c->source == RXL_SRC_AUTO && c->n_ports)) &&
	    c->n_addrs == 0)
		return rxl_err_set(-EINVAL,
				   "the DPDK source needs --addr (the IP address rxlogd answers "
				   "ARP/ND for, e.g. --addr 198.18.0.1)");
	for (uint32_t i = 0; i < c->n_listeners; i++) {
		const struct rxl_cfg_listener *a = &c->listeners[i];
		int err = rxl_log_config_check(&a->log);

		if (err)
			return rxl_err_ctx(err, "listener %u (topic %s)", a->port, a->topic);
		if (a->max_event_bytes + 64 > a->log.batch_bytes)
			return rxl_err_set(-EINVAL,
					   "listener %u: max_event_bytes (%u) must be smaller than "
					   "batch_bytes (%u) minus 64",
					   a->port, a->max_event_bytes, a->log.batch_bytes);
		for (uint32_t j = 0; j < i; j++)
			if (!strcmp(a->topic, c->listeners[j].topic))
				return rxl_err_set(-EINVAL,
						   "listeners %u and %u both write topic \"%s\": "
						   "one topic per listener",
						   c->listeners[j].port, a->port, a->topic);
	}
	return 0;
}
