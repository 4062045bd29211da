"""Range GET, conditional GET/HEAD/PUT, response-* overrides and
x-amz-storage-class, with boto3, awscli, curl and raw requests."""
import email.utils
import http.client
import json
import os
import socket
import subprocess
import time

import pytest
from botocore.exceptions import ClientError

from s3util import USERS, curl, md5hex, sign_v4


def client_error(fn, **kw):
    with pytest.raises(ClientError) as ei:
        fn(**kw)
    r = ei.value.response
    return r["ResponseMetadata"]["HTTPStatusCode"], r["Error"]["Code"]


@pytest.fixture
def s3(sigv4_daemon):
    return sigv4_daemon.boto3("alice")


@pytest.fixture
def obj(s3, bucket_name):
    """A 3 MiB + 5 byte object (several cache blocks) and its bytes."""
    s3.create_bucket(Bucket=bucket_name)
    data = os.urandom(3 * 1024 * 1024 + 5)
    s3.put_object(Bucket=bucket_name, Key="r/obj", Body=data)
    return bucket_name, "r/obj", data


def http_date(t):
    return email.utils.formatdate(t, usegmt=True)


# -- Range --------------------------------------------------------------------

@pytest.mark.parametrize("rng,first,last", [
    ("bytes=0-9", 0, 9),
    ("bytes=1048570-1048580", 1048570, 1048580),      # across a block boundary
    ("bytes=2097152-", 2097152, 3 * 1024 * 1024 + 4),  # starts on a block
    ("bytes=-7", 3 * 1024 * 1024 - 2, 3 * 1024 * 1024 + 4),
    ("bytes=3145700-99999999", 3145700, 3 * 1024 * 1024 + 4),
    ("bytes=-99999999", 0, 3 * 1024 * 1024 + 4),
])
def test_range_headers_curl(sigv4_daemon, obj, rng, first, last):
    bucket, key, data = obj
    ak, sk, _ = USERS["alice"]
    r = curl(["--aws-sigv4", "aws:amz:us-east-1:s3", "--user", "%s:%s" % (ak, sk),
              "-H", "x-amz-content-sha256: UNSIGNED-PAYLOAD",  # curl 7 does not send it
              "-H", "Range: " + rng, sigv4_daemon.url("/%s/%s" % (bucket, key))])
    assert r.status == 206, r
    assert r.header("content-range") == "bytes %d-%d/%d" % (first, last, len(data)), r
    assert r.header("accept-ranges") == "bytes"
    assert int(r.header("content-length")) == last - first + 1
    assert r.header("etag").strip('"') == md5hex(data)
    assert r.body == data[first:last + 1]


@pytest.mark.parametrize("rng", ["bytes=0-1,5-6", "bytes=5-2", "bytes=abc", "items=0-1",
                                 "bytes=-"])
def test_range_ignored_gives_whole_object(sigv4_daemon, obj, rng):
    """S3 serves the whole object (200) for several ranges or a malformed one."""
    bucket, key, data = obj
    r = sigv4_daemon.request("GET", "/%s/%s" % (bucket, key), headers={"Range": rng},
                             user="alice")
    assert r.status == 200, r
    assert r.header("content-range") is None
    assert r.body == data


@pytest.mark.parametrize("rng", ["bytes=3145733-", "bytes=4000000-4000001", "bytes=-0"])
def test_range_unsatisfiable(sigv4_daemon, obj, rng):
    bucket, key, data = obj
    r = sigv4_daemon.request("GET", "/%s/%s" % (bucket, key), headers={"Range": rng},
                             user="alice")
    assert r.status == 416, r
    assert r.error_code() == "InvalidRange", r
    assert r.header("content-range") == "bytes */%d" % len(data), r
    h = sigv4_daemon.request("HEAD", "/%s/%s" % (bucket, key), headers={"Range": rng},
                             user="alice")
    assert h.status == 416 and h.body == b"", h


def test_range_empty_object_is_416(sigv4_daemon, s3, bucket_name):
    s3.create_bucket(Bucket=bucket_name)
    s3.put_object(Bucket=bucket_name, Key="empty", Body=b"")
    r = sigv4_daemon.request("GET", "/%s/empty" % bucket_name,
                             headers={"Range": "bytes=0-"}, user="alice")
    assert r.status == 416 and r.header("content-range") == "bytes */0", r
    r = sigv4_daemon.request("GET", "/%s/empty" % bucket_name, user="alice")
    assert r.status == 200 and r.body == b"", r


