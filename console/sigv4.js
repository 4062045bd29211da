// sigv4.js — AWS Signature Version 4 in the browser, with WebCrypto
// (SubtleCrypto HMAC-SHA256 and SHA-256). The console signs every S3 and
// admin request itself, exactly as boto3 would: the daemon checks it like
// any other client's (s3/s3_auth.c). No secret ever leaves the page.
//
// Traps (docs/s3-compatibility.md, DESIGN.md "Traps"): the canonical URI
// is the path as sent, each byte outside RFC 3986's unreserved set
// percent-encoded once with '/' kept; the canonical query is every
// name=value pair encoded the same way ('/' too) and sorted by name, then
// value; "host" is always signed.

const enc = new TextEncoder();

export function hex(buf) {
  return Array.from(new Uint8Array(buf), (b) => b.toString(16).padStart(2, "0")).join("");
}

export function uriEncode(s, keepSlash) {
  let out = "";
  for (const b of enc.encode(String(s))) {
    const c = String.fromCharCode(b);
    if (/[A-Za-z0-9\-_.~]/.test(c) || (keepSlash && c === "/")) out += c;
    else out += "%" + b.toString(16).toUpperCase().padStart(2, "0");
  }
  return out;
}

export async function sha256Hex(data) {
  const bytes = typeof data === "string" ? enc.encode(data) : data;
  return hex(await crypto.subtle.digest("SHA-256", bytes));
}

async function hmac(key, msg) {
  const k = await crypto.subtle.importKey("raw", typeof key === "string" ? enc.encode(key) : key,
    { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
  return new Uint8Array(await crypto.subtle.sign("HMAC", k, enc.encode(msg)));
}

// "20240101T000000Z" and "20240101"
export function amzDate(now) {
  const iso = (now || new Date()).toISOString().replace(/[-:]/g, "").replace(/\.\d{3}/, "");
  return { stamp: iso, day: iso.slice(0, 8) };
}

export function canonicalQuery(pairs) {
  return pairs.map(([k, v]) => [uriEncode(k, false), uriEncode(v == null ? "" : v, false)])
    .sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : 0))
    .map(([k, v]) => k + "=" + v).join("&");
}

async function signature(creds, day, stamp, region, creq) {
  const scope = `${day}/${region}/s3/aws4_request`;
  const sts = `AWS4-HMAC-SHA256\n${stamp}\n${scope}\n${await sha256Hex(creq)}`;
  let k = await hmac("AWS4" + creds.secretKey, day);
  k = await hmac(k, region);
  k = await hmac(k, "s3");
  k = await hmac(k, "aws4_request");
  return { scope, sig: hex(await hmac(k, sts)) };
}

// Signs a request: returns { url, headers } to send. path is the decoded
// path ("/bucket/some key"); query a list of [name, value]; payloadHash
// the body's SHA-256 in hex or "UNSIGNED-PAYLOAD"; amz more x-amz-*
// headers (lower-case names), signed and sent: S3 wants every one signed.
export async function signRequest(creds, { method, path, query = [], payloadHash, host, amz = {}, region = "us-east-1", now }) {
  const { stamp, day } = amzDate(now);
  const curi = uriEncode(path, true);
  const cq = canonicalQuery(query);
  const hdrs = { ...amz, host, "x-amz-content-sha256": payloadHash, "x-amz-date": stamp };
  const names = Object.keys(hdrs).sort();
  const chdrs = names.map((n) => `${n}:${String(hdrs[n]).trim()}\n`).join("");
  const signed = names.join(";");
  const creq = `${method}\n${curi}\n${cq}\n${chdrs}\n${signed}\n${payloadHash}`;
  const { scope, sig } = await signature(creds, day, stamp, region, creq);
  return {
    url: curi + (cq ? "?" + cq : ""),
    headers: {
      ...amz,
      "x-amz-content-sha256": payloadHash,
      "x-amz-date": stamp,
      authorization: `AWS4-HMAC-SHA256 Credential=${creds.accessKey}/${scope}, ` +
        `SignedHeaders=${signed}, Signature=${sig}`,
    },
  };
}

// A presigned URL (query-string SigV4), valid for expires seconds.
export async function presign(creds, { method, path, query = [], host, expires, region = "us-east-1", now }) {
  const { stamp, day } = amzDate(now);
  const scope = `${day}/${region}/s3/aws4_request`;
  const q = query.concat([
    ["X-Amz-Algorithm", "AWS4-HMAC-SHA256"],
    ["X-Amz-Credential", `${creds.accessKey}/${scope}`],
    ["X-Amz-Date", stamp],
    ["X-Amz-Expires", String(expires)],
    ["X-Amz-SignedHeaders", "host"],
  ]);
  const curi = uriEncode(path, true);
  const cq = canonicalQuery(q);
  const creq = `${method}\n${curi}\n${cq}\nhost:${host}\n\nhost\nUNSIGNED-PAYLOAD`;
  const { sig } = await signature(creds, day, stamp, region, creq);
  return `${curi}?${cq}&X-Amz-Signature=${sig}`;
}
