"""Hostile input: every request gets a clear 4xx and nothing escapes DATA/ufs.

All tests run against one simple-mode daemon: an unsigned request acts as the
daemon's own user, the superuser, the strongest position a request can have.
Beside its data directory lies a canary tree, `outside/`, holding a secret
file. After every test (autouse fixture `nothing_escaped`) the canary tree
and everything else in the daemon's work directory except DATA/ufs and the
daemon's own state files are byte for byte what they were, and no response
ever carried the secret.

Symlinks are planted in DATA/ufs the way anyone who can write there (or the
mount) could: a GET through one must not read outside DATA/ufs, a PUT or
DELETE through one must not write or remove anything outside it.
"""
import hashlib
import os
import re
import shutil
import socket
import uuid

import pytest

from s3util import files_under

SECRET = ("canary-" + uuid.uuid4().hex).encode()
# Files the daemon itself writes outside DATA/ufs.
OWN_STATE = {"meta.db", "meta.db-wal", "meta.db-shm", "atriumd.stderr"}


def parse_response(data):
    """(status, headers, body, complete) of the first response in data."""
    head, sep, body = data.partition(b"\r\n\r\n")
    if not sep:
        return None, {}, b"", False
    lines = head.decode("latin-1").split("\r\n")
    headers = {}
    for line in lines[1:]:
        k, _, v = line.partition(":")
        headers[k.strip().lower()] = v.strip()
    n = headers.get("content-length")
    complete = n is not None and len(body) >= int(n)
    return int(lines[0].split()[1]), headers, body[:int(n)] if complete else body, complete


def raw_http(port, request, timeout=30):
    """Sends bytes as they are; returns (status, headers, body) of the first
    response, or status None if the server closed without answering."""
    s = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    data = b""
    try:
        try:
            s.sendall(request)
        except (BrokenPipeError, ConnectionResetError):
            pass  # refused before we finished sending: read the answer
        while not parse_response(data)[3]:
            try:
                chunk = s.recv(65536)
            except ConnectionResetError:
                break
            if not chunk:
                break
            data += chunk
    finally:
        s.close()
    return parse_response(data)[:3]


def snapshot(top, skip):
    """{relative path: what it is} for everything under top but skip."""
    out = {}
    for d, dirs, files in os.walk(top):
        rel = os.path.relpath(d, top)
        dirs[:] = [x for x in dirs if os.path.normpath(os.path.join(rel, x)) not in skip]
        for name in dirs + files:
            path = os.path.join(d, name)
            key = os.path.normpath(os.path.join(rel, name))
            if key in skip or name in OWN_STATE:
                continue
            if os.path.islink(path):
                out[key] = ("link", os.readlink(path))
            elif os.path.isdir(path):
                out[key] = ("dir",)
            else:
                with open(path, "rb") as f:
                    out[key] = ("file", hashlib.sha256(f.read()).hexdigest())
    return out


class Hostile:
    """The daemon, its canary and a bucket; every request is checked for the
    secret."""

    def __init__(self, daemon):
        self.d = daemon
        self.outside = os.path.join(daemon.workdir, "outside")
        os.makedirs(os.path.join(self.outside, "emptydir"), exist_ok=True)
        for name in ("secret.txt", "a"):
            with open(os.path.join(self.outside, name), "wb") as f:
                f.write(SECRET + b"\n")
        self.bucket = "hostile-" + uuid.uuid4().hex[:8]
        assert self.request("PUT", "/" + self.bucket).status == 200

    @property
    def port(self):
        return self.d.port

    @property
    def broot(self):
        return os.path.join(self.d.ufs, self.bucket)

    def check(self, status, body):
        assert SECRET not in body, "a response carried the canary"
        return status

    def request(self, method, path, body=b"", headers=None):
        r = self.d.request(method, path, headers=headers, body=body)
        self.check(r.status, r.body)
        return r

    def raw(self, request):
        status, headers, body = raw_http(self.port, request)
        self.check(status, body)
        return status, headers, body

    def snapshot(self):
        return snapshot(self.d.workdir, {os.path.relpath(self.d.ufs, self.d.workdir)})


