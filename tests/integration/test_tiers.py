"""The block cache's DISK tier (issue 15, --cache-disk DIR:SIZE): what `fs
load` brings in stays across a restart (same in-cache percentage, GETs
served from disk, not the under-storage), a changed object never serves
its old blocks, a corrupt block is dropped and read again, `fs free`
empties both tiers, and the report shows each tier."""
import os
import stat

from s3util import typed_client
from test_cli_admin import Session, cli, ls_json, metric, ok, report, scrape

BLOCK = 1024 * 1024
SIZE = 3 * BLOCK + 17  # four blocks, the last one short


def tier(rep, name):
    found = [t for t in rep["cache"]["tiers"] if t["tier"] == name]
    return found[0] if found else None


def blocks_in(cache_dir):
    return sorted(n for n in os.listdir(cache_dir) if not n.startswith("."))


def start(atriumd_factory, tmp_path, name):
    cache_dir = str(tmp_path / "disk-cache")
    d = atriumd_factory("sigv4", name, ["--cache-disk", cache_dir + ":64M"])
    return d, cache_dir


def pct(d, path):
    e = ls_json(d, path)[path]
    return e["in_cache_percent"], e["in_cache_bytes"]


def test_load_survives_a_restart_and_is_served_from_disk(atriumd_factory, bucket_name,
                                                         tmp_path):
    d, cache_dir = start(atriumd_factory, tmp_path, "tiers-restart")
    s3 = d.boto3("alice")
    s3.create_bucket(Bucket=bucket_name)
    body = os.urandom(SIZE)
    s3.put_object(Bucket=bucket_name, Key="big", Body=body)
    s3.put_object(Bucket=bucket_name, Key="half", Body=os.urandom(2 * BLOCK))
    path = "/%s/big" % bucket_name

    r0 = report(d)
    disk = tier(r0, "disk")
    assert disk and disk["capacity"] == 64 * BLOCK and disk["used"] == 0
    assert r0["cache"]["capacity"] == tier(r0, "memory")["capacity"] + 64 * BLOCK
    assert pct(d, path) == (0, 0)

    # fs load returns once the blocks are on disk.
    ok(cli(d, "fs", "load", path))
    assert pct(d, path) == (100, SIZE)
    r1 = report(d)
    assert tier(r1, "disk")["blocks"] == 4
    assert tier(r1, "disk")["used"] == SIZE + 4 * 48  # data and headers
    names = blocks_in(cache_dir)
    assert len(names) == 4
    assert stat.S_IMODE(os.stat(cache_dir).st_mode) == 0o700
    for n in names:
        assert stat.S_IMODE(os.stat(os.path.join(cache_dir, n)).st_mode) == 0o600
    # A partial object: half of "half" read through S3 (block 0 only).
    got = s3.get_object(Bucket=bucket_name, Key="half", Range="bytes=0-99")["Body"].read()
    assert len(got) == 100
    half = "/%s/half" % bucket_name
    before_half = pct(d, half)
    assert before_half == (50, BLOCK)

    d.restart()
    s3 = d.boto3("alice")  # a new port
    # The same in-cache percentage as before the restart, block-exact.
    assert pct(d, path) == (100, SIZE)
    assert pct(d, half) == before_half
    r2 = report(d)
    assert tier(r2, "disk")["blocks"] == 5
    assert tier(r2, "memory")["used"] == 0

    # A GET is a cache hit: four blocks from disk, none from the under-storage.
    # The read type CACHE_PROMOTE (src/atrium.h) also copies them to memory...
    promote = typed_client(d, x_atrium_read_type="CACHE_PROMOTE")
    assert promote.get_object(Bucket=bucket_name, Key="big")["Body"].read() == body
    r3 = report(d)
    assert tier(r3, "disk")["hits"] - tier(r2, "disk")["hits"] == 4
    assert r3["cache"]["misses"] == r2["cache"]["misses"]
    assert r3["cache"]["hits"] - r2["cache"]["hits"] == 4
    # ...so the next GET hits there.
    assert s3.get_object(Bucket=bucket_name, Key="big")["Body"].read() == body
    r4 = report(d)
    assert tier(r4, "memory")["hits"] - tier(r3, "memory")["hits"] == 4
    assert tier(r4, "disk")["hits"] == tier(r3, "disk")["hits"]
    text = ok(cli(d, "report"))
    assert "Tier disk: capacity 64.00MB" in text and "hits 4" in text, text
    sess = Session(d, "alice")
    try:
        _, m = scrape(sess)
    finally:
        sess.close()
    assert metric(m, "atrium_cache_hits_total", tier="disk") == tier(r4, "disk")["hits"]
    assert metric(m, "atrium_cache_capacity_bytes", tier="disk") == 64 * BLOCK
    assert metric(m, "atrium_cache_used_bytes", tier="disk") == tier(r4, "disk")["used"]
    assert metric(m, "atrium_cache_disk_corrupt_total") == 0

    # The default read type, CACHE, serves a disk block from disk and
    # leaves memory alone: "half"'s block is a disk hit each time.
    for _ in range(2):
        r5 = report(d)
        assert len(s3.get_object(Bucket=bucket_name, Key="half",
                                 Range="bytes=0-99")["Body"].read()) == 100
        r6 = report(d)
        assert tier(r6, "disk")["hits"] - tier(r5, "disk")["hits"] == 1
        assert tier(r6, "memory")["used"] == tier(r5, "memory")["used"]

    # fs free empties both tiers, on disk too, and a restart agrees.
    out = ok(cli(d, "fs", "free", path))
    assert "bytes: %d)" % SIZE in out, out
    assert pct(d, path) == (0, 0)
    assert len(blocks_in(cache_dir)) == 1  # half's block stays
    d.restart()
    s3 = d.boto3("alice")  # a new port
    assert pct(d, path) == (0, 0)
    assert pct(d, half) == before_half


