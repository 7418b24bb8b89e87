#!/usr/bin/env bash
# tests: the rxlog tool end to end — topics, cat, produce, groups, consume, dlq —
# each output (stdout, stderr, exit status) compared exactly with a golden file
# in tests/consumers/cli/, plus checks computed independently of rxlog.
# Usage: test_rxlog_cli.sh RXLOG LOGDEMO   (RXL_UPDATE_GOLDEN=1 rewrites the goldens)
set -uo pipefail
rxlog=$(realpath "$1") logdemo=$(realpath "$2")
golden=$(cd "$(dirname "$0")/cli" && pwd)
base=${RXL_TEST_TMP:-/tmp}
mkdir -p "$base"
tmp=$(mktemp -d "$base/rxl-cli-XXXXXX")
bg=()
cleanup() {
	for p in "${bg[@]}"; do kill -KILL "$p" 2>/dev/null; done
	rm -rf "$tmp"
}
trap cleanup EXIT
unset RXLOG_DATA
cd "$tmp" || exit 1
mkdir data out in
passed=0 failed=0
T0=1700000000000 # 2023-11-14T22:13:20.000Z

fail() { echo "FAIL: $*" >&2; failed=$((failed + 1)); }
ok() { passed=$((passed + 1)); }
expect() { # expect DESC COND...: a check that does not need a golden file
	if "${@:2}"; then ok; else fail "$1"; fi
}

# Wall-clock times and pids vary from run to run: mask them.
mask() { sed -E -e 's/"dlq\.time":"[0-9]+"/"dlq.time":"<ms>"/g' -e 's/pid [0-9]+/pid <pid>/g'; }

checked=()
check() { # check NAME: out/NAME against the golden NAME
	checked+=("$1")
	if [[ ${RXL_UPDATE_GOLDEN:-} == 1 ]]; then
		cp "out/$1" "$golden/$1"
		ok
	elif diff -u "$golden/$1" "out/$1" >&2; then
		ok
	else
		fail "$1 differs from its golden file (diff above)"
	fi
}

