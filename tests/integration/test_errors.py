"""S3 error responses: status, <Code>, and that nothing is written."""
import base64
import hashlib
import os

import pytest
from botocore.exceptions import ClientError

import s3util
from s3util import files_under, md5hex


def client_error(fn, **kw):
    with pytest.raises(ClientError) as ei:
        fn(**kw)
    r = ei.value.response
    return r["ResponseMetadata"]["HTTPStatusCode"], r["Error"]["Code"]


@pytest.fixture
def bob(sigv4_daemon):
    return sigv4_daemon.boto3("bob")


@pytest.fixture
def bucket(alice, bucket_name):
    alice.create_bucket(Bucket=bucket_name)
    return bucket_name


def test_no_such_bucket(alice, bucket_name):
    assert client_error(alice.get_object, Bucket=bucket_name, Key="k") == (404, "NoSuchBucket")
    assert client_error(alice.put_object, Bucket=bucket_name, Key="k", Body=b"x") == (404, "NoSuchBucket")
    assert client_error(alice.list_objects_v2, Bucket=bucket_name) == (404, "NoSuchBucket")
    assert client_error(alice.list_objects, Bucket=bucket_name) == (404, "NoSuchBucket")
    assert client_error(alice.delete_bucket, Bucket=bucket_name) == (404, "NoSuchBucket")
    assert client_error(alice.head_bucket, Bucket=bucket_name)[0] == 404


def test_no_such_key(alice, sigv4_daemon, bucket):
    assert client_error(alice.get_object, Bucket=bucket, Key="missing") == (404, "NoSuchKey")
    assert client_error(alice.get_object, Bucket=bucket, Key="missing/deeper") == (404, "NoSuchKey")
    # HEAD has no body: status only
    assert client_error(alice.head_object, Bucket=bucket, Key="missing")[0] == 404
    r = sigv4_daemon.request("HEAD", "/%s/missing" % bucket, user="alice")
    assert r.status == 404 and r.body == b"", r
    # A directory implied by another key is not an object.
    alice.put_object(Bucket=bucket, Key="dir/file", Body=b"x")
    assert client_error(alice.get_object, Bucket=bucket, Key="dir") == (404, "NoSuchKey")
    assert client_error(alice.head_object, Bucket=bucket, Key="dir")[0] == 404


def test_delete_missing_key_is_204(alice, bucket):
    r = alice.delete_object(Bucket=bucket, Key="never-existed")
    assert r["ResponseMetadata"]["HTTPStatusCode"] == 204
    r = alice.delete_object(Bucket=bucket, Key="no/such/dir/key")
    assert r["ResponseMetadata"]["HTTPStatusCode"] == 204


def test_bucket_already_owned_and_exists(alice, bob, bucket):
    assert client_error(alice.create_bucket, Bucket=bucket) == (409, "BucketAlreadyOwnedByYou")
    assert client_error(bob.create_bucket, Bucket=bucket) == (409, "BucketAlreadyExists")


def test_bucket_not_empty(alice, sigv4_daemon, bucket):
    alice.put_object(Bucket=bucket, Key="a/b", Body=b"data")
    assert client_error(alice.delete_bucket, Bucket=bucket) == (409, "BucketNotEmpty")
    assert alice.get_object(Bucket=bucket, Key="a/b")["Body"].read() == b"data"
    alice.delete_object(Bucket=bucket, Key="a/b")
    r = alice.delete_bucket(Bucket=bucket)
    assert r["ResponseMetadata"]["HTTPStatusCode"] == 204
    assert not os.path.exists(os.path.join(sigv4_daemon.ufs, bucket))


@pytest.mark.parametrize("name", ["Bad_Name", "ab", "api", "-leading", "trailing-",
                                  "UPPER", "a..b", "192.168.1.1", "x" * 64])
