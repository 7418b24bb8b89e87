# Shared by scripts/test, scripts/demo and scripts/bench. Sourced, not run.

RXL_PACKAGES=(meson ninja-build pkg-config gcc g++ liburing-dev libjemalloc-dev libcmocka-dev
  libbenchmark-dev libinih-dev libsqlite3-dev sqlite3 libdpdk-dev dpdk-dev libpcap-dev
  iproute2 socat tcpreplay bsdutils python3)

# Install the packages that are missing (apt-get), once.
rxl_install_deps() {
  local missing=() p
  for p in "${RXL_PACKAGES[@]}" "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  if ((${#missing[@]})); then
    echo "installing: ${missing[*]}"
    if [[ $(id -u) -ne 0 ]]; then
      echo "error: missing packages ${missing[*]} and not root; install them with apt-get" >&2
      return 1
    fi
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${missing[@]}"
  fi
}

# Reserve 2 MiB hugepages for DPDK when we can; callers fall back to --no-huge.
rxl_reserve_hugepages() {
  local want=${RXL_HUGEPAGES:-256}
  [[ -w /proc/sys/vm/nr_hugepages ]] || return 1
  local have
  have=$(cat /proc/sys/vm/nr_hugepages)
  if ((have < want)); then
    echo "$want" >/proc/sys/vm/nr_hugepages 2>/dev/null || return 1
  fi
  (($(cat /proc/sys/vm/nr_hugepages) > 0))
}

# meson setup DIR [options...], or reconfigure when DIR exists.
rxl_configure() {
  local dir=$1
  shift
  if [[ -f $dir/build.ninja ]]; then
    meson configure "$dir" "$@" >/dev/null
  else
    meson setup "$dir" "$@"
  fi
}
