#!/usr/bin/env bash
# tests: rxlogd end to end through the kernel-socket source — rxlog-gen over
# loopback into three listeners (native, syslog, lines), malformed datagrams,
# SIGTERM; then every event is accounted for (stored or counted as a drop),
# the logs hold exactly the stored records in order per sender, and every
# partition was closed cleanly.
# rxlog-stats follows the native topic meanwhile and reports the latency
# from each event's send time to its handling.
# Usage: test_rxlogd_socket.sh RXLOGD RXLOG_GEN RXLOG RXLOG_STATS
set -euo pipefail
source "$(dirname "$0")/testlib.sh"
rxlogd=$1 gen=$2 rxlog=$3 stats=$4
tmp=$(mktemp -d "${RXL_TEST_TMP:-/tmp}/rxl-d-XXXXXX")
pid=
cleanup() {
  [[ -z $pid ]] || rxl_kill_dpdk "$pid" rxlogd
  [[ -z ${spid:-} ]] || kill "$spid" 2>/dev/null || true
  rm -rf "$tmp"
}
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; [[ -f $tmp/err ]] && tail -5 "$tmp/err" >&2; exit 1; }
read -r pn ps pl pm pj px pw <<<"$(rxl_free_ports 7)"
wide=$(printf 'w%.0s' $(seq 150)) # a 150-character topic name

"$rxlogd" --data "$tmp/data" --source socket --hugepages off --memory-mb 256 \
  --eal "--log-level=4" --stats-interval 0 --prometheus "127.0.0.1:$pm" \
  --listen "$pn/native:topic=telemetry,partitions=4" \
  --listen "$ps/syslog:topic=syslog,partitions=2" \
  --listen "$pl/lines:topic=app" --listen "$pj/native:topic=jobs,partitions=2,max_event_bytes=64" \
  --listen "$pw/raw:topic=$wide,partitions=50" \
  >"$tmp/out" 2>"$tmp/err" &
pid=$!
rxl_wait_listening "$pid" "$tmp/err" 4 || fail "rxlogd did not start"
# A Prometheus endpoint the user set but that cannot be served (the port is
# the first rxlogd's) stops start-up, before EAL, with what to change.
rc=0
timeout 20 "$rxlogd" --data "$tmp/data2" --source socket --hugepages off --prometheus "127.0.0.1:$pm" \
  --listen "$px/raw:topic=x" >"$tmp/out2" 2>"$tmp/err2" || rc=$?
((rc == 1)) && grep -q "prometheus 127.0.0.1:$pm: .*set --prometheus to a free IPV4:PORT or off" \
  "$tmp/err2" || fail "a busy --prometheus port: exit $rc, $(cat "$tmp/err2")"
[[ ! -e $tmp/data2 ]] || fail "start-up went on past a busy --prometheus port"
# Idle, the socket source sleeps (poll(2), writer naps): CPU time over 2 s
# stays far under the 4 s that two busy-polling lcores take.
cpu_ticks() { awk '{print $14 + $15}' "/proc/$pid/stat"; }
sleep 0.5 # past the first 1024 empty rounds
t0=$(cpu_ticks)
sleep 2
t1=$(cpu_ticks)
hz=$(getconf CLK_TCK)
(((t1 - t0) * 4 < 2 * hz)) || fail "idle rxlogd used $(((t1 - t0) * 1000 / hz)) ms of CPU in 2 s"

# A consumer following the native topic while the events arrive: the
# latency from each event's send time (rxlog-gen puts it in send_ns) to
# the consumer handling it.
"$stats" --data "$tmp/data" --topic telemetry --group latency --idle-exit-ms 3000 \
  >"$tmp/stats.out" 2>&1 &
spid=$!
sent=0 dgrams=0
for spec in "native $pn --count 40000 --producers 6 --rate 200000" \
            "syslog $ps --count 5000 --producers 20 --rate 50000" \
            "lines $pl --count 8000 --events-per-datagram 8 --rate 80000"; do
  set -- $spec
  out=$("$gen" --format "$1" --udp "127.0.0.1:$2" "${@:3}")
  sent=$((sent + $(sed -E 's/.*"events":([0-9]+).*/\1/' <<<"$out")))
  dgrams=$((dgrams + $(sed -E 's/.*"datagrams":([0-9]+).*/\1/' <<<"$out")))
