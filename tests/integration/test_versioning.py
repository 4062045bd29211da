"""S3 object versioning (issue 17): bucket state, versions kept by writes,
delete markers, reads and deletes by version id, ListObjectVersions,
DeleteObjects with versions, a restart, the mount and a kill -9, with
boto3, awscli and raw requests against a real atriumd."""
import json
import os
import re
import signal

import pytest

from s3util import USERS, awscli, client_error, files_under, md5hex

VID = re.compile(r"^[0-9a-f]{32}$")


@pytest.fixture
def s3(sigv4_daemon):
    return sigv4_daemon.boto3("alice")


def enable(s3, bucket, status="Enabled"):
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": status})


def versions_of(s3, bucket, **kw):
    """[(key, version id, is latest, is marker)] of a whole listing."""
    r = s3.list_object_versions(Bucket=bucket, **kw)
    out = [(v["Key"], v["VersionId"], v["IsLatest"], False, v["ETag"].strip('"'))
           for v in r.get("Versions", [])]
    out += [(m["Key"], m["VersionId"], m["IsLatest"], True, None)
            for m in r.get("DeleteMarkers", [])]
    return out, r


def version_files(daemon):
    d = os.path.join(daemon.ufs, ".atrium", "versions")
    return sorted(os.listdir(d)) if os.path.isdir(d) else []


def test_state_and_errors(s3, bucket, sigv4_daemon):
    # Never set: an empty configuration, no Status.
    r = s3.get_bucket_versioning(Bucket=bucket)
    assert "Status" not in r and "MFADelete" not in r
    enable(s3, bucket)
    assert s3.get_bucket_versioning(Bucket=bucket)["Status"] == "Enabled"
    enable(s3, bucket, "Suspended")
    assert s3.get_bucket_versioning(Bucket=bucket)["Status"] == "Suspended"
    # MFA Delete cannot be had; a bad Status is malformed.
    assert client_error(s3.put_bucket_versioning, Bucket=bucket,
                        VersioningConfiguration={"Status": "Enabled", "MFADelete": "Enabled"},
                        MFA="SERIAL 123456") == (400, "InvalidRequest")
    for body in (b"<VersioningConfiguration><Status>On</Status></VersioningConfiguration>",
                 b"<Nope/>", b"not xml"):
        r = sigv4_daemon.request("PUT", "/%s?versioning" % bucket, body=body, user="alice")
        assert (r.status, b"MalformedXML" in r.body) == (400, True), r.body
    assert s3.get_bucket_versioning(Bucket=bucket)["Status"] == "Suspended"
    # Another user may neither read nor set it.
    bob = sigv4_daemon.boto3("bob")
    assert client_error(bob.get_bucket_versioning, Bucket=bucket)[1] == "AccessDenied"
    assert client_error(enable, bob, bucket)[1] == "AccessDenied"
    assert client_error(s3.get_bucket_versioning, Bucket="no-such-bucket-v")[1] == "NoSuchBucket"


def test_restic_like_flow(s3, bucket, sigv4_daemon):
    enable(s3, bucket)
    ids = []
    for i in range(3):
        r = s3.put_object(Bucket=bucket, Key="snap/data", Body=b"v%d" % i)
        assert VID.match(r["VersionId"]), r
        ids.append(r["VersionId"])
    assert len(set(ids)) == 3
    # The file is the latest; the older two are kept aside, not in the tree.
    with open(os.path.join(sigv4_daemon.ufs, bucket, "snap", "data"), "rb") as f:
        assert f.read() == b"v2"
    assert files_under(os.path.join(sigv4_daemon.ufs, bucket)) == ["snap/data"]

    got, _ = versions_of(s3, bucket)
    assert [(k, v, latest) for k, v, latest, _m, _e in got] == \
        [("snap/data", ids[2], True), ("snap/data", ids[1], False), ("snap/data", ids[0], False)]
    assert [e for *_x, e in got] == [md5hex(b"v2"), md5hex(b"v1"), md5hex(b"v0")]
    for i, vid in enumerate(ids):
        r = s3.get_object(Bucket=bucket, Key="snap/data", VersionId=vid)
        assert r["Body"].read() == b"v%d" % i and r["VersionId"] == vid
        h = s3.head_object(Bucket=bucket, Key="snap/data", VersionId=vid)
        assert h["ContentLength"] == 2 and h["VersionId"] == vid
    assert s3.get_object(Bucket=bucket, Key="snap/data")["VersionId"] == ids[2]

    # Restore the first by copying it over the key: a fourth version.
    r = s3.copy_object(Bucket=bucket, Key="snap/data",
                       CopySource={"Bucket": bucket, "Key": "snap/data", "VersionId": ids[0]})
    assert r["CopySourceVersionId"] == ids[0] and VID.match(r["VersionId"])
    restored = r["VersionId"]
    assert s3.get_object(Bucket=bucket, Key="snap/data")["Body"].read() == b"v0"

    # Delete: a marker; the key reads as gone, saying why.
    r = s3.delete_object(Bucket=bucket, Key="snap/data")
    assert r["DeleteMarker"] is True and VID.match(r["VersionId"])
    marker = r["VersionId"]
    assert not os.path.exists(os.path.join(sigv4_daemon.ufs, bucket, "snap", "data"))
    assert "Contents" not in s3.list_objects_v2(Bucket=bucket)
    r = sigv4_daemon.request("GET", "/%s/snap/data" % bucket, user="alice")
    assert r.status == 404 and b"NoSuchKey" in r.body
    assert r.headers["x-amz-delete-marker"] == "true"
    assert r.headers["x-amz-version-id"] == marker
    # A marker named by its id: 405.
    r = sigv4_daemon.request("HEAD", "/%s/snap/data?versionId=%s" % (bucket, marker),
                             user="alice")
    assert r.status == 405 and r.headers["x-amz-delete-marker"] == "true"
    got, _ = versions_of(s3, bucket)
    assert (("snap/data", marker, True, True, None) in got and
            [v for _k, v, _l, m, _e in got if not m] == [restored, ids[2], ids[1], ids[0]])

    # Undelete: delete the marker, and the newest version is back.
    r = s3.delete_object(Bucket=bucket, Key="snap/data", VersionId=marker)
    assert r["DeleteMarker"] is True and r["VersionId"] == marker
    r = s3.get_object(Bucket=bucket, Key="snap/data")
    assert r["Body"].read() == b"v0" and r["VersionId"] == restored
    with open(os.path.join(sigv4_daemon.ufs, bucket, "snap", "data"), "rb") as f:
        assert f.read() == b"v0"

    # Delete the current by its id: the one before it is current again.
    s3.delete_object(Bucket=bucket, Key="snap/data", VersionId=restored)
    r = s3.get_object(Bucket=bucket, Key="snap/data")
    assert r["Body"].read() == b"v2" and r["VersionId"] == ids[2]
    # A noncurrent one by its id: only it goes, with its file.
    n = len(version_files(sigv4_daemon))
    s3.delete_object(Bucket=bucket, Key="snap/data", VersionId=ids[1])
    assert len(version_files(sigv4_daemon)) == n - 1
    got, _ = versions_of(s3, bucket)
    assert [v for _k, v, *_x in got] == [ids[2], ids[0]]
    # Everything gone: the bucket can go.
    assert client_error(s3.delete_bucket, Bucket=bucket)[1] == "BucketNotEmpty"
    for vid in (ids[2], ids[0]):
        s3.delete_object(Bucket=bucket, Key="snap/data", VersionId=vid)
    assert versions_of(s3, bucket)[0] == []
    s3.delete_bucket(Bucket=bucket)


