// api.js — the S3 and admin calls the console makes, each signed with the
// signed-in user's keys (sigv4.js). Errors become ApiError with the
// server's code and message (S3 XML errors, admin JSON errors).
import { signRequest, presign, sha256Hex } from "./sigv4.js";

const EMPTY_SHA256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
export const PART_SIZE = 8 * 1024 * 1024;
export const MULTIPART_THRESHOLD = 16 * 1024 * 1024;

export class ApiError extends Error {
  constructor(status, code, message) {
    super(`${code}: ${message}`);
    this.status = status;
    this.code = code;
    this.detail = message;
  }
}

function xmlDoc(text) {
  return new DOMParser().parseFromString(text, "application/xml");
}

function tags(node, name) {
  return Array.from(node.getElementsByTagNameNS("*", name));
}

function text(node, name) {
  const n = tags(node, name)[0];
  return n ? n.textContent : "";
}

// Direct children only (an Owner's ID is not the object's).
function child(node, name) {
  for (const c of node.children) if (c.localName === name) return c;
  return null;
}

async function s3Error(resp) {
  const body = await resp.text().catch(() => "");
  if (body.startsWith("<") || body.startsWith("<?xml")) {
    const d = xmlDoc(body);
    const code = text(d, "Code");
    if (code) return new ApiError(resp.status, code, text(d, "Message"));
  }
  const names = { 403: "AccessDenied", 404: "NotFound", 400: "BadRequest" };
  return new ApiError(resp.status, names[resp.status] || "HTTP" + resp.status, resp.statusText || "request failed");
}

export function objectPath(bucket, key) {
  return "/" + bucket + (key != null ? "/" + key : "");
}

export class Api {
  constructor(creds) {
    this.creds = creds;
    this.host = location.host;
  }

  async signed(method, path, query, payloadHash, amz = {}) {
    return signRequest(this.creds, { method, path, query, payloadHash, host: this.host, amz });
  }

  // One signed S3 request; returns the Response (throws ApiError unless 2xx).
  // The x-amz-* headers among headers are signed (S3 refuses them unsigned).
  async s3(method, path, { query = [], body = null, headers = {}, signal } = {}) {
    let hash = EMPTY_SHA256;
    if (typeof body === "string") hash = await sha256Hex(body);
    else if (body) hash = "UNSIGNED-PAYLOAD";
    const amz = {};
    for (const [k, v] of Object.entries(headers)) if (k.toLowerCase().startsWith("x-amz-")) amz[k.toLowerCase()] = v;
    const s = await this.signed(method, path, query, hash, amz);
    const resp = await fetch(s.url, { method, headers: { ...headers, ...s.headers }, body, signal, cache: "no-store" });
    if (!resp.ok) throw await s3Error(resp);
    return resp;
  }

  // One signed admin API request; returns its JSON (or text).
  async admin(method, endpoint, query = [], asText = false) {
    const path = "/api/v1/" + endpoint;
    const s = await this.signed(method, path, query, EMPTY_SHA256);
    const resp = await fetch(s.url, { method, headers: s.headers, cache: "no-store" });
    if (!resp.ok) {
      let j = {};
      try { j = await resp.json(); } catch (e) { /* not JSON */ }
      throw new ApiError(resp.status, j.error || "HTTP" + resp.status, j.message || resp.statusText);
    }
    return asText ? resp.text() : resp.json();
  }

  async listBuckets() {
    const d = xmlDoc(await (await this.s3("GET", "/")).text());
    return tags(d, "Bucket").map((b) => ({ name: text(b, "Name"), created: text(b, "CreationDate") }));
  }

  // One page of a listing: a directory's entries, or with recursive
  // everything below prefix (no delimiter).
  async listObjects(bucket, prefix, token, maxKeys, recursive = false) {
    const q = [["list-type", "2"], ["prefix", prefix], ["fetch-owner", "true"],
      ["max-keys", String(maxKeys)]];
    if (!recursive) q.push(["delimiter", "/"]);
    if (token) q.push(["continuation-token", token]);
    const d = xmlDoc(await (await this.s3("GET", objectPath(bucket), { query: q })).text());
    const root = d.documentElement;
    const objects = [];
    const prefixes = [];
    for (const c of root.children) {
      if (c.localName === "Contents") {
        const owner = child(c, "Owner");
        objects.push({
          key: child(c, "Key").textContent,
          size: Number(child(c, "Size").textContent),
          lastModified: child(c, "LastModified").textContent,
          etag: child(c, "ETag") ? child(c, "ETag").textContent : "",
          owner: owner ? (text(owner, "ID") || text(owner, "DisplayName")) : "",  // the user, as fs ls shows it
        });
      } else if (c.localName === "CommonPrefixes") {
        prefixes.push(text(c, "Prefix"));
      }
    }
    return {
      objects, prefixes,
      truncated: text(root, "IsTruncated") === "true",
      next: text(root, "NextContinuationToken"),
    };
  }