def test_invalid_bucket_name(alice, sigv4_daemon, name):
    before = set(os.listdir(sigv4_daemon.ufs))
    # Raw request: the SDK may reject or rewrite some names itself.
    r = sigv4_daemon.request("PUT", "/" + name, user="alice")
    assert (r.status, r.error_code()) == (400, "InvalidBucketName"), r
    assert set(os.listdir(sigv4_daemon.ufs)) == before


def test_invalid_bucket_name_boto3(alice):
    for name in ["Bad_Name", "ab", "api"]:
        assert client_error(alice.create_bucket, Bucket=name) == (400, "InvalidBucketName"), name


def test_key_too_long(alice, sigv4_daemon, bucket):
    # 1024 bytes is the S3 limit (segments kept short enough for a file system)
    ok_key = "/".join(["s" * 127] * 8)  # 8*127 + 7 = 1023
    ok_key += "z"
    assert len(ok_key.encode()) == 1024
    alice.put_object(Bucket=bucket, Key=ok_key, Body=b"ok")
    assert alice.get_object(Bucket=bucket, Key=ok_key)["Body"].read() == b"ok"
    long_key = ok_key + "y"
    assert client_error(alice.put_object, Bucket=bucket, Key=long_key, Body=b"x") == \
        (400, "KeyTooLongError")
    assert not os.path.exists(os.path.join(sigv4_daemon.ufs, bucket, long_key))


def test_parent_is_object(alice, sigv4_daemon, bucket):
    """An object is no obstacle to a key below it (the side form,
    test_keys.py); a file the daemon has not met, put in the tree behind
    its back, still is: ParentIsObject, and nothing changes."""
    with open(os.path.join(sigv4_daemon.ufs, bucket, "x"), "wb") as f:
        f.write(b"I am x")
    assert client_error(alice.put_object, Bucket=bucket, Key="x/y", Body=b"y") == \
        (409, "ParentIsObject")
    assert client_error(alice.put_object, Bucket=bucket, Key="x/y/z", Body=b"z") == \
        (409, "ParentIsObject")
    assert alice.get_object(Bucket=bucket, Key="x")["Body"].read() == b"I am x"
    assert client_error(alice.get_object, Bucket=bucket, Key="x/y") == (404, "NoSuchKey")
    keys = [o["Key"] for o in alice.list_objects_v2(Bucket=bucket)["Contents"]]
    assert keys == ["x"]
    assert os.path.isfile(os.path.join(sigv4_daemon.ufs, bucket, "x"))


def test_object_is_prefix(alice, sigv4_daemon, bucket):
    """A directory is no obstacle to an object of its name (the side form);
    a marker "d/" where a file the daemon has not met is in the way is
    ObjectIsPrefix."""
    alice.put_object(Bucket=bucket, Key="d/e", Body=b"e")
    alice.put_object(Bucket=bucket, Key="d", Body=b"d")
    assert alice.get_object(Bucket=bucket, Key="d")["Body"].read() == b"d"
    assert alice.get_object(Bucket=bucket, Key="d/e")["Body"].read() == b"e"
    keys = [o["Key"] for o in alice.list_objects_v2(Bucket=bucket)["Contents"]]
    assert keys == ["d", "d/e"]
    assert os.path.isdir(os.path.join(sigv4_daemon.ufs, bucket, "d"))
    with open(os.path.join(sigv4_daemon.ufs, bucket, "f"), "wb") as f:
        f.write(b"behind the daemon's back")
    assert client_error(alice.put_object, Bucket=bucket, Key="f/", Body=b"") == \
        (409, "ObjectIsPrefix")


BAD_KEY_PATHS = ["a/../b", "a/./b", "./a", "../a", "a/..", "a/.", "a//b", "/a",
                 "a/%2E%2E/b", "%2E/a", "a/%2e"]