def test_bad_ids(s3, bucket, sigv4_daemon):
    s3.put_object(Bucket=bucket, Key="k", Body=b"x")
    # Never versioned: the object is the null version.
    assert s3.get_object(Bucket=bucket, Key="k", VersionId="null")["Body"].read() == b"x"
    assert "VersionId" not in s3.put_object(Bucket=bucket, Key="k", Body=b"y")
    for vid in ("nope", "0" * 31, "A" * 32):
        r = sigv4_daemon.request("GET", "/%s/k?versionId=%s" % (bucket, vid), user="alice")
        assert r.status == 400 and b"Invalid version id specified" in r.body, r.body
    r = sigv4_daemon.request("GET", "/%s/k?versionId=%s" % (bucket, "0" * 32), user="alice")
    assert r.status == 404 and b"NoSuchVersion" in r.body
    # Unversioned listing: every object a null version.
    got, _ = versions_of(s3, bucket)
    assert [(k, v, latest) for k, v, latest, _m, _e in got] == [("k", "null", True)]


def test_suspended_null_version(s3, bucket, sigv4_daemon):
    s3.put_object(Bucket=bucket, Key="k", Body=b"old-null")
    enable(s3, bucket)
    v1 = s3.put_object(Bucket=bucket, Key="k", Body=b"one")["VersionId"]
    enable(s3, bucket, "Suspended")
    r = s3.put_object(Bucket=bucket, Key="k", Body=b"null-1")
    assert r["VersionId"] == "null"
    # The null version replaced the earlier null one (noncurrent then).
    got, _ = versions_of(s3, bucket)
    assert [(v, latest) for _k, v, latest, *_x in got] == [("null", True), (v1, False)]
    s3.put_object(Bucket=bucket, Key="k", Body=b"null-2")
    got, _ = versions_of(s3, bucket)
    assert [(v, latest) for _k, v, latest, *_x in got] == [("null", True), (v1, False)]
    assert s3.get_object(Bucket=bucket, Key="k", VersionId="null")["Body"].read() == b"null-2"
    # DELETE: a null marker, which takes the null version's place.
    r = s3.delete_object(Bucket=bucket, Key="k")
    assert r["DeleteMarker"] is True and r["VersionId"] == "null"
    got, _ = versions_of(s3, bucket)
    assert [(v, latest, m) for _k, v, latest, m, _e in got] == \
        [(v1, False, False), ("null", True, True)]
    s3.delete_object(Bucket=bucket, Key="k", VersionId="null")
    assert s3.get_object(Bucket=bucket, Key="k")["Body"].read() == b"one"
    s3.delete_object(Bucket=bucket, Key="k", VersionId=v1)
    assert versions_of(s3, bucket)[0] == []


def test_delete_objects_with_versions(s3, bucket):
    enable(s3, bucket)
    a1 = s3.put_object(Bucket=bucket, Key="a", Body=b"1")["VersionId"]
    a2 = s3.put_object(Bucket=bucket, Key="a", Body=b"2")["VersionId"]
    s3.put_object(Bucket=bucket, Key="b", Body=b"b")
    r = s3.delete_objects(Bucket=bucket, Delete={"Objects": [
        {"Key": "a", "VersionId": a1}, {"Key": "b"}, {"Key": "c", "VersionId": "x"}]})
    deleted = {d["Key"]: d for d in r["Deleted"]}
    assert deleted["a"]["VersionId"] == a1 and "DeleteMarker" not in deleted["a"]
    assert deleted["b"]["DeleteMarker"] is True and VID.match(deleted["b"]["DeleteMarkerVersionId"])
    assert [(e["Key"], e["Code"]) for e in r["Errors"]] == [("c", "NoSuchVersion")]
    marker = deleted["b"]["DeleteMarkerVersionId"]
    r = s3.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": "b", "VersionId": marker}]})
    assert r["Deleted"][0]["DeleteMarker"] is True and r["Deleted"][0]["VersionId"] == marker
    assert s3.get_object(Bucket=bucket, Key="b")["Body"].read() == b"b"
    got, _ = versions_of(s3, bucket)
    assert [(k, v) for k, v, *_x in got] == [("a", a2), ("b", got[1][1])]


