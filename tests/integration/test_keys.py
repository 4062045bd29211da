"""Every key S3 allows (issue 16): keys the file tree cannot hold.

`foo/bar` and `foo/bar/baz` both objects (either order), and `dir/` with
bytes, are kept in the side form (docs/architecture.md, Storage): S3 sees
exactly S3's semantics; the mount and the path view show the directory.
Listings are compared with a model of S3's order written here.
"""
import hashlib
import itertools
import json
import os
from urllib.parse import quote

import pytest
from botocore.exceptions import ClientError

from s3util import files_under


def md5(b):
    return hashlib.md5(b).hexdigest()


def client_error(fn, **kw):
    with pytest.raises(ClientError) as ei:
        fn(**kw)
    e = ei.value.response
    return e["ResponseMetadata"]["HTTPStatusCode"], e["Error"]["Code"]


def side_files(daemon):
    """The side form's files (docs/architecture.md, Storage)."""
    try:
        return set(os.listdir(os.path.join(daemon.ufs, ".atrium", "side")))
    except FileNotFoundError:
        return set()


def get(s3, bucket, key, **kw):
    return s3.get_object(Bucket=bucket, Key=key, **kw)["Body"].read()


# -- the model of S3's listing -------------------------------------------------

def model_list(keys, prefix="", delimiter="", start_after=""):
    """What ListObjects answers (one page): keys in binary order, those with
    the delimiter after the prefix rolled up into common prefixes."""
    contents, prefixes = [], []
    for k in sorted(keys, key=lambda k: k.encode()):
        if not k.startswith(prefix) or k.encode() <= start_after.encode():
            continue
        rest = k[len(prefix):]
        if delimiter and delimiter in rest:
            cp = prefix + rest[:rest.index(delimiter) + len(delimiter)]
            if cp.encode() > start_after.encode() and cp not in prefixes:
                prefixes.append(cp)
            continue
        contents.append(k)
    return contents, prefixes


def list_all_v2(s3, bucket, page=1000, **kw):
    keys, prefixes, token = [], [], None
    while True:
        args = dict(kw, Bucket=bucket, MaxKeys=page)
        if token:
            args["ContinuationToken"] = token
        r = s3.list_objects_v2(**args)
        keys += [o["Key"] for o in r.get("Contents", [])]
        prefixes += [p["Prefix"] for p in r.get("CommonPrefixes", [])]
        if not r["IsTruncated"]:
            return keys, prefixes
        token = r["NextContinuationToken"]


def list_all_v1(s3, bucket, page=1000, **kw):
    keys, prefixes, marker = [], [], ""
    while True:
        r = s3.list_objects(Bucket=bucket, MaxKeys=page, Marker=marker, **kw)
        keys += [o["Key"] for o in r.get("Contents", [])]
        prefixes += [p["Prefix"] for p in r.get("CommonPrefixes", [])]
        if not r["IsTruncated"]:
            return keys, prefixes
        marker = r.get("NextMarker") or max(
            [o["Key"] for o in r.get("Contents", [])] +
            [p["Prefix"] for p in r.get("CommonPrefixes", [])])


# -- foo/bar and foo/bar/baz ---------------------------------------------------

@pytest.mark.parametrize("order", ["object-first", "deeper-first"])
def test_key_and_key_below_it_both_objects(alice, sigv4_daemon, bucket, order):
    side_before = side_files(sigv4_daemon)
    a, b = b"I am foo/bar", b"I am foo/bar/baz" * 100
    puts = [("foo/bar", a), ("foo/bar/baz", b)]
    if order == "deeper-first":
        puts.reverse()
    for k, v in puts:
        alice.put_object(Bucket=bucket, Key=k, Body=v)
    assert get(alice, bucket, "foo/bar") == a
    assert get(alice, bucket, "foo/bar/baz") == b
    h = alice.head_object(Bucket=bucket, Key="foo/bar")
    assert h["ContentLength"] == len(a) and h["ETag"] == '"%s"' % md5(a)
    assert get(alice, bucket, "foo/bar", Range="bytes=2-5") == a[2:6]
    # the tree keeps the directory; the object's bytes are not in it
    root = os.path.join(sigv4_daemon.ufs, bucket)
    assert os.path.isdir(os.path.join(root, "foo", "bar"))
    assert files_under(root) == [os.path.join("foo", "bar", "baz")]
    keys, prefixes = list_all_v2(alice, bucket)
    assert (keys, prefixes) == (["foo/bar", "foo/bar/baz"], [])
    keys, prefixes = list_all_v2(alice, bucket, Prefix="foo/", Delimiter="/")
    assert (keys, prefixes) == (["foo/bar"], ["foo/bar/"])
    # overwrite both, then delete either: the other stays whole
    alice.put_object(Bucket=bucket, Key="foo/bar", Body=b"new bar")
    assert get(alice, bucket, "foo/bar") == b"new bar"
    alice.delete_object(Bucket=bucket, Key="foo/bar/baz")
    assert get(alice, bucket, "foo/bar") == b"new bar"
    assert list_all_v2(alice, bucket) == (["foo/bar"], [])
    alice.put_object(Bucket=bucket, Key="foo/bar/baz", Body=b)
    alice.delete_object(Bucket=bucket, Key="foo/bar")
    assert client_error(alice.get_object, Bucket=bucket, Key="foo/bar") == (404, "NoSuchKey")
    assert get(alice, bucket, "foo/bar/baz") == b
    assert list_all_v2(alice, bucket) == (["foo/bar/baz"], [])
    alice.delete_object(Bucket=bucket, Key="foo/bar/baz")
    assert list_all_v2(alice, bucket) == ([], [])
    # nothing is left in the private area
    assert side_files(sigv4_daemon) == side_before


