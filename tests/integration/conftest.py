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
# Above the daemon's default --shutdown-timeout (30 s): a SIGTERM lets
# requests in flight and files open for writing in a mount finish first.
STOP_TIMEOUT = 45.0

_ALL_DAEMONS = []


class Daemon:
    def __init__(self, workdir, auth, name, args=(), env=None, wrap=None):
        self.workdir = str(workdir)
        self.args = list(args)
        self.env = env  # the daemon's environment (None: the harness's)
        # A command the daemon's runs under (it must exec its arguments, so
        # that the PID stays the daemon's): e.g. unshare into a namespace.
        self.wrap = list(wrap or [])
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
        if not os.path.exists(self.creds):  # a restart keeps what the daemon wrote
            with open(self.creds, "w") as f:
                f.write("# test users\n")
                for ak, sk, uid in s3util.USERS.values():
                    f.write("%s %s %s Display %s\n" % (ak, sk, uid, uid))
            os.chmod(self.creds, 0o600)
        last = None
        for _attempt in range(3):  # a free port may be taken before we bind it
            self.port = s3util.free_port()
            log = open(self.log_path, "ab")
            # The suite keeps dozens of daemons alive at once: each gets a
            # pool of 128 threads (every thread counts against the machine's
            # pid_max, 32768 here: dozens of the default's 2048 would not
            # fit), unless the test sets --threads itself
            # (test_slow_clients.py, which checks the default's point).
            pool = [] if "--threads" in self.args else ["--threads", "128"]
            cmd = [ATRIUMD, "--data", self.data, "--port", str(self.port),
                   "--bind", "127.0.0.1", "--auth", self.auth,
                   "--credentials", self.creds] + pool + self.args
            log.write(("$ %s\n" % " ".join(cmd)).encode())
            log.flush()
            self.proc = subprocess.Popen(self.wrap + cmd, stdin=subprocess.DEVNULL,
                                         stdout=log, stderr=log, env=self.env)
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

    def wait_log(self, needle, timeout=20.0, start=0):
        """Waits until the daemon's stderr (from byte start on) holds needle;
        returns the log. Polled with a deadline: a line the daemon writes
        when something happened is the event waited for."""
        deadline = time.monotonic() + timeout
        delay = 0.01
        while True:
            with open(self.log_path, "rb") as f:
                f.seek(start)
                text = f.read().decode("utf-8", "replace")
            if needle in text:
                return text
            if time.monotonic() > deadline:
                raise AssertionError("atriumd (%s) never logged %r\n--- stderr ---\n%s"
                                     % (self.name, needle, self.log_tail()))
            time.sleep(delay)  # polling interval, bounded by the deadline
            delay = min(delay * 2, 0.2)

    def log_size(self):
        return os.path.getsize(self.log_path)

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

    def start(auth="sigv4", name=None, args=(), env=None, wrap=None):
        name = name or auth
        d = Daemon(tmp_path_factory.mktemp("atriumd-" + name), auth, name, args, env, wrap)
        mine.append(d)
        _ALL_DAEMONS.append(d)
        return d.start()

    yield start
    errors = [e for e in (d.stop() for d in mine) if e]
    if errors:
        pytest.fail("; ".join(errors) + "\n" + "\n".join(
            "--- %s stderr ---\n%s" % (d.name, d.log_tail()) for d in mine))


# -- the FUSE mount (issue 4) -------------------------------------------------
# `mount_factory(auth, name, args)` starts an atriumd with `--mount DIR/mnt`
# (DIR a fresh 0755 directory under /tmp, so that uid 65534 can reach the
# mount; mnt itself is left for the daemon to create). Its start returns
# once /api/v1/health answers 200 and /proc/self/mountinfo shows the mount
# (polled with a deadline, here only); `mounted_at_health` records whether
# the mount was already there at the first health 200. Stopping is SIGTERM
# (the daemon unmounts), SIGKILL if it hangs, and then, in every exit path,
# `fusermount3 -u -z` (or `umount -l`) if the mount is still listed, each
# under a timeout. `mount_watchdog` SIGKILLs the mount daemons of a test
# that runs longer than MOUNT_TEST_TIMEOUT seconds: a FUSE request that
# never gets an answer then fails with ENOTCONN instead of hanging the suite.

MOUNT_TIMEOUT = 20.0
MOUNT_TEST_TIMEOUT = float(os.environ.get("ATRIUM_MOUNT_TEST_TIMEOUT", "60"))


