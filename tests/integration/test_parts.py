"""GET/HEAD ?partNumber (a ranged GET of one part, with x-amz-mp-parts-count)
and UploadPartCopy, with boto3, awscli and raw requests."""
import hashlib
import os
import sqlite3
import subprocess

import pytest
from botocore.exceptions import ClientError

from s3util import USERS

MiB = 1024 * 1024
AWS = "/usr/bin/aws"


def client_error(fn, *args, **kwargs):
    with pytest.raises(ClientError) as ei:
        fn(*args, **kwargs)
    r = ei.value.response
    return r["ResponseMetadata"]["HTTPStatusCode"], r["Error"]["Code"]


def multipart(s3, bucket, key, parts):
    up = s3.create_multipart_upload(Bucket=bucket, Key=key)["UploadId"]
    etags = [s3.upload_part(Bucket=bucket, Key=key, UploadId=up, PartNumber=i,
                            Body=p)["ETag"] for i, p in enumerate(parts, 1)]
    s3.complete_multipart_upload(
        Bucket=bucket, Key=key, UploadId=up,
        MultipartUpload={"Parts": [{"PartNumber": i, "ETag": e}
                                   for i, e in enumerate(etags, 1)]})
    return up


def meta_query(daemon, sql, *args):
    db = sqlite3.connect("file:%s?mode=ro" % os.path.join(daemon.data, "meta.db"), uri=True)
    try:
        return db.execute(sql, args).fetchall()
    finally:
        db.close()


def ino_of(daemon, bucket, key):
    return meta_query(daemon, "SELECT ino FROM objects WHERE bucket = ? AND key = ?",
                      bucket, key)[0][0]


def part_rows(daemon, ino):
    return meta_query(daemon, "SELECT count(*) FROM object_parts WHERE ino = ?", ino)[0][0]


# -- GET/HEAD ?partNumber -------------------------------------------------------

def test_part_number_of_multipart_object(sigv4_daemon, alice, bucket):
    parts = [os.urandom(5 * MiB), os.urandom(5 * MiB + 17), os.urandom(1000)]
    multipart(alice, bucket, "mp", parts)
    off = 0
    for n, p in enumerate(parts, 1):
        r = alice.get_object(Bucket=bucket, Key="mp", PartNumber=n)
        assert r["ResponseMetadata"]["HTTPStatusCode"] == 206
        assert r["PartsCount"] == 3
        assert r["ContentLength"] == len(p)
        assert r["ContentRange"] == "bytes %d-%d/%d" % (off, off + len(p) - 1,
                                                        sum(map(len, parts)))
        assert r["Body"].read() == p
        h = alice.head_object(Bucket=bucket, Key="mp", PartNumber=n)
        assert (h["PartsCount"], h["ContentLength"]) == (3, len(p))
        off += len(p)
    assert client_error(alice.get_object, Bucket=bucket, Key="mp",
                        PartNumber=4) == (416, "InvalidPartNumber")
    assert client_error(alice.head_object, Bucket=bucket, Key="mp",
                        PartNumber=4)[0] == 416
    # Without partNumber the object is whole and no parts count is sent.
    r = alice.get_object(Bucket=bucket, Key="mp")
    assert "PartsCount" not in r and r["ContentLength"] == sum(map(len, parts))


def test_part_number_of_plain_object(alice, bucket):
    alice.put_object(Bucket=bucket, Key="plain", Body=b"hello world")
    r = alice.get_object(Bucket=bucket, Key="plain", PartNumber=1)
    assert r["Body"].read() == b"hello world"
    assert "PartsCount" not in r
    assert r["ContentRange"] == "bytes 0-10/11"
    assert client_error(alice.get_object, Bucket=bucket, Key="plain",
                        PartNumber=2) == (416, "InvalidPartNumber")


def test_part_number_bad_values(sigv4_daemon, alice, bucket):
    alice.put_object(Bucket=bucket, Key="k", Body=b"x" * 10)
    for v in ["0", "10001", "abc", "-1", "1x", ""]:
        r = sigv4_daemon.request("GET", "/%s/k?partNumber=%s" % (bucket, v), user="alice")
        assert (r.status, r.error_code()) == (400, "InvalidArgument"), v
    r = sigv4_daemon.request("GET", "/%s/k?partNumber=1" % bucket,
                             headers={"Range": "bytes=0-1"}, user="alice")
    assert (r.status, r.error_code()) == (400, "InvalidRequest")


