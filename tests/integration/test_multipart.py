"""Multipart uploads with real clients: awscli, boto3, boto 2 (Alluxio's
example), curl and raw requests; errors that leave the upload intact;
ListParts / ListMultipartUploads pages; restarts and kill -9; concurrency."""
import base64
import hashlib
import http.client
import io
import os
import signal
import subprocess
import threading
import zlib
from concurrent.futures import ThreadPoolExecutor

import pytest
from boto3.s3.transfer import TransferConfig
from botocore.exceptions import ClientError

from s3util import S3NS, USERS, curl, files_under, md5hex

MiB = 1024 * 1024
AWS = "/usr/bin/aws"


def mpu_etag(parts):
    """S3's multipart ETag: md5 of the concatenated binary part MD5s, -N."""
    return "%s-%d" % (hashlib.md5(b"".join(hashlib.md5(p).digest() for p in parts))
                      .hexdigest(), len(parts))


def chunks(data, size):
    return [data[i:i + size] for i in range(0, len(data), size)]


def complete_xml(parts):
    """parts: [(number, etag)] in the order to name them."""
    return ("<CompleteMultipartUpload>" + "".join(
        "<Part><PartNumber>%d</PartNumber><ETag>\"%s\"</ETag></Part>" % (n, e.strip('"'))
        for n, e in parts) + "</CompleteMultipartUpload>").encode()


def client_error(fn, *args, **kwargs):
    with pytest.raises(ClientError) as ei:
        fn(*args, **kwargs)
    r = ei.value.response
    return r["ResponseMetadata"]["HTTPStatusCode"], r["Error"]["Code"]


def mpu_area(daemon):
    return os.path.join(daemon.ufs, ".atrium", "mpu")


def staged(daemon, upload_id):
    """Files staged for one upload (None if it has no folder)."""
    d = os.path.join(mpu_area(daemon), upload_id)
    return sorted(os.listdir(d)) if os.path.isdir(d) else None


def find_all(resp, *tags):
    """Texts of root/tag1/tag2... elements (S3 namespace)."""
    return [e.text for e in resp.xml().findall("/".join(S3NS + t for t in tags))]


def one(resp, tag):
    el = resp.xml().find(S3NS + tag)
    return None if el is None else (el.text or "")


def upload_parts(s3, bucket, key, parts, **create_args):
    up = s3.create_multipart_upload(Bucket=bucket, Key=key, **create_args)["UploadId"]
    etags = []
    for i, p in enumerate(parts, 1):
        etags.append(s3.upload_part(Bucket=bucket, Key=key, UploadId=up, PartNumber=i,
                                    Body=p)["ETag"])
    return up, etags


def complete(s3, bucket, key, up, etags, numbers=None):
    numbers = numbers or range(1, len(etags) + 1)
    return s3.complete_multipart_upload(
        Bucket=bucket, Key=key, UploadId=up,
        MultipartUpload={"Parts": [{"PartNumber": n, "ETag": e}
                                   for n, e in zip(numbers, etags)]})


# -- real clients --------------------------------------------------------------

def aws_env(tmp_path):
    ak, sk, _ = USERS["alice"]
    cfg = tmp_path / "aws-config"
    creds = tmp_path / "aws-credentials"
    cfg.write_text("")
    creds.write_text("")
    return {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "LANG": "C.UTF-8",
            "AWS_ACCESS_KEY_ID": ak, "AWS_SECRET_ACCESS_KEY": sk,
            "AWS_DEFAULT_REGION": "us-east-1", "AWS_CONFIG_FILE": str(cfg),
            "AWS_SHARED_CREDENTIALS_FILE": str(creds), "AWS_PAGER": "",
            "AWS_MAX_ATTEMPTS": "1"}


def test_awscli_cp_64mib(sigv4_daemon, alice, bucket, tmp_path):
    data = os.urandom(64 * MiB)
    src, back = tmp_path / "src.bin", tmp_path / "back.bin"
    src.write_bytes(data)
    env = aws_env(tmp_path)
    for a, b in [(str(src), "s3://%s/big/file.bin" % bucket),
                 ("s3://%s/big/file.bin" % bucket, str(back))]:
        p = subprocess.run([AWS, "--endpoint-url", sigv4_daemon.endpoint, "s3", "cp", a, b],
                           env=env, capture_output=True, timeout=300, stdin=subprocess.DEVNULL)
        assert p.returncode == 0, p.stderr.decode(errors="replace")
    assert back.read_bytes() == data
    # awscli switches to multipart above 8 MiB, in 8 MiB parts
    head = alice.head_object(Bucket=bucket, Key="big/file.bin")
    assert head["ETag"].strip('"') == mpu_etag(chunks(data, 8 * MiB))
    assert head["ContentLength"] == len(data)
    with open(os.path.join(sigv4_daemon.ufs, bucket, "big", "file.bin"), "rb") as f:
        assert hashlib.md5(f.read()).hexdigest() == md5hex(data)
    assert alice.list_multipart_uploads(Bucket=bucket).get("Uploads", []) == []


