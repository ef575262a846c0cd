// The portal: public registry pages and an operator console over the /v1 JSON API.
// Plain JavaScript, no framework, no external resources; hash routing (#/page, #/projects/TH014),
// and the pages the server renders too at a path of their own (/projects, /projects/TH014: they
// are readable without this script, which draws them again when it runs).
"use strict";

const PAGE_SIZE = 25;
const LANGS = ["en", "ja"];
// ?lang= of the address (the server's pages take it too), else the choice kept in this browser,
// else the browser's language.
let lang = [new URLSearchParams(location.search).get("lang"), localStorage.getItem("lang"),
  (navigator.language || "").slice(0, 2)].find(l => LANGS.includes(l)) || "en";

// Whether the page is one the server rendered at its own path (/projects, /projects/TH014), with
// no #/ route over it: its state is then kept in the path and query, not in the hash.
function pathMode() { return !location.hash.replace(/^#\/?/, "") && /^\/(projects|issuances|authorizations|statistics|reports)(\/|$)/.test(location.pathname); }

// A label in the current language; {name} in it is replaced by vars.name.
function t(key, vars) {
  const text = (I18N[lang] && I18N[lang][key]) || I18N.en[key] || key;
  return vars ? text.replace(/\{(\w+)\}/g, (m, k) => (vars[k] ?? m)) : text;
}

// The label as nodes, each value of vars in a span of class "data" (names and numbers that are
// the registry's data, not the portal's words, whatever the language).
function tNodes(key, vars) {
  const text = (I18N[lang] && I18N[lang][key]) || I18N.en[key] || key;
  return text.split(/(\{\w+\})/).filter(Boolean).map(part => {
    const m = /^\{(\w+)\}$/.exec(part);
    return m && vars[m[1]] !== undefined ? el("span", { class: "data" }, vars[m[1]]) : part;
  });
}

function token() { return sessionStorage.getItem("token") || ""; }

// Calls the API. Returns {status, body}; never throws on an HTTP error status.
async function api(method, path, body) {
  const headers = { "Accept": "application/json" };
  if (token()) headers["Authorization"] = "Bearer " + token();
  const init = { method, headers };
  if (body !== undefined) {
    headers["Content-Type"] = "application/json";
    headers["Idempotency-Key"] = crypto.randomUUID();
    init.body = JSON.stringify(body);
  }
  // A 503 with Retry-After (every report slot busy, the write queue full) is retried twice after
  // the time it asks for; a write keeps its Idempotency-Key, so a retry never applies it twice.
  let response = await fetch(path, init);
  for (let retry = 0; retry < 2 && response.status === 503 && response.headers.has("Retry-After"); retry++) {
    const seconds = Math.min(Number(response.headers.get("Retry-After")) || 1, 10);
    await new Promise(resolve => setTimeout(resolve, seconds * 1000));
    response = await fetch(path, init);
  }
  let parsed = null;
  try { parsed = await response.json(); } catch (e) { parsed = null; }
  return { status: response.status, body: parsed, date: response.headers.get("Date") };
}

function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (k === "class") node.className = v;
    else if (k.startsWith("on")) node.addEventListener(k.slice(2), v);
    else if (v !== undefined && v !== null && v !== false) node.setAttribute(k, v);
  }
  for (const c of children.flat(Infinity)) {
    if (c === null || c === undefined || c === false) continue;
    node.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return node;
}

function fmt(n) { return typeof n === "number" ? n.toLocaleString("en-US") : (n ?? ""); }

// "2026-05-01T10:00:00Z" -> "2026-05-01 10:00 UTC"; a date stays a date.
function when(time) {
  if (!time) return "";
  return time.length > 10 ? `${time.slice(0, 10)} ${time.slice(11, 16)} UTC` : time;
}

// The label of an account type ("government_holding"), of a project state, of a purpose.
function accountType(type) { return type ? t("type." + type) : ""; }
function stateLabel(state) { return state ? t("state." + state) : ""; }

function projectLink(ref) {
  return ref ? el("a", { href: "#/projects/" + encodeURIComponent(ref), class: "project-link" }, ref) : "";
}

// A serial range linked to the lookup of its first serial.
function serialsLink(registry, first, last) {
  const text = first === last ? String(first) : `${first}–${last}`;
  return registry ? el("a", { href: `#/lookup/${encodeURIComponent(registry)}/${first}` }, text) : text;
}

// The ITMO identifier of a serial (core/itmo_id.cc): CA-registry-first transferring Party-serial-vintage.
function itmoId(lot, serial) {
  return `${lot.cooperative_approach}-${lot.registry}-${lot.first_transferring_party}-${serial}-${lot.vintage}`;
}

// The ITMO identifiers of a range of one lot, as "first … last", each linked to its lookup (the
// JCM serial and the ITMO identifier of the same unit, R-ID-05).
function itmoRange(lot, first, last) {
  if (!lot || !lot.itmo || !lot.cooperative_approach) return "";
  const link = serial => el("a", { href: "#/lookup/" + encodeURIComponent(itmoId(lot, serial)) }, itmoId(lot, serial));
  return first === last ? el("code", { class: "itmo-id" }, link(first))
    : el("code", { class: "itmo-id" }, link(first), " … ", link(last));
}

// A message at the place the user looks; focus moves to it so that it is seen and read out.
function message(text, ok) {
  return el("div", { class: "msg " + (ok ? "ok" : "bad"), role: ok ? "status" : "alert", tabindex: "-1" }, text);
}

function say(where, text, ok) {
  const node = message(text, ok);
  where.replaceChildren(node);
  node.focus();
  return node;
}

// A refusal of the API in words: the check's code and name, and the server's sentence (English).
function errorText(r) {
  if (r.body && r.body.code) {
    // In Japanese the check's own sentence (check.NAME), the server's English one after it.
    const own = lang !== "en" && I18N[lang] && I18N[lang]["check." + r.body.check];
    return [t("error.refused", { code: r.body.code, check: r.body.check }), " ",
      own ? [own, " ", el("span", { class: "server-text", lang: "en" }, `(${r.body.message})`)]
        : el("span", { class: "server-text", lang: "en" }, r.body.message)];
  }
  return t("error.http", { status: r.status });
}

function setTitle(key, vars) {
  document.title = `${t(key, vars)} · ${t("brand")}`;
}

// ---- CSV ---------------------------------------------------------------------------------------
// Every table downloads as CSV, made here from the rows it holds (all of them, filtered and sorted
// as shown, not only the page on screen): a header row of the column labels, then one line per
// row, fields quoted as RFC 4180 says (a field with a comma, a quote or a line break is put in
// quotes, its quotes doubled), lines ended by CRLF, UTF-8 with a BOM so that spreadsheet programs
// read Japanese. Numbers are written without thousands separators.

// The text of a cell as the CSV has it.
function cellText(c, r) {
  if (!c.render) return c.key in r ? (r[c.key] ?? "") : "";
  const v = c.render(r);
  const text = v instanceof Node ? v.textContent : Array.isArray(v) ? el("span", {}, v).textContent : String(v ?? "");
  return c.num ? text.replace(/,/g, "") : text;
}

function csvField(value) {
  const s = String(value ?? "");
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

function csvText(columns, rows) {
  const cols = columns.filter(c => !c.noCsv);
  return [cols.map(c => c.label), ...rows.map(r => cols.map(c => cellText(c, r)))]
    .map(line => line.map(csvField).join(",")).join("\r\n") + "\r\n";
}

function saveFile(parts, filename, type) {
  const url = URL.createObjectURL(new Blob(parts, { type }));
  const a = el("a", { href: url, download: filename });
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10000);
}

// A button that saves the table's rows (a function: they change with filters and sort) as CSV.
function csvButton(columns, rows, filename) {
  return el("button", { type: "button", class: "secondary csv", "data-file": filename,
    onclick: () => saveFile(["\ufeff", csvText(columns, typeof rows === "function" ? rows() : rows)], filename, "text/csv;charset=utf-8") },
  t("csv.download"));
}

// A table in a container that scrolls sideways on a narrow screen; with a file name, a button
// under it downloads it as CSV. Header cells have scope="col", and a caption names the table.
function table(columns, rows, caption, filename, sort) {
  const head = el("tr", {}, columns.map(c => el("th", { class: c.num ? "num" : "", scope: "col",
    "aria-sort": sort && sort.key === c.key ? (sort.desc ? "descending" : "ascending") : undefined },
  sort && !c.noSort ? el("button", { type: "button", class: "sort", "data-key": c.key, onclick: () => sort.by(c.key) },
    c.label, sort.key === c.key ? (sort.desc ? " ▼" : " ▲") : "") : c.label)));
  const body = rows.map(r => el("tr", {}, columns.map(c => el("td", { class: [c.num ? "num" : "", c.l10n ? "l10n" : ""].join(" ").trim() },
    c.render ? c.render(r) : (c.num ? fmt(r[c.key]) : (r[c.key] ?? ""))))));
  // The container scrolls on a narrow screen: it takes the focus so that the keyboard scrolls it
  // too, and is a region named by the caption.
  const name = caption ? (caption instanceof Node ? caption.textContent : String(caption)) : undefined;
  const wrap = el("div", { class: "table-wrap", tabindex: "0", role: name ? "region" : undefined, "aria-label": name },
    el("table", {}, caption ? el("caption", {}, caption) : null, el("thead", {}, head), el("tbody", {}, body)));
  return filename ? el("div", { class: "table-block" }, wrap, el("div", { class: "table-tools" }, csvButton(columns, rows, filename))) : wrap;
}

// The value a column sorts by: its sortValue, else the row's field, else the cell's text.
function sortValue(c, r) {
  if (c.sortValue) return c.sortValue(r);
  if (c.key in r && (typeof r[c.key] === "number" || typeof r[c.key] === "string")) return r[c.key];
  return cellText(c, r);
}

function compareValues(a, b) {
  if (typeof a === "number" && typeof b === "number") return a - b;
  return String(a ?? "").localeCompare(String(b ?? ""), undefined, { numeric: true });
}

// A table that pages through `rows` on the client. columns: [{key, label, num, render, sortValue,
// noSort, noCsv}]. After a click on "previous" or "next", focus stays on that button.
// opts: caption; csv (the file name of the CSV download, or {href, filename}: the server's CSV);
// sortable (header cells become buttons); page and sort ("key" or "-key") to start from; onState
// ({page, sort}) told of every change, to keep them in the URL.
function pagedTable(columns, rows, id, opts = {}) {
  const wrap = el("div", { id });
  const pages = Math.max(1, Math.ceil(rows.length / PAGE_SIZE));
  let page = Math.min(Math.max(0, (Number(opts.page) || 1) - 1), pages - 1);
  let sortKey = (opts.sort || "").replace(/^-/, ""), desc = (opts.sort || "").startsWith("-");
  if (!columns.some(c => c.key === sortKey && !c.noSort)) sortKey = "";
  const sorted = () => {
    if (!sortKey) return rows;
    const c = columns.find(x => x.key === sortKey);
    const keyed = rows.map((r, i) => [sortValue(c, r), i, r]);
    keyed.sort((a, b) => (desc ? -1 : 1) * compareValues(a[0], b[0]) || a[1] - b[1]);
    return keyed.map(k => k[2]);
  };
  const tell = () => opts.onState && opts.onState({ page: page + 1, sort: sortKey ? (desc ? "-" : "") + sortKey : "" });
  const sort = opts.sortable ? { key: sortKey, desc, by: key => {
    if (sortKey === key) desc = !desc; else { sortKey = key; desc = false; }
    page = 0;
    tell();
    draw("sort-" + key);
  } } : null;
  const status = el("div", { class: "form-status download-status" });
  const csv = opts.csv ? (typeof opts.csv === "string" ? csvButton(columns, sorted, opts.csv)
    : downloadLink(opts.csv.id || id + "-csv", opts.csv.href, opts.csv.filename, t("csv.downloadServer"), status)) : null;
  function draw(focus) {
    wrap.replaceChildren();
    if (rows.length === 0) { wrap.append(el("p", { class: "muted" }, t("none"))); return; }
    const all = sorted();
    if (sort) Object.assign(sort, { key: sortKey, desc });
    wrap.append(table(columns, all.slice(page * PAGE_SIZE, (page + 1) * PAGE_SIZE), opts.caption, undefined, sort));
    const tools = el("div", { class: "pager" });
    if (pages > 1) {
      tools.append(
        el("button", { class: "secondary prev", type: "button", onclick: () => { if (page > 0) page--; tell(); draw("prev"); } }, t("prev")),
        el("span", {}, t("pageOf", { page: page + 1, pages, count: fmt(rows.length) })),
        el("button", { class: "secondary next", type: "button", onclick: () => { if (page < pages - 1) page++; tell(); draw("next"); } }, t("next")));
    }
    if (csv) tools.append(csv);
    if (tools.childNodes.length) wrap.append(tools);
    if (csv && typeof opts.csv !== "string") wrap.append(status);
    if (focus && focus.startsWith("sort-")) wrap.querySelector(`th button.sort[data-key="${focus.slice(5)}"]`)?.focus();
    else if (focus) wrap.querySelector(".pager button." + focus)?.focus();
  }
  draw();
  return wrap;
}

// A list, following the pages of a paged one (next_after is the ?after= of the next page), up to
// maxPages pages.
async function listOf(path, key, maxPages = 20) {
  let out = [];
  let url = path;
  for (let page = 0; page < maxPages; page++) {
    const r = await api("GET", url);
    if (r.status !== 200 || !r.body) return out;
    if (!Array.isArray(r.body[key])) throw new Error(t("error.noList", { path, key }));
    out = out.concat(r.body[key]);
    if (r.body.next_after === undefined) return out;
    url = path + (path.includes("?") ? "&" : "?") + "after=" + encodeURIComponent(r.body.next_after);
  }
  return out;
}

// A definition list of [label, value] pairs; empty values are left out.
// A value marked l10n (the third element true) is the portal's words; any other is data.
function facts(pairs, id) {
  return el("dl", { class: "facts", id }, pairs.filter(([, v]) => v !== "" && v !== null && v !== undefined &&
    !(Array.isArray(v) && v.length === 0)).map(([k, v, l10n]) => [el("dt", {}, k), el("dd", { class: l10n ? "l10n" : "" }, v)]));
}

// ---- Search, filters and sort, kept in the URL -----------------------------------------------------

// The view's state in the address: #/projects?host=MNG&state=registered&sort=-issued&page=2. Written
// with replaceState (no new history entry and no second render); a link to it opens the same view.
function writeQuery(name, state) {
  const q = new URLSearchParams(Object.entries(state).filter(([k, v]) => v !== "" && v !== undefined && v !== null &&
    !(k === "page" && Number(v) === 1)));
  const text = q.toString();
  history.replaceState(null, "", `${pathMode() ? "/" : "#/"}${name}${text ? "?" + text : ""}`);
}

// A list with a search box, filters and sortable columns over every row of `rows`, on the client.
// filters: [{key, label, value: row -> string, option: value -> label}]; search: row -> text.
// The state (q, each filter, sort, page) comes from and goes to the URL.
function filteredList({ name, id, columns, rows, filters, search, params, caption, csv }) {
  const state = { q: params.get("q") || "", sort: params.get("sort") || "", page: params.get("page") || "" };
  for (const f of filters) state[f.key] = params.get(f.key) || "";
  const count = el("p", { id: id + "-count", class: "muted", role: "status" });
  const holder = el("div", { class: "list-table" });
  const matches = () => {
    const words = state.q.toLowerCase().split(/\s+/).filter(Boolean);
    return rows.filter(r => filters.every(f => !state[f.key] || String(f.value(r)) === state[f.key]) &&
      words.every(w => search(r).toLowerCase().includes(w)));
  };
  const draw = () => {
    const shown = matches();
    count.replaceChildren(t("filter.count", { shown: fmt(shown.length), count: fmt(rows.length) }));
    holder.replaceChildren(pagedTable(columns, shown, id, { caption, csv, sortable: true, sort: state.sort, page: state.page,
      onState: s => { state.sort = s.sort; state.page = String(s.page); writeQuery(name, state); } }));
  };
  const changed = (key, value) => { state[key] = value; state.page = ""; writeQuery(name, state); draw(); };
  const qInput = el("input", { type: "search", name: "q", value: state.q, oninput: e => changed("q", e.target.value.trim()) });
  const selects = filters.map(f => {
    const values = [...new Set(rows.map(r => String(f.value(r) ?? "")).filter(Boolean))].sort((a, b) => compareValues(a, b));
    if (state[f.key] && !values.includes(state[f.key])) values.push(state[f.key]);
    const select = el("select", { name: f.key, onchange: e => changed(f.key, e.target.value) },
      el("option", { value: "" }, t("filter.all")), values.map(v => el("option", { value: v }, f.option ? f.option(v) : v)));
    select.value = state[f.key];
    return el("label", {}, f.label, select);
  });
  const form = el("form", { class: "filters", id: id + "-filters", role: "search", onsubmit: e => e.preventDefault() },
    el("label", {}, t("filter.search"), qInput), selects,
    el("button", { type: "button", class: "secondary", onclick: () => {
      for (const k of Object.keys(state)) state[k] = "";
      writeQuery(name, state);
      route();
    } }, t("filter.clear")));
  draw();
  return [form, count, holder];
}

// ---- Public pages ------------------------------------------------------------------------------

async function pageHome(main) {
  setTitle("home.title");
  main.append(el("h1", {}, t("home.title")));
  const r = await api("GET", "/v1/totals");
  const totals = (r.body && r.body.totals) || {};
  const cards = el("div", { class: "cards", id: "totals" });
  for (const [registry, byType] of Object.entries(totals)) {
    for (const [type, amount] of Object.entries(byType)) {
      cards.append(el("div", { class: "card", "data-registry": registry, "data-type": type },
        el("div", { class: "value" }, fmt(amount)), el("div", { class: "label" }, `${registry} · ${accountType(type)}`)));
    }
  }
  main.append(el("h2", {}, t("home.totals")), cards);
}

// Search, filters and sort run in the browser, over the whole list: /v1/projects answers every
// project in one reply (no paging) and /v1/lots is followed to its last page (listOf with no page
// limit), so nothing is left out of a filter; the lists are small (a few hundred projects, one lot
// per issuance decision, vintage and side) and a change of filter needs no round trip.
async function pageProjects(main, args, params) {
  setTitle("projects.title");
  main.append(el("h1", {}, t("projects.title")));
  const [projects, lots] = await Promise.all([listOf("/v1/projects", "projects", Infinity), listOf("/v1/lots", "lots", Infinity)]);
  const issued = {};
  for (const l of lots) issued[l.project] = (issued[l.project] || 0) + l.quantity;
  const ref = p => p.ref || p.reference || "";
  main.append(...filteredList({ name: "projects", id: "projects", rows: projects, params, caption: t("projects.caption"), csv: "projects.csv",
    search: p => [ref(p), p.title, p.host_party, p.methodology, (p.participants || []).join(" ")].join(" "),
    filters: [{ key: "host", label: t("col.host"), value: p => p.host_party || "" },
      { key: "state", label: t("col.state"), value: p => p.state || "", option: stateLabel }],
    columns: [
      { key: "ref", label: t("col.reference"), render: p => projectLink(ref(p)), sortValue: ref },
      { key: "title", label: t("col.title") },
      { key: "host_party", label: t("col.host"), render: p => p.host_party || "" },
      { key: "state", label: t("col.state"), l10n: true, render: p => stateLabel(p.state) },
      { key: "methodology", label: t("col.methodology") },
      { key: "issued", label: t("col.issuedHere"), num: true, render: p => fmt(issued[ref(p)] || 0), sortValue: p => issued[ref(p)] || 0 },
    ] }));
}

// One project: what it is, the JC's decisions, each Party's authorization (Step 1, 2a, 2b) with
// authorized against issued per vintage, its issuances and the history of its ITMOs.
async function pageProject(main, ref) {
  setTitle("project.title", { ref });
  const doc = await api("GET", `/v1/documents/project/${encodeURIComponent(ref)}`);
  if (doc.status !== 200 || !doc.body?.current) {
    main.append(el("h1", {}, t("project.title", { ref })),
      message(doc.status === 404 ? t("project.unknown", { ref }) : errorText(doc), false),
      el("p", {}, el("a", { href: "#/projects" }, t("project.all"))));
    return;
  }
  const p = doc.body.current;
  const [auths, cas, lots, cycle] = await Promise.all([
    listOf('/v1/authorizations', 'authorizations'),
    listOf('/v1/cooperative-approaches', 'cooperative_approaches'), listOf('/v1/lots', 'lots'),
    api("GET", `/v1/projects/${encodeURIComponent(ref)}/records`)
  ]);
  const ca = cas.find(c => c.key === p.ca_key);
  const mine = lots.filter(l => l.project === ref);
  main.append(el("h1", {}, t("project.title", { ref })), el("p", { class: "lead data" }, p.title || ""),
    facts([
      [t("col.host"), p.host_party], [t("project.participants"), (p.participants || []).join("; ")],
      [t("col.methodology"), [p.methodology, p.methodology_version].filter(Boolean).join(" ")],
      [t("project.sector"), [p.sector, p.activity_type].filter(Boolean).join(" · ")],
      // The default of core/aef_actions.cc DefaultMitigationType when the project names none.
      [t("project.mitigationType"), p.mitigation_type || (["Afforestation", "Reforestation"].includes(p.activity_type) ? "Removals" : "Emission reductions")],
      [t("col.state"), stateLabel(p.state), true], [t("project.registered"), p.registration_date],
      [t("project.ca"), ca ? `${ca.ca_id || ""} (${(ca.parties || []).join(", ")})` : ""],
      [t("project.allocation"), p.allocation ? Object.entries(p.allocation).map(([k, v]) => `${k} ${v}%`).join(", ") : ""],
      [t("project.permalink"), el("a", { href: "/projects/" + encodeURIComponent(ref), class: "permalink" }, location.origin + "/projects/" + ref)],
    ], "project-facts"));

  // The Credit Allocation Form (issue 31 item 1) names accounts: shown to a signed-in user whose
  // token may read it, left out for the public.
  if (token()) {
    const form = await api("GET", `/v1/documents/allocation_form/${encodeURIComponent(ref)}`);
    if (form.status === 200 && form.body?.current) {
      const title = t("project.allocationForm", { version: form.body.current.version ?? "" });
      main.append(el("h2", {}, title), table([{ key: "side", label: t("project.side") },
        { key: "account", label: t("col.account"), num: true },
        { key: "percent", label: t("project.percent"), num: true }],
      form.body.current.accounts || [], title, `${ref}-allocation-form.csv`));
    }
  }
  main.append(el("h2", {}, t("project.decisions")), (p.decisions || []).length
    ? table([{ key: "date", label: t("col.date") },
        { key: "id", label: t("col.decision"), render: d => d.id || (d.record ? t("project.byRecord", { n: d.record }) : "") },
        { key: "from", label: t("col.change"), l10n: true, render: d => `${stateLabel(d.from)} → ${stateLabel(d.to)}` }],
      p.decisions, t("project.decisions"), `${ref}-decisions.csv`)
    : el("p", { class: "muted" }, t("none")));

  main.append(el("h2", {}, t("project.cycle")));
  const records = cycle.status === 200 ? cycle.body.records || [] : [];
  main.append(records.length ? el("div", { id: "project-cycle" }, table([
    { key: "number", label: t("col.number"), num: true },
    { key: "date", label: t("col.date") },
    { key: "kind", label: t("col.record"), l10n: true, render: r => t("cycle." + r.kind) },
    { key: "details", label: t("col.details"), l10n: true, render: cycleDetails },
    { key: "document", label: t("col.document"), render: r => el("span", {},
      el("a", { class: "document", rel: "noopener noreferrer", href: r.document.url }, r.document.url), " ",
      el("code", { class: "sha256" }, r.document.sha256)) }],
    records, t("project.cycle"), `${ref}-cycle.csv`))
    : el("p", { class: "muted" }, cycle.status === 200 || cycle.status === 404 ? t("project.noCycle") : errorText(cycle)));

  main.append(el("h2", {}, t("project.authorizations")));
  const byParty = auths.filter(a => a.project === ref);
  if (byParty.length === 0) main.append(el("p", { class: "muted" }, t("project.noAuthorization")));
  for (const a of byParty) main.append(authorizationSection(a, ca, doc.date));

  main.append(el("h2", {}, t("project.issuances")));
  if ((p.issuances || []).length) {
    main.append(table([{ key: "date", label: t("col.date") }, { key: "jc_decision", label: t("col.decision") },
      { key: "side", label: t("project.side") }, { key: "total", label: t("col.quantity"), num: true },
      { key: "shares", label: t("project.shares"), render: i => Object.entries(i.shares || {}).map(([k, v]) => `${k} ${fmt(v)}`).join(", ") }],
    p.issuances, t("project.decisionsIssued"), `${ref}-issuance-decisions.csv`));
  }
  if ((p.reversals || []).length) {
    main.append(el("h2", {}, t("project.reversals")), table([{ key: "date", label: t("col.date") },
      { key: "quantity", label: t("col.quantity"), num: true }, { key: "cause", label: t("project.cause") },
      { key: "remediated", label: t("project.remediated"), num: true },
      { key: "outstanding", label: t("project.outstanding"), num: true, render: r => fmt(r.quantity - r.remediated) }],
    p.reversals, t("project.reversals"), `${ref}-reversals.csv`));
  }
  main.append(pagedTable([
    { key: "registry", label: t("col.registry") }, { key: "vintage", label: t("col.vintage"), num: true, render: l => l.vintage },
    { key: "first", label: t("col.serials"), render: l => serialsLink(l.registry, l.first, l.last) },
    { key: "itmo_id", label: t("col.itmoId"), render: l => itmoRange(l, l.first, l.last) },
    { key: "quantity", label: t("col.quantity"), num: true },
    { key: "itmo", label: t("col.kind"), l10n: true, render: l => l.itmo ? el("span", { class: "tag itmo" }, "ITMO " + (l.cooperative_approach || "")) : el("span", { class: "tag" }, t("kind.jcm")) },
    { key: "jc_decision", label: t("col.decision") }], mine, "project-lots", { caption: t("project.lots"), csv: `${ref}-lots.csv` }));

  main.append(el("h2", {}, t("project.history")), el("p", { class: "muted" }, t("project.historyHint")));
  const history = el("div", { id: "project-history" });
  main.append(history);
  const itmoLots = mine.filter(l => l.itmo);
  if (itmoLots.length === 0) { history.append(el("p", { class: "muted" }, t("project.noItmo"))); return; }
  const seen = new Set();
  const rows = [];
  for (const lot of itmoLots) {
    for (const serial of new Set([lot.first, lot.last])) {
      const r = await api("GET", `/v1/trace/${encodeURIComponent(lot.registry)}/${serial}`);
      if (r.status !== 200) continue;
      for (const step of lineageSteps(r.body.lineage || [])) {
        if (seen.has(step.block.id)) continue;
        seen.add(step.block.id);
        rows.push(Object.assign({ lot }, step));
      }
    }
  }
  rows.sort((a, b) => (a.block.created - b.block.created) || (a.block.id - b.block.id));
  history.append(pagedTable([
    { key: "time", label: t("col.date"), render: s => when(s.block.created_time) },
    { key: "event", label: t("col.event"), l10n: true, render: s => s.text },
    { key: "registry", label: t("col.registry"), render: s => s.block.registry || "" },
    { key: "serials", label: t("col.serials"), render: s => serialsLink(s.lot.registry, s.block.first, s.block.last) },
    { key: "quantity", label: t("col.quantity"), num: true, render: s => fmt(s.block.quantity) },
    { key: "itmo", label: t("col.itmoId"), render: s => itmoRange(s.lot, s.block.first, s.block.last) },
  ], rows, "project-history-table", { caption: t("project.history"), csv: `${ref}-itmo-history.csv` }));
}

// What a cycle record says besides its kind: the TPE and its report, the period, what it
// withdraws, the JC decision, the project's move, the note.
function cycleDetails(r) {
  const parts = [];
  if (r.tpe) parts.push(tNodes("cycle.tpe", { tpe: r.tpe, report: r.report_ref || "" }));
  if (r.monitoring_period) parts.push(tNodes("cycle.monitoring", { from: r.monitoring_period.start, to: r.monitoring_period.end }));
  if (r.crediting_period) parts.push(tNodes("cycle.crediting", { from: r.crediting_period.start, to: r.crediting_period.end }));
  if (r.withdraws) parts.push(tNodes("cycle.withdraws", { what: r.withdraws }));
  if (r.jc_decision) parts.push(tNodes("cycle.decision", { id: r.jc_decision }));
  if (r.project_state) parts.push([`${stateLabel(r.project_state.from)} → ${stateLabel(r.project_state.to)}`]);
  if (r.note) parts.push([el("span", { class: "data" }, r.note)]);
  return el("span", {}, ...parts.flatMap((p, i) => i ? ["; ", ...p] : p));
}

// A Party's authorization of a project: Step 1 (the cooperative approach), Step 2a (the
// authorization and its version) and Step 2b (issuance against it), authorized and issued per vintage.
function authorizationSection(a, ca, date) {
  const step1 = ca && ca.step1 && ca.step1[a.party];
  const vintages = [...new Set([...Object.keys(a.authorized || {}), ...Object.keys(a.issued || {})])].sort();
  const rows = vintages.map(v => ({ vintage: v, authorized: (a.authorized || {})[v] || 0, issued: (a.issued || {})[v] || 0 }));
  return el("section", { class: "authorization", "data-party": a.party },
    el("h3", {}, t("project.partyAuthorization", { party: a.party, id: a.authorization_id, version: a.version || a._version })),
    facts([
      [t("step.1"), step1 ? tNodes("step.1done", { ca: ca.ca_id || "", date: step1.c_date || "" }) : t("step.missing"), true],
      [t("step.2a"), tNodes("step.2adone", { date: a.date || "", effective: a.effective_date || a.date || "" }), true],
      [t("step.2b"), Object.values(a.issued || {}).some(q => q > 0) ? tNodes("step.2bdone", { decision: a.jc_decision || "" }) : t("step.missing"), true],
      [t("col.purposes"), a.purposes], [t("project.acquiring"), (a.acquiring_parties || []).join(", ")],
      [t("col.state"), a.revoked ? t("auth.revoked") : t("auth.inForce"), true],
      [t("project.copy"), a.ca_key && ca ? el("a", { href: `/v1/reports/authorization?ca=${encodeURIComponent(ca.key)}&party=${encodeURIComponent(a.party)}&format=pdf` }, t("project.copyPdf")) : "", true],
    ]),
    // Authorized against issued per vintage: two bars a vintage, the table of the numbers beside.
    barChart({ id: `chart-authorized-${a.party}`, level: "h4", title: t("project.chartOf", { party: a.party }), date,
      rows: rows.flatMap(r => [
        { label: `${r.vintage} · ${t("col.authorized")}`, series: t("col.authorized"), value: r.authorized },
        { label: `${r.vintage} · ${t("col.issued")}`, series: t("col.issued"), value: r.issued }]),
      tableRows: rows, caption: t("project.vintagesOf", { party: a.party }),
      columns: [{ key: "vintage", label: t("col.vintage") }, { key: "authorized", label: t("col.authorized"), num: true },
        { key: "issued", label: t("col.issued"), num: true },
        { key: "left", label: t("col.remaining"), num: true, render: r => fmt(r.authorized - r.issued) }],
      filename: `${a.project}-${a.party}-authorized-issued.csv` }));
}

// Client-side for the reason given above pageProjects: every lot is loaded.
async function pageIssuances(main, args, params) {
  setTitle("issuances.title");
  main.append(el("h1", {}, t("issuances.title")));
  const [lots, projects] = await Promise.all([listOf("/v1/lots", "lots", Infinity), listOf("/v1/projects", "projects", Infinity)]);
  const host = new Map(projects.map(p => [p.ref || p.reference, p.host_party || ""]));
  main.append(...filteredList({ name: "issuances", id: "lots", rows: lots.slice().reverse(), params, caption: t("issuances.caption"), csv: "issuances.csv",
    search: l => [l.registry, l.project, l.vintage, l.jc_decision, l.authorization_id, l.cooperative_approach].join(" "),
    filters: [{ key: "registry", label: t("col.registry"), value: l => l.registry || "" },
      { key: "host", label: t("col.host"), value: l => host.get(l.project) || "" },
      { key: "vintage", label: t("col.vintage"), value: l => l.vintage ?? "" },
      { key: "kind", label: t("col.kind"), value: l => (l.itmo ? "itmo" : "jcm"), option: v => (v === "itmo" ? "ITMO" : t("kind.jcm")) }],
    columns: [
      { key: "registry", label: t("col.registry") },
      { key: "project", label: t("col.project"), render: l => projectLink(l.project), sortValue: l => l.project || "" },
      { key: "vintage", label: t("col.vintage"), num: true, render: l => l.vintage },
      { key: "first", label: t("col.serials"), render: l => serialsLink(l.registry, l.first, l.last) },
      { key: "quantity", label: t("col.quantity"), num: true },
      { key: "itmo", label: t("col.kind"), l10n: true, render: l => l.itmo ? el("span", { class: "tag itmo" }, "ITMO " + (l.cooperative_approach || "")) : el("span", { class: "tag" }, t("kind.jcm")), sortValue: l => (l.itmo ? 1 : 0) },
      { key: "authorization_id", label: t("col.authorization"), render: l => l.authorization_id ? `${l.authorization_id} v${l.authorization_version}` : "" },
      { key: "jc_decision", label: t("col.decision") },
    ] }));
}

async function pageAuthorizations(main, args, params) {
  setTitle("authorizations.title");
  main.append(el("h1", {}, t("authorizations.title")));
  const auths = await listOf("/v1/authorizations", "authorizations", Infinity);
  const stateOf = a => (a.revoked ? "revoked" : "in_force");
  main.append(...filteredList({ name: "authorizations", id: "authorizations", rows: auths, params, caption: t("authorizations.title"), csv: "authorizations.csv",
    search: a => [a.authorization_id || a.id, a.party, a.project, [].concat(a.purposes || []).join(" ")].join(" "),
    filters: [{ key: "party", label: t("col.party"), value: a => a.party || "" },
      { key: "state", label: t("col.state"), value: stateOf, option: v => t(v === "revoked" ? "auth.revoked" : "auth.inForce") }],
    columns: [
      { key: "authorization_id", label: t("col.authorizationId"), render: a => a.authorization_id || a.id || "", sortValue: a => a.authorization_id || a.id || "" },
      { key: "party", label: t("col.party") },
      { key: "version", label: t("col.version"), num: true, render: a => a.version || a._version, sortValue: a => Number(a.version || a._version) || 0 },
      { key: "project", label: t("col.project"), render: a => projectLink(a.project), sortValue: a => a.project || "" },
      { key: "purposes", label: t("col.purposes"), noSort: true },
      { key: "first_transfer_definition", label: t("col.firstTransfer"), noSort: true, render: a => a.first_transfer_definition || a.first_transfer || "" },
      { key: "date", label: t("col.date") },
      { key: "state", label: t("col.state"), l10n: true, render: a => a.revoked ? t("auth.revoked") : t("auth.inForce"), sortValue: stateOf },
    ] }));
  const cas = await listOf('/v1/cooperative-approaches', 'cooperative_approaches');
  if (cas.length) {
    main.append(el("h2", {}, t("authorizations.cas")));
    main.append(pagedTable([
      { key: "ca_id", label: t("col.caId"), render: c => c.ca_id || c.id || c.key || "" },
      { key: "name", label: t("col.name"), render: c => c.name || c.title || c.key || "" },
      { key: "parties", label: t("col.parties"), render: c => (c.parties || []).join(", ") },
    ], cas, "cooperative-approaches", { caption: t("authorizations.cas"), csv: "cooperative-approaches.csv" }));
  }
}

// ---- Charts --------------------------------------------------------------------------------------
// Horizontal bar charts drawn here as inline SVG (no library, nothing fetched): one bar per row of
// the table beside the chart, which holds the same numbers. Colours come from style.css (classes
// series-0..5), by the row's series (a registry).

const SVG = "http://www.w3.org/2000/svg";
function svg(tag, attrs, ...children) {
  const node = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs || {})) node.setAttribute(k, v);
  for (const c of children.flat()) if (c !== null && c !== undefined) node.append(c instanceof Node ? c : document.createTextNode(String(c)));
  return node;
}