def mountinfo_entries(path):
    """The /proc/self/mountinfo entries mounted at path, each as
    (fs type, mount options, super options)."""
    path = os.path.abspath(path)
    out = []
    try:
        with open("/proc/self/mountinfo") as f:
            lines = f.read().splitlines()
    except OSError:
        return out
    for line in lines:
        left, _, right = line.partition(" - ")
        fields = left.split()
        if len(fields) < 6:
            continue
        mp = fields[4].replace("\\040", " ").replace("\\011", "\t").replace(
            "\\012", "\n").replace("\\134", "\\")
        if mp == path:
            r = right.split()
            out.append((r[0] if r else "", fields[5], r[2] if len(r) > 2 else ""))
    return out


def force_unmount(path, timeout=10):
    """Detach every mount at path (lazy; stacked ones too). Returns True
    when none is left."""
    for cmd in 2 * (["fusermount3", "-u", "-z", path], ["umount", "-l", path]):
        if not mountinfo_entries(path):
            return True
        try:
            subprocess.run(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL, timeout=timeout)
        except (OSError, subprocess.TimeoutExpired):
            pass
    return not mountinfo_entries(path)


class MountDaemon(Daemon):
    def __init__(self, workdir, auth, name, args=(), mnt=None):
        if mnt is None:
            import tempfile
            parent = tempfile.mkdtemp(prefix="atrium-mnt-", dir="/tmp")
            os.chmod(parent, 0o755)
            mnt = os.path.join(parent, "mnt")
        self.mnt = mnt
        self.mounted_at_health = None
        self.unmount_error = None
        self.killed = False
        super().__init__(workdir, auth, name, list(args) + ["--mount", mnt])

    def start(self):
        if mountinfo_entries(self.mnt) and not getattr(self, "keep_stale", False):
            force_unmount(self.mnt)
        super().start()
        self.mounted_at_health = bool(mountinfo_entries(self.mnt))
        deadline = time.monotonic() + MOUNT_TIMEOUT
        delay = 0.01
        while not mountinfo_entries(self.mnt):
            if time.monotonic() > deadline or not self.alive():
                self.stop()
                raise RuntimeError("atriumd (%s) reported healthy but %s is not mounted"
                                   "\n--- stderr ---\n%s" % (self.name, self.mnt, self.log_tail()))
            time.sleep(delay)  # polling interval, bounded by the deadline
            delay = min(delay * 2, 0.2)
        return self

    def stop(self):
        err = super().stop()
        if self.killed:  # a test crashed it on purpose and owns the mount point
            return None
        left = bool(mountinfo_entries(self.mnt))
        if left and not force_unmount(self.mnt):
            self.unmount_error = "%s is still mounted after fusermount3 -u -z" % self.mnt
        elif left and err is None and self.unmount_error is None:
            self.unmount_error = "atriumd (%s) exited without unmounting %s" % (self.name, self.mnt)
        return err or self.unmount_error

    def kill(self):
        """SIGKILL (a crash): the mount stays behind, stale."""
        if self.alive():
            os.kill(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=STOP_TIMEOUT)
        self.stopped = self.killed = True

    def path(self, *parts):
        return os.path.join(self.mnt, *parts)


_MOUNT_DAEMONS = []


@pytest.fixture(scope="session")
def mount_factory(atriumd_factory, tmp_path_factory):
    if not os.path.exists("/dev/fuse"):
        pytest.skip("/dev/fuse is missing: no FUSE on this machine")
    mine = []

    def start(auth="sigv4", name="mount", args=(), mnt=None, keep_stale=False):
        d = MountDaemon(tmp_path_factory.mktemp("atriumd-" + name), auth, name, args, mnt)
        d.keep_stale = keep_stale
        mine.append(d)
        _MOUNT_DAEMONS.append(d)
        _ALL_DAEMONS.append(d)
        return d.start()

    try:
        yield start
    finally:
        errors = [e for e in (d.stop() for d in reversed(mine)) if e]
        for d in mine:  # the parents made by MountDaemon, once empty
            if not mountinfo_entries(d.mnt):
                for p in (d.mnt, os.path.dirname(d.mnt)):
                    try:
                        os.rmdir(p)
                    except OSError:
                        pass
        if errors:
            pytest.fail("; ".join(errors) + "\n" + "\n".join(
                "--- %s stderr ---\n%s" % (d.name, d.log_tail()) for d in mine))