  createBucket(bucket) { return this.s3("PUT", objectPath(bucket)); }
  deleteBucket(bucket) { return this.s3("DELETE", objectPath(bucket)); }
  deleteObject(bucket, key) { return this.s3("DELETE", objectPath(bucket, key)); }
  makeDirectory(bucket, key) { return this.s3("PUT", objectPath(bucket, key), { body: "" }); }
  // With the stored checksums (x-amz-checksum-*), when the object has any.
  headObject(bucket, key) {
    return this.s3("HEAD", objectPath(bucket, key), { headers: { "x-amz-checksum-mode": "ENABLED" } });
  }

  async objectTags(bucket, key) {
    const d = xmlDoc(await (await this.s3("GET", objectPath(bucket, key), { query: [["tagging", ""]] })).text());
    return tags(d, "Tag").map((t) => [text(t, "Key"), text(t, "Value")]);
  }

  presignGet(bucket, key, expires, query = []) {
    return presign(this.creds, { method: "GET", path: objectPath(bucket, key), query, host: this.host, expires });
  }

  // A PUT through XMLHttpRequest (fetch reports no upload progress).
  // upload.onprogress(loaded); upload.xhr is set for cancelling. Resolves
  // to the ETag.
  async xhrPut(path, query, blob, onprogress, job) {
    const s = await this.signed("PUT", path, query, "UNSIGNED-PAYLOAD");
    return new Promise((resolve, reject) => {
      const xhr = new XMLHttpRequest();
      job.xhr = xhr;
      xhr.open("PUT", s.url);
      for (const [k, v] of Object.entries(s.headers)) xhr.setRequestHeader(k, v);
      if (blob.type) xhr.setRequestHeader("content-type", blob.type);
      xhr.upload.onprogress = (e) => onprogress(e.loaded);
      xhr.onload = () => {
        if (xhr.status >= 200 && xhr.status < 300) {
          resolve(xhr.getResponseHeader("ETag"));
          return;
        }
        const d = xmlDoc(xhr.responseText || "");
        reject(new ApiError(xhr.status, text(d, "Code") || "HTTP" + xhr.status, text(d, "Message") || xhr.statusText));
      };
      xhr.onerror = () => reject(new ApiError(0, "NetworkError", "the upload failed"));
      xhr.onabort = () => reject(new ApiError(0, "Cancelled", "the upload was cancelled"));
      xhr.send(blob);
    });
  }

  // Uploads a file: one PUT up to MULTIPART_THRESHOLD, else a multipart
  // upload of PART_SIZE parts (aborted on failure or cancel). job:
  // { cancelled, xhr } shared with the caller's cancel button.
  async upload(bucket, key, file, onprogress, job) {
    const path = objectPath(bucket, key);
    if (file.size <= MULTIPART_THRESHOLD) {
      await this.xhrPut(path, [], file, (n) => onprogress(n), job);
      return;
    }
    const created = xmlDoc(await (await this.s3("POST", path, {
      query: [["uploads", ""]], headers: file.type ? { "content-type": file.type } : {},
    })).text());
    const uploadId = text(created, "UploadId");
    const etags = [];
    try {
      for (let off = 0, n = 1; off < file.size; off += PART_SIZE, n++) {
        if (job.cancelled) throw new ApiError(0, "Cancelled", "the upload was cancelled");
        const part = file.slice(off, Math.min(off + PART_SIZE, file.size));
        etags.push(await this.xhrPut(path, [["partNumber", String(n)], ["uploadId", uploadId]], part,
          (loaded) => onprogress(off + loaded), job));
      }
      const body = "<CompleteMultipartUpload>" + etags.map((e, i) =>
        `<Part><PartNumber>${i + 1}</PartNumber><ETag>${e.replace(/[<&>]/g, "")}</ETag></Part>`).join("") +
        "</CompleteMultipartUpload>";
      const resp = await this.s3("POST", path, { query: [["uploadId", uploadId]], body });
      // A failure after the 200 is an XML error in the body.
      const d = xmlDoc(await resp.text());
      if (d.documentElement && d.documentElement.localName === "Error")
        throw new ApiError(resp.status, text(d, "Code"), text(d, "Message"));
    } catch (e) {
      await this.s3("DELETE", path, { query: [["uploadId", uploadId]] }).catch(() => {});
      throw e;
    }
  }

  fsList(path, start, max) {
    const q = [["path", path], ["max", String(max)]];
    if (start) q.push(["start", start]);
    return this.admin("GET", "fs/list", q);
  }
  fsStat(path) { return this.admin("GET", "fs/stat", [["path", path]]); }
  fsAction(action, path) { return this.admin("POST", "fs/" + action, [["path", path]]); }
  report() { return this.admin("GET", "report"); }
  mounts() { return this.admin("GET", "fs/mounts"); }
  // Readiness (never authenticated): {"status":"ready"} or 503 with the
  // part that failed (store, ufs, mount, stopping) and why.
  async ready() {
    const resp = await fetch("/api/v1/ready", { cache: "no-store" });
    return resp.json();
  }
  metrics() { return this.admin("GET", "metrics", [], true); }
}