// "Wed, 09 Dec 2026 10:00:00 GMT" (the server's Date header) -> "2026-12-09 10:00 UTC".
function asOf(date) {
  const d = date ? new Date(date) : new Date();
  return when(d.toISOString());
}

// rows: [{label, series, value}]; columns: the table's columns, over tableRows (by default each
// bar's row); id names the section; level is its heading's (h2); caption the table's.
function barChart({ id, title, rows, columns, date, filename, tableRows, caption, level = "h2" }) {
  const series = [...new Set(rows.map(r => r.series))];
  const max = Math.max(1, ...rows.map(r => r.value));
  const bar = 20, gap = 6, left = 190, width = 640, right = 90;
  const height = rows.length * (bar + gap) + gap;
  const chart = svg("svg", { viewBox: `0 0 ${width} ${height}`, role: "img", "aria-labelledby": id + "-title",
    class: "bar-chart", preserveAspectRatio: "xMinYMin meet" },
  rows.map((r, i) => {
    const y = gap + i * (bar + gap);
    const w = Math.round((width - left - right) * r.value / max);
    return svg("g", { class: "bar-row" },
      svg("text", { x: left - 8, y: y + bar * 0.72, "text-anchor": "end", class: "bar-label" }, r.label),
      svg("rect", { x: left, y, width: Math.max(w, r.value > 0 ? 1 : 0), height: bar, class: `bar series-${series.indexOf(r.series) % 6}`,
        "data-value": r.value }, svg("title", {}, `${r.label}: ${fmt(r.value)}`)),
      svg("text", { x: left + w + 6, y: y + bar * 0.72, class: "bar-value" }, fmt(r.value)));
  }));
  const legend = el("ul", { class: "legend" }, series.map((name, i) =>
    el("li", {}, el("span", { class: `swatch series-${i % 6}`, "aria-hidden": "true" }), el("span", { class: "data" }, name))));
  return el("section", { class: "chart", id },
    el(level, { id: id + "-title" }, title),
    el("p", { class: "as-of muted" }, tNodes("chart.asOf", { time: asOf(date) })),
    rows.length === 0 ? el("p", { class: "muted" }, t("none")) :
      el("div", { class: "chart-row" }, el("figure", {}, chart, el("figcaption", {}, legend)),
        table(columns, tableRows || rows.map(r => r.row), caption || t("chart.numbers", { title }), filename)));
}

