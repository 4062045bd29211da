"""Signature V2, verified in sigv4 mode: boto3 with signature_version 's3'
(header) and its default presigner (query), boto 2 through the Alluxio
prefix, s3cmd --signature-v2, and raw requests for the refusals."""
import base64
import email.utils
import hashlib
import hmac
import os
import subprocess
import time

import boto
import boto.s3.connection
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from s3util import USERS, curl, md5hex, raw_request


def v2_client(d, user="alice", secret=None, prefix=""):
    import boto3
    ak, sk = d.keys(user)
    return boto3.client("s3", endpoint_url=d.endpoint + prefix, region_name="us-east-1",
                        aws_access_key_id=ak, aws_secret_access_key=secret or sk,
                        config=Config(signature_version="s3",
                                      s3={"addressing_style": "path"},
                                      retries={"total_max_attempts": 1}))


def v2_sign(sk, string_to_sign):
    return base64.b64encode(hmac.new(sk.encode(), string_to_sign.encode(),
                                     hashlib.sha1).digest()).decode()


@pytest.mark.parametrize("prefix", ["", "/api/v1/s3"], ids=["root", "api-v1-s3"])
def test_boto3_sigv2_header(sigv4_daemon, bucket_name, prefix):
    s3 = v2_client(sigv4_daemon, prefix=prefix)
    s3.create_bucket(Bucket=bucket_name)
    data = os.urandom(70000)
    key = "dir/a key+with %26 odd chars \u00e9"
    r = s3.put_object(Bucket=bucket_name, Key=key, Body=data, ContentType="text/x-v2",
                      Metadata={"one": "1", "two": "2"})
    assert r["ETag"].strip('"') == md5hex(data)
    g = s3.get_object(Bucket=bucket_name, Key=key)
    assert g["Body"].read() == data
    assert g["ContentType"] == "text/x-v2" and g["Metadata"] == {"one": "1", "two": "2"}
    # sub-resources and response-* overrides are part of the V2 resource
    g = s3.get_object(Bucket=bucket_name, Key=key, ResponseContentType="a/b", Range="bytes=0-9")
    assert g["ContentType"] == "a/b" and g["Body"].read() == data[:10]
    # Not ?location nor ListObjectsV2: botocore 1.29 signs their V2 resource
    # as "/b?location?location" and "/b?list-type=2" (its URI templates).
    assert [o["Key"] for o in s3.list_objects(Bucket=bucket_name, Prefix="dir/")
            ["Contents"]] == [key]
    s3.head_object(Bucket=bucket_name, Key=key)
    s3.delete_object(Bucket=bucket_name, Key=key)
    s3.delete_bucket(Bucket=bucket_name)


def test_boto3_sigv2_wrong_secret(sigv4_daemon, bucket_name):
    v2_client(sigv4_daemon).create_bucket(Bucket=bucket_name)
    bad = v2_client(sigv4_daemon, secret="not-the-secret")
    with pytest.raises(ClientError) as ei:
        bad.list_objects(Bucket=bucket_name)
    assert ei.value.response["Error"]["Code"] == "SignatureDoesNotMatch"
    assert ei.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403


def test_boto2_sigv2_through_alluxio_prefix(sigv4_daemon, bucket_name):
    ak, sk = sigv4_daemon.keys("bob")
    conn = boto.connect_s3(aws_access_key_id=ak, aws_secret_access_key=sk,
                           host="127.0.0.1", port=sigv4_daemon.port, path="/api/v1/s3",
                           is_secure=False,
                           calling_format=boto.s3.connection.OrdinaryCallingFormat())
    bucket = conn.create_bucket(bucket_name)
    assert os.path.isdir(os.path.join(sigv4_daemon.ufs, bucket_name))
    k = bucket.new_key("p/q.txt")
    k.set_contents_from_string("through the prefix", headers={"x-amz-meta-who": "bob"})
    got = bucket.get_key("p/q.txt")
    assert got.get_metadata("who") == "bob"
    assert got.get_contents_as_string() == b"through the prefix"
    # boto 2 presigned URL (query V2)
    url = k.generate_url(300)
    assert "Signature=" in url and "/api/v1/s3/" in url
    r = curl([url])
    assert r.status == 200 and r.body == b"through the prefix", r
    assert [x.name for x in bucket.list()] == ["p/q.txt"]
    bucket.delete_key("p/q.txt")
    conn.delete_bucket(bucket_name)


