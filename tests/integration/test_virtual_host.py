"""Virtual-hosted style (--domain): Host bucket.DOMAIN names the bucket.

bucket.example.test does not resolve, so requests go to 127.0.0.1 with an
explicit Host header: curl -H in simple mode, and SigV4 (botocore's signer,
over the URL with the virtual host) or SigV2 (signed here) in sigv4 mode.
"""
import base64
import email.utils
import hashlib
import hmac
import http.client

import pytest

import s3util

DOMAIN = "example.test"


@pytest.fixture(scope="module")
def vsimple(atriumd_factory):
    return atriumd_factory("simple", "vhost-simple", ["--domain", DOMAIN])


@pytest.fixture(scope="module")
def vsigv4(atriumd_factory):
    return atriumd_factory("sigv4", "vhost-sigv4", ["--domain", DOMAIN])


def send(d, method, path, host, headers=None, body=b"", sign=None, v2=None):
    """One request to 127.0.0.1 with Host: host. sign: (ak, sk) for SigV4
    over http://host/path; v2: (ak, sk) for SigV2 with resource v2_resource."""
    headers = dict(headers or {})
    headers["Host"] = host
    if sign:
        headers = s3util.sign_v4(method, "http://%s%s" % (host, path), headers, body,
                                 sign[0], sign[1])
    conn = http.client.HTTPConnection("127.0.0.1", d.port, timeout=30)
    try:
        conn.putrequest(method, path, skip_host=True, skip_accept_encoding=True)
        for k, v in headers.items():
            conn.putheader(k, v)
        if body or method in ("PUT", "POST"):
            conn.putheader("Content-Length", str(len(body)))
        conn.endheaders()
        if body:
            conn.send(body)
        r = conn.getresponse()
        data = r.read()
        return s3util.Resp(r.status, r.reason, {k.lower(): v for k, v in r.getheaders()},
                           data)
    finally:
        conn.close()


def v2_headers(d, user, method, resource, ctype=""):
    ak, sk = d.keys(user)
    date = email.utils.formatdate(usegmt=True)
    sts = "%s\n\n%s\n%s\n%s" % (method, ctype, date, resource)
    sig = base64.b64encode(hmac.new(sk.encode(), sts.encode(), hashlib.sha1).digest()).decode()
    h = {"Date": date, "Authorization": "AWS %s:%s" % (ak, sig)}
    if ctype:
        h["Content-Type"] = ctype
    return h


def test_simple_mode_curl(vsimple, bucket_name):
    d = vsimple
    host = "%s.%s:%d" % (bucket_name, DOMAIN, d.port)

    def curl(*args):
        return s3util.curl(["-H", "Host: " + host] + list(args))

    # the bucket is made path style, then everything else goes by Host
    assert s3util.raw_request(d.port, "PUT", "/" + bucket_name).status == 200
    r = curl("-X", "PUT", "--data-binary", "virtual!", "-H", "Content-Type: text/x-v",
             d.url("/dir/key.txt"))
    assert r.status == 200, r
    r = s3util.raw_request(d.port, "GET", "/%s/dir/key.txt" % bucket_name)
    assert (r.status, r.body, r.header("content-type")) == (200, b"virtual!", "text/x-v")
    r = curl(d.url("/dir/key.txt"))
    assert (r.status, r.body) == (200, b"virtual!")
    r = curl("-I", d.url("/dir/key.txt"))
    assert r.status == 200 and r.headers["content-length"] == "8"
    r = curl(d.url("/"))
    assert r.status == 200, r
    assert s3util.list_keys_xml(r) == ["dir/key.txt"]
    r = curl(d.url("/?list-type=2&prefix=dir/"))
    assert s3util.list_keys_xml(r) == ["dir/key.txt"]
    r = curl("-X", "DELETE", d.url("/dir/key.txt"))
    assert r.status == 204, r
    assert s3util.raw_request(d.port, "GET", "/%s/dir/key.txt" % bucket_name).status == 404
    # Host: the domain itself, or another host: path style
    r = s3util.curl(["-H", "Host: %s:%d" % (DOMAIN, d.port), d.url("/" + bucket_name)])
    assert r.status == 200 and r.body.startswith(b"<?xml")
    r = s3util.curl(["-H", "Host: other.host", d.url("/" + bucket_name)])
    assert r.status == 200 and b"<ListBucketResult" in r.body
    # upper case in the host is the same bucket
    r = s3util.curl(["-H", "Host: " + host.upper(), d.url("/")])
    assert r.status == 200 and b"<ListBucketResult" in r.body
    # a label that is no bucket name
    r = s3util.curl(["-H", "Host: -bad_.%s" % DOMAIN, d.url("/")])
    assert (r.status, r.error_code()) == (400, "InvalidBucketName")
    # bucket creation and deletion virtual-hosted
    other = s3util.unique_bucket("vh")
    ohost = "Host: %s.%s" % (other, DOMAIN)
    assert s3util.curl(["-H", ohost, "-X", "PUT", d.url("/")]).status == 200
    assert s3util.raw_request(d.port, "HEAD", "/" + other).status == 200
    assert s3util.curl(["-H", ohost, "-X", "DELETE", d.url("/")]).status == 204
    assert s3util.raw_request(d.port, "HEAD", "/" + other).status == 404