async function pageStatistics(main) {
  setTitle("statistics.title");
  main.append(el("h1", {}, t("statistics.title")));
  const totalsReply = await api("GET", "/v1/totals");
  const totals = totalsReply.body?.totals || {};
  const rows = [];
  for (const [registry, byType] of Object.entries(totals)) {
    for (const [type, amount] of Object.entries(byType)) rows.push({ registry, type, amount });
  }
  main.append(barChart({ id: "chart-holdings", title: t("statistics.types"), date: totalsReply.date, filename: "holdings-by-account-type.csv",
    rows: rows.map(r => ({ label: `${r.registry} · ${accountType(r.type)}`, series: r.registry, value: r.amount, row: r })),
    columns: [{ key: "registry", label: t("col.registry") }, { key: "type", label: t("col.accountType"), l10n: true, render: r => accountType(r.type) },
      { key: "amount", label: t("col.amount"), num: true }] }));
  const annual = await api("GET", "/v1/statistics/annual");
  if (annual.status === 200 && annual.body) {
    const list = annual.body.years || annual.body.rows || [];
    // Issuance per year and registry: the summary's rows (year, registry) that issued anything.
    const issued = list.filter(r => r.issuance > 0);
    main.append(barChart({ id: "chart-issuance", title: t("statistics.issuance"), date: annual.date, filename: "issuance-per-year.csv",
      rows: issued.map(r => ({ label: `${r.year} · ${r.registry}`, series: r.registry, value: r.issuance, row: r })),
      columns: [{ key: "year", label: t("col.year") }, { key: "registry", label: t("col.registry") },
        { key: "issuance", label: t("col.issuance"), num: true }] }));
    // Uses (retirements towards an NDC or voluntary) per year and registry.
    const uses = list.filter(r => r.retirement > 0);
    main.append(barChart({ id: "chart-uses", title: t("statistics.uses"), date: annual.date, filename: "uses-per-year.csv",
      rows: uses.map(r => ({ label: `${r.year} · ${r.registry}`, series: r.registry, value: r.retirement, row: r })),
      columns: [{ key: "year", label: t("col.year") }, { key: "registry", label: t("col.registry") },
        { key: "retirement", label: t("col.retirement"), num: true }] }));
    main.append(el("h2", {}, t("statistics.annual")), pagedTable(
      ["year", "registry", ...Object.keys(list[0] || {}).filter(k => k !== "year" && k !== "registry")].map(k => ({ key: k, label: t("col." + k), num: k !== "year" && k !== "registry" })), list, "stats-annual",
      { caption: t("statistics.annual"), csv: { href: "/v1/statistics/annual?format=csv", filename: "annual-summary.csv" } }));
  } else {
    main.append(message(errorText(annual), false));
  }
  const accounts = (await listOf("/v1/accounts", "accounts")).filter(a => a.type === "entity_holding");
  main.append(el("h2", {}, t("statistics.entities")), pagedTable([
    { key: "id", label: t("col.account"), num: true }, { key: "registry", label: t("col.registry") },
    { key: "name", label: t("col.name") }, { key: "status", label: t("col.status"), l10n: true, render: a => t("status." + a.status) }], accounts, "stats-entities",
  { caption: t("statistics.entities"), csv: { href: "/v1/statistics/accounts?format=csv", filename: "entity-holding-accounts.csv" } }));
}

