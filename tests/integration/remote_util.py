"""Helpers of the tests of a bucket mounted on a remote S3 store (issue
15): test_remote.py, test_write_types.py, test_readahead.py. The remote is
a second atriumd (each module's own `remote` fixture); these build the
`atrium fs mount` options that point a gateway at it, and `proxy`, a
fixture (import it into the module) putting a FaultProxy in front of it."""
import os
import uuid

import pytest

from faultproxy import FaultProxy
from s3util import USERS


@pytest.fixture
def proxy(remote):
    """A FaultProxy in front of the module's remote, stopped after the test."""
    p = FaultProxy(remote.port).start()
    try:
        yield p
    finally:
        p.stop()


def uniq(p):
    return "%s%s" % (p, uuid.uuid4().hex[:8])


def secret_file(tmp_path, user="alice"):
    p = tmp_path / "remote-secret"
    p.write_text(USERS[user][1] + "\n")
    os.chmod(p, 0o600)
    return str(p)


def mount_args(remote, tmp_path, user="alice", interval="0", endpoint=None):
    """The --option flags of a mount of the remote daemon (or of endpoint,
    e.g. a FaultProxy in front of it)."""
    return ["--option", "s3.endpoint=" + (endpoint or remote.endpoint),
            "--option", "s3.accessKeyId=" + USERS[user][0],
            "--option", "s3.secretKeyFile=" + secret_file(tmp_path, user),
            "--option", "metadata.sync.interval=" + interval]


def listing(s3, bucket, prefix=""):
    out = s3.list_objects_v2(Bucket=bucket, Prefix=prefix)
    return sorted(o["Key"] for o in out.get("Contents", []))
