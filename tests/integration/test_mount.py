"""The FUSE mount (issue 4): POSIX behaviour of `atriumd --mount DIR`.

Every test runs against the session's shared mounted daemon (conftest
`mount_daemon`), in a bucket of its own made with mkdir at the mount root,
under `mount_watchdog` (a hung FUSE request fails the test instead of
hanging the suite). S3 is used here only to look at what a POSIX call left
behind; the two-door tests are in test_mount_cross.py.
"""
import ctypes
import errno
import hashlib
import json
import os
import random
import signal
import stat
import subprocess
import sys
import time

import botocore.exceptions
import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import s3util  # noqa: E402
from conftest import STOP_TIMEOUT, mountinfo_entries, force_unmount  # noqa: E402

pytestmark = pytest.mark.usefixtures("mount_watchdog")

NOBODY = 65534
PY = "/usr/bin/python3"

# -- libc calls Python does not expose ------------------------------------------
_libc = ctypes.CDLL(None, use_errno=True)
AT_FDCWD = -100
RENAME_NOREPLACE = 1
RENAME_EXCHANGE = 2
UTIME_NOW = (1 << 30) - 1
UTIME_OMIT = (1 << 30) - 2


class _Timespec(ctypes.Structure):
    _fields_ = [("tv_sec", ctypes.c_long), ("tv_nsec", ctypes.c_long)]


def renameat2(src, dst, flags):
    f = _libc.renameat2
    f.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_uint]
    if f(AT_FDCWD, os.fsencode(src), AT_FDCWD, os.fsencode(dst), flags) != 0:
        e = ctypes.get_errno()
        raise OSError(e, os.strerror(e), src)


def utimensat(path, atime, mtime):
    """atime/mtime: (sec, nsec) pairs; nsec may be UTIME_NOW or UTIME_OMIT."""
    ts = (_Timespec * 2)(_Timespec(*atime), _Timespec(*mtime))
    f = _libc.utimensat
    f.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.POINTER(_Timespec), ctypes.c_int]
    if f(AT_FDCWD, os.fsencode(path), ts, 0) != 0:
        e = ctypes.get_errno()
        raise OSError(e, os.strerror(e), path)


def oserr(fn, *args, **kwargs):
    """errno of a call that must fail."""
    try:
        fn(*args, **kwargs)
    except OSError as e:
        return e.errno
    raise AssertionError("%s%r succeeded" % (getattr(fn, "__name__", fn), args))


def ename(e):
    return errno.errorcode.get(e, str(e))


def write_file(path, data, mode=0o644):
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    try:
        os.write(fd, data)
    finally:
        os.close(fd)


def read_file(path):
    with open(path, "rb") as f:
        return f.read()


def pread_all(fd, size):
    out = b""
    while len(out) < size:
        chunk = os.pread(fd, size - len(out), len(out))
        if not chunk:
            break
        out += chunk
    return out


_CHILD_PRELUDE = r'''
import errno, json, os, sys
res = {}
def attempt(name, fn, *a):
    try:
        r = fn(*a)
        res[name] = "ok" if r is None or isinstance(r, int) else (
            r.decode("latin-1") if isinstance(r, bytes) else r)
    except OSError as e:
        res[name] = errno.errorcode.get(e.errno, str(e.errno))
def readf(p):
    with open(p, "rb") as f:
        return f.read()
def writef(p, data, mode=0o644):
    fd = os.open(p, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    os.write(fd, data)
    os.close(fd)
'''


def run_as(uid, gid, script, **env):
    """Run script (Python) as uid/gid with no supplementary groups; it fills
    `res` through attempt(name, fn, *args) ("ok", a value, or the errno
    name); returns res."""
    code = _CHILD_PRELUDE + script + "\nprint(json.dumps(res))\n"
    p = subprocess.run([PY, "-c", code], user=uid, group=gid, extra_groups=[],
                       umask=0o022, capture_output=True, timeout=30,
                       stdin=subprocess.DEVNULL, cwd="/",
                       env=dict({"PATH": "/usr/bin:/bin", "LANG": "C.UTF-8"}, **env))
    assert p.returncode == 0, (p.returncode, p.stdout, p.stderr)
    return json.loads(p.stdout.decode().strip().splitlines()[-1])


# -- fixtures -------------------------------------------------------------------
@pytest.fixture
def bdir(mount_daemon, bucket_name):
    """A bucket made with mkdir at the mount root; its path in the mount."""
    p = mount_daemon.path(bucket_name)
    os.mkdir(p)
    return p


@pytest.fixture
def s3(mount_daemon):
    return mount_daemon.boto3("admin")


def key_of(bdir, path):
    return os.path.relpath(path, bdir)


# -- the mount itself -----------------------------------------------------------
def test_mounted_when_healthy_with_options(mount_daemon):
    d = mount_daemon
    assert d.mounted_at_health, "health answered 200 before the mount was up"
    ents = mountinfo_entries(d.mnt)
    assert len(ents) == 1, ents
    fstype, _opts, sopts = ents[0]
    assert fstype.startswith("fuse"), ents
    if os.geteuid() == 0:
        assert "allow_other" in sopts.split(","), ents
        assert "default_permissions" in sopts.split(","), ents
    st = os.stat(d.mnt)
    assert stat.S_ISDIR(st.st_mode)
    assert os.path.ismount(d.mnt)


def _stop_with(d, sig):
    """Send sig to d, wait for it; returns its exit status."""
    os.kill(d.proc.pid, sig)
    try:
        rc = d.proc.wait(timeout=STOP_TIMEOUT)
    except subprocess.TimeoutExpired:
        d.proc.kill()
        d.proc.wait(timeout=STOP_TIMEOUT)
        rc = "hung"
    d.stopped = True
    return rc


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT], ids=["TERM", "INT"])
def test_signal_unmounts_cleanly(mount_factory, sig):
    d = mount_factory("sigv4", "mount-sig")
    parent = os.path.dirname(d.mnt)
    assert os.path.isdir(d.mnt), "--mount did not create the missing mount point"
    os.mkdir(d.path("sigbucket"))
    write_file(d.path("sigbucket", "f"), b"x")
    rc = _stop_with(d, sig)
    left = mountinfo_entries(d.mnt)
    if left:
        force_unmount(d.mnt)
    assert rc == 0, "atriumd exited with %s after %s\n%s" % (rc, sig.name, d.log_tail())
    assert not left, "still mounted after %s: %s" % (sig.name, left)
    assert os.path.isdir(parent)
    # the data survived the unmount
    assert read_file(os.path.join(d.ufs, "sigbucket", "f")) == b"x"


