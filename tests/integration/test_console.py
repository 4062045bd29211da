"""The web console (issue 20): /console/ served from the binary with strict
security headers, the redirect of a browser's "/", and headless Chromium
(Selenium) driving the console against a real daemon: sign in, buckets,
uploads (one PUT and a 20 MiB multipart one), listing with sizes, owners
and the fs ls columns, pagination and the prefix filter, the result seen
over S3 (boto3) and in the mount, download, share links, delete, sign out;
a key like <img src=x onerror=alert(1)> shown as text; a user without
rights gets AccessDenied, not data. Screenshots of the main pages go to
the test's temp dir (the path is printed)."""
import hashlib
import os
import re
import urllib.error
import urllib.request

import pytest

from browser_util import chromium

from s3util import client_error

CONSOLE_FILES = ("index.html", "app.js", "api.js", "sigv4.js", "chart.js", "style.css", "icon.svg")
WAIT = 30  # seconds any one browser condition may take


# ---- plain HTTP: headers, redirect, S3 clients unaffected -------------------

class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def get(daemon, path, headers=None, method="GET"):
    req = urllib.request.Request(daemon.url(path), headers=headers or {}, method=method)
    opener = urllib.request.build_opener(NoRedirect)
    try:
        with opener.open(req, timeout=30) as r:
            return r.status, r.headers, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.headers, e.read()


def check_security_headers(h):
    csp = h["Content-Security-Policy"]
    assert csp, "no Content-Security-Policy"
    directives = {d.split()[0]: d.split()[1:] for d in csp.split(";") if d.strip()}
    assert directives["default-src"] == ["'self'"], csp
    assert directives["script-src"] == ["'self'"], csp
    assert directives["frame-ancestors"] == ["'none'"], csp
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp, csp
    assert h["X-Content-Type-Options"] == "nosniff"
    assert h["X-Frame-Options"] == "DENY"


@pytest.fixture(scope="module")
def daemon(atriumd_factory):
    return atriumd_factory("sigv4", "console")


def test_console_files_and_headers(daemon):
    types = {".html": "text/html; charset=utf-8", ".js": "text/javascript; charset=utf-8",
             ".css": "text/css; charset=utf-8", ".svg": "image/svg+xml"}
    for name in ("",) + CONSOLE_FILES:
        status, h, body = get(daemon, "/console/" + name)
        assert status == 200, (name, status, body[:200])
        check_security_headers(h)
        ext = os.path.splitext(name or "index.html")[1]
        assert h["Content-Type"] == types[ext], (name, h["Content-Type"])
        assert h["Cache-Control"] == "no-cache" and h["ETag"], name
        assert int(h["Content-Length"]) == len(body) > 0
        # revalidation: the same ETag is a 304 without a body
        status, h2, body2 = get(daemon, "/console/" + name, {"If-None-Match": h["ETag"]})
        assert (status, body2) == (304, b""), name
        check_security_headers(h2)
    status, h, body = get(daemon, "/console/", method="HEAD")
    assert status == 200 and body == b"" and int(h["Content-Length"]) > 0
    check_security_headers(h)


def test_console_requests_are_counted_and_logged(atriumd_factory, tmp_path):
    """The console is a door like the others: its requests are in the
    metrics (door "console") and the access log (CONSOLE.<method>.<op>)."""
    log = tmp_path / "access.log"
    d = atriumd_factory("sigv4", "console-observed",
                        ["--access-log", str(log), "--metrics-public"])
    status, _, body = get(d, "/console/app.js", {"User-Agent": "console-test"})
    assert status == 200
    assert get(d, "/", {"Accept": "text/html"})[0] == 302
    metrics = get(d, "/api/v1/metrics")[2].decode()
    for op, code in (("GetFile", "200"), ("Redirect", "302")):
        want = 'atrium_requests_total{door="console",op="%s",status="%s"} 1' % (op, code)
        assert want in metrics, "\n".join(l for l in metrics.splitlines() if "console" in l)
    lines = log.read_text().splitlines()
    got = [l for l in lines if "CONSOLE.GET.GetFile" in l]
    assert len(got) == 1 and '"GET /console/app.js HTTP/1.1" 200' in got[0], lines
    assert " %d " % len(body) in got[0] and '"console-test"' in got[0], got[0]
    assert [l for l in lines if "CONSOLE.GET.Redirect" in l and " 302 " in l], lines


def test_no_inline_script_or_style(daemon):
    _, _, body = get(daemon, "/console/index.html")
    html = body.decode()
    scripts = re.findall(r"<script\b[^>]*>", html)
    assert scripts and all(" src=" in s for s in scripts), scripts
    bodies = re.findall(r"<script\b[^>]*>(.*?)</script>", html, re.S)
    assert len(bodies) == len(scripts) and all(not b.strip() for b in bodies), "inline script"
    assert not re.search(r"\son[a-z]+\s*=", html), "inline event handler"
    assert not re.search(r"\sstyle\s*=", html) and "<style" not in html, "inline style"
    # and no code reads data into HTML
    for name in ("app.js", "api.js", "chart.js", "sigv4.js"):
        _, _, js = get(daemon, "/console/" + name)
        assert b"innerHTML" not in js and b"outerHTML" not in js and b"insertAdjacentHTML" not in js, name
        assert b"eval(" not in js and b"new Function" not in js, name


def test_root_redirects_browsers_only(daemon):
    browser_accept = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
    status, h, _ = get(daemon, "/", {"Accept": browser_accept})
    assert status == 302 and h["Location"] == "/console/", (status, dict(h))
    check_security_headers(h)
    assert "Accept" in h["Vary"]
    status, h, _ = get(daemon, "/console", {"Accept": browser_accept})
    assert status == 302 and h["Location"] == "/console/"
    # anonymous non-HTML requests keep their S3 answer
    for accept in (None, "*/*", "application/xml"):
        status, h, body = get(daemon, "/", {"Accept": accept} if accept else {})
        assert status == 403 and b"<Code>AccessDenied</Code>" in body, (accept, status, body)
    # a signed ListBuckets is a ListBuckets, Accept: text/html or not
    r = daemon.request("GET", "/", {"Accept": browser_accept}, user="alice")
    assert r.status == 200 and b"ListAllMyBucketsResult" in r.body, r
    assert daemon.boto3("alice").list_buckets()["ResponseMetadata"]["HTTPStatusCode"] == 200
    # a query string makes it S3's too
    status, _, body = get(daemon, "/?list-type=2", {"Accept": browser_accept})
    assert status == 403 and b"AccessDenied" in body


