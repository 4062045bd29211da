"""Encryption at rest (issue 16): SSE-S3 (x-amz-server-side-encryption:
AES256) and bucket default encryption, SSE-C (customer keys), SSE-KMS
refused as AWS refuses an unknown key; ranges, copies between modes, the
bytes under DATA/ufs never the plaintext, the master key kept across a
restart, the mount's view. boto3 and raw requests."""
import base64
import hashlib
import io
import os
import random
import stat
import subprocess

import pytest
from botocore.exceptions import ClientError

MARKER = b"PLAINTEXT-MARKER-7f3a9c"


def client_error(fn, *args, **kwargs):
    with pytest.raises(ClientError) as ei:
        fn(*args, **kwargs)
    r = ei.value.response
    return r["ResponseMetadata"]["HTTPStatusCode"], r["Error"]["Code"]


def body_of(n, seed=1):
    """n bytes with MARKER in every 64 KiB stretch: a plaintext leak is
    found wherever it happens."""
    rnd = random.Random(seed)
    out = bytearray(rnd.getrandbits(8) for _ in range(min(n, 4096)))
    while len(out) < n:
        out += out[:4096]
    out = out[:n]
    for at in range(0, max(n - len(MARKER), 0), 30000):
        out[at:at + len(MARKER)] = MARKER
    return bytes(out)


def ckey(seed=b"k1"):
    k = hashlib.sha256(seed).digest()
    return k, base64.b64encode(hashlib.md5(k).digest()).decode()


def sse_c(seed=b"k1"):
    """boto3's SSE-C arguments (it base64-encodes the key and adds its MD5)."""
    return {"SSECustomerAlgorithm": "AES256", "SSECustomerKey": ckey(seed)[0]}


def complete_c(seed=b"k1"):
    """The same for CompleteMultipartUpload, which Debian's botocore (1.29)
    does not encode itself: the key in base64 and its MD5, as sent."""
    k, m = ckey(seed)
    return {"SSECustomerAlgorithm": "AES256", "SSECustomerKey": base64.b64encode(k).decode(),
            "SSECustomerKeyMD5": m}


def copy_source_c(seed=b"k1"):
    return {"CopySourceSSECustomerAlgorithm": "AES256",
            "CopySourceSSECustomerKey": ckey(seed)[0]}


def raw_headers(seed=b"k1"):
    k, m = ckey(seed)
    return {"x-amz-server-side-encryption-customer-algorithm": "AES256",
            "x-amz-server-side-encryption-customer-key": base64.b64encode(k).decode(),
            "x-amz-server-side-encryption-customer-key-MD5": m}


def ufs_bytes(daemon, bucket, key):
    with open(os.path.join(daemon.ufs, bucket, key), "rb") as f:
        return f.read()


def assert_ciphertext(daemon, bucket, key, plain):
    on_disk = ufs_bytes(daemon, bucket, key)
    assert MARKER not in on_disk
    assert plain[:32] not in on_disk
    assert len(on_disk) > len(plain)  # header and tags
    return on_disk


@pytest.fixture(scope="module")
def d(atriumd_factory):
    """A daemon of this module's own: its data directory is inspected,
    and it is restarted."""
    return atriumd_factory("sigv4", "sse")


@pytest.fixture
def s3(d):
    return d.boto3("alice")


@pytest.fixture
def b(s3, bucket_name):
    s3.create_bucket(Bucket=bucket_name)
    return bucket_name


def stored_parts(d, upload_id):
    """The bytes of each part file upload_id keeps in the private area."""
    area = os.path.join(d.ufs, ".atrium")
    out = []
    for dp, _, files in os.walk(area):
        for f in files if upload_id in dp else ():
            with open(os.path.join(dp, f), "rb") as fh:
                out.append(fh.read())
    return out


# ---- SSE-S3 ------------------------------------------------------------------

def test_sse_s3_put_get_head(d, s3, b):
    data = body_of(300000)
    r = s3.put_object(Bucket=b, Key="obj", Body=data, ServerSideEncryption="AES256")
    assert r["ServerSideEncryption"] == "AES256"
    assert r["ETag"] == '"%s"' % hashlib.md5(data).hexdigest()  # MD5 of the plaintext
    h = s3.head_object(Bucket=b, Key="obj")
    assert h["ServerSideEncryption"] == "AES256"
    assert h["ContentLength"] == len(data)
    assert h["ETag"] == r["ETag"]
    g = s3.get_object(Bucket=b, Key="obj")
    assert g["ServerSideEncryption"] == "AES256"
    assert g["Body"].read() == data
    # the listing and GetObjectAttributes give the plaintext's size
    (o,) = s3.list_objects_v2(Bucket=b)["Contents"]
    assert o["Size"] == len(data) and o["ETag"] == r["ETag"]
    a = s3.get_object_attributes(Bucket=b, Key="obj", ObjectAttributes=["ObjectSize", "ETag"])
    assert a["ObjectSize"] == len(data)
    assert_ciphertext(d, b, "obj", data)
    # a plain object says nothing of encryption
    s3.put_object(Bucket=b, Key="plain", Body=data)
    assert "ServerSideEncryption" not in s3.head_object(Bucket=b, Key="plain")
    assert ufs_bytes(d, b, "plain") == data


def test_sse_s3_sizes(d, s3, b):
    """Around the 64 KiB chunk boundaries, and the empty object."""
    for size in (0, 1, 65535, 65536, 65537, 3 * 65536):
        data = body_of(size, seed=size)
        key = "k%d" % size
        s3.put_object(Bucket=b, Key=key, Body=data, ServerSideEncryption="AES256")
        assert s3.get_object(Bucket=b, Key=key)["Body"].read() == data
        assert s3.head_object(Bucket=b, Key=key)["ContentLength"] == size
        assert os.path.getsize(os.path.join(d.ufs, b, key)) == \
            132 + size + 16 * max(1, (size + 65535) // 65536)


def test_sse_s3_random_ranges(s3, b):
    data = body_of(5 * 65536 + 777, seed=5)
    s3.put_object(Bucket=b, Key="r", Body=data, ServerSideEncryption="AES256")
    rnd = random.Random(42)
    n = len(data)
    for _ in range(60):
        first = rnd.randrange(n)
        last = min(n - 1, first + rnd.choice([0, 1, 100, 65535, 65536, 200000]))
        g = s3.get_object(Bucket=b, Key="r", Range="bytes=%d-%d" % (first, last))
        assert g["ContentRange"] == "bytes %d-%d/%d" % (first, last, n)
        assert g["Body"].read() == data[first:last + 1]
    g = s3.get_object(Bucket=b, Key="r", Range="bytes=-100")
    assert g["Body"].read() == data[-100:]
    assert client_error(s3.get_object, Bucket=b, Key="r",
                        Range="bytes=%d-" % n) == (416, "InvalidRange")


def test_sse_s3_tampered_file_is_an_error(d, s3, b):
    data = body_of(200000, seed=9)
    s3.put_object(Bucket=b, Key="t", Body=data, ServerSideEncryption="AES256")
    path = os.path.join(d.ufs, b, "t")
    st = os.stat(path)
    with open(path, "r+b") as f:  # one bit, same size and mtime
        f.seek(70000)
        c = f.read(1)
        f.seek(70000)
        f.write(bytes([c[0] ^ 1]))
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))
    # the first chunk still reads; the tampered one is never served
    g = s3.get_object(Bucket=b, Key="t", Range="bytes=0-99")
    assert g["Body"].read() == data[:100]
    with pytest.raises(Exception):
        s3.get_object(Bucket=b, Key="t", Range="bytes=65536-65600")["Body"].read()


def test_sse_kms_refused(d, s3, b):
    for v in ("aws:kms", "aws:kms:dsse"):
        assert client_error(s3.put_object, Bucket=b, Key="k", Body=b"x",
                            ServerSideEncryption=v) == (400, "KMS.NotFoundException")
    assert client_error(s3.put_object, Bucket=b, Key="k", Body=b"x",
                        ServerSideEncryption="aws:kms", SSEKMSKeyId="alias/nope") == \
        (400, "KMS.NotFoundException")
    r = d.request("PUT", "/%s/k" % b, {"x-amz-server-side-encryption": "AES128"}, b"x",
                  user="alice")
    assert r.status == 400 and b"InvalidArgument" in r.body
    # nothing was stored
    assert client_error(s3.head_object, Bucket=b, Key="k")[0] == 404
    assert not os.path.exists(os.path.join(d.ufs, b, "k"))
    # the header on a GET is an error, as on AWS
    s3.put_object(Bucket=b, Key="p", Body=b"x")
    r = d.request("GET", "/%s/p" % b, {"x-amz-server-side-encryption": "AES256"},
                  user="alice")
    assert r.status == 400 and b"InvalidArgument" in r.body


