#!/bin/sh
# The validation table of docs/validation.md, in three steps:
#  1. real runs in 1-vCPU TCG guests of the patched kernel (one boot each, REPEAT rounds with
#     the settings interleaved): a baseline with perf, the baseline (offload off,
#     builtin:phone, 1 eater) and the settings the simulator is held against;
#  2. calibrate on the baseline runs only (perf for the shares, the `base` runs for the CPU
#     per page), the codecs and the eater loop timed in a guest of the same shape;
#  3. validate each real run against the simulator ({"real", "sim", "error"} per run).
# On a shared machine run it under `nice -n -15`: a TCG guest's speed is the host's.
# Usage: [REPEAT=2] sh docs/results/run-validate.sh [DURATION]   (about a minute per run)
#        STEP=3 sh docs/results/run-validate.sh   (step 3 again, e.g. after a model change)
set -eu
d=${1:-10}
repeat=${REPEAT:-2}
out=$(dirname "$0")/validate
profile=$out/guest-1cpu.toml
mkdir -p "$out/real"
# Another corpus: real pages of a headless Chromium (its browser process, 4096 pages).
corpus=${XDG_CACHE_HOME:-$HOME/.cache}/kcompressd/corpora/chromium.zst
if [ ! -f "$corpus" ]; then
	mkdir -p "$(dirname "$corpus")"
	prof=$(mktemp -d)
	chromium --headless=new --no-sandbox --disable-gpu --user-data-dir="$prof" \
		"file://$(realpath "$(dirname "$0")/../validation.md")" >/dev/null 2>&1 &
	sleep 8
	kcompressd corpus capture --pid "$(pgrep -o -f "user-data-dir=$prof")" -o "$corpus" \
		--max-pages 4096
	pkill -f "user-data-dir=$prof" || true
	rm -rf "$prof"
fi
b() { # NAME BENCH-OPTIONS...
	f=$1
	shift
	kcompressd bench --vm --memory 2048 --duration "$d" "$@" --json >"$out/real/$f.$i.json"
}
if [ "${STEP:-1}" -le 1 ]; then
	i=1
	b perf --cpus 1 --kcompressd 0 --perf
	while [ "$i" -le "$repeat" ]; do
		b base --cpus 1 --kcompressd 0
		b depth24 --cpus 1 --kcompressd 24
		b depth256 --cpus 1 --kcompressd 256
		b workers2 --cpus 1 --kcompressd 24 --kcompressd-threads 2
		b overflow1 --cpus 1 --kcompressd 24 --kcompressd-overflow 1
		b memalloc0 --cpus 1 --kcompressd 24 --kcompressd-memalloc 0
		b cpu2 --cpus 2 --kcompressd 0
		b cpu2-depth24 --cpus 2 --kcompressd 24
		b chromium --cpus 1 --kcompressd 0 --corpus "$corpus"
		b eaters2 --cpus 1 --kcompressd 0 --threads 2
		b vanilla --cpus 1 --kernel vanilla
		i=$((i + 1))
	done
fi
if [ "${STEP:-1}" -le 2 ]; then
	set --
	for f in "$out"/real/base.*.json; do set -- "$@" --plain-result "$f"; done
	kcompressd calibrate --vm --cpus 1 --memory 2048 --bench-result "$out/real/perf.1.json" \
		"$@" -o "$profile"
fi
for f in "$out"/real/*.json; do
	name=$(basename "$f")
	case $name in perf.*) continue ;; esac
	kcompressd validate --profile "$profile" --bench-result "$f" --json >"$out/$name.new"
	mv "$out/$name.new" "$out/$name"
done