done
wait "$spid" || fail "rxlog-stats: $(cat "$tmp/stats.out")"
# 40,000 native events carry a send time; p99 within a second at this rate.
python3 - "$tmp/stats.out" <<'PY' || fail "latency: $(grep latency "$tmp/stats.out")"
import re, sys
m = re.search(r"latency send->consumer: (\d+) records, p50 ([\d.]+) us, p99 ([\d.]+) us, "
              r"max ([\d.]+) us", open(sys.argv[1]).read())
n, p50, p99, mx = int(m.group(1)), float(m.group(2)), float(m.group(3)), float(m.group(4))
assert n == 40000 and 0 < p50 <= p99 <= mx and p99 < 1e6, (n, p50, p99, mx)
print(f"latency send->consumer: p50 {p50:.0f} us, p99 {p99:.0f} us", file=sys.stderr)
PY
# rxlog produce on a topic rxlogd owns goes through rxlogd (one writer per
# partition): native datagrams for telemetry, lines for app. Input from
# files, so that each run is one datagram (produce sends whenever stdin
# pauses, and a pipe from printf may pause between lines).
printf 'p900 seq=%d x\n' 1 2 3 >"$tmp/p900"
printf 'p901 seq=%d y\n' 1 2 3 >"$tmp/p901"
"$rxlog" produce --data "$tmp/data" --topic telemetry --key k900 <"$tmp/p900" \
  2>"$tmp/produce.err" || fail "produce via rxlogd: $(cat "$tmp/produce.err")"
grep -q "sent 3 record(s) to rxlogd" "$tmp/produce.err" || fail "produce: $(cat "$tmp/produce.err")"
"$rxlog" produce --data "$tmp/data" --topic app <"$tmp/p901" 2>/dev/null ||
  fail "produce lines via rxlogd"
if echo z | "$rxlog" produce --data "$tmp/data" --topic app --partition 0 2>"$tmp/produce.err"; then
  fail "--partition accepted while rxlogd owns the topic"
fi
grep -q "chooses the partition" "$tmp/produce.err" || fail "$(cat "$tmp/produce.err")"
sent=$((sent + 6)) dgrams=$((dgrams + 2))
# Lines the lines listener would not store as they are (an empty line, a
# CRLF ending) are refused with the reason, never sent and silently changed.
for input in 'p903 seq=1 a\n\n' 'p903 seq=1 a\r\n'; do
  if printf "$input" | "$rxlog" produce --data "$tmp/data" --topic app 2>"$tmp/produce.err"; then
    fail "produce sent what the lines listener cannot store: $input"
  fi
  grep -q "lines listener would not store as it is" "$tmp/produce.err" || fail "$(cat "$tmp/produce.err")"
done
for _ in $(seq 50); do
  [[ $("$rxlog" cat --data "$tmp/data" --topic app | grep -c '^p903 seq=1 a$') -eq 1 ]] && break
  sleep 0.1
done
[[ $("$rxlog" cat --data "$tmp/data" --topic app | grep -c '^p903 seq=1 a$') -eq 1 ]] ||
  fail "the line before the refused empty one was not sent (once)"
sent=$((sent + 1)) dgrams=$((dgrams + 1)) # the line before the empty one (CRLF: nothing)
# The check is rxlogd's own parser: to the syslog listener, a syslog message
# goes, a line without a priority is refused and named by its drop reason.
echo '<13>Nov 27 10:00:00 prodhost app: p904 seq=1 produced' |
  "$rxlog" produce --data "$tmp/data" --topic syslog 2>"$tmp/produce.err" ||
  fail "produce a syslog message: $(cat "$tmp/produce.err")"
if echo 'p904 seq=2 no priority' | "$rxlog" produce --data "$tmp/data" --topic syslog \
  2>"$tmp/produce.err"; then
  fail "produce sent a line the syslog listener drops"
fi
grep -q "syslog listener would not store as it is (syslog_no_pri)" "$tmp/produce.err" ||
  fail "$(cat "$tmp/produce.err")"
