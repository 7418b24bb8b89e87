/* bench/gen: rxlog-gen, the load generator for tests, demos and benchmarks.
 * Main thread only.
 *
 * Builds native, syslog or lines datagrams from P producers (each its own
 * source address and port, so RSS, af_packet fanout and partitioning
 * spread them) and sends them to a kernel UDP socket, sends them as
 * Ethernet frames out of a DPDK port (net_memif to a local rxlogd,
 * net_af_packet onto a veth, any NIC), or writes them into a pcap file
 * (for net_pcap replays and tcpreplay). On a port with several tx queues
 * each producer's frames take the queue that rte_softrss() picks from
 * their 4-tuple, as a NIC's RSS would on the receiving side, so one
 * producer stays on one queue and keeps its order.
 * Native events carry producer ids, contiguous sequences and the send time
 * (flag RXL_NATIVE_F_SEND_TIME), so duplicates, gaps and end-to-end
 * latency can be measured downstream. At the end it prints what it sent as
 * one JSON object, so a test can check sent = stored + counted drops.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "rxl_formats.h"
#include "rxl_l2l4.h"
#include "gen_port.h"

#define MAX_DGRAM 65507
#define MAX_EPD 1024

enum fmt { F_NATIVE, F_SYSLOG, F_LINES };

struct opts {
	enum fmt fmt;
	const char *out, *udp, *port; /* exactly one: pcap file, UDP socket, DPDK port */
	uint16_t queues;	      /* --port: tx queues */
	uint32_t linger_ms;	      /* --port: wait for the peer to read, after the report */
	int cpu;		      /* --port: the CPU to send from (-1: EAL's choice) */
	uint8_t dst_mac[6];
	uint64_t count;	 /* events; 0 = until --duration */
	double duration; /* seconds; 0 = until --count */
	uint32_t event_bytes, epd, producers;
	double rate; /* events/s; 0 = flat out */
	uint16_t dst_port;
	char dst_ip[64];
	uint32_t mtu;
	uint32_t gap_every; /* every Nth datagram is skipped, not sent (0: none) */
	uint32_t dup_every; /* every Nth datagram is sent twice (0: none; pcap and --udp) */
	uint32_t epoch;	    /* native: the producers' epoch (a restarted producer has a new one) */
	bool no_producer;   /* native: producer id -1 (no dedupe: a replayed capture is not
			       "duplicate") */
	bool no_send_time;  /* native: no F_SEND_TIME (a replayed capture's send times are stale) */
};

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void usage(void)
{
	fprintf(stderr,
		"usage: rxlog-gen --format native|syslog|lines (--out FILE.pcap | --udp "
		"HOST:PORT | --port DPDK-PORT)\n"
		"                 [--count EVENTS] [--duration SECONDS] [--event-bytes B]\n"
		"                 [--events-per-datagram K] [--producers P] [--rate EVENTS/S]\n"
		"                 [--dst IP] [--dst-port PORT] [--mtu BYTES] [--no-producer]\n"
		"                 [--no-send-time] [--gap-every N] [--duplicate-every N] [--epoch "
		"E]\n"
		"                 [--queues N] [--dst-mac MAC] [--cpu CPU] [--linger-ms MS]  "
		"(--port)\n"
		"  native: K events per datagram (default 16), producer id p+1, sequences,\n"
		"          send time (--no-producer: id -1, --no-send-time: none, for captures\n"
		"          replayed in a loop);\n"

		"          syslog: one RFC 5424 message per datagram; lines: K\n"
		"          newline-terminated lines per datagram. Producers p = 0..P-1 send from\n"
		"          198.18.(p/200).(10+p%%200) (from p = 51200 on, 198.19.*):\n"
		"          (40000+p*7919%%20000) in pcap and port output. B is the value size.\n"
		"  --port: a DPDK device, e.g. net_memif0,role=client,socket=/run/x.sock or\n"
		"          net_af_packet0,iface=veth0; N tx queues (a producer's queue is\n"
		"          rte_softrss of its 4-tuple); frames to MAC (default "
		"02:00:00:00:00:01).\n"
		"  --gap-every N skips every Nth datagram, any format (native: its sequences\n"
		"          are used up, so the receiver sees a gap): simulated upstream loss.\n"
		"  --duplicate-every N sends every Nth datagram twice (pcap and --udp): a\n"
		"          retransmission, which the receiver's native dedupe drops.\n"
		"  --epoch E: native producers' epoch (default 0); a capture with a higher one\n"
		"          after a lower one is a producer restart (sequences from 0 again).\n"
		"  Prints {\"datagrams\",\"events\",\"payload_bytes\",\"skipped_events\",...}\n"
		"  as JSON on stdout at the end.\n");
}