def test_chain_of_keys_each_below_the_last(alice, bucket):
    keys = ["a", "a/b", "a/b/c", "a/b/c/d"]
    for k in keys:
        alice.put_object(Bucket=bucket, Key=k, Body=k.encode())
    for k in reversed(keys):
        alice.put_object(Bucket=bucket, Key=k + "!", Body=b"!")
    for k in keys:
        assert get(alice, bucket, k) == k.encode()
    everything = keys + [k + "!" for k in keys]
    assert list_all_v2(alice, bucket)[0] == model_list(everything)[0]


def test_copy_and_multipart_of_both_keys(alice, bucket):
    alice.put_object(Bucket=bucket, Key="src", Body=b"copied bytes")
    alice.put_object(Bucket=bucket, Key="p/q/r", Body=b"below")
    # copy onto the key whose directory exists, and from it
    alice.copy_object(Bucket=bucket, Key="p/q", CopySource={"Bucket": bucket, "Key": "src"})
    assert get(alice, bucket, "p/q") == b"copied bytes"
    alice.copy_object(Bucket=bucket, Key="back", CopySource={"Bucket": bucket, "Key": "p/q"})
    assert get(alice, bucket, "back") == b"copied bytes"
    # multipart onto an object's key below it, and onto the object's key
    part = os.urandom(5 * 1024 * 1024)
    for key in ("p/q/r/s", "p/q"):
        up = alice.create_multipart_upload(Bucket=bucket, Key=key)["UploadId"]
        e1 = alice.upload_part(Bucket=bucket, Key=key, UploadId=up, PartNumber=1,
                               Body=part)["ETag"]
        e2 = alice.upload_part(Bucket=bucket, Key=key, UploadId=up, PartNumber=2,
                               Body=key.encode())["ETag"]
        alice.complete_multipart_upload(
            Bucket=bucket, Key=key, UploadId=up,
            MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": e1},
                                       {"PartNumber": 2, "ETag": e2}]})
        assert get(alice, bucket, key) == part + key.encode()
        assert get(alice, bucket, key, Range="bytes=-3") == key.encode()[-3:]
    assert get(alice, bucket, "p/q/r") == b"below"
    assert list_all_v2(alice, bucket)[0] == ["back", "p/q", "p/q/r", "p/q/r/s", "src"]
    r = alice.delete_objects(Bucket=bucket, Delete={"Objects": [
        {"Key": "p/q"}, {"Key": "p/q/r"}, {"Key": "p/q/r/s"}]})
    assert sorted(d["Key"] for d in r["Deleted"]) == ["p/q", "p/q/r", "p/q/r/s"]
    assert not r.get("Errors")
    assert list_all_v2(alice, bucket)[0] == ["back", "src"]


# -- dir/ with bytes -----------------------------------------------------------

