"""--durability: what an acknowledged write survives (docs/reliability.md).

The daemon runs under strace (-D: the tracer is a grandchild, so the
traced process is the daemon itself and the harness's PID stays its PID),
and each write's system calls are read back from strace's log. With
--durability=power a PUT's bytes are synced (fdatasync of the stage)
before the stage is renamed onto the key, the key's directory is synced
after the rename, a directory made for the key is synced into its parent,
the metadata store's WAL is synced before the answer (SQLite's
synchronous=FULL), and a DELETE syncs the directory it removed the name
from. With the default, --durability=process, a write makes none of these
syncs: it survives a crash of the daemon, not a power loss.
"""
import os
import re
import shutil

import pytest

pytestmark = pytest.mark.skipif(not shutil.which("strace"), reason="strace is not installed")

CALL = re.compile(r"^(\d+) +(\w+)\((.*)\) += (-?\d+)")


def calls(log):
    """(pid, name, args, result) of every finished call in strace's log,
    with the halves of an interrupted one (<unfinished ...> and
    <... resumed>) joined."""
    pending, out = {}, []
    with open(log) as f:
        for line in f:
            line = line.rstrip("\n")
            m = re.match(r"^(\d+) +(.*) <unfinished \.\.\.>$", line)
            if m:
                pending[m.group(1)] = m.group(2)
                continue
            m = re.match(r"^(\d+) +<\.\.\. \w+ resumed>(.*)$", line)
            if m and m.group(1) in pending:
                line = "%s %s%s" % (m.group(1), pending.pop(m.group(1)), m.group(2))
            m = CALL.match(line)
            if m:
                out.append((m.group(1), m.group(2), m.group(3), int(m.group(4))))
    return out


def traced(atriumd_factory, tmp_path, durability):
    log = str(tmp_path / ("strace-%s.log" % durability))
    # LeakSanitizer stops the world with ptrace, which a traced process
    # cannot: under the sanitized build, no leak check for this daemon.
    env = dict(os.environ)
    if "ASAN_OPTIONS" in env:
        env["ASAN_OPTIONS"] += ":detect_leaks=0"
    d = atriumd_factory("sigv4", "durability-" + durability,
                        ["--durability", durability, "--threads", "8"], env=env,
                        wrap=["strace", "-D", "-f", "-qq", "-o", log, "-e",
                              "trace=openat,fdatasync,fsync,renameat,unlinkat,mkdirat,sendto"])
    return d, log


def write_round(d, log, bucket):
    """A PUT into a new directory, and a DELETE; the calls each made."""
    s3 = d.boto3("alice")
    s3.create_bucket(Bucket=bucket)
    start = len(calls(log))
    s3.put_object(Bucket=bucket, Key="dir/obj", Body=b"x" * 5000)
    mid = len(calls(log))
    s3.delete_object(Bucket=bucket, Key="dir/obj")
    every = calls(log)
    return every[:start], every[start:mid], every[mid:]


def synced_fds(seq):
    return {args.split(",")[0] for _, name, args, rc in seq
            if name in ("fsync", "fdatasync") and rc == 0}


def test_power_syncs_bytes_directories_and_metadata_before_the_answer(
        atriumd_factory, tmp_path, bucket_name):
    d, log = traced(atriumd_factory, tmp_path, "power")
    before, put, delete = write_round(d, log, bucket_name)
    opened = {}  # fd -> what it is, over the whole log
    for _, name, args, rc in before + put:
        if name == "openat" and rc >= 0:
            opened[str(rc)] = args
    wal = {fd for fd, a in opened.items() if a.split(",")[1].strip().endswith('meta.db-wal"')}
    # the stage: made in the staging area, synced, then renamed onto the key
    ren = [i for i, c in enumerate(put) if c[1] == "renameat" and c[2].endswith('"obj"')]
    assert len(ren) == 1, put
    stage = re.search(r'"(put-[^"]+)"', put[ren[0]][2]).group(1)
    made = [i for i, c in enumerate(put) if c[1] == "openat" and '"%s"' % stage in c[2]]
    assert made, "the stage's open is in the log"
    fd = str(put[made[0]][3])
    assert fd in synced_fds(put[made[0]:ren[0]]), "the stage's bytes synced before its rename"
    # after the rename, in the same thread: its directory opened and synced
    tid = put[ren[0]][0]
    after = [c for c in put[ren[0] + 1:] if c[0] == tid]
    dirs = [str(rc) for _, name, args, rc in after
            if name == "openat" and args.split(",")[1].strip() == '"."']
    assert dirs and dirs[0] in synced_fds(after), "the key's directory synced after the rename"
    # the directory made for the key was synced into its parent
    mk = [i for i, c in enumerate(put) if c[1] == "mkdirat" and c[2].endswith('"dir", 0700')]
    assert mk, put
    assert [c for c in put[mk[0] + 1:] if c[1] == "fsync" and c[0] == put[mk[0]][0]]
    # the metadata's WAL synced before the answer went out
    answer = max(i for i, c in enumerate(put) if c[1] == "sendto")
    assert wal and wal & synced_fds(put[:answer]), "the WAL synced before the answer"
    # a DELETE syncs the directory it took the name from
    gone = [i for i, c in enumerate(delete) if c[1] == "unlinkat" and c[2].endswith('"obj", 0')]
    assert gone, delete
    tid = delete[gone[0]][0]
    assert [c for c in delete[gone[0] + 1:] if c[1] == "fsync" and c[0] == tid]
    assert d.boto3("alice").list_objects_v2(Bucket=bucket_name)["KeyCount"] == 0


def test_process_durability_makes_no_sync_per_write(atriumd_factory, tmp_path, bucket_name):
    d, log = traced(atriumd_factory, tmp_path, "process")
    _, put, delete = write_round(d, log, bucket_name)
    assert not [c for c in put + delete if c[1] in ("fsync", "fdatasync")], put + delete
