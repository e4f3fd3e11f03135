#!/bin/sh
# docs/lab.md's table: the same bench plan (as root) on the host's kernel and, with the
# unpatched lab kernel, in a 1- and a 2-vCPU guest of 2048 MiB.
# Usage: sh docs/results/run-shapes.sh [DURATION]
set -eu
d=${1:-10}
out=$(dirname "$0")
kcompressd bench --duration "$d" --json >"$out/host.json"
for cpus in 1 2; do
	kcompressd bench --vm --kernel vanilla --cpus $cpus --memory 2048 --duration "$d" \
		--json >"$out/vanilla-cpu$cpus.json"
done