def test_parts_forgotten_when_object_replaced_or_deleted(sigv4_daemon, alice, bucket):
    parts = [os.urandom(5 * MiB), b"tail"]
    multipart(alice, bucket, "re", parts)
    assert alice.get_object(Bucket=bucket, Key="re", PartNumber=2)["Body"].read() == b"tail"
    ino = ino_of(sigv4_daemon, bucket, "re")
    assert part_rows(sigv4_daemon, ino) == 1
    alice.put_object(Bucket=bucket, Key="re", Body=b"now plain")
    assert part_rows(sigv4_daemon, ino) == 0
    assert client_error(alice.get_object, Bucket=bucket, Key="re",
                        PartNumber=2) == (416, "InvalidPartNumber")
    assert alice.get_object(Bucket=bucket, Key="re",
                            PartNumber=1)["Body"].read() == b"now plain"
    multipart(alice, bucket, "gone", parts)
    ino = ino_of(sigv4_daemon, bucket, "gone")
    assert part_rows(sigv4_daemon, ino) == 1
    alice.delete_object(Bucket=bucket, Key="gone")
    assert part_rows(sigv4_daemon, ino) == 0


def test_parts_survive_restart(atriumd_factory, bucket_name):
    d = atriumd_factory("sigv4", "parts-restart")
    s3 = d.boto3("alice")
    s3.create_bucket(Bucket=bucket_name)
    parts = [os.urandom(5 * MiB), b"last part"]
    multipart(s3, bucket_name, "k", parts)
    d.restart()
    s3 = d.boto3("alice")
    r = s3.get_object(Bucket=bucket_name, Key="k", PartNumber=2)
    assert (r["PartsCount"], r["Body"].read()) == (2, b"last part")


# -- UploadPartCopy -------------------------------------------------------------

def test_upload_part_copy_boto3(alice, bucket, bucket_name, sigv4_daemon):
    src = os.urandom(6 * MiB + 123)
    alice.put_object(Bucket=bucket, Key="src", Body=src)
    other = sigv4_daemon.boto3("alice")
    other.create_bucket(Bucket=bucket_name + "-dst")
    dst = bucket_name + "-dst"
    up = alice.create_multipart_upload(Bucket=dst, Key="assembled")["UploadId"]
    # Part 1: the whole source; part 2: a range of it; part 3: a plain part.
    r1 = alice.upload_part_copy(Bucket=dst, Key="assembled", UploadId=up, PartNumber=1,
                                CopySource={"Bucket": bucket, "Key": "src"})
    r2 = alice.upload_part_copy(Bucket=dst, Key="assembled", UploadId=up, PartNumber=2,
                                CopySource="%s/src" % bucket,
                                CopySourceRange="bytes=100-5242979")
    r3 = alice.upload_part(Bucket=dst, Key="assembled", UploadId=up, PartNumber=3,
                           Body=b"tail")
    piece = src[100:5242980]
    assert r1["CopyPartResult"]["ETag"].strip('"') == hashlib.md5(src).hexdigest()
    assert r2["CopyPartResult"]["ETag"].strip('"') == hashlib.md5(piece).hexdigest()
    assert "LastModified" in r1["CopyPartResult"]
    parts = alice.list_parts(Bucket=dst, Key="assembled", UploadId=up)["Parts"]
    assert [(p["PartNumber"], p["Size"]) for p in parts] == [(1, len(src)), (2, len(piece)),
                                                             (3, 4)]
    etags = [r1["CopyPartResult"]["ETag"], r2["CopyPartResult"]["ETag"], r3["ETag"]]
    alice.complete_multipart_upload(
        Bucket=dst, Key="assembled", UploadId=up,
        MultipartUpload={"Parts": [{"PartNumber": i, "ETag": e}
                                   for i, e in enumerate(etags, 1)]})
    got = alice.get_object(Bucket=dst, Key="assembled")["Body"].read()
    assert got == src + piece + b"tail"
    assert alice.get_object(Bucket=dst, Key="assembled",
                            PartNumber=2)["Body"].read() == piece


