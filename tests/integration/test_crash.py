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

test_sigkill_rounds_mount (CRASH_MOUNT_ROUNDS rounds, default CRASH_ROUNDS)
does the same against a daemon with `--mount DIR/mnt`, with MOUNT_WORKERS
more workers beside the S3 ones: subprocesses (crash_mount_worker.py, so a
FUSE call that never returns cannot hang the test; each is waited for with
a bound, then SIGKILLed by PID) that write whole files and close them,
patch files in place, rename files (over another of their files or to a
free name, across directories), unlink, and create files they never close.
A mount operation is acknowledged when close(), rename() or unlink()
returned; the worker journals each one before and after the call. Half of
the rounds aim the kill at such a call (the moment its "begin" is read).
After the SIGKILL the mount is stale; the daemon restarts on the same mount
point without the harness clearing it, and besides all of the above:

- atriumd detached the stale mount itself (its log says so, exactly one
  mount is listed at the mount point) and no `pending` row survived;
- each mount worker's files are all in their last acknowledged state or
  all in the state of its in-flight operation (a rename: both names or
  neither; a write: old or new bytes, never torn), through S3 and through
  the mount alike (same bytes; the directory listings in the mount name
  exactly the present files); S3's ETag is the MD5 of the bytes;
- a file created through the mount and never closed exists nowhere: not in
  S3, not in the mount, not under DATA/ufs.
