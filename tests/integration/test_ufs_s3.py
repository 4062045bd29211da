"""The S3 under-storage driver (src/ufs_s3.c) against real remotes.

tests/unit/ufs_s3_check.c drives the driver directly (stat, open and
ranged reads, paginated readdir, mkdir/rmdir/unlink, stage commits small
and multipart, stage_keep + stage_recover, parts, errors, an object
replaced between open and pread). It runs here against a second atriumd
as the remote and against s3rver (npm, a foreign implementation, installed
by tools/install-deps.sh into build/npm), each started and stopped by this
file on a free loopback port.
"""
import http.client
import http.server
import os
import shutil
import signal
import socket
import subprocess
import threading
import time
import urllib.request

import pytest

import s3util

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
CHECK = os.environ.get("UFS_S3_CHECK") or os.path.join(ROOT, "build", "tests", "ufs_s3_check")
S3RVER = os.path.join(ROOT, "build", "npm", "node_modules", "s3rver", "bin", "s3rver.js")


def run_check(scenario, endpoint, bucket, tmp_path, ak, sk, env=None):
    if not os.access(CHECK, os.X_OK):
        pytest.fail("UFS_S3_CHECK=%s is not an executable (run `make %s`)" % (
            CHECK, os.path.relpath(CHECK, ROOT)))
    priv = tmp_path / ("priv-" + scenario)
    env = dict(os.environ, UFS_S3_ACCESS_KEY=ak, UFS_S3_SECRET=sk, **(env or {}))
    p = subprocess.run([CHECK, scenario, endpoint, bucket, str(priv)], env=env,
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=300)
    out = p.stdout.decode(errors="replace")
    print(out)
    assert p.returncode == 0, out
    assert "ufs_s3_check %s: ok" % scenario in out, out


# -- a second atriumd as the remote -------------------------------------------

@pytest.fixture(scope="module")
def remote(atriumd_factory):
    # --min-part-size 0: the check's multipart uploads use 1 MiB parts;
    # --domain localhost: virtual-host style (curl resolves *.localhost).
    return atriumd_factory("sigv4", "ufs-s3-remote", ["--min-part-size", "0",
                                                       "--domain", "localhost"])


def test_atriumd_remote(remote, bucket_name, tmp_path):
    remote.boto3("alice").create_bucket(Bucket=bucket_name)
    ak, sk = remote.keys("alice")
    run_check("all", "http://127.0.0.1:%d" % remote.port, bucket_name, tmp_path, ak, sk)


def test_atriumd_remote_vhost(remote, bucket_name, tmp_path):
    remote.boto3("alice").create_bucket(Bucket=bucket_name)
    ak, sk = remote.keys("alice")
    run_check("vhost", "http://localhost:%d" % remote.port, bucket_name, tmp_path, ak, sk)


def test_atriumd_remote_tls(atriumd_factory, bucket_name, tmp_path):
    cert, key = s3util.self_signed(tmp_path)
    d = atriumd_factory("sigv4", "ufs-s3-remote-tls", ["--tls-cert", cert, "--tls-key", key])
    d.boto3("alice").create_bucket(Bucket=bucket_name)
    ak, sk = d.keys("alice")
    endpoint = "https://127.0.0.1:%d" % d.port
    run_check("short", endpoint, bucket_name, tmp_path, ak, sk, env={"UFS_S3_CA_BUNDLE": cert})
    # Without the CA bundle the certificate is refused (the system's trust
    # store does not hold it): connection failures, ATR_E_IO.
    run_check("down", endpoint, bucket_name, tmp_path, ak, sk)