run() { # [SORTED=1] run NAME [<INPUT] ARGS...: rxlog ARGS; record stdout, stderr, exit; check
	local name=$1 input=/dev/null rc
	shift
	if [[ $1 == "<"* ]]; then
		input=${1#<}
		shift
	fi
	"$rxlog" "$@" <"$input" >out/stdout 2>out/stderr
	rc=$?
	if [[ ${SORTED:-} == 1 ]]; then # order across partitions is not the contract
		sort -o out/stdout out/stdout
		sort -o out/stderr out/stderr
	fi
	{
		printf '$ rxlog'
		printf ' %q' "$@"
		printf '\n'
		cat out/stdout
		echo "--- stderr"
		cat out/stderr
		echo "--- exit $rc"
	} | mask >"out/$name"
	check "$name"
}

wait_for() { # wait_for DESC COND...: up to 10 s
	local i
	for ((i = 0; i < 500; i++)); do
		"${@:2}" && return 0
		sleep 0.02
	done
	fail "timed out waiting for $1"
	return 1
}
has_lines() { [[ -f $1 ]] && (($(wc -l <"$1") >= $2)); }
lock_pid_is() { [[ -f $1 && $(cat "$1" 2>/dev/null) == "$2" ]]; }
last_value_is() { [[ $("$rxlog" cat --data data --topic "$1" --partition "$2" | tail -n 1) == "$3" ]]; }

# ---- data directory errors -----------------------------------------------------
RXLOG_DATA='' run 01-no-data-dir.txt topics
run 02-missing-data-dir.txt topics --data nosuch
run 03-cat-missing-data-dir.txt cat --data nosuch --topic events

# ---- produce, topics ---------------------------------------------------------------
printf 'alpha\tone\nbeta\ttwo\ngamma\tthree\ndelta\tfour\n' >in/events1
printf 'epsilon\tfive\nalpha\tsix\n' >in/events2
run 04-produce-unknown-topic.txt produce --data data --topic events
run 05-produce-create.txt "<in/events1" produce --data data --topic events --partitions 3 \
	--key-separator $'\t' --timestamp-ms $T0 --header source=cli-test
run 06-produce-more.txt "<in/events2" produce --data data --topic events --key-separator $'\t' \
	--timestamp-ms $((T0 + 60000))
run 07-produce-partitions-mismatch.txt produce --data data --topic events --partitions 4
run 08-produce-bad-separator.txt "<in/events1" produce --data data --topic events \
	--key-separator =
run 09-topics.txt topics --data data
RXLOG_DATA=data run 10-topics-per-partition.txt topics --per-partition

# ---- cat -----------------------------------------------------------------------------
run 11-cat-value.txt cat --data data --topic events
run 12-cat-json.txt cat --data data --topic events --format json
run 13-cat-offset-count.txt cat --data data --topic events --partition 2 --from-offset 1 \
	--count 1 --format json
run 14-cat-from-time.txt cat --data data --topic events --from-time 2023-11-14T22:14:00Z \
	--format json
run 15-cat-from-time-zone.txt cat --data data --topic events \
	--from-time 2023-11-14T23:13:20.001+01:00
run 16-cat-from-latest.txt cat --data data --topic events --from latest
run 17-cat-out-of-range.txt cat --data data --topic events --partition 1 --from-offset 99
run 18-cat-unknown-topic.txt cat --data data --topic nosuch
run 19-cat-offset-needs-partition.txt cat --data data --topic events --from-offset 1
run 20-cat-bad-partition.txt cat --data data --topic events --partition 3
run 21-cat-unknown-option.txt cat --data data --topic events --bogus

# ---- escaping: quotes, backslash, control characters, UTF-8, invalid UTF-8, binary ------
{
	printf 'say "hi" \\ back\\slash\n'
	printf 'ctl:\x01\x1f\x7f\t\r|\n'
	printf 'h\xc3\xa9llo w\xc3\xb6rld \xe2\x82\xac \xf0\x9f\x98\x80 \xe6\x97\xa5\xe6\x9c\xac\n'
	printf '\xff\xfe bad \xc3( \xe0\x80\xaf \xed\xa0\x80 \xf4\x90\x80\x80 end\xe2\x82\n'
	printf '\x00\x01\x02\xff\xfe\x00\n'
	printf '\n'
} >in/esc
# shellcheck disable=SC1003 # the key is k"ey\ (a backslash at its end)
run 22-produce-esc.txt "<in/esc" produce --data data --topic esc --partitions 1 --key 'k"ey\' \
	--header 'h"dr=v\al' --timestamp-ms $T0
run 23-cat-json-escaping.txt cat --data data --topic esc --format json
run 24-cat-json-base64.txt cat --data data --topic esc --format json --base64
run 25-cat-value-base64.txt cat --data data --topic esc --base64
# Independently of rxlog: base64(1) of each input line, and Python's JSON parse
# of each object against the line decoded with U+FFFD for ill-formed UTF-8.
mapfile -t b64 < <("$rxlog" cat --data data --topic esc --base64)
for ((i = 1; i <= 6; i++)); do
	want=$(sed -n "${i}p" in/esc | head -c -1 | base64 -w0)
	expect "base64 of esc line $i" [ "${b64[i - 1]}" == "$want" ]
done
if command -v python3 >/dev/null; then
	"$rxlog" cat --data data --topic esc --format json >out/esc.json
	expect "JSON values equal the input decoded with U+FFFD" python3 - out/esc.json in/esc <<'EOF'
import json, sys
objs = [json.loads(l) for l in open(sys.argv[1], encoding="utf-8")]
lines = open(sys.argv[2], "rb").read().split(b"\n")[:-1]
assert len(objs) == len(lines) == 6, (len(objs), len(lines))
for o, l in zip(objs, lines):
	assert o["value"] == l.decode("utf-8", "replace"), (o["value"], l)
	assert o["key"] == 'k"ey\\' and o["headers"] == {'h"dr': "v\\al"}, o
EOF
fi

# ---- a log written by rxlog-logdemo: 3000 records, timestamps T0 + offset/1000 ----------
"$logdemo" --data demo --records 3000 --value-bytes 8 >/dev/null || fail "logdemo"
run 26-demo-from-time.txt cat --data demo --topic demo --from-time 2023-11-14T22:13:20.001Z \
	--count 2 --format json --base64
run 27-demo-from-time-ms.txt cat --data demo --topic demo --from-time $((T0 + 2)) --count 1 \
	--format json --base64
run 28-demo-from-offset.txt cat --data demo --topic demo --partition 0 --from-offset 2999 \
	--format json --base64
run 29-demo-out-of-range.txt cat --data demo --topic demo --partition 0 --from-offset 3001
row=$("$rxlog" topics --data demo | awk 'NR == 2 { $6 = "B"; print }')
expect "demo topics row: $row" [ "$row" == \
	"demo 1 0 3000 3000 B 2023-11-14T22:13:20.000Z 2023-11-14T22:13:20.002Z" ]

# ---- Kafka's partitioner: murmur2 vectors from Kafka's UtilsTest ----------------------
declare -A vec=([21]=-973932308 [foobar]=-790332482 [a-little-bit-long-string]=-985981536
	[a-little-bit-longer-string]=-1486304829
	[lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8]=-58897971 [abc]=479470107)
keys=(21 foobar a-little-bit-long-string a-little-bit-longer-string
	lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8 abc hello kafka x)
for k in "${keys[@]}"; do printf '%s\tv-%s\n' "$k" "$k"; done >in/keyed
run 30-produce-keyed.txt "<in/keyed" produce --data data --topic keyed --partitions 7 \
	--key-separator $'\t' --timestamp-ms $T0
run 31-cat-keyed.txt cat --data data --topic keyed --format json
declare -A got
while read -r p k; do got[$k]=$p; done < <("$rxlog" cat --data data --topic keyed --format json |
	sed -E 's/.*"partition":([0-9]+).*"key":"([^"]*)".*/\1 \2/')
for k in "${!vec[@]}"; do
	want=$(((vec[$k] & 0x7fffffff) % 7))
	expect "key $k: partition ${got[$k]:-none}, Kafka's $want" [ "${got[$k]:-none}" == "$want" ]
done
if command -v python3 >/dev/null; then
	for k in hello kafka x; do
		want=$(python3 - "$k" <<'EOF'
import sys
def murmur2(d):  # org.apache.kafka.common.utils.Utils.murmur2
	m, h = 0x5bd1e995, (0x9747b28c ^ len(d)) & 0xffffffff
	for i in range(len(d) // 4):
		k = int.from_bytes(d[4 * i:4 * i + 4], "little")
		k = (k * m) & 0xffffffff; k ^= k >> 24; k = (k * m) & 0xffffffff
		h = ((h * m) & 0xffffffff) ^ k
	t, r = d[len(d) & ~3:], len(d) % 4
	if r >= 3: h ^= t[2] << 16
	if r >= 2: h ^= t[1] << 8
	if r >= 1: h = ((h ^ t[0]) * m) & 0xffffffff
	h ^= h >> 13; h = (h * m) & 0xffffffff; h ^= h >> 15
	return h
print((murmur2(sys.argv[1].encode()) & 0x7fffffff) % 7)
EOF
		)
		expect "key $k: partition ${got[$k]:-none}, murmur2 in Python $want" \
			[ "${got[$k]:-none}" == "$want" ]
	done
fi
echo fixed >in/fixed
"$rxlog" produce --data data --topic keyed --key foobar --timestamp-ms $T0 <in/fixed
expect "--key foobar goes to partition 0" last_value_is keyed 0 fixed

# ---- consume: retries, a poison record and a rejected one end in the DLQ --------------
printf 'a\npoison\nc\n' >in/orders0
printf 'd\nbad\n' >in/orders1
printf 'e\nf\n' >in/orders1b
"$rxlog" produce --data data --topic orders --partitions 2 --partition 0 --timestamp-ms $T0 \
	--key k0 <in/orders0 || fail "produce orders-0"
"$rxlog" produce --data data --topic orders --partition 1 --timestamp-ms $T0 <in/orders1 ||
	fail "produce orders-1"
cat >handler.sh <<'EOF'
#!/bin/sh
v=$(cat)
echo "handler: $RXLOG_GROUP $RXLOG_TOPIC-$RXLOG_PARTITION@$RXLOG_OFFSET attempt $RXLOG_ATTEMPT" \
	"key ${RXLOG_KEY-(none)} ts $RXLOG_TIMESTAMP value $v"
case $v in poison) exit 1 ;; bad) exit 65 ;; esac
EOF
chmod +x handler.sh
# Records of different partitions may interleave in any order: sort the lines.
SORTED=1 run 32-consume.txt consume --data data --group billing --topic orders --member m-1 \
	--max-attempts 3 --backoff-ms 1 --count 5 -- ./handler.sh
