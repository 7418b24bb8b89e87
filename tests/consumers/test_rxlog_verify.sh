#!/usr/bin/env bash
# tests: `rxlog verify` and `rxlog dump` on a real log, before and after damage.
# Usage: test_rxlog_verify.sh RXLOG LOGDEMO
set -euo pipefail
rxlog=$1 logdemo=$2
tmp=$(mktemp -d "${RXL_TEST_TMP:-/tmp}/rxl-cli-XXXXXX")
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

"$logdemo" --data "$tmp" --records 20000 --value-bytes 64 >/dev/null
seg=$tmp/demo-0/00000000000000000000.log

out=$("$rxlog" verify --data "$tmp")
[[ $out == "demo-0: 1 segment(s), "*" batches, offsets [0, 20000): ok" ]] || fail "clean verify: $out"

dump=$("$rxlog" dump "$seg")
[[ $(grep -c '^baseOffset: ' <<<"$dump") -gt 1 ]] || fail "dump shows no batches"
grep -q '^baseOffset: 0 lastOffset: ' <<<"$dump" || fail "dump does not start at offset 0"
[[ $("$rxlog" dump --records "$seg" | grep -c '^| offset: ') -eq 20000 ]] || fail "dump --records count"

# Flip one byte in the middle of the segment: verify must find it, say where,
# and exit 1 without changing anything.
size=$(stat -c %s "$seg")
printf '\xff' | dd of="$seg" bs=1 seek=$((size / 2)) conv=notrunc status=none
set +e
out=$("$rxlog" verify --data "$tmp" demo-0 2>&1); rc=$?
set -e
[[ $rc -eq 1 ]] || fail "verify of a damaged log exited $rc"
grep -q "invalid batch in segment 00000000000000000000 at byte" <<<"$out" || fail "no location: $out"
grep -q "run \`rxlog verify --repair\`" <<<"$out" || fail "no advice: $out"
[[ $(stat -c %s "$seg") -eq $size ]] || fail "verify without --repair changed the file"

out=$("$rxlog" verify --repair --data "$tmp" demo-0) || fail "repair failed: $out"
grep -q ": cut there" <<<"$out" || fail "repair output: $out"
out=$("$rxlog" verify --data "$tmp")
[[ $out == *": ok" ]] || fail "after repair: $out"
(( $(stat -c %s "$seg") < size )) || fail "repair did not cut"

# Errors that say what to do.
set +e
out=$(RXLOG_DATA= "$rxlog" verify 2>&1); rc=$?
set -e
[[ $rc -eq 2 && $out == *"pass --data DIR or set RXLOG_DATA"* ]] || fail "missing data dir: $rc $out"
set +e
out=$("$rxlog" verify --data "$tmp" nosuch-1 2>&1); rc=$?
set -e
[[ $rc -eq 1 && $out == *"is not a partition"* ]] || fail "unknown partition: $rc $out"
echo "1 passed, 0 failed"
