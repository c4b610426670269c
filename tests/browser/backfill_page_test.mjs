// The backfill page (GET /ui/backfill) in a real browser: the system's headless Chromium, driven by
// puppeteer-core (which downloads no browser). Starts `wfp-host demo` on a free port with a fixed
// clock, reads the page's URL from what the demo prints, then: the page without a key, a plan from
// the URL fragment (compared with the same dry run sent directly), a screenshot, apply (then Apply
// disabled), the 409 when the same backfill was applied directly between plan and Apply, a dry run
// refused with 409 shown on the timeline, and the 412 after a backfill sent directly between plan and
// apply. Then the page's headers (ETag and 304, the hash-only CSP, no favicon request) and the audit's
// cases, each in a fresh tab (moreCases). Prints "N passed, N failed"; exits non-zero on any failure.
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

// A fresh tab (its own sessionStorage) whose requests pass through `hooks` first: a hook that
// returns true has answered (or holds) the request. `posts` collects the bodies sent to the route.
async function openPage(browser, demo, viewport) {
  const page = await browser.newPage();
  await page.setViewport(viewport || { width: 1180, height: 900, deviceScaleFactor: 1 });
  watchConsole(page);
  const posts = [];
  const hooks = [];
  const pageErrors = [];
  page.on("pageerror", (e) => pageErrors.push(String(e)));
  await page.setRequestInterception(true);
  page.on("request", (r) => {
    if (r.isInterceptResolutionHandled()) return;
    if (r.method() === "POST" && r.url().includes("/backfill")) posts.push(JSON.parse(r.postData() || "{}"));
    for (const h of hooks) if (h(r)) return;
    if (!hostLists && r.method() === "GET" && r.url() === demo.base + "/api/schedules")
      return r.respond({ status: 200, contentType: "application/json", body: JSON.stringify(LISTING) });
    r.continue();
  });
  const load = async (fragment) => {
    await page.goto(demo.pageUrl + (fragment || ""), { waitUntil: "load" });
    await page.waitForSelector("body[data-ready=true]", { timeout: 30000 });
  };
  return { page, posts, hooks, pageErrors, load };
}
// True once fn(arg) holds in the page, false after `timeout` ms.
async function until(page, fn, arg, timeout) {
  try { await page.waitForFunction(fn, { timeout: timeout || 8000 }, arg); return true; } catch (e) { return false; }
}
const idle = (page) => until(page, () => !document.getElementById("plan-button").disabled &&
  document.getElementById("plan-form").getAttribute("aria-busy") !== "true");
// Sets form fields (by id) as typing would, then lets the page see the input.
async function fill(page, values) {
  await page.evaluate((v) => {
    for (const [id, value] of Object.entries(v)) {
      const e = document.getElementById(id);
      if (e.type === "checkbox") e.checked = value; else e.value = value;
      e.dispatchEvent(new Event("input", { bubbles: true }));
    }
  }, values);
}
async function planClick(page) {
  await page.click("#plan-button");
  await idle(page);
}
const attr = (page, sel, name) => page.$eval(sel, (e, n) => e.getAttribute(n), name).catch(() => null);
const luminance = (rgb) => {
  const [r, g, b] = rgb.match(/[\d.]+/g).slice(0, 3).map(Number).map((c) => {
    c /= 255;
    return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
  });
  return 0.2126 * r + 0.7152 * g + 0.0722 * b;
};
const contrast = (a, b) => {
  const [x, y] = [luminance(a), luminance(b)].sort((p, q) => q - p);
  return (x + 0.05) / (y + 0.05);
};