@pytest.fixture(scope="module")
def hostile(atriumd_factory):
    return Hostile(atriumd_factory("simple", "hostile"))


@pytest.fixture(autouse=True)
def nothing_escaped(request):
    if "hostile" not in request.fixturenames:
        yield
        return
    h = request.getfixturevalue("hostile")
    before = h.snapshot()
    assert before[os.path.join("outside", "secret.txt")][0] == "file"
    yield
    assert h.snapshot() == before, "something outside DATA/ufs changed"
    # and the daemon still serves
    assert h.request("HEAD", "/" + h.bucket).status == 200


def is_4xx(status):
    return status is not None and 400 <= status < 500


# ---- headers and framing ----------------------------------------------------

def test_huge_header(hostile):
    status, _, _ = hostile.raw(b"GET /%s HTTP/1.1\r\nHost: x\r\nX-Big: %s\r\n"
                               b"Connection: close\r\n\r\n"
                               % (hostile.bucket.encode(), b"a" * 100000))
    assert status == 400


def test_huge_header_count(hostile):
    def get(n):
        fill = b"".join(b"X-Filler-%d: v\r\n" % i for i in range(n))
        return hostile.raw(b"GET /%s HTTP/1.1\r\nHost: x\r\n%sConnection: close\r\n\r\n"
                           % (hostile.bucket.encode(), fill))
    # civetweb keeps 64 headers and drops the rest silently: refused.
    status, _, body = get(80)
    assert status == 400 and b"<Code>InvalidRequest</Code>" in body, body
    status, _, _ = get(60)  # 60 + Host + Connection
    assert status == 200


@pytest.mark.parametrize("framing", [
    b"Content-Length: -1\r\n",
    b"Content-Length: 99999999999999999999999\r\n",
    b"Content-Length: 1000000000000000\r\n",     # above --max-put-size
    b"Content-Length: 3abc\r\n",                 # civetweb would read 3
    b"Content-Length: 3\r\nContent-Length: 5\r\n",
    b"Content-Length: 5\r\nTransfer-Encoding: chunked\r\n",
])
def test_bad_content_length(hostile, framing):
    before = files_under(hostile.broot)
    status, _, body = hostile.raw(b"PUT /%s/cl HTTP/1.1\r\nHost: x\r\n%sConnection: close\r\n\r\n"
                                  b"3\r\nabc\r\n0\r\n\r\n" % (hostile.bucket.encode(), framing))
    assert is_4xx(status), (status, body)
    assert files_under(hostile.broot) == before
    assert hostile.request("HEAD", "/%s/cl" % hostile.bucket).status == 404


# ---- path traversal -------------------------------------------------------------

TRAVERSAL_KEYS = [
    "..%2f..%2fcredentials", "%2e%2e/%2e%2e/credentials", "a%2f..%2f..%2fmeta.db",
    "%2e%2e%2f%2e%2e%2foutside%2fsecret.txt", "x/%2E%2E/%2E%2E/%2E%2E/outside/a",
    "a%00b", "%00", "a/%00/b", "%c0%af", "%c0%ae%c0%ae/outside/a", "%e0%80%af",
    "a%ed%a0%80", "%ff", "a/%2e%2e",
]


@pytest.mark.parametrize("key", TRAVERSAL_KEYS)
@pytest.mark.parametrize("prefix", ["", "/api/v1/s3"])
def test_traversal_in_keys(hostile, key, prefix):
    before = files_under(hostile.d.ufs)
    path = "%s/%s/%s" % (prefix, hostile.bucket, key)
    r = hostile.request("PUT", path, body=SECRET)
    assert r.status == 400 and r.error_code() in ("InvalidObjectName", "InvalidArgument"), r
    for method in ("GET", "HEAD"):
        assert is_4xx(hostile.request(method, path).status)
    # S3 deletes what cannot exist with success; nothing may change.
    assert hostile.request("DELETE", path).status in (204, 400)
    assert files_under(hostile.d.ufs) == before


