"""A headless Chromium under chromedriver for the tests that need a real
browser (test_cors.py: fetch() across origins; test_console.py: the web
console). Debian's chromium, chromium-driver and python3-selenium
(tools/install-deps.sh); the tests skip when they are missing."""
import contextlib
import shutil
import tempfile

import pytest

BASE_ARGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
             "--no-first-run", "--disable-background-networking",
             "--disable-component-update", "--disable-sync")


@contextlib.contextmanager
def chromium(*extra_args, capabilities=None):
    """A driver with a profile of its own (removed after), BASE_ARGS and
    extra_args; quit() at the end ends chromium and its driver, the only
    processes it started."""
    if not shutil.which("chromium") or not shutil.which("chromedriver"):
        pytest.skip("chromium and chromium-driver are not installed (tools/install-deps.sh)")
    from selenium import webdriver
    from selenium.webdriver.chrome.options import Options
    from selenium.webdriver.chrome.service import Service
    profile = tempfile.mkdtemp(prefix="atrium-chromium-")
    opts = Options()
    opts.binary_location = shutil.which("chromium")
    for a in BASE_ARGS + tuple(extra_args) + ("--user-data-dir=" + profile,):
        opts.add_argument(a)
    for k, v in (capabilities or {}).items():
        opts.set_capability(k, v)
    drv = webdriver.Chrome(service=Service(shutil.which("chromedriver")), options=opts)
    drv.set_script_timeout(30)
    try:
        yield drv
    finally:
        drv.quit()
        shutil.rmtree(profile, ignore_errors=True)
