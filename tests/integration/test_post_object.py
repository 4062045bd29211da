"""POST Object: browser form uploads (POST /bucket, multipart/form-data).

Forms come from boto3's generate_presigned_post (SigV4 policy signatures),
from a hand-made SigV2 policy, and unsigned (--auth simple, curl -F). The
multipart body is built here, so the order of fields (file last) is ours.
"""
import base64
import datetime
import hashlib
import hmac
import json
import os
import uuid
import urllib.parse

import pytest

import s3util

NS = s3util.S3NS


def multipart(fields, file_bytes, filename="upload.bin", file_type="application/octet-stream",
              after=None):
    """(content type, body): fields in order, then the file, then `after`."""
    boundary = "----atrium" + uuid.uuid4().hex
    out = []
    for name, value in fields:
        out.append(("--%s\r\nContent-Disposition: form-data; name=\"%s\"\r\n\r\n"
                    % (boundary, name)).encode() + value.encode() + b"\r\n")
    out.append(("--%s\r\nContent-Disposition: form-data; name=\"file\"; filename=\"%s\"\r\n"
                "Content-Type: %s\r\n\r\n" % (boundary, filename, file_type)).encode()
               + file_bytes + b"\r\n")
    for name, value in after or []:
        out.append(("--%s\r\nContent-Disposition: form-data; name=\"%s\"\r\n\r\n"
                    % (boundary, name)).encode() + value.encode() + b"\r\n")
    out.append(("--%s--\r\n" % boundary).encode())
    return "multipart/form-data; boundary=" + boundary, b"".join(out)


def post_form(d, bucket, fields, file_bytes, path_prefix="", **kw):
    ct, body = multipart(list(fields.items()) if isinstance(fields, dict) else fields,
                         file_bytes, **kw)
    return s3util.raw_request(d.port, "POST", "%s/%s" % (path_prefix, bucket),
                              {"Content-Type": ct}, body)


def v4_client(d, user="alice", secret=None, access_key=None, sigv="s3v4"):
    """boto3 signs POST policies with SigV2 unless told s3v4."""
    import boto3
    from botocore.config import Config
    ak, sk = d.keys(user)
    return boto3.client("s3", endpoint_url=d.endpoint, region_name="us-east-1",
                        aws_access_key_id=access_key or ak,
                        aws_secret_access_key=secret or sk,
                        config=Config(signature_version=sigv,
                                      s3={"addressing_style": "path"}))


def presigned(d, bucket, key, fields=None, conditions=None, expires=600, user="alice",
              sigv="s3v4"):
    s3 = v4_client(d, user, sigv=sigv)
    p = s3.generate_presigned_post(bucket, key, Fields=fields, Conditions=conditions,
                                   ExpiresIn=expires)
    assert p["url"].rstrip("/").endswith("/" + bucket)
    return p["fields"]


@pytest.fixture
def bucket(sigv4_daemon, bucket_name):
    sigv4_daemon.boto3().create_bucket(Bucket=bucket_name)
    return bucket_name


def test_presigned_post_201_and_get_back(sigv4_daemon, bucket):
    d = sigv4_daemon
    conds = [{"Content-Type": "text/plain"}, {"x-amz-meta-color": "blue"},
             {"success_action_status": "201"}, ["content-length-range", 1, 1000]]
    fields = presigned(d, bucket, "docs/a.txt", {"Content-Type": "text/plain",
                                                 "x-amz-meta-color": "blue",
                                                 "success_action_status": "201"}, conds)
    data = b"hello form upload\n"
    r = post_form(d, bucket, fields, data)
    assert r.status == 201, r
    root = r.xml()
    assert root.tag == NS + "PostResponse"
    assert root.find(NS + "Bucket").text == bucket
    assert root.find(NS + "Key").text == "docs/a.txt"
    assert root.find(NS + "ETag").text == '"%s"' % s3util.md5hex(data)
    assert root.find(NS + "Location").text.endswith("/%s/docs/a.txt" % bucket)
    assert r.header("etag") == '"%s"' % s3util.md5hex(data)
    got = d.boto3().get_object(Bucket=bucket, Key="docs/a.txt")
    assert got["Body"].read() == data
    assert got["ContentType"] == "text/plain"
    assert got["Metadata"] == {"color": "blue"}
    # the object belongs to the signer
    owners = [c["Owner"]["ID"] for c in d.boto3().list_objects(Bucket=bucket)["Contents"]]
    assert owners == ["alice"]


