"""Fixtures that run a real atriumd for the integration tests.

`atriumd_factory(auth, name, args)` starts a daemon (args: extra flags such
as ["--min-part-size", "0"]) on a free loopback port with its own data dir
and a credentials file holding s3util.USERS; every daemon it started
is stopped (SIGTERM by PID, then SIGKILL if it hangs) at the end of the
session. `sigv4_daemon` and `simple_daemon` are session-wide shared daemons;
tests use unique bucket names so they do not interfere.
"""
import os
import signal
import ssl
import subprocess
import sys
import time
import urllib.error
import urllib.request

import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import s3util  # noqa: E402

ATRIUMD = os.environ.get("ATRIUMD") or os.path.abspath(
    os.path.join(os.path.dirname(__file__), "..", "..", "bin", "atriumd"))

START_TIMEOUT = 20.0
STOP_TIMEOUT = 15.0

_ALL_DAEMONS = []


class Daemon:
    def __init__(self, workdir, auth, name, args=()):
        self.workdir = str(workdir)
        self.args = list(args)
        # --tls-cert: HTTPS, and the certificate is its own CA (self-signed)
        self.tls_ca = (self.args[self.args.index("--tls-cert") + 1]
                       if "--tls-cert" in self.args else None)
        self.auth = auth
        self.name = name
        self.data = os.path.join(self.workdir, "data")
        self.ufs = os.path.join(self.data, "ufs")
        self.creds = os.path.join(self.workdir, "credentials")
        self.log_path = os.path.join(self.workdir, "atriumd.stderr")
        self.proc = None
        self.port = None
        self.stopped = False

    # -- lifecycle -----------------------------------------------------------
    def start(self):
        os.makedirs(self.workdir, exist_ok=True)
        with open(self.creds, "w") as f:
            f.write("# test users\n")
            for ak, sk, uid in s3util.USERS.values():
                f.write("%s %s %s Display %s\n" % (ak, sk, uid, uid))
        os.chmod(self.creds, 0o600)
        last = None
        for _attempt in range(3):  # a free port may be taken before we bind it
            self.port = s3util.free_port()
            log = open(self.log_path, "ab")
            cmd = [ATRIUMD, "--data", self.data, "--port", str(self.port),
                   "--bind", "127.0.0.1", "--auth", self.auth,
                   "--credentials", self.creds] + self.args
            log.write(("$ %s\n" % " ".join(cmd)).encode())
            log.flush()
            self.proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL,
                                         stdout=log, stderr=log)
            log.close()
            ok, last = self._wait_ready()
            if ok:
                return self
            self._terminate()
        raise RuntimeError("atriumd (%s) did not become ready: %s\n--- stderr ---\n%s"
                           % (self.name, last, self.log_tail()))

    def _wait_ready(self):
        deadline = time.monotonic() + START_TIMEOUT
        last = None
        delay = 0.01
        while time.monotonic() < deadline:
            rc = self.proc.poll()
            if rc is not None:
                return False, "exited with status %d" % rc
            try:
                ctx = ssl.create_default_context(cafile=self.tls_ca) if self.tls_ca else None
                with urllib.request.urlopen(self.url("/api/v1/health"), timeout=2,
                                            context=ctx) as r:
                    if r.status == 200:
                        return True, None
                    last = "health status %d" % r.status
            except urllib.error.HTTPError as e:
                last = "health status %d" % e.code
            except OSError as e:
                last = repr(e)
            time.sleep(delay)  # polling interval, bounded by the deadline
            delay = min(delay * 2, 0.2)
        return False, "timeout: " + str(last)

    def _terminate(self):
        p = self.proc
        if p is None or p.poll() is not None:
            return p.returncode if p else None
        os.kill(p.pid, signal.SIGTERM)
        try:
            return p.wait(timeout=STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            with open(self.log_path, "ab") as log:
                log.write(b"[test harness] atriumd ignored SIGTERM; sending SIGKILL\n")
            os.kill(p.pid, signal.SIGKILL)
            p.wait(timeout=STOP_TIMEOUT)
            return "hung"

    def stop(self):
        """Stop the daemon; returns an error string if it did not stop cleanly."""
        if self.stopped:
            return None
        self.stopped = True
        was_alive = self.proc is not None and self.proc.poll() is None
        rc = self._terminate()
        if not was_alive:
            return "atriumd (%s) had already exited with status %s" % (self.name, rc)
        if rc == "hung":
            return "atriumd (%s) did not stop within %ss of SIGTERM" % (self.name, STOP_TIMEOUT)
        if rc != 0:
            return "atriumd (%s) exited with status %s after SIGTERM" % (self.name, rc)
        return None

    def restart(self):
        """Stop (SIGTERM) and start again on the same data dir (new port)."""
        err = self.stop()
        if err:
            raise AssertionError(err + "\n" + self.log_tail())
        self.stopped = False
        return self.start()

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    # -- helpers -------------------------------------------------------------
    @property
    def endpoint(self):
        return "%s://127.0.0.1:%d" % ("https" if self.tls_ca else "http", self.port)

    def url(self, path):
        return self.endpoint + path

    def log_tail(self, max_bytes=20000):
        try:
            with open(self.log_path, "rb") as f:
                f.seek(0, os.SEEK_END)
                size = f.tell()
                f.seek(max(0, size - max_bytes))
                return f.read().decode("utf-8", "replace")
        except OSError as e:
            return "(no log: %s)" % e

    def keys(self, user):
        ak, sk, _uid = s3util.USERS[user]
        return ak, sk

    def boto3(self, user="alice", prefix="", secret=None, access_key=None):
        import boto3
        from botocore.config import Config

        ak, sk = self.keys(user)
        return boto3.client(
            "s3",
            endpoint_url=self.endpoint + prefix,
            region_name="us-east-1",
            aws_access_key_id=access_key or ak,
            aws_secret_access_key=secret or sk,
            verify=self.tls_ca,
            config=Config(s3={"addressing_style": "path"},
                          retries={"total_max_attempts": 1},
                          connect_timeout=10, read_timeout=60),
        )

    def request(self, method, path, headers=None, body=b"", user=None, timeout=30):
        """Raw HTTP request; user=None sends it unsigned, else SigV4 as that user."""
        sign = self.keys(user) if user else None
        return s3util.raw_request(self.port, method, path, headers, body, sign, timeout)

    def __repr__(self):
        return "<atriumd %s port=%s auth=%s>" % (self.name, self.port, self.auth)


@pytest.fixture(scope="session")
def atriumd_factory(tmp_path_factory):
    if not os.access(ATRIUMD, os.X_OK):
        pytest.fail("ATRIUMD=%s is not an executable (run `make` first)" % ATRIUMD)
    mine = []

    def start(auth="sigv4", name=None, args=()):
        name = name or auth
        d = Daemon(tmp_path_factory.mktemp("atriumd-" + name), auth, name, args)
        mine.append(d)
        _ALL_DAEMONS.append(d)
        return d.start()

    yield start
    errors = [e for e in (d.stop() for d in mine) if e]
    if errors:
        pytest.fail("; ".join(errors) + "\n" + "\n".join(
            "--- %s stderr ---\n%s" % (d.name, d.log_tail()) for d in mine))


@pytest.fixture(scope="session")
def sigv4_daemon(atriumd_factory):
    return atriumd_factory("sigv4", "sigv4-shared")


@pytest.fixture(scope="session")
def simple_daemon(atriumd_factory):
    return atriumd_factory("simple", "simple-shared")


@pytest.fixture
def bucket_name(request):
    return s3util.unique_bucket(request.node.name[:20].replace("[", "-").strip("-_"))


@pytest.fixture(autouse=True)
def _daemons_still_alive():
    """A daemon that dies during a test fails that test, with its log."""
    before = [d for d in _ALL_DAEMONS if d.alive()]
    yield
    dead = [d for d in before if not d.stopped and not d.alive()]
    if dead:
        pytest.fail("atriumd died during this test:\n" + "\n".join(
            "--- %s (status %s) stderr ---\n%s" % (d.name, d.proc.returncode, d.log_tail())
            for d in dead))


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    rep = outcome.get_result()
    if rep.failed:
        seen = set()
        for v in getattr(item, "funcargs", {}).values():
            if isinstance(v, Daemon) and id(v) not in seen:
                seen.add(id(v))
                rep.sections.append(("atriumd %s stderr (tail)" % v.name, v.log_tail(8000)))
