"""Helpers shared by the integration tests (imported by conftest and tests)."""
import base64
import hashlib
import http.client
import os
import re
import socket
import uuid
import xml.etree.ElementTree as ET
import zlib

S3NS = "{http://s3.amazonaws.com/doc/2006-03-01/}"

# Users written to every daemon's credentials file:
# name -> (access key, secret key, user id)
USERS = {
    "alice": ("AKIDALICE", "alicesecret/+key0123456789", "alice"),
    "bob": ("AKIDBOB", "bobsecret0123456789", "bob"),
    "carol": ("AKIDCAROL", "carolsecret0123456789", "carol"),
    "admin": ("AKIDROOT", "rootsecret0123456789", "root"),
}


def md5hex(data):
    return hashlib.md5(data).hexdigest()


def unique_bucket(prefix="t"):
    """A bucket name nobody else in the suite uses (lower case, valid)."""
    return "%s-%s" % (prefix.lower().replace("_", "-"), uuid.uuid4().hex[:12])


def free_port():
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
    finally:
        s.close()


class Resp:
    def __init__(self, status, reason, headers, body):
        self.status = status
        self.reason = reason
        self.headers = headers  # dict with lower-cased names
        self.body = body

    def header(self, name, default=None):
        return self.headers.get(name.lower(), default)

    def xml(self):
        return ET.fromstring(self.body)

    def error_code(self):
        """The <Code> of an S3 XML error body, or None."""
        if not self.body:
            return None
        try:
            root = ET.fromstring(self.body)
        except ET.ParseError:
            return None
        el = root.find("Code")
        if el is None:
            el = root.find(S3NS + "Code")
        return el.text if el is not None else None

    def __repr__(self):
        return "<Resp status=%d code=%s body=%r headers=%r>" % (
            self.status, self.error_code(), self.body[:2000], self.headers)


def sign_v4(method, url, headers, body, access_key, secret_key, region="us-east-1"):
    """Sign like an S3 SDK (path used verbatim as sent on the wire)."""
    from botocore.auth import S3SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials

    req = AWSRequest(method=method, url=url, headers=dict(headers), data=body)
    S3SigV4Auth(Credentials(access_key, secret_key), "s3", region).add_auth(req)
    return dict(req.headers.items())


def raw_request(port, method, path, headers=None, body=b"", sign=None, timeout=30):
    """One HTTP request with `path` sent byte for byte (no normalisation).

    sign: None (unsigned) or (access_key, secret_key) for SigV4.
    """
    headers = dict(headers or {})
    if isinstance(body, str):
        body = body.encode()
    if sign is not None:
        # Sign the canonical form of the path (what an SDK would compute from
        # the decoded key: each byte percent-encoded once, unreserved kept),
        # while sending `path` itself on the wire.
        from urllib.parse import quote, unquote
        p, q = (path.split("?", 1) + [""])[:2]
        canon = quote(unquote(p), safe="/~") + ("?" + q if q else "")
        headers = sign_v4(method, "http://127.0.0.1:%d%s" % (port, canon),
                          headers, body, sign[0], sign[1])
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.putrequest(method, path, skip_host=("Host" in headers),
                        skip_accept_encoding=True)
        names = {k.lower() for k in headers}
        for k, v in headers.items():
            conn.putheader(k, v)
        if "content-length" not in names and (body or method in ("PUT", "POST")):
            conn.putheader("Content-Length", str(len(body)))
        conn.endheaders()
        if body:
            conn.send(body)
        r = conn.getresponse()
        data = r.read()
        return Resp(r.status, r.reason, {k.lower(): v for k, v in r.getheaders()}, data)
    finally:
        conn.close()


def list_keys_xml(resp):
    root = resp.xml()
    return [c.find(S3NS + "Key").text for c in root.findall(S3NS + "Contents")]


def xml_text(resp, tag):
    el = resp.xml().find(S3NS + tag)
    return None if el is None else el.text


def utf8_sorted(keys):
    return sorted(keys, key=lambda k: k.encode("utf-8"))


def files_under(root):
    """Relative paths of every regular file under root."""
    out = []
    for d, _dirs, files in os.walk(root):
        for f in files:
            out.append(os.path.relpath(os.path.join(d, f), root))
    return sorted(out)


_ETAG_RE = re.compile(r'^"?([0-9a-f]{32})"?$')


def etag_md5(etag):
    m = _ETAG_RE.match(etag or "")
    return m.group(1) if m else etag


def curl(args, timeout=60, input_file=None):
    """Run /usr/bin/curl; returns Resp built from the last response's headers."""
    import subprocess
    import tempfile

    with tempfile.TemporaryDirectory() as td:
        hdr = os.path.join(td, "headers")
        out = os.path.join(td, "body")
        cmd = ["/usr/bin/curl", "-sS", "-D", hdr, "-o", out, "-w", "%{http_code}"] + list(args)
        p = subprocess.run(cmd, capture_output=True, timeout=timeout)
        if p.returncode != 0:
            raise AssertionError("curl failed (%d): %s\n%s" % (
                p.returncode, " ".join(cmd), p.stderr.decode(errors="replace")))
        status = int(p.stdout.decode().strip()[-3:])
        with open(hdr, "rb") as f:
            raw = f.read().decode("latin-1")
        # keep only the final response block (skip "100 Continue")
        blocks = [b for b in raw.replace("\r\n", "\n").split("\n\n") if b.strip()]
        headers = {}
        for line in (blocks[-1].split("\n")[1:] if blocks else []):
            if ":" in line:
                k, v = line.split(":", 1)
                headers[k.strip().lower()] = v.strip()
        body = open(out, "rb").read() if os.path.exists(out) else b""
        r = Resp(status, "", headers, body)
        r.raw_headers = raw
        return r