run 33-groups.txt groups --data data
"$rxlog" produce --data data --topic orders --partition 1 --timestamp-ms $((T0 + 1)) <in/orders1b
run 34-groups-lag.txt groups --data data --group billing
run 35-dlq-list.txt dlq list --data data --group billing --topic orders
run 36-dlq-show.txt dlq show --data data --group billing --topic orders
run 37-dlq-redrive.txt dlq redrive --data data --group billing --topic orders
run 38-cat-after-redrive.txt cat --data data --topic orders --format json
run 39-dlq-list-after.txt dlq list --data data --group billing --topic orders
run 40-dlq-redrive-again.txt dlq redrive --data data --group billing --topic orders
run 41-groups-with-redrive.txt groups --data data
run 42-dlq-none.txt dlq list --data data --group nobody --topic orders
run 43-dlq-unknown-topic.txt dlq show --data data --group billing --topic nosuch
run 44-reset-earliest.txt groups reset --data data --group billing --topic orders --to-earliest
run 45-reset-offset.txt groups reset --data data --group billing --topic orders --partition 1 \
	--to-offset 2
run 46-reset-time.txt groups reset --data data --group billing --topic orders \
	--to-time 2023-11-14T22:13:20.001Z
run 47-reset-out-of-range.txt groups reset --data data --group billing --topic orders \
	--to-offset 99