def test_boto3_upload_file_threads(sigv4_daemon, alice, bucket, tmp_path):
    data = os.urandom(23 * MiB)
    src, back = tmp_path / "src.bin", tmp_path / "back.bin"
    src.write_bytes(data)
    cfg = TransferConfig(multipart_threshold=5 * MiB, multipart_chunksize=5 * MiB,
                         max_concurrency=4, use_threads=True)
    alice.upload_file(str(src), bucket, "up.bin", Config=cfg,
                      ExtraArgs={"ContentType": "application/x-test",
                                 "Metadata": {"origin": "boto3"}})
    head = alice.head_object(Bucket=bucket, Key="up.bin")
    assert head["ETag"].strip('"') == mpu_etag(chunks(data, 5 * MiB))
    assert head["ContentType"] == "application/x-test"
    assert head["Metadata"] == {"origin": "boto3"}
    alice.download_file(bucket, "up.bin", str(back))
    assert back.read_bytes() == data
    assert alice.list_multipart_uploads(Bucket=bucket).get("Uploads", []) == []


def boto2_connect(port):
    import boto
    import boto.s3.connection
    return boto.connect_s3(aws_access_key_id="testuser", aws_secret_access_key="",
                           host="127.0.0.1", port=port, path="/api/v1/s3", is_secure=False,
                           calling_format=boto.s3.connection.OrdinaryCallingFormat())


def test_boto2_alluxio_multipart_min_part_size_0(atriumd_factory, bucket_name):
    """Alluxio's documented boto 2 flow: 1 MiB chunks, so --min-part-size 0."""
    d = atriumd_factory("simple", "simple-minpart0", ["--min-part-size", "0"])
    conn = boto2_connect(d.port)
    bucket = conn.create_bucket(bucket_name)
    data = os.urandom(8 * MiB)
    mp = bucket.initiate_multipart_upload("large/object.bin")
    assert [u.id for u in bucket.get_all_multipart_uploads()] == [mp.id]
    chunk = 1048576
    for i in range(8):
        mp.upload_part_from_file(io.BytesIO(data[i * chunk:(i + 1) * chunk]), part_num=i + 1)
    assert [p.part_number for p in mp.get_all_parts()] == list(range(1, 9))
    done = mp.complete_upload()
    assert done.etag.strip('"') == mpu_etag(chunks(data, chunk))
    key = bucket.get_key("large/object.bin")
    assert key.size == len(data)
    assert key.get_contents_as_string() == data
    assert list(bucket.get_all_multipart_uploads()) == []
    assert os.listdir(mpu_area(d)) == []
    # and an abort (boto 2's cancel_upload)
    mp = bucket.initiate_multipart_upload("other")
    mp.upload_part_from_file(io.BytesIO(b"x" * 10), part_num=1)
    assert staged(d, mp.id) is not None
    mp.cancel_upload()
    assert list(bucket.get_all_multipart_uploads()) == []
    assert staged(d, mp.id) is None


def test_boto2_alluxio_multipart_default_entity_too_small(simple_daemon, bucket_name):
    from boto.exception import S3ResponseError
    conn = boto2_connect(simple_daemon.port)
    bucket = conn.create_bucket(bucket_name)
    data = os.urandom(3 * MiB)
    mp = bucket.initiate_multipart_upload("small-chunks")
    for i in range(3):
        mp.upload_part_from_file(io.BytesIO(data[i * MiB:(i + 1) * MiB]), part_num=i + 1)
    with pytest.raises(S3ResponseError) as ei:
        mp.complete_upload()
    assert (ei.value.status, ei.value.error_code) == (400, "EntityTooSmall")
    # the upload is intact: still listed, its parts still there
    assert [u.id for u in bucket.get_all_multipart_uploads()] == [mp.id]
    assert len(list(mp.get_all_parts())) == 3
    assert bucket.get_key("small-chunks") is None
    mp.cancel_upload()
    assert staged(simple_daemon, mp.id) is None


