"""Lifecycle (issue 17): Put/Get/DeleteBucketLifecycleConfiguration with
AWS's validation, the x-amz-expiration header, and the worker that expires
objects and aborts stale multipart uploads, driven with an injected time
(POST /api/v1/admin/lifecycle/run?now=...) so that no test waits. And the
bucket sub-resources answered with AWS's defaults (website, requestPayment,
accelerate, notification) rather than 501."""
import base64
import calendar
import datetime
import email.utils
import hashlib
import json
import re
import time

import pytest

from s3util import awscli, client_error

DAY = 86400


@pytest.fixture(scope="module")
def daemon(atriumd_factory):
    # No timed passes: each test runs the pass it needs, at the time it
    # needs, through the admin API.
    return atriumd_factory("sigv4", "lifecycle", args=["--lifecycle-interval-ms", "0"])


@pytest.fixture
def s3(daemon):
    return daemon.boto3("alice")


@pytest.fixture
def bucket(s3, bucket_name):
    s3.create_bucket(Bucket=bucket_name)
    yield bucket_name
    # Passes cover every bucket: a test's rules must not act in the next one.
    s3.delete_bucket_lifecycle(Bucket=bucket_name)


def run_pass(daemon, now):
    """One lifecycle pass at time now (epoch seconds): its summary."""
    r = daemon.request("POST", "/api/v1/admin/lifecycle/run?now=%d" % now, user="admin")
    assert r.status == 200, r.body
    return json.loads(r.body)


def keys(s3, bucket):
    return sorted(o["Key"] for o in s3.list_objects_v2(Bucket=bucket).get("Contents", []))


def put_lifecycle(s3, bucket, rules):
    return s3.put_bucket_lifecycle_configuration(
        Bucket=bucket, LifecycleConfiguration={"Rules": rules})


def metric(daemon, name):
    r = daemon.request("GET", "/api/v1/metrics", user="admin")
    m = re.search(r"^%s (\d+)$" % name, r.body.decode(), re.M)
    assert m, name
    return int(m.group(1))


# -- the sub-resources S3 clients probe ----------------------------------------

def test_unconfigured_subresources_answer_aws_defaults(s3, bucket):
    assert client_error(s3.get_bucket_website, Bucket=bucket) == (
        404, "NoSuchWebsiteConfiguration")
    r = s3.get_bucket_request_payment(Bucket=bucket)
    assert r["Payer"] == "BucketOwner"
    r = s3.get_bucket_accelerate_configuration(Bucket=bucket)
    assert r["ResponseMetadata"]["HTTPStatusCode"] == 200 and "Status" not in r
    r = s3.get_bucket_notification_configuration(Bucket=bucket)
    assert r["ResponseMetadata"]["HTTPStatusCode"] == 200
    assert not any(k in r for k in ("TopicConfigurations", "QueueConfigurations",
                                    "LambdaFunctionConfigurations"))
    r = s3.get_bucket_logging(Bucket=bucket)
    assert r["ResponseMetadata"]["HTTPStatusCode"] == 200 and "LoggingEnabled" not in r
    assert client_error(s3.get_bucket_cors, Bucket=bucket) == (404, "NoSuchCORSConfiguration")
    assert client_error(s3.get_bucket_encryption, Bucket=bucket) == (
        404, "ServerSideEncryptionConfigurationNotFoundError")


def test_subresource_defaults_raw_xml(daemon, bucket):
    r = daemon.request("GET", "/%s?requestPayment" % bucket, user="alice")
    assert r.status == 200
    assert b"<RequestPaymentConfiguration" in r.body and b"<Payer>BucketOwner</Payer>" in r.body
    for sub, root in (("accelerate", b"<AccelerateConfiguration"),
                      ("notification", b"<NotificationConfiguration")):
        r = daemon.request("GET", "/%s?%s" % (bucket, sub), user="alice")
        assert r.status == 200 and root in r.body


