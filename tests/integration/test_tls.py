"""HTTPS: --tls-cert/--tls-key, with a self-signed certificate made here.

Real clients (awscli, curl, boto3) verify the certificate against it and
round-trip objects; TLS 1.1, weak TLS 1.2 ciphers and plain HTTP on the TLS
port are refused by the server; bad flag combinations stop the daemon at
start with a clear message.
"""
import os
import socket
import ssl
import subprocess

import pytest

from conftest import ATRIUMD
from s3util import USERS, curl, md5hex, self_signed


@pytest.fixture(scope="module")
def tls_files(tmp_path_factory):
    return self_signed(tmp_path_factory.mktemp("tls"))


@pytest.fixture(scope="module")
def tls_daemon(atriumd_factory, tls_files):
    cert, key = tls_files
    return atriumd_factory("sigv4", "tls", ["--tls-cert", cert, "--tls-key", key])


def test_awscli_round_trip(tls_daemon, tls_files, bucket_name, tmp_path):
    cert, _ = tls_files
    ak, sk, _ = USERS["alice"]
    (tmp_path / "cfg").write_text("")
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "LANG": "C.UTF-8",
           "AWS_ACCESS_KEY_ID": ak, "AWS_SECRET_ACCESS_KEY": sk,
           "AWS_DEFAULT_REGION": "us-east-1", "AWS_CONFIG_FILE": str(tmp_path / "cfg"),
           "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "cfg"), "AWS_PAGER": "",
           "AWS_MAX_ATTEMPTS": "1"}
    assert tls_daemon.endpoint.startswith("https://")

    def aws(*args):
        p = subprocess.run(["/usr/bin/aws", "--endpoint-url", tls_daemon.endpoint,
                            "--ca-bundle", cert] + list(args), env=env, capture_output=True,
                           timeout=120, stdin=subprocess.DEVNULL)
        assert p.returncode == 0, (args, p.stdout, p.stderr)
        return p.stdout

    data = os.urandom(3 * 1024 * 1024 + 17)
    src, dst = tmp_path / "src.bin", tmp_path / "dst.bin"
    src.write_bytes(data)
    aws("s3", "mb", "s3://" + bucket_name)
    aws("s3", "cp", str(src), "s3://%s/dir/obj.bin" % bucket_name)
    aws("s3", "cp", "s3://%s/dir/obj.bin" % bucket_name, str(dst))
    assert dst.read_bytes() == data
    assert b"dir/obj.bin" in aws("s3", "ls", "--recursive", "s3://" + bucket_name)

    # Without the CA the client refuses the self-signed certificate.
    p = subprocess.run(["/usr/bin/aws", "--endpoint-url", tls_daemon.endpoint, "s3", "ls"],
                       env=env, capture_output=True, timeout=120, stdin=subprocess.DEVNULL)
    assert p.returncode != 0 and b"CERTIFICATE_VERIFY_FAILED" in p.stderr, p.stderr


def test_curl_round_trip(tls_daemon, tls_files, bucket_name, tmp_path):
    cert, _ = tls_files
    ak, sk, _ = USERS["alice"]
    sign = ["--cacert", cert, "--aws-sigv4", "aws:amz:us-east-1:s3", "--user", "%s:%s" % (ak, sk),
            "-H", "x-amz-content-sha256: UNSIGNED-PAYLOAD"]  # curl 7 does not send it
    base = tls_daemon.endpoint
    assert curl(sign + ["-X", "PUT", "%s/%s" % (base, bucket_name)]).status == 200
    body = tmp_path / "body"
    data = os.urandom(200 * 1024)
    body.write_bytes(data)
    r = curl(sign + ["-T", str(body), "%s/%s/k" % (base, bucket_name)])
    assert r.status == 200 and r.header("etag").strip('"') == md5hex(data), r
    r = curl(sign + ["%s/%s/k" % (base, bucket_name)])
    assert r.status == 200 and r.body == data
    r = curl(["--cacert", cert, base + "/api/v1/health"])
    assert r.status == 200, r


