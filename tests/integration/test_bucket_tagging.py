"""Bucket tagging: Put/Get/DeleteBucketTagging (?tagging on a bucket), AWS's
limits (50 tags, keys of 128 and values of 256 characters: InvalidTag),
NoSuchTagSet for a bucket without tags, the owner only (AccessDenied), the
integrity header PutBucketTagging requires, and the tags going with the
bucket. boto3, awscli and raw requests."""
import base64
import hashlib
import json
import os
import sqlite3


from s3util import awscli, client_error


def tagset(pairs):
    return {"TagSet": [{"Key": k, "Value": v} for k, v in pairs]}


def got(s3, bucket):
    return [(t["Key"], t["Value"]) for t in s3.get_bucket_tagging(Bucket=bucket)["TagSet"]]


def tag_rows(daemon, bucket):
    db = sqlite3.connect("file:%s?mode=ro" % os.path.join(daemon.data, "meta.db"), uri=True)
    try:
        return db.execute("SELECT count(*) FROM bucket_tags WHERE bucket = ?",
                          (bucket,)).fetchone()[0]
    finally:
        db.close()


def test_put_get_delete_bucket_tagging(alice, bucket, sigv4_daemon):
    assert client_error(alice.get_bucket_tagging, Bucket=bucket) == (404, "NoSuchTagSet")
    tags = [("project", "atrium"), ("a b/c", "x&y=z é"), ("empty", "")]
    r = alice.put_bucket_tagging(Bucket=bucket, Tagging=tagset(tags))
    assert r["ResponseMetadata"]["HTTPStatusCode"] == 204
    assert got(alice, bucket) == sorted(tags)  # by key, as AWS answers
    # a put replaces the whole set
    alice.put_bucket_tagging(Bucket=bucket, Tagging=tagset([("only", "one")]))
    assert got(alice, bucket) == [("only", "one")]
    # bucket tags are not object tags, and objects do not see them
    alice.put_object(Bucket=bucket, Key="k", Body=b"x")
    assert alice.get_object_tagging(Bucket=bucket, Key="k")["TagSet"] == []
    r = alice.delete_bucket_tagging(Bucket=bucket)
    assert r["ResponseMetadata"]["HTTPStatusCode"] == 204
    assert client_error(alice.get_bucket_tagging, Bucket=bucket) == (404, "NoSuchTagSet")
    assert tag_rows(sigv4_daemon, bucket) == 0
    # deleting tags that are not there succeeds
    alice.delete_bucket_tagging(Bucket=bucket)
    # an empty set leaves the bucket without tags
    alice.put_bucket_tagging(Bucket=bucket, Tagging=tagset([("a", "b")]))
    alice.put_bucket_tagging(Bucket=bucket, Tagging={"TagSet": []})
    assert client_error(alice.get_bucket_tagging, Bucket=bucket) == (404, "NoSuchTagSet")


def test_bucket_tagging_limits(alice, bucket):
    fifty = [("k%02d" % i, "v%d" % i) for i in range(50)]
    alice.put_bucket_tagging(Bucket=bucket, Tagging=tagset(fifty))
    assert got(alice, bucket) == fifty
    assert client_error(alice.put_bucket_tagging, Bucket=bucket,
                        Tagging=tagset(fifty + [("k50", "v")])) == (400, "InvalidTag")
    alice.put_bucket_tagging(Bucket=bucket, Tagging=tagset([("é" * 128, "é" * 256)]))
    assert got(alice, bucket) == [("é" * 128, "é" * 256)]
    for bad in ([("k" * 129, "v")], [("k", "v" * 257)], [("dup", "1"), ("dup", "2")]):
        assert client_error(alice.put_bucket_tagging, Bucket=bucket,
                            Tagging=tagset(bad)) == (400, "InvalidTag"), bad
    # refused sets leave the old one
    assert got(alice, bucket) == [("é" * 128, "é" * 256)]


def test_bucket_tagging_errors(alice, bucket, bucket_name, sigv4_daemon):
    bob = sigv4_daemon.boto3("bob")
    alice.put_bucket_tagging(Bucket=bucket, Tagging=tagset([("a", "b")]))
    # the owner's only
    assert client_error(bob.get_bucket_tagging, Bucket=bucket) == (403, "AccessDenied")
    assert client_error(bob.put_bucket_tagging, Bucket=bucket,
                        Tagging=tagset([("x", "y")])) == (403, "AccessDenied")
    assert client_error(bob.delete_bucket_tagging, Bucket=bucket) == (403, "AccessDenied")
    assert got(alice, bucket) == [("a", "b")]
    # the superuser may
    admin = sigv4_daemon.boto3("admin")
    assert got(admin, bucket) == [("a", "b")]
    missing = bucket_name + "-none"
    for fn in (alice.get_bucket_tagging, alice.delete_bucket_tagging):
        assert client_error(fn, Bucket=missing) == (404, "NoSuchBucket")
    assert client_error(alice.put_bucket_tagging, Bucket=missing,
                        Tagging=tagset([("a", "b")])) == (404, "NoSuchBucket")


