"""atriumd as a service: graceful stop (SIGTERM, SIGINT), reload (SIGHUP),
the data-directory lock, systemd's notifications, health and readiness,
JSON logs, --version.

Each stop here is a signal to a daemon of this test's own; what the test
waits for is a line the daemon logs when the thing happened (polled with a
deadline), never a fixed sleep.
"""
import json
import os
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request

import pytest

from conftest import ATRIUMD
from s3util import USERS, sign_v4

BODY = os.urandom(2 * 1024 * 1024 + 5)


def signed_head(d, method, path, body=b"", extra=None):
    """The request line and headers of a SigV4 request (the body's SHA-256
    signed) as bytes, for sending the body by hand."""
    ak, sk, _ = USERS["alice"]
    h = {"Content-Length": str(len(body))}
    h.update(extra or {})
    h = sign_v4(method, "http://127.0.0.1:%d%s" % (d.port, path), h, body, ak, sk)
    h["Host"] = "127.0.0.1:%d" % d.port
    lines = ["%s %s HTTP/1.1" % (method, path)] + ["%s: %s" % kv for kv in h.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def read_response(sock):
    """(status, headers, body) of one HTTP/1.1 response with a Content-Length."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        if not chunk:
            raise AssertionError("connection closed before a response: %r" % data)
        data += chunk
    head, _, rest = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    headers = {k.strip().lower(): v.strip() for k, v in
               (l.split(":", 1) for l in lines[1:] if ":" in l)}
    n = int(headers.get("content-length", "0"))
    while len(rest) < n:
        chunk = sock.recv(65536)
        if not chunk:
            break
        rest += chunk
    return status, headers, rest[:n]


def wait_file(path, needle, timeout=20.0):
    """The file's text once it holds needle (an access log line is written
    just after its response goes out)."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            with open(path) as f:
                text = f.read()
        except FileNotFoundError:
            text = ""
        if needle in text or time.monotonic() > deadline:
            return text
        time.sleep(0.02)  # polling interval, bounded by the deadline


def get(d, path, timeout=10):
    try:
        with urllib.request.urlopen(d.url(path), timeout=timeout) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()