"""
import hashlib
import json
import os
import random
import signal
import subprocess
import sys
import threading
import time

import conftest
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
        # and two the file tree cannot hold (issue 16: the side form): a key
        # below the worker's k0, and a directory key that may hold bytes
        return ["t%d/k%d" % (self.tid, i) for i in range(KEYS_PER_THREAD)] + \
            ["t%d/k0/below" % self.tid, "t%d/k1/" % self.tid]

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
        self.begins = 0

    def ack(self):
        with self.cv:
            self.n += 1
            self.cv.notify_all()

    def began(self):
        with self.cv:
            self.begins += 1
            self.cv.notify_all()

    def wait_begin(self, deadline):
        """Until a mount worker announces its next committing call."""
        with self.cv:
            n = self.begins
            while self.begins == n:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self.cv.wait(left)
            return True

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


def meta_query(d, sql):
    p = subprocess.run(["sqlite3", os.path.join(d.data, "meta.db"), sql],
                       capture_output=True, text=True, timeout=60)
    assert p.returncode == 0, p.stderr
    return p.stdout.strip()


def check_store(d, where):
    """The metadata store is whole and the staging space empty."""
    assert meta_query(d, "PRAGMA integrity_check") == "ok", where
    tmp = os.path.join(d.ufs, ".atrium", "tmp")
    assert os.path.isdir(tmp) and os.listdir(tmp) == [], (where, os.listdir(tmp))


def check_keys(s3, bucket, workers, where):
    """Every key: last acknowledged state, or the in-flight op's state,
    whole; the observed state becomes the model."""
    for w in workers:
        for key in w.keys():
            got = observe(s3, bucket, key)
            ok = {w.model.get(key)}
            if w.inflight and w.inflight[0] == key:
                ok.add(w.inflight[1])
            assert got in ok, (where, key, got, ok)
            w.model[key] = got
        w.last_inflight, w.inflight = w.inflight, None


def check_listing(s3, bucket, workers, where, markers=()):
    """The listing names exactly the present keys; returns it and the model."""
    listed = list_all(s3, bucket)
    model = {k: v for w in workers for k, v in w.model.items() if v is not None}
    model.update((m, state_of(b"")) for m in markers)
    assert set(listed) == set(model), (where, sorted(set(listed) ^ set(model)))
    return listed, model


def check_round(d, s3, bucket, workers, rnd, mworkers=(), markers=()):
    """The invariants after a restart. mworkers: the round's mount workers
    (MountWorker), markers: the directory markers made through the mount."""
    where = "seed %d round %d" % (SEED, rnd)
    ufs = d.ufs
    check_store(d, where)
    check_keys(s3, bucket, workers, where)
    if mworkers:
        check_mount(d, s3, bucket, mworkers, markers, where, rnd)
    # listing <-> files
    listed, model = check_listing(s3, bucket, list(workers) + list(mworkers), where, markers)
    broot = os.path.join(ufs, bucket)
    files = set(s3util.files_under(broot))
    # a key the tree cannot hold (an object whose name is a directory's, a
    # directory key with bytes) is kept aside: one side file each, and no
    # other side file (the start removed those no row names)
    aside = {k for k, (_e, size) in listed.items()
             if (size if k.endswith("/") else not os.path.isfile(os.path.join(broot, k)))}
    assert files == {k for k in listed if not k.endswith("/") and k not in aside}, (
        where, sorted(files ^ set(listed)))
    side = os.path.join(ufs, ".atrium", "side")
    side_files = os.listdir(side) if os.path.isdir(side) else []
    assert len(side_files) == len(aside), (where, side_files, sorted(aside))
    for m in markers:
        assert os.path.isdir(os.path.join(broot, m)), (where, m)
    for key, (etag, size) in listed.items():
        if key in aside:  # its bytes were checked through S3 (observe)
            assert etag == model[key][0] and size == model[key][2], (where, key, etag, size)
            continue
        if key.endswith("/"):
            assert size == 0 and etag == model[key][0], (where, key, etag, size)
            continue
        assert etag == model[key][0], (where, key, etag, model[key])
        with open(os.path.join(broot, key), "rb") as f:
            data = f.read()
        assert len(data) == size == model[key][2], (where, key, len(data), size)
        assert hashlib.md5(data).hexdigest() == model[key][1], (where, key)
    check_uploads(d, s3, bucket, workers, where)


def check_uploads(d, s3, bucket, workers, where):
    """Multipart staging matches the listed uploads; a finished upload is
    gone; then every upload still open is aborted (checked next round)."""
    uploads = list_uploads(s3, bucket)
    mpu = os.path.join(d.ufs, ".atrium", "mpu")
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




# -- the mount half -------------------------------------------------------------
# test_sigkill_rounds_mount runs the same S3 workers against a daemon with
# --mount, beside MOUNT_WORKERS subprocesses (crash_mount_worker.py) writing,
# patching, renaming and unlinking their own files through the mount, and
# leaving some created files open. After the SIGKILL the mount is stale; the
# daemon restarts on the same mount point and must detach it itself.

MOUNT_ROUNDS = int(os.environ.get("CRASH_MOUNT_ROUNDS", str(ROUNDS)))
MOUNT_WORKERS = 2
AIM_AT_COMMIT = 0.5  # rounds whose kill waits for a mount worker's close/rename/unlink
MOUNT_WORKER = os.path.join(os.path.dirname(os.path.abspath(__file__)), "crash_mount_worker.py")
MOUNT_EXIT_LIMIT = 20.0  # a mount worker must end this soon after the kill
MOUNT_CHECK_LIMIT = 60.0  # bound on the checks made through the mount
STALE_MSG = "is a stale mount (a previous atriumd died): detaching it"


def mount_keys(t):
    return ["m%d/f%d" % (t, i) for i in range(4)] + ["m%d/d/g%d" % (t, i) for i in range(2)]


def mount_markers(t):
    return ["m%d/" % t, "m%d/d/" % t]


def _state(v):
    return tuple(v) if v is not None else None


class MountWorker:
    """One crash_mount_worker.py subprocess and the reader of its journal."""

    def __init__(self, tid, d, bucket, seed, model, progress, rnd, killed):
        self.tid = tid
        self.d = d
        self.bucket = bucket
        self.seed = seed
        self.model = model          # key -> state or None (every key of the worker)
        self.progress = progress
        self.rnd = rnd
        self.killed = killed        # threading.Event, set just before the SIGKILL
        self.inflight = None        # changes {key: state} of the op being made
        self.last_op = None
        self.held = []              # created, written, never closed: must not exist
        self.acks = 0
        self.outcome = None         # after the check: the in-flight op came back "old"/"new"
        self.held_seen = []
        self.error = None
        self.exit_error = None      # errno name of the call the kill failed
        self.journal = []
        self.proc = None

    def keys(self):
        return mount_keys(self.tid)

    def start(self):
        self.stderr_path = os.path.join(self.d.workdir, "mount-worker-%d.stderr" % self.tid)
        with open(self.stderr_path, "ab") as err:
            self.proc = subprocess.Popen([sys.executable, MOUNT_WORKER], stdin=subprocess.PIPE,
                                         stdout=subprocess.PIPE, stderr=err)
        cfg = {"root": self.d.path(self.bucket), "seed": self.seed, "round": self.rnd,
               "hold_prefix": "m%d/" % self.tid, "limit": 2 * WAIT_LIMIT + 30,
               "model": {k: self.model.get(k) for k in self.keys()}}
        self.proc.stdin.write(json.dumps(cfg).encode())
        self.proc.stdin.close()
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self):
        for line in self.proc.stdout:
            ev = json.loads(line)
            self.journal.append(ev)
            kind = ev["ev"]
            if kind == "begin":
                self.inflight = {k: _state(v) for k, v in ev["changes"].items()}
                self.last_op = ev
                self.progress.began()
            elif kind == "ack":
                if self.inflight:
                    self.model.update(self.inflight)
                self.inflight = None
                self.acks += 1
                self.progress.ack()
            elif kind == "hold":
                self.held.append(ev["key"])
            elif kind == "error":
                if self.killed.is_set():
                    self.exit_error = (ev["op"], ev["name"])
                elif self.error is None:
                    self.error = "failed before the kill: %r" % ev
            elif kind == "check" and self.error is None:
                self.error = "the mount read back other bytes: %r" % ev
            elif kind == "timeout" and self.error is None:
                self.error = "ran out of time (no kill?)"

    def finish(self):
        """After the kill: the worker ends on its own (its FUSE calls fail),
        or is SIGKILLed (by PID) after MOUNT_EXIT_LIMIT seconds."""
        try:
            self.proc.wait(timeout=MOUNT_EXIT_LIMIT)
        except subprocess.TimeoutExpired:
            os.kill(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=STOP_LIMIT)
            if self.error is None:
                self.error = "still running %ss after the kill (a hung FUSE call?)" % (
                    MOUNT_EXIT_LIMIT)
        self.reader.join(timeout=STOP_LIMIT)
        if self.reader.is_alive() and self.error is None:
            self.error = "journal reader stuck"
        if self.proc.returncode not in (0, -signal.SIGKILL) and self.error is None:
            with open(self.stderr_path, "rb") as f:
                self.error = "exited %s: %s" % (self.proc.returncode, f.read()[-4000:])


STOP_LIMIT = 15.0


def bounded(d, what, fn, limit=MOUNT_CHECK_LIMIT):
    """fn() in a thread; if it has not returned within limit seconds (a FUSE
    call hung), SIGKILL the daemon (its mount calls then fail) and fail."""
    box = {}

    def run():
        try:
            box["value"] = fn()
        except BaseException as e:  # noqa: BLE001 — re-raised below
            box["error"] = e

    t = threading.Thread(target=run, daemon=True)
    t.start()
    t.join(limit)
    if t.is_alive():
        if d.alive():
            os.kill(d.proc.pid, signal.SIGKILL)
            d.proc.wait(timeout=STOP_LIMIT)
        t.join(STOP_LIMIT)
        raise AssertionError("%s: no answer through the mount in %ss" % (what, limit))
    if "error" in box:
        raise box["error"]
    return box.get("value")


def check_mount(d, s3, bucket, mworkers, markers, where, rnd):
    """Each mount worker's keys, through S3 and through the mount."""
    root = d.path(bucket)
    for w in mworkers:
        keys = w.keys()
        got = {k: observe(s3, bucket, k) for k in keys}
        # the last acknowledged state, or the in-flight operation's, whole:
        # a rename is both its names or neither
        old = {k: w.model.get(k) for k in keys}
        ok = [old]
        if w.inflight:
            new = dict(old)
            new.update(w.inflight)
            ok.append(new)
        w.outcome = None if len(ok) == 1 else "new" if got == ok[1] else "old"
        if got not in ok:
            def short(v):
                return None if v is None else "%s/%d" % (v[1][:8], v[2])
            table = {k: "got %s, last acked %s, in flight %s" % (
                short(got[k]), short(old[k]), short(ok[-1][k]) if w.inflight else "-")
                for k in keys if got[k] != old[k] or ok[-1][k] != old[k]}
            journal = os.path.join(d.workdir, "mount-worker-%d-round-%d.journal" % (w.tid, rnd))
            with open(journal, "w") as f:
                f.write("\n".join(json.dumps(e) for e in w.journal) + "\n")
            raise AssertionError("%s: mount worker %d: neither the acknowledged state nor the "
                                 "in-flight operation's, whole; in flight: %s %s; %s "
                                 "(journal: %s)" % (where, w.tid, w.last_op and w.last_op["op"],
                                                     w.last_op and {k: short(v) for k, v in
                                                                    w.inflight.items()}
                                                     if w.inflight else None, table, journal))
        for k, v in got.items():  # S3's ETag is the MD5 of the bytes
            assert v is None or v[0] == '"%s"' % v[1], (where, k, v)
        # created and never closed: no trace, in S3 or in the mount
        for k in w.held:
            assert observe(s3, bucket, k) is None, (where, "held open, yet visible", k)

        def through_mount():
            out = {}
            for k in keys + w.held:
                try:
                    with open(os.path.join(root, k), "rb") as f:
                        data = f.read()
                    out[k] = ('"%s"' % hashlib.md5(data).hexdigest(),
                              hashlib.md5(data).hexdigest(), len(data))
                except FileNotFoundError:
                    out[k] = None
            names = {}
            for m in mount_markers(w.tid):
                names[m] = sorted(os.listdir(os.path.join(root, m)))
            return out, names

        seen, names = bounded(d, where + " mount reads", through_mount)
        for k in keys:
            assert seen[k] == got[k], (where, "mount and S3 disagree", k, seen[k], got[k])
        for k in w.held:
            assert seen[k] is None, (where, "held open, yet in the mount", k, seen[k])
        # the directory listings agree too
        want = {m: set() for m in mount_markers(w.tid)}
        want["m%d/" % w.tid].add("d")
        for k, v in got.items():
            if v is not None:
                want[k.rsplit("/", 1)[0] + "/"].add(k.rsplit("/", 1)[1])
        assert names == {m: sorted(v) for m, v in want.items()}, (where, names, want)
        w.model.update(got)
        w.inflight = None
        w.held_seen, w.held = w.held, []


