// The report page's script (pkg/reportpage; docs/report-page.md). It reads the analysis
// from the page's JSON script element (type application/json, id "analysis") and fills the
// page's sections. Every string from the analysis reaches the DOM as text (textContent,
// attribute values through the DOM API), never as markup. Charts are Chart.js 3 (inlined
// before this script) on linear x axes in milliseconds UTC, labelled by tick callbacks:
// no date adapter. When it is done, <body data-rendered> is "ok" (or "error", with the
// error shown in #error).
"use strict";
(function () {
  const $ = (id) => document.getElementById(id);
  const body = document.body;

  function fail(message) {
    const e = $("error");
    e.textContent = message;
    e.hidden = false;
    $("report").hidden = true;
    body.dataset.rendered = "error";
  }

  // ---- values -------------------------------------------------------------------------
  const list = (x) => (Array.isArray(x) ? x : []);
  const record = (x) => (x !== null && typeof x === "object" && !Array.isArray(x) ? x : {});
  const text = (x) => (typeof x === "string" ? x : x === null || x === undefined ? "" : String(x));
  const DASH = "\u2014";
  // A decimal string (or number) as a number, for plotting only: tables show the exact text.
  function num(x) {
    const n = typeof x === "number" ? x : typeof x === "string" && x.trim() !== "" ? Number(x) : NaN;
    return Number.isFinite(n) ? n : null;
  }
  const ms = (ns) => { const n = num(ns); return n === null ? null : n / 1e6; };

  function pad(n, w) { return String(n).padStart(w || 2, "0"); }
  function utcDate(d) { return d.getUTCFullYear() + "-" + pad(d.getUTCMonth() + 1) + "-" + pad(d.getUTCDate()); }
  function utcTime(d, seconds) {
    return pad(d.getUTCHours()) + ":" + pad(d.getUTCMinutes()) + (seconds ? ":" + pad(d.getUTCSeconds()) : "");
  }
  function fmtTime(msValue) {
    if (msValue === null || !Number.isFinite(msValue)) return DASH;
    const d = new Date(msValue);
    if (Number.isNaN(d.getTime())) return DASH;
    return utcDate(d) + " " + utcTime(d, true) + "." + pad(d.getUTCMilliseconds(), 3) + " UTC";
  }
  function fmtDuration(ns) {
    const n = num(ns);
    if (n === null) return DASH;
    const neg = n < 0 ? "-" : "";
    let s = Math.abs(n) / 1e9;
    if (s < 1) return neg + (s * 1000).toFixed(s * 1000 < 10 ? 3 : 0) + " ms";
    if (s < 60) return neg + s.toFixed(s < 10 ? 2 : 1) + " s";
    const days = Math.floor(s / 86400); s -= days * 86400;
    const hours = Math.floor(s / 3600); s -= hours * 3600;
    const minutes = Math.floor(s / 60); s = Math.floor(s - minutes * 60);
    if (days > 0) return neg + days + "d " + hours + "h " + minutes + "m";
    if (hours > 0) return neg + hours + "h " + minutes + "m";
    return neg + minutes + "m " + s + "s";
  }
  // An exact decimal string with its integer digits grouped by three; anything else as is.
  function fmtDecimal(x) {
    if (x === null || x === undefined) return DASH;
    const s = text(x);
    const m = /^(-?)(\d+)(\.\d+)?$/.exec(s);
    if (!m) return s;
    return m[1] + m[2].replace(/\B(?=(\d{3})+(?!\d))/g, ",") + (m[3] || "");
  }
  function fmtInt(x) {
    const n = num(x);
    return n === null ? DASH : n.toLocaleString("en-US", { maximumFractionDigits: 0 });
  }
  function fmtRatio(x) {
    const n = num(x);
    return n === null ? DASH : n.toLocaleString("en-US", { maximumFractionDigits: 3 });
  }
  // A fraction as a percentage: 0.004 -> "0.4 %".
  function fmtPct(x) {
    const n = num(x);
    if (n === null) return DASH;
    const v = n * 100;
    let s;
    // four significant digits below 100 %: 0.00075 % stays readable
    if (Math.abs(v) >= 100) s = v.toFixed(1);
    else s = String(Number(v.toPrecision(4)));
    return s + " %";
  }
  const isNegative = (x) => { const n = num(x); return n !== null && n < 0; };

  // ---- DOM ----------------------------------------------------------------------------
  function el(tag, content, cls) {
    const e = document.createElement(tag);
    if (content !== undefined && content !== null) e.textContent = text(content);
    if (cls) e.className = cls;
    return e;
  }
  function table(target, headers, rows) {
    target.replaceChildren();
    const thead = el("thead");
    const tr = el("tr");
    for (const h of headers) tr.append(el("th", h.label, h.cls));
    thead.append(tr);
    const tbody = el("tbody");
    for (const row of rows) {
      const r = el("tr");
      row.forEach((cell, i) => {
        const td = el("td", cell.text, [headers[i].cls, cell.cls].filter(Boolean).join(" "));
        if (cell.key) td.dataset.key = cell.key;
        r.append(td);
      });
      tbody.append(r);
    }
    target.append(thead, tbody);
  }
  function none(target, what) {
    target.replaceWith(el("p", what, "muted"));
  }

  // ---- statistics ---------------------------------------------------------------------
  // Every STATS key of the contract, with its label and format; keys not listed here
  // (a newer analysis) are shown after these, under their own name.
  const STATS = [
    ["pnl_total", "Total P&L", "decimal"],
    ["pnl_realized", "Realized P&L", "decimal"],
    ["pnl_unrealized", "Unrealized P&L", "decimal"],
    ["commission", "Commission", "decimal"],
    ["slippage", "Slippage", "decimal"],
    ["gross_notional_traded", "Gross notional traded", "decimal"],
    ["turnover", "Turnover (notional / starting capital)", "ratio"],
    ["return_pct", "Return", "pct"],
    ["annualized_return_pct", "Annualized return", "pct"],
    ["sharpe", "Sharpe ratio", "ratio"],
    ["sortino", "Sortino ratio", "ratio"],
    ["calmar", "Calmar ratio", "ratio"],
    ["max_drawdown", "Max drawdown", "decimal"],
    ["max_drawdown_pct", "Max drawdown (% of peak)", "pct"],
    ["max_drawdown_duration_ns", "Max drawdown duration", "duration"],
    ["round_trips", "Round trips", "int"],
    ["wins", "Winning round trips", "int"],
    ["losses", "Losing round trips", "int"],
    ["win_rate", "Win rate", "pct"],
    ["profit_factor", "Profit factor", "ratio"],
    ["expectancy", "Expectancy per round trip", "decimal"],
    ["avg_win", "Average win", "decimal"],
    ["avg_loss", "Average loss", "decimal"],
    ["time_in_market_pct", "Time in market", "pct"],
    ["fills", "Fills", "int"],
    ["orders", "Orders", "int"],
    ["orders_denied", "Orders denied (risk)", "int"],
    ["orders_rejected", "Orders rejected (venue)", "int"],
    ["daily_returns", "Daily returns (of Sharpe, Sortino)", "int"],
  ];
  const FORMAT = { decimal: fmtDecimal, ratio: fmtRatio, pct: fmtPct, duration: fmtDuration, int: fmtInt };
  const SIGNED = new Set(["pnl_total", "pnl_realized", "pnl_unrealized", "return_pct", "annualized_return_pct",
                          "expectancy", "avg_loss", "avg_win", "sharpe", "sortino", "calmar"]);
  function fmtUnknown(x) {
    if (typeof x === "number") return fmtRatio(x);
    if (typeof x === "string") return fmtDecimal(x);
    if (x === null || x === undefined) return DASH;
    return JSON.stringify(x);
  }

  function renderStats(a) {
    const columns = [{ label: "Total", id: "total", stats: record(a.totals) }];
    for (const s of list(a.per_symbol)) {
      const r = record(s);
      columns.push({ label: text(r.symbol), id: "symbol:" + text(r.symbol), stats: r, group: "symbol" });
    }
    for (const s of list(a.per_strategy)) {
      const r = record(s);
      columns.push({ label: text(r.strategy_id), id: "strategy:" + text(r.strategy_id), stats: r, group: "strategy" });
    }
    const known = new Set(STATS.map((s) => s[0]).concat(["symbol", "strategy_id"]));
    const rows = STATS.map((s) => ({ key: s[0], label: s[1], format: FORMAT[s[2]] }));
    for (const c of columns) {
      for (const k of Object.keys(c.stats)) {
        if (!known.has(k)) { known.add(k); rows.push({ key: k, label: k, format: fmtUnknown }); }
      }
    }
    const t = $("stats");
    t.replaceChildren();
    const thead = el("thead");
    const groups = el("tr");
    groups.append(el("th"), el("th"));
    const nSym = columns.filter((c) => c.group === "symbol").length;
    const nStr = columns.filter((c) => c.group === "strategy").length;
    if (nSym) { const th = el("th", "per symbol", "text"); th.colSpan = nSym; groups.append(th); }
    if (nStr) { const th = el("th", "per strategy", "text"); th.colSpan = nStr; groups.append(th); }
    const head = el("tr");
    head.append(el("th", "Statistic"));
    for (const c of columns) {
      const th = el("th", c.label);
      th.dataset.column = c.id;
      head.append(th);
    }
    thead.append(groups, head);
    const tbody = el("tbody");
    for (const row of rows) {
      const tr = el("tr");
      tr.dataset.key = row.key;
      tr.append(el("th", row.label, "text"));
      for (const c of columns) {
        const v = c.stats[row.key];
        const td = el("td", v === undefined ? DASH : row.format(v));
        td.dataset.column = c.id;
        td.dataset.key = row.key;
        if (SIGNED.has(row.key) && isNegative(v)) td.classList.add("neg");
        tr.append(td);
      }
      tbody.append(tr);
    }
    t.append(thead, tbody);
  }

  // ---- settings, rejections, warnings, data quality, round trips -----------------------
  function renderSettings(a) {
    const dl = $("settings");
    const settings = record(a.settings);
    const span = record(a.span);
    const add = (label, value) => { dl.append(el("dt", label), el("dd", value)); };
    if (a.session_id) add("Session", text(a.session_id));
    add("Starting capital", fmtDecimal(settings.starting_capital) +
        (settings.base_currency ? " " + text(settings.base_currency) : ""));
    if (settings.return_period !== undefined) add("Return period", text(settings.return_period));
    if (settings.periods_per_year !== undefined) add("Periods per year", fmtRatio(settings.periods_per_year));
    if (settings.risk_free_rate !== undefined) add("Risk-free rate (per year)", fmtPct(settings.risk_free_rate));
    for (const k of Object.keys(settings)) {
      if (!["starting_capital", "base_currency", "return_period", "periods_per_year", "risk_free_rate"].includes(k)) {
        add(k, fmtUnknown(settings[k]));
      }
    }
    add("First event", fmtTime(ms(span.first_ts)));
    add("Last event", fmtTime(ms(span.last_ts)));
    if (num(span.first_ts) !== null && num(span.last_ts) !== null) {
      add("Span", fmtDuration(num(span.last_ts) - num(span.first_ts)));
    }
  }

  function renderRejections(a) {
    const rows = list(a.rejections).map(record);
    if (!rows.length) return none($("rejections"), "None.");
    table($("rejections"), [{ label: "Kind", cls: "text" }, { label: "Reason", cls: "text" }, { label: "Count" }],
          rows.map((r) => [{ text: text(r.exec_type) || DASH }, { text: text(r.reason), key: "reason" },
                           { text: fmtInt(r.count) }]));
  }

  function renderWarnings(a) {
    const ws = list(a.warnings);
    if (!ws.length) return none($("warnings"), "None.");
    for (const w of ws) $("warnings").append(el("li", text(w)));
  }

  function renderQuality(a) {
    const q = record(a.data_quality);
    $("quality-summary").textContent = "Lines dropped: " + fmtInt(q.dropped ?? 0) + ". Lines flagged: " +
        fmtInt(q.flagged ?? 0) + ".";
    const kinds = list(q.by_kind).map(record);
    if (!kinds.length) return none($("quality"), "No problem found in the input data.");
    const MAX_LINES = 20;
    table($("quality"), [{ label: "Kind", cls: "text" }, { label: "Count" }, { label: "Lines", cls: "text" }],
          kinds.map((k) => {
            const lines = list(k.lines);
            const shown = lines.slice(0, MAX_LINES).map(fmtInt).join(", ");
            const more = lines.length > MAX_LINES ? " \u2026 (" + (lines.length - MAX_LINES) + " more)" : "";
            return [{ text: text(k.kind) }, { text: fmtInt(k.count) }, { text: (shown || DASH) + more }];
          }));
  }

  const MAX_ROUND_TRIPS = 200;  // reportpage::kMaxRoundTripsShown (a unit test checks they agree)
  function renderRoundTrips(a) {
    const all = list(a.round_trips).map(record);
    const shown = all.slice(0, MAX_ROUND_TRIPS);
    $("round-trips-note").textContent = all.length > shown.length
      ? "Showing the first " + shown.length + " of " + all.length + " round trips."
      : all.length + (all.length === 1 ? " round trip." : " round trips.");
    if (!all.length) return none($("round-trips"), "None.");
    table($("round-trips"),
          [{ label: "Symbol", cls: "text" }, { label: "Strategy", cls: "text" }, { label: "Direction", cls: "text" },
           { label: "Quantity" }, { label: "Entry (UTC)" }, { label: "Exit (UTC)" }, { label: "Entry price" },
           { label: "Exit price" }, { label: "P&L" }, { label: "Commission" }, { label: "Held" }],
          shown.map((r) => [
            { text: text(r.symbol) }, { text: text(r.strategy_id) }, { text: text(r.direction) },
            { text: fmtDecimal(r.quantity) }, { text: fmtTime(ms(r.entry_ts)) }, { text: fmtTime(ms(r.exit_ts)) },
            { text: fmtDecimal(r.entry_px) }, { text: fmtDecimal(r.exit_px) },
            { text: fmtDecimal(r.pnl), cls: isNegative(r.pnl) ? "neg" : "" }, { text: fmtDecimal(r.commission) },
            { text: fmtDuration(r.holding_ns) }]));
  }

  // ---- charts -------------------------------------------------------------------------
  const COLORS = ["#1f6fd1", "#d1581f", "#2a9d55", "#8e44ad", "#c0392b", "#16a2b8", "#b8860b", "#555f6d"];
  const BUY = "#1b8a3a";
  const SELL = "#c62828";
  // Tick steps for a time axis, in ms: ticks fall on multiples of one of these (UTC).
  const STEPS = [1, 5, 10, 50, 100, 500, 1e3, 5e3, 15e3, 3e4, 6e4, 3e5, 9e5, 18e5, 36e5, 108e5, 216e5, 432e5,
                 864e5, 1728e5, 6048e5, 2592e6, 7776e6, 31536e6];
  function timeTicks(scale) {
    const min = scale.min;
    const max = scale.max;
    if (!(max > min)) return;
    const step = STEPS.find((s) => (max - min) / s <= 8) || STEPS[STEPS.length - 1];
    const ticks = [];
    for (let v = Math.ceil(min / step) * step; v <= max && ticks.length < 50; v += step) ticks.push({ value: v });
    scale.ticks = ticks;
    scale.$step = step;
  }
  function tickLabel(value, index, ticks) {
    const step = this.$step || 1e3;
    const d = new Date(value);
    if (step >= 864e5) return utcDate(d);
    const t = step < 1e3 ? utcTime(d, true) + "." + pad(d.getUTCMilliseconds(), 3) : utcTime(d, step < 6e4);
    const prev = index > 0 ? new Date(ticks[index - 1].value) : null;
    return !prev || utcDate(prev) !== utcDate(d) ? [t, utcDate(d)] : t;
  }

  function chartOptions(xRange, yTitle, extra) {
    const options = {
      animation: false,
      responsive: true,
      maintainAspectRatio: false,
      parsing: false,
      normalized: true,
      interaction: { mode: "nearest", axis: "x", intersect: false },
      elements: { point: { radius: 0, hitRadius: 4 }, line: { borderWidth: 1.5 } },
      scales: {
        x: {
          type: "linear",
          min: xRange.min,
          max: xRange.max,
          afterBuildTicks: timeTicks,
          ticks: { callback: tickLabel, maxRotation: 0, autoSkip: false },
          title: { display: true, text: "time (UTC)" },
        },
        y: { type: "linear", title: { display: !!yTitle, text: yTitle } },
      },
      plugins: {
        legend: { display: true, position: "top", align: "start" },
        tooltip: { callbacks: { title: (items) => (items.length ? fmtTime(items[0].parsed.x) : "") } },
      },
    };
    if (extra) extra(options);
    return options;
  }
  function xRangeOf(a, seriesTimes) {
    const span = record(a.span);
    let min = ms(span.first_ts);
    let max = ms(span.last_ts);
    for (const t of seriesTimes) {
      if (t === null) continue;
      if (min === null || t < min) min = t;
      if (max === null || t > max) max = t;
    }
    if (min === null) return { min: 0, max: 1 };
    if (max <= min) max = min + 1000;
    return { min, max };
  }
  function makeChart(canvas, name, datasets, options) {
    canvas.dataset.chart = name;
    return new Chart(canvas, { type: "line", data: { datasets }, options });
  }

  function renderCharts(a) {
    // In event-time order, as the analysis gives them; sorted again (stably) in case not,
    // since Chart.js draws lines in the order of the points.
    const inTime = (xs, key) => list(xs).map(record).map((r, i) => [ms(r[key]) ?? 0, i, r])
      .sort((p, q) => p[0] - q[0] || p[1] - q[1]).map((e) => e[2]);
    const curve = inTime(a.equity_curve, "ts");
    const positions = inTime(a.positions, "ts");
    const fills = inTime(a.fills, "ts");
    const prices = inTime(a.prices, "ts");
    const times = [];
    for (const p of curve) times.push(ms(p.ts));
    for (const p of prices) times.push(ms(p.ts));
    for (const f of fills) times.push(ms(f.ts));
    const xRange = xRangeOf(a, times);
    const currency = text(record(a.settings).base_currency);

    makeChart($("chart-equity"), "equity",
      [{ label: "equity" + (currency ? " (" + currency + ")" : ""), borderColor: COLORS[0],
         backgroundColor: COLORS[0], data: curve.map((p) => ({ x: ms(p.ts), y: num(p.equity) })) }],
      chartOptions(xRange, currency));

    makeChart($("chart-drawdown"), "drawdown",
      [{ label: "drawdown" + (currency ? " (" + currency + ")" : ""), borderColor: SELL,
         backgroundColor: "rgba(198,40,40,0.18)", fill: "origin", yAxisID: "y",
         data: curve.map((p) => { const d = num(p.drawdown); return { x: ms(p.ts), y: d === null ? null : -d }; }) },
       { label: "drawdown (% of peak)", borderColor: "#6d4c41", borderDash: [4, 3], backgroundColor: "#6d4c41",
         yAxisID: "y1",
         data: curve.map((p) => { const d = num(p.drawdown_pct); return { x: ms(p.ts), y: d === null ? null : -d * 100 }; }) }],
      chartOptions(xRange, currency, (o) => {
        o.scales.y1 = { type: "linear", position: "right", grid: { drawOnChartArea: false },
                        title: { display: true, text: "% of peak" } };
      }));

    // Net position per symbol: the sum over strategies of each one's last quantity, a
    // point at each of the symbol's position changes, held until the next (stepped).
    const bySymbol = new Map();
    for (const p of positions) {
      const symbol = text(p.symbol);
      if (!bySymbol.has(symbol)) bySymbol.set(symbol, { held: new Map(), points: [] });
      const s = bySymbol.get(symbol);
      s.held.set(text(p.strategy_id), num(p.quantity) ?? 0);
      let net = 0;
      for (const q of s.held.values()) net += q;
      s.points.push({ x: ms(p.ts), y: net });
    }
    let i = 0;
    makeChart($("chart-positions"), "positions",
      Array.from(bySymbol, ([symbol, s]) => {
        const color = COLORS[i++ % COLORS.length];
        return { label: symbol, stepped: true, borderColor: color, backgroundColor: color, data: s.points,
                 pointRadius: s.points.length > 100 ? 0 : 2 };
      }),
      chartOptions(xRange, "quantity"));

    // Price per symbol, with its fills: buys as green triangles up, sells red triangles down.
    const symbols = [];
    for (const p of prices) if (!symbols.includes(text(p.symbol))) symbols.push(text(p.symbol));
    for (const f of fills) if (!symbols.includes(text(f.symbol))) symbols.push(text(f.symbol));
    const MAX_PRICE_CHARTS = 24;
    const host = $("price-charts");
    if (!symbols.length) host.append(el("p", "No prices in this analysis.", "muted"));
    symbols.slice(0, MAX_PRICE_CHARTS).forEach((symbol, k) => {
      const title = el("h3", symbol);
      const box = el("div", null, "chart price");
      const canvas = el("canvas");
      canvas.dataset.symbol = symbol;
      canvas.setAttribute("role", "img");
      canvas.setAttribute("aria-label", "price and fills of " + symbol);
      box.append(canvas);
      host.append(title, box);
      const own = fills.filter((f) => text(f.symbol) === symbol);
      const marker = (f) => ({ x: ms(f.ts), y: num(f.price), fill: f });
      const radius = own.length > 200 ? 3 : 6;  // many fills: smaller markers
      makeChart(canvas, "price",
        [{ label: "price", borderColor: COLORS[k % COLORS.length], backgroundColor: COLORS[k % COLORS.length],
           data: prices.filter((p) => text(p.symbol) === symbol).map((p) => ({ x: ms(p.ts), y: num(p.price) })) },
         { label: "buys", showLine: false, pointStyle: "triangle", pointRadius: radius, pointHoverRadius: 8,
           borderColor: BUY, backgroundColor: BUY, data: own.filter((f) => f.side === "buy").map(marker) },
         { label: "sells", showLine: false, pointStyle: "triangle", rotation: 180, pointRadius: radius,
           pointHoverRadius: 8, borderColor: SELL, backgroundColor: SELL,
           data: own.filter((f) => f.side === "sell").map(marker) }],
        chartOptions(xRange, "price", (o) => {
          o.plugins.tooltip.callbacks.label = (ctx) => {
            const f = ctx.raw && ctx.raw.fill;
            if (!f) return "price " + fmtDecimal(String(ctx.parsed.y));
            return text(f.side) + " " + fmtDecimal(f.quantity) + " @ " + fmtDecimal(f.price) +
                   (f.client_order_id ? " (" + text(f.client_order_id) + ")" : "");
          };
        }));
    });
    if (symbols.length > MAX_PRICE_CHARTS) {
      host.append(el("p", "Prices of the first " + MAX_PRICE_CHARTS + " of " + symbols.length + " symbols shown.",
                     "muted"));
    }
  }

  // ---- the page -----------------------------------------------------------------------
  function renderHeader(a) {
    const title = text(a.title) || "Report";
    const status = a.status === "interim" ? "interim" : a.status === "final" ? "final" : "";
    document.title = title + (status ? " (" + status + ")" : "");
    $("title").textContent = title;
    const badge = $("status");
    badge.dataset.status = status;
    badge.textContent = status || "status unknown";
    const span = record(a.span);
    $("subtitle").textContent = (a.session_id ? "session " + text(a.session_id) + " \u00b7 " : "") +
        fmtTime(ms(span.first_ts)) + " to " + fmtTime(ms(span.last_ts));
    if (status === "interim") {
      $("report").prepend(el("p", "Interim: the session has not ended. These figures cover its events up to " +
                                  fmtTime(ms(span.last_ts)) + " and will change.", "interim-note"));
    }
    $("footer").textContent = "Analysis v" + text(a.v) + ", drawn with Chart.js " + text(Chart.version) +
        " (inlined; this page loads nothing). Times are UTC; money and quantities are shown as exact " +
        "decimals in tables, plotted as approximations.";
  }

  let a;
  try {
    a = JSON.parse($("analysis").textContent);
  } catch (e) {
    fail("This page's analysis cannot be read: " + e.message);
    return;
  }
  if (a === null || typeof a !== "object" || Array.isArray(a) || a.type !== "analysis" || a.v !== 1) {
    fail("This page's analysis is not an analysis of version 1 (\"type\": \"analysis\", \"v\": 1).");
    return;
  }
  if (typeof Chart === "undefined") {
    fail("Chart.js is missing from this page.");
    return;
  }
  try {
    renderHeader(a);
    renderSettings(a);
    renderStats(a);
    renderRejections(a);
    renderWarnings(a);
    renderQuality(a);
    renderRoundTrips(a);
    renderCharts(a);
    body.dataset.rendered = "ok";
  } catch (e) {
    fail("This page cannot show its analysis: " + (e && e.message ? e.message : String(e)));
  }
})();