def test_list_versions_pages(s3, bucket, tmp_path, sigv4_daemon):
    enable(s3, bucket)
    want = []
    for key in ("a", "d/x", "d/y", "e"):
        ids = [s3.put_object(Bucket=bucket, Key=key, Body=b"%d" % i)["VersionId"]
               for i in range(3)]
        want += [(key, v) for v in reversed(ids)]
    m = s3.delete_object(Bucket=bucket, Key="e")["VersionId"]
    want.insert(want.index(("e", want[-1][1])) - 2, ("e", m))
    # Page by page, two at a time, with both markers.
    seen, km, vm = [], None, None
    while True:
        kw = {"MaxKeys": 2}
        if km:
            kw.update(KeyMarker=km, VersionIdMarker=vm)
        r = s3.list_object_versions(Bucket=bucket, **kw)
        items = [(v["Key"], v["VersionId"], v["LastModified"]) for v in r.get("Versions", [])]
        items += [(d["Key"], d["VersionId"], d["LastModified"]) for d in r.get("DeleteMarkers", [])]
        assert len(items) <= 2
        # Versions and markers are separate lists in boto3: merge by the
        # order S3 gives (key, then newest first).
        page = [(k, v) for k, v, _t in items]
        seen += [x for x in want if x in page]
        if not r["IsTruncated"]:
            break
        km, vm = r["NextKeyMarker"], r["NextVersionIdMarker"]
    assert seen == want
    # A delimiter: "d/" once, as a common prefix.
    r = s3.list_object_versions(Bucket=bucket, Delimiter="/")
    assert [p["Prefix"] for p in r["CommonPrefixes"]] == ["d/"]
    assert sorted({v["Key"] for v in r["Versions"]}) == ["a", "e"]
    # ...and page by page, a page ending on the prefix or inside a key.
    whole = ([("v", v["Key"], v["VersionId"]) for v in r["Versions"]] +
             [("p", p["Prefix"], None) for p in r["CommonPrefixes"]])
    paged, km, vm = [], None, None
    while True:
        kw = {"Delimiter": "/", "MaxKeys": 2}
        if km:
            kw.update(KeyMarker=km, VersionIdMarker=vm or "")
        pr = s3.list_object_versions(Bucket=bucket, **kw)
        paged += [("v", v["Key"], v["VersionId"]) for v in pr.get("Versions", [])]
        paged += [("p", p["Prefix"], None) for p in pr.get("CommonPrefixes", [])]
        if not pr["IsTruncated"]:
            break
        km, vm = pr["NextKeyMarker"], pr.get("NextVersionIdMarker")
    assert sorted(paged, key=str) == sorted(whole, key=str) and len(paged) == len(whole)
    r = s3.list_object_versions(Bucket=bucket, Prefix="d/", MaxKeys=4)
    assert [v["Key"] for v in r["Versions"]] == ["d/x"] * 3 + ["d/y"]
    assert r["IsTruncated"] and r["NextKeyMarker"] == "d/y"
    # encoding-type=url: keys and prefixes URL-encoded.
    s3.put_object(Bucket=bucket, Key="sp ace/\u00e9", Body=b"u")
    r = sigv4_daemon.request("GET", "/%s?delimiter=%%2F&encoding-type=url&prefix=sp&versions="
                             % bucket, user="alice")
    assert r.status == 200 and b"<Prefix>sp%20ace/</Prefix>" in r.body, r.body
    r = sigv4_daemon.request("GET", "/%s?encoding-type=url&prefix=sp&versions=" % bucket,
                             user="alice")
    assert b"<Key>sp%20ace/%C3%A9</Key>" in r.body, r.body
    r = s3.list_object_versions(Bucket=bucket, Prefix="sp")  # botocore asks url, decodes
    assert [v["Key"] for v in r["Versions"]] == ["sp ace/\u00e9"]
    s3.delete_object(Bucket=bucket, Key="sp ace/\u00e9")  # a marker over it
    # A key marker alone: after every version of that key.
    r = s3.list_object_versions(Bucket=bucket, KeyMarker="d/x")
    assert {v["Key"] for v in r["Versions"]} == {"d/y", "e", "sp ace/\u00e9"}
    # awscli, as a user would.
    aws = awscli(sigv4_daemon, tmp_path)
    out = json.loads(aws("s3api", "list-object-versions", "--bucket", bucket,
                         "--prefix", "a").stdout)
    assert [v["VersionId"] for v in out["Versions"]] == [v for k, v in want if k == "a"]
    assert out["Versions"][0]["IsLatest"] is True