def test_curl_lifecycle_alluxio_paths(simple_daemon, bucket_name, tmp_path):
    """Alluxio's documented curl calls, on /api/v1/s3, in --auth simple."""
    base = "http://127.0.0.1:%d/api/v1/s3" % simple_daemon.port
    auth = ["-H", "Authorization: AWS alice:"]
    assert curl(auth + ["-X", "PUT", base + "/" + bucket_name]).status == 200
    r = curl(auth + ["-X", "POST", "-H", "Content-Type: text/x-parts",
                     "-H", "x-amz-meta-step: curl", "%s/%s/obj?uploads" % (base, bucket_name)])
    assert r.status == 200, r
    assert one(r, "Bucket") == bucket_name and one(r, "Key") == "obj"
    up = one(r, "UploadId")
    parts = [os.urandom(6 * MiB), b"the end"]
    etags = []
    for i, p in enumerate(parts, 1):
        f = tmp_path / ("part%d" % i)
        f.write_bytes(p)
        r = curl(auth + ["-T", str(f), "%s/%s/obj?partNumber=%d&uploadId=%s"
                         % (base, bucket_name, i, up)])
        assert r.status == 200, r
        assert r.header("etag") == '"%s"' % md5hex(p)
        etags.append(md5hex(p))
    r = curl(auth + ["%s/%s/obj?uploadId=%s" % (base, bucket_name, up)])
    assert r.status == 200, r
    assert find_all(r, "Part", "PartNumber") == ["1", "2"]
    assert find_all(r, "Part", "ETag") == ['"%s"' % e for e in etags]
    assert find_all(r, "Part", "Size") == [str(len(p)) for p in parts]
    r = curl(auth + ["%s/%s?uploads" % (base, bucket_name)])
    assert find_all(r, "Upload", "UploadId") == [up]
    xml = tmp_path / "complete.xml"
    xml.write_bytes(complete_xml(zip([1, 2], etags)))
    r = curl(auth + ["-X", "POST", "--data-binary", "@" + str(xml),
                     "%s/%s/obj?uploadId=%s" % (base, bucket_name, up)])
    assert r.status == 200, r
    assert one(r, "ETag") == '"%s"' % mpu_etag(parts)
    assert one(r, "Key") == "obj"
    assert one(r, "Location").endswith("/api/v1/s3/%s/obj" % bucket_name)
    r = curl(auth + ["%s/%s/obj" % (base, bucket_name)])
    assert r.body == b"".join(parts)
    assert r.header("content-type") == "text/x-parts"
    assert r.header("x-amz-meta-step") == "curl"
    assert r.header("etag") == '"%s"' % mpu_etag(parts)
    # abort answers 204 and leaves nothing behind
    r = curl(auth + ["-X", "POST", "%s/%s/gone?uploads" % (base, bucket_name)])
    up2 = one(r, "UploadId")
    f = tmp_path / "p"
    f.write_bytes(b"abc")
    assert curl(auth + ["-T", str(f), "%s/%s/gone?partNumber=1&uploadId=%s"
                        % (base, bucket_name, up2)]).status == 200
    r = curl(auth + ["-X", "DELETE", "%s/%s/gone?uploadId=%s" % (base, bucket_name, up2)])
    assert r.status == 204, r
    assert staged(simple_daemon, up2) is None
    r = curl(auth + ["%s/%s?uploads" % (base, bucket_name)])
    assert find_all(r, "Upload", "UploadId") == []
    r = curl(auth + ["-X", "DELETE", "%s/%s/gone?uploadId=%s" % (base, bucket_name, up2)])
    assert (r.status, r.error_code()) == (404, "NoSuchUpload")
    # HTTP/1.0 has no chunked bodies: the answer comes whole at the end, so a
    # late failure keeps its own status. (An object is no obstacle to a key
    # below it: the side form. A file put in the tree behind the daemon's
    # back, which it has not met yet, is.)
    with open(os.path.join(simple_daemon.ufs, bucket_name, "blk"), "wb") as planted:
        planted.write(b"behind the daemon's back")
    r = curl(auth + ["-X", "POST", "%s/%s/blk/below?uploads" % (base, bucket_name)])
    up3 = one(r, "UploadId")
    r = curl(auth + ["-T", str(f), "%s/%s/blk/below?partNumber=1&uploadId=%s"
                     % (base, bucket_name, up3)])
    xml.write_bytes(complete_xml([(1, md5hex(b"abc"))]))
    r = curl(auth + ["--http1.0", "-X", "POST", "--data-binary", "@" + str(xml),
                     "%s/%s/blk/below?uploadId=%s" % (base, bucket_name, up3)])
    assert (r.status, r.error_code()) == (409, "ParentIsObject"), r
    curl(auth + ["-X", "DELETE", "%s/%s/blk" % (base, bucket_name)])
    r = curl(auth + ["--http1.0", "-X", "POST", "--data-binary", "@" + str(xml),
                     "%s/%s/blk/below?uploadId=%s" % (base, bucket_name, up3)])
    assert r.status == 200 and r.header("transfer-encoding") is None, r
    assert one(r, "ETag") == '"%s"' % mpu_etag([b"abc"])


@pytest.mark.parametrize("mode,prefix", [("sigv4", ""), ("sigv4", "/api/v1/s3"),
                                         ("simple", ""), ("simple", "/api/v1/s3")])
def test_lifecycle_both_paths_both_modes(sigv4_daemon, simple_daemon, bucket_name, mode,
                                         prefix):
    d = sigv4_daemon if mode == "sigv4" else simple_daemon
    s3 = d.boto3("alice", prefix=prefix)
    s3.create_bucket(Bucket=bucket_name)
    parts = [os.urandom(5 * MiB), os.urandom(5 * MiB + 1), b"tail"]
    up, etags = upload_parts(s3, bucket_name, "a/b c+%.bin", parts, ContentType="x/y",
                             Metadata={"k": "v"})
    assert etags == ['"%s"' % md5hex(p) for p in parts]
    listed = s3.list_parts(Bucket=bucket_name, Key="a/b c+%.bin", UploadId=up)
    assert [p["PartNumber"] for p in listed["Parts"]] == [1, 2, 3]
    # simple mode: the access key is the user name
    assert listed["Initiator"]["ID"] == ("alice" if mode == "sigv4" else "AKIDALICE")
    # in progress: invisible to listings and reads
    assert s3.list_objects_v2(Bucket=bucket_name).get("KeyCount") == 0
    assert client_error(s3.head_object, Bucket=bucket_name, Key="a/b c+%.bin")[0] == 404
    r = complete(s3, bucket_name, "a/b c+%.bin", up, etags)
    assert r["ETag"] == '"%s"' % mpu_etag(parts)
    got = s3.get_object(Bucket=bucket_name, Key="a/b c+%.bin")
    assert got["Body"].read() == b"".join(parts)
    assert got["ContentType"] == "x/y" and got["Metadata"] == {"k": "v"}
    assert got["ETag"] == r["ETag"]
    assert [o["Key"] for o in s3.list_objects_v2(Bucket=bucket_name)["Contents"]] == \
        ["a/b c+%.bin"]
    assert s3.list_objects_v2(Bucket=bucket_name)["Contents"][0]["ETag"] == r["ETag"]
    assert staged(d, up) is None
    assert client_error(s3.list_parts, Bucket=bucket_name, Key="a/b c+%.bin",
                        UploadId=up) == (404, "NoSuchUpload")


