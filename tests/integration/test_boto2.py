"""Alluxio's documented boto 2 example, against --auth simple on /api/v1/s3."""
import hashlib
import io
import json
import math
import os
import pwd
import subprocess

import boto
import boto.s3.connection
from boto.exception import S3ResponseError
import pytest

ATRIUM = os.environ.get("ATRIUM") or os.path.abspath(
    os.path.join(os.path.dirname(__file__), "..", "..", "bin", "atrium"))


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


def owners(daemon, path):
    """{path: owner} of `atrium fs ls --json PATH` (unsigned: simple mode)."""
    env = {"PATH": "/usr/bin:/bin", "LANG": "C.UTF-8", "ATRIUM_ENDPOINT": daemon.endpoint}
    for k in ("ASAN_OPTIONS", "UBSAN_OPTIONS", "LSAN_OPTIONS"):
        if k in os.environ:
            env[k] = os.environ[k]
    p = subprocess.run([ATRIUM, "fs", "ls", "--json", path], env=env, capture_output=True,
                       timeout=60, stdin=subprocess.DEVNULL)
    assert p.returncode == 0, p.stderr
    return {e["path"]: e["owner"] for e in map(json.loads, p.stdout.decode().splitlines())}


@pytest.fixture(scope="module")
def alluxio_daemon(atriumd_factory):
    """Simple mode taking Alluxio's 1 MiB multipart chunks (--min-part-size 0)."""
    return atriumd_factory("simple", "boto2-alluxio", args=("--min-part-size", "0"))


def test_boto2_alluxio_page_verbatim(alluxio_daemon, tmp_path, monkeypatch):
    """The Python S3 client section of Alluxio's S3 API page, step by step:
    aws_access_key_id='' is "the user that was used to launch the proxy"
    (boto 2 then sends `Authorization: AWS :<sig>`), aws_access_key_id=
    'testuser' acts as testuser. Deviations, Python 3's: get_contents_as_
    string() returns bytes, and FileChunkIO (not in Debian) is replaced by
    upload_part_from_file's own size= on a file positioned at the chunk."""
    port = alluxio_daemon.port
    monkeypatch.chdir(tmp_path)
    daemon_user = pwd.getpwuid(os.geteuid()).pw_name

    # Create a connection
    conn = boto.connect_s3(
        aws_access_key_id='',
        aws_secret_access_key='',
        host='localhost',
        port=port,
        path='/api/v1/s3',
        is_secure=False,
        calling_format=boto.s3.connection.OrdinaryCallingFormat(),
    )
    # Create a bucket
    bucketName = 'bucket-for-testing'
    bucket = conn.create_bucket(bucketName)
    assert owners(alluxio_daemon, "/")["/" + bucketName] == daemon_user
    # List all buckets owned by the user
    assert bucketName in [b.name for b in conn.get_all_buckets()]

    # Authenticating as a user: the objects belong to testuser
    tconn = boto.connect_s3(
        aws_access_key_id='testuser',
        aws_secret_access_key='',
        host='localhost',
        port=port,
        path='/api/v1/s3',
        is_secure=False,
        calling_format=boto.s3.connection.OrdinaryCallingFormat(),
    )
    tbucket = tconn.create_bucket('testuser-bucket')
    tkey = tbucket.new_key('owned.txt')
    tkey.set_contents_from_string('mine')
    assert tbucket.get_key('owned.txt').get_contents_as_string() == b'mine'
    got = owners(alluxio_daemon, "/testuser-bucket")
    assert got == {"/testuser-bucket/owned.txt": "testuser"}, got
    assert owners(alluxio_daemon, "/")["/testuser-bucket"] == "testuser"
    tbucket.delete_key('owned.txt')
    tconn.delete_bucket('testuser-bucket')

    # PUT a small object
    smallObjectKey = 'small.txt'
    smallObjectContent = 'Hello World!'
    key = bucket.new_key(smallObjectKey)
    key.set_contents_from_string(smallObjectContent)
    # Get the small object
    assert smallObjectContent.encode() == key.get_contents_as_string()
    assert owners(alluxio_daemon, "/" + bucketName)["/%s/%s" % (bucketName, smallObjectKey)] \
        == daemon_user

    # Upload a large object (dd if=/dev/zero of=8mb.data bs=1048576 count=8)
    with open('8mb.data', 'wb') as f:
        f.write(b'\0' * 8 * 1048576)
    largeObjectKey = 'large.txt'
    largeObjectFile = '8mb.data'
    key = bucket.new_key(largeObjectKey)
    with open(largeObjectFile, 'rb') as f:
        key.set_contents_from_file(f)
    with open(largeObjectFile, 'rb') as f:
        largeObject = f.read()
    # Get the large object
    assert largeObject == key.get_contents_as_string()
    assert sorted(k.name for k in bucket.list()) == [largeObjectKey, smallObjectKey]

    # Delete the objects
    bucket.delete_key(smallObjectKey)
    bucket.delete_key(largeObjectKey)
    assert list(bucket.list()) == []

    # Initiate a multipart upload
    mp = bucket.initiate_multipart_upload(largeObjectKey)
    # Upload parts: a chunk size of 1MB
    sourceSize = os.stat(largeObjectFile).st_size
    chunkSize = 1048576
    chunkCount = int(math.ceil(sourceSize / float(chunkSize)))
    for i in range(chunkCount):
        offset = chunkSize * i
        bytes = min(chunkSize, sourceSize - offset)
        with open(largeObjectFile, 'rb') as fp:
            fp.seek(offset)
            mp.upload_part_from_file(fp, part_num=i + 1, size=bytes)
    # Complete the multipart upload
    mp.complete_upload()
    assert bucket.get_key(largeObjectKey).get_contents_as_string() == largeObject

    # Abort the multipart upload: non-completed uploads can be aborted
    mp = bucket.initiate_multipart_upload(largeObjectKey)
    with open(largeObjectFile, 'rb') as fp:
        mp.upload_part_from_file(fp, part_num=1, size=chunkSize)
    mp.cancel_upload()
    assert list(bucket.list_multipart_uploads()) == []

    # Delete the bucket
    bucket.delete_key(largeObjectKey)
    conn.delete_bucket(bucketName)
    assert bucketName not in [b.name for b in conn.get_all_buckets()]


def test_boto2_empty_key_is_an_error_in_sigv4_mode(sigv4_daemon, bucket_name):
    conn = boto.connect_s3(aws_access_key_id='', aws_secret_access_key='',
                           host="127.0.0.1", port=sigv4_daemon.port, is_secure=False,
                           calling_format=boto.s3.connection.OrdinaryCallingFormat())
    with pytest.raises(S3ResponseError) as ei:
        conn.create_bucket(bucket_name)
    assert ei.value.status == 400 and ei.value.error_code == "InvalidArgument", ei.value
    assert not os.path.exists(os.path.join(sigv4_daemon.ufs, bucket_name))


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