@pytest.mark.parametrize("key", BAD_KEY_PATHS)
def test_invalid_object_name_sigv4(sigv4_daemon, alice, bucket, key):
    before = files_under(sigv4_daemon.ufs)
    r = sigv4_daemon.request("PUT", "/%s/%s" % (bucket, key), body=b"evil", user="alice")
    assert (r.status, r.error_code()) == (400, "InvalidObjectName"), r
    assert files_under(sigv4_daemon.ufs) == before
    assert alice.list_objects_v2(Bucket=bucket)["KeyCount"] == 0


@pytest.mark.parametrize("key", BAD_KEY_PATHS)
def test_invalid_object_name_simple(simple_daemon, bucket_name, key):
    d = simple_daemon
    r = d.request("PUT", "/api/v1/s3/" + bucket_name)
    assert r.status == 200, r
    before = files_under(d.ufs)
    r = d.request("PUT", "/api/v1/s3/%s/%s" % (bucket_name, key), body=b"evil")
    assert (r.status, r.error_code()) == (400, "InvalidObjectName"), r
    assert files_under(d.ufs) == before
    r = d.request("GET", "/api/v1/s3/%s/%s" % (bucket_name, key))
    assert r.status in (400, 404), r


def test_bad_digest(alice, sigv4_daemon, bucket):
    wrong = base64.b64encode(hashlib.md5(b"something else").digest()).decode()
    assert client_error(alice.put_object, Bucket=bucket, Key="bd", Body=b"payload",
                        ContentMD5=wrong) == (400, "BadDigest")
    assert client_error(alice.head_object, Bucket=bucket, Key="bd")[0] == 404
    assert not os.path.exists(os.path.join(sigv4_daemon.ufs, bucket, "bd"))
    assert files_under(os.path.join(sigv4_daemon.ufs, bucket)) == []
    # and the right digest works
    right = base64.b64encode(hashlib.md5(b"payload").digest()).decode()
    r = alice.put_object(Bucket=bucket, Key="bd", Body=b"payload", ContentMD5=right)
    assert r["ETag"].strip('"') == md5hex(b"payload")


@pytest.mark.parametrize("digest", ["not-base64!!", base64.b64encode(b"short").decode()])
def test_invalid_digest(alice, sigv4_daemon, bucket, digest):
    assert client_error(alice.put_object, Bucket=bucket, Key="idg", Body=b"payload",
                        ContentMD5=digest) == (400, "InvalidDigest")
    assert not os.path.exists(os.path.join(sigv4_daemon.ufs, bucket, "idg"))


@pytest.mark.parametrize("query", ["max-keys=-1", "max-keys=abc", "encoding-type=bogus",
                                   "list-type=2&max-keys=-1", "list-type=2&max-keys=abc",
                                   "list-type=2&encoding-type=bogus"])
def test_invalid_list_arguments(sigv4_daemon, bucket, query):
    r = sigv4_daemon.request("GET", "/%s?%s" % (bucket, query), user="alice")
    assert (r.status, r.error_code()) == (400, "InvalidArgument"), r


def test_method_not_allowed(sigv4_daemon, alice, bucket):
    alice.put_object(Bucket=bucket, Key="obj", Body=b"x")
    r = sigv4_daemon.request("POST", "/%s/obj" % bucket, body=b"", user="alice")
    assert (r.status, r.error_code()) == (405, "MethodNotAllowed"), r
    r = sigv4_daemon.request("PATCH", "/%s/obj" % bucket, body=b"zz", user="alice")
    assert (r.status, r.error_code()) == (405, "MethodNotAllowed"), r
    assert alice.get_object(Bucket=bucket, Key="obj")["Body"].read() == b"x"


def test_wrong_secret(sigv4_daemon, bucket):
    s3 = sigv4_daemon.boto3("alice", secret="not-the-secret")
    assert client_error(s3.list_objects_v2, Bucket=bucket) == (403, "SignatureDoesNotMatch")
    assert client_error(s3.put_object, Bucket=bucket, Key="w", Body=b"x") == \
        (403, "SignatureDoesNotMatch")
    assert not os.path.exists(os.path.join(sigv4_daemon.ufs, bucket, "w"))


