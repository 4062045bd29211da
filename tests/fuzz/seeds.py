#!/usr/bin/env python3
"""Writes the hand-made seed inputs (seed-*) of tests/fuzz/corpus/<target>/.

Run from anywhere: python3 tests/fuzz/seeds.py. Seeds follow each target's
input format (see the comment at the top of tests/fuzz/fuzz_<target>.c).
SigV4 seeds are AWS's published examples (signed with AWS's example key at
20130524T000000Z, the clock the target uses); chunked seeds carry real chunk
signatures chained from AWS's example seed signature, so the fuzzer starts
from bodies that verify. Other corpus files (regressions, inputs the fuzzer
found) are kept as they are.
"""
import hashlib
import hmac
import os

HERE = os.path.dirname(os.path.abspath(__file__))
SK = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
AK = "AKIAIOSFODNN7EXAMPLE"
DATE = "20130524T000000Z"
SCOPE = "20130524/us-east-1/s3/aws4_request"
CRED = AK + "/" + SCOPE
SEED = "4f232c4386841ef735655705268965c44a0e4690baa4adea153f7db9fa80a0a9"
EMPTY = hashlib.sha256(b"").hexdigest()
HOST = "examplebucket.s3.amazonaws.com"


def write(target, name, data):
    d = os.path.join(HERE, "corpus", target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, "seed-" + name), "wb") as f:
        f.write(data if isinstance(data, bytes) else data.encode("latin-1"))


def v4(signed, sig):
    return "AWS4-HMAC-SHA256 Credential=%s,SignedHeaders=%s,Signature=%s" % (CRED, signed, sig)


def request(flags, method, path, query, headers):
    lines = [method, path, query] + ["%s: %s" % h for h in headers]
    return bytes([flags]) + "\n".join(lines).encode("latin-1")


def sigv4_seeds():
    get_sha = EMPTY
    put_sha = "44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072"
    write("sigv4", "aws-get-object", request(0, "GET", "/test.txt", "", [
        ("Host", HOST), ("Range", "bytes=0-9"), ("x-amz-content-sha256", get_sha),
        ("x-amz-date", DATE),
        ("Authorization", v4("host;range;x-amz-content-sha256;x-amz-date",
                             "f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41"))]))
    put = [("Host", HOST), ("Date", "Fri, 24 May 2013 00:00:00 GMT"), ("x-amz-date", DATE),
           ("x-amz-storage-class", "REDUCED_REDUNDANCY"), ("x-amz-content-sha256", put_sha),
           ("Authorization", v4("date;host;x-amz-content-sha256;x-amz-date;x-amz-storage-class",
                                "98ad721746da40c64f1a55b78f14c238d841ea1380cd77a1b5971af0ece108bd"))]
    write("sigv4", "aws-put-object", request(0, "PUT", "/test%24file.text", "", put))
    write("sigv4", "aws-put-object-decoded", request(2, "PUT", "/test$file.text", "", put))
    bucket = [("Host", HOST), ("x-amz-content-sha256", EMPTY), ("x-amz-date", DATE)]
    write("sigv4", "aws-lifecycle", request(0, "GET", "/", "lifecycle", bucket + [
        ("Authorization", v4("host;x-amz-content-sha256;x-amz-date",
                             "fea454ca298b7da1c68078a5d1bdbfbbe0d65c699e0f91ac7a200a0136783543"))]))
    write("sigv4", "aws-list", request(0, "GET", "/", "max-keys=2&prefix=J", bucket + [
        ("Authorization", v4("host;x-amz-content-sha256;x-amz-date",
                             "34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7"))]))
    write("sigv4", "aws-chunked-seed", request(0, "PUT", "/examplebucket/chunkObject.txt", "", [
        ("Host", "s3.amazonaws.com"), ("x-amz-date", DATE),
        ("x-amz-storage-class", "REDUCED_REDUNDANCY"),
        ("Authorization", v4("content-encoding;content-length;host;x-amz-content-sha256;"
                             "x-amz-date;x-amz-decoded-content-length;x-amz-storage-class", SEED)),
        ("x-amz-content-sha256", "STREAMING-AWS4-HMAC-SHA256-PAYLOAD"),
        ("Content-Encoding", "aws-chunked"), ("x-amz-decoded-content-length", "66560"),
        ("Content-Length", "66824")]))
    presign = ("X-Amz-Algorithm=AWS4-HMAC-SHA256"
               "&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20130524%2Fus-east-1%2Fs3%2Faws4_request"
               "&X-Amz-Date=20130524T000000Z&X-Amz-Expires=86400&X-Amz-SignedHeaders=host"
               "&X-Amz-Signature=aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404")
    write("sigv4", "aws-presigned", request(0, "GET", "/test.txt", presign, [("Host", HOST)]))
    write("sigv4", "v2-header", request(0, "GET", "/b/k", "", [
        ("Host", HOST), ("Date", "Fri, 24 May 2013 00:00:00 GMT"),
        ("Authorization", "AWS " + AK + ":frJIUN8DYpKDtOLCwo//yllqDzg=")]))
    write("sigv4", "v2-query", request(0, "GET", "/b/k",
                                       "AWSAccessKeyId=" + AK + "&Expires=1369400000&Signature=x%2By",
                                       [("Host", HOST)]))
    write("sigv4", "date-header", request(0, "GET", "/b/k", "", [
        ("Host", HOST), ("Date", "Friday, 24-May-13 00:00:00 GMT"),
        ("x-amz-content-sha256", "UNSIGNED-PAYLOAD"),
        ("Authorization", v4("host", "0" * 64))]))
    write("sigv4", "simple-v4", request(1, "PUT", "/b/k", "", [
        ("Host", HOST), ("x-amz-content-sha256", "STREAMING-UNSIGNED-PAYLOAD-TRAILER"),
        ("Authorization", v4("host", "0" * 64))]))
    write("sigv4", "simple-v2", request(1, "GET", "/b/k", "", [("Authorization", "AWS alice:xyz")]))
    write("sigv4", "simple-anonymous", request(1, "GET", "/", "", [("Host", HOST)]))
    write("sigv4", "long-secret", request(4, "GET", "/test.txt", presign, [("Host", HOST)]))