def test_subresource_defaults_are_the_owners(daemon, bucket):
    bob = daemon.boto3("bob")
    assert client_error(bob.get_bucket_website, Bucket=bucket)[0] == 403
    assert client_error(bob.get_bucket_request_payment, Bucket=bucket)[0] == 403
    assert client_error(bob.get_bucket_accelerate_configuration, Bucket=bucket)[0] == 403
    assert client_error(bob.get_bucket_notification_configuration, Bucket=bucket)[0] == 403
    s3 = daemon.boto3("alice")
    assert client_error(s3.get_bucket_website, Bucket="no-such-" + bucket)[1] == "NoSuchBucket"


def test_subresource_puts_stay_not_implemented(s3, bucket):
    assert client_error(s3.put_bucket_website, Bucket=bucket, WebsiteConfiguration={
        "IndexDocument": {"Suffix": "index.html"}}) == (501, "NotImplemented")
    assert client_error(s3.put_bucket_accelerate_configuration, Bucket=bucket,
                        AccelerateConfiguration={"Status": "Enabled"}) == (501, "NotImplemented")


# -- Put/Get/DeleteBucketLifecycleConfiguration -------------------------------

COMPLEX = [
    {"ID": "logs", "Filter": {"Prefix": "logs/"}, "Status": "Enabled",
     "Expiration": {"Days": 30},
     "NoncurrentVersionExpiration": {"NoncurrentDays": 7, "NewerNoncurrentVersions": 3},
     "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": 2}},
    {"ID": "tmp-big", "Status": "Disabled",
     "Filter": {"And": {"Prefix": "tmp/", "Tags": [{"Key": "class", "Value": "scratch"},
                                                  {"Key": "owner", "Value": "ci"}],
                        "ObjectSizeGreaterThan": 1024, "ObjectSizeLessThan": 1048576}},
     "Expiration": {"Date": datetime.datetime(2030, 1, 1, tzinfo=datetime.timezone.utc)}},
    {"ID": "markers", "Filter": {"Tag": {"Key": "k", "Value": "v"}}, "Status": "Enabled",
     "Expiration": {"Days": 1}},
    {"ID": "sized", "Filter": {"ObjectSizeLessThan": 10}, "Status": "Enabled",
     "Expiration": {"ExpiredObjectDeleteMarker": True}},
    {"ID": "all", "Filter": {}, "Status": "Enabled",
     "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": 5}},
]


def test_round_trip_of_a_complex_configuration(s3, bucket):
    assert client_error(s3.get_bucket_lifecycle_configuration, Bucket=bucket) == (
        404, "NoSuchLifecycleConfiguration")
    r = put_lifecycle(s3, bucket, COMPLEX)
    assert r["ResponseMetadata"]["HTTPStatusCode"] == 200
    got = s3.get_bucket_lifecycle_configuration(Bucket=bucket)["Rules"]
    assert len(got) == 5
    assert got[0] == COMPLEX[0]
    assert got[1]["Status"] == "Disabled"
    assert got[1]["Filter"]["And"] == COMPLEX[1]["Filter"]["And"]
    assert got[1]["Expiration"]["Date"] == COMPLEX[1]["Expiration"]["Date"]
    assert got[2]["Filter"] == {"Tag": {"Key": "k", "Value": "v"}}
    assert got[3]["Expiration"] == {"ExpiredObjectDeleteMarker": True}
    assert got[3]["Filter"] == {"ObjectSizeLessThan": 10}
    assert got[4]["Filter"] == {} and got[4]["AbortIncompleteMultipartUpload"] == {
        "DaysAfterInitiation": 5}
    # a new configuration replaces the whole of the old one
    put_lifecycle(s3, bucket, [{"ID": "only", "Prefix": "", "Status": "Enabled",
                                "Expiration": {"Days": 3}}])
    got = s3.get_bucket_lifecycle_configuration(Bucket=bucket)["Rules"]
    assert got == [{"ID": "only", "Prefix": "", "Status": "Enabled",
                    "Expiration": {"Days": 3}}]
    r = s3.delete_bucket_lifecycle(Bucket=bucket)
    assert r["ResponseMetadata"]["HTTPStatusCode"] == 204
    assert client_error(s3.get_bucket_lifecycle_configuration, Bucket=bucket) == (
        404, "NoSuchLifecycleConfiguration")


