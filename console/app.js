// app.js — the console's views: sign-in, buckets and objects, overview.
// Every name that comes from the server is put in the page with
// textContent or as an attribute value, never as HTML: an object called
// "<img src=x onerror=alert(1)>" is shown as those characters.
import { Api, ApiError, MULTIPART_THRESHOLD } from "./api.js";
import { drawChart, human } from "./chart.js";

const PAGE = 100;          // keys a listing page asks for
const POLL_MS = 2000;      // overview polling interval
const SAMPLES = 90;        // samples kept for the charts (3 minutes)
const STORE = "atrium.console.credentials";

const $ = (id) => document.getElementById(id);
let api = null;
// Bumped at sign-out: an answer that arrives after it is dropped, never shown.
let epoch = 0;

// ---- small DOM helpers (text only) ----
function h(tag, props = {}, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(props)) {
    if (k === "text") e.textContent = v;
    else if (k === "class") e.className = v;
    else if (k.startsWith("on")) e.addEventListener(k.slice(2), v);
    else e.setAttribute(k, v);
  }
  for (const c of children) e.append(c);
  return e;
}

function facts(dl, pairs) {
  dl.replaceChildren(...pairs.flatMap(([k, v]) => [h("dt", { text: k }), h("dd", { text: String(v) })]));
}

function showError(e) {
  const a = $("alert");
  a.textContent = e instanceof ApiError ? `${e.code}: ${e.detail}` : String(e && e.message || e);
  a.hidden = false;
}

function clearError() { $("alert").hidden = true; $("alert").textContent = ""; }
function say(msg) { $("status").textContent = msg; }

function size(n) {
  if (n < 1024) return n + " B";
  const u = ["KiB", "MiB", "GiB", "TiB"];
  let i = -1;
  do { n /= 1024; i++; } while (n >= 1024 && i < u.length - 1);
  return n.toFixed(n >= 100 ? 0 : 1) + " " + u[i];
}

function when(iso) {
  const d = new Date(iso);
  return isNaN(d) ? iso : d.toLocaleString();
}

function modeString(mode, dir) {
  const bits = "rwxrwxrwx";
  let s = dir ? "d" : "-";
  for (let i = 0; i < 9; i++) s += mode & (1 << (8 - i)) ? bits[i] : "-";
  return s;
}

function confirmDialog(text, yes = "Delete") {
  const d = $("confirm-dialog");
  $("confirm-text").textContent = text;
  $("confirm-yes").textContent = yes;
  return new Promise((resolve) => {
    const done = (v) => { d.close(); $("confirm-yes").onclick = $("confirm-no").onclick = d.oncancel = null; resolve(v); };
    $("confirm-yes").onclick = () => done(true);
    $("confirm-no").onclick = () => done(false);
    d.oncancel = () => done(false);
    d.showModal();
    $("confirm-no").focus();
  });
}

// ---- sign-in ----
function loadCreds() {
  try { return JSON.parse(sessionStorage.getItem(STORE) || "null"); } catch (e) { return null; }
}

async function signIn(ev) {
  ev.preventDefault();
  clearError();
  const creds = { accessKey: $("access-key").value.trim(), secretKey: $("secret-key").value };
  if (!creds.accessKey || !creds.secretKey) {
    showError("Enter an access key and a secret key.");
    return;
  }
  if (!window.crypto || !crypto.subtle) {
    showError("This browser offers no WebCrypto here: the console needs HTTPS (or localhost) to sign requests.");
    return;
  }
  const trial = new Api(creds);
  try {
    await trial.listBuckets();
  } catch (e) {
    showError(e);
    return;
  }
  sessionStorage.setItem(STORE, JSON.stringify(creds));
  $("secret-key").value = "";
  api = trial;
  say("Signed in as " + creds.accessKey);
  location.hash = "#/b";
  route();
}

function signOut() {
  sessionStorage.removeItem(STORE);
  api = null;
  epoch++;
  listing = null;
  current = null;
  stopPolling();
  $("rows").replaceChildren();
  $("uploads").replaceChildren();
  $("user-rows").replaceChildren();
  $("new-keys-list").replaceChildren();
  $("new-keys").hidden = true;
  $("access-key").value = "";
  $("secret-key").value = "";
  clearError();
  say("Signed out");
  location.hash = "";
  route();
}