def test_permissions(s3, bucket, sigv4_daemon):
    enable(s3, bucket)
    v1 = s3.put_object(Bucket=bucket, Key="k", Body=b"1")["VersionId"]
    s3.put_object(Bucket=bucket, Key="k", Body=b"2")
    bob = sigv4_daemon.boto3("bob")
    assert client_error(bob.list_object_versions, Bucket=bucket)[1] == "AccessDenied"
    assert client_error(bob.get_object, Bucket=bucket, Key="k", VersionId=v1)[1] == \
        "AccessDenied"
    assert client_error(bob.delete_object, Bucket=bucket, Key="k", VersionId=v1)[1] == \
        "AccessDenied"
    assert client_error(bob.delete_object, Bucket=bucket, Key="k")[1] == "AccessDenied"
    assert s3.get_object(Bucket=bucket, Key="k", VersionId=v1)["Body"].read() == b"1"
    # The bucket policy's versioning actions let bob list and read them,
    # and only that.
    s3.put_bucket_policy(Bucket=bucket, Policy=json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::000000000000:user/bob"},
         "Action": ["s3:ListBucketVersions", "s3:GetObjectVersion", "s3:GetBucketVersioning"],
         "Resource": ["arn:aws:s3:::" + bucket, "arn:aws:s3:::%s/*" % bucket]}]}))
    assert len(bob.list_object_versions(Bucket=bucket)["Versions"]) == 2
    assert bob.get_object(Bucket=bucket, Key="k", VersionId=v1)["Body"].read() == b"1"
    assert bob.get_bucket_versioning(Bucket=bucket)["Status"] == "Enabled"
    assert client_error(bob.delete_object, Bucket=bucket, Key="k", VersionId=v1)[1] == \
        "AccessDenied"
    assert client_error(enable, bob, bucket, "Suspended")[1] == "AccessDenied"


ALL_USERS = "http://acs.amazonaws.com/groups/global/AllUsers"
AUTH_USERS = "http://acs.amazonaws.com/groups/global/AuthenticatedUsers"


def grants_of(acl):
    """{(grantee id or group URI, permission)} of a GetObjectAcl answer."""
    return {(g["Grantee"].get("ID") or g["Grantee"].get("URI"), g["Permission"])
            for g in acl["Grants"]}


def test_noncurrent_version_acl(s3, bucket, sigv4_daemon):
    enable(s3, bucket)
    v1 = s3.put_object(Bucket=bucket, Key="k", Body=b"1")["VersionId"]
    v2 = s3.put_object(Bucket=bucket, Key="k", Body=b"2")["VersionId"]
    old = s3.get_object_acl(Bucket=bucket, Key="k", VersionId=v1)
    assert old["Owner"]["ID"] == "alice"
    assert grants_of(old) == {("alice", "FULL_CONTROL")}
    # A canned ACL on the old version: that version's alone (public-read
    # as the current version shows it, test_permissions).
    s3.put_object_acl(Bucket=bucket, Key="k", VersionId=v1, ACL="public-read")
    assert grants_of(s3.get_object_acl(Bucket=bucket, Key="k", VersionId=v1)) == \
        {("alice", "FULL_CONTROL"), (ALL_USERS, "READ"), (AUTH_USERS, "READ")}
    for cur in ({}, {"VersionId": v2}):
        assert grants_of(s3.get_object_acl(Bucket=bucket, Key="k", **cur)) == \
            {("alice", "FULL_CONTROL")}
    # Its grants decide who reads it: bob now (AuthenticatedUsers READ),
    # not the current version (in a bucket he may search).
    s3.put_bucket_acl(Bucket=bucket, ACL="public-read")
    bob = sigv4_daemon.boto3("bob")
    assert bob.get_object(Bucket=bucket, Key="k", VersionId=v1)["Body"].read() == b"1"
    assert client_error(bob.get_object, Bucket=bucket, Key="k", VersionId=v2) == \
        (403, "AccessDenied")
    # He has no READ_ACP nor WRITE_ACP on it.
    assert client_error(bob.get_object_acl, Bucket=bucket, Key="k", VersionId=v1) == \
        (403, "AccessDenied")
    assert client_error(bob.put_object_acl, Bucket=bucket, Key="k", VersionId=v1,
                        ACL="public-read-write") == (403, "AccessDenied")
    # An AccessControlPolicy body (as the current version takes) gives him
    # READ_ACP on the old version, and only that.
    s3.put_object_acl(Bucket=bucket, Key="k", VersionId=v1, AccessControlPolicy={
        "Owner": {"ID": "alice"},
        "Grants": [{"Grantee": {"Type": "CanonicalUser", "ID": "alice"},
                    "Permission": "FULL_CONTROL"},
                   {"Grantee": {"Type": "CanonicalUser", "ID": "bob"},
                    "Permission": "READ_ACP"}]})
    got = bob.get_object_acl(Bucket=bucket, Key="k", VersionId=v1)
    assert got["Owner"]["ID"] == "alice"
    assert grants_of(got) == {("alice", "FULL_CONTROL"), ("bob", "READ_ACP")}
    assert client_error(bob.get_object_acl, Bucket=bucket, Key="k", VersionId=v2) == \
        (403, "AccessDenied")
    assert client_error(bob.put_object_acl, Bucket=bucket, Key="k", VersionId=v1,
                        ACL="private") == (403, "AccessDenied")
    assert client_error(bob.get_object, Bucket=bucket, Key="k", VersionId=v1) == \
        (403, "AccessDenied")
    # x-amz-grant-* headers: WRITE_ACP lets him replace that version's ACL.
    s3.put_object_acl(Bucket=bucket, Key="k", VersionId=v1, GrantFullControl="id=alice",
                      GrantWriteACP="id=bob")
    bob.put_object_acl(Bucket=bucket, Key="k", VersionId=v1, GrantFullControl="id=alice",
                       GrantRead="id=bob")
    assert grants_of(s3.get_object_acl(Bucket=bucket, Key="k", VersionId=v1)) == \
        {("alice", "FULL_CONTROL"), ("bob", "READ")}
    assert bob.get_object(Bucket=bucket, Key="k", VersionId=v1)["Body"].read() == b"1"
    assert client_error(bob.put_object_acl, Bucket=bucket, Key="k", VersionId=v2,
                        ACL="private") == (403, "AccessDenied")
    # A delete marker has no ACL (405); an id that is not there, 404.
    marker = s3.delete_object(Bucket=bucket, Key="k")["VersionId"]
    for fn, kw in ((s3.get_object_acl, {}), (s3.put_object_acl, {"ACL": "private"})):
        assert client_error(fn, Bucket=bucket, Key="k", VersionId=marker, **kw) == \
            (405, "MethodNotAllowed")
        assert client_error(fn, Bucket=bucket, Key="k", VersionId="0" * 32, **kw) == \
            (404, "NoSuchVersion")
    # The old version's ACL is still its own, and comes back with it.
    assert grants_of(s3.get_object_acl(Bucket=bucket, Key="k", VersionId=v1)) == \
        {("alice", "FULL_CONTROL"), ("bob", "READ")}
    for vid in (marker, v2):
        s3.delete_object(Bucket=bucket, Key="k", VersionId=vid)
    assert grants_of(s3.get_object_acl(Bucket=bucket, Key="k")) == \
        {("alice", "FULL_CONTROL"), ("bob", "READ")}
    assert bob.get_object(Bucket=bucket, Key="k")["Body"].read() == b"1"