def test_a_rule_without_id_gets_one(s3, bucket):
    put_lifecycle(s3, bucket, [{"Filter": {"Prefix": "a/"}, "Status": "Enabled",
                                "Expiration": {"Days": 1}}])
    got = s3.get_bucket_lifecycle_configuration(Bucket=bucket)["Rules"]
    assert len(got[0]["ID"]) > 0


def put_raw(daemon, bucket, body, md5=True):
    h = {}
    if md5:
        h["Content-MD5"] = base64.b64encode(hashlib.md5(body.encode()).digest()).decode()
    return daemon.request("PUT", "/%s?lifecycle" % bucket, h, body=body, user="alice")


def doc(*rules):
    return "<LifecycleConfiguration>%s</LifecycleConfiguration>" % "".join(
        "<Rule>%s</Rule>" % r for r in rules)


OK_FILTER = "<Filter><Prefix>p/</Prefix></Filter><Status>Enabled</Status>"
EXP1 = "<Expiration><Days>1</Days></Expiration>"

INVALID = [
    ("no rules", doc(), 400, "MalformedXML"),
    ("not XML", "<LifecycleConfiguration><Rule>", 400, "MalformedXML"),
    ("bad status", doc("<Filter/><Status>On</Status>" + EXP1), 400, "MalformedXML"),
    ("no filter nor prefix", doc("<Status>Enabled</Status>" + EXP1), 400, "MalformedXML"),
    ("filter and prefix", doc("<Prefix>a</Prefix>" + OK_FILTER + EXP1), 400, "MalformedXML"),
    ("two predicates", doc("<Filter><Prefix>a</Prefix><Tag><Key>k</Key><Value>v</Value></Tag>"
                           "</Filter><Status>Enabled</Status>" + EXP1), 400, "MalformedXML"),
    ("no action", doc(OK_FILTER), 400, "InvalidRequest"),
    ("id too long", doc("<ID>%s</ID>" % ("x" * 256) + OK_FILTER + EXP1), 400,
     "InvalidArgument"),
    ("duplicate id", doc("<ID>a</ID>" + OK_FILTER + EXP1, "<ID>a</ID>" + OK_FILTER + EXP1),
     400, "InvalidArgument"),
    ("days zero", doc(OK_FILTER + "<Expiration><Days>0</Days></Expiration>"), 400,
     "InvalidArgument"),
    ("days negative", doc(OK_FILTER + "<Expiration><Days>-3</Days></Expiration>"), 400,
     "InvalidArgument"),
    ("days not a number", doc(OK_FILTER + "<Expiration><Days>ten</Days></Expiration>"), 400,
     "MalformedXML"),
    ("days and date", doc(OK_FILTER + "<Expiration><Days>1</Days>"
                          "<Date>2030-01-01T00:00:00Z</Date></Expiration>"), 400, "MalformedXML"),
    ("date not midnight", doc(OK_FILTER + "<Expiration><Date>2030-01-01T10:00:00Z</Date>"
                              "</Expiration>"), 400, "InvalidArgument"),
    ("date not a date", doc(OK_FILTER + "<Expiration><Date>tomorrow</Date></Expiration>"), 400,
     "InvalidArgument"),
    ("marker with tags", doc("<Filter><Tag><Key>k</Key><Value>v</Value></Tag></Filter>"
                             "<Status>Enabled</Status><Expiration><ExpiredObjectDeleteMarker>"
                             "true</ExpiredObjectDeleteMarker></Expiration>"), 400,
     "InvalidRequest"),
    ("noncurrent days zero", doc(OK_FILTER + "<NoncurrentVersionExpiration><NoncurrentDays>0"
                                 "</NoncurrentDays></NoncurrentVersionExpiration>"), 400,
     "InvalidArgument"),
    ("newer versions 101", doc(OK_FILTER + "<NoncurrentVersionExpiration><NoncurrentDays>1"
                               "</NoncurrentDays><NewerNoncurrentVersions>101"
                               "</NewerNoncurrentVersions></NoncurrentVersionExpiration>"),
     400, "InvalidArgument"),
    ("abort days zero", doc(OK_FILTER + "<AbortIncompleteMultipartUpload><DaysAfterInitiation>"
                            "0</DaysAfterInitiation></AbortIncompleteMultipartUpload>"), 400,
     "InvalidArgument"),
    ("abort with tags", doc("<Filter><Tag><Key>k</Key><Value>v</Value></Tag></Filter>"
                            "<Status>Enabled</Status><AbortIncompleteMultipartUpload>"
                            "<DaysAfterInitiation>1</DaysAfterInitiation>"
                            "</AbortIncompleteMultipartUpload>"), 400, "InvalidRequest"),
    ("sizes crossed", doc("<Filter><And><ObjectSizeGreaterThan>100</ObjectSizeGreaterThan>"
                          "<ObjectSizeLessThan>50</ObjectSizeLessThan></And></Filter>"
                          "<Status>Enabled</Status>" + EXP1), 400, "InvalidArgument"),
    ("duplicate tag keys", doc("<Filter><And><Tag><Key>k</Key><Value>1</Value></Tag><Tag>"
                               "<Key>k</Key><Value>2</Value></Tag></And></Filter>"
                               "<Status>Enabled</Status>" + EXP1), 400, "InvalidRequest"),
    ("transition", doc(OK_FILTER + "<Transition><Days>30</Days><StorageClass>GLACIER"
                       "</StorageClass></Transition>"), 501, "NotImplemented"),
    ("1001 rules", doc(*["<ID>r%d</ID>" % i + OK_FILTER + EXP1 for i in range(1001)]), 400,
     "MalformedXML"),
]


