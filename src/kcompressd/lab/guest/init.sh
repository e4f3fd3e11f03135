#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# PID 1 of a kcompressd lab guest. The root is the host's /, read-only over virtio-9p; this
# makes the places programs write to writable (tmpfs, and overlays that still show the
# host's files), runs the job's command from the job share with its output there, records
# its exit status and the kernel's messages, and powers the guest off.
PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
export PATH
JOB=/run/kcompressd-job

mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
mkdir -p /dev/pts /dev/shm
mount -t devpts devpts /dev/pts
mount -t tmpfs tmpfs /dev/shm
mount -t tmpfs -o mode=0755 tmpfs /run
mount -t debugfs debugfs /sys/kernel/debug 2>/dev/null
mount -t cgroup2 cgroup2 /sys/fs/cgroup 2>/dev/null
mkdir -p "$JOB"
mount -t 9p -o trans=virtio,version=9p2000.L,msize=524288 job "$JOB" || {
	echo "kcompressd-lab: cannot mount the job share" >/dev/console
	echo o >/proc/sysrq-trigger
}

# An overlay per writable place: the host's files below, the guest's writes in tmpfs above.
. "$JOB/env"
for dir in /tmp /var/tmp $KCOMPRESSD_LAB_OVERLAYS; do
	[ -d "$dir" ] || continue
	ovl=/run/overlay$(echo "$dir" | tr / _)
	mkdir -p "$ovl/upper" "$ovl/work"
	mount -t overlay overlay -o "lowerdir=$dir,upperdir=$ovl/upper,workdir=$ovl/work" "$dir"
done
chmod 1777 /tmp /var/tmp 2>/dev/null

cd "$KCOMPRESSD_LAB_CWD" 2>/dev/null || cd /
echo "kcompressd-lab: running the job" >/dev/console
/bin/sh "$JOB/cmd" >"$JOB/stdout" 2>"$JOB/stderr" </dev/null
echo $? >"$JOB/status.tmp" && mv "$JOB/status.tmp" "$JOB/status"
cd /
dmesg >"$JOB/dmesg" 2>/dev/null
sync
echo o >/proc/sysrq-trigger
while :; do sleep 1; done
