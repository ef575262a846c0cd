// Goal: the portal works for real people in a real browser. Method: build a demo registry with
// jcmreg, add two account representatives, start `jcmreg serve` on a free loopback port, and drive
// Debian's chromium (headless, through playwright-core) through: the public overview, the
// four-eyes flow (A proposes a transfer, B approves, the public totals change), a serial lookup
// through its lineage, an AEF download, and an account of more than 1,000 blocks (the server's
// page) whose holdings come a page at a time, and a 503 with Retry-After waited out and retried.
// Screenshots go to test-artifacts/browser/.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { spawn, execFileSync } from "node:child_process";
import { mkdtempSync, mkdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { chromium } from "playwright-core";

const root = resolve(process.env.JCM_SOURCE_DIR || new URL("../..", import.meta.url).pathname);
const jcmreg = process.env.JCMREG || join(root, "build/src/jcmreg");
const artifacts = join(root, "test-artifacts/browser");
const work = mkdtempSync(join(tmpdir(), "jcm-portal-"));
const db = join(work, "registry.db");
let server, browser, base, tokenA, tokenB, tokenAdmin;

function run(...args) {
  return execFileSync(jcmreg, args, { cwd: root, encoding: "utf8" }).trim();
}

before(async () => {
  mkdirSync(artifacts, { recursive: true });
  run("--db", db, "demo", "--data", join(root, "data/jcm"));
  tokenA = run("user", "add", "--db", db, "--role", "account_representative", "--scope", "registry:JPN01", "--name", "rep.a", "--quiet");
  tokenB = run("user", "add", "--db", db, "--role", "account_representative", "--scope", "registry:JPN01", "--name", "rep.b", "--quiet");
  tokenAdmin = run("user", "add", "--db", db, "--role", "administrator", "--scope", "*", "--name", "admin", "--quiet");
  server = spawn(jcmreg, ["serve", "--db", db, "--listen", "127.0.0.1:0", "--quiet"], { cwd: root });
  base = await new Promise((resolveUrl, reject) => {
    let out = "";
    const timer = setTimeout(() => reject(new Error("serve did not start: " + out)), 20000);
    server.stdout.on("data", chunk => {
      out += chunk;
      const m = out.match(/http:\/\/127\.0\.0\.1:(\d+)/);
      if (m) { clearTimeout(timer); resolveUrl(`http://127.0.0.1:${m[1]}`); }
    });
    server.on("exit", code => reject(new Error(`serve exited ${code}: ${out}`)));
  });
  browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
      "--disable-component-update", "--disable-sync", "--disable-quic"],
    // playwright-core gives every launch a fresh, empty user data dir of its own.
  });
});

after(async () => {
  if (browser) await browser.close();
  if (server) {
    server.kill("SIGKILL");
    server.stdout.destroy();
    server.stderr.destroy();
  }
  rmSync(work, { recursive: true, force: true });
});

// Every page the tests open reports its script errors and its console errors, among them any
// breach of the server's Content-Security-Policy (a blocked script, style or request); the last
// test requires none.
const pageErrors = [];
async function newPage() {
  const page = await browser.newPage();
  page.on("pageerror", e => pageErrors.push(`pageerror: ${e.message}`));
  page.on("console", m => {
    // An API refusal the test provokes (403 self-approval, 400 unknown field) is logged by the
    // browser as a failed load; it is an answer, not an error of the page.
    if (m.type() !== "error" || /the server responded with a status of (400|403|422)\b/.test(m.text())) return;
    pageErrors.push(`console: ${m.text()} (${m.location().url})`);
  });
  return page;
}

async function ready(page, name) {
  await page.waitForFunction(n => document.getElementById("main").dataset.ready === n, name, { timeout: 10000 });
}

async function totals(page) {
  await page.goto(base + "/#/");
  await ready(page, "home");
  return page.$$eval("#totals .card", cards => Object.fromEntries(cards.map(c =>
    [`${c.dataset.registry}:${c.dataset.type}`, Number(c.querySelector(".value").textContent.replace(/,/g, ""))])));
}

async function signIn(page, token) {
  await page.goto(base + "/#/console");
  await ready(page, "console");
  if (await page.$("#signin") === null) {
    await page.click("text=Sign out");
    await ready(page, "console");
  }
  await page.fill("#signin input[name=token]", token);
  await page.click("#signin button");
  await page.waitForSelector("#propose-form", { timeout: 10000 });
}