@pytest.mark.parametrize("name,body,status,code", INVALID, ids=[c[0] for c in INVALID])
def test_each_validation_error(daemon, bucket, name, body, status, code):
    r = put_raw(daemon, bucket, body)
    assert (r.status, r.error_code()) == (status, code), r.body
    s3 = daemon.boto3("alice")
    assert client_error(s3.get_bucket_lifecycle_configuration, Bucket=bucket)[1] == (
        "NoSuchLifecycleConfiguration")


def test_put_needs_an_integrity_header(daemon, bucket):
    body = doc(OK_FILTER + EXP1)
    r = put_raw(daemon, bucket, body, md5=False)
    assert (r.status, r.error_code()) == (400, "InvalidRequest")
    r = daemon.request("PUT", "/%s?lifecycle" % bucket, {
        "Content-MD5": base64.b64encode(hashlib.md5(b"other").digest()).decode()},
        body=body, user="alice")
    assert (r.status, r.error_code()) == (400, "BadDigest")
    r = put_raw(daemon, bucket, body)
    assert r.status == 200


def test_permissions(daemon, s3, bucket):
    put_lifecycle(s3, bucket, [{"ID": "r", "Filter": {}, "Status": "Enabled",
                                "Expiration": {"Days": 1}}])
    bob = daemon.boto3("bob")
    assert client_error(bob.get_bucket_lifecycle_configuration, Bucket=bucket) == (
        403, "AccessDenied")
    assert client_error(put_lifecycle, bob, bucket, [{"ID": "x", "Filter": {},
                                                     "Status": "Enabled",
                                                     "Expiration": {"Days": 1}}]) == (
        403, "AccessDenied")
    assert client_error(bob.delete_bucket_lifecycle, Bucket=bucket) == (403, "AccessDenied")
    # a policy granting AWS's actions lets bob in
    policy = {"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::000000000000:user/bob"},
        "Action": ["s3:GetLifecycleConfiguration"],
        "Resource": "arn:aws:s3:::%s" % bucket}]}
    s3.put_bucket_policy(Bucket=bucket, Policy=json.dumps(policy))
    assert bob.get_bucket_lifecycle_configuration(Bucket=bucket)["Rules"][0]["ID"] == "r"
    assert client_error(bob.delete_bucket_lifecycle, Bucket=bucket) == (403, "AccessDenied")
    # and the admin API's pass is the daemon's user's only
    r = daemon.request("POST", "/api/v1/admin/lifecycle/run", user="alice")
    assert r.status == 403