def hmac256(key, msg):
    return hmac.new(key, msg.encode() if isinstance(msg, str) else msg, hashlib.sha256).digest()


def signing_key():
    k = hmac256(("AWS4" + SK).encode(), "20130524")
    k = hmac256(k, "us-east-1")
    k = hmac256(k, "s3")
    return hmac256(k, "aws4_request")


def chunk_sig(prev, data):
    sts = "\n".join(["AWS4-HMAC-SHA256-PAYLOAD", DATE, SCOPE, prev, EMPTY,
                     hashlib.sha256(data).hexdigest()])
    return hmac.new(signing_key(), sts.encode(), hashlib.sha256).hexdigest()


def signed_body(chunks, trailers=None):
    out, prev = b"", SEED
    for data in chunks + [b""]:
        prev = chunk_sig(prev, data)
        out += b"%x;chunk-signature=%s\r\n%s" % (len(data), prev.encode(), data)
        out += b"\r\n" if data else b""
    if trailers is None:
        return out + b"\r\n"
    lines = "".join("%s:%s\n" % t for t in trailers)
    sts = "\n".join(["AWS4-HMAC-SHA256-TRAILER", DATE, SCOPE, prev,
                     hashlib.sha256(lines.encode()).hexdigest()])
    tsig = hmac.new(signing_key(), sts.encode(), hashlib.sha256).hexdigest()
    for name, value in trailers:
        out += b"%s:%s\r\n" % (name.encode(), value.encode())
    return out + b"x-amz-trailer-signature:%s\r\n\r\n" % tsig.encode()


def chunked_seeds():
    # mode byte, source max per read, caller step (1 + byte * 64), body
    def w(name, mode, smax, step, body):
        write("chunked", name, bytes([mode, smax, step]) + body)
    hello = [b"hello ", b"world" * 20, b"!"]
    w("signed", 1, 0, 0, signed_body(hello))
    w("signed-bytewise-eof", 1 | 8, 1, 0, signed_body(hello))
    w("signed-trailer", 2, 7, 3, signed_body(hello, [("x-amz-checksum-crc32c", "sOO8/Q==")]))
    w("unsigned-trailer", 3, 0, 1,
      b"6\r\nhello \r\n64\r\n" + b"world" * 20 + b"\r\n0\r\nx-amz-checksum-crc32:AAAAAA==\n\n")
    w("no-auth", 0, 3, 0, b"5\r\nhello\r\n0\r\n\r\n")
    w("signed-unverified", 4 | 8, 0, 0,
      b"5;chunk-signature=" + b"0" * 64 + b"\r\nhello\r\n0;chunk-signature=" + b"1" * 64
      + b"\r\n\r\n")
    w("bad-signature", 1, 0, 0, signed_body(hello).replace(b"world", b"World", 1))
    w("short", 3 | 8, 0, 0, b"10\r\nhello")


def names_seeds():
    for i, (b, k) in enumerate([
            (b"bucket", b"a/b/c"), (b"my.bucket-1", b"dir/"), (b"api", b".."),
            (b"b", b"a/../b"), (b"bucket", b"%2e%2e/x"), (b"xn--a", b"\xc0\xaf"),
            (b"192.168.0.1", b"\xe2\x82\xac/\xf0\x9f\x98\x80"), (b".atrium", b"tmp/put-1"),
            (b"bucket", b"a//b"), (b"bucket", b"./a"), (b"bucket", b"a" * 256),
            (b"bucket", (b"abcdefgh/" * 120)[:1024]), (b"bucket", b"\xed\xa0\x80")]):
        write("names", "%02d" % i, b + b"\0" + k)


