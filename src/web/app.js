// The portal: public registry pages and an operator console over the /v1 JSON API.
// Plain JavaScript, no framework, no external resources; hash routing (#/page).
"use strict";

const PAGE_SIZE = 25;
let lang = localStorage.getItem("lang") || "en";

function t(key) {
  return (I18N[lang] && I18N[lang][key]) || I18N.en[key] || key;
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
  return { status: response.status, body: parsed };
}

function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (k === "class") node.className = v;
    else if (k.startsWith("on")) node.addEventListener(k.slice(2), v);
    else if (v !== undefined && v !== null) node.setAttribute(k, v);
  }
  for (const c of children.flat()) {
    if (c === null || c === undefined) continue;
    node.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return node;
}

function fmt(n) { return typeof n === "number" ? n.toLocaleString("en-US") : (n ?? ""); }

// A message that survives the re-render after a successful action.
let flash = null;

function message(text, ok) { return el("div", { class: "msg " + (ok ? "ok" : "bad"), role: "status" }, text); }

function errorText(r) {
  if (r.body && r.body.code) return `${r.body.code} ${r.body.check}: ${r.body.message}`;
  return `HTTP ${r.status}`;
}

// A table that pages through `rows` on the client. columns: [{key, label, num, render}].
function pagedTable(columns, rows, id) {
  const wrap = el("div", { id });
  let page = 0;
  const pages = Math.max(1, Math.ceil(rows.length / PAGE_SIZE));
  function draw() {
    wrap.replaceChildren();
    if (rows.length === 0) { wrap.append(el("p", { class: "muted" }, t("none"))); return; }
    const head = el("tr", {}, columns.map(c => el("th", { class: c.num ? "num" : "" }, c.label)));
    const body = rows.slice(page * PAGE_SIZE, (page + 1) * PAGE_SIZE).map(r =>
      el("tr", {}, columns.map(c => el("td", { class: c.num ? "num" : "" },
        c.render ? c.render(r) : (c.num ? fmt(r[c.key]) : (r[c.key] ?? ""))))));
    wrap.append(el("table", {}, el("thead", {}, head), el("tbody", {}, body)));
    if (pages > 1) {
      wrap.append(el("div", { class: "pager" },
        el("button", { class: "secondary", onclick: () => { if (page > 0) { page--; draw(); } } }, t("prev")),
        `${t("page")} ${page + 1} / ${pages} (${rows.length})`,
        el("button", { class: "secondary", onclick: () => { if (page < pages - 1) { page++; draw(); } } }, t("next"))));
    }
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
    if (Array.isArray(r.body)) return out.concat(r.body);
    out = out.concat(r.body[key] || Object.values(r.body).find(Array.isArray) || []);
    if (r.body.next_after === undefined) return out;
    url = path + (path.includes("?") ? "&" : "?") + "after=" + encodeURIComponent(r.body.next_after);
  }
  return out;
}

// ---- Public pages ------------------------------------------------------------------------------

async function pageHome(main) {
  main.append(el("h1", {}, t("home.title")));
  const r = await api("GET", "/v1/totals");
  const totals = (r.body && r.body.totals) || {};
  const cards = el("div", { class: "cards", id: "totals" });
  for (const [registry, byType] of Object.entries(totals)) {
    for (const [type, amount] of Object.entries(byType)) {
      cards.append(el("div", { class: "card", "data-registry": registry, "data-type": type },
        el("div", { class: "value" }, fmt(amount)), el("div", { class: "label" }, `${registry} · ${type.replace("_", " ")}`)));
    }
  }
  main.append(el("h2", {}, t("home.totals")), cards);
}

