"""Server access logging (issue 16): Put/GetBucketLogging, the target rules
(the same owner's, or LogDelivery granted WRITE and READ_ACP), and log
objects delivered into the target bucket in S3's server access log format,
named TargetPrefix + YYYY-mm-DD-HH-MM-SS-UniqueString, written as the
target's owner; at the flush interval (--bucket-log-flush-ms) and at stop."""
import re
import time

import pytest

from s3util import client_error

LINE = re.compile(r'^(\S+) (\S+) \[(\d\d/\w{3}/\d{4}:\d\d:\d\d:\d\d \+0000)\] (\S+) (\S+) '
                  r'([0-9A-F]{16}) (\S+) (\S+) "([^"]*)" (\d{3}) (\S+) (\S+) (\S+) (\S+) '
                  r'(\S+) "([^"]*)" "([^"]*)" (\S+) (\S+) (\S+) (\S+) (\S+) (\S+) (\S+) '
                  r'(\S+) (\S+)$')


def status(bucket, prefix):
    return {"LoggingEnabled": {"TargetBucket": bucket, "TargetPrefix": prefix}}


def log_lines(s3, bucket, prefix):
    out = []
    for o in s3.list_objects_v2(Bucket=bucket, Prefix=prefix).get("Contents", []):
        assert re.match(re.escape(prefix) + r"\d{4}-\d\d-\d\d-\d\d-\d\d-\d\d-[0-9A-F]{16}$",
                        o["Key"]), o["Key"]
        out += s3.get_object(Bucket=bucket, Key=o["Key"])["Body"].read().decode().splitlines()
    return out


def test_put_get_bucket_logging(atriumd_factory, bucket_name):
    d = atriumd_factory("sigv4", "logging-conf")
    s3, bob = d.boto3("alice"), d.boto3("bob")
    src, dst = bucket_name, bucket_name + "-logs"
    s3.create_bucket(Bucket=src)
    s3.create_bucket(Bucket=dst)
    assert s3.get_bucket_logging(Bucket=src).get("LoggingEnabled") is None
    s3.put_bucket_logging(Bucket=src, BucketLoggingStatus=status(dst, "logs/"))
    assert s3.get_bucket_logging(Bucket=src)["LoggingEnabled"] == {
        "TargetBucket": dst, "TargetPrefix": "logs/"}
    # the owner's only
    assert client_error(bob.get_bucket_logging, Bucket=src)[0] == 403
    assert client_error(bob.put_bucket_logging, Bucket=src,
                        BucketLoggingStatus=status(dst, "x/"))[0] == 403
    # the target must exist, and be alice's or grant log delivery
    assert client_error(s3.put_bucket_logging, Bucket=src,
                        BucketLoggingStatus=status("no-such-target-b", "x/")) == \
        (400, "InvalidTargetBucketForLogging")
    theirs = bucket_name + "-bob"
    bob.create_bucket(Bucket=theirs)
    assert client_error(s3.put_bucket_logging, Bucket=src,
                        BucketLoggingStatus=status(theirs, "x/")) == \
        (400, "InvalidTargetBucketForLogging")
    bob.put_bucket_acl(Bucket=theirs, ACL="log-delivery-write")
    s3.put_bucket_logging(Bucket=src, BucketLoggingStatus=status(theirs, "x/"))
    # an empty status turns it off
    s3.put_bucket_logging(Bucket=src, BucketLoggingStatus={})
    assert s3.get_bucket_logging(Bucket=src).get("LoggingEnabled") is None
    r = d.request("PUT", "/%s?logging" % src, body="not xml", user="alice")
    assert (r.status, r.error_code()) == (400, "MalformedXML"), r


def test_logs_delivered(atriumd_factory, bucket_name):
    d = atriumd_factory("sigv4", "logging", ["--bucket-log-flush-ms", "200"])
    s3 = d.boto3("alice")
    src, dst = bucket_name, bucket_name + "-logs"
    s3.create_bucket(Bucket=src)
    s3.create_bucket(Bucket=dst)
    s3.put_bucket_logging(Bucket=src, BucketLoggingStatus=status(dst, "acc/"))
    s3.put_object(Bucket=src, Key="a b", Body=b"12345")
    s3.get_object(Bucket=src, Key="a b")["Body"].read()
    assert client_error(s3.get_object, Bucket=src, Key="missing")[0] == 404
    url = s3.generate_presigned_url("get_object", Params={"Bucket": src, "Key": "a b"})
    assert d.request("GET", url[len(d.endpoint):]).status == 200
    # delivered within the interval (polled, with a generous deadline)
    deadline = time.monotonic() + 30
    lines = []
    while time.monotonic() < deadline:
        lines = log_lines(s3, dst, "acc/")
        if len(lines) >= 4:
            break
        time.sleep(0.1)  # polling interval, bounded by the deadline
    assert len(lines) >= 4, lines
    recs = [LINE.match(l) for l in lines]
    assert all(recs), lines
    f = [m.groups() for m in recs]
    put = [x for x in f if x[6] == "REST.PUT.OBJECT"][0]
    assert put[0] == "alice" and put[1] == src and put[4] == "alice"
    assert put[7] == "a%20b" and put[8].startswith("PUT /%s/a%%20b HTTP/1.1" % src)
    assert put[9] == "200" and put[12] == "5" and put[19] == "SigV4" and put[21] == "AuthHeader"
    miss = [x for x in f if x[7] == "missing"][0]
    assert (miss[9], miss[10]) == ("404", "NoSuchKey")
    pre = [x for x in f if x[21] == "QueryString"][0]  # boto3's presigner: SigV2
    assert "Signature=REDACTED" in pre[8] and "AWSAccessKeyId=AKIDALICE" in pre[8], pre
    assert pre[19] == "SigV2"
    # the log objects are alice's (the target's owner), and not logged themselves
    assert not [x for x in f if x[1] == dst]


def test_logs_flushed_at_stop_as_target_owner(atriumd_factory, bucket_name):
    d = atriumd_factory("sigv4", "logging-stop")  # the default interval: only the stop flushes
    s3, bob = d.boto3("alice"), d.boto3("bob")
    src, dst = bucket_name, bucket_name + "-bob-logs"
    s3.create_bucket(Bucket=src)
    bob.create_bucket(Bucket=dst)
    bob.put_bucket_acl(Bucket=dst, ACL="log-delivery-write")
    s3.put_bucket_logging(Bucket=src, BucketLoggingStatus=status(dst, "p-"))
    s3.list_objects_v2(Bucket=src)
    s3.head_bucket(Bucket=src)
    assert "Contents" not in bob.list_objects_v2(Bucket=dst)
    d.restart()  # SIGTERM: the queue is delivered before the daemon exits
    bob = d.boto3("bob")
    lines = log_lines(bob, dst, "p-")
    ops = [LINE.match(l).group(7) for l in lines]
    assert "REST.GET.BUCKET" in ops and "REST.HEAD.BUCKET" in ops, lines
    key = bob.list_objects_v2(Bucket=dst)["Contents"][0]["Key"]
    acl = bob.get_object_acl(Bucket=dst, Key=key)
    assert acl["Owner"]["ID"] == "bob"
