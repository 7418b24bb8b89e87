/* tests: helpers shared by the log tests.
 * Test threads only.
 */
#include "testutil.h"

#include <errno.h>
#include <ftw.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

char *tu_tmpdir(const char *tag)
{
	const char *root = getenv("RXL_TEST_TMP");
	char *p;

	if (!root || !*root)
		root = "/tmp";
	mkdir(root, 0755);
	if (asprintf(&p, "%s/rxl-%s-XXXXXX", root, tag) < 0)
		abort();
	if (!mkdtemp(p))
		abort();
	return p;
}

static int rm_one(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	return remove(path);
}

void tu_rmrf(char *path)
{
	if (!path)
		return;
	nftw(path, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	free(path);
}

void tu_config(struct rxl_log_config *c)
{
	rxl_log_config_default(c);
	c->segment_bytes = 64 * 1024;
	c->batch_bytes = 8 * 1024;
	c->prealloc_bytes = 16 * 1024;
	c->index_interval_bytes = 1024;
	c->linger_us = 100;
}

int32_t tu_value(uint64_t seq, uint8_t *buf, int32_t len)
{
	if (len < 0)
		len = 8 + (int32_t)(seq * 2654435761u % 200);
	if (len < 8)
		len = 8;
	memcpy(buf, &seq, 8);
	for (int32_t i = 8; i < len; i++)
		buf[i] = (uint8_t)(seq * 31 + (uint64_t)i);
	return len;
}

bool tu_value_ok(const struct rxl_record *rec, uint64_t seq)
{
	uint8_t buf[4096];

	if (rec->value_len < 8 || rec->value_len > (int32_t)sizeof(buf))
		return false;
	int32_t len = tu_value(seq, buf, rec->value_len);

	return len == rec->value_len && memcmp(buf, rec->value, (size_t)len) == 0;
}

int tu_append(struct rxl_log *log, uint64_t first_seq, uint32_t n, int32_t len, int64_t ts0)
{
	static uint8_t bufs[64][4096];
	struct rxl_record_in in[64];
	char keys[64][16];

	while (n) {
		uint32_t k = n < 64 ? n : 64;

		for (uint32_t i = 0; i < k; i++) {
			uint64_t seq = first_seq + i;

			snprintf(keys[i], sizeof(keys[i]), "k%llu", (unsigned long long)(seq % 7));
			in[i] = (struct rxl_record_in){
				.key = keys[i],
				.key_len = (int32_t)strlen(keys[i]),
				.value = bufs[i],
				.value_len = tu_value(seq, bufs[i], len),
				.timestamp_ms = ts0 + (int64_t)seq,
			};
		}
		uint32_t done = 0;

		while (done < k) {
			int r = rxl_log_append_burst(log, in + done, k - done, NULL, NULL);

			if (r < 0)
				return r;
			done += (uint32_t)r;
		}
		rxl_log_poll(log);
		first_seq += k;
		n -= k;
	}
	return 0;
}

int64_t tu_read_check(const char *dir, uint64_t from, uint64_t until)
{
	struct rxl_reader *r;
	struct rxl_record rec;
	int64_t got = 0;
	int err = rxl_reader_open(dir, &r);

	if (err)
		return err;
	err = rxl_reader_seek(r, from);
	if (err)
		goto out;
	for (uint64_t want = from; want < until; want++) {
		int n = rxl_reader_next(r, &rec);

		if (n <= 0) {
			err = n < 0 ? n : -ENODATA;
			goto out;
		}
		if (rec.offset != want || !tu_value_ok(&rec, want)) {
			err = -EBADMSG;
			goto out;
		}
		got++;
	}
out:
	rxl_reader_close(r);
	return err ? err : got;
}

int64_t tu_read_all(const char *dir, uint64_t *log_start)
{
	struct rxl_reader *r;
	struct rxl_record rec;
	struct rxl_log_offsets o;
	int err = rxl_reader_open(dir, &r);

	if (err)
		return err;
	rxl_reader_offsets(r, &o);
	if (log_start)
		*log_start = o.log_start;
	err = rxl_reader_seek(r, o.log_start);
	uint64_t want = o.log_start;

	while (!err) {
		int n = rxl_reader_next(r, &rec);

		if (n < 0)
			err = n;
		if (n <= 0)
			break;
		if (rec.offset != want || !tu_value_ok(&rec, want))
			err = -EBADMSG;
		want++;
	}
	rxl_reader_close(r);
	return err ? err : (int64_t)want;
}

uint64_t tu_rand(uint64_t *s)
{
	uint64_t x = *s;

	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	*s = x;
	return x * 0x2545F4914F6CDD1Dull;
}

int tu_child_wait(pid_t pid, int timeout_ms)
{
	struct timespec ts = {0, 1000000};
	int status;

	for (int waited = 0;; waited++) {
		pid_t r = waitpid(pid, &status, WNOHANG);

		if (r == pid)
			break;
		if (r < 0 && errno != EINTR)
			return -errno;
		if (waited >= timeout_ms) {
			kill(pid, SIGKILL);
			while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
				;
			return -ETIMEDOUT;
		}
		nanosleep(&ts, NULL);
	}
	if (WIFEXITED(status))
		return WEXITSTATUS(status);
	return 128 + WTERMSIG(status);
}
