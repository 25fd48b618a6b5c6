// The report page in a real browser (issue 14): headless Chromium (Debian's `chromium`,
// driven by puppeteer-core) opens the page rendered from the fixture (render_report) from a
// file:// URL, offline, with every request but the page's own refused and recorded. It
// checks that nothing was requested and nothing logged an error (a CSP violation would),
// that each chart exists with datasets of the fixture's point counts and drew something
// (coloured pixels in its chart area), that the tables show the fixture's values, and that
// the fixture's markup-carrying strings show as text and injected nothing. Then two edited
// copies of the page: status "interim" must show as such, and an analysis that is not JSON
// must show an error text. Screenshots (full page) go to ARTIFACTS_DIR.
//
//   node tests/js/report_browser.mjs PAGE.html tests/fixtures/report/analysis.json ARTIFACTS_DIR
//
// With REPORT_SESSION=1 the analysis is a real run's (traderctl backtest --json/--html, ctest
// reportpage.browser_session): the same checks of the charts against its data, and of the
// statistics that hold for any analysis, without the fixture's own values, its markup-carrying
// strings or the edited copies.
//
// Exits 0 and prints "all checks passed" only if every check holds.
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import puppeteer from "puppeteer-core";

const [pagePath, fixturePath, artifacts = "test-artifacts/report"] = process.argv.slice(2);
if (!pagePath || !fixturePath) {
  console.error("usage: node report_browser.mjs PAGE.html ANALYSIS.json [ARTIFACTS_DIR]");
  process.exit(2);
}
mkdirSync(artifacts, { recursive: true });
const a = JSON.parse(readFileSync(fixturePath, "utf8"));
let failures = 0;
function check(cond, what) {
  console.log(`${cond ? "ok  " : "FAIL"} ${what}`);
  if (!cond) failures++;
}
const count = (xs, pred) => xs.filter(pred).length;
const sessionMode = process.env.REPORT_SESSION === "1";

const browser = await puppeteer.launch({
  executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium",
  headless: true,
  // --no-sandbox: the tests run as root, where Chromium's sandbox cannot start.
  args: ["--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu", "--no-first-run"],
});

// Opens a page file offline; returns the page, its errors and the requests it tried.
async function open(file) {
  const page = await browser.newPage();
  await page.setViewport({ width: 1280, height: 900 });
  await page.setOfflineMode(true);
  const url = pathToFileURL(resolve(file)).href;
  const errors = [];
  const requests = [];
  page.on("pageerror", (e) => errors.push(String(e)));
  page.on("console", (m) => { if (m.type() === "error" || m.type() === "warning") errors.push(m.text()); });
  page.on("dialog", (d) => { errors.push("dialog: " + d.message()); d.dismiss(); });
  await page.setRequestInterception(true);
  page.on("request", (r) => {
    if (r.url() === url) return r.continue();
    requests.push(r.url());
    return r.abort("blockedbyclient");
  });
  await page.goto(url, { waitUntil: "load" });
  try {
    await page.waitForFunction(() => document.body.dataset.rendered, { timeout: 30000, polling: 100 });
  } catch {
    errors.push("the page never set data-rendered");
  }
  return { page, errors, requests };
}
async function shot(page, name) {
  const path = join(artifacts, name);
  await page.screenshot({ path, fullPage: true });
  console.log(`screenshot ${path}`);
}