def test_traversal_raw_dot_segments(hostile):
    # Sent as-is on the wire (no client normalisation).
    for path in (b"/%s/../../credentials" % hostile.bucket.encode(),
                 b"/api/v1/s3/../../credentials", b"/../outside/secret.txt",
                 b"/%s/./../../outside/a" % hostile.bucket.encode()):
        for method in (b"GET", b"PUT"):
            status, _, body = hostile.raw(b"%s %s HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n"
                                          b"Connection: close\r\n\r\n" % (method, path))
            assert is_4xx(status), (method, path, status, body)


def test_raw_bytes_in_path(hostile):
    for path in (b"/%s/\xc0\xaf" % hostile.bucket.encode(), b"/%s/a\x00b" % hostile.bucket.encode(),
                 b"/\xc0\xae\xc0\xae/x"):
        status, _, _ = hostile.raw(b"GET %s HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
                                   % path)
        assert status is None or is_4xx(status), (path, status)


TRAVERSAL_BUCKETS = ["..", "%2e%2e", ".atrium", "%2eatrium", ".atrium/tmp", "..%2f..%2foutside",
                     "%2e%2e%2foutside/secret.txt", "a%2f..", "%00", "%00abc", "abc%00x",
                     "%c0%ae%c0%ae", "%2e", "."]


@pytest.mark.parametrize("bucket", TRAVERSAL_BUCKETS)
def test_traversal_in_bucket_names(hostile, bucket):
    before = files_under(hostile.d.ufs)
    for method in ("PUT", "GET", "HEAD", "DELETE"):
        r = hostile.request(method, "/" + bucket)
        assert is_4xx(r.status), (method, bucket, r)
    r = hostile.request("PUT", "/%s/key" % bucket, body=SECRET)
    assert is_4xx(r.status), r
    assert files_under(hostile.d.ufs) == before
    assert "key" not in os.listdir(hostile.d.ufs)


# ---- XML bodies -----------------------------------------------------------------

def xml_bodies(outside):
    secret = os.path.join(outside, "secret.txt")
    return {
        "deep": b"<CreateBucketConfiguration>" + b"<a>" * 9000 + b"</a>" * 9000 +
                b"</CreateBucketConfiguration>",
        "billion-laughs": b'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY a "aaaaaaaaaa">' +
                          b"".join(b'<!ENTITY %s "%s">' % (chr(98 + i).encode(),
                                                            ("&%s;" % chr(97 + i)).encode() * 10)
                                   for i in range(8)) +
                          b"]><CreateBucketConfiguration><LocationConstraint>&i;"
                          b"</LocationConstraint></CreateBucketConfiguration>",
        "xxe": b'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY x SYSTEM "file://%s">]>'
               b"<CreateBucketConfiguration><LocationConstraint>&x;</LocationConstraint>"
               b"</CreateBucketConfiguration>" % secret.encode(),
        "parameter-entity": b'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY %% p SYSTEM '
                            b'"file://%s"> %%p;]><CreateBucketConfiguration/>' % secret.encode(),
        "external-dtd": b'<?xml version="1.0"?><!DOCTYPE CreateBucketConfiguration SYSTEM '
                        b'"http://127.0.0.1:9/x.dtd"><CreateBucketConfiguration/>',
        "too-large": b"<CreateBucketConfiguration><LocationConstraint>" + b"x" * 70000 +
                     b"</LocationConstraint></CreateBucketConfiguration>",
        "not-xml": b"\x00\xff<CreateBucketConfiguration",
    }


@pytest.mark.parametrize("name", ["deep", "billion-laughs", "xxe", "parameter-entity",
                                  "external-dtd", "too-large", "not-xml"])
