"""The UFS keeps objects as plain files; interrupted uploads leave nothing."""
import hashlib
import os
import socket
import time

import pytest

from s3util import files_under, list_keys_xml, md5hex, sign_v4


def test_put_object_is_plain_file(sigv4_daemon, bucket_name):
    s3 = sigv4_daemon.boto3("alice")
    s3.create_bucket(Bucket=bucket_name)
    objs = {"top.txt": b"top level\n", "a/b/c": os.urandom(123457),
            "sp ace/\u00e9t\u00e9.bin": b"unicode path"}
    for k, v in objs.items():
        s3.put_object(Bucket=bucket_name, Key=k, Body=v)
    root = os.path.join(sigv4_daemon.ufs, bucket_name)
    for k, v in objs.items():
        path = os.path.join(root, *k.split("/"))
        assert os.path.isfile(path), path
        with open(path, "rb") as f:
            assert f.read() == v, k
    assert os.path.isdir(os.path.join(root, "a", "b"))
    assert files_under(root) == sorted(os.path.join(*k.split("/")) for k in objs)
    # private state is not visible as a bucket
    names = [b["Name"] for b in s3.list_buckets()["Buckets"]]
    assert ".atrium" not in names


def test_file_dropped_behind_the_back_is_served(sigv4_daemon, bucket_name):
    s3 = sigv4_daemon.boto3("alice")
    s3.create_bucket(Bucket=bucket_name)
    s3.put_object(Bucket=bucket_name, Key="known", Body=b"known")
    root = os.path.join(sigv4_daemon.ufs, bucket_name)
    dropped = {"dropped.txt": b"dropped behind the daemon's back\n",
               "sub/dir/dropped2.bin": os.urandom(300000)}
    for k, v in dropped.items():
        path = os.path.join(root, *k.split("/"))
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "wb") as f:
            f.write(v)

    r = s3.list_objects_v2(Bucket=bucket_name)
    assert [o["Key"] for o in r["Contents"]] == ["dropped.txt", "known", "sub/dir/dropped2.bin"]
    sizes = {o["Key"]: o["Size"] for o in r["Contents"]}
    assert sizes["sub/dir/dropped2.bin"] == 300000
    r = s3.list_objects_v2(Bucket=bucket_name, Delimiter="/")
    assert [o["Key"] for o in r["Contents"]] == ["dropped.txt", "known"]
    assert [p["Prefix"] for p in r["CommonPrefixes"]] == ["sub/"]

    for k, v in dropped.items():
        h = s3.head_object(Bucket=bucket_name, Key=k)
        assert h["ContentLength"] == len(v)
        assert h["ETag"].strip('"') == md5hex(v), k
        g = s3.get_object(Bucket=bucket_name, Key=k)
        assert g["Body"].read() == v
        assert g["ETag"].strip('"') == md5hex(v), k


def test_file_dropped_then_head_first(sigv4_daemon, bucket_name):
    """Lookup (not listing) must pick up a file that appeared in the UFS."""
    s3 = sigv4_daemon.boto3("alice")
    s3.create_bucket(Bucket=bucket_name)
    v = b"head me first"
    with open(os.path.join(sigv4_daemon.ufs, bucket_name, "h.txt"), "wb") as f:
        f.write(v)
    h = s3.head_object(Bucket=bucket_name, Key="h.txt")
    assert h["ContentLength"] == len(v)
    assert h["ETag"].strip('"') == md5hex(v)
    assert s3.get_object(Bucket=bucket_name, Key="h.txt")["Body"].read() == v


def _wait_until(pred, timeout=15.0):
    deadline = time.monotonic() + timeout
    delay = 0.01
    while True:
        if pred():
            return True
        if time.monotonic() > deadline:
            return False
        time.sleep(delay)  # polling interval, bounded by the deadline
        delay = min(delay * 2, 0.25)


def _staging(d):
    tmp = os.path.join(d.ufs, ".atrium", "tmp")
    return files_under(tmp) if os.path.isdir(tmp) else []


def _disconnect_mid_body(d, path, headers, staged_before):
    port = d.port
    s = socket.create_connection(("127.0.0.1", port), timeout=10)
    try:
        req = "PUT %s HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n" % (path, port)
        for k, v in headers.items():
            req += "%s: %s\r\n" % (k, v)
        req += "Content-Length: %d\r\n\r\n" % (1024 * 1024)
        s.sendall(req.encode() + b"x" * 1000)
        # Make sure the upload really is in progress before hanging up: the
        # daemon stages the body in DATA/ufs/.atrium/tmp while it reads it.
        assert _wait_until(lambda: len(_staging(d)) > len(staged_before), 10), \
            "no staging file appeared in .atrium/tmp while the body was being sent"
    finally:
        s.close()


@pytest.mark.parametrize("mode", ["simple", "sigv4"])
@pytest.mark.parametrize("existing", [False, True], ids=["new", "overwrite"])
def test_disconnect_mid_body_leaves_nothing(simple_daemon, sigv4_daemon, bucket_name,
                                            mode, existing):
    d = simple_daemon if mode == "simple" else sigv4_daemon
    user = None if mode == "simple" else "alice"
    r = d.request("PUT", "/" + bucket_name, user=user)
    assert r.status == 200, r
    old = b"previous version"
    if existing:
        r = d.request("PUT", "/%s/dir/partial.bin" % bucket_name, body=old, user=user)
        assert r.status == 200, r
    before = files_under(os.path.join(d.ufs, bucket_name))

    headers = {}
    if user:
        ak, sk = d.keys(user)
        url = "http://127.0.0.1:%d/%s/dir/partial.bin" % (d.port, bucket_name)
        headers = sign_v4("PUT", url, {"x-amz-content-sha256": "UNSIGNED-PAYLOAD"},
                          b"", ak, sk)
        headers = {k: v for k, v in headers.items() if k.lower() != "content-length"}
    _disconnect_mid_body(d, "/%s/dir/partial.bin" % bucket_name, headers, _staging(d))

    assert _wait_until(lambda: _staging(d) == []), \
        "staging file left behind: %r" % _staging(d)
    # The daemon is still healthy and serves the bucket.
    r = d.request("GET", "/%s/dir/partial.bin" % bucket_name, user=user)
    if existing:
        assert r.status == 200 and r.body == old, r
        assert r.header("etag").strip('"') == hashlib.md5(old).hexdigest()
    else:
        assert (r.status, r.error_code()) == (404, "NoSuchKey"), r
    assert files_under(os.path.join(d.ufs, bucket_name)) == before
    r = d.request("GET", "/%s?list-type=2" % bucket_name, user=user)
    assert r.status == 200, r
    assert list_keys_xml(r) == (["dir/partial.bin"] if existing else [])
    assert _staging(d) == []