run 48-reset-dry-run.txt groups reset --data data --group billing --topic orders --to-latest \
	--dry-run
run 49-groups-after-reset.txt groups --data data --group billing
run 50-consume-unknown-topic.txt consume --data data --group g --topic nosuch -- true
run 51-consume-no-command.txt consume --data data --group g --topic orders -- /nonexistent/x

# ---- a live member: reset refused; SIGTERM leaves cleanly ------------------------------
cat >count.sh <<'EOF'
#!/bin/sh
cat >/dev/null
echo "$RXLOG_PARTITION@$RXLOG_OFFSET"
EOF
chmod +x count.sh
"$rxlog" consume --data data --group watchers --topic orders --member live-1 -- ./count.sh \
	>out/watch.out 2>out/watch.err &
wpid=$!
bg+=("$wpid")
wait_for "watchers to consume 9 records" has_lines out/watch.out 9
run 52-reset-live-refused.txt groups reset --data data --group watchers --topic orders \
	--to-earliest
run 53-members-live.txt groups --data data --members --group watchers
kill -TERM "$wpid"
wait "$wpid"
expect "consume exits 0 on SIGTERM" [ $? -eq 0 ]
sort out/watch.out >out/54-watch-records.txt
check 54-watch-records.txt
cp out/watch.err out/55-watch-stderr.txt
check 55-watch-stderr.txt
run 56-groups-after-leave.txt groups --data data --group watchers
run 57-members-after-leave.txt groups --data data --members --group watchers

# ---- a command that fails because the consumer is being stopped: not dead-lettered -------
printf 'ok1\nstopper\nok2\n' >in/stop
"$rxlog" produce --data data --topic stop --partitions 1 --timestamp-ms $T0 <in/stop
cat >stop.sh <<'EOF'
#!/bin/sh
v=$(cat)
echo "handled $v"
if [ "$v" = stopper ]; then kill -TERM "$PPID"; exit 1; fi
EOF
chmod +x stop.sh
run 57a-consume-stopped.txt consume --data data --group stopg --topic stop --member s-1 \
	--max-attempts 1 -- ./stop.sh
