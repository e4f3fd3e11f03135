#!/bin/sh
# Run in a lab guest of the tracing build: trace one `kcompressd bench` and print the trace.
#   EVENTS=sched (default): sched_switch, sched_wakeup and the diagnostic patch's lines;
#   EVENTS=vmscan: shrink_inactive/shrink_active outcomes per batch.
#   DEPTH: vm.kcompressd (0: offload off), DUR: the bench window in seconds, PYTHON: the
#   interpreter with kcompressd installed.
# The bench's JSON goes to stderr, the trace to stdout.
set -eu
T=/sys/kernel/debug/tracing
echo 0 >$T/tracing_on
echo 65536 >$T/buffer_size_kb
echo 0 >$T/events/enable
if [ "${EVENTS:-sched}" = vmscan ]; then
	echo 0 >$T/options/trace_printk
	echo 1 >$T/events/vmscan/mm_vmscan_lru_shrink_inactive/enable
	echo 1 >$T/events/vmscan/mm_vmscan_lru_shrink_active/enable
else
	echo 1 >$T/events/sched/sched_switch/enable
	echo 1 >$T/events/sched/sched_wakeup/enable
fi
echo >$T/trace
echo 1 >$T/tracing_on
"${PYTHON:-python3}" -m kcompressd bench --json --duration "${DUR:-6}" --kcompressd "${DEPTH:-24}" \
	>/tmp/bench.json 2>/tmp/bench.err
echo 0 >$T/tracing_on
cat /tmp/bench.err /tmp/bench.json >&2
cat $T/trace