def start_slow_put(d, bucket, key):
    """A PUT whose headers and first half of the body are sent; returns the
    socket once the daemon answered 100 Continue, i.e. once the request is
    being served."""
    s = socket.create_connection(("127.0.0.1", d.port), timeout=30)
    s.sendall(signed_head(d, "PUT", "/%s/%s" % (bucket, key), BODY,
                          {"Expect": "100-continue"}))
    got = b""
    while b"\r\n\r\n" not in got:
        got += s.recv(4096)
    assert got.startswith(b"HTTP/1.1 100"), got
    s.sendall(BODY[:len(BODY) // 2])
    return s


def test_sigterm_lets_a_slow_put_finish(atriumd_factory, bucket_name, tmp_path):
    access = tmp_path / "access.log"
    d = atriumd_factory("sigv4", "stop-put", ["--access-log", str(access)])
    s3 = d.boto3("alice")
    s3.create_bucket(Bucket=bucket_name)
    # A kept-alive connection that served one request before the stop.
    ka = socket.create_connection(("127.0.0.1", d.port), timeout=30)
    ka.sendall(signed_head(d, "GET", "/%s" % bucket_name))
    assert read_response(ka)[0] == 200

    put = start_slow_put(d, bucket_name, "slow.bin")
    mark = d.log_size()
    os.kill(d.proc.pid, signal.SIGTERM)
    d.wait_log("stopping:", start=mark)

    # A new request on the kept-alive connection: 503, and the connection
    # is closed.
    ka.sendall(signed_head(d, "GET", "/%s" % bucket_name))
    status, headers, body = read_response(ka)
    assert status == 503 and headers.get("connection", "").lower() == "close", (status, headers)
    assert b"ServiceUnavailable" in body and b"<RequestId>" in body
    assert ka.recv(1) == b""
    ka.close()

    # The PUT in flight completes.
    put.sendall(BODY[len(BODY) // 2:])
    status, _, body = read_response(put)
    put.close()
    assert status == 200, body

    assert d.proc.wait(timeout=40) == 0
    d.stopped = True
    log = d.log_tail()
    assert "atriumd stopped" in log and "shutdown-timeout" not in log, log
    # The refused request is in the access log like any other.
    lines = access.read_text().splitlines()
    assert any(" 503 ServiceUnavailable " in ln for ln in lines), lines
    with open(os.path.join(d.ufs, bucket_name, "slow.bin"), "rb") as f:
        assert f.read() == BODY
    # And the object is whole after a restart.
    d.stopped = False
    d.start()
    got = d.boto3("alice").get_object(Bucket=bucket_name, Key="slow.bin")["Body"].read()
    assert got == BODY


def test_new_connections_are_refused_while_stopping(atriumd_factory, bucket_name):
    d = atriumd_factory("sigv4", "stop-listen")
    d.boto3("alice").create_bucket(Bucket=bucket_name)
    put = start_slow_put(d, bucket_name, "k")  # keeps the daemon draining
    mark = d.log_size()
    os.kill(d.proc.pid, signal.SIGTERM)
    d.wait_log("stopping:", start=mark)
    # The listening socket closes (at most civetweb's poll quantum later).
    deadline = time.monotonic() + 20
    refused = False
    while time.monotonic() < deadline and not refused:
        try:
            c = socket.create_connection(("127.0.0.1", d.port), timeout=5)
            c.close()
            time.sleep(0.05)  # polling interval, bounded by the deadline
        except ConnectionRefusedError:
            refused = True
    assert refused, "the daemon kept accepting connections while stopping"
    put.sendall(BODY[len(BODY) // 2:])
    assert read_response(put)[0] == 200
    put.close()
    assert d.proc.wait(timeout=40) == 0
    d.stopped = True


def test_second_signal_stops_at_once(atriumd_factory, bucket_name):
    d = atriumd_factory("sigv4", "stop-twice", ["--shutdown-timeout", "600"])
    d.boto3("alice").create_bucket(Bucket=bucket_name)
    put = start_slow_put(d, bucket_name, "never.bin")
    mark = d.log_size()
    os.kill(d.proc.pid, signal.SIGTERM)
    d.wait_log("stopping:", start=mark)
    t0 = time.monotonic()
    os.kill(d.proc.pid, signal.SIGINT)
    # Far sooner than the 600 s the first signal would have waited.
    assert d.proc.wait(timeout=60) == 0
    d.stopped = True
    assert time.monotonic() - t0 < 60
    assert "stopping at once" in d.log_tail()
    put.close()
    assert not os.path.exists(os.path.join(d.ufs, bucket_name, "never.bin"))


def test_sighup_reopens_the_access_log_and_reads_new_users(atriumd_factory, bucket_name,
                                                           tmp_path):
    access = str(tmp_path / "access.log")
    d = atriumd_factory("sigv4", "hup", ["--access-log", access])
    s3 = d.boto3("alice")
    s3.create_bucket(Bucket=bucket_name)
    assert "PUT /%s " % bucket_name in wait_file(access, "PUT /%s " % bucket_name)
    os.rename(access, access + ".1")

    # A user added to the credentials file, unknown until the reload.
    with open(d.creds, "a") as f:
        f.write("AKIDDAVE davesecret0123456789 dave Dave\n")
    dave = d.boto3(access_key="AKIDDAVE", secret="davesecret0123456789")
    from s3util import client_error
    assert client_error(dave.list_buckets)[1] == "InvalidAccessKeyId"

    mark = d.log_size()
    os.kill(d.proc.pid, signal.SIGHUP)
    d.wait_log("credentials: re-read", start=mark)
    assert d.alive()
    dave.create_bucket(Bucket=bucket_name + "-dave")
    assert [b["Name"] for b in dave.list_buckets()["Buckets"]] == [bucket_name + "-dave"]

    # Requests after the reload go to a new file; the renamed one keeps
    # what came before.
    s3.head_bucket(Bucket=bucket_name)
    new = wait_file(access, "HEAD /%s " % bucket_name)
    with open(access + ".1") as f:
        old = f.read()
    assert "dave" in new and "HEAD /%s " % bucket_name in new, new
    assert "dave" not in old
    # Still serving, after a second reload too.
    mark = d.log_size()
    os.kill(d.proc.pid, signal.SIGHUP)
    d.wait_log("credentials: re-read", start=mark)
    assert d.alive()


def test_sighup_applies_the_config_files_log_level(atriumd_factory, bucket_name, tmp_path):
    conf = tmp_path / "atriumd.conf"
    conf.write_text("log-level info\nmax-put-size 1M\n")
    idmap = tmp_path / "idmap"
    idmap.write_text("alice 2001\n")
    d = atriumd_factory("sigv4", "hup-conf", ["--config", str(conf), "--idmap", str(idmap)])
    s3 = d.boto3("alice")
    s3.create_bucket(Bucket=bucket_name)
    from s3util import client_error
    assert client_error(s3.put_object, Bucket=bucket_name, Key="big",
                        Body=b"x" * (2 << 20))[1] == "EntityTooLarge"
    conf.write_text("log-level debug\nmax-put-size 4M\nregion eu-west-1\n")
    idmap.write_text("alice 2001\nbob 2002 2002\n")
    mark = d.log_size()
    os.kill(d.proc.pid, signal.SIGHUP)
    log = d.wait_log("idmap: re-read", start=mark)
    assert "2 entries (1 before)" in log
    assert "reload: log-level changed" in log and "reload: max-put-size changed" in log
    assert "region changed in the configuration: it takes effect at the next start" in log
    s3.put_object(Bucket=bucket_name, Key="big", Body=b"x" * (2 << 20))
    d.wait_log(" D ", start=mark)  # debug lines now


def test_second_daemon_on_the_same_data_is_refused(atriumd_factory):
    d = atriumd_factory("sigv4", "lock")
    p = subprocess.run([ATRIUMD, "--data", d.data, "--port", "1", "--credentials", d.creds],
                       capture_output=True, timeout=30, stdin=subprocess.DEVNULL)
    err = p.stderr.decode()
    assert p.returncode != 0
    assert "in use by another atriumd (pid %d" % d.proc.pid in err, err
    with open(os.path.join(d.data, "lock")) as f:
        assert f.read().strip() == str(d.proc.pid)
    assert d.alive()


@pytest.mark.parametrize("opt", ["max_idle_threads=0", "max_threads=2000", "max_threads=x"])
def test_bad_request_loop_options_stop_the_start(tmp_path, opt):
    """The mount's thread pool options are checked before anything is
    mounted: a clear message, a failed start, no mount left behind."""
    if not os.path.exists("/dev/fuse"):
        pytest.skip("/dev/fuse is missing")
    mnt = tmp_path / "mnt"
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    p = subprocess.run([ATRIUMD, "--data", str(tmp_path / "data"), "--bind", "127.0.0.1",
                        "--port", str(port), "--mount", str(mnt), "--mount-options", opt],
                       capture_output=True, timeout=30, stdin=subprocess.DEVNULL)
    err = p.stderr.decode()
    assert p.returncode != 0
    assert "mount: %s: a number of threads from 1 to 1024 is expected" % opt in err, err
    assert not os.path.ismount(mnt)


def test_systemd_notifications(atriumd_factory, tmp_path):
    path = str(tmp_path / "notify.sock")
    srv = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    srv.bind(path)
    srv.settimeout(30)
    env = dict(os.environ, NOTIFY_SOCKET=path)
    d = atriumd_factory("sigv4", "notify", env=env)
    try:
        assert srv.recv(4096) == b"READY=1"
        os.kill(d.proc.pid, signal.SIGHUP)
        msg = srv.recv(4096).decode()
        assert msg.startswith("RELOADING=1\nMONOTONIC_USEC="), msg
        assert srv.recv(4096) == b"READY=1"
        os.kill(d.proc.pid, signal.SIGTERM)
        assert srv.recv(4096) == b"STOPPING=1"
        assert d.proc.wait(timeout=40) == 0
        d.stopped = True
    finally:
        srv.close()


def test_health_and_ready(sigv4_daemon):
    assert get(sigv4_daemon, "/api/v1/health") == (200, b'{"status":"ok"}\n')
    status, body = get(sigv4_daemon, "/api/v1/ready")
    assert status == 200 and json.loads(body) == {"status": "ready"}


def test_json_log_format(atriumd_factory, bucket_name):
    d = atriumd_factory("sigv4", "json-log", ["--log-format", "json", "--log-level", "debug"])
    d.boto3("alice").create_bucket(Bucket=bucket_name)
    os.kill(d.proc.pid, signal.SIGTERM)
    assert d.proc.wait(timeout=40) == 0
    d.stopped = True
    lines = [l for l in open(d.log_path).read().splitlines()
             if l and not l.startswith("$ ")]
    assert len(lines) > 3
    for l in lines:
        rec = json.loads(l)
        assert set(rec) == {"time", "level", "msg"} and rec["time"].endswith("Z"), rec
    msgs = [json.loads(l)["msg"] for l in lines]
    assert any(m.startswith("atriumd ") and " ready: " in m for m in msgs)
    assert "atriumd stopped" in msgs


def test_import_is_one_line_per_directory_scan(atriumd_factory, bucket_name):
    d = atriumd_factory("sigv4", "import-log")
    s3 = d.boto3("alice")
    s3.create_bucket(Bucket=bucket_name)
    os.makedirs(os.path.join(d.ufs, bucket_name, "dir"))
    for i in range(300):
        with open(os.path.join(d.ufs, bucket_name, "dir", "f%03d" % i), "w") as f:
            f.write("x")
    mark = d.log_size()
    keys = []
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket_name):
        keys += [o["Key"] for o in page.get("Contents", [])]
    assert len(keys) == 300
    with open(d.log_path, "rb") as f:
        f.seek(mark)
        log = f.read().decode()
    assert "imported 300 file(s)" in log, log
    assert log.count("core: imported") == 0, log
    assert len(log.splitlines()) < 10, log


def test_version():
    p = subprocess.run([ATRIUMD, "--version"], capture_output=True, timeout=10)
    assert p.returncode == 0
    out = p.stdout.decode().split()
    assert out[0] == "atriumd" and out[1][0].isdigit(), out
    atrium = os.environ.get("ATRIUM") or os.path.join(os.path.dirname(ATRIUMD), "atrium")
    q = subprocess.run([atrium, "--version"], capture_output=True, timeout=10)
    assert q.returncode == 0 and q.stdout.decode().split() == ["atrium", out[1]]


def stop_mounted(d, writer_steps):
    """SIGTERM to a mount daemon while writer_steps() runs against it;
    returns the daemon's exit status."""
    mark = d.log_size()
    os.kill(d.proc.pid, signal.SIGTERM)
    d.wait_log("stopping:", start=mark)
    writer_steps()
    rc = d.proc.wait(timeout=40)
    d.stopped = True
    return rc


def test_sigterm_commits_a_mount_writer_that_closes(mount_factory, mount_watchdog, bucket_name):
    d = mount_factory("sigv4", "stop-mount")
    assert json.loads(get(d, "/api/v1/ready")[1]) == {"status": "ready"}
    d.boto3("alice").create_bucket(Bucket=bucket_name)
    one, two = os.urandom(300 * 1024), os.urandom(200 * 1024)
    f = open(d.path(bucket_name, "w.bin"), "wb", buffering=0)
    f.write(one)

    def finish():
        f.write(two)  # after the stop began: the mount still serves
        f.close()
    assert stop_mounted(d, finish) == 0
    log = d.log_tail()
    assert "mount: unmounted" in log and "lazily" not in log, log
    assert "Invalid argument" not in log, log
    from conftest import mountinfo_entries
    assert not mountinfo_entries(d.mnt)
    with open(os.path.join(d.ufs, bucket_name, "w.bin"), "rb") as g:
        assert g.read() == one + two
    d.stopped = False
    d.start()
    got = d.boto3("alice").get_object(Bucket=bucket_name, Key="w.bin")["Body"].read()
    assert got == one + two


def test_stop_deadline_commits_what_a_mount_writer_wrote(mount_factory, mount_watchdog,
                                                         bucket_name):
    d = mount_factory("sigv4", "stop-mount-late", ["--shutdown-timeout", "1"])
    d.boto3("alice").create_bucket(Bucket=bucket_name)
    one = os.urandom(100 * 1024)
    fd = os.open(d.path(bucket_name, "open.bin"), os.O_WRONLY | os.O_CREAT, 0o644)
    os.write(fd, one)
    try:
        # The writer never closes in time: at the deadline its data so far
        # is committed and the mount detached lazily (logged).
        assert stop_mounted(d, lambda: None) == 0
        log = d.log_tail()
        assert "committed 1 file(s) still open for writing" in log, log
        assert "detaching it lazily" in log, log
        with pytest.raises(OSError):
            os.write(fd, b"more")
    finally:
        try:
            os.close(fd)
        except OSError:
            pass
    with open(os.path.join(d.ufs, bucket_name, "open.bin"), "rb") as g:
        assert g.read() == one


def test_stop_with_the_mount_held_in_another_namespace(mount_factory, mount_watchdog):
    """A process that unshared its mounts while ours was there keeps a copy
    of it (systemd's PrivateTmp services, containers): the daemon's own
    unmount then does not end the FUSE session, and the stop must end it
    itself rather than wait forever."""
    d = mount_factory("sigv4", "stop-mount-ns")
    holder = subprocess.Popen(["unshare", "-m", "--propagation", "private", "sleep", "600"],
                              stdin=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 20
        seen = False
        while time.monotonic() < deadline and not seen:
            try:
                with open("/proc/%d/mountinfo" % holder.pid) as f:
                    seen = (" %s " % d.mnt) in f.read()
            except OSError:
                pass
            if not seen:
                time.sleep(0.02)  # polling interval, bounded by the deadline
        if not seen:
            pytest.skip("cannot make a mount namespace holding the mount (unshare -m)")
        os.kill(d.proc.pid, signal.SIGTERM)
        assert d.proc.wait(timeout=40) == 0
        d.stopped = True
        log = d.log_tail()
        assert "mount: unmounted" in log and "Invalid argument" not in log, log
        # The copy in the other namespace is a dead mount now.
        p = subprocess.run(["nsenter", "-t", str(holder.pid), "-m", "stat", d.mnt],
                           capture_output=True, timeout=30)
        assert p.returncode != 0 and b"not connected" in p.stderr, p.stderr
    finally:
        holder.kill()
        holder.wait(timeout=10)
