"""Many clients at once on the same keys: nothing torn, nothing lost, nothing left over.

WORKERS threads (each its own boto3 client) run OPS random operations each on
one small shared key set (nested names too, so directories are created and
removed under each other's feet): PUT, GET, HEAD, DELETE, ListObjectsV2,
CopyObject between the keys, a multipart upload (two parts, then complete
or, one time in four, abort) and a multipart upload whose parts are uploaded
by several threads at once. Every body is registered (by MD5) before it is
sent, so any body read back must be one that was written whole:

- during the run: every GET returns a registered body, and a single-PUT
  ETag (no "-") is the MD5 of what came back; every listing is well formed
  and names only keys of the set; nothing but NoSuchKey (404) fails;
- at the end (quiescent): the listing, HEAD, GET and the files under
  DATA/ufs/<bucket> agree key by key (a file for every listed key, of its
  size and bytes; no other file); no upload is left, nor anything in
  DATA/ufs/.atrium/tmp or .atrium/mpu; `PRAGMA integrity_check` is ok.

`make tsan` runs this against the ThreadSanitizer build (CONC_OPS scales it).
"""
import concurrent.futures
import hashlib
import os
import random
import subprocess
import threading

import botocore.exceptions
import pytest

WORKERS = int(os.environ.get("CONC_WORKERS", "8"))
OPS = int(os.environ.get("CONC_OPS", "40"))
SEED = int(os.environ.get("CONC_SEED", "7"))
KEYS = ["k0", "k1", "k2", "d/k3", "d/k4", "d/e/k5", "d/e/f/k6"]


class Registry:
    """MD5s of every body ever sent (registered before the request)."""

    def __init__(self):
        self.lock = threading.Lock()
        self.md5s = set()

    def add(self, data):
        h = hashlib.md5(data).hexdigest()
        with self.lock:
            self.md5s.add(h)
        return h

    def known(self, data):
        with self.lock:
            return hashlib.md5(data).hexdigest() in self.md5s