def test_restart_keeps_versions(atriumd_factory):
    d = atriumd_factory("sigv4", "versions-restart")
    s3 = d.boto3("alice")
    s3.create_bucket(Bucket="vrestart")
    enable(s3, "vrestart")
    ids = [s3.put_object(Bucket="vrestart", Key="k", Body=b"%d" % i)["VersionId"] for i in range(3)]
    m = s3.delete_object(Bucket="vrestart", Key="k")["VersionId"]
    d.restart()
    s3 = d.boto3("alice")
    assert s3.get_bucket_versioning(Bucket="vrestart")["Status"] == "Enabled"
    got, _ = versions_of(s3, "vrestart")
    assert [v for _k, v, *_x in got if not _x[1]] == list(reversed(ids))
    assert [v for _k, v, _l, mk, _e in got if mk] == [m]
    for i, vid in enumerate(ids):
        assert s3.get_object(Bucket="vrestart", Key="k", VersionId=vid)["Body"].read() == b"%d" % i
    assert len(version_files(d)) == 3


def test_sse_multipart_old_version(atriumd_factory):
    """A noncurrent version of an SSE-S3 multipart object keeps its
    segments (the file's size and the part sizes): read whole, by ranges
    across parts, by partNumber, and after a restart."""
    d = atriumd_factory("sigv4", "versions-sse-mpu")
    s3 = d.boto3("alice")
    s3.create_bucket(Bucket="vssempu")
    enable(s3, "vssempu")
    parts = [os.urandom(5 << 20), os.urandom(5 << 20), os.urandom(1234)]
    data = b"".join(parts)
    up = s3.create_multipart_upload(Bucket="vssempu", Key="m", ServerSideEncryption="AES256")
    etags = [s3.upload_part(Bucket="vssempu", Key="m", UploadId=up["UploadId"], PartNumber=i + 1,
                            Body=p)["ETag"] for i, p in enumerate(parts)]
    old = s3.complete_multipart_upload(
        Bucket="vssempu", Key="m", UploadId=up["UploadId"],
        MultipartUpload={"Parts": [{"PartNumber": i + 1, "ETag": e}
                                   for i, e in enumerate(etags)]})["VersionId"]
    s3.put_object(Bucket="vssempu", Key="m", Body=b"new", ServerSideEncryption="AES256")
    five = 5 << 20

    def check():
        g = s3.get_object(Bucket="vssempu", Key="m", VersionId=old)
        assert g["ServerSideEncryption"] == "AES256"
        assert g["Body"].read() == data
        for lo, hi in ((0, 9), (five - 7, five + 7), (2 * five - 1, 2 * five + 100),
                       (five, len(data) - 1)):
            r = s3.get_object(Bucket="vssempu", Key="m", VersionId=old,
                              Range="bytes=%d-%d" % (lo, hi))
            assert r["Body"].read() == data[lo:hi + 1], (lo, hi)
        p2 = s3.get_object(Bucket="vssempu", Key="m", VersionId=old, PartNumber=2)
        assert p2["PartsCount"] == 3 and p2["Body"].read() == parts[1]
        a = s3.get_object_attributes(Bucket="vssempu", Key="m", VersionId=old,
                                     ObjectAttributes=["ObjectParts", "ObjectSize"])
        assert a["ObjectSize"] == len(data) and a["ObjectParts"]["TotalPartsCount"] == 3
        assert s3.get_object(Bucket="vssempu", Key="m")["Body"].read() == b"new"

    check()
    d.restart()
    s3 = d.boto3("alice")
    check()
    # Deleting the current version brings the old one back whole.
    cur = s3.head_object(Bucket="vssempu", Key="m")["VersionId"]
    s3.delete_object(Bucket="vssempu", Key="m", VersionId=cur)
    assert s3.get_object(Bucket="vssempu", Key="m")["Body"].read() == data
    p3 = s3.get_object(Bucket="vssempu", Key="m", PartNumber=3)
    assert p3["PartsCount"] == 3 and p3["Body"].read() == parts[2]


