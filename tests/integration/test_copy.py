"""CopyObject (PUT with x-amz-copy-source): boto3 copy_object and copy,
awscli s3 cp bucket-to-bucket and s3api copy-object, boto 2 (SigV2), and raw
requests for the edge cases."""
import email.utils
import json
import os
import subprocess

import boto
import boto.s3.connection
import pytest
from botocore.exceptions import ClientError

from s3util import S3NS, USERS, md5hex


def client_error(fn, **kw):
    with pytest.raises(ClientError) as ei:
        fn(**kw)
    r = ei.value.response
    return r["ResponseMetadata"]["HTTPStatusCode"], r["Error"]["Code"]


@pytest.fixture
def s3(sigv4_daemon):
    return sigv4_daemon.boto3("alice")


@pytest.fixture
def two_buckets(s3, bucket_name):
    a, b = bucket_name + "-a", bucket_name + "-b"
    s3.create_bucket(Bucket=a)
    s3.create_bucket(Bucket=b)
    return a, b


def test_copy_across_buckets_keeps_metadata(sigv4_daemon, s3, two_buckets):
    a, b = two_buckets
    data = os.urandom(3 * 1024 * 1024 + 17)
    s3.put_object(Bucket=a, Key="src/obj", Body=data, ContentType="image/x-src",
                  CacheControl="max-age=5", Metadata={"color": "blue"})
    src = s3.head_object(Bucket=a, Key="src/obj")
    r = s3.copy_object(Bucket=b, Key="dst/obj", CopySource={"Bucket": a, "Key": "src/obj"})
    res = r["CopyObjectResult"]
    assert res["ETag"].strip('"') == md5hex(data)
    assert res["LastModified"].timestamp() >= src["LastModified"].timestamp() - 1
    g = s3.get_object(Bucket=b, Key="dst/obj")
    assert g["Body"].read() == data
    assert g["ETag"].strip('"') == md5hex(data)
    assert g["ContentType"] == "image/x-src" and g["CacheControl"] == "max-age=5"
    assert g["Metadata"] == {"color": "blue"}
    # a real copy: another file, the source untouched
    sp = os.path.join(sigv4_daemon.ufs, a, "src", "obj")
    dp = os.path.join(sigv4_daemon.ufs, b, "dst", "obj")
    assert os.stat(sp).st_ino != os.stat(dp).st_ino
    with open(dp, "rb") as f:
        assert f.read() == data
    assert s3.get_object(Bucket=a, Key="src/obj")["Body"].read() == data
    # overwriting the source afterwards does not change the copy
    s3.put_object(Bucket=a, Key="src/obj", Body=b"new")
    assert s3.get_object(Bucket=b, Key="dst/obj")["Body"].read() == data


def test_copy_replace_metadata(s3, two_buckets):
    a, b = two_buckets
    s3.put_object(Bucket=a, Key="k", Body=b"hello", ContentType="text/plain",
                  Metadata={"old": "1"})
    s3.copy_object(Bucket=b, Key="k", CopySource={"Bucket": a, "Key": "k"},
                   MetadataDirective="REPLACE", ContentType="text/x-new",
                   Metadata={"new": "2"})
    h = s3.head_object(Bucket=b, Key="k")
    assert h["ContentType"] == "text/x-new" and h["Metadata"] == {"new": "2"}
    # COPY ignores metadata sent with the request
    s3.copy_object(Bucket=b, Key="k2", CopySource={"Bucket": a, "Key": "k"},
                   Metadata={"ignored": "x"})
    h = s3.head_object(Bucket=b, Key="k2")
    assert h["ContentType"] == "text/plain" and h["Metadata"] == {"old": "1"}


def test_copy_onto_itself(s3, bucket_name):
    s3.create_bucket(Bucket=bucket_name)
    s3.put_object(Bucket=bucket_name, Key="self", Body=b"same", Metadata={"v": "1"})
    assert client_error(s3.copy_object, Bucket=bucket_name, Key="self",
                        CopySource={"Bucket": bucket_name, "Key": "self"}) == \
        (400, "InvalidRequest")
    s3.copy_object(Bucket=bucket_name, Key="self", CopySource={"Bucket": bucket_name,
                                                               "Key": "self"},
                   MetadataDirective="REPLACE", Metadata={"v": "2"})
    g = s3.get_object(Bucket=bucket_name, Key="self")
    assert g["Body"].read() == b"same" and g["Metadata"] == {"v": "2"}
    # a storage class change is a change too (STANDARD is the only one)
    s3.copy_object(Bucket=bucket_name, Key="self", StorageClass="STANDARD",
                   CopySource={"Bucket": bucket_name, "Key": "self"})
    assert client_error(s3.copy_object, Bucket=bucket_name, Key="self",
                        StorageClass="GLACIER",
                        CopySource={"Bucket": bucket_name, "Key": "self"}) == \
        (400, "InvalidStorageClass")


