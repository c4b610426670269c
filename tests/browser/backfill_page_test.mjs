// The backfill page (GET /ui/backfill) in a real browser: the system's headless Chromium, driven by
// puppeteer-core (which downloads no browser). Starts `wfp-host demo` on a free port with a fixed
// clock, reads the page's URL from what the demo prints, then: the page without a key, a plan from
// the URL fragment (compared with the same dry run sent directly), a screenshot, apply, the 409 on
// re-apply, a dry run refused with 409 shown on the timeline, and the 412 after a backfill sent
// directly between plan and apply. Prints "N passed, N failed"; exits non-zero on any failure.
//
// node backfill_page_test.mjs --host wfp-host --plugin libwfp_backfill.so --modules DIR
//      --chromium /usr/bin/chromium --out DIR
import { spawn } from "node:child_process";
import { createRequire } from "node:module";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";

const args = process.argv.slice(2);
const option = (name, fallback) => {
  const i = args.indexOf(name);
  return i >= 0 && i + 1 < args.length ? args[i + 1] : fallback;
};
const hostBin = option("--host");
const plugin = option("--plugin");
const modules = option("--modules", process.env.WFP_NODE_MODULES || ".");
const chromium = option("--chromium", "/usr/bin/chromium");
const outDir = path.resolve(option("--out", "."));
if (!hostBin || !plugin) {
  console.error("usage: backfill_page_test.mjs --host BIN --plugin SO --modules DIR --chromium BIN --out DIR");
  process.exit(2);
}
const require = createRequire(path.join(path.resolve(modules), "package.json"));
const puppeteer = require("puppeteer-core");

// The demo's clock: 2026-12-01T03:00:00Z is 12:00 in Tokyo; schedule 1 (daily>: 09:00:00, Tokyo)
// then has its next session at 2026-12-02T00:00:00+09:00, and sessions with an attempt on the two
// days before.
const NOW = "2026-12-01T03:00:00Z";
const FROM = "2026-11-22T00:00:00+09:00";  // ten days: eight never ran, the last two did
const KEY = "demo-key";

let passed = 0;
let failed = 0;
function check(ok, what, detail) {
  if (ok) {
    passed++;
    console.log("ok   " + what);
  } else {
    failed++;
    console.log("FAIL " + what + (detail === undefined ? "" : ": " + JSON.stringify(detail)));
  }
}

function startDemo(dir) {
  const proc = spawn(hostBin, ["demo", "--plugin", plugin, "--listen", "127.0.0.1:0", "--now", NOW,
    "--db", path.join(dir, "demo.db")], { stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  let err = "";
  proc.stderr.on("data", (d) => { err += d; });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error("the demo printed no page URL:\n" + out + err)), 120000);
    proc.stdout.on("data", (d) => {
      out += d;
      const m = /(http:\/\/127\.0\.0\.1:\d+\/ui\/backfill)\S*/.exec(out);
      if (m && out.includes("Ctrl-C")) {
        clearTimeout(timer);
        resolve({ proc, pageUrl: m[1], printed: m[0], base: m[1].replace(/\/ui\/backfill$/, ""), log: () => err });
      }
    });
    proc.on("exit", (code) => reject(new Error("wfp-host demo exited " + code + ":\n" + out + err)));
  });
}

async function backfill(base, id, body, headers) {
  const r = await fetch(base + "/api/schedules/" + id + "/backfill", {
    method: "POST", body: JSON.stringify(body),
    headers: Object.assign({ "Authorization": "Bearer " + KEY, "Content-Type": "application/json" }, headers || {}) });
  return { status: r.status, etag: r.headers.get("etag"), json: await r.json() };
}

// The page lists the caller's schedules from GET /api/schedules (a host route). Where this host does
// not serve it yet (404), the browser answers it for the page with the route's shape and the demo's
// schedule 1, so that the page's use of the listing (the zone, the pointer before) is tested either way.
const LISTING = { schedules: [{ id: "1", project: { id: "1", name: "etl" }, workflow: { id: "11", name: "daily_load" },
  nextRunTime: "2026-12-02T00:00:00Z", nextScheduleTime: "2026-12-02T00:00:00+09:00", disabledAt: null,
  timezone: "Asia/Tokyo" }] };
