"""CORS (issue 16): Put/Get/DeleteBucketCors, preflight OPTIONS answered from
the bucket's rules without authentication, the CORS headers of actual
requests (errors included), with boto3 and curl; and a real browser
(headless Chromium driven by Selenium) running fetch() from a page served
on another origin against a presigned URL and a public-read object, where
the rules decide whether the browser lets the page read the answer."""
import hashlib
import base64
import http.server
import threading

import pytest

from browser_util import chromium

from s3util import client_error, curl


@pytest.fixture(scope="module")
def daemon(atriumd_factory):
    return atriumd_factory("sigv4", "cors")


@pytest.fixture
def s3(daemon):
    return daemon.boto3("alice")


@pytest.fixture
def bucket(s3, bucket_name):
    s3.create_bucket(Bucket=bucket_name)
    return bucket_name


RULES = [
    {"ID": "web", "AllowedOrigins": ["http://app.example", "https://*.example.org"],
     "AllowedMethods": ["GET", "PUT", "HEAD"], "AllowedHeaders": ["content-type", "x-amz-*"],
     "ExposeHeaders": ["ETag", "x-amz-request-id"], "MaxAgeSeconds": 600},
    {"AllowedOrigins": ["*"], "AllowedMethods": ["GET"]},
]


def preflight(daemon, path, origin, method, headers=None):
    h = {"Origin": origin, "Access-Control-Request-Method": method}
    if headers:
        h["Access-Control-Request-Headers"] = headers
    return daemon.request("OPTIONS", path, h)


def test_put_get_delete_bucket_cors(s3, bucket, daemon):
    assert client_error(s3.get_bucket_cors, Bucket=bucket) == (404, "NoSuchCORSConfiguration")
    r = s3.put_bucket_cors(Bucket=bucket, CORSConfiguration={"CORSRules": RULES})
    assert r["ResponseMetadata"]["HTTPStatusCode"] == 200
    got = s3.get_bucket_cors(Bucket=bucket)["CORSRules"]
    assert got[0]["ID"] == "web"
    assert got[0]["AllowedOrigins"] == RULES[0]["AllowedOrigins"]
    assert sorted(got[0]["AllowedMethods"]) == ["GET", "HEAD", "PUT"]
    assert got[0]["AllowedHeaders"] == ["content-type", "x-amz-*"]
    assert got[0]["ExposeHeaders"] == ["ETag", "x-amz-request-id"]
    assert got[0]["MaxAgeSeconds"] == 600
    assert got[1] == {"AllowedOrigins": ["*"], "AllowedMethods": ["GET"]}
    # the owner's only
    bob = daemon.boto3("bob")
    assert client_error(bob.get_bucket_cors, Bucket=bucket)[0] == 403
    assert client_error(bob.put_bucket_cors, Bucket=bucket,
                        CORSConfiguration={"CORSRules": RULES})[0] == 403
    r = s3.delete_bucket_cors(Bucket=bucket)
    assert r["ResponseMetadata"]["HTTPStatusCode"] == 204
    assert client_error(s3.get_bucket_cors, Bucket=bucket) == (404, "NoSuchCORSConfiguration")


def put_raw(daemon, bucket, body):
    md5 = base64.b64encode(hashlib.md5(body.encode()).digest()).decode()
    return daemon.request("PUT", "/%s?cors" % bucket, {"Content-MD5": md5}, body=body,
                          user="alice")


def rule(inner):
    return "<CORSConfiguration><CORSRule>%s</CORSRule></CORSConfiguration>" % inner


