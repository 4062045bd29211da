"""A bucket served by a remote S3 store (issue 15): `atrium fs mount` of a
bucket on a second, real atriumd acting as the remote, used through both
doors of the first. The remote's own view is checked with boto3 against
it directly, so every claim is about bytes that really crossed."""
import errno
import os

import pytest

from remote_util import listing, mount_args, secret_file, uniq  # noqa: F401
from s3util import USERS  # noqa: F401
from test_cli_admin import cli, ok


@pytest.fixture(scope="module")
def remote(atriumd_factory):
    return atriumd_factory("sigv4", name="remote")


@pytest.fixture(scope="module")
def gateway(atriumd_factory):
    return atriumd_factory("sigv4", name="gateway")


def test_remote_objects_through_the_gateway(remote, gateway, tmp_path):
    rb, name = uniq("rb"), uniq("mnt")
    rs3, gs3 = remote.boto3("alice"), gateway.boto3("admin")
    rs3.create_bucket(Bucket=rb)
    rs3.put_object(Bucket=rb, Key="pre/a.txt", Body=b"alpha")
    rs3.put_object(Bucket=rb, Key="pre/dir/b.txt", Body=b"bravo" * 1000)
    rs3.put_object(Bucket=rb, Key="outside.txt", Body=b"not under the prefix")

    ok(cli(gateway, "fs", "mount", *mount_args(remote, tmp_path), "/" + name,
           "s3://%s/pre" % rb, user="admin"))

    # What the remote holds under the prefix is the bucket's content.
    assert listing(gs3, name) == ["a.txt", "dir/b.txt"]
    assert gs3.get_object(Bucket=name, Key="dir/b.txt")["Body"].read() == b"bravo" * 1000
    got = gs3.get_object(Bucket=name, Key="dir/b.txt", Range="bytes=3-7")
    assert got["Body"].read() == b"vobra"

    # A PUT through the gateway is an object of the remote when it returns.
    gs3.put_object(Bucket=name, Key="new/c.bin", Body=b"\x00\x01" * 5000)
    assert rs3.get_object(Bucket=rb, Key="pre/new/c.bin")["Body"].read() == b"\x00\x01" * 5000
    # ...and only that: S3's directories are implied, so no "pre/new/" marker.
    assert "pre/new/" not in listing(rs3, rb, "pre/")
    gs3.put_object(Bucket=name, Key="made/", Body=b"")  # a marker asked for is one
    assert "pre/made/" in listing(rs3, rb, "pre/")
    gs3.delete_object(Bucket=name, Key="made/")

    # Changes made at the remote behind the gateway's back are seen
    # (metadata.sync.interval=0): a new object, a changed one, a gone one.
    rs3.put_object(Bucket=rb, Key="pre/d.txt", Body=b"delta")
    rs3.put_object(Bucket=rb, Key="pre/a.txt", Body=b"alpha, rewritten")
    rs3.delete_object(Bucket=rb, Key="pre/dir/b.txt")
    assert listing(gs3, name) == ["a.txt", "d.txt", "new/c.bin"]
    assert gs3.get_object(Bucket=name, Key="a.txt")["Body"].read() == b"alpha, rewritten"
    with pytest.raises(Exception) as e:
        gs3.get_object(Bucket=name, Key="dir/b.txt")
    assert "NoSuchKey" in str(e.value)

    # A DELETE through the gateway deletes at the remote.
    gs3.delete_object(Bucket=name, Key="d.txt")
    assert "pre/d.txt" not in listing(rs3, rb, "pre/")
    assert "outside.txt" in listing(rs3, rb)


