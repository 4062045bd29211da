"""The third door: the admin API (/api/v1/...), `bin/atrium` on top of it,
metrics in Prometheus' text format and the access log.

Objects are written over S3 (boto3, raw requests) and looked at through
`atrium fs ...`; numbers are checked against what the test itself wrote.
"""
import datetime
import http.client
import json
import os
import re
import subprocess

from urllib.parse import quote

import pytest

from s3util import USERS, md5hex, sign_v4

ATRIUM = os.environ.get("ATRIUM") or os.path.abspath(
    os.path.join(os.path.dirname(__file__), "..", "..", "bin", "atrium"))

LS_RE = re.compile(
    r"^(?P<perm>[d-][rwx-]{9})  (?P<owner>\S+) +(?P<group>\S+) +(?P<size>\S+)  "
    r"(?P<state>[A-Z_]+) +(?P<date>\d\d-\d\d-\d{4} \d\d:\d\d:\d\d:\d{3})  "
    r"(?P<cache>DIR|\d+%) +(?P<path>/.*)$")


@pytest.fixture(scope="module", autouse=True)
def _cli_built():
    if not os.access(ATRIUM, os.X_OK):
        pytest.fail("ATRIUM=%s is not an executable (run `make` first)" % ATRIUM)


def cli(daemon, *args, user="alice", env=None, home=None, timeout=60):
    """Runs bin/atrium against daemon (None: no endpoint in the environment)
    as user (None: unsigned), with HOME (None: unset)."""
    e = {"PATH": "/usr/bin:/bin", "LANG": "C.UTF-8", "TZ": "UTC"}
    if daemon is not None:
        e["ATRIUM_ENDPOINT"] = daemon.endpoint
    if home:
        e["HOME"] = str(home)
    for k in ("ASAN_OPTIONS", "UBSAN_OPTIONS", "LSAN_OPTIONS"):
        if k in os.environ:
            e[k] = os.environ[k]
    if user:
        ak, sk, _ = USERS[user]
        e["AWS_ACCESS_KEY_ID"] = ak
        e["AWS_SECRET_ACCESS_KEY"] = sk
    e.update(env or {})
    p = subprocess.run([ATRIUM] + list(args), env=e, capture_output=True, timeout=timeout,
                       stdin=subprocess.DEVNULL)
    p.out = p.stdout.decode("utf-8", "replace")
    p.err = p.stderr.decode("utf-8", "replace")
    return p


def ok(p):
    assert p.returncode == 0, "exit %d\nstdout: %s\nstderr: %s" % (p.returncode, p.out, p.err)
    return p.out


def ls_rows(out):
    rows = []
    for line in out.splitlines():
        m = LS_RE.match(line)
        assert m, "not an fs ls line: %r" % line
        rows.append(m.groupdict())
    return rows


def ls_json(daemon, path, *flags, user="alice"):
    out = ok(cli(daemon, "fs", "ls", "--json", *flags, path, user=user))
    return {e["path"]: e for e in (json.loads(line) for line in out.splitlines())}


