#!/usr/bin/env bash
# tests: rxlogd on a DPDK port (net_pcap): a capture written by rxlog-gen
# (native and syslog) plus hand-made frames — an ARP request for our
# address, truncated and malformed frames, a datagram to another port, a
# garbage payload, damaged UDP and IPv4 checksums, a bad UDP length, VLAN
# tags (one and two), an IPv6 datagram, fragments, an oversize event —
# replayed into rxlogd; then every frame and event is accounted for by
# reason, every event the generator reports sending is stored (with its
# content, headers and order per producer), the ARP reply went out
# (tx_pcap), and the logs hold exactly the stored records.
# Usage: test_rxlogd_pcap.sh RXLOGD RXLOG_GEN RXLOG
set -euo pipefail
source "$(dirname "$0")/testlib.sh"
rxlogd=$1 gen=$2 rxlog=$3
tmp=$(mktemp -d "${RXL_TEST_TMP:-/tmp}/rxl-p-XXXXXX")
pid=
cleanup() {
  [[ -z $pid ]] || rxl_kill_dpdk "$pid" rxlogd
  rm -rf "$tmp"
}
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; [[ -f $tmp/err ]] && grep -v '^EAL' "$tmp/err" | tail -5 >&2; exit 1; }

"$gen" --format native --out "$tmp/n.pcap" --count 2000 --producers 5 --dst 198.18.0.1 \
  --dst-port 7000 >"$tmp/gen1"
"$gen" --format syslog --out "$tmp/s.pcap" --count 300 --producers 9 --dst 198.18.0.1 \
  --dst-port 5514 >"$tmp/gen2"
# Native dedupe through rxlogd: producers 1-3 (the ids of the first capture)
# restart with epoch 2 and retransmit every 4th datagram, then restart again
# with epoch 3: the retransmissions are dropped as duplicates, a restart is
# neither a gap nor a duplicate.
"$gen" --format native --out "$tmp/d1.pcap" --count 600 --events-per-datagram 10 --producers 3 \
  --dst 198.18.0.1 --dst-port 7001 --epoch 2 --duplicate-every 4 >"$tmp/gen3"
"$gen" --format native --out "$tmp/d2.pcap" --count 300 --events-per-datagram 10 --producers 3 \
  --dst 198.18.0.1 --dst-port 7001 --epoch 3 >"$tmp/gen4"
# Hand-made frames, appended as pcap records.
python3 - "$tmp/extra.pcap" <<'PY'
import struct, sys
def csum(b):
    if len(b) % 2: b += b"\0"
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    while s >> 16: s = (s & 0xffff) + (s >> 16)
    return ~s & 0xffff
def udp4(dst_ip, dport, payload, src_ip=bytes([198, 18, 0, 77]), with_csum=False):
    udp = struct.pack("!HHHH", 40000, dport, 8 + len(payload), 0) + payload
    if with_csum:  # RFC 768: over the pseudo-header too; a computed 0 is sent as 0xffff
        c = csum(src_ip + dst_ip + struct.pack("!BBH", 0, 17, len(udp)) + udp) or 0xffff
        udp = udp[:6] + struct.pack("!H", c) + udp[8:]
    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), 1, 0x4000, 64, 17, 0, src_ip, dst_ip)
    ip = ip[:10] + struct.pack("!H", csum(ip)) + ip[12:]
    return b"\x02\0\0\0\0\x01\x02\0\0\0\0\x02\x08\x00" + ip + udp
def vlan(frame, *vids):  # 802.1Q tags after the MAC addresses (the outer one first)
    tags = b"".join(struct.pack("!HH", 0x8100, v) for v in vids)
    return frame[:12] + tags + frame[12:]
def udp6(src, dst, dport, payload):  # unfragmented, with its (mandatory) checksum
    ulen = 8 + len(payload)
    udp = struct.pack("!HHHH", 40003, dport, ulen, 0) + payload
    c = csum(src + dst + struct.pack("!I", ulen) + b"\0\0\0\x11" + udp) or 0xffff
    udp = udp[:6] + struct.pack("!H", c) + udp[8:]
    ip6 = struct.pack("!IHBB", 0x60000000, ulen, 17, 64) + src + dst
    return b"\x02\0\0\0\0\x01\x02\0\0\0\0\x02\x86\xdd" + ip6 + udp
