"""`atrium` as the tools people know behave: getopt options (--opt=value),
TLS trust (--cacert, --insecure, the CA variables), profiles in
~/.atrium/{credentials,config}, a progress line on a terminal only,
du --json, head/tail, cp, and fs load that says when the cache is too
small. User management end to end is test_users.py."""
import json
import os
import subprocess

from s3util import USERS, md5hex, self_signed
from test_cli_admin import cli, ok

ATRIUM = os.environ.get("ATRIUM") or os.path.abspath(
    os.path.join(os.path.dirname(__file__), "..", "..", "bin", "atrium"))


def on_a_tty(daemon, *args, user="alice"):
    """Runs atrium under script(1): its stdout and stderr are a terminal.
    Returns everything written there."""
    ak, sk, _ = USERS[user]
    env = {"PATH": "/usr/bin:/bin", "LANG": "C.UTF-8", "TERM": "dumb",
           "ATRIUM_ENDPOINT": daemon.endpoint, "AWS_ACCESS_KEY_ID": ak,
           "AWS_SECRET_ACCESS_KEY": sk}
    for k in ("ASAN_OPTIONS", "UBSAN_OPTIONS", "LSAN_OPTIONS"):
        if k in os.environ:
            env[k] = os.environ[k]
    cmd = " ".join([ATRIUM] + ["'%s'" % a for a in args])
    p = subprocess.run(["script", "-qefc", cmd, "/dev/null"], env=env, capture_output=True,
                       timeout=120, stdin=subprocess.DEVNULL)
    return p.returncode, p.stdout.decode("utf-8", "replace")


def test_options_as_getopt_takes_them(sigv4_daemon, bucket_name):
    d = sigv4_daemon
    s3 = d.boto3("alice")
    s3.create_bucket(Bucket=bucket_name)
    s3.put_object(Bucket=bucket_name, Key="dir/a", Body=b"0123456789")
    b = "/" + bucket_name
    # --opt=value for global and command options, flags after the path.
    out = ok(cli(d, "--endpoint=" + d.endpoint, "--region=us-east-1", "fs", "ls", b + "/dir",
                 "--json", env={"ATRIUM_ENDPOINT": "http://127.0.0.1:1"}))
    assert json.loads(out)["path"] == b + "/dir/a"
    assert ok(cli(d, "fs", "head", "--bytes=4", b + "/dir/a")) == "0123"
    assert ok(cli(d, "fs", "head", "-c", "4", b + "/dir/a")) == "0123"
    assert ok(cli(d, "fs", "tail", "-c3", b + "/dir/a")) == "789"
    assert ok(cli(d, "fs", "tail", b + "/dir/a")) == "0123456789"  # 1KB by default
    assert ok(cli(d, "fs", "ls", "-Rh", b)) == ok(cli(d, "fs", "ls", "--recursive", "-h", b))
    p = cli(d, "fs", "head", "-c", "lots", b + "/dir/a")
    assert p.returncode == 2 and "usage:" in p.err
    p = cli(d, "fs", "head", "-c")
    assert p.returncode == 2 and "needs a value" in p.err
    p = cli(d, "--endpoint")
    assert p.returncode == 2
    # "--" ends the options: a path that starts with '-' is an argument.
    p = cli(d, "fs", "ls", "--", "-x")
    assert p.returncode == 1 and "-x" in p.err and "usage" not in p.err


def test_du_json(sigv4_daemon, bucket_name):
    d = sigv4_daemon
    s3 = d.boto3("alice")
    s3.create_bucket(Bucket=bucket_name)
    s3.put_object(Bucket=bucket_name, Key="a", Body=b"x" * 100)
    s3.put_object(Bucket=bucket_name, Key="d/b", Body=b"y" * 50)
    b = "/" + bucket_name
    ok(cli(d, "fs", "load", b + "/a"))
    rows = [json.loads(l) for l in ok(cli(d, "fs", "du", "--json", b)).splitlines()]
    assert rows == [
        {"path": b + "/a", "size": 100, "in_cache_bytes": 100, "in_cache_percent": 100},
        {"path": b + "/d/b", "size": 50, "in_cache_bytes": 0, "in_cache_percent": 0},
    ]
    total = json.loads(ok(cli(d, "fs", "du", "-s", "--json", b)))
    assert total == {"path": b, "size": 150, "in_cache_bytes": 100, "in_cache_percent": 66,
                     "files": 2}


