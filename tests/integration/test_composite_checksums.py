"""Additional checksums on multipart uploads: x-amz-checksum-algorithm on
CreateMultipartUpload, each part's checksum returned and checked by
UploadPart, named per part on CompleteMultipartUpload and shown by
ListParts, and the object's COMPOSITE checksum
(base64(H(part checksums)) "-" N) on HEAD/GET with x-amz-checksum-mode
and in GetObjectAttributes, with its parts. boto3, awscli, raw requests."""
import json
import os

import pytest

from s3util import awscli, checksum, client_error, composite_checksum

ALGS = ["CRC32", "CRC32C", "SHA1", "SHA256"]


@pytest.fixture(scope="module")
def daemon(atriumd_factory):
    return atriumd_factory("sigv4", "composite", ["--min-part-size", "0"])


@pytest.fixture
def s3(daemon):
    return daemon.boto3("alice")


@pytest.fixture
def bucket(s3, bucket_name):
    s3.create_bucket(Bucket=bucket_name)
    return bucket_name


def upload(s3, bucket, key, alg, parts):
    """A checksummed multipart upload; returns (upload id, completed parts)."""
    r = s3.create_multipart_upload(Bucket=bucket, Key=key, ChecksumAlgorithm=alg)
    assert r["ChecksumAlgorithm"] == alg
    assert r.get("ChecksumType", "COMPOSITE") == "COMPOSITE"
    up = r["UploadId"]
    done = []
    for i, p in enumerate(parts, 1):
        r = s3.upload_part(Bucket=bucket, Key=key, UploadId=up, PartNumber=i, Body=p,
                           ChecksumAlgorithm=alg)
        assert r["Checksum" + alg] == checksum(alg.lower(), p)
        done.append({"PartNumber": i, "ETag": r["ETag"], "Checksum" + alg: r["Checksum" + alg]})
    return up, done


@pytest.mark.parametrize("alg", ALGS)
def test_composite_checksum(s3, bucket, alg):
    parts = [os.urandom(700), os.urandom(300), b"tail"]
    up, done = upload(s3, bucket, "obj", alg, parts)
    lp = s3.list_parts(Bucket=bucket, Key="obj", UploadId=up)
    assert lp.get("ChecksumAlgorithm") == alg
    assert [p["Checksum" + alg] for p in lp["Parts"]] == [d["Checksum" + alg] for d in done]
    r = s3.complete_multipart_upload(Bucket=bucket, Key="obj", UploadId=up,
                                     MultipartUpload={"Parts": done})
    want = composite_checksum(alg.lower(), parts)
    assert r["Checksum" + alg] == want
    h = s3.head_object(Bucket=bucket, Key="obj", ChecksumMode="ENABLED")
    assert h["Checksum" + alg] == want
    assert h["ResponseMetadata"]["HTTPHeaders"]["x-amz-checksum-type"] == "COMPOSITE"
    g = s3.get_object(Bucket=bucket, Key="obj", ChecksumMode="ENABLED")
    assert g["Body"].read() == b"".join(parts) and g["Checksum" + alg] == want
    # not without the mode
    assert "Checksum" + alg not in s3.head_object(Bucket=bucket, Key="obj")
    a = s3.get_object_attributes(Bucket=bucket, Key="obj",
                                 ObjectAttributes=["Checksum", "ObjectParts", "ObjectSize"])
    assert a["Checksum"]["Checksum" + alg] == want
    assert a["Checksum"].get("ChecksumType", "COMPOSITE") == "COMPOSITE"
    op = a["ObjectParts"]
    assert op["TotalPartsCount"] == 3 and op["IsTruncated"] is False
    assert [(p["PartNumber"], p["Size"], p["Checksum" + alg]) for p in op["Parts"]] == \
        [(i, len(p), checksum(alg.lower(), p)) for i, p in enumerate(parts, 1)]


def test_object_parts_paging(s3, bucket):
    parts = [bytes([65 + i]) * (100 + i) for i in range(5)]
    up, done = upload(s3, bucket, "paged", "SHA256", parts)
    s3.complete_multipart_upload(Bucket=bucket, Key="paged", UploadId=up,
                                 MultipartUpload={"Parts": done})
    seen, marker = [], 0
    while True:
        a = s3.get_object_attributes(Bucket=bucket, Key="paged", ObjectAttributes=["ObjectParts"],
                                     MaxParts=2, PartNumberMarker=marker)["ObjectParts"]
        assert a["TotalPartsCount"] == 5 and a["MaxParts"] == 2
        assert int(a["PartNumberMarker"]) == marker
        seen += [p["PartNumber"] for p in a.get("Parts", [])]
        if not a["IsTruncated"]:
            break
        marker = int(a["NextPartNumberMarker"])
    assert seen == [1, 2, 3, 4, 5]
    a = s3.get_object_attributes(Bucket=bucket, Key="paged", ObjectAttributes=["ObjectParts"],
                                 PartNumberMarker=5)["ObjectParts"]
    assert a.get("Parts", []) == [] and a["IsTruncated"] is False
    # a PUT over it is one part again, with no part checksums
    s3.put_object(Bucket=bucket, Key="paged", Body=b"single")
    a = s3.get_object_attributes(Bucket=bucket, Key="paged", ObjectAttributes=["ObjectParts"])
    assert "ObjectParts" not in a