def test_bucket_named_console_still_works(daemon):
    s3 = daemon.boto3("alice")
    s3.create_bucket(Bucket="console")
    try:
        s3.put_object(Bucket="console", Key="index.html", Body=b"alice's page")
        s3.put_object(Bucket="console", Key="other", Body=b"other bytes")
        got = s3.get_object(Bucket="console", Key="index.html")["Body"].read()
        assert got == b"alice's page"  # signed: S3's, not the console's file
        keys = [o["Key"] for o in s3.list_objects_v2(Bucket="console")["Contents"]]
        assert keys == ["index.html", "other"]
        # unsigned: a key no console file is named after is S3's (private: 403)
        status, _, body = get(daemon, "/console/other")
        assert status == 403 and b"AccessDenied" in body
        # other methods are S3's
        status, _, body = get(daemon, "/console/", method="DELETE")
        assert status == 403 and b"AccessDenied" in body
    finally:
        for k in ("index.html", "other"):
            s3.delete_object(Bucket="console", Key=k)
        s3.delete_bucket(Bucket="console")
    status, _, body = get(daemon, "/console/nosuchfile.js")
    assert status == 404 and b"NoSuchBucket" in body


# ---- the browser -------------------------------------------------------------

@pytest.fixture(scope="module")
def shots(tmp_path_factory):
    d = tmp_path_factory.mktemp("console-screenshots")
    print("\nconsole screenshots: %s" % d)
    return d


@pytest.fixture(scope="module")
def downloads(tmp_path_factory):
    return tmp_path_factory.mktemp("console-downloads")


@pytest.fixture(scope="module")
def browser(downloads):
    # --ignore-certificate-errors: test_https's daemon has a self-signed one
    with chromium("--window-size=1280,900", "--ignore-certificate-errors",
                  capabilities={"goog:loggingPrefs": {"browser": "ALL"}}) as drv:
        drv.execute_cdp_cmd("Page.setDownloadBehavior",
                            {"behavior": "allow", "downloadPath": str(downloads)})
        yield drv


def wait(browser, cond, what):
    from selenium.webdriver.support.ui import WebDriverWait
    from selenium.common.exceptions import TimeoutException
    try:
        return WebDriverWait(browser, WAIT).until(lambda d: cond(d))
    except TimeoutException:
        raise AssertionError("waited %ss for: %s (page alert: %r)" % (
            WAIT, what() if callable(what) else what, alert_text(browser))) from None


def by_id(browser, i):
    from selenium.webdriver.common.by import By
    return browser.find_element(By.ID, i)


def visible(browser, i):
    return wait(browser, lambda d: by_id(d, i).is_displayed() and by_id(d, i), "#%s visible" % i)


def alert_text(browser):
    el = by_id(browser, "alert")
    return el.text if el.is_displayed() else ""


def no_js_alert(browser):
    from selenium.common.exceptions import NoAlertPresentException
    try:
        text = browser.switch_to.alert.text
    except NoAlertPresentException:
        return True
    browser.switch_to.alert.dismiss()
    raise AssertionError("a JavaScript alert opened: %r" % text)


def sign_in(browser, daemon, user, expect_ok=True):
    ak, sk = daemon.keys(user)
    browser.get(daemon.url("/console/"))
    if by_id(browser, "signout").is_displayed():
        by_id(browser, "signout").click()
    visible(browser, "signin-form")
    by_id(browser, "access-key").send_keys(ak)
    from selenium.webdriver.common.keys import Keys
    by_id(browser, "secret-key").send_keys(sk + Keys.ENTER)  # the keyboard submits
    if expect_ok:
        visible(browser, "browse-view")
        wait(browser, lambda d: by_id(d, "whoami").text == ak, "signed in")


def open_dir(browser, daemon, bucket, prefix=""):
    import urllib.parse
    # a status left by the page before must not pass for this listing's
    browser.execute_script("const s = document.getElementById('status'); if (s) s.textContent = '';")
    browser.get(daemon.url("/console/#/b/%s/%s" % (urllib.parse.quote(bucket, safe=""),
                                                   urllib.parse.quote(prefix, safe=""))))
    visible(browser, "object-tools")
    wait(browser, lambda d: "entries shown" in by_id(d, "status").text or alert_text(d),
         "listing loaded")


def rows(browser):
    """The listing's rows as (key, [cell texts])."""
    return browser.execute_script(
        "return Array.from(document.querySelectorAll('#rows tr')).map(tr => "
        "[tr.dataset.key, Array.from(tr.cells).map(td => td.textContent)]);")


def row(browser, key):
    for k, cells in rows(browser):
        if k == key:
            return cells
    return None


def upload(browser, paths):
    from selenium.webdriver.common.by import By
    inp = browser.find_element(By.ID, "upload-input")
    inp.send_keys("\n".join(str(p) for p in paths))


def upload_done(browser, key):
    return browser.execute_script(
        "const li = Array.from(document.querySelectorAll('#uploads li'))"
        ".find(l => l.dataset.key === arguments[0]); return li ? (li.dataset.state || '') : null;", key)


def confirm(browser):
    visible(browser, "confirm-dialog")
    by_id(browser, "confirm-yes").click()


@pytest.fixture
def mdaemon(mount_daemon, mount_watchdog):
    return mount_daemon


