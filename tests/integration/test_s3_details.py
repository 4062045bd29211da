"""Protocol details where Atrium differed from AWS (issue 16): listings
(an empty delimiter, max-keys=0, v1's Prefix), presigned X-Amz-Expires=0,
Content-Encoding with aws-chunked on a plain payload, tag order, and
GetObjectAttributes' parts of an object uploaded without checksums."""
import datetime
import os
import xml.etree.ElementTree as ET

import pytest

from s3util import S3NS, client_error, xml_text


@pytest.fixture(scope="module")
def daemon(atriumd_factory):
    return atriumd_factory("sigv4", "details", ["--min-part-size", "0"])


@pytest.fixture
def s3(daemon):
    return daemon.boto3("alice")


@pytest.fixture
def bucket(s3, bucket_name):
    s3.create_bucket(Bucket=bucket_name)
    return bucket_name


# -- listings -------------------------------------------------------------------

@pytest.mark.parametrize("v2", [False, True])
def test_empty_delimiter_is_not_echoed(daemon, bucket, s3, v2):
    s3.put_object(Bucket=bucket, Key="a/b", Body=b"x")
    r = daemon.request("GET", "/%s?delimiter=%s" % (bucket, "&list-type=2" if v2 else ""),
                       user="alice")
    assert r.status == 200, r
    root = r.xml()
    # AWS leaves Delimiter out when it is empty (and lists without one).
    assert root.find(S3NS + "Delimiter") is None, r.body
    assert [c.find(S3NS + "Key").text for c in root.findall(S3NS + "Contents")] == ["a/b"]
    assert root.find(S3NS + "CommonPrefixes") is None


@pytest.mark.parametrize("v2", [False, True])
def test_max_keys_zero_is_not_truncated(daemon, bucket, s3, v2):
    s3.put_object(Bucket=bucket, Key="k", Body=b"x")
    r = daemon.request("GET", "/%s?max-keys=0%s" % (bucket, "&list-type=2" if v2 else ""),
                       user="alice")
    assert r.status == 200, r
    assert xml_text(r, "IsTruncated") == "false", r.body
    assert xml_text(r, "MaxKeys") == "0"
    assert r.xml().find(S3NS + "Contents") is None
    assert r.xml().find(S3NS + "NextContinuationToken") is None
    if v2:
        assert xml_text(r, "KeyCount") == "0"


def test_list_v1_prefix_never_url_encoded(daemon, bucket, s3):
    s3.put_object(Bucket=bucket, Key="a\nb c+d", Body=b"x")
    q = "prefix=a%0Ab%20c%2B&marker=a%0A"
    r = daemon.request("GET", "/%s?%s" % (bucket, q), user="alice")
    assert r.status == 200, r
    assert xml_text(r, "Prefix") == "a\nb c+", r.body
    assert xml_text(r, "Marker") == "a\n", r.body
    # v1 echoes Prefix as sent even with encoding-type=url (botocore, which
    # decodes what S3 encodes, leaves v1's Prefix alone); Marker and keys
    # are encoded.
    r = daemon.request("GET", "/%s?%s&encoding-type=url" % (bucket, q), user="alice")
    assert r.status == 200, r
    assert xml_text(r, "Prefix") == "a\nb c+", r.body
    assert xml_text(r, "Marker") == "a%0A", r.body
    assert [c.find(S3NS + "Key").text for c in r.xml().findall(S3NS + "Contents")] == [
        "a%0Ab%20c%2Bd"]
    # v2 encodes its Prefix (and botocore decodes it)
    r = daemon.request("GET", "/%s?list-type=2&%s&encoding-type=url" % (bucket, q),
                       user="alice")
    assert xml_text(r, "Prefix") == "a%0Ab%20c%2B", r.body
    # What boto3 (which always asks for encoding-type=url) hands back.
    got = s3.list_objects(Bucket=bucket, Prefix="a\nb c+")
    assert got["Prefix"] == "a\nb c+"
    assert [o["Key"] for o in got["Contents"]] == ["a\nb c+d"]
    got = s3.list_objects_v2(Bucket=bucket, Prefix="a\nb c+")
    assert got["Prefix"] == "a\nb c+"
    # A prefix XML cannot carry: v1 cannot encode it, so it is refused.
    r = daemon.request("GET", "/%s?prefix=a%%01&encoding-type=url" % bucket, user="alice")
    assert (r.status, r.error_code()) == (400, "InvalidArgument"), r
    r = daemon.request("GET", "/%s?list-type=2&prefix=a%%01&encoding-type=url" % bucket,
                       user="alice")
    assert r.status == 200, r


