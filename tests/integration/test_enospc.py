"""Disk full: a daemon whose data dir is a 16 MiB tmpfs.

The tmpfs is mounted on DATA (so meta.db and ufs/ are on it, the log and
credentials are not) and unmounted in every exit path by the fixture, after
the daemon is stopped. Checked: a PUT that does not fit is 507
InsufficientStorage, leaves no object, no file and nothing in .atrium/tmp,
and the daemon goes on serving reads and smaller writes; a part that does
not fit, and a completion whose assembly does not fit, fail the same way
and the upload stays usable (abort reclaims it); with the file system
filled to the last byte, a write whose only need is metadata space fails
cleanly or succeeds whole — never a half object.

The same through the mount (issue 7): a daemon on the same kind of tmpfs
started with --mount (the mount point beside DATA, not on the tmpfs). A
file written through the mount that does not fit fails with ENOSPC at
write() or close(), and leaves no object, no file and no stage; an
overwrite that does not fit keeps the old bytes whole for both doors; the
daemon goes on serving both doors.
"""
import errno
import hashlib
import os
import subprocess

import pytest

import conftest
import s3util
from conftest import Daemon, MountDaemon, force_unmount, mountinfo_entries

SIZE_MB = 16
MiB = 1024 * 1024


@pytest.fixture
def small_daemon(tmp_path):
    if os.geteuid() != 0:
        pytest.skip("mounting a tmpfs needs root")
    data = tmp_path / "data"
    data.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=%dm,mode=0755" % SIZE_MB,
                    "atrium-enospc", str(data)], check=True, timeout=30)
    d = None
    err = None
    try:
        d = Daemon(tmp_path, "sigv4", "enospc", ["--min-part-size", "0"])
        d.start()
        yield d
    finally:
        try:
            if d is not None:
                err = d.stop()
        finally:
            subprocess.run(["umount", str(data)], check=True, timeout=30)
    assert err is None, err + "\n" + d.log_tail()


def put(d, bucket, key, body):
    return d.request("PUT", "/%s/%s" % (bucket, key), body=body, user="alice", timeout=60)


def assert_507(r):
    assert r.status == 507 and r.error_code() == "InsufficientStorage", r


def assert_clean(d, bucket, expect_keys, user="alice"):
    """Listing == expect_keys == files under ufs/<bucket>; staging empty."""
    s3 = d.boto3(user)
    listed = {c["Key"]: c["Size"] for c in s3.list_objects_v2(Bucket=bucket).get("Contents", [])}
    assert set(listed) == set(expect_keys), listed
    assert set(s3util.files_under(os.path.join(d.ufs, bucket))) == set(expect_keys)
    for k, body in expect_keys.items():
        r = d.request("GET", "/%s/%s" % (bucket, k), user=user)
        assert r.status == 200 and r.body == body, (k, r.status)
    tmp = os.path.join(d.ufs, ".atrium", "tmp")
    assert not os.path.isdir(tmp) or os.listdir(tmp) == [], os.listdir(tmp)
    p = subprocess.run(["sqlite3", os.path.join(d.data, "meta.db"), "PRAGMA integrity_check"],
                       capture_output=True, text=True, timeout=60)
    assert p.stdout.strip() == "ok", p


def free_bytes(path):
    st = os.statvfs(path)
    return st.f_bavail * st.f_frsize


def test_put_that_does_not_fit(small_daemon):
    d = small_daemon
    b = s3util.unique_bucket("nospc")
    assert d.request("PUT", "/" + b, user="alice").status == 200
    small = os.urandom(4 * MiB)
    assert put(d, b, "small", small).status == 200
    big = os.urandom(14 * MiB)  # 4 + 14 > 16
    assert_507(put(d, b, "big", big))
    assert d.request("HEAD", "/%s/big" % b, user="alice").status == 404
    assert_clean(d, b, {"small": small})
    # an overwrite that does not fit keeps the old object whole
    assert_507(put(d, b, "small", big))
    assert_clean(d, b, {"small": small})
    # still serving: smaller writes, reads, deletes
    more = os.urandom(2 * MiB)
    r = put(d, b, "more", more)
    assert r.status == 200 and s3util.etag_md5(r.header("etag")) == hashlib.md5(more).hexdigest()
    assert_clean(d, b, {"small": small, "more": more})
    assert d.request("DELETE", "/%s/small" % b, user="alice").status == 204
    assert_clean(d, b, {"more": more})
    assert d.alive()


