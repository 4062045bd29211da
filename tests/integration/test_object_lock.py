"""S3 Object Lock (issue 17): a bucket created with Object Lock, its
configuration and default retention, a version's retention and legal
hold, what they forbid (permanent deletes, shortening a COMPLIANCE
retention) and allow (delete markers, GOVERNANCE with bypass by a user
allowed it), a retention that expires, and the errors, with boto3, one
awscli call and raw requests against a real atriumd."""
import base64
import datetime
import hashlib
import json
import time

import pytest

from s3util import awscli, client_error

CONF_URL = "/%s?object-lock"


@pytest.fixture
def s3(sigv4_daemon):
    return sigv4_daemon.boto3("alice")


@pytest.fixture
def lb(s3, bucket_name):
    """A bucket created with Object Lock."""
    name = bucket_name[:50] + "-lock"
    s3.create_bucket(Bucket=name, ObjectLockEnabledForBucket=True)
    return name


def ahead(seconds):
    return datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(seconds=seconds)


def default_rule(s3, bucket, mode, **period):
    s3.put_object_lock_configuration(Bucket=bucket, ObjectLockConfiguration={
        "ObjectLockEnabled": "Enabled",
        "Rule": {"DefaultRetention": dict(Mode=mode, **period)}})


def allow_bob(s3, bucket, actions):
    s3.put_bucket_policy(Bucket=bucket, Policy=json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::000000000000:user/bob"},
         "Action": actions,
         "Resource": ["arn:aws:s3:::" + bucket, "arn:aws:s3:::%s/*" % bucket]}]}))


def test_bucket_configuration(s3, lb, bucket, sigv4_daemon, tmp_path):
    # Created with it: enabled, versioning on for good, no default yet.
    conf = s3.get_object_lock_configuration(Bucket=lb)["ObjectLockConfiguration"]
    assert conf == {"ObjectLockEnabled": "Enabled"}
    assert s3.get_bucket_versioning(Bucket=lb)["Status"] == "Enabled"
    assert client_error(s3.put_bucket_versioning, Bucket=lb,
                        VersioningConfiguration={"Status": "Suspended"}) == \
        (409, "InvalidBucketState")
    default_rule(s3, lb, "GOVERNANCE", Days=2)
    conf = s3.get_object_lock_configuration(Bucket=lb)["ObjectLockConfiguration"]
    assert conf["Rule"]["DefaultRetention"] == {"Mode": "GOVERNANCE", "Days": 2}
    default_rule(s3, lb, "COMPLIANCE", Years=1)
    # awscli reads it as well.
    aws = awscli(sigv4_daemon, tmp_path)
    out = json.loads(aws("s3api", "get-object-lock-configuration", "--bucket", lb).stdout)
    assert out["ObjectLockConfiguration"]["Rule"]["DefaultRetention"] == \
        {"Mode": "COMPLIANCE", "Years": 1}
    # Bad rules: both periods or none (malformed), an unknown mode.
    for body, code in ((b"<ObjectLockConfiguration><ObjectLockEnabled>Enabled</ObjectLockEnabled>"
                        b"<Rule><DefaultRetention><Mode>GOVERNANCE</Mode><Days>1</Days>"
                        b"<Years>1</Years></DefaultRetention></Rule></ObjectLockConfiguration>",
                        "MalformedXML"),
                       (b"<ObjectLockConfiguration><ObjectLockEnabled>Enabled</ObjectLockEnabled>"
                        b"<Rule><DefaultRetention><Mode>GOVERNANCE</Mode></DefaultRetention>"
                        b"</Rule></ObjectLockConfiguration>", "MalformedXML"),
                       (b"<ObjectLockConfiguration><ObjectLockEnabled>Enabled</ObjectLockEnabled>"
                        b"<Rule><DefaultRetention><Mode>FOREVER</Mode><Days>1</Days>"
                        b"</DefaultRetention></Rule></ObjectLockConfiguration>",
                        "InvalidArgument")):
        md5 = base64.b64encode(hashlib.md5(body).digest()).decode()
        r = sigv4_daemon.request("PUT", CONF_URL % lb, body=body, user="alice",
                                 headers={"Content-MD5": md5})
        assert (r.status, code.encode() in r.body) == (400, True), r.body
    # Without Content-MD5 or a checksum: refused, as other configurations.
    r = sigv4_daemon.request("PUT", CONF_URL % lb, user="alice",
                             body=b"<ObjectLockConfiguration><ObjectLockEnabled>Enabled"
                                  b"</ObjectLockEnabled></ObjectLockConfiguration>")
    assert (r.status, b"InvalidRequest" in r.body) == (400, True), r.body
    # A bucket without it: none to read; not enabled without versioning,
    # enabled once versioned (as AWS now allows).
    assert client_error(s3.get_object_lock_configuration, Bucket=bucket) == \
        (404, "ObjectLockConfigurationNotFoundError")
    assert client_error(s3.put_object_lock_configuration, Bucket=bucket,
                        ObjectLockConfiguration={"ObjectLockEnabled": "Enabled"}) == \
        (409, "InvalidBucketState")
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    s3.put_object_lock_configuration(Bucket=bucket,
                                     ObjectLockConfiguration={"ObjectLockEnabled": "Enabled"})
    assert s3.get_object_lock_configuration(Bucket=bucket)["ObjectLockConfiguration"] == \
        {"ObjectLockEnabled": "Enabled"}
    # Another user may neither read nor set it.
    bob = sigv4_daemon.boto3("bob")
    assert client_error(bob.get_object_lock_configuration, Bucket=lb)[1] == "AccessDenied"