# -- S3's checksums -----------------------------------------------------------

def _crc_table(poly, bits):
    table = []
    for i in range(256):
        c = i
        for _ in range(8):
            c = (c >> 1) ^ poly if c & 1 else c >> 1
        table.append(c)
    return table, (1 << bits) - 1


_T32C = _crc_table(0x82F63B78, 32)
_T64 = _crc_table(0x9A6C9329AC4BC9B5, 64)


def _crc(t, data):
    table, mask = t
    c = mask
    for b in data:
        c = (c >> 8) ^ table[(c ^ b) & 0xFF]
    return c ^ mask


def b64(raw):
    return base64.b64encode(raw).decode()


def crc32c(data):
    return _crc(_T32C, data)


def crc64nvme(data):
    return _crc(_T64, data)


def checksum(alg, data):
    """S3's base64 value of x-amz-checksum-<alg> over data (bitwise CRCs:
    slow, for test bodies)."""
    if alg == "crc32":
        return b64(zlib.crc32(data).to_bytes(4, "big"))
    if alg == "crc32c":
        return b64(crc32c(data).to_bytes(4, "big"))
    if alg == "crc64nvme":
        return b64(crc64nvme(data).to_bytes(8, "big"))
    return b64(hashlib.new(alg, data).digest())


def client_error(fn, *args, **kwargs):
    """(HTTP status, S3 error code) of a boto3 call that must fail."""
    from botocore.exceptions import ClientError
    try:
        fn(*args, **kwargs)
    except ClientError as e:
        r = e.response
        return r["ResponseMetadata"]["HTTPStatusCode"], r["Error"]["Code"]
    raise AssertionError("%s succeeded" % getattr(fn, "__name__", fn))


def awscli(daemon, home, user="alice"):
    """A runner of /usr/bin/aws against daemon as user, with HOME and the
    config files in home (a tmp_path): call(*args, check=True) returns the
    CompletedProcess (stdout, stderr decoded); with check, exit 0 is
    asserted. A failed call's stderr holds the S3 error code."""
    import subprocess
    ak, sk, _uid = USERS[user]
    env = {"PATH": "/usr/bin:/bin", "HOME": str(home), "LANG": "C.UTF-8",
           "AWS_ACCESS_KEY_ID": ak, "AWS_SECRET_ACCESS_KEY": sk,
           "AWS_DEFAULT_REGION": "us-east-1",
           "AWS_CONFIG_FILE": os.path.join(str(home), "aws-config-none"),
           "AWS_SHARED_CREDENTIALS_FILE": os.path.join(str(home), "aws-creds-none"),
           "AWS_PAGER": "", "AWS_MAX_ATTEMPTS": "1"}

    def call(*args, check=True):
        p = subprocess.run(["/usr/bin/aws", "--endpoint-url", daemon.endpoint] + list(args),
                           env=env, capture_output=True, timeout=120,
                           stdin=subprocess.DEVNULL, text=True)
        if check:
            assert p.returncode == 0, (args, p.stdout, p.stderr)
        return p
    return call


def composite_checksum(alg, parts):
    """S3's COMPOSITE checksum of a multipart object with these parts:
    base64(H(raw part checksums concatenated)) "-" count."""
    raw = b"".join(base64.b64decode(checksum(alg, p)) for p in parts)
    return "%s-%d" % (checksum(alg, raw), len(parts))


def self_signed(directory, name="cert", cn="127.0.0.1"):
    """A self-signed certificate for 127.0.0.1 made with openssl(1) in
    directory: (certificate file, key file (0600))."""
    import subprocess
    cert = os.path.join(str(directory), name + ".pem")
    key = os.path.join(str(directory), name + ".key")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes",
                    "-keyout", key, "-out", cert, "-days", "2", "-subj", "/CN=%s" % cn,
                    "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost"],
                   check=True, capture_output=True, timeout=60)
    os.chmod(key, 0o600)
    return cert, key


def read_fd_to_end(fd, chunk=1 << 20):
    """Everything left to read from a file descriptor."""
    out = []
    while True:
        b = os.read(fd, chunk)
        if not b:
            return b"".join(out)
        out.append(b)


def typed_client(daemon, user="alice", **headers):
    """A boto3 client of daemon that sends headers on every request,
    signed like the others; "_" in a name is "-" (x_atrium_read_type=...
    sends x-atrium-read-type)."""
    s3 = daemon.boto3(user)

    def add(request, **kwargs):
        for k, v in headers.items():
            request.headers[k.replace("_", "-")] = v

    s3.meta.events.register_first("before-sign.s3", add)
    return s3