def test_directory_key_with_bytes(alice, sigv4_daemon, bucket):
    side_before = side_files(sigv4_daemon)
    body = b"S3A marker with content"
    alice.put_object(Bucket=bucket, Key="dir/", Body=body)
    assert get(alice, bucket, "dir/") == body
    h = alice.head_object(Bucket=bucket, Key="dir/")
    assert h["ContentLength"] == len(body) and h["ETag"] == '"%s"' % md5(body)
    assert get(alice, bucket, "dir/", Range="bytes=4-6") == body[4:7]
    root = os.path.join(sigv4_daemon.ufs, bucket)
    assert os.path.isdir(os.path.join(root, "dir"))
    alice.put_object(Bucket=bucket, Key="dir/file", Body=b"inside")
    r = alice.list_objects_v2(Bucket=bucket)
    assert [(o["Key"], o["Size"]) for o in r["Contents"]] == \
        [("dir/", len(body)), ("dir/file", 6)]
    assert list_all_v2(alice, bucket, Delimiter="/") == ([], ["dir/"])
    assert list_all_v2(alice, bucket, Prefix="dir/", Delimiter="/") == \
        (["dir/", "dir/file"], [])
    # copy from and to it
    alice.copy_object(Bucket=bucket, Key="c", CopySource={"Bucket": bucket, "Key": "dir/"})
    assert get(alice, bucket, "c") == body
    alice.copy_object(Bucket=bucket, Key="e/", CopySource={"Bucket": bucket, "Key": "c"})
    assert get(alice, bucket, "e/") == body
    # an empty marker keeps today's behaviour, and replaces the bytes
    alice.put_object(Bucket=bucket, Key="dir/", Body=b"")
    assert get(alice, bucket, "dir/") == b""
    assert alice.head_object(Bucket=bucket, Key="dir/")["ContentLength"] == 0
    alice.put_object(Bucket=bucket, Key="dir/", Body=body + b"!")
    assert get(alice, bucket, "dir/") == body + b"!"
    # deleting the marker leaves what is in it
    alice.delete_object(Bucket=bucket, Key="dir/")
    assert client_error(alice.get_object, Bucket=bucket, Key="dir/") == (404, "NoSuchKey")
    assert get(alice, bucket, "dir/file") == b"inside"
    alice.delete_object(Bucket=bucket, Key="e/")
    assert list_all_v2(alice, bucket)[0] == ["c", "dir/file"]
    assert side_files(sigv4_daemon) == side_before


