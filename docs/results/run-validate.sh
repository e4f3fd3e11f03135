#!/bin/sh
# The validation table of docs/validation.md: calibrate a 1-vCPU TCG guest on a baseline run
# (offload off, builtin:phone, 1 eater), then hold the simulator against real guest runs it
# never saw. Each `validate` writes {"real", "sim", "error"} (JSON), REPEAT runs per setting
# (NAME.I.json), settings interleaved. On a shared machine run it under `nice -n -15`: a TCG
# guest's speed is the host's, and other work on the cores would slow some runs and not others.
# Usage: [REPEAT=2] sh docs/results/run-validate.sh [DURATION]   (about a minute per run)
#        RESIM=1 sh docs/results/run-validate.sh   (simulate the kept real runs again with the
#                                                   profile as it is now; no guest boots)
set -eu
d=${1:-10}
repeat=${REPEAT:-2}
out=$(dirname "$0")/validate
profile=$out/guest-1cpu.toml
mkdir -p "$out"
if [ -n "${RESIM:-}" ]; then
	real=$(mktemp)
	for f in "$out"/*.[0-9]*.json; do
		python3 -c 'import json, sys; print(json.dumps(json.load(open(sys.argv[1]))["real"]))' \
			"$f" >"$real"
		kcompressd validate --profile "$profile" --bench-result "$real" --json >"$f.new"
		mv "$f.new" "$f"
	done
	rm -f "$real"
	exit 0
fi
[ -f "$profile" ] || kcompressd calibrate --vm --cpus 1 --memory 2048 --duration "$d" -o "$profile"
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
v base --cpus 1 --kcompressd 0
v depth24 --cpus 1 --kcompressd 24
v depth256 --cpus 1 --kcompressd 256
v workers2 --cpus 1 --kcompressd 24 --kcompressd-threads 2
v overflow1 --cpus 1 --kcompressd 24 --kcompressd-overflow 1
v memalloc0 --cpus 1 --kcompressd 24 --kcompressd-memalloc 0
v cpu2 --cpus 2 --kcompressd 0
v cpu2-depth24 --cpus 2 --kcompressd 24
v chromium --cpus 1 --kcompressd 0 --corpus "$corpus"
v eaters2 --cpus 1 --kcompressd 0 --threads 2
v vanilla --cpus 1 --kernel vanilla
i=$((i + 1))
done
