#!/usr/bin/env bash
# `make bench-fuse`: the FUSE mount (atriumd --mount) against a plain
# directory on the same disk, same operations, side by side. A benchmark,
# never a test: it exits non-zero only when atriumd cannot be started or
# mounted, or a run fails, never because a ratio is low.
#
# Both targets live under one temporary directory (so on one file system):
# TMP/plain (a plain directory) and TMP/mnt/bench (bucket "bench" of an
# atriumd whose data is TMP/data, mounted at TMP/mnt). On each target, in
# this order and alternating targets phase by phase:
#   seq write   one file of BENCH_FUSE_SIZE in 1 MiB write()s, then fsync
#               and close (all timed)
#   seq read    the same file in 1 MiB read()s, page cache dropped first
#               (echo 3 > /proc/sys/vm/drop_caches, when permitted; the
#               table says when it was not). atriumd's own block cache
#               (--cache-mem, BENCH_FUSE_CACHE) is not dropped.
#   rand read   BENCH_FUSE_READS pread()s of 4 KiB at random 4 KiB-aligned
#               offsets (seeded, same offsets on both), warm: right after
#               the same target's sequential read
#   create      BENCH_FUSE_FILES files of 100 bytes (open O_CREAT, write, close)
#   stat        stat() of each
#   unlink      unlink() of each
# A trap stops the atriumd it started (SIGTERM by PID, SIGKILL if it hangs),
# detaches the mount if it is still there, and removes the directory.
#
# Knobs (environment):
#   BENCH_FUSE_SIZE    size of the big file: bytes or K/M/G suffix (default 1G)
#   BENCH_FUSE_FILES   small files (default 10000)
#   BENCH_FUSE_READS   random 4 KiB reads (default 20000)
#   BENCH_FUSE_CACHE   atriumd --cache-mem (default: atriumd's own default)
#   BENCH_FUSE_OPS     1: after each mount phase, the FUSE requests atriumd
#                      served during it (count, mean time in atriumd per
#                      request, from /api/v1/metrics): where a phase's time
#                      goes, request by request
#   BENCH_TMPDIR       parent of the temporary directory (default /var/tmp)
#   ATRIUMD            the daemon (default bin/atriumd)
set -euo pipefail
cd "$(dirname "$0")/.."

SIZE=${BENCH_FUSE_SIZE:-1G}
FILES=${BENCH_FUSE_FILES:-10000}
READS=${BENCH_FUSE_READS:-20000}
ATRIUMD=${ATRIUMD:-bin/atriumd}
BENCH=bench-fuse
# shellcheck source=tools/bench-mount.sh
. tools/bench-mount.sh

args=()
[ -n "${BENCH_FUSE_CACHE:-}" ] && args+=(--cache-mem "$BENCH_FUSE_CACHE")
mkdir -p "$TMP/plain"
start_atriumd "${args[@]}"
port=$PORT
mkdir "$MNT/bench" || die "mkdir of bucket 'bench' in the mount failed"

say "$(nproc) CPUs, $(uname -r), $(df -hT "$TMP" | awk 'NR == 2 { print $1 " (" $2 ")" }'), size $SIZE, $FILES files, $READS random reads"

timeout 3600 "$PY" - "$SIZE" "$FILES" "$READS" "$TMP/plain" "$MNT/bench" \
	"${BENCH_FUSE_OPS:+http://127.0.0.1:$port/api/v1/metrics}" <<'EOF'
import os, random, re, sys, time, urllib.request

def parse_size(s):
    mult = {"k": 1 << 10, "m": 1 << 20, "g": 1 << 30, "t": 1 << 40}
    s = s.strip().lower().rstrip("b").rstrip("i")
    return int(float(s[:-1]) * mult[s[-1]]) if s[-1] in mult else int(s)

