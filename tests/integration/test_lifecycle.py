"""Lifecycle (issue 17): Put/Get/DeleteBucketLifecycleConfiguration with
AWS's validation, the x-amz-expiration header, and the worker that expires
objects and aborts stale multipart uploads, driven with an injected time
(POST /api/v1/admin/lifecycle/run?now=...) so that no test waits. And the
bucket sub-resources answered with AWS's defaults (website, requestPayment,
accelerate, notification) rather than 501."""
import pytest

from s3util import client_error


@pytest.fixture(scope="module")
def daemon(atriumd_factory):
    return atriumd_factory("sigv4", "lifecycle")


@pytest.fixture
def s3(daemon):
    return daemon.boto3("alice")


@pytest.fixture
def bucket(s3, bucket_name):
    s3.create_bucket(Bucket=bucket_name)
    return bucket_name


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
