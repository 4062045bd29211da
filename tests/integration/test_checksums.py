"""x-amz-checksum-* on PutObject and UploadPart: verified while the body
streams (header or aws-chunked trailer), kept with the object, returned on
GET/HEAD with x-amz-checksum-mode: ENABLED. boto3 and raw requests."""
import os

import pytest
from botocore.exceptions import ClientError

from s3util import b64, checksum, crc32c, crc64nvme


ALGS = ["crc32", "crc32c", "crc64nvme", "sha1", "sha256"]


def test_reference_values():
    # the check values of CRC-32C and CRC-64/NVME: the helpers above are right
    assert crc32c(b"123456789") == 0xE3069283
    assert crc64nvme(b"123456789") == 0xAE8B14860A799888


def client_error(fn, *args, **kwargs):
    with pytest.raises(ClientError) as ei:
        fn(*args, **kwargs)
    r = ei.value.response
    return r["ResponseMetadata"]["HTTPStatusCode"], r["Error"]["Code"]


@pytest.mark.parametrize("alg", ["CRC32", "CRC32C", "SHA1", "SHA256"])
def test_boto3_put_object_checksum_kept_and_returned(alice, bucket, alg):
    data = os.urandom(300000)
    r = alice.put_object(Bucket=bucket, Key="k", Body=data, ChecksumAlgorithm=alg)
    want = checksum(alg.lower(), data)
    assert r["Checksum" + alg] == want
    # returned only when asked for; boto3 checks the body against it
    g = alice.get_object(Bucket=bucket, Key="k", ChecksumMode="ENABLED")
    assert g["Checksum" + alg] == want
    assert g["Body"].read() == data
    h = alice.head_object(Bucket=bucket, Key="k", ChecksumMode="ENABLED")
    assert h["Checksum" + alg] == want
    assert "Checksum" + alg not in alice.head_object(Bucket=bucket, Key="k")
    # not for a part of the object
    g = alice.get_object(Bucket=bucket, Key="k", ChecksumMode="ENABLED", Range="bytes=0-9")
    assert "Checksum" + alg not in g and g["Body"].read() == data[:10]
    # a plain PUT over it drops it
    alice.put_object(Bucket=bucket, Key="k", Body=b"plain")
    assert "Checksum" + alg not in alice.head_object(Bucket=bucket, Key="k",
                                                       ChecksumMode="ENABLED")


@pytest.mark.parametrize("alg", ALGS)
def test_raw_checksums_verified(sigv4_daemon, alice, bucket, alg):
    data = b"checksummed body " * 1000
    name = "x-amz-checksum-" + alg
    put = lambda key, headers: sigv4_daemon.request(
        "PUT", "/%s/%s" % (bucket, key), headers=headers, body=data, user="alice")
    r = put("good", {name: checksum(alg, data),
                     "x-amz-sdk-checksum-algorithm": alg.upper()})
    assert r.status == 200, r.body
    assert r.header(name) == checksum(alg, data)
    r = sigv4_daemon.request("HEAD", "/%s/good" % bucket,
                             headers={"x-amz-checksum-mode": "ENABLED"}, user="alice")
    assert r.header(name) == checksum(alg, data)
    # a well-formed wrong value: BadDigest, nothing stored
    r = put("bad", {name: checksum(alg, data + b"x")})
    assert (r.status, r.error_code()) == (400, "BadDigest")
    assert client_error(alice.head_object, Bucket=bucket, Key="bad")[0] == 404
    # not base64 of the right size: InvalidRequest
    for v in ["!!!", b64(b"\0" * 3), b64(b"\0" * 40), ""]:
        r = put("bad", {name: v})
        assert (r.status, r.error_code()) == (400, "InvalidRequest"), v


