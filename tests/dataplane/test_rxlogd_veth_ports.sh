#!/usr/bin/env bash
# tests: rxlogd on three other kinds of kernel-interface port, at one end
# of a veth pair whose far end lives in a network namespace this test
# makes (198.18.0.0/24); rxlog-gen sends from inside the namespace out of
# its own DPDK port (net_af_packet on the far end):
#  1. net_af_xdp (one queue on a veth): logger (RFC 5424), rxlog-gen, and
#     a 4000-byte datagram from socat that the sender's kernel fragments:
#     rxlogd reassembles it (rte_ip_frag) and stores it byte for byte;
#  2. net_af_packet with 2 queue pairs and 2 rx lcores: the kernel's
#     fanout hash spreads the generator's 32 flows over both queues, as RSS
#     would, and each flow keeps its order;
#  3. net_tap with 2 queues and 2 rx lcores: of the virtual ports tested
#     here the one that takes an RSS configuration, so rxlogd's RSS set-up
#     runs; the tap interface is moved into a second namespace (198.18.0.2
#     there too), where the kernel's tun driver gives each flow one queue
#     by its hash.
# Each phase: every event sent is stored, once, in order per producer.
# Skips (77) without root, netns or veth; phase 1 skips when XDP cannot
# attach (the reason is printed).
# Usage: test_rxlogd_veth_ports.sh RXLOGD RXLOG RXLOG_GEN
set -euo pipefail
source "$(dirname "$0")/testlib.sh"
rxlogd=$1 rxlog=$2 gen=$3
rxl_need_root_and ip logger socat python3
ns=rxl-np-$$ host=rxp0-$$ peer=rxp1-$$ ns2=rxl-nt-$$ tap=rxt-$$
tmp=$(mktemp -d "${RXL_TEST_TMP:-/tmp}/rxl-p-XXXXXX")
pid=
cleanup() {
  [[ -z $pid ]] || rxl_kill_dpdk "$pid" rxlogd
  rxl_veth_teardown "$ns" "$host"
  ip netns del "$ns2" 2>/dev/null || true # the tap goes when rxlogd closes it
  rm -rf "$tmp"
}
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; grep -v '^EAL' "$tmp/err" 2>/dev/null | tail -5 >&2; exit 1; }
rxl_veth_setup "$ns" "$host" "$peer"
mac=$(cat "/sys/class/net/$host/address")

# start_rxlogd PORT RX_CORES: rxlogd on PORT with syslog and native listeners.
start_rxlogd() {
  rm -rf "$tmp/data"
  "$rxlogd" --data "$tmp/data" --port "$1" --rx-cores "$2" --addr 198.18.0.1 \
    --hugepages off --memory-mb 512 --eal "--no-telemetry --log-level=3" \
    --stats-interval 0 --prometheus off \
    --listen 5514/syslog:topic=syslog,partitions=2 \
    --listen 7000/native:topic=telemetry,partitions=4 \
    --listen 6100/raw:topic=big >"$tmp/out" 2>"$tmp/err" &
  pid=$!
  rxl_wait_listening "$pid" "$tmp/err" 3
}

# send N_LOGGER N_GEN [BIG]: logger lines and rxlog-gen native events from
# namespace $via_ns out of its interface $via_if (after an ARP warm-up: see
# test_rxlogd_veth.sh); with BIG, one datagram of 4000 bytes (three IP
# fragments on a 1500-byte MTU). 32 producers: 32 flows, so that a hash
# putting all of them on one of two queues (1 in 2^31) never fails a phase.
via_ns=$ns via_if=$peer
send() {
  sleep 0.5 # starting the port wipes the interface's neighbour table
  echo warm-up | ip netns exec "$via_ns" socat -u - UDP4-SENDTO:198.18.0.1:9
  sleep 0.3
  if (($1 > 0)); then
    for i in $(seq "$1"); do echo "ietf message $i"; done >"$tmp/ietf"
    ip netns exec "$via_ns" logger -d -n 198.18.0.1 -P 5514 --rfc5424 -t rfc5424 -f "$tmp/ietf"
  fi
  if [[ ${3:-} == big ]]; then
    head -c 3000 /dev/urandom | base64 -w0 | head -c 4000 >"$tmp/big"
    ip netns exec "$via_ns" socat -u -b 65000 "OPEN:$tmp/big" UDP4-SENDTO:198.18.0.1:6100
  fi
  ip netns exec "$via_ns" "$gen" --format native --port "net_af_packet0,iface=$via_if" \
    --dst-mac "$mac" --dst 198.18.0.1 --dst-port 7000 --count "$2" --producers 32 \
    --events-per-datagram 8 --rate 40000 --linger-ms 200 >"$tmp/gen.out" 2>"$tmp/gen.err" ||
    fail "rxlog-gen: $(tail -3 "$tmp/gen.err")"
  sleep 1
  kill -TERM "$pid"
  wait "$pid" || fail "rxlogd exited with $?"
  pid=
}

