"""Packaging: `make install` (DESTDIR and PREFIX), the systemd unit
(systemd-analyze verify), the man pages (man -l), bash completion, the
license, and install-deps.sh's run/build/test split."""
import os
import re
import shutil
import stat
import subprocess

import pytest

from conftest import ATRIUMD

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
ATRIUM = os.environ.get("ATRIUM") or os.path.join(ROOT, "bin", "atrium")


def make_install(*args):
    p = subprocess.run(["make", "-s", "-C", ROOT, "install"] + list(args), capture_output=True,
                       timeout=600, stdin=subprocess.DEVNULL)
    assert p.returncode == 0, p.stderr.decode(errors="replace")


def files_under(root):
    out = {}
    for d, _dirs, names in os.walk(root):
        for n in names:
            p = os.path.join(d, n)
            out[os.path.relpath(p, root)] = stat.S_IMODE(os.stat(p).st_mode)
    return out


def test_make_install_lays_out_the_files(tmp_path):
    dest = str(tmp_path / "stage")
    make_install("DESTDIR=" + dest)
    assert files_under(dest) == {
        "usr/local/sbin/atriumd": 0o755,
        "usr/local/bin/atrium": 0o755,
        "usr/local/share/man/man8/atriumd.8": 0o644,
        "usr/local/share/man/man1/atrium.1": 0o644,
        "usr/local/lib/systemd/system/atriumd.service": 0o644,
        "usr/local/lib/sysusers.d/atriumd.conf": 0o644,
        "usr/local/etc/atrium/atriumd.conf": 0o644,
        "usr/local/share/bash-completion/completions/atrium": 0o644,
        "etc/logrotate.d/atriumd": 0o644,
    }
    unit = open(os.path.join(dest, "usr/local/lib/systemd/system/atriumd.service")).read()
    assert "ExecStart=/usr/local/sbin/atriumd --config /usr/local/etc/atrium/atriumd.conf" in unit
    assert "Type=notify" in unit and "ExecReload=/bin/kill -HUP $MAINPID" in unit
    assert "@" not in unit.replace("$MAINPID", "")
    man8 = open(os.path.join(dest, "usr/local/share/man/man8/atriumd.8")).read()
    assert "/usr/local/etc/atrium/atriumd.conf" in man8 and "@SYSCONFDIR@" not in man8
    for b in ("usr/local/sbin/atriumd", "usr/local/bin/atrium"):
        p = subprocess.run([os.path.join(dest, b), "--version"], capture_output=True, timeout=30)
        assert p.returncode == 0 and re.match(rb"atriumd? \d", p.stdout), p.stdout
    # A configuration someone edited is never overwritten.
    conf = os.path.join(dest, "usr/local/etc/atrium/atriumd.conf")
    with open(conf, "a") as f:
        f.write("port 1234\n")
    make_install("DESTDIR=" + dest)
    assert open(conf).read().endswith("port 1234\n")
    # The installed sample configuration is one atriumd takes.
    data = str(tmp_path / "data")
    p = subprocess.run([os.path.join(dest, "usr/local/sbin/atriumd"), "--config", conf,
                        "--data", data, "--access-log", "-", "--help"],
                       capture_output=True, timeout=30)
    assert p.returncode == 0, p.stderr


def test_make_install_with_prefix_usr(tmp_path):
    dest = str(tmp_path / "stage")
    make_install("DESTDIR=" + dest, "PREFIX=/usr")
    got = set(files_under(dest))
    assert {"usr/sbin/atriumd", "usr/bin/atrium", "lib/systemd/system/atriumd.service",
            "etc/atrium/atriumd.conf", "usr/lib/sysusers.d/atriumd.conf",
            "usr/share/man/man8/atriumd.8"} <= got, got
    unit = open(os.path.join(dest, "lib/systemd/system/atriumd.service")).read()
    assert "ExecStart=/usr/sbin/atriumd --config /etc/atrium/atriumd.conf" in unit