test("the public overview shows the totals per account type", async () => {
  const page = await newPage();
  const started = Date.now();
  const before = await totals(page);
  const elapsed = Date.now() - started;
  assert.ok(before["JPN01:government_holding"] > 0, JSON.stringify(before));
  // Speed is shown by measurement, never asserted in a test (a loaded CI machine would flake).
  console.log(`overview loaded in ${elapsed} ms`);
  await page.screenshot({ path: join(artifacts, "01-overview.png"), fullPage: true });
  await page.close();
});

test("four eyes: A proposes a transfer, A cannot approve it, B approves, the public totals change", async () => {
  const page = await newPage();
  const before = await totals(page);
  await signIn(page, tokenA);
  await page.selectOption("#propose-form select[name=kind]", "transfer");
  await page.fill("#propose-form input[name=from]", "1");
  await page.fill("#propose-form input[name=to]", "4");
  await page.fill("#propose-form input[name=quantity]", "1234");
  await page.click("#propose-form button[type=submit]");
  await page.waitForSelector("#console-status .msg.ok", { timeout: 10000 });
  await ready(page, "console");
  await page.screenshot({ path: join(artifacts, "02-proposed.png"), fullPage: true });
  // The initiator's approval is refused.
  await page.click("#proposals button.approve");
  await page.waitForSelector("#console-status .msg.bad", { timeout: 10000 });
  assert.match(await page.textContent("#console-status"), /self_approval/);
  const unchanged = await totals(page);
  assert.deepEqual(unchanged, before);
  // B approves.
  await signIn(page, tokenB);
  await page.click("#proposals button.approve");
  await page.waitForSelector("#console-status .msg.ok", { timeout: 10000 });
  await ready(page, "console");
  await page.screenshot({ path: join(artifacts, "03-approved.png"), fullPage: true });
  const afterTotals = await totals(page);
  assert.equal(afterTotals["JPN01:government_holding"], before["JPN01:government_holding"] - 1234);
  assert.equal(afterTotals["JPN01:entity_holding"], before["JPN01:entity_holding"] + 1234);
  await page.screenshot({ path: join(artifacts, "04-totals-after.png"), fullPage: true });
  await page.close();
});

test("the command form names the fields of each command and a misspelt one is refused", async () => {
  const page = await newPage();
  await signIn(page, tokenAdmin);
  await page.selectOption("#command-form select[name=command]", "party.add");
  assert.equal(await page.textContent("#command-fields"), "Fields: code, name");
  await page.selectOption("#command-form select[name=command]", "transfer");
  assert.equal(await page.textContent("#command-fields"), "Fields: from, to, quantity, ranges, project, vintage");
  const before = await totals(page);
  await signIn(page, tokenAdmin);
  await page.selectOption("#command-form select[name=command]", "transfer");
  await page.fill("#command-form textarea[name=args]", JSON.stringify({ from: 1, to: 4, quantity: 5, projet: "MN004" }));
  await page.click("#command-form button[type=submit]");
  await page.waitForSelector("#console-status .msg.bad", { timeout: 10000 });
  assert.match(await page.textContent("#console-status"), /unknown_field.*'projet'/);
  await page.screenshot({ path: join(artifacts, "04b-unknown-field.png"), fullPage: true });
  assert.deepEqual(await totals(page), before);
  await page.close();
});

test("a serial lookup shows its lineage", async () => {
  const page = await newPage();
  await page.goto(base + "/#/lookup");
  await ready(page, "lookup");
  await page.fill("#lookup-form input[name=registry]", "JPN01");
  await page.fill("#lookup-form input[name=serial]", "200");
  await page.click("#lookup-form button");
  await page.waitForSelector("#lineage table", { timeout: 10000 });
  const rows = await page.$$eval("#lineage tbody tr", r => r.length);
  assert.ok(rows >= 1);
  assert.match(await page.textContent("#lookup-result"), /Serial 200 of JPN01/);
  await page.screenshot({ path: join(artifacts, "05-lookup.png"), fullPage: true });
  await page.close();
});

test("the AEF workbook downloads as an XLSX file", async () => {
  const context = await browser.newContext({ acceptDownloads: true });
  const page = await context.newPage();
  await page.goto(base + "/#/reports");
  await ready(page, "reports");
  await page.fill("input[name=year]", "2026");
  const [download] = await Promise.all([page.waitForEvent("download"), page.click("#aef-xlsx")]);
  const path = join(artifacts, "AEF-JPN-2026.xlsx");
  await download.saveAs(path);
  const bytes = readFileSync(path);
  assert.equal(bytes.subarray(0, 2).toString(), "PK");  // An XLSX file is a ZIP archive.
  await page.screenshot({ path: join(artifacts, "06-reports.png"), fullPage: true });
  await context.close();
});

