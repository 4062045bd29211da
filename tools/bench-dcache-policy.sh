#!/bin/bash
# bench-dcache-policy.sh — the disk tier's hit ratio, segmented LRU (as
# shipped) against plain LRU: tests/bench/dcache_policy.c built twice.
set -euo pipefail
cd "$(dirname "$0")/.."
make -s build/libcommon.a
OUT=$(mktemp -d)
trap 'rm -rf "$OUT"' EXIT
for share in 0.8 0; do
	cc -std=gnu11 -O2 -D_GNU_SOURCE -I. -DDCACHE_PROTECTED_SHARE="$share" \
		-o "$OUT/policy-$share" tests/bench/dcache_policy.c src/dcache.c build/libcommon.a \
		-lz -lcrypto -lpthread -lm
	"$OUT/policy-$share"
done