@pytest.mark.parametrize("key", ["a b+c", "sp%ace/%41", "\u00e9t\u00e9/\u65e5\u672c",
                                 "q?uestion&amp=1", "dir/"],
                         ids=["space-plus", "percent", "unicode", "question", "dir-marker"])
def test_copy_odd_keys(s3, two_buckets, key):
    a, b = two_buckets
    body = b"" if key.endswith("/") else key.encode()
    s3.put_object(Bucket=a, Key=key, Body=body)
    s3.copy_object(Bucket=b, Key=key, CopySource={"Bucket": a, "Key": key})
    assert s3.get_object(Bucket=b, Key=key)["Body"].read() == body
    assert [o["Key"] for o in s3.list_objects_v2(Bucket=b)["Contents"]] == [key]


def test_copy_source_conditions(sigv4_daemon, s3, two_buckets):
    a, b = two_buckets
    s3.put_object(Bucket=a, Key="c", Body=b"cond")
    h = s3.head_object(Bucket=a, Key="c")
    etag, t = h["ETag"], h["LastModified"].timestamp()
    before = email.utils.formatdate(t - 60, usegmt=True)
    after = email.utils.formatdate(t + 60, usegmt=True)
    src = {"Bucket": a, "Key": "c"}
    ok = [dict(CopySourceIfMatch=etag), dict(CopySourceIfNoneMatch='"x"'),
          dict(CopySourceIfModifiedSince=before), dict(CopySourceIfUnmodifiedSince=after),
          # AWS: if-match true + if-unmodified-since false -> copies
          dict(CopySourceIfMatch=etag, CopySourceIfUnmodifiedSince=before)]
    bad = [dict(CopySourceIfMatch='"x"'), dict(CopySourceIfNoneMatch=etag),
           dict(CopySourceIfModifiedSince=after), dict(CopySourceIfUnmodifiedSince=before),
           # AWS: if-none-match false + if-modified-since true -> 412
           dict(CopySourceIfNoneMatch=etag, CopySourceIfModifiedSince=before)]
    for i, kw in enumerate(ok):
        s3.copy_object(Bucket=b, Key="ok%d" % i, CopySource=src, **kw)
    for i, kw in enumerate(bad):
        assert client_error(s3.copy_object, Bucket=b, Key="bad%d" % i, CopySource=src,
                            **kw) == (412, "PreconditionFailed"), kw
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket=b)["Contents"]]
    assert keys == ["ok%d" % i for i in range(len(ok))]


def test_copy_permissions(sigv4_daemon, s3, bucket_name):
    bob = sigv4_daemon.boto3("bob")
    s3.create_bucket(Bucket=bucket_name)
    bob.create_bucket(Bucket=bucket_name + "-bob")
    s3.put_object(Bucket=bucket_name, Key="public", Body=b"readable by all (0644)")
    # private by default: bob may not copy alice's object
    assert client_error(bob.copy_object, Bucket=bucket_name + "-bob", Key="mine",
                        CopySource={"Bucket": bucket_name, "Key": "public"}) == \
        (403, "AccessDenied")
    assert client_error(bob.get_object, Bucket=bucket_name + "-bob", Key="mine") == \
        (404, "NoSuchKey")
    # once alice lets every signed-in user read her bucket and the object,
    # bob may read it and write his own bucket
    s3.put_bucket_acl(Bucket=bucket_name, ACL="authenticated-read")
    s3.put_object_acl(Bucket=bucket_name, Key="public", ACL="authenticated-read")
    bob.copy_object(Bucket=bucket_name + "-bob", Key="mine",
                    CopySource={"Bucket": bucket_name, "Key": "public"})
    got = bob.get_object(Bucket=bucket_name + "-bob", Key="mine")
    assert got["Body"].read() == b"readable by all (0644)"
    # the copy belongs to bob
    r = bob.list_objects_v2(Bucket=bucket_name + "-bob", FetchOwner=True)
    assert r["Contents"][0]["Owner"]["ID"] == "bob"
    # but not write alice's bucket
    assert client_error(bob.copy_object, Bucket=bucket_name, Key="theirs",
                        CopySource={"Bucket": bucket_name + "-bob", "Key": "mine"}) == \
        (403, "AccessDenied")
    # a source the caller may not read: a private file dropped into the UFS
    # (imported with its mode, 0600, owned by the daemon's user)
    path = os.path.join(sigv4_daemon.ufs, bucket_name, "private")
    with open(path, "wb") as f:
        f.write(b"secret")
    os.chmod(path, 0o600)
    assert client_error(bob.copy_object, Bucket=bucket_name + "-bob", Key="stolen",
                        CopySource={"Bucket": bucket_name, "Key": "private"}) == \
        (403, "AccessDenied")
    assert client_error(bob.head_object, Bucket=bucket_name + "-bob", Key="stolen")[0] == 404