sent=$((sent + 1)) dgrams=$((dgrams + 1))
# A slow stream goes out as it comes (whenever stdin pauses), not when a
# datagram fills or stdin ends, and each line is stamped when it is read
# (native: the sender's timestamp is the record's).
{
  echo "p902 seq=1 slow"
  sleep 1
  echo "p902 seq=2 slow"
  sleep 5
} | "$rxlog" produce --data "$tmp/data" --topic telemetry 2>/dev/null &
slow=$!
for _ in $(seq 40); do
  "$rxlog" cat --data "$tmp/data" --topic telemetry --format json | grep '"value":"p902 ' \
    >"$tmp/slow" || true
  [[ $(wc -l <"$tmp/slow") -eq 2 ]] && break
  sleep 0.1
done
kill -0 "$slow" 2>/dev/null || fail "the slow producer ended before its records were checked"
python3 - "$tmp/slow" <<'PY' || fail "slow stream: $(cat "$tmp/slow")"
import json, sys
r = [json.loads(l) for l in open(sys.argv[1])]
r.sort(key=lambda x: x["value"])  # keyless: partitions round robin
assert [x["value"] for x in r] == ["p902 seq=1 slow", "p902 seq=2 slow"], r
assert r[1]["timestamp"] - r[0]["timestamp"] >= 900, r
PY
wait "$slow" || fail "the slow producer failed"
sent=$((sent + 2)) dgrams=$((dgrams + 2))
# Dead letters back into a topic rxlogd owns: a group rejects every job
# (exit 65), `rxlog dlq redrive` sends them to rxlogd and moves its
# progress only past records it reads back from the topic.
printf 'job%d:payload %d\n' 1 1 2 2 3 3 4 4 5 5 >"$tmp/jobs"
"$rxlog" produce --data "$tmp/data" --topic jobs --key-separator : <"$tmp/jobs" 2>/dev/null ||
  fail "produce jobs"
# Over the listener's max_event_bytes (64): refused, not sent to be dropped.
if printf 'job9:%0100d\n' 9 | "$rxlog" produce --data "$tmp/data" --topic jobs \
  --key-separator : 2>"$tmp/produce.err"; then
  fail "produce sent a record over max_event_bytes"
fi
grep -q "max_event_bytes = 64" "$tmp/produce.err" || fail "$(cat "$tmp/produce.err")"
for _ in $(seq 50); do
  [[ $("$rxlog" topics --data "$tmp/data" | awk '$1 == "jobs" {s += $5} END {print s + 0}') -eq 5 ]] &&
    break
  sleep 0.1
done
RXLOG_DATA="$tmp/data" "$rxlog" consume --group billing --topic jobs --count 5 \
  --idle-exit-ms 3000 -- sh -c 'exit 65' >/dev/null 2>&1 || fail "consume jobs"
"$rxlog" dlq redrive --data "$tmp/data" --group billing --topic jobs >"$tmp/redrive" \
  2>"$tmp/redrive.err" || fail "redrive via rxlogd: $(cat "$tmp/redrive.err")"
[[ $(grep -c ' (via rxlogd)$' "$tmp/redrive") -eq 5 ]] || fail "redrive: $(cat "$tmp/redrive")"
grep -q '^redriven 5 record(s)$' "$tmp/redrive" || fail "redrive: $(cat "$tmp/redrive")"
"$rxlog" dlq list --data "$tmp/data" --group billing --topic jobs |
  awk 'NR > 1 {p += $7} END {exit p != 0}' || fail "dead letters still pending"
"$rxlog" dlq redrive --data "$tmp/data" --group billing --topic jobs | grep -q '^redriven 0 ' ||
  fail "a second redrive sent records again"
sent=$((sent + 10)) dgrams=$((dgrams + 3)) # produce: 1 datagram; redrive: 1 per DLQ partition
# Malformed input is counted by reason, never stored.
printf 'not a native datagram' >/dev/udp/127.0.0.1/$pn
printf 'no priority here' >/dev/udp/127.0.0.1/$ps
sleep 0.5
# The same counters through the Prometheus endpoint and DPDK telemetry.
python3 - "$pm" "$pid" <<'PY' || fail "metrics endpoints"
import json, socket, sys, urllib.request
body = urllib.request.urlopen(f"http://127.0.0.1:{sys.argv[1]}/metrics", timeout=5).read().decode()
m = {l.split(" ")[0]: float(l.split(" ")[1]) for l in body.splitlines() if l and not l.startswith("#")}
assert m["rxlog_events_total"] > 0 and m["rxlog_stored_total"] <= m["rxlog_events_total"], m
assert m['rxlog_drops_total{reason="native_bad_magic"}'] == 1, body
# Per rx lcore: the same counters and drops by reason, adding up to the totals.
def lcores(name):
    return {k: v for k, v in m.items() if k.startswith(f"rxlog_rx_lcore_{name}{{")}