def test_range_head(s3, obj):
    bucket, key, data = obj
    h = s3.head_object(Bucket=bucket, Key=key, Range="bytes=100-199")
    assert h["ResponseMetadata"]["HTTPStatusCode"] == 206
    assert h["ContentLength"] == 100
    assert h["ResponseMetadata"]["HTTPHeaders"]["content-range"] == \
        "bytes 100-199/%d" % len(data)


def test_range_awscli(sigv4_daemon, obj, tmp_path):
    bucket, key, data = obj
    ak, sk, _ = USERS["alice"]
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "AWS_ACCESS_KEY_ID": ak,
           "AWS_SECRET_ACCESS_KEY": sk, "AWS_DEFAULT_REGION": "us-east-1",
           "AWS_CONFIG_FILE": str(tmp_path / "none"), "AWS_PAGER": ""}
    out = tmp_path / "part"
    p = subprocess.run(["/usr/bin/aws", "--endpoint-url", sigv4_daemon.endpoint, "s3api",
                        "get-object", "--bucket", bucket, "--key", key,
                        "--range", "bytes=1000-2999", str(out)],
                       env=env, capture_output=True, timeout=120, stdin=subprocess.DEVNULL)
    assert p.returncode == 0, p.stderr
    assert json.loads(p.stdout)["ContentRange"] == "bytes 1000-2999/%d" % len(data)
    assert out.read_bytes() == data[1000:3000]


def test_download_file_parallel_ranges(s3, bucket_name, tmp_path):
    """boto3's managed download fetches ranges in parallel above its threshold."""
    from boto3.s3.transfer import TransferConfig
    s3.create_bucket(Bucket=bucket_name)
    data = os.urandom(20 * 1024 * 1024 + 12345)
    s3.put_object(Bucket=bucket_name, Key="big", Body=data)
    dst = tmp_path / "big"
    s3.download_file(bucket_name, "big", str(dst),
                     Config=TransferConfig(multipart_threshold=4 * 1024 * 1024,
                                           multipart_chunksize=4 * 1024 * 1024,
                                           max_concurrency=4))
    assert dst.read_bytes() == data


# -- conditional GET / HEAD ---------------------------------------------------

def test_conditional_get_and_head(s3, obj):
    bucket, key, data = obj
    h = s3.head_object(Bucket=bucket, Key=key)
    etag = h["ETag"]
    mtime = h["LastModified"].timestamp()
    before, after = http_date(mtime - 60), http_date(mtime + 60)
    for method in (s3.get_object, s3.head_object):
        assert method(Bucket=bucket, Key=key, IfMatch=etag)["ETag"] == etag
        assert method(Bucket=bucket, Key=key, IfMatch=etag.strip('"'))["ETag"] == etag
        assert client_error(method, Bucket=bucket, Key=key,
                            IfMatch='"0123"')[0] == 412
        assert client_error(method, Bucket=bucket, Key=key, IfNoneMatch=etag)[0] == 304
        assert client_error(method, Bucket=bucket, Key=key, IfNoneMatch="*")[0] == 304
        assert method(Bucket=bucket, Key=key, IfNoneMatch='"0123"')["ETag"] == etag
        assert client_error(method, Bucket=bucket, Key=key,
                            IfModifiedSince=after)[0] == 304
        assert method(Bucket=bucket, Key=key, IfModifiedSince=before)["ETag"] == etag
        assert client_error(method, Bucket=bucket, Key=key,
                            IfUnmodifiedSince=before)[0] == 412
        assert method(Bucket=bucket, Key=key, IfUnmodifiedSince=after)["ETag"] == etag
        # AWS: If-Match true + If-Unmodified-Since false -> 200
        assert method(Bucket=bucket, Key=key, IfMatch=etag,
                      IfUnmodifiedSince=before)["ETag"] == etag
        # AWS: If-None-Match false + If-Modified-Since true -> 304
        assert client_error(method, Bucket=bucket, Key=key, IfNoneMatch=etag,
                            IfModifiedSince=before)[0] == 304
    assert client_error(s3.get_object, Bucket=bucket, Key=key,
                        IfMatch='"0123"') == (412, "PreconditionFailed")


