"""Crash consistency: SIGKILL atriumd mid-workload, restart, check invariants.

One daemon, one bucket, CRASH_ROUNDS rounds (default 24; `make crash-soak`
runs more). Each round: THREADS workers run a mixed workload (PUTs of new
keys and overwrites, DELETEs, multipart uploads: create, parts, complete or
abort), each worker on its own keys, so a key's history is sequential and the
model exact. When the count of acknowledged operations reaches a seeded
random target the daemon is SIGKILLed (by PID); the workers' in-flight
requests fail (unacknowledged). The daemon restarts on the same data dir and:

- every key is in the state of its last acknowledged operation (same ETag,
  same bytes, or absent), or — if the worker's in-flight operation touched
  it — in the state that operation would have left, whole (never a mix);
- the listing and the files under DATA/ufs/<bucket> agree (every listed key
  is a file of the listed size and the object's md5; every file is listed);
- DATA/ufs/.atrium/tmp is empty; no staging directory of a completed or
  aborted upload remains, and every staging directory belongs to a listed
  upload;
- `PRAGMA integrity_check` on DATA/meta.db says ok.

The observed state then becomes the model for the next round, so later
rounds crash a daemon that has already been crashed. CRASH_SEED fixes the
seed (printed on failure with the round).
"""
import hashlib
import os
import random
import signal
import subprocess
import threading
import time

import s3util

ROUNDS = int(os.environ.get("CRASH_ROUNDS", "24"))
SEED = int(os.environ.get("CRASH_SEED", "20261125"))
THREADS = 3
KEYS_PER_THREAD = 5
KILL_AFTER = (3, 40)  # acknowledged operations in a round before SIGKILL
WAIT_LIMIT = 30.0     # bounded wait for the kill target to be reached


def body_for(rng, lo=0, hi=48 * 1024):
    n = rng.randint(lo, hi)
    return rng.randbytes(n)


def state_of(data):
    """Model state of an object from a single PUT."""
    return ('"%s"' % hashlib.md5(data).hexdigest(), hashlib.md5(data).hexdigest(), len(data))


def mpu_state(parts):
    digests = b"".join(hashlib.md5(p).digest() for p in parts)
    whole = b"".join(parts)
    return ('"%s-%d"' % (hashlib.md5(digests).hexdigest(), len(parts)),
            hashlib.md5(whole).hexdigest(), len(whole))


class Worker(threading.Thread):
    def __init__(self, tid, client, bucket, seed, model, progress):
        super().__init__(daemon=True)
        self.tid = tid
        self.s3 = client
        self.bucket = bucket
        self.rng = random.Random(seed)
        self.model = model            # key -> state or None (shared, own keys only)
        self.progress = progress      # shared counter object
        self.stop = threading.Event()
        self.inflight = None          # (key, possible new state) of the failed op
        self.last_inflight = None
        self.finishing = None         # upload whose complete/abort was sent
        self.done_uploads = []        # acknowledged complete/abort upload ids
        self.open_uploads = []        # created (acknowledged), not finished
        self.error = None

    def keys(self):
        return ["t%d/k%d" % (self.tid, i) for i in range(KEYS_PER_THREAD)]

    def run(self):
        try:
            while not self.stop.is_set():
                key = self.rng.choice(self.keys())
                r = self.rng.random()
                try:
                    if r < 0.5:
                        self.op_put(key)
                    elif r < 0.7:
                        self.op_delete(key)
                    else:
                        self.op_mpu(key)
                except Exception:  # noqa: BLE001 — the daemon was killed
                    if not self.stop.is_set():
                        raise
                    return
        except Exception as e:  # noqa: BLE001
            self.error = e

    def ack(self):
        self.progress.ack()

    def op_put(self, key):
        data = body_for(self.rng)
        new = state_of(data)
        self.inflight = (key, new)
        r = self.s3.put_object(Bucket=self.bucket, Key=key, Body=data)
        assert r["ETag"] == new[0], (key, r["ETag"], new)
        self.model[key] = new
        self.inflight = None
        self.ack()

    def op_delete(self, key):
        self.inflight = (key, None)
        self.s3.delete_object(Bucket=self.bucket, Key=key)
        self.model[key] = None
        self.inflight = None
        self.ack()

    def op_mpu(self, key):
        self.inflight = None  # create and parts change no object
        up = self.s3.create_multipart_upload(Bucket=self.bucket, Key=key)["UploadId"]
        self.open_uploads.append(up)
        self.ack()
        parts = []
        done = []
        for n in range(1, self.rng.randint(1, 3) + 1):
            data = body_for(self.rng, 1, 24 * 1024)
            r = self.s3.upload_part(Bucket=self.bucket, Key=key, UploadId=up,
                                    PartNumber=n, Body=data)
            assert r["ETag"] == state_of(data)[0]
            parts.append(data)
            done.append({"PartNumber": n, "ETag": r["ETag"]})
            self.ack()
        self.finishing = up
        if self.rng.random() < 0.2:
            self.s3.abort_multipart_upload(Bucket=self.bucket, Key=key, UploadId=up)
            self.open_uploads.remove(up)
            self.done_uploads.append(up)
            self.finishing = None
            self.ack()
            return
        new = mpu_state(parts)
        self.inflight = (key, new)
        r = self.s3.complete_multipart_upload(Bucket=self.bucket, Key=key, UploadId=up,
                                              MultipartUpload={"Parts": done})
        assert r["ETag"] == new[0], (key, r["ETag"], new)
        self.model[key] = new
        self.inflight = None
        self.open_uploads.remove(up)
        self.done_uploads.append(up)
        self.finishing = None
        self.ack()