def test_browser_flow(browser, mdaemon, bucket_name, tmp_path, shots, downloads):
    d = mdaemon
    s3 = d.boto3("alice")
    sign_in(browser, d, "alice")
    browser.save_screenshot(str(shots / "buckets-empty.png"))
    # create a bucket
    by_id(browser, "new-bucket").send_keys(bucket_name)
    by_id(browser, "create-bucket-form").submit()
    wait(browser, lambda b: row_link(b, bucket_name), "bucket listed")
    assert s3.head_bucket(Bucket=bucket_name)["ResponseMetadata"]["HTTPStatusCode"] == 200
    # upload a small file
    open_dir(browser, d, bucket_name)
    data = os.urandom(123457)
    src = tmp_path / "hello file.bin"
    src.write_bytes(data)
    upload(browser, [src])
    wait(browser, lambda b: upload_done(b, "hello file.bin") == "done", "upload done")
    wait(browser, lambda b: row(b, "hello file.bin"), "file listed")
    cells = row(browser, "hello file.bin")
    # name, size, owner, modified, mode, persisted, in cache, actions
    assert cells[0] == "hello file.bin"
    assert cells[1] == "121 KiB", cells
    assert cells[2] == "alice", cells  # the user id, as fs ls shows it
    assert re.match(r"-[rwx-]{9}$", cells[4]), cells
    assert cells[5] in ("PERSISTED", "TO_BE_PERSISTED", "NOT_PERSISTED"), cells
    assert re.match(r"\d+%$", cells[6]), cells
    size_title = browser.execute_script(
        "return document.querySelector('#rows tr[data-key=\"hello file.bin\"] td.num').title")
    assert size_title == "%d bytes" % len(data)
    # over S3 and in the mount
    got = s3.get_object(Bucket=bucket_name, Key="hello file.bin")
    assert got["Body"].read() == data and got["ContentLength"] == len(data)
    with open(d.path(bucket_name, "hello file.bin"), "rb") as f:
        assert f.read() == data
    # a folder
    by_id(browser, "new-dir").send_keys("sub dir")
    by_id(browser, "mkdir-form").submit()
    wait(browser, lambda b: row(b, "sub dir/"), "folder listed")
    assert os.path.isdir(d.path(bucket_name, "sub dir"))
    browser.save_screenshot(str(shots / "objects.png"))
    # download it and compare bytes
    browser.execute_script(
        "document.querySelector('#rows tr[data-key=\"hello file.bin\"] button[aria-label^=Download]').click()")
    target = downloads / "hello file.bin"
    wait(browser, lambda b: target.exists() and target.stat().st_size == len(data), "downloaded")
    assert target.read_bytes() == data
    # details and a share link
    browser.execute_script(
        "document.querySelector('#rows tr[data-key=\"hello file.bin\"] .name-link').click()")
    visible(browser, "details-dialog")
    wait(browser, lambda b: "etag" in by_id(b, "details-headers").text, "headers shown")
    assert '"%s"' % hashlib.md5(data).hexdigest() in by_id(browser, "details-headers").text
    wait(browser, lambda b: "persist" in by_id(b, "details-fs").text, "fs stat shown")
    browser.save_screenshot(str(shots / "details.png"))
    # the cache buttons: free, then load again (admin fs/free, fs/load)
    by_id(browser, "details-free").click()
    wait(browser, lambda b: by_id(b, "status").text.startswith("free: 1 file(s)"), "freed")
    wait(browser, lambda b: re.search(r"in cache\s+0 B", by_id(b, "details-fs").text), "0 B cached")
    by_id(browser, "details-load").click()
    wait(browser, lambda b: by_id(b, "status").text.startswith("load: 1 file(s)"), "loaded")
    wait(browser, lambda b: re.search(r"in cache\s+121 KiB", by_id(b, "details-fs").text),
         lambda: "all cached: %r" % by_id(browser, "details-fs").text)
    by_id(browser, "details-share").click()
    visible(browser, "share-dialog")
    from selenium.webdriver.support.ui import Select
    Select(by_id(browser, "share-expiry")).select_by_value("900")
    by_id(browser, "share-form").submit()
    wait(browser, lambda b: by_id(b, "share-url").get_attribute("value"), "link made")
    link = by_id(browser, "share-url").get_attribute("value")
    assert "X-Amz-Expires=900" in link and link.startswith(d.endpoint + "/")
    with urllib.request.urlopen(link, timeout=30) as r:
        assert r.read() == data
    browser.execute_script("document.getElementById('share-dialog').close();"
                           "document.getElementById('details-dialog').close();")
    # delete it, with confirmation
    browser.execute_script(
        "document.querySelector('#rows tr[data-key=\"hello file.bin\"] button[aria-label^=Delete]').click()")
    confirm(browser)
    # the listing is read again after the delete returned
    wait(browser, lambda b: row(b, "hello file.bin") is None and row(b, "sub dir/"),
         "file gone from the listing")
    assert client_error(s3.head_object, Bucket=bucket_name, Key="hello file.bin")[0] == 404
    assert not os.path.exists(d.path(bucket_name, "hello file.bin"))
    # sign out: the keys are gone from the tab
    by_id(browser, "signout").click()
    visible(browser, "signin-form")
    assert browser.execute_script("return sessionStorage.length") == 0
    browser.get(d.url("/console/#/b/" + bucket_name + "/"))
    visible(browser, "signin-form")
    assert not by_id(browser, "browse-view").is_displayed()
    browser.save_screenshot(str(shots / "signin.png"))
    s3.delete_object(Bucket=bucket_name, Key="sub dir/")
    s3.delete_bucket(Bucket=bucket_name)


def row_link(browser, name):
    return browser.execute_script(
        "return Array.from(document.querySelectorAll('#rows td.name a')).some(a => a.textContent === arguments[0]);",
        name)


def test_multipart_upload(browser, mdaemon, bucket_name, tmp_path):
    d = mdaemon
    s3 = d.boto3("alice")
    s3.create_bucket(Bucket=bucket_name)
    data = os.urandom(20 * 1024 * 1024 + 12345)
    src = tmp_path / "big.bin"
    src.write_bytes(data)
    sign_in(browser, d, "alice")
    open_dir(browser, d, bucket_name)
    upload(browser, [src])
    wait(browser, lambda b: upload_done(b, "big.bin") is not None, "upload started")
    assert browser.execute_script(
        "return document.querySelector('#uploads li[data-key=\"big.bin\"] .upload-state').textContent") \
        in ("multipart", "done")
    wait(browser, lambda b: upload_done(b, "big.bin") == "done", "multipart upload done")
    assert browser.execute_script(
        "const p = document.querySelector('#uploads li[data-key=\"big.bin\"] progress');"
        "return [p.value, p.max];") == [len(data), len(data)]
    wait(browser, lambda b: row(b, "big.bin"), "listed")
    assert row(browser, "big.bin")[1] == "20.0 MiB"
    head = s3.head_object(Bucket=bucket_name, Key="big.bin")
    assert head["ContentLength"] == len(data)
    assert head["ETag"].strip('"').endswith("-3"), head["ETag"]  # 8 + 8 + 4 MiB parts
    assert s3.get_object(Bucket=bucket_name, Key="big.bin")["Body"].read() == data
    assert os.path.getsize(d.path(bucket_name, "big.bin")) == len(data)
    assert s3.list_multipart_uploads(Bucket=bucket_name).get("Uploads", []) == []
    s3.delete_object(Bucket=bucket_name, Key="big.bin")
    s3.delete_bucket(Bucket=bucket_name)