def test_checksum_header_rules(sigv4_daemon, bucket):
    data = b"abc"
    put = lambda headers: sigv4_daemon.request(
        "PUT", "/%s/k" % bucket, headers=headers, body=data, user="alice")
    # two checksums
    r = put({"x-amz-checksum-crc32": checksum("crc32", data),
             "x-amz-checksum-sha1": checksum("sha1", data)})
    assert (r.status, r.error_code()) == (400, "InvalidRequest")
    assert b"Multiple checksum" in r.body
    # an algorithm with no value, an unknown one, one that disagrees
    r = put({"x-amz-sdk-checksum-algorithm": "CRC32"})
    assert (r.status, r.error_code()) == (400, "InvalidRequest")
    r = put({"x-amz-sdk-checksum-algorithm": "MD5",
             "x-amz-checksum-crc32": checksum("crc32", data)})
    assert (r.status, r.error_code()) == (400, "InvalidRequest")
    r = put({"x-amz-sdk-checksum-algorithm": "SHA256",
             "x-amz-checksum-crc32": checksum("crc32", data)})
    assert (r.status, r.error_code()) == (400, "InvalidRequest")
    # the algorithm name is case-insensitive
    r = put({"x-amz-sdk-checksum-algorithm": "crc32",
             "x-amz-checksum-crc32": checksum("crc32", data)})
    assert r.status == 200, r.body


def chunked(data, trailer):
    body = b"".join(b"%x\r\n%s\r\n" % (len(data[i:i + 8192]), data[i:i + 8192])
                    for i in range(0, len(data), 8192))
    return body + b"0\r\n" + trailer + b"\r\n"


@pytest.mark.parametrize("alg", ["crc32", "crc32c", "crc64nvme", "sha256"])
def test_trailer_checksum_verified(simple_daemon, bucket_name, alg):
    s3 = simple_daemon.boto3("alice")
    s3.create_bucket(Bucket=bucket_name)
    data = os.urandom(50000)
    name = "x-amz-checksum-" + alg

    def put(key, value):
        trailer = b"%s:%s\r\n" % (name.encode(), value.encode()) if value else b""
        return simple_daemon.request(
            "PUT", "/%s/%s" % (bucket_name, key), body=chunked(data, trailer),
            headers={"Authorization": "AWS AKIDALICE:x", "Content-Encoding": "aws-chunked",
                     "x-amz-content-sha256": "STREAMING-UNSIGNED-PAYLOAD-TRAILER",
                     "x-amz-trailer": name, "x-amz-sdk-checksum-algorithm": alg.upper(),
                     "x-amz-decoded-content-length": str(len(data))})

    r = put("good", checksum(alg, data))
    assert r.status == 200, r.body
    g = s3.get_object(Bucket=bucket_name, Key="good", ChecksumMode="ENABLED")
    assert g["Body"].read() == data
    assert g["ResponseMetadata"]["HTTPHeaders"][name] == checksum(alg, data)
    r = put("bad", checksum(alg, data[1:]))
    assert (r.status, r.error_code()) == (400, "BadDigest")
    r = put("missing", None)
    assert (r.status, r.error_code()) == (400, "InvalidRequest")
    assert client_error(s3.head_object, Bucket=bucket_name, Key="bad")[0] == 404
    assert client_error(s3.head_object, Bucket=bucket_name, Key="missing")[0] == 404


def test_upload_part_checksums(sigv4_daemon, alice, bucket):
    up = alice.create_multipart_upload(Bucket=bucket, Key="mp")["UploadId"]
    data = os.urandom(100000)
    r = alice.upload_part(Bucket=bucket, Key="mp", UploadId=up, PartNumber=1, Body=data,
                          ChecksumAlgorithm="CRC32C")
    assert r["ChecksumCRC32C"] == checksum("crc32c", data)
    r = sigv4_daemon.request(
        "PUT", "/%s/mp?partNumber=2&uploadId=%s" % (bucket, up), body=b"other",
        headers={"x-amz-checksum-sha256": checksum("sha256", b"another")}, user="alice")
    assert (r.status, r.error_code()) == (400, "BadDigest")
    parts = alice.list_parts(Bucket=bucket, Key="mp", UploadId=up)["Parts"]
    assert [p["PartNumber"] for p in parts] == [1]
