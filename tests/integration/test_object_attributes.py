"""GetObjectAttributes (GET ?attributes with x-amz-object-attributes): ETag,
Checksum, ObjectParts, StorageClass, ObjectSize and Last-Modified; the
errors (InvalidArgument for a missing or unknown attribute or a bad
x-amz-max-parts, NoSuchKey, NoSuchBucket, AccessDenied). boto3, awscli and
raw requests."""
import base64
import datetime
import json
import os
import zlib

import pytest

from s3util import S3NS, awscli, client_error, md5hex

ALL = ["ETag", "Checksum", "ObjectParts", "StorageClass", "ObjectSize"]


@pytest.fixture(scope="module")
def daemon(atriumd_factory):
    # small parts, so multipart objects are cheap
    return atriumd_factory("sigv4", "attributes", ["--min-part-size", "0"])


@pytest.fixture
def s3(daemon):
    return daemon.boto3("alice")


@pytest.fixture
def bucket(s3, bucket_name):
    s3.create_bucket(Bucket=bucket_name)
    return bucket_name


def attrs(s3, bucket, key, which=ALL, **kw):
    r = s3.get_object_attributes(Bucket=bucket, Key=key, ObjectAttributes=which, **kw)
    r.pop("ResponseMetadata")
    return r


def crc32_b64(data):
    return base64.b64encode(zlib.crc32(data).to_bytes(4, "big")).decode()


def multipart(s3, bucket, key, parts, **create):
    up = s3.create_multipart_upload(Bucket=bucket, Key=key, **create)["UploadId"]
    done = []
    for i, p in enumerate(parts, 1):
        kw = {"ChecksumAlgorithm": create["ChecksumAlgorithm"]} if create else {}
        r = s3.upload_part(Bucket=bucket, Key=key, UploadId=up, PartNumber=i, Body=p, **kw)
        part = {"PartNumber": i, "ETag": r["ETag"]}
        for k in ("ChecksumCRC32", "ChecksumCRC32C", "ChecksumSHA1", "ChecksumSHA256"):
            if k in r:
                part[k] = r[k]
        done.append(part)
    return s3.complete_multipart_upload(Bucket=bucket, Key=key, UploadId=up,
                                        MultipartUpload={"Parts": done})


def test_attributes_of_a_simple_object(s3, bucket, daemon):
    data = b"attributes of a plain object"
    s3.put_object(Bucket=bucket, Key="k", Body=data, ChecksumAlgorithm="CRC32")
    head = s3.head_object(Bucket=bucket, Key="k")
    r = s3.get_object_attributes(Bucket=bucket, Key="k", ObjectAttributes=ALL)
    assert r["ETag"] == md5hex(data)  # unquoted here
    assert r["ObjectSize"] == len(data)
    assert r["StorageClass"] == "STANDARD"
    assert r["Checksum"]["ChecksumCRC32"] == crc32_b64(data)
    assert r["Checksum"].get("ChecksumType", "FULL_OBJECT") == "FULL_OBJECT"
    assert "ObjectParts" not in r  # not a multipart object
    assert r["LastModified"] == head["LastModified"]
    # only what was asked for
    assert attrs(s3, bucket, "k", ["ObjectSize"]).keys() == {"LastModified", "ObjectSize"}
    assert attrs(s3, bucket, "k", ["ETag", "StorageClass"]).keys() == \
        {"LastModified", "ETag", "StorageClass"}


def test_attributes_without_checksum(s3, bucket, daemon):
    # a raw PUT sends no x-amz-checksum-*: no Checksum element
    r = daemon.request("PUT", "/%s/plain" % bucket, body=b"plain", user="alice")
    assert r.status == 200, r
    r = attrs(s3, bucket, "plain")
    assert "Checksum" not in r and r["ObjectSize"] == 5 and r["ETag"] == md5hex(b"plain")
    # a directory marker is an object of size 0
    s3.put_object(Bucket=bucket, Key="dir/", Body=b"")
    assert attrs(s3, bucket, "dir/", ["ObjectSize"])["ObjectSize"] == 0