def test_hostile_xml_create_bucket(hostile, name):
    body = xml_bodies(hostile.outside)[name]
    bucket = "xml-" + uuid.uuid4().hex[:12]
    r = hostile.request("PUT", "/" + bucket, body=body)
    want = "EntityTooLarge" if name == "too-large" else "MalformedXML"
    assert (r.status, r.error_code()) == (400, want), r
    assert hostile.request("HEAD", "/" + bucket).status == 404
    assert not os.path.exists(os.path.join(hostile.d.ufs, bucket))


# ---- symlinks planted in DATA/ufs -------------------------------------------------

def test_symlinked_directory_is_not_followed(hostile):
    b = hostile.bucket
    os.symlink(hostile.outside, os.path.join(hostile.broot, "link"))
    os.makedirs(os.path.join(hostile.broot, "real"), exist_ok=True)
    os.symlink("/", os.path.join(hostile.broot, "real", "root"))
    try:
        for key in ("link/secret.txt", "link/a", "real/root/etc/hostname",
                    "real/root" + hostile.outside + "/secret.txt"):
            for method in ("GET", "HEAD"):
                r = hostile.request(method, "/%s/%s" % (b, key))
                assert r.status == 404, (method, key, r)
        r = hostile.request("GET", "/%s?list-type=2" % b)
        assert r.status == 200 and b"secret" not in r.body and b"<Key>link" not in r.body, r
        r = hostile.request("GET", "/%s?list-type=2&prefix=link/" % b)
        assert r.status == 200 and b"<Key>" not in r.body, r
        # writing through it
        r = hostile.request("PUT", "/%s/link/new" % b, body=b"x")
        assert is_4xx(r.status), r
        r = hostile.request("PUT", "/%s/link/emptydir/new" % b, body=b"x")
        assert is_4xx(r.status), r
        r = hostile.request("PUT", "/%s/real/root/tmp/escaped-%s" % (b, uuid.uuid4().hex),
                            body=b"x")
        assert is_4xx(r.status), r
        for key in ("link/secret.txt", "link/a", "link/emptydir/"):
            assert hostile.request("DELETE", "/%s/%s" % (b, key)).status in (204, 403, 404)
    finally:
        os.unlink(os.path.join(hostile.broot, "link"))
        shutil.rmtree(os.path.join(hostile.broot, "real"))


def test_directory_swapped_for_symlink(hostile):
    """Rows say d/ is a directory; behind our back it became a symlink."""
    b = hostile.bucket
    assert hostile.request("PUT", "/%s/d/a" % b, body=b"inside").status == 200
    assert hostile.request("PUT", "/%s/d/sub/c" % b, body=b"inside").status == 200
    d = os.path.join(hostile.broot, "d")
    moved = d + ".moved"
    os.rename(d, moved)
    os.symlink(hostile.outside, d)
    try:
        # outside/a exists: the old row must not lead there
        for method in ("GET", "HEAD"):
            r = hostile.request(method, "/%s/d/a" % b)
            assert r.status == 404, r
        r = hostile.request("PUT", "/%s/d/b" % b, body=b"escaped")
        assert r.status == 403 and r.error_code() == "AccessDenied", r
        r = hostile.request("PUT", "/%s/d/sub/e" % b, body=b"escaped")
        assert is_4xx(r.status), r
        r = hostile.request("PUT", "/%s/d/emptydir/x" % b, body=b"escaped")
        assert is_4xx(r.status), r
        assert hostile.request("DELETE", "/%s/d/a" % b).status in (204, 403, 404)
        assert hostile.request("DELETE", "/%s/d/sub/c" % b).status in (204, 403, 404)
        r = hostile.request("GET", "/%s?list-type=2&prefix=d/" % b)
        assert r.status == 200 and SECRET not in r.body
    finally:
        os.unlink(d)
        os.rename(moved, d)
    # back in place, the objects are served again
    r = hostile.request("GET", "/%s/d/a" % b)
    assert r.status == 200 and r.body == b"inside", r


