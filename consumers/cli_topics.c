/* consumers: `rxlog topics` — every topic with its partitions, offsets, bytes
 * on disk and the timestamps of its first and last records.
 * Main thread only.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli_pvt.h"
#include "rxl_err.h"

/* Column layout (also in the usage): fields separated by at least one space. */
#define HDR_FMT "%-24s %10s %12s %12s %12s %14s %-24s %s\n"
#define ROW_FMT \
	"%-24s %10" PRIu32 " %12" PRIu64 " %12" PRIu64 " %12" PRIu64 " %14" PRIu64 " %-24s %s\n"

/* clang-format off: the usage text is laid out as printed */
static void usage(FILE *f)
{
	fprintf(f, "usage: rxlog topics [--per-partition] [--data DIR]\n"
		   "\n"
		   "List the topics of the data directory, sorted by name: a header line, then\n"
		   "one line per topic (or, with --per-partition, per partition) with these\n"
		   "fields, separated by spaces (left-aligned text, right-aligned numbers):\n"
		   "\n"
		   "  TOPIC       the topic's name\n"
		   "  PARTITIONS  how many partitions it has (PARTITION with --per-partition:\n"
		   "              the partition's number)\n"
		   "  START       log start: the first offset kept (per topic: the sum)\n"
		   "  END         end offset, the high-water mark: the offset the next record\n"
		   "              gets (per topic: the sum)\n"
		   "  RECORDS     END - START\n"
		   "  BYTES       bytes of the segment files (.log) on disk, including a\n"
		   "              running writer's preallocated tail\n"
		   "  FIRST       timestamp of the first record kept, ISO-8601 UTC with\n"
		   "              milliseconds (per topic: the earliest of the partitions)\n"
		   "  LAST        timestamp of the last record (per topic: the latest)\n"
		   "\n"
		   "FIRST and LAST are \"-\" when there are no records. Topics are folders\n"
		   "<topic>-<N> holding a state file; folders starting with \"__\" are rxlog's\n"
		   "own. Exit status: 0 ok, 1 the data directory or a partition cannot be\n"
		   "read, 2 bad usage.\n");
}
/* clang-format on */

struct part_info {
	uint64_t start, end, bytes;
	int64_t first, last; /* valid when end > start */
};

/* Sum of the sizes of a partition folder's NNNNNNNNNNNNNNNNNNNN.log files. */
static uint64_t log_bytes(const char *dir)
{
	DIR *d = opendir(dir);
	uint64_t sum = 0;

	if (!d)
		return 0;
	for (struct dirent *e; (e = readdir(d));) {
		struct stat sb;
		size_t l = strlen(e->d_name);

		if (l != 24 || strcmp(e->d_name + 20, ".log") ||
		    strspn(e->d_name, "0123456789") != 20)
			continue;
		if (fstatat(dirfd(d), e->d_name, &sb, 0) == 0)
			sum += (uint64_t)sb.st_size;
	}
	closedir(d);
	return sum;
}

/* Timestamp of the record at @off. Returns: 0 or -errno. */
static int ts_at(struct rxl_reader *r, uint64_t off, int64_t *ts)
{
	struct rxl_record rec;
	int err = rxl_reader_seek(r, off);

	if (err)
		return err;
	err = rxl_reader_next(r, &rec);
	if (err == 1) {
		*ts = rec.timestamp_ms;
		return 0;
	}
	return err ? err : rxl_err_set(-ENODATA, "offset %" PRIu64 " vanished", off);
}

static int part_info(struct rxlog *rx, const char *topic, uint32_t p, struct part_info *pi)
{
	char dir[4096];
	struct rxl_reader *r;
	struct rxl_log_offsets o;
	int err = rxlog_reader_open(rx, topic, p, &r);

	memset(pi, 0, sizeof(*pi));
	if (err == -ENOENT) {
		rxl_err_clear();
		return 0; /* a sparse topic (dead letters): this partition never got a record */
	}
	if (err)
		return err;
	rxl_reader_offsets(r, &o);
	pi->start = o.log_start;
	pi->end = o.hwm;
	if (pi->end > pi->start) {
		err = ts_at(r, pi->start, &pi->first);
		if (!err)
			err = ts_at(r, pi->end - 1, &pi->last);
	}
	rxl_reader_close(r);
	if (rxl_log_path(dir, sizeof(dir), rxlog_dir(rx), topic, p) == 0)
		pi->bytes = log_bytes(dir);
	return err;
}

static void print_row(const char *topic, uint32_t second, const struct part_info *pi)
{
	char first[CLI_TIME_LEN] = "-", last[CLI_TIME_LEN] = "-";

	if (pi->end > pi->start) {
		cli_fmt_time(pi->first, first);
		cli_fmt_time(pi->last, last);
	}
	printf(ROW_FMT, topic, second, pi->start, pi->end, pi->end - pi->start, pi->bytes, first,
	       last);
}

int cli_topics(int argc, char **argv)
{
	static const struct option opts[] = {
		{"per-partition", no_argument, NULL, 'p'},
		CLI_OPTIONS_SHARED,
		{0},
	};
	const char *cmd = "topics", *data = NULL;
	bool per_part = false;
	struct rxlog *rx;
	struct rxlog_topic *v;
	size_t n;
	int c, rc;

	while ((c = getopt_long(argc, argv, ":pd:h", opts, NULL)) != -1) {
		switch (c) {
		case 'p':
			per_part = true;
			break;
		default:
			if ((rc = cli_opt_shared(cmd, c, argv, usage, &data)) != CLI_OPT_NEXT)
				return rc;
		}
	}
	if (cli_no_operands(cmd, argc, argv, NULL))
		return CLI_USAGE;
	rc = cli_open(cmd, data, &rx);
	if (rc)
		return rc;
	if (rxlog_topics(rx, &v, &n)) {
		cli_err(cmd, "%s", rxl_err_msg());
		rxlog_close(rx);
		return CLI_FAIL;
	}
	printf(HDR_FMT, "TOPIC", per_part ? "PARTITION" : "PARTITIONS", "START", "END", "RECORDS",
	       "BYTES", "FIRST", "LAST");
	for (size_t i = 0; i < n; i++) {
		struct part_info sum = {0}, pi;
		bool any = false;

		for (uint32_t p = 0; p < v[i].partitions; p++) {
			if (part_info(rx, v[i].name, p, &pi)) {
				cli_err(cmd, "%s-%" PRIu32 ": %s", v[i].name, p, rxl_err_msg());
				rc = CLI_FAIL;
			}
			if (per_part) {
				print_row(v[i].name, p, &pi);
				continue;
			}
			if (pi.end > pi.start) {
				sum.first = !any || pi.first < sum.first ? pi.first : sum.first;
				sum.last = !any || pi.last > sum.last ? pi.last : sum.last;
				any = true;
			}
			sum.start += pi.start;
			sum.end += pi.end;
			sum.bytes += pi.bytes;
		}
		if (!per_part)
			print_row(v[i].name, v[i].partitions, &sum);
	}
	free(v);
	rxlog_close(rx);
	return rc;
}