def test_copy_missing_and_malformed_sources(sigv4_daemon, s3, two_buckets):
    a, b = two_buckets
    s3.put_object(Bucket=a, Key="k", Body=b"k")
    assert client_error(s3.copy_object, Bucket=b, Key="x",
                        CopySource={"Bucket": a, "Key": "missing"}) == (404, "NoSuchKey")
    assert client_error(s3.copy_object, Bucket=b, Key="x",
                        CopySource={"Bucket": a + "-none", "Key": "k"}) == (404, "NoSuchBucket")
    assert client_error(s3.copy_object, Bucket=a + "-none", Key="x",
                        CopySource={"Bucket": a, "Key": "k"}) == (404, "NoSuchBucket")

    def raw(source, **hdrs):
        hdrs["x-amz-copy-source"] = source
        return sigv4_daemon.request("PUT", "/%s/x" % b, headers=hdrs, user="alice")

    for bad in ["nobucketnokey", "/%s" % a, "/%s/" % a, "/", "%zz"]:
        r = raw(bad)
        assert r.status == 400 and r.error_code() == "InvalidArgument", (bad, r)
    r = raw("/%s/k?versionId=null" % a)
    assert r.status == 200, r
    r = raw("%s/k?versionId=3HL4kqtJlcpXroDTDmjVBH40Nrjfkd" % a)
    assert r.status == 400 and r.error_code() == "InvalidArgument", r
    r = raw("/%s/k" % a, **{"x-amz-metadata-directive": "MERGE"})
    assert r.status == 400 and r.error_code() == "InvalidArgument", r
    r = raw("/%s/k" % a)
    assert r.status == 200, r
    root = r.xml()
    assert root.tag == S3NS + "CopyObjectResult"
    assert root.find(S3NS + "ETag").text == '"%s"' % md5hex(b"k")
    assert root.find(S3NS + "LastModified").text.endswith("Z")


def test_copy_tree_conflicts(s3, two_buckets):
    a, b = two_buckets
    s3.put_object(Bucket=a, Key="k", Body=b"k")
    s3.put_object(Bucket=a, Key="nonempty", Body=b"bytes")
    s3.put_object(Bucket=b, Key="file", Body=b"f")
    # an object below another, and a directory key with bytes: the side
    # form (test_keys.py)
    s3.copy_object(Bucket=b, Key="file/below", CopySource={"Bucket": a, "Key": "k"})
    assert s3.get_object(Bucket=b, Key="file")["Body"].read() == b"f"
    assert s3.get_object(Bucket=b, Key="file/below")["Body"].read() == b"k"
    s3.copy_object(Bucket=b, Key="dir/", CopySource={"Bucket": a, "Key": "nonempty"})
    assert s3.get_object(Bucket=b, Key="dir/")["Body"].read() == b"bytes"