def test_multipart_that_does_not_fit(small_daemon):
    d = small_daemon
    b = s3util.unique_bucket("nospc-mpu")
    s3 = d.boto3("alice")
    s3.create_bucket(Bucket=b)
    up = s3.create_multipart_upload(Bucket=b, Key="mp")["UploadId"]
    p1, p2 = os.urandom(5 * MiB), os.urandom(5 * MiB)
    e1 = s3.upload_part(Bucket=b, Key="mp", UploadId=up, PartNumber=1, Body=p1)["ETag"]
    e2 = s3.upload_part(Bucket=b, Key="mp", UploadId=up, PartNumber=2, Body=p2)["ETag"]
    # a third part of 8 MiB does not fit beside 10 MiB of parts
    r = d.request("PUT", "/%s/mp?partNumber=3&uploadId=%s" % (b, up),
                  body=os.urandom(8 * MiB), user="alice", timeout=60)
    assert_507(r)
    parts = s3.list_parts(Bucket=b, Key="mp", UploadId=up).get("Parts", [])
    assert [p["PartNumber"] for p in parts] == [1, 2]
    assert_clean(d, b, {})
    # completing copies the 10 MiB of parts into a stage: does not fit either
    body = ("<CompleteMultipartUpload><Part><PartNumber>1</PartNumber><ETag>%s</ETag></Part>"
            "<Part><PartNumber>2</PartNumber><ETag>%s</ETag></Part>"
            "</CompleteMultipartUpload>" % (e1, e2))
    r = d.request("POST", "/%s/mp?uploadId=%s" % (b, up), body=body, user="alice", timeout=60)
    # S3 may have sent 200 already (keep-alive spaces while assembling): the
    # error is then in the body, as S3 does
    assert r.status in (200, 507) and r.error_code() == "InsufficientStorage", r
    assert d.request("HEAD", "/%s/mp" % b, user="alice").status == 404
    assert_clean(d, b, {})
    # the upload is untouched: abort reclaims its parts
    assert up in {u["UploadId"] for u in s3.list_multipart_uploads(Bucket=b).get("Uploads", [])}
    s3.abort_multipart_upload(Bucket=b, Key="mp", UploadId=up)
    mpu = os.path.join(d.ufs, ".atrium", "mpu")
    assert not os.path.isdir(mpu) or up not in os.listdir(mpu)
    # and a multipart upload that fits now completes
    up = s3.create_multipart_upload(Bucket=b, Key="mp")["UploadId"]
    e1 = s3.upload_part(Bucket=b, Key="mp", UploadId=up, PartNumber=1, Body=p1)["ETag"]
    s3.complete_multipart_upload(Bucket=b, Key="mp", UploadId=up, MultipartUpload={
        "Parts": [{"PartNumber": 1, "ETag": e1}]})
    assert_clean(d, b, {"mp": p1})
    assert d.alive()


def test_filled_to_the_last_byte(small_daemon):
    """Only metadata needs space: the request fails cleanly or succeeds whole."""
    d = small_daemon
    b = s3util.unique_bucket("nospc-full")
    assert d.request("PUT", "/" + b, user="alice").status == 200
    filler = os.path.join(d.data, "filler")  # on the tmpfs, outside ufs/
    outcomes = []
    expect = {}
    try:
        with open(filler, "wb", buffering=0) as f:
            chunk = b"\0" * MiB
            while chunk:
                try:
                    f.write(chunk)
                except OSError:
                    chunk = chunk[:len(chunk) // 2]
        assert free_bytes(d.data) == 0
        # empty objects (no data blocks, a stage inode and a row) and
        # metadata-heavy ones, until one fails
        for i in range(50):
            key = "k%03d" % i
            hdrs = {"x-amz-meta-pad": "p" * 1500}
            r = d.request("PUT", "/%s/%s" % (b, key), headers=hdrs, body=b"", user="alice")
            if r.status == 200:
                expect[key] = b""
                outcomes.append(200)
                continue
            assert r.status >= 500, r
            outcomes.append((r.status, r.error_code()))
            print("filled-disk: %s after %d successful PUTs" % (outcomes[-1], i))
            assert d.request("HEAD", "/%s/%s" % (b, key), user="alice").status in (404, 500, 507)
            break
        assert d.alive()
    finally:
        os.unlink(filler)
    assert_clean(d, b, expect)
    r = put(d, b, "after", b"x" * 1000)
    assert r.status == 200, r
    expect["after"] = b"x" * 1000
    assert_clean(d, b, expect)
    print("filled-disk outcomes:", outcomes)


# -- the same through the mount (issue 7) ---------------------------------------

@pytest.fixture
def small_mount(tmp_path):
    """A daemon on a SIZE_MB tmpfs DATA, mounted at tmp_path/mnt (not on the
    tmpfs). Stopped (SIGTERM, the daemon unmounts), then the FUSE mount
    detached if still listed, then the tmpfs unmounted: in every exit path."""
    if os.geteuid() != 0:
        pytest.skip("mounting a tmpfs needs root")
    if not os.path.exists("/dev/fuse"):
        pytest.skip("/dev/fuse is missing: no FUSE on this machine")
    data = tmp_path / "data"
    data.mkdir()
    mnt = str(tmp_path / "mnt")
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=%dm,mode=0755" % SIZE_MB,
                    "atrium-enospc", str(data)], check=True, timeout=30)
    d = None
    err = None
    try:
        d = MountDaemon(tmp_path, "sigv4", "enospc-mount", ["--min-part-size", "0"], mnt)
        # under mount_watchdog (a hung FUSE request kills it) and the
        # died-during-the-test check
        conftest._MOUNT_DAEMONS.append(d)
        conftest._ALL_DAEMONS.append(d)
        d.start()
        yield d
    finally:
        try:
            try:
                if d is not None:
                    err = d.stop()
            finally:
                if mountinfo_entries(mnt) and not force_unmount(mnt):
                    err = err or "%s is still mounted" % mnt
        finally:
            try:
                subprocess.run(["umount", str(data)], check=True, timeout=30)
            finally:
                for lst in (conftest._MOUNT_DAEMONS, conftest._ALL_DAEMONS):
                    if d in lst:
                        lst.remove(d)
    assert err is None, err + "\n" + d.log_tail()