def test_304_and_412_wire_format(sigv4_daemon, obj):
    bucket, key, data = obj
    path = "/%s/%s" % (bucket, key)
    etag = '"%s"' % md5hex(data)
    r = sigv4_daemon.request("GET", path, headers={"If-None-Match": etag}, user="alice")
    assert r.status == 304 and r.body == b"", r
    assert r.header("etag") == etag and r.header("last-modified"), r
    assert r.header("content-length") is None, r
    r = sigv4_daemon.request("GET", path, headers={"If-Match": '"x"'}, user="alice")
    assert r.status == 412 and r.error_code() == "PreconditionFailed", r
    # conditions come before the range: 412 and 304 win over 416
    r = sigv4_daemon.request("GET", path, headers={"If-Match": '"x"', "Range": "bytes=9999999-"},
                             user="alice")
    assert r.status == 412, r
    r = sigv4_daemon.request("GET", path, headers={"If-Match": etag, "Range": "bytes=0-3"},
                             user="alice")
    assert r.status == 206 and r.body == data[:4], r
    # the connection stays usable after a 304 (no stray body)
    ak, sk, _ = USERS["alice"]
    conn = http.client.HTTPConnection("127.0.0.1", sigv4_daemon.port, timeout=30)
    for hdrs, status, body in [({"If-None-Match": etag}, 304, b""),
                               ({"Range": "bytes=0-9"}, 206, data[:10]),
                               ({"If-Modified-Since": http_date(time.time() + 3600)}, 304, b""),
                               ({}, 200, data)]:
        conn.request("GET", path, headers=sign_v4("GET", sigv4_daemon.url(path), hdrs, b"",
                                                  ak, sk))
        resp = conn.getresponse()
        assert resp.status == status and resp.read() == body, (hdrs, resp.status)
    conn.close()


# -- conditional PUT ------------------------------------------------------------

def test_conditional_put(sigv4_daemon, s3, bucket_name):
    """botocore 1.29 predates conditional writes: raw signed requests."""
    s3.create_bucket(Bucket=bucket_name)

    def put(key, body, **hdrs):
        return sigv4_daemon.request("PUT", "/%s/%s" % (bucket_name, key), body=body,
                                    headers=hdrs, user="alice")

    def content(key):
        return s3.get_object(Bucket=bucket_name, Key=key)["Body"].read()

    first = put("c", b"one", **{"If-None-Match": "*"})
    assert first.status == 200, first
    r = put("c", b"two", **{"If-None-Match": "*"})
    assert (r.status, r.error_code()) == (412, "PreconditionFailed"), r
    assert content("c") == b"one"
    r = put("c", b"two", **{"If-Match": '"%s"' % md5hex(b"other")})
    assert (r.status, r.error_code()) == (412, "PreconditionFailed"), r
    second = put("c", b"two", **{"If-Match": first.header("etag")})
    assert second.status == 200 and second.header("etag").strip('"') == md5hex(b"two"), second
    assert content("c") == b"two"
    # unquoted ETag, upper case
    third = put("c", b"three", **{"If-Match": md5hex(b"two").upper()})
    assert third.status == 200, third
    # If-Match on a key that does not exist: 404 NoSuchKey, as S3
    r = put("none", b"x", **{"If-Match": second.header("etag")})
    assert (r.status, r.error_code()) == (404, "NoSuchKey"), r
    # If-None-Match takes only '*'
    r = put("c", b"x", **{"If-None-Match": second.header("etag")})
    assert (r.status, r.error_code()) == (501, "NotImplemented"), r
    # a deleted key can be created again
    s3.delete_object(Bucket=bucket_name, Key="c")
    assert put("c", b"four", **{"If-None-Match": "*"}).status == 200
    assert content("c") == b"four"
    # a directory marker counts as an object; an implied directory does not
    s3.put_object(Bucket=bucket_name, Key="d/x", Body=b"x")
    assert put("d/", b"", **{"If-None-Match": "*"}).status == 200
    assert put("d/", b"", **{"If-None-Match": "*"}).status == 412


def test_conditional_put_curl(sigv4_daemon, s3, bucket_name, tmp_path):
    """curl uploads with Expect: 100-continue: a failed condition is answered
    before the body is sent."""
    s3.create_bucket(Bucket=bucket_name)
    ak, sk, _ = USERS["alice"]
    src = tmp_path / "f"
    src.write_bytes(os.urandom(300000))
    args = ["--aws-sigv4", "aws:amz:us-east-1:s3", "--user", "%s:%s" % (ak, sk),
            "-H", "x-amz-content-sha256: UNSIGNED-PAYLOAD", "-H", "If-None-Match: *",
            "-T", str(src), sigv4_daemon.url("/%s/f" % bucket_name)]
    assert curl(args).status == 200
    r = curl(args)
    assert r.status == 412 and r.error_code() == "PreconditionFailed", r