def test_presigned_v2_expired_and_tampered(sigv4_daemon, bucket_name):
    import boto3
    ak, sk = sigv4_daemon.keys("alice")
    s3 = boto3.client("s3", endpoint_url=sigv4_daemon.endpoint, region_name="us-east-1",
                      aws_access_key_id=ak, aws_secret_access_key=sk,
                      config=Config(s3={"addressing_style": "path"}))
    s3.create_bucket(Bucket=bucket_name)
    s3.put_object(Bucket=bucket_name, Key="k", Body=b"data")
    url = s3.generate_presigned_url("get_object", Params={"Bucket": bucket_name, "Key": "k"},
                                    ExpiresIn=300)
    assert "AWSAccessKeyId=" in url  # boto3 1.26 presigns with SigV2 by default
    assert curl([url]).body == b"data"
    expired = s3.generate_presigned_url("get_object",
                                        Params={"Bucket": bucket_name, "Key": "k"},
                                        ExpiresIn=-5)
    r = curl([expired])
    assert r.status == 403 and r.error_code() == "AccessDenied", r
    assert b"Request has expired" in r.body, r
    # a later Expires with the old signature
    exp = int(url.split("Expires=")[1].split("&")[0])
    r = curl([url.replace("Expires=%d" % exp, "Expires=%d" % (exp + 1))])
    assert r.status == 403 and r.error_code() == "SignatureDoesNotMatch", r
    # a presigned GET does not authorize a DELETE
    r = curl(["-X", "DELETE", url])
    assert r.status == 403 and r.error_code() == "SignatureDoesNotMatch", r
    assert s3.get_object(Bucket=bucket_name, Key="k")["Body"].read() == b"data"


def test_presigned_v2_at_most_a_week(sigv4_daemon, bucket_name):
    """SigV2's Expires is an absolute time with no bound of its own (a leaked
    URL would work for years): refused beyond SigV4's week."""
    import boto3
    ak, sk = sigv4_daemon.keys("alice")
    s3 = boto3.client("s3", endpoint_url=sigv4_daemon.endpoint, region_name="us-east-1",
                      aws_access_key_id=ak, aws_secret_access_key=sk,
                      config=Config(signature_version="s3", s3={"addressing_style": "path"}))
    s3.create_bucket(Bucket=bucket_name)
    s3.put_object(Bucket=bucket_name, Key="k", Body=b"data")
    week = 7 * 24 * 3600
    params = {"Bucket": bucket_name, "Key": "k"}
    for expires in (week + 120, 10 * 365 * 24 * 3600):
        url = s3.generate_presigned_url("get_object", Params=params, ExpiresIn=expires)
        assert "AWSAccessKeyId=" in url
        r = curl([url])
        assert (r.status, r.error_code()) == (403, "AccessDenied"), r
        assert b"at most 604800 seconds" in r.body, r
    url = s3.generate_presigned_url("get_object", Params=params, ExpiresIn=week - 120)
    r = curl([url])
    assert r.status == 200 and r.body == b"data", r


