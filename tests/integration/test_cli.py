"""Real command-line clients against --auth sigv4: awscli, s3cmd, curl."""
import json
import os
import subprocess

import pytest

from s3util import USERS, curl, md5hex

AWS = "/usr/bin/aws"
S3CMD = "/usr/bin/s3cmd"


def run(cmd, env=None, timeout=120, check=True):
    p = subprocess.run(cmd, env=env, capture_output=True, timeout=timeout,
                       stdin=subprocess.DEVNULL)
    if check and p.returncode != 0:
        raise AssertionError("%s exited %d\nstdout: %s\nstderr: %s" % (
            " ".join(cmd), p.returncode, p.stdout.decode(errors="replace"),
            p.stderr.decode(errors="replace")))
    return p


# -- awscli -------------------------------------------------------------------

@pytest.fixture
def aws(sigv4_daemon, tmp_path):
    cfg = tmp_path / "aws-config"
    creds = tmp_path / "aws-credentials"
    cfg.write_text("")
    creds.write_text("")
    ak, sk, _ = USERS["alice"]
    env = {
        "PATH": "/usr/bin:/bin",
        "HOME": str(tmp_path),
        "LANG": "C.UTF-8",
        "AWS_ACCESS_KEY_ID": ak,
        "AWS_SECRET_ACCESS_KEY": sk,
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_CONFIG_FILE": str(cfg),
        "AWS_SHARED_CREDENTIALS_FILE": str(creds),
        "AWS_PAGER": "",
        "AWS_MAX_ATTEMPTS": "1",
    }

    def call(*args, check=True):
        return run([AWS, "--endpoint-url", sigv4_daemon.endpoint] + list(args),
                   env=env, check=check)
    return call


def test_awscli_s3api(aws, sigv4_daemon, bucket_name, tmp_path):
    aws("s3api", "create-bucket", "--bucket", bucket_name)
    assert os.path.isdir(os.path.join(sigv4_daemon.ufs, bucket_name))

    data = os.urandom(300 * 1024)
    src = tmp_path / "src.bin"
    src.write_bytes(data)
    out = json.loads(aws("s3api", "put-object", "--bucket", bucket_name, "--key",
                         "dir/obj.bin", "--body", str(src), "--content-type",
                         "application/x-test", "--metadata", "k1=v1").stdout)
    assert out["ETag"].strip('"') == md5hex(data)

    head = json.loads(aws("s3api", "head-object", "--bucket", bucket_name,
                          "--key", "dir/obj.bin").stdout)
    assert head["ContentLength"] == len(data)
    assert head["ETag"].strip('"') == md5hex(data)
    assert head["ContentType"] == "application/x-test"
    assert head["Metadata"] == {"k1": "v1"}

    dst = tmp_path / "dst.bin"
    got = json.loads(aws("s3api", "get-object", "--bucket", bucket_name, "--key",
                         "dir/obj.bin", str(dst)).stdout)
    assert got["ETag"].strip('"') == md5hex(data)
    assert dst.read_bytes() == data

    lst = json.loads(aws("s3api", "list-objects-v2", "--bucket", bucket_name).stdout)
    assert [(o["Key"], o["Size"]) for o in lst["Contents"]] == [("dir/obj.bin", len(data))]

    p = aws("s3api", "head-object", "--bucket", bucket_name, "--key", "nope", check=False)
    assert p.returncode != 0 and b"404" in p.stderr, p.stderr

    aws("s3api", "delete-object", "--bucket", bucket_name, "--key", "dir/obj.bin")
    lst = json.loads(aws("s3api", "list-objects-v2", "--bucket", bucket_name).stdout or b"{}")
    assert lst.get("Contents", []) == []
    aws("s3api", "delete-bucket", "--bucket", bucket_name)
    assert not os.path.exists(os.path.join(sigv4_daemon.ufs, bucket_name))