def uri_seeds():
    for i, s in enumerate([
            b"\0prefix=a%2Fb&max-keys=2&delimiter=%2F&list-type=2",
            b"\1a+b=c+d&x&=y&z=",
            b"\2/bucket/key%20with%20space/%E2%82%AC/%00/%2e%2e",
            b"\0%zz", b"\0%", b"\0%4", b"\3" + b"&".join(b"p%d=%d" % (n, n) for n in range(70)),
            b"\0\xf4\x8f\xbf\xbf \xf4\x90\x80\x80 \xe0\x9f\xbf \xed\x9f\xbf \xc0\xaf",
            b"\0uploads&uploadId=2~abc&partNumber=10000&versionId=null",
            # characters XML 1.0 cannot carry, around those it can
            b"\0a\x01\t\n\r\x0c\x1f\x7f\xc2\x80\xef\xbf\xbd\xef\xbf\xbe\xef\xbf\xbf"
            b"\xee\x80\x80\xed\x9f\xbf"]):
        write("uri", "%02d" % i, s)


def xml_seeds():
    ns = b' xmlns="http://s3.amazonaws.com/doc/2006-03-01/"'
    for name, s in [
            ("location", b"<CreateBucketConfiguration" + ns +
             b"><LocationConstraint>eu-west-1</LocationConstraint></CreateBucketConfiguration>"),
            ("location-no-ns", b"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
             b"<CreateBucketConfiguration><LocationConstraint/></CreateBucketConfiguration>"),
            ("billion-laughs", b'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY a "aaaa">'
             b'<!ENTITY b "&a;&a;&a;&a;"><!ENTITY c "&b;&b;&b;&b;">]>'
             b"<CreateBucketConfiguration><LocationConstraint>&c;</LocationConstraint>"
             b"</CreateBucketConfiguration>"),
            ("xxe", b'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
             b"<CreateBucketConfiguration><LocationConstraint>&x;</LocationConstraint>"
             b"</CreateBucketConfiguration>"),
            ("nested", b"<CreateBucketConfiguration>" + b"<a>" * 300 + b"x" + b"</a>" * 300 +
             b"</CreateBucketConfiguration>"),
            ("complete-multipart", b"<CompleteMultipartUpload" + ns + b"><Part><PartNumber>1"
             b"</PartNumber><ETag>\"a54357aff0632cce46d942af68356b38\"</ETag></Part>"
             b"</CompleteMultipartUpload>"),
            ("delete-objects", b"<Delete><Quiet>true</Quiet><Object><Key>a&amp;b</Key></Object>"
             b"<Object><Key><![CDATA[c<d]]></Key><VersionId>null</VersionId></Object></Delete>"),
            ("utf16", "<CreateBucketConfiguration/>".encode("utf-16"))]:
        write("xml", name, s)


def mpu_complete_seeds():
    ns = b' xmlns="http://s3.amazonaws.com/doc/2006-03-01/"'
    part = b"<Part><PartNumber>%d</PartNumber><ETag>\"%s\"</ETag></Part>"
    for name, s in [
            ("two-parts", b"<CompleteMultipartUpload" + ns + b">" +
             part % (1, b"a54357aff0632cce46d942af68356b38") +
             part % (2, b"0c78aef83f66abc1fa1e8477f296d394") + b"</CompleteMultipartUpload>"),
            ("spaces-and-checksums", b"<?xml version=\"1.0\"?>\n<CompleteMultipartUpload>\n"
             b" <Part>\n  <ETag>a54357aff0632cce46d942af68356b38</ETag>\n"
             b"  <ChecksumCRC32>AAAAAA==</ChecksumCRC32>\n  <PartNumber> 10000 </PartNumber>\n"
             b" </Part>\n</CompleteMultipartUpload>"),
            ("bad-number", b"<CompleteMultipartUpload><Part><PartNumber>1x</PartNumber>"
             b"<ETag>e</ETag></Part></CompleteMultipartUpload>"),
            ("huge-number", b"<CompleteMultipartUpload><Part><PartNumber>99999999999999999999"
             b"</PartNumber><ETag>e</ETag></Part></CompleteMultipartUpload>"),
            ("no-parts", b"<CompleteMultipartUpload/>"),
            ("many", b"<CompleteMultipartUpload>" + b"".join(part % (i, b"%032x" % i)
                                                             for i in range(1, 300)) +
             b"</CompleteMultipartUpload>"),
            ("doctype", b'<!DOCTYPE r [<!ENTITY e "x">]><CompleteMultipartUpload><Part>'
             b"<PartNumber>1</PartNumber><ETag>&e;</ETag></Part></CompleteMultipartUpload>")]:
        write("mpu_complete", name, s)


def encoding_seeds():
    for name, s in [
            ("hex-sha", b"\1\0" + EMPTY.encode()), ("hex-upper", b"\1\0ABCDEF0123"),
            ("hex-odd", b"\1\0abc"), ("b64-md5", b"\0\x10" + b"1B2M2Y8AsgTpgAmY7PhCfg=="),
            ("b64-noncanonical", b"\0\x10QR=="), ("b64-one-pad", b"\0\xffAAA="),
            ("b64-bad", b"\0\x10A===AAAA"), ("b64-empty", b"\0\0")]:
        write("encoding", name, s)