@pytest.fixture(scope="module")
def simple(atriumd_factory):
    return atriumd_factory("simple", "sse-simple")


def test_sse_s3_post_form_field(simple, bucket_name):
    import uuid
    assert simple.request("PUT", "/" + bucket_name).status == 200
    boundary = uuid.uuid4().hex
    data = MARKER * 100
    body = ("--%s\r\nContent-Disposition: form-data; name=\"key\"\r\n\r\nposted\r\n"
            "--%s\r\nContent-Disposition: form-data; name=\"x-amz-server-side-encryption\"\r\n"
            "\r\nAES256\r\n"
            "--%s\r\nContent-Disposition: form-data; name=\"file\"; filename=\"f\"\r\n"
            "Content-Type: text/plain\r\n\r\n" % (boundary, boundary, boundary)).encode() + \
        data + ("\r\n--%s--\r\n" % boundary).encode()
    r = simple.request("POST", "/" + bucket_name, body=body,
                       headers={"Content-Type": "multipart/form-data; boundary=" + boundary})
    assert r.status == 204, r
    assert r.headers.get("x-amz-server-side-encryption") == "AES256"
    assert_ciphertext(simple, bucket_name, "posted", data)
    g = simple.request("GET", "/%s/posted" % bucket_name)
    assert g.status == 200 and g.body == data
    assert g.headers.get("x-amz-server-side-encryption") == "AES256"


# ---- bucket default encryption -------------------------------------------------