def test_cors_configuration_errors(s3, bucket, daemon):
    ok = "<AllowedMethod>GET</AllowedMethod><AllowedOrigin>*</AllowedOrigin>"
    assert put_raw(daemon, bucket, rule(ok)).status == 200
    bad = [
        ("<CORSConfiguration></CORSConfiguration>", "MalformedXML"),
        ("not xml", "MalformedXML"),
        (rule("<AllowedOrigin>*</AllowedOrigin>"), "MalformedXML"),
        (rule("<AllowedMethod>GET</AllowedMethod>"), "MalformedXML"),
        (rule("<AllowedMethod>PATCH</AllowedMethod><AllowedOrigin>*</AllowedOrigin>"),
         "InvalidRequest"),
        (rule("<AllowedMethod>GET</AllowedMethod><AllowedOrigin>http://*.*.x</AllowedOrigin>"),
         "InvalidRequest"),
        (rule(ok + "<AllowedHeader>x-*-*</AllowedHeader>"), "InvalidRequest"),
        (rule(ok + "<MaxAgeSeconds>soon</MaxAgeSeconds>"), "MalformedXML"),
        (rule(ok + "<ID>%s</ID>" % ("i" * 256)), "InvalidRequest"),
        ("<CORSConfiguration>%s</CORSConfiguration>" % (("<CORSRule>%s</CORSRule>" % ok) * 101),
         "InvalidRequest"),
    ]
    for body, code in bad:
        r = put_raw(daemon, bucket, body)
        assert (r.status, r.error_code()) == (400, code), (body[:80], r)
    # 100 rules are fine; Content-MD5 is required, and checked
    body = "<CORSConfiguration>%s</CORSConfiguration>" % ("<CORSRule>%s</CORSRule>" % ok * 100)
    assert put_raw(daemon, bucket, body).status == 200
    r = daemon.request("PUT", "/%s?cors" % bucket, body=rule(ok), user="alice")
    assert (r.status, r.error_code()) == (400, "InvalidRequest"), r
    r = daemon.request("PUT", "/%s?cors" % bucket, {"Content-MD5": "1B2M2Y8AsgTpgAmY7PhCfg=="},
                       body=rule(ok), user="alice")
    assert (r.status, r.error_code()) == (400, "BadDigest"), r


def test_preflight(s3, bucket, daemon):
    path = "/%s/some/key" % bucket
    r = preflight(daemon, path, "http://app.example", "PUT")
    assert (r.status, r.error_code()) == (403, "AccessForbidden"), r  # no configuration
    assert b"CORS is not enabled" in r.body
    s3.put_bucket_cors(Bucket=bucket, CORSConfiguration={"CORSRules": RULES})
    r = preflight(daemon, path, "http://app.example", "PUT", "Content-Type, X-Amz-Date")
    assert r.status == 200, r
    assert r.header("access-control-allow-origin") == "http://app.example"
    assert r.header("access-control-allow-methods") == "GET, PUT, HEAD"
    assert r.header("access-control-allow-headers") == "Content-Type, X-Amz-Date"
    assert r.header("access-control-max-age") == "600"
    assert r.header("access-control-expose-headers") == "ETag, x-amz-request-id"
    assert "Origin" in r.header("vary")
    # a wildcard origin
    r = preflight(daemon, "/%s" % bucket, "https://a.b.example.org", "HEAD")
    assert r.status == 200 and r.header("access-control-allow-origin") == \
        "https://a.b.example.org", r
    # anyone may GET (the "*" rule), nothing else
    r = preflight(daemon, path, "http://elsewhere", "GET")
    assert r.status == 200 and r.header("access-control-allow-origin") == "*", r
    for origin, method, hdrs in (("http://elsewhere", "PUT", None),
                                 ("http://app.example", "DELETE", None),
                                 ("http://app.example", "PUT", "authorization"),
                                 ("http://APP.example", "PUT", None)):
        r = preflight(daemon, path, origin, method, hdrs)
        assert (r.status, r.error_code()) == (403, "AccessForbidden"), (origin, method, r)
        assert b"This CORS request is not allowed" in r.body
    r = daemon.request("OPTIONS", path, {"Access-Control-Request-Method": "GET"})
    assert (r.status, r.error_code()) == (400, "BadRequest"), r
    r = daemon.request("OPTIONS", path, {"Origin": "http://app.example",
                                         "Access-Control-Request-Method": "PATCH"})
    assert (r.status, r.error_code()) == (400, "BadRequest"), r
    r = preflight(daemon, "/no-such-bucket-cors/k", "http://app.example", "GET")
    assert (r.status, r.error_code()) == (404, "NoSuchBucket"), r