/* Fill @v (length @len) with a printable body that encodes @seq. */
static void body(char *v, uint32_t len, uint32_t producer, uint64_t seq)
{
	int n = snprintf(v, len + 1, "p%u seq=%" PRIu64 " ", producer, seq);

	for (uint32_t i = n > 0 ? (uint32_t)n : 0; i < len; i++)
		v[i] = (char)('a' + (seq + i) % 26);
}

/* One datagram of @k events from producer @p starting at its sequence @seq. */
static int build(const struct opts *o, uint32_t p, uint64_t seq, uint32_t k, uint8_t *buf,
		 size_t cap)
{
	static char vals[MAX_EPD][2048];
	static char keys[MAX_EPD][24];
	struct rxl_record_in recs[MAX_EPD];
	uint64_t t = now_ns();

	if (o->fmt == F_NATIVE) {
		for (uint32_t i = 0; i < k; i++) {
			body(vals[i], o->event_bytes, p, seq + i);
			recs[i] = (struct rxl_record_in){
				.key = keys[i],
				.key_len = snprintf(keys[i], sizeof(keys[i]), "p%u-k%u", p,
						    (unsigned)((seq + i) % 16)),
				.value = vals[i],
				.value_len = (int32_t)o->event_bytes,
				.timestamp_ms = (int64_t)(t / 1000000),
			};
		}
		struct rxl_native_hdr h = {.producer_id = o->no_producer ? -1 : (int64_t)p + 1,
					   .epoch = (int32_t)o->epoch,
					   .base_sequence =
						   o->no_producer ? 0 : (int32_t)(seq & 0x7fffffff),
					   .flags = o->no_send_time ? 0 : RXL_NATIVE_F_SEND_TIME,
					   .send_ns = t};

		return rxl_native_encode(buf, cap, &h, recs, k);
	}
	size_t len = 0;

	for (uint32_t i = 0; i < k; i++) {
		char v[2048];

		body(v, o->event_bytes, p, seq + i);
		if (o->fmt == F_SYSLOG) {
			time_t s = (time_t)(t / 1000000000ull);
			struct tm tm;
			char ts[40];

			gmtime_r(&s, &tm);
			strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%S", &tm);
			len += (size_t)snprintf((char *)buf + len, cap - len,
						"<134>1 %s.%03uZ host-%u gen %u - - %.*s", ts,
						(unsigned)(t / 1000000 % 1000), p, p,
						(int)o->event_bytes, v);
		} else {
			len += (size_t)snprintf((char *)buf + len, cap - len, "%.*s\n",
						(int)o->event_bytes, v);
		}
		if (len >= cap)
			return -EMSGSIZE;
	}
	return (int)len;
}

/* pcap, DLT_EN10MB, microsecond timestamps. */
static void pcap_header(FILE *f)
{
	uint32_t g[6] = {0xa1b2c3d4u, 0x00040002u, 0, 0, 65535, 1};

	fwrite(g, sizeof(g), 1, f);
}

static void pcap_packet(FILE *f, const uint8_t *frame, uint32_t len, uint64_t ns)
{
	uint32_t h[4] = {(uint32_t)(ns / 1000000000ull), (uint32_t)(ns / 1000 % 1000000), len, len};

	fwrite(h, sizeof(h), 1, f);
	fwrite(frame, len, 1, f);
}

