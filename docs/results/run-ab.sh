#!/bin/sh
# The A/B runs of docs/kcompressd.md: the patched lab kernel in 1- and 2-vCPU guests and a
# 2-node guest, and zswap, Kcompressd's knobs against the offload switched off, 3 runs each,
# settings interleaved across boots. Each command writes one series document (JSON).
# Usage: sh docs/results/run-ab.sh [DURATION]   (about 70 s of machine time per run under TCG)
set -eu
d=${1:-10}
out=$(dirname "$0")
for shape in "1 2048 1" "2 2048 1" "2 2048 2"; do
	set -- $shape
	tag="cpu$1-node$3"
	kcompressd bench --vm --cpus "$1" --memory "$2" --nodes "$3" --duration "$d" \
		--repeat 3 --kcompressd 0,24,256 --json >"$out/$tag-depth.json"
	kcompressd bench --vm --cpus "$1" --memory "$2" --nodes "$3" --duration "$d" \
		--repeat 3 --kcompressd 24 --kcompressd-threads 2 --kcompressd-overflow 0,1 \
		--json >"$out/$tag-knobs.json"
done
# zswap (lz4, zsmalloc) in front of the zram device, 2 vCPUs
kcompressd bench --vm --cpus 2 --memory 2048 --backend zswap --duration "$d" --repeat 3 \
	--kcompressd 0,24 --json >"$out/cpu2-node1-zswap.json"
