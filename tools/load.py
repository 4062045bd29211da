#!/usr/bin/env python3
"""`make load`: a bounded load test of atriumd on loopback.

Starts its own atriumd (simple auth, --threads LOAD_CONC + 16, --cache-mem
LOAD_CACHE) on a free loopback port with a temporary data directory, then
drives it with bin/atrium-bench in mixed mode: LOAD_CONC (256) keep-alive
connections, each request a PUT (40 %), GET (50 %) or ListObjectsV2 (10 %) of
one of 512 keys, 16 of them large (1-8 MiB, fixed per key), the rest 4 KiB.
It stops by itself after LOAD_SECONDS (150) and checks:

- zero errors: atrium-bench fails on any transport error, any non-2xx
  status and any GET whose body is not the key's size;
- memory: the daemon's RSS, sampled from /proc/PID/status every 0.5 s, and
  its peak (VmHWM, which the kernel keeps, so no spike between samples is
  missed) stay under LOAD_RSS_MIB (default: cache + 64 MiB + what
  LOAD_CONC + 16 worker threads need, see docs/reliability.md);
- descriptors: the run is two rounds of LOAD_SECONDS/2. After each, once
  the clients have gone, the daemon's sockets in /proc/PID/fd are back to
  the one it listens on (polled with a deadline: civetweb closes a
  connection when it sees the client's FIN), and every descriptor but
  meta.db's is one the daemon had before the clients came: nothing grows
  with requests. (A worker thread keeps its SQLite connection, meta.db and
  its WAL, for its life: at most 2 x --threads descriptors, checked too.)
- the daemon exits 0 on SIGTERM.

It prints one summary line (and the RSS samples with -v). Only the PID it
started is ever signalled; the temporary directory is removed on every path.
"""
import http.client
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ATRIUMD = os.environ.get("ATRIUMD") or os.path.join(ROOT, "bin", "atriumd")
BENCH = os.environ.get("ATRIUM_BENCH") or os.path.join(ROOT, "bin", "atrium-bench")
SECONDS = float(os.environ.get("LOAD_SECONDS", "150"))
CONC = int(os.environ.get("LOAD_CONC", "256"))
# Smaller than the working set (16 large keys, ~72 MiB, and 496 small
# ones), so the cache is full and evicting for most of the run.
CACHE_MIB = int(os.environ.get("LOAD_CACHE_MIB", "64"))
THREADS = CONC + 16  # one worker per keep-alive connection, and room for admin/health
KEYS, LARGE_KEYS = 512, 16
# Memory bound: the design goal is cache + 64 MiB, plus what each worker
# thread in use keeps: its 256 KiB I/O buffer (s3_io_buffer), civetweb's
# 64 KiB request buffer, its stack and its SQLite connection (schema,
# statements and a page cache of up to 1 MiB, a few hundred KiB with this
# test's small namespace): 768 KiB a thread allowed here; about 0.65 MiB
# was measured (docs/reliability.md).
THREAD_KIB = 768
RSS_MIB = int(os.environ.get("LOAD_RSS_MIB", CACHE_MIB + 64 + THREADS * THREAD_KIB // 1024))
VERBOSE = "-v" in sys.argv


def say(*a):
    print("load:", *a, flush=True)


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


def status_kib(pid, field):
    with open("/proc/%d/status" % pid) as f:
        m = re.search(r"^%s:\s+(\d+) kB" % field, f.read(), re.M)
    return int(m.group(1)) if m else 0


def nfds(pid):
    return len(os.listdir("/proc/%d/fd" % pid))


def status_kib_raw(pid, field):
    with open("/proc/%d/status" % pid) as f:
        m = re.search(r"^%s:\s+(\d+)" % field, f.read(), re.M)
    return int(m.group(1)) if m else 0


def fd_kinds(pid):
    """What the open descriptors are, counted: socket, pipe, a file's directory."""
    kinds = fd_kinds_dict(pid)
    return ", ".join("%s: %d" % kv for kv in sorted(kinds.items(), key=lambda kv: -kv[1])[:6])


def fd_split(pid):
    """(descriptors on meta.db and its WAL, all others)"""
    meta = other = 0
    for fd in os.listdir("/proc/%d/fd" % pid):
        try:
            t = os.readlink("/proc/%d/fd/%s" % (pid, fd))
        except OSError:
            continue
        if t.endswith("/meta.db") or t.endswith("/meta.db-wal"):
            meta += 1
        else:
            other += 1
    return meta, other


def fd_kinds_dict(pid):
    kinds = {}
    for fd in os.listdir("/proc/%d/fd" % pid):
        try:
            t = os.readlink("/proc/%d/fd/%s" % (pid, fd))
        except OSError:
            continue
        k = t.split(":")[0] if ":" in t else os.path.dirname(t)
        kinds[k] = kinds.get(k, 0) + 1
    return kinds


def request(port, method, path, timeout=30):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        c.request(method, path)
        r = c.getresponse()
        r.read()
        return r.status
    finally:
        c.close()


def wait_until(cond, deadline_s, what):
    deadline = time.monotonic() + deadline_s
    while not cond():
        if time.monotonic() > deadline:
            raise SystemExit("load: FAILED: %s" % what)
        time.sleep(0.05)  # polling interval, bounded by the deadline


def main():
    for b in (ATRIUMD, BENCH):
        if not os.access(b, os.X_OK):
            raise SystemExit("load: %s is missing (make all bin/atrium-bench)" % b)
    tmp = tempfile.mkdtemp(prefix="atrium-load.", dir=os.environ.get("LOAD_TMPDIR", "/var/tmp"))
    proc = None
    try:
        port = free_port()
        log = open(os.path.join(tmp, "atriumd.stderr"), "wb")
        cmd = [ATRIUMD, "--data", os.path.join(tmp, "data"), "--bind", "127.0.0.1",
               "--port", str(port), "--auth", "simple", "--threads", str(THREADS),
               "--cache-mem", "%dM" % CACHE_MIB]
        say("$", " ".join(cmd))
        proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=log, stderr=log)

        def ready():
            if proc.poll() is not None:
                raise SystemExit("load: atriumd exited with %s" % proc.returncode)
            try:
                return request(port, "GET", "/api/v1/health", timeout=2) == 200
            except OSError:
                return False
        wait_until(ready, 20, "atriumd did not become ready")
        if request(port, "PUT", "/loadbucket") != 200:
            raise SystemExit("load: FAILED: cannot create the bucket")
        # Our own connections closed (civetweb has seen it): the idle count.
        wait_until(lambda: fd_kinds_dict(proc.pid).get("socket", 0) == 1, 30,
                   "atriumd keeps the set-up connections open")
        fds_before = nfds(proc.pid)
        other_before = fd_split(proc.pid)[1]
        rss_idle = status_kib(proc.pid, "VmRSS")

        samples = []  # (t, rss KiB, fds, threads)
        stop = threading.Event()

        def sample():
            t0 = time.monotonic()
            while not stop.is_set():
                try:
                    samples.append((time.monotonic() - t0, status_kib(proc.pid, "VmRSS"),
                                    nfds(proc.pid), status_kib_raw(proc.pid, "Threads")))
                except OSError:
                    return
                stop.wait(0.5)
        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        bench = [BENCH, "-p", str(port), "-o", "MIX", "-c", str(CONC), "-d", str(SECONDS / 2),
                 "-k", str(KEYS), "--large-keys", str(LARGE_KEYS), "-s", "4k",
                 "--large-min", "1M", "--large-max", "8M", "--mix", "40:50:10",
                 "-P", "/loadbucket/", "-T", "60", "-t", "atrium-load"]
        say("$", " ".join(bench), "(twice)")
        t0 = time.monotonic()
        results, fds_after, fds_ok, reqs = [], [], True, 0
        for _round in range(2):
            b = subprocess.run(bench, capture_output=True, text=True,
                               timeout=SECONDS + 600)
            results.append(b)
            sys.stdout.write(b.stdout)
            sys.stderr.write(b.stderr)
            m = re.search(r"reqs=(\d+)", b.stdout)
            reqs += int(m.group(1)) if m else 0
            # The clients are gone: every connection must be closed again.
            try:
                wait_until(lambda: fd_split(proc.pid)[1] == other_before, 30, "")
            except SystemExit:
                fds_ok = False
            meta, other = fd_split(proc.pid)
            fds_after.append(meta + other)
            if meta > 2 * (THREADS + 4):
                fds_ok = False
        took = time.monotonic() - t0
        stop.set()
        sampler.join()
        peak = status_kib(proc.pid, "VmHWM")
        rss_end = status_kib(proc.pid, "VmRSS")
        alive = proc.poll() is None

        if VERBOSE:
            for t, rss, fds, thr in samples:
                say("t=%6.1fs rss=%6.1f MiB fds=%4d threads=%d" % (t, rss / 1024, fds, thr))
        max_rss = max((s[1] for s in samples), default=0)
        max_fds = max((s[2] for s in samples), default=0)
        say("requests=%d in %.0f s (2 rounds), bench exits %s; RSS idle %.1f MiB, max sampled "
            "%.1f MiB, peak (VmHWM) %.1f MiB, at end %.1f MiB, bound %d MiB; fds before %d, "
            "max %d, after round 1 %d, after round 2 %d; %d samples"
            % (reqs, took, [r.returncode for r in results], rss_idle / 1024, max_rss / 1024,
               peak / 1024, rss_end / 1024, RSS_MIB, fds_before, max_fds, fds_after[0],
               fds_after[1], len(samples)))
        failures = []
        if any(r.returncode for r in results):
            failures.append("atrium-bench reported errors")
        if peak > RSS_MIB * 1024:
            failures.append("peak RSS %.1f MiB over the %d MiB bound" % (peak / 1024, RSS_MIB))
        if not fds_ok:
            failures.append("descriptors leaked: %d before, %s after the rounds (%s)"
                            % (fds_before, fds_after, fd_kinds(proc.pid)))
        if not alive:
            failures.append("atriumd died (status %s)" % proc.returncode)
        else:
            os.kill(proc.pid, signal.SIGTERM)
            try:
                rc = proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.kill(proc.pid, signal.SIGKILL)
                proc.wait()
                rc = "hung"
            if rc != 0:
                failures.append("atriumd exited %s on SIGTERM" % rc)
        proc = None
        if failures:
            with open(os.path.join(tmp, "atriumd.stderr"), "rb") as f:
                sys.stderr.write(f.read()[-4000:].decode("utf-8", "replace"))
            raise SystemExit("load: FAILED: " + "; ".join(failures))
        say("OK")
    finally:
        if proc is not None and proc.poll() is None:
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
