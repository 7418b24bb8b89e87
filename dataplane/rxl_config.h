/* dataplane: rxlogd's configuration — an INI file (libinih) and command-line
 * flags that override it. Main thread, at start-up only.
 *
 * The file (every key is optional; flags of the same name override it):
 *
 *   [rxlogd]
 *   data = ./data                     ; --data; default $RXLOG_DATA, else ./data
 *   source = auto                     ; --source dpdk|socket|auto (dpdk when a port is given)
 *   port = net_af_packet0,iface=veth0 ; --port: the DPDK device (vdev args or PCI); one
 *   addr = 198.18.0.1                 ; --addr, repeatable: IPv4/IPv6 answered for (ARP/ND)
 *   rx_cores = 1                      ; --rx-cores
 *   writer_cores = 1                  ; --writer-cores
 *   rx_cpus = 2,3                     ; --rx-cpus: pin rx lcores here (sets rx_cores)
 *   writer_cpus = 4-5                 ; --writer-cpus: the same for writer lcores
 *   hugepages = auto                  ; --hugepages auto|on|off (off = EAL --no-huge)
 *   memory_mb = 512                   ; --memory-mb (EAL -m with --no-huge)
 *   eal_args = --log-level=5          ; --eal "...": passed to EAL as they are
 *   prometheus = 127.0.0.1:9108       ; --prometheus IPV4:PORT|off (a set one must bind)
 *   stats_interval_s = 5              ; --stats-interval (0 = no summary line)
 *   ring_size = 16384                 ; --ring-size: descriptors per rx->writer ring (power of 2)
 *   checksum = auto                   ; --checksum auto|verify|ipv4|off (docs/DATAPLANE.md)
 *
 *   [listen 5514]                     ; --listen 5514/syslog:topic=syslog,partitions=4,...
 *   format = syslog                   ; native | syslog | lines | raw
 *   topic = syslog
 *   partitions = 4
 *   key = default                     ; default | host | app | source | none
 *   durability = none                 ; none | interval | fsync
 *   flush_ms = 1000
 *   segment_bytes = 1G                ; sizes take K/M/G (powers of 1024)
 *   retention_bytes = -1              ; -1 = no limit
 *   retention = 7d                    ; durations take ms/s/m/h/d; -1 = no limit
 *   max_event_bytes = 65000
 *   rfc3164_utc_offset_min = 0        ; syslog: senders' zone, minutes east of UTC
 *
 * Every error names the setting, the value, and what would be valid.
 */
#ifndef RXL_CONFIG_H
#define RXL_CONFIG_H

#include <stdbool.h>
#include <stdint.h>
#include <netinet/in.h>

#include "rxl_log.h"

#define RXL_CFG_MAX_PORTS 1 /* one DPDK port per rxlogd; its queues spread over rx lcores */
#define RXL_CFG_MAX_ADDRS 16
#define RXL_CFG_MAX_CORES 16 /* rx_cores, writer_cores: each (RXL_MAX_RX, RXL_MAX_WR) */
#define RXL_CFG_MAX_LISTENERS 64
#define RXL_CFG_TOPIC_MAX 200

enum rxl_cfg_source { RXL_SRC_AUTO = 0, RXL_SRC_DPDK, RXL_SRC_SOCKET };
enum rxl_cfg_format {
	RXL_CFG_FMT_NATIVE = 0,
	RXL_CFG_FMT_SYSLOG,
	RXL_CFG_FMT_LINES,
	RXL_CFG_FMT_RAW
};
enum rxl_cfg_key { RXL_KEY_DEFAULT = 0, RXL_KEY_HOST, RXL_KEY_APP, RXL_KEY_SOURCE, RXL_KEY_NONE };
enum rxl_cfg_huge { RXL_HUGE_AUTO = 0, RXL_HUGE_ON, RXL_HUGE_OFF };
/* IPv4 header and UDP checksums on a DPDK port. The NIC's verdicts are
 * used where it gives them; without one, verify: both checked in software;
 * ipv4: the IPv4 header checksum in software, UDP not checked; off: none
 * (no verdicts read either). auto: ipv4 on ports fed by the kernel
 * (af_packet, af_xdp, tap: frames from a local sender carry UDP checksums
 * left to an offload that never ran, while Linux always completes the IPv4
 * header's), verify on every other port. */