def test_a_changed_object_never_serves_its_old_blocks(atriumd_factory, bucket_name, tmp_path):
    d, cache_dir = start(atriumd_factory, tmp_path, "tiers-stale")
    s3 = d.boto3("alice")
    s3.create_bucket(Bucket=bucket_name)
    old = os.urandom(SIZE)
    s3.put_object(Bucket=bucket_name, Key="k", Body=old)
    path = "/%s/k" % bucket_name
    ok(cli(d, "fs", "load", path))
    assert pct(d, path) == (100, SIZE)

    # Overwritten through S3: a new version, none of it cached.
    new = os.urandom(SIZE)
    s3.put_object(Bucket=bucket_name, Key="k", Body=new)
    assert pct(d, path) == (0, 0)
    d.restart()
    s3 = d.boto3("alice")  # a new port
    assert pct(d, path) == (0, 0)
    r0 = report(d)
    assert s3.get_object(Bucket=bucket_name, Key="k")["Body"].read() == new
    r1 = report(d)
    assert r1["cache"]["misses"] - r0["cache"]["misses"] == 4  # from the under-storage
    ok(cli(d, "fs", "load", path))  # on disk, before the next change
    # An S3 overwrite is a new inode: the old one's blocks are garbage
    # that eviction ages out (both inodes' blocks are there).
    assert len(blocks_in(cache_dir)) == 8

    # Changed behind our back while the daemon is down (same size): the
    # row's version moves at the next lookup, so the disk's blocks are stale.
    assert d.stop() is None
    behind = os.urandom(SIZE)
    ufs_file = os.path.join(d.ufs, bucket_name, "k")
    with open(ufs_file, "wb") as f:
        f.write(behind)
    st = os.stat(ufs_file)
    os.utime(ufs_file, ns=(st.st_atime_ns, st.st_mtime_ns + 5_000_000_000))
    d.stopped = False
    d.start()
    s3 = d.boto3("alice")
    assert s3.get_object(Bucket=bucket_name, Key="k")["Body"].read() == behind
    assert pct(d, path)[1] == SIZE  # the new version, read in as it was served
    # Same inode, a newer version: its older blocks went when these came.
    ok(cli(d, "fs", "load", path))  # waits for the disk writes
    assert tier(report(d), "disk")["stale"] == 4
    assert len(blocks_in(cache_dir)) == 8