def form_seeds():
    """POST Object forms: flags (read size - 1; 0x40: the body as a policy
    too), the boundary, '\n', the body."""
    import base64
    import json

    def part(b, name, val, extra=""):
        return (('--%s\r\nContent-Disposition: form-data; name="%s"%s\r\n\r\n'
                 % (b, name, extra)).encode() + val + b"\r\n")

    def form(name, flags, b, body):
        write("form", name, bytes([flags]) + b.encode() + b"\n" + body)

    pol = base64.b64encode(json.dumps({
        "expiration": "2013-05-25T00:00:00Z",
        "conditions": [{"bucket": "bucket"}, ["starts-with", "$key", "user/"],
                       ["content-length-range", 0, 100], {"x-amz-meta-a": "b"},
                       ["eq", "$Content-Type", "text/plain"]]}).encode())
    b = "----WebKitFormBoundary7MA4YWxkTrZu0gW"
    body = (part(b, "key", b"user/${filename}") + part(b, "Content-Type", b"text/plain") +
            part(b, "x-amz-meta-a", b"b") + part(b, "policy", pol) +
            part(b, "x-amz-algorithm", b"AWS4-HMAC-SHA256") +
            part(b, "x-amz-credential", b"AKID/20130524/us-east-1/s3/aws4_request") +
            part(b, "x-amz-signature", b"0" * 64) +
            ('--%s\r\nContent-Disposition: form-data; name="file"; filename="a.txt"\r\n'
             "Content-Type: text/plain\r\n\r\n" % b).encode() + b"hello\r\n--Xy\r\n" +
            ('\r\n--%s\r\nContent-Disposition: form-data; name="after"\r\n\r\nx\r\n'
             "--%s--\r\n" % (b, b)).encode())
    form("v4-form", 7, b, body)
    form("v4-form-bytewise", 0, b, body)
    body2 = (part("B", "key", b"k") + part("B", "AWSAccessKeyId", b"AKID") +
             part("B", "policy", pol) + part("B", "signature", b"AAAAAAAAAAAAAAAAAAAAAAAAAAA=") +
             b"--B\nContent-Disposition: form-data; name=file\n\nxyz\r\n--B--")
    form("v2-lf-headers", 3, "B", b"preamble\r\n" + body2)
    form("policy-doc", 0x40 | 63, "B", json.dumps({
        "expiration": "2013-05-25T00:00:00.000Z",
        "conditions": [["starts-with", "$Content-Type", "image/"], {"bucket": "bucket"},
                       ["content-length-range", 1, 2]]}).encode())
    form("no-file", 5, "zz", part("zz", "key", b"a") + b"--zz--\r\n")
    # ${filename} in several fields, a path as the file name, checksum fields
    body3 = (part("C", "key", b"up/${filename}") +
             part("C", "x-amz-meta-n", b"${filename}-${filename}") +
             part("C", "x-amz-checksum-crc64nvme", b"AAAAAAAAAAA=") +
             part("C", "x-amz-checksum-algorithm", b"CRC64NVME") +
             b'--C\r\nContent-Disposition: form-data; name="file"; filename="C:\\\\d\\\\a.txt"'
             b"\r\n\r\nabc\r\n--C--\r\n")
    form("filename-checksum", 11, "C", body3)
    form("unterminated", 9, "q",
         b'--q\r\nContent-Disposition: form-data; name="file"\r\n\r\nabc\r\n--')


def delete_seeds():
    obj = b"<Object><Key>%s</Key></Object>"
    for name, s in [
            ("quiet", b'<?xml version="1.0" encoding="UTF-8"?>\n<Delete xmlns='
             b'"http://s3.amazonaws.com/doc/2006-03-01/"><Quiet>true</Quiet>' + obj % b"a" +
             b"<Object><Key>b/c</Key><VersionId>null</VersionId></Object></Delete>"),
            ("escaped", b"<Delete><Quiet>FALSE</Quiet><Object><Key>a&amp;b&#13;&#9; </Key>"
             b"</Object><Object><Key><![CDATA[<x>]]></Key><VersionId/></Object></Delete>"),
            ("empty-key", b"<Delete>" + obj % b"" + b"</Delete>"),
            ("bad-quiet", b"<Delete><Quiet>yes</Quiet>" + obj % b"a" + b"</Delete>"),
            ("no-objects", b"<Delete><Quiet>true</Quiet></Delete>"),
            ("latin1", b'<?xml version="1.0" encoding="ISO-8859-1"?><Delete>' + obj % b"\xe9" +
             b"</Delete>"),
            ("1000", b"<Delete>" + b"".join(obj % (b"%d" % i) for i in range(1000)) +
             b"</Delete>"),
            ("1001", b"<Delete>" + b"".join(obj % (b"%d" % i) for i in range(1001)) +
             b"</Delete>")]:
        write("delete", name, s)