def test_put_bucket_tagging_raw(alice, bucket, sigv4_daemon):
    body = (b'<Tagging xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><TagSet>'
            b'<Tag><Key>k</Key><Value>v</Value></Tag></TagSet></Tagging>')
    md5 = base64.b64encode(hashlib.md5(body).digest()).decode()
    path = "/%s?tagging" % bucket
    # an integrity header is required, and must match
    r = sigv4_daemon.request("PUT", path, body=body, user="alice")
    assert (r.status, r.error_code()) == (400, "InvalidRequest"), r
    r = sigv4_daemon.request("PUT", path, {"Content-MD5": base64.b64encode(
        hashlib.md5(b"other").digest()).decode()}, body=body, user="alice")
    assert (r.status, r.error_code()) == (400, "BadDigest"), r
    r = sigv4_daemon.request("PUT", path, {"Content-MD5": "nope"}, body=body, user="alice")
    assert (r.status, r.error_code()) == (400, "InvalidDigest"), r
    for bad, code in ((b"<Tagging><TagSet><Tag><Key>k</Key></Tag></TagSet></Tagging>",
                       "MalformedXML"),
                      (b"<Tagging><TagSet><Tag><Key></Key><Value>v</Value></Tag></TagSet>"
                       b"</Tagging>", "InvalidTag")):
        r = sigv4_daemon.request("PUT", path, {"Content-MD5": base64.b64encode(
            hashlib.md5(bad).digest()).decode()}, body=bad, user="alice")
        assert (r.status, r.error_code()) == (400, code), r
    r = sigv4_daemon.request("PUT", path, {"Content-MD5": md5}, body=body, user="alice")
    assert r.status == 204, r
    r = sigv4_daemon.request("GET", path, user="alice")
    assert r.status == 200 and b"<Key>k</Key><Value>v</Value>" in r.body, r
    r = sigv4_daemon.request("GET", "/%s?tagging" % bucket)  # anonymous
    assert (r.status, r.error_code()) == (403, "AccessDenied"), r


def test_bucket_tags_go_with_the_bucket(alice, bucket, sigv4_daemon):
    alice.put_bucket_tagging(Bucket=bucket, Tagging=tagset([("a", "b")]))
    assert tag_rows(sigv4_daemon, bucket) == 1
    alice.delete_bucket(Bucket=bucket)
    assert tag_rows(sigv4_daemon, bucket) == 0
    alice.create_bucket(Bucket=bucket)
    assert client_error(alice.get_bucket_tagging, Bucket=bucket) == (404, "NoSuchTagSet")


def test_bucket_tags_survive_restart(atriumd_factory, bucket_name):
    d = atriumd_factory("sigv4", "bucket-tags-restart")
    s3 = d.boto3("alice")
    s3.create_bucket(Bucket=bucket_name)
    s3.put_bucket_tagging(Bucket=bucket_name, Tagging=tagset([("keep", "me")]))
    d.restart()
    assert got(d.boto3("alice"), bucket_name) == [("keep", "me")]


def test_awscli_bucket_tagging(sigv4_daemon, bucket, tmp_path):
    aws = awscli(sigv4_daemon, tmp_path)
    p = aws("s3api", "get-bucket-tagging", "--bucket", bucket, check=False)
    assert p.returncode != 0 and "NoSuchTagSet" in p.stderr, p
    aws("s3api", "put-bucket-tagging", "--bucket", bucket, "--tagging",
        json.dumps(tagset([("team", "storage"), ("env", "test")])))
    out = json.loads(aws("s3api", "get-bucket-tagging", "--bucket", bucket).stdout)
    assert out["TagSet"] == tagset([("env", "test"), ("team", "storage")])["TagSet"]
    p = aws("s3api", "put-bucket-tagging", "--bucket", bucket, "--tagging",
            json.dumps(tagset([("t%d" % i, "") for i in range(51)])), check=False)
    assert p.returncode != 0 and "InvalidTag" in p.stderr, p
    aws("s3api", "delete-bucket-tagging", "--bucket", bucket)
    p = aws("s3api", "get-bucket-tagging", "--bucket", bucket, check=False)
    assert p.returncode != 0 and "NoSuchTagSet" in p.stderr, p
    bob = awscli(sigv4_daemon, tmp_path, "bob")
    p = bob("s3api", "get-bucket-tagging", "--bucket", bucket, check=False)
    assert p.returncode != 0 and "AccessDenied" in p.stderr, p