def alluxio_date(ns):
    t = datetime.datetime.fromtimestamp(ns // 1_000_000_000, datetime.timezone.utc)
    return t.strftime("%m-%d-%Y %H:%M:%S") + ":%03d" % (ns // 1_000_000 % 1000)


def report(daemon, user="alice"):
    return json.loads(ok(cli(daemon, "report", "--json", user=user)))


def q(path):
    return quote(path, safe="")


class Session:
    """Signed requests on one keep-alive connection. The daemon serves them
    in order on one worker thread, so whatever a request records after its
    response (metrics, the access log) is done before the next one is read:
    no race between traffic and a scrape."""

    def __init__(self, daemon, user="alice"):
        self.port = daemon.port
        self.keys = daemon.keys(user) if user else None
        self.conn = http.client.HTTPConnection("127.0.0.1", daemon.port, timeout=30)

    def request(self, method, path, body=b""):
        headers = {}
        if self.keys:
            headers = sign_v4(method, "http://127.0.0.1:%d%s" % (self.port, path), {}, body,
                              *self.keys)
        self.conn.request(method, path, body=body, headers=headers)
        r = self.conn.getresponse()
        return r.status, r.getheader("content-type"), r.read()

    def close(self):
        self.conn.close()


# -- fs ls ------------------------------------------------------------------

def test_ls_shows_objects_written_over_s3(sigv4_daemon, bucket_name):
    s3 = sigv4_daemon.boto3("alice")
    s3.create_bucket(Bucket=bucket_name)
    body = os.urandom(27040)
    s3.put_object(Bucket=bucket_name, Key="dir/key1", Body=body)
    s3.put_object(Bucket=bucket_name, Key="top.txt", Body=b"hello")
    s3.put_object(Bucket=bucket_name, Key="marker/", Body=b"")

    out = ok(cli(sigv4_daemon, "fs", "ls", "-R", "/" + bucket_name))
    rows = ls_rows(out)
    b = "/" + bucket_name
    assert [r["path"] for r in rows] == [b + "/dir", b + "/dir/key1", b + "/marker", b + "/top.txt"]
    by = {r["path"]: r for r in rows}
    f = by[b + "/dir/key1"]
    # private by default: the object 0600, its directories (the implied
    # dir/ like the bucket, the marker as made) 0700
    assert (f["perm"], f["owner"], f["size"], f["state"], f["cache"]) == \
        ("-rw-------", "alice", "27040", "PERSISTED", "0%")
    # the date is the file's own mtime, to the millisecond
    st = os.stat(os.path.join(sigv4_daemon.ufs, bucket_name, "dir", "key1"))
    assert f["date"] == alluxio_date(st.st_mtime_ns)
    for d in (b + "/dir", b + "/marker"):
        assert (by[d]["perm"], by[d]["cache"], by[d]["size"]) == ("drwx------", "DIR", "0")
    assert by[b + "/top.txt"]["size"] == "5"
    # aligned: every column starts at the same offset on every line
    lines = out.splitlines()
    for col in ("PERSISTED", b + "/"):
        assert len({line.index(col) for line in lines}) == 1, out

    # The bucket itself, from the root; -h for human sizes.
    root = ls_rows(ok(cli(sigv4_daemon, "fs", "ls", "/")))
    mine = [r for r in root if r["path"] == b]
    assert mine and mine[0]["owner"] == "alice" and mine[0]["cache"] == "DIR"
    human = {r["path"]: r for r in ls_rows(ok(cli(sigv4_daemon, "fs", "ls", "-h", b + "/dir")))}
    assert human[b + "/dir/key1"]["size"] == "26.41KB"
    # A file lists as itself.
    one = ls_rows(ok(cli(sigv4_daemon, "fs", "ls", b + "/top.txt")))
    assert [r["path"] for r in one] == [b + "/top.txt"]


def test_ls_owner_is_the_writer(sigv4_daemon, bucket_name):
    bob = sigv4_daemon.boto3("bob")
    bob.create_bucket(Bucket=bucket_name)
    bob.put_object(Bucket=bucket_name, Key="k", Body=b"x")
    # bob's bucket is his alone until he opens it
    p = cli(sigv4_daemon, "fs", "ls", "/" + bucket_name, user="alice")
    assert p.returncode == 1 and "AccessDenied" in p.err
    bob.put_bucket_acl(Bucket=bucket_name, ACL="public-read")
    rows = ls_rows(ok(cli(sigv4_daemon, "fs", "ls", "/" + bucket_name, user="alice")))
    assert [(r["path"], r["owner"]) for r in rows] == [("/%s/k" % bucket_name, "bob")]


def test_ls_pages_and_json(sigv4_daemon, bucket_name):
    s3 = sigv4_daemon.boto3("alice")
    s3.create_bucket(Bucket=bucket_name)
    keys = ["a-b", "a/c", "a/d/e", "b", "c/", "c/x y+z%"]
    for k in keys:
        s3.put_object(Bucket=bucket_name, Key=k, Body=b"" if k.endswith("/") else k.encode())
    b = "/" + bucket_name
    whole = ok(cli(sigv4_daemon, "fs", "ls", "-R", b))
    paged = ok(cli(sigv4_daemon, "fs", "ls", "-R", b, env={"ATRIUM_LIST_PAGE": "2"}))
    assert paged == whole
    # S3's order: "a-b" before "a/..."
    assert [r["path"] for r in ls_rows(whole)] == [
        b + "/a-b", b + "/a", b + "/a/c", b + "/a/d", b + "/a/d/e", b + "/b", b + "/c",
        b + "/c/x y+z%"]

    entries = ls_json(sigv4_daemon, b, "-R")
    f = entries[b + "/c/x y+z%"]
    assert f["type"] == "file" and f["size"] == len("c/x y+z%")
    assert f["owner"] == "alice" and f["permissions"] == "-rw-------" and f["mode"] == "600"
    assert f["persistence_state"] == "PERSISTED" and f["in_cache_percent"] == 0
    assert f["etag"] == md5hex(b"c/x y+z%")
    assert entries[b + "/a/d"]["type"] == "directory"
    assert re.match(r"^\d\d-\d\d-\d{4} \d\d:\d\d:\d\d:\d{3}$", f["last_modified"])


def test_list_pages_are_capped(sigv4_daemon, bucket_name):
    """A list page is built whole in memory: any user asking for 10,000
    entries gets at most 1,000 and a cursor; the CLI still pages through
    everything, whatever page size it asks for."""
    d = sigv4_daemon
    d.boto3("alice").create_bucket(Bucket=bucket_name)
    # Files made behind the daemon's back: metadata sync finds them (fast).
    names = ["f%05d" % i for i in range(1203)]
    for n in names:
        with open(os.path.join(d.ufs, bucket_name, n), "wb") as f:
            f.write(b"x")
    path = "/api/v1/fs/list?recursive=1&max=10000&path=" + q("/" + bucket_name)
    got, start, pages = [], None, 0
    while True:
        r = d.request("GET", path + ("&start=" + q(start) if start else ""), user="admin")
        assert r.status == 200, r
        page = json.loads(r.body)
        pages += 1
        assert len(page["entries"]) <= 1000, len(page["entries"])
        got += [e["path"] for e in page["entries"]]
        if not page["truncated"]:
            assert page["next"] == ""
            break
        assert len(page["entries"]) == 1000 and page["next"], page["next"]
        start = page["next"]
    assert pages == 2
    assert got == ["/%s/%s" % (bucket_name, n) for n in names]
    r = d.request("GET", "/api/v1/fs/list?max=abc&path=%2F", user="alice")
    assert r.status == 400 and json.loads(r.body)["error"] == "InvalidArgument"
    for page_size in ("10000", "1000", "7"):
        out = ok(cli(d, "fs", "ls", "-R", "/" + bucket_name, user="admin",
                     env={"ATRIUM_LIST_PAGE": page_size}))
        assert [r["path"] for r in ls_rows(out)] == got, page_size


# -- cache ------------------------------------------------------------------

def test_load_and_free_move_the_cache_column_and_report(sigv4_daemon, bucket_name):
    s3 = sigv4_daemon.boto3("alice")
    s3.create_bucket(Bucket=bucket_name)
    size = 3 * 1024 * 1024 + 17  # four blocks, the last one short
    s3.put_object(Bucket=bucket_name, Key="big", Body=os.urandom(size))
    path = "/%s/big" % bucket_name

    def pct():
        return ls_json(sigv4_daemon, path)[path]["in_cache_percent"]

    before = report(sigv4_daemon)
    assert pct() == 0
    out = ok(cli(sigv4_daemon, "fs", "load", path))
    assert "loaded" in out
    assert pct() == 100
    loaded = report(sigv4_daemon)
    assert loaded["cache"]["used"] - before["cache"]["used"] == size
    assert loaded["cache"]["misses"] - before["cache"]["misses"] == 4
    assert loaded["cache"]["tiers"][0]["used"] == loaded["cache"]["used"]
    ls = ls_rows(ok(cli(sigv4_daemon, "fs", "ls", path)))
    assert ls[0]["cache"] == "100%"

    # A GET now hits the cache.
    s3.get_object(Bucket=bucket_name, Key="big")["Body"].read()
    hit = report(sigv4_daemon)
    assert hit["cache"]["hits"] - loaded["cache"]["hits"] == 4

    out = ok(cli(sigv4_daemon, "fs", "free", path))
    assert "freed" in out
    assert pct() == 0
    freed = report(sigv4_daemon)
    assert loaded["cache"]["used"] - freed["cache"]["used"] == size
    assert ls_rows(ok(cli(sigv4_daemon, "fs", "ls", path)))[0]["cache"] == "0%"

    # A directory: every file below it.
    s3.put_object(Bucket=bucket_name, Key="d/x", Body=b"12345")
    out = ok(cli(sigv4_daemon, "fs", "load", "/" + bucket_name))
    assert "(files: 2, bytes: %d)" % (size + 5) in out
    assert ls_json(sigv4_daemon, "/%s/d/x" % bucket_name)["/%s/d/x" % bucket_name][
        "in_cache_percent"] == 100
    ok(cli(sigv4_daemon, "fs", "free", "/" + bucket_name))
    assert pct() == 0
    # persist: the local under-storage already has everything
    out = ok(cli(sigv4_daemon, "fs", "persist", "/" + bucket_name))
    assert "PERSISTED" in out


def test_report_counts(sigv4_daemon, bucket_name):
    r0 = report(sigv4_daemon)
    s3 = sigv4_daemon.boto3("alice")
    s3.create_bucket(Bucket=bucket_name)
    s3.put_object(Bucket=bucket_name, Key="a/b", Body=b"123")
    r1 = report(sigv4_daemon)
    assert r1["namespace"]["files"] - r0["namespace"]["files"] == 1
    assert r1["namespace"]["bytes"] - r0["namespace"]["bytes"] == 3
    assert r1["namespace"]["directories"] - r0["namespace"]["directories"] == 1
    assert r1["version"] and r1["auth"] == "sigv4" and r1["uptime_ms"] >= r0["uptime_ms"]
    assert r1["cache"]["capacity"] == 256 * 1024 * 1024
    text = ok(cli(sigv4_daemon, "report"))
    for needle in ("Version:", "Uptime:", "Capacity: 256.00MB", "Hit ratio:", "Files:",
                   "Uploads in progress:"):
        assert needle in text
    # uploads in progress: one more while a multipart upload is open
    try:
        up = s3.create_multipart_upload(Bucket=bucket_name, Key="mpu")["UploadId"]
    except Exception as e:  # noqa: BLE001 - the multipart issue may not be there yet
        pytest.skip("multipart uploads not available: %s" % e)
    r2 = report(sigv4_daemon)
    assert r2["uploads_in_progress"] - r1["uploads_in_progress"] == 1
    s3.abort_multipart_upload(Bucket=bucket_name, Key="mpu", UploadId=up)
    assert report(sigv4_daemon)["uploads_in_progress"] == r1["uploads_in_progress"]


# -- the other fs commands ---------------------------------------------------

def test_fs_commands(sigv4_daemon, bucket_name, tmp_path):
    d = sigv4_daemon
    b = "/" + bucket_name
    assert "Successfully created directory" in ok(cli(d, "fs", "mkdir", b))
    ok(cli(d, "fs", "mkdir", b + "/x/y"))
    assert os.path.isdir(os.path.join(d.ufs, bucket_name, "x", "y"))
    p = cli(d, "fs", "mkdir", b + "/x")
    assert p.returncode == 1 and "already exists" in p.err

    data = os.urandom(200 * 1024)
    src = tmp_path / "local.bin"
    src.write_bytes(data)
    ok(cli(d, "fs", "put", str(src), b + "/x/y"))           # into the directory
    s3 = d.boto3("alice")
    assert s3.get_object(Bucket=bucket_name, Key="x/y/local.bin")["Body"].read() == data
    assert ok(cli(d, "fs", "checksum", b + "/x/y/local.bin")) == "md5sum: %s\n" % md5hex(data)
    cat = cli(d, "fs", "cat", b + "/x/y/local.bin")
    assert cat.returncode == 0 and cat.stdout == data
    dst = tmp_path / "back.bin"
    ok(cli(d, "fs", "get", b + "/x/y/local.bin", str(dst)))
    assert dst.read_bytes() == data
    p = cli(d, "fs", "cat", b + "/x")
    assert p.returncode == 1 and "is a directory" in p.err

    st = json.loads(ok(cli(d, "fs", "stat", "--json", b + "/x/y/local.bin")))
    assert st["size"] == len(data) and st["owner"] == "alice"
    assert "is a file path" in ok(cli(d, "fs", "stat", b + "/x/y/local.bin"))
    assert "is a directory path" in ok(cli(d, "fs", "stat", b + "/x"))

    du = ok(cli(d, "fs", "du", "-s", b)).splitlines()
    assert du[1].split()[0] == str(len(data)) and du[1].split()[-1] == b
    count = ok(cli(d, "fs", "count", b)).splitlines()
    assert count[1].split() == ["1", "3", str(len(data))]  # the bucket, x, x/y

    # mv keeps the inode; S3 sees the object at its new key only
    ino = st["inode"]
    ok(cli(d, "fs", "mv", b + "/x/y/local.bin", b + "/moved.bin"))
    assert json.loads(ok(cli(d, "fs", "stat", "--json", b + "/moved.bin")))["inode"] == ino
    assert s3.get_object(Bucket=bucket_name, Key="moved.bin")["Body"].read() == data
    r = d.request("GET", "/%s/x/y/local.bin" % bucket_name, user="alice")
    assert r.status == 404
    ok(cli(d, "fs", "mv", b + "/x", b + "/z"))
    assert os.path.isdir(os.path.join(d.ufs, bucket_name, "z", "y"))

    # chmod is the mode S3 reads are checked against
    ok(cli(d, "fs", "chmod", "600", b + "/moved.bin"))
    assert ls_rows(ok(cli(d, "fs", "ls", b + "/moved.bin")))[0]["perm"] == "-rw-------"
    assert d.request("GET", "/%s/moved.bin" % bucket_name, user="bob").status == 403
    p = cli(d, "fs", "chmod", "644", b + "/moved.bin", user="bob")
    assert p.returncode == 1 and "AccessDenied" in p.err
    p = cli(d, "fs", "chown", "bob", b + "/moved.bin")
    assert p.returncode == 1 and "permission denied" in p.err
    if os.getuid() == 0:  # the USERS admin is "root", the daemon's own user
        ok(cli(d, "fs", "chmod", "755", b))  # others may reach into the bucket now
        ok(cli(d, "fs", "chown", "bob", b + "/moved.bin", user="admin"))
        assert ls_rows(ok(cli(d, "fs", "ls", b + "/moved.bin", user="bob")))[0]["owner"] == "bob"
        # not alice's to read any more (0600): like S3 HEAD, stat needs read permission
        assert cli(d, "fs", "ls", b + "/moved.bin").returncode == 1
        assert d.request("GET", "/%s/moved.bin" % bucket_name, user="bob").status == 200

    p = cli(d, "fs", "rm", b + "/z")
    assert p.returncode == 1 and "rm -R" in p.err
    assert "has been removed" in ok(cli(d, "fs", "rm", "-R", b + "/z"))
    assert not os.path.exists(os.path.join(d.ufs, bucket_name, "z"))
    ok(cli(d, "fs", "rm", "-R", b))
    assert d.request("HEAD", "/" + bucket_name, user="alice").status == 404


# -- errors and exit codes -----------------------------------------------------

def test_errors_and_exit_codes(sigv4_daemon, bucket_name):
    d = sigv4_daemon
    p = cli(d, "fs", "ls", "/%s/nothing" % bucket_name)
    assert p.returncode == 1 and "does not exist" in p.err and p.out == ""
    d.boto3("alice").create_bucket(Bucket=bucket_name)
    p = cli(d, "fs", "ls", "/%s/nothing" % bucket_name)
    assert p.returncode == 1 and "/%s/nothing does not exist" % bucket_name in p.err
    p = cli(d, "fs", "stat", "/%s/a/../b" % bucket_name)
    assert p.returncode == 1 and "InvalidPath" in p.err

    for args in (["bogus"], ["fs", "frob", "/"], ["fs", "ls", "-x", "/"], ["fs", "ls"],
                 ["fs", "mv", "/a"], ["--nope"], [], ["fs"], ["fs", "chmod", "9z", "/a"],
                 ["report", "extra"], ["fs", "ls", "--jsonx", "/"]):
        p = cli(d, *args)
        assert p.returncode == 2, (args, p.out, p.err)
        assert "usage:" in p.err, (args, p.err)

    top = ok(cli(d, "--help"))
    fs = ok(cli(d, "fs", "--help"))
    for c in ("ls", "stat", "cat", "du", "count", "mkdir", "rm", "mv", "put", "get",
              "checksum", "chmod", "chown", "load", "free", "persist"):
        assert re.search(r"^  fs %s " % c, top, re.M), c
        assert re.search(r"^  %s " % c, fs, re.M), c
    assert "report" in top
    assert "usage: atrium fs ls" in ok(cli(d, "fs", "ls", "--help"))

    p = cli(d, "fs", "ls", "/", env={"ATRIUM_ENDPOINT": "http://127.0.0.1:1"})
    assert p.returncode == 1 and "cannot reach" in p.err
    p = cli(d, "fs", "ls", "/", env={"AWS_SECRET_ACCESS_KEY": "wrong"})
    assert p.returncode == 1 and "SignatureDoesNotMatch" in p.err
    p = cli(d, "fs", "ls", "/", user=None)
    assert p.returncode == 1 and "AccessDenied" in p.err
    # the endpoint flag wins over the environment
    ok(cli(d, "--endpoint", d.endpoint, "fs", "ls", "/",
           env={"ATRIUM_ENDPOINT": "http://127.0.0.1:1"}))


def test_admin_api_auth_and_errors(sigv4_daemon, bucket_name):
    d = sigv4_daemon
    assert d.request("GET", "/api/v1/health").status == 200          # open
    for path in ("/api/v1/metrics", "/api/v1/report", "/api/v1/fs/list?path=%2F"):
        r = d.request("GET", path)
        assert r.status == 403, (path, r)
        assert json.loads(r.body)["error"] == "AccessDenied"
        assert d.request("GET", path, user="alice").status == 200
    r = d.request("GET", "/api/v1/nope", user="alice")
    assert r.status == 404 and json.loads(r.body)["error"] == "NoSuchEndpoint"
    r = d.request("GET", "/api/v1/fs/mkdir?path=%2Fx", user="alice")
    assert r.status == 405
    r = d.request("GET", "/api/v1/fs/list", user="alice")
    assert r.status == 400 and "path" in json.loads(r.body)["message"]
    r = d.request("GET", "/api/v1/fs/list?max=0&path=%2F", user="alice")
    assert r.status == 400
    r = d.request("POST", "/api/v1/fs/mkdir?path=" + q("/" + bucket_name), body=b"x",
                  user="alice")
    assert r.status == 400
    r = d.request("GET", "/api/v1/fs/stat?path=" + q("/" + bucket_name), user="alice")
    assert r.status == 404 and json.loads(r.body)["error"] == "NotFound"
    assert r.header("x-request-id")
    # S3 is still S3 under /api/v1/s3
    assert d.request("GET", "/api/v1/s3/", user="alice").status == 200


def test_admin_api_refuses_sigv2(sigv4_daemon, bucket_name):
    """SigV2 signs neither the query (where the admin API's path=, mode=,
    owner= are) nor a body hash: a captured admin request could be replayed
    for 15 minutes with any arguments. The admin API takes SigV4 only (it
    covers the whole request); the CLI signs SigV4."""
    import base64
    import email.utils
    import hashlib
    import hmac
    from s3util import raw_request
    d = sigv4_daemon
    ak, sk = d.keys("alice")
    s3 = d.boto3("alice")
    s3.create_bucket(Bucket=bucket_name)
    s3.put_object(Bucket=bucket_name, Key="tmp", Body=b"t")
    s3.put_object(Bucket=bucket_name, Key="important", Body=b"keep me")

    def v2_headers(method, endpoint):
        date = email.utils.formatdate(usegmt=True)
        sts = "%s\n\n\n%s\n/api/v1/%s" % (method, date, endpoint)
        sig = base64.b64encode(hmac.new(sk.encode(), sts.encode(), hashlib.sha1).digest())
        return {"Date": date, "Authorization": "AWS %s:%s" % (ak, sig.decode())}

    for endpoint, captured, replayed in [
            ("fs/rm", {"path": "/%s/tmp" % bucket_name},
             {"path": "/%s/important" % bucket_name}),
            ("fs/chmod", {"path": "/%s/tmp" % bucket_name, "mode": "600"},
             {"path": "/%s/important" % bucket_name, "mode": "666"}),
            ("fs/chown", {"path": "/%s/tmp" % bucket_name, "owner": "alice"},
             {"path": "/%s/important" % bucket_name, "owner": "bob"})]:
        hdrs = v2_headers("POST", endpoint)
        for query in (captured, replayed):
            path = "/api/v1/%s?%s" % (endpoint, "&".join("%s=%s" % (k, q(v))
                                                         for k, v in query.items()))
            r = raw_request(d.port, "POST", path, hdrs)
            assert r.status == 400, (endpoint, query, r)
            err = json.loads(r.body)
            assert err["error"] == "InvalidRequest", err
            assert "AWS4-HMAC-SHA256" in err["message"], err
    # a SigV2 presigned admin URL is refused the same way
    exp = str(int(datetime.datetime.now().timestamp()) + 300)
    sts = "GET\n\n\n%s\n/api/v1/fs/list" % exp
    sig = base64.b64encode(hmac.new(sk.encode(), sts.encode(), hashlib.sha1).digest()).decode()
    r = raw_request(d.port, "GET", "/api/v1/fs/list?path=%%2F&AWSAccessKeyId=%s&Expires=%s"
                    "&Signature=%s" % (ak, exp, q(sig)))
    assert r.status == 400 and json.loads(r.body)["error"] == "InvalidRequest", r
    entries = ls_json(d, "/" + bucket_name)
    assert sorted(entries) == ["/%s/important" % bucket_name, "/%s/tmp" % bucket_name]
    assert entries["/%s/important" % bucket_name]["mode"] == "600"  # as it was made
    assert entries["/%s/important" % bucket_name]["owner"] == "alice"
    # SigV4 covers the query: a chmod signed with V4 works, and its headers
    # replayed with another mode do not
    path = "/api/v1/fs/chmod?mode=640&path=" + q("/%s/tmp" % bucket_name)
    hdrs = sign_v4("POST", "http://127.0.0.1:%d%s" % (d.port, path), {}, b"", ak, sk)
    r = raw_request(d.port, "POST", path, hdrs)
    assert r.status == 200, r
    r = raw_request(d.port, "POST", path.replace("mode=640", "mode=666"), hdrs)
    assert r.status == 403 and json.loads(r.body)["error"] == "SignatureDoesNotMatch", r
    assert ls_json(d, "/" + bucket_name)["/%s/tmp" % bucket_name]["mode"] == "640"


def test_simple_mode_cli(simple_daemon, bucket_name):
    d = simple_daemon
    # unsigned: the daemon's own user
    ok(cli(d, "fs", "mkdir", "/" + bucket_name, user=None))
    owner = ls_rows(ok(cli(d, "fs", "ls", "/", user=None)))
    assert [r for r in owner if r["path"] == "/" + bucket_name]
    # the access key is the user
    carol = "/%s-c" % bucket_name[:50]
    ok(cli(d, "fs", "mkdir", carol, user=None,
           env={"AWS_ACCESS_KEY_ID": "carol", "AWS_SECRET_ACCESS_KEY": "x"}))
    rows = ls_rows(ok(cli(d, "fs", "ls", "/", user=None)))
    assert [r["owner"] for r in rows if r["path"] == carol] == ["carol"]
    assert d.request("GET", "/api/v1/metrics").status == 200
    ok(cli(d, "fs", "rm", "-R", carol, user=None,
           env={"AWS_ACCESS_KEY_ID": "carol", "AWS_SECRET_ACCESS_KEY": "x"}))


# -- metrics -------------------------------------------------------------------

SAMPLE_RE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$')
LABEL_RE = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\\n]|\\.)*)"')