def test_stale_mount_cleared_at_next_start(mount_factory):
    d = mount_factory("sigv4", "mount-stale")
    os.mkdir(d.path("stalebk"))
    write_file(d.path("stalebk", "kept"), b"survives a crash")
    d.kill()  # SIGKILL: no unmount; the mount stays behind, stale
    stale = mountinfo_entries(d.mnt)
    if stale:  # a dead FUSE connection: ENOTCONN, never a hang
        assert oserr(os.stat, d.path("stalebk")) == errno.ENOTCONN
    # the same mount point again, without the harness clearing it first
    d.keep_stale, d.killed, d.stopped = True, False, False
    try:
        d.start()
        ents = mountinfo_entries(d.mnt)
        assert len(ents) == 1, "stale mount not cleared (mounts stacked): %s" % ents
        assert read_file(d.path("stalebk", "kept")) == b"survives a crash"
        assert os.listdir(d.path("stalebk")) == ["kept"]
        err = d.stop()
        assert err is None, err
    finally:
        # whatever happened, leave no mount behind for the session teardown
        d.stop()
        force_unmount(d.mnt)
        d.unmount_error = None


# -- the root: buckets ------------------------------------------------------------
def test_root_buckets_mkdir_rmdir(mount_daemon, s3, bucket_name):
    d = mount_daemon
    alice = d.boto3("alice")
    other = s3util.unique_bucket("s3made")
    alice.create_bucket(Bucket=other)
    assert other in os.listdir(d.mnt)
    assert stat.S_ISDIR(os.stat(d.path(other)).st_mode)

    os.mkdir(d.path(bucket_name))
    assert stat.S_ISDIR(os.stat(d.path(bucket_name)).st_mode)
    assert bucket_name in os.listdir(d.mnt)
    s3.head_bucket(Bucket=bucket_name)  # S3 sees the new bucket
    assert bucket_name in [b["Name"] for b in s3.list_buckets()["Buckets"]]

    for bad in ("ab", "UPPERCASE", "under_score", "-leading-dash", "a..b",
                "x" * 64, "192.168.1.1"):
        e = oserr(os.mkdir, d.path(bad))
        assert e == errno.EINVAL, (bad, ename(e))
        assert bad not in os.listdir(d.mnt)
    assert oserr(os.mkdir, d.path(bucket_name)) == errno.EEXIST
    # a bucket is not renamed (mv falls back to a copy on EXDEV)
    renamed = s3util.unique_bucket("renamed")
    e = oserr(os.rename, d.path(bucket_name), d.path(renamed))
    assert e == errno.EXDEV, ename(e)
    assert os.path.isdir(d.path(bucket_name)) and not os.path.exists(d.path(renamed))

    write_file(d.path(bucket_name, "obj"), b"1")
    assert oserr(os.rmdir, d.path(bucket_name)) == errno.ENOTEMPTY
    s3.head_bucket(Bucket=bucket_name)
    os.unlink(d.path(bucket_name, "obj"))
    os.rmdir(d.path(bucket_name))
    assert not os.path.exists(d.path(bucket_name))
    assert bucket_name not in os.listdir(d.mnt)
    assert s3util.client_error(s3.head_bucket, Bucket=bucket_name)[0] == 404


# -- lookup, getattr, setattr --------------------------------------------------------
def test_stable_inode_numbers(bdir, s3):
    bk = os.path.basename(bdir)
    a = os.path.join(bdir, "a")
    write_file(a, b"first")
    ino = os.stat(a).st_ino
    assert os.stat(a).st_ino == ino  # lookup twice: same number
    write_file(os.path.join(bdir, "other"), b"o")
    assert os.stat(os.path.join(bdir, "other")).st_ino != ino
    os.rename(a, os.path.join(bdir, "b"))
    assert os.stat(os.path.join(bdir, "b")).st_ino == ino
    os.mkdir(os.path.join(bdir, "sub"))
    dino = os.stat(os.path.join(bdir, "sub")).st_ino
    os.rename(os.path.join(bdir, "b"), os.path.join(bdir, "sub", "c"))
    assert os.stat(os.path.join(bdir, "sub", "c")).st_ino == ino
    os.rename(os.path.join(bdir, "sub"), os.path.join(bdir, "sub2"))
    assert os.stat(os.path.join(bdir, "sub2")).st_ino == dino
    assert os.stat(os.path.join(bdir, "sub2", "c")).st_ino == ino
    # writes through the mount keep the number
    write_file(os.path.join(bdir, "sub2", "c"), b"rewritten in the mount")
    assert os.stat(os.path.join(bdir, "sub2", "c")).st_ino == ino
    # an S3 overwrite replaces the object as rename(2) replaces a file: a new
    # inode (docs/mount.md), seen at once under the same name
    s3.put_object(Bucket=bk, Key="sub2/c", Body=b"overwritten through S3, longer")
    st = os.stat(os.path.join(bdir, "sub2", "c"))
    assert st.st_ino != ino
    assert st.st_size == len(b"overwritten through S3, longer")


def test_chmod_chown_and_ctime(bdir):
    p = os.path.join(bdir, "f")
    write_file(p, b"data", 0o644)
    assert stat.S_IMODE(os.stat(p).st_mode) == 0o644
    assert stat.S_ISREG(os.stat(p).st_mode)
    before = os.stat(p)
    os.chmod(p, 0o640)
    after = os.stat(p)
    assert stat.S_IMODE(after.st_mode) == 0o640
    assert stat.S_ISREG(after.st_mode)
    assert after.st_ctime_ns > before.st_ctime_ns, (before.st_ctime_ns, after.st_ctime_ns)
    assert after.st_mtime_ns == before.st_mtime_ns  # chmod does not touch mtime
    os.chmod(p, 0o4755)  # setuid bit kept as given, by root
    assert stat.S_IMODE(os.stat(p).st_mode) == 0o4755
    os.chmod(p, 0o600)
    os.chown(p, NOBODY, NOBODY)
    st = os.stat(p)
    assert (st.st_uid, st.st_gid) == (NOBODY, NOBODY)
    os.chown(p, -1, 0)  # the group alone
    st = os.stat(p)
    assert (st.st_uid, st.st_gid) == (NOBODY, 0)
    d = os.path.join(bdir, "d")
    os.mkdir(d, 0o755)
    os.chmod(d, 0o700)
    assert stat.S_IMODE(os.stat(d).st_mode) == 0o700
    assert stat.S_ISDIR(os.stat(d).st_mode)
    assert read_file(p) == b"data"


