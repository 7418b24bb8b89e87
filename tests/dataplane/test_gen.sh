#!/usr/bin/env bash
# tests: rxlog-gen's captures parse back through the real parsers with
# exactly the events and datagrams it reports (every format).
# Usage: test_gen.sh RXLOG_GEN PCAP_CHECK
set -euo pipefail
gen=$1 check=$2
tmp=$(mktemp -d "${RXL_TEST_TMP:-/tmp}/rxl-gen-XXXXXX")
trap 'rm -rf "$tmp"' EXIT
# run WANT-TIMED FORMAT ARGS...: WANT-TIMED events carry a send_ns header
# ("all": every one).
run() {
  local want=$1 fmt=$2
  shift 2
  local out ev dg got timed
  out=$("$gen" --format "$fmt" --out "$tmp/$fmt.pcap" "$@")
  ev=$(sed -E 's/.*"events":([0-9]+).*/\1/' <<<"$out")
  dg=$(sed -E 's/.*"datagrams":([0-9]+).*/\1/' <<<"$out")
  got=$("$check" "$tmp/$fmt.pcap" "$fmt" "$ev" "$dg") || { echo "FAIL: $fmt $*"; exit 1; }
  timed=$(sed -E 's/.*; ([0-9]+) with a send time/\1/' <<<"$got")
  [ "$want" = all ] && want=$ev
  [ "$timed" = "$want" ] || { echo "FAIL: $fmt $*: $timed events with a send time, want $want"; exit 1; }
}
run all native --count 10000 --producers 7 --events-per-datagram 16 --event-bytes 64
run all native --count 999 --producers 1 --events-per-datagram 2 --event-bytes 700
run 0 native --count 999 --producers 3 --events-per-datagram 16 --event-bytes 64 --no-send-time
run 0 syslog --count 2000 --producers 50 --event-bytes 150
run 0 lines --count 5000 --producers 3 --events-per-datagram 10 --event-bytes 40
echo "1 passed, 0 failed"
