/* Yiwang grid worker app: offline first. Everything the worker creates goes into an IndexedDB outbox
   with a client UUID and is sent through the idempotent sync endpoint; nothing is removed from the
   phone until the server has answered for it. No framework, no build step.
   Strings: English msgids through gettext()/ngettext() of the page's catalog (/m/jsi18n/, the
   djangojs domain in yiwang/fieldwork/locale); no translated text is written in this file. */
"use strict";
(() => {
const gettext = window.gettext || ((s) => s);
const ngettext = window.ngettext || ((s, p, n) => (n === 1 ? s : p));
const fmt = (s, params) => s.replace(/%\((\w+)\)s/g, (m, k) => (k in params ? params[k] : m));
const B = document.body.dataset;
const $ = (s, r) => (r || document).querySelector(s);
const $$ = (s, r) => Array.from((r || document).querySelectorAll(s));
const esc = (s) => String(s == null ? "" : s).replace(/[&<>"']/g, (c) => ({"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;"}[c]));
const uuid = () => (crypto.randomUUID ? crypto.randomUUID() : "10000000-1000-4000-8000-100000000000".replace(/[018]/g, (c) => (c ^ crypto.getRandomValues(new Uint8Array(1))[0] & 15 >> c / 4).toString(16)));
const KIND = {visit: gettext("Visit"), patrol: gettext("Patrol"), event: gettext("Event report"), situation: gettext("Situation log"),
  verify: gettext("On-site check"), visit_edit: gettext("Follow-up done"), correction: gettext("Correction")};
const STATUS = {pending: gettext("Waiting to upload"), sending: gettext("Uploading"), done: gettext("Uploaded"),
  error: gettext("Not accepted"), conflict: gettext("Conflict")};

/* ---- IndexedDB ------------------------------------------------------------------------------ */
let dbp;
function db() {
  if (!dbp) dbp = new Promise((ok, fail) => {
    const r = indexedDB.open("yiwang-fieldwork-" + B.user, 1);
    r.onupgradeneeded = () => { const d = r.result; d.createObjectStore("outbox", {keyPath: "uuid"}); d.createObjectStore("photos", {keyPath: "id"}); d.createObjectStore("kv"); };
    r.onsuccess = () => ok(r.result); r.onerror = () => fail(r.error);
  });
  return dbp;
}
async function tx(store, mode, fn) {
  const d = await db();
  return new Promise((ok, fail) => {
    const t = d.transaction(store, mode); const s = t.objectStore(store); let out;
    Promise.resolve(fn(s)).then((v) => { out = v; });
    t.oncomplete = () => ok(out); t.onerror = () => fail(t.error); t.onabort = () => fail(t.error);
  });
}
const req = (r) => new Promise((ok, fail) => { r.onsuccess = () => ok(r.result); r.onerror = () => fail(r.error); });
const put = (store, value, key) => tx(store, "readwrite", (s) => { if (key === undefined) s.put(value); else s.put(value, key); });
const get = (store, key) => tx(store, "readonly", (s) => req(s.get(key)));
const all = (store) => tx(store, "readonly", (s) => req(s.getAll()));
const del = (store, key) => tx(store, "readwrite", (s) => { s.delete(key); });

/* ---- state --------------------------------------------------------------------------------- */
let data = null;
let patrol = null;
let watchId = null;

function banner(text, error) {
  const b = $("#banner");
  if (!text) { b.hidden = true; return; }
  b.innerHTML = text; b.className = "banner" + (error ? " err" : ""); b.hidden = false;
}
function csrf() { const m = document.cookie.match(/(?:^|; )csrftoken=([^;]+)/); return m ? decodeURIComponent(m[1]) : ""; }
function fmtTime(iso) { const d = new Date(iso); return isNaN(d) ? "" : `${d.getMonth() + 1}-${d.getDate()} ${String(d.getHours()).padStart(2, "0")}:${String(d.getMinutes()).padStart(2, "0")}`; }
function grid() { return data && data.grids[0]; }
function household(id) { return data && data.households.find((h) => h.id === Number(id)); }
function hhLabel(h) { return h ? (h.address || h.number || "#" + h.id) : ""; }

async function loadData(attempt) {
  data = (await get("kv", "data")) || data;
  render();
  if (!navigator.onLine) return;
  try {
    const r = await fetch(B.data, {credentials: "same-origin", headers: {Accept: "application/json"}});
    if (r.redirected || r.status === 401 || r.status === 403) return sessionExpired();
    if (r.status >= 500 && (attempt || 0) < 3) return setTimeout(() => loadData((attempt || 0) + 1), 1000);
    if (!r.ok) return;
    data = await r.json();
    await put("kv", data, "data");
    render();
  } catch (e) { /* offline: the cached copy stays */ }
}

/* ---- outbox -------------------------------------------------------------------------------- */
async function enqueue(kind, payload, extra) {
  const record = Object.assign({uuid: uuid(), kind, client_time: new Date().toISOString(), data: payload,
    status: "pending", message: "", created_at: Date.now(), photos: []}, extra || {});
  await put("outbox", record);
  await refreshOutbox();
  sync();
  return record;
}

async function storePhoto(input) {
  const file = input && input.files && input.files[0];
  if (!file) return null;
  const blob = await compress(file);
  const id = uuid();
  await put("photos", {id, blob, type: blob.type, size: blob.size, offset: 0, status: "local"});
  return id;
}

/* Shrink on the phone before upload: longest side 1280 px, JPEG quality 0.72 (a 4 MB camera
   photo becomes ~200 KB). Files the browser cannot decode are kept as they are; the server checks them. */
async function compress(file) {
  if (!/^image\//.test(file.type)) return file;
  try {
    const bmp = await createImageBitmap(file);
    const scale = Math.min(1, 1280 / Math.max(bmp.width, bmp.height));
    const canvas = document.createElement("canvas");
    canvas.width = Math.round(bmp.width * scale); canvas.height = Math.round(bmp.height * scale);
    canvas.getContext("2d").drawImage(bmp, 0, 0, canvas.width, canvas.height);
    const out = await new Promise((ok) => canvas.toBlob(ok, "image/jpeg", 0.72));
    return out && out.size < file.size ? out : file;
  } catch (e) { return file; }
}

async function api(url, options) {
  const r = await fetch(url, Object.assign({credentials: "same-origin"}, options, {
    headers: Object.assign({"X-CSRFToken": csrf(), Accept: "application/json"}, (options || {}).headers)}));
  if (r.redirected || r.status === 401) throw {expired: true};
  let body = null;
  try { body = await r.json(); } catch (e) { body = null; }
  if (r.status === 403 && body && body.error && /not_authenticated|session_expired/.test(body.error.code)) throw {expired: true};
  return {status: r.status, body};
}

/* Resumable upload: ask the server how far it got, send the rest in 256 KB chunks. */
async function uploadPhoto(id) {
  const p = await get("photos", id);
  if (!p) return "missing";
  if (p.status === "complete") return "complete";
  if (p.status === "rejected") return "rejected";
  let r = await api(B.uploads, {method: "POST", headers: {"Content-Type": "application/json"},
    body: JSON.stringify({upload_id: id, filename: id + ".jpg", content_type: p.type || "image/jpeg", size: p.size})});
  if (r.status === 400) { p.status = "rejected"; p.message = r.body && r.body.error ? JSON.stringify(r.body.error.fields || r.body.error.message) : ""; await put("photos", p); return "rejected"; }
  if (r.status >= 300) throw new Error("upload start " + r.status);
  let offset = r.body.offset;
  const url = B.uploads + id + "/";
  while (offset < p.size) {
    const chunk = p.blob.slice(offset, offset + 262144);
    r = await api(url, {method: "PUT", headers: {"Content-Type": "application/octet-stream", "Upload-Offset": String(offset)}, body: chunk});
    if (r.status === 409) { offset = r.body.offset; continue; }
    if (r.status === 400) { p.status = "rejected"; await put("photos", p); return "rejected"; }
    if (r.status >= 300) throw new Error("upload " + r.status);
    offset = r.body.offset;
    p.offset = offset; await put("photos", p);
  }
  p.status = "complete"; await put("photos", p);
  return "complete";
}

let syncPromise = null;
function sync() {
  // One sync at a time; a second caller waits for the one in flight.
  if (!syncPromise) syncPromise = doSync().finally(() => { syncPromise = null; });
  return syncPromise;
}
async function doSync() {
  if (!navigator.onLine) return;
  try {
    const pending = (await all("outbox")).filter((r) => r.status === "pending" || r.status === "sending")
      .sort((a, b) => a.created_at - b.created_at);
    if (!pending.length) return;
    const ready = [];
    for (const rec of pending) {
      let ok = true;
      for (const pid of rec.photos || []) {
        const s = await uploadPhoto(pid);
        if (s === "rejected") { rec.status = "error"; rec.message = gettext("The photo is not an image the server accepts, or it is too large; delete the photo and send again."); await put("outbox", rec); ok = false; }
        else if (s !== "complete") ok = false;
      }
      if (ok) ready.push(rec);
    }
    for (let i = 0; i < ready.length; i += 100) {
      const batch = ready.slice(i, i + 100);
      for (const rec of batch) { rec.status = "sending"; await put("outbox", rec); }
      const r = await api(B.sync, {method: "POST", headers: {"Content-Type": "application/json"}, body: JSON.stringify({
        client_sent_at: new Date().toISOString(),
        records: batch.map((x) => ({uuid: x.uuid, kind: x.kind, client_time: x.client_time, base_version: x.base_version == null ? null : x.base_version, data: Object.assign({}, x.data, x.photos && x.photos.length ? {photos: x.photos} : {})}))})});
      if (r.status !== 200) { for (const rec of batch) { rec.status = "pending"; await put("outbox", rec); } throw new Error("sync " + r.status); }
      if (r.body.clock_flag) banner("⏰ " + esc(r.body.clock_message));
      for (const res of r.body.results) {
        const rec = batch.find((x) => x.uuid === res.uuid);
        if (!rec) continue;
        rec.result = res.object || null; rec.message = res.message || "";
        if (res.status === "created" || res.status === "duplicate") { rec.status = "done"; rec.done_at = Date.now(); }
        else if (res.status === "conflict") { rec.status = "conflict"; rec.conflict = res; }
        else if (res.code === "photo_incomplete") rec.status = "pending";
        else rec.status = "error";
        await put("outbox", rec);
      }
    }
    retries = 0;
  } catch (e) {
    if (e && e.expired) sessionExpired();
    else if (retries < 6) { retries += 1; setTimeout(sync, 1500 * retries); }  // flaky network: back off
  } finally {
    refreshOutbox();
  }
}
let retries = 0;
async function refresh() { await sync(); await loadData(); }

async function sessionExpired() {
  const n = (await all("outbox")).filter((r) => r.status !== "done").length;
  banner(fmt(ngettext("Your session has expired; please <a href=\"%(url)s\">sign in again</a>. Your %(n)s record stays on this phone and will not be lost.",
    "Your session has expired; please <a href=\"%(url)s\">sign in again</a>. Your %(n)s records stay on this phone and will not be lost.", n),
  {url: esc(B.login), n}), true);
}

/* ---- rendering ----------------------------------------------------------------------------- */
function li(html, cls, onclick) { const el = document.createElement("li"); el.innerHTML = html; if (cls) el.className = cls; if (onclick) { el.classList.add("tap"); el.onclick = onclick; } return el; }
function fill(ul, items, empty) { const u = $(ul); u.textContent = ""; if (!items.length) u.appendChild(li(esc(empty), "empty")); items.forEach((x) => u.appendChild(x)); }

function render() {
  if (!data) { $("#grid-name").textContent = navigator.onLine ? gettext("Loading…") : gettext("Offline, and no data saved on this phone yet"); return; }
  $("#grid-name").textContent = data.grids.map((g) => g.name).join(" · ");
  const sc = data.schedule_counts || {};
  $("#today-stats").innerHTML = `<div><b>${data.cases_to_verify.length}</b>${esc(gettext("to check"))}</div><div><b>${sc.overdue || 0}</b>${esc(gettext("overdue visits"))}</div><div><b>${data.follow_ups.length}</b>${esc(gettext("follow-ups"))}</div>`;
  fill("#verify-list", data.cases_to_verify.map((c) => li(`<b>${esc(c.category)}</b> ${esc(c.code)}<small>${esc(c.address || c.description)}</small>`, "", () => openVerify(c))), gettext("No cases to check"));
  const overdue = data.schedule.filter((s) => s.status === "overdue"), due = data.schedule.filter((s) => s.status === "due");
  $("#overdue-n").textContent = sc.overdue ? `(${sc.overdue})` : ""; $("#due-n").textContent = sc.due ? `(${sc.due})` : "";
  const reason = (s) => (s.reason === "schedule" ? gettext("own interval") : s.reason);
  const sched = (s) => li(`<b>${esc(s.label)}</b>${s.reason ? ` <span class="tag">${esc(reason(s))}</span>` : ""}<small>${esc(fmt(ngettext(
    "every %(days)s day · last visit %(last)s · due %(due)s", "every %(days)s days · last visit %(last)s · due %(due)s", s.interval_days),
  {days: s.interval_days, last: s.last_visit || gettext("never"), due: s.due_date}))}</small>`, "", () => openVisit(s.household_id));
  fill("#overdue-list", overdue.slice(0, 40).map(sched), gettext("No overdue visits"));
  fill("#due-list", due.slice(0, 40).map(sched), gettext("No household is due for a visit soon"));
  fill("#followup-list", data.follow_ups.map((f) => li(`<b>${esc(f.label)}</b> ${esc(f.follow_up)}<small>${f.due ? esc(fmt(gettext("due %(date)s"), {date: f.due})) + " · " : ""}${esc(gettext("tap when followed up"))}</small>`, "", () => followUpDone(f))), gettext("No follow-ups"));
  const hs = $("#f-visit select[name=household_id]"); const keep = hs.value;
  hs.innerHTML = `<option value="">${esc(gettext("Choose a household"))}</option>` + data.households.map((h) => `<option value="${h.id}">${esc(hhLabel(h))}${h.number ? " · " + esc(h.number) : ""}</option>`).join("");
  hs.value = keep;
  $("#f-event select[name=category]").innerHTML = `<option value="">${esc(gettext("Choose a category"))}</option>` + data.categories.map((c) => `<option value="${esc(c.code)}">${esc(c.group ? c.group + " · " : "")}${esc(c.name)}</option>`).join("");
  $("#f-event select[name=building_id]").innerHTML = '<option value="">—</option>' + data.buildings.map((b) => `<option value="${b.id}">${esc(b.name)}</option>`).join("");
  search();
  refreshOutbox();
}

function search() {
  if (!data) return;
  const q = $("#q").value.trim().toLowerCase();
  const people = q ? data.residents.filter((r) => (r.name + " " + (r.address || "")).toLowerCase().includes(q)) : data.residents.slice(0, 30);
  fill("#people-list", people.slice(0, 60).map((r) => {
    const h = household(r.household_id);
    return li(`<b>${esc(r.name)}</b> ${r.gender === "F" ? esc(gettext("female")) : r.gender === "M" ? esc(gettext("male")) : ""} ${r.age != null ? esc(fmt(ngettext("%(age)s year old", "%(age)s years old", r.age), {age: r.age})) : ""}<small>${esc(r.id_masked)} ${esc(r.phone_masked)}</small><small>${esc(hhLabel(h) || r.address)}</small>${r.tags.map((t) => `<span class="tag">${esc(t)}</span>`).join("")}`, "", h ? () => openVisit(h.id) : null);
  }), q ? gettext("Nothing found") : gettext("No residents in this grid yet"));
}

async function refreshOutbox() {
  const items = (await all("outbox")).sort((a, b) => b.created_at - a.created_at);
  const waiting = items.filter((r) => r.status !== "done");
  $("#outbox-count").textContent = waiting.length;
  const today = new Date().toDateString();
  const mine = items.filter((r) => new Date(r.created_at).toDateString() === today);
  const count = (k) => mine.filter((r) => r.kind === k).length;
  $("#records-summary").innerHTML = esc(fmt(gettext("Today: %(patrols)s patrols · %(visits)s visits · %(events)s events reported · %(logs)s situation log entries"),
    {patrols: count("patrol"), visits: count("visit"), events: count("event"), logs: count("situation")}))
    + `<br><small>${esc(fmt(gettext("%(n)s waiting to upload"), {n: waiting.length}))}</small>`;
  fill("#outbox-list", items.slice(0, 80).map((r) => {
    let extra = "";
    if (r.status === "conflict" && r.conflict) {
      extra = `<div class="diff">${esc(gettext("On the server:"))} ${esc(conflictText(r, r.conflict.server))}<br>${esc(gettext("My change:"))} ${esc(conflictText(r, r.conflict.client))}</div><button class="small" data-act="mine" data-id="${r.uuid}">${esc(gettext("Overwrite with mine"))}</button><button class="small" data-act="theirs" data-id="${r.uuid}">${esc(gettext("Keep the server's"))}</button>`;
    } else if (r.status === "error") {
      extra = (r.kind === "correction" ? `<button class="small" data-act="edit" data-id="${r.uuid}">${esc(gettext("Correct and send again"))}</button>` : "")
        + `<button class="small" data-act="retry" data-id="${r.uuid}">${esc(gettext("Send again"))}</button><button class="small" data-act="drop" data-id="${r.uuid}">${esc(gettext("Delete"))}</button>`;
    } else if (r.kind === "correction" && r.status === "done") {
      extra = `<small>${esc(gettext("Sent to community staff for review"))}</small>`;
    }
    const what = r.kind === "visit" ? hhLabel(household(r.data.household_id)) : r.kind === "event" ? (r.data.description || "").slice(0, 30) : r.kind === "patrol" ? fmt(ngettext("%(n)s track point", "%(n)s track points", r.data.track.length), {n: r.data.track.length})
      : r.kind === "correction" ? `${r.label || ""}: ${Object.keys(r.data.changes).map((k) => fieldLabel(r.data.target_type, k)).join(", ")}` : "";
    const code = r.result && r.result.tracking_code ? ` · ${esc(r.result.tracking_code)}` : "";
    return li(`<b>${esc(KIND[r.kind] || r.kind)}</b> ${esc(what)}<small>${fmtTime(r.client_time)} · <span data-testid="status">${esc(STATUS[r.status])}</span>${code}</small>${r.message && r.status !== "done" ? `<small>${esc(r.message)}</small>` : ""}${extra}`, "st-" + r.status);
  }), gettext("No records yet"));
}

$("#outbox-list").addEventListener("click", async (ev) => {
  const b = ev.target.closest("button[data-act]"); if (!b) return;
  const rec = await get("outbox", b.dataset.id); if (!rec) return;
  if (b.dataset.act === "drop" || b.dataset.act === "theirs") { if (!confirm(gettext("Delete this record?"))) return; await del("outbox", rec.uuid); }
  else if (b.dataset.act === "edit") { openCorrection(rec.household_id, {target: rec.data.target_type + ":" + rec.data.target_id, preset: rec.data.changes, reason: rec.data.reason, replace: rec.uuid, back: "v-records"}); return; }
  else if (b.dataset.act === "retry") { rec.status = "pending"; rec.message = ""; rec.photos = (rec.photos || []); await put("outbox", rec); }
  else if (b.dataset.act === "mine") {
    // A new record based on the server's current version; the conflicting one is closed.
    await del("outbox", rec.uuid);
    await put("outbox", Object.assign({}, rec, {uuid: uuid(), base_version: rec.conflict.server_version, status: "pending", conflict: null, message: "", created_at: Date.now()}));
  }
  refreshOutbox(); sync();
});

/* ---- views and forms ----------------------------------------------------------------------- */
function show(id) {
  $$(".view").forEach((v) => { v.hidden = v.id !== id; });
  $$("#tabs button").forEach((b) => b.classList.toggle("on", b.dataset.view === id));
  $("#tabs").hidden = $("#" + id).classList.contains("sheet");  // a form gets the whole screen
  $("#title").textContent = $("#" + id).dataset.title || gettext("Grid worker");
  if (id === "v-map") drawMap();
  window.scrollTo(0, 0);
}
$$("#tabs button").forEach((b) => { b.onclick = () => show(b.dataset.view); });
$$(".sheet .cancel").forEach((b) => { b.onclick = () => show("v-today"); });
$("#q").addEventListener("input", search);

function here() {
  return new Promise((ok) => {
    if (!navigator.geolocation) return ok(null);
    navigator.geolocation.getCurrentPosition((p) => ok({lon: p.coords.longitude, lat: p.coords.latitude, acc: p.coords.accuracy}), () => ok(null), {enableHighAccuracy: true, timeout: 8000, maximumAge: 60000});
  });
}

function openVisit(householdId) { const f = $("#f-visit"); f.reset(); if (householdId) f.household_id.value = householdId; show("f-visit"); }
$("#new-visit").onclick = () => openVisit();
$("#f-visit").addEventListener("submit", async (ev) => {
  ev.preventDefault(); const f = ev.target; const h = household(f.household_id.value);
  if (!h) return alert(gettext("Choose a household"));
  const pos = await here(); const photo = await storePhoto(f.photo);
  await enqueue("visit", {household_id: h.id, grid_id: h.grid_id, visited_at: new Date().toISOString(), purpose: f.purpose.value, method: f.method.value,
    people_met: f.people_met.value, findings: f.findings.value, needs: f.needs.value, follow_up: f.follow_up.value,
    follow_up_due: f.follow_up_due.value || null, lon: pos && pos.lon, lat: pos && pos.lat}, {photos: photo ? [photo] : []});
  f.reset(); show("v-records");
});

/* Registry corrections: exactly the registry's editable fields (described by the server in the page),
   sent as change requests for community staff to review. The form starts from the values the phone
   has; ID number and phone are never on the phone unmasked, so those inputs start empty (empty = keep). */
const FIELDS = JSON.parse($("#correction-fields").textContent);
let correcting = null;
function fieldLabel(type, name) { const f = (FIELDS[type] || []).find((x) => x.name === name); return f ? f.label : name; }
/* Dwellings come as [id, building id, unit, room]; the label is built here from the building's name. */
function dwellingLabel(d) {
  const b = data.buildings.find((x) => x.id === d[1]);
  return fmt(gettext("%(building)s, unit %(unit)s, room %(room)s"), {building: b ? b.name : "#" + d[1], unit: d[2], room: d[3]});
}
function dwellingsOf(gridId) {
  const inGrid = new Set(data.buildings.filter((b) => b.grid_id === gridId).map((b) => b.id));
  return (data.dwellings || []).filter((d) => inGrid.has(d[1]));
}
function conflictText(r, values) {
  if (r.kind !== "correction") return JSON.stringify(values);
  return Object.entries(values || {}).map(([k, v]) => {
    const f = (FIELDS[r.data.target_type] || []).find((x) => x.name === k);
    const choice = f && f.choices && f.choices.find((c) => c[0] === v);
    const dwelling = f && f.kind === "dwelling" && (data.dwellings || []).find((d) => String(d[0]) === String(v));
    return `${fieldLabel(r.data.target_type, k)}: ${choice ? choice[1] : dwelling ? dwellingLabel(dwelling) : (v === "" || v == null ? "—" : v)}`;
  }).join(" · ");
}
function correctionTargets(h) {
  const own = {key: "household:" + h.id, type: "household", id: h.id, version: h.version, label: hhLabel(h), grid: h.grid_id,
    known: {number: h.number || "", address: h.address || "", dwelling: h.dwelling_id || ""}, masked: {}};
  return [own].concat(data.residents.filter((r) => r.household_id === h.id).map((r) => ({key: "resident:" + r.id, type: "resident",
    id: r.id, version: r.version, label: r.name, grid: r.grid_id, masked: {phone: r.phone_masked, id_number: r.id_masked},
    known: Object.assign({name: r.child ? "" : r.name, gender: r.gender || "", address: r.address || "", relation: r.relation || "",
      dwelling: h.dwelling_id || ""}, r.edit)})));  // the cache leaves out a dwelling equal to the household's
}
function currentValue(f, t) {
  if (!f.cached) return "";
  const v = t.known[f.name];
  return v != null ? String(v) : t.type === "resident" && f.default != null ? f.default : "";  // the cache omits defaults
}
function fieldInput(f, t, preset) {
  const cur = currentValue(f, t);
  const val = preset && f.name in preset ? String(preset[f.name] == null ? "" : preset[f.name]) : cur;
  const attrs = `name="${esc(f.name)}" data-testid="correct-${esc(f.name)}"${f.max_length ? ` maxlength="${f.max_length}"` : ""}`;
  let input;
  if (f.kind === "choice") {
    input = `<select ${attrs}>${f.blank || !cur ? '<option value="">—</option>' : ""}${f.choices.map(([v, l]) => `<option value="${esc(v)}"${v === val ? " selected" : ""}>${esc(l)}</option>`).join("")}</select>`;
  } else if (f.kind === "dwelling") {
    input = `<select ${attrs}><option value="">—</option>${dwellingsOf(t.grid).map((d) => `<option value="${d[0]}"${String(d[0]) === val ? " selected" : ""}>${esc(dwellingLabel(d))}</option>`).join("")}</select>`;
  } else if (f.kind === "textarea") {
    input = `<textarea ${attrs} rows="2" placeholder="${esc(gettext("unchanged if left empty"))}">${esc(val)}</textarea>`;
  } else {
    const secret = f.kind === "phone" || f.kind === "secret";
    const hint = secret ? (t.masked[f.name] ? fmt(gettext("now %(masked)s · type a new one to change it"), {masked: t.masked[f.name]}) : gettext("type a new one to change it"))
      : f.cached ? "" : gettext("unchanged if left empty");
    input = `<input type="${f.kind === "date" ? "date" : f.kind === "phone" ? "tel" : "text"}" ${attrs} value="${esc(val)}" placeholder="${esc(hint)}" autocomplete="off">`;
  }
  return `<label>${esc(f.label)} ${input}</label>`;
}
function drawCorrectionFields(preset) {
  const t = correcting.targets.find((x) => x.key === $("#f-correct select[name=target]").value);
  $("#correct-fields").innerHTML = FIELDS[t.type].map((f) => fieldInput(f, t, preset)).join("");
}
function openCorrection(householdId, opts) {
  const h = household(householdId);
  if (!h) return alert(gettext("Choose a household"));
  opts = opts || {};
  correcting = {household: h, targets: correctionTargets(h), replace: opts.replace || null, back: opts.back || "f-visit"};
  const f = $("#f-correct"); f.reset();
  $("#correct-household").textContent = hhLabel(h);
  f.target.innerHTML = correcting.targets.map((t) => `<option value="${t.key}">${esc(t.type === "household" ? fmt(gettext("Household: %(label)s"), {label: t.label}) : t.label)}</option>`).join("");
  if (opts.target && correcting.targets.some((t) => t.key === opts.target)) f.target.value = opts.target;
  f.reason.value = opts.reason || "";
  drawCorrectionFields(opts.preset);
  show("f-correct");
}
$("#f-correct select[name=target]").addEventListener("change", () => drawCorrectionFields());
$("#visit-correct").onclick = () => openCorrection($("#f-visit").household_id.value);
$("#correct-cancel").onclick = () => show(correcting ? correcting.back : "v-today");
$("#f-correct").addEventListener("submit", async (ev) => {
  ev.preventDefault(); const f = ev.target;
  const t = correcting.targets.find((x) => x.key === f.target.value);
  const changes = {};
  for (const field of FIELDS[t.type]) {
    const el = $(`#correct-fields [name="${field.name}"]`); if (!el) continue;
    const v = el.value.trim(); const cur = currentValue(field, t);
    if (field.cached ? v !== cur : v !== "") changes[field.name] = v;
  }
  if (!Object.keys(changes).length) return alert(gettext("Nothing was changed."));
  await enqueue("correction", {target_type: t.type, target_id: t.id, changes, reason: f.reason.value.trim()},
    {base_version: t.version, label: t.label, household_id: correcting.household.id});
  if (correcting.replace) { await del("outbox", correcting.replace); refreshOutbox(); }
  show(correcting.back);
});

$("#patrol-report").onclick = async () => {
  $("#f-event").reset(); show("f-event");
  const pos = await here(); $("#f-event").dataset.pos = pos ? JSON.stringify(pos) : "";
  $("#event-loc").textContent = pos ? fmt(gettext("Location: %(lon)s, %(lat)s (±%(acc)s m)"), {lon: pos.lon.toFixed(5), lat: pos.lat.toFixed(5), acc: Math.round(pos.acc)})
    : gettext("No location fix; the building's or the grid's centre will be used");
};
$("#f-event").addEventListener("submit", async (ev) => {
  ev.preventDefault(); const f = ev.target; const g = grid();
  if (!g) return alert(gettext("The grid data has not loaded yet"));
  const pos = f.dataset.pos ? JSON.parse(f.dataset.pos) : null; const photo = await storePhoto(f.photo);
  await enqueue("event", {grid_id: g.id, category: f.category.value, description: f.description.value, address: f.address.value,
    building_id: f.building_id.value ? Number(f.building_id.value) : null, resolve_on_spot: f.resolve_on_spot.checked,
    lon: pos && pos.lon, lat: pos && pos.lat, occurred_at: new Date().toISOString()}, {photos: photo ? [photo] : []});
  if (patrol) { patrol.events = (patrol.events || 0) + 1; await put("kv", patrol, "patrol"); }
  f.reset(); show(patrol ? "v-patrol" : "v-records");
});

$("#new-log").onclick = () => { $("#f-log").reset(); show("f-log"); };
$("#f-log").addEventListener("submit", async (ev) => {
  ev.preventDefault(); const f = ev.target; const g = grid(); if (!g) return;
  const pos = await here();
  await enqueue("situation", {grid_id: g.id, text: f.text.value, place: f.place.value, tags: f.tags.value, follow_up_needed: f.follow_up_needed.checked,
    occurred_at: new Date().toISOString(), lon: pos && pos.lon, lat: pos && pos.lat});
  f.reset(); show("v-records");
});

let verifying = null;
function openVerify(c) { verifying = c; $("#f-verify").reset(); $("#verify-case").innerHTML = `<b>${esc(c.category)}</b> ${esc(c.code)}<br><small>${esc(c.description)}</small>`; show("f-verify"); }
$("#f-verify").addEventListener("submit", async (ev) => {
  ev.preventDefault(); const f = ev.target; const passed = ev.submitter && ev.submitter.name === "pass";
  const photo = await storePhoto(f.photo);
  await enqueue("verify", {case_id: verifying.id, passed, comment: f.comment.value}, {base_version: verifying.version, photos: photo ? [photo] : []});
  show("v-records");
});

async function followUpDone(f) {
  if (!confirm(fmt(gettext("Followed up: %(label)s?"), {label: f.label}))) return;
  await enqueue("visit_edit", {visit_uuid: f.visit_uuid, changes: {follow_up_done_at: new Date().toISOString()}}, {base_version: f.version});
  data.follow_ups = data.follow_ups.filter((x) => x !== f); render();
}

/* ---- patrol -------------------------------------------------------------------------------- */
function renderPatrol() {
  const on = !!patrol;
  $("#patrol-toggle").textContent = on ? gettext("End patrol") : gettext("Start patrol");
  $("#patrol-checkin").hidden = !on;
  if (!on) { $("#patrol-state").textContent = gettext("Not on patrol. Once you start, your track is recorded while this page is open."); return; }
  const mins = Math.round((Date.now() - new Date(patrol.started_at)) / 60000);
  $("#patrol-state").innerHTML = `<b>${esc(gettext("On patrol"))}</b> · ` + esc(fmt(gettext("%(mins)s min · %(points)s track points · %(checkins)s check-ins · %(events)s events reported"),
    {mins, points: patrol.track.length, checkins: patrol.checkins.length, events: patrol.events || 0}));
}
function onPosition(p) {
  if (!patrol) return;
  const pt = [+p.coords.longitude.toFixed(7), +p.coords.latitude.toFixed(7), Date.now(), Math.round(p.coords.accuracy || 0)];
  const last = patrol.track[patrol.track.length - 1];
  if (last && pt[2] - last[2] < 10000) return; // at most one sample per 10 s
  patrol.track.push(pt); put("kv", patrol, "patrol"); renderPatrol();
}
function watch() { if (navigator.geolocation && watchId == null) watchId = navigator.geolocation.watchPosition(onPosition, () => {}, {enableHighAccuracy: true, maximumAge: 5000}); }
$("#patrol-toggle").onclick = async () => {
  if (!patrol) {
    const g = grid(); if (!g) return alert(gettext("The grid data has not loaded yet"));
    patrol = {uuid: uuid(), grid_id: g.id, started_at: new Date().toISOString(), track: [], checkins: [], events: 0};
    await put("kv", patrol, "patrol"); watch();
    const pos = await here(); if (pos) onPosition({coords: {longitude: pos.lon, latitude: pos.lat, accuracy: pos.acc}});
  } else {
    if (watchId != null) { navigator.geolocation.clearWatch(watchId); watchId = null; }
    const p = patrol; patrol = null; await del("kv", "patrol");
    await enqueue("patrol", {grid_id: p.grid_id, started_at: p.started_at, ended_at: new Date().toISOString(), track: p.track, checkins: p.checkins, note: ""}, {uuid: p.uuid});
  }
  renderPatrol();
};
$("#patrol-checkin").onclick = async () => {
  const pos = await here(); if (!patrol) return;
  patrol.checkins.push({lon: pos && pos.lon, lat: pos && pos.lat, at: new Date().toISOString(), note: ""});
  await put("kv", patrol, "patrol"); renderPatrol();
};
setInterval(() => { if (patrol) renderPatrol(); }, 30000);

/* ---- map (Leaflet, loaded on first use) ---------------------------------------------------- */
let map = null;
function loadLeaflet() {
  if (window.L) return Promise.resolve();
  const css = document.createElement("link"); css.rel = "stylesheet"; css.href = B.leafletCss; document.head.appendChild(css);
  return new Promise((ok, fail) => { const s = document.createElement("script"); s.src = B.leaflet; s.onload = ok; s.onerror = fail; document.head.appendChild(s); });
}
async function drawMap() {
  if (!data) return;
  try { await loadLeaflet(); } catch (e) { $("#map-hint").textContent = gettext("The map could not be loaded"); return; }
  if (map) { map.invalidateSize(); return; }
  map = L.map("map", {zoomControl: true});
  if (B.tiles) L.tileLayer(B.tiles, {maxZoom: 19}).addTo(map);
  const layers = [];
  data.grids.forEach((g) => { if (g.boundary) layers.push(L.geoJSON(g.boundary, {style: {color: "#b3261e", weight: 2, fillOpacity: 0.05}}).addTo(map)); });
  data.buildings.forEach((b) => L.circleMarker([b.lat, b.lon], {radius: 6, color: "#1565c0", weight: 1, fillOpacity: 0.6}).bindPopup(esc(b.name)).addTo(map));
  data.open_cases.forEach((c) => L.circleMarker([c.lat, c.lon], {radius: 8, color: "#b3261e", fillColor: "#ff7043", fillOpacity: 0.9}).bindPopup(`<b>${esc(c.category)}</b><br>${esc(c.state_label)}<br>${esc(c.code)}`).addTo(map));
  if (layers.length) map.fitBounds(L.featureGroup(layers).getBounds()); else map.setView([37.524, 111.134], 14);
  $("#map-hint").textContent = fmt(gettext("%(buildings)s buildings (blue) · %(cases)s open cases (red)"), {buildings: data.buildings.length, cases: data.open_cases.length});
  const pos = await here(); if (pos) L.circleMarker([pos.lat, pos.lon], {radius: 7, color: "#2e7d32", fillOpacity: 1}).bindPopup(esc(gettext("My location"))).addTo(map);
}

/* ---- start --------------------------------------------------------------------------------- */
function net() { const on = navigator.onLine; const n = $("#net"); n.textContent = on ? gettext("Online") : gettext("Offline"); n.classList.toggle("off", !on); }
window.addEventListener("online", () => { net(); refresh(); });
window.addEventListener("offline", net);
$("#sync-now").onclick = () => { retries = 0; refresh(); show("v-records"); };
if ("serviceWorker" in navigator) navigator.serviceWorker.register(B.sw, {scope: "/m/"}).catch(() => {});
(async () => {
  net(); show("v-today");
  // A record left "sending" when the app was closed mid-sync goes back to the queue; the server
  // recognises its UUID if it had already arrived.
  for (const r of await all("outbox")) if (r.status === "sending") { r.status = "pending"; await put("outbox", r); }
  patrol = (await get("kv", "patrol")) || null; if (patrol) watch(); renderPatrol();
  await loadData(); await sync();
  setInterval(sync, 60000);
})();
/* Send everything again (for support: "my records did not arrive"). Safe: the server answers
   "already received" for every UUID it has and creates nothing twice. */
async function resendAll() {
  for (const r of await all("outbox")) if (r.status === "done") { r.status = "pending"; await put("outbox", r); }
  await refreshOutbox(); await sync();
}
window.yiwangApp = {sync, resendAll, all: () => all("outbox")};
})();