def test_awscli_put_bucket_lifecycle_configuration(daemon, bucket, tmp_path):
    aws = awscli(daemon, tmp_path)
    cfg = tmp_path / "lc.json"
    cfg.write_text(json.dumps({"Rules": [
        {"ID": "cli", "Filter": {"Prefix": "old/"}, "Status": "Enabled",
         "Expiration": {"Days": 10}}]}))
    aws("s3api", "put-bucket-lifecycle-configuration", "--bucket", bucket,
        "--lifecycle-configuration", "file://%s" % cfg)
    out = json.loads(aws("s3api", "get-bucket-lifecycle-configuration", "--bucket",
                         bucket).stdout)
    assert out["Rules"] == [{"ID": "cli", "Filter": {"Prefix": "old/"}, "Status": "Enabled",
                             "Expiration": {"Days": 10}}]


# -- x-amz-expiration ------------------------------------------------------------

def expected_expiry(last_modified, days):
    """AWS's: mtime + days, rounded up to the next midnight UTC."""
    t = calendar.timegm(last_modified.utctimetuple()) + days * DAY
    return email.utils.formatdate(-(-t // DAY) * DAY, usegmt=True)


def test_x_amz_expiration_header(daemon, s3, bucket):
    put_lifecycle(s3, bucket, [
        {"ID": "short", "Filter": {"Prefix": "logs/"}, "Status": "Enabled",
         "Expiration": {"Days": 3}},
        {"ID": "long", "Filter": {}, "Status": "Enabled", "Expiration": {"Days": 40}},
        {"ID": "off", "Filter": {"Prefix": "logs/"}, "Status": "Disabled",
         "Expiration": {"Days": 1}},
        {"ID": "tagged", "Filter": {"Tag": {"Key": "t", "Value": "1"}}, "Status": "Enabled",
         "Expiration": {"Days": 2}},
    ])
    r = s3.put_object(Bucket=bucket, Key="logs/a", Body=b"x")
    head = s3.head_object(Bucket=bucket, Key="logs/a")
    want = 'expiry-date="%s", rule-id="short"' % expected_expiry(head["LastModified"], 3)
    assert r["Expiration"] == want
    assert head["Expiration"] == want
    assert s3.get_object(Bucket=bucket, Key="logs/a")["Expiration"] == want
    # the earliest of the rules that match
    s3.put_object(Bucket=bucket, Key="data/b", Body=b"x")
    head = s3.head_object(Bucket=bucket, Key="data/b")
    assert head["Expiration"] == 'expiry-date="%s", rule-id="long"' % expected_expiry(
        head["LastModified"], 40)
    r = s3.put_object(Bucket=bucket, Key="data/c", Body=b"x", Tagging="t=1")
    assert r["Expiration"].endswith('rule-id="tagged"')  # the PUT's own tags count
    head = s3.head_object(Bucket=bucket, Key="data/c")
    assert head["Expiration"] == r["Expiration"]
    # CopyObject: by the copy's key and the tags it got
    r = s3.copy_object(Bucket=bucket, Key="logs/copy", CopySource={"Bucket": bucket,
                                                                   "Key": "data/b"})
    assert r["Expiration"].endswith('rule-id="short"')
    r = s3.copy_object(Bucket=bucket, Key="data/d", CopySource={"Bucket": bucket,
                                                                "Key": "data/c"})
    assert r["Expiration"] == s3.head_object(Bucket=bucket, Key="data/d")["Expiration"]
    assert r["Expiration"].endswith('rule-id="tagged"')
    # an ID a quoted header string cannot carry as it is goes percent-encoded
    put_lifecycle(s3, bucket, [{"ID": '"' * 255, "Filter": {}, "Status": "Enabled",
                                "Expiration": {"Days": 1}}])
    r = s3.put_object(Bucket=bucket, Key="q", Body=b"x")
    assert r["Expiration"].endswith('rule-id="%s"' % ("%22" * 255))
    # no rule: no header
    s3.delete_bucket_lifecycle(Bucket=bucket)
    assert "Expiration" not in s3.head_object(Bucket=bucket, Key="logs/a")


# -- the worker ------------------------------------------------------------------

def test_expire_by_prefix_and_disabled_rules_do_nothing(daemon, s3, bucket):
    for k in ("logs/1", "logs/2", "keep/1", "off/1"):
        s3.put_object(Bucket=bucket, Key=k, Body=b"data")
    put_lifecycle(s3, bucket, [
        {"ID": "logs", "Filter": {"Prefix": "logs/"}, "Status": "Enabled",
         "Expiration": {"Days": 1}},
        {"ID": "off", "Filter": {"Prefix": "off/"}, "Status": "Disabled",
         "Expiration": {"Days": 1}},
    ])
    now = int(time.time())
    assert run_pass(daemon, now)["expired"] == 0  # not due yet
    assert keys(s3, bucket) == ["keep/1", "logs/1", "logs/2", "off/1"]
    out = run_pass(daemon, now + 2 * DAY)
    assert out["expired"] == 2 and out["errors"] == 0
    assert keys(s3, bucket) == ["keep/1", "off/1"]


def test_expire_by_tag(daemon, s3, bucket):
    s3.put_object(Bucket=bucket, Key="a", Body=b"1", Tagging="class=scratch&x=y")
    s3.put_object(Bucket=bucket, Key="b", Body=b"1", Tagging="class=keep")
    s3.put_object(Bucket=bucket, Key="c", Body=b"1")
    put_lifecycle(s3, bucket, [{"ID": "t", "Filter": {"Tag": {"Key": "class",
                                                               "Value": "scratch"}},
                                "Status": "Enabled", "Expiration": {"Days": 5}}])
    run_pass(daemon, int(time.time()) + 6 * DAY)
    assert keys(s3, bucket) == ["b", "c"]


def test_expire_by_size(daemon, s3, bucket):
    s3.put_object(Bucket=bucket, Key="small", Body=b"x" * 10)
    s3.put_object(Bucket=bucket, Key="mid", Body=b"x" * 500)
    s3.put_object(Bucket=bucket, Key="big", Body=b"x" * 5000)
    put_lifecycle(s3, bucket, [{"ID": "s", "Status": "Enabled", "Expiration": {"Days": 1},
                                "Filter": {"And": {"ObjectSizeGreaterThan": 100,
                                                   "ObjectSizeLessThan": 1000}}}])
    run_pass(daemon, int(time.time()) + 2 * DAY)
    assert keys(s3, bucket) == ["big", "small"]


def test_expire_by_date(daemon, s3, bucket):
    s3.put_object(Bucket=bucket, Key="d/1", Body=b"x")
    s3.put_object(Bucket=bucket, Key="e/1", Body=b"x")
    date = datetime.datetime(2031, 6, 1, tzinfo=datetime.timezone.utc)
    put_lifecycle(s3, bucket, [{"ID": "d", "Filter": {"Prefix": "d/"}, "Status": "Enabled",
                                "Expiration": {"Date": date}}])
    head = s3.head_object(Bucket=bucket, Key="d/1")
    assert head["Expiration"] == 'expiry-date="Sun, 01 Jun 2031 00:00:00 GMT", rule-id="d"'
    t = calendar.timegm(date.utctimetuple())
    assert run_pass(daemon, t - 1)["expired"] == 0
    assert keys(s3, bucket) == ["d/1", "e/1"]
    assert run_pass(daemon, t)["expired"] == 1
    assert keys(s3, bucket) == ["e/1"]


def test_abort_stale_uploads(daemon, s3, bucket):
    stale = s3.create_multipart_upload(Bucket=bucket, Key="up/stale")["UploadId"]
    s3.upload_part(Bucket=bucket, Key="up/stale", UploadId=stale, PartNumber=1, Body=b"p")
    other = s3.create_multipart_upload(Bucket=bucket, Key="elsewhere")["UploadId"]
    put_lifecycle(s3, bucket, [{"ID": "mpu", "Filter": {"Prefix": "up/"}, "Status": "Enabled",
                                "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": 1}}])
    created = int(time.time())
    assert run_pass(daemon, created)["aborted"] == 0
    out = run_pass(daemon, created + 2 * DAY)
    assert out["aborted"] == 1
    ups = s3.list_multipart_uploads(Bucket=bucket).get("Uploads", [])
    assert [u["UploadId"] for u in ups] == [other]
    # a fresh upload under the prefix is kept
    fresh = s3.create_multipart_upload(Bucket=bucket, Key="up/fresh")["UploadId"]
    assert run_pass(daemon, int(time.time()))["aborted"] == 0
    ups = s3.list_multipart_uploads(Bucket=bucket, Prefix="up/").get("Uploads", [])
    assert [u["UploadId"] for u in ups] == [fresh]
    assert client_error(s3.list_parts, Bucket=bucket, Key="up/stale", UploadId=stale) == (
        404, "NoSuchUpload")


def test_a_pass_is_bounded_and_the_next_goes_on(daemon, s3, bucket):
    """At most 1000 actions a pass: the rest waits for the next one."""
    from concurrent.futures import ThreadPoolExecutor
    with ThreadPoolExecutor(8) as ex:
        list(ex.map(lambda i: s3.put_object(Bucket=bucket, Key="b/%04d" % i, Body=b"x"),
                    range(1005)))
    put_lifecycle(s3, bucket, [{"ID": "b", "Filter": {"Prefix": "b/"}, "Status": "Enabled",
                                "Expiration": {"Days": 1}}])
    now = int(time.time()) + 2 * DAY
    out = run_pass(daemon, now)
    assert (out["expired"], out["truncated"]) == (1000, True)
    assert keys(s3, bucket) == ["b/%04d" % i for i in range(1000, 1005)]
    out = run_pass(daemon, now)
    assert (out["expired"], out["truncated"]) == (5, False)
    assert keys(s3, bucket) == []


def test_metrics_and_log(daemon, s3, bucket):
    passes = metric(daemon, "atrium_lifecycle_passes_total")
    expired = metric(daemon, "atrium_lifecycle_objects_expired_total")
    aborted = metric(daemon, "atrium_lifecycle_uploads_aborted_total")
    start = daemon.log_size()
    s3.put_object(Bucket=bucket, Key="m/1", Body=b"x")
    s3.create_multipart_upload(Bucket=bucket, Key="m/2")
    put_lifecycle(s3, bucket, [{"ID": "m", "Filter": {"Prefix": "m/"}, "Status": "Enabled",
                                "Expiration": {"Days": 1},
                                "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": 1}}])
    run_pass(daemon, int(time.time()) + 3 * DAY)
    assert metric(daemon, "atrium_lifecycle_passes_total") == passes + 1
    assert metric(daemon, "atrium_lifecycle_objects_expired_total") == expired + 1
    assert metric(daemon, "atrium_lifecycle_uploads_aborted_total") == aborted + 1
    log = daemon.wait_log("lifecycle: expired %s/m/1 (rule m)" % bucket, start=start)
    assert "lifecycle: aborted upload" in log