def tagging_seeds():
    """mode byte (0 object body, 1 bucket body, 2 x-amz-tagging), then the input."""
    def tags(pairs):
        return (b"<Tagging><TagSet>" + b"".join(
            b"<Tag><Key>%s</Key><Value>%s</Value></Tag>" % kv for kv in pairs) +
            b"</TagSet></Tagging>")
    ten = [(b"k%d" % i, b"v") for i in range(10)]
    for name, mode, s in [
            ("object", 0, tags([(b"Project", b"Blue"), (b"a&amp;b", b""), (b"\xe2\x82\xac", b"x y")])),
            ("object-11", 0, tags(ten + [(b"k10", b"v")])),
            ("bucket-50", 1, tags([(b"k%d" % i, b"v") for i in range(50)])),
            ("bucket-51", 1, tags([(b"k%d" % i, b"v") for i in range(51)])),
            ("duplicate", 0, tags([(b"a", b"1"), (b"a", b"2")])),
            ("no-value", 0, b"<Tagging><TagSet><Tag><Key>a</Key></Tag></TagSet></Tagging>"),
            ("empty-set", 1, b"<Tagging><TagSet/></Tagging>"),
            ("control", 0, tags([(b"a&#1;", b"b")])),
            ("header", 2, b"Project=Blue&a%26b=&%E2%82%AC=x+y&k"),
            ("header-11", 2, b"&".join(b"k%d=v" % i for i in range(11))),
            ("header-bad", 2, b"a=%zz"),
            ("header-long", 2, b"k" * 129 + b"=v&v=" + b"w" * 257)]:
        write("tagging", name, bytes([mode]) + s)


def copy_seeds():
    """8 bytes of source size (little-endian), then the header value."""
    size = (1000).to_bytes(8, "little")
    for name, s in [
            ("plain", b"/bucket/dir/key.txt"), ("no-slash", b"bucket/key"),
            ("encoded", b"/bucket/a%20b/%E2%82%AC%3Fq%2F"), ("version-null", b"b/k?versionId=null"),
            ("version-other", b"b/k?versionId=3HL4kqtJlcpXroDTDmJ"), ("nul", b"b/k%00x"),
            ("no-key", b"/bucket/"), ("long-bucket", b"a" * 64 + b"/k"), ("bad-escape", b"b/%zz"),
            ("range", b"bytes=0-999"), ("range-past", b"bytes=500-1000"),
            ("range-open", b"bytes=5-"), ("range-huge", b"bytes=0-99999999999999999999")]:
        write("copy", name, size + s)


def cond_seeds():
    """If-Match, If-None-Match, If-Modified-Since, If-Unmodified-Since, object date."""
    etag = b'"9a0364b9e99bb480dd25e1f0284c8555"'
    for name, s in [
            ("all", b"\n".join([etag, b'W/"x", *', b"Fri, 24 May 2013 00:00:00 GMT",
                               b"Friday, 24-May-13 00:00:00 GMT", b"Fri May 24 00:00:00 2013"])),
            ("lists", b'"a", ' + etag + b'\t,W/"b"\n*\n\n\nSun, 06 Nov 1994 08:49:37 GMT'),
            ("amz", b"20130524T000000Z\n20130231T000000Z\n2013 524T000000Z"),
            ("zone", b"\n\nFri, 24 May 2013 00:00:00 +0000\nFri, 31 Feb 2013 25:61:61 GMT"),
            ("unquoted", b"9A0364B9E99BB480DD25E1F0284C8555,\n\"\n,,,"),
            ("year", b"\n\nMon, 01 Jan 0001 00:00:00 GMT\nFri, 31 Dec 9999 23:59:59 GMT")]:
        write("cond", name, s)


def list_seeds():
    for name, s in [
            ("v2", b"list-type=2&max-keys=2&prefix=a%2F&delimiter=%2F&start-after=a%2Fb"
             b"&continuation-token=atr1.YS9j&fetch-owner=true"),
            ("v1", b"marker=x&max-keys=1000000000000&prefix=%FF%FF&encoding-type=url"),
            ("plain-token", b"continuation-token=some%2Fkey&max-keys=0"),
            ("bad", b"max-keys=-1&continuation-token=atr1.%%%&max-keys=1x"),
            ("multipart", b"uploads&max-uploads=1001&key-marker=k&upload-id-marker=2~x"
             b"&max-parts=10&part-number-marker=99999&partNumber=10001"),
            ("long-token", b"continuation-token=atr1." + b"QUFB" * 342)]:
        write("list", name, s)