def test_default_204_and_200(sigv4_daemon, bucket):
    d = sigv4_daemon
    r = post_form(d, bucket, presigned(d, bucket, "k204"), b"x")
    assert r.status == 204, r
    assert r.body == b""
    fields = presigned(d, bucket, "k200", {"success_action_status": "200"},
                       [{"success_action_status": "200"}])
    r = post_form(d, bucket, fields, b"y")
    assert r.status == 200, r
    assert d.boto3().get_object(Bucket=bucket, Key="k200")["Body"].read() == b"y"


def test_redirect_303(sigv4_daemon, bucket):
    d = sigv4_daemon
    target = "https://example.com/done?x=1"
    fields = presigned(d, bucket, "r/k 1", {"success_action_redirect": target},
                       [{"success_action_redirect": target}])
    r = post_form(d, bucket, fields, b"redirected")
    assert r.status == 303, r
    loc = urllib.parse.urlsplit(r.header("location"))
    assert (loc.scheme, loc.netloc, loc.path) == ("https", "example.com", "/done")
    q = dict(urllib.parse.parse_qsl(loc.query))
    assert q == {"x": "1", "bucket": bucket, "key": "r/k 1",
                 "etag": '"%s"' % s3util.md5hex(b"redirected")}


def test_filename_variable(sigv4_daemon, bucket):
    d = sigv4_daemon
    fields = presigned(d, bucket, "user/eric/${filename}")
    r = post_form(d, bucket, fields, b"photo bytes", filename="me.jpg", file_type="image/jpeg")
    assert r.status == 204, r
    assert d.boto3().get_object(Bucket=bucket, Key="user/eric/me.jpg")["Body"].read() == \
        b"photo bytes"


def test_large_file_streams(sigv4_daemon, bucket):
    d = sigv4_daemon
    data = os.urandom(3 * 1024 * 1024 + 17)
    # a body that holds the boundary's prefix bytes, split across reads
    data = data[:100000] + b"\r\n--" + data[100000:]
    r = post_form(d, bucket, presigned(d, bucket, "big"), data)
    assert r.status == 204, r
    got = d.boto3().get_object(Bucket=bucket, Key="big")["Body"].read()
    assert hashlib.md5(got).hexdigest() == hashlib.md5(data).hexdigest()


def test_fields_after_file_ignored(sigv4_daemon, bucket):
    d = sigv4_daemon
    fields = presigned(d, bucket, "after")
    ct, body = multipart(list(fields.items()), b"data",
                         after=[("x-amz-meta-late", "ignored"), ("key", "other")])
    r = s3util.raw_request(d.port, "POST", "/" + bucket, {"Content-Type": ct}, body)
    assert r.status == 204, r
    head = d.boto3().head_object(Bucket=bucket, Key="after")
    assert head["Metadata"] == {}


def test_content_length_range(sigv4_daemon, bucket):
    d = sigv4_daemon
    fields = presigned(d, bucket, "sized", conditions=[["content-length-range", 5, 10]])
    r = post_form(d, bucket, fields, b"x" * 11)
    assert (r.status, r.error_code()) == (400, "EntityTooLarge"), r
    r = post_form(d, bucket, fields, b"x" * 4)
    assert (r.status, r.error_code()) == (400, "EntityTooSmall"), r
    r = post_form(d, bucket, fields, b"x" * 10)
    assert r.status == 204, r
    # a larger file, refused while it streams
    r = post_form(d, bucket, fields, os.urandom(600000))
    assert (r.status, r.error_code()) == (400, "EntityTooLarge"), r


def test_starts_with_violation(sigv4_daemon, bucket):
    d = sigv4_daemon
    fields = presigned(d, bucket, "uploads/${filename}")
    fields["key"] = "elsewhere/x"
    r = post_form(d, bucket, fields, b"x")
    assert (r.status, r.error_code()) == (403, "AccessDenied"), r
    assert b"Policy Condition failed" in r.body and b"starts-with" in r.body
    fields = presigned(d, bucket, "exact")
    fields["key"] = "other"
    r = post_form(d, bucket, fields, b"x")
    assert (r.status, r.error_code()) == (403, "AccessDenied"), r


def test_extra_field_and_bucket_condition(sigv4_daemon, bucket, bucket_name):
    d = sigv4_daemon
    fields = presigned(d, bucket, "extra")
    fields["x-amz-meta-sneaky"] = "1"
    fields["x-ignore-me"] = "fine"
    r = post_form(d, bucket, fields, b"x")
    assert (r.status, r.error_code()) == (403, "AccessDenied"), r
    assert b"Extra input fields: x-amz-meta-sneaky" in r.body
    other = s3util.unique_bucket("other")
    d.boto3().create_bucket(Bucket=other)
    r = post_form(d, other, presigned(d, bucket, "k"), b"x")
    assert (r.status, r.error_code()) == (403, "AccessDenied"), r