assert sum(lcores("events_total").values()) == m["rxlog_events_total"] > 0, body
assert sum(lcores("bytes_total").values()) == m["rxlog_bytes_total"] > 0, body
for reason in ("native_bad_magic", "syslog_no_pri", "ring_full", "duplicate"):
    per = {k: v for k, v in lcores("drops_total").items() if f'reason="{reason}"' in k}
    assert per and sum(per.values()) == m[f'rxlog_drops_total{{reason="{reason}"}}'], (reason, per)
assert any(k.startswith('rxlog_partition_hwm{topic="telemetry"') for k in m), body
# Per partition: records, and a write-latency histogram per partition whose
# +Inf bucket equals its count and its batches.
for p in range(4):
    lab = f'topic="telemetry",partition="{p}"'
    assert m[f"rxlog_partition_records_total{{{lab}}}"] > 0, body
    n = m[f"rxlog_partition_write_seconds_count{{{lab}}}"]
    assert n == m[f'rxlog_partition_write_seconds_bucket{{{lab},le="+Inf"}}'], body
    assert n == m[f"rxlog_partition_batches_total{{{lab}}}"] > 0, body
s = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
s.connect(f"/var/run/dpdk/rxlogd-{sys.argv[2]}/dpdk_telemetry.v2")
json.loads(s.recv(4096))
s.send(b"/rxlog/stats")
st = json.loads(s.recv(65536))["/rxlog/stats"]
assert st["events"] == m["rxlog_events_total"], (st, m["rxlog_events_total"])
def tel(cmd):
    s.send(cmd.encode())
    return json.loads(s.recv(1 << 20))[cmd.split(",")[0]]  # keyed without parameters
dr = tel("/rxlog/drops")
assert dr["native_bad_magic"] == 1 and dr["syslog_no_pri"] == 1, dr
lc = tel("/rxlog/rx_lcores")
assert lc["rx0"]["native_bad_magic"] == 1 and lc["rx0"]["events"] == st["events"], lc
# 59 partitions, 50 of them with a 150-character topic: more than one
# reply holds (each under DPDK's 16 KiB); "next" is the parameter for the
# rest, and a topic as parameter pages through that topic alone.
def pages(topic=None):
    got, n, nxt = [], 0, None
    while True:
        param = ",".join(str(x) for x in (topic, nxt) if x is not None)
        cmd = "/rxlog/partitions" + (f",{param}" if param else "")
        s.send(cmd.encode())
        raw = s.recv(1 << 20)
        assert len(raw) < 16384, len(raw)
        rep = json.loads(raw)["/rxlog/partitions"]
        n += 1
        nxt = rep.pop("next", None)
        got += list(rep.values())
        if nxt is None:
            return got, n
allp, n = pages()
assert n >= 2, n
parts = {(x["topic"], x["partition"]): x for x in allp}
assert len(allp) == 59 and parts[("telemetry", 0)]["records"] > 0, parts.keys()
wide = "w" * 150
wp, n = pages(wide)
assert n >= 2 and sorted(x["partition"] for x in wp) == list(range(50)), (n, len(wp))
# Telemetry cuts long strings (DPDK's string limit): the topic is a prefix.
assert all(wide.startswith(x["topic"]) and len(x["topic"]) >= 63 for x in wp), \
    {len(x["topic"]) for x in wp}
