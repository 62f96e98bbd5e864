#!/usr/bin/env bash
# Installs every Debian package the project needs; does nothing when all are
# present. This is the only file that knows package names.
set -euo pipefail

PACKAGES=(
  # build
  build-essential cmake ninja-build git
  # C++ libraries
  libgtest-dev libbenchmark-dev libcli11-dev nlohmann-json3-dev libfmt-dev pybind11-dev
  # the daemon: Boost (Asio, CRC, Process for tests), its config file (toml++),
  # sd_notify for systemd's Type=notify
  libboost-dev libboost-filesystem-dev libtomlplusplus-dev libsystemd-dev
  # Python (Debian's interpreter; PyPI is not reachable); pip, venv and
  # setuptools for test_install.py's offline install into a throwaway venv
  python3 python3-dev python3-pytest python3-psutil python3-numpy python3-jsonschema
  python3-pip python3-venv python3-setuptools
  # the comparator's and the history's statistics (t and normal quantiles, t-tests);
  # the report's plots
  python3-scipy python3-matplotlib
  # setpriv (the runner's children, the tests' nobody); Essential, named all the same
  util-linux
  # comparison tools and real daemons used by benchmarks and scenarios: ps,
  # stress-ng, hyperfine, redis-server and redis-benchmark
  procps stress-ng hyperfine redis-server redis-tools
  # the tools `perfkit import` reads, so its tests read their real output:
  # wrk (HTTP load) and pytest-benchmark
  wrk python3-pytest-benchmark
  # profiling/: heaptrack (gdb to attach, zstd for its files), perf, valgrind's
  # callgrind; shellcheck checks the wrappers, the macOS one included; node runs
  # the flame graph's script in its test
  heaptrack gdb zstd linux-perf valgrind shellcheck nodejs
  # the daemon's BPF collector: libbpf, bpftool for the skeleton, clang for -target bpf
  libbpf-dev bpftool clang
)

missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q '^install ok installed$' || missing+=("$p")
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all ${#PACKAGES[@]} packages present"
  exit 0
fi

echo "install-deps: installing ${missing[*]}"
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null || { echo "install-deps: need root or sudo to install: ${missing[*]}" >&2; exit 1; }
  SUDO=sudo
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
