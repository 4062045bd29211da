#!/bin/bash
# bench-tiers.sh — GET throughput of 1 MiB objects served by each tier of the
# block cache (docs/performance.md, "The block cache's tiers"). Not a test.
#
# Three daemons on loopback, each over its own temporary data directory,
# each holding KEYS objects of 1 MiB that one warm-up pass has read once:
#   mem   --cache-mem 1G             every GET a memory hit
#   disk  --cache-mem 1M --cache-disk DIR:2G
#                                    every GET a memory miss, a disk hit
#   ufs   --cache-mem 1M             every GET read from the (local) UFS
# The local UFS and the disk tier are both files on the same file system, warm
# in the page cache: the difference is the disk tier's own cost (open, header
# and CRC32 check, mtime touch) against the UFS's (pread of an open file).
#
# Environment: BENCH_SECONDS (5), BENCH_CONC ("1 8"), BENCH_KEYS (64),
# ATRIUMD, ATRIUM_BENCH.
set -euo pipefail
cd "$(dirname "$0")/.."
ATRIUMD=${ATRIUMD:-bin/atriumd}
LOADGEN=${ATRIUM_BENCH:-bin/atrium-bench}
SECS=${BENCH_SECONDS:-5}
CONCS=${BENCH_CONC:-1 8}
KEYS=${BENCH_KEYS:-64}
TMP=$(mktemp -d -p "${BENCH_TMPDIR:-/var/tmp}" atrium-tiers.XXXXXX)
PIDS=()
cleanup() {
	for p in "${PIDS[@]}"; do
		kill "$p" 2>/dev/null && wait "$p" 2>/dev/null || true
	done
	rm -rf "$TMP"
}
trap cleanup EXIT

start() { # NAME ARGS... -> PORT
	local name=$1 port
	shift
	port=$("$LOADGEN" --free-port)
	mkdir -p "$TMP/$name"
	"$ATRIUMD" --data "$TMP/$name/data" --port "$port" --auth simple --bind 127.0.0.1 \
		"$@" 2>"$TMP/$name/log" &
	PIDS+=($!)
	for _ in $(seq 100); do
		curl -fs -o /dev/null "http://127.0.0.1:$port/api/v1/health" && break
		sleep 0.1
	done
	curl -fsS -o /dev/null -X PUT "http://127.0.0.1:$port/tiers"
	"$LOADGEN" -p "$port" -o PUT -s 1M -k "$KEYS" -c 4 -n "$KEYS" -P /tiers/o- \
		-t preload >/dev/null
	# One pass reads every key once: into memory (mem) or onto disk (disk).
	"$LOADGEN" -p "$port" -o GET -s 1M -k "$KEYS" -c 1 -n "$KEYS" -P /tiers/o- \
		-t warm >/dev/null
	PORT=$port
}

start mem --cache-mem 1G
P_MEM=$PORT
start disk --cache-mem 1M --cache-disk "$TMP/disk/cache:2G"
P_DISK=$PORT
start ufs --cache-mem 1M
P_UFS=$PORT
echo "# $(nproc) CPUs, $(uname -r), $KEYS keys of 1 MiB, ${SECS}s per run"
for conc in $CONCS; do
	for t in mem disk ufs; do
		v=P_${t^^}
		"$LOADGEN" -p "${!v}" -o GET -s 1M -k "$KEYS" -c "$conc" -d "$SECS" -w 1 \
			-P /tiers/o- -t "$t"
	done
done
for t in disk; do
	curl -fsS "http://127.0.0.1:$P_DISK/api/v1/report"
done
