#!/usr/bin/env bash
# tests: SIGKILL rxlogd in the middle of ingest (several times), restart it on
# the same data: every partition recovers (no corrupt batch, offsets
# contiguous, verify clean), the restarted daemon appends after what
# survived; then a clean stop (SIGINT) in the middle of ingest loses nothing
# it accepted: the log grows by exactly the records its exit line says it
# stored, and every event it took in is stored or counted as a drop.
# Usage: test_rxlogd_kill.sh RXLOGD RXLOG_GEN RXLOG
set -euo pipefail
source "$(dirname "$0")/testlib.sh"
rxlogd=$1 gen=$2 rxlog=$3
tmp=$(mktemp -d "${RXL_TEST_TMP:-/tmp}/rxl-k-XXXXXX")
pid= gpid=
cleanup() {
  [[ -z $pid ]] || rxl_kill_dpdk "$pid" rxlogd
  [[ -n $gpid ]] && kill -KILL "$gpid" 2>/dev/null || true
  rm -rf "$tmp"
}
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
port=$(rxl_free_ports 1)
start() {
  "$rxlogd" --data "$tmp/data" --source socket --hugepages off --memory-mb 256 \
    --eal "--no-telemetry --log-level=3" --stats-interval 0 \
    --listen "$port/lines:topic=app,partitions=3,durability=interval,flush_ms=20" \
    >"$tmp/out" 2>"$tmp/err" &
  pid=$!
  rxl_wait_listening "$pid" "$tmp/err" 1 || fail "rxlogd did not start: $(tail -3 "$tmp/err")"
}
records() { "$rxlog" topics --data "$tmp/data" | awk 'NR > 1 {s += $5} END {print s + 0}'; }
prev=0
for round in 1 2 3; do
  start
  "$gen" --format lines --udp "127.0.0.1:$port" --duration 5 --rate 100000 \
    --events-per-datagram 10 >/dev/null &
  gpid=$!
  sleep 0.$((3 + round))
  kill -KILL "$pid"
  wait "$pid" 2>/dev/null || true
  rxl_kill_dpdk "$pid" rxlogd # removes EAL's runtime folder of the killed daemon
  pid=
  kill -KILL "$gpid" 2>/dev/null || true
  wait "$gpid" 2>/dev/null || true
  gpid=
  # Readers see a consistent log before any recovery ran.
  "$rxlog" cat --data "$tmp/data" --topic app >/dev/null || fail "cat after kill $round"
  n=$(records)
  # Each round sends for at least 0.4 s, flushed every 20 ms: it adds records.
  ((n > prev)) || fail "round $round: $n records after the kill, $prev before"
  prev=$n
done
# A restart recovers every partition, then a clean stop.
start
sleep 0.3
kill -TERM "$pid"
wait "$pid" || fail "clean stop after recovery exited $?"
pid=
"$rxlog" verify --data "$tmp/data" >/dev/null || fail "verify after recovery"
n=$(records)
((n >= prev)) || fail "recovery lost records: $n < $prev"
for d in "$tmp"/data/app-*; do
  [[ -e $d/clean_shutdown ]] || fail "$d not closed cleanly"
done
# A clean stop in the middle of ingest: SIGINT while the generator sends.
n0=$(records)
start
"$gen" --format lines --udp "127.0.0.1:$port" --duration 5 --rate 100000 \
  --events-per-datagram 10 >/dev/null &
gpid=$!
sleep 0.5
t0=$(date +%s%N)
kill -INT "$pid"
wait "$pid" || fail "SIGINT during ingest: exit $?"
t1=$(date +%s%N)
pid=
kill -KILL "$gpid" 2>/dev/null || true
wait "$gpid" 2>/dev/null || true
gpid=
echo "SIGINT during ingest: rxlogd exited in $(((t1 - t0) / 1000000)) ms"
n1=$(records)
python3 - "$(tail -1 "$tmp/out")" "$n0" "$n1" <<'PY' || fail "clean stop during ingest"
import json, sys
s, n0, n1 = json.loads(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
assert s["stored"] > 0, s                                # it was ingesting
assert n1 - n0 == s["stored"], (n0, n1, s["stored"])     # every accepted record is there
assert s["events"] == s["stored"] + s["ring_full"] + s["log_drops"], s
PY
"$rxlog" verify --data "$tmp/data" >/dev/null || fail "verify after SIGINT"
for d in "$tmp"/data/app-*; do
  [[ -e $d/clean_shutdown ]] || fail "$d not closed cleanly after SIGINT"
done
# Offsets are contiguous and each record is a whole line from the generator.
"$rxlog" cat --data "$tmp/data" --topic app --format json | python3 -c '
import json, re, sys
seen = {}
for line in sys.stdin:
    r = json.loads(line)
    assert re.match(r"^p\d+ seq=\d+ [a-z]*$", r["value"]), r["value"]
    p = r["partition"]
    assert r["offset"] == seen.get(p, -1) + 1, (p, r["offset"], seen.get(p))
    seen[p] = r["offset"]
' || fail "records after recovery"
echo "1 passed, 0 failed"
