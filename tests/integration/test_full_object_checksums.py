"""Multipart uploads with FULL_OBJECT checksums (CRC64NVME, whose only type
it is, and CRC32/CRC32C with x-amz-checksum-type: FULL_OBJECT): the
object's checksum is the CRC of its whole bytes, combined from the parts'
CRCs. The object checksum a CompleteMultipartUpload carries is verified
(BadDigest), for both types. A completion retried after it succeeded
answers 200 with the object's ETag, as AWS does. Raw requests (the
installed botocore does not know CRC64NVME) and boto3."""
import base64
import os

import pytest

from s3util import S3NS, checksum, composite_checksum, xml_text


@pytest.fixture(scope="module")
def daemon(atriumd_factory):
    return atriumd_factory("sigv4", "fullobject", ["--min-part-size", "0"])


@pytest.fixture
def s3(daemon):
    return daemon.boto3("alice")


@pytest.fixture
def bucket(s3, bucket_name):
    s3.create_bucket(Bucket=bucket_name)
    return bucket_name


def create(daemon, bucket, key, alg, typ=None):
    h = {"x-amz-checksum-algorithm": alg}
    if typ:
        h["x-amz-checksum-type"] = typ
    r = daemon.request("POST", "/%s/%s?uploads" % (bucket, key), h, user="alice")
    assert r.status == 200, r
    return r, xml_text(r, "UploadId")


def put_parts(daemon, bucket, key, up, alg, parts):
    done = []
    for i, p in enumerate(parts, 1):
        r = daemon.request("PUT", "/%s/%s?partNumber=%d&uploadId=%s" % (bucket, key, i, up),
                           {"x-amz-checksum-" + alg: checksum(alg, p)}, body=p, user="alice")
        assert r.status == 200, r
        assert r.header("x-amz-checksum-" + alg) == checksum(alg, p)
        done.append((i, r.header("etag"), checksum(alg, p)))
    return done


def complete_body(done, alg=None):
    el = "Checksum" + alg.upper() if alg else None
    return "<CompleteMultipartUpload>%s</CompleteMultipartUpload>" % "".join(
        "<Part><PartNumber>%d</PartNumber><ETag>%s</ETag>%s</Part>" % (
            i, e, "<%s>%s</%s>" % (el, c, el) if el else "") for i, e, c in done)


def complete(daemon, bucket, key, up, body, headers=None):
    return daemon.request("POST", "/%s/%s?uploadId=%s" % (bucket, key, up), headers or {},
                          body=body, user="alice")


@pytest.mark.parametrize("alg,typ", [("crc64nvme", None), ("crc64nvme", "FULL_OBJECT"),
                                     ("crc32", "FULL_OBJECT"), ("crc32c", "FULL_OBJECT")])
def test_full_object_checksum(daemon, bucket, alg, typ):
    parts = [os.urandom(1000), os.urandom(1), os.urandom(3333), b"tail"]
    r, up = create(daemon, bucket, "obj", alg.upper(), typ)
    assert r.header("x-amz-checksum-algorithm") == alg.upper()
    assert r.header("x-amz-checksum-type") == "FULL_OBJECT"
    done = put_parts(daemon, bucket, "obj", up, alg, parts)
    r = daemon.request("GET", "/%s/obj?uploadId=%s" % (bucket, up), user="alice")
    assert xml_text(r, "ChecksumAlgorithm") == alg.upper()
    assert xml_text(r, "ChecksumType") == "FULL_OBJECT"
    whole = checksum(alg, b"".join(parts))
    # the parts' checksums are optional in the body; the object's is verified
    r = complete(daemon, bucket, "obj", up, complete_body(done),
                 {"x-amz-checksum-" + alg: whole, "x-amz-checksum-type": "FULL_OBJECT"})
    assert r.status == 200, r
    assert xml_text(r, "Checksum" + alg.upper()) == whole, r.body
    assert xml_text(r, "ChecksumType") == "FULL_OBJECT"
    h = daemon.request("HEAD", "/%s/obj" % bucket, {"x-amz-checksum-mode": "ENABLED"},
                       user="alice")
    assert h.header("x-amz-checksum-" + alg) == whole, h
    assert h.header("x-amz-checksum-type") == "FULL_OBJECT"
    g = daemon.request("GET", "/%s/obj" % bucket, user="alice")
    assert g.body == b"".join(parts)
    a = daemon.request("GET", "/%s/obj?attributes" % bucket,
                       {"x-amz-object-attributes": "Checksum,ObjectParts"}, user="alice")
    root = a.xml()
    ck = root.find(S3NS + "Checksum")
    assert ck.find(S3NS + "Checksum" + alg.upper()).text == whole
    assert ck.find(S3NS + "ChecksumType").text == "FULL_OBJECT"
    got = [(int(p.find(S3NS + "PartNumber").text), int(p.find(S3NS + "Size").text),
            p.find(S3NS + "Checksum" + alg.upper()).text)
           for p in root.find(S3NS + "ObjectParts").findall(S3NS + "Part")]
    assert got == [(i, len(p), checksum(alg, p)) for i, p in enumerate(parts, 1)]