def mount_write(path, data, flags=os.O_CREAT | os.O_TRUNC):
    """Writes data from offset 0 through the mount in 1 MiB write() calls, then
    closes. Returns (bytes written, errno of the failed write or None,
    errno of the failed close or None); any errno other than ENOSPC fails."""
    fd = os.open(path, os.O_WRONLY | flags, 0o644)
    cerr = None
    try:
        done, werr = write_until_error(fd, data)
    finally:
        try:
            os.close(fd)
        except OSError as e:
            cerr = e.errno
    assert werr in (None, errno.ENOSPC), "write: %s" % errno.errorcode.get(werr, werr)
    assert cerr in (None, errno.ENOSPC), "close: %s" % errno.errorcode.get(cerr, cerr)
    return done, werr, cerr


def write_until_error(fd, data):
    """Writes data in 1 MiB write()s until done or one fails: (bytes
    written, errno of the failure or None)."""
    done = 0
    while done < len(data):
        try:
            n = os.write(fd, data[done:done + MiB])
        except OSError as e:
            return done, e.errno
        assert n > 0
        done += n
    return done, None


def mount_read(path):
    fd = os.open(path, os.O_RDONLY)
    try:
        return s3util.read_fd_to_end(fd)
    finally:
        os.close(fd)


def assert_mount_shows(d, bucket, expect_keys):
    """The mount lists exactly expect_keys in bucket, each with its bytes."""
    bdir = d.path(bucket)
    assert sorted(os.listdir(bdir)) == sorted(expect_keys)
    for k, body in expect_keys.items():
        assert os.stat(os.path.join(bdir, k)).st_size == len(body), k
        got = mount_read(os.path.join(bdir, k))
        assert len(got) == len(body) and got == body, (k, len(got), len(body))


@pytest.mark.usefixtures("mount_watchdog")
def test_mount_write_that_does_not_fit(small_mount):
    d = small_mount
    b = s3util.unique_bucket("nospc-mnt")
    os.mkdir(d.path(b))
    small = os.urandom(4 * MiB)
    assert mount_write(d.path(b, "small"), small) == (len(small), None, None)
    assert_clean(d, b, {"small": small}, user="admin")
    big = os.urandom(14 * MiB)  # 4 + 14 > 16
    done, werr, cerr = mount_write(d.path(b, "big"), big)
    print("mount write of 14 MiB: %d bytes written, write %s, close %s" % (
        done, werr and errno.errorcode[werr], cerr and errno.errorcode[cerr]))
    assert werr == errno.ENOSPC or cerr == errno.ENOSPC, "the writer saw no ENOSPC"
    # no object, no file, no stage; the mount shows no half file
    assert d.request("HEAD", "/%s/big" % b, user="admin").status == 404
    assert_clean(d, b, {"small": small}, user="admin")
    assert_mount_shows(d, b, {"small": small})
    e = None
    try:
        os.stat(d.path(b, "big"))
    except OSError as x:
        e = x.errno
    assert e == errno.ENOENT, e
    # still serving: a smaller write through the mount, reads through both
    more = os.urandom(2 * MiB)
    assert mount_write(d.path(b, "more"), more) == (len(more), None, None)
    r = d.request("GET", "/%s/more" % b, user="admin")
    assert r.status == 200 and s3util.etag_md5(r.header("etag")) == hashlib.md5(more).hexdigest()
    assert_clean(d, b, {"small": small, "more": more}, user="admin")
    assert_mount_shows(d, b, {"small": small, "more": more})
    # and the name that failed can be written now that it fits
    os.unlink(d.path(b, "small"))
    assert mount_write(d.path(b, "big"), big[:8 * MiB]) == (8 * MiB, None, None)
    assert_clean(d, b, {"more": more, "big": big[:8 * MiB]}, user="admin")
    assert_mount_shows(d, b, {"more": more, "big": big[:8 * MiB]})
    assert d.alive()