def test_truncate_down_and_up(bdir, s3):
    p = os.path.join(bdir, "t")
    data = bytes(range(256)) * 40
    write_file(p, data)
    os.truncate(p, 100)
    assert os.stat(p).st_size == 100
    assert read_file(p) == data[:100]
    os.truncate(p, 5000)
    assert os.stat(p).st_size == 5000
    assert read_file(p) == data[:100] + b"\0" * 4900
    os.truncate(p, 0)
    assert os.stat(p).st_size == 0
    assert read_file(p) == b""
    # ftruncate on an open descriptor, then write past the new end
    fd = os.open(p, os.O_RDWR)
    try:
        os.write(fd, b"abcdef")
        os.ftruncate(fd, 3)
        os.pwrite(fd, b"Z", 10)
    finally:
        os.close(fd)
    assert read_file(p) == b"abc" + b"\0" * 7 + b"Z"
    assert s3_etag_and_size(s3, bdir, "t") == (s3util.md5hex(b"abc" + b"\0" * 7 + b"Z"), 11)
    os.truncate(p, 4)  # a truncate alone, no open file: a new version too
    assert s3_etag_and_size(s3, bdir, "t") == (s3util.md5hex(b"abc\0"), 4)


def test_utimens_mtime_nanoseconds_now_omit(bdir):
    p = os.path.join(bdir, "u")
    write_file(p, b"u")
    mt = 1_600_000_000_987_654_321
    os.utime(p, ns=(1_500_000_000_123_456_789, mt))
    assert os.stat(p).st_mtime_ns == mt
    # mtime to now
    t0 = time.time_ns()
    utimensat(p, (0, UTIME_OMIT), (0, UTIME_NOW))
    now_m = os.stat(p).st_mtime_ns
    assert abs(now_m - t0) < 5 * 10**9, (now_m, t0)
    # mtime left alone
    utimensat(p, (0, UTIME_NOW), (0, UTIME_OMIT))
    assert os.stat(p).st_mtime_ns == now_m
    utimensat(p, (1, 1), (2, 999_999_999))
    assert os.stat(p).st_mtime_ns == 2_999_999_999
    d = os.path.join(bdir, "dir")
    os.mkdir(d)
    os.utime(d, ns=(1, mt))
    assert os.stat(d).st_mtime_ns == mt
    assert read_file(p) == b"u"


def test_utimens_atime_kept_apart_from_mtime(bdir):
    p = os.path.join(bdir, "u")
    write_file(p, b"u")
    at, mt = 1_500_000_000_123_456_789, 1_600_000_000_987_654_321
    os.utime(p, ns=(at, mt))
    st = os.stat(p)
    assert (st.st_atime_ns, st.st_mtime_ns) == (at, mt)
    # atime left alone (UTIME_OMIT) while mtime moves to now
    utimensat(p, (0, UTIME_OMIT), (0, UTIME_NOW))
    assert os.stat(p).st_atime_ns == at
    # atime to now (UTIME_NOW) while mtime stays (UTIME_OMIT)
    t0 = time.time_ns()
    m = os.stat(p).st_mtime_ns
    utimensat(p, (0, UTIME_NOW), (0, UTIME_OMIT))
    st = os.stat(p)
    assert st.st_mtime_ns == m
    assert abs(st.st_atime_ns - t0) < 5 * 10**9, (st.st_atime_ns, t0)


# -- directories ------------------------------------------------------------------
def test_readdir_large_directory(bdir):
    d = os.path.join(bdir, "big")
    os.mkdir(d)
    names = {"f%05d-%s" % (i, "x" * (i % 40)) for i in range(2000)}
    for n in names:
        os.close(os.open(os.path.join(d, n), os.O_WRONLY | os.O_CREAT, 0o644))
    subdirs = {"dir%03d" % i for i in range(20)}
    for n in subdirs:
        os.mkdir(os.path.join(d, n))
    listed = os.listdir(d)
    assert len(listed) == len(set(listed)), "an entry was listed twice"
    assert set(listed) == names | subdirs
    with os.scandir(d) as it:
        kinds = {e.name: (e.is_dir(follow_symlinks=False), e.is_file(follow_symlinks=False))
                 for e in it}
    assert set(kinds) == names | subdirs
    assert all(kinds[n] == (True, False) for n in subdirs)
    assert all(kinds[n] == (False, True) for n in names)
    # a listing after some removals shows the rest exactly once
    gone = sorted(names)[::3]
    for n in gone:
        os.unlink(os.path.join(d, n))
    listed = os.listdir(d)
    assert len(listed) == len(set(listed))
    assert set(listed) == (names - set(gone)) | subdirs


def test_mkdir_rmdir(bdir):
    a = os.path.join(bdir, "a")
    os.mkdir(a)
    os.mkdir(os.path.join(a, "b"))
    assert stat.S_ISDIR(os.stat(os.path.join(a, "b")).st_mode)
    assert oserr(os.mkdir, a) == errno.EEXIST
    assert oserr(os.mkdir, os.path.join(bdir, "missing", "x")) == errno.ENOENT
    assert oserr(os.rmdir, a) == errno.ENOTEMPTY
    write_file(os.path.join(a, "b", "f"), b"f")
    assert oserr(os.rmdir, os.path.join(a, "b")) == errno.ENOTEMPTY
    assert oserr(os.rmdir, os.path.join(a, "b", "f")) == errno.ENOTDIR
    assert oserr(os.unlink, os.path.join(a, "b")) == errno.EISDIR
    assert oserr(os.mkdir, os.path.join(a, "b", "f", "x")) == errno.ENOTDIR
    os.unlink(os.path.join(a, "b", "f"))
    os.rmdir(os.path.join(a, "b"))
    os.rmdir(a)
    assert not os.path.exists(a)
    assert os.listdir(bdir) == []
    # an empty directory survives (it is a marker, not implied)
    os.mkdir(a)
    assert os.listdir(bdir) == ["a"]
    assert os.listdir(a) == []


# -- files ------------------------------------------------------------------------
def test_directory_link_counts(bdir, s3):
    """A directory's st_nlink is 2 plus its subdirectories, through
    mkdir and rmdir in the mount and directories implied by S3 keys."""
    bk = os.path.basename(bdir)
    a = os.path.join(bdir, "a")
    os.makedirs(os.path.join(a, "b"))
    os.mkdir(os.path.join(a, "c"))
    write_file(os.path.join(a, "f"), b"a file is no link")
    assert os.stat(a).st_nlink == 4
    assert os.stat(os.path.join(a, "b")).st_nlink == 2
    assert os.stat(bdir).st_nlink == 3
    os.rmdir(os.path.join(a, "c"))
    assert os.stat(a).st_nlink == 3
    s3.put_object(Bucket=bk, Key="a/implied/deep/x", Body=b"x")
    assert os.stat(a).st_nlink == 4
    assert os.stat(os.path.join(bdir, "a", "f")).st_nlink == 1


