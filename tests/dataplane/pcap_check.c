/* tests: read a capture written by rxlog-gen back through the real parsers
 * (L2-L4, then the payload format, then native's dedupe window) and check
 * what the generator said it sent.
 * Usage: pcap_check FILE.pcap FORMAT EXPECTED_EVENTS EXPECTED_DATAGRAMS
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rxl_formats.h"
#include "rxl_l2l4.h"

int main(int argc, char **argv)
{
	if (argc != 5) {
		fprintf(stderr, "usage: pcap_check FILE FORMAT EVENTS DATAGRAMS\n");
		return 2;
	}
	FILE *f = fopen(argv[1], "rb");
	struct rxl_fmt_config cfg = {.max_event_bytes = 65000};
	uint32_t gh[6], ph[4];
	static uint8_t frame[70000];
	static struct rxl_event ev[1024];
	static _Alignas(64) uint8_t dmem[1 << 20];
	struct rxl_dedupe_window win;
	struct rxl_fmt_counters cnt = {0};
	uint64_t events = 0, datagrams = 0, dups = 0, gaps = 0, timed = 0;

	if (!f || fread(gh, sizeof(gh), 1, f) != 1 || gh[0] != 0xa1b2c3d4u || gh[5] != 1 ||
	    rxl_fmt_kind_from_name(argv[2], &cfg.kind) ||
	    rxl_dedupe_init(&win, dmem, rxl_dedupe_mem_size(1024), 1024)) {
		fprintf(stderr, "pcap_check: bad capture, format or window\n");
		return 1;
	}
	while (fread(ph, sizeof(ph), 1, f) == 1) {
		struct rxl_l2l4_pkt pkt;

		if (ph[2] > sizeof(frame) || fread(frame, ph[2], 1, f) != 1)
			return fprintf(stderr, "pcap_check: truncated record\n"), 1;
		enum rxl_l2l4_result r = rxl_l2l4_parse(
			frame, ph[2], RXL_L2L4_VERIFY_IPV4_CSUM | RXL_L2L4_VERIFY_UDP_CSUM, &pkt);

		if (r != RXL_L2L4_ACCEPT_UDP)
			return fprintf(stderr, "pcap_check: frame %llu: %s\n",
				       (unsigned long long)datagrams, rxl_l2l4_drop_name(r)),
			       1;
		struct rxl_fmt_in in = {
			.data = pkt.payload, .len = pkt.payload_len, .recv_ms = 1, .src_family = 4};
		uint32_t pos = 0;

		memcpy(in.src_addr, pkt.src.b, 4);
		while (pos < in.len) {
			int n = rxl_fmt_parse(&cfg, &in, &pos, ev, 1024, &cnt);

			if (n < 0)
				return fprintf(stderr, "pcap_check: datagram %llu: %s\n",
					       (unsigned long long)datagrams,
					       rxl_fmt_drop_name((enum rxl_fmt_reason) - n)),
				       1;
			if (cfg.kind == RXL_FMT_NATIVE) {
				uint32_t k = (uint32_t)n;
				struct rxl_seq_result res;

				rxl_native_check_seq(&win, ev, &k, &res);
				dups += res.duplicates;
				gaps += res.gap;
				n = (int)k;
			}
			events += (uint64_t)n;
			for (int e = 0; e < n; e++)
				for (uint16_t h = 0; h < ev[e].n_headers; h++)
					timed += ev[e].headers[h].key_len == 7 &&
						 !memcmp(ev[e].headers[h].key, "send_ns", 7);
			if (cfg.kind != RXL_FMT_LINES)
				break;
		}
		datagrams++;
	}
	fclose(f);
	if (events != strtoull(argv[3], NULL, 10) || datagrams != strtoull(argv[4], NULL, 10) ||
	    dups || gaps) {
		fprintf(stderr,
			"pcap_check: %llu events in %llu datagrams (want %s in %s), %llu "
			"duplicates, %llu gaps\n",
			(unsigned long long)events, (unsigned long long)datagrams, argv[3], argv[4],
			(unsigned long long)dups, (unsigned long long)gaps);
		return 1;
	}
	printf("%llu events in %llu datagrams, contiguous per producer; %llu with a send time\n",
	       (unsigned long long)events, (unsigned long long)datagrams,
	       (unsigned long long)timed);
	return 0;
}
