/* consumers: `rxlog groups` — consumer groups with their committed offsets,
 * lag, leases and live members; `rxlog groups reset` moves committed offsets.
 * Main thread only.
 *
 * The tool reads a group's folder <data>/__groups/<group>/ (docs/CONSUMERS.md)
 * and joins nothing. Liveness is the kernel's: a members/<id> or
 * <topic>-<p>.lease file whose flock someone holds (cli_lock_held()).
 * R1 reset refuses while the group has live members: a member keeps its
 *    position in memory and would overwrite the reset at its next commit.
 *    A member that joins between the check and the write is not stopped
 *    (no coordinator to ask); run reset with the group's members stopped.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli_pvt.h"
#include "rxl_err.h"

#define LIST_HDR "%-24s %-24s %9s %12s %12s %12s %-5s %7s\n"
#define LIST_ROW "%-24s %-24s %9s %12s %12s %12s %-5s %7d\n"
#define RESET_HDR "%-24s %-24s %9s %12s %12s\n"

/* clang-format off: the usage text is laid out as printed */
static void usage(FILE *f)
{
	fprintf(f, "usage: rxlog groups [--group G] [--topic T] [--members] [--data DIR]\n"
		   "       rxlog groups reset --group G --topic T [--partition P]\n"
		   "                    (--to-offset N | --to-time TIME | --to-earliest | "
		   "--to-latest)\n"
		   "                    [--dry-run] [--data DIR]\n"
		   "\n"
		   "List consumer groups (folders under DIR/__groups), sorted by group, topic\n"
		   "and partition: a header line, then one line per partition of every topic\n"
		   "the group has committed or leased, fields separated by spaces:\n"
		   "  GROUP      the group\n"
		   "  TOPIC      the topic\n"
		   "  PARTITION  the partition\n"
		   "  COMMITTED  committed offset: the next record the group processes (\"-\":\n"
		   "             none yet, \"damaged\": the offset file fails its CRC)\n"
		   "  END        the partition's end offset (high-water mark; \"-\" when the\n"
		   "             topic is gone)\n"
		   "  LAG        END - COMMITTED (\"-\" when either is unknown)\n"
		   "  LEASE      held (a live member owns the partition) or free\n"
		   "  MEMBERS    live members of the group (member files whose flock is held)\n"
		   "--members lists members instead: GROUP MEMBER STATE (live or dead; a dead\n"
		   "member's file is removed by the group's next live member).\n"
		   "\n"
		   "reset stores new committed offsets for group G on topic T (every partition,\n"
		   "or only P): --to-offset N (within each partition's [log start, end]),\n"
		   "--to-time TIME (the first record with timestamp >= TIME, ISO-8601 or ms\n"
		   "since the epoch; the end when there is none), --to-earliest (the log start),\n"
		   "--to-latest (the end). It refuses while G has live members (they would\n"
		   "overwrite it); stop them first. Prints GROUP TOPIC PARTITION OLD NEW per\n"
		   "partition; --dry-run prints without writing.\n"
		   "\n"
		   "Exit status: 0 ok, 1 failed (unknown topic, live members, out of range),\n"
		   "2 bad usage.\n");
}
/* clang-format on */

struct gtopic {
	char name[256];
	uint32_t max_seen; /* partitions named in the folder: max + 1 */
};

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int cmp_gtopic(const void *a, const void *b)
{
	return strcmp(((const struct gtopic *)a)->name, ((const struct gtopic *)b)->name);
}

/* "<topic>-<N><suffix>" → topic and N. */
static bool split_name(const char *name, const char *suffix, char *topic, size_t tlen, uint32_t *p)
{
	size_t l = strlen(name), sl = strlen(suffix);

	if (l <= sl || strcmp(name + l - sl, suffix))
		return false;
	const char *end = name + l - sl, *dash = end;

	while (dash > name && dash[-1] >= '0' && dash[-1] <= '9')
		dash--;
	if (dash == end || end - dash > 9 || dash - 1 <= name || dash[-1] != '-' ||
	    (size_t)(dash - 1 - name) >= tlen)
		return false;
	memcpy(topic, name, (size_t)(dash - 1 - name));
	topic[dash - 1 - name] = '\0';
	*p = (uint32_t)strtoul(dash, NULL, 10);
	return true;
}