def _send_put_headers(d, path, body, extra):
    """Opens a PUT with Expect: 100-continue, waits for '100 Continue'
    (sent once the request is authorized and its conditions checked), and
    returns the socket with the body not yet sent."""
    ak, sk, _ = USERS["alice"]
    headers = dict(extra)
    headers["Content-Length"] = str(len(body))
    headers = sign_v4("PUT", d.url(path), headers, body, ak, sk)
    headers["Expect"] = "100-continue"
    headers["Host"] = "127.0.0.1:%d" % d.port
    s = socket.create_connection(("127.0.0.1", d.port), timeout=30)
    head = "PUT %s HTTP/1.1\r\n" % path + "".join(
        "%s: %s\r\n" % kv for kv in headers.items()) + "\r\n"
    s.sendall(head.encode())
    got = b""
    while b"\r\n\r\n" not in got:
        chunk = s.recv(4096)
        assert chunk, got
        got += chunk
    assert got.startswith(b"HTTP/1.1 100"), got
    return s


def _finish(s, body):
    s.sendall(body)
    got = b""
    while True:
        chunk = s.recv(65536)
        if not chunk:
            break
        got += chunk
        if b"\r\n\r\n" in got:
            head, rest = got.split(b"\r\n\r\n", 1)
            n = [int(l.split(b":")[1]) for l in head.split(b"\r\n")
                 if l.lower().startswith(b"content-length:")]
            if n and len(rest) >= n[0]:
                break
    s.close()
    return got


@pytest.mark.parametrize("cond", ["if-none-match", "if-match"])
def test_conditional_put_race_is_409(sigv4_daemon, s3, bucket_name, cond):
    """The condition holds when the PUT starts; another PUT changes the key
    before the body ends: the commit is refused with 409
    ConditionalRequestConflict and the other writer's object stays."""
    s3.create_bucket(Bucket=bucket_name)
    path = "/%s/race" % bucket_name
    extra = {"If-None-Match": "*"}
    if cond == "if-match":
        e = s3.put_object(Bucket=bucket_name, Key="race", Body=b"base")["ETag"]
        extra = {"If-Match": e}
    body = os.urandom(100000)
    sock = _send_put_headers(sigv4_daemon, path, body, extra)
    s3.put_object(Bucket=bucket_name, Key="race", Body=b"winner")
    resp = _finish(sock, body)
    assert resp.startswith(b"HTTP/1.1 409"), resp
    assert b"<Code>ConditionalRequestConflict</Code>" in resp, resp
    assert s3.get_object(Bucket=bucket_name, Key="race")["Body"].read() == b"winner"
    stage = os.path.join(sigv4_daemon.ufs, ".atrium", "tmp")
    assert [f for f in os.listdir(stage) if f.startswith("put-")] == []


# -- response-* overrides -----------------------------------------------------------

# boto3 parameter -> (response header, value); the query parameter is
# "response-" + the header name.
OVERRIDES = {
    "ResponseContentType": ("content-type", "text/x-override"),
    "ResponseContentLanguage": ("content-language", "fr"),
    "ResponseExpires": ("expires", "Thu, 01 Dec 1994 16:00:00 GMT"),
    "ResponseCacheControl": ("cache-control", "no-cache"),
    "ResponseContentDisposition": ("content-disposition", 'attachment; filename="x y.txt"'),
    "ResponseContentEncoding": ("content-encoding", "identity"),
}