def test_unknown_access_key(sigv4_daemon, bucket):
    s3 = sigv4_daemon.boto3("alice", access_key="AKIDNOBODY")
    assert client_error(s3.list_buckets) == (403, "InvalidAccessKeyId")
    assert client_error(s3.put_object, Bucket=bucket, Key="u", Body=b"x") == \
        (403, "InvalidAccessKeyId")


def test_unsigned_request_in_sigv4_mode(sigv4_daemon, bucket):
    # anonymous: allowed only what grants to everyone allow, here nothing
    for method, path in [("GET", "/"), ("GET", "/" + bucket), ("PUT", "/%s/u" % bucket),
                         ("GET", "/api/v1/s3/" + bucket), ("PUT", "/unsigned-bucket-x")]:
        r = sigv4_daemon.request(method, path, body=b"x" if method == "PUT" else b"")
        assert (r.status, r.error_code()) == (403, "AccessDenied"), (method, path, r)
    # Alluxio-style trusted header is no credential in sigv4 mode
    r = sigv4_daemon.request("GET", "/" + bucket, headers={"Authorization": "AWS alice:"})
    assert r.status == 403, r
    assert not os.path.exists(os.path.join(sigv4_daemon.ufs, bucket, "u"))
    assert not os.path.exists(os.path.join(sigv4_daemon.ufs, "unsigned-bucket-x"))


def test_payload_hash_mismatch(sigv4_daemon, bucket):
    from s3util import sign_v4
    import http.client
    url = "http://127.0.0.1:%d/%s/tampered" % (sigv4_daemon.port, bucket)
    ak, sk = sigv4_daemon.keys("alice")
    headers = sign_v4("PUT", url, {}, b"original", ak, sk)
    conn = http.client.HTTPConnection("127.0.0.1", sigv4_daemon.port, timeout=30)
    conn.request("PUT", "/%s/tampered" % bucket, body=b"tampered", headers=headers)
    r = conn.getresponse()
    body = r.read()
    conn.close()
    assert r.status in (400, 403), (r.status, body)
    assert b"XAmzContentSHA256Mismatch" in body or b"SignatureDoesNotMatch" in body, body
    assert not os.path.exists(os.path.join(sigv4_daemon.ufs, bucket, "tampered"))


def test_sigv4_header_needs_content_sha256(sigv4_daemon, bucket):
    """A header-signed SigV4 request without x-amz-content-sha256 covers no
    body: an empty-body PUT captured on the wire could be replayed with any
    body. S3 refuses it (400 InvalidRequest); so do we, the replay included."""
    from botocore.auth import SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials
    import http.client
    ak, sk = sigv4_daemon.keys("alice")
    path = "/%s/replayed" % bucket
    req = AWSRequest(method="PUT", url="http://127.0.0.1:%d%s" % (sigv4_daemon.port, path),
                     data=b"")
    # SigV4Auth (not S3SigV4Auth): signs the empty payload's hash, sends no header
    SigV4Auth(Credentials(ak, sk), "s3", "us-east-1").add_auth(req)
    headers = dict(req.headers.items())
    assert not any(k.lower() == "x-amz-content-sha256" for k in headers)
    for body in (b"", b"a body the signer never saw"):
        conn = http.client.HTTPConnection("127.0.0.1", sigv4_daemon.port, timeout=30)
        conn.request("PUT", path, body=body, headers=headers)
        r = conn.getresponse()
        data = r.read()
        conn.close()
        assert r.status == 400, (r.status, data)
        assert b"<Code>InvalidRequest</Code>" in data, data
        assert (b"<Message>Missing required header for this request: "
                b"x-amz-content-sha256</Message>") in data, data
        assert not os.path.exists(os.path.join(sigv4_daemon.ufs, bucket, "replayed"))
    # presigned URLs are UNSIGNED-PAYLOAD and need no header
    url = sigv4_daemon.boto3("alice").generate_presigned_url(
        "put_object", Params={"Bucket": bucket, "Key": "presigned"}, ExpiresIn=60)
    conn = http.client.HTTPConnection("127.0.0.1", sigv4_daemon.port, timeout=30)
    conn.request("PUT", url[url.index("/", 8):], body=b"presigned body")
    r = conn.getresponse()
    assert r.status == 200, (r.status, r.read())
    r.read()
    conn.close()
    with open(os.path.join(sigv4_daemon.ufs, bucket, "presigned"), "rb") as f:
        assert f.read() == b"presigned body"