def test_tls_trust(atriumd_factory, tmp_path):
    cert, key = self_signed(tmp_path)
    d = atriumd_factory("sigv4", "cli-tls", ["--tls-cert", cert, "--tls-key", key])
    assert d.endpoint.startswith("https://")
    # Unknown CA: refused, with what to do about it.
    p = cli(d, "fs", "ls", "/")
    assert p.returncode == 1 and "--cacert" in p.err, p.err
    ok(cli(d, "--cacert", cert, "fs", "ls", "/"))
    ok(cli(d, "--cacert=" + cert, "fs", "mkdir", "/cli-tls-bucket"))
    for var in ("AWS_CA_BUNDLE", "CURL_CA_BUNDLE", "SSL_CERT_FILE"):
        ok(cli(d, "fs", "ls", "/", env={var: cert}))
    ok(cli(d, "--insecure", "fs", "ls", "/"))
    ok(cli(d, "-k", "report"))
    # The profile's ca_bundle (~/.atrium/config).
    home = tmp_path / "home"
    (home / ".atrium").mkdir(parents=True)
    (home / ".atrium" / "config").write_text("[default]\nca_bundle = %s\n" % cert)
    ok(cli(d, "fs", "ls", "/", home=home))


def write_profiles(home, endpoint):
    a = home / ".atrium"
    a.mkdir(parents=True, exist_ok=True)
    creds = a / "credentials"
    ak, sk, _ = USERS["alice"]
    bk, bs, _ = USERS["bob"]
    creds.write_text("[default]\naws_access_key_id = %s\naws_secret_access_key = %s\n\n"
                     "[bob]\naws_access_key_id=%s\naws_secret_access_key=%s\n" % (ak, sk, bk, bs))
    creds.chmod(0o600)
    (a / "config").write_text("[default]\nendpoint_url = %s\nregion = us-east-1\n"
                              "[profile bob]\nendpoint_url = %s\n" % (endpoint, endpoint))


def test_profiles(sigv4_daemon, bucket_name, tmp_path):
    d = sigv4_daemon
    home = tmp_path / "home"
    write_profiles(home, d.endpoint)
    # No keys and no endpoint in the environment: all from the files.
    ok(cli(None, "fs", "mkdir", "/" + bucket_name, user=None, home=home))
    rows = [json.loads(l) for l in ok(cli(None, "fs", "ls", "--json", "/", user=None,
                                          home=home)).splitlines()]
    assert [r["owner"] for r in rows if r["path"] == "/" + bucket_name] == ["alice"]
    # --profile bob: bob's keys, even with alice's in the environment.
    bobs = "/%s-bob" % bucket_name[:40]
    ok(cli(None, "--profile", "bob", "fs", "mkdir", bobs, home=home))

    def listed_as(**kw):
        """The buckets a root listing shows (only the caller's own), and
        their owners."""
        rows = [json.loads(l) for l in ok(cli(None, "fs", "ls", "--json", "/",
                                              home=home, **kw)).splitlines()]
        return {r["path"] for r in rows}, {r["owner"] for r in rows}
    rows = [json.loads(l) for l in ok(cli(None, "--profile=bob", "fs", "ls", "--json", "/",
                                          user=None, home=home)).splitlines()]
    assert bobs in [r["path"] for r in rows] and {r["owner"] for r in rows} == {"bob"}
    # $ATRIUM_PROFILE picks the default one.
    paths, owners = listed_as(user=None, env={"ATRIUM_PROFILE": "bob"})
    assert bobs in paths and owners == {"bob"}
    # Keys in the environment win over the default profile.
    paths, owners = listed_as(user="bob")
    assert bobs in paths and owners == {"bob"}
    p = cli(None, "--profile", "nobody", "fs", "ls", "/", home=home)
    assert p.returncode == 1 and "no profile [nobody]" in p.err
    (home / ".atrium" / "credentials").chmod(0o644)
    p = cli(None, "fs", "ls", "/", user=None, home=home)
    assert p.returncode == 1 and "chmod 600" in p.err