def test_timed_worker_with_short_days(atriumd_factory, bucket_name):
    """The worker's own passes, with a day of one second: no admin call."""
    d = atriumd_factory("sigv4", "lifecycle-timed", args=[
        "--lifecycle-interval-ms", "200", "--lifecycle-day-seconds", "1"])
    s3 = d.boto3("alice")
    s3.create_bucket(Bucket=bucket_name)
    s3.put_object(Bucket=bucket_name, Key="t/1", Body=b"x")
    s3.put_object(Bucket=bucket_name, Key="u/1", Body=b"x")
    put_lifecycle(s3, bucket_name, [{"ID": "t", "Filter": {"Prefix": "t/"},
                                     "Status": "Enabled", "Expiration": {"Days": 2}}])
    d.wait_log("lifecycle: expired %s/t/1 (rule t)" % bucket_name)
    assert keys(s3, bucket_name) == ["u/1"]
    # the configuration is kept across a restart; a deleted bucket takes it along
    d.restart()
    s3 = d.boto3("alice")
    assert s3.get_bucket_lifecycle_configuration(Bucket=bucket_name)["Rules"][0]["ID"] == "t"
    s3.delete_object(Bucket=bucket_name, Key="u/1")
    s3.delete_bucket(Bucket=bucket_name)
    s3.create_bucket(Bucket=bucket_name)
    assert client_error(s3.get_bucket_lifecycle_configuration, Bucket=bucket_name) == (
        404, "NoSuchLifecycleConfiguration")