tele = tel("/rxlog/partitions,telemetry")
assert sorted(x["partition"] for x in tele.values()) == [0, 1, 2, 3], tele
assert parts[("telemetry", 0)]["write_p99_us"] != 0, parts
prods = tel("/rxlog/producers")
assert len(prods) >= 6 and all(p["lost"] == 0 for p in prods.values()), prods
PY
t0=$(date +%s%N)
kill -TERM "$pid"
wait "$pid" || fail "rxlogd exited with $?"
pid=
ms=$(( ($(date +%s%N) - t0) / 1000000 ))
((ms < 1000)) || fail "clean stop took $ms ms (the issue asks for under a second)"
stats=$(tail -1 "$tmp/out")
python3 - "$stats" "$sent" "$dgrams" <<'PY' || fail "counters: $stats"
import json, sys
s = json.loads(sys.argv[1]); sent = int(sys.argv[2]); dgrams = int(sys.argv[3])
assert s["datagrams"] + s["kernel_drops"] == dgrams + 2, (s, dgrams)
assert s["formats"].get("native_bad_magic") == 1 and s["formats"].get("syslog_no_pri") == 1, s
# Every received event is stored or counted where it was dropped.
assert s["events"] == s["stored"] + s["ring_full"] + s["log_drops"], s
assert s["events"] + s["duplicates"] <= sent, s
# The partitions' own counts (published by the writer lcores) add up.
assert sum(p["records"] for p in s["partitions"]) == s["stored"], s["partitions"]
# After the clean stop every partition is durable up to its high-water mark,
# which is past every record this run stored (offsets start at 0 here).
assert all(p["durable"] == p["hwm"] >= p["records"] for p in s["partitions"]), s["partitions"]
assert all(p["write_p99_us"] != 0 for p in s["partitions"] if p["batches"]), s["partitions"]
PY
stored=$(python3 -c "import json,sys; print(json.loads(sys.argv[1])['stored'])" "$stats")
# The logs hold exactly what was stored, cleanly closed.
total=$("$rxlog" topics --data "$tmp/data" | awk 'NR > 1 && $1 !~ /[.]dlq[.]/ {s += $5} END {print s}')
[[ $total == "$stored" ]] || fail "logs hold $total records, rxlogd stored $stored"
for d in "$tmp"/data/*-*; do
  [[ -e $d/clean_shutdown ]] || fail "$d was not closed cleanly"
done
"$rxlog" verify --data "$tmp/data" >/dev/null || fail "verify"
# Order per sender: within a partition, each producer's sequence numbers rise.
for t in telemetry syslog app; do
  "$rxlog" cat --data "$tmp/data" --topic "$t" --format json >"$tmp/$t.json"
done
[[ $(grep -c '"key":"k900"' "$tmp/telemetry.json") -eq 3 ]] || fail "produced records missing"
[[ $(grep -c 'p901 seq=' "$tmp/app.json") -eq 3 ]] || fail "produced lines missing"
[[ ! -e $tmp/data/__rxlogd/telemetry ]] || fail "rxlogd left its registry entry behind"
python3 - "$tmp" <<'PY' || fail "order per sender"
import json, re, sys
for t in ("telemetry", "syslog", "app"):
    last = {}
    for line in open(f"{sys.argv[1]}/{t}.json"):
        r = json.loads(line)
        m = re.search(r"p(\d+) seq=(\d+)", r["value"])
        k = (r["partition"], m.group(1))
        seq = int(m.group(2))
        assert seq > last.get(k, -1), (t, k, seq, last.get(k))
        last[k] = seq
PY
# Redrive through an "rxlogd" that drops everything (a registry entry naming
# this shell's pid and a port nobody reads): nothing shows up in the topic,
# so nothing counts as redriven and every dead letter stays pending.
RXLOG_DATA="$tmp/data" "$rxlog" consume --group audit --topic jobs --count 10 \
  --idle-exit-ms 3000 -- sh -c 'exit 65' >/dev/null 2>&1 || fail "consume jobs (audit)"
echo "format=native addr=127.0.0.1 port=9 pid=$$" >"$tmp/data/__rxlogd/jobs"
if "$rxlog" dlq redrive --data "$tmp/data" --group audit --topic jobs >"$tmp/redrive" \
  2>"$tmp/redrive.err"; then
  fail "redrive into a silent rxlogd succeeded"
fi
grep -q "did not show up in jobs" "$tmp/redrive.err" || fail "$(cat "$tmp/redrive.err")"
grep -q '^redriven 0 record(s)$' "$tmp/redrive" || fail "$(cat "$tmp/redrive")"
"$rxlog" dlq list --data "$tmp/data" --group audit --topic jobs |
  awk 'NR > 1 {p += $7} END {exit p != 10}' || fail "dead letters not all pending"
rm "$tmp/data/__rxlogd/jobs"
echo "1 passed, 0 failed"