@pytest.fixture(scope="session")
def _shared_mount(mount_factory):
    return {"daemon": mount_factory("sigv4", "mount-shared")}


@pytest.fixture
def mount_daemon(_shared_mount, mount_factory):
    """The session's shared mounted daemon (started again, on a fresh mount
    point, if an earlier test killed it)."""
    d = _shared_mount["daemon"]
    if not d.alive():
        d.stop()
        d = _shared_mount["daemon"] = mount_factory("sigv4", "mount-shared")
    return d


def _read(path):
    try:
        with open(path, errors="replace") as f:
            return f.read()
    except OSError as e:
        return "(%s)" % e.strerror


def _tasks(pid):
    try:
        return sorted(os.listdir("/proc/%s/task" % pid), key=int)
    except OSError:  # gone meanwhile
        return []


def hang_report():
    """What a hung mount test was waiting for, read before the watchdog's
    SIGKILL: each mount daemon's threads (name, state, syscall, kernel
    stack) and the kernel stack of every other task in D state, plus each
    FUSE connection's count of requests waiting for an answer. With
    ATRIUM_HANG_GDB set, also gdb's backtrace of every daemon thread (gdb
    cannot attach while one is in D state: it then waits out its timeout)."""
    out = []
    daemons = {d.proc.pid for d in _MOUNT_DAEMONS if d.alive()}
    for pid in sorted(daemons):
        out.append("=== atriumd %d" % pid)
        for tid in _tasks(pid):
            t = "/proc/%d/task/%s/" % (pid, tid)
            state = [l for l in _read(t + "status").splitlines() if l.startswith("State:")]
            out.append("--- %s %s %s syscall: %s" % (
                tid, _read(t + "comm").strip(), state[0][6:].strip() if state else "?",
                _read(t + "syscall").strip()))
            stack = _read(t + "stack").strip()
            if stack:
                out.append(stack)
    for pid in os.listdir("/proc"):
        if not pid.isdigit() or int(pid) in daemons:
            continue
        for tid in _tasks(pid):
            t = "/proc/%s/task/%s/" % (pid, tid)
            if "State:\tD" not in _read(t + "status"):
                continue
            out.append("=== D-state %s/%s %s: %s" % (pid, tid, _read(t + "comm").strip(),
                                                    _read("/proc/%s/cmdline" % pid).replace("\0", " ")[:120]))
            out.append(_read(t + "stack").strip())
    if os.environ.get("ATRIUM_HANG_GDB"):
        for pid in sorted(daemons):
            try:
                out.append(subprocess.run(
                    ["gdb", "-p", str(pid), "-batch", "-ex", "thread apply all bt"],
                    capture_output=True, text=True, timeout=60).stdout)
            except (OSError, subprocess.SubprocessError) as e:
                out.append("gdb: %r" % e)
    conns = "/sys/fs/fuse/connections"
    for c in os.listdir(conns) if os.path.isdir(conns) else ():
        out.append("fuse connection %s waiting: %s" % (c, _read("%s/%s/waiting" % (conns, c)).strip()))
    return "\n".join(out)


@pytest.fixture
def mount_watchdog():
    import threading
    fired = []

    def fire():
        fired.append(hang_report())
        for d in _MOUNT_DAEMONS:
            if d.alive():
                os.kill(d.proc.pid, signal.SIGKILL)

    t = threading.Timer(MOUNT_TEST_TIMEOUT, fire)
    t.daemon = True
    t.start()
    yield
    t.cancel()
    if fired:
        pytest.fail("test ran longer than %ss (a FUSE request hung?): its mount "
                    "daemons were SIGKILLed\n%s" % (MOUNT_TEST_TIMEOUT, fired[0]))


@pytest.fixture(scope="session")
def sigv4_daemon(atriumd_factory):
    return atriumd_factory("sigv4", "sigv4-shared")


@pytest.fixture(scope="session")
def simple_daemon(atriumd_factory):
    return atriumd_factory("simple", "simple-shared")


@pytest.fixture
def bucket_name(request):
    return s3util.unique_bucket(request.node.name[:20].replace("[", "-").strip("-_"))


@pytest.fixture
def alice(sigv4_daemon):
    """boto3 client of user alice on the shared SigV4 daemon."""
    return sigv4_daemon.boto3("alice")


@pytest.fixture
def bucket(alice, bucket_name):
    """A fresh bucket of alice's (test files may define their own)."""
    alice.create_bucket(Bucket=bucket_name)
    return bucket_name


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