def test_default_and_explicit_retention(s3, lb, bucket):
    default_rule(s3, lb, "GOVERNANCE", Days=1)
    v = s3.put_object(Bucket=lb, Key="d", Body=b"x")["VersionId"]
    ret = s3.get_object_retention(Bucket=lb, Key="d", VersionId=v)["Retention"]
    assert ret["Mode"] == "GOVERNANCE"
    left = (ret["RetainUntilDate"] - datetime.datetime.now(datetime.timezone.utc))
    assert datetime.timedelta(hours=23) < left <= datetime.timedelta(days=1)
    h = s3.head_object(Bucket=lb, Key="d")
    assert h["ObjectLockMode"] == "GOVERNANCE" and h["ObjectLockLegalHoldStatus"] == "OFF"
    # Headers override the default; the legal hold comes with them.
    until = ahead(3600).replace(microsecond=0)
    v2 = s3.put_object(Bucket=lb, Key="e", Body=b"y", ObjectLockMode="COMPLIANCE",
                       ObjectLockRetainUntilDate=until,
                       ObjectLockLegalHoldStatus="ON")["VersionId"]
    g = s3.get_object(Bucket=lb, Key="e")
    assert (g["ObjectLockMode"], g["ObjectLockRetainUntilDate"], g["ObjectLockLegalHoldStatus"]) \
        == ("COMPLIANCE", until, "ON")
    assert s3.get_object_legal_hold(Bucket=lb, Key="e", VersionId=v2)["LegalHold"]["Status"] == "ON"
    # A copy takes its own lock.
    s3.copy_object(Bucket=lb, Key="c", CopySource={"Bucket": lb, "Key": "e"},
                   ObjectLockMode="COMPLIANCE", ObjectLockRetainUntilDate=until)
    assert s3.get_object_retention(Bucket=lb, Key="c")["Retention"]["Mode"] == "COMPLIANCE"
    # Bad headers; lock headers on a bucket without Object Lock.
    assert client_error(s3.put_object, Bucket=lb, Key="f", Body=b"", ObjectLockMode="NOPE",
                        ObjectLockRetainUntilDate=until) == (400, "InvalidArgument")
    assert client_error(s3.put_object, Bucket=lb, Key="f", Body=b"",
                        ObjectLockMode="GOVERNANCE") == (400, "InvalidArgument")
    assert client_error(s3.put_object, Bucket=lb, Key="f", Body=b"", ObjectLockMode="GOVERNANCE",
                        ObjectLockRetainUntilDate=ahead(-60)) == (400, "InvalidArgument")
    assert client_error(s3.put_object, Bucket=bucket, Key="f", Body=b"",
                        ObjectLockLegalHoldStatus="ON") == (400, "InvalidRequest")
    assert client_error(s3.get_object_retention, Bucket=bucket, Key="f") == \
        (400, "InvalidRequest")