def test_sigv4_signed(vsigv4, bucket_name):
    d = vsigv4
    alice = d.keys("alice")
    host = "%s.%s:%d" % (bucket_name, DOMAIN, d.port)
    r = send(d, "PUT", "/", host, sign=alice)
    assert r.status == 200, r
    r = send(d, "PUT", "/a%20b/c.txt", host, {"Content-Type": "text/plain"}, b"signed v4",
             sign=alice)
    assert r.status == 200, r
    r = send(d, "GET", "/a%20b/c.txt", host, sign=alice)
    assert (r.status, r.body) == (200, b"signed v4"), r
    r = send(d, "GET", "/?prefix=a", host, sign=alice)
    assert r.status == 200, r
    assert s3util.list_keys_xml(r) == ["a b/c.txt"]
    # path style sees the same object
    b3 = d.boto3()
    assert b3.get_object(Bucket=bucket_name, Key="a b/c.txt")["Body"].read() == b"signed v4"
    # a wrong secret, and a signature for the path-style URL sent virtual-hosted
    r = send(d, "GET", "/a%20b/c.txt", host, sign=(alice[0], "wrong"))
    assert (r.status, r.error_code()) == (403, "SignatureDoesNotMatch"), r
    # unsigned: refused as always in sigv4 mode
    r = send(d, "GET", "/a%20b/c.txt", host)
    assert (r.status, r.error_code()) == (403, "AccessDenied"), r
    # multipart upload, virtual-hosted
    r = send(d, "POST", "/mp?uploads", host, sign=alice)
    assert r.status == 200, r
    upload = s3util.xml_text(r, "UploadId")
    r = send(d, "PUT", "/mp?partNumber=1&uploadId=" + upload, host, body=b"part",
             sign=alice)
    assert r.status == 200, r
    etag = r.header("etag")
    xml = ("<CompleteMultipartUpload><Part><PartNumber>1</PartNumber><ETag>%s</ETag></Part>"
           "</CompleteMultipartUpload>" % etag).encode()
    r = send(d, "POST", "/mp?uploadId=" + upload, host, body=xml, sign=alice)
    assert r.status == 200 and b"CompleteMultipartUploadResult" in r.body, r
    assert b3.get_object(Bucket=bucket_name, Key="mp")["Body"].read() == b"part"
    r = send(d, "DELETE", "/a%20b/c.txt", host, sign=alice)
    assert r.status == 204, r
    r = send(d, "DELETE", "/mp", host, sign=alice)
    assert r.status == 204, r
    r = send(d, "DELETE", "/", host, sign=alice)
    assert r.status == 204, r


def test_sigv2_signed(vsigv4, bucket_name):
    d = vsigv4
    host = "%s.%s" % (bucket_name, DOMAIN)
    d.boto3().create_bucket(Bucket=bucket_name)
    r = send(d, "PUT", "/k2", host, v2_headers(d, "alice", "PUT", "/%s/k2" % bucket_name,
                                              "text/plain"), b"v2 body")
    assert r.status == 200, r
    r = send(d, "GET", "/k2", host, v2_headers(d, "alice", "GET", "/%s/k2" % bucket_name))
    assert (r.status, r.body) == (200, b"v2 body"), r
    r = send(d, "GET", "/", host, v2_headers(d, "alice", "GET", "/%s/" % bucket_name))
    assert r.status == 200 and s3util.list_keys_xml(r) == ["k2"], r
    # the V2 resource is /bucket/key: a signature over the bare path is not
    # one for this object (it would name bucket "k2")
    r = send(d, "GET", "/k2", host, v2_headers(d, "alice", "GET", "/k2"))
    assert (r.status, r.error_code()) == (403, "SignatureDoesNotMatch"), r
    r = send(d, "DELETE", "/k2", host,
             v2_headers(d, "alice", "DELETE", "/%s/k2" % bucket_name))
    assert r.status == 204, r


def test_without_domain_unchanged(sigv4_daemon, bucket_name):
    d = sigv4_daemon
    d.boto3().create_bucket(Bucket=bucket_name)
    # a Host that looks virtual-hosted is ignored without --domain: path style
    r = send(d, "GET", "/" + bucket_name, "%s.%s" % (bucket_name, DOMAIN),
             sign=d.keys("alice"))
    assert r.status == 200 and b"<ListBucketResult" in r.body, r


def test_post_object_virtual_hosted(vsimple, bucket_name):
    d = vsimple
    assert s3util.raw_request(d.port, "PUT", "/" + bucket_name).status == 200
    import test_post_object as tpo
    ct, body = tpo.multipart([("key", "form/${filename}"), ("success_action_status", "201")],
                             b"vh form", filename="v.txt")
    host = "%s.%s:%d" % (bucket_name, DOMAIN, d.port)
    r = send(d, "POST", "/", host, {"Content-Type": ct}, body)
    assert r.status == 201, r
    assert s3util.xml_text(r, "Location") == "http://%s/form/v.txt" % host
    r = s3util.raw_request(d.port, "GET", "/%s/form/v.txt" % bucket_name)
    assert (r.status, r.body) == (200, b"vh form")