# -- versions: NoncurrentVersionExpiration, ExpiredObjectDeleteMarker ---------

def versions(s3, bucket):
    """[(key, version id, is a marker)] newest first per key."""
    r = s3.list_object_versions(Bucket=bucket)
    out = [(v["Key"], v["VersionId"], False, v["LastModified"]) for v in r.get("Versions", [])]
    out += [(m["Key"], m["VersionId"], True, m["LastModified"])
            for m in r.get("DeleteMarkers", [])]
    return [(k, v, m) for k, v, m, _t in sorted(out, key=lambda x: (x[0], -x[3].timestamp()))]


def test_noncurrent_versions_and_lone_markers(daemon, s3, bucket):
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    ids = [s3.put_object(Bucket=bucket, Key="k", Body=b"%d" % i)["VersionId"] for i in range(4)]
    # "m": its only object deleted by id under a marker: a lone marker.
    mv = s3.put_object(Bucket=bucket, Key="m", Body=b"m")["VersionId"]
    marker = s3.delete_object(Bucket=bucket, Key="m")["VersionId"]
    s3.delete_object(Bucket=bucket, Key="m", VersionId=mv)
    put_lifecycle(s3, bucket, [
        {"ID": "nc", "Filter": {"Prefix": ""}, "Status": "Enabled",
         "NoncurrentVersionExpiration": {"NoncurrentDays": 1, "NewerNoncurrentVersions": 1},
         "Expiration": {"ExpiredObjectDeleteMarker": True}},
    ])
    now = int(time.time())
    out = run_pass(daemon, now)
    # Not due yet: only the lone marker goes.
    assert (out["expired"], out["errors"]) == (1, 0), out
    assert [v for k, v, _m in versions(s3, bucket)] == list(reversed(ids))
    out = run_pass(daemon, now + 3 * DAY)
    # The newest noncurrent one is kept; the two older go.
    assert (out["expired"], out["errors"], out["locked"]) == (2, 0, 0), out
    assert [v for _k, v, _m in versions(s3, bucket)] == [ids[3], ids[2]]
    assert marker not in [v for _k, v, _m in versions(s3, bucket)]
    assert s3.get_object(Bucket=bucket, Key="k", VersionId=ids[2])["Body"].read() == b"2"


