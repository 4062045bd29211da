"""Users managed while the daemon runs: `atrium user add|list|disable|enable|
rotate-key|rm` (the admin API's /api/v1/users, the superuser's only), each
change in force at once for boto3 and for bucket policies, and written to
the credentials file (0600), which a restart reads back."""
import json
import os
import re
import stat

import pytest

from s3util import client_error
from test_cli_admin import cli, ok


def keys_of(out):
    ak = re.search(r"^aws_access_key_id = (\S+)$", out, re.M).group(1)
    sk = re.search(r"^aws_secret_access_key = (\S+)$", out, re.M).group(1)
    return ak, sk


@pytest.fixture
def daemon(atriumd_factory):
    return atriumd_factory("sigv4", "users")


def test_users_end_to_end(daemon, bucket_name):
    d = daemon
    # Only the superuser manages users.
    p = cli(d, "user", "add", "dave", user="alice")
    assert p.returncode == 1 and "AccessDenied" in p.err, p.err

    out = ok(cli(d, "user", "add", "dave", "--display-name", "Dave D", user="admin"))
    ak, sk = keys_of(out)
    dave = d.boto3(access_key=ak, secret=sk)
    # In force at once: dave creates a bucket, and owns it.
    dave.create_bucket(Bucket=bucket_name)
    owner = dave.get_bucket_acl(Bucket=bucket_name)["Owner"]
    assert owner == {"ID": "dave", "DisplayName": "Dave D"}
    # A policy may name dave right away.
    alice = d.boto3("alice")
    other = bucket_name[:50] + "-alice"
    alice.create_bucket(Bucket=other)
    alice.put_bucket_policy(Bucket=other, Policy=json.dumps({
        "Version": "2012-10-17", "Statement": [{
            "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::000000000000:user/dave"},
            "Action": "s3:ListBucket", "Resource": "arn:aws:s3:::" + other}]}))
    dave.list_objects_v2(Bucket=other)

    p = cli(d, "user", "add", "dave", user="admin")
    assert p.returncode == 1 and "UserAlreadyExists" in p.err
    rows = [json.loads(l) for l in ok(cli(d, "user", "list", "--json", user="admin")).splitlines()]
    assert {"user": "dave", "display": "Dave D", "access_key": ak, "status": "Active"} in rows
    assert "secret" not in json.dumps(rows)

    # Written to the credentials file, which stays private.
    with open(d.creds) as f:
        assert "%s %s dave Dave D" % (ak, sk) in f.read()
    assert stat.S_IMODE(os.stat(d.creds).st_mode) == 0o600

    # Disabled: S3 answers an inactive key as it answers an unknown one.
    ok(cli(d, "user", "disable", "dave", user="admin"))
    assert client_error(dave.list_buckets) == (403, "InvalidAccessKeyId")
    assert "Inactive" in ok(cli(d, "user", "list", user="admin"))
    ok(cli(d, "user", "enable", "dave", user="admin"))
    dave.list_buckets()

    # A rotated key stops working; the new one works.
    out = ok(cli(d, "user", "rotate-key", "dave", user="admin"))
    ak2, sk2 = keys_of(out)
    assert ak2 != ak
    assert client_error(dave.list_buckets) == (403, "InvalidAccessKeyId")
    dave = d.boto3(access_key=ak2, secret=sk2)
    assert [b["Name"] for b in dave.list_buckets()["Buckets"]] == [bucket_name]

    # rm is refused while dave owns a bucket...
    p = cli(d, "user", "rm", "dave", user="admin")
    assert p.returncode == 1 and "UserOwnsBuckets" in p.err and bucket_name in p.err, p.err
    dave.list_buckets()
    # ...unless forced: the bucket goes to the daemon's user.
    out = ok(cli(d, "user", "rm", "--force", "dave", user="admin"))
    assert bucket_name in out
    assert client_error(dave.list_buckets) == (403, "InvalidAccessKeyId")
    admin = d.boto3("admin")
    assert admin.get_bucket_acl(Bucket=bucket_name)["Owner"]["ID"] == "root"
    p = cli(d, "user", "rm", "dave", user="admin")
    assert p.returncode == 1 and "NoSuchUser" in p.err


def test_users_survive_a_restart(daemon):
    d = daemon
    out = ok(cli(d, "user", "add", "erin", user="admin"))
    ak, sk = keys_of(out)
    ok(cli(d, "user", "disable", "bob", user="admin"))
    d.restart()
    d.boto3(access_key=ak, secret=sk).list_buckets()
    assert client_error(d.boto3("bob").list_buckets) == (403, "InvalidAccessKeyId")
    assert "erin" in ok(cli(d, "user", "list", user="admin"))