def test_multipart_upload_lands_at_the_remote(remote, gateway, tmp_path):
    rb, name = uniq("rb"), uniq("mnt")
    rs3, gs3 = remote.boto3("alice"), gateway.boto3("admin")
    rs3.create_bucket(Bucket=rb)
    ok(cli(gateway, "fs", "mount", *mount_args(remote, tmp_path), "/" + name, "s3://" + rb,
           user="admin"))
    part = os.urandom(5 << 20)
    up = gs3.create_multipart_upload(Bucket=name, Key="big")
    etags = [gs3.upload_part(Bucket=name, Key="big", UploadId=up["UploadId"], PartNumber=n,
                             Body=part + bytes([n]))["ETag"] for n in (1, 2)]
    gs3.complete_multipart_upload(
        Bucket=name, Key="big", UploadId=up["UploadId"],
        MultipartUpload={"Parts": [{"PartNumber": n, "ETag": t}
                                   for n, t in zip((1, 2), etags)]})
    body = rs3.get_object(Bucket=rb, Key="big")["Body"].read()
    assert body == part + b"\x01" + part + b"\x02"


def test_mount_table_survives_a_restart_and_hides_secrets(remote, atriumd_factory, tmp_path):
    gw = atriumd_factory("sigv4", name="gateway-restart")
    rb, name, inline = uniq("rb"), uniq("mnt"), uniq("mnt")
    rs3 = remote.boto3("alice")
    rs3.create_bucket(Bucket=rb)
    rs3.put_object(Bucket=rb, Key="k", Body=b"kept")
    ok(cli(gw, "fs", "mount", *mount_args(remote, tmp_path), "/" + name, "s3://" + rb,
           user="admin"))
    ok(cli(gw, "fs", "mount", "--option", "s3.endpoint=" + remote.endpoint,
           "--option", "s3.accessKeyId=" + USERS["alice"][0],
           "--option=s3.secretKey=" + USERS["alice"][1], "/" + inline, "s3://" + rb,
           user="admin"))
    table = ok(cli(gw, "fs", "mount", user="admin"))
    assert "/" + name in table and "s3://" + rb in table and "/" + inline in table
    assert USERS["alice"][1] not in table, table
    assert "s3.secretKey=****" in table

    gw.restart()
    assert "/" + name in ok(cli(gw, "fs", "mount", user="admin"))
    assert gw.boto3("admin").get_object(Bucket=name, Key="k")["Body"].read() == b"kept"

    # Unmounting takes the bucket out of the namespace; the remote keeps it.
    ok(cli(gw, "fs", "unmount", "/" + name, user="admin"))
    assert "/" + name not in ok(cli(gw, "fs", "mount", user="admin"))
    names = [b["Name"] for b in gw.boto3("admin").list_buckets()["Buckets"]]
    assert name not in names and inline in names
    assert listing(rs3, rb) == ["k"]
    p = cli(gw, "fs", "unmount", "/" + name, user="admin")
    assert p.returncode == 1 and "not a mount point" in p.err


def test_mount_refusals(remote, gateway, tmp_path):
    rb = uniq("rb")
    remote.boto3("alice").create_bucket(Bucket=rb)
    args = mount_args(remote, tmp_path)

    # Only the superuser mounts.
    p = cli(gateway, "fs", "mount", *args, "/" + uniq("mnt"), "s3://" + rb, user="alice")
    assert p.returncode == 1 and "AccessDenied" in p.err, p.err

    # A bucket that holds objects is not hidden under a mount.
    full = uniq("full")
    gs3 = gateway.boto3("admin")
    gs3.create_bucket(Bucket=full)
    gs3.put_object(Bucket=full, Key="mine", Body=b"local")
    p = cli(gateway, "fs", "mount", *args, "/" + full, "s3://" + rb, user="admin")
    assert p.returncode == 1 and "holds objects" in p.err, p.err
    assert gs3.get_object(Bucket=full, Key="mine")["Body"].read() == b"local"

    # Bad locations, options and credentials say what is wrong.
    for extra, where, needle in (
            ([], "http://x/y", "not an s3:// location"),
            (["--option", "s3.nosuch=1"], "s3://" + rb, "unknown mount option s3.nosuch"),
            (["--option", "s3.secretKeyFile=/nonexistent"], "s3://" + rb, "cannot read"),
            (["--option", "metadata.sync.interval=soon"], "s3://" + rb, "metadata.sync.interval"),
            ([], "s3://" + uniq("absent"), "the remote")):
        p = cli(gateway, "fs", "mount", *args, *extra, "/" + uniq("mnt"), where, user="admin")
        assert p.returncode == 1 and needle in p.err, (extra, where, p.err)
    wrong = tmp_path / "wrong"
    wrong.write_text("not-the-secret\n")
    p = cli(gateway, "fs", "mount", "--option", "s3.endpoint=" + remote.endpoint,
            "--option", "s3.accessKeyId=" + USERS["alice"][0],
            "--option", "s3.secretKeyFile=" + str(wrong), "/" + uniq("mnt"), "s3://" + rb,
            user="admin")
    assert p.returncode == 1 and "the remote" in p.err, p.err

    # A mount point is a bucket.
    p = cli(gateway, "fs", "mount", *args, "/a/b", "s3://" + rb, user="admin")
    assert p.returncode == 1 and "a mount point is a bucket" in p.err, p.err