def body(rng, tag, lo=1, hi=48 * 1024):
    n = rng.randint(lo, hi)
    head = tag.encode() + b"|"
    return (head * (n // len(head) + 1))[:n]


def not_found(e):
    return isinstance(e, botocore.exceptions.ClientError) and \
        e.response["ResponseMetadata"]["HTTPStatusCode"] == 404


class Worker:
    def __init__(self, wid, d, bucket, reg):
        self.wid, self.bucket, self.reg = wid, bucket, reg
        self.s3 = d.boto3()
        self.rng = random.Random(SEED * 1000 + wid)
        self.seq = 0
        self.counts = {}

    def tag(self):
        self.seq += 1
        return "w%d-%d" % (self.wid, self.seq)

    def run(self):
        ops = [self.op_put] * 5 + [self.op_get] * 5 + [self.op_head, self.op_list] * 2 + \
              [self.op_delete] * 2 + [self.op_copy] * 2 + [self.op_mpu, self.op_mpu_parallel]
        for _ in range(OPS):
            op = self.rng.choice(ops)
            key = self.rng.choice(KEYS)
            try:
                op(key)
            except Exception as e:  # noqa: BLE001 — 404 is the one allowed failure
                if not not_found(e):
                    raise AssertionError("worker %d %s %s: %r" % (
                        self.wid, op.__name__, key, e)) from e
                self.counts["404"] = self.counts.get("404", 0) + 1
            self.counts[op.__name__] = self.counts.get(op.__name__, 0) + 1
        return self.counts

    def check_body(self, key, data, etag):
        assert self.reg.known(data), "%s: a body nobody wrote (%d bytes)" % (key, len(data))
        if "-" not in etag:
            assert etag.strip('"') == hashlib.md5(data).hexdigest(), key

    def op_put(self, key):
        data = body(self.rng, self.tag())
        self.reg.add(data)
        r = self.s3.put_object(Bucket=self.bucket, Key=key, Body=data)
        assert r["ETag"].strip('"') == hashlib.md5(data).hexdigest()

    def op_get(self, key):
        r = self.s3.get_object(Bucket=self.bucket, Key=key)
        data = r["Body"].read()
        assert len(data) == r["ContentLength"], key
        self.check_body(key, data, r["ETag"])

    def op_head(self, key):
        r = self.s3.head_object(Bucket=self.bucket, Key=key)
        assert r["ContentLength"] >= 0

    def op_list(self, key):
        prefix = self.rng.choice(["", "d/", "d/e/"])
        r = self.s3.list_objects_v2(Bucket=self.bucket, Prefix=prefix)
        names = [o["Key"] for o in r.get("Contents", [])]
        assert names == sorted(names)
        assert set(names) <= set(KEYS), names
        assert all(n.startswith(prefix) for n in names)

    def op_delete(self, key):
        self.s3.delete_object(Bucket=self.bucket, Key=key)

    def op_copy(self, key):
        src = self.rng.choice(KEYS)
        if src == key:
            return
        self.s3.copy_object(Bucket=self.bucket, Key=key,
                            CopySource={"Bucket": self.bucket, "Key": src})

    def op_mpu(self, key):
        t = self.tag()
        parts = [body(self.rng, t + "a"), body(self.rng, t + "b")]
        self.reg.add(b"".join(parts))
        up = self.s3.create_multipart_upload(Bucket=self.bucket, Key=key)["UploadId"]
        done = []
        try:
            for i, p in enumerate(parts, 1):
                r = self.s3.upload_part(Bucket=self.bucket, Key=key, UploadId=up,
                                        PartNumber=i, Body=p)
                done.append({"PartNumber": i, "ETag": r["ETag"]})
            if self.rng.random() < 0.25:
                self.s3.abort_multipart_upload(Bucket=self.bucket, Key=key, UploadId=up)
                return
            self.s3.complete_multipart_upload(Bucket=self.bucket, Key=key, UploadId=up,
                                              MultipartUpload={"Parts": done})
        except BaseException:
            self.s3.abort_multipart_upload(Bucket=self.bucket, Key=key, UploadId=up)
            raise

    def op_mpu_parallel(self, key):
        """Parts of one upload sent by three threads at once."""
        t = self.tag()
        parts = [body(self.rng, t + "p%d" % i, 1024, 24 * 1024) for i in range(6)]
        self.reg.add(b"".join(parts))
        up = self.s3.create_multipart_upload(Bucket=self.bucket, Key=key)["UploadId"]
        try:
            def send(i):
                r = self.s3.upload_part(Bucket=self.bucket, Key=key, UploadId=up,
                                        PartNumber=i + 1, Body=parts[i])
                return {"PartNumber": i + 1, "ETag": r["ETag"]}
            with concurrent.futures.ThreadPoolExecutor(3) as ex:
                done = list(ex.map(send, range(len(parts))))
            listed = self.s3.list_parts(Bucket=self.bucket, Key=key, UploadId=up)["Parts"]
            assert [p["PartNumber"] for p in listed] == list(range(1, len(parts) + 1))
            self.s3.complete_multipart_upload(Bucket=self.bucket, Key=key, UploadId=up,
                                              MultipartUpload={"Parts": done})
        except BaseException:
            self.s3.abort_multipart_upload(Bucket=self.bucket, Key=key, UploadId=up)
            raise


@pytest.fixture(scope="module")
def conc_daemon(atriumd_factory):
    # Small parts (a few KiB) are allowed, so multipart rounds stay quick.
    return atriumd_factory("sigv4", "concurrency", ["--min-part-size", "0"])


def test_overlapping_keys_many_threads(conc_daemon, bucket_name):
    d = conc_daemon
    s3 = d.boto3()
    s3.create_bucket(Bucket=bucket_name)
    reg = Registry()
    workers = [Worker(i, d, bucket_name, reg) for i in range(WORKERS)]
    with concurrent.futures.ThreadPoolExecutor(WORKERS) as ex:
        counts = list(ex.map(lambda w: w.run(), workers))
    total = {}
    for c in counts:
        for k, v in c.items():
            total[k] = total.get(k, 0) + v
    print("operations:", total)

    # Quiescent: listing, HEAD, GET and the files agree, key by key.
    listed = {o["Key"]: o for o in
              s3.list_objects_v2(Bucket=bucket_name).get("Contents", [])}
    assert set(listed) <= set(KEYS)
    root = os.path.join(d.ufs, bucket_name)
    for key in KEYS:
        path = os.path.join(root, key)
        if key not in listed:
            with pytest.raises(botocore.exceptions.ClientError) as ei:
                s3.head_object(Bucket=bucket_name, Key=key)
            assert not_found(ei.value)
            assert not os.path.isfile(path), key
            continue
        r = s3.get_object(Bucket=bucket_name, Key=key)
        data = r["Body"].read()
        assert reg.known(data), key
        assert len(data) == listed[key]["Size"] == r["ContentLength"]
        assert r["ETag"] == listed[key]["ETag"]
        with open(path, "rb") as f:
            assert f.read() == data, key
    files = set()
    for dirpath, _dirs, names in os.walk(root):
        files |= {os.path.relpath(os.path.join(dirpath, n), root) for n in names}
    assert files == set(listed), "files %s, listed %s" % (sorted(files), sorted(listed))

    assert s3.list_multipart_uploads(Bucket=bucket_name).get("Uploads", []) == []
    atrium = os.path.join(d.ufs, ".atrium")
    assert os.listdir(os.path.join(atrium, "tmp")) == []
    assert os.listdir(os.path.join(atrium, "mpu")) == []
    p = subprocess.run(["sqlite3", os.path.join(d.data, "meta.db"), "PRAGMA integrity_check"],
                       capture_output=True, text=True, timeout=60)
    assert p.stdout.strip() == "ok", p.stdout + p.stderr


def test_concurrent_large_bodies_each_get_their_own_md5(alice, bucket):
    """16 clients at once send bodies of hundreds of KiB to a few MiB, of odd
    lengths: PUT, UploadPart, CopyObject. Their MD5s are computed together,
    in the lanes of the daemon's multi-buffer MD5 engine (common/md5mb.c);
    every ETag must still be its own body's MD5, and the object read back
    must be the body sent."""
    threads = 16

    def one(i):
        rng = random.Random(SEED * 7919 + i)
        data = os.urandom(rng.randint(200 * 1024, 3 * 1024 * 1024) | 1)
        key = "big-%d" % i
        r = alice.put_object(Bucket=bucket, Key=key, Body=data)
        assert r["ETag"].strip('"') == hashlib.md5(data).hexdigest(), key
        got = alice.get_object(Bucket=bucket, Key=key)["Body"].read()
        assert hashlib.md5(got).hexdigest() == hashlib.md5(data).hexdigest(), key
        c = alice.copy_object(Bucket=bucket, Key=key + "-copy",
                              CopySource={"Bucket": bucket, "Key": key})
        assert c["CopyObjectResult"]["ETag"].strip('"') == hashlib.md5(data).hexdigest()
        up = alice.create_multipart_upload(Bucket=bucket, Key=key + "-mpu")["UploadId"]
        parts = [os.urandom(5 * 1024 * 1024), os.urandom(rng.randint(1, 900 * 1024))]
        done = []
        for n, part in enumerate(parts, 1):
            p = alice.upload_part(Bucket=bucket, Key=key + "-mpu", UploadId=up,
                                  PartNumber=n, Body=part)
            assert p["ETag"].strip('"') == hashlib.md5(part).hexdigest(), (key, n)
            done.append({"PartNumber": n, "ETag": p["ETag"]})
        r = alice.complete_multipart_upload(Bucket=bucket, Key=key + "-mpu", UploadId=up,
                                            MultipartUpload={"Parts": done})
        want = hashlib.md5(b"".join(hashlib.md5(p).digest() for p in parts)).hexdigest()
        assert r["ETag"].strip('"') == want + "-2"
        return i

    with concurrent.futures.ThreadPoolExecutor(threads) as ex:
        assert sorted(ex.map(one, range(threads))) == list(range(threads))