def test_boto3_round_trip(tls_daemon, bucket_name):
    s3 = tls_daemon.boto3("alice")
    s3.create_bucket(Bucket=bucket_name)
    data = os.urandom(1024 * 1024 + 3)
    s3.put_object(Bucket=bucket_name, Key="a/b", Body=data)
    assert s3.get_object(Bucket=bucket_name, Key="a/b")["Body"].read() == data
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket=bucket_name)["Contents"]]
    assert keys == ["a/b"]


def handshake(port, cafile, version=None, ciphers=None):
    """Returns the negotiated protocol; raises ssl.SSLError if refused."""
    ctx = ssl.create_default_context(cafile=cafile)
    if version:
        ctx.set_ciphers("DEFAULT:@SECLEVEL=0")  # let the client offer old protocols
        ctx.minimum_version = ctx.maximum_version = version
    if ciphers:
        ctx.maximum_version = ssl.TLSVersion.TLSv1_2
        ctx.set_ciphers(ciphers)
    with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
        with ctx.wrap_socket(s, server_hostname="127.0.0.1") as t:
            return t.version()


def test_old_protocols_and_weak_ciphers_refused(tls_daemon, tls_files):
    cert, _ = tls_files
    port = tls_daemon.port
    assert handshake(port, cert) == "TLSv1.3"
    assert handshake(port, cert, ssl.TLSVersion.TLSv1_2) == "TLSv1.2"
    for old in (ssl.TLSVersion.TLSv1_1, ssl.TLSVersion.TLSv1):
        with pytest.raises(ssl.SSLError) as ei:
            handshake(port, cert, old)
        # An alert from the server: the client did offer the old version.
        assert "TLSV1_ALERT_PROTOCOL_VERSION" in str(ei.value), ei.value
    for weak in ("AES128-SHA", "ECDHE-RSA-AES128-SHA", "AES256-GCM-SHA384"):
        with pytest.raises(ssl.SSLError) as ei:
            handshake(port, cert, ciphers=weak)
        assert "HANDSHAKE_FAILURE" in str(ei.value), ei.value
    # and the daemon serves on
    assert handshake(port, cert) == "TLSv1.3"


def test_plain_http_on_the_tls_port_gets_no_answer(tls_daemon):
    with socket.create_connection(("127.0.0.1", tls_daemon.port), timeout=10) as s:
        s.sendall(b"GET /api/v1/health HTTP/1.1\r\nHost: x\r\n\r\n")
        data = b""
        while True:
            chunk = s.recv(4096)
            if not chunk:
                break
            data += chunk
    assert not data.startswith(b"HTTP/"), data


@pytest.mark.parametrize("case", ["cert-only", "key-only", "wrong-key", "missing-file"])
def test_bad_tls_settings_stop_the_daemon(tls_files, tmp_path, case):
    cert, key = tls_files
    other = str(tmp_path / "other.pem")
    subprocess.run(["openssl", "genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048",
                    "-out", other], check=True, capture_output=True, timeout=60)
    args = {"cert-only": ["--tls-cert", cert], "key-only": ["--tls-key", key],
            "wrong-key": ["--tls-cert", cert, "--tls-key", other],
            "missing-file": ["--tls-cert", cert, "--tls-key", str(tmp_path / "nope.pem")]}[case]
    from s3util import free_port
    p = subprocess.run([ATRIUMD, "--data", str(tmp_path / "data"), "--port", str(free_port()),
                        "--auth", "simple"] + args, capture_output=True, timeout=60,
                       stdin=subprocess.DEVNULL)
    err = p.stderr.decode(errors="replace")
    assert p.returncode != 0, err
    want = "go together" if case.endswith("-only") else "tls: cannot use certificate"
    assert want in err, err


def ssl_libdir():
    """The directory of the libssl.so.3 atriumd is linked with."""
    out = subprocess.run(["ldd", ATRIUMD], capture_output=True, text=True, timeout=30).stdout
    for line in out.splitlines():
        if "libssl.so.3" in line and "=>" in line:
            return os.path.dirname(line.split("=>")[1].split()[0])
    pytest.skip("atriumd is not linked with libssl.so.3: %s" % out)


