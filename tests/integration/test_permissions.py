"""Who may do what (issue 12): private by default, S3 ACLs, Block Public
Access, Object Ownership, directory permissions over S3, one answer through
the S3 door, the admin API and the mount. Real clients (boto3, awscli, raw
HTTP for anonymous requests) against the shared SigV4 daemon, three users."""
import os
import subprocess
import sys
import urllib.parse

import pytest
import requests as _requests  # noqa: F401  (python3-requests comes with botocore)

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from s3util import S3NS, USERS, awscli, client_error  # noqa: E402

ALL_USERS = "http://acs.amazonaws.com/groups/global/AllUsers"
AUTH_USERS = "http://acs.amazonaws.com/groups/global/AuthenticatedUsers"


@pytest.fixture
def bob(sigv4_daemon):
    return sigv4_daemon.boto3("bob")


@pytest.fixture
def carol(sigv4_daemon):
    return sigv4_daemon.boto3("carol")


def anon(d, method, path, body=b"", headers=None):
    """An unsigned request (no Authorization at all)."""
    return d.request(method, path, headers=headers, body=body)


def grants(acl):
    """(grantee, permission) pairs of a GetBucketAcl/GetObjectAcl answer."""
    out = []
    for g in acl["Grants"]:
        who = g["Grantee"].get("ID") or g["Grantee"].get("URI")
        out.append((who, g["Permission"]))
    return sorted(out)


# -- private by default ---------------------------------------------------------