# check N_LOGGER N_GEN RX_CORES [N_BIG]: the log holds every event, once, in order.
check() {
  "$rxlog" cat --data "$tmp/data" --topic syslog --format json >"$tmp/syslog.json"
  "$rxlog" cat --data "$tmp/data" --topic telemetry --format json >"$tmp/telemetry.json"
  "$rxlog" verify --data "$tmp/data" >/dev/null || fail "verify"
  python3 - "$tmp" "$1" "$2" "$3" "$(tail -1 "$tmp/out")" "$(cat "$tmp/gen.out")" "${4:-0}" <<'PY' ||
import json, re, sys
tmp, nlog, ngen, nrx = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
stats, sent, nbig = json.loads(sys.argv[5]), json.loads(sys.argv[6]), int(sys.argv[7])
assert sent["events"] == ngen and sent["send_errors"] == 0, sent
assert stats["events"] == stats["stored"] == nlog + ngen + nbig, stats
assert stats["gaps"] == 0 and stats["duplicates"] == 0, stats
lc = stats["rx_lcores"]
assert len(lc) == nrx and all(x["datagrams"] > 0 for x in lc), lc   # every queue got flows
msgs = [json.loads(l)["value"] for l in open(f"{tmp}/syslog.json")]
nums = [int(re.search(r"ietf message (\d+)$", v).group(1)) for v in msgs]
assert nums == list(range(1, nlog + 1)), len(nums)                 # one sender: in order
last, seen = {}, {}
for l in open(f"{tmp}/telemetry.json"):
    r = json.loads(l)
    m = re.match(r"p(\d+) seq=(\d+)", r["value"])
    k, seq = (r["partition"], m.group(1)), int(m.group(2))
    assert seq > last.get(k, -1), (k, seq, last.get(k))             # order per producer
    last[k] = seq
    seen.setdefault(m.group(1), []).append(seq)
for p, seqs in seen.items():
    assert sorted(seqs) == list(range(len(seqs))), p                # complete, once
assert sum(len(s) for s in seen.values()) == ngen
PY
    fail "phase: $(tail -1 "$tmp/out")"
}

# 1. af_xdp.
if start_rxlogd "net_af_xdp0,iface=$host" 1; then
  send 1000 16000 big
  python3 -c 'import json,sys; s=json.loads(sys.argv[1]); assert s["reassembled"] == 1 and s["frames"]["fragment"] == 3, s' \
    "$(tail -1 "$tmp/out")" || fail "fragments: $(tail -1 "$tmp/out")"
  "$rxlog" cat --data "$tmp/data" --topic big --format value | head -c 4000 | cmp -s - "$tmp/big" ||
    fail "the reassembled datagram differs from what was sent"
  check 1000 16000 1 1
  echo "af_xdp: 17001 of 17001 events stored, a fragmented datagram reassembled"
else
  why=$(grep -v '^EAL' "$tmp/err" | tail -2 | tr '\n' ' ')
  st=0
  kill -0 "$pid" 2>/dev/null || wait "$pid" || st=$?
  rxl_kill_dpdk "$pid" rxlogd
  pid=
  ip link set dev "$host" xdp off 2>/dev/null || true
  # A kernel without XDP on veth is a skip; a crash is a failure.
  ((st < 128)) || fail "rxlogd on af_xdp died with status $st: $why"
  echo "SKIP (phase 1): af_xdp did not start: $why"
fi

# 2. af_packet, two queues, two rx lcores.
start_rxlogd "net_af_packet0,iface=$host,qpairs=2,framecnt=8192" 2 || fail "rxlogd did not start"
grep -q "2 rx queue(s)" "$tmp/err" || fail "expected 2 rx queues"
send 0 32000
check 0 32000 2
echo "af_packet x2: 32000 of 32000 events stored, both queues used"

# 3. net_tap, two queues with RSS, two rx lcores, fed from a second namespace.
if [[ ! -c /dev/net/tun ]]; then
  echo "SKIP (phase 3): no /dev/net/tun for net_tap"
  echo "1 passed, 0 failed"
  exit 0
fi
ip netns add "$ns2" || fail "cannot create a second network namespace"
if ! start_rxlogd "net_tap0,iface=$tap" 2; then
  grep -q "no DPDK device came up" "$tmp/err" || fail "rxlogd did not start on net_tap"
  echo "SKIP (phase 3): this DPDK has no net_tap driver"
  echo "1 passed, 0 failed"
  exit 0
fi
grep -q "2 rx queue(s) with RSS" "$tmp/err" || fail "expected 2 rx queues with RSS on net_tap"
mac=$(cat "/sys/class/net/$tap/address")
ip link set "$tap" netns "$ns2"
ip -n "$ns2" addr add 198.18.0.2/24 dev "$tap"
ip -n "$ns2" link set "$tap" up
ip -n "$ns2" link set lo up
via_ns=$ns2 via_if=$tap
send 0 32000
check 0 32000 2
echo "tap x2 (RSS configured): 32000 of 32000 events stored, both queues used"
echo "1 passed, 0 failed"