XSS = "<img src=x onerror=alert(1)>"


def test_xss_key_is_text(browser, daemon, bucket_name):
    s3 = daemon.boto3("alice")
    s3.create_bucket(Bucket=bucket_name)
    s3.put_object(Bucket=bucket_name, Key=XSS, Body=b"x")
    s3.put_object(Bucket=bucket_name, Key=XSS + "/inner <b onclick=alert(2)>bold", Body=b"y")
    sign_in(browser, daemon, "alice")
    open_dir(browser, daemon, bucket_name)
    wait(browser, lambda b: row(b, XSS), lambda: "xss key listed: %r %r %r" % (
        rows(browser), by_id(browser, "status").text, browser.get_log("browser")))
    assert row(browser, XSS)[0] == XSS
    assert row(browser, XSS + "/")[0] == XSS + "/"
    assert browser.execute_script("return document.querySelectorAll('main img, main b').length") == 0
    no_js_alert(browser)
    # into the folder: breadcrumbs and rows
    browser.execute_script(
        "document.querySelector('#rows tr[data-key=\"' + CSS.escape(arguments[0]) + '\"] a').click()",
        XSS + "/")
    wait(browser, lambda b: row(b, XSS + "/inner <b onclick=alert(2)>bold"),
         lambda: "inner listed: %r %r %r" % (browser.current_url, rows(browser), alert_text(browser)))
    assert XSS in by_id(browser, "crumbs").text
    assert row(browser, XSS + "/inner <b onclick=alert(2)>bold")[0] == "inner <b onclick=alert(2)>bold"
    # details
    browser.execute_script("document.querySelector('#rows .name-link').click()")
    visible(browser, "details-dialog")
    wait(browser, lambda b: "etag" in by_id(b, "details-headers").text, "details")
    assert by_id(browser, "details-key").text == bucket_name + "/" + XSS + "/inner <b onclick=alert(2)>bold"
    assert browser.execute_script("return document.querySelectorAll('img, b').length") == 0
    no_js_alert(browser)
    browser.execute_script("document.getElementById('details-dialog').close()")
    for k in (XSS, XSS + "/inner <b onclick=alert(2)>bold"):
        s3.delete_object(Bucket=bucket_name, Key=k)
    s3.delete_bucket(Bucket=bucket_name)


def test_pagination_and_filter(browser, daemon, bucket_name):
    s3 = daemon.boto3("alice")
    s3.create_bucket(Bucket=bucket_name)
    keys = ["k-%03d" % i for i in range(150)]
    for k in keys:
        s3.put_object(Bucket=bucket_name, Key=k, Body=k.encode())
    sign_in(browser, daemon, "alice")
    open_dir(browser, daemon, bucket_name)
    wait(browser, lambda b: len(rows(b)) == 100, "first page")
    assert [k for k, _ in rows(browser)] == keys[:100]
    # the fs ls columns are there on the first page and the next
    assert all(re.match(r"-[rwx-]{9}$", c[4]) for _, c in rows(browser)), rows(browser)[:3]
    by_id(browser, "more").click()
    wait(browser, lambda b: len(rows(b)) == 150, "second page")
    assert [k for k, _ in rows(browser)] == keys
    assert all(re.match(r"-[rwx-]{9}$", c[4]) and c[6] for _, c in rows(browser)), rows(browser)[100:103]
    assert not by_id(browser, "more").is_displayed()
    by_id(browser, "filter").send_keys("k-12")
    by_id(browser, "filter-form").submit()
    wait(browser, lambda b: [k for k, _ in rows(b)] == keys[120:130], "filtered")
    for k in keys:
        s3.delete_object(Bucket=bucket_name, Key=k)
    s3.delete_bucket(Bucket=bucket_name)


def test_access_denied(browser, daemon, bucket_name):
    s3 = daemon.boto3("alice")
    s3.create_bucket(Bucket=bucket_name)
    s3.put_object(Bucket=bucket_name, Key="secret-name", Body=b"secret")
    # a wrong secret: an error, still signed out
    browser.get(daemon.url("/console/"))
    if by_id(browser, "signout").is_displayed():
        by_id(browser, "signout").click()
    visible(browser, "signin-form")
    by_id(browser, "access-key").send_keys("AKIDBOB")
    by_id(browser, "secret-key").send_keys("not the secret")
    by_id(browser, "signin-button").click()
    wait(browser, lambda b: "SignatureDoesNotMatch" in alert_text(b), "refused")
    assert browser.execute_script("return sessionStorage.length") == 0
    # bob: alice's bucket is AccessDenied, and nothing of it is shown
    sign_in(browser, daemon, "bob")
    open_dir(browser, daemon, bucket_name)
    wait(browser, lambda b: "AccessDenied" in alert_text(b), "AccessDenied shown")
    assert rows(browser) == []
    assert "secret-name" not in browser.page_source
    # nor can bob delete it
    browser.get(daemon.url("/console/#/b"))
    visible(browser, "bucket-tools")
    assert not row_link(browser, bucket_name)
    assert s3.get_object(Bucket=bucket_name, Key="secret-name")["Body"].read() == b"secret"
    s3.delete_object(Bucket=bucket_name, Key="secret-name")
    s3.delete_bucket(Bucket=bucket_name)


def test_overview(browser, daemon, shots):
    sign_in(browser, daemon, "alice")
    by_id(browser, "nav-overview").click()
    visible(browser, "overview-view")
    # two polls make a rate; the charts are SVG
    wait(browser, lambda b: int(by_id(b, "overview-view").get_attribute("data-samples") or 0) >= 2,
         "two samples")
    assert "memory" in by_id(browser, "tiers").text
    assert "version" in by_id(browser, "daemon-facts").text
    assert re.search(r"state\s+ready", by_id(browser, "daemon-facts").text)
    assert browser.execute_script("return document.querySelectorAll('#chart-requests svg polyline').length") >= 1
    assert "s3" in by_id(browser, "chart-requests").text
    assert "s3 p99 ms" in by_id(browser, "chart-latency").text
    assert "admin p50 ms" in by_id(browser, "chart-latency").text
    assert alert_text(browser) == ""
    # some S3 traffic, for the charts to show (and the screenshot)
    s3 = daemon.boto3("alice")
    name = "overview-%d" % os.getpid()
    s3.create_bucket(Bucket=name)
    n = int(by_id(browser, "overview-view").get_attribute("data-samples"))
    for i in range(30):
        s3.put_object(Bucket=name, Key="k%d" % i, Body=os.urandom(64 * 1024))
        s3.get_object(Bucket=name, Key="k%d" % i)["Body"].read()
    wait(browser, lambda b: int(by_id(b, "overview-view").get_attribute("data-samples")) >= n + 2,
         "two more samples")
    for i in range(30):
        s3.delete_object(Bucket=name, Key="k%d" % i)
    s3.delete_bucket(Bucket=name)
    browser.save_screenshot(str(shots / "overview.png"))