// ---- routing: #/overview, #/b (buckets), #/b/BUCKET/PREFIX ----
function parseHash() {
  const hsh = location.hash.replace(/^#/, "");
  if (hsh === "/overview") return { view: "overview" };
  if (hsh === "/users") return { view: "users" };
  const m = hsh.match(/^\/b\/([^/]+)\/?(.*)$/);
  if (m) return { view: "browse", bucket: decodeURIComponent(m[1]), prefix: decodeURIComponent(m[2]) };
  return { view: "browse" };
}

export function browseHash(bucket, prefix) {
  return bucket ? `#/b/${encodeURIComponent(bucket)}/${encodeURIComponent(prefix || "")}` : "#/b";
}

function showView(name) {
  for (const v of ["signin", "browse", "overview", "users"]) $(v + "-view").hidden = v !== name;
  $("nav").hidden = $("signout").hidden = name === "signin";
  $("nav-overview").toggleAttribute("aria-current", name === "overview");
  $("nav-browse").toggleAttribute("aria-current", name === "browse");
  $("nav-users").toggleAttribute("aria-current", name === "users");
  if (name === "users") $("nav-users").setAttribute("aria-current", "page");
  if (name === "overview") $("nav-overview").setAttribute("aria-current", "page");
  if (name === "browse") $("nav-browse").setAttribute("aria-current", "page");
}

function route() {
  const creds = loadCreds();
  if (!creds) {
    api = null;
    stopPolling();
    showView("signin");
    $("whoami").textContent = "";
    document.title = "Sign in — Atrium console";
    $("access-key").focus();
    return;
  }
  if (!api) api = new Api(creds);
  $("whoami").textContent = creds.accessKey;
  const r = parseHash();
  clearError();
  if (r.view === "overview") {
    showView("overview");
    document.title = "Overview — Atrium console";
    startPolling();
    return;
  }
  stopPolling();
  if (r.view === "users") {
    showView("users");
    document.title = "Users — Atrium console";
    $("new-keys").hidden = true;
    $("new-keys-list").replaceChildren();
    openUsers();
    return;
  }
  showView("browse");
  if (r.bucket) openDirectory(r.bucket, r.prefix);
  else openBuckets();
}

// ---- browse ----
let listing = null; // { bucket, prefix, filter, token, seq }
let listSeq = 0;    // each listing (or filter) gets a new seq; late answers are dropped

function crumbs(bucket, prefix) {
  const items = [h("li", {}, h("a", { href: "#/b", text: "Buckets" }))];
  if (bucket) {
    items.push(h("li", {}, h("a", { href: browseHash(bucket, ""), text: bucket })));
    const parts = prefix.split("/").filter((p, i, a) => i < a.length - 1);
    let acc = "";
    for (const p of parts) {
      acc += p + "/";
      items.push(h("li", {}, h("a", { href: browseHash(bucket, acc), text: p })));
    }
  }
  const last = items[items.length - 1].firstChild;
  last.setAttribute("aria-current", "page");
  $("crumbs").replaceChildren(...items);
}

// Column headers; those with a sort key are buttons that sort the rows
// shown (name, size, date), again in the other direction on a second click.
let sortBy = null; // { key, dir }

function head(cols) {
  sortBy = null;
  $("listing-head").replaceChildren(h("tr", {}, ...cols.map(([t, cls, key]) => {
    if (!key) return h("th", { scope: "col", class: cls || "", text: t });
    return h("th", { scope: "col", class: cls || "", "data-sort": key, "aria-sort": "none" },
      h("button", { type: "button", class: "sort", text: t, onclick: () => sortRows(key) }));
  })));
}

function sortRows(key) {
  sortBy = { key, dir: sortBy && sortBy.key === key ? -sortBy.dir : 1 };
  applySort();
}

function applySort() {
  if (!sortBy) return;
  const { key, dir } = sortBy;
  const val = (tr) => (key === "key" ? tr.dataset.key : Number(tr.dataset[key]));
  const rowsNow = Array.from($("rows").children);
  rowsNow.sort((a, b) => (val(a) < val(b) ? -dir : val(a) > val(b) ? dir : 0));
  $("rows").append(...rowsNow);
  for (const th of $("listing-head").querySelectorAll("th[data-sort]"))
    th.setAttribute("aria-sort", th.dataset.sort !== key ? "none" : dir > 0 ? "ascending" : "descending");
}

async function openBuckets() {
  listing = null;
  document.title = "Buckets — Atrium console";
  crumbs(null, "");
  $("bucket-tools").hidden = false;
  $("object-tools").hidden = true;
  $("more").hidden = true;
  $("listing-caption").textContent = "Buckets";
  head([["Name"], ["Owner"], ["Created", "opt"], ["Actions"]]);
  $("rows").replaceChildren();
  let buckets;
  const e0 = epoch;
  const seq = ++listSeq; // a listing opened meanwhile wins over this one
  try {
    buckets = await api.listBuckets();
  } catch (e) {
    if (e0 === epoch && seq === listSeq) showError(e);
    return;
  }
  const owners = {};
  try {
    const fs = await api.fsList("/", null, 1000);
    for (const e of fs.entries) owners[e.name] = e.owner;
  } catch (e) { /* the owner column stays empty */ }
  if (e0 !== epoch || seq !== listSeq) return;
  $("rows").replaceChildren(...buckets.map((b) => h("tr", {},
    h("td", { class: "name" }, h("a", { href: browseHash(b.name, ""), text: b.name })),
    h("td", { text: owners[b.name] || "" }),
    h("td", { class: "opt", text: when(b.created) }),
    h("td", { class: "actions" }, h("button", {
      type: "button", class: "danger", text: "Delete", "aria-label": "Delete bucket " + b.name,
      onclick: () => deleteBucket(b.name),
    })))));
  $("empty").hidden = buckets.length > 0;
}

async function createBucket(ev) {
  ev.preventDefault();
  clearError();
  const name = $("new-bucket").value.trim();
  if (!/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(name)) {
    showError("A bucket name is 3 to 63 lower-case letters, digits, dots and hyphens.");
    return;
  }
  try {
    await api.createBucket(name);
    $("new-bucket").value = "";
    say("Created bucket " + name);
    openBuckets();
  } catch (e) { showError(e); }
}

async function deleteBucket(name) {
  if (!(await confirmDialog(`Delete the bucket "${name}"? It must be empty.`))) return;
  clearError();
  try {
    await api.deleteBucket(name);
    say("Deleted bucket " + name);
    location.hash = "#/b";
    route();
  } catch (e) { showError(e); }
}

function openDirectory(bucket, prefix) {
  document.title = `${bucket}/${prefix} — Atrium console`;
  crumbs(bucket, prefix);
  $("bucket-tools").hidden = true;
  $("object-tools").hidden = false;
  $("filter").value = "";
  $("listing-caption").textContent = `Contents of ${bucket}/${prefix}`;
  head([["Name", "", "key"], ["Size", "num", "size"], ["Owner", "opt"], ["Last modified", "opt", "mtime"], ["Mode", "opt"],
    ["Persisted", "opt"], ["In cache", "num opt"], ["Actions"]]);
  listing = { bucket, prefix, filter: "", token: null, seq: ++listSeq };
  $("rows").replaceChildren();
  loadPage();
}

// The fs ls columns for a listing page: one admin fs/list call from the
// page's first entry (the cursor is "bucket/key", inclusive, in S3's order).
async function fsColumns(bucket, dir, first, n) {
  const path = "/" + bucket + (dir ? "/" + dir.replace(/\/$/, "") : "");
  const out = {};
  try {
    const r = await api.fsList(path, first ? bucket + "/" + first : null, Math.min(1000, n + 8));
    for (const e of r.entries) out[e.type === "directory" ? e.name + "/" : e.name] = e;
  } catch (e) { /* not available to this user: the columns stay empty */ }
  return out;
}

function fsCells(e, isDir, sz) {
  if (!e) return ["", "", ""].map((t) => h("td", { class: "opt", text: t }));
  const pct = isDir ? "" : sz ? Math.min(100, Math.round(e.in_cache * 100 / sz)) + "%" : "100%";
  return [h("td", { class: "opt mono", text: modeString(e.mode, isDir) }),
    h("td", { class: "opt", text: isDir ? "" : e.persist }),
    h("td", { class: "num opt", text: pct })];
}

async function loadPage() {
  const l = listing;
  if (!l) return;
  clearError();
  $("more").hidden = true;
  const seq = l.seq;
  let page;
  const full = l.prefix + l.filter;
  try {
    page = await api.listObjects(l.bucket, full, l.token, PAGE);
  } catch (e) {
    if (listing && seq === listing.seq) { showError(e); $("empty").hidden = true; }
    return;
  }
  if (!listing || seq !== listing.seq) return;
  const entries = page.prefixes.map((p) => ({ dir: true, key: p }))
    .concat(page.objects.filter((o) => o.key !== l.prefix).map((o) => ({ dir: false, key: o.key, o })))
    .sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  const fs = entries.length ? await fsColumns(l.bucket, l.prefix, entries[0].key, entries.length) : {};
  if (!listing || seq !== listing.seq) return;
  const rows = entries.map((en) => {
    const name = en.key.slice(l.prefix.length);
    const fe = fs[name];
    if (en.dir) {
      return h("tr", { "data-key": en.key, "data-size": "-1", "data-mtime": "0" },
        h("td", { class: "name" }, h("a", { href: browseHash(l.bucket, en.key), text: name })),
        h("td", { class: "num", text: "" }), h("td", { class: "opt", text: fe ? fe.owner : "" }),
        h("td", { class: "opt", text: "" }), ...fsCells(fe, true, 0),
        h("td", { class: "actions" },
          h("button", { type: "button", text: "Rename", "aria-label": "Rename folder " + name, onclick: () => rename(l.bucket, en.key) }),
          h("button", {
            type: "button", class: "danger", text: "Delete", "aria-label": "Delete folder " + name,
            onclick: () => deleteFolder(l.bucket, en.key),
          })));
    }
    const o = en.o;
    return h("tr", { "data-key": o.key, "data-size": String(o.size), "data-mtime": String(Date.parse(o.lastModified) || 0) },
      h("td", { class: "name" }, h("button", {
        type: "button", class: "name-link", text: name, "aria-label": "Details of " + name,
        onclick: () => details(l.bucket, o.key),
      })),
      h("td", { class: "num", text: size(o.size), title: o.size + " bytes" }),
      h("td", { class: "opt owner", text: o.owner }),
      h("td", { class: "opt", text: when(o.lastModified) }), ...fsCells(fe, false, o.size),
      h("td", { class: "actions" },
        h("button", { type: "button", text: "Download", "aria-label": "Download " + name, onclick: () => download(l.bucket, o.key) }),
        h("button", { type: "button", text: "Rename", "aria-label": "Rename " + name, onclick: () => rename(l.bucket, o.key) }),
        h("button", { type: "button", class: "danger", text: "Delete", "aria-label": "Delete " + name, onclick: () => deleteObject(l.bucket, o.key) })));
  });
  $("rows").append(...rows);
  applySort();
  l.token = page.truncated ? page.next : null;
  $("more").hidden = !page.truncated;
  $("empty").hidden = $("rows").children.length > 0;
  say(`${$("rows").children.length} entries shown` + (page.truncated ? " (more available)" : ""));
}

function filterListing(ev) {
  ev.preventDefault();
  if (!listing) return;
  listing = { ...listing, filter: $("filter").value, token: null, seq: ++listSeq };
  $("rows").replaceChildren();
  loadPage();
}

async function deleteObject(bucket, key) {
  if (!(await confirmDialog(`Delete "${key}" from ${bucket}? This cannot be undone.`))) return false;
  clearError();
  try {
    await api.deleteObject(bucket, key);
    say("Deleted " + key);
    if (listing && listing.bucket === bucket) openDirectory(bucket, listing.prefix);
    return true;
  } catch (e) { showError(e); return false; }
}

// Rename or move a file or a folder, within its bucket or into another
// of the user's: the admin API's fs/mv (the path view's rename: inode,
// owner and cached blocks kept; across buckets the kernel moves rows and
// files together, and refuses what it cannot move).
async function rename(bucket, key) {
  const d = $("rename-dialog");
  const isDir = key.endsWith("/");
  $("rename-key").textContent = `${bucket}/${key}`;
  $("rename-to").value = key.replace(/\/$/, "");
  const pick = $("rename-bucket");
  pick.replaceChildren(h("option", { value: bucket, text: bucket }));
  pick.value = bucket;
  const done = () => { d.close(); $("rename-form").onsubmit = $("rename-no").onclick = null; };
  $("rename-no").onclick = done;
  $("rename-form").onsubmit = async (ev) => {
    ev.preventDefault();
    const to = $("rename-to").value.replace(/\/+$/, "");
    const toBucket = pick.value || bucket;
    if (!to || to.split("/").some((p) => !p || p === "." || p === "..")) {
      showError("A key has no empty, \".\" or \"..\" part.");
      return;
    }
    done();
    clearError();
    try {
      await api.admin("POST", "fs/mv", [["src", `/${bucket}/${key.replace(/\/$/, "")}`], ["dst", `/${toBucket}/${to}`]]);
      const where = toBucket === bucket ? "" : ` in ${toBucket}`;
      say(`Moved ${key} to ${to}${isDir ? "/" : ""}${where}`);
      if (listing && listing.bucket === bucket) openDirectory(bucket, listing.prefix);
    } catch (e) { showError(e); }
  };
  d.showModal();
  $("rename-to").focus();
  // The other buckets the user can name, filled in once the dialog is up
  // (a listing that fails leaves the bucket the object is in).
  try {
    const names = (await api.listBuckets()).map((b) => b.name).filter((n) => n !== bucket);
    if (d.open && $("rename-key").textContent === `${bucket}/${key}`)
      pick.append(...names.map((n) => h("option", { value: n, text: n })));
  } catch (e) { /* moves stay within the bucket */ }
}

// A folder and everything below it: the admin API's fs/rm, recursive
// (checked as the user, entry by entry, like atrium fs rm -R).
async function deleteFolder(bucket, prefix) {
  if (!(await confirmDialog(`Delete the folder "${prefix}" in ${bucket} and everything in it? This cannot be undone.`))) return;
  clearError();
  try {
    await api.admin("POST", "fs/rm", [["path", `/${bucket}/${prefix.replace(/\/$/, "")}`], ["recursive", "1"]]);
    say("Deleted folder " + prefix);
    if (listing && listing.bucket === bucket) openDirectory(bucket, listing.prefix);
  } catch (e) { showError(e); }
}

async function makeDirectory(ev) {
  ev.preventDefault();
  clearError();
  const name = $("new-dir").value.trim().replace(/\/+$/, "");
  if (!name || name.split("/").some((s) => !s || s === "." || s === "..")) {
    showError("A folder name has no empty, \".\" or \"..\" part.");
    return;
  }
  try {
    await api.makeDirectory(listing.bucket, listing.prefix + name + "/");
    $("new-dir").value = "";
    say("Created folder " + name);
    openDirectory(listing.bucket, listing.prefix);
  } catch (e) { showError(e); }
}

async function download(bucket, key) {
  clearError();
  try {
    const name = key.split("/").pop() || "download";
    const url = await api.presignGet(bucket, key, 300,
      [["response-content-disposition", `attachment; filename*=UTF-8''${encodeURIComponent(name)}`]]);
    const a = h("a", { href: url, download: name, class: "visually-hidden" });
    document.body.append(a);
    a.click();
    a.remove();
    say("Downloading " + name);
  } catch (e) { showError(e); }
}

// ---- uploads ----
function uploadFiles(files) {
  if (!listing) return;
  const { bucket, prefix } = listing;
  for (const f of files) uploadOne(bucket, prefix, f.file || f, f.path);
}

// What was dropped: files as they are, folders walked (FileSystemEntry)
// into { file, path } with the path below the drop. A drop with no
// entries (a synthetic one) gives its files.
async function droppedFiles(dt) {
  const entries = Array.from(dt.items || []).map((it) => it.webkitGetAsEntry && it.webkitGetAsEntry()).filter(Boolean);
  if (!entries.length) return Array.from(dt.files);
  const out = [];
  const walk = async (entry) => {
    if (entry.isFile) {
      const file = await new Promise((res, rej) => entry.file(res, rej));
      out.push({ file, path: entry.fullPath.replace(/^\//, "") });
      return;
    }
    const reader = entry.createReader();
    for (;;) { // readEntries answers in batches until an empty one
      const batch = await new Promise((res, rej) => reader.readEntries(res, rej));
      if (!batch.length) break;
      for (const e of batch) await walk(e);
    }
  };
  for (const e of entries) await walk(e);
  return out;
}

async function uploadOne(bucket, prefix, file, path) {
  // A folder's files (picked or dropped) keep their path below it.
  const key = prefix + (path || file.webkitRelativePath || file.name);
  const job = { cancelled: false, xhr: null };
  const bar = h("progress", { max: String(Math.max(1, file.size)), value: "0", "aria-label": "Upload of " + file.name });
  const state = h("span", { class: "upload-state", text: file.size > MULTIPART_THRESHOLD ? "multipart" : "" });
  const cancel = h("button", {
    type: "button", text: "Cancel", "aria-label": "Cancel upload of " + file.name,
    onclick: () => { job.cancelled = true; if (job.xhr) job.xhr.abort(); },
  });
  const li = h("li", { "data-key": key }, h("span", { class: "key", text: key.slice(prefix.length) }), bar, state, cancel);
  $("uploads").append(li);
  try {
    await api.upload(bucket, key, file, (n) => { bar.value = n; }, job);
    bar.value = file.size;
    state.textContent = "done";
    li.dataset.state = "done";
    say("Uploaded " + file.name);
    if (listing && listing.bucket === bucket && listing.prefix === prefix) openDirectory(bucket, prefix);
  } catch (e) {
    state.textContent = e instanceof ApiError && e.code === "Cancelled" ? "cancelled" : "failed";
    li.dataset.state = state.textContent;
    if (state.textContent === "failed") showError(e);
  } finally {
    cancel.remove();
  }
}

// ---- details, share, cache actions ----
let current = null; // { bucket, key }

async function details(bucket, key) {
  clearError();
  current = { bucket, key };
  const e0 = epoch;
  const d = $("details-dialog");
  $("details-key").textContent = `${bucket}/${key}`;
  for (const id of ["details-fs", "details-headers", "details-meta", "details-tags"]) $(id).replaceChildren();
  try {
    const r = await api.headObject(bucket, key);
    const hdrs = [];
    const meta = [];
    r.headers.forEach((v, k) => (k.startsWith("x-amz-meta-") ? meta.push([k.slice(11), v]) : hdrs.push([k, v])));
    facts($("details-headers"), hdrs.sort());
    facts($("details-meta"), meta.length ? meta : [["(none)", ""]]);
  } catch (e) { showError(e); return; }
  try {
    const t = await api.objectTags(bucket, key);
    facts($("details-tags"), t.length ? t : [["(none)", ""]]);
  } catch (e) { facts($("details-tags"), [["tags", e.message]]); }
  try {
    const e = await api.fsStat(`/${bucket}/${key}`);
    facts($("details-fs"), [["mode", modeString(e.mode, e.type === "directory")], ["owner", e.owner],
      ["group", e.group], ["persist", e.persist], ["in cache", size(e.in_cache)], ["inode", e.ino]]);
  } catch (e) { facts($("details-fs"), [["file system", e.message]]); }
  if (e0 !== epoch) return;
  if (!d.open) d.showModal();
}

// load, free or persist of the object in the details: one admin call,
// shown busy (the buttons off, an indeterminate bar) until it answers.
async function cacheAction(action) {
  if (!current) return;
  clearError();
  const buttons = ["details-load", "details-free", "details-persist"].map($);
  buttons.forEach((b) => { b.disabled = true; });
  $("details-busy").hidden = false;
  try {
    const r = await api.fsAction(action, `/${current.bucket}/${current.key}`);
    say(`${action}: ${r.files} file(s), ${size(r.bytes)}`);
    details(current.bucket, current.key);
  } catch (e) { showError(e); } finally {
    buttons.forEach((b) => { b.disabled = false; });
    $("details-busy").hidden = true;
  }
}

// load, free or persist of every file below the folder shown, one admin
// call a file as `atrium fs load` walks: a progress bar (bytes), the
// count of files, Cancel between files; a file that fails is counted and
// the walk goes on (the first error shown).
const CACHE_VERBS = { load: "Loading", free: "Freeing", persist: "Persisting" };

async function folderCacheAction(action) {
  if (!listing) return;
  const { bucket, prefix } = listing;
  const what = prefix || `${bucket}/`;
  clearError();
  const job = { cancelled: false };
  const bar = h("progress", { max: "1", value: "0", "aria-label": `${CACHE_VERBS[action]} ${what}` });
  const state = h("span", { class: "upload-state", text: "listing" });
  const cancel = h("button", {
    type: "button", text: "Cancel", "aria-label": `Cancel ${action} of ${what}`,
    onclick: () => { job.cancelled = true; },
  });
  const li = h("li", { "data-job": action, "data-key": prefix },
    h("span", { class: "key", text: `${action} ${what}` }), bar, state, cancel);
  $("uploads").append(li);
  let done = 0, failed = 0;
  try {
    const files = [];
    let token = null, total = 0;
    do {
      const page = await api.listObjects(bucket, prefix, token, 1000, true);
      for (const o of page.objects) {
        if (o.key.endsWith("/")) continue; // a folder marker holds no bytes
        files.push(o);
        total += o.size;
      }
      token = page.truncated ? page.next : null;
    } while (token && !job.cancelled);
    bar.max = String(Math.max(1, total));
    let bytes = 0;
    for (const o of files) {
      if (job.cancelled) break;
      state.textContent = `${done + failed} of ${files.length} files`;
      try {
        await api.fsAction(action, `/${bucket}/${o.key}`);
        done++;
      } catch (e) {
        if (!failed++) showError(e);
      }
      bytes += o.size;
      bar.value = bytes;
    }
    const end = job.cancelled ? "cancelled" : failed ? "failed" : "done";
    state.textContent = `${end}: ${done} of ${files.length} files` + (failed ? `, ${failed} failed` : "");
    li.dataset.state = end;
    say(`${action} ${what}: ${done} file(s)` + (failed ? `, ${failed} failed` : ""));
    if (listing && listing.bucket === bucket && listing.prefix === prefix) openDirectory(bucket, prefix);
  } catch (e) {
    state.textContent = "failed";
    li.dataset.state = "failed";
    showError(e);
  } finally {
    cancel.remove();
  }
}

function share() {
  if (!current) return;
  $("share-key").textContent = `${current.bucket}/${current.key}`;
  $("share-url").value = "";
  $("share-dialog").showModal();
}

async function makeShareLink(ev) {
  ev.preventDefault();
  try {
    const path = await api.presignGet(current.bucket, current.key, Number($("share-expiry").value));
    $("share-url").value = location.origin + path;
    $("share-url").select();
  } catch (e) { showError(e); }
}

// ---- users (the daemon's superuser only: the admin API says so) ----
async function openUsers() {
  $("user-rows").replaceChildren();
  let r;
  const e0 = epoch;
  const seq = ++listSeq;
  try {
    r = await api.admin("GET", "users");
  } catch (e) { if (e0 === epoch && seq === listSeq) showError(e); return; }
  if (e0 !== epoch || seq !== listSeq) return;
  $("user-rows").replaceChildren(...r.users.map((u) => {
    const active = u.keys.some((k) => k.status === "Active");
    return h("tr", { "data-user": u.user },
      h("td", { class: "name", text: u.user }),
      h("td", { text: u.display }),
      h("td", { class: "mono", text: u.keys.map((k) => `${k.access_key} (${k.status})`).join(", ") }),
      h("td", { class: "actions" },
        h("button", { type: "button", text: active ? "Disable" : "Enable", "aria-label": `${active ? "Disable" : "Enable"} user ${u.user}`,
          onclick: () => userAction(active ? "disable" : "enable", u.user) }),
        h("button", { type: "button", text: "Rotate key", "aria-label": "Rotate the key of " + u.user,
          onclick: () => userAction("rotate-key", u.user) }),
        h("button", { type: "button", class: "danger", text: "Remove", "aria-label": "Remove user " + u.user,
          onclick: () => userAction("rm", u.user) })));
  }));
  say(`${r.users.length} users`);
}

function showKeys(k) {
  facts($("new-keys-list"), [["user", k.user], ["access key", k.access_key], ["secret key", k.secret_key]]);
  $("new-keys").hidden = false;
}

async function userAction(action, user) {
  const asks = {
    "rotate-key": [`Give ${user} a new key pair? The old keys stop working at once.`, "Rotate"],
    rm: [`Remove the user ${user}? Refused while the user owns buckets.`, "Remove"],
    disable: [`Disable ${user}? Their keys stop working until enabled again.`, "Disable"],
  };
  if (asks[action] && !(await confirmDialog(...asks[action]))) return;
  clearError();
  try {
    const r = await api.admin("POST", "users/" + action, [["user", user]]);
    if (r.secret_key) showKeys(r);
    else $("new-keys").hidden = true;
    say(`${action}: ${user}`);
    openUsers();
  } catch (e) { showError(e); }
}

async function addUser(ev) {
  ev.preventDefault();
  clearError();
  const q = [["user", $("new-user").value.trim()]];
  if ($("new-user-display").value.trim()) q.push(["display", $("new-user-display").value.trim()]);
  try {
    const r = await api.admin("POST", "users/add", q);
    showKeys(r);
    $("new-user").value = $("new-user-display").value = "";
    say("Added user " + r.user);
    openUsers();
  } catch (e) { showError(e); }
}

// ---- overview ----
let poll = null;
const history = { req: {}, bin: {}, bout: {}, lat: {} };

function parseMetrics(text) {
  const out = { req: {}, bin: {}, bout: {}, hist: {} };
  for (const line of text.split("\n")) {
    const hb = line.match(/^atrium_request_duration_seconds_bucket\{([^}]*)\}\s+([0-9.eE+]+)$/);
    if (hb) {
      const door = (hb[1].match(/door="([^"]*)"/) || [])[1] || "?";
      const le = (hb[1].match(/le="([^"]*)"/) || [])[1];
      const hd = out.hist[door] || (out.hist[door] = {});
      hd[le] = (hd[le] || 0) + Number(hb[2]);
      continue;
    }
    const m = line.match(/^(atrium_requests_total|atrium_request_bytes_in_total|atrium_request_bytes_out_total)\{([^}]*)\}\s+([0-9.eE+]+)$/);
    if (!m) continue;
    const door = (m[2].match(/door="([^"]*)"/) || [])[1] || "?";
    const which = m[1] === "atrium_requests_total" ? "req" : m[1] === "atrium_request_bytes_in_total" ? "bin" : "bout";
    out[which][door] = (out[which][door] || 0) + Number(m[3]);
  }
  return out;
}

function rates(which, now, prev, dt) {
  for (const door of Object.keys(now[which])) {
    const s = history[which][door] || (history[which][door] = []);
    s.push(prev ? Math.max(0, (now[which][door] - (prev[which][door] || 0)) / dt) : 0);
    if (s.length > SAMPLES) s.shift();
  }
}

// A quantile of the requests between two polls from the cumulative
// histogram buckets' increase (Prometheus' histogram_quantile: linear
// within the bucket; the highest finite bound for the +Inf bucket), in ms.
// 0 when there was no request.
function quantile(q, now, prev) {
  const les = Object.keys(now).sort((a, b) => (a === "+Inf" ? 1 : b === "+Inf" ? -1 : Number(a) - Number(b)));
  const cum = les.map((le) => now[le] - ((prev && prev[le]) || 0));
  const total = cum[cum.length - 1] || 0;
  if (!total) return 0;
  const rank = q * total;
  let lower = 0, below = 0;
  for (let i = 0; i < les.length; i++) {
    if (cum[i] >= rank) {
      if (les[i] === "+Inf") return lower * 1000;
      const upper = Number(les[i]);
      const inBucket = cum[i] - below;
      return (lower + (upper - lower) * (inBucket ? (rank - below) / inBucket : 1)) * 1000;
    }
    lower = les[i] === "+Inf" ? lower : Number(les[i]);
    below = cum[i];
  }
  return lower * 1000;
}

function latencies(now, prev) {
  for (const door of Object.keys(now.hist)) {
    for (const [name, q] of [["p50", 0.5], ["p99", 0.99]]) {
      const k = `${door} ${name}`;
      const s = history.lat[k] || (history.lat[k] = []);
      s.push(prev ? quantile(q, now.hist[door], prev.hist[door]) : 0);
      if (s.length > SAMPLES) s.shift();
    }
  }
}

let lastMetrics = null;
async function tick() {
  try {
    const e0 = epoch;
    const [rep, text, ready, mounts] = await Promise.all([api.report(), api.metrics(),
      api.ready().catch((e) => ({ status: "unknown", message: e.message })),
      api.mounts().catch(() => ({ mounts: [] }))]);
    if (e0 !== epoch) return;
    const now = performance.now();
    const m = parseMetrics(text);
    const dt = lastMetrics ? (now - lastMetrics.at) / 1000 : 0;
    rates("req", m, lastMetrics && lastMetrics.m, dt || 1);
    rates("bin", m, lastMetrics && lastMetrics.m, dt || 1);
    rates("bout", m, lastMetrics && lastMetrics.m, dt || 1);
    latencies(m, lastMetrics && lastMetrics.m);
    lastMetrics = { at: now, m };
    facts($("daemon-facts"), [
      ["state", ready.status + (ready.failed ? ` (${ready.failed}: ${ready.message})` : "")],
      ["version", rep.version], ["started", when(rep.started)],
      ["uptime", Math.round(rep.uptime_ms / 1000) + " s"], ["auth", rep.auth],
      ["uploads in progress", rep.uploads_in_progress]]);
    facts($("ns-facts"), [["files", rep.namespace.files], ["directories", rep.namespace.directories],
      ["bytes", size(rep.namespace.bytes)],
      ...mounts.mounts.map((mt) => ["mount " + mt.path, mt.uri])]);
    $("tiers").replaceChildren(...rep.cache.tiers.flatMap((t) => {
      const pct = t.capacity ? Math.round(t.used * 100 / t.capacity) : 0;
      const fill = h("div");
      fill.style.width = pct + "%";
      return [h("p", { class: "tier", text: `${t.tier}: ${size(t.used)} of ${size(t.capacity)} (${pct}%), hit ratio ${(t.hit_ratio * 100).toFixed(1)}%, ${t.evictions} evictions` }),
        h("div", { class: "bar", role: "meter", "aria-label": t.tier + " tier use", "aria-valuemin": "0", "aria-valuemax": "100", "aria-valuenow": String(pct) }, fill)];
    }));
    drawChart($("chart-requests"), Object.entries(history.req).map(([k, v]) => ({ name: k, values: v })), SAMPLES, "Requests per second by door");
    drawChart($("chart-bytes"), [
      ...Object.entries(history.bin).map(([k, v]) => ({ name: k + " in", values: v })),
      ...Object.entries(history.bout).map(([k, v]) => ({ name: k + " out", values: v }))], SAMPLES, "Bytes per second by door");
    drawChart($("chart-latency"), Object.entries(history.lat).map(([k, v]) => ({ name: k + " ms", values: v })), SAMPLES, "Latency percentiles by door, in milliseconds");
    $("overview-view").dataset.samples = String((Object.values(history.req)[0] || []).length);
  } catch (e) { showError(e); }
}

function startPolling() {
  if (poll) return;
  tick();
  poll = setInterval(tick, POLL_MS);
}

function stopPolling() {
  if (poll) clearInterval(poll);
  poll = null;
}

// ---- wiring ----
function init() {
  $("signin-form").addEventListener("submit", signIn);
  $("signout").addEventListener("click", signOut);
  $("create-bucket-form").addEventListener("submit", createBucket);
  $("filter-form").addEventListener("submit", filterListing);
  $("mkdir-form").addEventListener("submit", makeDirectory);
  $("more").addEventListener("click", loadPage);
  $("delete-bucket").addEventListener("click", () => listing && deleteBucket(listing.bucket));
  $("upload-button").addEventListener("click", () => $("upload-input").click());
  $("upload-input").addEventListener("change", (ev) => { uploadFiles(Array.from(ev.target.files)); ev.target.value = ""; });
  $("upload-dir-button").addEventListener("click", () => $("upload-dir-input").click());
  $("upload-dir-input").addEventListener("change", (ev) => { uploadFiles(Array.from(ev.target.files)); ev.target.value = ""; });
  const zone = $("drop-zone");
  zone.addEventListener("dragover", (ev) => { if (listing) { ev.preventDefault(); zone.classList.add("dragging"); } });
  zone.addEventListener("dragleave", () => zone.classList.remove("dragging"));
  zone.addEventListener("drop", async (ev) => {
    ev.preventDefault();
    zone.classList.remove("dragging");
    if (!listing) return;
    try {
      uploadFiles(await droppedFiles(ev.dataTransfer));
    } catch (e) { showError(e); }
  });
  $("details-download").addEventListener("click", () => current && download(current.bucket, current.key));
  $("details-share").addEventListener("click", share);
  $("details-load").addEventListener("click", () => cacheAction("load"));
  $("details-free").addEventListener("click", () => cacheAction("free"));
  $("details-persist").addEventListener("click", () => cacheAction("persist"));
  for (const action of Object.keys(CACHE_VERBS))
    $("folder-" + action).addEventListener("click", () => folderCacheAction(action));
  $("details-delete").addEventListener("click", async () => {
    if (current && (await deleteObject(current.bucket, current.key))) $("details-dialog").close();
  });
  $("share-form").addEventListener("submit", makeShareLink);
  $("add-user-form").addEventListener("submit", addUser);
  window.addEventListener("hashchange", route);
  route();
}

init();