def test_directory_key_with_bytes_over_a_file_and_multipart(alice, bucket):
    alice.put_object(Bucket=bucket, Key="f", Body=b"file f")
    alice.put_object(Bucket=bucket, Key="f/", Body=b"marker f/")
    assert get(alice, bucket, "f") == b"file f"
    assert get(alice, bucket, "f/") == b"marker f/"
    part = os.urandom(5 * 1024 * 1024)
    up = alice.create_multipart_upload(Bucket=bucket, Key="m/")["UploadId"]
    e1 = alice.upload_part(Bucket=bucket, Key="m/", UploadId=up, PartNumber=1,
                           Body=part)["ETag"]
    alice.complete_multipart_upload(Bucket=bucket, Key="m/", UploadId=up,
                                    MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": e1}]})
    assert get(alice, bucket, "m/") == part
    assert list_all_v2(alice, bucket)[0] == ["f", "f/", "m/"]


# -- listings against the model ------------------------------------------------

LIST_KEYS = ["foo", "foo/", "foo/bar", "foo/bar/", "foo/bar/baz", "foo/bar/baz/q",
             "foo-bar", "foo.bar", "foo/bar-x", "foo/bara", "x/", "x/y", "x/y/z", "z"]


@pytest.fixture
def list_bucket(alice, bucket):
    # created deepest first and shallowest first, to exercise both orders
    for i, k in enumerate(LIST_KEYS):
        body = b"" if k in ("foo/", "x/") else ("%d:%s" % (i, k)).encode()
        alice.put_object(Bucket=bucket, Key=k, Body=body)
    return bucket


def test_listings_match_the_model(alice, list_bucket):
    prefixes = ["", "f", "foo", "foo/", "foo/b", "foo/bar", "foo/bar/", "foo/bar/baz",
                "x", "x/", "nothing"]
    delimiters = ["", "/", "a", "-", "bar", "/b"]
    for prefix, delim in itertools.product(prefixes, delimiters):
        want = model_list(LIST_KEYS, prefix, delim)
        kw = {"Prefix": prefix}
        if delim:
            kw["Delimiter"] = delim
        for page in (1000, 2):
            assert list_all_v2(alice, list_bucket, page, **kw) == want, (prefix, delim, page)
            assert list_all_v1(alice, list_bucket, page, **kw) == want, (prefix, delim, page)
    # StartAfter
    for after in ["foo", "foo/", "foo/bar", "foo/bar/", "foo/bar/baz", "x"]:
        want = model_list(LIST_KEYS, "", "/", after)
        assert list_all_v2(alice, list_bucket, StartAfter=after, Delimiter="/") == want, after
    # every object reads back its own bytes, sizes in listings are right
    r = alice.list_objects_v2(Bucket=list_bucket)
    for o in r["Contents"]:
        assert o["Size"] == len(get(alice, list_bucket, o["Key"])), o["Key"]


def test_both_keys_survive_a_restart(atriumd_factory):
    d = atriumd_factory("sigv4", "keys-restart")
    s3 = d.boto3("alice")
    s3.create_bucket(Bucket="keys")
    s3.put_object(Bucket="keys", Key="k", Body=b"object k")
    s3.put_object(Bucket="keys", Key="k/child", Body=b"child")
    s3.put_object(Bucket="keys", Key="m/", Body=b"marker bytes")
    d.restart()
    s3 = d.boto3("alice")
    assert get(s3, "keys", "k") == b"object k"
    assert get(s3, "keys", "k/child") == b"child"
    assert get(s3, "keys", "m/") == b"marker bytes"
    assert list_all_v2(s3, "keys") == (["k", "k/child", "m/"], [])
    assert list_all_v2(s3, "keys", Delimiter="/") == (["k"], ["k/", "m/"])


def test_path_view_shows_the_directory(sigv4_daemon, alice, bucket):
    """The admin API's listing (the CLI's `atrium ls`): the directory wins
    the name; nothing of the private area, no second entry."""
    alice.put_object(Bucket=bucket, Key="foo/bar", Body=b"object")
    alice.put_object(Bucket=bucket, Key="foo/bar/baz", Body=b"baz")
    alice.put_object(Bucket=bucket, Key="m/", Body=b"marker bytes")
    r = sigv4_daemon.request("GET", "/api/v1/fs/list?recursive=1&path=" +
                             quote("/" + bucket, safe=""), user="alice")
    assert r.status == 200, r
    paths = [e["path"].rstrip("/") for e in json.loads(r.body)["entries"]]
    root = "/" + bucket
    assert sorted(paths) == [root + "/foo", root + "/foo/bar", root + "/foo/bar/baz",
                             root + "/m"], paths


def test_mount_shows_the_directory(mount_factory, mount_watchdog):
    d = mount_factory("sigv4", "mount-keys")
    s3 = d.boto3("alice")
    s3.create_bucket(Bucket="mkeys")
    s3.put_object(Bucket="mkeys", Key="foo/bar", Body=b"hidden from the mount")
    s3.put_object(Bucket="mkeys", Key="foo/bar/baz", Body=b"baz")
    s3.put_object(Bucket="mkeys", Key="d/", Body=b"marker bytes")
    s3.put_object(Bucket="mkeys", Key="plain", Body=b"plain")
    root = os.path.join(d.mnt, "mkeys")
    assert sorted(os.listdir(root)) == ["d", "foo", "plain"]
    assert os.listdir(os.path.join(root, "foo")) == ["bar"]
    assert os.path.isdir(os.path.join(root, "foo", "bar"))
    assert os.listdir(os.path.join(root, "foo", "bar")) == ["baz"]
    with open(os.path.join(root, "foo", "bar", "baz"), "rb") as f:
        assert f.read() == b"baz"
    assert os.path.isdir(os.path.join(root, "d")) and os.listdir(os.path.join(root, "d")) == []
    # the objects the directories' names hide, through xattrs
    bar = os.path.join(root, "foo", "bar")
    assert os.getxattr(bar, "user.s3.object_size") == str(len(b"hidden from the mount")).encode()
    assert os.getxattr(bar, "user.s3.object_etag") == md5(b"hidden from the mount").encode()
    assert "user.s3.object_size" in os.listxattr(bar)
    assert os.getxattr(os.path.join(root, "d"), "user.s3.object_size") == b"12"
    with pytest.raises(OSError):
        os.getxattr(os.path.join(root, "foo"), "user.s3.object_size")
    assert "user.s3.object_size" not in os.listxattr(os.path.join(root, "foo"))
    with pytest.raises(OSError):
        os.setxattr(bar, "user.s3.object_size", b"1")
    # and nothing of the private area is anywhere in the mount
    seen = [os.path.join(p, n) for p, ds, fs in os.walk(d.mnt) for n in ds + fs]
    assert not any(".atrium" in s for s in seen), seen
    assert get(s3, "mkeys", "foo/bar") == b"hidden from the mount"