def test_upload_part_copy_errors(sigv4_daemon, alice, bucket):
    alice.put_object(Bucket=bucket, Key="src", Body=b"0123456789")
    up = alice.create_multipart_upload(Bucket=bucket, Key="dst")["UploadId"]

    def put(headers, number=1, upload=up):
        return sigv4_daemon.request(
            "PUT", "/%s/dst?partNumber=%d&uploadId=%s" % (bucket, number, upload),
            headers=dict({"x-amz-copy-source": "/%s/src" % bucket}, **headers), user="alice")

    for rng in ["0-5", "bytes=5", "bytes=-5", "bytes=3-", "bytes=a-b", "bytes=0-1,2-3",
                "bytes=99999999999999999999-1"]:
        r = put({"x-amz-copy-source-range": rng})
        assert (r.status, r.error_code()) == (400, "InvalidArgument"), rng
        assert b"must be of the form" in r.body, rng
    for rng in ["bytes=0-10", "bytes=5-4", "bytes=10-10"]:
        r = put({"x-amz-copy-source-range": rng})
        assert (r.status, r.error_code()) == (400, "InvalidArgument"), rng
        assert b"not valid for source object" in r.body, rng
    r = put({"x-amz-copy-source-if-match": '"0000"'})
    assert (r.status, r.error_code()) == (412, "PreconditionFailed")
    r = put({"x-amz-copy-source": "/%s/missing" % bucket})
    assert (r.status, r.error_code()) == (404, "NoSuchKey")
    r = put({"x-amz-copy-source": "nobucketkey"})
    assert (r.status, r.error_code()) == (400, "InvalidArgument")
    r = put({}, upload="0" * 32)
    assert (r.status, r.error_code()) == (404, "NoSuchUpload")
    r = put({}, number=10001)
    assert (r.status, r.error_code()) == (400, "InvalidArgument")
    # None of that made a part; a good one does.
    assert "Parts" not in alice.list_parts(Bucket=bucket, Key="dst", UploadId=up)
    r = put({"x-amz-copy-source-range": "bytes=9-9"}, number=7)
    assert r.status == 200, r.body
    assert b"<CopyPartResult" in r.body
    parts = alice.list_parts(Bucket=bucket, Key="dst", UploadId=up)["Parts"]
    assert [(p["PartNumber"], p["Size"], p["ETag"].strip('"')) for p in parts] == \
        [(7, 1, hashlib.md5(b"9").hexdigest())]


def test_upload_part_copy_needs_read_permission(sigv4_daemon, alice, bucket):
    # A private file dropped into the UFS: imported with its mode, 0600,
    # owned by the daemon's user.
    path = os.path.join(sigv4_daemon.ufs, bucket, "secret")
    with open(path, "wb") as f:
        f.write(b"secret")
    os.chmod(path, 0o600)
    bob = sigv4_daemon.boto3("bob")
    bb = bucket + "-bob"
    bob.create_bucket(Bucket=bb)
    up = bob.create_multipart_upload(Bucket=bb, Key="k")["UploadId"]
    assert client_error(bob.upload_part_copy, Bucket=bb, Key="k", UploadId=up, PartNumber=1,
                        CopySource={"Bucket": bucket, "Key": "secret"}) == (403, "AccessDenied")


def aws_env(tmp_path):
    ak, sk, _ = USERS["alice"]
    cfg = tmp_path / "aws-config"
    creds = tmp_path / "aws-credentials"
    cfg.write_text("")
    creds.write_text("")
    return {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "LANG": "C.UTF-8",
            "AWS_ACCESS_KEY_ID": ak, "AWS_SECRET_ACCESS_KEY": sk,
            "AWS_DEFAULT_REGION": "us-east-1", "AWS_CONFIG_FILE": str(cfg),
            "AWS_SHARED_CREDENTIALS_FILE": str(creds), "AWS_PAGER": "",
            "AWS_MAX_ATTEMPTS": "1"}


def test_awscli_copies_large_object_with_upload_part_copy(sigv4_daemon, alice, bucket,
                                                          tmp_path):
    """awscli copies an object over its 8 MiB multipart threshold bucket to
    bucket with CreateMultipartUpload + UploadPartCopy (8 MiB ranges)."""
    data = os.urandom(20 * MiB + 5)
    alice.put_object(Bucket=bucket, Key="big.bin", Body=data, ContentType="text/x-big",
                     Metadata={"color": "blue"}, Tagging="team=storage")
    # awscli's default --copy-props also copies the source's tags
    # (GetObjectTagging, then Tagging on CreateMultipartUpload).
    p = subprocess.run([AWS, "--endpoint-url", sigv4_daemon.endpoint, "s3", "cp",
                        "s3://%s/big.bin" % bucket, "s3://%s/copy.bin" % bucket],
                       env=aws_env(tmp_path), capture_output=True, timeout=300,
                       stdin=subprocess.DEVNULL)
    assert p.returncode == 0, p.stderr.decode(errors="replace")
    r = alice.get_object(Bucket=bucket, Key="copy.bin")
    assert r["Body"].read() == data
    # It was a multipart copy: 8 MiB parts, and the metadata came along.
    assert r["ETag"].strip('"').endswith("-3")
    assert (r["ContentType"], r["Metadata"]) == ("text/x-big", {"color": "blue"})
    assert alice.get_object_tagging(Bucket=bucket, Key="copy.bin")["TagSet"] == \
        [{"Key": "team", "Value": "storage"}]
    h = alice.head_object(Bucket=bucket, Key="copy.bin", PartNumber=3)
    assert (h["PartsCount"], h["ContentLength"]) == (3, 4 * MiB + 5)
