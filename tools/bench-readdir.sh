#!/usr/bin/env bash
# `make bench-readdir`: listing a large directory through the mount against
# a plain directory of the same file system. A benchmark, never a test: it
# exits non-zero only when atriumd cannot be started or mounted.
#
# Under one temporary directory (one file system): TMP/plain/d and bucket
# "bench" of an atriumd whose data is TMP/data, mounted at TMP/mnt. Both
# get BENCH_READDIR_FILES empty files d/f000000... The mount's are made in
# DATA/ufs behind atriumd's back (quick) and imported by a first listing
# (timed apart, as "import"). Then, on each target, twice, with the
# kernel's dentry and inode caches dropped before each run (echo 2 >
# /proc/sys/vm/drop_caches, when permitted):
#   ls -f    names only (getdents)
#   ls -l    names, then lstat (and the xattr probes ls makes) of each
# A trap stops the atriumd it started (SIGTERM by PID, SIGKILL if it
# hangs), detaches the mount if it is still there, and removes TMP.
#
# Knobs: BENCH_READDIR_FILES (default 100000), BENCH_TMPDIR (default
# /var/tmp), ATRIUMD (default bin/atriumd).
set -euo pipefail
cd "$(dirname "$0")/.."

FILES=${BENCH_READDIR_FILES:-100000}
ATRIUMD=${ATRIUMD:-bin/atriumd}
BENCH=bench-readdir
# shellcheck source=tools/bench-mount.sh
. tools/bench-mount.sh

make_files() { # dir count
	$PY - "$1" "$2" <<'EOF'
import os, sys
d, n = sys.argv[1], int(sys.argv[2])
os.makedirs(d, exist_ok=True)
for i in range(n):
    os.close(os.open(os.path.join(d, "f%06d" % i), os.O_CREAT | os.O_WRONLY, 0o644))
EOF
}

drop() { sync; echo 2 > /proc/sys/vm/drop_caches 2>/dev/null || DROPPED=no; }

timed() { # label command...
	local t0 t1
	t0=$(date +%s.%N)
	"${@:2}" > /dev/null
	t1=$(date +%s.%N)
	printf '%-28s %8.3f s\n' "$1" "$(echo "$t1 - $t0" | bc)"
}

DROPPED=yes
mkdir -p "$TMP/data/ufs" "$TMP/plain"
make_files "$TMP/plain/d" "$FILES"
mkdir -p "$TMP/data/ufs/bench"
make_files "$TMP/data/ufs/bench/d" "$FILES"

start_atriumd

say "$FILES files, $ATRIUMD"
timed "mount: import (first ls -f)" ls -f "$MNT/bench/d"
for round in 1 2; do
	for target in plain mount; do
		dir=$TMP/plain/d
		[ $target = mount ] && dir=$MNT/bench/d
		drop; timed "$target: ls -f ($round)" ls -f "$dir"
		drop; timed "$target: ls -l ($round)" ls -l "$dir"
	done
done
[ $DROPPED = yes ] || say "(caches could not be dropped: not root?)"