# Hides the development symlinks libssl.so and libcrypto.so (what libssl-dev
# installs) from the daemon: an overlay of the library directory in a mount
# namespace of its own, with those two names removed (a bind mount over a
# symlink would cover its target, the real library, instead). Then it
# execs the daemon, so that its PID is the daemon's.
HIDE = r'''
set -e
mount --make-rprivate /
t=$(mktemp -d)
mount -t tmpfs tmpfs "$t"
mkdir "$t/u" "$t/w"
mount -t overlay overlay -o "lowerdir=$LIB,upperdir=$t/u,workdir=$t/w" "$LIB"
rm -f "$LIB/libssl.so" "$LIB/libcrypto.so"
test ! -e "$LIB/libssl.so" && test ! -e "$LIB/libcrypto.so"
test -e "$LIB/libssl.so.3" && test -e "$LIB/libcrypto.so.3"
echo "[test] $LIB/libssl.so and libcrypto.so hidden" >&2
exec "$@"
'''


def test_https_without_the_development_libraries(atriumd_factory, tls_files, bucket_name):
    cert, key = tls_files
    lib = ssl_libdir()
    probe = subprocess.run(["unshare", "-m", "sh", "-c", HIDE, "sh", "true"],
                           env=dict(os.environ, LIB=lib), capture_output=True, timeout=30)
    if probe.returncode != 0:
        pytest.skip("cannot hide the libraries in a mount namespace here (unshare -m and an "
                    "overlay mount are needed): %s" % probe.stderr.decode(errors="replace"))
    d = atriumd_factory("sigv4", "tls-nodev", ["--tls-cert", cert, "--tls-key", key],
                        env=dict(os.environ, LIB=lib),
                        wrap=["unshare", "-m", "sh", "-c", HIDE, "sh"])
    assert "libcrypto.so hidden" in d.log_tail()
    s3 = d.boto3("alice")
    s3.create_bucket(Bucket=bucket_name)
    data = os.urandom(300 * 1024)
    s3.put_object(Bucket=bucket_name, Key="k", Body=data)
    assert s3.get_object(Bucket=bucket_name, Key="k")["Body"].read() == data
    assert curl(["--cacert", cert, d.endpoint + "/api/v1/health"]).status == 200


def test_sighup_reloads_the_certificate(atriumd_factory, tmp_path):
    certs = [self_signed(tmp_path, name, cn=name) for name in ("one", "two")]
    live_cert, live_key = str(tmp_path / "live.pem"), str(tmp_path / "live.key")
    import shutil
    shutil.copy(certs[0][0], live_cert)
    shutil.copy(certs[0][1], live_key)
    d = atriumd_factory("sigv4", "tls-reload", ["--tls-cert", live_cert, "--tls-key", live_key])

    def served_cn(cafile):
        ctx = ssl.create_default_context(cafile=cafile)
        with socket.create_connection(("127.0.0.1", d.port), timeout=10) as s:
            with ctx.wrap_socket(s, server_hostname="127.0.0.1") as t:
                return dict(x[0] for x in t.getpeercert()["subject"])["commonName"]
    assert served_cn(certs[0][0]) == "one"
    # Renewed in place (as certbot does), then SIGHUP: new handshakes get it.
    shutil.copy(certs[1][0], live_cert)
    shutil.copy(certs[1][1], live_key)
    import signal
    mark = d.log_size()
    os.kill(d.proc.pid, signal.SIGHUP)
    d.wait_log("tls: now serving certificate /CN=two", start=mark)
    assert served_cn(certs[1][0]) == "two"
    # A broken pair is refused and the current one stays.
    with open(live_key, "w") as f:
        f.write("not a key\n")
    mark = d.log_size()
    os.kill(d.proc.pid, signal.SIGHUP)
    d.wait_log("tls: kept the certificate loaded before", start=mark)
    assert served_cn(certs[1][0]) == "two"