test("an account's holdings of more than one page come a page at a time", async () => {
  // Holding every other serial of account 1's largest block splits it into more than 1,000 blocks.
  const call = async (method, path, body) => {
    const r = await fetch(base + path, { method, headers: { Authorization: `Bearer ${tokenAdmin}`, "Content-Type": "application/json" },
      body: body === undefined ? undefined : JSON.stringify(body) });
    return { status: r.status, body: await r.json() };
  };
  const held = await call("GET", "/v1/accounts/1/holdings");
  assert.equal(held.status, 200);
  const largest = held.body.blocks.reduce((a, b) => (b.quantity > a.quantity ? b : a));
  assert.ok(largest.quantity > 1100, JSON.stringify(largest));
  for (let k = 0; k < 520; k++) {
    let r = await call("POST", "/v1/commands/block.hold", { account: 1, ranges: [String(largest.first + 1 + 2 * k)], hold: true });
    if (r.status === 429) {  // The server's rate limit (a burst of 400): wait for the bucket.
      await new Promise(done => setTimeout(done, 1000));
      r = await call("POST", "/v1/commands/block.hold", { account: 1, ranges: [String(largest.first + 1 + 2 * k)], hold: true });
    }
    assert.equal(r.status, 200, JSON.stringify(r.body));
  }
  const after = await call("GET", "/v1/accounts/1/holdings?limit=1");
  const count = after.body.block_count;
  assert.ok(count > 1000, String(count));
  assert.equal(after.body.total, held.body.total);  // Holding moves nothing.

  const page = await newPage();
  await signIn(page, tokenA);
  await page.click("#accounts tbody tr:first-child button");
  await page.waitForSelector("#holdings-count", { timeout: 10000 });
  const fmt = n => n.toLocaleString("en-US");
  assert.equal(await page.textContent("#holdings-count"), `${fmt(1000)} / ${fmt(count)} blocks`);
  await page.click("#holdings-more");
  await page.waitForFunction(c => document.getElementById("holdings-count")?.textContent.startsWith(c),
    `${fmt(count)} /`, { timeout: 10000 });
  assert.equal(await page.$("#holdings-more"), null);  // The last page.
  await page.screenshot({ path: join(artifacts, "07-holdings-pages.png"), fullPage: true });
  await page.close();
});

test("a 503 with Retry-After is waited out and retried: the statistics page still shows the summary", async () => {
  // The server's own 503 (every report slot busy) is tested over HTTP; here the browser's answer
  // to it: the first request for the summary is answered 503 by the test, the next goes through.
  const page = await browser.newPage();  // Not newPage(): the provoked 503 is logged as an error.
  page.on("pageerror", e => pageErrors.push(`pageerror: ${e.message}`));
  const asked = [];
  await page.route("**/v1/statistics/annual", async route => {
    asked.push(Date.now());
    if (asked.length === 1) {
      await route.fulfill({ status: 503, headers: { "Retry-After": "1", "Content-Type": "application/json" },
        body: JSON.stringify({ code: "JCM-605", check: "overloaded", message: "busy", rule: "" }) });
    } else {
      await route.continue();
    }
  });
  await page.goto(base + "/#/statistics");
  await ready(page, "statistics");
  assert.equal(asked.length, 2);
  assert.ok(asked[1] - asked[0] >= 900, `retried after ${asked[1] - asked[0]} ms, not after Retry-After`);
  assert.ok(await page.$("#stats-annual table"), "the annual summary is shown");
  await page.close();
});

test("the portal runs under the server's Content-Security-Policy with no error on any page", async () => {
  // What every earlier test's pages reported: nothing (a blocked script, style or request of the
  // portal's own would be here).
  assert.deepEqual(pageErrors, []);
  const page = await newPage();
  const response = await page.goto(base + "/#/");
  await ready(page, "home");
  assert.match(response.headers()["content-security-policy"] || "", /script-src 'self'/);
  // A script the policy forbids (as injected markup would be) does not run.
  const ran = await page.evaluate(() => new Promise(done => {
    window.injected = false;
    document.addEventListener("securitypolicyviolation", e => done([window.injected, e.violatedDirective]), { once: true });
    const s = document.createElement("script");
    s.textContent = "window.injected = true";
    document.body.append(s);
  }));
  assert.deepEqual(ran, [false, "script-src-elem"]);
  await page.close();
});
