"""Read-ahead for sequential reads of a remote bucket's objects (issue 15,
--read-ahead): a cold GET of a large object has the remote serve several
of its blocks at once (ranged GETs ahead of the gateway's reader), each
block once, so 20 ms of latency is not paid once per block; a ranged GET
reads nothing past its range; NO_CACHE reads do not read ahead; the FUSE
mount's reads of a remote file go through the block cache and read
ahead too (one ranged GET per block, not one per kernel read). The
remote is a second atriumd behind a FaultProxy that adds latency and
records the Range of every request."""
import os
import time

import pytest

from remote_util import mount_args, proxy, uniq  # noqa: F401 (proxy: a fixture)
from s3util import typed_client
from test_cli_admin import cli, ls_json, ok

BLOCK = 1024 * 1024
DELAY_MS = 100


@pytest.fixture(scope="module")
def remote(atriumd_factory):
    return atriumd_factory("sigv4", name="ra-remote")


def remote_object(gw, remote, proxy, tmp_path, nblocks, extra=0):
    """A mount of a new remote bucket through proxy, holding "obj" of
    nblocks blocks (+ extra bytes), written at the remote directly so the
    gateway has none of it cached."""
    rb, name = uniq("rb"), uniq("mnt")
    rs3 = remote.boto3("alice")
    rs3.create_bucket(Bucket=rb)
    body = os.urandom(nblocks * BLOCK + extra)
    rs3.put_object(Bucket=rb, Key="obj", Body=body)
    ok(cli(gw, "fs", "mount", *mount_args(remote, tmp_path, interval="-1",
                                          endpoint="http://127.0.0.1:%d" % proxy.port),
           "/" + name, "s3://" + rb, user="admin"))
    # The gateway hashes an object it did not write before it answers
    # for it (src/etag.c: a read of the whole file of its own, outside
    # the cache); the HEAD gets that done, so what follows is the reads.
    gw.boto3("admin").head_object(Bucket=name, Key="obj")
    proxy.ranges.clear()
    proxy.most_delayed = 0
    return name, body


def block_ranges(size):
    return [(i, min(i + BLOCK, size) - 1) for i in range(0, size, BLOCK)]


def test_a_cold_sequential_get_reads_ahead_each_block_once(remote, atriumd_factory, proxy,
                                                           tmp_path):
    gw = atriumd_factory("sigv4", name="ra-gw")
    nblocks = 16
    name, body = remote_object(gw, remote, proxy, tmp_path, nblocks, extra=12345)
    proxy.delay_ms = DELAY_MS
    proxy.ranges.clear()
    t0 = time.monotonic()
    got = gw.boto3("admin").get_object(Bucket=name, Key="obj")["Body"].read()
    took = time.monotonic() - t0
    assert got == body
    # The remote served blocks ahead of the reader: several at once.
    assert proxy.most_delayed >= 2, "the remote never saw two block reads at once"
    # Each block exactly once: no double fetch, nothing past the end.
    assert sorted(proxy.ranges) == block_ranges(len(body))
    # One round trip per block would be nblocks + 1 delays at least.
    serial = (nblocks + 1) * DELAY_MS / 1000.0
    assert took < 0.75 * serial, "cold GET took %.2f s; one block at a time is %.2f s" % (
        took, serial)

    # Cached now: a second GET does not ask the remote at all.
    proxy.ranges.clear()
    assert gw.boto3("admin").get_object(Bucket=name, Key="obj")["Body"].read() == body
    assert proxy.ranges == []


def test_ranged_and_no_cache_reads_do_not_read_ahead(remote, atriumd_factory, proxy, tmp_path):
    gw = atriumd_factory("sigv4", name="ra-ranges")
    name, body = remote_object(gw, remote, proxy, tmp_path, 8)
    proxy.delay_ms = 20
    s3 = gw.boto3("admin")

    # A range inside block 2: that block alone.
    got = s3.get_object(Bucket=name, Key="obj", Range="bytes=%d-%d" % (2 * BLOCK + 5, 2 * BLOCK + 99))
    assert got["Body"].read() == body[2 * BLOCK + 5:2 * BLOCK + 100]
    assert proxy.ranges == [(2 * BLOCK, 3 * BLOCK - 1)]
    # Blocks 4 and 5: read ahead within the range only (block 6 untouched).
    proxy.ranges.clear()
    got = s3.get_object(Bucket=name, Key="obj", Range="bytes=%d-%d" % (4 * BLOCK, 6 * BLOCK - 1))
    assert got["Body"].read() == body[4 * BLOCK:6 * BLOCK]
    assert sorted(proxy.ranges) == [(4 * BLOCK, 5 * BLOCK - 1), (5 * BLOCK, 6 * BLOCK - 1)]

    # NO_CACHE: one block at a time, each asked for by the reader itself.
    proxy.ranges.clear()
    proxy.most_delayed = 0
    nc = typed_client(gw, "admin", x_atrium_read_type="NO_CACHE")
    assert nc.get_object(Bucket=name, Key="obj")["Body"].read() == body
    assert proxy.most_delayed == 1
    # Blocks 0, 1, 3, 6, 7 from the remote; 2, 4, 5 were cached above.
    assert sorted(proxy.ranges) == [r for i, r in enumerate(block_ranges(len(body)))
                                    if i not in (2, 4, 5)]


def test_read_ahead_off(remote, atriumd_factory, proxy, tmp_path):
    gw = atriumd_factory("sigv4", name="ra-off", args=["--read-ahead", "0"])
    name, body = remote_object(gw, remote, proxy, tmp_path, 6)
    proxy.delay_ms = 20
    assert gw.boto3("admin").get_object(Bucket=name, Key="obj")["Body"].read() == body
    assert proxy.most_delayed == 1
    assert sorted(proxy.ranges) == block_ranges(len(body))


def test_the_mount_reads_a_remote_file_through_the_cache(remote, mount_factory, proxy,
                                                         tmp_path):
    gw = mount_factory("sigv4", "ra-fuse")
    name, body = remote_object(gw, remote, proxy, tmp_path, 12, extra=999)
    proxy.delay_ms = DELAY_MS
    t0 = time.monotonic()
    with open(os.path.join(gw.mnt, name, "obj"), "rb") as f:
        got = b"".join(iter(lambda: f.read(128 * 1024), b""))
    took = time.monotonic() - t0
    assert got == body
    # Whole blocks, each once (the kernel asks 128 KiB at a time), and
    # several at once: read ahead of the reader.
    assert sorted(proxy.ranges) == block_ranges(len(body))
    assert proxy.most_delayed >= 2
    serial = (12 + 1) * DELAY_MS / 1000.0
    assert took < 0.75 * serial, "read took %.2f s; one block at a time is %.2f s" % (
        took, serial)
    # It is in the cache now: the report's in-cache bytes, and no remote read.
    e = ls_json(gw, "/%s/obj" % name, user="admin")["/%s/obj" % name]
    assert e["in_cache_percent"] == 100
    proxy.ranges.clear()
    with open(os.path.join(gw.mnt, name, "obj"), "rb") as f:
        f.seek(5 * BLOCK + 3)
        assert f.read(1000) == body[5 * BLOCK + 3:5 * BLOCK + 1003]
    assert proxy.ranges == []
