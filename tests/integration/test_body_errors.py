"""Request bodies that do not add up: IncompleteBody, MissingContentLength,
MalformedXML in CreateBucket — each leaves nothing behind."""
import os
import socket

from s3util import Resp, files_under


def _exchange(port, head, body, half_close):
    """Sends head+body on a raw socket, optionally closes our sending side,
    and reads the whole response (the server closes after it)."""
    s = socket.create_connection(("127.0.0.1", port), timeout=30)
    try:
        s.sendall(head + body)
        if half_close:
            s.shutdown(socket.SHUT_WR)
        data = b""
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            data += chunk
            if b"\r\n\r\n" in data:
                hdr, _, rest = data.partition(b"\r\n\r\n")
                for line in hdr.split(b"\r\n")[1:]:
                    k, _, v = line.partition(b":")
                    if k.strip().lower() == b"content-length" and len(rest) >= int(v):
                        return data
    finally:
        s.close()
    return data


def _parse(data):
    hdr, _, body = data.partition(b"\r\n\r\n")
    lines = hdr.split(b"\r\n")
    status = int(lines[0].split()[1])
    headers = {}
    for line in lines[1:]:
        k, _, v = line.partition(b":")
        headers[k.strip().lower().decode()] = v.strip().decode()
    return Resp(status, "", headers, body)


def test_incomplete_body_leaves_nothing(simple_daemon, bucket_name):
    d = simple_daemon
    assert d.request("PUT", "/" + bucket_name).status == 200
    head = ("PUT /%s/short HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 100\r\n\r\n"
            % bucket_name).encode()
    r = _parse(_exchange(d.port, head, b"x" * 50, half_close=True))
    assert r.status == 400, r
    assert r.error_code() == "IncompleteBody", r
    assert d.request("HEAD", "/%s/short" % bucket_name).status == 404
    assert not os.path.exists(os.path.join(d.ufs, bucket_name, "short"))
    assert files_under(os.path.join(d.ufs, ".atrium", "tmp")) == []


def test_missing_content_length(simple_daemon, bucket_name):
    d = simple_daemon
    assert d.request("PUT", "/" + bucket_name).status == 200
    head = ("PUT /%s/nolen HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n" % bucket_name).encode()
    r = _parse(_exchange(d.port, head, b"", half_close=False))
    assert r.status == 411, r
    assert r.error_code() == "MissingContentLength", r
    assert d.request("HEAD", "/%s/nolen" % bucket_name).status == 404


def test_create_bucket_malformed_xml(sigv4_daemon, bucket_name):
    d = sigv4_daemon
    r = d.request("PUT", "/" + bucket_name, body=b"<CreateBucketConfiguration><Loc", user="alice")
    assert r.status == 400, r
    assert r.error_code() == "MalformedXML", r
    assert d.request("HEAD", "/" + bucket_name, user="alice").status == 404
    ok = (b'<CreateBucketConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/">'
          b"<LocationConstraint>eu-west-1</LocationConstraint></CreateBucketConfiguration>")
    assert d.request("PUT", "/" + bucket_name, body=ok, user="alice").status == 200
    r = d.request("GET", "/%s?location" % bucket_name, user="alice")
    assert r.status == 200 and b"eu-west-1" in r.body, r
