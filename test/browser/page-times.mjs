// The time each portal page takes to render on the demo data (issue 30 "Done when"): builds
// `jcmreg demo` into a temporary database, starts `jcmreg serve` on a loopback port and opens
// every page in Debian's chromium (headless, playwright-core), RUNS times each after one warm-up
// load. A page the script draws is timed from the navigation's start to the page's own "ready"
// mark (main[data-ready]: every request it needs answered and the page drawn); a page the server
// renders is timed both as its HTTP answer (the whole HTML) and in the browser with the script
// off (to the load event). Prints a Markdown table of the median and the slowest run.
//
//   node test/browser/page-times.mjs        (JCMREG=build/src/jcmreg, CHROMIUM=/usr/bin/chromium, RUNS=7)
import { spawn, execFileSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir, cpus } from "node:os";
import { join, resolve } from "node:path";
import { chromium } from "playwright-core";

const root = resolve(process.env.JCM_SOURCE_DIR || new URL("../..", import.meta.url).pathname);
const jcmreg = process.env.JCMREG || join(root, "build/src/jcmreg");
const runs = Number(process.env.RUNS || 7);
const work = mkdtempSync(join(tmpdir(), "jcm-times-"));
const db = join(work, "registry.db");
const run = (...args) => execFileSync(jcmreg, args, { cwd: root, encoding: "utf8" }).trim();

run("--db", db, "demo", "--data", join(root, "data/jcm"));
const token = run("user", "add", "--db", db, "--role", "administrator", "--scope", "*", "--name", "timer", "--quiet");
const server = spawn(jcmreg, ["serve", "--db", db, "--listen", "127.0.0.1:0", "--quiet"], { cwd: root });
const base = await new Promise((done, fail) => {
  let out = "";
  const timer = setTimeout(() => fail(new Error("serve did not start: " + out)), 20000);
  server.stdout.on("data", chunk => {
    out += chunk;
    const m = out.match(/http:\/\/127\.0\.0\.1:(\d+)/);
    if (m) { clearTimeout(timer); done(`http://127.0.0.1:${m[1]}`); }
  });
});
const browser = await chromium.launch({ executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  args: ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking"] });

const median = xs => { const s = xs.slice().sort((a, b) => a - b); return s[Math.floor(s.length / 2)]; };
const rows = [];
async function time(name, kind, once) {
  await once();  // Warm-up: the browser's cache of the scripts, the server's of the database pages.
  const ms = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    await once();
    ms.push(performance.now() - t0);
  }
  rows.push([name, kind, median(ms).toFixed(0), Math.max(...ms).toFixed(0)]);
}

// The pages the script draws (as the browser test opens them), each at its hash.
const SCRIPT_PAGES = [["overview", "#/", "home"], ["projects", "#/projects", "projects"], ["project MN901", "#/projects/MN901", "project"],
  ["issuances", "#/issuances", "issuances"], ["authorizations", "#/authorizations", "authorizations"],
  ["statistics", "#/statistics", "statistics"], ["lookup of an ITMO", "#/lookup/CA0042-MNG01-MNG-19700-2021", "lookup"],
  ["reports", "#/reports", "reports"], ["registry link", "#/link", "link"], ["operator console", "#/console", "console"]];
const context = await browser.newContext({ viewport: { width: 1400, height: 1000 } });
await context.addInitScript(t => sessionStorage.setItem("token", t), token);
const page = await context.newPage();
for (const [name, hash, ready] of SCRIPT_PAGES) {
  await time(name, "script (to ready)", async () => {
    await page.goto("about:blank");
    await page.goto(`${base}/${hash}`);
    await page.waitForFunction(n => document.getElementById("main")?.dataset.ready === n, ready, { timeout: 30000 });
  });
}
await context.close();

// The pages the server renders: the HTTP answer, and the page in the browser with no script.
const SERVER_PAGES = ["/projects", "/projects?host=MNG&sort=-issued", "/projects/MN901", "/issuances",
  "/issuances?vintage=2021&kind=itmo", "/authorizations"];
const nojs = await browser.newContext({ javaScriptEnabled: false, viewport: { width: 1400, height: 1000 } });
const plain = await nojs.newPage();
for (const path of SERVER_PAGES) {
  await time(path, "server (HTTP answer)", async () => {
    const r = await fetch(base + path);
    if (r.status !== 200) throw new Error(`${path}: ${r.status}`);
    await r.text();
  });
  await time(path, "server, no script (to load)", async () => { await plain.goto(base + path, { waitUntil: "load" }); });
}
await nojs.close();
await browser.close();
server.kill("SIGKILL");
rmSync(work, { recursive: true, force: true });

console.log(`Demo data; ${runs} runs after one warm-up; ${cpus().length} CPUs (${cpus()[0]?.model || "?"}); ms.\n`);
console.log("| page | how | median (ms) | slowest (ms) |\n|---|---|---:|---:|");
for (const r of rows) console.log(`| ${r.join(" | ")} |`);