try {
  // ---- the fixture's page -------------------------------------------------------------
  const { page, errors, requests } = await open(pagePath);
  check((await page.evaluate(() => document.body.dataset.rendered)) === "ok", "the page renders (data-rendered=ok)");
  check(errors.length === 0, `no console errors or warnings${errors.length ? ": " + errors.join(" | ") : ""}`);
  check(requests.length === 0, `no request left the page${requests.length ? ": " + requests.join(", ") : ""}`);

  // Charts: what Chart.js holds for each canvas, and whether it drew (coloured pixels in
  // the chart area: the data is drawn in saturated colours, axes and text in greys).
  const charts = await page.evaluate(() => Array.from(document.querySelectorAll("canvas"), (c) => {
    const chart = Chart.getChart(c);
    if (!chart) return { name: c.dataset.chart, missing: true };
    const area = chart.chartArea;
    const ctx = c.getContext("2d");
    const r = chart.currentDevicePixelRatio || 1;
    const img = ctx.getImageData(Math.floor(area.left * r), Math.floor(area.top * r),
                                 Math.max(1, Math.floor((area.right - area.left) * r)),
                                 Math.max(1, Math.floor((area.bottom - area.top) * r))).data;
    let coloured = 0;
    for (let i = 0; i < img.length; i += 4) {
      const [R, G, B, A] = [img[i], img[i + 1], img[i + 2], img[i + 3]];
      if (A > 128 && Math.max(R, G, B) - Math.min(R, G, B) > 60) coloured++;
    }
    return {
      name: c.dataset.chart, symbol: c.dataset.symbol, coloured,
      datasets: chart.data.datasets.map((d) => ({ label: d.label, n: d.data.length,
                                                  finite: d.data.filter((p) => Number.isFinite(p.x)).length })),
    };
  }));
  check(charts.every((c) => !c.missing), "every canvas holds a Chart.js chart");
  const byName = (n) => charts.filter((c) => c.name === n);
  const eq = byName("equity")[0];
  check(eq && eq.datasets.length === 1 && eq.datasets[0].n === a.equity_curve.length &&
        eq.datasets[0].finite === a.equity_curve.length,
        `equity chart: ${a.equity_curve.length} points (${JSON.stringify(eq?.datasets)})`);
  const dd = byName("drawdown")[0];
  check(dd && dd.datasets.length === 2 && dd.datasets.every((d) => d.n === a.equity_curve.length),
        `drawdown chart: money and % datasets of ${a.equity_curve.length} points (${JSON.stringify(dd?.datasets)})`);
  const symbols = [...new Set(a.prices.map((p) => p.symbol))];
  const pos = byName("positions")[0];
  check(pos && pos.datasets.length === symbols.length &&
        symbols.every((s) => pos.datasets.find((d) => d.label === s)?.n === count(a.positions, (p) => p.symbol === s)),
        `positions chart: one stepped dataset per symbol, a point per position change (${JSON.stringify(pos?.datasets)})`);
  const prices = byName("price");
  check(prices.length === symbols.length, `a price chart per symbol (${prices.length} of ${symbols.length})`);
  for (const s of symbols) {
    const c = prices.find((p) => p.symbol === s);
    const n = (label) => c?.datasets.find((d) => d.label === label)?.n;
    const want = { price: count(a.prices, (p) => p.symbol === s),
                   buys: count(a.fills, (f) => f.symbol === s && f.side === "buy"),
                   sells: count(a.fills, (f) => f.symbol === s && f.side === "sell") };
    check(c && n("price") === want.price && n("buys") === want.buys && n("sells") === want.sells && want.buys > 0 &&
          want.sells > 0, `${s}: ${want.price} prices, ${want.buys} buys, ${want.sells} sells (${JSON.stringify(c?.datasets)})`);
  }
  for (const c of charts) {
    check(c.coloured > 200, `${c.name}${c.symbol ? " " + c.symbol : ""} chart is drawn (${c.coloured} coloured pixels)`);
  }

  // Tables: the fixture's values, formatted (exact decimals grouped, fractions as %).
  const cell = (column, key) => page.evaluate((col, k) => {
    const td = Array.from(document.querySelectorAll("#stats td")).find((t) => t.dataset.column === col && t.dataset.key === k);
    return td ? td.textContent : null;
  }, column, key);
  const t = a.totals;
  const expectCell = async (column, key, want) => {
    const got = await cell(column, key);
    check(got === want, `statistics ${column} ${key} shows ${JSON.stringify(want)} (got ${JSON.stringify(got)})`);
  };
  if (sessionMode) {
    // Any analysis: integers as they are, money as its exact decimal (grouped by thousands).
    const grouped = (d) => d.replace(/^(-?)(\d+)/, (_, sign, whole) => sign + whole.replace(/\B(?=(\d{3})+(?!\d))/g, ","));
    await expectCell("total", "pnl_total", grouped(t.pnl_total));
    await expectCell("total", "fills", String(t.fills));
    await expectCell("total", "round_trips", String(t.round_trips));
    check(a.fills.length > 0 && a.equity_curve.length > 1, `the session traded (${a.fills.length} fills)`);
    const status = await page.evaluate(() => document.getElementById("status").textContent);
    check(status === a.status, `status shows ${a.status} (${status})`);
    await shot(page, "report.png");
    await page.close();
    await browser.close();
    console.log(failures ? `${failures} check(s) failed` : "all checks passed");
    process.exit(failures ? 1 : 0);
  }
  await expectCell("total", "pnl_total", t.pnl_total);
  await expectCell("total", "gross_notional_traded", "2,625,375.5");
  await expectCell("total", "commission", t.commission);
  await expectCell("total", "return_pct", "0.125 %");
  await expectCell("total", "win_rate", "44.44 %");
  await expectCell("total", "time_in_market_pct", "42 %");
  await expectCell("total", "annualized_return_pct", "\u2014");
  await expectCell("total", "max_drawdown_duration_ns", "1h 30m");
  await expectCell("total", "fills", String(a.fills.length));
  await expectCell("total", "round_trips", String(a.round_trips.length));
  await expectCell("total", "avg_loss", "-4.375");
  const gbp = a.per_symbol.find((s) => s.symbol === "GBPUSD");
  await expectCell("symbol:GBPUSD", "fills", String(gbp.fills));
  await expectCell("strategy:ma_cross", "sharpe", "-0.5");
  const statRows = await page.evaluate(() => Array.from(document.querySelectorAll("#stats tbody tr"), (r) => r.dataset.key));
  check(Object.keys(a.totals).every((k) => statRows.includes(k)), `every STATS key has a row (${statRows.length} rows)`);
  const rtRows = await page.evaluate(() => document.querySelectorAll("#round-trips tbody tr").length);
  check(rtRows === a.round_trips.length, `round trips table: ${rtRows} rows of ${a.round_trips.length}`);
  const dqRows = await page.evaluate(() => document.querySelectorAll("#quality tbody tr").length);
  check(dqRows === a.data_quality.by_kind.length, `data quality table: ${dqRows} kinds`);
  const status = await page.evaluate(() => document.getElementById("status").textContent);
  check(status === "final", `status shows "final" (${status})`);

  // Strings with markup: shown as text, nothing injected.
  const texts = await page.evaluate(() => ({
    title: document.getElementById("title").textContent,
    reasons: Array.from(document.querySelectorAll("#rejections td"), (td) => td.textContent),
    warnings: Array.from(document.querySelectorAll("#warnings li"), (li) => li.textContent),
    injected: document.querySelectorAll("img, b, iframe, object, embed").length,
    scripts: document.querySelectorAll("script").length,
    pwned: document.body.dataset.pwned ?? null,
  }));
  check(texts.title === a.title, `the title shows as text: ${JSON.stringify(texts.title)}`);
  check(texts.reasons.includes(a.rejections[0].reason), "the hostile rejection reason shows as text");
  check(texts.warnings.includes(a.warnings[0]), "the hostile warning shows as text");
  check(texts.injected === 0 && texts.pwned === null && texts.scripts === 3,
        `no element injected (img/b/iframe: ${texts.injected}, scripts: ${texts.scripts}, pwned: ${texts.pwned})`);
  await shot(page, "report.png");
  await page.close();

  // ---- edited copies: interim, and an analysis that is not JSON --------------------------
  const html = readFileSync(pagePath, "utf8");
  const interimPath = join(artifacts, "report-interim.html");
  writeFileSync(interimPath, html.replace('"status": "final"', '"status": "interim"'));
  const interim = await open(interimPath);
  const shown = await interim.page.evaluate(() => ({
    status: document.getElementById("status").textContent,
    note: document.querySelector(".interim-note")?.textContent ?? "",
  }));
  check(shown.status === "interim" && /has not ended/.test(shown.note), `an interim analysis says so (${JSON.stringify(shown)})`);
  check(interim.errors.length === 0 && interim.requests.length === 0, "interim: no errors, no requests");
  await interim.page.close();

  const brokenPath = join(artifacts, "report-broken.html");
  writeFileSync(brokenPath, html.replace(/(id="analysis">)[^]*?(<\/script>)/, "$1{\"type\": \"analysis\", oops$2"));
  const broken = await open(brokenPath);
  const state = await broken.page.evaluate(() => ({
    rendered: document.body.dataset.rendered,
    error: document.getElementById("error").hidden ? "" : document.getElementById("error").textContent,
  }));
  check(state.rendered === "error" && /cannot be read/.test(state.error),
        `a page whose analysis is not JSON shows an error text (${JSON.stringify(state)})`);
  check(broken.requests.length === 0, "broken: no requests");
  await shot(broken.page, "report-broken.png");
} finally {
  await browser.close();
}
if (failures) {
  console.log(`${failures} check(s) failed`);
  process.exit(1);
}
console.log("all checks passed");