# -- errors, each leaving the upload intact ---------------------------------------

def test_errors_leave_upload_intact(sigv4_daemon, alice, bucket):
    req = sigv4_daemon.request
    parts = [os.urandom(5 * MiB), b"last"]
    up, etags = upload_parts(alice, bucket, "k", parts)

    def code(r):
        return r.status, r.error_code()

    bogus = "0123456789abcdef0123456789abcdef"
    for method, query, body in [("PUT", "partNumber=1&uploadId=" + bogus, b"x"),
                                ("PUT", "partNumber=1&uploadId=nope", b"x"),
                                ("GET", "uploadId=" + bogus, b""),
                                ("POST", "uploadId=" + bogus, complete_xml([(1, etags[0])])),
                                ("DELETE", "uploadId=" + bogus, b"")]:
        assert code(req(method, "/%s/k?%s" % (bucket, query), body=body, user="alice")) == \
            (404, "NoSuchUpload"), (method, query)
    # an upload ID is bound to its key
    assert code(req("GET", "/%s/other?uploadId=%s" % (bucket, up), user="alice")) == \
        (404, "NoSuchUpload")
    for pn in ["0", "10001", "-1", "abc", ""]:
        r = req("PUT", "/%s/k?partNumber=%s&uploadId=%s" % (bucket, pn, up), body=b"x",
                user="alice")
        assert code(r) == (400, "InvalidArgument"), pn
    # Content-MD5 is checked, and a failed part changes nothing
    bad = base64.b64encode(hashlib.md5(b"other").digest()).decode()
    r = req("PUT", "/%s/k?partNumber=2&uploadId=%s" % (bucket, up), body=b"changed",
            headers={"Content-MD5": bad}, user="alice")
    assert code(r) == (400, "BadDigest")
    r = req("PUT", "/%s/k?partNumber=2&uploadId=%s" % (bucket, up), body=b"changed",
            headers={"Content-MD5": "!!"}, user="alice")
    assert code(r) == (400, "InvalidDigest")
    # UploadPartCopy from a missing source (test_parts.py has the rest)
    r = req("PUT", "/%s/k?partNumber=3&uploadId=%s" % (bucket, up),
            headers={"x-amz-copy-source": "/%s/k" % bucket}, user="alice")
    assert code(r) == (404, "NoSuchKey")

    post = lambda body: req("POST", "/%s/k?uploadId=%s" % (bucket, up), body=body,
                            user="alice")
    assert code(post(complete_xml([(2, etags[1]), (1, etags[0])]))) == (400, "InvalidPartOrder")
    assert code(post(complete_xml([(1, etags[0]), (1, etags[0])]))) == (400, "InvalidPartOrder")
    assert code(post(complete_xml([(1, etags[0]), (3, etags[1])]))) == (400, "InvalidPart")
    assert code(post(complete_xml([(1, etags[1]), (2, etags[1])]))) == (400, "InvalidPart")
    assert code(post(complete_xml([(2, etags[1]), (10001, etags[1])]))) == (400, "InvalidPart")
    # the last part may be small, any other may not (default 5 MiB)
    small_up, small = upload_parts(alice, bucket, "small", [b"a", b"b"])
    r = req("POST", "/%s/small?uploadId=%s" % (bucket, small_up),
            body=complete_xml(zip([1, 2], small)), user="alice")
    assert code(r) == (400, "EntityTooSmall")
    for body in [b"", b"not xml", b"<CompleteMultipartUpload/>",
                 b"<CompleteMultipartUpload><Part><PartNumber>1</PartNumber></Part>"
                 b"</CompleteMultipartUpload>",
                 b"<Other><Part><PartNumber>1</PartNumber><ETag>x</ETag></Part></Other>"]:
        assert code(post(body)) == (400, "MalformedXML"), body
    # bob may not touch alice's upload
    r = req("PUT", "/%s/k?partNumber=1&uploadId=%s" % (bucket, up), body=b"x", user="bob")
    assert code(r) == (403, "AccessDenied")
    r = req("DELETE", "/%s/k?uploadId=%s" % (bucket, up), user="bob")
    assert code(r) == (403, "AccessDenied")

    # after all that, the upload is intact and completes as first uploaded
    assert [p["ETag"] for p in alice.list_parts(Bucket=bucket, Key="k", UploadId=up)["Parts"]] \
        == etags
    complete(alice, bucket, "k", up, etags)
    assert alice.get_object(Bucket=bucket, Key="k")["Body"].read() == b"".join(parts)
    # and the small one is still there to abort
    alice.abort_multipart_upload(Bucket=bucket, Key="small", UploadId=small_up)
    assert alice.list_multipart_uploads(Bucket=bucket).get("Uploads", []) == []