# -- presigned URLs -------------------------------------------------------------

def test_presigned_expires_zero_is_expired(daemon, bucket, s3):
    s3.put_object(Bucket=bucket, Key="k", Body=b"x")
    import boto3
    from botocore.config import Config
    ak, sk = daemon.keys("alice")
    v4 = boto3.client("s3", endpoint_url=daemon.endpoint, region_name="us-east-1",
                      aws_access_key_id=ak, aws_secret_access_key=sk,
                      config=Config(signature_version="s3v4",
                                    s3={"addressing_style": "path"}))
    url = v4.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": "k"},
                                    ExpiresIn=60)
    assert "X-Amz-Expires=60" in url
    path = url[len(daemon.endpoint):].replace("X-Amz-Expires=60", "X-Amz-Expires=0")
    r = daemon.request("GET", path)
    assert (r.status, r.error_code()) == (403, "AccessDenied"), r
    assert b"Request has expired" in r.body


# -- Content-Encoding: aws-chunked on a plain payload ------------------------------

def test_aws_chunked_encoding_with_plain_payload(daemon, bucket, s3):
    body = b"plain bytes, not aws-chunked framing"
    r = daemon.request("PUT", "/%s/gz" % bucket, body=body, user="alice",
                       headers={"Content-Encoding": "gzip, aws-chunked"})
    assert r.status == 200, r
    got = s3.get_object(Bucket=bucket, Key="gz")
    assert got["Body"].read() == body
    assert got["ContentEncoding"] == "gzip"
    r = daemon.request("PUT", "/%s/gz2" % bucket, body=body, user="alice",
                       headers={"Content-Encoding": "aws-chunked, br"})
    assert r.status == 200, r
    assert s3.head_object(Bucket=bucket, Key="gz2")["ContentEncoding"] == "br"
    r = daemon.request("PUT", "/%s/gz3" % bucket, body=body, user="alice",
                       headers={"Content-Encoding": "aws-chunked"})
    assert r.status == 200, r
    assert "ContentEncoding" not in s3.head_object(Bucket=bucket, Key="gz3")


# -- tag order ------------------------------------------------------------------

def test_object_tags_sorted_by_key(bucket, s3):
    s3.put_object(Bucket=bucket, Key="k", Body=b"x")
    tags = [{"Key": k, "Value": "v" + k} for k in ("zeta", "Alpha", "beta", "alpha", "_")]
    s3.put_object_tagging(Bucket=bucket, Key="k", Tagging={"TagSet": tags})
    got = s3.get_object_tagging(Bucket=bucket, Key="k")["TagSet"]
    assert [t["Key"] for t in got] == ["Alpha", "_", "alpha", "beta", "zeta"]
    assert all(t["Value"] == "v" + t["Key"] for t in got)
    s3.put_object(Bucket=bucket, Key="h", Body=b"x", Tagging="b=2&a=1")
    assert s3.get_object_tagging(Bucket=bucket, Key="h")["TagSet"] == [
        {"Key": "a", "Value": "1"}, {"Key": "b", "Value": "2"}]


def test_bucket_tags_sorted_by_key(bucket, s3):
    tags = [{"Key": k, "Value": k} for k in ("m", "c", "x", "a")]
    s3.put_bucket_tagging(Bucket=bucket, Tagging={"TagSet": tags})
    got = s3.get_bucket_tagging(Bucket=bucket)["TagSet"]
    assert [t["Key"] for t in got] == ["a", "c", "m", "x"]