async function pageProjects(main) {
  main.append(el("h1", {}, t("projects.title")));
  const [projects, lots] = await Promise.all([listOf("/v1/projects", "projects"), listOf("/v1/lots", "lots")]);
  const issued = {};
  for (const l of lots) issued[l.project] = (issued[l.project] || 0) + l.quantity;
  main.append(pagedTable([
    { key: "reference", label: "Reference", render: p => p.reference || p.ref || p.project || p.key || "" },
    { key: "title", label: "Title" },
    { key: "host_party", label: "Host", render: p => p.host_party || p.host || "" },
    { key: "status", label: "Status", render: p => p.status || p.state || "" },
    { key: "methodology", label: "Methodology" },
    { key: "issued", label: "Issued here (t)", num: true, render: p => fmt(issued[p.reference || p.ref || p.project] || 0) },
  ], projects, "projects"));
}

async function pageIssuances(main) {
  main.append(el("h1", {}, t("issuances.title")));
  const lots = await listOf("/v1/lots", "lots");
  main.append(pagedTable([
    { key: "registry", label: "Registry" },
    { key: "project", label: "Project" },
    { key: "vintage", label: "Vintage", num: true, render: l => l.vintage },
    { key: "first", label: "Serials", render: l => `${l.first}–${l.last}` },
    { key: "quantity", label: "Quantity (t)", num: true },
    { key: "itmo", label: "ITMO", render: l => l.itmo ? el("span", { class: "tag itmo" }, "ITMO " + (l.cooperative_approach || "")) : el("span", { class: "tag" }, "JCM credit") },
    { key: "authorization_id", label: "Authorization", render: l => l.authorization_id ? `${l.authorization_id} v${l.authorization_version}` : "" },
    { key: "jc_decision", label: "JC decision" },
  ], lots.slice().reverse(), "lots"));
}

async function pageAuthorizations(main) {
  main.append(el("h1", {}, t("authorizations.title")));
  const auths = await listOf("/v1/authorizations", "authorizations");
  main.append(pagedTable([
    { key: "authorization_id", label: "Authorization ID", render: a => a.authorization_id || a.id || "" },
    { key: "party", label: "Party" },
    { key: "_version", label: "Version", num: true, render: a => a.version || a._version },
    { key: "project", label: "Project" },
    { key: "purposes", label: "Purposes" },
    { key: "first_transfer_definition", label: "First transfer (OIMP)", render: a => a.first_transfer_definition || a.first_transfer || "" },
    { key: "date", label: "Date" },
    { key: "revoked", label: "State", render: a => a.revoked ? "revoked" : "in force" },
  ], auths, "authorizations"));
  const cas = await listOf("/v1/cooperative-approaches", "cooperative_approachs");
  if (cas.length) {
    main.append(el("h2", {}, "Cooperative approaches (Step 1)"));
    main.append(pagedTable([
      { key: "ca_id", label: "CA ID", render: c => c.ca_id || c.id || c.key || "" },
      { key: "name", label: "Name", render: c => c.name || c.title || "" },
      { key: "parties", label: "Parties", render: c => (c.parties || []).join(", ") },
    ], cas, "cooperative-approaches"));
  }
}

async function pageStatistics(main) {
  main.append(el("h1", {}, t("statistics.title")));
  const totals = (await api("GET", "/v1/totals")).body?.totals || {};
  const rows = [];
  for (const [registry, byType] of Object.entries(totals)) {
    for (const [type, amount] of Object.entries(byType)) rows.push({ registry, type, amount });
  }
  main.append(el("h2", {}, t("statistics.types")),
    pagedTable([{ key: "registry", label: "Registry" }, { key: "type", label: "Account type" },
      { key: "amount", label: "Amount (tCO2)", num: true }], rows, "stats-types"));
  const annual = await api("GET", "/v1/statistics/annual");
  if (annual.status === 200 && annual.body) {
    const list = annual.body.years || annual.body.rows || [];
    main.append(el("h2", {}, t("statistics.annual")), pagedTable(
      Object.keys(list[0] || { year: 0 }).map(k => ({ key: k, label: k, num: k !== "year" && k !== "registry" })), list, "stats-annual"));
  }
  const accounts = (await listOf("/v1/accounts", "accounts")).filter(a => a.type === "entity_holding");
  main.append(el("h2", {}, t("statistics.entities")), pagedTable([
    { key: "id", label: "Account", num: true }, { key: "registry", label: "Registry" },
    { key: "name", label: "Name" }, { key: "status", label: "Status" }], accounts, "stats-entities"));
}