def test_error_after_response_started_is_200_with_error_body(sigv4_daemon, alice, bucket):
    """The 200 goes out once the parts are found valid; a failure after that
    (here: a file took the place of a parent directory) is an <Error> body."""
    up, etags = upload_parts(alice, bucket, "d/x", [b"payload"])
    # a file where a directory must go, put there behind the daemon's back
    # (an object "d" would not be in the way: the side form)
    with open(os.path.join(sigv4_daemon.ufs, bucket, "d"), "wb") as f:
        f.write(b"a file where a directory must go")
    r = sigv4_daemon.request("POST", "/%s/d/x?uploadId=%s" % (bucket, up),
                             body=complete_xml(zip([1], etags)), user="alice")
    assert r.status == 200, r
    assert r.error_code() == "ParentIsObject", r
    # boto3 sees a failure (botocore turns a 200 <Error> into a retryable 500)
    with pytest.raises(ClientError):
        complete(alice, bucket, "d/x", up, etags)
    # the upload is intact: clear the way and complete it
    assert [u["UploadId"] for u in alice.list_multipart_uploads(Bucket=bucket)["Uploads"]] \
        == [up]
    assert files_under(os.path.join(sigv4_daemon.ufs, ".atrium", "tmp")) == []
    alice.delete_object(Bucket=bucket, Key="d")
    complete(alice, bucket, "d/x", up, etags)
    assert alice.get_object(Bucket=bucket, Key="d/x")["Body"].read() == b"payload"


def test_keepalive_whitespace_while_assembling(sigv4_daemon, alice, bucket):
    """A space goes out for every 8 MiB assembled while more remain; what
    follows it has no XML declaration (XML allows none after whitespace)."""
    parts = [os.urandom(5 * MiB), os.urandom(5 * MiB), os.urandom(5 * MiB), b"z"]
    up, etags = upload_parts(alice, bucket, "ws", parts)
    body = complete_xml(zip(range(1, 5), etags))
    r = sigv4_daemon.request("POST", "/%s/ws?uploadId=%s" % (bucket, up), body=body,
                             user="alice")
    assert r.status == 200, r
    assert r.header("transfer-encoding") == "chunked"
    assert r.body.startswith(b" ") and b"<?xml" not in r.body, r.body[:200]
    assert one(r, "ETag") == '"%s"' % mpu_etag(parts)
    # an error after whitespace: a bare <Error> (boto 2 looks for it past 0)
    up, etags = upload_parts(alice, bucket, "wd/x", parts)
    with open(os.path.join(sigv4_daemon.ufs, bucket, "wd"), "wb") as f:
        f.write(b"file behind the daemon's back")
    r = sigv4_daemon.request("POST", "/%s/wd/x?uploadId=%s" % (bucket, up),
                             body=complete_xml(zip(range(1, 5), etags)), user="alice")
    assert r.status == 200, r
    assert r.body.startswith(b" ") and r.body.find(b"<Error>") > 0, r.body[:200]
    assert r.error_code() == "ParentIsObject"
    alice.abort_multipart_upload(Bucket=bucket, Key="wd/x", UploadId=up)


def test_upload_part_bodies_aws_chunked_and_sha256(sigv4_daemon, simple_daemon, alice,
                                                   bucket, bucket_name):
    # aws-chunked (decoded in either auth mode), here unsigned with a trailer
    s3 = simple_daemon.boto3("alice")
    s3.create_bucket(Bucket=bucket_name)
    up = s3.create_multipart_upload(Bucket=bucket_name, Key="ch")["UploadId"]
    data = os.urandom(70000)
    body = b"".join(b"%x\r\n%s\r\n" % (len(c), c) for c in chunks(data, 32768))
    body += b"0\r\nx-amz-checksum-crc32:%s\r\n\r\n" % base64.b64encode(
        zlib.crc32(data).to_bytes(4, "big"))
    r = simple_daemon.request(
        "PUT", "/%s/ch?partNumber=1&uploadId=%s" % (bucket_name, up), body=body,
        headers={"Authorization": "AWS AKIDALICE:x", "Content-Encoding": "aws-chunked",
                 "x-amz-content-sha256": "STREAMING-UNSIGNED-PAYLOAD-TRAILER",
                 "x-amz-trailer": "x-amz-checksum-crc32",
                 "x-amz-decoded-content-length": str(len(data))})
    assert r.status == 200, r
    assert r.header("etag") == '"%s"' % md5hex(data)
    parts = s3.list_parts(Bucket=bucket_name, Key="ch", UploadId=up)["Parts"]
    assert [(p["PartNumber"], p["Size"]) for p in parts] == [(1, len(data))]
    complete(s3, bucket_name, "ch", up, [r.header("etag")])
    assert s3.get_object(Bucket=bucket_name, Key="ch")["Body"].read() == data
    # a body that does not hash to the signed x-amz-content-sha256 is no part
    from s3util import sign_v4
    up, etags = upload_parts(alice, bucket, "sha", [b"original"])
    path = "/%s/sha?partNumber=1&uploadId=%s" % (bucket, up)
    ak, sk = sigv4_daemon.keys("alice")
    headers = sign_v4("PUT", sigv4_daemon.url(path), {}, b"replaced", ak, sk)
    conn = http.client.HTTPConnection("127.0.0.1", sigv4_daemon.port, timeout=30)
    conn.request("PUT", path, body=b"tampered", headers=headers)
    resp = conn.getresponse()
    assert b"XAmzContentSHA256Mismatch" in resp.read()
    conn.close()
    assert resp.status == 400
    parts = alice.list_parts(Bucket=bucket, Key="sha", UploadId=up)["Parts"]
    assert [p["ETag"] for p in parts] == etags
    assert len(staged(sigv4_daemon, up)) == 1