// The steps of a serial's lineage (blocks from issuance on), each in words: issued, transferred,
// transferred internationally (another registry), first transferred, used, cancelled.
function lineageSteps(lineage) {
  const byId = new Map(lineage.map(b => [b.id, b]));
  return lineage.map(b => {
    const parent = b.parent !== undefined ? byId.get(b.parent) : undefined;
    const type = b.account_type;
    let text;
    if (!parent) {
      text = t("ev.issued", { registry: b.registry || "" });
    } else if (parent.registry && b.registry && parent.registry !== b.registry) {
      text = t("ev.international", { from: parent.registry, to: b.registry });
    } else if (b.use_year || type === "retirement") {
      text = t("ev.used", { registry: b.registry || "", year: b.use_year || "" });
    } else if (b.cancellation_purpose || type === "cancellation") {
      text = t("ev.cancelled", { registry: b.registry || "", purpose: b.cancellation_purpose || "" });
    } else {
      text = t("ev.moved", { registry: b.registry || "" });
    }
    if (parent && !parent.first_transferred && b.first_transferred) text += " " + t("ev.firstTransfer");
    if (!parent && b.first_transferred) text += " " + t("ev.firstTransferAtIssuance");
    return { block: b, text, international: !!(parent && parent.registry !== b.registry) };
  });
}