def parse_prometheus(text):
    """Strict reading of the text format: every sample's family declared
    (TYPE) before it, no duplicate series, numeric values, sane histograms."""
    types, samples = {}, {}
    assert text.endswith("\n")
    for line in text.splitlines():
        if line.startswith("# HELP "):
            continue
        if line.startswith("# TYPE "):
            _, _, name, typ = line.split(" ", 3)
            assert typ in ("counter", "gauge", "histogram", "summary", "untyped"), line
            assert name not in types, "TYPE twice: " + line
            types[name] = typ
            continue
        assert line and not line.startswith("#"), line
        m = SAMPLE_RE.match(line)
        assert m, "bad sample line: %r" % line
        name, labels, value = m.groups()
        lab = {}
        if labels:
            pairs = LABEL_RE.findall(labels)
            assert ",".join('%s="%s"' % p for p in pairs) == labels, line
            lab = dict(pairs)
        family = re.sub(r"_(bucket|sum|count)$", "", name)
        assert name in types or (family in types and types[family] in ("histogram", "summary")), line
        key = (name, tuple(sorted(lab.items())))
        assert key not in samples, "duplicate series: " + line
        samples[key] = float(value)
    # histograms: cumulative buckets ending in +Inf == _count
    for (name, lab), v in samples.items():
        if name.endswith("_count") and types.get(name[:-6]) == "histogram":
            base = name[:-6]
            buckets = sorted(((float(dict(l)["le"]), bv) for (n, l), bv in samples.items()
                              if n == base + "_bucket" and
                              {k: x for k, x in l if k != "le"} == dict(lab)))
            assert buckets and buckets[-1][0] == float("inf")
            assert all(a[1] <= b[1] for a, b in zip(buckets, buckets[1:]))
            assert buckets[-1][1] == v
    return types, samples


