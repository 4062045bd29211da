"""The mount half of the crash workload (tests/integration/test_crash.py).

Run as a subprocess so that a FUSE call blocked when atriumd dies can never
hang the test: the test reads this process's journal, SIGKILLs the daemon,
and kills this process (by PID) if it has not exited on its own soon after.

stdin: one JSON object {"root": DIR (the bucket's directory in the mount),
"seed": N, "round": N, "hold_prefix": P, "model": {key: [etag, md5hex, size] or null},
"limit": seconds}. The keys of the model are this worker's own: no one else
writes them, so their history is sequential.

stdout: the journal, one JSON object a line, flushed line by line:
- {"ev": "begin", "op": ..., "changes": {key: state or null}} just before
  the call that makes an operation happen (close() of a written file,
  rename(), unlink());
- {"ev": "ack"} once that call has returned: the changes are acknowledged;
- {"ev": "hold", "key": K} before a file is created and written but left
  open (never closed before the kill): it must not exist after a restart;
- {"ev": "check", "key": K} when bytes read back through the mount were
  not the model's (a failure, whatever the time);
- {"ev": "error", "op": ..., "errno": N, "msg": ...} and exit on the first
  failed call (expected once the daemon is killed: ENOTCONN, EIO...).

Operations (on the worker's own keys): write a whole file (O_CREAT|O_TRUNC,
in 1-4 write() calls) and close it; patch a file in place (open r+, read,
pwrite at an offset, possibly extending, close); rename a file over another
key (which may exist: replaced) or to a free one, across directories too;
hard-link a file to a free key; unlink; create-write-and-hold. Names that are
links of one file (found by inode number at start, then followed) change
together: a write or patch through one is a change of all of them.
"""
import errno
import hashlib
import json
import os
import random
import sys
import time


def state_of(data):
    h = hashlib.md5(data).hexdigest()
    return ['"%s"' % h, h, len(data)]


def emit(obj):
    sys.stdout.write(json.dumps(obj) + "\n")
    sys.stdout.flush()


def write_all(fd, data, rng):
    view = memoryview(data)
    pieces = rng.randint(1, 4)
    step = max(1, len(data) // pieces)
    while view:
        n = os.write(fd, view[:step])
        view = view[n:]


def read_all(fd):
    out = []
    while True:
        b = os.read(fd, 1 << 20)
        if not b:
            return b"".join(out)
        out.append(b)


def main():
    cfg = json.loads(sys.stdin.read())
    root = cfg["root"]
    rng = random.Random(cfg["seed"])
    model = {k: (tuple(v) if v else None) for k, v in cfg["model"].items()}
    keys = sorted(model)
    # descriptors deliberately left open; on a failed call the one being
    # written is left open too (closed at exit, on the dead connection)
    held = []
    deadline = time.monotonic() + cfg.get("limit", 120)
    nhold = 0

    def path(k):
        return os.path.join(root, k)

    # which keys are names of one file: at start by inode number, then as
    # links, renames and unlinks go
    try:
        group = {k: os.stat(path(k)).st_ino for k in keys if model[k] is not None}
    except OSError as e:  # the daemon may be killed before we start
        emit({"ev": "error", "op": "stat", "errno": e.errno,
              "name": errno.errorcode.get(e.errno, "?"), "msg": str(e)})
        return 0
    fresh = [0]

    def names_of(k):
        if k not in group:
            return [k]
        return [j for j in keys if model[j] is not None and group.get(j) == group[k]]

    def new_group(k):
        fresh[0] += 1
        group[k] = ("new", fresh[0])

    while time.monotonic() < deadline:
        r = rng.random()
        present = [k for k in keys if model[k] is not None]
        absent = [k for k in keys if model[k] is None]
        op = ("write" if r < 0.3 or not present else
              "patch" if r < 0.45 else
              "rename" if r < 0.65 else
              "link" if r < 0.75 and absent else
              "unlink" if r < 0.92 else
              "hold" if len(held) < 3 else "write")
        try:
            if op == "write":
                k = rng.choice(keys)
                data = rng.randbytes(rng.randint(0, 64 * 1024))
                fd = os.open(path(k), os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
                write_all(fd, data, rng)
                # close() commits: the new bytes, whole, or (killed before
                # it returned) maybe still the old ones
                names = names_of(k) if model[k] is not None else [k]
                emit({"ev": "begin", "op": op, "changes": {j: state_of(data) for j in names}})
                os.close(fd)
                if k not in group:
                    new_group(k)
                for j in names:
                    model[j] = tuple(state_of(data))
            elif op == "patch":
                k = rng.choice(present)
                fd = os.open(path(k), os.O_RDWR)
                old = read_all(fd)
                if state_of(old) != list(model[k]):
                    emit({"ev": "check", "key": k, "got": state_of(old), "want": list(model[k])})
                off = rng.randint(0, len(old))
                patch = rng.randbytes(rng.randint(1, 16 * 1024))
                new = old[:off] + patch + old[off + len(patch):]
                n = os.pwrite(fd, patch, off)
                if n != len(patch):
                    emit({"ev": "check", "key": k, "short_write": [n, len(patch)]})
                names = names_of(k)
                emit({"ev": "begin", "op": op, "changes": {j: state_of(new) for j in names}})
                os.close(fd)
                for j in names:
                    model[j] = tuple(state_of(new))
            elif op == "rename":
                src = rng.choice(present)
                dst = rng.choice([k for k in keys if k != src])
                if model[dst] is not None and group.get(dst) == group[src]:
                    changes = {}  # two names of one file: rename(2) does nothing
                else:
                    changes = {src: None, dst: list(model[src])}
                emit({"ev": "begin", "op": op, "src": src, "dst": dst, "changes": changes})
                os.rename(path(src), path(dst))
                if changes:
                    model[dst], model[src] = model[src], None
                    group[dst] = group.pop(src)
            elif op == "link":
                src = rng.choice(present)
                dst = rng.choice(absent)
                emit({"ev": "begin", "op": op, "src": src, "dst": dst,
                      "changes": {dst: list(model[src])}})
                os.link(path(src), path(dst))
                model[dst] = model[src]
                group[dst] = group[src]
            elif op == "unlink":
                k = rng.choice(present)
                emit({"ev": "begin", "op": op, "changes": {k: None}})
                os.unlink(path(k))
                model[k] = None
                group.pop(k, None)
            else:  # hold: created, written, never closed (until the kill)
                nhold += 1
                k = "%sh%d_%d" % (cfg["hold_prefix"], cfg["round"], nhold)
                emit({"ev": "hold", "key": k})
                fd = os.open(path(k), os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
                held.append(fd)
                write_all(fd, rng.randbytes(rng.randint(1, 32 * 1024)), rng)
                emit({"ev": "held", "key": k})
                continue
        except OSError as e:
            emit({"ev": "error", "op": op, "errno": e.errno,
                  "name": errno.errorcode.get(e.errno, "?"), "msg": str(e)})
            return 0
        emit({"ev": "ack", "op": op})
    emit({"ev": "timeout"})
    return 0


if __name__ == "__main__":
    sys.exit(main())