def test_the_mount_reads_and_writes_a_remote_bucket(remote, mount_factory, tmp_path):
    gw = mount_factory("sigv4", "gateway-mount")
    rb, name = uniq("rb"), uniq("mnt")
    rs3 = remote.boto3("alice")
    rs3.create_bucket(Bucket=rb)
    rs3.put_object(Bucket=rb, Key="docs/readme", Body=b"from the remote\n")
    ok(cli(gw, "fs", "mount", *mount_args(remote, tmp_path), "/" + name, "s3://" + rb,
           user="admin"))
    top = os.path.join(gw.mnt, name)
    assert sorted(os.listdir(top)) == ["docs"]
    with open(os.path.join(top, "docs", "readme"), "rb") as f:
        assert f.read() == b"from the remote\n"

    # A file closed under the mount is an object of the remote.
    data = os.urandom(300000)
    with open(os.path.join(top, "docs", "written"), "wb") as f:
        f.write(data[:1000])
        f.seek(200000)
        f.write(data[200000:])
    expect = data[:1000] + bytes(199000) + data[200000:]
    assert rs3.get_object(Bucket=rb, Key="docs/written")["Body"].read() == expect
    with open(os.path.join(top, "docs", "written"), "rb") as f:
        assert f.read() == expect

    # S3 has no rename: across or inside the remote bucket it is EXDEV, so
    # mv copies; hard links are refused.
    with pytest.raises(OSError) as e:
        os.rename(os.path.join(top, "docs", "written"), os.path.join(top, "docs", "moved"))
    assert e.value.errno == errno.EXDEV
    with pytest.raises(OSError) as e:
        os.link(os.path.join(top, "docs", "written"), os.path.join(top, "docs", "linked"))
    assert e.value.errno in (errno.EPERM, errno.EXDEV)
    os.unlink(os.path.join(top, "docs", "written"))
    assert listing(rs3, rb) == ["docs/readme"]


def test_cached_objects_need_no_remote(remote, atriumd_factory, tmp_path):
    """With metadata.sync.interval=-1 a cached object is served without a
    request to the remote, so it is served while the remote is down."""
    from faultproxy import FaultProxy
    proxy = FaultProxy(remote.port).start()
    try:
        gw = atriumd_factory("sigv4", name="gateway-cached")
        rb, name = uniq("rb"), uniq("mnt")
        rs3, gs3 = remote.boto3("alice"), gw.boto3("admin")
        rs3.create_bucket(Bucket=rb)
        rs3.put_object(Bucket=rb, Key="hot", Body=b"h" * 300000)
        args = mount_args(remote, tmp_path, interval="-1")
        args[1] = "s3.endpoint=http://127.0.0.1:%d" % proxy.port
        ok(cli(gw, "fs", "mount", *args, "/" + name, "s3://" + rb, user="admin"))
        assert gs3.get_object(Bucket=name, Key="hot")["Body"].read() == b"h" * 300000
        seen = proxy.requests
        for _ in range(3):
            assert gs3.get_object(Bucket=name, Key="hot")["Body"].read() == b"h" * 300000
            assert gs3.head_object(Bucket=name, Key="hot")["ContentLength"] == 300000
        assert proxy.requests == seen, "cached reads went to the remote"
        proxy.mode = "down"
        assert gs3.get_object(Bucket=name, Key="hot")["Body"].read() == b"h" * 300000
    finally:
        proxy.stop()