# -- server-side encryption and Object Lock: never ignored -------------------
# SSE itself is tests/integration/test_sse.py; here: what is refused, and
# that a refused write leaves nothing behind.

SSE_C = {"x-amz-server-side-encryption-customer-algorithm": "AES256",
         "x-amz-server-side-encryption-customer-key":
             base64.b64encode(b"k" * 32).decode(),
         "x-amz-server-side-encryption-customer-key-MD5":
             base64.b64encode(hashlib.md5(b"k" * 32).digest()).decode()}
SSE_C_COPY = {k.replace("x-amz-", "x-amz-copy-source-"): v for k, v in SSE_C.items()}
NOT_IMPLEMENTED = (501, "NotImplemented")
LOCK_MISSING = (400, "InvalidRequest")
KMS = (400, "KMS.NotFoundException")
INVALID_ARGUMENT = (400, "InvalidArgument")
# (headers, answer to PutObject and CopyObject, answer to CreateMultipartUpload
# and UploadPart): None where the write is done (encrypted: test_sse.py).
# An upload is encrypted by CreateMultipartUpload's headers (test_sse.py);
# UploadPart of an upload without them takes none (SSE-C's key only for an
# SSE-C upload: 400 InvalidArgument here).
REFUSED_WRITES = [
    ({"x-amz-server-side-encryption": "AES256"}, None, NOT_IMPLEMENTED),
    ({"x-amz-server-side-encryption": "aws:kms"}, KMS, KMS),
    ({"x-amz-server-side-encryption": "aws:kms:dsse"}, KMS, KMS),
    ({"x-amz-server-side-encryption": "whatever"}, INVALID_ARGUMENT, INVALID_ARGUMENT),
    ({"x-amz-server-side-encryption-aws-kms-key-id": "arn:aws:kms:k"}, INVALID_ARGUMENT,
     INVALID_ARGUMENT),
    ({"x-amz-server-side-encryption-context": "e30="}, INVALID_ARGUMENT, INVALID_ARGUMENT),
    (SSE_C, None, INVALID_ARGUMENT),
    ({"X-Amz-Server-Side-Encryption-Customer-Algorithm": "AES256"}, INVALID_ARGUMENT,
     INVALID_ARGUMENT),
    ({"x-amz-object-lock-mode": "COMPLIANCE",
      "x-amz-object-lock-retain-until-date": "2099-01-01T00:00:00Z"}, LOCK_MISSING,
     LOCK_MISSING),
    ({"x-amz-object-lock-retain-until-date": "2099-01-01T00:00:00Z"}, LOCK_MISSING,
     LOCK_MISSING),
    ({"x-amz-object-lock-legal-hold": "ON"}, LOCK_MISSING, LOCK_MISSING),
]


def _code(r):
    return (r.status, r.error_code())


@pytest.mark.parametrize("headers,want,want_mpu", REFUSED_WRITES,
                         ids=[",".join(h)[:60] for h, _, _ in REFUSED_WRITES])