def test_copy_multipart_source_gets_md5_etag(s3, two_buckets):
    """S3 gives a copy of a multipart object the MD5 of its bytes."""
    a, b = two_buckets
    part1, part2 = os.urandom(5 * 1024 * 1024), os.urandom(1000)
    up = s3.create_multipart_upload(Bucket=a, Key="mpu")["UploadId"]
    e1 = s3.upload_part(Bucket=a, Key="mpu", UploadId=up, PartNumber=1, Body=part1)["ETag"]
    e2 = s3.upload_part(Bucket=a, Key="mpu", UploadId=up, PartNumber=2, Body=part2)["ETag"]
    done = s3.complete_multipart_upload(Bucket=a, Key="mpu", UploadId=up, MultipartUpload={
        "Parts": [{"PartNumber": 1, "ETag": e1}, {"PartNumber": 2, "ETag": e2}]})
    assert done["ETag"].strip('"').endswith("-2")
    r = s3.copy_object(Bucket=b, Key="copy", CopySource={"Bucket": a, "Key": "mpu"})
    assert r["CopyObjectResult"]["ETag"].strip('"') == md5hex(part1 + part2)
    g = s3.get_object(Bucket=b, Key="copy")
    assert g["Body"].read() == part1 + part2
    assert g["ETag"].strip('"') == md5hex(part1 + part2)


def test_boto3_managed_copy(s3, two_buckets):
    a, b = two_buckets
    data = os.urandom(2 * 1024 * 1024)
    s3.put_object(Bucket=a, Key="m", Body=data, Metadata={"x": "y"})
    s3.copy({"Bucket": a, "Key": "m"}, b, "m2")
    g = s3.get_object(Bucket=b, Key="m2")
    assert g["Body"].read() == data and g["Metadata"] == {"x": "y"}


@pytest.fixture
def aws(sigv4_daemon, tmp_path):
    ak, sk, _ = USERS["alice"]
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "LANG": "C.UTF-8",
           "AWS_ACCESS_KEY_ID": ak, "AWS_SECRET_ACCESS_KEY": sk,
           "AWS_DEFAULT_REGION": "us-east-1", "AWS_CONFIG_FILE": str(tmp_path / "none"),
           "AWS_PAGER": ""}

    def call(*args):
        p = subprocess.run(["/usr/bin/aws", "--endpoint-url", sigv4_daemon.endpoint] +
                           list(args), env=env, capture_output=True, timeout=120,
                           stdin=subprocess.DEVNULL)
        assert p.returncode == 0, (args, p.stdout, p.stderr)
        return p.stdout
    return call


def test_awscli_s3_cp_between_buckets(aws, s3, two_buckets):
    a, b = two_buckets
    data = os.urandom(1024 * 1024 + 1)
    s3.put_object(Bucket=a, Key="x y/file", Body=data, ContentType="text/x-cli")
    aws("s3", "cp", "s3://%s/x y/file" % a, "s3://%s/copied/file" % b)
    g = s3.get_object(Bucket=b, Key="copied/file")
    assert g["Body"].read() == data and g["ContentType"] == "text/x-cli"
    aws("s3", "cp", "--recursive", "s3://%s/" % a, "s3://%s/all/" % b)
    assert s3.get_object(Bucket=b, Key="all/x y/file")["Body"].read() == data


def test_awscli_s3api_copy_object(aws, s3, two_buckets):
    a, b = two_buckets
    s3.put_object(Bucket=a, Key="k+1", Body=b"cli copy")
    # (botocore percent-encodes --copy-source itself)
    out = json.loads(aws("s3api", "copy-object", "--bucket", b, "--key", "k2",
                         "--copy-source", "%s/k+1" % a))
    assert out["CopyObjectResult"]["ETag"].strip('"') == md5hex(b"cli copy")
    assert s3.get_object(Bucket=b, Key="k2")["Body"].read() == b"cli copy"


def test_boto2_copy_key_sigv2(sigv4_daemon, bucket_name):
    ak, sk = sigv4_daemon.keys("alice")
    conn = boto.connect_s3(aws_access_key_id=ak, aws_secret_access_key=sk,
                           host="127.0.0.1", port=sigv4_daemon.port, is_secure=False,
                           calling_format=boto.s3.connection.OrdinaryCallingFormat())
    bucket = conn.create_bucket(bucket_name)
    bucket.new_key("orig").set_contents_from_string("v2 copy", headers={"x-amz-meta-a": "b"})
    k = bucket.copy_key("dup", bucket_name, "orig")
    assert k.etag.strip('"') == md5hex(b"v2 copy")
    got = bucket.get_key("dup")
    assert got.get_contents_as_string() == b"v2 copy" and got.get_metadata("a") == "b"