def test_symlinked_file(hostile):
    b = hostile.bucket
    link = os.path.join(hostile.broot, "flink")
    creds = os.path.join(hostile.broot, "creds")
    os.symlink(os.path.join(hostile.outside, "secret.txt"), link)
    os.symlink(os.path.relpath(os.path.join(hostile.d.data, "credentials"), hostile.broot), creds)
    try:
        for key in ("flink", "creds"):
            r = hostile.request("GET", "/%s/%s" % (b, key))
            assert r.status == 404 and b"AKID" not in r.body, r
        # a PUT replaces the link itself; its target is untouched
        r = hostile.request("PUT", "/%s/flink" % b, body=b"new content")
        assert r.status == 200, r
        assert not os.path.islink(link)
        assert hostile.request("GET", "/%s/flink" % b).body == b"new content"
        assert hostile.request("DELETE", "/%s/flink" % b).status == 204
    finally:
        for p in (link, creds):
            if os.path.lexists(p):
                os.unlink(p)


def test_symlinked_bucket(hostile):
    evil = "evil-" + uuid.uuid4().hex[:8]
    path = os.path.join(hostile.d.ufs, evil)
    os.symlink(hostile.outside, path)
    try:
        r = hostile.request("GET", "/")
        assert r.status == 200 and evil.encode() not in r.body, r
        for method, p in (("GET", "/%s/secret.txt" % evil), ("HEAD", "/%s/a" % evil),
                          ("GET", "/%s?list-type=2" % evil), ("PUT", "/%s/x" % evil),
                          ("DELETE", "/%s/a" % evil), ("PUT", "/" + evil),
                          ("DELETE", "/" + evil)):
            r = hostile.request(method, p, body=b"x" if method == "PUT" else b"")
            assert is_4xx(r.status), (method, p, r)
        assert os.path.islink(path)
    finally:
        os.unlink(path)


def test_no_request_reads_or_writes_outside_data_dir(hostile):
    """Every method over every hostile path, with symlinks in place: all
    refused or harmless (the autouse check proves nothing outside changed)."""
    b = hostile.bucket
    os.symlink(hostile.outside, os.path.join(hostile.broot, "out"))
    try:
        paths = (["/%s/%s" % (b, k) for k in TRAVERSAL_KEYS] +
                 ["/" + k for k in TRAVERSAL_BUCKETS] +
                 ["/%s/out/secret.txt" % b, "/%s/out/a" % b, "/%s/out/emptydir/" % b,
                  "/%s/out/new" % b, "/%s/out" % b])
        for path in paths:
            for method in ("GET", "HEAD", "PUT", "POST", "DELETE"):
                r = hostile.request(method, path, body=SECRET if method == "PUT" else b"")
                harmless = (method == "DELETE" and r.status == 204) or \
                           (path.endswith("/out") and method == "PUT" and r.status == 200)
                assert is_4xx(r.status) or harmless or r.status == 501, (method, path, r)
                if path.endswith("/out") and r.status == 200 and method == "PUT":
                    # replaced the link itself: put it back for the rest
                    os.unlink(os.path.join(hostile.broot, "out"))
                    os.symlink(hostile.outside, os.path.join(hostile.broot, "out"))
    finally:
        os.unlink(os.path.join(hostile.broot, "out"))


def test_credentials_readable_by_others_refused(tmp_path):
    """A credentials file others may read or write is refused at start,
    with a message saying how to fix it; 0600 starts."""
    import subprocess

    import conftest
    import s3util
    creds = tmp_path / "credentials"
    creds.write_text("AKIDEXAMPLE wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY root\n")
    for mode in (0o644, 0o640, 0o606):
        os.chmod(creds, mode)
        p = subprocess.run([conftest.ATRIUMD, "--data", str(tmp_path / "data"), "--port",
                            str(s3util.free_port()), "--credentials", str(creds)],
                           capture_output=True, text=True, timeout=30)
        assert p.returncode != 0, oct(mode)
        assert "0600" in p.stderr and str(creds) in p.stderr, p.stderr
        assert "wJalrXUtnFEMI" not in p.stderr  # the secret is never logged


