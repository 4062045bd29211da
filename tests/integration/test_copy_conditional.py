"""Conditional writes on CopyObject's destination: If-None-Match: * and
If-Match (412 PreconditionFailed, 404 NoSuchKey for If-Match with nothing
there, 501 for another If-None-Match), as PutObject has them; the source's
own x-amz-copy-source-if-* still apply. boto3 (the SDK's IfNoneMatch /
IfMatch where it has them, headers added through an event otherwise),
awscli and raw requests. The race (409 ConditionalRequestConflict) is
driven in tests/unit/test_copy.c, where the commit can be interleaved."""
import json

import pytest

from s3util import awscli, client_error, md5hex


@pytest.fixture
def s3(sigv4_daemon):
    return sigv4_daemon.boto3("alice")


@pytest.fixture
def bucket(s3, bucket_name):
    s3.create_bucket(Bucket=bucket_name)
    s3.put_object(Bucket=bucket_name, Key="src", Body=b"the source")
    return bucket_name


def with_headers(s3, headers):
    """Adds headers to the next CopyObject calls of s3 (older botocore has
    no IfMatch/IfNoneMatch on CopyObject)."""
    def add(params, **_kw):
        params["headers"].update(headers)
    s3.meta.events.register("before-call.s3.CopyObject", add)
    return s3


def copy(s3, bucket, key, **kw):
    return s3.copy_object(Bucket=bucket, Key=key, CopySource={"Bucket": bucket, "Key": "src"},
                          **kw)


def body(s3, bucket, key):
    return s3.get_object(Bucket=bucket, Key=key)["Body"].read()


def test_copy_if_none_match(sigv4_daemon, s3, bucket):
    c = with_headers(sigv4_daemon.boto3("alice"), {"If-None-Match": "*"})
    r = copy(c, bucket, "new")
    assert r["CopyObjectResult"]["ETag"].strip('"') == md5hex(b"the source")
    assert body(s3, bucket, "new") == b"the source"
    s3.put_object(Bucket=bucket, Key="taken", Body=b"mine")
    assert client_error(copy, c, bucket, "taken") == (412, "PreconditionFailed")
    assert body(s3, bucket, "taken") == b"mine"
    # an implied directory is no object; only '*' is taken
    s3.put_object(Bucket=bucket, Key="d/x", Body=b"x")
    s3.put_object(Bucket=bucket, Key="empty", Body=b"")
    c.copy_object(Bucket=bucket, Key="d/", CopySource={"Bucket": bucket, "Key": "empty"})
    assert client_error(c.copy_object, Bucket=bucket, Key="d/",
                        CopySource={"Bucket": bucket, "Key": "empty"}) == \
        (412, "PreconditionFailed")
    c2 = with_headers(sigv4_daemon.boto3("alice"), {"If-None-Match": '"abc"'})
    assert client_error(copy, c2, bucket, "other") == (501, "NotImplemented")


def test_copy_if_match(sigv4_daemon, s3, bucket):
    etag = s3.put_object(Bucket=bucket, Key="dst", Body=b"old")["ETag"]
    bad = with_headers(sigv4_daemon.boto3("alice"),
                       {"If-Match": '"%s"' % ("0" * 32)})
    assert client_error(copy, bad, bucket, "dst") == (412, "PreconditionFailed")
    assert body(s3, bucket, "dst") == b"old"
    assert client_error(copy, bad, bucket, "nothing-here") == (404, "NoSuchKey")
    good = with_headers(sigv4_daemon.boto3("alice"), {"If-Match": etag})
    copy(good, bucket, "dst")
    assert body(s3, bucket, "dst") == b"the source"
    # the old ETag no longer matches
    assert client_error(copy, good, bucket, "dst") == (412, "PreconditionFailed")
    star = with_headers(sigv4_daemon.boto3("alice"), {"If-Match": "*"})
    copy(star, bucket, "dst")
    assert client_error(copy, star, bucket, "absent") == (404, "NoSuchKey")


def test_copy_conditions_with_source_conditions(sigv4_daemon, s3, bucket):
    c = with_headers(sigv4_daemon.boto3("alice"), {"If-None-Match": "*"})
    # the source's condition fails first: still a 412, nothing written
    assert client_error(copy, c, bucket, "n1", CopySourceIfMatch='"nope"') == \
        (412, "PreconditionFailed")
    assert client_error(s3.head_object, Bucket=bucket, Key="n1") == (404, "404")
    copy(c, bucket, "n1", CopySourceIfMatch=md5hex(b"the source"))
    assert body(s3, bucket, "n1") == b"the source"


def test_copy_conditions_raw(sigv4_daemon, s3, bucket):
    path = "/%s/raw" % bucket
    src = {"x-amz-copy-source": "/%s/src" % bucket}
    r = sigv4_daemon.request("PUT", path, dict(src, **{"If-None-Match": "*"}), user="alice")
    assert r.status == 200, r
    r = sigv4_daemon.request("PUT", path, dict(src, **{"If-None-Match": "*"}), user="alice")
    assert (r.status, r.error_code()) == (412, "PreconditionFailed"), r
    r = sigv4_daemon.request("PUT", path, dict(src, **{"If-Match": "x" * 100}), user="alice")
    assert (r.status, r.error_code()) == (412, "PreconditionFailed"), r
    # bob may read alice's source, but not write her bucket
    r = sigv4_daemon.request("PUT", path, dict(src, **{"If-None-Match": "*"}), user="bob")
    assert (r.status, r.error_code()) == (403, "AccessDenied"), r


def test_awscli_copy_object_conditional(sigv4_daemon, s3, bucket, tmp_path):
    aws = awscli(sigv4_daemon, tmp_path)
    args = ["s3api", "copy-object", "--bucket", bucket, "--copy-source", "%s/src" % bucket]
    p = aws(*args, "--key", "cli", "--if-none-match", "*", check=False)
    if "Unknown options" in p.stderr:
        pytest.skip("this awscli has no --if-none-match on copy-object")
    assert p.returncode == 0, p
    out = json.loads(p.stdout)
    assert out["CopyObjectResult"]["ETag"].strip('"') == md5hex(b"the source")
    p = aws(*args, "--key", "cli", "--if-none-match", "*", check=False)
    assert p.returncode != 0 and "PreconditionFailed" in p.stderr, p
    p = aws(*args, "--key", "cli", "--if-match", '"%s"' % ("0" * 32), check=False)
    assert p.returncode != 0 and "PreconditionFailed" in p.stderr, p