def test_compliance_blocks_everyone(s3, lb):
    until = ahead(3600).replace(microsecond=0)
    v = s3.put_object(Bucket=lb, Key="k", Body=b"1", ObjectLockMode="COMPLIANCE",
                      ObjectLockRetainUntilDate=until)["VersionId"]
    assert client_error(s3.delete_object, Bucket=lb, Key="k", VersionId=v) == \
        (403, "AccessDenied")
    assert client_error(s3.delete_object, Bucket=lb, Key="k", VersionId=v,
                        BypassGovernanceRetention=True) == (403, "AccessDenied")
    r = s3.delete_objects(Bucket=lb, Delete={"Objects": [{"Key": "k", "VersionId": v}]})
    assert [(e["Key"], e["VersionId"], e["Code"]) for e in r["Errors"]] == \
        [("k", v, "AccessDenied")]
    # Not shortened, not turned into GOVERNANCE; made longer, yes.
    assert client_error(s3.put_object_retention, Bucket=lb, Key="k", VersionId=v,
                        Retention={"Mode": "COMPLIANCE",
                                   "RetainUntilDate": until - datetime.timedelta(seconds=60)}) \
        == (403, "AccessDenied")
    assert client_error(s3.put_object_retention, Bucket=lb, Key="k", VersionId=v,
                        BypassGovernanceRetention=True,
                        Retention={"Mode": "GOVERNANCE", "RetainUntilDate": until}) == \
        (403, "AccessDenied")
    later = until + datetime.timedelta(days=1)
    s3.put_object_retention(Bucket=lb, Key="k", VersionId=v,
                            Retention={"Mode": "COMPLIANCE", "RetainUntilDate": later})
    assert s3.get_object_retention(Bucket=lb, Key="k", VersionId=v)["Retention"] == \
        {"Mode": "COMPLIANCE", "RetainUntilDate": later}
    # A DELETE without a version id makes a marker, as AWS does.
    d = s3.delete_object(Bucket=lb, Key="k")
    assert d["DeleteMarker"] is True
    assert s3.get_object(Bucket=lb, Key="k", VersionId=v)["Body"].read() == b"1"
    assert s3.get_object_retention(Bucket=lb, Key="k", VersionId=v)["Retention"]["Mode"] == \
        "COMPLIANCE"


def test_governance_bypass(s3, lb, sigv4_daemon):
    default_rule(s3, lb, "GOVERNANCE", Days=1)
    v1 = s3.put_object(Bucket=lb, Key="g", Body=b"1")["VersionId"]
    v2 = s3.put_object(Bucket=lb, Key="g", Body=b"2")["VersionId"]
    assert client_error(s3.delete_object, Bucket=lb, Key="g", VersionId=v1) == \
        (403, "AccessDenied")
    # bob may delete versions, not bypass: the retention holds for him.
    bob = sigv4_daemon.boto3("bob")
    allow_bob(s3, lb, ["s3:DeleteObjectVersion", "s3:GetObjectVersion"])
    assert client_error(bob.delete_object, Bucket=lb, Key="g", VersionId=v1,
                        BypassGovernanceRetention=True) == (403, "AccessDenied")
    allow_bob(s3, lb, ["s3:DeleteObjectVersion", "s3:BypassGovernanceRetention"])
    bob.delete_object(Bucket=lb, Key="g", VersionId=v1, BypassGovernanceRetention=True)
    # The owner with bypass; GOVERNANCE shortened with bypass only.
    soon = ahead(600)
    assert client_error(s3.put_object_retention, Bucket=lb, Key="g", VersionId=v2,
                        Retention={"Mode": "GOVERNANCE", "RetainUntilDate": soon}) == \
        (403, "AccessDenied")
    s3.put_object_retention(Bucket=lb, Key="g", VersionId=v2, BypassGovernanceRetention=True,
                            Retention={"Mode": "GOVERNANCE", "RetainUntilDate": soon})
    r = s3.delete_objects(Bucket=lb, BypassGovernanceRetention=True,
                          Delete={"Objects": [{"Key": "g", "VersionId": v2}]})
    assert [d["VersionId"] for d in r["Deleted"]] == [v2] and not r.get("Errors")
    assert "Versions" not in s3.list_object_versions(Bucket=lb)


def test_legal_hold(s3, lb):
    v = s3.put_object(Bucket=lb, Key="h", Body=b"1")["VersionId"]
    assert s3.get_object_legal_hold(Bucket=lb, Key="h")["LegalHold"]["Status"] == "OFF"
    s3.put_object_legal_hold(Bucket=lb, Key="h", VersionId=v, LegalHold={"Status": "ON"})
    assert client_error(s3.delete_object, Bucket=lb, Key="h", VersionId=v,
                        BypassGovernanceRetention=True) == (403, "AccessDenied")
    assert client_error(s3.put_object_legal_hold, Bucket=lb, Key="h",
                        LegalHold={"Status": "MAYBE"}) == (400, "MalformedXML")
    s3.put_object_legal_hold(Bucket=lb, Key="h", LegalHold={"Status": "OFF"})
    s3.delete_object(Bucket=lb, Key="h", VersionId=v)
    assert client_error(s3.get_object_legal_hold, Bucket=lb, Key="h", VersionId=v) == \
        (404, "NoSuchVersion")