run 57b-groups-stopped.txt groups --data data --group stopg
run 57c-dlq-stopped.txt dlq list --data data --group stopg --topic stop

# ---- cat --follow: every partition (futex_waitv) and one (futex) -----------------------
"$rxlog" produce --data data --topic live --partitions 2 </dev/null || fail "create live"
"$rxlog" cat --data data --topic live --follow --format json >out/follow.out &
fpid=$!
bg+=("$fpid")
echo one >in/one
echo two >in/two
echo three >in/three
"$rxlog" produce --data data --topic live --partition 0 --timestamp-ms $T0 <in/one
"$rxlog" produce --data data --topic live --partition 1 --timestamp-ms $((T0 + 1)) <in/two
wait_for "cat --follow to print 2 records" has_lines out/follow.out 2
"$rxlog" cat --data data --topic live --partition 1 --from-offset 1 --follow >out/follow1.out &
f1pid=$!
bg+=("$f1pid")
"$rxlog" produce --data data --topic live --partition 1 --timestamp-ms $((T0 + 2)) <in/three
wait_for "cat --follow to print the third record" has_lines out/follow.out 3
wait_for "cat --follow --partition 1 to print a record" has_lines out/follow1.out 1
kill -INT "$fpid"
wait "$fpid"
expect "cat --follow exits 0 on SIGINT" [ $? -eq 0 ]
kill -TERM "$f1pid"
wait "$f1pid"
expect "cat --follow --partition exits 0 on SIGTERM" [ $? -eq 0 ]
cp out/follow.out out/58-follow.txt
check 58-follow.txt
cp out/follow1.out out/59-follow-partition.txt
check 59-follow-partition.txt

# ---- one writer per partition: produce and redrive refuse a partition another process writes ----
run 60-reset-redrive.txt groups reset --data data --group __redrive.billing \
	--topic orders.dlq.billing --to-earliest
# A sparse topic (a partition without a folder, as a dead-letter topic has
# for partitions that never dead-lettered): its missing partition is empty.
"$rxlog" produce --data data --topic sparse --partitions 3 --partition 2 --timestamp-ms $T0 <in/one
rm -rf data/sparse-1
run 60a-reset-sparse.txt groups reset --data data --group g --topic sparse --to-latest
run 60b-reset-sparse-time.txt groups reset --data data --group g --topic sparse \
	--to-time 2023-11-14T22:13:20Z
run 60c-reset-sparse-range.txt groups reset --data data --group g --topic sparse --to-offset 1
mkfifo fifo
"$rxlog" produce --data data --topic orders --partition 0 --timestamp-ms $T0 <fifo \
	2>out/holder.err &
hpid=$!
bg+=("$hpid")
exec 3>fifo
wait_for "the producer to hold orders-0" lock_pid_is data/orders-0/lock "$hpid"
run 61-produce-locked.txt "<in/one" produce --data data --topic orders --partition 0
run 62-redrive-locked.txt dlq redrive --data data --group billing --topic orders
echo from-holder >&3
wait_for "the holder's record to be visible while it runs" last_value_is orders 0 from-holder
exec 3>&-
wait "$hpid"
expect "the holding producer exits 0" [ $? -eq 0 ]
run 63-redrive-after.txt dlq redrive --data data --group billing --topic orders
run 64-cat-orders-0.txt cat --data data --topic orders --partition 0

# ---- --help everywhere, and usage errors ---------------------------------------------------
for c in topics cat produce groups "groups reset" consume dlq "dlq list" verify dump; do
	# shellcheck disable=SC2086
	out=$("$rxlog" $c --help)
	expect "rxlog $c --help" [ $? -eq 0 ]
	[[ $out == "usage: rxlog"* ]] || fail "rxlog $c --help prints: ${out%%$'\n'*}"
done
run 65-unknown-command.txt frobnicate
run 66-dlq-no-subcommand.txt dlq --group g --topic t

# A golden file no case produced is a case that was lost.
for f in "$golden"/*; do
	[[ " ${checked[*]} " == *" ${f##*/} "* ]] || fail "golden file ${f##*/} is checked by no case"
done

echo "$passed passed, $failed failed"
((failed == 0))