def pending_rows(d):
    return int(meta_query(d, "SELECT count(*) FROM objects WHERE pending != 0"))


def run_rounds(d, bucket, rounds, rng, mount=False, worker=None, check=check_round,
               before_round=None, before_kill=None, after_kill=None, user="alice"):
    """CRASH rounds against d; returns the kill statistics. worker: the S3
    workers' class (Worker); check: the invariants after each restart
    (check_round's arguments); before_round(rnd), before_kill(rnd),
    after_kill(rnd): called before a round's workers start, once the kill
    target is reached (it may wait for a better moment), and once the
    killed daemon is gone. user: whose S3 clients the workers and checks use."""
    worker = worker or Worker
    models = [{} for _ in range(THREADS)]
    done_uploads = [[] for _ in range(THREADS)]
    mmodels = [{k: None for k in mount_keys(t)} for t in range(MOUNT_WORKERS if mount else 0)]
    markers = [m for t in range(len(mmodels)) for m in mount_markers(t)]
    if mount:
        bounded(d, "mkdir", lambda: [os.makedirs(d.path(bucket, m), exist_ok=True)
                                     for m in markers])
    stats = {"kills": 0, "mount_inflight": {}, "mount_acks": 0, "held": 0, "exit_errors": {}}
    for rnd in range(rounds):
        if before_round:
            before_round(rnd)
        progress = Progress()
        killed = threading.Event()
        workers = []
        for t in range(THREADS):
            w = worker(t, d.boto3(user), bucket, rng.getrandbits(64), models[t], progress)
            w.done_uploads = done_uploads[t]
            workers.append(w)
        mworkers = [MountWorker(t, d, bucket, rng.getrandbits(64), mmodels[t], progress, rnd,
                                killed) for t in range(len(mmodels))]
        target = rng.randint(*KILL_AFTER)
        for w in workers:
            w.start()
        for w in mworkers:
            w.start()
        reached = progress.wait_for(target, time.monotonic() + WAIT_LIMIT)
        if mount and reached and rng.random() < AIM_AT_COMMIT:
            # aim: kill as a mount worker calls close()/rename()/unlink()
            progress.wait_begin(time.monotonic() + 5)
            time.sleep(rng.choice([0, 0, rng.random() * 0.002]))
        if reached and before_kill:
            before_kill(rnd)
        for w in workers:
            w.stop.set()
        errors = [w.error for w in workers + mworkers if w.error]
        assert reached or errors, "round %d: %d/%d acknowledged ops in %ss" % (
            rnd, progress.n, target, WAIT_LIMIT)
        killed.set()
        sigkill(d)
        stats["kills"] += 1
        if after_kill:
            after_kill(rnd)
        for w in workers:
            w.join(timeout=60)
            assert not w.is_alive(), "round %d: worker %d stuck" % (rnd, w.tid)
        for w in mworkers:
            w.finish()
        errors = [w.error for w in workers if w.error]
        errors += ["mount worker %d: %s" % (w.tid, w.error) for w in mworkers if w.error]
        assert not errors, ("seed %d round %d" % (SEED, rnd), errors)
        if mount:
            # the mount is stale now; the restart must detach it itself
            assert conftest.mountinfo_entries(d.mnt), "round %d: mount gone after SIGKILL" % rnd
            before = d.log_tail(1 << 30).count(STALE_MSG)
        d.start()  # same data dir, new port (a MountDaemon: same mount point)
        if mount:
            ents = conftest.mountinfo_entries(d.mnt)
            assert len(ents) == 1, ("round %d: stale mount not replaced" % rnd, ents)
            assert d.log_tail(1 << 30).count(STALE_MSG) == before + 1, (
                "round %d: the stale mount was not detached by atriumd" % rnd)
            assert pending_rows(d) == 0, "round %d: pending rows survived the restart" % rnd
        check(d, d.boto3(user), bucket, workers, rnd, mworkers, markers)
        for w in mworkers:
            stats["mount_acks"] += w.acks
            stats["held"] += len(w.held_seen)
            if w.outcome:
                k = "%s:%s" % (w.last_op["op"], w.outcome)
                stats["mount_inflight"][k] = stats["mount_inflight"].get(k, 0) + 1
            if w.exit_error:
                k = "%s:%s" % w.exit_error
                stats["exit_errors"][k] = stats["exit_errors"].get(k, 0) + 1
        for t, w in enumerate(workers):
            done_uploads[t] = w.done_uploads
    return stats