def test_bucket_encryption_config(d, s3, b):
    assert client_error(s3.get_bucket_encryption, Bucket=b) == \
        (404, "ServerSideEncryptionConfigurationNotFoundError")
    s3.put_object(Bucket=b, Key="before", Body=MARKER * 10)
    s3.put_bucket_encryption(Bucket=b, ServerSideEncryptionConfiguration={
        "Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"},
                   "BucketKeyEnabled": True}]})
    (rule,) = s3.get_bucket_encryption(Bucket=b)[
        "ServerSideEncryptionConfiguration"]["Rules"]
    assert rule["ApplyServerSideEncryptionByDefault"]["SSEAlgorithm"] == "AES256"
    assert rule["BucketKeyEnabled"] is True
    data = body_of(100000, seed=3)
    r = s3.put_object(Bucket=b, Key="after", Body=data)  # no header: the default
    assert r["ServerSideEncryption"] == "AES256"
    assert s3.head_object(Bucket=b, Key="after")["ServerSideEncryption"] == "AES256"
    assert s3.get_object(Bucket=b, Key="after")["Body"].read() == data
    assert_ciphertext(d, b, "after", data)
    # objects written before stay as they were
    assert "ServerSideEncryption" not in s3.head_object(Bucket=b, Key="before")
    # SSE-C still wins over the default
    s3.put_object(Bucket=b, Key="c", Body=data, **sse_c())
    assert s3.head_object(Bucket=b, Key="c", **sse_c())["SSECustomerAlgorithm"] == "AES256"
    # aws:kms cannot be a default here; a bad document is MalformedXML
    assert client_error(s3.put_bucket_encryption, Bucket=b, ServerSideEncryptionConfiguration={
        "Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "aws:kms"}}]}) == \
        (400, "KMS.NotFoundException")
    assert client_error(s3.put_bucket_encryption, Bucket=b, ServerSideEncryptionConfiguration={
        "Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "DES"}}]})[0] == 400
    s3.delete_bucket_encryption(Bucket=b)
    assert client_error(s3.get_bucket_encryption, Bucket=b)[0] == 404
    s3.put_object(Bucket=b, Key="later", Body=b"x")
    assert "ServerSideEncryption" not in s3.head_object(Bucket=b, Key="later")
    # another user may not read or set it
    bob = d.boto3("bob")
    assert client_error(bob.get_bucket_encryption, Bucket=b) == (403, "AccessDenied")


# ---- SSE-C ---------------------------------------------------------------------

def test_sse_c_put_get_head(d, s3, b):
    data = body_of(150000, seed=7)
    r = s3.put_object(Bucket=b, Key="c", Body=data, **sse_c())
    k, m = ckey()
    assert r["SSECustomerAlgorithm"] == "AES256" and r["SSECustomerKeyMD5"] == m
    assert "ServerSideEncryption" not in r
    # AWS: an SSE-C object's ETag is no MD5 of its plaintext (here: of
    # what is stored), so meta.db holds no hash of the content
    assert r["ETag"] != '"%s"' % hashlib.md5(data).hexdigest()
    assert r["ETag"] == '"%s"' % hashlib.md5(ufs_bytes(d, b, "c")).hexdigest()
    on_disk = assert_ciphertext(d, b, "c", data)
    assert k not in on_disk  # the key is never stored
    g = s3.get_object(Bucket=b, Key="c", **sse_c())
    assert g["Body"].read() == data
    assert g["SSECustomerKeyMD5"] == m
    h = s3.head_object(Bucket=b, Key="c", **sse_c())
    assert h["ContentLength"] == len(data) and h["SSECustomerAlgorithm"] == "AES256"
    g = s3.get_object(Bucket=b, Key="c", Range="bytes=65530-65545", **sse_c())
    assert g["Body"].read() == data[65530:65546]
    # missing key: 400 InvalidRequest; another key: 403
    assert client_error(s3.get_object, Bucket=b, Key="c") == (400, "InvalidRequest")
    assert client_error(s3.head_object, Bucket=b, Key="c")[0] == 400
    assert client_error(s3.get_object, Bucket=b, Key="c", **sse_c(b"other")) == \
        (403, "AccessDenied")
    assert client_error(s3.head_object, Bucket=b, Key="c", **sse_c(b"other"))[0] == 403
    # GetObjectAttributes needs the key too, and gives the plaintext's size
    assert client_error(s3.get_object_attributes, Bucket=b, Key="c",
                        ObjectAttributes=["ObjectSize"]) == (400, "InvalidRequest")
    a = s3.get_object_attributes(  # (boto3 encodes no key here: given as sent)
        Bucket=b, Key="c", ObjectAttributes=["ObjectSize"], SSECustomerAlgorithm="AES256",
        SSECustomerKey=base64.b64encode(k).decode(), SSECustomerKeyMD5=m)
    assert a["ObjectSize"] == len(data)
    # a customer key on an object stored without one
    s3.put_object(Bucket=b, Key="p", Body=b"plain")
    assert client_error(s3.get_object, Bucket=b, Key="p", **sse_c()) == \
        (400, "InvalidRequest")


def test_sse_c_bad_requests(d, s3, b):
    h = raw_headers()
    path = "/%s/x" % b
    bad_md5 = dict(h, **{"x-amz-server-side-encryption-customer-key-MD5":
                         base64.b64encode(b"0" * 16).decode()})
    no_md5 = {k: v for k, v in h.items() if not k.endswith("MD5")}
    short = dict(h, **{"x-amz-server-side-encryption-customer-key":
                       base64.b64encode(b"short").decode()})
    bad_alg = dict(h, **{"x-amz-server-side-encryption-customer-algorithm": "AES128"})
    no_key = {k: v for k, v in h.items() if k.endswith("algorithm")}
    both = dict(h, **{"x-amz-server-side-encryption": "AES256"})
    for hdrs, code in ((bad_md5, b"InvalidArgument"), (no_md5, b"InvalidArgument"),
                       (short, b"InvalidArgument"), (bad_alg, b"InvalidEncryptionAlgorithmError"),
                       (no_key, b"InvalidArgument"), (both, b"InvalidArgument")):
        r = d.request("PUT", path, hdrs, b"data", user="alice")
        assert r.status == 400 and code in r.body, (hdrs, r.status, r.body)
    assert client_error(s3.head_object, Bucket=b, Key="x")[0] == 404


# ---- copies between modes --------------------------------------------------------

def test_copy_between_modes(d, s3, b):
    data = body_of(140000, seed=11)
    md5 = '"%s"' % hashlib.md5(data).hexdigest()
    s3.put_object(Bucket=b, Key="plain", Body=data)
    # plain -> SSE-S3
    r = s3.copy_object(Bucket=b, Key="s3", CopySource={"Bucket": b, "Key": "plain"},
                       ServerSideEncryption="AES256")
    assert r["ServerSideEncryption"] == "AES256"
    assert r["CopyObjectResult"]["ETag"] == md5
    assert_ciphertext(d, b, "s3", data)
    # SSE-S3 -> SSE-C
    r = s3.copy_object(Bucket=b, Key="c", CopySource={"Bucket": b, "Key": "s3"}, **sse_c())
    assert r["SSECustomerAlgorithm"] == "AES256"
    assert s3.get_object(Bucket=b, Key="c", **sse_c())["Body"].read() == data
    # SSE-C -> SSE-C under another key
    s3.copy_object(Bucket=b, Key="c2", CopySource={"Bucket": b, "Key": "c"},
                   **sse_c(b"two"), **copy_source_c())
    assert s3.get_object(Bucket=b, Key="c2", **sse_c(b"two"))["Body"].read() == data
    # SSE-C -> plain needs the source's key
    assert client_error(s3.copy_object, Bucket=b, Key="p2",
                        CopySource={"Bucket": b, "Key": "c"}) == (400, "InvalidRequest")
    assert client_error(s3.copy_object, Bucket=b, Key="p2",
                        CopySource={"Bucket": b, "Key": "c"}, **copy_source_c(b"bad")) == \
        (403, "AccessDenied")
    r = s3.copy_object(Bucket=b, Key="p2", CopySource={"Bucket": b, "Key": "c"},
                       **copy_source_c())
    assert "ServerSideEncryption" not in r and "SSECustomerAlgorithm" not in r
    assert s3.get_object(Bucket=b, Key="p2")["Body"].read() == data
    assert ufs_bytes(d, b, "p2") == data
    # SSE-S3 -> plain
    s3.copy_object(Bucket=b, Key="p3", CopySource={"Bucket": b, "Key": "s3"})
    assert ufs_bytes(d, b, "p3") == data
    assert s3.head_object(Bucket=b, Key="p3")["ETag"] == md5
    # in place: a change of encryption is a valid copy to itself
    r = s3.copy_object(Bucket=b, Key="p3", CopySource={"Bucket": b, "Key": "p3"},
                       ServerSideEncryption="AES256")
    assert r["ServerSideEncryption"] == "AES256"
    assert_ciphertext(d, b, "p3", data)
    assert s3.get_object(Bucket=b, Key="p3")["Body"].read() == data


# ---- the master key ------------------------------------------------------------

def test_master_key_file_and_restart(d, s3, b):
    keys = os.path.join(d.data, "sse.keys")
    assert stat.S_IMODE(os.stat(keys).st_mode) == 0o600
    data = body_of(70000, seed=13)
    s3.put_object(Bucket=b, Key="s", Body=data, ServerSideEncryption="AES256")
    s3.put_object(Bucket=b, Key="c", Body=data, **sse_c())
    with open(keys) as f:
        before = f.read()
    d.restart()
    s3 = d.boto3("alice")
    with open(keys) as f:
        assert f.read() == before  # kept, not made again
    assert s3.get_object(Bucket=b, Key="s")["Body"].read() == data
    assert s3.get_object(Bucket=b, Key="c", **sse_c())["Body"].read() == data


# ---- the mount -----------------------------------------------------------------

def test_mount_view(mount_daemon, mount_watchdog, bucket_name):
    """The mount reads SSE-S3 objects decrypted, refuses SSE-C ones with
    EACCES, encrypts at commit what it writes into a bucket encrypted by
    default, and keeps an encrypted file encrypted when it is rewritten in
    place (read-modify-write through its shadow)."""
    import errno
    md = mount_daemon
    s3 = md.boto3("admin")
    bdir = md.path(bucket_name)
    os.mkdir(bdir)
    data = body_of(300000, seed=21)
    s3.put_object(Bucket=bucket_name, Key="s3obj", Body=data, ServerSideEncryption="AES256")
    p = os.path.join(bdir, "s3obj")
    assert os.stat(p).st_size == len(data)  # the plaintext's
    with open(p, "rb") as f:
        assert f.read() == data
    fd = os.open(p, os.O_RDONLY)
    try:
        rnd = random.Random(3)
        for _ in range(40):
            off = rnd.randrange(len(data))
            n = rnd.choice([1, 4096, 65536, 131072])
            assert os.pread(fd, n, off) == data[off:off + n]
    finally:
        os.close(fd)
    assert_ciphertext(md, bucket_name, "s3obj", data)

    # a completed upload (one segment per part) reads the same, across
    # the parts' boundary; rewritten in place it becomes one stream
    parts = [body_of(5 * MIB + 1000, seed=22), body_of(70000, seed=23)]
    uid, mpu = upload_parts(s3, bucket_name, "mpobj", parts, ServerSideEncryption="AES256")
    s3.complete_multipart_upload(Bucket=bucket_name, Key="mpobj", UploadId=uid,
                                 MultipartUpload=mpu)
    whole = b"".join(parts)
    pm = os.path.join(bdir, "mpobj")
    assert os.stat(pm).st_size == len(whole)
    fd = os.open(pm, os.O_RDONLY)
    try:
        for off, n in ((len(parts[0]) - 5, 10), (len(parts[0]) - 70000, 140000), (0, len(whole))):
            assert os.pread(fd, n, off) == whole[off:off + n]
    finally:
        os.close(fd)
    # opened, then replaced through S3 before its first read: the open
    # file reads the version it opened (its part sizes kept with it)
    fd = os.open(pm, os.O_RDONLY)
    try:
        other = [body_of(5 * MIB + 1000, seed=24), body_of(500, seed=25)]
        uid, mpu = upload_parts(s3, bucket_name, "mpobj", other, ServerSideEncryption="AES256")
        s3.complete_multipart_upload(Bucket=bucket_name, Key="mpobj", UploadId=uid,
                                     MultipartUpload=mpu)
        at = len(parts[0]) - 100
        assert os.pread(fd, 200, at) == whole[at:at + 200]
    finally:
        os.close(fd)
    with open(pm, "rb") as f:
        assert f.read() == b"".join(other)
    uid, mpu = upload_parts(s3, bucket_name, "mpobj", parts, ServerSideEncryption="AES256")
    s3.complete_multipart_upload(Bucket=bucket_name, Key="mpobj", UploadId=uid,
                                 MultipartUpload=mpu)
    with open(pm, "r+b") as f:
        f.seek(len(parts[0]) - 4)
        f.write(b"12345678")
    whole = whole[:len(parts[0]) - 4] + b"12345678" + whole[len(parts[0]) + 4:]
    assert s3.get_object(Bucket=bucket_name, Key="mpobj")["Body"].read() == whole
    assert len(ufs_bytes(md, bucket_name, "mpobj")) == seg_offsets([len(whole)])[-1]

    # SSE-C: listed, with its size, but not readable without the key
    s3.put_object(Bucket=bucket_name, Key="cobj", Body=data, **sse_c())
    pc = os.path.join(bdir, "cobj")
    assert os.stat(pc).st_size == len(data)
    for flags in (os.O_RDONLY, os.O_RDWR, os.O_WRONLY | os.O_TRUNC):
        with pytest.raises(OSError) as ei:
            os.close(os.open(pc, flags))
        assert ei.value.errno == errno.EACCES
    assert s3.get_object(Bucket=bucket_name, Key="cobj", **sse_c())["Body"].read() == data

    # rewritten in place through the mount: still encrypted, new bytes
    with open(p, "r+b") as f:
        f.seek(70000)
        f.write(b"NEW-BYTES")
    want = data[:70000] + b"NEW-BYTES" + data[70009:]
    g = s3.get_object(Bucket=bucket_name, Key="s3obj")
    assert g["ServerSideEncryption"] == "AES256"
    assert g["Body"].read() == want
    assert g["ETag"] == '"%s"' % hashlib.md5(want).hexdigest()
    assert_ciphertext(md, bucket_name, "s3obj", want)
    with open(p, "ab") as f:
        f.write(MARKER)
    assert s3.get_object(Bucket=bucket_name, Key="s3obj")["Body"].read() == want + MARKER
    with open(p, "r+b") as f:  # (its close commits: a release of the append may lag)
        f.truncate(1000)
    assert s3.get_object(Bucket=bucket_name, Key="s3obj")["Body"].read() == want[:1000]
    assert_ciphertext(md, bucket_name, "s3obj", want[:1000])

    # a new file in a bucket encrypted by default is encrypted at commit
    s3.put_bucket_encryption(Bucket=bucket_name, ServerSideEncryptionConfiguration={
        "Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}]})
    new = body_of(200000, seed=22)
    pn = os.path.join(bdir, "sub", "written.bin")
    os.mkdir(os.path.join(bdir, "sub"))
    with open(pn, "wb") as f:
        f.write(new)
    assert os.stat(pn).st_size == len(new)
    with open(pn, "rb") as f:
        assert f.read() == new
    h = s3.head_object(Bucket=bucket_name, Key="sub/written.bin")
    assert h["ServerSideEncryption"] == "AES256" and h["ContentLength"] == len(new)
    assert h["ETag"] == '"%s"' % hashlib.md5(new).hexdigest()
    assert s3.get_object(Bucket=bucket_name, Key="sub/written.bin")["Body"].read() == new
    assert_ciphertext(md, bucket_name, "sub/written.bin", new)
    # and without the default, a new file is plain
    s3.delete_bucket_encryption(Bucket=bucket_name)
    pp = os.path.join(bdir, "plain.txt")
    with open(pp, "wb") as f:
        f.write(MARKER)
    assert ufs_bytes(md, bucket_name, "plain.txt") == MARKER
    assert "ServerSideEncryption" not in s3.head_object(Bucket=bucket_name, Key="plain.txt")


# ---- multipart uploads -----------------------------------------------------------

MIB = 1024 * 1024


def test_multipart_sse_s3(d, s3, b):
    """CreateMultipartUpload with AES256: the object is encrypted at
    completion; its ETag stays the multipart one, sizes are the
    plaintext's, ?partNumber and ranges read decrypted."""
    p1, p2 = body_of(5 * MIB, seed=31), body_of(300000, seed=32)
    data = p1 + p2
    up = s3.create_multipart_upload(Bucket=b, Key="mp", ServerSideEncryption="AES256")
    assert up["ServerSideEncryption"] == "AES256"
    uid = up["UploadId"]
    r1 = s3.upload_part(Bucket=b, Key="mp", UploadId=uid, PartNumber=1, Body=p1)
    assert r1["ServerSideEncryption"] == "AES256"
    r2 = s3.upload_part(Bucket=b, Key="mp", UploadId=uid, PartNumber=2, Body=p2)
    parts = s3.list_parts(Bucket=b, Key="mp", UploadId=uid)["Parts"]
    assert [p["Size"] for p in parts] == [len(p1), len(p2)]
    assert r1["ETag"] == '"%s"' % hashlib.md5(p1).hexdigest()
    # the parts wait encrypted in the private area
    stored = stored_parts(d, uid)
    assert len(stored) == 2
    for on_disk in stored:
        assert MARKER not in on_disk
    c = s3.complete_multipart_upload(Bucket=b, Key="mp", UploadId=uid, MultipartUpload={
        "Parts": [{"PartNumber": 1, "ETag": r1["ETag"]}, {"PartNumber": 2, "ETag": r2["ETag"]}]})
    assert c["ServerSideEncryption"] == "AES256"
    assert c["ETag"].endswith('-2"')
    h = s3.head_object(Bucket=b, Key="mp")
    assert h["ServerSideEncryption"] == "AES256" and h["ContentLength"] == len(data)
    assert h["ETag"] == c["ETag"]
    assert s3.get_object(Bucket=b, Key="mp")["Body"].read() == data
    g = s3.get_object(Bucket=b, Key="mp", PartNumber=2)
    assert g["Body"].read() == p2 and g["PartsCount"] == 2
    g = s3.get_object(Bucket=b, Key="mp", Range="bytes=%d-%d" % (5 * MIB - 10, 5 * MIB + 10))
    assert g["Body"].read() == data[5 * MIB - 10:5 * MIB + 11]
    assert_ciphertext(d, b, "mp", data)
    # UploadPartCopy from an encrypted source reads it decrypted
    up = s3.create_multipart_upload(Bucket=b, Key="mp2")["UploadId"]
    pc = s3.upload_part_copy(Bucket=b, Key="mp2", UploadId=up, PartNumber=1,
                             CopySource={"Bucket": b, "Key": "mp"},
                             CopySourceRange="bytes=0-%d" % (5 * MIB - 1))
    s3.complete_multipart_upload(Bucket=b, Key="mp2", UploadId=up, MultipartUpload={
        "Parts": [{"PartNumber": 1, "ETag": pc["CopyPartResult"]["ETag"]}]})
    assert s3.get_object(Bucket=b, Key="mp2")["Body"].read() == p1
    assert ufs_bytes(d, b, "mp2") == p1  # a plain bucket, no header: plain


def test_multipart_sse_c(d, s3, b):
    """SSE-C uploads: the key on create and on every part, not on
    completion (never stored: the upload keeps a salted check of it). The
    parts wait encrypted under it; completion keeps them as the object's
    segments, read with the key as a PUT's."""
    k2 = sse_c(b"k2")
    up = s3.create_multipart_upload(Bucket=b, Key="c", **sse_c())
    assert up["SSECustomerAlgorithm"] == "AES256"
    assert up["SSECustomerKeyMD5"] == ckey()[1]
    uid = up["UploadId"]
    p1, p2, p3 = body_of(5 * MIB, seed=41), body_of(5 * MIB, seed=42), body_of(777777, seed=43)
    data = p1 + p2 + p3
    kw = dict(Bucket=b, Key="c", UploadId=uid)
    # a part without the key, or with another: refused before any byte
    assert client_error(s3.upload_part, PartNumber=1, Body=p1, **kw) == (400, "InvalidRequest")
    assert client_error(s3.upload_part, PartNumber=1, Body=p1, **kw, **k2) == \
        (403, "AccessDenied")
    assert s3.list_parts(**kw).get("Parts", []) == []
    r1 = s3.upload_part(PartNumber=1, Body=p1, **kw, **sse_c())
    assert r1["SSECustomerAlgorithm"] == "AES256" and r1["SSECustomerKeyMD5"] == ckey()[1]
    assert r1["ETag"] != '"%s"' % hashlib.md5(p1).hexdigest()  # no hash of the plaintext
    # Content-MD5 is checked on the plaintext
    md5 = base64.b64encode(hashlib.md5(p2).digest()).decode()
    r2 = s3.upload_part(PartNumber=2, Body=p2, ContentMD5=md5, **kw, **sse_c())
    bad = base64.b64encode(hashlib.md5(b"x").digest()).decode()
    assert client_error(s3.upload_part, PartNumber=2, Body=p2, ContentMD5=bad, **kw,
                        **sse_c()) == (400, "BadDigest")
    # UploadPartCopy goes by the same rules (its source read decrypted)
    s3.put_object(Bucket=b, Key="src3", Body=p3)
    src = {"Bucket": b, "Key": "src3"}
    assert client_error(s3.upload_part_copy, PartNumber=3, CopySource=src, **kw) == \
        (400, "InvalidRequest")
    assert client_error(s3.upload_part_copy, PartNumber=3, CopySource=src, **kw, **k2) == \
        (403, "AccessDenied")
    r3 = s3.upload_part_copy(PartNumber=3, CopySource=src, **kw, **sse_c())
    assert r3["SSECustomerKeyMD5"] == ckey()[1]
    etags = [r1["ETag"], r2["ETag"], r3["CopyPartResult"]["ETag"]]
    parts = s3.list_parts(**kw)["Parts"]
    assert [p["Size"] for p in parts] == [len(p1), len(p2), len(p3)]
    assert [p["ETag"] for p in parts] == etags
    # the parts wait encrypted in the private area
    stored = stored_parts(d, uid)
    assert len(stored) == 3
    for on_disk in stored:
        assert MARKER not in on_disk and p3[:32] not in on_disk
    mpu = {"Parts": [{"PartNumber": i + 1, "ETag": e} for i, e in enumerate(etags)]}
    # completion needs no key (AWS); another key is 403 and leaves the upload
    assert client_error(s3.complete_multipart_upload, MultipartUpload=mpu, **kw,
                        **complete_c(b"k2")) == (403, "AccessDenied")
    assert len(s3.list_parts(**kw)["Parts"]) == 3  # the upload is still there
    c = s3.complete_multipart_upload(MultipartUpload=mpu, **kw)
    assert c["ETag"].endswith('-3"')
    h = s3.head_object(Bucket=b, Key="c", **sse_c())
    assert h["ContentLength"] == len(data) and h["ETag"] == c["ETag"]
    assert h["SSECustomerKeyMD5"] == ckey()[1]
    assert s3.get_object(Bucket=b, Key="c", **sse_c())["Body"].read() == data
    rnd = random.Random(44)
    for _ in range(12):
        a = rnd.randrange(len(data))
        z = min(len(data) - 1, a + rnd.randrange(200000))
        g = s3.get_object(Bucket=b, Key="c", Range="bytes=%d-%d" % (a, z), **sse_c())
        assert g["Body"].read() == data[a:z + 1]
    g = s3.get_object(Bucket=b, Key="c", PartNumber=2, **sse_c())
    assert g["Body"].read() == p2 and g["PartsCount"] == 3
    assert client_error(s3.get_object, Bucket=b, Key="c") == (400, "InvalidRequest")
    assert client_error(s3.get_object, Bucket=b, Key="c", **k2) == (403, "AccessDenied")
    assert client_error(s3.head_object, Bucket=b, Key="c") == (400, "400")
    on_disk = assert_ciphertext(d, b, "c", data)
    assert p2[:32] not in on_disk
    assert stored_parts(d, uid) == []  # the completion removed them


def test_multipart_sse_c_other_uploads_and_abort(d, s3, b):
    """SSE-C headers on a part or completion of an upload without SSE-C
    are refused; an aborted SSE-C upload leaves nothing."""
    uid = s3.create_multipart_upload(Bucket=b, Key="p")["UploadId"]
    kw = dict(Bucket=b, Key="p", UploadId=uid)
    assert client_error(s3.upload_part, PartNumber=1, Body=b"abc", **kw, **sse_c()) == \
        (400, "InvalidArgument")
    r = s3.upload_part(PartNumber=1, Body=b"abc", **kw)
    mpu = {"Parts": [{"PartNumber": 1, "ETag": r["ETag"]}]}
    assert client_error(s3.complete_multipart_upload, MultipartUpload=mpu, **kw,
                        **complete_c()) == (400, "InvalidArgument")
    s3.complete_multipart_upload(MultipartUpload=mpu, **kw)
    assert s3.get_object(Bucket=b, Key="p")["Body"].read() == b"abc"
    # abort
    uid = s3.create_multipart_upload(Bucket=b, Key="a", **sse_c())["UploadId"]
    s3.upload_part(Bucket=b, Key="a", UploadId=uid, PartNumber=1, Body=body_of(100000),
                   **sse_c())
    s3.abort_multipart_upload(Bucket=b, Key="a", UploadId=uid)
    assert s3.list_multipart_uploads(Bucket=b).get("Uploads", []) == []
    assert stored_parts(d, uid) == []  # the abort removed them
    assert client_error(s3.head_object, Bucket=b, Key="a", **sse_c()) == (404, "404")


def test_multipart_sse_c_managed_transfer(d, s3, b):
    """boto3's managed transfer of a 20 MiB SSE-C object. s3transfer sends
    the key on create and on every part; Debian 12's 0.6.0 does not send it
    on CompleteMultipartUpload (COMPLETE_MULTIPART_ARGS lacks SSECustomer*),
    which AWS accepts, and so do we. Read back with ranges across the
    parts' boundaries, then after a restart."""
    from boto3.s3.transfer import TransferConfig
    from s3transfer.upload import UploadSubmissionTask
    import tempfile
    data = body_of(20 * MIB + 12345, seed=45)
    cfg = TransferConfig(multipart_threshold=5 * MIB, multipart_chunksize=5 * MIB,
                         use_threads=False)
    args = {"SSECustomerAlgorithm": "AES256", "SSECustomerKey": ckey()[0]}
    sent = "SSECustomerKey" in UploadSubmissionTask.COMPLETE_MULTIPART_ARGS
    with tempfile.NamedTemporaryFile() as f:
        f.write(data)
        f.flush()
        s3.upload_file(f.name, b, "t", ExtraArgs=args, Config=cfg)
    print("s3transfer %s sends the key on completion: %s"
          % (__import__("s3transfer").__version__, sent))
    h = s3.head_object(Bucket=b, Key="t", **sse_c())
    assert h["ContentLength"] == len(data) and h["ETag"].endswith('-5"')
    out = io.BytesIO()
    s3.download_fileobj(b, "t", out, ExtraArgs=args, Config=cfg)
    assert out.getvalue() == data
    assert_ciphertext(d, b, "t", data)
    for a, z in ((5 * MIB - 1, 5 * MIB), (5 * MIB - 70000, 10 * MIB + 70000),
                 (0, len(data) - 1), (20 * MIB, len(data) - 1), (3, 15 * MIB + 5)):
        g = s3.get_object(Bucket=b, Key="t", Range="bytes=%d-%d" % (a, z), **sse_c())
        assert g["Body"].read() == data[a:z + 1]
    assert client_error(s3.get_object, Bucket=b, Key="t", **sse_c(b"k2")) == \
        (403, "AccessDenied")
    d.restart()
    s3 = d.boto3("alice")
    g = s3.get_object(Bucket=b, Key="t", Range="bytes=%d-%d" % (5 * MIB - 9, 5 * MIB + 9),
                      **sse_c())
    assert g["Body"].read() == data[5 * MIB - 9:5 * MIB + 10]
    assert s3.get_object(Bucket=b, Key="t", **sse_c())["Body"].read() == data


def seg_offsets(sizes):
    """Where each segment of an object completed from parts of these
    plaintext sizes starts in its file (src/crypt_int.h)."""
    out, at = [], 0
    for n in sizes:
        out.append(at)
        at += 132 + n + 16 * max(1, -(-n // 65536))
    return out + [at]


def upload_parts(s3, b, key, parts, numbers=None, **sse):
    uid = s3.create_multipart_upload(Bucket=b, Key=key, **sse)["UploadId"]
    numbers = numbers or range(1, len(parts) + 1)
    done = []
    for n, p in zip(numbers, parts):
        r = s3.upload_part(Bucket=b, Key=key, UploadId=uid, PartNumber=n, Body=p,
                           **({} if "ServerSideEncryption" in sse else sse))
        done.append({"PartNumber": n, "ETag": r["ETag"]})
    return uid, {"Parts": done}


def test_multipart_sse_c_segments(d, s3, b):
    """Parts of sizes off the 64 KiB grid; completion with the key (AWS
    takes it: checked), every range that starts in one part and ends in
    another; parts left out (1 and 3) need the key, as their streams are
    joined into one."""
    parts = [body_of(5 * MIB + 1000, seed=51), body_of(5 * MIB + 3, seed=52),
             body_of(70000, seed=53)]
    data = b"".join(parts)
    uid, mpu = upload_parts(s3, b, "s", parts, **sse_c())
    c = s3.complete_multipart_upload(Bucket=b, Key="s", UploadId=uid, MultipartUpload=mpu,
                                     **complete_c())
    hh = c["ResponseMetadata"]["HTTPHeaders"]  # (not in botocore 1.29's output shape)
    assert hh["x-amz-server-side-encryption-customer-algorithm"] == "AES256"
    assert hh["x-amz-server-side-encryption-customer-key-md5"] == ckey()[1]
    on_disk = assert_ciphertext(d, b, "s", data)
    assert len(on_disk) == seg_offsets([len(p) for p in parts])[-1]
    ends = [len(parts[0]), len(parts[0]) + len(parts[1])]
    for a, z in ((ends[0] - 1, ends[0]), (ends[0] - 65537, ends[1] + 1),
                 (ends[1] - 5, len(data) - 1), (ends[0], ends[0]), (ends[1], ends[1] + 65536),
                 (100, len(data) - 100)):
        g = s3.get_object(Bucket=b, Key="s", Range="bytes=%d-%d" % (a, z), **sse_c())
        assert g["Body"].read() == data[a:z + 1], (a, z)
    for i, p in enumerate(parts):
        assert s3.get_object(Bucket=b, Key="s", PartNumber=i + 1,
                             **sse_c())["Body"].read() == p
    # a copy reads it decrypted, into one stream
    s3.copy_object(Bucket=b, Key="s2", CopySource={"Bucket": b, "Key": "s"}, **sse_c(b"k2"),
                   **copy_source_c())
    assert s3.get_object(Bucket=b, Key="s2", **sse_c(b"k2"))["Body"].read() == data
    # parts 1 and 3: without the key, refused; with it, joined
    uid, mpu = upload_parts(s3, b, "g", [parts[0], parts[2]], numbers=[1, 3], **sse_c())
    kw = dict(Bucket=b, Key="g", UploadId=uid, MultipartUpload=mpu)
    assert client_error(s3.complete_multipart_upload, **kw) == (400, "InvalidRequest")
    s3.complete_multipart_upload(**kw, **complete_c())
    assert s3.get_object(Bucket=b, Key="g", **sse_c())["Body"].read() == parts[0] + parts[2]
    assert len(ufs_bytes(d, b, "g")) == seg_offsets([len(parts[0]) + len(parts[2])])[-1]


def test_segments_replaced_while_read(d, s3, b):
    """Completions over a key that GETs read all the while: every GET
    answers one whole version, never an error (a reader that finds a
    version whose part sizes went with it finds the key again)."""
    import threading
    versions = [[body_of(5 * MIB, seed=70 + i), body_of(1000 + i, seed=80 + i)]
                for i in range(6)]
    wholes = {b"".join(v) for v in versions}
    ups = [upload_parts(s3, b, "race", v, ServerSideEncryption="AES256") for v in versions]
    uid, mpu = ups[0]
    s3.complete_multipart_upload(Bucket=b, Key="race", UploadId=uid, MultipartUpload=mpu)
    done, bad, seen = threading.Event(), [], set()

    def reader():
        c = d.boto3("alice")
        while not done.is_set():
            try:
                got = c.get_object(Bucket=b, Key="race")["Body"].read()
                if got not in wholes:
                    bad.append("wrong bytes")
                seen.add(hashlib.md5(got).hexdigest())
            except Exception as e:  # noqa: BLE001 - any failure is the finding
                bad.append(repr(e))

    threads = [threading.Thread(target=reader) for _ in range(3)]
    for t in threads:
        t.start()
    try:
        for uid, mpu in ups[1:]:
            s3.complete_multipart_upload(Bucket=b, Key="race", UploadId=uid, MultipartUpload=mpu)
            s3.get_object(Bucket=b, Key="race", Range="bytes=0-0")
    finally:
        done.set()
        for t in threads:
            t.join()
    assert bad == []
    assert s3.get_object(Bucket=b, Key="race")["Body"].read() == b"".join(versions[-1])


def _rewrite(path, edit):
    """edit(bytes) -> bytes of the same length, written in place with the
    file's mtime kept (so no sync takes it for a new plain object)."""
    st = os.stat(path)
    with open(path, "rb") as f:
        raw = f.read()
    new = edit(raw)
    assert len(new) == len(raw) and new != raw
    with open(path, "r+b") as f:
        f.write(new)
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))


@pytest.mark.parametrize("mode", ["sse-s3", "sse-c"])
@pytest.mark.parametrize("attack", ["swap", "duplicate", "foreign"])
def test_segments_tampered(d, s3, b, mode, attack):
    """Someone with write access to DATA/ufs moves whole segments: two
    swapped, one written over another, one taken from another upload of
    the same key and size. Every read of a moved segment fails (500),
    never with wrong bytes; the segments left in place still read."""
    sse = sse_c() if mode == "sse-c" else {"ServerSideEncryption": "AES256"}
    size = 5 * MIB
    parts = [body_of(size, seed=60 + i) for i in range(3)]
    data = b"".join(parts)
    for key in ("v", "w"):
        uid, mpu = upload_parts(s3, b, key, parts, **sse)
        s3.complete_multipart_upload(Bucket=b, Key=key, UploadId=uid, MultipartUpload=mpu)
    off = seg_offsets([size] * 3)
    path = os.path.join(d.ufs, b, "v")
    other = ufs_bytes(d, b, "w")
    if attack == "swap":
        _rewrite(path, lambda r: r[:off[1]] + r[off[2]:off[3]] + r[off[1]:off[2]])
    elif attack == "duplicate":
        _rewrite(path, lambda r: r[:off[2]] + r[off[1]:off[2]])
    else:
        _rewrite(path, lambda r: r[:off[1]] + other[off[1]:off[2]] + r[off[2]:])
    rd = sse_c() if mode == "sse-c" else {}
    g = s3.get_object(Bucket=b, Key="v", Range="bytes=0-%d" % (size - 1), **rd)
    assert g["Body"].read() == parts[0]
    bad = (1, 2) if attack == "swap" else (2,) if attack == "duplicate" else (1,)
    for i in bad:
        for rng in ("bytes=%d-%d" % (i * size, i * size + 99),
                    "bytes=%d-%d" % (i * size - 10, i * size + 10)):
            with pytest.raises(Exception) as ei:
                s3.get_object(Bucket=b, Key="v", Range=rng, **rd)["Body"].read()
            if isinstance(ei.value, ClientError):
                assert ei.value.response["ResponseMetadata"]["HTTPStatusCode"] == 500
    try:  # the whole object: cut short, never served whole with wrong bytes
        got = s3.get_object(Bucket=b, Key="v", **rd)["Body"].read()
    except Exception:
        got = None
    assert got is None


def test_multipart_kms_refused_and_default_encryption(d, s3, b):
    """SSE-KMS uploads are refused, never stored in the clear. A bucket
    encrypted by default encrypts uploads without a header, as boto3's
    managed transfer does them."""
    assert client_error(s3.create_multipart_upload, Bucket=b, Key="c",
                        ServerSideEncryption="aws:kms") == (400, "KMS.NotFoundException")
    assert s3.list_multipart_uploads(Bucket=b).get("Uploads", []) == []
    s3.put_bucket_encryption(Bucket=b, ServerSideEncryptionConfiguration={
        "Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}]})
    import io
    from boto3.s3.transfer import TransferConfig
    data = body_of(6 * MIB + 123, seed=33)
    s3.upload_fileobj(io.BytesIO(data), b, "big", Config=TransferConfig(
        multipart_threshold=5 * MIB, multipart_chunksize=5 * MIB, use_threads=False))
    h = s3.head_object(Bucket=b, Key="big")
    assert h["ServerSideEncryption"] == "AES256" and h["ContentLength"] == len(data)
    assert h["ETag"].endswith('-2"')
    assert s3.get_object(Bucket=b, Key="big")["Body"].read() == data
    assert_ciphertext(d, b, "big", data)


def test_awscli_sse(d, b, tmp_path):
    import s3util
    aws = s3util.awscli(d, tmp_path)
    src = tmp_path / "f.bin"
    data = body_of(7 * MIB, seed=41)  # above awscli's 8 MiB? no: a single PUT
    src.write_bytes(data)
    aws("s3", "cp", str(src), "s3://%s/cli-s3" % b, "--sse", "AES256")
    aws("s3", "cp", str(src), "s3://%s/cli-c" % b, "--sse-c", "AES256",
        "--sse-c-key", "fileb://" + str(_keyfile(tmp_path)))
    big = tmp_path / "big.bin"
    big.write_bytes(data + body_of(3 * MIB, seed=42))  # 10 MiB: awscli uploads in parts
    aws("s3", "cp", str(big), "s3://%s/cli-big" % b, "--sse", "AES256")
    s3 = d.boto3("alice")
    assert s3.head_object(Bucket=b, Key="cli-s3")["ServerSideEncryption"] == "AES256"
    assert s3.head_object(Bucket=b, Key="cli-big")["ServerSideEncryption"] == "AES256"
    assert s3.head_object(Bucket=b, Key="cli-c", **sse_c(b"cli"))["ContentLength"] == len(data)
    for key in ("cli-s3", "cli-c", "cli-big"):
        assert MARKER not in ufs_bytes(d, b, key)
    out = tmp_path / "back.bin"
    aws("s3", "cp", "s3://%s/cli-c" % b, str(out), "--sse-c", "AES256",
        "--sse-c-key", "fileb://" + str(_keyfile(tmp_path)))
    assert out.read_bytes() == data
    aws("s3", "cp", "s3://%s/cli-big" % b, str(out))
    assert out.read_bytes() == big.read_bytes()
    p = aws("s3", "cp", "s3://%s/cli-c" % b, str(out), check=False)
    assert p.returncode != 0 and "400" in p.stderr
    # 20 MiB with SSE-C: awscli uploads it in parts (no key on completion)
    huge = tmp_path / "huge.bin"
    huge.write_bytes(body_of(20 * MIB + 7, seed=43))
    aws("s3", "cp", str(huge), "s3://%s/cli-c-big" % b, "--sse-c", "AES256",
        "--sse-c-key", "fileb://" + str(_keyfile(tmp_path)))
    h = s3.head_object(Bucket=b, Key="cli-c-big", **sse_c(b"cli"))
    assert h["ContentLength"] == 20 * MIB + 7 and "-" in h["ETag"]
    assert MARKER not in ufs_bytes(d, b, "cli-c-big")
    aws("s3", "cp", "s3://%s/cli-c-big" % b, str(out), "--sse-c", "AES256",
        "--sse-c-key", "fileb://" + str(_keyfile(tmp_path)))
    assert out.read_bytes() == huge.read_bytes()


def _keyfile(tmp_path):
    k = tmp_path / "customer.key"
    k.write_bytes(ckey(b"cli")[0])
    return k


# ---- the block cache's disk tier ----------------------------------------------

def test_cache_holds_ciphertext_only(atriumd_factory, tmp_path, bucket_name):
    """Encrypted objects are cached as their ciphertext: a second GET (or
    a range) is served from the block cache, decrypted per request; the
    DISK tier's files never hold a plaintext byte. fs load brings an
    SSE-C object in without its key; the cache never bypasses the key."""
    from test_cli_admin import cli, ok, report, ls_json
    cache = tmp_path / "cache"
    dd = atriumd_factory("sigv4", "sse-tier", ["--cache-disk", "%s:64M" % cache])
    s3 = dd.boto3("alice")
    s3.create_bucket(Bucket=bucket_name)
    data = body_of(3 * MIB, seed=51)
    s3.put_object(Bucket=bucket_name, Key="enc", Body=data, ServerSideEncryption="AES256")
    s3.put_object(Bucket=bucket_name, Key="plain", Body=data.replace(MARKER, b"x" * len(MARKER)))
    parts = [body_of(5 * MIB + 3, seed=52), body_of(1000, seed=53)]
    uid, mpu = upload_parts(s3, bucket_name, "cmp", parts, **sse_c())
    s3.complete_multipart_upload(Bucket=bucket_name, Key="cmp", UploadId=uid,
                                 MultipartUpload=mpu)
    whole = b"".join(parts)
    assert s3.get_object(Bucket=bucket_name, Key="enc")["Body"].read() == data
    r1 = report(dd)
    for _ in range(2):
        assert s3.get_object(Bucket=bucket_name, Key="enc")["Body"].read() == data
        g = s3.get_object(Bucket=bucket_name, Key="enc", Range="bytes=1000000-1100000")
        assert g["Body"].read() == data[1000000:1100001]
        s3.get_object(Bucket=bucket_name, Key="plain")["Body"].read()
    r2 = report(dd)
    assert r2["cache"]["misses"] == r1["cache"]["misses"] + 3  # the plain object's, once
    assert r2["cache"]["hits"] > r1["cache"]["hits"]
    # SSE-C: loaded without the key, then read from the cache with it
    ok(cli(dd, "fs", "load", "/%s/cmp" % bucket_name))
    assert ls_json(dd, "/%s/cmp" % bucket_name)["/%s/cmp" % bucket_name]["in_cache_percent"] \
        == 100
    r3 = report(dd)
    g = s3.get_object(Bucket=bucket_name, Key="cmp", Range="bytes=%d-%d" % (5 * MIB - 5,
                                                                            5 * MIB + 500),
                      **sse_c())
    assert g["Body"].read() == whole[5 * MIB - 5:5 * MIB + 501]
    assert report(dd)["cache"]["misses"] == r3["cache"]["misses"]
    assert client_error(s3.get_object, Bucket=bucket_name, Key="cmp", **sse_c(b"k2")) == \
        (403, "AccessDenied")
    assert client_error(s3.get_object, Bucket=bucket_name, Key="cmp") == \
        (400, "InvalidRequest")
    dd.stop()  # the tier's worker has written what it queued
    files = [os.path.join(dp, f) for dp, _, fs in os.walk(cache) for f in fs
             if not f.startswith(".")]
    assert len(files) >= 3 + 4 + 6  # plain, enc and cmp blocks
    for f in files:
        with open(f, "rb") as fh:
            raw = fh.read()
        assert MARKER not in raw and whole[:32] not in raw, f


# ---- SSE-C over TLS --------------------------------------------------------------

def test_sse_c_over_tls(atriumd_factory, tmp_path, bucket_name):
    import s3util
    cert, key = s3util.self_signed(tmp_path)
    td = atriumd_factory("sigv4", "sse-tls", ["--tls-cert", cert, "--tls-key", key])
    s3 = td.boto3("alice")
    s3.create_bucket(Bucket=bucket_name)
    data = body_of(100000, seed=61)
    s3.put_object(Bucket=bucket_name, Key="c", Body=data, **sse_c())
    assert s3.get_object(Bucket=bucket_name, Key="c", **sse_c())["Body"].read() == data
    assert client_error(s3.get_object, Bucket=bucket_name, Key="c", **sse_c(b"x")) == \
        (403, "AccessDenied")
    assert MARKER not in ufs_bytes(td, bucket_name, "c")


def test_master_key_rotation_and_mode(atriumd_factory, bucket_name):
    """A key appended with a higher id is used for new objects; objects
    under the older key stay readable. A sse.keys readable by others, or
    malformed, stops the daemon from starting."""
    import s3util
    kd = atriumd_factory("sigv4", "sse-rotate")
    s3 = kd.boto3("alice")
    s3.create_bucket(Bucket=bucket_name)
    old = body_of(70000, seed=71)
    s3.put_object(Bucket=bucket_name, Key="old", Body=old, ServerSideEncryption="AES256")
    keys = os.path.join(kd.data, "sse.keys")
    with open(keys) as f:
        first = f.read()
    kd.stop()
    with open(keys, "a") as f:
        f.write("7 %s\n" % hashlib.sha256(b"rotated").hexdigest())
    kd.stopped = False
    kd.start()
    s3 = kd.boto3("alice")
    new = body_of(70000, seed=72)
    s3.put_object(Bucket=bucket_name, Key="new", Body=new, ServerSideEncryption="AES256")
    assert ufs_bytes(kd, bucket_name, "new")[12:16] == b"\0\0\0\7"  # the header's key id
    assert ufs_bytes(kd, bucket_name, "old")[12:16] == b"\0\0\0\1"
    assert s3.get_object(Bucket=bucket_name, Key="old")["Body"].read() == old
    assert s3.get_object(Bucket=bucket_name, Key="new")["Body"].read() == new
    kd.stop()
    # the key an object names is gone: the object is an error, never garbage
    with open(keys, "w") as f:
        f.write(first)
    kd.stopped = False
    kd.start()
    s3 = kd.boto3("alice")
    assert s3.get_object(Bucket=bucket_name, Key="old")["Body"].read() == old
    assert client_error(s3.get_object, Bucket=bucket_name, Key="new")[0] == 500
    kd.stop()
    os.chmod(keys, 0o644)
    p = subprocess.run([os.environ.get("ATRIUMD", "atriumd"), "--data", kd.data, "--port", str(s3util.free_port()),
                        "--bind", "127.0.0.1"], capture_output=True, timeout=30)
    assert p.returncode != 0 and b"sse.keys" in p.stderr
    os.chmod(keys, 0o600)
    with open(keys, "a") as f:
        f.write("8 nothex\n")
    p = subprocess.run([os.environ.get("ATRIUMD", "atriumd"), "--data", kd.data, "--port", str(s3util.free_port()),
                        "--bind", "127.0.0.1"], capture_output=True, timeout=30)
    assert p.returncode != 0 and b"sse.keys:3" in p.stderr
    with open(keys, "w") as f:
        f.write(first)
    kd.stopped = False
    kd.start()


# ---- a bucket on a remote S3 store -------------------------------------------------

def test_remote_bucket_holds_ciphertext(atriumd_factory, tmp_path):
    """A bucket mounted from a remote S3 store (ufs_s3.c) gets the same
    ciphertext files: the remote never sees the plaintext, and the
    gateway's metadata sync (interval 0: every lookup compares with the
    remote) takes the larger remote objects as in step."""
    import uuid
    from test_cli_admin import cli, ok
    from s3util import USERS
    remote = atriumd_factory("sigv4", name="sse-remote")
    gateway = atriumd_factory("sigv4", name="sse-gateway")
    rb, name = "rb" + uuid.uuid4().hex[:8], "mnt" + uuid.uuid4().hex[:8]
    rs3, gs3 = remote.boto3("alice"), gateway.boto3("admin")
    rs3.create_bucket(Bucket=rb)
    sf = tmp_path / "remote-secret"
    sf.write_text(USERS["alice"][1] + "\n")
    os.chmod(sf, 0o600)
    ok(cli(gateway, "fs", "mount", "--option", "s3.endpoint=" + remote.endpoint,
           "--option", "s3.accessKeyId=" + USERS["alice"][0],
           "--option", "s3.secretKeyFile=" + str(sf),
           "--option", "metadata.sync.interval=0", "/" + name, "s3://%s/pre" % rb,
           user="admin"))
    data = body_of(200000, seed=81)
    gs3.put_object(Bucket=name, Key="s", Body=data, ServerSideEncryption="AES256")
    gs3.put_object(Bucket=name, Key="c", Body=data, **sse_c())
    parts = [body_of(5 * MIB + 100, seed=82), body_of(1000, seed=83)]
    uid, mpu = upload_parts(gs3, name, "m", parts, **sse_c())
    gs3.complete_multipart_upload(Bucket=name, Key="m", UploadId=uid, MultipartUpload=mpu)
    for key in ("s", "c", "m"):
        raw = rs3.get_object(Bucket=rb, Key="pre/" + key)["Body"].read()
        assert MARKER not in raw and len(raw) > len(data)
    for _ in range(2):  # the second time from a synced row
        g = gs3.get_object(Bucket=name, Key="m", Range="bytes=%d-%d" % (5 * MIB, 5 * MIB + 200),
                           **sse_c())
        assert g["Body"].read() == b"".join(parts)[5 * MIB:5 * MIB + 201]
        h = gs3.head_object(Bucket=name, Key="s")
        assert h["ContentLength"] == len(data) and h["ServerSideEncryption"] == "AES256"
        assert gs3.get_object(Bucket=name, Key="s")["Body"].read() == data
        g = gs3.get_object(Bucket=name, Key="s", Range="bytes=65530-131080")
        assert g["Body"].read() == data[65530:131081]
        assert gs3.get_object(Bucket=name, Key="c", **sse_c())["Body"].read() == data
    sizes = {o["Key"]: o["Size"] for o in gs3.list_objects_v2(Bucket=name)["Contents"]}
    assert sizes == {"s": len(data), "c": len(data), "m": 5 * MIB + 1100}


# ---- presigned URLs and POST forms --------------------------------------------

def presign_query(d, method, path, query, user="alice", headers=None, expires=300):
    """A presigned URL whose query carries query (signed, as AWS's JS SDK
    v3 hoists x-amz-* headers there): botocore's query signer over it."""
    from urllib.parse import urlencode
    from botocore.auth import S3SigV4QueryAuth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials
    ak, sk = d.keys(user)
    req = AWSRequest(method=method, url=d.url(path) + "?" + urlencode(query),
                     headers=headers or {})
    S3SigV4QueryAuth(Credentials(ak, sk), "s3", "us-east-1", expires=expires).add_auth(req)
    return req.url


def presigner_v4(d, user="alice"):
    """A client that presigns with SigV4 (Debian's botocore presigns S3
    with SigV2 by default, hoisting every x-amz-* header into the query)."""
    import boto3
    from botocore.config import Config
    ak, sk = d.keys(user)
    return boto3.client("s3", endpoint_url=d.endpoint, region_name="us-east-1",
                        aws_access_key_id=ak, aws_secret_access_key=sk,
                        config=Config(signature_version="s3v4",
                                      s3={"addressing_style": "path"}))


def test_presigned_sse_s3(d, s3, b):
    """SSE-S3 on a presigned PUT: as the signed header botocore's SigV4
    presigner makes of ServerSideEncryption, as a signed query parameter
    (AWS's JS SDK v3), or hoisted into a SigV2 URL's query (botocore's
    default presigner here)."""
    import requests
    from urllib.parse import parse_qs, urlsplit
    data = body_of(100000, seed=91)
    url = s3.generate_presigned_url("put_object", Params={
        "Bucket": b, "Key": "p2", "ServerSideEncryption": "AES256"})
    assert parse_qs(urlsplit(url).query)["x-amz-server-side-encryption"] == ["AES256"]
    r = requests.put(url, data=data)
    assert r.status_code == 200, r.text
    assert r.headers["x-amz-server-side-encryption"] == "AES256"
    url = presigner_v4(d).generate_presigned_url("put_object", Params={
        "Bucket": b, "Key": "ph", "ServerSideEncryption": "AES256"})
    q = parse_qs(urlsplit(url).query)
    assert "x-amz-server-side-encryption" in q["X-Amz-SignedHeaders"][0]
    r = requests.put(url, data=data, headers={"x-amz-server-side-encryption": "AES256"})
    assert r.status_code == 200, r.text
    assert r.headers["x-amz-server-side-encryption"] == "AES256"
    # the header was signed: leaving it out is refused (400 here: a
    # signed header missing makes a malformed presigned URL)
    r = requests.put(url, data=data)
    assert r.status_code in (400, 403) and "<Error>" in r.text
    url = presign_query(d, "PUT", "/%s/pq" % b, {"x-amz-server-side-encryption": "AES256"})
    r = requests.put(url, data=data)
    assert r.status_code == 200, r.text
    assert r.headers["x-amz-server-side-encryption"] == "AES256"
    for key in ("p2", "ph", "pq"):
        assert s3.head_object(Bucket=b, Key=key)["ServerSideEncryption"] == "AES256"
        assert_ciphertext(d, b, key, data)
        g = requests.get(s3.generate_presigned_url("get_object", Params={"Bucket": b, "Key": key}))
        assert g.status_code == 200 and g.content == data
        assert g.headers["x-amz-server-side-encryption"] == "AES256"
    # KMS in the query: AWS's answer for an unknown key, nothing stored
    url = presign_query(d, "PUT", "/%s/pk" % b, {"x-amz-server-side-encryption": "aws:kms"})
    r = requests.put(url, data=data)
    assert r.status_code == 400 and "KMS.NotFoundException" in r.text
    assert client_error(s3.head_object, Bucket=b, Key="pk") == (404, "404")
    # on a GET, SSE-S3's parameter is refused as its header is
    url = presign_query(d, "GET", "/%s/ph" % b, {"x-amz-server-side-encryption": "AES256"})
    assert requests.get(url).status_code == 400


def test_presigned_sse_c(d, s3, b):
    """SSE-C on presigned PUT and GET: the key travels in signed headers
    (botocore signs the three), never in the URL; the key in the query is
    refused (it would be in logs and browser histories)."""
    import requests
    data = body_of(150000, seed=92)
    k, m = ckey()
    v4 = presigner_v4(d)
    params = {"Bucket": b, "Key": "pc", "SSECustomerAlgorithm": "AES256", "SSECustomerKey": k}
    url = v4.generate_presigned_url("put_object", Params=params)
    assert base64.b64encode(k).decode() not in url and "customer-key=" not in url.lower()
    r = requests.put(url, data=data, headers=raw_headers())
    assert r.status_code == 200, r.text
    assert r.headers["x-amz-server-side-encryption-customer-key-MD5"] == m
    assert_ciphertext(d, b, "pc", data)
    url = v4.generate_presigned_url("get_object", Params=params)
    g = requests.get(url, headers=raw_headers())
    assert g.status_code == 200 and g.content == data
    g = requests.get(url, headers={**raw_headers(), "Range": "bytes=70000-70100"})
    assert g.status_code == 206 and g.content == data[70000:70101]
    # without the headers it was signed with: refused (AWS says 403; here
    # a signed header that is missing is a malformed presigned URL, 400)
    g = requests.get(url)
    assert g.status_code in (400, 403) and g.content != data
    # a URL signed without them, used with them: unsigned x-amz-* headers
    plain = v4.generate_presigned_url("get_object", Params={"Bucket": b, "Key": "pc"})
    g = requests.get(plain, headers=raw_headers())
    assert g.status_code == 403 and "AccessDenied" in g.text
    assert requests.get(plain).status_code == 400  # no key: the object needs one
    # curl, the same URL and headers
    out = subprocess.run(["curl", "-sf", url] + sum((["-H", "%s: %s" % kv]
                                                      for kv in raw_headers().items()), []),
                         capture_output=True, check=True).stdout
    assert out == data
    # the key in the query (a SigV4 URL, or botocore's SigV2 presigner,
    # which hoists it there): 400, nothing stored
    for url in (presign_query(d, "PUT", "/%s/pcq" % b, raw_headers()),
                s3.generate_presigned_url("put_object", Params={**params, "Key": "pcq"})):
        assert "customer-key=" in url.lower()
        r = requests.put(url, data=data)
        assert r.status_code == 400 and "InvalidArgument" in r.text, r.text
    assert client_error(s3.head_object, Bucket=b, Key="pcq", **sse_c()) == (404, "404")


def test_post_form_sse(d, s3, b):
    """POST Object forms (boto3's generate_presigned_post, posted with
    requests): x-amz-server-side-encryption, and SSE-C's three fields,
    named in the policy as any other field; checked as their headers."""
    import requests
    data = body_of(120000, seed=93)
    k, m = ckey()
    kb = base64.b64encode(k).decode()
    sse_fields = {"x-amz-server-side-encryption-customer-algorithm": "AES256",
                  "x-amz-server-side-encryption-customer-key": kb,
                  "x-amz-server-side-encryption-customer-key-MD5": m}

    def post(key, fields, conds=None):
        p = s3.generate_presigned_post(b, key, Fields=fields, Conditions=conds if conds is not None
                                       else [{n: v} for n, v in fields.items()])
        return requests.post(p["url"], data=p["fields"], files={"file": ("f", data)})

    r = post("ps3", {"x-amz-server-side-encryption": "AES256"})
    assert r.status_code == 204, r.text
    assert r.headers["x-amz-server-side-encryption"] == "AES256"
    assert s3.head_object(Bucket=b, Key="ps3")["ServerSideEncryption"] == "AES256"
    assert_ciphertext(d, b, "ps3", data)
    r = post("pc", sse_fields)
    assert r.status_code == 204, r.text
    assert r.headers["x-amz-server-side-encryption-customer-algorithm"] == "AES256"
    assert r.headers["x-amz-server-side-encryption-customer-key-MD5"] == m
    assert_ciphertext(d, b, "pc", data)
    assert s3.get_object(Bucket=b, Key="pc", **sse_c())["Body"].read() == data
    assert client_error(s3.get_object, Bucket=b, Key="pc") == (400, "InvalidRequest")
    # the key's fields checked as the headers are; nothing stored
    bad = [({**sse_fields, "x-amz-server-side-encryption-customer-key-MD5": ckey(b"x")[1]},
            "InvalidArgument"),
           ({n: v for n, v in sse_fields.items() if not n.endswith("MD5")}, "InvalidArgument"),
           ({**sse_fields, "x-amz-server-side-encryption-customer-algorithm": "AES128"},
            "InvalidEncryptionAlgorithmError"),
           ({**sse_fields, "x-amz-server-side-encryption": "AES256"}, "InvalidArgument"),
           ({"x-amz-server-side-encryption": "aws:kms"}, "KMS.NotFoundException")]
    for fields, code in bad:
        r = post("pbad", fields)
        assert r.status_code == 400 and "<Code>%s</Code>" % code in r.text, (fields, r.text)
    # a field the policy does not name is refused as any extra field
    r = post("pbad", sse_fields, conds=[])
    assert r.status_code == 403, r.text
    assert client_error(s3.head_object, Bucket=b, Key="pbad", **sse_c()) == (404, "404")