def test_sse_c_multipart_old_version(s3, bucket):
    """The same for SSE-C: the old version's segments read with its key."""
    kw = {"SSECustomerAlgorithm": "AES256", "SSECustomerKey": "0123456789abcdef" * 2}
    enable(s3, bucket)
    parts = [os.urandom(5 << 20), os.urandom(777)]
    up = s3.create_multipart_upload(Bucket=bucket, Key="c", **kw)["UploadId"]
    etags = [s3.upload_part(Bucket=bucket, Key="c", UploadId=up, PartNumber=i + 1, Body=p,
                            **kw)["ETag"] for i, p in enumerate(parts)]
    old = s3.complete_multipart_upload(
        Bucket=bucket, Key="c", UploadId=up,
        MultipartUpload={"Parts": [{"PartNumber": i + 1, "ETag": e}
                                   for i, e in enumerate(etags)]})["VersionId"]
    s3.put_object(Bucket=bucket, Key="c", Body=b"new")
    data = b"".join(parts)
    assert s3.get_object(Bucket=bucket, Key="c", VersionId=old, **kw)["Body"].read() == data
    lo = (5 << 20) - 10
    r = s3.get_object(Bucket=bucket, Key="c", VersionId=old, Range="bytes=%d-%d" % (lo, lo + 99),
                      **kw)
    assert r["Body"].read() == data[lo:lo + 100]
    assert client_error(s3.get_object, Bucket=bucket, Key="c", VersionId=old)[0] == 400


def test_every_write_makes_a_version(s3, bucket, sigv4_daemon):
    enable(s3, bucket)
    v1 = s3.put_object(Bucket=bucket, Key="k", Body=b"put", Tagging="t=1")["VersionId"]
    # CompleteMultipartUpload
    up = s3.create_multipart_upload(Bucket=bucket, Key="k")["UploadId"]
    etag = s3.upload_part(Bucket=bucket, Key="k", UploadId=up, PartNumber=1,
                          Body=b"mpu")["ETag"]
    r = s3.complete_multipart_upload(Bucket=bucket, Key="k", UploadId=up, MultipartUpload={
        "Parts": [{"ETag": etag, "PartNumber": 1}]})
    v2 = r["VersionId"]
    # CopyObject from another key
    s3.put_object(Bucket=bucket, Key="src", Body=b"copied")
    v3 = s3.copy_object(Bucket=bucket, Key="k", CopySource={"Bucket": bucket, "Key": "src"})[
        "VersionId"]
    # POST Object (a browser form)
    r = s3.generate_presigned_post(bucket, "k")
    body = b"".join(b"--XX\r\nContent-Disposition: form-data; name=\"%s\"\r\n\r\n%s\r\n"
                    % (k.encode(), v.encode()) for k, v in r["fields"].items())
    body += (b"--XX\r\nContent-Disposition: form-data; name=\"file\"; filename=\"f\"\r\n\r\n"
             b"posted\r\n--XX--\r\n")
    p = sigv4_daemon.request("POST", "/" + bucket, body=body,
                             headers={"Content-Type": "multipart/form-data; boundary=XX"})
    assert p.status == 204, p.body
    v4 = p.headers["x-amz-version-id"]
    ids = [v1, v2, v3, v4]
    assert all(VID.match(v) for v in ids) and len(set(ids)) == 4
    got, _ = versions_of(s3, bucket, Prefix="k")
    assert [v for _k, v, *_x in got] == list(reversed(ids))
    for vid, want in zip(ids, (b"put", b"mpu", b"copied", b"posted")):
        assert s3.get_object(Bucket=bucket, Key="k", VersionId=vid)["Body"].read() == want
    # A noncurrent version keeps its tags, which can be read and changed.
    assert s3.get_object_tagging(Bucket=bucket, Key="k", VersionId=v1)["TagSet"] == \
        [{"Key": "t", "Value": "1"}]
    s3.put_object_tagging(Bucket=bucket, Key="k", VersionId=v1,
                          Tagging={"TagSet": [{"Key": "u", "Value": "2"}]})
    assert s3.get_object_tagging(Bucket=bucket, Key="k", VersionId=v1)["TagSet"] == \
        [{"Key": "u", "Value": "2"}]
    assert s3.get_object_tagging(Bucket=bucket, Key="k")["TagSet"] == []
    # GetObjectAttributes of a noncurrent version.
    a = s3.get_object_attributes(Bucket=bucket, Key="k", VersionId=v1,
                                 ObjectAttributes=["ETag", "ObjectSize"])
    assert a["ObjectSize"] == 3 and a["ETag"] == md5hex(b"put") and a["VersionId"] == v1
    # The ACL of any version, by its id.
    assert s3.get_object_acl(Bucket=bucket, Key="k", VersionId=v4)["Owner"]["ID"] == "alice"
    assert s3.get_object_acl(Bucket=bucket, Key="k", VersionId=v1)["Owner"]["ID"] == "alice"