def test_sigkill_rounds(atriumd_factory):
    rng = random.Random(SEED)
    d = atriumd_factory("sigv4", "crash", ["--min-part-size", "0"])
    bucket = s3util.unique_bucket("crash")
    d.boto3("alice").create_bucket(Bucket=bucket)
    stats = run_rounds(d, bucket, ROUNDS, rng)
    assert stats["kills"] == ROUNDS >= 1
    print("crash: %d kill points survived" % stats["kills"])


def test_sigkill_rounds_mount(mount_factory):
    """The same, with --mount and mount workers: SIGKILL leaves the mount
    stale; the restarted daemon detaches it and mounts again."""
    rng = random.Random(SEED + 1)
    d = mount_factory("sigv4", "crash-mount", ["--min-part-size", "0"])
    d.keep_stale = True  # MountDaemon.start must not clear it: atriumd does
    try:
        bucket = s3util.unique_bucket("crashm")
        d.boto3("alice").create_bucket(Bucket=bucket)
        stats = run_rounds(d, bucket, MOUNT_ROUNDS, rng, mount=True)
    finally:
        if not d.alive() and conftest.mountinfo_entries(d.mnt):
            conftest.force_unmount(d.mnt)
    assert stats["kills"] == MOUNT_ROUNDS >= 1
    print("crash (mount): %d kill points survived; %d mount operations acknowledged; "
          "in flight at the kill: %s; files held open: %d; the killed calls failed with: %s"
          % (stats["kills"], stats["mount_acks"], stats["mount_inflight"], stats["held"],
             stats["exit_errors"]))


