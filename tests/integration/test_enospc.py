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
"""
import hashlib
import os
import subprocess

import pytest

import s3util
from conftest import Daemon

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


def assert_clean(d, bucket, expect_keys):
    """Listing == expect_keys == files under ufs/<bucket>; staging empty."""
    s3 = d.boto3("alice")
    listed = {c["Key"]: c["Size"] for c in s3.list_objects_v2(Bucket=bucket).get("Contents", [])}
    assert set(listed) == set(expect_keys), listed
    assert set(s3util.files_under(os.path.join(d.ufs, bucket))) == set(expect_keys)
    for k, body in expect_keys.items():
        r = d.request("GET", "/%s/%s" % (bucket, k), user="alice")
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