def test_actual_requests_carry_cors_headers(s3, bucket, daemon):
    s3.put_bucket_cors(Bucket=bucket, CORSConfiguration={"CORSRules": RULES})
    s3.put_object(Bucket=bucket, Key="k", Body=b"data")
    url = s3.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": "k"})
    r = curl(["-H", "Origin: http://app.example", url])
    assert r.status == 200 and r.body == b"data"
    assert r.header("access-control-allow-origin") == "http://app.example"
    assert r.header("access-control-expose-headers") == "ETag, x-amz-request-id"
    # errors too: a missing key, an unsigned request
    r = curl(["-H", "Origin: http://app.example",
              s3.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": "no"})])
    assert r.status == 404 and r.header("access-control-allow-origin") == "http://app.example"
    r = daemon.request("GET", "/%s/k" % bucket, {"Origin": "http://x.test"})
    assert r.status == 403 and r.header("access-control-allow-origin") == "*", r
    # an origin no rule allows for that method gets no CORS headers
    r = daemon.request("PUT", "/%s/k2" % bucket, {"Origin": "http://x.test"}, body=b"z",
                       user="alice")
    assert r.status == 200 and r.header("access-control-allow-origin") is None, r
    assert "Origin" in r.header("vary")


# -- a real browser ----------------------------------------------------------------

PAGE = b"""<!doctype html><html><head><title>cors</title></head><body>
<script>
async function probe(url, opts) {
  try {
    const r = await fetch(url, opts || {});
    const body = await r.text();
    return "ok " + r.status + " " + body;
  } catch (e) {
    return "blocked " + e;
  }
}
</script></body></html>"""


class _Page(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(PAGE)))
        self.end_headers()
        self.wfile.write(PAGE)

    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def page_server():
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Page)
    t = threading.Thread(target=srv.serve_forever, daemon=True)
    t.start()
    yield "http://127.0.0.1:%d" % srv.server_address[1]
    srv.shutdown()
    srv.server_close()
    t.join(timeout=10)


@pytest.fixture(scope="module")
def browser():
    with chromium() as drv:
        yield drv


def fetch(browser, url, opts=None):
    # no-store: every fetch asks the daemon (a cached answer would carry
    # the CORS headers of an earlier configuration)
    opts = dict(opts or {}, cache="no-store")
    return browser.execute_async_script(
        "const done = arguments[arguments.length - 1];"
        "probe(arguments[0], arguments[1]).then(done);", url, opts)


def test_browser_fetch(s3, bucket, daemon, page_server, browser):
    # The page is served from another origin than the daemon's (another port).
    browser.get(page_server + "/")
    origin = page_server
    s3.put_object(Bucket=bucket, Key="private", Body=b"secret bytes")
    s3.put_bucket_acl(Bucket=bucket, ACL="public-read")  # anyone may reach its objects
    s3.put_object(Bucket=bucket, Key="public", Body=b"public bytes", ACL="public-read")
    get_url = s3.generate_presigned_url("get_object",
                                        Params={"Bucket": bucket, "Key": "private"})
    put_url = s3.generate_presigned_url("put_object",
                                        Params={"Bucket": bucket, "Key": "from-browser",
                                                "ContentType": "text/plain"})
    public = daemon.endpoint + "/%s/public" % bucket
    # No CORS configuration: the browser refuses to hand the answers over.
    for url in (get_url, public):
        assert fetch(browser, url).startswith("blocked"), url
    # Rules for this origin: GET and PUT (the PUT's content-type header
    # makes the browser send a preflight first).
    s3.put_bucket_cors(Bucket=bucket, CORSConfiguration={"CORSRules": [
        {"AllowedOrigins": [origin], "AllowedMethods": ["GET", "PUT"],
         "AllowedHeaders": ["content-type"], "MaxAgeSeconds": 0}]})  # no preflight cache
    assert fetch(browser, get_url) == "ok 200 secret bytes"
    assert fetch(browser, public) == "ok 200 public bytes"
    got = fetch(browser, put_url, {"method": "PUT", "body": "written by chromium",
                                   "headers": {"Content-Type": "text/plain"}})
    assert got.startswith("ok 200"), got
    assert s3.get_object(Bucket=bucket, Key="from-browser")["Body"].read() == \
        b"written by chromium"
    # Another origin only: this page is refused again.
    s3.put_bucket_cors(Bucket=bucket, CORSConfiguration={"CORSRules": [
        {"AllowedOrigins": ["http://other.example"], "AllowedMethods": ["GET", "PUT"]}]})
    assert fetch(browser, public).startswith("blocked")
    got = fetch(browser, put_url, {"method": "PUT", "body": "again",
                                   "headers": {"Content-Type": "text/plain"}})
    assert got.startswith("blocked"), got
    assert s3.get_object(Bucket=bucket, Key="from-browser")["Body"].read() == \
        b"written by chromium"