def test_private_by_default_on_every_read_path(sigv4_daemon, alice, bob, bucket):
    """A new bucket and a new object are their creator's alone: another
    signed-in user gets 403 on every path that could show a byte, a name, an
    ETag or a tag of them."""
    d = sigv4_daemon
    body = os.urandom(6 * 1024 * 1024)
    alice.put_object(Bucket=bucket, Key="dir/secret", Body=body, Tagging="k=v")
    up = alice.create_multipart_upload(Bucket=bucket, Key="mp")
    part = alice.upload_part(Bucket=bucket, Key="mp", UploadId=up["UploadId"], PartNumber=1,
                             Body=body)
    alice.complete_multipart_upload(
        Bucket=bucket, Key="mp", UploadId=up["UploadId"],
        MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": part["ETag"]}]})
    pending = alice.create_multipart_upload(Bucket=bucket, Key="pending")

    denied = (403, "AccessDenied")
    assert client_error(bob.get_object, Bucket=bucket, Key="dir/secret") == denied
    assert client_error(bob.get_object, Bucket=bucket, Key="dir/secret", Range="bytes=0-9") == denied
    assert client_error(bob.get_object, Bucket=bucket, Key="mp", PartNumber=1) == denied
    assert client_error(bob.head_object, Bucket=bucket, Key="dir/secret")[0] == 403
    assert client_error(bob.head_bucket, Bucket=bucket)[0] == 403
    assert client_error(bob.list_objects, Bucket=bucket) == denied
    assert client_error(bob.list_objects_v2, Bucket=bucket) == denied
    assert client_error(bob.get_object_tagging, Bucket=bucket, Key="dir/secret") == denied
    assert client_error(bob.get_object_acl, Bucket=bucket, Key="dir/secret") == denied
    assert client_error(bob.get_bucket_acl, Bucket=bucket) == denied
    assert client_error(bob.get_object_attributes, Bucket=bucket, Key="dir/secret",
                        ObjectAttributes=["ETag", "ObjectSize"]) == denied
    assert client_error(bob.list_multipart_uploads, Bucket=bucket) == denied
    assert client_error(bob.list_parts, Bucket=bucket, Key="pending",
                        UploadId=pending["UploadId"]) == denied
    # nor does a missing key tell him it is missing (that would be a listing)
    assert client_error(bob.get_object, Bucket=bucket, Key="no-such") == denied
    assert client_error(alice.get_object, Bucket=bucket, Key="no-such") == (404, "NoSuchKey")
    # ListBuckets shows one's own buckets only
    assert bucket not in [b["Name"] for b in bob.list_buckets()["Buckets"]]
    assert bucket in [b["Name"] for b in alice.list_buckets()["Buckets"]]
    # copying out of it, whole or as a part of bob's own upload
    bob.create_bucket(Bucket=bucket + "-bob")
    assert client_error(bob.copy_object, Bucket=bucket + "-bob", Key="stolen",
                        CopySource={"Bucket": bucket, "Key": "dir/secret"}) == denied
    theirs = bob.create_multipart_upload(Bucket=bucket + "-bob", Key="stolen")
    assert client_error(bob.upload_part_copy, Bucket=bucket + "-bob", Key="stolen",
                        UploadId=theirs["UploadId"], PartNumber=1,
                        CopySource={"Bucket": bucket, "Key": "dir/secret"}) == denied
    # a URL bob presigns reaches no further than bob
    url = bob.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": "dir/secret"})
    u = urllib.parse.urlsplit(url)
    assert anon(d, "GET", u.path + "?" + u.query).status == 403
    # and writes: PUT, DELETE, multipart, tagging, ACLs
    assert client_error(bob.put_object, Bucket=bucket, Key="x", Body=b"x") == denied
    assert client_error(bob.delete_object, Bucket=bucket, Key="dir/secret") == denied
    assert client_error(bob.create_multipart_upload, Bucket=bucket, Key="x") == denied
    assert client_error(bob.put_object_tagging, Bucket=bucket, Key="dir/secret",
                        Tagging={"TagSet": []}) == denied
    assert client_error(bob.put_object_acl, Bucket=bucket, Key="dir/secret",
                        ACL="public-read") == denied
    assert client_error(bob.put_bucket_acl, Bucket=bucket, ACL="public-read") == denied
    assert client_error(bob.delete_bucket, Bucket=bucket) == denied
    # the owner sees it all, and the ACL that says so
    assert alice.get_object(Bucket=bucket, Key="dir/secret")["Body"].read() == body
    acl = alice.get_object_acl(Bucket=bucket, Key="dir/secret")
    assert acl["Owner"]["ID"] == "alice"
    assert grants(acl) == [("alice", "FULL_CONTROL")]
    assert grants(alice.get_bucket_acl(Bucket=bucket)) == [("alice", "FULL_CONTROL")]
    # anonymous: nothing
    assert anon(d, "GET", "/%s/dir/secret" % bucket).status == 403
    assert anon(d, "GET", "/%s" % bucket).status == 403
    assert anon(d, "GET", "/").status == 403


def test_the_files_under_data_are_not_the_hosts(sigv4_daemon, alice, bucket):
    """What the daemon writes under DATA is its own: 0700 directories and
    0600 files, so a local account cannot read around the doors."""
    alice.put_object(Bucket=bucket, Key="d/f", Body=b"private")
    for path in (sigv4_daemon.data, os.path.join(sigv4_daemon.ufs, bucket),
                 os.path.join(sigv4_daemon.ufs, bucket, "d")):
        assert os.stat(path).st_mode & 0o077 == 0, path
    for path in (os.path.join(sigv4_daemon.data, "meta.db"),
                 os.path.join(sigv4_daemon.ufs, bucket, "d", "f")):
        assert os.stat(path).st_mode & 0o077 == 0, path


# -- canned ACLs and grants -----------------------------------------------------

def test_public_read_bucket_and_objects_for_anonymous(sigv4_daemon, alice, bob, bucket):
    d = sigv4_daemon
    alice.put_object(Bucket=bucket, Key="open", Body=b"for all", ACL="public-read")
    alice.put_object(Bucket=bucket, Key="closed", Body=b"mine")
    # the object is public, the bucket not yet: no way in
    assert anon(d, "GET", "/%s/open" % bucket).status == 403
    alice.put_bucket_acl(Bucket=bucket, ACL="public-read")
    r = anon(d, "GET", "/%s/open" % bucket)
    assert (r.status, r.body) == (200, b"for all")
    assert anon(d, "GET", "/api/v1/s3/%s/open" % bucket).status == 200
    r = anon(d, "GET", "/%s/closed" % bucket)
    assert (r.status, r.error_code()) == (403, "AccessDenied")
    # anyone may list a public-read bucket: names, not bytes
    r = anon(d, "GET", "/%s?list-type=2" % bucket)
    assert r.status == 200
    keys = [c.find(S3NS + "Key").text for c in r.xml().findall(S3NS + "Contents")]
    assert keys == ["closed", "open"]
    # nobody anonymous writes it
    r = anon(d, "PUT", "/%s/new" % bucket, body=b"x")
    assert (r.status, r.error_code()) == (403, "AccessDenied")
    assert bob.get_object(Bucket=bucket, Key="open")["Body"].read() == b"for all"
    assert grants(alice.get_object_acl(Bucket=bucket, Key="open")) == sorted([
        ("alice", "FULL_CONTROL"), (AUTH_USERS, "READ"), (ALL_USERS, "READ")])
    # back to private: the public read is gone with it
    alice.put_object_acl(Bucket=bucket, Key="open", ACL="private")
    assert anon(d, "GET", "/%s/open" % bucket).status == 403
    assert client_error(bob.get_object, Bucket=bucket, Key="open")[0] == 403


def test_public_read_write_bucket_takes_anonymous_writes(sigv4_daemon, alice, bucket):
    d = sigv4_daemon
    alice.put_bucket_acl(Bucket=bucket, ACL="public-read-write")
    r = anon(d, "PUT", "/%s/dropped" % bucket, body=b"from anyone")
    assert r.status == 200, r
    # what nobody signed for belongs to the bucket's owner
    head = alice.list_objects_v2(Bucket=bucket, FetchOwner=True)["Contents"]
    assert [(o["Key"], o["Owner"]["ID"]) for o in head] == [("dropped", "alice")]
    assert alice.get_object(Bucket=bucket, Key="dropped")["Body"].read() == b"from anyone"
    assert anon(d, "DELETE", "/%s/dropped" % bucket).status == 204
    # creating a bucket, listing buckets, the admin API: never anonymous
    assert anon(d, "PUT", "/anon-bucket-%s" % bucket[-8:]).status == 403
    assert anon(d, "GET", "/api/v1/fs/list?path=/").status == 403


def test_authenticated_read_is_for_signed_requests_only(sigv4_daemon, alice, bob, bucket):
    alice.put_bucket_acl(Bucket=bucket, ACL="authenticated-read")
    alice.put_object(Bucket=bucket, Key="k", Body=b"signed only", ACL="authenticated-read")
    assert bob.get_object(Bucket=bucket, Key="k")["Body"].read() == b"signed only"
    assert [o["Key"] for o in bob.list_objects_v2(Bucket=bucket)["Contents"]] == ["k"]
    assert anon(sigv4_daemon, "GET", "/%s/k" % bucket).status == 403
    assert grants(alice.get_bucket_acl(Bucket=bucket)) == sorted([
        ("alice", "FULL_CONTROL"), (AUTH_USERS, "READ")])


def test_explicit_grants_by_header_and_by_document(sigv4_daemon, alice, bob, carol, bucket):
    # bob may list and read (header grants), carol not
    alice.put_bucket_acl(Bucket=bucket, GrantRead='id="bob"', GrantFullControl='id="alice"')
    alice.put_object(Bucket=bucket, Key="k", Body=b"for bob", GrantRead='id="bob"',
                     GrantFullControl='id="alice"')
    assert bob.get_object(Bucket=bucket, Key="k")["Body"].read() == b"for bob"
    assert [o["Key"] for o in bob.list_objects_v2(Bucket=bucket)["Contents"]] == ["k"]
    assert client_error(carol.get_object, Bucket=bucket, Key="k")[0] == 403
    assert client_error(carol.list_objects_v2, Bucket=bucket)[0] == 403
    assert grants(alice.get_object_acl(Bucket=bucket, Key="k")) == sorted([
        ("alice", "FULL_CONTROL"), ("bob", "READ")])
    # an AccessControlPolicy document: carol may write the bucket and read
    # its ACL, bob no longer anything
    alice.put_bucket_acl(Bucket=bucket, AccessControlPolicy={
        "Owner": {"ID": "alice"},
        "Grants": [
            {"Grantee": {"Type": "CanonicalUser", "ID": "alice"}, "Permission": "FULL_CONTROL"},
            {"Grantee": {"Type": "CanonicalUser", "ID": "carol"}, "Permission": "WRITE"},
            {"Grantee": {"Type": "CanonicalUser", "ID": "carol"}, "Permission": "READ_ACP"},
        ]})
    carol.put_object(Bucket=bucket, Key="by-carol", Body=b"c")
    assert ("carol", "WRITE") in grants(carol.get_bucket_acl(Bucket=bucket))
    assert client_error(carol.put_bucket_acl, Bucket=bucket, ACL="private")[0] == 403
    assert client_error(bob.list_objects_v2, Bucket=bucket)[0] == 403
    # carol owns what she wrote; alice (the bucket's owner) may delete it
    # but not read it: S3's ObjectWriter ownership
    assert client_error(alice.get_object, Bucket=bucket, Key="by-carol")[0] == 403
    alice.delete_object(Bucket=bucket, Key="by-carol")


def test_bucket_owner_canned_acls(sigv4_daemon, alice, bob, bucket):
    alice.put_bucket_acl(Bucket=bucket, GrantWrite='id="bob"', GrantFullControl='id="alice"')
    bob.put_object(Bucket=bucket, Key="read", Body=b"r", ACL="bucket-owner-read")
    bob.put_object(Bucket=bucket, Key="full", Body=b"f", ACL="bucket-owner-full-control")
    bob.put_object(Bucket=bucket, Key="plain", Body=b"p")
    assert alice.get_object(Bucket=bucket, Key="read")["Body"].read() == b"r"
    assert client_error(alice.put_object_acl, Bucket=bucket, Key="read", ACL="private")[0] == 403
    alice.put_object_acl(Bucket=bucket, Key="full", ACL="private")  # full control
    assert client_error(alice.get_object, Bucket=bucket, Key="plain")[0] == 403
    assert grants(bob.get_object_acl(Bucket=bucket, Key="read")) == sorted([
        ("alice", "READ"), ("bob", "FULL_CONTROL")])


def test_acl_errors(sigv4_daemon, alice, bucket):
    d = sigv4_daemon
    alice.put_object(Bucket=bucket, Key="k", Body=b"k")
    r = d.request("PUT", "/%s/k?acl" % bucket, user="alice",
                  headers={"x-amz-acl": "public-read", "x-amz-grant-read": 'id="bob"'})
    assert (r.status, r.error_code()) == (400, "InvalidRequest"), r
    r = d.request("PUT", "/%s/k?acl" % bucket, user="alice", headers={"x-amz-acl": "public"})
    assert (r.status, r.error_code()) == (400, "InvalidArgument"), r
    r = d.request("PUT", "/%s/k?acl" % bucket, user="alice",
                  headers={"x-amz-grant-read": 'id="nobody-we-know"'})
    assert (r.status, r.error_code()) == (400, "InvalidArgument"), r
    r = d.request("PUT", "/%s/k?acl" % bucket, user="alice",
                  headers={"x-amz-grant-read": 'emailAddress="a@example.com"'})
    assert (r.status, r.error_code()) == (400, "UnresolvableGrantByEmailAddress"), r
    r = d.request("PUT", "/%s/k?acl" % bucket, user="alice", body=b"<AccessControlPolicy>")
    assert (r.status, r.error_code()) == (400, "MalformedACLError"), r
    r = d.request("PUT", "/%s/k?acl" % bucket, user="alice")
    assert r.status == 400, r
    # an ACL does not change the owner
    assert client_error(alice.put_object_acl, Bucket=bucket, Key="k", AccessControlPolicy={
        "Owner": {"ID": "bob"},
        "Grants": [{"Grantee": {"Type": "CanonicalUser", "ID": "bob"},
                    "Permission": "FULL_CONTROL"}]})[0] == 400
    # PUT with a bad canned ACL stores nothing
    r = d.request("PUT", "/%s/bad" % bucket, user="alice", body=b"x",
                  headers={"x-amz-acl": "everyone"})
    assert r.status == 400
    assert client_error(alice.head_object, Bucket=bucket, Key="bad")[0] == 404


def test_awscli_acls(sigv4_daemon, bucket, tmp_path):
    aws = awscli(sigv4_daemon, tmp_path)
    bob = awscli(sigv4_daemon, tmp_path, "bob")
    src = tmp_path / "f.txt"
    src.write_bytes(b"via awscli")
    aws("s3", "cp", str(src), "s3://%s/f.txt" % bucket, "--acl", "authenticated-read")
    aws("s3api", "put-bucket-acl", "--bucket", bucket, "--grant-read", 'id="bob"',
        "--grant-full-control", 'id="alice"')
    assert bob("s3", "cp", "s3://%s/f.txt" % bucket, "-").stdout == "via awscli"
    p = aws("s3api", "get-object-acl", "--bucket", bucket, "--key", "f.txt")
    assert '"FULL_CONTROL"' in p.stdout and AUTH_USERS in p.stdout
    aws("s3api", "put-object-acl", "--bucket", bucket, "--key", "f.txt", "--acl", "private")
    p = bob("s3", "cp", "s3://%s/f.txt" % bucket, "-", check=False)
    assert p.returncode != 0 and "403" in p.stderr


# -- the permissions an object keeps ---------------------------------------------

def test_overwrite_keeps_the_permissions_unless_given_new_ones(sigv4_daemon, alice, bob, bucket):
    alice.put_bucket_acl(Bucket=bucket, ACL="public-read")
    alice.put_object(Bucket=bucket, Key="k", Body=b"v1", ACL="public-read")
    alice.put_object(Bucket=bucket, Key="k", Body=b"v2")  # no ACL: keeps public-read
    assert bob.get_object(Bucket=bucket, Key="k")["Body"].read() == b"v2"
    alice.put_object(Bucket=bucket, Key="k", Body=b"v3", ACL="private")
    assert client_error(bob.get_object, Bucket=bucket, Key="k")[0] == 403
    alice.put_object(Bucket=bucket, Key="k", Body=b"v4")  # stays private
    assert client_error(bob.get_object, Bucket=bucket, Key="k")[0] == 403
    # a copy onto it and a multipart completion keep them too
    alice.put_object_acl(Bucket=bucket, Key="k", ACL="public-read")
    alice.copy_object(Bucket=bucket, Key="k", CopySource={"Bucket": bucket, "Key": "k"},
                      MetadataDirective="REPLACE", Metadata={"x": "y"})
    assert bob.get_object(Bucket=bucket, Key="k")["Metadata"] == {"x": "y"}
    up = alice.create_multipart_upload(Bucket=bucket, Key="k")
    p = alice.upload_part(Bucket=bucket, Key="k", UploadId=up["UploadId"], PartNumber=1,
                          Body=b"mp")
    alice.complete_multipart_upload(Bucket=bucket, Key="k", UploadId=up["UploadId"],
                                    MultipartUpload={"Parts": [{"PartNumber": 1,
                                                                "ETag": p["ETag"]}]})
    assert bob.get_object(Bucket=bucket, Key="k")["Body"].read() == b"mp"
    # a multipart upload created with an ACL applies it at completion
    up = alice.create_multipart_upload(Bucket=bucket, Key="mp", ACL="public-read")
    p = alice.upload_part(Bucket=bucket, Key="mp", UploadId=up["UploadId"], PartNumber=1,
                          Body=b"x")
    alice.complete_multipart_upload(Bucket=bucket, Key="mp", UploadId=up["UploadId"],
                                    MultipartUpload={"Parts": [{"PartNumber": 1,
                                                                "ETag": p["ETag"]}]})
    assert anon(sigv4_daemon, "GET", "/%s/mp" % bucket).status == 200


def test_chmod_600_survives_an_overwrite(sigv4_daemon, alice, bob, bucket, tmp_path):
    """The admin door's chmod is the mode S3 checks, and an ordinary
    overwrite by the owner does not publish the file again."""
    from test_cli_admin import cli, ok
    alice.put_bucket_acl(Bucket=bucket, ACL="public-read")
    alice.put_object(Bucket=bucket, Key="k", Body=b"v1", ACL="public-read")
    ok(cli(sigv4_daemon, "fs", "chmod", "600", "/%s/k" % bucket))
    alice.put_object(Bucket=bucket, Key="k", Body=b"v2")
    assert client_error(bob.get_object, Bucket=bucket, Key="k")[0] == 403
    assert anon(sigv4_daemon, "GET", "/%s/k" % bucket).status == 403
    assert grants(alice.get_object_acl(Bucket=bucket, Key="k")) == [("alice", "FULL_CONTROL")]


# -- directories --------------------------------------------------------------

def test_a_0700_directory_hides_what_is_in_it(sigv4_daemon, alice, bob, bucket):
    from test_cli_admin import cli, ok
    alice.put_bucket_acl(Bucket=bucket, ACL="public-read")
    for k in ("open/a", "locked/b", "locked/deeper/c", "top"):
        alice.put_object(Bucket=bucket, Key=k, Body=k.encode(), ACL="public-read")
    ok(cli(sigv4_daemon, "fs", "mkdir", "/%s/locked2" % bucket))  # made as its own
    ok(cli(sigv4_daemon, "fs", "chmod", "755", "/%s/locked2" % bucket))
    alice.put_object(Bucket=bucket, Key="locked2/x", Body=b"x", ACL="public-read")
    for d in ("locked", "locked2"):
        ok(cli(sigv4_daemon, "fs", "chmod", "700", "/%s/%s" % (bucket, d)))
    # over S3: GET, HEAD, and both listings hide what is in it (the mount
    # would refuse); the marker locked2/ is itself a key of the readable root
    assert bob.get_object(Bucket=bucket, Key="open/a")["Body"].read() == b"open/a"
    for k in ("locked/b", "locked/deeper/c", "locked2/x"):
        assert client_error(bob.get_object, Bucket=bucket, Key=k)[0] == 403, k
        assert anon(sigv4_daemon, "GET", "/%s/%s" % (bucket, k)).status == 403
    keys = [o["Key"] for o in bob.list_objects_v2(Bucket=bucket)["Contents"]]
    assert keys == ["locked2/", "open/a", "top"]
    v1 = [o["Key"] for o in bob.list_objects(Bucket=bucket)["Contents"]]
    assert v1 == keys
    r = bob.list_objects_v2(Bucket=bucket, Delimiter="/")
    assert [p["Prefix"] for p in r["CommonPrefixes"]] == ["locked/", "locked2/", "open/"]
    assert bob.list_objects_v2(Bucket=bucket, Prefix="locked/").get("Contents") is None
    # the owner sees everything
    assert len(alice.list_objects_v2(Bucket=bucket)["Contents"]) == 6
    # the admin door: stat refuses, listings show names only where readable
    p = cli(sigv4_daemon, "fs", "ls", "/%s/locked" % bucket, user="bob")
    assert p.returncode == 1 and "AccessDenied" in p.err
    p = cli(sigv4_daemon, "fs", "stat", "/%s/locked/b" % bucket, user="bob")
    assert p.returncode == 1
    out = ok(cli(sigv4_daemon, "fs", "ls", "-R", "/" + bucket, user="bob"))
    assert "locked/b" not in out and "deeper" not in out and "locked2/x" not in out
    assert "/%s/open/a" % bucket in out and "/%s/locked" % bucket in out
    # and reopening it shows it again
    ok(cli(sigv4_daemon, "fs", "chmod", "755", "/%s/locked" % bucket))
    assert bob.get_object(Bucket=bucket, Key="locked/b")["Body"].read() == b"locked/b"


# -- Block Public Access ----------------------------------------------------------

def test_block_public_access(sigv4_daemon, alice, bucket):
    d = sigv4_daemon
    assert client_error(alice.get_public_access_block, Bucket=bucket) == \
        (404, "NoSuchPublicAccessBlockConfiguration")
    alice.put_object(Bucket=bucket, Key="was-public", Body=b"p", ACL="public-read")
    alice.put_bucket_acl(Bucket=bucket, ACL="public-read")
    assert anon(d, "GET", "/%s/was-public" % bucket).status == 200
    alice.put_public_access_block(Bucket=bucket, PublicAccessBlockConfiguration={
        "BlockPublicAcls": True, "IgnorePublicAcls": True,
        "BlockPublicPolicy": False, "RestrictPublicBuckets": False})
    conf = alice.get_public_access_block(Bucket=bucket)["PublicAccessBlockConfiguration"]
    assert conf == {"BlockPublicAcls": True, "IgnorePublicAcls": True,
                    "BlockPublicPolicy": False, "RestrictPublicBuckets": False}
    # BlockPublicAcls: a public ACL is refused, on PUT and on PutObjectAcl
    assert client_error(alice.put_object, Bucket=bucket, Key="new", Body=b"n",
                        ACL="public-read") == (403, "AccessDenied")
    assert client_error(alice.put_object_acl, Bucket=bucket, Key="was-public",
                        ACL="public-read-write") == (403, "AccessDenied")
    alice.put_object(Bucket=bucket, Key="new", Body=b"n", ACL="private")
    # IgnorePublicAcls: what was public is public no more
    assert anon(d, "GET", "/%s/was-public" % bucket).status == 403
    assert client_error(sigv4_daemon.boto3("bob").get_object, Bucket=bucket,
                        Key="was-public")[0] == 403
    alice.delete_public_access_block(Bucket=bucket)
    assert anon(d, "GET", "/%s/was-public" % bucket).status == 200
    assert client_error(sigv4_daemon.boto3("bob").get_public_access_block,
                        Bucket=bucket)[0] == 403


# -- Object Ownership ----------------------------------------------------------------

def test_bucket_owner_enforced(sigv4_daemon, alice, bob, bucket):
    assert client_error(alice.get_bucket_ownership_controls, Bucket=bucket) == \
        (404, "OwnershipControlsNotFoundError")
    alice.put_bucket_ownership_controls(Bucket=bucket, OwnershipControls={
        "Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]})
    rules = alice.get_bucket_ownership_controls(Bucket=bucket)["OwnershipControls"]["Rules"]
    assert rules == [{"ObjectOwnership": "BucketOwnerEnforced"}]
    # ACLs are off: only "nothing" or bucket-owner-full-control is taken
    assert client_error(alice.put_object, Bucket=bucket, Key="k", Body=b"x",
                        ACL="public-read") == (400, "AccessControlListNotSupported")
    assert client_error(alice.put_bucket_acl, Bucket=bucket, ACL="public-read") == \
        (400, "AccessControlListNotSupported")
    alice.put_object(Bucket=bucket, Key="k", Body=b"x", ACL="bucket-owner-full-control")
    # what bob writes (once he may) belongs to the bucket's owner
    alice.put_bucket_ownership_controls(Bucket=bucket, OwnershipControls={
        "Rules": [{"ObjectOwnership": "ObjectWriter"}]})
    alice.put_bucket_acl(Bucket=bucket, GrantWrite='id="bob"', GrantFullControl='id="alice"')
    # ... but not while the bucket's ACL grants others
    assert client_error(alice.put_bucket_ownership_controls, Bucket=bucket, OwnershipControls={
        "Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]}) == \
        (400, "InvalidBucketAclWithObjectOwnership")
    bob.put_object(Bucket=bucket, Key="by-bob", Body=b"b")
    owners = {o["Key"]: o["Owner"]["ID"]
              for o in alice.list_objects_v2(Bucket=bucket, FetchOwner=True)["Contents"]}
    assert owners == {"k": "alice", "by-bob": "bob"}
    # BucketOwnerPreferred: with bucket-owner-full-control, the bucket's
    alice.put_bucket_ownership_controls(Bucket=bucket, OwnershipControls={
        "Rules": [{"ObjectOwnership": "BucketOwnerPreferred"}]})
    bob.put_object(Bucket=bucket, Key="preferred", Body=b"p", ACL="bucket-owner-full-control")
    owners = {o["Key"]: o["Owner"]["ID"]
              for o in alice.list_objects_v2(Bucket=bucket, FetchOwner=True)["Contents"]}
    assert owners["preferred"] == "alice"
    alice.delete_bucket_ownership_controls(Bucket=bucket)
    assert client_error(alice.get_bucket_ownership_controls, Bucket=bucket)[0] == 404


def test_create_bucket_with_acl_and_ownership(sigv4_daemon, alice, bucket_name):
    d = sigv4_daemon
    alice.create_bucket(Bucket=bucket_name, ACL="public-read")
    assert anon(d, "GET", "/%s" % bucket_name).status == 200
    alice.create_bucket(Bucket=bucket_name + "-e", ObjectOwnership="BucketOwnerEnforced")
    assert alice.get_bucket_ownership_controls(Bucket=bucket_name + "-e")[
        "OwnershipControls"]["Rules"] == [{"ObjectOwnership": "BucketOwnerEnforced"}]
    assert client_error(alice.create_bucket, Bucket=bucket_name + "-x", ACL="public-read",
                        ObjectOwnership="BucketOwnerEnforced") == \
        (400, "InvalidBucketAclWithObjectOwnership")


# -- POST object ------------------------------------------------------------------

def test_post_object_acl_field(sigv4_daemon, alice, bucket):
    post = alice.generate_presigned_post(bucket, "posted", Fields={"acl": "public-read"},
                                         Conditions=[{"acl": "public-read"}])
    r = subprocess.run(["curl", "-s", "-o", "/dev/null", "-w", "%{http_code}"] +
                       sum((["-F", "%s=%s" % kv] for kv in post["fields"].items()), []) +
                       ["-F", "file=@-", post["url"]], input=b"posted body",
                       capture_output=True, timeout=30)
    assert r.stdout.decode() == "204", r
    assert anon(sigv4_daemon, "GET", "/%s/posted" % bucket).status == 403  # bucket private
    alice.put_bucket_acl(Bucket=bucket, ACL="public-read")
    assert anon(sigv4_daemon, "GET", "/%s/posted" % bucket).body == b"posted body"


def test_users_in_the_credentials_file(sigv4_daemon):
    assert set(USERS) >= {"alice", "bob", "carol"}


# -- bucket policies ------------------------------------------------------------------

def policy(bucket, *statements):
    import json
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


def arn(bucket, key=None):
    return "arn:aws:s3:::%s%s" % (bucket, "" if key is None else "/" + key)


def user(name):
    return {"AWS": "arn:aws:iam::000000000000:user/%s" % name}


def test_policy_api_and_errors(sigv4_daemon, alice, bob, bucket):
    assert client_error(alice.get_bucket_policy, Bucket=bucket) == (404, "NoSuchBucketPolicy")
    assert client_error(alice.get_bucket_policy_status, Bucket=bucket)[0] == 404
    doc = policy(bucket, {"Sid": "r", "Effect": "Allow", "Principal": user("bob"),
                          "Action": "s3:GetObject", "Resource": arn(bucket, "*")})
    alice.put_bucket_policy(Bucket=bucket, Policy=doc)
    assert alice.get_bucket_policy(Bucket=bucket)["Policy"] == doc
    assert alice.get_bucket_policy_status(Bucket=bucket)["PolicyStatus"]["IsPublic"] is False
    # the owner's alone to read and change
    assert client_error(bob.get_bucket_policy, Bucket=bucket)[0] == 403
    assert client_error(bob.put_bucket_policy, Bucket=bucket, Policy=doc)[0] == 403
    assert client_error(bob.delete_bucket_policy, Bucket=bucket)[0] == 403
    # malformed: each with a message naming the problem
    bad = [
        ("not json", "first byte"),
        (policy(bucket, {"Effect": "Allow", "Principal": "*", "Action": "s3:Fly",
                         "Resource": arn(bucket, "*")}), "invalid action"),
        (policy(bucket, {"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject",
                         "Resource": arn("someone-else", "*")}), "invalid resource"),
        (policy(bucket, {"Effect": "Allow", "Principal": user("mallory"),
                         "Action": "s3:GetObject", "Resource": arn(bucket, "*")}),
         "Invalid principal"),
        (policy(bucket, {"Effect": "Allow", "Principal": "*", "Action": "s3:ListBucket",
                         "Resource": arn(bucket, "*")}), "does not apply"),
        (policy(bucket, {"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject",
                         "Resource": arn(bucket, "*"),
                         "Condition": {"StringEquals": {"s3:nonsense": "x"}}}),
         "condition key"),
    ]
    for doc_, words in bad:
        r = sigv4_daemon.request("PUT", "/%s?policy" % bucket, user="alice",
                                 body=doc_.encode())
        assert (r.status, r.error_code()) == (400, "MalformedPolicy"), (doc_, r)
        assert words.lower() in r.body.decode().lower(), (words, r.body)
    alice.delete_bucket_policy(Bucket=bucket)
    assert client_error(alice.get_bucket_policy, Bucket=bucket)[0] == 404


def test_policy_allows_and_explicit_deny_wins(sigv4_daemon, alice, bob, carol, bucket):
    for k in ("public/a", "private/b", "tagged"):
        alice.put_object(Bucket=bucket, Key=k, Body=k.encode())
    alice.put_object_tagging(Bucket=bucket, Key="tagged",
                             Tagging={"TagSet": [{"Key": "share", "Value": "yes"}]})
    alice.put_bucket_policy(Bucket=bucket, Policy=policy(
        bucket,
        {"Effect": "Allow", "Principal": user("bob"), "Action": "s3:Get*",
         "Resource": arn(bucket, "public/*")},
        {"Effect": "Allow", "Principal": user("bob"), "Action": "s3:ListBucket",
         "Resource": arn(bucket), "Condition": {"StringEquals": {"s3:prefix": "public/"}}},
        {"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "s3:GetObject",
         "Resource": arn(bucket, "tagged"),
         "Condition": {"StringEquals": {"s3:ExistingObjectTag/share": "yes"}}},
        {"Effect": "Deny", "Principal": user("carol"), "Action": "s3:*",
         "Resource": [arn(bucket), arn(bucket, "*")]}))
    # a policy grants what the modes do not (the bucket and objects are private)
    assert bob.get_object(Bucket=bucket, Key="public/a")["Body"].read() == b"public/a"
    assert client_error(bob.get_object, Bucket=bucket, Key="private/b")[0] == 403
    assert [o["Key"] for o in bob.list_objects_v2(Bucket=bucket, Prefix="public/")[
        "Contents"]] == ["public/a"]
    assert client_error(bob.list_objects_v2, Bucket=bucket)[0] == 403  # no prefix: no match
    # a tag condition, for anyone (anonymous included) while the tag holds
    assert anon(sigv4_daemon, "GET", "/%s/tagged" % bucket).status == 200
    alice.put_object_tagging(Bucket=bucket, Key="tagged",
                             Tagging={"TagSet": [{"Key": "share", "Value": "no"}]})
    assert anon(sigv4_daemon, "GET", "/%s/tagged" % bucket).status == 403
    # an explicit Deny beats an ACL grant
    alice.put_bucket_acl(Bucket=bucket, ACL="authenticated-read")
    alice.put_object_acl(Bucket=bucket, Key="private/b", ACL="authenticated-read")
    assert bob.get_object(Bucket=bucket, Key="private/b")["Body"].read() == b"private/b"
    assert client_error(carol.get_object, Bucket=bucket, Key="private/b")[0] == 403
    assert client_error(carol.list_objects_v2, Bucket=bucket)[0] == 403
    assert client_error(carol.head_bucket, Bucket=bucket)[0] == 403


def test_policy_conditions_on_the_connection(sigv4_daemon, alice, bob, bucket):
    alice.put_object(Bucket=bucket, Key="k", Body=b"k")
    # IpAddress: anyone from the loopback may read, nobody else
    alice.put_bucket_policy(Bucket=bucket, Policy=policy(
        bucket, {"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject",
                 "Resource": arn(bucket, "*"),
                 "Condition": {"IpAddress": {"aws:SourceIp": "127.0.0.0/8"}}}))
    assert anon(sigv4_daemon, "GET", "/%s/k" % bucket).status == 200
    assert alice.get_bucket_policy_status(Bucket=bucket)["PolicyStatus"]["IsPublic"] is False
    alice.put_bucket_policy(Bucket=bucket, Policy=policy(
        bucket, {"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject",
                 "Resource": arn(bucket, "*"),
                 "Condition": {"NotIpAddress": {"aws:SourceIp": "127.0.0.0/8"}}}))
    assert anon(sigv4_daemon, "GET", "/%s/k" % bucket).status == 403
    # a Deny on plain HTTP stops even the owner, who may still drop it
    alice.put_bucket_policy(Bucket=bucket, Policy=policy(
        bucket, {"Effect": "Deny", "Principal": "*", "Action": "s3:*",
                 "Resource": [arn(bucket), arn(bucket, "*")],
                 "Condition": {"Bool": {"aws:SecureTransport": "false"}}}))
    assert client_error(alice.get_object, Bucket=bucket, Key="k")[0] == 403
    alice.delete_bucket_policy(Bucket=bucket)
    assert alice.get_object(Bucket=bucket, Key="k")["Body"].read() == b"k"


def test_public_policy_and_block_public_access(sigv4_daemon, alice, bucket):
    d = sigv4_daemon
    alice.put_object(Bucket=bucket, Key="k", Body=b"k")
    public = policy(bucket, {"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject",
                             "Resource": arn(bucket, "*")})
    alice.put_bucket_policy(Bucket=bucket, Policy=public)
    assert alice.get_bucket_policy_status(Bucket=bucket)["PolicyStatus"]["IsPublic"] is True
    assert anon(d, "GET", "/%s/k" % bucket).status == 200
    # RestrictPublicBuckets: the public policy no longer lets strangers in
    alice.put_public_access_block(Bucket=bucket, PublicAccessBlockConfiguration={
        "BlockPublicAcls": False, "IgnorePublicAcls": False,
        "BlockPublicPolicy": True, "RestrictPublicBuckets": True})
    assert anon(d, "GET", "/%s/k" % bucket).status == 403
    # BlockPublicPolicy: a public policy is refused
    assert client_error(alice.put_bucket_policy, Bucket=bucket, Policy=public) == \
        (403, "AccessDenied")
    alice.delete_public_access_block(Bucket=bucket)
    assert anon(d, "GET", "/%s/k" % bucket).status == 200
