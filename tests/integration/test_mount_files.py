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
