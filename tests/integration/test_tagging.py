"""Object tagging: Put/Get/DeleteObjectTagging, x-amz-tagging on PutObject,
x-amz-tagging-directive on CopyObject, x-amz-tagging-count on GET/HEAD,
AWS's limits (InvalidTag); tags go with the object. boto3 and raw requests."""
import os
import sqlite3

import pytest
from botocore.exceptions import ClientError


def client_error(fn, *args, **kwargs):
    with pytest.raises(ClientError) as ei:
        fn(*args, **kwargs)
    r = ei.value.response
    return r["ResponseMetadata"]["HTTPStatusCode"], r["Error"]["Code"]


def tagset(s3, bucket, key):
    return [(t["Key"], t["Value"]) for t in s3.get_object_tagging(Bucket=bucket,
                                                                   Key=key)["TagSet"]]


def tag_rows(daemon, bucket, key):
    db = sqlite3.connect("file:%s?mode=ro" % os.path.join(daemon.data, "meta.db"), uri=True)
    try:
        return db.execute("SELECT count(*) FROM object_tags t JOIN objects o ON o.ino = t.ino"
                          " WHERE o.bucket = ? AND o.key = ?", (bucket, key)).fetchone()[0]
    finally:
        db.close()


def test_put_get_delete_object_tagging(alice, bucket):
    alice.put_object(Bucket=bucket, Key="k", Body=b"data")
    assert tagset(alice, bucket, "k") == []
    assert "TagCount" not in alice.head_object(Bucket=bucket, Key="k")
    tags = [("project", "atrium"), ("a b/c", "x&y=z é"), ("empty", "")]
    alice.put_object_tagging(Bucket=bucket, Key="k", Tagging={
        "TagSet": [{"Key": k, "Value": v} for k, v in tags]})
    assert tagset(alice, bucket, "k") == sorted(tags)  # by key, as AWS answers
    assert alice.head_object(Bucket=bucket, Key="k")["ResponseMetadata"]["HTTPHeaders"][
        "x-amz-tagging-count"] == "3"
    g = alice.get_object(Bucket=bucket, Key="k")
    assert g["TagCount"] == 3 and g["Body"].read() == b"data"
    # tagging leaves the object alone
    etag = alice.head_object(Bucket=bucket, Key="k")["ETag"]
    alice.put_object_tagging(Bucket=bucket, Key="k",
                             Tagging={"TagSet": [{"Key": "only", "Value": "one"}]})
    assert tagset(alice, bucket, "k") == [("only", "one")]
    assert alice.head_object(Bucket=bucket, Key="k")["ETag"] == etag
    r = alice.delete_object_tagging(Bucket=bucket, Key="k")
    assert r["ResponseMetadata"]["HTTPStatusCode"] == 204
    assert tagset(alice, bucket, "k") == []
    assert "TagCount" not in alice.get_object(Bucket=bucket, Key="k")
    # a missing key
    assert client_error(alice.get_object_tagging, Bucket=bucket, Key="nope") == \
        (404, "NoSuchKey")
    assert client_error(alice.put_object_tagging, Bucket=bucket, Key="nope",
                        Tagging={"TagSet": []}) == (404, "NoSuchKey")


def test_tag_limits(sigv4_daemon, alice, bucket):
    alice.put_object(Bucket=bucket, Key="k", Body=b"")
    put = lambda tags: alice.put_object_tagging(
        Bucket=bucket, Key="k", Tagging={"TagSet": [{"Key": k, "Value": v} for k, v in tags]})
    put([("k%d" % i, "v") for i in range(10)])
    put([("k" * 128, "v" * 256)])
    put([("é" * 128, "€" * 256)])  # characters, not bytes
    for bad in [[("k%d" % i, "v") for i in range(11)], [("k" * 129, "v")],
                [("k", "v" * 257)], [("dup", "1"), ("dup", "2")]]:
        assert client_error(put, bad) == (400, "InvalidTag")
    assert tagset(alice, bucket, "k") == [("é" * 128, "€" * 256)]
    r = sigv4_daemon.request("PUT", "/%s/k?tagging" % bucket, body=b"<Tagging><TagSet>",
                             user="alice")
    assert (r.status, r.error_code()) == (400, "MalformedXML")
    r = sigv4_daemon.request("PUT", "/%s/k?tagging" % bucket, user="alice",
                             body=b"<Tagging><TagSet><Tag><Key></Key><Value>v</Value></Tag>"
                                  b"</TagSet></Tagging>")
    assert (r.status, r.error_code()) == (400, "InvalidTag")


def test_put_object_with_tagging_header(sigv4_daemon, alice, bucket):
    alice.put_object(Bucket=bucket, Key="k", Body=b"x", Tagging="a=1&b%20c=d%26e")
    assert tagset(alice, bucket, "k") == [("a", "1"), ("b c", "d&e")]
    # a new PUT without tags: the new object has none
    alice.put_object(Bucket=bucket, Key="k", Body=b"y")
    assert tagset(alice, bucket, "k") == []
    for bad in ["a=1&a=2", "k=" + "v" * 257, "&".join("k%d=v" % i for i in range(11))]:
        assert client_error(alice.put_object, Bucket=bucket, Key="bad", Body=b"x",
                            Tagging=bad) == (400, "InvalidTag")
    r = sigv4_daemon.request("PUT", "/%s/bad" % bucket, body=b"x",
                             headers={"x-amz-tagging": "a=%zz"}, user="alice")
    assert (r.status, r.error_code()) == (400, "InvalidArgument")
    assert client_error(alice.head_object, Bucket=bucket, Key="bad")[0] == 404