@pytest.mark.usefixtures("mount_watchdog")
def test_mount_shows_the_latest(mount_daemon, bucket_name):
    d = mount_daemon
    s3 = d.boto3("admin")
    s3.create_bucket(Bucket=bucket_name)
    enable(s3, bucket_name)
    v1 = s3.put_object(Bucket=bucket_name, Key="dir/f", Body=b"one")["VersionId"]
    v2 = s3.put_object(Bucket=bucket_name, Key="dir/f", Body=b"two")["VersionId"]
    p = d.path(bucket_name, "dir", "f")
    with open(p, "rb") as f:
        assert f.read() == b"two"
    # A delete marker as the latest: the name is gone from the mount.
    m = s3.delete_object(Bucket=bucket_name, Key="dir/f")["VersionId"]
    assert not os.path.exists(p)
    assert os.listdir(d.path(bucket_name)) == []  # its implied directory went too
    s3.delete_object(Bucket=bucket_name, Key="dir/f", VersionId=m)
    with open(p, "rb") as f:
        assert f.read() == b"two"
    # Writing through the mount keeps the bytes replaced as a version; a
    # write that is not in order leaves its ETag to compute, which the
    # version keeps all the same.
    with open(p, "wb") as f:
        f.write(b"thr__")
        f.seek(3)
        f.write(b"ee")
    got, _ = versions_of(s3, bucket_name)
    assert [v for _k, v, *_x in got][1:] == [v2, v1]
    assert s3.get_object(Bucket=bucket_name, Key="dir/f", VersionId=v2)["Body"].read() == b"two"
    assert s3.get_object(Bucket=bucket_name, Key="dir/f")["Body"].read() == b"three"
    # The versions, read-only, as extended attributes of the file.
    cur = s3.head_object(Bucket=bucket_name, Key="dir/f")["VersionId"]
    assert os.getxattr(p, "user.s3.version_id").decode() == cur
    lines = os.getxattr(p, "user.s3.versions").decode().splitlines()
    assert [ln.split()[0] for ln in lines] == [cur, v2, v1]
    assert lines[0].endswith(" current") and lines[1].split()[1:3] == ["3", md5hex(b"two")]
    assert {"user.s3.version_id", "user.s3.versions"} <= set(os.listxattr(p))
    with pytest.raises(PermissionError):
        os.setxattr(p, "user.s3.versions", b"x")
    # A new file through the mount is a version too; unlink makes a marker.
    with open(d.path(bucket_name, "g"), "wb") as f:
        f.write(b"g")
    os.unlink(p)
    assert not os.path.exists(p)
    got, _ = versions_of(s3, bucket_name)
    assert sorted((k, mk) for k, _v, latest, mk, _e in got if latest) == \
        [("dir/f", True), ("g", False)]
    assert s3.get_object(Bucket=bucket_name, Key="dir/f", VersionId=v1)["Body"].read() == b"one"
    three = [e for k, _v, _l, mk, e in got if k == "dir/f" and not mk][0]
    assert three == md5hex(b"three")


# -- kill -9 ---------------------------------------------------------------------
# Each round: WORKERS threads, each on its own key, PUT new versions, DELETE
# (a marker) and DELETE by id (a noncurrent version, a marker: an undelete),
# until a seeded number of acknowledgements, then SIGKILL. After the
# restart: every acknowledged version is there with its bytes (and none
# acknowledged deleted is), at most one more change per worker (its op in
# flight), the latest is what GET serves, every version row has its file
# and every file in the versions area a row, the tree holds exactly the
# current objects, and meta.db passes its integrity check.
ROUNDS = int(os.environ.get("CRASH_VERSION_ROUNDS", "6"))
WORKERS = 6


class VersionWorker:
    def __init__(self, d, bucket, tid, rng, model, progress):
        self.s3 = d.boto3("alice")
        self.bucket, self.key, self.rng = bucket, "w%d/k" % tid, rng
        self.model = model        # [[vid, md5 or None (a marker)]], oldest first
        self.inflight = None      # (op, vid) of the call without an answer
        self.progress, self.stop = progress, False

    def run(self):
        import botocore.exceptions
        try:
            while not self.stop:
                self.one()
                self.progress.ack()
        except (botocore.exceptions.BotoCoreError, botocore.exceptions.ClientError):
            pass  # the daemon died under the call: it stays in flight

    def one(self):
        r = self.rng.random()
        noncurrent = [v for v in self.model[:-1]]
        if r < 0.55 or not self.model:
            body = os.urandom(self.rng.randrange(0, 32 * 1024))
            self.inflight = ("put", md5hex(body))
            vid = self.s3.put_object(Bucket=self.bucket, Key=self.key, Body=body)["VersionId"]
            self.model.append([vid, md5hex(body)])
        elif r < 0.75:
            self.inflight = ("mark", None)
            vid = self.s3.delete_object(Bucket=self.bucket, Key=self.key)["VersionId"]
            self.model.append([vid, None])
        else:
            victim = self.rng.choice(noncurrent or self.model)
            self.inflight = ("drop", victim[0])
            self.s3.delete_object(Bucket=self.bucket, Key=self.key, VersionId=victim[0])
            self.model.remove(victim)
        self.inflight = None


def meta_seqs(d):
    import sqlite3
    db = sqlite3.connect(os.path.join(d.data, "meta.db"))
    try:
        assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        return sorted(str(s) for (s,) in db.execute(
            "SELECT seq FROM versions WHERE marker = 0"))
    finally:
        db.close()