async function pageLookup(main) {
  main.append(el("h1", {}, t("lookup.title")), el("p", { class: "muted" }, t("lookup.hint")));
  const out = el("div", { id: "lookup-result" });
  const registry = el("input", { name: "registry", value: "JPN01", size: 6 });
  const serial = el("input", { name: "serial", placeholder: "1500 or CA0001-JPN01-THA-1500-2021" });
  const form = el("form", { id: "lookup-form", onsubmit: async e => {
    e.preventDefault();
    out.replaceChildren(t("loading"));
    let reg = registry.value.trim(), ser = serial.value.trim();
    const m = ser.match(/^CA\d{4}-([A-Z]{3}\d{2})-[A-Z]{3}-(\d+)-\d{4}$/);
    if (m) { reg = m[1]; ser = m[2]; }
    const r = await api("GET", `/v1/trace/${encodeURIComponent(reg)}/${encodeURIComponent(ser)}`);
    out.replaceChildren();
    if (r.status !== 200) { out.append(message(errorText(r), false)); return; }
    const lot = r.body.lot || {};
    out.append(el("h2", {}, `Serial ${r.body.serial} of ${r.body.registry}`),
      r.body.itmo_id ? el("p", {}, "ITMO identifier: ", el("code", {}, r.body.itmo_id)) : null,
      el("p", {}, `Project ${lot.project || "-"}, vintage ${lot.vintage}, lot ${lot.first}–${lot.last}` +
        (lot.jc_decision ? `, ${lot.jc_decision}` : "")),
      pagedTable([
        { key: "id", label: "Block", num: true }, { key: "first", label: "Serials", render: b => `${b.first}–${b.last}` },
        { key: "account", label: "Account", render: b => b.account ?? b.account_type }, { key: "created", label: "Created (journal)", num: true },
        { key: "closed", label: "Closed (journal)", num: true }, { key: "parent", label: "Parent", num: true },
        { key: "first_transferred", label: "First transferred", render: b => b.first_transferred ? "yes" : "no" },
        { key: "use_year", label: "Use year", render: b => b.use_year || "" },
      ], r.body.lineage || [], "lineage"));
  } }, el("label", {}, "Registry", registry), el("label", {}, "Serial or ITMO identifier", serial),
    el("button", { type: "submit" }, t("lookup.go")));
  main.append(form, out);
}

async function pageReports(main) {
  main.append(el("h1", {}, t("reports.title")));
  const party = el("input", { name: "party", value: "JPN", size: 4 });
  const year = el("input", { name: "year", value: String(new Date().getFullYear() - 1), size: 5 });
  const links = el("div", { id: "report-links" });
  const draw = () => {
    const q = `party=${encodeURIComponent(party.value)}&year=${encodeURIComponent(year.value)}`;
    links.replaceChildren(
      el("p", {}, el("a", { id: "aef-xlsx", href: `/v1/reports/aef?${q}&format=xlsx`, download: `AEF-${party.value}-${year.value}.xlsx` }, "AEF workbook (XLSX)"), " · ",
        el("a", { href: `/v1/reports/aef?${q}&format=json` }, "AEF (JSON)"), " · ",
        el("a", { href: `/v1/statistics/annual?format=csv` }, "Annual transactions summary (CSV)")));
  };
  party.addEventListener("input", draw);
  year.addEventListener("input", draw);
  main.append(el("form", { onsubmit: e => e.preventDefault() }, el("label", {}, "Party", party), el("label", {}, "Reported year", year)), links);
  draw();
}

// ---- Operator console --------------------------------------------------------------------------