def test_retention_expires(s3, lb):
    until = ahead(3)
    v = s3.put_object(Bucket=lb, Key="x", Body=b"1", ObjectLockMode="COMPLIANCE",
                      ObjectLockRetainUntilDate=until)["VersionId"]
    assert client_error(s3.delete_object, Bucket=lb, Key="x", VersionId=v) == \
        (403, "AccessDenied")
    # Refused until that instant, allowed after it: poll to a deadline.
    deadline = time.monotonic() + 30
    while True:
        try:
            s3.delete_object(Bucket=lb, Key="x", VersionId=v)
            break
        except Exception:
            assert datetime.datetime.now(datetime.timezone.utc) < until + \
                datetime.timedelta(seconds=2), "still locked after its retain-until date"
            assert time.monotonic() < deadline
            time.sleep(0.2)
    assert datetime.datetime.now(datetime.timezone.utc) >= until - datetime.timedelta(seconds=1)


def test_errors(s3, lb):
    s3.put_object(Bucket=lb, Key="n", Body=b"1")
    assert client_error(s3.get_object_retention, Bucket=lb, Key="n") == \
        (404, "NoSuchObjectLockConfiguration")
    assert client_error(s3.put_object_retention, Bucket=lb, Key="n",
                        Retention={"Mode": "GOVERNANCE", "RetainUntilDate": ahead(-10)}) == \
        (400, "InvalidArgument")
    assert client_error(s3.get_object_retention, Bucket=lb, Key="none") == (404, "NoSuchKey")
    s3.delete_object(Bucket=lb, Key="n")
    assert client_error(s3.get_object_retention, Bucket=lb, Key="n")[0] == 404


@pytest.mark.usefixtures("mount_watchdog")
def test_mount_refuses_a_locked_file(mount_daemon, bucket_name):
    """Through the mount the current version of a locked key is not
    unlinked, written, truncated, renamed, nor replaced by a rename
    (EPERM); once its legal hold is off, it is."""
    import errno
    import os
    d = mount_daemon
    s3 = d.boto3("admin")
    s3.create_bucket(Bucket=bucket_name, ObjectLockEnabledForBucket=True)
    s3.put_object(Bucket=bucket_name, Key="f", Body=b"kept", ObjectLockLegalHoldStatus="ON")
    s3.put_object(Bucket=bucket_name, Key="other", Body=b"o")
    p, other = d.path(bucket_name, "f"), d.path(bucket_name, "other")

    def eperm(fn, *args):
        with pytest.raises(OSError) as ei:
            fn(*args)
        assert ei.value.errno == errno.EPERM, (fn, ei.value)

    eperm(os.unlink, p)
    eperm(open, p, "r+b")
    eperm(open, p, "wb")
    eperm(os.truncate, p, 0)
    eperm(os.rename, p, d.path(bucket_name, "moved"))
    eperm(os.rename, other, p)
    # Nor does a directory holding a locked file move.
    s3.put_object(Bucket=bucket_name, Key="d/x", Body=b"x", ObjectLockLegalHoldStatus="ON")
    eperm(os.rename, d.path(bucket_name, "d"), d.path(bucket_name, "e"))
    assert os.listdir(d.path(bucket_name, "d")) == ["x"]
    s3.put_object_legal_hold(Bucket=bucket_name, Key="d/x", LegalHold={"Status": "OFF"})
    os.rename(d.path(bucket_name, "d"), d.path(bucket_name, "e"))
    with open(p, "rb") as f:
        assert f.read() == b"kept"
    assert sorted(os.listdir(d.path(bucket_name))) == ["e", "f", "other"]
    s3.put_object_legal_hold(Bucket=bucket_name, Key="f", LegalHold={"Status": "OFF"})
    with open(p, "ab") as f:
        f.write(b"!")
    os.unlink(p)
    assert not os.path.exists(p)


def test_multipart_upload_keeps_its_lock(s3, lb):
    """CreateMultipartUpload's lock headers are kept with the upload and
    given to the object at completion."""
    until = ahead(3600).replace(microsecond=0)
    up = s3.create_multipart_upload(Bucket=lb, Key="m", ObjectLockMode="COMPLIANCE",
                                    ObjectLockRetainUntilDate=until,
                                    ObjectLockLegalHoldStatus="ON")["UploadId"]
    etag = s3.upload_part(Bucket=lb, Key="m", UploadId=up, PartNumber=1, Body=b"p")["ETag"]
    v = s3.complete_multipart_upload(Bucket=lb, Key="m", UploadId=up, MultipartUpload={
        "Parts": [{"PartNumber": 1, "ETag": etag}]})["VersionId"]
    assert s3.get_object_retention(Bucket=lb, Key="m", VersionId=v)["Retention"] == \
        {"Mode": "COMPLIANCE", "RetainUntilDate": until}
    assert s3.get_object_legal_hold(Bucket=lb, Key="m")["LegalHold"]["Status"] == "ON"
    assert client_error(s3.delete_object, Bucket=lb, Key="m", VersionId=v) == \
        (403, "AccessDenied")