class Progress:
    def __init__(self):
        self.cv = threading.Condition()
        self.n = 0

    def ack(self):
        with self.cv:
            self.n += 1
            self.cv.notify_all()

    def wait_for(self, target, deadline):
        with self.cv:
            while self.n < target:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self.cv.wait(left)
            return True


def sigkill(d):
    os.kill(d.proc.pid, signal.SIGKILL)
    d.proc.wait(timeout=15)
    assert d.proc.returncode == -signal.SIGKILL


def observe(s3, bucket, key):
    """(etag, md5, size) of key as served now, or None."""
    try:
        r = s3.get_object(Bucket=bucket, Key=key)
    except s3.exceptions.NoSuchKey:
        return None
    data = r["Body"].read()
    assert len(data) == r["ContentLength"]
    return (r["ETag"], hashlib.md5(data).hexdigest(), len(data))


def list_all(s3, bucket):
    out = {}
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket):
        for c in page.get("Contents", []):
            out[c["Key"]] = (c["ETag"], c["Size"])
    return out


def list_uploads(s3, bucket):
    r = s3.list_multipart_uploads(Bucket=bucket)
    assert not r.get("IsTruncated")
    return {u["UploadId"] for u in r.get("Uploads", [])}


def check_round(d, s3, bucket, workers, rnd):
    where = "seed %d round %d" % (SEED, rnd)
    ufs = d.ufs
    # the metadata store
    p = subprocess.run(["sqlite3", os.path.join(d.data, "meta.db"), "PRAGMA integrity_check"],
                       capture_output=True, text=True, timeout=60)
    assert p.returncode == 0 and p.stdout.strip() == "ok", (where, p.stdout, p.stderr)
    # staging space
    tmp = os.path.join(ufs, ".atrium", "tmp")
    assert os.path.isdir(tmp) and os.listdir(tmp) == [], (where, os.listdir(tmp))
    # every key: last acknowledged state, or the in-flight op's state, whole
    for w in workers:
        for key in w.keys():
            got = observe(s3, bucket, key)
            ok = {w.model.get(key)}
            if w.inflight and w.inflight[0] == key:
                ok.add(w.inflight[1])
            assert got in ok, (where, key, got, ok)
            w.model[key] = got
        w.last_inflight, w.inflight = w.inflight, None
    # listing <-> files
    listed = list_all(s3, bucket)
    model = {k: v for w in workers for k, v in w.model.items() if v is not None}
    assert set(listed) == set(model), (where, sorted(listed), sorted(model))
    broot = os.path.join(ufs, bucket)
    files = set(s3util.files_under(broot))
    assert files == set(listed), (where, sorted(files ^ set(listed)))
    for key, (etag, size) in listed.items():
        assert etag == model[key][0], (where, key, etag, model[key])
        with open(os.path.join(broot, key), "rb") as f:
            data = f.read()
        assert len(data) == size == model[key][2], (where, key, len(data), size)
        assert hashlib.md5(data).hexdigest() == model[key][1], (where, key)
    # multipart staging
    uploads = list_uploads(s3, bucket)
    mpu = os.path.join(ufs, ".atrium", "mpu")
    staged = set(os.listdir(mpu)) if os.path.isdir(mpu) else set()
    assert staged <= uploads, (where, staged - uploads)
    for w in workers:
        finished = set(w.done_uploads)
        assert not (finished & (staged | uploads)), (where, finished & (staged | uploads))
        # an open upload may be gone only if its completion or abort was in
        # flight; a completion that removed the upload has committed its
        # object (a crash between the commit and the row deletion may leave
        # the upload listed: allowed)
        gone = [up for up in w.open_uploads if up not in uploads]
        assert gone in ([], [w.finishing]), (where, gone, w.finishing)
        if gone and w.last_inflight:
            key, new = w.last_inflight
            assert w.model[key] == new, (where, gone, w.model[key], new)
        w.finishing = None
        # tidy up: abort every upload still open (acknowledged, checked next round)
        for up in list(w.open_uploads):
            if up in uploads:
                key = next(u["Key"] for u in s3.list_multipart_uploads(Bucket=bucket)["Uploads"]
                           if u["UploadId"] == up)
                s3.abort_multipart_upload(Bucket=bucket, Key=key, UploadId=up)
        w.done_uploads = list(w.open_uploads) + list(w.done_uploads)
        w.open_uploads = []
    # anything left over from an unacknowledged create: abort too
    for u in s3.list_multipart_uploads(Bucket=bucket).get("Uploads", []):
        s3.abort_multipart_upload(Bucket=bucket, Key=u["Key"], UploadId=u["UploadId"])
        workers[0].done_uploads.append(u["UploadId"])