function signIn(main) {
  const input = el("input", { name: "token", type: "password", autocomplete: "off" });
  main.append(el("h1", {}, t("console.title")), el("form", { id: "signin", onsubmit: async e => {
    e.preventDefault();
    sessionStorage.setItem("token", input.value.trim());
    const r = await api("GET", "/v1/accounts");
    if (r.status !== 200) { sessionStorage.removeItem("token"); main.append(message(errorText(r), false)); return; }
    route();
  } }, el("label", {}, t("console.token"), input), el("button", { type: "submit" }, t("console.signin"))));
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

async function consoleMovementForm(status) {
  const kind = el("select", { name: "kind" }, ["transfer", "retire", "cancel"].map(k => el("option", { value: k }, k)));
  const form = el("form", { id: "propose-form", onsubmit: async e => {
    e.preventDefault();
    const values = formValues(form);
    const command = values.kind; delete values.kind;
    if (command !== "retire") delete values.use_year;
    if (command !== "cancel") delete values.purpose;
    const r = await api("POST", "/v1/proposals", { command, args: values });
    if (r.status >= 300) { status.replaceChildren(message(errorText(r), false)); return; }
    const id = r.body?.result?.id ?? r.body?.result?.proposal?.id ?? "";
    flash = [`Proposal ${id} created: waiting for a second person's approval.`, true];
    route();
  } }, el("h3", {}, t("console.propose")), el("label", {}, "Kind", kind),
    field("from", "From account", { required: true }), field("to", "To account"),
    field("quantity", "Quantity (t)"), field("ranges", "or serial ranges (101-200, …)"),
    field("project", "Project filter"), field("use_year", "Year of use (retire)"),
    el("label", {}, "Purpose (cancel)", el("select", { name: "purpose" }, ["", "voluntary", "omge", "oimp", "other"].map(p => el("option", { value: p }, p)))),
    el("button", { type: "submit" }, "Propose"));
  return form;
}

async function consoleProposals(status) {
  const proposals = await listOf("/v1/proposals", "proposals");
  const decide = async (id, verb) => {
    const r = await api("POST", `/v1/proposals/${id}/${verb}`, {});
    if (r.status >= 300) { status.replaceChildren(message(errorText(r), false)); return; }
    flash = [`Proposal ${id}: ${verb}d.`, true];
    route();
  };
  return pagedTable([
    { key: "id", label: "Id", num: true },
    { key: "command", label: "Command" },
    { key: "args", label: "Arguments", render: p => el("code", {}, JSON.stringify(p.args)) },
    { key: "initiator", label: "Proposed by" },
    { key: "state", label: "State", render: p => p.state || p.status },
    { key: "actions", label: "", render: p => (p.state || p.status) === "pending" ? [
      el("button", { class: "approve", "data-id": p.id, onclick: () => decide(p.id, "approve") }, t("console.approve")), " ",
      el("button", { class: "secondary reject", "data-id": p.id, onclick: () => decide(p.id, "reject") }, t("console.reject"))] : "" },
  ], proposals.slice().reverse(), "proposals");
}

async function consoleCommandForm(status) {
  const commands = (await api("GET", "/v1/commands")).body;
  const list = Array.isArray(commands) ? commands : (commands?.commands || []);
  const name = c => c.type || c.name || c;
  const select = el("select", { name: "command" }, list.map(c => el("option", { value: name(c) },
    name(c) + (c.four_eyes ? " (four-eyes: becomes a proposal)" : ""))));
  const args = el("textarea", { name: "args" }, "{}");
  // The fields the selected command takes (any other is refused: JCM-106 unknown_field).
  const fields = el("p", { id: "command-fields", class: "muted" });
  const showFields = () => {
    const c = list.find(x => name(x) === select.value);
    fields.textContent = c && Array.isArray(c.fields) ? "Fields: " + c.fields.join(", ") : "";
  };
  select.addEventListener("change", showFields);
  showFields();
  const form = el("form", { id: "command-form", onsubmit: async e => {
    e.preventDefault();
    let body;
    try { body = JSON.parse(args.value); } catch (err) { status.replaceChildren(message("The arguments are not valid JSON.", false)); return; }
    const r = await api("POST", `/v1/commands/${encodeURIComponent(select.value)}`, body);
    status.replaceChildren(message(r.status < 300 ? `${select.value}: done (${r.status}).` : errorText(r), r.status < 300));
  } }, el("h3", {}, t("console.command")), el("label", {}, "Command", select), el("label", {}, "Arguments (JSON)", args), fields,
    el("button", { type: "submit" }, "Run"));
  return form;
}

async function pageConsole(main) {
  if (!token()) { signIn(main); return; }
  const status = el("div", { id: "console-status" });
  if (flash) { status.append(message(flash[0], flash[1])); flash = null; }
  main.append(el("h1", {}, t("console.title")), el("button", { class: "secondary", onclick: () => { sessionStorage.removeItem("token"); route(); } }, t("console.signout")), status);
  const accounts = await listOf("/v1/accounts", "accounts");
  const holdings = el("div", { id: "holdings" });
  // The server pages an account's blocks (1,000 at a time, by first serial): the first page is
  // shown, and each click on "more" fetches the next one and adds it.
  const show = async (id, after = 0, shown = []) => {
    const r = await api("GET", `/v1/accounts/${id}/holdings` + (after ? `?after=${after}` : ""));
    holdings.replaceChildren();
    if (r.status !== 200) { holdings.append(message(errorText(r), false)); return; }
    const blocks = shown.concat(r.body.blocks);
    holdings.append(el("h2", {}, `${t("console.holdings")}: ${r.body.account.name} (${fmt(r.body.total)} t)`),
      el("p", { id: "holdings-count" }, `${fmt(blocks.length)} / ${fmt(r.body.block_count)} ${t("console.blocks")}`),
      pagedTable([{ key: "first", label: "Serials", render: b => `${b.first}–${b.last}` }, { key: "quantity", label: "Quantity", num: true },
        { key: "project", label: "Project" }, { key: "vintage", label: "Vintage" }, { key: "itmo", label: "ITMO", render: b => b.itmo ? "yes" : "no" },
        { key: "held_inconsistent", label: "Held", render: b => b.held_inconsistent ? "held" : "" }],
      blocks, "holdings-table"));
    if (r.body.next_after !== undefined) {
      holdings.append(el("button", { class: "secondary", id: "holdings-more", onclick: () => show(id, r.body.next_after, blocks) }, t("console.more")));
    }
  };
  main.append(el("h2", {}, t("console.accounts")), pagedTable([
    { key: "id", label: "Account", num: true }, { key: "registry", label: "Registry" }, { key: "type", label: "Type" },
    { key: "name", label: "Name" }, { key: "status", label: "Status" },
    { key: "view", label: "", render: a => el("button", { class: "secondary", onclick: () => show(a.id) }, t("console.holdings")) },
  ], accounts, "accounts"), holdings);
  main.append(await consoleMovementForm(status));
  main.append(el("h2", {}, t("console.proposals")), await consoleProposals(status));
  main.append(await consoleCommandForm(status));
}

// ---- Routing -----------------------------------------------------------------------------------

const PAGES = { "": pageHome, projects: pageProjects, issuances: pageIssuances, authorizations: pageAuthorizations,
  statistics: pageStatistics, lookup: pageLookup, reports: pageReports, console: pageConsole };

function translateStatic() {
  document.documentElement.lang = lang;
  for (const node of document.querySelectorAll("[data-i18n]")) node.textContent = t(node.dataset.i18n);
}

async function route() {
  const name = (location.hash.replace(/^#\/?/, "").split("/")[0]) || "";
  for (const a of document.querySelectorAll("nav a")) a.classList.toggle("active", a.getAttribute("href") === "#/" + name);
  const main = document.getElementById("main");
  delete main.dataset.ready;  // Tests and scripts wait for the page's own "ready".
  main.replaceChildren();
  const page = PAGES[name] || pageHome;
  try { await page(main); } catch (e) { main.append(message(String(e), false)); }
  main.dataset.ready = name || "home";
}

document.getElementById("lang").value = lang;
document.getElementById("lang").addEventListener("change", e => { lang = e.target.value; localStorage.setItem("lang", lang); translateStatic(); route(); });
window.addEventListener("hashchange", route);
translateStatic();
route();