def test_attributes_of_a_multipart_object(s3, bucket, daemon):
    parts = [os.urandom(1000), os.urandom(2000), os.urandom(10)]
    # raw CreateMultipartUpload: no checksum algorithm at all
    r = daemon.request("POST", "/%s/mp?uploads" % bucket, user="alice")
    up = r.xml().find(S3NS + "UploadId").text
    etags = []
    for i, p in enumerate(parts, 1):
        r = daemon.request("PUT", "/%s/mp?partNumber=%d&uploadId=%s" % (bucket, i, up),
                           body=p, user="alice")
        etags.append(r.header("ETag"))
    body = "<CompleteMultipartUpload>%s</CompleteMultipartUpload>" % "".join(
        "<Part><PartNumber>%d</PartNumber><ETag>%s</ETag></Part>" % (i, e)
        for i, e in enumerate(etags, 1))
    r = daemon.request("POST", "/%s/mp?uploadId=%s" % (bucket, up), body=body, user="alice")
    assert r.status == 200, r
    etag = s3.head_object(Bucket=bucket, Key="mp")["ETag"].strip('"')
    r = attrs(s3, bucket, "mp")
    assert r["ETag"] == etag and etag.endswith("-3")
    assert r["ObjectSize"] == sum(map(len, parts))
    # without part checksums: the parts' numbers and sizes (issue 16)
    assert r["ObjectParts"] == {
        "TotalPartsCount": 3, "PartNumberMarker": 0, "NextPartNumberMarker": 3,
        "MaxParts": 1000, "IsTruncated": False,
        "Parts": [{"PartNumber": i, "Size": len(p)} for i, p in enumerate(parts, 1)]}
    assert "Checksum" not in r


def test_attributes_errors(s3, bucket, bucket_name, daemon):
    s3.put_object(Bucket=bucket, Key="k", Body=b"x")
    path = "/%s/k?attributes" % bucket
    for hdrs in ({}, {"x-amz-object-attributes": ""},
                 {"x-amz-object-attributes": "ETag,Bogus"},
                 {"x-amz-object-attributes": "etag"},
                 {"x-amz-object-attributes": "ETag,"}):
        r = daemon.request("GET", path, hdrs, user="alice")
        assert (r.status, r.error_code()) == (400, "InvalidArgument"), (hdrs, r)
    for bad in ("-1", "x", ""):
        r = daemon.request("GET", path, {"x-amz-object-attributes": "ObjectParts",
                                         "x-amz-max-parts": bad}, user="alice")
        assert (r.status, r.error_code()) == (400, "InvalidArgument"), (bad, r)
        r = daemon.request("GET", path, {"x-amz-object-attributes": "ObjectParts",
                                         "x-amz-part-number-marker": bad}, user="alice")
        assert (r.status, r.error_code()) == (400, "InvalidArgument"), (bad, r)
    r = daemon.request("GET", path, {"x-amz-object-attributes": "ETag, ObjectSize"},
                       user="alice")
    assert r.status == 200 and r.header("Last-Modified"), r
    assert r.xml().tag == S3NS + "GetObjectAttributesResponse", r
    assert r.xml().find(S3NS + "ETag").text == md5hex(b"x")
    assert client_error(s3.get_object_attributes, Bucket=bucket, Key="missing",
                        ObjectAttributes=["ETag"]) == (404, "NoSuchKey")
    assert client_error(s3.get_object_attributes, Bucket=bucket_name + "-none", Key="k",
                        ObjectAttributes=["ETag"]) == (404, "NoSuchBucket")
    r = daemon.request("GET", path, {"x-amz-object-attributes": "ETag"})  # anonymous
    assert (r.status, r.error_code()) == (403, "AccessDenied"), r


def test_awscli_get_object_attributes(daemon, s3, bucket, tmp_path):
    s3.put_object(Bucket=bucket, Key="cli key", Body=b"via the cli", ChecksumAlgorithm="SHA256")
    aws = awscli(daemon, tmp_path)
    out = json.loads(aws("s3api", "get-object-attributes", "--bucket", bucket, "--key",
                         "cli key", "--object-attributes", "ETag", "ObjectSize",
                         "StorageClass", "Checksum").stdout)
    assert out["ETag"] == md5hex(b"via the cli")
    assert out["ObjectSize"] == len(b"via the cli")
    assert out["StorageClass"] == "STANDARD"
    assert "ChecksumSHA256" in out["Checksum"]
    assert datetime.datetime.fromisoformat(out["LastModified"].replace("Z", "+00:00"))
    p = aws("s3api", "get-object-attributes", "--bucket", bucket, "--key", "absent",
            "--object-attributes", "ETag", check=False)
    assert p.returncode != 0 and "NoSuchKey" in p.stderr, p