def check_versions(d, s3, bucket, w, where):
    r = s3.list_object_versions(Bucket=bucket, Prefix=w.key)
    seen = [(v["VersionId"], v["ETag"].strip('"'), v["IsLatest"]) for v in r.get("Versions", [])]
    seen += [(m["VersionId"], None, m["IsLatest"]) for m in r.get("DeleteMarkers", [])]
    have = {vid: md5 for vid, md5, _l in seen}
    want = {vid: md5 for vid, md5 in w.model}
    op = w.inflight
    # The acknowledged versions, each with its bytes; the op in flight may
    # have added one (a put, a marker) or removed one (a drop).
    for vid, md5 in want.items():
        if vid not in have:
            assert op and op[0] == "drop" and op[1] == vid, (where, w.key, vid, seen, w.model)
            continue
        assert have[vid] == md5, (where, w.key, vid)
    extra = [vid for vid in have if vid not in want]
    assert len(extra) <= (1 if op and op[0] in ("put", "mark") else 0), (where, w.key, extra)
    for vid in extra:  # what the op in flight made, whole
        assert (have[vid] is None) == (op[0] == "mark"), (where, w.key, vid)
        if op[0] == "put":
            assert have[vid] == op[1], (where, w.key)
    for vid, md5 in have.items():
        if md5:
            body = s3.get_object(Bucket=bucket, Key=w.key, VersionId=vid)["Body"].read()
            assert md5hex(body) == md5, (where, w.key, vid)
    # The latest: what a GET serves (or a marker's 404).
    latest = [(vid, md5) for vid, md5, is_latest in seen if is_latest]
    assert len(latest) == (1 if seen else 0), (where, w.key, seen)
    path = os.path.join(d.ufs, bucket, w.key)
    if latest and latest[0][1]:
        with open(path, "rb") as f:
            assert md5hex(f.read()) == latest[0][1], (where, w.key)
    else:
        assert not os.path.exists(path), (where, w.key)
    # The observed state is the next round's model.
    w.model[:] = [[vid, md5] for vid, md5 in want.items() if vid in have] + \
        [[vid, have[vid]] for vid in extra]


def test_sigkill_rounds_versioned(atriumd_factory):
    import random
    import threading
    seed = int(os.environ.get("CRASH_SEED", random.randrange(1 << 30)))
    rng = random.Random(seed)
    d = atriumd_factory("sigv4", "versions-crash")
    s3 = d.boto3("alice")
    bucket = "vcrash"
    s3.create_bucket(Bucket=bucket)
    enable(s3, bucket)
    models = [[] for _ in range(WORKERS)]
    for rnd in range(ROUNDS):
        where = "seed %d round %d" % (seed, rnd)

        class Progress:
            cv = threading.Condition()
            n = 0

            def ack(self):
                with self.cv:
                    self.n += 1
                    self.cv.notify_all()
        progress = Progress()
        workers = [VersionWorker(d, bucket, t, random.Random(rng.random()), models[t], progress)
                   for t in range(WORKERS)]
        threads = [threading.Thread(target=w.run) for w in workers]
        for t in threads:
            t.start()
        target = rng.randrange(10, 80)
        with progress.cv:
            assert progress.cv.wait_for(lambda: progress.n >= target, timeout=60), where
        os.kill(d.proc.pid, signal.SIGKILL)
        d.proc.wait(timeout=15)
        for w in workers:
            w.stop = True
        for t in threads:
            t.join(timeout=60)
            assert not t.is_alive(), where
        d.stopped = True
        d.restart()
        s3 = d.boto3("alice")
        for w in workers:
            w.s3 = None
            check_versions(d, s3, bucket, w, where)
        # Metadata = files: every version row's file, and nothing else.
        assert meta_seqs(d) == version_files(d), where
        listed = sorted(c["Key"] for c in s3.list_objects_v2(Bucket=bucket).get("Contents", []))
        assert files_under(os.path.join(d.ufs, bucket)) == listed, where


def test_remote_bucket_is_not_versioned(atriumd_factory, tmp_path):
    """A bucket mounted on a remote store has no links or renames for
    versions: PutBucketVersioning is 501, its objects are null versions."""
    from remote_util import mount_args, uniq
    from test_cli_admin import cli, ok
    remote = atriumd_factory("sigv4", "versions-remote")
    gateway = atriumd_factory("sigv4", "versions-gateway")
    rb, name = uniq("rb"), uniq("mnt")
    remote.boto3("alice").create_bucket(Bucket=rb)
    ok(cli(gateway, "fs", "mount", *mount_args(remote, tmp_path), "/" + name,
           "s3://%s" % rb, user="admin"))
    gs3 = gateway.boto3("admin")
    assert client_error(enable, gs3, name) == (501, "NotImplemented")
    assert "Status" not in gs3.get_bucket_versioning(Bucket=name)
    assert "VersionId" not in gs3.put_object(Bucket=name, Key="k", Body=b"x")
    got, _ = versions_of(gs3, name)
    assert [(k, v, latest) for k, v, latest, _m, _e in got] == [("k", "null", True)]
    assert gs3.get_object(Bucket=name, Key="k", VersionId="null")["Body"].read() == b"x"
    # A versioned bucket is not mounted on a remote: its versions would be lost.
    local = uniq("vloc")
    gs3.create_bucket(Bucket=local)
    enable(gs3, local)
    r = cli(gateway, "fs", "mount", *mount_args(remote, tmp_path), "/" + local,
            "s3://%s" % rb, user="admin")
    assert r.returncode != 0 and "versioned" in r.out + r.err, (r.out, r.err)


def test_change_behind_our_back_keeps_the_id(s3, bucket, sigv4_daemon):
    enable(s3, bucket)
    old = s3.put_object(Bucket=bucket, Key="k", Body=b"one")["VersionId"]
    s3.put_object(Bucket=bucket, Key="k", Body=b"two")
    cur = s3.head_object(Bucket=bucket, Key="k")["VersionId"]
    with open(os.path.join(sigv4_daemon.ufs, bucket, "k"), "wb") as f:
        f.write(b"edited in place")
    h = s3.head_object(Bucket=bucket, Key="k")
    assert h["VersionId"] == cur and h["ContentLength"] == len(b"edited in place")
    # The next write keeps it under its id; the older one is untouched.
    s3.put_object(Bucket=bucket, Key="k", Body=b"three")
    assert s3.get_object(Bucket=bucket, Key="k", VersionId=cur)["Body"].read() == \
        b"edited in place"
    assert s3.get_object(Bucket=bucket, Key="k", VersionId=old)["Body"].read() == b"one"