def test_noncurrent_expiration_respects_object_lock(daemon, s3, bucket_name):
    b = bucket_name[:50] + "-lock"
    s3.create_bucket(Bucket=b, ObjectLockEnabledForBucket=True)
    try:
        v0 = s3.put_object(Bucket=b, Key="k", Body=b"0", ObjectLockLegalHoldStatus="ON")[
            "VersionId"]
        v1 = s3.put_object(Bucket=b, Key="k", Body=b"1")["VersionId"]
        v2 = s3.put_object(Bucket=b, Key="k", Body=b"2")["VersionId"]
        put_lifecycle(s3, b, [{"ID": "nc", "Filter": {"Prefix": ""}, "Status": "Enabled",
                               "NoncurrentVersionExpiration": {"NoncurrentDays": 1}}])
        # v1 goes; v0, under a legal hold, is skipped and counted.
        before = metric(daemon, "atrium_lifecycle_versions_locked_total")
        out = run_pass(daemon, int(time.time()) + 3 * DAY)
        assert (out["expired"], out["locked"], out["errors"]) == (1, 1, 0), out
        assert metric(daemon, "atrium_lifecycle_versions_locked_total") == before + 1
        assert [v for _k, v, _m in versions(s3, b)] == [v2, v0]
    finally:
        s3.delete_bucket_lifecycle(Bucket=b)


def test_expiration_spares_an_object_written_since(daemon, s3, bucket):
    """A key listed as due and written again before its delete is not
    expired: the delete is conditional on the inode listed (the core's
    atr_object_delete_if, unit-tested in test_core.c). Here, the pass that
    would have expired the old object meets the new one, whose age is its
    own."""
    s3.put_object(Bucket=bucket, Key="r", Body=b"old")
    put_lifecycle(s3, bucket, [{"ID": "e", "Filter": {"Prefix": ""}, "Status": "Enabled",
                                "Expiration": {"Days": 1}}])
    now = int(time.time())
    assert run_pass(daemon, now + 2 * DAY)["expired"] == 1
    s3.put_object(Bucket=bucket, Key="r", Body=b"new")
    out = run_pass(daemon, now + DAY // 2)
    assert (out["expired"], out["errors"]) == (0, 0), out
    assert s3.get_object(Bucket=bucket, Key="r")["Body"].read() == b"new"