def test_keys_the_tree_cannot_hold_stay_refused_on_a_remote(remote, gateway, tmp_path):
    """The side form lives in the local private area: a remote bucket has
    none, so foo/bar beside foo is refused there and foo stays whole."""
    rb, name = uniq("rb"), uniq("mnt")
    rs3, gs3 = remote.boto3("alice"), gateway.boto3("admin")
    rs3.create_bucket(Bucket=rb)
    ok(cli(gateway, "fs", "mount", *mount_args(remote, tmp_path), "/" + name, "s3://" + rb,
           user="admin"))
    gs3.put_object(Bucket=name, Key="foo", Body=b"the file")
    with pytest.raises(Exception) as e:
        gs3.put_object(Bucket=name, Key="foo/bar", Body=b"below it")
    assert "ParentIsObject" in str(e.value) or "409" in str(e.value), e.value
    with pytest.raises(Exception):
        gs3.put_object(Bucket=name, Key="dir/", Body=b"a marker with bytes")
    assert gs3.get_object(Bucket=name, Key="foo")["Body"].read() == b"the file"
    assert rs3.get_object(Bucket=rb, Key="foo")["Body"].read() == b"the file"
    assert listing(rs3, rb) == ["foo"]


def test_ls_f_and_load_metadata_ask_the_remote_again(remote, gateway, tmp_path):
    """metadata.sync.interval=-1: the gateway never asks the remote again on
    its own, so changes made behind its back stay unseen, until `fs ls -f`
    (one directory's listing) or `fs load --metadata` (everything below a
    path) asks again; then new, changed and deleted objects all show."""
    rb, name = uniq("rb"), uniq("mnt")
    rs3, gs3 = remote.boto3("alice"), gateway.boto3("admin")
    rs3.create_bucket(Bucket=rb)
    rs3.put_object(Bucket=rb, Key="a.txt", Body=b"alpha")
    rs3.put_object(Bucket=rb, Key="d/b.txt", Body=b"bravo")
    ok(cli(gateway, "fs", "mount", *mount_args(remote, tmp_path, interval="-1"), "/" + name,
           "s3://" + rb, user="admin"))
    assert listing(gs3, name) == ["a.txt", "d/b.txt"]

    rs3.put_object(Bucket=rb, Key="c.txt", Body=b"charlie")
    rs3.put_object(Bucket=rb, Key="d/e.txt", Body=b"echo")
    rs3.delete_object(Bucket=rb, Key="a.txt")
    assert listing(gs3, name) == ["a.txt", "d/b.txt"]  # never asked again
    plain = ok(cli(gateway, "fs", "ls", "/" + name, user="admin"))
    assert "c.txt" not in plain and "a.txt" in plain

    forced = ok(cli(gateway, "fs", "ls", "-f", "/" + name, user="admin"))
    assert "c.txt" in forced and "a.txt" not in forced, forced
    assert gs3.get_object(Bucket=name, Key="c.txt")["Body"].read() == b"charlie"

    rs3.delete_object(Bucket=rb, Key="d/b.txt")
    rs3.put_object(Bucket=rb, Key="d/f/g.txt", Body=b"golf")
    out = ok(cli(gateway, "fs", "load", "--metadata", "/" + name, user="admin"))
    assert "metadata loaded from the under-storage (files: 3, directories: 2)" in out, out
    assert listing(gs3, name) == ["c.txt", "d/e.txt", "d/f/g.txt"]
    # Alluxio's --local (into this node's cache: the only one) is a load.
    out = ok(cli(gateway, "fs", "load", "--local", "/" + name, user="admin"))
    assert "/%s loaded into the cache (files: 3, " % name in out, out
    line = ok(cli(gateway, "fs", "ls", "/%s/d/f/g.txt" % name, user="admin"))
    assert line.split()[-2:] == ["100%", "/%s/d/f/g.txt" % name], line

    # Asking again is for those who may list the bucket; the CLI says so.
    p = cli(gateway, "fs", "ls", "-f", "/" + name, user="alice")
    assert p.returncode == 1 and "AccessDenied" in p.err, p.err
