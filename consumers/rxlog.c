/* consumers: the rxlog command-line tool — dispatch, usage, verify and dump
 * (the other commands are in cli_*.c). Main thread only.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli_pvt.h"
#include "rxl_err.h"
#include "rxl_format.h"
#include "rxl_log.h"

static void usage(FILE *f)
{
	fprintf(f,
		"usage: rxlog COMMAND [OPTIONS]\n"
		"\n"
		"commands (rxlog COMMAND --help says more, including each output's layout):\n"
		"  topics [--per-partition]\n"
		"      topics, partitions, offsets, bytes on disk, time range.\n"
		"  cat --topic T [--partition P] [--from-offset N | --from-time TIME |\n"
		"      --from earliest|latest] [--count N] [--follow] [--format value|json]\n"
		"      [--base64]\n"
		"      print records.\n"
		"  produce --topic T [--partition P] [--key K | --key-separator SEP]\n"
		"      [--partitions N] [--timestamp-ms MS] [--header NAME=VALUE]\n"
		"      append one record per line of stdin (Kafka's partitioner for keys).\n"
		"  groups [--group G] [--topic T] [--members]\n"
		"      consumer groups: committed offsets, lag, leases, live members.\n"
		"  groups reset --group G --topic T [--partition P] --to-offset N |\n"
		"      --to-time TIME | --to-earliest | --to-latest\n"
		"      move a stopped group's committed offsets.\n"
		"  consume --group G --topic T [--max-attempts N] [--backoff-ms MS] -- COMMAND...\n"
		"      run COMMAND once per record (value on stdin): exit 0 acks, 65\n"
		"      dead-letters, anything else retries; at-least-once.\n"
		"  dlq list|show|redrive --group G --topic T\n"
		"      the group's dead-letter topic T.dlq.G: counts, records, send them back.\n"
		"  verify [--repair] [--data DIR] [PARTITION...]\n"
		"      check every batch's CRC and every index; with --repair cut each partition\n"
		"      at its first invalid batch. PARTITION is a folder name like telemetry-3;\n"
		"      default: every partition under the data directory.\n"
		"  dump [--records] SEGMENT.log\n"
		"      print a segment batch by batch (like kafka-dump-log); --records adds\n"
		"      every record.\n"
		"\n"
		"Every command but dump takes --data DIR (default $RXLOG_DATA). Exit status:\n"
		"0 ok, 1 a problem was found or an operation failed, 2 bad usage.\n");
}

static bool is_partition(const char *data, const char *name)
{
	char p[4096];
	struct stat sb;
	const char *dash = strrchr(name, '-');

	if (!dash || dash == name || !dash[1] || strspn(dash + 1, "0123456789") != strlen(dash + 1))
		return false;
	snprintf(p, sizeof(p), "%s/%s/state", data, name);
	return stat(p, &sb) == 0;
}

static int verify_one(const char *data, const char *name, bool repair)
{
	char dir[4096];
	struct rxl_recovery_report rep;

	snprintf(dir, sizeof(dir), "%s/%s", data, name);
	int err = rxl_log_verify(dir, repair, &rep);

	if (err && !rep.corrupt && !rep.indexes_rebuilt) {
		fprintf(stderr, "rxlog verify: %s\n", rxl_err_msg());
		return 1;
	}
	printf("%s: %" PRIu64 " segment(s), %" PRIu64 " batches, offsets [%" PRIu64 ", %" PRIu64
	       ")",
	       name, rep.segments, rep.batches_scanned, rep.log_start, rep.end_offset);
	if (rep.corrupt)
		printf(", invalid batch in segment %020" PRIu64 " at byte %" PRIu64
		       " (offset %" PRIu64 ")%s",
		       rep.corrupt_segment, rep.corrupt_position, rep.corrupt_offset,
		       repair ? ": cut there" : "");
	if (rep.indexes_rebuilt)
		printf(", %" PRIu64 " inconsistent index(es)%s", rep.indexes_rebuilt,
		       repair ? " rebuilt" : "");
	if (repair && rep.segments_removed)
		printf(", %" PRIu64 " later segment(s) removed", rep.segments_removed);
	printf("%s\n", err ? "" : rep.corrupt || rep.indexes_rebuilt ? "" : ": ok");
	if (err) {
		fprintf(stderr, "rxlog verify: %s\n", rxl_err_msg());
		return 1;
	}
	return 0;
}

static int cmd_verify(int argc, char **argv)
{
	const char *data = NULL;
	bool repair = false;
	int first = argc, rc = 0, n = 0;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--repair"))
			repair = true;
		else if (!strcmp(argv[i], "--data") && i + 1 < argc)
			data = argv[++i];
		else if (!strcmp(argv[i], "--help")) {
			usage(stdout);
			return 0;
		} else if (argv[i][0] == '-') {
			fprintf(stderr, "rxlog verify: unknown option %s (see rxlog --help)\n",
				argv[i]);
			return 2;
		} else {
			first = i;
			break;
		}
	}
	data = cli_data_dir("verify", data);
	if (!data)
		return CLI_USAGE;
	if (first < argc) {
		for (int i = first; i < argc; i++, n++) {
			if (!is_partition(data, argv[i])) {
				fprintf(stderr,
					"rxlog verify: %s/%s is not a partition (expected a folder "
					"<topic>-<partition> with a state file)\n",
					data, argv[i]);
				rc = 1;
				continue;
			}
			rc |= verify_one(data, argv[i], repair);
		}
		return rc;
	}
	DIR *d = opendir(data);

	if (!d) {
		fprintf(stderr, "rxlog verify: data directory %s: %s\n", data, strerror(errno));
		return 1;
	}
	for (struct dirent *e; (e = readdir(d));) {
		if (e->d_name[0] == '.' || !is_partition(data, e->d_name))
			continue;
		rc |= verify_one(data, e->d_name, repair);
		n++;
	}
	closedir(d);
	if (n == 0)
		printf("%s: no partitions\n", data);
	return rc;
}

static void print_bytes(const char *label, const uint8_t *p, int32_t len)
{
	printf(" %s: ", label);
	if (len < 0) {
		printf("null");
		return;
	}
	for (int32_t i = 0; i < len; i++) {
		uint8_t c = p[i];

		if (c >= 0x20 && c < 0x7f && c != '\\')
			putchar(c);
		else
			printf("\\x%02x", c);
	}
}

static int cmd_dump(int argc, char **argv)
{
	bool records = false;
	const char *path = NULL;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--records") || !strcmp(argv[i], "--print-data-log"))
			records = true;
		else if (!strcmp(argv[i], "--help")) {
			usage(stdout);
			return 0;
		} else if (argv[i][0] == '-') {
			fprintf(stderr, "rxlog dump: unknown option %s (see rxlog --help)\n",
				argv[i]);
			return 2;
		} else
			path = argv[i];
	}
	if (!path) {
		fprintf(stderr, "rxlog dump: name a segment file, e.g. "
				"data/t-0/00000000000000000000.log\n");
		return 2;
	}
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	struct stat sb;

	if (fd < 0 || fstat(fd, &sb) < 0) {
		fprintf(stderr, "rxlog dump: %s: %s\n", path, strerror(errno));
		return 1;
	}
	size_t size = (size_t)sb.st_size;
	uint8_t *m = size ? mmap(NULL, size, PROT_READ, MAP_SHARED, fd, 0) : NULL;

	close(fd);
	if (m == MAP_FAILED) {
		fprintf(stderr, "rxlog dump: %s: mmap: %s\n", path, strerror(errno));
		return 1;
	}
	printf("Dumping %s\n", path);
	size_t pos = 0;
	int rc = 0;

	while (pos < size) {
		struct rxl_batch_hdr h;
		enum rxl_batch_fault why;
		uint32_t len =
			rxl_batch_check(m + pos, size - pos, UINT64_MAX, UINT32_MAX, &h, &why);

		if (!len) {
			bool zeros = true;

			for (size_t i = pos; i < size && zeros; i++)
				zeros = m[i] == 0;
			if (zeros) {
				printf("%zu zero bytes of preallocation at position %zu\n",
				       size - pos, pos);
			} else {
				printf("invalid batch at position %zu: %s\n", pos,
				       rxl_batch_fault_str(why));
				rc = 1;
			}
			break;
		}
		printf("baseOffset: %" PRIu64 " lastOffset: %" PRIu64 " count: %" PRId32
		       " baseSequence: %" PRId32 " producerId: %" PRId64 " producerEpoch: %d"
		       " partitionLeaderEpoch: %" PRId32 " isTransactional: false isControl: false"
		       " position: %zu CreateTime: %" PRId64 " size: %" PRIu32
		       " magic: 2 compresscodec: none crc: %" PRIu32 " isvalid: true\n",
		       h.base_offset, h.base_offset + (uint64_t)h.last_offset_delta, h.count,
		       h.base_sequence, h.producer_id, h.producer_epoch, h.leader_epoch, pos,
		       h.max_timestamp, len, h.crc);
		if (records) {
			const uint8_t *p = m + pos + RXL_BATCH_HDR_LEN, *end = m + pos + len;

			for (int32_t i = 0; i < h.count; i++) {
				struct rxl_record r;

				if (rxl_record_decode(&p, end, &h, &r)) {
					printf("| malformed record %" PRId32 "\n", i);
					rc = 1;
					break;
				}
				printf("| offset: %" PRIu64 " CreateTime: %" PRId64
				       " keySize: %" PRId32 " valueSize: %" PRId32
				       " sequence: %" PRId32 " headers: %" PRIu32,
				       r.offset, r.timestamp_ms, r.key_len, r.value_len, r.sequence,
				       r.n_headers);
				print_bytes("key", r.key, r.key_len);
				print_bytes("payload", r.value, r.value_len);
				putchar('\n');
			}
		}
		pos += len;
	}
	if (m)
		munmap(m, size);
	return rc;
}

static const struct {
	const char *name;
	int (*run)(int argc, char **argv);
} commands[] = {
	{"topics", cli_topics}, {"cat", cli_cat},	  {"produce", cli_produce},
	{"groups", cli_groups}, {"consume", cli_consume}, {"dlq", cli_dlq},
	{"verify", cmd_verify}, {"dump", cmd_dump},
};

int main(int argc, char **argv)
{
	if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") ||
	    !strcmp(argv[1], "help")) {
		usage(argc < 2 ? stderr : stdout);
		return argc < 2 ? 2 : 0;
	}
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (!strcmp(argv[1], commands[i].name))
			return commands[i].run(argc - 1, argv + 1);
	fprintf(stderr,
		"rxlog: unknown command \"%s\" (commands: topics, cat, produce, groups, consume, "
		"dlq, verify, dump; see rxlog --help)\n",
		argv[1]);
	return 2;
}