def udp_len(frame, n):  # the UDP length field set to n (IPv4, no options)
    return frame[:38] + struct.pack("!H", n) + frame[40:]
def flip(frame, at):  # one bit of the frame turned over, as on a bad link
    return frame[:at] + bytes([frame[at] ^ 0x10]) + frame[at + 1:]
us = bytes([198, 18, 0, 1])
arp = (b"\xff" * 6 + b"\x02\0\0\0\0\x09\x08\x06" +
       struct.pack("!HHBBH", 1, 0x0800, 6, 4, 1) + b"\x02\0\0\0\0\x09" + bytes([198, 18, 0, 9]) +
       b"\0" * 6 + us + b"\0" * 18)
def ns(target, src):
    opt = bytes([1, 1]) + b"\x02\0\0\0\0\x0a"            # source link-layer address
    icmp = bytes([135, 0, 0, 0, 0, 0, 0, 0]) + target + opt
    dst = bytes([0xff, 2] + [0] * 9 + [1, 0xff]) + target[13:]
    ph = src + dst + struct.pack("!I", len(icmp)) + b"\0\0\0\x3a"
    c = csum(ph + icmp)
    icmp = icmp[:2] + struct.pack("!H", c) + icmp[4:]
    ip6 = struct.pack("!IHBB", 0x60000000, len(icmp), 58, 255) + src + dst
    return b"\x33\x33\xff" + target[13:] + b"\x02\0\0\0\0\x0a\x86\xdd" + ip6 + icmp
def frag4(dst_ip, dport, payload, ident, mtu_data=1480):
    udp = struct.pack("!HHHH", 40001, dport, 8 + len(payload), 0) + payload
    out = []
    for off in range(0, len(udp), mtu_data):
        chunk = udp[off:off + mtu_data]
        more = 0x2000 if off + mtu_data < len(udp) else 0
        ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(chunk), ident, more | (off // 8), 64,
                         17, 0, bytes([198, 18, 0, 78]), dst_ip)
        ip = ip[:10] + struct.pack("!H", csum(ip)) + ip[12:]
        out.append(b"\x02\0\0\0\0\x01\x02\0\0\0\0\x02\x08\x00" + ip + chunk)
    return out
def frag6(src, dst, dport, payload, ident, mtu_data=1232, bad_csum=False):
    ulen = 8 + len(payload)
    ph = src + dst + struct.pack("!I", ulen) + b"\0\0\0\x11"
    udp = struct.pack("!HHHH", 40002, dport, ulen, 0) + payload
    c = csum(ph + udp) or 0xffff
    if bad_csum:  # only the whole datagram can tell: checked after reassembly
        c ^= 0x0100
    udp = udp[:6] + struct.pack("!H", c) + udp[8:]
    out = []
    for off in range(0, len(udp), mtu_data):
        chunk = udp[off:off + mtu_data]
        more = 1 if off + mtu_data < len(udp) else 0
        fh = struct.pack("!BBHI", 17, 0, off | more, ident)
        ip6 = struct.pack("!IHBB", 0x60000000, 8 + len(chunk), 44, 64) + src + dst
        out.append(b"\x02\0\0\0\0\x01\x02\0\0\0\0\x02\x86\xdd" + ip6 + fh + chunk)
    return out