// The audit's cases, each in a fresh tab.
async function moreCases(browser, demo) {
  const K = "apiKey=" + KEY;

  // The status line's live region: progress ("Planning…") is announced politely; an error at once.
  {
    const { page, hooks, load } = await openPage(browser, demo);
    await load("#" + K);
    let release;
    const held = new Promise((resolve) => { release = resolve; });
    hooks.push((r) => {
      if (r.method() !== "POST" || !r.url().includes("/backfill")) return false;
      held.then(() => r.continue());
      return true;
    });
    await fill(page, { "schedule-id": "1", "from-time": "2026-11-30", "attempt-name": "live" });
    await page.click("#plan-button");
    await until(page, () => document.getElementById("form-status").textContent.startsWith("Planning"));
    const live = () => page.$eval("#form-status", (b) => [b.getAttribute("role"), b.getAttribute("aria-live"), b.textContent]);
    const planning = await live();
    check(planning[2].startsWith("Planning") && planning[0] !== "alert" && planning[1] === "polite",
      "“Planning…” is announced politely, not as an alert", planning);
    release();
    await idle(page);
    await fill(page, { "from-time": "2026-02-30" });
    await planClick(page);
    const refused = await live();
    check(refused[2].includes("not a valid date-time") && refused[1] === "assertive",
      "an error in the same status line is announced at once (aria-live assertive)", refused);
    await page.close();
  }

  // A second plan link in the same tab (hash navigation) is read like the first.
  {
    const { page, load } = await openPage(browser, demo);
    await load("#" + K + "&schedule=1&from=2026-11-28&name=first");
    await waitState(page, "planned");
    await page.evaluate((k) => { location.hash = k + "&schedule=1&from=2026-11-30&name=second"; }, K);
    const ok = await until(page, () => document.getElementById("attempt-name").value === "second" &&
      document.querySelector("#timeline .session")?.getAttribute("data-session-time") === "2026-11-30T00:00:00+09:00");
    check(ok, "a second link in the same tab fills the form and plans",
      await page.evaluate(() => [document.getElementById("attempt-name").value, location.hash]));
    check(await page.evaluate(() => location.hash) === "", "and its fragment leaves the address bar");
    await page.close();
  }

  // From: impossible dates are refused on the field; +0900 is an offset; a link's + must be %2B.
  {
    const { page, posts, load } = await openPage(browser, demo);
    await load("#" + K);
    for (const bad of ["2026-02-30", "2026-13-01", "2026-12-01T25:00", "2026-02-30T00:00:00+09:00"]) {
      await fill(page, { "schedule-id": "1", "from-time": bad, "attempt-name": "dates" });
      const before = posts.length;
      await planClick(page);
      const status = await text(page, "#form-status");
      check(posts.length === before && status.includes("not a valid date-time") &&
        await attr(page, "#from-time", "aria-invalid") === "true",
        "From " + bad + ": refused on the field, nothing sent", [posts.length - before, status]);
    }
    await fill(page, { "from-time": "2026-11-30T00:00:00+0900" });
    await planClick(page);
    check(posts.length && posts[posts.length - 1].fromTime === "2026-11-30T00:00:00+09:00" &&
      await attr(page, "#from-time", "aria-invalid") !== "true",
      "From with +0900 (no colon) is an offset, as the server reads it", [posts.at(-1), await text(page, "#form-status")]);
    const before = posts.length;
    await fill(page, { "from-time": "2026-11-30T00:00:00 09:00" });  // what a link's raw + becomes
    await planClick(page);
    const plus = await text(page, "#form-status");
    check(posts.length === before && plus.includes("%2B"), "a space where an offset's + was: says + must be %2B in a link", plus);

    // Count: an unreadable number is refused, not read as "every session".
    await fill(page, { "from-time": "2026-11-30", "count": "" });
    await page.type("#count", "2-");
    const beforeCount = posts.length;
    await planClick(page);
    const countStatus = await text(page, "#form-status");
    check(posts.length === beforeCount && /count/i.test(countStatus) && await attr(page, "#count", "aria-invalid") === "true",
      "Count “2-”: refused with a message, nothing sent", [posts.length - beforeCount, countStatus]);
    await page.close();
  }
  {
    const { page, posts, load } = await openPage(browser, demo);
    await load("#" + K + "&schedule=1&from=2026-11-30&name=c&count=abc");
    const status = await text(page, "#form-status");
    check(posts.length === 0 && /count/i.test(status) && status.includes("abc"),
      "a link with count=abc: refused with a message, nothing planned", [posts, status]);
    await page.close();
  }

  // A spring-forward gap moves forward by the gap (as the CLI and java.time); an overlap takes the earlier.
  {
    const { page, posts, load } = await openPage(browser, demo);
    await load("#" + K + "&schedule=3&from=2026-03-08T02:30&name=gap");
    check(posts.length === 1 && posts[0].fromTime === "2026-03-08T03:30:00-07:00",
      "Los Angeles 2026-03-08T02:30 (in the gap) is sent as 03:30-07:00", posts);
    await fill(page, { "from-time": "2026-11-01T01:30" });
    await planClick(page);
    check(posts.length === 2 && posts[1].fromTime === "2026-11-01T01:30:00-07:00",
      "Los Angeles 2026-11-01T01:30 (the overlap) is the earlier instant", posts[1]);
    await page.close();
  }

  // The pointer before is read fresh with each plan, not taken from the listing loaded with the key.
  {
    const { page, hooks, load } = await openPage(browser, demo);
    const real = await (await fetch(demo.base + "/api/schedules", { headers: { "Authorization": "Bearer " + KEY } })).json()
      .catch(() => LISTING);
    const old = JSON.parse(JSON.stringify(real.schedules ? real : LISTING));
    for (const s of old.schedules) if (String(s.id) === "1") {
      s.nextScheduleTime = "2026-11-30T00:00:00+09:00"; s.nextRunTime = "2026-11-30T00:00:00Z";
    }
    hooks.push((r) => r.method() === "GET" && r.url() === demo.base + "/api/schedules" &&
      (r.respond({ status: 200, contentType: "application/json", body: JSON.stringify(old) }), true));
    await load("#" + K + "&schedule=1&from=2026-11-28&name=pointer");
    await waitState(page, "planned");
    const pointers = await text(page, "#pointers");
    check(pointers.includes("Pointer beforenext session 2026-12-02T00:00:00+09:00") && !pointers.includes("moved forward"),
      "the pointer before comes from a fresh read of the schedule (not a stale listing)", pointers);
    await page.close();
  }

  // A dry-run 409 with a 255-character name: the probe's name still fits, and the plan is shown.
  {
    const long = "long-" + "x".repeat(250);
    const direct = await backfill(demo.base, 1, { fromTime: "2026-11-30T00:00:00+09:00", attemptName: long, dryRun: false });
    check(direct.status === 200, "a 255-character name applied directly", direct.status);
    const { page, posts, load } = await openPage(browser, demo);
    await load("#" + K + "&schedule=1&from=2026-11-30&name=" + long);
    const ok = await until(page, () => document.getElementById("plan").getAttribute("data-state") === "conflict" &&
      !document.getElementById("plan").hidden);
    check(ok && posts.every((p) => [...(p.attemptName || "")].length <= 255),
      "a dry run refused with 409 under a 255-character name: the plan is shown, the probe's name fits",
      [await text(page, "#form-status"), posts.map((p) => (p.attemptName || "").length)]);
    await page.close();
  }

  // Answers that are not a plan: said in the status, and no plan left on screen as if current.
  {
    const { page, hooks, pageErrors, load } = await openPage(browser, demo);
    await load("#" + K + "&schedule=1&from=2026-11-30&name=shape");
    await waitState(page, "planned");
    let answer = { status: 200, contentType: "text/html", body: "<!doctype html><title>Sign in</title>" };
    hooks.push((r) => r.method() === "POST" && r.url().includes("/backfill") && (r.respond(answer), true));
    await page.click("#replan-button");
    await idle(page);
    let status = await text(page, "#form-status");
    check(status.includes("not a plan") && await page.$eval("#plan", (e) => e.hidden),
      "a 200 with an HTML body: 'not a plan' in the status, the old plan hidden", status);
    await fill(page, { "attempt-name": "shape-2" });
    answer = { status: 200, contentType: "application/json", body: "{\"hello\":1}" };
    await planClick(page);
    status = await text(page, "#form-status");
    check(status.includes("not a plan") && await page.$eval("#plan", (e) => e.hidden),
      "a 200 with other JSON: 'not a plan' in the status", status);
    // In flight: the status says so, the form is busy; a 503 shows its Retry-After.
    let held = null;
    hooks.length = 0;
    hooks.push((r) => r.method() === "POST" && r.url().includes("/backfill") && ((held = r), true));
    await page.click("#plan-button");
    for (let i = 0; i < 50 && !held; i++) await new Promise((r) => setTimeout(r, 100));
    const busy = [await text(page, "#form-status"), await attr(page, "#plan-form", "aria-busy")];
    check(held && /planning/i.test(busy[0]) && busy[1] === "true", "a plan in flight: 'Planning…' and aria-busy", busy);
    if (held) held.respond({ status: 503, contentType: "application/json", headers: { "Retry-After": "7" },
      body: JSON.stringify({ message: "the store is busy" }) });
    await idle(page);
    status = await text(page, "#form-status");
    check(status.startsWith("503") && /retry after 7 s/i.test(status), "a 503 shows its Retry-After", status);
    check(pageErrors.length === 0, "no uncaught script errors on those answers", pageErrors);
    await page.close();
  }

  // Keys: a change of key or Forget clears the listing and the plan; a refused key is not kept.
  {
    const { page, load } = await openPage(browser, demo);
    await load("#" + K + "&schedule=1&from=2026-11-30&name=keys");
    await waitState(page, "planned");
    await page.$eval("#api-key", (e) => { e.value = "other-key"; });
    await page.click("#key-form button[type=submit]");
    await until(page, () => /accepted/i.test(document.getElementById("key-status").textContent));
    check(await page.$eval("#plan", (e) => e.hidden) && await page.$eval("#apply-button", (e) => e.disabled),
      "another key: the previous key's plan is gone");
    await page.$eval("#api-key", (e) => { e.value = "wrong-key"; });
    await page.click("#key-form button[type=submit]");
    await until(page, () => /401/.test(document.getElementById("key-status").textContent));
    check(await page.evaluate(() => sessionStorage.getItem("wfp.apiKey")) === null,
      "a refused key (401) is not kept in sessionStorage", await page.evaluate(() => sessionStorage.getItem("wfp.apiKey")));
    await page.$eval("#api-key", (e) => { e.value = "demo-key"; });
    await page.click("#key-form button[type=submit]");
    await until(page, () => /accepted/i.test(document.getElementById("key-status").textContent));
    await fill(page, { "schedule-id": "1" });
    await planClick(page);
    await waitState(page, "planned");
    await page.click("#forget-key");
    await idle(page);
    check(await page.$eval("#plan", (e) => e.hidden) && await page.$eval("#schedule-select", (e) => e.options.length) === 1 &&
      await page.$eval("#apply-button", (e) => e.disabled), "Forget clears the listing and the plan");
    await page.close();
  }

  // A link without a key plans once the key is entered.
  {
    const { page, load } = await openPage(browser, demo);
    await load("#schedule=1&from=2026-11-30&name=later");
    await page.$eval("#api-key", (e) => { e.value = "demo-key"; });
    await page.click("#key-form button[type=submit]");
    check(await until(page, () => document.getElementById("plan").getAttribute("data-state") === "planned"),
      "a link without a key: the plan runs once the key is entered", await text(page, "#form-status"));
    await page.close();
  }

  // More than 2,000 candidates: the pointer markers are still drawn; the timeline is one tab stop.
  {
    const { page, load } = await openPage(browser, demo);
    await load("#" + K + "&schedule=2&from=2026-08-01T00:00:00Z&name=many&count=");
    await waitState(page, "planned");
    const drawn = await page.evaluate(() => ({ more: !document.getElementById("more").hidden,
      markers: document.querySelectorAll("#timeline [data-pointer]").length,
      stops: document.querySelectorAll("#timeline .session[tabindex='0']").length }));
    check(drawn.more && drawn.markers >= 1, "past 2,000 candidates the pointer marker is drawn", drawn);
    check(drawn.stops === 1, "the timeline is one tab stop (roving tabindex)", drawn);
    await page.focus("#timeline .session[tabindex='0']");
    await page.keyboard.press("ArrowRight");
    const moved = await page.evaluate(() => [document.activeElement.getAttribute("tabindex"),
      document.querySelectorAll("#timeline .session[tabindex='0']").length,
      [...document.querySelectorAll("#timeline .session")].indexOf(document.activeElement)]);
    check(moved[0] === "0" && moved[1] === 1 && moved[2] === 1, "the arrow key moves the tab stop with the focus", moved);
    await page.close();
  }

  // Tooltips stay in the viewport (also at 360 px) and describe their session; contrast and targets.
  for (const width of [1180, 360]) {
    const { page, load } = await openPage(browser, demo, { width, height: 800, deviceScaleFactor: 1 });
    await load("#" + K + "&schedule=1&from=2026-11-15&name=tips&skipExisting=1");
    await waitState(page, "planned");
    const outside = [];
    const count = await page.$$eval("#timeline .session", (e) => e.length);
    for (let i = 0; i < count; i++) {
      const r = await page.evaluate((n) => {
        const s = document.querySelectorAll("#timeline .session")[n];
        s.scrollIntoView({ block: "start" });  // its row at the top edge: the tooltip may not go past it
        s.focus({ preventScroll: true });
        const tip = s.querySelector(".tip");
        const b = tip.getBoundingClientRect();
        return { left: b.left, right: b.right, top: b.top, bottom: b.bottom, vw: document.documentElement.clientWidth,
          vh: document.documentElement.clientHeight, described: s.getAttribute("aria-describedby") === tip.id && !!tip.id };
      }, i);
      if (r.left < 0 || r.right > r.vw || r.top < 0 || r.bottom > r.vh || !r.described) outside.push(r);
    }
    check(count > 0 && outside.length === 0, "at " + width + " px every tooltip is inside the viewport, also with its row at the top edge, and linked by aria-describedby",
      outside.slice(0, 3));
    if (width === 1180) {
      const c = await page.evaluate(() => {
        const pair = (sel) => {
          const e = document.querySelector(sel);
          return e ? [getComputedStyle(e.querySelector(".what")).color, getComputedStyle(e).backgroundColor] : null;
        };
        const input = document.getElementById("from-time");
        input.focus();
        const box = document.getElementById("skip-existing").getBoundingClientRect();
        return { create: pair(".session[data-action=create]"), skip: pair(".session[data-action=skip]"),
          ring: getComputedStyle(input).outlineColor, border: getComputedStyle(input).borderTopColor,
          card: getComputedStyle(document.querySelector("section.card")).backgroundColor,
          check: [box.width, box.height] };
      });
      const ratios = { create: c.create && contrast(...c.create), skip: c.skip && contrast(...c.skip),
        ring: contrast(c.ring, c.card), border: contrast(c.border, c.card) };
      check(ratios.create >= 4.5 && ratios.skip >= 4.5, "create and skip labels: contrast at least 4.5:1", ratios);
      check(ratios.ring >= 3 && ratios.border >= 3, "focus ring and input borders: contrast at least 3:1", ratios);
      check(c.check[0] >= 24 && c.check[1] >= 24, "checkboxes are at least 24 px targets", c.check);
    }
    await page.close();
  }
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
    // The same ETag again could only be refused (409 or 412): Apply waits for a new plan.
    check(await page.$eval("#apply-button", (e) => e.disabled) && /re-plan/i.test(await text(page, "#apply-hint")),
      "after a successful apply, Apply is disabled until a new plan, and the hint says so",
      [await page.$eval("#apply-button", (e) => [e.disabled, e.textContent]), await text(page, "#apply-hint")]);

    // 2. Without skip existing: a new name on the same days; the same request applied elsewhere
    // between plan and Apply makes Apply a 409.
    await page.$eval("#skip-existing", (e) => { e.checked = false; });
    await page.$eval("#attempt-name", (e) => { e.value = "page-fix-b"; });
    await page.click("#plan-button");
    await waitState(page, "planned");
    check((await sessions(page)).every((s) => s.action === "create" && s.index === "2"),
      "a second name: one more attempt (#2) on each session");
    const elsewhere = await backfill(demo.base, 1, { fromTime: FROM, attemptName: "page-fix-b", dryRun: false });
    check(elsewhere.status === 200, "the same backfill applied directly", elsewhere.status);
    await page.click("#apply-button");
    await waitState(page, "conflict");
    const conflict = await text(page, "#apply-status");
    check(conflict.startsWith("409") && conflict.includes("session 2026-11-22T00:00:00+09:00") && conflict.includes("page-fix-b"),
      "apply after the same name was applied elsewhere: 409 names the conflicting session", conflict);
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

    await moreCases(browser, demo);
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
