# tests/dataplane: helpers shared by the rxlogd test scripts (sourced).

# rxl_wait_listening PID ERRFILE N: wait (up to 10 s) until rxlogd has
# printed N "listening on UDP" lines to ERRFILE. Returns 1 when it exited
# or took too long.
rxl_wait_listening() {
  local pid=$1 err=$2 n=$3
  for _ in $(seq 100); do
    [[ $(grep -c "listening on UDP" "$err" || true) -ge $n ]] && return 0
    kill -0 "$pid" 2>/dev/null || return 1
    sleep 0.1
  done
  return 1
}

# rxl_free_ports N: N port numbers that no TCP or UDP socket on 127.0.0.1
# holds right now (the kernel picks them), on one line. Tests running at the
# same time get different ones, unlike ports derived from the PID.
rxl_free_ports() {
  python3 - "$1" <<'PY'
import socket, sys
held = []
while len(held) < int(sys.argv[1]):
    t = socket.socket(); t.bind(("127.0.0.1", 0))
    port = t.getsockname()[1]
    u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        u.bind(("127.0.0.1", port))
    except OSError:
        t.close(); u.close(); continue
    held.append((t, u))
print(" ".join(str(t.getsockname()[1]) for t, _ in held))
PY
}

# rxl_veth_setup NS HOST PEER: network namespace NS, a veth pair HOST/PEER
# with PEER inside NS as 198.18.0.2/24, both up. Skips the test (exit 77)
# when the kernel lacks netns or veth. The caller's clean-up removes them
# (rxl_veth_teardown).
rxl_veth_setup() {
  local ns=$1 host=$2 peer=$3
  ip netns add "$ns" 2>/dev/null || { echo "SKIP: cannot create a network namespace"; exit 77; }
  ip link add "$host" type veth peer name "$peer" 2>/dev/null || { echo "SKIP: no veth"; exit 77; }
  ip link set "$peer" netns "$ns"
  ip -n "$ns" addr add 198.18.0.2/24 dev "$peer"
  ip -n "$ns" link set "$peer" up
  ip -n "$ns" link set lo up
  ip link set "$host" up
}

# rxl_veth_teardown NS HOST: undo rxl_veth_setup (any XDP program on HOST
# first); quiet and never fails, for clean-up traps.
rxl_veth_teardown() {
  ip link set dev "$2" xdp off 2>/dev/null || true
  ip link del "$2" 2>/dev/null || true
  ip netns del "$1" 2>/dev/null || true
}

# rxl_need_root_and TOOL...: skip the test (exit 77) unless it runs as root
# (netns, veth) and every TOOL is installed.
rxl_need_root_and() {
  [[ $(id -u) -eq 0 ]] || { echo "SKIP: needs root for netns/veth"; exit 77; }
  local t
  for t in "$@"; do
    command -v "$t" >/dev/null || { echo "SKIP: $t not installed"; exit 77; }
  done
}

# rxl_kill_dpdk PID PROGRAM: SIGKILL a DPDK process (if still there) and
# remove its EAL runtime folder /var/run/dpdk/PROGRAM-PID, also when it
# had already died on its own (a crash leaves the folder behind).
rxl_kill_dpdk() {
  kill -KILL "$1" 2>/dev/null || true
  rm -rf "/var/run/dpdk/$2-$1"
}
