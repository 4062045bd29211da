"""boto3 (SigV4, path style) against --auth sigv4, on / and on /api/v1/s3."""
import os

import pytest
from botocore.exceptions import ClientError

from urllib.parse import unquote_plus

from s3util import list_keys_xml, md5hex, utf8_sorted

PREFIXES = ["", "/api/v1/s3"]

LIST_KEYS = ["a-b", "a/c", "a/b/d", "a0", "b", "a b", "a+b", "\u00e9", "a%b", "z/y/x", "a/b/e"]


def etag(resp):
    return resp["ETag"].strip('"')


@pytest.fixture(params=PREFIXES, ids=["root", "api-v1-s3"])
def s3(request, sigv4_daemon):
    return sigv4_daemon.boto3("alice", prefix=request.param)


def all_pages(s3, method, key_field, **kw):
    """Walk a listing with MaxKeys pagination; returns (keys, prefixes, pages)."""
    keys, prefixes, pages = [], [], 0
    while True:
        r = getattr(s3, method)(**kw)
        pages += 1
        keys += [o["Key"] for o in r.get("Contents", [])]
        prefixes += [p["Prefix"] for p in r.get("CommonPrefixes", [])]
        assert pages < 100, "listing does not terminate"
        if not r["IsTruncated"]:
            return keys, prefixes, pages
        if method == "list_objects_v2":
            assert r.get("NextContinuationToken"), r
            kw["ContinuationToken"] = r["NextContinuationToken"]
        else:
            nxt = r.get("NextMarker") or (keys[-1] if "Delimiter" not in kw else None)
            assert nxt, ("v1 truncated listing with a delimiter must give NextMarker", r)
            kw["Marker"] = nxt


def test_bucket_lifecycle(s3, sigv4_daemon, bucket_name):
    r = s3.create_bucket(Bucket=bucket_name)
    assert r["ResponseMetadata"]["HTTPStatusCode"] == 200
    assert s3.head_bucket(Bucket=bucket_name)["ResponseMetadata"]["HTTPStatusCode"] == 200
    names = [b["Name"] for b in s3.list_buckets()["Buckets"]]
    assert bucket_name in names
    assert os.path.isdir(os.path.join(sigv4_daemon.ufs, bucket_name))
    r = s3.delete_bucket(Bucket=bucket_name)
    assert r["ResponseMetadata"]["HTTPStatusCode"] == 204
    with pytest.raises(ClientError) as ei:
        s3.head_bucket(Bucket=bucket_name)
    assert ei.value.response["ResponseMetadata"]["HTTPStatusCode"] == 404
    assert bucket_name not in [b["Name"] for b in s3.list_buckets()["Buckets"]]


def test_list_buckets_owner(sigv4_daemon, bucket_name):
    alice = sigv4_daemon.boto3("alice")
    alice.create_bucket(Bucket=bucket_name)
    r = alice.list_buckets()
    assert r["Owner"]["ID"] == "alice"
    assert bucket_name in [b["Name"] for b in r["Buckets"]]
    bob = sigv4_daemon.boto3("bob")
    assert bucket_name not in [b["Name"] for b in bob.list_buckets()["Buckets"]]
    alice.delete_bucket(Bucket=bucket_name)


@pytest.mark.parametrize("size", [0, 1, 8 * 1024 * 1024], ids=["0B", "1B", "8MiB"])
def test_object_roundtrip(s3, sigv4_daemon, bucket_name, size):
    s3.create_bucket(Bucket=bucket_name)
    data = os.urandom(size)
    key = "dir/obj-%d" % size
    r = s3.put_object(Bucket=bucket_name, Key=key, Body=data)
    assert etag(r) == md5hex(data)

    h = s3.head_object(Bucket=bucket_name, Key=key)
    assert h["ContentLength"] == size
    assert etag(h) == md5hex(data)

    g = s3.get_object(Bucket=bucket_name, Key=key)
    assert g["ContentLength"] == size
    assert etag(g) == md5hex(data)
    assert g["Body"].read() == data

    with open(os.path.join(sigv4_daemon.ufs, bucket_name, key), "rb") as f:
        assert f.read() == data

    r = s3.delete_object(Bucket=bucket_name, Key=key)
    assert r["ResponseMetadata"]["HTTPStatusCode"] == 204
    with pytest.raises(ClientError) as ei:
        s3.head_object(Bucket=bucket_name, Key=key)
    assert ei.value.response["ResponseMetadata"]["HTTPStatusCode"] == 404
    assert not os.path.exists(os.path.join(sigv4_daemon.ufs, bucket_name, key))
    s3.delete_bucket(Bucket=bucket_name)