def metric(samples, name, **labels):
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


def scrape(session):
    status, ctype, body = session.request("GET", "/api/v1/metrics")
    assert status == 200, body
    assert ctype.startswith("text/plain; version=0.0.4")
    return parse_prometheus(body.decode())


def test_metrics_parse_and_move_with_traffic(sigv4_daemon, bucket_name):
    d = sigv4_daemon
    s = Session(d, "alice")
    assert s.request("PUT", "/" + bucket_name)[0] == 200
    body = os.urandom(12345)
    assert s.request("PUT", "/%s/k" % bucket_name, body)[0] == 200
    types, before = scrape(s)
    for fam, typ in (("atrium_requests_total", "counter"),
                     ("atrium_request_bytes_in_total", "counter"),
                     ("atrium_request_bytes_out_total", "counter"),
                     ("atrium_request_duration_seconds", "histogram"),
                     ("atrium_cache_hits_total", "counter"),
                     ("atrium_cache_misses_total", "counter"),
                     ("atrium_cache_evictions_total", "counter"),
                     ("atrium_cache_used_bytes", "gauge"),
                     ("atrium_cache_capacity_bytes", "gauge"),
                     ("atrium_uploads_in_progress", "gauge"),
                     ("atrium_meta_lookup_seconds", "summary"),
                     ("atrium_meta_transaction_seconds", "summary"),
                     ("atrium_uptime_seconds", "gauge")):
        assert types.get(fam) == typ, fam

    for _ in range(3):
        status, _, got = s.request("GET", "/%s/k" % bucket_name)
        assert (status, got) == (200, body)
    assert s.request("PUT", "/%s/k2" % bucket_name, b"x" * 1000)[0] == 200
    assert s.request("GET", "/%s/missing" % bucket_name)[0] == 404
    _, after = scrape(s)
    s.close()

    def delta(name, **lab):
        return metric(after, name, **lab) - metric(before, name, **lab)

    assert delta("atrium_requests_total", door="s3", op="GetObject", status="200") == 3
    assert delta("atrium_requests_total", door="s3", op="GetObject", status="404") == 1
    assert delta("atrium_requests_total", door="s3", op="PutObject", status="200") == 1
    assert delta("atrium_request_bytes_out_total", door="s3", op="GetObject") > 3 * len(body)
    assert delta("atrium_request_bytes_in_total", door="s3", op="PutObject") == 1000
    assert delta("atrium_request_duration_seconds_count", door="s3", op="GetObject") == 4
    assert delta("atrium_requests_total", door="admin", op="Metrics", status="200") == 1
    assert metric(after, "atrium_cache_capacity_bytes", tier="memory") == 256 * 1024 * 1024
    # every GET looks its object up; the PUT commits one transaction
    assert delta("atrium_meta_lookup_seconds_count") >= 4
    assert delta("atrium_meta_lookup_seconds_sum") > 0
    assert delta("atrium_meta_transaction_seconds_count") >= 1
    assert delta("atrium_meta_transaction_seconds_sum") > 0
    # the first GET missed (one block), the next two hit
    assert delta("atrium_cache_misses_total", tier="memory") >= 1
    assert delta("atrium_cache_hits_total", tier="memory") >= 2