def test_phone_width(browser, daemon, bucket_name, shots):
    s3 = daemon.boto3("alice")
    s3.create_bucket(Bucket=bucket_name)
    s3.put_object(Bucket=bucket_name, Key="a rather long object name to wrap on a phone.txt", Body=b"1")
    browser.set_window_size(390, 844)
    try:
        sign_in(browser, daemon, "alice")
        open_dir(browser, daemon, bucket_name)
        wait(browser, lambda b: len(rows(b)) == 1, "listed")
        # nothing wider than the screen; the optional columns are hidden
        assert browser.execute_script(
            "return document.documentElement.scrollWidth <= window.innerWidth + 1")
        assert by_id(browser, "upload-button").is_displayed()
        browser.save_screenshot(str(shots / "phone.png"))
    finally:
        browser.set_window_size(1280, 900)
    s3.delete_object(Bucket=bucket_name, Key="a rather long object name to wrap on a phone.txt")
    s3.delete_bucket(Bucket=bucket_name)


def test_multipart_cancel(browser, daemon, bucket_name, tmp_path):
    s3 = daemon.boto3("alice")
    s3.create_bucket(Bucket=bucket_name)
    src = tmp_path / "cancelled.bin"
    src.write_bytes(os.urandom(20 * 1024 * 1024))
    sign_in(browser, daemon, "alice")
    open_dir(browser, daemon, bucket_name)
    # slow the browser's uploads (2 MiB/s), so that cancel comes mid-way
    browser.execute_cdp_cmd("Network.enable", {})
    browser.execute_cdp_cmd("Network.emulateNetworkConditions", {
        "offline": False, "latency": 0, "downloadThroughput": -1,
        "uploadThroughput": 2 * 1024 * 1024})
    try:
        upload(browser, [src])
        # the upload exists and bytes are moving
        wait(browser, lambda b: s3.list_multipart_uploads(Bucket=bucket_name).get("Uploads"),
             "the multipart upload created")
        wait(browser, lambda b: b.execute_script(
            "const p = document.querySelector('#uploads li[data-key=\"cancelled.bin\"] progress');"
            "return p && p.value > 0;"), "progress")
        browser.execute_script(
            "document.querySelector('#uploads li[data-key=\"cancelled.bin\"] button').click()")
        wait(browser, lambda b: upload_done(b, "cancelled.bin") == "cancelled", "cancelled")
    finally:
        browser.execute_cdp_cmd("Network.emulateNetworkConditions", {
            "offline": False, "latency": 0, "downloadThroughput": -1, "uploadThroughput": -1})
    # aborted: no upload left, no object
    wait(browser, lambda b: not s3.list_multipart_uploads(Bucket=bucket_name).get("Uploads"),
         "the multipart upload aborted")
    assert client_error(s3.head_object, Bucket=bucket_name, Key="cancelled.bin")[0] == 404
    assert alert_text(browser) == ""
    s3.delete_bucket(Bucket=bucket_name)


def test_folder_upload_sort_and_folder_delete(browser, daemon, bucket_name, tmp_path):
    s3 = daemon.boto3("alice")
    s3.create_bucket(Bucket=bucket_name)
    folder = tmp_path / "photos"
    (folder / "2024").mkdir(parents=True)
    files = {"photos/a.bin": 3000, "photos/b.bin": 10, "photos/2024/c.bin": 700}
    for rel, n in files.items():
        (tmp_path / rel).write_bytes(os.urandom(n))
    sign_in(browser, daemon, "alice")
    open_dir(browser, daemon, bucket_name)
    # the folder picker: every file, with its path below the folder
    by_id(browser, "upload-dir-input").send_keys(str(folder))
    for rel in files:
        wait(browser, lambda b: upload_done(b, rel) == "done", "%s uploaded" % rel)
    for rel, n in files.items():
        assert s3.get_object(Bucket=bucket_name, Key=rel)["Body"].read() == \
            (tmp_path / rel).read_bytes()
    open_dir(browser, daemon, bucket_name, "photos/")
    wait(browser, lambda b: len(rows(b)) == 3, "three entries")
    assert [k for k, _ in rows(browser)] == ["photos/2024/", "photos/a.bin", "photos/b.bin"]
    # sort by size, then the other way
    from selenium.webdriver.common.by import By
    size_th = browser.find_element(By.CSS_SELECTOR, "th[data-sort=size]")
    size_th.find_element(By.TAG_NAME, "button").click()
    assert [k for k, _ in rows(browser)] == ["photos/2024/", "photos/b.bin", "photos/a.bin"]
    assert size_th.get_attribute("aria-sort") == "ascending"
    size_th.find_element(By.TAG_NAME, "button").click()
    assert [k for k, _ in rows(browser)] == ["photos/a.bin", "photos/b.bin", "photos/2024/"]
    assert size_th.get_attribute("aria-sort") == "descending"
    # delete the folder and what it holds, after a confirmation
    open_dir(browser, daemon, bucket_name)
    wait(browser, lambda b: row(b, "photos/"), "folder listed")
    browser.execute_script(
        "document.querySelector('#rows tr[data-key=\"photos/\"] button[aria-label^=Delete]').click()")
    confirm(browser)
    wait(browser, lambda b: s3.list_objects_v2(Bucket=bucket_name)["KeyCount"] == 0, "nothing left")
    # listed again once the delete returned
    wait(browser, lambda b: by_id(b, "status").text == "0 entries shown" and not rows(b),
         "folder gone from the listing")
    assert alert_text(browser) == ""
    s3.delete_bucket(Bucket=bucket_name)