class FlakyProxy:
    """Loopback HTTP proxy to a remote that fails one request in every
    `every`: mode "503" answers 503 SlowDown, mode "reset" closes the
    connection without a word. The driver's retries must hide both."""

    def __init__(self, port, mode, every=2):
        self.mode = mode
        self.count = 0
        self.failed = 0
        self.lock = threading.Lock()
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def handle_any(self):
                n = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(n) if n else b""
                with outer.lock:
                    outer.count += 1
                    fail = outer.count % every == 1
                    outer.failed += fail
                if fail and outer.mode == "reset":
                    self.close_connection = True
                    self.connection.shutdown(socket.SHUT_RDWR)
                    return
                if fail:
                    err = b"<Error><Code>SlowDown</Code><Message>slow</Message></Error>"
                    self.send_response(503)
                    self.send_header("Content-Length", str(len(err)))
                    self.end_headers()
                    if self.command != "HEAD":
                        self.wfile.write(err)
                    return
                # The Host header goes through as it came: it is signed.
                c = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
                try:
                    c.putrequest(self.command, self.path, skip_host=True,
                                 skip_accept_encoding=True)
                    for k, v in self.headers.items():
                        c.putheader(k, v)
                    c.endheaders(body)
                    r = c.getresponse()
                    data = r.read()
                finally:
                    c.close()
                self.send_response_only(r.status, r.reason)
                for k, v in r.getheaders():
                    if k.lower() not in ("connection", "transfer-encoding", "content-length"):
                        self.send_header(k, v)
                self.send_header("Content-Length",
                                 r.getheader("Content-Length") if self.command == "HEAD"
                                 else str(len(data)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(data)

            do_GET = do_PUT = do_POST = do_DELETE = do_HEAD = handle_any

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.mark.parametrize("mode", ["503", "reset"])
def test_atriumd_remote_retries(remote, bucket_name, tmp_path, mode):
    remote.boto3("alice").create_bucket(Bucket=bucket_name)
    ak, sk = remote.keys("alice")
    proxy = FlakyProxy(remote.port, mode)
    try:
        run_check("short", "http://127.0.0.1:%d" % proxy.port, bucket_name, tmp_path, ak, sk)
    finally:
        proxy.close()
    assert proxy.failed >= 5, proxy.failed


def test_atriumd_remote_retries_io(remote, bucket_name, tmp_path):
    """Multipart uploads (parallel parts), ranged reads and recoveries
    with one request in three cut off."""
    remote.boto3("alice").create_bucket(Bucket=bucket_name)
    ak, sk = remote.keys("alice")
    proxy = FlakyProxy(remote.port, "reset", every=3)
    try:
        run_check("io", "http://127.0.0.1:%d" % proxy.port, bucket_name, tmp_path, ak, sk)
    finally:
        proxy.close()
    assert proxy.failed >= 10, proxy.failed


def test_atriumd_remote_errors(remote, bucket_name, tmp_path):
    ak, sk = remote.keys("alice")
    endpoint = "http://127.0.0.1:%d" % remote.port
    run_check("nobucket", endpoint, bucket_name, tmp_path, ak, sk)
    remote.boto3("alice").create_bucket(Bucket=bucket_name)
    run_check("badsecret", endpoint, bucket_name, tmp_path, ak, sk + "wrong")
    # Nothing listens there: connection failures, retried, then ATR_E_IO.
    run_check("down", "http://127.0.0.1:%d" % s3util.free_port(), bucket_name, tmp_path,
              ak, sk)


# -- s3rver ---------------------------------------------------------------------

@pytest.fixture(scope="module")
def s3rver(tmp_path_factory):
    if not shutil.which("node"):
        pytest.skip("node is not installed (tools/install-deps.sh test installs npm and "
                    "s3rver)")
    if not os.path.exists(S3RVER):
        if not shutil.which("npm"):
            pytest.skip("npm is absent, so s3rver cannot be installed "
                        "(tools/install-deps.sh test installs it into build/npm)")
        pytest.fail("%s is missing: run `bash tools/install-deps.sh test`" % S3RVER)
    d = tmp_path_factory.mktemp("s3rver")
    bucket = "ufs-s3-check"
    proc = None
    try:
        for _attempt in range(3):
            port = s3util.free_port()
            log = open(d / "s3rver.log", "ab")
            # --openssl-legacy-provider: s3rver's continuation tokens are
            # DES-encrypted, which OpenSSL 3 (Node >= 17) no longer offers
            # by default (ERR_OSSL_EVP_UNSUPPORTED, a 500 on page 2).
            proc = subprocess.Popen(["node", "--openssl-legacy-provider", S3RVER, "-d", str(d / "data"), "-a", "127.0.0.1",
                                     "-p", str(port), "--configure-bucket", bucket,
                                     "--no-vhost-buckets"],
                                    stdin=subprocess.DEVNULL, stdout=log, stderr=log,
                                    start_new_session=True)
            log.close()
            if _wait_http(port, proc):
                break
            _stop(proc)
            proc = None
        if proc is None:
            pytest.fail("s3rver did not start:\n" + (d / "s3rver.log").read_text())
        yield port, bucket, d
    finally:
        if proc is not None:
            _stop(proc)


def _wait_http(port, proc, timeout=20.0):
    end = time.time() + timeout
    while time.time() < end:
        if proc.poll() is not None:
            return False
        try:
            urllib.request.urlopen("http://127.0.0.1:%d/" % port, timeout=2)
            return True
        except urllib.error.HTTPError:
            return True  # it answers (403 to an unsigned request)
        except OSError:
            time.sleep(0.1)
    return False


def _stop(proc):
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(10)


def test_s3rver_remote(s3rver, tmp_path):
    port, bucket, _d = s3rver
    # s3rver's default credentials. It leaves a common prefix with no key
    # right below it out of a listing (a bug of its file-system store): the
    # one check of that is skipped here, and kept against atriumd.
    run_check("all", "http://127.0.0.1:%d" % port, bucket, tmp_path, "S3RVER", "S3RVER",
              env={"UFS_S3_QUIRK_DEEP_PREFIX": "1"})


def test_s3rver_errors(s3rver, tmp_path):
    port, bucket, _d = s3rver
    endpoint = "http://127.0.0.1:%d" % port
    run_check("nobucket", endpoint, "no-such-bucket", tmp_path, "S3RVER", "S3RVER")
    # s3rver checks the access key but, with a known key, let a wrong
    # secret through when we tried it: an unknown key is the refusal here.
    run_check("badsecret", endpoint, bucket, tmp_path, "NOTS3RVER", "wrong")