def test_systemd_unit_verifies(tmp_path):
    if not shutil.which("systemd-analyze"):
        pytest.skip("systemd-analyze is not installed (Debian's systemd package)")
    # Installed under a prefix in the test's directory, so that the paths
    # in the unit exist as they are.
    prefix = str(tmp_path / "usr" / "local")
    make_install("PREFIX=" + prefix, "LOGROTATEDIR=" + str(tmp_path / "logrotate.d"))
    unit = os.path.join(prefix, "lib", "systemd", "system", "atriumd.service")
    p = subprocess.run(["systemd-analyze", "verify", unit], capture_output=True, timeout=120,
                       env=dict(os.environ, MANPATH=os.path.join(prefix, "share", "man")))
    out = (p.stdout + p.stderr).decode(errors="replace")
    if p.returncode and "Failed to" in out and "bus" in out.lower():
        pytest.skip("systemd-analyze cannot run in this container: %s" % out)
    assert p.returncode == 0, out


def man_text(page):
    p = subprocess.run(["man", "--warnings", "-l", page], capture_output=True, timeout=60,
                       env=dict(os.environ, MANWIDTH="100", MAN_KEEP_FORMATTING="0"))
    assert p.returncode == 0, p.stderr
    assert p.stderr.decode().strip() == "", p.stderr  # groff warnings
    return re.sub(r".\x08", "", p.stdout.decode())


def test_man_pages_render_and_name_every_setting_and_command():
    if not shutil.which("man"):
        pytest.skip("man is not installed (man-db, groff-base)")
    daemon = man_text(os.path.join(ROOT, "docs", "man", "atriumd.8"))
    help_ = subprocess.run([ATRIUMD, "--help"], capture_output=True, timeout=30).stdout.decode()
    settings = re.findall(r"^  --([a-z-]+)", help_, re.M)
    assert len(settings) > 20
    for s in settings + ["help", "version"]:
        assert "--" + s in daemon, s
    for word in ("SIGTERM", "SIGHUP", "DATA/lock", "NOTIFY_SOCKET"):
        assert word in daemon, word
    cli = man_text(os.path.join(ROOT, "docs", "man", "atrium.1"))
    top = subprocess.run([ATRIUM, "--help"], capture_output=True, timeout=30).stdout.decode()
    commands = re.findall(r"^  ((?:fs |user )?[a-z-]+) ", top, re.M)
    assert len(commands) > 20
    for c in commands:
        assert c in cli, c
    for opt in re.findall(r"^  (?:-k, )?(--[a-z-]+)", top, re.M):
        assert opt in cli, opt


def test_bash_completion():
    script = os.path.join(ROOT, "tools", "atrium.bash-completion")

    def complete(*words):
        line = "source %s; COMP_WORDS=(%s); COMP_CWORD=%d; _atrium; echo \"${COMPREPLY[*]}\"" % (
            script, " ".join("'%s'" % w for w in words), len(words) - 1)
        p = subprocess.run(["bash", "-c", line], capture_output=True, timeout=30)
        assert p.returncode == 0, p.stderr
        return p.stdout.decode().split()
    assert complete("atrium", "") == ["fs", "user", "report", "help", "--endpoint", "--profile",
                                      "--access-key", "--secret-key", "--region", "--cacert",
                                      "--insecure", "--help", "--version"]
    assert complete("atrium", "fs", "lo") == ["load"]
    assert complete("atrium", "--profile", "x", "user", "r") == ["rotate-key", "rm"]
    assert complete("atrium", "fs", "du", "--j") == ["--json"]


def test_license_is_apache_2():
    text = open(os.path.join(ROOT, "LICENSE")).read()
    assert "Apache License" in text and "Version 2.0, January 2004" in text


def test_install_deps_splits_run_from_build_and_test():
    script = os.path.join(ROOT, "tools", "install-deps.sh")

    def packages(kind):
        # The lists the script would install for kind, without installing.
        src = open(script).read()
        arrays = dict(re.findall(r"^(\w+)=\(\n(.*?)\n\)", src, re.M | re.S))
        pick = {"run": ["run"], "build": ["run", "build"], "test": ["run", "build", "tests"]}
        return [w for a in pick[kind] for w in arrays[a].split()]
    run, build, test = packages("run"), packages("build"), packages("test")
    assert run and not [p for p in run if p.endswith("-dev") or p in ("awscli", "nginx")]
    assert "libssl-dev" in build and "awscli" not in build and "nginx" not in build
    for p in ("systemd", "man-db", "groff-base", "awscli", "python3-pytest"):
        assert p in test
    p = subprocess.run(["bash", script, "everything"], capture_output=True, timeout=30)
    assert p.returncode == 2 and b"usage" in p.stderr