def test_create_write_read_fsync_close(bdir, s3):
    p = os.path.join(bdir, "f")
    fd = os.open(p, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o644)
    try:
        assert os.write(fd, b"hello ") == 6
        assert os.write(fd, b"world") == 5
        os.fsync(fd)
        assert os.pread(fd, 100, 0) == b"hello world"
        assert os.fstat(fd).st_size == 11
        assert read_file(p) == b"hello world"  # another descriptor sees it
        os.lseek(fd, 0, os.SEEK_SET)
        assert os.read(fd, 5) == b"hello"
    finally:
        os.close(fd)
    assert os.stat(p).st_size == 11
    assert read_file(p) == b"hello world"
    assert oserr(os.open, p, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644) == errno.EEXIST
    assert oserr(os.open, os.path.join(bdir, "nope"), os.O_RDONLY) == errno.ENOENT
    # a larger file in odd-sized writes
    big = os.urandom(3 * 1024 * 1024 + 12345)
    fd = os.open(os.path.join(bdir, "big"), os.O_WRONLY | os.O_CREAT, 0o644)
    try:
        off = 0
        while off < len(big):
            off += os.write(fd, big[off:off + 70001])
        os.fdatasync(fd)
    finally:
        os.close(fd)
    assert read_file(os.path.join(bdir, "big")) == big
    bk = os.path.basename(bdir)
    assert s3.head_object(Bucket=bk, Key="big")["ContentLength"] == len(big)


def s3_etag_and_size(s3, bdir, name):
    h = s3.head_object(Bucket=os.path.basename(bdir), Key=name)
    return s3util.etag_md5(h["ETag"]), h["ContentLength"]


def test_o_append_from_two_descriptors(bdir, s3):
    p = os.path.join(bdir, "log")
    write_file(p, b"start\n")
    fd1 = os.open(p, os.O_WRONLY | os.O_APPEND)
    fd2 = os.open(p, os.O_WRONLY | os.O_APPEND)
    expect = b"start\n"
    try:
        for i in range(50):
            for fd, tag in ((fd1, b"one"), (fd2, b"two")):
                line = b"%s %03d %s\n" % (tag, i, b"." * (i * 7 % 31))
                os.write(fd, line)
                expect += line
    finally:
        os.close(fd1)
        os.close(fd2)
    got = read_file(p)
    assert len(got) == len(expect), (len(got), len(expect))
    assert got == expect
    assert s3_etag_and_size(s3, bdir, "log") == (s3util.md5hex(expect), len(expect))


def test_o_trunc(bdir):
    p = os.path.join(bdir, "tr")
    write_file(p, b"a long first version of the file\n" * 100)
    fd = os.open(p, os.O_WRONLY | os.O_TRUNC)
    try:
        assert os.fstat(fd).st_size == 0
        os.write(fd, b"short")
    finally:
        os.close(fd)
    assert os.stat(p).st_size == 5
    assert read_file(p) == b"short"
    os.close(os.open(p, os.O_WRONLY | os.O_TRUNC))  # open + close alone empties it
    assert os.stat(p).st_size == 0
    assert read_file(p) == b""