def test_sigv2_raw_refusals(sigv4_daemon, bucket_name):
    d = sigv4_daemon
    ak, sk, _ = USERS["alice"]
    v2_client(d).create_bucket(Bucket=bucket_name)
    path = "/%s/" % bucket_name

    def get(date=None, amz_date=None, auth=None):
        hdrs = {}
        if date:
            hdrs["Date"] = date
        if amz_date:
            hdrs["x-amz-date"] = amz_date
        if auth is None:
            sts = "GET\n\n\n%s\n%s%s" % ("" if amz_date else date,
                                        "x-amz-date:%s\n" % amz_date if amz_date else "",
                                        path)
            auth = "AWS %s:%s" % (ak, v2_sign(sk, sts))
        hdrs["Authorization"] = auth
        return raw_request(d.port, "GET", path, hdrs)

    now = time.time()
    assert get(date=email.utils.formatdate(now, usegmt=True)).status == 200
    assert get(amz_date=email.utils.formatdate(now, usegmt=True)).status == 200
    r = get(date=email.utils.formatdate(now - 16 * 60, usegmt=True))
    assert r.status == 403 and r.error_code() == "RequestTimeTooSkewed", r
    r = get(amz_date=email.utils.formatdate(now + 16 * 60, usegmt=True))
    assert r.status == 403 and r.error_code() == "RequestTimeTooSkewed", r
    r = get(auth="AWS %s" % ak, date=email.utils.formatdate(now, usegmt=True))
    assert r.status == 400 and r.error_code() == "InvalidArgument", r
    r = get(auth="AWS NOSUCHKEY:" + v2_sign(sk, "x"), date=email.utils.formatdate(now, usegmt=True))
    assert r.status == 403 and r.error_code() == "InvalidAccessKeyId", r
    r = raw_request(d.port, "GET", path, {"Authorization": "AWS %s:%s" % (ak, v2_sign(sk, "x"))})
    assert r.status == 403 and r.error_code() == "AccessDenied", r


def test_s3cmd_signature_v2(sigv4_daemon, bucket_name, tmp_path):
    ak, sk, _ = USERS["alice"]
    cfg = tmp_path / "s3cfg"
    hp = "127.0.0.1:%d" % sigv4_daemon.port
    cfg.write_text("[default]\naccess_key = %s\nsecret_key = %s\nhost_base = %s\n"
                   "host_bucket = %s\nuse_https = False\nsignature_v2 = True\n"
                   "bucket_location = us-east-1\n" % (ak, sk, hp, hp))
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "LANG": "C.UTF-8"}

    def s3cmd(*args):
        p = subprocess.run(["/usr/bin/s3cmd", "-c", str(cfg), "--no-progress",
                            "--signature-v2"] + list(args), env=env, capture_output=True,
                           timeout=120, stdin=subprocess.DEVNULL)
        assert p.returncode == 0, (args, p.stdout, p.stderr)
        return p.stdout.decode()

    s3cmd("mb", "s3://" + bucket_name)
    data = os.urandom(150 * 1024 + 3)
    src = tmp_path / "v2.bin"
    src.write_bytes(data)
    s3cmd("put", str(src), "s3://%s/v2/file.bin" % bucket_name)
    with open(os.path.join(sigv4_daemon.ufs, bucket_name, "v2", "file.bin"), "rb") as f:
        assert f.read() == data
    assert "s3://%s/v2/file.bin" % bucket_name in s3cmd("ls", "s3://%s/v2/" % bucket_name)
    info = s3cmd("info", "s3://%s/v2/file.bin" % bucket_name)
    assert md5hex(data) in info, info
    dst = tmp_path / "back.bin"
    s3cmd("get", "s3://%s/v2/file.bin" % bucket_name, str(dst))
    assert dst.read_bytes() == data
    url = s3cmd("signurl", "s3://%s/v2/file.bin" % bucket_name, "+300").strip()
    assert "Signature=" in url, url
    assert curl([url]).body == data
    s3cmd("del", "s3://%s/v2/file.bin" % bucket_name)
    s3cmd("rb", "s3://" + bucket_name)
    assert not os.path.exists(os.path.join(sigv4_daemon.ufs, bucket_name))