@pytest.mark.usefixtures("mount_watchdog")
@pytest.mark.parametrize("how", ["trunc", "in-place"])
def test_mount_overwrite_that_does_not_fit(small_mount, how):
    """O_TRUNC: an empty shadow then 14 MiB; in place: the shadow copies the
    4 MiB first, then 14 MiB written from offset 0. Neither fits beside the
    committed 4 MiB: the old bytes stay whole for both doors."""
    d = small_mount
    b = s3util.unique_bucket("nospc-mow")
    os.mkdir(d.path(b))
    old = os.urandom(4 * MiB)
    assert mount_write(d.path(b, "f"), old) == (len(old), None, None)
    assert_mount_shows(d, b, {"f": old})  # in the kernel's page cache too
    big = os.urandom(14 * MiB)
    flags = os.O_TRUNC if how == "trunc" else 0
    done, werr, cerr = mount_write(d.path(b, "f"), big, flags)
    print("mount overwrite (%s) of 14 MiB: %d bytes written, write %s, close %s" % (
        how, done, werr and errno.errorcode[werr], cerr and errno.errorcode[cerr]))
    assert werr == errno.ENOSPC or cerr == errno.ENOSPC, "the writer saw no ENOSPC"
    assert_clean(d, b, {"f": old}, user="admin")
    assert_mount_shows(d, b, {"f": old})
    # still serving: an overwrite that fits
    new = os.urandom(3 * MiB)
    assert mount_write(d.path(b, "f"), new) == (len(new), None, None)
    assert_clean(d, b, {"f": new}, user="admin")
    assert_mount_shows(d, b, {"f": new})
    assert d.alive()


@pytest.mark.usefixtures("mount_watchdog")
@pytest.mark.parametrize("how", ["new", "overwrite"])
def test_mount_space_back_before_close(small_mount, how):
    """The disk fills during a write through the mount, then space comes
    back (an S3 DELETE) before the writer closes: the shadow missed a write
    (and holds part of it), so it is never committed — further writes and
    the close fail with ENOSPC, and S3 keeps no object (new file) or the old
    bytes (overwrite). Before the fix the close succeeded and published a
    prefix, longer than what write() had acknowledged."""
    d = small_mount
    b = s3util.unique_bucket("nospc-back")
    os.mkdir(d.path(b))
    old = os.urandom(4 * MiB)
    assert mount_write(d.path(b, "f"), old) == (len(old), None, None)
    filler = os.urandom(3 * MiB)
    assert d.request("PUT", "/%s/filler" % b, body=filler, user="admin").status == 200
    name = "g" if how == "new" else "f"
    big = os.urandom(14 * MiB)  # 4 + 3 + 14 > 16
    fd = os.open(d.path(b, name), os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    werr2, cerr = None, None
    try:
        done, werr = write_until_error(fd, big)
        assert werr == errno.ENOSPC, werr
        # space comes back: the file stays failed until it is closed
        assert d.request("DELETE", "/%s/filler" % b, user="admin").status == 204
        assert free_bytes(d.data) > 2 * MiB
        try:
            os.write(fd, b"x" * 4096)
        except OSError as e:
            werr2 = e.errno
        assert werr2 == errno.ENOSPC, werr2
    finally:
        try:
            os.close(fd)
        except OSError as e:
            cerr = e.errno
    assert cerr == errno.ENOSPC, cerr
    expect = {"f": old}
    assert_clean(d, b, expect, user="admin")
    assert_mount_shows(d, b, expect)
    # the name is writable again once every descriptor of it is closed
    assert mount_write(d.path(b, name), big[:5 * MiB]) == (5 * MiB, None, None)
    expect[name] = big[:5 * MiB]
    assert_clean(d, b, expect, user="admin")
    assert_mount_shows(d, b, expect)
    assert d.alive()