def test_checkpoints_run_off_the_request_path_and_bound_the_wal(atriumd_factory, bucket_name):
    """SQLite's WAL is copied back by the daemon's checkpointer thread, not
    by the COMMIT that grew it (src/meta_db.c): the checkpoints are counted
    and the WAL stays near CKPT_FORCE_PAGES (4,000 pages, when writers are
    held off for the tail) under a write load that writes many times that."""
    d = atriumd_factory("sigv4", "checkpoints", [])
    s = Session(d, "alice")
    assert s.request("PUT", "/" + bucket_name)[0] == 200
    wal = os.path.join(d.data, "meta.db-wal")
    page = 4096
    before = metric(scrape(s)[1], "atrium_meta_checkpoint_seconds_count")
    written = 0
    for i in range(6000):
        assert s.request("PUT", "/%s/d%d/k%d" % (bucket_name, i % 50, i), b"x")[0] == 200
        written = max(written, os.path.getsize(wal))
    types, after = scrape(s)
    s.close()
    assert types.get("atrium_meta_checkpoint_seconds") == "summary"
    assert metric(after, "atrium_meta_checkpoint_seconds_count") - before >= 2
    # The WAL grew past one checkpoint's worth and was started over: at
    # most a few thousand pages ever (about 12,000 pages are written).
    assert os.path.getsize(wal) <= written <= 6 * 1000 * page, written