def test_expired_policy(sigv4_daemon, bucket):
    d = sigv4_daemon
    fields = presigned(d, bucket, "late", expires=-60)
    r = post_form(d, bucket, fields, b"x")
    assert (r.status, r.error_code()) == (403, "AccessDenied"), r
    assert b"Policy expired" in r.body


def test_policy_expiration_at_most_a_week(sigv4_daemon, bucket):
    """A signed policy is a bearer credential for uploads: it may be valid
    for a week at most (SigV4's presigned-URL bound), whatever date it names."""
    d = sigv4_daemon
    week = 7 * 24 * 3600
    for sigv in ("s3v4", "s3"):
        r = post_form(d, bucket, presigned(d, bucket, "far-" + sigv, expires=week + 3600,
                                           sigv=sigv), b"x")
        assert (r.status, r.error_code()) == (403, "AccessDenied"), r
        assert b"Policy expiration must be at most 604800 seconds" in r.body, r
        r = post_form(d, bucket, presigned(d, bucket, "near-" + sigv, expires=week - 60,
                                           sigv=sigv), b"x")
        assert r.status == 204, r
    assert sorted(o["Key"] for o in d.boto3().list_objects_v2(Bucket=bucket)["Contents"]) \
        == ["near-s3", "near-s3v4"]


def test_bad_signature_and_unsigned(sigv4_daemon, bucket):
    d = sigv4_daemon
    fields = presigned(d, bucket, "sig")
    sig = fields["x-amz-signature"]
    fields["x-amz-signature"] = ("0" if sig[0] != "0" else "1") + sig[1:]
    r = post_form(d, bucket, fields, b"x")
    assert (r.status, r.error_code()) == (403, "SignatureDoesNotMatch"), r
    # a policy changed after signing
    fields = presigned(d, bucket, "sig")
    pol = json.loads(base64.b64decode(fields["policy"]))
    pol["conditions"].append(["starts-with", "$x-amz-meta-a", ""])
    fields["policy"] = base64.b64encode(json.dumps(pol).encode()).decode()
    r = post_form(d, bucket, fields, b"x")
    assert (r.status, r.error_code()) == (403, "SignatureDoesNotMatch"), r
    # wrong secret, unknown key
    r = post_form(d, bucket, presigned(d, bucket, "sig"), b"x")
    assert r.status == 204
    s3 = v4_client(d, secret="nope")
    r = post_form(d, bucket, s3.generate_presigned_post(bucket, "sig")["fields"], b"x")
    assert (r.status, r.error_code()) == (403, "SignatureDoesNotMatch"), r
    s3 = v4_client(d, access_key="AKIDNOBODY")
    r = post_form(d, bucket, s3.generate_presigned_post(bucket, "sig")["fields"], b"x")
    assert (r.status, r.error_code()) == (403, "InvalidAccessKeyId"), r
    # no signature at all: anonymous writes are not allowed in sigv4 mode
    r = post_form(d, bucket, {"key": "anon"}, b"x")
    assert (r.status, r.error_code()) == (403, "AccessDenied"), r


def _v2_form(d, bucket, key, user="alice", conditions=None, secret=None):
    ak, sk = d.keys(user)
    exp = (datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(minutes=10))
    policy = {"expiration": exp.strftime("%Y-%m-%dT%H:%M:%S.000Z"),
              "conditions": [{"bucket": bucket}, ["eq", "$key", key]] + (conditions or [])}
    b64 = base64.b64encode(json.dumps(policy).encode()).decode()
    sig = base64.b64encode(hmac.new((secret or sk).encode(), b64.encode(),
                                    hashlib.sha1).digest()).decode()
    return {"key": key, "AWSAccessKeyId": ak, "policy": b64, "signature": sig}