def test_composite_errors(s3, bucket, daemon):
    # the algorithm and the type on CreateMultipartUpload
    r = daemon.request("POST", "/%s/e?uploads" % bucket,
                       {"x-amz-checksum-algorithm": "MD5"}, user="alice")
    assert (r.status, r.error_code()) == (400, "InvalidRequest"), r
    r = daemon.request("POST", "/%s/e?uploads" % bucket,
                       {"x-amz-checksum-algorithm": "CRC32", "x-amz-checksum-type": "BOGUS"},
                       user="alice")
    assert (r.status, r.error_code()) == (400, "InvalidRequest"), r
    r = daemon.request("POST", "/%s/e?uploads" % bucket,
                       {"x-amz-checksum-algorithm": "CRC64NVME",
                        "x-amz-checksum-type": "COMPOSITE"}, user="alice")
    assert (r.status, r.error_code()) == (400, "InvalidRequest"), r
    # FULL_OBJECT is for CRCs only (test_full_object_checksums.py)
    r = daemon.request("POST", "/%s/e?uploads" % bucket,
                       {"x-amz-checksum-algorithm": "SHA256",
                        "x-amz-checksum-type": "FULL_OBJECT"}, user="alice")
    assert (r.status, r.error_code()) == (400, "InvalidRequest"), r
    r = daemon.request("POST", "/%s/e?uploads" % bucket,
                       {"x-amz-checksum-algorithm": "crc32c"}, user="alice")
    assert r.status == 200 and r.header("x-amz-checksum-algorithm") == "CRC32C", r
    assert r.header("x-amz-checksum-type") == "COMPOSITE", r

    up, done = upload(s3, bucket, "e", "CRC32", [b"one", b"two"])
    # a part with no checksum, or another algorithm's
    r = daemon.request("PUT", "/%s/e?partNumber=3&uploadId=%s" % (bucket, up), body=b"x",
                       user="alice")
    assert (r.status, r.error_code()) == (400, "InvalidRequest"), r
    assert client_error(s3.upload_part, Bucket=bucket, Key="e", UploadId=up, PartNumber=3,
                        Body=b"x", ChecksumAlgorithm="SHA1") == (400, "InvalidRequest")
    # a wrong value for the body
    assert client_error(s3.upload_part, Bucket=bucket, Key="e", UploadId=up, PartNumber=3,
                        Body=b"x", ChecksumCRC32=checksum("crc32", b"y")) == \
        (400, "BadDigest")
    # completion: each part's checksum is required, and must be the kept one
    no_sums = [{"PartNumber": d["PartNumber"], "ETag": d["ETag"]} for d in done]
    assert client_error(s3.complete_multipart_upload, Bucket=bucket, Key="e", UploadId=up,
                        MultipartUpload={"Parts": no_sums}) == (400, "InvalidRequest")
    wrong = [dict(d) for d in done]
    wrong[1]["ChecksumCRC32"] = checksum("crc32", b"other")
    assert client_error(s3.complete_multipart_upload, Bucket=bucket, Key="e", UploadId=up,
                        MultipartUpload={"Parts": wrong}) == (400, "InvalidPart")
    other = [{"PartNumber": d["PartNumber"], "ETag": d["ETag"],
              "ChecksumSHA1": checksum("sha1", b"one")} for d in done]
    assert client_error(s3.complete_multipart_upload, Bucket=bucket, Key="e", UploadId=up,
                        MultipartUpload={"Parts": other}) == (400, "InvalidPart")
    # the upload is still whole after refused completions
    s3.complete_multipart_upload(Bucket=bucket, Key="e", UploadId=up,
                                 MultipartUpload={"Parts": done})
    assert s3.head_object(Bucket=bucket, Key="e", ChecksumMode="ENABLED")["ChecksumCRC32"] == \
        composite_checksum("crc32", [b"one", b"two"])


def test_upload_without_algorithm_unchanged(s3, bucket):
    # no algorithm on the upload: parts' checksums are checked but not kept,
    # and the object has no checksum
    up = s3.create_multipart_upload(Bucket=bucket, Key="plain")["UploadId"]
    r = s3.upload_part(Bucket=bucket, Key="plain", UploadId=up, PartNumber=1, Body=b"abc",
                       ChecksumAlgorithm="CRC32")
    assert r["ChecksumCRC32"] == checksum("crc32", b"abc")
    lp = s3.list_parts(Bucket=bucket, Key="plain", UploadId=up)
    assert "ChecksumAlgorithm" not in lp and "ChecksumCRC32" not in lp["Parts"][0]
    s3.complete_multipart_upload(Bucket=bucket, Key="plain", UploadId=up,
                                 MultipartUpload={"Parts": [{"PartNumber": 1,
                                                             "ETag": r["ETag"]}]})
    h = s3.head_object(Bucket=bucket, Key="plain", ChecksumMode="ENABLED")
    assert "ChecksumCRC32" not in h
    a = s3.get_object_attributes(Bucket=bucket, Key="plain",
                                 ObjectAttributes=["Checksum", "ObjectParts"])
    assert "Checksum" not in a and a["ObjectParts"]["TotalPartsCount"] == 1
    assert a["ObjectParts"]["Parts"] == [{"PartNumber": 1, "Size": 3}]


