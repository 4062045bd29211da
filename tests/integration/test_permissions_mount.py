"""Who may do what, seen through the mount (issue 12): S3 users as host
uids (the id map file, ids allocated once and never a host account's,
nameless uids round-tripping), and the same decisions through the mount,
S3 and the admin API for distinct host users (run as those uids)."""
import os
import stat
import sys

import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from s3util import client_error  # noqa: E402
from test_mount import read_file, run_as, write_file  # noqa: E402

pytestmark = [pytest.mark.usefixtures("mount_watchdog"),
              pytest.mark.skipif(os.geteuid() != 0, reason="needs root to act as other uids")]

NOBODY = 65534
BOB_UID = 4242
NAMELESS = 1234567890  # a host uid with no account: ten digits


@pytest.fixture(scope="module")
def mapped(mount_factory, tmp_path_factory):
    """A mounted daemon with an id map (bob is uid 4242) and an id range
    that holds a host account's uid (nobody's, 65534)."""
    idmap = tmp_path_factory.mktemp("idmap") / "idmap"
    idmap.write_text("# S3 user  uid  gid\nbob %d %d\n" % (BOB_UID, BOB_UID))
    return mount_factory("sigv4", "mount-idmap",
                         args=["--idmap", str(idmap), "--id-range", "65534-65600"])


def test_ids_allocated_once_never_a_host_accounts(mapped, bucket_name):
    d = mapped
    alice = d.boto3("alice")
    alice.create_bucket(Bucket=bucket_name)
    alice.put_object(Bucket=bucket_name, Key="k", Body=b"alice's")
    st = os.stat(d.path(bucket_name, "k"))
    # the range starts at nobody's uid: alice's is the next one, not it
    assert 65534 < st.st_uid <= 65600 and st.st_gid == st.st_uid
    assert stat.S_IMODE(st.st_mode) == 0o600
    # ... so uid 65534 (an account of this host) does not own her files
    res = run_as(NOBODY, NOBODY, 'attempt("read", readf, %r)' % d.path(bucket_name, "k"))
    assert res["read"] == "EACCES", res
    # allocated once: the same after a restart
    d.restart()
    assert os.stat(d.path(bucket_name, "k")).st_uid == st.st_uid


def test_id_map_file(mapped, bucket_name):
    d = mapped
    bob = d.boto3("bob")
    bob.create_bucket(Bucket=bucket_name)
    bob.put_object(Bucket=bucket_name, Key="mine", Body=b"bob's")
    st = os.stat(d.path(bucket_name, "mine"))
    assert (st.st_uid, st.st_gid) == (BOB_UID, BOB_UID)
    # uid 4242 is bob through the mount: his file, his bucket
    res = run_as(BOB_UID, BOB_UID, r'''
b = os.environ["B"]
attempt("read", readf, b + "/mine")
attempt("write", writef, b + "/new", b"from uid 4242", 0o600)
''', B=d.path(bucket_name))
    assert res == {"read": "bob's", "write": "ok"}, res
    owners = {o["Key"]: o["Owner"]["ID"]
              for o in bob.list_objects_v2(Bucket=bucket_name, FetchOwner=True)["Contents"]}
    assert owners == {"mine": "bob", "new": "bob"}


def test_nameless_uid_round_trips(mapped, bucket_name):
    d = mapped
    os.mkdir(d.path(bucket_name))
    os.chmod(d.path(bucket_name), 0o777)
    res = run_as(NAMELESS, NAMELESS, 'attempt("w", writef, %r, b"n", 0o644)'
                 % d.path(bucket_name, "n"))
    assert res == {"w": "ok"}, res
    assert os.stat(d.path(bucket_name, "n")).st_uid == NAMELESS
    admin = d.boto3("admin")
    owners = {o["Key"]: o["Owner"]["ID"]
              for o in admin.list_objects_v2(Bucket=bucket_name, FetchOwner=True)["Contents"]}
    assert owners == {"n": str(NAMELESS)}
    d.restart()
    assert os.stat(d.path(bucket_name, "n")).st_uid == NAMELESS


def test_one_answer_through_every_door(mount_daemon, bucket_name):
    """The S3 decisions hold in the mount: a private object, a 0700
    directory, a bucket made public-read; host users who are not the owner
    see what S3 users who are not the owner see."""
    d = mount_daemon
    alice = d.boto3("alice")
    alice.create_bucket(Bucket=bucket_name)
    alice.put_object(Bucket=bucket_name, Key="secret", Body=b"s")
    alice.put_object(Bucket=bucket_name, Key="dir/inner", Body=b"i", ACL="public-read")
    b = d.path(bucket_name)
    # a private bucket: another host user cannot even look in
    res = run_as(NOBODY, NOBODY, r'''
b = os.environ["B"]
attempt("ls", os.listdir, b)
attempt("read", readf, b + "/secret")
''', B=b)
    assert res == {"ls": "EACCES", "read": "EACCES"}, res
    # public-read through S3: the mount lets others list and read what is
    # public, and still not the private object
    alice.put_bucket_acl(Bucket=bucket_name, ACL="public-read")
    assert stat.S_IMODE(os.stat(b).st_mode) == 0o755
    assert stat.S_IMODE(os.stat(os.path.join(b, "dir")).st_mode) == 0o755  # implied: follows
    res = run_as(NOBODY, NOBODY, r'''
b = os.environ["B"]
attempt("ls", lambda p: sorted(os.listdir(p)), b)
attempt("inner", readf, b + "/dir/inner")
attempt("secret", readf, b + "/secret")
attempt("create", writef, b + "/x", b"x")
''', B=b)
    assert res == {"ls": ["dir", "secret"], "inner": "i", "secret": "EACCES",
                   "create": "EACCES"}, res
    # chmod through the mount is what S3 checks: the bucket (the mount's
    # directory) closed again, and a 0700 directory
    bob = d.boto3("bob")
    assert bob.get_object(Bucket=bucket_name, Key="dir/inner")["Body"].read() == b"i"
    os.chmod(os.path.join(b, "dir"), 0o700)
    assert client_error(bob.get_object, Bucket=bucket_name, Key="dir/inner")[0] == 403
    os.chmod(os.path.join(b, "dir"), 0o755)
    os.chmod(b, 0o700)
    assert client_error(bob.get_object, Bucket=bucket_name, Key="dir/inner")[0] == 403
    assert client_error(bob.list_objects_v2, Bucket=bucket_name)[0] == 403
    # a file written through the mount keeps the mode it was made with, and
    # S3 sees it so; an S3 overwrite keeps it too
    os.chmod(b, 0o755)
    write_file(os.path.join(b, "f"), b"v1", 0o640)
    alice.put_object(Bucket=bucket_name, Key="f", Body=b"v2")
    assert stat.S_IMODE(os.stat(os.path.join(b, "f")).st_mode) == 0o640
    assert read_file(os.path.join(b, "f")) == b"v2"
