#!/bin/sh
# Reproduces Benchmarks/results/latest.*: installs what the benchmark drives (Open vSwitch
# among the contenders; its host service is never used), builds a release binary, then runs
# the full system benchmark and the engine-knob sweep (root: it builds namespaces and loads
# XDP programs). Extra arguments go to `vxsw bench`, e.g. tools/bench.sh --quick, or
# --contenders ceiling,kernel,vxsw-afxdp. The offload comparison is `vxsw bench offload`.
set -eu
cd "$(dirname "$0")/.."
if [ "$(id -u)" != 0 ]; then
  echo "tools/bench.sh: run as root (sudo): the benchmark builds network namespaces and loads XDP programs" >&2
  exit 1
fi
tools/install-deps --bench
export PATH="$PATH:/opt/swift/usr/bin"
swift build -c release
exec .build/release/vxsw bench --sweep "$@"
