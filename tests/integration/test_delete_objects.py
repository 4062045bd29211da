"""DeleteObjects (POST /bucket?delete) with boto3, awscli, boto 2 (SigV2) and
raw requests for the integrity-header, size and per-key rules."""
import base64
import hashlib
import json
import os
import subprocess
import zlib
from xml.sax.saxutils import escape

import boto
import boto.s3.connection
import pytest

from s3util import S3NS, USERS, checksum, files_under


@pytest.fixture
def s3(sigv4_daemon):
    return sigv4_daemon.boto3("alice")


def fill(s3, bucket, keys):
    s3.create_bucket(Bucket=bucket)
    for k in keys:
        s3.put_object(Bucket=bucket, Key=k, Body=b"" if k.endswith("/") else k.encode())


def listing(s3, bucket):
    return sorted(o["Key"] for o in s3.list_objects_v2(Bucket=bucket).get("Contents", []))


def body_of(keys, quiet=None, versions=None):
    x = "<Delete xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">"
    if quiet is not None:
        x += "<Quiet>%s</Quiet>" % quiet
    for i, k in enumerate(keys):
        v = "" if not versions or versions[i] is None else "<VersionId>%s</VersionId>" % versions[i]
        x += "<Object><Key>%s</Key>%s</Object>" % (escape(k), v)
    return (x + "</Delete>").encode()


def md5_b64(b):
    return base64.b64encode(hashlib.md5(b).digest()).decode()


def post_delete(d, bucket, body, headers=None, user="alice"):
    h = {"Content-MD5": md5_b64(body)} if headers is None else headers
    return d.request("POST", "/%s?delete" % bucket, headers=h, body=body, user=user)


def test_boto3_delete_objects(s3, sigv4_daemon, bucket_name):
    keys = ["a", "b/c", "b/d/e", "sp ace+plus", "\u00e9t\u00e9", "dir/"]
    fill(s3, bucket_name, keys)
    r = s3.delete_objects(Bucket=bucket_name, Delete={"Objects": [
        {"Key": k} for k in keys + ["missing"]]})
    assert sorted(d["Key"] for d in r["Deleted"]) == sorted(keys + ["missing"])
    assert "Errors" not in r
    assert listing(s3, bucket_name) == []
    # implied directories went with their last object
    assert files_under(os.path.join(sigv4_daemon.ufs, bucket_name)) == []
    assert os.listdir(os.path.join(sigv4_daemon.ufs, bucket_name)) == []


def test_boto3_delete_objects_quiet(s3, bucket_name):
    fill(s3, bucket_name, ["q1", "q2", "keep"])
    r = s3.delete_objects(Bucket=bucket_name, Delete={
        "Objects": [{"Key": "q1"}, {"Key": "q2"}], "Quiet": True})
    assert "Deleted" not in r and "Errors" not in r
    assert listing(s3, bucket_name) == ["keep"]


def test_delete_objects_per_key_errors(sigv4_daemon, bucket_name):
    alice, bob = sigv4_daemon.boto3("alice"), sigv4_daemon.boto3("bob")
    fill(alice, bucket_name, ["x", "y"])
    # bob may not write alice's bucket: every key fails on its own, 200 overall
    r = bob.delete_objects(Bucket=bucket_name, Delete={"Objects": [{"Key": "x"}, {"Key": "y"}],
                                                      "Quiet": True})
    assert r["ResponseMetadata"]["HTTPStatusCode"] == 200
    assert [(e["Key"], e["Code"]) for e in r["Errors"]] == [("x", "AccessDenied"),
                                                          ("y", "AccessDenied")]
    assert listing(alice, bucket_name) == ["x", "y"]
    # a version other than "null" does not exist in an unversioned bucket
    body = body_of(["x", "y", "k" * 1025], versions=["null", "3HL4kqtJlcpXroDTDmjVBH40Nrjfkd", None])
    r = post_delete(sigv4_daemon, bucket_name, body)
    assert r.status == 200, r
    root = r.xml()
    deleted = [(d.find(S3NS + "Key").text, d.find(S3NS + "VersionId").text)
               for d in root.findall(S3NS + "Deleted")]
    errors = [(e.find(S3NS + "Key").text, e.find(S3NS + "Code").text)
              for e in root.findall(S3NS + "Error")]
    assert deleted == [("x", "null")], r
    assert errors == [("y", "NoSuchVersion"), ("k" * 1025, "KeyTooLongError")], r
    assert listing(alice, bucket_name) == ["y"]