def test_awscli_s3_cp_ls_rm(aws, sigv4_daemon, bucket_name, tmp_path):
    aws("s3api", "create-bucket", "--bucket", bucket_name)
    data = os.urandom(1024 * 1024)
    src = tmp_path / "one-mib.bin"
    src.write_bytes(data)
    aws("s3", "cp", str(src), "s3://%s/up/one-mib.bin" % bucket_name)
    with open(os.path.join(sigv4_daemon.ufs, bucket_name, "up", "one-mib.bin"), "rb") as f:
        assert f.read() == data

    ls = aws("s3", "ls", "s3://%s/" % bucket_name).stdout.decode()
    assert "PRE up/" in ls, ls
    ls = aws("s3", "ls", "s3://%s/up/" % bucket_name).stdout.decode()
    assert "one-mib.bin" in ls and str(len(data)) in ls, ls
    ls = aws("s3", "ls", "--recursive", "s3://%s/" % bucket_name).stdout.decode()
    assert "up/one-mib.bin" in ls, ls

    dst = tmp_path / "down.bin"
    aws("s3", "cp", "s3://%s/up/one-mib.bin" % bucket_name, str(dst))
    assert dst.read_bytes() == data

    aws("s3", "rm", "s3://%s/up/one-mib.bin" % bucket_name)
    ls = aws("s3", "ls", "--recursive", "s3://%s/" % bucket_name, check=False).stdout.decode()
    assert "one-mib.bin" not in ls
    assert not os.path.exists(os.path.join(sigv4_daemon.ufs, bucket_name, "up", "one-mib.bin"))
    aws("s3", "rb", "s3://%s" % bucket_name)
    assert not os.path.exists(os.path.join(sigv4_daemon.ufs, bucket_name))


# -- s3cmd --------------------------------------------------------------------

@pytest.fixture
def s3cmd(sigv4_daemon, tmp_path):
    ak, sk, _ = USERS["alice"]
    cfg = tmp_path / "s3cfg"
    hp = "127.0.0.1:%d" % sigv4_daemon.port
    cfg.write_text("[default]\naccess_key = %s\nsecret_key = %s\nhost_base = %s\n"
                   "host_bucket = %s\nuse_https = False\nsignature_v2 = False\n"
                   "bucket_location = us-east-1\ncheck_ssl_certificate = False\n"
                   % (ak, sk, hp, hp))
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "LANG": "C.UTF-8"}

    def call(*args, check=True):
        return run([S3CMD, "-c", str(cfg), "--no-progress"] + list(args), env=env,
                   check=check)
    return call


def test_s3cmd(s3cmd, sigv4_daemon, bucket_name, tmp_path):
    s3cmd("mb", "s3://" + bucket_name)
    assert os.path.isdir(os.path.join(sigv4_daemon.ufs, bucket_name))
    data = os.urandom(200 * 1024 + 7)
    src = tmp_path / "s3cmd.bin"
    src.write_bytes(data)
    s3cmd("put", str(src), "s3://%s/p/s3cmd.bin" % bucket_name)
    with open(os.path.join(sigv4_daemon.ufs, bucket_name, "p", "s3cmd.bin"), "rb") as f:
        assert f.read() == data

    ls = s3cmd("ls", "s3://%s/" % bucket_name).stdout.decode()
    assert "s3://%s/p/" % bucket_name in ls, ls
    ls = s3cmd("ls", "s3://%s/p/" % bucket_name).stdout.decode()
    assert "s3://%s/p/s3cmd.bin" % bucket_name in ls and str(len(data)) in ls, ls
    ls = s3cmd("ls").stdout.decode()
    assert "s3://" + bucket_name in ls, ls

    dst = tmp_path / "back.bin"
    s3cmd("get", "s3://%s/p/s3cmd.bin" % bucket_name, str(dst))
    assert dst.read_bytes() == data

    s3cmd("del", "s3://%s/p/s3cmd.bin" % bucket_name)
    assert not os.path.exists(os.path.join(sigv4_daemon.ufs, bucket_name, "p", "s3cmd.bin"))
    s3cmd("rb", "s3://" + bucket_name)
    assert not os.path.exists(os.path.join(sigv4_daemon.ufs, bucket_name))


# -- curl --aws-sigv4 ---------------------------------------------------------

def curl_sigv4(user="alice", unsigned_payload_header=True):
    ak, sk, _ = USERS[user]
    args = ["--aws-sigv4", "aws:amz:us-east-1:s3", "--user", "%s:%s" % (ak, sk)]
    if unsigned_payload_header:
        # curl 7.88 does not send x-amz-content-sha256 by itself (S3 needs
        # it); adding it makes curl sign it too.
        args += ["-H", "x-amz-content-sha256: UNSIGNED-PAYLOAD"]
    return args