def test_rename(browser, daemon, bucket_name):
    s3 = daemon.boto3("alice")
    s3.create_bucket(Bucket=bucket_name)
    s3.put_object(Bucket=bucket_name, Key="old name.txt", Body=b"renamed bytes")
    sign_in(browser, daemon, "alice")
    open_dir(browser, daemon, bucket_name)
    wait(browser, lambda b: row(b, "old name.txt"), "listed")
    browser.execute_script(
        "document.querySelector('#rows tr[data-key=\"old name.txt\"] button[aria-label^=Rename]').click()")
    visible(browser, "rename-dialog")
    box = by_id(browser, "rename-to")
    assert box.get_attribute("value") == "old name.txt"
    box.clear()
    from selenium.webdriver.common.keys import Keys
    box.send_keys("moved/new name.txt" + Keys.ENTER)
    wait(browser, lambda b: row(b, "moved/") and row(b, "old name.txt") is None, "renamed")
    assert s3.get_object(Bucket=bucket_name, Key="moved/new name.txt")["Body"].read() == b"renamed bytes"
    assert client_error(s3.head_object, Bucket=bucket_name, Key="old name.txt")[0] == 404
    # a bad name is refused in the page, with a message
    browser.execute_script(
        "document.querySelector('#rows tr[data-key=\"moved/\"] button[aria-label^=Rename]').click()")
    visible(browser, "rename-dialog")
    box = by_id(browser, "rename-to")
    box.clear()
    box.send_keys("a/../b" + Keys.ENTER)
    wait(browser, lambda b: "no empty" in alert_text(b), "refused")
    by_id(browser, "rename-no").click()
    s3.delete_object(Bucket=bucket_name, Key="moved/new name.txt")
    s3.delete_bucket(Bucket=bucket_name)


def test_move_into_another_bucket(browser, daemon, bucket_name):
    s3 = daemon.boto3("alice")
    other = bucket_name + "-to"
    s3.create_bucket(Bucket=bucket_name)
    s3.create_bucket(Bucket=other)
    s3.put_object(Bucket=bucket_name, Key="f.txt", Body=b"moving bytes")
    s3.put_object(Bucket=bucket_name, Key="dir/a", Body=b"a")
    s3.put_object(Bucket=bucket_name, Key="dir/sub/b", Body=b"bb")
    sign_in(browser, daemon, "alice")
    open_dir(browser, daemon, bucket_name)
    wait(browser, lambda b: row(b, "f.txt"), "listed")
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.support.ui import Select
    for key, to in (("f.txt", "in/g.txt"), ("dir/", "moved")):
        browser.execute_script(
            "document.querySelector('#rows tr[data-key=\"' + arguments[0] + '\"] "
            "button[aria-label^=Rename]').click()", key)
        visible(browser, "rename-dialog")
        pick = Select(by_id(browser, "rename-bucket"))
        # the bucket it is in first, then the user's others
        wait(browser, lambda b: len(pick.options) >= 2, "the other buckets offered")
        assert pick.first_selected_option.get_attribute("value") == bucket_name
        assert other in [o.get_attribute("value") for o in pick.options]
        pick.select_by_value(other)
        box = by_id(browser, "rename-to")
        box.clear()
        box.send_keys(to + Keys.ENTER)
        wait(browser, lambda b: row(b, key) is None, "%s gone from its bucket" % key)
    assert s3.get_object(Bucket=other, Key="in/g.txt")["Body"].read() == b"moving bytes"
    assert s3.get_object(Bucket=other, Key="moved/a")["Body"].read() == b"a"
    assert s3.get_object(Bucket=other, Key="moved/sub/b")["Body"].read() == b"bb"
    assert s3.list_objects_v2(Bucket=bucket_name)["KeyCount"] == 0
    assert alert_text(browser) == ""
    for k in ("in/g.txt", "moved/a", "moved/sub/b"):
        s3.delete_object(Bucket=other, Key=k)
    s3.delete_bucket(Bucket=other)
    s3.delete_bucket(Bucket=bucket_name)


def test_folder_cache_actions(browser, daemon, bucket_name):
    """Load, free and persist of a folder: every file below it, a file at a
    time, with a progress bar that ends full and a count of files."""
    s3 = daemon.boto3("alice")
    s3.create_bucket(Bucket=bucket_name)
    sizes = {"f/a": 70000, "f/b": 130000, "f/sub/c": 5000}
    for k, n in sizes.items():
        s3.put_object(Bucket=bucket_name, Key=k, Body=os.urandom(n))
    s3.put_object(Bucket=bucket_name, Key="outside", Body=b"x" * 1000)
    s3.get_object(Bucket=bucket_name, Key="outside")["Body"].read()  # now cached
    sign_in(browser, daemon, "alice")

    def job(action):
        return browser.execute_script(
            "const li = Array.from(document.querySelectorAll('#uploads li'))"
            ".find(l => l.dataset.job === arguments[0]); if (!li) return null;"
            "const p = li.querySelector('progress');"
            "return [li.dataset.state || '', li.textContent, p.value, p.max];", action)

    def cached(key):
        return int(row(browser, key)[6].rstrip("%"))

    open_dir(browser, daemon, bucket_name, "f/")
    wait(browser, lambda b: row(b, "f/a"), "listed")
    for action, pct in (("free", 0), ("load", 100), ("persist", 100)):
        by_id(browser, "folder-" + action).click()
        wait(browser, lambda b: (job(action) or [""])[0] == "done", "%s done" % action)
        state, text, value, top = job(action)
        assert "3 of 3 files" in text, text
        assert value == top == sum(sizes.values())
        wait(browser, lambda b: row(b, "f/a") and cached("f/a") == pct, "f/a at %d%%" % pct)
        assert cached("f/b") == pct
        browser.execute_script("document.getElementById('uploads').replaceChildren();")
    # the file outside the folder was left alone: still whole in the cache
    open_dir(browser, daemon, bucket_name)
    wait(browser, lambda b: row(b, "outside"), "listed")
    assert cached("outside") == 100
    # in the details, the one file's action shows busy, then answers
    browser.execute_script(
        "document.querySelector('#rows tr[data-key=\"outside\"] .name-link').click()")
    visible(browser, "details-dialog")
    wait(browser, lambda b: "persist" in by_id(b, "details-fs").text, "fs stat shown")
    by_id(browser, "details-free").click()
    wait(browser, lambda b: by_id(b, "status").text.startswith("free: 1 file(s)"), "freed")
    assert not by_id(browser, "details-busy").is_displayed()
    assert by_id(browser, "details-load").is_enabled()
    by_id(browser, "details-close").click()
    for k in list(sizes) + ["outside"]:
        s3.delete_object(Bucket=bucket_name, Key=k)
    s3.delete_bucket(Bucket=bucket_name)