# -- GetObjectAttributes of a multipart object without checksums ------------------

def test_attributes_parts_without_checksums(daemon, bucket, s3):
    sizes = [1000, 2000, 10, 7]
    up = s3.create_multipart_upload(Bucket=bucket, Key="mp")["UploadId"]
    done = []
    for i, n in enumerate(sizes, 1):
        r = s3.upload_part(Bucket=bucket, Key="mp", UploadId=up, PartNumber=i,
                           Body=os.urandom(n))
        done.append({"PartNumber": i, "ETag": r["ETag"]})
    s3.complete_multipart_upload(Bucket=bucket, Key="mp", UploadId=up,
                                 MultipartUpload={"Parts": done})
    r = s3.get_object_attributes(Bucket=bucket, Key="mp", ObjectAttributes=["ObjectParts"])
    parts = r["ObjectParts"]
    assert parts["TotalPartsCount"] == 4
    assert parts["MaxParts"] == 1000 and parts["IsTruncated"] is False
    assert [(p["PartNumber"], p["Size"]) for p in parts["Parts"]] == list(
        enumerate(sizes, 1))
    # pages
    r = s3.get_object_attributes(Bucket=bucket, Key="mp", ObjectAttributes=["ObjectParts"],
                                 MaxParts=2)
    p = r["ObjectParts"]
    assert p["IsTruncated"] is True and p["NextPartNumberMarker"] == 2 and p["MaxParts"] == 2
    assert [x["PartNumber"] for x in p["Parts"]] == [1, 2]
    r = s3.get_object_attributes(Bucket=bucket, Key="mp", ObjectAttributes=["ObjectParts"],
                                 MaxParts=2, PartNumberMarker=2)
    p = r["ObjectParts"]
    assert p["IsTruncated"] is False and p["PartNumberMarker"] == 2
    assert [(x["PartNumber"], x["Size"]) for x in p["Parts"]] == [(3, 10), (4, 7)]
    assert "ChecksumCRC32" not in p["Parts"][0]


# -- requests civetweb refuses before our handler ---------------------------------

def raw_exchange(port, data):
    import socket
    s = socket.create_connection(("127.0.0.1", port), timeout=10)
    try:
        s.sendall(data)
        out = b""
        while True:
            d = s.recv(65536)
            if not d:
                return out
            out += d
    finally:
        s.close()


def test_refused_requests_get_s3_errors(atriumd_factory, tmp_path):
    logf = tmp_path / "access.log"
    d = atriumd_factory("sigv4", "refused", ["--access-log", str(logf)])
    cases = [
        (b"PUT /b/k HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n", 411,
         "MissingContentLength"),
        (b"GET /b HTTP/1.1\r\nHost: x\r\n" +
         b"".join(b"X-Big-%d: %s\r\n" % (i, b"a" * 1000) for i in range(70)) + b"\r\n",
         400, "BadRequest"),
        (b"NONSENSE\r\n\r\n", 400, "BadRequest"),
        (b"GET / HTTP/9.9\r\nHost: x\r\n\r\n", 505, "HttpVersionNotSupported"),
    ]
    ids = []
    for req, status, code in cases:
        out = raw_exchange(d.port, req)
        head, _, body = out.partition(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        assert lines[0].startswith("HTTP/1.1 %d " % status), out
        hdrs = {k.lower(): v.strip() for k, v in (l.split(":", 1) for l in lines[1:])}
        assert hdrs["content-type"] == "application/xml", out
        assert hdrs["connection"].lower() == "close"
        root = ET.fromstring(body)
        assert root.find("Code").text == code, body
        rid = hdrs["x-amz-request-id"]
        assert root.find("RequestId").text == rid
        ids.append(rid)
    assert d.request("GET", "/api/v1/health").status == 200
    assert d.stop() is None
    text = logf.read_text()
    for rid in ids:
        assert rid in text, (rid, text)