def test_response_overrides(sigv4_daemon, s3, bucket_name):
    s3.create_bucket(Bucket=bucket_name)
    s3.put_object(Bucket=bucket_name, Key="o", Body=b"hello", ContentType="text/plain",
                  CacheControl="max-age=60", Metadata={"m": "v"})
    params = {k: v[1] for k, v in OVERRIDES.items()}
    g = s3.get_object(Bucket=bucket_name, Key="o", **params)
    assert g["Body"].read() == b"hello"
    hdrs = g["ResponseMetadata"]["HTTPHeaders"]
    for name, value in OVERRIDES.values():
        assert hdrs.get(name) == value, (name, hdrs)
    assert g["Metadata"] == {"m": "v"}
    # HEAD takes them too (botocore 1.29's HeadObject lacks the parameters)
    from urllib.parse import quote, urlencode
    q = urlencode({"response-" + name: value for name, value in OVERRIDES.values()},
                  quote_via=quote)
    h = sigv4_daemon.request("HEAD", "/%s/o?%s" % (bucket_name, q), user="alice")
    assert h.status == 200, (q, h)
    for name, value in OVERRIDES.values():
        assert h.header(name) == value, (name, q, h)
    # without overrides, the stored headers come back
    g = s3.get_object(Bucket=bucket_name, Key="o")
    assert g["ContentType"] == "text/plain" and g["CacheControl"] == "max-age=60"
    # presigned GET with an override (what browsers download through)
    url = s3.generate_presigned_url("get_object", Params={
        "Bucket": bucket_name, "Key": "o",
        "ResponseContentDisposition": "attachment; filename=o.bin"})
    r = curl([url])
    assert r.status == 200 and r.body == b"hello", r
    assert r.header("content-disposition") == "attachment; filename=o.bin", r
    # a value that would break the header line is refused
    r = sigv4_daemon.request("GET", "/%s/o?response-content-type=a%%0D%%0AX-Evil%%3A%%201" %
                             bucket_name, user="alice")
    assert r.status == 400 and r.error_code() == "InvalidArgument", r
    assert r.header("x-evil") is None


def test_response_overrides_refused_when_anonymous(simple_daemon, bucket_name):
    d = simple_daemon
    assert d.request("PUT", "/" + bucket_name).status == 200
    assert d.request("PUT", "/%s/o" % bucket_name, body=b"x").status == 200
    r = d.request("GET", "/%s/o?response-content-type=text/html" % bucket_name)
    assert r.status == 400 and r.error_code() == "InvalidRequest", r
    # the same request naming a user (simple mode's "signed") is served
    r = d.request("GET", "/%s/o?response-content-type=text/html" % bucket_name,
                  headers={"Authorization": "AWS root:x"})
    assert r.status == 200 and r.header("content-type") == "text/html", r


# -- x-amz-storage-class --------------------------------------------------------------

def test_storage_class(sigv4_daemon, s3, bucket_name):
    s3.create_bucket(Bucket=bucket_name)
    s3.put_object(Bucket=bucket_name, Key="std", Body=b"x", StorageClass="STANDARD")
    h = s3.head_object(Bucket=bucket_name, Key="std")
    assert "StorageClass" not in h  # S3 does not report STANDARD
    for sc in ["REDUCED_REDUNDANCY", "GLACIER", "standard", "BOGUS"]:
        r = sigv4_daemon.request("PUT", "/%s/sc" % bucket_name, body=b"x",
                                 headers={"x-amz-storage-class": sc}, user="alice")
        assert r.status == 400 and r.error_code() == "InvalidStorageClass", (sc, r)
    assert client_error(s3.head_object, Bucket=bucket_name, Key="sc")[0] == 404


def test_range_reads_only_the_blocks_it_covers(sigv4_daemon, s3, bucket_name):
    """Through the block cache (1 MiB blocks by default), a range loads only
    the blocks it covers: the admin API's in_cache of the file says which."""
    from urllib.parse import quote
    mib = 1024 * 1024
    s3.create_bucket(Bucket=bucket_name)
    data = os.urandom(6 * mib + 100)
    s3.put_object(Bucket=bucket_name, Key="blocks", Body=data)
    path = quote("/%s/blocks" % bucket_name, safe="")

    def in_cache():
        r = sigv4_daemon.request("GET", "/api/v1/fs/stat?path=" + path, user="alice")
        assert r.status == 200, r
        return json.loads(r.body)["in_cache"]

    r = sigv4_daemon.request("POST", "/api/v1/fs/free?path=" + path, user="alice")
    assert r.status == 200, r
    assert in_cache() == 0
    g = s3.get_object(Bucket=bucket_name, Key="blocks", Range="bytes=%d-%d" % (2 * mib + 10,
                                                                             2 * mib + 20))
    assert g["Body"].read() == data[2 * mib + 10:2 * mib + 21]
    assert in_cache() == mib                   # block 2 only
    g = s3.get_object(Bucket=bucket_name, Key="blocks", Range="bytes=%d-%d" % (4 * mib - 1,
                                                                             5 * mib))
    assert g["Body"].read() == data[4 * mib - 1:5 * mib + 1]
    assert in_cache() == 4 * mib               # and blocks 3, 4, 5
    g = s3.get_object(Bucket=bucket_name, Key="blocks", Range="bytes=-50")
    assert g["Body"].read() == data[-50:]
    assert in_cache() == 4 * mib + 100         # and the short last block