def test_overwrite_object(s3, bucket_name):
    s3.create_bucket(Bucket=bucket_name)
    s3.put_object(Bucket=bucket_name, Key="k", Body=b"first version, longer")
    s3.put_object(Bucket=bucket_name, Key="k", Body=b"second")
    g = s3.get_object(Bucket=bucket_name, Key="k")
    assert g["Body"].read() == b"second"
    assert etag(g) == md5hex(b"second")


def test_metadata_and_content_type(s3, bucket_name):
    s3.create_bucket(Bucket=bucket_name)
    meta = {"color": "blue", "owner-name": "Alice Example", "n": "42"}
    s3.put_object(Bucket=bucket_name, Key="m.json", Body=b"{}",
                  ContentType="application/json; charset=utf-8", Metadata=meta)
    h = s3.head_object(Bucket=bucket_name, Key="m.json")
    assert h["ContentType"] == "application/json; charset=utf-8"
    assert h["Metadata"] == meta
    g = s3.get_object(Bucket=bucket_name, Key="m.json")
    assert g["ContentType"] == "application/json; charset=utf-8"
    assert g["Metadata"] == meta
    assert g["Body"].read() == b"{}"


@pytest.fixture
def listing_bucket(s3, bucket_name):
    s3.create_bucket(Bucket=bucket_name)
    for k in LIST_KEYS:
        s3.put_object(Bucket=bucket_name, Key=k, Body=k.encode())
    return bucket_name


def test_list_order_is_utf8_binary(s3, listing_bucket):
    want = utf8_sorted(LIST_KEYS)
    r = s3.list_objects_v2(Bucket=listing_bucket)
    assert [o["Key"] for o in r["Contents"]] == want
    assert r["KeyCount"] == len(want)
    assert r["IsTruncated"] is False
    for o in r["Contents"]:
        assert o["Size"] == len(o["Key"].encode())
        assert o["ETag"].strip('"') == md5hex(o["Key"].encode())
    r1 = s3.list_objects(Bucket=listing_bucket)
    assert [o["Key"] for o in r1["Contents"]] == want
    assert r1["IsTruncated"] is False


def test_list_delimiter_and_prefix(s3, listing_bucket):
    r = s3.list_objects_v2(Bucket=listing_bucket, Delimiter="/")
    assert [o["Key"] for o in r.get("Contents", [])] == utf8_sorted(
        [k for k in LIST_KEYS if "/" not in k])
    assert [p["Prefix"] for p in r["CommonPrefixes"]] == ["a/", "z/"]

    r = s3.list_objects_v2(Bucket=listing_bucket, Prefix="a/", Delimiter="/")
    assert [o["Key"] for o in r.get("Contents", [])] == ["a/c"]
    assert [p["Prefix"] for p in r["CommonPrefixes"]] == ["a/b/"]

    r = s3.list_objects_v2(Bucket=listing_bucket, Prefix="a")
    assert [o["Key"] for o in r["Contents"]] == utf8_sorted(
        [k for k in LIST_KEYS if k.startswith("a")])

    r = s3.list_objects_v2(Bucket=listing_bucket, Prefix="a/b")
    assert [o["Key"] for o in r["Contents"]] == ["a/b/d", "a/b/e"]

    r = s3.list_objects_v2(Bucket=listing_bucket, Prefix="nothing-here")
    assert r.get("Contents", []) == [] and r["KeyCount"] == 0

    r = s3.list_objects(Bucket=listing_bucket, Delimiter="/", Prefix="z/")
    assert r.get("Contents", []) == []
    assert [p["Prefix"] for p in r["CommonPrefixes"]] == ["z/y/"]