/* Sorted names of the entries of @dir (no dot files). Returns: count or -errno. */
static int list_dir(const char *dir, char ***out)
{
	DIR *d = opendir(dir);
	char **v = NULL;
	size_t n = 0, cap = 0;

	*out = NULL;
	if (!d)
		return -errno;
	for (struct dirent *e; (e = readdir(d));) {
		if (e->d_name[0] == '.')
			continue;
		if (n == cap) {
			char **nv = realloc(v, (cap = cap ? 2 * cap : 16) * sizeof(*v));

			if (!nv)
				break;
			v = nv;
		}
		if (!(v[n] = strdup(e->d_name)))
			break;
		n++;
	}
	closedir(d);
	if (n)
		qsort(v, n, sizeof(*v), cmp_str);
	*out = v;
	return (int)n;
}

static void free_list(char **v, int n)
{
	for (int i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

/*
 * Members of the group folder @gdir, by name, each checked once for a held
 * lock: with @group, every member is printed as a `--members` row (GROUP
 * MEMBER STATE); the live ones' names go into @names (may be NULL).
 * Returns: how many are live.
 */
static int scan_members(const char *gdir, const char *group, char *names, size_t len)
{
	char mdir[4700];
	char **v;
	int n, live = 0;

	snprintf(mdir, sizeof(mdir), "%s/members", gdir);
	n = list_dir(mdir, &v);
	int fd = open(mdir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (names && len)
		names[0] = '\0';
	for (int i = 0; fd >= 0 && i < n; i++) {
		bool held = cli_lock_held(fd, v[i]) == 1;

		if (group)
			printf("%-24s %-32s %s\n", group, v[i], held ? "live" : "dead");
		if (!held)
			continue;
		live++;
		if (names && strlen(names) + strlen(v[i]) + 3 < len)
			snprintf(names + strlen(names), len - strlen(names), "%s%s",
				 live > 1 ? ", " : "", v[i]);
	}
	if (fd >= 0)
		close(fd);
	free_list(v, n > 0 ? n : 0);
	return live;
}

/* Topics a group folder names in its .offset and .lease files. */
static int group_topics(char **files, int nf, struct gtopic **out)
{
	struct gtopic *v = calloc((size_t)nf + 1, sizeof(*v));
	int n = 0;

	if (!v)
		return -ENOMEM;
	for (int i = 0; i < nf; i++) {
		char t[256];
		uint32_t p;
		int k;

		if (!split_name(files[i], ".offset", t, sizeof(t), &p) &&
		    !split_name(files[i], ".lease", t, sizeof(t), &p))
			continue;
		for (k = 0; k < n && strcmp(v[k].name, t); k++)
			;
		if (k == n)
			snprintf(v[n++].name, sizeof(v[0].name), "%s", t);
		if (p + 1 > v[k].max_seen)
			v[k].max_seen = p + 1;
	}
	qsort(v, (size_t)n, sizeof(*v), cmp_gtopic);
	*out = v;
	return n;
}

static int list_group(const char *cmd, struct rxlog *rx, const char *group, const char *gdir,
		      const char *only_topic)
{
	char **files;
	struct gtopic *tv = NULL;
	int nf = list_dir(gdir, &files), rc = CLI_OK;

	if (nf < 0) {
		cli_err(cmd, "group folder %s: %s", gdir, strerror(-nf));
		return CLI_FAIL;
	}
	int nt = group_topics(files, nf, &tv), live = scan_members(gdir, NULL, NULL, 0);
	int gfd = open(gdir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	for (int t = 0; t < nt; t++) {
		if (only_topic && strcmp(only_topic, tv[t].name))
			continue;
		int np = rxlog_partitions(rx, tv[t].name);
		uint32_t n = np > 0 ? (uint32_t)np : tv[t].max_seen;

		for (uint32_t p = 0; p < n; p++) {
			char committed[24] = "-", end[24] = "-", lag[24] = "-", pn[16], lease[300];
			uint64_t off = 0;
			struct rxl_log_offsets o;
			int err = rxlog_offset_fetch(rx, group, tv[t].name, p, &off);
			bool have_end = false;

			if (!err)
				snprintf(committed, sizeof(committed), "%" PRIu64, off);
			else if (err == -EBADMSG)
				snprintf(committed, sizeof(committed), "damaged");
			if (np > 0 && cli_offsets(rx, tv[t].name, p, &o) == 0) {
				have_end = true;
				snprintf(end, sizeof(end), "%" PRIu64, o.hwm);
			}
			if (!err && have_end)
				snprintf(lag, sizeof(lag), "%" PRIu64,
					 o.hwm > off ? o.hwm - off : 0);
			snprintf(pn, sizeof(pn), "%" PRIu32, p);
			snprintf(lease, sizeof(lease), "%s-%" PRIu32 ".lease", tv[t].name, p);
			printf(LIST_ROW, group, tv[t].name, pn, committed, end, lag,
			       gfd >= 0 && cli_lock_held(gfd, lease) == 1 ? "held" : "free", live);
		}
	}
	if (gfd >= 0)
		close(gfd);
	free(tv);
	free_list(files, nf);
	return rc;
}

static int cmd_list(int argc, char **argv)
{
	static const struct option opts[] = {
		{"group", required_argument, NULL, 'g'},
		{"topic", required_argument, NULL, 't'},
		{"members", no_argument, NULL, 'm'},
		CLI_OPTIONS_SHARED,
		{0},
	};
	const char *cmd = "groups", *data = NULL, *only_group = NULL, *only_topic = NULL;
	bool members = false;
	struct rxlog *rx;
	char groot[4200], gdir[4500];
	char **groups;
	int c, rc, ng;

	while ((c = getopt_long(argc, argv, ":g:t:md:h", opts, NULL)) != -1) {
		switch (c) {
		case 'g':
			only_group = optarg;
			break;
		case 't':
			only_topic = optarg;
			break;
		case 'm':
			members = true;
			break;
		default:
			if ((rc = cli_opt_shared(cmd, c, argv, usage, &data)) != CLI_OPT_NEXT)
				return rc;
		}
	}
	if (cli_no_operands(cmd, argc, argv, "subcommand: reset"))
		return CLI_USAGE;
	rc = cli_open(cmd, data, &rx);
	if (rc)
		return rc;
	snprintf(groot, sizeof(groot), "%s/__groups", rxlog_dir(rx));
	ng = list_dir(groot, &groups);
	if (ng < 0 && ng != -ENOENT) {
		cli_err(cmd, "%s: %s", groot, strerror(-ng));
		rxlog_close(rx);
		return CLI_FAIL;
	}
	if (members)
		printf("%-24s %-32s %s\n", "GROUP", "MEMBER", "STATE");
	else
		printf(LIST_HDR, "GROUP", "TOPIC", "PARTITION", "COMMITTED", "END", "LAG", "LEASE",
		       "MEMBERS");
	for (int i = 0; i < ng; i++) {
		if (only_group && strcmp(only_group, groups[i]))
			continue;
		snprintf(gdir, sizeof(gdir), "%s/%s", groot, groups[i]);
		if (members)
			scan_members(gdir, groups[i], NULL, 0);
		else if (list_group(cmd, rx, groups[i], gdir, only_topic))
			rc = CLI_FAIL;
	}
	free_list(groups, ng > 0 ? ng : 0);
	rxlog_close(rx);
	return rc;
}

enum reset_to { TO_NONE = 0, TO_OFFSET, TO_TIME, TO_EARLIEST, TO_LATEST };

static int cmd_reset(int argc, char **argv)
{
	static const struct option opts[] = {
		{"group", required_argument, NULL, 'g'},
		{"topic", required_argument, NULL, 't'},
		{"partition", required_argument, NULL, 'p'},
		{"to-offset", required_argument, NULL, 'o'},
		{"to-time", required_argument, NULL, 'T'},
		{"to-earliest", no_argument, NULL, 'e'},
		{"to-latest", no_argument, NULL, 'l'},
		{"dry-run", no_argument, NULL, 'n'},
		CLI_OPTIONS_SHARED,
		{0},
	};
	const char *cmd = "groups reset", *data = NULL, *group = NULL, *topic = NULL;
	enum reset_to to = TO_NONE;
	uint64_t to_off = 0;
	int64_t to_time = 0;
	uint32_t only = 0;
	bool have_part = false, dry = false;
	int c, rc, tos = 0;
	struct rxlog *rx;

	while ((c = getopt_long(argc, argv, ":g:t:p:o:T:elnd:h", opts, NULL)) != -1) {
		switch (c) {
		case 'g':
			group = optarg;
			break;
		case 't':
			topic = optarg;
			break;
		case 'p':
			if (cli_parse_u32(optarg, UINT32_MAX, &only))
				return cli_usage_err(cmd, "--partition wants a number, not \"%s\"",
						     optarg);
			have_part = true;
			break;
		case 'o':
			if (cli_parse_u64(optarg, &to_off))
				return cli_usage_err(cmd, "--to-offset wants a number, not \"%s\"",
						     optarg);
			to = TO_OFFSET;
			tos++;
			break;
		case 'T':
			if (cli_opt_time(cmd, "--to-time", optarg, &to_time))
				return CLI_USAGE;
			to = TO_TIME;
			tos++;
			break;
		case 'e':
			to = TO_EARLIEST;
			tos++;
			break;
		case 'l':
			to = TO_LATEST;
			tos++;
			break;
		case 'n':
			dry = true;
			break;
		default:
			if ((rc = cli_opt_shared(cmd, c, argv, usage, &data)) != CLI_OPT_NEXT)
				return rc;
		}
	}
	if (cli_no_operands(cmd, argc, argv, NULL))
		return CLI_USAGE;
	if (!group || !topic)
		return cli_usage_err(cmd, "name the group and the topic: --group G --topic T");
	if (tos != 1)
		return cli_usage_err(cmd, "give one of --to-offset, --to-time, --to-earliest, "
					  "--to-latest");
	if (cli_check_name(cmd, "group", group))
		return CLI_USAGE;
	rc = cli_open(cmd, data, &rx);
	if (rc)
		return rc;
	int np = cli_partitions(cmd, rx, topic);

	if (np < 0) {
		rc = CLI_FAIL;
		goto close_rx;
	}
	if (have_part && cli_check_partition(cmd, topic, (uint32_t)np, only)) {
		rc = CLI_FAIL;
		goto close_rx;
	}
	char gdir[4400], names[1024];

	snprintf(gdir, sizeof(gdir), "%s/__groups/%s", rxlog_dir(rx), group);
	int live = scan_members(gdir, NULL, names, sizeof(names));

	if (live) { /* R1 */
		cli_err(cmd,
			"group %s has %d live member(s) (%s): stop them first; a running "
			"member would overwrite the reset offsets at its next commit",
			group, live, names);
		rc = CLI_FAIL;
		goto close_rx;
	}
	uint32_t first = have_part ? only : 0, last = have_part ? only + 1 : (uint32_t)np;
	uint64_t *target = calloc(last - first, sizeof(*target));

	if (!target) {
		rc = CLI_FAIL;
		goto close_rx;
	}
	/* Work out every target first, so an out-of-range offset changes nothing. */
	for (uint32_t p = first; p < last; p++) {
		struct rxl_reader *r = NULL;
		struct rxl_log_offsets o = {0};
		uint64_t *t = &target[p - first];
		int err = rxlog_reader_open(rx, topic, p, &r);

		/* A partition nothing was ever written to has no folder (a
		 * sparse topic: a dead-letter topic, say): it is empty, and
		 * every position in it is offset 0. */
		if (err && err != -ENOENT) {
			cli_err(cmd, "%s", rxl_err_msg());
			rc = CLI_FAIL;
			break;
		}
		if (r)
			rxl_reader_offsets(r, &o);
		if (to == TO_EARLIEST) {
			*t = o.log_start;
		} else if (to == TO_LATEST) {
			*t = o.hwm;
		} else if (to == TO_OFFSET) {
			*t = to_off;
			if (to_off < o.log_start || to_off > o.hwm) {
				cli_err(cmd,
					"offset %" PRIu64 " is out of range for %s-%" PRIu32
					": valid offsets are %" PRIu64 " to %" PRIu64
					" (log start %" PRIu64 ", end %" PRIu64
					"); nothing was changed",
					to_off, topic, p, o.log_start, o.hwm, o.log_start, o.hwm);
				rc = CLI_FAIL;
			}
		} else if (!r) {
			*t = 0;
		} else if (rxl_reader_seek_time(r, to_time, t)) {
			cli_err(cmd, "%s-%" PRIu32 ": %s", topic, p, rxl_err_msg());
			rc = CLI_FAIL;
		}
		if (r)
			rxl_reader_close(r);
		if (rc)
			break;
	}
	if (rc)
		goto free_target;
	printf(RESET_HDR, "GROUP", "TOPIC", "PARTITION", "OLD", "NEW");
	for (uint32_t p = first; p < last; p++) {
		char old[24] = "-", pn[16];
		uint64_t off;

		if (rxlog_offset_fetch(rx, group, topic, p, &off) == 0)
			snprintf(old, sizeof(old), "%" PRIu64, off);
		snprintf(pn, sizeof(pn), "%" PRIu32, p);
		if (!dry && rxlog_offset_commit(rx, group, topic, p, target[p - first])) {
			cli_err(cmd, "%s", rxl_err_msg());
			rc = CLI_FAIL;
			break;
		}
		char nw[24];

		snprintf(nw, sizeof(nw), "%" PRIu64, target[p - first]);
		printf(RESET_HDR, group, topic, pn, old, nw);
	}
	if (dry)
		printf("(dry run: nothing was written)\n");
free_target:
	free(target);
close_rx:
	rxlog_close(rx);
	return rc;
}

int cli_groups(int argc, char **argv)
{
	if (argc > 1 && !strcmp(argv[1], "reset"))
		return cmd_reset(argc - 1, argv + 1);
	return cmd_list(argc, argv);
}