size, nfiles, nreads = parse_size(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
targets = {"plain": sys.argv[4], "mount": sys.argv[5]}
MiB = 1 << 20
block = os.urandom(MiB)
notes = []
results = {}  # (phase, target) -> (value, unit)

def drop_caches():
    os.sync()
    try:
        with open("/proc/sys/vm/drop_caches", "w") as f:
            f.write("3\n")
        return True
    except OSError as e:
        msg = "page cache NOT dropped before seq read (%s): reads may be warm" % e.strerror
        if msg not in notes:
            notes.append(msg)
        return False

def seq_write(d):
    p = os.path.join(d, "big")
    t = time.perf_counter()
    fd = os.open(p, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    left = size
    while left > 0:
        n = os.write(fd, block[:min(MiB, left)])
        left -= n
    os.fsync(fd)
    os.close(fd)
    return size / MiB / (time.perf_counter() - t), "MiB/s"

def seq_read(d):
    p = os.path.join(d, "big")
    drop_caches()
    t = time.perf_counter()
    fd = os.open(p, os.O_RDONLY)
    got = 0
    while True:
        b = os.read(fd, MiB)
        if not b:
            break
        got += len(b)
    os.close(fd)
    el = time.perf_counter() - t
    if got != size:
        raise SystemExit("seq read of %s: %d bytes, expected %d" % (p, got, size))
    return size / MiB / el, "MiB/s"

def rand_read(d):
    p = os.path.join(d, "big")
    rnd = random.Random(42)
    blocks = max(1, size // 4096)
    offs = [rnd.randrange(0, blocks) * 4096 for _ in range(nreads)]
    fd = os.open(p, os.O_RDONLY)
    t = time.perf_counter()
    for off in offs:
        if len(os.pread(fd, 4096, off)) != min(4096, size - off):
            raise SystemExit("short pread at %d in %s" % (off, p))
    el = time.perf_counter() - t
    os.close(fd)
    return nreads / el, "ops/s"

small = b"s" * 100

metrics_url = sys.argv[6] if len(sys.argv) > 6 else ""

def fuse_ops():
    """op -> [requests, seconds] of the mount's requests so far."""
    text = urllib.request.urlopen(metrics_url, timeout=10).read().decode()
    ops = {}
    for m in re.finditer(r'atrium_request_duration_seconds_(sum|count)'
                         r'\{door="fuse",op="(\w+)"\} (\S+)', text):
        ops.setdefault(m.group(2), [0.0, 0.0])[m.group(1) == "sum"] = float(m.group(3))
    return ops

def print_ops(name, before, after):
    for op in sorted(after):
        n = after[op][0] - before.get(op, [0.0, 0.0])[0]
        s = after[op][1] - before.get(op, [0.0, 0.0])[1]
        if n > 0:
            print("bench-fuse:   %-13s %-12s %8d requests %9.1f us each in atriumd"
                  % (name, op, n, s / n * 1e6), file=sys.stderr, flush=True)

def names(d):
    sub = os.path.join(d, "small")
    return sub, [os.path.join(sub, "f%06d" % i) for i in range(nfiles)]

def create(d):
    sub, ns = names(d)
    os.mkdir(sub)
    t = time.perf_counter()
    for p in ns:
        fd = os.open(p, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
        os.write(fd, small)
        os.close(fd)
    return nfiles / (time.perf_counter() - t), "ops/s"

def stat_all(d):
    _sub, ns = names(d)
    t = time.perf_counter()
    for p in ns:
        if os.stat(p).st_size != len(small):
            raise SystemExit("wrong size: " + p)
    return nfiles / (time.perf_counter() - t), "ops/s"

def unlink_all(d):
    sub, ns = names(d)
    t = time.perf_counter()
    for p in ns:
        os.unlink(p)
    el = time.perf_counter() - t
    if os.listdir(sub):
        raise SystemExit("files left in " + sub)
    return nfiles / el, "ops/s"

phases = [("seq write 1M", seq_write), ("seq read 1M", seq_read),
          ("rand read 4K", rand_read), ("create", create),
          ("stat", stat_all), ("unlink", unlink_all)]
# Phases in this order, the two targets alternating; the random reads run
# right after the same target's sequential read (so both are equally warm).
order = [[("seq write 1M", seq_write)],
         [("seq read 1M", seq_read), ("rand read 4K", rand_read)],
         [("create", create)], [("stat", stat_all)], [("unlink", unlink_all)]]
for group in order:
    for tgt in ("plain", "mount"):
        for name, fn in group:
            ops = fuse_ops() if metrics_url and tgt == "mount" else None
            v = fn(targets[tgt])
            results[(name, tgt)] = v
            print("bench-fuse: %-13s %-5s %12.1f %s" % (name, tgt, v[0], v[1]),
                  file=sys.stderr, flush=True)
            if ops is not None:
                print_ops(name, ops, fuse_ops())
for tgt in ("plain", "mount"):
    os.unlink(os.path.join(targets[tgt], "big"))

sys.stderr.flush()
print()
print("%-13s %-6s | %12s %12s | %10s" % ("operation", "unit", "plain", "mount", "mount/plain"))
for name, _fn in phases:
    (pv, unit), (mv, _u) = results[(name, "plain")], results[(name, "mount")]
    print("%-13s %-6s | %12.1f %12.1f | %10.0f%%" % (name, unit, pv, mv, 100.0 * mv / pv if pv else 0))
print("(%s file; %d random 4 KiB reads, warm; %d files of 100 bytes)" % (sys.argv[1], nreads, nfiles))
for n in notes:
    print("note: " + n)
EOF
