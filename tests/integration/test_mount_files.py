"""Open-file semantics as ext4 has them (issue 13): the mount never loses a
byte or a timestamp of a file that is open, unlinked, truncated or given
times while open, and S3 sees what the mount shows.

Like test_mount.py, every test runs against the session's shared mounted
daemon (or one of its own when it restarts it), in a bucket of its own made
with mkdir, under `mount_watchdog`.
"""
import errno
import os
import sys
import tempfile

import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import s3util  # noqa: E402
from test_mount import (NOBODY, bdir, oserr, pread_all, read_file, run_as, s3,  # noqa: E402,F401
                        write_file)

pytestmark = pytest.mark.usefixtures("mount_watchdog")


def needs_root():
    if os.geteuid() != 0:
        pytest.skip("needs root to act as uid 65534")


# -- unlinked while open -----------------------------------------------------------
def test_tempfile_round_trip(bdir):
    """Python's TemporaryFile: O_TMPFILE, or else create + unlink + use."""
    data = os.urandom(3000)
    with tempfile.TemporaryFile(dir=bdir) as f:
        f.write(data)
        f.flush()
        assert os.fstat(f.fileno()).st_size == 3000
        f.seek(0)
        assert f.read() == data
    assert os.listdir(bdir) == []


def test_tempfile_round_trip_unprivileged(bdir):
    needs_root()
    os.chmod(bdir, 0o777)
    res = run_as(NOBODY, NOBODY, r'''
import tempfile
data = bytes(range(256)) * 12
with tempfile.TemporaryFile(dir=os.environ["D"]) as f:
    f.write(data)
    f.flush()
    res["size"] = os.fstat(f.fileno()).st_size
    f.seek(0)
    res["same"] = f.read() == data
''', D=bdir)
    assert res == {"size": 3072, "same": True}


@pytest.mark.parametrize("order", ["write-unlink", "unlink-write"])
def test_unlink_while_open_keeps_the_bytes(bdir, order):
    p = os.path.join(bdir, "f")
    data = os.urandom(5000)
    fd = os.open(p, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o644)
    try:
        if order == "write-unlink":
            os.write(fd, data)
            os.unlink(p)
        else:
            os.unlink(p)
            os.write(fd, data)
        st = os.fstat(fd)
        assert (st.st_size, st.st_nlink) == (5000, 0)
        assert pread_all(fd, 10000) == data
        # Another descriptor's close (a flush) must not take the bytes away.
        os.close(os.dup(fd))
        os.pwrite(fd, b"TAIL", 5000)
        assert os.fstat(fd).st_size == 5004
        assert pread_all(fd, 10000) == data + b"TAIL"
    finally:
        os.close(fd)
    assert os.listdir(bdir) == []


def test_unlink_of_a_committed_file_then_write_through_it(bdir, s3):
    p = os.path.join(bdir, "old")
    write_file(p, b"0123456789")
    fd = os.open(p, os.O_RDWR)
    try:
        os.unlink(p)
        os.pwrite(fd, b"ab", 3)
        assert os.fstat(fd).st_size == 10
        assert pread_all(fd, 100) == b"012ab56789"
        os.ftruncate(fd, 4)
        assert pread_all(fd, 100) == b"012a"
    finally:
        os.close(fd)
    assert os.listdir(bdir) == []
    keys = s3.list_objects_v2(Bucket=os.path.basename(bdir)).get("Contents", [])
    assert keys == [], "the unlinked file's bytes went nowhere"