def test_sparse_writes(bdir, s3):
    p = os.path.join(bdir, "sparse")
    hole = 5 * 1024 * 1024 + 17
    fd = os.open(p, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        os.write(fd, b"head")
        os.lseek(fd, hole, os.SEEK_SET)
        os.write(fd, b"tail")
        assert os.fstat(fd).st_size == hole + 4
    finally:
        os.close(fd)
    assert os.stat(p).st_size == hole + 4
    got = read_file(p)
    assert len(got) == hole + 4
    assert got[:4] == b"head"
    assert got[hole:] == b"tail"
    assert got[4:hole] == b"\0" * (hole - 4)
    assert s3_etag_and_size(s3, bdir, "sparse") == (s3util.md5hex(got), hole + 4)
    # pwrite far past the end of an existing file
    fd = os.open(p, os.O_WRONLY)
    try:
        os.pwrite(fd, b"far", 2 * hole)
    finally:
        os.close(fd)
    assert os.stat(p).st_size == 2 * hole + 3
    with open(p, "rb") as f:
        f.seek(hole + 4)
        assert f.read(hole - 4) == b"\0" * (hole - 4)
        assert f.read() == b"far"
        f.seek(0)
        whole = f.read()
    assert s3_etag_and_size(s3, bdir, "sparse") == (s3util.md5hex(whole), 2 * hole + 3)


def test_random_writes_inside_a_file(bdir, s3):
    p = os.path.join(bdir, "rand")
    rnd = random.Random(4)
    size = 3 * 1024 * 1024 + 333
    model = bytearray(rnd.randbytes(size))
    write_file(p, bytes(model))
    fd = os.open(p, os.O_RDWR)
    try:
        for _ in range(200):
            n = rnd.choice([1, 7, 512, 4096, 4097, 65536, 200000])
            off = rnd.randrange(0, size - n)
            chunk = rnd.randbytes(n)
            assert os.pwrite(fd, chunk, off) == n
            model[off:off + n] = chunk
        assert pread_all(fd, size) == bytes(model)  # through the same descriptor
    finally:
        os.close(fd)
    assert os.stat(p).st_size == size
    assert read_file(p) == bytes(model)
    bk = os.path.basename(bdir)
    got = s3.get_object(Bucket=bk, Key="rand")
    assert got["Body"].read() == bytes(model)
    assert s3util.etag_md5(got["ETag"]) == s3util.md5hex(bytes(model))


def test_unlink_and_unlink_of_open_file(bdir):
    p = os.path.join(bdir, "victim")
    old = os.urandom(2 * 1024 * 1024 + 5)
    write_file(p, old)
    fd = os.open(p, os.O_RDONLY)
    try:
        first = os.read(fd, 1000)
        os.unlink(p)
        assert not os.path.exists(p)
        assert "victim" not in os.listdir(bdir)
        assert oserr(os.stat, p) == errno.ENOENT
        # a new file of the same name does not disturb the reader
        write_file(p, b"new one")
        rest = b""
        while True:
            chunk = os.read(fd, 1 << 20)
            if not chunk:
                break
            rest += chunk
        assert first + rest == old
        st = os.fstat(fd)
        assert st.st_size == len(old)
        assert st.st_nlink == 0, "an unlinked open file has no name left"
    finally:
        os.close(fd)
    assert read_file(p) == b"new one"
    os.unlink(p)
    assert oserr(os.unlink, p) == errno.ENOENT


def test_setattr_on_an_unlinked_open_file_keeps_the_daemon_up(mount_daemon, bdir):
    """Issue 12's reproducer, run as an unprivileged uid: setattr of a file
    whose last name is gone used to release an uninitialised row (a free()
    of stack garbage: both doors down)."""
    if os.geteuid() != 0:
        pytest.skip("needs root to act as uid 65534")
    os.chmod(bdir, 0o777)
    res = run_as(NOBODY, NOBODY, r'''
p = os.environ["D"] + "/gone"
for i in range(20):
    fd = os.open(p, os.O_RDWR | os.O_CREAT, 0o644)
    os.unlink(p)
    attempt("futimens", os.utime, fd)
    attempt("ftruncate", os.ftruncate, fd, 1)
    attempt("fchmod", os.fchmod, fd, 0o600)
    os.close(fd)
''', D=bdir)
    # As on ext4: each succeeds, on the open inode (issue 13).
    assert res == {"futimens": "ok", "ftruncate": "ok", "fchmod": "ok"}, res
    assert mount_daemon.alive(), mount_daemon.log_tail()
    assert os.listdir(bdir) == []


# -- rename -------------------------------------------------------------------------
def test_rename_files_and_directories(bdir, s3):
    bk = os.path.basename(bdir)
    a, b = os.path.join(bdir, "a"), os.path.join(bdir, "b")
    write_file(a, b"AAAA")
    os.rename(a, b)
    assert not os.path.exists(a) and read_file(b) == b"AAAA"
    # over an existing file: the target's old bytes are gone
    c = os.path.join(bdir, "c")
    write_file(c, b"old c, longer than the new one")
    ino_b = os.stat(b).st_ino
    os.rename(b, c)
    assert not os.path.exists(b)
    assert read_file(c) == b"AAAA"
    assert os.stat(c).st_ino == ino_b
    assert sorted(os.listdir(bdir)) == ["c"]
    # directories with contents
    d = os.path.join(bdir, "dir")
    os.makedirs(os.path.join(d, "x", "y"))
    write_file(os.path.join(d, "x", "y", "leaf"), b"leaf")
    write_file(os.path.join(d, "top"), b"top")
    d2 = os.path.join(bdir, "moved")
    os.rename(d, d2)
    assert not os.path.exists(d)
    assert read_file(os.path.join(d2, "x", "y", "leaf")) == b"leaf"
    assert read_file(os.path.join(d2, "top")) == b"top"
    keys = sorted(o["Key"] for o in s3.list_objects_v2(Bucket=bk).get("Contents", []))
    assert "moved/x/y/leaf" in keys and "moved/top" in keys and "c" in keys
    assert not [k for k in keys if k.startswith("dir/")], keys
    # a directory onto a non-empty directory fails; onto an empty one works
    e = os.path.join(bdir, "emptydir")
    os.mkdir(e)
    assert oserr(os.rename, e, d2) in (errno.ENOTEMPTY, errno.EEXIST)
    os.rename(d2, e)
    assert read_file(os.path.join(e, "top")) == b"top"
    # a file onto a directory and back
    assert oserr(os.rename, c, e) == errno.EISDIR
    assert oserr(os.rename, e, c) == errno.ENOTDIR
    # into itself
    assert oserr(os.rename, e, os.path.join(e, "x", "inside")) == errno.EINVAL
    assert oserr(os.rename, os.path.join(bdir, "missing"), c) == errno.ENOENT


def test_rename_noreplace_and_exchange(bdir):
    a, b = os.path.join(bdir, "a"), os.path.join(bdir, "b")
    write_file(a, b"content a")
    write_file(b, b"content b, different")
    assert oserr(renameat2, a, b, RENAME_NOREPLACE) == errno.EEXIST
    assert read_file(a) == b"content a" and read_file(b) == b"content b, different"
    renameat2(a, os.path.join(bdir, "c"), RENAME_NOREPLACE)  # free target: fine
    assert read_file(os.path.join(bdir, "c")) == b"content a"
    assert not os.path.exists(a)
    c = os.path.join(bdir, "c")
    ino_b, ino_c = os.stat(b).st_ino, os.stat(c).st_ino
    try:
        renameat2(b, c, RENAME_EXCHANGE)
    except OSError as e:
        assert e.errno == errno.EINVAL, ename(e.errno)
        assert read_file(b) == b"content b, different" and read_file(c) == b"content a"
        assert sorted(os.listdir(bdir)) == ["b", "c"]
    else:
        assert read_file(b) == b"content a" and read_file(c) == b"content b, different"
        assert (os.stat(b).st_ino, os.stat(c).st_ino) == (ino_c, ino_b)
        assert sorted(os.listdir(bdir)) == ["b", "c"]


# -- special files ------------------------------------------------------------------
def test_symlink_readlink(bdir, s3):
    bk = os.path.basename(bdir)
    write_file(os.path.join(bdir, "target"), b"pointed at")
    link = os.path.join(bdir, "link")
    os.symlink("target", link)
    assert os.readlink(link) == "target"
    assert stat.S_ISLNK(os.lstat(link).st_mode)
    assert read_file(link) == b"pointed at"  # followed by the kernel
    dangling = os.path.join(bdir, "dangling")
    os.symlink("../no/such/thing", dangling)
    assert os.readlink(dangling) == "../no/such/thing"
    assert not os.path.exists(dangling) and os.path.lexists(dangling)
    assert oserr(os.symlink, "x", link) == errno.EEXIST
    # S3 sees an object whose body is the target
    assert s3.get_object(Bucket=bk, Key="link")["Body"].read() == b"target"
    assert s3.get_object(Bucket=bk, Key="dangling")["Body"].read() == b"../no/such/thing"
    os.unlink(link)
    assert not os.path.lexists(link)
    assert read_file(os.path.join(bdir, "target")) == b"pointed at"


def test_mkfifo_and_mknod(bdir, s3):
    bk = os.path.basename(bdir)
    fifo = os.path.join(bdir, "fifo")
    os.mkfifo(fifo, 0o644)
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode)
    nfifo = os.path.join(bdir, "nfifo")
    os.mknod(nfifo, stat.S_IFIFO | 0o600)
    assert stat.S_ISFIFO(os.lstat(nfifo).st_mode)
    assert stat.S_IMODE(os.lstat(nfifo).st_mode) == 0o600
    if os.geteuid() == 0:
        sock = os.path.join(bdir, "sock")
        os.mknod(sock, stat.S_IFSOCK | 0o644)
        assert stat.S_ISSOCK(os.lstat(sock).st_mode)
    for name in ["fifo", "nfifo"] + (["sock"] if os.geteuid() == 0 else []):
        h = s3.head_object(Bucket=bk, Key=name)
        assert h["ContentLength"] == 0, (name, h)
    assert set(os.listdir(bdir)) >= {"fifo", "nfifo"}
    os.unlink(fifo)
    assert not os.path.lexists(fifo)


