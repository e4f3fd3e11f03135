#!/bin/sh
# The validation table of docs/validation.md, in three steps:
#  1. real runs in 1-vCPU guests of the patched kernel (one boot each, REPEAT rounds): a
#     baseline with perf, the baseline (offload off, builtin:phone, 1 eater) and the settings
#     the simulator is held against;
#  2. calibrate on the baseline runs only (perf for the shares, the `base` runs for the CPU
#     per page), the codecs and the eater loop timed in a guest of the same shape;
#  3. validate each real run against the simulator ({"real", "sim", "error"} per run).
# ACCEL=icount (the default): guest time counts instructions, so a run repeats to within a
# percent whatever else the host does, and JOBS runs go side by side. ACCEL=tcg: the emulator's
# speed is the guest's, so run it alone, under `nice -n -15`, with JOBS=1 and more rounds.
# The cpu2 settings are an SMP machine only under tcg: under icount the vCPUs take turns on one
# clock (docs/lab.md), and their rows are kept for the record, not held against the model.
# Usage: [REPEAT=2] [JOBS=2] [ACCEL=icount] [OUT=DIR] sh docs/results/run-validate.sh [DURATION]
#        STEP=3 sh docs/results/run-validate.sh   (step 3 again, e.g. after a model change)
set -eu
d=${1:-10}
repeat=${REPEAT:-2}
accel=${ACCEL:-icount}
jobs=${JOBS:-2}
out=${OUT:-$(dirname "$0")/validate}
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
runs() { # one line per run: FILE BENCH-OPTIONS...
	echo "perf.1 --cpus 1 --kcompressd 0 --perf"
	i=1
	while [ "$i" -le "$repeat" ]; do
		echo "base.$i --cpus 1 --kcompressd 0"
		echo "depth24.$i --cpus 1 --kcompressd 24"
		echo "depth256.$i --cpus 1 --kcompressd 256"
		echo "workers2.$i --cpus 1 --kcompressd 24 --kcompressd-threads 2"
		echo "overflow1.$i --cpus 1 --kcompressd 24 --kcompressd-overflow 1"
		echo "memalloc0.$i --cpus 1 --kcompressd 24 --kcompressd-memalloc 0"
		echo "cpu2.$i --cpus 2 --kcompressd 0"
		echo "cpu2-depth24.$i --cpus 2 --kcompressd 24"
		echo "chromium.$i --cpus 1 --kcompressd 0 --corpus $corpus"
		echo "eaters2.$i --cpus 1 --kcompressd 0 --threads 2"
		echo "vanilla.$i --cpus 1 --kernel vanilla"
		i=$((i + 1))
	done
}
if [ "${STEP:-1}" -le 1 ]; then
	# shellcheck disable=SC2016 # expanded by the inner sh
	runs | xargs -P "$jobs" -L 1 sh -c 'accel=$0 d=$1 out=$2 f=$3
		shift 3
		kcompressd bench --vm --accel "$accel" --memory 2048 --duration "$d" "$@" --json \
			>"$out/real/$f.json.new" && mv "$out/real/$f.json.new" "$out/real/$f.json"' \
		"$accel" "$d" "$out"
fi
if [ "${STEP:-1}" -le 2 ]; then
	set --
	for f in "$out"/real/base.*.json; do set -- "$@" --plain-result "$f"; done
	kcompressd calibrate --vm --cpus 1 --memory 2048 --accel "$accel" \
		--bench-result "$out/real/perf.1.json" "$@" -o "$profile"
fi
for f in "$out"/real/*.json; do
	name=$(basename "$f")
	case $name in perf.*) continue ;; esac
	kcompressd validate --profile "$profile" --bench-result "$f" --json >"$out/$name.new"
	mv "$out/$name.new" "$out/$name"
done