const ITMO_PARTS = ["ca", "registry", "party", "serial", "vintage"];

function parseItmoId(text) {
  const m = /^(CA\d{4})-([A-Z]{3}\d{2})-([A-Z]{3})-(\d+)-(\d{4})$/.exec(text);
  return m ? { ca: m[1], registry: m[2], party: m[3], serial: m[4], vintage: m[5] } : null;
}

async function pageLookup(main, args) {
  setTitle("lookup.title");
  main.append(el("h1", {}, t("lookup.title")), el("p", { class: "muted hint" }, t("lookup.hint")));
  const out = el("div", { id: "lookup-result" });
  const registry = el("input", { name: "registry", value: "JPN01", size: 6 });
  const serial = el("input", { name: "serial", placeholder: "1500 / CA0001-JPN01-THA-1500-2021" });
  const lookup = async () => {
    out.replaceChildren(t("loading"));
    const query = serial.value.trim();
    let reg = registry.value.trim(), ser = query, asked = null;
    if (/^CA/i.test(query) || query.includes("-")) {
      asked = parseItmoId(query.toUpperCase());
      if (!asked) { say(out, t("lookup.badItmo", { id: query }), false); return; }
      reg = asked.registry; ser = asked.serial;
      registry.value = reg;
    }
    // The query stays in the URL (replaceState: no second render).
    history.replaceState(null, "", asked ? `#/lookup/${encodeURIComponent(query)}` : `#/lookup/${encodeURIComponent(reg)}/${encodeURIComponent(ser)}`);
    const r = await api("GET", `/v1/trace/${encodeURIComponent(reg)}/${encodeURIComponent(ser)}`);
    if (r.status !== 200) { say(out, errorText(r), false); return; }
    if (asked) {
      // Every part of the identifier must be the serial's: a serial of the registry with another
      // CA, first transferring Party or vintage is another ITMO, or none.
      const found = r.body.itmo_id ? parseItmoId(r.body.itmo_id) : null;
      if (!found) { say(out, t("lookup.notItmo", { id: query, serial: ser, registry: reg }), false); return; }
      const wrong = ITMO_PARTS.filter(k => found[k] !== asked[k]);
      if (wrong.length) {
        say(out, t("lookup.mismatch", { id: query, actual: r.body.itmo_id,
          parts: wrong.map(k => t("itmo." + k, { asked: asked[k], found: found[k] })).join(t("list.sep")) }), false);
        return;
      }
    }
    showLineage(out, r.body);
  };
  const form = el("form", { id: "lookup-form", onsubmit: e => { e.preventDefault(); lookup(); } },
    el("label", {}, t("col.registry"), registry), el("label", {}, t("lookup.serial"), serial),
    el("button", { type: "submit" }, t("lookup.go")));
  main.append(form, out);
  if (args.length === 2) { registry.value = decodeURIComponent(args[0]); serial.value = decodeURIComponent(args[1]); await lookup(); }
  else if (args.length === 1) { serial.value = decodeURIComponent(args[0]); await lookup(); }
}

function showLineage(out, body) {
  const lot = body.lot || {};
  const steps = lineageSteps(body.lineage || []);
  out.replaceChildren(el("h2", { tabindex: "-1", id: "lookup-heading" }, t("lookup.serialOf", { serial: body.serial, registry: body.registry })),
    body.itmo_id ? el("p", {}, t("col.itmoId"), ": ", el("code", { class: "itmo-id" }, body.itmo_id)) : el("p", {}, t("lookup.jcmOnly")),
    el("p", {}, t("lookup.lot", { vintage: lot.vintage, first: lot.first, last: lot.last }), " ", projectLink(lot.project),
      lot.jc_decision ? ` (${lot.jc_decision})` : ""),
    el("ol", { id: "lineage-summary" }, steps.map(s => el("li", { class: s.international ? "international" : "" },
      when(s.block.created_time), " — ", s.text))),
    el("div", { id: "lineage" }, table([
      { key: "created", label: t("col.from"), render: s => when(s.block.created_time) },
      { key: "closed", label: t("col.until"), render: s => when(s.block.closed_time) },
      { key: "event", label: t("col.event"), l10n: true, render: s => s.international ? el("strong", {}, s.text) : s.text },
      { key: "registry", label: t("col.registry"), render: s => s.block.registry || "" },
      { key: "account", label: t("col.account"), render: s => s.block.account ?? accountType(s.block.account_type) },
      { key: "first", label: t("col.serials"), render: s => `${s.block.first}–${s.block.last}` },
      { key: "quantity", label: t("col.quantity"), num: true, render: s => fmt(s.block.quantity) },
      { key: "use_year", label: t("col.useYear"), render: s => s.block.use_year || "" },
    ], steps, t("lookup.lineage"), `lineage-${body.registry}-${body.serial}.csv`)));
  out.querySelector("#lookup-heading").focus();
}

// A download that explains itself: the file is fetched first; a refusal is shown on the page.
function downloadLink(id, href, filename, label, status) {
  return el("a", { id, href, download: filename, onclick: async e => {
    e.preventDefault();
    status.replaceChildren(t("loading"));
    const response = await fetch(href, { headers: token() ? { Authorization: "Bearer " + token() } : {} });
    if (!response.ok) {
      let body = null;
      try { body = await response.json(); } catch (err) { body = null; }
      say(status, [tNodes("reports.failed", { file: filename }), " ", errorText({ status: response.status, body })], false);
      return;
    }
    const url = URL.createObjectURL(await response.blob());
    const a = el("a", { href: url, download: filename });
    document.body.append(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(url), 10000);
    say(status, tNodes("reports.downloaded", { file: filename }), true);
  } }, label);
}

