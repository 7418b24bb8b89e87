#!/usr/bin/env bash
# tests: rxlogd on an af_packet port at one end of a veth pair whose other end
# lives in a network namespace this test makes (198.18.0.0/24), fed by real
# third-party senders: util-linux logger (RFC 3164 and RFC 5424) and socat
# (lines). The senders find rxlogd by ARP (no static neighbour entry). Every
# message sent arrives, once, in order per sender, byte for byte in the
# format it was sent in. The syslog listener takes its senders' BSD
# timestamps as UTC+1 (rfc3164_utc_offset_min=60); logger runs in UTC.
# Skips (77) without root, netns or veth.
# tcpreplay sends a capture of native datagrams written by rxlog-gen.
# Usage: test_rxlogd_veth.sh RXLOGD RXLOG RXLOG_GEN
set -euo pipefail
source "$(dirname "$0")/testlib.sh"
rxlogd=$1 rxlog=$2 gen=$3
rxl_need_root_and ip logger socat tcpreplay python3
ns=rxl-ns-$$ host=rxv0-$$ peer=rxv1-$$
tmp=$(mktemp -d "${RXL_TEST_TMP:-/tmp}/rxl-v-XXXXXX")
pid=
cleanup() {
  [[ -z $pid ]] || rxl_kill_dpdk "$pid" rxlogd
  rxl_veth_teardown "$ns" "$host"
  rm -rf "$tmp"
}
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; grep -v '^EAL' "$tmp/err" 2>/dev/null | tail -5 >&2; exit 1; }
rxl_veth_setup "$ns" "$host" "$peer"

"$rxlogd" --data "$tmp/data" --port "net_af_packet0,iface=$host,qpairs=1,framecnt=8192" \
  --addr 198.18.0.1 --hugepages off --memory-mb 512 --eal "--no-telemetry --log-level=3" \
  --stats-interval 0 --prometheus off \
  --listen 5514/syslog:topic=syslog,partitions=2,rfc3164_utc_offset_min=60 \
  --listen 6000/lines:topic=app \
  --listen 7000/native:topic=telemetry,partitions=4 \
  >"$tmp/out" 2>"$tmp/err" &
pid=$!
rxl_wait_listening "$pid" "$tmp/err" 2 || fail "rxlogd did not start"
sleep 0.5 # starting the port wipes the interface's neighbour table
# Resolve rxlogd's address first (ARP), with one datagram to a port nobody
# listens on: while a neighbour is unresolved the sender's kernel queues a
# few datagrams and may flush them after later ones (reordering that is not
# rxlogd's).
echo warm-up | ip netns exec "$ns" socat -u - UDP4-SENDTO:198.18.0.1:9
sleep 0.3
n=2000
for i in $(seq $n); do echo "bsd message $i"; done >"$tmp/bsd"
for i in $(seq $n); do echo "ietf message $i"; done >"$tmp/ietf"
t_sent=$(date +%s%3N)
# (logger's default is RFC 5424 since util-linux 2.26: --rfc3164 says BSD.)
TZ=UTC ip netns exec "$ns" logger -d -n 198.18.0.1 -P 5514 --rfc3164 -t rfc3164 -f "$tmp/bsd"
TZ=UTC ip netns exec "$ns" logger -d -n 198.18.0.1 -P 5514 --rfc5424 -t rfc5424 -f "$tmp/ietf"
# socat: one datagram per line (socat -b N cuts a file into N-byte blocks,
# which would split lines across datagrams).
for i in $(seq 300); do
  echo "line $i" | ip netns exec "$ns" socat -u - UDP4-SENDTO:198.18.0.1:6000
done
# tcpreplay: a capture of 2000 native datagrams of 8 events from 10 producers.
"$gen" --format native --out "$tmp/native.pcap" --count 16000 --events-per-datagram 8 \
  --producers 10 --dst 198.18.0.1 --dst-port 7000 >/dev/null
ip netns exec "$ns" tcpreplay -q -i "$peer" --pps=20000 "$tmp/native.pcap" >/dev/null 2>&1
sleep 1
kill -TERM "$pid"
wait "$pid" || fail "rxlogd exited with $?"
rm -rf "/var/run/dpdk/rxlogd-$pid"
pid=
stats=$(tail -1 "$tmp/out")
"$rxlog" cat --data "$tmp/data" --topic syslog --format json >"$tmp/syslog.json"
"$rxlog" cat --data "$tmp/data" --topic app --format value >"$tmp/app.txt"
"$rxlog" cat --data "$tmp/data" --topic telemetry --format json >"$tmp/telemetry.json"
python3 - "$tmp" "$n" "$stats" "$t_sent" <<'PY' || fail "messages: $stats"
import json, re, sys
tmp, n, stats, t_sent = sys.argv[1], int(sys.argv[2]), json.loads(sys.argv[3]), int(sys.argv[4])
# The value is the message as sent: a BSD header (month day time, no year),
# or RFC 5424's version 1 and full timestamp.
shape = {"rfc3164": re.compile(r"<\d+>[A-Z][a-z]{2} [ \d]\d \d\d:\d\d:\d\d \S+ rfc3164"),
         "rfc5424": re.compile(r"<\d+>1 \d{4}-\d\d-\d\dT\S+ \S+ rfc5424 ")}
# Record timestamps: BSD ones read as UTC+1, one hour before the sending
# time; RFC 5424's carry their own offset. logger's BSD stamps have whole
# seconds, so allow a second before t_sent, and a minute for the sending.
skew = {"rfc3164": -3600000, "rfc5424": 0}
assert stats["frames"].get("arp", 0) >= 1, stats          # found us by ARP
assert stats["not_ours"] == 1, stats                     # the warm-up datagram
seen = {"rfc3164": [], "rfc5424": []}
for line in open(f"{tmp}/syslog.json"):
    r = json.loads(line)
    m = re.search(r"(rfc3164|rfc5424).*(?:bsd|ietf) message (\d+)$", r["value"])
    assert m, r["value"]
    seen[m.group(1)].append((r["partition"], int(m.group(2))))
    assert shape[m.group(1)].match(r["value"]), r["value"]
    late = r["timestamp"] - skew[m.group(1)] - t_sent
    assert -1000 <= late <= 60000, (m.group(1), late, r)
    assert r["headers"]["src"] == "198.18.0.2", r["headers"]
for tag, got in seen.items():
    nums = sorted(x for _, x in got)
    assert nums == list(range(1, n + 1)), (tag, len(nums))   # every message, once
    # One sender, one key (its host name): one partition, in order.
    parts = {p for p, _ in got}
    assert len(parts) == 1, (tag, parts)
    order = [x for _, x in got]
    bad = [i for i in range(1, len(order)) if order[i] < order[i - 1]]
    assert not bad, (tag, bad[:5], order[bad[0] - 2:bad[0] + 3] if bad else None)
lines = [l.rstrip("\n") for l in open(f"{tmp}/app.txt")]
assert lines == [f"line {i}" for i in range(1, 301)], len(lines)
tel = [json.loads(l) for l in open(f"{tmp}/telemetry.json")]
assert len(tel) == 16000 and stats["gaps"] == 0 and stats["duplicates"] == 0, (len(tel), stats)
last = {}
for r in tel:                      # per producer, per partition: sequences rise
    m = re.match(r"p(\d+) seq=(\d+)", r["value"])
    k = (r["partition"], m.group(1))
    assert int(m.group(2)) > last.get(k, -1), (k, m.group(2))
    last[k] = int(m.group(2))
PY
echo "1 passed, 0 failed"