def test_sigv2_form(sigv4_daemon, bucket):
    d = sigv4_daemon
    r = post_form(d, bucket, _v2_form(d, bucket, "v2obj"), b"v2 data")
    assert r.status == 204, r
    assert d.boto3().get_object(Bucket=bucket, Key="v2obj")["Body"].read() == b"v2 data"
    r = post_form(d, bucket, _v2_form(d, bucket, "v2obj", secret="wrong"), b"x")
    assert (r.status, r.error_code()) == (403, "SignatureDoesNotMatch"), r
    # boto3's own SigV2 policy signer (its default for presigned POSTs)
    fields = presigned(d, bucket, "v2boto/${filename}", sigv="s3")
    assert "AWSAccessKeyId" in fields and "x-amz-signature" not in fields
    r = post_form(d, bucket, fields, b"boto v2", filename="f.txt")
    assert r.status == 204, r
    assert d.boto3().get_object(Bucket=bucket, Key="v2boto/f.txt")["Body"].read() == b"boto v2"
    fields["signature"] = base64.b64encode(b"x" * 20).decode()
    r = post_form(d, bucket, fields, b"x", filename="f.txt")
    assert (r.status, r.error_code()) == (403, "SignatureDoesNotMatch"), r


def test_alluxio_prefix_and_tagging(sigv4_daemon, bucket):
    d = sigv4_daemon
    tagging = ("<Tagging><TagSet><Tag><Key>team</Key><Value>red</Value></Tag>"
               "</TagSet></Tagging>")
    fields = presigned(d, bucket, "tagged", {"tagging": tagging}, [{"tagging": tagging}])
    r = post_form(d, bucket, fields, b"t", path_prefix="/api/v1/s3")
    assert r.status == 204, r
    assert "/api/v1/s3/%s/tagged" % bucket in r.header("location")
    tags = d.boto3().get_object_tagging(Bucket=bucket, Key="tagged")["TagSet"]
    assert tags == [{"Key": "team", "Value": "red"}]


def test_malformed_forms(sigv4_daemon, bucket):
    d = sigv4_daemon
    fields = presigned(d, bucket, "m")
    # no file part
    ct = "multipart/form-data; boundary=nofile" + uuid.uuid4().hex
    r = s3util.raw_request(d.port, "POST", "/" + bucket, {"Content-Type": ct},
                           _form_without_file(fields, ct))
    assert (r.status, r.error_code()) == (400, "InvalidArgument"), r
    # not a form
    r = s3util.raw_request(d.port, "POST", "/" + bucket, {"Content-Type": "text/plain"},
                           b"x", sign=d.keys("alice"))
    assert (r.status, r.error_code()) == (412, "PreconditionFailed"), r
    # garbage body
    r = s3util.raw_request(d.port, "POST", "/" + bucket,
                           {"Content-Type": "multipart/form-data; boundary=zz"}, b"garbage")
    assert (r.status, r.error_code()) == (400, "MalformedPOSTRequest"), r
    # too much before the file
    big = dict(fields)
    big["x-ignore-pad"] = "p" * 30000
    r = post_form(d, bucket, big, b"x")
    assert (r.status, r.error_code()) == (400, "MaxPostPreDataLengthExceeded"), r
    # the daemon still answers on a new connection
    assert post_form(d, bucket, presigned(d, bucket, "m"), b"ok").status == 204


def _form_without_file(fields, ct):
    boundary = ct.split("=", 1)[1]
    out = b""
    for k, v in fields.items():
        out += ("--%s\r\nContent-Disposition: form-data; name=\"%s\"\r\n\r\n%s\r\n"
                % (boundary, k, v)).encode()
    return out + ("--%s--\r\n" % boundary).encode()


def test_simple_mode_unsigned_curl(simple_daemon, bucket_name, tmp_path):
    d = simple_daemon
    assert s3util.raw_request(d.port, "PUT", "/" + bucket_name).status == 200
    f = tmp_path / "report.csv"
    f.write_bytes(b"a,b\n1,2\n")
    r = s3util.curl(["-F", "key=in/${filename}", "-F", "Content-Type=text/csv",
                     "-F", "x-amz-meta-src=curl", "-F", "success_action_status=201",
                     "-F", "file=@%s" % f, d.url("/" + bucket_name)])
    assert r.status == 201, r
    r = s3util.raw_request(d.port, "GET", "/%s/in/report.csv" % bucket_name)
    assert r.status == 200, r
    assert r.body == b"a,b\n1,2\n"
    assert r.header("content-type") == "text/csv"
    assert r.header("x-amz-meta-src") == "curl"
    # a policy is still enforced when present
    exp = (datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(minutes=1))
    pol = base64.b64encode(json.dumps({"expiration": exp.strftime("%Y-%m-%dT%H:%M:%SZ"),
                                       "conditions": []}).encode()).decode()
    r = s3util.curl(["-F", "key=x", "-F", "policy=" + pol, "-F", "file=@%s" % f,
                     d.url("/" + bucket_name)])
    assert (r.status, r.error_code()) == (403, "AccessDenied"), r


# -- issue 16 -------------------------------------------------------------------