// The reports the API makes, each a download that explains itself when it fails: a Party's AEF
// (XLSX, CSV) and its pre-consistency checks shown on the page; for each cooperative approach and
// Party, the copy of the authorization and the initial report (PDF, Markdown); the statistics.
async function pageReports(main) {
  setTitle("reports.title");
  main.append(el("h1", {}, t("reports.title")));
  const party = el("input", { name: "party", value: "JPN", size: 4 });
  const year = el("input", { name: "year", value: String(new Date().getFullYear() - 1), size: 5 });
  const links = el("div", { id: "report-links" });
  const status = el("div", { id: "report-status" });
  const checks = el("div", { id: "aef-checks" });
  const showChecks = async () => {
    checks.replaceChildren(t("loading"));
    const r = await api("GET", `/v1/reports/aef/checks?party=${encodeURIComponent(party.value)}&year=${encodeURIComponent(year.value)}`);
    if (r.status !== 200) { checks.replaceChildren(); say(status, [t("reports.checksFailed"), " ", errorText(r)], false); return; }
    const list = r.body.checks;
    checks.replaceChildren(el("h3", { tabindex: "-1" }, t("reports.checksOf", { party: party.value, year: year.value })),
      list.length === 0 ? el("p", { class: "muted" }, t("reports.noChecks")) :
        table([{ key: "item", label: t("reports.checkItem"), num: true }, { key: "check", label: t("reports.check") },
          { key: "status", label: t("col.status") },
          { key: "problems", label: t("reports.problems"), render: c => (c.problems || []).map(p => (typeof p === "string" ? p : JSON.stringify(p))).join("; ") }],
        list, t("reports.checksOf", { party: party.value, year: year.value }), `AEF-checks-${party.value}-${year.value}.csv`));
    checks.querySelector("h3").focus();
  };
  const draw = () => {
    const q = `party=${encodeURIComponent(party.value)}&year=${encodeURIComponent(year.value)}`;
    checks.replaceChildren();
    links.replaceChildren(
      el("p", {}, downloadLink("aef-xlsx", `/v1/reports/aef?${q}&format=xlsx`, `AEF-${party.value}-${year.value}.xlsx`, t("reports.aefXlsx"), status), " · ",
        // The CSV form of the AEF is one file per table (1 to 5; 6, the Confidentiality table, is
        // for the Party's own token).
        t("reports.aefCsv"), " ", [1, 2, 3, 4, 5].map(n => [downloadLink(`aef-csv-${n}`, `/v1/reports/aef?${q}&format=csv&table=${n}`,
          `AEF-${party.value}-${year.value}-table${n}.csv`, t("reports.aefTable", { n }), status), " "]), " · ",
        el("button", { type: "button", class: "secondary", id: "aef-checks-button", onclick: showChecks }, t("reports.showChecks"))));
  };
  party.addEventListener("input", draw);
  year.addEventListener("input", draw);
  main.append(el("h2", {}, t("reports.aef")),
    el("form", { onsubmit: e => e.preventDefault() }, el("label", {}, t("col.party"), party), el("label", {}, t("reports.year"), year)), links, status, checks);
  draw();

  // The regular information of the BTR (issue 31 item 5): the AEFs of the two years before it.
  const btrParty = el("input", { name: "party", value: "JPN", size: 4 });
  const btrYear = el("input", { name: "year", value: String(new Date().getFullYear() + 1), size: 5 });
  const regularStatus = el("div", { id: "regular-status", class: "form-status" });
  const regularLink = el("p", { id: "regular-link" });
  const drawRegular = () => regularLink.replaceChildren(downloadLink("regular-xlsx",
    `/v1/reports/regular?party=${encodeURIComponent(btrParty.value)}&year=${encodeURIComponent(btrYear.value)}&format=xlsx`,
    `regular-information-${btrParty.value}-${btrYear.value}.xlsx`, t("reports.regularXlsx"), regularStatus));
  btrParty.addEventListener("input", drawRegular);
  btrYear.addEventListener("input", drawRegular);
  main.append(el("h2", {}, t("reports.regular")), el("p", { class: "muted hint" }, t("reports.regularHint")),
    el("form", { onsubmit: e => e.preventDefault() }, el("label", {}, t("col.party"), btrParty), el("label", {}, t("reports.btrYear"), btrYear)),
    regularLink, regularStatus);
  drawRegular();

  main.append(el("h2", {}, t("reports.copies")), el("p", { class: "muted hint" }, t("reports.copiesHint")));
  const copiesStatus = el("div", { id: "copies-status", class: "form-status" });
  const cas = await listOf('/v1/cooperative-approaches', 'cooperative_approaches');
  const pairs = cas.flatMap(ca => (ca.parties || []).map(p => ({ ca, party: p })));
  const file = (kind, pair, format) => `${kind}-${pair.ca.ca_id || pair.ca.key}-${pair.party}.${format}`;
  const docLinks = (route, kind, pair) => {
    const q = `ca=${encodeURIComponent(pair.ca.key)}&party=${encodeURIComponent(pair.party)}`;
    return [downloadLink(`${kind}-${pair.ca.key}-${pair.party}-pdf`, `/v1/reports/${route}?${q}&format=pdf`, file(kind, pair, "pdf"), "PDF", copiesStatus), " · ",
      downloadLink(`${kind}-${pair.ca.key}-${pair.party}-md`, `/v1/reports/${route}?${q}&format=md`, file(kind, pair, "md"), "Markdown", copiesStatus)];
  };
  main.append(pagedTable([
    { key: "ca", label: t("col.caId"), render: r => r.ca.ca_id || r.ca.key, sortValue: r => r.ca.ca_id || r.ca.key },
    { key: "name", label: t("col.name"), render: r => r.ca.name || r.ca.title || r.ca.key || "" },
    { key: "party", label: t("col.party") },
    { key: "copy", label: t("reports.copy"), noCsv: true, render: r => docLinks("authorization", "authorization", r) },
    { key: "initial", label: t("reports.initial"), noCsv: true, render: r => docLinks("initial", "initial-report", r) },
  ], pairs, "report-copies", { caption: t("reports.copies"), csv: "authorization-copies.csv" }), copiesStatus);

  main.append(el("h2", {}, t("reports.statistics")));
  const statsStatus = el("div", { id: "stats-download-status", class: "form-status" });
  main.append(el("ul", { id: "report-statistics" },
    el("li", {}, downloadLink("annual-csv", "/v1/statistics/annual?format=csv", "annual-summary.csv", t("reports.annualCsv"), statsStatus)),
    el("li", {}, downloadLink("accounts-csv", "/v1/statistics/accounts?format=csv", "entity-holding-accounts.csv", t("reports.accountsCsv"), statsStatus)),
    el("li", {}, el("a", { href: "#/statistics" }, t("reports.statisticsPage")))), statsStatus);
}

// ---- The registry link (docs/link.md) ------------------------------------------------------------
// The peer installations this registry believes (public), and the transfers to and from their
// registries with their states (a token of scope *): outgoing proposed or terminating (pending,
// the units in transit), completed or released (with the receiver's check and message); incoming
// accepted, rejected (with the check) or terminated.

// The check catalogue by code ("JCM-806" -> "link_attributes_mismatch"), to say a receiver's
// refusal in the portal's language.
let checkNames = null;
async function checkName(code) {
  if (!checkNames) {
    const r = await api("GET", "/v1/checks");
    checkNames = new Map(Array.isArray(r.body) ? r.body.map(c => [c.code, c.check]) : []);
  }
  return checkNames.get(code) || "";
}

// A receiver's refusal in words: its code and name, the check's meaning in Japanese, the
// receiver's own sentence after it.
function linkCheckText(code, name, serverMessage) {
  if (!code) return serverMessage ? el("span", { class: "server-text", lang: "en" }, serverMessage) : "";
  const own = lang !== "en" && I18N[lang] && I18N[lang]["check." + name];
  return [el("span", { class: "data" }, [code, name].filter(Boolean).join(" ")), ": ",
    own ? [own, " "] : null, serverMessage ? el("span", { class: "server-text", lang: "en" }, own ? `(${serverMessage})` : serverMessage) : null];
}

// The tonnes of a transfer's units [{first, last}].
function unitsTonnes(units) {
  return (units || []).reduce((sum, u) => sum + (Number(u.last) - Number(u.first) + 1), 0);
}

async function pageLink(main) {
  setTitle("link.title");
  main.append(el("h1", {}, t("link.title")), el("p", { class: "muted hint" }, t("link.hint")));
  const peersReply = await api("GET", "/v1/link/peers");
  const peers = peersReply.status === 200 && Array.isArray(peersReply.body?.peers) ? peersReply.body.peers : [];
  main.append(el("h2", {}, t("link.peers")));
  if (peersReply.status !== 200) main.append(message(errorText(peersReply), false));
  else main.append(pagedTable([
    { key: "id", label: t("link.peer") },
    { key: "registries", label: t("link.registries"), render: p => (p.registries || []).join(", ") },
    { key: "url", label: t("link.url"), render: p => el("code", {}, p.url || "") },
    { key: "public_key", label: t("link.publicKey"), render: p => el("code", { class: "itmo-id" }, p.public_key || "") },
  ], peers, "link-peers", { caption: t("link.peersCaption"), csv: "link-peers.csv" }));

  main.append(el("h2", {}, t("link.transfers")));
  if (!token()) {
    main.append(el("p", { class: "muted", id: "link-signin" }, t("link.needsToken"), " ", el("a", { href: "#/console" }, t("link.signinHere"))));
    return;
  }
  const [r, accounts] = await Promise.all([api("GET", "/v1/link/transfers"), listOf("/v1/accounts", "accounts")]);
  known.accounts = new Map(accounts.map(a => [a.id, a]));
  if (r.status !== 200) { main.append(el("div", { id: "link-transfers-status" }, message(errorText(r), false))); return; }
  const outgoing = (r.body?.outgoing || []).slice().reverse();
  const incoming = (r.body?.incoming || []).slice().reverse();
  const names = new Map();
  for (const x of [...outgoing, ...incoming]) {
    const code = x.check || x.answer?.check;
    if (code && !names.has(code)) names.set(code, x.answer?.check_name || await checkName(code));
  }
  const count = (list, states) => list.filter(x => states.includes(x.state)).length;
  main.append(el("ul", { class: "link-summary cards", id: "link-summary" },
    [["pending", count(outgoing, ["proposed", "terminating"])], ["completed", count(outgoing, ["completed"])],
      ["released", count(outgoing, ["released"])], ["accepted", count(incoming, ["accepted"])],
      ["rejected", count(incoming, ["rejected"])], ["terminated", count(incoming, ["terminated"])]].map(([k, n]) =>
      el("li", { class: "card", "data-state": k }, el("div", { class: "value" }, fmt(n)), el("div", { class: "label" }, t("link.count." + k))))));
  // A state in words: proposed and terminating are pending (the units in transit, waiting for the
  // peer's signed answer).
  const stateText = s => t("link.state." + s);
  main.append(el("h3", {}, t("link.outgoing")), pagedTable([
    { key: "transaction", label: t("link.transaction"), render: x => el("code", {}, x.transaction) },
    { key: "created", label: t("col.date"), render: x => when(x.created) },
    { key: "from", label: t("col.from"), render: x => accountName(x.source_account) },
    { key: "to", label: t("link.toAccount"), render: x => t("link.remoteAccount", { account: x.account, registry: x.to_registry }) },
    { key: "quantity", label: t("col.quantity"), num: true },
    { key: "state", label: t("col.state"), l10n: true, render: x => el("span", { class: "link-state state-" + x.state }, stateText(x.state)) },
    { key: "ended", label: t("link.ended"), render: x => when(x.ended || x.terminating_since || "") },
    { key: "answer", label: t("link.answer"), render: x => x.state === "released"
      ? [t("link.outcome." + (x.outcome || "rejected")), x.check || x.message ? [" — ", linkCheckText(x.check, names.get(x.check), x.message)] : null] : "" },
  ], outgoing, "link-outgoing", { caption: t("link.outgoingCaption"), csv: "link-outgoing.csv" }));
  main.append(el("h3", {}, t("link.incoming")), pagedTable([
    { key: "transaction", label: t("link.transaction"), render: x => el("code", {}, x.transaction) },
    { key: "received", label: t("col.date"), render: x => when(x.received) },
    { key: "from_registry", label: t("link.fromRegistry") },
    { key: "account", label: t("link.toAccount"), render: x => x.account ? accountName(x.account) : x.to_registry || "" },
    { key: "quantity", label: t("col.quantity"), num: true, render: x => x.units ? fmt(unitsTonnes(x.units)) : "" },
    { key: "state", label: t("col.state"), l10n: true, render: x => el("span", { class: "link-state state-" + x.state }, stateText(x.state)) },
    { key: "answer", label: t("link.answer"), render: x => x.state === "rejected"
      ? linkCheckText(x.answer?.check, names.get(x.answer?.check), x.answer?.message) : "" },
  ], incoming, "link-incoming", { caption: t("link.incomingCaption"), csv: "link-incoming.csv" }));
}