def test_full_object_single_part_and_named_checksums(daemon, bucket):
    r, up = create(daemon, bucket, "one", "CRC64NVME")
    done = put_parts(daemon, bucket, "one", up, "crc64nvme", [b"only part"])
    r = complete(daemon, bucket, "one", up, complete_body(done, "crc64nvme"))
    assert r.status == 200, r
    assert xml_text(r, "ChecksumCRC64NVME") == checksum("crc64nvme", b"only part")
    # a part checksum named wrong is InvalidPart, as for COMPOSITE
    r, up = create(daemon, bucket, "two", "CRC32", "FULL_OBJECT")
    done = put_parts(daemon, bucket, "two", up, "crc32", [b"a", b"b"])
    bad = [(i, e, checksum("crc32", b"zz")) for i, e, _ in done]
    r = complete(daemon, bucket, "two", up, complete_body(bad, "crc32"))
    assert (r.status, r.error_code()) == (400, "InvalidPart"), r


@pytest.mark.parametrize("alg,typ", [("crc64nvme", None), ("crc32c", "FULL_OBJECT"),
                                     ("sha256", None), ("crc32", None)])
def test_complete_object_checksum_verified(daemon, bucket, alg, typ):
    parts = [os.urandom(500), os.urandom(700)]
    key = "v-" + alg
    r, up = create(daemon, bucket, key, alg.upper(), typ)
    full = r.header("x-amz-checksum-type") == "FULL_OBJECT"
    done = put_parts(daemon, bucket, key, up, alg, parts)
    body = complete_body(done, alg)
    right = checksum(alg, b"".join(parts)) if full else composite_checksum(alg, parts)
    wrong = checksum(alg, b"other bytes")
    r = complete(daemon, bucket, key, up, body, {"x-amz-checksum-" + alg: wrong})
    assert (r.status, r.error_code()) == (400, "BadDigest"), r
    r = complete(daemon, bucket, key, up, body, {"x-amz-checksum-" + alg: "nonsense"})
    assert (r.status, r.error_code()) == (400, "InvalidRequest"), r
    other = "sha1" if alg != "sha1" else "crc32"
    r = complete(daemon, bucket, key, up, body, {"x-amz-checksum-" + other: checksum(other, b"")})
    assert (r.status, r.error_code()) == (400, "InvalidRequest"), r
    r = complete(daemon, bucket, key, up, body,
                 {"x-amz-checksum-type": "COMPOSITE" if full else "FULL_OBJECT"})
    assert (r.status, r.error_code()) == (400, "BadDigest"), r
    # the upload is as it was: the right value completes it
    r = complete(daemon, bucket, key, up, body, {"x-amz-checksum-" + alg: right})
    assert r.status == 200, r
    assert xml_text(r, "Checksum" + alg.upper()) == right
    if not full:  # a COMPOSITE value may come without its "-N"
        r, up = create(daemon, bucket, key + "b", alg.upper(), typ)
        done = put_parts(daemon, bucket, key + "b", up, alg, parts)
        r = complete(daemon, bucket, key + "b", up, complete_body(done, alg),
                     {"x-amz-checksum-" + alg: right.split("-")[0]})
        assert r.status == 200, r


def test_complete_checksum_without_algorithm(daemon, bucket, s3):
    up = s3.create_multipart_upload(Bucket=bucket, Key="plain")["UploadId"]
    r = s3.upload_part(Bucket=bucket, Key="plain", UploadId=up, PartNumber=1, Body=b"abc")
    body = complete_body([(1, r["ETag"], None)])
    r = complete(daemon, bucket, "plain", up, body,
                 {"x-amz-checksum-sha256": checksum("sha256", b"abc")})
    assert (r.status, r.error_code()) == (400, "InvalidRequest"), r
    assert complete(daemon, bucket, "plain", up, body).status == 200


def test_completion_retried(daemon, bucket, s3):
    up = s3.create_multipart_upload(Bucket=bucket, Key="retry")["UploadId"]
    done = []
    for i, p in enumerate([b"first part", b"second"], 1):
        r = s3.upload_part(Bucket=bucket, Key="retry", UploadId=up, PartNumber=i, Body=p)
        done.append({"PartNumber": i, "ETag": r["ETag"]})
    first = s3.complete_multipart_upload(Bucket=bucket, Key="retry", UploadId=up,
                                         MultipartUpload={"Parts": done})
    again = s3.complete_multipart_upload(Bucket=bucket, Key="retry", UploadId=up,
                                         MultipartUpload={"Parts": done})
    assert again["ETag"] == first["ETag"]
    assert s3.get_object(Bucket=bucket, Key="retry")["Body"].read() == b"first partsecond"
    # another part list, or another user, is still NoSuchUpload
    r = complete(daemon, bucket, "retry", up, complete_body(
        [(d["PartNumber"], d["ETag"], None) for d in done[:1]]))
    assert (r.status, r.error_code()) == (404, "NoSuchUpload"), r
    r = daemon.request("POST", "/%s/retry?uploadId=%s" % (bucket, up), user="bob",
                       body=complete_body([(d["PartNumber"], d["ETag"], None) for d in done]))
    assert r.status in (403, 404), r
    # an abort of it is NoSuchUpload, as on AWS
    r = daemon.request("DELETE", "/%s/retry?uploadId=%s" % (bucket, up), user="alice")
    assert (r.status, r.error_code()) == (404, "NoSuchUpload"), r
