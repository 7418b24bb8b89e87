#!/usr/bin/env bash
# tests: the example consumers — ledger (event sourcing, balance at time T
# through snapshots and the time index), view (CQRS in SQLite, exactly-once
# effects across a crash), stats (fanout: independent groups).
# Usage: test_examples.sh LEDGER VIEW STATS
set -euo pipefail
ledger=$1 view=$2 stats=$3
tmp=$(mktemp -d "${RXL_TEST_TMP:-/tmp}/rxl-ex-XXXXXX")
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }
data=$tmp/data
mkdir -p "$data"

"$ledger" --data "$data" load --accounts 40 --events 20000 --t0 1700000000000 --step 10 >/dev/null
"$ledger" --data "$data" snapshot --every 500 | grep -q "snapshots written" || fail "snapshot"

# Balance at T by snapshot + time index equals the full replay, with fewer events read.
for at in 1700000000500 1700000050000 1700000123456 1700000199990; do
  for acct in acct-0003 acct-0017 acct-0039; do
    fast=$("$ledger" --data "$data" balance --account $acct --at $at)
    slow=$("$ledger" --data "$data" balance --account $acct --at $at --scan)
    [[ ${fast%% (*} == "${slow%% (*}" ]] || fail "balance $acct@$at: '$fast' vs '$slow'"
    nf=$(sed -E 's/.*, ([0-9]+) events replayed.*/\1/' <<<"$fast")
    ns=$(sed -E 's/.*, ([0-9]+) events replayed.*/\1/' <<<"$slow")
    if ((at > 1700000050000)); then
      ((nf < ns)) || fail "snapshot path read $nf events, full scan $ns"
    fi
  done
done

# The read model: crash after 7000 events (effects done, offsets not all
# committed), restart: every event counted exactly once.
set +e
"$view" --data "$data" --db "$tmp/view.sqlite" --idle-exit-ms 300 --die-after 7000 >/dev/null 2>&1
rc=$?
set -e
((rc != 0)) || fail "the view did not crash on purpose"
out=$("$view" --data "$data" --db "$tmp/view.sqlite" --idle-exit-ms 300)
[[ $out == *"duplicates skipped"* ]] || fail "view output: $out"
dups=$(sed -E 's/.* ([0-9]+) duplicates skipped/\1/' <<<"$out")
((dups > 0)) || fail "the crash caused no redelivery: the test proves nothing"
[[ $(sqlite3 "$tmp/view.sqlite" "select count(*) from applied") == 20000 ]] || fail "applied count"
[[ $(sqlite3 "$tmp/view.sqlite" "select sum(events) from accounts") == 20000 ]] || fail "events"
for acct in acct-0000 acct-0003 acct-0017 acct-0039; do
  want=$("$ledger" --data "$data" balance --account $acct --scan | sed -E 's/.*: (-?[0-9]+) \(.*/\1/')
  got=$(sqlite3 "$tmp/view.sqlite" "select balance from accounts where account='$acct'")
  [[ $got == "$want" ]] || fail "view balance $acct: $got, ledger says $want"
done

# Fanout: two groups each see every record.
for g in stats-a stats-b; do
  out=$("$stats" --data "$data" --topic ledger --group $g --idle-exit-ms 300)
  [[ $(head -1 <<<"$out") == "total: 20000 records,"* ]] || fail "$g: $(head -1 <<<"$out")"
done
echo "1 passed, 0 failed"
