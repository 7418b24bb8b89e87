/* common: error context for set-up paths.
 * Any thread; the message buffer is thread-local.
 *
 * Functions return 0 or -errno. When they fail they also leave a message in
 * a thread-local buffer; each caller on the way up may prefix its own
 * context, so the user reads
 *   "cannot open partition telemetry-3: segment 00000000000000042000.log:
 *    CRC mismatch at byte 1048576"
 * rather than "error -74". The hot path never touches this.
 */
#ifndef RXL_ERR_H
#define RXL_ERR_H

#include <stdarg.h>

#define RXL_ERR_MAX 512

/**
 * Replace the thread's error message (printf-style) and return @err.
 * Concurrency: thread-local; any thread.
 * Returns: @err, so callers can write `return rxl_err_set(-EIO, "...")`.
 */
int rxl_err_set(int err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/**
 * Prefix the thread's error message with "<context>: " and return @err.
 * If no message was set, the prefix is followed by strerror(-err).
 * Concurrency: thread-local; any thread.
 * Returns: @err.
 */
int rxl_err_ctx(int err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/**
 * The thread's current error message ("" when none).
 * Concurrency: thread-local; valid until the next rxl_err_* call on this thread.
 * Returns: a NUL-terminated string owned by the thread.
 */
const char *rxl_err_msg(void);

/**
 * Forget the thread's error message.
 * Concurrency: thread-local.
 */
void rxl_err_clear(void);

#endif