big = (b"<134>1 2026-11-27T10:00:00.000Z fraghost app 1 - - " + b"x" * 2950)
us6 = bytes.fromhex("20010db8000000000000000000000001")
them6 = bytes.fromhex("20010db8000000000000000000000009")
them6 = bytes.fromhex("20010db8000000000000000000000009")
frames = [
    arp,                                        # answered
    ns(us6, them6),                             # answered with a neighbour advertisement
    b"\x02\0\0\0\0\x01\x02\0\0",                # truncated_ethernet
    udp4(us, 7000, b"garbage, not native")[:-3],       # cut short: ipv4_length
    udp4(us, 7000, b"garbage, not native"),             # whole: native_bad_magic
    udp4(us, 9999, b"to a port nobody listens on"),     # not ours
    udp4(bytes([198, 18, 0, 2]), 7000, b"RXLN"),        # another address: not ours
    udp4(us, 7000, b"RXLN\x01\x00\x00\x01" + b"\0" * 10),  # native, truncated
    udp4(us, 5514, b"no priority"),                     # syslog_no_pri
    # Checksums (net_pcap: verified in software, checksum = auto).
    udp4(us, 5514, b"<14>Nov 27 10:00:00 csumgood app: kept", with_csum=True),
    flip(udp4(us, 5514, b"<14>Nov 27 10:00:00 csumbad1 app: payload bit", with_csum=True), 80),
    flip(udp4(us, 5514, b"<14>Nov 27 10:00:00 csumbad2 app: header bit"), 14 + 8),  # TTL
    udp_len(udp4(us, 5514, b"<14>Nov 27 10:00:00 udplen app: long"), 200),  # udp_length
    vlan(udp4(us, 5514, b"<14>Nov 27 10:00:00 vlanhost app: one tag"), 100),
    vlan(udp4(us, 5514, b"<14>Nov 27 10:00:00 qinqhost app: two tags"), 200, 100),
    vlan(udp4(us, 5514, b"<14>Nov 27 10:00:00 vlan3 app: three tags"), 1, 2, 3),  # too_many_vlans
    udp6(them6, us6, 5514, b"<14>Nov 27 10:00:00 v6host app: over IPv6"),
    udp4(us, 6000, b"short\n" + b"y" * 40 + b"\nlast\n"),  # lines: one oversize_event
] + frag4(us, 5514, big, 4242) + frag6(them6, us6, 5514, big.replace(b"fraghost", b"frag6hst"), 77) \
  + frag6(them6, us6, 5514, big.replace(b"fraghost", b"frag6bad"), 78, bad_csum=True)
with open(sys.argv[1], "wb") as f:
    for fr in frames:
        f.write(struct.pack("<IIII", 1, 0, len(fr), len(fr)) + fr)
PY
(cat "$tmp/n.pcap"; tail -c +25 "$tmp/s.pcap"; tail -c +25 "$tmp/d1.pcap"
 tail -c +25 "$tmp/d2.pcap"; cat "$tmp/extra.pcap") >"$tmp/in.pcap"