# ---- listings echo hostile names as well-formed XML -------------------------

import xml.etree.ElementTree as ET  # noqa: E402  (expat: a strict XML 1.0 parser)
from urllib.parse import quote, unquote_to_bytes  # noqa: E402

S3NS = "{http://s3.amazonaws.com/doc/2006-03-01/}"
HOSTILE_VALUES = [b"\x01", b"\x0c", b"\x7f", b"&", b"<", b"]]>", b"\n", b"\r", b"a\tb",
                  b"\xff", b"\xc3", "\ufffe".encode(), "caf\u00e9/\u2713".encode()]
# (query that selects the operation, echoed parameter -> element, parameters
# encoding-type=url encodes in the response)
LISTINGS = {
    "v1": ("", {"prefix": "Prefix", "delimiter": "Delimiter", "marker": "Marker"}),
    "v2": ("list-type=2&", {"prefix": "Prefix", "delimiter": "Delimiter",
                            "start-after": "StartAfter",
                            "continuation-token": "ContinuationToken"}),
    "uploads": ("uploads&", {"prefix": "Prefix", "delimiter": "Delimiter",
                             "key-marker": "KeyMarker", "upload-id-marker": "UploadIdMarker"}),
}
NEVER_URL_ENCODED = {"continuation-token", "upload-id-marker"}
# ListObjects (v1) echoes its prefix as sent: botocore does not decode it.
NEVER_URL_ENCODED_IN = {"v1": {"prefix"}}


def is_utf8(v):
    try:
        v.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def xml_carryable(v):
    if not is_utf8(v):
        return False
    s = v.decode("utf-8")
    return all(c in "\t\n\r" or (" " <= c <= "\ud7ff") or ("\ue000" <= c <= "\ufffd") or
               c >= "\U00010000" for c in s)


def q(v):
    return quote(v, safe="-_.~")


def parse_strict(r):
    """Every answer, 200 or error, is a well-formed XML 1.0 document."""
    assert r.header("content-type") == "application/xml", r
    try:
        return ET.fromstring(r.body)
    except ET.ParseError as e:
        raise AssertionError("not well-formed XML (%s): %r" % (e, r.body))


def text_of(root, tag):
    el = root.find(S3NS + tag)
    assert el is not None, (tag, ET.tostring(root))
    return el.text or ""


@pytest.fixture(scope="module")
def xml_buckets(hostile):
    """A bucket of names XML carries (and an upload in it), one holding keys
    it cannot carry."""
    names = []
    for tag in ("xmla", "xmlb"):
        b = "%s-%s" % (tag, uuid.uuid4().hex[:8])
        assert hostile.request("PUT", "/" + b).status == 200
        names.append(b)
    a, b = names
    for key in (b"plain", b"a&b<c>", b"del\x7f", b"nl\nkey"):
        assert hostile.request("PUT", "/%s/%s" % (a, q(key)), body=b"x").status == 200
    for key in (b"ok", b"ctl\x01key", "fffe\ufffekey".encode()):
        assert hostile.request("PUT", "/%s/%s" % (b, q(key)), body=b"x").status == 200
    uploads = {}
    for bucket, key in ((a, b"up&<load"), (b, b"ctl\x01up")):
        r = hostile.request("POST", "/%s/%s?uploads" % (bucket, q(key)))
        assert r.status == 200, r
        upload_id = re.search(rb"<UploadId>([0-9a-f]+)</UploadId>", r.body).group(1).decode()
        uploads[key] = (upload_id, r)  # the answer is checked by the test
    return a, b, uploads