def test_composite_survives_restart(atriumd_factory, bucket_name):
    d = atriumd_factory("sigv4", "composite-restart", ["--min-part-size", "0"])
    s3 = d.boto3("alice")
    s3.create_bucket(Bucket=bucket_name)
    up, done = upload(s3, bucket_name, "k", "CRC32C", [b"a" * 10, b"b" * 20])
    d.restart()
    s3 = d.boto3("alice")
    lp = s3.list_parts(Bucket=bucket_name, Key="k", UploadId=up)
    assert [p["ChecksumCRC32C"] for p in lp["Parts"]] == [x["ChecksumCRC32C"] for x in done]
    s3.complete_multipart_upload(Bucket=bucket_name, Key="k", UploadId=up,
                                 MultipartUpload={"Parts": done})
    d.restart()
    s3 = d.boto3("alice")
    assert s3.head_object(Bucket=bucket_name, Key="k", ChecksumMode="ENABLED")[
        "ChecksumCRC32C"] == composite_checksum("crc32c", [b"a" * 10, b"b" * 20])


def test_awscli_composite(daemon, bucket, tmp_path):
    aws = awscli(daemon, tmp_path)
    parts = [os.urandom(500), os.urandom(100)]
    up = json.loads(aws("s3api", "create-multipart-upload", "--bucket", bucket, "--key",
                        "cli", "--checksum-algorithm", "SHA256").stdout)["UploadId"]
    done = []
    for i, p in enumerate(parts, 1):
        f = tmp_path / ("part%d" % i)
        f.write_bytes(p)
        out = json.loads(aws("s3api", "upload-part", "--bucket", bucket, "--key", "cli",
                             "--upload-id", up, "--part-number", str(i), "--body", str(f),
                             "--checksum-algorithm", "SHA256").stdout)
        assert out["ChecksumSHA256"] == checksum("sha256", p)
        done.append({"PartNumber": i, "ETag": out["ETag"],
                     "ChecksumSHA256": out["ChecksumSHA256"]})
    aws("s3api", "complete-multipart-upload", "--bucket", bucket, "--key", "cli",
        "--upload-id", up, "--multipart-upload", json.dumps({"Parts": done}))
    h = json.loads(aws("s3api", "head-object", "--bucket", bucket, "--key", "cli",
                       "--checksum-mode", "ENABLED").stdout)
    assert h["ChecksumSHA256"] == composite_checksum("sha256", parts)
    a = json.loads(aws("s3api", "get-object-attributes", "--bucket", bucket, "--key", "cli",
                       "--object-attributes", "Checksum", "ObjectParts").stdout)
    assert a["Checksum"]["ChecksumSHA256"] == composite_checksum("sha256", parts)
    assert a["ObjectParts"]["TotalPartsCount"] == 2
    assert [p["Size"] for p in a["ObjectParts"]["Parts"]] == [500, 100]


def test_upload_part_copy_into_checksummed_upload(s3, bucket):
    src = os.urandom(3000)
    s3.put_object(Bucket=bucket, Key="src", Body=src)
    r = s3.create_multipart_upload(Bucket=bucket, Key="pc", ChecksumAlgorithm="CRC32")
    up = r["UploadId"]
    c = s3.upload_part_copy(Bucket=bucket, Key="pc", UploadId=up, PartNumber=1,
                            CopySource={"Bucket": bucket, "Key": "src"},
                            CopySourceRange="bytes=0-999")["CopyPartResult"]
    assert c["ChecksumCRC32"] == checksum("crc32", src[:1000])
    p2 = s3.upload_part(Bucket=bucket, Key="pc", UploadId=up, PartNumber=2, Body=b"end",
                        ChecksumAlgorithm="CRC32")
    s3.complete_multipart_upload(Bucket=bucket, Key="pc", UploadId=up, MultipartUpload={
        "Parts": [{"PartNumber": 1, "ETag": c["ETag"], "ChecksumCRC32": c["ChecksumCRC32"]},
                  {"PartNumber": 2, "ETag": p2["ETag"], "ChecksumCRC32": p2["ChecksumCRC32"]}]})
    h = s3.head_object(Bucket=bucket, Key="pc", ChecksumMode="ENABLED")
    assert h["ChecksumCRC32"] == composite_checksum("crc32", [src[:1000], b"end"])
    assert s3.get_object(Bucket=bucket, Key="pc")["Body"].read() == src[:1000] + b"end"
