/* consumers: librxlog — data directories, topics, readers, committed offsets.
 * Any thread; each handle belongs to the thread that uses it.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "consumers_pvt.h"
#include "rxl_bytes.h"
#include "rxl_crc32c.h"
#include "rxl_err.h"

void (*rxlog_test_commit_hook)(int step);

int rxlog_open(const char *dir, struct rxlog **out)
{
	struct rxlog *rx;

	if (!dir)
		dir = getenv("RXLOG_DATA");
	if (!dir || !*dir)
		return rxl_err_set(-EINVAL,
				   "no data directory: pass one (--data DIR) or set RXLOG_DATA");
	rx = calloc(1, sizeof(*rx));
	if (!rx)
		return -ENOMEM;
	rx->dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (rx->dirfd < 0) {
		int e = errno;

		free(rx);
		return rxl_err_set(-e, "data directory %s: %s%s", dir, strerror(e),
				   e == ENOENT ? " (check --data or RXLOG_DATA)" : "");
	}
	rx->dir = strdup(dir);
	*out = rx;
	return 0;
}

void rxlog_close(struct rxlog *rx)
{
	if (!rx)
		return;
	close(rx->dirfd);
	free(rx->dir);
	free(rx);
}

const char *rxlog_dir(const struct rxlog *rx)
{
	return rx->dir;
}

int rxlog_check_name(const char *what, const char *name)
{
	size_t l = name ? strlen(name) : 0;

	if (l == 0 || l > 200 ||
	    strspn(name, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
			 "0123456789._-") != l ||
	    !strcmp(name, ".") || !strcmp(name, ".."))
		return rxl_err_set(-EINVAL, "%s \"%s\": use 1 to 200 of A-Z a-z 0-9 . _ -", what,
				   name ? name : "");
	return 0;
}

/* "<topic>-<N>" → topic length and N; false for anything else. */
static bool split_partition(const char *name, size_t *tlen, uint32_t *p)
{
	const char *dash = strrchr(name, '-');

	if (!dash || dash == name || !dash[1] || strlen(dash + 1) > 9 ||
	    strspn(dash + 1, "0123456789") != strlen(dash + 1))
		return false;
	*tlen = (size_t)(dash - name);
	*p = (uint32_t)strtoul(dash + 1, NULL, 10);
	return true;
}

static int cmp_topic(const void *a, const void *b)
{
	return strcmp(((const struct rxlog_topic *)a)->name, ((const struct rxlog_topic *)b)->name);
}

int rxlog_topics(struct rxlog *rx, struct rxlog_topic **out, size_t *n)
{
	int fd = dup(rx->dirfd);
	DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
	struct rxlog_topic *v = NULL;
	size_t cnt = 0, cap = 0;

	if (!d) {
		if (fd >= 0)
			close(fd);
		return rxl_err_set(-errno, "data directory %s: %s", rx->dir, strerror(errno));
	}
	rewinddir(d);
	for (struct dirent *e; (e = readdir(d));) {
		size_t tl;
		uint32_t p;
		struct stat sb;
		char st[600];

		if (e->d_name[0] == '.' || !strncmp(e->d_name, "__", 2) ||
		    !split_partition(e->d_name, &tl, &p) || tl >= sizeof(v->name))
			continue;
		snprintf(st, sizeof(st), "%s/state", e->d_name);
		if (fstatat(rx->dirfd, st, &sb, 0) < 0)
			continue; /* not a partition folder */
		size_t i;

		for (i = 0; i < cnt; i++)
			if (strlen(v[i].name) == tl && !strncmp(v[i].name, e->d_name, tl))
				break;
		if (i == cnt) {
			if (cnt == cap) {
				size_t nc = cap ? 2 * cap : 16;
				struct rxlog_topic *nv = realloc(v, nc * sizeof(*v));

				if (!nv) {
					free(v);
					closedir(d);
					return -ENOMEM;
				}
				v = nv;
				cap = nc;
			}
			memcpy(v[cnt].name, e->d_name, tl);
			v[cnt].name[tl] = '\0';
			v[cnt].partitions = 0;
			cnt++;
		}
		if (p + 1 > v[i].partitions)
			v[i].partitions = p + 1;
	}
	closedir(d);
	if (cnt)
		qsort(v, cnt, sizeof(*v), cmp_topic);
	*out = v;
	*n = cnt;
	return 0;
}

int rxlog_partitions(struct rxlog *rx, const char *topic)
{
	struct rxlog_topic *v;
	size_t n;
	int err = rxlog_topics(rx, &v, &n), found = 0;

	if (err)
		return err;
	for (size_t i = 0; i < n; i++)
		if (!strcmp(v[i].name, topic))
			found = (int)v[i].partitions;
	free(v);
	if (!found)
		return rxl_err_set(-ENOENT, "unknown topic \"%s\" in %s (rxlog topics lists them)",
				   topic, rx->dir);
	return found;
}

int rxlog_reader_open(struct rxlog *rx, const char *topic, uint32_t partition,
		      struct rxl_reader **out)
{
	char path[4096];
	int err = rxl_log_path(path, sizeof(path), rx->dir, topic, partition);

	if (err)
		return err;
	err = rxl_reader_open(path, out);
	if (err == -ENOENT)
		return rxl_err_set(-ENOENT, "unknown topic or partition: %s-%" PRIu32 " in %s",
				   topic, partition, rx->dir);
	return err;
}

