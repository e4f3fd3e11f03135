#!/bin/sh
# The validation table of docs/validation.md: calibrate a 2-vCPU TCG guest on baseline runs
# (offload off, builtin:phone, 2 eaters), then hold the simulator against real guest runs it
# never saw. Each `validate` writes {"real", "sim", "error"} (JSON), REPEAT runs per setting
# (NAME.I.json), settings interleaved. On a shared machine run it under `nice -n -15`: a TCG
# guest's speed is the host's, and other work on the cores would slow some runs and not others.
# Usage: [REPEAT=2] sh docs/results/run-validate.sh [DURATION]   (about a minute per run)
set -eu
d=${1:-10}
repeat=${REPEAT:-2}
out=$(dirname "$0")/validate
profile=$out/guest-2cpu.toml
mkdir -p "$out"
[ -f "$profile" ] || kcompressd calibrate --vm --cpus 2 --memory 2048 --duration "$d" -o "$profile"
# Another corpus: real pages of a headless Chromium (its browser process, 4096 pages).
corpus=${XDG_CACHE_HOME:-$HOME/.cache}/kcompressd/corpora/chromium.zst
if [ ! -f "$corpus" ]; then
	mkdir -p "$(dirname "$corpus")"
	prof=$(mktemp -d)
	chromium --headless=new --no-sandbox --disable-gpu --user-data-dir="$prof" \
		"file://$(realpath "$(dirname "$0")/../sweeps/index.html")" >/dev/null 2>&1 &
	sleep 8
	kcompressd corpus capture --pid "$(pgrep -o -f "user-data-dir=$prof")" -o "$corpus" \
		--max-pages 4096
	pkill -f "user-data-dir=$prof" || true
	rm -rf "$prof"
fi
v() { # NAME VALIDATE-OPTIONS...
	f=$1
	shift
	kcompressd validate --profile "$profile" --vm --memory 2048 --duration "$d" "$@" \
		--json >"$out/$f.$i.json"
}
i=1
while [ "$i" -le "$repeat" ]; do
v base --cpus 2 --kcompressd 0
v depth24 --cpus 2 --kcompressd 24
v depth256 --cpus 2 --kcompressd 256
v workers2 --cpus 2 --kcompressd 24 --kcompressd-threads 2
v overflow1 --cpus 2 --kcompressd 24 --kcompressd-overflow 1
v memalloc0 --cpus 2 --kcompressd 24 --kcompressd-memalloc 0
v cpu1 --cpus 1 --kcompressd 0
v cpu1-depth24 --cpus 1 --kcompressd 24
v chromium --cpus 2 --kcompressd 0 --corpus "$corpus"
v eaters1 --cpus 2 --kcompressd 0 --threads 1
v eaters4 --cpus 2 --kcompressd 0 --threads 4
v vanilla --cpus 2 --kernel vanilla
i=$((i + 1))
done