# -- over a remote under-storage ---------------------------------------------
# test_sigkill_rounds_remote (CRASH_REMOTE_ROUNDS rounds, default 6): the
# same S3 workers against a bucket of the gateway mounted on a second
# atriumd (the remote, behind a FaultProxy adding a round's latency, so
# uploads and persists are in progress when the kill comes; half of the
# rounds wait for an object queued for the remote), every PUT and
# multipart upload with a random write type: ASYNC_THROUGH (acknowledged
# once held on the gateway and queued, persisted in the background) or
# CACHE_THROUGH (uploaded before the acknowledgement). Keys the file tree
# cannot hold are left out (a remote bucket refuses them). The workers are
# the bucket's owner (admin made the mount): an unacknowledged CACHE_THROUGH
# upload that reached the remote before the kill is found there by the
# metadata sync, as any object written at the remote, and such objects
# belong to the bucket's owner. After each
# restart, besides the keys, the listing, the store and the uploads:
# - the persist queue drains (every object PERSISTED) within REMOTE_DRAIN s;
# - the remote then holds exactly the gateway's objects, byte for byte
#   (an acknowledged write, or the in-flight one whole, never a part),
#   and nothing else.

REMOTE_ROUNDS = int(os.environ.get("CRASH_REMOTE_ROUNDS", "6"))
REMOTE_WRITE_TYPES = ("ASYNC_THROUGH", "CACHE_THROUGH")
REMOTE_DELAYS_MS = (5, 20, 50)
REMOTE_DRAIN = 60.0


