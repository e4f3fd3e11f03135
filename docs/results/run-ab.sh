#!/bin/sh
# The A/B runs of docs/kcompressd.md: the patched lab kernel in 1- and 2-vCPU guests, a 2-node
# guest and zswap, Kcompressd's knobs against the offload switched off (vm.kcompressd=0), 3
# runs per setting, settings interleaved across boots. Each command writes one series (JSON).
# Usage: [KERNEL=ID] sh docs/results/run-ab.sh [DURATION]   (about a minute per run under TCG)
set -eu
d=${1:-6}
k=${KERNEL:+--kernel $KERNEL}   # KERNEL=ID: a cached kernel instead of the project build
out=$(dirname "$0")
ab() { # FILE BENCH-OPTIONS...
	f=$1
	shift
	kcompressd bench --vm $k --memory 2048 --duration "$d" --repeat 3 "$@" --json >"$out/$f"
}
ab cpu1-depth.json --cpus 1 --kcompressd 0,24,256
ab cpu2-depth.json --cpus 2 --kcompressd 0,24,256
ab cpu2-knobs.json --cpus 2 --kcompressd 24 --kcompressd-threads 2 --kcompressd-overflow 0,1
ab cpu2-zswap.json --cpus 2 --backend zswap --kcompressd 0,24
ab cpu2-node2-depth.json --cpus 2 --nodes 2 --kcompressd 0,24