def test_statvfs(mount_daemon, bdir):
    for p in (mount_daemon.mnt, bdir):
        sv = os.statvfs(p)
        assert sv.f_blocks > 0, sv
        assert sv.f_bsize > 0 and sv.f_frsize > 0, sv
        assert sv.f_bfree <= sv.f_blocks and sv.f_bavail <= sv.f_blocks, sv
        assert sv.f_namemax >= 255, sv


# -- extended attributes --------------------------------------------------------------
def test_xattrs(bdir, s3):
    bk = os.path.basename(bdir)
    p = os.path.join(bdir, "x.bin")
    data = b"some bytes for the etag"
    write_file(p, data)
    os.setxattr(p, "user.s3.content_type", b"text/x-atrium")
    assert s3.head_object(Bucket=bk, Key="x.bin")["ContentType"] == "text/x-atrium"
    assert os.getxattr(p, "user.s3.content_type") == b"text/x-atrium"
    os.setxattr(p, "user.s3.meta.color", b"blue")
    h = s3.head_object(Bucket=bk, Key="x.bin")
    assert h["Metadata"].get("color") == "blue", h
    assert h["ContentType"] == "text/x-atrium"
    assert os.getxattr(p, "user.s3.meta.color") == b"blue"
    # the etag is readable and is S3's, and it cannot be set
    etag = os.getxattr(p, "user.s3.etag").decode()
    assert etag == s3util.md5hex(data) == s3util.etag_md5(h["ETag"])
    assert oserr(os.setxattr, p, "user.s3.etag", b"0" * 32) in (errno.EPERM, errno.EACCES)
    assert os.getxattr(p, "user.s3.etag").decode() == etag
    # any other user.* attribute round-trips, binary included
    os.setxattr(p, "user.note", b"free text")
    os.setxattr(p, "user.bin", bytes(range(256)))
    assert os.getxattr(p, "user.note") == b"free text"
    assert os.getxattr(p, "user.bin") == bytes(range(256))
    os.setxattr(p, "user.note", b"replaced")
    assert os.getxattr(p, "user.note") == b"replaced"
    assert oserr(os.setxattr, p, "user.note", b"x", os.XATTR_CREATE) == errno.EEXIST
    assert oserr(os.setxattr, p, "user.absent", b"x", os.XATTR_REPLACE) == errno.ENODATA
    names = set(os.listxattr(p))
    assert {"user.note", "user.bin", "user.s3.meta.color"} <= names, names
    assert oserr(os.getxattr, p, "user.absent") == errno.ENODATA
    os.removexattr(p, "user.note")
    assert oserr(os.getxattr, p, "user.note") == errno.ENODATA
    assert "user.note" not in os.listxattr(p)
    os.removexattr(p, "user.s3.meta.color")
    assert "color" not in s3.head_object(Bucket=bk, Key="x.bin")["Metadata"]
    # the bytes are untouched by all of this
    assert read_file(p) == data
    # on a directory, user.* attributes round-trip too
    d = os.path.join(bdir, "dx")
    os.mkdir(d)
    os.setxattr(d, "user.dirnote", b"on a dir")
    assert os.getxattr(d, "user.dirnote") == b"on a dir"


# -- ownership and permissions -------------------------------------------------------
def test_non_root_ownership_and_permission_checks(bdir):
    if os.geteuid() != 0:
        pytest.skip("needs root to act as uid 65534")
    shared = os.path.join(bdir, "shared")
    os.mkdir(shared)
    os.chmod(shared, 0o777)
    secret = os.path.join(shared, "secret")
    write_file(secret, b"root only", 0o600)
    public = os.path.join(shared, "public")
    write_file(public, b"for all", 0o644)
    given = os.path.join(shared, "given")
    write_file(given, b"g", 0o644)
    os.chown(given, NOBODY, NOBODY)
    res = run_as(NOBODY, NOBODY, r'''
d = os.environ["D"]
attempt("create", writef, d + "/mine", b"by nobody")
attempt("mkdir", os.mkdir, d + "/mydir")
attempt("nested", writef, d + "/mydir/inner", b"in")
attempt("read_secret", readf, d + "/secret")
attempt("read_public", readf, d + "/public")
attempt("write_public", writef, d + "/public", b"x")
attempt("chmod_public", os.chmod, d + "/public", 0o666)
attempt("chown_public", os.chown, d + "/public", 65534, 65534)
attempt("utime_public", os.utime, d + "/public", (1, 1))
attempt("chmod_given", os.chmod, d + "/given", 0o600)
attempt("chown_given_root", os.chown, d + "/given", 0, 0)
attempt("chmod_mine", os.chmod, d + "/mine", 0o640)
''', D=shared)
    assert res == {
        "create": "ok", "mkdir": "ok", "nested": "ok",
        "read_secret": "EACCES", "read_public": "for all", "write_public": "EACCES",
        "chmod_public": "EPERM", "chown_public": "EPERM", "utime_public": "EPERM",
        "chmod_given": "ok", "chown_given_root": "EPERM", "chmod_mine": "ok",
    }, res
    for p in ("mine", "mydir", "mydir/inner"):
        st = os.stat(os.path.join(shared, p))
        assert (st.st_uid, st.st_gid) == (NOBODY, NOBODY), (p, st)
    assert stat.S_IMODE(os.stat(os.path.join(shared, "mine")).st_mode) == 0o640
    assert stat.S_IMODE(os.stat(os.path.join(shared, "mydir")).st_mode) == 0o755
    assert stat.S_IMODE(os.stat(os.path.join(shared, "public")).st_mode) == 0o644
    assert stat.S_IMODE(os.stat(given).st_mode) == 0o600
    assert read_file(public) == b"for all"
    # a directory nobody cannot write: no create, no unlink
    os.chmod(shared, 0o755)
    res = run_as(NOBODY, NOBODY, r'''
d = os.environ["D"]
attempt("create", writef, d + "/again", b"x")
attempt("unlink", os.unlink, d + "/public")
attempt("list", os.listdir, d)
''', D=shared)
    assert res["create"] == "EACCES" and res["unlink"] == "EACCES", res
    assert sorted(res["list"]) == ["given", "mine", "mydir", "public", "secret"], res
    assert os.path.exists(public) and not os.path.exists(os.path.join(shared, "again"))


