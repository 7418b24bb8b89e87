/* consumers: writing to a topic that a running rxlogd owns — the rxlogd
 * registry (<data>/__rxlogd/<topic>) and a sender of datagrams in its
 * listener's format. Used by `rxlog produce` and `rxlog dlq redrive`, which
 * keep the one-writer-per-partition rule by going through rxlogd.
 * Main thread only.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "cli_pvt.h"
#include "rxl_err.h"
#include "rxl_formats.h"
#include "rxl_wire.h"

bool cli_rxlogd_owner(const char *data, const char *topic, struct cli_rxlogd *o)
{
	char path[4200];
	FILE *fp;
	int n;

	snprintf(path, sizeof(path), "%s/__rxlogd/%s", data, topic);
	fp = fopen(path, "r");
	if (!fp)
		return false;
	o->max_event_bytes = 0; /* absent in files of older rxlogd */
	n = fscanf(fp, "format=%31s addr=%63s port=%u pid=%ld max_event_bytes=%u", o->format,
		   o->addr, &o->port, &o->pid, &o->max_event_bytes);
	fclose(fp);
	/* A file left behind by an rxlogd that died names a dead pid. */
	return n >= 4 && o->pid > 0 && !(kill((pid_t)o->pid, 0) < 0 && errno == ESRCH);
}

int cli_sender_open(const char *cmd, struct cli_sender *s, const struct cli_rxlogd *o)
{
	struct sockaddr_in to = {.sin_family = AF_INET, .sin_port = htons((uint16_t)o->port)};

	memset(s, 0, sizeof(*s));
	s->fd = -1;
	enum rxl_fmt_kind kind;

	if (rxl_fmt_kind_from_name(o->format, &kind))
		return cli_err(cmd, "rxlogd's listener: %s", rxl_err_msg()), -EINVAL;
	s->kind = kind;
	s->max_event_bytes = o->max_event_bytes;
	if (inet_pton(AF_INET, o->addr, &to.sin_addr) != 1)
		return cli_err(cmd, "rxlogd's address \"%s\" is not IPv4", o->addr), -EINVAL;
	s->fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (s->fd < 0 || connect(s->fd, (struct sockaddr *)&to, sizeof(to)) < 0) {
		int err = -errno;

		cli_err(cmd, "udp %s:%u: %s", o->addr, o->port, strerror(errno));
		return err;
	}
	return 0;
}

static int send_dgram(const char *cmd, struct cli_sender *s, const void *p, size_t len)
{
	if (send(s->fd, p, len, 0) < 0) {
		int err = -errno;

		cli_err(cmd, "sending to rxlogd: %s", strerror(errno));
		s->failed = true;
		return err;
	}
	return 0;
}

int cli_sender_flush(const char *cmd, struct cli_sender *s)
{
	int err = 0;

	if (s->kind == RXL_FMT_NATIVE && s->n) {
		struct rxl_native_hdr h = {.producer_id = -1};
		int dl = rxl_native_encode(s->dgram, sizeof(s->dgram), &h, s->recs, s->n);

		if (dl < 0)
			cli_err(cmd, "encoding %" PRIu32 " record(s) for rxlogd: %s", s->n,
				strerror(-dl));
		err = dl < 0 ? dl : send_dgram(cmd, s, s->dgram, (size_t)dl);
		if (!err)
			s->sent += s->n;
		s->n = 0;
		s->used = 0;
	} else if (s->kind == RXL_FMT_LINES && s->used) {
		err = send_dgram(cmd, s, s->dgram, s->used);
		if (!err)
			s->sent += s->n;
		s->used = 0;
		s->n = 0;
	}
	return err;
}

/* Whether the listener would store @value (lines, syslog, raw) as one
 * record with exactly these bytes: rxlogd's own parser runs on the datagram
 * (or line) the sender would send for it. Anything else would be stored
 * changed, split or not at all, and redrive would wait for it for ever. */