frames=$(python3 -c "
import struct,sys
d=open(sys.argv[1],'rb').read(); o=24; n=0
while o < len(d): n+=1; o+=16+struct.unpack('<I',d[o+8:o+12])[0]
print(n)" "$tmp/in.pcap")

"$rxlogd" --data "$tmp/data" --port "net_pcap0,rx_pcap=$tmp/in.pcap,tx_pcap=$tmp/out.pcap" \
  --addr 198.18.0.1 --addr 2001:db8::1 --hugepages off --memory-mb 256 --eal "--no-telemetry --log-level=4" \
  --stats-interval 0 \
  --listen "7000/native:topic=telemetry,partitions=4" \
  --listen "5514/syslog:topic=syslog,partitions=2" \
  --listen "6000/lines:topic=app,max_event_bytes=16" \
  --listen "7001/native:topic=dedupe,partitions=2" >"$tmp/out" 2>"$tmp/err" &
pid=$!
# net_pcap gives no end-of-file signal: wait until the logs hold every
# event that the captures carry and rxlogd keeps (the generated ones, 6 hand-made
# syslog messages, 2 lines), or 60 s.
rxl_wait_listening "$pid" "$tmp/err" 4 || fail "rxlogd did not start"
want=$(python3 -c 'import json,sys; print(sum(json.load(open(f))["events"] for f in sys.argv[1:]) + 8)' \
  "$tmp/gen1" "$tmp/gen2" "$tmp/gen3" "$tmp/gen4")
for _ in $(seq 600); do
  have=$("$rxlog" topics --data "$tmp/data" 2>/dev/null | awk 'NR > 1 {s += $5} END {print s + 0}')
  ((have >= want)) && break
  kill -0 "$pid" 2>/dev/null || fail "rxlogd exited while replaying"
  sleep 0.1
done
sleep 0.3 # anything beyond what was expected would show up in the counts below
kill -TERM "$pid"
wait "$pid" || fail "rxlogd exited with $?"
pid=
stats=$(tail -1 "$tmp/out"); [[ -n ${RXL_SHOW:-} ]] && echo "$stats" >&2
python3 - "$stats" "$frames" <<'PY' || fail "counters: $stats"
import json, sys
s = json.loads(sys.argv[1]); frames = int(sys.argv[2])
assert s["nic"]["ipackets"] == frames, (s["nic"], frames)
fr = s["frames"]
# Every frame once, plus the reassembled datagram that failed its own check
# (its fragments were counted as fragments).
assert sum(fr.values()) == frames + 1, fr
assert fr.get("arp") == 1 and fr.get("ndp_ns") == 1 and fr.get("truncated_ethernet") == 1, fr
assert fr.get("fragment") == 9 and s["reassembled"] == 3, (fr, s["reassembled"])
assert s["not_ours"] == 2, s
assert s["formats"].get("native_truncated", 0) >= 1, s["formats"]
assert s["formats"].get("native_bad_magic") == 1 and fr.get("ipv4_length") == 1, (s["formats"], fr)
assert s["formats"].get("syslog_no_pri") == 1, s["formats"]
assert fr.get("udp_checksum") == 2 and fr.get("ipv4_checksum") == 1, fr  # 1 reassembled
assert fr.get("udp_length") == 1 and fr.get("too_many_vlan_tags") == 1, fr
assert s["formats"].get("oversize_event") == 1, s["formats"]
assert s["events"] == s["stored"] + s["ring_full"] + s["log_drops"], s
assert s["ring_full"] == 0 and s["log_drops"] == 0 and s["gaps"] == 0, s
PY
stored=$(python3 -c "import json,sys; print(json.loads(sys.argv[1])['stored'])" "$stats")
total=$("$rxlog" topics --data "$tmp/data" | awk 'NR > 1 {s += $5} END {print s}')
[[ $total == "$stored" ]] || fail "logs hold $total records, rxlogd stored $stored"
"$rxlog" verify --data "$tmp/data" >/dev/null || fail "verify"
# Both fragmented messages (IPv4 and IPv6) were reassembled byte for byte.
"$rxlog" cat --data "$tmp/data" --topic syslog --format json | python3 -c '
import json, sys
want = {"fraghost", "frag6hst"}
seen = set()
for line in sys.stdin:
    r = json.loads(line)
    seen.add(r["key"])
    if r["key"] in want:
        assert len(r["value"]) == 51 + 2950 and r["value"].endswith("x" * 2950), r["key"]
        want.discard(r["key"])
assert not want, want
# The datagram with a correct UDP checksum is kept, the two damaged ones not.
assert "csumgood" in seen and not {"csumbad1", "csumbad2", "frag6bad"} & seen, seen
' || fail "reassembled messages, checksums"
# Every event rxlog-gen reports sending is stored, with its content: native
# values carry producer and sequence (rising per producer in its
# partition), syslog records their headers; the hand-made frames add the
# kept syslog messages above and two lines.
"$rxlog" cat --data "$tmp/data" --topic telemetry --format json >"$tmp/tel.json"
"$rxlog" cat --data "$tmp/data" --topic syslog --format json >"$tmp/sys.json"
"$rxlog" cat --data "$tmp/data" --topic app --format value >"$tmp/app.txt"
"$rxlog" cat --data "$tmp/data" --topic dedupe --format json >"$tmp/dedupe.json"
python3 - "$tmp" "$(cat "$tmp/gen1")" "$(cat "$tmp/gen2")" "$(cat "$tmp/gen3")" \
  "$(cat "$tmp/gen4")" "$stats" <<'PY' || fail "generated events"
import json, re, sys
tmp = sys.argv[1]
g1, g2, g3, g4, s = (json.loads(x) for x in sys.argv[2:7])
# Dedupe: exactly the retransmitted events dropped, each event once, in
# sequence order per producer and epoch within its partition.
assert g3["duplicate_events"] == 150 and s["duplicates"] == g3["duplicate_events"], (g3, s)
ded = [json.loads(l) for l in open(f"{tmp}/dedupe.json")]
assert len(ded) == g3["events"] + g4["events"] == 900, len(ded)
# Epoch 2 sent sequences 0-199 per producer, epoch 3 0-99: each stored once
# per epoch, so 0-99 twice and 100-199 once.
from collections import Counter, defaultdict
cnt, runs = Counter(), defaultdict(list)
for r in ded:
    m = re.match(r"p(\d+) seq=(\d+)", r["value"])
    cnt[(m.group(1), int(m.group(2)))] += 1
    runs[(r["partition"], m.group(1))].append(int(m.group(2)))
assert all(cnt[(p, q)] == (2 if q < 100 else 1) for p in ("0", "1", "2") for q in range(200)), cnt
assert len(cnt) == 600, len(cnt)
for k, qs in runs.items():           # rising, but for one restart (the new epoch)
    assert sum(1 for a, b in zip(qs, qs[1:]) if b <= a) == 1, (k, qs)
prods = {x["id"]: x for x in s["producers"]}
for pid in (1, 2, 3):  # epochs 0 (first capture), 2 and 3: 400 + 200 + 100 events
    x = prods[pid]
    assert x["epoch"] == 3 and x["duplicates"] == 50 and x["lost"] == 0, x
    assert x["accepted"] == 700, x
tel = [json.loads(l) for l in open(f"{tmp}/tel.json")]
assert len(tel) == g1["events"] == 2000, (len(tel), g1)
last, seen = {}, set()
for r in tel:
    m = re.match(r"p(\d+) seq=(\d+)", r["value"])
    assert m, r["value"]
    k = (r["partition"], m.group(1))
    assert int(m.group(2)) > last.get(k, -1), (k, m.group(2), last.get(k))
    last[k] = int(m.group(2))
    seen.add((m.group(1), int(m.group(2))))
assert len(seen) == 2000, len(seen)  # each event once
sysl = [json.loads(l) for l in open(f"{tmp}/sys.json")]
hand = {"csumgood", "fraghost", "frag6hst", "vlanhost", "qinqhost", "v6host"}
gen = [r for r in sysl if r["key"] not in hand]
assert len(gen) == g2["events"] == 300, (len(gen), g2)
assert {r["key"] for r in sysl} >= hand, {r["key"] for r in sysl}
assert len(sysl) == 300 + len(hand), len(sysl)
for r in gen:
    h = r["headers"]
    assert r["value"].startswith("<") and {"severity", "facility", "app", "src"} <= set(h), r
    # rxlog-gen: producer p sends as host-p from 198.18.0.(10+p)
    p = int(r["key"].split("-")[1])
    assert h["src"] == f"198.18.0.{10 + p}", (r["key"], h)
assert [l.rstrip("\n") for l in open(f"{tmp}/app.txt")] == ["short", "last"]
PY
# The ARP reply: from our address to the asker, opcode 2.
python3 - "$tmp/out.pcap" <<'PY' || fail "no ARP reply in tx_pcap"
import struct, sys
d = open(sys.argv[1], "rb").read(); o = 24; ok = False
while o < len(d):
    n = struct.unpack("<I", d[o + 8:o + 12])[0]; fr = d[o + 16:o + 16 + n]; o += 16 + n
    if fr[12:14] == b"\x08\x06" and fr[20:22] == b"\x00\x02":
        ok = fr[28:32] == bytes([198, 18, 0, 1]) and fr[38:42] == bytes([198, 18, 0, 9]) \
             and fr[0:6] == b"\x02\0\0\0\0\x09"
assert ok
PY
# The neighbour advertisement: to the asker, our target, a valid checksum.
python3 - "$tmp/out.pcap" <<'PY' || fail "no neighbour advertisement in tx_pcap"
import struct, sys
def csum(b):
    if len(b) % 2: b += b"\0"
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    while s >> 16: s = (s & 0xffff) + (s >> 16)
    return s
d = open(sys.argv[1], "rb").read(); o = 24; ok = False
while o < len(d):
    n = struct.unpack("<I", d[o + 8:o + 12])[0]; fr = d[o + 16:o + 16 + n]; o += 16 + n
    if fr[12:14] == b"\x86\xdd" and fr[20] == 58 and fr[54] == 136:
        ip, icmp = fr[14:54], fr[54:54 + 32]
        ph = ip[8:40] + struct.pack("!I", 32) + b"\0\0\0\x3a"
        ok = (fr[0:6] == b"\x02\0\0\0\0\x0a" and ip[24:40] == bytes.fromhex("20010db8000000000000000000000009")
              and icmp[8:24] == bytes.fromhex("20010db8000000000000000000000001")
              and icmp[4] & 0x40 and icmp[24] == 2 and csum(ph + icmp) == 0xffff)
assert ok
PY
echo "1 passed, 0 failed"