def test_metrics_refuse_unsigned_requests(sigv4_daemon, simple_daemon):
    r = sigv4_daemon.request("GET", "/api/v1/metrics")
    assert r.status == 403
    ak, _, _ = USERS["alice"]
    r = sigv4_daemon.request("GET", "/api/v1/metrics",
                             headers={"Authorization": "AWS4-HMAC-SHA256 Credential=%s/20240101/"
                                      "us-east-1/s3/aws4_request, SignedHeaders=host, "
                                      "Signature=%s" % (ak, "0" * 64)})
    assert r.status in (400, 403)
    assert simple_daemon.request("GET", "/api/v1/metrics").status == 200


def bearer_get(daemon, path, token=None):
    """GET with urllib, as Prometheus scrapes: (status, headers, body)."""
    import urllib.error
    import urllib.request
    req = urllib.request.Request(daemon.url(path))
    if token is not None:
        req.add_header("Authorization", "Bearer " + token)
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            return r.status, r.headers, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.headers, e.read()


TOKEN = "s3cr3t-Prometheus-token_0123456789"


def test_metrics_bearer_token(atriumd_factory, tmp_path):
    """--metrics-token FILE: Prometheus's `authorization: credentials_file:`
    sends `Authorization: Bearer <file content>`; the daemon reads the token
    from a 0600 file (trimmed as Prometheus trims it) and accepts it for
    metrics only. S3-signed scrapes still work; a wrong token is 401."""
    tok = tmp_path / "metrics.token"
    tok.write_text("\n  " + TOKEN + "  \n")
    os.chmod(tok, 0o600)
    d = atriumd_factory("sigv4", "metrics-token", args=("--metrics-token", str(tok)))
    status, _, body = bearer_get(d, "/api/v1/metrics", TOKEN)
    assert status == 200, body
    assert "atrium_requests_total" in parse_prometheus(body.decode())[0]
    for wrong in (TOKEN[:-1], TOKEN + "x", "", "x" * 5000, TOKEN.upper()):
        status, headers, body = bearer_get(d, "/api/v1/metrics", wrong)
        assert status == 401, (wrong, body)
        assert json.loads(body)["error"] == "InvalidToken"
        assert headers["WWW-Authenticate"].startswith("Bearer")
    assert bearer_get(d, "/api/v1/metrics")[0] == 403              # unsigned
    assert d.request("GET", "/api/v1/metrics", user="alice").status == 200  # S3 auth stays
    # the token opens nothing else
    for path in ("/api/v1/report", "/api/v1/fs/list?path=%2F"):
        status, _, body = bearer_get(d, path, TOKEN)
        assert status in (400, 403), (path, status, body)
    # the token file must be private, non-empty, one token
    import conftest
    import s3util
    for mode, text in ((0o644, TOKEN), (0o640, TOKEN), (0o600, ""), (0o600, "short"),
                       (0o600, "two words-0123456789"), (0o600, "\0" + TOKEN + "\0")):
        bad = tmp_path / "bad.token"
        bad.write_text(text)
        os.chmod(bad, mode)
        p = subprocess.run([conftest.ATRIUMD, "--data", str(tmp_path / "data"), "--port",
                            str(s3util.free_port()), "--credentials", d.creds,
                            "--metrics-token", str(bad)],
                           capture_output=True, text=True, timeout=30)
        assert p.returncode != 0, (oct(mode), text)
        assert str(bad) in p.stderr and "metrics-token" in p.stderr, p.stderr
        assert TOKEN not in p.stderr and "words-0123" not in p.stderr  # never echoed