static int stored_as_is(const char *cmd, const struct cli_sender *s, const void *value, size_t vl)
{
	uint8_t d[sizeof(s->dgram)];
	size_t n = vl;
	struct rxl_fmt_config cfg = {.kind = s->kind,
				     .key = RXL_FMT_KEY_DEFAULT, /* syslog: the host counts */
				     .max_event_bytes = s->max_event_bytes};
	struct rxl_fmt_counters cnt = {0};
	struct rxl_event ev[2];
	uint32_t pos = 0;
	const char *why = "it would be stored with other bytes";

	if (vl) /* the caller checked vl < sizeof(d); a null value has no pointer */
		memcpy(d, value, vl);
	if (s->kind == RXL_FMT_LINES)
		d[n++] = '\n';
	struct rxl_fmt_in in = {.data = d, .len = (uint32_t)n};
	int k = rxl_fmt_parse(&cfg, &in, &pos, ev, 2, &cnt);

	if (k == 1 && pos == n && ev[0].value_len == (int32_t)vl &&
	    (!vl || !memcmp(ev[0].value, value, vl)))
		return 0;
	if (k > 1)
		why = "it would become more than one record";
	for (int r = 1; r < RXL_FMT_REASON_COUNT; r++)
		if (cnt.n[r] && (k < 1 || rxl_fmt_reason_is_drop((enum rxl_fmt_reason)r)))
			why = rxl_fmt_drop_name((enum rxl_fmt_reason)r);
	if (cnt.n[RXL_FMT_OVERSIZE_EVENT])
		cli_err(cmd,
			"a record of %zu bytes is over the rxlogd %s listener's "
			"max_event_bytes = %u (oversize_event)",
			vl, rxl_fmt_kind_name(cfg.kind), s->max_event_bytes);
	else
		cli_err(cmd,
			"a record the rxlogd %s listener would not store as it is (%s); send it "
			"to a native listener",
			rxl_fmt_kind_name(cfg.kind), why);
	return -EINVAL;
}

int cli_sender_add(const char *cmd, struct cli_sender *s, const void *key, int32_t key_len,
		   const void *value, int32_t value_len, int64_t ts_ms)
{
	size_t vl = value_len > 0 ? (size_t)value_len : 0;
	int err;

	if (s->kind == RXL_FMT_NATIVE) {
		/* Its bytes in a datagram (docs/WIRE.md): checked before it is
		 * packed, so a datagram never outgrows s->dgram. */
		size_t kl = key_len > 0 ? (size_t)key_len : 0,
		       sz = RXL_NATIVE_EVENT_HDR_LEN + kl + vl;

		if (s->max_event_bytes && kl + vl > s->max_event_bytes) {
			cli_err(cmd,
				"a record (key %zu, value %zu bytes) is over the rxlogd listener's "
				"max_event_bytes = %u (it would be dropped as oversize_event)",
				kl, vl, s->max_event_bytes);
			return -EMSGSIZE;
		}
		if (kl >= sizeof(s->keys[0]) || vl > sizeof(s->vals[0]) ||
		    RXL_NATIVE_HDR_LEN + sz > sizeof(s->dgram)) {
			cli_err(cmd,
				"a record (key %zu, value %zu bytes) does not fit in one datagram "
				"(at most %zu bytes of key and value together, key under %zu)",
				kl, vl,
				sizeof(s->dgram) - RXL_NATIVE_HDR_LEN - RXL_NATIVE_EVENT_HDR_LEN,
				sizeof(s->keys[0]));
			return -EMSGSIZE;
		}
		if (s->n && s->used + sz > sizeof(s->dgram) && (err = cli_sender_flush(cmd, s)))
			return err;
		if (!s->n)
			s->used = RXL_NATIVE_HDR_LEN;
		if (kl) /* a null key (or value) has no pointer to copy from */
			memcpy(s->keys[s->n], key, kl);
		if (vl)
			memcpy(s->vals[s->n], value, vl);
		s->recs[s->n] = (struct rxl_record_in){.key = s->keys[s->n],
						       .key_len = key_len < 0 ? -1 : key_len,
						       .value = s->vals[s->n],
						       .value_len = (int32_t)vl,
						       .timestamp_ms = ts_ms};
		s->n++;
		s->used += sz;
		return s->n == 64 ? cli_sender_flush(cmd, s) : 0;
	}
	if (vl > sizeof(s->dgram) - 1) {
		cli_err(cmd, "a record of %zu bytes does not fit in one datagram", vl);
		return -EMSGSIZE;
	}
	if ((err = stored_as_is(cmd, s, value, vl)))
		return err;
	if (s->kind == RXL_FMT_LINES) {
		if (s->used + vl + 1 > sizeof(s->dgram) && (err = cli_sender_flush(cmd, s)))
			return err;
		memcpy(s->dgram + s->used, value, vl); /* vl > 0: an empty value was refused */
		s->used += vl;
		s->dgram[s->used++] = '\n';
		s->n++;
		return 0;
	}
	if ((err = send_dgram(cmd, s, value, vl)))
		return err;
	s->sent++;
	return 0;
}

void cli_sender_close(struct cli_sender *s)
{
	if (s->fd >= 0)
		close(s->fd);
	s->fd = -1;
}