def test_sse_and_object_lock_writes_refused(sigv4_daemon, alice, bucket, headers, want,
                                            want_mpu):
    """Data a client asked to be encrypted or locked is never stored in the
    clear and deletable: PutObject, CopyObject, CreateMultipartUpload and
    UploadPart carrying SSE or Object Lock headers they cannot honour are
    refused, nothing is written.
    Object Lock gets AWS's answer for a bucket without it, SSE-KMS AWS's
    answer for an unknown key."""
    d = sigv4_daemon
    alice.put_object(Bucket=bucket, Key="src", Body=b"source")
    r = d.request("PUT", "/%s/put" % bucket, headers=headers, body=b"secret", user="alice")
    assert (r.status == 200) if want is None else (_code(r) == want), r
    r = d.request("PUT", "/%s/copy" % bucket,
                  headers=dict(headers, **{"x-amz-copy-source": "/%s/src" % bucket}),
                  user="alice")
    assert (r.status == 200) if want is None else (_code(r) == want), r
    r = d.request("POST", "/%s/mpu?uploads" % bucket, headers=headers, user="alice")
    if headers.get("x-amz-server-side-encryption") == "AES256" or headers is SSE_C:
        assert r.status == 200, r  # an encrypted upload
        up = s3util.xml_text(r, "UploadId")
        alice.abort_multipart_upload(Bucket=bucket, Key="mpu", UploadId=up)
    else:
        assert _code(r) == want_mpu, r
    up = alice.create_multipart_upload(Bucket=bucket, Key="mpu")["UploadId"]
    r = d.request("PUT", "/%s/mpu?partNumber=1&uploadId=%s" % (bucket, up), headers=headers,
                  body=b"part", user="alice")
    assert _code(r) == want_mpu, r
    assert alice.list_parts(Bucket=bucket, Key="mpu", UploadId=up).get("Parts", []) == []
    alice.abort_multipart_upload(Bucket=bucket, Key="mpu", UploadId=up)
    assert alice.list_multipart_uploads(Bucket=bucket).get("Uploads", []) == []
    written = ["src"] if want else ["copy", "put", "src"]
    assert files_under(os.path.join(d.ufs, bucket)) == written
    assert [o["Key"] for o in alice.list_objects_v2(Bucket=bucket)["Contents"]] == written
    for k in written[:-1]:  # encrypted: the bytes on disk are not the plaintext
        with open(os.path.join(d.ufs, bucket, k), "rb") as f:
            data = f.read()
        assert b"secret" not in data and b"source" not in data


def test_sse_c_reads_and_copy_source_of_a_plain_object(sigv4_daemon, alice, bucket):
    """A customer key for an object stored without one: AWS's 400."""
    d = sigv4_daemon
    alice.put_object(Bucket=bucket, Key="k", Body=b"plain")
    assert _code(d.request("GET", "/%s/k" % bucket, headers=SSE_C, user="alice")) \
        == (400, "InvalidRequest")
    r = d.request("HEAD", "/%s/k" % bucket, headers=SSE_C, user="alice")
    assert r.status == 400 and r.body == b"", r
    r = d.request("PUT", "/%s/k2" % bucket,
                  headers=dict(SSE_C_COPY, **{"x-amz-copy-source": "/%s/k" % bucket}),
                  user="alice")
    assert _code(r) == (400, "InvalidRequest"), r
    assert files_under(os.path.join(d.ufs, bucket)) == ["k"]
    from botocore.exceptions import ClientError
    with pytest.raises(ClientError) as ei:
        alice.put_object(Bucket=bucket, Key="b3", Body=b"x", ObjectLockLegalHoldStatus="ON")
    assert ei.value.response["Error"]["Code"] == "InvalidRequest"
    assert ei.value.response["Error"]["Message"] == "Bucket is missing ObjectLockConfiguration"
    assert files_under(os.path.join(d.ufs, bucket)) == ["k"]


