#!/usr/bin/python3
"""make bench-remote (part of make bench-tiers): the cache tiers in front of a
remote store (issue 15).

Starts a second atriumd as the remote S3 store behind a latency proxy
(tests/integration/faultproxy.py, BENCH_LATENCY_MS per request, default 20),
and a gateway atriumd with a memory and a disk tier that mounts a bucket
of the remote (`atrium fs mount`). Then, for OBJECTS objects of SIZE:

  remote   GETs straight from the remote through the proxy (what a client
           without the cache gets)
  cold     the gateway's first GET of each object (fetched from the remote)
  mem      GETs the memory tier holds (every object fits)
  disk     the gateway restarted with a memory tier far smaller than the
           objects: GETs served from the disk tier
  zipf     hit ratios of a Zipf(1.0) workload over a working set larger
           than both tiers together (the tiers' segmented LRU), from the
           gateway's report
  large    a cold GET of one BENCH_LARGE object (default 64 MiB) with
           --read-ahead 0 and with the default: the first GET (which
           also hashes the object, src/etag.c) and, on another object,
           a GET after a HEAD (the hash done: the read alone)

Throughput figures come from bin/atrium-bench (GET, -c CONC, BENCH_SECS s);
the cold pass and the Zipf pass are sequential Python GETs. Not a test: it
prints a table for docs/performance.md. Every process it starts is stopped
by PID at the end, whatever happens.
"""
import http.client
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tests", "integration"))
from faultproxy import FaultProxy  # noqa: E402

ATRIUMD = os.path.join(ROOT, "bin", "atriumd")
ATRIUM = os.path.join(ROOT, "bin", "atrium")
LOADGEN = os.path.join(ROOT, "bin", "atrium-bench")
LATENCY = int(os.environ.get("BENCH_LATENCY_MS", "20"))
SECS = os.environ.get("BENCH_SECS", "5")
CONC = os.environ.get("BENCH_CONC", "4")
OBJECTS = int(os.environ.get("BENCH_OBJECTS", "32"))
SIZE = int(os.environ.get("BENCH_SIZE", str(1 << 20)))
LARGE = int(os.environ.get("BENCH_LARGE", str(64 << 20)))

PROCS = []
# Simple mode: the access key names the user; the remote's buckets are its
# daemon user's (this one's), private by default.
DAEMON_USER = __import__("pwd").getpwuid(os.getuid()).pw_name


def free_port():
    return int(subprocess.check_output([LOADGEN, "--free-port"]).decode())


def start_daemon(data, *args):
    port = free_port()
    log = open(os.path.join(os.path.dirname(data), "atriumd-%d.log" % port), "w")
    p = subprocess.Popen([ATRIUMD, "--data", data, "--port", str(port), "--bind", "127.0.0.1",
                          "--auth", "simple", *args], stdout=log, stderr=log)
    PROCS.append(p)
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen("http://127.0.0.1:%d/api/v1/health" % port, timeout=1)
            return p, port
        except OSError:
            time.sleep(0.1)
    raise SystemExit("atriumd did not start; see %s" % log.name)


def stop(p):
    if p.poll() is None:
        p.send_signal(signal.SIGTERM)
        try:
            p.wait(45)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()


def request(port, method, path, body=None):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    c.request(method, path, body=body)
    r = c.getresponse()
    data = r.read()
    c.close()
    if r.status >= 300:
        raise SystemExit("%s %s: %d %s" % (method, path, r.status, data[:200]))
    return data


def bench_get(port, prefix, tag):
    out = subprocess.check_output([LOADGEN, "-p", str(port), "-o", "GET", "-s", str(SIZE),
                                   "-k", str(OBJECTS), "-c", CONC, "-d", SECS, "-w", "1",
                                   "-P", prefix, "-t", tag]).decode()
    fields = dict(f.split("=", 1) for f in out.split() if "=" in f)
    return float(fields["mibs"]), float(fields["ops"]), int(float(fields["p50_us"]))


def report(port):
    return json.loads(request(port, "GET", "/api/v1/report"))


def tier_counts(rep):
    out = {}
    for t in rep["cache"].get("tiers", []):
        out[t["tier"]] = (t.get("hits", 0), t.get("misses", 0))
    return out


def zipf_keys(n, count, s=1.0, seed=7):
    weights = [1.0 / (i + 1) ** s for i in range(n)]
    rnd = random.Random(seed)
    return rnd.choices(range(n), weights=weights, k=count)