def test_curl7_sigv4_without_payload_header_refused(sigv4_daemon, bucket_name, tmp_path):
    """Plain `curl --aws-sigv4 aws:amz:us-east-1:s3 --user AK:SK` (curl 7.88)
    signs host;x-amz-date and the empty payload's hash whatever it uploads,
    and sends no x-amz-content-sha256: S3 answers 400 InvalidRequest, and so
    do we (the signature covers no body)."""
    d = sigv4_daemon
    src = tmp_path / "c.bin"
    src.write_bytes(b"body")
    for args in (["-X", "PUT", d.url("/" + bucket_name)],
                 ["-T", str(src), d.url("/%s/c.bin" % bucket_name)],
                 [d.url("/")]):
        r = curl(curl_sigv4(unsigned_payload_header=False) + args)
        assert (r.status, r.error_code()) == (400, "InvalidRequest"), r
        assert b"Missing required header for this request: x-amz-content-sha256" in r.body, r
    assert not os.path.exists(os.path.join(d.ufs, bucket_name))


def test_curl_sigv4_unsigned_payload_header(sigv4_daemon, bucket_name, tmp_path):
    d = sigv4_daemon
    for prefix in ["", "/api/v1/s3"]:
        b = bucket_name + ("-api" if prefix else "")
        base = d.url(prefix)
        r = curl(curl_sigv4() + ["-X", "PUT", "%s/%s" % (base, b)])
        assert r.status == 200, r
        data = os.urandom(64 * 1024)
        src = tmp_path / "c.bin"
        src.write_bytes(data)
        r = curl(curl_sigv4() + ["-T", str(src), "%s/%s/k/c.bin" % (base, b)])
        assert r.status == 200, r
        assert r.header("etag", "").strip('"') == md5hex(data), r
        r = curl(curl_sigv4() + ["%s/%s/k/c.bin" % (base, b)])
        assert r.status == 200, r
        assert r.body == data
        r = curl(curl_sigv4() + ["-X", "DELETE", "%s/%s/k/c.bin" % (base, b)])
        assert r.status == 204, r
        r = curl(curl_sigv4() + ["%s/%s/k/c.bin" % (base, b)])
        assert r.status == 404 and r.error_code() == "NoSuchKey", r
        r = curl(curl_sigv4() + ["-X", "DELETE", "%s/%s" % (base, b)])
        assert r.status == 204, r
        assert not os.path.exists(os.path.join(d.ufs, b))


def test_curl_expect_100_continue(sigv4_daemon, simple_daemon, bucket_name, tmp_path):
    data = os.urandom(2 * 1024 * 1024)
    src = tmp_path / "e.bin"
    src.write_bytes(data)
    # sigv4
    d = sigv4_daemon
    auth = curl_sigv4()
    r = curl(auth + ["-X", "PUT", d.url("/" + bucket_name)])
    assert r.status == 200, r
    r = curl(auth + ["-H", "Expect: 100-continue", "-T", str(src),
                     d.url("/%s/expect.bin" % bucket_name)])
    assert r.status == 200, r
    assert "100 Continue" in r.raw_headers, r.raw_headers
    assert r.header("etag", "").strip('"') == md5hex(data), r
    r = curl(auth + [d.url("/%s/expect.bin" % bucket_name)])
    assert r.body == data
    # simple mode, unsigned, through the Alluxio prefix
    s = simple_daemon
    r = curl(["-X", "PUT", s.url("/api/v1/s3/" + bucket_name)])
    assert r.status == 200, r
    r = curl(["-H", "Expect: 100-continue", "-T", str(src),
              s.url("/api/v1/s3/%s/expect.bin" % bucket_name)])
    assert r.status == 200, r
    assert "100 Continue" in r.raw_headers, r.raw_headers
    assert r.header("etag", "").strip('"') == md5hex(data), r
    with open(os.path.join(s.ufs, bucket_name, "expect.bin"), "rb") as f:
        assert f.read() == data