class RemoteWorker(Worker):
    """A Worker whose PUTs and uploads name a write type, drawn per op."""

    def __init__(self, *args):
        super().__init__(*args)
        self.write_type = REMOTE_WRITE_TYPES[0]

        def add(request, **kwargs):
            request.headers["x-atrium-write-type"] = self.write_type
        for op in ("PutObject", "CreateMultipartUpload"):
            self.s3.meta.events.register_first("before-sign.s3." + op, add)

    def keys(self):
        return ["t%d/k%d" % (self.tid, i) for i in range(KEYS_PER_THREAD)]

    def op_put(self, key):
        self.write_type = self.rng.choice(REMOTE_WRITE_TYPES)
        super().op_put(key)

    def op_mpu(self, key):
        self.write_type = self.rng.choice(REMOTE_WRITE_TYPES)
        super().op_mpu(key)


def remote_objects(rs3, rb):
    """{key: (md5, size)} of what the remote holds."""
    out = {}
    for key in list_all(rs3, rb):
        data = rs3.get_object(Bucket=rb, Key=key)["Body"].read()
        out[key] = (hashlib.md5(data).hexdigest(), len(data))
    return out


def test_sigkill_rounds_remote(atriumd_factory, tmp_path):
    from faultproxy import FaultProxy
    from remote_util import mount_args, uniq
    from test_cli_admin import cli, ok
    rng = random.Random(SEED + 2)
    remote = atriumd_factory("sigv4", "crash-remote")
    proxy = FaultProxy(remote.port).start()
    try:
        d = atriumd_factory("sigv4", "crash-gw", ["--min-part-size", "0"])
        rb, bucket = uniq("crashr"), uniq("crashg")
        rs3 = remote.boto3("alice")
        rs3.create_bucket(Bucket=rb)
        ok(cli(d, "fs", "mount", *mount_args(remote, tmp_path,
                                              endpoint="http://127.0.0.1:%d" % proxy.port),
               "/" + bucket, "s3://" + rb, user="admin"))
        killed_with = {"queued": 0, "rounds": 0}

        def before_round(rnd):
            proxy.delay_ms = rng.choice(REMOTE_DELAYS_MS)

        def before_kill(rnd):
            # Half of the rounds aim at the persist worker: the kill waits
            # (up to 3 s) for an object queued for the remote.
            if rng.random() < 0.5:
                deadline = time.monotonic() + 3
                while (meta_query(d, "SELECT count(*) FROM persist_queue") == "0" and
                       time.monotonic() < deadline):
                    time.sleep(0.01)

        def after_kill(rnd):
            n = int(meta_query(d, "SELECT count(*) FROM persist_queue"))
            killed_with["queued"] += n
            killed_with["rounds"] += n > 0

        def check(d, s3, bucket, workers, rnd, mworkers=(), markers=()):
            where = "seed %d round %d (remote)" % (SEED + 2, rnd)
            check_keys(s3, bucket, workers, where)
            _listed, model = check_listing(s3, bucket, workers, where)
            deadline = time.monotonic() + REMOTE_DRAIN
            while meta_query(d, "SELECT count(*) FROM objects WHERE persist != 0") != "0":
                assert time.monotonic() < deadline, (where, "the persist queue did not drain")
                time.sleep(0.05)
            assert meta_query(d, "SELECT count(*) FROM persist_queue") == "0", where
            check_store(d, where)  # once drained: the persists' stages are gone
            want = {k: (v[1], v[2]) for k, v in model.items()}
            got = remote_objects(rs3, rb)
            assert got == want, (where, {k: (got.get(k), want.get(k))
                                         for k in set(got) | set(want)
                                         if got.get(k) != want.get(k)})
            check_uploads(d, s3, bucket, workers, where)

        stats = run_rounds(d, bucket, REMOTE_ROUNDS, rng, worker=RemoteWorker, check=check,
                           before_round=before_round, before_kill=before_kill,
                           after_kill=after_kill, user="admin")
    finally:
        proxy.stop()
    assert stats["kills"] == REMOTE_ROUNDS >= 1
    print("crash (remote): %d kill points survived; killed with objects still queued for "
          "the remote in %d rounds (%d objects)" % (stats["kills"], killed_with["rounds"],
                                                    killed_with["queued"]))