def test_reupload_replaces_part_and_unnamed_parts_are_discarded(sigv4_daemon, alice, bucket):
    up = alice.create_multipart_upload(Bucket=bucket, Key="r")["UploadId"]
    e1 = alice.upload_part(Bucket=bucket, Key="r", UploadId=up, PartNumber=1,
                           Body=b"0" * (5 * MiB))["ETag"]
    new = os.urandom(5 * MiB)
    e1 = alice.upload_part(Bucket=bucket, Key="r", UploadId=up, PartNumber=1, Body=new)["ETag"]
    alice.upload_part(Bucket=bucket, Key="r", UploadId=up, PartNumber=2, Body=b"skipped")
    e3 = alice.upload_part(Bucket=bucket, Key="r", UploadId=up, PartNumber=3,
                           Body=b"end")["ETag"]
    assert len(staged(sigv4_daemon, up)) == 3
    parts = alice.list_parts(Bucket=bucket, Key="r", UploadId=up)["Parts"]
    assert [(p["PartNumber"], p["Size"]) for p in parts] == [(1, 5 * MiB), (2, 7), (3, 3)]
    complete(alice, bucket, "r", up, [e1, e3], numbers=[1, 3])
    got = alice.get_object(Bucket=bucket, Key="r")
    assert got["Body"].read() == new + b"end"
    assert got["ETag"] == '"%s"' % mpu_etag([new, b"end"])
    assert staged(sigv4_daemon, up) is None


def test_deleting_bucket_drops_its_uploads(sigv4_daemon, alice, bucket_name):
    alice.create_bucket(Bucket=bucket_name)
    up, _ = upload_parts(alice, bucket_name, "k", [b"abc"])
    alice.delete_bucket(Bucket=bucket_name)
    assert staged(sigv4_daemon, up) is None
    alice.create_bucket(Bucket=bucket_name)
    assert alice.list_multipart_uploads(Bucket=bucket_name).get("Uploads", []) == []
    assert client_error(alice.list_parts, Bucket=bucket_name, Key="k", UploadId=up) == \
        (404, "NoSuchUpload")


# -- pagination -----------------------------------------------------------------

def test_list_parts_pages(sigv4_daemon, alice, bucket):
    up = alice.create_multipart_upload(Bucket=bucket, Key="p")["UploadId"]
    for n in [7, 1, 3, 5, 2]:
        alice.upload_part(Bucket=bucket, Key="p", UploadId=up, PartNumber=n, Body=b"%d" % n)
    r = alice.list_parts(Bucket=bucket, Key="p", UploadId=up, MaxParts=2)
    assert [p["PartNumber"] for p in r["Parts"]] == [1, 2]
    assert r["IsTruncated"] is True and r["NextPartNumberMarker"] == 2 and r["MaxParts"] == 2
    r = alice.list_parts(Bucket=bucket, Key="p", UploadId=up, MaxParts=2, PartNumberMarker=2)
    assert [p["PartNumber"] for p in r["Parts"]] == [3, 5]
    assert r["IsTruncated"] is True and r["NextPartNumberMarker"] == 5
    assert r["PartNumberMarker"] == 2
    r = alice.list_parts(Bucket=bucket, Key="p", UploadId=up, MaxParts=2, PartNumberMarker=5)
    assert [p["PartNumber"] for p in r["Parts"]] == [7]
    assert r["IsTruncated"] is False
    pages = alice.get_paginator("list_parts").paginate(
        Bucket=bucket, Key="p", UploadId=up, PaginationConfig={"PageSize": 2})
    assert [p["PartNumber"] for page in pages for p in page["Parts"]] == [1, 2, 3, 5, 7]
    for q in ["max-parts=-1", "max-parts=x", "part-number-marker=x"]:
        r = sigv4_daemon.request("GET", "/%s/p?uploadId=%s&%s" % (bucket, up, q), user="alice")
        assert (r.status, r.error_code()) == (400, "InvalidArgument"), q
    alice.abort_multipart_upload(Bucket=bucket, Key="p", UploadId=up)


