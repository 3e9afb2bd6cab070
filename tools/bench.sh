#!/bin/sh
# Reproduces Benchmarks/results/latest.*: a release build, then the full system benchmark
# and the engine-knob sweep (root: it builds namespaces and loads XDP programs). Extra
# arguments go to `vxsw bench`, e.g. tools/bench.sh --quick, or --contenders ceiling,kernel,vxsw-afxdp.
# Open vSwitch is measured when installed: apt-get install openvswitch-switch (its service is never used).
set -eu
cd "$(dirname "$0")/.."
swift build -c release
exec .build/release/vxsw bench --sweep "$@"