def test_admin_api_refuses_a_locked_file(s3, lb, sigv4_daemon):
    """The path view's rm and mv of a locked current version: 403."""
    s3.put_object(Bucket=lb, Key="a", Body=b"1", ObjectLockLegalHoldStatus="ON")
    from urllib.parse import quote
    d = sigv4_daemon
    a, b = quote("/%s/a" % lb, safe=""), quote("/%s/b" % lb, safe="")
    r = d.request("POST", "/api/v1/fs/rm?path=" + a, user="alice")
    assert (r.status, b"ObjectLocked" in r.body) == (403, True), r.body
    r = d.request("POST", "/api/v1/fs/mv?src=%s&dst=%s" % (a, b), user="alice")
    assert (r.status, b"ObjectLocked" in r.body) == (403, True), r.body
    assert s3.get_object(Bucket=lb, Key="a")["Body"].read() == b"1"
    s3.put_object_legal_hold(Bucket=lb, Key="a", LegalHold={"Status": "OFF"})
    r = d.request("POST", "/api/v1/fs/mv?src=%s&dst=%s" % (a, b), user="alice")
    assert r.status == 200, r.body


def test_setting_a_lock_with_a_write_needs_its_permission(s3, lb, sigv4_daemon):
    """A writer may write; locking what it writes takes
    s3:PutObjectRetention (a mode) or s3:PutObjectLegalHold (a hold)."""
    bob = sigv4_daemon.boto3("bob")
    allow_bob(s3, lb, ["s3:PutObject"])
    bob.put_object(Bucket=lb, Key="b1", Body=b"1")
    assert client_error(bob.put_object, Bucket=lb, Key="b2", Body=b"2",
                        ObjectLockLegalHoldStatus="ON") == (403, "AccessDenied")
    assert client_error(bob.put_object, Bucket=lb, Key="b2", Body=b"2",
                        ObjectLockMode="GOVERNANCE",
                        ObjectLockRetainUntilDate=ahead(600)) == (403, "AccessDenied")
    allow_bob(s3, lb, ["s3:PutObject", "s3:PutObjectLegalHold", "s3:GetObjectLegalHold",
                      "s3:GetObject"])
    bob.put_object(Bucket=lb, Key="b2", Body=b"2", ObjectLockLegalHoldStatus="ON")
    assert bob.get_object_legal_hold(Bucket=lb, Key="b2")["LegalHold"]["Status"] == "ON"


def test_post_form_lock_fields(s3, lb, sigv4_daemon):
    """A POST Object form's x-amz-object-lock-* fields lock the object."""
    until = ahead(3600).replace(microsecond=0).strftime("%Y-%m-%dT%H:%M:%SZ")
    fields = {"x-amz-object-lock-mode": "GOVERNANCE",
              "x-amz-object-lock-retain-until-date": until,
              "x-amz-object-lock-legal-hold": "ON"}
    p = s3.generate_presigned_post(lb, "posted", Fields=fields,
                                   Conditions=[{k: v} for k, v in fields.items()])
    body = b"".join(b"--XX\r\nContent-Disposition: form-data; name=\"%s\"\r\n\r\n%s\r\n"
                    % (k.encode(), v.encode()) for k, v in p["fields"].items())
    body += (b"--XX\r\nContent-Disposition: form-data; name=\"file\"; filename=\"f\"\r\n\r\n"
             b"posted\r\n--XX--\r\n")
    r = sigv4_daemon.request("POST", "/" + lb, body=body,
                             headers={"Content-Type": "multipart/form-data; boundary=XX"})
    assert r.status == 204, r.body
    ret = s3.get_object_retention(Bucket=lb, Key="posted")["Retention"]
    assert ret["Mode"] == "GOVERNANCE"
    assert ret["RetainUntilDate"].strftime("%Y-%m-%dT%H:%M:%SZ") == until
    assert s3.get_object_legal_hold(Bucket=lb, Key="posted")["LegalHold"]["Status"] == "ON"