def policy_seeds():
    """flags byte, the policy document, NUL, then user 0x01 action 0x01 key 0x01 values
    ("key=v1|v2;key2=v"). Documents from AWS's documentation and every element."""
    def req(flags, doc, user=b"alice", action=b"s3:GetObject", key=b"home/alice/x", values=b""):
        return bytes([flags]) + doc + b"\0" + b"\x01".join([user, action, key, values])
    head = b'{"Version":"2012-10-17","Statement":'
    obj = b'"Resource":"arn:aws:s3:::bkt/*"'
    for name, s in [
            ("home", req(0, head + b'[{"Effect":"Allow","Principal":"*","Action":"s3:ListBucket",'
                         b'"Resource":"arn:aws:s3:::bkt","Condition":{"StringLike":{"s3:prefix":'
                         b'["","home/","home/${aws:username}/"]}}},{"Effect":"Allow","Principal":"*",'
                         b'"Action":"s3:*","Resource":["arn:aws:s3:::bkt/home/${aws:username}",'
                         b'"arn:aws:s3:::bkt/home/${aws:username}/*"]}]}',
                         action=b"s3:ListBucket", values=b"s3:prefix=home/alice/")),
            ("tls-deny", req(1, head + b'[{"Sid":"A","Effect":"Allow","Principal":{"AWS":"*"},'
                             b'"Action":"s3:GetObject",' + obj + b'},{"Sid":"B","Effect":"Deny",'
                             b'"Principal":"*","Action":"s3:*","Resource":["arn:aws:s3:::bkt",'
                             b'"arn:aws:s3:::bkt/*"],"Condition":{"Bool":{"aws:SecureTransport":'
                             b'"false"}}}]}', values=b"aws:SecureTransport=false")),
            ("ip", req(1, head + b'{"Effect":"Allow","Principal":"*","Action":"s3:GetObject",' + obj +
                       b',"Condition":{"IpAddress":{"aws:SourceIp":["203.0.113.0/24",'
                       b'"2001:DB8:1234:5678::/64"]},"NotIpAddress":{"aws:SourceIp":"203.0.113.7"}}}}',
                       values=b"aws:SourceIp=2001:db8:1234:5678::1")),
            ("dates", req(0, head + b'{"Effect":"Deny","Principal":"*","Action":"s3:Get*",' + obj +
                          b',"Condition":{"DateGreaterThan":{"aws:CurrentTime":"2013-12-15T12:00:00Z"},'
                          b'"DateLessThanEquals":{"aws:EpochTime":1900000000},'
                          b'"DateNotEqualsIfExists":{"aws:CurrentTime":"2020-01-01T01:00:00+01:00"}}}}',
                          values=b"aws:CurrentTime=2020-06-01T00:00:00.5Z;aws:EpochTime=1700000000")),
            ("numbers", req(2, head + b'{"Effect":"Allow","Principal":{"CanonicalUser":"alice"},'
                            b'"Action":"s3:ListBucket","Resource":"arn:aws:s3:::bkt","Condition":'
                            b'{"NumericLessThanEquals":{"s3:max-keys":"10"},"NumericGreaterThan":'
                            b'{"s3:max-keys":1.5},"NumericNotEquals":{"s3:max-keys":[3,"4e0"]}}}}',
                            action=b"s3:ListBucket", values=b"s3:max-keys=9")),
            ("sets", req(0, head + b'{"Effect":"Allow","Principal":"*","Action":"s3:PutObject*",' + obj +
                         b',"Condition":{"ForAllValues:StringEquals":{"s3:RequestObjectTagKeys":'
                         b'["a","b"]},"ForAnyValue:StringLikeIfExists":{"aws:TagKeys":"x*"},'
                         b'"StringEquals":{"s3:RequestObjectTag/Color":"red"}}}}',
                         action=b"s3:PutObject", values=b"s3:RequestObjectTagKeys=a|b;"
                         b"s3:RequestObjectTag/Color=red")),
            ("arn-null-bin", req(0, head + b'{"Effect":"Allow","Principal":"*","Action":"s3:GetObject",' +
                                 obj + b',"Condition":{"ArnLike":{"aws:SourceArn":"arn:aws:sns:*:1:t*"},'
                                 b'"ArnNotEquals":{"aws:PrincipalArn":"arn:aws:iam::1:user/x"},'
                                 b'"Null":{"s3:x-amz-acl":true},"BinaryEquals":{"aws:UserAgent":'
                                 b'"aGVsbG8="}}}}', values=b"aws:SourceArn=arn:aws:sns:r:1:t1;"
                                 b"aws:UserAgent=hello")),
            ("strings", req(0, head + b'{"Effect":"Allow","Principal":"*","Action":"s3:GetObject",' +
                            obj + b',"Condition":{"StringEqualsIgnoreCase":{"s3:prefix":"HOME/"},'
                            b'"StringNotLike":{"s3:delimiter":["a${*}","${aws:userid, \x27anon\x27}?"]},'
                            b'"StringNotEqualsIgnoreCaseIfExists":{"aws:Referer":"x"}}}}',
                            values=b"s3:prefix=home/;s3:delimiter=/")),
            ("not-elements", req(0, head + b'[{"Effect":"Deny","NotPrincipal":{"AWS":['
                                 b'"arn:aws:iam::123456789012:user/alice","123456789012"]},'
                                 b'"NotAction":"s3:Get*","NotResource":"arn:aws:s3:::bkt/pub/*"},'
                                 b'{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::123456789012:root",'
                                 b'"Service":"s3.amazonaws.com","Federated":"graph.facebook.com"},'
                                 b'"Action":"s3:*","Resource":"arn:aws:s3:::bkt*"}]}',
                                 user=b"bob", action=b"s3:DeleteObject")),
            ("public-pins", req(3, head + b'[{"Effect":"Allow","Principal":"*","Action":"s3:GetObject",' +
                                obj + b',"Condition":{"StringEquals":{"aws:SourceVpc":"vpc-1"}}},'
                                b'{"Effect":"Allow","Principal":"*","Action":"s3:GetObject",' + obj +
                                b',"Condition":{"IpAddress":{"aws:SourceIp":"10.0.0.0/8"}}}]}')),
            ("many-values", req(4, head + b'{"Effect":"Deny","Principal":"*","Action":"s3:GetObject",' +
                                obj + b',"Condition":{"ForAllValues:StringEquals":{"aws:TagKeys":'
                                b'"v"}}}}', key=b"v")),
            ("old-version", req(8, b'{"Version":"2008-10-17","Id":"x","Statement":{"Effect":"Allow",'
                                b'"Principal":"*","Action":"s3:GetObject","Resource":'
                                b'"arn:aws:s3:::bkt/${aws:username}"}}', key=b"${aws:username}")),
            ("malformed", req(0, b'{"Version":"2012-10-17","Statement":[{"Effect":"Allow",'
                              b'"Principal":"*","Action":"s3:GetObject","Resource":"*"}],'
                              b'"Statement":[]}')),
            ("bad-condition", req(0, head + b'{"Effect":"Allow","Principal":"*","Action":"s3:GetObject",' +
                                  obj + b',"Condition":{"ForAnyValue:Null":{"s3:prefix":"x"}}}}'))]:
        write("policy", name, s)


