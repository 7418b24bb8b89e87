/* tests: helpers shared by the log tests (temp folders, deterministic records).
 * Test threads only.
 */
#ifndef RXL_TESTUTIL_H
#define RXL_TESTUTIL_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "rxl_log.h"

/** mkdtemp under $RXL_TEST_TMP (or /tmp); returns a malloc'd path. */
char *tu_tmpdir(const char *tag);

/** rm -rf @path and free it. */
void tu_rmrf(char *path);

/** Small-segment config for tests (64 KiB segments, 8 KiB batches, no prealloc step). */
void tu_config(struct rxl_log_config *c);

/**
 * Fill @buf with the deterministic value of record @seq (length from the seq
 * unless @len >= 0) and return its length. The first 8 bytes hold seq.
 */
int32_t tu_value(uint64_t seq, uint8_t *buf, int32_t len);

/** Check a record read back against tu_value(seq). Returns: true when equal. */
bool tu_value_ok(const struct rxl_record *rec, uint64_t seq);

/** Append @n records with values tu_value(first..), timestamps ts0 + seq. Returns 0 or -errno. */
int tu_append(struct rxl_log *log, uint64_t first_seq, uint32_t n, int32_t len, int64_t ts0);

/** Read [from, until) from a fresh reader and check values; returns records read or -errno. */
int64_t tu_read_check(const char *dir, uint64_t from, uint64_t until);

/** Read everything a fresh reader sees from log start; returns the end offset or -errno. */
int64_t tu_read_all(const char *dir, uint64_t *log_start);

/** Deterministic PRNG (xorshift64*). */
uint64_t tu_rand(uint64_t *s);

/**
 * Wait for child @pid for about @timeout_ms; a child still running then is
 * killed (SIGKILL, by its pid) and reaped.
 * Returns: its exit status (0..255), 128 + the signal that ended it, or
 * -ETIMEDOUT when it had to be killed.
 */
int tu_child_wait(pid_t pid, int timeout_ms);

#endif