def test_a_corrupt_block_is_dropped_and_read_again(atriumd_factory, bucket_name, tmp_path):
    d, cache_dir = start(atriumd_factory, tmp_path, "tiers-corrupt")
    s3 = d.boto3("alice")
    s3.create_bucket(Bucket=bucket_name)
    body = os.urandom(SIZE)
    s3.put_object(Bucket=bucket_name, Key="k", Body=body)
    path = "/%s/k" % bucket_name
    ok(cli(d, "fs", "load", path))
    assert d.stop() is None
    names = blocks_in(cache_dir)
    # One block's data flipped (its header and size intact: found on read),
    # another cut short (found by the scan at start).
    with open(os.path.join(cache_dir, names[1]), "r+b") as f:
        f.seek(48 + 1000)
        c = f.read(1)
        f.seek(48 + 1000)
        f.write(bytes([c[0] ^ 0xFF]))
    with open(os.path.join(cache_dir, names[2]), "r+b") as f:
        f.truncate(48 + 100)
    d.stopped = False
    d.start()
    s3 = d.boto3("alice")
    r0 = report(d)
    assert tier(r0, "disk")["blocks"] == 3 and tier(r0, "disk")["corrupt"] == 1
    assert s3.get_object(Bucket=bucket_name, Key="k")["Body"].read() == body
    r1 = report(d)
    assert tier(r1, "disk")["corrupt"] == 2
    assert tier(r1, "disk")["hits"] - tier(r0, "disk")["hits"] == 2
    assert r1["cache"]["misses"] - r0["cache"]["misses"] == 2
    # Read again from the under-storage, and written to disk again.
    ok(cli(d, "fs", "load", path))
    assert len(blocks_in(cache_dir)) == 4


def test_a_bad_cache_disk_value_is_refused(atriumd_factory, tmp_path):
    import subprocess
    from conftest import ATRIUMD
    p = subprocess.run([ATRIUMD, "--data", str(tmp_path / "data"), "--cache-disk",
                        str(tmp_path / "c") + ":1M"], capture_output=True, timeout=30)
    assert p.returncode != 0 and b"--cache-disk must be DIR:SIZE" in p.stderr


def test_concurrent_gets_of_a_missing_block_read_it_once(atriumd_factory, bucket_name,
                                                         tmp_path):
    import threading
    d, _ = start(atriumd_factory, tmp_path, "tiers-flight")
    s3 = d.boto3("alice")
    s3.create_bucket(Bucket=bucket_name)
    body = os.urandom(BLOCK)
    s3.put_object(Bucket=bucket_name, Key="one", Body=body)
    r0 = report(d)
    got, errors = [], []
    clients = [d.boto3("alice") for _ in range(8)]
    gate = threading.Barrier(8)

    def get(c):
        try:
            gate.wait(timeout=10)
            got.append(c.get_object(Bucket=bucket_name, Key="one")["Body"].read())
        except Exception as e:  # noqa: BLE001 - reported below
            errors.append(e)

    threads = [threading.Thread(target=get, args=(c,)) for c in clients]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not errors and got == [body] * 8
    r1 = report(d)
    # Eight lookups, one read from the under-storage, whatever the timing.
    assert r1["cache"]["misses"] - r0["cache"]["misses"] == 1
    assert r1["cache"]["hits"] - r0["cache"]["hits"] == 7


def test_a_killed_daemon_keeps_what_fs_load_wrote(atriumd_factory, bucket_name, tmp_path):
    import signal
    d, cache_dir = start(atriumd_factory, tmp_path, "tiers-kill")
    s3 = d.boto3("alice")
    s3.create_bucket(Bucket=bucket_name)
    body = os.urandom(SIZE)
    s3.put_object(Bucket=bucket_name, Key="k", Body=body)
    path = "/%s/k" % bucket_name
    ok(cli(d, "fs", "load", path))
    # kill -9 right after the load answered: its blocks are on disk already.
    os.kill(d.proc.pid, signal.SIGKILL)
    d.proc.wait(timeout=30)
    d.start()
    s3 = d.boto3("alice")
    assert pct(d, path) == (100, SIZE)
    r0 = report(d)
    assert s3.get_object(Bucket=bucket_name, Key="k")["Body"].read() == body
    r1 = report(d)
    assert tier(r1, "disk")["hits"] - tier(r0, "disk")["hits"] == 4
    assert r1["cache"]["misses"] == r0["cache"]["misses"]
    assert not [n for n in os.listdir(cache_dir) if n.startswith(".tmp.")]


def test_a_cache_disk_inside_the_under_storage_is_refused(tmp_path):
    import subprocess
    from conftest import ATRIUMD
    data = tmp_path / "data"
    p = subprocess.run([ATRIUMD, "--data", str(data), "--port", "1", "--cache-disk",
                        str(data / "ufs" / "bkt") + ":64M"], capture_output=True, timeout=30)
    assert p.returncode != 0 and b"inside the under-storage" in p.stderr, p.stderr
    assert not (data / "ufs" / "bkt").exists()