def test_filename_substituted_before_policy(sigv4_daemon, bucket):
    """AWS replaces ${filename} before checking the policy: conditions on
    $key see the object's real key."""
    d = sigv4_daemon
    fields = presigned(d, bucket, "photos/${filename}",
                       conditions=[["starts-with", "$key", "photos/me"]])
    r = post_form(d, bucket, fields, b"jpeg", filename="me.jpg")
    assert r.status == 204, r
    r = post_form(d, bucket, fields, b"jpeg", filename="you.jpg")
    assert (r.status, r.error_code()) == (403, "AccessDenied"), r
    # an exact key, and a path given by the browser (only its last part counts)
    fields = presigned(d, bucket, "up/${filename}", conditions=[{"key": "up/x.txt"}])
    r = post_form(d, bucket, fields, b"x", filename="C:\\\\dir\\\\x.txt")
    assert r.status == 204, r
    # other fields too: a metadata value naming the file
    fields = presigned(d, bucket, "meta", fields={"x-amz-meta-name": "was ${filename}"},
                       conditions=[{"x-amz-meta-name": "was b.bin"}])
    r = post_form(d, bucket, fields, b"x", filename="a/b.bin")
    assert r.status == 204, r
    s3 = d.boto3()
    assert s3.head_object(Bucket=bucket, Key="photos/me.jpg")["ContentLength"] == 4
    assert s3.head_object(Bucket=bucket, Key="up/x.txt")["ContentLength"] == 1
    assert s3.head_object(Bucket=bucket, Key="meta")["Metadata"] == {"name": "was b.bin"}


def test_incomplete_signature_fields(sigv4_daemon, bucket):
    """A form with some of a signature's fields is 400 InvalidArgument
    naming the one missing (AWS); one with none at all is anonymous."""
    d = sigv4_daemon
    for drop in ("x-amz-signature", "x-amz-credential", "x-amz-algorithm", "policy"):
        fields = presigned(d, bucket, "partial")
        del fields[drop]
        r = post_form(d, bucket, fields, b"x")
        assert (r.status, r.error_code()) == (400, "InvalidArgument"), (drop, r)
        assert "'%s'" % drop in r.xml().find("Message").text, (drop, r.body)
    for drop in ("signature", "AWSAccessKeyId", "policy"):
        fields = _v2_form(d, bucket, "partial")
        del fields[drop]
        r = post_form(d, bucket, fields, b"x")
        assert (r.status, r.error_code()) == (400, "InvalidArgument"), (drop, r)
        assert "'%s'" % drop in r.xml().find("Message").text, (drop, r.body)
    # a policy and nothing that signs it
    fields = presigned(d, bucket, "partial")
    r = post_form(d, bucket, {"key": "partial", "policy": fields["policy"]}, b"x")
    assert (r.status, r.error_code()) == (400, "InvalidArgument"), r
    # no signature fields at all: anonymous (the bucket is private)
    r = post_form(d, bucket, {"key": "anon"}, b"x")
    assert (r.status, r.error_code()) == (403, "AccessDenied"), r
    assert "Contents" not in d.boto3().list_objects_v2(Bucket=bucket)


@pytest.mark.parametrize("alg", ["crc32", "crc32c", "crc64nvme", "sha1", "sha256"])
def test_checksum_fields_verified(sigv4_daemon, bucket, alg):
    d = sigv4_daemon
    data = os.urandom(3000)
    good = s3util.checksum(alg, data)
    fields = presigned(d, bucket, "ck")
    fields["x-amz-checksum-" + alg] = good
    fields["x-amz-checksum-algorithm"] = alg.upper()
    r = post_form(d, bucket, fields, data)
    assert r.status == 204, r
    assert r.header("x-amz-checksum-" + alg) == good
    h = d.request("HEAD", "/%s/ck" % bucket, user="alice",
                  headers={"x-amz-checksum-mode": "ENABLED"})
    assert h.header("x-amz-checksum-" + alg) == good, h
    fields = presigned(d, bucket, "ck-bad")
    fields["x-amz-checksum-" + alg] = s3util.checksum(alg, data + b"!")
    r = post_form(d, bucket, fields, data)
    assert (r.status, r.error_code()) == (400, "BadDigest"), r
    fields = presigned(d, bucket, "ck-bad")
    fields["x-amz-checksum-" + alg] = "not base64 of the size"
    r = post_form(d, bucket, fields, data)
    assert (r.status, r.error_code()) == (400, "InvalidRequest"), r
    names = [o["Key"] for o in d.boto3().list_objects_v2(Bucket=bucket)["Contents"]]
    assert names == ["ck"]