def test_progress_only_on_a_terminal(sigv4_daemon, bucket_name):
    d = sigv4_daemon
    s3 = d.boto3("alice")
    s3.create_bucket(Bucket=bucket_name)
    for i in range(5):
        s3.put_object(Bucket=bucket_name, Key="d/f%d" % i, Body=os.urandom(10000))
    b = "/" + bucket_name
    rc, tty = on_a_tty(d, "fs", "load", b)
    assert rc == 0, tty
    assert "loading [" in tty and "5/5 files" in tty and "\r" in tty, repr(tty)
    assert "%s loaded into the cache (files: 5" % b in tty
    # Not a terminal: exactly the summary line, nothing else.
    p = cli(d, "fs", "free", b)
    p = cli(d, "fs", "load", b)
    assert p.returncode == 0 and p.err == "" and p.out.count("\n") == 1, (p.out, p.err)
    assert "loading [" not in p.out + p.err
    # --verbose: a line per file, terminal or not.
    p = cli(d, "fs", "persist", "--verbose", b)
    assert ok(p).count("is PERSISTED") == 6 and "[" not in p.err, (p.out, p.err)
    rc, tty = on_a_tty(d, "fs", "rm", "-R", "--verbose", b + "/d")
    assert rc == 0 and tty.count("has been removed") == 6 and "removing [" in tty, repr(tty)


def test_load_past_the_cache_capacity(atriumd_factory, bucket_name):
    d = atriumd_factory("sigv4", "small-cache", ["--cache-mem", "1M"])
    s3 = d.boto3("alice")
    s3.create_bucket(Bucket=bucket_name)
    for i in range(3):
        s3.put_object(Bucket=bucket_name, Key="big/f%d" % i, Body=os.urandom(600 * 1024))
    s3.put_object(Bucket=bucket_name, Key="small", Body=b"s" * 1000)
    b = "/" + bucket_name
    ok(cli(d, "fs", "load", b + "/small"))
    p = cli(d, "fs", "load", b + "/big")
    assert p.returncode == 1, (p.out, p.err)
    assert "loaded into the cache (files: 3" in p.out
    assert "did not fit in the cache (capacity 1024.00KB)" in p.err, p.err
    assert "of 3 file(s) are in it whole" in p.err


def test_cp_in_every_direction(sigv4_daemon, bucket_name, tmp_path):
    d = sigv4_daemon
    s3 = d.boto3("alice")
    s3.create_bucket(Bucket=bucket_name)
    b = "/" + bucket_name
    src = tmp_path / "src"
    (src / "sub").mkdir(parents=True)
    files = {"one.bin": os.urandom(70000), "sub/two.txt": b"two\n", "sub/three": b""}
    for rel, data in files.items():
        (src / rel).write_bytes(data)
    # local -> namespace, a tree
    out = ok(cli(d, "fs", "cp", "-R", "file://" + str(src), b + "/up"))
    assert "files: 3" in out
    for rel, data in files.items():
        assert s3.get_object(Bucket=bucket_name, Key="up/" + rel)["Body"].read() == data
    # namespace -> namespace (CopyObject), a file into a directory, then a tree
    ok(cli(d, "fs", "mkdir", b + "/copies"))
    ok(cli(d, "fs", "cp", b + "/up/one.bin", b + "/copies"))
    assert s3.get_object(Bucket=bucket_name, Key="copies/one.bin")["Body"].read() == \
        files["one.bin"]
    ok(cli(d, "fs", "cp", "-R", b + "/up", b + "/again"))
    assert s3.get_object(Bucket=bucket_name, Key="again/sub/two.txt")["Body"].read() == b"two\n"
    # namespace -> local, a tree, and a directory without -R refused
    down = tmp_path / "down"
    ok(cli(d, "fs", "cp", "--recursive", b + "/again", "file://" + str(down)))
    for rel, data in files.items():
        assert (down / rel).read_bytes() == data
    p = cli(d, "fs", "cp", b + "/again", "file://" + str(tmp_path / "x"))
    assert p.returncode == 1 and "use cp -R" in p.err
    one = tmp_path / "one.copy"
    ok(cli(d, "fs", "cp", b + "/copies/one.bin", "file://" + str(one)))
    assert md5hex(one.read_bytes()) == md5hex(files["one.bin"])
    p = cli(d, "fs", "cp", "file:///a", "file:///b")
    assert p.returncode == 2