int main(int argc, char **argv)
{
	struct opts o = {.fmt = F_NATIVE,
			 .event_bytes = 64,
			 .epd = 16,
			 .producers = 1,
			 .dst_port = 7000,
			 .dst_ip = "198.18.0.1",
			 .mtu = 1500,
			 .queues = 1,
			 .linger_ms = 1000,
			 .cpu = -1,
			 .dst_mac = {0x02, 0, 0, 0, 0, 1}};
	bool epd_set = false;

	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;

		if (!strcmp(a, "--no-producer")) {
			o.no_producer = true;
			continue;
		}
		if (!strcmp(a, "--no-send-time")) {
			o.no_send_time = true;
			continue;
		}
		if (!v) {
			usage();
			return 2;
		}
		i++;
		if (!strcmp(a, "--format")) {
			if (!strcmp(v, "native"))
				o.fmt = F_NATIVE;
			else if (!strcmp(v, "syslog"))
				o.fmt = F_SYSLOG;
			else if (!strcmp(v, "lines"))
				o.fmt = F_LINES;
			else {
				fprintf(stderr,
					"rxlog-gen: --format %s: must be native, syslog or lines\n",
					v);
				return 2;
			}
		} else if (!strcmp(a, "--out"))
			o.out = v;
		else if (!strcmp(a, "--udp"))
			o.udp = v;
		else if (!strcmp(a, "--port"))
			o.port = v;
		else if (!strcmp(a, "--queues"))
			o.queues = (uint16_t)strtoul(v, NULL, 10);
		else if (!strcmp(a, "--gap-every"))
			o.gap_every = (uint32_t)strtoul(v, NULL, 10);
		else if (!strcmp(a, "--duplicate-every"))
			o.dup_every = (uint32_t)strtoul(v, NULL, 10);
		else if (!strcmp(a, "--epoch"))
			o.epoch = (uint32_t)strtoul(v, NULL, 10);
		else if (!strcmp(a, "--linger-ms"))
			o.linger_ms = (uint32_t)strtoul(v, NULL, 10);
		else if (!strcmp(a, "--cpu"))
			o.cpu = atoi(v);
		else if (!strcmp(a, "--dst-mac")) {
			unsigned m[6];

			if (sscanf(v, "%x:%x:%x:%x:%x:%x", &m[0], &m[1], &m[2], &m[3], &m[4],
				   &m[5]) != 6) {
				fprintf(stderr,
					"rxlog-gen: --dst-mac %s: expected aa:bb:cc:dd:ee:ff\n", v);
				return 2;
			}
			for (int k = 0; k < 6; k++)
				o.dst_mac[k] = (uint8_t)m[k];
		} else if (!strcmp(a, "--count"))
			o.count = strtoull(v, NULL, 10);
		else if (!strcmp(a, "--duration"))
			o.duration = atof(v);
		else if (!strcmp(a, "--event-bytes"))
			o.event_bytes = (uint32_t)strtoul(v, NULL, 10);
		else if (!strcmp(a, "--events-per-datagram")) {
			o.epd = (uint32_t)strtoul(v, NULL, 10);
			epd_set = true;
		} else if (!strcmp(a, "--producers"))
			o.producers = (uint32_t)strtoul(v, NULL, 10);
		else if (!strcmp(a, "--rate"))
			o.rate = atof(v);
		else if (!strcmp(a, "--dst"))
			snprintf(o.dst_ip, sizeof(o.dst_ip), "%s", v);
		else if (!strcmp(a, "--dst-port"))
			o.dst_port = (uint16_t)strtoul(v, NULL, 10);
		else if (!strcmp(a, "--mtu"))
			o.mtu = (uint32_t)strtoul(v, NULL, 10);
		else {
			usage();
			return 2;
		}
	}
	if (o.fmt == F_SYSLOG && !epd_set)
		o.epd = 1;
	if (!!o.out + !!o.udp + !!o.port != 1 || (!o.count && o.duration <= 0) || !o.producers ||
	    !o.queues || o.producers > 60000 || !o.epd || o.epd > MAX_EPD || !o.event_bytes ||
	    o.event_bytes > 2000 || (o.fmt == F_SYSLOG && o.epd != 1)) {
		fprintf(stderr, "rxlog-gen: need exactly one of --out/--udp/--port, a --count or "
				"--duration, "
				"1..N queues, "
				"1..60000 producers, 1..1024 events per datagram (syslog: 1), "
				"1..2000 event bytes\n");
		usage();
		return 2;
	}
	if (o.dup_every && o.port) {
		fprintf(stderr, "rxlog-gen: --duplicate-every works with --out and --udp only\n");
		return 2;
	}
	if (o.epoch > INT32_MAX) {
		fprintf(stderr, "rxlog-gen: --epoch %u: at most %d\n", o.epoch, INT32_MAX);
		return 2;
	}
	static uint8_t frame[MAX_DGRAM + 128];
	uint64_t *seq = calloc(o.producers, sizeof(uint64_t));
	FILE *pcap = NULL;
	int fd = -1;
	struct sockaddr_storage to;
	socklen_t tolen = 0;
	struct rxl_l2l4_udp_spec spec = {
		.eth_src = {0x02, 0, 0, 0, 0, 2},
		.dst_port = o.dst_port,
	};
	struct gen_port *gp = NULL;

	memcpy(spec.eth_dst, o.dst_mac, 6);
	if (o.port) {
		int e = gen_port_open(argv[0], o.port, o.queues, o.cpu, &gp, spec.eth_src);

		if (e) {
			fprintf(stderr, "rxlog-gen: --port %s: %s\n", o.port, gen_port_error());
			return 1;
		}
	}
	if (o.out || o.port) {
		if (o.out) {
			pcap = fopen(o.out, "wb");
			if (!pcap) {
				fprintf(stderr, "rxlog-gen: %s: %s\n", o.out, strerror(errno));
				return 1;
			}
			pcap_header(pcap);
		}
		spec.dst.family = RXL_AF_IPV4;
		if (inet_pton(AF_INET, o.dst_ip, spec.dst.b) != 1) {
			fprintf(stderr, "rxlog-gen: --dst %s: not an IPv4 address\n", o.dst_ip);
			return 2;
		}
	} else {
		char host[256];
		const char *colon = strrchr(o.udp, ':');
		struct addrinfo hints = {.ai_socktype = SOCK_DGRAM}, *ai;

		if (!colon || (size_t)(colon - o.udp) >= sizeof(host)) {
			fprintf(stderr, "rxlog-gen: --udp %s: expected HOST:PORT\n", o.udp);
			return 2;
		}
		memcpy(host, o.udp, (size_t)(colon - o.udp));
		host[colon - o.udp] = '\0';
		if (getaddrinfo(host, colon + 1, &hints, &ai)) {
			fprintf(stderr, "rxlog-gen: --udp %s: cannot resolve\n", o.udp);
			return 2;
		}
		memcpy(&to, ai->ai_addr, ai->ai_addrlen);
		tolen = ai->ai_addrlen;
		fd = socket(ai->ai_family, SOCK_DGRAM, 0);
		freeaddrinfo(ai);
		int sz = 8 << 20;

		setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sz, sizeof(sz));
	}
	uint64_t events = 0, datagrams = 0, bytes = 0, errors = 0, built = 0, skipped = 0;
	uint64_t dup_events = 0, dup_datagrams = 0;
	uint64_t start = now_ns(), t_ns = start;
	uint32_t p = 0;
	uint32_t max_payload = o.udp ? MAX_DGRAM : o.mtu - 28;

	while ((!o.count || events < o.count) &&
	       (o.duration <= 0 || (double)(now_ns() - start) / 1e9 < o.duration)) {
		uint32_t k = o.epd;

		if (o.count && o.count - events < k)
			k = (uint32_t)(o.count - events);
		/* --gap-every: upstream loss, simulated. The sequences are used
		 * up but nothing is sent, so the receiver sees a gap; never in
		 * the last round of datagrams, where no later one would reveal it. */
		if (o.gap_every && ++built % o.gap_every == 0 &&
		    (!o.count || o.count - events > (uint64_t)o.epd * o.producers)) {
			seq[p] += k;
			skipped += k;
			p = (p + 1) % o.producers;
			continue;
		}
		int len = build(&o, p, seq[p], k, frame + 64, max_payload);

		if (len < 0) {
			fprintf(stderr,
				"rxlog-gen: a datagram of %u events of %u bytes does not fit "
				"(%s); lower --events-per-datagram or --event-bytes\n",
				k, o.event_bytes, strerror(-len));
			return 2;
		}
		/* --duplicate-every: this datagram goes out twice. */
		const bool dup = o.dup_every && (datagrams + 1) % o.dup_every == 0;

		if (!o.udp) {
			spec.src.family = RXL_AF_IPV4;
			spec.src.b[0] = 198;
			spec.src.b[1] = (uint8_t)(18 + p / 200 / 256); /* 198.18.0.0/15 */
			spec.src.b[2] = (uint8_t)(p / 200 % 256);
			spec.src.b[3] = (uint8_t)(10 + p % 200);
			/* Ports scattered, not consecutive: with address and
			 * port both stepping by one, Toeplitz (RSS) hashes are
			 * linear enough that every flow lands on one queue. */
			spec.src_port = (uint16_t)(40000 + (uint64_t)p * 7919 % 20000);
			int fl = rxl_l2l4_build_udp(frame, sizeof(frame), &spec, frame + 64,
						    (size_t)len);

			if (fl < 0) {
				fprintf(stderr, "rxlog-gen: building a frame: %s\n", strerror(-fl));
				return 1;
			}
			if (pcap) {
				t_ns += 1000;
				pcap_packet(pcap, frame, (uint32_t)fl, t_ns);
				if (dup) {
					t_ns += 1000;
					pcap_packet(pcap, frame, (uint32_t)fl, t_ns);
					dup_events += k;
					dup_datagrams++;
				}
			} else {
				int e = gen_port_send(gp, frame, (uint32_t)fl, k, spec.src.b,
						      spec.dst.b, spec.src_port, spec.dst_port);

				if (e == -ENOBUFS) /* mbufs still on their way out */
					continue;
				if (e == -ETIMEDOUT) {
					/* Counted below with what never left. */
					fprintf(stderr,
						"rxlog-gen: the port stopped taking frames\n");
					seq[p] += k, events += k, datagrams++,
						bytes += (uint64_t)len;
					break;
				}
			}
		} else if (sendto(fd, frame + 64, (size_t)len, 0, (struct sockaddr *)&to, tolen) <
			   0) {
			errors++;
			continue;
		} else if (dup) {
			if (sendto(fd, frame + 64, (size_t)len, 0, (struct sockaddr *)&to, tolen) <
			    0)
				errors++;
			else
				dup_events += k, dup_datagrams++;
		}
		seq[p] += k;
		events += k;
		datagrams++;
		bytes += (uint64_t)len;
		p = (p + 1) % o.producers;
		if (o.rate > 0) {
			double due = (double)events / o.rate;

			double ahead = due - (double)(now_ns() - start) / 1e9;

			/* Sleep when well ahead (so a rate-limited generator
			 * leaves its CPU to a receiver), spin the rest. */
			if (ahead > 200e-6) {
				if (gp && gen_port_flush(gp))
					break;
				struct timespec ts = {0, (long)((ahead - 100e-6) * 1e9)};

				nanosleep(&ts, NULL);
			}
			while ((double)(now_ns() - start) / 1e9 < due)
				;
		}
	}
	uint64_t tx_retries = 0;
	struct gen_port_result r = {0};
	double el = (double)(now_ns() - start) / 1e9;

	if (gp) {
		/* G1: what never left is not "sent". */
		r = gen_port_finish(gp);

		events -= r.unsent_events;
		datagrams -= r.unsent_frames;
		errors += r.unsent_frames;
		tx_retries = r.tx_retries;
	}

	if (pcap && fclose(pcap)) {
		fprintf(stderr, "rxlog-gen: %s: %s\n", o.out, strerror(errno));
		return 1;
	}
	printf("{\"format\":\"%s\",\"datagrams\":%" PRIu64 ",\"events\":%" PRIu64
	       ",\"payload_bytes\":%" PRIu64 ",\"send_errors\":%" PRIu64 ",\"tx_retries\":%" PRIu64
	       ",\"skipped_events\":%" PRIu64 ",\"duplicate_datagrams\":%" PRIu64
	       ",\"duplicate_events\":%" PRIu64
	       ",\"producers\":%u,\"elapsed_s\":%.3f,\"events_per_s\":%.0f",
	       o.fmt == F_NATIVE   ? "native"
	       : o.fmt == F_SYSLOG ? "syslog"
				   : "lines",
	       datagrams, events, bytes, errors, tx_retries, skipped, dup_datagrams, dup_events,
	       o.producers, el, el > 0 ? (double)events / el : 0.0);
	if (r.queues) { /* frames per tx queue: how the producers spread */
		printf(",\"tx_queues\":[");
		for (uint16_t q = 0; q < r.queues; q++)
			printf("%s%" PRIu64, q ? "," : "", r.frames[q]);
		printf("]");
	}
	printf("}\n");
	fflush(stdout);
	if (gp)
		gen_port_close(gp, o.linger_ms);
	free(seq);
	return errors ? 1 : 0;
}
