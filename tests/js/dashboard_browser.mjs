// The dashboard in a real browser (issue 13): headless Chromium (Debian's `chromium`,
// driven by puppeteer-core) logs in with a person's credentials and loads GET /dashboard.
// A person at a terminal (nats.js as the operator, hand-typed JSON; market data from the
// feed's identity) sends a market order that fills and a limit order that works: both
// must appear on the page (the position, the working order). A refused halt shows the
// Ops API's error; the Halt button must change the trading state on the bus (risk.state,
// sender = the person; its reason carries markup, which the page must show as text),
// and the Resume button back. Screenshots go to ARTIFACTS_DIR.
//
//   OPS_URL=http://127.0.0.1:PORT OPS_USER=operator OPS_PASSWORD=... NATS_URL=nats://operator:...@host:port \
//   FEED_NATS_URL=nats://feed:...@host:port ARTIFACTS_DIR=build/test-artifacts/dashboard \
//   node tests/js/dashboard_browser.mjs
//
// Exits 0 and prints "all checks passed" only if every check holds.
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { connect, StringCodec } from "nats";
import puppeteer from "puppeteer-core";

const sc = StringCodec();
const options = (url) => {
  const u = new URL(url);
  return { servers: `${u.hostname}:${u.port}`, user: decodeURIComponent(u.username), pass: decodeURIComponent(u.password) };
};
const user = process.env.OPS_USER;
const artifacts = process.env.ARTIFACTS_DIR ?? "test-artifacts/dashboard";
mkdirSync(artifacts, { recursive: true });
let failures = 0;
function check(cond, what) {
  console.log(`${cond ? "ok  " : "FAIL"} ${what}`);
  if (!cond) failures++;
}

// The person's terminal: the bus as they see it.
const nc = await connect(options(process.env.NATS_URL));
const feedConn = await connect(options(process.env.FEED_NATS_URL));
const states = [];
nc.subscribe("risk.state", { callback: (_e, m) => states.push(JSON.parse(sc.decode(m.data))) });
await nc.flush();
async function stateOnBus(pred, ms = 20000) {
  for (let t = 0; t < ms; t += 50) {
    const s = states.find(pred);
    if (s) return s;
    await new Promise((ok) => setTimeout(ok, 50));
  }
  return null;
}