// The console's form for a transfer to an account of a peer's registry: link.transfer, four-eyes
// (202: a proposal a second person approves; then the outbox sends it).
function consoleLinkForm(peers, afterChange) {
  const registries = peers.flatMap(p => (p.registries || []).map(r => ({ registry: r, peer: p.id })));
  const status = el("div", { id: "link-transfer-status", class: "form-status" });
  const form = el("form", { id: "link-transfer-form", onsubmit: async e => {
    e.preventDefault();
    const values = formValues(form);
    const r = await api("POST", "/v1/commands/link.transfer", values);
    if (r.status >= 300) { say(status, errorText(r), false); return; }
    await afterChange();
    say(status, r.status === 202 ? t("console.proposalCreated", { id: r.body?.result?.id ?? "" }) : t("console.done", { command: "link.transfer" }), true);
  } }, el("h3", {}, t("link.formTitle")), el("p", { class: "muted hint" }, t("link.formHint")),
    field("from", t("console.from"), { required: true, inputmode: "numeric" }),
    el("label", {}, t("link.peerRegistry"), el("select", { name: "registry", required: true },
      registries.map(x => el("option", { value: x.registry }, `${x.registry} (${x.peer})`)))),
    field("account", t("link.peerAccount"), { required: true, inputmode: "numeric" }),
    field("quantity", t("col.quantity"), { required: true, inputmode: "numeric" }),
    el("button", { type: "submit" }, t("console.proposeButton")));
  return [form, status];
}

// ---- Operator console --------------------------------------------------------------------------

function signIn(main) {
  setTitle("console.title");
  const input = el("input", { name: "token", type: "password", autocomplete: "off" });
  const status = el("div", { id: "signin-status" });
  main.append(el("h1", {}, t("console.title")), el("form", { id: "signin", onsubmit: async e => {
    e.preventDefault();
    sessionStorage.setItem("token", input.value.trim());
    const r = await api("GET", "/v1/accounts");
    if (r.status !== 200) { sessionStorage.removeItem("token"); say(status, errorText(r), false); return; }
    route();
  } }, el("label", {}, t("console.token"), input), el("button", { type: "submit" }, t("console.signin"))), status);
}

function field(name, label, attrs) { return el("label", {}, label, el("input", Object.assign({ name }, attrs || {}))); }

function formValues(form) {
  const out = {};
  for (const [k, v] of new FormData(form).entries()) {
    if (v === "") continue;
    out[k] = /^-?\d+$/.test(v) && k !== "ranges" && k !== "project" ? Number(v) : v;
  }
  if (typeof out.ranges === "string") out.ranges = out.ranges.split(/[\s,]+/).filter(Boolean);
  return out;
}

// The tonnes of serial ranges ["1-85", "88-102"].
function rangesTonnes(ranges) {
  return (ranges || []).reduce((sum, r) => {
    const [a, b] = String(r).split("-").map(Number);
    return sum + ((b === undefined || Number.isNaN(b) ? a : b) - a + 1);
  }, 0);
}

// What the console knows to describe things in words: accounts by id, lots by id, and the first
// page of holdings of the accounts proposals move from (for their projects and vintages).
const known = { accounts: new Map(), lots: new Map(), holdings: new Map() };

function accountName(id) {
  const a = known.accounts.get(Number(id));
  return a ? t("console.accountNamed", { id, name: a.name, registry: a.registry }) : t("console.accountId", { id });
}

// The projects and vintages of the blocks of `account` that `ranges` cover.
function projectsAndVintages(account, ranges) {
  const blocks = known.holdings.get(Number(account)) || [];
  const spans = (ranges || []).map(r => String(r).split("-").map(Number)).map(([a, b]) => [a, b ?? a]);
  const projects = new Set(), vintages = new Set();
  for (const b of blocks) {
    if (spans.some(([a, z]) => a <= b.last && b.first <= z)) { projects.add(b.project); vintages.add(b.vintage); }
  }
  return { projects: [...projects].sort(), vintages: [...vintages].sort() };
}

// A proposal in words: "Transfer 100 t from account 1 (…) to account 4 (…); project MN004; vintages 2015, 2016".
function describeProposal(p) {
  const a = p.args || {};
  const ranges = p.reserved || a.ranges;
  const quantity = a.quantity ?? rangesTonnes(ranges);
  const found = projectsAndVintages(a.from, ranges);
  const projects = a.project ? [a.project] : found.projects;
  const vintages = a.vintage ? [a.vintage] : found.vintages;
  const known_verbs = ["transfer", "transfer.international", "retire", "cancel"];
  const parts = [];
  if (p.command === "link.transfer") {
    parts.push(t("proposal.link.transfer", { quantity: fmt(quantity), from: accountName(a.from), account: a.account, registry: a.registry }));
  } else if (known_verbs.includes(p.command)) {
    parts.push(t("proposal." + p.command, { quantity: fmt(quantity), from: accountName(a.from), to: accountName(a.to),
      year: a.use_year || "", purpose: a.purpose ? t("purpose." + a.purpose) : "" }));
  } else {
    parts.push(t("proposal.other", { command: p.command, args: Object.entries(a).map(([k, v]) => `${k} ${Array.isArray(v) ? v.join(", ") : v}`).join("; ") }));
  }
  if (ranges && ranges.length) parts.push(t("proposal.serials", { ranges: ranges.join(", ") }));
  const out = el("span", { class: "proposal-text" }, parts.join(t("list.sep2")));
  return [out, projects.length ? [t("list.sep2"), t("proposal.projects"), " ", projects.map((ref, i) => [i ? ", " : "", projectLink(ref)])] : null,
    vintages.length ? [t("list.sep2"), t("proposal.vintages", { vintages: vintages.join(", ") })] : null];
}

async function loadHoldingsOf(accounts) {
  await Promise.all([...new Set(accounts)].filter(id => id && !known.holdings.has(Number(id))).map(async id => {
    const r = await api("GET", `/v1/accounts/${id}/holdings`);
    known.holdings.set(Number(id), r.status === 200 ? r.body.blocks : []);
  }));
}

function consoleMovementForm(afterChange) {
  const kind = el("select", { name: "kind" }, ["transfer", "retire", "cancel"].map(k => el("option", { value: k }, t("kind." + k))));
  const status = el("div", { id: "propose-status", class: "form-status" });
  const form = el("form", { id: "propose-form", onsubmit: async e => {
    e.preventDefault();
    const values = formValues(form);
    const command = values.kind; delete values.kind;
    if (command !== "retire") delete values.use_year;
    if (command !== "cancel") delete values.purpose;
    const r = await api("POST", "/v1/proposals", { command, args: values });
    if (r.status >= 300) { say(status, errorText(r), false); return; }
    const id = r.body?.result?.id ?? r.body?.result?.proposal?.id ?? "";
    await afterChange();
    say(status, t("console.proposalCreated", { id }), true);
  } }, el("h3", {}, t("console.propose")), el("label", {}, t("console.kind"), kind),
    field("from", t("console.from"), { required: true }), field("to", t("console.to")),
    field("quantity", t("col.quantity")), field("ranges", t("console.ranges")),
    field("project", t("console.project")), field("use_year", t("console.useYear")),
    el("label", {}, t("console.purpose"), el("select", { name: "purpose" }, ["", "voluntary", "omge", "oimp", "other"].map(p => el("option", { value: p }, p ? t("purpose." + p) : "")))),
    el("button", { type: "submit" }, t("console.proposeButton")));
  return [form, status];
}

// The proposals the token's scope covers, newest first, each in words, with approve and reject.
async function consoleProposals(container, status) {
  const proposals = await listOf("/v1/proposals", "proposals");
  const pending = proposals.filter(p => (p.state || p.status) === "pending");
  await loadHoldingsOf(pending.map(p => p.args?.from));
  const decide = async (id, verb) => {
    const r = await api("POST", `/v1/proposals/${id}/${verb}`, {});
    if (r.status >= 300) { say(status, errorText(r), false); return; }
    known.holdings.clear();
    await consoleProposals(container, status);
    say(status, t("console." + verb + "d", { id }), true);
  };
  container.replaceChildren(pagedTable([
    { key: "id", label: t("col.id"), num: true },
    { key: "args", label: t("console.what"), render: describeProposal },
    { key: "initiator", label: t("console.proposedBy") },
    { key: "created", label: t("col.date"), render: p => when(p.created) },
    { key: "state", label: t("col.state"), l10n: true, render: p => t("proposalState." + (p.state || p.status)) },
    { key: "actions", label: t("console.actions"), noCsv: true, noSort: true, render: p => (p.state || p.status) === "pending" ? [
      el("button", { class: "approve", "data-id": p.id, onclick: () => decide(p.id, "approve") }, t("console.approve")), " ",
      el("button", { class: "secondary reject", "data-id": p.id, onclick: () => decide(p.id, "reject") }, t("console.reject"))] : "" },
  ], proposals.slice().reverse(), "proposals", { caption: t("console.proposals"), csv: "proposals.csv" }));
}