def test_metrics_public(atriumd_factory, tmp_path):
    d = atriumd_factory("sigv4", "metrics-public", args=("--metrics-public",))
    status, _, body = bearer_get(d, "/api/v1/metrics")
    assert status == 200 and "atrium_uptime_seconds" in parse_prometheus(body.decode())[0]
    # only metrics: everything else still needs a signature
    assert bearer_get(d, "/api/v1/report")[0] == 403
    assert d.request("GET", "/api/v1/s3/").status == 403
    # the config-file spelling, and the contradiction
    import conftest
    import s3util
    tok = tmp_path / "t"
    tok.write_text(TOKEN)
    os.chmod(tok, 0o600)
    cfg = tmp_path / "atriumd.conf"
    cfg.write_text("metrics-public\nmetrics-token %s\n" % tok)
    p = subprocess.run([conftest.ATRIUMD, "--data", str(tmp_path / "data"), "--port",
                        str(s3util.free_port()), "--credentials", d.creds, "--config", str(cfg)],
                       capture_output=True, text=True, timeout=30)
    assert p.returncode != 0 and "--metrics-public" in p.stderr, p.stderr
    cfg.write_text("metrics-public yes\n")
    d2 = atriumd_factory("sigv4", "metrics-public-file", args=("--config", str(cfg)))
    assert bearer_get(d2, "/api/v1/metrics")[0] == 200
    cfg.write_text("metrics-public no\n")
    d3 = atriumd_factory("sigv4", "metrics-public-no", args=("--config", str(cfg)))
    assert bearer_get(d3, "/api/v1/metrics")[0] == 403