def test_presigned_sse_and_lock_refused(sigv4_daemon, bucket):
    """S3 reads x-amz-* parameters of a presigned URL's query as headers (a
    presigner may put them there): what is refused as a header is refused
    there too, never stored in the clear. SSE-S3's is honoured
    (test_sse.py::test_presigned_sse_s3); SSE-C's key never goes in a URL."""
    import http.client
    from botocore.auth import S3SigV4QueryAuth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials
    ak, sk = sigv4_daemon.keys("alice")
    for query, want in [("x-amz-server-side-encryption=aws%3Akms", KMS),
                        ("x-amz-server-side-encryption-customer-algorithm=AES256",
                         INVALID_ARGUMENT),
                        ("x-amz-object-lock-legal-hold=ON", LOCK_MISSING)]:
        req = AWSRequest(method="PUT", url="http://127.0.0.1:%d/%s/pre?%s"
                         % (sigv4_daemon.port, bucket, query))
        S3SigV4QueryAuth(Credentials(ak, sk), "s3", "us-east-1", expires=60).add_auth(req)
        url = req.url
        assert query in url and "X-Amz-Signature=" in url, url
        conn = http.client.HTTPConnection("127.0.0.1", sigv4_daemon.port, timeout=30)
        conn.request("PUT", url[url.index("/", 8):], body=b"secret")
        r = conn.getresponse()
        body = r.read()
        conn.close()
        assert r.status == want[0] and b"<Code>%s</Code>" % want[1].encode() in body, \
            (query, r.status, body)
    assert not os.path.exists(os.path.join(sigv4_daemon.ufs, bucket, "pre"))


def test_create_bucket_with_object_lock(sigv4_daemon, alice, bucket_name):
    """x-amz-bucket-object-lock-enabled: true, however spelt, makes a bucket
    with Object Lock (test_object_lock.py); false, one without."""
    d = sigv4_daemon
    for i, v in enumerate(("true", "TRUE", " true ")):
        name = "%s-%d" % (bucket_name[:55], i)
        r = d.request("PUT", "/" + name, headers={"x-amz-bucket-object-lock-enabled": v},
                      user="alice")
        assert r.status == 200, r
        conf = alice.get_object_lock_configuration(Bucket=name)["ObjectLockConfiguration"]
        assert conf["ObjectLockEnabled"] == "Enabled"
    r = d.request("PUT", "/" + bucket_name, headers={"x-amz-bucket-object-lock-enabled": "false"},
                  user="alice")
    assert r.status == 200, r
    assert _code(d.request("GET", "/%s?object-lock" % bucket_name, user="alice")) == \
        (404, "ObjectLockConfigurationNotFoundError")


def test_post_form_sse_and_lock_fields_refused(simple_daemon, bucket_name):
    import uuid
    d = simple_daemon
    assert d.request("PUT", "/" + bucket_name).status == 200
    # (SSE-C's fields are honoured, checked as their headers: a key
    # without its algorithm is AWS's 400; test_sse.py::test_post_form_sse)
    for field, want in [("X-Amz-Server-Side-Encryption-Customer-Key", INVALID_ARGUMENT),
                        ("x-amz-server-side-encryption-aws-kms-key-id", NOT_IMPLEMENTED),
                        ("x-amz-object-lock-legal-hold", LOCK_MISSING)]:
        boundary = uuid.uuid4().hex
        body = ("--%s\r\nContent-Disposition: form-data; name=\"key\"\r\n\r\nposted\r\n"
                "--%s\r\nContent-Disposition: form-data; name=\"%s\"\r\n\r\nAES256\r\n"
                "--%s\r\nContent-Disposition: form-data; name=\"file\"; filename=\"f\"\r\n"
                "Content-Type: text/plain\r\n\r\nsecret data\r\n--%s--\r\n"
                % (boundary, boundary, field, boundary, boundary)).encode()
        r = d.request("POST", "/" + bucket_name, body=body,
                      headers={"Content-Type": "multipart/form-data; boundary=" + boundary})
        assert _code(r) == want, (field, r)
    assert not os.path.exists(os.path.join(d.ufs, bucket_name, "posted"))