def main():
    for exe in (ATRIUMD, ATRIUM, LOADGEN):
        if not os.access(exe, os.X_OK):
            raise SystemExit("%s is missing (make all bin/atrium-bench)" % exe)
    tmp = tempfile.mkdtemp(prefix="atrium-bench-remote.", dir=os.environ.get("BENCH_TMPDIR",
                                                                             "/var/tmp"))
    proxy = None
    rows = []
    try:
        remote, rport = start_daemon(os.path.join(tmp, "remote"))
        proxy = FaultProxy(rport).start()
        proxy.delay_ms = LATENCY
        request(rport, "PUT", "/rbench")
        body = os.urandom(SIZE)
        for i in range(OBJECTS):
            request(rport, "PUT", "/rbench/obj-%d" % i, body)
        big = os.urandom(LARGE)
        for i in range(4):
            request(rport, "PUT", "/rbench/big-%d" % i, big)
        zipf_n = 256
        zbody = os.urandom(256 << 10)
        request(rport, "PUT", "/zbench")
        for i in range(zipf_n):
            request(rport, "PUT", "/zbench/obj-%d" % i, zbody)

        rows.append(("remote (through the proxy)",) + bench_get(proxy.port, "/rbench/", "remote"))

        gdata = os.path.join(tmp, "gateway", "data")
        os.makedirs(os.path.dirname(gdata))
        disk = os.path.join(tmp, "gateway", "cache")
        mem_all = "%dM" % max(64, 2 * OBJECTS * SIZE >> 20)
        gw, gport = start_daemon(gdata, "--cache-mem", mem_all, "--cache-disk", disk + ":2G")
        env = dict(os.environ, ATRIUM_ENDPOINT="http://127.0.0.1:%d" % gport)
        env.pop("AWS_ACCESS_KEY_ID", None)
        env.pop("AWS_SECRET_ACCESS_KEY", None)
        opts = ["--option", "s3.endpoint=http://127.0.0.1:%d" % proxy.port,
                "--option", "s3.accessKeyId=" + DAEMON_USER, "--option", "s3.secretKey=unused",
                "--option", "metadata.sync.interval=-1"]
        subprocess.check_call([ATRIUM, "fs", "mount", *opts, "/bench", "s3://rbench"], env=env,
                              stdout=subprocess.DEVNULL)
        t0 = time.monotonic()
        for i in range(OBJECTS):
            request(gport, "GET", "/bench/obj-%d" % i)
        cold = time.monotonic() - t0
        rows.append(("gateway, cold (from the remote)", OBJECTS * SIZE / cold / (1 << 20),
                     OBJECTS / cold, int(cold / OBJECTS * 1e6)))
        rows.append(("gateway, memory tier",) + bench_get(gport, "/bench/", "mem"))
        stop(gw)

        gw, gport = start_daemon(gdata, "--cache-mem", "4M", "--cache-disk", disk + ":2G")
        rows.append(("gateway restarted, disk tier",) + bench_get(gport, "/bench/", "disk"))
        stop(gw)

        large = []
        for n, ra in enumerate(("0", "4")):
            ldata = os.path.join(tmp, "large-%s" % ra, "data")
            os.makedirs(os.path.dirname(ldata))
            gw, gport = start_daemon(ldata, "--read-ahead", ra)
            env["ATRIUM_ENDPOINT"] = "http://127.0.0.1:%d" % gport
            subprocess.check_call([ATRIUM, "fs", "mount", *opts, "/large", "s3://rbench"],
                                  env=env, stdout=subprocess.DEVNULL)
            t0 = time.monotonic()
            request(gport, "GET", "/large/big-%d" % (2 * n))
            first = time.monotonic() - t0
            request(gport, "HEAD", "/large/big-%d" % (2 * n + 1))
            t0 = time.monotonic()
            request(gport, "GET", "/large/big-%d" % (2 * n + 1))
            read = time.monotonic() - t0
            large.append((ra, first, read))
            stop(gw)

        zdata = os.path.join(tmp, "zipf", "data")
        os.makedirs(os.path.dirname(zdata))
        gw, gport = start_daemon(zdata, "--cache-mem", "16M", "--cache-disk",
                                 os.path.join(tmp, "zipf", "cache") + ":32M")
        env["ATRIUM_ENDPOINT"] = "http://127.0.0.1:%d" % gport
        subprocess.check_call([ATRIUM, "fs", "mount", *opts, "/zipf", "s3://zbench"], env=env,
                              stdout=subprocess.DEVNULL)
        before = tier_counts(report(gport))
        keys = zipf_keys(zipf_n, 4000)
        for k in keys:
            request(gport, "GET", "/zipf/obj-%d" % k)
        after = tier_counts(report(gport))
        zipf = {}
        for tier, (h, m) in after.items():
            h0, m0 = before.get(tier, (0, 0))
            zipf[tier] = (h - h0, m - m0)
        stop(gw)
    finally:
        if proxy:
            proxy.stop()
        for p in PROCS:
            stop(p)
        shutil.rmtree(tmp, ignore_errors=True)

    print("GET of %d objects of %d KiB, %s connections, remote latency %d ms a request"
          % (OBJECTS, SIZE >> 10, CONC, LATENCY))
    print("| path | MiB/s | GETs/s | p50 µs |")
    print("| --- | --- | --- | --- |")
    for name, mibs, ops, p50 in rows:
        print("| %s | %.1f | %.1f | %d |" % (name, mibs, ops, p50))
    print()
    print("A cold GET of %d MiB, remote latency %d ms a request:" % (LARGE >> 20, LATENCY))
    print("| --read-ahead | first GET (hash + read) | GET after a HEAD (read) | read MiB/s |")
    print("| --- | --- | --- | --- |")
    for ra, first, read in large:
        print("| %s | %.2f s | %.2f s | %.1f |" % (ra, first, read, LARGE / read / (1 << 20)))
    print()
    print("Zipf(1.0), 256 objects of 256 KiB (64 MiB) over memory 16 MiB + disk 32 MiB, "
          "4000 GETs:")
    print("| tier | hits | misses | hit ratio |")
    print("| --- | --- | --- | --- |")
    for tier, (h, m) in zipf.items():
        print("| %s | %d | %d | %.3f |" % (tier, h, m, h / (h + m) if h + m else 0.0))


if __name__ == "__main__":
    main()