# -- access log ----------------------------------------------------------------

def test_access_log(atriumd_factory, tmp_path):
    logf = tmp_path / "access.log"
    d = atriumd_factory("sigv4", "access-log", args=("--access-log", str(logf)))
    s3 = d.boto3("alice")
    s3.create_bucket(Bucket="logged")
    s3.put_object(Bucket="logged", Key="a b", Body=b"12345")
    assert s3.get_object(Bucket="logged", Key="a b")["Body"].read() == b"12345"
    ok(cli(d, "fs", "ls", "/logged"))
    assert d.request("GET", "/api/v1/metrics").status == 403
    # A line is written once its response is out: stopping the daemon waits
    # for every request in flight, so the log is complete afterwards.
    assert d.stop() is None
    lines = logf.read_text().splitlines()
    # S3's server access log format (docs/configuration.md)
    pat = re.compile(r'^(\S+) (\S+) \[(\d\d/\w{3}/\d{4}:\d\d:\d\d:\d\d \+0000)\] (\S+) (\S+) '
                     r'([0-9A-F]{16}) (\S+) (\S+) "(\S+) (\S+) HTTP/1\.\d" (\d{3}) (\S+) (\S+) '
                     r'(\S+) (\d+) (\S+) "([^"]*)" "([^"]*)" (\S+) (\S+) (\S+) (\S+) (\S+) '
                     r'(\S+) (\S+) (\S+) (\S+)$')
    fields = []
    for line in lines:
        m = pat.match(line)
        assert m, line
        fields.append(m.groups())
    rows = [(f[4], f[6], f[8], f[9], f[10], f[12]) for f in fields]
    assert ("alice", "REST.PUT.OBJECT", "PUT", "/logged/a%20b", "200", "-") in rows
    assert ("alice", "REST.GET.OBJECT", "GET", "/logged/a%20b", "200", "5") in rows
    assert any(r[0] == "alice" and r[1] == "ADMIN.GET.FsList" and
               r[3].startswith("/api/v1/fs/list?path=") and r[4] == "200" for r in rows), rows
    assert any(r[0] == "-" and r[3] == "/api/v1/metrics" and r[4] == "403" for r in rows)
    for f in fields:
        assert f[3] == "127.0.0.1"  # the client's address
    get = [f for f in fields if f[6] == "REST.GET.OBJECT"][0]
    assert get[1] == "logged" and get[7] == "a%20b" and get[20] == "SigV4" and \
        get[22] == "AuthHeader" and "Boto3" in get[17]
    assert len({f[5] for f in fields}) == len(fields)