def acl_seeds():
    """mode byte (0 ACL document, 1 grant header, 2 public access block,
    3 ownership controls), then the input."""
    xsi = 'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"'
    doc = ('<AccessControlPolicy xmlns="http://s3.amazonaws.com/doc/2006-03-01/">'
           '<Owner><ID>alice</ID></Owner><AccessControlList>'
           '<Grant><Grantee %s xsi:type="CanonicalUser"><ID>alice</ID></Grantee>'
           '<Permission>FULL_CONTROL</Permission></Grant>'
           '<Grant><Grantee %s xsi:type="Group"><URI>http://acs.amazonaws.com/groups/global/'
           'AllUsers</URI></Grantee><Permission>READ</Permission></Grant>'
           '<Grant><Grantee %s xsi:type="AmazonCustomerByEmail"><EmailAddress>a@b</EmailAddress>'
           '</Grantee><Permission>WRITE</Permission></Grant>'
           '</AccessControlList></AccessControlPolicy>') % (xsi, xsi, xsi)
    write("acl", "doc", bytes([0]) + doc.encode())
    write("acl", "doc-one", bytes([0]) + doc.split("<Grant><Grantee %s xsi:type=\"Group\">" % xsi)[0]
          .encode() + b"</AccessControlList></AccessControlPolicy>")
    for i, h in enumerate(['id="bob"', 'id="bob", uri="http://acs.amazonaws.com/groups/global/'
                           'AuthenticatedUsers"', "id=bob,id=carol", 'emailAddress="x@y"',
                           'uri="http://acs.amazonaws.com/groups/s3/LogDelivery"', 'id=""']):
        write("acl", "grant-%d" % i, bytes([1]) + h.encode())
    write("acl", "pab", bytes([2]) + b'<PublicAccessBlockConfiguration><BlockPublicAcls>true'
          b'</BlockPublicAcls><IgnorePublicAcls>FALSE</IgnorePublicAcls><BlockPublicPolicy>true'
          b'</BlockPublicPolicy><RestrictPublicBuckets>false</RestrictPublicBuckets>'
          b'</PublicAccessBlockConfiguration>')
    write("acl", "ownership", bytes([3]) + b'<OwnershipControls><Rule><ObjectOwnership>'
          b'BucketOwnerEnforced</ObjectOwnership></Rule></OwnershipControls>')


def ini_seeds():
    write("ini", "credentials", b"[default]\naws_access_key_id = AKID\n"
          b"aws_secret_access_key = secret/+key\n\n[dev]\naws_access_key_id=AK2\n")
    write("ini", "config", b"# c\n; c\n[default]\nendpoint_url = https://127.0.0.1:39999\n"
          b"region: eu-west-1\n[profile dev]\ns3 =\n    addressing_style = path\n"
          b"ca_bundle = /etc/ssl/certs/ca.pem\r\n")
    write("ini", "broken", b"[open\nkey\n = v\n")