@pytest.mark.parametrize("op", sorted(LISTINGS))
@pytest.mark.parametrize("url", [False, True], ids=["plain", "encoding-type=url"])
def test_list_parameters_echo_as_well_formed_xml(hostile, xml_buckets, op, url):
    """AWS echoes prefix, delimiter, markers, tokens unescaped when they hold
    what XML 1.0 cannot carry: here each answer is well-formed XML echoing the
    value exactly, or a 400 InvalidArgument. Not UTF-8: refused. A control
    character: URL-encoded with encoding-type=url where AWS encodes that
    element, else refused."""
    bucket = xml_buckets[0]
    select, params = LISTINGS[op]
    for name, elem in sorted(params.items()):
        for v in HOSTILE_VALUES:
            # UploadIdMarker is echoed only beside a key-marker (AWS)
            path = "/%s?%s%s%s=%s%s" % (bucket, select,
                                        "key-marker=plain&" if name == "upload-id-marker" else "",
                                        name, q(v), "&encoding-type=url" if url else "")
            r = hostile.request("GET", path)
            root = parse_strict(r)
            encoded = url and name not in NEVER_URL_ENCODED | NEVER_URL_ENCODED_IN.get(op, set())
            if not is_utf8(v) or (not xml_carryable(v) and not encoded):
                assert (r.status, r.error_code()) == (400, "InvalidArgument"), (path, r)
                continue
            assert r.status == 200, (path, r)
            got = text_of(root, elem)
            got = unquote_to_bytes(got) if encoded else got.encode("utf-8")
            assert got == v, (path, got, v)


def test_listed_keys_xml_cannot_carry(hostile, xml_buckets):
    """Keys S3 allows but XML 1.0 cannot carry: listed URL-encoded with
    encoding-type=url; without it the listing is refused (400, saying to use
    encoding-type=url) rather than answered with a document no parser reads.
    ListParts names the key it was asked about: percent-encoded there, as
    error documents do."""
    a, b, uploads = xml_buckets
    want = sorted([b"ok", b"ctl\x01key", "fffe\ufffekey".encode()])
    for select in ("", "list-type=2&"):
        r = hostile.request("GET", "/%s?%s" % (b, select))
        parse_strict(r)
        assert (r.status, r.error_code()) == (400, "InvalidArgument"), r
        assert b"encoding-type=url" in r.body
        r = hostile.request("GET", "/%s?%sencoding-type=url" % (b, select))
        root = parse_strict(r)
        assert r.status == 200, r
        keys = [unquote_to_bytes(c.find(S3NS + "Key").text)
                for c in root.findall(S3NS + "Contents")]
        assert keys == want
        # a prefix that leaves the hostile keys out lists fine
        r = hostile.request("GET", "/%s?%sprefix=o" % (b, select))
        assert r.status == 200 and [c.find(S3NS + "Key").text for c in
                                    parse_strict(r).findall(S3NS + "Contents")] == ["ok"], r
    r = hostile.request("GET", "/%s?uploads" % b)
    parse_strict(r)
    assert (r.status, r.error_code()) == (400, "InvalidArgument"), r
    r = hostile.request("GET", "/%s?uploads&encoding-type=url" % b)
    root = parse_strict(r)
    assert [unquote_to_bytes(u.find(S3NS + "Key").text)
            for u in root.findall(S3NS + "Upload")] == [b"ctl\x01up"]
    # the bucket of carryable names lists them exactly, escaped
    r = hostile.request("GET", "/%s?list-type=2" % a)
    root = parse_strict(r)
    assert sorted(c.find(S3NS + "Key").text for c in root.findall(S3NS + "Contents")) == \
        sorted(["plain", "a&b<c>", "del\x7f", "nl\nkey"])
    # CreateMultipartUpload and ListParts name the key they were asked
    # about: percent-encoded when XML cannot carry it, as error documents do
    for bucket, key in ((a, b"up&<load"), (b, b"ctl\x01up")):
        upload_id, created = uploads[key]
        want = key.decode() if xml_carryable(key) else q(key)
        assert text_of(parse_strict(created), "Key") == want
        r = hostile.request("GET", "/%s/%s?uploadId=%s" % (bucket, q(key), upload_id))
        root = parse_strict(r)
        assert r.status == 200, r
        assert text_of(root, "Key") == want
        assert text_of(root, "UploadId") == upload_id