@pytest.mark.parametrize("max_keys", [1, 2, 3])
def test_list_v2_pagination(s3, listing_bucket, max_keys):
    keys, prefixes, pages = all_pages(s3, "list_objects_v2", "Key",
                                      Bucket=listing_bucket, MaxKeys=max_keys)
    assert keys == utf8_sorted(LIST_KEYS)
    assert pages == -(-len(LIST_KEYS) // max_keys)

    keys, prefixes, pages = all_pages(s3, "list_objects_v2", "Key", Bucket=listing_bucket,
                                      MaxKeys=max_keys, Delimiter="/")
    assert keys == utf8_sorted([k for k in LIST_KEYS if "/" not in k])
    assert prefixes == ["a/", "z/"]


def test_list_v2_start_after(s3, listing_bucket):
    want = utf8_sorted(LIST_KEYS)
    r = s3.list_objects_v2(Bucket=listing_bucket, StartAfter="a-b")
    assert [o["Key"] for o in r["Contents"]] == want[want.index("a-b") + 1:]
    # StartAfter need not be an existing key
    r = s3.list_objects_v2(Bucket=listing_bucket, StartAfter="a/b")
    assert [o["Key"] for o in r["Contents"]] == [k for k in want if k.encode() > b"a/b"]
    r = s3.list_objects_v2(Bucket=listing_bucket, StartAfter="a", MaxKeys=2)
    assert [o["Key"] for o in r["Contents"]] == want[:2]
    assert r["IsTruncated"] is True
    r = s3.list_objects_v2(Bucket=listing_bucket, StartAfter="\u00e9")
    assert r.get("Contents", []) == []


def test_list_v1_marker(s3, listing_bucket):
    want = utf8_sorted(LIST_KEYS)
    keys, _, pages = all_pages(s3, "list_objects", "Key", Bucket=listing_bucket, MaxKeys=2)
    assert keys == want
    r = s3.list_objects(Bucket=listing_bucket, Marker="a0")
    assert [o["Key"] for o in r["Contents"]] == want[want.index("a0") + 1:]

    # With a delimiter, NextMarker must be returned and must skip whole prefixes.
    keys, prefixes, pages = all_pages(s3, "list_objects", "Key", Bucket=listing_bucket,
                                      MaxKeys=1, Delimiter="/")
    assert keys == utf8_sorted([k for k in LIST_KEYS if "/" not in k])
    assert prefixes == ["a/", "z/"]
    assert pages == len(keys) + len(prefixes)


def test_list_encoding_type_url(s3, listing_bucket):
    # Without an explicit EncodingType boto3 asks for url encoding itself and
    # decodes keys/prefixes with unquote_plus before returning them.
    r = s3.list_objects_v2(Bucket=listing_bucket, Delimiter="/")
    assert [o["Key"] for o in r["Contents"]] == utf8_sorted(
        [k for k in LIST_KEYS if "/" not in k])
    assert [p["Prefix"] for p in r["CommonPrefixes"]] == ["a/", "z/"]
    r = s3.list_objects_v2(Bucket=listing_bucket, StartAfter="a b", MaxKeys=1)
    assert [o["Key"] for o in r["Contents"]] == ["a%b"]
    r = s3.list_objects(Bucket=listing_bucket)
    assert [o["Key"] for o in r["Contents"]] == utf8_sorted(LIST_KEYS)

    # Explicit EncodingType: boto3 hands back the encoded form untouched.
    r = s3.list_objects_v2(Bucket=listing_bucket, EncodingType="url")
    assert r.get("EncodingType") == "url"
    got = [unquote_plus(o["Key"]) for o in r["Contents"]]
    assert got == utf8_sorted(LIST_KEYS), [o["Key"] for o in r["Contents"]]


def test_list_encoding_type_url_raw(sigv4_daemon, listing_bucket):
    # The wire form: keys are percent-encoded in the XML ('+' as %2B, space as
    # %20 or '+', non-ASCII as UTF-8 percent escapes, '/' may stay).
    r = sigv4_daemon.request("GET", "/%s?list-type=2&encoding-type=url" % listing_bucket,
                             user="alice")
    assert r.status == 200, r
    assert b"<EncodingType>url</EncodingType>" in r.body, r
    keys = list_keys_xml(r)
    assert [unquote_plus(k) for k in keys] == utf8_sorted(LIST_KEYS), keys
    assert "a b" not in keys and "a+b" not in keys and "\u00e9" not in keys, keys
    assert "%C3%A9" in keys or "%c3%a9" in keys, keys
