"""Alluxio's documented boto 2 example, against --auth simple on /api/v1/s3."""
import hashlib
import io
import os

import boto
import boto.s3.connection
from boto.exception import S3ResponseError
import pytest


def connect(port):
    return boto.connect_s3(
        aws_access_key_id="testuser",
        aws_secret_access_key="",
        host="127.0.0.1",
        port=port,
        path="/api/v1/s3",
        is_secure=False,
        calling_format=boto.s3.connection.OrdinaryCallingFormat(),
    )


def test_boto2_alluxio_example(simple_daemon, bucket_name):
    conn = connect(simple_daemon.port)
    bucket = conn.create_bucket(bucket_name)
    assert os.path.isdir(os.path.join(simple_daemon.ufs, bucket_name))
    assert bucket_name in [b.name for b in conn.get_all_buckets()]

    key = bucket.new_key("small.txt")
    key.set_contents_from_string("Hello World!")
    assert key.etag.strip('"') == hashlib.md5(b"Hello World!").hexdigest()
    got = bucket.get_key("small.txt")
    assert got is not None
    assert got.size == 12
    assert got.get_contents_as_string() == b"Hello World!"

    big = os.urandom(8 * 1024 * 1024)
    large = bucket.new_key("large/file.bin")
    large.set_contents_from_file(io.BytesIO(big))
    assert large.etag.strip('"') == hashlib.md5(big).hexdigest()
    back = bucket.get_key("large/file.bin")
    assert back.size == len(big)
    assert back.etag.strip('"') == hashlib.md5(big).hexdigest()
    assert back.get_contents_as_string() == big

    assert sorted(k.name for k in bucket.list()) == ["large/file.bin", "small.txt"]

    bucket.delete_key("small.txt")
    bucket.delete_key("large/file.bin")
    assert list(bucket.list()) == []
    assert bucket.get_key("small.txt") is None

    conn.delete_bucket(bucket_name)
    with pytest.raises(S3ResponseError) as ei:
        conn.get_bucket(bucket_name)
    assert ei.value.status == 404
    assert bucket_name not in [b.name for b in conn.get_all_buckets()]


def test_boto2_sigv2_header_in_sigv4_mode(sigv4_daemon, bucket_name):
    """boto 2 signs S3 requests with SigV2 headers (Authorization: AWS AK:sig);
    DESIGN.md: sigv4 mode verifies 'SigV4 header or query, SigV2 header or query'."""
    ak, sk = sigv4_daemon.keys("alice")
    conn = boto.connect_s3(aws_access_key_id=ak, aws_secret_access_key=sk,
                           host="127.0.0.1", port=sigv4_daemon.port, is_secure=False,
                           calling_format=boto.s3.connection.OrdinaryCallingFormat())
    bucket = conn.create_bucket(bucket_name)
    k = bucket.new_key("v2.txt")
    k.set_contents_from_string("signed with v2")
    assert bucket.get_key("v2.txt").get_contents_as_string() == b"signed with v2"
    bad = boto.connect_s3(aws_access_key_id=ak, aws_secret_access_key="wrong",
                          host="127.0.0.1", port=sigv4_daemon.port, is_secure=False,
                          calling_format=boto.s3.connection.OrdinaryCallingFormat())
    with pytest.raises(S3ResponseError) as ei:
        bad.get_bucket(bucket_name).get_key("v2.txt")
    assert ei.value.status == 403
    bucket.delete_key("v2.txt")
    conn.delete_bucket(bucket_name)