enum rxl_cfg_csum { RXL_CSUM_AUTO = 0, RXL_CSUM_VERIFY, RXL_CSUM_IPV4, RXL_CSUM_OFF };

struct rxl_cfg_addr {
	int family; /* AF_INET or AF_INET6 */
	uint8_t bytes[16];
};

struct rxl_cfg_listener {
	uint16_t port;
	enum rxl_cfg_format format;
	char topic[RXL_CFG_TOPIC_MAX];
	uint32_t partitions;
	enum rxl_cfg_key key;
	uint32_t max_event_bytes;
	int32_t rfc3164_utc_offset_min; /* syslog: the senders' zone for BSD timestamps */
	struct rxl_log_config log;	/* durability, retention, segment size, ... */
};

struct rxl_cfg {
	char data[4096];
	enum rxl_cfg_source source;
	char ports[RXL_CFG_MAX_PORTS][256];
	uint32_t n_ports;
	bool port_from_file; /* ports[0] came from the file: a --port flag replaces it */
	struct rxl_cfg_addr addrs[RXL_CFG_MAX_ADDRS];
	uint32_t n_addrs;
	uint32_t rx_cores, writer_cores;
	/* CPUs the rx and writer lcores are pinned to, in order (n_* = 0: chosen
	 * by rxl_eal_plan()); when set, their count is the core count. */
	uint16_t rx_cpus[RXL_CFG_MAX_CORES], writer_cpus[RXL_CFG_MAX_CORES];
	uint32_t n_rx_cpus, n_writer_cpus;
	enum rxl_cfg_huge hugepages;
	uint32_t memory_mb;
	char eal_args[1024];
	char prometheus[128];
	bool prometheus_set; /* set by the user: failing to serve it stops start-up */
	uint32_t stats_interval_s;
	uint32_t ring_size;
	enum rxl_cfg_csum checksum;
	struct rxl_cfg_listener listeners[RXL_CFG_MAX_LISTENERS];
	uint32_t n_listeners;
};

/**
 * Defaults (see the header comment); data = $RXLOG_DATA or "./data".
 * Concurrency: pure (reads the environment).
 */
void rxl_cfg_default(struct rxl_cfg *c);

/**
 * Read an INI file into @c (on top of what is there).
 * Concurrency: main thread (sets the thread's error message).
 * Returns: 0, -ENOENT/-EACCES for an unreadable file, -EINVAL for a bad
 * setting (the message names file, line, setting and the valid values).
 */
int rxl_cfg_load_file(struct rxl_cfg *c, const char *path);

/**
 * Apply one command-line flag. @name is without dashes ("data", "listen",
 * "port", ...), @value its argument.
 * Returns: 0, -EINVAL (message says what is valid), -ENOENT for an unknown flag.
 */
int rxl_cfg_set_flag(struct rxl_cfg *c, const char *name, const char *value);

/**
 * Parse a --listen value "PORT/FORMAT[:key=value,...]" into a listener.
 * Returns: 0 or -EINVAL with a message.
 */
int rxl_cfg_parse_listen(const char *spec, struct rxl_cfg_listener *l);

/**
 * Check the whole configuration: listeners (at least one, distinct ports,
 * distinct topics), cores, ports and source, every log config.
 * Returns: 0 or -EINVAL with a message naming the setting.
 */
int rxl_cfg_validate(const struct rxl_cfg *c);

/**
 * Parse "64", "256K", "1G", "1GiB" (powers of 1024) or "-1".
 * Returns: 0 or -EINVAL.
 */
int rxl_cfg_parse_size(const char *s, int64_t *out);

/**
 * Parse "500ms", "30s", "5m", "1h", "7d" (a bare number is ms) or "-1" into ms.
 * Returns: 0 or -EINVAL.
 */
int rxl_cfg_parse_duration_ms(const char *s, int64_t *out);

/**
 * Parse "IPV4:PORT" (the prometheus setting): a dotted IPv4 address and a
 * decimal port of 1-65535, nothing else. @addr and @port may be NULL.
 * Returns: 0, or -EINVAL.
 */
int rxl_cfg_hostport(const char *spec, struct in_addr *addr, uint16_t *port);

/** Stable names ("syslog", "fsync", ...) for messages and stats. */
const char *rxl_cfg_format_name(enum rxl_cfg_format f);
const char *rxl_cfg_durability_name(enum rxl_durability d);

#endif