def test_list_multipart_uploads_pages(sigv4_daemon, alice, bucket):
    keys = ["b", "a/2", "a/1", "b", "a-b", "c/d/e", "c/f g"]
    ids = [alice.create_multipart_upload(Bucket=bucket, Key=k)["UploadId"] for k in keys]
    # key order (bytes: '-' < '/'), then initiation order within a key
    want = [("a-b", ids[4]), ("a/1", ids[2]), ("a/2", ids[1]), ("b", ids[0]), ("b", ids[3]),
            ("c/d/e", ids[5]), ("c/f g", ids[6])]
    r = alice.list_multipart_uploads(Bucket=bucket)
    assert [(u["Key"], u["UploadId"]) for u in r["Uploads"]] == want
    assert r["IsTruncated"] is False
    assert r["Uploads"][0]["Initiator"]["ID"] == "alice"
    assert r["Uploads"][0]["StorageClass"] == "STANDARD"
    # pages of 2, following NextKeyMarker / NextUploadIdMarker by hand
    got, km, im = [], None, None
    while True:
        args = {"Bucket": bucket, "MaxUploads": 2}
        if km:
            args.update(KeyMarker=km, UploadIdMarker=im)
        r = alice.list_multipart_uploads(**args)
        got += [(u["Key"], u["UploadId"]) for u in r.get("Uploads", [])]
        if not r["IsTruncated"]:
            break
        km, im = r["NextKeyMarker"], r["NextUploadIdMarker"]
    assert got == want
    pages = alice.get_paginator("list_multipart_uploads").paginate(
        Bucket=bucket, PaginationConfig={"PageSize": 3})
    assert [(u["Key"], u["UploadId"]) for p in pages for u in p.get("Uploads", [])] == want
    # key-marker alone: keys above it; with upload-id-marker: that key's later uploads too
    r = alice.list_multipart_uploads(Bucket=bucket, KeyMarker="b")
    assert [u["Key"] for u in r["Uploads"]] == ["c/d/e", "c/f g"]
    r = alice.list_multipart_uploads(Bucket=bucket, KeyMarker="b", UploadIdMarker=ids[0])
    assert [(u["Key"], u["UploadId"]) for u in r["Uploads"]] == want[4:]
    # prefix and delimiter, with a page ending on a common prefix
    r = alice.list_multipart_uploads(Bucket=bucket, Delimiter="/")
    assert [u["Key"] for u in r["Uploads"]] == ["a-b", "b", "b"]
    assert [p["Prefix"] for p in r["CommonPrefixes"]] == ["a/", "c/"]
    r = alice.list_multipart_uploads(Bucket=bucket, Delimiter="/", MaxUploads=2)
    assert [u["Key"] for u in r["Uploads"]] == ["a-b"]
    assert [p["Prefix"] for p in r["CommonPrefixes"]] == ["a/"]
    assert r["IsTruncated"] is True and r["NextKeyMarker"] == "a/"
    r = alice.list_multipart_uploads(Bucket=bucket, Delimiter="/", MaxUploads=2,
                                     KeyMarker="a/")
    assert [u["Key"] for u in r["Uploads"]] == ["b", "b"]
    assert "CommonPrefixes" not in r
    r = alice.list_multipart_uploads(Bucket=bucket, Prefix="c/", Delimiter="/")
    assert [u["Key"] for u in r["Uploads"]] == ["c/f g"]
    assert [p["Prefix"] for p in r["CommonPrefixes"]] == ["c/d/"]
    assert r["Prefix"] == "c/" and r["Delimiter"] == "/"
    r = sigv4_daemon.request("GET", "/%s?uploads&prefix=c%%2F&encoding-type=url" % bucket,
                             user="alice")
    assert find_all(r, "Upload", "Key") == ["c/d/e", "c/f%20g"]
    for q in ["max-uploads=-1", "max-uploads=x", "encoding-type=bogus"]:
        r = sigv4_daemon.request("GET", "/%s?uploads&%s" % (bucket, q), user="alice")
        assert (r.status, r.error_code()) == (400, "InvalidArgument"), q
    for k, i in zip(keys, ids):
        alice.abort_multipart_upload(Bucket=bucket, Key=k, UploadId=i)
    assert alice.list_multipart_uploads(Bucket=bucket).get("Uploads", []) == []


# -- restarts and crashes ----------------------------------------------------------

def test_restart_keeps_upload_completable(atriumd_factory, bucket_name):
    d = atriumd_factory("sigv4", "mpu-restart")
    s3 = d.boto3("alice")
    s3.create_bucket(Bucket=bucket_name)
    parts = [os.urandom(5 * MiB), b"second"]
    up, etags = upload_parts(s3, bucket_name, "survivor", parts[:1], ContentType="t/s")
    d.restart()
    s3 = d.boto3("alice")
    assert [u["UploadId"] for u in s3.list_multipart_uploads(Bucket=bucket_name)["Uploads"]] \
        == [up]
    etags.append(s3.upload_part(Bucket=bucket_name, Key="survivor", UploadId=up, PartNumber=2,
                                Body=parts[1])["ETag"])
    d.restart()
    s3 = d.boto3("alice")
    assert [p["ETag"] for p in s3.list_parts(Bucket=bucket_name, Key="survivor",
                                              UploadId=up)["Parts"]] == etags
    complete(s3, bucket_name, "survivor", up, etags)
    got = s3.get_object(Bucket=bucket_name, Key="survivor")
    assert got["Body"].read() == b"".join(parts) and got["ContentType"] == "t/s"
    assert os.listdir(mpu_area(d)) == []


def kill9_and_restart(d):
    os.kill(d.proc.pid, signal.SIGKILL)
    d.proc.wait(timeout=30)
    d.start()
    return d.boto3("alice")


def test_kill9_between_upload_part_and_complete(atriumd_factory, bucket_name):
    d = atriumd_factory("sigv4", "mpu-kill9")
    s3 = d.boto3("alice")
    s3.create_bucket(Bucket=bucket_name)
    parts = [os.urandom(5 * MiB), os.urandom(1000)]
    up, etags = upload_parts(s3, bucket_name, "k9", parts)
    # what a crash mid-part or between file and row leaves: swept at start
    stray = os.path.join(mpu_area(d), up, "00003-stray")
    with open(stray, "wb") as f:
        f.write(b"garbage")
    orphan = os.path.join(mpu_area(d), "0" * 32)
    os.mkdir(orphan)
    s3 = kill9_and_restart(d)
    assert not os.path.exists(stray) and not os.path.exists(orphan)
    assert [u["UploadId"] for u in s3.list_multipart_uploads(Bucket=bucket_name)["Uploads"]] \
        == [up]
    assert [p["PartNumber"] for p in s3.list_parts(Bucket=bucket_name, Key="k9",
                                                    UploadId=up)["Parts"]] == [1, 2]
    r = complete(s3, bucket_name, "k9", up, etags)
    assert r["ETag"] == '"%s"' % mpu_etag(parts)
    assert s3.get_object(Bucket=bucket_name, Key="k9")["Body"].read() == b"".join(parts)
    assert os.listdir(mpu_area(d)) == []