def test_users_page(browser, daemon):
    import uuid
    user = "dave" + uuid.uuid4().hex[:8]
    # alice is no superuser: the page shows the API's AccessDenied, no list
    sign_in(browser, daemon, "alice")
    browser.get(daemon.url("/console/#/users"))
    visible(browser, "users-view")
    wait(browser, lambda b: "AccessDenied" in alert_text(b), "AccessDenied for alice")
    assert browser.execute_script("return document.querySelectorAll('#user-rows tr').length") == 0
    # the daemon's superuser adds a user, whose new keys work at once
    sign_in(browser, daemon, "admin")
    browser.get(daemon.url("/console/#/users"))
    visible(browser, "users-view")
    wait(browser, lambda b: "users" in by_id(b, "status").text, "users listed")
    by_id(browser, "new-user").send_keys(user)
    by_id(browser, "add-user-form").submit()
    visible(browser, "new-keys")
    wait(browser, lambda b: browser.execute_script(
        "return !!document.querySelector('#user-rows tr[data-user=\"' + arguments[0] + '\"]')", user),
        "the user listed")
    facts = by_id(browser, "new-keys-list").find_elements("tag name", "dd")
    ak, sk = facts[1].text, facts[2].text
    s3 = daemon.boto3(access_key=ak, secret=sk)
    assert s3.list_buckets()["ResponseMetadata"]["HTTPStatusCode"] == 200
    # disable (confirmed): the keys stop working
    browser.execute_script(
        "document.querySelector('#user-rows tr[data-user=\"' + arguments[0] + '\"] button').click()", user)
    confirm(browser)
    wait(browser, lambda b: "Inactive" in (row_text(b, user) or ""), "disabled")
    assert client_error(s3.list_buckets)[0] == 403
    # remove
    browser.execute_script(
        "document.querySelector('#user-rows tr[data-user=\"' + arguments[0] + '\"] button[aria-label^=Remove]').click()",
        user)
    confirm(browser)
    # listed again after the removal returned
    wait(browser, lambda b: row_text(b, user) is None and
         re.match(r"\d+ users$", by_id(b, "status").text), "removed")
    assert alert_text(browser) == ""
    by_id(browser, "signout").click()
    visible(browser, "signin-form")
    assert by_id(browser, "new-keys-list").text == ""


def row_text(browser, user):
    return browser.execute_script(
        "const tr = document.querySelector('#user-rows tr[data-user=\"' + arguments[0] + '\"]');"
        "return tr ? tr.textContent : null;", user)


def test_odd_names_upload_and_download(browser, daemon, bucket_name, tmp_path, downloads):
    """Signing of paths with spaces, '+', '%', '&', '=' and non-ASCII, in
    the browser's PUT, HEAD, presigned GET and DELETE."""
    s3 = daemon.boto3("alice")
    s3.create_bucket(Bucket=bucket_name)
    name = "ünï cödé+100%&a=b ✓.txt"
    data = b"odd names work"
    (tmp_path / name).write_bytes(data)
    sign_in(browser, daemon, "alice")
    open_dir(browser, daemon, bucket_name)
    upload(browser, [tmp_path / name])
    wait(browser, lambda b: upload_done(b, name) == "done", "uploaded")
    assert s3.get_object(Bucket=bucket_name, Key=name)["Body"].read() == data
    wait(browser, lambda b: row(b, name), "listed")
    browser.execute_script(
        "document.querySelector('#rows tr[data-key=\"' + CSS.escape(arguments[0]) + '\"] .name-link').click()",
        name)
    visible(browser, "details-dialog")
    wait(browser, lambda b: "etag" in by_id(b, "details-headers").text, "HEAD signed")
    by_id(browser, "details-download").click()
    target = downloads / name
    wait(browser, lambda b: target.exists() and target.read_bytes() == data, "downloaded")
    by_id(browser, "details-delete").click()
    confirm(browser)
    wait(browser, lambda b: not s3.list_objects_v2(Bucket=bucket_name).get("Contents"), "deleted")
    assert alert_text(browser) == ""
    s3.delete_bucket(Bucket=bucket_name)


def test_bucket_errors_and_delete_from_listing(browser, daemon, bucket_name):
    s3 = daemon.boto3("alice")
    sign_in(browser, daemon, "alice")
    browser.get(daemon.url("/console/#/b"))
    visible(browser, "bucket-tools")
    # a bad name is refused in the page, with the rule
    by_id(browser, "new-bucket").send_keys("Bad_Name")
    by_id(browser, "create-bucket-form").submit()
    wait(browser, lambda b: "3 to 63 lower-case" in alert_text(b), "name refused")
    # one that exists is the server's answer
    s3.create_bucket(Bucket=bucket_name)
    s3.put_object(Bucket=bucket_name, Key="keep", Body=b"k")
    box = by_id(browser, "new-bucket")
    box.clear()
    box.send_keys(bucket_name)
    by_id(browser, "create-bucket-form").submit()
    wait(browser, lambda b: "BucketAlreadyOwnedByYou" in alert_text(b) or
         "BucketAlreadyExists" in alert_text(b), "exists")
    # a bucket that is not empty cannot be deleted; an empty one can
    open_dir(browser, daemon, bucket_name)
    by_id(browser, "delete-bucket").click()
    confirm(browser)
    wait(browser, lambda b: "BucketNotEmpty" in alert_text(b), "not empty")
    s3.delete_object(Bucket=bucket_name, Key="keep")
    by_id(browser, "delete-bucket").click()
    confirm(browser)
    visible(browser, "bucket-tools")
    wait(browser, lambda b: bucket_name not in [x["Name"] for x in s3.list_buckets()["Buckets"]],
         "bucket deleted")
    # a cancelled confirmation deletes nothing
    s3.create_bucket(Bucket=bucket_name)
    browser.refresh()  # the page is at #/b already: load it again
    wait(browser, lambda b: row_link(b, bucket_name), "listed")
    browser.execute_script(
        "document.querySelector('button[aria-label=\"Delete bucket ' + arguments[0] + '\"]').click()",
        bucket_name)
    visible(browser, "confirm-dialog")
    by_id(browser, "confirm-no").click()
    assert s3.head_bucket(Bucket=bucket_name)["ResponseMetadata"]["HTTPStatusCode"] == 200
    s3.delete_bucket(Bucket=bucket_name)