def test_delete_objects_needs_an_integrity_header(sigv4_daemon, s3, bucket_name):
    fill(s3, bucket_name, ["k"])
    body = body_of(["k"])
    r = post_delete(sigv4_daemon, bucket_name, body, headers={})
    assert r.status == 400 and r.error_code() == "InvalidRequest", r
    assert b"Content-Md5" in r.body
    r = post_delete(sigv4_daemon, bucket_name, body,
                    headers={"Content-MD5": md5_b64(b"something else")})
    assert r.status == 400 and r.error_code() == "BadDigest", r
    r = post_delete(sigv4_daemon, bucket_name, body, headers={"Content-MD5": "nope"})
    assert r.status == 400 and r.error_code() == "InvalidDigest", r
    sha = base64.b64encode(hashlib.sha256(body).digest()).decode()
    bad = base64.b64encode(hashlib.sha256(b"x").digest()).decode()
    r = post_delete(sigv4_daemon, bucket_name, body, headers={"x-amz-checksum-sha256": bad})
    assert r.status == 400 and r.error_code() == "BadDigest", r
    crc = base64.b64encode(zlib.crc32(b"x").to_bytes(4, "big")).decode()
    r = post_delete(sigv4_daemon, bucket_name, body, headers={"x-amz-checksum-crc32": crc})
    assert r.status == 400 and r.error_code() == "BadDigest", r
    assert listing(s3, bucket_name) == ["k"]
    r = post_delete(sigv4_daemon, bucket_name, body, headers={"x-amz-checksum-sha256": sha})
    assert r.status == 200, r
    s3.put_object(Bucket=bucket_name, Key="k", Body=b"k")
    crc = base64.b64encode(zlib.crc32(body).to_bytes(4, "big")).decode()
    r = post_delete(sigv4_daemon, bucket_name, body, headers={"x-amz-checksum-crc32": crc})
    assert r.status == 200, r
    assert listing(s3, bucket_name) == []
    # CRC32C and CRC64NVME are verified too (check values of "123456789")
    s3.put_object(Bucket=bucket_name, Key="k", Body=b"k")
    for name, good in [("x-amz-checksum-crc32c", "4waSgw=="),
                       ("x-amz-checksum-crc64nvme", "rosUhgp5mIg=")]:
        r = post_delete(sigv4_daemon, bucket_name, body, headers={name: good})
        assert r.status == 400 and r.error_code() == "BadDigest", r
    assert listing(s3, bucket_name) == ["k"]
    r = post_delete(sigv4_daemon, bucket_name, body,
                    headers={"x-amz-checksum-crc64nvme": checksum("crc64nvme", body)})
    assert r.status == 200, r
    assert listing(s3, bucket_name) == []


@pytest.mark.parametrize("body", [
    b"",
    b"not xml",
    b"<Delete></Delete>",                                # no Object
    b"<Delete><Object></Object></Delete>",               # no Key
    b"<Delete><Object><Key></Key></Object></Delete>",    # empty Key
    b"<Delete><Quiet>maybe</Quiet><Object><Key>k</Key></Object></Delete>",
    b"<Other><Object><Key>k</Key></Object></Other>",
    body_of(["k%d" % i for i in range(1001)]),           # over 1000 keys
], ids=["empty", "not-xml", "no-object", "no-key", "empty-key", "bad-quiet", "root",
        "1001-keys"])
def test_delete_objects_malformed(sigv4_daemon, s3, bucket_name, body):
    fill(s3, bucket_name, ["k"])
    r = post_delete(sigv4_daemon, bucket_name, body)
    assert r.status == 400 and r.error_code() == "MalformedXML", r
    assert listing(s3, bucket_name) == ["k"]


def test_delete_objects_1000_keys(sigv4_daemon, s3, bucket_name):
    fill(s3, bucket_name, ["keep"])
    keys = ["gone/%04d" % i for i in range(1000)]
    r = post_delete(sigv4_daemon, bucket_name, body_of(keys, quiet="true"))
    assert r.status == 200 and r.xml().findall(S3NS + "Error") == [], r


def test_delete_objects_body_too_large(sigv4_daemon, s3, bucket_name):
    fill(s3, bucket_name, ["k"])
    body = b"<Delete>" + b" " * (2 * 1024 * 1024) + b"</Delete>"
    r = post_delete(sigv4_daemon, bucket_name, body)
    assert r.status == 400 and r.error_code() == "MaxMessageLengthExceeded", r


def test_delete_objects_no_bucket(sigv4_daemon, bucket_name):
    r = post_delete(sigv4_daemon, bucket_name, body_of(["k"]))
    assert r.status == 404 and r.error_code() == "NoSuchBucket", r


def test_awscli_delete_objects_and_rm_recursive(sigv4_daemon, s3, bucket_name, tmp_path):
    keys = ["r/%d" % i for i in range(30)] + ["other"]
    fill(s3, bucket_name, keys)
    ak, sk, _ = USERS["alice"]
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "AWS_ACCESS_KEY_ID": ak,
           "AWS_SECRET_ACCESS_KEY": sk, "AWS_DEFAULT_REGION": "us-east-1",
           "AWS_CONFIG_FILE": str(tmp_path / "none"), "AWS_PAGER": ""}

    def aws(*args):
        p = subprocess.run(["/usr/bin/aws", "--endpoint-url", sigv4_daemon.endpoint] +
                           list(args), env=env, capture_output=True, timeout=120,
                           stdin=subprocess.DEVNULL)
        assert p.returncode == 0, (args, p.stdout, p.stderr)
        return p.stdout

    out = json.loads(aws("s3api", "delete-objects", "--bucket", bucket_name, "--delete",
                         json.dumps({"Objects": [{"Key": "r/0"}, {"Key": "r/1"}]})))
    assert sorted(d["Key"] for d in out["Deleted"]) == ["r/0", "r/1"]
    aws("s3", "rm", "--recursive", "s3://%s/r/" % bucket_name)
    assert listing(s3, bucket_name) == ["other"]


def test_boto2_delete_keys_sigv2(sigv4_daemon, bucket_name):
    ak, sk = sigv4_daemon.keys("alice")
    conn = boto.connect_s3(aws_access_key_id=ak, aws_secret_access_key=sk,
                           host="127.0.0.1", port=sigv4_daemon.port, is_secure=False,
                           calling_format=boto.s3.connection.OrdinaryCallingFormat())
    bucket = conn.create_bucket(bucket_name)
    for k in ["one", "two", "three"]:
        bucket.new_key(k).set_contents_from_string(k)
    res = bucket.delete_keys(["one", "two", "nope"])
    assert sorted(d.key for d in res.deleted) == ["nope", "one", "two"]
    assert res.errors == []
    assert [k.name for k in bucket.list()] == ["three"]