def test_kill9_during_complete(atriumd_factory, bucket_name):
    """Killed once the completion's 200 has started (assembly under way, or
    done): after restart the upload is listable and completable, or the
    object is there whole — never a torn object."""
    d = atriumd_factory("sigv4", "mpu-kill9-complete")
    s3 = d.boto3("alice")
    s3.create_bucket(Bucket=bucket_name)
    old = b"old object " * 1000
    s3.put_object(Bucket=bucket_name, Key="obj", Body=old)
    parts = [os.urandom(8 * MiB) for _ in range(6)] + [b"end"]
    up, etags = upload_parts(s3, bucket_name, "obj", parts)
    body = complete_xml(zip(range(1, len(parts) + 1), etags))
    from s3util import sign_v4
    path = "/%s/obj?uploadId=%s" % (bucket_name, up)
    ak, sk = d.keys("alice")
    headers = sign_v4("POST", d.url(path), {}, body, ak, sk)
    conn = http.client.HTTPConnection("127.0.0.1", d.port, timeout=60)
    conn.request("POST", path, body=body, headers=headers)
    resp = conn.getresponse()   # the status line and headers: assembly has begun
    assert resp.status == 200
    s3 = kill9_and_restart(d)
    conn.close()
    got = s3.get_object(Bucket=bucket_name, Key="obj")
    data = got["Body"].read()
    uploads = s3.list_multipart_uploads(Bucket=bucket_name).get("Uploads", [])
    if data == old:
        # not committed: the upload is whole and completes now
        assert [u["UploadId"] for u in uploads] == [up]
        complete(s3, bucket_name, "obj", up, etags)
        data = s3.get_object(Bucket=bucket_name, Key="obj")["Body"].read()
        uploads = []
    assert data == b"".join(parts)
    assert s3.head_object(Bucket=bucket_name, Key="obj")["ETag"] == '"%s"' % mpu_etag(parts)
    assert files_under(os.path.join(d.ufs, ".atrium", "tmp")) == []
    if uploads:
        # committed, killed before the rows went: completing again is harmless
        complete(s3, bucket_name, "obj", up, etags)
        assert s3.get_object(Bucket=bucket_name, Key="obj")["Body"].read() == b"".join(parts)
    assert s3.list_multipart_uploads(Bucket=bucket_name).get("Uploads", []) == []
    assert os.listdir(mpu_area(d)) == []


# -- concurrency --------------------------------------------------------------------

def test_parts_in_parallel(sigv4_daemon, bucket):
    clients = [sigv4_daemon.boto3("alice") for _ in range(8)]
    up = clients[0].create_multipart_upload(Bucket=bucket, Key="par")["UploadId"]
    parts = [os.urandom(5 * MiB + i) for i in range(16)]

    def send(i):
        s3 = clients[i % len(clients)]
        return s3.upload_part(Bucket=bucket, Key="par", UploadId=up, PartNumber=i + 1,
                              Body=parts[i])["ETag"]
    # each part twice at once, from different connections: same bytes, one part
    with ThreadPoolExecutor(8) as ex:
        etags = list(ex.map(send, list(range(16)) * 2))[:16]
    assert len(staged(sigv4_daemon, up)) == 16
    r = complete(clients[0], bucket, "par", up, etags)
    assert r["ETag"] == '"%s"' % mpu_etag(parts)
    assert clients[1].get_object(Bucket=bucket, Key="par")["Body"].read() == b"".join(parts)


def test_two_uploads_same_key(sigv4_daemon, alice, bucket):
    datas = [os.urandom(5 * MiB), b"A"], [os.urandom(5 * MiB), b"BB"]
    ups = [upload_parts(alice, bucket, "same", p) for p in datas]
    results = [None, None]

    def fin(i):
        s3 = sigv4_daemon.boto3("alice")
        results[i] = complete(s3, bucket, "same", ups[i][0], ups[i][1])["ETag"]
    threads = [threading.Thread(target=fin, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results == ['"%s"' % mpu_etag(p) for p in datas]
    got = alice.get_object(Bucket=bucket, Key="same")
    body = got["Body"].read()
    i = [b"".join(p) for p in datas].index(body)   # one whole upload, not a mix
    assert got["ETag"] == results[i]
    assert alice.list_multipart_uploads(Bucket=bucket).get("Uploads", []) == []
    assert staged(sigv4_daemon, ups[0][0]) is None and staged(sigv4_daemon, ups[1][0]) is None


def test_complete_while_reading_old_object(sigv4_daemon, alice, bucket):
    old = os.urandom(12 * MiB)
    alice.put_object(Bucket=bucket, Key="hot", Body=old)
    parts = [os.urandom(6 * MiB), os.urandom(6 * MiB)]
    new = b"".join(parts)
    up, etags = upload_parts(alice, bucket, "hot", parts)
    done = threading.Event()
    seen, errors = [], []

    def reader():
        s3 = sigv4_daemon.boto3("alice")
        try:
            while True:
                finished = done.is_set()
                body = s3.get_object(Bucket=bucket, Key="hot")["Body"].read()
                seen.append(body == old and "old" or body == new and "new" or "torn")
                if finished:
                    return
        except Exception as e:  # reported below
            errors.append(e)
    t = threading.Thread(target=reader)
    t.start()
    try:
        complete(alice, bucket, "hot", up, etags)
    finally:
        done.set()
        t.join()
    assert not errors, errors
    assert "torn" not in seen and seen[-1] == "new", seen