def test_drop_files(browser, daemon, bucket_name):
    """Files dropped on the listing are uploaded (a synthetic drop: a
    DataTransfer built in the page, as a real drag would carry)."""
    s3 = daemon.boto3("alice")
    s3.create_bucket(Bucket=bucket_name)
    sign_in(browser, daemon, "alice")
    open_dir(browser, daemon, bucket_name)
    browser.execute_script("""
        const dt = new DataTransfer();
        dt.items.add(new File(["dropped one"], "one.txt", { type: "text/plain" }));
        dt.items.add(new File(["dropped two!"], "two.txt"));
        const zone = document.getElementById("drop-zone");
        zone.dispatchEvent(new DragEvent("dragover", { dataTransfer: dt, bubbles: true, cancelable: true }));
        zone.dispatchEvent(new DragEvent("drop", { dataTransfer: dt, bubbles: true, cancelable: true }));""")
    for k in ("one.txt", "two.txt"):
        wait(browser, lambda b: upload_done(b, k) == "done", k + " uploaded")
    assert s3.get_object(Bucket=bucket_name, Key="one.txt")["Body"].read() == b"dropped one"
    assert s3.get_object(Bucket=bucket_name, Key="one.txt")["ContentType"] == "text/plain"
    assert s3.get_object(Bucket=bucket_name, Key="two.txt")["Body"].read() == b"dropped two!"
    for k in ("one.txt", "two.txt"):
        s3.delete_object(Bucket=bucket_name, Key=k)
    s3.delete_bucket(Bucket=bucket_name)


def test_https(browser, atriumd_factory, tmp_path_factory, bucket_name):
    """Over TLS: the same headers, and the console signs in and lists."""
    import ssl
    from s3util import self_signed
    cert, key = self_signed(tmp_path_factory.mktemp("console-tls"))
    d = atriumd_factory("sigv4", "console-tls", ["--tls-cert", cert, "--tls-key", key])
    assert d.endpoint.startswith("https://")
    ctx = ssl.create_default_context(cafile=cert)
    with urllib.request.urlopen(d.url("/console/"), context=ctx, timeout=30) as r:
        assert r.status == 200
        check_security_headers(r.headers)
    s3 = d.boto3("alice")
    s3.create_bucket(Bucket=bucket_name)
    sign_in(browser, d, "alice")
    wait(browser, lambda b: row_link(b, bucket_name), "bucket listed over https")
    assert browser.execute_script("return window.isSecureContext") is True
    s3.delete_bucket(Bucket=bucket_name)


def test_labels_and_keyboard(browser, daemon, bucket_name):
    """Every control has an accessible name; the keyboard reaches them."""
    s3 = daemon.boto3("alice")
    s3.create_bucket(Bucket=bucket_name)
    s3.put_object(Bucket=bucket_name, Key="dir/file", Body=b"1")
    s3.put_object(Bucket=bucket_name, Key="top", Body=b"2")
    browser.get(daemon.url("/console/"))
    if by_id(browser, "signout").is_displayed():
        by_id(browser, "signout").click()
    visible(browser, "signin-form")
    # tab order on the sign-in form: access key, secret, button
    from selenium.webdriver.common.keys import Keys
    assert browser.switch_to.active_element.get_attribute("id") == "access-key"
    browser.switch_to.active_element.send_keys(Keys.TAB)
    assert browser.switch_to.active_element.get_attribute("id") == "secret-key"
    browser.switch_to.active_element.send_keys(Keys.TAB)
    assert browser.switch_to.active_element.get_attribute("id") == "signin-button"
    sign_in(browser, daemon, "alice")
    open_dir(browser, daemon, bucket_name)
    wait(browser, lambda b: len(rows(b)) == 2, "listed")
    unnamed = browser.execute_script("""
        const out = [];
        for (const el of document.querySelectorAll('input, select, button, a[href]')) {
          let name = el.getAttribute('aria-label') || '';
          if (!name && el.id) {
            const l = document.querySelector('label[for="' + el.id + '"]');
            name = l ? l.textContent : '';
          }
          if (!name && (el.tagName === 'BUTTON' || el.tagName === 'A')) name = el.textContent;
          if (!name.trim()) out.push(el.outerHTML.slice(0, 80));
        }
        return out;""")
    assert unnamed == [], unnamed
    # a folder opens from the keyboard (Enter on its link)
    link = browser.execute_script(
        "return document.querySelector('#rows tr[data-key=\"dir/\"] a')")
    link.send_keys(Keys.ENTER)
    wait(browser, lambda b: row(b, "dir/file"), "folder opened with Enter")
    s3.delete_object(Bucket=bucket_name, Key="dir/file")
    s3.delete_object(Bucket=bucket_name, Key="top")
    s3.delete_bucket(Bucket=bucket_name)


def test_details_metadata_and_tags(browser, daemon, bucket_name):
    s3 = daemon.boto3("alice")
    s3.create_bucket(Bucket=bucket_name)
    put = s3.put_object(Bucket=bucket_name, Key="tagged", Body=b"t", ContentType="text/x-note",
                        Metadata={"project": "<b>atrium</b>"}, Tagging="team=storage&tier=%3Chot%3E",
                        ChecksumAlgorithm="SHA256")
    sign_in(browser, daemon, "alice")
    open_dir(browser, daemon, bucket_name)
    wait(browser, lambda b: row(b, "tagged"), "listed")
    browser.execute_script("document.querySelector('#rows .name-link').click()")
    visible(browser, "details-dialog")
    wait(browser, lambda b: "team" in by_id(b, "details-tags").text, "tags shown")
    meta = by_id(browser, "details-meta").text
    assert "project" in meta and "<b>atrium</b>" in meta, meta
    tags = by_id(browser, "details-tags").text
    assert re.search(r"team\s+storage", tags) and re.search(r"tier\s+<hot>", tags), tags
    headers = by_id(browser, "details-headers").text
    assert re.search(r"content-type\s+text/x-note", headers), headers
    # The stored checksum, asked for with x-amz-checksum-mode (signed).
    assert re.search(r"x-amz-checksum-sha256\s+" + re.escape(put["ChecksumSHA256"]), headers), headers
    assert browser.execute_script("return document.querySelectorAll('dialog b').length") == 0
    browser.execute_script("document.getElementById('details-dialog').close()")
    s3.delete_object(Bucket=bucket_name, Key="tagged")
    s3.delete_bucket(Bucket=bucket_name)