def test_copy_object_tagging_directive(alice, bucket):
    alice.put_object(Bucket=bucket, Key="src", Body=b"x", Tagging="a=1")
    alice.copy_object(Bucket=bucket, Key="copy", CopySource={"Bucket": bucket, "Key": "src"})
    assert tagset(alice, bucket, "copy") == [("a", "1")]
    alice.copy_object(Bucket=bucket, Key="copy2", CopySource={"Bucket": bucket, "Key": "src"},
                      TaggingDirective="COPY", Tagging="ignored=1")
    assert tagset(alice, bucket, "copy2") == [("a", "1")]
    alice.copy_object(Bucket=bucket, Key="repl", CopySource={"Bucket": bucket, "Key": "src"},
                      TaggingDirective="REPLACE", Tagging="b=2&c=3")
    assert tagset(alice, bucket, "repl") == [("b", "2"), ("c", "3")]
    alice.copy_object(Bucket=bucket, Key="none", CopySource={"Bucket": bucket, "Key": "src"},
                      TaggingDirective="REPLACE")
    assert tagset(alice, bucket, "none") == []
    assert client_error(alice.copy_object, Bucket=bucket, Key="x",
                        CopySource={"Bucket": bucket, "Key": "src"},
                        TaggingDirective="REPLACE", Tagging="a=1&a=1") == (400, "InvalidTag")
    assert tagset(alice, bucket, "src") == [("a", "1")]


def test_tags_go_with_the_object(sigv4_daemon, alice, bucket):
    alice.put_object(Bucket=bucket, Key="k", Body=b"x", Tagging="a=1")
    assert tag_rows(sigv4_daemon, bucket, "k") == 1
    ino = sqlite3.connect(os.path.join(sigv4_daemon.data, "meta.db")).execute(
        "SELECT ino FROM objects WHERE bucket = ? AND key = ?", (bucket, "k")).fetchone()[0]
    alice.delete_object(Bucket=bucket, Key="k")
    db = sqlite3.connect("file:%s?mode=ro" % os.path.join(sigv4_daemon.data, "meta.db"),
                         uri=True)
    assert db.execute("SELECT count(*) FROM object_tags WHERE ino = ?", (ino,)).fetchone()[0] == 0
    db.close()
    # someone else may neither read nor change the tags of alice's private
    # object; once it is readable by all (0644: not writable), bob reads them
    alice.put_object(Bucket=bucket, Key="k", Body=b"x", Tagging="a=1")
    bob = sigv4_daemon.boto3("bob")
    assert client_error(bob.get_object_tagging, Bucket=bucket, Key="k") == (403, "AccessDenied")
    alice.put_bucket_acl(Bucket=bucket, ACL="public-read")
    alice.put_object_acl(Bucket=bucket, Key="k", ACL="public-read")
    assert tagset(bob, bucket, "k") == [("a", "1")]
    assert client_error(bob.put_object_tagging, Bucket=bucket, Key="k",
                        Tagging={"TagSet": []}) == (403, "AccessDenied")
    assert client_error(bob.delete_object_tagging, Bucket=bucket, Key="k") == \
        (403, "AccessDenied")
    assert tagset(alice, bucket, "k") == [("a", "1")]


def test_tags_survive_restart(atriumd_factory, bucket_name):
    d = atriumd_factory("sigv4", "tags-restart")
    s3 = d.boto3("alice")
    s3.create_bucket(Bucket=bucket_name)
    s3.put_object(Bucket=bucket_name, Key="k", Body=b"x", Tagging="keep=me")
    d.restart()
    assert tagset(d.boto3("alice"), bucket_name, "k") == [("keep", "me")]


def test_multipart_upload_with_tagging(alice, bucket):
    up = alice.create_multipart_upload(Bucket=bucket, Key="mp", Tagging="a=1&b=x%20y")["UploadId"]
    e = alice.upload_part(Bucket=bucket, Key="mp", UploadId=up, PartNumber=1,
                          Body=b"part")["ETag"]
    alice.complete_multipart_upload(Bucket=bucket, Key="mp", UploadId=up,
                                    MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": e}]})
    assert tagset(alice, bucket, "mp") == [("a", "1"), ("b", "x y")]
    # an upload without tags makes an object without tags, replacing the tagged one
    up = alice.create_multipart_upload(Bucket=bucket, Key="mp")["UploadId"]
    e = alice.upload_part(Bucket=bucket, Key="mp", UploadId=up, PartNumber=1,
                          Body=b"part")["ETag"]
    alice.complete_multipart_upload(Bucket=bucket, Key="mp", UploadId=up,
                                    MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": e}]})
    assert tagset(alice, bucket, "mp") == []
    assert client_error(alice.create_multipart_upload, Bucket=bucket, Key="k",
                        Tagging="a=1&a=2") == (400, "InvalidTag")
    assert "Uploads" not in alice.list_multipart_uploads(Bucket=bucket)