def test_setuid_setgid_and_sticky_rules(bdir):
    """The kernel's rules, from the modes and owners the namespace keeps:
    chown and a write by anyone but root clear set-user-ID (and a
    group-executable set-group-ID); a set-group-ID directory hands its group
    and the bit to new directories; in a sticky directory only the owner of
    an entry (or of the directory) removes or renames it."""
    p = os.path.join(bdir, "f")
    write_file(p, b"hi")
    os.chmod(p, 0o6755)
    os.chown(p, NOBODY, -1)
    assert stat.S_IMODE(os.stat(p).st_mode) == 0o755, "chown keeps no set-ID bit"
    os.chown(p, 0, 0)
    os.chmod(p, 0o6757)
    res = run_as(NOBODY, NOBODY, r'''
fd = os.open(os.environ["P"], os.O_WRONLY | os.O_APPEND)
attempt("write", os.write, fd, b"x")
os.close(fd)
''', P=p)
    assert res == {"write": "ok"}, res
    assert stat.S_IMODE(os.stat(p).st_mode) == 0o757, "a write by another clears set-ID"
    assert read_file(p) == b"hix"
    g = os.path.join(bdir, "g")
    os.mkdir(g)
    os.chown(g, 0, NOBODY)
    os.chmod(g, 0o2775)
    os.mkdir(os.path.join(g, "sub"))
    write_file(os.path.join(g, "file"), b"")
    sub, fil = os.stat(os.path.join(g, "sub")), os.stat(os.path.join(g, "file"))
    assert sub.st_gid == fil.st_gid == NOBODY
    assert sub.st_mode & stat.S_ISGID and not fil.st_mode & stat.S_ISGID
    t = os.path.join(bdir, "tmp")
    os.mkdir(t)
    os.chmod(t, 0o1777)
    write_file(os.path.join(t, "roots"), b"root's")
    res = run_as(NOBODY, NOBODY, r'''
t = os.environ["T"]
attempt("unlink", os.unlink, t + "/roots")
attempt("rename", os.rename, t + "/roots", t + "/mine")
attempt("create", writef, t + "/nobodys", b"x")
attempt("unlink_own", os.unlink, t + "/nobodys")
''', T=t)
    assert res == {"unlink": "EPERM", "rename": "EPERM", "create": "ok", "unlink_own": "ok"}, res
    assert os.listdir(t) == ["roots"]


# -- names --------------------------------------------------------------------------
def test_name_length_limits(bdir, s3):
    bk = os.path.basename(bdir)
    n255 = "n" * 255
    write_file(os.path.join(bdir, n255), b"long name")
    assert read_file(os.path.join(bdir, n255)) == b"long name"
    assert n255 in os.listdir(bdir)
    s3.head_object(Bucket=bk, Key=n255)
    utf = "\u00e9" * 127 + "z"  # 255 bytes of UTF-8
    assert len(utf.encode()) == 255
    os.mkdir(os.path.join(bdir, utf))
    assert utf in os.listdir(bdir)
    for bad in ("n" * 256, "\u00e9" * 128):
        assert oserr(write_file, os.path.join(bdir, bad), b"x") == errno.ENAMETOOLONG
        assert oserr(os.mkdir, os.path.join(bdir, bad)) == errno.ENAMETOOLONG
        assert oserr(os.stat, os.path.join(bdir, bad)) == errno.ENAMETOOLONG
    assert sorted(os.listdir(bdir)) == sorted([n255, utf])


def test_name_s3_cannot_hold_is_refused(bdir):
    """A name that is not UTF-8 cannot be an S3 key: refused, nothing made."""
    bad = os.fsencode(bdir) + b"/bad\xff\xfename"
    e = oserr(os.open, bad, os.O_WRONLY | os.O_CREAT, 0o644)
    assert e == errno.EINVAL, ename(e)
    assert oserr(os.mkdir, bad) == errno.EINVAL
    assert os.listdir(bdir) == []


# -- hard links ------------------------------------------------------------------------
def ufs_ino(mount_daemon, bdir, name):
    return os.stat(os.path.join(mount_daemon.ufs, os.path.basename(bdir), name)).st_ino


def md5_hex(data):
    return hashlib.md5(data).hexdigest()


def test_hard_link_is_one_inode_in_mount_s3_and_ufs(mount_daemon, bdir, s3):
    bk = os.path.basename(bdir)
    a, b = os.path.join(bdir, "a"), os.path.join(bdir, "sub", "b")
    os.mkdir(os.path.dirname(b))
    write_file(a, b"linked bytes")
    os.link(a, b)
    sa, sb = os.stat(a), os.stat(b)
    assert sa.st_ino == sb.st_ino
    assert sa.st_nlink == sb.st_nlink == 2
    assert read_file(b) == b"linked bytes"
    # S3 serves the same bytes under both keys, and lists both
    for key in ("a", "sub/b"):
        r = s3.get_object(Bucket=bk, Key=key)
        assert r["Body"].read() == b"linked bytes"
        assert s3util.etag_md5(r["ETag"]) == md5_hex(b"linked bytes")
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket=bk)["Contents"]]
    assert keys == ["a", "sub/", "sub/b"]  # mkdir made a directory marker
    # ...and under DATA/ufs the two names are one file
    assert ufs_ino(mount_daemon, bdir, "a") == ufs_ino(mount_daemon, bdir, "sub/b")
    assert sorted(os.listdir(bdir)) == ["a", "sub"]