def cors_seeds():
    """CORSConfiguration bodies, then optionally "\n--\n" and a request:
    origin, method, request headers, one a line."""
    rule = ("<CORSRule><ID>web</ID><AllowedHeader>content-type</AllowedHeader>"
            "<AllowedHeader>x-amz-*</AllowedHeader><AllowedMethod>GET</AllowedMethod>"
            "<AllowedMethod>PUT</AllowedMethod><AllowedOrigin>https://*.example.org"
            "</AllowedOrigin><ExposeHeader>ETag</ExposeHeader>"
            "<MaxAgeSeconds>600</MaxAgeSeconds></CORSRule>")
    star = ("<CORSRule><AllowedMethod>GET</AllowedMethod><AllowedOrigin>*</AllowedOrigin>"
            "</CORSRule>")
    doc = ('<CORSConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/">%s%s'
           "</CORSConfiguration>" % (rule, star))
    write("cors", "two-rules", doc)
    write("cors", "preflight", doc + "\n--\nhttps://a.example.org\nPUT\nContent-Type, X-Amz-Date")
    write("cors", "actual", doc + "\n--\nhttp://anyone\nGET\n")
    write("cors", "bad-method", "<CORSConfiguration><CORSRule><AllowedMethod>PATCH"
          "</AllowedMethod><AllowedOrigin>*</AllowedOrigin></CORSRule></CORSConfiguration>")
    write("cors", "two-stars", "<CORSConfiguration><CORSRule><AllowedMethod>GET"
          "</AllowedMethod><AllowedOrigin>*.*</AllowedOrigin></CORSRule></CORSConfiguration>")


def logging_seeds():
    """BucketLoggingStatus bodies (also the fields of an access log line)."""
    write("logging", "enabled", '<BucketLoggingStatus xmlns="http://s3.amazonaws.com/doc/'
          '2006-03-01/"><LoggingEnabled><TargetBucket>logs-bucket</TargetBucket>'
          "<TargetPrefix>access/</TargetPrefix></LoggingEnabled></BucketLoggingStatus>")
    write("logging", "off", "<BucketLoggingStatus/>")
    write("logging", "grants", "<BucketLoggingStatus><LoggingEnabled><TargetBucket>b-b"
          "</TargetBucket><TargetPrefix/><TargetGrants/></LoggingEnabled></BucketLoggingStatus>")
    write("logging", "line-bytes", 'GET /a?X-Amz-Signature=1&Signature=2 "q"\r\n\x01\xff')


def lifecycle_seeds():
    """LifecycleConfiguration bodies, then optionally "\n--\n" and an object:
    key, size, mtime, tags, one a line."""
    rules = ("<Rule><ID>logs</ID><Filter><Prefix>logs/</Prefix></Filter><Status>Enabled"
             "</Status><Expiration><Days>30</Days></Expiration><NoncurrentVersionExpiration>"
             "<NoncurrentDays>7</NoncurrentDays><NewerNoncurrentVersions>2"
             "</NewerNoncurrentVersions></NoncurrentVersionExpiration>"
             "<AbortIncompleteMultipartUpload><DaysAfterInitiation>3</DaysAfterInitiation>"
             "</AbortIncompleteMultipartUpload></Rule>"
             "<Rule><Filter><And><Prefix>tmp/</Prefix><Tag><Key>k</Key><Value>v</Value></Tag>"
             "<ObjectSizeGreaterThan>10</ObjectSizeGreaterThan><ObjectSizeLessThan>1000"
             "</ObjectSizeLessThan></And></Filter><Status>Enabled</Status><Expiration>"
             "<Date>2030-01-01T00:00:00.000Z</Date></Expiration></Rule>"
             "<Rule><ID>legacy</ID><Prefix></Prefix><Status>Disabled</Status><Expiration>"
             "<ExpiredObjectDeleteMarker>true</ExpiredObjectDeleteMarker></Expiration></Rule>")
    doc = ('<LifecycleConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/">%s'
           "</LifecycleConfiguration>" % rules)
    write("lifecycle", "three-rules", doc)
    write("lifecycle", "object", doc + "\n--\ntmp/a\n100\n1600000000\nk=v&x=%20")
    write("lifecycle", "logs", doc + "\n--\nlogs/2020/a\n0\n1609495200\n")
    write("lifecycle", "transition", "<LifecycleConfiguration><Rule><Filter/><Status>Enabled"
          "</Status><Transition><Days>1</Days><StorageClass>GLACIER</StorageClass>"
          "</Transition></Rule></LifecycleConfiguration>")
    write("lifecycle", "bad-date", "<LifecycleConfiguration><Rule><Filter/><Status>Enabled"
          "</Status><Expiration><Date>2030-01-01T10:00:00Z</Date></Expiration></Rule>"
          "</LifecycleConfiguration>")


if __name__ == "__main__":
    ini_seeds()
    sigv4_seeds()
    chunked_seeds()
    names_seeds()
    uri_seeds()
    xml_seeds()
    encoding_seeds()
    mpu_complete_seeds()
    form_seeds()
    delete_seeds()
    tagging_seeds()
    acl_seeds()
    copy_seeds()
    cond_seeds()
    list_seeds()
    policy_seeds()
    cors_seeds()
    logging_seeds()
    lifecycle_seeds()
