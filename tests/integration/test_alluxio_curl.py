"""Alluxio's documented curl walk-through, against --auth simple on /api/v1/s3."""
import os

import pytest

from s3util import S3NS, curl, list_keys_xml, md5hex, xml_text


@pytest.fixture(scope="module")
def alluxio_daemon(atriumd_factory):
    # Its own daemon: the documented sequence uses fixed bucket names and
    # expects ListBuckets to show exactly testbucket0.
    return atriumd_factory("simple", "simple-alluxio-doc")


def test_alluxio_documented_curl_sequence(alluxio_daemon, tmp_path):
    d = alluxio_daemon
    base = d.url("/api/v1/s3")
    auth = ["-H", "Authorization: AWS testuser:"]

    r = curl(auth + ["-X", "PUT", base + "/testbucket0"])
    assert r.status == 200, r

    r = curl(auth + ["-X", "GET", base + "/"])
    assert r.status == 200, r
    root = r.xml()
    names = [b.find(S3NS + "Name").text for b in root.iter(S3NS + "Bucket")]
    assert names == ["testbucket0"], r
    assert root.find(S3NS + "Owner/" + S3NS + "ID").text == "testuser", r

    # Unsigned requests act as the daemon's user.
    r = curl(["-X", "PUT", base + "/testbucket"])
    assert r.status == 200, r

    # testuser still sees only its own bucket.
    r = curl(auth + ["-X", "GET", base + "/"])
    assert r.status == 200, r
    names = [b.find(S3NS + "Name").text for b in r.xml().iter(S3NS + "Bucket")]
    assert names == ["testbucket0"], r

    payload = os.urandom(70000) + b"#!/bin/bash\necho get started\n"
    src = tmp_path / "get_started.sh"
    src.write_bytes(payload)
    for key in ["testobject", "key1", "key2", "key3"]:
        r = curl(["-X", "PUT", "-T", str(src), base + "/testbucket/" + key])
        assert r.status == 200, (key, r)
        assert r.header("etag", "").strip('"') == md5hex(payload), (key, r)

    r = curl(["-X", "GET", base + "/testbucket/testobject"])
    assert r.status == 200, r
    assert r.body == payload
    assert r.header("etag", "").strip('"') == md5hex(payload)

    r = curl(["-X", "GET", base + "/testbucket?max-keys=2"])
    assert r.status == 200, r
    assert list_keys_xml(r) == ["key1", "key2"], r
    assert xml_text(r, "IsTruncated") == "true", r

    r = curl(["-X", "GET", base + "/testbucket?max-keys=2&continuation-token=key3"])
    assert r.status == 200, r
    assert list_keys_xml(r) == ["key3", "testobject"], r
    assert xml_text(r, "IsTruncated") == "false", r

    for key in ["testobject", "key1", "key2", "key3"]:
        r = curl(["-X", "DELETE", base + "/testbucket/" + key])
        assert r.status == 204, (key, r)
        r = curl(["-X", "GET", base + "/testbucket/" + key])
        assert r.status == 404, (key, r)
        assert r.error_code() == "NoSuchKey", r

    r = curl(["-X", "DELETE", base + "/testbucket"])
    assert r.status == 204, r
    r = curl(["-X", "GET", base + "/testbucket"])
    assert r.status == 404, r
    assert r.error_code() == "NoSuchBucket", r
    assert not os.path.exists(os.path.join(d.ufs, "testbucket"))