async function listSchedules(page, base) {
  const real = await fetch(base + "/api/schedules", { headers: { "Authorization": "Bearer " + KEY } });
  if (real.status === 200) {
    const listed = await real.json();
    check(listed.schedules.some((s) => s.id === "1" && s.timezone === "Asia/Tokyo"), "GET /api/schedules lists schedule 1",
      listed);
    return;
  }
  hostLists = false;
  console.log("note: this host answers GET /api/schedules with " + real.status +
    "; the browser answers it for the page with the route's shape");
  await page.setRequestInterception(true);
  page.on("request", (r) => {
    if (r.isInterceptResolutionHandled()) return;
    if (r.method() === "GET" && r.url() === base + "/api/schedules")
      r.respond({ status: 200, contentType: "application/json", body: JSON.stringify(LISTING) });
    else r.continue();
  });
}

const sessions = (page) => page.$$eval("#timeline .session", (els) =>
  els.map((e) => ({ time: e.getAttribute("data-session-time"), action: e.getAttribute("data-action"),
    index: e.getAttribute("data-index"), label: e.querySelector(".what").textContent })));
const planState = (page) => page.$eval("#plan", (e) => ({ etag: e.getAttribute("data-etag"),
  state: e.getAttribute("data-state"), hidden: e.hidden }));
const text = (page, sel) => page.$eval(sel, (e) => e.textContent);
// Waits for #plan[data-state=want]; on a timeout says what the page shows instead.
async function waitState(page, want) {
  try {
    await page.waitForFunction((w) => document.getElementById("plan").getAttribute("data-state") === w,
      { timeout: 30000 }, want);
  } catch (e) {
    const seen = await page.evaluate(() => ({ state: document.getElementById("plan").getAttribute("data-state"),
      form: document.getElementById("form-status").textContent, apply: document.getElementById("apply-status").textContent,
      applyDisabled: document.getElementById("apply-button").disabled, hint: document.getElementById("apply-hint").textContent }));
    throw new Error("waiting for data-state=" + want + ": " + JSON.stringify(seen));
  }
}

// Every page's console errors (with the URL they name) and requests, for the CSP and favicon checks.
const consoleErrors = [];
const seen = [];
let hostLists = true;  // false: the browser answers GET /api/schedules (listSchedules)
function watchConsole(page) {
  page.on("console", (m) => {
    if (m.type() === "error") consoleErrors.push(m.text() + " " + ((m.location() && m.location().url) || ""));
  });
  page.on("request", (r) => seen.push(r.url()));
}