int rxlog_group_dir(struct rxlog *rx, const char *group, bool members, char *buf, size_t len)
{
	int err = rxlog_check_name("group", group);

	if (err)
		return err;
	snprintf(buf, len, "%s/__groups", rx->dir);
	if (mkdir(buf, 0755) < 0 && errno != EEXIST)
		return rxl_err_set(-errno, "%s: %s", buf, strerror(errno));
	snprintf(buf, len, "%s/__groups/%s", rx->dir, group);
	if (mkdir(buf, 0755) < 0 && errno != EEXIST)
		return rxl_err_set(-errno, "%s: %s", buf, strerror(errno));
	if (members) {
		char m[4200];

		snprintf(m, sizeof(m), "%s/members", buf);
		if (mkdir(m, 0755) < 0 && errno != EEXIST)
			return rxl_err_set(-errno, "%s: %s", m, strerror(errno));
	}
	return 0;
}

/*
 * Offset file, 32 bytes, little-endian (host order is not assumed):
 *   0 magic "RXLO"  4 version 1  8 next offset u64  16 commit time ms i64
 *  24 CRC32C of bytes 0..23       28 zero
 * Replaced atomically: write "<name>.tmp", fsync, rename, fsync the folder.
 */
#define OFF_MAGIC 0x4f4c5852u /* "RXLO" */
#define OFF_LEN 32

static void put_le64(uint8_t *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static uint64_t get_le64(const uint8_t *p)
{
	uint64_t v = 0;

	for (int i = 7; i >= 0; i--)
		v = v << 8 | p[i];
	return v;
}

static void hook(int step)
{
	if (rxlog_test_commit_hook)
		rxlog_test_commit_hook(step);
}

int rxlog_offset_commit(struct rxlog *rx, const char *group, const char *topic, uint32_t partition,
			uint64_t next)
{
	char dir[4200], name[600], tmp[620], path[4900];
	uint8_t b[OFF_LEN] = {0};
	struct timespec ts;
	int err = rxlog_group_dir(rx, group, false, dir, sizeof(dir));

	if (err)
		return err;
	snprintf(name, sizeof(name), "%s-%" PRIu32 ".offset", topic, partition);
	snprintf(tmp, sizeof(tmp), "%s.tmp", name);
	clock_gettime(CLOCK_REALTIME, &ts);
	put_le64(b, OFF_MAGIC | (uint64_t)1 << 32);
	put_le64(b + 8, next);
	put_le64(b + 16, (uint64_t)((int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000));
	put_le64(b + 24, rxl_crc32c(0, b, 24));
	int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (dfd < 0)
		return rxl_err_set(-errno, "%s: %s", dir, strerror(errno));
	int fd = openat(dfd, tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);

	if (fd < 0) {
		err = -errno;
		goto fail;
	}
	hook(1);
	if (pwrite(fd, b, OFF_LEN, 0) != OFF_LEN) {
		err = errno ? -errno : -EIO;
		close(fd);
		goto fail;
	}
	hook(2);
	if (fsync(fd) < 0) {
		err = -errno;
		close(fd);
		goto fail;
	}
	close(fd);
	hook(3);
	if (renameat(dfd, tmp, dfd, name) < 0) {
		err = -errno;
		goto fail;
	}
	hook(4);
	if (fsync(dfd) < 0) {
		err = -errno;
		goto fail;
	}
	hook(5);
	close(dfd);
	return 0;
fail:
	close(dfd);
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	return rxl_err_set(err, "committing offset %s: %s", path, strerror(-err));
}

int rxlog_offset_fetch(struct rxlog *rx, const char *group, const char *topic, uint32_t partition,
		       uint64_t *next)
{
	char path[4600];
	uint8_t b[OFF_LEN];
	int err = rxlog_check_name("group", group);

	if (err)
		return err;
	snprintf(path, sizeof(path), "%s/__groups/%s/%s-%" PRIu32 ".offset", rx->dir, group, topic,
		 partition);
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return errno == ENOENT ? -ENOENT
				       : rxl_err_set(-errno, "%s: %s", path, strerror(errno));
	ssize_t n = pread(fd, b, sizeof(b), 0);

	close(fd);
	if (n != OFF_LEN || (uint32_t)get_le64(b) != OFF_MAGIC ||
	    get_le64(b + 24) != rxl_crc32c(0, b, 24))
		return rxl_err_set(-EBADMSG, "%s: damaged offset file (CRC or length)", path);
	*next = get_le64(b + 8);
	return 0;
}

int rxlog_group_floor(const char *data_dir, const char *topic, uint32_t partition, uint64_t *floor)
{
	char path[4200];
	struct rxlog rx = {.dir = (char *)data_dir};
	DIR *d;

	*floor = UINT64_MAX;
	snprintf(path, sizeof(path), "%s/__groups", data_dir);
	d = opendir(path);
	if (!d)
		return errno == ENOENT ? 0 : -errno;
	for (struct dirent *e; (e = readdir(d));) {
		uint64_t off;

		if (e->d_name[0] == '.' || rxlog_check_name("group", e->d_name))
			continue;
		if (rxlog_offset_fetch(&rx, e->d_name, topic, partition, &off) == 0 && off < *floor)
			*floor = off;
	}
	closedir(d);
	rxl_err_clear();
	return 0;
}

int rxlog_retention_floor(void *arg, uint64_t *floor)
{
	const struct rxlog_floor_arg *a = arg;

	return rxlog_group_floor(a->data_dir, a->topic, a->partition, floor);
}