async function consoleCommandForm(afterChange) {
  const commands = (await api("GET", "/v1/commands")).body;
  const list = Array.isArray(commands) ? commands : (commands?.commands || []);
  const name = c => c.type || c.name || c;
  const select = el("select", { name: "command" }, list.map(c => el("option", { value: name(c) },
    name(c) + (c.four_eyes ? " " + t("console.fourEyes") : ""))));
  const args = el("textarea", { name: "args" }, "{}");
  const status = el("div", { id: "command-status", class: "form-status" });
  // The fields the selected command takes (any other is refused: JCM-106 unknown_field).
  const fields = el("p", { id: "command-fields", class: "muted hint" });
  const showFields = () => {
    const c = list.find(x => name(x) === select.value);
    fields.replaceChildren(...(c && Array.isArray(c.fields) ? tNodes("console.fields", { fields: c.fields.join(", ") }) : []));
  };
  select.addEventListener("change", showFields);
  showFields();
  const form = el("form", { id: "command-form", onsubmit: async e => {
    e.preventDefault();
    let body;
    try { body = JSON.parse(args.value); } catch (err) { say(status, t("console.badJson"), false); return; }
    const r = await api("POST", `/v1/commands/${encodeURIComponent(select.value)}`, body);
    if (r.status >= 300) { say(status, errorText(r), false); return; }
    if (r.status === 202) {
      await afterChange();
      say(status, t("console.proposalCreated", { id: r.body?.result?.id ?? "" }), true);
      return;
    }
    await afterChange();
    say(status, t("console.done", { command: select.value }), true);
  } }, el("h3", {}, t("console.command")), el("label", {}, t("console.commandName"), select), el("label", {}, t("console.args"), args), fields,
    el("button", { type: "submit" }, t("console.run")));
  return [form, status];
}

function holdingsTable(blocks) {
  return pagedTable([
    { key: "registry", label: t("col.registry"), render: b => known.lots.get(b.lot)?.registry || "" },
    { key: "first", label: t("col.serials"), render: b => serialsLink(known.lots.get(b.lot)?.registry, b.first, b.last) },
    { key: "quantity", label: t("col.quantity"), num: true },
    { key: "project", label: t("col.project"), render: b => projectLink(b.project) },
    { key: "vintage", label: t("col.vintage") },
    { key: "itmo", label: t("col.itmoId"), l10n: true, render: b => b.itmo ? itmoRange(known.lots.get(b.lot) || Object.assign({ itmo: true }, b), b.first, b.last) : t("kind.jcm") },
    { key: "held_inconsistent", label: t("console.held"), l10n: true, render: b => b.held_inconsistent ? t("console.heldYes") : "" }],
  blocks, "holdings-table", { caption: t("console.holdings"), csv: "holdings.csv" });
}

async function pageConsole(main) {
  if (!token()) { signIn(main); return; }
  setTitle("console.title");
  const status = el("div", { id: "console-status" });
  main.append(el("h1", {}, t("console.title")), el("button", { class: "secondary", id: "signout", onclick: () => { sessionStorage.removeItem("token"); route(); } }, t("console.signout")), status);
  const [accounts, lots] = await Promise.all([listOf("/v1/accounts", "accounts"), listOf("/v1/lots", "lots")]);
  // What is due (issue 31 item 4: jcmreg due, GET /v1/due): AEFs, initial reports, OIMP first
  // transfers and notifications, JC shares not issued; overdue items first, as the server sorts.
  const due = await api("GET", "/v1/due");
  main.append(el("h2", {}, t("console.due")));
  if (due.status !== 200) main.append(el("p", { class: "muted", id: "due-error" }, errorText(due)));
  else if (!(due.body?.due || []).length) main.append(el("p", { class: "muted", id: "due-none" }, t("console.nothingDue")));
  else main.append(pagedTable([
    { key: "status", label: t("col.status"), l10n: true, render: d => el("span", { class: "tag" }, t("due." + d.status)) },
    { key: "party", label: t("col.party") }, { key: "due", label: t("console.dueBy") },
    { key: "what", label: t("console.what") }, { key: "rule", label: t("console.rule") }],
  due.body.due, "due-table", { caption: t("console.due"), csv: "due.csv" }));
  known.accounts = new Map(accounts.map(a => [a.id, a]));
  known.lots = new Map(lots.map(l => [l.id, l]));
  known.holdings.clear();
  const holdings = el("div", { id: "holdings" });
  // The server pages an account's blocks (1,000 at a time, by first serial): the first page is
  // shown, and each click on "more" fetches the next one and adds it.
  const show = async (id, after = 0, shown = []) => {
    const r = await api("GET", `/v1/accounts/${id}/holdings` + (after ? `?after=${after}` : ""));
    holdings.replaceChildren();
    if (r.status !== 200) { say(holdings, errorText(r), false); return; }
    const blocks = shown.concat(r.body.blocks);
    const heading = el("h2", { tabindex: "-1" }, tNodes("console.holdingsOf", { name: r.body.account.name, registry: r.body.account.registry, total: fmt(r.body.total) }));
    holdings.append(heading, el("p", { class: "muted hint" }, t("console.holdingsHint")),
      el("p", { id: "holdings-count" }, t("console.blockCount", { shown: fmt(blocks.length), count: fmt(r.body.block_count) })),
      holdingsTable(blocks));
    if (r.body.next_after !== undefined) {
      holdings.append(el("button", { class: "secondary", id: "holdings-more", onclick: () => show(id, r.body.next_after, blocks) }, t("console.more")));
    }
    if (!after) heading.focus();
  };
  const proposals = el("div", { id: "proposals-wrap" });
  const proposalsStatus = el("div", { id: "proposals-status", class: "form-status" });
  const refresh = () => consoleProposals(proposals, proposalsStatus);
  main.append(el("h2", {}, t("console.accounts")), pagedTable([
    { key: "id", label: t("col.account"), num: true }, { key: "registry", label: t("col.registry") },
    { key: "type", label: t("col.type"), l10n: true, render: a => accountType(a.type) },
    { key: "name", label: t("col.name") }, { key: "status", label: t("col.status"), l10n: true, render: a => t("status." + a.status) },
    { key: "view", label: t("console.actions"), noCsv: true, render: a => el("button", { class: "secondary", onclick: () => show(a.id) }, t("console.holdings")) },
  ], accounts, "accounts", { caption: t("console.accounts"), csv: "accounts.csv" }), holdings);
  main.append(...consoleMovementForm(refresh));
  const peersReply = await api("GET", "/v1/link/peers");
  const peers = peersReply.status === 200 && Array.isArray(peersReply.body?.peers) ? peersReply.body.peers : [];
  if (peers.length) main.append(...consoleLinkForm(peers, refresh));
  main.append(el("h2", {}, t("console.proposals")), proposalsStatus, proposals);
  await refresh();
  main.append(...await consoleCommandForm(refresh));
}

// ---- Routing -----------------------------------------------------------------------------------

function pageNotFound(main, path) {
  setTitle("notfound.title");
  main.append(el("h1", {}, t("notfound.title")), el("p", {}, tNodes("notfound.text", { path })),
    el("p", {}, el("a", { href: "#/" }, t("notfound.home"))));
}

const PAGES = { "": pageHome, projects: (main, args, params) => (args.length ? pageProject(main, decodeURIComponent(args[0])) : pageProjects(main, args, params)),
  issuances: pageIssuances, authorizations: pageAuthorizations, statistics: pageStatistics, lookup: pageLookup,
  reports: pageReports, link: pageLink, console: pageConsole };

function translateStatic() {
  document.documentElement.lang = lang;
  for (const node of document.querySelectorAll("[data-i18n]")) node.textContent = t(node.dataset.i18n);
  for (const node of document.querySelectorAll("[data-i18n-label]")) node.setAttribute("aria-label", t(node.dataset.i18nLabel));
}

// Each route renders into a view of its own: a route still loading when the next one starts (a
// quick second click, a reload then a link) writes into a view no longer shown, and never marks
// the page ready.
let routeGeneration = 0;

async function route() {
  const generation = ++routeGeneration;
  // The hash route, else the path of a page the server renders too (/projects/TH014 is
  // projects/TH014; its query, ?host=MNG, the route's).
  const path = pathMode() ? location.pathname.replace(/^\//, "").replace(/\/$/, "") + location.search
    : location.hash.replace(/^#\/?/, "");
  const [pathOnly, query] = path.split("?");
  const params = new URLSearchParams(query || "");
  const [name, ...args] = pathOnly.split("/");
  // The nav's links: "#/x" (index.html) or "/#/x" and "/projects" (the server's pages).
  for (const a of document.querySelectorAll("nav a")) {
    const href = a.getAttribute("href").replace(/^\//, "");
    a.classList.toggle("active", href === "#/" + name || href === name);
  }
  const main = document.getElementById("main");
  delete main.dataset.ready;  // Tests and scripts wait for the page's own "ready".
  const view = el("div", { class: "view" });
  main.replaceChildren(view);
  const knownPage = Object.hasOwn(PAGES, name);
  const page = knownPage ? PAGES[name] : pageNotFound;
  try { await page(view, knownPage ? args.filter(Boolean) : "#/" + path, params); } catch (e) { view.append(message(String(e), false)); }
  if (generation !== routeGeneration) return;
  main.dataset.ready = !knownPage ? "notfound" : (name === "projects" && args.filter(Boolean).length ? "project" : (name || "home"));
}

document.getElementById("lang").value = lang;
document.getElementById("lang").addEventListener("change", e => {
  lang = e.target.value;
  localStorage.setItem("lang", lang);
  // A ?lang= in the address (a server page's) would choose the other language again on reload.
  if (new URLSearchParams(location.search).has("lang")) {
    const q = new URLSearchParams(location.search);
    q.delete("lang");
    history.replaceState(null, "", location.pathname + (q.toString() ? "?" + q : "") + location.hash);
  }
  translateStatic();
  route();
});
window.addEventListener("hashchange", route);
translateStatic();
route();