async function main() {
  fs.mkdirSync(outDir, { recursive: true });
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "wfp-browser-"));
  const demo = await startDemo(dir);
  let browser;
  try {
    check(demo.printed.startsWith(demo.base + "/ui/backfill#apiKey=" + KEY + "&schedule=1&from="),
      "the demo prints the page's URL with a plan in its fragment", demo.printed);

    // The page itself needs no key, and is HTML.
    const raw = await fetch(demo.pageUrl);
    const html = await raw.text();
    check(raw.status === 200, "GET /ui/backfill without a key is 200", raw.status);
    check(raw.headers.get("content-type") === "text/html; charset=utf-8", "it is text/html; charset=utf-8",
      raw.headers.get("content-type"));
    check(/^<!doctype html>/i.test(html) && !/\b(src|href)=["']?(https?:)?\/\//i.test(html),
      "one HTML document that loads nothing from elsewhere");
    // Revalidation: a strong ETag, and 304 for If-None-Match (GET and HEAD).
    const pageTag = raw.headers.get("etag");
    check(/^"[0-9a-f]{16,64}"$/.test(pageTag || ""), "the page has a strong ETag", pageTag);
    const revalidated = await fetch(demo.pageUrl, { headers: { "If-None-Match": pageTag || "\"none\"" } });
    check(revalidated.status === 304 && (await revalidated.text()) === "" && revalidated.headers.get("etag") === pageTag,
      "If-None-Match with the page's ETag: 304, no body, the same ETag", revalidated.status);
    const head = await fetch(demo.pageUrl, { method: "HEAD", headers: { "If-None-Match": "W/" + pageTag + ", \"x\"" } });
    check(head.status === 304, "HEAD with If-None-Match (a weak tag in a list matches): 304", head.status);
    const other = await fetch(demo.pageUrl, { headers: { "If-None-Match": "\"0000\"" } });
    check(other.status === 200 && (await other.text()) === html, "another ETag: 200 with the page", other.status);
    // The policy names the page's inline script and style by hash; nothing is 'unsafe-inline'.
    const csp = raw.headers.get("content-security-policy") || "";
    check(/script-src 'sha256-[A-Za-z0-9+/]{43}='/.test(csp) && !csp.includes("unsafe-inline"),
      "the CSP allows the inline script and style by hash, not 'unsafe-inline'", csp);
    check(/<link rel="icon" href="data:,">/.test(html), "the page names a data: icon (no favicon.ico request)");
    const api = await fetch(demo.base + "/api/schedules/1/backfill", { method: "POST", body: "{}",
      headers: { "Content-Type": "application/json" } });
    check(api.status === 401, "the API beside it still needs a key", api.status);

    browser = await puppeteer.launch({ executablePath: chromium, headless: true,
      userDataDir: path.join(dir, "profile"),
      args: ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run"] });
    const page = await browser.newPage();
    await listSchedules(page, demo.base);
    await page.setViewport({ width: 1180, height: 900, deviceScaleFactor: 1 });
    const foreign = [];
    page.on("request", (r) => { if (!r.url().startsWith(demo.base + "/")) foreign.push(r.url()); });
    const errors = [];
    page.on("pageerror", (e) => errors.push(String(e)));
    watchConsole(page);

    // 1. A plan from the fragment, at once: the same plan as the same dry run sent directly.
    const fragment = "#apiKey=" + KEY + "&schedule=1&from=" + encodeURIComponent(FROM) +
      "&name=page-fix&skipExisting=1";
    await page.goto(demo.pageUrl + fragment, { waitUntil: "load" });
    await page.waitForSelector("body[data-ready=true]", { timeout: 30000 });
    await waitState(page, "planned");
    const direct = await backfill(demo.base, 1, { fromTime: FROM, attemptName: "page-fix", skipExisting: true, dryRun: true });
    const plan = await planState(page);
    const shown = await sessions(page);
    check(/^"[0-9a-f]{16}"$/.test(plan.etag) && plan.etag === direct.etag, "the plan's data-etag is the dry run's ETag",
      [plan.etag, direct.etag]);
    check(await text(page, "#etag-text") === direct.etag, "the ETag is shown");
    const expected = direct.json.attempts.map((a) => ({ time: a.sessionTime, action: "create" }))
      .concat(direct.json.skipped.map((s) => ({ time: s.sessionTime, action: "skip" })))
      .sort((a, b) => Date.parse(a.time) - Date.parse(b.time));
    check(JSON.stringify(shown.map((s) => ({ time: s.time, action: s.action }))) === JSON.stringify(expected),
      "one timeline element per candidate, in time order, with the dry run's actions", shown);
    check(shown.length === 10 && shown.filter((s) => s.action === "skip").length === 2,
      "ten candidates: eight to create, the two that ran are skipped", shown.length);
    check(shown.every((s) => s.label.toLowerCase().includes(s.action)), "each element says its action in words");
    check(await page.$eval("#api-key", (e) => e.value) === KEY && await page.evaluate(() => sessionStorage.getItem("wfp.apiKey")) === KEY,
      "the key from the fragment is in the form and in sessionStorage");
    check(await page.evaluate(() => location.hash) === "", "the fragment (with the key) leaves the address bar");
    const option = await page.$eval("#schedule-select", (e) => ({ value: e.value, text: e.selectedOptions[0].textContent }));
    check(option.value === "1" && option.text.includes("etl / daily_load") && option.text.includes("Asia/Tokyo"),
      "the schedule from the fragment is chosen in the list", option);
    const pointers = await text(page, "#pointers");
    check(pointers.includes("2026-12-02T00:00:00+09:00") && pointers.includes("2026-12-02T00:00:00Z"),
      "the schedule's pointer is shown", pointers);
    const totals = await text(page, "#totals");
    check(totals.includes("10 candidate") && totals.includes("8 create") && totals.includes("2 skip"), "the totals", totals);

    // Keyboard: the first session takes focus and shows its times; the arrow key moves on.
    await page.focus("#timeline .session");
    const tip = await page.$eval("#timeline .session", (e) => ({ visible: getComputedStyle(e.querySelector(".tip")).display !== "none",
      text: e.querySelector(".tip").textContent }));
    check(tip.visible && tip.text.includes("Session time: 2026-11-22T00:00:00+09:00") &&
      tip.text.includes("Run time: 2026-11-22T09:00:00+09:00") && tip.text.includes("Attempt index: 1"),
      "focus shows the session time, run time and attempt index", tip);
    await page.screenshot({ path: path.join(outDir, "backfill-page.png"), fullPage: true });
    await page.keyboard.press("ArrowRight");
    check(await page.evaluate(() => document.activeElement.getAttribute("data-session-time")) === shown[1].time,
      "the arrow key moves to the next session");

    // Apply: the real request with If-Match.
    await page.click("#apply-button");
    await waitState(page, "applied");
    const applied = await text(page, "#apply-status");
    check(applied.includes("Applied: 8 attempt(s) created"), "apply creates what the plan showed", applied);
    const after = await backfill(demo.base, 1, { fromTime: FROM, skipExisting: true, dryRun: true });
    check(after.status === 200 && after.json.attempts.length === 0 && after.json.skipped.length === 10,
      "the store holds the plan's sessions", after.json);
    // The same plan again: with skip existing, everything would now be skipped, so the plan changed.
    await page.click("#apply-button");
    await waitState(page, "stale");
    check((await text(page, "#apply-status")).startsWith("412"), "re-applying a skip-existing plan: 412");

    // 2. Without skip existing: apply a new name on the same days, then the same again is a 409.
    await page.$eval("#skip-existing", (e) => { e.checked = false; });
    await page.$eval("#attempt-name", (e) => { e.value = "page-fix-b"; });
    await page.click("#plan-button");
    await waitState(page, "planned");
    check((await sessions(page)).every((s) => s.action === "create" && s.index === "2"),
      "a second name: one more attempt (#2) on each session");
    await page.click("#apply-button");
    await waitState(page, "applied");
    await page.click("#apply-button");
    await waitState(page, "conflict");
    const conflict = await text(page, "#apply-status");
    check(conflict.startsWith("409") && conflict.includes("session 2026-11-22T00:00:00+09:00") && conflict.includes("page-fix-b"),
      "re-apply: 409 names the conflicting session", conflict);
    check((await sessions(page))[0].action === "conflict", "and marks it on the timeline");
    check(await page.$eval("#apply-button", (e) => e.disabled), "a refused plan cannot be applied again");
    await page.screenshot({ path: path.join(outDir, "backfill-page-409.png"), fullPage: true });

    // 3. A dry run the server refuses with 409 is still shown, the conflicting session marked.
    await page.click("#plan-button");
    await waitState(page, "conflict");
    const refused = await sessions(page);
    check(refused.length === 10 && refused[0].action === "conflict" && (await planState(page)).etag === "" &&
      await page.$eval("#apply-button", (e) => e.disabled), "a dry run refused with 409: timeline, conflict marked, no Apply",
      refused.map((s) => s.action));

    // 4. 412: plan, a backfill sent directly changes what the plan would do, then apply.
    await page.$eval("#attempt-name", (e) => { e.value = "page-fix-2"; });
    await page.$eval("#from-time", (e) => { e.value = "2026-11-29"; });  // in the workflow's zone
    await page.click("#plan-button");
    await waitState(page, "planned");
    const before412 = await sessions(page);
    check(before412.length === 3 && before412[0].time === "2026-11-29T00:00:00+09:00",
      "a date alone is read in the workflow's zone", before412.map((s) => s.time));
    const etag412 = (await planState(page)).etag;
    const concurrent = await backfill(demo.base, 1, { fromTime: "2026-11-29T00:00:00+09:00", attemptName: "someone-else", dryRun: false });
    check(concurrent.status === 200, "a concurrent backfill sent directly", concurrent.status);
    await page.click("#apply-button");
    await waitState(page, "stale");
    const stale = await text(page, "#apply-status");
    check(stale.startsWith("412") && stale.includes("plan changed"), "apply after a concurrent change: 412 explains", stale);
    check(await page.evaluate(() => document.activeElement.textContent) === "Re-plan now", "and offers to re-plan (focused)");
    await page.keyboard.press("Enter");
    await waitState(page, "planned");
    const replanned = await planState(page);
    check(replanned.etag !== etag412 && (await sessions(page)).every((s) => s.index === "4"),
      "re-plan: a new ETag, the next attempt index on each session", [replanned.etag, await sessions(page)]);
    await page.click("#apply-button");
    await waitState(page, "applied");
    check(true, "the re-planned plan applies");

    check(foreign.length === 0, "the page requested nothing from elsewhere", foreign);
    check(errors.length === 0, "no script errors", errors);
    check(!consoleErrors.some((t) => /Content Security Policy/i.test(t)), "no CSP violations in the console",
      consoleErrors.filter((t) => /Content Security Policy/i.test(t)));
    check(!seen.some((u) => u.includes("favicon")) && !consoleErrors.some((t) => /favicon/i.test(t)),
      "no favicon.ico request", seen.filter((u) => u.includes("favicon")));
  } finally {
    if (browser) await browser.close();
    demo.proc.kill("SIGTERM");
    fs.rmSync(dir, { recursive: true, force: true });
  }
  console.log("screenshots in " + outDir);
  console.log(`${passed} passed, ${failed} failed`);
  process.exit(failed ? 1 : 0);
}

main().catch((e) => {
  console.error(e);
  console.log(`${passed} passed, ${failed + 1} failed`);
  process.exit(1);
});