def test_setattr_on_an_unlinked_open_file_applies_to_the_open_inode(bdir):
    """futimens, ftruncate and fchmod of an unlinked open file succeed and
    change what fstat shows, as on ext4 (test_mount.py has issue 12's
    reproducer of the crash this used to be)."""
    p = os.path.join(bdir, "gone")
    fd = os.open(p, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        os.write(fd, b"x" * 100)
        os.unlink(p)
        os.utime(fd, ns=(1_000_000_007, 2_000_000_009))
        os.ftruncate(fd, 10)
        os.fchmod(fd, 0o600)
        st = os.fstat(fd)
        assert st.st_size == 10
        assert st.st_mode & 0o7777 == 0o600
        assert pread_all(fd, 100) == b"x" * 10
    finally:
        os.close(fd)


# -- truncate is durable whoever has the file open ------------------------------------
def test_truncate_by_path_while_a_reader_holds_it(mount_factory):
    d = mount_factory(name="trunc")
    os.mkdir(d.path("trunc"))
    p = d.path("trunc", "f")
    write_file(p, b"0123456789abcdefghij")
    s3 = d.boto3("admin")
    fd = os.open(p, os.O_RDONLY)
    try:
        os.truncate(p, 5)
        assert os.stat(p).st_size == 5
        got = s3.get_object(Bucket="trunc", Key="f")
        assert got["Body"].read() == b"01234", "S3 sees the truncate when it returns"
        assert s3util.etag_md5(got["ETag"]) == s3util.md5hex(b"01234")
    finally:
        os.close(fd)  # the last close must not undo it
    assert read_file(p) == b"01234"
    d.restart()
    assert os.stat(p).st_size == 5
    assert read_file(p) == b"01234"
    assert d.boto3("admin").get_object(Bucket="trunc", Key="f")["Body"].read() == b"01234"


# -- times set while open win over the commit ----------------------------------------
def test_times_set_while_open_survive_the_close(bdir, s3):
    bk = os.path.basename(bdir)
    new, old = os.path.join(bdir, "new"), os.path.join(bdir, "old")
    write_file(old, b"committed before")
    # A new file, never closed yet; and a committed one with new writes.
    for p in (new, old):
        fd = os.open(p, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
        os.write(fd, b"payload of " + p.encode())
        os.utime(fd, ns=(1_111_111_111_123_456_789, 1_222_222_222_987_654_321))
        assert os.fstat(fd).st_mtime_ns == 1_222_222_222_987_654_321
        os.close(fd)
        st = os.stat(p)
        assert (st.st_atime_ns, st.st_mtime_ns) == (1_111_111_111_123_456_789,
                                                    1_222_222_222_987_654_321), p
        head = s3.head_object(Bucket=bk, Key=os.path.basename(p))
        # S3's Last-Modified is the file's mtime (docs/mount.md).
        assert int(head["LastModified"].timestamp()) == 1_222_222_222, p
    # A write after the times moves mtime to the write's time again; a
    # file written in place leaves its directory's mtime alone.
    dir_mtime = os.stat(bdir).st_mtime_ns
    fd = os.open(old, os.O_WRONLY)
    os.utime(fd, ns=(1, 2_000_000_000))
    os.pwrite(fd, b"X", 0)
    os.close(fd)
    assert os.stat(old).st_mtime_ns > 1_600_000_000 * 10**9
    assert os.stat(bdir).st_mtime_ns == dir_mtime


def make_tree(root, seed=13):
    """A tree with varied sizes and mtimes (nanoseconds, 1970s to 2030s):
    its relative paths and lstat results."""
    import random
    rng = random.Random(seed)
    dirs = ["", "a", "a/b", "a/b/deep", "c", "empty"]
    for d in dirs:
        os.makedirs(os.path.join(root, d), exist_ok=True)
    for i in range(48):
        p = os.path.join(root, rng.choice(dirs[:-1]), "f%02d" % i)
        size = rng.choice([0, 1, 100, 4096, 70000, (1 << 20) + 3])
        with open(p, "wb") as f:
            f.write(rng.randbytes(size))
        t = rng.randrange(10**9, 2 * 10**18)
        os.utime(p, ns=(t + rng.randrange(10**9), t))
    os.symlink("../c", os.path.join(root, "a", "link"))
    os.utime(os.path.join(root, "a", "link"), ns=(3 * 10**17, 4 * 10**17), follow_symlinks=False)
    for d in reversed(dirs):
        t = rng.randrange(10**9, 2 * 10**18)
        os.utime(os.path.join(root, d), ns=(t, t))
    return tree_stat(root)


def tree_stat(root):
    out = {}
    for dp, dn, fn in os.walk(root):
        for n in [""] + dn + fn:
            p = os.path.join(dp, n) if n else dp
            rel = os.path.relpath(p, root)
            st = os.lstat(p)
            out[rel] = (stat_kind(st.st_mode), st.st_size if not os.path.isdir(p) else 0,
                        st.st_mtime_ns)
    return out


def stat_kind(mode):
    import stat
    return "l" if stat.S_ISLNK(mode) else "d" if stat.S_ISDIR(mode) else "f"


def same_trees(src, dst):
    want, got = tree_stat(src), tree_stat(dst)
    diff = {k: (want.get(k), got.get(k)) for k in set(want) | set(got) if want.get(k) != got.get(k)}
    assert not diff, "differs (source, mount): %r" % sorted(diff.items())[:10]


@pytest.fixture
def src_tree(tmp_path):
    src = str(tmp_path / "src")
    make_tree(src)
    return src


def test_tar_x_keeps_every_mtime(bdir, src_tree, tmp_path):
    import subprocess
    tar = str(tmp_path / "t.tar")
    subprocess.run(["tar", "--format=posix", "-cf", tar, "-C", src_tree, "."], check=True)
    dst = os.path.join(bdir, "x")
    os.mkdir(dst)
    subprocess.run(["tar", "-xf", tar, "-C", dst], check=True, timeout=60)
    same_trees(src_tree, dst)


def test_tar_x_keeps_every_mtime_unprivileged(bdir, src_tree, tmp_path):
    import subprocess
    needs_root()
    tar = str(tmp_path / "t.tar")
    subprocess.run(["tar", "--format=posix", "-cf", tar, "-C", src_tree, "."], check=True)
    os.chmod(bdir, 0o777)
    dst = os.path.join(bdir, "x")
    with open(tar, "rb") as f:  # on stdin: the pytest tree is root's alone
        subprocess.run(["tar", "-xf", "-", "-C", bdir, "--one-top-level=x"], check=True,
                       stdin=f, user=NOBODY, group=NOBODY, extra_groups=[], timeout=60)
    same_trees(src_tree, dst)


@pytest.mark.parametrize("flag", ["-a", "-p"])
def test_cp_keeps_every_mtime(bdir, src_tree, flag):
    import subprocess
    dst = os.path.join(bdir, "x")
    if flag == "-a":
        subprocess.run(["cp", "-a", src_tree + "/.", dst], check=True, timeout=60)
        same_trees(src_tree, dst)
    else:
        os.mkdir(dst)
        names = [n for n in os.listdir(src_tree) if os.path.isfile(os.path.join(src_tree, n))]
        subprocess.run(["cp", "-p"] + [os.path.join(src_tree, n) for n in names] + [dst],
                       check=True, timeout=60)
        for n in names:
            assert os.stat(os.path.join(dst, n)).st_mtime_ns == \
                os.stat(os.path.join(src_tree, n)).st_mtime_ns, n


def rsync(*args):
    import subprocess
    p = subprocess.run(["rsync", "-a", "--itemize-changes", "--stats"] + list(args),
                       capture_output=True, text=True, timeout=120)
    assert p.returncode == 0, (p.returncode, p.stdout, p.stderr)
    changes = [ln for ln in p.stdout.splitlines() if ln[:1] in "<>ch.*" and
               len(ln) > 12 and ln[11] == " "]
    files = [ln for ln in p.stdout.splitlines()
             if ln.startswith("Number of regular files transferred:")]
    return changes, int(files[0].split(":")[1].replace(",", ""))


@pytest.mark.parametrize("mode", ["default", "inplace"])
def test_rsync_into_the_mount_and_back_then_nothing_to_do(bdir, src_tree, tmp_path, mode):
    """rsync -a round-trips times and sizes exactly: a second run finds
    nothing to transfer, either way."""
    extra = ["--inplace"] if mode == "inplace" else []
    dst, back = os.path.join(bdir, "r"), str(tmp_path / "back")
    changes, n = rsync(*extra, src_tree + "/", dst + "/")
    assert n > 0 and changes
    same_trees(src_tree, dst)
    assert rsync(*extra, src_tree + "/", dst + "/") == ([], 0)
    rsync(*extra, dst + "/", back + "/")
    same_trees(src_tree, back)
    assert rsync(*extra, dst + "/", back + "/") == ([], 0)
    # An update of some files in place goes through too.
    for rel in ("a/b/deep", "c"):
        for n in os.listdir(os.path.join(src_tree, rel)):
            p = os.path.join(src_tree, rel, n)
            if os.path.isfile(p) and not os.path.islink(p):
                with open(p, "ab") as f:
                    f.write(b"more")
                os.utime(p, ns=(10**18, 10**18 + 7))
    changes, n = rsync(*extra, src_tree + "/", dst + "/")
    assert n > 0
    same_trees(src_tree, dst)
    assert rsync(*extra, src_tree + "/", dst + "/") == ([], 0)


# -- hard links: the names left see the change -------------------------------------
def test_hard_link_ctime_moves_when_another_name_goes(bdir, s3):
    a, b, c, d = (os.path.join(bdir, n) for n in "abcd")
    write_file(a, b"linked")
    os.link(a, b)
    os.link(a, c)
    before = os.stat(b)
    os.unlink(a)
    after = os.stat(b)
    assert after.st_nlink == 2
    assert after.st_ctime_ns > before.st_ctime_ns, "unlink of another name"
    # Renamed over: the file that lost a name changes too.
    write_file(d, b"other")
    before = os.stat(b)
    os.rename(d, c)
    after = os.stat(b)
    assert after.st_nlink == 1
    assert after.st_ctime_ns > before.st_ctime_ns, "rename over another name"
    # An S3 DELETE of one name is an unlink of it.
    os.link(b, a)
    before = os.stat(b)
    s3.delete_object(Bucket=os.path.basename(bdir), Key="a")
    after = os.stat(b)
    assert after.st_nlink == 1 and after.st_ctime_ns > before.st_ctime_ns


# -- errors: what POSIX names for the call -----------------------------------------
def test_efbig_from_the_under_storage(bdir, s3):
    """The under-storage (ext4 here: 16 TiB files at most) refuses a size
    past its limit with EFBIG, and the mount says so rather than EIO."""
    p = os.path.join(bdir, "big")
    write_file(p, b"kept")
    assert oserr(os.truncate, p, 999999999999999) == errno.EFBIG
    fd = os.open(p, os.O_RDWR)
    try:
        assert oserr(os.ftruncate, fd, 999999999999999) == errno.EFBIG
        assert oserr(os.pwrite, fd, b"x", 1 << 50) == errno.EFBIG
        os.pwrite(fd, b"!", 4)  # still a working file
    finally:
        os.close(fd)
    assert read_file(p) == b"kept!"
    assert s3.get_object(Bucket=os.path.basename(bdir), Key="big")["Body"].read() == b"kept!"


# -- directory listings ------------------------------------------------------------
class _Dirent(__import__("ctypes").Structure):
    import ctypes as _c
    _fields_ = [("d_ino", _c.c_uint64), ("d_off", _c.c_int64), ("d_reclen", _c.c_ushort),
                ("d_type", _c.c_ubyte), ("d_name", _c.c_char * 256)]


def _libc_dir():
    import ctypes
    libc = ctypes.CDLL(None, use_errno=True)
    libc.opendir.restype = ctypes.c_void_p
    libc.opendir.argtypes = [ctypes.c_char_p]
    libc.readdir.restype = ctypes.POINTER(_Dirent)
    libc.readdir.argtypes = [ctypes.c_void_p]
    libc.telldir.restype = ctypes.c_long
    libc.telldir.argtypes = [ctypes.c_void_p]
    libc.seekdir.argtypes = [ctypes.c_void_p, ctypes.c_long]
    libc.rewinddir.argtypes = [ctypes.c_void_p]
    libc.closedir.argtypes = [ctypes.c_void_p]
    return libc


def read_entries(libc, dp, n=None):
    """(name, d_ino, telldir after it) of the next n entries (all: None)."""
    out = []
    while n is None or len(out) < n:
        e = libc.readdir(dp)
        if not e:
            break
        out.append((e.contents.d_name.decode(), e.contents.d_ino, libc.telldir(dp)))
    return out


def test_dot_dot_is_listed_with_its_inode(mount_daemon, bdir):
    sub = os.path.join(bdir, "a", "b")
    os.makedirs(sub)
    libc = _libc_dir()
    for d, parent in ((sub, os.path.dirname(sub)), (bdir, mount_daemon.mnt),
                      (mount_daemon.mnt, mount_daemon.mnt)):
        dp = libc.opendir(d.encode())
        try:
            got = {name: ino for name, ino, _ in read_entries(libc, dp)}
        finally:
            libc.closedir(dp)
        assert got.get(".") == os.stat(d).st_ino, (d, got)
        assert got.get("..") == os.stat(parent).st_ino, (d, got)
    import subprocess
    out = subprocess.run(["ls", "-a", sub], capture_output=True, text=True, check=True).stdout
    assert out.split() == [".", ".."]


def test_listing_streams_in_pages_with_stable_offsets(bdir):
    """Over several of the mount's pages (1,024 entries): every entry
    once, seekdir back to any telldir (in the page at hand or far back)
    resumes there, and entries made during a listing never make another
    one appear twice or vanish."""
    d = os.path.join(bdir, "many")
    os.mkdir(d)
    names = ["n%05d" % i for i in range(3000)]
    for n in names:
        os.close(os.open(os.path.join(d, n), os.O_WRONLY | os.O_CREAT, 0o644))
    libc = _libc_dir()
    dp = libc.opendir(d.encode())
    try:
        first = read_entries(libc, dp, 1500)
        # New entries while the listing is half done: the rest still
        # comes exactly once.
        for i in range(50):
            os.close(os.open(os.path.join(d, "m%05d" % i), os.O_WRONLY | os.O_CREAT, 0o644))
        rest = read_entries(libc, dp)
        listed = [e[0] for e in first + rest if e[0] not in (".", "..")]
        old = [n for n in listed if n.startswith("n")]
        assert sorted(old) == names and len(old) == len(set(old))
        assert len(listed) == len(set(listed))
        # seekdir to positions told before (after an entry: near, within
        # a page, far back) resumes right after that entry, though 50
        # entries came before it meanwhile
        for k in (2, 700, 1200, 1499):
            libc.seekdir(dp, first[k][2])
            nxt = read_entries(libc, dp, 3)
            assert [e[0] for e in nxt] == [e[0] for e in (first + rest)[k + 1:k + 4]], k
        libc.rewinddir(dp)
        again = [e[0] for e in read_entries(libc, dp) if e[0] not in (".", "..")]
        assert sorted(again) == sorted(names + ["m%05d" % i for i in range(50)])
    finally:
        libc.closedir(dp)


# -- S3 headers as extended attributes ---------------------------------------------
def test_content_type_of_a_file_with_only_user_metadata(bdir, s3):
    bk = os.path.basename(bdir)
    p = os.path.join(bdir, "meta-only")
    write_file(p, b"x")
    os.setxattr(p, "user.s3.meta.color", b"red")
    h = s3.head_object(Bucket=bk, Key="meta-only")
    assert h["ContentType"] == "binary/octet-stream", h
    assert h["Metadata"] == {"color": "red"}
    assert os.getxattr(p, "user.s3.content_type") == b"binary/octet-stream"
    assert "user.s3.content_type" in os.listxattr(p)
    # Removing the type gives the default back, in S3 and the mount alike.
    os.setxattr(p, "user.s3.content_type", b"text/plain")
    assert s3.head_object(Bucket=bk, Key="meta-only")["ContentType"] == "text/plain"
    os.removexattr(p, "user.s3.content_type")
    assert s3.head_object(Bucket=bk, Key="meta-only")["ContentType"] == "binary/octet-stream"
    assert os.getxattr(p, "user.s3.content_type") == b"binary/octet-stream"


def test_s3_xattrs_must_be_header_text(bdir, s3):
    """Names and values that cannot be HTTP header text are refused
    (EINVAL): stored, they made invalid header lines and boto3's HEAD of
    the object failed."""
    bk = os.path.basename(bdir)
    p = os.path.join(bdir, "h")
    write_file(p, b"x")
    for name, value in (("user.s3.meta.a\tb", b"v"), ("user.s3.meta.a b", b"v"),
                        ("user.s3.meta.a:b", b"v"), ("user.s3.meta.\x01", b"v"),
                        ("user.s3.meta.ok", b"tab\there"), ("user.s3.meta.ok", b"bell\x07"),
                        ("user.s3.meta.ok", b"del\x7f"), ("user.s3.content_type", b"text/\tplain"),
                        ("user.s3.content_type", b"a\x1bb")):
        assert oserr(os.setxattr, p, name, value) == errno.EINVAL, (name, value)
    os.setxattr(p, "user.s3.meta.fine-name_1", b"printable value, spaces ok")
    h = s3.head_object(Bucket=bk, Key="h")
    assert h["Metadata"] == {"fine-name_1": "printable value, spaces ok"}
    assert h["ContentType"] == "binary/octet-stream"


# -- costs proportional to the bytes written ---------------------------------------
MD5_8G_ZEROS = "b770351fadae5a96bbaf9702ed97d28d"       # head -c 8G /dev/zero | md5sum
MD5_1G_ZEROS_TAIL = "08f8caa38697373551021fbf4241b84d"  # 1 GiB of zeros, then b"tail"


def test_sparse_truncate_returns_at_once_and_the_etag_is_true(bdir, s3):
    """truncate -s 8G wrote no byte, but hashed 8 GiB inside the syscall
    (28 s). The bound is generous (timings are the benchmarks' business):
    the point is that no read-back happens in the call. The ETag, hashed
    afterwards, is the true MD5 (HEAD waits for it)."""
    import subprocess
    import time
    p = os.path.join(bdir, "sparse")
    t0 = time.monotonic()
    subprocess.run(["truncate", "-s", "8G", p], check=True, timeout=60)
    took = time.monotonic() - t0
    assert took < 5, "truncate -s 8G took %.1f s" % took
    assert os.stat(p).st_size == 8 << 30
    # The mount reads it at once: only S3 clients wait for the ETag.
    t0 = time.monotonic()
    with open(p, "rb") as f:
        f.seek((8 << 30) - 3)
        assert f.read() == b"\0\0\0"
    assert time.monotonic() - t0 < 5
    h = s3.head_object(Bucket=os.path.basename(bdir), Key="sparse")
    assert h["ContentLength"] == 8 << 30
    assert s3util.etag_md5(h["ETag"]) == MD5_8G_ZEROS
    assert os.getxattr(p, "user.s3.etag").decode() == MD5_8G_ZEROS


def test_sparse_write_at_a_high_offset_returns_at_once(bdir, s3):
    import time
    p = os.path.join(bdir, "far")
    t0 = time.monotonic()
    fd = os.open(p, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
    os.pwrite(fd, b"tail", 1 << 30)
    os.close(fd)
    took = time.monotonic() - t0
    assert took < 5, "a 4-byte write at 1 GiB took %.1f s" % took
    # Listing and HEAD both give the true MD5, never a placeholder.
    listed = s3.list_objects_v2(Bucket=os.path.basename(bdir))["Contents"]
    assert [(o["Key"], s3util.etag_md5(o["ETag"])) for o in listed] == \
        [("far", MD5_1G_ZEROS_TAIL)]
    h = s3.head_object(Bucket=os.path.basename(bdir), Key="far")
    assert s3util.etag_md5(h["ETag"]) == MD5_1G_ZEROS_TAIL
    # Written again in place, hashed again: the ETag follows the bytes.
    fd = os.open(p, os.O_WRONLY)
    os.pwrite(fd, b"TAIL", 1 << 30)
    os.close(fd)
    got = s3.get_object(Bucket=os.path.basename(bdir), Key="far", Range="bytes=1073741824-")
    assert got["Body"].read() == b"TAIL"
    import hashlib
    h = s3.head_object(Bucket=os.path.basename(bdir), Key="far")
    want = hashlib.md5()
    for _ in range(1024):
        want.update(bytes(1 << 20))
    want.update(b"TAIL")
    assert s3util.etag_md5(h["ETag"]) == want.hexdigest()


# -- concurrency -------------------------------------------------------------------
def test_delimiter_listing_is_one_snapshot_under_a_rename_loop(bdir, s3):
    """A Delimiter=/ listing scans once per common prefix; a directory
    renamed between two scans showed under both names (or neither). The
    renamed directory alternates between the first and the last prefix,
    with 150 prefixes between, so every listing straddles renames; each
    must show exactly one of the two names."""
    import threading
    import time
    bk = os.path.basename(bdir)
    for i in range(150):
        os.mkdir(os.path.join(bdir, "m%03d" % i))
        write_file(os.path.join(bdir, "m%03d" % i, "f"), b"x")
    os.mkdir(os.path.join(bdir, "a"))
    write_file(os.path.join(bdir, "a", "f"), b"moving")
    names = ["a", "z"]
    stop = threading.Event()
    renames = [0]

    def renamer():
        where = 0
        while not stop.is_set():
            os.rename(os.path.join(bdir, names[where]), os.path.join(bdir, names[1 - where]))
            where = 1 - where
            renames[0] += 1

    t = threading.Thread(target=renamer)
    t.start()
    bad, listings = [], 0
    try:
        deadline = time.monotonic() + 15
        while listings < 300 and time.monotonic() < deadline and not bad:
            got = s3.list_objects_v2(Bucket=bk, Delimiter="/")
            prefixes = {p["Prefix"] for p in got.get("CommonPrefixes", [])}
            listings += 1
            assert len(prefixes - {"a/", "z/"}) == 150
            if ("a/" in prefixes) == ("z/" in prefixes):
                bad.append(sorted(prefixes & {"a/", "z/"}))
    finally:
        stop.set()
        t.join(timeout=30)
    assert renames[0] > 10, "the renames did not run alongside"
    assert not bad, "listing %d showed %r" % (listings, bad[0])


# -- limits ------------------------------------------------------------------------
def test_key_length_limit_is_visible(mount_factory):
    d = mount_factory(name="limits", args=["--log-level", "debug"])
    os.mkdir(d.path("limits"))
    sv = os.statvfs(d.path("limits"))
    assert sv.f_namemax == 255
    assert os.pathconf(d.path("limits"), "PC_NAME_MAX") == 255
    # 4 directories of 250 bytes (1,004 bytes of key with their '/'), then
    # a name that takes the key past 1,023 bytes.
    p = d.path("limits")
    for i in range(4):
        p = os.path.join(p, str(i) * 250)
        os.mkdir(p)
    write_file(os.path.join(p, "x" * 19), b"fits: 1,023 bytes")
    assert oserr(write_file, os.path.join(p, "y" * 20), b"x") == errno.ENAMETOOLONG
    assert oserr(os.mkdir, os.path.join(p, "y" * 20)) == errno.ENAMETOOLONG
    log = d.log_tail(1 << 20)
    assert "ENAMETOOLONG for " in log and "its key would be 1024 bytes; the mount takes 1023" in log, \
        log[-2000:]


# -- O_TMPFILE ---------------------------------------------------------------------
LINK_FD = r"""
import ctypes
def link_fd(fd, dst):
    # linkat(AT_FDCWD, "/proc/self/fd/N", AT_FDCWD, dst, AT_SYMLINK_FOLLOW):
    # how any user names an O_TMPFILE file (os.link calls link(2), which
    # does not follow the /proc link: EXDEV)
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.linkat(-100, ("/proc/self/fd/%d" % fd).encode(), -100, os.fsencode(dst), 0x400):
        e = ctypes.get_errno()
        raise OSError(e, os.strerror(e), dst)
"""
exec(LINK_FD)


def test_o_tmpfile_then_linkat_makes_an_object_at_once(bdir, s3):
    bk = os.path.basename(bdir)
    fd = os.open(bdir, os.O_TMPFILE | os.O_RDWR, 0o640)
    try:
        os.write(fd, b"written with no name")
        st = os.fstat(fd)
        assert (st.st_nlink, st.st_size, st.st_mode & 0o777) == (0, 20, 0o640)
        assert os.listdir(bdir) == []
        assert s3.list_objects_v2(Bucket=bk).get("KeyCount") == 0
        dst = os.path.join(bdir, "named")
        link_fd(fd, dst)
        # An object at once, before any close.
        assert s3.get_object(Bucket=bk, Key="named")["Body"].read() == b"written with no name"
        assert os.fstat(fd).st_nlink == 1
        assert os.stat(dst).st_ino == st.st_ino
        os.pwrite(fd, b"W", 0)  # still the same file: the next close commits it
    finally:
        os.close(fd)
    assert read_file(dst) == b"Written with no name"
    assert s3.get_object(Bucket=bk, Key="named")["Body"].read() == b"Written with no name"
    assert os.listdir(bdir) == ["named"]


def test_o_tmpfile_never_linked_leaves_nothing(bdir, s3):
    bk = os.path.basename(bdir)
    fd = os.open(bdir, os.O_TMPFILE | os.O_RDWR | os.O_EXCL, 0o600)
    try:
        os.write(fd, b"scratch")
        assert pread_all(fd, 100) == b"scratch"
        # O_EXCL: it can never have a name (the kernel refuses it)
        assert oserr(link_fd, fd, os.path.join(bdir, "x")) == errno.ENOENT
    finally:
        os.close(fd)
    assert os.listdir(bdir) == []
    assert s3.list_objects_v2(Bucket=bk).get("KeyCount") == 0


def test_o_tmpfile_unprivileged(bdir):
    needs_root()
    os.chmod(bdir, 0o777)
    res = run_as(NOBODY, NOBODY, LINK_FD + r'''
d = os.environ["D"]
fd = os.open(d, os.O_TMPFILE | os.O_WRONLY, 0o644)
os.write(fd, b"mine")
attempt("link", link_fd, fd, d + "/mine")
os.close(fd)
st = os.stat(d + "/mine")
res["owner"] = [st.st_uid, st.st_gid]
res["data"] = readf(d + "/mine").decode()
''', D=bdir)
    assert res == {"link": "ok", "owner": [NOBODY, NOBODY], "data": "mine"}