def test_hard_link_write_through_one_name_is_seen_through_the_other(mount_daemon, bdir, s3):
    bk = os.path.basename(bdir)
    a, b, c = (os.path.join(bdir, n) for n in ("a", "b", "c"))
    write_file(a, b"linked bytes")
    os.link(a, b)
    os.link(b, c)
    assert os.stat(a).st_nlink == 3
    fd = os.open(b, os.O_WRONLY)
    try:
        os.pwrite(fd, b"LINKED", 0)
    finally:
        os.close(fd)
    for p in (a, b, c):
        assert read_file(p) == b"LINKED bytes", p
    for key in ("a", "b", "c"):
        r = s3.get_object(Bucket=bk, Key=key)
        assert r["Body"].read() == b"LINKED bytes", key
        assert s3util.etag_md5(r["ETag"]) == md5_hex(b"LINKED bytes"), key
    inos = {ufs_ino(mount_daemon, bdir, n) for n in ("a", "b", "c")}
    assert len(inos) == 1, "a commit re-links every name to the new bytes"
    # a reader open through one name sees a write through another once closed
    with open(c, "rb") as r:
        write_file(a, b"rewritten through a")
        assert r.read() == b"rewritten through a"
    # attributes and extended attributes are the inode's
    os.chmod(a, 0o600)
    os.setxattr(b, "user.s3.content_type", b"text/x-linked")
    os.setxattr(b, "user.note", b"kept")
    for p in (a, b, c):
        assert stat.S_IMODE(os.stat(p).st_mode) == 0o600, p
        assert os.getxattr(p, "user.note") == b"kept", p
    for key in ("a", "b", "c"):
        assert s3.head_object(Bucket=bk, Key=key)["ContentType"] == "text/x-linked", key
    # truncate through one name
    os.truncate(c, 3)
    assert read_file(a) == b"rew"
    assert s3.get_object(Bucket=bk, Key="b")["Body"].read() == b"rew"


def test_hard_link_unlink_rename_and_s3_replace(mount_daemon, bdir, s3):
    bk = os.path.basename(bdir)
    a, b, c = (os.path.join(bdir, n) for n in ("a", "b", "c"))
    write_file(a, b"shared")
    os.link(a, b)
    ino = os.stat(a).st_ino
    os.setxattr(a, "user.note", b"stays")
    # unlink of the first name: the inode lives on under the other, whole
    os.unlink(a)
    st = os.stat(b)
    assert (st.st_ino, st.st_nlink) == (ino, 1)
    assert read_file(b) == b"shared"
    assert os.getxattr(b, "user.note") == b"stays"
    with pytest.raises(botocore.exceptions.ClientError):
        s3.head_object(Bucket=bk, Key="a")
    # rename(2) of one name over another name of the same file does nothing
    os.link(b, c)
    os.rename(b, c)
    assert sorted(os.listdir(bdir)) == ["b", "c"]
    assert os.stat(c).st_nlink == 2
    # rename keeps the inode and its links
    os.rename(c, a)
    sa = os.stat(a)
    assert (sa.st_ino, sa.st_nlink) == (ino, 2)
    # an S3 PUT replaces that key only: the other name keeps the old bytes
    s3.put_object(Bucket=bk, Key="a", Body=b"new object")
    assert read_file(a) == b"new object"
    assert os.stat(a).st_ino != ino
    sb = os.stat(b)
    assert (sb.st_ino, sb.st_nlink) == (ino, 1)
    assert read_file(b) == b"shared"
    assert ufs_ino(mount_daemon, bdir, "a") != ufs_ino(mount_daemon, bdir, "b")
    # an S3 DELETE removes one name
    os.link(b, c)
    assert os.stat(b).st_nlink == 2
    s3.delete_object(Bucket=bk, Key="c")
    assert not os.path.exists(c)
    assert os.stat(b).st_nlink == 1
    assert read_file(b) == b"shared"


def test_hard_link_write_lands_on_the_names_left(bdir, s3):
    """A file open for writing through name a, whose name a is then taken
    by an S3 PUT (or renamed away): close() commits to the inode's names
    as they are at that moment."""
    bk = os.path.basename(bdir)
    a, b, c = (os.path.join(bdir, n) for n in ("a", "b", "c"))
    write_file(a, b"original")
    os.link(a, b)
    fd = os.open(a, os.O_WRONLY | os.O_TRUNC)
    try:
        os.write(fd, b"through the mount")
        s3.put_object(Bucket=bk, Key="a", Body=b"through S3")
        os.rename(b, c)
    finally:
        os.close(fd)
    assert read_file(a) == b"through S3"
    assert read_file(c) == b"through the mount"
    assert s3.get_object(Bucket=bk, Key="c")["Body"].read() == b"through the mount"
    assert s3.get_object(Bucket=bk, Key="a")["Body"].read() == b"through S3"


def test_hard_link_errors(mount_daemon, bdir):
    bk = os.path.basename(bdir)
    a, b = os.path.join(bdir, "a"), os.path.join(bdir, "b")
    d = os.path.join(bdir, "d")
    write_file(a, b"x")
    write_file(b, b"y")
    os.mkdir(d)
    assert oserr(os.link, a, b) == errno.EEXIST
    assert oserr(os.link, a, d) == errno.EEXIST
    assert oserr(os.link, d, os.path.join(bdir, "d2")) == errno.EPERM
    assert oserr(os.link, os.path.join(bdir, "nope"), os.path.join(bdir, "n2")) == errno.ENOENT
    assert oserr(os.link, a, mount_daemon.path("at-the-root")) == errno.EACCES
    bad = os.fsencode(bdir) + b"/bad\xff\xfename"
    assert oserr(os.link, a, bad) == errno.EINVAL
    assert sorted(os.listdir(bdir)) == ["a", "b", "d"]
    assert os.stat(a).st_nlink == os.stat(b).st_nlink == 1
    assert sorted(os.listdir(os.path.join(mount_daemon.ufs, bk))) == ["a", "b", "d"]


def test_hard_link_of_a_file_still_open_from_create(bdir, s3):
    bk = os.path.basename(bdir)
    a, b = os.path.join(bdir, "a"), os.path.join(bdir, "b")
    fd = os.open(a, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
    try:
        os.write(fd, b"first")
        os.link(a, b)  # the new file becomes an object first
        assert read_file(b) == b"first"
        os.write(fd, b" and more")
    finally:
        os.close(fd)
    for key in ("a", "b"):
        assert s3.get_object(Bucket=bk, Key=key)["Body"].read() == b"first and more", key


def test_hard_link_survives_restart(mount_factory):
    d = mount_factory(name="links")
    os.mkdir(d.path("links"))
    a, b = d.path("links", "a"), d.path("links", "b")
    write_file(a, b"persisted")
    os.link(a, b)
    ino = os.stat(a).st_ino
    d.restart()
    sa, sb = os.stat(a), os.stat(b)
    assert sa.st_ino == sb.st_ino == ino
    assert sa.st_nlink == 2
    write_file(b, b"after restart")
    assert read_file(a) == b"after restart"