def test_sigkill_rounds(atriumd_factory):
    rng = random.Random(SEED)
    d = atriumd_factory("sigv4", "crash", ["--min-part-size", "0"])
    bucket = s3util.unique_bucket("crash")
    d.boto3("alice").create_bucket(Bucket=bucket)
    models = [{} for _ in range(THREADS)]
    done_uploads = [[] for _ in range(THREADS)]
    kills = 0
    for rnd in range(ROUNDS):
        progress = Progress()
        workers = []
        for t in range(THREADS):
            w = Worker(t, d.boto3("alice"), bucket, rng.getrandbits(64), models[t], progress)
            w.done_uploads = done_uploads[t]
            workers.append(w)
        target = rng.randint(*KILL_AFTER)
        for w in workers:
            w.start()
        reached = progress.wait_for(target, time.monotonic() + WAIT_LIMIT)
        for w in workers:
            w.stop.set()
        errors = [w.error for w in workers if w.error]
        assert reached or errors, "round %d: %d/%d acknowledged ops in %ss" % (
            rnd, progress.n, target, WAIT_LIMIT)
        sigkill(d)
        kills += 1
        for w in workers:
            w.join(timeout=60)
            assert not w.is_alive(), "round %d: worker %d stuck" % (rnd, w.tid)
        errors = [w.error for w in workers if w.error]
        assert not errors, ("seed %d round %d" % (SEED, rnd), errors)
        d.start()  # same data dir, new port
        check_round(d, d.boto3("alice"), bucket, workers, rnd)
        for t, w in enumerate(workers):
            done_uploads[t] = w.done_uploads
    assert kills == ROUNDS >= 1
    print("crash: %d kill points survived" % kills)
