/* common: error context for set-up paths.
 * Any thread; the buffer is thread-local, so no locking.
 */
#include "rxl_err.h"

#include <stdio.h>
#include <string.h>

static _Thread_local char msg[RXL_ERR_MAX];

int rxl_err_set(int err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return err;
}

int rxl_err_ctx(int err, const char *fmt, ...)
{
	char prefix[RXL_ERR_MAX];
	char old[RXL_ERR_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(prefix, sizeof(prefix), fmt, ap);
	va_end(ap);
	if (msg[0] == '\0')
		snprintf(old, sizeof(old), "%s", strerror(err < 0 ? -err : err));
	else
		memcpy(old, msg, sizeof(old));
	char both[2 * RXL_ERR_MAX + 2];
	size_t n = (size_t)snprintf(both, sizeof(both), "%s: %s", prefix, old);

	if (n >= sizeof(msg))
		n = sizeof(msg) - 1;
	memcpy(msg, both, n);
	msg[n] = '\0';
	return err;
}

const char *rxl_err_msg(void)
{
	return msg;
}

void rxl_err_clear(void)
{
	msg[0] = '\0';
}