const browser = await puppeteer.launch({
  executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium",
  headless: true,
  // --no-sandbox: the tests run as root, where Chromium's sandbox cannot start.
  args: ["--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu", "--no-first-run"],
});
const pageErrors = [];
try {
  const page = await browser.newPage();
  await page.setViewport({ width: 1280, height: 1000 });
  page.on("pageerror", (e) => pageErrors.push(String(e)));
  // Chrome logs each answer >= 400 as an error: the one refusal this test provokes (400) is expected.
  page.on("console", (m) => { if (m.type() === "error" && !/status of 400/.test(m.text())) pageErrors.push(m.text()); });
  const shot = async (name) => {
    const path = join(artifacts, name);
    await page.screenshot({ path, fullPage: true });
    console.log(`screenshot ${path}`);
  };
  const waitFor = async (what, fn, ...args) => {
    try {
      await page.waitForFunction(fn, { timeout: 30000, polling: 100 }, ...args);
      check(true, what);
    } catch {
      check(false, what);
    }
  };

  await page.authenticate({ username: user, password: process.env.OPS_PASSWORD });
  const res = await page.goto(process.env.OPS_URL + "/dashboard", { waitUntil: "domcontentloaded" });
  check(res.status() === 200, `the page loads (${res.status()})`);
  await waitFor("the live feed's snapshot arrives", () => Number(document.body.dataset.snapshots || 0) >= 1);
  await waitFor("the trading state shows active", () => document.getElementById("trading-state").dataset.state === "active");
  await waitFor("health lists risk-state", () => !!document.querySelector('#health tr[data-worker="risk-state"]'));
  await waitFor("the risk limits in force show", () => document.getElementById("policy-fields").textContent.includes("max_order_qty"));
  await shot("1-loaded.png");

  // A person types orders (nats pub, as the operator), against a quote from the feed.
  feedConn.publish("market.data.EURUSD", sc.encode('{"type":"quote","symbol":"EURUSD","bid":"1.38742","ask":"1.38755","ts_event":1399334400158000000}'));
  await feedConn.flush();
  nc.publish("trading.orders", sc.encode('{"type":"order.submit","client_order_id":"dash-1","symbol":"EURUSD","side":"buy","order_type":"market","quantity":"1000"}'));
  nc.publish("trading.orders", sc.encode('{"type":"order.submit","client_order_id":"dash-2","symbol":"EURUSD","side":"buy","order_type":"limit","quantity":"2000","limit_price":"1.2"}'));
  await nc.flush();
  await waitFor("the fill shows: position EURUSD 1000 at the ask", () => {
    const tr = document.querySelector('#positions tr[data-symbol="EURUSD"]');
    return !!tr && tr.children[1].textContent === "1000" && tr.children[2].textContent === "1.38755";
  });
  await waitFor("the P&L shows one fill", () => {
    const dt = [...document.querySelectorAll("#pnl-fields dt")].find((e) => e.textContent === "fills");
    return !!dt && dt.nextElementSibling.textContent === "1";
  });
  await waitFor("the working order shows with its leaves_qty and limit price", () => {
    const tr = document.querySelector('#orders tr[data-client-order-id="dash-2"]');
    return !!tr && tr.children[6].textContent === "2000" && tr.children[7].textContent === "1.2";
  });
  check(!(await page.$('#orders tr[data-client-order-id="dash-1"]')), "the filled order is not working");
  // The market moves: the position is marked again, and the chart follows.
  feedConn.publish("market.data.EURUSD", sc.encode('{"type":"quote","symbol":"EURUSD","bid":"1.38842","ask":"1.38855","ts_event":1399334460158000000}'));
  await feedConn.flush();
  await waitFor("the mark moves the position's P&L", () => {
    const tr = document.querySelector('#positions tr[data-symbol="EURUSD"]');
    return !!tr && tr.children[3].textContent === "1.388485" && tr.children[5].textContent === "0.935";
  });
  await waitFor("the equity chart has the fill's point and the mark's", () => Number(document.getElementById("equity-chart").dataset.points || 0) >= 2);
  await shot("2-filled.png");

  // A halt the Ops API refuses (a reason over 1,000 bytes): its error shows, nothing changes.
  await page.$eval("#reason", (e) => { e.value = "x".repeat(1001); });
  await page.click("#halt");
  await waitFor("a refused halt shows the API's error", () => /400 .*field reason/.test(document.getElementById("api-error").textContent));
  check(!states.some((s) => s.trading_state === "halted"), "the refused halt changed nothing on the bus");

  // The reason is anyone's text, shown back on every dashboard: markup in it stays text.
  const hostile = 'dashboard halt <img src=x onerror="window.__pwned=1">';
  await page.$eval("#reason", (e) => { e.value = ""; });
  await page.type("#reason", hostile);
  await page.click("#halt");
  const halted = await stateOnBus((s) => s.type === "risk.state" && s.trading_state === "halted");
  check(halted && halted.sender === user && halted.reason === hostile && halted.source === "manual",
    `the Halt button halts trading on the bus, as ${user} (${JSON.stringify(halted)})`);
  await waitFor("the page shows halted", () => document.getElementById("trading-state").dataset.state === "halted");
  await waitFor("the reason shows as text, not markup", (h) =>
    document.getElementById("state-detail").textContent.includes(h) && !document.querySelector("main img, header img") &&
    window.__pwned === undefined, hostile);
  check((await page.$eval("#api-error", (e) => e.textContent)) === "", "no error shown after the halt");
  await shot("3-halted.png");

  await page.$eval("#reason", (e) => { e.value = ""; });
  await page.type("#reason", "dashboard resume");
  await page.click("#resume");
  const resumed = await stateOnBus((s) => s.type === "risk.state" && s.trading_state === "active" && s.reason === "dashboard resume");
  check(resumed && resumed.sender === user, `the Resume button resumes trading on the bus, as ${user}`);
  await waitFor("the page shows active", () => document.getElementById("trading-state").dataset.state === "active");
  await shot("4-resumed.png");
} finally {
  await browser.close();
  await nc.close();
  await feedConn.close();
}
check(pageErrors.length === 0, `no error in the page (${pageErrors.join(" | ")})`);

if (failures) { console.error(`${failures} checks failed`); process.exit(1); }
console.log("all checks passed");
process.exit(0);
